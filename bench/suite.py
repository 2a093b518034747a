"""Run every measurement, then gather the figures, each with its goal, into one results dict."""

import os
import shutil
import tempfile
import time

from testbed.jupyter_isolation import isolate

from . import coordinator, decode, export, grading_cost, machine, memory, notebooks, sdpa, solution
from .timing import Stat

# key: (comparison, target) of the figures that have a goal; the parallel one depends on the cores.
GOALS = {
    "autograde_overhead": ("<=", 1.3),
    "sdpa_vs_torch_L512": ("<=", 1.5),
    "decode_speedup_T512": (">=", 50.0),
    "memory_exponent": ("~", 2.0),
    "tiled_memory_exponent": ("<=", 1.2),
    "memory_formula_error": ("<=", 0.01),
    "notebook_seconds": ("<=", 10.0),  # the solution notebook, run top to bottom in a fresh kernel
    "export_import_seconds": ("<=", 0.2),
    "serial_seconds_per_submission": ("<=", 0.1),
    "projected_speedup_32_workers": (">=", 20.0),
    "grading_cost_vs_before_sandbox": ("<=", 1.3),
}
EXPONENT_TOLERANCE = 0.1


def parallel_goal(workers):
    """1.7 on 2 cores; 85% of the core count on bigger machines."""
    return 0.85 * workers


