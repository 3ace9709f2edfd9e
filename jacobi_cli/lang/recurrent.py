"""PyTorch's recurrent layers and multi-head attention, made where the text's top level (or a model's
``__init__``) assigns one: ``rnn = nn.LSTM(3, 4, num_layers=2, batch_first=True)``, ``cell = nn.GRUCell(3, 4)``,
``attn = nn.MultiheadAttention(8, 2)``. Their parameters are inputs the text makes, named as PyTorch's
``named_parameters()`` names them (``rnn.weight_ih_l0``, ``rnn.bias_hh_l1_reverse``, ``attn.in_proj_weight``,
``attn.out_proj.weight``) and drawn as their ``reset_parameters()`` draws them, from jac's seeded generator;
a call lowers the module's forward onto existing ops (``linear``, ``sigmoid``, ``tanh``, indexing, ``stack``,
``cat``, ``softmax``), one time step after the other, with the gates in PyTorch's order (LSTM i, f, g, o; GRU
r, z, n) and its arithmetic (GRU's ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (h - n) * z + n``),
and returns what PyTorch returns: ``(output, h_n)``, ``(output, (h_n, c_n))``, ``h'``, ``(h', c')``,
``(attn_output, attn_weights)``. Nothing here has a derivative rule of its own."""
from __future__ import annotations

import math

import numpy as np

from ..errors import JacShapeError, JacValueError
from ..ir import dtypes
from ..ir.shapes import fmt
from .functions import REQUIRED, SHAPE_OPS, Items, Refused, arguments, booleans, static, static_int, tensor, variant
from .modules import Module, _drawn, _function, _given, _weighted_call, flag, floating, uniform

_BASE = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size",
         "device", "dtype")
_BASE_DEFAULTS = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False,
                  "proj_size": 0, "device": None, "dtype": None}
_CELL = ("input_size", "hidden_size", "bias", "device", "dtype")
_CELL_DEFAULTS = {"bias": True, "device": None, "dtype": None}
_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
# class: (its constructor's parameters in order, their defaults (absent: required)); nn.RNN reads a fourth
# positional argument as its nonlinearity, as its __init__ does
RECURRENT = {
    "RNN": (_BASE[:3] + ("nonlinearity",) + _BASE[3:], {**_BASE_DEFAULTS, "nonlinearity": "tanh"}),
    "GRU": (_BASE, _BASE_DEFAULTS),
    "LSTM": (_BASE, _BASE_DEFAULTS),
    "RNNCell": (_CELL[:3] + ("nonlinearity",) + _CELL[3:], {**_CELL_DEFAULTS, "nonlinearity": "tanh"}),
    "GRUCell": (_CELL, _CELL_DEFAULTS),
    "LSTMCell": (_CELL, _CELL_DEFAULTS),
    "MultiheadAttention": (("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim",
                            "vdim", "batch_first", "device", "dtype"),
                           {"dropout": 0.0, "bias": True, "add_bias_kv": False, "add_zero_attn": False, "kdim": None,
                            "vdim": None, "batch_first": False, "device": None, "dtype": None}),
}


class Recurrent(Module):
    """A recurrent layer, cell or attention made: its options and its parameters (name → input), which
    ``rnn.weight_ih_l0`` reads (``attn.out_proj`` is the output projection, an ``nn.Linear``). Its mode is read
    where it matters: a dropout between layers or of the attention weights applies in training mode only."""

    reads_mode = True

    def __init__(self, cls: str, options: dict, params: dict, run):
        super().__init__(cls, None, options, run)
        self.params = params

    def parameter(self, name: str):
        return self.params.get(name)

    def own_parameters(self) -> list:
        """Its parameters as ``named_parameters()`` lists them first; attention's ``out_proj`` is a child."""
        return [(k, v) for k, v in self.params.items() if not isinstance(v, Module)]

    def children(self) -> list:
        return [(k, v) for k, v in self.params.items() if isinstance(v, Module)]


def recurrent(b, cls: str, args: list, kwargs: dict, position, make) -> Recurrent:
    """``nn.LSTM(...)``, ``nn.GRUCell(...)``, ``nn.MultiheadAttention(...)`` made: each parameter drawn as PyTorch
    draws it and made an input by ``make(name, value)`` (which returns its tracer)."""
    params, defaults = RECURRENT[cls]
    given = _given(cls, params, args, kwargs, position)
    missing = [p for p in params if p not in given and p not in defaults]
    if missing:
        raise JacValueError(f"nn.{cls}() is missing its argument '{missing[0]}'", position)
    a = {**defaults, **given}
    device = static(b, a["device"], "device", position)
    if device not in (None, "cpu"):
        raise JacValueError(f"nn.{cls}(): device={device!r}: jac computes on the CPU with NumPy", position)
    if cls == "MultiheadAttention":
        return _attention(b, a, position, make)
    return _recurrent_layer(b, cls, a, position, make)


def _positive(b, a: dict, key: str, cls: str, position) -> int:
    v = static_int(b, a[key], f"nn.{cls}'s {key}", position)
    if v < 1:
        raise JacValueError(f"nn.{cls}(): {key} must be a positive integer, got {v}", position)
    return v


