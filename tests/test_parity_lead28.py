"""Parity with PyTorch 2.13 for session 28's named-tuple outputs on main: a text ending with a call that returns
a named tuple has one output per field, each value and Jacobian PyTorch's (``torch.autograd.functional.jacobian``
of the field)."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

A = np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]])
S = np.array([[2.0, 0.5, -1.0], [0.3, 1.5, 0.2], [-0.4, 0.1, 3.0]])
X = np.array([3.0, 1.0, 2.5, -0.5])
CASES = [
    ("torch.linalg.qr(A)", A, ["Q", "R"]),
    ("torch.linalg.qr(A, mode='complete')", S, ["Q", "R"]),
    ("torch.linalg.slogdet(A)", S, ["sign", "logabsdet"]),
    ("torch.linalg.lu_factor(A)", S, ["LU", "pivots"]),
    ("torch.max(A, 1)", A, ["values", "indices"]),
    ("torch.min(A, dim=0, keepdim=True)", A, ["values", "indices"]),
    ("torch.sort(A, descending=True)", X, ["values", "indices"]),
    ("torch.topk(A, 2)", X, ["values", "indices"]),
    ("torch.kthvalue(A, 2)", X, ["values", "indices"]),
    ("torch.cummax(A, 0)", X, ["values", "indices"]),
    ("A.aminmax()", X, ["min", "max"]),
]


@pytest.mark.parametrize("call,a,fields", CASES, ids=[c for c, _, _ in CASES])
def test_each_field_is_an_output_as_pytorch_computes_it(float64, call, a, fields):  # noqa: F811
    values = api.evaluate(call, {"A": a})
    jacobians = api.jacobian(call, {"A": a})
    assert isinstance(values, tuple) and list(jacobians) == fields
    for i, field in enumerate(fields):
        def part(t, field=field):
            return getattr(eval(call, {"torch": torch, "A": t}), field)  # noqa: S307 - the test's own text
        theirs = part(torch.tensor(a))
        np.testing.assert_allclose(values[i], theirs.numpy(), rtol=1e-12, atol=1e-14, err_msg=field)
        if theirs.is_floating_point():
            jac = torch.autograd.functional.jacobian(part, torch.tensor(a))
            np.testing.assert_allclose(jacobians[field]["A"], jac.numpy(), rtol=1e-10, atol=1e-12, err_msg=field)
        else:  # indices, pivots: no derivative
            assert not np.any(jacobians[field]["A"])


def test_the_method_broadcast_to_is_pytorchs(float64):  # noqa: F811
    v = np.array([1.0, -2.0, 3.0, 0.5])
    for text in ("v.broadcast_to(3, 4)", "v.broadcast_to(2, -1)", "v.broadcast_to((1, 2, 4))"):
        f = lambda t: eval(text, {"v": t})  # noqa: E731, S307 - the test's own text
        np.testing.assert_array_equal(api.evaluate(text, {"v": v}), f(torch.tensor(v)).numpy())
        np.testing.assert_array_equal(api.jacobian(text, {"v": v})["v"],
                                      torch.autograd.functional.jacobian(f, torch.tensor(v)).numpy())
