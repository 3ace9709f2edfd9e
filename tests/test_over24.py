"""What the twenty-fourth session reads that jac refused though the libraries answer it (benchmarks/RESULTS.md, the
h23-torchkw section's OVER-REFUSED list): torch.svd(compute_uv=False), torch.linalg.pinv's older rcond overload
(by position it was read as atol: a pseudo-inverse of full rank where PyTorch's cutoff drops a singular value),
torch.nuclear_norm(x, keepdim), torch.nan_to_num(x, None), x.max(other=y), F.normalize with p='fro' / 'nuc' and a
tuple of dims, the deprecated torch.add(x, alpha, other); and ir/refusals.py, the one helper of the refusals that
depend on values. Expected values are NumPy's, by hand; derivatives against central differences.
tests/test_parity_over24.py checks the same against PyTorch and JAX."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.ir.graph import Builder
from jacobi_cli.ir.refusals import refusal, refused
from jacobi_cli.tools import api
from test_torchkw23 import central  # <v, f> by central differences of jac's values
from test_jaxkw23 import kind as builder_kind  # the dtype kind the builder records for the output

rng = np.random.default_rng(2424)
X = rng.uniform(0.2, 0.9, (2, 3))
Y = rng.uniform(0.2, 0.9, (2, 3))
ENV = {"x": X, "y": Y}
D = np.array([[10.0, 0.0], [0.0, 0.5]])  # singular values 10 and 0.5


def check(text: str, env: dict, want) -> None:
    """jac's value is ``want``, and its VJP of a random cotangent agrees with central differences."""
    value = np.asarray(api.evaluate(text, env))
    np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-14)
    v = rng.standard_normal(value.shape)
    found = api.vjp(text, env, v=v)
    for name in env:
        np.testing.assert_allclose(found[name], central(text, env, v, name), rtol=1e-6, atol=1e-8)


# --- torch.linalg.pinv(A, rcond, hermitian): rcond is rtol with atol 0

def test_pinv_rcond_by_position_is_relative_not_absolute():
    # the cutoff 0.1 * 10 = 1 drops the singular value 0.5: PyTorch zeroes it, so jac refuses; read as
    # atol=0.1 (as before) it kept it and answered the full-rank inverse diag(0.1, 2)
    for text in ("torch.linalg.pinv(x, 0.1)", "torch.linalg.pinv(x, rcond=0.1)", "torch.linalg.pinv(x, 0.1, True)"):
        with pytest.raises(JacError, match="cutoff"):
            api.evaluate(text, {"x": D})


@pytest.mark.parametrize("text", ["torch.linalg.pinv(x, 0.01)", "torch.linalg.pinv(x, rcond=0.01)",
                                  "torch.linalg.pinv(x, 0.01, False)"])
def test_pinv_rcond_below_every_singular_value(text):
    check(text, {"x": X}, np.linalg.pinv(X))


@pytest.mark.parametrize("text, match", [("torch.linalg.pinv(x, 0.01, atol=0.1)", "rcond"),
                                         ("torch.linalg.pinv(x, rcond=0.01, rtol=0.1)", "rcond"),
                                         ("torch.linalg.pinv(x, 0.01, True, 1)", "at most 3"),
                                         ("torch.linalg.pinv(x, None)", "rcond"),
                                         ("torch.linalg.pinv(x, 0, atol=None)", "rcond")])
def test_pinv_rcond_with_atol_or_rtol_is_refused(text, match):
    with pytest.raises(JacError, match=match):  # PyTorch has no such overload
        api.evaluate(text, {"x": X})


# --- torch.svd(x, compute_uv=False): S, and U, V zero matrices (constants)

@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 2, 3)])
def test_svd_without_vectors(shape):
    x = rng.uniform(0.2, 0.9, shape)
    m, n = shape[-2:]
    check("torch.svd(x, compute_uv=False)[1]", {"x": x}, np.linalg.svd(x, compute_uv=False))
    check("torch.svd(x, some=False, compute_uv=False).S * 2", {"x": x}, 2 * np.linalg.svd(x, compute_uv=False))
    u, s, v = (np.asarray(api.evaluate(f"x.svd(compute_uv=False)[{k}]", {"x": x})) for k in range(3))
    assert u.shape == shape[:-2] + (m, m) and v.shape == shape[:-2] + (n, n) and not u.any() and not v.any()
    grads = api.vjp("U, S, V = torch.svd(x, False, False)\nU.sum() + V.sum() + S.sum()", {"x": x}, v=np.array(1.0))
    np.testing.assert_allclose(grads["x"], api.vjp("torch.linalg.svdvals(x).sum()", {"x": x}, v=np.array(1.0))["x"])


