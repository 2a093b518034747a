"""Run one sanitized submission: the student's cells in a sandbox, the tests in a kernel of their own.

nbgrader's Execute runs every cell of a notebook in one kernel, so the code that scores a
submission shares an interpreter, and the grader's privileges, with the code it scores.
GuardedExecute runs two kernels and sends each cell to one of them:

* the student's kernel runs what the student wrote or could have edited (solution cells,
  their own cells, the demos) in a sandbox (grading/sandbox.py): its own user, no network, no
  view of the course, limits on memory, processes, files and CPU time;
* the test kernel runs the test cells, visible and hidden halves, with the source nbgrader
  stored in the gradebook for their grade id (never the submission's), and reaches the
  student's definitions only as plain values and handles (grading/remote.py). It never runs
  the student's code, so what it decides (an error or not, hence the score) is the grader's;
* setup cells (grade ids ``setup-...``: the imports, the visible checks) run in both.

For ordinary notebooks the result is what nbgrader's Execute gives. On top of it, as before:
an output cap per cell; after the student's kernel dies or stops answering, a restart, a
replay of the student's cells that had run cleanly, and the rest of the notebook as usual;
a time budget for the whole notebook, after which cells are not run. A cell that cannot be
run gets an error output with the reason, so nbgrader scores it 0 and the feedback says why.
Every such event is recorded in the notebook's grading events (grading.events).

Everything here goes through public extension points: nbconvert's ``preprocess_cell``,
nbclient's ``timeout_func`` and hooks, a second nbclient ``NotebookClient`` for the test
kernel, and jupyter_client's ``format_kernel_cmd`` for the sandbox.
"""

import copy
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Float, Instance, Integer, Unicode, default

from . import events, remote, sandbox, student_agent
from .events import record_event
from .lifeline import bound_to_this_process
from .sandbox import Limits, SandboxUnavailable

SETUP_PREFIX = "setup-"  # locked cells whose grade id starts so run in both kernels
STUDENT, TESTS, BOTH = "student", "tests", "both"
AGENT_SOCKET = "agent.sock"
# Run in the student's kernel before each test cell, out of its history: answer the tests.
SERVE = '__import__("student_agent.agent").agent.serve()'
RECONNECT = '__import__("student_agent.agent").agent.reconnect()'
SERVE_GRACE = 5.0  # seconds the student's kernel has to go idle once a test cell is over


@dataclass(frozen=True)
class StoredCell:
    where: str  # TESTS or BOTH
    source: str  # as nbgrader stored it when the assignment was generated


def stored_cells(info: dict[str, Any]) -> dict[str, StoredCell]:
    """Grade id -> StoredCell for the cells that run in the test kernel, from the gradebook."""
    with Gradebook(info["db_url"]) as gradebook:
        notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
        solutions = {cell.name for cell in notebook.solution_cells}
        tests = {cell.name for cell in notebook.grade_cells} - solutions
        found = {}
        for cell in notebook.source_cells:
            if cell.name in tests:
                found[cell.name] = StoredCell(TESTS, cell.source)
            elif cell.locked and cell.name.startswith(SETUP_PREFIX) and cell.name not in solutions:
                found[cell.name] = StoredCell(BOTH, cell.source)
        return found


