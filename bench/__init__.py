"""Benchmarks of the attention bundle: ``python -m bench`` (``make bench``).

What the bundle exists for, as ratios measured side by side in one run (see bench.timing):
grading a class (bench.notebooks), the solution's attention against PyTorch's (bench.sdpa),
decoding with the KV cache (bench.decode) and the memory of attention (bench.memory).
The solution is read from source/attention/attention.py at each run (bench.solution), so the
figures are those of the solution as it is now, unless --solution names another file.
"""
