"""Grade a class: from submitted/ to autograded/, feedback/ and grades.csv.

The steps, in order (each one is nbgrader's own machinery where nbgrader has it):

1. release     grading.release: the committed release/ is what is graded against; the
               gradebook holds its tests (stored from source/ only when source/ still
               generates that release). Done by grading.run before this module.
2. snapshot    the release, the tests the gradebook stores and the course's configuration,
               read once as plain data and set up on every dask worker (grading.snapshot).
3. grade       on the workers, in parallel, one task per submission (grading.worker):
               intake, then nbgrader autograde (sanitize, GuardedExecute, scoring, late
               penalty) and generate_feedback, in a scratch course of the worker's own.
4. record      here, as results arrive: the files into autograded/ and feedback/, the scores
               into the gradebook through one session with batched commits (grading.record).
               The gradebook has exactly one writer, so no grade is lost to a locked database.
5. export      nbgrader's CSV export (export_grades); grading.run writes the other outputs.

A student's problem never stops the run: it becomes events in the report and zeros in the
gradebook. Only a failure of the pipeline itself (no release, a broken gradebook) raises.
"""

import itertools
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from dask.distributed import Client, Future, as_completed
from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin
from traitlets.config import Config

from .cluster import dask_client
from .course import Course
from .errors import PipelineError
from .events import GRADER, event
from .parts import part_of
from .record import Recorder
from .results import StudentResult
from .snapshot import take
from .summary import progress_lines
from .worker import AssignmentPlugin, Outcome, grade_submission

__all__ = [
    "ExecutionSettings",
    "export_grades",
    "grade_class",
    "students_to_grade",
]


@dataclass
class ExecutionSettings:
    """Limits for running one submission (see GuardedExecute); None keeps the course's configuration."""

    timeout: int | None = None  # seconds per cell
    budget: float | None = None  # seconds per notebook
    memory_limit: int | None = None  # bytes per kernel
    sandbox: bool | None = None  # False: the student's kernels run unsandboxed (the report says so)

    def config(self) -> Config:
        """These settings as configuration, to merge over the course's."""
        return Config({"GuardedExecute": {name: value for name, value in asdict(self).items() if value is not None}})


def grade_class(
    course: Course,
    *,
    students: list[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Client | None = None,
    settings: ExecutionSettings | None = None,
    feedback: bool = True,
    progress: Callable[[str], object] = print,
) -> list[StudentResult]:
    """Grade ``students`` (default: every folder under submitted/); return a StudentResult each.

    The submissions are graded on ``client``'s dask cluster if given, else on the one whose
    scheduler is at ``scheduler``, else on a LocalCluster of ``workers`` processes (default:
    one per core) started for this call. With ``feedback``, each student's feedback HTML is
    written as soon as their scores are recorded. ``settings`` (ExecutionSettings) override
    the course's configuration.
    """
    settings = settings or ExecutionSettings()
    students = students_to_grade(course, students)
    if not students:
        progress("no submissions found under submitted/")
        return []
    plugin = AssignmentPlugin(take(course, settings.config()))
    results: dict[str, StudentResult] = {}
    start = time.monotonic()
    with dask_client(client, workers, scheduler) as client, Recorder(course) as recorder:
        try:
            _set_up(client, plugin)
            for outcome in _graded(client, plugin.name, course, students, recorder, feedback):
                result = results[outcome.student] = _record(course, recorder, outcome)
                for line in progress_lines(len(results), len(students), result, start, results):
                    progress(line)
        finally:
            client.unregister_worker_plugin(plugin.name)
    return [results[student] for student in students]


# -- steps ----------------------------------------------------------------------------------


def students_to_grade(course: Course, students: list[str] | None = None) -> list[str]:
    """The students asked for, each of whom must have a folder under submitted/ (PipelineError
    if not: a typo must not become a row of zeros); default: all who have one."""
    found = course.students()
    if students is None:
        return found
    missing = [student for student in students if student not in found]
    if missing:
        folder = course.coursedir.submitted_directory
        raise PipelineError(
            f"no submission from {', '.join(missing)}: there is no folder {folder}/<student>/ "
            f"for {'them' if len(missing) > 1 else 'it'} (students with one: "
            f"{', '.join(found[:10]) or 'none'}{' ...' if len(found) > 10 else ''})"
        )
    return list(dict.fromkeys(students))


def _set_up(client: Client, plugin: AssignmentPlugin) -> None:
    """Give every worker, and every worker that joins later, the assignment."""
    try:
        client.register_plugin(plugin)
    except Exception as error:  # the plugin's set-up failed on a worker
        raise PipelineError(
            f"the dask workers could not set up the assignment: {type(error).__name__}: {error}"
        ) from error


def _graded(
    client: Client, plugin_name: str, course: Course, students: list[str], recorder: Recorder, feedback: bool
) -> Iterator[Outcome]:
    """Outcomes in the order the workers finish. A few submissions per worker thread are in
    flight at any time, so the class is never all in memory and the workers never wait."""
    queue = iter(students)
    futures: dict[Future, str] = {}
    pending = as_completed()

    def submit(student: str) -> None:
        future = client.submit(
            grade_submission,
            plugin_name,
            student,
            _submission_files(course, student),
            recorder.prior(student),
            feedback,
            key=f"grade-{student}-{uuid.uuid4().hex}",
            pure=False,
        )
        futures[future] = student
        pending.add(future)

    for student in itertools.islice(queue, max(16, 2 * sum(client.nthreads().values()))):
        submit(student)
    for future in pending:
        yield _outcome(future, futures.pop(future))
        for student in itertools.islice(queue, 1):
            submit(student)


def _submission_files(course: Course, student: str) -> dict[str, bytes] | None:
    """The files of the student's submission folder, or None if there is no such folder."""
    folder = course.path(course.coursedir.submitted_directory, student)
    if not os.path.isdir(folder):
        return None
    files = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(parent, name), "rb") as handle:
                files[os.path.relpath(os.path.join(parent, name), folder)] = handle.read()
    return files


