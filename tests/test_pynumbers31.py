"""Python's numbers in the text (ir/graph.py's fold of Python ints, `_python_int`): `/` of ints correctly
rounded as Python's, ZeroDivisionError and ints past a float's range refused, and a negative number to a
fractional power (complex in Python, NaN in NumPy) refused."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.5, 1.5, 2.5])


@pytest.mark.parametrize("text", [
    "(993468801730638314 / 853784) * x",  # float(a) / float(b) is 1 ulp off Python's a / b here
    "(2**60 + 1) / 3 * x", "7 / 2 * x", "2 ** -1 * x", "(-7) // 2 * x", "(-7) % 3 * x", "2 ** 10 / 3 * x",
    "2**1023 * x", "(10**17 + 1 - 10**17) * x", "x.shape[0] / 2 * x",
    "(1 << 3) * x", "(5 & 3) * x", "(5 | 3) * x", "(5 ^ 3) * x", "(~5) * x", "(7 >> 1) * x", "(-7 >> 1) * x",
    "sum(x * (1 << k) for k in range(3))",  # Python's bit operators of ints (they were refused)
])
def test_pythons_ints_are_pythons(text):
    assert api.evaluate(text, {"x": X}).tolist() == eval(text, {"x": X}).tolist()


@pytest.mark.parametrize("text,says", [
    ("1 / 0 * x", "ZeroDivisionError: division by zero"),
    ("1 // 0 * x", "ZeroDivisionError: integer division or modulo by zero"),
    ("5 % 0 * x", "ZeroDivisionError"),
    ("0 ** -1 * x", "ZeroDivisionError: 0.0 cannot be raised to a negative power"),
    ("2**1024 * x", "past a float's range"),  # NumPy and PyTorch raise OverflowError too (it was inf)
    ("10**400 // 10**399 * x", "past a float's range"),  # Python's exact 10: jac's floats cannot (it was NaN)
    ("10**100000 * x", "past a float's range"),  # refused before the work of computing it
    ("(-8) ** (1/3) * x", "complex in Python"),  # (was NaN)
    ("(1 << 2000) * x", "past a float's range"),
    ("(1 << -1) * x", "Python raises ValueError: negative shift count"),
    ("(-8.0) ** 0.5 * x", "write np.cbrt"),
])
def test_what_python_raises_or_makes_complex_is_refused(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


def test_nan_of_arrays_and_of_nan_stays_numpys():
    assert np.isnan(api.evaluate("np.array([-8.0, 8.0]) ** 0.5 * x[:2]", {"x": X})[0])
    assert np.isnan(api.evaluate("float('nan') ** 0.5 * x", {"x": X})).all()
    assert np.isnan(api.evaluate("x ** 0.5", {"x": -X})).all()
