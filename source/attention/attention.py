# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["part-7"]
# # Module 13: Attention
#
# Attention lets every token of a sequence look at every other token and decide what to borrow
# from it. It is also the part of a transformer whose cost grows fastest with the length of the
# input, which is why so much engineering (KV caches, FlashAttention, grouped-query attention)
# exists around it. In this notebook you build attention in plain NumPy, then measure it and
# build the optimizations that real transformers use.
#
# | Part | You build | You see or measure | Time |
# |---|---|---|---|
# | 1 | a numerically stable `softmax`, `scaled_dot_product_attention` | why the 1/sqrt(d_k) scale matters | 1 h |
# | 2 | causal and padding masks | what each mask does to the weights | 0.5 h |
# | 3 | a previous-token head, by hand | what attention can learn, and why it needs positions | 0.5-1 h |
# | 4 | `MultiHeadAttention` | two heads of one layer, each with its own pattern | 1-1.5 h |
# | 5 | a `KVCache` and `MultiHeadAttention.decode_step` | decoding time with and without the cache | 1-1.5 h |
# | 6 | memory formulas, `fit_scaling_exponent` | the O(N^2) memory of attention, on your own code | 0.5 h |
# | 7.1 | tiled attention | its memory and its time against full attention | 1-2 h |
# | 7.2 | grouped-query attention (back in Part 4's class) | what fewer key/value heads buy | 0.5-1 h |
# | 7.3 | FLOP and bandwidth bounds | why batching exists | 0.5 h |
# | | two written answers | | 0.5 h |
#
# Your code exports to `tinytorch.core.attention`, which Module 14's transformer block imports
# (the last section shows how).
#
# **Time:** 7 to 10 hours for most students (the last column: tiled attention takes longest).
# **Prerequisites:** NumPy broadcasting and matrix multiplication.
#
# ### How this notebook is graded
# * Write your code where you see `raise NotImplementedError(...)` (delete that line). Do not
#   rename the functions or change their arguments: the grader calls them by name.
# * Each part ends with **test cells**. Run them: they say what is wrong and by how much. The
#   autograder runs the same cells with **more checks added** (random shapes, float32 inputs,
#   edge cases), so passing the visible checks is necessary but not sufficient.
# * Each test cell is worth a few points on its own: a bug costs the part it breaks, not the
#   whole notebook. The tests of a part use correct versions of the earlier parts' functions.
# * When the notebook is graded, the test cells run in a process of their own that calls your
#   functions and reads your objects' attributes, while your code runs in a sandbox (no network,
#   no files but its own). So write your code in the solution cells, and do not rely on names a
#   test cell defines (`x`, `mha`, ...): at grading time they exist only on the tests' side.
# * Two short written answers at the end are graded by your instructor.
# * Before you submit: *Kernel > Restart Kernel and Run All Cells*, and check every test cell.

# %% [markdown] tags=["without-part-7"]
# # Module 13: Attention
#
# Attention lets every token of a sequence look at every other token and decide what to borrow
# from it. It is also the part of a transformer whose cost grows fastest with the length of the
# input, which is why so much engineering (KV caches, FlashAttention, grouped-query attention)
# exists around it. In this notebook you build attention in plain NumPy, then measure it and
# build the optimization every transformer decodes with: the KV cache.
#
# | Part | You build | You see or measure | Time |
# |---|---|---|---|
# | 1 | a numerically stable `softmax`, `scaled_dot_product_attention` | why the 1/sqrt(d_k) scale matters | 1 h |
# | 2 | causal and padding masks | what each mask does to the weights | 0.5 h |
# | 3 | a previous-token head, by hand | what attention can learn, and why it needs positions | 0.5-1 h |
# | 4 | `MultiHeadAttention` | two heads of one layer, each with its own pattern | 1-1.5 h |
# | 5 | a `KVCache` and `MultiHeadAttention.decode_step` | decoding time with and without the cache | 1-1.5 h |
# | 6 | memory formulas, `fit_scaling_exponent` | the O(N^2) memory of attention, on your own code | 0.5 h |
# | | two written answers | | 0.5 h |
#
# Your code exports to `tinytorch.core.attention`, which Module 14's transformer block imports
# (the last section shows how).
#
# **Time:** 5 to 6.5 hours for most students (the last column: multi-head attention and the KV cache
# take longest).
# **Prerequisites:** NumPy broadcasting and matrix multiplication.
#
# ### How this notebook is graded
# * Write your code where you see `raise NotImplementedError(...)` (delete that line). Do not
#   rename the functions or change their arguments: the grader calls them by name.
# * Each part ends with **test cells**. Run them: they say what is wrong and by how much. The
#   autograder runs the same cells with **more checks added** (random shapes, float32 inputs,
#   edge cases), so passing the visible checks is necessary but not sufficient.
# * Each test cell is worth a few points on its own: a bug costs the part it breaks, not the
#   whole notebook. The tests of a part use correct versions of the earlier parts' functions.
# * When the notebook is graded, the test cells run in a process of their own that calls your
#   functions and reads your objects' attributes, while your code runs in a sandbox (no network,
#   no files but its own). So write your code in the solution cells, and do not rely on names a
#   test cell defines (`x`, `mha`, ...): at grading time they exist only on the tests' side.
# * Two short written answers at the end are graded by your instructor.
# * Before you submit: *Kernel > Restart Kernel and Run All Cells*, and check every test cell.

# %% nbgrader={"grade": false, "grade_id": "setup-imports", "locked": true, "schema_version": 3, "solution": false} tags=["export"]
import math

import numpy as np

# %% nbgrader={"grade": false, "grade_id": "setup-tools", "locked": true, "schema_version": 3, "solution": false}
import os
import time
import tracemalloc

# The autograder (and nbgrader's Validate button) skip the demos: they earn no points and take
# most of the notebook's running time. They always run when you run the notebook yourself.
RUN_DEMOS = os.environ.get("NBGRADER_EXECUTION") not in ("autograde", "validate")
if RUN_DEMOS:
    import matplotlib.pyplot as plt

# %% [markdown]
# The next cell defines the small checking functions the test cells use (`check_close`,
# `check_shape`, ...). You do not need to read it, but it is there if a message puzzles you.
# It is locked: the autograder restores it before grading.

# %% nbgrader={"grade": false, "grade_id": "setup-checks", "locked": true, "schema_version": 3, "solution": false}
import contextlib
import io
import numbers
import warnings


class CheckFailed(AssertionError):
    """A test found a wrong result; the message says which property and by how much.
    `explained` is True when the message names the mistake that gives exactly that result;
    `hint` is the advice at its end, if any."""

    explained, hint = False, ""


def fail(message, explained=False, hint=""):
    error = CheckFailed(message + (f" {hint}" if hint else ""))
    error.explained, error.hint = explained, hint
    raise error


@contextlib.contextmanager
def quiet():
    """Run code without letting warnings reach stderr.

    nbgrader marks a test cell as failed when anything is written to stderr, even a harmless
    RuntimeWarning. The values your code returns are still checked in full.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def as_float_array(x, what):
    """A plain float64 copy of x, or a clear failure."""
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    try:
        with quiet():
            return np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        fail(f"{what} cannot be read as an array of numbers ({error}).")


def _first(mask):
    """Index (a tuple) of the first True entry of a boolean array."""
    return tuple(int(i) for i in np.unravel_index(int(mask.reshape(-1).argmax()), mask.shape))


def check_pair(result, what):
    """result is a pair (output, weights); returns it."""
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"{what} should return a tuple (output, attention_weights), got {type(result).__name__}.")
    return result


def check_shape(x, expected_shape, what, hint=""):
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    shape = np.shape(x)
    if shape != tuple(expected_shape):
        fail(f"{what} has shape {shape}, expected {tuple(expected_shape)}." + (f" {hint}" if hint else ""))


def check_dtype(x, expected_dtype, what):
    if not isinstance(x, np.ndarray):
        fail(f"{what} should be a NumPy array, got {type(x).__name__}.")
    if x.dtype != np.dtype(expected_dtype):
        fail(f"{what} has dtype {x.dtype}, expected {np.dtype(expected_dtype)}. NumPy 2 turns float32 "
             "into float64 when you mix in a float64 array or an np.float64 scalar such as "
             "np.sqrt(d_k); a Python float (math.sqrt) keeps float32.")


def check_finite(x, what):
    a = as_float_array(x, what)
    bad = ~np.isfinite(a)
    if bad.any():
        index = _first(bad)
        fail(f"{what} has {int(bad.sum())} values that are NaN or inf, the first at index "
             f"{index}: {a[index]}. Did a row with every key blocked give 0/0?")


def _matches(a, e, atol, rtol):
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= atol + rtol * np.abs(e)))


def check_close(actual, expected, what, atol=1e-8, rtol=1e-6, hint="", mistakes=None):
    """actual equals expected within atol + rtol * |expected|. ``mistakes`` maps a known
    mistake ("forget the 1/sqrt(d_k) scale") to the result it gives: the message names it."""
    a = as_float_array(actual, what)
    e = as_float_array(expected, "the expected value")
    if a.shape != e.shape:
        fail(f"{what} has shape {a.shape}, expected {e.shape}.")
    with quiet():
        difference = np.abs(a - e)
        wrong = ~(difference <= atol + rtol * np.abs(e))  # NaN compares False, so it counts as wrong
    if wrong.any():
        index = _first(wrong)
        finite = np.isfinite(a)
        message = (f"{what}: {int(wrong.sum())} of {a.size} values are wrong. "
                   f"First at index {index}: got {a[index]:.6g}, expected {e[index]:.6g}")
        if finite.any():
            message += f"; largest difference {float(difference[finite].max()):.3g}"
        if not finite.all():
            message += f"; {int((~finite).sum())} values are NaN or inf"
        message += "."
        for mistake, result in (mistakes or {}).items():
            with quiet():
                if _matches(a, as_float_array(result, mistake), atol, rtol):
                    fail(f"{message} That is exactly what you get if you {mistake}.", explained=True)
        fail(message, hint=hint)


def check_rows_sum_to_one(weights, what):
    sums = as_float_array(weights, what).sum(axis=-1)
    wrong = ~(np.abs(sums - 1.0) <= 1e-6)
    if wrong.any():
        index = _first(wrong)
        fail(f"row {index} of {what} sums to {sums[index]:.4g}, not 1. "
             "Softmax over the last axis (the keys)?")


def check_raises(error_type, function, *args, what):
    try:
        with quiet():
            function(*args)
    except error_type:
        return
    except NotImplementedError:
        raise
    except Exception as error:
        fail(f"{what} should raise {error_type.__name__}, but raised "
             f"{type(error).__name__}: {error}")
    fail(f"{what} should raise {error_type.__name__}, but returned normally.")


def _is_number(value):
    return (isinstance(value, (numbers.Real, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def check_number(value, name):
    """value as a float, if it is a real number (not None, not a bool, not an array)."""
    if value is None:
        fail(f"{name} is still None: set it to a number.")
    if not _is_number(value):
        fail(f"{name} should be a number, got {type(value).__name__}.")
    return float(value)


def check_integer(value, expected, what):
    """value equals the integer `expected` exactly (a Python or NumPy integer, or a whole float)."""
    if not _is_number(value):
        fail(f"{what} should be an integer, got {type(value).__name__}: {value!r}.")
    if isinstance(value, (numbers.Integral, np.integer)):
        got = int(value)
    elif float(value).is_integer():
        got = int(float(value))
    else:
        fail(f"{what} = {float(value)}, which is not a whole number (expected {expected}).")
    if got != expected:
        ratio = f" (off by a factor of {got / expected:.4g})" if expected and got else ""
        fail(f"{what} = {got}, expected {expected}{ratio}.")


# The part that defines each function a later part relies on.
EARLIER_PARTS = {"softmax": "Part 1", "scaled_dot_product_attention": "Part 1", "create_causal_mask": "Part 2",
                 "create_padding_mask": "Part 2", "split_heads": "Part 4", "merge_heads": "Part 4"}
HEAD_HELPERS = ("split_heads", "merge_heads")  # optional: never graded, only named when they are the cause


def _own(name):
    """Your own `name`, or None. (When graded, a test may stand a reference version in for one
    of your functions, so that a bug costs only its own part; this still finds yours.)"""
    return globals().get(name)


def _earlier_part_problem(name):
    """Why the earlier part's function `name` is wrong on a small known case, or None."""
    if name in HEAD_HELPERS:
        x = np.arange(24.0).reshape(1, 2, 12)
        heads = x.reshape(1, 2, 3, 4).transpose(0, 2, 1, 3)  # head h: columns 4h:4(h+1)
        try:
            with quiet():
                layer = _own("MultiHeadAttention")(12, 3, seed=0)
                if name == "split_heads":
                    check_close(layer.split_heads(x), heads, "split_heads of a (1, 2, 12) array into 3 heads")
                else:
                    check_close(layer.merge_heads(heads), x, "merge_heads of 3 heads of size 4")
        except CheckFailed as error:
            return str(error)
        except Exception:  # optional helpers: a stub or a crash is no evidence against them
            return None
        return None
    function = _own(name)
    try:
        with quiet():
            if name == "softmax":
                check_close(function(np.array([[1.0, 2.0, 3.0], [-np.inf, 0.0, -np.inf]])),
                            [[0.09003057, 0.24472847, 0.66524096], [0.0, 1.0, 0.0]], "softmax", atol=1e-7)
            elif name == "scaled_dot_product_attention":
                q, k = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
                v = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
                out, w = check_pair(function(q, k, v, np.array([[1, 1, 0], [0, 0, 0]])),
                                    "scaled_dot_product_attention")
                check_close(w, [[0.66976155, 0.33023845, 0.0], [0.0, 0.0, 0.0]], "weights", atol=1e-7)
                check_close(out, [[1.33023845, 13.3023845], [0.0, 0.0]], "output", atol=1e-6)
            elif name == "create_causal_mask":
                check_close(function(3), np.tril(np.ones((3, 3))), "create_causal_mask(3)")
            elif name == "create_padding_mask":
                check_shape(function([2, 0], 3), (2, 1, 1, 3), "create_padding_mask([2, 0], 3)")
                check_close(function([2, 0], 3)[:, 0, 0], [[1, 1, 0], [0, 0, 0]], "create_padding_mask([2, 0], 3)")
    except Exception as error:  # a stub, a crash or a wrong value: all mean "not ready"
        return f"{type(error).__name__}: {error}"
    return None


@contextlib.contextmanager
def uses_earlier_parts(*names):
    """Checks of a later part: if one fails and an earlier part's function it relies on is
    wrong, say so, because the earlier function is the likelier culprit."""
    try:
        yield
    except (AssertionError, ValueError, TypeError, IndexError) as error:  # a failed check is an AssertionError
        if getattr(error, "explained", False):  # the message already names the mistake made here
            raise
        for name in names:
            problem = _earlier_part_problem(name)
            if problem is not None:
                found = str(error)  # without its hint, which assumed the earlier parts right
                hint = getattr(error, "hint", "")
                found = found[:-len(hint) - 1] if hint and found.endswith(" " + hint) else found
                fail(f"{found}\nFix {EARLIER_PARTS[name]} first: your {name} fails its own check ({problem}). "
                     "Then run this cell again.")
        raise


def peak_memory(function, *args, **kwargs):
    """(result, peak bytes allocated while function ran); its arguments are not counted.

    Here tracemalloc counts what NumPy allocates. When the notebook is graded, the tests run
    apart from your kernel and your functions reach them as stand-ins that measure your
    kernel's memory from outside instead (their own `peak_memory`), against the same limits."""
    measure = getattr(type(function), "peak_memory", None)
    if measure is not None:
        return measure(function, *args, **kwargs)
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with quiet():
            result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def passed(message):
    print(f"passed: {message}")


def recorded(name):
    print(f"{name} is a number; its value is graded when you submit.")


# %% [markdown]
# ---
# ## Part 1: Softmax and scaled dot-product attention
#
# ### The idea in one paragraph
# Each position of a sequence emits three vectors: a **query** ("what am I looking for?"),
# a **key** ("what do I contain?") and a **value** ("what do I hand over if chosen?").
# Query *i* compares itself with every key by a dot product, turns the scores into
# probabilities with a softmax, and returns the probability-weighted average of the values:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V$$
#
# ```
#   Q: (..., L, d_k)      K: (..., S, d_k)      V: (..., S, d_v)
#
#        Q @ K^T / sqrt(d_k)          softmax over the S axis         weights @ V
#   (L, d_k) x (d_k, S)  ─────────>  scores (L, S)  ─────────>  weights (L, S)  ─────────>  output (L, d_v)
#                                    one row per query,          each row sums to 1
#                                    one column per key
# ```
#
# `L` is the number of queries and `S` the number of keys. In self-attention over a whole
# sequence they are equal; in cross-attention (a decoder reading an encoder), and when a cached
# decoder feeds one new token against all earlier ones (Part 5), they differ. The leading `...`
# dimensions (batch, heads) come along for the ride: `@` broadcasts over them.
#
# ### A softmax that does not overflow
# $\mathrm{softmax}(x)_j = e^{x_j} / \sum_k e^{x_k}$. Written literally it breaks: `np.exp(1000.0)`
# is `inf` (in float32 already `np.exp(89.0)` is), and `inf / inf` is NaN. Softmax does not change
# when you subtract the same number from every entry, so subtract the **maximum** of each slice
# first: the largest exponent becomes `exp(0) = 1` and nothing overflows.
#
# One more case matters for masking later: a slice where every entry is `-inf` (every key blocked).
# Its maximum is `-inf`, and `-inf - (-inf)` is NaN. Our convention is that such a slice gets
# **all zeros**: there is nothing to attend to. PyTorch's `scaled_dot_product_attention` does the
# same since version 2.5; earlier versions, and the reference code in its documentation, give NaN.
#
# Your `softmax(x, axis=-1)` must:
# * work along any `axis` of an array of any number of dimensions;
# * not overflow for logits as large as `1e4`;
# * return float32 for float32 input (and float64 for float64);
# * accept Python lists and integer arrays too (the tests call `softmax([[2.0, 0.5, -1.0]])` and
#   `softmax(np.array([[3, 1, 0]]))`), returning float64 for those: convert with `np.asarray` and
#   make integers floats before anything is computed in place;
# * return zeros, never NaN, for a slice that is entirely `-inf`.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
def softmax(x, axis=-1):
    """Numerically stable softmax of `x` along `axis`; an all -inf slice gives zeros."""
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)  # integer logits: np.exp below works in place, so it needs floats
    x_max = np.max(x, axis=axis, keepdims=True)
    # A slice that is entirely -inf has max -inf; shifting by 0 instead keeps it -inf (exp -> 0).
    x_max[~np.isfinite(x_max)] = 0
    exps = x - x_max  # the only new array as big as x: the steps below overwrite it in place
    np.exp(exps, out=exps)
    total = np.sum(exps, axis=axis, keepdims=True)
    total[total == 0] = 1  # an all -inf slice: 0 / 1 = 0 instead of 0 / 0 = NaN
    exps /= total
    return exps
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-softmax-basics", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Reference implementations, written independently of the solution. Hidden tests compare with
# them, and the tests of later parts run the student's code on them (use_reference), so a bug
# costs only its own part. Everything they use is passed in, so no name a submission rebinds
# reaches them.
import grading.kernel_checks as _checks


def _references(np):
    def softmax(x, axis=-1):
        x = np.asarray(x)
        x64 = x.astype(np.float64)
        shift = np.max(x64, axis=axis, keepdims=True)
        shift[~np.isfinite(shift)] = 0.0
        exps = np.exp(x64 - shift)
        total = exps.sum(axis=axis, keepdims=True)
        p = exps / np.where(total > 0, total, 1.0)
        return p.astype(x.dtype) if x.dtype.kind == "f" else p

    def scaled_dot_product_attention(Q, K, V, mask=None):
        dtype = np.result_type(np.asarray(Q), np.asarray(K), np.asarray(V))
        q, k, v = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        scores = np.einsum("...ld,...sd->...ls", q, k) / q.shape[-1] ** 0.5
        if mask is not None:
            scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
        w = softmax(scores, axis=-1)
        return np.einsum("...ls,...sd->...ld", w, v).astype(dtype), w.astype(dtype)

    def create_causal_mask(seq_len):
        return np.arange(seq_len)[:, None] >= np.arange(seq_len)[None, :]

    def create_padding_mask(lengths, max_len):
        return (np.arange(max_len)[None, :] < np.asarray(lengths)[:, None])[:, None, None, :]

    def multi_head(layer, query, key, value, mask=None, kv_head_of=None):
        """(output, weights) of a (grouped-query) multi-head layer, with the layer's own weights:
        query head h uses columns h*D:(h+1)*D, key/value head h // (H / H_kv) (or kv_head_of(h, H, H_kv))."""
        heads = layer.num_heads
        head_dim = layer.embed_dim // heads
        kv_heads = np.asarray(layer.W_k).shape[1] // head_dim
        q, k, v = query @ layer.W_q, key @ layer.W_k, value @ layer.W_v
        shape = (query.shape[0], heads, query.shape[1], key.shape[1])
        full_mask = None if mask is None else np.broadcast_to(np.asarray(mask), shape)
        outputs, weights = [], []
        for h in range(heads):
            g = h // (heads // kv_heads) if kv_head_of is None else kv_head_of(h, heads, kv_heads)
            qs, ks = slice(h * head_dim, (h + 1) * head_dim), slice(g * head_dim, (g + 1) * head_dim)
            out, w = scaled_dot_product_attention(q[..., qs], k[..., ks], v[..., ks],
                                                  None if full_mask is None else full_mask[:, h])
            outputs.append(out)
            weights.append(w)
        return np.concatenate(outputs, axis=-1) @ layer.W_o, np.stack(weights, axis=1)

    def MultiHeadAttention_forward(self, query, key, value, mask=None, return_attention_weights=False):
        output, weights = multi_head(self, query, key, value, mask)
        return (output, weights) if return_attention_weights else output

    MultiHeadAttention___call__ = MultiHeadAttention_forward
    return {name: f for name, f in locals().items() if callable(f)}


_checks.define(**_references(_checks.np))
# uses_earlier_parts judges the student's own earlier functions, also where use_reference swapped them.
_own = _checks.own
### END HIDDEN TESTS
logits = np.array([[1.0, 2.0, 3.0],
                   [1.0, 1.0, 1.0]])
with quiet():
    probs = softmax(logits)
check_shape(probs, (2, 3), "softmax(logits)")
check_close(probs, [[0.09003057, 0.24472847, 0.66524096], [1 / 3, 1 / 3, 1 / 3]],
            "softmax of [[1, 2, 3], [1, 1, 1]]", atol=1e-7)
check_rows_sum_to_one(probs, "softmax(logits)")
with quiet():
    probs_axis0 = softmax(logits, axis=0)
check_close(as_float_array(probs_axis0, "softmax(logits, axis=0)").sum(axis=0), [1.0, 1.0, 1.0],
            "softmax(logits, axis=0) summed over axis 0",
            hint="Use the `axis` argument in every reduction (max and sum), with keepdims=True.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1301)
    x = rng.normal(size=(2, 3, 4, 5)) * 3
    for axis in (-1, 0, 1, 2, -3):
        expected = ref.softmax(x, axis=axis)
        t.close(t.call(softmax, x.copy(), axis=axis), expected,
                f"softmax of a random (2, 3, 4, 5) array along axis {axis}",
                hint="Use the `axis` argument in every reduction (max and sum), with keepdims=True.")
    t.close(t.call(softmax, x[0, 0, 0].copy()), ref.softmax(x[0, 0, 0]), "softmax of a 1-D array")
    t.close(t.call(softmax, [[2.0, 0.5, -1.0]]), ref.softmax(np.array([[2.0, 0.5, -1.0]])),
            "softmax of a Python list of lists")
### END HIDDEN TESTS
passed("softmax gives probabilities along the chosen axis")

# %% nbgrader={"grade": true, "grade_id": "test-softmax-stability", "locked": true, "points": 2, "schema_version": 3, "solution": false}
big = np.array([1e4, 0.0, -1e4])
with quiet():
    probs_big = softmax(big)
check_close(probs_big, [1.0, 0.0, 0.0], "softmax([1e4, 0, -1e4])",
            hint="Subtract the maximum of each slice before calling np.exp: exp(1e4) is inf, and inf / inf is NaN.")
x32 = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
with quiet():
    probs32 = softmax(x32)
check_dtype(probs32, np.float32, "softmax of a float32 array")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1302)
    large = rng.normal(size=(3, 4, 6)) * 5e3
    t.close(t.call(softmax, large.copy()), ref.softmax(large), "softmax of random logits of size ~5e3", atol=1e-9,
            hint="Subtract the maximum of each slice before calling np.exp.")
    large32 = large.astype(np.float32)
    got32 = t.call(softmax, large32.copy(), axis=1)
    t.dtype(got32, np.float32, "softmax of a float32 (3, 4, 6) array along axis 1")
    t.close(got32, ref.softmax(large32, axis=1), "float32 softmax of large logits along axis 1", atol=1e-6, rtol=1e-4)
    x = rng.normal(size=(5, 7))
    t.close(t.call(softmax, x + 700.0), ref.softmax(x), "softmax(x + 700), which should equal softmax(x)")
    t.dtype(t.call(softmax, x.copy()), np.float64, "softmax of a float64 array")
    t.close(t.call(softmax, np.array([[3, 1, 0]])), ref.softmax(np.array([[3.0, 1.0, 0.0]])),
            "softmax of integer logits [[3, 1, 0]]")
