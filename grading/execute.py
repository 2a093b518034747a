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
and the feedback says why. Every such event is also recorded in ``self.events``.
"""

import copy
import os
import subprocess
import sys
import time

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Dict, Float, Integer, List, Unicode


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel under an address-space limit."""

    memory_limit = Integer(0, help="Address-space limit of the kernel in bytes; 0 for none.").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.memory_limit:
            cmd = [sys.executable, "-m", "grading.rlimit", str(self.memory_limit), "--", *cmd]
        return cmd


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute with a time budget, an output cap, a memory limit and kernel recovery."""

    budget = Float(
        120.0, help="Seconds for the whole notebook. Cells left when it runs out are not run (score 0)."
    ).tag(config=True)
    memory_limit = Integer(
        4 * 2**30, help="Address-space limit of the grading kernel, in bytes (0: none)."
    ).tag(config=True)
    max_output_bytes = Integer(
        100_000, help="Bytes of stdout and stderr kept per cell; the rest is cut."
    ).tag(config=True)
    max_display_outputs = Integer(
        50, help="Rich outputs (plots, HTML) kept per cell; the rest are dropped."
    ).tag(config=True)
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
        Unicode(), ["grading.kernel_checks"],
        help="Modules imported into every grading kernel (after each restart too) before its first cell.",
    ).tag(config=True)

    def __init__(self, **kw):
        kw.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(**kw)
        self.events = []

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.memory_limit = self.memory_limit
        return km

    async def async_start_new_kernel(self, **kwargs):
        # The kernel's own console chatter (and a dying kernel's last words) would otherwise
        # interleave with the grader's progress report; what matters is in the cell outputs.
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        kwargs.setdefault("env", {**os.environ, **self.kernel_env})
        # IPython runs exec_lines at start-up, before any cell; the kernel manager passes the same
        # arguments again on every restart. No name is left in the notebook's namespace.
        preload = [f"--IPKernelApp.exec_lines=import {name} as _preloaded; del _preloaded" for name in self.preload]
        self.extra_arguments = [arg for arg in self.extra_arguments if arg not in preload] + preload
        await super().async_start_new_kernel(**kwargs)

    # -- nbconvert entry point -------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        # Same set-up as nbconvert's ExecutePreprocessor.preprocess; only the cell loop differs.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.events = []
        self._output_sizes = {}
        run_sync(self._async_run_cells)()
        self.set_widgets_metadata()
        return self.nb, self.resources

    # -- the cell loop -----------------------------------------------------------------------

    async def _async_run_cells(self):
        self._deadline = time.monotonic() + self.budget
        clean = []  # indices of code cells that ran without error: replayed after a restart
        restarts = 0
        lost = None  # why the kernel could not be brought back, once that happens
        async with self.async_setup_kernel():
            await self.async_wait_for_reply(await ensure_async(self.kc.kernel_info()))
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if lost is None and time.monotonic() >= self._deadline:
                    lost = (f"not run: the grader's time budget of {self.budget:g} s for this "
                            "notebook ran out before this cell")
                    self._event(index, "budget", lost)
                if lost is not None:
                    cell.outputs = [error_output("NotRun", lost)]
                    continue
                try:
                    await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
                except (DeadKernelError, CellTimeoutError) as error:
                    reason = self._describe(error)
                    cell.outputs.append(error_output(type(error).__name__, reason))
                    self._event(index, "kernel", reason)
                    restarts += 1
                    if restarts > self.max_restarts:
                        lost = (f"not run: the kernel had to be restarted {self.max_restarts} times, "
                                "the grader stopped here")
                    elif not await self._async_restart_and_replay(clean):
                        lost = "not run: the kernel could not be restored after the failure above"
                    continue
                if not any(out.output_type == "error" for out in cell.outputs):
                    clean.append(index)

    async def _async_restart_and_replay(self, indices):
        """Fresh kernel, then re-run the cells that had run cleanly; their outputs are kept as they were."""
        await ensure_async(self.km.restart_kernel(now=True))
        await ensure_async(self.kc.stop_channels())
        self.kc = None
        await self.async_start_new_kernel_client()
        for index in indices:
            if time.monotonic() >= self._deadline:
                return False
            original = self.nb.cells[index]
            try:
                await self.async_execute_cell(copy.deepcopy(original), index, store_history=False)
            except (DeadKernelError, CellTimeoutError):
                return False
            finally:
                self.nb.cells[index] = original
        return True

    # -- hooks into nbclient -------------------------------------------------------------

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic() + 0.999))
        return remaining if timeout is None else min(timeout, remaining)

    async def _async_handle_timeout(self, timeout, cell=None):
        index = self.nb.cells.index(cell) if cell in self.nb.cells else None
        self._event(index, "timeout", f"interrupted after {timeout} s")
        return await super()._async_handle_timeout(timeout, cell)

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
                msg["content"]["text"] = (text[: self.max_output_bytes - used]
                                          + f"\n[output cut by the grader after {self.max_output_bytes} bytes]\n")
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
            return ("the kernel died while running this cell (os._exit, a crash in compiled code, "
                    "or memory beyond the grader's limit); the grader restarted it and went on")
        return ("this cell did not stop when interrupted after the time limit (does it catch "
                "KeyboardInterrupt?); the grader restarted the kernel and went on")

    def _event(self, index, kind, detail):
        cell = self.nb.cells[index] if index is not None else None
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id") if cell is not None else None
        self.events.append({"cell": grade_id or f"cell {index}", "kind": kind, "detail": detail,
                            "graded": bool(cell is not None and utils.is_grade(cell))})

