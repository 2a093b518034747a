"""Hostile and broken submissions, graded together with a correct one.

Each test checks one case: the grader bounds it, the student still gets a row with the
reason, and the correct submission graded alongside keeps full marks. The cell timeout is
small (10 s, the same mechanism as nbgrader_config.py's 30 s) but leaves room for the
notebook's slowest cell on a loaded machine. The time budget is tested in a run of its own
(3 s per cell, 10 s per notebook), on what it does, not on how far a notebook gets in 10 s.
"""

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.converters import Autograde

from builders import cell
from catalogue import PARTS
from grading import execute
from grading.course import STAGED_SUBMITTED
from grading.intake import stage_submission
from grading.pipeline import ExecutionSettings, grade_class
from testbed.courses import grade_id, submit

# The budget is generous enough for a loaded machine (a replay re-imports matplotlib); only the
# budget test runs against a small one.
LIMITS = ExecutionSettings(timeout=10, budget=120, memory_limit=2 * 2**30)
OUT_OF_TIME = ExecutionSettings(timeout=3, budget=10)


def with_extra_cell(solution, after, code):
    """The solution with a plain (ungraded) code cell inserted after the cell `after`."""
    nb = copy.deepcopy(solution)
    nb.cells.insert(nb.cells.index(cell(nb, after)) + 1, nbformat.v4.new_code_cell(code))
    return nb


def submissions(release, solution):
    relabelled = copy.deepcopy(solution)
    cell(relabelled, "test-mha-heads").metadata["nbgrader"]["grade_id"] = "my-own-test"
    cell(relabelled, "test-kvcache-copy").metadata["nbgrader"]["grade"] = False
    budget_cell = cell(relabelled, "test-memory-budget")
    budget_cell.cell_type = "markdown"
    del budget_cell["outputs"], budget_cell["execution_count"]
    cell(relabelled, "softmax").metadata["nbgrader"]["schema_version"] = 99
    cell(relabelled, "test-sdpa-dtype").metadata["nbgrader"] = "mine"

    no_checks = copy.deepcopy(solution)
    no_checks.cells.remove(cell(no_checks, "setup-checks"))

    return {
        "control": solution,
        "swallows_interrupt": with_extra_cell(
            solution,
            "kvcache",
            (
                "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n"
                "        pass  # nobody stops me\n"
            ),
        ),
        "segfault": with_extra_cell(solution, "softmax", "import ctypes\nctypes.string_at(0)\n"),
        "memory_bomb": with_extra_cell(
            solution, "masks", ("hog = []\nfor _ in range(8):\n    hog.append(np.empty(2**27))  # 1 GiB each\n")
        ),
        "output_flood": with_extra_cell(solution, "masks", "for i in range(3_000_000):\n    print(i)\n"),
        "deleted_checks_cell": no_checks,
        "relabelled_test_cells": relabelled,
        "old_nbformat": solution,  # written as nbformat 3 below
    }


def hanging_in_every_test(solution):
    nb = copy.deepcopy(solution)
    cell(
        nb, "sdpa"
    ).source += "\n\nimport time\n\n\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n    time.sleep(3600)\n"
    return nb


@pytest.fixture(scope="module")
def hostile(course_factory, release_nb, solution_nb, dask_client):
    course = course_factory("hostile")
    for student, nb in submissions(release_nb, solution_nb).items():
        submit(course, student, nb)
    v3 = nbformat.convert(copy.deepcopy(solution_nb), 3)
    (Path(course.path("submitted", "old_nbformat")) / "attention.ipynb").write_text(nbformat.writes(v3, version=3))
    Path(course.path("submitted", "empty_folder")).mkdir(parents=True)
    wrong_layout = Path(course.root) / "submitted" / "wrong_layout"
    wrong_layout.mkdir()
    nbformat.write(solution_nb, wrong_layout / "attention.ipynb")

    results = grade_class(course, client=dask_client, settings=LIMITS, feedback=False, progress=lambda line: None)
    return course, {r.student: r for r in results}


@pytest.fixture(scope="module")
def out_of_time(course_factory, solution_nb, dask_client):
    course = course_factory("out-of-time")
    submit(course, "hangs_in_every_test", hanging_in_every_test(solution_nb))
    [result] = grade_class(course, client=dask_client, settings=OUT_OF_TIME, feedback=False, progress=lambda line: None)
    return course, result


def lost(result):
    return {part for part in PARTS if result.parts[part][0] < result.parts[part][1]}


def events(result, kind):
    return [e["detail"] for e in result.events if e["kind"] == kind]


def autograded(course, student):
    return nbformat.read(Path(course.path("autograded", student)) / "attention.ipynb", as_version=4)


def code_cell_containing(nb, text):
    return next(c for c in nb.cells if c.cell_type == "code" and text in c.source)


def test_every_submission_gets_a_gradebook_row(hostile):
    _, results = hostile
    assert len(results) == 10
    assert all(result.recorded for result in results.values()), {s: r.events for s, r in results.items()}


def test_a_correct_submission_graded_alongside_keeps_full_marks(hostile):
    _, results = hostile
    assert not lost(results["control"]) and not results["control"].events


