"""An integer index array computed from the inputs used as a subscript (session 57, lang/parser.py's
``at_computed_array``): ``y[y.argsort()]``, ``x[np.argsort(x)]``, ``x[torch.topk(x, k).indices]``, ``A[:, idx]``,
``A[idx, 0]``, sliced, flipped or reshaped, lowered to the ``take_along`` jac already differentiates. Jacobians
against PyTorch's (float64) and central differences at random points away from ties, compiled functions
called again at a point of another order, VJPs, JVPs, Hessians and batches; the refusals: an index that
could be out of range, PyTorch's unspecified order of ties, a layout NumPy and PyTorch read two ways, writes."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import central, refused

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_float64")  # PyTorch's constructors in float64 (conftest)

# (jac's text, PyTorch's function of the same inputs, input shapes)
CASES = [
    ("y = torch.sin(x); y[y.argsort()]", lambda x: torch.sin(x)[torch.sin(x).argsort()], {"x": (6,)}),
    ("x[np.argsort(x)] ** 2", lambda x: x[x.argsort()] ** 2, {"x": (5,)}),
    ("A.amin(0)[A.amin(0).argsort(0)]", lambda A: A.amin(0)[A.amin(0).argsort(0)], {"A": (3, 4)}),
    ("y = torch.exp(x); y[y.argsort(dim=0, stable=True)]",
     lambda x: torch.exp(x)[torch.exp(x).argsort(dim=0, stable=True)], {"x": (5,)}),
    ("x[torch.topk(x, 3).indices] * 2", lambda x: x[torch.topk(x, 3).indices] * 2, {"x": (6,)}),
    ("x[x.argsort()[:2]]", lambda x: x[x.argsort()[:2]], {"x": (5,)}),
    ("torch.tanh(x[x.argsort().flip(0)]) * x", lambda x: torch.tanh(x[x.argsort().flip(0)]) * x, {"x": (4,)}),
    ("x[torch.argsort(x, descending=True)] * w", lambda x, w: x[torch.argsort(x, descending=True)] * w,
     {"x": (4,), "w": (4,)}),
    ("x[torch.sort(x).indices]", lambda x: x[torch.sort(x).indices], {"x": (5,)}),
    ("A[A[:, 0].argsort()]", lambda A: A[A[:, 0].argsort()], {"A": (4, 3)}),
    ("A[:, A[0].argsort()]", lambda A: A[:, A[0].argsort()], {"A": (3, 4)}),
    ("A[A[:, 1].argsort(), 0]", lambda A: A[A[:, 1].argsort(), 0], {"A": (4, 3)}),
    ("A[0, A[0].argsort()]", lambda A: A[0, A[0].argsort()], {"A": (3, 4)}),
    ("A[torch.sort(A[:, 0], descending=True).indices][:2]",
     lambda A: A[torch.sort(A[:, 0], descending=True).indices][:2], {"A": (4, 3)}),
    ("A.T[A.argmax(0)]", lambda A: A.T[A.argmax(0)], {"A": (3, 4)}),
    ("A[A.argmin(1, keepdim=True)]", lambda A: A[A.argmin(1, keepdim=True)], {"A": (3, 3)}),
    ("x[x.reshape(2, 3).argsort(1)]", lambda x: x[x.reshape(2, 3).argsort(1)], {"x": (6,)}),
    ("B[..., B[0, 0].argsort()]", lambda B: B[..., B[0, 0].argsort()], {"B": (2, 3, 4)}),
    ("B[1:, B[0, :, 0].argsort()[1:], :2]", lambda B: B[1:, B[0, :, 0].argsort()[1:], :2], {"B": (3, 3, 4)}),
    ("x[x.argsort()][x.argsort()]", lambda x: x[x.argsort()][x.argsort()], {"x": (5,)}),
    ("y = x ** 3; y[y.argsort()].cumsum(0)", lambda x: (x ** 3)[(x ** 3).argsort()].cumsum(0), {"x": (5,)}),
]


def _close(ours, theirs, err_msg=""):
    """Equal to rounding (NumPy's and PyTorch's exp, sin differ in the last bit); a wrong order is off by O(1)."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15, err_msg=err_msg)


