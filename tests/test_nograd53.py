"""Writes in place under ``torch.no_grad()`` into tensors that are no leaf, and through ``.data`` (session 53,
lang/nograd.py), without PyTorch: the value is the written one, the derivative the old graph's (central differences
of the text with the write's change held constant: ``y + (written(y0) - y0)``), and the refusals say what PyTorch
says (tests/test_parity_nograd53.py runs the same kinds against PyTorch itself)."""

import contextlib
import io
import json

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.3, -0.7, 1.2, 0.45])
HEAD = "import torch\nimport torch.nn.functional as F\n"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def central(f, x, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def held(old, write, out):
    """The text's function with the write's change held at its value at X: out(y(x) + (write(y(X)) - y(X)), x)."""
    change = write(old(X)) - old(X)
    return lambda x: out(old(x) + change, x)


def relu(v):
    return np.maximum(v, 0)


def _round(v):
    return np.round(v)


CASES = [  # (the text's statements after t1 = x * 1.5 + 0.1, the write on t1's values, the output of t1 and x)
    ("with torch.no_grad():\n    t1.sigmoid_()", sigmoid, "(t1 ** 2).sum()", lambda t, x: (t ** 2).sum()),
    ("with torch.no_grad():\n    t1[0] = 5.0", lambda t: np.r_[5.0, t[1:]], "(t1 ** 2).sum()",
     lambda t, x: (t ** 2).sum()),
    ("with torch.no_grad():\n    t1 += 1", lambda t: t + 1, "(t1 ** 3) * x", lambda t, x: t ** 3 * x),
    ("with torch.no_grad():\n    t1.clamp_(0, 1)", lambda t: np.clip(t, 0, 1), "t1 * x", lambda t, x: t * x),
    ("with torch.no_grad():\n    t1.copy_(t1.round())", _round, "(t1 ** 3).sum()", lambda t, x: (t ** 3).sum()),
    ("with torch.no_grad():\n    t1[t1 > 0.5] = 0.0", lambda t: np.where(t > 0.5, 0.0, t), "torch.sin(t1) * x",
     lambda t, x: np.sin(t) * x),
    ("with torch.no_grad():\n    t1[0:2].zero_()", lambda t: np.r_[0.0, 0.0, t[2:]], "t1 ** 2", lambda t, x: t ** 2),
    ("with torch.no_grad():\n    t1.mul_(x)", None, "t1 ** 2", None),  # the write reads x: held below
    ("t1.data.mul_(2)", lambda t: 2 * t, "(t1 ** 2).sum()", lambda t, x: (t ** 2).sum()),
    ("t1.data[0] = 5.0", lambda t: np.r_[5.0, t[1:]], "t1 * x", lambda t, x: t * x),
    ("t1.data = torch.ones(4)", lambda t: np.ones(4), "t1 ** 2 * x", lambda t, x: t ** 2 * x),
    ("with torch.no_grad():\n    torch.relu_(t1)", relu, "t1 ** 2", lambda t, x: t ** 2),
    ("with torch.no_grad():\n    F.relu(t1, inplace=True)", relu, "t1 ** 2", lambda t, x: t ** 2),
    ("with torch.no_grad():\n    F.leaky_relu_(t1, 0.2)", lambda t: np.where(t > 0, t, 0.2 * t), "t1 ** 2",
     lambda t, x: t ** 2),
    ("act = torch.nn.ReLU(inplace=True)\nwith torch.no_grad():\n    act(t1)", relu, "t1 ** 2", lambda t, x: t ** 2),
    ("with torch.no_grad():\n    u = F.relu(t1, inplace=True)", relu, "t1 * u", lambda t, x: t * t),
    ("with torch.no_grad():\n    u = t1", lambda t: t, "u ** 2", lambda t, x: t ** 2),
    ("with torch.no_grad():\n    u = t1.contiguous()", lambda t: t, "u ** 2", lambda t, x: t ** 2),
    ("with torch.no_grad():\n    t1.unsqueeze_(0)", lambda t: t, "(t1 ** 2).sum(0)", lambda t, x: t ** 2),
    ("t1.data.detach_()", lambda t: t, "t1 ** 2", lambda t, x: t ** 2),
    ("def f(t):\n    with torch.no_grad():\n        t.mul_(2)\n    return t.sum()\ns = f(t1)", lambda t: 2 * t,
     "t1 ** 2 + s", lambda t, x: t ** 2 + t.sum()),
    ("with torch.no_grad():\n    t1[0], t1[1] = t1[1] * 1, t1[0] * 1", lambda t: np.r_[t[1], t[0], t[2:]], "t1 ** 2",
     lambda t, x: t ** 2),
    ("def g(t):\n    t.mul_(2)\n    return t\nwith torch.no_grad():\n    g(t1)", lambda t: 2 * t, "t1 ** 3",
     lambda t, x: t ** 3),
]


def _expected(case):
    statements, write, _, out = case
    old = lambda x: x * 1.5 + 0.1  # noqa: E731
    if write is None:  # t1.mul_(x) under no_grad: the x it multiplies by is held too
        return lambda x: (old(x) + (old(X) * X - old(X))) ** 2
    if "def f" in statements:  # s = t.sum() after the write, outside no_grad: its derivative is the old graph's
        change = write(old(X)) - old(X)
        return lambda x: (old(x) + change) ** 2 + (old(x) + change).sum()
    return held(old, write, out)


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0].split())[:50] for c in CASES])
def test_the_value_is_the_written_one_and_the_derivative_the_old_graphs(case):
    statements, _, output, _ = case
    text = HEAD + "t1 = x * 1.5 + 0.1\n" + statements + "\n" + output
    expected = _expected(case)
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), expected(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], central(expected, X), rtol=1e-6, atol=1e-7)


