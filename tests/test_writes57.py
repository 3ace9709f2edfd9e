"""A write with an integer index array computed from the inputs (session 57, lang/parser.py's ``write_computed``):
``y[x.argsort()[:2]] = v``, ``y[torch.topk(x, 2).indices] += v``, ``y[x.sort(...).indices.flip(0)[::2]] = 0``,
answered where the indices are distinct whatever the inputs (argsort, a sort's or topk's indices, argpartition of a
1-d array, then only sliced or flipped). Values (their bits: -0.0, inf, NaN) and Jacobians in ``x`` and ``v``
against PyTorch's (float64) and central differences, compiled functions called again at points of another order
(the kernel and the structured Jacobian too), VJP, JVP, Hessian, a batch, views of the written array, PyTorch's
saved-tensor check; refused: indices that may repeat (an index array's index, argmax), a 2-d write."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_index57 import _close, _point, _torch_jacobian
from test_jax16 import central, refused

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_float64")  # PyTorch's constructors in float64 (conftest)


def _set(y, idx, v):
    y = y.clone()
    y[idx] = v
    return y


def _add(y, idx, v):
    y = y.clone()
    y[idx] += v
    return y


# (jac's text, PyTorch's function of the same inputs, input shapes)
CASES = [
    ("y = x.clone(); y[x.argsort()[:2]] = 0.0; y", lambda x: _set(x, x.argsort()[:2], 0.0), {"x": (5,)}),
    ("y = x.clone(); y[x.argsort()[:2]] = v; y", lambda x, v: _set(x, x.argsort()[:2], v), {"x": (5,), "v": (2,)}),
    ("y = torch.sin(x); y[torch.topk(x, 3).indices] = v * 3; y",
     lambda x, v: _set(torch.sin(x), torch.topk(x, 3).indices, v * 3), {"x": (6,), "v": (3,)}),
    ("y = x * w; y[x.sort(descending=True).indices.flip(0)[::2]] += v; y",
     lambda x, w, v: _add(x * w, x.sort(descending=True).indices.flip(0)[::2], v), {"x": (5,), "w": (5,), "v": (3,)}),
    ("y = x.clone(); y[A[0].argsort()[1:]] = A[1, :3]; y",
     lambda x, A: _set(x, A[0].argsort()[1:], A[1, :3]), {"x": (4,), "A": (2, 4)}),
    ("y = x ** 2; y[torch.argsort(x, descending=True)] = v; y.cumsum(0)",
     lambda x, v: _set(x ** 2, torch.argsort(x, descending=True), v).cumsum(0), {"x": (4,), "v": (4,)}),
    ("y = x.clone(); z = y[1:]; y[x.argsort()[:2]] = v; z * 1",
     lambda x, v: _set(x, x.argsort()[:2], v)[1:] * 1, {"x": (4,), "v": (2,)}),
    ("y = x.clone(); z = y[1:]; z[x[1:].argsort()[:2]] *= v; y * 1",
     lambda x, v: torch.cat([x[:1], _mul(x[1:], x[1:].argsort()[:2], v)]), {"x": (4,), "v": (2,)}),
    ("y = x.clone(); z = y.view(2, 2).T[1]; z[x[:2].argsort()[:1]] = v; y", lambda x, v: _through_view(x, v),
     {"x": (4,), "v": (1,)}),
]


def _through_view(x, v):
    y = x.clone()
    z = y.view(2, 2).T[1]
    z[x[:2].argsort()[:1]] = v
    return y


# PyTorch's write functions by such an index (a 1-d array along dim 0), in-place ones too
FUNCTIONS = [
    ("x.scatter(0, x.topk(2).indices, 0.)", lambda x, v: x.scatter(0, x.topk(2).indices, 0.)),
    ("x.index_fill(0, x.argsort()[:2], -0.0)", lambda x, v: x.index_fill(0, x.argsort()[:2], -0.0)),
    ("torch.zeros_like(x).scatter(0, x.argsort()[:2], v)", lambda x, v: torch.zeros_like(x).scatter(0, x.argsort()[:2], v)),
    ("torch.zeros_like(x).scatter(0, x.argsort()[:2], x[:2] * 3)",
     lambda x, v: torch.zeros_like(x).scatter(0, x.argsort()[:2], x[:2] * 3)),
    ("x.index_copy(0, x.argsort()[1:3], v)", lambda x, v: x.index_copy(0, x.argsort()[1:3], v)),
    ("y = x.clone(); y.index_put_((x.argsort()[:2],), v); y", lambda x, v: x.clone().index_put_((x.argsort()[:2],), v)),
    ("y = x * 2; y.index_fill_(0, torch.sort(x).indices[::2], 1.5); y",
     lambda x, v: (x * 2).index_fill_(0, torch.sort(x).indices[::2], 1.5)),
    ("y = x * 2; y.scatter_(0, x.argsort().flip(0)[:2], v); y", lambda x, v: (x * 2).scatter_(0, x.argsort().flip(0)[:2], v)),
]


@pytest.mark.parametrize("seed", [5714, 5715, 5716])
@pytest.mark.parametrize("text, fn", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_pytorchs_write_functions(text, fn, seed):
    """Values bit for bit (-0.0 written as -0.0) and Jacobians in x and v (``+ 0 * v.sum()``: v an input of each)."""
    point = _point({"x": (5,), "v": (2,)}, seed)
    head, _, last = text.rpartition("; ")
    ours = (head + "; " if head else "") + f"({last}) + 0 * v.sum()"
    full = lambda x, v: fn(x, v) + 0 * v.sum()
    value = np.asarray(api.evaluate(ours, point))
    theirs = full(*(torch.tensor(v) for v in point.values())).detach().numpy()
    np.testing.assert_array_equal(value, theirs)
    np.testing.assert_array_equal(np.signbit(value), np.signbit(theirs))
    J, T = api.jacobian(ours, point), _torch_jacobian(full, point)
    f = api.compile(ours, _point({"x": (5,), "v": (2,)}, 50))
    for s in range(50, 54):
        other = _point({"x": (5,), "v": (2,)}, s)
        _close(f.value(other), full(*(torch.tensor(v) for v in other.values())).detach().numpy())
        _close(f.jacobian(other)["x"], _torch_jacobian(full, other)["x"])
    for k in point:
        _close(J[k], T[k], err_msg=k)


def test_numpys_put_along_axis_writes_as_numpy():
    x, v = np.random.default_rng(4).standard_normal(6), np.array([-0.0, 5.0])
    for text, axis in (("y = x.copy(); np.put_along_axis(y, np.argsort(x)[::-1][:2], v, 0); y", 0),
                       ("y = x.copy(); np.put_along_axis(y, np.argsort(x)[::-1][:2], v, axis=None); y", None)):
        y = x.copy()
        np.put_along_axis(y, np.argsort(x)[::-1][:2], v, axis)
        ours = np.asarray(api.evaluate(text, {"x": x, "v": v}))
        np.testing.assert_array_equal(ours, y)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(y))
        for k in ("x", "v"):
            np.testing.assert_allclose(api.jacobian(text, {"x": x, "v": v})[k], central(text, {"x": x, "v": v}, k),
                                       rtol=1e-6, atol=1e-7)


def _mul(y, idx, v):
    y = y.clone()
    y[idx] *= v
    return y


@pytest.mark.parametrize("seed", [5711, 5712, 5713])
@pytest.mark.parametrize("text, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_jacobian_is_pytorchs_and_central_differences(text, fn, shapes, seed):
    point = _point(shapes, seed)
    _close(api.evaluate(text, point), fn(*(torch.tensor(v) for v in point.values())).detach().numpy())
    ours, theirs = api.jacobian(text, point), _torch_jacobian(fn, point)
    for k in point:
        _close(ours[k], theirs[k], err_msg=k)
        np.testing.assert_allclose(ours[k], central(text, point, k), rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.parametrize("text, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_compiled_calls_kernels_and_structured_jacobians_read_each_calls_order(text, fn, shapes):
    """The second identical call makes a kernel (checked at its values), the later ones run it: every call at
    another order of the values must still be PyTorch's, dense or structured, and so must VJPs and JVPs."""
    f = api.compile(text, _point(shapes, 40))
    orders = set()
    for s in range(40, 47):
        point = _point(shapes, s)
        orders.add(tuple(np.argsort(next(iter(point.values())))))
        args = tuple(torch.tensor(v) for v in point.values())
        y = fn(*args)
        _close(f.value(point), y.detach().numpy())
        theirs = _torch_jacobian(fn, point)
        dense, structured = f.jacobian(point), f.jacobian(point, structured=True)
        v = np.random.default_rng(s).standard_normal(tuple(y.shape))
        _, pulled = torch.autograd.functional.vjp(fn, args, torch.tensor(v))
        pulled = pulled if isinstance(pulled, tuple) else (pulled,)
        ours_vjp = f.vjp(point, v)
        t = {k: np.random.default_rng(s + 100).standard_normal(np.shape(x)) for k, x in point.items()}
        _, pushed = torch.autograd.functional.jvp(fn, args, tuple(torch.tensor(t[k]) for k in point))
        _close(f.jvp(point, t), pushed.numpy())
        for i, k in enumerate(point):
            _close(dense[k], theirs[k], err_msg=k)
            _close(np.asarray(structured[k].to_array()), theirs[k], err_msg=k)
            _close(ours_vjp[k], pulled[i].numpy(), err_msg=k)
    assert len(orders) > 3


