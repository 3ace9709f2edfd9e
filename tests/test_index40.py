"""Indexing, gather and scatter against PyTorch (session 40, benchmarks/index40_fuzz.py).

- PyTorch's ``gather``, ``index_select``, ``scatter`` / ``scatter_add`` / ``scatter_reduce``, ``index_add`` /
  ``index_copy`` / ``index_reduce`` (and their in-place forms) take no negative index: PyTorch raises "index -1 is
  out of bounds for dimension 1 with size 4". jac counted it from the end, as NumPy does, and answered silently.
  ``index_fill``, ``index_put``, ``put``, ``take``, ``take_along_dim`` and ``x[idx]`` take negative indices in
  PyTorch and still do in jac.
- ``scatter`` / ``scatter_add`` / ``scatter_reduce`` with a src larger than index: PyTorch's backward raises by src
  ("ScatterBackward0 returned an invalid gradient"), or for 'prod' gives the unused elements of src numbers of
  their own; jac keeps its derivative, the central differences' (tests/test_parity_scatter.py's decision).
- ``np.take`` / ``jnp.take``'s ``mode=`` (refused until now) and ``np.multiply.at`` / ``maximum.at`` / ``minimum.at``.
"""

import contextlib
import io
import json

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.arange(12.0).reshape(3, 4) * 0.25 - 1.0
V = np.arange(12.0).reshape(3, 4) * 0.1 + 0.5

NEGATIVE_REFUSED = [  # PyTorch raises: the index -1 is out of bounds for these
    "torch.gather(x, 1, torch.tensor([[0, -1], [1, 2], [3, 3]]))",
    "x.gather(0, torch.tensor([[-1, 0, 1, 2]]))",
    "torch.index_select(x, 1, torch.tensor([0, -1]))",
    "x.index_select(0, torch.tensor([-3]))",
    "x.scatter(1, torch.tensor([[0, -1], [1, 2], [3, 0]]), v[:, :2])",
    "x.scatter(1, torch.tensor([[-1], [1], [3]]), 2.5)",
    "x.scatter_add(0, torch.tensor([[0, -1, 1, 2]]), v[:1])",
    "x.scatter_reduce(1, torch.tensor([[-2], [1], [3]]), v[:, :1], 'amax')",
    "x.scatter_reduce(1, torch.tensor([[-2], [1], [3]]), v[:, :1], 'sum', include_self=False)",
    "x.index_add(1, torch.tensor([0, -1]), v[:, :2])",
    "x.index_add(0, torch.tensor([-1]), v[:1], alpha=2.0)",
    "x.index_copy(1, torch.tensor([-4]), v[:, :1])",
    "y = x.clone(); y.index_add_(1, torch.tensor([1, -1]), v[:, :2]); y",
    "y = x * 1; y.index_copy_(0, torch.tensor([-1]), v[:1]); y",
    "y = x * 1; y.scatter_(1, torch.tensor([[-1], [0], [1]]), v[:, :1]); y",
]

NEGATIVE_TAKEN = [  # PyTorch counts these from the end, and so does jac
    "x.index_fill(1, torch.tensor([0, -1]), 2.0)",
    "x.index_put((torch.tensor([-1, 0]),), v[:2])",
    "x.index_put((torch.tensor([-1, 0]), torch.tensor([-2, 1])), v[0, :2], accumulate=True)",
    "x.put(torch.tensor([-1, 3]), v[0, :2])",
    "x.put(torch.tensor([-1, -1]), v[0, :2], accumulate=True)",
    "torch.take(x, torch.tensor([[-1, 0], [5, -12]]))",
    "torch.take_along_dim(x, torch.tensor([[-1], [0], [-4]]), dim=1)",
    "x[:, torch.tensor([-1, 0, -1])]",
    "x[torch.tensor([-3, 2]), torch.tensor([-1, 0])]",
    "y = x * 1; y[torch.tensor([-1])] = v[:1]; y",
    "y = x.clone(); y.index_fill_(0, torch.tensor([-1]), 0.5); y",
]