def test_a_view_made_before_sees_the_write_and_keeps_its_derivative():
    text = HEAD + "t1 = x * x\nv = t1[1:3]\nwith torch.no_grad():\n    t1.mul_(3)\n(v ** 3).sum() + t1.sum()"
    change = 2 * X * X
    f = lambda x: ((x * x + change)[1:3] ** 3).sum() + (x * x + change).sum()  # noqa: E731
    assert api.evaluate(text, {"x": X}) == pytest.approx(f(X), rel=1e-12)
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], central(f, X), rtol=1e-6, atol=1e-7)


def test_an_array_of_constants_written_under_no_grad_changes_its_values_alone():
    text = HEAD + "c = torch.zeros(4)\nwith torch.no_grad():\n    c[0] = 5.0\n    c[1] = x[0] * 2\n(x * c).sum()"
    c = np.array([5.0, 2 * X[0], 0, 0])
    assert api.evaluate(text, {"x": X}) == pytest.approx(X @ c, rel=1e-12)
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], c, rtol=1e-12)  # no derivative through c


def test_the_hessian_of_the_write_itself_is_zero():
    text = HEAD + "t1 = x * x\nwith torch.no_grad():\n    t1.sigmoid_()\n(t1 ** 3).sum()"
    s = sigmoid(X * X)
    hessian = api.hessian(text, {"x": X})[("x", "x")]  # d/dx 3 s² · 2x, s's derivative the old one's (2x)
    np.testing.assert_allclose(hessian, np.diag(6 * s * (2 * X) ** 2 + 6 * s ** 2), rtol=1e-10)
    assert api.vjp(text, {"x": X}, v=np.array(2.0))["x"] == pytest.approx(2 * 3 * s ** 2 * 2 * X, rel=1e-12)
    assert api.jvp(text, {"x": X}, tangents={"x": np.ones(4)}) == pytest.approx((3 * s ** 2 * 2 * X).sum(), rel=1e-12)


def test_detach_in_place_under_no_grad_detaches_the_tensor():
    text = HEAD + "t1 = x * 1\nwith torch.no_grad():\n    t1.detach_()\n(t1 ** 2).sum() + x.sum()"
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], np.ones(4), rtol=0)


def test_block_end_still_detaches_what_the_block_assigned():
    """t2 = t1 * 2 inside is a constant (PyTorch's result made under no_grad), written or not; t1 = t1 * 2 too."""
    text = HEAD + "t1 = x * 1\nwith torch.no_grad():\n    t2 = t1 * 2\n    t2.add_(1)\n(t1 ** 2).sum() + t2.sum()"
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], 2 * X, rtol=1e-12)
    text = HEAD + "t1 = x * 1\nwith torch.no_grad():\n    t1.add_(1)\n    t1 = t1 * 2\n(t1 ** 2).sum()"
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], np.zeros(4), atol=0)


def refused(text: str) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + text, {"x": X})
    return err.value.message


