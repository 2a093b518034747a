"""The course's gradebook has one writer: this process, through one session, in batches.

A worker runs nbgrader's autograde in a gradebook of its own and sends back what nbgrader
stored there (grading.worker.Outcome). The Recorder copies the autograder's part of it into
the course's gradebook: each grade's auto_score and needs_manual_grade, each comment's
auto_comment, the late penalty and the timestamp. Manual scores, extra credit and comments
entered in the formgrader are never written, so they stay; the worker was given them
(``prior``) so that nbgrader's needs_manual_grade, late penalty and feedback took them into
account, as they would have in the course's gradebook.

The Recorder loads the assignment's submissions once, keeps one session for the whole run
and commits every ``batch`` submissions (or ``seconds``) and when it closes. A run killed in
between loses only the uncommitted submissions, which the next run grades again: a student
has either their previous row or a complete new one, never half of one.
"""

import time
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from nbgrader.api import Comment, Grade, Gradebook, Student, SubmittedAssignment, SubmittedNotebook
from sqlalchemy.orm import selectinload

from .course import Course

if TYPE_CHECKING:  # grading.worker imports this module for Prior and StoredGrade
    from .worker import Outcome


class Prior(TypedDict):
    """What the course's gradebook holds for a student that autograding must respect: the
    worker's gradebook is seeded with it (Recorder.prior, grading.worker)."""

    extension: timedelta | None
    grades: dict[str, tuple[float | None, float | None]]  # grade id -> (manual score, extra credit)
    comments: dict[str, str]  # cell id -> manual comment


class StoredGrade(TypedDict):
    """A grade as the worker's nbgrader stored it (Outcome.grades: grade id -> StoredGrade)."""

    auto_score: float | None
    needs_manual_grade: bool
    score: float
    max_score: float


class Recorder:
    def __init__(self, course: Course, batch: int = 50, seconds: float = 5.0) -> None:
        self.course, self.batch, self.seconds = course, batch, seconds

    def __enter__(self) -> "Recorder":
        self.gradebook = Gradebook(self.course.db_url, self.course.coursedir.course_id)
        session = self.gradebook.db()
        # Nothing else writes these rows during the run: what is loaded stays true after a commit.
        session.expire_on_commit = False
        self.assignment = self.gradebook.find_assignment(self.course.assignment)
        self.names = {
            cell.id: cell.name
            for notebook in self.assignment.notebooks
            for cells in (notebook.grade_cells, notebook.solution_cells, notebook.task_cells)
            for cell in cells
        }
        self.students = {student.id: student for student in self.gradebook.students}
        notebooks = selectinload(SubmittedAssignment.notebooks)
        self.submissions = {
            submission.student_id: submission
            for submission in session.query(SubmittedAssignment)
            .filter(SubmittedAssignment.assignment_id == self.assignment.id)
            .options(
                notebooks.selectinload(SubmittedNotebook.grades), notebooks.selectinload(SubmittedNotebook.comments)
            )
        }
        self.pending, self.committed_at = 0, time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.commit()
        finally:
            self.gradebook.close()

    def prior(self, student: str) -> Prior | None:
        """What the gradebook holds for the student that autograding must respect, or None."""
        submission = self.submissions.get(student)
        if submission is None:
            return None
        grades = {
            self.names[grade.cell_id]: (grade.manual_score, grade.extra_credit)
            for notebook in submission.notebooks
            for grade in notebook.grades
            if grade.manual_score is not None or grade.extra_credit is not None
        }
        comments = {
            self.names[comment.cell_id]: comment.manual_comment
            for notebook in submission.notebooks
            for comment in notebook.comments
            if comment.manual_comment is not None
        }
        return Prior(extension=submission.extension, grades=grades, comments=comments)

    def has_row(self, student: str) -> bool:
        return student in self.submissions

    def record(self, outcome: "Outcome") -> None:
        """Store what the worker's nbgrader gave a submission."""
        submission = self.submissions.get(outcome.student) or self._new_submission(outcome.student)
        if outcome.timestamp is not None:
            submission.timestamp = outcome.timestamp
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                stored = outcome.grades[self.names[grade.cell_id]]
                grade.auto_score, grade.needs_manual_grade = stored["auto_score"], stored["needs_manual_grade"]
            for comment in notebook.comments:
                comment.auto_comment = outcome.comments[self.names[comment.cell_id]]
            notebook.late_submission_penalty = outcome.late_penalty
        self._written()

    def record_zeros(self, student: str) -> None:
        """A row for a student who could not be graded at all: 0 everywhere, to be looked at."""
        for notebook in self._new_submission(student).notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0.0, True
        self._written()

    def commit(self) -> None:
        self.gradebook.db.commit()
        self.pending, self.committed_at = 0, time.monotonic()

    def _written(self) -> None:
        self.pending += 1
        if self.pending >= self.batch or time.monotonic() - self.committed_at >= self.seconds:
            self.commit()

    def _new_submission(self, student_id: str) -> SubmittedAssignment:
        """A submission with an empty grade and comment for every cell: Gradebook.add_submission
        without its commit."""
        student = self.students.get(student_id)
        if student is None:
            student = self.students[student_id] = Student(id=student_id)
            self.gradebook.db.add(student)
        submission = SubmittedAssignment(assignment=self.assignment, student=student)
        for notebook in self.assignment.notebooks:
            submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
            for cell in notebook.grade_cells:
                Grade(cell_id=cell.id, notebook=submitted)
            for cell in notebook.solution_cells:
                Comment(cell_id=cell.id, notebook=submitted)
            for cell in notebook.task_cells:
                Comment(cell_id=cell.id, notebook=submitted)
                Grade(cell_id=cell.id, notebook=submitted)
        self.gradebook.db.add(submission)
        self.submissions[student_id] = submission
        return submission
