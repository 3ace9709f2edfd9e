"""JAX's readings of keywords and positions that jaxkw23_sweep.py found read as NumPy's (or crashing), checked
without JAX: expected values by NumPy, derivatives by central differences of the function JAX computes."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.ir import dtypes
from jacobi_cli.lang import parser
from jacobi_cli.tools import api

rng = np.random.default_rng(23)
X = rng.uniform(0.2, 0.9, 6)
Y = rng.uniform(0.2, 0.9, 6)
A = rng.uniform(0.2, 0.9, (3, 4))
C = rng.uniform(0.2, 0.9, (3, 3)) + 3 * np.eye(3)  # not symmetric: a reading of one triangle shows
S = (C + C.T) / 2
B = rng.uniform(0.2, 0.9, (3, 2))


def central(f, args: dict, name: str, v, h=1e-6) -> np.ndarray:
    """⟨v, ∂f/∂args[name]⟩ by central differences."""
    g = np.zeros_like(args[name])
    for i in np.ndindex(g.shape):
        values = []
        for step in (h, -h):
            moved = {k: a.copy() for k, a in args.items()}
            moved[name][i] += step
            values.append(np.sum(v * f(**moved)))
        g[i] = (values[0] - values[1]) / (2 * h)
    return g


def kind(monkeypatch, text, bindings) -> str:
    """The dtype kind jac's builder records for the output of ``text``: 'f' for a float."""
    made, box = parser._new_builder, {}

    def capture(*args, **kwargs):
        box["b"] = made(*args, **kwargs)
        return box["b"]
    monkeypatch.setattr(parser, "_new_builder", capture)
    graph = parser.parse(text, {k: np.shape(v) for k, v in bindings.items()}, values=bindings)
    found = dtypes.kind_of(box["b"], graph.output)
    return "f" if found is None else found[0].kind


def check(text, f, bindings, rtol=1e-6):
    """jac's value of ``text`` is f's, and its VJP of a random cotangent f's central differences."""
    value = f(**bindings)
    np.testing.assert_allclose(api.evaluate(text, bindings), value, rtol=1e-9, atol=1e-12)
    v = rng.standard_normal(np.shape(value))
    mine = api.vjp(text, bindings, v=v)
    for k in bindings:
        np.testing.assert_allclose(mine[k], central(f, bindings, k, v), rtol=rtol, atol=1e-7, err_msg=k)


# --- jax.scipy.linalg: cho_solve reads its factor's triangle; torch.cholesky_solve reads it whole ----------


def _cho(c, b, lower):
    t = np.tril(c) if lower else np.triu(c)
    gram = t @ t.T if lower else t.T @ t
    return np.linalg.solve(gram, b)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("rhs", [B, B[:, 0]], ids=["matrix", "vector"])
def test_cho_solve_reads_the_triangle_lower_names_and_its_gradient_is_zero_past_it(lower, rhs):
    text = f"jax.scipy.linalg.cho_solve((c, {lower}), b)"
    check(text, lambda c, b: _cho(c, b, lower), {"c": C.copy(), "b": rhs.copy()})
    v = rng.standard_normal(np.shape(rhs))
    past = np.triu(np.ones((3, 3)), 1) if lower else np.tril(np.ones((3, 3)), -1)
    assert np.all(api.vjp(text, {"c": C, "b": rhs}, v=v)["c"][past == 1] == 0)


