"""Thirty-fourth session, the regression sweep (h34c-regress): cases the earlier probes and fuzzes of
``benchmarks/`` answered (or refused) as RESULTS.md records, and that crashed or changed on main when rerun."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

# pyvalues31_probe: a Python int past a float's exact range (2 ** 62) taken out of a list by an index or a
# comprehension was an AttributeError ('int' object has no attribute 'item') since 4b9fef4: the list's
# constant is an object array holding Python's own ints, whose item is already an int.
BIG = 2 ** 62
BIG_INT_TEXTS = [
    ("l = [2 ** 62]\ns = l[0]\nabs(s)", float(abs(BIG))),
    ("l = [2 ** 62]\ns = l[0]\ns // 2", float(BIG // 2)),
    ("l = [2 ** 62]\ns = l[0]\ns % 3", float(BIG % 3)),
    ("s = [t for t in [2 ** 62]][0]\ns == -4", 0.0),
    ("s = [t for t in [2 ** 62]][0]\ns < -3", 0.0),
    ("s = [t for t in [2 ** 62]][0]\nfloat(s) * x[0, 0]", float(BIG)),
]


@pytest.mark.parametrize("text, want", BIG_INT_TEXTS)
def test_big_python_int_out_of_a_list(text, want):
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), want)


def test_big_python_int_out_of_a_list_keeps_its_derivative():
    text = "s = [t for t in [2 ** 62]][0]\nx[0, 0] * (s % 3)"
    assert BIG % 3 == 1
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), 1.0)
    jac = np.asarray(api.jacobian(text, {"x": X})["x"])
    want = np.zeros(X.shape)
    want[0, 0] = 1.0
    np.testing.assert_array_equal(jac.reshape(X.shape), want)


# numpy_fuzz --seed 3402 (not fixed, pinned): a comparison of a float constant (np.zeros(4) > 0.3) folds to a
# float 0 / 1, not NumPy's bool, so its sum is a float and an integer division of it by zero a silent NaN where
# NumPy gives 0 with a warning (PyTorch raises); the same text of an input x refuses. Marking the builder's
# folded comparisons bool (graph._fold_float) fixes these but breaks rules that lower to comparisons of
# constants (torch.copysign(B, torch.tensor([-0.0, 0.0])): 'subtraction with a bool tensor'), so the fix
# belongs where the parser lowers the text's own comparisons. Pre-existing (5d25982, session 31, gives NaN too).
@pytest.mark.xfail(strict=True, reason="a constant mask's sum is a float: its integer division by zero is NaN")
@pytest.mark.parametrize("text", [
    "(np.zeros((4,)) > 0.3).sum(axis=0) // s.astype(int) + s",
    "(np.zeros((4,)) > 0.3).sum() // 0",
    "(np.zeros((4,)) > 0.3).sum() // np.int64(0)",
])
def test_sum_of_a_constant_mask_divided_by_integer_zero_is_refused(text):
    with pytest.raises(JacError, match="division by zero"):
        api.evaluate(text, {"s": np.float64(0.0947)})


def test_sum_of_a_constant_mask_is_numpys_int():
    text = "(np.arange(4.0) > 0.5).sum() // s.astype(int) + s"
    s = np.float64(2.5)
    assert api.evaluate(text, {"s": s}) == (np.arange(4.0) > 0.5).sum() // s.astype(int) + s
    np.testing.assert_array_equal(np.asarray(api.jacobian(text, {"s": s})["s"]), 1.0)