def _dropout(b, a: dict, cls: str, position) -> float:
    p = static(b, a["dropout"], f"nn.{cls}'s dropout", position)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise JacValueError(f"nn.{cls}(): dropout must be a number between 0 and 1, got {p!r}", position)
    return float(p)


def _recurrent_layer(b, cls: str, a: dict, position, make) -> Recurrent:
    """nn.RNN / GRU / LSTM and their cells: every weight and bias U(-1/√hidden, 1/√hidden)."""
    cell = cls.endswith("Cell")
    mode = cls[:-4] if cell else cls
    n_in, hidden = _positive(b, a, "input_size", cls, position), _positive(b, a, "hidden_size", cls, position)
    bias = flag(b, a["bias"], f"nn.{cls}'s bias", position)
    options = {"input_size": n_in, "hidden_size": hidden, "mode": mode, "cell": cell}
    if mode == "RNN":
        act = static(b, a["nonlinearity"], f"nn.{cls}'s nonlinearity", position)
        if act not in ("tanh", "relu"):
            raise JacValueError(f"nn.{cls}(): unknown nonlinearity {act!r} (PyTorch's are 'tanh' and 'relu')",
                                position)
        options["nonlinearity"] = act
    gate, draw = _GATES[mode] * hidden, uniform(b, 1 / math.sqrt(hidden))
    if cell:
        shapes = {"weight_ih": (gate, n_in), "weight_hh": (gate, hidden)}
        shapes.update({"bias_ih": (gate,), "bias_hh": (gate,)} if bias else {})
        return Recurrent(cls, options, _made(b, cls, shapes, draw, position, make), _run_cell)
    layers = _positive(b, a, "num_layers", cls, position)
    dropout = _dropout(b, a, cls, position)
    proj = static_int(b, a["proj_size"], f"nn.{cls}'s proj_size", position)
    if proj < 0:
        raise JacValueError(f"nn.{cls}(): proj_size should be a positive integer or zero to disable projections, "
                            f"got {proj}", position)
    if proj and mode != "LSTM":
        raise JacValueError(f"nn.{cls}(): proj_size argument is only supported for LSTM, not RNN or GRU", position)
    if proj >= hidden:
        raise JacValueError(f"nn.{cls}(): proj_size ({proj}) has to be smaller than hidden_size ({hidden})", position)
    directions = 2 if flag(b, a["bidirectional"], f"nn.{cls}'s bidirectional", position) else 1
    out = proj or hidden
    options.update(num_layers=layers, directions=directions, proj_size=proj, bias=bias, dropout=dropout,
                   batch_first=flag(b, a["batch_first"], f"nn.{cls}'s batch_first", position))
    shapes = {}
    for layer in range(layers):
        for suffix in ("", "_reverse")[:directions]:
            width = n_in if layer == 0 else out * directions
            shapes[f"weight_ih_l{layer}{suffix}"] = (gate, width)
            shapes[f"weight_hh_l{layer}{suffix}"] = (gate, out)
            if bias:
                shapes[f"bias_ih_l{layer}{suffix}"] = (gate,)
                shapes[f"bias_hh_l{layer}{suffix}"] = (gate,)
            if proj:
                shapes[f"weight_hr_l{layer}{suffix}"] = (proj, hidden)
    return Recurrent(cls, options, _made(b, cls, shapes, draw, position, make), _run_layer)


def _made(b, cls: str, shapes: dict, draw, position, make) -> dict:
    """The parameters of ``shapes`` (name → shape), each drawn by ``draw`` and made an input, in order."""
    made = {}
    for name, shape in shapes.items():
        if not b.shapes_only:
            b.check_size(shape, f"nn.{cls}'s {name}, shape {fmt(shape)},", position)  # before it is drawn
        made[name] = make(name, _drawn(b, shape, draw))
    return made


def _call(fname: str, b, position, *args, **kwargs):
    return _function(fname)(b, list(args), kwargs, position)


def _zeros(b, shape: tuple, position):
    return b.const(_drawn(b, shape, np.zeros), position)


def _step(b, module: Recurrent, x, state: tuple, weights: dict, position, projected=None) -> tuple:
    """One step of the cell: the new state, (h,) or (h, c), from the input ``x`` (N, C) and ``state``.
    ``projected``: ``x W_ihᵀ + b_ih`` computed already (a layer projects every time step at once)."""
    o = module.kwargs
    gi = projected if projected is not None else _call("linear", b, position, x, weights["weight_ih"],
                                                       weights.get("bias_ih"))
    gh = _call("linear", b, position, state[0], weights["weight_hh"], weights.get("bias_hh"))
    mode, hidden = o["mode"], o["hidden_size"]

    def gate(g, k):  # the k-th chunk of the gates' last axis, as PyTorch's chunk(n, 1)
        index = (slice(None),) * (g.ndim - 1) + (slice(k * hidden, (k + 1) * hidden),)
        return b.apply("getitem", g, index=index, position=position)
    if mode == "RNN":
        return (_call(o["nonlinearity"], b, position, gh + gi),)
    if mode == "GRU":
        r = _call("sigmoid", b, position, gate(gh, 0) + gate(gi, 0))
        z = _call("sigmoid", b, position, gate(gh, 1) + gate(gi, 1))
        n = _call("tanh", b, position, gate(gi, 2) + gate(gh, 2) * r)
        return ((state[0] - n) * z + n,)
    gates = gh + gi
    i, f = _call("sigmoid", b, position, gate(gates, 0)), _call("sigmoid", b, position, gate(gates, 1))
    g, out = _call("tanh", b, position, gate(gates, 2)), _call("sigmoid", b, position, gate(gates, 3))
    c = f * state[1] + i * g
    h = out * _call("tanh", b, position, c)
    if "weight_hr" in weights:
        h = _call("linear", b, position, h, weights["weight_hr"])
    return h, c


