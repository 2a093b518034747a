"""Grades leave for Canvas through `nbgrader export`, and late submissions pay nbgrader's penalty.

The gradebook here is filled through nbgrader's API (no kernel runs): scores, a late
submission, a student without a submission and one missing from the roster.
"""

import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from grading.canvas import export_canvas_grades
from grading.course import Course
from grading.due_dates import import_due_dates
from grading.late_penalty import PercentPerDayLate
from grading.pipeline import PipelineError

# Canvas's gradebook import columns, in the order of Canvas's own export ("How do I import grades
# in the Gradebook?", Canvas Instructor Guide; Course#gradebook_to_csv in canvas-lms), then one
# column per assignment, then a "Points Possible" row under the header.
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ROSTER = """nbgrader_id,Student,ID,SIS User ID,SIS Login ID,Section
alice,"Liddell, Alice",1001,S1,aliddell,Section A
bob,"Builder, Bob",1002,S2,bbuilder,Section A
carol,"Carroll, Carol",1003,,ccarroll,Section B
"""
DUE = "2026-11-20 18:00:00 UTC"


@pytest.fixture(scope="module")
def course(course_factory):
    """alice on time, bob 25 hours late, carol without a submission, dave not on the roster."""
    course = course_factory("canvas")
    root = Path(course.root)
    (root / "roster.csv").write_text(ROSTER)
    (root / "assignments.csv").write_text(f"name,duedate\nattention,{DUE}\n")
    import_due_dates(course)
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        for student, submitted in (
            ("alice", "2026-11-20 17:59:00"),
            ("bob", "2026-11-21 19:00:00"),
            ("dave", "2026-11-20 10:00:00"),
        ):
            gradebook.update_or_create_student(student)
            gradebook.add_submission("attention", student, timestamp=datetime.fromisoformat(submitted))
            grade = gradebook.find_grade("test-mha-heads", "attention", "attention", student)
            grade.auto_score = 5.0
        gradebook.update_or_create_student("carol")
        late = gradebook.find_submission_notebook("attention", "attention", "bob")
        late.late_submission_penalty = PercentPerDayLate().late_submission_penalty(
            "bob", late.score, gradebook.find_submission("attention", "bob").total_seconds_late
        )
        gradebook.db.commit()
    return course


def nbgrader_export(course, *args):
    """The real `nbgrader export` command in the course folder; returns its output."""
    done = subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "export", *args],
        cwd=course.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_nbgrader_export_writes_canvas_gradebook_import_csv(course):
    output = nbgrader_export(course, "--exporter=grading.canvas.CanvasExportPlugin", "--to=canvas.csv")
    with open(Path(course.root) / "canvas.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, points, students = rows[0], rows[1], rows[2:]
    assert header == CANVAS_HEADER + ["Module 13: Attention"]  # nbgrader_config.py's column title
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        possible = gradebook.find_assignment("attention").max_score
    assert points[0].strip() == "Points Possible" and points[1:5] == ["", "", "", ""] and float(points[5]) == possible
    by_login = {row[3]: row for row in students}
    assert [row[0] for row in students] == ["Liddell, Alice", "Builder, Bob", "Carroll, Carol"]
    assert by_login["aliddell"][1:5] == ["1001", "S1", "aliddell", "Section A"]
    assert float(by_login["aliddell"][5]) == 5.0
    assert float(by_login["bbuilder"][5]) == 4.0  # 5 points less 20%: two started days late
    assert by_login["ccarroll"][5] == ""  # no submission: Canvas leaves the grade alone
    assert all(len(row) == len(header) for row in rows)
    assert "dave" in output and "not in the roster" in output  # graded, but Canvas would not know who


def test_the_grade_command_export_matches_and_reports_who_is_left_out(course):
    path, note = export_canvas_grades(course)
    assert Path(path) == Path(course.root) / "canvas-grades.csv" and "dave" in note
    assert (Path(course.root) / "canvas-grades.csv").read_text().splitlines()[0].startswith(",".join(CANVAS_HEADER))


@pytest.mark.parametrize(
    "roster, says",
    [
        ("nbgrader_id,Student,ID,Section\nalice,A,1,S\n", "no column SIS User ID, SIS Login ID"),
        ("nbgrader_id,Student,ID,SIS User ID,SIS Login ID,Section\nalice,A,,,,S\n", "line 2: alice has none of"),
        ("nbgrader_id,Student,ID,SIS User ID,SIS Login ID,Section\nalice,A,1,,,S\nalice,B,2,,,S\n", "twice"),
    ],
)
def test_a_bad_roster_gets_a_clear_message_and_no_file(course, tmp_path, roster, says):
    (tmp_path / "roster.csv").write_text(roster)
    with_roster = Course(course.root, config=Config({"CanvasExportPlugin": {"roster": str(tmp_path / "roster.csv")}}))
    path, why = export_canvas_grades(with_roster, to=str(tmp_path / "out.csv"))
    assert path is None and says in why
    assert not (tmp_path / "out.csv").exists()


def test_due_dates_come_from_assignments_csv(course, tmp_path):
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        assert gradebook.find_assignment("attention").duedate == datetime(2026, 11, 20, 18, 0)
    (tmp_path / "assignments.csv").write_text("name,duedate\nattention,next friday\n")
    with pytest.raises(PipelineError, match="line 2: 'next friday' is not a date"):
        import_due_dates(course, str(tmp_path / "assignments.csv"))


@pytest.mark.parametrize("seconds_late, penalty", [(1, 7.8), (24 * 3600, 7.8), (25.5 * 3600, 15.6), (40 * 86400, 78)])
def test_late_penalty_is_a_tenth_of_the_score_per_started_day(seconds_late, penalty):
    assert PercentPerDayLate().late_submission_penalty("s", 78.0, seconds_late) == pytest.approx(penalty)
