"""Parity with PyTorch 2.13 for nn.RNN / GRU / LSTM, their cells and nn.MultiheadAttention made in the text:
each text is run by PyTorch itself with its parameters set to jac's values, and every output and every
``.grad`` (parameters and inputs) compared with jac's."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import float64, pytorch_grads  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
RNG = np.random.default_rng(24)


def _normal(*shape):
    return RNG.normal(size=shape)


# (setup, call, the names the call binds, inputs bound by value)
CASES = [
    ("rnn = nn.RNN(3, 4)", "out, h = rnn(x)", ("out", "h"), {"x": _normal(5, 2, 3)}),
    ("rnn = nn.RNN(3, 4, 2, 'relu', batch_first=True)", "out, h = rnn(x, h0)", ("out", "h"),
     {"x": _normal(2, 4, 3), "h0": _normal(2, 2, 4)}),
    ("rnn = nn.RNN(input_size=3, hidden_size=4, bidirectional=True, bias=False)", "out, h = rnn(x)", ("out", "h"),
     {"x": _normal(4, 3)}),
    ("gru = nn.GRU(3, 4)", "out, h = gru(x)", ("out", "h"), {"x": _normal(5, 2, 3)}),
    ("gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)", "out, h = gru(x, h0)", ("out", "h"),
     {"x": _normal(2, 3, 3), "h0": _normal(4, 2, 4)}),
    ("lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=2, batch_first=True)", "out, (h, c) = lstm(x)",
     ("out", "h", "c"), {"x": _normal(2, 5, 3)}),
    ("lstm = nn.LSTM(3, 4, bidirectional=True)", "out, (h, c) = lstm(x, (h0, c0))", ("out", "h", "c"),
     {"x": _normal(4, 2, 3), "h0": _normal(2, 2, 4), "c0": _normal(2, 2, 4)}),
    ("lstm = nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True)", "out, (h, c) = lstm(x, (h0, c0))",
     ("out", "h", "c"), {"x": _normal(3, 2, 3), "h0": _normal(4, 2, 2), "c0": _normal(4, 2, 5)}),
    ("lstm = nn.LSTM(3, 4, batch_first=True)", "out, (h, c) = lstm(x, (torch.zeros(1, 4), torch.ones(1, 4)))",
     ("out", "h", "c"), {"x": _normal(3, 3)}),
    ("lstm = nn.LSTM(2, 5, proj_size=3)", "out, (h, c) = lstm(x, (torch.zeros(1, 3), torch.full((1, 5), 0.5)))",
     ("out", "h", "c"), {"x": _normal(4, 2)}),
    ("lstm = nn.LSTM(3, 4, dropout=0.5)", "out, hc = lstm(x)\nh = hc[0]", ("out", "h"), {"x": _normal(3, 2, 3)}),
    ("cell = nn.RNNCell(3, 4, nonlinearity='relu')", "h = cell(x, h0)", ("h",), {"x": _normal(2, 3),
                                                                                 "h0": _normal(2, 4)}),
    ("cell = nn.GRUCell(3, 4, bias=False)", "h = cell(x)", ("h",), {"x": _normal(3)}),
    ("cell = nn.LSTMCell(3, 4)",
     "h = torch.zeros(2, 4)\nc = torch.zeros(2, 4)\nouts = []\nfor t in range(3):\n"
     "    h, c = cell(x[t], (h, c))\n    outs.append(h)\nout = torch.stack(outs, dim=1)",
     ("out", "h", "c"), {"x": _normal(3, 2, 3)}),
    ("gru = nn.GRU(2, 3, 3, False, False, 0.0, True)", "out, h = gru(x, hx=h0)", ("out", "h"),
     {"x": _normal(4, 2), "h0": _normal(6, 3)}),
    ("lstm = nn.LSTM(2, 3)", "out, (h, c) = lstm(x, (h0, c0))", ("out", "h", "c"),
     {"x": _normal(3, 2), "h0": _normal(1, 3), "c0": _normal(1, 3)}),
    ("cell = nn.LSTMCell(2, 3)", "h, c = cell(x, (h0, c0))", ("h", "c"),
     {"x": _normal(2), "h0": _normal(3), "c0": _normal(3)}),
    ("cell = nn.RNNCell(2, 3)", "h = cell(x)\nh = cell(x * 2, h)", ("h",), {"x": _normal(4, 2)}),
    ("attn = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)", "y, w = attn(q, k, v)", ("y", "w"),
     {"q": _normal(2, 3, 8), "k": _normal(2, 4, 8), "v": _normal(2, 4, 8)}),
    ("attn = nn.MultiheadAttention(8, 4)", "y, w = attn(x, x, x, average_attn_weights=False)", ("y", "w"),
     {"x": _normal(3, 2, 8)}),
    ("attn = nn.MultiheadAttention(6, 2, kdim=4, vdim=5, bias=False)",
     "y, w = attn(q, k, v, key_padding_mask=torch.tensor([[False, False, True], [False, True, True]]))",
     ("y", "w"), {"q": _normal(2, 2, 6), "k": _normal(3, 2, 4), "v": _normal(3, 2, 5)}),
    ("attn = nn.MultiheadAttention(4, 2)",
     "mask = torch.triu(torch.ones(3, 3), diagonal=1) > 0\ny, w = attn(x, x, x, attn_mask=mask)", ("y", "w"),
     {"x": _normal(3, 4)}),
    ("attn = nn.MultiheadAttention(4, 2, batch_first=True)",
     "mask = torch.tensor([[0, 1, 0], [1, 0, 0]]) > 0\n"
     "y, w = attn(x, k, k, key_padding_mask=torch.tensor([0.0, -1.5, 0.5]), attn_mask=mask)",
     ("y", "w"), {"x": _normal(2, 4), "k": _normal(3, 4)}),
    ("attn = nn.MultiheadAttention(4, 2)", "y, w = attn(x, x, x, attn_mask=m, average_attn_weights=False)",
     ("y", "w"), {"x": _normal(3, 2, 4), "m": _normal(4, 3, 3)}),
    ("attn = nn.MultiheadAttention(4, 2)",  # PyTorch's scaled_dot_product_attention: a row masked entirely is 0
     "pad = torch.tensor([[True, True, True], [False, True, False]])\n"
     "y, _ = attn(x, x, x, key_padding_mask=pad, need_weights=False)", ("y",), {"x": _normal(3, 2, 4)}),
    ("attn = nn.MultiheadAttention(4, 2, batch_first=True)",  # a mask masking nothing, found by rnn24_sweep
     "y, _ = attn(x, x, x, key_padding_mask=torch.tensor([[0, 0, 0]]) > 0, need_weights=False)", ("y",),
     {"x": _normal(1, 3, 4)}),
    ("attn = nn.MultiheadAttention(4, 1)",
     "y, _ = attn(x, k, k, attn_mask=m, need_weights=False)", ("y",),
     {"x": _normal(2, 1, 4), "k": _normal(3, 1, 4), "m": _normal(2, 3)}),
    # with h24-modules' containers and modes: in eval mode a layer's dropout applies no more (PyTorch's eval)
    ("lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, batch_first=True)\nlstm.eval()", "out, (h, c) = lstm(x)",
     ("out", "h", "c"), {"x": _normal(2, 3, 3)}),
    ("attn = nn.MultiheadAttention(4, 2, dropout=0.3)\nattn.eval()", "y, w = attn(x, x, x)", ("y", "w"),
     {"x": _normal(3, 2, 4)}),
    ("gru = nn.GRU(3, 4)\ngru.eval()\ngru.train()", "out, h = gru(x)", ("out", "h"), {"x": _normal(4, 3)}),
    ("m = nn.ModuleList([nn.GRU(3, 4, batch_first=True, num_layers=2, dropout=0.2), nn.Linear(4, 2)])\nm.eval()",
     "out, h = m[0](x)\ny = m[1](out)", ("y", "h"), {"x": _normal(2, 3, 3)}),
    ("m = nn.ModuleList([nn.Linear(3, 3), nn.LSTMCell(3, 2)])", "h, c = m[1](torch.tanh(m[0](x)))", ("h", "c"),
     {"x": _normal(2, 3)}),
]


def _weights(name, shape):
    """Fixed weights of every element, so that the loss's gradient reads each output element."""
    return np.cos(np.arange(int(np.prod(shape))) + len(name)).reshape(shape)


