"""The unit tier stays a unit tier: a test here that starts a kernel fails, with a message saying
where such a test belongs. (Short commands are allowed: test_make_clean runs `make clean`.)

What takes seconds is done once per session, or not at all: the version nbgrader stamps each new
gradebook with, and the release of a small course (``small_course``)."""

import sys

import nbgrader.api
import pytest

from conftest import copy_course
from grading import new_gradebook
from testbed.courses import build_course

from . import notebooks

_running_unit_test = False


def _refuse_kernels(event, args):
    if _running_unit_test and event == "subprocess.Popen" and "ipykernel" in str(args[1]):
        raise RuntimeError(
            f"a unit test started a kernel ({args[1]}): tests that run notebooks belong "
            "in tests/ (the kernel tier), not in tests/unit/"
        )


sys.addaudithook(_refuse_kernels)  # an audit hook cannot be removed: the flag turns it on and off


@pytest.fixture(autouse=True)
def no_kernels():
    global _running_unit_test
    _running_unit_test = True
    try:
        yield
    finally:
        _running_unit_test = False


@pytest.fixture(scope="session", autouse=True)
def alembic_head_in_process():
    """nbgrader stamps each new gradebook with its schema's version, the head of its alembic
    scripts, which it gets from `alembic heads`: a new interpreter that imports nbgrader (seconds),
    for every gradebook. Here it is read in this process, as grading.new_gradebook reads it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nbgrader.api, "get_alembic_version", new_gradebook.schema_version)
        yield


@pytest.fixture(scope="session")
def small_course(tmp_path_factory):
    """A fresh course directory per call: the repository's configuration, notebooks.source() as
    source/ and its release, generated once (the real notebook's 200 cells take seconds)."""
    template = build_course(tmp_path_factory.mktemp("small-template") / "course", notebook=notebooks.source())
    return lambda name: copy_course(template, tmp_path_factory.mktemp(name) / "course")
