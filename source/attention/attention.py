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

# %% [markdown]
# # Module 13: Attention
#
# Attention is the operation that lets every token of a sequence look at every other token
# and decide what to borrow from it. It is also the part of a transformer whose cost grows
# fastest with the length of the input, which is why so much engineering (KV caches,
# FlashAttention, grouped-query attention, paged memory) exists around it.
#
# In this notebook you will build attention from scratch in plain NumPy and then measure it:
#
# | Part | You build | You measure |
# |---|---|---|
# | 1 | a numerically stable `softmax`, `scaled_dot_product_attention` | why the 1/sqrt(d_k) scale matters |
# | 2 | causal and padding masks | what each mask does to the attention weights (heatmaps) |
# | 3 | `MultiHeadAttention` | |
# | 4 | a `KVCache` and `MultiHeadAttention.decode_step` | decoding time with and without the cache |
# | 5 | memory formulas, `fit_scaling_exponent` | the O(N^2) memory growth of attention, on your own code |
#
# **Time:** about 5 to 6 hours. **Prerequisites:** NumPy broadcasting and matrix multiplication.
#
# ### How this notebook is graded
# * Write your code where you see `raise NotImplementedError(...)` (delete that line).
#   Do not rename the functions or change their arguments: the grader calls them by name.
# * Each part is followed by **test cells**. Run them: they tell you what is wrong and by how much.
#   The autograder runs the same cells with **more checks added** (random shapes, float32 inputs,
#   edge cases), so passing the visible checks is necessary but not sufficient.
# * Each test cell is worth a few points on its own, so a bug costs the part it breaks, not the whole notebook.
# * Two short written answers at the end are graded by your instructor.
# * Before you submit: *Kernel > Restart Kernel and Run All Cells*, and check that every test cell passes.

# %% nbgrader={"grade": false, "grade_id": "setup-imports", "locked": true, "schema_version": 3, "solution": false} tags=["export"]
import math

import numpy as np

# %% nbgrader={"grade": false, "grade_id": "setup-tools", "locked": true, "schema_version": 3, "solution": false}
import time
import tracemalloc

import matplotlib.pyplot as plt

# %% [markdown]
# The next cell defines the small checking functions that the test cells use (`check_close`,
# `check_shape`, ...). You do not need to read it, but it is there if a message puzzles you.
# It is locked: the autograder restores it before grading.

# %% nbgrader={"grade": false, "grade_id": "setup-checks", "locked": true, "schema_version": 3, "solution": false}
import contextlib
import io
import numbers
import warnings

# NumPy's public functions as they are before any of your code runs. The checks refuse to
# grade if one of them has been replaced, and they compare numbers with plain ndarray
# arithmetic that no replaced function or array subclass can change.
_NUMPY_MODULES = {module.__name__: module for module in (np, np.random, np.testing, np.linalg)}
_NUMPY_SNAPSHOT = {
    (module_name, name): getattr(module, name)
    for module_name, module in _NUMPY_MODULES.items()
    for name in dir(module)
    if not name.startswith("_")
}
_np_array = np.array
_np_asarray = np.asarray


class CheckFailed(AssertionError):
    """A test found a wrong result; the message says which property and by how much."""


def fail(message):
    raise CheckFailed(message)


def _numpy_untouched():
    for (module_name, name), original in _NUMPY_SNAPSHOT.items():
        if getattr(_NUMPY_MODULES[module_name], name, None) is not original:
            fail(f"{module_name}.{name} was replaced after the checks were set up. "
                 "Restart the kernel and do not reassign NumPy functions in your code.")


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
    """A plain float64 copy of x (never a subclass, whatever x is), or a clear failure."""
    _numpy_untouched()
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    try:
        with quiet():
            return _np_array(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        fail(f"{what} cannot be read as an array of numbers ({error}).")


def _first(mask):
    """Index (a tuple) of the first True entry of a boolean array."""
    return tuple(int(i) for i in np.unravel_index(int(mask.reshape(-1).argmax()), mask.shape))


def check_shape(x, expected_shape, what):
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    shape = _np_asarray(x).shape
    if shape != tuple(expected_shape):
        fail(f"{what} has shape {shape}, expected {tuple(expected_shape)}.")


def check_dtype(x, expected_dtype, what):
    if not isinstance(x, np.ndarray):
        fail(f"{what} should be a NumPy array, got {type(x).__name__}.")
    dtype = _np_asarray(x).dtype
    if dtype != np.dtype(expected_dtype):
        fail(f"{what} has dtype {dtype}, expected {np.dtype(expected_dtype)}. NumPy 2 turns float32 "
             "into float64 when you mix in a float64 array or an np.float64 scalar such as "
             "np.sqrt(d_k); a Python float (math.sqrt) keeps float32.")


def check_finite(x, what):
    a = as_float_array(x, what)
    with quiet():
        bad = ~((a - a) == 0)  # True for NaN and +-inf
    if bad.any():
        index = _first(bad)
        fail(f"{what} has {int(bad.sum())} values that are NaN or inf, the first at index "
             f"{index}: {a[index]}. Did a row with every key blocked give 0/0?")


def check_close(actual, expected, what, atol=1e-8, rtol=1e-6, hint=""):
    a = as_float_array(actual, what)
    e = as_float_array(expected, "the expected value")
    if a.shape != e.shape:
        fail(f"{what} has shape {a.shape}, expected {e.shape}.")
    with quiet():
        difference = abs(a - e)
        wrong = ~(difference <= atol + rtol * abs(e))  # NaN compares False, so it counts as wrong
        finite = (a - a) == 0
    if wrong.any():
        index = _first(wrong)
        message = (f"{what}: {int(wrong.sum())} of {a.size} values are wrong. "
                   f"First at index {index}: got {a[index]:.6g}, expected {e[index]:.6g}")
        if finite.any():
            message += f"; largest difference {float(difference[finite].max()):.3g}"
        if not finite.all():
            message += f"; {int((~finite).sum())} values are NaN or inf"
        fail(message + "." + (f" {hint}" if hint else ""))


def check_rows_sum_to_one(weights, what):
    sums = as_float_array(weights, what).sum(axis=-1)
    wrong = ~(abs(sums - 1.0) <= 1e-6)
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


def passed(message):
    print(f"passed: {message}")


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
# `L` is the number of queries and `S` the number of keys. In self-attention they are the same
# sequence (`L == S`); in cross-attention (a decoder reading an encoder) they differ. The leading
# `...` dimensions (batch, heads) just come along for the ride: `@` broadcasts over them.
#
# ### A softmax that does not overflow
# $\mathrm{softmax}(x)_j = e^{x_j} / \sum_k e^{x_k}$. Written literally it breaks: `np.exp(1000.0)`
# is `inf` (and in float32 already `np.exp(89.0)` is), and `inf / inf` is NaN. Since softmax does not
# change when you subtract the same number from every entry, subtract the **maximum** of each slice
# first: the largest exponent becomes `exp(0) = 1` and nothing overflows.
#
# One more case matters for masking later: a slice where every entry is `-inf` (every key blocked).
# Its maximum is `-inf`, and `-inf - (-inf)` is NaN. Our convention (the same as PyTorch's
# `scaled_dot_product_attention`) is that such a slice gets **all zeros**: there is nothing to attend to.
#
# Your `softmax(x, axis=-1)` must:
# * work along any `axis` of an array of any number of dimensions;
# * not overflow for logits as large as `1e4`;
# * return float32 for float32 input (and float64 for float64);
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
# Reference implementations, written independently of the solution, and a swap that lets the
# tests of one part run with the reference versions of earlier parts (a bug costs only its part).
def _ref_softmax(_ref_x, axis=-1):
    _ref_x = np.asarray(_ref_x)
    _ref_x64 = _ref_x.astype(np.float64)
    _ref_shift = np.max(_ref_x64, axis=axis, keepdims=True)
    _ref_shift[~np.isfinite(_ref_shift)] = 0.0
    _ref_exp = np.exp(_ref_x64 - _ref_shift)
    _ref_sum = _ref_exp.sum(axis=axis, keepdims=True)
    _ref_p = _ref_exp / np.where(_ref_sum > 0, _ref_sum, 1.0)
    return _ref_p.astype(_ref_x.dtype) if _ref_x.dtype.kind == "f" else _ref_p
def _ref_attention(_ref_q, _ref_k, _ref_v, mask=None, **_ref_ignored):
    _ref_dtype = np.result_type(np.asarray(_ref_q), np.asarray(_ref_k), np.asarray(_ref_v))
    _ref_q, _ref_k, _ref_v = (np.asarray(_ref_t, dtype=np.float64) for _ref_t in (_ref_q, _ref_k, _ref_v))
    _ref_scores = np.einsum("...ld,...sd->...ls", _ref_q, _ref_k) / _ref_q.shape[-1] ** 0.5
    _ref_scores = _ref_scores if mask is None else np.where(np.asarray(mask) != 0, _ref_scores, -np.inf)
    _ref_w = _ref_softmax(_ref_scores, axis=-1)
    return np.einsum("...ls,...sd->...ld", _ref_w, _ref_v).astype(_ref_dtype), _ref_w.astype(_ref_dtype)
def _ref_causal(_ref_n):
    return np.arange(_ref_n)[:, None] >= np.arange(_ref_n)[None, :]
def _ref_padding(_ref_lengths, max_len):
    return (np.arange(max_len)[None, :] < np.asarray(_ref_lengths)[:, None])[:, None, None, :]
def _ref_mha(_ref_layer, _ref_query, _ref_key, _ref_value, _ref_mask=None):
    _ref_heads, _ref_head_dim, _ref_outs, _ref_ws = _ref_layer.num_heads, _ref_layer.embed_dim // _ref_layer.num_heads, [], []
    _ref_qp, _ref_kp, _ref_vp = _ref_query @ _ref_layer.W_q, _ref_key @ _ref_layer.W_k, _ref_value @ _ref_layer.W_v
    for _ref_h in range(_ref_heads):
        _ref_cols = slice(_ref_h * _ref_head_dim, (_ref_h + 1) * _ref_head_dim)
        _ref_m = None if _ref_mask is None else np.broadcast_to(_ref_mask, (_ref_query.shape[0], _ref_heads, _ref_query.shape[1], _ref_key.shape[1]))[:, _ref_h]
        _ref_o, _ref_w = _ref_attention(_ref_qp[..., _ref_cols], _ref_kp[..., _ref_cols], _ref_vp[..., _ref_cols], _ref_m)
        _ref_outs.append(_ref_o)
        _ref_ws.append(_ref_w)
    return np.concatenate(_ref_outs, axis=-1) @ _ref_layer.W_o, np.stack(_ref_ws, axis=1)
_ref_quiet = quiet
_ref_students_own = {}
def _ref_restore():
    for _ref_name, _ref_own in _ref_students_own.items():
        globals()[_ref_name] = _ref_own
    _ref_students_own.clear()
def _ref_use(*_ref_names):
    _ref_restore()
    _ref_versions = {"softmax": _ref_softmax, "scaled_dot_product_attention": _ref_attention, "create_causal_mask": _ref_causal, "create_padding_mask": _ref_padding}
    for _ref_name in _ref_names:
        _ref_students_own[_ref_name] = globals().get(_ref_name)
        globals()[_ref_name] = _ref_versions[_ref_name]
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
check_close(as_float_array(probs_axis0, "softmax(logits, axis=0)").sum(axis=0), [1.0, 1.0, 1.0], "softmax(logits, axis=0) summed over axis 0",
            hint="Use the `axis` argument in every reduction (max and sum), with keepdims=True.")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1301)
