"""The checks of the hidden tests, in the test kernel.

The released notebook gives students small helpers (``check_close``, ``fail``, ``quiet``, ...)
for its visible tests; the hidden half of each test cell uses this module instead. Both run
in the grader's test kernel (grading/execute.py), which never runs the student's code: the
student's functions and objects are proxies there (grading/remote.py), and every result is
plain data by the time a check sees it. So the checks below are plain code: no submission can
rebind, patch or reach them.

A hidden test in the notebook reads::

    ### BEGIN HIDDEN TESTS
    import grading.kernel_checks as _checks
    @_checks.hidden
    def _(t):
        np = t.np
        x = np.random.default_rng(7).normal(size=(3, 4))
        t.close(t.call(softmax, x), t.ref.softmax(x), "softmax of a random (3, 4) array")
    ### END HIDDEN TESTS
"""

import contextlib
import io
import math
import numbers
import sys
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeGuard, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import remote


class HiddenCheckFailed(AssertionError):
    """A hidden check found a wrong result; the message says which property and by how much."""


def fail(message: str) -> NoReturn:
    raise HiddenCheckFailed(message)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Compute without letting warnings reach stderr (nbgrader fails a cell that writes there)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``: a student's function, called by a hidden test."""
    with quiet():
        return function(*args, **kwargs)


