"""Each part's demos run after a kernel restart with only the earlier parts' definitions.

A student who restarts the kernel in Part 7 runs the definitions of Parts 1 to 6 (their solution
cells) and then Part 7; the demos of Parts 5 and 6 have not run. So a demo may use what any
earlier cell defines with ``def``, ``class`` or ``import``, and values computed by non-demo cells,
but no variable another demo computed.
"""

import ast
from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[2] / "source" / "attention" / "attention.ipynb"


def assigned(tree):
    """Names a cell binds by assignment (``=``, ``for``, ``with ... as``, ...), not by def/class/import."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def read(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def demo_cells(nb):
    """(grade id, parsed source, is a demo) of every code cell, in order."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        yield grade_id, ast.parse(cell.source), grade_id.startswith("demo-")


def borrowed_demo_variables(nb):
    """{demo grade id: names it reads that only another demo assigned}."""
    by_demos, elsewhere, found = {}, set(), {}
    for grade_id, tree, is_demo in demo_cells(nb):
        if is_demo:
            borrowed = {name for name in read(tree) - assigned(tree) - elsewhere if name in by_demos}
            if borrowed:
                found[grade_id] = {name: by_demos[name] for name in sorted(borrowed)}
            for name in assigned(tree):
                by_demos.setdefault(name, grade_id)
        else:
            elsewhere |= assigned(tree)
    return found


def test_no_demo_reads_a_variable_another_demo_computed():
    assert borrowed_demo_variables(nbformat.read(NOTEBOOK, as_version=4)) == {}


def test_a_demo_reading_an_earlier_demos_variable_is_found():
    cells = [
        ("demo-first", "if True:\n    timing = 3\n    def helper():\n        return 1"),
        ("solution", "def solve():\n    return 2\nconstant = 5"),
        ("demo-later", "print(timing, helper(), solve(), constant)\nfor step in range(2):\n    print(step)"),
    ]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(src, metadata={"nbgrader": {"grade_id": gid}}) for gid, src in cells]
    )
    found = borrowed_demo_variables(nb)
    assert found == {"demo-later": {"timing": "demo-first"}}