def run(
    *,
    solution_path,
    baseline_path=None,
    use_torch=True,
    rounds=7,
    decode_rounds=3,
    class_rounds=2,
    submissions=16,
    copies=2,
    workdir="bench/.work",
    progress=print,
):
    """Every figure of results.json, measured in this process and its kernels."""
    settings = {
        "solution": solution_path,
        "baseline": baseline_path,
        "rounds": rounds,
        "decode_rounds": decode_rounds,
        "class_rounds": class_rounds,
        "submissions": submissions,
        "copies": copies,
    }
    os.makedirs(workdir, exist_ok=True)
    # Absolute: the grader changes directory, and Jupyter's folders must stay where they are.
    scratch = os.path.abspath(tempfile.mkdtemp(prefix="run-", dir=workdir))
    started = time.monotonic()
    try:
        isolate(scratch)
        versions = {"solution": solution.load(solution_path)}
        if baseline_path:
            versions["baseline"] = solution.load(baseline_path)
        torch = sdpa.load_torch() if use_torch else None
        about = machine.describe(torch)
        progress("scaled_dot_product_attention" + (" vs torch" if torch else " (torch absent)") + " ...")
        measured = {"sdpa": sdpa.measure(versions, torch, rounds=rounds)}
        progress("decoding with and without the KV cache ...")
        measured["decode"] = decode.measure(versions, rounds=decode_rounds)
        progress("peak memory ...")
        measured["memory"] = {name: memory.measure(namespace) for name, namespace in versions.items()}
        progress("importing the exported tinytorch.core.attention ...")
        measured["export"] = {
            "import_seconds": export.measure(solution_path, os.path.join(scratch, "export"), rounds=rounds)
        }
        progress(f"the notebook alone and the grading pipeline, {class_rounds} rounds ...")
        measured["grading"] = notebooks.measure(
            solution_path, scratch, rounds=class_rounds, submissions=submissions, progress=progress
        )
        progress(f"grading now and before the sandbox ({grading_cost.BEFORE_SANDBOX}), {class_rounds} rounds ...")
        measured["grading_cost"] = grading_cost.measure(
            scratch, rounds=class_rounds, submissions=max(2, submissions // 2), progress=progress
        )
        progress(f"the coordinator, {class_rounds} rounds of {copies} copies of the bundled class ...")
        measured["coordinator"] = coordinator.measure(scratch, copies=copies, rounds=class_rounds, progress=progress)
        about["load_average"]["end"] = os.getloadavg()[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return assemble(measured, about, settings, seconds=time.monotonic() - started)


def assemble(measured, about, settings, *, seconds):
    """results.json: the figures of the issue at the top level, then notes, details, baseline."""
    grading, attention, decoding = measured["grading"], measured["sdpa"], measured["decode"]
    memory_figures = measured["memory"]["solution"]
    figures = {
        "autograde_overhead": grading["autograde_overhead"],
        "parallel_speedup": grading["parallel_speedup"],
        **_per_size("sdpa_vs_torch_L", attention["ratios"].get("solution_vs_torch"), sdpa.LENGTHS),
        **_per_size("decode_speedup_T", decoding["ratios"]["solution_speedup"], decode.TOKENS),
        "memory_exponent": Stat.of([memory_figures["exponent"]]),
        "tiled_memory_exponent": Stat.of([memory_figures["tiled_exponent"]]),
        "memory_formula_error": Stat.of([memory_figures["formula_error"]]),
        "notebook_seconds": grading["notebook_seconds"],
        "export_import_seconds": measured["export"]["import_seconds"],
        "serial_seconds_per_submission": measured["coordinator"]["serial_seconds_per_submission"],
        "parallel_seconds_per_submission": measured["coordinator"]["parallel_seconds_per_submission"],
        "projected_speedup_32_workers": measured["coordinator"]["projected_speedup_32_workers"],
        "grading_seconds_per_submission": measured["grading_cost"]["seconds_per_submission"],
        "grading_seconds_before_sandbox": measured["grading_cost"]["before_sandbox"],
        "grading_cost_vs_before_sandbox": measured["grading_cost"]["cost_vs_before_sandbox"],
    }
    goals = dict(GOALS, parallel_speedup=(">=", parallel_goal(grading["workers"])))
    results = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "seconds": round(seconds),
        "machine": about,
        "settings": settings,
    }
    results.update({key: _figure(stat, goals.get(key)) for key, stat in figures.items()})
    results["notes"] = []
    if measured["grading_cost"]["before_sandbox"] is None:
        results["notes"].append(
            f"the grader of {grading_cost.BEFORE_SANDBOX} is not in this clone's history: "
            "the figures before the sandbox are null."
        )
    if about["torch"] is None:
        results["notes"].append(
            "torch is not installed or was left out (BENCH_NO_TORCH=1 or --no-torch): "
            "the sdpa_vs_torch figures are null."
        )
    if grading["full_marks"] != grading["graded"]:
        results["notes"].append(
            f"only {grading['full_marks']} of {grading['graded']} graded submissions got "
            f"all {grading['autograded_points']:g} autograded points: the solution or the "
            "pipeline is broken, and the grading figures mean nothing."
        )
    results["details"] = measured
    if settings["baseline"]:
        results["baseline"] = {
            key: _figure(stat, None)
            for key, stat in {
                **_per_size("sdpa_vs_torch_L", attention["ratios"].get("baseline_vs_torch"), sdpa.LENGTHS),
                **_per_size("decode_speedup_T", decoding["ratios"]["baseline_speedup"], decode.TOKENS),
                **_per_size("sdpa_solution_vs_baseline_L", attention["ratios"]["solution_vs_baseline"], sdpa.LENGTHS),
                **_per_size("decode_solution_vs_baseline_T", decoding["ratios"]["solution_vs_baseline"], decode.TOKENS),
            }.items()
        }
    return results


def _per_size(prefix, stats, sizes):
    return {f"{prefix}{size}": None if stats is None else stats[size] for size in sizes}


def _figure(stat, goal):
    """A figure as stored: its Stat fields, then its goal and whether the median meets it."""
    if stat is None:
        return None
    figure = {"median": stat.median, "low": stat.low, "high": stat.high, "n": stat.n}
    if goal is not None:
        comparison, target = goal
        figure["goal"] = f"{comparison} {target:g}"
        figure["met"] = {
            "<=": stat.median <= target,
            ">=": stat.median >= target,
            "~": abs(stat.median - target) <= EXPONENT_TOLERANCE,
        }[comparison]
    return figure
