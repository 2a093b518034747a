"""Submissions the autograder must tell apart: realistic bugs, correct alternatives, cheats.

Each case starts from the completed solution (tests/builders.py) and edits it the way a
student might. A bug names the part(s) it must lose points in (``loses``) and the parts a
genuine dependency may drag along (``may_lose``); every other part must keep full marks.
An alternative must earn full marks; a cheat must earn nothing.
"""

from dataclasses import dataclass

from builders import append_to_cell, replace_in_cell

PARTS = ("softmax", "sdpa", "mask", "mha", "kvcache", "memory")


def sub(cell_id, old, new):
    return lambda nb: replace_in_cell(nb, cell_id, old, new)


def add(cell_id, code):
    return lambda nb: append_to_cell(nb, cell_id, code)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "bug", "alternative" or "cheat"
    edits: tuple
    loses: frozenset = frozenset()
    may_lose: frozenset = frozenset()
    why: str = ""

    @property
    def starts_blank(self):
        """Cheats start from the blank release: they must earn nothing on their own."""
        return self.kind == "cheat"


def bug(name, why, *edits, loses, may_lose=()):
    return Case(name, "bug", edits, frozenset(loses.split()), frozenset(may_lose), why)


def alternative(name, why, *edits):
    return Case(name, "alternative", edits, why=why)


def cheat(name, why, *edits):
    return Case(name, "cheat", edits, why=why)


