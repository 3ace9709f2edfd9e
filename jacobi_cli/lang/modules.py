"""PyTorch's ``torch.nn`` modules whose output a fresh module fixes, as pasted code makes and calls them.

``nn.MSELoss(reduction='sum')``, ``nn.Softmax(dim=1)``, ``nn.MaxPool2d(2)``: a module without parameters is a
function of ``torch.nn.functional`` with its constructor's arguments fixed, so ``nn.NAME(...)`` (registered
as the ``"torch.nn"`` library's spelling of ``NAME``) makes a :class:`Module` holding them, and calling it
(``criterion(logits, labels)``, ``nn.ReLU()(x)``) lowers the function with the call's arguments first:
``nn.MSELoss(reduction='sum')(a, b)`` is ``F.mse_loss(a, b, reduction='sum')``. A few modules call their
function with arguments made of the constructor's (``nn.ZeroPad2d(1)`` is ``F.pad(x, (1, 1, 1, 1))``), and the
normalizations and ``nn.PReLU`` hold parameters a fresh module sets to constants (weight 1, bias 0, PReLU's
slope ``init``; a module just made trains, so a batch norm uses the batch's statistics): they are called with
those constants, as PyTorch calls them (:data:`CALLS`). Nothing here has a derivative rule of its own. The layers
with parameters drawn at random when they are made (:data:`LAYERS`: ``nn.Linear``, ``nn.ConvNd``,
``nn.Embedding``), assigned at the text's top level, are made by :func:`layer`, their parameters inputs the text
makes (the parser's ``declare_layers``); elsewhere, and the other modules with parameters or random in training
mode (``nn.Dropout``), are refused, saying what to write with the parameters bound as inputs.
"""
from __future__ import annotations

import numpy as np

from ..errors import JacNameError, JacShapeError, JacValueError
from ..ir.shapes import fmt
from .devices import factory
from .functions import FUNCTIONS, _number, batch_statistics, library_function, moved, static, static_int, static_ints, \
    tensor, variant

