"""The non-smooth functions' derivatives at their special points against PyTorch and JAX (session 31).

A PyTorch text's Jacobian and Hessian are PyTorch's (``torch.autograd.functional``) at ties, zeros, bounds, NaN and
inf, in every mode of jac; ``jax.lax``'s kinked primitives (``clamp``, ``max``, ``min``, ``abs``) are JAX's
(``jax.jacrev`` and ``jax.jacfwd``, which agree there), while ``jnp``'s follow PyTorch's choice as documented.
"""
import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from jax import lax  # noqa: E402

NAN, INF = math.nan, math.inf
POINTS = {
    "zeros": [0.0, 0.0, 0.0, 0.0], "signed0": [0.0, -0.0, 1.0, -1.0], "tie_all": [0.5, 0.5, 0.5, 0.5],
    "tie_pair": [0.5, -0.5, 0.5, -0.5], "tie_adj": [0.5, 0.5, 0.0, 1.0], "bounds": [0.5, -0.5, 1.0, -1.0],
    "bounds6": [6.0, 3.0, -3.0, 0.0], "nan": [NAN, 0.5, 1.0, 0.0], "inf": [INF, 0.5, -INF, 0.0],
}
W = np.array([0.7, -1.3, 0.4, 2.1])
TORCH = ["torch.abs(x)", "torch.relu(x)", "F.relu6(x)", "F.hardtanh(x)", "F.leaky_relu(x, 0.1)", "F.elu(x)",
         "F.elu(x, 0.5)", "F.celu(x, 2.0)", "F.selu(x)", "torch.clamp(x, -0.5, 0.5)", "torch.clamp(x, min=0.0)",
         "F.softshrink(x, 0.5)", "torch.maximum(x[:2], x[2:])", "torch.minimum(x[:2], x[2:])",
         "torch.fmax(x[:2], x[2:])", "torch.amax(x)", "torch.max(x.reshape(2, 2), 1).values",
         "torch.sort(x).values", "torch.topk(x, 2).values", "torch.median(x)", "torch.kthvalue(x, 2).values",
         "torch.quantile(x, 0.3)", "torch.cummax(x, 0).values", "torch.cummin(x, 0).values",
         "torch.linalg.vector_norm(x, 1)", "torch.prod(x)",
         "F.max_pool1d(x.reshape(1, 1, 4), 2).reshape(2)", "torch.remainder(x, 0.5)"]
LAX = ["lax.clamp(-0.5, x, 0.5)", "lax.clamp(0.0, x, 1.0)", "lax.max(x[:2], x[2:])", "lax.min(x[:2], x[2:])",
       "lax.abs(x)", "lax.max(x, 0.5)", "lax.clamp(x[:2], x[2:], x[:2] + 1.0)", "lax.clamp(x[:2] - 1.0, x[2:], x[:2])"]


def same(jac, ref) -> bool:
    """Equal numbers, NaN at the same places."""
    jac, ref = np.ravel(jac), np.ravel(ref)
    return jac.size == ref.size and bool((np.isclose(jac, ref, rtol=1e-7, atol=1e-12) | (jac == ref)
                                         | (np.isnan(jac) & np.isnan(ref))).all())


def jac_first_order(body: str, x: np.ndarray) -> dict:
    """jac's Jacobian by each mode, as (m, n) matrices."""
    y = np.asarray(api.evaluate(body, {"x": x}))
    m, n = max(y.size, 1), x.size
    return {
        "jacobian": api.jacobian(body, {"x": x})["x"].reshape(m, n),
        "forward": api.jacobian(body, {"x": x}, mode="forward")["x"].reshape(m, n),
        "vjp": np.stack([api.vjp(body, {"x": x}, v=row.reshape(y.shape))["x"] for row in np.eye(m)]),
        "jvp": np.stack([np.ravel(api.jvp(body, {"x": x}, {"x": col})) for col in np.eye(n)], 1),
    }


