"""A kernel and the interpreter give the same bits at every value (session 52).

The interpreter's reverse pass copied a reduction's cotangent into the reduced array's shape (a new
C-ordered array) up to 4,096 elements, and made it a broadcast view (``np.broadcast_to``) past them; a
kernel traces the rule on tracers, so it always made the view. What reads the cotangent then depends on
its layout: ``g * A.T`` is laid out as the copy (C order wins a conflict in NumPy's order "K") or as
``A.T`` (the view's zero strides order nothing), and the ``sum_to`` after it adds in memory order;
``np.einsum`` and ``matmul`` take other loops for zero strides. So the two paths summed in different orders,
which the kernel's one compile-time check cannot see (it compares them at one value set).
Now a traced ``expand_reduced`` makes the interpreter's copy too (the op ``expand``), which the kernel drops
only where its reader's result is laid out the same either way. Each test below failed before.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine.compiled import Compiled, jacobians, vjp_of
from jacobi_cli.ir import ops


def _array(j):
    return np.asarray(j.to_array() if hasattr(j, "to_array") else j)


def _kernel_and_interpreter(expr: str, shapes: dict, compiled_at: dict, called_at: dict):
    """The Jacobians of a ``Compiled`` whose kernel was made (and checked) at ``compiled_at``, called at
    ``called_at``, and the interpreter's there."""
    f = Compiled(expr, shapes)
    for _ in range(3):  # the second call compiles and checks the kernel, the third runs it
        f.jacobian(compiled_at)
    assert any(k is not None for k in f.kernels().values()), "no kernel: nothing compared"
    got = f.jacobian(called_at)
    want = jacobians(f.bind(called_at))
    return got, want


# the seeds where the kernel's Jacobian was unequal to the interpreter's (compiled at default_rng(s)'s A,
# called at default_rng(100 + s)'s): 4 ulps apart, whole rows (one summed scalar per basis vector)
@pytest.mark.parametrize("expr,seeds", [
    ("sum(A.t() * A.sum()) * A", [1, 7, 17, 35, 38]),
    ("A @ (sum(A.t() * mean(A)) * ones(3, 3))", [1, 10, 17, 22, 29, 30, 34, 35]),
])
def test_a_kernel_made_at_one_value_set_is_the_interpreter_at_another(expr, seeds):
    for s in seeds:
        a1 = np.random.default_rng(s).standard_normal((2, 3))
        a2 = np.random.default_rng(100 + s).standard_normal((2, 3))
        got, want = _kernel_and_interpreter(expr, {"A": (2, 3)}, {"A": a1}, {"A": a2})
        assert np.array_equal(_array(got["A"]), _array(want["A"])), (expr, s)


def test_the_sum_of_a_transposed_product_by_a_reduction_s_cotangent_adds_in_one_order():
    """The reduced case itself: the cotangent of ``sum(A.t() * c)`` times ``A.t()``, summed, on both paths."""
    a = np.random.default_rng(1).standard_normal((2, 3))
    b = np.random.default_rng(101).standard_normal((2, 3))
    got, want = _kernel_and_interpreter("sum(A.t() * A.sum()) * A", {"A": (2, 3)}, {"A": a}, {"A": b})
    assert _array(got["A"]).tobytes() == _array(want["A"]).tobytes()


def test_a_vjp_kernel_through_einsum_keeps_the_interpreter_s_sign_of_zero():
    """kernels16 --seed 5101: at subnormal values every entry of the vjp by A underflows to a zero, -0 in
    the kernel (einsum over the broadcast cotangent) and +0 in the interpreter (over its copy)."""
    expr = "sum(np.einsum('...j,jk', A, (w * ones(3, 3))), dim=0)"
    shapes = {"w": (3,), "A": (2, 3)}
    rng = np.random.default_rng(5101)
    base = {"w": rng.standard_normal(3), "A": rng.standard_normal((2, 3))}
    tiny = {"w": np.array([1e-300, -2e-320, -5e-324]),
            "A": np.array([[5e-324, -2e-320, 1e-300], [-5e-324, 1e-310, -2e-320]])}
    v = np.array([-2e-320, -2e-320, 1e-300])
    f = Compiled(expr, shapes)
    for _ in range(3):
        f.vjp(base, np.ones(3))
    assert any(k is not None for k in f.kernels().values())
    got, want = f.vjp(tiny, v), vjp_of(f.bind(tiny), v)
    for name in want:
        assert np.array_equal(got[name], want[name]), name
        assert np.array_equal(np.signbit(got[name]), np.signbit(want[name])), name  # -0 is not +0
    # both -0 now (einsum over the view, as the kernel): Σ v[k] w[k] is negative before it underflows