### END HIDDEN TESTS
passed("softmax is stable for large logits and keeps float32")

# %% nbgrader={"grade": true, "grade_id": "test-softmax-masked-rows", "locked": true, "points": 2, "schema_version": 3, "solution": false}
ninf = -np.inf
masked = np.array([[0.0, ninf, 1.0],
                   [ninf, ninf, ninf]])
with quiet():
    probs_masked = softmax(masked)
check_finite(probs_masked, "softmax of a row that is entirely -inf")
check_close(probs_masked, [[1 / (1 + math.e), 0.0, math.e / (1 + math.e)], [0.0, 0.0, 0.0]],
            "softmax([[0, -inf, 1], [-inf, -inf, -inf]])",
            hint="A -inf entry gets probability 0; a slice that is all -inf gets all zeros.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1303)
    x = rng.normal(size=(2, 5, 6))
    x[rng.random(size=x.shape) < 0.4] = -np.inf
    x[0, 2, :] = -np.inf
    x[1, :, 4] = -np.inf
    for axis in (-1, 1):
        t.close(t.call(softmax, x.copy(), axis=axis), ref.softmax(x, axis=axis),
                f"softmax with -inf entries and fully -inf slices along axis {axis}")
    x32 = x.astype(np.float32)
    got32 = t.call(softmax, x32.copy())
    t.dtype(got32, np.float32, "softmax of a float32 array with -inf entries")
    t.close(got32, ref.softmax(x32), "float32 softmax with fully -inf slices", atol=1e-6, rtol=1e-4)
### END HIDDEN TESTS
passed("softmax gives zeros, not NaN, for a slice that is all -inf")

# %% [markdown]
# ### Why divide by sqrt(d_k)?
# If the entries of a query and a key are independent with mean 0 and variance 1, their dot product
# is a sum of `d_k` such products, so its variance is `d_k`. With `d_k = 512` typical scores are
# around ±22, and a softmax of numbers that far apart is nearly one-hot: one key takes all the weight
# and the gradient through the others vanishes. Dividing by `sqrt(d_k)` brings the variance back to 1
# whatever the head size. The plot uses your `softmax`: the largest weight in a row of 64 keys, with
# and without the scale.

# %% nbgrader={"grade": false, "grade_id": "demo-scale", "locked": true, "schema_version": 3, "solution": false}
def largest_weight(d_k, scaled, trials=20, num_keys=64, seed=0):
    """Average (over random trials) of the largest softmax weight of one query over num_keys keys."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(trials, 1, d_k))
    k = rng.normal(size=(trials, num_keys, d_k))
    scores = q @ k.swapaxes(-1, -2)
    if scaled:
        scores = scores / math.sqrt(d_k)
    return softmax(scores).max(axis=-1).mean()


if RUN_DEMOS:
    head_sizes = [4, 16, 64, 256, 1024]
    plt.figure(figsize=(5.5, 3.2))
    plt.semilogx(head_sizes, [largest_weight(d, scaled=False) for d in head_sizes], "o-", label="Q K^T")
    plt.semilogx(head_sizes, [largest_weight(d, scaled=True) for d in head_sizes], "s-", label="Q K^T / sqrt(d_k)")
    plt.axhline(1 / 64, color="gray", lw=0.8, ls=":", label="uniform (1/64)")
    plt.xlabel("head size d_k")
    plt.ylabel("largest weight in a row")
    plt.title("Without the scale, softmax saturates as d_k grows")
    plt.legend()
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ### Scaled dot-product attention
# Implement `scaled_dot_product_attention(Q, K, V, mask=None)`, returning `(output, attention_weights)`.
#
# * Shapes: `Q` is `(..., L, d_k)`, `K` is `(..., S, d_k)`, `V` is `(..., S, d_v)`; the leading
#   dimensions broadcast (a `(2, 1, L, d_k)` query against `(3, S, d_k)` keys gives a `(2, 3, ...)` batch).
#   The weights are `(..., L, S)` and the output `(..., L, d_v)`.
# * `mask` is `None` or an array that broadcasts to `(..., L, S)`. It may be boolean or hold the
#   numbers 0 and 1. **True (or 1) means "may attend", False (or 0) means "blocked"**, as in PyTorch's
#   `scaled_dot_product_attention`. (Careful when you meet `torch.nn.MultiheadAttention` later:
#   its boolean mask means the opposite.) A blocked key gets weight exactly 0.
# * A query whose keys are **all** blocked gets all-zero weights and an all-zero output, never NaN.
#   Setting blocked scores to `-np.inf` and using your `softmax` gives exactly that.
# * float32 inputs give float32 outputs. Watch out for `np.sqrt(d_k)`: it is a float64 *NumPy* scalar
#   and NumPy 2 promotes a float32 array divided by it to float64. `math.sqrt(d_k)` is a Python float and does not.
#
# `K.swapaxes(-1, -2)` transposes the last two axes of an array of any number of dimensions.

# %% nbgrader={"grade": false, "grade_id": "sdpa", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
def scaled_dot_product_attention(Q, K, V, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V. Returns (output, attention_weights).

    mask: None, or an array broadcastable to (..., L, S); True/1 = may attend, False/0 = blocked.
    """
    ### BEGIN SOLUTION
    d_k = Q.shape[-1]
    # Scaling the queries costs L * d_k divisions, scaling the scores L * S. math.sqrt, a Python
    # float, keeps float32 float32.
    scores = (Q / math.sqrt(d_k)) @ K.swapaxes(-1, -2)
    if mask is not None:
        scores = np.where(np.asarray(mask).astype(bool, copy=False), scores, -np.inf)
    # softmax(scores, axis=-1) gives the same weights; these are its steps done in place, because
    # `scores` is our own fresh array and the (..., L, S) copy softmax must make costs a third
    # of this function's time at L = 512.
    row_max = scores.max(axis=-1, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0  # a fully blocked row stays -inf, and exp(-inf) = 0
    scores -= row_max
    weights = np.exp(scores, out=scores)
    total = weights.sum(axis=-1, keepdims=True)
    total[total == 0] = 1  # a fully blocked row: 0 / 1 = 0, not NaN
    weights /= total
    return weights @ V, weights
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-sdpa-worked-example", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax")
### END HIDDEN TESTS
Q = np.array([[1.0, 0.0],
              [0.0, 2.0]])
K = np.array([[1.0, 0.0],
              [0.0, 1.0],
              [1.0, 1.0]])
V = np.array([[1.0, 10.0],
              [2.0, 20.0],
              [3.0, 30.0]])
with quiet():
    out, weights = check_pair(scaled_dot_product_attention(Q, K, V), "scaled_dot_product_attention")
check_shape(weights, (2, 3), "attention weights for 2 queries and 3 keys")
check_shape(out, (2, 2), "output for 2 queries with values of size 2")
# scores = Q K^T / sqrt(2) = [[0.7071, 0, 0.7071], [0, 1.4142, 1.4142]]
check_close(weights, [[0.40111209, 0.19777581, 0.40111209], [0.10838345, 0.44580827, 0.44580827]],
            "attention weights of the worked example", atol=1e-7,
            hint="scores = Q @ K^T / sqrt(d_k), then softmax over the keys (last axis).",
            mistakes={"forget the 1/sqrt(d_k) scale": [[0.4223188, 0.1553624, 0.4223188], [0.06337894, 0.46831053, 0.46831053]],
                      "divide by d_k instead of sqrt(d_k)": [[0.38365173, 0.23269654, 0.38365173], [0.1553624, 0.4223188, 0.4223188]],
                      "take the softmax over the queries (axis -2) instead of the keys": [[0.66976155, 0.19557032, 0.33023845], [0.33023845, 0.80442968, 0.66976155]]})
check_close(out, [[2.0, 20.0], [2.33742482, 23.3742482]], "output of the worked example", atol=1e-6,
            hint="output = weights @ V.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1311)
    q, k, v = rng.normal(size=(4, 3)), rng.normal(size=(6, 3)), rng.normal(size=(6, 5))
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v)
    out, w = t.is_pair(t.call(scaled_dot_product_attention, q.copy(), k.copy(), v.copy()), "scaled_dot_product_attention")
    scores = q @ k.T
    t.close(w, expected_w, "weights for random 2-D Q (4, 3), K (6, 3), V (6, 5)",
            mistakes={"forget the 1/sqrt(d_k) scale": ref.softmax(scores),
                      "divide by d_k instead of sqrt(d_k)": ref.softmax(scores / 3),
                      "scale by the number of keys instead of d_k": ref.softmax(scores / 6 ** 0.5),
                      "take the softmax over the queries (axis -2) instead of the keys": ref.softmax(scores / 3 ** 0.5, axis=0)})
    t.close(out, expected_out, "output for random 2-D Q (4, 3), K (6, 3), V (6, 5)")
### END HIDDEN TESTS
passed("the worked example matches")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-batched", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax")
### END HIDDEN TESTS
rng = np.random.default_rng(0)
Q = rng.normal(size=(2, 3, 5, 4))  # (batch, heads, L, d_k)
K = rng.normal(size=(2, 3, 7, 4))  # (batch, heads, S, d_k)
V = rng.normal(size=(2, 3, 7, 6))  # (batch, heads, S, d_v)
with quiet():
    out, weights = check_pair(scaled_dot_product_attention(Q, K, V), "scaled_dot_product_attention")
check_shape(weights, (2, 3, 5, 7), "weights for L=5 queries and S=7 keys",
            hint="Transpose only the last two axes of K: K.swapaxes(-1, -2), not K.T.")
check_shape(out, (2, 3, 5, 6), "output for L=5 queries and values of size d_v=6")
check_rows_sum_to_one(weights, "the attention weights")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1312)
    q, k, v = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 7, 4)), rng.normal(size=(2, 3, 7, 6))
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v)
    out, w = t.is_pair(t.call(scaled_dot_product_attention, q.copy(), k.copy(), v.copy()), "scaled_dot_product_attention")
    t.close(w, expected_w, "weights for random Q (2, 3, 5, 4), K (2, 3, 7, 4)", hint="Scale by the square root of d_k, the last axis of Q.")
    t.close(out, expected_out, "output for random Q (2, 3, 5, 4), K (2, 3, 7, 4), V (2, 3, 7, 6)")
    qb, kb, vb = rng.normal(size=(2, 1, 3, 8)), rng.normal(size=(4, 5, 8)), rng.normal(size=(4, 5, 2))
    expected_out, expected_w = ref.scaled_dot_product_attention(qb, kb, vb)
    out, w = t.is_pair(t.call(scaled_dot_product_attention, qb.copy(), kb.copy(), vb.copy()), "scaled_dot_product_attention")
    t.close(w, expected_w, "weights when Q (2, 1, 3, 8) broadcasts against K (4, 5, 8)")
    t.close(out, expected_out, "output when Q (2, 1, 3, 8) broadcasts against K (4, 5, 8) and V (4, 5, 2)")
### END HIDDEN TESTS
passed("batched attention has the right shapes and rows that sum to 1")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-dtype", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax")
### END HIDDEN TESTS
Q32 = np.ones((1, 2, 4), dtype=np.float32)
K32 = np.ones((1, 3, 4), dtype=np.float32)
V32 = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
with quiet():
    out32, weights32 = check_pair(scaled_dot_product_attention(Q32, K32, V32), "scaled_dot_product_attention")
check_dtype(weights32, np.float32, "attention weights for float32 inputs")
check_dtype(out32, np.float32, "output for float32 inputs")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1313)
    q32, k32, v32 = (rng.normal(size=s).astype(np.float32) for s in ((3, 2, 6, 8), (3, 2, 9, 8), (3, 2, 9, 5)))
    expected_out, _ = ref.scaled_dot_product_attention(q32, k32, v32)
    out32, w32 = t.is_pair(t.call(scaled_dot_product_attention, q32.copy(), k32.copy(), v32.copy()), "scaled_dot_product_attention")
    t.dtype(w32, np.float32, "weights for random float32 inputs")
    t.dtype(out32, np.float32, "output for random float32 inputs")
    t.close(out32, expected_out, "float32 output for random inputs", atol=1e-5, rtol=1e-4)
    q64, k64, v64 = (a.astype(np.float64) for a in (q32, k32, v32))
    out64, _ = t.is_pair(t.call(scaled_dot_product_attention, q64.copy(), k64.copy(), v64.copy()), "scaled_dot_product_attention")
    t.dtype(out64, np.float64, "output for float64 inputs")
    qbig, kbig = q64 * 300.0, k64 * 300.0
    expected_out, expected_w = ref.scaled_dot_product_attention(qbig, kbig, v64)
    out_big, w_big = t.is_pair(t.call(scaled_dot_product_attention, qbig.copy(), kbig.copy(), v64.copy()), "scaled_dot_product_attention")
    t.finite(out_big, "output for unmasked inputs with scores around 1e5")
    t.close(w_big, expected_w, "weights for unmasked inputs with scores around 1e5", atol=1e-7, hint="Is your softmax stable?")
    _, w_big32 = t.is_pair(t.call(scaled_dot_product_attention, qbig.astype(np.float32), kbig.astype(np.float32), v32.copy()), "scaled_dot_product_attention")
    t.finite(w_big32, "float32 weights for scores around 1e5")
### END HIDDEN TESTS
passed("float32 stays float32")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-mask", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax")
### END HIDDEN TESTS
rng = np.random.default_rng(1)
Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
lower = np.array([[True, False, False],
                  [True, True, False],
                  [True, True, True]])
with quiet():
    out, weights = check_pair(scaled_dot_product_attention(Q, K, V, mask=lower), "scaled_dot_product_attention")
check_shape(weights, (3, 3), "weights for 3 queries and 3 keys with a (3, 3) mask")
check_shape(out, (3, 2), "output for 3 queries with values of size 2")
weights, out = as_float_array(weights, "the masked weights"), as_float_array(out, "the masked output")
with quiet():  # the weights if True were read as blocked (the last row, all blocked, as zeros)
    inverted = np.exp(np.where(lower, -np.inf, Q @ K.T / 2.0) - (Q @ K.T / 2.0).max(axis=-1, keepdims=True))
    inverted = np.nan_to_num(inverted / inverted.sum(axis=-1, keepdims=True))
check_close(weights * ~lower, np.zeros((3, 3)), "weights of blocked keys (mask False)",
            hint="Blocked keys must get weight exactly 0.",
            mistakes={"treat True as blocked (True means 'may attend')": inverted * ~lower})
check_rows_sum_to_one(weights, "the masked attention weights")
check_close(out[0], V[0], "output of query 0, which may only attend to key 0")
with quiet():
    out_int, weights_int = check_pair(scaled_dot_product_attention(Q, K, V, mask=lower.astype(int)),
                                      "scaled_dot_product_attention")
check_close(weights_int, weights, "weights with an integer 0/1 mask (should equal the boolean mask's)",
            hint="Convert the mask with mask.astype(bool), or test mask == 0 / mask != 0.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1314)
    q, k, v = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 7, 4)), rng.normal(size=(2, 3, 7, 6))
    for mask_shape in ((5, 7), (2, 1, 1, 7), (2, 1, 5, 7), (2, 3, 5, 7), (1, 7)):
        mask = rng.random(size=mask_shape) < 0.7
        mask[..., 0] = True
        expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v, mask)
        for kind in (bool, np.int64, np.float32):
            out, w = t.is_pair(t.call(scaled_dot_product_attention, q.copy(), k.copy(), v.copy(), mask=mask.astype(kind)), "scaled_dot_product_attention")
            t.close(w, expected_w, f"weights with a {kind.__name__} mask of shape {mask_shape} (broadcast to (2, 3, 5, 7))",
                    mistakes={"treat True as blocked (torch.nn.MultiheadAttention's convention)": ref.scaled_dot_product_attention(q, k, v, ~mask)[1]})
            t.close(out, expected_out, f"output with a {kind.__name__} mask of shape {mask_shape}")
    out32, w32 = t.is_pair(t.call(scaled_dot_product_attention, q.astype(np.float32), k.astype(np.float32), v.astype(np.float32), mask=mask.astype(np.float64)), "scaled_dot_product_attention")
    t.dtype(w32, np.float32, "weights for float32 inputs with a float64 0/1 mask")
    t.dtype(out32, np.float32, "output for float32 inputs with a float64 0/1 mask")
### END HIDDEN TESTS
passed("masked keys get zero weight")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-fully-masked", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax")
### END HIDDEN TESTS
rng = np.random.default_rng(2)
Q, K, V = rng.normal(size=(2, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
mask = np.array([[True, True, False],
                 [False, False, False]])  # query 1 may attend to nothing
with quiet():
    out, weights = check_pair(scaled_dot_product_attention(Q, K, V, mask=mask), "scaled_dot_product_attention")
check_finite(weights, "weights when one query has every key blocked")
check_finite(out, "output when one query has every key blocked")
check_shape(weights, (2, 3), "weights for 2 queries and 3 keys")
check_shape(out, (2, 2), "output for 2 queries with values of size 2")
weights, out = as_float_array(weights, "the weights"), as_float_array(out, "the output")
every_key = np.exp(Q[1] @ K.T / 2.0) / np.exp(Q[1] @ K.T / 2.0).sum()  # query 1 attending to every key
check_close(weights[1], [0.0, 0.0, 0.0], "weights of the query whose keys are all blocked",
            mistakes={"block with a large negative number such as -1e9 instead of -inf: a row with every "
                      "key blocked then gets uniform weights, not zeros": [1 / 3, 1 / 3, 1 / 3],
                      "treat True as blocked (True means 'may attend')": every_key})
check_close(out[1], [0.0, 0.0], "output of the query whose keys are all blocked")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1315)
    q, k, v = rng.normal(size=(2, 3, 6, 4)), rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 5, 3))
    mask = rng.random(size=(2, 1, 6, 5)) < 0.6
    mask[0, 0, 1, :] = False
    mask[1, 0, 4, :] = False
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v, mask)
    out, w = t.is_pair(t.call(scaled_dot_product_attention, q.copy(), k.copy(), v.copy(), mask=mask), "scaled_dot_product_attention")
    t.close(w, expected_w, "weights of a random batch where some queries have every key blocked")
    t.close(out, expected_out, "output of a random batch where some queries have every key blocked")
    out32, _ = t.is_pair(t.call(scaled_dot_product_attention, q.astype(np.float32), k.astype(np.float32), v.astype(np.float32), mask=mask), "scaled_dot_product_attention")
    t.close(out32, expected_out, "float32 output where some queries have every key blocked", atol=1e-5, rtol=1e-4)
### END HIDDEN TESTS
passed("a query with every key blocked gets zeros, not NaN")

# %% [markdown]
# ### The same thing as a layer
# Frameworks wrap attention in a callable object. Write `ScaledDotProductAttention`: calling it (or its
# `forward` method) with `(query, key, value, mask=None, return_attention_weights=False)` returns the
# output, or `(output, weights)` when `return_attention_weights=True`. Reuse your function.

# %% nbgrader={"grade": false, "grade_id": "sdpa-class", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
class ScaledDotProductAttention:
    """Scaled dot-product attention as a layer (it has no parameters)."""

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        ### BEGIN SOLUTION
        output, weights = scaled_dot_product_attention(query, key, value, mask)
        return (output, weights) if return_attention_weights else output
        ### END SOLUTION

    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask=mask,
                            return_attention_weights=return_attention_weights)


# %% nbgrader={"grade": true, "grade_id": "test-sdpa-layer", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention")
### END HIDDEN TESTS
rng = np.random.default_rng(3)
Q, K, V = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 6, 3))
layer = ScaledDotProductAttention()
with quiet():
    expected_out, expected_weights = scaled_dot_product_attention(Q, K, V)
    only_output = layer(Q, K, V)
    both = layer.forward(Q, K, V, return_attention_weights=True)
check_shape(only_output, (2, 5, 3), "layer(Q, K, V) (the output alone)")
check_close(only_output, expected_out, "layer(Q, K, V) compared with your function")
check_pair(both, "layer.forward(..., return_attention_weights=True)")
check_close(both[1], expected_weights, "weights returned by the layer")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1316)
    q, k, v = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 7, 5)), rng.normal(size=(3, 7, 2))
    mask = rng.random(size=(3, 4, 7)) < 0.5
    mask[1, 2, :] = False  # a query with every key blocked: zero weights, zero output
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v, mask)
    layer = t.call(ScaledDotProductAttention)
    out = t.call(layer, q.copy(), k.copy(), v.copy(), mask=mask)
    t.shape(out, (3, 4, 2), "layer(Q, K, V, mask=...) (the output alone, not a tuple)")
    t.close(out, expected_out, "layer output for random inputs with a mask, one query fully blocked",
            hint="A query whose keys are all blocked gets a zero output.")
    out_default = t.call(layer.forward, q.copy(), k.copy(), v.copy())
    t.shape(out_default, (3, 4, 2), "layer.forward(Q, K, V) with return_attention_weights left at False (the output alone)")
    both = t.is_pair(t.call(layer.forward, q.copy(), k.copy(), v.copy(), mask, True), "layer.forward(..., mask, True)")
    t.close(both[1], expected_w, "layer weights for random inputs with a mask (mask passed by position)")
    t.close(both[0], expected_out, "layer output for random inputs with a mask (mask passed by position)")
    both = t.is_pair(t.call(layer, q.copy(), k.copy(), v.copy(), mask=mask, return_attention_weights=True), "layer(..., return_attention_weights=True)")
    t.close(both[1], expected_w, "weights from layer(..., return_attention_weights=True): __call__ must pass the flag on")
    t.close(both[0], expected_out, "output from layer(..., return_attention_weights=True)")
    v_other = rng.normal(size=(3, 7, 2))
    expected_out2, _ = ref.scaled_dot_product_attention(q, k, v_other)
    t.close(t.call(layer, q.copy(), k.copy(), v_other.copy()), expected_out2,
            "layer(Q, K, V) with values different from the keys: __call__ must pass query, key and value in order")
### END HIDDEN TESTS
passed("the layer wraps the function")

# %% [markdown]
# ---
# ## Part 2: Masks
#
# A mask decides which keys each query may see. Two kinds cover almost everything:
#
# **Causal mask.** A language model that predicts token *t* must not peek at tokens after *t*.
# Query *i* may attend to keys *0..i*: the lower triangle, diagonal included.
# ```
#            keys ->  0  1  2  3
#   query 0        [  T  .  .  . ]
#   query 1        [  T  T  .  . ]
#   query 2        [  T  T  T  . ]
#   query 3        [  T  T  T  T ]        shape (L, L), True = may attend
# ```
# **Padding mask.** Sentences in a batch have different lengths, so short ones are padded to
# `max_len`. Nobody should attend to the padding. For lengths `[3, 1]` and `max_len = 4`:
# ```
#   sequence 0: [ T  T  T  . ]      shape (B, 1, 1, max_len): one row per sequence, with two
#   sequence 1: [ T  .  .  . ]      axes of size 1 so it broadcasts over heads and queries
# ```
# **Combining them** is broadcasting plus a logical *and*: `causal (L, L) & padding (B, 1, 1, L)`
# has shape `(B, 1, L, L)`, and it broadcasts again against the `(B, H, L, L)` scores of
# multi-head attention. No loops, no copies per head.
#
# Write `create_causal_mask(seq_len)` (boolean, `(seq_len, seq_len)`) and
# `create_padding_mask(lengths, max_len)` (boolean, `(B, 1, 1, max_len)`, entry `[b, 0, 0, j]` True
# exactly when `j < lengths[b]`). A length may be anything from 0 to `max_len`; raise `ValueError`
# for one that is negative or larger than `max_len`: silently clipping it would hide a bug in the
# data pipeline.

