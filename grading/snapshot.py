"""What a submission is graded against, as plain data a worker can take anywhere.

Grading a submission needs three things besides the submission: the released notebook
(its locked cells are put back from it), what nbgrader stored in the gradebook when the
assignment was generated (the full test cells, hidden tests included, their points and
checksums, the kernelspec, the due date) and the course's configuration. The coordinator
reads them once per run into an AssignmentSnapshot; the gradebook part travels as a small
gradebook of its own, written with nbgrader's API and holding the assignment and nothing
else, so that nbgrader's own preprocessors run unchanged on a worker and never touch the
course's gradebook.
"""

import copy
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from traitlets.config import Config

from . import new_gradebook
from .course import Course
from .errors import PipelineError

# What nbgrader's SaveCells stores for each kind of cell (see nbgrader.preprocessors.savecells).
CELL_FIELDS = {
    "grade_cells": ("max_score", "cell_type"),
    "solution_cells": (),
    "task_cells": ("max_score", "cell_type"),
    "source_cells": ("cell_type", "locked", "source", "checksum"),
}
StoredCells = dict[str, dict[str, dict[str, Any]]]  # kind -> cell name -> field -> value


@dataclass(frozen=True)
class AssignmentSnapshot:
    assignment: str
    notebook: str  # the assignment's notebook, without .ipynb
    release_notebook: bytes  # release/<assignment>/<notebook>.ipynb as committed
    release_files: dict[str, bytes]  # its other files: path relative to release/<assignment>/ -> bytes
    gradebook: bytes  # an SQLite gradebook file holding only the assignment (``write_gradebook``)
    config: Config  # the course's configuration, the command line's settings merged in


def take(course: Course, settings: Config | None = None) -> AssignmentSnapshot:
    """The snapshot of ``course``'s assignment; ``settings`` (a Config) override the course's."""
    release = course.path(course.coursedir.release_directory)
    notebook = course.notebook
    with open(os.path.join(release, notebook + ".ipynb"), "rb") as handle:
        release_notebook = handle.read()
    release_files: dict[str, bytes] = {}
    for folder, _, names in os.walk(release):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.relpath(path, release) != notebook + ".ipynb":
                with open(path, "rb") as handle:
                    release_files[os.path.relpath(path, release)] = handle.read()
    with Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        try:
            cells = stored_cells(gradebook, course.assignment, notebook)
        except MissingEntry:
            raise PipelineError(
                f"the gradebook holds no tests for {course.assignment}: run `make release`, or "
                "`python -m grading grade`, which stores them"
            ) from None
        stored = gradebook.find_notebook(notebook, course.assignment)
        duedate, kernelspec = stored.assignment.duedate, stored.kernelspec
    # Config.copy() is shallow: merging into it would change the course's own sections.
    config = copy.deepcopy(course.config)
    if settings is not None:
        config.merge(settings)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "gradebook.db")
        db_url = new_gradebook.create(path)
        write_gradebook(db_url, course.coursedir.course_id, course.assignment, notebook, duedate, kernelspec, cells)
        with open(path, "rb") as handle:
            assignment_gradebook = handle.read()
    return AssignmentSnapshot(
        assignment=course.assignment,
        notebook=notebook,
        release_notebook=release_notebook,
        release_files=release_files,
        gradebook=assignment_gradebook,
        config=config,
    )


def stored_cells(gradebook: Gradebook, assignment: str, notebook: str) -> StoredCells:
    """The cells nbgrader stored for a notebook, by kind (see CELL_FIELDS); MissingEntry if none."""
    stored = gradebook.find_notebook(notebook, assignment)
    return {
        kind: {cell.name: {field: getattr(cell, field) for field in fields} for cell in getattr(stored, kind)}
        for kind, fields in CELL_FIELDS.items()
    }


def write_gradebook(
    db_url: str,
    course_id: str,
    assignment: str,
    notebook: str,
    duedate: datetime | None,
    kernelspec: str | None,
    cells: StoredCells,
) -> None:
    """Fill the new gradebook at ``db_url`` (``new_gradebook.create``) with one assignment and nothing else."""
    with Gradebook(db_url, course_id) as gradebook:
        gradebook.update_or_create_assignment(assignment, duedate=duedate)
        gradebook.add_notebook(notebook, assignment, kernelspec=kernelspec)
        for kind in CELL_FIELDS:
            store = getattr(gradebook, "update_or_create_" + kind[:-1])
            for name, fields in cells[kind].items():
                store(name, notebook, assignment, **fields)