def _state_parts(b, module: Recurrent, hx, count: int, position) -> list:
    """The initial state as its parts: one array, or an LSTM's pair (h, c) given as a tuple (a tuple of two
    constants of one shape is one array of them stacked, as jac reads a literal: unstacked here)."""
    if count == 1:
        return [floating(b, module.cls, tensor(b, hx, f"nn.{module.cls}", position), position)]
    if isinstance(hx, Items) and len(hx) == 2:
        return [floating(b, module.cls, tensor(b, Refused.check(p, position), f"nn.{module.cls}", position), position)
                for p in hx]
    if not isinstance(hx, Items):  # a tuple of constants, (h0, c0), is unstacked by the parser's lstm_state
        raise JacValueError(f"nn.{module.cls}() takes its state as a tuple of two arrays, (h, c), not one tensor "
                            f"(PyTorch raises on one, even h and c stacked): write (hc[0], hc[1])", position)
    raise JacValueError(f"nn.{module.cls}() takes its state as a tuple of two arrays, (h, c)", position)


def _check_state(module: Recurrent, part, shape: tuple, what: str, position) -> None:
    if tuple(part.shape) != shape:
        raise JacShapeError(f"nn.{module.cls}(): expected {what} of shape {fmt(shape)}, got {fmt(part.shape)}",
                            position)


def _input_and_state(b, module: Recurrent, args: list, kwargs: dict, position) -> tuple:
    """The call's input and its state (None when not given), as ``forward(input, hx=None)`` binds them."""
    if len(args) > 2 or set(kwargs) - {"input", "hx"} or len(args) + len(kwargs) < 1 \
            or len(args) == 2 and "hx" in kwargs or args and "input" in kwargs:
        raise JacValueError(f"nn.{module.cls}() is called with the input and, if given, the state: (x) or (x, hx)",
                            position)
    x = floating(b, module.cls, tensor(b, args[0] if args else kwargs["input"], f"nn.{module.cls}", position),
                 position)
    return x, args[1] if len(args) == 2 else kwargs.get("hx")


def _run_cell(b, module: Recurrent, args: list, kwargs: dict, position):
    """nn.RNNCell / GRUCell / LSTMCell's forward, cell(x, hx=None): h' (or the pair (h', c'))."""
    x, hx = _input_and_state(b, module, args, kwargs, position)
    o = module.kwargs
    if x.ndim not in (1, 2):
        raise JacShapeError(f"nn.{module.cls}: Expected input to be 1D or 2D, got {x.ndim}D instead", position)
    if x.shape[-1] != o["input_size"]:
        raise JacShapeError(f"nn.{module.cls}(): input has inconsistent input_size: got {x.shape[-1]} expected "
                            f"{o['input_size']}", position)
    single = x.ndim == 1
    if single:
        x = _call("unsqueeze", b, position, x, 0)
    count = 2 if o["mode"] == "LSTM" else 1
    shape = (x.shape[0], o["hidden_size"])
    if hx is None:
        if not isinstance(shape[0], int):
            raise JacShapeError(f"nn.{module.cls}() starts from a zero state of the batch's size, which must be known: "
                                f"got the input's shape {fmt(x.shape)}", position)
        state = [_zeros(b, shape, position)] * count
    else:
        state = _state_parts(b, module, hx, count, position)
        for k, part in enumerate(state):
            _check_state(module, part, shape[1:] if single else shape, "hx" if count == 1 else "hc"[k] + "x",
                         position)
        state = [_call("unsqueeze", b, position, p, 0) for p in state] if single else state
    new = _step(b, module, x, tuple(state), module.params, position)
    if single:
        new = tuple(_call("squeeze", b, position, p, 0) for p in new)
    return new[0] if count == 1 else Items(new)


def _sequence(b, module: Recurrent, x, position):
    """The input of a layer checked as PyTorch checks it, sequence first (T, N, C), and whether it was unbatched."""
    o = module.kwargs
    if module.training and o["dropout"] > 0 and o["num_layers"] > 1:  # none after the last layer: one is as it is
        raise JacValueError(f"nn.{module.cls}(..., dropout={o['dropout']:g}) in training mode (as made) drops the "
                            f"outputs of all but the last layer at random (no one Jacobian); write dropout=0, or call "
                            f"its .eval() first", position)
    if x.ndim not in (2, 3):
        raise JacShapeError(f"nn.{module.cls}: Expected input to be 2D or 3D, got {x.ndim}D instead", position)
    if x.shape[-1] != o["input_size"]:
        raise JacShapeError(f"nn.{module.cls}(): input.size(-1) must be equal to input_size. Expected "
                            f"{o['input_size']}, got {x.shape[-1]}", position)
    if not all(isinstance(s, int) for s in x.shape):
        raise JacShapeError(f"nn.{module.cls}() runs one step per time step: the input's sizes must be known, got "
                            f"{fmt(x.shape)}", position)
    single = x.ndim == 2
    if single:
        return _call("unsqueeze", b, position, x, 1), True
    return (_call("transpose", b, position, x, 0, 1) if o["batch_first"] else x), False


