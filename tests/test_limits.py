"""Limits: arrays too large are refused before allocation; deep and long expressions work or
fail with a ``limit`` error, quickly, never with RecursionError or a crash.

The full-size depth cases (a 200,000-term sum, ...) take a few seconds each; they run when
``JAC_SLOW=1`` (the fuzz budget run sets it too), smaller versions always run.
"""

import ast
import json
import os
import time
import tracemalloc

import pytest
from typer.testing import CliRunner

from jacobi_cli.tools import api
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError
from jacobi_cli.lang.parser import MAX_SOURCE_CHARS, _parse_deep, parse

runner = CliRunner()
SLOW = os.environ.get("JAC_SLOW") == "1"


def invoke(*args):
    return runner.invoke(app, list(args))


def error_of(*args):
    result = invoke(args[0], "--json", *args[1:])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout)["error"]


# --- arrays too large: refused before allocation, with their size in bytes ----------------------

TOO_LARGE = [
    (["eval", "x", "x=ones(10**12)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=arange(1e12)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=zeros(10**6, 10**6)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=eye(10**6)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=linspace(0, 1, 10**12)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=randn(10**12)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=full((10**6, 10**6), 1)"], "8,000,000,000,000 bytes", ("value", 0)),
    (["eval", "x", "x=arange(0, 1, 1e-300)"], "8e+300 bytes", ("value", 0)),
    (["eval", "x", "x:100000x100000"], "80,000,000,000 bytes", None),
    (["eval", "x", "x:99999999999999999999"], "8e+20 bytes", None),
    (["eval", "x[:, None] * x", "x:100000"], "80,000,000,000 bytes", 11),
    (["eval", "ones(100000)[:, None] * ones(100000)", "x=1"], "80,000,000,000 bytes", 22),
    (["eval", "x.reshape(-1, 1) @ x.reshape(1, -1)", "x:100000"], "80,000,000,000 bytes", 17),
    (["eval", "outer(x, x)", "x:100000"], "80,000,000,000 bytes", 0),
    (["vjp", "sum(x + x[:, None])", "x:100000"], "80,000,000,000 bytes", 6),
]


