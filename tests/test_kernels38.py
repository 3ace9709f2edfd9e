"""Products written into a spent temporary (np.dot's out, kernels._Source._reusable): the bits of a new array,
whatever the temporary held (NaNs and infinities planted), at every layout the kernel accepts; never into an
array a view, an output or a later line still holds."""
import re

import numpy as np
import pytest

from jacobi_cli.engine import kernels
from jacobi_cli.tools import api

from test_kernels37 import _called, _made, _same, _sources, _specials

EXPRESSIONS = ["sum(tanh(A @ tanh(A @ x)))", "A @ fmax(A @ x, 0.5)", "A @ tanh(A @ x)", "A.T @ exp(A @ x)",
               "sum(A @ nan_to_num(A @ x))", "x @ A @ tanh(A @ x)", "tanh(A @ x) * (A @ x)",
               "s = tanh(A @ x); A @ s + s", "A @ (A @ (A @ sin(x)))", "softmax(A @ tanh(A @ x))"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_a_product_written_into_a_spent_temporary_gives_the_bits_of_a_new_array(expr, dtype, monkeypatch):
    rng = np.random.default_rng(38)
    n = 12
    x = rng.standard_normal(n).astype(dtype)
    specials = _specials(dtype)
    x[:len(specials)] = specials  # the spent A @ x holds NaNs and infinities where fmax / nan_to_num do not
    A = (rng.standard_normal((n, n)) / 4).astype(dtype)
    problem = api.prepare(expr, {"x": x, "A": A}, ["x"], dtype=dtype)
    value, vjp, jacobian = _made(problem)
    monkeypatch.setattr(kernels._Source, "_reusable", lambda self, a: False)  # every product a new array
    plain = _made(problem)
    monkeypatch.undo()
    other = "float32" if dtype == "float64" else "float64"
    for x2, A2 in ((x.copy(), A), (x.repeat(2)[::2], np.asfortranarray(A)), (x.astype(other), A),
                   (x, A.astype(other))):
        env = dict(problem.env, x=x2, A=A2)
        v = rng.standard_normal(problem.graph.output_shape).astype(x2.dtype)
        before = {k: a.copy() for k, a in env.items()}
        with np.errstate(all="ignore"):
            got = [_called(value, env), _called(vjp, env, v), _called(jacobian, env, False)]
            want = [_called(plain[0], env), _called(plain[1], env, v), _called(plain[2], env, False)]
        if "unlaid" in got + want:  # an element-wise line wrote over a temporary by the inputs' dtype (test_kernels37)
            assert x2.dtype != dtype or A2.dtype != dtype, expr
            continue
        got, want = [got[0][0], got[1][0], got[2]["x"]], [want[0][0], want[1][0], want[2]["x"]]
        assert all(_same(a, b) for a, b in zip(got, want)), expr
        assert all(_same(env[k], before[k]) for k in env)  # no input written into


def test_the_kernels_agree_with_the_interpreter_where_the_spent_temporary_held_nans():
    x = np.array([np.nan, 1.0, -2.0, np.inf, -np.inf, 0.5])
    A = np.eye(6) + 0.1
    expr = "A @ fmax(A @ x, 0.5)"
    want = np.eye(6) + 0.1
    want = want @ np.fmax(want @ x, 0.5)
    for _ in range(3):  # the first call interprets, the second makes the kernel, the third runs it
        got = api.evaluate(expr, {"x": x, "A": A})
        assert np.array_equal(got, want)
        assert np.isfinite(got).all()


def test_a_product_writes_only_into_a_dead_temporary_nobody_else_holds(monkeypatch):
    x = np.linspace(-1, 1, 8)
    A = np.arange(64.0).reshape(8, 8) / 64
    source = "\n".join(_sources(monkeypatch, api.prepare("A @ (A @ (A @ sin(x)))", {"x": x, "A": A}, ["x"])))
    assert re.search(r"_dot\(v\d+, v\d+, v\d+\)", source)  # A @ (A @ sin(x)) into sin(x)'s array, and so on
    for expr in ("t = A @ x; u = t.reshape(2, 4); A @ tanh(t) + u.reshape(8)", "t = A @ x; A @ tanh(t) + t",
                 "t = A @ x; A @ tanh(t) * t[0]"):
        problem = api.prepare(expr, {"x": x, "A": A}, ["x"])
        for text in _sources(monkeypatch, problem):
            for match in re.finditer(r"_dot\(v\d+, v\d+, (v\d+)\)", text):
                written = match.group(1)
                # never A @ x's own variable while t is read later, held by a view, or an output
                assert not re.search(rf"{written} = _dot\(v1, v0\)", text), (expr, text)
        # and the answers are the interpreter's, call after call
        first = api.jacobian(expr, {"x": x, "A": A}, wrt=["x"])["x"]
        for _ in range(2):
            assert np.array_equal(api.jacobian(expr, {"x": x, "A": A}, wrt=["x"])["x"], first)


def _alive_at_return(source: str) -> set:
    """The variables a kernel's source assigns and never deletes before its return (its inputs and results too)."""
    alive = set()
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("del "):
            alive -= {n.strip() for n in line[4:].split(",")}
        elif re.match(r"v\d+ = ", line):
            alive.add(line.split(" = ")[0])
        elif line.startswith("return"):
            return alive - set(re.findall(r"v\d+", line))
    return alive


def test_spent_temporaries_are_kept_one_a_length_and_only_small_ones(monkeypatch):
    """A kept temporary outlives its last reader: at most one per length, and none of OUT_MIN_BYTES // 16 elements or
    more, so the kernel's peak stays the interpreter's (the planner's) give or take a few KiB."""
    expr = "sum(A @ (A @ (A @ (A @ sin(x)))))"  # a dead temporary of one length before each product after the first
    for n, kept in ((8, True), (kernels.OUT_MIN_BYTES // 16, False)):
        x = np.linspace(-1, 1, n)
        A = np.eye(n) / 2
        sources = _sources(monkeypatch, api.prepare(expr, {"x": x, "A": A}, ["x"]))
        for source in sources:
            inputs = set(re.findall(r"(v\d+) = env\[", source))
            assert len(_alive_at_return(source) - inputs) <= (1 if kept else 0), source
        # the value's kernel writes each product after the first into a dead temporary, when small
        assert any(re.search(r"_dot\(v\d+, v\d+, v\d+\)", source) for source in sources) == kept, sources
