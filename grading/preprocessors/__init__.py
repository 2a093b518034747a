"""nbgrader preprocessors of this project, one concern each."""

from .drop_grader_frames import DropGraderFrames
from .omit_parts import OmitParts
from .redact_hidden_tests import RedactHiddenTests
from .restore_locked_cells import RestoreLockedCells
from .strip_jupytext import StripJupytextMetadata
from .summarize_feedback import SummarizeFeedback

__all__ = [
    "DropGraderFrames",
    "OmitParts",
    "RedactHiddenTests",
    "RestoreLockedCells",
    "StripJupytextMetadata",
    "SummarizeFeedback",
]
