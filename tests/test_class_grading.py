"""`make grade` on the bundled class: every student gets a row, hidden tests never reach
feedback, scores equal nbgrader's own serial autograde, and regrading changes nothing.
"""

import csv
import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI

from catalogue import PARTS
from conftest import build_course, report_rows, run_make_grade
from grading.hidden_tests import hidden_lines
from grading.pipeline import ExecutionSettings, grade_class

MANUAL = "reflect-kv-cache-tradeoff"  # given a manual grade by the regrade test


def cell_scores(rows, except_cell=None):
    """Student -> {grade id: [score, max]}, optionally leaving one cell out (a copy)."""
    return {student: {cell: score for cell, score in row["cells"].items() if cell != except_cell}
            for student, row in rows.items()}


def lost(row):
    return {part for part in PARTS if row["parts"][part][0] < row["parts"][part][1]}


def kinds(row):
    return {event["kind"] for event in row["events"]}


def grades_csv(course):
    with open(Path(course.root) / "grades.csv") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_every_student_gets_a_row_in_grades_csv(bundled):
    course, _, rows = bundled
    exported = {student: float(row["raw_score"]) for student, row in grades_csv(course).items()}
    assert sorted(exported) == sorted(p.name for p in (Path(course.root) / "submitted").iterdir())
    assert exported == {student: row["score"] for student, row in rows.items()}


def test_the_late_submission_pays_nbgraders_penalty_in_grades_csv_and_for_canvas(bundled):
    """Lou handed in 25.5 hours after the due date (assignments.csv): two started days at 10%."""
    course, _, rows = bundled
    grades = grades_csv(course)
    late = grades["lou_copied_late"]
    full = rows["kim_own_solution"]["score"]  # every autograded point: the copy is of a complete solution
    assert float(late["raw_score"]) == rows["lou_copied_late"]["score"] == full
    assert float(late["late_submission_penalty"]) == pytest.approx(0.2 * full)
    assert float(late["score"]) == pytest.approx(0.8 * full)
    assert [s for s, row in grades.items() if float(row["late_submission_penalty"])] == ["lou_copied_late"]
    with open(Path(course.root) / "canvas-grades.csv", newline="") as handle:
        canvas = {row["SIS Login ID"]: row["Module 13: Attention"] for row in csv.DictReader(handle)}
    assert float(canvas["lloukas"]) == pytest.approx(0.8 * full) and float(canvas["mkim"]) == full
    assert len(canvas) == len(rows) + 1  # and the Points Possible row


@pytest.mark.parametrize("student, lost_parts, event_kinds", [
    ("ada_complete", set(), set()),
    ("ben_partial", {"heads", "mha", "kvcache", "memory", "tiled", "gqa", "compute"}, set()),
    ("cara_blank", set(PARTS), set()),
    ("dev_buggy_masks", {"sdpa", "mask"}, set()),
    ("eli_buggy_heads", {"mha", "kvcache", "gqa"}, set()),
    ("fay_infinite_loop", set(), {"timeout"}),
    ("gus_kernel_dies", {"kvcache", "gqa"}, {"kernel"}),
    ("hal_tampered_tests", {"softmax"}, {"edited", "restored", "metadata"}),
    ("ida_malformed", set(PARTS), {"intake"}),
    ("jon_misnamed", {"memory"}, {"intake"}),
    ("kim_own_solution", set(), set()),
    ("lou_copied_late", set(), set()),  # a copy is graded like any other work: the report flags it
])
def test_each_student_is_graded_for_what_they_did(bundled, student, lost_parts, event_kinds):
    _, _, rows = bundled
    row = rows[student]
    assert row["recorded"], row["events"]
    assert lost(row) == lost_parts, row["cells"]
    assert kinds(row) == event_kinds, row["events"]


def test_points_changed_by_a_student_do_not_count(bundled):
    _, _, rows = bundled
    assert rows["hal_tampered_tests"]["cells"]["test-sdpa-batched"] == [3.0, 3.0]
    assert rows["hal_tampered_tests"]["max_score"] == rows["ada_complete"]["max_score"]