def _initial_state(b, module: Recurrent, hx, batch: int, single: bool, position) -> list:
    """h_0 (and an LSTM's c_0), each (layers·directions, N, size): zeros, or the state given, checked."""
    o = module.kwargs
    rows = o["num_layers"] * o["directions"]
    shapes = [(rows, batch, o["proj_size"] or o["hidden_size"]), (rows, batch, o["hidden_size"])]
    shapes = shapes[:2 if o["mode"] == "LSTM" else 1]
    if hx is None:
        return [_zeros(b, s, position) for s in shapes]
    initial = _state_parts(b, module, hx, len(shapes), position)
    for k, (part, s) in enumerate(zip(initial, shapes)):
        if single and part.ndim != 2:
            raise JacShapeError(f"nn.{module.cls}(): for unbatched 2-D input, hx should also be 2-D but got "
                                f"{part.ndim}-D tensor", position)
        _check_state(module, part, (s[0],) + s[2:] if single else s, ("hidden size", "cell size")[k], position)
    return [_call("unsqueeze", b, position, p, 1) for p in initial] if single else initial


def _direction(b, module: Recurrent, x, state: tuple, weights: dict, reverse: bool, position) -> tuple:
    """One layer's pass in one direction over x (T, N, C): its outputs (T, N, H) and its last state. The input's
    projection is made for every time step at once, as PyTorch's CPU kernels make it."""
    projected = _call("linear", b, position, x, weights["weight_ih"], weights.get("bias_ih"))
    hs = [None] * x.shape[0]
    for t in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        state = _step(b, module, None, state, weights, position,
                      projected=b.apply("getitem", projected, index=(t,), position=position))
        hs[t] = state[0]
    return _call("stack", b, position, Items(hs), 0), state


# graph nodes a time step of a layer writes, at least (measured: biases add a few)
_NODES_PER_STEP = {"RNN": 8, "GRU": 20, "LSTM": 18}


def _run_layer(b, module: Recurrent, args: list, kwargs: dict, position):
    """nn.RNN / GRU / LSTM's forward, rnn(x, hx=None): (output, h_n), an LSTM's (output, (h_n, c_n))."""
    x, hx = _input_and_state(b, module, args, kwargs, position)
    x, single = _sequence(b, module, x, position)
    if x.shape[0] == 0:
        raise JacShapeError(f"nn.{module.cls}(): Expected sequence length to be larger than 0 in RNN", position)
    o = module.kwargs
    steps = x.shape[0] * o["num_layers"] * o["directions"]  # each written out: counted first (10**6 steps took 12 s)
    b.check_nodes(_NODES_PER_STEP.get(module.cls.removesuffix("Cell"), 8) * steps,
                  f"nn.{module.cls} over {x.shape[0]:,} time steps, {o['num_layers']} layer(s)", position)
    initial = _initial_state(b, module, hx, x.shape[1], single, position)
    finals = [[] for _ in initial]
    for layer in range(o["num_layers"]):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")[:o["directions"]]):
            weights = {name: module.params[f"{name}_l{layer}{suffix}"]
                       for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
                       if f"{name}_l{layer}{suffix}" in module.params}
            k = layer * o["directions"] + d
            state = tuple(b.apply("getitem", p, index=(k,), position=position) for p in initial)
            output, state = _direction(b, module, x, state, weights, d == 1, position)
            outputs.append(output)
            for part, final in zip(finals, state):
                part.append(final)
        x = outputs[0] if len(outputs) == 1 else _call("cat", b, position, Items(outputs), 2)
    finals = [_call("stack", b, position, Items(parts), 0) for parts in finals]
    if single:
        x, finals = _call("squeeze", b, position, x, 1), [_call("squeeze", b, position, p, 1) for p in finals]
    elif o["batch_first"]:
        x = _call("transpose", b, position, x, 0, 1)
    return Items([x, finals[0] if len(finals) == 1 else Items(finals)])


