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


# numpy_fuzz --seed 3402: a comparison of float constants (np.zeros(4) > 0.3) folded to a constant the parser
# marked boolean but the builder held as a float 0 / 1, so its sum was a float and an integer division of it by
# zero a silent NaN where NumPy gives 0 with a warning (PyTorch raises); the same text of an input refused. Old
# (5d25982, session 31, gave NaN too). The text's own comparison of constants is now a bool constant.
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


def test_comparison_of_python_numbers_stays_pythons_bool():
    # pyflow32 seed 11 program 1056: (3 > 2) + 1 is Python's int 2, rebound by k2 += 6, never written in place
    text = "k1 = (3 > 2) + 1\nk2 = k1\nk2 += (4 + 2)\nk1 * x + k2"
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), 2 * X + 8)
