"""nbgrader's Autograde, split around the execution so kernels can run on other processes.

nbgrader autogrades one student at a time in three phases: sanitize (restore test cells),
execute, record the scores in the gradebook. Executing is what takes time; recording is
what must not happen concurrently (one gradebook). The pipeline therefore runs nbgrader's
own Autograde converter twice per student, each time with one half of the preprocessors:

    SanitizeSubmission   .grading/submitted  ->  .grading/sanitized   (main process)
    grading.execute      .grading/sanitized  ->  .grading/executed    (dask workers, in parallel)
    RecordGrades         .grading/executed   ->  autograded/          (main process: the one writer)

The preprocessor lists below are also what nbgrader_config.py gives a plain
``nbgrader autograde``, so the serial nbgrader app and the parallel pipeline grade alike.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader import preprocessors as nbg
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from traitlets import List

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
EXECUTE = GuardedExecute
# nbgrader's autograde step without its Execute (done by a worker).
RECORD = [
    nbg.IgnorePattern,
    ClearMetadataPreprocessor,
    nbg.LimitOutput,
    nbg.SaveAutoGrades,
    nbg.AssignLatePenalties,
    nbg.CheckCellMetadata,
]


class SanitizeSubmission(Autograde):
    """nbgrader's Autograde, stopped after the sanitize step (nothing is executed or recorded)."""

    sanitize_preprocessors = List(SANITIZE).tag(config=False)
    autograde_preprocessors = List([]).tag(config=False)

    def convert_single_notebook(self, notebook_filename):
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)


class RecordGrades(Autograde):
    """nbgrader's Autograde for a notebook a worker has already run: score it, save it."""

    sanitize_preprocessors = List([]).tag(config=False)
    autograde_preprocessors = List(RECORD).tag(config=False)
