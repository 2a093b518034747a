"""`make mutants` end to end on two mutants of the real notebook: graded in one pipeline run with
the solution, then judged by the oracle, then written up; so its wiring cannot rot unseen."""

import re

import pytest

from mutants.grade import solution_code
from mutants.operators import generate
from mutants.report import build, render
from mutants.run import run
from testbed.courses import read


def pick(mutants, operator, function, before=r".*"):
    found = [
        m
        for m in mutants
        if m.operator == operator and m.function == function and re.fullmatch(before, m.before.strip())
    ]
    assert found, f"no {operator} mutant of {function} matching {before!r}: has the notebook changed?"
    return found[0]


@pytest.fixture(scope="module")
def mutation_run(course_factory):
    course = course_factory("mutants")
    prelude, cells = solution_code(read(course.notebook_path(course.coursedir.source_directory)))
    generated = generate(cells)
    chosen = [
        pick(generated.mutants, "tril/triu", "create_causal_mask"),  # queries see the future
        # the placeholder the solution overwrites: no input can tell
        pick(generated.mutants, "deleted statement", "ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2", r".* = None"),
    ]
    outcomes, seconds = run(course, chosen, prelude, cells, workers=2, reviewed={}, progress=lambda line: None)
    return generated, outcomes, seconds


def test_a_mutant_the_tests_catch_is_killed_in_its_own_part(mutation_run):
    _, outcomes, _ = mutation_run
    causal = outcomes[0]
    assert causal.status == "killed", causal.reason
    assert "mask" in causal.graded.lost_parts and not causal.wrong_part
    assert not causal.verdict.equivalent and "lower triangle" in causal.verdict.clause


def test_a_mutant_no_input_tells_apart_is_equivalent(mutation_run):
    _, outcomes, _ = mutation_run
    placeholder = outcomes[1]
    assert placeholder.status == "equivalent", placeholder.reason
    assert placeholder.reason.startswith("equivalent: no input among")


def test_the_report_counts_them(mutation_run):
    generated, outcomes, seconds = mutation_run
    report = build(
        outcomes,
        generated,
        date="today",
        notebook="attention.ipynb",
        seconds={**seconds, "total": sum(seconds.values())},
        sample={"size": 2, "seed": 0},
        reviewed={},
    )
    assert (report["counts"]["killed"], report["counts"]["equivalent"], report["kill_rate"]) == (1, 1, 1.0)
    assert report["equivalent"] == [outcomes[1].mutant.id]
    assert "kill rate 100.0%" in render(report)
