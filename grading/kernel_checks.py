"""The checks of the hidden tests, as they run inside a grading kernel.

The released notebook gives students small helpers (``check_close``, ``fail``, ``quiet``, ...)
for its visible tests. A student can redefine them, which may fool the visible half of a test:
only the student sees that half. The hidden half, which decides the points, uses this module:

* hidden tests import it; they never look up a name the released notebook shows;
* GuardedExecute loads it into every grading kernel before the first cell runs, so the
  references it keeps (NumPy's functions, Python's builtins, the standard library) are the
  originals, whatever a submission rebinds later in its globals, in ``builtins`` or in NumPy;
* it refuses to grade once a NumPy function has been replaced, and compares numbers only with
  ndarray arithmetic on plain float64 copies, which no replaced function or subclass reaches;
* its attributes cannot be reassigned from a notebook, and a hidden test holds it in a local
  variable (``@hidden`` passes it in), which no rebinding of a global reaches.

Code in one kernel can still reach code in the same kernel (frames, code objects, the import
system); README, "What the autograder does not defend against", says what that leaves open.

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

import builtins as _builtins_module

# A private copy of the builtins: functions defined below look names up here, so a submission
# that rebinds builtins.float or builtins.isinstance changes nothing in this module.
__builtins__ = dict(vars(_builtins_module))

import contextlib  # noqa: E402  (after the private builtins, on purpose)
import io  # noqa: E402
import math  # noqa: E402
import numbers  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

_NUMPY_MODULES = {module.__name__: module for module in (np, np.random, np.testing, np.linalg)}
_NUMPY_SNAPSHOT = {
    (module_name, name): getattr(module, name)
    for module_name, module in _NUMPY_MODULES.items()
    for name in dir(module)
    if not name.startswith("_")
}
_ndarray = np.ndarray
_array = np.array
_asarray = np.asarray
_errstate = np.errstate
_unravel_index = np.unravel_index
_float64 = np.float64
_dtype = np.dtype
_integer_types = (np.integer,)
_floating_types = (np.floating,)
_bool_types = (bool, np.bool_)
_catch_warnings = warnings.catch_warnings
_simplefilter = warnings.simplefilter
_redirect_stderr = contextlib.redirect_stderr
_contextmanager = contextlib.contextmanager
_StringIO = io.StringIO
_getframe = sys._getframe
_trace_start, _trace_stop = tracemalloc.start, tracemalloc.stop
_trace_reset_peak, _traced_memory = tracemalloc.reset_peak, tracemalloc.get_traced_memory


class HiddenCheckFailed(AssertionError):
    """A hidden check found a wrong result; the message says which property and by how much."""


def fail(message):
    raise HiddenCheckFailed(message)


def numpy_untouched():
    """Fail if any public NumPy function was replaced after this module was loaded."""
    for (module_name, name), original in _NUMPY_SNAPSHOT.items():
        if getattr(_NUMPY_MODULES[module_name], name, None) is not original:
            fail(
                f"{module_name}.{name} was replaced by code in this notebook, so it cannot be "
                "graded. Do not reassign NumPy functions; restart the kernel and run all cells."
            )


@_contextmanager
def quiet():
    """Run code without letting warnings reach stderr (nbgrader fails a cell that writes there)."""
    with _catch_warnings(), _errstate(all="ignore"), _redirect_stderr(_StringIO()):
        _simplefilter("ignore")
        yield


def _guarded(function, *args, **kwargs):
    """Run student code (a function, or a conversion that may call the student's methods).

    The code gets our frame as its caller, and with it this module's namespace: a change it makes
    there is undone and fails the test, so no check can be switched off from inside a call.
    """
    namespace, failure = _namespace, HiddenCheckFailed  # locals: whatever the call rebinds
    before = dict(namespace)
    try:
        return function(*args, **kwargs)
    finally:
        changed = len(namespace) != len(before) or any(
            namespace.get(name, before) is not value for name, value in before.items()
        )
        if changed:
            namespace.clear()
            namespace.update(before)
            raise failure(
                "the code under test rebound names of the grader's own checks while it ran; "
                "it cannot be graded. Code must not reach into the functions that call it."
            )


def call(function, *args, **kwargs):
    """``function(*args, **kwargs)``, quietly: a student's function, called by a hidden test."""
    numpy_untouched()
    with quiet():
        result = _guarded(function, *args, **kwargs)
    numpy_untouched()
    return result


def peak_bytes(function, *args, **kwargs):
    """(result, peak bytes allocated while it ran) of a student's function, traced by tracemalloc."""
    numpy_untouched()
    _trace_start()
    _trace_reset_peak()
    try:
        with quiet():
            result = _guarded(function, *args, **kwargs)
        peak = _traced_memory()[1]
    finally:
        _trace_stop()
    numpy_untouched()
    return result, peak


# -- reading results ---------------------------------------------------------------------------


def array(x, what):
    """A plain float64 copy of x (never a subclass, whatever x is), or a clear failure."""
    numpy_untouched()
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    try:
        with quiet():
            copy = _guarded(_array, x, dtype=_float64)
    except (TypeError, ValueError) as error:
        fail(f"{what} cannot be read as an array of numbers ({error}).")
    if type(copy) is not _ndarray:
        fail(f"{what} cannot be read as a plain array of numbers.")
    return copy


def _first(mask):
    """Index (a tuple) of the first True entry of a boolean array."""
    return tuple(int(i) for i in _unravel_index(int(mask.reshape(-1).argmax()), mask.shape))


def _shape_of(x):
    if isinstance(x, _ndarray):
        return tuple(_ndarray.shape.__get__(x))
    try:
        with quiet():
            return tuple(_guarded(_asarray, x).shape)
    except HiddenCheckFailed:
        raise
    except Exception:  # a ragged list, an object that is no array at all
        return None


# -- checks ------------------------------------------------------------------------------------


def is_pair(result, what):
    """result is a tuple (or list) of two things, as ``(output, weights)``."""
    items = _guarded(tuple, result) if isinstance(result, (tuple, list)) else ()
    if len(items) != 2:
        fail(f"{what} should return a tuple (output, attention_weights), got {type(result).__name__}.")
    return items


def shape(x, expected_shape, what):
    if x is None:
        fail(f"{what} is None: is a `return` statement missing?")
    got = _shape_of(x)
    if got != tuple(expected_shape):
        fail(f"{what} has shape {got}, expected {tuple(expected_shape)}.")


def dtype(x, expected_dtype, what):
    if not isinstance(x, _ndarray):
        fail(f"{what} should be a NumPy array, got {type(x).__name__}.")
    got = _ndarray.dtype.__get__(x)
    if got != _dtype(expected_dtype):
        fail(
            f"{what} has dtype {got}, expected {_dtype(expected_dtype)}. NumPy 2 turns float32 "
            "into float64 when you mix in a float64 array or an np.float64 scalar such as "
            "np.sqrt(d_k); a Python float (math.sqrt) keeps float32."
        )


def finite(x, what):
    a = array(x, what)
    with quiet():
        bad = ~((a - a) == 0)  # True for NaN and +-inf
    if bad.any():
        index = _first(bad)
        fail(
            f"{what} has {int(bad.sum())} values that are NaN or inf, the first at index "
            f"{index}: {a[index]}. Did a row with every key blocked give 0/0?"
        )


def _wrong(a, e, atol, rtol):
    with quiet():
        difference = abs(a - e)
        return ~(difference <= atol + rtol * abs(e)), difference  # NaN compares False: wrong


def matches(actual, expected, atol=1e-8, rtol=1e-6):
    """Whether actual equals expected within the tolerance (same shape, no NaN)."""
    a, e = array(actual, "the result"), array(expected, "the expected value")
    return a.shape == e.shape and not _wrong(a, e, atol, rtol)[0].any()


def close(actual, expected, what, atol=1e-8, rtol=1e-6, hint="", mistakes=None):
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
    with quiet():
        finite_values = (a - a) == 0
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


def raises(error_type, function, *args, what, **kwargs):
    """function(*args, **kwargs) raises error_type (a stub's NotImplementedError propagates)."""
    numpy_untouched()
    try:
        with quiet():
            _guarded(function, *args, **kwargs)
    except HiddenCheckFailed:
        raise
    except error_type:
        return
    except NotImplementedError:
        raise
    except Exception as error:
        fail(f"{what} should raise {error_type.__name__}, but raised {type(error).__name__}: {error}")
    fail(f"{what} should raise {error_type.__name__}, but returned normally.")


def _is_number(value):
    return isinstance(value, (numbers.Real, *_integer_types, *_floating_types)) and not isinstance(value, _bool_types)


def number(value, name):
    """value as a Python float, if it is a real number (not None, not a bool, not an array)."""
    if value is None:
        fail(f"{name} is still None: set it to a number.")
    if not _is_number(value):
        fail(f"{name} should be a number, got {type(value).__name__}.")
    got = _guarded(float, value)
    if not math.isfinite(got):
        fail(f"{name} = {got} is not a finite number.")
    return got


def integer(value, expected, what):
    """value equals the integer ``expected`` exactly (a Python or NumPy integer, or a whole float)."""
    if not _is_number(value):
        fail(f"{what} should be an integer, got {type(value).__name__}: {value!r}.")
    if isinstance(value, (numbers.Integral, *_integer_types)):
        got = _guarded(int, value)
    else:
        as_float = _guarded(float, value)
        if not (math.isfinite(as_float) and as_float.is_integer()):
            fail(f"{what} = {as_float}, which is not a whole number (expected {expected}).")
        got = int(as_float)
    if got != expected:
        ratio = f" (off by a factor of {got / expected:.4g})" if expected and got else ""
        fail(f"{what} = {got}, expected {expected}{ratio}.")


def near(value, expected, what, rtol=1e-6, hints=None):
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
_swapped = []  # (namespace or class, name, the student's own object or _ABSENT) while a reference stands in
_ABSENT = object()


def define(**implementations):
    """Register reference implementations (``t.ref.softmax`` ...) for later hidden tests.

    A method is registered as ``Class_method`` (``MultiHeadAttention_forward``) and swapped in
    as ``use_reference("MultiHeadAttention.forward")``.
    """
    for name, implementation in implementations.items():
        setattr(ref, name, implementation)


def use_reference(*names):
    """For the rest of this test cell, the notebook's ``names`` are the reference versions.

    A test of Part 4 then runs the student's multi-head attention on the reference attention,
    and a test of the cache compares decoding with a reference multi-head pass, so a bug costs
    only its own part. ``@hidden`` puts the student's own back.
    """
    restore()
    namespace = _getframe(1).f_globals
    for name in names:
        owner_name, _, attribute = name.rpartition(".")
        replacement = getattr(ref, name.replace(".", "_"))
        if not owner_name:
            _swapped.append((namespace, name, namespace.get(name, _ABSENT)))
            namespace[name] = replacement
        elif isinstance(namespace.get(owner_name), type):  # no such class yet: nothing to replace
            owner = namespace[owner_name]
            _swapped.append((owner, attribute, vars(owner).get(attribute, _ABSENT)))
            setattr(owner, attribute, replacement)


def restore():
    """Put back the student's own functions and methods that use_reference replaced."""
    for owner, name, own in reversed(_swapped):
        if isinstance(owner, dict):
            if own is _ABSENT:
                owner.pop(name, None)
            else:
                owner[name] = own
        elif own is _ABSENT:
            delattr(owner, name)
        else:
            setattr(owner, name, own)
    _swapped.clear()


def hidden(test):
    """Run a hidden test now, with this module as its argument (``@hidden`` over ``def _(t):``)."""
    try:
        test(_module)
    finally:
        restore()


class _Sealed(types.ModuleType):
    """A module whose attributes cannot be reassigned or deleted from outside."""

    def __setattr__(self, name, value):
        raise AttributeError(f"{self.__name__} is read-only")

    def __delattr__(self, name):
        raise AttributeError(f"{self.__name__} is read-only")


_module = sys.modules[__name__]
_namespace = vars(_module)
_module.__class__ = _Sealed
