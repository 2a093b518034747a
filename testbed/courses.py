"""Course folders and completed submissions, built from a course's configuration and source/.

A completed submission is the released notebook with each solution cell filled in from
source/ (solution markers removed), as a student who solved everything would hand in.

Only what a course already offers is used (grading.course.Course and generate_release, which
every grader since the first has), so that a benchmark can build a course for an earlier
checkout's grader with it (bench/grading_time.py).
"""

import copy
import re
import shutil
from pathlib import Path

import nbformat

from grading.course import Course
from grading.release import generate_release

REPO = Path(__file__).resolve().parents[1]

_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.M | re.S)


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solved_source(source):
    """A solution cell's source as a student would write it: the solution without its markers."""
    return _SOLUTION.sub(lambda m: m.group(2), source)


def completed(release, source):
    """The release with every solution cell replaced by the solution from source/."""
    solutions = {
        grade_id(c): solved_source(c.source) for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if grade_id(cell) in solutions:
            cell.source = solutions[grade_id(cell)]
    return nb


def read(path):
    return nbformat.read(path, as_version=4)


def build_course(root, tree=REPO, notebook=None, omit=()):
    """A course directory with ``tree``'s nbgrader_config.py and source/ (or, if given, ``notebook``
    as its one source notebook), and a fresh release/; ``omit``: the optional parts (their tags)
    that its nbgrader_config.py leaves out."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(tree) / "nbgrader_config.py", root)
    if omit:
        set_omitted_parts(root, omit)
    course = Course(root)
    if notebook is None:
        shutil.copytree(Path(tree) / "source", root / "source")
    else:
        source = Path(course.path(course.coursedir.source_directory))
        source.mkdir(parents=True)
        nbformat.write(notebook, source / f"{course.assignment}.ipynb")
    generate_release(course)
    return course


def set_omitted_parts(root, omit):
    """Set OmitParts.omit in a course's nbgrader_config.py, as the instructor's one line does."""
    with open(Path(root) / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.OmitParts.omit = {list(omit)!r}\n")


def submit(course, student, nb):
    """Hand ``nb`` in as ``student``'s submission; return its folder."""
    folder = Path(course.path(course.coursedir.submitted_directory, student))
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{course.notebook}.ipynb")
    return folder
