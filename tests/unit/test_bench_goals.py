"""make bench holds the solution to its goals: the notebook in at most 10 s, tiled attention's
memory about linear in N."""

from bench.suite import GOALS, _figure
from bench.timing import Stat


def test_the_solution_notebook_has_a_goal_of_ten_seconds():
    met = _figure(Stat.of([4.1, 4.6, 5.0]), GOALS["notebook_seconds"])
    assert met["goal"] == "<= 10" and met["met"]
    assert not _figure(Stat.of([9.0, 10.5, 12.0]), GOALS["notebook_seconds"])["met"]


def test_tiled_attention_is_held_to_a_peak_memory_that_grows_about_linearly():
    """The reference's tiled peak against its full attention's, on small lengths (bytes, not time)."""
    import numpy as np

    from bench import memory, solution

    namespace = solution.load()
    lengths = (128, 256, 512)
    tiled = [memory.traced_tiled(namespace, n) for n in lengths]
    full = [memory.traced(namespace, n)[0] for n in lengths]
    slope = lambda peaks: float(np.polyfit(np.log(lengths), np.log(peaks), 1)[0])  # noqa: E731
    assert _figure(Stat.of([slope(tiled)]), GOALS["tiled_memory_exponent"])["met"]
    assert not _figure(Stat.of([slope(full)]), GOALS["tiled_memory_exponent"])["met"]  # a tiling that is not one
