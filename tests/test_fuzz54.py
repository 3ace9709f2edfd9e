"""Session 54 (h54-fuzz): what the fuzzers with seeds 5410-5427 and the items left by h53-fuzz found in jac.

hardswish at a NaN input: its gradient was NaN (the rule's middle branch x/3 + 1/2 takes a NaN, which fails both
``x <= -3`` and ``x >= 3``), but that branch's derivative is the constant 1/3, so the Hessian entry was 1/3 and the
third derivative 0 (nan41_fuzz seed 5301, ``sum(hardswish(y))`` at y[0] = NaN). A NaN input's derivatives are NaN in
every order now, and every other point's bits are unchanged (checked at ±0, subnormals, ±3 and their neighbours,
709, 710, ±1e308, ±inf).
"""
from __future__ import annotations

import numpy as np
import pytest

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
    y = np.array([-2.0, -1.5, 0.0, 2.5])
    d = np.asarray(api.derivative("sum(hardswish(y))", {"y": y}, order=order, wrt=["y"]))
    if order == 2:
        assert np.array_equal(np.asarray(d).reshape(4, 4), np.diag([1 / 3] * 4))
    else:
        assert not np.any(d)


def test_hardswish_gradient_and_forward_mode_stay_nan_at_a_nan_input():
    g = np.asarray(api.jacobian("sum(hardswish(y))", {"y": Y})["y"])
    jf = np.asarray(api.jacobian("hardswish(y)", {"y": Y}, mode="forward")["y"])
    assert np.isnan(g[0]) and np.isnan(jf[0, 0])
    assert np.array_equal(g[1:], [0.5 / 3 + 0.5, -1.0 / 3 + 0.5, 1.0])