@pytest.mark.parametrize("args, size, position", TOO_LARGE, ids=[a[0][2] for a in TOO_LARGE])
def test_too_large_is_refused_before_allocation(args, size, position):
    tracemalloc.start()
    started = time.monotonic()
    try:
        error = error_of(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 50 * 2**20  # nothing near the refused size was allocated
    assert error["kind"] == "limit"
    assert size in error["message"] and "over the limit of" in error["message"]
    assert "jac shape" in error["message"] and "smaller" in error["message"]  # the way around
    if isinstance(position, tuple):  # at a column of the binding's value: "position" (into the expression) is null
        assert error["position"] is None and error["value"]["position"] == position[1], error
    else:
        assert error["position"] == position


def test_jac_shape_takes_any_size_since_it_computes_nothing():
    result = invoke("shape", "x[:, None] * x + A", "x:100000", "A:100000x100000", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["shape"] == [100000, 100000]
    # ... but its constants are real arrays, so they are still checked
    assert error_of("shape", "ones(100000)[:, None] * ones(100000)")["kind"] == "limit"


def test_the_limit_is_per_array_and_follows_max_bytes():
    assert api.prepare("x[:, None] * x", ["x:100"], max_bytes=80_000).output.shape == (100, 100)
    with pytest.raises(JacLimitError, match=r"shape \(100, 100\), would hold 10,000 float64 values \(80,000 bytes\)"):
        api.prepare("x[:, None] * x", ["x:100"], max_bytes=79_999)
    with pytest.raises(JacLimitError, match="x:10001 would hold 10,001 float64 values"):
        api.prepare("x", ["x:10001"], max_bytes=80_000)
    assert api.prepare("x", ["x:10001"], dtype="float32", max_bytes=80_000).output.dtype.name == "float32"


# --- depth and length ----------------------------------------------------------------------------

def outcome(expr, *bindings):
    """``("ok", None)`` or ``("error", kind)``; raises on anything else. Also the time taken."""
    started = time.monotonic()
    result = invoke("eval", "--json", "--", expr, *bindings)
    took = time.monotonic() - started
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    if result.exit_code == 0:
        return "ok", took
    return json.loads(result.stdout)["error"]["kind"], took


DEPTH = [
    ("(" * 3000 + "x" + ")" * 3000, "limit"),
    ("(" * 199 + "x" + ")" * 199, "ok"),
    ("sin(" * 5000 + "x" + ")" * 5000, "limit"),
    ("sin(" * 150 + "x" + ")" * 150, "ok"),
    ("-" * 100000 + "x", "limit"),
    ("-" * 5000 + "x", "ok"),
    ("**".join(["x"] * 3000), "limit"),
    ("[" * 300 + "1" + "]" * 300, "limit"),
    ("x" + "[0:3]" * 5000, "ok"),
    ("x" + ".T" * 20000, "ok"),
    ("x" + ".sum()" * 3000, "ok"),
    ("+".join(["x"] * 20000), "ok"),
    ("*".join(["x"] * 20000), "ok"),
    (";".join(f"a{i} = x + {i}" for i in range(5000)) + "; a4999", "ok"),
    ("a0 = x; " + "; ".join(f"a{i + 1} = a{i} * 1.0001" for i in range(5000)) + "; a5000", "ok"),
    ("x + " * (MAX_SOURCE_CHARS // 4 + 1) + "x", "limit"),
]
SLOW_DEPTH = [
    ("+".join(["x"] * 200000), "ok"),
    ("x" + "[:]" * 100000, "ok"),
    ("x" + ".T" * 100000, "ok"),
    ("+".join(["1"] * 200000), "ok"),
    ("-".join(["x"] * 200000), "ok"),
]


@pytest.mark.parametrize("expr, expected", DEPTH, ids=[f"{e[:12]}..{len(e)}" for e, _ in DEPTH])
def test_deep_or_long_expressions_work_or_are_a_limit_error(expr, expected):
    got, took = outcome(expr, "x:3")
    assert got == expected
    assert took < 20


@pytest.mark.skipif(not SLOW, reason="full-size cases: JAC_SLOW=1")
@pytest.mark.parametrize("expr, expected", SLOW_DEPTH, ids=[f"{e[:12]}..{len(e)}" for e, _ in SLOW_DEPTH])
def test_full_size_expressions(expr, expected):
    got, took = outcome(expr, "x:3")
    assert got == expected
    assert took < 60


def test_long_sources_parse_on_the_big_stack_thread():
    # On the main thread Python's ast gives up on a 10,000-term sum (RecursionError in ast construction).
    text = "+".join(["x"] * 15000)
    with pytest.raises(RecursionError):
        ast.parse(text)
    tree = _parse_deep(text)
    assert len(tree.body) == 1
    graph = parse(text, {"x": ()})
    assert len(graph.nodes) == 15000  # one input, 14,999 adds


def test_the_limit_errors_say_which_limit():
    assert "200 nested parentheses" in error_of("eval", "(" * 300 + "x" + ")" * 300, "x=1")["message"]
    assert "nested too deeply" in error_of("eval", "--", "-" * 10000 + "x", "x=1")["message"]
    message = error_of("eval", "x" * (MAX_SOURCE_CHARS + 1), "x=1")["message"]
    assert f"{MAX_SOURCE_CHARS:,}" in message and "@data.npy" in message


def test_a_hessian_too_large_is_refused_before_its_passes_run():
    tracemalloc.start()
    try:
        error = error_of("hessian", "sum(x**2)", "x:100000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error["kind"] == "limit" and "80,000,000,000 bytes" in error["message"] and "--wrt" in error["message"]
    assert peak < 50 * 2**20
    assert invoke("hessian", "sum(x**2) + y", "x:100000", "y=1", "--wrt", "y").exit_code == 0  # the way around
