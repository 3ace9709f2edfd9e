"""Casts and identity constructors as NumPy and PyTorch spell them: x.astype(dtype), x.type(dtype), np.float32(x),
np.int64(x), np.bool_(x), np.identity(n), np.eye(n, m, k). Floats stay in jac's one dtype (--dtype); integer
casts truncate toward 0 with derivative 0, as NumPy's and PyTorch's casts."""

import numpy as np
import pytest
import torch

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

x = np.array([-1.5, -0.25, 0.3, 2.7])
S = np.arange(9.0).reshape(3, 3) / 7

CASES = [  # expression, NumPy's (or PyTorch's) value, its derivative with respect to x (None: only S bound)
    ("x.astype(np.float32) * x", x.astype(np.float32).astype(float) * x, None),
    ("x.astype(int) * x", x.astype(int) * x, np.diag(x.astype(int).astype(float))),
    ("x.astype('float64')", x, np.eye(4)),
    ("(x > 0).astype(float) * x", (x > 0).astype(float) * x, np.diag((x > 0).astype(float))),
    ("np.int64(x) + x", x.astype(np.int64) + x, np.eye(4)),
    ("np.float64(x[0]) * x", np.float64(x[0]) * x, np.diag(np.full(4, x[0])) + np.outer(x, np.eye(4)[0])),
    ("np.bool_(x > 0) * 1.0", np.bool_(x > 0) * 1.0, np.zeros((4, 4))),
    ("x.type(torch.float64) * x", (torch.tensor(x).type(torch.float64) * torch.tensor(x)).numpy(), np.diag(2 * x)),
    ("x.type(torch.int64) + x", (torch.tensor(x).type(torch.int64) + torch.tensor(x)).numpy(), np.eye(4)),
]


@pytest.mark.parametrize("expr, value, derivative", CASES, ids=[c[0] for c in CASES])
def test_casts_mean_what_numpy_and_pytorch_mean(expr, value, derivative):
    if "float32" in expr:  # jac computes in one dtype: a float cast keeps --dtype's precision (documented)
        np.testing.assert_allclose(api.evaluate(expr, {"x": x}), value, rtol=1e-7)
        return
    np.testing.assert_array_equal(api.evaluate(expr, {"x": x}), value)
    np.testing.assert_array_equal(api.jacobian(expr, {"x": x})["x"], derivative)


@pytest.mark.parametrize("expr, want", [
    ("np.identity(3) @ S", np.identity(3) @ S),
    ("np.identity(3, dtype=np.float32) @ S", np.identity(3, dtype=np.float32) @ S),
    ("np.eye(3, 4, k=1)[:, :3] * S", np.eye(3, 4, k=1)[:, :3] * S),
    ("np.eye(3, k=-1) @ S", np.eye(3, k=-1) @ S),
])
def test_identity_matrices(expr, want):
    np.testing.assert_array_equal(api.evaluate(expr, {"S": S}), want)


@pytest.mark.parametrize("expr, words", [
    ("x.astype()", ["missing its argument 'dtype'"]),
    ("np.float32(x, x)", ["at most 1 argument"]),
    ("np.complex64(x)", ["complex"]),
    ("x.astype(x)", ["constant"]),
])
def test_bad_casts_are_refused(expr, words):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": x})
    for word in words:
        assert word in err.value.message
