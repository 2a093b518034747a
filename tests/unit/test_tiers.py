"""Every test is in exactly one tier, given by the folder it lives in (tests/conftest.py)."""

from conftest import REPO, tier_of


def test_the_folder_gives_the_tier():
    assert tier_of(REPO / "tests" / "unit" / "test_anything.py") == "unit"
    assert tier_of(REPO / "tests" / "e2e" / "test_course_on_hub.py") == "browser"
    assert tier_of(REPO / "tests" / "test_a_new_file.py") == "kernel"  # a new test runs somewhere
    assert tier_of(REPO / "tests" / "units" / "test_lookalike.py") == "kernel"


def test_this_test_has_its_tier_mark_and_no_other(request):
    assert [mark.name for mark in request.node.iter_markers() if mark.name in ("unit", "kernel", "browser")] == ["unit"]
