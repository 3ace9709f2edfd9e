"""Session 50: the differential fuzzers with new seeds, and what earlier sessions left untriaged.

kernels16's one difference at seed 4924 (a fuzz expression's ``vjp`` at ``strided`` values, an ulp apart): a
kernel's element-wise line wrote its result over a spent operand (``f(a, b, a)``, kernels._Source._over), so the
result kept that operand's layout, where the interpreter's new array is laid out by order "K" of all the operands.
A Fortran-ordered cotangent times 2 stayed Fortran-ordered, times a C-ordered constant written over it stayed so,
and the sum after it added in column order: ``s``'s gradient 19.822910797367275 where the interpreter's (and the
kernel's at a C-ordered cotangent) is 19.82291079736727. The same with Fortran-ordered inputs and tangents in a
``jvp``. A kernel writes over an operand now only where every operand is C-ordered at every call (an input, a
cotangent or a tangent checked per call: else ``Unlaid``, and the interpreter answers).
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine.compiled import Compiled, jvp_of, tangents_of, vjp_of

FUZZ_4924 = ("F = (inner((sum((0.5 * ones(3, 3))) * ones(3)), (s * ones(3))) / (1.5 + square(((np.array([-1.2, 0.25, "
             "1.7]))[::-1] * ones(2, 3))))); G = F * 2 + tril(A, -1)")


def _warm(f, call, *args):
    for _ in range(3):  # the second call compiles, the third runs the kernel
        call(*args)


def test_fuzz_4924_vjp_at_a_fortran_ordered_cotangent():
    """The fuzzer's own expression and cotangent (kernels16, seed 4924, its second ``strided`` value set)."""
    shapes = {"s": (), "A": (2, 3)}
    f = Compiled(FUZZ_4924, shapes)
    base = {"s": np.array(0.6), "A": np.full((2, 3), 0.4)}
    _warm(f, f.vjp, base, np.ones((2, 3)))
    v = np.asfortranarray([[-1.685506612710737, 1.58416816484936, 1.4742972763630475],
                           [0.5703561392848209, -1.6727242500122212, 1.5976451751519627]])
    env = {"s": np.array(-1.0), "A": np.asfortranarray(np.full((2, 3), 0.4))}
    got, want = f.vjp(env, v), vjp_of(f.bind(env), v)
    assert got.keys() == want.keys()
    for name in want:
        assert got[name].tobytes() == want[name].tobytes(), name
    # and the layout does not change the answer
    assert f.vjp(env, np.ascontiguousarray(v))["s"].tobytes() == want["s"].tobytes()


@pytest.mark.parametrize("expr", [
    "(s * np.array([[1.7, 0.25, -1.2], [0.3, 0.9, 1.1]])) * 2",
    FUZZ_4924.replace("F * 2", "F * 3"),
])
def test_vjp_kernel_is_the_interpreter_at_fortran_ordered_cotangents(expr):
    f = Compiled(expr, {"s": (), "A": (2, 3)})
    base = {"s": np.array(0.5), "A": np.full((2, 3), 0.5)}
    _warm(f, f.vjp, base, np.ones((2, 3)))
    rng = np.random.default_rng(50)
    for _ in range(60):
        v = np.asfortranarray(rng.uniform(-2, 2, (2, 3)))
        got, want = f.vjp(base, v), vjp_of(f.bind(base), v)
        assert all(got[n].tobytes() == want[n].tobytes() for n in want)


@pytest.mark.parametrize("expr", [
    "sum((A * 2) * np.arange(12.0).reshape(3, 4))",
    "sum(sin(A) * np.arange(12.0).reshape(3, 4) * 3)",
    "sum(s * A * np.arange(12.0).reshape(3, 4))",
])
def test_jvp_kernel_is_the_interpreter_at_fortran_ordered_values(expr):
    shapes = {"A": (3, 4), "s": ()}
    f = Compiled(expr, shapes)
    base = {n: np.full(s, 0.5) for n, s in shapes.items()}
    _warm(f, f.jvp, base, {n: np.ones(s) for n, s in shapes.items()})
    rng = np.random.default_rng(50)
    for _ in range(60):
        env = {n: np.array(rng.uniform(-2, 2, s), order="F") for n, s in shapes.items()}
        t = {n: np.array(rng.uniform(-2, 2, s), order="F") for n, s in shapes.items()}
        problem = f.bind(env)
        assert f.jvp(env, t).tobytes() == jvp_of(problem, tangents_of(problem, t)).tobytes()


def test_c_ordered_calls_still_run_the_kernel():
    """The check costs a C-ordered call nothing but a flag read: the kernel still answers it."""
    from jacobi_cli.engine import kernels

    f = Compiled("(s * np.array([[1.7, 0.25, -1.2], [0.3, 0.9, 1.1]])) * 2", {"s": ()})
    base = {"s": np.array(0.5)}
    _warm(f, f.vjp, base, np.ones((2, 3)))
    kernel = [k for key, k in f._ready.items() if key[0] == "vjp"][0]
    v = np.arange(6.0).reshape(2, 3)
    assert kernel.fn(base, v)[0].tobytes() == vjp_of(f.bind(base), v)["s"].tobytes()
    with pytest.raises(kernels.Unlaid):
        kernel.fn(base, np.asfortranarray(v))


