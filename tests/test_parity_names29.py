"""Parity of what session 29 read (lang/names29.py) with JAX and PyTorch themselves: each text run by JAX (float64,
in a process of its own: test_jax16's ``jax_process``) or PyTorch, jac's value, Jacobians and a VJP equal to
``jax.jacrev`` / ``torch.autograd.functional.jacobian`` of the same text; skipped without jax / torch."""

import numpy as np
import pytest

from test_jax16 import _jax, assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2929)
X6 = rng.standard_normal(6)
A34 = rng.standard_normal((3, 4))
T234 = rng.standard_normal((2, 3, 4))
HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"

TEXTS = [
    (HEAD + "lax.cummax(x)", {"x": X6}),
    (HEAD + "lax.cummin(x, axis=1)", {"x": A34}),
    (HEAD + "lax.cummax(x, axis=2, reverse=True) * x", {"x": T234}),
    (HEAD + "lax.cummin(x, 0, True)", {"x": A34}),
    (HEAD + "lax.approx_max_k(x, 3)[0]", {"x": X6}),
    (HEAD + "lax.approx_min_k(x, 2)[0] ** 2", {"x": A34}),
    (HEAD + "lax.approx_max_k(x, 2, reduction_dimension=0, recall_target=0.5)[0]", {"x": A34}),
    (HEAD + "lax.approx_min_k(x, 3, reduction_dimension=1)[0]", {"x": T234}),
    (HEAD + "lax.approx_max_k(x, 3)[1] * x[:3]", {"x": np.array([0.3, 0.1, 0.3, 0.1, 0.2])}),
    (HEAD + "lax.approx_min_k(x, 3)[1] * x[:3]", {"x": np.array([0.3, 0.1, 0.3, 0.1, 0.2])}),
    (HEAD + "lax.reduce_xor(x > 0, (1,)) * x[:, 0]", {"x": A34}),
    (HEAD + "lax.reduce_xor(jnp.array([[3, 5, 12], [-7, 9, 1]], dtype=jnp.int32), (1,)) * x", {"x": X6[:2]}),
    (HEAD + "lax.reduce_xor(jnp.array([[3, 5], [12, 9]], dtype=jnp.uint8), (0, 1)) * x", {"x": X6[:2]}),
    (HEAD + "lax.broadcast_like(x, jnp.zeros((3, 4))) * y", {"x": A34[0], "y": A34}),
    (HEAD + "lax.broadcast_like(x[:, None], y) ** 2", {"x": A34[:, 0], "y": A34}),
    (HEAD + "jnp.where(jnp.iscomplex(x), 0.0, x) * jnp.isdtype(x.dtype, 'real floating')", {"x": X6}),
    (HEAD + "x * jnp.issubdtype(x.dtype, jnp.float64) + jnp.isdtype(jnp.int32, ('integral', 'bool'))", {"x": X6}),
]


@pytest.mark.parametrize("code, inputs", TEXTS, ids=[t[0][len(HEAD):][:60] for t in TEXTS])
def test_agrees_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, code, inputs)


RAGGED = [
    ([2, 0, 3], {"a": rng.standard_normal((6, 3)), "w": rng.standard_normal((3, 3, 2))}),
    ([1, 3], {"a": rng.standard_normal((4, 2)), "w": rng.standard_normal((2, 2, 3))}),
    ([0, 0], {"a": rng.standard_normal((2, 2)), "w": rng.standard_normal((2, 2, 3))}),
]


def jax_ragged_dot(sizes: list, inputs: dict) -> dict:
    """lax.ragged_dot's value and its Jacobians by a and w, one jax.vjp per output element (JAX's jacrev of
    ragged_dot vmaps it over an axis it has not implemented)."""
    jax = _jax()
    jnp = jax.numpy
    a, w = jnp.asarray(inputs["a"]), jnp.asarray(inputs["w"])
    out, pull = jax.vjp(lambda a, w: jax.lax.ragged_dot(a, w, jnp.array(sizes, dtype=jnp.int32)), a, w)
    ja, jw = np.zeros(out.shape + a.shape), np.zeros(out.shape + w.shape)
    for i in np.ndindex(out.shape):
        ga, gw = pull(jnp.zeros(out.shape).at[i].set(1.0))
        ja[i], jw[i] = np.asarray(ga), np.asarray(gw)
    return {"value": np.asarray(out), "a": ja, "w": jw}


