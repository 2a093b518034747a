"""Run one sanitized submission in a kernel that cannot stop the class from being graded.

nbgrader's Execute runs the cells with a per-cell timeout. Hostile or broken code still
(1) swallows the interrupt and blocks every later cell, (2) kills the kernel, after which
nbgrader drops the student, (3) floods the output, (4) exhausts memory, or (5) hangs in a
function that many test cells call, costing a full timeout each. GuardedExecute keeps
nbgrader's behaviour for ordinary notebooks and adds, in that order of defence:

* a memory limit on the kernel process (see grading.rlimit);
* an output cap per cell;
* after the kernel dies or stops answering: a restart, a replay of the cells that had run
  cleanly, and the rest of the notebook as usual;
* a time budget for the whole notebook, after which cells are not run;
* the hidden tests' checks (grading.kernel_checks) loaded into each kernel before any cell,
  so they hold the original NumPy and builtins whatever a submission rebinds later.

A cell that cannot be run gets an error output with the reason, so nbgrader scores it 0
and the feedback says why. Every such event is also recorded in the notebook's grading
events (grading.events).

Everything here goes through public extension points: nbconvert's ``preprocess_cell`` (the
per-cell step of the cell loop), nbclient's ``timeout_func`` (the budget caps each cell's
timeout) and its ``on_cell_execute`` and ``on_cell_error`` hooks (a timed-out cell is seen
from the error nbgrader's Execute gives it, ``error_on_timeout``).
"""

import copy
import math
import os
import subprocess
import sys
import time

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Dict, Float, Integer, List, Unicode, default

from .events import record_event


