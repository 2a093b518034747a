"""The course's late-submission policy, as an nbgrader late-submission plugin.

nbgrader's AssignLatePenalties step asks this plugin for each notebook of a submission that
came after its due date (nbgrader_config.py: ``c.AssignLatePenalties.plugin_class``).
"""

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

DAY = 24 * 3600


class PercentPerDayLate(LateSubmissionPlugin):
    """A share of the notebook's score for every day, or part of a day, past the due date."""

    percent_per_day = Float(10.0, help="Percent of the score taken per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        days = math.ceil(total_seconds_late / DAY)
        return min(score, score * self.percent_per_day / 100 * days)
