"""python -m mutants (tests/ on the path): mutate the solution, grade every mutant, write the report.

Examples::

    make mutants                                        # every mutant: tests/mutants/report.{md,json}
    make mutants MUTANTS_ARGS="--sample 20 --seed 3"    # 20 of them: tests/artifacts/mutants/
    PYTHONPATH=tests .venv/bin/python -m mutants --list       # the mutants, graded or not
    PYTHONPATH=tests .venv/bin/python -m mutants --rereport   # after editing reviewed.py
"""

import argparse
import dataclasses
import datetime
import json
import os
import random
import shutil
import sys
import tempfile
import time
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join("source", "attention", "attention.ipynb")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m mutants",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1],
    )
    parser.add_argument("--sample", type=int, help="grade only this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--workers", type=int, help="dask workers (default: one per core)")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: nbgrader_config.py's)")
    parser.add_argument("--budget", type=float, help="seconds per notebook (default: nbgrader_config.py's)")
    parser.add_argument(
        "--out",
        help="folder for report.md and report.json (default: tests/mutants/, or tests/artifacts/mutants/ for a sample)",
    )
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument(
        "--rereport",
        action="store_true",
        help="judge the mutants that earned full marks again and rewrite the report from its report.json "
        "with the reasons in reviewed.py, grading nothing",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.rereport:
        return rereport(args.out or os.path.join(REPO, "tests", "mutants"))
    scratch = tempfile.mkdtemp(prefix="mutants-")
    from testbed.jupyter_isolation import isolate

    isolate(scratch)  # before nbgrader and the kernels read where Jupyter lives
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader's autograde sets it: the kernels skip the demos

    from sqlalchemy.exc import SAWarning

    from grading.pipeline import ExecutionSettings
    from testbed.courses import read

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's gradebook, as in python -m grading

    from testbed.courses import build_course

    from .grade import solution_code
    from .operators import generate
    from .report import build, write
    from .reviewed import REVIEWED
    from .run import run

    start = time.monotonic()
    try:
        prelude, cells = solution_code(read(os.path.join(REPO, NOTEBOOK)))
        generated = generate(cells)
        mutants = generated.mutants
        if args.list:
            for m in mutants:
                print(f"{m.id}\n    {' / '.join(m.before.split(chr(10)))}\n -> {' / '.join(m.after.split(chr(10)))}")
            print(f"{len(mutants)} mutants, {len(generated.invalid)} invalid")
            return 0
        sample = None
        if args.sample is not None:
            mutants = random.Random(args.seed).sample(mutants, min(args.sample, len(mutants)))
            sample = {"size": len(mutants), "seed": args.seed}
        print(
            f"{len(mutants)} mutants to grade ({len(generated.invalid)} invalid, "
            f"{sum(generated.duplicates.values())} duplicates dropped)"
        )
        course = build_course(os.path.join(scratch, "course"))
        outcomes, seconds = run(
            course,
            mutants,
            prelude,
            cells,
            workers=args.workers,
            settings=ExecutionSettings(timeout=args.timeout, budget=args.budget),
        )
        seconds["total"] = time.monotonic() - start
        report = build(
            outcomes,
            generated,
            date=_now(),
            notebook=NOTEBOOK,
            seconds=seconds,
            sample=sample,
            reviewed=REVIEWED,
        )
        out = args.out or os.path.join(
            REPO, "tests", "mutants" if sample is None else os.path.join("artifacts", "mutants")
        )
        write(report, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    c = report["counts"]
    rate = report["kill_rate"]
    print(
        f"killed {c['killed']}, survived {c['survived']}, equivalent {c['equivalent']}, invalid {c['invalid']}; "
        f"kill rate {'n/a' if rate is None else f'{rate:.1%}'} (goal {report['goal']:.0%}); "
        f"{seconds['total']:.0f} s; written: {os.path.join(out, 'report.md')}"
    )
    return 0


def _now():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def rereport(folder):
    """Judge the mutants that earned full marks again (current probes) and rewrite the report from
    its report.json with the reasons in reviewed.py. Grades are not redone: after a change to the
    notebook, run make mutants."""
    from testbed.courses import read

    from .grade import solution_code
    from .operators import generate
    from .oracle import judge_all
    from .report import rebuild, write
    from .reviewed import REVIEWED

    with open(os.path.join(folder, "report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    prelude, cells = solution_code(read(os.path.join(REPO, NOTEBOOK)))
    current = {m.id: m for m in generate(cells).mutants}
    entries = [e for e in report["mutants"] if e["status"] != "killed" and e["id"] in current]
    for entry, verdict in zip(entries, judge_all([current[e["id"]] for e in entries], prelude, cells)):
        entry["oracle"] = {k: v for k, v in dataclasses.asdict(verdict).items() if k != "id"}
    write(rebuild(report, REVIEWED, rejudged=_now()), folder)
    print(f"{len(entries)} mutants judged again, {len(REVIEWED)} reviewed reasons: {os.path.join(folder, 'report.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
