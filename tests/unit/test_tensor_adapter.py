"""grading/tensor_adapter.py, on a module of its own: what tests/module14.py does not reach.

NumPy in stays exactly as the student wrote it; a student's own ``parameters`` and the classes
the module imported (the standard library's, NumPy's) are left alone; a parameter refuses an
array of another shape.
"""

import types
from fractions import Fraction

import numpy as np
import pytest

from grading.tensor_adapter import adapt


class Wrapped:
    """An array-like that is not an ndarray, as TinyTorch's Tensor."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None):
        return self.data


def module(code):
    """A module defined by ``code``, with ``__all__`` its public top-level names, then adapted."""
    namespace = types.ModuleType("student").__dict__
    exec(code, namespace)
    namespace["__all__"] = [name for name in namespace if not name.startswith("_")]
    adapt(namespace)
    return types.SimpleNamespace(**namespace)


STUDENT = """
from fractions import Fraction

import numpy as np

seen = []

def first_row(x):
    seen.append(x)
    return x[0]

class MultiHeadAttention:
    def __init__(self, own=False):
        self.W_q = self.W_k = self.W_v = self.W_o = np.zeros((2, 2))
        if own:
            self.parameters = ["theirs"]

    def forward(self, x):
        seen.append(x)
        return x, x
"""


def test_arrays_in_call_the_students_code_with_them_and_return_its_result_as_it_is():
    student = module(STUDENT)
    x = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    row = student.first_row(x)
    assert student.seen[-1] is x and row.base is x  # the view the student's code returned
    output, weights = student.MultiHeadAttention().forward(x)
    assert output is x and weights is x


def test_a_tensor_in_gives_tensors_out_for_each_array_of_the_result():
    student = module(STUDENT)
    output, weights = student.MultiHeadAttention().forward(Wrapped([[1.0, 2.0]]))
    assert type(student.seen[-1]) is np.ndarray
    assert isinstance(output, Wrapped) and isinstance(weights, Wrapped)
    assert output.data.tolist() == [[1.0, 2.0]]


def test_the_students_own_parameters_and_imported_names_are_left_alone():
    student = module(STUDENT)
    assert student.MultiHeadAttention(own=True).parameters == ["theirs"]
    layer = student.MultiHeadAttention()
    assert layer.parameters[0].data is layer.W_q  # without their own, the adapter's
    assert student.Fraction is Fraction and not hasattr(Fraction.limit_denominator, "__wrapped__")


def test_a_parameter_refuses_an_array_of_another_shape():
    layer = module(STUDENT).MultiHeadAttention()
    with pytest.raises(ValueError, match=r"W_q has shape \(2, 2\); cannot set it to an array of shape \(3,\)"):
        layer.parameters[0].data = np.ones(3)
    assert (layer.W_q == 0).all()