def test_a_loop_that_swallows_keyboard_interrupt_is_restarted_and_the_rest_is_graded(hostile):
    _, results = hostile
    result = results["swallows_interrupt"]
    assert not lost(result), result.cells
    assert any("does it catch KeyboardInterrupt" in detail for detail in events(result, "kernel"))


def test_a_function_that_hangs_every_test_is_stopped_by_the_time_budget(out_of_time):
    course, result = out_of_time
    assert result.recorded
    # Each hanging cell is interrupted after at most the cell timeout (less when the budget is
    # nearly spent), until the budget runs out: then one budget event, and no cell runs after it.
    assert events(result, "timeout")
    assert all(re.fullmatch(r"interrupted after [123] s", detail) for detail in events(result, "timeout"))
    [budget] = [e for e in result.events if e["kind"] == "budget"]
    nb = autograded(course, "hangs_in_every_test")
    ids = [grade_id(c) or f"cell {i}" for i, c in enumerate(nb.cells)]
    after = [c for c in nb.cells[ids.index(budget["cell"]) :] if c.cell_type == "code" and c.source.strip()]
    assert after and all([o.ename for o in c.outputs] == ["NotRun"] for c in after)
    assert all("time budget of 10 s" in c.outputs[0].evalue for c in after)
    assert "sdpa" in lost(result)


def test_a_segfault_restarts_the_kernel_and_the_rest_is_graded(hostile):
    _, results = hostile
    result = results["segfault"]
    assert not lost(result), result.cells
    assert any("the kernel died" in detail for detail in events(result, "kernel"))


def test_a_memory_bomb_hits_the_kernel_memory_limit(hostile):
    course, results = hostile
    assert not lost(results["memory_bomb"]), results["memory_bomb"].cells
    bomb = code_cell_containing(autograded(course, "memory_bomb"), "hog.append")
    assert [o.ename for o in bomb.outputs if o.output_type == "error"] == ["MemoryError"]


def test_an_output_flood_is_cut_and_grading_goes_on(hostile):
    course, results = hostile
    assert not lost(results["output_flood"]), results["output_flood"].cells
    flood = code_cell_containing(autograded(course, "output_flood"), "3_000_000")
    assert len(json.dumps(flood.outputs)) < 200_000
    assert events(results["output_flood"], "output")


def test_a_deleted_locked_helper_cell_is_restored(hostile):
    _, results = hostile
    result = results["deleted_checks_cell"]
    assert not lost(result), result.cells
    assert [e["cell"] for e in result.events if e["kind"] == "restored"] == ["setup-checks"]


def test_relabelled_retyped_and_ungraded_test_cells_are_graded_as_released(hostile):
    _, results = hostile
    result = results["relabelled_test_cells"]
    assert not lost(result), result.cells
    assert {"test-mha-heads", "test-kvcache-copy", "test-memory-budget", "test-sdpa-dtype"} <= set(result.cells)
    details = " ".join(e["detail"] for e in result.events)
    assert "unknown grade id 'my-own-test'" in details and "(grade)" in details and "cell type" in details
    assert "(schema_version)" in details


@pytest.mark.parametrize(
    "student, problem",
    [
        ("empty_folder", "no notebook in submitted/empty_folder/attention/"),
        ("wrong_layout", "no attention/ folder in submitted/wrong_layout/"),
    ],
)
def test_a_submission_without_a_notebook_gets_zero_and_the_reason(hostile, student, problem):
    course, results = hostile
    result = results[student]
    assert result.score == 0 and events(result, "intake") == [problem]
    assert problem in autograded(course, student).cells[0].source


def test_an_old_nbformat_notebook_is_converted_and_graded(hostile):
    _, results = hostile
    result = results["old_nbformat"]
    assert not lost(result), result.cells
    assert events(result, "intake") == ["attention.ipynb was saved as nbformat 3: converted to nbformat 4"]


def test_grade_ids_of_the_release_are_all_scored(hostile, release_nb):
    _, results = hostile
    graded = {grade_id(c) for c in release_nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert all(set(result.cells) == graded for result in results.values())


def test_when_the_graders_test_kernel_dies_both_kernels_are_restored_and_nothing_is_lost(
    course_factory, solution_nb, monkeypatch
):
    """The test kernel runs only the grader's code, but it is a process that can die (the
    machine's OOM killer, say): both kernels are restarted and brought back, the cell runs again,
    and the student loses nothing. Killed here at its tenth cell, in this process's own grader."""
    course = course_factory("test-kernel-dies")
    submit(course, "someone", solution_nb)
    stage_submission(course, "someone")
    cells, original = [], execute.TestKernel.ready

    async def ready_then_die_once(test_kernel):
        await original(test_kernel)
        cells.append(None)
        if len(cells) == 10:
            test_kernel.client.km.provisioner.process.kill()

    monkeypatch.setattr(execute.TestKernel, "ready", ready_then_die_once)
    assert course.run(Autograde, "someone", submitted_directory=STAGED_SUBMITTED)["success"]
    nb = autograded(course, "someone")
    failed = [grade_id(c) for c in nb.cells if c.get("outputs") and any(o.output_type == "error" for o in c.outputs)]
    assert failed == []
    assert [e["kind"] for e in nb.metadata["grading"]["events"]] == ["grader"]