_hid_x4 = _hid_rng.normal(size=(2, 3, 4, 5)) * 3
for _hid_axis in (-1, 0, 1, 2):
    with _ref_quiet():
        _hid_got = softmax(_hid_x4, axis=_hid_axis)
    check_close(_hid_got, _ref_softmax(_hid_x4, axis=_hid_axis), f"softmax of a random (2, 3, 4, 5) array along axis {_hid_axis}")
with _ref_quiet():
    _hid_got = softmax(_hid_x4[0, 0, 0])
check_close(_hid_got, _ref_softmax(_hid_x4[0, 0, 0]), "softmax of a 1-D array")
### END HIDDEN TESTS
passed("softmax gives probabilities along the chosen axis")

# %% nbgrader={"grade": true, "grade_id": "test-softmax-stability", "locked": true, "points": 2, "schema_version": 3, "solution": false}
big = np.array([1e4, 0.0, -1e4])
with quiet():
    probs_big = softmax(big)
check_finite(probs_big, "softmax([1e4, 0, -1e4])")
check_close(probs_big, [1.0, 0.0, 0.0], "softmax([1e4, 0, -1e4])",
            hint="Subtract the maximum of each slice before calling np.exp.")
x32 = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
with quiet():
    probs32 = softmax(x32)
check_dtype(probs32, np.float32, "softmax of a float32 array")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1302)
_hid_large = _hid_rng.normal(size=(3, 4, 6)) * 5e3
with _ref_quiet():
    _hid_got = softmax(_hid_large)
check_close(_hid_got, _ref_softmax(_hid_large), "softmax of random logits of size ~5e3", atol=1e-9)
_hid_large32 = _hid_large.astype(np.float32)
with _ref_quiet():
    _hid_got32 = softmax(_hid_large32, axis=1)
check_dtype(_hid_got32, np.float32, "softmax of a float32 (3, 4, 6) array along axis 1")
check_close(_hid_got32, _ref_softmax(_hid_large32, axis=1), "float32 softmax of large logits along axis 1", atol=1e-6, rtol=1e-4)
_hid_x64 = _hid_rng.normal(size=(5, 7))
with _ref_quiet():
    _hid_shifted = softmax(_hid_x64 + 700.0)
check_close(_hid_shifted, _ref_softmax(_hid_x64), "softmax(x + 700), which should equal softmax(x)")
with _ref_quiet():
    _hid_kept64 = softmax(_hid_x64)
check_dtype(_hid_kept64, np.float64, "softmax of a float64 array")
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
_hid_rng = np.random.default_rng(1303)
_hid_xm = _hid_rng.normal(size=(2, 5, 6))
_hid_xm[_hid_rng.random(size=_hid_xm.shape) < 0.4] = -np.inf
_hid_xm[0, 2, :] = -np.inf
_hid_xm[1, :, 4] = -np.inf
for _hid_axis in (-1, 1):
    with _ref_quiet():
        _hid_got = softmax(_hid_xm, axis=_hid_axis)
    check_close(_hid_got, _ref_softmax(_hid_xm, axis=_hid_axis), f"softmax with -inf entries and fully -inf slices along axis {_hid_axis}")
_hid_xm32 = _hid_xm.astype(np.float32)
with _ref_quiet():
    _hid_got32 = softmax(_hid_xm32)
check_dtype(_hid_got32, np.float32, "softmax of a float32 array with -inf entries")
check_close(_hid_got32, _ref_softmax(_hid_xm32), "float32 softmax with fully -inf slices", atol=1e-6, rtol=1e-4)
### END HIDDEN TESTS
passed("softmax gives zeros, not NaN, for a slice that is all -inf")

# %% [markdown]
# ### Why divide by sqrt(d_k)?
# If the entries of a query and a key are independent with mean 0 and variance 1, their dot product
# is a sum of `d_k` such products, so its variance is `d_k`. With `d_k = 512` typical scores are
# around ±22, and a softmax of numbers that far apart is nearly one-hot: one key takes all the weight
# and the gradient through the others vanishes. Dividing by `sqrt(d_k)` brings the variance back to 1
# whatever the head size. The plot below uses your `softmax` to show it: the largest weight in a row
# of 64 keys, with and without the scale.

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
_ref_use("softmax")
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
    result = scaled_dot_product_attention(Q, K, V)
if not (isinstance(result, tuple) and len(result) == 2):
    fail("scaled_dot_product_attention should return a tuple (output, attention_weights).")
out, weights = result
check_shape(weights, (2, 3), "attention weights for 2 queries and 3 keys")
check_shape(out, (2, 2), "output for 2 queries with values of size 2")
# scores = Q K^T / sqrt(2) = [[0.7071, 0, 0.7071], [0, 1.4142, 1.4142]]
check_close(weights, [[0.40111209, 0.19777581, 0.40111209], [0.10838345, 0.44580827, 0.44580827]],
            "attention weights of the worked example", atol=1e-7,
            hint="scores = Q @ K^T / sqrt(d_k), then softmax over the keys (last axis).")
check_close(out, [[2.0, 20.0], [2.33742482, 23.3742482]], "output of the worked example", atol=1e-6,
            hint="output = weights @ V.")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1311)
_hid_q, _hid_k, _hid_v = _hid_rng.normal(size=(4, 3)), _hid_rng.normal(size=(6, 3)), _hid_rng.normal(size=(6, 5))
with _ref_quiet():
    _hid_out, _hid_w = scaled_dot_product_attention(_hid_q, _hid_k, _hid_v)
_hid_ref_out, _hid_ref_w = _ref_attention(_hid_q, _hid_k, _hid_v)
check_close(_hid_w, _hid_ref_w, "weights for random 2-D Q (4, 3), K (6, 3), V (6, 5)")
check_close(_hid_out, _hid_ref_out, "output for random 2-D Q (4, 3), K (6, 3), V (6, 5)")
_ref_restore()
### END HIDDEN TESTS
passed("the worked example matches")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-batched", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax")
### END HIDDEN TESTS
rng = np.random.default_rng(0)
Q = rng.normal(size=(2, 3, 5, 4))  # (batch, heads, L, d_k)
K = rng.normal(size=(2, 3, 7, 4))  # (batch, heads, S, d_k)
V = rng.normal(size=(2, 3, 7, 6))  # (batch, heads, S, d_v)
with quiet():
    out, weights = scaled_dot_product_attention(Q, K, V)
check_shape(weights, (2, 3, 5, 7), "weights for L=5 queries and S=7 keys")
check_shape(out, (2, 3, 5, 6), "output for L=5 queries and values of size d_v=6")
check_rows_sum_to_one(weights, "the attention weights")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1312)
_hid_q, _hid_k, _hid_v = _hid_rng.normal(size=(2, 3, 5, 4)), _hid_rng.normal(size=(2, 3, 7, 4)), _hid_rng.normal(size=(2, 3, 7, 6))
with _ref_quiet():
    _hid_out, _hid_w = scaled_dot_product_attention(_hid_q, _hid_k, _hid_v)
