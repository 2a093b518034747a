"""What the class report shows, read from what grading left behind (never from its internals).

* ``grading-report.json``: each student's scores by cell and part, problems met, seconds;
* the gradebook: due date, submission times, late penalties, manual grades still to give;
* ``release/``: the graded cells in notebook order, their points, which are graded by hand,
  and the solution cells as released (the stubs every student starts from);
* ``source/``: the instructor's own solution, when the course has it;
* ``autograded/<student>/``: the error output of each failed test cell, and the student's
  solution cells as graded.
"""

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from ..parts import part_of, part_title
from ..results import StudentResult, read_report


@dataclass
class GradedCell:
    grade_id: str
    part: str
    points: float
    manual: bool  # graded by hand in the formgrader (written answers)


@dataclass
class Student:
    """A student's row of grading-report.json and what the gradebook adds to it."""

    result: StudentResult  # its score is before the late penalty
    penalty: float = 0.0
    timestamp: datetime | None = None  # None when the submission had no timestamp
    hours_late: float = 0.0
    ungraded: list[str] = field(default_factory=list)  # cells still waiting for a manual grade

    @property
    def name(self) -> str:
        return self.result.student

    @property
    def score(self) -> float:
        """After the late penalty."""
        return max(0.0, self.result.score - self.penalty)


@dataclass
class Failure:
    student: str
    message: str


@dataclass
class ClassData:
    assignment: str
    cells: list[GradedCell]  # in notebook order
    students: list[Student]  # in the order of grading-report.json
    failures: dict[str, list[Failure]]  # grade id -> its failures
    solutions: dict[str, dict[str, str]]  # student -> {solution cell id: source as graded}
    release_solutions: dict[str, str]  # solution cell id -> source as released
    instructor_solutions: dict[str, str] | None = None  # cell id -> the instructor's code; None without source/
    duedate: datetime | None = None

    @property
    def parts(self) -> list[str]:
        """Parts in notebook order (from the grade ids, so new parts appear by themselves)."""
        return list(dict.fromkeys(cell.part for cell in self.cells))

    @property
    def part_titles(self) -> dict[str, str]:
        """Part -> the title students read for it (grading/parts.py)."""
        return {cell.part: part_title(cell.grade_id) for cell in self.cells}

    def manual_parts(self) -> list[str]:
        return [part for part in self.parts if all(c.manual for c in self.cells if c.part == part)]


def load(course: Course, report_path: str) -> ClassData:
    """Everything the class report needs about the course's assignment."""
    rows = read_report(report_path)
    release = nbformat.read(course.notebook_path(course.coursedir.release_directory), as_version=4)
    cells = [
        GradedCell(
            meta["grade_id"], part_of(meta["grade_id"]), float(meta.get("points", 0)), bool(meta.get("solution"))
        )
        for meta in (_nbgrader(cell) for cell in release.cells)
        if meta.get("grade")
    ]
    solution_ids = [_nbgrader(cell)["grade_id"] for cell in release.cells if _is_solution_code(cell)]
    data = ClassData(
        course.assignment,
        cells,
        [],
        defaultdict(list),
        {},
        {_nbgrader(cell)["grade_id"]: cell.source for cell in release.cells if _is_solution_code(cell)},
    )
    data.instructor_solutions = _instructor_solutions(course, solution_ids)
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        try:
            data.duedate = gradebook.find_assignment(course.assignment).duedate
        except MissingEntry:
            pass
        for row in rows:
            data.students.append(_student(row, gradebook, course.assignment))
    for student in data.students:
        path = course.notebook_path(course.coursedir.autograded_directory, student.name)
        if not os.path.exists(path):
            continue
        graded = nbformat.read(path, as_version=4)
        by_id = {_nbgrader(cell).get("grade_id"): cell for cell in graded.cells if _nbgrader(cell)}
        data.solutions[student.name] = {cell_id: by_id[cell_id].source for cell_id in solution_ids if cell_id in by_id}
        for graded_cell in cells:
            score = student.result.cells.get(graded_cell.grade_id)
            if graded_cell.manual or not score or score[0] >= score[1] or graded_cell.grade_id not in by_id:
                continue
            data.failures[graded_cell.grade_id].append(
                Failure(student.name, failure_message(by_id[graded_cell.grade_id]))
            )
    return data


_SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def _instructor_solutions(course: Course, solution_ids: list[str]) -> dict[str, str] | None:
    """{cell id: source} of the solution cells in source/, markers removed (None without source/)."""
    path = course.notebook_path(course.coursedir.source_directory)
    if not os.path.exists(path):
        return None
    source = nbformat.read(path, as_version=4)
    by_id = {_nbgrader(cell).get("grade_id"): cell for cell in source.cells if _is_solution_code(cell)}
    return {cell_id: _SOLUTION_MARKER.sub("", by_id[cell_id].source) for cell_id in solution_ids if cell_id in by_id}


def _student(result: StudentResult, gradebook: Gradebook, assignment: str) -> Student:
    student = Student(result)
    if not result.recorded:
        return student
    try:
        submission = gradebook.find_submission(assignment, result.student)
    except MissingEntry:
        return student
    student.penalty = submission.late_submission_penalty or 0.0
    student.timestamp = submission.timestamp
    student.hours_late = submission.total_seconds_late / 3600
    student.ungraded = [
        grade.name for notebook in submission.notebooks for grade in notebook.grades if grade.needs_manual_grade
    ]
    return student


def failure_message(cell: NotebookNode) -> str:
    """Why a test cell failed, in the words of its error output (the checks say what is wrong)."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}".strip()
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr" and output.text.strip():
            return "wrote to stderr: " + output.text.strip().splitlines()[0]
    return "no error output (the cell did not run to the end: see the student's problems)"


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def message_kind(message: str) -> str:
    """A failure message with its numbers blanked: the same mistake with other values."""
    return _NUMBER.sub("#", message)


def _nbgrader(cell: NotebookNode) -> dict[str, Any]:
    return cell.metadata.get("nbgrader", {})


def _is_solution_code(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and bool(_nbgrader(cell).get("solution")) and "grade_id" in _nbgrader(cell)
