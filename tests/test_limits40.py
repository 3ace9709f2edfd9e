"""Time and memory limits users can trust (session 40, h40-limits).

- ``jac eval --timeout`` given bounds the whole command (a chain of big products ran 25 s past ``--timeout 1``);
  a forward pass whose products cannot fit the time left is refused before it runs (``ir/work.refuse_past_deadline``).
- ``--timeout`` values: 0, inf and a year or more are no limit; NaN and negatives refused; a tiny one is a limit.
- ``jac run`` refuses a suite past ``MAX_CASES`` cases or ``MAX_SUITE_ITEMS`` values and lines before parsing it.
- Plans are upper bounds of the measured peak (``benchmarks/memory40_probe.py``): ``prod(x[:, None] * x)`` in
  forward mode ran a dense pass of 620 MiB where the plan said 7.6 MiB.
"""
import contextlib
import gc
import io
import json
import signal
import time
import tracemalloc

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacLimitError, JacSuiteError, JacUsageError
from jacobi_cli.engine import planner
from jacobi_cli.ir import work
from jacobi_cli.lang.parser import parse
from jacobi_cli.tools import api, bounded
from jacobi_cli.tools import suite as suites


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(argv)
    return code, out.getvalue(), err.getvalue()


# --- what --timeout reads ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["0", "-0", "inf", "1e309", "99999999999999999999999", str(400 * 24 * 3600)])
def test_no_limit_spellings(text):
    assert bounded.parse_timeout(text) is None


@pytest.mark.parametrize("text", ["nan", "-1", "-inf", "soon", ""])
def test_refused_spellings(text):
    with pytest.raises(JacUsageError):
        bounded.parse_timeout(text)


def test_a_tiny_timeout_is_a_limit_not_no_limit():
    assert bounded.parse_timeout("1e-300") == 1e-300
    code, out, err = _run(["eval", "sum(sin(x))", "x=[1, 2]", "--timeout", "1e-300", "--json"])
    assert code == 2 and json.loads(out)["error"]["kind"] == "limit" and "--timeout 1e-300" in out
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert not isinstance(signal.getsignal(signal.SIGALRM), work.Alarm)  # fired at once, restored all the same


@pytest.mark.parametrize("value", ["nan", "-1"])
def test_every_command_refuses_the_same_values(value, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[case]]\nname = "a"\nexpr = "x * 2"\nbindings = {x = 1.0}\nvalue = 2\n')
    for argv in (["eval", "x * 2", "x=1"], ["diff", "x * 2", "--wrt", "x"], ["run", str(path)]):
        code, out, _ = _run([*argv, "--timeout", value, "--json"])
        assert code == 2 and json.loads(out)["error"]["kind"] == "usage", argv


# --- jac eval --timeout bounds the numbers too --------------------------------------------------------------------

CHAIN = "sum(" + " @ ".join(["A"] * 40) + ")"


def test_eval_stops_at_the_timeout_with_a_limit_error():
    start = time.monotonic()
    code, out, err = _run(["eval", CHAIN, "A=eye(700) / 2", "--timeout", "0.5"])
    took = time.monotonic() - start
    assert code == 2 and out == "" and took < 60
    # stopped midway; or, where the forward pass's products finish within the limit (two fast cores), the reverse
    # pass's as many refused before it runs, since they no longer fit the time left
    assert "error (limit)" in err
    assert ("jac eval took more than 0.5 s and was stopped (--timeout 0.5)" in err
            or err.startswith("jac: error (limit): a reverse-mode pass")), err
    assert "Traceback" not in err
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the alarm is off again
    assert not isinstance(signal.getsignal(signal.SIGALRM), work.Alarm)


def test_eval_without_timeout_is_not_limited_and_the_answer_is_unchanged():
    code, out, _ = _run(["eval", "sum(A @ A)", "A=eye(3) * 2", "--json"])
    limited = _run(["eval", "sum(A @ A)", "A=eye(3) * 2", "--json", "--timeout", "60"])
    assert code == limited[0] == 0 and json.loads(out)["output"] == json.loads(limited[1])["output"]


def test_a_stopped_eval_moves_no_file_into_place(tmp_path):
    target = tmp_path / "j.npy"
    target.write_bytes(b"old")
    code, _, err = _run(["eval", CHAIN, "A=eye(700) / 2", "--timeout", "0.5", "--out", str(target)])
    assert code == 2 and "limit" in err
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["j.npy"]