_hid_ref_out, _hid_ref_w = _ref_attention(_hid_q, _hid_k, _hid_v)
check_close(_hid_w, _hid_ref_w, "weights for random Q (2, 3, 5, 4), K (2, 3, 7, 4)", hint="Scale by sqrt of d_k, the last axis of Q.")
check_close(_hid_out, _hid_ref_out, "output for random Q (2, 3, 5, 4), K (2, 3, 7, 4), V (2, 3, 7, 6)")
_hid_qb, _hid_kb, _hid_vb = _hid_rng.normal(size=(2, 1, 3, 8)), _hid_rng.normal(size=(4, 5, 8)), _hid_rng.normal(size=(4, 5, 2))
with _ref_quiet():
    _hid_out_b, _hid_w_b = scaled_dot_product_attention(_hid_qb, _hid_kb, _hid_vb)
_hid_ref_out_b, _hid_ref_w_b = _ref_attention(_hid_qb, _hid_kb, _hid_vb)
check_close(_hid_w_b, _hid_ref_w_b, "weights when Q (2, 1, 3, 8) broadcasts against K (4, 5, 8)")
check_close(_hid_out_b, _hid_ref_out_b, "output when Q (2, 1, 3, 8) broadcasts against K (4, 5, 8) and V (4, 5, 2)")
_ref_restore()
### END HIDDEN TESTS
passed("batched attention has the right shapes and rows that sum to 1")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-dtype", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax")
### END HIDDEN TESTS
Q32 = np.ones((1, 2, 4), dtype=np.float32)
K32 = np.ones((1, 3, 4), dtype=np.float32)
V32 = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
with quiet():
    out32, weights32 = scaled_dot_product_attention(Q32, K32, V32)
check_dtype(weights32, np.float32, "attention weights for float32 inputs")
check_dtype(out32, np.float32, "output for float32 inputs")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1313)
_hid_q32, _hid_k32, _hid_v32 = (_hid_rng.normal(size=_hid_s).astype(np.float32) for _hid_s in ((3, 2, 6, 8), (3, 2, 9, 8), (3, 2, 9, 5)))
with _ref_quiet():
    _hid_out32, _hid_w32 = scaled_dot_product_attention(_hid_q32, _hid_k32, _hid_v32)
check_dtype(_hid_w32, np.float32, "weights for random float32 inputs")
check_dtype(_hid_out32, np.float32, "output for random float32 inputs")
_hid_ref_out32, _hid_ref_w32 = _ref_attention(_hid_q32, _hid_k32, _hid_v32)
check_close(_hid_out32, _hid_ref_out32, "float32 output for random inputs", atol=1e-5, rtol=1e-4)
_hid_q64, _hid_k64, _hid_v64 = (_hid_t.astype(np.float64) for _hid_t in (_hid_q32, _hid_k32, _hid_v32))
with _ref_quiet():
    _hid_out64, _hid_w64 = scaled_dot_product_attention(_hid_q64, _hid_k64, _hid_v64)
check_dtype(_hid_out64, np.float64, "output for float64 inputs")
_hid_qbig, _hid_kbig = _hid_q64 * 300.0, _hid_k64 * 300.0
with _ref_quiet():
    _hid_out_big, _hid_w_big = scaled_dot_product_attention(_hid_qbig, _hid_kbig, _hid_v64)
_hid_ref_out_big, _hid_ref_w_big = _ref_attention(_hid_qbig, _hid_kbig, _hid_v64)
check_finite(_hid_out_big, "output for unmasked inputs with scores around 1e5")
check_close(_hid_w_big, _hid_ref_w_big, "weights for unmasked inputs with scores around 1e5", atol=1e-7, hint="Is your softmax stable?")
with _ref_quiet():
    _hid_out_big32, _hid_w_big32 = scaled_dot_product_attention(_hid_qbig.astype(np.float32), _hid_kbig.astype(np.float32), _hid_v32)
check_finite(_hid_w_big32, "float32 weights for scores around 1e5")
_ref_restore()
### END HIDDEN TESTS
passed("float32 stays float32")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-mask", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax")
### END HIDDEN TESTS
rng = np.random.default_rng(1)
Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
lower = np.array([[True, False, False],
                  [True, True, False],
                  [True, True, True]])
with quiet():
    out, weights = scaled_dot_product_attention(Q, K, V, mask=lower)
weights, out = as_float_array(weights, "the masked weights"), as_float_array(out, "the masked output")
check_close(weights * ~lower, np.zeros((3, 3)), "weights of blocked keys (mask False)",
            hint="Blocked keys must get weight exactly 0: True means 'may attend'.")
check_rows_sum_to_one(weights, "the masked attention weights")
check_close(out[0], V[0], "output of query 0, which may only attend to key 0")
with quiet():
    out_int, weights_int = scaled_dot_product_attention(Q, K, V, mask=lower.astype(int))
check_close(weights_int, weights, "weights with an integer 0/1 mask (should equal the boolean mask's)",
            hint="Convert the mask with mask.astype(bool), or test mask == 0 / mask != 0.")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1314)
_hid_q, _hid_k, _hid_v = _hid_rng.normal(size=(2, 3, 5, 4)), _hid_rng.normal(size=(2, 3, 7, 4)), _hid_rng.normal(size=(2, 3, 7, 6))
for _hid_mask_shape in ((5, 7), (2, 1, 1, 7), (2, 1, 5, 7), (2, 3, 5, 7), (1, 7)):
    _hid_mask = _hid_rng.random(size=_hid_mask_shape) < 0.7
    _hid_mask[..., 0] = True
    _hid_ref_out, _hid_ref_w = _ref_attention(_hid_q, _hid_k, _hid_v, _hid_mask)
    for _hid_kind in (bool, np.int64, np.float32):
        with _ref_quiet():
            _hid_out, _hid_w = scaled_dot_product_attention(_hid_q, _hid_k, _hid_v, mask=_hid_mask.astype(_hid_kind))
        check_close(_hid_w, _hid_ref_w, f"weights with a {_hid_kind.__name__} mask of shape {_hid_mask_shape} (broadcast to (2, 3, 5, 7))")
        check_close(_hid_out, _hid_ref_out, f"output with a {_hid_kind.__name__} mask of shape {_hid_mask_shape}")
_hid_q32 = _hid_q.astype(np.float32)
with _ref_quiet():
    _hid_out32m, _hid_w32m = scaled_dot_product_attention(_hid_q32, _hid_k.astype(np.float32), _hid_v.astype(np.float32), mask=_hid_mask.astype(np.float64))
check_dtype(_hid_w32m, np.float32, "weights for float32 inputs with a float64 0/1 mask")
check_dtype(_hid_out32m, np.float32, "output for float32 inputs with a float64 0/1 mask")
_ref_restore()
### END HIDDEN TESTS
passed("masked keys get zero weight")

# %% nbgrader={"grade": true, "grade_id": "test-sdpa-fully-masked", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax")
### END HIDDEN TESTS
rng = np.random.default_rng(2)
Q, K, V = rng.normal(size=(2, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
mask = np.array([[True, True, False],
                 [False, False, False]])  # query 1 may attend to nothing
with quiet():
    out, weights = scaled_dot_product_attention(Q, K, V, mask=mask)
check_finite(weights, "weights when one query has every key blocked")
check_finite(out, "output when one query has every key blocked")
weights, out = as_float_array(weights, "the weights"), as_float_array(out, "the output")
check_close(weights[1], [0.0, 0.0, 0.0], "weights of the query whose keys are all blocked")
check_close(out[1], [0.0, 0.0], "output of the query whose keys are all blocked")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1315)
_hid_q, _hid_k, _hid_v = _hid_rng.normal(size=(2, 3, 6, 4)), _hid_rng.normal(size=(2, 3, 5, 4)), _hid_rng.normal(size=(2, 3, 5, 3))
_hid_mask = _hid_rng.random(size=(2, 1, 6, 5)) < 0.6
_hid_mask[0, 0, 1, :] = False
_hid_mask[1, 0, 4, :] = False
_hid_ref_out, _hid_ref_w = _ref_attention(_hid_q, _hid_k, _hid_v, _hid_mask)
with _ref_quiet():
    _hid_out, _hid_w = scaled_dot_product_attention(_hid_q, _hid_k, _hid_v, mask=_hid_mask)
check_close(_hid_w, _hid_ref_w, "weights of a random batch where some queries have every key blocked")
check_close(_hid_out, _hid_ref_out, "output of a random batch where some queries have every key blocked")
with _ref_quiet():
    _hid_out32, _hid_w32 = scaled_dot_product_attention(_hid_q.astype(np.float32), _hid_k.astype(np.float32), _hid_v.astype(np.float32), mask=_hid_mask)
check_close(_hid_out32, _hid_ref_out, "float32 output where some queries have every key blocked", atol=1e-5, rtol=1e-4)
_ref_restore()
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


# %% nbgrader={"grade": true, "grade_id": "test-sdpa-layer", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention")
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
if not (isinstance(both, tuple) and len(both) == 2):
    fail("layer.forward(..., return_attention_weights=True) should return (output, weights).")
check_close(both[1], expected_weights, "weights returned by the layer")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1316)
_hid_q, _hid_k, _hid_v = _hid_rng.normal(size=(3, 4, 5)), _hid_rng.normal(size=(3, 7, 5)), _hid_rng.normal(size=(3, 7, 2))
_hid_mask = _hid_rng.random(size=(3, 4, 7)) < 0.5
_hid_ref_out, _hid_ref_w = _ref_attention(_hid_q, _hid_k, _hid_v, _hid_mask)
with _ref_quiet():
    _hid_layer_out = ScaledDotProductAttention()(_hid_q, _hid_k, _hid_v, mask=_hid_mask)
    _hid_layer_both = ScaledDotProductAttention().forward(_hid_q, _hid_k, _hid_v, _hid_mask, True)
