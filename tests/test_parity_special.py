"""Parity with PyTorch 2.13 at special inputs (0, -0, ±inf, NaN, subnormals, 1e308, kinks): the
differences ``benchmarks/special_sweep.py`` found where jac was wrong, each fixed (see tests/parity.py).

PyTorch's CPU kernels answer a NaN input differently in their vectorised body and their scalar tail
(``F.hardtanh``'s backward gives it 0 in one, 1 in the other: ``test_pytorch_has_no_single_answer_at_nan``);
jac keeps one answer there, and these cases hold only values where PyTorch has one."""

import numpy as np
import pytest

from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
inf, nan = np.inf, np.nan

# a NaN on the diagonal: PyTorch's dense Jacobian (a VJP per row) spreads 0 · NaN = NaN along its column, where
# jac's structured Jacobian has exact zeros; the VJPs are compared
OFF_DIAGONAL_NAN = {"differs": ("jacobian",)}

CASES = [
    # abs and l1_loss: the derivative at a NaN is sgn(NaN) = 0 (it was NaN)
    ("abs(x)", {"x": np.array([nan, -1.5, 0.0, 2.0])}, lambda x: torch.abs(x)),
    ("F.l1_loss(x, y, reduction='none')", {"x": np.array([nan, 1.0, 0.5]), "y": np.array([0.5, nan, 0.5])},
     lambda x, y: F.l1_loss(x, y, reduction="none")),
    ("F.smooth_l1_loss(x, y, reduction='sum', beta=0.0)", {"x": np.array([nan, 1.0, 2.0]), "y": np.array([0.5, 3.0, 1.0])},
     lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.0)),
    # torch.max(x) / torch.min(x): a NaN result's derivative is shared among the NaN elements (was NaN everywhere)
    ("torch.max(x)", {"x": np.array([1.0, nan, 3.0, nan])}, lambda x: torch.max(x)),
    ("torch.min(x) + 2 * torch.max(y)", {"x": np.array([[nan, 1.0], [-2.0, 0.0]]), "y": np.array([inf, 1.0, inf])},
     lambda x, y: torch.min(x) + 2 * torch.max(y)),
    # torch.lerp: PyTorch's formula for weight >= 0.5 (end - (end - start)(1 - weight)), values and derivatives
    ("torch.lerp(x, y, 0.75)", {"x": np.array([0.0, inf, 1.0, 0.1]), "y": np.array([inf, 0.0, 2.0, 0.7])},
     lambda x, y: torch.lerp(x, y, 0.75)),
    ("torch.lerp(x, y, 0.5)", {"x": np.array([0.0, -inf, 0.1]), "y": np.array([inf, 1.0, 0.3])},
     lambda x, y: torch.lerp(x, y, 0.5)),
    ("torch.lerp(x, y, w)", {"x": np.array([0.0, 0.1, 1.0]), "y": np.array([1.0, 0.7, 3.0]),
                             "w": np.array([0.25, 0.5, 0.9])}, lambda x, y, w: torch.lerp(x, y, w)),
    ("torch.lerp(x, y, w)", {"x": np.array([0.0, 1.0, -inf]), "y": np.array([inf, 2.0, 0.0]),
                             "w": np.array([0.25, 0.75, 0.6])}, lambda x, y, w: torch.lerp(x, y, w), OFF_DIAGONAL_NAN),
    ("x.lerp(y, 0.25)", {"x": np.array([0.0, inf, 0.1]), "y": np.array([inf, 1.0, 0.3])}, lambda x, y: x.lerp(y, 0.25)),
    # hardswish at ±inf and ±1e308: 1 and 0 (0 · inf made them NaN)
    ("F.hardswish(x)", {"x": np.array([inf, -inf, 1e308, -1e308, 2.5, -1.0])}, lambda x: F.hardswish(x)),
    # huber and smooth L1 at ±inf: the linear side's ±1 (0 · inf in the quadratic branch made them NaN)
    ("F.huber_loss(x, y, reduction='none', delta=0.5)", {"x": np.array([inf, -inf, 0.2, 3.0]), "y": np.zeros(4)},
     lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.5)),
    ("F.smooth_l1_loss(x, y, reduction='none')", {"x": np.array([inf, -inf, 0.2, nan]), "y": np.array([0.0, 1.0, 0.0, 0.0])},
     lambda x, y: F.smooth_l1_loss(x, y, reduction="none"), OFF_DIAGONAL_NAN),
    # celu with alpha < 1 at a large x: x (x / alpha overflowed to inf)
    ("F.celu(x, 0.5)", {"x": np.array([1e308, 1.7e308, 0.3, -0.4])}, lambda x: F.celu(x, 0.5)),
    # logaddexp: 1 where one side is +inf, 1/2 at a tie of huge numbers (NaN and 1 before)
    ("torch.logaddexp(x, y)", {"x": np.array([inf, 0.0, 1e308, -inf, 0.5]), "y": np.array([0.0, inf, 1e308, 2.0, 0.5])},
     lambda x, y: torch.logaddexp(x, y)),
    ("torch.logaddexp2(x, y)", {"x": np.array([inf, 0.0, 1e308, 0.5]), "y": np.array([-1.0, inf, 1e308, -0.25])},
     lambda x, y: torch.logaddexp2(x, y)),
    # logit outside [0, 1]: the value is NaN and so is the derivative (it was finite)
    ("torch.logit(x)", {"x": np.array([-1.0, 2.0, inf, -5e-324, 0.25])}, lambda x: torch.logit(x), OFF_DIAGONAL_NAN),
    # clamp by a tensor bound: a NaN gives the bound no derivative (it gave max 1)
    ("torch.clamp(x, max=y)", {"x": np.array([nan, 1.0, 3.0, 0.5]), "y": np.array([1.0, nan, 2.0, 1.0])},
     lambda x, y: torch.clamp(x, max=y)),
    ("torch.clamp(x, y, z)", {"x": np.array([nan, 1.0, 3.0, -2.0]), "y": np.array([0.0, 0.0, 0.0, -1.0]),
                              "z": np.array([1.0, nan, 2.0, 1.0])}, lambda x, y, z: torch.clamp(x, y, z)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_special_inputs_match_pytorch(case):
    expr, inputs, fn, *options = case
    assert_parity(expr, inputs, fn, **(options[0] if options else {}))


def _grad(fn, xs, dtype=torch.float64):
    t = torch.tensor(xs, dtype=dtype, requires_grad=True)
    y = fn(t)
    return y.detach().numpy(), torch.autograd.grad(y.sum(), t)[0].numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_hardswish_and_celu_have_pytorchs_bits(dtype):
    """hardswish's middle slope is PyTorch's x/3 + 1/2 (it was (2x + 3)/6, an ulp off at ±1 and -0.5), and
    celu(x) for x > 0 is x itself (alpha · (x / alpha) was an ulp off at 0.7), to the bit, in both dtypes."""
    from jacobi_cli.tools import api

    x = np.array([-1.0, 1.0, -0.5, 2.5, -2.9, inf, -inf], dtype=dtype)
    value, grad = _grad(F.hardswish, x, getattr(torch, dtype))
    ours = api.vjp("F.hardswish(x)", {"x": x}, v=np.ones_like(x), dtype=dtype)["x"]
    np.testing.assert_array_equal(ours.view(np.uint8), grad.view(np.uint8))
    x = np.array([0.7, 1e-3, 3.3, 1e308, 5e-324, inf], dtype=dtype)
    value, _ = _grad(lambda t: F.celu(t, 0.3), x, getattr(torch, dtype))
    np.testing.assert_array_equal(api.evaluate("F.celu(x, 0.3)", {"x": x}, dtype=dtype).view(np.uint8),
                                  value.view(np.uint8))


def test_amax_keeps_nan_everywhere_and_max_method_too():
    """Only the torch spellings share a NaN maximum's derivative among the NaNs: torch.amax, np.max and
    the method x.max() (NumPy's reading as much as PyTorch's) keep NaN everywhere, as torch.amax and JAX."""
    from jacobi_cli.tools import api

    x = {"x": np.array([1.0, nan, 3.0])}
    for expr in ("torch.amax(x)", "np.max(x)", "jnp.max(x)", "x.max()", "max(x)"):
        assert np.isnan(api.jacobian(expr, x)["x"]).all(), expr
    np.testing.assert_array_equal(api.jacobian("torch.max(x)", x)["x"], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(api.jacobian("torch.min(x)", x)["x"], [0.0, 1.0, 0.0])
    t = torch.tensor(x["x"], requires_grad=True)
    assert torch.isnan(torch.autograd.grad(torch.amax(t), t)[0]).all()  # PyTorch's amax: NaN everywhere


EXPRS = [c[0] for c in CASES] + ["F.hardswish(x) * x", "F.celu(x, 0.5) + abs(x)"]


@pytest.mark.parametrize("expr", EXPRS)
def test_repeated_calls_give_the_first_calls_bits(expr):
    """The second and third calls (a compiled kernel once checked) give the interpreter's bits at these values."""
    from jacobi_cli.tools import api

    inputs = next((c[1] for c in CASES if c[0] == expr), {"x": np.array([nan, inf, -inf, 0.0, -0.0, 1e308, -1.0])})
    api.clear_cache()
    first = api.jacobian(expr, inputs)
    for _ in range(2):
        again = api.jacobian(expr, inputs)
        for name in first:
            np.testing.assert_array_equal(np.asarray(again[name]).view(np.uint8),
                                          np.asarray(first[name]).view(np.uint8), err_msg=f"{expr} d/d{name}")


def test_pytorch_has_no_single_answer_at_nan():
    """Why jac does not copy PyTorch at a NaN input for hardtanh, relu6, softshrink, hardshrink, elu, selu, celu
    and hardswish: PyTorch's backward gives the NaN one answer in the scalar tail of its kernel (a short tensor)
    and another in the vectorised body (64 elements). If this test fails, PyTorch has become consistent: copy it."""
    for fn in (F.hardtanh, F.relu6, lambda t: F.softshrink(t, 0.5), lambda t: F.hardshrink(t, 0.5), F.elu, F.selu,
               F.hardswish):
        tail = _grad(fn, np.array([nan]))[1][0]
        body = _grad(fn, np.full(64, nan))[1][0]
        assert not (tail == body or (np.isnan(tail) and np.isnan(body)))
