"""Parity of what session 30 read with JAX and PyTorch themselves: each text run by JAX (float64, in a process of its
own: test_jax16's ``jax_process``) or PyTorch, jac's value, Jacobians and a VJP equal to ``jax.jacrev`` /
``torch.autograd.functional.jacobian`` of the same text; ``jax.lax.custom_root``'s second and third derivatives
against ``jax.hessian`` / nested ``jax.jacfwd``; skipped without jax / torch."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import _jax, assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(3030)
HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
REPEATS = np.array([3.0, 1.0, 2.0, 2.0, 1.0, -0.5])
M23 = np.array([[0.5, -1.0, 0.5], [2.0, -1.0, 4.0]])
W = 0.4 * rng.standard_normal((3, 3))
P3 = rng.standard_normal(3)

NEWTON = """def newton(f, x0):
    x = x0
    for _ in range(30):
        x = x - f(x) / jax.grad(f)(x)
    return x
"""
NEWTON_VEC = """def newton(f, x0):
    x = x0
    for _ in range(20):
        x = x - jnp.linalg.solve(jax.jacobian(f)(x), f(x))
    return x
"""
ROOTS = [
    (HEAD + NEWTON + "lax.custom_root(lambda x: x ** 3 - a * x - 1.0, 1.5, newton, lambda g, y: y / g(1.0))",
     {"a": np.array(2.0)}),
    (HEAD + NEWTON + "jax.lax.custom_root(lambda x: jnp.cos(x) - a * x, 0.5, newton, lambda g, y: y / g(1.0)) * a",
     {"a": np.array(1.3)}),
    (HEAD + NEWTON_VEC + "lax.custom_root(lambda x: jnp.tanh(W @ x) + x - p, jnp.zeros(3), newton, "
                         "lambda g, y: jnp.linalg.solve(jax.jacobian(g)(y), y))", {"W": W, "p": P3}),
    (HEAD + NEWTON_VEC + "lax.custom_root(f=lambda x: x ** 3 + x - p, initial_guess=jnp.ones(3), solve=newton, "
                         "tangent_solve=lambda g, y: jnp.linalg.solve(jax.jacobian(g)(y), y)) ** 2", {"p": P3}),
    # a solve that stops at the guess (no root): JAX's derivative at that point, which jac's equals
    (HEAD + "lax.custom_root(lambda x: x ** 2 - a, 1.0, lambda f, x0: x0, lambda g, y: y / g(1.0))",
     {"a": np.array(2.0)}),
]

SETS = [
    (HEAD + "jnp.unique(x, size=8, fill_value=0.0)", {"x": REPEATS}),
    (HEAD + "jnp.unique(x, size=8)", {"x": REPEATS}),
    (HEAD + "jnp.unique(x, size=2) * x[:2]", {"x": REPEATS}),
    (HEAD + "jnp.unique(x, size=7, fill_value=c)", {"x": M23, "c": np.array(0.25)}),
    (HEAD + "jnp.unique(x, size=4, return_counts=True)[0] * jnp.unique(x, size=4, return_counts=True)[1]",
     {"x": REPEATS}),
    (HEAD + "jnp.unique(x, size=8, return_index=True)[1] * x[0] + jnp.unique(x, return_inverse=True, size=5)[1]"
            "[:3] @ x[:3]", {"x": REPEATS}),
    (HEAD + "jnp.unique_values(x, size=6)", {"x": M23}),
    (HEAD + "jnp.unique_all(x, size=7).values * jnp.unique_all(x, size=7).counts", {"x": REPEATS}),
    (HEAD + "jnp.union1d(x, y, size=10)", {"x": REPEATS, "y": np.array([2.0, 7.0, -1.0])}),
    (HEAD + "jnp.union1d(x, y, size=4, fill_value=9.0)", {"x": REPEATS[:3], "y": np.array([2.0, 7.0])}),
    (HEAD + "jnp.setdiff1d(x, y, size=5)", {"x": REPEATS, "y": np.array([2.0, 7.0])}),
    (HEAD + "jnp.setdiff1d(x, y, size=2, fill_value=-3.0)", {"x": REPEATS, "y": np.array([2.0, 7.0])}),
    (HEAD + "jnp.setxor1d(x, y, size=8)", {"x": REPEATS, "y": np.array([2.0, 7.0, 11.0])}),
    (HEAD + "jnp.setxor1d(x, y, size=3)", {"x": np.array([-3.0, 1.0, 2.0]), "y": np.array([2.0, 1.0])}),
    (HEAD + "jnp.setxor1d(x, y, size=4, fill_value=0.5)", {"x": REPEATS, "y": np.array([2.0, 7.0])}),
    (HEAD + "jnp.intersect1d(x, y, size=4)", {"x": REPEATS, "y": np.array([2.0, 3.0, 3.0, 8.0])}),
    (HEAD + "jnp.intersect1d(x, y, size=3)", {"x": REPEATS, "y": np.array([5.0, 6.0])}),
    (HEAD + "jnp.intersect1d(x, x[1:3] * 1.0, size=3)", {"x": np.array([3.0, 1.0, 2.0])}),
    (HEAD + "jnp.intersect1d(x, y, size=5, return_indices=True)[0] + jnp.intersect1d(x, y, size=5, "
            "return_indices=True)[1] + 10 * jnp.intersect1d(x, y, size=5, return_indices=True)[2]",
     {"x": REPEATS, "y": np.array([2.0, 3.0, 3.0, 8.0])}),
]


@pytest.mark.parametrize("code, inputs", ROOTS + SETS, ids=[t[0][len(HEAD):][-60:] for t in ROOTS + SETS])
def test_agrees_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, code, inputs)


# the forms without size= are JAX's with the size the values give (JAX's jacrev needs size= to trace them)
UNSIZED = [
    ("jnp.unique(x)", "jnp.unique(x, size=4)", {"x": REPEATS}),
    ("jnp.union1d(x, y)", "jnp.union1d(x, y, size=6)", {"x": REPEATS, "y": np.array([2.0, 7.0, -1.0])}),
    ("jnp.setdiff1d(x, y)", "jnp.setdiff1d(x, y, size=3)", {"x": REPEATS, "y": np.array([2.0, 7.0])}),
    ("jnp.setxor1d(x, y)", "jnp.setxor1d(x, y, size=4)", {"x": REPEATS, "y": np.array([2.0, 7.0])}),
    ("jnp.intersect1d(x, y)", "jnp.intersect1d(x, y, size=2)", {"x": REPEATS, "y": np.array([2.0, 3.0, 8.0])}),
]


@pytest.mark.parametrize("code, ref, inputs", UNSIZED, ids=[t[0] for t in UNSIZED])
def test_the_forms_without_size_agree_with_jax(jax_process, code, ref, inputs):
    assert_agrees_with_jax(jax_process, HEAD + code, inputs, ref=HEAD + ref)


def jax_orders(code: str, inputs: dict, name: str) -> list:
    """The snippet's first three derivatives by ``name``, by JAX (jacfwd nested over jacrev)."""
    import ast
    jax = _jax()
    jnp = jax.numpy
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(x):
        scope = {"jax": jax, "jnp": jnp, "lax": jax.lax}
        scope.update({k: jnp.asarray(v) for k, v in inputs.items()})
        scope[name] = x
        exec(compile(body, "<snippet>", "exec"), scope)
        return eval(compile(last, "<snippet>", "eval"), scope)

    x = jnp.asarray(inputs[name], dtype=jnp.float64)
    d1 = jax.jacrev(f)
    d2 = jax.jacfwd(d1)
    d3 = jax.jacfwd(d2)
    return [np.asarray(d(x)) for d in (d1, d2, d3)]


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_custom_root_second_and_third_derivatives_are_jaxs(jax_process, k):
    code, inputs = ROOTS[k]
    name = list(inputs)[-1]
    theirs = jax_process.submit(jax_orders, code, inputs, name).result()
    for order, expected in enumerate(theirs, start=1):
        ours = api.derivative(code, inputs, order=order, wrt=[name])
        np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-11, err_msg=f"order {order}")