def _outcome(future: Future, student: str) -> Outcome:
    try:
        return future.result()
    except Exception as error:  # the workers running it died, or the connection to them did
        return Outcome(
            student,
            error=f"{type(error).__name__}: {error}",
            events=[event("notebook", GRADER, f"not graded: {type(error).__name__}: {error}")],
        )


def _record(course: Course, recorder: Recorder, outcome: Outcome) -> StudentResult:
    """Files first, then the gradebook: a run killed in between leaves files newer than the
    gradebook's row, which the next run rewrites along with the row."""
    if outcome.log:
        course.log.info("%s, graded on a worker:\n%s", outcome.student, outcome.log.rstrip())
    result = StudentResult(
        outcome.student,
        score=outcome.score,
        max_score=outcome.max_score,
        events=outcome.events,
        seconds=outcome.seconds,
    )
    if outcome.error is not None:
        course.log.error("%s could not be graded: %s", outcome.student, outcome.error)
        if not recorder.has_row(outcome.student):  # a row with zeros, marked for manual grading
            recorder.record_zeros(outcome.student)
        return result
    _replace_folder(course.path(course.coursedir.autograded_directory, outcome.student), outcome.autograded)
    if outcome.feedback:
        _replace_folder(course.path(course.coursedir.feedback_directory, outcome.student), outcome.feedback)
    recorder.record(outcome)
    result.recorded = True
    for name, grade in outcome.grades.items():
        result.cells[name] = [grade["score"] or 0.0, grade["max_score"]]
        totals = result.parts.setdefault(part_of(name), [0.0, 0.0])
        totals[0] += grade["score"] or 0.0
        totals[1] += grade["max_score"]
    return result


def _replace_folder(folder: str, files: dict[str, tuple[bytes, int]]) -> None:
    """Put ``files`` ({path: (bytes, mode)}) in place of the folder's contents, swapping whole folders."""
    new, old = folder + ".new", folder + ".old"
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    for name, (content, mode) in files.items():
        path = os.path.join(new, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
        os.chmod(path, mode)
    os.makedirs(new, exist_ok=True)
    if os.path.exists(folder):
        os.rename(folder, old)
    os.rename(new, folder)
    shutil.rmtree(old, ignore_errors=True)


def export_grades(course: Course, path: str | os.PathLike) -> None:
    """nbgrader's CSV export of the gradebook (one row per student)."""
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        CsvExportPlugin(to=path).export(gradebook)
