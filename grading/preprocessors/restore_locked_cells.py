"""Put back the locked cells of the release that a submission deleted, retyped or relabelled.

nbgrader restores the *source* of a locked cell whose checksum changed (OverwriteCells), but
by default it leaves out a deleted test cell, never restores a deleted locked helper cell
(so every later test fails with a NameError), and a changed grade id or grade flag turns a
test cell into an ordinary cell that is never scored. This preprocessor runs before
OverwriteCells and makes the submission's locked cells match the release again:

* a cell whose ``grade_id`` the assignment does not know loses its nbgrader metadata;
* a known cell gets the release's nbgrader metadata back (grade flag, points, ...);
* a locked cell missing from the submission is inserted, from the release, after the
  nearest earlier cell that is present.

OverwriteCells then restores the full source (hidden tests included) from the gradebook.
Each change is recorded as a grading event (see grading.events) for the report.
"""

import copy
import uuid
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..events import EDITED, METADATA, RESTORED, record_event


def grade_id(cell: NotebookNode) -> str:
    """The cell's grade id; "" if it has none."""
    return cell.metadata.get("nbgrader", {}).get("grade_id") or ""


class RestoreLockedCells(NbGraderPreprocessor):
    """Make a submission's locked and graded cells match the release notebook."""

    release_notebook = Unicode(
        "release/{assignment}/{notebook}.ipynb",
        help="The released notebook whose locked cells are the reference, relative to the "
        "course root (nbgrader runs from there); {assignment} and {notebook} are filled in.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        path = self.release_notebook.format(assignment=info["assignment"], notebook=info["notebook"])
        template = nbformat.read(path, as_version=4)
        reference = {grade_id(cell): cell for cell in template.cells if grade_id(cell)}
        protected = [
            grade_id(cell)
            for cell in template.cells
            if grade_id(cell) and (utils.is_locked(cell) or utils.is_grade(cell))
        ]

        for cell in nb.cells:
            cell_id = grade_id(cell)
            if "nbgrader" in cell.metadata and cell_id not in reference:
                record_event(nb, cell_id or "?", METADATA, f"unknown grade id {cell_id!r}: treated as an ordinary cell")
                del cell.metadata["nbgrader"]
            elif cell_id in reference:
                self._reset_metadata(nb, cell, reference[cell_id])

        present = {grade_id(cell) for cell in nb.cells}
        for position, cell in enumerate(template.cells):
            cell_id = grade_id(cell)
            if cell_id in protected and cell_id not in present:
                self._insert_after_previous(nb, template.cells[:position], copy.deepcopy(cell))
                record_event(nb, cell_id, RESTORED, "cell missing from the submission: restored from the release")
                present.add(cell_id)
        return nb, resources

    def _reset_metadata(self, nb: NotebookNode, cell: NotebookNode, reference: NotebookNode) -> None:
        expected = reference.metadata["nbgrader"]
        actual = cell.metadata.get("nbgrader", {})
        changed = sorted(
            key for key in set(expected) | set(actual) if key != "checksum" and expected.get(key) != actual.get(key)
        )
        if changed:
            record_event(
                nb,
                grade_id(reference),
                METADATA,
                "nbgrader metadata changed (" + ", ".join(changed) + "): reset to the release's",
            )
            cell.metadata["nbgrader"] = copy.deepcopy(expected)
        if cell.cell_type != reference.cell_type:
            record_event(
                nb,
                grade_id(reference),
                METADATA,
                f"cell type changed to {cell.cell_type}: reset to {reference.cell_type}",
            )
        elif utils.is_locked(reference) and cell.source != reference.source:
            record_event(nb, grade_id(reference), EDITED, "locked cell edited: its original source is graded")

    def _insert_after_previous(
        self, nb: NotebookNode, earlier_template_cells: list[NotebookNode], cell: NotebookNode
    ) -> None:
        if cell.get("id") in {c.get("id") for c in nb.cells}:  # the student's copy kept the id
            cell.id = uuid.uuid4().hex[:8]
        present_at = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}
        for previous in reversed(earlier_template_cells):
            if grade_id(previous) in present_at:
                nb.cells.insert(present_at[grade_id(previous)] + 1, cell)
                return
        nb.cells.insert(0, cell)
