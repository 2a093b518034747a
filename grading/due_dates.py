"""Due dates kept with the course: ``assignments.csv``, in nbgrader's own import format.

nbgrader keeps an assignment's due date in the gradebook (the formgrader's Manage Assignments,
``nbgrader db assignment add NAME --duedate=...``, or ``nbgrader db assignment import
assignments.csv`` with the columns ``name`` and ``duedate``). A gradebook is not kept in
version control, so a course that has ``assignments.csv`` gets it imported into the gradebook
at every release and grading: the file is then the one place the due dates are set. Late
submissions are nbgrader's business from there: its AssignLatePenalties step charges the
penalty of the course's late-submission plugin (nbgrader_config.py).
"""

import csv
import os
from datetime import datetime

from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from .course import Course
from .errors import PipelineError

DUE_DATES = "assignments.csv"


def import_due_dates(course: Course, path: str | None = None) -> dict[str, datetime | None]:
    """Set the gradebook's due dates from the course's assignments.csv; return {name: due date}."""
    path = path or os.path.join(course.root, DUE_DATES)
    if not os.path.exists(path):
        return {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    dates = {}
    for line, row in enumerate(rows, start=2):
        name, due = (row.get("name") or "").strip(), (row.get("duedate") or "").strip()
        if not name:
            raise PipelineError(f"{path}, line {line}: no assignment name (columns: name, duedate)")
        try:
            dates[name] = parse_utc(due) if due else None
        except (ValueError, OverflowError) as error:
            raise PipelineError(
                f"{path}, line {line}: {due!r} is not a date ({error}); write it as 2026-11-20 18:00:00 UTC"
            ) from None
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        for name, due in dates.items():
            gradebook.update_or_create_assignment(name, duedate=due)
    return dates
