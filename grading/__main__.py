"""Command line: ``python -m grading {release,grade}``.

Examples::

    python -m grading grade                      # release, grade submitted/, feedback, grades.csv
    python -m grading grade --workers 4 --budget 300
    python -m grading grade --scheduler tcp://10.0.0.5:8786   # same job on a dask cluster
    python -m grading grade --student alice --student bob
    python -m grading release                    # only regenerate release/ from source/
"""

import argparse
import os
import sys
import time
import warnings

from sqlalchemy.exc import SAWarning

from .canvas import export_canvas_grades
from .course import ASSIGNMENT, Course
from .due_dates import import_due_dates
from .pipeline import (ExecutionSettings, PipelineError, export_grades, generate_release, grade_class,
                       summarize, write_report)
from .report import write_class_report


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("Examples::", 1)[1])
    parser.add_argument("command", choices=["release", "grade"])
    parser.add_argument("--course", default=".", help="course root (folder of nbgrader_config.py)")
    parser.add_argument("--assignment", default=ASSIGNMENT)
    parser.add_argument("--student", action="append", dest="students",
                        help="grade only this student (repeatable); default: everyone in submitted/")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel kernels on this machine (default: one per core)")
    parser.add_argument("--scheduler", default=None, help="address of a dask scheduler to run the kernels on")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: Execute.timeout)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per notebook; cells after it score 0 (default: GuardedExecute.budget)")
    parser.add_argument("--memory-limit", type=float, default=None, metavar="GIB",
                        help="memory limit of each grading kernel in GiB (default: GuardedExecute.memory_limit)")
    parser.add_argument("--csv", default="grades.csv", help="where to export the grades (relative to --course)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # nbgrader 0.9.6's gradebook code triggers SQLAlchemy 2 autoflush warnings on every
    # submission; they say nothing about the grades and would bury the progress report.
    warnings.filterwarnings("ignore", category=SAWarning)
    course = Course(args.course, assignment=args.assignment)
    try:
        print(f"release: generating release/{args.assignment} from source/{args.assignment}")
        generate_release(course)
        import_due_dates(course)
        if args.command == "release":
            return 0
        settings = ExecutionSettings(
            timeout=args.timeout, budget=args.budget,
            memory_limit=int(args.memory_limit * 2**30) if args.memory_limit else None)
        start = time.monotonic()
        results = grade_class(course, students=args.students, workers=args.workers,
                              scheduler=args.scheduler, settings=settings)
        csv_path = os.path.join(course.root, args.csv)
        export_grades(course, csv_path)
        write_report(results, os.path.join(course.root, "grading-report.json"))
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    canvas, canvas_note = export_canvas_grades(course)
    report, report_problem = write_class_report(course, os.path.join(course.root, "grading-report.json"))
    print()
    print("\n".join(summarize(results)))
    print(f"\ngraded in {time.monotonic() - start:.0f} s")
    print(f"  autograded notebooks  {course.coursedir.autograded_directory}/<student>/{args.assignment}/")
    print(f"  feedback (HTML)       {course.coursedir.feedback_directory}/<student>/{args.assignment}/")
    print(f"  grades                {os.path.relpath(csv_path, course.root)}")
    print(f"  grades for Canvas     {os.path.relpath(canvas, course.root) if canvas else 'not written'}"
          + (f": {canvas_note}" if canvas_note else ""))
    print(f"  class report          {os.path.relpath(report, course.root) if report else 'not written: '}"
          + (f"{report_problem} (see .grading/grading.log)" if report_problem else ""))
    print("  per-student details   grading-report.json;  nbgrader's log: .grading/grading.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
