"""Session 47: float32 values computed in float64, warned of where the library's numbers differ.

jac computes in --dtype (float64 by default). Where a text makes a value its library holds in float32, PyTorch and
NumPy compute what follows in float32 too. jac warned (kind ``dtype``) only where the cast itself changed the values:
``np.arange(3, dtype=np.float32) / 10 * x`` (an exact cast, then NumPy's float32 division: 0.1 -> 0.100000001) was
silent. Now the ops the library computes in float32 are followed (NumPy 2's and PyTorch's promotion) and the first
whose values float32 does not hold is warned of, with the cast's warning: at once for constants, at the given values
for what an input reaches (a cast of an input's values too, which was warned of at any values).
"""

import contextlib
import io
import json

import jsonschema
import numpy as np
import pytest
import torch

from jacobi_cli.cli import entry, schema


def jac(*args) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def report_of(*args) -> dict:
    code, out, _ = jac(*args, "--json")
    assert code == 0, out
    report = json.loads(out)
    jsonschema.Draft202012Validator(schema.load(args[0])).validate(report)
    return report


def dtype_warnings(*args) -> list:
    return [w for w in report_of(*args).get("warnings", ()) if w["kind"] == "dtype"]


def library(expr: str, x):
    """The library's own value of ``expr`` at the float64 ``x`` (an array, or a tensor for a torch text)."""
    torchy = "torch." in expr or ".float()" in expr
    x = torch.tensor(x, dtype=torch.float64) if torchy else np.asarray(x, dtype=np.float64)
    out = eval(expr, {"np": np, "torch": torch, "x": x})  # noqa: S307 - the tests' own expressions
    return np.asarray(out.detach().numpy() if torchy else out, dtype=np.float64)


@pytest.mark.parametrize("expr, column", [
    ("np.arange(3, dtype=np.float32) / 10 * x", 31),         # the division, which NumPy computes in float32
    ("torch.arange(3, dtype=torch.float32) / 10 * x", 37),
    ("np.ones(3, dtype=np.float32) * 0.1 * x", 29),           # a Python float is weak: float32 * 0.1
    ("np.sin(np.arange(3, dtype=np.float32)) * x", 3),        # sin of float32 is float32 (a call: its name)
    ("(torch.arange(3).float() + 1).log() * x", 30),          # + 1 is exact, the method log is not
    ("np.asarray([1, 2, 3], dtype=np.float32).mean() / 3 * x", 47),  # the mean is 2, 2 / 3 rounds
])
def test_the_first_op_the_library_computes_in_float32_and_rounds_is_warned_of(expr, column):
    found = dtype_warnings("eval", expr, "x=1.0")
    assert len(found) == 1, found
    warning, = found
    assert warning["position"] == column and warning["op"] == "cast" and warning["in"] == "value"
    assert "(and" not in warning["message"]  # one place: the first op that rounds, not each op after it
    assert "this cast to float32 is computed in float64 (--dtype)" in warning["message"]
    ours = np.asarray(report_of("eval", expr, "x=1.0")["output"]["value"])
    assert not np.allclose(library(expr, 1.0), ours, rtol=1e-12, atol=0)  # the libraries' numbers do differ


def test_the_human_output_warns_with_a_caret_at_the_op():
    code, out, err = jac("eval", "np.arange(3, dtype=np.float32) / 10 * x", "x=1.0")
    assert code == 0 and "0.1" in out and "0.100000001" not in out  # float64's numbers, as before
    assert "jac: warning (dtype): this cast to float32 is computed in float64" in err
    assert "  np.arange(3, dtype=np.float32) / 10 * x\n" + " " * 33 + "^" in err


def test_an_op_an_input_reaches_is_warned_of_where_its_values_at_the_inputs_round():
    # PyTorch: a float32 tensor times a 0-d float64 tensor is float32 (0-d is weak), times a dimensioned one float64
    expr = "torch.arange(3).float() * x"
    for x, warned in [("0.1", True), ("1.0", False), ("[0.1, 0.2, 0.3]", False)]:
        found = dtype_warnings("eval", expr, f"x={x}")
        assert bool(found) == warned, (x, found)
        assert not warned or found[0]["position"] == 24  # the product
        ours = np.asarray(report_of("eval", expr, f"x={x}")["output"]["value"])
        assert np.allclose(library(expr, json.loads(x)), ours, rtol=1e-12, atol=0) != warned


def test_numpy_promotes_float32_with_a_0d_float64_array_where_pytorch_does_not():
    # NEP 50: a 0-d array is strong in NumPy 2, so np.float32 values times x (0-d) are float64: the same numbers
    assert dtype_warnings("eval", "np.arange(3, dtype=np.float32) * x", "x=0.1") == []
    assert np.allclose(library("np.arange(3, dtype=np.float32) * x", 0.1), [0, 0.1, 0.2], rtol=1e-15)
    found = dtype_warnings("eval", "torch.arange(3, dtype=torch.float32) * x", "x=0.1")
    assert len(found) == 1 and found[0]["position"] == 37


def test_integers_promote_float32_to_float64_in_numpy_and_not_in_pytorch():
    assert dtype_warnings("eval", "np.arange(3, dtype=np.float32) * np.arange(3) / 10 * x", "x=1.0") == []
    found = dtype_warnings("eval", "torch.arange(3, dtype=torch.float32) * torch.arange(3) / 10 * x", "x=1.0")
    assert len(found) == 1 and found[0]["position"] == 55  # the division (the product 0, 1, 4 is exact)


@pytest.mark.parametrize("command, extra", [("vjp", []), ("jvp", ["--tangent", "x=1"]), ("hessian", []),
                                            ("check", [])])
def test_every_command_that_computes_warns(command, extra):
    found = dtype_warnings(command, "(torch.arange(3).float() * x).sum()", "x=0.1", *extra)
    assert len(found) == 1 and found[0]["position"] == 25


def test_under_dtype_float32_nothing_is_warned_of():
    expr = "np.arange(3, dtype=np.float32) / 10 * x"
    assert dtype_warnings("eval", expr, "x=1.0", "--dtype", "float32") == []
    assert len(dtype_warnings("eval", expr, "x=1.0")) == 1


def test_a_binding_whose_value_a_float32_op_rounds_is_refused():
    # a value has no warning: x would hold float64's 0.1 where NumPy holds float32's 0.100000001
    code, out, _ = jac("eval", "x * 2", "x=np.arange(3, dtype=np.float32) / 10", "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["kind"] == "value" and "float32" in error["message"] and error["value"] == {"of": "x", "text": "np.arange(3, dtype=np.float32) / 10",
                                                                                     "position": 31}
    code, _, _ = jac("eval", "x * 2", "x=np.arange(3, dtype=np.float32) / 2", "--json")  # exact: read
    assert code == 0
