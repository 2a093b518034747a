"""Peak memory of the solution's attention as the sequence grows, against its own formula.

tracemalloc sees every buffer NumPy allocates. The score matrix is measured as what the
returned weights hold: the bytes freed when they are dropped. A solution that returns
float64 weights for float32 inputs, or weights that keep a larger buffer alive, shows up
as a gap from attention_matrix_bytes.
"""

import tracemalloc

import numpy as np

from .sdpa import HEADS, inputs

LENGTHS = (128, 256, 512, 1024, 2048)


def traced(solution, length):
    """(peak bytes during one attention call, bytes held by the weights it returns)."""
    q, k, v = inputs(length)
    tracemalloc.start()
    try:
        output, weights = solution["scaled_dot_product_attention"](q, k, v)
        held, peak = tracemalloc.get_traced_memory()
        del weights
        without_weights, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, held - without_weights


def measure(solution):
    """Peaks and weight bytes per length, the fitted exponent, the largest gap from the formula.

    Bytes are counted, not timed, so one pass gives the same figures as ten.
    """
    peaks, weights, formula = [], [], []
    for length in LENGTHS:
        peak, held = traced(solution, length)
        peaks.append(peak)
        weights.append(held)
        formula.append(int(solution["attention_matrix_bytes"](1, HEADS, length, dtype=np.float32)))
    exponent = float(np.polyfit(np.log(LENGTHS), np.log(peaks), 1)[0])
    gaps = [abs(w - f) / f for w, f in zip(weights, formula)]
    return {
        "lengths": list(LENGTHS),
        "peak_bytes": peaks,
        "weights_bytes": weights,
        "formula_bytes": formula,
        "exponent": exponent,
        "formula_error": max(gaps),
        "peak_per_score_matrix": peaks[-1] / formula[-1],
    }
