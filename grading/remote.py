"""The test process's view of a student's kernel: the student's names, as proxies, over a socket.

Every test cell of a notebook, visible and hidden halves alike, runs in a kernel of its own,
the *test kernel*, which never runs a line of the student's code. GuardedExecute starts it
with this module loaded; before each cell the bridge binds the student's names into the
test kernel's namespace, so a test reads as it always has (``softmax(x)``,
``MultiHeadAttention(12, 3, seed=0)``, ``len(cache)``), and each such use becomes a request to
the agent in the student's kernel (grading/student_agent/agent.py):

* a number or a short string the student defined arrives as its value; a function, a class,
  an instance (anything else) arrives as a ``Remote``: a proxy that allows attribute get and
  set, calls and ``len``, nothing more, so NumPy's conversion protocols (``__array__``,
  ``__array_interface__``) never reach the student's side;
* what comes back is plain data decoded without pickle (grading/student_agent/wire.py), or
  another proxy; an exception the student's code raised is raised here as the builtin
  exception it derives from, with the student's own traceback as a note;
* ``use_reference`` swaps a student's function (or a method of their class) for a stand-in
  that calls back here, into a reference implementation, for the rest of the cell;
* ``peak_memory`` measures the student's processes from outside (/proc), while a call runs.

Names the tests define themselves (in a test cell or a setup cell) are the tests': a student's
global of the same name never replaces them. After each test cell the bridge ends the cell
on the student's side, and the grader makes sure the student's kernel is idle again.
"""

import builtins
import os
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

from .student_agent import wire

SOCKET_VARIABLE = "GRADING_STUDENT_SOCKET"  # where the test kernel listens for the student's agent
MEMORY_GROUP_VARIABLE = "GRADING_STUDENT_MEMORY_GROUP"  # the student's memory control group, if any
ACCEPT_TIMEOUT = 30.0  # seconds for the first connection, while both kernels start
MAX_PRINTED = 20_000  # characters of the student's printed output shown per test cell
_ABSENT = object()


class StudentKernelError(Exception):
    """The student's kernel could not answer: it died, hung up, or sent something malformed."""


