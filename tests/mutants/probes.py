"""The contract's inputs, clause by clause: what the oracle runs the solution and a mutant on.

Each case calls one name of the contract (tests/contract.py) on fixed inputs and returns what a
caller could see of the result; the clause it checks is named by a phrase of that clause's text.
Within a name, the cases that single out one clause come before the broad sweeps, so the first
case that tells a mutant apart names the clause it breaks: a mutant that only loses float32
passes every float64 case and is caught by the first float32 one.

Cases stay inside the contract: where it leaves a choice (the projections of Part 3, the random
weights of Part 4) a case returns the property the contract asks for, not the values.
"""

import math
import tracemalloc
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str  # the contract name it calls
    phrase: str  # a phrase of the clause it checks; None when the name has a single clause
    label: str  # the input, for people
    run: object  # namespace -> what the caller sees


class Raised:
    """What a call raised, kept as a result (the type is what the contract speaks of)."""

    def __init__(self, error):
        self.type = type(error).__name__


def attempt(function, *args, **kwargs):
    try:
        return frozen(function(*args, **kwargs))
    except Exception as error:  # a mutant's error is an answer like any other
        return Raised(error)


def frozen(value):
    """The value with its arrays copied: later calls cannot change what was seen."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, (tuple, list)):
        return type(value)(frozen(item) for item in value)
    return value


CASES = []


def add(name, phrase, label, run):
    CASES.append(Case(name, phrase, label, run))


def _normal(seed, *shapes, scale=1.0):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape) * scale for shape in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def _mask(seed, shape, p=0.7, blocked_rows=()):
    """A random boolean mask with key 0 open (no fully blocked row) except ``blocked_rows``."""
    mask = np.random.default_rng(seed).random(size=shape) < p
    mask[..., 0] = True
    for row in blocked_rows:
        mask[row] = False
    return mask


def _structure(result):
    """What a caller unpacks: "a pair of (4, 5) and (4, 6)", or "one (4, 5)"."""
    if isinstance(result, Raised):
        return result
    if isinstance(result, (tuple, list)):
        shapes = " and ".join(str(np.shape(item)) for item in result)
        return f"a {'pair' if len(result) == 2 else f'{len(result)}-tuple'} of {shapes}"
    return f"one {np.shape(result)}"


def _dtypes(result):
    """The dtypes of a result, e.g. "float32, float32"."""
    if isinstance(result, Raised):
        return result
    items = result if isinstance(result, (tuple, list)) else (result,)
    return ", ".join(str(getattr(item, "dtype", type(item).__name__)) for item in items)


# -- Part 1: softmax ----------------------------------------------------------------------------


def _softmax_cases():
    axis_phrase, stable, float32, blocked = ("normalises along any axis", "no overflow", "float32 in", "entirely -inf")
    for axis in (-1, 0, 1, 2, 3, -2, -3, -4):
        add(
            "softmax",
            axis_phrase,
            f"softmax(random (2, 3, 4, 5) * 3, axis={axis})",
            lambda ns, axis=axis: attempt(ns["softmax"], _normal(1, (2, 3, 4, 5), scale=3.0), axis=axis),
        )
    add(
        "softmax",
        axis_phrase,
        "softmax(random (4, 6)) with the default axis",
        lambda ns: attempt(ns["softmax"], _normal(2, (4, 6))),
    )
    add("softmax", axis_phrase, "softmax of a 1-D array of 7", lambda ns: attempt(ns["softmax"], _normal(3, (7,))))
    add(
        "softmax",
        axis_phrase,
        "softmax(x (3, 1)) (one entry per row)",
        lambda ns: attempt(ns["softmax"], _normal(4, (3, 1))),
    )
    add(
        "softmax",
        axis_phrase,
        "softmax([[2.0, 0.5, -1.0], [0.0, 0.0, 1.0]]) (Python lists)",
        lambda ns: attempt(ns["softmax"], [[2.0, 0.5, -1.0], [0.0, 0.0, 1.0]]),
    )
    add(
        "softmax",
        axis_phrase,
        "softmax(np.array([[3, 1, 0], [1, 1, 1]])) (integer logits)",
        lambda ns: attempt(ns["softmax"], np.array([[3, 1, 0], [1, 1, 1]])),
    )
    add(
        "softmax",
        axis_phrase,
        "softmax(integer logits (3, 4), axis=0)",
        lambda ns: attempt(ns["softmax"], np.arange(12).reshape(3, 4) % 5, axis=0),
    )
    for axis in (-1, 1):
        add(
            "softmax",
            stable,
            f"softmax(random (3, 4, 6) * 5e3, axis={axis})",
            lambda ns, axis=axis: attempt(ns["softmax"], _normal(5, (3, 4, 6), scale=5e3), axis=axis),
        )
    add("softmax", stable, "softmax([1e4, 0, -1e4])", lambda ns: attempt(ns["softmax"], np.array([1e4, 0.0, -1e4])))
    add(
        "softmax", stable, "softmax(random (5, 7) + 700)", lambda ns: attempt(ns["softmax"], _normal(6, (5, 7)) + 700.0)
    )
    add(
        "softmax", stable, "softmax(random (5, 7) - 800)", lambda ns: attempt(ns["softmax"], _normal(6, (5, 7)) - 800.0)
    )
    for axis in (-1, 0, 1):
        add(
            "softmax",
            float32,
            f"softmax(float32 random (3, 4, 6), axis={axis})",
            lambda ns, axis=axis: attempt(ns["softmax"], _normal(7, (3, 4, 6)).astype(np.float32), axis=axis),
        )
    add(
        "softmax",
        float32,
        "softmax(float32 random (3, 4, 6) * 5e3, axis=1)",
        lambda ns: attempt(ns["softmax"], _normal(8, (3, 4, 6), scale=5e3).astype(np.float32), axis=1),
    )

    def with_minus_inf(dtype=np.float64):
        x = _normal(9, (2, 5, 6))
        x[np.random.default_rng(10).random(size=x.shape) < 0.4] = -np.inf
        x[0, 2, :] = -np.inf
        x[1, :, 4] = -np.inf
        x[:, 0, 0] = -np.inf
        return x.astype(dtype)

    for axis in (-1, 1, 0):
        add(
            "softmax",
            blocked,
            f"softmax(random (2, 5, 6) with -inf entries and all -inf slices, axis={axis})",
            lambda ns, axis=axis: attempt(ns["softmax"], with_minus_inf(), axis=axis),
        )
    add(
        "softmax",
        blocked,
        "softmax of float32 with -inf entries and all -inf slices",
        lambda ns: attempt(ns["softmax"], with_minus_inf(np.float32)),
    )
    add("softmax", blocked, "softmax([-inf, -inf, -inf])", lambda ns: attempt(ns["softmax"], np.full(3, -np.inf)))
    add(
        "softmax",
        blocked,
        "softmax([[0, -inf, 1], [-inf, -inf, -inf]])",
        lambda ns: attempt(ns["softmax"], np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])),
    )


# -- Part 1: scaled dot-product attention --------------------------------------------------------


def _sdpa(ns, *arrays, **kwargs):
    return attempt(ns["scaled_dot_product_attention"], *arrays, **kwargs)


def _sdpa_cases():
    name = "scaled_dot_product_attention"
    pair, keys, scores, shapes, float32, masks, blocked = (
        "returns the pair",
        "the softmax runs over the keys",
        "Q K^T / sqrt(d_k)",
        "leading dimensions broadcast",
        "float32 inputs give float32",
        "mask broadcastable",
        "every key blocked",
    )
    add(
        name,
        pair,
        "Q (4, 3), K (6, 3), V (6, 5): the (output, weights) shapes",
        lambda ns: _structure(_sdpa(ns, *_normal(11, (4, 3), (6, 3), (6, 5)))),
    )
    for seed, q, k, v in ((12, (4, 3), (6, 3), (6, 5)), (13, (2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6))):
        add(
            name,
            keys,
            f"Q {q}, K {k}, V {v}: weights summed over the keys",
            lambda ns, seed=seed, q=q, k=k, v=v: _row_sums(_sdpa(ns, *_normal(seed, q, k, v))),
        )
    for seed, q, k, v in (
        (14, (4, 3), (6, 3), (6, 5)),
        (15, (2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)),
        (16, (5, 1), (3, 1), (3, 2)),
        (17, (3, 16), (9, 16), (9, 4)),
        (18, (1, 64), (1, 64), (1, 3)),
        (19, (2, 6, 8), (2, 6, 8), (2, 6, 8)),
    ):
        add(
            name,
            scores,
            f"random Q {q}, K {k}, V {v}",
            lambda ns, seed=seed, q=q, k=k, v=v: _sdpa(ns, *_normal(seed, q, k, v)),
        )
    add(
        name,
        scores,
        "Q, K (2, 6, 8) * 300 (scores around 1e5), V (2, 6, 3)",
        lambda ns: _sdpa(ns, *_normal(20, (2, 6, 8), (2, 6, 8), scale=300.0), _normal(21, (2, 6, 3))),
    )
    for seed, q, k, v in (
        (22, (2, 1, 3, 8), (4, 5, 8), (4, 5, 2)),
        (23, (5, 4), (2, 3, 6, 4), (2, 3, 6, 2)),
        (24, (3, 1, 4, 2), (1, 5, 6, 2), (1, 5, 6, 3)),
    ):
        add(
            name,
            shapes,
            f"Q {q} broadcast against K {k}, V {v}",
            lambda ns, seed=seed, q=q, k=k, v=v: _sdpa(ns, *_normal(seed, q, k, v)),
        )
    add(
        name,
        masks,
        "Q (5, 4) broadcast against K (2, 3, 6, 4), V (2, 3, 6, 2), with a mask (2, 1, 5, 6)",
        lambda ns: _sdpa(ns, *_normal(45, (5, 4), (2, 3, 6, 4), (2, 3, 6, 2)), _mask(45, (2, 1, 5, 6))),
    )

    def f32(seed, mask=None):
        arrays = [a.astype(np.float32) for a in _normal(seed, (3, 2, 6, 8), (3, 2, 9, 8), (3, 2, 9, 5))]
        return arrays if mask is None else arrays + [mask]

    for label, make in (
        ("no mask", lambda: f32(25)),
        ("a bool mask", lambda: f32(26, _mask(27, (6, 9)))),
        ("a float64 0/1 mask", lambda: f32(28, _mask(29, (6, 9)).astype(np.float64))),
        ("an int mask", lambda: f32(30, _mask(31, (6, 9)).astype(np.int64))),
    ):
        add(name, float32, f"float32 Q, K, V with {label}: dtypes", lambda ns, make=make: _dtypes(_sdpa(ns, *make())))
    add(name, float32, "float32 Q, K, V (3, 2, 6/9, 8)", lambda ns: _sdpa(ns, *f32(32)))
    add(
        name,
        float32,
        "float32 Q, K * 300 (scores around 1e5)",
        lambda ns: _sdpa(ns, *[a * np.float32(300) if i < 2 else a for i, a in enumerate(f32(33))]),
    )
    for seed, shape in (
        (34, (5, 7)),
        (35, (2, 1, 1, 7)),
        (36, (2, 1, 5, 7)),
        (37, (2, 3, 5, 7)),
        (38, (1, 7)),
        (39, (7,)),
    ):
        for kind in (bool, np.int64, np.float32, np.float64):
            add(
                name,
                masks,
                f"Q (2, 3, 5, 4), K (2, 3, 7, 4) with a {kind.__name__} mask {shape}",
                lambda ns, seed=seed, shape=shape, kind=kind: _sdpa(
                    ns, *_normal(seed, (2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)), _mask(seed, shape).astype(kind)
                ),
            )
    add(
        name,
        masks,
        "a (3, 3) causal mask given by keyword",
        lambda ns: _sdpa(ns, *_normal(40, (3, 4), (3, 4), (3, 2)), mask=np.tril(np.ones((3, 3), dtype=bool))),
    )
    for seed, shape, rows in (
        (41, (2, 1, 6, 5), ((0, 0, 1), (1, 0, 4))),
        (42, (2, 4), ((1,),)),
        (43, (3, 3), ((0,), (1,), (2,))),
    ):
        for kind in (bool, np.int64):
            add(
                name,
                blocked,
                f"a {kind.__name__} mask {shape} with queries {list(rows)} fully blocked",
                lambda ns, seed=seed, shape=shape, rows=rows, kind=kind: _sdpa(
                    ns,
                    *_normal(
                        seed,
                        (2, 3, 6, 4) if len(shape) == 4 else (shape[0], 4),
                        (2, 3, 5, 4) if len(shape) == 4 else (shape[1], 4),
                        (2, 3, 5, 3) if len(shape) == 4 else (shape[1], 2),
                    ),
                    _mask(seed, shape, blocked_rows=rows).astype(kind),
                ),
            )
    add(
        name,
        blocked,
        "float32 with fully blocked queries",
        lambda ns: _sdpa(
            ns,
            *[a.astype(np.float32) for a in _normal(44, (2, 3, 6, 4), (2, 3, 5, 4), (2, 3, 5, 3))],
            mask=_mask(44, (2, 1, 6, 5), blocked_rows=((0, 0, 1),)),
        ),
    )


def _row_sums(result):
    if isinstance(result, Raised) or not isinstance(result, (tuple, list)) or len(result) != 2:
        return _structure(result)
    return np.asarray(result[1]).sum(axis=-1)


def _layer_cases():
    name = "ScaledDotProductAttention"
    alone, call, convention = ("returns the output alone", "__call__ passes", "mask convention")

    def inputs(seed, mask=False, blocked=False):
        q, k, v = _normal(seed, (3, 4, 5), (3, 7, 5), (3, 7, 2))
        if not mask:
            return q, k, v
        return q, k, v, _mask(seed, (3, 4, 7), p=0.5, blocked_rows=((1, 2),) if blocked else ())

    def layer(ns):
        return ns["ScaledDotProductAttention"]()

    add(name, alone, "layer(Q, K, V): what it returns", lambda ns: _structure(attempt(layer(ns), *inputs(50))))
    add(
        name,
        alone,
        "layer.forward(Q, K, V): what it returns",
        lambda ns: _structure(attempt(layer(ns).forward, *inputs(50))),
    )
    add(
        name,
        alone,
        "layer.forward(Q, K, V, None, True): what it returns",
        lambda ns: _structure(attempt(layer(ns).forward, *inputs(50), None, True)),
    )
    add(
        name,
        alone,
        "layer.forward(Q, K, V, return_attention_weights=False): what it returns",
        lambda ns: _structure(attempt(layer(ns).forward, *inputs(50), return_attention_weights=False)),
    )
    add(
        name,
        alone,
        "layer.forward(Q, K (3, 7, 5), V (3, 7, 2), None, True)",
        lambda ns: attempt(layer(ns).forward, *inputs(51), None, True),
    )
    add(
        name,
        convention,
        "layer.forward(Q, K, V, mask, True) with a partial mask",
        lambda ns: attempt(layer(ns).forward, *inputs(52, mask=True), True),
    )
    add(
        name,
        convention,
        "layer.forward(Q, K, V, mask, True), query (1, 2) fully blocked",
        lambda ns: attempt(layer(ns).forward, *inputs(53, mask=True, blocked=True), True),
    )
    add(
        name,
        call,
        "layer(Q, K, V, return_attention_weights=True): what it returns",
        lambda ns: _structure(attempt(layer(ns), *inputs(54), return_attention_weights=True)),
    )
    add(name, call, "layer(Q, K, V) with V unlike K", lambda ns: attempt(layer(ns), *inputs(55)))
    add(
        name,
        call,
        "layer(Q, K, V, return_attention_weights=True)",
        lambda ns: attempt(layer(ns), *inputs(56), return_attention_weights=True),
    )
    add(
        name,
        call,
        "layer(Q, K, V, mask=mask) with a partial mask",
        lambda ns: (lambda q, k, v, m: attempt(layer(ns), q, k, v, mask=m))(*inputs(57, mask=True)),
    )
    add(
        name,
        call,
        "layer(Q, K, V, mask) with the mask by position",
        lambda ns: attempt(layer(ns), *inputs(58, mask=True)),
    )
    add(
        name,
        call,
        "layer(Q, K, V, mask=mask, return_attention_weights=True)",
        lambda ns: (lambda q, k, v, m: attempt(layer(ns), q, k, v, mask=m, return_attention_weights=True))(
            *inputs(59, mask=True)
        ),
    )
    add(
        name,
        convention,
        "layer(Q, K, V, mask=mask), query (1, 2) fully blocked",
        lambda ns: (lambda q, k, v, m: attempt(layer(ns), q, k, v, mask=m, return_attention_weights=True))(
            *inputs(60, mask=True, blocked=True)
        ),
    )


# -- Part 2: masks ------------------------------------------------------------------------------


def _mask_cases():
    for n in (1, 2, 3, 7, 13, 64):
        add(
            "create_causal_mask", None, f"create_causal_mask({n})", lambda ns, n=n: attempt(ns["create_causal_mask"], n)
        )
    exact, errors = "exactly when j < lengths", "ValueError for a length"
    lengths = np.random.default_rng(61).integers(0, 10, size=6)
    lengths[0], lengths[1] = 0, 9
    for label, args in (
        (f"lengths {lengths.tolist()} (array), max_len 9", (lengths, 9)),
        ("lengths [3, 0, 12] (list), max_len 12", ([3, 0, 12], 12)),
        ("lengths (2, 5) (tuple), max_len 6", ((2, 5), 6)),
        ("lengths [1] (list), max_len 1", ([1], 1)),
        ("lengths int32 array [4, 1, 2], max_len 5", (np.array([4, 1, 2], dtype=np.int32), 5)),
        ("lengths [0, 0], max_len 3", ([0, 0], 3)),
    ):
        add(
            "create_padding_mask",
            exact,
            f"create_padding_mask: {label}",
            lambda ns, args=args: attempt(
                ns["create_padding_mask"], *(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)
            ),
        )
    for label, args in (
        ("[5, 2], 4 (above max_len)", ([5, 2], 4)),
        ("array [0, 3, 7], 6", (np.array([0, 3, 7]), 6)),
        ("[-1, 2], 4 (negative)", ([-1, 2], 4)),
        ("[4, 0], 4 (0 and max_len)", ([4, 0], 4)),
        ("[2, -3], 5", ([2, -3], 5)),
        ("[5], 4", ([5], 4)),
    ):
        add(
            "create_padding_mask",
            errors,
            f"create_padding_mask({label})",
            lambda ns, args=args: attempt(ns["create_padding_mask"], *args),
        )


# -- Part 3: a previous-token head --------------------------------------------------------------


def _previous_token_property(ns, seq_len):
    """What the contract asks of the projections, in words: the same words whenever it holds."""
    result = attempt(ns["previous_token_projections"], seq_len)
    if isinstance(result, Raised):
        return result
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return f"returns {type(result).__name__}, not a pair (W_q, W_k)"
    W_q, W_k = (np.asarray(w, dtype=np.float64) for w in result)
    if W_q.ndim != 2 or W_q.shape[0] != seq_len or W_q.shape != W_k.shape:
        return f"W_q {W_q.shape} and W_k {W_k.shape}, not both ({seq_len}, d)"
    with np.errstate(all="ignore"):
        scores = W_q @ W_k.T / math.sqrt(W_q.shape[1])
        scores = np.where(np.tril(np.ones((seq_len, seq_len), dtype=bool)), scores, -np.inf)
        shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = shifted / shifted.sum(axis=-1, keepdims=True)
    if not np.isfinite(weights).all():
        return "weights that are NaN or inf"
    on_previous = weights[np.arange(1, seq_len), np.arange(seq_len - 1)]
    if not (on_previous > 0.9).all():
        i = int(np.argmin(on_previous)) + 1
        return f"query {i} puts {on_previous[i - 1]:.3f} of its weight on key {i - 1}, not more than 0.9"
    return "every query i >= 1 puts more than 0.9 of its weight on key i - 1"


def _heads_cases():
    for seq_len in (2, 3, 4, 5, 8, 13, 32, 100, 256, 512, 1):
        add(
            "previous_token_projections",
            None,
            f"previous_token_projections({seq_len}) and the weights it gives",
            lambda ns, seq_len=seq_len: _previous_token_property(ns, seq_len),
        )


# -- Part 4 and Part 7: multi-head and grouped-query attention ------------------------------------


def _construct(ns, embed_dim, num_heads, seed=None, num_kv_heads=None):
    kwargs = {} if num_kv_heads is None else {"num_kv_heads": num_kv_heads}
    try:
        return ns["MultiHeadAttention"](embed_dim, num_heads, seed=seed, **kwargs)
    except Exception as error:
        return Raised(error)


def _attributes(layer, names):
    if isinstance(layer, Raised):
        return layer
    return tuple(getattr(layer, name, "missing") for name in names)


def _grouped_attributes(layer):
    if isinstance(layer, Raised):
        return layer
    return (getattr(layer, "num_kv_heads", "missing"),) + tuple(
        np.shape(getattr(layer, name, None)) for name in ("W_q", "W_k", "W_v", "W_o")
    )


def _same_weights(a, b):
    if isinstance(a, Raised) or isinstance(b, Raised):
        return a if isinstance(a, Raised) else b
    return tuple(bool(np.array_equal(getattr(a, name, None), getattr(b, name, None))) for name in ("W_k", "W_v"))


def _weight_properties(ns, embed_dim, num_heads):
    """What the contract asks of the random weights, in words: shapes, float64, same seed same
    weights, another seed other weights, four different matrices, mean 0 and spread 1/sqrt(E)."""
    layers = [_construct(ns, embed_dim, num_heads, seed=seed) for seed in (5, 5, 6)]
    if any(isinstance(layer, Raised) for layer in layers):
        return next(layer for layer in layers if isinstance(layer, Raised))
    names = ("W_q", "W_k", "W_v", "W_o")
    problems = []
    for name in names:
        if not all(isinstance(getattr(layer, name, None), np.ndarray) for layer in layers):
            problems.append(f"{name} is not an array")
            continue
        a, same, other = (getattr(layer, name) for layer in layers)
        if a.shape != (embed_dim, embed_dim) or a.dtype != np.float64:
            problems.append(f"{name} is {a.dtype} {a.shape}")
        if not np.array_equal(a, same):
            problems.append(f"{name} differs for the same seed")
        if a.shape == other.shape and np.array_equal(a, other):
            problems.append(f"{name} is the same for seeds 5 and 6")
        spread, mean = float(a.std()) * math.sqrt(embed_dim), float(a.mean()) * math.sqrt(embed_dim)
        if not (0.8 < spread < 1.25 and abs(mean) < 0.3):
            problems.append(f"{name} has mean {mean:.2f} and spread {spread:.2f} (in units of 1/sqrt(E))")
    matrices = [getattr(layers[0], name, None) for name in names]
    if any(
        isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
        for i, a in enumerate(matrices)
        for b in matrices[i + 1 :]
    ):
        problems.append("two of the four matrices are equal")
    return "; ".join(problems) or "four different (E, E) float64 matrices, N(0, 1/E), fixed by the seed"


def _with_weights(ns, embed_dim, num_heads, seed, num_kv_heads=None):
    """A layer whose four weights are then set to fixed random matrices (the same for every namespace)."""
    layer = _construct(ns, embed_dim, num_heads, seed=0, num_kv_heads=num_kv_heads)
    if isinstance(layer, Raised):
        return layer
    kv_dim = (num_kv_heads or num_heads) * (embed_dim // num_heads)
    layer.W_q, layer.W_k, layer.W_v, layer.W_o = _normal(
        seed, (embed_dim, embed_dim), (embed_dim, kv_dim), (embed_dim, kv_dim), (embed_dim, embed_dim), scale=1 / 3
    )
    return layer


def _mha(ns, config, inputs, **kwargs):
    layer = _with_weights(ns, *config)
    if isinstance(layer, Raised):
        return layer
    method = kwargs.pop("method", None)
    return attempt(getattr(layer, method) if method else layer, *inputs, **kwargs)


def _mha_cases():
    init, weights, gqa_init = "ValueError unless embed_dim", "four float64", "num_kv_heads defaults"
    for args in ((16, 4), (6, 1), (12, 3), (8, 8), (64, 8), (8, 3), (12, 5), (16, 32), (9, 3)):
        add(
            "MultiHeadAttention",
            init,
            f"MultiHeadAttention{args}: embed_dim, num_heads, head_dim",
            lambda ns, args=args: _attributes(_construct(ns, *args, seed=1), ("embed_dim", "num_heads", "head_dim")),
        )
    for args in ((16, 4), (64, 8), (6, 1)):
        add(
            "MultiHeadAttention",
            weights,
            f"MultiHeadAttention{args} with seeds 5, 5 and 6: the weights",
            lambda ns, args=args: _weight_properties(ns, *args),
        )
    for E, H, kv in ((24, 6, 3), (24, 6, 1), (24, 6, 6), (12, 4, 2), (16, 4, None), (24, 6, 4), (24, 6, 12), (8, 2, 3)):
        add(
            "MultiHeadAttention",
            gqa_init,
            f"MultiHeadAttention({E}, {H}, num_kv_heads={kv}): num_kv_heads and shapes",
            lambda ns, E=E, H=H, kv=kv: _grouped_attributes(_construct(ns, E, H, seed=3, num_kv_heads=kv)),
        )
    add(
        "MultiHeadAttention",
        gqa_init,
        "two MultiHeadAttention(12, 4, seed=1, num_kv_heads=2): same W_k and W_v",
        lambda ns: _same_weights(
            _construct(ns, 12, 4, seed=1, num_kv_heads=2), _construct(ns, 12, 4, seed=1, num_kv_heads=2)
        ),
    )

    forward, heads, masks, gqa = (
        "forward/__call__",
        "head h uses columns",
        "masks broadcastable to (B, H",
        "query head h uses key/value head",
    )
    name = "MultiHeadAttention.forward"
    x = _normal(70, (3, 4, 8))
    add(
        name,
        forward,
        "layer(x, x, x) for MultiHeadAttention(8, 2): what it returns",
        lambda ns: _structure(_mha(ns, (8, 2, 71), (x, x, x))),
    )
    add(
        name,
        forward,
        "layer(x, x, x, return_attention_weights=True): what it returns",
        lambda ns: _structure(_mha(ns, (8, 2, 71), (x, x, x), return_attention_weights=True)),
    )
    add(
        name,
        forward,
        "layer.forward(x, x, x): what it returns",
        lambda ns: _structure(_mha(ns, (8, 2, 71), (x, x, x), method="forward")),
    )
    add(
        name,
        forward,
        "layer.forward(x, x, x, None, True): what it returns",
        lambda ns: _structure(_mha(ns, (8, 2, 71), (x, x, x, None, True), method="forward")),
    )
    for E, H, batch, length in ((12, 3, 2, 5), (8, 4, 1, 6), (6, 1, 2, 3), (16, 2, 2, 4), (8, 8, 1, 3)):
        xs = _normal(72 + E + H, (batch, length, E))
        add(
            name,
            heads,
            f"self-attention of x {xs.shape} in MultiHeadAttention({E}, {H}), weights set after construction",
            lambda ns, E=E, H=H, xs=xs: _mha(ns, (E, H, 80 + H), (xs, xs, xs), return_attention_weights=True),
        )
    q, k, v = _normal(90, (3, 4, 8), (3, 6, 8), (3, 6, 8))
    add(
        name,
        forward,
        "layer(q, k, v) with distinct query (3, 4, 8), key and value (3, 6, 8)",
        lambda ns: _mha(ns, (8, 2, 91), (q, k, v), return_attention_weights=True),
    )
    add(
        name,
        forward,
        "layer.forward(q, k, v) with distinct query, key and value",
        lambda ns: _mha(ns, (8, 2, 91), (q, k, v), method="forward"),
    )
    add(
        name,
        forward,
        "layer(q, k, v) (the output alone) with distinct query, key and value",
        lambda ns: _mha(ns, (8, 2, 91), (q, k, v)),
    )
    xq, xk, xv = _normal(92, (2, 5, 12), (2, 6, 12), (2, 6, 12))
    for shape in ((5, 6), (2, 1, 1, 6), (2, 1, 5, 6), (2, 3, 5, 6)):
        for kind in (bool, np.int64):
            add(
                name,
                masks,
                f"MultiHeadAttention(12, 3) with a {kind.__name__} mask {shape}",
                lambda ns, shape=shape, kind=kind: _mha(
                    ns, (12, 3, 93), (xq, xk, xv), mask=_mask(94, shape).astype(kind), return_attention_weights=True
                ),
            )
    empty = (np.arange(6)[None, :] < np.array([6, 0])[:, None])[:, None, None, :]
    add(
        name,
        masks,
        "MultiHeadAttention(12, 3) with a padding mask for lengths [6, 0] (sequence 1 fully blocked)",
        lambda ns: _mha(ns, (12, 3, 95), (xq, xk, xv), mask=empty, return_attention_weights=True),
    )
    add(
        name,
        masks,
        "MultiHeadAttention(12, 3) with a (2, 1, 5, 6) mask, query (1, 0, 2) fully blocked",
        lambda ns: _mha(
            ns,
            (12, 3, 96),
            (xq, xk, xv),
            mask=_mask(97, (2, 1, 5, 6), blocked_rows=((1, 0, 2),)),
            return_attention_weights=True,
        ),
    )
    causal = np.tril(np.ones((5, 5), dtype=bool))
    add(
        name,
        masks,
        "MultiHeadAttention(12, 3), causal self-attention",
        lambda ns: _mha(ns, (12, 3, 98), (xq, xq, xq), mask=causal, return_attention_weights=True),
    )
    for E, H, kv in ((24, 6, 3), (24, 6, 2), (24, 6, 1), (16, 4, 4), (12, 4, 2)):
        gq, gk, gv = _normal(100 + kv, (2, 5, E), (2, 7, E), (2, 7, E))
        add(
            name,
            gqa,
            f"MultiHeadAttention({E}, {H}, num_kv_heads={kv}) with a mask, one query fully blocked",
            lambda ns, E=E, H=H, kv=kv, gq=gq, gk=gk, gv=gv: _mha(
                ns,
                (E, H, 110 + kv, kv),
                (gq, gk, gv),
                mask=_mask(120 + kv, (2, 1, 5, 7), blocked_rows=((1, 0, 2),)),
                return_attention_weights=True,
            ),
        )
        add(
            name,
            gqa,
            f"MultiHeadAttention({E}, {H}, num_kv_heads={kv}), no mask, forward",
            lambda ns, E=E, H=H, kv=kv, gq=gq, gk=gk, gv=gv: _mha(
                ns, (E, H, 130 + kv, kv), (gq, gk, gv), method="forward"
            ),
        )


# -- Part 5: the KV cache -----------------------------------------------------------------------


def _cache(ns, *args, **kwargs):
    try:
        return ns["KVCache"](*args, **kwargs)
    except Exception as error:
        return Raised(error)


def _length(cache):
    return attempt(len, cache)


def _cache_cases():
    stores, copies, errors = "append returns every cached", "append copies", "ValueError when the new tokens"

    def chunked(ns):
        cache = _cache(ns, 10, 3, 4, batch_size=2)
        if isinstance(cache, Raised):
            return cache
        all_k, all_v = _normal(140, (2, 3, 10, 4), (2, 3, 10, 4))
        seen, start = [_length(cache)], 0
        for chunk in (3, 1, 4, 2):
            seen += [
                attempt(
                    cache.append, all_k[:, :, start : start + chunk].copy(), all_v[:, :, start : start + chunk].copy()
                ),
                _length(cache),
            ]
            start += chunk
        return seen

    def typed(ns, dtype):
        cache = _cache(ns, 4, 1, 2, dtype=dtype)
        if isinstance(cache, Raised):
            return cache
        return [attempt(cache.append, np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 2.0)), _length(cache)]

    def reset(ns):
        cache = _cache(ns, 6, 2, 3)
        if isinstance(cache, Raised):
            return cache
        k, v = _normal(141, (1, 2, 3, 3), (1, 2, 3, 3))
        seen = [attempt(cache.append, k, v), _length(cache), attempt(cache.reset), _length(cache)]
        return seen + [attempt(cache.append, k[:, :, :2] * 2, v[:, :, :2] * 2), _length(cache)]

    def fill(ns):
        cache = _cache(ns, 5, 2, 3, batch_size=2)
        if isinstance(cache, Raised):
            return cache
        k, v = _normal(142, (2, 2, 5, 3), (2, 2, 5, 3))
        return [attempt(cache.append, k, v), _length(cache)]

    add(
        "KVCache",
        stores,
        "KVCache(10, 3, 4, batch_size=2): appends of 3, 1, 4 and 2 positions, len after each",
        chunked,
    )
    add("KVCache", stores, "KVCache(4, 1, 2, dtype=np.float32): float64 appended", lambda ns: typed(ns, np.float32))
    add("KVCache", stores, "KVCache(4, 1, 2, dtype=np.float16): float64 appended", lambda ns: typed(ns, np.float16))
    add("KVCache", stores, "KVCache(6, 2, 3): append 3, reset, append 2", reset)
    add("KVCache", stores, "KVCache(5, 2, 3, batch_size=2): filled in one append", fill)

    def modified_buffers(ns):
        cache = _cache(ns, 8, 2, 3, batch_size=2)
        if isinstance(cache, Raised):
            return cache
        k, v = _normal(143, (2, 2, 2, 3), (2, 2, 2, 3))
        first = attempt(cache.append, k, v)
        k *= -5.0
        v += 3.0
        return [first, attempt(cache.append, k[:, :, :1], v[:, :, :1])]

    add(
        "KVCache.append",
        copies,
        "append, then the caller changes its arrays in place, then append again",
        modified_buffers,
    )

    def overflow(ns):
        cache = _cache(ns, 5, 2, 3, batch_size=2)
        if isinstance(cache, Raised):
            return cache
        k, v = _normal(144, (2, 2, 4, 3), (2, 2, 4, 3))
        return [
            attempt(cache.append, k, v),
            attempt(cache.append, np.ones((2, 2, 2, 3)), np.ones((2, 2, 2, 3))),
            _length(cache),
            attempt(cache.append, np.zeros((2, 2, 1, 3)), np.zeros((2, 2, 1, 3))),
            attempt(cache.append, np.ones((2, 2, 1, 3)), np.ones((2, 2, 1, 3))),
            _length(cache),
        ]

    add(
        "KVCache.append",
        errors,
        "KVCache(5, 2, 3, batch 2): 4 positions, then 2 more (overflow), then 1, then 1 more",
        overflow,
    )
    for label, k_shape, v_shape in (
        ("batch 1 into a cache for batch 2", (1, 2, 1, 3), (1, 2, 1, 3)),
        ("3 heads into a cache for 2", (2, 3, 1, 3), (2, 3, 1, 3)),
        ("head_dim 4 into a cache for 3", (2, 2, 1, 4), (2, 2, 1, 4)),
        ("keys of 2 positions with values of 1", (2, 2, 2, 3), (2, 2, 1, 3)),
        ("3-D keys and values", (2, 2, 3), (2, 2, 3)),
        ("7 positions into a cache of 6", (2, 2, 7, 3), (2, 2, 7, 3)),
    ):
        add(
            "KVCache.append",
            errors,
            f"KVCache(6, 2, 3, batch_size=2): append {label}, then len",
            lambda ns, k_shape=k_shape, v_shape=v_shape: (
                lambda cache: (
                    cache
                    if isinstance(cache, Raised)
                    else [attempt(cache.append, np.ones(k_shape), np.ones(v_shape)), _length(cache)]
                )
            )(_cache(ns, 6, 2, 3, batch_size=2)),
        )


def _decode(ns, config, batch, chunks, reset_then=None):
    """Outputs of decode_step over ``chunks`` of a random batch, len(cache) after each, and
    optionally a prefill after reset()."""
    E, H, seed, kv = config
    layer = _with_weights(ns, E, H, seed, kv)
    if isinstance(layer, Raised):
        return layer
    cache = _cache(ns, sum(chunks), kv or H, E // H, batch_size=batch)
    if isinstance(cache, Raised):
        return cache
    x = _normal(seed + 1, (batch, sum(chunks), E))
    seen, start = [], 0
    for chunk in chunks:
        seen += [
            attempt(getattr(layer, "decode_step", None), x[:, start : start + chunk].copy(), cache),
            _length(cache),
        ]
        start += chunk
    if reset_then:
        seen += [attempt(cache.reset), attempt(getattr(layer, "decode_step", None), x[:, :reset_then].copy(), cache)]
    return seen


def _decode_cases():
    name = "MultiHeadAttention.decode_step"
    equals, gqa = "decode_step(x_new, cache)", "decode_step with KVCache"
    add(
        name,
        equals,
        "MultiHeadAttention(12, 3): 9 tokens of a batch of 2, one at a time",
        lambda ns: _decode(ns, (12, 3, 150, None), 2, (1,) * 9),
    )
    add(
        name,
        equals,
        "MultiHeadAttention(12, 4): a batch of 3 in chunks 3, 2, 1, 3, 1, then reset and a 5-token prefill",
        lambda ns: _decode(ns, (12, 4, 152, None), 3, (3, 2, 1, 3, 1), reset_then=5),
    )
    add(
        name,
        equals,
        "MultiHeadAttention(8, 1): one prompt of 6 tokens",
        lambda ns: _decode(ns, (8, 1, 154, None), 1, (6,)),
    )
    for kv in (2, 1, 3):
        add(
            name,
            gqa,
            f"MultiHeadAttention(24, 6, num_kv_heads={kv}): chunks 4, 1, 1, 3 with a cache of {kv} heads",
            lambda ns, kv=kv: _decode(ns, (24, 6, 160 + kv, kv), 2, (4, 1, 1, 3)),
        )


# -- Part 6: memory -----------------------------------------------------------------------------


def _memory_cases():
    rng = np.random.default_rng(170)
    for dtype in (np.float16, np.float32, np.float64):
        for _ in range(3):
            b, h, n = (int(v) for v in rng.integers([1, 1, 1], [9, 33, 5000]))
            add(
                "attention_matrix_bytes",
                None,
                f"attention_matrix_bytes({b}, {h}, {n}, dtype={dtype.__name__})",
                lambda ns, b=b, h=h, n=n, dtype=dtype: attempt(ns["attention_matrix_bytes"], b, h, n, dtype=dtype),
            )
            layers, d = int(rng.integers(1, 81)), int(rng.integers(8, 257))
            add(
                "kv_cache_bytes",
                None,
                f"kv_cache_bytes({layers}, {b}, {h}, {n}, {d}, dtype={dtype.__name__})",
                lambda ns, args=(layers, b, h, n, d), dtype=dtype: attempt(ns["kv_cache_bytes"], *args, dtype=dtype),
            )
    add(
        "attention_matrix_bytes",
        None,
        "attention_matrix_bytes(3, 5, 77) (default dtype)",
        lambda ns: attempt(ns["attention_matrix_bytes"], 3, 5, 77),
    )
    add(
        "attention_matrix_bytes",
        None,
        "attention_matrix_bytes(2, 4, 10, np.dtype('float64')) (dtype by position)",
        lambda ns: attempt(ns["attention_matrix_bytes"], 2, 4, 10, np.dtype("float64")),
    )
    add(
        "kv_cache_bytes",
        None,
        "kv_cache_bytes(3, 2, 5, 11, 7) (default dtype)",
        lambda ns: attempt(ns["kv_cache_bytes"], 3, 2, 5, 11, 7),
    )
    for dtype in (np.float16, np.float32, np.float64):
        b, h, n = (int(v) for v in rng.integers([1, 1, 2], [5, 17, 30000]))
        exact = b * h * n * n * np.dtype(dtype).itemsize
        below_next = b * h * (n + 1) * (n + 1) * np.dtype(dtype).itemsize - 1
        for budget in (exact, exact - 1, below_next, (exact + below_next) // 2):
            add(
                "max_seq_len_for_budget",
                None,
                f"max_seq_len_for_budget({budget}, {b}, {h}, dtype={dtype.__name__})",
                lambda ns, args=(budget, b, h), dtype=dtype: attempt(ns["max_seq_len_for_budget"], *args, dtype=dtype),
            )
    for args in ((3, 1, 1), (4, 1, 1), (0, 2, 2), (8e9, 1, 12), (2**30, 1, 32)):
        add(
            "max_seq_len_for_budget",
            None,
            f"max_seq_len_for_budget{args} (default dtype)",
            lambda ns, args=args: attempt(ns["max_seq_len_for_budget"], *args),
        )
    for p in (0.7, 1.5, 2.2, 3.0):
        sizes = np.sort(rng.uniform(10, 5000, size=7))
        costs = 2.5 * sizes**p * np.exp(rng.normal(scale=0.2, size=7))
        add(
            "fit_scaling_exponent",
            None,
            f"fit_scaling_exponent on 7 noisy points, exponent {p} (lists)",
            lambda ns, s=list(sizes), c=list(costs): attempt(ns["fit_scaling_exponent"], s, c),
        )
    add(
        "fit_scaling_exponent",
        None,
        "fit_scaling_exponent([128, 256, 512, 1024], exact squares) (arrays)",
        lambda ns: attempt(
            ns["fit_scaling_exponent"], np.array([128, 256, 512, 1024]), np.array([128, 256, 512, 1024]) ** 2.0
        ),
    )
    add(
        "fit_scaling_exponent",
        None,
        "fit_scaling_exponent([10, 1000], [5, 50]) (two points)",
        lambda ns: attempt(ns["fit_scaling_exponent"], [10, 1000], [5, 50]),
    )


def _answer_cases(names):
    for name in names:
        add(name, None, f"the value of {name}", lambda ns, name=name: ns.get(name, Raised(NameError(name))))


# -- Part 7: tiled attention, compute ---------------------------------------------------------------


def _tiled(ns, *arrays, **kwargs):
    return attempt(ns["tiled_attention"], *arrays, **kwargs)


def _tiled_inputs(seed, lead_q, lead_k, L, S, d, dv, scale=2.0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=lead_q + (L, d)) * scale
    k = rng.normal(size=lead_k + (S, d)) * np.linspace(0.2, 3.0, S)[:, None]  # later blocks raise the max
    return q, k, rng.normal(size=lead_k + (S, dv))


def _peak_below_a_quarter(ns, L, S, block_size, mask):
    q, k, v = _normal(200, (L, 16), (S, 16), (S, 16))
    tracemalloc.start()
    try:
        result = _tiled(ns, q, k, v, mask=mask, block_size=block_size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result if isinstance(result, Raised) else bool(peak < L * S * 8 / 4)


def _tiled_cases():
    name = "tiled_attention"
    matches, masks, float32, memory, errors = (
        "returns scaled_dot_product_attention's output",
        "masks as in Part 1",
        "float32 in, float32 out",
        "never builds",
        "ValueError for block_size",
    )
    for seed, config, size in (
        (180, ((), (), 9, 23, 4, 5), 5),
        (181, ((2,), (2,), 6, 16, 3, 2), 4),
        (182, ((2, 3), (2, 3), 5, 11, 8, 4), 64),
        (183, ((2, 1), (3,), 4, 10, 6, 3), 3),
        (184, ((3,), (3,), 7, 9, 5, 5), 1),
        (185, ((), (), 33, 130, 8, 8), 64),
        (186, ((), (), 4, 12, 6, 2), 12),
        (187, ((), (), 4, 12, 6, 2), 100),
        (188, ((), (), 5, 17, 4, 3), 2),
        (189, ((), (), 1, 1, 3, 2), 64),
    ):
        add(
            name,
            matches,
            f"tiled_attention for Q {config[0] + config[2:3]}, S={config[3]}, block_size={size}",
            lambda ns, seed=seed, config=config, size=size: _tiled(ns, *_tiled_inputs(seed, *config), block_size=size),
        )
    add(
        name,
        matches,
        "tiled_attention with scores around 1e4 (block_size=5)",
        lambda ns: _tiled(ns, *_tiled_inputs(190, (), (), 4, 12, 6, 2, scale=200.0), block_size=5),
    )
    add(
        name,
        matches,
        "tiled_attention with the default block_size (S = 150)",
        lambda ns: _tiled(ns, *_tiled_inputs(191, (), (), 6, 150, 4, 3)),
    )
    q, k, v = _normal(192, (2, 3, 9, 5), (2, 3, 13, 5), (2, 3, 13, 4))
    for shape, size in (((9, 13), 4), ((2, 1, 1, 13), 5), ((2, 3, 9, 13), 3), ((2, 1, 9, 13), 64), ((13,), 6)):
        for kind in (bool, np.int64, np.float64):
            add(
                name,
                masks,
                f"tiled_attention with a {kind.__name__} mask {shape} blocking query 0, block_size={size}",
                lambda ns, shape=shape, size=size, kind=kind: _tiled(
                    ns,
                    q,
                    k,
                    v,
                    mask=_mask(
                        193, shape, p=0.6, blocked_rows=((Ellipsis, 0, slice(None)),) if len(shape) > 1 else ()
                    ).astype(kind),
                    block_size=size,
                ),
            )
    x = _normal(194, (11, 6))
    add(
        name,
        masks,
        "tiled_attention with an (11, 11) causal mask, block_size=3",
        lambda ns: _tiled(ns, x, x, x, mask=np.tril(np.ones((11, 11), dtype=bool)), block_size=3),
    )
    for shape in ((2, 9, 13), (2, 1, 13)):
        add(
            name,
            masks,
            f"tiled_attention for Q (9, 5) against K (2, 13, 5), V (2, 13, 4), with a mask {shape} (block_size=4)",
            lambda ns, shape=shape: _tiled(
                ns, *_normal(199, (9, 5), (2, 13, 5), (2, 13, 4)), mask=_mask(199, shape), block_size=4
            ),
        )
    late = np.zeros((4, 12), dtype=bool)
    late[:, 9:] = True
    add(
        name,
        masks,
        "tiled_attention where the only allowed keys are in the last block (block_size=3)",
        lambda ns: _tiled(ns, *_normal(195, (4, 6), (12, 6), (12, 2)), mask=late, block_size=3),
    )
    f32 = [a.astype(np.float32) for a in _normal(196, (2, 4, 7, 16), (2, 4, 50, 16), (2, 4, 50, 8))]
    m32 = _mask(197, (2, 1, 7, 50), blocked_rows=((1, 0, 3),))
    add(
        name,
        float32,
        "float32 tiled_attention with a mask, block_size=16: dtype",
        lambda ns: _dtypes(_tiled(ns, *f32, mask=m32, block_size=16)),
    )
    add(
        name,
        float32,
        "float32 tiled_attention with a mask, block_size=16",
        lambda ns: _tiled(ns, *f32, mask=m32, block_size=16),
    )
    add(
        name,
        float32,
        "float32 tiled_attention, Q and K * 300 (scores around 1e5)",
        lambda ns: _tiled(ns, f32[0] * np.float32(300), f32[1] * np.float32(300), f32[2], block_size=16),
    )
    add(
        name,
        memory,
        "tiled_attention at L = S = 2048, block 64: traced peak below a quarter of an L x S float64 matrix",
        lambda ns: _peak_below_a_quarter(ns, 2048, 2048, 64, None),
    )
    add(
        name,
        memory,
        "tiled_attention at L = S = 2048 with a (2048, 2048) causal mask: traced peak below a quarter",
        lambda ns: _peak_below_a_quarter(ns, 2048, 2048, 64, np.tril(np.ones((2048, 2048), dtype=bool))),
    )
    q3, k5, v5 = _normal(198, (3, 4), (5, 4), (5, 2))
    for label, kwargs in (
        ("block_size=0", {"block_size": 0}),
        ("block_size=-2", {"block_size": -2}),
        ("a mask and block_size=0", {"mask": np.ones((3, 5), dtype=bool), "block_size": 0}),
        ("block_size=1", {"block_size": 1}),
    ):
        add(name, errors, f"tiled_attention with {label}", lambda ns, kwargs=kwargs: _tiled(ns, q3, k5, v5, **kwargs))


def _compute_cases():
    rng = np.random.default_rng(210)
    for _ in range(4):
        b, h, n, d = (int(v) for v in rng.integers([1, 1, 1, 8], [9, 65, 9000, 257]))
        add(
            "attention_flops",
            None,
            f"attention_flops({b}, {h}, {n}, {d})",
            lambda ns, args=(b, h, n, d): attempt(ns["attention_flops"], *args),
        )
        add(
            "projection_flops",
            None,
            f"projection_flops({b}, {n}, {h * d})",
            lambda ns, args=(b, n, h * d): attempt(ns["projection_flops"], *args),
        )
        args = (float(rng.uniform(1e8, 1e11)), float(rng.uniform(0, 1e10)), float(rng.uniform(1e11, 5e12)))
        add(
            "max_decode_tokens_per_second",
            None,
            "max_decode_tokens_per_second({:.4g}, {:.4g}, {:.4g})".format(*args),
            lambda ns, args=args: attempt(ns["max_decode_tokens_per_second"], *args),
        )
    add(
        "max_decode_tokens_per_second",
        None,
        "max_decode_tokens_per_second(1e9, 0, 1e12) (an empty cache)",
        lambda ns: attempt(ns["max_decode_tokens_per_second"], 1e9, 0, 1e12),
    )
    add(
        "max_decode_tokens_per_second",
        None,
        "max_decode_tokens_per_second(14 * 2**30, 2**30, 3350 * 10**9) (integers)",
        lambda ns: attempt(ns["max_decode_tokens_per_second"], 14 * 2**30, 2**30, 3350 * 10**9),
    )


_softmax_cases()
_sdpa_cases()
_layer_cases()
_mask_cases()
_heads_cases()
_mha_cases()
_cache_cases()
_decode_cases()
_memory_cases()
_answer_cases(("ANSWER_MEMORY_RATIO_SEQ_DOUBLED", "ANSWER_GPT2_SMALL_SCORES_MIB", "ANSWER_LLAMA7B_KV_KIB_PER_TOKEN"))
_tiled_cases()
_answer_cases(("ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN",))
_compute_cases()
_answer_cases(("ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2",))
