"""SummarizeFeedback on a hand-made gradebook: what the top of a student's feedback says."""

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook

from grading.preprocessors import SummarizeFeedback

from .notebooks import nbgrader_cell

STUB = "NotImplementedError: not implemented yet"
# grade id, points, score; None: a written answer still waiting for its grader
GRADES = [
    ("test-softmax-basics", 2, 2),
    ("test-mha-init", 3, 0),
    ("test-mha-shapes", 2, 0),
    ("test-mha-answer", 2, 0),
    ("test-softmax-dtype", 2, 0),
    ("test-rope-rotation", 1, 1),
    ("reflect-kv-cache-tradeoff", 5, None),
    ("reflect-long-context", 5, 3),
]


def error(message):
    ename, evalue = message.split(": ", 1)
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"\x1b[31m{ename}\x1b[0m: {evalue}"])


def notebook():
    """The graded cells in notebook order; a test in Part 1 comes after Part 3's, as a part may."""
    outputs = {
        "test-mha-init": [error(f"{STUB}: replace this line")],
        "test-mha-shapes": [error(f"{STUB}: replace this line")],
        "test-mha-answer": [error("CheckFailed: ANSWER is still None: set it to a number.")],
        "test-softmax-dtype": [new_output("stream", name="stderr", text="RuntimeWarning: overflow in exp\n")],
    }
    cells = []
    for grade_id, points, _ in GRADES:
        if grade_id.startswith("reflect"):
            cells.append(
                nbgrader_cell(new_markdown_cell("My answer."), grade_id, grade=True, solution=True, points=points)
            )
        else:
            cell = new_code_cell(f"check_{grade_id.replace('-', '_')}()", outputs=outputs.get(grade_id, []))
            cells.append(nbgrader_cell(cell, grade_id, grade=True, locked=True, points=points))
    return new_notebook(cells=cells)


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    """A gradebook with one student's scores, as autograde (and a grader, for one answer) left them."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('summary') / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.add_assignment("attention")
        gradebook.add_notebook("attention", "attention")
        for grade_id, points, _ in GRADES:
            kind = "markdown" if grade_id.startswith("reflect") else "code"
            gradebook.add_grade_cell(grade_id, "attention", "attention", max_score=points, cell_type=kind)
        gradebook.add_student("ada")
        gradebook.add_submission("attention", "ada")
        for grade_id, _, score in GRADES:
            grade = gradebook.find_grade(grade_id, "attention", "attention", "ada")
            if grade_id.startswith("reflect"):
                grade.needs_manual_grade = score is None
                grade.manual_score = score
            else:
                grade.auto_score = score
                grade.needs_manual_grade = False
        gradebook.db.commit()
    return {"nbgrader": {"db_url": db_url, "assignment": "attention", "notebook": "attention", "student": "ada"}}


@pytest.fixture(scope="module")
def summary(resources):
    _, resources = SummarizeFeedback().preprocess(notebook(), resources)
    return resources["feedback_summary"]


def test_failed_tests_come_with_their_messages_in_notebook_order(summary):
    assert [(check["full_name"], check["message"]) for check in summary["failed"]] == [
        ("Part 4, multi-head attention: init", f"{STUB}: replace this line"),
        ("Part 4, multi-head attention: shapes", f"{STUB}: replace this line"),
        ("Part 4, multi-head attention: answer", "CheckFailed: ANSWER is still None: set it to a number."),
        ("Part 1, softmax: dtype", "The cell wrote to stderr, which fails a test: RuntimeWarning: overflow in exp"),
    ]  # and no written answer: those are graded by hand


def test_consecutive_failures_with_one_message_share_it(summary):
    assert [([check["id"] for check in group["checks"]], group["message"]) for group in summary["failed_groups"]] == [
        (["test-mha-init", "test-mha-shapes"], f"{STUB}: replace this line"),
        (["test-mha-answer"], "CheckFailed: ANSWER is still None: set it to a number."),
        (["test-softmax-dtype"], "The cell wrote to stderr, which fails a test: RuntimeWarning: overflow in exp"),
    ]


def test_parts_in_order_of_first_appearance_with_subtotals(summary):
    assert [(p["title"], p["score"], p["points"], p["failed"], p["pending"]) for p in summary["parts"]] == [
        ("Part 1: softmax", 2, 4, 1, 0),
        ("Part 4: multi-head attention", 0, 7, 3, 0),
        ("rope", 1, 1, 0, 0),  # a part without a title yet is called by its prefix
        ("Written answers", 3, 10, 0, 1),
    ]


def test_each_check_is_named_and_has_a_status(summary):
    checks = {check["id"]: (check["name"], check["status"]) for part in summary["parts"] for check in part["checks"]}
    assert checks == {
        "test-softmax-basics": ("basics", "passed"),
        "test-softmax-dtype": ("dtype", "failed"),
        "test-mha-init": ("init", "failed"),
        "test-mha-shapes": ("shapes", "failed"),
        "test-mha-answer": ("answer", "failed"),
        "test-rope-rotation": ("rotation", "passed"),
        "reflect-kv-cache-tradeoff": ("KV cache tradeoff", "pending"),
        "reflect-long-context": ("long context", "graded"),  # 3 of 5 by hand: not a failed test
    }
