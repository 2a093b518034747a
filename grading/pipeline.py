"""Grade a class: from submitted/ to autograded/, feedback/ and grades.csv.

The steps, in order (each one is nbgrader's own machinery where nbgrader has it):

1. release     grading.release: the committed release/ is what is graded against; the
               gradebook holds its tests (stored from source/ only when source/ still
               generates that release). Done by the ``grade`` command before this module.
2. snapshot    the release, the tests the gradebook stores and the course's configuration,
               read once as plain data and set up on every dask worker (grading.snapshot).
3. grade       on the workers, in parallel, one task per submission (grading.worker):
               intake, then nbgrader autograde (sanitize, GuardedExecute, scoring, late
               penalty) and generate_feedback, in a scratch course of the worker's own.
4. record      here, as results arrive: the files into autograded/ and feedback/, the scores
               into the gradebook through one session with batched commits (grading.record).
               The gradebook has exactly one writer, so no grade is lost to a locked database.
5. export      nbgrader's CSV export, then a per-part summary and the report.

A student's problem never stops the run: it becomes events in the report and zeros in the
gradebook. Only a failure of the pipeline itself (no release, a broken gradebook) raises.
"""

import contextlib
import itertools
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field

from dask.distributed import Client, LocalCluster, as_completed
from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin
from traitlets.config import Config

from .errors import PipelineError
from .record import Recorder
from .release import generate_release
from .snapshot import take
from .worker import AssignmentPlugin, Outcome, grade_submission

__all__ = [
    "ExecutionSettings",
    "PipelineError",
    "StudentResult",
    "export_grades",
    "generate_release",
    "grade_class",
    "part_of",
    "students_to_grade",
    "summarize",
    "write_report",
]


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    parts: dict = field(default_factory=dict)  # part -> [score, max]
    cells: dict = field(default_factory=dict)  # grade id -> [score, max]
    events: list = field(default_factory=list)
    seconds: float = 0.0
    recorded: bool = False


@dataclass
class ExecutionSettings:
    """Limits for running one submission (see GuardedExecute); None keeps the course's configuration."""

    timeout: int = None  # seconds per cell
    budget: float = None  # seconds per notebook
    memory_limit: int = None  # bytes per kernel
    sandbox: bool = None  # False: the student's kernels run unsandboxed (the report says so)

    def config(self):
        """These settings as configuration, to merge over the course's."""
        return Config({"GuardedExecute": {name: value for name, value in asdict(self).items() if value is not None}})


def grade_class(
    course,
    *,
    students=None,
    workers=None,
    scheduler=None,
    client=None,
    settings=None,
    feedback=True,
    progress=print,
):
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
    results, start = {}, time.monotonic()
    with _dask(client, workers, scheduler) as client, Recorder(course) as recorder:
        try:
            _set_up(client, plugin)
            for outcome in _graded(client, plugin.name, course, students, recorder, feedback):
                results[outcome.student] = _record(course, recorder, outcome)
                _report_progress(progress, len(results), len(students), results[outcome.student], start, results)
        finally:
            client.unregister_worker_plugin(plugin.name)
    return [results[student] for student in students]


# -- steps ----------------------------------------------------------------------------------


def students_to_grade(course, students=None):
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


@contextlib.contextmanager
def local_cluster(workers=None):
    """A client of a LocalCluster on this machine: ``workers`` single-threaded processes
    (default: one per core), each grading one submission at a time."""
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def _dask(client, workers, scheduler):
    if client is not None:
        yield client
    elif scheduler:
        with Client(scheduler) as remote:
            yield remote
    else:
        with local_cluster(workers) as local:
            yield local


def _set_up(client, plugin):
    """Give every worker, and every worker that joins later, the assignment."""
    try:
        client.register_plugin(plugin)
    except Exception as error:  # the plugin's set-up failed on a worker
        raise PipelineError(
            f"the dask workers could not set up the assignment: {type(error).__name__}: {error}"
        ) from error


def _graded(client, plugin_name, course, students, recorder, feedback):
    """Outcomes in the order the workers finish. A few submissions per worker thread are in
    flight at any time, so the class is never all in memory and the workers never wait."""
    queue = iter(students)
    futures, pending = {}, as_completed()

    def submit(student):
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


def _submission_files(course, student):
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


def _outcome(future, student):
    try:
        return future.result()
    except Exception as error:  # the workers running it died, or the connection to them did
        return Outcome(
            student,
            error=f"{type(error).__name__}: {error}",
            events=[{"cell": "notebook", "kind": "grader", "detail": f"not graded: {type(error).__name__}: {error}"}],
        )


def _record(course, recorder, outcome):
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


def _replace_folder(folder, files):
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


def export_grades(course, path):
    """nbgrader's CSV export of the gradebook (one row per student)."""
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        CsvExportPlugin(to=path).export(gradebook)


def part_of(grade_id):
    """The part a grade cell belongs to: ``test-mha-heads`` -> ``mha``; ``reflect-...`` -> ``reflection``."""
    pieces = grade_id.split("-")
    if pieces[0] == "test" and len(pieces) > 2:
        return pieces[1]
    return "reflection" if pieces[0] == "reflect" else grade_id


# -- reporting ----------------------------------------------------------------------------


def _report_progress(progress, done, total, result, start, results):
    troubled = sum(1 for r in results.values() if r.events)
    line = (
        f"[{done:>3}/{total}] {result.student:<24} {result.seconds:5.1f} s"
        f"   elapsed {time.monotonic() - start:5.0f} s, submissions with problems so far: {troubled}"
    )
    progress(line)
    for event in result.events:
        progress(f"        ! {event['cell']}: {event['detail']}")


def write_report(results, path):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump([asdict(result) for result in results], handle, indent=1)


def summarize(results):
    """Lines of a per-part summary: mean score and how many students lost points there."""
    recorded = [r for r in results if r.recorded]
    lines = [f"{len(recorded)} of {len(results)} submissions graded"]
    if not recorded:
        return lines
    # Parts in the order the notebook has them (the cells' order), the hand-graded one last.
    parts = sorted(dict.fromkeys(part for r in recorded for part in r.parts), key=lambda part: part == "reflection")
    lines.append(f"{'part':<12}{'mean':>8}{'max':>6}   lost points")
    for part in parts:
        scores = [r.parts[part] for r in recorded if part in r.parts]
        mean = sum(s for s, _ in scores) / len(scores)
        lost = sum(1 for s, m in scores if s < m)
        if part == "reflection":
            lines.append(f"{part:<12}{mean:8.1f}{scores[0][1]:6.0f}   graded by hand in the formgrader")
        else:
            lines.append(f"{part:<12}{mean:8.1f}{scores[0][1]:6.0f}   {lost} of {len(scores)}")
    total = sum(r.score for r in recorded) / len(recorded)
    lines.append(f"{'total':<12}{total:8.1f}{recorded[0].max_score:6.0f}")
    return lines
