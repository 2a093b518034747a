"""Drop the traceback frames of the grader's own checks from the feedback.

Hidden tests raise from ``grading/kernel_checks.py``: a student who reads those frames learns
how the grader compares numbers, not what their code got wrong. The message of the failure
stays (it is the last line of the traceback), and so do the frames of the student's code.
"""

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..hidden_tests import strip_ansi


class DropGraderFrames(NbGraderPreprocessor):
    """Remove traceback frames whose code is in the grader's checks module."""

    module_file = Unicode(
        "grading/kernel_checks.py",
        help="Path suffix of the module whose frames are dropped (as IPython prints it in a frame).",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        # IPython starts a frame of a file with "File <path>:<line>, in <function>"; the path
        # is wherever the kernel imported the module from, possibly on another machine.
        suffix = re.escape(self.module_file).replace("/", r"[/\\]")
        self._frame = re.compile(rf"^File .*{suffix}:\d+")
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [
                        frame for frame in output.traceback if not self._frame.match(strip_ansi(frame).lstrip())
                    ]
        return nb, resources
