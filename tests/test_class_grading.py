"""`make grade` on the bundled class: every student gets a row, hidden tests never reach
feedback, scores equal nbgrader's own serial autograde, and regrading changes nothing.

The class is graded once for the whole session (conftest.bundled); tests that grade again
or change the gradebook work on a copy of it.
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
from conftest import MODULE14_CHECKS, copy_course, passed, report_rows, run_grade_command, run_module14
from grading.__main__ import main
from grading.export import export
from grading.hidden_tests import hidden_lines
from grading.parts import PART_TITLES

MANUAL = "reflect-kv-cache-tradeoff"  # given a manual grade by the regrade test


def cell_scores(rows, except_cell=None):
    """Student -> {grade id: [score, max]}, optionally leaving one cell out (a copy)."""
    return {
        student: {cell: score for cell, score in row["cells"].items() if cell != except_cell}
        for student, row in rows.items()
    }


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


@pytest.mark.parametrize(
    "student, lost_parts, event_kinds",
    [
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
        ("mia_buggy_blocking", {"sdpa", "mask"}, set()),
        ("ned_buggy_decoding", {"kvcache", "gqa"}, set()),
    ],
)
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
    assert re.search(r"^\[ *14/14\] ", stdout, re.M), stdout
    for part in PARTS:
        assert re.search(rf"^{part} +\d+\.\d +\d+ +\d+ of 14$", stdout, re.M), stdout
    assert "14 of 14 submissions graded" in stdout and "grades.csv" in stdout and "feedback" in stdout
    assert re.search(r"^  grades for Canvas +canvas-grades\.csv$", stdout, re.M), stdout
    assert re.search(r"^  class report +class-report\.html$", stdout, re.M), stdout


def feedback_text(path):
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def submitted_cells(course, student):
    """The cells a student handed in (none if nothing readable is there)."""
    cells = []
    for path in (Path(course.root) / "submitted" / student / "attention").glob("*.ipynb"):  # misnamed too
        try:
            cells += nbformat.read(path, as_version=4).cells
        except ValueError:  # the malformed one
            pass
    return cells


def test_feedback_never_shows_a_line_of_a_hidden_test(bundled):
    course, _, _ = bundled
    source = nbformat.read(Path(course.root) / "source" / "attention" / "attention.ipynb", as_version=4)
    release = nbformat.read(Path(course.root) / "release" / "attention" / "attention.ipynb", as_version=4)
    files = sorted((Path(course.root) / "feedback").glob("*/attention/attention.html"))
    assert len(files) == 14
    for path in files:
        # A line the student wrote themselves is theirs to see, even where a hidden check repeats it.
        student = path.parent.parent.name
        public = [cell.source for cell in release.cells + submitted_cells(course, student)]
        lines = hidden_lines([cell.source for cell in source.cells], public=public)
        assert len(lines) > 200
        text = feedback_text(path)
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{path.parent.parent.name}: {leaked[:3]}"


def test_feedback_shows_scores_own_code_visible_tests_and_failure_reasons(bundled):
    course, _, rows = bundled
    text = feedback_text(Path(course.root) / "feedback" / "dev_buggy_masks" / "attention" / "attention.html")
    assert f"{rows['dev_buggy_masks']['score']:g} / {rows['dev_buggy_masks']['max_score']:g}" in text.replace(
        ".0 /", " /"
    )
    assert "-np.inf, scores)" in text  # the student's own (inverted) mask line
    assert 'check_rows_sum_to_one(weights, "the masked attention weights")' in text  # a visible test
    assert "weights of blocked keys (mask False)" in text  # the failure message of that test
    text = feedback_text(Path(course.root) / "feedback" / "ida_malformed" / "attention" / "attention.html")
    assert "cannot be read as a notebook" in text


def test_scores_equal_nbgrader_serial_autograde(bundled, course_factory):
    """The same submissions through nbgrader's own app, one student at a time, in another course."""
    course, _, rows = bundled
    serial = course_factory("serial")
    # Of the ones nbgrader itself can read: complete, blank, buggy, a dying kernel, tampered tests.
    students = ["ada_complete", "cara_blank", "dev_buggy_masks", "gus_kernel_dies", "hal_tampered_tests"]
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
            assert gradebook.find_submission("attention", student).score == rows[student]["score"], student


def test_regrading_gives_the_same_scores_and_keeps_manual_grades(bundled, tmp_path):
    """Two independent gradings of the same submissions agree (on a copy of the graded class)."""
    graded, _, first = bundled
    course = copy_course(graded, tmp_path / "course")
    with Gradebook(course.db_url) as gradebook:
        grade = gradebook.find_grade(MANUAL, "attention", "attention", "ada_complete")
        grade.manual_score = 4.0
        gradebook.db.commit()
    regraded = ["ada_complete", "dev_buggy_masks", "gus_kernel_dies", "hal_tampered_tests"]
    run_grade_command(course, "--timeout", "10", *(f"--student={student}" for student in regraded))
    again = report_rows(course)
    assert sorted(again) == regraded
    assert again["ada_complete"]["cells"][MANUAL] == [4.0, 5.0]
    assert again["ada_complete"]["score"] == first["ada_complete"]["score"] + 4.0
    assert cell_scores(again, except_cell=MANUAL) == {
        student: cell_scores(first, except_cell=MANUAL)[student] for student in regraded
    }
    with Gradebook(course.db_url) as gradebook:
        assert len(gradebook.students) == 14
        assert len(gradebook.find_assignment("attention").submissions) == 14
        assert gradebook.find_grade(MANUAL, "attention", "attention", "ada_complete").manual_score == 4.0


