"""Generating tokens with one MultiHeadAttention layer: with the KV cache, or recomputing every step.

The layer has the size of a small transformer's (d_model 512, 8 heads) and float64 weights,
as the solution makes them. As in the notebook's own timing cell, the "generated" tokens
are random vectors: feeding the layer's output back in would cost the same.
"""

from functools import partial

import numpy as np

from .timing import Stat, ratio, rounds_of

TOKENS = (256, 512)
EMBED_DIM, HEADS = 512, 8


def with_cache(solution, layer, x):
    """The outputs of decoding x (1, T, E) one token at a time through a fresh cache."""
    cache = solution["KVCache"](x.shape[1], layer.num_heads, layer.head_dim)
    return [layer.decode_step(x[:, t : t + 1], cache) for t in range(x.shape[1])]


def recomputing(solution, layer, x):
    """The output for the newest token of each prefix of x, from a full causal pass over the prefix."""
    causal = solution["create_causal_mask"]
    outputs = []
    for t in range(1, x.shape[1] + 1):
        prefix = x[:, :t]
        outputs.append(layer(prefix, prefix, prefix, mask=causal(t))[:, -1:])
    return outputs


def measure(versions, *, rounds):
    """Seconds to generate each length both ways, per version, timed in the same rounds.

    Returns {"seconds": {side: {T: Stat}}, "ratios": {name: {T: Stat}},
    "max_abs_diff": {version: float}}: "<version>_speedup" is recompute / cache, and
    "solution_vs_baseline" compares the cached generation (below 1: the solution is faster).
    """
    result = {"seconds": {}, "ratios": {}, "max_abs_diff": {}}
    for tokens in TOKENS:
        x = np.random.default_rng(tokens).normal(size=(1, tokens, EMBED_DIM))
        sides = {}
        for name, solution in versions.items():
            layer = solution["MultiHeadAttention"](EMBED_DIM, HEADS, seed=0)
            sides[f"{name}_cache"] = partial(with_cache, solution, layer, x)
            sides[f"{name}_recompute"] = partial(recomputing, solution, layer, x)
            if tokens == TOKENS[0]:
                full = layer(x, x, x, mask=solution["create_causal_mask"](tokens))
                cached = np.concatenate(sides[f"{name}_cache"](), axis=1)
                result["max_abs_diff"][name] = float(np.max(np.abs(cached - full)))
        # A generation takes seconds, so one call per side and round, without a warm-up call.
        samples = rounds_of(sides, rounds=rounds, warmup=False)
        for side, seconds in samples.items():
            result["seconds"].setdefault(side, {})[tokens] = Stat.of(seconds)
        for name in versions:
            result["ratios"].setdefault(f"{name}_speedup", {})[tokens] = ratio(
                samples[f"{name}_recompute"], samples[f"{name}_cache"]
            )
        if "baseline" in versions:
            result["ratios"].setdefault("solution_vs_baseline", {})[tokens] = ratio(
                samples["solution_cache"], samples["baseline_cache"]
            )
    return result