@pytest.mark.parametrize("sizes, inputs", RAGGED, ids=[str(s) for s, _ in RAGGED])
def test_ragged_dot_agrees_with_jax(jax_process, sizes, inputs):
    from jacobi_cli.tools import api

    theirs = jax_process.submit(jax_ragged_dot, sizes, inputs).result()
    code = HEAD + f"lax.ragged_dot(a, w, jnp.array({sizes}, dtype=jnp.int32))"
    np.testing.assert_allclose(api.evaluate(code, inputs), theirs["value"], rtol=1e-12, atol=1e-14)
    ours = api.jacobian(code, inputs)
    for k in ("a", "w"):
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, atol=1e-14, err_msg=k)


def jax_refuses_a_negative_cummax_axis() -> str:
    jax = _jax()
    try:
        jax.lax.cummax(jax.numpy.ones((2, 3)), axis=-1)
        return "no error"
    except ValueError as e:
        return str(e)


def test_jax_refuses_the_negative_axis_jac_refuses(jax_process):
    assert "negative" in jax_process.submit(jax_refuses_a_negative_cummax_axis).result()


TORCH_HEAD = "import torch\nimport torch.nn.functional as F\n"
TORCH_TEXTS = [
    ("F.linear_cross_entropy(x, w, torch.tensor([0, 4, -100, 2]))",
     {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((5, 3))}),
    ("F.linear_cross_entropy(x, w, torch.tensor([0, 4, 1, 2]), linear_bias=b, reduction='sum', "
     "label_smoothing=0.1)", {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((5, 3)),
                              "b": rng.standard_normal(5)}),
    ("F.linear_cross_entropy(x, w, torch.tensor(3), weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0]))",
     {"x": rng.standard_normal(3), "w": rng.standard_normal((5, 3))}),
    ("F.linear_cross_entropy(x, w, torch.tensor([1, 1, 2, 0]), ignore_index=1, reduction='none')",
     {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((3, 3))}),
    ("F.linear_cross_entropy(x, w, torch.softmax(t, 1))",
     {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((5, 3)), "t": rng.standard_normal((4, 5))}),
    ("x * torch.is_complex(x) + x * (not torch.is_conj(x)) + torch.is_neg(x)", {"x": X6}),
    ("torch.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, torch.sin(v) * w + v), (torch.tensor(0), x))[1]",
     {"x": X6, "w": rng.standard_normal(6)}),
    ("torch.while_loop(lambda i, a, c: i < 2, lambda i, a, c: (i + 1, a @ c, torch.tanh(c)), "
     "(torch.tensor(0), x, y))[1]", {"x": A34[:, :3], "y": rng.standard_normal((3, 3))}),
]


@pytest.mark.parametrize("code, inputs", TORCH_TEXTS, ids=[t[0][:60] for t in TORCH_TEXTS])
def test_agrees_with_pytorch(torch64, code, inputs):
    assert_agrees_with_pytorch(torch64, TORCH_HEAD + code, inputs)


SOLVES = [  # JAX's reverse mode needs transpose_solve, or symmetric=True of a symmetric matrix
    HEAD + "lax.custom_linear_solve(lambda v: (a @ v) * t[0], t[1:], lambda mv, r: jnp.linalg.solve(a * t[0], r), "
           "transpose_solve=lambda vm, r: jnp.linalg.solve((a * t[0]).T, r))",
    HEAD + "lax.custom_linear_solve(lambda v: (a + a.T) @ v + t[0] * v, t[1:], "
           "lambda mv, r: jnp.linalg.solve(a + a.T + t[0] * jnp.eye(2), r), symmetric=True)",
    HEAD + "def solve(mv, r):\n    return jnp.linalg.solve(jax.jacfwd(mv)(r), r)\n"
           "def tsolve(vm, r):\n    return jnp.linalg.solve(jax.jacfwd(vm)(r), r)\n"
           "lax.custom_linear_solve(lambda v: jnp.tanh(a) @ v * t[0], t[1:], solve, transpose_solve=tsolve)",
]


