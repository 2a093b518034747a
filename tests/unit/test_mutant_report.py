"""The mutation report (tests/mutants/report.py) reads each mutant's grading from the grader's own
StudentResult, and reads it back from report.json (``--rereport``) without losing a field."""

from collections import Counter

from grading.results import StudentResult
from mutants.operators import Generated, Mutant
from mutants.oracle import Verdict
from mutants.report import Outcome, build, rebuild


def mutant(name):
    return Mutant(f"softmax:softmax:axis:{name}", "softmax", "softmax", "axis", 6, "np.max(x, axis=axis)", "", "")


def outcome(name, result, equivalent=False):
    return Outcome(mutant(name), result, Verdict(mutant(name).id, equivalent, 3, detail="differs"))


def report_of(outcomes):
    generated = Generated([o.mutant for o in outcomes], [], Counter())
    return build(outcomes, generated, date="today", notebook="n.ipynb", seconds={}, sample=None, reviewed={})


def test_a_mutant_is_judged_by_the_points_its_result_lost_in_test_cells():
    waiting = {"reflect-kv-cache": [0.0, 10.0]}  # a written answer scores 0 until graded by hand
    killed = StudentResult(
        "mutant0000",
        recorded=True,
        cells={"test-softmax-basics": [0.0, 2.0], "test-mha-heads": [4.0, 4.0], **waiting},
        events=[{"cell": "test-softmax-basics", "kind": "timeout", "detail": "interrupted after 30 s"}],
    )
    full_marks = StudentResult("mutant0001", recorded=True, cells={"test-softmax-basics": [2.0, 2.0], **waiting})
    outcomes = [
        outcome("killed", killed),
        outcome("survived", full_marks),
        outcome("equivalent", full_marks, equivalent=True),
        outcome("not-graded", StudentResult("mutant0003")),
    ]
    assert [o.status for o in outcomes] == ["killed", "survived", "equivalent", "not graded"]
    entry = report_of(outcomes)["mutants"][0]
    assert entry["lost"] == {"test-softmax-basics": [0.0, 2.0]} and entry["lost_parts"] == ["softmax"]
    assert entry["events"] == ["test-softmax-basics: interrupted after 30 s"]


def test_the_report_rebuilt_from_its_own_json_is_the_same_report():
    killed = StudentResult(
        "mutant0000",
        recorded=True,
        cells={"test-mask-causal": [0.0, 2.0]},
        events=[{"cell": "test-mask-causal", "kind": "kernel", "detail": "the kernel died: a: b"}],
    )
    report = report_of([outcome("killed", killed), outcome("survived", StudentResult("mutant0001", recorded=True))])
    assert report["wrong_part"] == [mutant("killed").id]  # a softmax mutant that lost points in masks only
    assert rebuild(report, {}) == report
