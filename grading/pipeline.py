"""Grade a class: from submitted/ to autograded/, feedback/ and grades.csv.

The steps, in order (each one is nbgrader's own machinery where nbgrader has it):

1. release     nbgrader generate_assignment: release/ and the gradebook's copy of the tests.
2. intake      read every submission; stage a gradable copy or a blank stand-in with the reason.
3. sanitize    nbgrader's sanitize step (test cells restored), main process, one at a time.
4. execute     GuardedExecute on dask workers, in parallel; nothing there touches the gradebook.
5. record      nbgrader's scoring (SaveAutoGrades) in the main process as results arrive:
               the gradebook has exactly one writer, so no grade is lost to a locked database.
6. feedback    nbgrader generate_feedback, hidden tests redacted.
7. export      nbgrader's CSV export, then a per-part summary.

A student's problem never stops the run: it becomes events in the report and zeros in the
gradebook. Only a failure of the pipeline itself (no release, a broken gradebook) raises.
"""

import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field

import nbformat
from dask.distributed import Client, LocalCluster, as_completed
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateAssignment
from nbgrader.plugins import CsvExportPlugin

from .autograde import RecordGrades, SanitizeSubmission
from .course import STAGED_EXECUTED, STAGED_SANITIZED, STAGED_SUBMITTED
from .intake import stage_blank, stage_submission
from .worker import execute_submission, mark_not_run, write_feedback


class PipelineError(RuntimeError):
    """The pipeline itself failed (not a student's submission)."""


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
    """Limits for running one submission (see GuardedExecute); None keeps nbgrader_config.py's."""

    timeout: int = None  # seconds per cell
    budget: float = None  # seconds per notebook
    memory_limit: int = None  # bytes per kernel

    def traits(self):
        return {name: value for name, value in asdict(self).items() if value is not None}


def generate_release(course):
    """nbgrader generate_assignment for the course's assignment (overwrites release/)."""
    result = course.run(GenerateAssignment, ".")
    if not result["success"]:
        raise PipelineError("nbgrader generate_assignment failed:\n" + result.get("error", "")
                            + result.get("log", ""))


def grade_class(course, *, students=None, workers=None, scheduler=None,
                settings=ExecutionSettings(), feedback=True, progress=print):
    """Grade ``students`` (default: every folder under submitted/); return a StudentResult each.

    With ``feedback``, each student's feedback HTML is written as soon as their scores are
    recorded: by a worker on a local cluster (it shares the course folder and only reads the
    gradebook), in this process when the workers are remote.
    """
    students = course.students() if students is None else list(students)
    results = {student: StudentResult(student) for student in students}
    if not students:
        progress("no submissions found under submitted/")
        return []
    start, done, futures, feedback_futures = time.monotonic(), [], {}, []

    def finish(student):
        done.append(student)
        _report_progress(progress, len(done), len(students), results[student], start, results)

    def record(future):
        student = futures[future]
        _record(course, student, _outcome(future), results[student])
        if feedback and results[student].recorded:
            if cluster is None:
                _log_feedback(course, student, write_feedback(course.root, course.assignment, student))
            else:
                feedback_futures.append((student, client.submit(
                    write_feedback, course.root, course.assignment, student, pure=False)))
        finish(student)

    client, cluster = _connect(workers, scheduler)
    try:
        pending = as_completed()
        for student in students:
            stage_submission(course, student)
            if not _sanitize(course, student, results[student]):
                stage_blank(course, student, [f"nbgrader could not read it ({results[student].events[-1]['detail']})"])
                _sanitize(course, student, results[student])
            payload = _payload(course, student)
            if payload is None:  # not even the blank stand-in could be sanitized
                finish(student)
                continue
            future = client.submit(execute_submission, *payload, settings.traits(),
                                   key=f"execute-{student}-{time.time_ns()}", pure=False)
            futures[future] = student
            pending.add(future)
            for finished in pending.next_batch(block=False):  # record while the others run
                record(finished)
        for finished in pending:
            record(finished)
        for student, future in feedback_futures:
            _log_feedback(course, student, _outcome(future))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    _read_scores(course, results.values())
    return [results[student] for student in students]


# -- steps ----------------------------------------------------------------------------------

def _connect(workers, scheduler):
    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                           processes=True, memory_limit=0, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _sanitize(course, student, result):
    """nbgrader's sanitize step; on failure (events say why) there is nothing to run."""
    shutil.rmtree(course.path(STAGED_SANITIZED, student), ignore_errors=True)
    outcome = course.run(SanitizeSubmission, student, submitted_directory=STAGED_SUBMITTED,
                         autograded_directory=STAGED_SANITIZED)
    if not outcome["success"]:
        result.events.append({"cell": "notebook", "kind": "sanitize", "detail": _last_error_line(outcome)})
    return outcome["success"]


