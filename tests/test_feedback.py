"""What a student reads in their feedback: names for the graded cells, and tracebacks without
the grader's own frames. (The feedback pages of the bundled class: test_class_grading.py.)"""

import nbformat
import pytest
from nbclient import NotebookClient

from grading.hidden_tests import strip_ansi
from grading.parts import full_name, part_title
from grading.preprocessors import DropGraderFrames


@pytest.mark.parametrize("grade_id, title, name", [
    ("test-sdpa-fully-masked", "Part 1: scaled dot-product attention", "Part 1, scaled dot-product attention: fully masked"),
    ("test-kvcache-decode", "Part 5: KV cache", "Part 5, KV cache: decode"),
    ("test-memory-answer-gpt2", "Part 6: memory", "Part 6, memory: answer GPT-2"),
    ("test-tiled-no-score-matrix", "Part 7.1: tiled attention", "Part 7.1, tiled attention: no score matrix"),
    ("reflect-kv-cache-tradeoff", "Written answers", "Written answers: KV cache tradeoff"),
    ("test-rope-rotation", "rope", "rope: rotation"),  # a part without a title yet
    ("setup-checks", "setup-checks", "setup-checks"),  # not a test's grade id: shown as it is
])
def test_graded_cells_are_named_by_part_and_what_they_check(grade_id, title, name):
    assert (part_title(grade_id), full_name(grade_id)) == (title, name)


def test_tracebacks_lose_the_frames_of_the_graders_checks():
    """A real kernel's traceback of a hidden check that fails inside grading/kernel_checks.py."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import grading.kernel_checks as checks\n"
        "def students_mean(x):\n"
        "    return sum(x) / (len(x) + 1)\n"
        "checks.close(students_mean([1.0, 3.0]), 2.0, 'the mean of [1, 3]')\n")])
    NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3").execute()
    error = nb.cells[0].outputs[-1]
    frames = [strip_ansi(frame) for frame in error.traceback]
    assert any("kernel_checks.py" in frame for frame in frames)  # close() and fail() raised it
    DropGraderFrames().preprocess(nb, {})
    kept = [strip_ansi(frame) for frame in error.traceback]
    assert not any("kernel_checks.py" in frame for frame in kept)
    assert any("students_mean([1.0, 3.0])" in frame for frame in kept)  # the student's cell stays
    assert kept[-1] == ("HiddenCheckFailed: the mean of [1, 3]: 1 of 1 values are wrong. First at index (): "
                        "got 1.33333, expected 2; largest difference 0.667.")
