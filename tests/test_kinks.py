"""Kinks follow PyTorch: the expectations below are what PyTorch 2.13.0 (CPU, float64) gives.

They were taken once with ``torch.func.jacrev`` (and ``jacfwd``, which agrees at every point
here) in a separate virtual environment; torch is not a test dependency. Each case is
(expression, bindings, the PyTorch call, {input: its Jacobian}); jac's reverse mode
(``jac eval``) and forward mode must give exactly these numbers.
"""

import math

import numpy as np
import pytest

from jacobi_cli.tools import api

from jacobi_cli.engine import autodiff

INF, NAN = math.inf, math.nan
CASES = [
    ("abs(x)", {"x": [0.0, -1.0, 2.0]}, "torch.abs",
     {"x": [[0, 0, 0], [0, -1, 0], [0, 0, 1]]}),
    ("relu(x)", {"x": [0.0, -1.0, 2.0]}, "torch.relu",
     {"x": [[0, 0, 0], [0, 0, 0], [0, 0, 1]]}),
    ("max(x)", {"x": [1.0, 3.0, 3.0]}, "torch.max(x) and torch.amax(x)",
     {"x": [0, 0.5, 0.5]}),
    ("min(x)", {"x": [2.0, 1.0, 1.0]}, "torch.min(x) and torch.amin(x)",
     {"x": [0, 0.5, 0.5]}),
    ("amax(X, 1)", {"X": [[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]]}, "torch.amax(X, 1)",
     {"X": [[[0, 0.5, 0.5], [0, 0, 0]], [[0, 0, 0], [1 / 3, 1 / 3, 1 / 3]]]}),
    ("amax(X, (0, 1))", {"X": [[3.0, 1.0], [3.0, 2.0]]}, "torch.amax(X, (0, 1))",
     {"X": [[0.5, 0], [0.5, 0]]}),
    ("maximum(x, y)", {"x": [1.0, 2.0, 3.0], "y": [1.0, 0.0, 4.0]}, "torch.maximum and torch.max(x, y)",
     {"x": [[0.5, 0, 0], [0, 1, 0], [0, 0, 0]], "y": [[0.5, 0, 0], [0, 0, 0], [0, 0, 1]]}),
    ("torch.max(x, y)", {"x": [1.0, 2.0, 3.0], "y": [1.0, 0.0, 4.0]}, "torch.max(x, y)",
     {"x": [[0.5, 0, 0], [0, 1, 0], [0, 0, 0]], "y": [[0.5, 0, 0], [0, 0, 0], [0, 0, 1]]}),
    ("minimum(x, y)", {"x": [1.0, 2.0, 3.0], "y": [1.0, 0.0, 4.0]}, "torch.minimum",
     {"x": [[0.5, 0, 0], [0, 0, 0], [0, 0, 1]], "y": [[0.5, 0, 0], [0, 1, 0], [0, 0, 0]]}),
    ("clamp(x, -1, 1)", {"x": [-1.0, 1.0, 0.0, 2.0, -2.0]}, "torch.clamp(x, -1., 1.)",
     {"x": np.diag([1.0, 1, 1, 0, 0]).tolist()}),
    ("clip(x, min=0.0)", {"x": [0.0, 3.0]}, "torch.clamp(x, min=0.)", {"x": [[1, 0], [0, 1]]}),
    ("clip(x, max=3.0)", {"x": [0.0, 3.0]}, "torch.clamp(x, max=3.)", {"x": [[1, 0], [0, 1]]}),
    # clamp with tensor bounds: x, lo, hi in turn get the derivative
    ("clamp(x, lo, hi)", {"x": [-2.0, -1.0, 0.0, 1.0, 2.0], "lo": [-1.0] * 5, "hi": [1.0] * 5}, "torch.clamp(x, lo, hi)",
     {"x": np.diag([0.0, 1, 1, 1, 0]).tolist(), "lo": np.diag([1.0, 0, 0, 0, 0]).tolist(),
      "hi": np.diag([0.0, 0, 0, 0, 1]).tolist()}),
    # lo == hi: x gets it where x == lo == hi, hi where x > hi, nobody where x < lo (sic)
    ("clamp(x, lo, hi)", {"x": [1.0, 0.0, 2.0], "lo": [1.0] * 3, "hi": [1.0] * 3}, "torch.clamp(x, lo, hi)",
     {"x": np.diag([1.0, 0, 0]).tolist(), "lo": np.zeros((3, 3)).tolist(), "hi": np.diag([0.0, 0, 1]).tolist()}),
    # lo > hi: the value is hi everywhere, and so is the derivative
    ("clamp(x, lo, hi)", {"x": [0.0, 1.0, 1.5, 2.0, 5.0], "lo": [2.0] * 5, "hi": [1.0] * 5}, "torch.clamp(x, lo, hi)",
     {"x": np.zeros((5, 5)).tolist(), "lo": np.zeros((5, 5)).tolist(), "hi": np.eye(5).tolist()}),
    ("norm(x)", {"x": [0.0, 0.0]}, "torch.norm", {"x": [0, 0]}),
    ("norm(X, axis=1)", {"X": [[0.0, 0.0], [3.0, 4.0]]}, "torch.linalg.norm(X, dim=1)",
     {"X": [[[0, 0], [0, 0]], [[0, 0], [0.6, 0.8]]]}),
    ("x**0", {"x": [0.0, 2.0]}, "x ** 0.0", {"x": [[0, 0], [0, 0]]}),
    ("x**y", {"x": [0.0, 0.0, 2.0], "y": [0.0, 1.0, 0.0]}, "x ** y",
     {"x": [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "y": [[0, 0, 0], [0, 0, 0], [0, 0, math.log(2)]]}),
    # On the diagonal as PyTorch; off it jac's element-wise (diagonal) Jacobian holds exact zeros, where
    # PyTorch's dense backward pass multiplies a zero cotangent by an infinite partial and gets NaN.
    ("x**y", {"x": [0.0, 0.0], "y": [2.0, 0.5]}, "x ** y",
     {"x": [[0, 0], [0, INF]], "y": [[0, 0], [0, 0]]}),
    ("x**y", {"x": [0.0, -1.0], "y": [-1.0, 2.0]}, "x ** y",
     {"x": [[-INF, 0], [0, -2]], "y": [[-INF, 0], [0, NAN]]}),
    ("sqrt(x)", {"x": [0.0]}, "torch.sqrt", {"x": [[INF]]}),
    ("softplus(x)", {"x": [0.0]}, "torch.nn.functional.softplus", {"x": [[0.5]]}),
    ("logsumexp(x)", {"x": [0.0, 0.0]}, "torch.logsumexp(x, 0)", {"x": [0.5, 0.5]}),
]
FORWARD_DIFFERS = {"x**y"}  # PyTorch's own jacfwd gives NaN where its jacrev gives -inf or NaN at x = 0


def ids():
    return [f"{expr} {','.join(f'{k}={v}' for k, v in b.items())}"[:60] for expr, b, _, _ in CASES]


@pytest.mark.parametrize("expr, bindings, torch_call, expected", CASES, ids=ids())
def test_reverse_mode_matches_pytorch(expr, bindings, torch_call, expected):
    got = api.jacobian(expr, bindings)
    for name, jac in expected.items():
        np.testing.assert_array_equal(got[name], np.array(jac, dtype=float), err_msg=f"{expr} d/d{name} vs {torch_call}")


@pytest.mark.parametrize("expr, bindings, torch_call, expected", CASES, ids=ids())
def test_forward_mode_matches_too(expr, bindings, torch_call, expected):
    if expr in FORWARD_DIFFERS and any(not np.isfinite(np.array(j, dtype=float)).all() for j in expected.values()):
        pytest.skip("non-finite at x = 0: forward and reverse mode differ in PyTorch too")
    problem = api.prepare(expr, bindings)
    got = autodiff.jacfwd(problem.graph, problem.values, problem.wrt)
    for name, jac in expected.items():
        np.testing.assert_array_equal(got[name], np.array(jac, dtype=float), err_msg=f"{expr} d/d{name} vs {torch_call}")


def test_max_with_an_axis_shares_like_amax_not_like_torch_max_dim():
    """``torch.max(X, 1)`` gives each row's derivative to the index it returns (the first tie:
    [[0, 1, 0], [1, 0, 0]] for this X); jac has no indices, so ``max(X, 1)`` is ``torch.amax(X, 1)``,
    as docs/expressions.md says."""
    got = api.jacobian("max(X, 1)", {"X": [[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]]})["X"]
    np.testing.assert_array_equal(got.sum(axis=0), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