check_close(_hid_layer_out, _hid_ref_out, "layer output for random inputs with a mask")
check_close(_hid_layer_both[1], _hid_ref_w, "layer weights for random inputs with a mask (mask passed by position)")
_ref_restore()
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
# exactly when `j < lengths[b]`). `create_padding_mask` raises `ValueError` for a length that is
# negative or larger than `max_len`: silently clipping it would hide a bug in the data pipeline.

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
            hint="Query i may attend to keys 0..i: True on and below the diagonal.")
### BEGIN HIDDEN TESTS
for _hid_n in (1, 2, 7, 13):
    with _ref_quiet():
        _hid_causal = create_causal_mask(_hid_n)
    check_dtype(_hid_causal, bool, f"create_causal_mask({_hid_n})")
    check_close(_hid_causal, np.arange(_hid_n)[:, None] >= np.arange(_hid_n)[None, :], f"create_causal_mask({_hid_n})")
### END HIDDEN TESTS
passed("causal mask")

# %% nbgrader={"grade": true, "grade_id": "test-mask-padding", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    padding = create_padding_mask([3, 1], max_len=4)
check_shape(padding, (2, 1, 1, 4), "create_padding_mask([3, 1], max_len=4)")
check_dtype(padding, bool, "create_padding_mask([3, 1], max_len=4)")
check_close(padding[:, 0, 0, :], [[1, 1, 1, 0],
                                  [1, 0, 0, 0]], "create_padding_mask([3, 1], max_len=4)[:, 0, 0, :]",
            hint="Position j of sequence b is real (True) exactly when j < lengths[b].")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1321)
_hid_lengths = _hid_rng.integers(0, 10, size=6)
_hid_lengths[0], _hid_lengths[1] = 0, 9
with _ref_quiet():
    _hid_padding = create_padding_mask(_hid_lengths, 9)
check_shape(_hid_padding, (6, 1, 1, 9), "create_padding_mask for 6 sequences, max_len=9")
check_dtype(_hid_padding, bool, "create_padding_mask for 6 sequences")
check_close(_hid_padding, (np.arange(9)[None, :] < _hid_lengths[:, None])[:, None, None, :], "create_padding_mask for random lengths, including 0 and max_len")
with _ref_quiet():
    _hid_padding_list = create_padding_mask([int(_hid_n) for _hid_n in _hid_lengths[:3]], 12)
check_close(_hid_padding_list, (np.arange(12)[None, :] < _hid_lengths[:3, None])[:, None, None, :], "create_padding_mask with lengths given as a Python list")
### END HIDDEN TESTS
passed("padding mask")

# %% nbgrader={"grade": true, "grade_id": "test-mask-padding-errors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
check_raises(ValueError, create_padding_mask, [2, -1], 4, what="create_padding_mask([2, -1], 4)")
### BEGIN HIDDEN TESTS
check_raises(ValueError, create_padding_mask, [5, 2], 4, what="create_padding_mask with a length above max_len")
check_raises(ValueError, create_padding_mask, np.array([0, 3, 7]), 6, what="create_padding_mask with the last length above max_len")
with _ref_quiet():
    _hid_edge = create_padding_mask([4, 0], 4)
check_close(_hid_edge[:, 0, 0, :], [[1, 1, 1, 1], [0, 0, 0, 0]], "create_padding_mask([4, 0], 4): lengths 0 and max_len are allowed")
### END HIDDEN TESTS
passed("invalid lengths raise ValueError")

# %% nbgrader={"grade": true, "grade_id": "test-mask-combined", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention")
### END HIDDEN TESTS
with quiet():
    combined = create_causal_mask(4) & create_padding_mask([4, 2], max_len=4)
check_shape(combined, (2, 1, 4, 4), "causal (4, 4) & padding (2, 1, 1, 4)")
rng = np.random.default_rng(4)
Q, K, V = rng.normal(size=(2, 1, 4, 3)), rng.normal(size=(2, 1, 4, 3)), rng.normal(size=(2, 1, 4, 3))
with quiet():
    out, weights = scaled_dot_product_attention(Q, K, V, mask=combined)
weights = as_float_array(weights, "weights with the combined mask")
check_close(weights[1, 0, :, 2:], np.zeros((4, 2)), "weights on the padding of sequence 1 (keys 2 and 3)")
check_close(weights[0, 0][np.triu_indices(4, k=1)], np.zeros(6), "weights above the diagonal (future keys)")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1322)
_hid_lengths = np.array([6, 3, 1])
with _ref_quiet():
    _hid_combined = create_causal_mask(6) & create_padding_mask(_hid_lengths, 6)
_hid_expected = (np.arange(6)[:, None] >= np.arange(6)[None, :]) & (np.arange(6) < _hid_lengths[:, None, None, None])
check_close(_hid_combined, _hid_expected, "causal & padding mask for lengths [6, 3, 1]")
_hid_q, _hid_k, _hid_v = _hid_rng.normal(size=(3, 2, 6, 4)), _hid_rng.normal(size=(3, 2, 6, 4)), _hid_rng.normal(size=(3, 2, 6, 5))
with _ref_quiet():
    _hid_out, _hid_w = scaled_dot_product_attention(_hid_q, _hid_k, _hid_v, mask=_hid_combined)
_hid_ref_out, _hid_ref_w = _ref_attention(_hid_q, _hid_k, _hid_v, _hid_expected)
check_close(_hid_w, _hid_ref_w, "weights with your combined causal & padding mask")
_ref_restore()
### END HIDDEN TESTS
passed("masks combine by broadcasting")

# %% [markdown]
# ### See the masks at work
# The heatmaps show the attention weights of one small random example (rows: queries, columns: keys)
# with each mask. Blocked entries are exactly 0 (white). Notice how the causal rows get *more*
# concentrated near the top: query 0 has a single key to look at.

# %% nbgrader={"grade": false, "grade_id": "demo-mask-heatmaps", "locked": true, "schema_version": 3, "solution": false}
def plot_attention_weights(panels, suptitle):
    """One heatmap per (title, weights) pair; rows are queries, columns are keys."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.1 * len(panels), 3.4), sharey=True,
                             layout="constrained")
    for ax, (title, w) in zip(np.atleast_1d(axes), panels):
        image = ax.imshow(w, cmap="Blues", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("key")
    np.atleast_1d(axes)[0].set_ylabel("query")
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(suptitle)
    plt.show()


demo_rng = np.random.default_rng(13)
demo_x = demo_rng.normal(size=(1, 6, 8))
demo_masks = {
    "no mask": None,
    "causal": create_causal_mask(6),
    "padding (length 4)": create_padding_mask([4], 6),
    "causal & padding": create_causal_mask(6) & create_padding_mask([4], 6),
}
plot_attention_weights(
    [(name, scaled_dot_product_attention(demo_x, demo_x, demo_x, mask=m)[1].reshape(6, 6))
     for name, m in demo_masks.items()],
    "Attention weights of one sequence of 6 tokens")

# %% [markdown]
# ---
# ## Part 3: Multi-head attention
#
# One attention pattern per layer is limiting: a token may want to look at the previous word for
# syntax *and* at a distant name for meaning. Multi-head attention runs `H` attentions in parallel,
# each on its own slice of the embedding, and mixes the results:
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
# * `MultiHeadAttention(embed_dim, num_heads, seed=None)` raises `ValueError` unless
#   `embed_dim % num_heads == 0`; it stores `embed_dim`, `num_heads`, `head_dim` and four float64
#   weight matrices `W_q, W_k, W_v, W_o` of shape `(E, E)`, drawn from `np.random.default_rng(seed)`
#   (the same seed gives the same weights). Scale them by `1 / sqrt(E)` so activations keep their size.
# * `forward(query, key, value, mask=None, return_attention_weights=False)` (and `__call__`):
#   `query (B, L, E)`, `key`/`value` `(B, S, E)`, `mask` broadcastable to `(B, H, L, S)`. Read the
#   weights from `self.W_q` and friends at call time (the grader replaces them). No biases.

# %% nbgrader={"grade": false, "grade_id": "mha", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
class MultiHeadAttention:
    """Multi-head attention with H heads of size embed_dim // H; no biases."""

    def __init__(self, embed_dim, num_heads, seed=None):
        ### BEGIN SOLUTION
        if num_heads <= 0 or embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        rng = np.random.default_rng(seed)
        scale = 1.0 / math.sqrt(embed_dim)
        self.W_q = rng.normal(0.0, scale, size=(embed_dim, embed_dim))
        self.W_k = rng.normal(0.0, scale, size=(embed_dim, embed_dim))
        self.W_v = rng.normal(0.0, scale, size=(embed_dim, embed_dim))
        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))
        ### END SOLUTION

    def split_heads(self, x):
        """(B, T, E) -> (B, H, T, D)."""
        ### BEGIN SOLUTION
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
        ### END SOLUTION

    def merge_heads(self, x):
        """(B, H, T, D) -> (B, T, E), heads side by side in order."""
        ### BEGIN SOLUTION
        batch, _, length, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(batch, length, self.embed_dim)
        ### END SOLUTION

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        ### BEGIN SOLUTION
        q = self.split_heads(query @ self.W_q)
        k = self.split_heads(key @ self.W_k)
        v = self.split_heads(value @ self.W_v)
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
with _ref_quiet():
    _hid_mha_a, _hid_mha_b = MultiHeadAttention(16, 4, seed=5), MultiHeadAttention(16, 4, seed=6)
