"""The release without Part 7 (``c.OmitParts.omit = ["part-7"]``, the instructor's one line),
graded as the full one is: the catalogue checks the core form here, the full form in
tests/test_catalogue.py.

One course is built with the setting on and released, then a small class is graded in one run
of ``grading.run.grade``: the solution, the blank release, the first catalogued bug of each part
of the core, and a correct alternative. Nothing of Part 7 reaches a student or the instructor,
and the maximum is the core's.
"""

import csv
import json
from pathlib import Path

import pytest

from catalogue import ALTERNATIVES, BUGS, PARTS, check_bug, check_full_marks, describe
from grading.canvas import POINTS_POSSIBLE
from grading.parts import HAND_GRADED, PART_TITLES, part_of
from grading.run import grade
from testbed.courses import REPO, build_course, completed, grade_id, read, submit

PART_7 = "part-7"
SOURCE = read(REPO / "source" / "attention" / "attention.ipynb")
# The grade ids of Part 7's cells, and the parts of its tests: read from the tags, not listed here.
PART_7_IDS = {grade_id(cell) for cell in SOURCE.cells if PART_7 in cell.metadata.get("tags", [])} - {None}
OMITTED = {part_of(cell_id) for cell_id in PART_7_IDS if cell_id.startswith("test-")}
CORE_PARTS = [part for part in PARTS if part not in OMITTED]
FIRST_BUG = [next(case for case in BUGS if case.loses == {part}) for part in CORE_PARTS]


def applies(case, nb):
    """Whether every edit of ``case`` finds its cells in ``nb`` (a case of Part 7 does not)."""
    try:
        case.applied_to(nb)
    except KeyError:
        return False
    return True


def graded_points(nb):
    return {
        grade_id(cell): cell.metadata["nbgrader"]["points"]
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }


@pytest.fixture(scope="module")
def core(tmp_path_factory, dask_client):
    """(course, its release, the GradingRun, results by student), graded once for the module."""
    course = build_course(tmp_path_factory.mktemp("core-release") / "course", omit=[PART_7])
    release = read(course.notebook_path(course.coursedir.release_directory))
    solution = completed(release, SOURCE)
    alternative = next(case for case in ALTERNATIVES if applies(case, solution))
    class_ = {"solution": solution, "blank": release, alternative.name: alternative.applied_to(solution)}
    class_ |= {case.name: case.applied_to(solution) for case in FIRST_BUG}
    for student, nb in class_.items():
        submit(course, student, nb)
    with open(Path(course.root) / "roster.csv", "w", newline="") as handle:  # for the Canvas CSV
        roster = csv.writer(handle)
        roster.writerow(["nbgrader_id", "Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        for number, student in enumerate(class_):
            roster.writerow([student, f"Core, {student}", 50000 + number, f"S{number}", student, "Core"])
    run = grade(course, client=dask_client, progress=lambda line: None)
    return course, release, run, {result.student: result for result in run.results}


def core_max():
    """The full release's points less those of Part 7: Parts 1 to 6 and the written answers."""
    full = graded_points(read(REPO / "release" / "attention" / "attention.ipynb"))
    return sum(points for cell_id, points in full.items() if cell_id not in PART_7_IDS)


def test_part_7_is_what_the_tags_say():
    assert OMITTED == {"tiled", "gqa", "compute"} and len(CORE_PARTS) == len(PARTS) - 3
    assert len(FIRST_BUG) == len(CORE_PARTS)


def test_the_release_holds_nothing_of_part_7(core):
    _, release, _, _ = core
    ids = {grade_id(cell) for cell in release.cells}
    assert not ids & PART_7_IDS and not [cell_id for cell_id in ids if cell_id and part_of(cell_id) in OMITTED]
    assert {tag for cell in release.cells for tag in cell.metadata.get("tags", [])} == {"export"}
    assert not [cell.source[:60] for cell in release.cells if "Part 7" in cell.source]
    assert {part_of(cell_id) for cell_id in graded_points(release)} == {*CORE_PARTS, HAND_GRADED}


def test_the_solution_earns_every_point_of_the_core(core):
    _, release, _, results = core
    result = results["solution"]
    check_full_marks(result)
    assert not result.events, describe(result)
    assert set(result.parts) == {*CORE_PARTS, HAND_GRADED}
    assert sum(points for _, points in result.parts.values()) == sum(graded_points(release).values()) == core_max()


def test_the_blank_release_earns_nothing(core):
    result = core[3]["blank"]
    assert result.recorded and result.cells, describe(result)
    assert not [cell for cell, (score, _) in result.cells.items() if score], describe(result)


@pytest.mark.parametrize("case", FIRST_BUG, ids=lambda case: case.name)
def test_a_bug_loses_points_in_its_own_part_only(core, case):
    check_bug(case, core[3][case.name])


def test_a_correct_alternative_earns_every_point(core):
    _, _, _, results = core
    (alternative,) = set(results) - {"solution", "blank"} - {case.name for case in FIRST_BUG}
    check_full_marks(results[alternative], alternative)


def omitted_names(text):
    """What of Part 7 a page names: its parts' titles, their grade ids, the words "Part 7"."""
    names = ["Part 7", *(PART_TITLES[part] for part in OMITTED), *(f"test-{part}-" for part in OMITTED)]
    return [name for name in names if name in text]


def test_feedback_and_the_class_report_name_no_part_of_part_7(core):
    course, _, run, results = core
    for student in results:
        page = Path(course.path(course.coursedir.feedback_directory, student), "attention.html").read_text()
        assert PART_TITLES["memory"] in page and not omitted_names(page), student
    assert run.class_report and not run.class_report_problem
    report = Path(run.class_report).read_text()
    assert PART_TITLES["softmax"] in report and not omitted_names(report)
    rows = json.loads(Path(run.report_json).read_text())
    assert not [row["student"] for row in rows if omitted_names(json.dumps(row["parts"]) + json.dumps(row["cells"]))]


def test_grades_and_canvas_count_the_core_maximum(core):
    _, _, run, results = core
    with open(run.grades_csv, newline="") as handle:
        grades = list(csv.DictReader(handle))
    assert {row["student_id"] for row in grades} == set(results)
    assert {float(row["max_score"]) for row in grades} == {core_max()}
    assert run.canvas_csv and not run.canvas_note, run.canvas_note
    with open(run.canvas_csv, newline="") as handle:
        (possible,) = [row for row in csv.DictReader(handle) if POINTS_POSSIBLE in row.values()]
    assert float(possible["Module 13: Attention"]) == core_max()