def test_a_pass_that_cannot_fit_the_time_left_is_refused_before_it_runs():
    graph = parse("sum(np.linalg.svd(A)[1]) + x", {"A": (6000, 6000), "x": ()}, "float64", shapes_only=True)
    work.refuse_past_deadline(graph)  # no limit: nothing read
    with bounded.time_limit(30.0):
        with pytest.raises(JacLimitError) as caught:
            work.refuse_past_deadline(graph)
    message = caught.value.message
    assert "nothing was computed" in message and "svd of shape (6000, 6000)" in message and "--timeout 30" in message
    assert caught.value.position == "sum(np.linalg.".__len__()
    small = parse("sum(A @ A)", {"A": (50, 50)}, "float64", shapes_only=True)
    with bounded.time_limit(30.0):
        work.refuse_past_deadline(small)  # 125,000 multiply-adds: runs


def test_the_refusal_reaches_the_command_line_with_a_caret():
    code, out, err = _run(["eval", "sum(A @ A @ A)", "A=zeros(3000, 3000)", "--timeout", "2"])
    # the forward pass's products (2 · 2.7e10) fit 2 s at 1e11 a second: never refused before they run. A slow
    # machine stops them midway; one of two fast cores (OpenBLAS ~5e10 a second) finishes them, and then the
    # reverse pass's as many no longer fit the time left: refused before it runs, the forward pass done
    # (a machine of 1e11 a second, beyond two cores today, would finish both: exit 0)
    assert code == 0 or "took more than 2 s" in err or err.startswith("jac: error (limit): a reverse-mode pass"), err
    assert code in (0, 2)
    code, out, err = _run(["eval", "sum(np.linalg.svd(A)[1])", "A=zeros(2000, 2000)", "--timeout", "2", "--json"])
    error = json.loads(out)["error"]
    assert code == 2 and error["kind"] == "limit"
    assert "nothing was computed" in error["message"] or "took more than 2 s" in error["message"]


def test_a_programs_own_alarm_is_not_a_jac_limit():
    graph = parse("sum(np.linalg.svd(A)[1])", {"A": (6000, 6000)}, "float64", shapes_only=True)
    before = signal.signal(signal.SIGALRM, lambda *a: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        assert work.alarm() is None
        work.refuse_past_deadline(graph)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def test_einsum_is_no_lower_bound_and_is_left_out():
    graph = parse("np.einsum('ij,jk,kl->il', A, A, A)", {"A": (3000, 3000)}, "float64", shapes_only=True)
    assert work.pass_work(graph.nodes) == (0, None)


def test_a_suite_case_gets_the_same_refusal(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[case]]\nname = "big"\nexpr = "sum(np.linalg.svd(A)[1])"\n'
                    'bindings = {A = "zeros(2000, 2000)"}\nvalue = 0\n')
    code, out, _ = _run(["run", str(path), "--timeout", "2", "--json", "-j", "1"])
    case = json.loads(out)["cases"][0]
    assert code == 2 and case["status"] == "error" and case["error"]["kind"] == "limit"


# --- hostile suites are refused fast -------------------------------------------------------------------------------

def test_a_suite_of_too_many_cases_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "MAX_CASES", 50)
    path = tmp_path / "many.toml"
    path.write_text("".join(f'[[case]]\nname = "c{i}"\nexpr = "x"\nbindings = {{x = 1}}\nvalue = 1\n'
                            for i in range(51)))
    monkeypatch.setattr(suites, "_toml", lambda text: pytest.fail("parsed"))
    with pytest.raises(JacLimitError, match="has 51 cases, more than the 50"):
        suites.load_suite(str(path))


def test_matrices_in_a_suite_do_not_count_as_cases(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "MAX_CASES", 3)
    path = tmp_path / "m.toml"
    path.write_text('[[case]]\nname = "m"\nexpr = "sum(A)"\nbindings = {A = [[1, 2], [3, 4]]}\nvalue = 10\n'
                    'jacobian.A = [[1, 1], [1, 1]]\n' + "# [[1]] [[2]] [[3]] [[4]]\n")
    assert [c.name for c in suites.load_suite(str(path)).cases] == ["m"]


