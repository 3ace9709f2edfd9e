"""``--timeout`` everywhere it is promised (session 41, h41-time).

- Every command that computes takes ``--timeout SECONDS`` (eval's value rule: 0, inf, a year or more no limit;
  NaN and negatives refused) and stops with exit 2, kind ``limit``, one message naming the command, the limit and
  what was running.
- The passes check a limit between their ops (``ir/work.check_time``) and refuse before it runs a derivative pass
  whose products could not fit the time left (``ir/work.refuse_pass_past_deadline``), as session 40 refused a
  forward pass.
- The Python API's ``timeout=`` (evaluate, jacobian, vjp, jvp, hessian, derivative) raises ``JacLimitError`` in
  any thread: a deadline of the call, carried in a context variable, never a signal; a call with a limit runs the
  interpreter and leaves no kernel, no state behind.

Limits here are small and the work large on purpose; no timing is asserted beyond "stopped" and "answered".
"""
import contextlib
import io
import json
import signal
import threading

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacLimitError, JacUsageError
from jacobi_cli.ir import work
from jacobi_cli.lang.parser import parse
from jacobi_cli.tools import api, bounded

# a loop unrolled into 3000 statements: seconds of reading and of passes, in small steps
# ~1.5 s of parsing and passes on a quiet machine, seven times the limits below (3,000 steps of one short line
# took 0.19 s: under a 0.2 s limit that raced the clock)
SLOW = ("y = x\nfor i in range(9000):\n    y = tanh(y) * 0.5 + sin(y) * cos(y) + exp(-y * y) - sqrt(y * y + 1) * 0.25\n"
        "y.sum()")


class _Left(work.Alarm):
    """A limit far off for the checks between steps, with 0.1 s left for the estimates: deterministic."""

    def left(self):
        return 0.1


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(argv)
    return code, out.getvalue(), err.getvalue()


