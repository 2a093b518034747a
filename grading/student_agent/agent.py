"""The student's end of the grader: answers the test process from inside the student's kernel.

The test cells of a notebook run in a process of their own (grading.remote), which never runs
the student's code. It reaches the student's definitions through this agent, which the grader
loads into the student's kernel before the first cell: before each test cell the grader runs
``serve()`` in the kernel (a cell of one call, kept out of the history), and the agent answers
requests until the test process says the cell is over. A request names the student's globals,
gets or sets an attribute, calls a function or method, takes a ``len``, or swaps a function for
a stand-in that calls back to the test process (a reference version of an earlier part).

Answers are plain values (grading/student_agent/wire.py) or handles to the student's objects,
which stay here. Nothing in this module is a defence: it runs with the student's code, which
may change it at will. Whatever it does, the test process receives plain data only, and a
student who rewrites this module changes no more than what their own functions seem to return.
"""

import builtins
import contextlib
import io
import socket
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import wire

MAX_OUTPUT = 20_000  # characters of a call's printed output passed on to the test cell
MAX_TEXT = 4_000  # characters of an error message or traceback

_state: dict[str, Any] = {"connection": None, "seq": 0}  # the socket to the test process, its path, the last seq
_handles: dict[int, object] = {}  # handle id -> object, kept alive while the test process may refer to it
_ids: dict[int, int] = {}  # id(object) -> handle id
_swapped: list[tuple[Any, str, object]] = []  # (owner, name, what was there, or _ABSENT) while a stand-in replaces it
_ABSENT = object()


def connect(path: str, timeout: float = 60.0) -> None:
    """Connect to the test process's socket; it may still be starting, so try for a while."""
    deadline = time.monotonic() + timeout
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(path)
        except OSError:
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            _state["connection"], _state["path"] = connection, path
            return


def reconnect() -> None:
    """A fresh connection (after the grader interrupted a call: the old one may hold half a message)."""
    _state["connection"].close()
    connect(_state["path"])


def serve() -> None:
    """Answer the test process's requests until it ends the test cell."""
    try:
        while True:
            header, buffers = wire.receive(_state["connection"])
            if header.get("op") == "end":
                return
            _answer(header, buffers)
    except _CellOver:
        return


class _CellOver(BaseException):
    """The test process ended the test cell while a stand-in waited for its answer."""


# -- requests from the test process ----------------------------------------------------------


def _answer(header: dict[str, Any], buffers: list[wire.Buffer]) -> None:
    printed = _Capped()
    try:
        with _captured(printed):
            value = _OPS[header["op"]](*wire.decode(header.get("args", []), buffers, _object))
        structure, out = wire.encode(value, _handle)
        reply = {"op": "ok", "value": structure}
    except (KeyboardInterrupt, _CellOver):
        raise  # the grader interrupted a call that took too long, or ended the cell
    except BaseException as error:  # the student's code failed: the test process says so
        reply, out = _describe(error), []
    reply.update(seq=header.get("seq"), printed=printed.getvalue())
    try:
        wire.send(_state["connection"], reply, out)
    except wire.Unsendable as error:  # a result too large to send: the test says so
        wire.send(_state["connection"], dict(_describe(error), seq=header.get("seq"), printed=""))


def _names() -> dict[str, object]:
    """The student's globals: numbers and short strings by value, everything else by handle."""
    shell = sys.modules["IPython"].get_ipython()
    hidden = {"In", "Out", "get_ipython", "exit", "quit", "open"}
    names: dict[str, object] = {}
    for name, value in list(shell.user_ns.items()):
        if name.startswith("_") or name in hidden or isinstance(value, types.ModuleType):
            continue
        plain = (
            value is None
            or isinstance(value, (bool, int, float, np.generic))
            or (isinstance(value, str) and len(value) < 10_000)
        )
        names[name] = value if plain else _Handle(value)
    return names


def _swap(replacements: list[list[Any]]) -> None:
    """Put stand-ins in the student's globals or on their classes: [owner or None, name, id]."""
    namespace = sys.modules["IPython"].get_ipython().user_ns
    for owner_name, name, callback in replacements:
        stand_in = _stand_in(callback, name)
        if owner_name is None:
            _swapped.append((namespace, name, namespace.get(name, _ABSENT)))
            namespace[name] = stand_in
        elif isinstance(namespace.get(owner_name), type):  # no such class: nothing to replace
            owner = namespace[owner_name]
            _swapped.append((owner, name, vars(owner).get(name, _ABSENT)))
            setattr(owner, name, stand_in)


