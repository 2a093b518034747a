"""An independently written solution: every solution cell as one student wrote it without the reference.

The bundled class derives most of its students from the reference solution; this one is the
student whose work another student copies (see bundled_class.py), so the copy is the only code
its author shares with anyone.
"""

OWN_SOLUTION = {
    "softmax": '''
def softmax(x, axis=-1):
    """Numerically stable softmax of `x` along `axis`; an all -inf slice gives zeros."""
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        arr = arr.astype(float)
    peak = arr.max(axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, np.zeros_like(peak))  # keep all -inf rows at -inf
    e = np.exp(arr - peak)
    norm = e.sum(axis=axis, keepdims=True)
    norm = np.where(norm > 0, norm, np.ones_like(norm))
    return e / norm
''',
    "sdpa": '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V. Returns (output, attention_weights).

    mask: None, or an array broadcastable to (..., L, S); True/1 = may attend, False/0 = blocked.
    """
    depth = Q.shape[-1]
    logits = np.matmul(Q, np.swapaxes(K, -2, -1)) * (1.0 / math.sqrt(depth))
    if mask is not None:
        allowed = np.asarray(mask) != 0
        logits = np.where(allowed, logits, -np.inf)
    attn = softmax(logits, axis=-1)
    return np.matmul(attn, V), attn
''',
    "sdpa-class": '''
class ScaledDotProductAttention:
    """Scaled dot-product attention as a layer (it has no parameters)."""

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        out, attn = scaled_dot_product_attention(query, key, value, mask=mask)
        if return_attention_weights:
            return out, attn
        return out

    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask=mask,
                            return_attention_weights=return_attention_weights)
''',
    "masks": '''
def create_causal_mask(seq_len):
    """Boolean (seq_len, seq_len) mask, True on and below the diagonal."""
    idx = np.arange(seq_len)
    return idx[None, :] <= idx[:, None]


def create_padding_mask(lengths, max_len):
    """Boolean (B, 1, 1, max_len) mask; [b, 0, 0, j] is True exactly when j < lengths[b]."""
    counts = np.asarray(lengths, dtype=int)
    bad = (counts < 0) | (counts > max_len)
    if bad.any():
        raise ValueError(f"lengths must be between 0 and {max_len}: {counts.tolist()}")
    keep = np.arange(max_len)[None, :] < counts[:, None]
    return keep.reshape(len(counts), 1, 1, max_len)
''',
    "heads": '''
def previous_token_projections(seq_len):
    """(W_q, W_k), each (seq_len, d): with one-hot positions, query i >= 1 attends to key i - 1."""
    gain = math.sqrt(seq_len) * (2.0 + math.log(10 * seq_len))  # the score e^s must beat 9 (seq_len - 1)
    keys_proj = np.eye(seq_len)
    queries_proj = gain * np.eye(seq_len, k=-1)  # row i has its one in column i - 1
    return queries_proj, keys_proj
''',
    "mha": '''
class MultiHeadAttention:
    """Multi-head attention with H heads of size embed_dim // H; no biases.

    num_kv_heads (Part 7): the number of key/value heads, shared by groups of query heads;
    None means num_heads (plain multi-head attention).
    """

    def __init__(self, embed_dim, num_heads, seed=None, num_kv_heads=None):
        kv = num_heads if num_kv_heads is None else num_kv_heads
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"{embed_dim} is not a multiple of {num_heads} heads")
        if kv < 1 or num_heads % kv:
            raise ValueError(f"{num_heads} query heads cannot share {kv} key/value heads evenly")
        self.embed_dim, self.num_heads, self.num_kv_heads = embed_dim, num_heads, kv
        self.head_dim = embed_dim // num_heads
        gen = np.random.default_rng(seed)
        std = embed_dim ** -0.5
        width = kv * self.head_dim
        self.W_q = gen.normal(0.0, std, (embed_dim, embed_dim))
        self.W_k = gen.normal(0.0, std, (embed_dim, width))
        self.W_v = gen.normal(0.0, std, (embed_dim, width))
        self.W_o = gen.normal(0.0, std, (embed_dim, embed_dim))

    def split_heads(self, x, count=None):
        """(B, T, count * D) -> (B, count, T, D)."""
        b, t, _ = x.shape
        count = self.num_heads if count is None else count
        return np.transpose(x.reshape(b, t, count, self.head_dim), (0, 2, 1, 3))

    def merge_heads(self, x):
        """(B, H, T, D) -> (B, T, E), heads side by side in order."""
        b, _, t, _ = x.shape
        return np.transpose(x, (0, 2, 1, 3)).reshape(b, t, self.embed_dim)

    def share(self, x):
        """(B, H_kv, T, D) -> (B, H, T, D): query head h reads key/value head h // group."""
        owner = np.arange(self.num_heads) // (self.num_heads // self.num_kv_heads)
        return x[:, owner]

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        heads_q = self.split_heads(np.matmul(query, self.W_q))
        heads_k = self.share(self.split_heads(np.matmul(key, self.W_k), self.num_kv_heads))
        heads_v = self.share(self.split_heads(np.matmul(value, self.W_v), self.num_kv_heads))
        ctx, attn = scaled_dot_product_attention(heads_q, heads_k, heads_v, mask=mask)
        out = np.matmul(self.merge_heads(ctx), self.W_o)
        if return_attention_weights:
            return out, attn
        return out

    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask=mask,
                            return_attention_weights=return_attention_weights)