if (_hid_mha_a.head_dim, _hid_mha_a.num_heads, _hid_mha_a.embed_dim) != (4, 4, 16):
    fail("MultiHeadAttention(16, 4): expected head_dim 4, num_heads 4, embed_dim 16.")
if float(abs(as_float_array(_hid_mha_a.W_q, "W_q") - as_float_array(_hid_mha_b.W_q, "W_q")).max()) == 0.0:
    fail("Two different seeds gave the same W_q: draw the weights from np.random.default_rng(seed).")
if len({float(as_float_array(getattr(_hid_mha_a, _hid_name), _hid_name)[0, 0]) for _hid_name in ("W_q", "W_k", "W_v", "W_o")}) < 4:
    fail("W_q, W_k, W_v and W_o should be four different random matrices.")
check_raises(ValueError, MultiHeadAttention, 8, 3, what="MultiHeadAttention(embed_dim=8, num_heads=3)")
### END HIDDEN TESTS
passed("MultiHeadAttention stores its sizes and four seeded weight matrices")

# %% nbgrader={"grade": true, "grade_id": "test-mha-shapes", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(5)
x = rng.normal(size=(2, 5, 12))
memory = rng.normal(size=(2, 7, 12))
with quiet():
    mha = MultiHeadAttention(12, 3, seed=1)
    y, w = mha(x, x, x, return_attention_weights=True)
    y_cross, w_cross = mha.forward(x, memory, memory, return_attention_weights=True)
    y_only = mha(x, x, x)
check_shape(y, (2, 5, 12), "self-attention output for x (2, 5, 12)")
check_shape(w, (2, 3, 5, 5), "self-attention weights (batch, heads, L, S)")
check_shape(y_cross, (2, 5, 12), "cross-attention output (queries (2, 5, 12), keys (2, 7, 12))")
check_shape(w_cross, (2, 3, 5, 7), "cross-attention weights")
check_shape(y_only, (2, 5, 12), "mha(x, x, x) without return_attention_weights (the output alone)")
check_rows_sum_to_one(w_cross, "the cross-attention weights")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1331)
_hid_x = _hid_rng.normal(size=(3, 4, 8))
with _ref_quiet():
    _hid_y = MultiHeadAttention(8, 2, seed=2)(_hid_x, _hid_x, _hid_x)
check_shape(_hid_y, (3, 4, 8), "output of MultiHeadAttention(8, 2) for x (3, 4, 8)")
check_finite(_hid_y, "output of MultiHeadAttention(8, 2)")
_ref_restore()
### END HIDDEN TESTS
passed("multi-head attention has the right shapes")

# %% nbgrader={"grade": true, "grade_id": "test-mha-heads", "locked": true, "points": 5, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
# With identity projections, head h sees only columns h*D:(h+1)*D of x, so its weights are
# plain attention on that slice. This catches heads split in the wrong order.
rng = np.random.default_rng(6)
x = rng.normal(size=(2, 5, 12))
with quiet():
    mha = MultiHeadAttention(12, 3, seed=2)
    mha.W_q, mha.W_k, mha.W_v, mha.W_o = np.eye(12), np.eye(12), np.eye(12), np.eye(12)
    y, w = mha(x, x, x, return_attention_weights=True)
y, w = as_float_array(y, "the output"), as_float_array(w, "the weights")
check_shape(w, (2, 3, 5, 5), "weights of MultiHeadAttention(12, 3) for x (2, 5, 12)")
for h in range(3):
    x_h = x[:, :, 4 * h:4 * (h + 1)]
    with quiet():
        out_h, w_h = scaled_dot_product_attention(x_h, x_h, x_h)
    check_close(w[:, h], w_h, f"weights of head {h} with identity projections",
                hint=f"Head {h} should use columns {4 * h}:{4 * (h + 1)}: reshape to (B, L, H, D), then transpose.")
    check_close(y[:, :, 4 * h:4 * (h + 1)], out_h, f"columns {4 * h}:{4 * (h + 1)} of the output (head {h}) with identity projections",
                hint="Undo the split in the same order: transpose to (B, L, H, D), then reshape to (B, L, E).")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1332)
with _ref_quiet():
    _hid_mha = MultiHeadAttention(12, 3, seed=7)
_hid_mha.W_q, _hid_mha.W_k, _hid_mha.W_v, _hid_mha.W_o = (_hid_rng.normal(size=(12, 12)) / 3.0 for _hid_i in range(4))
_hid_xq, _hid_xkv = _hid_rng.normal(size=(2, 5, 12)), _hid_rng.normal(size=(2, 7, 12))
_hid_ref_y, _hid_ref_w = _ref_mha(_hid_mha, _hid_xq, _hid_xkv, _hid_xkv)
with _ref_quiet():
    _hid_y, _hid_w = _hid_mha(_hid_xq, _hid_xkv, _hid_xkv, return_attention_weights=True)
check_close(_hid_w, _hid_ref_w, "weights of MultiHeadAttention(12, 3) with random weights set after construction (L=5, S=7)", hint="Read W_q, W_k, W_v from the attributes at call time; split heads by contiguous columns.")
check_close(_hid_y, _hid_ref_y, "output of MultiHeadAttention(12, 3) with random weights set after construction (L=5, S=7)", hint="Did you apply the output projection W_o after merging the heads?")
with _ref_quiet():
    _hid_mha2 = MultiHeadAttention(8, 4, seed=8)
_hid_mha2.W_o = _hid_rng.normal(size=(8, 8))
_hid_x2 = _hid_rng.normal(size=(1, 6, 8))
with _ref_quiet():
    _hid_y2 = _hid_mha2.forward(_hid_x2, _hid_x2, _hid_x2)
check_close(_hid_y2, _ref_mha(_hid_mha2, _hid_x2, _hid_x2, _hid_x2)[0], "output of MultiHeadAttention(8, 4) after replacing only W_o")
_ref_restore()
### END HIDDEN TESTS
passed("each head attends with its own slice of the embedding")

# %% nbgrader={"grade": true, "grade_id": "test-mha-masks", "locked": true, "points": 3, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(7)
x = rng.normal(size=(2, 4, 8))
with quiet():
    mha = MultiHeadAttention(8, 2, seed=3)
    y_causal, w_causal = mha(x, x, x, mask=create_causal_mask(4), return_attention_weights=True)
check_shape(w_causal, (2, 2, 4, 4), "weights with a (4, 4) causal mask")
w_causal = as_float_array(w_causal, "weights with a causal mask")
check_close(w_causal[..., 0, 1:], np.zeros((2, 2, 3)), "weights of query 0 on keys 1..3 under a causal mask")
with quiet():
    y_pad, w_pad = mha(x, x, x, mask=create_padding_mask([4, 2], 4), return_attention_weights=True)
w_pad = as_float_array(w_pad, "weights with a padding mask")
check_close(w_pad[1, :, :, 2:], np.zeros((2, 4, 2)), "weights on the padding of sequence 1 with a (B, 1, 1, S) mask")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1333)
with _ref_quiet():
    _hid_mha = MultiHeadAttention(12, 3, seed=9)
_hid_mha.W_q, _hid_mha.W_k, _hid_mha.W_v, _hid_mha.W_o = (_hid_rng.normal(size=(12, 12)) / 3.0 for _hid_i in range(4))
_hid_xq, _hid_xkv = _hid_rng.normal(size=(2, 5, 12)), _hid_rng.normal(size=(2, 6, 12))
for _hid_mask_shape in ((5, 6), (2, 1, 1, 6), (2, 1, 5, 6), (2, 3, 5, 6)):
    _hid_mask = _hid_rng.random(size=_hid_mask_shape) < 0.6
    _hid_mask[..., 0] = True
    _hid_ref_y, _hid_ref_w = _ref_mha(_hid_mha, _hid_xq, _hid_xkv, _hid_xkv, _hid_mask)
    with _ref_quiet():
        _hid_y, _hid_w = _hid_mha(_hid_xq, _hid_xkv, _hid_xkv, mask=_hid_mask, return_attention_weights=True)
    check_close(_hid_w, _hid_ref_w, f"multi-head weights with a mask of shape {_hid_mask_shape}")
    check_close(_hid_y, _hid_ref_y, f"multi-head output with a mask of shape {_hid_mask_shape}")