def _torch_run(text, wrt=("x", "v")):
    """PyTorch's value and reverse-mode Jacobians of ``text`` by x and v (float64), or raises what it raises."""
    torch = pytest.importorskip("torch")
    tree_body, last = text.rsplit("; ", 1) if "; " in text else ("", text)
    leaves = {k: torch.tensor(a, requires_grad=k in wrt) for k, a in (("x", X), ("v", V))}

    def f():
        scope = {"torch": torch, **leaves}
        exec(tree_body.replace("; ", "\n"), scope)  # noqa: S102 - the test's own texts
        return eval(last, scope)  # noqa: S307
    out = f()
    jac = {k: np.zeros(tuple(out.shape) + a.shape) for k, a in (("x", X), ("v", V)) if k in wrt}
    flat = out.reshape(-1)
    for i in range(flat.numel() if jac else 0):
        grads = torch.autograd.grad(flat[i], [leaves[k] for k in jac], retain_graph=True, allow_unused=True)
        for k, g in zip(jac, grads):
            if g is not None:
                jac[k].reshape((-1,) + jac[k].shape[out.dim():])[i] = g.numpy()
    return out.detach().numpy(), jac


def _bindings(text):
    return {"x": X, "v": V} if "v" in text.replace("index", "").replace("_over", "") else {"x": X}


@pytest.mark.parametrize("text", NEGATIVE_REFUSED)
def test_a_negative_index_is_refused_where_pytorch_raises(text):
    with pytest.raises(Exception) as raised:
        _torch_run(text)
    assert "out of" in str(raised.value) or "bounds" in str(raised.value)
    with pytest.raises(JacError, match="out of bounds for dimension"):
        api.evaluate(text, _bindings(text))


@pytest.mark.parametrize("text", NEGATIVE_TAKEN)
def test_a_negative_index_pytorch_counts_from_the_end_is_answered_as_pytorch(text):
    value, jac = _torch_run(text)
    b = _bindings(text)
    assert np.array_equal(api.evaluate(text, b), value)
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, b, mode=mode)
        for k in b:
            assert np.array_equal(ours[k], jac[k]), (text, mode, k)