def test_a_student_without_a_submission_folder_is_an_error_not_a_row(bundled, tmp_path, capsys):
    graded, _, _ = bundled
    course = copy_course(graded, tmp_path / "course")
    (Path(course.root) / "grades.csv").unlink()
    assert main(["grade", "--course", str(course.root), "--student", "zoe_not_enrolled"]) == 1
    error = capsys.readouterr().err
    assert "no submission from zoe_not_enrolled" in error and "submitted/<student>/" in error
    assert not (Path(course.root) / "grades.csv").exists()
    with Gradebook(course.db_url) as gradebook:
        assert "zoe_not_enrolled" not in {student.id for student in gradebook.students}


def feedback_page(course, student):
    """(the summary above the notebook, the notebook's cells) of a student's feedback, as text."""
    page = (Path(course.root) / "feedback" / student / "attention" / "attention.html").read_text()
    top, cells = re.split(r'<div[^>]* id="notebook"[^>]*>', page, maxsplit=1)
    return feedback_text_of(re.split(r"<body[^>]*>", top, maxsplit=1)[1]), feedback_text_of(cells)


def feedback_text_of(markup):
    markup = re.sub(r"<style.*?</style>", " ", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def test_feedback_starts_with_each_failed_check_and_its_message(bundled):
    course, _, _ = bundled
    rows = report_rows(course)  # as of the latest grading, whose feedback this is
    top, cells = feedback_page(course, "dev_buggy_masks")
    failed = [
        cell
        for cell, (score, points) in rows["dev_buggy_masks"]["cells"].items()
        if score < points and cell.startswith("test-")
    ]
    assert len(failed) == 3, failed
    assert f"To fix: {len(failed)} checks failed." in top
    to_fix = top.split("To fix:", 1)[1].split(PART_TITLES["softmax"], 1)[0]
    for name, message in [
        ("Part 1, scaled dot-product attention: mask (0 / 3)", "weights of blocked keys (mask False): 3 of 9 values"),
        ("Part 1, scaled dot-product attention: fully masked (0 / 2)", "weights of the query whose keys are all"),
        ("Part 2, masks: padding (0 / 3)", "create_padding_mask([3, 1], max_len=4)"),
    ]:
        assert name in to_fix and message in to_fix.split(name, 1)[1], name
    assert "Test cell" not in top and "weights of blocked keys (mask False)" in cells  # the cells follow


def test_feedback_gives_a_message_shared_by_consecutive_failures_once(bundled):
    course, _, _ = bundled
    rows = report_rows(course)
    top, _ = feedback_page(course, "ben_partial")  # Parts 3 to 7 not done: their tests raise
    failed = [
        cell
        for cell, (score, points) in rows["ben_partial"]["cells"].items()
        if score < points and cell.startswith("test-")
    ]
    assert f"To fix: {len(failed)} checks failed." in top
    # one message after the group, none between its names
    assert (
        "Part 4, multi-head attention: init (0 / 3) Part 4, multi-head attention: shapes (0 / 2) "
        "Part 4, multi-head attention: heads (0 / 5)"
    ) in top
    assert 0 < top.count("NotImplementedError: not implemented yet") < len(failed) / 4


def test_feedback_tracebacks_have_no_frame_of_the_graders_checks(bundled):
    course, _, _ = bundled
    files = sorted((Path(course.root) / "feedback").glob("*/attention/attention.html"))
    assert len(files) == len(report_rows(course))
    assert [p.parent.parent.name for p in files if re.search(r"kernel_checks|grading.remote", p.read_text())] == []


@pytest.mark.parametrize("student", ["dev_buggy_masks", "ada_complete"])
def test_feedback_gives_each_part_its_subtotal_and_names_its_checks(bundled, student):
    course, _, _ = bundled
    rows = report_rows(course)  # the regrade test may have given a written answer points since
    top, _ = feedback_page(course, student)
    parts = rows[student]["parts"]
    assert set(parts) == set(PART_TITLES)
    subtotals = [f"{PART_TITLES[part]} {score:g} / {points:g}" for part, (score, points) in parts.items()]
    positions = [top.index(subtotal) for subtotal in subtotals]
    assert positions == sorted(positions)  # in the notebook's order
    assert "worked example 2 / 2" in top and "padding errors" in top and "KV cache tradeoff" in top
    if student == "ada_complete":
        assert "Every automatic check passed." in top and "To fix" not in top


def test_a_students_autograded_notebook_exports_their_own_code(bundled, tmp_path):
    course, _, _ = bundled
    autograded = Path(course.root) / "autograded" / "dev_buggy_masks" / "attention" / "attention.ipynb"
    assert export(str(autograded), str(tmp_path)).endswith("attention.py")
    module = (tmp_path / "tinytorch" / "core" / "attention.py").read_text()
    assert "-np.inf, scores)" in module  # the student's inverted mask, as in their feedback
    source = nbformat.read(Path(course.root) / "source" / "attention" / "attention.ipynb", as_version=4)
    exported = [
        cell.source
        for cell in nbformat.read(autograded, as_version=4).cells
        if "export" in cell.metadata.get("tags", [])
    ]  # the student's code: no secret of ours
    assert not [
        line for line in hidden_lines([cell.source for cell in source.cells], public=exported) if line in module
    ]


def test_module14_builds_and_trains_on_a_students_autograded_export(bundled, tmp_path):
    """Kim's own solution, as graded: Module 14 in miniature (tests/module14.py) runs on its export."""
    course, _, _ = bundled
    autograded = Path(course.root) / "autograded" / "kim_own_solution" / "attention" / "attention.ipynb"
    export(str(autograded), str(tmp_path))
    run = run_module14(tmp_path)
    assert run.returncode == 0, run.stderr
    assert passed(run) == MODULE14_CHECKS
