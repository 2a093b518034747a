"""nbgrader configuration for the Module 13 (Attention) course bundle.

Run nbgrader from this folder: it is the course root (source/, release/,
submitted/, autograded/, feedback/ and gradebook.db live here).
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader import preprocessors as nbg
from nbgrader.preprocessors import GetGrades

from grading.autograde import EXECUTE, RECORD, SANITIZE
from grading.late_penalty import PercentPerDayLate
from grading.preprocessors import (
    DropGraderFrames,
    OmitParts,
    RedactHiddenTests,
    StripJupytextMetadata,
    SummarizeFeedback,
)
from grading.templates import FEEDBACK_TEMPLATE_FILE, FeedbackExporter

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "tinytorch-attention"

# source/attention/attention.py is the jupytext twin of the notebook (the one
# file instructors edit). It holds the solutions, so it must never be copied
# into release/ or next to a student's autograded notebook.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.py",
]

# The stub students see in place of each solution. Raising with a message
# (rather than a bare NotImplementedError) tells a student who runs all cells
# exactly where to start.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("not implemented yet: replace this line with your code")'
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# generate_assignment: nbgrader's steps, after one that leaves out the optional parts named
# below (first, so that nbgrader stores only the tests of what is released), plus one that
# strips jupytext pairing metadata so students get a plain notebook. (NB, from nbgrader:
# ClearHiddenTests must come after ComputeChecksums and SaveCells, and ComputeChecksums must
# run again after it.)
c.GenerateAssignment.preprocessors = [
    OmitParts,
    nbg.IncludeHeaderFooter,
    nbg.InstantiateTests,
    nbg.LockCells,
    nbg.ClearSolutions,
    nbg.ClearOutput,
    nbg.CheckCellMetadata,
    nbg.ComputeChecksums,
    nbg.SaveCells,
    nbg.ClearHiddenTests,
    nbg.ClearMarkScheme,
    StripJupytextMetadata,
    nbg.ComputeChecksums,
    nbg.CheckCellMetadata,
]

# The assignment released: all of it by default. To release only its core (Parts 1 to 6 and the
# written answers, without Part 7 "Attention at scale"), uncomment the next line, then run
# `make release` before students fetch it: grading, feedback and grades follow the release.
# c.OmitParts.omit = ["part-7"]

# autograde: deleted or relabelled test cells are restored, and the kernel runs under a time
# budget, an output cap and a memory limit, and is restarted if it dies (see
# grading/autograde.py). `python -m grading grade` runs this same Autograde, with these
# settings, on its dask workers; its command-line flags (--timeout, ...) override them.
c.Autograde.sanitize_preprocessors = SANITIZE
c.Autograde.autograde_preprocessors = [EXECUTE, *RECORD]
c.Execute.timeout = 30  # seconds per cell
c.GuardedExecute.budget = 120  # seconds per notebook; the solution needs about 5
c.GuardedExecute.memory_limit = 4 * 2**30  # bytes of address space per grading kernel

# Late submissions: due dates are in the gradebook (for this course: assignments.csv, imported at
# every release and grading); nbgrader's AssignLatePenalties charges each late notebook this
# plugin's penalty, which grades.csv, canvas-grades.csv and the class report show.
c.AssignLatePenalties.plugin_class = PercentPerDayLate
c.PercentPerDayLate.percent_per_day = 10

# Canvas (python -m grading grade, or nbgrader export --exporter=grading.canvas.CanvasExportPlugin):
# the roster maps nbgrader ids to Canvas's; the column title names the Canvas assignment
# ("Title (canvas assignment id)" updates that assignment, a bare title creates one).
c.CanvasExportPlugin.roster = "roster.csv"
c.CanvasExportPlugin.assignment_columns = {"attention": "Module 13: Attention"}

# The class report's similar-solution flags (see grading/report/similarity.py): the defaults.
c.ClassReport.similarity_threshold = 0.5
c.ClassReport.common_share = 0.25
c.ClassReport.solution_threshold = 0.8  # a copy of the instructor's solution (source/)

# generate_feedback: no line of a hidden test reaches a student, not even in a traceback, nor
# a frame of the grader's own checks. The page starts with every failed check and its message,
# then each part's score (SummarizeFeedback reads the messages once they are redacted).
c.GenerateFeedback.preprocessors = [
    RedactHiddenTests,
    DropGraderFrames,
    GetGrades,
    SummarizeFeedback,
    CSSHTMLHeaderPreprocessor,
]
# The exporter finds the template folders where it runs (a dask worker has its own install).
c.GenerateFeedback.exporter_class = FeedbackExporter
c.HTMLExporter.template_file = FEEDBACK_TEMPLATE_FILE