COMMANDS = {
    "eval": [], "vjp": [], "jvp": ["--tangent", "x=ones"], "hessian": [], "derivative": ["--order", "2"],
    "check": [], "graph": ["--backward"], "shape": [],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_that_computes_stops_at_its_timeout(command):
    code, out, err = _run([command, SLOW, "x:4", *COMMANDS[command], "--timeout", "0.2", "--json"])
    error = json.loads(out)["error"]
    assert code == 2 and error["kind"] == "limit", (out, err)
    assert f"jac {command} took more than 0.2 s and was stopped (--timeout 0.2)" in error["message"]
    assert err.count("jac: error") == 1 and "Traceback" not in err
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the alarm is off again, the handler restored
    assert not isinstance(signal.getsignal(signal.SIGALRM), work.Alarm)
    assert work.limit_now() is None


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_generous_timeout_answers_as_without_one(command):
    argv = [command, "sum(sin(x) * x)", "x=[0.5, 1.5]", *COMMANDS[command], "--json"]
    code0, out0, _ = _run(argv)
    code1, out1, _ = _run(argv + ["--timeout", "600"])
    assert code0 == code1 and out0 == out1 and "error" not in json.loads(out1)


@pytest.mark.parametrize("value", ["nan", "-1", "soon"])
@pytest.mark.parametrize("command", ["vjp", "hessian", "check", "graph", "shape", "derivative"])
def test_the_same_values_are_refused_before_any_work(command, value):
    code, out, err = _run([command, "sum(x)", "x=[1, 2]", "--timeout", value, "--json"])
    assert code == 2 and json.loads(out)["error"]["kind"] == "usage" and "--timeout" in err


@pytest.mark.parametrize("value", ["0", "inf", str(400 * 24 * 3600)])
def test_no_limit_spellings_answer(value):
    code, out, _ = _run(["hessian", "sum(x**3)", "x=[1, 2]", "--timeout", value, "--json"])
    assert code == 0 and json.loads(out)["hessian"]["x,x"]["value"] == [[6.0, 0.0], [0.0, 12.0]]


def test_the_message_says_what_was_running():
    code, out, err = _run(["hessian", SLOW, "x:4", "--timeout", "0.2"])
    assert code == 2 and " during " in err  # reading the expression, or one of the passes


# --- derivative passes refused before they run ----------------------------------------------------------------

def test_a_derivative_pass_that_cannot_fit_is_refused_before_it_runs():
    graph = parse("sum(tanh(A @ x))", {"A": (2000, 2000), "x": (2000,)}, "float64", shapes_only=True)
    carries = [True] * len(graph.nodes)
    per_vector, largest = work.derivative_work(graph.nodes, carries)
    assert per_vector == 2000 * 2000 and largest.op == "matmul"
    with work.deadline(1.0) as limit:
        work.refuse_pass_past_deadline(limit, graph.nodes, carries, 1, "a reverse-mode pass")  # 4e6: fits
        with pytest.raises(JacLimitError, match=r"a forward-mode pass \(2,000,000 vectors at once\).*nothing was "
                                                r"computed"):
            work.refuse_pass_past_deadline(limit, graph.nodes, carries, 2_000_000, "a forward-mode pass")
    nothing = [False] * len(graph.nodes)  # no rule runs: nothing to refuse
    with work.holding(_Left(100)) as limit:
        work.refuse_pass_past_deadline(limit, graph.nodes, nothing, 10**9, "a reverse-mode pass")
    with work.deadline(1e-9) as limit:  # the time is up already: stopped (OutOfTime), not refused as too much work
        with pytest.raises(work.OutOfTime):
            work.refuse_pass_past_deadline(limit, graph.nodes, carries, 1, "a reverse-mode pass")


def test_a_decomposition_counts_one_product_per_vector_in_a_derivative_pass():
    graph = parse("sum(inv(A))", {"A": (100, 100)}, "float64", shapes_only=True)
    per_vector, largest = work.derivative_work(graph.nodes, [True] * len(graph.nodes))
    assert largest.op == "inv" and per_vector == 100 ** 3  # the forward's factor 2 is not a derivative's


def test_a_hessian_whose_passes_cannot_fit_is_refused_through_the_api():
    A = np.eye(1500)
    with pytest.raises(JacLimitError, match="timeout=0.01"):
        api.hessian("sum(tanh(A @ x))", {"A": A, "x": np.ones(1500)}, wrt=["x"], timeout=0.01)
    # deterministic: a limit far off for the checks, 0.1 s left for the estimates (1e10 multiply-adds); the forward
    # pass (9e6) and the gradient's reverse pass fit, the Hessian's forward-mode pass over x's basis (3000 tangents
    # through A @ x: 2.7e10) does not, and is refused before it runs, structured basis or not
    with work.holding(_Left(100)):
        with pytest.raises(JacLimitError, match=r"a forward-mode pass \(3,000 vectors at once\).*nothing was computed"):
            api.hessian("sum(tanh(A @ x))", {"A": np.eye(3000), "x": np.ones(3000)}, wrt=["x"])


def test_without_a_limit_nothing_is_read():
    graph = parse("sum(A @ x)", {"A": (3, 3), "x": (3,)}, "float64", shapes_only=True)
    assert work.limit_now() is None
    work.refuse_past_deadline(graph)  # no limit: nothing refused


# --- the Python API ---------------------------------------------------------------------------------------------

FUNCTIONS = {
    "evaluate": lambda e, b, t: api.evaluate(e, b, timeout=t),
    "jacobian": lambda e, b, t: api.jacobian(e, b, timeout=t),
    "vjp": lambda e, b, t: api.vjp(e, b, timeout=t),
    "jvp": lambda e, b, t: api.jvp(e, b, {"x": np.ones(4)}, timeout=t),
    "hessian": lambda e, b, t: api.hessian(e, b, timeout=t),
    "derivative": lambda e, b, t: api.derivative(e, b, 2, timeout=t),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_api_stops_at_its_timeout(name):
    with pytest.raises(JacLimitError) as caught:
        FUNCTIONS[name](SLOW, {"x": np.ones(4)}, 0.2)
    assert f"{name}() took more than 0.2 s and was stopped (timeout=0.2)" in str(caught.value)
    assert "--timeout" not in str(caught.value)  # the API's words
    assert work.limit_now() is None  # nothing left behind


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_api_answers_under_a_generous_timeout_as_without_one(name):
    b = {"x": np.linspace(0.5, 1.5, 4)}
    expr = "sum(sin(x) * x)" if name in ("vjp", "hessian", "derivative") else "sin(x) * x"
    for _ in range(3):  # the third call without a limit runs a kernel: the same bits
        plain = FUNCTIONS[name](expr, b, None)
        limited = FUNCTIONS[name](expr, b, 600)
        _same(plain, limited)


def _same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    else:
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes() and np.shape(a) == np.shape(b)


def test_the_api_stops_in_any_thread():
    found = {}

    def worker(k):
        try:
            api.jacobian(SLOW, {"x": np.ones(4)}, timeout=0.2)
        except JacLimitError as err:
            found[k] = str(err)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    answer = api.jacobian("sin(x)", {"x": np.ones(3)})["x"]  # the main thread meanwhile: no limit reaches it
    for t in threads:
        t.join()
    assert sorted(found) == [0, 1, 2] and all("timeout=0.2" in m for m in found.values())
    assert np.array_equal(answer, np.diag(np.cos(np.ones(3))))
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL or not isinstance(signal.getsignal(signal.SIGALRM),
                                                                                  work.Alarm)


def test_a_limited_call_leaves_no_kernel_and_the_next_calls_make_theirs():
    expr, b = "tanh(x) * x + 1", {"x": np.linspace(0.1, 1, 5)}
    api.clear_cache()
    for _ in range(3):
        api.jacobian(expr, b, timeout=600)
    compiled = next(iter(api._CACHE._entries.values()))
    assert compiled.kernels() == {}  # interpreted: nothing counted, nothing compiled
    for _ in range(3):
        api.jacobian(expr, b)
    assert any(k is not None for k in compiled.kernels().values())


@pytest.mark.parametrize("bad", ["1", True, -1, float("nan"), [1]])
def test_the_api_refuses_a_timeout_that_is_no_number_of_seconds(bad):
    with pytest.raises(JacUsageError, match="timeout="):
        api.jacobian("x * 2", {"x": 1.0}, timeout=bad)


@pytest.mark.parametrize("none", [0, 0.0, float("inf"), 400 * 24 * 3600, np.float64(0)])
def test_the_api_reads_no_limit_as_the_command_line_does(none):
    assert bounded.api_timeout(none) is None
    assert api.jacobian("x * 2", {"x": 1.0}, timeout=none)["x"] == 2.0


def test_a_batched_jacobian_under_a_limit():
    b = {"x": np.ones((3, 4))}
    assert np.array_equal(api.jacobian("sin(x)", b, batch=["x"], timeout=600)["x"],
                          api.jacobian("sin(x)", b, batch=["x"])["x"])
    with pytest.raises(JacLimitError):
        api.jacobian(SLOW, {"x": np.ones((2, 4))}, batch=["x"], timeout=0.2)


def test_an_outer_limit_that_ends_sooner_stays():
    with work.deadline(0.5) as outer:
        with work.deadline(100) as inner:
            assert inner is outer
        with work.deadline(0.1) as inner:
            assert inner is not outer and work.limit_now() is inner
        assert work.limit_now() is outer
    assert work.limit_now() is None


def test_a_fold_that_cannot_fit_the_time_left_is_refused():
    with work.holding(_Left(100)):  # inv's 2 * 2000**3 = 1.6e10 multiply-adds: 0.1 s at 1e11 a second is 1e10
        with pytest.raises(JacLimitError, match=r"of constants of shape \(2000, 2000\).* more than even"):
            api.evaluate("sum(inv(eye(2000)))")
