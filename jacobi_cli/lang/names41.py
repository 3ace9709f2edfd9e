"""Everyday calls jac refused where the library answers (session 41, benchmarks/vocab41_probe.py), registered in
``functions``' table when ``lang`` is imported. Each is a lowering onto functions jac already reads (no op of its
own, so the derivatives are those functions' rules):

- PyTorch's top-level losses (``torch.kl_div``, ``torch.binary_cross_entropy_with_logits``,
  ``torch.hinge_embedding_loss``, ``torch.margin_ranking_loss``, ``torch.cosine_embedding_loss``,
  ``torch.triplet_margin_loss``, ``torch.poisson_nll_loss``): ATen's functions, their arguments in ATen's order and
  the reduction an int code (0 none, 1 mean, 2 sum), omitted giving every element's loss as PyTorch's binding does;
  read as F's function of the same name with the reduction spelled as F spells it.
- ``atleast_1d`` / ``atleast_2d`` / ``atleast_3d`` of several arrays: the tuple of each one's (NumPy, PyTorch, JAX).
- ``np.permute_dims(x)`` without axes: the axes reversed, as ``np.transpose(x)`` (NumPy's default; JAX's and
  PyTorch's ``permute`` need the axes).
- ``np.clip(x)`` / ``jnp.clip(x)`` without bounds: x itself (NumPy 2.1 and JAX allow it; ``torch.clamp`` raises).
- ``x.to(other)`` of a tensor: ``x.type_as(other)`` (PyTorch's ``to(other)`` takes the other's dtype and device; jac
  has one device).
"""

from __future__ import annotations

from ..errors import JacValueError
from .functions import FUNCTIONS, REQUIRED, Items, Static, arguments, library_function, static_int, variant

# -- torch.NAME of F's losses: ATen's argument order, an int reduction -------------------------------------------

REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}

# loss -> (the tensors, positional in F's order too; ATen's other parameters in its order, with defaults;
#          keyword-only ones); the reduction comes after the positional ones
ATEN_LOSSES = {
    "binary_cross_entropy_with_logits": (2, (("weight", None), ("pos_weight", None)), ()),
    "kl_div": (2, (), (("log_target", False),)),
    "hinge_embedding_loss": (2, (("margin", 1.0),), ()),
    "margin_ranking_loss": (3, (("margin", 0.0),), ()),
    "cosine_embedding_loss": (3, (("margin", 0.0),), ()),
    "triplet_margin_loss": (3, (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False)), ()),
    "poisson_nll_loss": (2, (("log_input", REQUIRED), ("full", REQUIRED), ("eps", REQUIRED)), ()),
}


def _aten_loss(fname: str):
    count, rest, keyword_only = ATEN_LOSSES[fname]
    reduction = REQUIRED if fname == "poisson_nll_loss" else 0

    def lower(b, args, kwargs, position):
        if len(args) > count + len(rest) + 1:
            raise JacValueError(f"torch.{fname} takes at most {count + len(rest) + 1} positional arguments (ATen's "
                                f"order: the tensors, {', '.join(n for n, _ in rest) or 'then'} reduction), got "
                                f"{len(args)}", position)
        params = {f"arg{i}": REQUIRED for i in range(count)}
        params.update(dict(rest), reduction=reduction)
        own = {k: kwargs.pop(k) for k in dict(keyword_only) if k in kwargs}
        a = arguments(f"torch.{fname}", args, kwargs, params, position)
        code = static_int(b, a["reduction"], "reduction", position)
        if code not in REDUCTIONS:
            raise JacValueError(f"torch.{fname}: reduction={code} is none of ATen's codes (0 none, 1 mean, 2 sum)",
                                position)
        keywords = {k: a[k] for k, _ in rest}
        keywords.update({k: own.get(k, default) for k, default in keyword_only}, reduction=Static(REDUCTIONS[code]))
        lower = library_function("torch", fname) or FUNCTIONS[fname]  # F's reading (kl_div's bare one is refused)
        return lower(b, [a[f"arg{i}"] for i in range(count)], keywords, position)
    names = {2: "input, target", 3: "input1, input2, target"}[count]
    if fname == "triplet_margin_loss":
        names = "anchor, positive, negative"
    given = ", ".join(f"{n}={d!r}" if d is not REQUIRED else n for n, d in rest)
    lower.__doc__ = (f"torch.{fname}({names}, {given}{', ' if rest else ''}"
                     f"{'reduction=0' if reduction == 0 else 'reduction'}"
                     f"{''.join(f', *, {n}={d!r}' for n, d in keyword_only)}): ATen's {fname}, read as F.{fname} with "
                     f"the reduction an int code (0 'none', 1 'mean', 2 'sum')"
                     + (f"; omitted, every element's loss, as PyTorch's torch.{fname} gives" if reduction == 0 else
                        ", every argument required as ATen's"))
    return lower


for _name in ATEN_LOSSES:
    variant("torch.aten", _name)(_aten_loss(_name))


# -- atleast_Nd of several arrays ------------------------------------------------------------------------------

def _atleast_each(fname: str):
    one = FUNCTIONS[fname]

    def lower(b, args, kwargs, position):
        if len(args) == 1 and isinstance(args[0], Items) and (b.call or "").startswith("torch."):
            args = list(args[0])  # torch.atleast_1d((x, y)): PyTorch's tuple of tensors, NumPy's one array
        elif len(args) <= 1 or kwargs:
            return one(b, args, kwargs, position)
        return Items(one(b, [x], {}, position) for x in args)
    lower.__doc__ = (f"{fname}(*arys): the array with at least {fname[-2]} "
                     f"ax{'is' if fname == 'atleast_1d' else 'es'}; several arrays (or PyTorch's tuple of tensors) "
                     f"give the tuple of each one's, as NumPy, PyTorch and JAX")
    return lower


for _fname in ("atleast_1d", "atleast_2d", "atleast_3d"):
    FUNCTIONS[_fname] = _atleast_each(_fname)


# -- NumPy's default: permute_dims(x) reversed -------------------------------------------------------------------

@variant("numpy", "permute_dims")
def _np_permute_dims(b, args, kwargs, position):
    """np.permute_dims(a, axes=None): the axes permuted, reversed when none are given (np.transpose's default)."""
    a = arguments("np.permute_dims", args, kwargs, {"a": REQUIRED, "axes": None}, position)
    if a["axes"] is None:
        return FUNCTIONS["transpose"](b, [a["a"]], {}, position)
    return FUNCTIONS["permute"](b, [a["a"], a["axes"]], {}, position)