# class: (the function it calls, its constructor's parameters in order, defaults that differ from the function's)
NN = {
    "MSELoss": ("mse_loss", ("size_average", "reduce", "reduction"), {}),
    "L1Loss": ("l1_loss", ("size_average", "reduce", "reduction"), {}),
    "SmoothL1Loss": ("smooth_l1_loss", ("size_average", "reduce", "reduction", "beta"), {}),
    "HuberLoss": ("huber_loss", ("reduction", "delta"), {}),
    "CrossEntropyLoss": ("cross_entropy", ("weight", "size_average", "ignore_index", "reduce", "reduction",
                                           "label_smoothing"), {}),
    "NLLLoss": ("nll_loss", ("weight", "size_average", "ignore_index", "reduce", "reduction"), {}),
    "BCELoss": ("binary_cross_entropy", ("weight", "size_average", "reduce", "reduction"), {}),
    "BCEWithLogitsLoss": ("binary_cross_entropy_with_logits", ("weight", "size_average", "reduce", "reduction",
                                                               "pos_weight"), {}),
    "KLDivLoss": ("kl_div", ("size_average", "reduce", "reduction", "log_target"), {}),
    "MarginRankingLoss": ("margin_ranking_loss", ("margin", "size_average", "reduce", "reduction"), {}),
    "HingeEmbeddingLoss": ("hinge_embedding_loss", ("margin", "size_average", "reduce", "reduction"), {}),
    "SoftMarginLoss": ("soft_margin_loss", ("size_average", "reduce", "reduction"), {}),
    "PoissonNLLLoss": ("poisson_nll_loss", ("log_input", "full", "size_average", "eps", "reduce", "reduction"), {}),
    "GaussianNLLLoss": ("gaussian_nll_loss", ("full", "eps", "reduction"), {}),
    "TripletMarginLoss": ("triplet_margin_loss", ("margin", "p", "eps", "swap", "size_average", "reduce",
                                                  "reduction"), {}),
    "CosineEmbeddingLoss": ("cosine_embedding_loss", ("margin", "size_average", "reduce", "reduction"), {}),
    "MultiLabelSoftMarginLoss": ("multilabel_soft_margin_loss", ("weight", "size_average", "reduce", "reduction"),
                                 {}),
    "CTCLoss": ("ctc_loss", ("blank", "reduction", "zero_infinity"), {}),  # session 28: lang/pasted.py
    "CosineSimilarity": ("cosine_similarity", ("dim", "eps"), {}),
    "PairwiseDistance": ("pairwise_distance", ("p", "eps", "keepdim"), {}),
    "ReLU": ("relu", ("inplace",), {}),
    "ReLU6": ("relu6", ("inplace",), {}),
    "LeakyReLU": ("leaky_relu", ("negative_slope", "inplace"), {}),
    "ELU": ("elu", ("alpha", "inplace"), {}),
    "CELU": ("celu", ("alpha", "inplace"), {}),
    "SELU": ("selu", ("inplace",), {}),
    "GELU": ("gelu", ("approximate",), {}),
    "SiLU": ("silu", ("inplace",), {}),
    "Mish": ("mish", ("inplace",), {}),
    "Sigmoid": ("sigmoid", (), {}),
    "Tanh": ("tanh", (), {}),
    "Softplus": ("softplus", ("beta", "threshold"), {}),
    "Softsign": ("softsign", (), {}),
    "Hardtanh": ("hardtanh", ("min_val", "max_val", "inplace"), {}),
    "Hardswish": ("hardswish", ("inplace",), {}),
    "Hardsigmoid": ("hardsigmoid", ("inplace",), {}),
    "LogSigmoid": ("logsigmoid", (), {}),
    "Tanhshrink": ("tanhshrink", (), {}),
    "Softshrink": ("softshrink", ("lambd",), {}),
    "Hardshrink": ("hardshrink", ("lambd",), {}),
    "Threshold": ("threshold", ("threshold", "value", "inplace"), {}),
    "Softmax": ("softmax", ("dim",), {}),
    "LogSoftmax": ("log_softmax", ("dim",), {}),
    "Softmin": ("softmin", ("dim",), {}),
    "GLU": ("glu", ("dim",), {}),
    "Flatten": ("flatten", ("start_dim", "end_dim"), {"start_dim": 1}),  # torch.flatten's start_dim is 0
    "Identity": (None, (), {}),
    "NLLLoss2d": ("nll_loss", ("weight", "size_average", "ignore_index", "reduce", "reduction"), {}),
    "MultiMarginLoss": ("multi_margin_loss", ("p", "margin", "weight", "size_average", "reduce", "reduction"), {}),
    "MultiLabelMarginLoss": ("multilabel_margin_loss", ("size_average", "reduce", "reduction"), {}),
    "TripletMarginWithDistanceLoss": ("triplet_margin_with_distance_loss", ("distance_function", "margin", "swap",
                                                                          "reduction"), {}),
    "LocalResponseNorm": ("local_response_norm", ("size", "alpha", "beta", "k"), {}),
    "PixelShuffle": ("pixel_shuffle", ("upscale_factor",), {}),
    "PixelUnshuffle": ("pixel_unshuffle", ("downscale_factor",), {}),
    "ChannelShuffle": ("channel_shuffle", ("groups",), {}),
    "Fold": ("fold", ("output_size", "kernel_size", "dilation", "padding", "stride"), {}),
    "Unfold": ("unfold", ("kernel_size", "dilation", "padding", "stride"), {}),
    "Upsample": ("interpolate", ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"), {}),
    "UpsamplingNearest2d": ("interpolate", ("size", "scale_factor"), {"mode": "nearest"}),
    "UpsamplingBilinear2d": ("interpolate", ("size", "scale_factor"), {"mode": "bilinear", "align_corners": True}),
    **{f"MaxPool{d}d": (f"max_pool{d}d", ("kernel_size", "stride", "padding", "dilation", "return_indices",
                                          "ceil_mode"), {}) for d in (1, 2, 3)},
    "AvgPool1d": ("avg_pool1d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"), {}),
    **{f"AvgPool{d}d": (f"avg_pool{d}d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                          "divisor_override"), {}) for d in (2, 3)},
    **{f"AdaptiveAvgPool{d}d": (f"adaptive_avg_pool{d}d", ("output_size",), {}) for d in (1, 2, 3)},
    **{f"AdaptiveMaxPool{d}d": (f"adaptive_max_pool{d}d", ("output_size", "return_indices"), {}) for d in (1, 2, 3)},
    **{f"LPPool{d}d": (f"lp_pool{d}d", ("norm_type", "kernel_size", "stride", "ceil_mode"), {}) for d in (1, 2, 3)},
    # called with (input, indices, output_size=None), as F.max_unpool's first two arguments and its keyword
    **{f"MaxUnpool{d}d": (f"max_unpool{d}d", ("kernel_size", "stride", "padding"), {}) for d in (1, 2, 3)},
}
# Modules whose parameters are drawn at random when they are made, and the function to write instead
PARAMETERS = {
    "Linear": "F.linear(x, W, b), that is x @ W.T + b", "Bilinear": "F.bilinear(x1, x2, W, b)",
    "Conv1d": "F.conv1d(x, w, b)", "Conv2d": "F.conv2d(x, w, b)", "Conv3d": "F.conv3d(x, w, b)",
    "ConvTranspose1d": "F.conv_transpose1d(x, w, b)", "ConvTranspose2d": "F.conv_transpose2d(x, w, b)",
    "ConvTranspose3d": "F.conv_transpose3d(x, w, b)",
    "Embedding": "F.embedding(idx, E)", "MultiheadAttention": "F.scaled_dot_product_attention(q, k, v) of q, k, v you project",
}
PARAMETERS.update({
    **{f"Lazy{kind}{d}d": f"F.{fn}{d}d(x, w, b)" for kind, fn in (("Conv", "conv"), ("ConvTranspose", "conv_transpose"))
       for d in (1, 2, 3)},
    "LazyLinear": "F.linear(x, W, b), that is x @ W.T + b", "EmbeddingBag": "F.embedding_bag(idx, E, offsets)",

    "AdaptiveLogSoftmaxWithLoss": "its clusters with F.linear and F.log_softmax",
})
RANDOM = {"Dropout": "dropout", "Dropout1d": "dropout1d", "Dropout2d": "dropout2d", "Dropout3d": "dropout3d",
          "AlphaDropout": "alpha_dropout", "FeatureAlphaDropout": "feature_alpha_dropout", "RReLU": "rrelu"}
# Modules refused for another reason, and the reason
OTHER = {
    "FractionalMaxPool2d": "draws its windows at random at each call (no one Jacobian); bind the windows' choice "
                           "or use nn.MaxPool2d",
    "FractionalMaxPool3d": "draws its windows at random at each call (no one Jacobian); bind the windows' choice "
                           "or use nn.MaxPool3d",
    "Transformer": "is not read whole; its stacks are: write enc = nn.TransformerEncoder(nn.TransformerEncoderLayer("
                   "d, h, dropout=0.0), N) and dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, h, "
                   "dropout=0.0), N), assigned at the text's top level, and dec(tgt, enc(src))",
    "SyncBatchNorm": "synchronizes statistics across processes; on one process it is nn.BatchNorm1d/2d/3d",
    **{f"Lazy{kind}{d}d": f"infers its number of features at its first call; write nn.{kind}{d}d(C)"
       for kind in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)},
    **{name: "is a container or a base class, not a layer: write the layers it holds, one after the other"
       for name in ("Module", "Container", "ParameterList", "ParameterDict", "DataParallel", "RNNBase", "RNNCellBase")},
    **{name: "is a container of modules: jac reads one assigned at the text's top level (layers = nn.NAME(...)) or "
             "in a model's __init__ (self.layers = nn.NAME(...)), not elsewhere".replace("NAME", name)
       for name in ("ModuleList", "ModuleDict")},
}


class Sequential:
    """``nn.Sequential(m1, m2, ...)`` (or of an ``OrderedDict``, its modules named): each applied to the one
    before's result; indexed (``model[0]``, ``model[-1]``, ``model[:2]``, ``model['fc']``), iterated, ``len``."""

    prefix = None  # its parameters' names' start where the text's top level makes it (model: model.0.weight)
    training = True  # a module just made trains; .eval() / .train(False) set it, here and in what it holds

    def __init__(self, modules: list, names: list | None = None):
        self.cls, self.modules = "Sequential", modules
        self.names = names if names is not None else [str(i) for i in range(len(modules))]

    def call(self, b, args: list, kwargs: dict, position):
        if len(args) != 1 or kwargs:
            raise JacValueError("nn.Sequential(...) is called with one array", position)
        value = args[0]
        for module in self.modules:
            value = module.call(b, [value], {}, position)
        return value

    def item(self, key, position):
        """``self[key]``: a module by position (negative from the end) or, in an ``nn.ModuleDict``, by name (a named
        ``nn.Sequential``'s by attribute, ``model.fc``); a slice is a container of the same kind holding the same
        modules."""
        if isinstance(key, slice):
            picked = list(range(len(self.modules)))[key]
            made = type(self)([self.modules[i] for i in picked],
                              [self.names[i] for i in picked] if type(self) is not ModuleList else None)
            made.training = self.training
            return made
        if isinstance(key, str):
            if type(self) is not ModuleDict:  # PyTorch's index of a position: operator.index(key), a TypeError
                raise JacValueError(f"nn.{self.cls} is indexed by position, not by a name ({key!r}): write "
                                    f"model[0], or model.NAME for a module an OrderedDict names", position)
            if key not in self.names:
                raise JacValueError(f"nn.{self.cls} has no module named {key!r} (it has "
                                    f"{', '.join(self.names) or 'none'})", position)
            return self.modules[self.names.index(key)]
        if type(self) is ModuleDict:
            raise JacValueError(f"nn.ModuleDict is indexed by a name ({', '.join(map(repr, self.names)) or 'none'}), "
                                f"not {key!r}", position)
        if not -len(self.modules) <= key < len(self.modules):
            raise JacValueError(f"index {key} is out of range for nn.{self.cls} of {len(self.modules)} modules",
                                position)
        return self.modules[key]

    def named(self, name: str):
        """``model.fc``: the module of that name (one of :attr:`names`)."""
        return self.modules[self.names.index(name)]

    def children(self) -> list:
        return list(zip(self.names, self.modules))

    def add(self, module) -> None:
        """``.append(module)``: named by its position, as PyTorch names it."""
        self.modules.append(module)
        self.names.append(str(len(self.modules) - 1))

    def own_parameters(self) -> list:
        return []


class ModuleList(Sequential):
    """``nn.ModuleList([...])``: modules by position, indexed, sliced, iterated, appended to; never called."""

    def __init__(self, modules: list, names: list | None = None):
        super().__init__(modules)
        self.cls = "ModuleList"

    def call(self, b, args: list, kwargs: dict, position):
        raise JacValueError("nn.ModuleList is not called (PyTorch's has no forward): iterate over it, "
                            "for layer in layers: x = layer(x), or index it, layers[0](x)", position)


class ModuleDict(Sequential):
    """``nn.ModuleDict({'a': ..., ...})``: modules by name, indexed with a constant key; iterating gives the keys,
    ``.items()`` / ``.keys()`` / ``.values()`` as a dict's; never called."""

    def __init__(self, modules: list, names: list | None = None):
        super().__init__(modules, names)
        self.cls = "ModuleDict"

    def call(self, b, args: list, kwargs: dict, position):
        raise JacValueError("nn.ModuleDict is not called (PyTorch's has no forward): index it, heads['a'](x)",
                            position)


class Module:
    """``nn.NAME(...)`` made: the function it calls (None: the identity), the constructor's arguments, and for a
    module of :data:`CALLS` the call that makes the function's arguments of them."""

    prefix = None  # a layer's parameters' names' start where the text's top level makes it (fc: fc.weight)
    training = True  # a module just made trains; .eval() / .train(False) set it
    reads_mode = False  # a module class that reads .training itself (the recurrent layers' dropout) says so
    called = False  # called already: its parameters were read as they were then (the parser names it no more)
    made_at = None  # where the text makes it (a layer without a name is refused there when called)
    padded = None  # a convolution's padding_mode other than 'zeros' and F.pad's sizes (session 55)

    def __init__(self, cls: str, fname: str | None, kwargs: dict, run=None):
        self.cls, self.fname, self.kwargs, self.run = cls, fname, kwargs, run
        self.params = {}  # its parameters made inputs (weight, bias), in PyTorch's order
        self.state = {}  # a batch norm's running statistics once a call in training mode updated them

    def call(self, b, args: list, kwargs: dict, position):
        if any(isinstance(p, Pending) for p in self.params.values()):  # nn.Linear(3, 4)(x): no name, no input
            raise JacNameError(refused_module(self.cls), self.made_at)
        self.called = True
        if not self.training and not self.reads_mode and self.cls not in EVAL_READ:
            raise JacValueError(f"nn.{self.cls}(...) in eval mode: jac does not read how it computes there; call "
                                f"it in training mode (leave .eval() out) or write the function it computes",
                                position)
        if self.run is not None:
            return self.run(b, self, list(args), kwargs, position)
        if self.fname is None:
            if len(args) != 1 or kwargs:
                raise JacValueError(f"nn.{self.cls}() is called with one array", position)
            return args[0]
        return _function(self.fname)(b, list(args), {**self.kwargs, **kwargs}, position)

    def array(self, b, args: list, kwargs: dict, position):
        """The one array a module of :data:`CALLS` is called with."""
        if len(args) != 1 or kwargs:
            raise JacValueError(f"nn.{self.cls}() is called with one array", position)
        return tensor(b, args[0], f"nn.{self.cls}", position)

    def parameter(self, name: str):
        """``fc.weight``, ``ln.bias`` of a layer (:data:`LAYERS`) or a norm made with its parameters: its input;
        else None."""
        return self.params.get(name)

    def buffer(self, b, name: str, position):
        """``bn.running_mean`` / ``bn.running_var`` of a batch or instance norm tracking running statistics: as made
        (0 and 1) or as the calls in training mode so far left them, constants without derivatives as PyTorch's
        buffers; a later call in training mode is refused (PyTorch moves the buffer a name read holds, in place).
        None for another name, or a norm not tracking them (PyTorch's buffers are None then)."""
        if name not in ("running_mean", "running_var") or not self.cls.startswith(("BatchNorm", "InstanceNorm")) \
                or not self.flag(b, "track_running_stats", position):
            return None
        self.state["buffer_read"] = True
        return dict(zip(("running_mean", "running_var"),
                        _running_statistics(b, self, self.int(b, "num_features", position), position)))[name]

    def children(self) -> list:
        return []

    def own_parameters(self) -> list:
        return list(self.params.items())

    def int(self, b, key: str, position) -> int:
        return static_int(b, self.kwargs[key], f"nn.{self.cls}'s {key}", position)

    def flag(self, b, key: str, position) -> bool:
        return flag(b, self.kwargs[key], f"nn.{self.cls}'s {key}", position)


class Listed(tuple):
    """What a module's method lists that is no array: ``named_parameters()``'s (name, parameter) pairs, a
    ModuleDict's keys or modules; a list of modules the text makes (``layers = []; layers.append(nn.Linear(3, 3))``,
    ``[nn.Linear(d, d) for _ in range(3)]``); iterated, indexed, unpacked (``nn.Sequential(*layers)``), never
    computed with."""


class Pending:
    """A parameter drawn for a layer made where it has no name yet (``layers.append(nn.Linear(3, 3))``): an input
    once a container or an attribute holds the module and names it (the parser's ``named_module``)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def named_parameters(root, prefix: str = "") -> list:
    """``root.named_parameters(prefix)`` as PyTorch lists them: each module's own parameters, then its children's,
    depth first in the order they were set (an explicit stack), each parameter once (a module held twice gives
    its parameters under the first name). ``root`` a :class:`Module`, a container, or the parser's instance of a
    model class: each has ``own_parameters()`` and ``children()``, lists of (name, value)."""
    found, seen, todo = [], set(), [(prefix, root)]
    while todo:
        name, module = todo.pop()
        for key, tracer in module.own_parameters():
            if tracer.id not in seen:
                seen.add(tracer.id)
                found.append((f"{name}.{key}" if name else key, tracer))
        todo.extend(reversed([(f"{name}.{key}" if name else key, child) for key, child in module.children()]))
    return found


def set_training(root, training: bool) -> None:
    """``root.train(training)`` (``.eval()`` is ``train(False)``): the mode of the module and of all it holds."""
    todo, seen = [root], set()
    while todo:
        module = todo.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        module.training = training
        todo.extend(child for _, child in module.children())


def _function(fname: str):
    return library_function("torch", fname) or FUNCTIONS[fname]


def _dims(module: Module, x, allowed: tuple, position) -> None:
    """Refuse an input of another number of dimensions than ``allowed``, as the module's forward does."""
    if x.ndim not in allowed:
        got = " or ".join(f"{d}-d" for d in allowed)
        raise JacShapeError(f"nn.{module.cls}() expects a {got} input, got shape {fmt(x.shape)}", position)


def _features(module: Module, b, x, key: str, position) -> None:
    """Refuse an input whose channels (axis 1) are not the module's ``key`` (num_features), as its parameters' or
    running statistics' shape does in PyTorch."""
    count = module.int(b, key, position)
    if x.shape[1] != count:
        raise JacShapeError(f"nn.{module.cls}(...) is made for {count} channels ({key}), but the input has "
                            f"{x.shape[1]} (axis 1 of shape {fmt(x.shape)})", position)


def _padding(mode: str, d: int):
    def run(b, module, args, kwargs, position):
        """nn.ZeroPad2d(p), nn.ReflectionPad1d((l, r)), ...: F.pad with the padding an int stands for (2·d times)."""
        x = module.array(b, args, kwargs, position)
        pad = static_ints(b, module.kwargs["padding"], f"nn.{module.cls}'s padding", position)
        if not isinstance(static(b, module.kwargs["padding"], "padding", position), tuple):  # one number: each side
            pad = pad * (2 * d)
        if mode == "circular":  # _CircularPadNd checks the input's dimensions before F.pad
            _dims(module, x, (d + 1, d + 2), position)
        value = module.kwargs.get("value", 0.0)
        return _function("pad")(b, [x], {"pad": pad, "mode": mode, **({"value": value} if mode == "constant" else {})},
                                position)
    return run


def _batch_norm(d: int):
    def run(b, module, args, kwargs, position):
        """nn.BatchNorm1d/2d/3d: the batch's statistics in training mode, the running statistics in eval mode.

        Tracking them, a call in training mode updates the running statistics as PyTorch does (mean 0 and variance
        1 as made); weight 1 and bias 0 as made, inputs where the text names the module."""
        x = module.array(b, args, kwargs, position)
        _dims(module, x, (2, 3) if d == 1 else (d + 2,), position)
        track = module.flag(b, "track_running_stats", position)
        if module.flag(b, "affine", position) or track:
            _features(module, b, x, "num_features", position)
        affine = {k: v for k, v in module.params.items()}
        if module.training or not track:
            y = _function("batch_norm")(b, [x, None, None], {"training": True, "eps": module.kwargs["eps"], **affine},
                                        position)
            if module.training and track:
                _update_running(b, module, x, position)
            return y
        mean, var = _running_statistics(b, module, x.shape[1], position)
        module.state["read"] = True
        return _function("batch_norm")(b, [x, mean, var], {"training": False, "eps": module.kwargs["eps"], **affine},
                                       position)
    return run


def _running_statistics(b, module, channels: int, position) -> tuple:
    """A batch norm's running mean and variance: as made (0 and 1) or as calls in training mode left them."""
    if "running_mean" in module.state:
        return module.state["running_mean"], module.state["running_var"]
    return b.const(np.zeros(channels, dtype=b.dtype), position), b.const(np.ones(channels, dtype=b.dtype), position)


def _update_running(b, module, x, position) -> None:
    """PyTorch's update of a batch norm's running statistics by a call in training mode, without derivatives (its
    buffers are no leaves): r = (1 - m) r + m s, s the batch's mean and unbiased variance per channel, m the
    momentum, or 1 / (the calls so far) with momentum=None (a cumulative average)."""
    _unread_buffers(module, position)
    if module.state.get("read"):  # PyTorch's backward of that call reads the buffers as this update leaves them
        raise JacValueError(f"nn.{module.cls}(...) called in training mode after a call in eval mode read its running "
                            f"statistics: the update changes them in place, and PyTorch's backward of the eval-mode "
                            f"call reads them as updated, not as that call used them; call the module in training "
                            f"mode before .eval(), not after", position)
    calls = module.state.get("calls", 0) + 1
    momentum = static(b, module.kwargs["momentum"], f"nn.{module.cls}'s momentum", position)
    factor = 1.0 / calls if momentum is None else _number(b, module.kwargs["momentum"], f"nn.{module.cls}'s momentum",
                                                           position)
    batch = batch_statistics(b, x, (0,) + tuple(range(2, x.ndim)), position)
    before = dict(zip(("running_mean", "running_var"), _running_statistics(b, module, x.shape[1], position)))
    for key, stat in batch.items():
        module.state[key] = moved(b, before[key], stat, factor, position)
    module.state["calls"] = calls


def _instance_norm(d: int):
    def run(b, module, args, kwargs, position):
        """nn.InstanceNorm1d/2d/3d: each sample's channels over their own statistics; tracking running statistics,
        a call in training mode updates them and one in eval mode normalizes with them; an input without a batch
        axis gets one for the call, as PyTorch's."""
        x = module.array(b, args, kwargs, position)
        _dims(module, x, (d + 1, d + 2), position)
        single = x.ndim == d + 1
        if single:
            x = _function("unsqueeze")(b, [x, 0], {}, position)
        track = module.flag(b, "track_running_stats", position)
        if module.flag(b, "affine", position) or track:
            _features(module, b, x, "num_features", position)
        if track and not module.training:
            mean, var = _running_statistics(b, module, x.shape[1], position)
            y = _function("batch_norm")(b, [x, mean, var], {"training": False, "eps": module.kwargs["eps"],
                                                           **module.params}, position)
        else:
            y = _function("instance_norm")(b, [x], {"eps": module.kwargs["eps"], **module.params}, position)
            if track:
                _update_instance_running(b, module, x, position)
        return _function("squeeze")(b, [y, 0], {}, position) if single else y
    return run


def _layer_norm(fname: str):
    def run(b, module, args, kwargs, position):
        """nn.LayerNorm(shape) and nn.RMSNorm(shape): weight 1 (and bias 0) as made, inputs once the module is named."""
        x = module.array(b, args, kwargs, position)
        return _function(fname)(b, [x, module.kwargs["normalized_shape"]],
                                {"eps": module.kwargs["eps"], **module.params}, position)
    return run


def _group_norm(b, module, args, kwargs, position):
    """nn.GroupNorm(groups, C): weight 1 and bias 0 as made, inputs once the module is named."""
    groups, channels = module.int(b, "num_groups", position), module.int(b, "num_channels", position)
    if groups <= 0 or channels % groups:  # PyTorch's constructor refuses it, whatever the input
        raise JacValueError(f"nn.GroupNorm: num_channels ({channels}) must be a multiple of num_groups ({groups})",
                            position)
    x = module.array(b, args, kwargs, position)
    if module.flag(b, "affine", position) and x.ndim >= 2:
        _features(module, b, x, "num_channels", position)
    return _function("group_norm")(b, [x, module.kwargs["num_groups"]], {"eps": module.kwargs["eps"], **module.params},
                                   position)


def _prelu(b, module, args, kwargs, position):
    """nn.PReLU(num_parameters=1, init=0.25): F.prelu, its weight num_parameters times init (an input once named)."""
    x = module.array(b, args, kwargs, position)
    count = module.int(b, "num_parameters", position)
    if count < 1:
        raise JacValueError(f"nn.PReLU's num_parameters must be positive, got {count}", position)
    init = _number(b, module.kwargs["init"], "nn.PReLU's init", position)
    weight = module.params.get("weight")
    if weight is None:
        weight = b.const(np.full(count, init, dtype=b.dtype), position)
    return _function("prelu")(b, [x, weight], {}, position)


def _softmax2d(b, module, args, kwargs, position):
    """nn.Softmax2d(): softmax over the channels, axis -3 of a 3-d or 4-d input."""
    x = module.array(b, args, kwargs, position)
    _dims(module, x, (3, 4), position)
    return _function("softmax")(b, [x], {"dim": -3}, position)


def _unflatten(b, module, args, kwargs, position):
    """nn.Unflatten(dim, sizes): torch.unflatten."""
    x = module.array(b, args, kwargs, position)
    return _function("unflatten")(b, [x, module.kwargs["dim"], module.kwargs["unflattened_size"]], {}, position)


_NORM = ("eps", "momentum", "affine", "track_running_stats", "device", "dtype")
_PLACED = {"device": None, "dtype": None}  # PyTorch's factory arguments of a module with parameters (devices.factory)
# class: (its constructor's parameters in order, their defaults (None: required), its call)
CALLS = {
    **{f"{kind}Pad{d}d": (("padding", "value") if kind == "Constant" else ("padding",), {}, _padding(mode, d))
       for kind, mode in (("Zero", "constant"), ("Constant", "constant"), ("Reflection", "reflect"),
                          ("Replication", "replicate"), ("Circular", "circular")) for d in (1, 2, 3)},
    **{f"BatchNorm{d}d": (("num_features",) + _NORM, {"eps": 1e-5, "momentum": 0.1, "affine": True,
                                                      "track_running_stats": True, **_PLACED}, _batch_norm(d)) for d in (1, 2, 3)},
    **{f"InstanceNorm{d}d": (("num_features",) + _NORM, {"eps": 1e-5, "momentum": 0.1, "affine": False,
                                                         "track_running_stats": False, **_PLACED}, _instance_norm(d))
       for d in (1, 2, 3)},
    "LayerNorm": (("normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"),
                  {"eps": 1e-5, "elementwise_affine": True, "bias": True, **_PLACED}, _layer_norm("layer_norm")),
    "RMSNorm": (("normalized_shape", "eps", "elementwise_affine", "device", "dtype"),
                {"eps": None, "elementwise_affine": True, **_PLACED}, _layer_norm("rms_norm")),
    "GroupNorm": (("num_groups", "num_channels", "eps", "affine", "device", "dtype"),
                  {"eps": 1e-5, "affine": True, **_PLACED}, _group_norm),
    "PReLU": (("num_parameters", "init", "device", "dtype"), {"num_parameters": 1, "init": 0.25, **_PLACED}, _prelu),
    "Softmax2d": ((), {}, _softmax2d),
    "Unflatten": (("dim", "unflattened_size"), {}, _unflatten),
}

# session 24: the modules random in training mode, made (their call refuses in training mode, and in eval mode is
# the identity, or RReLU's leaky ReLU of the mean slope); the norms' and PReLU's parameters; what eval mode reads
def _random(fname: str):
    def run(b, module, args, kwargs, position):
        """nn.Dropout and its kin: random in training mode (refused; x * 0 with p=1); the identity in eval mode (nn.RReLU
        a leaky ReLU).

        RReLU in eval mode is F.rrelu(x, lower, upper, training=False), a leaky ReLU of slope (lower + upper) / 2."""
        x = module.array(b, args, kwargs, position)
        p = None if fname == "rrelu" else _number(b, module.kwargs["p"], f"nn.{module.cls}'s p", position)
        if p is not None and not 0 <= p <= 1:
            raise JacValueError(f"nn.{module.cls}(): dropout probability has to be between 0 and 1, but got {p}",
                                position)
        if module.training and p == 1:  # every element dropped: x * 0, as F.dropout(x, p=1) (functions._dropout)
            return b.apply("mul", x, b.const(0.0, position), position=position)
        if module.training and p != 0:  # p=0 keeps every element, scaled by 1: the identity in both modes
            raise JacValueError(f"nn.{module.cls}(...) in training mode (a module just made trains) is random at each "
                                f"call (no one Jacobian); in eval mode, model.eval(), it is "
                                f"{'a leaky ReLU' if fname == 'rrelu' else 'the identity'}: write "
                                f"{'F.rrelu(x, training=False)' if fname == 'rrelu' else 'x'}, or F.{fname}(x, "
                                f"training=False), or call .eval() on the module", position)
        if fname == "rrelu":
            return _function("rrelu")(b, [x], {"lower": module.kwargs["lower"], "upper": module.kwargs["upper"],
                                               "training": False}, position)
        return x
    return run


CALLS.update({
    **{cls: (("p", "inplace"), {"p": 0.5, "inplace": False}, _random(fname)) for cls, fname in RANDOM.items()
       if cls != "RReLU"},
    "RReLU": (("lower", "upper", "inplace"), {"lower": 1 / 8, "upper": 1 / 3, "inplace": False}, _random("rrelu")),
})


def norm_parameters(b, module: Module, position) -> dict:
    """The parameters a norm (or nn.PReLU) holds as PyTorch makes it: name -> its value (weight ones, bias zeros;
    PReLU's weight ``init``); none with ``affine=False`` / ``elementwise_affine=False``."""
    cls = module.cls
    if cls.startswith(("BatchNorm", "InstanceNorm", "GroupNorm")):
        if not module.flag(b, "affine", position):
            return {}
        channels = module.int(b, "num_channels" if cls == "GroupNorm" else "num_features", position)
        if channels < 1:
            raise JacValueError(f"nn.{cls}(): the number of channels must be positive, got {channels}", position)
        return {"weight": np.ones(channels, dtype=b.dtype), "bias": np.zeros(channels, dtype=b.dtype)}
    if cls in ("LayerNorm", "RMSNorm"):
        if not module.flag(b, "elementwise_affine", position):
            return {}
        shape = static_ints(b, module.kwargs["normalized_shape"], f"nn.{cls}'s normalized_shape", position)
        made = {"weight": np.ones(shape, dtype=b.dtype)}
        if cls == "LayerNorm" and module.flag(b, "bias", position):
            made["bias"] = np.zeros(shape, dtype=b.dtype)
        return made
    count = module.int(b, "num_parameters", position)  # PReLU
    if count < 1:
        raise JacValueError(f"nn.PReLU's num_parameters must be positive, got {count}", position)
    return {"weight": np.full(count, _number(b, module.kwargs["init"], "nn.PReLU's init", position), dtype=b.dtype)}


# the norms and nn.PReLU: made with their parameters as inputs where the text names the module (the parser's
# made_layer); called elsewhere (nn.LayerNorm(8)(x)), with the parameters' values as made
NORMS = frozenset({*(f"{kind}{d}d" for kind in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)), "LayerNorm",
                   "RMSNorm", "GroupNorm", "PReLU"})