class StudentKernelManager(AsyncKernelManager):
    """Starts a student's kernel in the sandbox (or, if the instructor says so, without), under
    resource limits, its connection files in ``run_dir``, the grader's agent loaded before the
    first cell, its console output discarded."""

    run_dir = Unicode()
    sandboxed = Bool(True)
    bwrap = Unicode("")
    groups = Instance(sandbox.ControlGroups, allow_none=True)
    limits = Instance(Limits, ())
    kernel_env = Dict({})

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        # The kernel is not the process jupyter_client starts (that is bubblewrap, whose end
        # ends the sandbox): ipykernel's interrupt message reaches the kernel itself.
        assert self.kernel_spec is not None  # as in super(), which has just read the command from it
        self.kernel_spec.interrupt_mode = "message"
        here = sandbox.INSIDE if self.sandboxed else self.run_dir
        if self.sandboxed:
            command = [self._connection_file_inside() if arg == self.connection_file else arg for arg in command]
        socket_path = os.path.join(here, AGENT_SOCKET)
        command.append(
            "--IPKernelApp.exec_lines="
            f"import student_agent.agent as _agent; _agent.connect({socket_path!r}); del _agent"
        )
        if self.sandboxed:
            return sandbox.command(
                command, self.run_dir, self.limits, self._environment(), sandbox.bwrap(self.bwrap), self.groups
            )
        return bound_to_this_process([*sandbox.prlimit(self.limits, per_user=True), *command])

    # jupyter_client types start_kernel as KernelManager's synchronous one, even on AsyncKernelManager
    async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
        # The kernel's own console chatter would interleave with the grader's progress
        # report; what matters is in the cell outputs.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        # Inside a sandbox the environment is set from scratch (format_kernel_cmd).
        kw["env"] = dict(os.environ) if self.sandboxed else {**os.environ, **self._environment()}
        await super().start_kernel(**kw)

    def _environment(self) -> dict[str, str]:
        """The kernel's whole environment (inside a sandbox nothing else is set): its Jupyter,
        IPython and matplotlib folders in its own /tmp, the agent on its path."""
        here = sandbox.INSIDE if self.sandboxed else self.run_dir
        tmp = "/tmp" if self.sandboxed else os.path.join(self.run_dir, "tmp")
        environment = {
            "PYTHONPATH": os.path.join(here, "lib"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHONDONTWRITEBYTECODE": "1",
            # Arrays from 64 KiB up get pages of their own, returned when freed, so that the
            # memory checks, which measure the kernel from outside, see each one.
            "MALLOC_MMAP_THRESHOLD_": "65536",
            **{name: os.path.join(tmp, name.lower()) for name in ("IPYTHONDIR", "MPLCONFIGDIR")},
            **{name: os.path.join(tmp, name.lower()) for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR")},
            "JUPYTER_RUNTIME_DIR": os.path.join(tmp, "jupyter_runtime_dir"),
            **self.kernel_env,
        }
        if "NBGRADER_EXECUTION" in os.environ:  # nbgrader autograde says so to the notebook
            environment["NBGRADER_EXECUTION"] = os.environ["NBGRADER_EXECUTION"]
        return environment

    def _connection_file_inside(self) -> str:
        """A copy of the connection file with the sandbox's paths, readable by its user."""
        import json

        with open(self.connection_file) as handle:
            info = json.load(handle)
        info["ip"] = os.path.join(sandbox.INSIDE, os.path.basename(self.ip))
        path = os.path.join(self.run_dir, "kernel-inside.json")
        with open(path, "w") as handle:
            json.dump(info, handle)
        if os.geteuid() == 0:
            os.chown(path, sandbox.sandbox_uid(), sandbox.sandbox_uid())
        return os.path.join(sandbox.INSIDE, "kernel-inside.json")


def _short_tmp() -> str:
    """The temporary folder, unless its path is too long for the kernels' Unix sockets (108
    bytes, and a few dozen go to the names below it): then /tmp."""
    folder = tempfile.gettempdir()
    return folder if len(folder) < 50 else "/tmp"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute, with the tests in a kernel of their own and the student's kernel
    sandboxed, a time budget, an output cap and kernel recovery."""

    kc: AsyncKernelClient | None  # nbclient's client of the student's kernel (nbgrader's Execute is untyped)

    budget = Float(
        120.0, help="Seconds for the whole notebook. Cells left when it runs out are not run (score 0)."
    ).tag(config=True)
    sandbox = Bool(
        True,
        help="Run each student's kernel in a bubblewrap sandbox (grading/sandbox.py). False grades with "
        "the student's code running as the grader's own user, with the grader's view of the machine: "
        "every graded notebook then records that it was graded without a sandbox.",
    ).tag(config=True)
    bwrap = Unicode("", help="The bubblewrap executable (default: bwrap on PATH, or beside Python).").tag(config=True)
    memory_limit = Integer(
        4 * 2**30, help="Address-space limit of each process of a student's kernel, in bytes (0: none)."
    ).tag(config=True)
    max_processes = Integer(128, help="Processes and threads a student's kernel may run.").tag(config=True)
    max_open_files = Integer(512, help="Files a student's kernel may have open.").tag(config=True)
    max_file_bytes = Integer(64 << 20, help="Size of any file a student's kernel writes, in bytes.").tag(config=True)
    max_tmp_bytes = Integer(
        64 << 20, help="Size of the sandbox's /tmp, and of the kernel's home folder, in bytes."
    ).tag(config=True)
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
        help="Environment variables set for both kernels.",
    ).tag(config=True)

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("kernel_manager_class", StudentKernelManager)
        super().__init__(**kw)

    @default("timeout_func")
    def _timeout_func_default(self) -> Callable[[NotebookNode], int]:
        return self._timeout_within_budget

    @default("on_cell_execute")
    def _on_cell_execute_default(self) -> Callable[..., None]:
        return self._note_cell_start

    @default("on_cell_error")
    def _on_cell_error_default(self) -> Callable[..., None]:
        return self._note_timeout

    def limits(self) -> Limits:
        return Limits(
            memory=self.memory_limit or 2**62,
            processes=self.max_processes,
            open_files=self.max_open_files,
            file_size=self.max_file_bytes,
            cpu_seconds=int(2 * self.budget + 60),
            tmp_size=self.max_tmp_bytes,
        )

    def create_kernel_manager(self) -> StudentKernelManager:
        km = super().create_kernel_manager()
        km.transport, km.ip = "ipc", os.path.join(self._run_dir, "kernel")
        km.connection_file = os.path.join(self._run_dir, "kernel.json")
        km.run_dir, km.sandboxed, km.limits, km.kernel_env = self._run_dir, self.sandbox, self.limits(), self.kernel_env
        km.bwrap, km.groups = self.bwrap, self._groups
        return km

    # -- the notebook ------------------------------------------------------------------------

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any], km: StudentKernelManager | None = None
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if self.sandbox and (problem := sandbox.available(self.bwrap)):
            raise SandboxUnavailable(problem)
        self._stored = stored_cells(resources["nbgrader"])
        self._deadline = time.monotonic() + self.budget
        self._clean: list[int] = []  # cells that ran cleanly in the student's kernel: replayed after a restart
        self._trusted: list[int] = []  # cells run in the test kernel: replayed if it has to be restarted
        self._restoring = self._test_kernel_restarted = False
        self._restarts = 0
        self._lost: str | None = None  # why the remaining cells are not run, once that happens
        self._output_sizes: dict[tuple[str, str], int] = {}  # (request id, "bytes" or "displays") -> so far
        self._cell_started = time.monotonic()
        self._cell_timeout: int | None = None
        if not self.sandbox:
            record_event(
                nb,
                "notebook",
                events.UNSANDBOXED,
                "graded without a sandbox (the instructor turned it off): the student's code ran with "
                "the grader's privileges",
            )
        with tempfile.TemporaryDirectory(prefix="grading-kernels-", dir=_short_tmp()) as scratch:
            self._run_dir = self._prepare_run_dir(scratch)
            self._groups = sandbox.ControlGroups(os.path.basename(scratch), self.limits()) if self.sandbox else None
            memory = self._groups.memory if self._groups else None
            self._tests = TestKernel(self, nb, os.path.join(self._run_dir, AGENT_SOCKET), scratch, memory)
            try:
                return super().preprocess(nb, resources, km)
            finally:
                self._tests.shut_down()
                if self._groups:
                    self._groups.remove()

    def _prepare_run_dir(self, scratch: str) -> str:
        """The student kernel's run folder: its connection files, the agent's socket and code."""
        run_dir = os.path.join(scratch, "student")
        package = os.path.dirname(student_agent.__file__)
        shutil.copytree(
            package, os.path.join(run_dir, "lib", "student_agent"), ignore=shutil.ignore_patterns("__pycache__")
        )
        os.makedirs(os.path.join(run_dir, "tmp"), exist_ok=True)
        os.chmod(scratch, 0o755)
        if os.geteuid() == 0 and self.sandbox:  # the kernel's user creates its sockets here
            uid = sandbox.sandbox_uid()
            for parent, folders, files in os.walk(run_dir):
                for name in [parent] + [os.path.join(parent, f) for f in folders + files]:
                    os.chown(name, uid, uid)
        return run_dir

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._lost is None and time.monotonic() >= self._deadline:
            self._out_of_time(index)
        if self._lost is not None:
            cell.outputs = [error_output("NotRun", self._lost)]
            return cell, resources
        stored = self._stored.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if stored is None or stored.where == BOTH:
            self._run_student(cell, index)
        if stored is not None and self._lost is None:
            self._run_tests(cell, index, stored)
        return cell, resources

    # -- the student's kernel ----------------------------------------------------------------

    def _run_student(self, cell: NotebookNode, index: int) -> None:
        try:
            self.execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
        except (DeadKernelError, CellTimeoutError) as error:
            if isinstance(error, CellTimeoutError) and self._ran_out_of_time():
                self._event(index, events.TIMEOUT, self._timeout_message())
            reason = self._describe(error)
            cell.outputs.append(error_output(type(error).__name__, reason))
            self._recover(index, reason)
            return
        if not any(out.output_type == "error" for out in cell.outputs):
            self._clean.append(index)

    def _recover(self, index: int, reason: str) -> None:
        """Restart the student's kernel and replay its clean cells, or give up on the notebook."""
        self._event(index, events.KERNEL, reason)
        self._restarts += 1
        if self._restarts > self.max_restarts:
            self._lost = f"not run: the kernel had to be restarted {self.max_restarts} times, the grader stopped here"
        elif not run_sync(self._async_restart_and_replay)():
            self._lost = "not run: the kernel could not be restored after the failure above"

    def _out_of_time(self, index: int) -> None:
        self._lost = (
            f"not run: the grader's time budget of {self.budget:g} s for this notebook ran out before this cell"
        )
        self._event(index, events.BUDGET, self._lost)

    async def _async_restart_and_replay(self) -> bool:
        """Fresh kernel, then re-run the cells that had run cleanly; their outputs are kept as
        they were. Whether the kernel is back where it was (if the budget ran out meanwhile,
        the next cell says so)."""
        await ensure_async(self.km.restart_kernel(now=True))
        assert self.kc is not None
        self.kc.stop_channels()
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

    # -- the test kernel -----------------------------------------------------------------------

    def _run_tests(self, cell: NotebookNode, index: int, stored: StoredCell) -> None:
        """Run the stored source of a test or setup cell in the test kernel. A setup cell keeps
        the outputs of the student's run; a test cell gets the test kernel's."""
        target = cell if stored.where == TESTS else copy.deepcopy(cell)
        target.source = stored.source
        self._trusted.append(index)
        problem = run_sync(self._async_run_tests)(target, index)
        if problem:
            if stored.where == TESTS:
                cell.outputs.append(error_output("KernelRestarted", problem))
            self._recover(index, problem)
        if stored.where == BOTH and any(out.output_type == "error" for out in target.outputs):
            self._event(index, events.GRADER, "a setup cell failed in the grader's test kernel")

    async def _async_run_tests(self, cell: NotebookNode, index: int) -> str | None:
        """Run ``cell`` in the test kernel, the student's kernel answering its requests meanwhile
        (grading.remote binds the student's names before the cell, ends it on their side after).
        None, or why the student's kernel must be restarted."""
        await self._tests.ready()
        assert self.kc is not None  # as nbclient has it, once the notebook's kernel has started
        request = self.kc.execute(SERVE, silent=True, store_history=False, allow_stdin=False)
        try:
            await self._tests.client.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
        except (DeadKernelError, CellTimeoutError) as error:
            # Not the student's doing (their code never runs there): restore both kernels and run
            # the cell again, once per notebook.
            self._event(
                index, events.GRADER, f"the test kernel failed ({type(error).__name__}): both kernels restarted"
            )
            failure = error_output(type(error).__name__, "the grader's test kernel failed on this cell")
            if self._test_kernel_restarted:
                cell.outputs.append(failure)
                return None
            self._test_kernel_restarted = True
            if problem := await self._restart_test_kernel(index):
                cell.outputs.append(failure)
                return problem
            cell.outputs = []
            return await self._async_run_tests(cell, index)
        self.code_cells_executed += 1
        timed_out = any(
            out.output_type == "error" and out.get("ename") == self.error_on_timeout.get("ename")
            for out in cell.outputs
        )
        if timed_out:
            if await self._interrupted(request):
                return None
            return (
                "your code did not stop when interrupted after the time limit while this test ran "
                "(does it catch KeyboardInterrupt?); the grader restarted your kernel and went on"
            )
        if not await self._serving_ended(request):
            return "your kernel did not go back to idle after this test (it died, or hung); the grader restarted it"
        return None

    async def _interrupted(self, request: str) -> bool:
        """After a test cell ran out of time: whether interrupting the student's kernel stopped
        their code. Then the agent connects anew, so that nothing half-sent is left between
        the kernels."""
        await ensure_async(self.km.interrupt_kernel())
        if not await self._serving_ended(request):
            return False
        assert self.kc is not None
        return await self._serving_ended(self.kc.execute(RECONNECT, silent=True, store_history=False))

    async def _restart_test_kernel(self, index: int) -> str | None:
        """A fresh test kernel, and a fresh student's kernel whose agent connects to it, both
        brought back to where they were: the student's clean cells replayed, then every earlier
        cell of the test kernel (a test cell defines what later ones use: the reference versions,
        helpers), outputs discarded. None, or why the notebook cannot go on."""
        failed = "the kernels could not be restored after the grader's test kernel failed"
        if self._restoring:
            return failed
        self._restoring = True
        try:
            await self._tests.restart()
            if not await self._async_restart_and_replay():
                return failed
            for earlier in self._trusted:
                if earlier >= index or time.monotonic() >= self._deadline:
                    break
                replay = copy.deepcopy(self.nb.cells[earlier])
                replay.source = self._stored[replay.metadata["nbgrader"]["grade_id"]].source
                if await self._async_run_tests(replay, earlier):
                    return failed
            return None
        finally:
            self._restoring = False

    async def _serving_ended(self, request: str) -> bool:
        """Whether the student's kernel answered ``request`` (SERVE) within SERVE_GRACE."""
        deadline = time.monotonic() + SERVE_GRACE
        while time.monotonic() < deadline:
            try:
                assert self.kc is not None
                reply = await self.kc.get_shell_msg(timeout=0.5)
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return False
                continue
            if reply["parent_header"].get("msg_id") == request:
                return True
        return False

    # -- nbclient's hooks ----------------------------------------------------------------------

    def _timeout_within_budget(self, cell: NotebookNode) -> int:
        """The cell's timeout: Execute.timeout, cut to what is left of the budget."""
        remaining = max(1, math.ceil(self._deadline - time.monotonic()))
        timeout = self.timeout if self.timeout and self.timeout > 0 else None
        self._cell_timeout = remaining if timeout is None else min(timeout, remaining)
        return self._cell_timeout

    def _note_cell_start(self, cell: NotebookNode, cell_index: int) -> None:
        self._cell_started = time.monotonic()

    def _note_timeout(self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
        # After a timeout, nbclient interrupts the kernel and replies with error_on_timeout.
        if self.error_on_timeout and execute_reply["content"].get("ename") == self.error_on_timeout["ename"]:
            self._event(cell_index, events.TIMEOUT, self._timeout_message())

    def _ran_out_of_time(self) -> bool:
        return self._cell_timeout is not None and time.monotonic() - self._cell_started >= self._cell_timeout

    def _timeout_message(self) -> str:
        return (
            "interrupted after its time limit"
            if self._cell_timeout is None
            else f"interrupted after {self._cell_timeout} s"
        )

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
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
                self._event(cell_index, events.OUTPUT, f"output cut after {self.max_output_bytes} bytes")
        elif msg["msg_type"] in ("display_data", "execute_result"):
            count = self._output_sizes.get((parent, "displays"), 0) + 1
            self._output_sizes[(parent, "displays")] = count
            if count > self.max_display_outputs:
                return None
        return super().output(outs, msg, display_id, cell_index)

    # -- reporting -----------------------------------------------------------------------

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, DeadKernelError):
            return (
                "the kernel died while running this cell (os._exit, a crash in compiled code, "
                "or memory beyond the grader's limit); the grader restarted it and went on"
            )
        return (
            "this cell did not stop when interrupted after the time limit (does it catch "
            "KeyboardInterrupt?); the grader restarted the kernel and went on"
        )

    def _event(self, index: int, kind: str, detail: str) -> None:
        cell = self.nb.cells[index]
        record_event(
            self.nb,
            cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}",
            kind,
            detail,
            graded=utils.is_grade(cell),
        )


class TrustedKernelManager(AsyncKernelManager):
    """The test kernel's manager: the kernel ends with the grading process (grading.lifeline)."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return bound_to_this_process(super().format_kernel_cmd(extra_arguments))


class TestKernel:
    """The kernel the tests run in: the grader's own Python, grading.remote installed, its own
    nbclient client with the executor's time limits and hooks. Started when a notebook starts
    (alongside the student's kernel), shut down when it ends."""

    def __init__(
        self,
        executor: GuardedExecute,
        nb: NotebookNode,
        socket_path: str,
        scratch: str,
        memory_group: str | None = None,
    ) -> None:
        self.socket_path = socket_path
        folder = os.path.join(scratch, "tests")
        os.makedirs(folder)
        # nbclient types its km as any KernelManager (synchronous methods): kept here as what it is
        self.km = km = TrustedKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(folder, "kernel"))
        km.connection_file = os.path.join(folder, "kernel.json")
        self.client = NotebookClient(
            nb,
            km=km,
            timeout=executor.timeout,
            timeout_func=executor.timeout_func,
            startup_timeout=executor.startup_timeout,
            interrupt_on_timeout=True,
            error_on_timeout=executor.error_on_timeout,
            raise_on_iopub_timeout=executor.raise_on_iopub_timeout,
            allow_errors=True,
            record_timing=False,
            on_cell_execute=executor.on_cell_execute,
            on_cell_error=executor.on_cell_error,
            on_cell_executed=executor.on_cell_executed,
            extra_arguments=[
                "--HistoryManager.hist_file=:memory:",
                "--IPKernelApp.exec_lines=import grading.remote as _remote; _remote.install(); del _remote",
            ],
        )
        self._start_kwargs = {
            "env": {
                **os.environ,
                **executor.kernel_env,
                remote.SOCKET_VARIABLE: socket_path,
                **({remote.MEMORY_GROUP_VARIABLE: memory_group} if memory_group else {}),
            },
            "cwd": folder,
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
        }
        run_sync(self.client.async_start_new_kernel)(**self._start_kwargs)
        self._ready = False

    async def ready(self) -> None:
        if not self._ready:
            await self.client.async_start_new_kernel_client()
            self._ready = True

    async def restart(self) -> None:
        """A fresh test kernel (GuardedExecute then runs the setup cells in it again)."""
        await ensure_async(self.km.restart_kernel(now=True))
        assert self.client.kc is not None  # ready() made it
        self.client.kc.stop_channels()
        self._ready = False
        await self.ready()

    def shut_down(self) -> None:
        if self.client.kc is not None:
            self.client.kc.stop_channels()
        if self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)