def _payload(course, student):
    """(notebook JSON, other files) of the sanitized submission, or None if sanitizing failed."""
    folder = course.path(STAGED_SANITIZED, student)
    path = os.path.join(folder, course.notebook + ".ipynb")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        notebook_json = handle.read()
    files = {}
    for name in os.listdir(folder):
        if not name.endswith(".ipynb") and name != "timestamp.txt" and os.path.isfile(os.path.join(folder, name)):
            with open(os.path.join(folder, name), "rb") as handle:
                files[name] = handle.read()
    return notebook_json, files


def _outcome(future):
    try:
        return future.result()
    except Exception as error:  # a worker that died or lost its connection
        return {"notebook": None, "events": [], "seconds": 0.0,
                "error": f"{type(error).__name__}: {error}"}


def _record(course, student, outcome, result):
    sanitized = os.path.join(course.path(STAGED_SANITIZED, student), course.notebook + ".ipynb")
    nb = nbformat.reads(outcome["notebook"], as_version=4) if outcome["notebook"] else None
    if nb is None:
        nb = nbformat.read(sanitized, as_version=4)
        mark_not_run(nb, f"not run: the grader's worker failed ({outcome['error']})")
        result.events.append({"cell": "notebook", "kind": "grader", "detail": outcome["error"]})
    result.events = nb.metadata.get("grading", {}).get("events", []) + result.events + outcome["events"]
    result.seconds = outcome["seconds"]

    executed_dir = course.path(STAGED_EXECUTED, student)
    shutil.rmtree(executed_dir, ignore_errors=True)
    # nbgrader leaves its output read-only (444): copy contents, not modes, so the write below
    # works for an instructor who is not root.
    shutil.copytree(course.path(STAGED_SANITIZED, student), executed_dir, copy_function=shutil.copyfile)
    nbformat.write(nb, os.path.join(executed_dir, course.notebook + ".ipynb"))
    recorded = course.run(RecordGrades, student, submitted_directory=STAGED_EXECUTED)
    result.recorded = recorded["success"]
    if not recorded["success"]:
        result.events.append({"cell": "notebook", "kind": "record", "detail": _last_error_line(recorded)})


def _log_feedback(course, student, outcome):
    if outcome.get("error"):
        course.log.error("feedback for %s failed: %s", student, outcome["error"])


def export_grades(course, path):
    """nbgrader's CSV export of the gradebook (one row per student)."""
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        CsvExportPlugin(to=path).export(gradebook)


def _read_scores(course, results):
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        for result in results:
            if not result.recorded:
                continue
            submission = gradebook.find_submission(course.assignment, result.student)
            result.score, result.max_score = submission.score, submission.max_score
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    result.cells[grade.name] = [grade.score or 0.0, grade.max_score]
                    part = part_of(grade.name)
                    totals = result.parts.setdefault(part, [0.0, 0.0])
                    totals[0] += grade.score or 0.0
                    totals[1] += grade.max_score


def part_of(grade_id):
    """The part a grade cell belongs to: ``test-mha-heads`` -> ``mha``; ``reflect-...`` -> ``reflection``."""
    pieces = grade_id.split("-")
    if pieces[0] == "test" and len(pieces) > 2:
        return pieces[1]
    return "reflection" if pieces[0] == "reflect" else grade_id


# -- reporting ----------------------------------------------------------------------------

def _report_progress(progress, done, total, result, start, results):
    troubled = sum(1 for r in results.values() if r.events)
    line = (f"[{done:>3}/{total}] {result.student:<24} {result.seconds:5.1f} s"
            f"   elapsed {time.monotonic() - start:5.0f} s, submissions with problems so far: {troubled}")
    progress(line)
    for event in result.events:
        progress(f"        ! {event['cell']}: {event['detail']}")


def _last_error_line(outcome):
    """The most specific error message of a failed nbgrader run (its log holds the traceback)."""
    lines = (outcome.get("log", "") + "\n" + outcome.get("error", "")).splitlines()
    errors = [line.strip() for line in lines
              if re.match(r"\s*[\w.]+(Error|Exception):", line) and "NbGraderException" not in line]
    return (errors[-1] if errors else "unknown error, see .grading/grading.log")[:300]


def write_report(results, path):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump([asdict(result) for result in results], handle, indent=1)


def summarize(results):
    """Lines of a per-part summary: mean score and how many students lost points there."""
    recorded = [r for r in results if r.recorded]
    lines = [f"{len(recorded)} of {len(results)} submissions graded"]
    if not recorded:
        return lines
    parts = sorted({part for r in recorded for part in r.parts}, key=_part_order)
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


_ORDER = ["softmax", "sdpa", "mask", "mha", "kvcache", "memory", "reflection"]


def _part_order(part):
    return (_ORDER.index(part) if part in _ORDER else len(_ORDER), part)
