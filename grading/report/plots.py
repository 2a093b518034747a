"""The report's figures, drawn with matplotlib (Agg: no display) and inlined as PNG data URLs.

matplotlib is imported when the first figure is drawn: importing it takes about a second, which
the commands that draw nothing (`python -m grading export`, `release`) need not pay."""

import base64
import functools
import io
from collections.abc import Collection, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110


@functools.cache
def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _data_url(fig: "Figure") -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_distribution(scores: Sequence[float], max_score: float) -> str:
    """Histogram of the students' scores, with the class mean and median marked."""
    fig, ax = _pyplot().subplots(figsize=(6.4, 2.8))
    bins = np.linspace(0, max_score, 12).tolist() if max_score > 0 else 10
    ax.hist(scores, bins=bins, color="#4c72b0", edgecolor="white")
    if scores:
        mean, median = float(np.mean(scores)), float(np.median(scores))
        # The label of the line further right goes to its right, the other's to its left: no overlap.
        for value, name, color, style, height in sorted(
            [(mean, "mean", "#c44e52", "--", 0.92), (median, "median", "#2a7a3b", ":", 0.78)]
        ):
            right = value == max(mean, median)
            ax.axvline(value, color=color, linestyle=style, linewidth=1.5)
            ax.annotate(
                f"{name} {value:.1f}",
                (value, ax.get_ylim()[1] * height),
                xytext=(4 if right else -4, 0),
                textcoords="offset points",
                ha="left" if right else "right",
                color=color,
            )
    ax.set_xlim(0, max(max_score, 1))
    ax.set_xlabel(f"score (of {max_score:g})")
    ax.set_ylabel("students")
    from matplotlib.ticker import MaxNLocator  # matplotlib is loaded by now (_pyplot)

    locator = ax.yaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # a new Axes' AutoLocator is one
        locator.set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return _data_url(fig)


def mastery_heatmap(students: Sequence[str], parts: Sequence[str], share: Sequence[Sequence[float | None]]) -> str:
    """Students (rows) by parts (columns); share[i][j] is the fraction of the part's points
    earned (None: no score). Rows and columns come already sorted, weakest first."""
    values = np.array([[np.nan if v is None else v for v in row] for row in share], dtype=float)
    fig, ax = _pyplot().subplots(figsize=(1.1 * len(parts) + 2.6, 0.34 * len(students) + 1.2))
    cmap = _pyplot().colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i in range(len(students)):
        for j in range(len(parts)):
            text = "-" if np.isnan(values[i, j]) else f"{values[i, j]:.0%}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xticks(range(len(parts)), parts, rotation=30, ha="left")
    ax.set_yticks(range(len(students)), students, fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _data_url(fig)


def seconds_per_submission(students: Sequence[str], seconds: Sequence[float], troubled: Collection[str]) -> str:
    """Horizontal bars of the seconds each submission took to grade; troubled ones in red."""
    fig, ax = _pyplot().subplots(figsize=(6.4, 0.3 * len(students) + 0.9))
    colors = ["#c44e52" if name in troubled else "#4c72b0" for name in students]
    ax.barh(range(len(students)), seconds, color=colors)
    ax.set_yticks(range(len(students)), students, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds to grade (red: problems met)")
    ax.spines[["top", "right"]].set_visible(False)
    return _data_url(fig)