_ref_restore()
### END HIDDEN TESTS
passed("masks of every broadcastable shape work with multi-head attention")

# %% [markdown]
# ---
# ## Part 4: The KV cache
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
#   step N:  N tokens          -> O(N d^2) projections + O(N^2 d) attention per step, O(N^3 d) in total
# ```
# Under a causal mask the keys and values of old tokens never change. So store them:
# ```
#   cache (preallocated):   K: [ k0 k1 k2 ... k_{t-1} | free ... ]   V: [ v0 v1 ... v_{t-1} | free ... ]
#   step t:  project only the new token -> q_t, k_t, v_t;   write k_t, v_t at position t;
#            attend q_t against K[:t+1], V[:t+1]:           O(t d) work instead of O(t^2 d)
# ```
# The cache **trades memory for compute**: it holds `2 * layers * batch * heads * N * head_dim` numbers
# for the whole generation (you will compute how much that is for a 7B model in Part 5).
#
# ### Your `KVCache`
# `KVCache(max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64)` preallocates two arrays
# of shape `(batch_size, num_heads, max_seq_len, head_dim)` and remembers how many positions are filled.
# * `append(new_keys, new_values)`: both `(B, H, T_new, head_dim)`. Copy them into the next `T_new`
#   positions and return `(keys, values)` for **all** cached positions, each `(B, H, t, head_dim)`
#   (slices of your storage are fine). It must *copy*: if the caller later changes its array, the cache
#   must not change.
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
_hid_rng = np.random.default_rng(1341)
with _ref_quiet():
    _hid_cache = KVCache(10, 3, 4, batch_size=2)
_hid_all_k, _hid_all_v = _hid_rng.normal(size=(2, 3, 10, 4)), _hid_rng.normal(size=(2, 3, 10, 4))
_hid_start = 0
for _hid_chunk in (3, 1, 4, 2):
    with _ref_quiet():
        _hid_keys, _hid_values = _hid_cache.append(_hid_all_k[:, :, _hid_start:_hid_start + _hid_chunk], _hid_all_v[:, :, _hid_start:_hid_start + _hid_chunk])
    _hid_start += _hid_chunk
    if len(_hid_cache) != _hid_start:
        fail(f"after appending chunks up to {_hid_start} positions, len(cache) = {len(_hid_cache)}.")
    check_close(_hid_keys, _hid_all_k[:, :, :_hid_start], f"keys after chunked appends up to {_hid_start} positions (batch 2, 3 heads)")
    check_close(_hid_values, _hid_all_v[:, :, :_hid_start], f"values after chunked appends up to {_hid_start} positions (batch 2, 3 heads)")
with _ref_quiet():
    _hid_cache32 = KVCache(4, 1, 2, dtype=np.float32)
    _hid_k32, _hid_v32 = _hid_cache32.append(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
check_dtype(_hid_k32, np.float32, "keys of a cache created with dtype=np.float32")
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
keys, values = as_float_array(keys, "cached keys"), as_float_array(values, "cached values")
check_close(keys[0, 0, 0], [1.0, 1.0], "the first cached key after the caller changed its array",
            hint="append must copy the new keys into the cache, not keep a reference to them.")
check_close(values[0, 0, 0], [2.0, 2.0], "the first cached value after the caller changed its array")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1342)
with _ref_quiet():
    _hid_cache = KVCache(8, 2, 3, batch_size=2)
_hid_buffer_k, _hid_buffer_v = _hid_rng.normal(size=(2, 2, 2, 3)), _hid_rng.normal(size=(2, 2, 2, 3))
_hid_saved_k, _hid_saved_v = _hid_buffer_k.copy(), _hid_buffer_v.copy()
with _ref_quiet():
    _hid_cache.append(_hid_buffer_k, _hid_buffer_v)
_hid_buffer_k *= -5.0
_hid_buffer_v += 3.0
with _ref_quiet():
    _hid_keys, _hid_values = _hid_cache.append(_hid_buffer_k[:, :, :1], _hid_buffer_v[:, :, :1])
_hid_keys, _hid_values = as_float_array(_hid_keys, "cached keys"), as_float_array(_hid_values, "cached values")
check_close(_hid_keys[:, :, :2], _hid_saved_k, "cached keys after the caller modified its buffer in place")
check_close(_hid_values[:, :, :2], _hid_saved_v, "cached values after the caller modified its buffer in place")
check_close(_hid_keys[:, :, 2:], _hid_buffer_k[:, :, :1], "the key appended after the modification")
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
_hid_rng = np.random.default_rng(1343)
with _ref_quiet():
    _hid_cache = KVCache(5, 2, 3, batch_size=2)
_hid_k0, _hid_v0 = _hid_rng.normal(size=(2, 2, 4, 3)), _hid_rng.normal(size=(2, 2, 4, 3))
with _ref_quiet():
    _hid_cache.append(_hid_k0, _hid_v0)
check_raises(ValueError, _hid_cache.append, np.ones((2, 2, 2, 3)), np.ones((2, 2, 2, 3)), what="appending 2 positions to a cache holding 4 of max 5")
if len(_hid_cache) != 4:
    fail(f"after a failed (overflowing) append, len(cache) = {len(_hid_cache)}, expected 4.")
with _ref_quiet():
    _hid_keys, _hid_values = _hid_cache.append(np.zeros((2, 2, 1, 3)), np.zeros((2, 2, 1, 3)))
_hid_keys, _hid_values = as_float_array(_hid_keys, "cached keys"), as_float_array(_hid_values, "cached values")
check_close(_hid_keys[:, :, :4], _hid_k0, "keys cached before a failed append (the failed append must not write anything)")
check_close(_hid_values[:, :, 4:], np.zeros((2, 2, 1, 3)), "the value appended after a failed append")
with _ref_quiet():
    _hid_cache2 = KVCache(6, 2, 3, batch_size=2)
check_raises(ValueError, _hid_cache2.append, np.ones((1, 2, 1, 3)), np.ones((1, 2, 1, 3)), what="append with batch size 1 to a cache for batch size 2")
check_raises(ValueError, _hid_cache2.append, np.ones((2, 3, 1, 3)), np.ones((2, 3, 1, 3)), what="append with 3 heads to a cache for 2 heads")
check_raises(ValueError, _hid_cache2.append, np.ones((2, 2, 1, 4)), np.ones((2, 2, 1, 4)), what="append with head_dim 4 to a cache for head_dim 3")
check_raises(ValueError, _hid_cache2.append, np.ones((2, 2, 2, 3)), np.ones((2, 2, 1, 3)), what="append with keys and values of different lengths")
if len(_hid_cache2) != 0:
    fail(f"appends with wrong shapes must leave the cache empty, but len(cache) = {len(_hid_cache2)}.")
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
# scroll back to Part 3. (If you re-run the Part 3 cell, re-run this one too.)

# %% nbgrader={"grade": false, "grade_id": "decode-step", "locked": false, "schema_version": 3, "solution": true} tags=["export"]
def decode_step(self, x_new, cache):
    """Attend the newest tokens x_new (B, T_new, E) to every cached token up to their position."""
    ### BEGIN SOLUTION
    new_tokens = x_new.shape[1]
    start = len(cache)
    q = self.split_heads(x_new @ self.W_q)
    keys, values = cache.append(self.split_heads(x_new @ self.W_k), self.split_heads(x_new @ self.W_v))
    mask = np.tril(np.ones((new_tokens, start + new_tokens), dtype=bool), k=start)
    heads, _ = scaled_dot_product_attention(q, keys, values, mask)
    return self.merge_heads(heads) @ self.W_o
    ### END SOLUTION


MultiHeadAttention.decode_step = decode_step

# %% nbgrader={"grade": true, "grade_id": "test-kvcache-decode", "locked": true, "points": 5, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(9)
x = rng.normal(size=(1, 6, 8))
with quiet():
    mha = MultiHeadAttention(8, 2, seed=4)
    full = mha(x, x, x, mask=create_causal_mask(6))
    cache = KVCache(max_seq_len=6, num_heads=2, head_dim=4)
    steps = [mha.decode_step(x[:, t:t + 1], cache) for t in range(6)]
for t, step in enumerate(steps):
    check_shape(step, (1, 1, 8), f"decode_step output for one new token (step {t})")
check_close(np.concatenate([as_float_array(s, "decode_step output") for s in steps], axis=1), full, "token-by-token decoding vs the full causal pass",
            atol=1e-10, hint="New token i sits at position len(cache) + i and may see cached positions up to it.")
if len(cache) != 6:
    fail(f"after decoding 6 tokens, len(cache) = {len(cache)}, expected 6.")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1344)
with _ref_quiet():
    _hid_mha = MultiHeadAttention(12, 3, seed=11)
_hid_mha.W_q, _hid_mha.W_k, _hid_mha.W_v, _hid_mha.W_o = (_hid_rng.normal(size=(12, 12)) / 3.0 for _hid_i in range(4))
_hid_x = _hid_rng.normal(size=(2, 9, 12))
with _ref_quiet():
    _hid_full = _hid_mha(_hid_x, _hid_x, _hid_x, mask=create_causal_mask(9))
    _hid_cache = KVCache(12, 3, 4, batch_size=2)
    _hid_steps = np.concatenate([as_float_array(_hid_mha.decode_step(_hid_x[:, _hid_t:_hid_t + 1], _hid_cache), "decode_step output") for _hid_t in range(9)], axis=1)
