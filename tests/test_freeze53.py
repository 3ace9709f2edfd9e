"""A leaf the text freezes before its first use (lang/freeze.py, session 53): ``requires_grad_(False)``,
``requires_grad = False``, ``detach_()``, ``Module.requires_grad_(False)``, and back: a constant of the graph at the
leaf's values, no Jacobian for it, ``--wrt`` refusing it in PyTorch's words; what is refused and how the CLI shows it
(checked against PyTorch in tests/test_parity_freeze53.py)."""

import json

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_newcomer35 import run

X = np.array([0.5, -1.0, 2.0])
HEAD = "import torch\nimport torch.nn as nn\n"
W = "w = torch.tensor([2., 3., -1.], requires_grad=True)\n"


def refused(text: str, **kw) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + text, {"x": X}, **kw)
    return err.value.message


def central(f, x, h=1e-6):
    return np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)], axis=-1)


@pytest.mark.parametrize("freeze", ["w.requires_grad_(False)", "w.requires_grad = False", "w.detach_()",
                                    "w.requires_grad_(requires_grad=False)"])
def test_a_frozen_leaf_is_a_constant_at_its_values(freeze):
    text = HEAD + W + freeze + "\ntorch.sin(w * x) * w"
    found = api.jacobian(text, {"x": X})
    assert set(found) == {"x"}  # no Jacobian by w, as PyTorch's w.grad stays None
    w = np.array([2.0, 3.0, -1.0])
    np.testing.assert_allclose(found["x"], np.diag(w * w * np.cos(w * X)), rtol=1e-15)
    np.testing.assert_allclose(found["x"], central(lambda x: np.sin(w * x) * w, X), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), np.sin(w * X) * w, rtol=1e-15)


def test_a_layers_frozen_weight_leaves_its_bias_and_the_input():
    text = HEAD + ("lin = nn.Linear(3, 2)\nlin.weight.requires_grad_(False)\n"
                   "with torch.no_grad():\n    lin.weight.copy_(torch.tensor([[1., 2., 3.], [0., -1., 1.]]))\n"
                   "torch.tanh(lin(x))")
    compiled = api.compile(text, {"x": X})
    assert list(compiled.shapes) == ["x", "lin.bias"] and set(compiled.made.frozen) == {"lin.weight"}
    found = api.jacobian(text, {"x": X})
    assert set(found) == {"x", "lin.bias"}
    weight, bias = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]), compiled.declared["lin.bias"]
    np.testing.assert_allclose(found["x"], central(lambda x: np.tanh(weight @ x + bias), X), rtol=1e-7)


def test_freezing_and_unfreezing_keeps_the_order_the_text_made_the_inputs_in():
    text = HEAD + ("model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))\n"
                   "model.requires_grad_(False)\nfor p in model[2].parameters():\n    p.requires_grad = True\n"
                   "model[0].bias.requires_grad_()\nmodel(x)")
    compiled = api.compile(text, {"x": X})
    assert list(compiled.shapes) == ["x", "model.0.bias", "model.2.weight", "model.2.bias"]
    assert set(compiled.made.frozen) == {"model.0.weight"}
    assert compiled.made.random >= {"model.0.weight"}  # its values are still jac's draws, shown as such


def test_a_frozen_leaf_may_be_written_outside_no_grad_as_pytorch_allows():
    text = HEAD + "w = torch.ones(3, requires_grad=True)\nw.requires_grad_(False)\nw.mul_(3.)\nw[0] = -1.\nw * x"
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), np.array([-1.0, 3.0, 3.0]) * X)
    np.testing.assert_array_equal(api.jacobian(text, {"x": X})["x"], np.diag([-1.0, 3.0, 3.0]))


def test_a_leaf_refrozen_after_a_read_is_made_again():
    """Frozen, read, then requires_grad_(): PyTorch's leaf from there on; the earlier read stays a constant's."""
    text = HEAD + W + "w.requires_grad_(False)\ny = w * x\nw.requires_grad_(True)\n(w * x).sum() + y.sum()"
    found = api.jacobian(text, {"x": X})
    np.testing.assert_array_equal(found["w"], X)
    np.testing.assert_array_equal(found["x"], 2 * np.array([2.0, 3.0, -1.0]))
    assert not api.compile(HEAD + text, {"x": X}).made.frozen


def test_higher_orders_and_products_see_the_constant():
    text = HEAD + W + "w.requires_grad_(False)\n(torch.exp(w * x)).sum()"
    w = np.array([2.0, 3.0, -1.0])
    np.testing.assert_allclose(api.hessian(text, {"x": X})[("x", "x")], np.diag(w * w * np.exp(w * X)), rtol=1e-15)
    np.testing.assert_allclose(api.vjp(text, {"x": X}, np.array(1.0))["x"], w * np.exp(w * X), rtol=1e-15)


@pytest.mark.parametrize("text, says", [
    (W + "y = w * x\nw.requires_grad_(False)\ny.sum()", "'w' was read before"),
    ("lin = nn.Linear(3, 2)\ny = lin(x)\nlin.requires_grad_(False)\ny.sum()", "'lin.weight' was read before"),
    ("y = x * 2\ny.requires_grad_(False)\ny.sum()" .replace("y = x", W + "y = w"),
     "you can only change requires_grad flags of leaf variables"),
    ("x.requires_grad_(False)\n" + W + "(w * x).sum()", "'x' is bound on the command line"),
    ("lin = nn.Linear(3, 2)\nlin.requires_grad_('no')\nlin(x)", "requires_grad must be True or False"),
])
def test_what_is_refused_says_why(text, says):
    assert says in refused(text)


