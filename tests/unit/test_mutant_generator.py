"""The mutants of `make mutants` (tests/mutants/operators.py): what each operator makes, ids that
survive edits elsewhere, and mutants that no longer compile."""

import pytest

from mutants.operators import OPERATORS, generate

SAMPLE = '''\
import numpy as np


def f(x, mask=None, axis=-1):
    """A docstring is no statement to delete."""
    y = np.asarray(x).copy()
    m = np.tril(np.ones((3, 3), dtype=bool))
    if mask is not None and y.shape[0] > 1:
        y = np.where(mask, y, -np.inf)  # a comment
    total = y.sum(axis=axis, keepdims=True)
    y -= total.astype(y.dtype)
    return np.array(y, copy=True) @ m, f"{len(y) - 1}"


ANSWER = 2 * 3
'''


def afters(generated, operator):
    return {m.after.strip() for m in generated.mutants if m.operator == operator}


@pytest.fixture(scope="module")
def sample():
    return generate([("cell", SAMPLE)])


@pytest.mark.parametrize(
    "operator, expected",
    [
        ("tril/triu", {"m = np.triu(np.ones((3, 3), dtype=bool))"}),
        ("-inf", {"y = np.where(mask, y, -1e9)  # a comment", "y = np.where(mask, y, np.inf)  # a comment"}),
        (
            "dropped copy",
            {
                "y = np.asarray(x)",
                'return np.asarray(y, copy=True) @ m, f"{len(y) - 1}"',
                'return np.array(y, copy=False) @ m, f"{len(y) - 1}"',
                "y -= total.astype(y.dtype, copy=False)",
            },
        ),
        ("axis", {"total = y.sum(axis=-1, keepdims=True)", "total = y.sum(axis=None, keepdims=True)"}),
        ("keepdims", {"total = y.sum(axis=axis, keepdims=False)"}),
        (
            "comparison",
            {
                "if mask is None and y.shape[0] > 1:",
                "if mask is not None or y.shape[0] > 1:",
                "if mask is not None and y.shape[0] >= 1:",
                "if mask is not None and y.shape[0] <= 1:",
            },
        ),
        (
            "arithmetic",
            {"y += total.astype(y.dtype)", 'return np.array(y, copy=True) * m, f"{len(y) - 1}"', "ANSWER = 2 / 3"},
        ),
        (
            "argument order",
            {
                "y = np.where(y, mask, -np.inf)  # a comment",
                "y = np.where(mask, -np.inf, y)  # a comment",
                'return m @ np.array(y, copy=True), f"{len(y) - 1}"',
            },
        ),
    ],
)
def test_each_operator_makes_the_mutants_it_should(sample, operator, expected):
    assert afters(sample, operator) == expected


def test_constants_move_by_one_in_both_directions(sample):
    found = afters(sample, "constant")
    assert {"ANSWER = 3 * 3", "ANSWER = 1 * 3", "ANSWER = 2 * 4", "ANSWER = 2 * 2"} <= found
    assert {"def f(x, mask=None, axis=0):", "def f(x, mask=None, axis=-2):"} <= found  # a default, -1 as one literal
    assert "if mask is not None and y.shape[1] > 1:" in found
    assert not any("keepdims=" in a and "keepdims=True" not in a for a in found)  # keepdims is its own operator


def test_dropped_calls_become_their_argument_or_their_object(sample):
    found = afters(sample, "dropped call")
    assert "m = np.tril((3, 3))" in found  # np.ones((3, 3), ...) -> (3, 3)
    assert "total = y" in found  # y.sum(...) -> y
    assert "y = x.copy()" in found
    assert sample.duplicates["dropped call"] >= 1  # dropping .copy() is already the `dropped copy` mutant


def test_every_statement_but_the_docstring_can_be_deleted(sample):
    deleted = [m for m in sample.mutants if m.operator == "deleted statement"]
    assert {m.before.strip().splitlines()[0] for m in deleted} == {
        "y = np.asarray(x).copy()",
        "m = np.tril(np.ones((3, 3), dtype=bool))",
        "if mask is not None and y.shape[0] > 1:",
        "y = np.where(mask, y, -np.inf)  # a comment",
        "total = y.sum(axis=axis, keepdims=True)",
        "y -= total.astype(y.dtype)",
        'return np.array(y, copy=True) @ m, f"{len(y) - 1}"',
        "import numpy as np",
        "ANSWER = 2 * 3",
    }
    assert all(m.after.strip().startswith("pass") for m in deleted)


def test_messages_are_left_alone_and_each_mutant_changes_one_spot(sample):
    assert all(
        'f"{len(y) - 1}"' in m.after
        for m in sample.mutants
        if 'f"{len(y) - 1}"' in m.before and m.operator != "deleted statement"
    )
    for mutant in sample.mutants:
        changed = [i for i, (a, b) in enumerate(zip(SAMPLE.splitlines(), mutant.code.splitlines())) if a != b]
        assert changed and changed[0] == mutant.line - 1, mutant.id
    assert set(m.operator for m in sample.mutants) <= set(OPERATORS)


def test_mutants_name_the_function_they_change(sample):
    functions = {m.function for m in sample.mutants}
    assert functions == {"f", "ANSWER", "<cell>"}  # <cell>: the import


def test_ids_are_unique_and_survive_edits_elsewhere(sample):
    ids = [m.id for m in sample.mutants]
    assert len(ids) == len(set(ids))
    assert [m.id for m in generate([("cell", SAMPLE)]).mutants] == ids
    edited = SAMPLE.replace("ANSWER = 2 * 3", "# a new comment\n\nANSWER = 2 * 3\nOTHER = 7").replace(
        "# a comment", "# reworded"
    )
    again = {m.id for m in generate([("cell", edited)]).mutants}
    assert {i for i in ids if ":f:" in i} <= again
    assert {i for i in ids if ":ANSWER:" in i} <= again


def test_identical_constants_in_one_statement_get_distinct_ids():
    generated = generate([("cell", "x = max(1, 1)\n")])
    ids = [m.id for m in generated.mutants if m.operator == "constant"]
    assert len(ids) == len(set(ids)) == 4


def test_a_mutant_that_no_longer_compiles_is_counted_invalid_not_graded():
    generated = generate([("cell", "import numpy as np\nnp.inf = 1e308\n")])
    assert [m.after.strip() for m in generated.invalid] == ["(-np.inf) = 1e308"]
    assert all(m.operator != "-inf" for m in generated.mutants)
