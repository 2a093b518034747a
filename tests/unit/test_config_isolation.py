"""A run's settings stay in that run: the snapshot and each worker task work on copies of the
course's configuration, never on the sections it shares with its caller."""

import copy
import logging
from types import SimpleNamespace

from traitlets.config import Config

from grading.course import Course
from grading.snapshot import take
from grading.worker import _scratch_course


def test_settings_merged_into_a_snapshot_stay_out_of_the_course(small_course):
    course = small_course("snapshot-settings")
    before = copy.deepcopy(course.config)
    snapshot = take(course, Config({"GuardedExecute": {"timeout": 3, "memory_limit": 0}}))
    assert snapshot.config.GuardedExecute.timeout == 3
    assert snapshot.config.GuardedExecute.memory_limit == 0
    assert course.config == before
    assert "timeout" not in course.config.GuardedExecute  # a second run of this course starts clean
    assert take(course).config.GuardedExecute.memory_limit == before.GuardedExecute.memory_limit


def test_a_worker_task_leaves_the_snapshot_as_it_was(small_course, tmp_path):
    snapshot = take(small_course("snapshot-worker"))
    before = copy.deepcopy(snapshot.config)
    gradebook = tmp_path / "assignment.db"
    gradebook.write_bytes(snapshot.gradebook)
    plugin = SimpleNamespace(snapshot=snapshot, gradebook=str(gradebook), log=logging.getLogger("test"))
    for task in ("first", "second"):
        (tmp_path / task).mkdir()
        course = _scratch_course(plugin, str(tmp_path / task))
        assert course.db_url.endswith(f"{task}/gradebook.db")
    assert snapshot.config == before


def test_a_course_given_a_configuration_leaves_it_as_it_was(tmp_path):
    given = Config({"CourseDirectory": {"course_id": "c"}})
    Course(tmp_path, config=given, log=logging.getLogger("test"))
    assert given == Config({"CourseDirectory": {"course_id": "c"}})