@pytest.mark.parametrize("text,saver", [
    ("t1 = torch.exp(x)\nwith torch.no_grad():\n    t1.add_(1)\nt1.sum()", "exp saved 't1' (its result)"),
    ("t1 = x * 1\nz = t1 * t1\nwith torch.no_grad():\n    t1[0] = 0.0\nz.sum()", "mul saved 't1'"),
    ("t1 = x * 1\nz = torch.sin(t1)\nwith torch.no_grad():\n    t1 += 1\nz.sum()", "sin saved 't1'"),
    ("t1 = torch.sigmoid(x)\nwith torch.no_grad():\n    t1[0], t1[1] = t1[1] * 1, t1[0] * 1\n(t1 ** 3).sum()",
     "sigmoid saved 't1' (its result)"),
    ("t1 = torch.sigmoid(x)\nt1[0], t1[1] = t1[1] * 1, t1[0] * 1\n(t1 ** 3).sum()", "sigmoid saved 't1' (its result)"),
    ("t1 = torch.exp(x)\nwith torch.no_grad():\n    t1.view(2, 2)[0].unsqueeze_(0)\n(t1 ** 3).sum()",
     "exp saved 't1' (its result)"),
])
def test_a_saved_tensor_written_under_no_grad_is_refused_in_pytorchs_words(text, saver):
    says = refused(text)
    assert "one of the variables needed for gradient computation has been modified by an inplace operation" in says
    assert saver in says and "jac_nograd" not in says


@pytest.mark.parametrize("text", [
    "t1 = torch.exp(x)\nt1.data.mul_(2)\nt1.sum()",
    "t1 = x * 1\nz = t1 * t1\nt1.data.mul_(2)\nz.sum()",
    "t1 = x * 1\nz = t1 * t1\nt1.data = torch.ones(4)\nz.sum()",
    "t1 = x * 1\nz = torch.sin(t1)\nwith torch.no_grad():\n    t1.data[0] = 2.0\nz.sum()",
])
def test_a_saved_tensor_written_through_data_is_refused_where_pytorch_answers_silently(text):
    says = refused(text)
    assert "bumps no version counter" in says and "silently" in says and "jac_nograd" not in says


@pytest.mark.parametrize("text,says", [
    ("with torch.no_grad():\n    x.mul_(2)\nx.sum()", "'x' is an input (a leaf tensor)"),
    ("v = x[0:2]\nwith torch.no_grad():\n    v.zero_()\nx.sum()", "'v' is an input (a leaf tensor) or a view of one"),
    ("t1 = x * 1\nv = t1[1:]\nt1.data = torch.ones(4)\nv.sum()", "'v' keeps the old one"),
    ("t1 = x * 1\nt1.data = torch.ones(5)\nt1.sum()", "not t1's (4,)"),
    ("t1 = x * 1\nw = torch.ones(4)\nt1.data = w\nt1.sum()", "write t1.data = w.clone()"),
    ("t1 = x * 1\nt1.data = 0\nt1.sum()", "Variable data has to be a tensor, but got int"),
    ("t1 = x * 1\nt1.data = [1.0, 2.0, 3.0, 4.0]\nt1.sum()", "Variable data has to be a tensor, but got list"),
    ("jac_nograd_written = 1\nt1 = x * 1\nwith torch.no_grad():\n    t1[0:2].zero_()\nt1.sum()",
     "a name jac keeps"),
])
def test_what_is_refused_says_why(text, says):
    assert says in refused(text)


def test_the_json_of_hessian_vjp_and_jvp_reads_the_write_so():
    text = HEAD + "t1 = x * x\nwith torch.no_grad():\n    t1.sigmoid_()\n(t1 ** 3).sum()"
    x = np.array([0.3, -0.7])
    s = sigmoid(x * x)
    for command, extra, key in (("hessian", [], "hessian"), ("vjp", ["--v", "2"], "vjp"),
                                ("jvp", ["--tangent", "x=[1,1]"], "jvp")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert entry.main([command, text, "x=[0.3,-0.7]", *extra, "--json"]) == 0
        found = json.loads(out.getvalue())
        assert found["output"]["value"] == pytest.approx((s ** 3).sum(), rel=1e-12)
        if key == "hessian":
            np.testing.assert_allclose(found["hessian"]["x,x"]["value"], np.diag(6 * s * (2 * x) ** 2 + 6 * s ** 2),
                                       rtol=1e-12)
        elif key == "vjp":
            np.testing.assert_allclose(found["vjp"]["x"]["value"], 2 * 3 * s ** 2 * 2 * x, rtol=1e-12)
        else:
            assert np.asarray(found["jvp"]["value"]) == pytest.approx((3 * s ** 2 * 2 * x).sum(), rel=1e-12)
