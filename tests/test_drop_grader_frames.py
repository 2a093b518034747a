"""Tracebacks in feedback without the grader's own frames, on a real kernel's traceback. (Names and
the summary: tests/unit/test_parts.py, test_summarize_feedback.py; the bundled class's feedback
pages: test_class_grading.py.)"""

import nbformat
from nbclient import NotebookClient

from grading.hidden_tests import strip_ansi
from grading.preprocessors import DropGraderFrames


def test_tracebacks_lose_the_frames_of_the_graders_checks():
    """A real kernel's traceback of a hidden check that fails inside grading/kernel_checks.py."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import grading.kernel_checks as checks\n"
                "def students_mean(x):\n"
                "    return sum(x) / (len(x) + 1)\n"
                "checks.close(students_mean([1.0, 3.0]), 2.0, 'the mean of [1, 3]')\n"
            )
        ]
    )
    NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3").execute()
    error = nb.cells[0].outputs[-1]
    frames = [strip_ansi(frame) for frame in error.traceback]
    assert any("kernel_checks.py" in frame for frame in frames)  # close() and fail() raised it
    DropGraderFrames().preprocess(nb, {})
    kept = [strip_ansi(frame) for frame in error.traceback]
    assert not any("kernel_checks.py" in frame for frame in kept)
    assert any("students_mean([1.0, 3.0])" in frame for frame in kept)  # the student's cell stays
    assert kept[-1] == (
        "HiddenCheckFailed: the mean of [1, 3]: 1 of 1 values are wrong. First at index (): "
        "got 1.33333, expected 2; largest difference 0.667."
    )
