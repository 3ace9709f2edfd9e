"""PyTorch's stateless ``torch.nn`` modules, as pasted code makes and calls them.

``nn.MSELoss(reduction='sum')``, ``nn.Softmax(dim=1)``, ``nn.ReLU()``: a module without parameters is a
function of ``torch.nn.functional`` with its constructor's arguments fixed, so ``nn.NAME(...)`` (registered
as the ``"torch.nn"`` library's spelling of ``NAME``) makes a :class:`Module` holding them, and calling it
(``criterion(logits, labels)``, ``nn.ReLU()(x)``) lowers the function with the call's arguments first:
``nn.MSELoss(reduction='sum')(a, b)`` is ``F.mse_loss(a, b, reduction='sum')``. Nothing here has a
derivative rule of its own. A module with parameters (``nn.Linear``: weights drawn at random when it is
made) or random in training mode (``nn.Dropout``: a module just made trains) is refused, saying what to
write with its parameters bound as inputs.
"""
from __future__ import annotations

from ..errors import JacValueError
from .functions import FUNCTIONS, library_function, variant

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
}
# Modules whose parameters are drawn at random when they are made, and the function to write instead
PARAMETERS = {
    "Linear": "F.linear(x, W, b), that is x @ W.T + b", "Bilinear": "F.bilinear(x1, x2, W, b)",
    "Conv1d": "F.conv1d(x, w, b)", "Conv2d": "F.conv2d(x, w, b)", "Conv3d": "F.conv3d(x, w, b)",
    "ConvTranspose1d": "F.conv_transpose1d(x, w, b)", "ConvTranspose2d": "F.conv_transpose2d(x, w, b)",
    "ConvTranspose3d": "F.conv_transpose3d(x, w, b)",
    "LayerNorm": "F.layer_norm(x, shape, w, b)", "RMSNorm": "F.rms_norm(x, shape, w)",
    "GroupNorm": "F.group_norm(x, groups, w, b)", "BatchNorm1d": "F.batch_norm(x, mean, var, w, b, training=True)",
    "BatchNorm2d": "F.batch_norm(x, mean, var, w, b, training=True)", "Embedding": "F.embedding(idx, E)",
    "PReLU": "F.prelu(x, a)", "MultiheadAttention": "F.scaled_dot_product_attention(q, k, v) of q, k, v you project",
}
RANDOM = {"Dropout": "dropout", "Dropout1d": "dropout1d", "Dropout2d": "dropout2d", "AlphaDropout": "alpha_dropout",
          "RReLU": "rrelu"}


class Sequential:
    """``nn.Sequential(m1, m2, ...)`` of modules without parameters: each applied to the one before's result."""

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
    """``nn.NAME(...)`` made: the function it calls (None: the identity) and the constructor's arguments."""

    def __init__(self, cls: str, fname: str | None, kwargs: dict):
        self.cls, self.fname, self.kwargs = cls, fname, kwargs

    def call(self, b, args: list, kwargs: dict, position):
        if self.fname is None:
            if len(args) != 1 or kwargs:
                raise JacValueError(f"nn.{self.cls}() is called with one array", position)
            return args[0]
        lower = library_function("torch", self.fname) or FUNCTIONS[self.fname]
        return lower(b, list(args), {**self.kwargs, **kwargs}, position)


def _constructor(cls: str):
    fname, params, defaults = NN[cls]

    def lower(b, args, kwargs, position):
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
        if given.get("inplace") is False:
            del given["inplace"]
        return Module(cls, fname, {**defaults, **given})
    lower.__doc__ = (f"nn.{cls}(...)(x): the module without parameters, a call of "
                     f"{'F.' + fname if fname else 'the identity'} with the constructor's arguments")
    return lower


for _cls in NN:
    variant("torch.nn", _cls)(_constructor(_cls))


@variant("torch.nn", "Sequential")
def _sequential(b, args, kwargs, position):
    """nn.Sequential(m1, m2, ...)(x) of modules without parameters: m2(m1(x)), ..."""
    if kwargs or not all(isinstance(a, (Module, Sequential)) for a in args):
        raise JacValueError("nn.Sequential() takes modules made here (nn.ReLU(), nn.Softmax(dim=1), ...)", position)
    return Sequential(list(args))


def refused_module(name: str) -> str | None:
    """Why ``nn.NAME(...)`` is refused, for a module with parameters or random output; else None."""
    if name in PARAMETERS:
        return (f"nn.{name}(...) holds parameters drawn at random when it is made, which jac cannot see: bind them "
                f"as inputs and write the function, {PARAMETERS[name]}")
    if name in RANDOM:
        return (f"nn.{name}(...) of a module just made is in training mode, random at each call (no one Jacobian); "
                f"in eval mode it is the identity: write x, or F.{RANDOM[name]}(x, training=False)")
    return None

