"""Session 54 (h54-fuzz): what the fuzzers with seeds 5410-5427 and the items left by h53-fuzz found in jac.

hardswish at a NaN input: its gradient was NaN (the rule's middle branch x/3 + 1/2 takes a NaN, which fails both
``x <= -3`` and ``x >= 3``), but that branch's derivative is the constant 1/3, so the Hessian entry was 1/3 and the
third derivative 0 (nan41_fuzz seed 5301, ``sum(hardswish(y))`` at y[0] = NaN). A NaN input's derivatives are NaN in
every order now, and every other point's bits are unchanged (checked at ±0, subnormals, ±3 and their neighbours,
709, 710, ±1e308, ±inf).

sinc's derivative took cos(pi x) of the rounded product pi · x (see below): exact argument reduction now.
The tests named "guard" pass on main too; every other one fails there.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

Y = np.array([np.nan, 0.5, -1.0, 4.0])
SPELLINGS = ["sum(hardswish(y))", "torch.sum(F.hardswish(y))", "torch.sum(torch.nn.functional.hardswish(y))"]


@pytest.mark.parametrize("text", SPELLINGS)
@pytest.mark.parametrize("call", range(3))  # the interpreter, then the compiled kernels
def test_hardswish_hessian_is_nan_at_a_nan_input(text, call):
    H = api.hessian(text, {"y": Y})
    H = np.asarray(H[("y", "y")] if isinstance(H, dict) else H).reshape(4, 4)
    assert np.isnan(H[0, 0])
    assert np.array_equal(np.diag(H)[1:], [1 / 3, 1 / 3, 0.0])
    assert not np.isnan(H[1:, 1:]).any()


@pytest.mark.parametrize("order", [2, 3, 4])
def test_hardswish_derivatives_of_every_order_are_nan_at_a_nan_input(order):
    d = np.asarray(api.derivative("hardswish(y[0])", {"y": Y}, order=order, wrt=["y"])).reshape(-1)
    assert np.isnan(d[0])  # the entry by y[0] alone: the others are 0
    assert d.size == 4 ** order and not np.isnan(d[1:]).any() and not np.any(d[1:])


@pytest.mark.parametrize("order", [2, 3])
def test_hardswish_derivatives_at_ordinary_points_are_kept(order):
    """A guard (passes on main too): the term added is +0 at every finite point."""
    y = np.array([-2.0, -1.5, 0.0, 2.5])
    d = np.asarray(api.derivative("sum(hardswish(y))", {"y": y}, order=order, wrt=["y"]))
    if order == 2:
        assert np.array_equal(np.asarray(d).reshape(4, 4), np.diag([1 / 3] * 4))
    else:
        assert not np.any(d)


def test_hardswish_gradient_and_forward_mode_stay_nan_at_a_nan_input():
    """A guard (passes on main too): the first order was NaN already."""
    g = np.asarray(api.jacobian("sum(hardswish(y))", {"y": Y})["y"])
    jf = np.asarray(api.jacobian("hardswish(y)", {"y": Y}, mode="forward")["y"])
    assert np.isnan(g[0]) and np.isnan(jf[0, 0])
    assert np.array_equal(g[1:], [0.5 / 3 + 0.5, -1.0 / 3 + 0.5, 1.0])


# sinc'(x) = (cos(pi x) - sinc(x)) / x with cos(pi x) of the rounded pi · x, which loses the phase as x grows: nan41's
# seed 5411, torch.diff(torch.sinc(x * y)) at x[3] = 1e308, y[3] = 0.5 (x · y = 5e307, an even integer): the derivative
# by y[3] was 0.92, the truth x · sinc'(5e307) = 1e308 · 2e-308 = 2 (PyTorch's 0: its pi · x² overflows). The truths
# below are mpmath's (cospi, sinpi at 60 digits)
SINC_TRUTH = [
    (123.456, -0.0010954231277937516),
    (100000.25, 7.0710276264447748e-6),
    (10000000000.001, 9.9999507062169592e-11),
    (2.0 ** 52 + 1, -2.2204460492503126e-16),
    (2.0 ** 52, 2.2204460492503131e-16),
    (5e307, 2.0e-308),
    (-5e307, -2.0e-308),
    (1e300, 1e-300),
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("x,truth", SINC_TRUTH)
def test_sinc_derivative_at_large_arguments(x, truth, mode):
    d = float(np.asarray(api.jacobian("sinc(x)", {"x": np.array([x])}, mode=mode)["x"]).reshape(-1)[0])
    assert abs(d - truth) <= 2e-15 * abs(truth), (d, truth)  # main: 7.7e-14 at 123.456, 8e-9 at 1e10, 54 % at 5e307


def test_sinc_of_a_product_at_huge_arguments():
    J = np.asarray(api.jacobian("torch.diff(torch.sinc(x * y))", {"x": np.array([2.0, 0.5, -0.0, 1e308]),
                                                                   "y": np.array([1e-308, 1.0, 1e308, 0.5])})["y"])
    assert abs(J[2, 3] - 2.0) <= 4e-16 * 2.0


@pytest.mark.parametrize("x", [0.1, 0.3, 0.99, 1.0, -0.7, -1.0])
def test_sinc_derivative_keeps_its_bits_up_to_one(x):
    """A guard (passes on main too): 0.1 <= |x| <= 1 reduces to r = x, the product pi · x as before."""
    d = float(np.asarray(api.jacobian("sinc(x)", {"x": np.array([x])})["x"]).reshape(-1)[0])
    want = (np.cos(np.pi * x) - np.sinc(x)) / x
    assert d == want


# A write in place that changes only the shape (t.squeeze_(), t.unsqueeze_(0), t.t_(), t.transpose_(...)) is a write
# for PyTorch's version counter: the parts of an earlier t.split / chunk / unbind are stale, and PyTorch raises at
# their use ("Output 1 of Split is a view and its base or another view of its base has been modified inplace");
# jac answered (torchprog37, seed 5410, JAC-ANSWERS-WHERE-TORCH-RAISES)
STALE = [
    "t1 = torch.sin(x)\nt2, t3 = t1.split(1, dim=0)\nt1.squeeze_()\nt1, t3",
    "t1 = torch.sin(x)\nt2, t3 = t1.split(1, dim=0)\nt1.unsqueeze_(0)\nt2.sum()",
    "t1 = torch.sin(x)\nt2, t3 = t1.chunk(2, dim=0)\nt1.transpose_(1, 2)\nt3 * 2",
    "t1 = torch.sin(x)\nt2, t3 = t1.unbind(0)\nt1.unsqueeze_(0)\nt2.sum()",
]


@pytest.mark.parametrize("text", STALE)
def test_a_shape_write_makes_the_split_parts_stale(text):
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    with pytest.raises(JacError, match="its base or another view of its base has been modified inplace"):
        api.evaluate(text, {"x": x})


def test_a_shape_write_leaves_the_written_name_and_fresh_views_usable():
    """A guard (passes on main too): the written name itself answers."""
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    out = api.evaluate("t1 = torch.sin(x)\nt2, t3 = t1.split(1, dim=0)\nt1.squeeze_()\nt1", {"x": x})
    assert np.array_equal(np.asarray(out), np.sin(x))
