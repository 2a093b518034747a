"""The clause table (tests/contract.py) covers the whole contract, and only what exists.

The contract's names are read from the notebook itself (what its solution cells define and its
test cells call) and from the contract table of docs/contract.md, so a new function, method or answer
that nobody wrote a clause for fails here.
"""

import ast
import re

import nbformat
import pytest

from catalogue import BUGS
from conftest import REPO
from contract import CLAUSES

SOURCE_NB = REPO / "source" / "attention" / "attention.ipynb"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOURCE_NB, as_version=4)


def nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def graded_cells(nb):
    return {
        nbgrader(c)["grade_id"]: c.source
        for c in nb.cells
        if nbgrader(c).get("grade") and not nbgrader(c).get("solution")
    }


def defined_names(nb):
    """Functions, classes, their methods and ANSWER_ constants that the solution cells define;
    a function attached to a class (``Class.name = function``) counts as the method."""
    names, attached = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code" or not nbgrader(cell).get("solution"):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                names.add(node.name)
            elif isinstance(node, ast.ClassDef):
                names.add(node.name)
                names.update(
                    f"{node.name}.{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and item.name not in ("__init__", "__call__")
                )
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.startswith("ANSWER_"):
                        names.add(target.id)
                    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                        names.add(f"{target.value.id}.{target.attr}")
                        if isinstance(node.value, ast.Name):
                            attached.add(node.value.id)
    return names - attached


def contract_names(nb):
    """The defined names the test cells use (helpers such as split_heads are the student's business)."""
    tests = "\n".join(graded_cells(nb).values())
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", tests))
    dunders = {"__len__": "len("}
    return {
        name
        for name in defined_names(nb)
        if name.split(".")[-1] in used or dunders.get(name.split(".")[-1], "\0") in tests
    }


def clause_names():
    return {name for clause in CLAUSES for name in clause.names}


def test_every_name_of_the_contract_has_a_clause(notebook):
    missing = contract_names(notebook) - clause_names()
    assert not missing, f"names the tests call but no clause in tests/contract.py covers: {sorted(missing)}"


def test_every_clause_is_about_names_that_exist(notebook):
    stale = clause_names() - defined_names(notebook)
    assert not stale, f"clauses about names the notebook does not define: {sorted(stale)}"


def test_every_name_in_the_documented_contract_table_has_a_clause():
    text = (REPO / "docs" / "contract.md").read_text()
    table = text.split("# The contract", 1)[1].split("\n\n", 2)[1]
    names = {
        match
        for row in table.splitlines()
        if row.startswith("|")
        for match in re.findall(r"`([A-Za-z_][\w.]*)[(`]", row)
    }
    # `__call__` is given code; `len` is how KVCache.__len__ is used
    names = {name for name in names if not name.startswith("__")} - {"np.float64", "len"}
    assert len(names) >= 20, names
    missing = {
        name
        for name in names
        if name not in clause_names() and not any(name in (c.split(".")[-1], c) for c in clause_names())
    }
    assert not missing, f"docs/contract.md's table names {sorted(missing)}, which no clause covers"


def test_every_clause_names_test_cells_of_its_part(notebook):
    cells = graded_cells(notebook)
    for clause in CLAUSES:
        assert clause.cells, clause.text
        for cell in clause.cells:
            assert cell in cells, f"{clause.text}: no test cell {cell!r}"
            assert cell.startswith(f"test-{clause.part}-"), f"{cell} is not a test of part {clause.part}"


def test_every_clause_is_broken_by_a_catalogued_bug_that_loses_its_part():
    bugs = {case.name: case for case in BUGS}
    for clause in CLAUSES:
        assert clause.bugs, f"{clause.text}: no catalogued bug proves the tests catch a breach"
        for name in clause.bugs:
            assert name in bugs, f"{clause.text}: no bug {name!r} in tests/catalogue.py"
            assert clause.part in bugs[name].loses, f"bug {name} does not claim to lose part {clause.part}"


def test_every_test_cell_checks_some_clause(notebook):
    checked = {cell for clause in CLAUSES for cell in clause.cells}
    unchecked = set(graded_cells(notebook)) - checked
    assert not unchecked, f"test cells no clause refers to: {sorted(unchecked)}"
