"""How `make mutants` judges a surviving mutant without the grader (tests/mutants/oracle.py): the
comparison of results, a probe for every clause of the contract, and the clauses a mutated
function answers to."""

import numpy as np

from contract import CLAUSES
from mutants.clauses import clause_for, clauses_of, parts_of
from mutants.oracle import difference, observe
from mutants.probes import CASES, Raised


def test_the_oracle_compares_like_the_contract():
    x = np.linspace(0.0, 1.0, 6).reshape(2, 3)
    same = observe(x)
    assert difference(same, observe(x + 1e-13)) is None  # float64: 1e-9 relative
    nudged = x.copy()
    nudged[1, 2] += 1e-6
    assert "1 of 6 values differ; first at (1, 2)" in difference(same, observe(nudged))
    assert "float32" in difference(same, observe(x.astype(np.float32)))
    assert difference(observe(x.astype(np.float32)), observe(x.astype(np.float32) + 1e-7)) is None
    assert "(3, 2)" in difference(same, observe(x.T))
    assert difference(observe(np.array([np.nan, 1.0])), observe(np.array([np.nan, 1.0]))) is None
    assert "raises ValueError" in difference(same, observe(Raised(ValueError())))
    assert difference(observe((x, 4)), observe([x, 4.0])) is None  # a tuple and a list unpack alike; 4 == 4.0
    assert "[1]" in difference(observe((x, 4)), observe((x, 5)))


def test_every_clause_has_a_probe_and_every_probe_a_clause():
    targeted = {clause_for(case.name, case.phrase) for case in CASES}  # raises if a phrase matches 0 or 2 clauses
    assert not set(CLAUSES) - targeted, [c.text for c in set(CLAUSES) - targeted]


def test_mutated_functions_answer_to_their_clauses():
    assert parts_of("softmax") == {"softmax"}
    assert parts_of("decode_step") == {"kvcache", "gqa"}  # attached to the class as a method
    assert parts_of("MultiHeadAttention.split_heads") == {"mha", "gqa"}  # a helper: its class's clauses
    assert parts_of("ScaledDotProductAttention.__call__") == {"sdpa"}
    assert parts_of("ANSWER_GPT2_SMALL_SCORES_MIB") == {"memory"}
    assert clauses_of("<cell>") == []