''',
    "kvcache": '''
class KVCache:
    """Preallocated key/value storage for autoregressive decoding."""

    def __init__(self, max_seq_len, num_heads, head_dim, batch_size=1, dtype=np.float64):
        self.max_seq_len = max_seq_len
        self.k_store = np.empty((batch_size, num_heads, max_seq_len, head_dim), dtype=dtype)
        self.v_store = np.empty_like(self.k_store)
        self.filled = 0

    def append(self, new_keys, new_values):
        """Store (B, H, T_new, head_dim) keys and values; return all cached (keys, values)."""
        k_new, v_new = np.asarray(new_keys), np.asarray(new_values)
        b, h, _, d = self.k_store.shape
        for arr in (k_new, v_new):
            if arr.ndim != 4 or (arr.shape[0], arr.shape[1], arr.shape[3]) != (b, h, d):
                raise ValueError(f"expected an array of shape ({b}, {h}, T, {d}), got {arr.shape}")
        if k_new.shape != v_new.shape:
            raise ValueError(f"keys {k_new.shape} and values {v_new.shape} differ in shape")
        stop = self.filled + k_new.shape[2]
        if stop > self.max_seq_len:
            raise ValueError(f"no room: {self.filled} cached + {k_new.shape[2]} new > {self.max_seq_len}")
        self.k_store[:, :, self.filled:stop] = k_new
        self.v_store[:, :, self.filled:stop] = v_new
        self.filled = stop
        return self.k_store[:, :, :stop], self.v_store[:, :, :stop]

    def __len__(self):
        return self.filled

    def reset(self):
        self.filled = 0
''',
    "decode-step": '''
def decode_step(self, x_new, cache):
    """Attend the newest tokens x_new (B, T_new, E) to every cached token up to their position."""
    offset, steps = len(cache), x_new.shape[1]
    heads_q = self.split_heads(np.matmul(x_new, self.W_q))
    all_k, all_v = cache.append(self.split_heads(np.matmul(x_new, self.W_k), self.num_kv_heads),
                                self.split_heads(np.matmul(x_new, self.W_v), self.num_kv_heads))
    visible = np.arange(offset + steps)[None, :] <= (offset + np.arange(steps))[:, None]
    ctx, _ = scaled_dot_product_attention(heads_q, self.share(all_k), self.share(all_v), mask=visible)
    return np.matmul(self.merge_heads(ctx), self.W_o)


MultiHeadAttention.decode_step = decode_step
''',
    "memory-functions": '''
def attention_matrix_bytes(batch_size, num_heads, seq_len, dtype=np.float32):
    """Bytes of the (batch, heads, seq_len, seq_len) score matrix."""
    entries = batch_size * num_heads * seq_len ** 2
    return entries * np.dtype(dtype).itemsize


def kv_cache_bytes(num_layers, batch_size, num_heads, seq_len, head_dim, dtype=np.float16):
    """Bytes of the keys and values cached for seq_len tokens in every layer."""
    per_layer = 2 * batch_size * num_heads * seq_len * head_dim
    return num_layers * per_layer * np.dtype(dtype).itemsize


