"""What `python -m grading grade` makes of its arguments, and how it stops on a release it
cannot grade against: one line saying why, no traceback."""

import shutil
from pathlib import Path

import pytest

import grading.run as command
from grading.__main__ import main, parse_args
from grading.errors import PipelineError


def test_a_memory_limit_of_0_means_none_and_reaches_the_workers_as_0(small_course, monkeypatch, capsys):
    course = small_course("memory-limit-0")
    given = []

    def grade_class(course, *, settings, **_):
        given.append(settings)
        raise PipelineError("stopped by the test")

    monkeypatch.setattr(command, "grade_class", grade_class)
    assert main(["grade", "--course", course.root, "--memory-limit", "0"]) == 1
    assert given[0].memory_limit == 0  # GuardedExecute reads 0 as no limit
    assert given[0].config().GuardedExecute.memory_limit == 0


def test_memory_limits_are_read_in_gib_and_a_negative_one_is_refused(capsys):
    assert parse_args(["grade", "--memory-limit", "1.5"]).memory_limit == 3 * 2**29
    assert parse_args(["grade"]).memory_limit is None
    with pytest.raises(SystemExit):
        parse_args(["grade", "--memory-limit", "-1"])
    assert "-1 GiB: a memory limit is 0 (none) or more" in capsys.readouterr().err


def test_the_help_says_what_0_means(capsys):
    with pytest.raises(SystemExit):
        parse_args(["grade", "--help"])
    assert "0 for none" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("extra", [0, 1])
def test_a_release_without_exactly_one_notebook_stops_with_one_line(small_course, capsys, extra):
    course = small_course(f"release-with-{extra + 1}-notebooks")
    release = Path(course.path("release"))
    notebook = release / "attention.ipynb"
    if extra:
        shutil.copy(notebook, release / "attention-copy.ipynb")
    else:
        notebook.unlink()
    assert main(["grade", "--course", course.root]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    expected = (
        "error: release/attention/ holds 2 notebooks (attention-copy.ipynb, attention.ipynb): "
        "an assignment is one notebook, remove the others"
        if extra
        else "error: no notebook in release/attention/: run `python -m grading release` (make release)"
    )
    assert err.strip() == expected
