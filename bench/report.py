"""results.json, results.md with its plot, and the table printed at the end of a run."""

import dataclasses
import json
import os

# Rows of the table, in the order of the issue, with how to show each figure.
ROWS = [
    ("autograde_overhead", "autograde path (no feedback) / nbclient alone, per submission", "{:.2f}x"),
    ("parallel_speedup", "class graded with 1 worker / with one per core", "{:.2f}x"),
    ("sdpa_vs_torch_L128", "solution SDPA / torch SDPA, L=128", "{:.2f}x"),
    ("sdpa_vs_torch_L256", "solution SDPA / torch SDPA, L=256", "{:.2f}x"),
    ("sdpa_vs_torch_L512", "solution SDPA / torch SDPA, L=512", "{:.2f}x"),
    ("sdpa_vs_torch_L1024", "solution SDPA / torch SDPA, L=1024", "{:.2f}x"),
    ("decode_speedup_T256", "recompute / KV cache, 256 tokens", "{:.0f}x"),
    ("decode_speedup_T512", "recompute / KV cache, 512 tokens", "{:.0f}x"),
    ("memory_exponent", "fitted exponent of peak memory, L=128..2048", "{:.2f}"),
    ("tiled_memory_exponent", "the same for tiled_attention (block_size 64)", "{:.2f}"),
    ("memory_formula_error", "weights bytes vs attention_matrix_bytes", "{:.1e}"),
    ("notebook_seconds", "solution notebook, nbclient alone", "{:.1f} s"),
    ("export_import_seconds", "import of the exported tinytorch.core.attention, after NumPy", "{:.3f} s"),
    ("serial_seconds_per_submission", "coordinator CPU per submission (bundled class copies)", "{:.3f} s"),
    ("parallel_seconds_per_submission", "worker seconds per submission (the same class)", "{:.1f} s"),
    ("projected_speedup_32_workers", "Amdahl's law for 32 workers from the two above", "{:.1f}x"),
    ("grading_seconds_per_submission", "grading a solution, 1 worker, no feedback, per submission", "{:.1f} s"),
    ("grading_seconds_before_sandbox", "the same, grader of a7ffb80 (tests in the student's kernel)", "{:.1f} s"),
    ("grading_cost_vs_before_sandbox", "the two above: now / before, same rounds", "{:.2f}x"),
]
BASELINE_ROWS = [
    ("sdpa_vs_torch_L512", "baseline SDPA / torch SDPA, L=512", "{:.2f}x"),
    ("sdpa_solution_vs_baseline_L512", "solution SDPA / baseline SDPA, L=512", "{:.2f}x"),
    ("decode_speedup_T512", "baseline: recompute / KV cache, 512 tokens", "{:.0f}x"),
]


def table(results):
    """The figures as a Markdown table: median [lowest-highest] over the rounds, goal, verdict."""
    lines = ["| figure | what | median [spread] | goal |", "|---|---|---|---|"]
    rows = [(key, what, fmt, results.get(key)) for key, what, fmt in ROWS]
    rows += [
        (f"baseline {key}", what, fmt, results["baseline"].get(key))
        for key, what, fmt in BASELINE_ROWS
        if "baseline" in results
    ]
    for key, what, fmt, figure in rows:
        if figure is None:
            lines.append(f"| `{key}` | {what} | n/a | |")
            continue
        value = fmt.format(figure["median"])
        if figure["n"] > 1:
            value += f" [{fmt.format(figure['low'])}-{fmt.format(figure['high'])}]"
        goal = ""
        if "goal" in figure:
            goal = f"{figure['goal']}: {'met' if figure['met'] else '**missed**'}"
        lines.append(f"| `{key}` | {what} | {value} | {goal} |")
    return "\n".join(lines)


def machine_line(results):
    about = results["machine"]
    blas = about["blas"]
    threads = (
        ", ".join(f"{name}={value}" for name, value in about["thread_settings"].items() if value)
        or "no thread variables set"
    )
    torch = f"torch {about['torch']} ({about['torch_threads']} threads)" if about["torch"] else "torch absent"
    return (
        f"{about['cores']} cores, {about['cpu']}; Python {about['python']}, NumPy {about['numpy']} with "
        f"{blas['name']} {blas['version']} ({blas['openblas configuration']}); {torch}; {threads}; "
        f"load average {about['load_average']['start']:.1f} at the start, {about['load_average']['end']:.1f} at the end"
    )


