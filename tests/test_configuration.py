"""The course's nbgrader_config.py reaches the kernels that dask workers run, as it does under
``nbgrader autograde``: set there and nowhere else, a cell timeout and a time budget apply,
and the kernels see NBGRADER_EXECUTION=autograde.

The session's workers were started before this course existed, so whatever they apply came
from the course, through the grading run.
"""

import copy
import re
from pathlib import Path

import nbformat
import pytest

from grading.course import Course
from grading.pipeline import grade_class
from testbed.courses import grade_id

SLEEPS = 6  # cells that sleep past the 2 s timeout: 12 s, more than the 9 s budget


@pytest.fixture(scope="module")
def configured(course_factory, release_nb, dask_client):
    course = course_factory("configured")
    with open(Path(course.root) / "nbgrader_config.py", "a") as handle:
        handle.write("\nc.Execute.timeout = 2\nc.GuardedExecute.budget = 9\n")
    course = Course(course.root)  # the configuration as edited
    nb = copy.deepcopy(release_nb)
    sleepers = [nbformat.v4.new_code_cell("import time\ntime.sleep(600)") for _ in range(SLEEPS)]
    nb.cells[:0] = [nbformat.v4.new_code_cell("import os\nprint(os.environ.get('NBGRADER_EXECUTION'))"), *sleepers]
    folder = Path(course.path("submitted", "sleeper"))
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "attention.ipynb")
    [result] = grade_class(course, client=dask_client, feedback=False, progress=lambda line: None)
    return result, nbformat.read(Path(course.path("autograded", "sleeper")) / "attention.ipynb", as_version=4)


def test_the_kernel_runs_with_nbgrader_execution_autograde(configured):
    _, nb = configured
    assert nb.cells[0].outputs[0].text == "autograde\n"


def test_the_cell_timeout_of_nbgrader_config_applies(configured):
    result, _ = configured
    timeouts = [e["detail"] for e in result.events if e["kind"] == "timeout"]
    # 2 s for each sleeping cell, less only when the budget has less than that left.
    assert timeouts[0] == "interrupted after 2 s", timeouts
    assert all(re.fullmatch(r"interrupted after [12] s", detail) for detail in timeouts), timeouts


def test_the_time_budget_of_nbgrader_config_applies(configured):
    result, nb = configured
    [budget] = [e for e in result.events if e["kind"] == "budget"]
    assert "time budget of 9 s" in budget["detail"]
    ids = [grade_id(c) or f"cell {i}" for i, c in enumerate(nb.cells)]
    after = [c for c in nb.cells[ids.index(budget["cell"]) :] if c.cell_type == "code" and c.source.strip()]
    assert after and all([o.ename for o in c.outputs] == ["NotRun"] for c in after)
