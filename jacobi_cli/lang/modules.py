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

from ..errors import JacShapeError, JacValueError
from ..ir.shapes import fmt
from .functions import FUNCTIONS, _number, library_function, static, static_int, static_ints, tensor, variant

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
    **{name: "its layers with F.scaled_dot_product_attention, F.linear and F.layer_norm"
       for name in ("Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
                    "TransformerDecoderLayer")},
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
    "SyncBatchNorm": "synchronizes statistics across processes; on one process it is nn.BatchNorm1d/2d/3d",
    **{f"Lazy{kind}{d}d": f"infers its number of features at its first call; write nn.{kind}{d}d(C)"
       for kind in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)},
    **{name: "is a container or a base class, not a layer: write the layers it holds, one after the other"
       for name in ("Module", "Container", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
                    "DataParallel", "RNNBase", "RNNCellBase")},
}


class Sequential:
    """``nn.Sequential(m1, m2, ...)`` of modules without parameters: each applied to the one before's result."""

    prefix = None  # its parameters' names' start where the text's top level makes it (model: model.0.weight)

    def __init__(self, modules: list):
        self.cls, self.modules = "Sequential", modules

    def call(self, b, args: list, kwargs: dict, position):
        if len(args) != 1 or kwargs:
            raise JacValueError("nn.Sequential(...) is called with one array", position)
        value = args[0]
        for module in self.modules:
            value = module.call(b, [value], {}, position)
        return value


class Module:
    """``nn.NAME(...)`` made: the function it calls (None: the identity), the constructor's arguments, and for a
    module of :data:`CALLS` the call that makes the function's arguments of them."""

    prefix = None  # a layer's parameters' names' start where the text's top level makes it (fc: fc.weight)

    def __init__(self, cls: str, fname: str | None, kwargs: dict, run=None):
        self.cls, self.fname, self.kwargs, self.run = cls, fname, kwargs, run

    def call(self, b, args: list, kwargs: dict, position):
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
        """``fc.weight``, ``fc.bias`` of a layer (:data:`LAYERS`): its input; else None."""
        if self.cls in LAYERS and name in ("weight", "bias"):
            return self.kwargs.get(name)
        return None

    def int(self, b, key: str, position) -> int:
        return static_int(b, self.kwargs[key], f"nn.{self.cls}'s {key}", position)

    def flag(self, b, key: str, position) -> bool:
        value = static(b, self.kwargs[key], f"nn.{self.cls}'s {key}", position)
        if value not in (0, 1):  # True, False, or 0 and 1, as Python reads them
            raise JacValueError(f"nn.{self.cls}'s {key} must be True or False, got {value!r}", position)
        return bool(value)


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
        """A fresh nn.BatchNorm1d/2d/3d trains: the batch's statistics, weight 1 and bias 0."""
        x = module.array(b, args, kwargs, position)
        _dims(module, x, (2, 3) if d == 1 else (d + 2,), position)
        if module.flag(b, "affine", position) or module.flag(b, "track_running_stats", position):
            _features(module, b, x, "num_features", position)
        return _function("batch_norm")(b, [x, None, None], {"training": True, "momentum": module.kwargs["momentum"],
                                                            "eps": module.kwargs["eps"]}, position)
    return run


def _instance_norm(d: int):
    def run(b, module, args, kwargs, position):
        """nn.InstanceNorm1d/2d/3d: each sample's channels over their own statistics (a fresh module trains, so the
        running statistics are not read); an input without a batch axis gets one for the call, as PyTorch's."""
        x = module.array(b, args, kwargs, position)
        _dims(module, x, (d + 1, d + 2), position)
        single = x.ndim == d + 1
        if single:
            x = _function("unsqueeze")(b, [x, 0], {}, position)
        if module.flag(b, "affine", position) or module.flag(b, "track_running_stats", position):
            _features(module, b, x, "num_features", position)
        y = _function("instance_norm")(b, [x], {"eps": module.kwargs["eps"]}, position)
        return _function("squeeze")(b, [y, 0], {}, position) if single else y
    return run


def _layer_norm(fname: str):
    def run(b, module, args, kwargs, position):
        """nn.LayerNorm(shape) and nn.RMSNorm(shape): weight 1 (and bias 0) when made, so the function without them."""
        x = module.array(b, args, kwargs, position)
        return _function(fname)(b, [x, module.kwargs["normalized_shape"]], {"eps": module.kwargs["eps"]}, position)
    return run


