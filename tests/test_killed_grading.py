"""Nothing is lost when grading itself is killed (an OOM kill, a laptop lid, Ctrl-C twice).

`python -m grading grade` (what `make grade` runs) regrades a class whose instructor has
already entered a manual grade; it is killed with SIGKILL once half the class is recorded,
then run again. At every moment the gradebook holds one complete row per student; after the
second run every student has the scores of an uninterrupted run, once, in the gradebook and
in grades.csv, and the manual grade is still there. The killed run's workers and kernels go
away with it.
"""

import contextlib
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook

from conftest import copy_course
from testbed.dask_cli import running, wait_for

CLASS = ["ada_complete", "dev_buggy_masks", "gus_kernel_dies", "jon_misnamed"]
MANUAL = ("reflect-kv-cache-tradeoff", "ada_complete", 4.0)


def grade_command(course):
    return [sys.executable, "-m", "grading", "grade", "--course", str(course.root), "--workers", "2", "--timeout", "10"]


def rows(course):
    """The gradebook's submissions: student -> {grade id: score}. Fails on a student with two
    rows, or with a row whose autograded cells have no score (half written)."""
    with Gradebook(course.db_url) as gradebook:
        found = {}
        for submission in gradebook.find_assignment("attention").submissions:
            assert submission.student_id not in found
            [notebook] = submission.notebooks
            grades = {grade.name: grade for grade in notebook.grades}
            assert all(grade.auto_score is not None for grade in grades.values() if grade.cell.cell_type == "code"), (
                submission.student_id
            )
            found[submission.student_id] = {name: grade.score for name, grade in grades.items()}
        return found


def descendants(pid):
    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


@pytest.fixture(scope="module")
def killed_and_rerun(bundled, tmp_path_factory):
    graded, _, _ = bundled
    course = copy_course(graded, tmp_path_factory.mktemp("killed") / "course")
    for folder in (Path(course.root) / course.coursedir.submitted_directory).iterdir():
        if folder.name not in CLASS:  # the others keep their rows, from the first grading
            shutil.rmtree(folder)
    cell, student, score = MANUAL
    with Gradebook(course.db_url) as gradebook:
        gradebook.find_grade(cell, "attention", "attention", student).manual_score = score
        gradebook.db.commit()
    before = rows(course)

    process = subprocess.Popen(grade_command(course), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    recorded, children = [], []
    try:
        for line in process.stdout:
            if re.match(r"\[ *\d+/\d+\] ", line):
                recorded.append(line)
            if len(recorded) == len(CLASS) // 2:
                children = descendants(process.pid)
                process.send_signal(signal.SIGKILL)
                break
        process.wait()
        process.stdout.close()
        assert process.returncode == -signal.SIGKILL, "the grading run ended before it was killed"
        after_kill = rows(course)  # one complete row each, right after the kill
        with contextlib.suppress(TimeoutError):
            wait_for(lambda: not running(children), "the killed run's workers and kernels to exit")
        orphans = running(children)
    finally:
        for pid in running(children):
            os.kill(pid, signal.SIGKILL)

    rerun = subprocess.run(grade_command(course), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    return course, before, after_kill, orphans, rows(course), rerun.stdout


def test_the_gradebook_holds_one_complete_row_per_student_right_after_the_kill(killed_and_rerun):
    _, before, after_kill, _, _, _ = killed_and_rerun
    assert sorted(after_kill) == sorted(before)


def test_the_killed_runs_workers_and_kernels_exit_with_it(killed_and_rerun):
    _, _, _, orphans, _, _ = killed_and_rerun
    assert not orphans


def test_running_again_grades_everyone_once_and_keeps_the_manual_grade(killed_and_rerun):
    course, before, _, _, after, stdout = killed_and_rerun
    assert after == before  # the same scores as the uninterrupted run, manual grade included
    cell, student, score = MANUAL
    assert after[student][cell] == score
    assert sorted(re.findall(r"^\[ *\d+/\d+\] (\S+)", stdout, re.M)) == sorted(CLASS)
    with open(Path(course.root) / "grades.csv") as handle:
        exported = [row["student_id"] for row in csv.DictReader(handle)]
    assert sorted(exported) == sorted(before)  # one row per student of the gradebook