# --- torch.tensor of nested lists of 0-d tensors: a copy without a derivative, as PyTorch's --------------------------

TENSORS = [
    ("torch.tensor(A.tolist()) * A", {"A": rng.standard_normal((2, 3))}),
    ("torch.tensor([x[:1], x[1:2]]) + x[:2]", {"x": rng.standard_normal(3)}),
    ("torch.tensor([[x[0], x[1]], [x[2], 3.0]]) @ x[:2]", {"x": rng.standard_normal(3)}),
    ("torch.tensor([[x[0], 1.0], [2.0, 3.0]]) * x[1]", {"x": rng.standard_normal(3)}),
    ("torch.tensor([[x[:1]], [x[1:2]]]) * x[:2, None]", {"x": rng.standard_normal(3)}),
    ("torch.tensor(A.tolist()[0]) * A[1]", {"A": rng.standard_normal((2, 3))}),
]


@pytest.mark.parametrize("code, inputs", TENSORS, ids=[t[0] for t in TENSORS])
def test_torch_tensor_of_nested_lists_agrees_with_pytorch(torch64, code, inputs):
    assert_agrees_with_pytorch(torch64, "import torch\n" + code, inputs)


# --- the collectives inside jax.vmap(..., axis_name=): reductions over the mapped axis, as JAX batches them ------------