def _attention(b, a: dict, position, make) -> Recurrent:
    """nn.MultiheadAttention: in_proj_weight (or q/k/v_proj_weight when kdim or vdim differ from embed_dim)
    xavier_uniform_, in_proj_bias 0, out_proj an nn.Linear (its weight drawn as Linear's) with bias 0."""
    cls = "MultiheadAttention"
    embed, heads = _positive(b, a, "embed_dim", cls, position), _positive(b, a, "num_heads", cls, position)
    if embed % heads:
        raise JacValueError(f"nn.{cls}(): embed_dim ({embed}) must be divisible by num_heads ({heads})", position)
    dropout = _dropout(b, a, cls, position)
    kdim = embed if a["kdim"] is None else _positive(b, a, "kdim", cls, position)
    vdim = embed if a["vdim"] is None else _positive(b, a, "vdim", cls, position)
    bias = flag(b, a["bias"], f"nn.{cls}'s bias", position)
    options = {"embed_dim": embed, "num_heads": heads, "kdim": kdim, "vdim": vdim, "dropout": dropout,
               "batch_first": flag(b, a["batch_first"], f"nn.{cls}'s batch_first", position),
               "add_zero_attn": flag(b, a["add_zero_attn"], f"nn.{cls}'s add_zero_attn", position)}

    def xavier(fan_in, fan_out):  # xavier_uniform_: U(-a, a), a = √(6 / (fan_in + fan_out))
        return uniform(b, math.sqrt(6.0 / (fan_in + fan_out)))
    if kdim == embed and vdim == embed:
        params = _made(b, cls, {"in_proj_weight": (3 * embed, embed)}, xavier(embed, 3 * embed), position, make)
    else:
        params = {}
        for name, width in (("q_proj_weight", embed), ("k_proj_weight", kdim), ("v_proj_weight", vdim)):
            params.update(_made(b, cls, {name: (embed, width)}, xavier(width, embed), position, make))
    if bias:
        params.update(_made(b, cls, {"in_proj_bias": (3 * embed,)}, np.zeros, position, make))
    linear = {"weight": _made(b, cls, {"out_proj.weight": (embed, embed)}, uniform(b, 1 / math.sqrt(embed)),
                              position, make)["out_proj.weight"]}
    if bias:
        linear["bias"] = _made(b, cls, {"out_proj.bias": (embed,)}, np.zeros, position, make)["out_proj.bias"]
    params["out_proj"] = Module("Linear", "linear", linear, run=_weighted_call)
    params["out_proj"].params = dict(linear)  # its parameters, as named_parameters() walks them (out_proj.weight)
    if flag(b, a["add_bias_kv"], f"nn.{cls}'s add_bias_kv", position):  # xavier_normal_ of (1, 1, E): std √(1/E)
        params.update(_made(b, cls, {"bias_k": (1, 1, embed), "bias_v": (1, 1, embed)},
                            lambda shape: b.rng.standard_normal(shape) * math.sqrt(1.0 / embed), position, make))
    return Recurrent(cls, options, params, _run_attention)


_ATTENTION_ARGS = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
                   "is_causal")


def _run_attention(b, module: Recurrent, args: list, kwargs: dict, position):
    """nn.MultiheadAttention's forward as F.multi_head_attention_forward computes it in training mode:
    (attn_output, attn_weights), the weights averaged over the heads unless average_attn_weights=False,
    None (refused where used) with need_weights=False."""
    cls, o = "nn.MultiheadAttention", module.kwargs
    q, k, v, a = _attention_arguments(b, o, args, kwargs, position, module.training)
    need = flag(b, a["need_weights"], f"{cls}'s need_weights", position)
    average = flag(b, a["average_attn_weights"], f"{cls}'s average_attn_weights", position)
    if flag(b, a["is_causal"], f"{cls}'s is_causal", position) and a["attn_mask"] is None:
        raise JacValueError(f"{cls}(..., is_causal=True) without attn_mask: PyTorch raises (is_causal is a hint "
                            f"that attn_mask is the causal mask): give the mask, attn_mask=nn.Transformer."
                            f"generate_square_subsequent_mask(L) or torch.triu(torch.full((L, L), float('-inf')), 1)",
                            position)
    batched = _attention_shapes(b, o, q, k, v, position)
    # PyTorch 2.13 follows the hint only without weights and without a key padding mask: the causal mask replaces
    # attn_mask (F.scaled_dot_product_attention(is_causal=True)); else attn_mask is used as given
    causal = flag(b, a["is_causal"], f"{cls}'s is_causal", position) and not need and a["key_padding_mask"] is None
    if causal:
        a = {**a, "attn_mask": None}
    if not batched:
        q, k, v = (_call("unsqueeze", b, position, t, 1) for t in (q, k, v))
    elif o["batch_first"]:
        q, k, v = (_call("transpose", b, position, t, 1, 0) for t in (q, k, v))
    (tgt, batch, embed), src, heads = q.shape, k.shape[0], o["num_heads"]
    mask = _attention_mask(b, a, batched, batch, heads, tgt, src, position)
    projected, extra = _extended(b, module, _projections(b, module, q, k, v, position), batch, position)
    if mask is not None and extra:  # the keys added are not masked: the masks padded with 0, as PyTorch pads them
        mask = _call("pad", b, position, mask, (0, extra))
    src += extra
    if causal:
        mask = _causal(b, tgt, src, position)
    out, weights = _heads(b, projected, mask, batch, heads, need, position)
    out = _call("reshape", b, position, _call("transpose", b, position, out, 0, 1), (tgt * batch, embed))
    out = _call("reshape", b, position, module.params["out_proj"].call(b, [out], {}, position), (tgt, batch, embed))
    if not batched:
        out = _call("squeeze", b, position, out, 1)
    elif o["batch_first"]:
        out = _call("transpose", b, position, out, 1, 0)
    if not need:
        return Items([out, Refused(f"{cls}(..., need_weights=False) returns None as its attention weights")])
    weights = _call("reshape", b, position, weights, (batch, heads, tgt, src))
    if average:
        weights = _call("mean", b, position, weights, 1)
    return Items([out, weights if batched else _call("squeeze", b, position, weights, 0)])


