"""What the twenty-third session's sweep of PyTorch's keywords (benchmarks/torchkw23_sweep.py) found: arguments by
position read as another parameter than PyTorch's (F's losses: size_average and reduce sit before reduction; the
positional keepdim of torch.std_mean / var_mean dropped from the mean), keepdim= ignored without a dim (quantile),
tensor_split at decreasing indices, diagonal_scatter with one axis twice (an internal error), ignore_index of
probability targets ignored, and pairwise_distance of scalars with keepdim. Expected values are NumPy's, by hand;
derivatives against central differences. tests/test_parity_torchkw23.py checks the same against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

rng = np.random.default_rng(2323)
X = rng.uniform(0.2, 0.9, (2, 3))
Y = rng.uniform(0.2, 0.9, (2, 3))
Z = rng.uniform(0.2, 0.9, (2, 3))
ENV = {"x": X, "y": Y, "z": Z}


def central(text: str, env: dict, v: np.ndarray, name: str, h: float = 1e-6) -> np.ndarray:
    """<v, f> differentiated by ``name`` with central differences of jac's own values."""
    g = np.zeros_like(env[name])
    for i in np.ndindex(g.shape):
        up, down = ({**env, name: env[name].copy()} for _ in range(2))
        up[name][i] += h
        down[name][i] -= h
        g[i] = (np.sum(v * api.evaluate(text, up)) - np.sum(v * api.evaluate(text, down))) / (2 * h)
    return g


@pytest.mark.parametrize("text", ["F.mse_loss(x, y, 'sum')", "F.l1_loss(x, y, 'none')", "F.kl_div(x, y, 'sum')",
                                  "F.smooth_l1_loss(x, y, 'sum')", "F.soft_margin_loss(x, y, 'sum')",
                                  "F.binary_cross_entropy(x, y, None, 'sum')",
                                  "F.hinge_embedding_loss(x, y, 1.0, 'sum')",
                                  "F.margin_ranking_loss(x, y, z, 0.0, 'sum')", "F.mse_loss(x, y, True)",
                                  "F.triplet_margin_loss(x, y, z, 1.0, 2.0, 1e-06, False, 'sum')"])
def test_a_loss_argument_in_size_averages_place_is_refused_by_that_name(text):
    # PyTorch reads it as the deprecated size_average (its mean, with a warning); jac read it as reduction
    with pytest.raises(JacError, match="size_average"):
        api.evaluate(text, ENV)


@pytest.mark.parametrize("text, want", [
    ("F.mse_loss(x, y, None, None, 'sum')", np.sum((X - Y) ** 2)),
    ("F.mse_loss(x, y, None, None, 'none')", (X - Y) ** 2),
    ("F.l1_loss(x, y, None, None, 'mean')", np.mean(np.abs(X - Y))),
    ("F.kl_div(x, y, None, None, 'sum')", np.sum(Y * (np.log(Y) - X))),
    ("F.kl_div(x, y, None, None, 'sum', True)", np.sum(np.exp(Y) * (Y - X))),
    # targets neither 1 nor -1: both of PyTorch's terms
    ("F.hinge_embedding_loss(x, y, 0.5, None, None, 'sum')", np.sum(X + np.maximum(0.5 - X, 0))),
    ("F.triplet_margin_loss(x, y, z, 1.0, 1, 0.0, False, None, None, 'none')",
     np.maximum(np.abs(X - Y).sum(1) - np.abs(X - Z).sum(1) + 1.0, 0)),
    ("F.poisson_nll_loss(x, y, True, False, None, 1e-8, None, 'sum')", np.sum(np.exp(X) - Y * X)),
])
def test_a_loss_by_position_in_pytorchs_order(text, want):
    np.testing.assert_allclose(api.evaluate(text, ENV), want, rtol=1e-12)


def test_cross_entropy_by_position_reads_ignore_index_in_its_place():
    t = "torch.tensor([1, 2])"
    logp = X - np.log(np.exp(X).sum(1, keepdims=True))
    np.testing.assert_allclose(api.evaluate(f"F.cross_entropy(x, {t}, None, None, 1)", ENV), -logp[1, 2], rtol=1e-12)
    assert api.evaluate(f"F.cross_entropy(x, {t}, None, None, 1)", ENV) == api.evaluate(
        f"F.cross_entropy(x, {t}, ignore_index=1)", ENV)


def test_a_loss_argument_twice_by_position_and_keyword_is_refused():
    with pytest.raises(JacError, match="twice"):
        api.evaluate("F.mse_loss(x, y, None, None, 'sum', reduction='sum')", ENV)
    with pytest.raises(JacError, match="at most"):
        api.evaluate("F.mse_loss(x, y, None, None, 'sum', None, 1)", ENV)


def test_ignore_index_of_probability_targets_is_refused_not_ignored():
    with pytest.raises(JacError, match="ignore_index"):
        api.evaluate("F.cross_entropy(x, y, ignore_index=1)", ENV)
    assert np.isfinite(api.evaluate("F.cross_entropy(x, y, ignore_index=-100)", ENV))  # the default: nothing ignored