def test_summary_reports_each_part_and_where_the_files_are(bundled):
    _, stdout, _ = bundled
    assert re.search(r"^\[ *12/12\] ", stdout, re.M), stdout
    for part in PARTS:
        assert re.search(rf"^{part} +\d+\.\d +\d+ +\d+ of 12$", stdout, re.M), stdout
    assert "12 of 12 submissions graded" in stdout and "grades.csv" in stdout and "feedback" in stdout
    assert re.search(r"^  grades for Canvas +canvas-grades\.csv$", stdout, re.M), stdout
    assert re.search(r"^  class report +class-report\.html$", stdout, re.M), stdout


def feedback_text(path):
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_feedback_never_shows_a_line_of_a_hidden_test(bundled):
    course, _, _ = bundled
    source = nbformat.read(Path(course.root) / "source" / "attention" / "attention.ipynb", as_version=4)
    release = nbformat.read(Path(course.root) / "release" / "attention" / "attention.ipynb", as_version=4)
    lines = hidden_lines([cell.source for cell in source.cells], public=[cell.source for cell in release.cells])
    files = sorted((Path(course.root) / "feedback").glob("*/attention/attention.html"))
    assert len(files) == 12 and len(lines) > 200
    for path in files:
        text = feedback_text(path)
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{path.parent.parent.name}: {leaked[:3]}"


def test_feedback_shows_scores_own_code_visible_tests_and_failure_reasons(bundled):
    course, _, rows = bundled
    text = feedback_text(Path(course.root) / "feedback" / "dev_buggy_masks" / "attention" / "attention.html")
    assert f"{rows['dev_buggy_masks']['score']:g} / {rows['dev_buggy_masks']['max_score']:g}" in text.replace(".0 /", " /")
    assert "-np.inf, scores)" in text  # the student's own (inverted) mask line
    assert 'check_rows_sum_to_one(weights, "the masked attention weights")' in text  # a visible test
    assert "weights of blocked keys (mask False)" in text  # the failure message of that test
    text = feedback_text(Path(course.root) / "feedback" / "ida_malformed" / "attention" / "attention.html")
    assert "cannot be read as a notebook" in text


def test_scores_equal_nbgrader_serial_autograde(bundled, tmp_path):
    """The same submissions through nbgrader's own app, one student at a time, in another course."""
    course, _, rows = bundled
    serial = build_course(tmp_path / "serial")
    students = ["ada_complete", "ben_partial", "cara_blank", "dev_buggy_masks", "eli_buggy_heads",
                "gus_kernel_dies", "hal_tampered_tests"]  # the ones nbgrader itself can read
    for student in students:
        shutil.copytree(Path(course.root) / "submitted" / student, Path(serial.root) / "submitted" / student)
    api = NbGraderAPI(coursedir=serial.coursedir, config=serial.config)
    for student in students:
        outcome = api.autograde("attention", student)
        assert outcome["success"], outcome.get("error")
    with Gradebook(serial.db_url) as gradebook:
        for student in students:
            grades = gradebook.find_submission("attention", student).notebooks[0].grades
            assert {g.name: [g.score, g.max_score] for g in grades} == rows[student]["cells"], student


def test_regrading_is_idempotent_and_keeps_manual_grades(bundled):
    course, _, first = bundled
    with Gradebook(course.db_url) as gradebook:
        grade = gradebook.find_grade(MANUAL, "attention", "attention", "ada_complete")
        grade.manual_score = 4.0
        gradebook.db.commit()
    run_make_grade(course)
    again = report_rows(course)
    assert again["ada_complete"]["cells"]["reflect-kv-cache-tradeoff"] == [4.0, 5.0]
    assert cell_scores(again, except_cell=MANUAL) == cell_scores(first, except_cell=MANUAL)
    with Gradebook(course.db_url) as gradebook:
        assert len(gradebook.students) == 12
        assert len(gradebook.find_assignment("attention").submissions) == 12


def test_grading_the_class_five_times_gives_identical_scores(bundled):
    course, _, first = bundled
    for _ in range(3):  # runs 3 to 5: the fixture and the regrade test were runs 1 and 2
        results = grade_class(course, workers=2, settings=ExecutionSettings(timeout=10), feedback=False,
                              progress=lambda line: None)
        rows = {r.student: {"cells": r.cells} for r in results}
        assert cell_scores(rows, except_cell=MANUAL) == cell_scores(first, except_cell=MANUAL)
