"""The solution's scaled_dot_product_attention against PyTorch's, on the shapes of a small transformer.

Both sides get the same float32 inputs (batch 1, 8 heads, L = S, head_dim 64), no mask.
torch's kernel returns only the output, ours also the weights, which it builds anyway.
"""

from functools import partial

import numpy as np

from .timing import Stat, ratio, rounds_of

LENGTHS = (128, 256, 512, 1024)
HEADS, HEAD_DIM = 8, 64
# Calls per side and round: enough for one undisturbed call on a busy machine.
CALLS = {128: 40, 256: 20, 512: 10, 1024: 5}


def load_torch():
    """torch, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def inputs(length, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, HEADS, length, HEAD_DIM), dtype=np.float32) for _ in range(3)]


def measure(versions, torch, *, rounds):
    """Time each version of the solution (and torch, if given) at every length, in the same rounds.

    versions: {"solution": namespace, "baseline": namespace (optional)}.
    Returns {"seconds": {side: {L: Stat}}, "ratios": {name: {L: Stat}},
    "max_abs_diff_vs_torch": {version: {L: float}}}, where ratios are "<version>_vs_torch"
    and "solution_vs_baseline" (below 1: the solution is faster).
    """
    result = {"seconds": {}, "ratios": {}, "max_abs_diff_vs_torch": {}}
    for length in LENGTHS:
        q, k, v = inputs(length)
        sides = {
            name: partial(namespace["scaled_dot_product_attention"], q, k, v) for name, namespace in versions.items()
        }
        if torch is not None:
            tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
            sides["torch"] = partial(torch.nn.functional.scaled_dot_product_attention, tq, tk, tv)
            expected = sides["torch"]().numpy().astype(np.float64)
            for name in versions:
                output, _ = sides[name]()
                result["max_abs_diff_vs_torch"].setdefault(name, {})[length] = float(np.max(np.abs(output - expected)))
        samples = rounds_of(sides, rounds=rounds, calls=CALLS[length])
        for side, seconds in samples.items():
            result["seconds"].setdefault(side, {})[length] = Stat.of(seconds)
        pairs = [(name, "torch") for name in versions if torch is not None]
        if "baseline" in versions:
            pairs.append(("solution", "baseline"))
        for top, bottom in pairs:
            result["ratios"].setdefault(f"{top}_vs_{bottom}", {})[length] = ratio(samples[top], samples[bottom])
    return result
