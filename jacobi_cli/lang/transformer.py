"""PyTorch's transformer layers as pasted code makes them (session 55): ``nn.TransformerEncoderLayer``,
``nn.TransformerDecoderLayer`` and the stacks of them, ``nn.TransformerEncoder`` / ``nn.TransformerDecoder``.

A layer is a container of the modules PyTorch's ``__init__`` makes, in its order (``self_attn``, ``multihead_attn``,
``linear1``, ``dropout``, ``linear2``, ``norm1`` ... ``dropout1`` ...), each made as jac makes it alone
(:func:`~jacobi_cli.lang.recurrent.recurrent`, :func:`~jacobi_cli.lang.modules.layer`, the norms as made), so its
parameters are inputs named as ``named_parameters()`` names them once the text names the layer
(``layer.self_attn.in_proj_weight``, ``layer.linear1.weight``, ``enc.layers.1.norm2.bias``). Its call is PyTorch's
forward written out with those modules (``_sa_block``, ``_mha_block``, ``_ff_block``; ``norm_first``); a stack holds
``num_layers`` copies of the layer it is given, with the same values, as ``copy.deepcopy`` makes them, and an optional
final ``norm``. Dropout is random in training mode: a layer made with ``dropout > 0`` is refused there (PyTorch's
default is 0.1), and is the identity in eval mode. Nothing here has a derivative rule of its own."""
from __future__ import annotations

import numpy as np

from ..errors import JacNameError, JacValueError
from .devices import factory
from .functions import LIBRARIES, MODULES, static, static_int, variant
from .modules import Module, ModuleList, Pending, Sequential, _constructor, _function, _given, layer, \
    named_parameters
from .recurrent import recurrent

_LAYER = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "batch_first",
          "norm_first", "bias", "device", "dtype")
_LAYER_DEFAULTS = {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu", "layer_norm_eps": 1e-5,
                   "batch_first": False, "norm_first": False, "bias": True, "device": None, "dtype": None}
# class: (its constructor's parameters, their defaults, the arguments of its forward and their defaults)
TRANSFORMER = {
    "TransformerEncoderLayer": (_LAYER, _LAYER_DEFAULTS, ("src", "src_mask", "src_key_padding_mask", "is_causal"),
                                {"src_mask": None, "src_key_padding_mask": None, "is_causal": False}),
    "TransformerDecoderLayer": (_LAYER, _LAYER_DEFAULTS,
                                ("tgt", "memory", "tgt_mask", "memory_mask", "tgt_key_padding_mask",
                                 "memory_key_padding_mask", "tgt_is_causal", "memory_is_causal"),
                                {"tgt_mask": None, "memory_mask": None, "tgt_key_padding_mask": None,
                                 "memory_key_padding_mask": None, "tgt_is_causal": False, "memory_is_causal": False}),
    "TransformerEncoder": (("encoder_layer", "num_layers", "norm", "enable_nested_tensor", "mask_check"),
                           {"norm": None, "enable_nested_tensor": True, "mask_check": True},
                           ("src", "mask", "src_key_padding_mask", "is_causal"),
                           {"mask": None, "src_key_padding_mask": None, "is_causal": None}),
    "TransformerDecoder": (("decoder_layer", "num_layers", "norm"), {"norm": None},
                           ("tgt", "memory", "tgt_mask", "memory_mask", "tgt_key_padding_mask",
                            "memory_key_padding_mask", "tgt_is_causal", "memory_is_causal"),
                           {"tgt_mask": None, "memory_mask": None, "tgt_key_padding_mask": None,
                            "memory_key_padding_mask": None, "tgt_is_causal": None, "memory_is_causal": False}),
}


class Transformer(Sequential):
    """A transformer layer or stack made: its modules by name (``layer.linear1``, ``enc.layers``), its options."""

    def __init__(self, cls: str, modules: list, names: list, options: dict):
        super().__init__(modules, names)
        self.cls, self.options = cls, options

    def item(self, key, position):
        raise JacValueError(f"nn.{self.cls} is not indexed (PyTorch's is no container): read its modules by name, "
                            f"{'.'.join(('model', self.names[0]))}", position)

    def call(self, b, args: list, kwargs: dict, position):
        if self.prefix is None:
            raise JacNameError(unnamed(self.cls), position)
        names, defaults = TRANSFORMER[self.cls][2:]
        a = {**defaults, **_given(f"{self.cls}'s forward", names, args, kwargs, position)}
        missing = [n for n in names if n not in a]
        if missing:
            raise JacValueError(f"nn.{self.cls}() is missing its argument '{missing[0]}'", position)
        if self.cls.endswith("Layer"):
            _refuse_dropout(self, position)
            run = _encoder_layer if self.cls == "TransformerEncoderLayer" else _decoder_layer
            return run(b, self, a, position)
        return _stack(b, self, a, position)