def test_svd_without_vectors_checks_no_signs():
    # U and V are zeros: nothing depends on PyTorch's signs, so no refusal (with vectors, U alone is refused)
    np.testing.assert_array_equal(api.evaluate("torch.svd(x, compute_uv=False)[0]", {"x": X}), np.zeros((2, 2)))
    with pytest.raises(JacError, match="signs"):
        api.evaluate("torch.svd(x)[0]", {"x": X})


# --- torch.nuclear_norm(x, keepdim), torch.nan_to_num(x, None)

@pytest.mark.parametrize("text, keep", [("torch.nuclear_norm(x, True)", True), ("torch.nuclear_norm(x, False)", False),
                                        ("torch.nuclear_norm(x, (0, 1), True)", True)])
def test_nuclear_norm_keepdim_by_position(text, keep):
    want = np.linalg.norm(X, "nuc")
    check(text, {"x": X}, np.reshape(want, (1, 1)) if keep else want)


@pytest.mark.parametrize("text", ["torch.nan_to_num(x, None)", "x.nan_to_num(None, 5.0)",
                                  "torch.nan_to_num(x, nan=None, neginf=-7.0)"])
def test_nan_to_num_of_none_is_zero(text):
    x = np.array([[np.nan, 1.5, np.inf], [-np.inf, 0.25, np.nan]])
    want = np.nan_to_num(x, nan=0.0, posinf=5.0 if "5.0" in text else None, neginf=-7.0 if "-7.0" in text else None)
    np.testing.assert_array_equal(api.evaluate(text, {"x": x}), want)


def test_numpys_nan_to_num_still_reads_its_second_argument_as_copy():
    with pytest.raises(JacError):  # NumPy's nan must be a number; its second position is copy
        api.evaluate("np.nan_to_num(x, nan=None)", {"x": X})


# --- x.max(other=y), torch.min(x, other=y): element-wise

@pytest.mark.parametrize("text, want", [("x.max(other=y)", np.maximum(X, Y)), ("x.min(other=y)", np.minimum(X, Y)),
                                        ("torch.max(x, other=y)", np.maximum(X, Y)),
                                        ("torch.min(input=x, other=y)", np.minimum(X, Y))])
def test_max_and_min_of_other(text, want):
    check(text, ENV, want)


@pytest.mark.parametrize("text", ["x.max(other=1)", "x.min(other=0.5)", "torch.max(x, other=True)"])
def test_max_of_a_number_other_is_refused_as_pytorch_refuses_it(text):
    with pytest.raises(JacError, match="tensor"):
        api.evaluate(text, ENV)


# --- F.normalize: p='fro', p='nuc', a tuple of dims

def _unit(x, n):
    return x / np.maximum(n, 1e-12)


@pytest.mark.parametrize("text, norm", [
    ("F.normalize(x, p='fro')", lambda x: np.linalg.norm(x, axis=1, keepdims=True)),
    ("F.normalize(x, 'fro', 0)", lambda x: np.linalg.norm(x, axis=0, keepdims=True)),
    ("F.normalize(x, p='fro', dim=(0, 1))", lambda x: np.linalg.norm(x)),
    ("F.normalize(x, -1, (0, 1))", lambda x: 1 / np.sum(1 / np.abs(x))),
    ("F.normalize(x, 3, dim=(1, 0))", lambda x: np.sum(np.abs(x) ** 3) ** (1 / 3)),
    ("F.normalize(x, p='nuc', dim=(0, 1))", lambda x: np.linalg.norm(x, "nuc")),
])
def test_normalize_readings(text, norm):
    check(text, {"x": X}, _unit(X, norm(X)))


@pytest.mark.parametrize("text", ["F.normalize(x, p='nuc')", "F.normalize(x, p='fro', dim=(0, 1, 2))",
                                  "F.normalize(x, p='abc')"])
def test_normalize_refusals(text):
    with pytest.raises(JacError):  # PyTorch raises: the nuclear norm needs two dims, 'fro' over three is matrix_norm's
        api.evaluate(text, {"x": rng.uniform(0.2, 0.9, (2, 3, 2))})


# --- torch.add(x, alpha, other): PyTorch's deprecated overload

