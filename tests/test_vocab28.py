"""The names session 28 read (lang/pasted.py), without the libraries: what jac answers and refuses."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.tools import api

X = {"x": np.array([[1.5, -2.0], [0.0, 3.0]])}


def _value(text, bindings=X, **kw):
    return api.evaluate(text, bindings, **kw)


@pytest.mark.parametrize("text, want", [
    ("np.isscalar(x)", 0.0), ("np.isscalar('a')", 1.0), ("np.isscalar(True)", 1.0), ("np.isscalar([x, x])", 0.0),
    ("np.iterable(x)", 1.0), ("np.iterable(x.sum())", 0.0), ("np.iterable([x])", 1.0), ("np.iterable(2.0)", 0.0),
    ("torch.is_tensor(x)", 1.0), ("torch.is_tensor(x * 2)", 1.0), ("torch.is_tensor([x, x])", 0.0),
    ("torch.is_tensor('a')", 0.0), ("x.dtype == torch.float64", 1.0), ("x.dtype is torch.float64", 1.0),
    ("x.dtype != torch.float32", 1.0), ("x.dtype == torch.float", 0.0), ("x.dtype == float", 1.0),
    ("torch.arange(3).dtype == torch.long", 1.0), ("(x > 0).dtype == torch.bool", 1.0),
    ("torch.promote_types(torch.int, torch.long) == torch.int64", 1.0),
])
def test_questions_are_answered_when_the_graph_is_built(text, want):
    assert _value(text) == want


def test_a_question_decides_an_if_and_its_branch_is_differentiated():
    text = "y = x * 2\nif torch.is_floating_point(x) and x.dtype == torch.float64:\n    y = x ** 3\ny.sum()"
    grad = api.jacobian(text, X)["x"]
    np.testing.assert_allclose(np.asarray(grad.array if hasattr(grad, "array") else grad), 3 * X["x"] ** 2)
    assert _value("torch.zeros(2, dtype=torch.result_type(torch.arange(3), x)) + x[0]").tolist() == [1.5, -2.0]


@pytest.mark.parametrize("text, error, says", [
    ("torch.is_tensor(2.0)", JacValueError, "is_tensor of a constant"),
    ("np.isscalar(x.sum())", JacValueError, "np.isscalar of a 0-d value"),
    ("torch.is_floating_point([x])", JacValueError, "must be a Tensor, not list"),
    ("x.is_nonzero()", JacValueError, "more than one value is ambiguous"),
    ("if x[0, 0].is_nonzero():\n    x = x * 2\nx", JacError, "a test of the inputs. values"),
    ("torch.promote_types(x, torch.float32)", JacValueError, "takes dtypes here"),
    ("np.can_cast(x, np.float32)", JacValueError, "from_ must be a dtype"),
    ("np.can_cast(np.int8, np.int16, casting='any')", JacValueError, "casting must be one of"),
    ("jnp.result_type(x, 1.0)", JacNameError, "jax_enable_x64"),
    ("torch.result_type(torch.float32, x)", JacValueError, "the first is a tensor"),
    ("torch.promote_types(torch.bfloat16, torch.float32)", JacValueError, "bfloat16"),
    ("torch.symeig(x)", JacNameError, "torch.symeig was removed from PyTorch"),
    ("torch.solve(x, x)", JacNameError, r"write torch.linalg.solve\(A, B\)"),
])
def test_refusals_say_what_and_why(text, error, says):
    with pytest.raises(error, match=says):
        _value(text)


def test_a_removed_function_is_refused_at_its_name():
    with pytest.raises(JacNameError) as caught:
        _value("y = x + 1\ntorch.matrix_rank(y)")
    assert caught.value.position == len("y = x + 1\ntorch.")
