"""nn.RNN / GRU / LSTM, their cells and nn.MultiheadAttention made in the text: their parameters are inputs named
as PyTorch names them, drawn as its reset_parameters() draws them, and a call is the recurrence (or attention)
computed here with NumPy from the same parameters; shapes, and what is refused. tests/test_parity_rnn24.py runs
the texts under PyTorch itself."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

runner = CliRunner()
HEADER = "import torch\nimport torch.nn as nn\n"
RNG = np.random.default_rng(2024)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def cell_step(mode, p, x, h, c=None, act=np.tanh):
    """One step of PyTorch's cell, from its documented equations (x (N, C), h (N, H))."""
    gi = x @ p["weight_ih"].T + p.get("bias_ih", 0)
    gh = h @ p["weight_hh"].T + p.get("bias_hh", 0)
    if mode == "RNN":
        return act(gi + gh), None
    if mode == "GRU":
        (ir, iz, in_), (hr, hz, hn) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = np.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, None
    i, f, g, o = np.split(gi + gh, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h = sigmoid(o) * np.tanh(c)
    return (h @ p["weight_hr"].T if "weight_hr" in p else h), c


def layer_forward(mode, params, prefix, x, layers, directions, h0, c0=None):
    """nn.RNN / GRU / LSTM of a sequence-first input x (T, N, C), from h0 (and c0) (layers·directions, N, H)."""
    finals_h, finals_c = [], []
    for layer in range(layers):
        outs = []
        for d, suffix in enumerate(("", "_reverse")[:directions]):
            p = {k: params[f"{prefix}.{k}_l{layer}{suffix}"] for k in
                 ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
                 if f"{prefix}.{k}_l{layer}{suffix}" in params}
            h, c = h0[layer * directions + d], None if c0 is None else c0[layer * directions + d]
            hs = [None] * len(x)
            for t in (reversed(range(len(x))) if d else range(len(x))):
                h, c = cell_step(mode, p, x[t], h, c)
                hs[t] = h
            outs.append(np.stack(hs))
            finals_h.append(h)
            finals_c.append(c)
        x = np.concatenate(outs, axis=-1)
    return x, np.stack(finals_h), (np.stack(finals_c) if c0 is not None else None)


def values(text, names, inputs):
    """The value of each of ``names`` after ``text``, and the parameters the text made."""
    bindings = {k: ":" + "x".join(map(str, v.shape)) for k, v in inputs.items()}
    found = {}
    for name in names:
        f = api.compile(f"{HEADER}{text}\n{name}", bindings)
        found[name] = f.value(inputs)
    return found, {k: np.array(v) for k, v in f.declared.items()}


def test_an_lstm_of_two_layers_batch_first_is_its_recurrence():
    x = RNG.normal(size=(2, 5, 3))
    found, p = values("lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=2, batch_first=True)\n"
                      "out, (h, c) = lstm(x)", ("out", "h", "c"), {"x": x})
    assert list(p) == [f"lstm.{w}_l{k}" for k in (0, 1) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert p["lstm.weight_ih_l0"].shape == (16, 3) and p["lstm.weight_ih_l1"].shape == (16, 4)
    zeros = np.zeros((2, 2, 4))
    out, h, c = layer_forward("LSTM", p, "lstm", x.transpose(1, 0, 2), 2, 1, zeros, zeros)
    np.testing.assert_allclose(found["out"], out.transpose(1, 0, 2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(found["h"], h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(found["c"], c, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(found["h"][1], found["out"][:, -1])  # the last layer's last step


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_a_bidirectional_rnn_and_gru_from_a_given_state(mode):
    x, h0 = RNG.normal(size=(4, 2, 3)), RNG.normal(size=(4, 2, 5))
    found, p = values(f"rnn = nn.{mode}(3, 5, num_layers=2, bidirectional=True)\nout, h = rnn(x, h0)",
                      ("out", "h"), {"x": x, "h0": h0})
    assert "rnn.bias_hh_l1_reverse" in p and p["rnn.weight_ih_l1_reverse"].shape == ((3 if mode == "GRU" else 1) * 5,
                                                                                      10)
    out, h, _ = layer_forward(mode, p, "rnn", x, 2, 2, h0)
    np.testing.assert_allclose(found["out"], out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(found["h"], h, rtol=1e-12, atol=1e-14)


def test_an_unbatched_sequence_and_a_projected_lstm():
    x = RNG.normal(size=(3, 2))
    found, p = values("lstm = nn.LSTM(2, 4, proj_size=3)\nout, (h, c) = lstm(x)", ("out", "h", "c"), {"x": x})
    assert p["lstm.weight_hr_l0"].shape == (3, 4) and p["lstm.weight_hh_l0"].shape == (16, 3)
    assert found["out"].shape == (3, 3) and found["h"].shape == (1, 3) and found["c"].shape == (1, 4)
    out, h, c = layer_forward("LSTM", p, "lstm", x[:, None], 1, 1, np.zeros((1, 1, 3)), np.zeros((1, 1, 4)))
    np.testing.assert_allclose(found["out"], out[:, 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(found["c"], c[:, 0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_a_cell_in_a_loop_over_time_steps(mode):
    x = RNG.normal(size=(3, 2, 4))
    pair = mode == "LSTM"
    step = "h, c = cell(x[t], (h, c))" if pair else "h = cell(x[t], h)"
    text = (f"cell = nn.{mode}Cell(4, 3, nonlinearity='relu')" if mode == "RNN" else f"cell = nn.{mode}Cell(4, 3)") \
        + "\nh = torch.zeros(2, 3)\nc = torch.zeros(2, 3)\nfor t in range(3):\n    " + step
    found, p = values(text, ("h", "c") if pair else ("h",), {"x": x})
    weights = {k.split(".")[1]: v for k, v in p.items()}
    assert set(weights) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    h, c = np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(3):
        h, c = cell_step(mode, weights, x[t], h, c, act=lambda v: np.maximum(v, 0))
    np.testing.assert_allclose(found["h"], h, rtol=1e-12, atol=1e-14)
    if pair:
        np.testing.assert_allclose(found["c"], c, rtol=1e-12, atol=1e-14)


def test_the_parameters_are_drawn_within_one_over_root_hidden():
    f = api.compile(f"{HEADER}gru = nn.GRU(3, 16)\ngru(x)[0].sum()", {"x": ":2x3"})
    for name, value in f.declared.items():
        assert np.abs(value).max() <= 0.25 and np.abs(value).max() > 0.2, name  # U(-1/4, 1/4), 48 or 144 draws


def mha(p, q, k, v, heads, mask=None):
    """Multi-head attention of unbatched q (L, E), k and v (S, E), from the paper's equations."""
    E = q.shape[-1]
    w, bias = np.split(p["attn.in_proj_weight"], 3), np.split(p.get("attn.in_proj_bias", np.zeros(3 * E)), 3)
    Q, K, V = (t @ wi.T + bi for t, wi, bi in zip((q, k, v), w, bias))
    hd = E // heads
    outs, weights = [], []
    for i in range(heads):
        s = Q[:, i * hd:(i + 1) * hd] @ K[:, i * hd:(i + 1) * hd].T / np.sqrt(hd) + (0 if mask is None else mask)
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        weights.append(a)
        outs.append(a @ V[:, i * hd:(i + 1) * hd])
    out = np.concatenate(outs, -1) @ p["attn.out_proj.weight"].T + p.get("attn.out_proj.bias", 0)
    return out, np.mean(weights, 0)


def test_multihead_attention_is_the_papers():
    x, k = RNG.normal(size=(2, 3, 8)), RNG.normal(size=(2, 4, 8))
    found, p = values("attn = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)\n"
                      "mask = torch.tensor([[0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]) > 0\n"
                      "y, w = attn(x, k, k, attn_mask=mask)", ("y", "w"), {"x": x, "k": k})
    assert list(p) == ["attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias"]
    assert not p["attn.in_proj_bias"].any() and not p["attn.out_proj.bias"].any()  # zeros, as _reset_parameters
    assert np.abs(p["attn.in_proj_weight"]).max() <= np.sqrt(6 / 32)  # xavier_uniform_ of (24, 8)
    mask = np.where(np.array([[0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]) > 0, -np.inf, 0)
    for n in range(2):
        out, weights = mha(p, x[n], k[n], k[n], 2, mask)
        np.testing.assert_allclose(found["y"][n], out, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(found["w"][n], weights, rtol=1e-12, atol=1e-14)
    assert found["w"][0, 0, 2:].max() == 0.0


def test_separate_projections_when_kdim_and_vdim_differ():
    f = api.compile(f"{HEADER}attn = nn.MultiheadAttention(6, 3, kdim=2, vdim=5, bias=False)\n"
                    "y, w = attn(q, k, v)\ny.sum() + attn.out_proj.weight.sum()",
                    {"q": ":4x6", "k": ":3x2", "v": ":3x5"})
    assert {k: v.shape for k, v in f.declared.items()} == {
        "attn.q_proj_weight": (6, 6), "attn.k_proj_weight": (6, 2), "attn.v_proj_weight": (6, 5),
        "attn.out_proj.weight": (6, 6)}


def test_a_model_class_holds_recurrent_layers_and_lists_their_parameters():
    text = ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.gru = nn.GRU(3, 4, batch_first=True)\n        self.head = nn.Linear(4, 1)\n\n"
            "    def forward(self, x):\n        out, h = self.gru(x)\n        return self.head(out[:, -1])\n\n\n"
            "net = Net()\nloss = net(x).sum() + sum((p ** 2).sum() for p in net.parameters())\nloss.backward()")
    f = api.compile(HEADER + text, {"x": ":2x5x3"})
    assert list(f.declared) == ["net.gru.weight_ih_l0", "net.gru.weight_hh_l0", "net.gru.bias_ih_l0",
                                "net.gru.bias_hh_l0", "net.head.weight", "net.head.bias"]
    x = RNG.normal(size=(2, 5, 3))
    p = {k.replace("net.", ""): np.array(v) for k, v in f.declared.items()}
    out, _, _ = layer_forward("GRU", p, "gru", x.transpose(1, 0, 2), 1, 1, np.zeros((1, 2, 4)))
    expected = (out[-1] @ p["head.weight"].T + p["head.bias"]).sum() + sum((v ** 2).sum() for v in p.values())
    np.testing.assert_allclose(f.value({"x": x}), expected, rtol=1e-12)


@pytest.mark.parametrize("text,bindings", [
    ("lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True)\nout, (h, c) = lstm(x)\n(out ** 2).sum() + c.sum()",
     ["x:3x1x2"]),
    ("attn = nn.MultiheadAttention(4, 2)\ny, w = attn(x, x, x)\n(y ** 2).sum() + (w ** 2).sum()", ["x:3x4"]),
])
def test_central_differences_agree(text, bindings):
    result = runner.invoke(app, ["check", HEADER + text, *bindings, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["inputs"]) > 3 and report["passed"] is True


def test_jac_shape_takes_a_recurrent_layer_of_any_size():
    text = HEADER + "lstm = nn.LSTM(3000, 20000, num_layers=2, bidirectional=True)\nout, (h, c) = lstm(x)\nh"
    result = runner.invoke(app, ["shape", text, "x:5x1x3000", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["inputs"]["lstm.weight_ih_l1_reverse"]["shape"] == [80000, 40000]
    assert report["output"]["shape"] == [4, 1, 20000]


@pytest.mark.parametrize("text,words", [
    ("y = nn.LSTM(3, 4)(x)[0]", ["assign it at the text's top level", "rnn.weight_ih_l0"]),
    ("rnn = nn.GRU(3, 4, num_layers=2, dropout=0.5)\nrnn(x)[0]", ["dropout=0.5", "training mode", "dropout=0"]),
    ("rnn = nn.GRU(3, 4, proj_size=2)\nrnn(x)[0]", ["only supported for LSTM"]),
    ("rnn = nn.LSTM(3, 4, proj_size=4)\nrnn(x)[0]", ["smaller than hidden_size"]),
    ("rnn = nn.RNN(3, 4, nonlinearity='gelu')\nrnn(x)[0]", ["unknown nonlinearity 'gelu'"]),
    ("rnn = nn.RNN(4, 4)\nrnn(x)[0]", ["input_size", "Expected 4, got 3"]),
    ("rnn = nn.RNN(3, 4)\nrnn(x[0, 0])[0]", ["Expected input to be 2D or 3D, got 1D"]),
    ("rnn = nn.RNN(3, 4)\nrnn(x[0], torch.zeros(1, 1, 4))[0]", ["hx should also be 2-D"]),
    ("rnn = nn.LSTM(3, 4)\nrnn(x, torch.zeros(1, 4, 4))[0]", ["takes its state as a tuple of two arrays"]),
    ("rnn = nn.GRU(3, 4)\nrnn(x, torch.zeros(1, 2, 4))[0]", ["expected hidden size of shape (1, 4, 4)"]),
    ("rnn = nn.LSTM(3, 4)\nrnn(x)", ["the last statement is a tuple of 2 arrays"]),
    ("rnn = nn.LSTM(3, 4)\nrnn(x[:0])[0]", ["Expected sequence length to be larger than 0"]),
    ("rnn = nn.LSTM(3, 4, device='cuda')\nrnn(x)[0]", ["CPU"]),
    ("cell = nn.LSTMCell(3, 4)\ncell(x[0])[0] + cell(x)[0]", ["Expected input to be 1D or 2D, got 3D"]),
    ("attn = nn.MultiheadAttention(6, 4)\nattn(x, x, x)[0]", ["embed_dim (6) must be divisible by num_heads (4)"]),
    ("attn = nn.MultiheadAttention(3, 1, dropout=0.1)\nattn(x, x, x)[0]", ["dropout=0.1", "training mode"]),
    ("attn = nn.MultiheadAttention(3, 1, add_bias_kv=2)\nattn(x, x, x)[0]", ["add_bias_kv", "True or False"]),
    ("attn = nn.MultiheadAttention(3, 1)\ny, w = attn(x, x, x, need_weights=False)\nw", ["returns None"]),
    ("attn = nn.MultiheadAttention(3, 1)\nattn(x, x, x, attn_mask=torch.eye(2))[0]", ["0s and 1s"]),
    ("attn = nn.MultiheadAttention(3, 1)\nattn(x, x, x, attn_mask=torch.zeros(2, 3))[0]",
     ["attn_mask must be of shape"]),
    ("attn = nn.MultiheadAttention(3, 1)\nattn(x, x, x, is_causal=True)[0]", ["is_causal=True"]),
    ("attn = nn.MultiheadAttention(3, 1)\nattn(x, x, x, key_padding_mask=torch.tensor([[0, 2, 0, 0]] * 4))[0]",
     ["only bool and floating types of key_padding_mask"]),
    ("attn = nn.MultiheadAttention(3, 1)\nattn(x, x)[0]", ["'value' is missing"]),
])
def test_what_is_refused(text, words):
    result = runner.invoke(app, ["eval", HEADER + text, "x:4x4x3"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "internal" not in result.output
    for word in words:
        assert word in result.output, result.output


def test_a_zero_mask_is_read_either_way_and_a_stacked_constant_state_is_the_pair():
    x = RNG.normal(size=(3, 2, 4))
    plain = api.evaluate(f"{HEADER}attn = nn.MultiheadAttention(4, 2)\nattn(x, x, x)[0]", {"x": x})
    zero = api.evaluate(f"{HEADER}attn = nn.MultiheadAttention(4, 2)\n"
                        "attn(x, x, x, attn_mask=torch.zeros(3, 3), key_padding_mask=torch.zeros(2, 3))[0]", {"x": x})
    np.testing.assert_array_equal(plain, zero)
    lstm = f"{HEADER}lstm = nn.LSTM(4, 2)\n"
    given = api.evaluate(lstm + "lstm(x, (torch.zeros(1, 2, 2), torch.zeros(1, 2, 2)))[0]", {"x": x})
    np.testing.assert_array_equal(given, api.evaluate(lstm + "lstm(x)[0]", {"x": x}))


def test_a_malformed_call_is_one_clear_error():
    with pytest.raises(JacError, match="called with the input and, if given, the state"):
        api.evaluate(f"{HEADER}rnn = nn.RNN(3, 4)\nrnn(x, x, x)[0]", {"x": np.zeros((2, 3))})


def test_flatten_parameters_is_read_as_nothing():
    x = RNG.normal(size=(3, 2, 4))
    text = f"{HEADER}gru = nn.GRU(4, 2)\n"
    flat = api.evaluate(text + "gru.flatten_parameters()\ngru(x)[0]", {"x": x})
    np.testing.assert_array_equal(flat, api.evaluate(text + "gru(x)[0]", {"x": x}))
    with pytest.raises(JacError, match="never used"):  # a tensor has no such method
        api.evaluate(text + "x.flatten_parameters()\ngru(x)[0]", {"x": x})


def test_a_cell_without_state_needs_a_known_batch_and_a_given_state_may_be_symbolic():
    text = f"{HEADER}cell = nn.LSTMCell(3, 4)\n"
    result = runner.invoke(app, ["shape", text + "cell(x)[0]", "x:Nx3"])
    assert result.exit_code == 2 and "zero state of the batch's size" in result.output, result.output
    result = runner.invoke(app, ["shape", text + "cell(x, (h, h))[1]", "x:Nx3", "h:Nx4", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["output"]["shape"] == ["N", 4], result.output


def test_the_functional_attention_is_the_modules_with_its_parameters():
    x = RNG.normal(size=(3, 2, 4))
    module = f"{HEADER}attn = nn.MultiheadAttention(4, 2)\ny, w = attn(x, x, x)\n"
    f = api.compile(module + "y", {"x": ":3x2x4"})
    p = {k.split(".", 1)[1].replace(".", "_"): np.array(v) for k, v in f.declared.items()}
    functional = (f"{HEADER}import torch.nn.functional as F\ny, w = F.multi_head_attention_forward(x, x, x, 4, 2, W, "
                  "bi, None, None, False, 0.0, Wo, bo)\n")
    given = {"x": x, "W": p["in_proj_weight"], "bi": p["in_proj_bias"], "Wo": p["out_proj_weight"],
             "bo": p["out_proj_bias"]}
    np.testing.assert_array_equal(api.evaluate(functional + "y", given), f.value({"x": x}))
    with pytest.raises(JacError, match="bias_k and bias_v are given both or neither"):
        api.evaluate(functional.replace("bi, None", "bi, bo"), given)
    with pytest.raises(JacError, match="in_proj_weight must be of shape"):
        api.evaluate(functional + "y", {**given, "W": p["in_proj_weight"][:8]})
    with pytest.raises(JacError, match="dropout_p=0.1, training=True"):
        api.evaluate(functional.replace("False, 0.0", "False, 0.1") + "y", given)


def test_constant_arrays_of_different_shapes_in_a_tuple_are_a_list_of_arrays():
    x = RNG.normal(size=5)
    np.testing.assert_array_equal(api.evaluate("torch.cat([torch.zeros(2), torch.ones(3)]) * x", {"x": x}),
                                  np.r_[0, 0, 1, 1, 1] * x)  # was refused: 'a nested list must be rectangular'
    with pytest.raises(JacError, match="must be rectangular"):  # a ragged list written out is still refused
        api.evaluate("torch.tensor([[1, 2], [3]]) * x", {"x": x})
    lstm = f"{HEADER}lstm = nn.LSTM(2, 5, proj_size=3)\n"
    out = api.evaluate(lstm + "lstm(x, (torch.zeros(1, 3), torch.zeros(1, 5)))[0]", {"x": x[:4, None] * [1, -1]})
    np.testing.assert_array_equal(out, api.evaluate(lstm + "lstm(x)[0]", {"x": x[:4, None] * [1, -1]}))
