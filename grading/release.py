"""The release: generated from source/ on request only, graded against as committed.

``make release`` (``generate_release``) is the one command that writes release/ and stores
the tests in the gradebook, both with nbgrader generate_assignment. Grading never
regenerates: students have the committed release, so that is what their work is graded
against, with the tests nbgrader stored for it. ``check_release`` runs before grading: it
generates the release from source/ into a scratch folder and a scratch gradebook and
compares it with the committed one, so that an edit to source/ made after the release went
out is reported instead of silently changing the grades.
"""

import os
import shutil

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateAssignment

from .errors import PipelineError
from .snapshot import stored_cells

CHECK = os.path.join(".grading", "release-check")  # scratch release and gradebook of the check


def generate_release(course):
    """nbgrader generate_assignment for the course's assignment (overwrites release/)."""
    _generate(course)


def check_release(course, say=print):
    """Make sure the gradebook holds the tests of the committed release; say if source/ differs.

    Returns the differences between the release that source/ generates now and release/
    (empty when they agree). When they agree and the gradebook lacks the assignment (a fresh
    clone) or holds other tests, the tests are stored from source/; when they differ, grading
    goes on against release/ and the gradebook as they are, and the differences are said.
    """
    release = course.path(course.coursedir.release_directory)
    if not os.path.isdir(release):
        raise PipelineError(f"no {os.path.relpath(release, course.root)}/: run `make release` first")
    check = os.path.join(course.root, CHECK)
    shutil.rmtree(check, ignore_errors=True)
    os.makedirs(check)
    check_db = "sqlite:///" + os.path.join(check, "gradebook.db")
    _generate(course, release_directory=os.path.join(CHECK, "release"), db_url=check_db)
    differences = _differences(os.path.join(check, "release", course.assignment), release)
    stored = _stored(course, course.db_url)
    if differences:
        said = "; ".join(differences)
        if stored is None:
            raise PipelineError(
                f"the gradebook has no {course.assignment}, and source/ no longer generates the committed "
                f"release ({said}): run `make release` (students' copies then differ from the new release) "
                "or restore source/")
        say(f"warning: source/{course.assignment} no longer generates the committed release ({said}). "
            f"Grading against release/{course.assignment} and the tests the gradebook holds for it; "
            "`make release` regenerates both.")
    elif stored != _stored(course, check_db):
        if stored is not None:
            say(f"the gradebook's tests for {course.assignment} were not those of the committed release: "
                "stored them again from source/")
        _generate(course, release_directory=os.path.join(CHECK, "release"))
    shutil.rmtree(check, ignore_errors=True)
    return differences


def _generate(course, **directories):
    result = course.run(GenerateAssignment, ".", **directories)
    if not result["success"]:
        raise PipelineError("nbgrader generate_assignment failed:\n" + result.get("error", "")
                           + result.get("log", ""))


def _stored(course, db_url):
    with Gradebook(db_url, course.coursedir.course_id) as gradebook:
        try:
            return stored_cells(gradebook, course.assignment, course.notebook)
        except MissingEntry:
            return None


def _differences(generated, committed):
    """What differs between two release folders, in words (empty when nothing does)."""
    files = {folder: sorted(os.path.relpath(os.path.join(parent, name), folder)
                            for parent, _, names in os.walk(folder) for name in names)
             for folder in (generated, committed)}
    differences = [f"{name} only in source/" for name in files[generated] if name not in files[committed]]
    differences += [f"{name} only in release/" for name in files[committed] if name not in files[generated]]
    for name in files[generated]:
        if name not in files[committed]:
            continue
        old, new = os.path.join(committed, name), os.path.join(generated, name)
        if name.endswith(".ipynb"):
            changed = _changed_cells(nbformat.read(new, as_version=4), nbformat.read(old, as_version=4))
            if changed:
                differences.append(f"{name}: {changed}")
        elif open(old, "rb").read() != open(new, "rb").read():
            differences.append(f"{name} changed")
    return differences


def _changed_cells(new, old):
    def key(cell):
        return cell.cell_type, cell.source, cell.metadata

    def name(index, cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"

    changed = [name(i, cell) for i, (cell, before) in enumerate(zip(new.cells, old.cells)) if key(cell) != key(before)]
    words = f"cells {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''} differ" if changed else ""
    if len(new.cells) != len(old.cells):
        words = ", ".join(filter(None, [words, f"{len(new.cells)} cells instead of {len(old.cells)}"]))
    if new.metadata != old.metadata and not words:
        words = "notebook metadata differs"
    return words