@pytest.mark.parametrize("text, want", [
    ("torch.quantile(x, 0.3, keepdim=True)", np.quantile(X, 0.3, keepdims=True)),
    ("x.quantile(0.3, None, True)", np.quantile(X, 0.3, keepdims=True)),
    ("torch.quantile(x, [0.3, 0.8], keepdim=True)", np.quantile(X, [0.3, 0.8], keepdims=True)),
    ("np.quantile(x, 0.3, keepdims=True)", np.quantile(X, 0.3, keepdims=True)),
    ("np.percentile(x, 30, keepdims=True, method='lower')", np.percentile(X, 30, keepdims=True, method="lower")),
])
def test_quantile_keepdim_without_a_dim_keeps_every_axis(text, want):
    got = api.evaluate(text, ENV)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)


NANS = np.where(np.eye(2, 3) > 0, np.nan, X)


@pytest.mark.parametrize("text, want", [
    ("torch.nanquantile(x, 0.3, keepdim=True)", np.nanquantile(NANS, 0.3, keepdims=True)),
    ("torch.nanquantile(x, 0.3, None, True, 'higher')", np.nanquantile(NANS, 0.3, keepdims=True, method="higher")),
    ("np.nanquantile(x, [0.3, 0.6], keepdims=True)", np.nanquantile(NANS, [0.3, 0.6], keepdims=True)),
    ("np.nanpercentile(x, 30, keepdims=True, method='lower')", np.nanpercentile(NANS, 30, keepdims=True,
                                                                                method="lower")),
])
def test_nanquantile_keepdim_without_a_dim_keeps_every_axis(text, want):
    got = api.evaluate(text, {"x": NANS})  # refused before
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_quantile_keepdim_without_a_dim_differentiates_as_its_value():
    text = "torch.quantile(x, 0.3, keepdim=True)"
    v = np.array([[1.7]])
    np.testing.assert_allclose(api.vjp(text, ENV, v, wrt=["x"])["x"], central(text, ENV, v, "x"), atol=1e-8)


@pytest.mark.parametrize("fname, ddof", [("std", 1), ("var", 1)])
@pytest.mark.parametrize("dim", ["None", "1", "(0, 1)"])
def test_std_mean_and_var_mean_by_position_keep_the_means_axes(fname, ddof, dim):
    axis = None if dim == "None" else eval(dim)
    for unbiased, d in (("True", ddof), ("False", 0)):
        text = f"torch.{fname}_mean(x, {dim}, {unbiased}, True)"
        stat = getattr(np, fname)(X, axis=axis, ddof=d, keepdims=True)
        mean = np.mean(X, axis=axis, keepdims=True)
        for k, want in enumerate((stat, mean)):
            got = api.evaluate(f"{text}[{k}]", ENV)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("text, part", [
    ("torch.tensor_split(x, torch.tensor([2, 0]))", [X[:2], X[2:0], X[0:]]),
    ("torch.tensor_split(x, (1, 0, 2), dim=1)", [X[:, :1], X[:, 1:1], X[:, 0:2], X[:, 2:]]),
    ("x.tensor_split([2, 1], 1)", [X[:, :2], X[:, 2:2], X[:, 1:]]),
    ("np.array_split(x, [2, 1], axis=1)", np.array_split(X, [2, 1], axis=1)),
    ("np.split(x, [3, 1], 1)", np.split(X, [3, 1], 1)),
])
def test_split_at_decreasing_indices_starts_each_piece_at_its_index(text, part):
    for k, want in enumerate(part):
        got = api.evaluate(f"{text}[{k}]", ENV)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_split_at_decreasing_indices_sends_the_gradient_to_the_piece_read():
    text = "torch.tensor_split(x, (2, 0), dim=1)[2]"  # x[:, 0:]
    v = rng.standard_normal((2, 3))
    np.testing.assert_allclose(api.vjp(text, ENV, v, wrt=["x"])["x"], v)


@pytest.mark.parametrize("text", ["torch.diagonal_scatter(x, torch.tensor([2, 0]), dim1=1)",
                                  "x.diagonal_scatter(torch.tensor([2, 0]), 0, -1)",
                                  "torch.diagonal_scatter(x, y[0, :2], 0, 0, 0)"])
def test_diagonal_scatter_with_one_axis_twice_is_refused(text):
    with pytest.raises(JacError, match="dim1 and dim2"):
        api.evaluate(f"import torch\n{text}", ENV)


@pytest.mark.parametrize("keepdim", ["True", "False"])
def test_pairwise_distance_of_scalars_is_a_scalar(keepdim):
    text = f"F.pairwise_distance(a, b, keepdim={keepdim})"
    got = api.evaluate(text, {"a": np.array(0.7), "b": np.array(0.2)})
    assert got.shape == ()
    np.testing.assert_allclose(got, 0.5 + 1e-6, rtol=1e-12)


