"""Plain values over a socket, and nothing else: the one format between the tests and a student.

A message is a frame: its length (8 bytes), the length of its header (4 bytes), the header as
UTF-8 JSON, then the raw bytes of the arrays and byte strings the header refers to. A value
is None, a bool, int, float, str, a list, a tuple, a dict, bytes, a NumPy array of a numeric
or boolean dtype (``DTYPES``), a NumPy scalar of one of those, such a dtype itself (as a test
passes ``dtype=np.float32``), or a *handle*: a reference to an object that stays on the side
that owns it. Decoding never runs code (no pickle, no eval):
it builds those types from JSON and ``numpy.frombuffer`` with a dtype from a fixed list, and
refuses anything else. Sizes are capped, so a message cannot exhaust the reader's memory.

Handles are encoded by a callback of the sender (``handle_of``) and decoded by one of the
receiver (``from_handle``): the agent in the student's kernel hands out handles to the
student's objects, the test process sends them back as arguments.
"""

import json
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_MESSAGE = 256 << 20  # bytes: far above what a test sends or reads, far below a worker's memory
MAX_HEADER = 16 << 20  # bytes of JSON: arrays travel as raw bytes beside it
MAX_DIMENSIONS = 32
DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128".split()
)
_FRAME = struct.Struct("<QI")
_TAGS = ("$tuple", "$dict", "$bytes", "$array", "$scalar", "$dtype", "$handle")
_BUILTIN_TYPES: dict[str, type] = {"bool": bool, "int": int, "float": float, "complex": complex}

# What travels: a JSON-ready structure (None, bool, int, float, str, lists and tagged dicts), and
# the raw bytes it refers to. Values on either side are whatever the other side sent: Any.
Structure = Any
Buffer = bytes | memoryview
Handles = Callable[[object], dict[str, Any]]  # an object -> its handle fields


class WireError(Exception):
    """A message that is not a well-formed frame of plain values."""


class Unsendable(TypeError):
    """A value that is neither plain data nor something the sender hands out handles for."""


# -- values -----------------------------------------------------------------------------------


def encode(value: object, handle_of: Handles | None = None) -> tuple[Structure, list[Buffer]]:
    """(JSON-ready structure, list of buffers) for ``value``; ``handle_of(obj)`` gives the handle
    fields (a dict) of an object that is not plain data, or raises Unsendable."""
    buffers: list[Buffer] = []

    def walk(item: object, depth: int) -> Structure:
        if depth > 64:
            raise Unsendable("a value nested more than 64 levels deep")
        if item is None or isinstance(item, (bool, str)):
            return item
        if isinstance(item, int):
            return int(item)  # an int subclass travels as a plain int
        if isinstance(item, float):
            return float(item)
        if isinstance(item, np.ndarray) and item.dtype.name in DTYPES:
            array = np.asarray(item, order="C").view(np.ndarray)  # ascontiguousarray would make 0-d 1-d
            buffers.append(array.data.cast("B") if array.size else b"")
            return {"$array": len(buffers) - 1, "dtype": array.dtype.name, "shape": list(array.shape)}
        if isinstance(item, np.generic) and item.dtype.name in DTYPES:
            buffers.append(np.asarray(item).tobytes())
            return {"$scalar": len(buffers) - 1, "dtype": item.dtype.name}
        if isinstance(item, (bytes, bytearray)):
            buffers.append(bytes(item))
            return {"$bytes": len(buffers) - 1}
        dtype = _dtype_name(item)
        if dtype is not None:
            return {"$dtype": dtype[0], "as": dtype[1]}
        if type(item) is list:
            return [walk(element, depth + 1) for element in item]
        if type(item) is tuple:
            return {"$tuple": [walk(element, depth + 1) for element in item]}
        if type(item) is dict:
            return {"$dict": [[walk(key, depth + 1), walk(element, depth + 1)] for key, element in item.items()]}
        if handle_of is None:
            raise Unsendable(f"a {type(item).__name__} is not plain data")
        return {"$handle": handle_of(item)}

    return walk(value, 0), buffers


