"""A disguised copy of the instructor's own solution is flagged; an independent correct one is not.

Between students, code that much of the class shares is no evidence (similarity.compare). The
instructor's solution is another matter: a copy of it that leaked from an earlier term matches
it, whatever the rest of the class handed in.
"""

import pytest

from builders import cell, disguised
from grading.report.similarity import compare, copies_of_solution
from independent_solution import OWN_SOLUTION
from testbed.courses import grade_id, solved_source

# Every name the reference's solution cells assign, renamed, as an editor's rename would.
RENAMED = {
    "x_max": "top",
    "exps": "ex",
    "total": "denom",
    "scores": "raw",
    "weights": "probs",
    "output": "result",
    "heads": "per_head",
    "group": "share",
    "keys": "ks",
    "values": "vs",
    "strength": "gain",
    "slope": "p",
    "per_entry": "unit_bytes",
}


def solution_ids(release):
    return [
        grade_id(c) for c in release.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]


@pytest.fixture(scope="module")
def cells(release_nb, solution_nb):
    """(release, instructor's solution, renamed copy of it, independent solution): {cell id: source}."""
    ids = solution_ids(release_nb)
    release = {cell_id: cell(release_nb, cell_id).source for cell_id in ids}
    solution = {cell_id: solved_source(cell(solution_nb, cell_id).source) for cell_id in ids}
    copy_nb = disguised(solution_nb, ids, RENAMED, "my own work ({})")
    copy = {cell_id: cell(copy_nb, cell_id).source for cell_id in ids}
    independent = {cell_id: OWN_SOLUTION.get(cell_id, release[cell_id]) for cell_id in ids}
    return release, solution, copy, independent


def test_the_renamed_copy_really_differs_from_the_solution(cells):
    _, solution, copy, _ = cells
    assert sum(copy[c].split() != solution[c].split() for c in solution) >= len(solution) - 2


def test_a_renamed_copy_of_the_solution_is_flagged_and_an_independent_solution_is_not(cells):
    release, solution, copy, independent = cells
    found = copies_of_solution({"copier": copy, "independent": independent}, release, solution).copies
    assert [c.student for c in found] == ["copier"], found
    assert found[0].similarity >= 0.9 and found[0].verbatim <= 2, found[0]


def test_a_copy_shared_by_the_whole_class_is_no_evidence_between_students_but_matches_the_solution(cells):
    release, solution, copy, independent = cells
    class_ = {f"copier{i}": copy for i in range(4)} | {"independent": independent}
    assert not compare(class_, release).flagged  # the copy is common code among the students
    flagged = {c.student for c in copies_of_solution(class_, release, solution).copies}
    assert flagged == {f"copier{i}" for i in range(4)}