BUGS = [
    # -- Part 1: softmax -----------------------------------------------------------------
    bug("softmax_no_max_shift", "np.exp of raw logits overflows at 1e4", add("softmax", '''
def softmax(x, axis=-1):
    exps = np.exp(x)
    return exps / exps.sum(axis=axis, keepdims=True)
'''), loses="softmax"),
    bug("softmax_fixed_axis", "ignores `axis`, always reduces the last axis", add("softmax", '''
def softmax(x, axis=-1):
    x = np.asarray(x)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)
'''), loses="softmax"),
    bug("softmax_nan_on_masked_rows", "subtracts a -inf max: an all -inf slice becomes NaN", add("softmax", '''
def softmax(x, axis=-1):
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)
'''), loses="softmax"),
    bug("softmax_upcasts_float32", "computes in float64 and returns float64", add("softmax", '''
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    shift = np.max(x, axis=axis, keepdims=True)
    shift[~np.isfinite(shift)] = 0
    exps = np.exp(x - shift)
    total = exps.sum(axis=axis, keepdims=True)
    return exps / np.where(total == 0, 1, total)
'''), loses="softmax"),
    # -- Part 1: scaled dot-product attention ---------------------------------------------
    bug("sdpa_divides_by_d_k", "scale 1/d_k instead of 1/sqrt(d_k)",
        sub("sdpa", "(Q / math.sqrt(d_k))", "(Q / d_k)"), loses="sdpa"),
    bug("sdpa_no_scale", "forgets the scale", sub("sdpa", "(Q / math.sqrt(d_k))", "Q"), loses="sdpa"),
    bug("sdpa_scales_by_key_count", "sqrt of the number of keys instead of d_k",
        sub("sdpa", "(Q / math.sqrt(d_k))", "(Q / math.sqrt(K.shape[-2]))"), loses="sdpa"),
    bug("sdpa_softmax_over_queries", "normalises over axis -2 (the queries)",
        sub("sdpa", "weights.sum(axis=-1, keepdims=True)", "weights.sum(axis=-2, keepdims=True)"), loses="sdpa"),
    bug("sdpa_inverted_mask", "treats True as blocked (torch.nn.MultiheadAttention's convention)",
        sub("sdpa", "scores = np.where(np.asarray(mask).astype(bool, copy=False), scores, -np.inf)",
            "scores = np.where(np.asarray(mask).astype(bool, copy=False), -np.inf, scores)"), loses="sdpa"),
    bug("sdpa_mask_after_softmax", "multiplies the weights by the mask without renormalising", add("sdpa", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1])
    weights = softmax(scores, axis=-1)
    if mask is not None:
        weights = weights * np.asarray(mask).astype(weights.dtype)
    return weights @ V, weights
'''), loses="sdpa"),
    bug("sdpa_fills_minus_1e9", "blocks with -1e9: a fully masked row becomes uniform, not zeros",
        sub("sdpa", "scores, -np.inf)", "scores, -1e9)"), loses="sdpa"),
    bug("sdpa_inline_softmax_nan", "its own softmax, without the all-blocked guard", add("sdpa", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = exps / exps.sum(axis=-1, keepdims=True)
    return weights @ V, weights
'''), loses="sdpa"),
    bug("sdpa_upcasts_float32", "divides by np.sqrt(d_k), a float64 NumPy scalar",
        sub("sdpa", "(Q / math.sqrt(d_k))", "(Q / np.sqrt(d_k))"), loses="sdpa"),
    bug("sdpa_transposes_all_axes", "K.T reverses every axis, not the last two",
        sub("sdpa", "@ K.swapaxes(-1, -2)", "@ K.T"), loses="sdpa"),
    bug("sdpa_returns_weights_first", "returns (weights, output)",
        sub("sdpa", "return weights @ V, weights", "return weights, weights @ V"), loses="sdpa"),
    bug("sdpa_multiplies_scores_by_mask", "blocked scores become 0, not -inf",
        sub("sdpa", "scores = np.where(np.asarray(mask).astype(bool, copy=False), scores, -np.inf)",
            "scores = scores * mask"), loses="sdpa"),
    bug("sdpa_layer_always_returns_tuple", "the layer ignores return_attention_weights",
        sub("sdpa-class", "return (output, weights) if return_attention_weights else output",
            "return output, weights"), loses="sdpa"),
    # -- Part 2: masks ---------------------------------------------------------------------
    bug("causal_mask_upper_triangle", "np.triu: queries see the future",
        sub("masks", "np.tril(np.ones((seq_len, seq_len), dtype=bool))",
            "np.triu(np.ones((seq_len, seq_len), dtype=bool))"), loses="mask"),
    bug("causal_mask_without_diagonal", "a token may not attend to itself",
        sub("masks", "np.tril(np.ones((seq_len, seq_len), dtype=bool))",
            "np.tril(np.ones((seq_len, seq_len), dtype=bool), k=-1)"), loses="mask"),
    bug("causal_mask_float", "returns floats, not booleans",
        sub("masks", "np.tril(np.ones((seq_len, seq_len), dtype=bool))", "np.tril(np.ones((seq_len, seq_len)))"),
        loses="mask"),
    bug("padding_mask_off_by_one", "j <= length keeps one padding position",
        sub("masks", "positions[None, :] < lengths[:, None]", "positions[None, :] <= lengths[:, None]"),
        loses="mask"),
    bug("padding_mask_without_broadcast_axes", "returns (B, max_len)",
        sub("masks", "(positions[None, :] < lengths[:, None])[:, None, None, :]",
            "positions[None, :] < lengths[:, None]"), loses="mask"),
    bug("padding_mask_clips_lengths", "no ValueError: clips invalid lengths",
        sub("masks", '''    if np.any(lengths < 0) or np.any(lengths > max_len):
        raise ValueError(f"every length must lie in [0, {max_len}], got {lengths.tolist()}")
''', "    lengths = np.clip(lengths, 0, max_len)\n"), loses="mask"),
    # -- Part 3: multi-head attention ------------------------------------------------------
    bug("mha_reshape_without_transpose", "reshapes (B, L, E) straight to (B, H, L, D)", add("mha", '''
def _split(self, x):
    return x.reshape(x.shape[0], self.num_heads, x.shape[1], self.head_dim)
def _merge(self, x):
    return x.reshape(x.shape[0], x.shape[2], self.embed_dim)
MultiHeadAttention.split_heads = _split
MultiHeadAttention.merge_heads = _merge
'''), loses="mha kvcache"),
    bug("mha_interleaved_heads", "head h takes every H-th column", add("mha", '''
def _split(self, x):
    return x.reshape(x.shape[0], x.shape[1], self.head_dim, self.num_heads).transpose(0, 3, 1, 2)
def _merge(self, x):
    return x.transpose(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], self.embed_dim)
MultiHeadAttention.split_heads = _split
MultiHeadAttention.merge_heads = _merge
'''), loses="mha"),
    bug("mha_no_output_projection", "forgets W_o",
        sub("mha", "output = self.merge_heads(heads) @ self.W_o", "output = self.merge_heads(heads)"),
        loses="mha", may_lose={"kvcache"}),
    bug("mha_projections_kept_from_init", "keeps the matrices of __init__, so replaced weights are ignored",
        sub("mha", "        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n",
            "        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n"
            "        self.projections = (self.W_q, self.W_k, self.W_v, self.W_o)\n"),
        sub("mha", """        q = self.split_heads(query @ self.W_q)
        k = self.split_heads(key @ self.W_k)
        v = self.split_heads(value @ self.W_v)""", """        w_q, w_k, w_v, w_o = self.projections
        q = self.split_heads(query @ w_q)
        k = self.split_heads(key @ w_k)
        v = self.split_heads(value @ w_v)"""),
        loses="mha", may_lose={"kvcache"}),
    bug("mha_one_matrix_for_all", "W_q, W_k, W_v and W_o are the same matrix",
        sub("mha", "        self.W_k = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n"
                   "        self.W_v = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n"
                   "        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n",
            "        self.W_k = self.W_v = self.W_o = self.W_q\n"), loses="mha"),
    bug("mha_ignores_seed", "np.random.default_rng() without the seed",
        sub("mha", "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()"), loses="mha"),
    bug("mha_ignores_mask", "forward never passes the mask on",
        sub("mha", "heads, weights = scaled_dot_product_attention(q, k, v, mask)",
            "heads, weights = scaled_dot_product_attention(q, k, v)"), loses="mha", may_lose={"kvcache"}),
    # -- Part 4: KV cache ------------------------------------------------------------------
    bug("kvcache_keeps_references", "stores the caller's arrays, so later changes leak in", add("kvcache", '''
class KVCache:
    def __init__(self, max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64):
        self.max_seq_len, self.shape = max_seq_len, (batch_size, num_heads, head_dim)
        self.keys, self.values = [], []
    def append(self, new_keys, new_values):
        if new_keys.shape != new_values.shape or (new_keys.shape[0], new_keys.shape[1], new_keys.shape[3]) != self.shape:
            raise ValueError("shape mismatch")
        if len(self) + new_keys.shape[2] > self.max_seq_len:
            raise ValueError("overflow")
        self.keys.append(new_keys)
        self.values.append(new_values)
        return np.concatenate(self.keys, axis=2), np.concatenate(self.values, axis=2)
    def __len__(self):
        return sum(k.shape[2] for k in self.keys)
    def reset(self):
        self.keys, self.values = [], []
'''), loses="kvcache"),
    bug("kvcache_overflow_corrupts_length", "counts the new tokens before checking they fit",
        sub("kvcache", """        end = self.length + new_tokens
        if end > self.max_seq_len:
            raise ValueError(f"cache overflow: {self.length} + {new_tokens} tokens > max_seq_len {self.max_seq_len}")
        self.keys[:, :, self.length:end] = new_keys  # assignment copies into our storage
        self.values[:, :, self.length:end] = new_values
        self.length = end
""", """        self.length += new_tokens
        end = self.length
        self.keys[:, :, end - new_tokens:end] = new_keys
        self.values[:, :, end - new_tokens:end] = new_values
"""), loses="kvcache"),
    bug("kvcache_len_is_capacity", "__len__ returns max_seq_len",
        sub("kvcache", "        return self.length\n", "        return self.max_seq_len\n"), loses="kvcache"),
    bug("kvcache_reset_does_nothing", "reset() forgets to empty the cache",
        sub("kvcache", "    def reset(self):\n        self.length = 0", "    def reset(self):\n        pass"),
        loses="kvcache"),
    bug("kvcache_no_shape_checks", "accepts keys for the wrong batch, heads or length",
        sub("kvcache", '''        if (batch, heads, head_dim) != (self.batch_size, self.num_heads, self.head_dim):
            raise ValueError(f"this cache holds (batch, heads, head_dim) = "
                             f"{(self.batch_size, self.num_heads, self.head_dim)}, "
                             f"got {(batch, heads, head_dim)}")
''', ""),
        sub("kvcache", "if new_keys.shape != new_values.shape or new_keys.ndim != 4:", "if new_keys.ndim != 4:"),
        loses="kvcache"),
    bug("decode_top_left_mask", "causal mask aligned top-left, like create_causal_mask",
        sub("decode-step", "dtype=bool), k=start)", "dtype=bool))"), loses="kvcache"),
    bug("decode_without_mask", "no mask: a prompt's tokens see each other's future",
        sub("decode-step", "scaled_dot_product_attention(q, keys, values, mask)",
            "scaled_dot_product_attention(q, keys, values)"), loses="kvcache"),
    bug("decode_position_after_append", "reads len(cache) after appending",
        sub("decode-step", "    start = len(cache)\n", ""),
        sub("decode-step", "    mask = np.tril(", "    start = len(cache) - new_tokens + 1\n    mask = np.tril("),
        loses="kvcache"),
    bug("decode_keys_from_w_q", "projects the new keys with W_q",
        sub("decode-step", "self.split_heads(x_new @ self.W_k)", "self.split_heads(x_new @ self.W_q)"),
        loses="kvcache"),
    # -- Part 5: memory --------------------------------------------------------------------
    bug("memory_scores_forget_heads", "B * N^2 * itemsize",
        sub("memory-functions", "batch_size * num_heads * seq_len * seq_len * np.dtype(dtype).itemsize",
            "batch_size * seq_len * seq_len * np.dtype(dtype).itemsize"), loses="memory"),
    bug("memory_kv_forgets_values", "counts the keys only",
        sub("memory-functions", "return 2 * num_layers", "return num_layers"), loses="memory"),
    bug("memory_itemsize_always_4", "assumes float32 whatever the dtype",
        sub("memory-functions", "batch_size * num_heads * seq_len * seq_len * np.dtype(dtype).itemsize",
            "batch_size * num_heads * seq_len * seq_len * 4"), loses="memory"),
    bug("memory_budget_rounds_up", "rounds the square root instead of flooring it",
        sub("memory-functions", "return math.isqrt(int(budget_bytes) // per_entry)",
            "return int(round(math.sqrt(budget_bytes / per_entry)))"), loses="memory"),
    bug("memory_exponent_from_endpoints", "slope between the first and last points only",
        sub("memory-functions", '''    slope, _intercept = np.polyfit(np.log(sizes), np.log(costs), 1)
    return float(slope)''', '''    return float(math.log(costs[-1] / costs[0]) / math.log(sizes[-1] / sizes[0]))'''),
        loses="memory"),
    bug("memory_exponent_mixed_logs", "log10 of the costs against ln of the sizes",
        sub("memory-functions", "np.polyfit(np.log(sizes), np.log(costs), 1)", "np.polyfit(np.log(sizes), np.log10(costs), 1)"),
        loses="memory"),
    bug("answer_in_megabytes", "GPT-2 answer in MB (10^6 bytes), not MiB",
        sub("memory-answers", "dtype=np.float32) / 2**20", "dtype=np.float32) / 1e6"), loses="memory"),
    bug("answer_kv_keys_only", "Llama answer forgets the values",
        sub("memory-answers", "kv_cache_bytes(32, 1, 32, 1, 128, dtype=np.float16) / 2**10",
            "kv_cache_bytes(32, 1, 32, 1, 128, dtype=np.float16) / 2**11"), loses="memory"),
    bug("answer_ratio_linear", "thinks doubling the sequence doubles the memory",
        sub("memory-answers", "attention_matrix_bytes(1, 1, 2048) / attention_matrix_bytes(1, 1, 1024)", "2"),
        loses="memory"),
    bug("memory_hard_coded_visible_numbers", "returns the numbers the visible tests expect", add("memory-functions", '''
_seen = {(1, 12, 1024): 50331648, (2, 4, 100): 160000}
def attention_matrix_bytes(batch_size, num_heads, seq_len, dtype=np.float32):
    return _seen.get((batch_size, num_heads, seq_len), 1024)
def max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32):
    return 1024 if budget_bytes == 50331648 else 1023
'''), loses="memory"),
]

