"""Submissions the autograder must tell apart: realistic bugs, correct alternatives, cheats.

Each case starts from the completed solution (testbed/courses.py) and edits it the way a
student might. A bug names the part(s) it must lose points in (``loses``) and the parts a
genuine dependency may drag along (``may_lose``); every other part must keep full marks.
An alternative must earn full marks; a cheat must earn nothing.
"""

import copy
from dataclasses import dataclass

from builders import append_to_cell, replace_in_cell
from grading.parts import HAND_GRADED, PART_TITLES

PARTS = tuple(part for part in PART_TITLES if part != HAND_GRADED)  # the autograded parts


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

    def applied_to(self, nb):
        """A copy of ``nb`` with this case's edits made (KeyError if a cell it edits is missing)."""
        nb = copy.deepcopy(nb)
        for edit in self.edits:
            edit(nb)
        return nb

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
    bug(
        "softmax_no_max_shift",
        "np.exp of raw logits overflows at 1e4",
        add(
            "softmax",
            """
def softmax(x, axis=-1):
    exps = np.exp(x)
    return exps / exps.sum(axis=axis, keepdims=True)
""",
        ),
        loses="softmax",
    ),
    bug(
        "softmax_fixed_axis",
        "ignores `axis`, always reduces the last axis",
        add(
            "softmax",
            """
def softmax(x, axis=-1):
    x = np.asarray(x)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)
""",
        ),
        loses="softmax",
    ),
    bug(
        "softmax_nan_on_masked_rows",
        "subtracts a -inf max: an all -inf slice becomes NaN",
        add(
            "softmax",
            """
def softmax(x, axis=-1):
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)
""",
        ),
        loses="softmax",
    ),
    bug(
        "softmax_upcasts_float32",
        "computes in float64 and returns float64",
        add(
            "softmax",
            """
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    shift = np.max(x, axis=axis, keepdims=True)
    shift[~np.isfinite(shift)] = 0
    exps = np.exp(x - shift)
    total = exps.sum(axis=axis, keepdims=True)
    return exps / np.where(total == 0, 1, total)
""",
        ),
        loses="softmax",
    ),
    # -- Part 1: scaled dot-product attention ---------------------------------------------
    bug(
        "sdpa_divides_by_d_k",
        "scale 1/d_k instead of 1/sqrt(d_k)",
        sub("sdpa", "(Q / math.sqrt(d_k))", "(Q / d_k)"),
        loses="sdpa",
    ),
    bug("sdpa_no_scale", "forgets the scale", sub("sdpa", "(Q / math.sqrt(d_k))", "Q"), loses="sdpa"),
    bug(
        "sdpa_scales_by_key_count",
        "sqrt of the number of keys instead of d_k",
        sub("sdpa", "(Q / math.sqrt(d_k))", "(Q / math.sqrt(K.shape[-2]))"),
        loses="sdpa",
    ),
    bug(
        "sdpa_softmax_over_queries",
        "normalises over axis -2 (the queries)",
        sub("sdpa", "weights.sum(axis=-1, keepdims=True)", "weights.sum(axis=-2, keepdims=True)"),
        loses="sdpa",
    ),
    bug(
        "sdpa_inverted_mask",
        "treats True as blocked (torch.nn.MultiheadAttention's convention)",
        sub(
            "sdpa",
            "scores = np.where(np.asarray(mask).astype(bool, copy=False), scores, -np.inf)",
            "scores = np.where(np.asarray(mask).astype(bool, copy=False), -np.inf, scores)",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_mask_after_softmax",
        "multiplies the weights by the mask without renormalising",
        add(
            "sdpa",
            """
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1])
    weights = softmax(scores, axis=-1)
    if mask is not None:
        weights = weights * np.asarray(mask).astype(weights.dtype)
    return weights @ V, weights
""",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_fills_minus_1e9",
        "blocks with -1e9: a fully masked row becomes uniform, not zeros",
        sub("sdpa", "scores, -np.inf)", "scores, -1e9)"),
        loses="sdpa",
    ),
    bug(
        "sdpa_inline_softmax_nan",
        "its own softmax, without the all-blocked guard",
        add(
            "sdpa",
            """
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = exps / exps.sum(axis=-1, keepdims=True)
    return weights @ V, weights
""",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_upcasts_float32",
        "divides by np.sqrt(d_k), a float64 NumPy scalar",
        sub("sdpa", "(Q / math.sqrt(d_k))", "(Q / np.sqrt(d_k))"),
        loses="sdpa",
    ),
    bug(
        "sdpa_transposes_all_axes",
        "K.T reverses every axis, not the last two",
        sub("sdpa", "@ K.swapaxes(-1, -2)", "@ K.T"),
        loses="sdpa",
    ),
    bug(
        "sdpa_returns_weights_first",
        "returns (weights, output)",
        sub("sdpa", "return weights @ V, weights", "return weights, weights @ V"),
        loses="sdpa",
    ),
    bug(
        "sdpa_multiplies_scores_by_mask",
        "blocked scores become 0, not -inf",
        sub(
            "sdpa",
            "scores = np.where(np.asarray(mask).astype(bool, copy=False), scores, -np.inf)",
            "scores = scores * mask",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_layer_always_returns_tuple",
        "the layer ignores return_attention_weights",
        sub("sdpa-class", "return (output, weights) if return_attention_weights else output", "return output, weights"),
        loses="sdpa",
    ),
    bug(
        "sdpa_layer_returns_weights_by_default",
        "forward returns (output, weights) unless told otherwise",
        sub(
            "sdpa-class",
            "    def forward(self, query, key, value, mask=None, return_attention_weights=False):",
            "    def forward(self, query, key, value, mask=None, return_attention_weights=True):",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_layer_masks_itself",
        "the layer computes attention itself and blocks with -1e6",
        add(
            "sdpa-class",
            """
def _forward(self, query, key, value, mask=None, return_attention_weights=False):
    scores = query @ key.swapaxes(-1, -2) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask) != 0, scores, -1e6)
    weights = softmax(scores)
    output = weights @ value
    return (output, weights) if return_attention_weights else output
ScaledDotProductAttention.forward = _forward
""",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_layer_call_swaps_key_and_value",
        "__call__ passes value where key belongs",
        sub(
            "sdpa-class",
            "        return self.forward(query, key, value, mask=mask,",
            "        return self.forward(query, value, key, mask=mask,",
        ),
        loses="sdpa",
    ),
    bug(
        "sdpa_layer_call_drops_flag",
        "__call__ never passes return_attention_weights on",
        sub(
            "sdpa-class",
            """        return self.forward(query, key, value, mask=mask,
                            return_attention_weights=return_attention_weights)""",
            "        return self.forward(query, key, value, mask=mask)",
        ),
        loses="sdpa",
    ),
    # -- Part 2: masks ---------------------------------------------------------------------
    bug(
        "causal_mask_upper_triangle",
        "np.triu: queries see the future",
        sub(
            "masks",
            "np.tril(np.ones((seq_len, seq_len), dtype=bool))",
            "np.triu(np.ones((seq_len, seq_len), dtype=bool))",
        ),
        loses="mask",
    ),
    bug(
        "causal_mask_without_diagonal",
        "a token may not attend to itself",
        sub(
            "masks",
            "np.tril(np.ones((seq_len, seq_len), dtype=bool))",
            "np.tril(np.ones((seq_len, seq_len), dtype=bool), k=-1)",
        ),
        loses="mask",
    ),
    bug(
        "causal_mask_float",
        "returns floats, not booleans",
        sub("masks", "np.tril(np.ones((seq_len, seq_len), dtype=bool))", "np.tril(np.ones((seq_len, seq_len)))"),
        loses="mask",
    ),
    bug(
        "padding_mask_off_by_one",
        "j <= length keeps one padding position",
        sub("masks", "positions[None, :] < lengths[:, None]", "positions[None, :] <= lengths[:, None]"),
        loses="mask",
    ),
    bug(
        "padding_mask_without_broadcast_axes",
        "returns (B, max_len)",
        sub(
            "masks",
            "(positions[None, :] < lengths[:, None])[:, None, None, :]",
            "positions[None, :] < lengths[:, None]",
        ),
        loses="mask",
    ),
    bug(
        "padding_mask_clips_lengths",
        "no ValueError: clips invalid lengths",
        sub(
            "masks",
            """    if np.any(lengths < 0) or np.any(lengths > max_len):
        raise ValueError(f"every length must lie in [0, {max_len}], got {lengths.tolist()}")
""",
            "    lengths = np.clip(lengths, 0, max_len)\n",
        ),
        loses="mask",
    ),
    # -- Part 3: what attention can learn -------------------------------------------------
    bug(
        "heads_wrong_direction",
        "query i points at key i + 1, which the causal mask blocks",
        sub(
            "heads",
            "    W_q[1:, :-1] = strength * np.eye(seq_len - 1)  # query i points at e_{i-1}",
            "    W_q[:-1, 1:] = strength * np.eye(seq_len - 1)",
        ),
        loses="heads",
    ),
    bug(
        "heads_current_token",
        "a current-token head: query i points at key i",
        sub(
            "heads",
            "    W_q[1:, :-1] = strength * np.eye(seq_len - 1)  # query i points at e_{i-1}",
            "    W_q[:, :] = strength * np.eye(seq_len)",
        ),
        loses="heads",
    ),
    bug(
        "heads_fixed_strength",
        "a strength that works for 6 tokens but not for long sequences",
        sub("heads", "    strength = math.sqrt(d) * (math.log(9 * max(seq_len - 1, 1)) + 1.0)", "    strength = 10.0"),
        loses="heads",
    ),
    bug(
        "heads_forgets_the_scale",
        "plans the score without the 1/sqrt(d) that attention divides by",
        sub(
            "heads",
            "    strength = math.sqrt(d) * (math.log(9 * max(seq_len - 1, 1)) + 1.0)",
            "    strength = math.log(9 * max(seq_len - 1, 1)) + 1.0",
        ),
        loses="heads",
    ),
    # -- Part 4: multi-head attention ------------------------------------------------------
    bug(
        "mha_reshape_without_transpose",
        "reshapes (B, L, E) straight to (B, H, L, D)",
        add(
            "mha",
            """
def _split(self, x, num_heads=None):
    heads = self.num_heads if num_heads is None else num_heads
    return x.reshape(x.shape[0], heads, x.shape[1], self.head_dim)
def _merge(self, x):
    return x.reshape(x.shape[0], x.shape[2], self.embed_dim)
MultiHeadAttention.split_heads = _split
MultiHeadAttention.merge_heads = _merge
""",
        ),
        loses="mha kvcache gqa",
    ),
    bug(
        "mha_interleaved_heads",
        "head h takes every H-th column",
        add(
            "mha",
            """
def _split(self, x, num_heads=None):
    heads = self.num_heads if num_heads is None else num_heads
    return x.reshape(x.shape[0], x.shape[1], self.head_dim, heads).transpose(0, 3, 1, 2)
def _merge(self, x):
    return x.transpose(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], self.embed_dim)
MultiHeadAttention.split_heads = _split
MultiHeadAttention.merge_heads = _merge
""",
        ),
        loses="mha",
        may_lose={"kvcache", "gqa"},
    ),
    bug(
        "mha_no_output_projection",
        "forgets W_o",
        sub("mha", "output = self.merge_heads(heads) @ self.W_o", "output = self.merge_heads(heads)"),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_projections_kept_from_init",
        "keeps the matrices of __init__, so replaced weights are ignored",
        sub(
            "mha",
            "        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n",
            "        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n"
            "        self.projections = (self.W_q, self.W_k, self.W_v, self.W_o)\n",
        ),
        sub(
            "mha",
            "        q = self.split_heads(query @ self.W_q)\n",
            "        q = self.split_heads(query @ self.projections[0])\n",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_one_matrix_for_all",
        "W_q, W_k, W_v and W_o are the same matrix",
        sub(
            "mha",
            "        self.W_k = rng.normal(0.0, scale, size=(embed_dim, kv_dim))\n"
            "        self.W_v = rng.normal(0.0, scale, size=(embed_dim, kv_dim))\n"
            "        self.W_o = rng.normal(0.0, scale, size=(embed_dim, embed_dim))\n",
            "        self.W_o = self.W_q\n        self.W_k = self.W_v = self.W_q[:, :kv_dim]\n",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_ignores_seed",
        "np.random.default_rng() without the seed",
        sub("mha", "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()"),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_seed_only_for_w_q",
        "W_k, W_v and W_o come from a generator with a fixed seed",
        sub(
            "mha",
            "        self.W_k = rng.normal(0.0, scale, size=(embed_dim, kv_dim))\n",
            "        rng = np.random.default_rng(0)\n        self.W_k = rng.normal(0.0, scale, size=(embed_dim, kv_dim))\n",
        ),
        loses="mha",
    ),
    bug(
        "mha_unscaled_weights",
        "standard normal weights, without the 1/sqrt(E) scale",
        sub("mha", "scale = 1.0 / math.sqrt(embed_dim)", "scale = 1.0"),
        loses="mha",
    ),
    bug(
        "mha_rejects_one_head",
        "a single head is refused",
        sub(
            "mha",
            "if num_heads <= 0 or embed_dim % num_heads != 0:",
            "if num_heads <= 1 or embed_dim % num_heads != 0:",
        ),
        loses="mha",
    ),
    bug(
        "mha_ignores_mask",
        "forward never passes the mask on",
        sub(
            "mha",
            "heads, weights = scaled_dot_product_attention(q, k, v, mask)",
            "heads, weights = scaled_dot_product_attention(q, k, v)",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_values_from_key",
        "projects the values from `key` and ignores `value`",
        sub(
            "mha",
            "np.repeat(self.split_heads(value @ self.W_v, self.num_kv_heads), group, axis=1)",
            "np.repeat(self.split_heads(key @ self.W_v, self.num_kv_heads), group, axis=1)",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_own_attention_fills_minus_1e9",
        "its own attention inside forward, blocking with -1e9: fully "
        "blocked queries get uniform weights and a non-zero output",
        sub(
            "mha",
            """        heads, weights = scaled_dot_product_attention(q, k, v, mask)
""",
            """        scores = q @ k.swapaxes(-1, -2) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = np.where(np.asarray(mask) != 0, scores, -1e9)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = weights / weights.sum(axis=-1, keepdims=True)
        heads = weights @ v
""",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_own_attention_scales_by_embed_dim",
        "its own attention inside forward, scaled by sqrt(E) instead of sqrt(head_dim)",
        sub(
            "mha",
            """        heads, weights = scaled_dot_product_attention(q, k, v, mask)
""",
            """        scores = q @ k.swapaxes(-1, -2) / math.sqrt(self.embed_dim)
        if mask is not None:
            scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
        weights = softmax(scores)
        heads = weights @ v
""",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    bug(
        "mha_call_drops_flag",
        "__call__ never passes return_attention_weights on",
        sub(
            "mha",
            """        return self.forward(query, key, value, mask=mask,
                            return_attention_weights=return_attention_weights)""",
            "        return self.forward(query, key, value, mask=mask)",
        ),
        loses="mha",
        may_lose={"gqa"},
    ),
    # -- Part 5: KV cache ------------------------------------------------------------------
    bug(
        "kvcache_keeps_references",
        "stores the caller's arrays, so later changes leak in",
        add(
            "kvcache",
            """
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
""",
        ),
        loses="kvcache",
    ),
    bug(
        "kvcache_overflow_corrupts_length",
        "counts the new tokens before checking they fit",
        sub(
            "kvcache",
            """        end = self.length + new_tokens
        if end > self.max_seq_len:
            raise ValueError(f"cache overflow: {self.length} + {new_tokens} tokens > max_seq_len {self.max_seq_len}")
        self.keys[:, :, self.length:end] = new_keys  # assignment copies into our storage
        self.values[:, :, self.length:end] = new_values
        self.length = end
""",
            """        self.length += new_tokens
        end = self.length
        self.keys[:, :, end - new_tokens:end] = new_keys
        self.values[:, :, end - new_tokens:end] = new_values
""",
        ),
        loses="kvcache",
    ),
    bug(
        "kvcache_no_overflow_check",
        "never checks that new tokens fit (NumPy only complains when a slice comes up short)",
        sub(
            "kvcache",
            """        if end > self.max_seq_len:
            raise ValueError(f"cache overflow: {self.length} + {new_tokens} tokens > max_seq_len {self.max_seq_len}")
""",
            "",
        ),
        loses="kvcache",
    ),
    bug(
        "kvcache_values_keep_their_dtype",
        "stores the values in whatever dtype they come in",
        add(
            "kvcache",
            """
_append = KVCache.append
def _append_values_as_given(self, new_keys, new_values):
    keys, _ = _append(self, new_keys, new_values)
    self.given_values = new_values if len(self) == new_values.shape[2] else np.concatenate([self.given_values, new_values], axis=2)
    return keys, self.given_values
KVCache.append = _append_values_as_given
""",
        ),
        loses="kvcache",
    ),
    bug(
        "kvcache_len_is_capacity",
        "__len__ returns max_seq_len",
        sub("kvcache", "        return self.length\n", "        return self.max_seq_len\n"),
        loses="kvcache",
        may_lose={"gqa"},
    ),
    bug(
        "kvcache_reset_does_nothing",
        "reset() forgets to empty the cache",
        sub("kvcache", "    def reset(self):\n        self.length = 0", "    def reset(self):\n        pass"),
        loses="kvcache",
    ),
    bug(
        "kvcache_no_shape_checks",
        "accepts keys for the wrong batch, heads or length",
        sub(
            "kvcache",
            """        if (batch, heads, head_dim) != (self.batch_size, self.num_heads, self.head_dim):
            raise ValueError(f"this cache holds (batch, heads, head_dim) = "
                             f"{(self.batch_size, self.num_heads, self.head_dim)}, "
                             f"got {(batch, heads, head_dim)}")
""",
            "",
        ),
        sub("kvcache", "if new_keys.shape != new_values.shape or new_keys.ndim != 4:", "if new_keys.ndim != 4:"),
        loses="kvcache",
    ),
    bug(
        "decode_top_left_mask",
        "causal mask aligned top-left, like create_causal_mask",
        sub("decode-step", "dtype=bool), k=start)", "dtype=bool))"),
        loses="kvcache",
        may_lose={"gqa"},
    ),
    bug(
        "decode_without_mask",
        "no mask: a prompt's tokens see each other's future",
        sub("decode-step", "np.repeat(values, group, axis=1), mask)", "np.repeat(values, group, axis=1))"),
        loses="kvcache",
        may_lose={"gqa"},
    ),
    bug(
        "decode_position_after_append",
        "reads len(cache) after appending",
        sub("decode-step", "    start = len(cache)\n", ""),
        sub("decode-step", "    mask = np.tril(", "    start = len(cache) - new_tokens + 1\n    mask = np.tril("),
        loses="kvcache",
        may_lose={"gqa"},
    ),
    bug(
        "decode_keys_from_w_q",
        "projects the new keys with W_q",
        sub(
            "decode-step",
            "self.split_heads(x_new @ self.W_k, self.num_kv_heads)",
            "self.split_heads(x_new @ self.W_q[:, :self.W_k.shape[1]], self.num_kv_heads)",
        ),
        loses="kvcache",
        may_lose={"gqa"},
    ),
    # -- Part 6: memory --------------------------------------------------------------------
    bug(
        "memory_scores_forget_heads",
        "B * N^2 * itemsize",
        sub(
            "memory-functions",
            "batch_size * num_heads * seq_len * seq_len * np.dtype(dtype).itemsize",
            "batch_size * seq_len * seq_len * np.dtype(dtype).itemsize",
        ),
        loses="memory",
    ),
    bug(
        "memory_kv_forgets_values",
        "counts the keys only",
        sub("memory-functions", "return 2 * num_layers", "return num_layers"),
        loses="memory",
        may_lose={"gqa"},
    ),  # its Llama-2-70B answer, computed with it, is wrong too
    bug(
        "memory_itemsize_always_4",
        "assumes float32 whatever the dtype",
        sub(
            "memory-functions",
            "batch_size * num_heads * seq_len * seq_len * np.dtype(dtype).itemsize",
            "batch_size * num_heads * seq_len * seq_len * 4",
        ),
        loses="memory",
    ),
    bug(
        "memory_budget_rounds_up",
        "rounds the square root instead of flooring it",
        sub(
            "memory-functions",
            "return math.isqrt(int(budget_bytes) // per_entry)",
            "return int(round(math.sqrt(budget_bytes / per_entry)))",
        ),
        loses="memory",
    ),
    bug(
        "memory_exponent_from_endpoints",
        "slope between the first and last points only",
        sub(
            "memory-functions",
            """    slope, _intercept = np.polyfit(np.log(sizes), np.log(costs), 1)
    return float(slope)""",
            """    return float(math.log(costs[-1] / costs[0]) / math.log(sizes[-1] / sizes[0]))""",
        ),
        loses="memory",
    ),
    bug(
        "memory_exponent_mixed_logs",
        "log10 of the costs against ln of the sizes",
        sub(
            "memory-functions",
            "np.polyfit(np.log(sizes), np.log(costs), 1)",
            "np.polyfit(np.log(sizes), np.log10(costs), 1)",
        ),
        loses="memory",
    ),
    bug(
        "answer_in_megabytes",
        "GPT-2 answer in MB (10^6 bytes), not MiB",
        sub("memory-answers", "dtype=np.float32) / 2**20", "dtype=np.float32) / 1e6"),
        loses="memory",
    ),
    bug(
        "answer_kv_keys_only",
        "Llama answer forgets the values",
        sub(
            "memory-answers",
            "kv_cache_bytes(32, 1, 32, 1, 128, dtype=np.float16) / 2**10",
            "kv_cache_bytes(32, 1, 32, 1, 128, dtype=np.float16) / 2**11",
        ),
        loses="memory",
    ),
    bug(
        "answer_ratio_linear",
        "thinks doubling the sequence doubles the memory",
        sub("memory-answers", "attention_matrix_bytes(1, 1, 2048) / attention_matrix_bytes(1, 1, 1024)", "2"),
        loses="memory",
    ),
    bug(
        "memory_hard_coded_visible_numbers",
        "returns the numbers the visible tests expect",
        add(
            "memory-functions",
            """
_seen = {(1, 12, 1024): 50331648, (2, 4, 100): 160000}
def attention_matrix_bytes(batch_size, num_heads, seq_len, dtype=np.float32):
    return _seen.get((batch_size, num_heads, seq_len), 1024)
def max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32):
    return 1024 if budget_bytes == 50331648 else 1023
""",
        ),
        loses="memory",
    ),
    # -- Part 7.1: tiled attention ---------------------------------------------------------
    bug(
        "tiled_output_not_rescaled",
        "the running output is not rescaled when a block raises the maximum",
        sub(
            "tiled",
            "running_out = running_out * rescale + weights @ V[..., block, :]",
            "running_out = running_out + weights @ V[..., block, :]",
        ),
        loses="tiled",
    ),
    bug(
        "tiled_sum_not_rescaled",
        "the running sum is not rescaled when a block raises the maximum",
        sub(
            "tiled",
            "running_sum = running_sum * rescale + weights.sum(axis=-1, keepdims=True)",
            "running_sum = running_sum + weights.sum(axis=-1, keepdims=True)",
        ),
        loses="tiled",
    ),
    bug(
        "tiled_drops_last_short_block",
        "walks only the full blocks: the last, shorter block is dropped",
        sub("tiled", "for start in range(0, S, block_size):", "for start in range(0, S - block_size + 1, block_size):"),
        loses="tiled",
    ),
    bug(
        "tiled_nan_for_fully_masked_rows",
        "shifts by the running maximum even while it is -inf",
        sub(
            "tiled",
            "shift = np.where(np.isfinite(new_max), new_max, 0)  # no key allowed yet: e^(-inf - 0) = 0",
            "shift = new_max",
        ),
        loses="tiled",
    ),
    bug(
        "tiled_builds_the_full_matrix",
        '"tiled" in name only: calls the full attention',
        add(
            "tiled",
            """
def tiled_attention(Q, K, V, mask=None, block_size=64):
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    return scaled_dot_product_attention(Q, K, V, mask)[0]
""",
        ),
        loses="tiled",
    ),
    bug(
        "tiled_no_block_size_check",
        "no ValueError: a negative block_size walks no block at all",
        sub(
            "tiled",
            """    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
""",
            "",
        ),
        loses="tiled",
    ),
    bug(
        "tiled_upcasts_float32",
        "scales the queries by np.sqrt, a float64 NumPy scalar, and returns what that gives",
        sub("tiled", "q = Q / math.sqrt(Q.shape[-1])", "q = Q / np.sqrt(Q.shape[-1])"),
        sub(
            "tiled",
            "running_max = np.full(batch + (L, 1), -np.inf, dtype=dtype)",
            "running_max = np.full(batch + (L, 1), -np.inf)",
        ),
        sub(
            "tiled",
            "return (running_out / np.where(running_sum > 0, running_sum, 1)).astype(dtype, copy=False)",
            "return running_out / np.where(running_sum > 0, running_sum, 1)",
        ),
        loses="tiled",
    ),
    # -- Part 7.2: grouped-query attention ---------------------------------------------------
    bug(
        "gqa_tile_instead_of_repeat",
        "shares key/value heads with np.tile: query head h reads h % H_kv",
        sub(
            "mha",
            "k = np.repeat(self.split_heads(key @ self.W_k, self.num_kv_heads), group, axis=1)",
            "k = np.tile(self.split_heads(key @ self.W_k, self.num_kv_heads), (1, group, 1, 1))",
        ),
        sub(
            "mha",
            "v = np.repeat(self.split_heads(value @ self.W_v, self.num_kv_heads), group, axis=1)",
            "v = np.tile(self.split_heads(value @ self.W_v, self.num_kv_heads), (1, group, 1, 1))",
        ),
        sub("decode-step", "np.repeat(keys, group, axis=1)", "np.tile(keys, (1, group, 1, 1))"),
        sub("decode-step", "np.repeat(values, group, axis=1)", "np.tile(values, (1, group, 1, 1))"),
        loses="gqa",
    ),
    bug(
        "gqa_full_width_keys",
        "accepts num_kv_heads but keeps W_k and W_v (E, E)",
        sub("mha", "kv_dim = num_kv_heads * self.head_dim", "kv_dim = embed_dim"),
        loses="gqa",
    ),
    bug(
        "gqa_no_divisibility_check",
        "no ValueError when num_heads is not a multiple of num_kv_heads",
        sub(
            "mha",
            """        if num_kv_heads <= 0 or num_heads % num_kv_heads != 0:
            raise ValueError(f"num_heads ({num_heads}) must be a multiple of num_kv_heads ({num_kv_heads})")
""",
            "",
        ),
        loses="gqa",
    ),
    bug(
        "gqa_cache_holds_repeated_heads",
        "repeats the key/value heads before caching them",
        sub(
            "decode-step",
            """    keys, values = cache.append(self.split_heads(x_new @ self.W_k, self.num_kv_heads),
                                self.split_heads(x_new @ self.W_v, self.num_kv_heads))""",
            """    keys, values = cache.append(np.repeat(self.split_heads(x_new @ self.W_k, self.num_kv_heads), group, axis=1),
                                np.repeat(self.split_heads(x_new @ self.W_v, self.num_kv_heads), group, axis=1))
    group = 1""",
        ),
        loses="gqa",
    ),
    bug(
        "gqa_answer_without_grouping",
        "Llama-2-70B answer with 64 key/value heads",
        sub(
            "gqa-answer",
            "kv_cache_bytes(80, 1, 8, 1, 128, dtype=np.float16)",
            "kv_cache_bytes(80, 1, 64, 1, 128, dtype=np.float16)",
        ),
        loses="gqa",
    ),
    bug(
        "mha_written_before_part_7",
        "a complete multi-head attention and decode_step that know nothing of num_kv_heads",
        add(
            "mha",
            """
class MultiHeadAttention:
    def __init__(self, embed_dim, num_heads, seed=None):
        if num_heads <= 0 or embed_dim % num_heads != 0:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        rng = np.random.default_rng(seed)
        self.W_q, self.W_k, self.W_v, self.W_o = (rng.normal(0.0, 1 / math.sqrt(embed_dim), size=(embed_dim, embed_dim))
                                                  for _ in range(4))
    def split_heads(self, x):
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
    def merge_heads(self, x):
        return x.transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], self.embed_dim)
    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        q, k, v = (self.split_heads(t @ w) for t, w in ((query, self.W_q), (key, self.W_k), (value, self.W_v)))
        heads, weights = scaled_dot_product_attention(q, k, v, mask)
        output = self.merge_heads(heads) @ self.W_o
        return (output, weights) if return_attention_weights else output
    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask=mask, return_attention_weights=return_attention_weights)
""",
        ),
        add(
            "decode-step",
            """
def decode_step(self, x_new, cache):
    start, new_tokens = len(cache), x_new.shape[1]
    keys, values = cache.append(self.split_heads(x_new @ self.W_k), self.split_heads(x_new @ self.W_v))
    mask = np.tril(np.ones((new_tokens, start + new_tokens), dtype=bool), k=start)
    heads, _ = scaled_dot_product_attention(self.split_heads(x_new @ self.W_q), keys, values, mask)
    return self.merge_heads(heads) @ self.W_o
MultiHeadAttention.decode_step = decode_step
""",
        ),
        loses="gqa",
    ),
    # -- Part 7.3: compute and bandwidth -----------------------------------------------------
    bug(
        "compute_multiply_add_as_one",
        "counts a multiply-add as one FLOP",
        sub(
            "compute-functions",
            "return 4 * batch_size * num_heads * seq_len * seq_len * head_dim",
            "return 2 * batch_size * num_heads * seq_len * seq_len * head_dim",
        ),
        sub("compute-functions", "return 4 * 2 * batch_size", "return 4 * batch_size"),
        loses="compute",
    ),
    bug(
        "compute_three_projections",
        "forgets the output projection",
        sub("compute-functions", "return 4 * 2 * batch_size", "return 3 * 2 * batch_size"),
        loses="compute",
    ),
    bug(
        "compute_decode_forgets_the_cache",
        "the decode bound reads the weights only",
        sub(
            "compute-functions",
            "return bandwidth_bytes_per_second / (weight_bytes + kv_cache_bytes)",
            "return bandwidth_bytes_per_second / weight_bytes",
        ),
        loses="compute",
    ),
    bug(
        "compute_crossover_at_embed_dim",
        "the crossover answer is E, not 2E",
        sub(
            "compute-answer",
            "ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = 2 * 768",
            "ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = 768",
        ),
        loses="compute",
    ),
    bug(
        "compute_one_product",
        "counts Q K^T but not weights @ V",
        sub(
            "compute-functions",
            "return 4 * batch_size * num_heads * seq_len * seq_len * head_dim",
            "return 2 * batch_size * num_heads * seq_len * seq_len * head_dim",
        ),
        loses="compute",
    ),
]

ALTERNATIVES = [
    alternative(
        "softmax_logsumexp",
        "softmax as exp(x - logsumexp(x))",
        add(
            "softmax",
            """
def softmax(x, axis=-1):
    x = np.asarray(x)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isneginf(top), np.zeros_like(top), top)
    with np.errstate(divide="ignore"):
        lse = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    out = np.exp(x - lse)
    return np.where(np.isnan(out), np.zeros_like(out), out)
""",
        ),
    ),
    alternative(
        "sdpa_einsum",
        "einsum for both products",
        add(
            "sdpa",
            """
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = np.einsum("...qd,...kd->...qk", Q, K) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask).astype(bool), scores, -np.inf)
    weights = softmax(scores)
    return np.einsum("...qk,...kd->...qd", weights, V), weights
""",
        ),
    ),
    alternative(
        "sdpa_additive_mask",
        "adds 0 / -inf, cast to the scores' dtype",
        add(
            "sdpa",
            """
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = np.matmul(Q, np.swapaxes(K, -1, -2)) * (1.0 / math.sqrt(Q.shape[-1]))
    if mask is not None:
        bias = np.where(np.asarray(mask) != 0, 0.0, -np.inf).astype(scores.dtype)
        scores = scores + bias
    weights = softmax(scores, axis=-1)
    return np.matmul(weights, V), weights
""",
        ),
    ),
    alternative(
        "sdpa_mask_after_softmax_renormalised",
        "softmax, zero the blocked keys, renormalise",
        add(
            "sdpa",
            """
def scaled_dot_product_attention(Q, K, V, mask=None):
    weights = softmax(Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1]))
    if mask is not None:
        weights = weights * (np.asarray(mask) != 0)
        total = weights.sum(axis=-1, keepdims=True)
        weights = weights / np.where(total > 0, total, 1).astype(weights.dtype)
    return weights @ V, weights
""",
        ),
    ),
    alternative(
        "masks_by_comparison",
        "masks from index comparisons, padding by a loop",
        add(
            "masks",
            """
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
""",
        ),
    ),
    alternative(
        "mha_loop_over_heads",
        "one attention call per head, then concatenate (query head h reads key/value head h // group)",
        add(
            "mha",
            """
def _forward(self, query, key, value, mask=None, return_attention_weights=False):
    q, k, v = query @ self.W_q, key @ self.W_k, value @ self.W_v
    B, L, S, D = query.shape[0], query.shape[1], key.shape[1], self.head_dim
    group = self.num_heads // self.num_kv_heads
    full_mask = None if mask is None else np.broadcast_to(mask, (B, self.num_heads, L, S))
    outs, weights = [], []
    for h in range(self.num_heads):
        g = h // group
        o, w = scaled_dot_product_attention(q[:, :, h * D:(h + 1) * D], k[:, :, g * D:(g + 1) * D], v[:, :, g * D:(g + 1) * D],
                                            None if full_mask is None else full_mask[:, h])
        outs.append(o)
        weights.append(w)
    output = np.concatenate(outs, axis=-1) @ self.W_o
    return (output, np.stack(weights, axis=1)) if return_attention_weights else output
MultiHeadAttention.forward = _forward
""",
        ),
    ),
    alternative(
        "kvcache_growing_by_concatenation",
        "grows with np.concatenate (each step copies)",
        add(
            "kvcache",
            """
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
""",
        ),
    ),
    alternative(
        "decode_one_query_at_a_time",
        "a loop over the new tokens, each against its prefix",
        add(
            "decode-step",
            """
def decode_step(self, x_new, cache):
    start = len(cache)
    keys, values = cache.append(self.split_heads(x_new @ self.W_k, self.num_kv_heads),
                                self.split_heads(x_new @ self.W_v, self.num_kv_heads))
    group = self.num_heads // self.num_kv_heads
    keys, values = np.repeat(keys, group, axis=1), np.repeat(values, group, axis=1)
    q = self.split_heads(x_new @ self.W_q)
    rows = []
    for i in range(x_new.shape[1]):
        out, _ = scaled_dot_product_attention(q[:, :, i:i + 1], keys[:, :, :start + i + 1], values[:, :, :start + i + 1])
        rows.append(out)
    return self.merge_heads(np.concatenate(rows, axis=2)) @ self.W_o
MultiHeadAttention.decode_step = decode_step
""",
        ),
    ),
    alternative(
        "memory_in_floating_point",
        "float square root and log2 least squares",
        add(
            "memory-functions",
            """
def max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32):
    return int(np.floor(np.sqrt(budget_bytes / (batch_size * num_heads * np.dtype(dtype).itemsize))))
def fit_scaling_exponent(sizes, costs):
    x, y = np.log2(np.asarray(sizes, float)), np.log2(np.asarray(costs, float))
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / (x * x).sum())
""",
        ),
    ),
    alternative(
        "heads_strength_split_between_projections",
        "the strength split between W_q and W_k, one spare dimension",
        add(
            "heads",
            """
def previous_token_projections(seq_len):
    d = seq_len + 1
    root = (math.sqrt(d) * (math.log(9 * seq_len) + 2.0)) ** 0.5
    W_k = np.zeros((seq_len, d))
    W_k[:, :seq_len] = root * np.eye(seq_len)
    W_q = np.zeros((seq_len, d))
    for i in range(1, seq_len):
        W_q[i, i - 1] = root
    return W_q, W_k
""",
        ),
    ),
    alternative(
        "heads_huge_strength",
        "one very large score for the previous key",
        add(
            "heads",
            """
def previous_token_projections(seq_len):
    W_q = np.zeros((seq_len, seq_len))
    W_q[np.arange(1, seq_len), np.arange(seq_len - 1)] = 1000.0 * math.sqrt(seq_len)
    return W_q, np.eye(seq_len)
""",
        ),
    ),
    alternative(
        "tiled_logsumexp",
        "keeps a running log-sum-exp and the normalised output",
        add(
            "tiled",
            """
def tiled_attention(Q, K, V, mask=None, block_size=64):
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    dtype = np.result_type(Q, K, V)
    L, S = Q.shape[-2], K.shape[-2]
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2], () if mask is None else np.shape(mask)[:-2])
    full_mask = None if mask is None else np.broadcast_to(mask, batch + (L, S))
    lse = np.full(batch + (L, 1), -np.inf)
    out = np.zeros(batch + (L, V.shape[-1]))
    scale = 1.0 / math.sqrt(Q.shape[-1])
    for j in range(0, S, block_size):
        s = (Q @ K[..., j:j + block_size, :].swapaxes(-1, -2)) * scale
        if full_mask is not None:
            s = np.where(full_mask[..., j:j + block_size] != 0, s, -np.inf)
        top = np.maximum(lse, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isinf(top), 0.0, top)
        with np.errstate(divide="ignore"):
            block_lse = safe + np.log(np.exp(s - safe).sum(axis=-1, keepdims=True))
            new_lse = safe + np.log(np.exp(lse - safe) + np.exp(block_lse - safe))
        keep = np.where(np.isinf(new_lse), 0.0, np.exp(lse - np.where(np.isinf(new_lse), 0.0, new_lse)))
        p = np.exp(s - np.where(np.isinf(new_lse), 0.0, new_lse))
        out = out * keep + p @ V[..., j:j + block_size, :]
        lse = new_lse
    return out.astype(dtype)
""",
        ),
    ),
    alternative(
        "tiled_backwards_with_query_blocks",
        "query blocks too, and the key blocks walked from the last",
        add(
            "tiled",
            """
def tiled_attention(Q, K, V, mask=None, block_size=64):
    if block_size < 1:
        raise ValueError(f"block_size {block_size} < 1")
    dtype = np.result_type(Q, K, V)
    L, S = Q.shape[-2], K.shape[-2]
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2], () if mask is None else np.shape(mask)[:-2])
    full_mask = None if mask is None else np.broadcast_to(mask, batch + (L, S))
    out = np.zeros(batch + (L, V.shape[-1]), dtype=dtype)
    starts = list(range(0, S, block_size))[::-1]
    for i in range(0, L, block_size):
        q = Q[..., i:i + block_size, :] / math.sqrt(Q.shape[-1])
        m = np.full(np.broadcast_shapes(q.shape[:-1], batch + (1,)) + (1,), -np.inf, dtype=dtype)
        l = np.zeros_like(m)
        o = np.zeros(m.shape[:-1] + (V.shape[-1],), dtype=dtype)
        for j in starts:
            s = q @ K[..., j:j + block_size, :].swapaxes(-1, -2)
            if full_mask is not None:
                s = np.where(full_mask[..., i:i + block_size, j:j + block_size] != 0, s, -np.inf)
            m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
            shift = np.where(np.isneginf(m_new), 0, m_new)
            c, p = np.exp(m - shift), np.exp(s - shift)
            l = c * l + p.sum(axis=-1, keepdims=True)
            o = c * o + p @ V[..., j:j + block_size, :]
            m = m_new
        out[..., i:i + block_size, :] = o / np.where(l == 0, 1, l)
    return out
""",
        ),
    ),
    alternative(
        "gqa_group_the_queries",
        "groups the query heads instead of repeating keys and values",
        add(
            "mha",
            """
def _forward(self, query, key, value, mask=None, return_attention_weights=False):
    B, L, S = query.shape[0], query.shape[1], key.shape[1]
    H, H_kv, D = self.num_heads, self.num_kv_heads, self.head_dim
    q = self.split_heads(query @ self.W_q).reshape(B, H_kv, H // H_kv, L, D)
    k = self.split_heads(key @ self.W_k, H_kv)[:, :, None]
    v = self.split_heads(value @ self.W_v, H_kv)[:, :, None]
    grouped_mask = None if mask is None else np.broadcast_to(mask, (B, H, L, S)).reshape(B, H_kv, H // H_kv, L, S)
    heads, weights = scaled_dot_product_attention(q, k, v, grouped_mask)
    output = self.merge_heads(heads.reshape(B, H, L, D)) @ self.W_o
    return (output, weights.reshape(B, H, L, S)) if return_attention_weights else output
MultiHeadAttention.forward = _forward
""",
        ),
    ),
    alternative(
        "compute_in_terms_of_embed_dim",
        "FLOPs through E = H * d, and the bound as bandwidth over bytes per token",
        add(
            "compute-functions",
            """
def attention_flops(batch_size, num_heads, seq_len, head_dim):
    embed_dim = num_heads * head_dim
    return 2 * (2 * batch_size * seq_len * seq_len * embed_dim)
def max_decode_tokens_per_second(weight_bytes, kv_cache_bytes, bandwidth_bytes_per_second):
    seconds_per_token = (weight_bytes + kv_cache_bytes) / bandwidth_bytes_per_second
    return 1.0 / seconds_per_token
""",
        ),
    ),
]

# Code that replaces every graded function with one returning a lying object, on top of a
# blank submission: whatever the test compares, the object claims to be equal.
_LIAR = """
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
"""

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

_PATCH_NUMPY = """
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
"""

# A uniform softmax: wrong for every input but a constant one. The cheats below pair it with
# ways of switching off the visible tests' helpers; the hidden checks must still fail it.
_UNIFORM_SOFTMAX = """
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    return np.ones_like(x) / x.shape[axis]
"""
_VISIBLE_HELPERS = (
    "check_close",
    "check_shape",
    "check_dtype",
    "check_finite",
    "check_rows_sum_to_one",
    "check_raises",
    "check_number",
    "check_integer",
    "check_pair",
    "fail",
)

_REBIND_IN_GLOBALS = (
    _UNIFORM_SOFTMAX
    + f"""
for _name in {_VISIBLE_HELPERS!r}:
    globals()[_name] = lambda *args, **kwargs: None
globals()["as_float_array"] = lambda x, what: np.asarray(x, dtype=float)
"""
)

_REBIND_IN_BUILTINS = (
    _UNIFORM_SOFTMAX
    + f"""
import builtins
for _name in {_VISIBLE_HELPERS!r}:
    setattr(builtins, _name, lambda *args, **kwargs: None)
    del globals()[_name]
builtins.as_float_array = lambda x, what: np.asarray(x, dtype=float)
del globals()["as_float_array"]
"""
)

_FAIL_NEVER_RAISES = (
    _UNIFORM_SOFTMAX
    + """
def fail(message):
    print("not a failure:", message)
"""
)

_QUIET_SWALLOWS_ERRORS = (
    _REBIND_IN_GLOBALS
    + """
import contextlib
quiet = lambda: contextlib.suppress(BaseException)
"""
)

_HIDE_ERRORS_FROM_IPYTHON = (
    _UNIFORM_SOFTMAX
    + """
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
get_ipython().showtraceback = lambda *args, **kwargs: None
"""
)

# Replaces, whenever a test calls softmax, every function of the notebook's namespace that is
# not its own (the visible helpers, and anything the hidden tests might have defined) with one
# that does nothing.
_SWEEP_WHEN_CALLED = """
import sys as _sys
import types as _types


def softmax(x, axis=-1):
    namespace = _sys._getframe(1).f_globals
    for name, value in list(namespace.items()):
        if name != "softmax" and isinstance(value, (_types.FunctionType, _types.MethodType, type)) \\
                and not name.startswith("__"):
            namespace[name] = lambda *args, **kwargs: None
    x = np.asarray(x, dtype=float)
    return np.ones_like(x) / x.shape[axis]
"""

CHEATS = [
    cheat("cheat_lying_objects", "every function returns an object whose == always says True", add("softmax", _LIAR)),
    cheat("cheat_ndarray_subclass", "an ndarray subclass whose comparisons always agree", add("softmax", _SUBCLASS)),
    cheat(
        "cheat_patches_numpy",
        "replaces np.allclose, np.isclose and np.testing, returns zeros",
        add("softmax", _PATCH_NUMPY),
    ),
    cheat(
        "cheat_rebinds_helpers_in_globals",
        "a uniform softmax; every visible helper made a no-op through globals()",
        add("softmax", _REBIND_IN_GLOBALS),
    ),
    cheat(
        "cheat_rebinds_helpers_in_builtins",
        "a uniform softmax; the visible helpers deleted and no-ops put in builtins",
        add("softmax", _REBIND_IN_BUILTINS),
    ),
    cheat(
        "cheat_fail_never_raises",
        "a uniform softmax; fail() prints instead of raising CheckFailed",
        add("softmax", _FAIL_NEVER_RAISES),
    ),
    cheat(
        "cheat_quiet_swallows_errors",
        "a uniform softmax; no-op helpers, and quiet() suppresses every exception",
        add("softmax", _QUIET_SWALLOWS_ERRORS),
    ),
    cheat(
        "cheat_hides_errors_from_ipython",
        "a uniform softmax; IPython told to show no error (custom handler, no traceback)",
        add("softmax", _HIDE_ERRORS_FROM_IPYTHON),
    ),
    cheat(
        "cheat_sweeps_namespace_when_called",
        "a uniform softmax that, when called, turns every other function of the notebook into a no-op",
        add("softmax", _SWEEP_WHEN_CALLED),
    ),
]

# Cheats whose code reaches for the grader (namespaces, builtins, IPython, NumPy): grading
# reports them (grading/tampering.py); the other two only return objects that lie.
REACHES_FOR_THE_GRADER = {case.name for case in CHEATS} - {"cheat_lying_objects", "cheat_ndarray_subclass"}

CASES = BUGS + ALTERNATIVES + CHEATS


# -- what a graded case must show (tests/test_catalogue.py, and the core release's test) ---------


def describe(result):
    cells = ", ".join(f"{cell} {score:g}/{points:g}" for cell, (score, points) in result.cells.items())
    events = "; ".join(f"{e['cell']}: {e['detail']}" for e in result.events)
    return f"cells: {cells}" + (f"\nevents: {events}" if events else "")


def lost_parts(result):
    """The autograded parts (those the release grades) in which ``result`` lost points."""
    return {part for part, (score, points) in result.parts.items() if part != HAND_GRADED and score < points}


def check_bug(case, result):
    """A bug loses points in the part(s) it breaks, and nowhere else but where it may."""
    lost = lost_parts(result)
    assert case.loses <= lost, f"{case.why}: should lose points in {sorted(case.loses)}\n{describe(result)}"
    assert lost <= case.loses | case.may_lose, (
        f"{case.why}: also lost points in {sorted(lost - case.loses - case.may_lose)}\n{describe(result)}"
    )


def check_full_marks(result, why=""):
    """Every autograded point: the solution, a correct alternative."""
    assert result.recorded and not lost_parts(result), f"{why}\n{describe(result)}".strip()