check_close(_hid_steps, _hid_full, "token-by-token decoding of a random (2, 9, 12) batch vs the full causal pass", atol=1e-10)
if float(abs(_hid_steps).max()) < 1e-3 or float(abs(_hid_steps[:, 1:] - _hid_steps[:, :-1]).max()) < 1e-6:
    fail("the decoded outputs are (nearly) zero or identical for every token: decode_step should compute attention.")
_ref_restore()
### END HIDDEN TESTS
passed("decoding one token at a time equals the full causal pass")

# %% nbgrader={"grade": true, "grade_id": "test-kvcache-prefill", "locked": true, "points": 4, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
_ref_use("softmax", "scaled_dot_product_attention", "create_causal_mask", "create_padding_mask")
### END HIDDEN TESTS
rng = np.random.default_rng(10)
x = rng.normal(size=(1, 7, 8))
with quiet():
    mha = MultiHeadAttention(8, 2, seed=5)
    full = mha(x, x, x, mask=create_causal_mask(7))
    cache = KVCache(max_seq_len=8, num_heads=2, head_dim=4)
    prefill = mha.decode_step(x[:, :4], cache)  # the prompt: 4 tokens at once
    rest = [mha.decode_step(x[:, t:t + 1], cache) for t in range(4, 7)]
check_shape(prefill, (1, 4, 8), "decode_step output for a 4-token prompt")
full = as_float_array(full, "the full causal pass")
check_close(prefill, full[:, :4], "prefill of 4 tokens vs the full causal pass",
            atol=1e-10, hint="Within the new tokens the mask must be causal too.")
check_close(np.concatenate([as_float_array(r, "decode_step output") for r in rest], axis=1), full[:, 4:], "tokens decoded one by one after a prefill",
            atol=1e-10, hint="The mask for new tokens is np.tril(ones((T_new, t0 + T_new)), k=t0).")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1345)
with _ref_quiet():
    _hid_mha = MultiHeadAttention(12, 4, seed=12)
_hid_mha.W_q, _hid_mha.W_k, _hid_mha.W_v, _hid_mha.W_o = (_hid_rng.normal(size=(12, 12)) / 3.0 for _hid_i in range(4))
_hid_x = _hid_rng.normal(size=(3, 10, 12))
with _ref_quiet():
    _hid_full = _hid_mha(_hid_x, _hid_x, _hid_x, mask=create_causal_mask(10))
    _hid_cache = KVCache(10, 4, 3, batch_size=3)
    _hid_parts, _hid_start = [], 0
    for _hid_chunk in (3, 2, 1, 3, 1):
        _hid_parts.append(_hid_mha.decode_step(_hid_x[:, _hid_start:_hid_start + _hid_chunk], _hid_cache))
        _hid_start += _hid_chunk
check_close(np.concatenate([as_float_array(_hid_part, "decode_step output") for _hid_part in _hid_parts], axis=1), _hid_full, "decoding a random (3, 10, 12) batch in chunks 3, 2, 1, 3, 1 vs the full causal pass", atol=1e-10)
if len(_hid_cache) != 10:
    fail(f"after decoding 10 tokens in chunks, len(cache) = {len(_hid_cache)}, expected 10.")
with _ref_quiet():
    _hid_cache.reset()
    _hid_again = _hid_mha.decode_step(_hid_x[:, :5], _hid_cache)
check_close(_hid_again, as_float_array(_hid_full, "full pass")[:, :5], "a 5-token prefill after reset() vs the full causal pass", atol=1e-10)
_ref_restore()
### END HIDDEN TESTS
passed("prefill and chunked decoding match the full causal pass")

# %% [markdown]
# ### Measure it: generation with and without the cache
# The next cell generates `T` tokens with one attention layer in two ways and times every step:
# recomputing the full causal pass over all tokens so far, or calling your `decode_step` with a cache.
# (To keep it small, the "generated" tokens are random vectors; a real model would feed its output
# back in, which costs the same.) Look at the shape of the curves: one grows with the position, the
# other stays nearly flat. The cumulative times diverge as `T^2` versus `T`, and more with bigger layers.

# %% nbgrader={"grade": false, "grade_id": "demo-decode-timing", "locked": true, "schema_version": 3, "solution": false}
def time_generation(layer, x, use_cache):
    """Seconds spent on each step of generating the tokens of x (1, T, E) one at a time."""
    num_tokens = x.shape[1]
    cache = KVCache(num_tokens, layer.num_heads, layer.head_dim) if use_cache else None
    seconds = []
    for t in range(num_tokens):
        start = time.perf_counter()
        if use_cache:
            layer.decode_step(x[:, t:t + 1], cache)
        else:
            prefix = x[:, :t + 1]
            layer(prefix, prefix, prefix, mask=create_causal_mask(t + 1))
        seconds.append(time.perf_counter() - start)
    return np.array(seconds)


timing_layer = MultiHeadAttention(embed_dim=128, num_heads=4, seed=0)
timing_x = np.random.default_rng(0).normal(size=(1, 192, 128))
time_generation(timing_layer, timing_x[:, :8], use_cache=True)  # warm-up
no_cache = time_generation(timing_layer, timing_x, use_cache=False)
with_cache = time_generation(timing_layer, timing_x, use_cache=True)

fig, (ax_step, ax_total) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_step.plot(1e3 * no_cache, label="recompute everything")
ax_step.plot(1e3 * with_cache, label="KV cache")
ax_step.set_xlabel("position of the generated token")
ax_step.set_ylabel("ms for this step")
ax_step.legend()
ax_total.plot(np.cumsum(no_cache), label="recompute everything")
ax_total.plot(np.cumsum(with_cache), label="KV cache")
ax_total.set_xlabel("tokens generated")
ax_total.set_ylabel("total seconds")
ax_total.legend()
fig.suptitle(f"Generating {timing_x.shape[1]} tokens: the cache is "
             f"{no_cache.sum() / with_cache.sum():.1f}x faster here")
plt.tight_layout()
plt.show()

# %% [markdown]
# ---
# ## Part 5: Memory, the O(N^2) wall
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
# * `kv_cache_bytes(num_layers, batch_size, num_heads, seq_len, head_dim, dtype=np.float16)`;
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
_hid_rng = np.random.default_rng(1351)
for _hid_dtype in (np.float16, np.float32, np.float64):
    for _hid_i in range(4):
        _hid_b, _hid_h, _hid_n = (int(_hid_v) for _hid_v in _hid_rng.integers([1, 1, 1], [9, 33, 5000]))
        with _ref_quiet():
            _hid_got = attention_matrix_bytes(_hid_b, _hid_h, _hid_n, dtype=_hid_dtype)
        check_integer(_hid_got, _hid_b * _hid_h * _hid_n * _hid_n * np.dtype(_hid_dtype).itemsize, f"attention_matrix_bytes({_hid_b}, {_hid_h}, {_hid_n}, dtype={_hid_dtype.__name__})")
with _ref_quiet():
    _hid_default = attention_matrix_bytes(3, 5, 77)
check_integer(_hid_default, 3 * 5 * 77 * 77 * 4, "attention_matrix_bytes(3, 5, 77) with the default dtype float32")
### END HIDDEN TESTS
passed("attention_matrix_bytes")

# %% nbgrader={"grade": true, "grade_id": "test-memory-kv-bytes", "locked": true, "points": 3, "schema_version": 3, "solution": false}
with quiet():
    gpt2_cache = kv_cache_bytes(12, 1, 12, 1024, 64, dtype=np.float32)
check_integer(gpt2_cache, 2 * 12 * 1 * 12 * 1024 * 64 * 4,
              "kv_cache_bytes(12, 1, 12, 1024, 64, dtype=np.float32) (GPT-2 small, 1024 tokens)")
### BEGIN HIDDEN TESTS
_hid_rng = np.random.default_rng(1352)
for _hid_dtype in (np.float16, np.float32, np.float64):
    for _hid_i in range(4):
        _hid_l, _hid_b, _hid_h, _hid_n, _hid_d = (int(_hid_v) for _hid_v in _hid_rng.integers([1, 1, 1, 1, 8], [81, 9, 65, 9000, 257]))
        with _ref_quiet():
            _hid_got = kv_cache_bytes(_hid_l, _hid_b, _hid_h, _hid_n, _hid_d, dtype=_hid_dtype)
        check_integer(_hid_got, 2 * _hid_l * _hid_b * _hid_h * _hid_n * _hid_d * np.dtype(_hid_dtype).itemsize, f"kv_cache_bytes({_hid_l}, {_hid_b}, {_hid_h}, {_hid_n}, {_hid_d}, dtype={_hid_dtype.__name__})")
with _ref_quiet():
    _hid_default = kv_cache_bytes(3, 2, 5, 11, 7)
