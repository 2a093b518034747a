"""What a dask worker does: grade one submission, from plain data to plain data.

The coordinator (grading.pipeline) gives every worker the assignment once, as an
AssignmentPlugin (a dask WorkerPlugin, also set up on workers that join later): on each
worker it puts down the snapshot's gradebook, which holds only the assignment. A task,
grade_submission, then grades one submission in a scratch course folder of its own, with
nbgrader's own commands and the course's configuration:

    submitted/           the files as handed in, sent by the coordinator
    .grading/submitted/  intake's readable copy (grading.intake)
    autograded/          nbgrader autograde: sanitize, execute (GuardedExecute), score, late penalty
    feedback/            nbgrader generate_feedback

and returns an Outcome: the files of autograded/ and feedback/, the scores nbgrader gave,
the events. Nothing here touches the course's folder or gradebook, so a worker can run on
any machine with this package installed, and a task that dies halfway leaves no trace
(dask runs it again on another worker).
"""

import copy
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import nbformat
from distributed import Worker, WorkerPlugin, get_worker
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde, GenerateFeedback
from sqlalchemy.exc import SAWarning

from . import sandbox
from .course import STAGED_SUBMITTED, Course, put_python_scripts_on_path
from .events import FEEDBACK, GRADER, Event, event, events_of
from .intake import stage_blank, stage_submission
from .record import Prior, StoredGrade
from .sandbox import SandboxUnavailable
from .snapshot import AssignmentSnapshot

Files = dict[str, tuple[bytes, int]]  # path -> (content, mode)
ATTEMPTS = 2  # a kernel can fail to start when two start at once (port race): try again


@dataclass
class Outcome:
    """A graded submission, as a worker hands it back. ``error`` is set when it could not be
    graded at all; then there are no files and no scores."""

    student: str
    timestamp: datetime | None = None
    grades: dict[str, StoredGrade] = field(default_factory=dict)  # grade id -> what nbgrader stored
    comments: dict[str, str] = field(default_factory=dict)  # cell id -> auto_comment
    late_penalty: float | None = None
    score: float = 0.0
    max_score: float = 0.0
    autograded: Files = field(default_factory=dict)  # path in autograded/<student>/<assignment>/
    feedback: Files = field(default_factory=dict)  # the same for feedback/<student>/<assignment>/
    events: list[Event] = field(default_factory=list)
    log: str = ""  # nbgrader's log of this submission
    seconds: float = 0.0
    error: str | None = None


