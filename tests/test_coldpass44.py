"""Session 44's cheaper reverse pass (h44-coldpass) must answer as the paths it skips do.

Each shortcut is compared with the path it skips, bit for bit: ``pullback``'s sum of two arrays'
cotangents by NumPy's add with ``P.add``'s dispatch (the shortcut turned off), neg's rules with
``P.neg``, mul's VJP (its partial, the other argument, read without a call) with the general
``_product_vjp`` of a partial function, pow's ``x ** 2`` rule with ``P.mul(2, x)``, sin's and tanh's partials with
P.cos's and P.sub's, and ``expand_reduced`` of one cotangent of a vector's sum with its reshape and copy; on tracers
and structured batches each still goes through the dispatch (a traced gradient, a dry run).
"""

from __future__ import annotations

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine import autodiff, planner
from jacobi_cli.engine.compiled import Compiled
from jacobi_cli.ir import ops, reverse, structured
from jacobi_cli.ir.ops import OPS, P

EXPRESSIONS = ["sin(x) * x**2 + exp(-x)", "x * x * x + x", "sum(tanh(A @ tanh(A @ x)))", "x @ A @ x",
               "sum(x * x) + sum(-x) * 2", "-(-x) * x**2.0 + x**2", "exp(x) * y + y * y", "x * y + y",
               "sum(x**2 * A)", "softmax(x) * -x"]


def _inputs(expr: str, dtype=np.float64) -> dict:
    rng = np.random.default_rng(7)
    env = {"x": rng.standard_normal(5).astype(dtype)}
    if "A" in expr:
        env["A"] = rng.standard_normal((5, 5)).astype(dtype)
    if "y" in expr:
        env["y"] = rng.standard_normal(5).astype(dtype)
    return env


class _NotAnArray:
    """A type no value has: ``reverse._ndarray`` set to it turns the sum's shortcut off."""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_the_pass_sums_cotangents_as_the_dispatch_does(expr, dtype, monkeypatch):
    """The reverse pass over the output's basis and along a cotangent of ones, with the sum's shortcut and
    without (P.add's dispatch): the same bits and dtypes."""
    env = _inputs(expr, dtype)
    problem = Compiled(expr, {n: v.shape for n, v in env.items()}, dtype).bind(env)
    graph, values = problem.graph, problem.values
    seeds = [autodiff.basis(graph.output_shape, graph.dtype), np.ones((1,) + tuple(graph.output_shape), dtype)]
    fast = [autodiff.vjp(graph, values, s) for s in seeds]
    monkeypatch.setattr(reverse, "_ndarray", _NotAnArray)
    slow = [autodiff.vjp(graph, values, s) for s in seeds]
    for f, s in zip(fast, slow):
        assert f.keys() == s.keys()
        for name in f:
            assert f[name].dtype == s[name].dtype and f[name].tobytes() == s[name].tobytes(), (expr, name)


def test_the_sum_shortcut_is_taken_in_a_pass_that_sums():
    """The test above compares something: x * x * x + x sums four cotangents of x, by NumPy's add."""
    env = _inputs("x * x * x + x")
    problem = Compiled("x * x * x + x", {"x": (5,)}).bind(env)
    calls = []

    def counting(a, b):
        calls.append(1)
        return np.add(a, b)

    original = reverse._add
    try:
        reverse._add = counting
        autodiff.vjp(problem.graph, problem.values, np.ones((1, 5)))
    finally:
        reverse._add = original
    assert len(calls) == 3


def _cases():
    rng = np.random.default_rng(3)
    shapes = [((4,), (4,)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (4,)), ((4,), ())]
    for sx, sy in shapes:
        x, y = rng.standard_normal(sx), rng.standard_normal(sy)
        out = np.multiply(x, y)
        for batch in (1, 3):
            yield rng.standard_normal((batch,) + out.shape), out, x, y


