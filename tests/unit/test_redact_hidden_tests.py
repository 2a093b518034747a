"""RedactHiddenTests on a hand-made autograded notebook and gradebook: what reaches the student."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook
from traitlets.config import Config

from grading.preprocessors import RedactHiddenTests
from grading.preprocessors.redact_hidden_tests import REDACTED

VISIBLE = "check_close(softmax(x), expected)"
HIDDEN = "assert abs(softmax(np.float32([1e4])).sum() - 1) < 1e-6"
TEST_SOURCE = f"{VISIBLE}\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS"


def graded(grade_id, source, outputs=()):
    cell = new_code_cell(source, outputs=list(outputs))
    cell.metadata.nbgrader = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
    }
    return cell


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    """A gradebook that knows the test cell's full source, as nbgrader's autograde leaves it (made
    once: the preprocessor only reads it)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('redact') / 'gradebook.db'}"
    _fill(db_url)
    return {"nbgrader": {"db_url": db_url, "assignment": "attention", "notebook": "attention"}}


def _fill(db_url, test_source=TEST_SOURCE):
    with Gradebook(db_url) as gradebook:
        gradebook.add_assignment("attention")
        gradebook.add_notebook("attention", "attention")
        gradebook.add_source_cell(
            "test-softmax-sums", "attention", "attention", cell_type="code", locked=True, source=test_source
        )
        gradebook.add_source_cell(
            "helpers", "attention", "attention", cell_type="code", locked=True, source="def check_close(a, b): ..."
        )


def redact(cells, resources):
    nb, _ = RedactHiddenTests().preprocess(new_notebook(cells=cells), resources)
    nbformat.validate(nb)
    return nb.cells


def test_a_test_cell_shows_its_released_source(resources):
    (cell,) = redact([graded("test-softmax-sums", TEST_SOURCE)], resources)
    assert cell.source == VISIBLE


def test_traceback_frames_quoting_a_hidden_line_are_dropped_and_the_rest_kept(resources):
    first, last = (
        "\x1b[0;31mAssertionError\x1b[0m  Traceback (most recent call last)",
        "\x1b[0;31mAssertionError\x1b[0m: rows must sum to 1",
    )
    error = new_output(
        "error",
        ename="AssertionError",
        evalue="rows must sum to 1",
        traceback=[first, f"Cell In[7], line 3\n----> 3 \x1b[38;5;28m{HIDDEN}\x1b[0m", last],
    )
    (cell,) = redact([graded("test-softmax-sums", TEST_SOURCE, [error])], resources)
    (output,) = cell.outputs
    assert output.traceback == [first, last]
    assert output.evalue == "rows must sum to 1"


def test_an_error_made_only_of_hidden_lines_becomes_its_name_and_a_redacted_message(resources):
    error = new_output("error", ename="AssertionError", evalue=f"failed: {HIDDEN}", traceback=[f"----> 3 {HIDDEN}"])
    (cell,) = redact([graded("test-softmax-sums", TEST_SOURCE, [error])], resources)
    (output,) = cell.outputs
    assert output.evalue == REDACTED
    assert output.traceback == [f"AssertionError: {REDACTED}"]


def test_printed_and_displayed_hidden_lines_are_replaced_in_every_cell(resources):
    stream = new_output("stream", name="stdout", text=f"checking\n{HIDDEN}\nall good\n")
    shown = new_output("display_data", data={"text/plain": f"{HIDDEN}\n42", "image/png": "iVBORw0KGgo="})
    student = new_code_cell("import inspect; print(inspect.getsource(the_test))", outputs=[stream, shown])
    cells = redact([new_markdown_cell("# Part 1"), student], resources)
    (stream, shown) = cells[1].outputs
    assert stream.text == f"checking\n{REDACTED}\nall good\n"
    assert shown.data == {"text/plain": f"{REDACTED}\n42", "image/png": "iVBORw0KGgo="}


def test_the_delimiters_are_those_the_course_configures_for_nbgrader(tmp_path):
    """A course that marks hidden tests its own way (ClearHiddenTests' delimiters) has them
    redacted all the same."""
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    source = f"{VISIBLE}\n# SECRET STARTS\n{HIDDEN}\n# SECRET ENDS"
    _fill(db_url, source)
    marks = {"begin_test_delimeter": "SECRET STARTS", "end_test_delimeter": "SECRET ENDS"}
    config = Config({"ClearHiddenTests": marks})
    stream = new_output("stream", name="stdout", text=f"{HIDDEN}\n")
    nb, _ = RedactHiddenTests(config=config).preprocess(
        new_notebook(cells=[graded("test-softmax-sums", source, [stream])]),
        {"nbgrader": {"db_url": db_url, "assignment": "attention", "notebook": "attention"}},
    )
    (cell,) = nb.cells
    assert cell.source == VISIBLE
    assert cell.outputs[0].text == f"{REDACTED}\n"
