"""The class report as one self-contained HTML page: a Jinja2 template fed with plain values."""

import datetime
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from . import plots
from .data import ClassData, Student, message_kind
from .similarity import Comparison, Pair, SolutionCopies

MESSAGES_SHOWN = 3  # most frequent failure messages listed per test cell
UNFLAGGED_SHOWN = 3  # most similar pairs below the threshold, shown for calibration


def render(data: ClassData, comparison: Comparison, copies: SolutionCopies | None = None) -> str:
    """The report's HTML for ClassData, a similarity Comparison and the copies of the instructor's
    solution (None: the course has no source/ to compare with)."""
    env = Environment(
        loader=PackageLoader("grading.report"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("class-report.html.j2").render(**context(data, comparison, copies))


def context(data: ClassData, comparison: Comparison, copies: SolutionCopies | None = None) -> dict[str, Any]:
    students = data.students
    auto_parts = [part for part in data.parts if part not in data.manual_parts()]
    max_score = max((s.result.max_score for s in students), default=0.0)
    scores = [s.score for s in students if s.result.recorded]
    flagged = comparison.flagged
    partners: dict[str, list[str]] = {name: [] for name in (s.name for s in students)}
    for pair in flagged:
        a, b = pair.students
        partners[a].append(b)
        partners[b].append(a)
    rows, columns, share = mastery(students, auto_parts)
    troubled = {s.name for s in students if s.result.events}
    return {
        "assignment": data.assignment,
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "duedate": data.duedate,
        "students": students,
        "recorded": len(scores),
        "max_score": max_score,
        "mean": statistics.fmean(scores) if scores else 0.0,
        "median": statistics.median(scores) if scores else 0.0,
        "parts": data.parts,
        "auto_parts": auto_parts,
        "manual_parts": data.manual_parts(),
        "to_grade_by_hand": [s.name for s in students if s.ungraded],
        "distribution_png": plots.score_distribution(scores, max_score),
        "mastery_png": (
            plots.mastery_heatmap(rows, [data.part_titles[part] for part in columns], share)
            if rows and columns
            else None
        ),
        "part_titles": data.part_titles,
        "seconds_png": plots.seconds_per_submission(
            [s.name for s in students], [s.result.seconds for s in students], troubled
        ),
        "test_cells": test_cells(data),
        "troubled": [s for s in students if s.result.events],
        "late": [s for s in students if s.hours_late > 0],
        "partners": partners,
        "comparison": comparison,
        "flagged": [side_by_side(pair, data) for pair in flagged],
        "closest_unflagged": [pair for pair in comparison.pairs if not pair.flagged][:UNFLAGGED_SHOWN],
        "copies": copies,
        "seconds_total": sum(s.result.seconds for s in students),
    }


def mastery(students: list[Student], parts: list[str]) -> tuple[list[str], list[str], list[list[float | None]]]:
    """(student names, parts, share of points): weakest students on top, hardest parts first."""
    recorded = [s for s in students if s.result.recorded]

    def share(student: Student, part: str) -> float | None:
        score, top = student.result.parts.get(part, (0.0, 0.0))
        return score / top if top else None

    def mean(values: Iterable[float | None]) -> float:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if known else 1.0

    parts = sorted(parts, key=lambda part: (mean(share(s, part) for s in recorded), parts.index(part)))
    order = sorted(
        students, key=lambda s: (mean(share(s, part) for part in parts) if s.result.recorded else -1, s.name)
    )
    return (
        [s.name for s in order],
        parts,
        [[share(s, part) if s.result.recorded else None for part in parts] for s in order],
    )


def test_cells(data: ClassData) -> list[dict[str, Any]]:
    """Each autograded cell: who lost points there and the most frequent reasons, grouped by kind."""
    recorded = [s for s in data.students if s.result.recorded]
    out = []
    for cell in data.cells:
        if cell.manual:
            continue
        failures = data.failures.get(cell.grade_id, [])
        lost = [s.name for s in recorded if s.result.cells.get(cell.grade_id, [0, 0])[0] < cell.points]
        kinds = Counter(message_kind(f.message) for f in failures)
        messages = []
        for kind, count in kinds.most_common(MESSAGES_SHOWN):
            same = [f for f in failures if message_kind(f.message) == kind]
            messages.append({"count": count, "example": same[0].message, "students": [f.student for f in same]})
        out.append(
            {
                "grade_id": cell.grade_id,
                "part": cell.part,
                "points": cell.points,
                "lost": lost,
                "of": len(recorded),
                "messages": messages,
                "other_kinds": max(0, len(kinds) - MESSAGES_SHOWN),
            }
        )
    return out


def side_by_side(pair: Pair, data: ClassData) -> dict[str, Any]:
    """A flagged pair's matching cells, each side with the shared code highlighted."""
    a, b = pair.students
    cell_ids = [cell_id for cell_id in data.release_solutions if cell_id in pair.spans[a] or cell_id in pair.spans[b]]
    cells = [
        {
            "cell": cell_id,
            "left": highlight(data.solutions[a].get(cell_id, ""), pair.spans[a].get(cell_id, [])),
            "right": highlight(data.solutions[b].get(cell_id, ""), pair.spans[b].get(cell_id, [])),
        }
        for cell_id in cell_ids
    ]
    return {"pair": pair, "cells": cells}


def highlight(source: str, spans: list[tuple[int, int]]) -> Markup:
    """HTML of ``source`` with the (start, end) character spans marked."""
    html, at = [], 0
    for start, end in spans:
        html.append(escape(source[at:start]))
        html.append(Markup("<mark>") + escape(source[start:end]) + Markup("</mark>"))
        at = end
    html.append(escape(source[at:]))
    return Markup("").join(html)