def test_the_refusal_says_what_pytorch_says_and_points_at_the_call():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["eval", "x.gather(0, torch.tensor([1, -1]))", "x=[1,2,3]"])
    lines = err.getvalue().splitlines()
    assert code == 2 and out.getvalue() == "" and "Traceback" not in err.getvalue()
    assert lines[0] == ("jac: error (shape): gather: index -1 is out of bounds for dimension 0 with size 3 "
                        "(PyTorch's gather takes no negative index; write 2 for -1 if you mean to count from the end)")
    assert lines[1:] == ["  x.gather(0, torch.tensor([1, -1]))", "    ^"]
    with contextlib.redirect_stdout(out := io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = entry.main(["eval", "--json", "x.index_select(0, torch.tensor([-5]))", "x=[1,2,3]"])
    error = json.loads(out.getvalue())["error"]
    assert code == 2 and error["kind"] == "shape" and error["position"] == 2
    assert error["message"] == "index_select: index -5 is out of bounds for dimension 0 with size 3"


def test_numpy_and_jax_spellings_still_count_from_the_end():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert np.array_equal(api.evaluate("np.take(x, np.array([-1, 0]), axis=1)", {"x": x}),
                          np.take(x, [-1, 0], axis=1))
    assert np.array_equal(api.evaluate("np.take_along_axis(x, np.array([[-1], [0]]), axis=1)", {"x": x}),
                          np.take_along_axis(x, np.array([[-1], [0]]), axis=1))
    assert np.array_equal(api.evaluate("x.at[jnp.array([-1])].add(1.0)", {"x": x}), x + [[0, 0, 0], [1, 1, 1]])


# --- src larger than index ---------------------------------------------------------------------------------

LARGER = [
    "x.scatter(1, torch.tensor([[0], [1]]), v)", "torch.scatter(x, 0, torch.tensor([[2, 0]]), v)",
    "x.scatter_add(1, torch.tensor([[0, 1], [2, 3]]), v)", "x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'sum')",
    "x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'mean', include_self=False)",
    "x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'amax')",
    "x.scatter_reduce(1, torch.tensor([[0], [2], [3]]), v, 'prod')",
    "x.scatter_reduce(1, torch.tensor([[0], [1]]), v, 'amin')",
    "x.scatter_reduce(1, torch.tensor([[0, 1], [2, 3]]), v, 'prod', include_self=False)",
]


def _central(text, b):
    torch = pytest.importorskip("torch")
    out = {}
    for k in b:
        cols = []
        for i in np.ndindex(b[k].shape):
            up, down = dict(b), dict(b)
            up[k], down[k] = b[k].copy(), b[k].copy()
            up[k][i] += 1e-6
            down[k][i] -= 1e-6
            f = [eval(text, {"torch": torch}, {n: torch.tensor(a) for n, a in d.items()}).numpy()  # noqa: S307
                 for d in (up, down)]
            cols.append((f[0] - f[1]) / 2e-6)
        out[k] = np.stack(cols, -1).reshape(f[0].shape + b[k].shape)
    return out


@pytest.mark.parametrize("text", LARGER)
def test_src_larger_than_index_is_differentiated_as_central_differences(text):
    # PyTorch's backward raises by src here ("ScatterBackward0 returned an invalid gradient"), or for 'prod' gives
    # src's unused elements numbers, and for 'amax' / 'amin' / 'prod' with shapes that do not broadcast raises by x
    # too: jac gives the derivative (tests/test_parity_scatter.py's decision), 0 for the elements never read
    value, _ = _torch_run(text, wrt=())
    b = {"x": X, "v": V}
    assert np.array_equal(api.evaluate(text, b), value)
    numeric = _central(text, b)
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, b, mode=mode)
        for k in b:
            np.testing.assert_allclose(ours[k], numeric[k], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("text", [
    "x.scatter(1, torch.tensor([[0], [1]]), v)", "x.scatter_add(1, torch.tensor([[0, 1], [2, 3]]), v)",
    "x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'mean')"])
def test_pytorch_raises_by_src_when_src_is_larger(text):
    with pytest.raises(Exception):
        _torch_run(text, wrt=("v",))


def test_pytorchs_prod_gives_the_unused_elements_of_a_larger_src_a_derivative():
    _, jac = _torch_run("x.scatter_reduce(1, torch.tensor([[0], [2], [3]]), v, 'prod')", wrt=("v",))
    assert (jac["v"][..., 1:] != 0).any()  # src[:, 1:] is never read: PyTorch's numbers there are not derivatives
    ours = api.jacobian("x.scatter_reduce(1, torch.tensor([[0], [2], [3]]), v, 'prod')", {"x": X, "v": V})["v"]
    assert (ours[..., 1:] == 0).all()
    np.testing.assert_allclose(ours[..., :1], jac["v"][..., :1], rtol=1e-14)


@pytest.mark.parametrize("text", [
    "x.scatter(1, torch.tensor([[0], [1], [2]]), v[:, :1])",
    "x.scatter_add(1, torch.tensor([[0, 1], [2, 3]]), v[:2, :2])",
    "x.scatter_reduce(1, torch.tensor([[0, 0], [1, 3], [3, 2]]), v[:, :2], 'prod')",
    "x.scatter_reduce(1, torch.tensor([[0, 0], [1, 3], [3, 2]]), v[:, :2], 'amin', include_self=False)",
    "x.scatter(1, torch.tensor([[0], [1]]), 2.0)"])
def test_src_of_index_shape_is_differentiated_as_pytorch(text):
    value, jac = _torch_run(text)
    b = {"x": X, "v": V}
    assert np.array_equal(api.evaluate(text, b), value)
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, b, mode=mode)
        for k in b:
            np.testing.assert_allclose(ours[k], jac[k], rtol=1e-12, atol=1e-14)


# --- np.take / jnp.take's mode=, NumPy's ufunc.at ----------------------------------------------------------

