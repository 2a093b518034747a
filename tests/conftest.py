"""Shared fixtures: Jupyter kept out of HOME, and whole course directories built in temp folders."""

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
from grading.course import Course  # noqa: E402
from grading.pipeline import generate_release  # noqa: E402


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


@pytest.fixture(scope="session")
def course_factory(tmp_path_factory):
    return lambda name: build_course(tmp_path_factory.mktemp(name) / "course")


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
