"""Drop the traceback frames of the grader's own code from the feedback.

Test cells run in the grader's test kernel: a hidden check raises from
``grading/kernel_checks.py``, and a call of the student's code passes through
``grading/remote.py``. A student who reads those frames learns how the grader compares
numbers and talks to their kernel, not what their code got wrong. The message of the failure
stays (it is the last line of the traceback), and so does the traceback of the student's own
code, which a failing call carries as a note.
"""

import re
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

from ..hidden_tests import strip_ansi


class DropGraderFrames(NbGraderPreprocessor):
    """Remove traceback frames whose code is in one of the grader's modules."""

    module_files = List(
        Unicode(),
        ["grading/kernel_checks.py", "grading/remote.py"],
        help="Path suffixes of the modules whose frames are dropped (as IPython prints them in a frame).",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        # IPython starts a frame of a file with "File <path>:<line>, in <function>"; the path
        # is wherever the kernel imported the module from, possibly on another machine.
        suffixes = "|".join(re.escape(path).replace("/", r"[/\\]") for path in self.module_files)
        self._frame = re.compile(rf"^File .*(?:{suffixes}):\d+")
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [
                        frame for frame in output.traceback if not self._frame.match(strip_ansi(frame).lstrip())
                    ]
        return nb, resources
