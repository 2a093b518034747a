"""Read each submission the way a person would, and stage a copy nbgrader can grade.

nbgrader gives up on a student whose notebook is not valid JSON, whose folder is empty or
whose notebook has another name, and the rest of the log has to explain why. Intake looks
at ``submitted/<student>/<assignment>/`` first and stages, under ``.grading/submitted/``:

* the notebook as submitted (converted to nbformat 4 if older, small schema slips repaired);
* or the notebook under another name, when it is the only one (with a note);
* or, when there is nothing gradable, the blank release with a note at the top, so the
  student still gets a gradebook row, a feedback file and a reason (every cell scores 0).

The instructor's submitted/ folder is never modified.
"""

import copy
import os
import shutil
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from .course import STAGED_SUBMITTED, Course
from .events import INTAKE, record_event
from .tampering import scan


@dataclass
class Intake:
    student: str
    problems: list[str] = field(default_factory=list)
    graded_as_blank: bool = False


def read_release(course: Course) -> NotebookNode:
    """The released notebook, read once per run and given to every call below (a class of
    hundreds would otherwise parse it hundreds of times)."""
    return nbformat.read(course.notebook_path(course.coursedir.release_directory), as_version=4)


def stage_submission(course: Course, student: str, release: NotebookNode | None = None) -> Intake:
    """Stage ``student``'s submission for grading; return what was found wrong with it.
    ``release``: the released notebook (``read_release``), read from the course if not given."""
    release = read_release(course) if release is None else release
    intake = Intake(student)
    source = course.path(course.coursedir.submitted_directory, student)
    dest = course.path(STAGED_SUBMITTED, student)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)

    nb = None
    expected = course.notebook + ".ipynb"
    if not os.path.isdir(source):
        intake.problems.append(f"no {course.assignment}/ folder in submitted/{student}/")
    else:
        names = sorted(name for name in os.listdir(source) if name.endswith(".ipynb"))
        chosen = expected if expected in names else (names[0] if len(names) == 1 else None)
        if chosen is None:
            intake.problems.append(
                f"no notebook in submitted/{student}/{course.assignment}/"
                if not names
                else f"no {expected}, and {len(names)} other notebooks ({', '.join(names)}): "
                "cannot tell which one to grade"
            )
        else:
            if chosen != expected:
                intake.problems.append(f"the notebook is named {chosen!r}, not {expected!r}: graded it anyway")
            nb = read_submitted_notebook(os.path.join(source, chosen), intake.problems)
        for name in os.listdir(source):
            path = os.path.join(source, name)
            if not name.endswith(".ipynb") and os.path.isfile(path):
                shutil.copy2(path, os.path.join(dest, name))

    if nb is None:
        stage_blank(course, student, intake.problems, release)
        intake.graded_as_blank = True
        return intake
    for problem in intake.problems:
        record_event(nb, "notebook", INTAKE, problem)
    for event in scan(nb, release):  # reported for the instructor; the score is the tests' alone
        record_event(nb, event["cell"], event["kind"], event["detail"])
    nbformat.write(nb, os.path.join(dest, expected), version=4)
    return intake


def stage_blank(course: Course, student: str, problems: list[str], release: NotebookNode | None = None) -> None:
    """Stage the blank release, with the problems as a note on top, in place of a submission."""
    nb = blank_stand_in(read_release(course) if release is None else release, problems)
    for problem in problems:
        record_event(nb, "notebook", INTAKE, problem)
    nbformat.write(nb, os.path.join(course.path(STAGED_SUBMITTED, student), course.notebook + ".ipynb"))


def read_submitted_notebook(path: str, problems: list[str]) -> NotebookNode | None:
    """The notebook at path as nbformat 4, or None (with the reason appended to problems)."""
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as handle:
            nb = nbformat.read(handle, as_version=nbformat.NO_CONVERT)
    except Exception as error:  # not JSON, not UTF-8, not a notebook: all mean "unreadable"
        problems.append(f"{name} cannot be read as a notebook ({_first_line(error)})")
        return None
    version = nb.get("nbformat")
    if version != 4:
        try:
            nb = nbformat.convert(nb, 4)
        except Exception as error:
            problems.append(f"{name} uses nbformat {version}, which cannot be converted ({_first_line(error)})")
            return None
        problems.append(f"{name} was saved as nbformat {version}: converted to nbformat 4")
    nb = _repair(nb)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        problems.append(f"{name} is not a valid notebook ({_first_line(error)})")
        return None
    return nb


def _repair(nb: NotebookNode) -> NotebookNode:
    """Fill in the keys whose absence is the usual way a hand-edited notebook is invalid."""
    nb.setdefault("metadata", {})
    nb.setdefault("cells", [])
    for cell in nb.get("cells", []):
        cell.setdefault("metadata", {})
        if not isinstance(cell["metadata"].get("nbgrader", {}), dict):
            del cell["metadata"]["nbgrader"]  # not nbgrader's format: let the release's come back
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    _changes, normalized = nbformat.validator.normalize(nb)
    return nbformat.from_dict(normalized)


def blank_stand_in(release: NotebookNode, problems: list[str]) -> NotebookNode:
    """A copy of the released notebook, with a note on top saying why it stands in for the submission."""
    nb = copy.deepcopy(release)
    note = (
        "**Note from the grader:** your submission could not be graded: "
        + "; ".join(problems)
        + ". The blank assignment was graded in its place, "
        "so every test scores 0. Contact your instructor if this is a mistake."
    )
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(note))
    return nb


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]
