"""What the library named requires of a call's arguments, checked before the call is lowered (session 47,
``benchmarks/raises47_probe.py``): where PyTorch or NumPy raises TypeError at a required argument left out or given
in the other library's form, jac refuses too (an answer to a call the library refuses is a silent surprise: the
user's real code would crash, or means something else).

One table per kind of fact, read by :func:`check` (the parser's ``call``, after ``lookup`` named the library):

- :data:`TORCH_REQUIRED`: PyTorch's functions and tensor methods whose argument is required (``torch.logsumexp(x)``
  is PyTorch's TypeError "missing 1 required positional arguments: dim"), and :data:`NUMPY_REQUIRED` NumPy's;
- :data:`NUMPY_FOREIGN_KEYWORDS`: PyTorch's keywords (``dim=``, ``keepdim=``) given to a NumPy function or a NumPy
  text's method; :data:`TORCH_PYTHON_LEVEL`: PyTorch's functions written in Python (``torch.nn.functional``'s,
  ``torch.norm``), which take no ``axis=`` / ``keepdims=`` (ATen's functions take them as aliases of ``dim`` /
  ``keepdim``); :data:`TORCH_DIMS`: those whose parameter is ``dims`` (``torch.flip(x, dim=0)``);
- :data:`TORCH_ONE_DIM`: PyTorch's reductions that take one int dim, not a tuple (``torch.prod(x, (0, 1))``), and
  :data:`TORCH_TUPLE_AT`: its functions that take a tuple only (``torch.flip(x, 0)``);
- :data:`TORCH_BOOL_AT`: PyTorch's bool parameters given an int (``x.sum(0, 1)``: "argument 'keepdim' must be bool,
  not int");
- :data:`TORCH_TENSOR_AT`: PyTorch's arguments that must be a tensor, not a Python number or a list
  (``torch.maximum(x, 0)``), :data:`TORCH_NO_SEQUENCE_AT` a number or a tensor (``torch.clamp(x, (0,))``,
  ``torch.add(x, (0, 1))``: a list or tuple written in the text is no tensor to PyTorch);
- :data:`POSITIONAL_LIMIT`: more positional arguments than the library takes (``torch.relu(x, 0)``);
- NumPy's: an array, a str or a dtype in its place (:func:`_numpy_checks`), ``np.clip(x, 0)`` without a_max, an
  attribute called (``np.asarray(x).size()``); both libraries' ``flipud`` / ``fliplr`` of too few dimensions.

A method is PyTorch's where the text names PyTorch only (the parser's ``dialect``) or no ndarray has the method;
NumPy's where the text names NumPy only; in a text naming neither, both are asked: a refusal where both raise
(``x.reshape()``), the reading that answers where one does (``x.transpose()`` is NumPy's, ``x.cumsum()`` NumPy's
flattened sum), as ``functions._method_transpose`` reads ``x.transpose(0, 2)``.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacParseError, JacValueError, did_you_mean
from ..ir.graph import Tracer

# name -> (the parameter after the tensor, the keywords that give it, what to write). The function spelling
# (torch.NAME) and the method (x.NAME) both; "torch" only where the method is not PyTorch's (or not checked)
TORCH_REQUIRED = {
    "logsumexp": ("dim", ("dim", "axis"), "write {call}(x, dim={every}) for the log-sum-exp of every element"),
    "softmax": ("dim", ("dim", "axis"), "write {call}(x, dim=-1) for the last axis"),
    "log_softmax": ("dim", ("dim", "axis"), "write {call}(x, dim=-1) for the last axis"),
    "flip": ("dims", ("dims",), "write {call}(x, dims={every}) to reverse every axis, or np.flip(x)"),
    "frobenius_norm": ("dim", ("dim", "axis"), "write torch.linalg.norm(x) for the norm of every element"),
    "permute": ("dims", ("dims",), "write x.permute(1, 0) (every axis, in their new order), or x.T / x.mT"),
    "permute_copy": ("dims", ("dims",), "write torch.permute_copy(x, (1, 0)) (every axis, in their new order)"),
    "reshape": ("shape", ("shape",), "give the new shape: {call}(x, (2, 3)) or x.reshape(-1)"),
    "view": ("size", ("size", "dtype"), "give the new shape: x.view(2, 3) or x.view(-1)"),
    "view_copy": ("size", ("size", "dtype"), "give the new shape: torch.view_copy(x, (2, 3))"),
    "expand": ("size", ("size",), "give the shape to broadcast to: x.expand(2, 3)"),
    "expand_copy": ("size", ("size",), "give the shape to broadcast to: torch.expand_copy(x, (2, 3))"),
    "new_ones": ("size", ("size",), "give the shape: x.new_ones((2, 3))"),
    "new_zeros": ("size", ("size",), "give the shape: x.new_zeros((2, 3))"),
    "new_empty": ("size", ("size",), "give the shape: x.new_empty((2, 3))"),
    "transpose": ("dim0 and dim1", ("dim0", "dim1"), "PyTorch's transpose swaps two dims: x.transpose(0, 1), or "
                  "x.T / x.mT; np.transpose(x) reverses every axis"),
}
# of those, the ones that need more than one argument (PyTorch's transpose: dim0 and dim1)
REQUIRED_COUNT = {"transpose": 2}
# of those, the ones refused from this rank on: the contract (../shared/CONTRACT.md, tests/test_contract35.py) lists
# torch.logsumexp(x) and torch.softmax(x) of a vector as read, and there the one axis is every element, so no dim
# changes the answer; of a matrix the dim left out does (every element's, or one axis'), and jac refuses as PyTorch
REQUIRED_FROM_RANK = {"logsumexp": 2, "softmax": 2, "log_softmax": 2}
# of those, the ones whose method and torch.NAME PyTorch requires it of, but F.NAME (torch.nn.functional) does not:
# F.softmax(x) answers along an implicit dim (with a warning), which jac reads elsewhere
F_ANSWERS = frozenset(("softmax", "log_softmax"))
NUMPY_REQUIRED = {
    "reshape": ("shape", ("shape", "newshape"), "give the new shape: np.reshape(x, (2, 3)) or x.reshape(-1)"),
}
# PyTorch's keywords, which NumPy's functions and ndarray's methods do not take (TypeError "unexpected keyword
# argument 'dim'"), with NumPy's own
NUMPY_FOREIGN_KEYWORDS = {"dim": "axis", "keepdim": "keepdims", "dims": "axes", "dim0": "axis1", "dim1": "axis2"}
# NumPy's functions whose own parameter has one of those names (np.ravel_multi_index(multi_index, dims))
NUMPY_OWN_KEYWORDS = {"ravel_multi_index": frozenset(("dims",))}
# PyTorch's functions written in Python, whose keywords have no NumPy aliases: torch.nn.functional's, torch.norm
# and Tensor.norm (ATen's functions, torch.linalg.norm too, take axis= for dim= and keepdims= for keepdim=)
TORCH_PYTHON_LEVEL = frozenset(("norm",))
TORCH_FOREIGN_KEYWORDS = {"axis": "dim", "keepdims": "keepdim"}
# PyTorch's functions whose dims parameter is named dims and is a tuple only (torch.flip(x, 0) is its TypeError
# "argument 'dims' must be tuple of ints, not int"; dim= and axis= are no aliases of it)
TORCH_DIMS = frozenset(("flip",))
# PyTorch's reductions that take one int dim: a tuple is its TypeError ("argument 'dim' must be int, not tuple")
TORCH_ONE_DIM = frozenset(("max", "min", "prod", "aminmax"))
# PyTorch's names of the second operand where they are not ``other`` (session 52, kwforms52_probe): ``other=`` there
# is PyTorch's TypeError (jac read it as its alias of y), and mat2= / vec= / tensor= are read (jac refused them)
TORCH_SECOND_OPERAND = {"pow": "exponent", "mm": "mat2", "bmm": "mat2", "mv": "vec", "dot": "tensor", "outer": "vec2"}
# the operands of NumPy's ufuncs are positional only: np.tanh(a=x), np.add(x1=a, x2=b) raise TypeError
NUMPY_OPERAND_KEYWORDS = ("x", "a", "input", "x1", "x2", "y", "b", "other")


def torch_operand_keywords(parser, kind: str, module: str | None, fname: str, kwargs: dict) -> dict:
    """``torch.mm(input=A, mat2=B)``: PyTorch's own name of the second operand read as jac's ``y`` (after
    :func:`check` refused ``other=`` there)."""
    name = TORCH_SECOND_OPERAND.get(fname)
    if name in ("mat2", "vec", "tensor") and name in kwargs and reading(parser, kind, module, fname) == "torch" \
            and module not in ("F", "torch.nn.functional", "nn.functional"):
        return {("y" if k == name else k): v for k, v in kwargs.items()}
    return kwargs


# NumPy's and JAX's functions naming their two operands a and b (np.dot(a=A, b=B), jnp.matmul(a=A, b=B)), b read as
# jac's y (a is an alias of x everywhere); np.matmul and np.inner take theirs by position (session 52)
AB_OPERANDS = {"numpy": frozenset(("dot", "outer", "kron", "tensordot", "cross")),
               "jax": frozenset(("dot", "matmul", "vdot", "outer", "inner", "kron", "tensordot", "cross"))}


def ab_operand_keywords(module: str | None, fname: str, kwargs: dict) -> dict:
    lib = "numpy" if module in ("np", "numpy") else "jax" if module in ("jnp", "jax.numpy") else None
    if lib is not None and "b" in kwargs and fname in AB_OPERANDS[lib]:
        return {("y" if k == "b" else k): v for k, v in kwargs.items()}
    return kwargs


# PyTorch's functions and methods (not F's) that raise TypeError at a dim written as None (session 52,
# kwforms52_probe): "argument 'dim' must be int, not NoneType"; its sum, mean, std, var, amax, norm answer (F's
# softmax reads dim=None as its implicit dim)
TORCH_DIM_NOT_NONE = {"prod": "omit dim for every element", "max": "omit dim for every element",
                      "min": "omit dim for every element", "median": "omit dim for every element",
                      "nanmedian": "omit dim for every element", "logsumexp": "write dim={every} for every element",
                      "softmax": "write dim=-1 for the last axis", "log_softmax": "write dim=-1 for the last axis",
                      "sort": "write dim=-1 for the last axis", "argsort": "write dim=-1 for the last axis",
                      "squeeze": "omit dim to drop every axis of length 1"}
# positions (the tensor or a method's receiver at 0) where PyTorch takes a bool: an int is its TypeError ("argument
# 'keepdim' (position 3) must be bool, not int"): a reduction's keepdim, a sort's descending, qr's some
TORCH_BOOL_AT = {**dict.fromkeys(("sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "logsumexp", "max", "min",
                                  "median", "nanmedian", "mode", "nansum", "nanmean", "all", "any", "argsort", "sort",
                                  "std", "var", "combinations", "vander", "isin", "searchsorted"), (2,)),
                 "qr": (1,), "lu": (1,)}
BOOL_NAMES = {"lu": "pivot", "argsort": "descending", "sort": "descending", "qr": "some",
              "combinations": "with_replacement",
              "vander": "increasing", "isin": "assume_unique", "searchsorted": "out_int32"}
# positions where PyTorch needs a Tensor (no Scalar overload): a Python number, a list or a tuple there is its
# TypeError "argument 'other' (position 2) must be Tensor, not int"
_SECOND = ("allclose", "arctan2", "atan2", "dist", "equal", "fmax", "fmin", "heaviside", "hypot", "igamma", "igammac",
           "inner", "is_same_size", "isclose", "kron", "ldexp", "logaddexp", "logaddexp2", "logical_and", "logical_or",
           "logical_xor", "maximum", "minimum", "nextafter", "type_as", "vecdot", "cosine_similarity",
           "pairwise_distance", "prelu", "hinge_embedding_loss", "kl_div", "l1_loss", "mse_loss",
           "multi_margin_loss", "smooth_l1_loss", "soft_margin_loss", "huber_loss", "dot", "take",
           "take_along_dim", "embedding", "lerp", "put", "outer", "ger", "orgqr", "householder_product")
TORCH_TENSOR_AT = {**dict.fromkeys(_SECOND, (1,)), "addcdiv": (1, 2), "addcmul": (1, 2), "index_select": (2,),
                   "block_diag": tuple(range(1, 16)), "cartesian_prod": tuple(range(1, 16)),
                   "margin_ranking_loss": (1, 2), "triplet_margin_loss": (1, 2),
                   "masked_fill": (1,), "where": (0,)}  # the mask, the condition: no Python bool (session 48)
# of those, the ones whose list jac still reads as a tensor (PyTorch raises there too): tests/test_parity_reductions.py
# and test_parity_shapes_linalg.py read F.soft_margin_loss(x, [1, -1, ...]), torch.take(A, [5, 0]) and the like as
# PyTorch's call with torch.tensor of the list; a later session may refuse them and change those tests (so
# F.cross_entropy / F.nll_loss, whose targets those tests give as a list or an int, are left out above)
TENSOR_LIST_KEPT = frozenset(("soft_margin_loss", "margin_ranking_loss", "index_select", "take_along_dim", "take"))
# positions where PyTorch takes a number or a tensor, never a list or tuple (clamp's bounds)
TORCH_NO_SEQUENCE_AT = {**dict.fromkeys(("clamp", "clip"), (1, 2)),
                        **dict.fromkeys(("clamp_min", "clamp_max", "repeat_interleave",
                                         "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide",
                                         "true_divide", "floor_divide", "fmod", "remainder", "pow", "float_power",
                                         "xlogy", "copysign", "eq", "ne", "not_equal", "ge", "gt", "le", "lt",
                                         "greater", "greater_equal", "less", "less_equal", "bucketize", "trapezoid",
                                         "trapz", "cumulative_trapezoid", "multilabel_soft_margin_loss"), (1,))}
# the keywords the first of those positions may be given by
TENSOR_KEYWORDS = ("other", "target", "x2", "weight", "values", "y", "index", "indices", "end", "tensor1", "vec2",
                   "q", "min", "max", "repeats", "input2", "tau", "positive", "mask", "condition")
# positions where PyTorch's function takes a tuple of ints only ("argument 'dims' (position 2) must be tuple of
# ints, not int"); its method takes the ints one by one (x.tile(2), x.permute(1, 0)) unless named here too
TORCH_TUPLE_AT = {"flip": (1,), "tile": (1,), "permute": (1,), "permute_copy": (1,), "as_strided": (1,), "full": (0,),
                  "as_strided_copy": (1,)}
TORCH_METHOD_TUPLE_AT = {"as_strided": (1,), "new_full": (1,)}
# functions that take at most this many positional arguments (the tensor counted; a method's receiver too), where
# jac's shared lowering would read one more: torch.relu(x, 0) (F.relu's second is inplace), torch.linalg.diagonal's
# keyword-only offset, np.cumulative_sum's keyword-only axis, a ufunc's out (np.rint(x, 0)). Keyed by the reading
# (:func:`_limit_key`) and the name
POSITIONAL_LIMIT = {("torch", "relu"): 1, ("torch", "selu"): 1, ("torch", "ravel"): 1, ("torch", "take"): 2,
                    ("torch", "permute"): 2, ("torch", "permute_copy"): 2, ("torch", "round"): 1,
                    ("torch.linalg", "diagonal"): 1, ("torch.linalg", "lu"): 1, ("F", "gelu"): 1,
                    ("torch.linalg", "inv_ex"): 1, ("torch.linalg", "lu_factor"): 1,
                    ("torch.linalg", "lu_factor_ex"): 1,
                    ("numpy", "cumulative_sum"): 1, ("numpy", "cumulative_prod"): 1, ("np.linalg", "diagonal"): 1,
                    ("np.linalg", "vector_norm"): 1, ("numpy", "ravel"): 2, ("numpy", "rint"): 1,
                    ("scipy", "logit"): 1, ("scipy", "round"): 1,
                    ("torch-method", "relu"): 1, ("torch-method", "ravel"): 1, ("torch-method", "take"): 2,
                    ("torch-method", "round"): 1, ("both-method", "ravel"): 2}
# NumPy: positions where it takes an array (np.take_along_axis's indices: "'tuple' object has no attribute
# 'dtype'"), a str (order=: "order must be str, not int"), a dtype (the third argument of nanstd / nanvar)
NUMPY_ARRAY_AT: dict = {}  # np.take_along_axis(A, [[0, 2]], 1) raises; test_parity_shapes_linalg reads it (left)
NUMPY_STR_AT = {"ravel": (1,)}
NUMPY_METHOD_STR_AT = {"flatten": (1,), "ravel": (1,)}
NUMPY_DTYPE_AT = {"nanstd": (2,), "nanvar": (2,)}
# ndarray's attributes, which a NumPy text calls as PyTorch's methods (x.size(): "'int' object is not callable")
# (not size: x.size() is PyTorch's method, and a text naming NumPy may hold tensors, np.ones(x.size()), session 32)
NUMPY_ATTRIBUTES = frozenset(("shape", "ndim", "dtype"))
# methods both libraries refuse a number at (x.ravel(0): PyTorch's ravel takes none, NumPy's order= a str)
BOTH_RAISE_AT_NUMBER = frozenset(("ravel",))
# arrays of rank below this, which flipud / fliplr refuse in both libraries ("Input must be >= 1-d.")
MIN_RANK = {"flipud": 1, "fliplr": 2}


# jac's module path -> the namespace lang/kwnames.py keys (session 53): each library's own keyword names, read off
# its functions' signatures (PyTorch's builtins: their ATen schemas)
KEYWORD_TABLES = {"np": "numpy", "numpy": "numpy", "np.linalg": "numpy.linalg", "numpy.linalg": "numpy.linalg",
                  "scipy.special": "scipy.special", "jnp": "jax.numpy", "jax.numpy": "jax.numpy",
                  "jnp.linalg": "jax.numpy.linalg", "jax.numpy.linalg": "jax.numpy.linalg", "jax.nn": "jax.nn",
                  "jax.scipy.special": "jax.scipy.special", "torch": "torch", "F": "torch.nn.functional",
                  "torch.nn.functional": "torch.nn.functional", "nn.functional": "torch.nn.functional",
                  "torch.linalg": "torch.linalg", "torch.special": "torch.special"}
LIBRARY_OF_TABLE = {"numpy": "NumPy", "scipy": "SciPy", "jax": "JAX", "torch": "PyTorch"}
# the NumPy names PyTorch's argument parser reads for its own (python_arg_parser.cpp's numpy_compatibility_arg_names)
TORCH_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input",
                     "x2": "other"}
# the library's second parameter names that are an operand: given by keyword after the first by position, it is
# passed on by position (torch.add(A, x2=B), torch.linalg.lstsq(A, b=B)), as the library reads it
SECOND_OPERANDS = frozenset(("other", "b", "B", "y", "x2", "exponent", "mat2", "vec", "tensor", "vec2", "tensor2"))


def library_keywords(parser, kind: str, fname: str, module: str | None, args: list, kwargs: dict,
                     position: int) -> tuple:
    """The call's arguments as the library named reads its keywords (session 53, ``benchmarks/kwforms53_probe.py``):
    a keyword it does not take is refused, whatever alias jac's lowering would read it as (jac's lowerings share
    ``a=`` / ``input=`` for ``x`` and ``dim=`` for ``axis`` across the libraries, which answered ``jnp.tanh(a=x)``,
    ``jax.nn.relu(input=x)``, ``jnp.sum(x, dim=0)``, ``jax.nn.softmax(x, dtype=...)``, ``torch.add(x, y=z)`` where
    the library raises TypeError); the first operand, and an operand second, given by the library's own keyword
    are passed on by position (``torch.abs(x1=x)``, ``torch.add(x, x2=y)``, ``torch.fliplr(a=x)``: PyTorch reads
    NumPy's names, :data:`TORCH_NUMPY_NAMES`). The names are ``lang/kwnames.py``'s; a function it lacks, or one
    taking ``**kwargs``, is left as it was. Returns ``(args, kwargs)``."""
    if not kwargs:
        return args, kwargs
    if kind == "method":
        space = "torch.Tensor" if reading(parser, kind, module, fname) == "torch" else None
    else:
        space = KEYWORD_TABLES.get(module)
    if space is None:
        return args, kwargs
    found = library_signature(space, fname)
    if found is None:
        return args, kwargs
    positional, leading, keywords = (part.split() for part in found.split(" / "))
    aten = positional == ["@"]
    if aten:
        positional = []
    names = set(leading) | set(keywords)
    own = {}
    for k in kwargs:
        name = k if k in names else TORCH_NUMPY_NAMES.get(k) if aten else None
        if name not in names:
            _refuse_keyword(space, module, fname, k, positional, leading + keywords, position)
        own[k] = name
    if aten:  # PyTorch's own names, as its argument parser reads NumPy's: torch.sum(x, keepdims=True) is keepdim=
        kwargs = {own[k]: v for k, v in kwargs.items()}
        own = {name: name for name in own.values()}
    at = len(args) - (kind == "method")
    if positional or at > 1:  # the leading names start past the positional-only ones: none is an operand
        return args, kwargs
    args, kwargs = list(args), dict(kwargs)
    while at < min(len(leading), 2) and (at == 0 and kind != "method" or leading[at] in SECOND_OPERANDS):
        typed = next((k for k, name in own.items() if name == leading[at] and k in kwargs), None)
        if typed is None:
            break
        args.append(kwargs.pop(typed))
        at += 1
    return args, kwargs


def library_signature(space: str, fname: str) -> str | None:
    """lang/kwnames.py's entry of ``fname`` in ``space`` (``"POSITIONAL / LEADING / KEYWORDS"``), or None."""
    from . import kwnames
    text = kwnames.TABLES[space]
    at = text.find(f"\n{fname}:")
    if at < 0:
        return None
    start = at + len(fname) + 2
    return text[start:text.find("\n", start)]


def scipy_ufunc(fname: str) -> bool:
    """Whether ``scipy.special.<fname>`` is a ufunc (its signature ends NumPy's ufunc keywords), which takes
    ``dtype=`` as NumPy's do (``functions.numpy_dtype``)."""
    found = library_signature("scipy.special", fname) or ""
    return found.endswith("signature") and " dtype " in found


def _torch_builtin(module, fname: str, kwargs: dict) -> bool:
    """``F.cosine_similarity``, ``F.pairwise_distance``: an ``F.`` function that is one of PyTorch's builtins (its
    ATen schema's entry in lang/kwnames.py), whose argument parser takes ``axis=`` / ``keepdims=`` as ATen's other
    functions do (session 53)."""
    if not any(k in TORCH_FOREIGN_KEYWORDS for k in kwargs) or module not in ("F", "torch.nn.functional",
                                                                                "nn.functional"):
        return False
    return (library_signature("torch.nn.functional", fname) or "").startswith("@")


def _refuse_keyword(space, module, fname, k, positional, accepted, position) -> None:
    lib = LIBRARY_OF_TABLE[space.split(".")[0]]
    call = f"x.{fname}" if space == "torch.Tensor" else f"{module}.{fname}"
    if k in positional:
        raise JacParseError(f"{call}() takes {k} by position only ({lib} raises TypeError at {k}=): write "
                            f"{call}({k}, ...) without the name", position)
    takes = _takes(positional, accepted)
    if k == "out":
        raise JacParseError(f"{call}() has no argument 'out' ({lib}'s {call} takes {takes}; it raises TypeError): "
                            "drop out= and use the value the call returns", position)
    raise JacParseError(f"{call}() has no argument '{k}': {lib}'s {call} takes {takes} (it raises TypeError)"
                        f"{_instead(k, positional, accepted)}", position)


def _takes(positional: list, keywords: list) -> str:
    named = [p for p in positional if p != "*"]
    parts = (["its operands by position"] if "*" in positional else []) + \
        ([", ".join(named) + " by position only"] if named else [])
    if keywords:
        parts.append(", ".join(keywords) + (" by keyword" if parts else ""))
    return "; ".join(parts) or "no keyword"


# the keywords that mean one thing under the libraries' spellings (jac's aliases: functions.ALIASES), for the
# refusal's "write axis=" in the library's own name
SYNONYMS = (("dim", "axis", "dims", "axes"), ("keepdim", "keepdims"), ("input", "x", "a", "x1", "A"),
            ("other", "y", "b", "x2", "exponent"), ("p", "ord"), ("a_min", "min"), ("a_max", "max"),
            ("ddof", "correction", "unbiased"))


def _instead(typed: str, positional: list, keywords: list) -> str:
    """``: write axis=`` where the library takes what ``typed`` means to jac's aliases by another name."""
    same = next((group for group in SYNONYMS if typed in group), ())
    for name in keywords:
        if name in same:
            return f": write {name}="
    if positional and (any(name in same for name in positional) or typed in NUMPY_OPERAND_KEYWORDS + SYNONYMS[3]):
        return ": pass it by position"
    close = did_you_mean(typed, keywords)  # keep_dim: a typo of keepdim
    return f"{close}" if close else f": drop {typed}="


def reading(parser, kind: str, module: str | None, fname: str) -> str | None:
    """Which library reads the call: ``"torch"``, ``"numpy"``, ``"both"`` (a method in a text naming neither, which
    ndarray has too) or None (a bare function, JAX's, SciPy's linalg, ...: nothing checked here)."""
    if kind == "method":
        if getattr(parser, "jax_reading", False):
            return None
        dialect = getattr(parser, "dialect", None)
        if dialect is not None:
            return dialect
        return "both" if hasattr(np.ndarray, fname) else "torch"
    if module is None:
        return None
    if module in ("torch", "F", "torch.nn.functional", "torch.linalg", "torch.special", "nn.functional"):
        return "torch"
    if module in ("np", "numpy", "np.linalg", "numpy.linalg", "scipy.special"):
        return "numpy"
    return None


def _limit_key(lib, kind, module):
    if kind == "method":
        return f"{lib}-method"  # "both-method": where both readings take no more
    if module in ("F", "torch.nn.functional", "nn.functional"):
        return "F"
    return {"torch.linalg": "torch.linalg", "np.linalg": "np.linalg", "numpy.linalg": "np.linalg",
            "scipy.special": "scipy"}.get(module, lib)


def _spelled(kind: str, module: str | None, fname: str) -> str:
    return f"x.{fname}" if kind == "method" else f"{module}.{fname}"


def _given(args: list, kwargs: dict, at: int, names) -> bool:
    return len(args) > at or any(k in kwargs for k in names)


def _is_tuple(b, value) -> bool:
    """A constant tuple or list of ints given as a dim (``(0, 1)``, ``[0]``): a display, or a Static tuple."""
    if isinstance(value, (tuple, list)):
        return True
    if isinstance(value, Tracer):
        return value.id in b.displays or (b.nodes[value.id].op == "const" and value.ndim == 1)
    inner = getattr(value, "value", None)
    return isinstance(inner, (tuple, list))


def _is_display(b, value) -> bool:
    """A list or tuple written in the text (a display made a constant that no torch.tensor / np.asarray took)."""
    return isinstance(value, Tracer) and value.id in b.displays or type(value) in (tuple, list)


def python_number(b, value) -> bool:
    """A Python number written in the text (``0``, ``0.5``, a name bound to one, a comparison of two: a bool):
    no tensor."""
    if type(value) in (int, float, bool):
        return True
    return isinstance(value, Tracer) and value.ndim == 0 and (value.id in b.pyints or value.id in b.floats
                                                               or value.id in b.pybools)


def number_method(b, receiver, fname: str, position: int) -> None:
    """``1.5.abs()``, ``t = 0.0; t.div_(2.0)``: a method of a Python number the text wrote (an int or a float, no
    tensor and no NumPy scalar), which Python's int and float lack: every library's reading raises AttributeError
    (session 48, torchprog37_fuzz), where jac read the number as a 0-d tensor."""
    if not python_number(b, receiver):
        return
    kind = bool if type(receiver) is bool or isinstance(receiver, Tracer) and receiver.id in b.pybools else \
        int if (type(receiver) is int or isinstance(receiver, Tracer) and receiver.id in b.pyints
                and receiver.id not in b.floats) else float
    if hasattr(kind, fname):
        return
    raise JacValueError(f"'{kind.__name__}' object has no attribute '{fname}': a Python number is no tensor (Python "
                        f"raises AttributeError); write torch.tensor(VALUE).{fname}(...) or np.float64(VALUE)",
                        position)


def _int_literal(b, value) -> bool:
    return isinstance(value, Tracer) and value.ndim == 0 and value.id in b.pyints


def check(parser, kind: str, fname: str, module: str | None, args: list, kwargs: dict, position: int,
          in_place: bool = False) -> None:
    """Refuse the call where the library that reads it raises TypeError at its arguments (see the module's
    docstring); return None otherwise. ``args`` holds the receiver first for a method, the tensor first for a
    function, as the lowerings take them. ``in_place``: PyTorch's ``x.<fname>_(...)`` (session 48: ``t.lerp_(2.0,
    0.3)``, ``t.addcmul_(1.5, 1.5)`` were answered), checked as its method ``x.<fname>(...)``."""
    lib = "torch" if in_place else reading(parser, kind, module, fname)
    if lib is None:
        return
    if lib == "both" and any(k in NUMPY_FOREIGN_KEYWORDS for k in kwargs):
        lib = "torch"  # x.prod(dim=0): no ndarray method takes dim=, so only PyTorch's reading is left
    b = parser.b
    call = _spelled(kind, module, fname) + ("_" if in_place else "")
    limit = POSITIONAL_LIMIT.get((_limit_key(lib, kind, module), fname))
    if limit is not None and len(args) > limit:
        more = "approximate= is a keyword" if fname == "gelu" else "its other arguments are keywords"
        raise JacParseError(f"{call}() takes {limit - (kind == 'method')} positional argument(s) but "
                            f"{len(args) - (kind == 'method')} were given (the library raises TypeError: {more})",
                            position)
    _required(lib, kind, module, fname, call, args, kwargs, position)
    rank = MIN_RANK.get(fname)
    if rank is not None and args and isinstance(args[0], Tracer) and args[0].ndim < rank:
        raise JacValueError(f"{call}() needs an array of {rank} or more dimensions, not {args[0].ndim} (NumPy and "
                            f"PyTorch raise: \"Input must be >= {rank}-d.\")", position)
    if lib == "numpy":
        foreign = sorted(k for k in kwargs if k in NUMPY_FOREIGN_KEYWORDS
                         and k not in NUMPY_OWN_KEYWORDS.get(fname, ()))
        if foreign:
            k = foreign[0]
            raise JacParseError(f"{call}() takes no {k}= (NumPy raises TypeError: '{k}' is PyTorch's keyword); "
                                f"write {NUMPY_FOREIGN_KEYWORDS[k]}=", position)
        _numpy_checks(b, kind, fname, call, args, kwargs, position)
        return
    if lib == "both" and fname in BOTH_RAISE_AT_NUMBER and len(args) > 1 and python_number(b, args[1]):
        raise JacParseError(f"{call}() of a number is refused by both libraries (PyTorch's takes no argument, "
                            "NumPy's takes order=, a str, and raises TypeError at a number)", position)
    for at in TORCH_BOOL_AT.get(fname, ()):
        if len(args) > at and (_int_literal(b, args[at]) or _is_display(b, args[at])) \
                and (lib == "torch" or at == 2):
            which = BOOL_NAMES.get(fname, "keepdim")
            both = "" if lib == "torch" else \
                "; NumPy's reads its third argument as a dtype, out or kind, and raises too"
            raise JacParseError(f"{call}(): argument '{which}' (position {at + 1}) must be a bool (PyTorch "
                                f"raises TypeError at an int or a tuple{both}): write {which}=True", position)
    if lib == "torch":
        _torch_checks(b, kind, module, fname, call, args, kwargs, position, grad_on=not parser.grad_off)


def _torch_checks(b, kind, module, fname, call, args, kwargs, position, grad_on: bool = True) -> None:
    """PyTorch's TypeErrors at an argument's form: the other library's keyword, a tuple or an int in the other's
    place, a number or a list where it needs a tensor."""
    if (module in ("F", "torch.nn.functional", "nn.functional") or fname in TORCH_PYTHON_LEVEL
            and module != "torch.linalg") and not _torch_builtin(module, fname, kwargs):
        foreign = sorted(k for k in kwargs if k in TORCH_FOREIGN_KEYWORDS)
        if foreign:
            k = foreign[0]
            raise JacParseError(f"{call}() takes no {k}= (PyTorch's {call} is a Python function: it raises "
                                f"TypeError, {k}= is no alias there): write {TORCH_FOREIGN_KEYWORDS[k]}=", position)
    if fname in TORCH_DIMS:
        wrong = sorted(k for k in kwargs if k in ("dim", "axis"))
        if wrong:
            raise JacParseError(f"{call}() takes dims=, not {wrong[0]}= (PyTorch raises TypeError)", position)
    for at in (TORCH_TUPLE_AT if kind == "function" else TORCH_METHOD_TUPLE_AT).get(fname, ()):
        if fname == "new_full" and len(args) < 3:
            continue  # x.new_full(3): its missing fill_value, the lowering's own refusal, says more
        if len(args) > at and _int_literal(b, args[at]):
            raise JacParseError(f"{call}(): its argument at position {at + 1} must be a tuple of ints, not an int "
                                "(PyTorch raises TypeError): write (0,) for one", position)
    if fname == "transpose" and any(len(args) > at and _is_tuple(b, args[at]) for at in (1, 2)):
        raise JacParseError(f"{call}(): dim0 and dim1 must be ints, not a tuple (PyTorch raises TypeError: its "
                            "transpose swaps two dims; x.permute(...) takes a new order of every axis)", position)
    if fname in TORCH_SECOND_OPERAND and "other" in kwargs and module not in ("F", "torch.nn.functional",
                                                                              "nn.functional"):
        raise JacParseError(f"{call}() has no argument 'other': PyTorch's {fname} names its second operand "
                            f"'{TORCH_SECOND_OPERAND[fname]}' (it raises TypeError): write "
                            f"{TORCH_SECOND_OPERAND[fname]}= or pass it by position", position)
    if fname in TORCH_DIM_NOT_NONE and module not in ("F", "torch.nn.functional", "nn.functional"):
        if len(args) > 1 and args[1] is None or any(k in kwargs and kwargs[k] is None for k in ("dim", "axis")):
            every = tuple(range(args[0].ndim)) if args and isinstance(args[0], Tracer) else (0,)
            raise JacParseError(f"{call}(): dim=None is no dim to PyTorch's {fname} (it raises TypeError: its dim "
                                f"must be {'ints' if fname == 'logsumexp' else 'an int'}, not None): "
                                + TORCH_DIM_NOT_NONE[fname].format(every=every), position)
    if fname in TORCH_ONE_DIM:
        if fname == "aminmax" and len(args) > 1:
            raise JacParseError(f"{call}() takes dim= as a keyword only (PyTorch raises TypeError at a positional "
                                "dim)", position)
        dim = args[1] if len(args) > 1 and fname not in ("max", "min") else kwargs.get("dim", kwargs.get("axis"))
        if dim is not None and _is_tuple(b, dim):  # torch.max(x, (0,)): the lowering's refusal names torch.maximum
            other = "x.prod(0).prod(0), or np.prod(x, axis=(0, 1))" if fname == "prod" else \
                "torch.aminmax(x) for every element" if fname == "aminmax" else f"x.a{fname}(dim=(0, 1))"
            raise JacParseError(f"{call}(): dim must be one int, not a tuple (PyTorch raises TypeError: its {fname} "
                                f"reduces one dim); write {other}", position)
    if fname in ("clamp", "clip"):
        _clamp_kinds(b, fname, call, args, kwargs, position, grad_on)
    for table, numbers in ((TORCH_TENSOR_AT, True), (TORCH_NO_SEQUENCE_AT, False)):
        for i, at in enumerate(table.get(fname, ())):
            value = args[at] if len(args) > at else None
            if value is None and i == 0:
                value = next((kwargs[k] for k in TENSOR_KEYWORDS if k in kwargs), None)
            if value is None:
                continue
            if numbers and python_number(b, value):
                raise JacValueError(f"{call}(): its argument at position {at + 1} must be a tensor, not a Python "
                                    "number (PyTorch raises TypeError: it has no number overload there); write "
                                    "torch.tensor(VALUE) or torch.full_like(x, VALUE)", position)
            if _is_display(b, value) and fname not in TENSOR_LIST_KEPT:
                raise JacValueError(f"{call}(): its argument at position {at + 1} must be "
                                    f"{'a tensor' if numbers else 'a number or a tensor'}, not a list or tuple "
                                    "(PyTorch raises TypeError); wrap it in torch.tensor(...)", position)


def _clamp_kinds(b, fname, call, args, kwargs, position, grad_on: bool = True) -> None:
    """``torch.clamp(x, B, max=0.75)``: a tensor bound beside a number bound, which PyTorch's two overloads
    (``Tensor? min, Tensor? max`` and ``Scalar? min, Scalar? max``) both refuse (TypeError: "received an invalid
    combination of arguments"), where jac's lowering took each bound as it came (session 54). A 0-d tensor passes
    for a number where it requires no grad (``torch.clamp(x, torch.tensor(0.1), 0.5)`` is answered, as PyTorch's
    argument parser reads it as a Scalar), and is refused where it does (``torch.clamp(x, s, 0.5)`` of an input
    ``s``: PyTorch raises the same TypeError, where jac answered with a derivative in s; session 54, h54-left)."""
    bounds = [args[at] if len(args) > at else kwargs.get(name) for at, name in ((1, "min"), (2, "max"))]
    if any(v is None or _is_display(b, v) for v in bounds):
        return  # one bound, or a list: TORCH_NO_SEQUENCE_AT's refusal
    numbers = [python_number(b, v) for v in bounds]
    # a 0-d value may be x.item()'s number: a tensor where it carries a gradient (.item()'s never does)
    tensors = [isinstance(v, Tracer) and (v.ndim >= 1 or grad_on and not numbers[k] and b.nodes[v.id].requires_grad)
               for k, v in enumerate(bounds)]
    if not (numbers[0] and tensors[1] or numbers[1] and tensors[0]):
        return
    fix = "torch.clamp(x, min=B).clamp(max=0.75)" if numbers[1] else "torch.clamp(x, max=B).clamp(min=0.1)"
    zero_d = " (a 0-d tensor that requires grad is no Number to PyTorch)" \
        if any(t and v.ndim == 0 for t, v in zip(tensors, bounds)) else ""
    raise JacValueError(f"{call}(): min and max must both be tensors or both be numbers, not a "
                        f"{'number' if numbers[0] else 'tensor'} min beside a {'number' if numbers[1] else 'tensor'} "
                        "max (PyTorch raises TypeError: its overloads take (Tensor min, Tensor max) or (Number min, "
                        f"Number max){zero_d}): clamp by one bound, then the other ({fix}), or write the number as "
                        "torch.full_like(x, VALUE)", position)


def _numpy_checks(b, kind, fname, call, args, kwargs, position) -> None:
    """NumPy's TypeErrors at an argument's form (:data:`NUMPY_ARRAY_AT`, :data:`NUMPY_STR_AT`,
    :data:`NUMPY_DTYPE_AT`, :data:`NUMPY_ATTRIBUTES`, ``np.clip(x, 0)`` without its a_max)."""
    if kind == "function" and isinstance(getattr(np, fname, None), np.ufunc) \
            and any(k in kwargs for k in NUMPY_OPERAND_KEYWORDS):
        k = next(k for k in NUMPY_OPERAND_KEYWORDS if k in kwargs)
        raise JacParseError(f"{call}() takes its operands by position: '{k}' is no keyword of NumPy's ufunc "
                            f"{fname} (it raises TypeError); write {call}(...) without {k}=", position)
    if fname == "norm" and "a" in kwargs and call.startswith(("np.linalg.", "numpy.linalg.")):
        raise JacParseError(f"{call}() has no argument 'a': NumPy's linalg.norm names its array 'x' (it raises "
                            "TypeError); write x= or pass it by position", position)
    if kind == "method" and fname in NUMPY_ATTRIBUTES:
        raise JacParseError(f"x.{fname} is an attribute of NumPy's ndarray, not a method: x.{fname}() is its "
                            f"TypeError (its value is not callable); write x.{fname}", position)
    for at in NUMPY_ARRAY_AT.get(fname, ()):
        if len(args) > at and _is_display(b, args[at]):
            raise JacValueError(f"{call}(): its argument at position {at + 1} must be an array, not a list or tuple "
                                "(NumPy raises: it reads its dtype); write np.array(...)", position)
    for at in (NUMPY_STR_AT if kind == "function" else NUMPY_METHOD_STR_AT).get(fname, ()):
        if len(args) > at and python_number(b, args[at]):
            raise JacParseError(f"{call}(): its argument at position {at + 1} is order=, a str ('C', 'F'), not a "
                                "number (NumPy raises TypeError)", position)
    for at in NUMPY_DTYPE_AT.get(fname, ()):
        if len(args) > at and python_number(b, args[at]):
            raise JacParseError(f"{call}(): its argument at position {at + 1} is the dtype, not a number (NumPy raises "
                                "TypeError); write ddof= or keepdims= by name", position)
    if fname == "clip" and kind == "function" and ("a_min" in kwargs or len(args) == 2) and "a_max" not in kwargs \
            and not {"min", "max"} & set(kwargs):
        raise JacParseError(f"{call}(x, a_min) needs a_max too (NumPy raises TypeError): write {call}(x, a_min, None) "
                            "for a lower bound alone, or min=", position)
    if fname == "clip" and kind == "function" and "a_max" in kwargs and len(args) == 1 and "a_min" not in kwargs:
        raise JacParseError(f"{call}(x, a_max=...) needs a_min too (NumPy raises TypeError: clip() missing 1 "
                            f"required positional argument: 'a_min'): write {call}(x, None, a_max) for an upper "
                            "bound alone, or max=", position)


def _required(lib, kind, module, fname, call, args, kwargs, position) -> None:
    """A required argument left out: PyTorch's (:data:`TORCH_REQUIRED`), NumPy's (:data:`NUMPY_REQUIRED`); a bare
    method only where both readings raise."""
    torch_spec = TORCH_REQUIRED.get(fname)
    if module in ("F", "torch.nn.functional", "nn.functional") and fname in F_ANSWERS:
        torch_spec = None
    numpy_spec = NUMPY_REQUIRED.get(fname)
    count = REQUIRED_COUNT.get(fname, 1)
    # the tensor by keyword (torch.softmax(input=x, dim=-1)) leaves no positional argument: none past it either
    torch_raises = torch_spec is not None and max(len(args) - 1, 0) + sum(k in kwargs for k in torch_spec[1]) < count
    if torch_raises and fname in REQUIRED_FROM_RANK and args and isinstance(args[0], Tracer) \
            and args[0].ndim < REQUIRED_FROM_RANK[fname]:
        torch_raises = False  # the contract's torch.logsumexp(v) of a vector: every element is the one axis
    numpy_raises = numpy_spec is not None and not _given(args, kwargs, 1, numpy_spec[1])
    if lib == "torch" and torch_raises or lib == "both" and torch_raises and numpy_raises:
        param, _, hint = torch_spec
        both = "" if lib == "torch" else f" and NumPy's ndarray.{fname}() raises too"
        every = tuple(range(args[0].ndim)) if args and isinstance(args[0], Tracer) else (0,)
        raise JacParseError(f"{call}() needs {param} (PyTorch raises TypeError without it{both}): "
                            + hint.format(call=call if kind == "function" else "torch." + fname, every=every),
                            position)
    if lib == "numpy" and numpy_raises:
        raise JacParseError(f"{call}() needs {numpy_spec[0]} (NumPy raises TypeError without it): {numpy_spec[2]}",
                            position)