class GradingKernelManager(AsyncKernelManager):
    """Starts a grading kernel: under an address-space limit, with extra environment variables
    and modules imported before its first cell, its console output discarded. A restart
    starts the kernel again with the same arguments."""

    memory_limit = Integer(0, help="Address-space limit of the kernel in bytes; 0 for none.").tag(config=True)
    extra_env = Dict({}, help="Environment variables set for the kernel on top of this process's.").tag(config=True)
    preload = List(Unicode(), [], help="Modules the kernel imports at start-up.").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.memory_limit:
            cmd = [sys.executable, "-m", "grading.rlimit", str(self.memory_limit), "--", *cmd]
        return cmd

    async def start_kernel(self, **kw):
        # The kernel's own console chatter (and a dying kernel's last words) would otherwise
        # interleave with the grader's progress report; what matters is in the cell outputs.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        kw.setdefault("env", {**os.environ, **self.extra_env})
        # IPython runs exec_lines at start-up, before any cell. No name is left in the
        # notebook's namespace.
        kw["extra_arguments"] = [
            *kw.get("extra_arguments", []),
            *(f"--IPKernelApp.exec_lines=import {name} as _preloaded; del _preloaded" for name in self.preload),
        ]
        return await super().start_kernel(**kw)


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute with a time budget, an output cap, a memory limit and kernel recovery."""

    budget = Float(
        120.0, help="Seconds for the whole notebook. Cells left when it runs out are not run (score 0)."
    ).tag(config=True)
    memory_limit = Integer(4 * 2**30, help="Address-space limit of the grading kernel, in bytes (0: none).").tag(
        config=True
    )
    max_output_bytes = Integer(100_000, help="Bytes of stdout and stderr kept per cell; the rest is cut.").tag(
        config=True
    )
    max_display_outputs = Integer(50, help="Rich outputs (plots, HTML) kept per cell; the rest are dropped.").tag(
        config=True
    )
    max_restarts = Integer(
        3, help="Kernel restarts allowed per notebook after a crash or an unanswered interrupt."
    ).tag(config=True)
    # The grader already runs one kernel per core; a multithreaded BLAS in each of them
    # oversubscribes the cores and makes small matrix products (and any timing a notebook
    # does) many times slower and noisier.
    kernel_env = Dict(
        {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        help="Environment variables set for the grading kernel, on top of the grader's own.",
    ).tag(config=True)

    preload = List(
        Unicode(),
        ["grading.kernel_checks"],
        help="Modules imported into every grading kernel (after each restart too) before its first cell.",
    ).tag(config=True)

    def __init__(self, **kw):
        kw.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(**kw)

    @default("timeout_func")
    def _timeout_func_default(self):
        return self._timeout_within_budget

    @default("on_cell_execute")
    def _on_cell_execute_default(self):
        return self._note_cell_start

    @default("on_cell_error")
    def _on_cell_error_default(self):
        return self._note_timeout

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.memory_limit, km.extra_env, km.preload = self.memory_limit, self.kernel_env, self.preload
        return km

    # -- the cell loop (nbconvert's ExecutePreprocessor runs it, one preprocess_cell per cell) --

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.budget
        self._clean = []  # indices of code cells that ran without error: replayed after a restart
        self._restarts = 0
        self._lost = None  # why the remaining cells are not run, once that happens
        self._output_sizes = {}
        self._cell_started, self._cell_timeout = time.monotonic(), None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._lost is None and time.monotonic() >= self._deadline:
            self._out_of_time(index)
        if self._lost is not None:
            cell.outputs = [error_output("NotRun", self._lost)]
            return cell, resources
        try:
            self.execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
        except (DeadKernelError, CellTimeoutError) as error:
            if isinstance(error, CellTimeoutError) and self._ran_out_of_time():
                self._event(index, "timeout", self._timeout_message())
            reason = self._describe(error)
            cell.outputs.append(error_output(type(error).__name__, reason))
            self._event(index, "kernel", reason)
            self._restarts += 1
            if self._restarts > self.max_restarts:
                self._lost = (
                    f"not run: the kernel had to be restarted {self.max_restarts} times, the grader stopped here"
                )
            elif not run_sync(self._async_restart_and_replay)():
                self._lost = "not run: the kernel could not be restored after the failure above"
            return cell, resources
        if not any(out.output_type == "error" for out in cell.outputs):
            self._clean.append(index)
        return cell, resources

    def _out_of_time(self, index):
        self._lost = (
            f"not run: the grader's time budget of {self.budget:g} s for this notebook ran out before this cell"
        )
        self._event(index, "budget", self._lost)

    async def _async_restart_and_replay(self):
        """Fresh kernel, then re-run the cells that had run cleanly; their outputs are kept as
        they were. Whether the kernel is back where it was (if the budget ran out meanwhile,
        the next cell says so)."""
        await ensure_async(self.km.restart_kernel(now=True))
        await ensure_async(self.kc.stop_channels())
        self.kc = None
        await self.async_start_new_kernel_client()
        for index in self._clean:
            if time.monotonic() >= self._deadline:
                return True
            original = self.nb.cells[index]
            try:
                await self.async_execute_cell(copy.deepcopy(original), index, store_history=False)
            except (DeadKernelError, CellTimeoutError):
                return False
            finally:
                self.nb.cells[index] = original
        return True

    # -- nbclient's hooks ------------------------------------------------------------------

    def _timeout_within_budget(self, cell):
        """The cell's timeout: Execute.timeout, cut to what is left of the budget."""
        remaining = max(1, math.ceil(self._deadline - time.monotonic()))
        timeout = self.timeout if self.timeout and self.timeout > 0 else None
        self._cell_timeout = remaining if timeout is None else min(timeout, remaining)
        return self._cell_timeout

    def _note_cell_start(self, cell, cell_index):
        self._cell_started = time.monotonic()

    def _note_timeout(self, cell, cell_index, execute_reply):
        # After a timeout, nbclient interrupts the kernel and replies with error_on_timeout.
        if self.error_on_timeout and execute_reply["content"].get("ename") == self.error_on_timeout["ename"]:
            self._event(cell_index, "timeout", self._timeout_message())

    def _ran_out_of_time(self):
        return self._cell_timeout is not None and time.monotonic() - self._cell_started >= self._cell_timeout

    def _timeout_message(self):
        return (
            "interrupted after its time limit"
            if self._cell_timeout is None
            else f"interrupted after {self._cell_timeout} s"
        )

    def output(self, outs, msg, display_id, cell_index):
        parent = msg["parent_header"].get("msg_id")
        if msg["msg_type"] == "stream":
            used = self._output_sizes.get((parent, "bytes"), 0)
            text = msg["content"].get("text", "")
            self._output_sizes[(parent, "bytes")] = used + len(text)
            if used >= self.max_output_bytes:
                return None
            if used + len(text) > self.max_output_bytes:
                msg = copy.deepcopy(msg)
                msg["content"]["text"] = (
                    text[: self.max_output_bytes - used]
                    + f"\n[output cut by the grader after {self.max_output_bytes} bytes]\n"
                )
                self._event(cell_index, "output", f"output cut after {self.max_output_bytes} bytes")
        elif msg["msg_type"] in ("display_data", "execute_result"):
            count = self._output_sizes.get((parent, "displays"), 0) + 1
            self._output_sizes[(parent, "displays")] = count
            if count > self.max_display_outputs:
                return None
        return super().output(outs, msg, display_id, cell_index)

    # -- reporting -----------------------------------------------------------------------

    def _describe(self, error):
        if isinstance(error, DeadKernelError):
            return (
                "the kernel died while running this cell (os._exit, a crash in compiled code, "
                "or memory beyond the grader's limit); the grader restarted it and went on"
            )
        return (
            "this cell did not stop when interrupted after the time limit (does it catch "
            "KeyboardInterrupt?); the grader restarted the kernel and went on"
        )

    def _event(self, index, kind, detail):
        cell = self.nb.cells[index]
        record_event(
            self.nb,
            cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}",
            kind,
            detail,
            graded=utils.is_grade(cell),
        )