# %% nbgrader={"grade": false, "grade_id": "masks", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
def create_causal_mask(seq_len):
    """Boolean (seq_len, seq_len) mask, True on and below the diagonal."""
    ### BEGIN SOLUTION
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))
    ### END SOLUTION


def create_padding_mask(lengths, max_len):
    """Boolean (B, 1, 1, max_len) mask; [b, 0, 0, j] is True exactly when j < lengths[b]."""
    ### BEGIN SOLUTION
    lengths = np.asarray(lengths)
    if np.any(lengths < 0) or np.any(lengths > max_len):
        raise ValueError(f"every length must lie in [0, {max_len}], got {lengths.tolist()}")
    positions = np.arange(max_len)
    return (positions[None, :] < lengths[:, None])[:, None, None, :]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-mask-causal", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    causal = create_causal_mask(4)
check_shape(causal, (4, 4), "create_causal_mask(4)")
check_dtype(causal, bool, "create_causal_mask(4)")
check_close(causal, [[1, 0, 0, 0],
                     [1, 1, 0, 0],
                     [1, 1, 1, 0],
                     [1, 1, 1, 1]], "create_causal_mask(4)",
            hint="Query i may attend to keys 0..i: True on and below the diagonal.",
            mistakes={"leave out the diagonal (a token may attend to itself)": np.tril(np.ones((4, 4)), k=-1),
                      "take the upper triangle (queries would see the future)": np.triu(np.ones((4, 4)))})
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    for n in (1, 2, 7, 13):
        causal = t.call(create_causal_mask, n)
        t.dtype(causal, bool, f"create_causal_mask({n})")
        t.close(causal, np.arange(n)[:, None] >= np.arange(n)[None, :], f"create_causal_mask({n})",
                mistakes={"leave out the diagonal (a token may attend to itself)": np.arange(n)[:, None] > np.arange(n)[None, :],
                          "take the upper triangle (queries would see the future)": np.arange(n)[:, None] <= np.arange(n)[None, :]})
### END HIDDEN TESTS
passed("causal mask")

# %% nbgrader={"grade": true, "grade_id": "test-mask-padding", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    padding = create_padding_mask([3, 1], max_len=4)
check_shape(padding, (2, 1, 1, 4), "create_padding_mask([3, 1], max_len=4)",
            hint="Add two axes of size 1 (heads, queries) so the mask broadcasts against (B, H, L, S) scores.")
check_dtype(padding, bool, "create_padding_mask([3, 1], max_len=4)")
check_close(padding[:, 0, 0, :], [[1, 1, 1, 0],
                                  [1, 0, 0, 0]], "create_padding_mask([3, 1], max_len=4)[:, 0, 0, :]",
            hint="Position j of sequence b is real (True) exactly when j < lengths[b].",
            mistakes={"compare with <= instead of < (position lengths[b] is the first padding position)":
                      [[1, 1, 1, 1], [1, 1, 0, 0]]})
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1321)
    lengths = rng.integers(0, 10, size=6)
    lengths[0], lengths[1] = 0, 9
    padding = t.call(create_padding_mask, lengths.copy(), 9)
    t.shape(padding, (6, 1, 1, 9), "create_padding_mask for 6 sequences, max_len=9")
    t.dtype(padding, bool, "create_padding_mask for 6 sequences")
    t.close(padding, (np.arange(9)[None, :] < lengths[:, None])[:, None, None, :],
            "create_padding_mask for random lengths, including 0 and max_len")
    from_list = t.call(create_padding_mask, [int(n) for n in lengths[:3]], 12)
    t.close(from_list, (np.arange(12)[None, :] < lengths[:3, None])[:, None, None, :],
            "create_padding_mask with lengths given as a Python list")
### END HIDDEN TESTS
passed("padding mask")

