"""The bundle's own job: running the solution notebook, alone and through the grading pipeline.

Three figures come from the same rounds:

* notebook_seconds: the solution notebook run by nbclient alone (a fresh kernel, all cells);
* autograde_overhead: seconds per submission of grade_class with one worker and no feedback
  (nbgrader's autograde: intake, sanitize, execute in a guarded kernel, record), divided by
  the notebook_seconds of that round;
* parallel_speedup: the whole job (feedback included) graded with one worker, then with one
  per core.

Every submission is the release completed with the solution, so each must get every
autograded point; the count is reported so that a fast but broken run cannot pass unnoticed.
"""

import os
import shutil
import statistics
import subprocess
import time
import warnings

from nbclient import NotebookClient

from grading.course import Course
from grading.pipeline import grade_class
from testbed.courses import build_course, completed, read, submit

from .solution import read_notebook
from .timing import Stat, ratio


def autograded_points(notebook):
    """Points of the cells nbgrader scores by itself (test cells; written answers are graded by hand)."""
    return sum(
        cell.metadata["nbgrader"].get("points", 0)
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata["nbgrader"].get("solution")
    )


def make_class(folder, solution_path, submissions):
    """A course under folder with the solution as source/, its release, and n completed submissions."""
    source = read_notebook(solution_path)
    course = build_course(folder, notebook=source)
    submission = completed(read(course.notebook_path("release")), source)
    for index in range(submissions):
        submit(course, f"student{index:02d}", submission)
    return source


def run_alone(notebook, folder):
    """Seconds for nbclient to run the notebook in a fresh kernel (started in folder)."""
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": folder}})
    start = time.perf_counter()
    # Kernel start-up is part of running a notebook, in the pipeline as here. Its console
    # chatter is not: the grading kernels' goes to /dev/null too.
    client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def grade(template, folder, workers, feedback=True):
    """(seconds, [score of each submission]) for grade_class over a fresh copy of the template course."""
    shutil.copytree(template, folder)
    course = Course(folder)
    with warnings.catch_warnings():
        # nbgrader's gradebook warns about SQLAlchemy autoflush for every submission; harmless.
        warnings.filterwarnings("ignore", module="nbgrader")
        start = time.perf_counter()
        results = grade_class(course, workers=workers, feedback=feedback, progress=lambda line: None)
        seconds = time.perf_counter() - start
    return seconds, [result.score for result in results]


def measure(solution_path, workdir, *, rounds, submissions, progress=print):
    """notebook_seconds, autograde_overhead and parallel_speedup, plus the raw seconds and scores."""
    template = os.path.join(workdir, "class")
    source = make_class(template, solution_path, submissions)
    points = autograded_points(source)
    workers = os.cpu_count() or 1
    alone, autograde, serial, parallel, scores = [], [], [], [], []
    for round_index in range(rounds):
        # Each round: the notebook alone before, between and after the three class runs, whose
        # order alternates so that none always runs first after a quiet spell. A class run
        # averages over its notebooks, so the alone side is the median, not the fastest.
        round_alone = [run_alone(source, workdir)]
        runs = [("autograde", 1, False), ("serial", 1, True), ("parallel", workers, True)]
        for name, count, feedback in runs if round_index % 2 == 0 else runs[::-1]:
            folder = os.path.join(workdir, f"round{round_index}-{name}")
            seconds, graded = grade(template, folder, count, feedback)
            shutil.rmtree(folder)
            {"autograde": autograde, "serial": serial, "parallel": parallel}[name].append(seconds)
            scores.extend(graded)
            round_alone.append(run_alone(source, workdir))
        alone.append(statistics.median(round_alone))
        progress(
            f"  round {round_index + 1}/{rounds}: notebook alone {alone[-1]:.1f} s; class of {submissions}: "
            f"autograde only {autograde[-1]:.0f} s, with feedback on 1 worker {serial[-1]:.0f} s, "
            f"on {workers} {parallel[-1]:.0f} s"
        )
    per_submission = [seconds / submissions for seconds in autograde]
    return {
        "notebook_seconds": Stat.of(alone),
        "autograde_overhead": ratio(per_submission, alone),
        "parallel_speedup": ratio(serial, parallel),
        "seconds_per_submission": Stat.of(per_submission),
        "class_seconds": {"1 worker": Stat.of(serial), f"{workers} workers": Stat.of(parallel)},
        "workers": workers,
        "submissions": submissions,
        "autograded_points": points,
        "full_marks": sum(score == points for score in scores),
        "graded": len(scores),
    }