# --- torchprog37 (seed 4960): an in-place op keeping an operand that is the written tensor under another name ------
# ``t.mul_(t)`` and ``t.addcmul_(t, y)`` were refused as PyTorch's backward raises (the op keeps an operand its own
# write changes); the same through a Python alias, ``u = t; t.mul_(u)``, was answered (the program's derivative, but
# not PyTorch's answer). The operand's buffer is compared now, not its name.

ALIASED = [
    "t1 = torch.sin(x)\nt2 = t1\nt1.addcmul_(t2, t2, value=0.5)\nt1",  # the fuzzer's, minimal
    "t1 = torch.sin(x)\nt2 = t1\nt1.addcmul_(t2, y, value=0.5)\nt1",
    "t1 = torch.sin(x)\nt2 = t1\nt1.addcmul_(y, t2)\nt1",
    "t1 = torch.sin(x)\nt2 = t1\nt1.mul_(t2)\nt1",
    "t1 = torch.sin(x)\nt2 = t1\nt1 *= t2\nt1",
    "t1 = torch.sin(x)\nt2 = t1\nt3 = t2\nt1.div_(t3)\nt1",
]
NOT_ALIASED = [
    "t1 = torch.sin(x)\nt2 = t1.clone()\nt1.mul_(t2)\nt1",
    "t1 = torch.sin(x)\nt2 = t1 * 1\nt1.addcmul_(t2, y)\nt1",
]


def _torch_raises(text, x, y):
    import torch

    env = {"torch": torch, "F": torch.nn.functional, "x": torch.tensor(x, requires_grad=True),
           "y": torch.tensor(y, requires_grad=True)}
    lines = text.split("\n")
    exec("\n".join(lines[:-1]), env)  # noqa: S102 - the test's own program
    try:
        eval(lines[-1], env).sum().backward()  # noqa: S307
    except RuntimeError as err:
        assert "modified by an inplace operation" in str(err)
        return True
    return False


@pytest.mark.parametrize("text", ALIASED)
def test_an_alias_of_the_written_tensor_kept_by_its_own_write_is_refused(text):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    x, y = np.array([-1.1269166697770683, 0.4]), np.array([0.7, -0.3])
    assert _torch_raises(text, x, y)
    with pytest.raises(JacError, match="modified by an inplace operation"):
        api.jacobian(text, {"x": x, "y": y})


@pytest.mark.parametrize("text", NOT_ALIASED)
def test_a_copy_of_the_written_tensor_is_answered_as_pytorch(text):
    import torch

    from jacobi_cli.tools import api

    x, y = np.array([-1.1269166697770683, 0.4]), np.array([0.7, -0.3])
    assert not _torch_raises(text, x, y)
    X = torch.tensor(x, requires_grad=True)
    env = {"torch": torch, "x": X, "y": torch.tensor(y)}
    lines = text.split("\n")
    exec("\n".join(lines[:-1]), env)  # noqa: S102
    want = torch.autograd.functional.jacobian(lambda x: _run(text, x, torch.tensor(y)), X)
    got = api.jacobian(text, {"x": x, "y": y})["x"]
    assert np.allclose(got, want.numpy(), rtol=1e-12, atol=0)


def _run(text, x, y):
    import torch

    env = {"torch": torch, "F": torch.nn.functional, "x": x, "y": y}
    lines = text.split("\n")
    exec("\n".join(lines[:-1]), env)  # noqa: S102
    return eval(lines[-1], env)  # noqa: S307


# --- nprog38 (seed 4963): JAX's quantiles of a 0-d array with keepdims=True --------------------------------------
# jnp.nanmedian(t, axis=None, keepdims=True) of a 0-d t is (1,) in JAX (it ravels first), () in NumPy; jac gave
# NumPy's () in a jnp text. The number was right, the shape JAX's own is not.

JAX_KEPT = ["jnp.nanmedian(x, keepdims=True)", "jnp.nanmedian(x, axis=None, keepdims=True)",
            "jnp.quantile(x, 0.3, keepdims=True)", "jnp.percentile(x, 30, keepdims=True)",
            "jnp.nanquantile(x, 0.3, keepdims=True)", "jnp.nanpercentile(x, 30.0, keepdims=True)",
            "jnp.quantile(x, jnp.array([0.2, 0.5]), keepdims=True)",
            "jnp.nanquantile(x, jnp.array([0.2, 0.5]), axis=None, keepdims=True)"]


