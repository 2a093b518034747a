"""The format between the tests and a student's kernel: plain values round-trip, nothing else
gets through, and a malformed or oversized message is refused before it costs memory."""

import json
import socket
import struct

import numpy as np
import pytest

from grading.student_agent import wire


def round_trip(value, handle_of=None, from_handle=None):
    """``value`` sent over a real socket pair and decoded on the other end."""
    left, right = socket.socketpair()
    with left, right:
        structure, buffers = wire.encode(value, handle_of)
        wire.send(left, {"value": structure}, buffers)
        header, received = wire.receive(right)
        return wire.decode(header["value"], received, from_handle)


PLAIN = [
    None,
    True,
    0,
    -(10**30),
    1.5,
    float("inf"),
    "text with ünïcode\n",
    b"\x00\xffbytes",
    [1, [2.0, "x"]],
    (1, (2, 3)),
    {"a": 1, 2: (3, 4), None: [5]},
    np.float32(0.1),
    np.int64(-3),
    np.bool_(True),
    np.complex128(1 + 2j),
    np.float32,
    np.dtype("int16"),
    float,
]


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_round_trip_with_their_types(value):
    got = round_trip(value)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.arange(12.0).reshape(3, 4).T,  # not contiguous
        np.array([[True, False]]),
        np.zeros((0, 5), dtype=np.int8),
        np.array(7.0),
        np.arange(10, dtype=np.uint64)[::3],
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_arrays_round_trip_writable_and_aligned(array):
    got = round_trip(array)
    assert type(got) is np.ndarray and got.dtype == array.dtype and np.array_equal(got, array)
    assert got.flags.writeable and (got.size == 0 or got.ctypes.data % 16 == 0)


def test_an_ndarray_subclass_travels_as_its_data():
    class Agreeable(np.ndarray):
        def __eq__(self, other):
            return True

    got = round_trip(np.zeros(3).view(Agreeable))
    assert type(got) is np.ndarray


@pytest.mark.parametrize("value", [object(), np.array(["text"]), np.array([None], dtype=object), {1, 2}, len])
def test_anything_else_is_refused_unless_the_sender_hands_out_handles(value):
    with pytest.raises(wire.Unsendable):
        wire.encode([value])
    assert round_trip(value, handle_of=lambda obj: {"id": 7}, from_handle=lambda fields: ("handle", fields)) == (
        "handle",
        {"id": 7},
    )


def send_raw(header_text, buffers=b"", sizes=None):
    left, right = socket.socketpair()
    header_text = header_text.encode() if isinstance(header_text, str) else header_text
    left.sendall(struct.pack("<QI", len(header_text) + len(buffers), len(header_text)) + header_text + buffers)
    left.close()
    return right


@pytest.mark.parametrize(
    "structure, buffers, problem",
    [
        ({"$array": 0, "dtype": "object", "shape": [1]}, [b"\0" * 8], "not plain numbers"),
        ({"$array": 0, "dtype": "float64", "shape": [3]}, [b"\0" * 8], "do not match"),
        ({"$array": 0, "dtype": "float64", "shape": [-1]}, [b"\0" * 8], "invalid shape"),
        ({"$array": 3, "dtype": "float64", "shape": [1]}, [b"\0" * 8], "does not exist"),
        ({"$dtype": "object", "as": "dtype"}, [], "not plain numbers"),
        ({"$pickle": "gASV"}, [], "no tagged value"),
        ({"$tuple": [], "$bytes": 0}, [], "no tagged value"),
        ({"$handle": {"id": 1}}, [], "where none is expected"),
        ({"$dict": [[1]]}, [], "not a pair"),
        ({"$dict": [[[1], 2]]}, [], "unhashable"),
    ],
)
def test_malformed_values_are_refused(structure, buffers, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(structure, [memoryview(bytearray(b)) for b in buffers])


def test_deep_nesting_is_refused_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    connection = send_raw(json.dumps({"buffers": []})[:-1] + ', "value": ' + deep + "}")
    with pytest.raises(wire.WireError):
        wire.receive(connection)


@pytest.mark.parametrize(
    "frame, problem",
    [
        (struct.pack("<QI", wire.MAX_MESSAGE + 1, 10), "limits"),
        (struct.pack("<QI", 100, wire.MAX_HEADER + 1), "limits"),
        (struct.pack("<QI", 10, 10) + b"not json!!", "not JSON"),
        (struct.pack("<QI", 12, 12) + b'{"buffers":7', "not JSON"),
        (struct.pack("<QI", 14, 14) + b'{"buffers":[8]}'[:14], "not JSON"),
    ],
)
def test_frames_beyond_the_limits_or_not_json_are_refused_before_reading_them(frame, problem):
    left, right = socket.socketpair()
    left.sendall(frame)
    left.close()
    with pytest.raises(wire.WireError, match=problem):
        wire.receive(right)


def test_buffer_sizes_must_add_up():
    text = json.dumps({"buffers": [32]}).encode()
    text += b" " * (-len(text) % 16)
    left, right = socket.socketpair()
    left.sendall(struct.pack("<QI", len(text) + 16, len(text)) + text + b"\0" * 16)
    left.close()
    with pytest.raises(wire.WireError, match="add up"):
        wire.receive(right)


def test_a_closed_connection_is_an_eof():
    left, right = socket.socketpair()
    left.sendall(b"\x01\x02")
    left.close()
    with pytest.raises(EOFError):
        wire.receive(right)
