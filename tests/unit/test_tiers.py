"""Every test is in exactly one tier, given by the folder it lives in (tests/conftest.py)."""

import pytest

from conftest import REPO, tier_of, time_per_tier


def test_the_folder_gives_the_tier():
    assert tier_of(REPO / "tests" / "unit" / "test_anything.py") == "unit"
    assert tier_of(REPO / "tests" / "e2e" / "test_course_on_hub.py") == "browser"
    assert tier_of(REPO / "tests" / "test_a_new_file.py") == "kernel"  # a new test runs somewhere
    assert tier_of(REPO / "tests" / "units" / "test_lookalike.py") == "kernel"


def test_this_test_has_its_tier_mark_and_no_other(request):
    assert [mark.name for mark in request.node.iter_markers() if mark.name in ("unit", "kernel", "browser")] == ["unit"]


def test_time_per_tier_adds_every_phase_and_counts_each_test_once():
    def report(nodeid, when, duration):
        return pytest.TestReport(nodeid, ("", 0, ""), {}, "passed", None, when, duration=duration)

    reports = [
        report("tests/unit/test_a.py::test_one", "setup", 0.5),
        report("tests/unit/test_a.py::test_one", "call", 1.0),
        report("tests/unit/test_a.py::test_two", "call", 2.0),
        report("tests/test_catalogue.py::test_bug[x]", "setup", 300.0),
        report("tests/test_catalogue.py::test_bug[x]", "call", 0.1),
        report("tests/test_catalogue.py::test_bug[x]", "teardown", 0.2),
        report("tests/e2e/test_course_on_hub.py::test_round_trip", "call", 60.0),
    ]
    times = time_per_tier(reports)
    assert list(times) == ["unit", "kernel", "browser"]
    assert times["unit"] == (3.5, 2)
    assert times["kernel"][1] == 1 and abs(times["kernel"][0] - 300.3) < 1e-9
    assert times["browser"] == (60.0, 1)
    assert "browser" not in time_per_tier(reports[:2])  # a tier that did not run is not shown