def peak_bytes(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """(result, peak bytes) of a student's function: how far the memory of the student's kernel
    rose while it ran, measured from outside it (grading.remote.Bridge.peak_memory)."""
    with quiet():
        return remote.bridge().peak_memory(function, *args, **kwargs)


def own(name: str) -> Any:
    """The student's own ``name``, even while ``use_reference`` swaps a reference version in: to
    find out whether an earlier part of theirs is what made a later test fail."""
    return remote.bridge().own(name)


def place(value: object) -> Any:
    """A copy of ``value`` made in the student's kernel: an array the test can change there
    after passing it to the student's code (``.fill``), to see whether that code kept a copy."""
    return remote.bridge().place(value)


# -- reading results ---------------------------------------------------------------------------


def array(x: object, what: str) -> NDArray[np.float64]:
    """A float64 copy of x, or a clear failure."""
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    if isinstance(x, remote.Remote):
        fail(f"{what} should be a NumPy array of numbers, got {type(x).__name__}.")
    try:
        with quiet():
            return np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        fail(f"{what} cannot be read as an array of numbers ({error}).")


def _first(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    """Index (a tuple) of the first True entry of a boolean array."""
    return tuple(int(i) for i in np.unravel_index(int(mask.reshape(-1).argmax()), mask.shape))


def _shape_of(x: object) -> tuple[int, ...] | None:
    if isinstance(x, remote.Remote):
        return None
    try:
        with quiet():
            return tuple(np.shape(cast(ArrayLike, x)))  # np.shape reads any object; a ragged list raises
    except Exception:  # a ragged list
        return None


# -- checks ------------------------------------------------------------------------------------


def is_pair(result: object, what: str) -> tuple[Any, ...]:
    """result is a tuple (or list) of two things, as ``(output, weights)``."""
    items = tuple(result) if isinstance(result, (tuple, list)) else ()
    if len(items) != 2:
        fail(f"{what} should return a tuple (output, attention_weights), got {type(result).__name__}.")
    return items


def shape(x: object, expected_shape: tuple[int, ...], what: str) -> None:
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    got = _shape_of(x)
    if got != tuple(expected_shape):
        fail(f"{what} has shape {got}, expected {tuple(expected_shape)}.")


def dtype(x: object, expected_dtype: DTypeLike, what: str) -> None:
    if not isinstance(x, np.ndarray):
        fail(f"{what} should be a NumPy array, got {type(x).__name__}.")
    if x.dtype != np.dtype(expected_dtype):
        fail(
            f"{what} has dtype {x.dtype}, expected {np.dtype(expected_dtype)}. NumPy 2 turns float32 "
            "into float64 when you mix in a float64 array or an np.float64 scalar such as "
            "np.sqrt(d_k); a Python float (math.sqrt) keeps float32."
        )


def finite(x: object, what: str) -> None:
    a = array(x, what)
    with quiet():
        bad = ~np.isfinite(a)
    if bad.any():
        index = _first(bad)
        fail(
            f"{what} has {int(bad.sum())} values that are NaN or inf, the first at index "
            f"{index}: {a[index]}. Did a row with every key blocked give 0/0?"
        )


def _wrong(
    a: NDArray[np.float64], e: NDArray[np.float64], atol: float, rtol: float
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    with quiet():
        difference = abs(a - e)
        return ~(difference <= atol + rtol * abs(e)), difference  # NaN compares False: wrong


def matches(actual: object, expected: object, atol: float = 1e-8, rtol: float = 1e-6) -> bool:
    """Whether actual equals expected within the tolerance (same shape, no NaN)."""
    a, e = array(actual, "the result"), array(expected, "the expected value")
    return a.shape == e.shape and not _wrong(a, e, atol, rtol)[0].any()


def close(
    actual: object,
    expected: object,
    what: str,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    hint: str = "",
    mistakes: Mapping[str, object] | None = None,
) -> None:
    """actual equals expected within atol + rtol * |expected|, element by element.

    ``mistakes`` maps a description of a known mistake to what that mistake gives; when the
    actual result is one of them, the message says which.
    """
    a = array(actual, what)
    e = array(expected, "the expected value")
    if a.shape != e.shape:
        fail(f"{what} has shape {a.shape}, expected {e.shape}.")
    wrong, difference = _wrong(a, e, atol, rtol)
    if not wrong.any():
        return
    finite_values = np.isfinite(a)
    index = _first(wrong)
    message = (
        f"{what}: {int(wrong.sum())} of {a.size} values are wrong. "
        f"First at index {index}: got {a[index]:.6g}, expected {e[index]:.6g}"
    )
    if finite_values.any():
        message += f"; largest difference {float(difference[finite_values].max()):.3g}"
    if not finite_values.all():
        message += f"; {int((~finite_values).sum())} values are NaN or inf"
    message += "."
    for mistake, result in (mistakes or {}).items():
        if matches(a, result, atol, rtol):
            message += f" That is exactly what you get if you {mistake}."
            break
    fail(message + (f" {hint}" if hint else ""))


def raises(
    error_type: type[BaseException], function: Callable[..., object], *args: Any, what: str, **kwargs: Any
) -> None:
    """function(*args, **kwargs) raises error_type (a stub's NotImplementedError propagates)."""
    try:
        with quiet():
            function(*args, **kwargs)
    except HiddenCheckFailed:
        raise
    except error_type:
        return
    except NotImplementedError:
        raise
    except Exception as error:
        fail(f"{what} should raise {error_type.__name__}, but raised {type(error).__name__}: {error}")
    fail(f"{what} should raise {error_type.__name__}, but returned normally.")


def _is_number(value: object) -> TypeGuard[numbers.Real | np.integer | np.floating]:
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def number(value: object, name: str) -> float:
    """value as a Python float, if it is a real number (not None, not a bool, not an array)."""
    if value is None:
        fail(f"{name} is still None: set it to a number.")
    if not _is_number(value):
        fail(f"{name} should be a number, got {type(value).__name__}.")
    got = float(value)
    if not math.isfinite(got):
        fail(f"{name} = {got} is not a finite number.")
    return got


def integer(value: object, expected: int, what: str) -> None:
    """value equals the integer ``expected`` exactly (a Python or NumPy integer, or a whole float)."""
    if not _is_number(value):
        fail(f"{what} should be an integer, got {type(value).__name__}: {value!r}.")
    if isinstance(value, (numbers.Integral, np.integer)):
        got = int(value)
    else:
        as_float = float(value)
        if not (math.isfinite(as_float) and as_float.is_integer()):
            fail(f"{what} = {as_float}, which is not a whole number (expected {expected}).")
        got = int(as_float)
    if got != expected:
        ratio = f" (off by a factor of {got / expected:.4g})" if expected and got else ""
        fail(f"{what} = {got}, expected {expected}{ratio}.")


def near(
    value: object, expected: float, what: str, rtol: float = 1e-6, hints: Mapping[float, str] | None = None
) -> None:
    """A number within rtol of ``expected``; ``hints`` maps wrong answers to what they suggest."""
    got = number(value, what)
    if abs(got - expected) <= rtol * abs(expected):
        return
    hint = ""
    for wrong_answer, meaning in (hints or {}).items():
        if abs(got - wrong_answer) <= 1e-3 * max(1.0, abs(wrong_answer)):  # rounded answers too
            hint = f" {meaning}"
            break
    fail(f"{what} = {got:.6g} is not right.{hint}")


# -- reference versions of earlier parts -------------------------------------------------------

ref = types.SimpleNamespace()  # reference implementations, defined by the first hidden test


def define(**implementations: Callable[..., Any]) -> None:
    """Register reference implementations (``t.ref.softmax`` ...) for later hidden tests.

    A method is registered as ``Class_method`` (``MultiHeadAttention_forward``) and swapped in
    as ``use_reference("MultiHeadAttention.forward")``.
    """
    for name, implementation in implementations.items():
        setattr(ref, name, implementation)


def use_reference(*names: str) -> None:
    """For the rest of this test cell, the notebook's ``names`` are the reference versions, in
    the test and in the student's kernel (where a stand-in calls back to the reference here).

    A test of Part 4 then runs the student's multi-head attention on the reference attention,
    and a test of the cache compares decoding with a reference multi-head pass, so a bug costs
    only its own part. The end of the cell (or of ``@hidden``) puts the student's own back.
    """
    namespace = sys._getframe(1).f_globals
    remote.bridge().use_reference(namespace, {name: getattr(ref, name.replace(".", "_")) for name in names})


def restore() -> None:
    """Put back the student's own functions and methods that use_reference replaced."""
    remote.bridge().restore()


def hidden(test: Callable[[types.ModuleType], object]) -> None:
    """Run a hidden test now, with this module as its argument (``@hidden`` over ``def _(t):``)."""
    try:
        test(sys.modules[__name__])
    finally:
        restore()