def _constructor(cls: str):
    fname, params, defaults = NN[cls] if cls in NN else (None,) + CALLS[cls][:2]
    run = CALLS[cls][2] if cls in CALLS else None

    def lower(b, args, kwargs, position):
        given = _given(cls, params, args, kwargs, position)
        if given.get("inplace") is False:
            del given["inplace"]
        if run is not None:
            missing = [p for p in params if p not in given and p not in defaults]
            if missing:
                raise JacValueError(f"nn.{cls}() is missing its argument '{missing[0]}'", position)
        if "dtype" in params:
            factory(b, cls, given.get("device"), given.get("dtype"), position)
        return Module(cls, fname, {**defaults, **given}, run)
    lower.__doc__ = (f"nn.{cls}(...)(x): the module without parameters, a call of "
                     f"{'F.' + fname if fname else 'the identity'} with the constructor's arguments") if run is None \
        else f"nn.{cls}(...)(x): {run.__doc__.splitlines()[0] if run.__doc__ else 'the module as PyTorch calls it'}"
    return lower


for _cls in (*NN, *CALLS):
    variant("torch.nn", _cls)(_constructor(_cls))


@variant("torch.nn", "Sequential")
def _sequential(b, args, kwargs, position):
    """nn.Sequential(m1, m2, ...)(x) of modules without parameters: m2(m1(x)), ..."""
    if kwargs or not all(isinstance(a, (Module, Sequential)) for a in args):
        raise JacValueError("nn.Sequential() takes modules made here (nn.ReLU(), nn.Softmax(dim=1), ...)", position)
    return Sequential(list(args))


