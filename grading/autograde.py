"""The preprocessors of nbgrader autograde for this course (see nbgrader_config.py).

nbgrader autogrades a submission in two phases: sanitize (restore the test cells), then
execute and record the scores. nbgrader_config.py gives nbgrader's Autograde these lists, so
``nbgrader autograde`` and ``python -m grading grade`` (which runs that same Autograde on
its dask workers, see grading.worker) grade alike.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader import preprocessors as nbg

from .execute import GuardedExecute
from .preprocessors import RestoreLockedCells

# nbgrader's sanitize step, with deleted or relabelled locked cells put back first.
SANITIZE = [
    nbg.ClearOutput,
    nbg.DeduplicateIds,
    nbg.OverwriteKernelspec,
    RestoreLockedCells,  # before OverwriteCells, which then restores the full sources
    nbg.OverwriteCells,
    nbg.CheckCellMetadata,
]
# nbgrader's Execute, guarded (time budget, output cap, memory limit, restarts).
EXECUTE = GuardedExecute
# The rest of nbgrader's autograde step: score, late penalty.
RECORD = [
    nbg.IgnorePattern,
    ClearMetadataPreprocessor,
    nbg.LimitOutput,
    nbg.SaveAutoGrades,
    nbg.AssignLatePenalties,
    nbg.CheckCellMetadata,
]
