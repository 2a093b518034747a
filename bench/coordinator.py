"""How far grading scales: the coordinator's seconds per submission, and Amdahl's law from them.

The class is ``copies`` copies of the bundled class (tests/bundled_class.py --copies), graded
with feedback by grading.run.grade (the grade command's whole run) on a cluster started with
dask's command line (a scheduler and one worker per core, each a process of its own, as on
real machines), so that this process is the coordinator and nothing else: the dask client,
the recording, the files.

* serial_seconds_per_submission: this process's CPU time (getrusage: all its threads, the
  dask client's included) over the whole run, from the release check to the class report,
  divided by the number of submissions. The run's fixed costs are in it, so it is an upper
  bound of what one more submission costs.
* parallel_seconds_per_submission: the workers' seconds per submission (the mean of the
  tasks' durations), the part that runs in parallel.
* projected_speedup_32_workers: Amdahl's law with s and p: (s + p) / (s + p / 32).
"""

import os
import resource
import shutil
import subprocess
import sys

from grading import run
from grading.course import Course
from grading.release import check_release
from testbed.dask_cli import dask_cli_cluster

from .timing import Stat

WORKERS = 32  # the cluster size of the projection


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_class(folder, copies):
    """A course under folder: this repository's configuration, source/ and release/, and the class."""
    subprocess.run(
        [sys.executable, "tests/bundled_class.py", "--copies", str(copies), folder],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    check_release(Course(folder), say=lambda line: None)  # stores the tests in its new gradebook


def measure(workdir, *, copies, rounds, progress=print):
    template = os.path.join(workdir, "large-class")
    make_class(template, copies)
    workers = os.cpu_count() or 1
    serial, parallel, submissions = [], [], 0
    with dask_cli_cluster(os.path.join(workdir, "cluster"), workers=workers) as address:
        for round_index in range(rounds):
            folder = os.path.join(workdir, f"coordinator-round{round_index}")
            shutil.copytree(template, folder)
            course = Course(folder)
            start = cpu_seconds()
            results = run.grade(course, scheduler=address, progress=lambda line: None).results
            submissions = len(results)
            serial.append((cpu_seconds() - start) / submissions)
            parallel.append(sum(result.seconds for result in results) / submissions)
            shutil.rmtree(folder)
            progress(
                f"  round {round_index + 1}/{rounds}: {submissions} submissions on {workers} workers, "
                f"coordinator {serial[-1]:.3f} s CPU per submission, workers {parallel[-1]:.1f} s"
            )
    return {
        "serial_seconds_per_submission": Stat.of(serial),
        "parallel_seconds_per_submission": Stat.of(parallel),
        "projected_speedup_32_workers": Stat.of((s + p) / (s + p / WORKERS) for s, p in zip(serial, parallel)),
        "submissions": submissions,
        "workers": workers,
    }
