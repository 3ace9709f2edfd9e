"""Python's math module (lang/pymath.py): Python's own answers of numbers known when the graph is built, its
errors refused, and a number computed from the inputs refused at evaluation where Python's math raises."""
from __future__ import annotations

import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.5, 1.5, 2.5])


def _python(text: str, x):
    lines = text.split("\n")
    scope = {"np": np, "math": math, "x": x}
    exec("\n".join(lines[:-1]), scope)
    return eval(lines[-1], scope)


@pytest.mark.parametrize("text", [
    "import math\nsum(x ** k / math.factorial(k) for k in range(8))",  # the Taylor series users write
    "import math\nmath.comb(5, 2) * x + math.perm(5, 2) + math.perm(4)",
    "import math\nmath.comb(len(x), 2) * x",  # a shape is held as a float: taken as its int
    "import math\nmath.gcd(12, 18) * x + math.lcm(4, 6) + math.isqrt(10)",
    "import math\nmath.fsum([0.1] * 10) * x",
    "import math\nmath.dist([0, 0], [3, 4]) * x",
    "import math\nmath.isclose(0.1 + 0.2, 0.3) * x",
    "import math\nm, e = math.frexp(8.0)\nm * x + e",
    "import math\nf, i = math.modf(2.75)\nf * x + i",
    "import math\nmath.gamma(5) * x + math.lgamma(3.5)",
    "import math\nmath.floor(7 / 2) ** -1 * x",  # Python's int: ** -1 is a float
    "import math\nmath.factorial(20) // 7 * x",  # exact in Python's ints
    "import math\nmath.sin(math.pi) * x + math.log(8, 2) + math.pow(2, 0.5) + math.ulp(1.0)",
])
def test_values_and_derivatives_are_pythons(text):
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), _python(text, X), rtol=1e-15, atol=0)
    h, columns = 1e-6, []
    for j in range(X.size):
        e = np.zeros_like(X)
        e[j] = h
        columns.append((_python(text, X + e) - _python(text, X - e)) / (2 * h))
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], np.stack(columns, axis=-1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("text,says", [
    # NumPy's functions gave -inf, nan, inf for these: Python raises
    ("import math\nmath.log(0) * x", r"math.log\(0\): Python raises ValueError: math domain error"),
    ("import math\nmath.sqrt(-1) * x", r"math.sqrt\(-1\): Python raises ValueError: math domain error"),
    ("import math\nmath.acos(2.0) * x", "ValueError: math domain error"),
    ("import math\nmath.exp(1000) * x", "OverflowError: math range error"),
    ("import math\nmath.factorial(2.5) * x", "TypeError: 'float' object cannot be interpreted as an integer"),
    ("import math\nmath.factorial(-1) * x", "ValueError: factorial\\(\\) not defined for negative values"),
    ("import math\nmath.factorial(171) * x", "past a float's range"),
    ("import math\nmath.comb(10**9, 10**6) * x", "past a float's range"),  # refused before minutes of work
    ("import math\nmath.factorial(x[0]) * x", "computed from the inputs: jac takes it of ints known from the text"),
    ("import math\nmath.sqrt(x)", "takes a number, as Python's math module does"),
    ("import math\nmath.remainder(5, 3) * x", "IEEE's remainder"),
])
def test_what_python_raises_is_refused(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


def test_a_number_of_the_inputs_is_a_constant_of_the_derivatives_as_pytorchs_float_of_a_tensor():
    text = "import math\nmath.log(x[1]) * x ** 2"
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), math.log(X[1]) * X ** 2, rtol=1e-15)
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], np.diag(math.log(X[1]) * 2 * X), rtol=1e-15)


@pytest.mark.parametrize("text,value", [
    ("import math\nmath.log(x[0]) * x", np.array([0.0, 1.0, 2.0])),  # math.log(0.0)
    ("import math\nmath.sqrt(x[0]) * x", np.array([-1.0, 1.0, 2.0])),  # math.sqrt(-1.0)
    ("import math\nmath.exp(x[0]) * x", np.array([1000.0, 1.0, 2.0])),
    ("import math\nmath.sin(x[0]) * x", np.array([np.inf, 1.0, 2.0])),  # NaN of an argument that is not NaN
])
def test_a_number_of_the_inputs_is_refused_at_evaluation_where_python_raises(text, value):
    with pytest.raises(JacError, match="Python raises ValueError \\(math domain error\\) or OverflowError"):
        api.evaluate(text, {"x": value})
    api.evaluate(text, {"x": X})  # where Python answers, so does jac


def test_a_nan_argument_gives_nan_as_pythons_math_does():
    out = api.evaluate("import math\nmath.sqrt(x[0]) * x", {"x": np.array([np.nan, 1.0])})
    assert np.isnan(out).all()
