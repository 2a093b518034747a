"""TinyTorch's conventions for the exported module: Tensors in and out, ``MultiHeadAttention.parameters``.

The notebook's code works on NumPy arrays, and its graded contract says so. TinyTorch's Module 14
hands the layers its own ``Tensor`` (an array wrapper with ``.data`` and ``__array__``, whose ``@``
takes only Tensors) and trains what a layer lists in ``parameters``. ``python -m grading export``
writes this file next to the module, as ``tinytorch/core/_attention_adapter.py``, and the module
ends by calling ``adapt(globals())``. The student's functions and classes, as they wrote them, then

* take any array-like argument that is not NumPy's own (a Tensor, masks included) as the array it
  holds, and give back each array of their result as the type of the first such argument: Tensor
  in, Tensor out. Called with NumPy arrays only, they are called and return exactly as written;
* gain ``MultiHeadAttention.parameters``: W_q, W_k, W_v, W_o as objects whose ``.data`` is the
  layer's array of that name.

It runs only where the exported module is imported, never in a notebook being graded, and needs
nothing but NumPy: the module must import where ``grading`` is not installed.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

WEIGHTS = ("W_q", "W_k", "W_v", "W_o")


def is_tensor(value: object) -> bool:
    """An array-like value that is not NumPy's own: a TinyTorch Tensor, for one."""
    return hasattr(value, "__array__") and not isinstance(value, (np.ndarray, np.generic))


def as_array(value: object) -> object:
    """The array a Tensor holds; any other value as it is."""
    return np.asarray(value) if is_tensor(value) else value


def as_type(result: object, kind: Callable[[np.ndarray], object]) -> object:
    """``result`` with its arrays (the result itself, or the items of a tuple) made ``kind``."""
    if isinstance(result, np.ndarray):
        return kind(result)
    if isinstance(result, tuple):
        return tuple(as_type(item, kind) for item in result)
    return result


def takes_tensors(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, also taking Tensors; it returns arrays as the type of its first Tensor argument."""

    @functools.wraps(function)
    def adapted(*args: Any, **kwargs: Any) -> Any:
        kind = next((type(value) for value in [*args, *kwargs.values()] if is_tensor(value)), None)
        if kind is None:
            return function(*args, **kwargs)
        result = function(*map(as_array, args), **{name: as_array(value) for name, value in kwargs.items()})
        return as_type(result, kind)

    return adapted


class Parameter:
    """A weight matrix of a layer as TinyTorch's optimizers and profilers use one: ``.data``, ``.grad``.

    ``.data`` is looked up on the layer each time, so it is the layer's own array even after
    ``layer.W_q = new_array``. Setting it (TinyTorch's optimizers do ``param.data = Tensor(new)``)
    writes the values into that array, so the layer, and whoever holds the array, sees them.
    """

    def __init__(self, layer: object, name: str) -> None:
        self.layer = layer
        self.name = name
        self.grad: object = None

    @property
    def data(self) -> Any:
        return getattr(self.layer, self.name)

    @data.setter
    def data(self, value: object) -> None:
        values, weight = np.asarray(value), self.data
        if values.shape != weight.shape:
            raise ValueError(f"{self.name} has shape {weight.shape}; cannot set it to an array of shape {values.shape}")
        weight[...] = values


def weight_parameters(layer: object) -> list[Parameter]:
    """The layer's four weight matrices, as TinyTorch's layers list theirs in ``parameters``."""
    return [Parameter(layer, name) for name in WEIGHTS]


def add_parameters(cls: type) -> None:
    """``cls.parameters``, computed once per layer (so a gradient set on one stays there).

    A cached property is a non-data descriptor: if the student's own ``__init__`` sets
    ``self.parameters``, theirs wins instead of failing.
    """
    parameters = functools.cached_property(weight_parameters)
    parameters.__set_name__(cls, "parameters")
    setattr(cls, "parameters", parameters)  # noqa: B010  (a name mypy cannot know a class to have)


def adapt_class(cls: type) -> None:
    """The class's own public methods, and ``__call__``, take Tensors (see ``takes_tensors``)."""
    for name, method in list(vars(cls).items()):
        if inspect.isfunction(method) and (name == "__call__" or not name.startswith("_")):
            setattr(cls, name, takes_tensors(method))


def adapt(namespace: dict[str, Any]) -> None:
    """Adapt the public functions and classes an exported module's ``namespace`` defines itself."""
    for name in namespace["__all__"]:
        value = namespace.get(name)
        if getattr(value, "__module__", None) != namespace["__name__"]:
            continue  # imported (np.linalg.norm as norm): not the student's to adapt
        if inspect.isclass(value):
            adapt_class(value)
        elif inspect.isfunction(value):
            namespace[name] = takes_tensors(value)
    layer = namespace.get("MultiHeadAttention")
    if inspect.isclass(layer) and "parameters" not in vars(layer):
        add_parameters(layer)