def decode(structure: Structure, buffers: Sequence[Buffer], from_handle: Callable[[Any], object] | None = None) -> Any:
    """The value ``encode`` turned into ``structure`` and ``buffers``; WireError if malformed."""

    def walk(item: Structure) -> Any:
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, list):
            return [walk(element) for element in item]
        if not isinstance(item, dict) or len([key for key in item if key in _TAGS]) != 1:
            raise WireError("a JSON object that is no tagged value")
        if "$tuple" in item:
            return tuple(walk(element) for element in _list(item["$tuple"]))
        if "$dict" in item:
            pairs = [_list(pair) for pair in _list(item["$dict"])]
            if any(len(pair) != 2 for pair in pairs):
                raise WireError("a dict entry that is not a pair")
            try:
                return {walk(key): walk(value) for key, value in pairs}
            except TypeError as error:  # an unhashable key
                raise WireError(str(error)) from None
        if "$bytes" in item:
            return bytes(_buffer(buffers, item["$bytes"]))
        if "$array" in item:
            return _array(_buffer(buffers, item["$array"]), item.get("dtype"), item.get("shape"))
        if "$scalar" in item:
            return _array(_buffer(buffers, item["$scalar"]), item.get("dtype"), [])[()]
        if "$dtype" in item:
            return _dtype(item["$dtype"], item.get("as"))
        if from_handle is None:
            raise WireError("a handle where none is expected")
        return from_handle(item["$handle"])

    try:
        return walk(structure)
    except RecursionError:
        raise WireError("a value nested too deeply") from None


def _dtype_name(item: object) -> tuple[str, str] | None:
    """(name, form) of a dtype given as a value (``dtype=np.float32``, ``np.dtype("int64")``,
    ``float``), or None."""
    if isinstance(item, np.dtype) and item.name in DTYPES:
        return item.name, "dtype"
    if isinstance(item, type) and issubclass(item, np.generic) and np.dtype(item).name in DTYPES:
        return np.dtype(item).name, "scalar type"
    if isinstance(item, type) and _BUILTIN_TYPES.get(item.__name__) is item:
        return item.__name__, "builtin"
    return None


def _dtype(name: str, form: object) -> type | np.dtype:
    if form == "builtin" and name in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[name]
    if name not in DTYPES or form not in ("dtype", "scalar type"):
        raise WireError(f"a dtype {name!r} that is not plain numbers")
    return np.dtype(name) if form == "dtype" else np.dtype(name).type


def _list(item: Structure) -> list[Structure]:
    if not isinstance(item, list):
        raise WireError("a list expected")
    return item


def _buffer(buffers: Sequence[Buffer], index: object) -> Buffer:
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("a reference to a buffer that does not exist")
    return buffers[index]


def _array(buffer: Buffer, dtype: object, shape: object) -> np.ndarray:
    if dtype not in DTYPES:
        raise WireError(f"an array of dtype {dtype!r}, which is not plain numbers")
    if not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS or any(type(n) is not int or n < 0 for n in shape):
        raise WireError("an array with an invalid shape")
    dtype = np.dtype(dtype)
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(buffer):
        raise WireError("an array whose bytes do not match its shape")
    if not count:
        return np.zeros(shape, dtype=dtype)
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


# -- frames -----------------------------------------------------------------------------------


def send(sock: socket.socket, header: dict[str, Any], buffers: Sequence[Buffer] = ()) -> None:
    """Write one message: ``header`` (a JSON-ready dict) and its buffers."""
    header = dict(header, buffers=[len(buffer) for buffer in buffers])
    text = json.dumps(header, allow_nan=True, separators=(",", ":")).encode("utf-8")
    text += b" " * _padding(len(text))
    total = len(text) + sum(len(buffer) + _padding(len(buffer)) for buffer in buffers)
    if total > MAX_MESSAGE:
        raise Unsendable(f"a message of {total} bytes, more than the limit of {MAX_MESSAGE}")
    sock.sendall(_FRAME.pack(total, len(text)) + text)
    for buffer in buffers:
        sock.sendall(buffer)
        sock.sendall(b"\0" * _padding(len(buffer)))


def _padding(size: int) -> int:
    """Bytes that bring ``size`` to a multiple of 16, so that every array starts aligned."""
    return -size % 16


def receive(sock: socket.socket) -> tuple[dict[str, Any], list[Buffer]]:
    """(header, buffers) of the next message. Buffers are writable views of one bytearray.
    EOFError when the other side has gone; WireError when what arrives is not a frame."""
    total, header_size = _FRAME.unpack(_read(sock, _FRAME.size))
    if total > MAX_MESSAGE or header_size > min(total, MAX_HEADER):
        raise WireError(f"a frame of {total} bytes (header {header_size}), more than the limits")
    body = _read(sock, total)
    try:
        header = json.loads(bytes(body[:header_size]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise WireError(f"a header that is not JSON ({type(error).__name__})") from None
    sizes = header.get("buffers") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or any(type(n) is not int or n < 0 for n in sizes):
        raise WireError("a header without its buffer sizes")
    if header_size + sum(size + _padding(size) for size in sizes) != total:
        raise WireError("buffer sizes that do not add up to the frame")
    view, offset = memoryview(body), header_size
    buffers: list[Buffer] = []
    for size in sizes:
        buffers.append(view[offset : offset + size])
        offset += size + _padding(size)
    return header, buffers


def _read(sock: socket.socket, size: int) -> bytearray:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if not count:
            raise EOFError("the other side closed the connection")
        got += count
    return data
