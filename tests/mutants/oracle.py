"""Tell a mutant from the solution without the grader: both run side by side on the probes' inputs.

The solution cells and the mutant's are executed in one plain Python process (no kernel), each
in its own namespace; every case of tests/mutants/probes.py runs in both and what a caller sees
is compared: shapes, dtypes, raised exception types, and values to the contract's precision
(float64 to 1e-9 relative, float32 to 1e-5). No case telling them apart makes the mutant
equivalent on the contract's inputs; the first case that does names the clause it breaks.

Mutants can hang or exhaust memory, so they run in a child process (``python -m
mutants.oracle JOB RESULTS``) under a per-case time limit and an address-space limit; a child
that dies is restarted after the mutant that killed it.
"""

import json
import math
import numbers
import os
import resource
import signal
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from .clauses import clause_for, clauses_of
from .probes import CASES, Raised

CASE_SECONDS = 30  # far above any case's time on the solution (the slowest takes well under a second)
MEMORY_LIMIT = 4 << 30


@dataclass
class Verdict:
    id: str
    equivalent: bool
    cases: int  # cases compared
    name: str = ""  # the contract name of the case that told them apart
    clause: str = ""  # that case's clause (tests/contract.py), "" if none
    input: str = ""  # that case's input
    detail: str = ""  # how the results differ


# -- what a caller sees ---------------------------------------------------------------------------


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException, so that probes' ``except Exception`` let it through."""


def observe(value):
    """Plain data for a result: arrays keep dtype, shape and values; an exception its type."""
    if isinstance(value, Raised):
        return ("raises", value.type)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, np.array(value, copy=True))
    if isinstance(value, (tuple, list)):
        return ("sequence", [observe(item) for item in value])
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (numbers.Number, np.number)):
        return ("number", value)
    if isinstance(value, str):
        return ("text", value)
    if value is None:
        return ("none",)
    return ("object", type(value).__name__)


def describe(observation):
    kind = observation[0]
    if kind == "raises":
        return f"raises {observation[1]}"
    if kind == "array":
        return f"a {np.dtype(observation[1]).name} array {observation[2]}"
    if kind == "sequence":
        return f"a sequence of {len(observation[1])}"
    if kind == "timeout":
        return f"does not finish in {CASE_SECONDS} s"
    if kind == "object":
        return f"a {observation[1]}"
    if kind == "number":
        return _number(observation[1])
    return "None" if kind == "none" else repr(observation[1])


def _number(value):
    return f"{value:.10g}" if isinstance(value, (float, np.floating)) else str(value)


def difference(expected, actual, where=""):
    """How ``actual`` (the mutant's observation) differs from ``expected`` (the solution's), or None."""
    at = f" at {where}" if where else ""
    if expected[0] != actual[0]:
        return f"the solution{at} gives {describe(expected)}, the mutant {describe(actual)}"
    kind = expected[0]
    if kind == "sequence":
        if len(expected[1]) != len(actual[1]):
            return f"the solution{at} gives {describe(expected)}, the mutant {describe(actual)}"
        for index, (e, a) in enumerate(zip(expected[1], actual[1])):
            found = difference(e, a, f"{where}[{index}]")
            if found:
                return found
        return None
    if kind == "array":
        if expected[1] != actual[1] or expected[2] != actual[2]:
            return f"the solution{at} gives {describe(expected)}, the mutant {describe(actual)}"
        return _array_difference(expected[3], actual[3], at)
    if kind == "number":
        if not _same_number(expected[1], actual[1]):
            return f"the solution{at} gives {_number(expected[1])}, the mutant {_number(actual[1])}"
        return None
    if expected[1:] != actual[1:]:
        return f"the solution{at} gives {describe(expected)}, the mutant {describe(actual)}"
    return None


def _same_number(e, a):
    if e == a:
        return True
    e, a = float(e), float(a)
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    return abs(e - a) <= 1e-12 * max(abs(e), abs(a))


def _array_difference(e, a, at):
    if e.dtype.kind not in "fc":
        wrong = e != a
    else:
        rtol, atol = (1e-5, 1e-6) if e.dtype.itemsize <= 4 else (1e-9, 1e-12)
        with np.errstate(all="ignore"):
            same = (e == a) | (np.isnan(e) & np.isnan(a)) | (np.abs(e - a) <= atol + rtol * np.abs(e))
        wrong = ~same
    if not wrong.any():
        return None
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (
        f"{int(wrong.sum())} of {wrong.size} values differ{at}; first at {index}: "
        f"the solution gives {_number(e[index].item())}, the mutant {_number(a[index].item())}"
    )


# -- namespaces -----------------------------------------------------------------------------------