def test_the_bits_written_are_the_values_own():
    """-0.0 stays -0.0 (no 0 + -0.0), inf and NaN are written as they are (no 0 * inf), as PyTorch writes them."""
    x = np.array([0.3, -1.2, 0.7, 2.0, -0.5])
    text = "y = x.clone(); y[x.argsort()[:3]] = v; y"
    for v in ([-0.0, np.inf, np.nan], [np.nan, -0.0, -np.inf], [-0.0, -0.0, -0.0]):
        v = np.array(v)
        ours = np.asarray(api.evaluate(text, {"x": x, "v": v}))
        theirs = _set(torch.tensor(x), torch.tensor(x).argsort()[:3], torch.tensor(v)).numpy()
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
        J = api.jacobian(text, {"x": x, "v": v})
        _close(J["v"], _torch_jacobian(lambda x, v: _set(x, x.argsort()[:3], v), {"x": x, "v": v})["v"])
    ours = np.asarray(api.evaluate("y = x.clone(); y[x.argsort()[:2]] = -0.0; y", {"x": x}))
    assert np.signbit(ours).tolist() == [False, True, False, False, True]


def test_vjp_jvp_hessian_against_pytorch():
    text = "y = torch.sin(x) * w; y[x.argsort()[1:4]] = w[:3] ** 2; y"
    fn = lambda x, w: _set(torch.sin(x) * w, x.argsort()[1:4], w[:3] ** 2)
    point = _point({"x": (5,), "w": (5,)}, 21)
    args = tuple(torch.tensor(v) for v in point.values())
    v, t = np.arange(1.0, 6.0), {"x": np.linspace(-1, 1, 5), "w": np.ones(5)}
    _, theirs = torch.autograd.functional.vjp(fn, args, torch.tensor(v))
    ours = api.vjp(text, point, v=v)
    for i, k in enumerate(point):
        np.testing.assert_allclose(ours[k], theirs[i].numpy(), rtol=1e-14, atol=1e-15)
    _, theirs = torch.autograd.functional.jvp(fn, args, tuple(torch.tensor(t[k]) for k in point))
    np.testing.assert_allclose(api.jvp(text, point, tangents=t), theirs.numpy(), rtol=1e-14, atol=1e-15)
    H = torch.autograd.functional.hessian(lambda x, w: (fn(x, w) ** 3).sum(), args)
    ours = api.hessian(f"{text[:-1]}(y ** 3).sum()", point)
    for i, a in enumerate(point):
        for j, b in enumerate(point):
            np.testing.assert_allclose(ours[(a, b)], H[i][j].numpy(), rtol=1e-12, atol=1e-14)


