"""Kernels at other values than the ones they were compiled at (kern16): every answer of a compiled
kernel (Jacobian structured and dense, per mode and per input, VJP, JVP, value) is the interpreter's,
bit for bit (-0 is not +0), at random values, ±0, ±inf, NaN, subnormals, huge values, ties and kinks,
and where the interpreter refuses the kernel's call refuses too. The cases and the comparison are in
``tests/kernels16.py``; ``benchmarks/kernels16_sweep.py`` runs them all with more values (RESULTS.md).
Then one test per cause the sweep found, each failing before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import kernels16
from jacobi_cli.engine import autodiff, kernels
from jacobi_cli.engine.compiled import Compiled, jacobians, jvp_of, tangents_of, vjp_of
from jacobi_cli.errors import JacError


def _report(tally) -> str:
    return "\n".join(tally.differences[:5] + tally.crashes[:5])


@pytest.mark.parametrize("expr,shapes", kernels16.EXPRESSIONS, ids=[f"{k}" for k in range(len(kernels16.EXPRESSIONS))])
def test_listed_expressions_compiled_at_ordinary_values_agree_at_any_values(expr, shapes):
    tally = kernels16.check_expression(expr, shapes, seed=3)
    assert tally.kernels > 0, "nothing was compiled"
    assert not tally.differences and not tally.crashes, _report(tally)


def test_fuzzed_expressions_compiled_at_ordinary_values_agree_at_any_values():
    total = kernels16.Tally()
    for k, (expr, shapes) in enumerate(kernels16.fuzzed(25, seed=16)):
        total.add(kernels16.check_expression(expr, shapes, seed=k))
    assert total.kernels > 100 and total.calls > 2000
    assert not total.differences and not total.crashes, _report(total)


def test_every_op_compiled_at_its_test_values_agrees_at_any_values():
    total = kernels16.Tally()
    for k, (name, case) in enumerate(kernels16.op_cases()):
        with np.errstate(all="ignore"):
            total.add(kernels16.check_op(name, case, seed=k))
    assert total.cases > 150 and total.kernels > 1000
    assert not total.differences and not total.crashes, _report(total)


def test_the_comparison_tells_signed_zeros_and_nans_apart():
    same = kernels16.same
    assert same(np.array([np.nan, -0.0, 1.0]), np.array([-np.nan, -0.0, 1.0]))  # NaN's sign aside
    assert not same(np.array([0.0]), np.array([-0.0]))
    assert not same(np.array([np.nan]), np.array([1.0]))
    assert not same(np.array([1.0]), np.array([np.nextafter(1.0, 2.0)]))
    assert not same(np.array([1.0], np.float32), np.array([1.0]))
    assert not kernels16.bits(np.array([np.nan]), np.array([-np.nan]))


# --- the causes, one test each ---------------------------------------------------------------------

def _compiled(expr, shapes, base, **kw):
    f = Compiled(expr, shapes)
    for _ in range(3):
        f.jacobian(base, **kw)
    return f


def test_a_dropped_identity_keeps_the_layout_a_sum_after_it_reads():
    """``g * ones`` handed on as g: g a transposed view, the product a C-ordered array, and the sum of
    the mul's rule added them in another order, one ulp apart (kernels._c_ordered)."""
    shapes = {"x": (2,), "W": (3, 3)}
    expr = "sum(((x[0] * ones(3, 3)).T @ W) * 0.1)"
    f = _compiled(expr, shapes, {"x": np.zeros(2), "W": np.zeros((3, 3))})
    rng = np.random.default_rng(4)
    for _ in range(30):
        env = {"x": rng.uniform(-2, 2, 2), "W": rng.uniform(-2, 2, (3, 3))}
        want = jacobians(f.bind(env))
        got = f.jacobian(env)
        assert all(got[n].tobytes() == want[n].to_array().tobytes() for n in want)
    assert all(k is not None for k in f.kernels().values())


def test_a_dense_batch_plus_a_diagonal_keeps_minus_zero_off_the_diagonal():
    """``A @ x + x`` by x past the small size: the structured interpreter adds the identity on the
    diagonal only (A[i, j] = -0 stays -0); the kernel added the diagonal batch whole (+0)."""
    n = 40
    rng = np.random.default_rng(5)
    f = _compiled("A @ x + x", {"A": (n, n), "x": (n,)}, kernels16.ordinary({"A": (n, n), "x": (n,)}, 1), wrt=["x"])
    A = rng.uniform(-1, 1, (n, n))
    A[rng.random((n, n)) < 0.3] = -0.0
    A[0, 1], A[2, 2], A[3, 4] = np.inf, np.nan, -np.inf
    env = {"A": A, "x": rng.uniform(-1, 1, n)}
    want = jacobians(f.bind(env, ["x"]))["x"]
    for structured in (False, True):
        got = f.jacobian(env, wrt=["x"], structured=structured)["x"]
        assert kernels16.same(got.to_array() if structured else got, want.to_array())
    J = want.to_array()
    off = ~np.eye(n, dtype=bool) & (A == 0) & np.signbit(A)
    assert off.any() and np.signbit(J[off]).all()
    assert f.kernels()[("jacobian", ("x",), "auto")] is not None


