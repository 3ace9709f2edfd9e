"""Parity for session 30's probe of higher orders (benchmarks/orders30_sweep.py): names of sessions 15-29's
vocabulary (special functions, jax.lax cumulative reductions, pooling, linear algebra, polynomials, nan-functions)
through ``jac hessian`` (every pair of inputs: the mixed partials), ``jac jvp``, ``--batch`` (one input batched,
the other shared) and ``jac derivative --order 3``, against JAX (``jax.hessian``, ``jax.jvp``, ``jax.vmap`` of
``jax.jacrev``, ``jacfwd(jacfwd(jacrev))``) and PyTorch (``torch.func``), at random points and at ties and
zeros. The silent wrong answers the probe found (SciPy-only names) are tests/test_orders30.py's."""

import ast

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(3030)
_G = rng.uniform(-1, 1, (3, 3))
RAND = {"x": rng.uniform(0.2, 0.9, 4), "y": rng.uniform(0.2, 0.9, 4), "A": _G @ _G.T + np.eye(3),
        "X3": rng.uniform(-1, 1, (1, 2, 6)), "X4": rng.uniform(-1, 1, (1, 2, 4, 4))}
TIES = {"x": np.array([0.5, 0.5, 0.0, 1.0]), "y": np.array([1.0, 0.5, 0.5, 0.5]), "A": np.full((3, 3), 0.5) + np.eye(3),
        "X3": np.array([[[0.5, 0.5, 0.0, 0.0, 1.0, -1.0], [0.0, 0.0, 0.0, 0.5, 0.5, 0.5]]]),
        "X4": np.round(RAND["X4"] * 2) / 2}
POINTS = {"rand": RAND, "ties": TIES}

# xlogy / xlog1py at x == 0 (ties): the mixed second derivative 1 / y, which jac gave as 0 before session 30
JAX = ["jax.scipy.special.gammaln(x + 1.0)", "jax.scipy.special.polygamma(1, x + 0.5)",
       "jax.scipy.special.xlogy(x, y)", "jax.scipy.special.xlog1py(x, y)", "jax.scipy.special.i1e(x)",
       "jax.scipy.special.ndtri(x * 0.9 + 0.05)", "jax.lax.cumlogsumexp(x)", "jax.lax.cumprod(x * y)",
       "jax.nn.standardize(x)", "jnp.polyval(x, y)", "jnp.nanstd(x)", "jnp.linalg.slogdet(A)[1]"]
TORCH = ["F.lp_pool1d(X3 + 2.0, 2.0, 2)", "F.max_pool2d(X4, 2)", "torch.linalg.inv(A)", "torch.special.xlogy(x, y)",
         "torch.special.xlog1py(x, y)", "F.cosine_similarity(x, y, 0)", "torch.special.multigammaln(x + 2.0, 2)",
         "F.interpolate(X3, scale_factor=2.0, mode='linear')"]


def names_of(text: str) -> list:
    used = {node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)}
    return [n for n in ("x", "y", "A", "X3", "X4") if n in used]


def inputs(text: str, point: str) -> tuple:
    names = names_of(text)
    values = [np.array(POINTS[point][n], dtype=float) for n in names]
    tangents = [np.linspace(0.3, -0.7, v.size).reshape(v.shape) for v in values]
    batched = np.stack([values[0], values[0] * 0.9 + 0.05, RAND[names[0]]])
    return names, values, tangents, batched


def jax_references(text: str, names: list, values: list, tangents: list, batched) -> dict:
    """hessian blocks, jvp, batched Jacobians and the third derivative by the first input, run by JAX."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.special  # noqa: F401

    def f(*args):
        return eval(text, {"jax": jax, "jnp": jnp, **dict(zip(names, args))})  # noqa: S307 - the test's own text

    n = len(values)
    args = [jnp.asarray(v) for v in values]
    H = jax.hessian(f, argnums=tuple(range(n)))(*args)
    J = jax.vmap(jax.jacrev(f, argnums=tuple(range(n))), in_axes=(0,) + (None,) * (n - 1))(jnp.asarray(batched),
                                                                                           *args[1:])
    return {"hessian": {(i, j): np.asarray(H[i][j]) for i in range(n) for j in range(n)},
            "jvp": np.asarray(jax.jvp(f, tuple(args), tuple(jnp.asarray(t) for t in tangents))[1]),
            "batch": {i: np.asarray(J[i]) for i in range(n)},
            "order3": np.asarray(jax.jacfwd(jax.jacfwd(jax.jacrev(f)))(*args))}


def torch_references(torch, text: str, names: list, values: list, tangents: list, batched) -> dict:
    from torch.func import jacfwd, jacrev, jvp, vmap

    F = torch.nn.functional

    def f(*args):
        return eval(text, {"torch": torch, "F": F, **dict(zip(names, args))})  # noqa: S307 - the test's own text

    n = len(values)
    args = [torch.tensor(v) for v in values]
    J = vmap(jacrev(f, argnums=tuple(range(n))), in_dims=(0,) + (None,) * (n - 1))(torch.tensor(batched), *args[1:])
    return {"hessian": {(i, j): jacfwd(jacrev(f, argnums=i), argnums=j)(*args).numpy()
                        for i in range(n) for j in range(n)},
            "jvp": jvp(f, tuple(args), tuple(torch.tensor(t) for t in tangents))[1].numpy(),
            "batch": {i: J[i].numpy() for i in range(n)},
            "order3": jacfwd(jacfwd(jacrev(f)))(*args).numpy()}


def assert_orders_agree(text: str, names: list, values: list, tangents: list, batched, ref: dict) -> None:
    env = dict(zip(names, values))
    H = api.hessian(text, env)
    for (i, j), block in ref["hessian"].items():
        np.testing.assert_allclose(H[(names[i], names[j])], block, rtol=1e-9, atol=1e-11, err_msg=f"hessian {i},{j}")
    np.testing.assert_allclose(api.jvp(text, env, dict(zip(names, tangents))), ref["jvp"], rtol=1e-9, atol=1e-11,
                               err_msg="jvp")
    J = api.jacobian(text, {**env, names[0]: batched}, batch=[names[0]])
    for i, block in ref["batch"].items():
        np.testing.assert_allclose(J[names[i]], block, rtol=1e-9, atol=1e-11, err_msg=f"batch {i}")
    np.testing.assert_allclose(api.derivative(text, env, order=3, wrt=[names[0]]), ref["order3"], rtol=1e-8,
                               atol=1e-10, err_msg="order 3")


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("text", JAX)
def test_higher_orders_and_batches_agree_with_jax(jax_process, text, point):  # noqa: F811
    names, values, tangents, batched = inputs(text, point)
    ref = jax_process.submit(jax_references, text, names, values, tangents, batched).result()
    assert_orders_agree(text, names, values, tangents, batched, ref)


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("text", TORCH)
def test_higher_orders_and_batches_agree_with_pytorch(torch64, text, point):  # noqa: F811
    names, values, tangents, batched = inputs(text, point)
    ref = torch_references(torch64, text, names, values, tangents, batched)
    assert_orders_agree(text, names, values, tangents, batched, ref)