def test_torch_cholesky_solve_still_reads_its_factor_whole():
    """PyTorch's formula: a gradient past the triangle, the derivative of (L Lᵀ)⁻¹ B in the whole of L."""
    low = np.tril(C)
    f = lambda b, L: np.linalg.solve(L @ L.T, b)  # noqa: E731
    check("torch.cholesky_solve(b, L)", f, {"b": B.copy(), "L": low.copy()})
    g = api.vjp("torch.cholesky_solve(b, L)", {"b": B, "L": low}, v=np.ones((3, 2)))["L"]
    assert np.any(np.triu(g, 1) != 0)
    jax_reading = api.vjp("jax.scipy.linalg.cho_solve((L, True), b)", {"b": B, "L": low}, v=np.ones((3, 2)))["L"]
    assert np.all(np.triu(jax_reading, 1) == 0)
    np.testing.assert_allclose(np.tril(jax_reading), np.tril(g), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("args, solve", [
    ("", lambda c, b: np.linalg.solve(np.triu(c), b)),
    (", lower=True", lambda c, b: np.linalg.solve(np.tril(c), b)),
    (", trans=1", lambda c, b: np.linalg.solve(np.triu(c).T, b)),
    (", trans='T', lower=True", lambda c, b: np.linalg.solve(np.tril(c).T, b)),
    (", lower=True, unit_diagonal=True",
     lambda c, b: np.linalg.solve(np.tril(c, -1) + np.eye(3), b)),
])
def test_solve_triangular_as_jax_reads_trans_lower_and_unit_diagonal(args, solve):
    check(f"jax.scipy.linalg.solve_triangular(c, b{args})", solve, {"c": C.copy(), "b": B.copy()})
    check(f"jax.scipy.linalg.solve_triangular(c, b{args})", solve, {"c": C.copy(), "b": B[:, 1].copy()})


@pytest.mark.parametrize("text, words", [
    ("jax.scipy.linalg.cho_solve(c, b)", "the pair (c, lower)"),
    ("jax.scipy.linalg.cho_factor(c)", "jnp.linalg.cholesky(a)"),
    ("jax.scipy.linalg.cholesky(c)", "jnp.linalg.cholesky(a).mT"),
    ("jax.scipy.linalg.solve_triangular(c, b, trans=3)", "trans must be"),
    ("jax.scipy.linalg.schur(c)", "jnp.linalg's functions"),
])
def test_what_jax_scipy_linalg_jac_does_not_read_is_refused_by_name(text, words):
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        api.evaluate(text, {"c": C, "b": B})


# --- jnp.partition / argpartition: lax.top_k's order -------------------------------------------------------


def _jax_partition(x, k, axis):
    s = np.sort(x, axis=axis, kind="stable")
    bottom, top = np.split(s, [k + 1], axis=axis)
    return np.concatenate([bottom, np.flip(top, axis)], axis=axis)


def _jax_argpartition(x, k, axis):
    order = np.argsort(x, axis=axis, kind="stable")
    bottom, top = np.split(order, [k + 1], axis=axis)
    return np.concatenate([bottom, np.sort(top, axis=axis)], axis=axis)


@pytest.mark.parametrize("k", [0, 2, -1, 5])
def test_jnp_partition_is_the_smallest_ascending_then_the_others_descending(k):
    check(f"jnp.partition(x, {k})", lambda x: _jax_partition(x, k % 6, -1), {"x": X.copy()})
    np.testing.assert_array_equal(api.evaluate(f"jnp.argpartition(x, {k})", {"x": X}), _jax_argpartition(X, k % 6, -1))
    np.testing.assert_array_equal(api.evaluate(f"np.argpartition(x, {k})", {"x": X}), np.argpartition(X, k))


def test_jnp_partition_along_an_axis_and_its_indices_are_integers(monkeypatch):
    check("jnp.partition(a, 1, axis=0)", lambda a: _jax_partition(a, 1, 0), {"a": A.copy()})
    np.testing.assert_array_equal(api.evaluate("jnp.argpartition(a, 1, axis=0)", {"a": A}), _jax_argpartition(A, 1, 0))
    assert kind(monkeypatch, "jnp.argpartition(x, 2)", {"x": X}) == kind(monkeypatch, "np.argpartition(x, 2)",
                                                                          {"x": X}) == "i"
    assert kind(monkeypatch, "np.lexsort(a)", {"a": A}) == "i"
    with pytest.raises(JacError, match="axis=None"):
        api.evaluate("jnp.partition(x, 1, axis=None)", {"x": X})


# --- linalg: eigh's UPLO, hermitian=True, matrix_rank's rtol -----------------------------------------------


@pytest.mark.parametrize("module", ["np", "jnp"])
def test_eigh_with_uplo_u_gives_lapacks_upper_triangle_vectors(module):
    for uplo in "LU":
        np.testing.assert_allclose(api.evaluate(f"{module}.linalg.eigh(s, UPLO='{uplo}')[1]", {"s": S}),
                                   np.linalg.eigh(S, UPLO=uplo)[1], rtol=1e-9, atol=1e-12)


def test_jnp_hermitian_true_reads_the_symmetric_part_value_and_derivative():
    sym = lambda c: (c + c.T) / 2  # noqa: E731
    check("jnp.linalg.pinv(c, hermitian=True)", lambda c: np.linalg.pinv(sym(c)), {"c": C.copy()})
    np.testing.assert_allclose(api.evaluate("jnp.linalg.svd(c, hermitian=True, compute_uv=False)", {"c": C}),
                               np.linalg.svd(sym(C), compute_uv=False), rtol=1e-9)
    with pytest.raises(JacError, match="not symmetric"):  # NumPy's reads the lower triangle: still refused
        api.evaluate("np.linalg.pinv(c, hermitian=True)", {"c": C})


def test_matrix_rank_jax_compares_sigma_with_rtol_itself_numpy_with_rtol_times_the_largest(monkeypatch):
    s = np.linalg.svd(C, compute_uv=False)
    cut = float((s[0] + s[1]) / 2)  # between the two largest
    assert api.evaluate(f"jnp.linalg.matrix_rank(c, rtol={cut})", {"c": C}) == np.sum(s > cut) == 1
    assert api.evaluate(f"jnp.linalg.matrix_rank(c, {cut})", {"c": C}) == 1
    assert api.evaluate(f"np.linalg.matrix_rank(c, rtol={cut / s[0]})", {"c": C}) == np.linalg.matrix_rank(
        C, rtol=cut / s[0]) == 1
    assert api.evaluate(f"np.linalg.matrix_rank(c, rtol={cut})", {"c": C}) == 0
    with pytest.raises(JacError, match="only one of tol or rtol"):
        api.evaluate("jnp.linalg.matrix_rank(c, 1.0, rtol=1.0)", {"c": C})
    assert kind(monkeypatch, "jnp.linalg.matrix_rank(c)", {"c": C}) == "i"
    assert kind(monkeypatch, "np.linalg.matrix_rank(x)", {"x": X}) == "i"  # a vector's: NumPy's int(...)
    assert kind(monkeypatch, "np.count_nonzero(x)", {"x": X}) == "i"


# --- logsumexp with a negative weighted sum ---------------------------------------------------------------


@pytest.mark.parametrize("fn", ["jax.nn.logsumexp", "jax.scipy.special.logsumexp", "scipy.special.logsumexp"])
def test_logsumexp_of_a_negative_sum_is_nan_with_derivative_zero(fn):
    b = np.array([-0.4, 0.6, -0.7, 0.2, -0.9, 0.1])
    x = np.zeros(6)
    assert np.isnan(api.evaluate(f"{fn}(x, b=b)", {"x": x, "b": b}))
    grads = api.vjp(f"{fn}(x, b=b)", {"x": x, "b": b}, v=np.array(1.0))
    assert np.all(grads["x"] == 0) and np.all(grads["b"] == 0)
    check(f"{fn}(x, b=y)", lambda x, y: np.log(np.sum(y * np.exp(x))), {"x": X.copy(), "y": Y.copy()})


# --- positions JAX reads otherwise, JAX's values, and calls that crashed --------------------------------


def test_jnp_histogram_reads_weights_then_density_by_position():
    counts = lambda x, y: np.histogram(x, 3, None, False, y)[0]  # noqa: E731
    np.testing.assert_allclose(api.evaluate("jnp.histogram(x, 3, None, y)[0]", {"x": X, "y": Y}), counts(X, Y))
    np.testing.assert_allclose(api.evaluate("jnp.histogram(x, 3, None, None, True)[0]", {"x": X}),
                               np.histogram(X, 3, density=True)[0])
    np.testing.assert_allclose(api.evaluate("np.histogram(x, 3, None, True, y)[0]", {"x": X, "y": Y}),
                               np.histogram(X, 3, None, True, Y)[0])
    with pytest.raises(JacError, match="twice"):
        api.evaluate("jnp.histogram(x, 3, None, y, weights=y)[0]", {"x": X, "y": Y})


def test_jnp_empty_is_zeros_as_jax_documents_and_np_empty_stays_nan():
    assert np.all(api.evaluate("jnp.empty_like(x)", {"x": X}) == 0)
    assert np.all(api.evaluate("jnp.empty((2, 3))", {}) == 0)
    assert np.all(np.isnan(api.evaluate("np.empty_like(x)", {"x": X})))


@pytest.mark.parametrize("text", ["np.roll(s, 1, axis=0)", "jnp.roll(s, 1, 0)", "torch.roll(s, 1, 0)",
                                  "np.delete(s, 0, axis=0)", "np.insert(s, 1, 2, axis=0)"])
def test_an_axis_of_a_0d_array_is_refused_not_an_internal_error(text):
    with pytest.raises(JacError, match="0-d array has no axis"):
        api.evaluate(text, {"s": np.array(0.5)})


def test_cov_with_a_dtype_by_position_is_refused():
    with pytest.raises(JacError, match="ddof must be a number"):
        api.evaluate("jnp.cov(x, None, True, False, None, None, None, jnp.float64)", {"x": X})


@pytest.mark.parametrize("text, shape", [
    ("np.quantile(a, 0.3, keepdims=True)", (1, 1)), ("jnp.percentile(a, 30, keepdims=True)", (1, 1)),
    ("np.quantile(a, [0.3, 0.5], keepdims=True)", (2, 1, 1)), ("torch.quantile(a, 0.3, keepdim=True)", (1, 1)),
    ("np.quantile(a, 0.3)", ()),
])
def test_quantile_without_an_axis_keeps_every_axis_with_keepdims(text, shape):
    """keepdims=True without an axis was read as False (a 0-d result)."""
    q = 0.3 if "[" not in text else [0.3, 0.5]
    found = api.evaluate(text, {"a": A})
    assert found.shape == shape
    np.testing.assert_allclose(found.reshape(-1), np.atleast_1d(np.quantile(A, q)), rtol=1e-12)
