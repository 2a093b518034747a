"""Shared fixtures: Jupyter kept out of HOME, and whole course directories built in temp folders."""

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_isolation import isolate

REPO = Path(__file__).resolve().parents[1]

# Kernels, nbgrader and matplotlib write into HOME unless told otherwise; this runs before
# any test imports them.
_JUPYTER_HOME = Path(tempfile.mkdtemp(prefix="attention-tests-jupyter-"))
isolate(_JUPYTER_HOME)

from builders import completed, read  # noqa: E402  (after the environment is set)
from bundled_class import write_class  # noqa: E402
from grading.__main__ import main  # noqa: E402
from grading.course import Course  # noqa: E402
from grading.pipeline import generate_release  # noqa: E402

# A shorter cell timeout than the default 30 s keeps the infinite loop from dominating the suite.
GRADE = ["grade", "--workers", "2", "--timeout", "10"]
# The bundled class is submitted/ with the course's due dates and Canvas roster.
COURSE_FILES = ("assignments.csv", "roster.csv")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_JUPYTER_HOME, ignore_errors=True)


def build_course(root):
    """A course directory like the repository's (config and source/), with a fresh release/."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "source", root / "source")
    course = Course(root)
    generate_release(course)
    return course


def submit(course, student, nb):
    folder = Path(course.path(course.coursedir.submitted_directory, student))
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{course.notebook}.ipynb")
    return folder


def run_make_grade(course):
    """The main job, in process: release, grade, feedback, grades.csv, summary. Returns stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*GRADE, "--course", str(course.root)]) == 0
    return out.getvalue()


def report_rows(course):
    """grading-report.json as student -> row."""
    return {row["student"]: row for row in json.loads((Path(course.root) / "grading-report.json").read_text())}


@pytest.fixture(scope="session")
def course_factory(tmp_path_factory):
    return lambda name: build_course(tmp_path_factory.mktemp(name) / "course")


@pytest.fixture(scope="session")
def bundled(course_factory):
    """`make grade` on the bundled class: (course, its stdout, grading-report.json by student).
    Shared by the class-grading tests and the browser test of the class report."""
    course = course_factory("bundled")
    write_class(course.root)
    for name in COURSE_FILES:
        shutil.copy(REPO / name, course.root)
    stdout = run_make_grade(course)
    return course, stdout, report_rows(course)


@pytest.fixture(scope="session")
def release_nb():
    return read(REPO / "release" / "attention" / "attention.ipynb")


@pytest.fixture(scope="session")
def solution_nb(release_nb):
    """What a student who solved everything hands in."""
    return completed(release_nb, read(REPO / "source" / "attention" / "attention.ipynb"))


def pytest_terminal_summary(terminalreporter):
    seconds = getattr(terminalreporter.config, "solution_seconds", None)
    if seconds is not None:
        terminalreporter.write_line(
            f"solution notebook: executed by the grader in {seconds:.1f} s (kernel start included; goal < 20 s)")