# %% nbgrader={"grade": true, "grade_id": "test-mask-padding-errors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
check_raises(ValueError, create_padding_mask, [2, -1], 4, what="create_padding_mask([2, -1], 4)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    t.raises(ValueError, create_padding_mask, [5, 2], 4, what="create_padding_mask with a length above max_len")
    t.raises(ValueError, create_padding_mask, np.array([0, 3, 7]), 6, what="create_padding_mask with the last length above max_len")
    t.call(create_padding_mask, [4, 0], 4)  # lengths 0 and max_len are allowed: no error
### END HIDDEN TESTS
passed("invalid lengths raise ValueError")

# %% nbgrader={"grade": true, "grade_id": "test-mask-combined", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention")
### END HIDDEN TESTS
# This test is about combining: it takes your two masks as they are (their values are the
# tests above's), so a wrong value costs its own test only.
with quiet():
    causal, padding = create_causal_mask(4), create_padding_mask([4, 2], max_len=4)
check_shape(causal, (4, 4), "create_causal_mask(4)")
check_shape(padding, (2, 1, 1, 4), "create_padding_mask([4, 2], max_len=4)",
            hint="Fix create_padding_mask first: only a (B, 1, 1, S) padding mask broadcasts against "
                 "a (L, S) causal mask and (B, H, L, S) scores.")
causal = as_float_array(causal, "create_causal_mask(4)") != 0
padding = as_float_array(padding, "create_padding_mask([4, 2], max_len=4)") != 0
combined = causal & padding
check_shape(combined, (2, 1, 4, 4), "causal (4, 4) & padding (2, 1, 1, 4)")
rng = np.random.default_rng(4)
Q, K, V = rng.normal(size=(2, 1, 4, 3)), rng.normal(size=(2, 1, 4, 3)), rng.normal(size=(2, 1, 4, 3))
with uses_earlier_parts("scaled_dot_product_attention"):
    with quiet():
        out, weights = check_pair(scaled_dot_product_attention(Q, K, V, mask=combined), "scaled_dot_product_attention")
    check_shape(weights, (2, 1, 4, 4), "weights with the combined (2, 1, 4, 4) mask")
    weights = as_float_array(weights, "weights with the combined mask")
    check_close(weights * ~combined, np.zeros((2, 1, 4, 4)), "weights where causal & padding is False")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    causal = t.call(create_causal_mask, 6)
    padding = t.call(create_padding_mask, np.array([6, 3, 1]), 6)
    t.shape(padding, (3, 1, 1, 6), "create_padding_mask([6, 3, 1], 6)")
    t.shape(causal, (6, 6), "create_causal_mask(6)")
    combined = (t.array(causal, "create_causal_mask(6)") != 0) & (t.array(padding, "create_padding_mask([6, 3, 1], 6)") != 0)
    t.shape(combined, (3, 1, 6, 6), "causal (6, 6) & padding (3, 1, 1, 6)")
### END HIDDEN TESTS
passed("masks combine by broadcasting")

# %% [markdown]
# ### See the masks at work
# The heatmaps show the attention weights of one small example (rows: queries, columns: keys)
# with each mask. Blocked entries (mask False, weight exactly 0) are grey; white is an allowed key
# that gets almost no weight. The queries and keys here are random and
# independent, so any pattern you see comes from the mask alone. Notice how the causal rows get
# *more* concentrated near the top: query 0 has a single key to look at.

# %% nbgrader={"grade": false, "grade_id": "demo-mask-heatmaps", "locked": true, "schema_version": 3, "solution": false}
def plot_attention_weights(panels, suptitle):
    """One heatmap per (title, weights, mask) triple; rows are queries, columns are keys. Where
    the mask (None: nothing blocked) is False the cell is grey, so that a blocked key and an
    allowed one with a tiny weight do not look alike."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.1 * len(panels), 3.4), sharey=True,
                             layout="constrained")
    cmap = plt.get_cmap("Blues").with_extremes(bad="0.6")
    for ax, (title, w, mask) in zip(np.atleast_1d(axes), panels):
        blocked = np.zeros(w.shape, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask) == 0, w.shape)
        image = ax.imshow(np.ma.masked_array(w, blocked), cmap=cmap, vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("key")
    np.atleast_1d(axes)[0].set_ylabel("query")
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(suptitle)
    plt.show()


if RUN_DEMOS:
    demo_rng = np.random.default_rng(13)
    demo_q, demo_k, demo_v = (demo_rng.normal(size=(1, 6, 8)) for _ in range(3))
    demo_masks = {
        "no mask": None,
        "causal": create_causal_mask(6),
        "padding (length 4)": create_padding_mask([4], 6),
        "causal & padding": create_causal_mask(6) & create_padding_mask([4], 6),
    }
    plot_attention_weights(
        [(name, scaled_dot_product_attention(demo_q, demo_k, demo_v, mask=m)[1].reshape(6, 6),
          None if m is None else np.broadcast_to(m, (1, 1, 6, 6)).reshape(6, 6))
         for name, m in demo_masks.items()],
        "Attention weights of one sequence of 6 tokens, random queries and keys")

# %% [markdown]
# ---
# ## Part 3: What attention can learn
#
# Every weight so far came from random vectors. A trained transformer learns its query and key
# projections, and its heads end up doing recognisable jobs. Two facts set the rules.
#
# **Without positions, attention cannot tell order.** Shuffle the tokens of a sequence and
# self-attention (no mask) returns the same output rows, shuffled the same way:
# `attention(P x) = P attention(x)` for any permutation `P`. Each query only compares contents.
# The next cell checks it on your own attention. So a model that sees only what each token is
# cannot know which came first; that is why Module 12 adds positional encodings to the embeddings
# before the first attention layer.

# %% nbgrader={"grade": false, "grade_id": "demo-permutation", "locked": true, "schema_version": 3, "solution": false}
if RUN_DEMOS:
    perm_rng = np.random.default_rng(3)
    tokens = perm_rng.normal(size=(5, 8))
    order = perm_rng.permutation(5)
    out_plain, _ = scaled_dot_product_attention(tokens, tokens, tokens)
    out_shuffled, _ = scaled_dot_product_attention(tokens[order], tokens[order], tokens[order])
    print(f"tokens shuffled into the order {order.tolist()}: the outputs are the same rows, shuffled "
          f"the same way: {np.allclose(out_shuffled, out_plain[order])}")

# %% [markdown]
# **With positions, it can.** Give each token nothing but its position, as a one-hot vector:
# token `i` is `e_i`, so `X = np.eye(seq_len)`. Then `X @ W_q` is `W_q` itself: row `i` of `W_q`
# *is* query `i`, and row `j` of `W_k` is key `j`. You choose them.
#
# Build a **previous-token head**: write `previous_token_projections(seq_len)` returning
# `(W_q, W_k)`, each of shape `(seq_len, d)` for a `d` of your choice, such that under a causal
# mask every query `i >= 1` puts **more than 0.9** of its weight on key `i - 1`:
# ```
#   weights = scaled_dot_product_attention(X @ W_q, X @ W_k, V, create_causal_mask(seq_len))[1]
#   weights[i, i - 1] > 0.9   for every i >= 1            (row 0 has only key 0 to look at)
# ```
# Plan it on paper first. Make score(i, j) large when `j = i - 1` and 0 otherwise. Query `i` sees
# keys `0..i`: one with score `s` and `i` others with score 0, so its weight on `i - 1` is
# `e^s / (e^s + i)`. How large must `s` be for the longest sequence, and what does the
# `1 / sqrt(d)` inside attention do to it? The tests try `seq_len` from 1 up to **512**, so your
# scale has to grow with `seq_len`: a constant that works for 6 tokens fails for 512.

# %% nbgrader={"grade": false, "grade_id": "heads", "locked": false, "schema_version": 3, "solution": true}
def previous_token_projections(seq_len):
    """(W_q, W_k), each (seq_len, d): with one-hot positions, query i >= 1 attends to key i - 1."""
    ### BEGIN SOLUTION
    d = seq_len
    W_k = np.eye(seq_len, d)  # key j is e_j
    # score(i, i - 1) = strength / sqrt(d) must beat i keys scoring 0: e^s / (e^s + i) > 0.9 needs
    # s > ln(9 i), largest for i = seq_len - 1; one more unit leaves room to spare.
    strength = math.sqrt(d) * (math.log(9 * max(seq_len - 1, 1)) + 1.0)
    W_q = np.zeros((seq_len, d))
    W_q[1:, :-1] = strength * np.eye(seq_len - 1)  # query i points at e_{i-1}
    return W_q, W_k
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-heads-previous-token", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask")
### END HIDDEN TESTS
def previous_token_weights(seq_len, what):
    """The attention weights of the head from previous_token_projections(seq_len), checked for shape."""
    with quiet():
        projections = previous_token_projections(seq_len)
    if not (isinstance(projections, tuple) and len(projections) == 2):
        fail(f"{what} should return a tuple (W_q, W_k).")
    W_q, W_k = (as_float_array(w, what) for w in projections)
    if W_q.ndim != 2 or W_q.shape[0] != seq_len or W_q.shape != W_k.shape:
        fail(f"{what} returned W_q {W_q.shape} and W_k {W_k.shape}: both should be (seq_len, d) = "
             f"({seq_len}, d) with the same d.")
    X = np.eye(seq_len)
    V = np.arange(seq_len, dtype=float)[:, None]  # any values do: the weights are what counts
    with uses_earlier_parts("scaled_dot_product_attention", "create_causal_mask"), quiet():
        _, weights = scaled_dot_product_attention(X @ W_q, X @ W_k, V, create_causal_mask(seq_len))
    return as_float_array(weights, f"the weights of {what}")


def check_previous_token_head(seq_len):
    what = f"previous_token_projections({seq_len})"
    weights = previous_token_weights(seq_len, what)
    check_finite(weights, f"the weights of {what}")
    on_previous = weights[np.arange(1, seq_len), np.arange(seq_len - 1)]
    if not (on_previous > 0.9).all():
        i = int(np.argmin(on_previous)) + 1
        favourite = int(np.argmax(weights[i]))
        fail(f"{what}: query {i} puts {on_previous[i - 1]:.3f} of its weight on key {i - 1}, not more than 0.9"
             + (f"; its largest weight is on key {favourite}." if favourite != i - 1 else
                ": make the score of key i - 1 larger (remember the 1/sqrt(d) scale)."))


check_previous_token_head(6)
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    for seq_len in (1, 2, 3, 5, 8, 13):  # one token: no previous one, but still a valid pair
        projections = t.call(previous_token_projections, seq_len)
        if not (isinstance(projections, (tuple, list)) and len(projections) == 2):
            t.fail(f"previous_token_projections({seq_len}) should return a tuple (W_q, W_k).")
        W_q, W_k = (t.array(w, f"previous_token_projections({seq_len})") for w in projections)
        if W_q.ndim != 2 or W_q.shape[0] != seq_len or W_q.shape != W_k.shape:
            t.fail(f"previous_token_projections({seq_len}) returned W_q {W_q.shape} and W_k {W_k.shape}: "
                   f"both should be ({seq_len}, d) with the same d.")
        _, w = ref.scaled_dot_product_attention(W_q, W_k, np.ones((seq_len, 1)), ref.create_causal_mask(seq_len))
        t.finite(w, f"the weights of the head from previous_token_projections({seq_len})")
        on_previous = w[np.arange(1, seq_len), np.arange(seq_len - 1)]
        if not (on_previous > 0.9).all():
            i = int(np.argmin(on_previous)) + 1
            t.fail(f"previous_token_projections({seq_len}): query {i} puts {on_previous[i - 1]:.3f} of its "
                   f"weight on key {i - 1}, not more than 0.9 (its largest weight is on key {int(np.argmax(w[i]))}).")
### END HIDDEN TESTS
passed("a previous-token head for 6 tokens")

# %% nbgrader={"grade": true, "grade_id": "test-heads-long-sequences", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask")
### END HIDDEN TESTS
check_previous_token_head(64)
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    for seq_len in (100, 256, 512):
        W_q, W_k = (t.array(w, f"previous_token_projections({seq_len})") for w in t.call(previous_token_projections, seq_len))
        if W_q.ndim != 2 or W_q.shape[0] != seq_len or W_q.shape != W_k.shape:
            t.fail(f"previous_token_projections({seq_len}) returned W_q {W_q.shape} and W_k {W_k.shape}.")
        _, w = ref.scaled_dot_product_attention(W_q, W_k, np.ones((seq_len, 1)), ref.create_causal_mask(seq_len))
        on_previous = w[np.arange(1, seq_len), np.arange(seq_len - 1)]
        if not (on_previous > 0.9).all():
            i = int(np.argmin(on_previous)) + 1
            t.fail(f"previous_token_projections({seq_len}): query {i} puts {on_previous[i - 1]:.3f} of its weight on key "
                   f"{i - 1}, not more than 0.9. A longer sequence has more keys to compete with: does your scale grow with seq_len?")
### END HIDDEN TESTS
passed("the head stays sharp for 64 tokens")

# %% [markdown]
# Your head beside a **current-token head** (query `i` points at key `i` instead), for 8 tokens:

# %% nbgrader={"grade": false, "grade_id": "demo-heads", "locked": true, "schema_version": 3, "solution": false}
if RUN_DEMOS:
    head_len = 8
    head_x = np.eye(head_len)
    prev_q, prev_k = previous_token_projections(head_len)
    current_q = 10.0 * math.sqrt(head_len) * np.eye(head_len)
    plot_attention_weights(
        [("previous-token head (yours)",
          scaled_dot_product_attention(head_x @ prev_q, head_x @ prev_k, head_x, create_causal_mask(head_len))[1],
          create_causal_mask(head_len)),
         ("current-token head",
          scaled_dot_product_attention(head_x @ current_q, head_x, head_x, create_causal_mask(head_len))[1],
          create_causal_mask(head_len))],
        "Two heads built from positions alone")

# %% [markdown]
# Nobody writes these matrices in a real model: gradient descent finds them. Trained language
# models do contain previous-token heads, and they are half of an **induction head** circuit
# (Olsson et al., 2022): a previous-token head in one layer writes "the token before me was A"
# into each position; a head in a later layer then looks for earlier positions whose previous
# token matches the current token and copies what came next, so "... Harry Potter ... Harry"
# continues with "Potter". Both need to know where tokens are: without Module 12's positional
# encodings there is no "previous" for a query to ask for.

# %% [markdown] tags=["part-7"]
# ---
# ## Part 4: Multi-head attention
#
# One attention pattern per layer is limiting: a token may want to look at the previous word for
# syntax *and* at a distant name for meaning. Multi-head attention runs `H` attentions in parallel
# and mixes their results. Every head sees all of `x`; what a head owns is its own block of
# columns of `W_q`, `W_k` and `W_v`, so it computes its own queries, keys and values:
#
# ```
#   x: (B, L, E)
#     │ x @ W_q, x @ W_k, x @ W_v            three (E, E) projections
#     ▼
#   q, k, v: (B, L, E)
#     │ split the last axis into H heads:    head h gets columns h*D .. (h+1)*D - 1, D = E // H
#     │ reshape (B, L, H, D), then move the head axis forward: transpose -> (B, H, L, D)
#     ▼
#   scaled_dot_product_attention on (B, H, L, D)    all heads at once, thanks to broadcasting
#     │ out: (B, H, L, D), weights: (B, H, L, S)
#     │ undo the split: transpose -> (B, L, H, D), reshape -> (B, L, E)   (heads side by side, in order)
#     ▼
#   concat @ W_o                                  the output projection mixes the heads
#     ▼
#   y: (B, L, E)
# ```
#
# Two details trip many people up:
# * `reshape(B, H, L, D)` straight from `(B, L, E)` has the right *shape* but puts pieces of
#   different tokens in one head. Reshape to `(B, L, H, D)` first, then transpose.
# * Head `h` must use columns `h*D:(h+1)*D` (the PyTorch convention), not every `H`-th column.
#
# The contract:
# * `MultiHeadAttention(embed_dim, num_heads, seed=None, num_kv_heads=None)` raises `ValueError`
#   unless `embed_dim % num_heads == 0`; it stores `embed_dim`, `num_heads`, `head_dim` and four
#   float64 weight matrices `W_q, W_k, W_v, W_o` of shape `(E, E)`, drawn from
#   `np.random.default_rng(seed)` (the same seed gives the same weights, another seed other
#   weights). Draw every entry from a **normal distribution with mean 0 and standard deviation
#   `1 / sqrt(E)`** (`rng.normal(0.0, 1 / math.sqrt(E), size=...)`), so activations keep their size:
#   the tests check that the entries' root mean square is within a factor of 2 of `1 / sqrt(E)`.
#   Leave `num_kv_heads` alone until Part 7 (it is `None` in every test before then).
# * `forward(query, key, value, mask=None, return_attention_weights=False)` (and `__call__`):
#   `query (B, L, E)`, `key`/`value` `(B, S, E)`, `mask` broadcastable to `(B, H, L, S)`. Read the
#   weights from `self.W_q` and friends at call time (the grader replaces them). No biases.
# * `split_heads` and `merge_heads` are **optional helpers**, never graded on their own: no test
#   calls them. Only `__init__`, `forward` and `__call__` are (and `decode_step` in Part 5); if those
#   use the helpers, a bug in a helper shows up in their tests.

# %% [markdown] tags=["without-part-7"]
# ---
# ## Part 4: Multi-head attention
#
# One attention pattern per layer is limiting: a token may want to look at the previous word for
# syntax *and* at a distant name for meaning. Multi-head attention runs `H` attentions in parallel
# and mixes their results. Every head sees all of `x`; what a head owns is its own block of
# columns of `W_q`, `W_k` and `W_v`, so it computes its own queries, keys and values:
#
# ```
#   x: (B, L, E)
#     │ x @ W_q, x @ W_k, x @ W_v            three (E, E) projections
#     ▼
#   q, k, v: (B, L, E)
#     │ split the last axis into H heads:    head h gets columns h*D .. (h+1)*D - 1, D = E // H
#     │ reshape (B, L, H, D), then move the head axis forward: transpose -> (B, H, L, D)
#     ▼
#   scaled_dot_product_attention on (B, H, L, D)    all heads at once, thanks to broadcasting
#     │ out: (B, H, L, D), weights: (B, H, L, S)
#     │ undo the split: transpose -> (B, L, H, D), reshape -> (B, L, E)   (heads side by side, in order)
#     ▼
#   concat @ W_o                                  the output projection mixes the heads
#     ▼
#   y: (B, L, E)
# ```
#
# Two details trip many people up:
# * `reshape(B, H, L, D)` straight from `(B, L, E)` has the right *shape* but puts pieces of
#   different tokens in one head. Reshape to `(B, L, H, D)` first, then transpose.
# * Head `h` must use columns `h*D:(h+1)*D` (the PyTorch convention), not every `H`-th column.
#
# The contract:
# * `MultiHeadAttention(embed_dim, num_heads, seed=None, num_kv_heads=None)` raises `ValueError`
#   unless `embed_dim % num_heads == 0`; it stores `embed_dim`, `num_heads`, `head_dim` and four
#   float64 weight matrices `W_q, W_k, W_v, W_o` of shape `(E, E)`, drawn from
#   `np.random.default_rng(seed)` (the same seed gives the same weights, another seed other
#   weights). Draw every entry from a **normal distribution with mean 0 and standard deviation
#   `1 / sqrt(E)`** (`rng.normal(0.0, 1 / math.sqrt(E), size=...)`), so activations keep their size:
#   the tests check that the entries' root mean square is within a factor of 2 of `1 / sqrt(E)`.
#   Leave `num_kv_heads` alone (it is `None` in every test).
# * `forward(query, key, value, mask=None, return_attention_weights=False)` (and `__call__`):
#   `query (B, L, E)`, `key`/`value` `(B, S, E)`, `mask` broadcastable to `(B, H, L, S)`. Read the
#   weights from `self.W_q` and friends at call time (the grader replaces them). No biases.
# * `split_heads` and `merge_heads` are **optional helpers**, never graded on their own: no test
#   calls them. Only `__init__`, `forward` and `__call__` are (and `decode_step` in Part 5); if those
#   use the helpers, a bug in a helper shows up in their tests.

# %% nbgrader={"grade": false, "grade_id": "mha", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
class MultiHeadAttention:
    """Multi-head attention with H heads of size embed_dim // H; no biases.

    num_kv_heads: the number of key/value heads, each shared by a group of query heads
    (grouped-query attention); None means num_heads (plain multi-head attention).
    """

    def __init__(self, embed_dim, num_heads, seed=None, num_kv_heads=None):
        ### BEGIN SOLUTION
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        if num_heads <= 0 or embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        if num_kv_heads <= 0 or num_heads % num_kv_heads != 0:
            raise ValueError(f"num_heads ({num_heads}) must be a multiple of num_kv_heads ({num_kv_heads})")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = embed_dim // num_heads
        rng = np.random.default_rng(seed)
        scale = 1.0 / math.sqrt(embed_dim)
        kv_dim = num_kv_heads * self.head_dim
        self.W_q = rng.normal(0.0, scale, size=(embed_dim, embed_dim))
        self.W_k = rng.normal(0.0, scale, size=(embed_dim, kv_dim))
        self.W_v = rng.normal(0.0, scale, size=(embed_dim, kv_dim))
        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))
        ### END SOLUTION

    def split_heads(self, x, num_heads=None):
        """(B, T, num_heads * D) -> (B, num_heads, T, D); num_heads defaults to self.num_heads."""
        ### BEGIN SOLUTION
        heads = self.num_heads if num_heads is None else num_heads
        batch, length, _ = x.shape
        return x.reshape(batch, length, heads, self.head_dim).transpose(0, 2, 1, 3)
        ### END SOLUTION

    def merge_heads(self, x):
        """(B, H, T, D) -> (B, T, E), heads side by side in order."""
        ### BEGIN SOLUTION
        batch, _, length, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(batch, length, self.embed_dim)
        ### END SOLUTION

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        ### BEGIN SOLUTION
        group = self.num_heads // self.num_kv_heads
        q = self.split_heads(query @ self.W_q)
        # Query head h reads key/value head h // group: repeat each of them `group` times, in
        # place (like torch's repeat_interleave), not the whole stack (np.tile).
        k = np.repeat(self.split_heads(key @ self.W_k, self.num_kv_heads), group, axis=1)
        v = np.repeat(self.split_heads(value @ self.W_v, self.num_kv_heads), group, axis=1)
        heads, weights = scaled_dot_product_attention(q, k, v, mask)
        output = self.merge_heads(heads) @ self.W_o
        return (output, weights) if return_attention_weights else output
        ### END SOLUTION

    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask=mask,
                            return_attention_weights=return_attention_weights)


# %% nbgrader={"grade": true, "grade_id": "test-mha-init", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    mha = MultiHeadAttention(embed_dim=12, num_heads=3, seed=0)
    mha_again = MultiHeadAttention(embed_dim=12, num_heads=3, seed=0)
if (mha.embed_dim, mha.num_heads, mha.head_dim) != (12, 3, 4):
    fail(f"(embed_dim, num_heads, head_dim) = {(mha.embed_dim, mha.num_heads, mha.head_dim)}, "
         "expected (12, 3, 4).")
for name in ("W_q", "W_k", "W_v", "W_o"):
    check_shape(getattr(mha, name), (12, 12), f"mha.{name}")
    check_dtype(getattr(mha, name), np.float64, f"mha.{name}")
    check_close(getattr(mha_again, name), getattr(mha, name), f"{name} of two layers built with seed=0",
                hint="Draw the weights from np.random.default_rng(seed).")
check_raises(ValueError, MultiHeadAttention, 10, 3, what="MultiHeadAttention(embed_dim=10, num_heads=3)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    layer_a, layer_b = t.call(MultiHeadAttention, 16, 4, seed=5), t.call(MultiHeadAttention, 16, 4, seed=6)
    if (layer_a.head_dim, layer_a.num_heads, layer_a.embed_dim) != (4, 4, 16):
        t.fail("MultiHeadAttention(16, 4): expected head_dim 4, num_heads 4, embed_dim 16.")
    for name in ("W_q", "W_k", "W_v", "W_o"):
        a, b = t.array(getattr(layer_a, name), name), t.array(getattr(layer_b, name), name)
        t.shape(a, (16, 16), f"MultiHeadAttention(16, 4).{name}")
        if float(abs(a - b).max()) == 0.0:
            t.fail(f"seeds 5 and 6 gave the same {name}: draw every weight matrix from np.random.default_rng(seed).")
        size = float((a ** 2).mean() ** 0.5)  # typical magnitude: a shifted mean shows here too
        if not 0.5 / 16 ** 0.5 < size < 2.0 / 16 ** 0.5:
            t.fail(f"the entries of {name} of MultiHeadAttention(16, 4) have a typical size (root mean square) of "
                   f"{size:.3g}: draw them from a normal distribution with mean 0, scaled by 1/sqrt(E) = 0.25.")
    if len({float(t.array(getattr(layer_a, name), name)[0, 0]) for name in ("W_q", "W_k", "W_v", "W_o")}) < 4:
        t.fail("W_q, W_k, W_v and W_o should be four different random matrices.")
    t.raises(ValueError, MultiHeadAttention, 8, 3, what="MultiHeadAttention(embed_dim=8, num_heads=3)")
    single = t.call(MultiHeadAttention, 6, 1, seed=2)
    if (single.num_heads, single.head_dim) != (1, 6):
        t.fail("MultiHeadAttention(6, 1): one head of size 6 expected (num_heads 1, head_dim 6).")
### END HIDDEN TESTS
passed("MultiHeadAttention stores its sizes and four seeded weight matrices")

# %% nbgrader={"grade": true, "grade_id": "test-mha-shapes", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(5)
x = rng.normal(size=(2, 5, 12))
memory = rng.normal(size=(2, 7, 12))
with uses_earlier_parts("scaled_dot_product_attention"), quiet():
    mha = MultiHeadAttention(12, 3, seed=1)
    y, w = check_pair(mha(x, x, x, return_attention_weights=True), "mha(..., return_attention_weights=True)")
    y_cross, w_cross = check_pair(mha.forward(x, memory, memory, return_attention_weights=True),
                                  "mha.forward(..., return_attention_weights=True)")
    y_only = mha(x, x, x)
    check_shape(y, (2, 5, 12), "self-attention output for x (2, 5, 12)")
    check_shape(w, (2, 3, 5, 5), "self-attention weights (batch, heads, L, S)")
    check_shape(y_cross, (2, 5, 12), "cross-attention output (queries (2, 5, 12), keys (2, 7, 12))")
    check_shape(w_cross, (2, 3, 5, 7), "cross-attention weights")
    check_shape(y_only, (2, 5, 12), "mha(x, x, x) without return_attention_weights (the output alone)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1331)
    x, memory = rng.normal(size=(3, 4, 8)), rng.normal(size=(3, 6, 8))
    layer = t.call(MultiHeadAttention, 8, 2, seed=2)
    t.shape(t.call(layer, x.copy(), x.copy(), x.copy()), (3, 4, 8), "output of MultiHeadAttention(8, 2) for x (3, 4, 8)")
    both = t.is_pair(t.call(layer, x.copy(), memory.copy(), memory.copy(), return_attention_weights=True),
                     "layer(query, key, value, return_attention_weights=True)")
    t.shape(both[0], (3, 4, 8), "cross-attention output of MultiHeadAttention(8, 2) (queries (3, 4, 8), keys (3, 6, 8))")
    t.shape(both[1], (3, 2, 4, 6), "cross-attention weights of MultiHeadAttention(8, 2)")
    t.shape(t.call(layer.forward, x.copy(), memory.copy(), memory.copy()), (3, 4, 8),
            "layer.forward(query, key, value) (the output alone)")
### END HIDDEN TESTS
passed("multi-head attention has the right shapes")

# %% nbgrader={"grade": true, "grade_id": "test-mha-heads", "locked": true, "points": 5, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
# With identity projections, head h sees only columns h*D:(h+1)*D of x, so its weights are
# plain attention on that slice. This catches heads split in the wrong order.
rng = np.random.default_rng(6)
x = rng.normal(size=(2, 5, 12))
with uses_earlier_parts("scaled_dot_product_attention"):
    with quiet():
        mha = MultiHeadAttention(12, 3, seed=2)
        mha.W_q, mha.W_k, mha.W_v, mha.W_o = np.eye(12), np.eye(12), np.eye(12), np.eye(12)
        y, w = check_pair(mha(x, x, x, return_attention_weights=True), "mha(..., return_attention_weights=True)")
    check_shape(y, (2, 5, 12), "output of MultiHeadAttention(12, 3) for x (2, 5, 12)")
    check_shape(w, (2, 3, 5, 5), "weights of MultiHeadAttention(12, 3) for x (2, 5, 12)")
    y, w = as_float_array(y, "the output"), as_float_array(w, "the weights")
    for h in range(3):
        x_h = x[:, :, 4 * h:4 * (h + 1)]
        with quiet():
            out_h, w_h = scaled_dot_product_attention(x_h, x_h, x_h)
        check_close(w[:, h], w_h, f"weights of head {h} with identity projections",
                    hint=f"Head {h} should use columns {4 * h}:{4 * (h + 1)}: reshape to (B, L, H, D), then transpose.")
        check_close(y[:, :, 4 * h:4 * (h + 1)], out_h, f"columns {4 * h}:{4 * (h + 1)} of the output (head {h}) with identity projections",
                    hint="Undo the split in the same order: transpose to (B, L, H, D), then reshape to (B, L, E).")
    memory = rng.normal(size=(2, 7, 12))
    with quiet():
        _, w_cross = check_pair(mha(x, memory, memory, return_attention_weights=True), "mha(..., return_attention_weights=True)")
    check_rows_sum_to_one(w_cross, "the cross-attention weights")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1331)
    x = rng.normal(size=(3, 4, 8))
    layer = t.call(MultiHeadAttention, 8, 2, seed=2)
    t.finite(t.call(layer, x.copy(), x.copy(), x.copy()), "output of MultiHeadAttention(8, 2)")
    layer.W_q, layer.W_k, layer.W_v, layer.W_o = (rng.normal(size=(8, 8)) / 2.0 for _ in range(4))
    q, k, v = rng.normal(size=(3, 4, 8)), rng.normal(size=(3, 6, 8)), rng.normal(size=(3, 6, 8))
    expected_y, expected_w = ref.multi_head(layer, q, k, v)
    both = t.is_pair(t.call(layer, q.copy(), k.copy(), v.copy(), return_attention_weights=True),
                     "layer(query, key, value, return_attention_weights=True)")
    t.close(both[1], expected_w, "weights from layer(..., return_attention_weights=True) with distinct query, key and value")
    t.close(both[0], expected_y, "output of layer(query, key, value) with distinct query, key and value",
            mistakes={"project the values from `key` instead of `value`": ref.multi_head(layer, q, k, k)[0]})
    t.close(t.call(layer.forward, q.copy(), k.copy(), v.copy()), expected_y,
            "layer.forward(query, key, value) (the output alone, with distinct key and value)")
    rng = np.random.default_rng(1332)
    layer = t.call(MultiHeadAttention, 12, 3, seed=7)
    layer.W_q, layer.W_k, layer.W_v, layer.W_o = (rng.normal(size=(12, 12)) / 3.0 for _ in range(4))
    xq, xk, xv = rng.normal(size=(2, 5, 12)), rng.normal(size=(2, 7, 12)), rng.normal(size=(2, 7, 12))
    expected_y, expected_w = ref.multi_head(layer, xq, xk, xv)
    y, w = t.is_pair(t.call(layer, xq.copy(), xk.copy(), xv.copy(), return_attention_weights=True), "layer(..., return_attention_weights=True)")
    t.close(w, expected_w, "weights of MultiHeadAttention(12, 3) with random weights set after construction (L=5, S=7)",
            hint="Read W_q, W_k, W_v from the attributes at call time; split heads by contiguous columns.")
    without_w_o = t.types.SimpleNamespace(num_heads=3, embed_dim=12, W_q=layer.W_q, W_k=layer.W_k, W_v=layer.W_v, W_o=np.eye(12))
    t.close(y, expected_y, "output of MultiHeadAttention(12, 3) with random weights set after construction (L=5, S=7)",
            mistakes={"leave out the output projection W_o after merging the heads": ref.multi_head(without_w_o, xq, xk, xv)[0]})
    layer2 = t.call(MultiHeadAttention, 8, 4, seed=8)
    layer2.W_o = rng.normal(size=(8, 8))
    x2 = rng.normal(size=(1, 6, 8))
    t.close(t.call(layer2.forward, x2.copy(), x2.copy(), x2.copy()), ref.multi_head(layer2, x2, x2, x2)[0],
            "output of MultiHeadAttention(8, 4) after replacing only W_o")
    layer3 = t.call(MultiHeadAttention, 6, 1, seed=9)
    x3 = rng.normal(size=(2, 3, 6))
    t.close(t.call(layer3, x3.copy(), x3.copy(), x3.copy()), ref.multi_head(layer3, x3, x3, x3)[0],
            "output of MultiHeadAttention(6, 1), a single head")
### END HIDDEN TESTS
passed("each head attends with its own block of the projections")

# %% nbgrader={"grade": true, "grade_id": "test-mha-masks", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(7)
x = rng.normal(size=(2, 4, 8))
with quiet():
    causal, padding = create_causal_mask(4), create_padding_mask([4, 2], 4)
check_shape(padding, (2, 1, 1, 4), "create_padding_mask([4, 2], 4)",
            hint="Fix create_padding_mask (Part 2) first: it must broadcast against (B, H, L, S) weights.")
with uses_earlier_parts("scaled_dot_product_attention", "create_causal_mask"):
    with quiet():
        mha = MultiHeadAttention(8, 2, seed=3)
        y_causal, w_causal = check_pair(mha(x, x, x, mask=causal, return_attention_weights=True), "mha(...)")
    check_shape(w_causal, (2, 2, 4, 4), "weights with a (4, 4) causal mask")
    w_causal = as_float_array(w_causal, "weights with a causal mask")
    check_close(w_causal[..., 0, 1:], np.zeros((2, 2, 3)), "weights of query 0 on keys 1..3 under a causal mask")
    with quiet():
        y_pad, w_pad = check_pair(mha(x, x, x, mask=padding, return_attention_weights=True), "mha(...)")
    check_shape(w_pad, (2, 2, 4, 4), "weights with a (2, 1, 1, 4) padding mask")
    w_pad = as_float_array(w_pad, "weights with a padding mask")
    check_close(w_pad[1, :, :, 2:], np.zeros((2, 4, 2)), "weights on the padding of sequence 1 with a (B, 1, 1, S) mask")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1333)
    layer = t.call(MultiHeadAttention, 12, 3, seed=9)
    layer.W_q, layer.W_k, layer.W_v, layer.W_o = (rng.normal(size=(12, 12)) / 3.0 for _ in range(4))
    xq, xk, xv = rng.normal(size=(2, 5, 12)), rng.normal(size=(2, 6, 12)), rng.normal(size=(2, 6, 12))
    for mask_shape in ((5, 6), (2, 1, 1, 6), (2, 1, 5, 6), (2, 3, 5, 6)):
        mask = rng.random(size=mask_shape) < 0.6
        mask[..., 0] = True
        expected_y, expected_w = ref.multi_head(layer, xq, xk, xv, mask)
        with uses_earlier_parts(*HEAD_HELPERS):
            y, w = t.is_pair(t.call(layer, xq.copy(), xk.copy(), xv.copy(), mask=mask, return_attention_weights=True), "layer(...)")
            t.close(w, expected_w, f"multi-head weights with a mask of shape {mask_shape}")
            t.close(y, expected_y, f"multi-head output with a mask of shape {mask_shape}")
    # A sequence of length 0 (allowed by create_padding_mask): every query of it has every key
    # blocked, so its weights and its output are zero.
    empty = ref.create_padding_mask([6, 0], 6)
    expected_y, expected_w = ref.multi_head(layer, xq, xk, xv, empty)
    y, w = t.is_pair(t.call(layer, xq.copy(), xk.copy(), xv.copy(), mask=empty, return_attention_weights=True), "layer(...)")
    t.close(w, expected_w, "multi-head weights when sequence 1 has length 0 (every key blocked)")
    t.close(y, expected_y, "multi-head output when sequence 1 has length 0: zero, since no key may be attended",
            hint="A fully blocked query gets zero weights, so zero heads, and zero @ W_o = 0.")
### END HIDDEN TESTS
passed("masks of every broadcastable shape work with multi-head attention")

# %% [markdown]
# ### See it: two heads, two patterns
# One layer, two heads, built by hand from Part 3: head 0 gets your previous-token projections,
# head 1 the current-token head, each in its own block of columns of `W_q` and `W_k` (`W_v` and
# `W_o` are identities). The tokens are one-hot positions, as in Part 3. Your `MultiHeadAttention`
# returns both heads' weights from the same input: each head attends somewhere else.

# %% nbgrader={"grade": false, "grade_id": "demo-mha-heads", "locked": true, "schema_version": 3, "solution": false}
def two_head_layer(seq_len):
    """A 2-head MultiHeadAttention whose head 0 is your previous-token head and head 1 a
    current-token head, and its input: one-hot positions in the first seq_len columns."""
    prev_q, prev_k = (np.asarray(w, dtype=float) for w in previous_token_projections(seq_len))
    width = prev_q.shape[1]
    head_dim = max(width, seq_len)  # room for the current-token head's one-hot keys
    # Zero columns change no score, but the layer divides by sqrt(head_dim), not sqrt(width).
    prev_q = prev_q * math.sqrt(head_dim / width)
    layer = MultiHeadAttention(embed_dim=2 * head_dim, num_heads=2, seed=0)
    W_q, W_k = np.zeros((2 * head_dim, 2 * head_dim)), np.zeros((2 * head_dim, 2 * head_dim))
    W_q[:seq_len, :width], W_k[:seq_len, :width] = prev_q, prev_k
    W_q[:seq_len, head_dim:head_dim + seq_len] = 10.0 * math.sqrt(head_dim) * np.eye(seq_len)
    W_k[:seq_len, head_dim:head_dim + seq_len] = np.eye(seq_len)
    layer.W_q, layer.W_k = W_q, W_k
    layer.W_v, layer.W_o = np.eye(2 * head_dim), np.eye(2 * head_dim)
    x = np.zeros((1, seq_len, 2 * head_dim))
    x[0, :, :seq_len] = np.eye(seq_len)
    return layer, x


if RUN_DEMOS:
    pair_layer, pair_x = two_head_layer(8)
    _, pair_weights = pair_layer(pair_x, pair_x, pair_x, mask=create_causal_mask(8), return_attention_weights=True)
    plot_attention_weights(
        [(f"head {h}: {name}", np.asarray(pair_weights)[0, h], create_causal_mask(8))
         for h, name in enumerate(("previous token", "current token"))],
        "One layer of your MultiHeadAttention, two heads")

# %% [markdown] tags=["part-7"]
# ---
# ## Part 5: The KV cache
#
# ### Why generation without a cache is wasteful
# A language model generates one token at a time. To produce token *t+1* it runs the model on tokens
# *0..t*. Written naively, step *t* recomputes the keys and values of **all** previous tokens and a
# full `(t, t)` score matrix, even though only the last row is new:
# ```
#   step 1:  [a]              -> project a,          scores 1 x 1
#   step 2:  [a b]            -> project a b,        scores 2 x 2     (a again)
#   step 3:  [a b c]          -> project a b c,      scores 3 x 3     (a, b again)
#   ...
#   step t:  t tokens         -> O(t d^2) projections + O(t^2 d) attention
#   N steps in all:           O(N^2 d^2 + N^3 d): the projections dominate while N < d
# ```
# Under a causal mask the keys and values of old tokens never change. So store them:
# ```
#   cache (preallocated):   K: [ k0 k1 k2 ... k_{t-1} | free ... ]   V: [ v0 v1 ... v_{t-1} | free ... ]
#   step t:  project only the new token -> q_t, k_t, v_t;   write k_t, v_t at position t;
#            attend q_t against K[:t+1], V[:t+1]:           O(d^2 + t d) work instead of O(t d^2 + t^2 d)
# ```
# The cache **trades memory for compute**, and it moves memory in both directions. A step's scores
# shrink: step `t` computes one row of `1 x t` scores instead of a `t x t` matrix. But the cache adds
# `2 * layers * B * H_kv * N * head_dim` numbers (keys and values of every layer, for all `N` tokens
# of each of the `B` sequences; `H_kv` is the number of heads with keys and values, `H` until
# Part 7), kept for the whole generation. It grows with every token, so with long contexts or many
# sequences at once it dominates, and outgrows the model's own weights (Part 6 computes how much it
# is for a 7B model). So when you read that a KV cache "reduces generation memory from O(N^2) to O(N)",
# remember that the O(N) is the cache, and its constant is large.
#
# ### Your `KVCache`
# `KVCache(max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64)` preallocates two arrays
# of shape `(batch_size, num_heads, max_seq_len, head_dim)` in `dtype` and remembers how many
# positions are filled.
# * `append(new_keys, new_values)`: both `(B, H, T_new, head_dim)`. Copy them into the next `T_new`
#   positions and return `(keys, values)` for **all** cached positions, each `(B, H, t, head_dim)`
#   in the cache's `dtype` (slices of your storage are fine). It must *copy*: if the caller later
#   changes its array, the cache must not change.
# * Raise `ValueError` if the new tokens do not fit (and leave the cache as it was), or if the shapes
#   do not match the cache (batch, heads, head_dim) or each other.
# * `len(cache)` is the number of cached positions; `reset()` empties the cache.

# %% [markdown] tags=["without-part-7"]
# ---
# ## Part 5: The KV cache
#
# ### Why generation without a cache is wasteful
# A language model generates one token at a time. To produce token *t+1* it runs the model on tokens
# *0..t*. Written naively, step *t* recomputes the keys and values of **all** previous tokens and a
# full `(t, t)` score matrix, even though only the last row is new:
# ```
#   step 1:  [a]              -> project a,          scores 1 x 1
#   step 2:  [a b]            -> project a b,        scores 2 x 2     (a again)
#   step 3:  [a b c]          -> project a b c,      scores 3 x 3     (a, b again)
#   ...
#   step t:  t tokens         -> O(t d^2) projections + O(t^2 d) attention
#   N steps in all:           O(N^2 d^2 + N^3 d): the projections dominate while N < d
# ```
# Under a causal mask the keys and values of old tokens never change. So store them:
# ```
#   cache (preallocated):   K: [ k0 k1 k2 ... k_{t-1} | free ... ]   V: [ v0 v1 ... v_{t-1} | free ... ]
#   step t:  project only the new token -> q_t, k_t, v_t;   write k_t, v_t at position t;
#            attend q_t against K[:t+1], V[:t+1]:           O(d^2 + t d) work instead of O(t d^2 + t^2 d)
# ```
# The cache **trades memory for compute**, and it moves memory in both directions. A step's scores
# shrink: step `t` computes one row of `1 x t` scores instead of a `t x t` matrix. But the cache adds
# `2 * layers * B * H_kv * N * head_dim` numbers (keys and values of every layer, for all `N` tokens
# of each of the `B` sequences; `H_kv` is the number of heads with keys and values, here
# `H`), kept for the whole generation. It grows with every token, so with long contexts or many
# sequences at once it dominates, and outgrows the model's own weights (Part 6 computes how much it
# is for a 7B model). So when you read that a KV cache "reduces generation memory from O(N^2) to O(N)",
# remember that the O(N) is the cache, and its constant is large.
#
# ### Your `KVCache`
# `KVCache(max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64)` preallocates two arrays
# of shape `(batch_size, num_heads, max_seq_len, head_dim)` in `dtype` and remembers how many
# positions are filled.
# * `append(new_keys, new_values)`: both `(B, H, T_new, head_dim)`. Copy them into the next `T_new`
#   positions and return `(keys, values)` for **all** cached positions, each `(B, H, t, head_dim)`
#   in the cache's `dtype` (slices of your storage are fine). It must *copy*: if the caller later
#   changes its array, the cache must not change.
# * Raise `ValueError` if the new tokens do not fit (and leave the cache as it was), or if the shapes
#   do not match the cache (batch, heads, head_dim) or each other.
# * `len(cache)` is the number of cached positions; `reset()` empties the cache.

# %% nbgrader={"grade": false, "grade_id": "kvcache", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
class KVCache:
    """Preallocated key/value storage for autoregressive decoding."""

    def __init__(self, max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64):
        ### BEGIN SOLUTION
        self.max_seq_len = max_seq_len
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.batch_size = batch_size
        shape = (batch_size, num_heads, max_seq_len, head_dim)
        self.keys = np.zeros(shape, dtype=dtype)
        self.values = np.zeros(shape, dtype=dtype)
        self.length = 0
        ### END SOLUTION

    def append(self, new_keys, new_values):
        """Store (B, H, T_new, head_dim) keys and values; return all cached (keys, values)."""
        ### BEGIN SOLUTION
        new_keys, new_values = np.asarray(new_keys), np.asarray(new_values)
        if new_keys.shape != new_values.shape or new_keys.ndim != 4:
            raise ValueError(f"keys {new_keys.shape} and values {new_values.shape} must have "
                             "the same shape (batch, heads, tokens, head_dim)")
        batch, heads, new_tokens, head_dim = new_keys.shape
        if (batch, heads, head_dim) != (self.batch_size, self.num_heads, self.head_dim):
            raise ValueError(f"this cache holds (batch, heads, head_dim) = "
                             f"{(self.batch_size, self.num_heads, self.head_dim)}, "
                             f"got {(batch, heads, head_dim)}")
        end = self.length + new_tokens
        if end > self.max_seq_len:
            raise ValueError(f"cache overflow: {self.length} + {new_tokens} tokens > max_seq_len {self.max_seq_len}")
        self.keys[:, :, self.length:end] = new_keys  # assignment copies into our storage
        self.values[:, :, self.length:end] = new_values
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return self.length
        ### END SOLUTION

    def reset(self):
        ### BEGIN SOLUTION
        self.length = 0
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-kvcache-append", "locked": true, "points": 3, "schema_version": 3, "solution": false}
rng = np.random.default_rng(8)
with quiet():
    cache = KVCache(max_seq_len=6, num_heads=2, head_dim=3, batch_size=1)
if len(cache) != 0:
    fail(f"a new cache should be empty, but len(cache) = {len(cache)}.")
k1, v1 = rng.normal(size=(1, 2, 2, 3)), rng.normal(size=(1, 2, 2, 3))
k2, v2 = rng.normal(size=(1, 2, 1, 3)), rng.normal(size=(1, 2, 1, 3))
with quiet():
    cache.append(k1, v1)
    keys, values = cache.append(k2, v2)
if len(cache) != 3:
    fail(f"after appending 2 and then 1 positions, len(cache) = {len(cache)}, expected 3.")
check_shape(keys, (1, 2, 3, 3), "keys returned after 3 positions")
check_close(keys, np.concatenate([k1, k2], axis=2), "cached keys (should be the appended keys in order)")
check_close(values, np.concatenate([v1, v2], axis=2), "cached values (should be the appended values in order)")
with quiet():
    cache.reset()
if len(cache) != 0:
    fail(f"after reset(), len(cache) = {len(cache)}, expected 0.")
with quiet():
    keys_after_reset, _ = cache.append(k2, v2)
check_close(keys_after_reset, k2, "keys after reset() and one new append")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1341)
    cache = t.call(KVCache, 10, 3, 4, batch_size=2)
    all_k, all_v = rng.normal(size=(2, 3, 10, 4)), rng.normal(size=(2, 3, 10, 4))
    start = 0
    for chunk in (3, 1, 4, 2):
        keys, values = t.call(cache.append, all_k[:, :, start:start + chunk].copy(), all_v[:, :, start:start + chunk].copy())
        start += chunk
        if len(cache) != start:
            t.fail(f"after appending chunks up to {start} positions, len(cache) = {len(cache)}.")
        t.close(keys, all_k[:, :, :start], f"keys after chunked appends up to {start} positions (batch 2, 3 heads)")
        t.close(values, all_v[:, :, :start], f"values after chunked appends up to {start} positions (batch 2, 3 heads)")
    cache32 = t.call(KVCache, 4, 1, 2, dtype=np.float32)
    k32, v32 = t.call(cache32.append, np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 2.0))
    t.dtype(k32, np.float32, "keys of a cache created with dtype=np.float32 (float64 appended)")
    t.dtype(v32, np.float32, "values of a cache created with dtype=np.float32 (float64 appended)")
    t.close(v32, np.full((1, 1, 2, 2), 2.0), "values of a float32 cache")
### END HIDDEN TESTS
passed("the cache stores and returns keys and values in order")

# %% nbgrader={"grade": true, "grade_id": "test-kvcache-copy", "locked": true, "points": 2, "schema_version": 3, "solution": false}
with quiet():
    cache = KVCache(max_seq_len=4, num_heads=1, head_dim=2)
new_k, new_v = np.ones((1, 1, 1, 2)), np.full((1, 1, 1, 2), 2.0)
with quiet():
    cache.append(new_k, new_v)
new_k[...] = 99.0  # the caller reuses its buffer for the next token
new_v[...] = 99.0
with quiet():
    keys, values = cache.append(np.zeros((1, 1, 1, 2)), np.zeros((1, 1, 1, 2)))
check_shape(keys, (1, 1, 2, 2), "keys returned after 2 positions")
check_shape(values, (1, 1, 2, 2), "values returned after 2 positions")
keys, values = as_float_array(keys, "cached keys"), as_float_array(values, "cached values")
check_close(keys[0, 0, 0], [1.0, 1.0], "the first cached key after the caller changed its array",
            hint="append must copy the new keys into the cache, not keep a reference to them.")
check_close(values[0, 0, 0], [2.0, 2.0], "the first cached value after the caller changed its array")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1342)
    cache = t.call(KVCache, 8, 2, 3, batch_size=2)
    saved_k, saved_v = rng.normal(size=(2, 2, 2, 3)), rng.normal(size=(2, 2, 2, 3))
    buffer_k, buffer_v = t.place(saved_k), t.place(saved_v)  # the caller's arrays, in the student's kernel
    t.call(cache.append, buffer_k, buffer_v)
    t.call(buffer_k.fill, -5.0)  # the caller reuses its buffers for the next tokens
    t.call(buffer_v.fill, 3.0)
    keys, values = t.call(cache.append, np.full((2, 2, 1, 3), -5.0), np.full((2, 2, 1, 3), 3.0))
    keys, values = t.array(keys, "cached keys"), t.array(values, "cached values")
    t.shape(keys, (2, 2, 3, 3), "keys returned after 3 positions")
    t.close(keys[:, :, :2], saved_k, "cached keys after the caller modified its buffer in place")
    t.close(values[:, :, :2], saved_v, "cached values after the caller modified its buffer in place")
    t.close(keys[:, :, 2:], np.full((2, 2, 1, 3), -5.0), "the key appended after the modification")
### END HIDDEN TESTS
passed("append copies")

# %% nbgrader={"grade": true, "grade_id": "test-kvcache-errors", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    cache = KVCache(max_seq_len=3, num_heads=1, head_dim=2)
    cache.append(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
check_raises(ValueError, cache.append, np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)),
             what="appending 2 positions to a cache holding 2 of max 3")
if len(cache) != 2:
    fail(f"a failed append must leave the cache unchanged, but len(cache) is now {len(cache)} (expected 2).")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1343)
    cache = t.call(KVCache, 5, 2, 3, batch_size=2)
    k0, v0 = rng.normal(size=(2, 2, 4, 3)), rng.normal(size=(2, 2, 4, 3))
    t.call(cache.append, k0.copy(), v0.copy())
    t.raises(ValueError, cache.append, np.ones((2, 2, 2, 3)), np.ones((2, 2, 2, 3)), what="appending 2 positions to a cache holding 4 of max 5")
    if len(cache) != 4:
        t.fail(f"after a failed (overflowing) append, len(cache) = {len(cache)}, expected 4.")
    keys, values = t.call(cache.append, np.zeros((2, 2, 1, 3)), np.zeros((2, 2, 1, 3)))
    keys, values = t.array(keys, "cached keys"), t.array(values, "cached values")
    t.close(keys[:, :, :4], k0, "keys cached before a failed append (the failed append must not write anything)")
    t.close(values[:, :, 4:], np.zeros((2, 2, 1, 3)), "the value appended after a failed append")
    t.raises(ValueError, cache.append, np.ones((2, 2, 1, 3)), np.ones((2, 2, 1, 3)),
             what="appending one position to a full cache (5 of max 5)")
    if len(cache) != 5:
        t.fail(f"after appending to a full cache failed, len(cache) = {len(cache)}, expected 5.")
    cache2 = t.call(KVCache, 6, 2, 3, batch_size=2)
    t.raises(ValueError, cache2.append, np.ones((1, 2, 1, 3)), np.ones((1, 2, 1, 3)), what="append with batch size 1 to a cache for batch size 2")
    t.raises(ValueError, cache2.append, np.ones((2, 3, 1, 3)), np.ones((2, 3, 1, 3)), what="append with 3 heads to a cache for 2 heads")
    t.raises(ValueError, cache2.append, np.ones((2, 2, 1, 4)), np.ones((2, 2, 1, 4)), what="append with head_dim 4 to a cache for head_dim 3")
    t.raises(ValueError, cache2.append, np.ones((2, 2, 2, 3)), np.ones((2, 2, 1, 3)), what="append with keys and values of different lengths")
    if len(cache2) != 0:
        t.fail(f"appends with wrong shapes must leave the cache empty, but len(cache) = {len(cache2)}.")
### END HIDDEN TESTS
passed("overflow and shape mismatches raise ValueError")

# %% [markdown]
# ### Decoding with the cache
# Now give `MultiHeadAttention` a `decode_step(x_new, cache)` method. `x_new` holds the `T_new >= 1`
# newest tokens, `(B, T_new, E)`; the cache holds the keys and values of the `t0 = len(cache)` tokens
# before them. The step:
# 1. projects **only the new tokens** with `W_q`, `W_k`, `W_v` and splits heads;
# 2. appends their keys and values to the cache (which returns all `t0 + T_new` of them);
# 3. lets new token `i` (absolute position `t0 + i`) attend to cached positions `0 .. t0 + i`;
# 4. merges heads and applies `W_o`, returning `(B, T_new, E)`.
#
# Step 3 is a causal mask of shape `(T_new, t0 + T_new)` aligned to the **bottom right**:
# ```
#   t0 = 3 cached, T_new = 2 new:      keys ->  0  1  2  3  4
#                      new token 0 (pos 3)   [  T  T  T  T  . ]
#                      new token 1 (pos 4)   [  T  T  T  T  T ]
# ```
# `np.tril(np.ones((T_new, t0 + T_new), dtype=bool), k=t0)` builds it. (A top-left aligned mask, like
# `create_causal_mask`, would let the new tokens see only the first few positions.)
#
# The result must equal the full causal pass: decoding `x` token by token through a fresh cache gives
# the same numbers as `mha(x, x, x, mask=create_causal_mask(T))`. The tests check exactly that.
#
# The method is written as a function here and attached to the class below it, so you do not have to
# scroll back to Part 4. (If you re-run the Part 4 cell, re-run this one too.)

# %% nbgrader={"grade": false, "grade_id": "decode-step", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
def decode_step(self, x_new, cache):
    """Attend the newest tokens x_new (B, T_new, E) to every cached token up to their position."""
    ### BEGIN SOLUTION
    new_tokens = x_new.shape[1]
    start = len(cache)
    group = self.num_heads // self.num_kv_heads
    q = self.split_heads(x_new @ self.W_q)
    # The cache holds the num_kv_heads key/value heads; each serves `group` query heads.
    keys, values = cache.append(self.split_heads(x_new @ self.W_k, self.num_kv_heads),
                                self.split_heads(x_new @ self.W_v, self.num_kv_heads))
    mask = np.tril(np.ones((new_tokens, start + new_tokens), dtype=bool), k=start)
    heads, _ = scaled_dot_product_attention(q, np.repeat(keys, group, axis=1),
                                            np.repeat(values, group, axis=1), mask)
    return self.merge_heads(heads) @ self.W_o
    ### END SOLUTION


MultiHeadAttention.decode_step = decode_step

# %% nbgrader={"grade": true, "grade_id": "test-kvcache-decode", "locked": true, "points": 5, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
# The visible checks compare decoding with a full pass: make it a reference pass, so that a bug
# in the student's forward costs Part 4, not this part too.
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask",
                      "MultiHeadAttention.forward", "MultiHeadAttention.__call__")
### END HIDDEN TESTS
rng = np.random.default_rng(9)
x = rng.normal(size=(1, 6, 8))
with uses_earlier_parts("scaled_dot_product_attention", "create_causal_mask", *HEAD_HELPERS):
    with quiet():
        mha = MultiHeadAttention(8, 2, seed=4)
        full = mha(x, x, x, mask=create_causal_mask(6))
        cache = KVCache(max_seq_len=6, num_heads=2, head_dim=4)
        steps = [mha.decode_step(x[:, t:t + 1], cache) for t in range(6)]
        first_only = [mha(x[:, t:t + 1], x[:, :1], x[:, :1]) for t in range(6)]  # each token seeing token 0 only
    for t, step in enumerate(steps):
        check_shape(step, (1, 1, 8), f"decode_step output for one new token (step {t})")
    check_close(np.concatenate([as_float_array(s, "decode_step output") for s in steps], axis=1), full,
                "token-by-token decoding vs the full causal pass", atol=1e-10,
                hint="New token i sits at position len(cache) + i and may see cached positions up to it.",
                mistakes={"align the new tokens' mask top-left (np.tril without k=len(cache)): a new token then "
                          "sees the first token only": np.concatenate([as_float_array(o, "mha(...)") for o in first_only], axis=1)})
if len(cache) != 6:
    fail(f"after decoding 6 tokens, len(cache) = {len(cache)}, expected 6.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1344)
    layer = t.call(MultiHeadAttention, 12, 3, seed=11)
    layer.W_q, layer.W_k, layer.W_v, layer.W_o = (rng.normal(size=(12, 12)) / 3.0 for _ in range(4))
    x = rng.normal(size=(2, 9, 12))
    full, _ = ref.multi_head(layer, x, x, x, ref.create_causal_mask(9))
    cache = t.call(KVCache, 12, 3, 4, batch_size=2)
    steps = [t.array(t.call(layer.decode_step, x[:, i:i + 1].copy(), cache), "decode_step output") for i in range(9)]
    for i, step in enumerate(steps):
        t.shape(step, (2, 1, 12), f"decode_step output for one new token of a batch of 2 (step {i})")
    decoded = np.concatenate(steps, axis=1)
    t.close(decoded, full, "token-by-token decoding of a random (2, 9, 12) batch vs the full causal pass", atol=1e-10,
            hint="New token i sits at position len(cache) + i and may see cached positions up to it.")
    if len(cache) != 9:
        t.fail(f"after decoding 9 tokens, len(cache) = {len(cache)}, expected 9.")
### END HIDDEN TESTS
passed("decoding one token at a time equals the full causal pass")

# %% nbgrader={"grade": true, "grade_id": "test-kvcache-prefill", "locked": true, "points": 4, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
# The visible checks compare decoding with a full pass: make it a reference pass, so that a bug
# in the student's forward costs Part 4, not this part too.
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask",
                      "MultiHeadAttention.forward", "MultiHeadAttention.__call__")
### END HIDDEN TESTS
rng = np.random.default_rng(10)
x = rng.normal(size=(1, 7, 8))
with uses_earlier_parts("scaled_dot_product_attention", "create_causal_mask", *HEAD_HELPERS):
    with quiet():
        mha = MultiHeadAttention(8, 2, seed=5)
        full = mha(x, x, x, mask=create_causal_mask(7))
        cache = KVCache(max_seq_len=8, num_heads=2, head_dim=4)
        prefill = mha.decode_step(x[:, :4], cache)  # the prompt: 4 tokens at once
        rest = [mha.decode_step(x[:, t:t + 1], cache) for t in range(4, 7)]
        unmasked = mha(x[:, :4], x[:, :4], x[:, :4])  # the prompt without a mask
        first_only = [mha(x[:, t:t + 1], x[:, :1], x[:, :1]) for t in range(4, 7)]  # tokens seeing token 0 only
    check_shape(prefill, (1, 4, 8), "decode_step output for a 4-token prompt")
    for t, step in zip(range(4, 7), rest):
        check_shape(step, (1, 1, 8), f"decode_step output for one new token (position {t})")
    check_shape(full, (1, 7, 8), "the full causal pass mha(x, x, x, mask=create_causal_mask(7))")
    full = as_float_array(full, "the full causal pass")
    check_close(prefill, full[:, :4], "prefill of 4 tokens vs the full causal pass", atol=1e-10,
                mistakes={"leave out the mask: the prompt's tokens then see each other's future": unmasked})
    check_close(np.concatenate([as_float_array(r, "decode_step output") for r in rest], axis=1), full[:, 4:],
                "tokens decoded one by one after a prefill", atol=1e-10,
                hint="New token i sits at position len(cache) + i and may see cached positions up to it.",
                mistakes={"align the new tokens' mask top-left (np.tril without k=len(cache)): a new token then "
                          "sees the first token only": np.concatenate([as_float_array(o, "mha(...)") for o in first_only], axis=1)})
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1345)
    layer = t.call(MultiHeadAttention, 12, 4, seed=12)
    layer.W_q, layer.W_k, layer.W_v, layer.W_o = (rng.normal(size=(12, 12)) / 3.0 for _ in range(4))
    x = rng.normal(size=(3, 10, 12))
    full, _ = ref.multi_head(layer, x, x, x, ref.create_causal_mask(10))
    cache = t.call(KVCache, 10, 4, 3, batch_size=3)
    parts, start = [], 0
    for chunk in (3, 2, 1, 3, 1):
        parts.append(t.array(t.call(layer.decode_step, x[:, start:start + chunk].copy(), cache), "decode_step output"))
        start += chunk
    def chunked(mask_of):  # what decoding in these chunks gives with mask_of(new tokens, cached tokens)
        outputs, start = [], 0
        for chunk in (3, 2, 1, 3, 1):
            seen = x[:, :start + chunk]
            outputs.append(ref.multi_head(layer, x[:, start:start + chunk], seen, seen, mask_of(chunk, start))[0])
            start += chunk
        return np.concatenate(outputs, axis=1)
    t.close(np.concatenate(parts, axis=1), full, "decoding a random (3, 10, 12) batch in chunks 3, 2, 1, 3, 1 vs the full causal pass", atol=1e-10,
            mistakes={"align the new tokens' mask top-left (np.tril without k=len(cache))":
                      chunked(lambda new, cached: np.tril(np.ones((new, cached + new)))),
                      "leave out the mask: the new tokens then see each other's future": chunked(lambda new, cached: None)})
    if len(cache) != 10:
        t.fail(f"after decoding 10 tokens in chunks, len(cache) = {len(cache)}, expected 10.")
    t.call(cache.reset)
    again = t.call(layer.decode_step, x[:, :5].copy(), cache)
    t.close(again, full[:, :5], "a 5-token prefill after reset() vs the full causal pass", atol=1e-10)
### END HIDDEN TESTS
passed("prefill and chunked decoding match the full causal pass")

# %% [markdown]
# ### Measure it: generation with and without the cache
# The next cell generates `T` tokens with one attention layer in two ways and times every step:
# recomputing the full causal pass over all tokens so far, or calling your `decode_step` with a cache.
# (To keep it small, the "generated" tokens are random vectors; a real model would feed its output
# back in, which costs the same.) Each step is timed three times and the fastest run kept: other
# programs on a shared machine can only add time, never remove it, so the minimum is the cleanest
# view of what the step itself costs.
#
# The time axes are logarithmic: equal heights are equal ratios, so the cached steps, far faster,
# do not vanish into the bottom of the plot. Look at the shape of the curves. Without the cache,
# step `t` projects `t` tokens and builds a `t x t` score matrix, so its cost grows with `t`; with
# the cache it projects one token and attends one query to `t` keys, which stays nearly flat at
# this size. Over `T` steps that is
# `O(T^2 d^2 + T^3 d)` without the cache against `O(T d^2 + T^2 d)` with it.

# %% nbgrader={"grade": false, "grade_id": "demo-decode-timing", "locked": true, "schema_version": 3, "solution": false}
def time_generation(layer, x, use_cache, repeats=3):
    """Seconds each step of generating the tokens of x (1, T, E) one at a time takes: the fastest
    of `repeats` runs of the step."""
    num_tokens = x.shape[1]
    caches = [KVCache(num_tokens, layer.num_heads, layer.head_dim) for _ in range(repeats)]
    seconds = np.empty(num_tokens)
    for t in range(num_tokens):
        best = math.inf
        for cache in caches:
            start = time.perf_counter()
            if use_cache:
                layer.decode_step(x[:, t:t + 1], cache)
            else:
                prefix = x[:, :t + 1]
                layer(prefix, prefix, prefix, mask=create_causal_mask(t + 1))
            best = min(best, time.perf_counter() - start)
        seconds[t] = best
    return seconds


if RUN_DEMOS:
    timing_layer = MultiHeadAttention(embed_dim=128, num_heads=4, seed=0)
    timing_x = np.random.default_rng(0).normal(size=(1, 160, 128))
    time_generation(timing_layer, timing_x[:, :8], use_cache=True)  # warm-up
    no_cache = time_generation(timing_layer, timing_x, use_cache=False)
    with_cache = time_generation(timing_layer, timing_x, use_cache=True)

    fig, (ax_step, ax_total) = plt.subplots(1, 2, figsize=(10, 3.4))
    ax_step.plot(1e3 * no_cache, label="recompute everything")
    ax_step.plot(1e3 * with_cache, label="KV cache")
    ax_step.set_xlabel("position of the generated token")
    ax_step.set_ylabel("ms for this step (fastest of 3)")
    ax_step.set_yscale("log")  # on a linear axis the cached steps sit flat on zero
    ax_step.legend()
    ax_total.plot(np.cumsum(no_cache), label="recompute everything")
    ax_total.plot(np.cumsum(with_cache), label="KV cache")
    ax_total.set_xlabel("tokens generated")
    ax_total.set_ylabel("total seconds")
    ax_total.set_yscale("log")
    ax_total.legend()
    fig.suptitle(f"Generating {timing_x.shape[1]} tokens: the cache is "
                 f"{no_cache.sum() / with_cache.sum():.1f}x faster here")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ---
# ## Part 6: Memory, the O(N^2) wall
#
# The score matrix has one entry per (query, key) pair: for batch `B`, `H` heads and `N` tokens it is
# `B * H * N * N` numbers, **per layer**. Double the context and it grows 4x; go from 1K to 32K tokens
# and it grows 1024x. The rest of a transformer layer (projections, MLP) grows only linearly in `N`.
#
# | quantity | formula (bytes) |
# |---|---|
# | score matrix of one layer | `B * H * N^2 * itemsize` |
# | KV cache of a whole model | `2 * layers * B * H * N * head_dim * itemsize` (the 2 is K and V) |
#
# `itemsize` is the number of bytes per number: `np.dtype(dtype).itemsize` is 2 for float16, 4 for
# float32, 8 for float64.
#
# Write:
# * `attention_matrix_bytes(batch_size, num_heads, seq_len, dtype=np.float32)`: bytes of the score matrix;
# * `kv_cache_bytes(num_layers, batch_size, num_heads, seq_len, head_dim, dtype=np.float16)`
#   (`num_heads` counts the heads that have keys and values);
# * `max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32)`: the largest
#   integer `N` whose score matrix fits in `budget_bytes` (`math.isqrt` gives an exact integer square root);
# * `fit_scaling_exponent(sizes, costs)`: the slope of the least-squares line through
#   `(log(size), log(cost))`. If `cost = c * size^p`, then `log(cost) = log(c) + p * log(size)`:
#   a straight line of slope `p` on a log-log plot. `np.polyfit(x, y, 1)` fits a line.
#
# Return integers for byte counts and `N` (Python or NumPy integers), and a float for the exponent.

# %% nbgrader={"grade": false, "grade_id": "memory-functions", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
def attention_matrix_bytes(batch_size, num_heads, seq_len, dtype=np.float32):
    """Bytes of the (batch, heads, seq_len, seq_len) score matrix."""
    ### BEGIN SOLUTION
    return batch_size * num_heads * seq_len * seq_len * np.dtype(dtype).itemsize
    ### END SOLUTION


def kv_cache_bytes(num_layers, batch_size, num_heads, seq_len, head_dim, dtype=np.float16):
    """Bytes of the keys and values cached for seq_len tokens in every layer."""
    ### BEGIN SOLUTION
    return 2 * num_layers * batch_size * num_heads * seq_len * head_dim * np.dtype(dtype).itemsize
    ### END SOLUTION


def max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32):
    """Largest N with attention_matrix_bytes(batch_size, num_heads, N, dtype) <= budget_bytes."""
    ### BEGIN SOLUTION
    per_entry = batch_size * num_heads * np.dtype(dtype).itemsize
    return math.isqrt(int(budget_bytes) // per_entry)
    ### END SOLUTION


def fit_scaling_exponent(sizes, costs):
    """Least-squares slope of log(cost) against log(size)."""
    ### BEGIN SOLUTION
    slope, _intercept = np.polyfit(np.log(sizes), np.log(costs), 1)
    return float(slope)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-memory-attention-bytes", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    gpt2_layer = attention_matrix_bytes(1, 12, 1024)
check_integer(gpt2_layer, 1 * 12 * 1024 * 1024 * 4,
              "attention_matrix_bytes(1, 12, 1024) (float32 scores of one GPT-2 small layer)")
with quiet():
    half = attention_matrix_bytes(2, 4, 100, dtype=np.float16)
check_integer(half, 2 * 4 * 100 * 100 * 2, "attention_matrix_bytes(2, 4, 100, dtype=np.float16)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1351)
    for dtype in (np.float16, np.float32, np.float64):
        for _ in range(4):
            b, h, n = (int(v) for v in rng.integers([1, 1, 1], [9, 33, 5000]))
            t.integer(t.call(attention_matrix_bytes, b, h, n, dtype=dtype), b * h * n * n * np.dtype(dtype).itemsize,
                      f"attention_matrix_bytes({b}, {h}, {n}, dtype={dtype.__name__})")
    t.integer(t.call(attention_matrix_bytes, 3, 5, 77), 3 * 5 * 77 * 77 * 4, "attention_matrix_bytes(3, 5, 77) with the default dtype float32")
### END HIDDEN TESTS
passed("attention_matrix_bytes")

# %% nbgrader={"grade": true, "grade_id": "test-memory-kv-bytes", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    gpt2_cache = kv_cache_bytes(12, 1, 12, 1024, 64, dtype=np.float32)
check_integer(gpt2_cache, 2 * 12 * 1 * 12 * 1024 * 64 * 4,
              "kv_cache_bytes(12, 1, 12, 1024, 64, dtype=np.float32) (GPT-2 small, 1024 tokens)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1352)
    for dtype in (np.float16, np.float32, np.float64):
        for _ in range(4):
            layers, b, h, n, d = (int(v) for v in rng.integers([1, 1, 1, 1, 8], [81, 9, 65, 9000, 257]))
            t.integer(t.call(kv_cache_bytes, layers, b, h, n, d, dtype=dtype), 2 * layers * b * h * n * d * np.dtype(dtype).itemsize,
                      f"kv_cache_bytes({layers}, {b}, {h}, {n}, {d}, dtype={dtype.__name__})")
    t.integer(t.call(kv_cache_bytes, 3, 2, 5, 11, 7), 2 * 3 * 2 * 5 * 11 * 7 * 2, "kv_cache_bytes(3, 2, 5, 11, 7) with the default dtype float16")
### END HIDDEN TESTS
passed("kv_cache_bytes")

# %% nbgrader={"grade": true, "grade_id": "test-memory-budget", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    n_fit = max_seq_len_for_budget(1 * 12 * 1024 * 1024 * 4, 1, 12)
check_integer(n_fit, 1024, "max_seq_len_for_budget for exactly the bytes of 1024 tokens (1 x 12 heads, float32)")
with quiet():
    n_short = max_seq_len_for_budget(1 * 12 * 1024 * 1024 * 4 - 1, 1, 12)
check_integer(n_short, 1023, "max_seq_len_for_budget for one byte less")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1353)
    for dtype in (np.float16, np.float32, np.float64):
        for _ in range(4):
            b, h, n = (int(v) for v in rng.integers([1, 1, 2], [5, 17, 30000]))
            exact = b * h * n * n * np.dtype(dtype).itemsize
            below_next = b * h * (n + 1) * (n + 1) * np.dtype(dtype).itemsize - 1
            for budget in (exact, exact - 1, below_next, (exact + below_next) // 2):
                t.integer(t.call(max_seq_len_for_budget, budget, b, h, dtype=dtype), n if budget >= exact else n - 1,
                          f"max_seq_len_for_budget({budget}, {b}, {h}, dtype={dtype.__name__})")
    t.integer(t.call(max_seq_len_for_budget, 3, 1, 1), 0, "max_seq_len_for_budget(3, 1, 1): not even one float32 score fits")
    t.integer(t.call(max_seq_len_for_budget, 8e9, 1, 12), 12909, "max_seq_len_for_budget(8e9, 1, 12): a budget written as a float")
### END HIDDEN TESTS
passed("max_seq_len_for_budget")

# %% nbgrader={"grade": true, "grade_id": "test-memory-exponent", "locked": true, "points": 3, "schema_version": 3, "solution": false}
sizes = [64, 128, 256, 512]
with quiet():
    p_square = fit_scaling_exponent(sizes, [3.0 * n ** 2 for n in sizes])
    p_linear = fit_scaling_exponent(sizes, [0.5 * n for n in sizes])
check_close(check_number(p_square, "fit_scaling_exponent(sizes, 3 * sizes**2)"), 2.0,
            "fit_scaling_exponent for costs 3 * n^2", hint="Fit a line to log(cost) against log(size).")
check_close(check_number(p_linear, "fit_scaling_exponent(sizes, 0.5 * sizes)"), 1.0,
            "fit_scaling_exponent for costs 0.5 * n")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1354)
    for p in (0.7, 1.5, 2.2, 3.0):
        sizes = np.sort(rng.uniform(10, 5000, size=7))
        costs = 2.5 * sizes ** p * np.exp(rng.normal(scale=0.2, size=7))
        lx, ly = np.log(sizes), np.log(costs)
        slope = float(((lx - lx.mean()) * (ly - ly.mean())).sum() / ((lx - lx.mean()) ** 2).sum())
        got = t.number(t.call(fit_scaling_exponent, list(sizes), list(costs)), "fit_scaling_exponent")
        t.close(got, slope, f"fit_scaling_exponent on noisy data with true exponent {p}", atol=1e-9, rtol=1e-9,
                hint="Least squares over all points, not the slope between the first and last.")
### END HIDDEN TESTS
passed("fit_scaling_exponent")

# %% [markdown]
# ### Measure it: peak memory of your attention
# `tracemalloc` records every allocation NumPy makes. The next cell runs your
# `scaled_dot_product_attention` on growing sequences (1 sequence, 4 heads, head size 32, float64)
# and records the peak memory of each call, then fits the exponent with your `fit_scaling_exponent`.
# The dashed line is `attention_matrix_bytes` for the same shapes: the `N x N` arrays per head (the
# scores, the weights, any temporaries the softmax makes) dominate everything else. The arrays your
# function makes that grow only as `N` (a scaled copy of the queries, the output) still count a
# little at `N = 128`, which pulls the fitted exponent slightly below 2. (The queries, keys and
# values themselves exist before tracing starts and are not counted.)

# %% nbgrader={"grade": false, "grade_id": "demo-memory-scaling", "locked": true, "schema_version": 3, "solution": false}
def peak_bytes(attention, seq_len, num_heads=4, head_dim=32, seed=0):
    """Peak bytes allocated while `attention(q, k, v)` runs on seq_len tokens (inputs excluded)."""
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(1, num_heads, seq_len, head_dim)) for _ in range(3))
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        attention(q, k, v)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


if RUN_DEMOS:
    seq_lens = np.array([128, 256, 512, 1024])
    peaks = np.array([peak_bytes(scaled_dot_product_attention, n) for n in seq_lens])
    exponent = fit_scaling_exponent(seq_lens, peaks)
    score_bytes = [attention_matrix_bytes(1, 4, n, dtype=np.float64) for n in seq_lens]

    plt.figure(figsize=(5.5, 3.6))
    plt.loglog(seq_lens, peaks / 2**20, "o-", label=f"measured peak (fitted exponent {exponent:.2f})")
    plt.loglog(seq_lens, np.array(score_bytes) / 2**20, "k--", label="one score matrix (formula)")
    # The measured lengths label the axis, not the powers of ten in between.
    plt.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    plt.xticks(seq_lens, [str(n) for n in seq_lens])
    plt.xlabel("sequence length N")
    plt.ylabel("MiB")
    plt.title("Attention memory grows as N^2")
    plt.legend()
    plt.tight_layout()
    plt.show()
    score_matrices = peaks[-1] / score_bytes[-1]
    print(f"fitted exponent: {exponent:.2f}. At N = {seq_lens[-1]} the peak is {score_matrices:.1f} times one score matrix, "
          + ("so a single N x N array is alive at a time: your softmax works in place on the scores."
             if score_matrices < 1.5 else
             f"so about {round(score_matrices)} N x N arrays (the scores, the softmax's temporaries, the weights) are "
             "alive at once. Doing the softmax steps in place on the scores, which are yours to overwrite, "
             "brings this close to 1."))

# %% [markdown] tags=["part-7"]
# ### Numbers that matter
# Use your functions (or a calculator) to answer. Units: 1 MiB = 2^20 bytes, 1 KiB = 2^10 bytes.
#
# 1. `ANSWER_MEMORY_RATIO_SEQ_DOUBLED`: by what factor does the score memory grow when the sequence
#    length doubles (everything else fixed)?
# 2. `ANSWER_GPT2_SMALL_SCORES_MIB`: GPT-2 small has 12 heads per layer and a context of 1024 tokens.
#    How many MiB do the float32 scores of **one layer** take for one sequence?
# 3. `ANSWER_LLAMA7B_KV_KIB_PER_TOKEN`: a Llama-2-7B-shaped model has 32 layers and `d_model = 4096`
#    (32 heads of 128, no grouped-query attention). How many KiB of float16 KV cache does **each token**
#    add (all layers, keys and values)?
#
# Then look at what you found. For the 7B model at 4096 tokens, the float16 scores of one layer take
# 1 GiB. Multiply your answer to question 3 by 4096 tokens, then by 32 users served at once: that is
# the KV cache alone, before any weights, and it is more memory than many GPUs have.
# Part 7 builds two of the answers: attention computed in tiles that never stores the `N x N`
# matrix (FlashAttention), and keys and values shared between heads (grouped-query attention).
# A third lives in serving systems: vLLM pages the KV cache like virtual memory, after finding
# that earlier systems used only 20-40% of their cache memory for actual tokens.

# %% [markdown] tags=["without-part-7"]
# ### Numbers that matter
# Use your functions (or a calculator) to answer. Units: 1 MiB = 2^20 bytes, 1 KiB = 2^10 bytes.
#
# 1. `ANSWER_MEMORY_RATIO_SEQ_DOUBLED`: by what factor does the score memory grow when the sequence
#    length doubles (everything else fixed)?
# 2. `ANSWER_GPT2_SMALL_SCORES_MIB`: GPT-2 small has 12 heads per layer and a context of 1024 tokens.
#    How many MiB do the float32 scores of **one layer** take for one sequence?
# 3. `ANSWER_LLAMA7B_KV_KIB_PER_TOKEN`: a Llama-2-7B-shaped model has 32 layers and `d_model = 4096`
#    (32 heads of 128, no grouped-query attention). How many KiB of float16 KV cache does **each token**
#    add (all layers, keys and values)?
#
# Then look at what you found. For the 7B model at 4096 tokens, the float16 scores of one layer take
# 1 GiB. Multiply your answer to question 3 by 4096 tokens, then by 32 users served at once: that is
# the KV cache alone, before any weights, and it is more memory than many GPUs have.
# Two of the answers are the next step after this notebook: attention computed in tiles that never
# stores the `N x N` matrix (FlashAttention), and keys and values shared between heads
# (grouped-query attention).
# A third lives in serving systems: vLLM pages the KV cache like virtual memory, after finding
# that earlier systems used only 20-40% of their cache memory for actual tokens.

# %% nbgrader={"grade": false, "grade_id": "memory-answers", "locked": false, "schema_version": 3, "solution": true}
ANSWER_MEMORY_RATIO_SEQ_DOUBLED = None
ANSWER_GPT2_SMALL_SCORES_MIB = None
ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = None
### BEGIN SOLUTION
ANSWER_MEMORY_RATIO_SEQ_DOUBLED = attention_matrix_bytes(1, 1, 2048) / attention_matrix_bytes(1, 1, 1024)
ANSWER_GPT2_SMALL_SCORES_MIB = attention_matrix_bytes(1, 12, 1024, dtype=np.float32) / 2**20
ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = kv_cache_bytes(32, 1, 32, 1, 128, dtype=np.float16) / 2**10
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-memory-answer-ratio", "locked": true, "points": 2, "schema_version": 3, "solution": false}
ratio = check_number(ANSWER_MEMORY_RATIO_SEQ_DOUBLED, "ANSWER_MEMORY_RATIO_SEQ_DOUBLED")
if not ratio > 1:
    fail(f"ANSWER_MEMORY_RATIO_SEQ_DOUBLED = {ratio}: memory grows when the sequence gets longer.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    t.near(ANSWER_MEMORY_RATIO_SEQ_DOUBLED, 4.0, "ANSWER_MEMORY_RATIO_SEQ_DOUBLED",
           hints={2.0: "The score matrix has N * N entries: think about (2N)^2 / N^2."})
### END HIDDEN TESTS
recorded("ANSWER_MEMORY_RATIO_SEQ_DOUBLED")

# %% nbgrader={"grade": true, "grade_id": "test-memory-answer-gpt2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
gpt2_mib = check_number(ANSWER_GPT2_SMALL_SCORES_MIB, "ANSWER_GPT2_SMALL_SCORES_MIB")
if not gpt2_mib > 0:
    fail(f"ANSWER_GPT2_SMALL_SCORES_MIB = {gpt2_mib} should be positive.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    t.near(ANSWER_GPT2_SMALL_SCORES_MIB, 48.0, "ANSWER_GPT2_SMALL_SCORES_MIB",
           hints={12 * 1024 * 1024 * 4 / 1e6: "That is MB (10^6 bytes); the question asks for MiB (2^20 bytes).",
                  4.0: "That is one head; GPT-2 small has 12.",
                  96.0: "That is float64 or two matrices; the question asks for one float32 score matrix.",
                  576.0: "That is all 12 layers; the question asks for one."})
### END HIDDEN TESTS
recorded("ANSWER_GPT2_SMALL_SCORES_MIB")

# %% nbgrader={"grade": true, "grade_id": "test-memory-answer-llama", "locked": true, "points": 2, "schema_version": 3, "solution": false}
llama_kib = check_number(ANSWER_LLAMA7B_KV_KIB_PER_TOKEN, "ANSWER_LLAMA7B_KV_KIB_PER_TOKEN")
if not llama_kib > 0:
    fail(f"ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = {llama_kib} should be positive.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    t.near(ANSWER_LLAMA7B_KV_KIB_PER_TOKEN, 512.0, "ANSWER_LLAMA7B_KV_KIB_PER_TOKEN",
           hints={256.0: "Keys and values: two tensors per layer.", 16.0: "That is one layer; the model has 32.",
                  1024.0: "float16 takes 2 bytes per number, not 4.", 524288.0: "That is bytes; the question asks for KiB."})
### END HIDDEN TESTS
recorded("ANSWER_LLAMA7B_KV_KIB_PER_TOKEN")

# %% [markdown] tags=["part-7"]
# ---
# ## Part 7: Attention at scale
#
# Production transformers do not compute attention the way Part 1 does, for three reasons you have
# met: the `N x N` score matrix (Part 6), the size of the KV cache (Parts 5 and 6), and the cost of
# moving bytes rather than doing arithmetic. This part builds the answer to each.
#
# ### 7.1 Tiled attention: the score matrix need not exist
# Each output row is a weighted average of the values. It can be accumulated one block of keys at
# a time, if the softmax's normalisation can be fixed up as we go. It can: the *online softmax*
# (Milakov and Gimelshein, 2018), the idea at the core of FlashAttention (Dao et al., 2022).
# ```
#                  keys and values, in blocks of block_size along S (the last may be shorter)
#                  ┌─────────┬─────────┬─────────┬─────┐
#   queries        │ block 0 │ block 1 │ block 2 │ b 3 │    one (L, block_size) tile of scores
#   (L, d_k)       │         │         │         │     │    at a time, never the whole (L, S)
#                  └─────────┴─────────┴─────────┴─────┘
#   kept per query while walking the blocks:  m (running max), l (running sum), o (running output)
# ```
# For one query with scores `s_j` the answer is `sum_j e^{s_j} v_j / sum_j e^{s_j}`. After the
# blocks seen so far keep `m` = the largest score seen, `l = sum e^{s_j - m}` and
# `o = sum e^{s_j - m} v_j` (not yet divided by `l`). A new block with scores `s_j` and values `v_j`:
# ```
#   m_new = max(m, max_j s_j)
#   c     = e^(m - m_new)                 <= 1: re-expresses what we had relative to the new max
#   l     = c * l + sum_j e^(s_j - m_new)
#   o     = c * o + sum_j e^(s_j - m_new) v_j
#   m     = m_new                         ... and after the last block: output = o / l
# ```
# Every exponent is at most 0, so nothing overflows, and the result is exactly `softmax(s) @ V`:
# each term ends up multiplied by `e^(-m_final)` in both `o` and `l`, which cancels. A blocked
# key has score `-inf` and adds `e^(-inf) = 0`. A query whose keys so far are all blocked still has
# `m = -inf`, and `e^(-inf - (-inf))` is NaN: shift by 0 instead while `m_new` is `-inf` (as your
# softmax does), and divide by 1 where `l` is still 0 at the end, so a fully blocked query gets zeros.
#
# Write `tiled_attention(Q, K, V, mask=None, block_size=64)`, returning the output only,
# `(..., L, d_v)`:
# * the same inputs and mask convention as `scaled_dot_product_attention`, and the same output
#   (float32 in, float32 out; fully blocked queries give zeros);
# * it walks the keys and values in blocks of `block_size` along `S` (`K[..., j:j + block_size, :]`)
#   and never builds an `(L, S)` array: slice the mask block by block too
#   (`np.broadcast_to(mask, shape)[..., j:j + block_size]` is a view, it copies nothing);
# * `ValueError` for `block_size < 1`.

# %% nbgrader={"grade": false, "grade_id": "tiled", "locked": false, "schema_version": 3, "solution": true} tags=["export", "part-7"]
def tiled_attention(Q, K, V, mask=None, block_size=64):
    """softmax(Q K^T / sqrt(d_k)) V, one block of keys at a time (online softmax); returns the output."""
    ### BEGIN SOLUTION
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    Q, K, V = np.asarray(Q), np.asarray(K), np.asarray(V)
    dtype = np.result_type(Q, K, V)
    L, S = Q.shape[-2], K.shape[-2]
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2],
                                () if mask is None else np.shape(mask)[:-2])
    if mask is not None:
        mask = np.broadcast_to(np.asarray(mask), batch + (L, S))  # a view: nothing (L, S) is allocated
    q = Q / math.sqrt(Q.shape[-1])
    running_max = np.full(batch + (L, 1), -np.inf, dtype=dtype)
    running_sum = np.zeros(batch + (L, 1), dtype=dtype)
    running_out = np.zeros(batch + (L, V.shape[-1]), dtype=dtype)
    for start in range(0, S, block_size):
        block = slice(start, start + block_size)
        scores = q @ K[..., block, :].swapaxes(-1, -2)  # (..., L, block_size)
        if mask is not None:
            scores = np.where(mask[..., block] != 0, scores, -np.inf)
        new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))
        shift = np.where(np.isfinite(new_max), new_max, 0)  # no key allowed yet: e^(-inf - 0) = 0
        rescale = np.exp(running_max - shift)
        weights = np.exp(scores - shift)
        running_sum = running_sum * rescale + weights.sum(axis=-1, keepdims=True)
        running_out = running_out * rescale + weights @ V[..., block, :]
        running_max = new_max
    return (running_out / np.where(running_sum > 0, running_sum, 1)).astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-tiled-matches", "locked": true, "points": 4, "schema_version": 3, "solution": false} tags=["part-7"]
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
def tiled_hint(Q, K, V, mask, block_size):
    """Which block of keys first makes tiled_attention disagree with scaled_dot_product_attention."""
    S = K.shape[-2]
    full_mask = None if mask is None else np.broadcast_to(mask, np.broadcast_shapes(np.shape(mask), Q.shape[:-1] + (S,)))
    for end in range(block_size, S + block_size, block_size):
        end = min(end, S)
        sub_mask = None if full_mask is None else full_mask[..., :end]
        with quiet():
            expected = scaled_dot_product_attention(Q, K[..., :end, :], V[..., :end, :], sub_mask)[0]
            got = tiled_attention(Q, K[..., :end, :], V[..., :end, :], mask=sub_mask, block_size=block_size)
        if np.shape(got) == np.shape(expected) and np.allclose(got, expected, atol=1e-9, rtol=1e-7):
            continue
        block = (end - 1) // block_size
        if block == 0:
            return ("It is already wrong with the first block of keys alone: check the scale (1/sqrt(d_k)), "
                    "the exponentials and the final division by the running sum.")
        if end - block * block_size < block_size:
            return (f"It is right up to block {block - 1} and wrong once the last block, shorter than "
                    f"block_size ({end - block * block_size} keys), is included: is it dropped or mishandled?")
        return (f"It is right up to block {block - 1} and wrong from block {block} on: when a block raises a "
                "query's running maximum, are both the running sum and the running output rescaled by "
                "exp(old max - new max)?")
    return ""


def check_tiled(Q, K, V, mask=None, block_size=64, what="tiled_attention", atol=1e-10, rtol=1e-8):
    """tiled_attention equals scaled_dot_product_attention's output (and says where it parts from it)."""
    with uses_earlier_parts("scaled_dot_product_attention"), quiet():
        expected = as_float_array(check_pair(scaled_dot_product_attention(Q, K, V, mask), "scaled_dot_product_attention")[0],
                                  "scaled_dot_product_attention's output")
    with quiet():
        got = tiled_attention(Q, K, V, mask=mask, block_size=block_size)
    check_shape(got, expected.shape, what, hint="tiled_attention returns the output only, not (output, weights).")
    try:
        check_close(got, expected, what, atol=atol, rtol=rtol)
    except CheckFailed as error:
        fail(f"{error} {tiled_hint(Q, K, V, mask, block_size)}")


rng = np.random.default_rng(14)
Q = rng.normal(size=(5, 4))
K = rng.normal(size=(7, 4)) * np.arange(1, 8)[:, None]  # later keys score higher: the max keeps rising
V = rng.normal(size=(7, 3))
for size in (7, 1, 2, 3):
    check_tiled(Q, K, V, block_size=size, what=f"tiled_attention of Q (5, 4), K (7, 4), V (7, 3), block_size={size}")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref

    def first_wrong_block(q, k, v, mask, size):
        S = k.shape[-2]
        full_mask = None if mask is None else np.broadcast_to(mask, np.broadcast_shapes(np.shape(mask), q.shape[:-1] + (S,)))
        for end in range(size, S + size, size):
            end = min(end, S)
            sub_mask = None if full_mask is None else full_mask[..., :end]
            got = t.array(t.call(tiled_attention, q.copy(), k[..., :end, :].copy(), v[..., :end, :].copy(), mask=sub_mask, block_size=size), "tiled_attention")
            if not t.matches(got, ref.scaled_dot_product_attention(q, k[..., :end, :], v[..., :end, :], sub_mask)[0], atol=1e-9, rtol=1e-7):
                block = (end - 1) // size
                if block == 0:
                    return "It is wrong with the first block of keys alone: check the scale, the exponentials and the final division."
                if end - block * size < size:
                    return f"It is right up to block {block - 1} and wrong once the last, shorter block is included: is it dropped?"
                return (f"It is right up to block {block - 1} and wrong from block {block} on: when a block raises a query's "
                        "running maximum, are both the running sum and the running output rescaled?")
        return ""

    def check(q, k, v, mask, size, what):
        expected = ref.scaled_dot_product_attention(q, k, v, mask)[0]
        got = t.call(tiled_attention, q.copy(), k.copy(), v.copy(), mask=mask, block_size=size)
        t.shape(got, expected.shape, what)
        if not t.matches(got, expected, atol=1e-10, rtol=1e-8):
            t.close(got, expected, what, atol=1e-10, rtol=1e-8, hint=first_wrong_block(q, k, v, mask, size))

    rng = np.random.default_rng(1361)
    for (lead_q, lead_k, L, S, d, dv, size) in (((), (), 9, 23, 4, 5, 5), ((2,), (2,), 6, 16, 3, 2, 4),
                                                ((2, 3), (2, 3), 5, 11, 8, 4, 64), ((2, 1), (3,), 4, 10, 6, 3, 3),
                                                ((3,), (3,), 7, 9, 5, 5, 1), ((), (), 33, 130, 8, 8, 64)):
        q = rng.normal(size=lead_q + (L, d)) * 2.0
        k = rng.normal(size=lead_k + (S, d)) * np.linspace(0.2, 3.0, S)[:, None]  # later blocks raise the max
        v = rng.normal(size=lead_k + (S, dv))
        check(q, k, v, None, size, f"tiled_attention for Q {q.shape}, K {k.shape}, V {v.shape}, block_size={size}")
    q, k, v = rng.normal(size=(4, 6)), rng.normal(size=(12, 6)), rng.normal(size=(12, 2))
    check(q, k, v, None, 12, "tiled_attention with block_size equal to S (a single block)")
    check(q, k, v, None, 100, "tiled_attention with block_size larger than S")
    check(q * 100.0, k * 100.0, v, None, 5, "tiled_attention with scores around 1e4 (block_size=5)")
### END HIDDEN TESTS
passed("tiled attention equals scaled dot-product attention, block by block")

# %% nbgrader={"grade": true, "grade_id": "test-tiled-masks", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["part-7"]
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(15)
Q, K, V = rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 6, 3))
# causal for sequence 0; sequence 1 has length 0, so every key of it is blocked
causal_and_padding = np.tril(np.ones((6, 6), dtype=bool)) & np.array([True, False])[:, None, None]
check_tiled(Q, K, V, mask=causal_and_padding, block_size=4,
            what="tiled_attention with a causal & padding mask (block_size=4), sequence 1 of length 0")