def _attention_arguments(b, o: dict, args: list, kwargs: dict, position, training: bool = True) -> tuple:
    """query, key, value and the call's other arguments by name, defaults filled in."""
    cls = "nn.MultiheadAttention"
    a = {"key_padding_mask": None, "need_weights": True, "attn_mask": None, "average_attn_weights": True,
         "is_causal": False, **_given("MultiheadAttention's call", _ATTENTION_ARGS, args, kwargs, position)}
    missing = [p for p in _ATTENTION_ARGS[:3] if p not in a]
    if missing:
        raise JacValueError(f"{cls}() is called with query, key and value: '{missing[0]}' is missing", position)
    if training and o["dropout"] > 0:
        raise JacValueError(f"{cls}(..., dropout={o['dropout']:g}) in training mode (as made) drops attention "
                            f"weights at random (no one Jacobian); write dropout=0, or call its .eval() first", position)
    return tuple(floating(b, "MultiheadAttention", tensor(b, a[n], cls, position), position)
                 for n in _ATTENTION_ARGS[:3]) + (a,)


def _heads(b, projected: tuple, mask, batch: int, heads: int, need: bool, position) -> tuple:
    """The heads' attention of the projected q (L, N, E), k and v (S, N, E): the outputs (N·heads, L, head_dim)
    and, with ``need``, the weights (N·heads, L, S), each head's softmax(q kᵀ / √head_dim + mask)."""
    hd = projected[0].shape[-1] // heads

    def split(t):  # (length, N, E) → (N·heads, length, head_dim), as PyTorch's view and transpose
        return _call("transpose", b, position, _call("reshape", b, position, t, (t.shape[0], batch * heads, hd)), 0, 1)
    q, k, v = (split(t) for t in projected)
    if not need:  # PyTorch calls F.scaled_dot_product_attention, whose rows masked entirely are 0 (softmax's: NaN)
        out = _sdpa(b, q, k, v, mask, batch, heads, position)
        return _call("reshape", b, position, out, (batch * heads, q.shape[1], hd)), None
    scores = _call("matmul", b, position, q * math.sqrt(1.0 / float(hd)), _call("transpose", b, position, k, -2, -1))
    weights = _call("softmax", b, position, scores if mask is None else scores + mask, -1)
    return _call("matmul", b, position, weights, v), weights


def _sdpa(b, q, k, v, mask, batch: int, heads: int, position):
    """F.scaled_dot_product_attention of the heads (N·heads, L, head_dim) viewed as (N, heads, L, head_dim), as
    F.multi_head_attention_forward calls it without weights."""
    def view(t):
        return _call("reshape", b, position, t, (batch, heads) + tuple(t.shape[1:]))
    node = b.nodes[mask.id] if mask is not None else None
    if node is not None and node.op == "const" and not np.any(node.value):
        mask = None  # a mask of zeros (nothing masked) adds nothing; the function would ask whether they are booleans
    if mask is not None and mask.ndim == 3:
        mask = view(mask) if mask.shape[0] == batch * heads else _call("unsqueeze", b, position, mask, 0)
    return _call("scaled_dot_product_attention", b, position, view(q), view(k), view(v), attn_mask=mask)


def _attention_shapes(b, o: dict, q, k, v, position) -> bool:
    """Refuse what PyTorch's shape checks refuse; True for batched (3-d) inputs."""
    cls = "nn.MultiheadAttention"
    if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
        raise JacShapeError(f"{cls}(): query, key and value must be 2-d (unbatched) or 3-d (batched) alike, got "
                            f"{fmt(q.shape)}, {fmt(k.shape)} and {fmt(v.shape)}", position)
    if not all(isinstance(s, int) for t in (q, k, v) for s in t.shape):
        raise JacShapeError(f"{cls}() needs the sizes of query, key and value known", position)
    batched = q.ndim == 3
    seq = 1 if batched and o["batch_first"] else 0
    for t, name, width in ((q, "query", o["embed_dim"]), (k, "key", o["kdim"]), (v, "value", o["vdim"])):
        if t.shape[-1] != width:
            raise JacShapeError(f"{cls}(): the {name}'s last size must be {width}, got shape {fmt(t.shape)}", position)
    if k.shape[seq] != v.shape[seq] or batched and not q.shape[1 - seq] == k.shape[1 - seq] == v.shape[1 - seq]:
        raise JacShapeError(f"{cls}(): key and value must have one sequence length and query, key and value one "
                            f"batch size, got {fmt(q.shape)}, {fmt(k.shape)} and {fmt(v.shape)}", position)
    return batched


