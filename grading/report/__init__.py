"""The instructor's view of a class: ``class-report.html``, written next to grades.csv.

One self-contained page (figures inlined, no network): the score distribution, mastery by part,
what each test cell caught and why, the problems met, late submissions, similar solutions,
copies of the instructor's solution and the seconds each submission took. Built only from what
grading leaves behind (see data.py), so it can be rewritten at any time, and a failure to write
it never touches a grade.
"""

import os
import traceback

from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from ..course import Course
from . import data, render, similarity

REPORT = "class-report.html"


class ClassReport(LoggingConfigurable):
    """Settings of the class report (``c.ClassReport.<name>`` in nbgrader_config.py)."""

    similarity_threshold = Float(0.5, help="Flag two students whose own code is at least this similar (0 to 1).").tag(
        config=True
    )
    common_share = Float(
        0.25,
        help="Code that more than this share of the submissions (and at least 3) share token "
        "for token is common code, no evidence of copying.",
    ).tag(config=True)
    min_shared = Integer(8, help="A flagged pair shares at least this many fingerprints (a few lines of code).").tag(
        config=True
    )
    solution_threshold = Float(
        0.8,
        help="Flag a student whose own code is at least this similar (0 to 1) to the instructor's solution in source/.",
    ).tag(config=True)

    def write(self, course: Course, report_path: str, out_path: str) -> similarity.Comparison:
        class_data = data.load(course, report_path)
        comparison = similarity.compare(
            class_data.solutions,
            class_data.release_solutions,
            threshold=self.similarity_threshold,
            common_share=self.common_share,
            min_shared=self.min_shared,
        )
        copies = (
            None
            if class_data.instructor_solutions is None
            else similarity.copies_of_solution(
                class_data.solutions,
                class_data.release_solutions,
                class_data.instructor_solutions,
                threshold=self.solution_threshold,
                min_shared=self.min_shared,
            )
        )
        html = render.render(class_data, comparison, copies)
        with open(out_path, "w", encoding="utf-8") as handle:
            handle.write(html)
        return comparison


def write_class_report(course: Course, report_path: str, out_path: str | None = None) -> tuple[str | None, str | None]:
    """Write the class report; return (path, None), or (None, why) when it could not be written.

    Never raises: the report is read from the grading's results, and a problem with it is
    logged (.grading/grading.log) and returned, while the grades stand.
    """
    out_path = out_path or os.path.join(course.root, REPORT)
    try:
        ClassReport(config=course.config).write(course, report_path, out_path)
        return out_path, None
    except Exception as error:  # a report must never cost the grades: say what went wrong
        course.log.error("class report not written:\n%s", traceback.format_exc())
        return None, f"{type(error).__name__}: {error}"