with quiet():
    out = as_float_array(tiled_attention(Q, K, V, mask=causal_and_padding, block_size=4), "tiled_attention")
check_finite(out, "tiled_attention where sequence 1 has every key blocked")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1362)
    q, k, v = rng.normal(size=(2, 3, 9, 5)), rng.normal(size=(2, 3, 13, 5)), rng.normal(size=(2, 3, 13, 4))
    for mask_shape, size in (((9, 13), 4), ((2, 1, 1, 13), 5), ((2, 3, 9, 13), 3), ((2, 1, 9, 13), 64)):
        mask = rng.random(size=mask_shape) < 0.6
        mask[..., 0, :] = False  # query 0 has every key blocked
        for kind in (bool, np.int64):
            expected = ref.scaled_dot_product_attention(q, k, v, mask)[0]
            got = t.call(tiled_attention, q.copy(), k.copy(), v.copy(), mask=mask.astype(kind), block_size=size)
            t.finite(got, f"tiled_attention with a {kind.__name__} mask {mask_shape} where query 0 has every key blocked")
            t.close(got, expected, f"tiled_attention with a {kind.__name__} mask of shape {mask_shape}, block_size={size}",
                    hint="A key blocked by the mask gets weight 0; a query with every key blocked gets zeros.")
    # Queries without batch axes against batched keys and a batched mask: the output takes the batch.
    q1, kb, vb = rng.normal(size=(9, 5)), rng.normal(size=(2, 13, 5)), rng.normal(size=(2, 13, 4))
    mask = rng.random(size=(2, 9, 13)) < 0.6
    t.close(t.call(tiled_attention, q1.copy(), kb.copy(), vb.copy(), mask=mask, block_size=4),
            ref.scaled_dot_product_attention(q1, kb, vb, mask)[0],
            "tiled_attention for Q (9, 5) against K (2, 13, 5) and V (2, 13, 4) with a (2, 9, 13) mask (block_size=4)")
    causal = ref.create_causal_mask(11)
    x = rng.normal(size=(11, 6))
    t.close(t.call(tiled_attention, x.copy(), x.copy(), x.copy(), mask=causal, block_size=3),
            ref.scaled_dot_product_attention(x, x, x, causal)[0], "tiled_attention with a causal mask (11 tokens, block_size=3)")
    # A row whose allowed keys all lie in a late block: the first blocks leave its max at -inf.
    late = np.zeros((4, 12), dtype=bool)
    late[:, 9:] = True
    q4, k12, v12 = rng.normal(size=(4, 6)), rng.normal(size=(12, 6)), rng.normal(size=(12, 2))
    t.close(t.call(tiled_attention, q4.copy(), k12.copy(), v12.copy(), mask=late, block_size=3),
            ref.scaled_dot_product_attention(q4, k12, v12, late)[0],
            "tiled_attention when the only allowed keys are in the last block (the first blocks leave the running max at -inf)")