@pytest.mark.parametrize("text, want", [
    ("torch.add(x, other=y)", X + Y), ("x.add(other=y, alpha=2)", X + 2 * Y),
    ("torch.subtract(x, y, alpha=3)", X - 3 * Y),
    ("x.subtract(y, alpha=0.5)", X - 0.5 * Y), ("torch.subtract(x, other=y)", X - Y),
    ("torch.atan2(x, other=y)", np.arctan2(X, Y)), ("torch.where(x > 0.5, x, other=y)", np.where(X > 0.5, X, Y)),
])
def test_other_is_the_second_operand_and_subtract_takes_alpha(text, want):
    np.testing.assert_allclose(api.evaluate(text, ENV), want, rtol=1e-15)


def test_subtract_alpha_differentiates_as_its_value():
    text = "torch.subtract(x, y, alpha=3)"
    v = rng.standard_normal((2, 3))
    grads = api.vjp(text, ENV, v, wrt=["x", "y"])
    np.testing.assert_allclose(grads["y"], -3 * v, rtol=1e-15)
    np.testing.assert_allclose(grads["x"], central(text, ENV, v, "x"), atol=1e-8)


@pytest.mark.parametrize("text, want", [
    ("torch.norm(x, dtype=torch.float64)", np.linalg.norm(X)),
    ("torch.linalg.norm(x, 'nuc', dtype=torch.float64)", np.linalg.norm(X, "nuc")),
    ("torch.linalg.vector_norm(x, 1, dtype=torch.float64)", np.abs(X).sum()),
    ("torch.linalg.matrix_norm(x, dtype=torch.float64)", np.linalg.norm(X)),
    ("x.norm(dtype=torch.float64)", np.linalg.norm(X)),
])
def test_dtype_of_pytorchs_norms_casts_first(text, want):
    np.testing.assert_allclose(api.evaluate(text, ENV), want, rtol=1e-13)


@pytest.mark.parametrize("text", ["torch.norm(x, dtype=torch.int64)", "torch.linalg.vector_norm(x, dtype=torch.bool)",
                                  "np.linalg.norm(x, dtype=np.float64)"])
def test_dtype_of_a_norm_refused_where_the_library_refuses_it(text):
    with pytest.raises(JacError, match="dtype"):
        api.evaluate(text, ENV)


W = np.array([[0.5, 1.7, -2.3], [0.0, 3.9, 0.2]])


@pytest.mark.parametrize("text, want", [
    ("w.type_as(torch.tensor(1))", np.trunc(W)), ("w.type_as(torch.tensor([2, 0], dtype=torch.int32))", np.trunc(W)),
    ("w.type_as(y.long())", np.trunc(W)), ("w.type_as(w > 0.5)", (W != 0).astype(float)), ("w.type_as(y)", W),
])
def test_type_as_takes_the_other_arrays_dtype(text, want):
    # jac read every type_as as --dtype's: an integer tensor's truncation and a mask's x != 0 were lost
    np.testing.assert_array_equal(api.evaluate(f"import torch\n{text}", {"w": W, "y": Y}), want)


def test_type_as_an_integer_array_has_no_derivative():
    grads = api.vjp("import torch\nw.type_as(torch.tensor(1))", {"w": W}, np.ones((2, 3)), wrt=["w"])
    np.testing.assert_array_equal(grads["w"], np.zeros((2, 3)))


def test_input_and_other_name_the_operands_of_isclose():
    near = X + 1e-9
    for text in ("torch.isclose(input=x, other=y)", "torch.isclose(x, other=y)", "torch.allclose(x, other=y)"):
        np.testing.assert_array_equal(api.evaluate(text, {"x": X, "y": near}), api.evaluate(
            text.replace("input=", "").replace("other=", ""), {"x": X, "y": near}))
    assert api.evaluate("torch.allclose(x, other=y)", {"x": X, "y": near}) == 1


@pytest.mark.parametrize("text, axis", [("torch.softmax(x, -1, torch.float64)", -1),
                                        ("torch.log_softmax(x, 0, torch.float32)", 0),
                                        ("x.softmax(0, torch.float64)", 0), ("x.log_softmax(1, torch.float64)", 1)])
def test_softmax_reads_pytorchs_third_argument_as_the_dtype(text, axis):
    e = np.exp(X - X.max(axis, keepdims=True))
    want = e / e.sum(axis, keepdims=True)
    want = np.log(want) if "log_" in text else want
    np.testing.assert_allclose(api.evaluate(f"import torch\n{text}", ENV), want, rtol=1e-13)


@pytest.mark.parametrize("text", ["F.softmax(x, -1, torch.float64)",  # F's third is _stacklevel
                                  "torch.log_softmax(x, -1, torch.int64)"])
def test_softmax_third_argument_refused_where_it_is_no_float_dtype(text):
    with pytest.raises(JacError):
        api.evaluate(text, ENV)
