"""Grades for Canvas: the gradebook as a file for Canvas's Gradebook > Import.

Canvas imports the CSV its own gradebook export writes ("How do I import grades in the
Gradebook?", Instructure's Canvas Instructor Guide): the columns ``Student, ID, SIS User ID,
SIS Login ID, Section`` identify the student, one column per assignment holds the score and is
titled ``Name (canvas assignment id)`` to update an existing assignment (a title without an id
creates a new assignment), and the row under the header, ``Points Possible``, gives each
assignment's points. Canvas matches rows by ID, SIS User ID or SIS Login ID, which nbgrader does
not know: a roster maps nbgrader's student ids to them.

The roster is a CSV with a column ``nbgrader_id`` next to Canvas's five columns (the easiest
way to make one: export the gradebook from Canvas, keep its first five columns, add
``nbgrader_id``). Students graded here but missing from the roster are left out and reported;
students in the roster without a submission get an empty cell, which Canvas leaves ungraded.

    nbgrader export --exporter=grading.canvas.CanvasExportPlugin [--to canvas-grades.csv]
"""

import csv
import os

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, List, Unicode

from .course import Course

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MATCHING = ["ID", "SIS User ID", "SIS Login ID"]  # Canvas needs one of them to find the student
POINTS_POSSIBLE = "Points Possible"
ROSTER_ID = "nbgrader_id"
DEFAULT_FILE = "canvas-grades.csv"


class RosterError(ValueError):
    """The roster cannot be used (the message says where and why)."""


class CanvasExportPlugin(ExportPlugin):
    """Export scores (late penalties applied) as a Canvas gradebook import CSV."""

    roster = Unicode(
        "roster.csv",
        help="CSV mapping nbgrader student ids (column nbgrader_id) to "
        "Canvas's Student, ID, SIS User ID, SIS Login ID, Section",
    ).tag(config=True)
    assignment_columns = Dict(
        value_trait=Unicode(),
        help=(
            "Canvas column title per nbgrader assignment, e.g. {'attention': 'Module 13: Attention (4242)'}; "
            "by default the assignment's name (Canvas then creates an assignment of that name)"
        ),
    ).tag(config=True)
    unmatched = List(Unicode(), help="nbgrader students left out: not in the roster").tag(config=False)

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or DEFAULT_FILE
        roster = read_roster(self.roster)
        assignments = [a for a in gradebook.assignments if not self.assignment or a.name in self.assignment]
        wanted = [str(s) for s in self.student]
        graded = {s.id for s in gradebook.students if not wanted or s.id in wanted}
        self.unmatched = sorted(graded - set(roster))
        if self.unmatched:
            self.log.warning("not in the roster %s, left out of %s: %s", self.roster, dest, ", ".join(self.unmatched))
        with open(dest, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CANVAS_COLUMNS + [self.assignment_columns.get(a.name, a.name) for a in assignments])
            writer.writerow([POINTS_POSSIBLE, "", "", "", ""] + [_number(a.max_score) for a in assignments])
            for student_id, canvas in roster.items():
                if wanted and student_id not in wanted:
                    continue
                writer.writerow(
                    [canvas[column] for column in CANVAS_COLUMNS]
                    + [_score(gradebook, a.name, student_id) for a in assignments]
                )
        self.log.info("wrote %s", dest)


def read_roster(path: str) -> dict[str, dict[str, str]]:
    """nbgrader id -> {Canvas column: value}, in the roster's order. Raises RosterError."""
    if not os.path.exists(path):
        raise RosterError(f"no roster at {path}: a CSV with the columns {ROSTER_ID}, {', '.join(CANVAS_COLUMNS)}")
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: Excel's byte-order mark
        reader = csv.DictReader(handle)
        missing = [c for c in [ROSTER_ID] + CANVAS_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RosterError(f"{path}: no column {', '.join(missing)} (it has: {', '.join(reader.fieldnames or [])})")
        roster = {}
        for line, row in enumerate(reader, start=2):
            if row["Student"].strip() == POINTS_POSSIBLE or not any((v or "").strip() for v in row.values()):
                continue  # Canvas's own export has this row; blank lines say nothing
            student_id = row[ROSTER_ID].strip()
            if not student_id:
                raise RosterError(f"{path}, line {line}: {row['Student']!r} has no {ROSTER_ID}")
            if student_id in roster:
                raise RosterError(f"{path}, line {line}: {student_id} is in the roster twice")
            if not any(row[c].strip() for c in MATCHING):
                raise RosterError(
                    f"{path}, line {line}: {student_id} has none of {', '.join(MATCHING)}, "
                    "so Canvas could not tell who it is"
                )
            roster[student_id] = {column: row[column].strip() for column in CANVAS_COLUMNS}
    return roster


def export_canvas_grades(course: Course, to: str = DEFAULT_FILE) -> tuple[str | None, str | None]:
    """The grade command's Canvas export: (path, None), (path, who was left out) or (None, why not)."""
    plugin = CanvasExportPlugin(config=course.config, log=course.log)
    plugin.roster = os.path.join(course.root, plugin.roster)
    plugin.to = os.path.join(course.root, to)
    if not os.path.exists(plugin.roster):
        return None, f"no {os.path.relpath(plugin.roster, course.root)} (see the README: grades for Canvas)"
    try:
        with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
            plugin.export(gradebook)
    except RosterError as error:
        return None, str(error)
    return plugin.to, (f"not in the roster, left out: {', '.join(plugin.unmatched)}" if plugin.unmatched else None)


def _score(gradebook: Gradebook, assignment: str, student_id: str) -> str:
    try:
        submission = gradebook.find_submission(assignment, student_id)
    except MissingEntry:
        return ""
    return _number(max(0.0, submission.score - (submission.late_submission_penalty or 0.0)))


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