def _point(shapes, seed):
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(s) for k, s in shapes.items()}


def _torch_jacobian(fn, point):
    names = list(point)
    args = tuple(torch.tensor(point[k]) for k in names)
    J = torch.autograd.functional.jacobian(fn, args)
    return {k: J[i].numpy() for i, k in enumerate(names)}


@pytest.mark.parametrize("seed", [5701, 5702, 5703])
@pytest.mark.parametrize("text, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_jacobian_is_pytorchs_and_central_differences(text, fn, shapes, seed):
    point = _point(shapes, seed)
    value = api.evaluate(text, point)
    _close(value, fn(*(torch.tensor(v) for v in point.values())).numpy())
    ours, theirs = api.jacobian(text, point), _torch_jacobian(fn, point)
    for k in point:
        _close(ours[k], theirs[k], err_msg=k)
        np.testing.assert_allclose(ours[k], central(text, point, k), rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.parametrize("text, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_a_compiled_function_reads_the_indices_again_at_every_call(text, fn, shapes):
    points = [_point(shapes, s) for s in (11, 12, 13)]
    f = api.compile(text, points[0])
    for point in points:  # the order of the values differs from point to point
        theirs = _torch_jacobian(fn, point)
        _close(f.value(point), fn(*(torch.tensor(v) for v in point.values())).numpy())
        ours = f.jacobian(point)
        for k in point:
            _close(ours[k], theirs[k], err_msg=k)


@pytest.mark.parametrize("text, fn, shapes", [CASES[0], CASES[4], CASES[10], CASES[17]],
                         ids=[CASES[k][0] for k in (0, 4, 10, 17)])
def test_kernels_and_structured_jacobians_read_each_calls_order(text, fn, shapes):
    """The second identical call makes a kernel (checked at its values), the later ones run it: every call at
    another order of the values must still be PyTorch's, structured or dense, and so must VJPs and JVPs."""
    f = api.compile(text, _point(shapes, 30))
    for s in range(30, 37):
        point = _point(shapes, s)
        args = tuple(torch.tensor(v) for v in point.values())
        theirs = _torch_jacobian(fn, point)
        dense, structured = f.jacobian(point), f.jacobian(point, structured=True)
        y = fn(*args)
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


def test_the_orders_differ_between_the_compiled_points():
    orders = {tuple(np.argsort(np.sin(_point({"x": (6,)}, s)["x"]))) for s in (11, 12, 13)}
    assert len(orders) == 3


def test_vjp_jvp_hessian_against_pytorch():
    text = "y = torch.sin(x) * w; y[y.argsort()][:3] ** 2"
    fn = lambda x, w: (torch.sin(x) * w)[(torch.sin(x) * w).argsort()][:3] ** 2
    point = _point({"x": (5,), "w": (5,)}, 21)
    args = tuple(torch.tensor(v) for v in point.values())
    v, t = np.arange(1.0, 4.0), {"x": np.linspace(-1, 1, 5), "w": np.ones(5)}
    _, theirs = torch.autograd.functional.vjp(fn, args, torch.tensor(v))
    ours = api.vjp(text, point, v=v)
    for i, k in enumerate(point):
        np.testing.assert_allclose(ours[k], theirs[i].numpy(), rtol=1e-14, atol=1e-15)
    _, theirs = torch.autograd.functional.jvp(fn, args, tuple(torch.tensor(t[k]) for k in point))
    np.testing.assert_allclose(api.jvp(text, point, tangents=t), theirs.numpy(), rtol=1e-14, atol=1e-15)
    scalar = "y = torch.sin(x) * w; (y[y.argsort()][:3] ** 2).sum()"
    H = torch.autograd.functional.hessian(lambda x, w: fn(x, w).sum(), args)
    ours = api.hessian(scalar, point)
    for i, a in enumerate(point):
        for j, b in enumerate(point):
            np.testing.assert_allclose(ours[(a, b)], H[i][j].numpy(), rtol=1e-12, atol=1e-14)


def test_a_batch_reads_each_examples_order():
    text = "y = torch.sin(x) * w; y[y.argsort()]"
    rng = np.random.default_rng(57)
    xs, w = rng.standard_normal((4, 5)), rng.standard_normal(5)
    J = api.jacobian(text, {"x": xs, "w": w}, batch=["x"])
    for b in range(4):
        theirs = _torch_jacobian(lambda x, w: (torch.sin(x) * w)[(torch.sin(x) * w).argsort()],
                                 {"x": xs[b], "w": w})
        _close(J["x"][b], theirs["x"])
        _close(J["w"][b], theirs["w"])


def test_numpys_argpartition_indexes_as_numpy():
    x = np.random.default_rng(3).standard_normal(7)
    text = "x[np.argpartition(x, 3)] * 2"
    _close(api.evaluate(text, {"x": x}), x[np.argpartition(x, 3)] * 2)
    np.testing.assert_allclose(api.jacobian(text, {"x": x})["x"], central(text, {"x": x}, "x"), rtol=1e-6, atol=1e-7)


def test_the_command_line_answers(capsys):
    from jacobi_cli.cli import entry
    assert entry.main(["eval", "y = torch.sin(x); y[y.argsort()]", "x=[0.3,-1.2,0.7,2.0]", "--json"]) == 0
    assert entry.main(["eval", "y = torch.sin(x); y[y.argsort()]", "x=[[0.3,-1.2,0.7],[2.0,1.0,0.5]]",
                       "--batch", "x", "--json"]) == 0


# --- refusals ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, bindings, words", [
    ("x[x.argsort() + 1]", ["x=[0.3,-1.2,0.7]"], ["must be in range for every value of the inputs"]),
    ("A[A.argmax(1)]", ["A=[[1.0,2.0,3.0],[0.0,5.0,-1.0]]"], ["its indices run to 2, and the axis it indexes has 2 elements"]),
    ("y[x.argsort()]", ["x=[1.0,2.0,3.0]", "y=[1.0,2.0]"], ["its indices run to 2"]),
    ("x[x.argsort(), x.argsort()]", ["x=[[1.0,2.0],[3.0,4.0]]"], ["one such array at a time"]),
    ("B[0, :, B[0, 0].argsort()]", ["B=[[[1.0,2.0],[3.0,4.0]],[[1.0,2.0],[3.0,4.0]]]"], ["reads two ways"]),
    ("x[x.argsort()]", ["x=[" + ",".join(["1.0"] * 20) + "]"], ["equal elements", "stable=True"]),
    ("x[torch.topk(x, 2).indices]", ["x=[1.0,3.0,3.0,0.5]"], ["topk of equal elements"]),
    ("y = x.clone(); y[x.argsort()[[0, 0]]] = 0.0; y", ["x=[0.3,-1.2,0.7]"], ["indices that may repeat"]),
])
def test_refused(capsys, text, bindings, words):
    refused(capsys, text, bindings, *words)


def test_stable_ties_answer_as_pytorch():
    x = np.array([1.0] * 20)
    x[3] = 0.5
    text = "x[x.argsort(stable=True)] * torch.arange(20.0)"
    fn = lambda x: x[x.argsort(stable=True)] * torch.arange(20.0)
    _close(api.jacobian(text, {"x": x})["x"], _torch_jacobian(fn, {"x": x})["x"])


def test_an_index_read_from_an_input_keeps_its_place(capsys):
    """An integer index bound as an input is read at its values as before (not a computed array); where no values
    are given (jac shape) its refusal keeps the caret under the index."""
    from jacobi_cli.cli import entry
    assert entry.main(["shape", "E[idx.long()]", "E:5x2", "idx:3", "--json"]) == 2
    out, err = capsys.readouterr()
    import json
    error = json.loads(out)["error"]
    assert "an index read from the input 'idx'" in error["message"] and error["position"] == 2, error
    E = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(api.evaluate("E[idx.long()]", {"E": E, "idx": [2.0, 0.0]}), E[[2, 0]])