@pytest.mark.parametrize("text, want", [("torch.add(x, 2, y)", X + 2 * Y), ("x.add(2, y)", X + 2 * Y),
                                        ("torch.sub(x, 0.5, y)", X - 0.5 * Y), ("x.sub(3, y)", X - 3 * Y),
                                        ("x.add(2, 3)", X + 6.0), ("torch.add(x, torch.tensor(2.0), y)", X + 2 * Y),
                                        ("torch.subtract(x, 1, 0.5)", X - 0.5), ("x.subtract(3, 2)", X - 6.0)])
def test_add_with_a_positional_alpha(text, want):
    check(text, ENV, want)


@pytest.mark.parametrize("text", ["torch.add(x, y, y)", "torch.add(x, True, y)", "x.subtract(2, y)",
                                  "torch.add(x, 2, y, alpha=3)", "x.sub(1, True)"])
def test_add_with_three_arguments_refused_where_pytorch_refuses(text):
    with pytest.raises(JacError):
        api.evaluate(text, ENV)


# --- ir/refusals.py

def test_refusal_is_zero_where_the_mask_is_clear_and_refuses_where_it_holds():
    from jacobi_cli.engine.autodiff import evaluate as run
    b = Builder()
    x = b.input("x", (3,))
    out = refused(b, x, "refused at {lo}", where=b.apply("gt", x, 1.0))
    graph = b.graph(out)
    np.testing.assert_array_equal(run(graph, {"x": np.array([0.5, -0.0, 1.0])})[graph.output], [0.5, -0.0, 1.0])
    assert np.signbit(run(graph, {"x": np.array([0.5, -0.0, 1.0])})[graph.output][1])  # x - 0 keeps -0
    with pytest.raises(JacError, match="refused at nan"):
        run(graph, {"x": np.array([0.5, 2.0, 1.0])})


def test_refusal_unless_axes_and_finite():
    from jacobi_cli.engine.autodiff import evaluate as run
    b = Builder()
    x = b.input("x", (2, 2))
    kept = refusal(b, "a row with a zero", where=x, unless=True, axes=(1,), keepdims=True)
    finite = refusal(b, "{lo} is not finite", finite=(x, x))
    graph = b.graph(b.apply("add", b.apply("add", x, kept), finite))
    assert graph.nodes[kept.id].shape == (2, 1)
    np.testing.assert_array_equal(run(graph, {"x": np.ones((2, 2))})[graph.output], np.ones((2, 2)))
    with pytest.raises(JacError, match="a row with a zero"):
        run(graph, {"x": np.array([[1.0, 0.0], [1.0, 1.0]])})
    with pytest.raises(JacError, match="inf is not finite"):
        run(graph, {"x": np.array([[1.0, np.inf], [1.0, 1.0]])})
    with pytest.raises(TypeError):
        refusal(b, "both", where=x, finite=(x, x))


# --- dtype classes: results the libraries hold as integers or booleans

def kind(text: str, env: dict, monkeypatch) -> str:
    """The dtype class ("b", "i" or "f") the builder records for the output node, as jaxkw23_sweep.py reads it."""
    found = builder_kind(monkeypatch, text, env)
    return "i" if found in "iu" else found


@pytest.mark.parametrize("text, want", [
    ("np.nanargmax(x)", "i"), ("jnp.nanargmin(x, axis=0)", "i"), ("np.nansum(x, dtype=np.int64)", "i"),
    ("jnp.nansum(x, 1, jnp.int64)", "i"), ("jnp.nanprod(x, dtype=jnp.int64)", "i"), ("np.prod(x, dtype=bool)", "b"),
    ("jnp.prod(x, 0, dtype=bool)", "b"), ("np.cumprod(x, dtype=bool)", "b"), ("np.nanprod(x, dtype=bool)", "b"),
    ("jnp.cumulative_prod(x, axis=1, dtype=bool)", "b"), ("torch.prod(x, dtype=torch.bool)", "b"),
    ("np.frexp(x)[1]", "i"), ("jnp.frexp(x)[1]", "i"), ("torch.frexp(x).exponent", "i"), ("np.frexp(x)[0]", "f"),
    ("np.nansum(x)", "f"), ("np.asarray_chkfinite(np.argmax(x))", "i"),
])
def test_dtype_class_of_the_result(text, want, monkeypatch):
    assert kind(text, {"x": X}, monkeypatch) == want