def test_wrt_naming_a_frozen_leaf_is_refused_in_pytorchs_words():
    message = refused(W + "w.requires_grad_(False)\n(w * x).sum()", wrt=["w"])
    assert "One of the differentiated Tensors does not require grad" in message


def test_the_cli_shows_the_frozen_values_and_the_json_leaves_them_out():
    text = HEAD + "lin = nn.Linear(3, 1)\nnn.init.constant_(lin.weight, 0.5)\nlin.weight.requires_grad_(False)\nlin(x)"
    code, out, err = run("eval", text, "x=[1, 2, 3]")
    assert code == 0, err
    assert "  const  lin.weight: matrix (1, 3), requires_grad=False in the text (no derivative):\n" \
           "    [[0.5 0.5 0.5]]" in out
    assert "∂lin(x)/∂lin.weight" not in out and "/∂lin.bias" in out
    code, out, err = run("eval", text, "x=[1, 2, 3]", "--json")
    assert code == 0, err
    assert set(json.loads(out)["inputs"]) == {"x", "lin.bias"}
    code, out, err = run("eval", text, "x=[1, 2, 3]", "--wrt", "lin.weight")
    assert code == 2 and "does not require grad" in err


def test_a_models_own_requires_grad_and_a_buffers_are_read_in_init():
    """self.requires_grad_(False) in __init__ (Module.requires_grad_ of the model), one parameter thawed after it,
    and requires_grad_(False) of a buffer, a constant already (PyTorch changes nothing)."""
    text = HEAD + ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                   "        self.fc = nn.Linear(3, 2)\n        self.bn = nn.BatchNorm1d(2)\n"
                   "        self.bn.running_mean.requires_grad_(False)\n        self.requires_grad_(False)\n"
                   "        self.fc.bias.requires_grad = True\n    def forward(self, x):\n"
                   "        return self.bn(self.fc(x)).sum()\nnet = Net()\nnet.eval()\nnet(x)")
    compiled = api.compile(text, {"x": np.ones((4, 3))})
    assert list(compiled.shapes) == ["x", "net.fc.bias"]
    assert set(compiled.made.frozen) == {"net.fc.weight", "net.bn.weight", "net.bn.bias"}
    found = api.jacobian(text, {"x": np.ones((4, 3))})
    np.testing.assert_allclose(found["net.fc.bias"], np.full(2, 4 / np.sqrt(1 + 1e-5)), rtol=1e-14)


@pytest.mark.parametrize("what, flag", [
    ("x", True), ("x * 2", True), ("w", False), ("w * 2", False), ("x > 0", False), ("x.detach()", False),
    ("torch.argmax(x)", False), ("v", True), ("torch.ones(3)", False), ("x.detach() * v", True),
])
def test_requires_grad_is_read_as_pytorchs_flag(what, flag):
    """t.requires_grad of the text's values (a frozen leaf's False), whatever --wrt differentiates."""
    text = HEAD + W + "v = torch.zeros(3, requires_grad=True)\nw.requires_grad_(False)\n" \
        f"t = {what}\nx * (1.0 if t.requires_grad else 2.0) + v"
    for wrt in (None, ["v"]):
        np.testing.assert_array_equal(api.evaluate(text, {"x": X}), X * (1.0 if flag else 2.0))
        assert set(api.jacobian(text, {"x": X}, wrt=wrt)) == ({"x", "v"} if wrt is None else {"v"})


@pytest.mark.parametrize("what, leaf", [("x", True), ("x * 2", False), ("w", True), ("w * 2", True)])
def test_is_leaf_is_pytorchs(what, leaf):
    text = HEAD + W + f"w.requires_grad_(False)\nt = {what}\nx * (1.0 if t.is_leaf else 2.0)"
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), X * (1.0 if leaf else 2.0))


def test_an_optimizer_of_the_parameters_that_require_grad():
    """Fine-tuning's optimizer of filter(lambda p: p.requires_grad, ...) and a count of the trainable parameters."""
    text = HEAD + ("model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))\nmodel[0].requires_grad_(False)\n"
                   "opt = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)\n"
                   "n = sum(p.numel() for p in model.parameters() if p.requires_grad)\nopt.zero_grad()\n"
                   "loss = model(x).pow(2).sum() * n\nloss.backward()\nopt.step()")
    compiled = api.compile(text, {"x": X})
    assert list(compiled.shapes) == ["x", "model.2.weight", "model.2.bias"]
    plain = text.replace("* n\n", "* 10\n")
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), api.evaluate(plain, {"x": X}))


def test_a_comprehension_of_constant_arrays_of_their_own_shapes_is_a_list():
    """[p for p in model.parameters() if not p.requires_grad] holds frozen constants of two shapes; so does
    [torch.ones(k) for k in range(1, 3)], which was refused as a nested list that is not rectangular."""
    np.testing.assert_array_equal(api.evaluate("torch.cat([torch.ones(k) for k in range(1, 3)]) * x", {"x": X}), X)
    text = HEAD + ("lin = nn.Linear(3, 2)\nnn.init.constant_(lin.weight, 2.)\nnn.init.constant_(lin.bias, 3.)\n"
                   "lin.requires_grad_(False)\nkept = [p for p in lin.parameters() if not p.requires_grad]\n"
                   "(kept[0] @ x).sum() + kept[1].sum() * x")
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), 4 * X.sum() + 6 * X)
