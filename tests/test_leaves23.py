"""PyTorch's leaves made in the text: ``x = torch.tensor([1., 2.], requires_grad=True)`` is an input with that
value, and ``y.backward()`` at the text's top level names the output (PyTorch's autograd tutorial as pasted).
Expected values by hand or with NumPy; tests/test_parity_leaves23.py runs the same texts under PyTorch."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacNameError, JacParseError, JacShapeError, JacUsageError, JacValueError
from jacobi_cli.tools import api

runner = CliRunner()

TUTORIAL = """import torch
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
z = y * y * 3
out = z.mean()
print(z, out)
out.backward()
print(x.grad)
"""

LAYER = """import torch
W = torch.randn(2, 3, requires_grad=True)
b = torch.zeros(2).requires_grad_()
loss = torch.tanh(W @ x + b).sum()
loss.backward()
print(W.grad, b.grad)
"""


def _eval(text, *bindings):
    result = runner.invoke(app, ["eval", text, *bindings, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_the_autograd_tutorial_gives_x_grad():
    code, report = _eval(TUTORIAL)
    assert code == 0, report
    assert report["output"]["name"] == "out" and report["output"]["value"] == 27.0
    assert report["inputs"] == {"x": {"shape": [2, 2], "kind": "matrix", "requires_grad": True}}
    assert report["jacobian"]["x"]["value"] == [[4.5, 4.5], [4.5, 4.5]]  # d/dx mean(3 (x + 2)^2) = 6 (x + 2) / 4


def test_a_tensor_literal_and_a_scalar():
    code, report = _eval("x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x ** 2).sum()\ny.backward()")
    assert code == 0 and report["jacobian"]["x"]["value"] == [2.0, 4.0, 6.0]
    code, report = _eval("x = torch.tensor(2.0, requires_grad=True)\ny = x ** 3\ny.backward()\nprint(x.grad)")
    assert code == 0 and report["jacobian"]["x"]["value"] == 12.0


def test_leaves_beside_bound_inputs_agree_with_numpy():
    f = api.compile(LAYER, {"x": ":3"})
    assert list(f.shapes) == ["x", "W", "b"] and set(f.declared) == {"W", "b"}
    W, b = f.declared["W"], f.declared["b"]
    assert not W.flags.writeable and b.tolist() == [0.0, 0.0]
    x = np.array([0.3, -0.2, 0.5])
    found = f.jacobian({"x": x})
    d = 1 - np.tanh(W @ x + b) ** 2
    np.testing.assert_allclose(found["W"], np.outer(d, x), rtol=1e-14)
    np.testing.assert_allclose(found["b"], d, rtol=1e-14)
    np.testing.assert_allclose(found["x"], W.T @ d, rtol=1e-14)
    # the one-call API and its cache: the same arrays
    again = api.jacobian(LAYER, {"x": x})
    np.testing.assert_array_equal(again["W"], found["W"])


def test_a_random_leaf_draws_what_the_same_constant_draws():
    made = api.compile("a = torch.rand(2)\nw = torch.randn(3, requires_grad=True)\n(w * a[0]).sum()").declared["w"]
    plain = api.evaluate("a = torch.rand(2)\nw = torch.randn(3)\nw")
    np.testing.assert_array_equal(made, plain)


def test_the_spellings_of_a_leaf():
    for text in ("w = torch.randn(3).requires_grad_()\n(w * w).sum()",
                 "w = torch.randn(3).requires_grad_(True)\n(w * w).sum()",
                 "import torch.nn as nn\nw = nn.Parameter(torch.randn(3))\n(w * w).sum()",
                 "w: torch.Tensor = torch.randn(3, requires_grad=True)\n(w * w).sum()",
                 "w = torch.randn(3, dtype=torch.float64, requires_grad=True)\n(w * w).sum()"):
        f = api.compile(text)
        assert list(f.shapes) == ["w"], text
        np.testing.assert_array_equal(f.jacobian({})["w"], 2 * f.declared["w"])


def test_eval_shows_the_values_the_text_made():
    result = runner.invoke(app, ["eval", LAYER, "x=[1, 2, 3]"])
    assert result.exit_code == 0, result.output
    assert "input  W: matrix (2, 3), requires grad, made in the text, drawn by jac (--seed), not PyTorch's " \
           "numbers:" in result.output
    assert "input  b: vector (2,), requires grad, made in the text:\n    [0. 0.]" in result.output
    assert "input  x: vector (3,), requires grad\n" in result.output


DRAWS = """import torch
noise = torch.randn(3)
v = torch.tensor([1., 2., 3.], requires_grad=True)
w = (0.1 * torch.rand(3)).requires_grad_()
fc = nn.Linear(3, 2)
norm = nn.LayerNorm(2)
attn = nn.MultiheadAttention(2, 1)
model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(2)])
h = model(norm(fc(x * v * w + noise)))
attn(h[None], h[None], h[None])[0].sum()
"""


def test_the_text_says_which_values_it_made_are_jacs_draws():
    # a value the generator made (torch.randn, torch.rand, a layer's initial parameters) is not the number
    # PyTorch would draw: the text says so; values written out, a norm's ones and zeros and attention's zero
    # biases are the text's own; a draw in an earlier statement (noise) marks no later input
    f = api.compile(DRAWS, {"x": ":3"})
    assert f.made.random == {"w", "fc.weight", "fc.bias", "attn.in_proj_weight", "attn.out_proj.weight",
                        "model.0.weight", "model.0.bias", "model.1.weight", "model.1.bias"}
    assert set(f.declared) - f.made.random == {"v", "norm.weight", "norm.bias", "attn.in_proj_bias",
                                          "attn.out_proj.bias"}
    result = runner.invoke(app, ["eval", DRAWS, "x=[1, 2, 3]"])
    assert result.exit_code == 0, result.output
    drawn = [line.split(":")[0].split()[-1] for line in result.output.splitlines()
             if line.startswith("  input") and "drawn by jac (--seed), not PyTorch's numbers" in line]
    assert set(drawn) == f.made.random


@pytest.mark.parametrize("command", [["vjp"], ["jvp", "--tangent", "W=ones(2, 3)"], ["hessian"], ["shape"],
                                     ["check"], ["graph"], ["derivative", "--wrt", "b"]])
def test_every_command_reads_the_leaves(command):
    result = runner.invoke(app, [command[0], LAYER, "x=[1, 2, 3]", *command[1:], "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["inputs"]) == {"x", "W", "b"}


def test_a_batch_shares_the_leaves():
    result = runner.invoke(app, ["eval", LAYER, "x=[[1, 2, 3], [0, 1, 0]]", "--batch", "x", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["jacobian"]["b"]["value"]
    f = api.compile(LAYER, {"x": ":3"})
    for row, x in zip(found, ([1.0, 2.0, 3.0], [0.0, 1.0, 0.0])):
        np.testing.assert_array_equal(row, f.jacobian({"x": np.array(x)})["b"])


def test_wrt_chooses_among_the_leaves():
    code, report = _eval(LAYER, "x=[1, 2, 3]", "--wrt", "b")
    assert code == 0 and set(report["jacobian"]) == {"b"}
    assert report["inputs"]["W"]["requires_grad"] is False


@pytest.mark.parametrize("text,bindings,error,words", [
    (LAYER, ["x=[1, 2, 3]", "W=ones(2, 3)"], JacUsageError, ["'W' is bound twice", "drop one"]),
    ("x = torch.ones(3, requires_grad=True)\nx = torch.ones(3, requires_grad=True)\nx.sum()", [], JacParseError,
     ["is made twice"]),
    ("x = torch.tensor(y * 2, requires_grad=True)\nx.sum()", ["y=[1, 2]"], JacValueError,
     ["must be known without the other inputs"]),
    ("x = torch.tensor([1, 2], requires_grad=True)\n(x * x).sum()", [], JacValueError,
     ["Only Tensors of floating point", "int64"]),
    ("x = torch.empty(3, requires_grad=True)\nx.sum()", [], JacValueError, ["whatever memory held"]),
    ("def f():\n    x = torch.ones(3, requires_grad=True)\n    return x\nf().sum()", [], JacValueError,
     ["top level", "inside a function"]),
    ("y = x * 2\nx = torch.ones(3, requires_grad=True)\ny.sum()", [], JacNameError, ["unknown name 'x'"]),
    ("x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward(torch.ones(2))", [], JacShapeError,
     ["V has shape (2,) but the output has shape (3,)", "Mismatch in shape"]),
    ("x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward([1., 1., 1.])", [], JacValueError,
     ["takes a tensor, not the Python value [1.0, 1.0, 1.0]"]),
    ("x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward(y)", [], JacValueError,
     ["known without the inputs' values", "vjp() v=V"]),
    ("x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward(torch.ones(3), inputs=[x])", [], JacValueError,
     ["'inputs=' not read", "y.backward(gradient=V)"]),
    ("x = torch.ones(3, requires_grad=True)\ny = x.sum()\ny.backward()\noptimizer.step()", [], JacParseError,
     ["after y.backward()", "end the text there"]),
    ("x = torch.ones(3, requires_grad=True)\nx += 1\nx.sum()", [], JacValueError, ["leaf Variable"]),
    ("x = torch.ones(3, device='cuda', requires_grad=True)\nx.sum()", [], JacValueError, ["CPU"]),
])
def test_what_is_refused(text, bindings, error, words):
    with pytest.raises(error) as found:
        api.jacobian(text, bindings)
    for word in words:
        assert word in found.value.message, found.value.message
    result = runner.invoke(app, ["eval", text, *bindings])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_compiled_function_refuses_a_value_for_a_leaf():
    f = api.compile("w = torch.zeros(2, requires_grad=True)\n(w * x).sum()", {"x": ":2"})
    np.testing.assert_array_equal(f.jacobian({"x": np.array([3.0, 4.0])})["w"], [3.0, 4.0])
    with pytest.raises(JacUsageError, match="'w' is bound twice: in the call and in the text"):
        f.jacobian({"x": np.ones(2), "w": np.ones(2)})


def test_backward_names_the_output_and_prints_are_read_as_nothing():
    code, report = _eval("y = x ** 2; y.sum().backward(); x.grad", "x=1")
    assert code == 0 and report["jacobian"]["x"]["value"] == 2.0
    code, report = _eval("y = sin(x)\nprint(y)\ny.backward()", "x=[0.0, 1.0]")
    assert code == 0 and report["output"]["name"] == "y"  # a vector: jac eval prints the Jacobian
    result = runner.invoke(app, ["vjp", "y = sin(x)\ny.backward()", "x=[0.0, 1.0]", "--v", "[1, 2]", "--json"])
    assert result.exit_code == 0
    np.testing.assert_allclose(json.loads(result.stdout)["vjp"]["x"]["value"], [1.0, 2 * np.cos(1.0)])
    # without a backward call, print stays refused: the last statement is the output
    with pytest.raises(JacError, match="print"):
        api.jacobian("y = sin(x)\nprint(y)\ny", {"x": 1.0})


def test_jac_diff_reads_the_leaves_at_their_values():
    text = "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x ** 2).sum()\ny.backward()"
    result = runner.invoke(app, ["diff", text, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["at"] == {"x": [1.0, 2.0, 3.0]} and report["output"]["value"] == 14.0
    result = runner.invoke(app, ["diff", text, "--at", "x=[0, 0, 0]"])
    assert result.exit_code == 2 and "makes 'x' with requires_grad=True" in result.output


def test_a_layers_parameters_are_inputs_drawn_as_pytorch_draws_them():
    text = ("model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))\nconv = nn.Conv2d(2, 6, (3, 2), groups=2)"
            "\nemb = nn.Embedding(4, 2, padding_idx=2)\nmodel(x).sum() + conv(c).sum() + emb.weight.sum()")
    f = api.compile(text, {"x": ":4", "c": ":1x2x4x4"})
    assert list(f.shapes) == ["x", "c", "model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias",
                              "conv.weight", "conv.bias", "emb.weight"]
    d = f.declared
    assert d["model.0.weight"].shape == (3, 4) and d["model.2.weight"].shape == (1, 3)
    assert d["conv.weight"].shape == (6, 1, 3, 2) and d["conv.bias"].shape == (6,)
    for name, fan_in in (("model.0", 4), ("model.2", 3), ("conv", 6)):  # kaiming_uniform(a=sqrt(5)): 1/sqrt(fan_in)
        for part in ("weight", "bias"):
            assert np.abs(d[f"{name}.{part}"]).max() <= 1 / np.sqrt(fan_in)
    assert d["emb.weight"][2].tolist() == [0.0, 0.0] and np.abs(d["emb.weight"]).max() > 0.05  # N(0, 1), row 2 zero
    found = f.jacobian({"x": np.ones(4), "c": np.ones((1, 2, 4, 4))})
    h = np.tanh(d["model.0.weight"] @ np.ones(4) + d["model.0.bias"])
    np.testing.assert_allclose(found["model.2.weight"], h[None, :], rtol=1e-14)  # d(w·h + b)/dw = h
    np.testing.assert_array_equal(found["emb.weight"], np.ones((4, 2)))


@pytest.mark.parametrize("text,words", [
    ("nn.Linear(3, 2)(x).sum()", ["assign it at the text's top level", "layer.weight"]),
    ("fc = nn.Linear(3, 2)\nfc = nn.Linear(3, 2)\nfc(x).sum()", ["'fc.weight' is made twice"]),
    ("fc = nn.Conv1d(3, 2, 2, padding_mode='reflect')\nfc(x).sum()", ["F.pad"]),
    ("fc = nn.Linear(4, 2)\nfc(x).sum()", ["weight must be (out, in)"]),
    ("fc = nn.Linear(3, 2, device='cuda')\nfc(x).sum()", ["CPU"]),
])
def test_what_is_refused_of_a_layer(text, words):
    with pytest.raises(JacError) as found:
        api.jacobian(text, {"x": np.ones(3)})
    for word in words:
        assert word in found.value.message, found.value.message


MODEL = """import torch
import torch.nn as nn

