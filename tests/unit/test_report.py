"""What the instructor reads after grading: the part of each grade cell, the per-part summary and
grading-report.json, from results made by hand."""

import json

import pytest

from grading.parts import HAND_GRADED, part_of
from grading.results import StudentResult, read_report, write_report
from grading.summary import summarize


@pytest.mark.parametrize(
    "grade_id, part",
    [
        ("test-softmax-rows-sum-to-one", "softmax"),
        ("test-mha-heads", "mha"),
        ("test-gqa-shares-kv-heads", "gqa"),  # a part the grader has never heard of
        ("reflect-kv-cache-tradeoff", HAND_GRADED),
        ("test-softmax", "test-softmax"),  # no part named: the cell is its own part
        ("setup-imports", "setup-imports"),
    ],
)
def test_part_of_reads_the_part_from_the_grade_id(grade_id, part):
    assert part_of(grade_id) == part


def result(student, parts, events=(), recorded=True):
    cells = {f"test-{part}-x": list(score) for part, score in parts.items() if part != HAND_GRADED}
    return StudentResult(
        student,
        score=sum(s for s, _ in parts.values()),
        max_score=sum(m for _, m in parts.values()),
        parts={part: list(score) for part, score in parts.items()},
        cells=cells,
        events=list(events),
        seconds=4.2,
        recorded=recorded,
    )


def test_summary_gives_each_part_its_mean_and_who_lost_points_in_the_course_order():
    results = [
        result("ada", {"softmax": (6, 6), "mha": (10, 12), "zeta": (2, 2), HAND_GRADED: (0, 10)}),
        result("ben", {"softmax": (3, 6), "mha": (12, 12), "zeta": (1, 2), HAND_GRADED: (0, 10)}),
        result("cara", {}, recorded=False),
    ]
    lines = summarize(results)
    assert lines[0] == "2 of 3 submissions graded"
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert list(rows)[:2] == ["softmax", "mha"] and list(rows)[-1] == "total"  # the course's order
    assert set(rows) == {"softmax", "mha", "zeta", HAND_GRADED, "total"}  # a part the grader does not know too
    assert rows["softmax"][1:] == ["4.5", "6", "1", "of", "2"]
    assert rows["mha"][1:] == ["11.0", "12", "1", "of", "2"]
    assert rows["zeta"][1:] == ["1.5", "2", "1", "of", "2"]
    assert rows[HAND_GRADED][1:] == ["0.0", "10", "graded", "by", "hand", "in", "the", "formgrader"]
    assert rows["total"][1:] == ["17.0", "30"]


def test_summary_of_a_class_where_nothing_was_recorded_says_so_and_stops():
    assert summarize([result("ada", {"softmax": (6, 6)}, recorded=False)]) == ["0 of 1 submissions graded"]


def test_report_keeps_every_field_of_every_student(tmp_path):
    results = [
        result("ada", {"softmax": (6, 6)}),
        result("zoë", {"softmax": (0, 6)}, events=[{"cell": "test-softmax-x", "kind": "timeout", "detail": "30 s"}]),
        result("cara", {}, events=[{"cell": "notebook", "kind": "intake", "detail": "no notebook"}], recorded=False),
    ]
    path = tmp_path / "grading-report.json"
    write_report(results, path)
    assert read_report(path) == results
    assert [row["student"] for row in json.loads(path.read_text(encoding="utf-8"))] == ["ada", "zoë", "cara"]


def test_a_result_survives_its_json_round_trip_with_every_field_set():
    graded = StudentResult(
        "ada",
        score=12.5,
        max_score=20.0,
        parts={"softmax": [6.0, 6.0], HAND_GRADED: [0.0, 10.0]},
        cells={"test-softmax-x": [6.0, 6.0]},
        events=[{"cell": "test-softmax-x", "kind": "timeout", "detail": "30 s"}],
        seconds=4.2,
        recorded=True,
    )
    assert StudentResult.from_json(json.loads(json.dumps(graded.to_json()))) == graded


def test_points_are_lost_in_test_cells_only_not_in_written_answers_waiting_for_a_grade():
    graded = StudentResult(
        "ada",
        cells={
            "test-softmax-x": [6.0, 6.0],
            "test-mha-heads": [1.0, 4.0],
            "test-mask-causal": [0.0, 2.0],
            "reflect-kv-cache": [0.0, 10.0],  # scored 0 until graded by hand
        },
    )
    assert graded.lost == {"test-mha-heads": [1.0, 4.0], "test-mask-causal": [0.0, 2.0]}
    assert graded.lost_parts == ["mask", "mha"]
    assert not StudentResult("ben", cells={"test-softmax-x": [6.0, 6.0], "reflect-kv-cache": [0.0, 10.0]}).lost