TAKES = [  # (text, indices): each mode as the library computes it
    "np.take(x, [1, 20, -13], mode='wrap')", "np.take(x, [-1, 20, 3], mode='clip')",
    "np.take(np.sin(x), np.array([[0, -5], [7, 2]]), axis=1, mode='wrap')",
    "np.take(x, np.array([[0, -5], [7, 2]]), axis=1, mode='clip')", "np.take(x, [2, -3], axis=0, mode='raise')",
]


def _numeric_jacobian(text, x):
    def f(a):
        return np.asarray(eval(text, {"np": np, "x": a}), dtype=float)  # noqa: S307 - the test's own texts
    cols = []
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1e-6
        cols.append((f(x + e) - f(x - e)) / 2e-6)
    return f(x), np.stack(cols, -1).reshape(f(x).shape + x.shape)


@pytest.mark.parametrize("text", TAKES)
def test_numpy_take_reads_mode_as_numpy(text):
    value, numeric = _numeric_jacobian(text, X)
    assert np.array_equal(api.evaluate(text, {"x": X}), value)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(api.jacobian(text, {"x": X}, mode=mode)["x"], numeric, atol=1e-8)


@pytest.mark.parametrize("text, message", [
    ("np.take(x, [0, 12])", "out of range"), ("np.take(x, [0, 1], mode='fill')", "'raise', 'clip', 'wrap'"),
    ("jnp.take(x, jnp.array([0, 1]), mode='raise')", "does not support 'raise'"),
    ("torch.take(x, torch.tensor([0, 1]), mode='clip')", "no argument 'mode'")])
def test_a_take_mode_the_library_refuses_is_refused(text, message):
    with pytest.raises(JacError, match=message):
        api.evaluate(text, {"x": X})


@pytest.mark.parametrize("text", [
    "jnp.take(x, jnp.array([0, 13, -13, -12]))", "jnp.take(x, jnp.array([0, 13, -13]), mode='fill', fill_value=2.5)",
    "jnp.take(jnp.sin(x), jnp.array([[0, -5], [3, 1]]), axis=1)", "jnp.take(x, jnp.array([[0, -5], [7, 1]]), axis=1, "
    "mode='clip')", "jnp.take(x, jnp.array([0, -7, 30]), mode='wrap')"])
def test_jax_take_reads_mode_as_jax(text):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def f(a):
        return eval(text, {"jnp": jnp}, {"x": a})  # noqa: S307 - the test's own texts
    value = np.asarray(f(jnp.asarray(X)))
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), value)
    for mode, transform in (("reverse", jax.jacrev), ("forward", jax.jacfwd)):
        np.testing.assert_array_equal(api.jacobian(text, {"x": X}, mode=mode)["x"],
                                      np.asarray(transform(f)(jnp.asarray(X))))


@pytest.mark.parametrize("ufunc", ["multiply", "maximum", "minimum", "add", "subtract"])
def test_numpy_ufunc_at_applies_each_repeat_in_turn(ufunc):
    text = f"y = np.sin(x); np.{ufunc}.at(y, (0, [0, 0, -1, 2]), v[0, :4]); y"

    def f(a, b):
        y = np.sin(a)
        getattr(np, ufunc).at(y, (0, [0, 0, -1, 2]), b[0, :4])
        return y
    b = {"x": X, "v": V}
    # add / subtract sum a position's values first, then add them (an ulp from NumPy's turn by turn)
    np.testing.assert_allclose(api.evaluate(text, b), f(X, V), rtol=1e-15, atol=1e-16)
    if ufunc not in ("add", "subtract"):
        assert np.array_equal(api.evaluate(text, b), f(X, V))
    for mode in ("reverse", "forward"):
        J = api.jacobian(text, b, mode=mode)
        for k, arg in (("x", 0), ("v", 1)):
            args = [X, V]
            cols = []
            for i in np.ndindex(args[arg].shape):
                up, down = [a.copy() for a in args], [a.copy() for a in args]
                up[arg][i] += 1e-6
                down[arg][i] -= 1e-6
                cols.append((f(*up) - f(*down)) / 2e-6)
            np.testing.assert_allclose(J[k], np.stack(cols, -1).reshape(J[k].shape), atol=1e-7)
