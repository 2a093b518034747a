"""The benchmarks import nothing from tests/: what both run the grader on lives in testbed/, so
that a change to a test's helper cannot change what `make bench` measures unnoticed."""

import ast

from conftest import REPO

TESTS = REPO / "tests"


def test_modules_of_tests_are_what_a_helper_would_be_imported_as():
    names = modules_of_tests()
    assert {"tests", "builders", "bundled_class", "conftest", "mutants", "unit"} <= names
    assert not {"grading", "testbed", "bench", "numpy"} & names


def modules_of_tests():
    """Every name a module of tests/ is imported by: ``tests`` itself, and, with tests/ on the
    path (as pytest and the scripts there put it), its files and folders."""
    found = {"tests"} | {path.stem for path in TESTS.glob("*.py")}
    return found | {path.name for path in TESTS.iterdir() if path.is_dir() and not path.name.startswith((".", "_"))}


def imported(path):
    """(line, module) of each absolute import in a Python file, function-level ones included."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.lineno, node.module


def test_no_file_in_bench_imports_from_tests():
    tests = modules_of_tests()
    found = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in sorted((REPO / "bench").rglob("*.py"))
        for line, module in imported(path)
        if module.split(".")[0] in tests
    ]
    assert found == [], "bench/ imports from tests/ (move what both need to testbed/):\n" + "\n".join(found)