check_integer(_hid_default, 2 * 3 * 2 * 5 * 11 * 7 * 2, "kv_cache_bytes(3, 2, 5, 11, 7) with the default dtype float16")
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
_hid_rng = np.random.default_rng(1353)
for _hid_dtype in (np.float16, np.float32, np.float64):
    for _hid_i in range(4):
        _hid_b, _hid_h, _hid_n = (int(_hid_v) for _hid_v in _hid_rng.integers([1, 1, 2], [5, 17, 30000]))
        _hid_exact = _hid_b * _hid_h * _hid_n * _hid_n * np.dtype(_hid_dtype).itemsize
        _hid_next = _hid_b * _hid_h * (_hid_n + 1) * (_hid_n + 1) * np.dtype(_hid_dtype).itemsize
        for _hid_budget in (_hid_exact, _hid_exact - 1, _hid_next - 1, (_hid_exact + _hid_next) // 2):
            with _ref_quiet():
                _hid_got = max_seq_len_for_budget(_hid_budget, _hid_b, _hid_h, dtype=_hid_dtype)
            check_integer(_hid_got, _hid_n if _hid_budget >= _hid_exact else _hid_n - 1, f"max_seq_len_for_budget({_hid_budget}, {_hid_b}, {_hid_h}, dtype={_hid_dtype.__name__})")
with _ref_quiet():
    _hid_none_fits = max_seq_len_for_budget(3, 1, 1)
check_integer(_hid_none_fits, 0, "max_seq_len_for_budget(3, 1, 1): not even one float32 score fits")
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
_hid_rng = np.random.default_rng(1354)
for _hid_p in (0.7, 1.5, 2.2, 3.0):
    _hid_sizes = np.sort(_hid_rng.uniform(10, 5000, size=7))
    _hid_costs = 2.5 * _hid_sizes ** _hid_p * np.exp(_hid_rng.normal(scale=0.2, size=7))
    _hid_lx, _hid_ly = np.log(_hid_sizes), np.log(_hid_costs)
    _hid_slope = float(((_hid_lx - _hid_lx.mean()) * (_hid_ly - _hid_ly.mean())).sum() / ((_hid_lx - _hid_lx.mean()) ** 2).sum())
    with _ref_quiet():
        _hid_got = fit_scaling_exponent(list(_hid_sizes), list(_hid_costs))
    check_close(check_number(_hid_got, "fit_scaling_exponent"), _hid_slope, f"fit_scaling_exponent on noisy data with true exponent {_hid_p}", atol=1e-9, rtol=1e-9, hint="Least squares over all points, not the slope between the first and last.")
### END HIDDEN TESTS
passed("fit_scaling_exponent")

# %% [markdown]
# ### Measure it: peak memory of your attention
# `tracemalloc` records every allocation NumPy makes. The next cell runs your
# `scaled_dot_product_attention` on growing sequences (1 sequence, 4 heads, head size 32, float64)
# and records the peak memory of each call, then fits the exponent with your `fit_scaling_exponent`.
# The dashed line is `attention_matrix_bytes` for the same shapes: the `N x N` arrays per head (the
# scores, the weights, any temporaries the softmax makes) dominate everything else. The arrays that grow
# only as `N` (the queries, the output) still count a little at `N = 128`, which pulls the fitted
# exponent slightly below 2.

# %% nbgrader={"grade": false, "grade_id": "demo-memory-scaling", "locked": true, "schema_version": 3, "solution": false}
def peak_attention_bytes(seq_len, num_heads=4, head_dim=32, seed=0):
    """Peak bytes allocated while computing attention over seq_len tokens (inputs excluded)."""
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(1, num_heads, seq_len, head_dim)) for _ in range(3))
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        scaled_dot_product_attention(q, k, v)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


seq_lens = np.array([128, 256, 512, 1024])
peaks = np.array([peak_attention_bytes(n) for n in seq_lens])
exponent = fit_scaling_exponent(seq_lens, peaks)
score_bytes = [attention_matrix_bytes(1, 4, n, dtype=np.float64) for n in seq_lens]

plt.figure(figsize=(5.5, 3.6))
plt.loglog(seq_lens, peaks / 2**20, "o-", label=f"measured peak (fitted exponent {exponent:.2f})")
plt.loglog(seq_lens, np.array(score_bytes) / 2**20, "k--", label="one score matrix (formula)")
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

# %% [markdown]
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
# Then look at what you found. For the 7B model at 4096 tokens, the scores of one layer in float16 take
# 1 GiB, and the KV cache 2 GiB per sequence: serving 32 users at once needs 64 GiB of cache alone.
# This is why FlashAttention computes attention in tiles without ever storing the `N x N` matrix
# (memory linear in `N`), why grouped-query attention shares keys and values between heads, and why
# vLLM pages the KV cache like virtual memory (it found earlier systems using only 20-40% of the cache
# memory for actual tokens).

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
if abs(ratio - 4.0) > 4.0 * 1e-6:
    fail(f"ANSWER_MEMORY_RATIO_SEQ_DOUBLED = {ratio} is not right: the score matrix has N * N entries, so think about (2N)^2 / N^2.")
### END HIDDEN TESTS
passed("ANSWER_MEMORY_RATIO_SEQ_DOUBLED is a number")

# %% nbgrader={"grade": true, "grade_id": "test-memory-answer-gpt2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
gpt2_mib = check_number(ANSWER_GPT2_SMALL_SCORES_MIB, "ANSWER_GPT2_SMALL_SCORES_MIB")
if not gpt2_mib > 0:
    fail(f"ANSWER_GPT2_SMALL_SCORES_MIB = {gpt2_mib} should be positive.")
### BEGIN HIDDEN TESTS
if abs(gpt2_mib - 48.0) > 48.0 * 1e-6:
    _hid_hint = {round(12 * 1024 * 1024 * 4 / 1e6, 2): " That is MB (10^6 bytes); the question asks for MiB (2^20 bytes).", 4.0: " That is one head; GPT-2 small has 12.", 96.0: " That is float64 or two matrices; the question asks for one float32 score matrix."}.get(round(gpt2_mib, 2), "")
    fail(f"ANSWER_GPT2_SMALL_SCORES_MIB = {gpt2_mib} is not right: batch 1 x 12 heads x 1024 x 1024 scores x 4 bytes, in MiB.{_hid_hint}")
### END HIDDEN TESTS
passed("ANSWER_GPT2_SMALL_SCORES_MIB is a number")

# %% nbgrader={"grade": true, "grade_id": "test-memory-answer-llama", "locked": true, "points": 2, "schema_version": 3, "solution": false}
llama_kib = check_number(ANSWER_LLAMA7B_KV_KIB_PER_TOKEN, "ANSWER_LLAMA7B_KV_KIB_PER_TOKEN")
if not llama_kib > 0:
    fail(f"ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = {llama_kib} should be positive.")
### BEGIN HIDDEN TESTS
if abs(llama_kib - 512.0) > 512.0 * 1e-6:
    _hid_hint = {256.0: " Keys and values: two tensors per layer.", 16.0: " That is one layer; the model has 32.", 1024.0: " float16 takes 2 bytes per number, not 4."}.get(round(llama_kib, 2), "")
    fail(f"ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = {llama_kib} is not right: per token, each of 32 layers stores a key and a value of 4096 numbers.{_hid_hint}")
### END HIDDEN TESTS
passed("ANSWER_LLAMA7B_KV_KIB_PER_TOKEN is a number")

# %% [markdown]
# ---
# ## Reflection (graded by your instructor)
#
# Answer in a few sentences each, using numbers from this notebook where you can.
#
# **R1. The cache's bargain.** Your timing plot shows the KV cache making generation much faster.
# What does it cost, and how does that cost grow with the number of tokens, the batch size and the
# number of layers? Describe one situation where the cache's memory, not compute, would limit you.

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflect-kv-cache-tradeoff", "locked": false, "points": 5, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# The cache stores the key and value of every past token in every layer, so its memory is
# `2 * layers * batch * heads * N * head_dim * bytes`: linear in tokens, batch and layers. For a
# Llama-2-7B shape that is 512 KiB per token in float16, 2 GiB for one 4096-token sequence, so a server
# with 32 concurrent users needs 64 GiB for the cache alone, more than many GPUs have. In exchange each
# step does O(t d) attention work instead of recomputing O(t^2 d). Memory limits you when serving many
# users or long contexts: the batch size you can afford is set by how many caches fit, not by FLOPs.
# ### END SOLUTION

# %% [markdown]
# **R2. The longest context.** Using `max_seq_len_for_budget`, estimate the longest sequence whose float16
# score matrices for 32 heads fit in 80 GB of GPU memory if attention were computed the way you
# implemented it (one layer at a time, batch 1). Then explain in two or three sentences what
# FlashAttention changes about that limit and what it does *not* change.

# %%
# Scratch space for R2 (not graded).
print(max_seq_len_for_budget(80 * 10**9, batch_size=1, num_heads=32, dtype=np.float16))

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflect-long-context", "locked": false, "points": 5, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# With 80e9 bytes, batch 1, 32 heads and 2 bytes per score, `max_seq_len_for_budget` gives about
# 35,355 tokens for the scores of a single layer, before weights, activations or the KV cache.
# FlashAttention never materialises the N x N matrix: it streams tiles of K and V through fast memory
# and keeps running softmax statistics, so attention memory becomes linear in N and the score matrix
# stops being the limit. It does not change the amount of computation, which is still O(N^2 d) per
# layer, nor the KV cache, which still grows linearly with every token kept.
# ### END SOLUTION