ALTERNATIVES = [
    alternative("softmax_logsumexp", "softmax as exp(x - logsumexp(x))", add("softmax", '''
def softmax(x, axis=-1):
    x = np.asarray(x)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isneginf(top), np.zeros_like(top), top)
    with np.errstate(divide="ignore"):
        lse = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    out = np.exp(x - lse)
    return np.where(np.isnan(out), np.zeros_like(out), out)
''')),
    alternative("sdpa_einsum", "einsum for both products", add("sdpa", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = np.einsum("...qd,...kd->...qk", Q, K) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask).astype(bool), scores, -np.inf)
    weights = softmax(scores)
    return np.einsum("...qk,...kd->...qd", weights, V), weights
''')),
    alternative("sdpa_additive_mask", "adds 0 / -inf, cast to the scores' dtype", add("sdpa", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = np.matmul(Q, np.swapaxes(K, -1, -2)) * (1.0 / math.sqrt(Q.shape[-1]))
    if mask is not None:
        bias = np.where(np.asarray(mask) != 0, 0.0, -np.inf).astype(scores.dtype)
        scores = scores + bias
    weights = softmax(scores, axis=-1)
    return np.matmul(weights, V), weights
''')),
    alternative("sdpa_mask_after_softmax_renormalised", "softmax, zero the blocked keys, renormalise", add("sdpa", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    weights = softmax(Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1]))
    if mask is not None:
        weights = weights * (np.asarray(mask) != 0)
        total = weights.sum(axis=-1, keepdims=True)
        weights = weights / np.where(total > 0, total, 1).astype(weights.dtype)
    return weights @ V, weights