def _projections(b, module: Recurrent, q, k, v, position) -> tuple:
    """q, k, v projected: by the rows of in_proj_weight (or q/k/v_proj_weight) and in_proj_bias's chunks."""
    embed, p = module.kwargs["embed_dim"], module.params
    bias = p.get("in_proj_bias")
    out = []
    for i, t in enumerate((q, k, v)):
        rows = (slice(i * embed, (i + 1) * embed),)
        w = p["in_proj_weight"] if "in_proj_weight" in p else p[("q", "k", "v")[i] + "_proj_weight"]
        if "in_proj_weight" in p:
            w = b.apply("getitem", w, index=rows, position=position)
        out.append(_call("linear", b, position, t, w,
                         None if bias is None else b.apply("getitem", bias, index=rows, position=position)))
    return tuple(out)


def _is_boolean_mask(b, m, what: str, position) -> bool:
    """A boolean mask (True: not attended) made by a comparison or logic; a float one is added. A constant of
    0s and 1s of no such origin is ambiguous (refused), unless it is all 0s (either reading adds nothing)."""
    node = b.nodes[m.id]
    while node.id not in booleans(b) and node.op in SHAPE_OPS:
        node = b.nodes[node.args[0]]
    if node.id in booleans(b):
        return True
    if node.op == "const" and np.isin(np.asarray(node.value), (0.0, 1.0)).all() \
            and np.any(np.asarray(node.value) == 1.0):
        raise JacValueError(f"nn.MultiheadAttention(): {what} holds 0s and 1s that jac cannot tell to be booleans "
                            f"(True: not attended) or floats (added to the scores); write a comparison (mask > 0) "
                            f"for a boolean mask, or 0 and -inf for a float one", position)
    return False


def _float_mask(b, m, what: str, position):
    """A mask as PyTorch's _canonical_mask makes it: a boolean's True is -inf, a float mask as it is."""
    m = tensor(b, m, f"nn.MultiheadAttention's {what}", position)
    kind = dtypes.kind_of(b, m.id)
    if m.id not in booleans(b) and kind is not None and kind[0].kind in "iu":
        raise JacValueError(f"nn.MultiheadAttention(): only bool and floating types of {what} are supported (PyTorch's "
                            f"words; this one holds integers)", position)
    if _is_boolean_mask(b, m, what, position):
        zeros = b.const(_drawn(b, tuple(m.shape), np.zeros), position)
        return b.apply("where", m, -math.inf, zeros, position=position)
    return m


def _attention_mask(b, a: dict, batched: bool, batch: int, heads: int, tgt: int, src: int, position):
    """attn_mask ((L, S) or (N·heads, L, S)) plus key_padding_mask ((N, S), or (S,) unbatched), as one float
    mask broadcasting to the scores (N·heads, L, S); None without masks."""
    cls = "nn.MultiheadAttention"
    mask = None
    if a["attn_mask"] is not None:
        mask = _float_mask(b, a["attn_mask"], "attn_mask", position)
        allowed = [(tgt, src), (batch * heads, tgt, src)]
        if tuple(mask.shape) not in allowed:
            raise JacShapeError(f"{cls}(): attn_mask must be of shape {fmt(allowed[0])} or {fmt(allowed[1])}, got "
                                f"{fmt(mask.shape)}", position)
    if a["key_padding_mask"] is not None:
        pad = _float_mask(b, a["key_padding_mask"], "key_padding_mask", position)
        expected = (batch, src) if batched else (src,)
        if tuple(pad.shape) != expected:
            raise JacShapeError(f"{cls}(): key_padding_mask must be of shape {fmt(expected)}, got {fmt(pad.shape)}",
                                position)
        pad = _call("reshape", b, position, pad, (batch, 1, 1, src))
        pad = _call("broadcast_to", b, position, pad, (batch, heads, 1, src))
        pad = _call("reshape", b, position, pad, (batch * heads, 1, src))
        mask = pad if mask is None else mask + pad
    return mask


_MHA_FORWARD = {"query": REQUIRED, "key": REQUIRED, "value": REQUIRED, "embed_dim_to_check": REQUIRED,
                "num_heads": REQUIRED, "in_proj_weight": REQUIRED, "in_proj_bias": REQUIRED, "bias_k": REQUIRED,
                "bias_v": REQUIRED, "add_zero_attn": REQUIRED, "dropout_p": REQUIRED, "out_proj_weight": REQUIRED,
                "out_proj_bias": REQUIRED, "training": True, "key_padding_mask": None, "need_weights": True,
                "attn_mask": None, "use_separate_proj_weight": False, "q_proj_weight": None, "k_proj_weight": None,
                "v_proj_weight": None, "static_k": None, "static_v": None, "average_attn_weights": True,
                "is_causal": False}