@pytest.mark.parametrize("text, want", [
    # a bool's + is an or: True, where an integer 1 + 1 made 2
    ("np.prod(x, dtype=bool) + np.prod(x, dtype=bool)", np.prod(X, dtype=bool) + np.prod(X, dtype=bool)),
    ("np.cumprod(x, 1, dtype=bool) + np.cumprod(x, 1, dtype=bool)",
     np.cumprod(X, 1, dtype=bool) + np.cumprod(X, 1, dtype=bool)),
    ("np.nansum(x * 4, dtype=np.int64)", np.nansum(X * 4, dtype=np.int64)),
    ("np.nanprod(x * 4, 0, dtype=np.int64)", np.nanprod(X * 4, 0, dtype=np.int64)),
    ("np.frexp(x * 8)[1]", np.frexp(X * 8)[1]),
])
def test_values_held_as_the_libraries_hold_them(text, want):
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), want)


def test_torch_cumprod_in_bool_is_refused_as_pytorch_refuses_it():
    with pytest.raises(JacError, match="cumprod"):
        api.evaluate("torch.cumprod(x, 0, dtype=torch.bool)", {"x": X})


# --- y[idx] op= v with repeated positions: NumPy's buffered write, once

V3 = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("text, env, want", [
    ("y = np.copy(x)\ny[[0, 0]] += 1\ny", {"x": V3}, np.array([2.0, 2.0, 3.0])),
    ("y = np.copy(x)\ny[[0, 2, 0]] *= c\ny", {"x": V3, "c": np.array(5.0)}, np.array([5.0, 2.0, 15.0])),
    ("y = np.copy(x)\ny[[0, 0, 1], :] -= v\ny", {"x": X.T.copy(), "v": Y[:, 0].copy()},
     np.vstack([X.T[0] - Y[:, 0], X.T[1] - Y[:, 0], X.T[2]])),
    ("y = np.copy(x)\ny[[1, 1], [2, 2]] /= 4\ny", {"x": X}, np.where(np.arange(6).reshape(2, 3) == 5, X / 4, X)),
])
def test_a_repeated_position_written_once_in_a_numpy_text(text, env, want):
    np.testing.assert_allclose(want, _numpy_run(text, env))  # NumPy itself on the same statements
    check(text, env, want)


def _numpy_run(text: str, env: dict) -> np.ndarray:
    scope = {k: np.array(v, dtype=float) for k, v in env.items()}
    *lines, last = text.split("\n")
    exec("\n".join(lines), {"np": np}, scope)
    return eval(last, {"np": np}, scope)


@pytest.mark.parametrize("text, match", [
    ("y = np.copy(x)\ny[[0, 0]] += np.array([1.0, 2.0])\ny", "more than once"),  # NumPy leaves the winner open
    ("y = x.clone()\ny[[0, 0]] += 1\ny", "counts the element once per repeat"),  # PyTorch's x.grad[0] is 2·g
    ("y = x * 1\ny[[0, 0]] += 1\ny", "counts the element once per repeat"),  # no library named: either
    ("y = np.copy(x)\ny[[0, 0]] = y[[0, 0]] + 1\ny", "more than once"),
])
def test_repeated_positions_refused_where_the_answer_is_not_one(text, match):
    with pytest.raises(JacError, match=match):
        api.evaluate(text, {"x": V3})


# --- np.add.reduceat

R = rng.uniform(0.2, 0.9, (8,))


@pytest.mark.parametrize("text, want", [
    ("np.add.reduceat(x, [0, 4, 1, 5])", np.add.reduceat(R, [0, 4, 1, 5])),
    ("np.add.reduceat(x, [0, 0, 7])", np.add.reduceat(R, [0, 0, 7])),
    ("np.multiply.reduceat(x, [3])", np.multiply.reduceat(R, [3])),
    ("np.maximum.reduceat(x.reshape(2, 4), [0, 2], axis=1)", np.maximum.reduceat(R.reshape(2, 4), [0, 2], axis=1)),
    ("np.minimum.reduceat(x.reshape(4, 2), np.array([1, 3]))", np.minimum.reduceat(R.reshape(4, 2), [1, 3])),
    ("np.logaddexp.reduceat(x, [2, 5])", np.logaddexp.reduceat(R, [2, 5])),
])
def test_reduceat(text, want):
    check(text, {"x": R}, want)


@pytest.mark.parametrize("text", ["np.add.reduceat(x, [8])", "np.add.reduceat(x, [-1])", "np.add.reduceat(x, 1)",
                                  "np.subtract.reduceat(x, [0])", "np.add.reduceat(x, [0], dtype=int)"])
def test_reduceat_refusals(text):
    with pytest.raises(JacError):
        api.evaluate(text, {"x": R})
