"""Reasons a person gave for mutants that earn full marks, by mutant id (see tests/mutants/operators.py).

Each id maps to (verdict, reason). The verdict decides how the mutant counts: "equivalent", or
"breaks" (a survivor the hidden tests should catch); the reason replaces the oracle's in the
report. Ids no longer generated are listed in the report as stale, to be removed here.
"""

_ZERO_HEADS = (
    "equivalent",
    "differs only for a head count of 0 (ZeroDivisionError instead of ValueError); the "
    "clause is about divisibility, which leaves 0 out",
)
_NOT_ARRAYS = ("equivalent", "differs only for arguments that are not NumPy arrays (lists); the contract passes arrays")
_SEQ_LEN_1 = (
    "breaks",
    "only previous_token_projections(1) differs (math.log(0) raises; the solution returns a "
    "valid pair): the clause says any seq_len but the hidden tests start at 2; a test at seq_len = 1, or "
    "a clause that starts at 2, settles it",
)

REVIEWED = {
    "mha:MultiHeadAttention.__init__:comparison:63a86881": _ZERO_HEADS,
    "mha:MultiHeadAttention.__init__:comparison:7d8672d7": _ZERO_HEADS,
    "mha:MultiHeadAttention.__init__:constant:7a335fe7": _ZERO_HEADS,
    "mha:MultiHeadAttention.__init__:constant:9bd4daa5": _ZERO_HEADS,
    "kvcache:KVCache.append:dropped call:411f8da5": _NOT_ARRAYS,
    "kvcache:KVCache.append:dropped call:6cb202c5": _NOT_ARRAYS,
    "kvcache:KVCache.append:deleted statement:ac5bcf2a": _NOT_ARRAYS,
    "tiled:tiled_attention:dropped call:cfcbcfff": _NOT_ARRAYS,
    "tiled:tiled_attention:dropped call:5f88c572": _NOT_ARRAYS,
    "tiled:tiled_attention:dropped call:05e9487b": _NOT_ARRAYS,
    "tiled:tiled_attention:deleted statement:33a555b4": _NOT_ARRAYS,
    "heads:previous_token_projections:constant:2f8c4160": _SEQ_LEN_1,
    "heads:previous_token_projections:dropped call:1672a387": _SEQ_LEN_1,
    "memory-functions:max_seq_len_for_budget:dropped call:e462a1e2": (
        "breaks",
        "a budget given as a float (8e9 bytes) raises TypeError in math.isqrt; the hidden tests pass "
        "integers only. If the contract means integer budgets, the clause should say so",
    ),
}
