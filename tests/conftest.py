"""Shared fixtures: Jupyter kept out of HOME, whole course directories built in temp folders
from one release build, one dask cluster that every test that grades uses, and each test's
tier (unit, kernel or browser: see the README), given by the folder it lives in."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from testbed.jupyter_isolation import isolate

REPO = Path(__file__).resolve().parents[1]

# Kernels, nbgrader and matplotlib write into HOME unless told otherwise; this runs before
# any test imports them.
_JUPYTER_HOME = Path(tempfile.mkdtemp(prefix="attention-tests-jupyter-"))
isolate(_JUPYTER_HOME)


from bundled_class import write_class  # noqa: E402  (after the environment is set)
from grading import sandbox  # noqa: E402
from grading.__main__ import main  # noqa: E402
from grading.cluster import local_cluster  # noqa: E402
from grading.course import Course  # noqa: E402
from testbed.courses import build_course, completed, read  # noqa: E402

# The bundled class is submitted/ with the course's due dates and Canvas roster.
COURSE_FILES = ("assignments.csv", "roster.csv")

TIERS = ("unit", "kernel", "browser")
_TIER_FOLDERS = {REPO / "tests" / "unit": "unit", REPO / "tests" / "e2e": "browser"}  # elsewhere: kernel


def tier_of(path):
    """The tier of a test file: tests/unit is ``unit``, tests/e2e is ``browser``, anything else ``kernel``."""
    folders = Path(path).resolve().parents
    return next((tier for folder, tier in _TIER_FOLDERS.items() if folder in folders), "kernel")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = tier_of(item.path)
        other = {mark.name for mark in item.iter_markers() if mark.name in TIERS} - {tier}
        if other:
            raise pytest.UsageError(
                f"{item.nodeid} is marked {', '.join(sorted(other))} but lives in a {tier} "
                "folder: a test's tier is where it lives (tests/conftest.py)"
            )
        item.add_marker(tier)


def pytest_runtest_setup(item):
    """Without a sandbox nothing can be graded, so the kernel and browser tiers skip; raised
    here, the skips fold into one line of pytest's summary, with the reason."""
    if tier_of(item.path) != "unit" and sandbox.available() is not None:
        pytest.skip(f"grading needs a sandbox for the students' kernels, none can be made here: {sandbox.available()}")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_JUPYTER_HOME, ignore_errors=True)


def run_grade_command(course, *arguments):
    """`python -m grading grade` in this process; returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["grade", "--course", str(course.root), *arguments])
    assert status == 0, out.getvalue()
    return out.getvalue()


def report_rows(course):
    """grading-report.json as {student: row}."""
    return {row["student"]: row for row in json.loads((Path(course.root) / "grading-report.json").read_text())}


# What tests/module14.py checks: a run on an export that Module 14 can build on passes each.
MODULE14_CHECKS = ["tensors_in_and_out", "causality", "causal_weights", "parameters", "generation"]


def run_module14(folder, *checks):
    """tests/module14.py (Module 14 in miniature) in a fresh interpreter importing the export in ``folder``."""
    return subprocess.run(
        [sys.executable, str(REPO / "tests" / "module14.py"), *checks],
        env={**os.environ, "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def passed(run):
    """The checks a run of tests/module14.py reports as passed, in order."""
    return [line.split(":")[0].removeprefix("ok  ") for line in run.stdout.splitlines() if line.startswith("ok  ")]


@pytest.fixture(scope="session")
def course_template(tmp_path_factory):
    """The one release build of the session: config, source/, release/ and the gradebook's tests."""
    return build_course(tmp_path_factory.mktemp("template") / "course")


@pytest.fixture(scope="session")
def course_factory(tmp_path_factory, course_template):
    """A fresh course directory (a copy of the template) per call."""

    def make(name):
        root = tmp_path_factory.mktemp(name) / "course"
        shutil.copytree(course_template.root, root, ignore=shutil.ignore_patterns(".grading"))
        return Course(root)

    return make


@pytest.fixture(scope="session")
def bundled(course_factory, dask_client):
    """The bundled class (submitted/), graded once by the grade command: (course, stdout, report).
    Tests that grade it again or change its gradebook work on a copy (``copy_course``)."""
    course = course_factory("bundled")
    write_class(course.root)
    for name in COURSE_FILES:
        shutil.copy(REPO / name, course.root)
    # A shorter cell timeout than the default 30 s keeps the infinite loop from dominating the suite.
    stdout = run_grade_command(course, "--timeout", "10", "--scheduler", dask_client.scheduler.address)
    return course, stdout, report_rows(course)


def copy_course(course, folder):
    """A copy of a course directory, graded state included."""
    shutil.copytree(course.root, folder)
    return Course(folder)


@pytest.fixture(scope="session")
def dask_client():
    """Two single-threaded worker processes, as `make grade` starts on a 2-core machine."""
    with local_cluster(2) as client:
        yield client


@pytest.fixture(scope="session")
def release_nb():
    return read(REPO / "release" / "attention" / "attention.ipynb")


@pytest.fixture(scope="session")
def solution_nb(release_nb):
    """What a student who solved everything hands in."""
    return completed(release_nb, read(REPO / "source" / "attention" / "attention.ipynb"))


def time_per_tier(reports):
    """{tier: (seconds, tests)} from pytest's reports: every phase's duration (so a session
    fixture counts where it was set up or torn down), each test counted once."""
    seconds = dict.fromkeys(TIERS, 0.0)
    tests = {tier: set() for tier in TIERS}
    for report in reports:
        tier = tier_of(REPO / report.nodeid.split("::")[0])
        seconds[tier] += report.duration
        tests[tier].add(report.nodeid)
    return {tier: (seconds[tier], len(tests[tier])) for tier in TIERS if tests[tier]}


def pytest_terminal_summary(terminalreporter):
    reports = [
        report
        for category in terminalreporter.stats.values()
        for report in category
        if isinstance(report, pytest.TestReport)
    ]
    if reports:
        terminalreporter.write_line(
            "time per tier: "
            + ", ".join(f"{tier} {s:.0f} s ({n} tests)" for tier, (s, n) in time_per_tier(reports).items())
        )
    seconds = getattr(terminalreporter.config, "solution_seconds", None)
    if seconds is not None:
        terminalreporter.write_line(
            f"solution notebook: executed by the grader in {seconds:.1f} s "
            "(kernel start included; make bench holds it to 10 s)"
        )
