"""What session 29 read of the last pasted names (lang/names29.py): values as the libraries define them (written out
here with NumPy), derivatives against central differences, repeated calls (the kernels) equal to the first, and
the refusals, each saying why and what to write."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.report import shape_report
from test_jax16 import assert_derivatives_are_central_differences
from test_lax27 import assert_kernels_agree

rng = np.random.default_rng(29)
X5 = rng.standard_normal(5)
A34 = rng.standard_normal((3, 4))
HEAD = "import jax, jax.numpy as jnp, torch, numpy as np\nfrom jax import lax\nimport torch.nn.functional as F\n"


def value(code, **inputs):
    return np.asarray(api.evaluate(HEAD + code, inputs))


def refusal(code, **inputs) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + code, inputs)
    return str(err.value)


# --- jax.lax.cummax / cummin: the running extreme, JAX's derivative (its max scan) -----------------------------------

def test_cummax_and_cummin_are_the_running_extremes_along_the_axis():
    np.testing.assert_array_equal(value("lax.cummax(x)", x=X5), np.maximum.accumulate(X5))
    np.testing.assert_array_equal(value("lax.cummin(x, axis=1)", x=A34), np.minimum.accumulate(A34, axis=1))
    np.testing.assert_array_equal(value("lax.cummax(x, axis=1, reverse=True)", x=A34),
                                  np.maximum.accumulate(A34[:, ::-1], axis=1)[:, ::-1])
    np.testing.assert_array_equal(value("lax.cummin(x, reverse=True)", x=A34),
                                  np.minimum.accumulate(A34[::-1], axis=0)[::-1])


@pytest.mark.parametrize("code, inputs", [
    ("lax.cummax(x)", {"x": X5}),
    ("lax.cummin(x, 1, True) * x", {"x": A34}),
    ("jnp.sum(lax.cummax(x, axis=0, reverse=True) ** 2)", {"x": A34}),
])
def test_cummax_derivatives_are_central_differences_and_kernels_agree(code, inputs):
    assert_derivatives_are_central_differences(HEAD + code, inputs)
    assert_kernels_agree(HEAD + code, inputs)


def test_cummax_refuses_ties_nan_and_negative_axes_saying_why():
    assert "jax.lax.cummax" in refusal("lax.cummax(x)", x=np.array([0.5, 0.2, 0.5]))
    assert "equal elements" in refusal("lax.cummin(x)", x=np.array([0.5, 0.5, 0.1]))
    assert "equal elements (or NaN)" in refusal("lax.cummax(x)", x=np.array([0.5, np.nan, 0.1]))
    assert "negative" in refusal("lax.cummax(x, axis=-1)", x=A34)
    assert "scalar" in refusal("lax.cummin(x[0])", x=X5)
    # the tie that JAX's scan never meets (a later larger element) is still a tie it splits: refused too
    assert "equal elements" in refusal("lax.cummax(x)", x=np.array([0.1, 0.1, 0.9]))


# --- approx_max_k / approx_min_k: exact top k on CPU ----------------------------------------------------------------

def test_approx_k_are_the_exact_top_and_bottom_k():
    values, order = np.sort(X5)[::-1], np.argsort(-X5, kind="stable")
    np.testing.assert_array_equal(value("lax.approx_max_k(x, 3)[0]", x=X5), values[:3])
    np.testing.assert_array_equal(value("lax.approx_max_k(x, 3)[1] + 0.0", x=X5), order[:3])
    np.testing.assert_array_equal(value("lax.approx_min_k(x, 2)[0]", x=X5), np.sort(X5)[:2])
    np.testing.assert_array_equal(value("lax.approx_min_k(x, 2, reduction_dimension=0)[0]", x=A34),
                                  np.sort(A34, axis=0)[:2])
    ties = np.array([0.3, 0.1, 0.3, 0.1, 0.2])  # JAX's CPU answer: the lower index first
    np.testing.assert_array_equal(value("lax.approx_min_k(x, 3)[1] + 0.0", x=ties), [1, 3, 4])
    np.testing.assert_array_equal(value("lax.approx_max_k(x, 3)[1] + 0.0", x=ties), [0, 2, 4])


def test_approx_k_derivatives_and_kernels():
    for code, inputs in (("lax.approx_max_k(x, 2)[0] * 3", {"x": X5}),
                         ("lax.approx_min_k(x, 2, reduction_dimension=0, recall_target=0.9)[0]", {"x": A34})):
        assert_derivatives_are_central_differences(HEAD + code, inputs)
        assert_kernels_agree(HEAD + code, inputs)


def test_approx_k_refusals():
    assert "NaN" in refusal("lax.approx_max_k(x, 2)[0]", x=np.array([0.3, np.nan, 0.1]))
    assert "aggregate_to_topk=False" in refusal("lax.approx_min_k(x, 2, aggregate_to_topk=False)[0]", x=X5)
    assert "k = 6" in refusal("lax.approx_max_k(x, 6)[0]", x=X5)


# --- reduce_xor, broadcast_like, ragged_dot -------------------------------------------------------------------------

def test_reduce_xor_of_masks_and_integer_constants():
    np.testing.assert_array_equal(value("lax.reduce_xor(x > 0, (1,)) * 1.0", x=A34),
                                  (np.sum(A34 > 0, axis=1) % 2 == 1) * 1.0)
    np.testing.assert_array_equal(value("lax.reduce_xor(x > 0, (0, 1)) * 1.0", x=A34), float(np.sum(A34 > 0) % 2))
    ints = np.array([[3, 5, 12], [-7, 9, 1]], dtype=np.int32)
    expected = np.bitwise_xor.reduce(ints, axis=1)
    np.testing.assert_array_equal(
        value("lax.reduce_xor(jnp.array([[3, 5, 12], [-7, 9, 1]], dtype=jnp.int32), (1,)) * x[:2]", x=X5),
        expected * X5[:2])
    assert "integers" in refusal("lax.reduce_xor(x, (0,))", x=X5)
    assert "axes" in refusal("lax.reduce_xor(x > 0, (2,))", x=A34)


def test_broadcast_like_is_broadcast_to_the_others_shape():
    np.testing.assert_array_equal(value("lax.broadcast_like(x, y)", x=X5, y=np.zeros((2, 5))), np.tile(X5, (2, 1)))
    assert_derivatives_are_central_differences(HEAD + "lax.broadcast_like(x[:, None], y) * y",
                                               {"x": A34[:, 0], "y": A34})


RAGGED = "lax.ragged_dot(a, w, jnp.array([2, 0, 3], dtype=jnp.int32))"


def test_ragged_dot_is_each_groups_rows_times_its_matrix():
    a, w = rng.standard_normal((6, 3)), rng.standard_normal((3, 3, 2))
    expected = np.concatenate([a[:2] @ w[0], a[2:5] @ w[2], np.zeros((1, 2))])
    np.testing.assert_allclose(value(RAGGED, a=a, w=w), expected, rtol=1e-15, atol=1e-15)
    assert_derivatives_are_central_differences(HEAD + RAGGED, {"a": a, "w": w})
    assert_kernels_agree(HEAD + RAGGED, {"a": a, "w": w})
    assert "group_sizes" in refusal("lax.ragged_dot(a, w, jnp.array([4, 0, 3]))", a=a, w=w)
    assert "group_sizes" in refusal("lax.ragged_dot(a, w, jnp.array([4, 2]))", a=a, w=w)


# --- NumPy / jnp / torch type questions, require, fromiter ---------------------------------------------------------

@pytest.mark.parametrize("code, truth", [
    ("np.isdtype(x.dtype, 'real floating')", True), ("jnp.isdtype(x.dtype, 'integral')", False),
    ("np.isdtype(np.int32, ('integral', 'bool'))", True), ("np.isdtype(np.uint8, 'signed integer')", False),
    ("np.isdtype(x.dtype, np.float64)", True), ("np.isdtype(x.dtype, np.float32)", False),
    ("np.isdtype(np.bool_, 'numeric')", False), ("np.issubdtype(x.dtype, np.float64)", True),
    ("jnp.issubdtype(np.int8, np.int16)", False), ("torch.is_complex(x)", False), ("torch.is_conj(x)", False),
    ("torch.is_neg(x)", False), ("np.iscomplex(x[0])", False),
])
def test_type_questions_are_answered_as_numpy_answers(code, truth):
    assert value(code, x=X5) == (1.0 if truth else 0.0)
    if code.startswith("np.is"):  # NumPy's own answer for float64
        scope = {"np": np, "x": X5}
        assert bool(eval(code, scope)) == truth


def test_iscomplex_is_false_everywhere_and_a_mask():
    np.testing.assert_array_equal(value("np.iscomplex(x)", x=A34), np.iscomplex(A34))
    np.testing.assert_array_equal(value("x[~jnp.iscomplex(x)]", x=X5), X5)
    assert "kind" in refusal("np.isdtype(x.dtype, 'floating')", x=X5)
    assert "not an array" in refusal("np.isdtype(x, 'bool')", x=X5)


def test_require_is_asarray_and_fromiter_an_array_of_the_iterable():
    np.testing.assert_array_equal(value("np.require(x, requirements=['C', 'A']) * 2", x=X5), X5 * 2)
    np.testing.assert_array_equal(value("np.require(x, np.float32, 'W')", x=X5),
                                  value("np.asarray(x, dtype=np.float32)", x=X5))  # jac's reading of a float dtype
    assert "requirements 'Q'" in refusal("np.require(x, requirements=['Q'])", x=X5)
    np.testing.assert_array_equal(value("np.fromiter((i * i for i in range(4)), float) * x[0]", x=X5),
                                  np.fromiter((i * i for i in range(4)), float) * X5[0])
    np.testing.assert_array_equal(value("np.fromiter(range(5), float, count=3)", x=X5), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(value("np.fromiter((v * v for v in x), float)", x=X5),
                                  np.fromiter((v * v for v in X5), float))
    assert_derivatives_are_central_differences(HEAD + "np.fromiter((v * v for v in x), float)", {"x": X5})
    assert "too short" in refusal("np.fromiter(range(2), float, count=3)", x=X5)


# --- F.linear_cross_entropy: PyTorch's reference implementation ------------------------------------------------------

def _cross_entropy(logits, target, ignore=-100):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    keep = target != ignore
    return -logp[np.arange(len(target))[keep], target[keep]].mean()


def test_linear_cross_entropy_is_cross_entropy_of_the_linear_map():
    x, w, bias = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    code = "F.linear_cross_entropy(x, w, torch.tensor([0, 4, -100, 2]), linear_bias=b)"
    np.testing.assert_allclose(value(code, x=x, w=w, b=bias),
                               _cross_entropy(x @ w.T + bias, np.array([0, 4, -100, 2])), rtol=1e-14)
    assert value(code.replace("linear_cross_entropy", "linear_cross_entropy").replace(
        "linear_bias=b)", "linear_bias=b, reduction='sum')"), x=x, w=w, b=bias) == \
        value("F.cross_entropy(F.linear(x, w, b), torch.tensor([0, 4, -100, 2]), reduction='sum')", x=x, w=w, b=bias)
    assert_derivatives_are_central_differences(HEAD + code, {"x": x, "w": w, "b": bias})
    assert_kernels_agree(HEAD + code, {"x": x, "w": w, "b": bias})
    assert "2-d linear_weight" in refusal("F.linear_cross_entropy(x, w[None], torch.tensor([0, 4, 1, 2]))", x=x, w=w)


# --- refused saying why ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, words", [
    ("lax.complex(x, x)", ("real", "two real arrays")), ("lax.real(x)", ("real", "its own real part")),
    ("lax.imag(x)", ("zeros_like",)), ("lax.conj(x)", ("own conjugate",)), ("lax.fft(x, 0, (5,))", ("Fourier",)),
    ("lax.bitcast_convert_type(x, jnp.int64)", ("bits",)),
    # lax.custom_root is read since session 30 (tests/test_names30.py)
    ("lax.psum(x, 'i')", ("axis_name", "jnp.sum(x)")),
    ("jnp.sort_complex(x)", ("complex", "np.sort")), ("np.asmatrix(x)", ("matrix product", "np.asarray")),
    ("np.bmat([[x]])", ("np.block",)), ("np.einsum_path('i,i->', x, x)", ("optimize=True",)),
    # torch.polar and torch.complex make complex values since session 36 (tests/test_fft36.py), view_as_complex since
    # session 37 (tests/test_fft37.py)
    ("torch.view_as_real(x)", ("real",)),
    ("torch.stft(x, 4)", ("complex",)),
    ("F.scaled_mm(x, x)", ("float8",)), ("F.grouped_mm(x, x)", ("float8",)),
    ("F.fractional_max_pool2d(x, 2)", ("random", "F.max_pool2d")), ("torch.geqrf(x)", ("torch.linalg.qr",)),
    ("torch.ormqr(x, x, x)", ("torch.linalg.qr",)), ("torch.lobpcg(x)", ("torch.linalg.eigh",)),
    ("torch.pca_lowrank(x)", ("randomized", "torch.linalg.svd")), ("torch.svd_lowrank(x)", ("torch.linalg.svd",)),
    ("torch.histogramdd(x)", ("torch.histc",)), ("torch.imag(x)", ("zeros_like",)),
])
def test_refused_saying_why_and_what_to_write(code, words):
    message = refusal(code, x=X5)
    for word in words:
        assert word in message, (word, message)
    assert code.split("(")[0] in message  # the name as written


# --- jax.lax.custom_linear_solve: solve's value, the implicit derivative ------------------------------------------

M2 = np.array([[2.0, 1.0], [1.0, 3.0]])
SOLVE = "lax.custom_linear_solve(lambda v: (a @ v) * t[0], t[1:], lambda mv, r: jnp.linalg.solve(a * t[0], r))"


def test_custom_linear_solve_is_the_solution_and_its_implicit_derivative():
    t, a = np.array([1.5, 0.3, -0.7]), M2
    np.testing.assert_array_equal(value(SOLVE, t=t, a=a), value("jnp.linalg.solve(a * t[0], t[1:])", t=t, a=a))
    direct = api.jacobian(HEAD + "jnp.linalg.solve(a * t[0], t[1:])", {"t": t, "a": a})
    ours = api.jacobian(HEAD + SOLVE, {"t": t, "a": a})
    for k in ("t", "a"):
        np.testing.assert_allclose(ours[k], direct[k], rtol=1e-13, atol=1e-15)
    assert_derivatives_are_central_differences(HEAD + SOLVE, {"t": t, "a": a})
    assert_kernels_agree(HEAD + SOLVE, {"t": t, "a": a})
    second = api.hessian(HEAD + f"jnp.sum({SOLVE} ** 2)", {"t": t, "a": a}, wrt=["t"])
    expected = api.hessian(HEAD + "jnp.sum(jnp.linalg.solve(a * t[0], t[1:]) ** 2)", {"t": t, "a": a}, wrt=["t"])
    np.testing.assert_allclose(np.asarray(second[("t", "t")]), np.asarray(expected[("t", "t")]), rtol=1e-12, atol=1e-14)


def test_custom_linear_solve_in_float32_is_not_refused_for_a_direct_solve():
    r = np.random.default_rng(3)
    for _ in range(20):
        a, t = r.standard_normal((4, 4)) + 4 * np.eye(4), r.standard_normal(5) + np.array([2.0, 0, 0, 0, 0])
        found = api.jacobian(HEAD + SOLVE, {"t": t, "a": a}, dtype="float32")
        direct = api.jacobian(HEAD + "jnp.linalg.solve(a * t[0], t[1:])", {"t": t, "a": a}, dtype="float32")
        np.testing.assert_allclose(found["t"], direct["t"], rtol=1e-4, atol=1e-5)


def test_custom_linear_solve_refuses_what_jax_would_differentiate_otherwise():
    t = np.array([1.5, 0.3, -0.7])
    assert "does not solve" in refusal("lax.custom_linear_solve(lambda v: a @ v, t[1:], lambda mv, r: r)", t=t, a=M2)
    assert "not linear" in refusal("lax.custom_linear_solve(lambda v: a @ v + 1, t[1:], "
                                   "lambda mv, r: jnp.linalg.solve(a, r - 1))", t=t, a=M2)
    assert "has_aux" in refusal("lax.custom_linear_solve(lambda v: a @ v, t[1:], lambda mv, r: r, has_aux=True)",
                                t=t, a=M2)
    assert "one vector" in refusal("lax.custom_linear_solve(lambda v: a @ v, a, lambda mv, r: r)", t=t, a=M2)
    assert "shape (2,)" in refusal("lax.custom_linear_solve(lambda v: a @ v, t[1:], lambda mv, r: r[0])", t=t, a=M2)


def test_custom_linear_solve_symmetric_must_be_symmetric():
    t = np.array([1.5, 0.3, -0.7])
    code = "lax.custom_linear_solve(lambda v: a @ v, t[1:], lambda mv, r: jnp.linalg.solve(a, r), symmetric=True)"
    assert "not symmetric" in refusal(code, t=t, a=np.array([[2.0, 1.0], [0.5, 3.0]]))
    np.testing.assert_array_equal(value(code, t=t, a=M2), np.linalg.solve(M2, t[1:]))


# --- torch.while_loop: written out as jax.lax.while_loop is -----------------------------------------------------------

LOOP = "torch.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, torch.sin(v) * w), (torch.tensor(0), x))[1]"


def test_torch_while_loop_is_its_steps_written_out():
    w = np.array([2.0, 0.5, -1.0, 1.5, 0.25])
    expected = X5
    for _ in range(3):
        expected = np.sin(expected) * w
    np.testing.assert_array_equal(value(LOOP, x=X5, w=w), expected)
    assert_derivatives_are_central_differences(HEAD + LOOP, {"x": X5, "w": w})
    assert_kernels_agree(HEAD + LOOP, {"x": X5, "w": w})
    # a condition of the values: the steps these values take, as PyTorch runs them (refused before session 33)
    doubled = X5.copy()
    while doubled.sum() > -3:
        doubled = doubled * 2
    assert X5.sum() > -3 and not np.array_equal(doubled, X5)
    np.testing.assert_array_equal(value("torch.while_loop(lambda v: v.sum() > -3, lambda v: (v * 2,), (x,))[0]",
                                        x=X5), doubled)
    with pytest.raises(JacError, match="holds for those values only"):  # jac shape: no values to take
        shape_report(HEAD + "torch.while_loop(lambda v: v.sum() > -3, lambda v: (v * 2,), (x,))[0]", ["x:5"])
    assert "keep its shape" in refusal("torch.while_loop(lambda i, v: i < 1, lambda i, v: (i + 1, v[:2]), "
                                       "(torch.tensor(0), x))[1]", x=X5)
    assert "tuple of tensors" in refusal("torch.while_loop(lambda v: v < 3, lambda v: v + 1, x)", x=X5)


# --- F.fractional_max_pool2d / 3d with _random_samples given --------------------------------------------------------

def _intervals(sample, size, out, pool):
    alpha = (size - pool) / (out - 1) if out > 1 else 0.0
    return [int((i + sample) * alpha) - int(sample * alpha) for i in range(out - 1)] + [size - pool]


def test_fractional_max_pool2d_is_the_max_over_pytorchs_regions():
    x = rng.standard_normal((2, 3, 7, 8))
    s = rng.uniform(size=(2, 3, 2))
    got = value(f"F.fractional_max_pool2d(x, (2, 3), output_size=(4, 3), _random_samples=torch.tensor({s.tolist()}))",
                x=x)
    for i in range(2):
        for c in range(3):
            hs, ws = _intervals(s[i, c, 1], 7, 4, 2), _intervals(s[i, c, 0], 8, 3, 3)
            expected = [[x[i, c, h:h + 2, w:w + 3].max() for w in ws] for h in hs]
            np.testing.assert_array_equal(got[i, c], expected)
    code = f"F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5), _random_samples=torch.tensor({s.tolist()}))"
    assert_derivatives_are_central_differences(HEAD + code, {"x": x})
    assert_kernels_agree(HEAD + code, {"x": x})


def test_fractional_max_pool_refusals():
    x = rng.standard_normal((1, 2, 6, 6))
    assert "_random_samples" in refusal("F.fractional_max_pool2d(x, 2, output_size=3)", x=x)
    assert "constant tensor" in refusal("F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=x[:, :, 0, :2] "
                                        "* 0)", x=x)
    assert "shape (1, 2, 2)" in refusal("F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=torch.zeros(1, "
                                        "2, 3))", x=x)
    assert "len() of a float" in refusal("F.fractional_max_pool2d(x, 2, output_ratio=0.5, _random_samples="
                                         "torch.zeros(1, 2, 2))", x=x)
    assert "does not fit" in refusal("F.fractional_max_pool2d(x, 3, output_size=5, _random_samples=torch.zeros(1, 2, "
                                     "2))", x=x)
    x[0, 0, 2, 2] = np.nan
    assert "NaN" in refusal("F.fractional_max_pool2d(x, 2, output_size=5, _random_samples=torch.zeros(1, 2, 2))",
                            x=x)
