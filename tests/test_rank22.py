"""What the twenty-second session found without PyTorch: NumPy's matrix_rank of a vector or a scalar (1 unless
every element is 0, its tol unread) and np.polyint(p, 0) (p as it is). tests/test_parity_trust22.py compares
PyTorch's refusal of a vector's matrix_rank."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import api


@pytest.mark.parametrize("text", ["np.linalg.matrix_rank(x)", "np.linalg.matrix_rank(x, 0.5)", "matrix_rank(x)",
                                  "np.linalg.matrix_rank(x, tol=10.0)", "np.linalg.matrix_rank(x, rtol=0.9)"])
@pytest.mark.parametrize("x", [[1e-3, 2e-3], [np.nan, 1.0], [0.0, 0.0], [], [0.0, -0.0, 1e-300], 0.0, 2.0])
def test_numpy_matrix_rank_of_a_vector_or_scalar_is_whether_any_element_is_nonzero(text, x):
    x = np.asarray(x, dtype=float)
    expected = np.linalg.matrix_rank(x)  # NumPy: int(not all(A == 0)), whatever tol says
    assert api.evaluate(text, {"x": x}) == expected  # was the rank of the row [x], tol applied: 0 for [1e-3, 2e-3]


def test_torch_matrix_rank_of_a_vector_is_refused_as_pytorch():
    result = CliRunner().invoke(app, ["eval", "torch.linalg.matrix_rank(x)", "x=1,2"])
    assert result.exit_code == 2 and "needs at least 2 dimensions" in result.output


@pytest.mark.parametrize("p", [2.0, [1.0, 2.0, 3.0], [[1.0, 2.0], [3.0, 4.0]]])
def test_polyint_of_order_zero_is_p_as_it_is(p):
    p = np.asarray(p)
    for text in ("np.polyint(p, 0)", "np.polyint(p, m=0, k=3)"):
        value = api.evaluate(text, {"p": p})
        assert value.shape == p.shape and np.array_equal(value, np.polyint(p, 0))  # a 0-d p was (1,)
    jac = api.jacobian("np.polyint(p, 0)", {"p": p})["p"]
    assert np.array_equal(jac.reshape(p.size, p.size), np.eye(p.size))