def namespace(prelude, cells):
    """Run the prelude and then each (grade id, code) cell; a cell that raises is noted, as a
    notebook would go on to the next cell."""
    ns = {"__name__": "attention"}
    for code in prelude:
        exec(compile(code, "<prelude>", "exec"), ns)
    failures = {}
    for cell_id, code in cells:
        try:
            exec(compile(code, f"<cell {cell_id}>", "exec"), ns)
        except Exception as error:
            failures[cell_id] = type(error).__name__
    return ns, failures


def run_case(case, ns):
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        return observe(case.run(ns))
    except _Timeout:
        return ("timeout",)
    except Exception as error:  # a case's own code tripped over what the mutant returned
        return observe(Raised(error))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def ordered_cases(function):
    """Every case, those about the mutated function's own clauses first."""
    own = {name for clause in clauses_of(function) for name in clause.names}
    return [c for c in CASES if c.name in own] + [c for c in CASES if c.name not in own]


class Oracle:
    """The solution's observations, made once, and the comparison of each mutant with them."""

    def __init__(self, prelude, cells):
        self.prelude, self.cells = prelude, cells
        ns, failures = namespace(prelude, cells)
        if failures:
            raise RuntimeError(f"the solution's cells raise when run: {failures}")
        self.expected = {index: run_case(case, ns) for index, case in enumerate(CASES)}
        self.index = {id(case): index for index, case in enumerate(CASES)}

    def judge(self, mutant_id, cell_id, function, code):
        cells = [(cid, code if cid == cell_id else source) for cid, source in self.cells]
        ns, failures = namespace(self.prelude, cells)
        if failures:
            raised = "; ".join(f"cell {cid} raises {error}" for cid, error in failures.items())
            return Verdict(mutant_id, False, 0, detail=f"{raised} when run")
        for count, case in enumerate(ordered_cases(function), start=1):
            found = difference(self.expected[self.index[id(case)]], run_case(case, ns))
            if found:
                return Verdict(
                    mutant_id, False, count, case.name, clause_for(case.name, case.phrase).text, case.label, found
                )
        return Verdict(mutant_id, True, len(CASES))


# -- the child process ----------------------------------------------------------------------------

SOLUTION_FAILS = 3  # the child's exit status when the solution itself raises: nothing can be judged


def _child(job_path, results_path):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _raise_timeout)
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    try:
        oracle = Oracle(job["prelude"], [tuple(cell) for cell in job["cells"]])
    except RuntimeError as error:
        print(error, file=sys.stderr)
        sys.exit(SOLUTION_FAILS)
    with open(results_path, "a", encoding="utf-8") as out:
        for mutant in job["mutants"]:
            verdict = oracle.judge(mutant["id"], mutant["cell"], mutant["function"], mutant["code"])
            out.write(json.dumps(asdict(verdict)) + "\n")
            out.flush()


def _raise_timeout(signum, frame):
    raise _Timeout()


def judge_all(mutants, prelude, cells, progress=lambda line: None):
    """A Verdict for each mutant, judged in child processes. The child judges in order and
    writes each verdict as it goes, so when it dies (a segfault, memory outside Python's
    reach) the first mutant without a verdict is the one that killed it."""
    verdicts, remaining = {}, list(mutants)
    env = {**os.environ, "NBGRADER_EXECUTION": "autograde", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    tests_folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="mutants-oracle-") as scratch:
        job_path, results_path = os.path.join(scratch, "job.json"), os.path.join(scratch, "results.jsonl")
        while remaining:
            with open(job_path, "w", encoding="utf-8") as handle:
                json.dump(
                    {
                        "prelude": prelude,
                        "cells": cells,
                        "mutants": [
                            {"id": m.id, "cell": m.cell, "function": m.function, "code": m.code} for m in remaining
                        ],
                    },
                    handle,
                )
            open(results_path, "w").close()
            child = subprocess.run(
                [sys.executable, "-m", "mutants.oracle", job_path, results_path],
                env=env,
                cwd=tests_folder,
                capture_output=True,
                text=True,
            )
            if child.returncode == SOLUTION_FAILS:
                raise RuntimeError(child.stderr.strip())
            with open(results_path, encoding="utf-8") as handle:
                for line in handle:
                    verdict = Verdict(**json.loads(line))
                    verdicts[verdict.id] = verdict
            remaining = [m for m in remaining if m.id not in verdicts]
            progress(f"oracle: {len(verdicts)}/{len(mutants)} judged")
            if remaining and child.returncode == 0:
                raise RuntimeError(f"the oracle stopped early without an error: {child.stderr[-2000:]}")
            if remaining:
                crashed = remaining.pop(0)
                verdicts[crashed.id] = Verdict(
                    crashed.id,
                    False,
                    0,
                    detail=(
                        f"the process judging it died ({_last_line(child.stderr) or f'exit status {child.returncode}'})"
                    ),
                )
    return [verdicts[m.id] for m in mutants]


def _last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


if __name__ == "__main__":
    _child(*sys.argv[1:3])