@variant("torch", "multi_head_attention_forward")
def _multi_head_attention_forward(b, args, kwargs, position):
    """F.multi_head_attention_forward(query, key, value (sequence first), embed_dim_to_check, num_heads,
    in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, ...):
    nn.MultiheadAttention's forward with the parameters given, (attn_output, attn_weights)"""
    fname = "multi_head_attention_forward"
    a = arguments(fname, args, kwargs, _MHA_FORWARD, position)
    for key in ("static_k", "static_v"):
        if a[key] is not None:
            raise JacValueError(f"{fname}(): {key} is not supported by jac (give None)", position)
    if (a["bias_k"] is None) != (a["bias_v"] is None):  # PyTorch asserts both or neither
        raise JacValueError(f"{fname}(): bias_k and bias_v are given both or neither", position)
    p = static(b, a["dropout_p"], f"{fname}'s dropout_p", position)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise JacValueError(f"{fname}(): dropout_p must be a number between 0 and 1, got {p!r}", position)
    q, k, v = (tensor(b, a[n], fname, position) for n in ("query", "key", "value"))
    embed, heads = static_int(b, a["embed_dim_to_check"], "embed_dim_to_check", position), \
        static_int(b, a["num_heads"], "num_heads", position)
    if heads < 1 or embed % heads or q.shape[-1] != embed:
        raise JacShapeError(f"{fname}(): was expecting embedding dimension of {embed} divisible by num_heads "
                            f"({heads}), but got a query of shape {fmt(q.shape)}", position)
    if p > 0 and flag(b, a["training"], f"{fname}'s training", position):
        raise JacValueError(f"{fname}(..., dropout_p={p:g}, training=True) drops attention weights at random (no one "
                            f"Jacobian): give dropout_p=0 or training=False", position)
    options = {"embed_dim": embed, "num_heads": heads, "kdim": k.shape[-1], "vdim": v.shape[-1], "dropout": 0.0,
               "batch_first": False, "add_zero_attn": flag(b, a["add_zero_attn"], f"{fname}'s add_zero_attn",
                                                            position)}
    weights = ("q_proj_weight", "k_proj_weight", "v_proj_weight") \
        if flag(b, a["use_separate_proj_weight"], f"{fname}'s use_separate_proj_weight", position) \
        else ("in_proj_weight",)
    params = {}
    for name, width in zip(weights, (embed, k.shape[-1], v.shape[-1]) if len(weights) == 3 else (embed,)):
        if a[name] is None:
            raise JacValueError(f"{fname}(): {name} is None", position)
        params[name] = tensor(b, a[name], fname, position)
        rows = 3 * embed if name == "in_proj_weight" else embed
        if tuple(params[name].shape) != (rows, width):
            raise JacShapeError(f"{fname}(): {name} must be of shape {fmt((rows, width))}, got "
                                f"{fmt(params[name].shape)}", position)
    linear = {"weight": tensor(b, a["out_proj_weight"], fname, position)}
    if a["in_proj_bias"] is not None:
        params["in_proj_bias"] = tensor(b, a["in_proj_bias"], fname, position)
    if a["out_proj_bias"] is not None:
        linear["bias"] = tensor(b, a["out_proj_bias"], fname, position)
    params["out_proj"] = Module("Linear", "linear", linear, run=_weighted_call)
    for key in ("bias_k", "bias_v") if a["bias_k"] is not None else ():  # (1, 1, E), added for each sample
        params[key] = tensor(b, a[key], fname, position)
        if tuple(params[key].shape) != (1, 1, embed):
            raise JacShapeError(f"{fname}(): {key} must be of shape {fmt((1, 1, embed))}, got "
                                f"{fmt(params[key].shape)}", position)
    module = Recurrent("MultiheadAttention", options, params, _run_attention)
    call = {key: a[key] for key in ("key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
                                    "is_causal")}
    return _run_attention(b, module, [q, k, v], call, position)

def refused_recurrent(name: str) -> str | None:
    """Why ``nn.NAME(...)`` of :data:`RECURRENT` is refused where it is (not assigned at the text's top level or
    in a model's ``__init__``); else None."""
    if name not in RECURRENT:
        return None
    example = "attn.in_proj_weight" if name == "MultiheadAttention" else \
        "cell.weight_ih" if name.endswith("Cell") else "rnn.weight_ih_l0"
    return (f"nn.{name}(...) holds parameters drawn at random when it is made: assign it at the text's top level "
            f"(or as self.NAME in a model's __init__), {example.split('.')[0]} = nn.{name}(...), and its parameters "
            f"are inputs ({example}, ...)")


def _causal(b, tgt: int, src: int, position):
    """The mask F.scaled_dot_product_attention(is_causal=True) applies, which nn.MultiheadAttention without weights
    and without a key padding mask uses in place of the attn_mask the hint came with: -inf above the diagonal
    of (L, S), aligned at the top left (S counts the keys add_bias_kv and add_zero_attn add)."""
    return b.const(np.triu(np.full((tgt, src), -np.inf, dtype=b.dtype), 1), position)


def _extended(b, module: Recurrent, projected: tuple, batch: int, position) -> tuple:
    """The projected q, k, v (length, N, E) with the keys and values add_bias_kv and add_zero_attn add at the end
    of the sequence, as F.multi_head_attention_forward adds them: bias_k and bias_v (1, 1, E) for each sample,
    then a zero key and value (zeros of (1, N, E) are zeros in every head); and how many were added."""
    q, k, v = projected
    embed, extra = q.shape[-1], 0
    if "bias_k" in module.params:
        k, v = (_call("cat", b, position, Items([t, _call("broadcast_to", b, position, module.params[name],
                                                          (1, batch, embed))]), 0)
                for t, name in ((k, "bias_k"), (v, "bias_v")))
        extra += 1
    if module.kwargs["add_zero_attn"]:
        k, v = (_call("cat", b, position, Items([t, _zeros(b, (1, batch, embed), position)]), 0) for t in (k, v))
        extra += 1
    return (q, k, v), extra