def test_an_inline_array_of_too_many_cases_is_refused(monkeypatch):
    monkeypatch.setattr(suites, "MAX_CASES", 3)
    text = "case = [" + ", ".join(f'{{name = "c{i}", expr = "x", value = 1}}' for i in range(4)) + "]\n"
    with pytest.raises(JacSuiteError) as caught:
        suites.parse_suite(text)
    assert caught.value.kind == "limit" and "4 cases" in caught.value.message


def test_a_suite_of_too_many_values_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "MAX_SUITE_ITEMS", 1000)
    path = tmp_path / "big.toml"
    path.write_text('[[case]]\nname = "a"\nexpr = "sum(x)"\nvalue = 1\nbindings = {x = [' +
                    ", ".join(["1.5"] * 2000) + "]}\n")
    monkeypatch.setattr(suites, "_toml", lambda text: pytest.fail("parsed"))
    code, out, _ = _run(["run", str(path), "--json"])
    assert code == 2 and json.loads(out)["error"]["kind"] == "limit" and ".npy" in json.loads(out)["error"]["message"]


# --- plans are upper bounds ----------------------------------------------------------------------------------------

MARGIN = (0.05, 256 * 2**10)


def _measured_jacobians(expr, b, mode):
    api.clear_cache()
    problem = api.prepare(expr, b)
    plan = api.plan_of(problem, mode)
    api.jacobians(problem, plan)  # imports and first-use caches
    api.clear_cache()
    gc.collect()
    problem = api.prepare(expr, b)
    plan = api.plan_of(problem, mode)
    tracemalloc.start()
    try:
        found = api.jacobians(problem, plan)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        api.clear_cache()
    return plan, peak + plan.values_bytes, found


@pytest.mark.parametrize("expr,mode", [
    ("prod(x[:, None] * x)", "forward"),
    ("sum(sin(x[:, None] - y[None, :]))", "forward"),
    ("(x[:, None] * y).max(axis=1)", "reverse"),
    ("(x[:, None] * y).max(axis=1)", "forward"),
    ("sum(exp(-(x[:, None] - y) ** 2), axis=1)", "reverse"),
])
def test_the_plan_bounds_the_measured_peak(expr, mode):
    rng = np.random.default_rng(0)
    b = {"x": rng.uniform(0.5, 1.5, 300), "y": rng.uniform(0.5, 1.5, 300)}
    b = {k: v for k, v in b.items() if k in expr}
    plan, measured, _ = _measured_jacobians(expr, b, mode)
    assert measured <= plan.peak_bytes * (1 + MARGIN[0]) + MARGIN[1], (measured, plan.peak_bytes)


def test_a_small_jacobian_of_a_large_pass_is_not_run_dense():
    x = np.random.default_rng(1).uniform(0.5, 1.5, 300)
    problem = api.prepare("prod(x[:, None] * x)", {"x": x})
    plan = api.plan_of(problem, "forward")
    assert not planner._small(plan, problem.graph)
    small = api.prepare("prod(x[:, None] * x)", {"x": x[:10]})
    small_plan = api.plan_of(small, "forward")
    assert planner._small(small_plan, small.graph)
    assert small_plan.pass_peak >= planner._dense_bytes(small_plan, small.graph)  # the dense pass is counted


def test_the_structured_pass_gives_the_same_jacobian_as_the_other_modes():
    x = np.random.default_rng(2).uniform(0.9, 1.1, 40)
    b = {"x": x}
    fwd = api.jacobian("prod(x[:, None] * x)", b, mode="forward")["x"]
    rev = api.jacobian("prod(x[:, None] * x)", b, mode="reverse")["x"]
    # d/dx_k prod_ij x_i x_j = 2 n prod / x_k
    expected = 2 * len(x) * np.prod(np.outer(x, x)) / x
    np.testing.assert_allclose(fwd, expected, rtol=1e-10)
    np.testing.assert_allclose(rev, expected, rtol=1e-10)


def test_parity_with_torch_jacfwd():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).uniform(0.9, 1.1, 30)
    got = api.jacobian("(x[:, None] * x).max(axis=1)", {"x": x}, mode="forward")["x"]
    want = torch.func.jacfwd(lambda t: (t[:, None] * t).max(dim=1).values)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
