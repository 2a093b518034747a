"""The committed release, its jupytext pair and the bundled class are current, and the release
gives nothing away; read from the files, so a stale one fails within seconds. (That release/
is exactly what nbgrader generates now is in tests/test_release.py: nbgrader takes a minute.)"""

import json
import re
import shutil

import jupytext
import nbformat

from conftest import REPO
from grading.hidden_tests import hidden_lines
from grading.parts import HAND_GRADED, PART_TITLES, part_of
from testbed.courses import grade_id, solved_source

SOURCE_PY = REPO / "source" / "attention" / "attention.py"
SOURCE_NB = REPO / "source" / "attention" / "attention.ipynb"
RELEASE_DIR = REPO / "release"
RELEASE_NB = RELEASE_DIR / "attention" / "attention.ipynb"


def comparable(nb):
    return [(cell.cell_type, cell.source, cell.metadata) for cell in nb.cells], nb.metadata


def test_release_has_no_solution_hidden_test_or_marker():
    text = RELEASE_NB.read_text()
    source = nbformat.read(SOURCE_NB, as_version=4)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    release = nbformat.read(RELEASE_NB, as_version=4)
    secret = hidden_lines([cell.source for cell in source.cells], public=[cell.source for cell in release.cells])
    leaked = [line for line in secret if json.dumps(line)[1:-1] in text]
    assert not leaked, f"hidden test lines in the release: {leaked[:5]}"
    regions = [
        region
        for cell in source.cells
        for region in re.findall(r"BEGIN SOLUTION\n(.*?)END SOLUTION", cell.source, re.S)
    ]
    outside = {
        line.strip()
        for cell in source.cells
        for line in re.sub(r"BEGIN SOLUTION\n.*?END SOLUTION", "", cell.source, flags=re.S).splitlines()
    }
    solution_lines = {
        line.strip() for region in regions for line in region.splitlines() if len(line.strip()) >= 20
    } - outside
    leaked = [line for line in solution_lines if json.dumps(line)[1:-1] in text]
    assert len(solution_lines) > 50 and not leaked, f"solution lines in the release: {leaked[:5]}"


def test_release_has_no_python_files_or_jupytext_metadata():
    assert [p.name for p in RELEASE_DIR.rglob("*") if p.is_file()] == ["attention.ipynb"]
    release = nbformat.read(RELEASE_NB, as_version=4)
    assert "jupytext" not in release.metadata
    assert all("jupytext" not in cell.metadata for cell in release.cells)


def test_release_stubs_raise_with_a_readable_message():
    release = nbformat.read(RELEASE_NB, as_version=4)
    stubs = [
        cell for cell in release.cells if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"
    ]
    assert stubs and all('raise NotImplementedError("not implemented yet' in cell.source for cell in stubs)


def test_jupytext_twin_and_notebook_are_in_sync():
    twin = jupytext.read(SOURCE_PY)
    notebook = jupytext.read(SOURCE_NB)
    assert [(c.cell_type, c.source, c.metadata) for c in twin.cells] == [
        (c.cell_type, c.source, c.metadata) for c in notebook.cells
    ], "source/attention/attention.py and .ipynb differ: run `make notebook`"


def test_grade_ids_name_the_part_they_check():
    source = nbformat.read(SOURCE_NB, as_version=4)
    graded = [cell for cell in source.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    prefixes = tuple(f"test-{part}-" for part in PART_TITLES if part != HAND_GRADED) + (f"{HAND_GRADED}-",)
    assert all(grade_id(cell).startswith(prefixes) for cell in graded), [grade_id(c) for c in graded]
    manual = [cell for cell in graded if cell.metadata["nbgrader"]["solution"]]
    assert manual and all(cell.cell_type == "markdown" and part_of(grade_id(cell)) == HAND_GRADED for cell in manual)


def test_solved_source_strips_only_the_markers():
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert solved_source(source) == "def f():\n    return 1\n"


def test_committed_class_is_what_the_class_builder_produces(tmp_path):
    from bundled_class import write_class

    for folder in ("source", "release"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    built = write_class(tmp_path)
    committed = REPO / "submitted"
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    stale = [str(f) for f in files if (built / f).read_bytes() != (committed / f).read_bytes()]
    assert not stale, f"submitted/ is stale ({stale[:3]}): run `make class` and commit the result"
