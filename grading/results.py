"""A graded submission as the coordinator keeps it: one model for the terminal summary,
grading-report.json, the class report and the mutation runner (tests/mutants).

grading-report.json is a list of ``StudentResult.to_json()``; ``read_report`` gives back
the same objects, so whoever reads the file reads the same fields the grader wrote.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from .parts import is_test, part_of

Score = list[float]  # [score, max]


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    parts: dict[str, Score] = field(default_factory=dict)  # part (grading.parts.part_of) -> [score, max]
    cells: dict[str, Score] = field(default_factory=dict)  # grade id -> [score, max]
    events: list[dict[str, Any]] = field(default_factory=list)  # grading.events
    seconds: float = 0.0
    recorded: bool = False  # its scores are in the gradebook

    @property
    def lost(self) -> dict[str, Score]:
        """The test cells where points were lost: grade id -> [score, max]. Written answers are
        left out: before they are graded by hand they score 0 whatever they say."""
        return {cell: score for cell, score in self.cells.items() if is_test(cell) and score[0] < score[1]}

    @property
    def lost_parts(self) -> list[str]:
        """The parts of the test cells where points were lost, sorted."""
        return sorted({part_of(cell) for cell in self.lost})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> "StudentResult":
        return cls(**row)


def write_report(results: list[StudentResult], path: str | os.PathLike) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump([result.to_json() for result in results], handle, indent=1)


def read_report(path: str | os.PathLike) -> list[StudentResult]:
    with open(path, encoding="utf-8") as handle:
        return [StudentResult.from_json(row) for row in json.load(handle)]
