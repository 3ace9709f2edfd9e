"""Indexing, gather and scatter against PyTorch (session 40, benchmarks/index40_fuzz.py).

- PyTorch's ``gather``, ``index_select``, ``scatter`` / ``scatter_add`` / ``scatter_reduce``, ``index_add`` /
  ``index_copy`` / ``index_reduce`` (and their in-place forms) take no negative index: PyTorch raises "index -1 is
  out of bounds for dimension 1 with size 4". jac counted it from the end, as NumPy does, and answered silently.
  ``index_fill``, ``index_put``, ``put``, ``take``, ``take_along_dim`` and ``x[idx]`` take negative indices in
  PyTorch and still do in jac.
- ``scatter`` / ``scatter_add`` / ``scatter_reduce`` with a src larger than index: PyTorch's backward raises by src
  ("ScatterBackward0 returned an invalid gradient"), or for 'prod' gives the unused elements of src a number of
  their own; for 'amax' / 'amin' / 'prod' with shapes that do not broadcast it raises by x too. jac gave src's
  unused elements 0: now the derivative is refused where PyTorch has none, the value and x's derivative kept.
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

LARGER = [  # (text, PyTorch's backward by x alone works)
    ("x.scatter(1, torch.tensor([[0], [1]]), v)", True),
    ("torch.scatter(x, 0, torch.tensor([[2, 0]]), v)", True),
    ("x.scatter_add(1, torch.tensor([[0, 1], [2, 3]]), v)", True),
    ("x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'sum')", True),
    ("x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'mean', include_self=False)", True),
    ("x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'amax')", True),
    ("x.scatter_reduce(1, torch.tensor([[0], [2], [3]]), v, 'prod')", True),
    ("x.scatter_reduce(1, torch.tensor([[0], [1]]), v, 'amin')", False),
    ("x.scatter_reduce(1, torch.tensor([[0, 1], [2, 3]]), v, 'prod', include_self=False)", False),
]


@pytest.mark.parametrize("text, by_x", LARGER)
def test_src_larger_than_index_has_no_derivative_by_src(text, by_x):
    value, _ = _torch_run(text, wrt=())
    b = {"x": X, "v": V}
    assert np.array_equal(api.evaluate(text, b), value)
    for wrt in (["v"], None):
        with pytest.raises(JacError, match="PyTorch has no derivative"):
            api.jacobian(text, b, wrt=wrt)
    if by_x:
        _, jac = _torch_run(text, wrt=("x",))
        for mode in ("reverse", "forward"):
            assert np.array_equal(api.jacobian(text, b, wrt=["x"], mode=mode)["x"], jac["x"])
    else:
        with pytest.raises(Exception):
            _torch_run(text, wrt=("x",))
        with pytest.raises(JacError, match="no derivative \\(by x or src\\)"):
            api.jacobian(text, b, wrt=["x"])


@pytest.mark.parametrize("text", [
    "x.scatter(1, torch.tensor([[0], [1]]), v)", "x.scatter_add(1, torch.tensor([[0, 1], [2, 3]]), v)",
    "x.scatter_reduce(1, torch.tensor([[0], [1], [3]]), v, 'mean')"])
def test_pytorch_raises_by_src_when_src_is_larger(text):
    with pytest.raises(Exception):
        _torch_run(text, wrt=("v",))


def test_pytorchs_prod_gives_the_unused_elements_of_a_larger_src_a_derivative():
    _, jac = _torch_run("x.scatter_reduce(1, torch.tensor([[0], [2], [3]]), v, 'prod')", wrt=("v",))
    assert (jac["v"][..., 1:] != 0).any()  # src[:, 1:] is never read: PyTorch's numbers there are not derivatives


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
