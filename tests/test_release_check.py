"""Grading is against what was released: an edit to source/ made afterwards is said and
changes nothing that is graded; a fresh clone gets the tests of the committed release stored."""

import os
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from grading.course import Course
from grading.errors import PipelineError
from grading.release import check_release
from grading.snapshot import stored_cells
from testbed.courses import grade_id, set_omitted_parts


def stored(course):
    with Gradebook(course.db_url) as gradebook:
        return stored_cells(gradebook, "attention", "attention")


def edit_source(course, edit):
    path = Path(course.path("source")) / "attention.ipynb"
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)


def edit_hidden_test(nb):
    cell = next(c for c in nb.cells if "### BEGIN HIDDEN TESTS" in c.source)
    cell.source = cell.source.replace(
        "### END HIDDEN TESTS", "assert True  # added after the release\n### END HIDDEN TESTS"
    )
    return grade_id(cell)


def edit_visible_test(nb):
    cell = next(c for c in nb.cells if grade_id(c) and grade_id(c).startswith("test-"))
    cell.source = "print('added after the release')\n" + cell.source  # above its hidden half: released


def test_source_that_still_generates_the_release_is_quiet(course_factory):
    course = course_factory("unchanged")
    said = []
    assert check_release(course, say=said.append) == [] and said == []


def test_a_hidden_test_edited_after_the_release_is_said_and_not_graded(course_factory):
    course = course_factory("edited-hidden")
    released = stored(course)
    changed = []
    edit_source(course, lambda nb: changed.append(edit_hidden_test(nb)))
    said = []
    differences = check_release(course, say=said.append)
    assert differences == [f"tests stored in the gradebook differ in cells {changed[0]}"]
    assert len(said) == 1 and said[0].startswith("warning: source/attention has changed since the release")
    assert changed[0] in said[0] and "make release" in said[0]
    assert stored(course) == released  # graded with the tests of the release, as stored


def test_a_fresh_clone_gets_the_tests_of_the_release_stored(course_factory):
    course = course_factory("fresh-clone")
    released = stored(course)
    os.remove(Path(course.root) / "gradebook.db")
    said = []
    assert check_release(course, say=said.append) == []
    assert said == ["gradebook: stored the tests of release/attention, generated from source/"]
    assert stored(course) == released


def test_a_fresh_clone_whose_source_no_longer_generates_the_release_stops(course_factory):
    course = course_factory("fresh-clone-edited")
    os.remove(Path(course.root) / "gradebook.db")
    edit_source(course, edit_visible_test)
    with pytest.raises(PipelineError, match="no longer generates the committed release .*attention.ipynb: cells test-"):
        check_release(course)


def test_a_release_setting_changed_after_the_release_is_named_as_the_cause(course_factory):
    course = course_factory("omit-changed")
    released = stored(course)
    set_omitted_parts(course.root, ["part-7"])
    said = []
    differences = check_release(Course(course.root), say=said.append)
    assert differences[0] == "release/ holds part-7, which nbgrader_config.py's OmitParts.omit now leaves out"
    assert len(said) == 1 and said[0].startswith("warning: OmitParts.omit in nbgrader_config.py has changed since")
    assert "make release" in said[0]
    assert stored(course) == released
