"""The ``grade`` command as one function of the library: ``grade(course) -> GradingRun``.

In order: the release check (the gradebook holds the tests of the committed release), the
due dates, the grading of every submission (grading.pipeline), then what the instructor
reads: grades.csv (nbgrader's export), grading-report.json, the Canvas CSV and the class
report. ``python -m grading grade``, the benchmarks and the mutation runner all call it;
what it writes is in the GradingRun it returns, for the caller to show.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from dask.distributed import Client

from .canvas import export_canvas_grades
from .course import Course
from .due_dates import import_due_dates
from .pipeline import ExecutionSettings, export_grades, grade_class, students_to_grade
from .release import check_release
from .report import write_class_report
from .results import StudentResult, write_report

REPORT_JSON = "grading-report.json"


@dataclass
class GradingRun:
    results: list[StudentResult]  # in the order the students were asked for
    seconds: float  # from the first submission sent to the last file written
    grades_csv: str
    report_json: str
    canvas_csv: str | None  # None: not written, canvas_note says why
    canvas_note: str | None  # why not written, or who was left out
    class_report: str | None  # None: not written, class_report_problem says why
    class_report_problem: str | None


def grade(
    course: Course,
    students: list[str] | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Client | None = None,
    settings: ExecutionSettings | None = None,
    feedback: bool = True,
    csv: str = "grades.csv",
    class_report: bool = True,
    progress: Callable[[str], object] = print,
) -> GradingRun:
    """Grade ``students`` (default: every folder under submitted/) against the committed release
    and write every output; PipelineError when the run itself cannot go on (a student without a
    submission, no release, a broken gradebook or due date). See grade_class for ``workers``,
    ``scheduler``, ``client``, ``settings`` and ``feedback``; ``csv`` is relative to the course.
    Without ``class_report`` the class report is left as it was (its note says so)."""
    students = students_to_grade(course, students)
    check_release(course, say=progress)
    import_due_dates(course)
    start = time.monotonic()
    results = grade_class(
        course,
        students=students,
        workers=workers,
        scheduler=scheduler,
        client=client,
        settings=settings,
        feedback=feedback,
        progress=progress,
    )
    csv_path = os.path.join(course.root, csv)
    export_grades(course, csv_path)
    report_json = os.path.join(course.root, REPORT_JSON)
    write_report(results, report_json)
    canvas, canvas_note = export_canvas_grades(course)
    if class_report:
        report, report_problem = write_class_report(course, report_json)
    else:
        report, report_problem = None, "not asked for"
    return GradingRun(
        results, time.monotonic() - start, csv_path, report_json, canvas, canvas_note, report, report_problem
    )