def test_an_input_exponent_of_one_half_takes_the_general_rule_everywhere():
    """``x ** s`` with s bound to 0.5: the interpreter took 0.5 / sqrt(x) (its rule for the number
    0.5), the kernel the general s · x**(s - 1), one ulp apart; both are the general rule now, as
    PyTorch's pow of a tensor exponent is."""
    shapes = {"x": (4,), "s": ()}
    f = _compiled("x ** s", shapes, {"x": np.full(4, 0.7), "s": np.array(1.5)})
    v = np.array([0.5, -0.9, 1.8, -1.9])
    f.vjp({"x": np.full(4, 0.7), "s": np.array(1.5)}, v)
    f.vjp({"x": np.full(4, 0.7), "s": np.array(1.5)}, v)
    x = np.array([0.5, 0.3, 0.7, 2.0])
    env = {"x": x, "s": np.array(0.5)}
    problem = f.bind(env)
    assert f.vjp(env, v)["x"].tobytes() == vjp_of(problem, v)["x"].tobytes()
    assert f.jacobian(env)["x"].tobytes() == jacobians(problem)["x"].to_array().tobytes()
    assert vjp_of(problem, v)["x"].tobytes() == (v * (0.5 * x ** -0.5)).tobytes()


def test_the_jvp_of_svdvals_does_not_refuse_where_its_vjp_answers():
    """svdvals' lowering leaves svd_u and svd_vh unread; the interpreter's JVP pushed tangents through
    them and refused at repeated singular values (svd_u's rule), where the VJP and the kernels answer."""
    f = Compiled("torch.linalg.svdvals(A) * 0.1", {"A": (3, 2)})
    # singular values 2, 1: since session 33 equal ones (1, 1) refuse a derivative reading them apart in every
    # mode (tests/test_spectral33.py), so the case is at distinct values, where svd_u's rule would still refuse
    # if the JVP pushed tangents through it (its gaps are read only by U and Vh)
    env = {"A": np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])}
    problem = f.bind(env)
    t = {"A": np.arange(6.0).reshape(3, 2)}
    got = jvp_of(problem, tangents_of(problem, t))
    J = jacobians(problem)["A"].to_array()
    np.testing.assert_allclose(got, J.reshape(2, 6) @ t["A"].reshape(6), rtol=1e-12)
    assert set(autodiff.jvp(problem.graph, problem.values, {"A": t["A"][None]})) == {problem.graph.output}


def test_a_kernel_refuses_where_a_forward_value_refuses():
    """d/dB of ``svdvals(A) + B`` reads nothing of the SVD: the kernel answered at a NaN matrix, where
    the interpreter's forward pass refuses (SVD did not converge). Kernels compute such values too."""
    shapes = {"A": (3, 2), "B": (2,)}
    ok = {"A": np.array([[1.0, 0.5], [0.0, 2.0], [0.3, 0.0]]), "B": np.ones(2)}
    f = _compiled("torch.linalg.svdvals(A) + B", shapes, ok, wrt=["B"])
    assert f.kernels()[("jacobian", ("B",), "auto")] is not None
    bad = {"A": np.array([[np.nan, 0.5], [0.0, 2.0], [0.3, 0.0]]), "B": np.ones(2)}
    with pytest.raises(JacError):
        f.bind(bad, ["B"])
    for structured in (False, True):
        with pytest.raises(JacError):
            f.jacobian(bad, wrt=["B"], structured=structured)
    assert "svdvals" in kernels._REFUSING  # Op.refuses (the list the kernels compute, read or not)


def test_matrix_exp_of_a_huge_matrix_is_no_crash():
    """matrix_exp scaled by 2.0**s: an OverflowError past s = 1023 (a norm near 1e308, in its
    derivative's block matrix); np.ldexp scales by the same power of two, same bits."""
    from jacobi_cli.ir.ops import OPS

    a = np.array([[1e308, 0.0], [0.5, -1e307]])  # a finite norm past 2**1023
    with np.errstate(all="ignore"):
        out = OPS["matrix_exp"].impl(a)
    assert out.shape == (2, 2)
    m = np.array([[0.3, -1.2], [0.7, 2.5]]) * 1e-3
    assert OPS["matrix_exp"].impl(m).tobytes() == OPS["matrix_exp"].impl(m.copy()).tobytes()
