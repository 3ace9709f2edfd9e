"""torch.nn's containers (nn.ModuleList, nn.ModuleDict, nn.Sequential indexed, sliced, iterated, named), the norms'
and nn.PReLU's parameters as inputs, .eval() / .train(), nn.Bilinear and nn.ConvTranspose1d/2d/3d, as pasted code
makes them: names as PyTorch's named_parameters() gives them, values by hand or with NumPy, refusals with their
messages. tests/test_parity_modules24.py runs such texts under PyTorch."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
X = np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7], [-0.6, 0.9, 0.1], [0.2, 0.2, -1.3]])

MODEL = HEAD + '''
class Net(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(d, d) for _ in range(2)])
        self.layers.append(nn.Linear(d, d, bias=False))
        self.layers.extend([nn.LayerNorm(d)])
        self.heads = nn.ModuleDict({'a': nn.Linear(d, 1), 'b': nn.Sequential(nn.Tanh(), nn.Linear(d, 2))})
        self.act = nn.PReLU()

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return self.heads['a'](x).sum() + self.heads['b'](x).sum()

net = Net(3)
'''


def test_parameters_are_named_as_pytorch_names_them():
    f = api.compile(MODEL + "net(x)", {"x": ":4x3"})
    shapes = {name: value.shape for name, value in f.declared.items()}
    assert shapes == {"net.layers.0.weight": (3, 3), "net.layers.0.bias": (3,), "net.layers.1.weight": (3, 3),
                      "net.layers.1.bias": (3,), "net.layers.2.weight": (3, 3), "net.layers.3.weight": (3,),
                      "net.layers.3.bias": (3,), "net.heads.a.weight": (1, 3), "net.heads.a.bias": (1,),
                      "net.heads.b.1.weight": (2, 3), "net.heads.b.1.bias": (2,), "net.act.weight": (1,)}
    assert f.declared["net.layers.3.weight"].tolist() == [1.0] * 3  # a norm as made: weight 1, bias 0
    assert f.declared["net.layers.3.bias"].tolist() == [0.0] * 3
    assert f.declared["net.act.weight"].tolist() == [0.25]  # PReLU's init


def test_named_parameters_lists_them_in_pytorchs_order():
    text = MODEL + ("total = 0.0\nfor i, (name, p) in enumerate(net.named_parameters()):\n"
                    "    total = total + (i + 1) * p.sum()\ntotal")
    f = api.compile(text)
    order = ["net.layers.0.weight", "net.layers.0.bias", "net.layers.1.weight", "net.layers.1.bias",
             "net.layers.2.weight", "net.layers.3.weight", "net.layers.3.bias", "net.heads.a.weight",
             "net.heads.a.bias", "net.heads.b.1.weight", "net.heads.b.1.bias", "net.act.weight"]
    found = f.jacobian({})
    for i, name in enumerate(order):  # d total / d p = the parameter's place, counted from 1
        np.testing.assert_array_equal(found[name], np.full(f.declared[name].shape, i + 1.0))


def test_weight_decay_over_named_parameters():
    text = HEAD + ("model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))\nreg = 0.0\n"
                   "for n, p in model.named_parameters():\n    if 'bias' not in n and not n.startswith('2'):\n"
                   "        reg = reg + (p ** 2).sum()\nreg")
    f = api.compile(text)
    found = f.jacobian({})
    np.testing.assert_array_equal(found["model.0.weight"], 2 * f.declared["model.0.weight"])
    for name in ("model.0.bias", "model.2.weight", "model.2.bias"):
        assert not found[name].any(), name


def test_indexing_slicing_and_len_of_a_sequential():
    text = HEAD + ("model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))\n"
                   "model[:2](x).sum() + model[-1].bias.sum() * len(model) + model[0](x).sum()")
    f = api.compile(text, {"x": ":4x3"})
    d = f.declared
    h = X @ d["model.0.weight"].T + d["model.0.bias"]
    assert f.value({"x": X}) == pytest.approx(np.tanh(h).sum() + 3 * d["model.2.bias"].sum() + h.sum(), rel=1e-13)


def test_a_sequential_of_an_ordered_dict_names_its_modules():
    text = HEAD + ("from collections import OrderedDict\nmodel = nn.Sequential(OrderedDict([('fc', nn.Linear(3, 2)), "
                   "('act', nn.ReLU())]))\nmodel.fc(x).sum() + model.act(x).sum() + model.fc.weight.sum()")
    f = api.compile(text, {"x": ":4x3"})
    assert set(f.declared) == {"model.fc.weight", "model.fc.bias"}


def test_a_layer_norms_parameters_are_inputs():
    c = np.array([[1.0, -2.0, 0.5]])
    f = api.compile(HEAD + "ln = nn.LayerNorm(3)\n(ln(x) * c).sum()", {"x": ":4x3", "c": ":1x3"})
    found = f.jacobian({"x": X, "c": c})
    y = (X - X.mean(1, keepdims=True)) / np.sqrt(X.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(found["ln.weight"], (y * c).sum(0), rtol=1e-12)
    np.testing.assert_allclose(found["ln.bias"], 4 * c[0], rtol=1e-15)


@pytest.mark.parametrize("made,names", [
    ("nn.LayerNorm(3, elementwise_affine=False)", set()),
    ("nn.LayerNorm(3, bias=False)", {"m.weight"}),
    ("nn.RMSNorm(3)", {"m.weight"}),
    ("nn.BatchNorm1d(3, affine=False)", set()),
    ("nn.InstanceNorm1d(3)", set()),
    ("nn.InstanceNorm1d(3, affine=True)", {"m.weight", "m.bias"}),
    ("nn.GroupNorm(3, 3, affine=False)", set()),
    ("nn.PReLU(3, init=0.5)", {"m.weight"}),
])
def test_which_norms_hold_parameters(made, names):
    f = api.compile(HEAD + f"m = {made}\nm(x).sum()", {"x": ":4x3x2" if "Instance" in made else ":4x3"})
    assert set(f.declared) == names


def test_eval_mode_dropout_is_the_identity_and_batch_norm_reads_fresh_statistics():
    text = HEAD + ("model = nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.5), nn.AlphaDropout(), nn.RReLU(0.1, 0.3))"
                   "\nmodel.eval()\nmodel(x)")
    f = api.compile(text, {"x": ":4x3"})
    y = X / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(f.value({"x": X}), np.where(y > 0, y, 0.2 * y), rtol=1e-14)


def test_training_calls_update_the_running_statistics_as_pytorch_does():
    text = HEAD + "bn = nn.BatchNorm1d(3, momentum=0.3, affine=False)\na = bn(x)\nb = bn(2 * x)\nbn.eval()\nbn(x)"
    f = api.compile(text, {"x": ":4x3"})
    mean, var = np.zeros(3), np.ones(3)
    for batch in (X, 2 * X):
        mean = 0.7 * mean + 0.3 * batch.mean(0)
        var = 0.7 * var + 0.3 * batch.var(0, ddof=1)
    np.testing.assert_allclose(f.value({"x": X}), (X - mean) / np.sqrt(var + 1e-5), rtol=1e-13)
    found = f.jacobian({"x": X})["x"]  # the statistics are buffers: no derivative flows through them
    np.testing.assert_allclose(found, np.einsum("ik,jl->ijkl", np.eye(4), np.diag(1 / np.sqrt(var + 1e-5))),
                               rtol=1e-13)


def test_an_appended_call_runs_once():
    """out.append(bn(x)) runs the call once: a batch norm's statistics are updated once, as PyTorch's."""
    text = HEAD + "bn = nn.BatchNorm1d(3, affine=False)\nout = []\nout.append(bn(x).sum())\nbn.eval()\nbn(x)"
    f = api.compile(text, {"x": ":4x3"})
    mean, var = 0.1 * X.mean(0), 0.9 + 0.1 * X.var(0, ddof=1)
    np.testing.assert_allclose(f.value({"x": X}), (X - mean) / np.sqrt(var + 1e-5), rtol=1e-13)


def test_momentum_none_is_a_cumulative_average():
    text = HEAD + ("bn = nn.BatchNorm1d(3, momentum=None, affine=False)\na = bn(x)\nb = bn(x ** 2)\nbn.train(False)\n"
                   "bn(x)")
    f = api.compile(text, {"x": ":4x3"})
    mean = (X.mean(0) + (X ** 2).mean(0)) / 2  # 1/1 then 1/2: the average of the batches' statistics
    var = (X.var(0, ddof=1) + (X ** 2).var(0, ddof=1)) / 2
    np.testing.assert_allclose(f.value({"x": X}), (X - mean) / np.sqrt(var + 1e-5), rtol=1e-13)


def test_self_training_reads_the_mode():
    text = HEAD + ('class A(nn.Module):\n    def forward(self, x):\n        return x * 2 if self.training else x\n'
                   'a = A()\nu = a(x)\na.eval()\nu + a(x)')
    assert api.evaluate(text, {"x": np.array(1.5)}) == pytest.approx(4.5)


def test_bilinear_and_transposed_convolutions_are_drawn_as_pytorch_draws_them():
    text = HEAD + ("bil = nn.Bilinear(3, 2, 4)\nup = nn.ConvTranspose2d(2, 6, 3, groups=2, stride=2)\n"
                   "bil(x, z).sum() + up(v).sum()")
    f = api.compile(text, {"x": ":4x3", "z": ":4x2", "v": ":1x2x3x3"})
    d = f.declared
    assert d["bil.weight"].shape == (4, 3, 2) and d["up.weight"].shape == (2, 3, 3, 3)
    assert np.abs(d["bil.weight"]).max() <= 1 / np.sqrt(3) and np.abs(d["bil.bias"]).max() <= 1 / np.sqrt(3)
    bound = 1 / np.sqrt(3 * 9)  # fan_in: the weight's axis 1 (out / groups) times the kernel
    assert np.abs(d["up.weight"]).max() <= bound and np.abs(d["up.bias"]).max() <= bound
    assert np.abs(d["up.weight"]).max() > bound / 2
    z = np.array([[0.5, -1.0]] * 4)
    found = f.jacobian({"x": X, "z": z, "v": np.ones((1, 2, 3, 3))})
    np.testing.assert_allclose(found["bil.weight"], np.einsum("ni,nj->ij", X, z)[None].repeat(4, 0), rtol=1e-13)


def test_a_list_of_modules_is_named_by_the_container_that_holds_it():
    text = HEAD + ("layers = [nn.Linear(3, 3), nn.ReLU()]\nlayers.append(nn.LayerNorm(3))\n"
                   "model = nn.Sequential(nn.Identity(), *layers)\nmodel(x).sum() + len(layers)")
    f = api.compile(text, {"x": ":4x3"})
    assert list(f.declared) == ["model.1.weight", "model.1.bias", "model.3.weight", "model.3.bias"]
    d = f.declared
    h = np.maximum(X @ d["model.1.weight"].T + d["model.1.bias"], 0)
    y = (h - h.mean(1, keepdims=True)) / np.sqrt(h.var(1, keepdims=True) + 1e-5)
    assert f.value({"x": X}) == pytest.approx(y.sum() + 3, abs=1e-12)


@pytest.mark.parametrize("text,words", [
    ("layers = [nn.Linear(3, 3)]\nlayers[0](x).sum()", ["assign it at the text's top level", "nn.Sequential(*layers)"]),
    ("ln = [nn.LayerNorm(3)]\ny = ln[0](x)\nm = nn.Sequential(*ln)\ny.sum()", ["called before"]),
    ("layers = [nn.Linear(3, 3), x]\nx.sum()", ["modules or arrays, not both"]),
    ("m = nn.Sequential(*x)\nm(x).sum()", ["a container takes modules"]),
    ("nn.Dropout(0.1)(x).sum()", ["training mode", "model.eval()"]),
    ("m = nn.Sequential(nn.Linear(3, 3), nn.Dropout())\nm(x).sum()", ["training mode"]),
    ("m = nn.Dropout(1.5)\nm.eval()\nm(x).sum()", ["between 0 and 1"]),
    ("bn = nn.BatchNorm1d(3)\nbn.eval()\na = bn(x)\nbn.train()\n(a + bn(x)).sum()", ["after a call in eval mode"]),
    ("n = nn.InstanceNorm1d(3, track_running_stats=True)\nn(x.unsqueeze(-1)).sum()",
     ["more than 1 value per channel"]),
    ("m = nn.ModuleList([nn.Linear(3, 3)])\nm(x).sum()", ["not called", "iterate"]),
    ("m = nn.ModuleDict({'a': nn.ReLU()})\nm[0](x).sum()", ["indexed by a name", "'a'"]),
    ("m = nn.ModuleDict({'a': nn.ReLU()})\nm['b'](x).sum()", ["no module named 'b'"]),
    ("m = nn.ModuleDict([('a', nn.ReLU()), ('a', nn.Tanh())])\nm['a'](x).sum()", ["given twice"]),
    ("m = nn.Sequential(nn.ReLU())\nm[1](x).sum()", ["out of range"]),
    ("m = nn.Sequential(nn.ReLU())\nm['0'](x).sum()", ["indexed by position", "model.NAME"]),
    ("m = nn.ModuleList([nn.ReLU()])\nk = m[:1]\nk.append(nn.Tanh())\nx.sum()", ["no name"]),
    ("m = nn.ModuleList([x])\nx.sum()", ["is not a module"]),
    ("def f(x):\n    m = nn.ModuleList([nn.ReLU()])\n    return x\nf(x).sum()", ["container", "top level"]),
    ("m = nn.Linear(3, 3)\nm.cuda()\nm(x).sum()", [".cuda() of a module", "CPU"]),
    ("m = nn.Linear(3, 3)\nm.train('yes')\nm(x).sum()", ["True or False"]),
    ("m = nn.Linear(3, 3)\nm.running_mean.sum()", ["no parameter 'running_mean'"]),
    ("m = nn.Bilinear(3, 3, 2)\nm(x).sum()", ["two arrays"]),
    ("m = nn.ConvTranspose1d(3, 2, 2, padding_mode='reflect')\nm(x).sum()", ["padding_mode='zeros'"]),
])
def test_what_is_refused(text, words):
    with pytest.raises(JacError) as found:
        api.jacobian(HEAD + text, {"x": X[:, :3]})
    for word in words:
        assert word in found.value.message, found.value.message


def test_a_module_jac_does_not_read_in_eval_mode_is_refused_there():
    from jacobi_cli.lang.modules import EVAL_READ, Module

    assert "Linear" in EVAL_READ and "LSTM" not in EVAL_READ
    module = Module("LSTM", None, {})  # a module whose eval mode no one wrote down
    module.training = False
    with pytest.raises(JacError, match="in eval mode: jac does not read"):
        module.call(None, [], {}, 0)


def test_jac_eval_shows_a_norms_parameters():
    result = CliRunner().invoke(app, ["eval", "ln = nn.LayerNorm(2)\nln(x).pow(3).sum()", "x=[[1, 3], [2, 0]]",
                                      "--json"])
    assert result.exit_code == 0, result.output
    inputs = json.loads(result.stdout)["inputs"]
    assert {"x", "ln.weight", "ln.bias"} <= set(inputs if isinstance(inputs, dict) else [i["name"] for i in inputs])
