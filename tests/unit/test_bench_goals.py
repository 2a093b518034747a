"""make bench holds the solution notebook to its goal: at most 10 s, top to bottom, in a fresh kernel."""

from bench.suite import GOALS, _figure
from bench.timing import Stat


def test_the_solution_notebook_has_a_goal_of_ten_seconds():
    met = _figure(Stat.of([4.1, 4.6, 5.0]), GOALS["notebook_seconds"])
    assert met["goal"] == "<= 10" and met["met"]
    assert not _figure(Stat.of([9.0, 10.5, 12.0]), GOALS["notebook_seconds"])["met"]
