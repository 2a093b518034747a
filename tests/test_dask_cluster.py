"""`grade --scheduler` on a cluster started with dask's own command line, as on real machines:
a `dask scheduler` and two `dask worker` processes (each with its nanny) on 127.0.0.1.

It grades like the session's LocalCluster, and a worker killed with SIGKILL in the middle of
a submission costs nothing: dask runs the submission again (the nanny starts a new worker,
which gets the assignment from the scheduler), and every student is recorded exactly once.
"""

import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
from dask.distributed import Client
from nbgrader.api import Gradebook

from conftest import report_rows, run_grade_command
from testbed.dask_cli import dask_cli_cluster, running, wait_for

STUDENTS = ["ada_complete", "dev_buggy_masks", "gus_kernel_dies", "hal_tampered_tests", "ida_malformed", "jon_misnamed"]


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory):
    """(scheduler address, a client of it)."""
    with dask_cli_cluster(tmp_path_factory.mktemp("dask-cli")) as address, Client(address) as client:
        client.wait_for_workers(2, timeout=120)
        yield address, client


class WorkerKiller(threading.Thread):
    """Once a first student is recorded, SIGKILLs a worker process while its kernel runs a
    submission."""

    def __init__(self, client, course):
        super().__init__(daemon=True)
        self.client, self.autograded = client, Path(course.root) / course.coursedir.autograded_directory
        self.pids = client.run(os.getpid)  # worker address -> PID of the worker process
        self.killed = None  # (task keys it was running, PIDs of its kernels)
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set() and self.killed is None:
            time.sleep(0.5)
            if not self.autograded.is_dir() or not any(self.autograded.iterdir()):
                continue
            for address, keys in self.client.processing().items():
                if keys and address in self.pids:
                    worker = psutil.Process(self.pids[address])
                    kernels = [child.pid for child in worker.children(recursive=True)]
                    if kernels:
                        worker.send_signal(signal.SIGKILL)
                        self.killed = (list(keys), kernels)
                        break


@pytest.fixture(scope="module")
def graded_on_cli_cluster(bundled, course_factory, cli_cluster):
    graded, _, _ = bundled
    address, client = cli_cluster
    course = course_factory("cli-cluster")
    for student in STUDENTS:
        shutil.copytree(Path(graded.path("submitted", student)), Path(course.path("submitted", student)))
    killer = WorkerKiller(client, course)
    killer.start()
    try:
        stdout = run_grade_command(course, "--timeout", "10", "--scheduler", address)
    finally:
        killer.done.set()
        killer.join()
    return course, stdout, killer.killed


def test_scores_equal_those_of_the_local_cluster(bundled, graded_on_cli_cluster):
    _, _, local = bundled
    course, _, _ = graded_on_cli_cluster
    remote = report_rows(course)
    assert sorted(remote) == sorted(STUDENTS)
    assert {s: row["cells"] for s, row in remote.items()} == {s: local[s]["cells"] for s in STUDENTS}
    assert {s: row["score"] for s, row in remote.items()} == {s: local[s]["score"] for s in STUDENTS}


def test_a_worker_killed_mid_submission_loses_no_student_and_records_none_twice(graded_on_cli_cluster):
    course, stdout, killed = graded_on_cli_cluster
    assert killed is not None, "no worker was grading a submission after the first was recorded"
    keys, _ = killed
    assert keys and all(key.startswith("grade-") for key in keys)
    recorded = re.findall(r"^\[ *\d+/\d+\] (\S+)", stdout, re.M)
    assert sorted(recorded) == sorted(STUDENTS), stdout  # each student's result recorded exactly once
    rows = report_rows(course)
    assert all(row["recorded"] and "grader" not in {e["kind"] for e in row["events"]} for row in rows.values()), rows
    with Gradebook(course.db_url) as gradebook:
        submissions = gradebook.find_assignment("attention").submissions
        assert sorted(s.student_id for s in submissions) == sorted(STUDENTS)
        assert all(
            grade.auto_score is not None
            for s in submissions
            for nb in s.notebooks
            for grade in nb.grades
            if grade.cell.cell_type == "code"
        )


def test_the_killed_workers_kernels_do_not_outlive_it(graded_on_cli_cluster):
    _, _, (_, kernels) = graded_on_cli_cluster
    try:
        wait_for(lambda: not running(kernels), "the killed worker's kernels to exit")
    finally:
        for pid in running(kernels):
            os.kill(pid, signal.SIGKILL)
