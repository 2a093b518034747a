"""What the terminal shows while and after a class is graded: a line per submission as it is
recorded, then the mean of each part and how many students lost points there."""

import time

from .parts import HAND_GRADED
from .results import StudentResult


def progress_lines(
    done: int, total: int, result: StudentResult, start: float, results: dict[str, StudentResult]
) -> list[str]:
    """The line of a submission just recorded, and one per problem its grading met."""
    troubled = sum(1 for r in results.values() if r.events)
    lines = [
        f"[{done:>3}/{total}] {result.student:<24} {result.seconds:5.1f} s"
        f"   elapsed {time.monotonic() - start:5.0f} s, submissions with problems so far: {troubled}"
    ]
    lines.extend(f"        ! {event['cell']}: {event['detail']}" for event in result.events)
    return lines


def summarize(results: list[StudentResult]) -> list[str]:
    """Lines of a per-part summary: mean score and how many students lost points there."""
    recorded = [r for r in results if r.recorded]
    lines = [f"{len(recorded)} of {len(results)} submissions graded"]
    if not recorded:
        return lines
    # Parts in the order the notebook has them (the cells' order), the hand-graded one last.
    parts = sorted(dict.fromkeys(part for r in recorded for part in r.parts), key=lambda part: part == HAND_GRADED)
    lines.append(f"{'part':<12}{'mean':>8}{'max':>6}   lost points")
    for part in parts:
        scores = [r.parts[part] for r in recorded if part in r.parts]
        mean = sum(s for s, _ in scores) / len(scores)
        lost = sum(1 for s, m in scores if s < m)
        if part == HAND_GRADED:
            lines.append(f"{part:<12}{mean:8.1f}{scores[0][1]:6.0f}   graded by hand in the formgrader")
        else:
            lines.append(f"{part:<12}{mean:8.1f}{scores[0][1]:6.0f}   {lost} of {len(scores)}")
    total = sum(r.score for r in recorded) / len(recorded)
    lines.append(f"{'total':<12}{total:8.1f}{recorded[0].max_score:6.0f}")
    return lines