def _run_torch(setup, call, names, inputs, declared):
    scope = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(setup, scope)  # noqa: S102 - the test's own text, under PyTorch
    module = setup.split("=")[0].strip()
    params = dict(scope[module].named_parameters(prefix=module))
    assert set(params) == set(declared)
    with torch.no_grad():
        for key, p in params.items():
            p.copy_(torch.from_numpy(np.array(declared[key])))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    local = {**scope, **tensors}
    exec(call, local)  # noqa: S102
    outputs = {n: local[n] for n in names}
    loss = sum((o * torch.from_numpy(_weights(n, tuple(o.shape)))).sum() for n, o in outputs.items())
    loss.backward()
    return outputs, {**params, **tensors}


@pytest.mark.parametrize("setup,call,names,inputs", CASES, ids=[c[0].split("=", 1)[1].strip() for c in CASES])
def test_outputs_and_grads_are_pytorchs(setup, call, names, inputs, float64):
    bindings = {k: ":" + "x".join(map(str, v.shape)) for k, v in inputs.items()}
    values = {}
    for name in names:
        f = api.compile(f"{HEADER}{setup}\n{call}\n{name}", bindings)
        values[name] = f.value(inputs)
    loss = " + ".join(f"(torch.tensor({_weights(n, values[n].shape).tolist()}) * {n}).sum()" for n in names)
    f = api.compile(f"{HEADER}{setup}\n{call}\nloss = {loss}\nloss.backward()", bindings)
    grads = f.jacobian(inputs)
    outputs, leaves = _run_torch(setup, call, names, inputs, f.declared)
    for name in names:
        np.testing.assert_allclose(values[name], outputs[name].detach().numpy(), rtol=1e-10, atol=1e-13,
                                   err_msg=name)
    assert set(grads) == set(leaves)
    for key, leaf in leaves.items():
        np.testing.assert_allclose(grads[key], leaf.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=key)