''')),
    alternative("masks_by_comparison", "masks from index comparisons, padding by a loop", add("masks", '''
def create_causal_mask(seq_len):
    rows = np.arange(seq_len)
    return rows[:, None] >= rows[None, :]
def create_padding_mask(lengths, max_len):
    out = np.zeros((len(lengths), 1, 1, max_len), dtype=bool)
    for b, n in enumerate(lengths):
        if not 0 <= n <= max_len:
            raise ValueError(f"length {n} outside [0, {max_len}]")
        out[b, 0, 0, :n] = True
    return out
''')),
    alternative("mha_loop_over_heads", "one attention call per head, then concatenate", add("mha", '''
def _forward(self, query, key, value, mask=None, return_attention_weights=False):
    q, k, v = query @ self.W_q, key @ self.W_k, value @ self.W_v
    B, L, S, D = query.shape[0], query.shape[1], key.shape[1], self.head_dim
    full_mask = None if mask is None else np.broadcast_to(mask, (B, self.num_heads, L, S))
    outs, weights = [], []
    for h in range(self.num_heads):
        cols = slice(h * D, (h + 1) * D)
        o, w = scaled_dot_product_attention(q[:, :, cols], k[:, :, cols], v[:, :, cols],
                                            None if full_mask is None else full_mask[:, h])
        outs.append(o)
        weights.append(w)
    output = np.concatenate(outs, axis=-1) @ self.W_o
    return (output, np.stack(weights, axis=1)) if return_attention_weights else output