def jax_hessian(code: str, inputs: dict) -> np.ndarray:
    """JAX's Hessian by t of the sum of squares of the snippet's value."""
    jax = _jax()
    jnp = jax.numpy
    lines = code.splitlines()

    def f(t):
        scope = {"jax": jax, "jnp": jnp, "lax": jax.lax, "a": jnp.asarray(inputs["a"]), "t": t}
        exec("\n".join(lines[:-1]), scope)
        return jnp.sum(eval(lines[-1], scope) ** 2)

    return np.asarray(jax.hessian(f)(jnp.asarray(inputs["t"])))


@pytest.mark.parametrize("code", SOLVES, ids=range(len(SOLVES)))
def test_custom_linear_solve_agrees_with_jax_to_the_second_order(jax_process, code):
    from jacobi_cli.tools import api

    inputs = {"t": np.array([1.5, 0.3, -0.7]), "a": np.array([[2.0, 1.0], [0.5, 3.0]])}
    assert_agrees_with_jax(jax_process, code, inputs)
    theirs = jax_process.submit(jax_hessian, code, inputs).result()
    lines = code.splitlines()
    summed = "\n".join(lines[:-1] + [f"jnp.sum({lines[-1]} ** 2)"])
    ours = api.hessian(summed, inputs, wrt=["t"])
    np.testing.assert_allclose(np.asarray(ours[("t", "t")]), theirs, rtol=1e-10, atol=1e-12)


def _pool_cases():
    r = np.random.default_rng(29029)
    for trial in range(12):
        dims = 2 if trial < 8 else 3
        batched = trial % 2 == 0
        sizes = tuple(int(v) for v in r.integers(4, 9, dims))
        kernel = tuple(int(v) for v in r.integers(1, 4, dims))
        out = tuple(int(r.integers(1, size - k + (1 if dims == 3 else 2))) for size, k in zip(sizes, kernel))
        x = r.standard_normal(((2,) if batched else ()) + (3,) + sizes)
        if trial % 3 == 0:
            x = np.round(x)  # ties: the first of equal maxima, in both
        s = r.uniform(size=(2 if batched else 1, 3, dims))
        yield dims, kernel, out, x, s


POOLS = list(_pool_cases())


@pytest.mark.parametrize("dims, kernel, out, x, s", POOLS, ids=[f"{p[0]}d-{p[1]}-{p[2]}" for p in POOLS])
def test_fractional_max_pool_agrees_with_pytorch(torch64, dims, kernel, out, x, s):
    from jacobi_cli.tools import api

    code = f"F.fractional_max_pool{dims}d(x, {kernel}, output_size={out}, _random_samples=torch.tensor({s.tolist()}))"
    assert_agrees_with_pytorch(torch64, TORCH_HEAD + code, {"x": x})
    F = pytest.importorskip("torch.nn.functional")
    _, theirs = getattr(F, f"fractional_max_pool{dims}d")(torch64.tensor(x), kernel, output_size=out,
                                                           return_indices=True, _random_samples=torch64.tensor(s))
    ours = api.evaluate(TORCH_HEAD + code.replace("output_size", "return_indices=True, output_size") + "[1]",
                        {"x": x})
    np.testing.assert_array_equal(ours, theirs.numpy())


def test_fractional_max_pool3d_refuses_what_pytorch_refuses():
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    with pytest.raises(JacError, match="less than"):
        api.evaluate(TORCH_HEAD + "F.fractional_max_pool3d(x, 2, output_size=4, _random_samples=torch.zeros(1, 2, 3))",
                     {"x": np.ones((1, 2, 5, 5, 5))})