MODEL = """import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, n_in, hidden, n_tags):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True, bidirectional=True)
        self.attn = nn.MultiheadAttention(2 * hidden, 2, batch_first=True)
        self.head = nn.Linear(2 * hidden, n_tags)

    def forward(self, x):
        h, _ = self.lstm(x)
        a, _ = self.attn(h, h, h)
        return self.head(h + a)


model = Tagger(3, 4, 5)
"""


def test_a_model_holding_an_lstm_and_attention_gives_pytorchs_grads(float64):
    x = _normal(2, 4, 3)
    compute = "loss = F.cross_entropy(model(x).reshape(-1, 5), torch.tensor([0, 1, 2, 3, 4, 0, 1, 2]))"
    compute += "\nloss = loss + 1e-2 * sum((p ** 2).sum() for p in model.parameters())"
    f = api.compile(f"{MODEL}import torch.nn.functional as F\n{compute}\nloss.backward()", {"x": ":2x4x3"})
    found = f.jacobian({"x": x})
    for key, grad in pytorch_grads(MODEL, f"{compute}\nloss.backward()", f.declared, {"x": x}).items():
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=key)


# a tutorial's model as pasted (its h0 and c0 made in forward, flatten_parameters() read as nothing)
TUTORIAL = """import torch
import torch.nn as nn


class LSTMModel(nn.Module):
    def __init__(self, input_dim, hidden_dim, layer_dim, output_dim):
        super(LSTMModel, self).__init__()
        self.hidden_dim = hidden_dim
        self.layer_dim = layer_dim
        self.lstm = nn.LSTM(input_dim, hidden_dim, layer_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, output_dim)

    def forward(self, x):
        h0 = torch.zeros(self.layer_dim, x.size(0), self.hidden_dim).requires_grad_()  # as the tutorial writes it
        c0 = torch.zeros(self.layer_dim, x.size(0), self.hidden_dim).requires_grad_()
        self.lstm.flatten_parameters()
        out, (hn, cn) = self.lstm(x, (h0.detach(), c0.detach()))
        out = self.fc(out[:, -1, :])
        return out


model = LSTMModel(3, 4, 2, 1)
"""
TUTORIAL_LOSS = "criterion = nn.MSELoss()\nloss = criterion(model(x), y)\n"


def test_a_tutorials_lstm_model_gives_pytorchs_grads(float64):
    x, y = _normal(2, 5, 3), _normal(2, 1)
    f = api.compile(f"{TUTORIAL}{TUTORIAL_LOSS}loss.backward()", {"x": ":2x5x3", "y": ":2x1"})
    found = f.jacobian({"x": x, "y": y})
    for key, grad in pytorch_grads(TUTORIAL, f"{TUTORIAL_LOSS}loss.backward()", f.declared, {"x": x, "y": y}).items():
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=key)


FUNCTIONAL = [
    ("F.multi_head_attention_forward(q, k, k, 4, 2, W, bi, None, None, False, 0.0, Wo, bo, "
     "key_padding_mask=torch.tensor([[False, False, True, False], [False] * 4]), average_attn_weights=False)",
     {"q": (3, 2, 4), "k": (4, 2, 4), "W": (12, 4), "bi": (12,), "Wo": (4, 4), "bo": (4,)}),
    ("F.multi_head_attention_forward(q, k, v, 4, 1, None, None, None, None, False, 0.5, Wo, None, training=False, "
     "use_separate_proj_weight=True, q_proj_weight=Wq, k_proj_weight=Wk, v_proj_weight=Wv, attn_mask=m)",
     {"q": (2, 4), "k": (3, 2), "v": (3, 5), "Wq": (4, 4), "Wk": (4, 2), "Wv": (4, 5), "Wo": (4, 4), "m": (2, 3)}),
]


@pytest.mark.parametrize("call,shapes", FUNCTIONAL, ids=range(len(FUNCTIONAL)))
def test_the_functional_attention_is_pytorchs(call, shapes, float64):
    inputs = {k: _normal(*s) for k, s in shapes.items()}
    bindings = {k: ":" + "x".join(map(str, s)) for k, s in shapes.items()}
    text = f"{HEADER}y, w = {call}\n"
    values = {n: api.compile(f"{text}{n}", bindings).value(inputs) for n in ("y", "w")}
    loss = " + ".join(f"(torch.tensor({_weights(n, values[n].shape).tolist()}) * {n}).sum()" for n in ("y", "w"))
    grads = api.compile(f"{text}{loss}", bindings).jacobian(inputs)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    y, w = eval(call, {"torch": torch, "F": torch.nn.functional, **tensors})  # noqa: S307 - the test's own text
    for name, theirs in (("y", y), ("w", w)):
        np.testing.assert_allclose(values[name], theirs.detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    sum((t * torch.from_numpy(_weights(n, tuple(t.shape)))).sum() for n, t in (("y", y), ("w", w))).backward()
    for key, t in tensors.items():
        np.testing.assert_allclose(grads[key], t.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=key)