MultiHeadAttention.forward = _forward
''')),
    alternative("kvcache_growing_by_concatenation", "grows with np.concatenate (each step copies)", add("kvcache", '''
class KVCache:
    def __init__(self, max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64):
        self.max_seq_len = max_seq_len
        self.keys = np.zeros((batch_size, num_heads, 0, head_dim), dtype=dtype)
        self.values = np.zeros_like(self.keys)
    def append(self, new_keys, new_values):
        expected = self.keys.shape[:2] + self.keys.shape[3:]
        if new_keys.shape != new_values.shape or new_keys.shape[:2] + new_keys.shape[3:] != expected:
            raise ValueError(f"expected (batch, heads, head_dim) = {expected}, got {new_keys.shape}")
        if len(self) + new_keys.shape[2] > self.max_seq_len:
            raise ValueError("the cache is full")
        self.keys = np.concatenate([self.keys, new_keys.astype(self.keys.dtype)], axis=2)
        self.values = np.concatenate([self.values, new_values.astype(self.values.dtype)], axis=2)
        return self.keys, self.values
    def __len__(self):
        return self.keys.shape[2]
    def reset(self):
        self.keys, self.values = self.keys[:, :, :0], self.values[:, :, :0]
''')),
    alternative("decode_one_query_at_a_time", "a loop over the new tokens, each against its prefix", add("decode-step", '''