# Modules whose parameters PyTorch draws when it makes them, read where the text assigns one at its top level
# (fc = nn.Linear(3, 4)): each parameter an input named as PyTorch's named_parameters() names it (fc.weight,
# fc.bias; model.0.weight in an nn.Sequential), drawn as its reset_parameters() draws (another generator:
# the values are jac's, seeded by --seed, and shown). class: (parameters in order, defaults, function called)
LAYERS = {
    "Linear": (("in_features", "out_features", "bias", "device", "dtype"),
               {"bias": True, "device": None, "dtype": None}, "linear"),
    **{f"Conv{d}d": (("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
                      "padding_mode", "device", "dtype"),
                     {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros",
                      "device": None, "dtype": None}, f"conv{d}d") for d in (1, 2, 3)},
    "Embedding": (("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                   "sparse", "_weight", "_freeze", "device", "dtype"),
                  {"padding_idx": None, "max_norm": None, "norm_type": 2.0, "scale_grad_by_freq": False,
                   "sparse": False, "_weight": None, "_freeze": False, "device": None, "dtype": None}, "embedding"),
    # session 55: its table drawn as nn.Embedding's, its call F.embedding_bag
    "EmbeddingBag": (("num_embeddings", "embedding_dim", "max_norm", "norm_type", "scale_grad_by_freq", "mode",
                      "sparse", "_weight", "include_last_offset", "padding_idx", "device", "dtype"),
                     {"max_norm": None, "norm_type": 2.0, "scale_grad_by_freq": False, "mode": "mean",
                      "sparse": False, "_weight": None, "include_last_offset": False, "padding_idx": None,
                      "device": None, "dtype": None}, "embedding_bag"),
}

# session 24: nn.Bilinear (two inputs) and the transposed convolutions, drawn as their reset_parameters draws
LAYERS.update({
    "Bilinear": (("in1_features", "in2_features", "out_features", "bias", "device", "dtype"),
                 {"bias": True, "device": None, "dtype": None}, "bilinear"),
    **{f"ConvTranspose{d}d": (("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
                               "groups", "bias", "dilation", "padding_mode", "device", "dtype"),
                              {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True,
                               "dilation": 1, "padding_mode": "zeros", "device": None, "dtype": None},
                              f"conv_transpose{d}d") for d in (1, 2, 3)},
})


def layer(b, cls: str, args: list, kwargs: dict, position, make) -> Module:
    """``nn.Linear(...)`` / ``nn.ConvNd(...)`` / ``nn.Embedding(...)`` made: its parameters drawn as PyTorch's
    ``reset_parameters`` draws them, each made an input by ``make(suffix, value)`` ("weight", "bias"), which
    returns its tracer; a :class:`Module` calling the function with them (and ``.weight`` reads one)."""
    params, defaults, fname = LAYERS[cls]
    given = _given(cls, params, args, kwargs, position)
    missing = [p for p in params if p not in given and p not in defaults]
    if missing:
        raise JacValueError(f"nn.{cls}() is missing its argument '{missing[0]}'", position)
    a = {**defaults, **given}
    factory(b, cls, a["device"], a["dtype"], position)
    if cls in ("Embedding", "EmbeddingBag") and a["_weight"] is not None:
        raise JacValueError(f"nn.{cls}(_weight=...): write F.{LAYERS[cls][2]}(indices, weight) with the weight bound "
                            f"as an input", position)
    sizes = {k: static_int(b, a[k], f"nn.{cls}'s {k}", position) for k in params[:2]}
    if min(sizes.values()) < 1:
        raise JacValueError(f"nn.{cls}(): {params[0]} and {params[1]} must be positive, got "
                            f"{sizes[params[0]]} and {sizes[params[1]]}", position)
    n_in, n_out = sizes[params[0]], sizes[params[1]]
    if cls in ("Embedding", "EmbeddingBag"):
        if not b.shapes_only:
            b.check_size((n_in, n_out), f"nn.{cls}'s weight, shape {fmt((n_in, n_out))},", position)
        weight = _drawn(b, (n_in, n_out), lambda shape: b.rng.standard_normal(shape))  # init.normal_
        pad = a["padding_idx"]
        if pad is not None:
            pad = static_int(b, pad, "nn.Embedding's padding_idx", position)
            if not -n_in <= pad < n_in:
                raise JacValueError(f"nn.{cls}(): padding_idx={pad} must be a row (0 to {n_in - 1})", position)
            if not b.shapes_only:
                weight[pad] = 0.0  # reset_parameters' _fill_padding_idx_with_zero
        table = make("weight", weight.astype(b.dtype))
        if cls == "EmbeddingBag":
            keys = ("max_norm", "norm_type", "scale_grad_by_freq", "mode", "sparse", "include_last_offset",
                    "padding_idx")
            made = Module(cls, fname, {"weight": table, **{k: a[k] for k in keys}}, run=_embedding_bag_call)
            made.params = {"weight": table}
            return made
        made = Module(cls, fname, {"weight": table, **{k: a[k] for k in ("padding_idx", "max_norm", "norm_type",
                                                                          "scale_grad_by_freq", "sparse")}},
                      run=_embedding_call)
        made.params = {"weight": table}
        return made
    if cls == "Bilinear":
        return _bilinear(b, a, params, make, position)
    padded = None  # a convolution's padding_mode other than 'zeros': F.pad's mode and sizes
    if cls == "Linear":
        shape, fan_in, call = (n_out, n_in), n_in, {}
    else:
        d = int(cls[-2])
        groups = static_int(b, a["groups"], f"nn.{cls}'s groups", position)
        if groups < 1 or n_in % groups or n_out % groups:
            raise JacValueError(f"nn.{cls}(): in_channels ({n_in}) and out_channels ({n_out}) must be multiples of "
                                f"groups ({groups})", position)
        mode = static(b, a["padding_mode"], "padding_mode", position)
        transposed = cls.startswith("ConvTranspose")
        if mode != "zeros" and transposed:  # PyTorch's constructor refuses it
            raise JacValueError(f"nn.{cls}(padding_mode={mode!r}): PyTorch's transposed convolutions take only "
                                f"padding_mode='zeros'", position)
        if mode not in ("zeros", "reflect", "replicate", "circular"):  # PyTorch's constructor refuses it
            raise JacValueError(f"nn.{cls}(): padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                                f"'circular', got {mode!r}", position)
        kernel = static_ints(b, a["kernel_size"], f"nn.{cls}'s kernel_size", position)
        kernel = kernel * d if len(kernel) == 1 else kernel
        if len(kernel) != d or min(kernel) < 1:
            raise JacValueError(f"nn.{cls}(): kernel_size must be {d} positive sizes, got {kernel}", position)
        if mode != "zeros":  # session 55: F.pad(x, ..., mode) and the convolution with padding 0, as _conv_forward
            padded = (mode, _reversed_padding(b, cls, a, kernel, position))
        if transposed:  # weight (in, out / groups, *kernel); init's fan_in is its axis 1 times the kernel
            shape, fan_in = (n_in, n_out // groups) + tuple(kernel), n_out // groups * int(np.prod(kernel))
            call = {k: a[k] for k in ("stride", "padding", "output_padding", "groups", "dilation")}
        else:
            shape, fan_in = (n_out, n_in // groups) + tuple(kernel), n_in // groups * int(np.prod(kernel))
            call = {k: a[k] for k in ("stride", "padding", "dilation", "groups")}
    if not b.shapes_only:
        b.check_size(shape, f"nn.{cls}'s weight, shape {fmt(shape)},", position)  # before it is drawn
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) of the weight, and the bias's U(-bound, bound)
    weights = {"weight": make("weight", _drawn(b, shape, uniform(b, bound)))}
    if static(b, a["bias"], f"nn.{cls}'s bias", position):
        weights["bias"] = make("bias", _drawn(b, (n_out,), uniform(b, bound)))
    if padded is not None:
        call["padding"] = 0
    made = Module(cls, fname, {**weights, **call}, run=_weighted_call)
    made.params = weights
    made.padded = padded
    return made


def _reversed_padding(b, cls: str, a: dict, kernel: list, position) -> tuple:
    """PyTorch's ``_reversed_padding_repeated_twice`` of a convolution: F.pad's (left, right) pairs, the last axis
    first, of ``padding`` (a number or one per axis), ``'valid'`` (none) or ``'same'`` (dilation · (k - 1) in all,
    its half rounded down on the left; stride 1 only, as PyTorch's constructor says)."""
    given = static(b, a["padding"], f"nn.{cls}'s padding", position)
    d = len(kernel)
    if isinstance(given, str):
        if given not in ("same", "valid"):
            raise JacValueError(f"nn.{cls}(): padding must be 'same', 'valid' or sizes, got {given!r}", position)
        if given == "valid":
            return (0,) * (2 * d)
        stride = static_ints(b, a["stride"], f"nn.{cls}'s stride", position)
        if any(s != 1 for s in stride):
            raise JacValueError(f"nn.{cls}(): padding='same' is not supported for strided convolutions", position)
        dilation = static_ints(b, a["dilation"], f"nn.{cls}'s dilation", position)
        dilation = dilation * d if len(dilation) == 1 else dilation
        totals = [dil * (k - 1) for dil, k in zip(dilation, kernel)]
        return tuple(p for t in reversed(totals) for p in (t // 2, t - t // 2))
    sizes = static_ints(b, a["padding"], f"nn.{cls}'s padding", position)
    sizes = sizes * d if len(sizes) == 1 else sizes
    if len(sizes) != d or min(sizes) < 0:
        raise JacValueError(f"nn.{cls}(): padding must be {d} sizes of at least 0, got {sizes}", position)
    return tuple(p for s in reversed(sizes) for p in (s, s))


def _bilinear(b, a: dict, params: tuple, make, position) -> Module:
    """nn.Bilinear(in1, in2, out): weight (out, in1, in2) and bias (out,), both U(-1/sqrt(in1), 1/sqrt(in1)) as
    its reset_parameters draws them; called on two arrays, F.bilinear(x1, x2, weight, bias)."""
    n1, n2, n_out = (static_int(b, a[k], f"nn.Bilinear's {k}", position) for k in params[:3])
    if min(n1, n2, n_out) < 1:
        raise JacValueError(f"nn.Bilinear(): in1_features, in2_features and out_features must be positive, got {n1}, "
                            f"{n2} and {n_out}", position)
    shape = (n_out, n1, n2)
    if not b.shapes_only:
        b.check_size(shape, f"nn.Bilinear's weight, shape {fmt(shape)},", position)
    bound = 1 / np.sqrt(n1)
    weights = {"weight": make("weight", _drawn(b, shape, uniform(b, bound)))}
    if static(b, a["bias"], "nn.Bilinear's bias", position):
        weights["bias"] = make("bias", _drawn(b, (n_out,), uniform(b, bound)))
    made = Module("Bilinear", "bilinear", dict(weights), run=_bilinear_call)
    made.params = weights
    return made


def _bilinear_call(b, module, args, kwargs, position):
    """nn.Bilinear's forward: F.bilinear(x1, x2, weight, bias)."""
    if len(args) != 2 or kwargs:
        raise JacValueError("nn.Bilinear() is called with two arrays, layer(x1, x2)", position)
    return _function("bilinear")(b, [floating(b, "Bilinear", tensor(b, a, "nn.Bilinear", position), position)
                                     for a in args], dict(module.kwargs), position)


def _unnamed_layer(cls: str):
    def lower(b, args, kwargs, position):
        """nn.NAME(...) of a layer made where it has no name yet: its parameters drawn, inputs once named."""
        made = layer(b, cls, list(args), kwargs, position, lambda suffix, value: Pending(value))
        made.made_at = position
        return made
    lower.__doc__ = (f"nn.{cls}(...): a layer, its parameters inputs named as PyTorch's named_parameters() names them "
                     f"once the text's top level or a model's __init__ names it")
    return lower


for _cls in ("Linear", "Bilinear", "Embedding", "EmbeddingBag",
             *(f"{kind}{d}d" for kind in ("Conv", "ConvTranspose") for d in (1, 2, 3))):
    variant("torch.nn", _cls)(_unnamed_layer(_cls))


# the modules whose eval mode jac reads: those that compute the same in both modes, and those that read the mode
# themselves (the batch and instance norms, the dropouts); another module called in eval mode is refused
EVAL_READ = frozenset(NN) | NORMS | frozenset(RANDOM) | frozenset(c for c in CALLS if c[:-2].endswith("Pad")) \
    | frozenset(("Softmax2d", "Unflatten", "Linear", "Embedding", "EmbeddingBag", "Bilinear",
                 *(f"{kind}{d}d" for kind in ("Conv", "ConvTranspose") for d in (1, 2, 3))))


def flag(b, value, what: str, position) -> bool:
    """A module's True / False argument (``what`` names it in the refusal)."""
    v = static(b, value, what, position)
    if v not in (0, 1):  # True, False, or 0 and 1, as Python reads them
        raise JacValueError(f"{what} must be True or False, got {v!r}", position)
    return bool(v)


def uniform(b, bound: float):
    """A draw of U(-bound, bound) from the builder's seeded generator, for :func:`_drawn`."""
    return lambda shape: b.rng.uniform(-bound, bound, shape)


def _drawn(b, shape: tuple, draw) -> np.ndarray:
    """A parameter's values, ``draw(shape)`` in --dtype; for ``jac shape`` (nothing is computed) zeros that
    take no memory, so a layer of any size has its shapes."""
    if b.shapes_only:
        return np.broadcast_to(np.zeros((), b.dtype), shape)
    return draw(shape).astype(b.dtype, copy=False)


def _given(cls: str, params: tuple, args: list, kwargs: dict, position) -> dict:
    """The constructor's arguments by name, as Python binds them to ``params``."""
    if len(args) > len(params):
        raise JacValueError(f"nn.{cls}() takes at most {len(params)} arguments ({', '.join(params) or 'none'}), "
                            f"got {len(args)}", position)
    given = dict(zip(params, args))
    for key, value in kwargs.items():
        if key not in params:
            raise JacValueError(f"nn.{cls}() got an unexpected keyword argument '{key}' (it takes "
                                f"{', '.join(params) or 'none'})", position)
        if key in given:
            raise JacValueError(f"nn.{cls}() got multiple values for argument '{key}'", position)
        given[key] = value
    return given


def _weighted_call(b, module, args, kwargs, position):
    """A layer's forward: its function with the array and the layer's parameters and options."""
    x = floating(b, module.cls, module.array(b, args, kwargs, position), position)
    if module.padded is not None:  # nn.Conv2d(..., padding_mode='reflect'): F.pad first, as _conv_forward
        x = _function("pad")(b, [x], {"pad": module.padded[1], "mode": module.padded[0]}, position)
    return _function(module.fname)(b, [x], dict(module.kwargs), position)


def _embedding_call(b, module, args, kwargs, position):
    """nn.Embedding's forward: F.embedding(indices, weight, ...), the indices first."""
    if len(args) != 1 or kwargs:
        raise JacValueError(f"nn.{module.cls}() is called with one array of indices", position)
    return _function("embedding")(b, [args[0]], dict(module.kwargs), position)


def _embedding_bag_call(b, module, args, kwargs, position):
    """nn.EmbeddingBag's forward(input, offsets=None, per_sample_weights=None): F.embedding_bag with its table."""
    a = _given("EmbeddingBag's forward", ("input", "offsets", "per_sample_weights"), args, kwargs, position)
    if "input" not in a:
        raise JacValueError("nn.EmbeddingBag() is called with an array of indices", position)
    table = dict(module.kwargs)
    weight = table.pop("weight")
    return _function("embedding_bag")(b, [a["input"], weight], {**table, "offsets": a.get("offsets"),
                                                                "per_sample_weights": a.get("per_sample_weights")},
                                      position)


def refused_module(name: str) -> str | None:
    """Why ``nn.NAME(...)`` is refused, for a module with parameters or random output; else None."""
    if name in OTHER:
        return f"nn.{name}(...) {OTHER[name]}"
    if name in LAYERS:
        return (f"nn.{name}(...) holds parameters drawn at random when it is made: assign it at the text's top "
                f"level, layer = nn.{name}(...) (or hold it in a container there or in __init__, "
                f"nn.Sequential(*layers)), and its parameters are inputs (layer.weight, layer.bias), or bind "
                f"them as inputs and write the function, {PARAMETERS[name]}")
    if name in PARAMETERS:
        return (f"nn.{name}(...) holds parameters drawn at random when it is made, which jac cannot see: bind them "
                f"as inputs and write the function, {PARAMETERS[name]}")
    if name in RANDOM:
        return (f"nn.{name}(...) of a module just made is in training mode, random at each call (no one Jacobian); "
                f"in eval mode it is the identity: write x, or F.{RANDOM[name]}(x, training=False)")
    return None



# session 25 (h25-odds): model.modules() / named_modules() and isinstance(m, nn.Linear) of the modules walked
def named_modules(root, prefix: str = "") -> list:
    """``root.named_modules(prefix=prefix)`` as PyTorch lists them: the module itself first (named ``prefix``,
    ``''`` at the root), then each child's walk in the order they were set, depth first (an explicit stack), each
    module once (a module held twice is listed under its first name)."""
    found, seen, todo = [], set(), [(prefix, root)]
    while todo:
        name, module = todo.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        found.append((name, module))
        todo.extend(reversed([(f"{name}.{key}" if name else key, child) for key, child in module.children()]))
    return found


# isinstance(m, nn.CLASS) of a module made here: its class, or a base class PyTorch's has among these
BASES = {"Module": None, "RNNBase": ("RNN", "GRU", "LSTM"), "RNNCellBase": ("RNNCell", "GRUCell", "LSTMCell")}


def is_instance(cls: str, of: str) -> bool:
    """PyTorch's ``isinstance(m, nn.OF)`` of a module of class ``cls`` (jac's classes have no other subclassing:
    attention's ``out_proj`` is an ``nn.Linear``, as PyTorch's ``NonDynamicallyQuantizableLinear`` is one)."""
    if of in BASES:
        return BASES[of] is None or cls in BASES[of]
    return cls == of


def floating(b, cls: str, x, position):
    """``x``, refused where it holds integers or booleans: a layer's float parameters meet it in a product, and
    PyTorch raises ("expected m1 and m2 to have the same dtype", "Input type (long int) and bias type (double)
    should be the same")."""
    from ..ir.dtypes import kind_of

    found = kind_of(b, x.id) if hasattr(x, "id") else None
    if found is not None:
        what = "booleans" if found[0].kind == "b" else f"integers ({found[0]})"
        raise JacValueError(f"nn.{cls}(...) is called with an array of {what}: PyTorch raises, its parameters being "
                            f"floats; write x.float() (or x.double()) first", position)
    return x


def _unread_buffers(module, position) -> None:
    """Refuse an update of running statistics the text read already (``m = bn.running_mean``): PyTorch moves that
    array in place, so the name would change with it, which jac's values cannot follow."""
    if module.state.get("buffer_read"):
        raise JacValueError(f"nn.{module.cls}(...) called in training mode after the text read its running_mean or "
                            f"running_var: PyTorch moves those arrays in place, so what was read changes too, which "
                            f"jac does not follow; read them after the last call in training mode, or read "
                            f"bn.running_mean.clone()", position)


def _update_instance_running(b, module, x, position) -> None:
    """PyTorch's update of an instance norm's running statistics by a call in training mode, without derivatives:
    r = (1 - m) r + m s, s each sample's channel mean and unbiased variance averaged over the batch (ATen updates a
    copy per sample and keeps its mean); momentum=None is 0 there (InstanceNorm passes momentum or 0.0), so the
    statistics stay as made. No refusal after an eval-mode call: that call normalized with copies (repeat)."""
    _unread_buffers(module, position)
    momentum = static(b, module.kwargs["momentum"], f"nn.{module.cls}'s momentum", position)
    factor = 0.0 if momentum is None else _number(b, module.kwargs["momentum"], f"nn.{module.cls}'s momentum",
                                                   position)
    batch = batch_statistics(b, x, tuple(range(2, x.ndim)), position)
    before = dict(zip(("running_mean", "running_var"), _running_statistics(b, module, x.shape[1], position)))
    for key, stat in batch.items():
        module.state[key] = moved(b, before[key], _function("mean")(b, [stat], {"dim": 0}, position), factor,
                                  position)
