"""NumPy's ufunc methods (np.add.outer, np.add.reduce, np.maximum.accumulate ...): NumPy's values exactly, and
derivatives that agree with central differences (lang/ufuncs.py lowers them onto jac's functions)."""

import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import central

rng = np.random.default_rng(7)
VALUES = {"x": rng.uniform(0.5, 2, 4), "y": rng.uniform(0.5, 2, 3), "A": rng.standard_normal((3, 4)),
          "T": rng.standard_normal((2, 3, 4))}

CASES = [  # (expression, NumPy's reading; one argument per input the expression names, in VALUES' order)
    ("np.add.outer(x, y)", lambda x, y: np.add.outer(x, y)),
    ("np.multiply.outer(x, y)", lambda x, y: np.multiply.outer(x, y)),
    ("np.subtract.outer(A, y)", lambda y, A: np.subtract.outer(A, y)),
    ("np.power.outer(x, y)", lambda x, y: np.power.outer(x, y)),
    ("np.arctan2.outer(x, y)", lambda x, y: np.arctan2.outer(x, y)),
    ("np.maximum.outer(x, A)", lambda x, A: np.maximum.outer(x, A)),
    ("np.divide.outer(x, 2.0)", lambda x: np.divide.outer(x, 2.0)),
    ("numpy.logaddexp.outer(y, x)", lambda x, y: np.logaddexp.outer(y, x)),
    ("np.add.reduce(A)", lambda A: np.add.reduce(A)),  # axis 0 by default, not every axis
    ("np.add.reduce(A, 1)", lambda A: np.add.reduce(A, 1)),
    ("np.add.reduce(A, axis=None)", lambda A: np.add.reduce(A, axis=None)),
    ("np.add.reduce(T, axis=(0, 2), keepdims=True)", lambda T: np.add.reduce(T, axis=(0, 2), keepdims=True)),
    ("np.multiply.reduce(x)", lambda x: np.multiply.reduce(x)),
    ("np.maximum.reduce(A, 1)", lambda A: np.maximum.reduce(A, 1)),
    ("np.minimum.reduce(T, -1)", lambda T: np.minimum.reduce(T, -1)),
    ("np.add.accumulate(x)", lambda x: np.add.accumulate(x)),
    ("np.logaddexp.reduce(A, 1)", lambda A: np.logaddexp.reduce(A, 1)),
    ("np.add.accumulate(A, 1)", lambda A: np.add.accumulate(A, 1)),
    ("np.multiply.accumulate(A)", lambda A: np.multiply.accumulate(A)),
    ("np.maximum.accumulate(x)", lambda x: np.maximum.accumulate(x)),
    ("np.minimum.accumulate(T, axis=2)", lambda T: np.minimum.accumulate(T, axis=2)),
    ("jnp.add.outer(x, y)", lambda x, y: np.add.outer(x, y)),
]


def names_of(expr):
    return [n for n in VALUES if re.search(rf"\b{n}\b", expr.split("(", 1)[1])]


@pytest.mark.parametrize("expr, fn", CASES, ids=[c[0] for c in CASES])
def test_numpy_values_and_central_differences(expr, fn):
    names = names_of(expr)
    env = {n: VALUES[n] for n in names}
    if "logaddexp.reduce" in expr:  # NumPy folds pairwise, jac takes logsumexp: equal to rounding
        np.testing.assert_allclose(api.evaluate(expr, env), fn(**env), rtol=1e-14)
    else:
        np.testing.assert_array_equal(api.evaluate(expr, env), fn(**env))
    jac = api.jacobian(expr, env)
    for n in names:
        want = central(lambda v: fn(**{**env, n: v}), env[n])
        np.testing.assert_allclose(jac[n], want, rtol=1e-6, atol=1e-8, err_msg=f"d/d{n}")


def test_booleans_reduce_and_compare_as_numpy():
    A = VALUES["A"]
    for expr, want in (("np.logical_and.reduce(A > 0)", np.logical_and.reduce(A > 0)),
                       ("np.logical_or.reduce(A > 0, 1)", np.logical_or.reduce(A > 0, 1)),
                       ("np.greater.outer(A[0], A[1])", np.greater.outer(A[0], A[1]))):
        np.testing.assert_array_equal(api.evaluate(expr, {"A": A}), want)


@pytest.mark.parametrize("expr, words", [
    ("np.subtract.reduce(x)", ["np.subtract.reduce() is not supported", "add"]),
    ("np.subtract.reduceat(x, [0])", ["np.subtract.reduceat() is not supported", "add"]),  # add's: test_over24
    ("np.add.at(x, [0], 1)\nx", ["'x' is an input", "write into a copy"]),  # np.add.at writes: a statement
    ("np.multiply.at(x, [0], 2)", ["'x' is an input", "write into a copy"]),  # read since session 40
    ("np.divide.at(x, [0], 2)", ["np.divide.at() is not supported"]),
    ("np.add.outer(x)", ["missing", "'B'"]),
    ("np.maximum.reduce(x, dtype=float)", ["dtype= is not supported by jac here"]),  # np.add.reduce's is read (test_numpy22)
    ("np.add + x", ["ufunc (np.add) named without its method"]),
    ("np.maximum.accumulate(x[0])", ["at least a vector"]),
    ("torch.add.outer(x, x)", ["'torch.add' is a function"]),  # PyTorch has no ufunc methods
])
def test_what_jac_lacks_is_refused_by_name(expr, words):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": VALUES["x"]})
    for word in words:
        assert word in err.value.message
