"""Median and spread of repeated measurements, and ratios of sides timed in the same rounds.

The machines this runs on are shared: another job can take a core at any moment, and a
multi-threaded BLAS call that loses one of its threads can take 50 times longer. So:

* a side's time in one round is the fastest of a few back-to-back calls: interference only
  ever adds time, so the fastest call is the best estimate of what the code itself costs;
* a ratio gets one sample per round, from sides timed back to back in that round, with the
  order rotated each round so that neither side always runs first;
* a figure is the median of the round samples, with the lowest and highest as its spread.
"""

import statistics
import time
from dataclasses import dataclass


@dataclass
class Stat:
    """Median of repeated samples, with the lowest and highest as the spread."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples):
        samples = list(samples)
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


def fastest(fn, calls, warmup=True):
    """Seconds of the fastest of `calls` calls of fn (after an untimed one if warmup).

    The untimed call lets the other side's threads settle (OpenBLAS and OpenMP threads keep
    spinning for a while after a call) and brings this side's data back into cache; calls
    that take seconds do not need it.
    """
    if warmup:
        fn()
    best = float("inf")
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def rounds_of(sides, *, rounds, calls=1, warmup=True):
    """{name: [seconds in each round]} for callables timed in turn, the first side rotating."""
    names = list(sides)
    samples = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(fastest(sides[name], calls, warmup))
    return samples


def ratio(top, bottom):
    """Stat of the per-round ratios top[i] / bottom[i]."""
    return Stat.of(a / b for a, b in zip(top, bottom, strict=True))
