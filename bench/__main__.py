"""``python -m bench``: measure the bundle, print the table, write bench/results.{json,md,png}.

Examples::

    python -m bench                                   # what `make bench` runs
    BENCH_NO_TORCH=1 python -m bench                  # as on a machine without torch
    python -m bench --class-rounds 1 --decode-rounds 1 --rounds 3      # a quicker, rougher run
    git show HEAD~1:source/attention/attention.py > /tmp/old.py
    python -m bench --baseline /tmp/old.py            # a change to the solution, against the old one
"""

import argparse
import os
import sys

from . import report, suite
from .solution import SOLUTION


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1],
    )
    parser.add_argument("--solution", default=SOLUTION, help="jupytext file of the solution notebook")
    parser.add_argument("--baseline", help="another version of that file, timed in the same rounds")
    parser.add_argument(
        "--no-torch",
        action="store_true",
        default=os.environ.get("BENCH_NO_TORCH", "0") not in ("", "0"),
        help="leave torch out even if installed (default: on when BENCH_NO_TORCH=1)",
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the attention timings")
    parser.add_argument("--decode-rounds", type=int, default=3, help="rounds of the decoding timings")
    parser.add_argument("--class-rounds", type=int, default=2, help="rounds of grading the class")
    parser.add_argument("--submissions", type=int, default=16, help="submissions in the class")
    parser.add_argument("--out", default="bench", help="folder for results.json, results.md, results.png")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    results = suite.run(
        solution_path=args.solution,
        baseline_path=args.baseline,
        use_torch=not args.no_torch,
        rounds=args.rounds,
        decode_rounds=args.decode_rounds,
        class_rounds=args.class_rounds,
        submissions=args.submissions,
    )
    print()
    print(report.write(results, args.out))
    for note in results["notes"]:
        print(f"note: {note}")
    print(f"\nwritten: {os.path.join(args.out, 'results.md')}, results.json, results.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