def _expand_lines(compiled) -> int:
    """How many ``expand`` lines (a copy) the compiled function's kernels hold."""
    count = 0
    for k in compiled.kernels().values():
        fn = getattr(k, "fn", None) or getattr(getattr(k, "kernel", None), "fn", None)
        if fn is not None:
            count += sum(getattr(v, "func", v) is ops._expand_impl for v in fn.__globals__.values())
    return count


@pytest.mark.parametrize("expr", ["sum(A @ x)", "sum(x @ A)", "sum(A @ x, 0) * x", "A.T @ (sum(A, 0) * A.sum())"])
def test_a_product_of_a_reduction_s_cotangent_runs_in_a_kernel_that_is_the_interpreter(expr):
    """``A.T @ g`` of a reduction's cotangent: BLAS's gemv over the interpreter's copy, NumPy's own loop over
    the kernel's zero strides, apart at nearly every value, so the compile-time check refused the kernel
    and every call was the interpreter's (and a check at values where both sums are exact kept it). Now
    the kernel copies as the interpreter does: it is kept, and it is the interpreter at other values."""
    shapes = {"x": (10,), "A": (10, 10)}
    f = Compiled(expr, shapes)
    rng = np.random.default_rng(52)
    base = {n: rng.standard_normal(s) for n, s in shapes.items()}
    v0 = rng.standard_normal(tuple(f.graph.output_shape))
    for _ in range(3):
        f.vjp(base, v0)
    assert [k for k in f.kernels().values() if k is not None], "the vjp kernel was refused"
    assert _expand_lines(f) >= 1  # the copy a product reads
    for s in range(10):
        env = {n: rng.standard_normal(sh) for n, sh in shapes.items()}
        v = rng.standard_normal(tuple(f.graph.output_shape))
        got, want = f.vjp(env, v), vjp_of(f.bind(env), v)
        for name in want:
            assert np.asarray(got[name]).tobytes() == np.asarray(want[name]).tobytes(), (expr, s, name)


@pytest.mark.parametrize("expr,shapes,copies", [
    ("sum(tanh(A @ tanh(A @ x)))", {"x": (10,), "A": (10, 10)}, 0),  # E6: the copy's one reader an element-wise op
    ("sum(x * x)", {"x": (10,)}, 0),  # E4
    ("sum(A * A) * A", {"A": (2, 3)}, 0),  # C-ordered A: g * A is C-ordered either way
    ("sum(A * A.sum()) * A", {"A": (2, 3)}, 1),  # g * A.sum() is (1, 1, 1) without the copy: kept (a view before)
    ("sum(A.t() * A.sum()) * A", {"A": (2, 3)}, 1),  # A.t() * g follows A.t() without the copy: kept
])
def test_an_element_wise_reader_takes_the_cotangent_without_the_copy_where_the_layout_is_the_same(expr, shapes,
                                                                                                   copies):
    """The kernel drops the copy (``kernels.KernelBuilder._expand_dropped``) where its reader's result is
    C-ordered either way: the benchmarks' kernels are the same source as before (no warm cost)."""
    f = Compiled(expr, shapes)
    rng = np.random.default_rng(5)
    base = {n: rng.standard_normal(s) for n, s in shapes.items()}
    v = rng.standard_normal(tuple(f.graph.output_shape))
    for _ in range(3):
        f.vjp(base, v)
    assert [k for k in f.kernels().values() if k is not None]
    assert _expand_lines(f) == copies
    env = {n: rng.standard_normal(sh) for n, sh in shapes.items()}
    got, want = f.vjp(env, v), vjp_of(f.bind(env), v)
    for name in want:
        assert np.asarray(got[name]).tobytes() == np.asarray(want[name]).tobytes(), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,to", [((3, 1, 1), (3, 2, 3)), ((1, 1), (1, 5)), ((2, 1, 3), (2, 4, 3)), ((1, 1), (1, 0))])
def test_expand_is_the_interpreter_s_copy(shape, to, dtype):
    """The op ``expand``: ``np.broadcast_to``'s values, bit for bit (NaN, -0), in a new C-ordered writable array:
    what ``expand_reduced`` makes of a small array."""
    specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 5e-324, -1.5], dtype)
    a = np.resize(specials, shape)
    got = ops.OPS["expand"].impl(a, to)
    want = np.broadcast_to(a, to)
    assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == np.ascontiguousarray(want).tobytes()
    assert got.flags.c_contiguous and got.flags.writeable and not np.shares_memory(got, a)
    cot = a.reshape(shape)
    assert ops.expand_reduced(cot, to[1:], tuple(i for i in range(len(to) - 1) if shape[i + 1] == 1 and to[i + 1] != 1),
                              True).tobytes() == got.tobytes()
