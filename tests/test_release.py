"""The committed release is exactly nbgrader's output (the rest of the release's checks, which
need no nbgrader run, are in tests/unit/test_release.py)."""

import nbformat

from conftest import REPO

RELEASE_NB = REPO / "release" / "attention" / "attention.ipynb"


def comparable(nb):
    return [(cell.cell_type, cell.source, cell.metadata) for cell in nb.cells], nb.metadata


def test_committed_release_is_what_generate_assignment_produces(course_factory):
    course = course_factory("regenerated")
    regenerated = nbformat.read(course.notebook_path("release"), as_version=4)
    committed = nbformat.read(RELEASE_NB, as_version=4)
    assert comparable(committed) == comparable(regenerated), (
        "release/ is stale: run `make release` and commit the result"
    )
