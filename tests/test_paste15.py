"""What users paste, found refused or wrong by benchmarks/paste15_sweep.py and fixed: each snippet is run by
Python itself with PyTorch 2.13 (float64; integer inputs as long tensors) as the reference for jac's value,
Jacobians and a VJP, or refused with exit 2 and a message that says what to write instead.

The fixes: ``def``/``lambda`` functions (written out at each call), ``torch.nn`` modules without parameters,
``import torch.nn as nn``, ``with torch.no_grad()``, docstrings, annotations, ``a = b = v``,
``x.requires_grad_()`` of an input, integer index arrays bound as inputs, comprehensions and Python's ``sum``
of them, typeset characters from web pages, ``math.f(t)`` of a tensor (a Python float, derivative 0, as in
PyTorch: jac differentiated it), the one library a text calls reading its ambiguous methods, messages for
``loss.backward()``, prompts and pasted names."""

from __future__ import annotations

import ast
import json
import warnings

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
rng = np.random.default_rng(1515)
X3, Y3, X5 = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(5)
A34, B34, H = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((2, 6))
LOGITS, LABELS = rng.standard_normal((4, 5)), np.array([0, 3, 1, 4])
Q, K, V = rng.standard_normal((4, 8)), rng.standard_normal((4, 8)), rng.standard_normal((4, 8))


