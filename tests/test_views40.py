"""Writes through views, round 40 (h40-views): NumPy's layout calls that copy or not (ascontiguousarray, asfortranarray,
asarray(order=), require), PyTorch's views of a broadcast product (``t = A * x``), and a reshape of ``t.T.contiguous()``;
each checked against NumPy or PyTorch itself: jac gives the library's value (and Jacobian) or refuses, never another."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

A = np.array([[0.5, -1.25, 2.0, 0.25], [1.5, 0.75, -0.5, -1.0], [-2.0, 1.0, 3.0, 0.5]])
X = np.array([0.5, -1.5, 2.0, 0.75])
S = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5], [-2.0, 1.0, 3.0]])


def _split(text: str):
    tree = ast.parse(text)
    return (compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<t>", "exec"),
            compile(ast.Expression(tree.body[-1].value), "<t>", "eval"))


def _numpy(text: str) -> np.ndarray:
    body, last = _split(text)
    scope = {"np": np, "A": S.copy()}
    exec(body, scope)  # noqa: S102 - the test's own text
    return np.asarray(eval(last, scope), dtype=float)  # noqa: S307


# each of these: NumPy's answer, which jac gives (the first four were silent wrong answers: a copy read as a view)
NUMPY_ANSWERED = [
    "a = A * 1; v = np.ascontiguousarray(a.T); v[0] = 1.0; a",
    "a = A * 1; v = np.ascontiguousarray(a[:, 0]); v[0] = 1.0; a",
    "a = A * 1; v = np.ascontiguousarray(a[::2]); v[0] = 1.0; a",
    "a = A * 1; v = np.asarray(a.T, order='C'); v[0] = 1.0; a",
    "a = A * 1; v = np.require(a.T, requirements='C'); v[0] = 1.0; a",
    "a = A * 1; v = np.ascontiguousarray(a.T); a[0, 0] = 9.0; v",
    "a = A * 1; v = np.ascontiguousarray(a); v[0] = 1.0; a",
    "a = A * 1; v = np.ascontiguousarray(a); a[0, 0] = 9.0; v",
    "a = A * 1; v = np.ascontiguousarray(a[0]); v[0] = 1.0; a",
    "a = A * 1; v = np.asfortranarray(a); v[0] = 1.0; a",
    "a = A * 1; v = np.asfortranarray(a); a[0, 0] = 9.0; v",
    "a = A * 1; v = np.asfortranarray(a.T); v[0] = 1.0; a",
    "a = A * 1; v = np.asfortranarray(a[0]); v[0] = 1.0; a",
    "a = A * 1; v = np.asarray(a, order='F'); a[0, 0] = 9.0; v",
    "a = A * 1; v = np.asarray(a); v[0] = 1.0; a",
    "a = A * 1; v = np.asarray(a, copy=True); v[0] = 1.0; a",
    "a = A * 1; v = np.array(a, copy=None); v[0] = 1.0; a",
    "a = A * 1; v = np.require(a, requirements=['C', 'A']); v[0] = 1.0; a",
    "a = A * 1; v = np.require(a, requirements='F'); v[0] = 1.0; a",
]
# a copy or not as a dtype or an ownership says, which jac does not model: refused, never answered otherwise
NUMPY_REFUSED = [
    "a = A * 1; v = np.asarray(a, dtype=np.float32); v[0] = 1.0; a",
    "a = A * 1; v = np.require(a.T, requirements='O'); v[0] = 1.0; a",
]


@pytest.mark.parametrize("text", NUMPY_ANSWERED)
def test_numpy_layout_calls_answer_as_numpy(text):
    assert np.array_equal(np.asarray(api.evaluate(text, {"A": S}), dtype=float), _numpy(text))


@pytest.mark.parametrize("text", NUMPY_REFUSED)
def test_numpy_layout_calls_unknown_are_refused(text):
    with pytest.raises(JacError):
        api.evaluate(text, {"A": S})


def _torch(text: str):
    torch = pytest.importorskip("torch")
    body, last = _split(text)
    leaves = {"A": torch.tensor(A, requires_grad=True), "x": torch.tensor(X, requires_grad=True)}
    scope = {"torch": torch, **leaves}
    exec(body, scope)  # noqa: S102
    y = eval(last, scope)  # noqa: S307
    flat = y.reshape(-1)
    rows = [torch.autograd.grad(flat[i], [leaves["A"], leaves["x"]], retain_graph=True, allow_unused=True)
            for i in range(flat.numel())]
    jac = {k: np.stack([(r[j] if r[j] is not None else torch.zeros_like(leaves[k])).reshape(-1).numpy()
                        for r in rows]).reshape(tuple(y.shape) + tuple(leaves[k].shape))
           for j, k in enumerate(("A", "x"))}
    return y.detach().numpy(), jac


# views of a product that broadcasts (t = A * x), which jac refused before: PyTorch lays it out contiguous
TORCH_ANSWERED = [
    "t = A * x; v0 = t[0]; t.zero_(); v0 * 1",
    "t = A * x; v0 = t[0]; t.mul_(x[1]); torch.cat([v0, t.reshape(-1)])",
    "t = torch.sin(A) * x; v0 = t.T; v0.add_(x[0]); t * 1",
    "t = A.clone() * x; v0 = t.view(-1); v0.mul_(2); t.sum()",
    "t = A * x; v0 = t.diagonal(); v0.exp_(); t",
    "t = A * x; v0 = t[:, 1]; v0[0] = x[2]; (t * t).sum()",
    "t = A * x; v0 = t.select(0, 1); v1 = t.narrow(1, 0, 2); v0.sin_(); torch.cat([v1.reshape(-1), t.reshape(-1)])",
    "t = x[:, None] * x[None, :]; v0 = t[1:]; v0.mul_(x[0]); t",
    "t = A * 1; v0 = t.T.contiguous(); v0.mul_(2); t",
    "t = A * 1; v0 = t.T.contiguous(); t.mul_(x[0]); v0",
]


@pytest.mark.parametrize("text", TORCH_ANSWERED)
def test_views_of_a_broadcast_product_as_pytorch(text):
    value, jac = _torch(text)
    bindings = {"A": A, "x": X}
    assert np.allclose(np.asarray(api.evaluate(text, bindings), dtype=float), value, rtol=1e-13, atol=1e-15)
    ours = api.jacobian(text, bindings)
    for k in ("A", "x"):
        assert np.allclose(np.asarray(ours[k], dtype=float), jac[k], rtol=1e-13, atol=1e-15)


# PyTorch raises ("view size is not compatible"): a view of the transpose of a broadcast product, answered before
TORCH_RAISES = [
    "t = A.clone() * x; v0 = t.t(); v1 = t[:, 1]; v2 = v0.view(-1); z0 = v1 + 1; v0.sum()",
    "t = A.clone() * x; v0 = t.permute(1, 0); v2 = v0.view(12, 1); t",
]


@pytest.mark.parametrize("text", TORCH_RAISES)
def test_view_of_a_transposed_broadcast_product_raises_as_pytorch(text):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        _torch(text)
    with pytest.raises(JacError, match="view size is not compatible"):
        api.evaluate(text, {"A": A, "x": X})
    assert torch is not None


# PyTorch's .contiguous() of a transpose is a new contiguous tensor: a reshape of it is a view, so a write through the
# reshape changes it; jac gave it unchanged (a silent wrong answer), it refuses now
@pytest.mark.parametrize("text", [
    "t = A * 1; v0 = t.T.contiguous(); v1 = v0.reshape(-1); v1.mul_(2); v0",
    "t = A * 1; v = t.T; v0 = v.contiguous(); v1 = v0.reshape(-1); v1.mul_(x[1]); torch.cat([v0.reshape(-1), v.reshape(-1)])",
])
def test_reshape_of_a_contiguous_copy_is_not_answered_otherwise(text):
    value, _ = _torch(text)
    try:
        ours = np.asarray(api.evaluate(text, {"A": A, "x": X}), dtype=float)
    except JacError:
        return
    assert np.allclose(ours, value)
