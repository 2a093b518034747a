"""A small released notebook, built in code, with one cell of each kind nbgrader knows, and the
instructor's notebook it is released from."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def nbgrader_cell(cell, grade_id, *, grade=False, solution=False, locked=False, points=None):
    cell.id = grade_id  # the same ids in every copy, so that copies compare equal
    cell.metadata.nbgrader = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        cell.metadata.nbgrader["points"] = points
    return cell


def release():
    """intro, helpers (locked), softmax (solution), two test cells (graded, locked), a reflection."""
    return new_notebook(
        cells=[
            nbgrader_cell(new_markdown_cell("# Attention\nRead me first."), "intro", locked=True),
            nbgrader_cell(new_code_cell("def check(ok, message):\n    assert ok, message"), "helpers", locked=True),
            nbgrader_cell(
                new_code_cell('def softmax(x):\n    raise NotImplementedError("not implemented yet")'),
                "softmax",
                solution=True,
            ),
            nbgrader_cell(
                new_code_cell("check(softmax([0.0]) == [1.0], 'one value')"),
                "test-softmax-one",
                grade=True,
                locked=True,
                points=2,
            ),
            nbgrader_cell(
                new_code_cell("check(len(softmax([1.0, 2.0])) == 2, 'shape')"),
                "test-softmax-shape",
                grade=True,
                locked=True,
                points=3,
            ),
            nbgrader_cell(new_markdown_cell("YOUR ANSWER HERE"), "reflect-why", grade=True, solution=True, points=5),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def source():
    """The instructor's version of release(): the solution and a hidden test between nbgrader's
    markers, the reflection answered."""
    nb = release()
    cell(nb, "softmax").source = (
        "import math\n\n\n"
        "def softmax(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    exps = [math.exp(v - max(x)) for v in x]\n"
        "    return [e / sum(exps) for e in exps]\n"
        "    ### END SOLUTION"
    )
    hidden = "check(abs(sum(softmax([1.0, 2.0])) - 1) < 1e-9, 'sums to 1')"
    cell(nb, "test-softmax-shape").source += f"\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"
    cell(nb, "reflect-why").source = "Exponentials are positive and keep the order of the scores."
    return nb


def grade_ids(nb):
    return [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]


def cell(nb, grade_id):
    (found,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return found