def unnamed(cls: str) -> str:
    return (f"nn.{cls}(...) holds parameters drawn at random when it is made: assign it at the text's top level, "
            f"layer = nn.{cls}(...) (or as self.NAME in a model's __init__), and its parameters are inputs "
            f"(layer.self_attn.in_proj_weight, layer.linear1.weight, ...)")


def _refuse_dropout(module: Transformer, position) -> None:
    p = module.options["dropout"]
    if module.training and p > 0:
        raise JacValueError(f"nn.{module.cls}(..., dropout={p:g}) in training mode (a module just made trains; "
                            f"PyTorch's default dropout is 0.1) drops values at random at each call (no one "
                            f"Jacobian): make it with dropout=0.0, or call its .eval() first", position)


def _module(layer_: Transformer, name: str):
    return layer_.modules[layer_.names.index(name)]


def _call(module, b, position, *args, **kwargs):
    return module.call(b, list(args), kwargs, position)


def _activation(b, layer_: Transformer, x, position):
    act = layer_.options["activation"]
    if isinstance(act, str):
        return _function(act)(b, [x], {}, position)
    return act.call(b, [x], {}, position)


def _ff_block(b, layer_: Transformer, x, position):
    """linear2(dropout(activation(linear1(x)))), then the last dropout."""
    h = _activation(b, layer_, _call(_module(layer_, "linear1"), b, position, x), position)
    return _call(_module(layer_, "linear2"), b, position, _call(_module(layer_, "dropout"), b, position, h))


def _attention_block(b, layer_: Transformer, name: str, x, memory, mask, padding, causal, position):
    """self_attn(x, x, x) or multihead_attn(x, mem, mem) without weights, masks as given, its output only."""
    out = _call(_module(layer_, name), b, position, x, memory, memory, attn_mask=mask, key_padding_mask=padding,
                need_weights=False, is_causal=causal)
    return out[0]


def _add(b, x, y, position):
    return b.apply("add", x, y, position=position)


def _encoder_layer(b, layer_: Transformer, a: dict, position):
    """TransformerEncoderLayer.forward: x + sa(norm1(x)), + ff(norm2(.)) with norm_first; else norm1(x + sa(x)),
    norm2(. + ff(.))."""
    x = a["src"]
    norm1, norm2 = _module(layer_, "norm1"), _module(layer_, "norm2")

    def sa(h):
        return _attention_block(b, layer_, "self_attn", h, h, a["src_mask"], a["src_key_padding_mask"],
                                _causal(b, a["is_causal"], position), position)
    if layer_.options["norm_first"]:
        x = _add(b, x, sa(_call(norm1, b, position, x)), position)
        return _add(b, x, _ff_block(b, layer_, _call(norm2, b, position, x), position), position)
    x = _call(norm1, b, position, _add(b, x, sa(x), position))
    return _call(norm2, b, position, _add(b, x, _ff_block(b, layer_, x, position), position))


def _decoder_layer(b, layer_: Transformer, a: dict, position):
    """TransformerDecoderLayer.forward: self-attention, attention over memory, feed-forward, each with its norm
    (before, with norm_first, or after the residual sum)."""
    x, memory = a["tgt"], a["memory"]
    norms = [_module(layer_, f"norm{i}") for i in (1, 2, 3)]

    def sa(h):
        return _attention_block(b, layer_, "self_attn", h, h, a["tgt_mask"], a["tgt_key_padding_mask"],
                                _causal(b, a["tgt_is_causal"], position), position)

    def mha(h):
        return _attention_block(b, layer_, "multihead_attn", h, memory, a["memory_mask"],
                                a["memory_key_padding_mask"], _causal(b, a["memory_is_causal"], position), position)

    def ff(h):
        return _ff_block(b, layer_, h, position)
    for block, norm in zip((sa, mha, ff), norms):
        if layer_.options["norm_first"]:
            x = _add(b, x, block(_call(norm, b, position, x)), position)
        else:
            x = _call(norm, b, position, _add(b, x, block(x), position))
    return x