def max_seq_len_for_budget(budget_bytes, batch_size, num_heads, dtype=np.float32):
    """Largest N with attention_matrix_bytes(batch_size, num_heads, N, dtype) <= budget_bytes."""
    n = math.isqrt(int(budget_bytes) // (batch_size * num_heads * np.dtype(dtype).itemsize))
    while attention_matrix_bytes(batch_size, num_heads, n + 1, dtype) <= budget_bytes:
        n += 1
    return n


def fit_scaling_exponent(sizes, costs):
    """Least-squares slope of log(cost) against log(size)."""
    lx, ly = np.log(np.asarray(sizes, float)), np.log(np.asarray(costs, float))
    design = np.stack([lx, np.ones_like(lx)], axis=1)
    (slope, _), *_ = np.linalg.lstsq(design, ly, rcond=None)
    return float(slope)
''',
    "memory-answers": """
ANSWER_MEMORY_RATIO_SEQ_DOUBLED = None
ANSWER_GPT2_SMALL_SCORES_MIB = None
ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = None
ANSWER_MEMORY_RATIO_SEQ_DOUBLED = 4.0  # N^2 entries: twice the tokens, four times the bytes
ANSWER_GPT2_SMALL_SCORES_MIB = 12 * 1024 * 1024 * 4 / 2**20
ANSWER_LLAMA7B_KV_KIB_PER_TOKEN = 2 * 32 * 4096 * 2 / 1024
""",
    "tiled": '''
def tiled_attention(Q, K, V, mask=None, block_size=64):
    """softmax(Q K^T / sqrt(d_k)) V, one block of keys at a time (online softmax); returns the output."""
    if block_size < 1:
        raise ValueError(f"block_size must be positive, got {block_size}")
    out_dtype = np.result_type(Q, K, V)
    n_q, n_k = Q.shape[-2], K.shape[-2]
    lead = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2],
                               np.shape(mask)[:-2] if mask is not None else ())
    allowed = None if mask is None else np.broadcast_to(mask, lead + (n_q, n_k))
    inv = 1.0 / math.sqrt(Q.shape[-1])
    best = np.full(lead + (n_q, 1), -np.inf, dtype=out_dtype)
    denom = np.zeros(lead + (n_q, 1), dtype=out_dtype)
    acc = np.zeros(lead + (n_q, V.shape[-1]), dtype=out_dtype)
    for lo in range(0, n_k, block_size):
        hi = min(lo + block_size, n_k)
        s = np.matmul(Q, np.swapaxes(K[..., lo:hi, :], -2, -1)) * inv
        if allowed is not None:
            s = np.where(allowed[..., lo:hi] != 0, s, -np.inf)
        top = np.maximum(best, s.max(axis=-1, keepdims=True))
        base = np.where(top == -np.inf, 0.0, top)  # nothing seen yet: keep exp(-inf) = 0
        fade = np.exp(best - base)
        p = np.exp(s - base)
        denom = denom * fade + p.sum(axis=-1, keepdims=True)
        acc = acc * fade + np.matmul(p, V[..., lo:hi, :])
        best = top
    return (acc / np.where(denom == 0, 1.0, denom)).astype(out_dtype)
''',
    "gqa-answer": """
ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN = None
ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN = 2 * 80 * 8 * 128 * 2 / 1024  # K and V, 80 layers, 8 heads of 128, fp16
""",
    "compute-functions": '''
def attention_flops(batch_size, num_heads, seq_len, head_dim):
    """FLOPs of Q K^T and weights @ V in self-attention (a multiply-add is 2 FLOPs)."""
    per_head = 2 * (2 * seq_len * seq_len * head_dim)  # two products, 2 FLOPs per multiply-add
    return batch_size * num_heads * per_head


def projection_flops(batch_size, seq_len, embed_dim):
    """FLOPs of the query, key, value and output projections of one layer."""
    tokens = batch_size * seq_len
    return 4 * (2 * tokens * embed_dim * embed_dim)


def max_decode_tokens_per_second(weight_bytes, kv_cache_bytes, bandwidth_bytes_per_second):
    """Upper bound on batch-1 decoding speed: every weight and the whole cache are read per token."""
    bytes_per_token = weight_bytes + kv_cache_bytes
    return bandwidth_bytes_per_second / bytes_per_token
''',
    "compute-answer": """
ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = None
ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2 = 1536  # 4 N^2 E = 8 N E^2 when N = 2 E
""",
}