class Remote:
    """An object of the student's, seen from the test process. Attribute get and set, calls
    and ``len()`` go to the student's kernel; nothing else does."""

    __slots__ = ("_bridge", "_id", "_generation")

    _bridge: "Bridge"
    _id: int
    _generation: int

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # no protocol of Python's or NumPy's reaches the student
        return self._bridge.request("getattr", self, name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in Remote.__slots__:
            object.__setattr__(self, name, value)
        else:
            self._bridge.request("setattr", self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._bridge.request("call", self, list(args), kwargs)

    def __len__(self) -> int:
        length = self._bridge.request("len", self)
        if type(length) is not int or length < 0:
            raise TypeError(f"len() of your {type(self).__name__} gave {length!r}, not a non-negative int")
        return length

    def __bool__(self) -> bool:
        return True

    def peak_memory(self, *args: Any, **kwargs: Any) -> tuple[Any, int]:
        """(result, peak bytes) of calling this object, measured from outside the student's kernel
        (the visible checks' ``peak_memory`` uses it when the notebook is graded)."""
        return self._bridge.peak_memory(self, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<your {type(self).__name__}>"


_remote_classes: dict[str, type[Remote]] = {}


def _remote_class(type_name: str) -> type[Remote]:
    """A Remote subclass named after the student's type, so messages say what the student made."""
    if type_name not in _remote_classes:
        _remote_classes[type_name] = type(type_name, (Remote,), {"__slots__": ()})
    return _remote_classes[type_name]


_error_classes: dict[tuple[str, type[Exception]], type[Exception]] = {}


def student_exception(reply: dict[str, Any]) -> Exception:
    """The exception to raise here for an error reply: the student's exception type's name, as a
    subclass of the builtin exception it derives from, with the student's traceback as a note."""
    base: type[Exception] = next(
        (
            found
            for found in (getattr(builtins, str(name), None) for name in reply.get("bases", []))
            if isinstance(found, type) and issubclass(found, Exception)
        ),
        Exception,
    )
    name = str(reply.get("type", "Exception"))
    if not name.isidentifier():
        name = base.__name__
    if name != base.__name__:
        key = (name, base)
        if key not in _error_classes:
            _error_classes[key] = type(name, (base,), {"__module__": "builtins"})
        base = _error_classes[key]
    error = base(str(reply.get("message", "")))
    trace = str(reply.get("traceback", "")).rstrip()
    if trace:
        error.add_note("In your code:\n" + trace)
    return error


class Bridge:
    """The test kernel's end of the connection to one student's kernel (one at a time: after a
    restart of the student's kernel, its new agent connects and replaces the old)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        os.chmod(path, 0o666)  # the student's kernel runs as a user of its own
        self._listener.listen(16)
        self._connection: socket.socket | None = None
        self._generation = 0
        self._broken = False
        self._seq = 0
        self._peer: int | None = None  # pid of the process at the other end
        self._proxies: dict[tuple[int, int], Remote] = {}
        self._callbacks: dict[int, Callable[..., object]] = {}
        self._injected: dict[str, object] = {}  # name -> what sync bound into the test namespace
        # (namespace, name, what was there) while a reference stands in
        self._swapped: list[tuple[dict[str, object], str, object]] = []
        self._printed = 0

    # -- the connection ------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        """The newest connection from the student's side. A kernel connects while it starts,
        before it answers anything, so a restarted one is waiting here by the next cell: only
        the very first connection is worth waiting for (the two kernels start side by side)."""
        self._listener.setblocking(False)
        while True:
            try:
                self._adopt(self._listener.accept()[0])
            except BlockingIOError:
                break
        if self._connection is None and self._generation == 0:
            self._listener.settimeout(ACCEPT_TIMEOUT)
            try:
                self._adopt(self._listener.accept()[0])
            except TimeoutError:
                pass
        if self._connection is None or self._broken:
            raise StudentKernelError(
                "your kernel is not connected to the grader (it died, did not start, or code in the "
                "notebook stopped it from answering)"
            )
        return self._connection

    def _adopt(self, connection: socket.socket) -> None:
        if self._connection is not None:
            self._connection.close()
        connection.setblocking(True)
        self._connection, self._broken = connection, False
        self._generation += 1
        self._proxies.clear()
        credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        self._peer = struct.unpack("3i", credentials)[0]

    # -- requests ------------------------------------------------------------------------

    def request(self, op: str, *args: object) -> Any:
        """Ask the student's agent for ``op`` on ``args``; its answer, decoded."""
        connection = self._connection if self._connection is not None and not self._broken else self._connect()
        self._seq += 1
        seq = self._seq
        structure, buffers = wire.encode(list(args), self._handle_of)
        try:
            wire.send(connection, {"op": op, "args": structure, "seq": seq}, buffers)
            header, buffers = self._answer_to(connection, seq)
        except (OSError, EOFError, wire.WireError) as error:
            self._broken = True
            raise StudentKernelError(self._why_broken(error)) from None
        except BaseException:  # interrupted (a time limit): the connection is out of step now
            self._broken = True
            raise
        self._forward_printed(header.get("printed"))
        if header["op"] == "error":
            raise student_exception(header)
        return wire.decode(header.get("value"), buffers, self._remote)

    def _answer_to(self, connection: socket.socket, seq: int) -> tuple[dict[str, Any], list[wire.Buffer]]:
        """(header, buffers) of the reply to request ``seq``; the student's callbacks meanwhile
        are served."""
        while True:
            header, buffers = wire.receive(connection)
            op = header.get("op")
            if op == "callback":
                self._serve_callback(connection, header, buffers)
                continue
            if op in ("ok", "error") and header.get("seq") == seq:
                return header, buffers
            # anything else is a late answer to a request that was interrupted

    def _serve_callback(self, connection: socket.socket, header: dict[str, Any], buffers: list[wire.Buffer]) -> None:
        """Run a reference implementation for the student's code; send back its result."""
        reply: dict[str, Any] = {"op": "ok"}
        out: list[wire.Buffer] = []
        try:
            callback = header.get("id")
            function = self._callbacks.get(callback) if isinstance(callback, int) else None
            if function is None:
                raise RuntimeError("a reference implementation that is no longer in use was called")
            args, kwargs = wire.decode(header.get("args"), buffers, self._remote)
            reply["value"], out = wire.encode(function(*args, **dict(kwargs)), self._handle_of)
        except (StudentKernelError, wire.WireError):
            raise
        except Exception as error:
            kind = next(c.__name__ for c in type(error).__mro__ if getattr(builtins, c.__name__, None) is c)
            reply = {"op": "error", "type": kind, "message": str(error)}
        reply["seq"] = header.get("seq")
        wire.send(connection, reply, out)

    def _handle_of(self, value: object) -> dict[str, Any]:
        if isinstance(value, Remote):
            if value._generation != self._generation:
                raise StudentKernelError(
                    f"your {type(value).__name__} was lost when your kernel was restarted after an earlier failure"
                )
            return {"id": value._id}
        raise wire.Unsendable(f"the grader cannot pass a {type(value).__name__} to your code")

    def _remote(self, fields: object) -> Remote:
        if not (isinstance(fields, dict) and type(fields.get("id")) is int and isinstance(fields.get("type"), str)):
            raise wire.WireError("a malformed handle")
        key = (self._generation, fields["id"])
        if key not in self._proxies:
            proxy = object.__new__(_remote_class(fields["type"][:100] or "object"))
            for name, value in (("_bridge", self), ("_id", fields["id"]), ("_generation", self._generation)):
                object.__setattr__(proxy, name, value)
            self._proxies[key] = proxy
        return self._proxies[key]

    def _forward_printed(self, text: object) -> None:
        """What the student's code printed while it ran, shown in the test cell (up to a limit)."""
        if not isinstance(text, str) or not text:
            return
        room = MAX_PRINTED - self._printed
        if room > 0:
            sys.stdout.write(text[:room])
            if len(text) > room:
                sys.stdout.write("\n[the rest of what your code printed was cut by the grader]\n")
        self._printed += len(text)

    def _why_broken(self, error: BaseException) -> str:
        if isinstance(error, (EOFError, ConnectionError)):
            return "your kernel stopped answering the grader (it died or was restarted while this cell ran)"
        if isinstance(error, wire.WireError):
            return f"your kernel sent the grader something that is not plain data ({error})"
        return f"the connection to your kernel failed ({type(error).__name__}: {error})"

    # -- a test cell ---------------------------------------------------------------------

    def begin_cell(self, namespace: dict[str, object]) -> None:
        """Bind the student's current names into the test namespace (the tests' own win)."""
        self._printed = 0
        self._connect()  # a kernel restarted since the last cell has connected anew
        names = self.request("names")
        if not (isinstance(names, dict) and all(isinstance(name, str) and name.isidentifier() for name in names)):
            self._broken = True
            raise StudentKernelError("your kernel answered the grader with something that is not your names")
        for name in list(self._injected):
            if name not in names and namespace.get(name, _ABSENT) is self._injected[name]:
                del namespace[name]
            if name not in names or namespace.get(name, _ABSENT) is not self._injected[name]:
                del self._injected[name]
        for name, value in names.items():
            if name in namespace and name not in self._injected:
                continue  # defined by the tests
            namespace[name] = self._injected[name] = value

    def end_cell(self) -> None:
        """Put the student's own functions back and let the student's kernel go."""
        self.restore()
        if self._connection is not None and not self._broken:
            try:
                wire.send(self._connection, {"op": "end"})
            except OSError:
                self._broken = True

    def use_reference(self, namespace: dict[str, object], implementations: dict[str, Callable[..., object]]) -> None:
        """For the rest of the cell, ``implementations`` ({name: function}; ``Class.method``
        for a method) stand in for the student's own, here and in the student's kernel."""
        swaps: list[list[object]] = []
        for name, function in implementations.items():
            owner, _, attribute = name.rpartition(".")
            callback = len(self._callbacks) + 1
            self._callbacks[callback] = function
            swaps.append([owner or None, attribute, callback])
            if not owner:
                self._swapped.append((namespace, name, namespace.get(name, _ABSENT)))
                namespace[name] = function
        self.request("swap", swaps)

    def restore(self) -> None:
        """Undo use_reference, on both sides."""
        while self._swapped:
            namespace, name, previous = self._swapped.pop()
            if previous is _ABSENT:
                namespace.pop(name, None)
            else:
                namespace[name] = previous
        if self._callbacks:
            self._callbacks.clear()
            if not self._broken:
                self.request("restore")

    def own(self, name: str) -> object:
        """The student's own ``name`` (a function, a class...), even while use_reference has a
        reference version standing in for it; None if the student has no such name."""
        return self._injected.get(name)

    def place(self, value: object) -> Any:
        """A copy of ``value`` made in the student's kernel, as a Remote (to test aliasing)."""
        return self.request("place", value)

    # -- memory, measured from outside ----------------------------------------------------

    def peak_memory(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
        """(result, peak bytes) of a call of the student's: how far the memory of the student's
        processes rose above where it was while the call ran. Read from their control group if
        they have one (finished processes count too), else from /proc."""
        group = os.environ.get(MEMORY_GROUP_VARIABLE)
        if group:
            _write(os.path.join(group, "memory.max_usage_in_bytes"), "0")  # the peak back to the usage
            usage = _number(os.path.join(group, "memory.usage_in_bytes"))
            result = function(*args, **kwargs)
            return result, max(_number(os.path.join(group, "memory.max_usage_in_bytes")) - usage, 0)
        before: dict[int, int] = {}
        for pid in self._student_processes():
            before[pid] = _status(pid, "VmRSS")
            _reset_peak(pid)
        result = function(*args, **kwargs)
        peak = sum(_status(pid, "VmHWM") - before.get(pid, 0) for pid in self._student_processes())
        return result, max(peak, 0)

    def _student_processes(self) -> list[int]:
        """The student's kernel and every process in its sandbox (its pid namespace), or its
        descendants when it runs without a sandbox."""
        if self._peer is None:  # not connected yet: no student's process is known
            return []
        own = _namespace_of(os.getpid())
        theirs = _namespace_of(self._peer)
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        if theirs is not None and theirs != own:
            return [pid for pid in pids if _namespace_of(pid) == theirs]
        family, found = {self._peer}, True
        while found:
            found = False
            for pid in pids:
                if pid not in family and _parent(pid) in family:
                    family.add(pid)
                    found = True
        return sorted(family)


def _namespace_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _status(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status, in bytes (0 for a process that is gone)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _reset_peak(pid: int) -> None:
    _write(f"/proc/{pid}/clear_refs", "5")  # VmHWM back to the current resident size


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as handle:
            handle.write(text)
    except OSError:
        pass  # the process has gone


def _number(path: str) -> int:
    with open(path) as handle:
        return int(handle.read())


# -- the test kernel --------------------------------------------------------------------------

_bridge: Bridge | None = None


def bridge() -> Bridge:
    """The bridge of this test kernel (``install`` creates it)."""
    if _bridge is None:
        raise RuntimeError("this kernel is not a grader's test kernel")
    return _bridge


def install() -> None:
    """Run in the test kernel at start-up: listen for the student's agent; before each cell, bind
    the student's names (GuardedExecute has the student's kernel serving by then), and after it,
    end the cell on the student's side."""
    global _bridge
    shell = sys.modules["IPython"].get_ipython()
    _bridge = Bridge(os.environ[SOCKET_VARIABLE])
    shell.events.register("pre_run_cell", lambda info: _begin(shell.user_ns))
    shell.events.register("post_run_cell", lambda result: _bridge.end_cell())


def _begin(namespace: dict[str, object]) -> None:
    try:
        bridge().begin_cell(namespace)
    except StudentKernelError as error:  # the cell fails: nbgrader fails a cell that writes to stderr
        print(f"The grader could not reach your kernel: {error}", file=sys.stderr)