class MLP(nn.Module):
    def __init__(self, d_in, hidden=4):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, 1)
        self.gain = nn.Parameter(torch.tensor(2.0))
        self.shift = 0.5

    def forward(self, x):
        return self.gain * self.fc2(torch.relu(self.fc1(x))) + self.shift

model = MLP(3)
"""


def test_a_model_class_makes_its_parameters_inputs():
    f = api.compile(MODEL + "loss = model(x).pow(2).mean()\nloss.backward()", {"x": ":2x3"})
    assert list(f.shapes) == ["x", "model.fc1.weight", "model.fc1.bias", "model.fc2.weight", "model.fc2.bias",
                              "model.gain"]
    d, x = f.declared, np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7]])
    h = np.maximum(x @ d["model.fc1.weight"].T + d["model.fc1.bias"], 0)
    y = 2.0 * (h @ d["model.fc2.weight"].T + d["model.fc2.bias"]) + 0.5
    found = f.jacobian({"x": x})
    np.testing.assert_allclose(found["model.gain"], np.mean(2 * y * (y - 0.5) / 2.0), rtol=1e-13)
    np.testing.assert_allclose(found["model.fc2.bias"], [np.mean(2 * y * 2.0)], rtol=1e-13)
    assert f.value({"x": x}) == pytest.approx(np.mean(y ** 2), rel=1e-14)


def test_model_parameters_and_train():
    text = MODEL + "model.train()\nsum((p ** 2).sum() for p in model.parameters())"
    f = api.compile(text)
    found = f.jacobian({})
    for name, value in f.declared.items():
        np.testing.assert_allclose(found[name], 2 * value, rtol=1e-15)


@pytest.mark.parametrize("text,error,words", [
    ("class A(Exception):\n    pass\nx.sum()", JacParseError, ["jac reads classes with no base"]),  # a plain
    # class A: is read since session 34 (lang/plain.py)
    ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\nx.sum()", JacParseError,
     ["has no forward"]),
    ("class A(nn.Module):\n    n = 3\n    def forward(self, x):\n        return x\nA()(x).sum()", JacParseError,
     ["n = 3 is not one"]),
    ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(3, 3)\n"
     "    def forward(self, x):\n        return self.fc(x)\ndef f(x):\n    return A()(x)\nf(x).sum()",
     JacValueError, ["makes a module", "top level"]),  # one without parameters is a function (tests/test_snippets34)
    (MODEL + "model.fc3(x).sum()", JacNameError, ["no method 'fc3'"]),
    ("class A(nn.Module):\n    def forward(self, x):\n        return self.w * x\nm = A()\nm(x).sum()", JacNameError,
     ["no attribute 'w' set in its __init__"]),
    ("class A(nn.Module):\n    def forward(self, x):\n        self.h = x\n        return x\nm = A()\nm(x).sum()",
     JacParseError, ["assignments to an attribute"]),
    (MODEL + "model = MLP(3)\nmodel(x).sum()", JacParseError, ["'model.fc1.weight' is made twice"]),
])
def test_what_is_refused_of_a_model_class(text, error, words):
    with pytest.raises(error) as found:
        api.jacobian("import torch.nn as nn\n" + text, {"x": np.ones((2, 3))})
    for word in words:
        assert word in found.value.message, found.value.message


@pytest.mark.parametrize("text,words", [
    ("class A(nn.Module):\n    def forward(self, x):\n        return self(x)\nm = A()\nm(x).sum()",
     ["forward() calls itself"]),
    ("class A(nn.Module):\n    def forward(self, x):\n        return self.forward(x)\nm = A()\nm(x).sum()",
     ["forward() calls itself"]),
    ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.sub = A()\n"
     "    def forward(self, x):\n        return x\nm = A()\nm(x).sum()", ["makes a A again"]),
    ("fc = nn.Linear(10 ** 5, 10 ** 5)\nfc(x).sum()", ["nn.Linear's weight, shape (100000, 100000)", "bytes"]),
])
def test_a_model_that_has_no_end_or_no_room_is_refused(text, words):
    result = runner.invoke(app, ["eval", "import torch.nn as nn\n" + text, "x:3"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "internal" not in result.output
    for word in words:
        assert word in result.output, result.output


def test_jac_shape_takes_a_layer_of_any_size():
    result = runner.invoke(app, ["shape", "import torch.nn as nn\nfc = nn.Linear(30000, 20000)\nfc(x).sum()", "x:30000",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inputs"]["fc.weight"]["shape"] == [20000, 30000]


STEP = """import torch
import torch.optim as optim
model = torch.nn.Linear(3, 1)
optimizer = optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
optimizer.zero_grad()
model.zero_grad()
loss = ((model(x) - 1.0) ** 2).mean()
loss.backward()
optimizer.step()
scheduler.step()
"""


def test_a_training_step_reads_its_optimizer_as_nothing():
    f = api.compile(STEP, {"x": ":2x3"})
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    W, b = f.declared["model.weight"], f.declared["model.bias"]
    r = x @ W.T + b - 1.0
    found = f.jacobian({"x": x})
    np.testing.assert_allclose(found["model.weight"], (r.T @ x) / 1.0, rtol=1e-14)  # d mean(r²) = 2 r / 2
    np.testing.assert_allclose(found["model.bias"], [r.sum()], rtol=1e-14)


@pytest.mark.parametrize("text,words", [
    ("model = torch.nn.Linear(3, 1)\nopt = torch.optim.Adam(model.parameters())\nopt.step()\nmodel(x).sum()",
     ["opt.step() before the gradients are computed"]),
    ("model = torch.nn.Linear(3, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor i in range(3):\n"
     "    opt.zero_grad()\n    loss = model(x).sum()\n    loss.backward()\n    opt.step()",
     ["a training loop", "write the loop's body once"]),
])
def test_what_is_refused_of_an_optimizer(text, words):
    with pytest.raises(JacError) as found:
        api.jacobian(text, {"x": np.ones((2, 3))})
    for word in words:
        assert word in found.value.message, found.value.message


def test_a_fresh_leaf_in_a_function_is_its_value():
    """A model's forward making its initial state as tutorials write it, ``torch.zeros(...).requires_grad_()``:
    a constant whose gradient nothing outside reads; every other derivative is as without the flag. Of a value
    computed from the inputs the flag changes nothing (PyTorch 2.13 sets it on a non-leaf that requires grad)."""
    text = ("import torch\ndef f(t):\n    h = torch.ones(3).requires_grad_()\n    return (h * t * t).sum()\nf(x)")
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(api.jacobian(text, {"x": x})["x"], 2 * x)
    assert set(api.jacobian(text, {"x": x})) == {"x"}
    np.testing.assert_array_equal(api.jacobian("import torch\n(x * 2).requires_grad_().sum()", {"x": x})["x"],
                                  [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(api.jacobian("import torch\ny = (x * 2).requires_grad_()\ny.sum()", {"x": x})["x"],
                                  [2.0, 2.0, 2.0])
    with pytest.raises(JacValueError, match="without arguments or with True"):
        api.jacobian("import torch\ntorch.zeros(3).requires_grad_(False).sum() + x.sum()", {"x": x})


@pytest.mark.parametrize("mark", ["x.requires_grad_(True)", "x.requires_grad_()", "x.requires_grad = True",
                                  "x = x.requires_grad_()"])
def test_a_constant_marked_at_the_top_level_is_a_leaf(mark):
    # d2l's autograd chapter as pasted: x made, then marked; PyTorch's x.grad is 4x
    text = f"import torch\nx = torch.arange(4.0)\n{mark}\ny = 2 * torch.dot(x, x)\ny.backward()\nx.grad"
    f = api.compile(text)
    assert list(f.shapes) == ["x"] and not f.made.random
    np.testing.assert_array_equal(f.declared["x"], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f.jacobian({})["x"], [0.0, 4.0, 8.0, 12.0])


def test_a_leaf_made_of_an_expression_of_constants():
    # w = (0.1 * torch.rand(3)).requires_grad_() is a leaf in PyTorch (its .grad is read), its value jac's draw
    text = "import torch\nw = (0.1 * torch.rand(3)).requires_grad_()\nloss = (w * x).sum()\nloss.backward()\nw.grad"
    f = api.compile(text, {"x": ":3"})
    assert list(f.shapes) == ["x", "w"] and f.made.random == {"w"}
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(f.jacobian({"x": x})["w"], x)
    assert np.all((f.declared["w"] >= 0) & (f.declared["w"] < 0.1))


def test_an_integer_constant_marked_is_refused_as_pytorch_refuses_it():
    with pytest.raises(JacValueError, match="Only Tensors of floating point"):
        api.compile("import torch\nx = torch.arange(4)\nx.requires_grad_()\n(x * 2.0).sum()")


# PyTorch's autograd tutorial ("A Gentle Introduction to torch.autograd") as written
GRADIENT = """import torch
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 2.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
"""


def test_the_texts_backward_gradient_is_the_vjps_v():
    a, b, v = np.array([2.0, 3.0]), np.array([6.0, 4.0]), np.array([1.0, 2.0])
    grads = api.vjp(GRADIENT)
    np.testing.assert_array_equal(grads["a"], 9 * a ** 2 * v)
    np.testing.assert_array_equal(grads["b"], -2 * b * v)
    assert api.compile(GRADIENT).made.gradient.tolist() == [1.0, 2.0]
    positional = GRADIENT.replace("gradient=external_grad", "external_grad, retain_graph=True")
    np.testing.assert_array_equal(api.vjp(positional)["a"], 9 * a ** 2 * v)
    result = runner.invoke(app, ["vjp", GRADIENT, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["v"]["value"] == [1.0, 2.0] and report["vjp"]["a"]["value"] == (9 * a ** 2 * v).tolist()
    # jac eval prints the whole Jacobian, from which any V's product follows, and says where V's product is
    code, report = _eval(GRADIENT)
    assert code == 0 and report["jacobian"]["a"]["value"] == np.diag(9 * a ** 2).tolist()
    note = "note   the text calls backward(gradient=V): jac vjp prints what it leaves in each x.grad"
    assert note in runner.invoke(app, ["eval", GRADIENT]).output
    assert note not in runner.invoke(app, ["vjp", GRADIENT]).output
    assert "note" not in runner.invoke(app, ["eval", TUTORIAL]).output  # y.backward(): nothing to say


def test_the_texts_gradient_is_not_shared_with_what_a_call_returns():
    # y = x: x.grad is V itself; a caller writing into it must not change the next call's answer (the compiled
    # function, and its V, are shared by every call)
    text = "import torch\nx = torch.ones(2, requires_grad=True)\ny = x\ny.backward(torch.tensor([1., 2.]))"
    grad = api.vjp(text)["x"]
    grad *= 10
    assert api.vjp(text)["x"].tolist() == [1.0, 2.0]
    assert not api.compile(text).made.gradient.flags.writeable


def test_a_gradient_in_the_text_and_another_given_are_refused():
    with pytest.raises(JacUsageError, match="v= gives v too: give one"):
        api.vjp(GRADIENT, v=[1.0, 1.0])
    result = runner.invoke(app, ["vjp", GRADIENT, "--v", "ones"])
    assert result.exit_code == 2 and "give one" in result.output
    text = "y = sin(x)\ny.backward(torch.ones(2))"
    result = runner.invoke(app, ["vjp", text, "x:3x2", "--batch", "x"])
    assert result.exit_code == 2 and "--batch with the text's y.backward(gradient=V)" in result.output
    np.testing.assert_allclose(api.vjp(text, {"x": [0.0, 1.0]})["x"], [1.0, np.cos(1.0)])