def _restore() -> None:
    """Put back what _swap replaced."""
    while _swapped:
        owner, name, original = _swapped.pop()
        if isinstance(owner, dict):
            if original is _ABSENT:
                owner.pop(name, None)
            else:
                owner[name] = original
        elif original is _ABSENT:
            with contextlib.suppress(AttributeError):
                delattr(owner, name)
        else:
            setattr(owner, name, original)


_OPS: dict[str, Callable[..., object]] = {
    "names": _names,
    "getattr": getattr,
    "setattr": setattr,
    "call": lambda function, args, kwargs: function(*args, **kwargs),
    "len": len,
    "place": lambda value: _Handle(value),
    "swap": _swap,
    "restore": _restore,
}


# -- stand-ins that call back to the test process ----------------------------------------------


def _stand_in(callback: int, name: str) -> Callable[..., Any]:
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return _request({"op": "callback", "id": callback, "args": [args, kwargs]})

    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


def _request(header: dict[str, Any]) -> Any:
    """Send a request to the test process and wait for its answer, answering its own requests
    (about the arguments passed, say) meanwhile."""
    _state["seq"] += 1
    seq = _state["seq"]
    structure, out = wire.encode(header.pop("args"), _handle)
    wire.send(_state["connection"], dict(header, args=structure, seq=seq), out)
    while True:
        reply, buffers = wire.receive(_state["connection"])
        if reply.get("op") in ("ok", "error"):
            if reply.get("seq") != seq:
                continue  # the answer to a request interrupted earlier
            if reply["op"] == "ok":
                return wire.decode(reply["value"], buffers, _object)
            error_type = getattr(builtins, str(reply.get("type")), None)
            if not (isinstance(error_type, type) and issubclass(error_type, Exception)):
                error_type = RuntimeError
            raise error_type(reply.get("message", ""))
        if reply.get("op") == "end":
            raise _CellOver
        _answer(reply, buffers)


# -- handles and errors ----------------------------------------------------------------------


class _Handle:
    """Marks a value that goes to the test process by handle, even if it is plain data."""

    def __init__(self, value: object) -> None:
        self.value = value


def _handle(value: object) -> dict[str, Any]:
    """The handle fields of an object that stays here."""
    value = value.value if isinstance(value, _Handle) else value
    number = _ids.get(id(value))
    if number is None or _handles.get(number) is not value:
        number = len(_handles) + 1
        _handles[number], _ids[id(value)] = value, number
    name = value.__name__ if isinstance(value, type) else type(value).__name__
    return {"id": number, "type": str(name)[:100], "callable": callable(value)}


def _object(fields: object) -> object:
    """The object a handle from the test process refers to."""
    number = fields.get("id") if isinstance(fields, dict) else None
    if number not in _handles:
        raise LookupError("the grader referred to an object this kernel does not have")
    return _handles[number]


def _describe(error: BaseException) -> dict[str, Any]:
    """An error reply: the exception's type, its builtin ancestors, message and traceback."""
    bases = [cls.__name__ for cls in type(error).__mro__ if getattr(builtins, cls.__name__, None) is cls]
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename != __file__ and "student_agent" not in frame.filename
    ]
    for frame in frames:
        frame.filename = _cell_name(frame.filename)
    return {
        "op": "error",
        "type": type(error).__name__[:100],
        "bases": bases,
        "message": str(error)[:MAX_TEXT],
        "traceback": "".join(traceback.format_list(frames))[-MAX_TEXT:],
    }


def _cell_name(filename: str) -> str:
    """IPython's name for a cell's code ("Cell In[3]"), as its own tracebacks say it."""
    shell = sys.modules["IPython"].get_ipython()
    try:
        name = shell.compile.format_code_name(filename)
    except Exception:  # not IPython's cache, or an IPython without the method
        return filename
    return " ".join(name) if name else filename


class _Capped(io.StringIO):
    def write(self, text: str) -> int:
        room = MAX_OUTPUT - self.tell()
        return super().write(text[: max(room, 0)]) if room > 0 else len(text)


@contextlib.contextmanager
def _captured(printed: io.StringIO) -> Iterator[None]:
    """Run the student's code as the test cells always have: warnings silenced (values are
    still checked in full), stderr dropped, stdout kept (up to MAX_OUTPUT) for the test cell."""
    with (
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
        contextlib.redirect_stderr(io.StringIO()),
        contextlib.redirect_stdout(printed),
    ):
        warnings.simplefilter("ignore")
        yield
