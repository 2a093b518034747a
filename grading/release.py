"""The release: generated from source/ on request only, graded against as committed.

``make release`` (``generate_release``) is the one command that regenerates release/ and
the tests stored in the gradebook, both with nbgrader generate_assignment. Grading never
does: students have the committed release, so that is what their work is graded against,
with the tests nbgrader stored for it. ``check_release`` runs before grading: it generates
the assignment from source/ into a scratch folder and a scratch gradebook and compares both
with what was released, so that an edit to source/ made after the release went out is
reported instead of silently changing the grades (and so is a change of OmitParts.omit in
nbgrader_config.py, named as such).
"""

import os
import shutil
from collections.abc import Callable

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateAssignment

from . import new_gradebook
from .course import Course
from .errors import PipelineError
from .preprocessors.omit_parts import WITHOUT, form_tags
from .snapshot import StoredCells, stored_cells

CHECK = os.path.join(".grading", "release-check")  # scratch release and gradebook of the check


def generate_release(course: Course) -> None:
    """nbgrader generate_assignment for the course's assignment (overwrites release/)."""
    _generate(course)


def check_release(course: Course, say: Callable[[str], object] = print) -> list[str]:
    """Make sure the gradebook holds the tests of the committed release; say if source/ differs.

    Returns what differs between the assignment source/ generates now and what was released
    (the committed release/ and the tests the gradebook holds), in words; empty when nothing
    does. Grading goes on against what was released either way; only a gradebook without the
    assignment (a fresh clone) gets the tests stored, from source/, and only if source/ still
    generates the committed release: otherwise the tests of that release are nowhere.
    """
    release = course.path(course.coursedir.release_directory)
    if not os.path.isdir(release):
        raise PipelineError(f"no {os.path.relpath(release, course.root)}/: run `make release` first")
    check = os.path.join(course.root, CHECK)
    shutil.rmtree(check, ignore_errors=True)
    os.makedirs(check)
    check_db = new_gradebook.create(os.path.join(check, "gradebook.db"))
    _generate(course, release_directory=os.path.join(CHECK, "release"), db_url=check_db)
    generated = os.path.join(check, "release", course.assignment)
    parts = _parts_changed(course, generated, release)
    differences = parts + _differences(generated, release)
    changed = "OmitParts.omit in nbgrader_config.py" if parts else f"source/{course.assignment}"
    stored = _stored(course, course.db_url)
    if stored is None:
        if differences:
            raise PipelineError(
                f"the gradebook has no {course.assignment}, and {changed} no longer generates the committed "
                f"release ({'; '.join(differences)}): run `make release` (students' copies then differ from "
                f"the new release) or restore {changed}"
            )
        _generate(course, release_directory=os.path.join(CHECK, "release"))
        say(f"gradebook: stored the tests of release/{course.assignment}, generated from source/")
    else:
        from_source = _stored(course, check_db)
        if from_source is None:
            raise PipelineError(f"nbgrader generate_assignment stored no tests for {course.assignment}")
        differences += _changed_tests(from_source, stored)
        if differences:
            say(
                f"warning: {changed} has changed since the release ({'; '.join(differences)}). "
                f"Grading against release/{course.assignment} and the tests the gradebook stored for it; "
                "`make release` regenerates both (students' copies then differ from the new release)."
            )
    shutil.rmtree(check, ignore_errors=True)
    return differences


def _generate(course: Course, **directories: str) -> None:
    result = course.run(GenerateAssignment, ".", **directories)
    if not result["success"]:
        raise PipelineError("nbgrader generate_assignment failed:\n" + result.get("error", "") + result.get("log", ""))


def _stored(course: Course, db_url: str) -> StoredCells | None:
    with Gradebook(db_url, course.coursedir.course_id) as gradebook:
        try:
            return stored_cells(gradebook, course.assignment, course.notebook)
        except MissingEntry:
            return None


def _parts_changed(course: Course, generated: str, committed: str) -> list[str]:
    """The optional parts (grading/preprocessors/omit_parts.py) that one release holds and the
    other not, in words: the cause to name when OmitParts.omit changed after the release."""
    source = nbformat.read(course.notebook_path(course.coursedir.source_directory), as_version=4)
    parts: dict[str, set[str]] = {}  # part tag -> the grade ids of its cells
    for cell in source.cells:
        for tag in form_tags(cell):
            if not tag.startswith(WITHOUT) and "grade_id" in cell.metadata.get("nbgrader", {}):
                parts.setdefault(tag, set()).add(cell.metadata["nbgrader"]["grade_id"])
    held = {
        folder: {
            part for part, ids in parts.items() if ids & _grade_ids(os.path.join(folder, course.notebook + ".ipynb"))
        }
        for folder in (generated, committed)
    }
    return [
        f"release/ {was} {part}, which nbgrader_config.py's OmitParts.omit now {now}"
        for part in sorted(held[generated] ^ held[committed])
        for was, now in [("holds", "leaves out") if part in held[committed] else ("leaves out", "releases")]
    ]


def _grade_ids(path: str) -> set[str]:
    if not os.path.exists(path):
        return set()
    return {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nbformat.read(path, as_version=4).cells}


def _changed_tests(generated: StoredCells, stored: StoredCells) -> list[str]:
    """The cells whose stored version (hidden tests, points, ...) source/ would now change."""
    names = sorted(
        {
            name
            for kind in stored
            for name in set(stored[kind]) | set(generated[kind])
            if stored[kind].get(name) != generated[kind].get(name)
        }
    )
    return (
        [f"tests stored in the gradebook differ in cells {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"]
        if names
        else []
    )


def _differences(generated: str, committed: str) -> list[str]:
    """What differs between two release folders, in words (empty when nothing does)."""
    files = {
        folder: sorted(
            os.path.relpath(os.path.join(parent, name), folder)
            for parent, _, names in os.walk(folder)
            for name in names
        )
        for folder in (generated, committed)
    }
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


def _changed_cells(new: NotebookNode, old: NotebookNode) -> str:
    def key(cell: NotebookNode) -> tuple[str, str, NotebookNode]:
        return cell.cell_type, cell.source, cell.metadata

    def name(index: int, cell: NotebookNode) -> str:
        return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"

    changed = [name(i, cell) for i, (cell, before) in enumerate(zip(new.cells, old.cells)) if key(cell) != key(before)]
    words = f"cells {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''} differ" if changed else ""
    if len(new.cells) != len(old.cells):
        words = ", ".join(filter(None, [words, f"{len(new.cells)} cells instead of {len(old.cells)}"]))
    if new.metadata != old.metadata and not words:
        words = "notebook metadata differs"
    return words
