"""Functions the twentieth session added, which ``benchmarks/vocab_names.py`` listed as refused by name: the 3-d
layers of torch.nn.functional (conv3d, conv_transpose3d, max_pool3d, avg_pool3d, adaptive_avg_pool3d,
adaptive_max_pool3d, lp_pool3d) and max_unpool1d / 2d / 3d. Without PyTorch: Jacobians against central differences
on random inputs, forward and reverse mode agreeing, shapes, and the refusals through the command line (exit 2, one
message). tests/test_parity_vocab20.py compares them with PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import api
from parity import central

rng = np.random.default_rng(2020)
X = rng.uniform(-1, 1, (1, 2, 3, 4, 3))
W = rng.uniform(-1, 1, (2, 1, 2, 2, 2))
WT = rng.uniform(-1, 1, (2, 2, 2, 1, 2))

LAYERS = [  # (expression of x, the input's shape, the result's shape)
    ("F.conv3d(x, W, groups=2, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1))", X.shape, (1, 2, 3, 3, 4)),
    ("torch.conv3d(x[0], W[:, :, :1], padding='same', groups=2)", X.shape, (2, 3, 4, 3)),
    ("F.conv_transpose3d(x, WT, stride=2, padding=(0, 1, 0), output_padding=1, groups=2)", X.shape,
     (1, 4, 7, 6, 7)),
    ("F.max_pool3d(x, 2, stride=1, padding=1)", X.shape, (1, 2, 4, 5, 4)),
    ("torch.max_pool3d(x, (2, 3, 2), (1, 1, 1), 0, (2, 1, 1))", X.shape, (1, 2, 1, 2, 2)),
    ("F.avg_pool3d(x, (2, 2, 3), padding=(1, 1, 1), count_include_pad=False)", X.shape, (1, 2, 2, 3, 1)),
    ("F.avg_pool3d(x[0], 2, stride=1, divisor_override=7)", X.shape, (2, 2, 3, 2)),
    ("F.adaptive_avg_pool3d(x, (2, 3, 2))", X.shape, (1, 2, 2, 3, 2)),
    ("F.adaptive_max_pool3d(x[0], (2, 3, 5))", X.shape, (2, 2, 3, 5)),
    ("F.lp_pool3d(x + 2, 2.5, (1, 2, 2), stride=1)", X.shape, (1, 2, 3, 3, 2)),
    ("F.max_unpool3d(x, i3, 2)", X.shape, (1, 2, 6, 8, 6)),
    ("F.max_unpool2d(x[0, 0], i2, (1, 2), output_size=(4, 7))", X.shape, (3, 4, 7)),
    ("F.max_unpool1d(x[0, 0, 0], i1, 3, 2, 1)", X.shape, (4, 5)),
]
INDICES = {  # distinct in each (N, C) plane of the output
    "i3": np.broadcast_to((np.arange(36.0) * 8).reshape(3, 4, 3), X.shape),
    "i2": np.broadcast_to((np.arange(12.0) * 2).reshape(4, 3), (3, 4, 3)),
    "i1": np.broadcast_to([4.0, 0.0, 2.0], (4, 3)),
}


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_jacobians_equal_central_differences(case):
    expr, shape, out = case
    x = rng.uniform(-1, 1, shape)
    env = {"W": W, "WT": WT, **INDICES}
    bindings = {"x": x, **{k: v for k, v in env.items() if k in expr}}
    value = np.asarray(api.evaluate(expr, bindings))
    assert value.shape == out
    J = np.asarray(api.jacobian(expr, bindings, wrt=["x"])["x"])
    fd = central(lambda t: api.evaluate(expr, {**bindings, "x": t}), x)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)
    u, t = rng.standard_normal(out), rng.standard_normal(shape)
    vjp = np.asarray(api.vjp(expr, bindings, v=u, wrt=["x"])["x"])
    jvp = np.asarray(api.jvp(expr, bindings, tangents={"x": t}))
    np.testing.assert_allclose(np.sum(u * jvp), np.sum(vjp * t), rtol=1e-10)  # <u, J t> = <J^T u, t>


def test_conv3d_derivative_by_the_weight_is_the_input_windows():
    bindings = {"x": X, "W": W}
    J = np.asarray(api.jacobian("F.conv3d(x, W, groups=2)", bindings, wrt=["W"])["W"])
    fd = central(lambda w: api.evaluate("F.conv3d(x, W, groups=2)", {"x": X, "W": w}), W)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)
    assert J[0, 0, 0, 0, 0, 0, 0, 1, 1, 1] == X[0, 0, 1, 1, 1]  # y[0,0,0,0,0] = Σ W[0,0,a,b,c] x[0,0,a,b,c]


def test_max_pool3d_hessian_of_a_square_is_diagonal_and_symmetric():
    expr = "(F.max_pool3d(x, 2, 1) ** 2).sum()"
    H = np.asarray(api.hessian(expr, {"x": X})[("x", "x")]).reshape(X.size, X.size)
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_array_equal(H, np.diag(np.diag(H)))


runner = CliRunner()
BAD = [
    (["eval", "F.conv3d(x, w)", "x:1,2,4,4", "w:3,2,2,2,2"], "conv3d"),
    (["eval", "F.max_pool3d(x, 2, padding=2)", "x:1,2,4,4,4"], "at most half"),
    (["eval", "F.max_unpool3d(x, i, 2)", "x:1,1,1,1,2", "i=[[[[[0, 0]]]]]"], "more than once"),
    (["eval", "F.adaptive_avg_pool3d(x, (2, 2))", "x:2,3,3,3"], "one integer or 3"),
]


@pytest.mark.parametrize("args, words", BAD, ids=[b[0][1] for b in BAD])
def test_bad_arguments_exit_2_with_one_message(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.count("jac: error") == 1 and words in result.output