### END HIDDEN TESTS
passed("masks and fully blocked queries work block by block")

# %% nbgrader={"grade": true, "grade_id": "test-tiled-float32", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["part-7"]
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(16)
Q32, K32, V32 = (rng.normal(size=s).astype(np.float32) for s in ((3, 5, 8), (3, 20, 8), (3, 20, 4)))
with quiet():
    out32 = tiled_attention(Q32, K32, V32, block_size=6)
check_dtype(out32, np.float32, "tiled_attention of float32 inputs")
check_tiled(Q32, K32, V32, block_size=6, what="float32 tiled_attention", atol=1e-5, rtol=1e-4)
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1363)
    q, k, v = (rng.normal(size=s).astype(np.float32) for s in ((2, 4, 7, 16), (2, 4, 50, 16), (2, 4, 50, 8)))
    mask = rng.random(size=(2, 1, 7, 50)) < 0.7
    mask[1, 0, 3] = False
    expected = ref.scaled_dot_product_attention(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), mask)[0]
    got = t.call(tiled_attention, q.copy(), k.copy(), v.copy(), mask=mask, block_size=16)
    t.dtype(got, np.float32, "tiled_attention of random float32 inputs with a mask")
    t.close(got, expected, "float32 tiled_attention with a mask, block_size=16", atol=1e-5, rtol=1e-4)
    big = t.call(tiled_attention, q * 300.0, k * 300.0, v.copy(), block_size=16)
    t.finite(big, "float32 tiled_attention with scores around 1e5 (exp must never see a positive exponent)")
    t.dtype(t.call(tiled_attention, q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), block_size=16),
            np.float64, "tiled_attention of float64 inputs")