def write(results, folder):
    """Write results.json, then results.md and results.png drawn from what it holds; return the table."""
    text = json.dumps(results, indent=1, default=dataclasses.asdict)
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    results = json.loads(text)
    plot(results, os.path.join(folder, "results.png"))
    settings = results["settings"]
    baseline = f" against the baseline `{settings['baseline']}`" if settings["baseline"] else ""
    lines = [
        "# Benchmark results",
        "",
        f"`python -m bench` (`make bench`) on {results['generated']}, {results['seconds']} s, measuring "
        f"`{settings['solution']}`{baseline}.",
        "Every figure is a ratio of two sides timed in the same rounds of the same run (the notebook's",
        "seconds excepted): the median over the rounds, with the lowest and highest in brackets.",
        f"Rounds: {settings['rounds']} (attention), {settings['decode_rounds']} (decoding), "
        f"{settings['class_rounds']} (grading a class of {settings['submissions']}; the coordinator: "
        f"{settings.get('copies', 1)} copies of the bundled class on a dask command-line cluster).",
        "",
        table(results),
        "",
        f"Machine: {machine_line(results)}.",
        "",
        *[f"Note: {note}" for note in results["notes"]],
        "",
        "![attention time, decoding time and peak memory](results.png)",
        "",
    ]
    with open(os.path.join(folder, "results.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return table(results)


def plot(results, path):
    """Three panels: attention time per length, generation time per length, peak memory per length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    details = results["details"]
    fig, (ax_sdpa, ax_decode, ax_memory) = plt.subplots(1, 3, figsize=(15, 4.2))

    for side, by_length in details["sdpa"]["seconds"].items():
        lengths = sorted(by_length, key=int)
        ax_sdpa.loglog([int(n) for n in lengths], [1e3 * by_length[n]["median"] for n in lengths], "o-", label=side)
    _length_axis(ax_sdpa, [int(n) for n in lengths])
    ax_sdpa.set(ylabel="ms per call", title="scaled dot-product attention\n(1 x 8 heads x L x 64, float32)")
    ax_sdpa.legend()

    sides = details["decode"]["seconds"]
    tokens = sorted(next(iter(sides.values())), key=int)
    width = 0.8 / len(sides)
    for index, (side, by_tokens) in enumerate(sides.items()):
        positions = [t + (index - (len(sides) - 1) / 2) * width for t in range(len(tokens))]
        ax_decode.bar(positions, [by_tokens[n]["median"] for n in tokens], width, label=side.replace("_", ", "))
    ax_decode.set_yscale("log")
    ax_decode.set_xticks(range(len(tokens)), [f"{n} tokens" for n in tokens])
    ax_decode.set(ylabel="seconds to generate", title="one MultiHeadAttention layer\n(d_model 512, 8 heads, float64)")
    ax_decode.legend(fontsize="small", loc="upper left")

    for name, measured in details["memory"].items():
        ax_memory.loglog(
            measured["lengths"],
            [b / 2**20 for b in measured["peak_bytes"]],
            "o-",
            label=f"{name}: peak (exponent {measured['exponent']:.2f})",
        )
    measured = details["memory"]["solution"]
    ax_memory.loglog(
        measured["lengths"],
        [b / 2**20 for b in measured["tiled_peak_bytes"]],
        "o-",
        label=f"solution, tiled: peak (exponent {measured['tiled_exponent']:.2f})",
    )
    ax_memory.loglog(
        measured["lengths"], [b / 2**20 for b in measured["formula_bytes"]], "k--", label="attention_matrix_bytes"
    )
    _length_axis(ax_memory, measured["lengths"])
    ax_memory.set(ylabel="MiB", title="peak memory of one attention call\n(1 x 8 heads x L x 64, float32)")
    ax_memory.legend(fontsize="small")

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _length_axis(ax, lengths):
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.minorticks_off()
    ax.set_xlabel("sequence length L = S")
