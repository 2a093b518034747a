"""Command line: ``python -m grading COMMAND``, one function per command.

Examples::

    python -m grading release                    # regenerate release/ (and the gradebook's tests) from source/
    python -m grading grade                      # grade submitted/ against release/: feedback, grades.csv
    python -m grading grade --workers 4 --budget 300
    python -m grading grade --scheduler tcp://10.0.0.5:8786   # same job on a dask cluster
    python -m grading grade --student alice --student bob
    python -m grading export NOTEBOOK --to DIR   # DIR/tinytorch/core/attention.py (see -h there)
"""

import argparse
import os
import sys
import warnings

from sqlalchemy.exc import SAWarning

from . import export, run
from .course import ASSIGNMENT, Course
from .due_dates import import_due_dates
from .errors import PipelineError
from .pipeline import ExecutionSettings
from .release import generate_release
from .summary import summarize


def release(course: Course, args: argparse.Namespace) -> None:
    """Regenerate release/ from source/, and the tests the gradebook holds for it."""
    print(f"release: generating release/{args.assignment} from source/{args.assignment}")
    generate_release(course)
    import_due_dates(course)


def grade(course: Course, args: argparse.Namespace) -> None:
    """Grade every submission (or --student) against the committed release."""
    settings = ExecutionSettings(
        timeout=args.timeout,
        budget=args.budget,
        memory_limit=args.memory_limit,
        sandbox=False if args.no_sandbox else None,
    )
    graded = run.grade(
        course, args.students, workers=args.workers, scheduler=args.scheduler, settings=settings, csv=args.csv
    )
    print()
    print("\n".join(summarize(graded.results)))
    print(f"\ngraded in {graded.seconds:.0f} s")
    print(f"  autograded notebooks  {course.coursedir.autograded_directory}/<student>/{args.assignment}/")
    print(f"  feedback (HTML)       {course.coursedir.feedback_directory}/<student>/{args.assignment}/")
    print(f"  grades                {os.path.relpath(graded.grades_csv, course.root)}")
    canvas, canvas_note = graded.canvas_csv, graded.canvas_note
    print(
        f"  grades for Canvas     {os.path.relpath(canvas, course.root) if canvas else 'not written'}"
        + (f": {canvas_note}" if canvas_note else "")
    )
    report, report_problem = graded.class_report, graded.class_report_problem
    print(
        f"  class report          {os.path.relpath(report, course.root) if report else 'not written: '}"
        + (f"{report_problem} (see .grading/grading.log)" if report_problem else "")
    )
    print(f"  per-student details   {run.REPORT_JSON};  nbgrader's log: .grading/grading.log")


def gib(text: str) -> int:
    """A --memory-limit in GiB, as bytes (0: no limit, as GuardedExecute reads it)."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} GiB: a memory limit is 0 (none) or more")
    return int(value * 2**30)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m grading",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1],
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", default=".", help="course root (folder of nbgrader_config.py)")
    common.add_argument("--assignment", default=ASSIGNMENT)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("release", parents=[common], help=release.__doc__).set_defaults(run=release)
    graded = commands.add_parser("grade", parents=[common], help=grade.__doc__)
    commands.add_parser("export", help="write a notebook's code as tinytorch.core.attention (export -h)")
    graded.set_defaults(run=grade)
    graded.add_argument(
        "--student",
        action="append",
        dest="students",
        help="grade only this student (repeatable); default: everyone in submitted/",
    )
    graded.add_argument(
        "--workers", type=int, default=None, help="parallel kernels on this machine (default: one per core)"
    )
    graded.add_argument("--scheduler", default=None, help="address of a dask scheduler to run the kernels on")
    graded.add_argument(
        "--timeout",
        type=int,
        default=None,
        help="seconds per cell (default: Execute.timeout of the course's configuration)",
    )
    graded.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds per notebook; cells after it score 0 (default: GuardedExecute.budget)",
    )
    graded.add_argument(
        "--memory-limit",
        type=gib,
        default=None,
        metavar="GIB",
        help="memory limit of each grading kernel in GiB, 0 for none (default: GuardedExecute.memory_limit)",
    )
    graded.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the students' kernels without a sandbox, with the grader's privileges (only where no "
        "sandbox can be made; the report says so)",
    )
    graded.add_argument("--csv", default="grades.csv", help="where to export the grades (relative to --course)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["export"]:  # a student's command: no course, its own options
        return export.main(argv[1:])
    args = parse_args(argv)
    # nbgrader 0.9.6's gradebook code triggers SQLAlchemy 2 autoflush warnings on every
    # submission; they say nothing about the grades and would bury the progress report.
    warnings.filterwarnings("ignore", category=SAWarning)
    try:
        args.run(Course(args.course, assignment=args.assignment), args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
