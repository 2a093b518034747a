"""Module 14 on the export, in miniature: TinyTorch's Tensor, a transformer block and a model.

What TinyTorch's Module 14 does with ``tinytorch.core.attention`` (MLSysBook/TinyTorch, commit
1bb7fea5, ``tinytorch/core/transformers.py``), written for this course: a test double of
TinyTorch's ``Tensor``, a pre-norm ``TransformerBlock`` that calls
``MultiHeadAttention.forward(x, x, x, mask=causal)`` and lists the layer's ``parameters``, and a
``Transformer`` of blocks with greedy generation under a causal 0/1 float mask. Each check is a
function that raises AssertionError on a wrong export and returns a line saying what it saw.

Run it with the export's folder on the path, as Module 14 imports the module::

    PYTHONPATH=build python tests/module14.py             # every check, then a run of the model
    PYTHONPATH=build python tests/module14.py causality   # one check
"""

import sys

import numpy as np
import tinytorch.core.attention as attention
from tinytorch.core.attention import MultiHeadAttention

VOCAB, EMBED, HEADS, HIDDEN, LAYERS, MAX_TOKENS = 11, 16, 4, 32, 2, 16
WEIGHTS = ("W_q", "W_k", "W_v", "W_o")


class Tensor:
    """TinyTorch's Tensor, as far as Module 14 relies on it.

    ``Tensor(data)`` copies ``data`` into an array, float64 stored as float32 as TinyTorch does;
    ``.data`` is that array, and ``np.asarray(t)`` gives it (``__array__``). ``t @ u`` reads
    ``u._data``: an ndarray on the right fails, with TinyTorch's AttributeError.
    """

    def __init__(self, data):
        array = np.array(data)
        self._data = array.astype(np.float32) if array.dtype == np.float64 else array

    @property
    def data(self):
        return self._data

    @property
    def shape(self):
        return self._data.shape

    def __array__(self, dtype=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __matmul__(self, other):
        return Tensor(self._data @ other._data)


def causal_mask(length):
    """Module 14's causal mask: a Tensor of 0/1 floats, 1 where a query may attend."""
    return Tensor(1 - np.triu(np.ones((length, length)), k=1))


class LayerNorm:
    def __init__(self, size, eps=1e-5):
        self.gamma, self.beta, self.eps = Tensor(np.ones(size)), Tensor(np.zeros(size)), eps
        self.parameters = [self.gamma, self.beta]

    def __call__(self, x):
        centred = x.data - x.data.mean(axis=-1, keepdims=True)
        scaled = centred / np.sqrt(x.data.var(axis=-1, keepdims=True) + self.eps)
        return Tensor(self.gamma.data * scaled + self.beta.data)


class FeedForward:
    def __init__(self, embed_dim, hidden_dim, rng):
        self.w1 = Tensor(rng.normal(0.0, embed_dim**-0.5, (embed_dim, hidden_dim)))
        self.b1 = Tensor(np.zeros(hidden_dim))
        self.w2 = Tensor(rng.normal(0.0, hidden_dim**-0.5, (hidden_dim, embed_dim)))
        self.b2 = Tensor(np.zeros(embed_dim))
        self.parameters = [self.w1, self.b1, self.w2, self.b2]

    def __call__(self, x):
        hidden = np.maximum(0.0, x.data @ self.w1.data + self.b1.data)
        return Tensor(hidden @ self.w2.data + self.b2.data)


class TransformerBlock:
    """Pre-norm, as Module 14's default: x + attention(norm1(x)), then that + ffn(norm2(that))."""

    def __init__(self, embed_dim, num_heads, hidden_dim, rng):
        self.attention = MultiHeadAttention(embed_dim=embed_dim, num_heads=num_heads)
        self.norm1, self.norm2 = LayerNorm(embed_dim), LayerNorm(embed_dim)
        self.ffn = FeedForward(embed_dim, hidden_dim, rng)
        self.parameters = []
        if hasattr(self.attention, "parameters"):
            self.parameters.extend(self.attention.parameters)
        self.parameters += self.norm1.parameters + self.norm2.parameters + self.ffn.parameters

    def forward(self, x, mask=None, return_attention_weights=False):
        normed = self.norm1(x)
        if return_attention_weights:
            attended, weights = self.attention.forward(normed, normed, normed, mask=mask, return_attention_weights=True)
        else:
            attended = self.attention.forward(normed, normed, normed, mask=mask)
        x = Tensor(x.data + attended.data)
        output = Tensor(x.data + self.ffn(self.norm2(x)).data)
        return (output, weights) if return_attention_weights else output


def positions(length, embed_dim):
    """Sinusoidal position encodings, (length, embed_dim)."""
    angles = np.arange(length)[:, None] / 10000 ** (np.arange(0, embed_dim, 2) / embed_dim)
    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(length, embed_dim)


class Transformer:
    """Token embeddings and positions, pre-norm blocks, a final norm and a language-model head."""

    def __init__(self, vocab_size, embed_dim, num_heads, num_layers, hidden_dim, max_seq_length, seed=0):
        rng = np.random.default_rng(seed)
        self.vocab_size, self.max_seq_length = vocab_size, max_seq_length
        self.embedding = Tensor(rng.normal(0.0, 1.0, (vocab_size, embed_dim)))
        self.positions = positions(max_seq_length, embed_dim)
        self.blocks = [TransformerBlock(embed_dim, num_heads, hidden_dim, rng) for _ in range(num_layers)]
        self.final_norm = LayerNorm(embed_dim)
        self.lm_head = Tensor(rng.normal(0.0, embed_dim**-0.5, (embed_dim, vocab_size)))
        self.parameters = [self.embedding]
        for block in self.blocks:
            self.parameters += block.parameters
        self.parameters += [*self.final_norm.parameters, self.lm_head]

    def forward(self, input_ids, mask=None, return_attention_weights=False):
        """Logits (B, N, vocab) for token ids (B, N); with the weights, also each block's."""
        ids = input_ids.data
        x = Tensor(self.embedding.data[ids] + self.positions[: ids.shape[1]])
        weights = []
        for block in self.blocks:
            if return_attention_weights:
                x, block_weights = block.forward(x, mask=mask, return_attention_weights=True)
                weights.append(block_weights)
            else:
                x = block.forward(x, mask=mask)
        logits = self.final_norm(x) @ self.lm_head
        return (logits, weights) if return_attention_weights else logits

    def generate(self, input_ids, max_new_tokens):
        """Greedy decoding: the whole sequence again for each new token, under a causal mask."""
        ids = input_ids.data.copy()
        for _ in range(max_new_tokens):
            logits = self.forward(Tensor(ids), mask=causal_mask(ids.shape[1]))
            ids = np.concatenate([ids, logits.data[:, -1].argmax(axis=-1)[:, None]], axis=1)
        return Tensor(ids)


def model():
    return Transformer(VOCAB, EMBED, HEADS, LAYERS, HIDDEN, MAX_TOKENS)


def token_ids(shape, seed=1):
    return Tensor(np.random.default_rng(seed).integers(0, VOCAB, size=shape))


def check_tensors_in_and_out():
    """Each function and class that takes arrays takes Tensors too, and gives back Tensors."""
    rng = np.random.default_rng(2)
    q, k, v = (rng.normal(size=(2, 5, 8)).astype(np.float32) for _ in range(3))
    mask = np.asarray(causal_mask(5))
    x = rng.normal(size=(2, 5, EMBED)).astype(np.float32)
    layer = MultiHeadAttention(EMBED, HEADS)
    head_dim = EMBED // HEADS

    def decode(x_new):
        return layer.decode_step(x_new, attention.KVCache(5, HEADS, head_dim, batch_size=2))

    calls = {
        "softmax": (attention.softmax, [q]),
        "scaled_dot_product_attention": (attention.scaled_dot_product_attention, [q, k, v, mask]),
        "ScaledDotProductAttention": (
            lambda *a: attention.ScaledDotProductAttention()(*a[:3], mask=a[3], return_attention_weights=True),
            [q, k, v, mask],
        ),
        "create_padding_mask": (lambda lengths: attention.create_padding_mask(lengths, 5), [np.array([5, 2])]),
        "MultiHeadAttention": (lambda *a: layer.forward(*a, return_attention_weights=True), [x, x, x, mask]),
        "MultiHeadAttention.__call__": (lambda *a: layer(*a), [x, x, x, mask]),
        "MultiHeadAttention.split_heads": (layer.split_heads, [x]),
        "MultiHeadAttention.merge_heads": (layer.merge_heads, [layer.split_heads(x)]),
        "KVCache.append": (
            lambda *a: attention.KVCache(5, HEADS, head_dim, batch_size=2).append(*a),
            [layer.split_heads(x)] * 2,
        ),
        "MultiHeadAttention.decode_step": (decode, [x]),
    }
    if hasattr(attention, "tiled_attention"):  # Part 7's: not in an export of the release without it
        calls["tiled_attention"] = (lambda *a: attention.tiled_attention(*a, block_size=2), [q, k, v, mask])
    for name, (call, arrays) in calls.items():
        expected, got = call(*arrays), call(*map(Tensor, arrays))
        expected, got = (expected, got) if isinstance(expected, tuple) else ((expected,), (got,))
        assert len(got) == len(expected), f"{name}: {len(got)} results with Tensors, {len(expected)} with arrays"
        for want, have in zip(expected, got):
            assert type(want) is np.ndarray, f"{name} with arrays returned a {type(want).__name__}"
            assert isinstance(have, Tensor), f"{name} with Tensors returned a {type(have).__name__}, not a Tensor"
            assert np.allclose(have.data, want, rtol=1e-6, atol=1e-7), f"{name}: Tensors give other numbers"
    slope = attention.fit_scaling_exponent(Tensor([1.0, 2.0, 4.0]), Tensor([3.0, 12.0, 48.0]))
    assert isinstance(slope, float) and abs(slope - 2) < 1e-6, f"fit_scaling_exponent on Tensors gave {slope!r}"
    try:
        layer.forward(Tensor(x), Tensor(x), Tensor(x), past_key_value=None)
    except TypeError:
        pass  # Module 14 falls back to forward without it
    else:
        raise AssertionError("forward accepted past_key_value: Module 14 would take its result for a cached one")
    return f"{len(calls)} calls gave Tensors for Tensors and arrays for arrays"


def check_causality():
    """Changing later tokens leaves the logits of earlier ones as they were, under the causal mask."""
    net, ids, cut = model(), token_ids((2, 8)), 5
    changed = ids.data.copy()
    changed[:, cut:] = (changed[:, cut:] + 1 + np.arange(8 - cut)) % VOCAB  # each one another token
    mask = causal_mask(8)
    before, after = net.forward(ids, mask=mask), net.forward(Tensor(changed), mask=mask)
    assert isinstance(before, Tensor) and before.shape == (2, 8, VOCAB), f"logits: {before.shape}"
    earlier = np.abs(after.data[:, :cut] - before.data[:, :cut]).max()
    later = np.abs(after.data[:, cut:] - before.data[:, cut:]).max()
    assert earlier <= 1e-5, f"changing tokens {cut}.. moved the logits of tokens 0..{cut - 1} by {earlier:.3g}"
    assert later > 1e-3, f"changing tokens {cut}.. left their own logits as they were (by {later:.3g})"
    unmasked = np.abs(net.forward(Tensor(changed)).data[:, :cut] - net.forward(ids).data[:, :cut]).max()
    assert unmasked > 1e-3, "without a mask, later tokens should reach earlier ones"
    return (
        f"changing tokens {cut}..7 moves the logits of tokens 0..{cut - 1} by {earlier:.1g} "
        f"(by {unmasked:.2g} without the mask), their own by {later:.2g}"
    )


def check_causal_weights():
    """Each block's weights under Module 14's 0/1 float mask: Tensors, zero above the diagonal, rows of 1."""
    _, weights = model().forward(token_ids((2, 6)), mask=causal_mask(6), return_attention_weights=True)
    assert len(weights) == LAYERS, f"{len(weights)} sets of weights for {LAYERS} blocks"
    for layer, block_weights in enumerate(weights):
        assert isinstance(block_weights, Tensor), f"block {layer}'s weights are a {type(block_weights).__name__}"
        assert block_weights.shape == (2, HEADS, 6, 6), f"block {layer}'s weights: {block_weights.shape}"
        future = np.triu(block_weights.data, k=1)
        assert not future.any(), f"block {layer} puts weight {np.abs(future).max():.3g} on a later token"
        assert np.allclose(block_weights.data.sum(axis=-1), 1), f"block {layer}'s rows do not sum to 1"
    return f"{LAYERS} blocks x {HEADS} heads of (6, 6) weights, each 0 above the diagonal, rows summing to 1"


def check_parameters():
    """Each block lists its layer's four weights; a write through `.data` is a write to the layer and back."""
    net, rng = model(), np.random.default_rng(3)
    ids, mask = token_ids((1, 6)), causal_mask(6)
    before = net.forward(ids, mask=mask).data
    for number, block in enumerate(net.blocks):
        layer = block.attention
        for name in WEIGHTS:
            found = [p for p in block.parameters if np.shares_memory(p.data, getattr(layer, name))]
            assert len(found) == 1, f"block {number} lists {len(found)} parameters sharing memory with {name}, not 1"
            parameter = found[0]
            assert any(p is parameter for p in net.parameters), f"the model does not list block {number}'s {name}"
            update = Tensor(parameter.data - 0.1 * rng.normal(size=parameter.data.shape))
            parameter.data = update  # as TinyTorch's SGD writes its step
            assert np.allclose(getattr(layer, name), update.data), f"a step through .data missed layer.{name}"
            replacement = rng.normal(size=update.shape)
            setattr(layer, name, replacement)
            assert np.shares_memory(parameter.data, replacement), f"the parameter missed layer.{name} = new_array"
            replacement[0, 0] += 1.0
            assert parameter.data[0, 0] == replacement[0, 0], f"the parameter missed a change to layer.{name}"
    assert not np.allclose(net.forward(ids, mask=mask).data, before), "new weights left the model's output as it was"
    return f"{len(net.parameters)} parameters listed, {len(WEIGHTS) * LAYERS} of them attention weights, set in place"


def check_generation():
    """Greedy generation under the causal mask; one pass over the result agrees with every step."""
    net, prompt, new = model(), token_ids((2, 3)), 5
    generated = net.generate(prompt, max_new_tokens=new).data
    assert generated.shape == (2, 3 + new), f"generated {generated.shape}"
    assert (generated[:, :3] == prompt.data).all(), "generation changed the prompt"
    logits = net.forward(Tensor(generated), mask=causal_mask(3 + new)).data[:, 2:-1]
    picked = np.take_along_axis(logits, generated[:, 3:, None], axis=-1)[..., 0]
    # Within rounding: the step's pass and the full one multiply matrices of other shapes.
    assert (picked >= logits.max(axis=-1) - 1e-4).all(), (
        f"generated {generated[:, 3:].tolist()}, but the full causal pass picks {logits.argmax(axis=-1).tolist()}"
    )
    return f"greedy from {prompt.data.tolist()}: {generated.tolist()}"


CHECKS = {
    "tensors_in_and_out": check_tensors_in_and_out,
    "causality": check_causality,
    "causal_weights": check_causal_weights,
    "parameters": check_parameters,
    "generation": check_generation,
}


def main(names):
    print(f"tinytorch.core.attention from {attention.__file__}")
    for name in names or CHECKS:
        print(f"ok  {name}: {CHECKS[name]()}")


if __name__ == "__main__":
    main(sys.argv[1:])