@pytest.mark.parametrize("text", JAX_KEPT)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_jax_quantiles_with_keepdims_have_jax_shapes(text, shape):
    import jax
    import jax.numpy as jnp

    from jacobi_cli.tools import api

    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    if "nanmedian" in text and shape:
        pytest.skip("keepdims=True without an axis of an array: refused (session 38's)")
    jax.config.update("jax_enable_x64", True)
    want = np.asarray(eval(text, {"jnp": jnp, "x": jnp.asarray(x)}))  # noqa: S307 - the test's own text
    got = np.asarray(api.evaluate(text, {"x": x}))
    assert got.shape == want.shape
    assert np.allclose(got, want, rtol=1e-14, atol=0)
    if not shape:
        assert np.asarray(api.jacobian(text, {"x": x})["x"]).shape == want.shape


@pytest.mark.parametrize("text", [t.replace("jnp.", "np.") for t in JAX_KEPT])
def test_numpy_quantiles_of_a_0d_with_keepdims_keep_no_axis(text):
    from jacobi_cli.tools import api

    x = np.array(0.5)
    want = np.asarray(eval(text, {"np": np, "x": x}))  # noqa: S307
    assert want.shape == np.asarray(api.evaluate(text, {"x": x})).shape


# --- torchprog37, session 48's seeds 4810-4819: JAC-ANSWERS-WHERE-TORCH-RAISES of PyTorch's version counter ---------
# Two gaps in the saved-tensor checks the docs promise (docs/expressions.md, "a write into a tensor an op saved"):
# an in-place op on a view whose op keeps its result (``t1[1:].exp_()``: the result is now t1's elements) registered
# a buffer of its own, so a later write into t1 went unseen; and an in-place op on a name (``t1.addcmul_(t3, t3)``,
# ``t1.mul_(t3)``) kept no operand, so a later write into t3 went unseen. jac's answers were the programs' own
# derivatives (central differences agree on all 41 programs), PyTorch's backward raises: refused now, as it.
# ``h.clone()`` as an operand is a tensor of its own, which no later write reaches (was refused in
# ``torch.mul(t1, t3.clone())`` where PyTorch answers).

VERSION_RAISES = [
    "t1 = x * 2\nt1[1:].exp_()\nt1.mul_(3)\nt1",
    "t1 = x * 2\nt1[1:].exp_()\nt1 += 1\nt1",
    "t1 = x * 2\nt1[1:].exp_()\nt1[:1].mul_(3)\nt1",
    "t1 = x * 2\nt1[1:].sigmoid_()\nt1[0] = 5.0\nt1",
    "t1 = x * 2\nt1[...].sigmoid_()\nt1 -= 2.0\nt1",
    "t1 = x * 2\nt1[1:].exp_()\nt1[1:].exp_()\nt1",
    "t1 = x * 1.0\nt1[-1:].exp_()\nF.hardtanh_(t1)\nt1",  # seed 4810016701's, shortened
    "t1 = x * 2\nt3 = x * 3\nt1.addcmul_(t3, t3, value=0.5)\nF.relu_(t3)\nt1",  # seed 4811014827's, shortened
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3)\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.div_(t3)\nt3[0] = 1.0\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3[1:2])\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.clamp_(min=t3)\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.pow_(t3)\nt3.add_(1)\nt1",
]
VERSION_ANSWERS = [
    "t1 = x * 2\nt1[1:].exp_()\nt2 = t1 * 1\nt2",
    "t1 = x * 2\nt1[1:].sin_()\nt1.mul_(3)\nt1",
    "t1 = x * 2\nt1[1:].add_(torch.exp(x[1:]))\nt1.mul_(3)\nt1",
    "t1 = x * 2\nt1[1:].tanh_()\nt3 = t1.clone()\nt3.mul_(2)\nt3",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3)\nt3.add_(1)\nt3",
    "t1 = x * 2\nt3 = x * 3\nt1.add_(t3)\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.clone())\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\ns = torch.mul(t1, t3.clone())\nt3.add_(1)\ns",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3 + 0)\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.pow_(2)\nt3.add_(1)\nt1",
]
X4 = np.array([0.62, 0.11, 0.93, 0.37])


@pytest.mark.parametrize("text", VERSION_RAISES)
def test_a_write_into_what_an_in_place_op_kept_is_refused_as_pytorch_raises(text):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    assert _torch_raises(text, X4, X4)
    with pytest.raises(JacError, match="modified by an inplace operation"):
        api.jacobian(text, {"x": X4})


@pytest.mark.parametrize("text", VERSION_ANSWERS)
def test_what_pytorch_answers_beside_them_is_answered(text):
    import torch

    from jacobi_cli.tools import api

    assert not _torch_raises(text, X4, X4)
    want = torch.autograd.functional.jacobian(lambda x: _run(text, x, None), torch.tensor(X4))
    assert np.allclose(api.jacobian(text, {"x": X4})["x"], want.numpy(), rtol=1e-12, atol=0)