X4 = rng.standard_normal(4)
A43 = rng.standard_normal((4, 3))
TIES = np.array([[1.0, 2.0], [3.0, 2.0], [3.0, -1.0]])
COLLECTIVE_TEXTS = [
    (HEAD + "jax.vmap(lambda v: v / jax.lax.psum(v, 'i'), axis_name='i')(x)", {"x": X4}),
    (HEAD + "jax.vmap(lambda r: r - lax.pmean(r, axis_name='batch'), axis_name='batch')(A)", {"A": A43}),
    (HEAD + "jax.vmap(lambda r: r @ lax.all_gather(r, 'i', axis=1) @ lax.all_gather(r, 'i', tiled=True)[:4], "
            "axis_name='i')(A)", {"A": A43}),
    (HEAD + "jax.vmap(lambda r: r * lax.axis_index('i'), axis_name='i')(A)", {"A": A43}),
    (HEAD + "jax.vmap(lambda r: lax.ppermute(r, 'i', perm=[(0, 1), (1, 2), (2, 0), (3, 3)]) * r / lax.axis_size('i'), "
            "axis_name='i')(A)", {"A": A43}),
    (HEAD + "jax.vmap(lambda r: lax.ppermute(r, 'i', [(k, (k + 1) % 4) for k in range(4)]) - r, axis_name='i')(A)",
     {"A": A43}),
    (HEAD + "jax.vmap(lambda r: lax.pshuffle(r, 'i', [2, 0, 3, 1]) * r, axis_name='i')(A)", {"A": A43}),
    # a collective inside a Python loop (one per step), and one over the outer axis inside an inner vmap
    (HEAD + "def f(v):\n    for _ in range(3):\n        v = jnp.tanh(v) / lax.psum(v ** 2, 'i')\n    return v\n"
            "jax.vmap(f, axis_name='i')(x)", {"x": X4}),
    (HEAD + "jax.vmap(lambda r: jax.vmap(lambda e: e * lax.psum(e, 'rows') + lax.psum(e, 'cols'), "
            "axis_name='cols')(r), axis_name='rows')(A)", {"A": A43}),
    # a batch-norm written with pmean, as in JAX's own examples, differentiated inside and out
    (HEAD + "def norm(r):\n    m = lax.pmean(r, 'b')\n    s = lax.pmean((r - m) ** 2, 'b')\n"
            "    return (r - m) / jnp.sqrt(s + 1e-5)\njax.vmap(norm, axis_name='b')(A) * w", {"A": A43, "w": X4[:3]}),
    (HEAD + "jax.grad(lambda A: jnp.sum(jax.vmap(lambda v: jnp.sum(v * lax.psum(v, 'i')), axis_name='i')(A)))(A)",
     {"A": A43}),
    (HEAD + "jax.vmap(lambda v, c: lax.psum(v * c, 'i'), in_axes=(0, None), axis_name='i')(A, c)",
     {"A": A43, "c": X4[:3]}),
]


@pytest.mark.parametrize("code, inputs", COLLECTIVE_TEXTS, ids=[t[0][len(HEAD):][:70] for t in COLLECTIVE_TEXTS])
def test_collectives_inside_vmap_agree_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, code, inputs)


# JAX has no derivative rule for pmax / pmin (it raises under jax.jacrev even inside stop_gradient): jac reads them
# where no derivative passes through them, against JAX's reductions written over the batch axis
EXTREMES = [
    ("jax.vmap(lambda r: jnp.exp(r - lax.stop_gradient(lax.pmax(r, 'i'))) / lax.psum(jnp.exp(r - "
     "lax.stop_gradient(lax.pmax(r, 'i'))), 'i'), axis_name='i')(A)",
     "jnp.exp(A - lax.stop_gradient(A.max(0))) / jnp.sum(jnp.exp(A - lax.stop_gradient(A.max(0))), 0)", A43),
    ("jax.vmap(lambda r: lax.stop_gradient(lax.pmin(r, 'i')) * r, axis_name='i')(A)",
     "lax.stop_gradient(A.min(0)) * A", A43),
    ("jax.vmap(lambda r: lax.stop_gradient(lax.pmax(r, 'i') + lax.pmin(r, 'i')) * r, axis_name='i')(A)",
     "lax.stop_gradient(A.max(0) + A.min(0)) * A", TIES),
]