@pytest.mark.parametrize("k", range(12))
def test_mul_rules_read_the_other_argument_as_its_partial_function_gives_it(k):
    g, ans, x, y = list(_cases())[k]
    general = (ops._product_vjp(lambda ans, x, y: y, True), ops._product_vjp(lambda ans, x, y: x, False))
    for rule, other in zip(OPS["mul"].vjp, general):
        got, want = rule(g, ans, x, y), other(g, ans, x, y)
        assert got.shape == want.shape and got.tobytes() == want.tobytes()


def test_mul_rules_on_a_structured_batch_keep_its_structure():
    x, y = np.arange(1.0, 5.0), np.arange(2.0, 6.0)
    batch = structured.basis((4,), np.float64)
    for rule, other in zip(OPS["mul"].vjp, (ops._product_vjp(lambda a, x, y: y, True),
                                            ops._product_vjp(lambda a, x, y: x, False))):
        got, want = rule(batch, x * y, x, y), other(batch, x * y, x, y)
        assert type(got) is type(want)
        assert np.array_equal(np.asarray(got.to_dense()), np.asarray(want.to_dense()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_neg_and_pow_rules_are_the_dispatch_s_answers(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(6).astype(dtype)
    x[:2] = [-0.0, np.nan]
    g = rng.standard_normal((1, 6)).astype(dtype)
    for rule in (OPS["neg"].vjp[0], OPS["neg"].jvp[0]):
        got, want = rule(g, -x, x), P.neg(g)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    for two in (2.0, 2):
        got, want = ops._pow_dx(x ** two, x, two), P.mul(two, x)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_traced_rules_still_add_nodes():
    """Through tracers (a Hessian's traced gradient) the rules still apply ops: d²/dx² of each matches."""
    x = np.array([0.3, -1.2, 2.0])
    h = jacobi_cli.hessian("sum(-(x**2) * x + x * x)", {"x": x})["x", "x"]
    assert np.allclose(h, np.diag(-6 * x + 2))
    h = jacobi_cli.hessian("sum(x**2.0 * -x)", {"x": x})["x", "x"]
    assert np.allclose(h, np.diag(-6 * x))


def test_the_cold_diagonal_is_the_planned_one():
    """E1's first call (the pass along ones) and a plan's run give the same diagonal, bit for bit."""
    x = np.random.default_rng(0).standard_normal(10)
    compiled = Compiled("sin(x) * x**2 + exp(-x)", {"x": (10,)})
    problem = compiled.bind({"x": x})
    cold, _ = planner.unplanned(problem.graph, problem.values, ["x"], "auto", 2**40, True)
    planned = compiled.plan_of(problem)
    found = planner.run(planned, problem.graph, problem.values)["x"].to_array()
    assert cold["x"].tobytes() == found.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [0, 1, 2, 10, 4096, 4097])
def test_a_vector_sum_s_one_cotangent_expands_as_the_general_path_does(n, dtype):
    """``expand_reduced`` of one cotangent of a vector's sum (copied into the vector's shape at once) against
    the general path's reshape to (1, 1) and copy: the same values (NaN, -0), dtype and shape, a new
    writable array; past ``_SMALL_EXPAND`` elements the general path's view, as before."""
    for value in (np.nan, -0.0, 3.5, -np.inf):
        for keepdims in (False, True):
            g = np.array([[value]] if keepdims else [value], dtype)
            got = ops.expand_reduced(g, (n,), (0,), keepdims)
            want = np.broadcast_to(g.reshape(1, 1), (1, n))
            assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()
            if n <= ops._SMALL_EXPAND:
                assert got.flags.writeable and not np.shares_memory(got, g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sin_and_tanh_rules_are_the_dispatch_s_answers(dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal(7).astype(dtype)
    x[:3] = [-0.0, np.nan, np.inf]
    g = rng.standard_normal((1, 7)).astype(dtype)
    for name, partial in (("sin", lambda x, ans: P.cos(x)), ("tanh", lambda x, ans: P.sub(1.0, P.mul(ans, ans)))):
        ans = OPS[name].impl(x)
        got, want = OPS[name].vjp[0](g, ans, x), P.mul(g, partial(x, ans)[None])
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
        got, want = OPS[name].jvp[0](g, ans, x), P.mul(g, partial(x, ans))
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