def decode_step(self, x_new, cache):
    start = len(cache)
    keys, values = cache.append(self.split_heads(x_new @ self.W_k), self.split_heads(x_new @ self.W_v))
    q = self.split_heads(x_new @ self.W_q)
    rows = []
    for i in range(x_new.shape[1]):
        out, _ = scaled_dot_product_attention(q[:, :, i:i + 1], keys[:, :, :start + i + 1], values[:, :, :start + i + 1])
        rows.append(out)
    return self.merge_heads(np.concatenate(rows, axis=2)) @ self.W_o
MultiHeadAttention.decode_step = decode_step
''')),
    alternative("memory_in_floating_point", "float square root and log2 least squares", add("memory-functions", '''
def max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32):
    return int(np.floor(np.sqrt(budget_bytes / (batch_size * num_heads * np.dtype(dtype).itemsize))))
def fit_scaling_exponent(sizes, costs):
    x, y = np.log2(np.asarray(sizes, float)), np.log2(np.asarray(costs, float))
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / (x * x).sum())
''')),
]

# Code that replaces every graded function with one returning a lying object, on top of a
# blank submission: whatever the test compares, the object claims to be equal.
_LIAR = '''
class _Anything:
    shape = property(lambda self: self._shape)
    dtype = np.dtype(np.float32)
    def __init__(self, shape=()):
        self._shape = shape
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __lt__
    def __getitem__(self, index): return self
    def __iter__(self): return iter([self, self])
    def __len__(self): return 2
    def __float__(self): return 0.0
    def __bool__(self): return True
    def __abs__(self): return self
    def __sub__(self, other): return self
    __add__ = __mul__ = __truediv__ = __rsub__ = __radd__ = __rmul__ = __and__ = __rand__ = __invert__ = __sub__
    def sum(self, *a, **k): return self
    def __array__(self, dtype=None, copy=None): return np.zeros(self._shape or (1,))
def _liar(*args, **kwargs):
    return _Anything()
softmax = scaled_dot_product_attention = create_causal_mask = create_padding_mask = _liar
attention_matrix_bytes = kv_cache_bytes = max_seq_len_for_budget = fit_scaling_exponent = _liar
'''

_SUBCLASS = '''
class _Agreeable(np.ndarray):
    """Zeros that compare equal to anything and survive NumPy operations."""
    def __eq__(self, other): return np.ones(np.broadcast(self, other).shape, dtype=bool).view(_Agreeable)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.broadcast(*[i for i in inputs if hasattr(i, "shape")]).shape).view(_Agreeable)
    def all(self, *a, **k): return True
    def any(self, *a, **k): return False
def softmax(x, axis=-1):
    return np.zeros(np.shape(x), dtype=np.asarray(x).dtype).view(_Agreeable)
def scaled_dot_product_attention(Q, K, V, mask=None):
    shape = np.broadcast_shapes(Q.shape[:-1], K.shape[:-2] + (Q.shape[-2],))
    return (np.zeros(shape + V.shape[-1:], dtype=Q.dtype).view(_Agreeable),
            np.zeros(shape + K.shape[-2:-1], dtype=Q.dtype).view(_Agreeable))
'''

_PATCH_NUMPY = '''
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
def softmax(x, axis=-1):
    return np.zeros(np.shape(x), dtype=np.asarray(x).dtype)
def scaled_dot_product_attention(Q, K, V, mask=None):
    return Q[..., :V.shape[-1]] * 0, (Q @ K.swapaxes(-1, -2)) * 0
def create_causal_mask(seq_len):
    return np.zeros((seq_len, seq_len), dtype=bool)
'''

CHEATS = [
    cheat("cheat_lying_objects", "every function returns an object whose == always says True", add("softmax", _LIAR)),
    cheat("cheat_ndarray_subclass", "an ndarray subclass whose comparisons always agree", add("softmax", _SUBCLASS)),
    cheat("cheat_patches_numpy", "replaces np.allclose, np.isclose and np.testing, returns zeros",
          add("softmax", _PATCH_NUMPY)),
]

CASES = BUGS + ALTERNATIVES + CHEATS
