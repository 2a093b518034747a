"""nbgrader preprocessors of this project, one concern each."""

from .redact_hidden_tests import RedactHiddenTests
from .restore_locked_cells import RestoreLockedCells
from .strip_jupytext import StripJupytextMetadata

__all__ = ["RedactHiddenTests", "RestoreLockedCells", "StripJupytextMetadata"]
