"""What a student should read first in their feedback: what failed and why, then the parts.

nbgrader's feedback lists every graded cell as "Test cell (Score: 2.0 / 2.0)" in notebook order,
and a failure's reason sits in that cell's output, somewhere in a long page. This preprocessor
gives the feedback template (grading/templates/feedback/by_part.html.j2) ``resources["feedback_summary"]``:

* ``failed``: every autograded test that lost points, named by its part and what it checks
  (grading.parts), with its failure message (already redacted by RedactHiddenTests);
  ``failed_groups``: the same, with consecutive tests that fail with the same message (every
  test after an unfinished function, say) grouped under that message;
* ``parts``: the graded cells grouped by part, in notebook order, with subtotals.

Scores come from the gradebook, as nbgrader's GetGrades reads them.
"""

from typing import Any

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from .. import parts
from ..hidden_tests import strip_ansi


class SummarizeFeedback(NbGraderPreprocessor):
    """Collect the failed tests' messages and the per-part subtotals for the feedback template."""

    max_message_chars = Integer(600, help="Characters of a failure message shown at the top.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            grades = {grade.name: (grade.score, grade.max_score, grade.needs_manual_grade) for grade in notebook.grades}
        failed: list[dict[str, Any]] = []
        by_part: dict[str, dict[str, Any]] = {}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if not utils.is_grade(cell) or grade_id not in grades:
                continue
            score, points, pending = grades[grade_id]
            score = score or 0.0
            # A test passes or fails; a written answer is graded by hand (and waits until it is).
            status = (
                ("pending" if pending else "graded")
                if utils.is_solution(cell)
                else "passed"
                if score >= points
                else "failed"
            )
            check = {
                "id": grade_id,
                "name": parts.check_name(grade_id),
                "full_name": parts.full_name(grade_id),
                "score": score,
                "points": points,
                "status": status,
            }
            if status == "failed":
                failed.append(dict(check, message=self._message(cell)))
            part = by_part.setdefault(parts.part_title(grade_id), {"title": parts.part_title(grade_id), "checks": []})
            part["checks"].append(check)
        for part in by_part.values():
            part["score"] = sum(check["score"] for check in part["checks"])
            part["points"] = sum(check["points"] for check in part["checks"])
            part["failed"] = sum(check["status"] == "failed" for check in part["checks"])
            part["pending"] = sum(check["status"] == "pending" for check in part["checks"])
        groups: list[dict[str, Any]] = []
        for check in failed:
            if groups and groups[-1]["message"] == check["message"]:
                groups[-1]["checks"].append(check)
            else:
                groups.append({"message": check["message"], "checks": [check]})
        resources["feedback_summary"] = {"failed": failed, "failed_groups": groups, "parts": list(by_part.values())}
        return nb, resources

    def _message(self, cell: NotebookNode) -> str:
        """The reason a test cell lost its points, as its outputs tell it."""
        outputs = cell.get("outputs", [])
        errors = [output for output in outputs if output.output_type == "error"]
        stderr = "".join(
            output.text for output in outputs if output.output_type == "stream" and output.name == "stderr"
        )
        if errors:
            message = f"{errors[-1].ename}: {errors[-1].evalue}"
        elif stderr.strip():
            message = "The cell wrote to stderr, which fails a test: " + stderr.strip()
        else:
            message = "This test did not pass; its cell below shows what it ran."
        message = strip_ansi(message)
        if len(message) > self.max_message_chars:
            message = message[: self.max_message_chars].rstrip() + " ... (the whole message is in the cell below)"
        return message