def _causal(b, value, position) -> bool:
    return bool(static(b, value, "is_causal", position)) if value is not None else False


def _stack(b, stack: Transformer, a: dict, position):
    """TransformerEncoder / TransformerDecoder.forward: each layer in turn with the masks, then the norm if any."""
    decoder = stack.cls == "TransformerDecoder"
    x = a["tgt" if decoder else "src"]
    for held in _module(stack, "layers").modules:
        if decoder:
            x = held.call(b, [x, a["memory"]], {k: a[k] for k in TRANSFORMER["TransformerDecoderLayer"][2][2:]
                                                if a[k] is not None}, position)
        else:
            x = held.call(b, [x], {"src_mask": a["mask"], "src_key_padding_mask": a["src_key_padding_mask"],
                                   **({"is_causal": a["is_causal"]} if a["is_causal"] is not None else {})}, position)
    if "norm" in stack.names:
        x = _call(_module(stack, "norm"), b, position, x)
    return x


def _made_layer(cls: str):
    def lower(b, args, kwargs, position):
        """nn.TransformerEncoderLayer / nn.TransformerDecoderLayer made: its modules as PyTorch's __init__ makes
        them, parameters drawn (inputs once the text names the layer)."""
        params, defaults = TRANSFORMER[cls][:2]
        a = {**defaults, **_given(cls, params, args, kwargs, position)}
        missing = [p for p in params if p not in a]
        if missing:
            raise JacValueError(f"nn.{cls}() is missing its argument '{missing[0]}'", position)
        placed = {k: a[k] for k in ("device", "dtype") if a[k] is not None}

        def pending(suffix, value):
            return Pending(value)
        common = {"bias": a["bias"], **placed}
        attention = {"dropout": a["dropout"], "batch_first": a["batch_first"], **common}
        names = ["self_attn"] + (["multihead_attn"] if cls == "TransformerDecoderLayer" else []) \
            + ["linear1", "dropout", "linear2"]
        made = {n: recurrent(b, "MultiheadAttention", [a["d_model"], a["nhead"]], attention, position, pending)
                for n in names if n.endswith("attn")}
        made["linear1"] = layer(b, "Linear", [a["d_model"], a["dim_feedforward"]], common, position, pending)
        made["dropout"] = _constructor("Dropout")(b, [a["dropout"]], {}, position)
        made["linear2"] = layer(b, "Linear", [a["dim_feedforward"], a["d_model"]], common, position, pending)
        count = 3 if cls == "TransformerDecoderLayer" else 2
        for i in range(1, count + 1):
            names.append(f"norm{i}")
            made[f"norm{i}"] = _constructor("LayerNorm")(b, [a["d_model"]], {"eps": a["layer_norm_eps"], **common},
                                                         position)
        for i in range(1, count + 1):
            names.append(f"dropout{i}")
            made[f"dropout{i}"] = _constructor("Dropout")(b, [a["dropout"]], {}, position)
        activation = static(b, a["activation"], f"nn.{cls}'s activation", position) \
            if not isinstance(a["activation"], (Module, Sequential)) else a["activation"]
        if isinstance(activation, str) and activation not in ("relu", "gelu"):
            raise JacValueError(f"nn.{cls}(): activation should be relu/gelu, not {activation}", position)
        if isinstance(activation, (Module, Sequential)):  # a module: a child of the layer, after linear2
            names.insert(names.index("linear2") + 1, "activation")
            made["activation"] = activation
        options = {"dropout": float(static(b, a["dropout"], f"nn.{cls}'s dropout", position)),
                   "norm_first": bool(static(b, a["norm_first"], f"nn.{cls}'s norm_first", position)),
                   "activation": activation}
        return Transformer(cls, [made[n] for n in names], names, options)
    lower.__doc__ = (f"nn.{cls}(...): a layer, its parameters inputs named as PyTorch's named_parameters() names them "
                     f"once the text's top level or a model's __init__ names it")
    return lower