def python_reference(code: str, inputs: dict) -> dict:
    """The value of the snippet's last statement and its Jacobians, run by Python with PyTorch."""
    floats = [k for k, v in inputs.items() if np.asarray(v).dtype.kind == "f"]
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(*xs):
        scope = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, "np": np, "math": __import__("math")}
        scope.update({k: torch.tensor(v) for k, v in inputs.items()})
        scope.update(dict(zip(floats, xs)))
        exec(compile(body, "<snippet>", "exec"), scope)
        return eval(compile(last, "<snippet>", "eval"), scope)

    args = tuple(torch.tensor(np.asarray(inputs[k], dtype=np.float64)) for k in floats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = f(*args)
        jac = torch.autograd.functional.jacobian(f, args)
    return {"value": value.detach().numpy(), "jacobian": dict(zip(floats, (j.numpy() for j in jac)))}


def assert_agrees(code: str, inputs: dict, ref: str | None = None) -> None:
    """jac's value, Jacobians and a VJP equal those of the snippet (or ``ref``) run by PyTorch."""
    theirs = python_reference(ref or code, inputs)
    floats = list(theirs["jacobian"])
    value = api.evaluate(code, inputs)
    np.testing.assert_allclose(value, theirs["value"], rtol=1e-10, atol=1e-12)
    ours = api.jacobian(code, inputs, wrt=floats)
    v = np.random.default_rng(0).standard_normal(np.shape(value))
    grads = api.vjp(code, inputs, v=v, wrt=floats)
    for k in floats:
        np.testing.assert_allclose(ours[k], theirs["jacobian"][k], rtol=1e-10, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(grads[k], np.tensordot(v, theirs["jacobian"][k], axes=np.ndim(value)),
                                   rtol=1e-10, atol=1e-12, err_msg=k)


def refused(capsys, code: str, bindings: list, *words) -> dict:
    """``jac eval CODE BINDINGS --json``: exit 2, one ``jac: error`` line, the message holding ``words``."""
    code_ = entry.main(["eval", code, *bindings, "--json"])
    out, err = capsys.readouterr()
    assert code_ == 2 and err.count("jac: error") == 1 and "Traceback" not in err, (code_, err)
    error = json.loads(out)["error"]
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error


AGREE = [
    # functions the text defines: written out at each call, in a scope of their own, names read at the call
    ("def f(x):\n    return (x ** 2).sum()\nf(x)", {"x": X3}, None),
    ("def loss(pred, target):\n    return ((pred - target) ** 2).mean()", {"pred": X3, "target": Y3},
     "((pred - target) ** 2).mean()"),
    ("def f(x):\n    \"\"\"Squared norm.\"\"\"\n    y = x * x\n    return y.sum()", {"x": X3}, "(x * x).sum()"),
    ("def f(x, scale=2.0):\n    return scale * x\nf(x) + f(x, scale=3.0)", {"x": X3}, None),
    ("def sq(t):\n    return t * t\ndef f(x):\n    return sq(x).sum()\nf(x)", {"x": X3}, None),
    ("a = x\nf = lambda t: t * a\na = y\nf(x)", {"x": X3, "y": Y3}, None),
    ("def f(t):\n    x = t * 3\n    return x\nf(y) + x", {"x": X3, "y": Y3}, None),
    ("def outer(t):\n    def inner(u):\n        return u * t\n    return inner(t + 1)\nouter(x)", {"x": X3}, None),
    ("def attention(q, k, v):\n    d = q.shape[-1]\n    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), -1)"
     "\n    return w @ v\nattention(Q, K, V)", {"Q": Q, "K": K, "V": V}, None),
    ("(lambda t: t ** 3)(x)", {"x": X3}, None),
    ("lambda x: torch.sin(x).sum()", {"x": X3}, "torch.sin(x).sum()"),
    # torch.nn modules without parameters
    ("nn.MSELoss()(pred, target)", {"pred": X3, "target": Y3}, None),
    ("criterion = nn.CrossEntropyLoss(label_smoothing=0.1)\nloss = criterion(logits, labels)\nloss",
     {"logits": LOGITS, "labels": LABELS}, None),
    ("loss_fn = torch.nn.MSELoss(reduction='sum')\nloss_fn(pred, target)", {"pred": X3, "target": Y3}, None),
    ("import torch.nn as nn\nnn.Softmax(dim=1)(x)", {"x": H}, None),
    ("from torch import nn\nnn.LeakyReLU(0.1)(x) + nn.Hardtanh(-0.5, 0.5)(x)", {"x": X5}, None),
    ("nn.Flatten()(x)", {"x": rng.standard_normal((2, 3, 4))}, None),
    ("nn.Sequential(nn.Tanh(), nn.Softmax(dim=-1))(x)", {"x": H}, None),
    ("nn.BCEWithLogitsLoss()(z, y)", {"z": X3, "y": np.array([0.0, 1.0, 1.0])}, None),
    # statements pasted around the code
    ("with torch.no_grad():\n    mu = x.mean(0)\n    sd = x.std(0)\n(x - mu) / sd", {"x": rng.standard_normal((5, 3))},
     None),
    ("x.requires_grad_()\ny.requires_grad = True\n(x * y).sum()", {"x": X3, "y": Y3}, "(x * y).sum()"),
    ("\"\"\"doc\"\"\"\ny: torch.Tensor = x * 2\nz: torch.Tensor\na = b = y.sum()\na + b", {"x": X3},
     "y = x * 2\na = b = y.sum()\na + b"),
    # integer indices bound as inputs (long tensors in PyTorch)
    ("-F.log_softmax(logits, dim=-1)[torch.arange(len(labels)), labels].mean()", {"logits": LOGITS, "labels": LABELS},
     None),
    ("-torch.log_softmax(logits, 1).gather(1, labels.unsqueeze(1)).mean()", {"logits": LOGITS, "labels": LABELS}, None),
    ("F.embedding(idx, E)", {"idx": np.array([0, 2, 1]), "E": rng.standard_normal((4, 3))}, None),
    ("E[idx].sum(0)", {"idx": np.array([3, 1]), "E": rng.standard_normal((4, 3))}, None),
    # comprehensions, Python's sum
    ("sum(x[i] ** 2 for i in range(3))", {"x": X3}, None),
    ("sum(w * v for w, v in zip(ws, vs))", {"ws": X3, "vs": Y3}, None),
    ("torch.stack([torch.outer(r, r) for r in A]).sum(0)", {"A": A34}, None),
    ("sum([i * x[i] for i in range(3) if i != 1])", {"x": X3}, None),
    ("sum([a, b, c])", {"a": X3, "b": Y3, "c": X3 * 2}, None),
    # math of a tensor is Python's float: no derivative (jac differentiated it)
    ("math.sqrt(s) * x", {"x": X3, "s": np.array(2.0)}, None),
    ("F.softmax(Q @ K.T / math.sqrt(d), dim=-1) @ V", {"Q": Q, "K": K, "V": V, "d": np.array(8.0)}, None),
    # the one library a text calls reads its ambiguous methods
    ("torch.softmax(Q @ K.transpose(-2, -1) / Q.size(-1) ** 0.5, dim=-1) @ V", {"Q": Q, "K": K, "V": V}, None),
    ("x.repeat(2, 1) * torch.ones(1)", {"x": A34}, None),
    ("x.new_tensor([1.0, 2.0, 3.0]) * x", {"x": X3}, None),
    # typeset characters from web pages
    ("x \u2212 y", {"x": X3, "y": Y3}, "x - y"),
    ("F.mse_loss(x, y, reduction=\u2018sum\u2019)", {"x": X3, "y": Y3}, "F.mse_loss(x, y, reduction='sum')"),
    ("torch.einsum(\u201ci,i->\u201d, x,\u00a0y)", {"x": X3, "y": Y3}, "torch.einsum('i,i->', x, y)"),
]


@pytest.mark.parametrize("code, inputs, ref", AGREE, ids=[" ".join(c[0].split())[:60] for c in AGREE])
def test_pasted_code_agrees_with_pytorch_running_it(code, inputs, ref):
    assert_agrees(code, inputs, ref)


def test_numpy_readings_of_a_numpy_text():
    x = rng.standard_normal((5, 3))
    got = api.evaluate("(x - x.mean(axis=0)) / x.std(axis=0) + np.pi", {"x": x})
    np.testing.assert_allclose(got, (x - x.mean(axis=0)) / x.std(axis=0) + np.pi, rtol=1e-12)
    got = api.evaluate("np.ones(1) * x.repeat(2, 0)", {"x": A34})
    np.testing.assert_array_equal(got, A34.repeat(2, 0))
    got = api.evaluate("np.array([np.dot(a, b) for a, b in zip(A, B)])", {"A": A34, "B": B34})
    np.testing.assert_allclose(got, np.einsum("ij,ij->i", A34, B34), rtol=1e-12)


def test_math_of_a_tensor_has_no_derivative_and_takes_one_element():
    assert not api.jacobian("math.exp(s) * x", {"x": X3, "s": np.array(0.5)})["s"].any()
    with pytest.raises(JacError, match=r"math.sqrt\(\) takes a number.*torch.sqrt\(x\)"):
        api.evaluate("math.sqrt(x)", {"x": X3})
    assert api.evaluate("math.log(8, 2)", {}) == pytest.approx(3.0)


REFUSED = [
    ("nn.Linear(3, 4)(x)", ["x:3"], "nn.Linear(...) holds parameters", "F.linear(x, W, b)"),
    ("layer = nn.LazyConvTranspose2d(2, 3)\nlayer(x)", ["x:1x1x4x4"], "F.conv_transpose2d(x, w, b)"),
    ("nn.Dropout(0.1)(x)", ["x:3"], "training mode", "F.dropout(x, training=False)"),
    ("nn.LSTM(3, 4)(x)", ["x:3"], "nn.LSTM(...) holds parameters", "rnn = nn.LSTM(...)", "rnn.weight_ih_l0"),
    ("nn.CrossMapLRN2d(2)(x)", ["x:3"], "'nn.CrossMapLRN2d' is not supported", "F.relu(x)"),  # nn.CTCLoss: read (session 28)
    ("nn.ReLU()", ["x:3"], "call it on an array"),
    ("def f(x):\n    return f(x)\nf(x)", ["x:3"], "f() calls itself"),
    ("def f(x, y):\n    return x * y", ["x:3"], "ends with the function f(x, y)", "'y' is not one", "y:SHAPE"),
    ("def f(a, *r): return a\nf(x, x.shape)", ["x:3"], "*args", "name a parameter for it"),  # *r: read (31)
    ("def f(a):\n    a += 1\n    return a\nf(x)", ["x:3"], "'a' is the input 'x'", "a leaf that requires grad"),
    ("y = x * 2\ndef f(a):\n    y[0] = a[0]\n    return a\nf(x)", ["x:3"], "not the function's own", "y.clone()"),
    ("v = x * 2\ndef f(a):\n    t = sum([v for v in a])\n    v[0] = 1.0\n    return t\nf(x)", ["x:3"],
     "not the function's own"),  # a comprehension's v is its own: the write is into the outer v
    ("def f(a, k=0):\n    if k:\n        return a\nf(x)", ["x:3"], "without a 'return'", "Python returns None"),
    ("def f(a):\n    a = a * 2\nf(x)", ["x:3"], "value is None"),
    ("f = lambda t: t\nf(x, x)", ["x:3"], "takes 1 positional argument but 2 were given"),
    ("with torch.no_grad():\n    x[0] = 1\nx", ["x:3"], "inside 'with torch.no_grad()'"),
    ("x.requires_grad_(False)\nx.sum()", ["x:3"], "'x' is bound on the command line"),
    # loss.backward() at the top level names the output (tests/test_leaves23.py); in a function it is refused
    ("def step(p, t):\n    loss = F.mse_loss(p, t)\n    loss.backward()\n    return loss\nstep(pred, target)",
     ["pred:3", "target:3"], "delete 'loss.backward()' and end with loss", "jac vjp --v V"),
    ("loss = F.mse_loss(pred, target)\nloss.backward()\noptimizer.step()", ["pred:3", "target:3"],
     "after loss.backward()", "end the text there"),
    ("x \u00d7 y", ["x:3", "y:3"], "write * in its place"),
    ("x\u00b2", ["x:3"], "write **2 in its place"),
    (">>> y = x ** 2\n>>> y.sum()", ["x:3"], "'>>>' is a prompt", "without the prompts"),
    ("In [1]: x.sum()", ["x:3"], "IPython's prompt"),
    ("$ jac eval 'x.sum()' x:3", ["x:3"], "shell line"),
    ("self.fc(x)", ["x:3"], "unknown name 'self'", "x @ W.T + b"),
    ("x = x.to(device)\nx", ["x:3"], "drop .to(device)"),
    ("model(x)", ["x:3"], "unknown function 'model'", "forward computation"),
    ("logits[range(4), labels]", ["logits:4x5", "labels=[0, 1.5, 2, 3]"], "must hold integers"),
    ("x.repeat(2, 1)", ["x:3x4"], "ambiguous", "torch.tile"),
    ("import numpy as torch\ntorch.relu(x)", ["x:3"], "reads numpy as 'np' only"),  # tnn.ReLU(): snippets33
    ("[x[0] * i for i in range(20000)]", ["x:3"], "more than 10,000 elements"),
    ("sum(x[0] * i for i in range(10 ** 8))", ["x:3"], "more than 10,000 elements"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[" ".join(r[0].split())[:50] for r in REFUSED])
def test_what_jac_cannot_read_is_refused_saying_what_to_write(capsys, case):
    code, bindings, *words = case
    refused(capsys, code, bindings, *words)


def test_an_index_read_from_an_input_needs_its_values(capsys):
    refused(capsys, "logits[range(4), labels]", ["logits:4x5", "labels:4"], "must hold integers")
    code = entry.main(["shape", "E[idx]", "E:4x3", "idx:2"])
    out, err = capsys.readouterr()
    assert code == 2 and "known only for given values" in err, err


def test_an_index_input_is_named_in_the_unused_warning(capsys):
    assert entry.main(["eval", "E[idx]", "E:4x3", "idx=[0, 2]", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    warning = next(w for w in warnings if w["kind"] == "unused")
    assert warning["in"] == "idx" and "only as an index, read at its values" in warning["message"]
    assert [w["kind"] for w in warnings] == ["by_value", "unused"]  # the graph holds at idx's values only


def test_a_function_scope_is_its_own_and_the_caller_names_are_read_at_the_call():
    x = np.array([1.0, 2.0])
    assert np.array_equal(api.evaluate("def f(t):\n    u = t * 2\n    return u\nu = x + 1\nf(x) * u", {"x": x}),
                          (x * 2) * (x + 1))
    with pytest.raises(JacError, match="unknown name 'u'"):
        api.evaluate("def f(t):\n    u = t * 2\n    return u\nf(x) + u", {"x": x})


def test_no_grad_detaches_what_it_assigns_and_nothing_else():
    x = np.array([1.0, 2.0, 4.0])
    jac = api.jacobian("with torch.no_grad():\n    w = x * 2\nw * x", {"x": x})["x"]
    np.testing.assert_array_equal(jac, np.diag(x * 2))
