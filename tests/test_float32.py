"""float32: results match float64 to float32's precision, stay float32 end to end, and
``jac check``'s finite-difference tolerances suit float32 (they pass the right derivatives and
still catch a wrong one). tests/test_fuzz.py compares the two dtypes on random expressions too.
"""

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.tools import api
from jacobi_cli.tools.check import check
from jacobi_cli.cli.app import app
from jacobi_cli.ir.ops import _BLOCKS, OPS, P  # tests patch the registry through _BLOCKS (OPS is read-only)

runner = CliRunner()
EXPRESSIONS = [
    ("tanh(A @ x) * sum(x**2) + softmax(A @ x)", {"A": ":3x4", "x": ":4"}),
    ("log(1 + exp(x)) / sqrt(2 + x**2)", {"x": ":5"}),
    ("det(A + 3 * eye(3)) * trace(inv(A + 3 * eye(3)))", {"A": ":3x3"}),
    ("logsumexp(X, axis=1) @ norm(X, axis=1)", {"X": ":4x3"}),
    ("prod(sigmoid(x)) + x @ (1 + x**2) ** 1.5", {"x": ":4"}),
    ("x**y + arctan(x * y)", {"x": "[0.5, 1.5]", "y": "[2.0, 0.3]"}),
]


@pytest.mark.parametrize("expr, bindings", EXPRESSIONS, ids=[e for e, _ in EXPRESSIONS])
def test_float32_matches_float64_to_float32_precision(expr, bindings):
    inputs = {name: api.to_bindings({name: v}, np.float32).realize(np.float32).values[name]
              for name, v in bindings.items()}
    p32 = api.prepare(expr, inputs, dtype="float32")
    p64 = api.prepare(expr, {k: v.astype(np.float64) for k, v in inputs.items()}, dtype="float64")
    assert p32.output.dtype == np.float32
    np.testing.assert_allclose(p32.output, p64.output, rtol=1e-5, atol=1e-6)
    for name, j in api.jacobians(p32).items():
        a32, a64 = j.to_array(), api.jacobians(p64)[name].to_array()
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-4, atol=1e-5 * (1 + np.abs(a64).max()))
    if p32.output.ndim == 0:
        for key, h in api.hessians(p32).items():
            assert h.dtype == np.float32, key
            np.testing.assert_allclose(h, api.hessians(p64)[key], rtol=1e-3, atol=1e-4 * (1 + np.abs(h).max()))


@pytest.mark.parametrize("expr, bindings", EXPRESSIONS, ids=[e for e, _ in EXPRESSIONS])
def test_check_passes_right_derivatives_in_float32(expr, bindings):
    for seed in range(3):
        problem = api.prepare(expr, bindings, dtype="float32", seed=seed)
        for name, result in check(problem).items():
            assert result.passed, (expr, seed, name, result.max_abs_error, result.max_rel_error)


def test_check_still_catches_a_one_percent_error_in_float32(monkeypatch):
    tanh = OPS["tanh"]
    off = dataclasses.replace(tanh, vjp=(lambda g, ans, x: P.mul(g, (1 - ans * ans) * 1.01),),
                              jvp=(lambda t, ans, x: P.mul(t, (1 - ans * ans) * 1.01),))
    monkeypatch.setitem(_BLOCKS, "tanh", off)
    result = runner.invoke(app, ["check", "--json", "--dtype", "float32", "tanh(x)", "x=[0.3, -0.7, 1.1]"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["passed"] is False


def test_cli_float32_json_values_are_float32_digits():
    result = runner.invoke(app, ["eval", "--json", "--dtype", "float32", "x / 3", "x=[1, 2]"])
    report = json.loads(result.stdout)
    assert report["output"]["value"] == [0.33333334, 0.6666667]  # float32's shortest digits
    assert report["jacobian"]["x"]["value"] == [[0.33333334, 0.0], [0.0, 0.33333334]]
