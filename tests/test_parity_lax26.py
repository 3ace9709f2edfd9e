"""Parity of jax.lax's and jax.nn's names read since session 26 (lang/laxnames.py): each text run by JAX itself
(float64, in a process of its own: test_jax16's ``jax_process``; skipped without jax), jac's value, Jacobians
and a VJP equal to JAX's value and ``jax.jacrev`` of the same text. The edge values are here: starts past either
end, negative and interior padding, ties and NaN for the sorts, halves for round, integers for div."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2626)
X5, Y5 = rng.standard_normal(5), rng.standard_normal(5)
A34, B34 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
T234 = rng.standard_normal((2, 3, 4))
TIES = np.array([1.0, 3.0, np.nan, 3.0, -np.inf, 1.0, 0.0, -0.0])
HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, 3.2])

TEXTS = [
    ("jax.lax.dynamic_slice(x, (-1, 9), (2, 2))", {"x": A34}),
    ("jax.lax.dynamic_slice(x, (-7, -2), (3, 1))", {"x": A34}),
    ("jax.lax.dynamic_slice(x, (1, 3), (2, 2), allow_negative_indices=False)", {"x": A34}),
    ("jax.lax.dynamic_slice_in_dim(x, -2, 3, 1)", {"x": A34}),
    ("jax.lax.dynamic_index_in_dim(x, 7, 1, False)", {"x": A34}),
    ("jax.lax.dynamic_update_slice(x, u, (5, -1))", {"x": A34, "u": B34[:2, :3]}),
    ("jax.lax.dynamic_update_slice_in_dim(x, u, -3, 1)", {"x": A34, "u": B34[:, :2]}),
    ("jax.lax.dynamic_update_index_in_dim(x, u, 9, 0)", {"x": A34, "u": X5[:4]}),
    ("jax.lax.slice(x, (0, 1), (3, 4), (2, 2))", {"x": A34}),
    ("jax.lax.slice_in_dim(x, -3, None, 2, 1)", {"x": A34}),
    ("jax.lax.index_in_dim(x, -1, 1, False)", {"x": A34}),
    ("jax.lax.pad(x, 0.0, [(-1, 2, 1)])", {"x": X5}),
    ("jax.lax.pad(x, -1.5, [(2, -3, 2), (-1, 1, 0)])", {"x": A34}),
    ("jax.lax.pad(x, jnp.inf, ((0, 0, 3),))", {"x": X5}),
    ("jax.lax.rev(x, (0, 2))", {"x": T234}),
    ("jax.lax.expand_dims(x, (0, 3))", {"x": A34}),
    ("jax.lax.squeeze(x, (0, 2))", {"x": X5.reshape(1, 5, 1)}),
    ("jax.lax.broadcast(x, (2, 1))", {"x": X5}),
    ("jax.lax.broadcast_in_dim(x, (3, 2, 4), (0, 2))", {"x": A34}),
    ("jax.lax.broadcast_in_dim(x, (2, 5, 3), (1,))", {"x": X5}),
    ("jax.lax.broadcast_to_rank(x, 4)", {"x": A34}),
    ("jax.lax.collapse(x, 1)", {"x": T234}),
    ("jax.lax.tile(x, (2, 1))", {"x": A34}),
    ("jax.lax.reduce_prod(x, (0, 2))", {"x": T234}),
    ("jax.lax.reduce_prod(x, (0,))", {"x": np.array([0.0, 2.0, 0.0, -1.0])}),
    ("jax.lax.eq(x, y) * x + jax.lax.ge(x, y) * y", {"x": TIES, "y": TIES[::-1].copy()}),
    ("jax.lax.round(h) * x", {"h": HALVES, "x": HALVES * 0 + 1.5}),
    ("jax.lax.round(h, 1) * x", {"h": HALVES, "x": HALVES * 0 + 1.5}),
    ("jax.lax.round(x * 3.0)", {"x": X5}),
    ("jax.lax.div(x, y)", {"x": X5, "y": Y5}),
    ("jax.lax.div(jnp.array([-7, 7, -6, 5, 0]), jnp.array([2, -2, 4, 5, 3])) * x", {"x": X5}),
    ("jax.lax.select_n(jnp.array([2, 0, 1, 1, 0]), x, y, x * y)", {"x": X5, "y": Y5}),
    ("jax.lax.select_n(x > 0, x, y)", {"x": X5, "y": Y5}),
    ("jax.lax.select_n(jnp.array([0, 0, 0, 0, 0]), x)", {"x": X5}),
    ("jax.lax.sort(x)", {"x": TIES}),
    ("jax.lax.sort(x, 0)", {"x": A34}),
    ("jax.lax.sort((x, y), num_keys=1)[1]", {"x": TIES, "y": np.arange(8.0) * 1.5}),
    ("jax.lax.sort((jnp.round(x), y, x), 1, num_keys=2)[2]", {"x": A34, "y": B34}),
    ("jax.lax.sort_key_val(x, y)[1]", {"x": TIES, "y": np.arange(8.0) * 1.5}),
    ("jax.lax.top_k(x, 5)[0]", {"x": TIES}),
    ("jax.lax.top_k(x, 5)[1] * 1.0", {"x": TIES}),
    ("jax.lax.top_k(x, 2)[0]", {"x": A34}),
    ("jax.lax.argmax(x, 0, jnp.int32) * 1.0", {"x": TIES}),
    ("jax.lax.argmin(x, 1, jnp.int32) * 1.0", {"x": A34}),
    ("jax.lax.cumlogsumexp(x, 1)", {"x": A34}),
    ("jax.lax.cumlogsumexp(x, 0, reverse=True)", {"x": A34}),
    ("jax.lax.dot_general(x, y, (((1,), (1,)), ((), ())))", {"x": A34, "y": B34}),
    ("jax.lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,))))", {"x": T234, "y": rng.standard_normal((2, 4, 3))}),
    ("jax.lax.dot_general(x, y, (((0,), (1,)), ((2,), (2,))))", {"x": T234, "y": rng.standard_normal((3, 2, 4))}),
    ("jax.lax.unstack(x, 1)[2] * jax.lax.split(x, (1, 2), 0)[1][0][0]", {"x": A34}),
    ("jax.lax.stack([x, y], 1)", {"x": X5, "y": Y5}),
    ("jax.lax.full_like(x, 2.5) * x", {"x": X5}),
    ("jax.lax.optimization_barrier(x) ** 2", {"x": X5}),
    ("jax.nn.log1mexp(x)", {"x": np.array([1e-8, 0.3, np.log(2.0), 0.7, 5.0, 40.0])}),
    ("jax.nn.logmeanexp(x)", {"x": A34}),
    ("jax.nn.logmeanexp(x, axis=-1, keepdims=True)", {"x": A34}),
    ("jax.nn.identity(x) * x", {"x": X5}),
    ("jax.lax.igamma(1.5, x) + jax.lax.igammac(0.5, x)", {"x": np.abs(X5) + 0.1}),
    ("jax.lax.polygamma(1.0, x) + jax.lax.polygamma(2.0, x)", {"x": np.abs(X5) + 0.1}),
    ("jax.lax.bessel_i0e(x) * jax.lax.bessel_i1e(x)", {"x": X5}),
    ("jax.lax.convert_element_type(x * 3.0, jnp.int32) * x", {"x": X5}),
    ("jax.lax.iota(jnp.int32, 5) * x + jax.lax.broadcasted_iota(jnp.float64, (2, 5), 0)", {"x": X5}),
    # jax.scipy.special's gamma family, away from the poles (there JAX's jacrev spreads NaN off the diagonal)
    ("jax.scipy.special.gamma(x)", {"x": np.array([-2.5, -1.5, -0.3, 0.3, 1.0, 2.5, 7.9, 30.0, 171.5])}),
    ("jax.scipy.special.gammasgn(x) * x", {"x": np.array([-2.5, -1.5, -0.3, 0.3, -0.0, 0.0, 7.0])}),
    ("jax.scipy.special.loggamma(x)", {"x": np.array([-2.5, -1.5, 0.3, 1.0, 2.5, 1e6])}),
    ("jax.scipy.special.factorial(x)", {"x": np.array([-2.5, -0.5, 0.0, 0.3, 4.0, 30.0, 170.0])}),
    ("jax.scipy.special.betaln(a, b)", {"a": np.array([0.5, 2.0, 9.0, 20.0, 1e4, 0.2, 50.0, 7.5]),
                                        "b": np.array([1.5, 3.0, 9.0, 8.5, 3.0, 1e6, 60.0, 8.0])}),
    ("jax.scipy.special.beta(a, b)", {"a": np.array([0.5, 2.0, -1.5, 3.0, 9.0, 0.2, 12.0]),
                                      "b": np.array([1.5, 3.0, 2.0, -0.5, 9.0, 30.0, 1.5])}),
]


@pytest.mark.parametrize("code, inputs", TEXTS, ids=[t[0][:60] for t in TEXTS])
def test_agrees_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, code, inputs)


@pytest.mark.parametrize("call", ["torch.range(0, 3)", "torch.range(1, 4, 0.5)", "torch.range(3, 0, -1)",
                                  "torch.range(0, 1, 0.3)", "torch.range(-2.5, 2.5, 1.25)", "torch.range(2, 2)",
                                  "torch.range(0.1, 0.7, 0.2)"])
def test_torch_range_is_pytorchs(call):
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.range is deprecated
        want = eval(call, {"torch": torch}).double().numpy()
    np.testing.assert_allclose(api.evaluate(call + " * x", {"x": np.array(1.0)}), want, rtol=1e-6, atol=1e-7)
