"""One answer (or one refusal) in every mode at the points where derivatives are not smooth (session 31).

For each non-smooth function below, at ties, zeros, the clamps' bounds, NaN and inf: the dense Jacobian, the VJPs
with each basis row, the JVPs with each basis column, ``--batch`` of this point beside a generic one, and the
derivatives written in the text (``jax.jacrev`` / ``jax.jacfwd`` / ``jax.jvp``, ``torch.func.jacfwd`` /
``torch.func.jvp``) must be one matrix, or all refuse; the Hessian of a weighted sum must be the Jacobian of the
text's gradient (``jax.grad`` / ``torch.func.grad``). Numbers agree exactly where both are finite; a VJP with a
basis row may hold NaN where the Jacobian, which knows its structure, holds 0 (0 · inf, as PyTorch's products).
Away from the special points the Jacobian and the Hessian are checked against central differences.
The probe over the whole list is ``benchmarks/modes31_probe.py``.
"""
import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

NAN, INF = math.nan, math.inf
POINTS = {
    "zeros": [0.0, 0.0, 0.0, 0.0], "signed0": [0.0, -0.0, 1.0, -1.0], "tie_all": [0.5, 0.5, 0.5, 0.5],
    "tie_pair": [0.5, -0.5, 0.5, -0.5], "tie_adj": [0.5, 0.5, 0.0, 1.0], "bounds": [0.5, -0.5, 1.0, -1.0],
    "bounds6": [6.0, 3.0, -3.0, 0.0], "nan": [NAN, 0.5, 1.0, 0.0], "inf": [INF, 0.5, -INF, 0.0],
}
GENERIC = np.array([0.31, -0.72, 0.58, 1.37])
W = np.array([0.7, -1.3, 0.4, 2.1])
TORCH = ["torch.abs(x)", "F.relu6(x)", "F.hardtanh(x)", "F.elu(x)", "F.selu(x)", "torch.clamp(x, -0.5, 0.5)",
         "torch.maximum(x[:2], x[2:])", "torch.amax(x.reshape(2, 2), 1)", "torch.sort(x).values",
         "torch.median(x)", "torch.cummax(x, 0).values", "torch.linalg.vector_norm(x, 1)", "torch.prod(x)",
         "F.max_pool1d(x.reshape(1, 1, 4), 2).reshape(2)", "torch.quantile(x, 0.3)"]
JAX = ["jnp.abs(x)", "lax.abs(x)", "jax.nn.celu(x)", "jnp.clip(x, -0.5, 0.5)", "lax.clamp(-0.5, x, 0.5)",
       "lax.max(x[:2], x[2:])", "jnp.fmax(x[:2], x[2:])",
       "jnp.max(x)", "lax.top_k(x, 2)[0]", "lax.cummax(x)", "lax.cummin(x, reverse=True)",
       "lax.associative_scan(jnp.maximum, x)", "jnp.maximum.accumulate(x)", "jnp.linalg.norm(x)",
       "jnp.hypot(x[:2], x[2:])", "jnp.cumprod(x)"]
CASES = [("torch", t) for t in TORCH] + [("jax", t) for t in JAX]


def texts(kind: str, body: str) -> dict:
    f = f"lambda x: {body}"
    if kind == "jax":
        return {"f": body, "rev": f"jax.jacrev({f})(x)", "fwd": f"jax.jacfwd({f})(x)",
                "jvp": f"jax.jvp({f}, (x,), (t,))[1]", "s": f"jnp.sum(({body}) * w)",
                "grad": f"jax.grad(lambda x: jnp.sum(({body}) * w))(x)"}
    return {"f": body, "rev": f"torch.autograd.functional.jacobian({f}, x)", "fwd": f"torch.func.jacfwd({f})(x)",
            "jvp": f"torch.func.jvp({f}, (x,), (t,))[1]", "s": f"torch.sum(({body}) * w)",
            "grad": f"torch.func.grad(lambda x: torch.sum(({body}) * w))(x)"}