def _made_stack(cls: str):
    def lower(b, args, kwargs, position):
        """nn.TransformerEncoder / nn.TransformerDecoder(layer, num_layers, norm=None): num_layers copies of the
        layer (its values, as copy.deepcopy), then the norm."""
        params, defaults = TRANSFORMER[cls][:2]
        a = {**defaults, **_given(cls, params, args, kwargs, position)}
        missing = [p for p in params if p not in a]
        if missing:
            raise JacValueError(f"nn.{cls}() is missing its argument '{missing[0]}'", position)
        given = a[params[0]]
        if not isinstance(given, Transformer) or given.cls != cls + "Layer":
            raise JacValueError(f"nn.{cls}() takes an nn.{cls}Layer(...) as its {params[0]}", position)
        count = int(static(b, a["num_layers"], f"nn.{cls}'s num_layers", position))
        if count < 1:
            raise JacValueError(f"nn.{cls}(): num_layers must be positive, got {count}", position)
        values = _held_values(b, given)
        layers = ModuleList([copied(given, values) for _ in range(count)])
        modules, names = [layers], ["layers"]
        if a["norm"] is not None:
            if not isinstance(a["norm"], Module):
                raise JacValueError(f"nn.{cls}(): norm is a module, nn.LayerNorm(d_model)", position)
            modules.append(copied(a["norm"], _held_values(b, a["norm"])))
            names.append("norm")
        return Transformer(cls, modules, names, {})
    lower.__doc__ = (f"nn.{cls}(layer, num_layers): copies of the layer, their parameters inputs named as PyTorch's "
                     f"named_parameters() names them once the text's top level or a model's __init__ names it")
    return lower


def copied(module, values: dict | None = None):
    """A copy of a module not yet named, with the same values as ``copy.deepcopy``: each parameter a new
    :class:`Pending` of the values; of a module named already, the values its inputs hold (``values``: the node id
    of each input -> its value)."""
    if isinstance(module, Sequential):
        made = type(module).__new__(type(module))
        made.__dict__.update(module.__dict__)
        made.modules = [copied(m, values) for m in module.modules]
        made.names = list(module.names)
        made.prefix = None
        if isinstance(module, Transformer):
            made.options = dict(module.options)
        return made
    made = Module.__new__(type(module))
    made.__dict__.update(module.__dict__)
    made.prefix, made.called = None, False
    made.params = {k: copied(v, values) if isinstance(v, Module) else
                   Pending(np.array(v.value if isinstance(v, Pending) else values[v.id]))
                   for k, v in module.params.items()}
    made.kwargs = {k: made.params[k] if k in made.params else v for k, v in module.kwargs.items()}
    made.state = dict(module.state)
    return made


def _held_values(b, module) -> dict:
    """The node id of each parameter input of a module the text named -> the value it was made with."""
    if module.prefix is None or b.lowering is None:
        return {}
    declared = b.lowering.declared or {}
    return {tracer.id: declared[name] for name, tracer in named_parameters(module, module.prefix)
            if name in declared}


for _cls in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
    variant("torch.nn", _cls)(_made_layer(_cls))
for _cls in ("TransformerEncoder", "TransformerDecoder"):
    variant("torch.nn", _cls)(_made_stack(_cls))


# nn.Transformer.generate_square_subsequent_mask(sz): the causal mask the layers' users pass (a static method)
_TRANSFORMER_PATHS = ("nn.Transformer", "torch.nn.Transformer")
MODULES.update(_TRANSFORMER_PATHS)
LIBRARIES.update(dict.fromkeys(_TRANSFORMER_PATHS, "torch.nn.Transformer"))


@variant("torch.nn.Transformer", "generate_square_subsequent_mask")
def _square_subsequent_mask(b, args, kwargs, position):
    """nn.Transformer.generate_square_subsequent_mask(sz, device=None, dtype=None): -inf above the diagonal, 0 on
    and below it, a constant of shape (sz, sz)."""
    a = _given("Transformer.generate_square_subsequent_mask", ("sz", "device", "dtype"), args, kwargs, position)
    if "sz" not in a:
        raise JacValueError("nn.Transformer.generate_square_subsequent_mask() is missing its argument 'sz'", position)
    size = static_int(b, a["sz"], "generate_square_subsequent_mask's sz", position)
    if size < 0:
        raise JacValueError(f"generate_square_subsequent_mask: sz must be at least 0, got {size}", position)
    factory(b, "Transformer.generate_square_subsequent_mask", a.get("device"), a.get("dtype"), position)
    return b.const(np.triu(np.full((size, size), -np.inf, dtype=b.dtype), 1), position)
