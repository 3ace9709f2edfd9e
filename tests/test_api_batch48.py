"""Session 48: ``batch=`` on the API's vjp, jvp, hessian and derivative, as on jacobian (docs/api.md said "only
jacobian takes batch="; the command line's every command takes --batch). Each is the command's --batch itself, so
a batched call equals the unbatched calls stacked, and torch.func.vmap of the same function."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacLimitError, JacShapeError
from jacobi_cli.tools import api

TEXT = "sin(w * x).sum() * x[0] + (w * x ** 2).sum()"
X = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
W = np.array([2.0, -3.0])
T = np.array([[1.0, 0.5], [0.0, 2.0], [-1.0, 1.0]])


def stacked(calls):
    first = calls[0]
    if isinstance(first, dict):
        return {k: np.stack([c[k] for c in calls]) for k in first}
    return np.stack(calls)


def same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            same(a[k], b[k])
    else:
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


CALLS = {
    "vjp": (lambda bind, batch, i: api.vjp(TEXT, bind, v="ones", batch=batch)),
    "jvp": (lambda bind, batch, i: api.jvp(TEXT, bind, {"x": T if i is None else T[i], "w": np.ones(2)},
                                           batch=batch)),
    "hessian": (lambda bind, batch, i: api.hessian(TEXT, bind, batch=batch)),
    "derivative": (lambda bind, batch, i: api.derivative(TEXT, bind, 3, wrt="w", batch=batch)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_batched_call_is_the_examples_stacked(name):
    call = CALLS[name]
    got = call({"x": X, "w": W}, ["x"], None)
    same(got, stacked([call({"x": X[i], "w": W}, None, i) for i in range(3)]))


def test_a_batch_axis_other_than_0_and_several_outputs():
    text = "a = sin(w * x); a, (w * x).sum()"
    got = api.hessian(text, {"x": X.T, "w": W}, batch="x:1")
    each = [api.hessian(text, {"x": X[i], "w": W}) for i in range(3)]
    same(got, {o: stacked([e[o] for e in each]) for o in ("a", "y1")})
    got = api.vjp(text, {"x": X, "w": W}, v={"a": T}, batch=["x"])  # y1 left out: zero, as backward([a], [v])
    same(got, stacked([api.vjp(text, {"x": X[i], "w": W}, v={"a": T[i]}) for i in range(3)]))
    got = api.jvp(text, {"x": X, "w": W}, {"x": T}, batch=["x"])
    same(got, {o: stacked([api.jvp(text, {"x": X[i], "w": W}, {"x": T[i]})[o] for i in range(3)]) for o in ("a", "y1")})
    got = api.derivative(text, {"x": X, "w": W}, 2, wrt="x", batch=["x"])
    same(got, {o: stacked([api.derivative(text, {"x": X[i], "w": W}, 2, wrt="x")[o] for i in range(3)])
               for o in ("a", "y1")})


def test_torch_func_vmap_agrees():
    torch = pytest.importorskip("torch")
    from torch.func import hessian, jvp, vjp, vmap

    def f(x, w):
        return torch.sin(w * x).sum() * x[0] + (w * x ** 2).sum()

    x, w, t = (torch.tensor(a, dtype=torch.float64) for a in (X, W, T))
    grads = vmap(lambda xi: vjp(f, xi, w)[1](torch.ones((), dtype=torch.float64)), in_dims=0)(x)
    same(api.vjp(TEXT, {"x": X, "w": W}, v="ones", batch=["x"]), {"x": grads[0].numpy(), "w": grads[1].numpy()})
    out = vmap(lambda xi, ti: jvp(f, (xi, w), (ti, torch.ones(2, dtype=torch.float64)))[1])(x, t)
    same(api.jvp(TEXT, {"x": X, "w": W}, {"x": T, "w": np.ones(2)}, batch=["x"]), out.numpy())
    h = vmap(lambda xi: hessian(f, argnums=(0, 1))(xi, w))(x)
    got = api.hessian(TEXT, {"x": X, "w": W}, batch=["x"])
    for (i, a) in enumerate("xw"):
        for (j, b) in enumerate("xw"):
            np.testing.assert_allclose(got[(a, b)], h[i][j].numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: api.vjp("w * x", {"x": X, "w": W}, v=np.ones(2), batch=["x"]), JacShapeError,
     "v has shape (2,), but with the batch of 3"),
    (lambda: api.vjp("w * x", {"x": X, "w": W}, batch=["q"]), JacError, "batch=['q']: no input named 'q'"),
    (lambda: api.vjp("a = w * x; a, x", {"x": X, "w": W}, v=np.ones((3, 2)), batch=["x"]), JacError,
     "v is a dict {output: v}"),
    (lambda: api.vjp("a = w * x; a, x", {"x": X, "w": W}, v={"b": np.ones((3, 2))}, batch=["x"]), JacError,
     "v names no output 'b'"),
    (lambda: api.hessian("w * x", {"x": X, "w": W}, batch=["x"], max_memory="1K"), JacLimitError, "max_memory="),
    (lambda: api.derivative("w * x", {"x": X, "w": W}, 2, batch=["x"]), JacError, "name one with wrt="),
])
def test_refusals_speak_the_apis_words(call, error, words):
    with pytest.raises(error) as err:
        call()
    assert words in str(err.value) and "--" not in str(err.value)


def test_a_list_v_is_one_value_and_float32_and_timeout_are_taken():
    got = api.vjp("w * x", {"x": X, "w": W}, v=[[1, 2], [3, 4], [5, 6]], batch=["x"], dtype="float32", timeout=60)
    assert got["x"].dtype == np.float32
    same(got["x"], (np.array([[1, 2], [3, 4], [5, 6]]) * W).astype(np.float32))
