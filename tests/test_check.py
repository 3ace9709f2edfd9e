"""jac check: automatic derivatives against finite differences, and the numbers behind it."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.tools import api, numeric
from jacobi_cli.tools.check import check, default_tolerances
from jacobi_cli.cli.app import app
from jacobi_cli.ir.ops import _BLOCKS, OPS, P  # tests patch the registry through _BLOCKS (OPS is read-only)

runner = CliRunner()


def jac(*args):
    return runner.invoke(app, [str(a) for a in args])


def jac_json(*args):
    result = jac(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


# --- numeric.py -----------------------------------------------------------------------------

def test_richardson_is_far_more_accurate_than_central():
    x = np.array([1.0])
    exact = 20 * np.exp(20.0)
    central = numeric.differences(lambda v: np.exp(20 * v), x, "central").estimate
    richardson = numeric.differences(lambda v: np.exp(20 * v), x, "richardson").estimate
    assert abs(central[0, 0] - exact) / exact < 1e-7
    assert abs(richardson[0, 0] - exact) < abs(central[0, 0] - exact) / 1000


def test_steps_scale_with_magnitude_and_dtype():
    x = np.array([0.0, 1.0, 1000.0])
    h = numeric.step_sizes(x)
    assert h[0] == h[1] == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))
    assert h[2] == pytest.approx(1000 * h[1])
    assert numeric.step_sizes(x.astype(np.float32))[0] == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))


def test_one_sided_slopes_find_the_kink_of_abs_only_at_zero():
    d = numeric.differences(np.abs, np.array([0.0, 1e-3, -2.0]))
    assert np.diag(d.kink).tolist() == [True, False, False]
    assert d.left[0, 0] == pytest.approx(-1) and d.right[0, 0] == pytest.approx(1)
    assert np.diag(d.estimate) == pytest.approx([0, 1, -1])


def test_curvature_is_not_a_kink():
    # x**2 at 0: the one-sided slopes are -h and +h, a jump that shrinks with h
    d = numeric.differences(lambda v: v**2 * 1e6, np.array([0.0, 3.0]))
    assert not d.kink.any()


def test_limit_table_converges_like_2_plus_3h():
    rows = numeric.limit_table(lambda v: 3 * v**2 - 4 * v, np.float64(1.0))
    assert [h for h, _ in rows] == [0.1, 0.01, 0.001, 1e-4, 1e-5]
    for h, q in rows:
        assert q == pytest.approx(2 + 3 * h, rel=1e-9)


# --- the library ---------------------------------------------------------------------------------

def test_every_input_passes_for_a_smooth_expression():
    results = check(api.prepare("tanh(A @ x) * sum(x**2) + softmax(A @ x)", {"A": ":3x4", "x": ":4"}))
    assert set(results) == {"A", "x"}
    for r in results.values():
        assert r.passed and r.modes.passed and r.max_abs_error < 1e-8 and not r.kinks


def test_a_wrong_vjp_rule_fails_reverse_mode_only(monkeypatch):
    sin = OPS["sin"]
    wrong = dataclasses.replace(sin, vjp=(lambda g, ans, x: P.mul(g, ans),))  # sin' is cos, not sin (rules use P)
    monkeypatch.setitem(_BLOCKS, "sin", wrong)
    r = check(api.prepare("sin(x)", {"x": [0.3, 1.2]}))["x"]
    assert not r.passed
    assert r.forward.passed and not r.reverse.passed and not r.modes.passed
    assert r.max_abs_error == pytest.approx(max(abs(np.sin(1.2) - np.cos(1.2)), abs(np.sin(0.3) - np.cos(0.3))),
                                            rel=1e-6)


@pytest.mark.parametrize("expr", ["sin(x) * x**2", "cos(3 * x) + x", "sin(x) * exp(x / 1e6)", "tanh(sin(x)) * x"])
def test_smooth_functions_pass_at_large_x(expr):
    """The step scaled to |x| is too coarse for a function that varies on the scale 1:
    at x = 1999 the estimate's truncation error alone was 2.4e-5 relative (the old check
    failed 719 of 2000 cases of sin(x) * x**2 at x = 0..1999)."""
    x = np.concatenate([np.linspace(0, 1999, 97), [-3e5, 1e6, -1e6]])
    r = check(api.prepare(expr, {"x": x}))["x"]
    assert r.passed and not r.kinks, (r.max_abs_error, r.kinks[:2])


@pytest.mark.parametrize("x", [1999.0, 1e6])
def test_a_wrong_rule_is_still_caught_at_large_x(monkeypatch, x):
    """A derivative 1e-4 off at |x| up to 1e6 fails: the better yardstick is also a sharper one."""
    sin = OPS["sin"]
    off = dataclasses.replace(sin, vjp=(lambda g, ans, x: P.mul(g, P.cos(x) * 1.0001),),
                              jvp=(lambda t, ans, x: P.mul(t, P.cos(x) * 1.0001),))
    monkeypatch.setitem(_BLOCKS, "sin", off)
    r = check(api.prepare("sin(x) * x**2", {"x": [x]}))["x"]
    assert not r.passed and not r.forward.passed and not r.reverse.passed


def test_a_large_function_with_a_flat_derivative_passes():
    # f' = 0 at x = 1 but |f| ~ 1e6: the central difference's rounding error ~1e-5 is far above atol
    r = check(api.prepare("1e6 * (x**3/3 - x)", {"x": [1.0]}))["x"]
    assert r.passed and r.max_abs_error > default_tolerances(np.float64)[1]


def test_float32_has_looser_defaults_that_it_needs():
    assert default_tolerances(np.float32)[0] > default_tolerances(np.float64)[0]
    problem = api.prepare("exp(3 * x)", {"x": [1.0, 0.5]}, dtype="float32")
    first = check(problem)["x"]
    assert first.passed and first.max_rel_error > default_tolerances(np.float64)[0]  # float64's rtol is too tight


# --- the command ---------------------------------------------------------------------------------

def test_limit_table_of_the_seed_example():
    code, out = jac_json("check", "3*x**2 - 4*x", "x=1", "--limit")
    assert code == 0 and out["passed"] is True and out["command"] == "check"
    assert [round(r["quotient"], 9) for r in out["limit"]] == [2.3, 2.03, 2.003, 2.0003, 2.00003]
    assert [r["h"] for r in out["limit"]] == [0.1, 0.01, 0.001, 0.0001, 1e-05]
    assert out["derivative"] == 2.0
    x = out["inputs"]["x"]
    assert x["shape"] == [] and x["kind"] == "scalar" and x["requires_grad"] is True
    assert x["passed"] is True and x["max_abs_error"] < 1e-9 and x["max_rel_error"] < 1e-9
    assert out["output"]["value"] == -1.0


def test_human_output_shows_the_table_and_verdict():
    result = jac("check", "3*x**2 - 4*x", "x=1", "--limit")
    assert result.exit_code == 0
    for text in ("2.3", "2.03", "2.003", "2.0003", "→ 2", "PASS"):
        assert text in result.stdout


def test_relu_at_zero_fails_and_says_why():
    result = jac("check", "relu(x)", "x=0")
    assert result.exit_code == 1
    assert "kink" in result.stdout and "FAIL" in result.stdout
    code, out = jac_json("check", "relu(x)", "x=0")
    assert code == 1 and out["passed"] is False
    (kink,) = out["inputs"]["x"]["kinks"]
    assert kink["where"] == "at_point" and kink["left"] == pytest.approx(0) and kink["right"] == pytest.approx(1)
    assert kink["automatic"] == 0 and kink["numeric"] == pytest.approx(0.5)


def test_abs_at_zero_passes_by_symmetry_but_the_kink_is_reported():
    code, out = jac_json("check", "abs(x)", "x=[0, 2]")
    assert code == 0 and out["passed"] is True
    kinks = out["inputs"]["x"]["kinks"]
    assert [(k["input_index"], k["where"], k["passed"]) for k in kinks] == [([0], "at_point", True)]
    assert "not differentiable" in jac("check", "abs(x)", "x=[0, 2]").stdout


def test_a_kink_inside_the_step_is_told_apart_from_a_wrong_rule():
    # abs is differentiable at 1e-7 (slope 1), but the first step (6e-6) straddles its kink at 0:
    # smaller steps settle on jac's 1, so it passes with nothing to report.
    code, out = jac_json("check", "abs(x)", "x=1e-7")
    assert code == 0 and out["inputs"]["x"]["kinks"] == []
    # at 1e-15 no step resolves it (x ± h must differ from x): the estimates keep jumping
    code, out = jac_json("check", "abs(x)", "x=1e-15")
    assert code == 1
    (kink,) = out["inputs"]["x"]["kinks"]
    assert kink["where"] == "within_step" and kink["automatic"] == 1.0 and not kink["passed"]
    assert "kink lies within" in jac("check", "abs(x)", "x=1e-15").stdout


def test_non_finite_derivatives_fail_honestly():
    code, out = jac_json("check", "sqrt(x)", "x=[0, 1]")
    x = out["inputs"]["x"]
    assert code == 1 and x["passed"] is False
    assert x["nonfinite_numeric"] == 1 and x["nonfinite_automatic"] >= 1
    assert x["max_abs_error"] == "NaN"


def test_richardson_and_tolerance_options():
    code, out = jac_json("check", "exp(20*x)", "x=1", "--method", "richardson", "--rtol", "1e-12", "--atol", "0")
    assert code == 0 and out["method"] == "richardson" and out["rtol"] == 1e-12 and out["atol"] == 0
    richardson = out["inputs"]["x"]["max_rel_error"]
    code, out = jac_json("check", "exp(20*x)", "x=1", "--rtol", "1e-12", "--atol", "0")
    # central differences are not that good: their error is 100 times Richardson's (the check passes
    # because the error is within the estimate's own error bound, which shrinking steps measure)
    assert out["inputs"]["x"]["max_rel_error"] > 100 * richardson
    code, out = jac_json("check", "x", "x=1", "--dtype", "float32")
    assert out["rtol"] == 2e-3 and out["dtype"] == "float32"


def test_inputs_outside_wrt_are_not_checked():
    code, out = jac_json("check", "x * c", "x=[1, 2]", "c=3", "--wrt", "x")
    assert code == 0
    assert out["inputs"]["c"] == {"shape": [], "kind": "scalar", "requires_grad": False,
                                  "max_abs_error": None, "max_rel_error": None, "passed": None}


@pytest.mark.parametrize("args,kind", [
    (["x", "x=[1, 2]", "--limit"], "shape"),
    (["x * y", "x=1", "y=2", "--limit"], "usage"),
    (["x", "x=1", "--method", "forward"], "usage"),
    (["x", "x=1", "--rtol", "-1"], "usage"),
    (["x +", "x=1"], "parse"),
])
def test_bad_input_exits_2(args, kind):
    result = jac("check", *args, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == kind


def test_installed_command_exits_1_on_a_mismatch():
    bad = subprocess.run([sys.executable, "-m", "jacobi_cli", "check", "relu(x)", "x=0"], capture_output=True, text=True)
    assert bad.returncode == 1 and "FAIL" in bad.stdout and not bad.stderr


def test_a_check_in_chunks_enters_the_blas_threads_once_and_finds_what_one_chunk_finds(monkeypatch):
    """jac check runs forward mode a chunk of columns at a time (planner.dense_part, as a streamed
    Jacobian's passes); the BLAS thread choice is made once per check, not once per chunk."""
    from jacobi_cli.tools import check as check_module

    problem = api.prepare("tanh(A @ x) + abs(sum(x) - 3.5)", {"A": "arange(12.0).reshape(4, 3) / 5", "x": [1.0, 0.5, 2.0]})
    whole = check(problem)
    entered = []
    threads_for = check_module.threads_for
    monkeypatch.setattr(check_module, "threads_for", lambda work: entered.append(work) or threads_for(work))
    monkeypatch.setattr(check_module, "plan_columns", lambda *args: 1)  # one column per chunk: 12 + 3 chunks
    chunked = check(problem)
    assert len(entered) == 1
    assert chunked.keys() == whole.keys() == {"A", "x"}
    for name in whole:
        assert dataclasses.astuple(chunked[name]) == dataclasses.astuple(whole[name])
    assert whole["x"].kink_count == 12  # |sum(x) - 3.5| at sum(x) = 3.5: a kink in every element, listed per chunk


@pytest.mark.parametrize("text, column", [
    ("x * x.sum().item()", 12), ("x * float(x.sum())", 4), ("x * x.detach().sum()", 6),
    ("import jax\nx * jax.lax.stop_gradient(x).sum()", 23),
    ("import torch\nwith torch.no_grad():\n    s = x.sum()\nx * s", 13)])
def test_a_check_failing_through_a_detached_value_says_where(text, column):
    # the gradient holds .item() / .detach() constant (PyTorch's and JAX's too), finite differences do not:
    # y = x * s(x) has dy/dx = s I + x 1ᵀ, jac's s I; the check fails, and says why
    code, out = jac_json("check", text, "x=[1, 2]")
    assert code == 1 and out["inputs"]["x"]["detached"] == [column]
    shown = runner.invoke(app, ["check", text, "x=[1, 2]"])
    assert shown.exit_code == 1 and "reads x through a detached value" in shown.output



def test_a_passing_check_names_no_detached_value():
    code, out = jac_json("check", "x * 2 + x.detach() * 0", "x=[1, 2]")  # detached, and nothing of it counts
    assert code == 0 and out["passed"] and "detached" not in out["inputs"]["x"]