@pytest.mark.parametrize("body", TORCH)
def test_pytorch_texts_are_pytorchs_derivatives_at_the_special_points(body):
    fn = eval(f"lambda x: {body}", {"torch": torch, "F": F})
    for point, values in POINTS.items():
        x = np.array(values)
        xt = torch.tensor(x, dtype=torch.float64)
        ref = torch.autograd.functional.jacobian(fn, xt).numpy()
        m = max(ref.size // x.size, 1)
        ref = ref.reshape(m, x.size)
        try:
            found = jac_first_order(body, x)
        except JacError:  # topk / kthvalue at ties: PyTorch's pick follows its kernel (documented); every mode
            with pytest.raises(JacError):  # refuses, the first one's refusal says so
                api.jvp(body, {"x": x}, {"x": np.ones(x.size)})
            continue
        # the Jacobian is PyTorch's; a product with a basis vector may hold NaN where PyTorch's 0 * inf does
        assert same(found["jacobian"], ref), (point, found["jacobian"], ref)
        for mode, got in found.items():
            finite = np.isfinite(got) & np.isfinite(ref)
            assert same(got[finite], ref[finite]), (point, mode, got, ref)
        if point in ("nan", "inf"):
            continue
        w = torch.tensor(W[:m])
        ref_h = torch.autograd.functional.hessian(lambda v: torch.sum(fn(v).reshape(-1) * w), xt).numpy()
        h = api.hessian(f"torch.sum(({body}).reshape(-1) * w)", {"x": x, "w": W[:m]}, wrt=["x"])[("x", "x")]
        assert same(h, ref_h), (point, h, ref_h)


@pytest.mark.parametrize("body", LAX)
def test_lax_primitives_are_jaxs_derivatives_at_the_special_points(body):
    fn = eval(f"lambda x: {body}", {"jax": jax, "jnp": jnp, "lax": lax})
    for point, values in POINTS.items():
        x = np.array(values)
        rev = np.asarray(jax.jacrev(fn)(jnp.asarray(x)))
        fwd = np.asarray(jax.jacfwd(fn)(jnp.asarray(x)))
        assert same(rev, fwd)
        np.testing.assert_array_equal(api.evaluate(body, {"x": x}), np.asarray(fn(jnp.asarray(x))))
        ref = rev.reshape(-1, x.size)
        for mode, got in jac_first_order(body, x).items():
            finite = np.isfinite(got) & np.isfinite(ref)
            assert same(got[finite], ref[finite]) and same(np.isnan(got), np.isnan(ref)) or mode in ("vjp", "jvp"), \
                (point, mode, got, ref)
        text = f"jax.jacfwd(lambda x: {body})(x)"
        assert same(api.evaluate(text, {"x": x}), rev), point


@pytest.mark.parametrize("body", ["jnp.clip(x, -0.5, 0.5)", "jnp.maximum(x[:2], x[2:])", "jnp.abs(x)"])
def test_jnp_spellings_keep_pytorchs_choice_where_the_lax_primitive_is_jaxs(body):
    """The documented policy: jnp's kinks are PyTorch's (the derivative to x at a bound, 1 to both at NaN, 0 at 0);
    the lax primitive of the same name gives JAX's."""
    x = np.array(POINTS["bounds"] if "clip" in body else POINTS["nan"] if "maximum" in body else POINTS["signed0"])
    torch_body = body.replace("jnp.clip", "torch.clamp").replace("jnp.", "torch.")
    fn = eval(f"lambda x: {torch_body}", {"torch": torch})
    ref = torch.autograd.functional.jacobian(fn, torch.tensor(x, dtype=torch.float64)).numpy()
    assert same(api.jacobian(body, {"x": x})["x"], ref)
    lax_body = body.replace("jnp.clip(x, -0.5, 0.5)", "lax.clamp(-0.5, x, 0.5)").replace("jnp.maximum", "lax.max") \
        .replace("jnp.abs", "lax.abs")
    assert not same(api.jacobian(lax_body, {"x": x})["x"], ref)
