"""RestoreLockedCells and StripJupytextMetadata on small notebooks built in code."""

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from grading.preprocessors import RestoreLockedCells, StripJupytextMetadata

from .notebooks import cell, grade_ids, release


@pytest.fixture
def restore(tmp_path):
    """``restore(submission) -> (notebook, events)``, against release() as the released notebook."""
    path = tmp_path / "release.ipynb"
    nbformat.write(release(), path)
    resources = {"nbgrader": {"assignment": "attention", "notebook": "attention"}}

    def restore(nb):
        nb, _ = RestoreLockedCells(release_notebook=str(path)).preprocess(nb, resources)
        nbformat.validate(nb)
        return nb, [(e["cell"], e["kind"], e["detail"]) for e in nb.metadata.get("grading", {}).get("events", [])]

    return restore


def test_an_untouched_submission_is_left_as_it_is(restore):
    nb, events = restore(release())
    assert nb == release() and events == []


def test_deleted_helper_and_test_cells_come_back_where_they_were(restore):
    nb = release()
    del nb.cells[3]  # test-softmax-one
    del nb.cells[1]  # helpers
    nb.cells.insert(1, new_code_cell("scratch = 1"))  # a cell of the student's own
    nb, events = restore(nb)
    assert grade_ids(nb) == [
        "intro",
        "helpers",
        None,
        "softmax",
        "test-softmax-one",
        "test-softmax-shape",
        "reflect-why",
    ]
    assert cell(nb, "helpers") == release().cells[1] and cell(nb, "test-softmax-one") == release().cells[3]
    assert [(c, kind) for c, kind, _ in events] == [("helpers", "restored"), ("test-softmax-one", "restored")]


def test_a_deleted_first_cell_goes_back_on_top(restore):
    nb = release()
    del nb.cells[0]
    nb, events = restore(nb)
    assert grade_ids(nb) == grade_ids(release()) and events == [("intro", "restored", events[0][2])]


def test_a_relabelled_test_cell_becomes_an_ordinary_cell_and_the_released_one_is_graded(restore):
    nb = release()
    cell(nb, "test-softmax-one").metadata.nbgrader["grade_id"] = "test-softmax-mine"
    nb, events = restore(nb)
    assert grade_ids(nb) == [
        "intro",
        "helpers",
        "softmax",
        "test-softmax-one",
        None,
        "test-softmax-shape",
        "reflect-why",
    ]
    assert nb.cells[4].source == release().cells[3].source and "nbgrader" not in nb.cells[4].metadata
    assert [(c, kind) for c, kind, _ in events] == [("test-softmax-mine", "metadata"), ("test-softmax-one", "restored")]


def test_changed_points_and_flags_are_reset_to_the_release(restore):
    nb = release()
    test = cell(nb, "test-softmax-shape")
    test.metadata.nbgrader.update(points=300, locked=False)
    cell(nb, "test-softmax-one").metadata.nbgrader["grade"] = False  # so it would never be scored
    nb, events = restore(nb)
    assert nb.cells == release().cells
    assert (
        "test-softmax-shape",
        "metadata",
        "nbgrader metadata changed (locked, points): reset to the release's",
    ) in events
    assert ("test-softmax-one", "metadata", "nbgrader metadata changed (grade): reset to the release's") in events


def test_a_retyped_test_cell_gets_its_metadata_back_and_is_reported(restore):
    nb = release()
    retyped = new_markdown_cell(cell(nb, "test-softmax-one").source, metadata=copy.deepcopy(nb.cells[3].metadata))
    retyped.metadata.nbgrader["grade"] = False
    nb.cells[3] = retyped
    nb, events = restore(nb)
    assert nb.cells[3].metadata.nbgrader == release().cells[3].metadata.nbgrader
    assert ("test-softmax-one", "metadata", "cell type changed to markdown: reset to code") in events


def test_an_edited_locked_cell_is_reported(restore):
    nb = release()
    cell(nb, "test-softmax-one").source = "pass  # no test here"
    nb, events = restore(nb)
    assert events == [("test-softmax-one", "edited", "locked cell edited: its original source is graded")]


def test_jupytext_pairing_is_stripped_and_nothing_else():
    nb = release()
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent", "text_representation": {"extension": ".py"}}
    cell(nb, "softmax").metadata["jupytext"] = {"cell_marker": '"""'}  # not the notebook's pairing: kept
    stripped, resources = StripJupytextMetadata().preprocess(copy.deepcopy(nb), {"x": 1})
    del nb.metadata["jupytext"]
    assert stripped == nb and resources == {"x": 1}