### END HIDDEN TESTS
passed("float32 in, float32 out")

# %% nbgrader={"grade": true, "grade_id": "test-tiled-memory", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["part-7"]
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(17)
Q, K, V = (rng.normal(size=(2048, 16)) for _ in range(3))
out, peak = peak_memory(tiled_attention, Q, K, V, block_size=64)
score_matrix = 2048 * 2048 * 8  # one L x S float64 matrix: 32 MiB
check_tiled(Q[:64], K, V, block_size=64, what="tiled_attention of 64 of these queries against 2048 keys")
if peak >= score_matrix / 2:
    fail(f"tiled_attention(block_size=64) at L = S = 2048 used {peak / 2**20:.1f} MiB at its peak, "
         f"{peak / score_matrix:.2f} of one 2048 x 2048 float64 score matrix: it must stay below half "
         "(16 MiB). Does something (scores, weights, a mask) have the full (L, S) shape?")
print(f"peak memory: {peak / 2**20:.1f} MiB, {peak / score_matrix:.3f} of one 2048 x 2048 score matrix")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1364)
    q, k, v = (rng.normal(size=(2048, 16)) for _ in range(3))
    got, peak = t.peak_bytes(tiled_attention, q, k, v, block_size=64)
    t.shape(got, (2048, 16), "tiled_attention at L = S = 2048")
    rows = np.r_[0:40, 2008:2048]  # every output row is its own weighted average: a sample of rows will do
    t.close(t.array(got, "tiled_attention")[rows], ref.scaled_dot_product_attention(q[rows], k, v)[0],
            "tiled_attention at L = S = 2048, block_size=64", atol=1e-10, rtol=1e-8)
    if peak >= 2048 * 2048 * 8 / 2:
        t.fail(f"tiled_attention(block_size=64) at L = S = 2048 used {peak / 2**20:.1f} MiB at its peak, "
               f"{peak / (2048 * 2048 * 8):.2f} of one 2048 x 2048 float64 matrix; it must stay below half. "
               "Does something have the full (L, S) shape?")
    mask = ref.create_causal_mask(1024)
    q, k, v = (rng.normal(size=(1024, 16)) for _ in range(3))
    got, peak = t.peak_bytes(tiled_attention, q, k, v, mask=mask, block_size=32)
    t.close(got, ref.scaled_dot_product_attention(q, k, v, mask)[0], "tiled_attention with a (1024, 1024) causal mask, block_size=32")
    if peak >= 1024 * 1024 * 8 / 2:
        t.fail(f"tiled_attention with a boolean (1024, 1024) mask and block_size=32 used {peak / 2**20:.1f} MiB at its "
               "peak, half of a 1024 x 1024 float64 matrix or more: slice the mask block by block instead of "
               "converting or broadcasting a copy of it whole.")
### END HIDDEN TESTS
passed("tiled attention never holds the score matrix")

# %% nbgrader={"grade": true, "grade_id": "test-tiled-block-size", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["part-7"]
rng = np.random.default_rng(18)
Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
check_raises(ValueError, tiled_attention, Q, K, V, None, 0, what="tiled_attention(..., block_size=0)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1365)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    t.raises(ValueError, tiled_attention, q, k, v, what="tiled_attention(..., block_size=-2)", block_size=-2)
    t.raises(ValueError, tiled_attention, q, k, v, ref.create_causal_mask(5)[:3], 0, what="tiled_attention with a mask and block_size=0")
    t.close(t.call(tiled_attention, q.copy(), k.copy(), v.copy(), block_size=1), ref.scaled_dot_product_attention(q, k, v)[0],
            "tiled_attention with block_size=1 (one key at a time)")
### END HIDDEN TESTS
passed("block_size < 1 raises ValueError")

# %% [markdown] tags=["part-7"]
# ### Measure it: the memory of tiled attention
# The same measurement as in Part 6, now for both of your functions (one head of size 16, float64,
# `block_size=64`): peak memory against `N`, and the exponent of each fitted line. Tiled attention
# keeps a few `(N, block_size)` tiles and the `(N, d)` running output alive, so its memory grows
# linearly in `N` (and is set by `block_size`); the full version keeps at least one `N x N` matrix.
# FlashAttention does the same on a GPU, where the tiles live in fast on-chip memory and the
# bandwidth saved by never writing the `N x N` matrix to GPU memory is what makes it faster too.

# %% nbgrader={"grade": false, "grade_id": "demo-tiled-memory", "locked": true, "schema_version": 3, "solution": false} tags=["part-7"]
if RUN_DEMOS:
    tiled_lens = np.array([256, 512, 1024, 2048, 4096])
    full_peaks = np.array([peak_bytes(scaled_dot_product_attention, n, num_heads=1, head_dim=16) for n in tiled_lens])
    tiled_peaks = np.array([peak_bytes(lambda q, k, v: tiled_attention(q, k, v, block_size=64), n, num_heads=1, head_dim=16)
                            for n in tiled_lens])
    full_exponent = fit_scaling_exponent(tiled_lens, full_peaks)
    tiled_exponent = fit_scaling_exponent(tiled_lens, tiled_peaks)

    plt.figure(figsize=(5.5, 3.6))
    plt.loglog(tiled_lens, full_peaks / 2**20, "o-", label=f"scaled_dot_product_attention (exponent {full_exponent:.2f})")
    plt.loglog(tiled_lens, tiled_peaks / 2**20, "s-", label=f"tiled_attention, block 64 (exponent {tiled_exponent:.2f})")
    plt.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    plt.xticks(tiled_lens, [str(n) for n in tiled_lens])
    plt.xlabel("sequence length N")
    plt.ylabel("peak MiB")
    plt.title("Tiles instead of the score matrix")
    plt.legend(fontsize=8)
    plt.tight_layout()
    plt.show()
    for n, full_bytes, tiled_bytes in zip(tiled_lens, full_peaks, tiled_peaks):
        print(f"N = {n:5d}: full {full_bytes / 2**20:8.2f} MiB, tiled {tiled_bytes / 2**20:6.2f} MiB, "
              f"{full_bytes / tiled_bytes:5.1f}x less")

# %% [markdown] tags=["part-7"]
# ### Measure it: the time of attention
# Memory is one cost; time is the other. The next cell times both of your functions on one head of
# size 32 (the fastest of 5 runs for each `N`: as in Part 5, other programs can only add time) and fits the exponent of the time with your
# `fit_scaling_exponent`. Full attention computes `N^2` scores, so expect an exponent near 2 (on a
# busy machine timings are noisy: run the cell again if the points do not lie on a line).
# Tiled attention does the same arithmetic, plus the rescaling of the online softmax, and in NumPy it
# is no faster, usually slower: every block is another round of small NumPy calls from Python, and
# the memory traffic it saves is cheap on a CPU. On a GPU, FlashAttention runs all the blocks inside one kernel with the
# tiles in fast on-chip memory, and never writing the `N x N` matrix to the GPU's much slower main
# memory makes it faster than the full version, not only smaller.

# %% nbgrader={"grade": false, "grade_id": "demo-attention-time", "locked": true, "schema_version": 3, "solution": false} tags=["part-7"]
def fastest_seconds(attention, seq_len, head_dim=32, repeats=5, seed=0):
    """Seconds of the fastest of `repeats` runs of `attention(q, k, v)` on one head of seq_len tokens."""
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(1, 1, seq_len, head_dim)) for _ in range(3))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        attention(q, k, v)
        seconds.append(time.perf_counter() - start)
    return min(seconds)


if RUN_DEMOS:
    time_lens = np.array([256, 512, 1024, 2048])
    full_seconds = np.array([fastest_seconds(scaled_dot_product_attention, n) for n in time_lens])
    tiled_seconds = np.array([fastest_seconds(lambda q, k, v: tiled_attention(q, k, v, block_size=64), n)
                              for n in time_lens])
    time_exponent = fit_scaling_exponent(time_lens, full_seconds)

    plt.figure(figsize=(5.5, 3.6))
    plt.loglog(time_lens, 1e3 * full_seconds, "o-", label=f"scaled_dot_product_attention (exponent {time_exponent:.2f})")
    plt.loglog(time_lens, 1e3 * tiled_seconds, "s-",
               label=f"tiled_attention, block 64 (exponent {fit_scaling_exponent(time_lens, tiled_seconds):.2f})")
    plt.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    plt.xticks(time_lens, [str(n) for n in time_lens])
    plt.tick_params(axis="y", which="minor", labelleft=False)
    plt.xlabel("sequence length N")
    plt.ylabel("ms (fastest of 5)")
    plt.title("Time of attention, one head of size 32")
    plt.legend(fontsize=8)
    plt.tight_layout()
    plt.show()
    print(f"Doubling N multiplies the time of full attention by about {2 ** time_exponent:.1f}; "
          f"at N = {time_lens[-1]} tiled attention takes {tiled_seconds[-1] / full_seconds[-1]:.1f}x as long here.")

# %% [markdown] tags=["part-7"]
# ### 7.2 Grouped-query attention: fewer keys and values to cache
# The KV cache of Part 5 stores a key and a value for every head, layer and token:
# `2 * layers * B * H_kv * N * head_dim` numbers, where `H_kv` counts the heads that have their own
# keys and values. *Multi-query attention* (Shazeer, 2019) gives all query heads a single shared
# key/value head; *grouped-query attention* (Ainslie et al., 2023) is the dial between the two: each
# group of `H / H_kv` consecutive query heads shares one key/value head. Llama-2-70B's 64 query
# heads share 8.
# ```
#   query heads h:              0   1   2   3   4   5   6   7        H = 8
#   multi-head    (H_kv = 8):   0   1   2   3   4   5   6   7        key/value head used by h
#   grouped-query (H_kv = 2):   0   0   0   0   1   1   1   1        h // (H / H_kv)
#   multi-query   (H_kv = 1):   0   0   0   0   0   0   0   0
# ```
# Go back to your `MultiHeadAttention` (Part 4) and `decode_step` (Part 5) and make `num_kv_heads`
# work, then run the notebook again from Part 4:
# * `MultiHeadAttention(embed_dim, num_heads, seed=None, num_kv_heads=None)`: `num_kv_heads`
#   defaults to `num_heads` (everything you built so far is unchanged); `ValueError` unless
#   `num_heads % num_kv_heads == 0`; store it as `self.num_kv_heads`. `W_q` and `W_o` stay
#   `(E, E)`; `W_k` and `W_v` become `(E, num_kv_heads * head_dim)`.
# * Key/value head `g` uses columns `g*D:(g+1)*D` of `x @ W_k` (and of `x @ W_v`); query head `h`
#   uses key/value head `h // (num_heads // num_kv_heads)`. On a `(B, H_kv, S, D)` array,
#   `np.repeat(k, group, axis=1)` gives exactly that order (PyTorch's `repeat_interleave`, Llama's
#   `repeat_kv`); `np.tile` gives `0 1 0 1 ...`, which is wrong. The weights stay `(B, num_heads, L, S)`.
# * `decode_step` works with `KVCache(max_seq_len, num_kv_heads, head_dim, ...)`: the cache holds
#   only the `H_kv` heads, which is the whole point; repeat them after reading.

# %% nbgrader={"grade": true, "grade_id": "test-gqa-init", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["part-7"]
with quiet():
    gqa = MultiHeadAttention(16, 4, seed=0, num_kv_heads=2)
    plain = MultiHeadAttention(16, 4, seed=0)
if getattr(gqa, "num_kv_heads", None) != 2 or getattr(plain, "num_kv_heads", None) != 4:
    fail("MultiHeadAttention(16, 4, num_kv_heads=2).num_kv_heads should be 2, and num_kv_heads should "
         "default to num_heads (4).")
for name, shape in (("W_q", (16, 16)), ("W_k", (16, 8)), ("W_v", (16, 8)), ("W_o", (16, 16))):
    check_shape(getattr(gqa, name), shape, f"MultiHeadAttention(16, 4, num_kv_heads=2).{name}",
                hint="W_k and W_v are (E, num_kv_heads * head_dim).")