def _group_norm(b, module, args, kwargs, position):
    """nn.GroupNorm(groups, C): weight 1 and bias 0 when made."""
    groups, channels = module.int(b, "num_groups", position), module.int(b, "num_channels", position)
    if groups <= 0 or channels % groups:  # PyTorch's constructor refuses it, whatever the input
        raise JacValueError(f"nn.GroupNorm: num_channels ({channels}) must be a multiple of num_groups ({groups})",
                            position)
    x = module.array(b, args, kwargs, position)
    if module.flag(b, "affine", position) and x.ndim >= 2:
        _features(module, b, x, "num_channels", position)
    return _function("group_norm")(b, [x, module.kwargs["num_groups"]], {"eps": module.kwargs["eps"]}, position)


def _prelu(b, module, args, kwargs, position):
    """nn.PReLU(num_parameters=1, init=0.25): F.prelu with a weight of num_parameters times init."""
    x = module.array(b, args, kwargs, position)
    count = module.int(b, "num_parameters", position)
    if count < 1:
        raise JacValueError(f"nn.PReLU's num_parameters must be positive, got {count}", position)
    init = _number(b, module.kwargs["init"], "nn.PReLU's init", position)
    return _function("prelu")(b, [x, b.const(np.full(count, init, dtype=b.dtype), position)], {}, position)


def _softmax2d(b, module, args, kwargs, position):
    """nn.Softmax2d(): softmax over the channels, axis -3 of a 3-d or 4-d input."""
    x = module.array(b, args, kwargs, position)
    _dims(module, x, (3, 4), position)
    return _function("softmax")(b, [x], {"dim": -3}, position)


def _unflatten(b, module, args, kwargs, position):
    """nn.Unflatten(dim, sizes): torch.unflatten."""
    x = module.array(b, args, kwargs, position)
    return _function("unflatten")(b, [x, module.kwargs["dim"], module.kwargs["unflattened_size"]], {}, position)


