"""Kernel lines that write over a spent temporary (``out=``) and take a matrix's ``.T``: the bits of the
lines they replace (kernels._Source._spent, kernels._assignment), with specials planted, at every layout
the kernel accepts, and never over an array another line still reads."""
import re

import numpy as np
import pytest

from jacobi_cli.tools import api
from jacobi_cli.engine import kernels, planner

EXPRESSIONS = ["sum(tanh(A @ tanh(A @ x)))", "tanh(A @ x)", "1 - x * x", "(1 - x * x) * 2 + 3", "x @ A @ x",
               "sum((2 - exp(x)) * 3)", "sin(x) * x**2 + exp(-x)", "t = x * x; (1 - t) * t", "t = x * x; (1 - t) + t",
               "A.T @ x", "sum(A.T * A)", "x - 0.1", "(x * 3 - 1) / 7 - x"]


def _specials(dtype) -> list:
    tiny = np.finfo(dtype).smallest_subnormal
    return [-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, tiny, -tiny, np.finfo(dtype).max, 1.0, -1.0]


def _made(problem):
    g = problem.graph
    plan = api.plan_of(problem)
    return (kernels.evaluate_kernel(g), kernels.vjp_kernel(g, ["x"]),
            kernels.jacobian_kernel(g, plan, planner._small(plan, g)))


def _sources(monkeypatch, problem) -> list:
    found = []
    real = compile

    def spy(source, name, *args, **kwargs):
        if name == "<jac kernel>":
            found.append(source)
        return real(source, name, *args, **kwargs)

    monkeypatch.setattr("builtins.compile", spy)
    _made(problem)
    monkeypatch.undo()
    return found


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()  # -0 and NaN payloads too


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_writing_over_a_spent_temporary_gives_the_bits_of_a_new_array(expr, dtype, monkeypatch):
    rng = np.random.default_rng(37)
    n = 12
    x = rng.standard_normal(n).astype(dtype)
    specials = _specials(dtype)
    x[:len(specials)] = specials
    A = (rng.standard_normal((n, n)) / 4).astype(dtype)
    problem = api.prepare(expr, {"x": x, "A": A} if "A" in expr else {"x": x}, ["x"], dtype=dtype)
    monkeypatch.setattr(kernels, "OUT_MIN_BYTES", 0)  # written over at any size (n = 12 is below the limit)
    value, vjp, jacobian = _made(problem)
    monkeypatch.setattr(kernels._Source, "_spent", lambda self, x, node: False)  # every result a new array
    plain = _made(problem)
    monkeypatch.undo()
    other = "float32" if dtype == "float64" else "float64"
    for x2 in (x.copy(), x.repeat(2)[::2], x.astype(other)):
        env = dict(problem.env, x=x2)
        v = rng.standard_normal(problem.graph.output_shape).astype(x2.dtype)
        before = {k: a.copy() for k, a in env.items()}
        with np.errstate(all="ignore"):
            got = [value(env)[0], vjp(env, v)[0], jacobian(env, False)["x"]]
            want = [plain[0](env)[0], plain[1](env, v)[0], plain[2](env, False)["x"]]
        assert all(_same(a, b) for a, b in zip(got, want)), expr
        assert all(_same(env[k], before[k]) for k in env)  # no input written over


def test_a_temporary_is_written_over_only_by_its_last_and_only_reader(monkeypatch):
    x = np.linspace(-1, 1, 8)
    A = np.arange(64.0).reshape(8, 8) / 64
    monkeypatch.setattr(kernels, "OUT_MIN_BYTES", 0)  # written over at any size (8 elements are below the limit)
    sources = "\n".join(_sources(monkeypatch, api.prepare("sum(tanh(A @ tanh(A @ x)))", {"x": x, "A": A}, ["x"])))
    assert "out=" in sources  # 1 - t * t of each tanh, over t * t
    assert ".transpose(" not in sources and ".T" in sources  # A.T, the view without the method call
    # t is read twice: never written over, whatever reads it first
    for expr in ("t = x * x; (1 - t) * t", "t = x * x; t * (1 - t)", "t = exp(x); (2 - t) + sin(t)"):
        for source in _sources(monkeypatch, api.prepare(expr, {"x": x}, ["x"])):
            for line in source.splitlines():
                match = re.search(r"out=(v\d+)", line)
                if match:  # never the variable of t (a multiply or an exp of x itself)
                    assert not re.search(rf"{match.group(1)} = f\d+\(v0(, v0)?\)", source), (expr, source)


def test_only_arrays_of_at_least_out_min_bytes_are_written_over(monkeypatch):
    """Below OUT_MIN_BYTES a new array is cheaper than out='s overlap check (NumPy's and glibc's caches):
    the kernel makes one; from it on, the spent temporary is written over."""
    expr = "sum(tanh(A @ tanh(A @ x)))"
    per = kernels.OUT_MIN_BYTES // 8  # float64 elements of a vector of exactly OUT_MIN_BYTES
    for n, written in ((8, False), (per - 1, False), (per, True)):
        x = np.linspace(-1, 1, n)
        A = np.eye(n) / 2
        sources = "\n".join(_sources(monkeypatch, api.prepare(expr, {"x": x, "A": A}, ["x"])))
        assert ("out=" in sources) == written, n
        J = api.jacobian(expr, {"x": x, "A": A}, wrt=["x"])["x"]
        t1 = np.tanh(x / 2)
        t2 = np.tanh(t1 / 2)
        np.testing.assert_allclose(J, (1 - t2 ** 2) / 2 * (1 - t1 ** 2) / 2, rtol=1e-14)