check_raises(ValueError, MultiHeadAttention, 16, 4, None, 3, what="MultiHeadAttention(16, 4, num_kv_heads=3)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    for (E, H, H_kv) in ((24, 6, 3), (24, 6, 1), (24, 6, 6), (12, 4, 2)):
        layer = t.call(MultiHeadAttention, E, H, seed=3, num_kv_heads=H_kv)
        if getattr(layer, "num_kv_heads", None) != H_kv:
            t.fail(f"MultiHeadAttention({E}, {H}, num_kv_heads={H_kv}).num_kv_heads = {getattr(layer, 'num_kv_heads', None)}, expected {H_kv}.")
        head_dim = E // H
        for name, shape in (("W_q", (E, E)), ("W_k", (E, H_kv * head_dim)), ("W_v", (E, H_kv * head_dim)), ("W_o", (E, E))):
            t.shape(getattr(layer, name), shape, f"MultiHeadAttention({E}, {H}, num_kv_heads={H_kv}).{name}")
    a, b = t.call(MultiHeadAttention, 12, 4, seed=1, num_kv_heads=2), t.call(MultiHeadAttention, 12, 4, seed=1, num_kv_heads=2)
    for name in ("W_k", "W_v"):
        t.close(getattr(a, name), getattr(b, name), f"{name} of two grouped-query layers built with seed=1")
    t.raises(ValueError, MultiHeadAttention, 24, 6, what="MultiHeadAttention(24, 6, num_kv_heads=4)", num_kv_heads=4)
    t.raises(ValueError, MultiHeadAttention, 24, 6, what="MultiHeadAttention(24, 6, num_kv_heads=12)", num_kv_heads=12)
### END HIDDEN TESTS
passed("grouped-query layers have num_kv_heads key/value heads")

# %% nbgrader={"grade": true, "grade_id": "test-gqa-forward", "locked": true, "points": 4, "schema_version": 3, "solution": false} tags=["part-7"]
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
# Query head h (columns 2h:2h+2 of x @ W_q) attends with key/value head g (columns 2g:2g+2 of
# x @ W_k): g = h // 2 here. The weights of each head follow from your attention function.
rng = np.random.default_rng(19)
x = rng.normal(size=(2, 5, 8))
with uses_earlier_parts("scaled_dot_product_attention", *HEAD_HELPERS):
    with quiet():
        gqa = MultiHeadAttention(8, 4, seed=6, num_kv_heads=2)
        y, w = check_pair(gqa(x, x, x, return_attention_weights=True), "gqa(..., return_attention_weights=True)")
        q, k = x @ as_float_array(gqa.W_q, "gqa.W_q"), x @ as_float_array(gqa.W_k, "gqa.W_k")
        head = [[scaled_dot_product_attention(q[..., 2 * h:2 * h + 2], k[..., 2 * g:2 * g + 2], k[..., 2 * g:2 * g + 2])[1]
                 for g in range(2)] for h in range(4)]  # head[h][g]: query head h with key/value head g
    check_shape(y, (2, 5, 8), "output of MultiHeadAttention(8, 4, num_kv_heads=2)")
    check_shape(w, (2, 4, 5, 5), "weights of MultiHeadAttention(8, 4, num_kv_heads=2) (batch, query heads, L, S)")
    check_close(w, np.stack([head[h][h // 2] for h in range(4)], axis=1),
                "weights of MultiHeadAttention(8, 4, num_kv_heads=2), query head h with key/value head h // 2",
                mistakes={"share the key/value heads with np.tile instead of np.repeat (query head h then reads "
                          "key/value head h % num_kv_heads)": np.stack([head[h][h % 2] for h in range(4)], axis=1)})
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1371)
    for (E, H, H_kv) in ((24, 6, 3), (24, 6, 2), (24, 6, 1), (16, 4, 4)):
        head_dim = E // H
        layer = t.call(MultiHeadAttention, E, H, seed=4, num_kv_heads=H_kv)
        layer.W_q, layer.W_o = rng.normal(size=(E, E)) / 3.0, rng.normal(size=(E, E)) / 3.0
        layer.W_k, layer.W_v = rng.normal(size=(E, H_kv * head_dim)) / 3.0, rng.normal(size=(E, H_kv * head_dim)) / 3.0
        xq, xk, xv = rng.normal(size=(2, 5, E)), rng.normal(size=(2, 7, E)), rng.normal(size=(2, 7, E))
        mask = rng.random(size=(2, 1, 5, 7)) < 0.7
        mask[1, 0, 2] = False  # a query with every key blocked
        expected_y, expected_w = ref.multi_head(layer, xq, xk, xv, mask)
        y, w = t.is_pair(t.call(layer, xq.copy(), xk.copy(), xv.copy(), mask=mask, return_attention_weights=True), "layer(...)")
        t.shape(w, (2, H, 5, 7), f"weights of MultiHeadAttention({E}, {H}, num_kv_heads={H_kv})")
        tiled_w = ref.multi_head(layer, xq, xk, xv, mask, kv_head_of=lambda h, heads, kv_heads: h % kv_heads)[1]
        t.close(w, expected_w, f"weights of MultiHeadAttention({E}, {H}, num_kv_heads={H_kv}) (L=5, S=7, with a mask)",
                hint="Query head h uses key/value head h // (num_heads // num_kv_heads).",
                mistakes={} if H_kv in (1, H) else {"share the key/value heads with np.tile instead of np.repeat": tiled_w})
        t.close(y, expected_y, f"output of MultiHeadAttention({E}, {H}, num_kv_heads={H_kv}) (L=5, S=7, with a mask)")
### END HIDDEN TESTS
passed("consecutive query heads share a key/value head")

# %% nbgrader={"grade": true, "grade_id": "test-gqa-decode", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["part-7"]
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
# The visible checks compare decoding with a full pass: make it a reference pass, so that a bug
# in the student's forward costs Part 4, not this part too.
_checks.use_reference("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask",
                      "MultiHeadAttention.forward", "MultiHeadAttention.__call__")
### END HIDDEN TESTS
rng = np.random.default_rng(20)
x = rng.normal(size=(1, 6, 8))
with uses_earlier_parts("scaled_dot_product_attention", "create_causal_mask", *HEAD_HELPERS):
    with quiet():
        gqa = MultiHeadAttention(8, 4, seed=7, num_kv_heads=2)
        full = gqa(x, x, x, mask=create_causal_mask(6))
        cache = KVCache(max_seq_len=6, num_heads=2, head_dim=2)  # only the 2 key/value heads are cached
        steps = [gqa.decode_step(x[:, t:t + 1], cache) for t in range(6)]
        first_only = [gqa(x[:, t:t + 1], x[:, :1], x[:, :1]) for t in range(6)]  # each token seeing token 0 only
        # np.tile's order (query heads 0 1 2 3 read key/value heads 0 1 0 1) is np.repeat's (0 0 1 1)
        # with query heads 1 and 2 traded: their columns of W_q, their rows of W_o.
        traded = MultiHeadAttention(8, 4, seed=7, num_kv_heads=2)
        order = np.r_[0:2, 4:6, 2:4, 6:8]
        traded.W_q, traded.W_o = as_float_array(gqa.W_q, "gqa.W_q")[:, order], as_float_array(gqa.W_o, "gqa.W_o")[order]
        tiled = traded(x, x, x, mask=create_causal_mask(6))
    check_close(np.concatenate([as_float_array(s, "decode_step output") for s in steps], axis=1), full,
                "grouped-query decoding token by token vs the full causal pass", atol=1e-10,
                hint="Append the num_kv_heads key/value heads to the cache, and repeat them after reading.",
                mistakes={"share the key/value heads with np.tile instead of np.repeat (query head h then reads "
                          "key/value head h % num_kv_heads)": tiled,
                          "align the new tokens' mask top-left (np.tril without k=len(cache)): a new token then "
                          "sees the first token only": np.concatenate([as_float_array(o, "gqa(...)") for o in first_only], axis=1)})
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np, ref = t.np, t.ref
    rng = np.random.default_rng(1372)
    for (E, H, H_kv) in ((24, 6, 2), (24, 6, 1)):
        head_dim = E // H
        layer = t.call(MultiHeadAttention, E, H, seed=5, num_kv_heads=H_kv)
        layer.W_q, layer.W_o = rng.normal(size=(E, E)) / 3.0, rng.normal(size=(E, E)) / 3.0
        layer.W_k, layer.W_v = rng.normal(size=(E, H_kv * head_dim)) / 3.0, rng.normal(size=(E, H_kv * head_dim)) / 3.0
        x = rng.normal(size=(2, 9, E))
        full, _ = ref.multi_head(layer, x, x, x, ref.create_causal_mask(9))
        cache = t.call(KVCache, 9, H_kv, head_dim, batch_size=2)
        parts, start = [], 0
        for chunk in (4, 1, 1, 3):
            parts.append(t.array(t.call(layer.decode_step, x[:, start:start + chunk].copy(), cache), "decode_step output"))
            start += chunk
        t.close(np.concatenate(parts, axis=1), full,
                f"decoding MultiHeadAttention({E}, {H}, num_kv_heads={H_kv}) in chunks 4, 1, 1, 3 with a KVCache of {H_kv} heads vs the full causal pass",
                atol=1e-10)
        if len(cache) != 9:
            t.fail(f"after decoding 9 tokens, len(cache) = {len(cache)}, expected 9.")
### END HIDDEN TESTS
passed("grouped-query decoding equals the full causal pass, with a cache of num_kv_heads heads")

# %% [markdown] tags=["part-7"]
# What the dial buys. `ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN`: Llama-2-70B has 80 layers and 8
# key/value heads of size 128. How many KiB of float16 KV cache does each token add (all layers,
# keys and values)? Use your `kv_cache_bytes`.

# %% nbgrader={"grade": false, "grade_id": "gqa-answer", "locked": false, "schema_version": 3, "solution": true} tags=["part-7"]
ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN = None
### BEGIN SOLUTION
ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN = kv_cache_bytes(80, 1, 8, 1, 128, dtype=np.float16) / 2**10
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-gqa-answer", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["part-7"]
llama70_kib = check_number(ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN, "ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN")
if not llama70_kib > 0:
    fail(f"ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN = {llama70_kib} should be positive.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    t.near(ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN, 320.0, "ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN",
           hints={2560.0: "That is with 64 key/value heads; Llama-2-70B caches only its 8.",
                  160.0: "Keys and values: two tensors per layer.", 4.0: "That is one layer; the model has 80.",
                  640.0: "float16 takes 2 bytes per number, not 4.", 327680.0: "That is bytes; the question asks for KiB."})
### END HIDDEN TESTS
recorded("ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN")

# %% [markdown] tags=["part-7"]
# Per token, Llama-2-70B's cache is smaller than the 7B shape's (your answer to question 3 of
# Part 6), although the model is ten times larger. Suppose a server of eight 80 GB GPUs keeps 500 GB for KV caches after the weights.
# The next cell computes, with your functions, what that budget holds for each choice of `H_kv`.

# %% nbgrader={"grade": false, "grade_id": "demo-gqa", "locked": true, "schema_version": 3, "solution": false} tags=["part-7"]
if RUN_DEMOS:
    cache_budget = 500e9  # bytes
    print(f"{'Llama-2-70B shape':<28}{'KiB per token':>14}{'4096-token sequences':>22}{'longest context':>17}")
    for label, kv_heads in (("multi-head (H_kv = 64)", 64), ("grouped-query (H_kv = 8)", 8), ("multi-query (H_kv = 1)", 1)):
        per_token = kv_cache_bytes(80, 1, kv_heads, 1, 128, dtype=np.float16)
        per_sequence = kv_cache_bytes(80, 1, kv_heads, 4096, 128, dtype=np.float16)
        print(f"{label:<28}{per_token / 2**10:>14.0f}{int(cache_budget // per_sequence):>22}"
              f"{int(cache_budget // per_token):>17,}")

# %% [markdown] tags=["part-7"]
# ### 7.3 Compute and bandwidth
# **Counting FLOPs.** A multiply-add counts as 2 floating-point operations. `Q @ K^T` for one head
# computes `L * S` dot products of length `d`: `2 * L * S * d` FLOPs; `weights @ V` as many again.
# For self-attention over `B` sequences of `N` tokens and `H` heads of size `d`, that is
# `4 * B * H * N^2 * d` (`= 4 * B * N^2 * E`). The four projections (queries, keys, values, output)
# each multiply `B * N` vectors by an `(E, E)` matrix: `8 * B * N * E^2`. (The softmax's `B*H*N^2`
# exponentials are left out: they are not matrix products.) Attention's share grows with `N`: the two
# are equal at `N = 2E`.
#
# **Why decoding one sequence is slow whatever the FLOPs.** Generating a token multiplies one
# vector by every weight matrix of the model and reads the whole KV cache: each weight is read from
# memory once and used for a single multiply-add. In float16 that is 2 bytes read per 2 FLOPs. An
# H100 can do about 989 TFLOP/s of dense float16 matrix math but read only 3.35 TB/s from its
# memory, about 300 FLOPs per byte read: at batch 1 it waits for memory nearly all the time.
# So the bandwidth bounds the speed: `tokens/s <= bandwidth / (weight bytes + KV cache bytes)`.
# Decoding a batch of sequences together reuses every weight read for all of them, which is why
# serving systems batch requests. It does not share the cache reads: each sequence has its own KV
# cache, read in full for each of its tokens, which is why fewer key/value heads (grouped-query
# attention, 7.2) matter.
#
# Write:
# * `attention_flops(batch_size, num_heads, seq_len, head_dim)` -> int: the FLOPs of `Q K^T` and
#   `weights @ V` in self-attention;
# * `projection_flops(batch_size, seq_len, embed_dim)` -> int: the FLOPs of the four projections;
# * `max_decode_tokens_per_second(weight_bytes, kv_cache_bytes, bandwidth_bytes_per_second)` -> float:
#   the batch-1 decoding speed if every weight and the whole cache are read once per token.

# %% nbgrader={"grade": false, "grade_id": "compute-functions", "locked": false, "schema_version": 3, "solution": true} tags=["export", "part-7"]
def attention_flops(batch_size, num_heads, seq_len, head_dim):
    """FLOPs of Q K^T and weights @ V in self-attention (a multiply-add is 2 FLOPs)."""
    ### BEGIN SOLUTION
    return 4 * batch_size * num_heads * seq_len * seq_len * head_dim
    ### END SOLUTION


def projection_flops(batch_size, seq_len, embed_dim):
    """FLOPs of the query, key, value and output projections of one layer."""
    ### BEGIN SOLUTION
    return 4 * 2 * batch_size * seq_len * embed_dim * embed_dim
    ### END SOLUTION


def max_decode_tokens_per_second(weight_bytes, kv_cache_bytes, bandwidth_bytes_per_second):
    """Upper bound on batch-1 decoding speed: every weight and the whole cache are read per token."""
    ### BEGIN SOLUTION
    return bandwidth_bytes_per_second / (weight_bytes + kv_cache_bytes)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-compute-flops", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["part-7"]
with quiet():
    gpt2_attention = attention_flops(1, 12, 1024, 64)
    gpt2_projections = projection_flops(1, 1024, 768)
check_integer(gpt2_attention, 4 * 12 * 1024 * 1024 * 64, "attention_flops(1, 12, 1024, 64) (one GPT-2 small layer, 1024 tokens)")
check_integer(gpt2_projections, 8 * 1024 * 768 * 768, "projection_flops(1, 1024, 768)")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1381)
    for _ in range(5):
        b, h, n, d = (int(v) for v in rng.integers([1, 1, 1, 8], [9, 65, 9000, 257]))
        expected = 4 * b * h * n * n * d
        got = t.call(attention_flops, b, h, n, d)
        hint = {expected // 2: " Count a multiply-add as 2 FLOPs, and both matrix products (Q K^T and weights @ V)."}
        if isinstance(got, (int, np.integer)) and int(got) in hint:
            t.fail(f"attention_flops({b}, {h}, {n}, {d}) = {int(got)}, expected {expected}.{hint[int(got)]}")
        t.integer(got, expected, f"attention_flops({b}, {h}, {n}, {d})")
        e = h * d
        expected = 8 * b * n * e * e
        got = t.call(projection_flops, b, n, e)
        hints = {expected // 2: " A multiply-add is 2 FLOPs.", 6 * b * n * e * e: " There are four projections: queries, keys, values and the output."}
        if isinstance(got, (int, np.integer)) and int(got) in hints:
            t.fail(f"projection_flops({b}, {n}, {e}) = {int(got)}, expected {expected}.{hints[int(got)]}")
        t.integer(got, expected, f"projection_flops({b}, {n}, {e})")
### END HIDDEN TESTS
passed("attention_flops and projection_flops")

# %% nbgrader={"grade": true, "grade_id": "test-compute-decode-bound", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["part-7"]
with quiet():
    bound = max_decode_tokens_per_second(13.48e9, 2**31, 2.0e12)
check_close(check_number(bound, "max_decode_tokens_per_second(13.48e9, 2**31, 2.0e12)"), 2.0e12 / (13.48e9 + 2**31),
            "tokens/s for Llama-2-7B's float16 weights and 4096 tokens of cache on a 2.0 TB/s GPU",
            rtol=1e-9, hint="Every weight and the whole cache are read once per token.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    np = t.np
    rng = np.random.default_rng(1382)
    for _ in range(5):
        weights, cache, bandwidth = float(rng.uniform(1e8, 1e11)), float(rng.uniform(0, 1e10)), float(rng.uniform(1e11, 5e12))
        got = t.number(t.call(max_decode_tokens_per_second, weights, cache, bandwidth), "max_decode_tokens_per_second")
        t.close(got, bandwidth / (weights + cache), f"max_decode_tokens_per_second({weights:.4g}, {cache:.4g}, {bandwidth:.4g})", rtol=1e-9,
                mistakes={"forget the KV cache (it is read for every token too)": bandwidth / weights,
                          "forget the weights": bandwidth / cache if cache else -1.0})
    t.close(t.number(t.call(max_decode_tokens_per_second, 1e9, 0, 1e12), "max_decode_tokens_per_second"), 1000.0,
            "max_decode_tokens_per_second(1e9, 0, 1e12) (an empty cache)", rtol=1e-9)
### END HIDDEN TESTS
passed("max_decode_tokens_per_second")

# %% [markdown] tags=["part-7"]
# `ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2`: at what sequence length `N` are attention's FLOPs
# equal to the projections' in a GPT-2 small layer (`E = 768`)?

# %% nbgrader={"grade": false, "grade_id": "compute-answer", "locked": false, "schema_version": 3, "solution": true} tags=["part-7"]
ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = None
### BEGIN SOLUTION
ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = 2 * 768
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-compute-answer", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["part-7"]
crossover = check_number(ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2, "ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2")
if not crossover > 0:
    fail(f"ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = {crossover} should be a positive sequence length.")
### BEGIN HIDDEN TESTS
import grading.kernel_checks as _checks
@_checks.hidden
def _hidden(t):
    t.near(ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2, 1536.0, "ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2",
           hints={768.0: "Set 4 B N^2 E equal to 8 B N E^2 and solve for N.",
                  3072.0: "Attention has two matrix products (Q K^T and weights @ V), both counted.",
                  1152.0: "There are four projections, not three."})
### END HIDDEN TESTS
recorded("ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2")

# %% [markdown] tags=["part-7"]
# ### See it: FLOPs against N, and the bandwidth ceiling
# Left: the FLOPs of one GPT-2 small layer. Right: the ceiling your `max_decode_tokens_per_second`
# puts on batch-1 decoding of a Llama-2-7B-shaped model (float16 weights, 13.5 GB; the real
# Llama-2-7B stops at 4096 tokens, the shape is drawn out to 32K) on two kinds of GPU, as the cache
# grows with the context. No amount of compute lifts it; only fewer bytes per token (grouped-query
# attention, quantized weights) or more tokens per weight byte read (batching, which shares the
# weight reads among sequences but not their caches) do.

# %% nbgrader={"grade": false, "grade_id": "demo-compute", "locked": true, "schema_version": 3, "solution": false} tags=["part-7"]
if RUN_DEMOS:
    lengths = np.array([64, 128, 256, 512, 1024, 2048, 4096, 8192])
    fig, (ax_flops, ax_speed) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_flops.loglog(lengths, [attention_flops(1, 12, n, 64) for n in lengths], "o-", label="attention (Q K^T, weights @ V)")
    ax_flops.loglog(lengths, [projection_flops(1, n, 768) for n in lengths], "s-", label="projections (Q, K, V, output)")
    ax_flops.axvline(ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2, color="gray", ls=":", label=f"N = {ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2}")
    ax_flops.set_xlabel("sequence length N")
    ax_flops.set_ylabel("FLOPs per layer")
    ax_flops.set_title("GPT-2 small, one layer")
    ax_flops.legend(fontsize=8)
    contexts = np.arange(0, 32769, 1024)
    for name, bandwidth in (("A100 80GB, 2.0 TB/s", 2.0e12), ("H100 SXM, 3.35 TB/s", 3.35e12)):
        ax_speed.plot(contexts, [max_decode_tokens_per_second(6.74e9 * 2, kv_cache_bytes(32, 1, 32, n, 128), bandwidth)
                                 for n in contexts], label=name)
    ax_speed.set_xlabel("tokens in the KV cache")
    ax_speed.set_ylabel("tokens/s, at most")
    ax_speed.set_title("Llama-2-7B-shaped, batch 1: the bandwidth ceiling")
    ax_speed.legend(fontsize=8)
    plt.tight_layout()
    plt.show()
    step_layer = MultiHeadAttention(embed_dim=128, num_heads=4, seed=0)
    step_cache = KVCache(64, step_layer.num_heads, step_layer.head_dim)
    step_x = np.random.default_rng(0).normal(size=(1, 64, 128))
    step_seconds = []
    for t in range(64):
        start = time.perf_counter()
        step_layer.decode_step(step_x[:, t:t + 1], step_cache)
        step_seconds.append(time.perf_counter() - start)
    step = float(np.median(step_seconds))
    layer_bytes = sum(getattr(step_layer, name).nbytes for name in ("W_q", "W_k", "W_v", "W_o"))
    print(f"Here, your decode_step on a layer with E = 128 took {1e6 * step:.0f} microseconds per token "
          f"({1 / step:,.0f} tokens/s). Its weights are only {layer_bytes / 2**10:.0f} KiB, which stay in the CPU's "
          "caches: at this size the time goes to NumPy's per-call overhead, not to reading memory. "
          "At the size of a real model, the bytes read per token set the pace.")

# %% [markdown] tags=["part-7"]
# ---
# ## Reflection (graded by your instructor)
#
# Answer in a few sentences each, using numbers from this notebook where you can.
#
# **R1. The cache's bargain.** Your timing plot shows the KV cache making generation much faster.
# What does it cost, and how does that cost grow with the number of tokens, the batch size and the
# number of layers? Describe one situation where the cache's memory, not compute, would limit you,
# and what grouped-query attention changes about it.

# %% [markdown] tags=["without-part-7"]
# ---
# ## Reflection (graded by your instructor)
#
# Answer in a few sentences each, using numbers from this notebook where you can.
#
# **R1. The cache's bargain.** Your timing plot shows the KV cache making generation much faster.
# What does it cost, and how does that cost grow with the number of tokens, the batch size and the
# number of layers? Describe one situation where the cache's memory, not compute, would limit you,
# and one change (to the model or to how it is served) that would make the cache fit.

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflect-kv-cache-tradeoff", "locked": false, "points": 5, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# The cache stores the key and value of every past token in every layer, so its memory is
# `2 * layers * batch * kv_heads * N * head_dim * bytes`: linear in tokens, batch and layers. For a
# Llama-2-7B shape that is 512 KiB per token in float16, 2 GiB for one 4096-token sequence, so a server
# with 32 concurrent users needs 64 GiB for the cache alone, more than many GPUs have. In exchange each
# step does O(t d) attention work instead of recomputing O(t^2 d). Memory limits you when serving many
# users or long contexts: the batch size you can afford is set by how many caches fit, not by FLOPs.
# Grouped-query attention caches only H_kv heads: Llama-2-70B needs 320 KiB per token instead of
# 2.5 MiB, so eight times as many sequences fit in the same memory.
# ### END SOLUTION

# %% [markdown] tags=["part-7"]
# **R2. The longest context.** Using `max_seq_len_for_budget`, estimate the longest sequence whose float16
# score matrices for 32 heads fit in 80 GB of GPU memory if attention were computed the way you
# implemented it in Part 1 (one layer at a time, batch 1). Then explain in two or three sentences,
# with what you measured in Part 7, what tiled attention changes about that limit and what it does
# *not* change.

# %% [markdown] tags=["without-part-7"]
# **R2. The longest context.** Using `max_seq_len_for_budget`, estimate the longest sequence whose float16
# score matrices for 32 heads fit in 80 GB of GPU memory if attention were computed the way you
# implemented it in Part 1 (one layer at a time, batch 1). Then explain in two or three sentences
# what sets that limit, and what would have to change in the computation to raise it.

# %%
# Scratch space for R2 (not graded).
print(max_seq_len_for_budget(80 * 10**9, batch_size=1, num_heads=32, dtype=np.float16))

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflect-long-context", "locked": false, "points": 5, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# With 80e9 bytes, batch 1, 32 heads and 2 bytes per score, `max_seq_len_for_budget` gives 35,355
# tokens for the scores of a single layer, before weights, activations or the KV cache. Tiled
# attention never materialises the N x N matrix: my tiled_attention's peak memory grew with an
# exponent near 1 against near 2 for the full version, so the score matrix stops being the limit.
# It does not change the amount of computation, which is still 4 N^2 d FLOPs per head and layer,
# nor the KV cache, which still grows linearly with every token kept.
# ### END SOLUTION

# %% [markdown] tags=["part-7"]
# ---
# ## Summary, and what comes next
#
# You built attention from its parts and measured what it costs:
# * a softmax that survives `1e4` logits and fully masked rows, and scaled dot-product attention
#   with masks that follow PyTorch's convention (True = may attend);
# * a previous-token head, the smallest example of what trained heads learn, and why it needs positions;
# * multi-head attention, and a KV cache whose decoding equals the full causal pass;
# * the quadratic wall: `N x N` scores per head and layer, and a cache that grows with every token;
# * the answers production systems give: tiles that never store the score matrix, key/value heads
#   shared between query heads, and a speed limit set by bytes, not FLOPs.
#
# **Module 14** builds a transformer block on your `MultiHeadAttention`: the block normalises its
# input `x`, calls `forward(x, x, x, mask=causal)` with a causal mask of 0/1 floats (1 on and below the
# diagonal, your `create_causal_mask` as numbers) and adds the output back to `x`, then does the same
# with a feed-forward network; blocks stack into a model that writes text one token at a time. It hands
# your layer TinyTorch `Tensor`s and trains `W_q`, `W_k`, `W_v` and `W_o` through the layer's
# `parameters`, which the export adds to your code (your code stays plain NumPy). It imports your code
# from `tinytorch.core.attention`, which you write from this notebook in one step.
#
# **Export your work.** Save the notebook (Ctrl+S), then run this in a new cell:
#
# ```
# !python -m grading export attention.ipynb --to ~
# ```
#
# It writes `~/tinytorch/core/attention.py` from the cells tagged `export` (the imports, your
# functions and classes; no test, demo or plot), exactly as they are saved: a function you left
# unfinished still raises `NotImplementedError` there. Module 14 imports it as
# `from tinytorch.core.attention import MultiHeadAttention`. Export again after any change.

# %% [markdown] tags=["without-part-7"]
# ---
# ## Summary, and what comes next
#
# You built attention from its parts and measured what it costs:
# * a softmax that survives `1e4` logits and fully masked rows, and scaled dot-product attention
#   with masks that follow PyTorch's convention (True = may attend);
# * a previous-token head, the smallest example of what trained heads learn, and why it needs positions;
# * multi-head attention, and a KV cache whose decoding equals the full causal pass;
# * the quadratic wall: `N x N` scores per head and layer, and a cache that grows with every token.
#
# What production systems do about that wall is the next step: tiles that never store the score
# matrix (FlashAttention), key/value heads shared between query heads, and a decoding speed limit set
# by bytes, not FLOPs.
#
# **Module 14** builds a transformer block on your `MultiHeadAttention`: the block normalises its
# input `x`, calls `forward(x, x, x, mask=causal)` with a causal mask of 0/1 floats (1 on and below the
# diagonal, your `create_causal_mask` as numbers) and adds the output back to `x`, then does the same
# with a feed-forward network; blocks stack into a model that writes text one token at a time. It hands
# your layer TinyTorch `Tensor`s and trains `W_q`, `W_k`, `W_v` and `W_o` through the layer's
# `parameters`, which the export adds to your code (your code stays plain NumPy). It imports your code
# from `tinytorch.core.attention`, which you write from this notebook in one step.
#
# **Export your work.** Save the notebook (Ctrl+S), then run this in a new cell:
#
# ```
# !python -m grading export attention.ipynb --to ~
# ```
#
# It writes `~/tinytorch/core/attention.py` from the cells tagged `export` (the imports, your
# functions and classes; no test, demo or plot), exactly as they are saved: a function you left
# unfinished still raises `NotImplementedError` there. Module 14 imports it as
# `from tinytorch.core.attention import MultiHeadAttention`. Export again after any change.