def outcome(fn):
    """fn's matrix, or the message of the JacError it raised."""
    try:
        return np.asarray(fn(), dtype=float)
    except JacError as e:
        return str(e)


def agree(a, b) -> bool:
    """One answer: both refuse, or the same numbers where both are finite and NaN at the same places but where
    one side's 0 · inf made a NaN the other knows to be 0."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    a, b = a.ravel(), b.ravel()
    finite = np.isfinite(a) & np.isfinite(b)
    same = np.isclose(a, b, rtol=1e-12, atol=0) | (a == b) | (np.isnan(a) & np.isnan(b))
    return a.size == b.size and bool(same[finite].all()) and bool((same | ~finite).all())


def first_order(kind: str, body: str, x: np.ndarray) -> dict:
    t = texts(kind, body)
    y = np.asarray(api.evaluate(t["f"], {"x": x}))
    m, n = max(y.size, 1), x.size
    rows, cols = np.eye(m), np.eye(n)
    return {
        "jacobian": outcome(lambda: api.jacobian(t["f"], {"x": x})["x"].reshape(m, n)),
        "vjp": outcome(lambda: np.stack([api.vjp(t["f"], {"x": x}, v=rows[i].reshape(y.shape))["x"]
                                         for i in range(m)])),
        "jvp": outcome(lambda: np.stack([np.ravel(api.jvp(t["f"], {"x": x}, {"x": cols[j]})) for j in range(n)], 1)),
        "batch": outcome(lambda: api.jacobian(t["f"], {"x": np.stack([x, GENERIC])}, batch=["x"])["x"][0]
                         .reshape(m, n)),
        "text rev": outcome(lambda: np.reshape(api.evaluate(t["rev"], {"x": x}), (m, n))),
        "text fwd": outcome(lambda: np.reshape(api.evaluate(t["fwd"], {"x": x}), (m, n))),
        "text jvp": outcome(lambda: np.stack([np.ravel(api.evaluate(t["jvp"], {"x": x, "t": cols[j]}))
                                              for j in range(n)], 1)),
    }


def second_order(kind: str, body: str, x: np.ndarray) -> dict:
    t = texts(kind, body)
    m = max(np.asarray(api.evaluate(t["f"], {"x": GENERIC})).size, 1)
    w = W[:m].reshape(np.shape(api.evaluate(t["f"], {"x": GENERIC})))
    return {"hessian": outcome(lambda: api.hessian(t["s"], {"x": x, "w": w}, wrt=["x"])[("x", "x")]),
            "jacobian of grad": outcome(lambda: api.jacobian(t["grad"], {"x": x, "w": w}, wrt=["x"])["x"])}


def _value_refused(kind, body, x) -> bool:
    try:
        api.evaluate(texts(kind, body)["f"], {"x": x})
    except JacError:
        return True
    return False


@pytest.mark.parametrize("kind, body", CASES, ids=[b for _, b in CASES])
def test_every_first_order_mode_gives_one_answer_at_the_special_points(kind, body):
    for point, values in POINTS.items():
        x = np.array(values)
        if _value_refused(kind, body, x):
            continue
        found = first_order(kind, body, x)
        for mode, got in found.items():
            assert agree(found["jacobian"], got), (point, mode, found["jacobian"], got)


@pytest.mark.parametrize("kind, body", CASES, ids=[b for _, b in CASES])
def test_the_hessian_is_the_jacobian_of_the_texts_gradient_at_the_special_points(kind, body):
    for point, values in POINTS.items():
        x = np.array(values)
        if _value_refused(kind, body, x):
            continue
        found = second_order(kind, body, x)
        assert agree(found["hessian"], found["jacobian of grad"]), (point, found)


def central(fn, x, h=1e-6):
    return np.stack([(np.ravel(fn(x + h * e)) - np.ravel(fn(x - h * e))) / (2 * h) for e in np.eye(x.size)], 1)


@pytest.mark.parametrize("kind, body", CASES, ids=[b for _, b in CASES])
def test_away_from_the_special_points_every_mode_is_central_differences(kind, body):
    t = texts(kind, body)
    found = first_order(kind, body, GENERIC)
    expected = central(lambda v: api.evaluate(t["f"], {"x": v}), GENERIC)
    for mode, got in found.items():
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=mode)
    m = expected.shape[0]
    w = W[:m].reshape(np.shape(api.evaluate(t["f"], {"x": GENERIC})))
    gradient = lambda v: api.jacobian(t["s"], {"x": v, "w": w}, wrt=["x"])["x"]  # noqa: E731
    hessian = second_order(kind, body, GENERIC)
    for mode, got in hessian.items():
        np.testing.assert_allclose(got, central(gradient, GENERIC), rtol=1e-5, atol=1e-6, err_msg=mode)


@pytest.mark.parametrize("body, alpha", [("F.elu(x)", 1.0), ("F.elu(x, 0.5)", 0.5), ("F.celu(x, 2.0)", 2.0),
                                         ("F.selu(x)", 1.6732632423543772), ("jax.nn.elu(x)", 1.0)])
def test_elu_second_derivative_at_0_is_pytorchs_0_and_alpha_exp_x_left_of_it(body, alpha):
    """The rule's exponent was minimum(x, 0), whose tie at 0 split the second derivative in half (alpha / 2);
    PyTorch's elu_double_backward takes x < 0: 0 at 0. Just left of 0 it is scale * alpha * exp(x) (celu:
    exp(x / alpha)), as central differences of the first derivative say."""
    x = np.array([0.0, -0.0, -0.3, 0.4])
    s = "jnp.sum(" + body + ")" if body.startswith("jax") else "torch.sum(" + body + ")"
    H = np.diag(api.hessian(s, {"x": x})[("x", "x")])
    assert H[0] == 0 and H[1] == 0 and H[3] == 0
    gradient = lambda v: api.jacobian(s, {"x": v})["x"]  # noqa: E731
    np.testing.assert_allclose(H[2], central(gradient, x)[2, 2], rtol=1e-6)


@pytest.mark.parametrize("body", ["lax.cummax(x)", "lax.cummin(x, reverse=True)", "jax.lax.cummax(x, 0)",
                                  "lax.associative_scan(jnp.maximum, x)"])
def test_lax_cummax_at_ties_is_refused_in_every_mode(body):
    """h30's case: JAX splits the cotangent between equal elements as its tree meets them; jac refuses there, and
    so does every mode (jac jvp answered, otherwise than jax.jvp, in h30's sweep)."""
    x = np.array([0.5, 0.5, 0.0, 1.0]) if "cummax" in body or "maximum" in body else np.array([0.0, 1.0, 1.0, 2.0])
    t = texts("jax", body)
    calls = [lambda: api.jacobian(t["f"], {"x": x}), lambda: api.jacobian(t["f"], {"x": x}, mode="forward"),
             lambda: api.vjp(t["f"], {"x": x}, v=np.ones(4)), lambda: api.jvp(t["f"], {"x": x}, {"x": np.ones(4)}),
             lambda: api.jacobian(t["f"], {"x": np.stack([x, GENERIC])}, batch=["x"]),
             lambda: api.hessian(t["s"], {"x": x, "w": W}, wrt=["x"]),
             lambda: api.evaluate(t["jvp"], {"x": x, "t": np.ones(4)}),
             lambda: api.evaluate(t["fwd"], {"x": x})]
    for call in calls:
        with pytest.raises(JacError, match="equal elements"):
            call()
    away = GENERIC if "cummax" in body or "maximum" in body else GENERIC[::-1].copy()
    np.testing.assert_allclose(api.jvp(t["f"], {"x": away}, {"x": np.ones(4)}),
                               api.jacobian(t["f"], {"x": away})["x"].sum(axis=1), rtol=1e-14)