def test_a_batch_reads_each_examples_order():
    text = "y = x * w; y[x.argsort()[:2]] = w[:2]; y"
    fn = lambda x, w: _set(x * w, x.argsort()[:2], w[:2])
    rng = np.random.default_rng(57)
    xs, w = rng.standard_normal((5, 4)), rng.standard_normal(4)
    assert len({tuple(np.argsort(x)[:2]) for x in xs}) > 2
    J = api.jacobian(text, {"x": xs, "w": w}, batch=["x"])
    for b in range(5):
        theirs = _torch_jacobian(fn, {"x": xs[b], "w": w})
        _close(J["x"][b], theirs["x"])
        _close(J["w"][b], theirs["w"])


def test_the_command_line_answers_a_batch(capsys):
    import json
    from jacobi_cli.cli import entry
    xs = [[0.3, -1.2, 0.7], [2.0, 1.0, 0.5]]
    assert entry.main(["eval", "y = x.clone(); y[x.argsort()[:1]] = -0.0; y", f"x={xs}", "--batch", "x",
                       "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    value = np.array(out["output"]["value"], dtype=float)
    np.testing.assert_array_equal(np.signbit(value), [[False, True, False], [False, False, True]])
    np.testing.assert_array_equal(np.array(out["jacobian"]["x"]["value"]),
                                  [np.diag([1.0, 0.0, 1.0]), np.diag([1.0, 1.0, 0.0])])


def test_numpys_argpartition_writes_as_numpy():
    x = np.random.default_rng(3).standard_normal(7)
    text = "y = x.copy(); y[np.argpartition(x, 2)[:3]] = v; y"
    v = np.array([10.0, 20.0, 30.0])
    y = x.copy()
    y[np.argpartition(x, 2)[:3]] = v
    _close(api.evaluate(text, {"x": x, "v": v}), y)
    for k in ("x", "v"):
        np.testing.assert_allclose(api.jacobian(text, {"x": x, "v": v})[k], central(text, {"x": x, "v": v}, k),
                                   rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("text, bindings, words", [
    ("y = x.clone(); y[x.argsort()[[0, 0]]] = 0.0; y", ["x=[0.3,-1.2,0.7]"], ["indices that may repeat"]),
    ("y = x.clone(); y[A.argmax(0)] = 0.0; y", ["x=[0.3,-1.2,0.7]", "A=[[1.0,2.0],[3.0,0.0]]"],
     ["indices that may repeat"]),
    ("y = x.clone(); y[x.reshape(2, 2).argsort(1)[0]] = 0.0; y", ["x=[0.3,-1.2,0.7,1.0]"],
     ["indices that may repeat"]),
    ("y = x.exp(); y[x.argsort()[:1]] = 0.0; y", ["x=[0.3,-1.2,0.7]"], ["exp saved 'y'"]),
    ("Y = A.clone(); Y[A[0].argsort()] = 0.0; Y", ["A=[[0.3,-1.2],[0.7,1.0]]"], ["only into a 1-d array"]),
    ("y = x.clone(); y[x.argsort()] = v; y", ["x=[0.3,-1.2,0.7]", "v=[1.0,2.0]"], ["does not broadcast"]),
    ("x.scatter(0, x.argsort()[[0, 0]], 1.0)", ["x=[0.3,-1.2,0.7]"], ["indices that may repeat"]),
    ("x.index_fill(0, A.argmax(0), 1.0)", ["x=[0.3,-1.2,0.7]", "A=[[1.0,2.0],[3.0,0.0]]"], ["indices that may repeat"]),
    ("y = x.exp(); y.index_fill_(0, x.argsort()[:1], 0.0); y", ["x=[0.3,-1.2,0.7]"], ["exp saved 'y'"]),
    ("A.scatter(1, A.argsort(1), A * 2)", ["A=[[0.3,-1.2],[0.7,1.0]]"], ["only into a 1-d array along dim 0"]),
    ("y = x.clone(); y.index_put_((x.argsort()[:2],), v, accumulate=True); y", ["x=[0.3,-1.2,0.7]", "v=[1.0,2.0]"],
     ["accumulate=False"]),
])
def test_refused(capsys, text, bindings, words):
    refused(capsys, text, bindings, *words)


@pytest.mark.parametrize("text, bindings, words", [
    ("y = x.clone(); y[x.argsort()[:2]] = 0.0; y", ["x:n"], ["needs the sizes as numbers"]),
    ("y = x.clone(); y[w.argsort()[:2]] = 0.0; y", ["x:3", "w:4"], ["they run to 3, and it has 3 elements"]),
])
def test_shape_refused(capsys, text, bindings, words):
    import json
    from jacobi_cli.cli import entry
    assert entry.main(["shape", text, *bindings, "--json"]) == 2
    message = json.loads(capsys.readouterr().out)["error"]["message"]
    for word in words:
        assert word in message, message
