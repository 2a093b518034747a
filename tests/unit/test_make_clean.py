"""`make clean` removes what grading writes and never the gradebook, which holds the
formgrader's manual grades and is in no git history."""

import shutil
import subprocess

import pytest

from conftest import REPO

WRITTEN = ["autograded", "feedback", "grades.csv", "canvas-grades.csv", "class-report.html", "grading-report.json"]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_clean_keeps_the_gradebook(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path)
    (tmp_path / "gradebook.db").write_bytes(b"manual grades")
    for name in WRITTEN:
        if "." in name:
            (tmp_path / name).write_text("written by grading")
        else:
            (tmp_path / name / "ada").mkdir(parents=True)
    result = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "gradebook.db").read_bytes() == b"manual grades"
    assert "gradebook.db kept" in result.stdout
    assert [name for name in WRITTEN if (tmp_path / name).exists()] == []
