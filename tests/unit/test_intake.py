"""Intake on submissions as students hand them in: repaired when the notebook can be read, the blank
release with the reason when it cannot; submitted/ itself is never touched."""

import hashlib
import json
from pathlib import Path

import nbformat
import pytest

from grading.course import STAGED_SUBMITTED, Course
from grading.intake import stage_submission

from .notebooks import cell, grade_ids, release


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "release" / "attention"
    folder.mkdir(parents=True)
    nbformat.write(release(), folder / "attention.ipynb")
    return Course(tmp_path)


def hand_in(course, student, files):
    """Write ``{name: notebook or bytes}`` into submitted/<student>/attention/."""
    folder = Path(course.root) / "submitted" / student / "attention"
    folder.mkdir(parents=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else nbformat.writes(content).encode()
        (folder / name).write_bytes(data)
    return folder


def staged(course, student):
    return nbformat.read(
        Path(course.path(STAGED_SUBMITTED, student)) / "attention.ipynb", as_version=nbformat.NO_CONVERT
    )


def events(nb):
    return [event["detail"] for event in nb.metadata.get("grading", {}).get("events", [])]


def solved():
    nb = release()
    cell(nb, "softmax").source = "def softmax(x):\n    return [1.0] * len(x)"
    return nb


def fingerprint(folder):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}


def test_a_good_submission_is_staged_as_it_is_with_its_other_files(course):
    hand_in(course, "ada", {"attention.ipynb": solved(), "notes.txt": b"my notes"})
    intake = stage_submission(course, "ada")
    assert intake.problems == [] and not intake.graded_as_blank
    nb = staged(course, "ada")
    assert cell(nb, "softmax").source == cell(solved(), "softmax").source and events(nb) == []
    assert (Path(course.path(STAGED_SUBMITTED, "ada")) / "notes.txt").read_bytes() == b"my notes"


def test_an_old_nbformat_notebook_is_converted_to_version_4(course):
    text = nbformat.writes(solved(), version=3)
    assert json.loads(text)["nbformat"] == 3
    hand_in(course, "ben", {"attention.ipynb": text.encode()})
    intake = stage_submission(course, "ben")
    nb = staged(course, "ben")
    assert nb.nbformat == 4 and cell(nb, "softmax").source.endswith("return [1.0] * len(x)")
    assert intake.problems == ["attention.ipynb was saved as nbformat 3: converted to nbformat 4"]
    assert events(nb) == intake.problems


def test_hand_edited_json_is_repaired(course):
    raw = json.loads(nbformat.writes(solved()))
    raw["cells"][2]["source"] = ["def softmax(x):\n", "    return [1.0] * len(x)"]  # lines, as Jupyter saves them
    raw["cells"][3]["metadata"]["nbgrader"] = "locked"  # not nbgrader's format
    del raw["cells"][4]["outputs"], raw["cells"][4]["execution_count"]
    hand_in(course, "cara", {"attention.ipynb": json.dumps(raw).encode()})
    intake = stage_submission(course, "cara")
    nb = staged(course, "cara")
    nbformat.validate(nb)
    assert intake.problems == [] and not intake.graded_as_blank
    assert cell(nb, "softmax").source == "def softmax(x):\n    return [1.0] * len(x)"
    assert "nbgrader" not in nb.cells[3].metadata  # RestoreLockedCells then gives it the release's back
    assert nb.cells[4].outputs == [] and nb.cells[4].execution_count is None


def test_a_misnamed_notebook_is_graded_with_a_note(course):
    hand_in(course, "dev", {"attention (1).ipynb": solved()})
    intake = stage_submission(course, "dev")
    nb = staged(course, "dev")
    assert not intake.graded_as_blank and cell(nb, "softmax").source == cell(solved(), "softmax").source
    assert events(nb) == ["the notebook is named 'attention (1).ipynb', not 'attention.ipynb': graded it anyway"]


@pytest.mark.parametrize(
    "files, problem",
    [
        (
            {"attention.ipynb": b'{"cells": [{"cell_type": "code", "source": "x = '},
            "attention.ipynb cannot be read as a notebook",
        ),
        ({"a.ipynb": release(), "b.ipynb": release()}, "no attention.ipynb, and 2 other notebooks (a.ipynb, b.ipynb)"),
        ({"notes.txt": b"I ran out of time"}, "no notebook in submitted/eli/attention/"),
    ],
    ids=["invalid-json", "two-misnamed-notebooks", "no-notebook"],
)
def test_an_unreadable_submission_is_graded_as_the_blank_release_with_the_reason(course, files, problem):
    folder = hand_in(course, "eli", files)
    before = fingerprint(folder)
    intake = stage_submission(course, "eli")
    assert intake.graded_as_blank and len(intake.problems) == 1 and intake.problems[0].startswith(problem)
    nb = staged(course, "eli")
    note, *rest = nb.cells
    assert problem in note.source and "every test scores 0" in note.source
    assert grade_ids(nb)[1:] == grade_ids(release()) and [c.source for c in rest] == [c.source for c in release().cells]
    assert events(nb) == intake.problems
    assert fingerprint(folder) == before


def test_a_student_without_an_assignment_folder_gets_the_blank_release(course):
    (Path(course.root) / "submitted" / "fay").mkdir(parents=True)
    intake = stage_submission(course, "fay")
    assert intake.graded_as_blank and intake.problems == ["no attention/ folder in submitted/fay/"]


def test_code_that_reaches_for_the_grader_is_reported_and_staged_unchanged(course):
    nb = solved()
    cheat = "def softmax(x):\n    globals()['check_close'] = lambda *a, **k: None\n    return [1.0] * len(x)"
    cell(nb, "softmax").source = cheat
    hand_in(course, "mal", {"attention.ipynb": nb})
    assert stage_submission(course, "mal").problems == []
    staged_nb = staged(course, "mal")
    [event] = staged_nb.metadata["grading"]["events"]
    assert event["kind"] == "suspicious" and event["cell"] == "softmax" and "globals()" in event["detail"]
    assert cell(staged_nb, "softmax").source == cheat  # reported, never edited: the tests decide the score


def test_the_release_is_read_once_for_a_whole_class(course, monkeypatch):
    """Given the release (as each worker reads it once), intake never opens the file again, and
    a blank stand-in leaves the given release as it was."""
    from grading import intake

    given = intake.read_release(course)
    before = nbformat.writes(given)
    opened = []
    real_read = nbformat.read
    monkeypatch.setattr(
        intake.nbformat,
        "read",
        lambda file, *a, **k: opened.append(str(getattr(file, "name", file))) or real_read(file, *a, **k),
    )
    hand_in(course, "ada", {"attention.ipynb": solved()})
    hand_in(course, "bea", {"attention.ipynb": b"{not json"})
    hand_in(course, "cy", {"attention.ipynb": solved()})
    for student in ("ada", "bea", "cy"):
        stage_submission(course, student, given)
    assert [Path(path).parts[-3] for path in opened] == ["ada", "bea", "cy"]  # their notebooks, nothing else
    assert staged(course, "bea").cells[0].source.startswith("**Note from the grader:**")
    assert nbformat.writes(given) == before