@pytest.mark.parametrize("code, ref, a", EXTREMES, ids=[t[0][:70] for t in EXTREMES])
def test_pmax_and_pmin_agree_with_jaxs_reductions_over_the_batch(jax_process, code, ref, a):
    assert_agrees_with_jax(jax_process, HEAD + code, {"A": a}, ref=HEAD + ref)


# --- F.ctc_loss with an input of length 0: PyTorch's inf (-0.0 for an empty target, 0 with zero_infinity), no
# derivative for that sample; the others' derivatives as PyTorch's ------------------------------------------------------

Z433 = rng.standard_normal((4, 3, 3))
CTC = [(il, tl, tg, zi, red) for il, tl, tg in [([0, 4, 2], [2, 1, 1], [[1, 2], [1, 0], [2, 0]]),
                                                ([0, 4, 0], [0, 1, 2], [[1, 2], [1, 0], [2, 1]])]
       for zi in (False, True) for red in ("none", "mean", "sum")]


@pytest.mark.parametrize("il, tl, tg, zi, red", CTC)
def test_ctc_loss_of_an_empty_input_agrees_with_pytorch(torch64, il, tl, tg, zi, red):
    code = (f"import torch\nimport torch.nn.functional as F\nF.ctc_loss(z.log_softmax(-1), torch.tensor({tg}), "
            f"torch.tensor({il}), torch.tensor({tl}), reduction='{red}', zero_infinity={zi})")
    torch, F = torch64, torch64.nn.functional
    z = torch.tensor(Z433, requires_grad=True)

    def f(z):
        return F.ctc_loss(z.log_softmax(-1), torch.tensor(tg), torch.tensor(il), torch.tensor(tl), reduction=red,
                          zero_infinity=zi)
    theirs = f(z).detach().numpy()
    ours = np.asarray(api.evaluate(code, {"z": Z433}))
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))  # -0.0 for an empty target, as PyTorch
    np.testing.assert_allclose(api.jacobian(code, {"z": Z433})["z"],
                               torch.autograd.functional.jacobian(f, z).numpy(), rtol=1e-10, atol=1e-12)


# --- torch.segment_reduce with lengths (or offsets) of two dimensions: each row of data segmented along axis 1 -------

X243 = rng.standard_normal((2, 4, 3))
SEGMENTS = [(red, kw) for red in ("sum", "mean", "max", "min", "prod") for kw in (
    "lengths=torch.tensor([[1, 3, 0], [2, 1, 1]])", "offsets=torch.tensor([[0, 1, 4, 4], [0, 2, 3, 4]])",
    "lengths=torch.tensor([[1, 2, 0], [2, 1, 0]]), unsafe=True",
    "lengths=torch.tensor([[1, 3, 0], [2, 1, 1]]), initial=0.5")]


@pytest.mark.parametrize("red, kw", SEGMENTS)
def test_segment_reduce_of_two_dimensional_lengths_agrees_with_pytorch(torch64, red, kw):
    assert_agrees_with_pytorch(torch64, f"import torch\ntorch.segment_reduce(x, '{red}', {kw}, axis=1)", {"x": X243})


# --- JAX's index functions with size= / fill_value=: positions padded as JAX's, values gathered ---------------------

A23 = np.array([[0.5, -1.0, 0.0], [2.0, 0.0, -0.25]])
INDEX_TEXTS = [
    "x[jnp.nonzero(x > 0, size=4)] * 2",
    "jnp.nonzero(x, size=5, fill_value=(1, 2))[1] * x[0, 0]",
    "jnp.nonzero(x, size=2)[0] + x[:, 0]",
    "jnp.argwhere(x > -0.5, size=5, fill_value=-1) * x[0, 0]",
    "jnp.flatnonzero(x, size=7, fill_value=9) * x.sum()",
    "jnp.where(x > 0, size=3)[1] * 1.0 + x[0]",
    "jnp.extract(x > 0, x, size=5)",
    "jnp.extract(x != 0, x * 2, size=2, fill_value=-1.0)",
    "jnp.extract(x < 0, x ** 2, size=4, fill_value=x[0, 0])",
]


@pytest.mark.parametrize("code", INDEX_TEXTS)
def test_index_functions_with_size_agree_with_jax(jax_process, code):
    assert_agrees_with_jax(jax_process, HEAD + code, {"x": A23})
