"""The autograder's scores on the solution, the blank release, and every catalogued submission.

All of them are graded together, once, by the real pipeline (on the session's two dask
workers), as an instructor's class would be.
"""

import pytest

from catalogue import (
    ALTERNATIVES,
    BUGS,
    CASES,
    CHEATS,
    PARTS,
    REACHES_FOR_THE_GRADER,
    check_bug,
    check_full_marks,
    describe,
)
from grading.parts import part_of
from grading.pipeline import grade_class
from testbed.courses import submit


@pytest.fixture(scope="session")
def graded(course_factory, release_nb, solution_nb, dask_client, pytestconfig):
    course = course_factory("catalogue")
    submit(course, "solution", solution_nb)
    submit(course, "blank", release_nb)
    for case in CASES:
        submit(course, case.name, case.applied_to(release_nb if case.starts_blank else solution_nb))
    results = {
        r.student: r for r in grade_class(course, client=dask_client, feedback=False, progress=lambda line: None)
    }
    pytestconfig.solution_seconds = results["solution"].seconds
    return results


def test_solution_earns_full_marks(graded):
    result = graded["solution"]
    assert result.recorded and not result.events, describe(result)
    autograded = {part: result.parts[part] for part in PARTS}
    assert all(score == points for score, points in autograded.values()), describe(result)


def test_blank_release_earns_zero_on_every_autograded_cell(graded):
    result = graded["blank"]
    assert result.recorded, describe(result)
    scored = {cell: score for cell, (score, _) in result.cells.items() if cell.startswith("test-")}
    assert len(scored) >= 20 and all(score == 0 for score in scored.values()), describe(result)


def test_autograded_points_are_at_least_80_percent(graded):
    cells = graded["solution"].cells
    auto = sum(points for cell, (_, points) in cells.items() if cell.startswith("test-"))
    manual = sum(points for cell, (_, points) in cells.items() if cell.startswith("reflect-"))
    assert manual > 0 and auto / (auto + manual) >= 0.8


@pytest.mark.parametrize("case", BUGS, ids=lambda case: case.name)
def test_bug_loses_points_in_the_part_it_breaks(graded, case):
    check_bug(case, graded[case.name])


@pytest.mark.parametrize("case", ALTERNATIVES, ids=lambda case: case.name)
def test_correct_alternative_earns_full_marks(graded, case):
    check_full_marks(graded[case.name], case.why)


@pytest.mark.parametrize("case", CHEATS, ids=lambda case: case.name)
def test_cheat_earns_nothing(graded, case):
    result = graded[case.name]
    assert result.recorded
    earned = {cell: score for cell, (score, _) in result.cells.items() if score}
    assert not earned, f"{case.why}\n{describe(result)}"
    if case.name in REACHES_FOR_THE_GRADER:  # and the instructor is told who tried
        assert "suspicious" in {event["kind"] for event in result.events}, describe(result)


def test_the_catalogue_covers_every_part_of_the_notebook(release_nb):
    """PARTS is what the tests above compare; a part the notebook grades but PARTS leaves out
    would never be checked, and a part needs bugs that prove its tests catch something."""
    graded = {
        part_of(cell.metadata["nbgrader"]["grade_id"])
        for cell in release_nb.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata["nbgrader"].get("solution")
    }
    assert graded == set(PARTS)
    thin = {part: sum(part in case.loses for case in BUGS) for part in PARTS}
    assert all(count >= 3 for count in thin.values()), thin
