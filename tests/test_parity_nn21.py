"""Parity with PyTorch 2.13 for the torch.nn modules the twenty-first session reads: pooling, padding, upsampling,
shuffles, fold / unfold, Softmax2d, Unflatten, the margin losses, and the normalizations and PReLU as a module
just made holds them (weight 1, bias 0; a batch norm trains). Each case builds the module in PyTorch (float64
parameters), calls it, and compares the value, the Jacobian and a VJP (tests/parity.py) with jac's reading of the
same text."""

import numpy as np
import pytest

from parity import assert_parity

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional
rng = np.random.default_rng(2021)


def _made(text: str):
    """The PyTorch function of ``text`` (``nn.NAME(...)(x)``, maybe nested in nn.Sequential): its modules made with
    float64 parameters, so that PReLU's init of 0.1 is the float64 0.1 jac uses (float32 by default)."""
    def fn(x):
        with torch.device("cpu"):
            torch.set_default_dtype(torch.float64)
            try:
                return eval(text, {"nn": nn, "torch": torch, "F": F}, {"x": x})
            finally:
                torch.set_default_dtype(torch.float32)
    return fn


CASES = [  # (expression of x, the shape of x)
    ("nn.MaxPool2d(2)(x)", (1, 2, 4, 4)),
    ("nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)(x)", (2, 3, 7)),
    ("nn.MaxPool3d(2, 1, dilation=(1, 2, 1))(x)", (1, 1, 3, 4, 3)),
    ("nn.AvgPool1d(2, count_include_pad=False, padding=1)(x)", (1, 2, 5)),
    ("nn.AvgPool2d(3, 2, 1, divisor_override=2)(x)", (1, 1, 5, 5)),
    ("nn.AvgPool3d(2, ceil_mode=True)(x)", (1, 1, 4, 5, 2)),
    ("nn.AdaptiveAvgPool1d(3)(x)", (2, 7)),
    ("nn.AdaptiveAvgPool2d((2, None))(x)", (1, 2, 5, 3)),
    ("nn.AdaptiveAvgPool3d(1)(x)", (2, 2, 2, 3)),
    ("nn.AdaptiveMaxPool1d(2)(x)", (1, 3, 5)),
    ("nn.AdaptiveMaxPool2d(2)(x)", (1, 1, 5, 5)),
    ("nn.AdaptiveMaxPool3d((2, 1, 2))(x)", (1, 1, 3, 3, 3)),
    ("nn.LPPool1d(2, 2, stride=1)(x)", (1, 2, 5)),
    ("nn.LPPool2d(1.5, 2)(x * x + 1)", (1, 1, 4, 4)),
    ("nn.LPPool3d(2, (1, 2, 2))(x)", (1, 1, 2, 4, 4)),
    ("nn.ZeroPad1d(2)(x)", (2, 3)),
    ("nn.ZeroPad2d(1)(x)", (1, 1, 2, 3)),
    ("nn.ZeroPad2d((1, 2))(x)", (2, 3)),
    ("nn.ZeroPad3d((1, 0, 0, 1, 2, 0))(x)", (1, 2, 2, 2)),
    ("nn.ConstantPad1d((2, 0), 3.5)(x)", (2, 3)),
    ("nn.ConstantPad2d(1, value=-2.0)(x)", (3, 2, 2)),
    ("nn.ConstantPad3d(1, -1.0)(x)", (1, 2, 2, 2)),
    ("nn.ReflectionPad1d(2)(x)", (2, 5)),
    ("nn.ReflectionPad2d((1, 0, 2, 1))(x)", (1, 1, 3, 4)),
    ("nn.ReflectionPad3d(1)(x)", (1, 2, 2, 3)),
    ("nn.ReplicationPad1d((3, 1))(x)", (1, 2, 3)),
    ("nn.ReplicationPad2d(2)(x)", (1, 2, 2)),
    ("nn.ReplicationPad3d(1)(x)", (1, 1, 2, 2, 2)),
    ("nn.CircularPad1d((1, 2))(x)", (2, 4)),
    ("nn.CircularPad2d(1)(x)", (1, 2, 3, 3)),
    ("nn.CircularPad3d((0, 1, 1, 0, 1, 1))(x)", (1, 2, 3, 2)),
    ("nn.Upsample(scale_factor=2)(x)", (1, 1, 3)),
    ("nn.Upsample(size=(5, 4), mode='bilinear')(x)", (1, 1, 3, 3)),
    ("nn.Upsample(scale_factor=2, mode='bicubic', align_corners=True)(x)", (1, 1, 3, 3)),
    ("nn.Upsample(scale_factor=(2, 1, 3), mode='trilinear')(x)", (1, 1, 2, 2, 2)),
    ("nn.UpsamplingNearest2d(scale_factor=2)(x)", (1, 1, 2, 3)),
    ("nn.UpsamplingBilinear2d(size=(4, 5))(x)", (1, 2, 2, 3)),
    ("nn.PixelShuffle(2)(x)", (1, 8, 2, 2)),
    ("nn.PixelUnshuffle(2)(x)", (1, 1, 4, 4)),
    ("nn.ChannelShuffle(3)(x)", (2, 6, 2)),
    ("nn.ChannelShuffle(2)(x)", (1, 4, 2, 1, 2)),
    ("nn.Fold((3, 4), 2)(x)", (1, 4, 6)),
    ("nn.Unfold(2, padding=1, stride=(1, 2))(x)", (1, 2, 3, 3)),
    ("nn.LocalResponseNorm(2)(x)", (1, 4, 3)),
    ("nn.LocalResponseNorm(3, alpha=0.1, beta=0.5, k=2.0)(x)", (2, 3, 2, 2)),
    ("nn.Softmax2d()(x)", (2, 3, 2, 2)),
    ("nn.Softmax2d()(x)", (3, 2, 2)),
    ("nn.Unflatten(1, (2, 3))(x)", (2, 6)),
    ("nn.Unflatten(-1, [3, 1, 2])(x)", (2, 6)),
    ("nn.BatchNorm1d(3)(x)", (4, 3)),
    ("nn.BatchNorm1d(3, affine=False, eps=0.01)(x)", (2, 3, 4)),
    ("nn.BatchNorm1d(5, affine=False, track_running_stats=False)(x)", (2, 3, 4)),
    ("nn.BatchNorm2d(2, eps=0.1)(x)", (2, 2, 3, 3)),
    ("nn.BatchNorm3d(1)(x)", (2, 1, 2, 2, 2)),
    ("nn.InstanceNorm1d(3)(x)", (2, 3, 4)),
    ("nn.InstanceNorm1d(3)(x)", (3, 4)),
    ("nn.InstanceNorm2d(2, affine=True)(x)", (1, 2, 3, 3)),
    ("nn.InstanceNorm2d(2, track_running_stats=True, eps=0.1)(x)", (2, 3, 3)),
    ("nn.InstanceNorm3d(1, track_running_stats=True)(x)", (1, 1, 2, 2, 3)),
    ("nn.LayerNorm(4)(x)", (3, 4)),
    ("nn.LayerNorm([2, 4], eps=1e-3, bias=False)(x)", (3, 2, 4)),
    ("nn.LayerNorm(4, elementwise_affine=False)(x)", (4,)),
    ("nn.RMSNorm(4)(x)", (3, 4)),
    ("nn.RMSNorm((3, 4), eps=0.5)(x)", (2, 3, 4)),
    ("nn.GroupNorm(2, 4)(x)", (2, 4, 3)),
    ("nn.GroupNorm(1, 3, affine=False)(x)", (2, 3)),
    ("nn.GroupNorm(3, 6, eps=0.1)(x)", (1, 6, 2, 2)),
    ("nn.PReLU()(x)", (2, 4)),
    ("nn.PReLU(3, 0.1)(x)", (2, 3, 2)),
    ("nn.PReLU(init=-0.5)(x)", (5,)),
    # PyTorch has no second derivative of multi_margin_loss: outputs of more than one element (no Hessian asked)
    ("nn.MultiMarginLoss(reduction='none')(x, torch.tensor([1, 0]))", (2, 3)),
    ("nn.MultiMarginLoss(p=2, margin=0.5, reduction='sum')(x, torch.tensor([2, 0])) * x[0]", (2, 3)),
    ("nn.MultiMarginLoss(1, 0.5, torch.tensor([1.0, 2.0, 0.5]))(x, torch.tensor([2, 1])) * x[1]", (2, 3)),
    ("nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(2), nn.BatchNorm2d(1), nn.PReLU())(x)", (2, 1, 3, 3)),
    ("nn.Sequential(nn.Unflatten(1, (1, 4)), nn.Upsample(scale_factor=2, mode='linear'), nn.Flatten())(x)",
     (3, 4)),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_modules_match_pytorch(case):
    expr, shape = case
    assert_parity(expr, {"x": rng.uniform(-1, 1, shape)}, _made(expr))


def test_nll_loss_2d_is_nll_loss():
    import warnings

    x = rng.uniform(-1, 1, (1, 3, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # NLLLoss2d is deprecated in PyTorch, an alias of NLLLoss
        assert_parity("nn.NLLLoss2d()(x, torch.tensor([[[0, 1], [2, 1]]]))", {"x": x},
                      _made("nn.NLLLoss2d()(x, torch.tensor([[[0, 1], [2, 1]]]))"))


@pytest.mark.parametrize("text, shape", [
    ("nn.BatchNorm1d(3)(x)", (4, 3, 2, 2)), ("nn.BatchNorm1d(3)(x)", (1, 3)), ("nn.BatchNorm1d(4)(x)", (5, 3)),
    ("nn.BatchNorm2d(3)(x)", (3, 2, 2)), ("nn.InstanceNorm1d(4, affine=True)(x)", (2, 3, 5)),
    ("nn.InstanceNorm1d(4, track_running_stats=True)(x)", (2, 3, 5)), ("nn.InstanceNorm1d(3)(x)", (3, 1)),
    ("nn.GroupNorm(2, 4)(x)", (2, 6, 3)), ("nn.LayerNorm(3)(x)", (2, 4)), ("nn.PReLU(3)(x)", (2, 4)),
    ("nn.Softmax2d()(x)", (2, 3)), ("nn.ZeroPad2d(1)(x)", (3,)), ("nn.ReflectionPad2d(1)(x)", (2, 3)),
    ("nn.CircularPad1d(1)(x)", (3,)), ("nn.ChannelShuffle(4)(x)", (1, 6, 2)), ("nn.ChannelShuffle(2)(x)", (2, 6)),
])
def test_what_pytorch_refuses_jac_refuses(text, shape):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    x = rng.uniform(-1, 1, shape)
    with pytest.raises(Exception):
        _made(text)(torch.tensor(x))
    with pytest.raises(JacError):
        api.evaluate(text, {"x": x})


B, C = rng.uniform(-1, 1, (4, 2, 5)), rng.uniform(-1, 1, (4, 5, 3))
METHODS = [  # Tensor methods NumPy's arrays lack, read as PyTorch's function of the array
    ("x.addbmm(B, C, beta=0.5, alpha=2)", lambda x, B, C: x.addbmm(B, C, beta=0.5, alpha=2)),
    ("x.slice_scatter(y[:1], 0, 0, 1)", lambda x, y: x.slice_scatter(y[:1], 0, 0, 1)),
    ("x.select_scatter(y[0], 0, 1)", lambda x, y: x.select_scatter(y[0], 0, 1)),
    ("x.diagonal_scatter(y[0, :2], 1)", lambda x, y: x.diagonal_scatter(y[0, :2], 1)),
    ("x.narrow_copy(1, 1, 2)", lambda x: x.narrow_copy(1, 1, 2)),
    ("x.split_with_sizes([1, 2], 1)[1]", lambda x: x.split_with_sizes([1, 2], 1)[1]),
    ("x.unsafe_chunk(3, 1)[2] * x.unsafe_split(1)[1]", lambda x: x.unsafe_chunk(3, 1)[2] * x.unsafe_split(1)[1]),
    ("T.sum_to_size(2, 1)", lambda T: T.sum_to_size(2, 1)),
    ("T.sum_to_size((1, 3)) * T.sum_to_size(4, 2, 3)", lambda T: T.sum_to_size((1, 3)) * T.sum_to_size(4, 2, 3)),
    ("T.sum_to_size(torch.Size([1, 1, 1]))", lambda T: T.sum_to_size(torch.Size([1, 1, 1]))),
    ("T.sum_to_size(3) * T.ndimension()", lambda T: T.sum_to_size(3) * T.ndimension()),
]


@pytest.mark.parametrize("case", METHODS, ids=[c[0] for c in METHODS])
def test_tensor_methods_match_pytorch(case):
    expr, fn = case
    inputs = {"x": rng.uniform(-1, 1, (2, 3)), "y": rng.uniform(-1, 1, (2, 3)), "B": B, "C": C,
              "T": rng.uniform(-1, 1, (4, 2, 3))}
    assert_parity(expr, {k: v for k, v in inputs.items() if k in fn.__code__.co_varnames}, fn)


RM, RV = rng.uniform(-1, 1, 3), rng.uniform(0.5, 2, 3)
ATEN = [  # PyTorch's top-level twins of F's functions: ATen's argument orders
    ("torch.batch_norm(N, w, c, rm, rv, False, 0.1, 1e-5, False)",
     lambda N, w, c: torch.batch_norm(N, w, c, torch.tensor(RM), torch.tensor(RV), False, 0.1, 1e-5, False)),
    ("torch.batch_norm(N, w, None, None, None, True, 0.1, 0.01, False)",
     lambda N, w: torch.batch_norm(N, w, None, None, None, True, 0.1, 0.01, False)),
    ("torch.instance_norm(N, w, c, None, None, True, 0.1, 1e-5, False)",
     lambda N, w, c: torch.instance_norm(N, w, c, None, None, True, 0.1, 1e-5, False)),
    ("torch.embedding(E, torch.tensor([[0, 4], [2, 4]]), 4)",
     lambda E: torch.embedding(E, torch.tensor([[0, 4], [2, 4]]), 4)),
    ("torch.embedding(E, torch.tensor([3, 1, 3]))", lambda E: torch.embedding(E, torch.tensor([3, 1, 3]))),
    ("torch.broadcast_to(c, (2, -1))", lambda c: torch.broadcast_to(c, (2, -1))),
]


@pytest.mark.parametrize("case", ATEN, ids=[c[0] for c in ATEN])
def test_aten_twins_match_pytorch(case):
    expr, fn = case
    inputs = {"N": rng.uniform(-1, 1, (2, 3, 4)), "w": rng.uniform(0.5, 1.5, 3), "c": rng.uniform(-1, 1, 3),
              "E": rng.uniform(-1, 1, (5, 3))}
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    expr = expr.replace("rm, rv", f"{RM.tolist()}, {RV.tolist()}")
    assert_parity(expr, {k: inputs[k] for k in names}, fn)


FOUND = [  # silently wrong before (the ranks sweep, benchmarks/ranks21_sweep.py)
    ("torch.linalg.vander(x)", lambda x: torch.linalg.vander(x), (2, 3)),
    ("torch.linalg.vander(x, N=4) * 1.5", lambda x: torch.linalg.vander(x, N=4) * 1.5, (3,)),
    ("F.relu6(x * 8, True)", lambda x: F.relu6(x * 8, True), (5,)),
    ("torch.linalg.cholesky(x @ x.T + 3 * torch.eye(3))", lambda x: torch.linalg.cholesky(x @ x.T + 3 * torch.eye(3)),
     (3, 3)),
    ("torch.linalg.eigvalsh(x + x.T)", lambda x: torch.linalg.eigvalsh(x + x.T), (3, 3)),
]


@pytest.mark.parametrize("case", FOUND, ids=[c[0] for c in FOUND])
def test_found_by_the_ranks_sweep_match_pytorch(case):
    expr, fn, shape = case
    assert_parity(expr, {"x": rng.uniform(-1, 1, shape)}, fn)


A3, P3, N3 = (rng.uniform(-1, 1, (3, 4)) for _ in range(3))
LOSSES = [  # the modules of the losses merged from h21-vocab
    ("nn.TripletMarginWithDistanceLoss()(a, p, n)", lambda a, p, n: nn.TripletMarginWithDistanceLoss()(a, p, n)),
    ("nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1), margin=0.5)(a, p, n)",
     lambda a, p, n: nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1), margin=0.5)(a, p, n)),
    ("nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: (u - v).abs().sum(-1), swap=True, "
     "reduction='sum')(a, p, n)",
     lambda a, p, n: nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: (u - v).abs().sum(-1), swap=True,
                                                     reduction="sum")(a, p, n)),
    ("nn.MultiLabelMarginLoss(reduction='none')(a, torch.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2]]))",
     lambda a: nn.MultiLabelMarginLoss(reduction="none")(a, torch.tensor([[3, 0, -1, 1], [1, 2, 3, -1],
                                                                          [0, -1, 2, 2]]))),
]


@pytest.mark.parametrize("case", LOSSES, ids=[c[0][:60] for c in LOSSES])
def test_loss_modules_match_pytorch(case):
    expr, fn = case
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    assert_parity(expr, {k: {"a": A3, "p": P3, "n": N3}[k] for k in names}, fn, differs=("hessian",))
