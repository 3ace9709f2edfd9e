"""torch.nn modules read as the functions they call (lang/modules.py), and Tensor methods NumPy lacks, without PyTorch: each module equals the
function it stands for, value and Jacobian to the bit; Jacobians against central differences; and the refusals
through the command line (exit 2, one message naming the module). tests/test_parity_nn21.py compares them with
PyTorch's modules."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import api
from parity import central

rng = np.random.default_rng(2121)

SAME = [  # (module text, the function it stands for, the shape of x)
    ("nn.ZeroPad2d(1)(x)", "F.pad(x, (1, 1, 1, 1))", (1, 2, 2, 3)),
    ("nn.ZeroPad1d((2, 0))(x)", "F.pad(x, (2, 0))", (2, 3)),
    ("nn.ConstantPad2d(1, 0.5)(x)", "F.pad(x, (1, 1, 1, 1), value=0.5)", (2, 2, 3)),
    ("nn.ReflectionPad1d(2)(x)", "F.pad(x, (2, 2), mode='reflect')", (2, 4)),
    ("nn.ReplicationPad2d((1, 0, 0, 2))(x)", "F.pad(x, (1, 0, 0, 2), mode='replicate')", (1, 2, 3)),
    ("nn.CircularPad3d(1)(x)", "F.pad(x, (1,) * 6, mode='circular')", (1, 2, 2, 3)),
    ("nn.MaxPool2d(2, stride=1)(x)", "F.max_pool2d(x, 2, 1)", (1, 2, 3, 3)),
    ("nn.AvgPool1d(3, padding=1)(x)", "F.avg_pool1d(x, 3, padding=1)", (2, 5)),
    ("nn.AdaptiveAvgPool2d(2)(x)", "F.adaptive_avg_pool2d(x, 2)", (1, 3, 5)),
    ("nn.LPPool1d(2, 2)(x)", "F.lp_pool1d(x, 2, 2)", (1, 2, 4)),
    ("nn.Upsample(scale_factor=2, mode='bilinear')(x)", "F.interpolate(x, scale_factor=2, mode='bilinear')",
     (1, 1, 2, 3)),
    ("nn.UpsamplingBilinear2d(scale_factor=2)(x)",
     "F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True)", (1, 1, 2, 3)),
    ("nn.PixelShuffle(2)(x)", "F.pixel_shuffle(x, 2)", (1, 4, 2, 2)),
    ("nn.ChannelShuffle(2)(x)", "x.reshape(2, 2, 3, 2).transpose(1, 2).reshape(2, 6, 2)", (2, 6, 2)),
    ("nn.Unfold(2)(x)", "F.unfold(x, 2)", (1, 2, 3, 3)),
    ("nn.Softmax2d()(x)", "F.softmax(x, dim=-3)", (2, 3, 2, 2)),
    ("nn.Unflatten(1, (2, 3))(x)", "x.reshape(2, 2, 3)", (2, 6)),
    ("nn.BatchNorm1d(3)(x)", "F.batch_norm(x, None, None, training=True)", (4, 3)),
    ("nn.BatchNorm2d(2, eps=0.1)(x)", "F.batch_norm(x, None, None, training=True, eps=0.1)", (2, 2, 2, 2)),
    ("nn.InstanceNorm1d(3)(x)", "F.instance_norm(x[None])[0]", (3, 4)),
    ("nn.InstanceNorm2d(2, affine=True)(x)", "F.instance_norm(x)", (1, 2, 2, 3)),
    ("nn.LayerNorm(4)(x)", "F.layer_norm(x, (4,))", (3, 4)),
    ("nn.RMSNorm([3, 4], eps=0.1)(x)", "F.rms_norm(x, (3, 4), eps=0.1)", (2, 3, 4)),
    ("nn.GroupNorm(2, 4)(x)", "F.group_norm(x, 2)", (2, 4, 3)),
    ("nn.PReLU()(x)", "F.prelu(x, torch.tensor([0.25]))", (2, 4)),
    ("nn.PReLU(3, 0.1)(x)", "F.prelu(x, torch.tensor([0.1, 0.1, 0.1]))", (2, 3, 2)),
    ("nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(2), nn.PReLU())(x)",
     "F.prelu(F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 2), torch.tensor([0.25]))", (1, 1, 3, 3)),
]


@pytest.mark.parametrize("module, function, shape", SAME, ids=[c[0] for c in SAME])
def test_a_module_is_the_function_it_calls(module, function, shape):
    x = {"x": rng.uniform(-1, 1, shape)}
    np.testing.assert_array_equal(api.evaluate(module, x), api.evaluate(function, x))
    np.testing.assert_array_equal(api.jacobian(module, x)["x"], api.jacobian(function, x)["x"])


@pytest.mark.parametrize("expr, shape", [
    ("nn.InstanceNorm1d(2)(x)", (2, 3)), ("nn.BatchNorm1d(2)(x) ** 2", (3, 2)), ("nn.GroupNorm(1, 2)(x)", (1, 2, 2)),
    ("nn.LayerNorm(3)(x)", (2, 3)), ("nn.MultiMarginLoss()(x, torch.tensor([1, 0]))", (2, 3)),
    ("nn.ReflectionPad1d(1)(x) * nn.ReplicationPad1d(1)(x)", (1, 3)), ("nn.LocalResponseNorm(2)(x)", (1, 3, 2)),
])
def test_jacobians_and_hessians_equal_central_differences(expr, shape):
    x = rng.uniform(-1, 1, shape)
    J = np.asarray(api.jacobian(expr, {"x": x})["x"])
    np.testing.assert_allclose(J, central(lambda t: api.evaluate(expr, {"x": t}), x), rtol=1e-6, atol=1e-8)
    scalar = f"({expr}).sum() ** 2"
    H = np.asarray(api.hessian(scalar, {"x": x})[("x", "x")])
    fd = central(lambda t: api.jacobian(scalar, {"x": t})["x"], x)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6)


REFUSED = [  # (expression, bindings, words of the message)
    ("nn.BatchNorm1d(3)(x)", "x:4x3x2x2", "expects a 2-d or 3-d input"),
    ("nn.BatchNorm1d(4)(x)", "x:5x3", "made for 4 channels"),
    ("nn.BatchNorm1d(3)(x)", "x:1x3", "more than 1 value per channel"),
    ("nn.InstanceNorm1d(4, affine=True)(x)", "x:2x3x5", "made for 4 channels"),
    ("nn.GroupNorm(3, 4)(x)", "x:2x6x2", "multiple of num_groups"),
    ("nn.Softmax2d()(x)", "x:2x3", "3-d or 4-d input"),
    ("nn.CircularPad1d(1)(x)", "x:3", "2-d or 3-d input"),
    ("nn.BatchNorm1d(3, affine='yes')(x)", "x:2x3", "affine must be True or False"),
    ("nn.LayerNorm()(x)", "x:2x3", "missing its argument 'normalized_shape'"),
    ("nn.ZeroPad2d(1)(x, x)", "x:1x1x2x2", "called with one array"),
    ("nn.PReLU(0)(x)", "x:2", "num_parameters must be positive"),
    ("nn.LSTM(3, 4)(x)", "x:2x3", "parameters drawn at random"),
    ("nn.LazyBatchNorm1d()(x)", "x:2x3", "write nn.BatchNorm1d(C)"),
    ("nn.FractionalMaxPool2d(2, output_size=2)(x)", "x:1x1x4x4", "at random"),
    ("nn.Dropout3d()(x)", "x:1x1x2x2x2", "training mode"),
    ("nn.ModuleDict()", "x:2", "container"),
    ("nn.ChannelShuffle(4)(x)", "x:1x6x2", "multiple of groups=4"),
    ("nn.ChannelShuffle(2)(x)", "x:2x6", "at least 3 dimensions"),
    ("x.sum_to_size(3, 3)", "x:4x2x3", "not expandable to the shape (4, 2, 3)"),
    ("x.sum_to_size()", "x:4x2x3", "takes one size"),
]


@pytest.mark.parametrize("expr, binding, words", REFUSED, ids=[c[0] + " " + c[1] for c in REFUSED])
def test_refusals_exit_2_with_one_message(expr, binding, words):
    result = CliRunner().invoke(app, ["eval", expr, binding])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("expr", ["torch.outer(x, v)", "x.outer(v)", "torch.ger(v, x)", "v.outer(x)"])
def test_torch_outer_of_a_matrix_is_refused_as_pytorch_refuses_it(expr):
    """np.outer flattens its arguments; PyTorch's outer takes vectors only ("Expected 1-D argument self"), so a
    PyTorch text outer of a matrix was given NumPy's flattened product where PyTorch gives none."""
    result = CliRunner().invoke(app, ["eval", expr, "x:3x4", "v:4"])
    assert result.exit_code == 2 and "expected 1-d arguments" in result.output
    assert api.evaluate("np.outer(x, v)", {"x": np.ones((3, 4)), "v": np.ones(4)}).shape == (12, 4)
    assert api.evaluate("torch.outer(v, v)", {"v": np.arange(4.0)})[3, 2] == 6.0
