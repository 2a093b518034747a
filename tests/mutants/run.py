"""One mutation run: grade the mutants in one pipeline run, then judge each with the oracle."""

import time

from .grade import grade
from .oracle import judge_all
from .report import Outcome
from .reviewed import REVIEWED


def run(course, mutants, prelude, cells, *, workers=None, settings=None, reviewed=REVIEWED, progress=print):
    """(outcomes, seconds): an Outcome per mutant, and the seconds spent grading and judging."""
    start = time.monotonic()
    graded = grade(course, mutants, workers=workers, settings=settings, progress=progress)
    graded_at = time.monotonic()
    verdicts = judge_all(mutants, prelude, cells, progress=progress)
    seconds = {"grading": graded_at - start, "oracle": time.monotonic() - graded_at}
    outcomes = [Outcome(m, graded[m.id], v, reviewed.get(m.id)) for m, v in zip(mutants, verdicts)]
    return outcomes, seconds
