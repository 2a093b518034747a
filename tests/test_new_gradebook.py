"""A gradebook file made by grading.new_gradebook is the one nbgrader makes, without nbgrader's
subprocess (here, in the kernel tier, because nbgrader's own file needs that subprocess)."""

import sqlite3
from contextlib import closing

import nbgrader.api
import pytest
from nbgrader.api import Gradebook

from grading import new_gradebook
from grading.course import put_python_scripts_on_path


def schema(path):
    with closing(sqlite3.connect(path)) as db:
        tables = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        return tables, db.execute("SELECT version_num FROM alembic_version").fetchall()


def test_the_file_is_the_one_nbgrader_makes_and_nbgrader_asks_no_version(tmp_path, monkeypatch):
    put_python_scripts_on_path()  # nbgrader runs `alembic` by name
    with Gradebook("sqlite:///" + str(tmp_path / "nbgraders.db")):
        pass
    url = new_gradebook.create(str(tmp_path / "ours.db"))

    def asked():
        raise AssertionError("nbgrader ran `alembic heads` for a file made by new_gradebook")

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", asked)
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("ps1")
    tables, version = schema(tmp_path / "ours.db")
    assert (tables, version) == schema(tmp_path / "nbgraders.db")
    assert len(tables) > 10 and len(version) == 1


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "gradebook.db"
    path.write_bytes(b"an instructor's grades")
    with pytest.raises(sqlite3.DatabaseError):
        new_gradebook.create(str(path))
    assert path.read_bytes() == b"an instructor's grades"