class AssignmentPlugin(WorkerPlugin):
    """The assignment being graded, set up once on each worker."""

    def __init__(self, snapshot: AssignmentSnapshot) -> None:
        self.snapshot = snapshot
        self.name = f"grading-{uuid.uuid4().hex}"
        self.ready = False
        self.folder: str | None = None  # until set up

    def setup(self, worker: Worker) -> None:
        put_python_scripts_on_path()  # a worker started by `dask worker` may not have them
        settings = self.snapshot.config.GuardedExecute
        if settings.get("sandbox", True) and (problem := sandbox.available(settings.get("bwrap", ""))):
            raise SandboxUnavailable(f"no sandbox for the students' kernels on {worker.address}: {problem}")
        self.folder = tempfile.mkdtemp(prefix="grading-", dir=worker.local_directory)
        self.gradebook = os.path.join(self.folder, "gradebook.db")
        with open(self.gradebook, "wb") as handle:
            handle.write(self.snapshot.gradebook)
        self.release = nbformat.reads(self.snapshot.release_notebook.decode("utf-8"), as_version=4)
        # nbgrader's commands change the working directory and the environment of the whole
        # process: a worker with several threads grades one submission at a time.
        self.lock = threading.Lock()
        self.log = logging.getLogger(f"grading.worker.{self.name}")
        self.log.setLevel(logging.INFO)
        self.log.propagate = False
        self.ready = True

    def teardown(self, worker: Worker) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def grade_submission(
    plugin_name: str, student: str, files: dict[str, bytes] | None, prior: Prior | None = None, feedback: bool = True
) -> Outcome:
    """Grade one student's submission on this worker; never raises for the student's sake.

    ``files`` maps paths (relative to the submission folder) to bytes; ``prior`` is what the
    course's gradebook already holds for the student (manual scores, extension: see
    grading.record), so that nbgrader scores, penalises and writes feedback as it would there.
    """
    plugin = cast(AssignmentPlugin, get_worker().plugins[plugin_name])
    if not plugin.ready:
        raise RuntimeError(f"the assignment could not be set up on this worker ({get_worker().address}): see its log")
    start = time.monotonic()
    with plugin.lock, warnings.catch_warnings():
        # nbgrader 0.9.6's gradebook code triggers SQLAlchemy 2 autoflush warnings on every
        # submission; they say nothing about the grades and would fill the worker's log.
        warnings.filterwarnings("ignore", category=SAWarning)
        scratch = tempfile.mkdtemp(prefix="submission-", dir=plugin.folder)
        try:
            outcome = _grade(_scratch_course(plugin, scratch), plugin.release, student, files, prior, feedback)
        except Exception:  # the grader's own failure: the coordinator gives a row with the reason
            error = traceback.format_exc()
            outcome = Outcome(
                student,
                error=error,
                events=[event("notebook", GRADER, error.strip().splitlines()[-1])],
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    outcome.seconds = time.monotonic() - start
    return outcome


def _scratch_course(plugin: AssignmentPlugin, root: str) -> Course:
    """A course folder with the release, the assignment's gradebook and the course's settings."""
    snapshot = plugin.snapshot
    config = copy.deepcopy(snapshot.config)  # the snapshot serves every task on this worker
    config.CourseDirectory.db_url = "sqlite:///" + os.path.join(root, "gradebook.db")
    shutil.copyfile(plugin.gradebook, os.path.join(root, "gradebook.db"))
    course = Course(root, snapshot.assignment, config=config, log=plugin.log)
    _write(
        course.path(course.coursedir.release_directory),
        {snapshot.notebook + ".ipynb": snapshot.release_notebook, **snapshot.release_files},
    )
    # nbgrader autograde copies the assignment's other files over the student's, from source/:
    # here they come from the release, which is what the students were given.
    _write(course.path(course.coursedir.source_directory), snapshot.release_files)
    return course


def _grade(
    course: Course,
    release: NotebookNode,
    student: str,
    files: dict[str, bytes] | None,
    prior: Prior | None,
    feedback: bool,
) -> Outcome:
    if files is not None:  # None: no folder for the assignment (intake says so)
        _write(course.path(course.coursedir.submitted_directory, student), files)
    if prior:
        _seed(course, student, prior)
    stage_submission(course, student, release)
    log: list[dict[str, Any]] = []  # nbgrader's result of each command run
    graded = _autograde(course, student, log)
    if not graded:
        reason = _last_error_line(log[-1])
        stage_blank(course, student, [f"nbgrader could not grade it ({reason})"], release)
        graded = _autograde(course, student, log)
    if not graded:
        return Outcome(
            student,
            log="".join(entry.get("log", "") for entry in log),
            error=log[-1].get("error"),
            events=[event("notebook", GRADER, _last_error_line(log[-1]))],
        )
    autograded = course.path(course.coursedir.autograded_directory, student)
    nb = nbformat.read(os.path.join(autograded, course.notebook + ".ipynb"), as_version=4)
    outcome = Outcome(student, autograded=_read(autograded), events=events_of(nb))
    if feedback:
        result = course.run(GenerateFeedback, student)
        log.append(result)
        if result["success"]:
            outcome.feedback = _read(course.path(course.coursedir.feedback_directory, student))
        else:
            outcome.events.append(event("notebook", FEEDBACK, "no feedback: " + _last_error_line(result)))
    _read_scores(
        course,
        student,
        outcome,
        [cell.metadata.nbgrader["grade_id"] for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade")],
    )
    outcome.log = "".join(entry.get("log", "") for entry in log)
    return outcome


def _autograde(course: Course, student: str, log: list[dict[str, Any]]) -> bool:
    """nbgrader autograde of the staged submission, tried ATTEMPTS times; whether it worked."""
    for _ in range(ATTEMPTS):
        result = course.run(Autograde, student, submitted_directory=STAGED_SUBMITTED)
        log.append(result)
        if result["success"]:
            return True
    return False


def _seed(course: Course, student: str, prior: Prior) -> None:
    """Give the student, in this worker's gradebook, what the course's gradebook holds."""
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(course.assignment, student)
        submission.extension = prior["extension"]
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.manual_score, grade.extra_credit = prior["grades"].get(grade.name, (None, None))
            for comment in notebook.comments:
                comment.manual_comment = prior["comments"].get(comment.name)
        gradebook.db.commit()


def _read_scores(course: Course, student: str, outcome: Outcome, order: list[str]) -> None:
    """What nbgrader stored for the submission; grades in the notebook's order of cells."""
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        submission = gradebook.find_submission(course.assignment, student)
        outcome.timestamp, outcome.score, outcome.max_score = (
            submission.timestamp,
            submission.score,
            submission.max_score,
        )
        for notebook in submission.notebooks:
            outcome.late_penalty = notebook.late_submission_penalty
            for grade in notebook.grades:
                outcome.grades[grade.name] = StoredGrade(
                    auto_score=grade.auto_score,
                    needs_manual_grade=grade.needs_manual_grade,
                    score=grade.score,
                    max_score=grade.max_score,
                )
            for comment in notebook.comments:
                outcome.comments[comment.name] = comment.auto_comment
    position = {name: index for index, name in enumerate(order)}
    outcome.grades = dict(sorted(outcome.grades.items(), key=lambda item: position.get(item[0], len(order))))


def _write(folder: str, files: dict[str, bytes]) -> None:
    os.makedirs(folder, exist_ok=True)
    for name, content in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


def _read(folder: str) -> Files:
    files = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, folder)] = (handle.read(), os.stat(path).st_mode & 0o777)
    return files


def _last_error_line(result: dict[str, Any]) -> str:
    """The most specific error message of a failed nbgrader run (its log holds the traceback)."""
    lines = (result.get("log", "") + "\n" + result.get("error", "")).splitlines()
    errors = [
        line.strip()
        for line in lines
        if re.match(r"\s*[\w.]+(Error|Exception):", line) and "NbGraderException" not in line
    ]
    return (errors[-1] if errors else "unknown error, see .grading/grading.log")[:300]