_NORM = ("eps", "momentum", "affine", "track_running_stats")
# class: (its constructor's parameters in order, their defaults (None: required), its call)
CALLS = {
    **{f"{kind}Pad{d}d": (("padding", "value") if kind == "Constant" else ("padding",), {}, _padding(mode, d))
       for kind, mode in (("Zero", "constant"), ("Constant", "constant"), ("Reflection", "reflect"),
                          ("Replication", "replicate"), ("Circular", "circular")) for d in (1, 2, 3)},
    **{f"BatchNorm{d}d": (("num_features",) + _NORM, {"eps": 1e-5, "momentum": 0.1, "affine": True,
                                                      "track_running_stats": True}, _batch_norm(d)) for d in (1, 2, 3)},
    **{f"InstanceNorm{d}d": (("num_features",) + _NORM, {"eps": 1e-5, "momentum": 0.1, "affine": False,
                                                         "track_running_stats": False}, _instance_norm(d))
       for d in (1, 2, 3)},
    "LayerNorm": (("normalized_shape", "eps", "elementwise_affine", "bias"),
                  {"eps": 1e-5, "elementwise_affine": True, "bias": True}, _layer_norm("layer_norm")),
    "RMSNorm": (("normalized_shape", "eps", "elementwise_affine"), {"eps": None, "elementwise_affine": True},
                _layer_norm("rms_norm")),
    "GroupNorm": (("num_groups", "num_channels", "eps", "affine"), {"eps": 1e-5, "affine": True}, _group_norm),
    "PReLU": (("num_parameters", "init"), {"num_parameters": 1, "init": 0.25}, _prelu),
    "Softmax2d": ((), {}, _softmax2d),
    "Unflatten": (("dim", "unflattened_size"), {}, _unflatten),
}


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
}


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
    if static(b, a["device"], "device", position) not in (None, "cpu"):
        raise JacValueError(f"nn.{cls}(): device={static(b, a['device'], 'device', position)!r}: jac computes on the "
                            "CPU with NumPy", position)
    if cls == "Embedding" and a["_weight"] is not None:
        raise JacValueError("nn.Embedding(_weight=...): write F.embedding(indices, weight) with the weight bound as "
                            "an input", position)
    sizes = {k: static_int(b, a[k], f"nn.{cls}'s {k}", position) for k in params[:2]}
    if min(sizes.values()) < 1:
        raise JacValueError(f"nn.{cls}(): {params[0]} and {params[1]} must be positive, got "
                            f"{sizes[params[0]]} and {sizes[params[1]]}", position)
    n_in, n_out = sizes[params[0]], sizes[params[1]]
    if cls == "Embedding":
        if not b.shapes_only:
            b.check_size((n_in, n_out), f"nn.Embedding's weight, shape {fmt((n_in, n_out))},", position)
        weight = _drawn(b, (n_in, n_out), lambda shape: b.rng.standard_normal(shape))  # init.normal_
        pad = a["padding_idx"]
        if pad is not None:
            pad = static_int(b, pad, "nn.Embedding's padding_idx", position)
            if not -n_in <= pad < n_in:
                raise JacValueError(f"nn.Embedding(): padding_idx={pad} must be a row (0 to {n_in - 1})", position)
            if not b.shapes_only:
                weight[pad] = 0.0  # reset_parameters' _fill_padding_idx_with_zero
        table = make("weight", weight.astype(b.dtype))
        return Module(cls, fname, {"weight": table, **{k: a[k] for k in ("padding_idx", "max_norm", "norm_type",
                                                                          "scale_grad_by_freq", "sparse")}},
                      run=_embedding_call)
    if cls == "Linear":
        shape, fan_in, call = (n_out, n_in), n_in, {}
    else:
        d = int(cls[-2])
        groups = static_int(b, a["groups"], f"nn.{cls}'s groups", position)
        if groups < 1 or n_in % groups or n_out % groups:
            raise JacValueError(f"nn.{cls}(): in_channels ({n_in}) and out_channels ({n_out}) must be multiples of "
                                f"groups ({groups})", position)
        mode = static(b, a["padding_mode"], "padding_mode", position)
        if mode != "zeros":
            raise JacValueError(f"nn.{cls}(padding_mode={mode!r}): write F.pad(x, ..., mode=...) and then the "
                                f"convolution with padding 0", position)
        kernel = static_ints(b, a["kernel_size"], f"nn.{cls}'s kernel_size", position)
        kernel = kernel * d if len(kernel) == 1 else kernel
        if len(kernel) != d or min(kernel) < 1:
            raise JacValueError(f"nn.{cls}(): kernel_size must be {d} positive sizes, got {kernel}", position)
        shape, fan_in = (n_out, n_in // groups) + tuple(kernel), n_in // groups * int(np.prod(kernel))
        call = {k: a[k] for k in ("stride", "padding", "dilation", "groups")}
    if not b.shapes_only:
        b.check_size(shape, f"nn.{cls}'s weight, shape {fmt(shape)},", position)  # before it is drawn
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) of the weight, and the bias's U(-bound, bound)
    weights = {"weight": make("weight", _drawn(b, shape, lambda shape: b.rng.uniform(-bound, bound, shape)))}
    if static(b, a["bias"], f"nn.{cls}'s bias", position):
        weights["bias"] = make("bias", _drawn(b, (n_out,), lambda shape: b.rng.uniform(-bound, bound, shape)))
    return Module(cls, fname, {**weights, **call}, run=_weighted_call)


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
    x = module.array(b, args, kwargs, position)
    return _function(module.fname)(b, [x], dict(module.kwargs), position)


def _embedding_call(b, module, args, kwargs, position):
    """nn.Embedding's forward: F.embedding(indices, weight, ...), the indices first."""
    if len(args) != 1 or kwargs:
        raise JacValueError(f"nn.{module.cls}() is called with one array of indices", position)
    return _function("embedding")(b, [args[0]], dict(module.kwargs), position)


def refused_module(name: str) -> str | None:
    """Why ``nn.NAME(...)`` is refused, for a module with parameters or random output; else None."""
    if name in OTHER:
        return f"nn.{name}(...) {OTHER[name]}"
    if name in LAYERS:
        return (f"nn.{name}(...) holds parameters drawn at random when it is made: assign it at the text's top "
                f"level, layer = nn.{name}(...), and its parameters are inputs (layer.weight, layer.bias), or bind "
                f"them as inputs and write the function, {PARAMETERS[name]}")
    if name in PARAMETERS:
        return (f"nn.{name}(...) holds parameters drawn at random when it is made, which jac cannot see: bind them "
                f"as inputs and write the function, {PARAMETERS[name]}")
    if name in RANDOM:
        return (f"nn.{name}(...) of a module just made is in training mode, random at each call (no one Jacobian); "
                f"in eval mode it is the identity: write x, or F.{RANDOM[name]}(x, training=False)")
    return None

