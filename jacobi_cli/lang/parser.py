"""Expression text -> graph, through Python's ``ast`` and a whitelist.

Nothing of the text is ever evaluated by Python: the syntax tree is walked (without
recursion, so deep expressions cannot hit the recursion limit) and every node the
language knows becomes a builder call; anything else is a parse error at its column.

>>> g = parse("2 * dot(x, y)", {"x": (4,), "y": (4,)})
>>> g.output_shape
()
"""

from __future__ import annotations

import ast
import copy
import difflib
import itertools
import keyword
import math
import operator
import os
import re
import threading
import warnings
from functools import cached_property
from types import MappingProxyType

import numpy as np

from .chain import split_chain
from .short import may_be_short, read_short
from .deep import fork_safe, with_deep_stack
from ..ir.work import check_time, limit_now
from ..errors import JacError, JacLimitError, JacNameError, JacParseError, JacShapeError, JacUsageError, JacValueError
from ..errors import ascii_lookalike, not_ascii
from .functions import ATTRIBUTES, CONSTANTS, DTYPES, FUNCTIONS, LIBRARY_FUNCTIONS, MODULES, READINGS, DType, Static, \
    boolean, detached, is_boolean, library_function, library_of, logical, python_range, transpose_all, truth
from .jaxnames import LAX_HINTS, LIBRARY_ENDINGS, LIBRARY_NAMES, LIBRARY_REFUSED
from . import argspec  # the library's required arguments and keywords (session 47)
from . import laxnames
from . import laxmore
from . import names34  # scipy.spatial.distance, sliding_window_view, np.polynomial (their titles)
from . import jaximage  # jax.image.resize (its title)
from . import gathers  # lax.GatherScatterMode.CLIP (the enum gather and the scatters read)
from . import fourier  # complex values: a Fourier transform's result as a pair of real values (session 36)
from .fourier import Complex
from .functions import FALLBACK, LIBRARIES, PER_LIBRARY, REQUIRED, Pair, arguments, arithmetic, one_dtype, pair_attribute, pair_item, \
    c_power, jax_floor_divide, masked_product, remainder_of_dividend, torch_power, unpack_pair
from .functions import INPLACE_AT, RESULT_LAYOUTS, check_view, copied_layout, layout_nodes, reads_as, record_read, \
    result_layout, run_time_int
from .functions import in_place_flag, in_place_value  # an inplace= flag's value (session 55)
from .functions import NUMPY_DTYPE_CASTS, NUMPY_DTYPE_REDUCTIONS, numpy_dtype, numpy_takes_dtype
from .functions import DTYPE_FIRST, UNARY, Items, Refused, dtype_first, input_not_constant, matrix_transpose, \
    static, written_value, TENSOR_TYPES, data_index, NUMPY_AFTER_AXIS, numpy_positional, TORCH_DTYPE_FIRST, \
    torch_positional_dtype
from .ufuncs import OUTER as UFUNCS, Ufunc
from .modules import is_instance, named_modules
from .modules import LAYERS, NORMS, Listed, Module, Pending, ModuleDict, ModuleList, Sequential, layer, named_parameters, \
    norm_parameters, refused_module, set_training
from .recurrent import RECURRENT, Recurrent, recurrent, refused_recurrent
from .transformer import TRANSFORMER
from . import derivatives
from . import starred  # f(*args, **kwargs): the call written out (session 54)
from . import setparams
from . import freeze
from . import nograd  # writes in place under torch.no_grad() and through .data (session 53)
from .vjps import Linear, lower as lower_linear
from .devices import Device, module_to
from . import vmapping
from . import trees
from . import imports
from . import copies
from . import overlap
from . import views  # d = t.diagonal(); d.mul_(2): names viewing one buffer, each written through (session 39)
from .trees import Dict, TreeDef
from . import decorators
from . import pyiter
from . import pybuiltins  # sum(A), max(x) of a program that imports a library: Python's builtins (session 37)
from . import plain
from .plain import PlainClass
from . import inference
from . import pasted
from . import pylists
from . import distributions  # Normal(loc, scale).log_prob(x): a distribution's methods and properties
from .decorators import dotted as _dotted
from . import index_tuples  # np.mask_indices(n, np.triu) (and the index tuples it registers)
from .memo import ValueMemo  # value_of's values, trimmed past max_bytes
from .scatter import AtOutOfBounds, out_of_bounds  # JAX's .at[idx] out of bounds (session 27)
from . import custom  # torch.autograd.Function, jax.custom_vjp: rules written by hand, honoured
from .scatter import At, AtIndex, Memory, advanced_targets, computed_index, computed_write, distinct_bound, \
    fill_diagonal, put_along_axis, put_values, same_values
from ..ir import dtypes, saved
from ..ir.graph import _NO_PARAMS, DEFAULT_MAX_BYTES, MAX_NODES, Builder, Graph, Tracer, new_node
from ..ir.ops import OPS, index_shape
from ..ir.shapes import MAX_RANK, check_rank, fmt, is_concrete

# Python's syntax tree costs about 1 KiB per term (a 1,000,000-term sum: 1.1 GB and 10 s before
# jac sees it), so the length is capped where a 200,000-term sum still fits with room to spare.
MAX_SOURCE_CHARS = 1_000_000
_SURROGATE = re.compile("[\ud800-\udfff]")
_MODULE_DEPTH = max(m.count(".") for m in MODULES)
# an index array computed from the inputs (Lowering.at_computed_array): the ops whose indices lie in 0..n-1 for an axis
# of n elements (of the flattened array without an axis), and the ops that keep an index array's values among its
# argument's (moves, slices, gathers; data is their first argument)
_BOUNDED_INDEX_OPS = frozenset(("argmax", "argmin", "argsort", "argpartition", "argmedian", "argquantile", "argmode",
                                "argcum"))
_INDEX_KEEPING = frozenset(("getitem", "reshape", "transpose", "broadcast_to", "expand", "detach", "integer",
                            "take_along"))
# What autodiff libraries ask the user to write (y.backward(), x.grad, jax.grad(f)(x), torch.func.jacrev,
# torch.autograd.functional.jacobian): jac does that itself, so each is refused by saying what to write instead.
_AUTODIFF_NAMES = frozenset({"backward", "grad", "requires_grad", "requires_grad_", "retain_grad", "register_hook",
                             "zero_grad", "autograd", "func", "functorch", "jacrev", "jacfwd", "jacobian", "hessian",
                             "value_and_grad", "grad_and_value", "vjp", "jvp", "hvp", "vhp", "linearize"})
_AUTODIFF = ("jac differentiates the expression itself: write the expression (torch.sin(x) for jacrev(torch.sin)(x)) "
             "with its inputs bound on the command line; jac eval prints the Jacobians, and jac vjp --v V "
             "prints what y.backward(gradient=V) leaves in x.grad")
_PRINT = ("print() is not needed: jac prints the output, which is the last statement: end with the value itself "
          "(loss rather than print(loss); a, b for several)")
_TRANSFORMS = {"vmap": "a batch is an input with --batch NAME (as vmap's in_dims), and the expression is written for "
                       "one example",
               "jit": "jac compiles repeated calls itself: write the expression without jit",
               "checkpoint": "write the expression without checkpoint",
               "vectorize": "jac reads np.vectorize(f) and jnp.vectorize(f) under those names",
               "poly1d": "write np.polyval(coefficients, x)"}
# Submodules of PyTorch, NumPy and JAX that jac does not have, and why where there is more to say:
# torch.fft itself (not called through) is refused as a module, not read as a constant 'fft' of torch.
_SUBMODULES = {"fft": " as a value (jac reads the functions of torch.fft, np.fft, jnp.fft and scipy.fft: call them, as "
                      "torch.fft.rfft(x))",
               "nn": " (its module classes are not; the functions of torch.nn.functional are: F.softmax(x, dim=0))",
               "distributions": " (of torch.distributions jac reads Normal, Laplace, Bernoulli, Categorical, "
                                "MultivariateNormal, Exponential, Uniform, Gamma, Beta, Poisson, LogNormal, StudentT, "
                                "Cauchy, HalfNormal, Dirichlet, Binomial, Geometric, Gumbel, Chi2, Weibull, "
                                "MixtureSameFamily, OneHotCategorical, LowRankMultivariateNormal, Kumaraswamy, Pareto, "
                                "VonMises, ContinuousBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical, "
                                "NegativeBinomial, HalfCauchy, InverseGamma, FisherSnedecor, GeneralizedPareto, "
                                "Multinomial, LogisticNormal, OneHotCategoricalStraightThrough, Wishart, LKJCholesky, "
                                "TransformedDistribution "
                                "(with the element-wise transforms of torch.distributions.transforms), Independent and "
                                "kl_divergence: write another's density)",
               "polynomial": "", "autograd": "", "func": "", "optim": "", "sparse": "", "masked": "", "nested": "",
               "ma": "", "stats": " (of its distributions jac reads {stats}: write another's density's formula "
                              "with {special}: gammaln, xlogy, log_ndtr)",
               "linalg": " ({linalg} has solve, inv, det, slogdet, cholesky, eigh, svd, qr, pinv, norm; "
                         "solve_triangular(L, b) is {linalg}.solve(L, b))", "signal": "",
               "testing": "", "utils": "", "jit": ""}
# _SUBMODULES' words for the library of the module refused: jax.scipy.stats's densities are written with jnp's
_KIN = {"jax": {"special": "jax.scipy.special", "linalg": "jnp.linalg"},
        "torch": {"special": "torch.special", "linalg": "torch.linalg"}}
# The first names of jac's modules that are not modules themselves (jax of jax.nn, scipy of scipy.special)
_ROOTS = frozenset(m.split(".")[0] for m in MODULES) - MODULES
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul",
           ast.Mod: "remainder", ast.FloorDiv: "floor_divide"}
# NumPy's functions whose 0-d result is an ndarray, not a NumPy scalar: a Python sequence times it is element-wise
_NUMPY_ARRAY_MAKERS = frozenset(("array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "copy",
                                 "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
                                 "empty_like"))
_BINOP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
               ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}
_UNSUPPORTED = {
    ast.Lambda: "lambda", ast.Dict: "dicts", ast.Set: "sets", ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.DictComp: "comprehensions", ast.GeneratorExp: "generators",
    ast.NamedExpr: "':='", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Starred: "'*' unpacking",
}


_LEAVES = (ast.Name, ast.Constant)
# Names pasted code uses for what jac has not: what to write instead
_PASTED_NAMES = {
    "self": "a module's own object (pasted forward() code): jac has no modules; write the computation with the "
            "module's parameters bound as inputs (self.fc(x) as x @ W.T + b, with W and b bound)",
    "device": "where PyTorch computes: jac computes on the CPU with NumPy; drop .to(device) and device=device",
    "model": "a module jac cannot see: write its forward computation with its parameters bound as inputs "
             "(x @ W.T + b for an nn.Linear)",
    "optimizer": "a training loop's step: jac differentiates an expression; paste the loss alone",
}
# Names of mathematical notation (and of other languages) that are no function of PyTorch or NumPy: what to write
_MATH_NAMES = {
    "ln": "the natural logarithm is log(x)", "lg": "the base-10 logarithm is log10(x)",
    "sqr": "write x**2 or square(x)", "cot": "write 1 / tan(x)", "sec": "write 1 / cos(x)", "csc": "write 1 / sin(x)",
    "coth": "write 1 / tanh(x)", "sech": "write 1 / cosh(x)", "csch": "write 1 / sinh(x)",
    "acot": "write arctan(1 / x)", "arccot": "write arctan(1 / x)", "avg": "write mean(x)", "tr": "write trace(A)",
    "logistic": "write sigmoid(x)", "gamma": "write scipy.special.gamma(x)",
    "fact": "write scipy.special.factorial(x)", "factorial": "write scipy.special.factorial(x)",
}
# A console session or shell line pasted whole: the prompt that begins a line, and what to do
_PROMPT = re.compile(r"^[ \t]*(>>>|In \[\d*\]:|\$ )", re.MULTILINE)
_PROMPTS = {">": "paste the code without the prompts ('>>> ', '... ') and without the printed results",
            "I": "paste the code without the prompts (In [1]:) and without the printed results (Out[1]:)",
            "$": "this is a shell line: give jac the expression alone, as in jac eval 'x.sum()' x:3"}
_MAX_UNROLLED = 10_000  # elements of a comprehension written out  # nodes without children (``type(node) in``: their subclasses go the long way)


# Keywords only PyTorch's Tensor methods take (NumPy's are axis=, keepdims=, ddof=): a method call with one
# of them is PyTorch's, where the bare method is ambiguous (x.max(dim=1)[0], x.std(dim=1)).
_TORCH_KEYWORDS = frozenset({"dim", "keepdim", "unbiased", "correction"})

_INDENTS = (" ", "\t")  # a text beginning with one (after new lines) is indented as a whole


class Source:
    """Maps ``ast`` line/column pairs (UTF-8 byte columns) to character offsets in ``text``.

    A text indented as a whole (``"  x + 1"``, the lines of a quoted block in a script) is parsed as
    :attr:`body`, its common indent removed as ``textwrap.dedent`` removes it; ``margins`` holds the
    characters removed from each line, so offsets still count in the text as given."""

    margins = None  # per line, the characters body lacks (None: body is text)
    ends = None  # line index -> the UTF-8 byte end of each of its characters (characters), made when first asked

    def __init__(self, text: str):
        self.text = self.body = text
        if "\n" not in text and text.isascii() and text[:1] not in _INDENTS:  # the common case
            self.lines, self.ascii, self.starts = [text], [True], [0]
            self.one_line, self.width = True, len(text)
            return
        self.lines = text.split("\n")
        self.ascii = [line.isascii() for line in self.lines]
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        if text.lstrip("\r\n")[:1] in _INDENTS:
            self.margins = _margins(self.lines)
            self.body = "\n".join(line[m:] for line, m in zip(self.lines, self.margins))
        self.one_line = len(self.lines) == 1 and self.ascii[0] and self.margins is None
        self.width = len(self.lines[0])

    def offset(self, lineno: int, col_byte: int) -> int:
        if lineno == 1 and self.ascii[0] and self.margins is None:  # the common case, a one-line ASCII expression
            return min(col_byte, self.width)
        lineno = max(1, min(lineno, len(self.lines)))
        line, margin = self.lines[lineno - 1], self.margins[lineno - 1] if self.margins else 0
        if self.ascii[lineno - 1]:  # bytes are characters: ast's columns count in body's line, past the margin
            col = min(col_byte, len(line) - margin)  # no copy of the line: a long one is asked once per node
        else:
            col = self.characters(lineno - 1, margin, col_byte)
        return self.starts[lineno - 1] + margin + col

    def characters(self, index: int, margin: int, col_byte: int) -> int:
        """The characters of line ``index`` (past ``margin``) whole within its first ``col_byte`` UTF-8 bytes: a
        search in the line's character ends, made once per line (re-encoding a long line per node was quadratic)."""
        if self.ends is None:
            self.ends = {}
        ends = self.ends.get(index)
        if ends is None:
            codes = np.frombuffer(self.lines[index][margin:].encode("utf-32-le"), dtype=np.uint32)
            ends = self.ends[index] = np.cumsum(1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000))
        return int(np.searchsorted(ends, col_byte, side="right"))

    def at(self, node: ast.AST) -> int:
        if self.one_line:  # offset's common case, inline: every node of the walk asks
            col = node.col_offset
            return col if col < self.width else self.width
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        if self.one_line:
            col = node.end_col_offset
            return col if col < self.width else self.width
        return self.offset(node.end_lineno, node.end_col_offset)


def _margins(lines: list) -> list:
    """What ``textwrap.dedent`` removes from each line: all of a line of blanks, the common
    leading blanks (spaces and tabs, compared character by character) of the others."""
    margin = None
    for line in lines:
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if indent == line:  # blanks only (or empty)
            continue
        margin = indent if margin is None else os.path.commonprefix([margin, indent])
    width = len(margin or "")
    return [len(line) if not line.strip(" \t") else width for line in lines]


class NeedsValues(JacValueError):
    """The expression indexes with a boolean mask computed from the inputs (``x[x > 0]``): the
    shape of the result depends on their values, so the graph can be built only for given
    values (``parse(..., values=...)``), and is then valid for those values only."""


class Made:
    """What a text makes beside its graph, filled by :func:`parse` (``made=``). Its fields are set when the
    parse makes one (a first call's ``Made()`` makes nothing: the defaults are empty and immutable)."""

    # the inputs the text makes itself, PyTorch's leaves and a layer's parameters: name -> value, of --dtype,
    # read-only (``x = torch.tensor([1., 2.], requires_grad=True)``, ``fc = nn.Linear(3, 4)``)
    values: dict = MappingProxyType({})
    # the names of those whose values are jac's draws (torch.randn, a layer's initial parameters), by ``seed``
    random: set = frozenset()
    # ``y.backward(gradient=V)``'s V (a constant of the output's shape): jac vjp's v where --v is not given
    gradient: np.ndarray | None = None
    # the leaves the text made and then froze (``fc.weight.requires_grad_(False)``): name -> values, constants of
    # the graph, which --wrt cannot name (lang/freeze.py)
    frozen: dict = MappingProxyType({})


def parse(text: str, inputs: dict | None = None, dtype=np.float64, seed: int = 0,
          max_bytes: int = DEFAULT_MAX_BYTES, shapes_only: bool = False, values: dict | None = None,
          constant: bool = False, wrt=None, made: Made | None = None) -> Graph:
    """Parse ``text`` with the named ``inputs`` (name -> shape) into a :class:`Graph`.

    Every node whose result would pass ``max_bytes`` is refused here, before anything
    runs; with ``shapes_only`` (nothing will be evaluated) only the constants are.
    ``values`` (name -> array) are needed only by a mask computed from the inputs; without
    them such a mask raises :class:`NeedsValues`. ``constant``: the text is a binding's value,
    which names nothing (an unknown name is not an input to bind). ``wrt`` (a set of names, or
    None for every input): the inputs whose nodes' ``requires_grad`` is set as the graph is built
    (:attr:`Builder.wrt`), so that a first call differentiating those alone walks no graph again.
    ``made``: a :class:`Made` the parse fills with what the text makes beside the graph: the inputs it makes
    itself, PyTorch's leaves (``x = torch.tensor([1., 2.], requires_grad=True)``; the graph's inputs include
    them, after those of ``inputs``), which of them are jac's draws, and ``y.backward(gradient=V)``'s V."""
    inputs = inputs or {}
    text = typeset(text)
    builder = _new_builder(text, dtype, seed, max_bytes, shapes_only, constant, wrt)
    try:
        _check_text(text)
        if text[:1] in _INDENTS or text[:1] in ("\r", "\n") and text.lstrip("\r\n")[:1] in _INDENTS:
            source = Source(text)  # indented as a whole: ast reads its body, the columns count in text
            return _program(_Lowering(builder, source, inputs, values, constant, made), _ast_tree(source))
        chain = split_chain(text)  # x*1 + x*2 + ... read without ast: the same graph, the same errors
        if chain is not None:
            return _Lowering(builder, Source(text), inputs, values, constant).chain(*chain)
        if may_be_short(text):  # sin(x) * x**2 + exp(-x) lowered as read: the same graph; errors by ast's path
            try:
                found = _Lowering(builder, None, inputs, values, constant).direct(text)
            except Exception:  # noqa: BLE001 - any refusal is the general path's, made again below
                found = None
            if found is not None:
                return found
            builder = _new_builder(text, dtype, seed, max_bytes, shapes_only, constant, wrt)  # ast's path starts again
        source = Source(text)
        return _program(_Lowering(builder, source, inputs, values, constant, made), _ast_tree(source))
    except JacError as err:
        if err.kind in ("parse", "name") and looks_like_path(text) and "@" not in err.message:
            path = text.strip()
            err.reword(f"{err.message}; '{path}' looks like a file's path: put @ before it to read the file "
                       f"(@{path})")
        raise err.with_source(text)
    except RecursionError:  # a nesting no limit of its own caught: refused, never an internal error
        raise JacLimitError("the expression nests too deeply for jac's reading of it (calls inside calls, lists inside "
                            "lists, ...; see docs/robustness.md): write it with less nesting", None).with_source(text) \
            from None


def _new_builder(text: str, dtype, seed: int, max_bytes: int, shapes_only: bool, constant: bool,
                 wrt=None) -> Builder:
    """The builder of one parse of ``text``."""
    builder = Builder(text, dtype, True, seed, max_bytes, shapes_only)
    builder.typing = True  # integers computed from inputs are tracked (ir/dtypes.py)
    if wrt is not None:
        builder.wrt = wrt
    if constant:
        builder.binding = True  # a binding's integers are converted to --dtype exactly, or refused
    return builder


def split_outputs(text: str) -> list | None:
    """For an expression that ends in a tuple (``a = f(x); a, sum(a)``): ``[(name, text)]``,
    each output's own expression (the statements before, then that element), named as
    :func:`parse` names them; None for any other expression."""
    text = typeset(text)
    _check_text(text)
    source = Source(text)
    last = _ast_tree(source).body[-1]
    if _unpacked_names(last) is not None:  # q, r = torch.linalg.qr(A): the text, then each name
        return [(elt.id, text + "\n" + elt.id) for elt in _unpacked_names(last).elts]
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Tuple) and len(last.value.elts) > 1):
        return None
    prefix = text[:source.at(last)]
    named = [(elt.id if isinstance(elt, ast.Name) else f"y{i}", elt) for i, elt in enumerate(last.value.elts)]
    for i, (name, elt) in enumerate(named):  # x.sum(), (): as parse refuses it (Lowering.refuse_empty)
        if isinstance(elt, ast.Starred):
            raise JacValueError(_STARRED_OUTPUT, source.at(elt))
        if isinstance(elt, (ast.Tuple, ast.List)) and not elt.elts:
            raise JacValueError(_empty_output(f"output {i} ({name})", elt), source.at(elt))
    return [(name, prefix + ast.get_source_segment(source.body, elt)) for name, elt in named]


_STARRED_OUTPUT = ("'*' unpacking in the last statement's tuple: jac names each output by its place in the tuple as "
                   "written, so list the outputs one by one (x[0], x[1], ...) or end with the array itself (x)")


def _empty_output(what: str, display: ast.expr | str) -> str:
    """The refusal of an output that is an empty display, ``()`` or ``[]`` (``display``: its node or its kind)."""
    kind = display if isinstance(display, str) else "tuple" if isinstance(display, ast.Tuple) else "list"
    return (f"{what} is an empty {kind} {'()' if kind == 'tuple' else '[]'}: it holds no array, so there is no "
            f"output (for an empty array write zeros(0))")


def made_outputs(text: str, names: list) -> list | None:
    """For a text whose last statement makes several outputs in one expression (a dict or pytree, a named tuple of
    the library: ``names`` as :func:`parse` names them, ``y['a']``, ``grads['W']``, ``values``): ``[(name, text)]``,
    each output's own expression as :func:`split_outputs` gives a final tuple's, the value held in a name of its
    own and that output taken from it (``out_ = torch.sort(x)`` then ``out_.values``); None where a name is not
    one of those."""
    text = typeset(text)
    source = Source(text)
    module = _ast_tree(source)
    last = module.body[-1]
    if isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], ast.Name):
        held = last.targets[0].id  # grads = jax.grad(f)(params): its outputs grads['W'], ... are names already
        if all(n.startswith(held + "[") for n in names):
            return [(n, text + "\n" + n) for n in names]
        return None
    if not isinstance(last, ast.Expr):
        return None
    value, base = last.value, "y"
    if isinstance(value, ast.Tuple) and len(value.elts) == 1:  # ({'a': ..., 'b': ...},): its outputs y0['a'], ...
        value, base = value.elts[0], "y0"
    if isinstance(value, ast.Name):  # d = {...}; d (or (d,)): d['a'], d['b']
        base = value.id
    taken = {node.id for node in ast.walk(module) if isinstance(node, ast.Name)}
    held = next(f"out_{i}" for i in range(len(taken) + 1) if f"out_{i}" not in taken)
    head = text[:source.at(last)] + f"{held} = {ast.get_source_segment(source.body, value)}\n{held}"
    parts = []
    for n in names:
        if n.startswith(base + "["):
            parts.append((n, head + n[len(base):]))
        elif n.isidentifier():
            parts.append((n, f"{head}.{n}"))
        else:
            return None
    return parts


def _program(lowering, module: ast.Module) -> Graph:
    """The graph of a text, refused where PyTorch would save an inference tensor for backward (.inference)."""
    graph = lowering.program(module)
    if lowering.inference:
        inference.check(lowering)
    return graph


def _held_arrays(value) -> list:
    """The arrays a dict of the text holds, at any depth (its values, the items of its lists and tuples)."""
    found, pending = [], [value]
    while pending:
        v = pending.pop()
        if type(v) is Tracer:
            found.append(v)
        elif type(v) is Dict:
            pending.extend(v.values())
        elif isinstance(v, (Items, list, tuple)):
            pending.extend(v)
    return found


def _inplace_value(node: ast.Call, kids: list):
    """The value the call is given for ``inplace`` (by keyword, or at :data:`~.functions.INPLACE_AT`'s position),
    however written, or None where none is given. ``kids``: its lowered owner (if any), arguments and keywords'
    values."""
    keywords = kids[len(kids) - len(node.keywords):] if node.keywords else []
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id \
        if isinstance(node.func, ast.Name) else None
    args = kids[len(kids) - len(node.keywords) - len(node.args): len(kids) - len(node.keywords)]
    return in_place_flag(name, args, {k.arg: v for k, v in zip(node.keywords, keywords)})


def _inplace_call(node: ast.Call) -> bool:
    """``F.relu(y, inplace=True)`` or ``F.relu(y, True)`` (:data:`~.functions.INPLACE_AT`'s position) written
    with the constant True."""
    for k in node.keywords:
        if k.arg == "inplace":
            return isinstance(k.value, ast.Constant) and k.value.value is True
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id \
        if isinstance(node.func, ast.Name) else None
    at = INPLACE_AT.get(name)
    return at is not None and len(node.args) == at + 1 and isinstance(node.args[at], ast.Constant) \
        and node.args[at].value is True


def _first_argument(node: ast.Call, kids: list):
    """The value of a call's first argument (its ``input=`` keyword's), of its lowered ``kids``."""
    if node.args and not isinstance(node.args[0], ast.Starred):
        return kids[0]
    for k, keyword in enumerate(node.keywords):
        if keyword.arg == "input":
            return kids[len(kids) - len(node.keywords) + k]
    return None


def _unpacked_names(last: ast.stmt) -> ast.Tuple | None:
    """For a text ending with an unpacking into names (``q, r = torch.linalg.qr(A)``): the tuple of those names,
    read (``q, r``), which are its outputs; None for any other statement."""
    if not (isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], (ast.Tuple,
                                                                                                      ast.List))):
        return None
    target = last.targets[0]
    if len(target.elts) < 2 or not all(isinstance(e, ast.Name) for e in target.elts):
        return None
    return ast.copy_location(ast.Tuple([ast.copy_location(ast.Name(e.id, ast.Load()), e) for e in target.elts],
                                       ast.Load()), target)


def output_starts(text: str) -> list:
    """Where each output's element of the final tuple begins in ``text`` (character offsets), in
    the order of :func:`split_outputs`: an error found in an output's own expression (the
    statements before, then the element) is moved back to the column the user typed with
    ``start - len(prefix)``, the prefix being the text before the tuple (``starts[0]``'s line)."""
    text = typeset(text)
    source = Source(text)
    last = _ast_tree(source).body[-1]
    if _unpacked_names(last) is not None:  # an error in the name read after the text points at the name
        return [len(text) + 1] + [source.at(elt) for elt in _unpacked_names(last).elts]
    return [source.at(last)] + [source.at(elt) for elt in last.value.elts]


_PATH = re.compile(r"(?:[A-Za-z]:[\\/]|~?/|\.{1,2}[\\/]|\\)[^\s;]*|[^\s;()\[\]{},=+*'\"]+\.(?:py|npy|npz|csv|tsv|txt|json|toml)")


def looks_like_path(text: str) -> bool:
    """Whether ``text`` (an expression or a value that did not parse) is a file's path written without the ``@``
    that reads a file: rooted (``/data/x.npy``, ``./x.csv``, ``~/x``, ``C:\\x.npy``) or ending in a file's suffix."""
    return isinstance(text, str) and len(text) < 4096 and _PATH.fullmatch(text.strip()) is not None


def parse_value(text: str, dtype=np.float64, seed: int = 0, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """A binding's value: a constant expression (literals, constructors, arithmetic)."""
    graph = parse(text, {}, dtype=dtype, seed=seed, max_bytes=max_bytes, constant=True)
    narrowed = [entry for entry in graph.recast if entry[1] == "float32"]
    if narrowed:  # an expression computes such a cast in --dtype and warns; a value would hold it silently
        what = ("this cast to float32 changes the values" if len(narrowed[0]) < 3 else  # else an op of float32 values
                "PyTorch and NumPy compute this in float32 (of a float32 value) and round")
        raise JacValueError(f"{what}, and jac would hold them in float64 (--dtype) "
                            "unrounded, where PyTorch and NumPy hold float32's (0.1 is 0.10000000149011612 there): "
                            "write the values without the cast, or run with --dtype float32", narrowed[0][0], text)
    node = graph.nodes[graph.output]
    if node.op != "const":  # pragma: no cover - without inputs every op folds
        raise JacValueError("a value must be a constant expression", 0, text)
    value = np.asarray(node.value)
    if value.dtype.kind not in "biuf":
        raise JacValueError(f"a value must be numeric, got {value.dtype}", 0, text)
    # the graph is dropped here: its constant becomes the value as it is (a copy would double a
    # large constructor's peak: ones(2**27) took 2 GiB under --max-memory 1G), unless it is a
    # read-only view (broadcast_to's stride 0), which a caller could not write into; a float64 beyond
    # float32's range becomes inf as torch.tensor(1e39, dtype=torch.float32) does, and the report's
    # "holds inf" warning says so (NumPy's own RuntimeWarning would be a second, raw line on stderr)
    with np.errstate(over="ignore"):
        return np.require(value, dtype=dtype, requirements="W")


def typeset(text: str) -> str:
    """``text`` with what web pages typeset in place of Python's characters read as Python's (``_TYPESET``)."""
    if not isinstance(text, str):  # api.jacobian(b"x", ...): bytes, a number or None have no columns to point at
        raise JacUsageError(f"the expression must be a string (str), not {type(text).__name__}")
    return text if text.isascii() else text.translate(_TYPESET)


def _syntax_tree(text: str) -> ast.Module:
    text = typeset(text)
    _check_text(text)
    return _ast_tree(Source(text))


def _ast_tree(source: Source) -> ast.Module:
    """Python's syntax tree of a checked text's body; its syntax errors as parse errors with a
    column in the text."""
    try:
        module = _parse_deep(source.body)
    except SyntaxError as err:
        position = source.offset(err.lineno or 1, 0) + max((err.offset or 1) - 1, 0) if err.lineno else None
        if "too many nested parentheses" in str(err.msg):
            raise JacLimitError("more than 200 nested parentheses (Python's parser limit)", position) from None
        detail = str(err.msg)
        digits = re.match(r"Exceeds the limit \((\d+) digits\) for integer string conversion: value has (\d+)", detail)
        if digits:  # 10**5000 written out: Python's own advice (sys.set_int_max_str_digits) is no help here
            literal = re.search(r"\d{%s,}" % digits.group(2), source.text)
            raise JacLimitError(f"an integer of {int(digits.group(2)):,} digits: Python reads integers of at most "
                                f"{int(digits.group(1)):,} digits, and no float holds one of more than 309 "
                                "(the largest float64 is about 1.8e308)",
                                literal.start() if literal else position) from None
        prompt = _PROMPT.search(source.text)
        if prompt is not None:  # a console session or a shell line pasted whole
            raise JacParseError(f"invalid syntax: '{prompt.group(1)}' is a prompt: {_PROMPTS[prompt.group(1)[0]]}",
                                prompt.start(1)) from None
        found = re.match(r"invalid (?:non-printable )?character '?(.)'? \(U\+", detail)
        if found and found.group(1) in _OPERATOR_LOOKALIKES:  # x × y from a web page
            raise JacParseError(f"invalid syntax: {detail}: write {_OPERATOR_LOOKALIKES[found.group(1)]} in its "
                                "place", position) from None
        hint = _syntax_hint(source.text, position, detail)
        if hint is not None:  # x.^2 (MATLAB), sin x, f(x) = ... (as written on paper)
            raise JacParseError(f"invalid syntax: {hint}", position) from None
        if detail == "invalid decimal literal" and position is not None:
            product = _implicit_product(source.text, position)
            if product is not None:  # 2x for 2*x, as written on paper
                raise JacParseError(f"invalid syntax: {product[0]}{product[1]} is no number or name; for a product "
                                    f"write {product[0]}*{product[1]}", position - product[2]) from None
        raise JacParseError("invalid syntax" if detail == "invalid syntax" else detail if
                            detail.startswith("invalid syntax") else f"invalid syntax: {detail}", position) from None
    except (RecursionError, MemoryError):
        raise JacLimitError("the expression is nested too deeply for Python's parser (it takes about 5,900 unary "
                            "operators or 2,900 '**' in a row; see docs/robustness.md)", None) from None
    _count_statements(module, source)
    if "_(" in source.body:
        _split_in_place_chains(module)
    if "import" not in source.body:
        return module
    if _PYITER_MODULES.search(source.body) is not None:  # from itertools import combinations (lang/pyiter.py)
        module = pyiter.spelled(module)
    return imports.follow(module, lambda stmt: _accepted_import(stmt, source))


def _value_kind(value) -> str:
    """Python's type name of a value of the text, as its TypeError names it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return type(value).__name__
    if isinstance(value, Tracer):
        return "Array"
    return "tuple" if type(value) is Items and value.display != "list" else "list" if type(value) is Items else \
        "dict" if type(value) is Dict else type(value).__name__


def _tuple_words(value) -> tuple:
    """How a refusal names the tuple of arrays ``value`` and the names to unpack it into: ``("a named tuple (sign,
    logabsdet) of arrays", "sign, logabsdet")`` for a library's result with fields (``torch.linalg.slogdet``,
    ``torch.sort``'s values and indices, ``np.linalg.eigh``), ``("a tuple of arrays", "a, b")`` otherwise (session
    51: a named tuple's item written was "an array held in the list 'p'")."""
    if isinstance(value, Pair):
        fields, count = tuple(n for n in value.names if not n.isdigit()), len(value.names)  # std_mean: ("0", "1")
    else:
        fields, count = tuple(getattr(value, "fields", ()) or ()), len(value) if isinstance(value, tuple) else 2
    if fields:
        return f"a named tuple ({', '.join(fields)}) of arrays", ", ".join(fields)
    return "a tuple of arrays", ", ".join("abcdefgh"[:max(min(count, 8), 2)])


_TUPLE_ITEM_WRITTEN = ("{what}: '{name}' is {words[0]}, and jac follows a write into an array a name holds, not "
                       "into a tuple's item: name its arrays where it is made ({words[1]} = ...) and write into one")


def _named_field(parser, node: ast.expr):
    """``p.sign`` of ``p = torch.linalg.slogdet(x)``: the name and its tuple where ``node`` reads a field of a named
    tuple of arrays a name holds, else None."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        return None
    value = parser.scope.get(node.value.id)
    if isinstance(value, Pair) and node.attr in value.names or type(value) is Items and node.attr in value.fields:
        return node.value.id, value
    return None


def _refuse_cycle(current, value, kind: str, what: str, position: int) -> None:
    """``d['self'] = d``, ``l.append(l)``: Python's container then holds itself (a cycle: ``len(d['self'])`` is 2,
    ``tree_leaves(d)`` a RecursionError); jac's containers are values, so it would hold a copy of the one before
    the write (``len(d['self'])`` 1). Refused."""
    if value is current or type(value) in (Items, Dict) and plain.holds_inside(value, current):
        raise JacValueError(f"{what} puts the {kind} into itself: Python's {kind} then holds itself, a cycle (JAX's "
                            f"tree functions raise RecursionError on it), and jac's {kind}s are values that cannot "
                            f"hold one; put a copy or another {kind} in it", position)


MAX_STATEMENTS = 10_000  # statements of a text, those inside def, class, for, if, with and try included


def _count_statements(module: ast.Module, source: Source) -> None:
    """Refuse a text of more than :data:`MAX_STATEMENTS` statements, counted before any is lowered: each is
    lowered on its own at a cost of its own (tens of microseconds, more with calls), so that 30,000 took ~10 s. A
    walk of the statements' bodies alone (no expression is visited): ~10 ms for a text of 1,000,000 characters."""
    pending, count = list(module.body), 0
    while pending:
        stmt = pending.pop()
        count += 1
        if count > MAX_STATEMENTS:
            total = count + len(pending) + sum(len(getattr(s, f, None) or ()) for s in pending for f in _BODIES)
            raise JacLimitError(f"the text has more than {MAX_STATEMENTS:,} statements (about {total:,} or more), "
                                f"the most jac reads (each is lowered on its own; {MAX_STATEMENTS:,} take a few "
                                "seconds); write the repeated work as a loop or with whole arrays, or put long lists "
                                "of numbers in a file (NAME=@data.npy)", source.at(stmt) if hasattr(stmt, "lineno")
                                else None)
        for field in _BODIES:
            inner = getattr(stmt, field, None)
            if inner:
                pending.extend(inner)


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")  # the fields of a statement that hold statements


def _split_in_place_chains(module: ast.Module) -> None:
    """``h.mul_(2.0).add_(b)`` as a statement: each of PyTorch's in-place methods returns its tensor itself, so the
    chain is the statements ``h.mul_(2.0)`` then ``h.add_(b)``, in that order, each read as one (session 34b)."""
    for node in ast.walk(module):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list) or not any(isinstance(t, ast.Expr) and _in_place_chain(t.value)
                                                      for t in stmts):
                continue
            split = []
            for stmt in stmts:
                calls = _in_place_chain(stmt.value) if isinstance(stmt, ast.Expr) else None
                if not calls:
                    split.append(stmt)
                    continue
                base = calls[-1].func.value
                for call in reversed(calls):
                    func = ast.copy_location(ast.Attribute(value=copy.deepcopy(base), attr=call.func.attr,
                                                           ctx=ast.Load()), call.func)
                    split.append(ast.copy_location(ast.Expr(value=ast.copy_location(
                        ast.Call(func=func, args=call.args, keywords=call.keywords), call)), stmt))
            setattr(node, field, split)
    ast.fix_missing_locations(module)


def _in_place_chain(node: ast.expr):
    """The calls of a chain of two or more in-place methods on a name, its ``.data`` or an index of either (outermost
    first), or None."""
    calls = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_") \
            and not node.func.attr.startswith("_"):
        calls.append(node)
        node = node.func.value
    return calls if len(calls) > 1 and (_in_place_method(calls[-1]) or _on_data(calls[-1])) else None


def _on_data(call: ast.Call) -> bool:
    """``y.data.mul_(2.)``, ``y.data[0].mul_(2.)``: an in-place method on a name's ``.data`` or an index of it (a
    chain of them split as any other: each the single write lang/nograd.py or lang/setparams.py reads)."""
    owner = call.func.value
    if isinstance(owner, ast.Subscript):
        owner = owner.value
    return isinstance(owner, ast.Attribute) and owner.attr == "data" and isinstance(owner.value, ast.Name) \
        and owner.value.id not in MODULES


def _accepted_import(stmt, source: Source) -> bool:
    """Does ``_check_import`` take the import as it is (else lang/imports.py may follow the names it binds)?"""
    try:
        _check_import(stmt, source)
    except JacParseError:
        return False
    return True


# Characters web pages and word processors put in place of Python's, read as Python's, one for one (so every
# column stays where it was): the minus sign and the en dash typeset for '-', curly quotes, spaces that do not
# break or have no width. Look-alikes of other operators (x × y, x²) stay refused, by Python's parser.
_TYPESET = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                          "\u201d": '"', "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u200b": " ",
                          "\u2060": " ", "\ufeff": " "})
_OPERATOR_LOOKALIKES = {"\u00d7": "*", "\u22c5": "*", "\u00b7": "*", "\u00f7": "/", "\u00b2": "**2",
                        "\u00b3": "**3", "\u221a": "sqrt(...)", "\u2264": "<=", "\u2265": ">="}

_NUMBER_THEN_NAME = re.compile(r"([0-9][0-9_]*(?:\.[0-9_]*)?)([A-Za-z_][A-Za-z0-9_]*)")


_MATLAB_OPERATORS = {".^": "**", ".*": "*", "./": "/"}
_NAME_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)[ \t]+$")
def _syntax_hint(text: str, position, detail: str):
    """What to write for a syntax error that is notation of paper or another language: MATLAB's element-wise
    operators (NumPy's and PyTorch's are element-wise already), a function applied without parentheses (sin x), a
    function defined as on paper (f(x) = x**2). None for anything else."""
    if position is None:
        return None
    if text.lstrip().startswith("@") and "\n" not in text.strip():  # a suite's expr = "@model.py", the API's "@f.py"
        return ("'@FILE' reads the expression from a file on the command line only (jac eval @model.py); here the "
                "text is the expression itself: write it out (a suite's expr may be a \"\"\"multi-line\"\"\" string)")
    pair = text[position - 1:position + 1] if position > 0 and text[position:position + 1] in "^*/" else \
        text[position:position + 2]
    if pair in _MATLAB_OPERATORS:
        return (f"'{pair}' is MATLAB's element-wise operator; in Python write {_MATLAB_OPERATORS[pair]} (NumPy's and "
                f"PyTorch's operators act element by element already)")
    if "cannot assign to function call" in detail:
        return ("a function is not defined by 'f(x) = ...' in Python: write the expression itself, or define it "
                "with def f(x): return ... (or f = lambda x: ...) and end with the call, f(x)")
    if detail == "invalid syntax":
        before = _NAME_BEFORE.search(text[:position])
        if before is not None and before.group(1).split(".")[-1] in FUNCTIONS and text[position:position + 1] \
                and (text[position].isalnum() or text[position] in "_("):
            fname = before.group(1)
            return f"a function is called with parentheses: {fname}({text[position:].split()[0]}) for '{fname} " \
                   f"{text[position:].split()[0]}'"
    return None


def _implicit_product(text: str, position: int):
    """``(number, name, back)`` when Python's "invalid decimal literal" at ``position`` is a number
    written against a name (``2x``, ``3.5y``, ``sin(2x)``); ``back``: how far the number starts before
    ``position``. None for anything else (``2e``: an exponent left unfinished, not a product)."""
    start = position
    while start > 0 and (text[start - 1].isdigit() or text[start - 1] in "._"):
        start -= 1
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        return None  # inside a name (x2.5y) or another literal
    found = _NUMBER_THEN_NAME.match(text, start)
    if found is None or found.end(1) < position or found.group(2)[0] in "eEjJ":
        return None
    return found.group(1), found.group(2), position - start


def _check_text(text: str) -> None:
    """What is refused before any parsing: empty, too long, NUL, bytes that were not UTF-8."""
    if not text or text.isspace():  # nothing but white space
        raise JacParseError("the expression is empty", 0)
    if text.isascii() and len(text) <= MAX_SOURCE_CHARS and "\x00" not in text:  # what the lines below pass
        return
    if len(text) > MAX_SOURCE_CHARS:
        raise JacLimitError(f"the expression has {len(text):,} characters; the limit is {MAX_SOURCE_CHARS:,} "
                            "(put long lists of numbers in a file: NAME=@data.npy)", None)
    if "\x00" in text:
        raise JacParseError("the expression contains a NUL character", text.index("\x00"))
    undecodable = _SURROGATE.search(text)  # bytes of the command line that were not UTF-8
    if undecodable:
        byte = ord(undecodable.group()) - 0xDC00
        raise JacParseError(f"the expression is not UTF-8 text (byte 0x{byte:02x})"
                            if byte >= 0x80 else "the expression holds a lone surrogate character",
                            undecodable.start())


def _parse_deep(text: str) -> ast.Module:
    """``ast.parse`` on a thread with a large stack, so long chains (a sum of 200,000
    terms) parse instead of overflowing the C stack or the recursion limit."""
    if len(text) < 2000:
        return _parse_quietly(text)
    return with_deep_stack(lambda: _parse_quietly(text), recursion_limit=1_000_000)


# CPython 3.11 keeps the AST constructor's recursion depth, and the warnings filters, per
# process: two threads parsing at once can fail with "SystemError: AST constructor recursion
# depth mismatch" (seen in tests/test_compiled.py's threads). Parses take turns behind this lock
# (a guard for the interpreter's state, holding none of jac's).
_AST_LOCK = fork_safe(threading.Lock())  # a fork meanwhile waits for the parse (deep.fork_safe)


# What Python's parser warns about (3.11: "invalid escape sequence" in a string, "invalid decimal literal" and
# its kin: a number written against a name, 1if x): a backslash, or a number whose whole literal (atomic: never a
# shorter one) is followed at once by a letter or _. A text without either parses without a warning, so without
# catch_warnings, which swaps the process's warning filters for the parse: every warning another thread of the
# program raised meanwhile was dropped (tests/test_threads41.py: 95 % of a thread's warnings during parses).
_MAY_WARN = re.compile(r"\\|(?<!\w)(?>0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+"
                       r"|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?)[^\W\d]")


def _parse_quietly(text: str) -> ast.Module:
    with _AST_LOCK:
        if _MAY_WARN.search(text) is None:
            return ast.parse(text, mode="exec")
        with warnings.catch_warnings():  # "SyntaxWarning: invalid decimal literal" is no news to a user
            warnings.simplefilter("ignore")
            return ast.parse(text, mode="exec")


class IndexExpression:  # NumPy names the class of np.s_ so
    """NumPy's ``np.s_`` / ``np.index_exp``: subscripted, the index written (``np.s_[1:3]`` is ``slice(1, 3)``)."""

    __slots__ = ("always_tuple",)

    def __init__(self, always_tuple: bool):
        self.always_tuple = always_tuple


class _Break(BaseException):
    """A ``break`` run (its ``if`` tests known without the values): the loop around it stops (:meth:`_Lowering.
    loop`). A BaseException, as vmapping's ``_Collective``: no ``except Exception`` on the way catches it."""


class _Continue(BaseException):
    """A ``continue`` run: the loop around it goes on with its next item."""


class _Return(BaseException):
    """A ``return VALUE`` run inside a block of a function's body (its ``if`` tests known without the values):
    the call of the function ends with ``value``, lowered at ``node`` (:meth:`_Lowering.call_function`)."""

    def __init__(self, value, node: ast.expr):
        super().__init__()
        self.value, self.node = value, node


class _Branch:
    """The branch a conditional expression's test chose (``a if test else b``): lowered next, its value the
    expression's (the walk's :meth:`_Lowering.expression`)."""

    __slots__ = ("node",)

    def __init__(self, node: ast.expr):
        self.node = node


class _Tail:
    """``items[start:]`` without the copy, as the operands of a ``BoolOp`` still to lower (:meth:`_Lowering.bool_op`)."""

    __slots__ = ("items", "start")

    def __init__(self, items, start: int):
        if type(items) is _Tail:
            items, start = items.items, items.start + start
        self.items, self.start = items, start

    def __len__(self) -> int:
        return len(self.items) - self.start

    def __getitem__(self, k: int):
        return self.items[self.start + k]

    def __iter__(self):
        return itertools.islice(self.items, self.start, None)


_MAX_RECURSION = 32  # calls of one function of the text inside itself (each written out)
_MAX_CALL_DEPTH = 100  # calls of the text's functions inside each other (each written out inside its caller's)
# Python's builtins that iterate their argument (Lowering.python_iterated): a list of arrays is its items
_PYTHON_ITERATING = frozenset(("sum", "max", "min", "any", "all"))


class _Unpacked:
    """``*value`` written in a call's arguments or a list: expanded by :meth:`_Lowering.unpacked`."""

    __slots__ = ("value", "position")

    def __init__(self, value, position: int):
        self.value, self.position = value, position


# the tables' lookups short_call makes, read once: Python 3.11 reads ``GLOBAL.get`` by a generic attribute
# lookup, a bound method made at each read (the tables are filled at import, the methods stay theirs)
_library_function, _function, _unary_op = LIBRARY_FUNCTIONS.get, FUNCTIONS.get, UNARY.get


class _Lowering:
    """Walks statements and turns each expression node into builder calls."""

    memory = None  # which names may share a buffer: made by program (only statements write)
    dialect = None  # "torch" or "numpy": the one library a text's calls name (_dialect), which its methods follow
    complex_values = False  # a complex value (lang/fourier.py) was made: nodes are asked whether they meet one
    unrolled = 0  # statements written out by 'for' loops so far (each instance counts its own)
    while_loops = 0  # jax.lax.while_loop calls written out so far (.whiles): a reverse transform over one is refused
    imported: dict = {}  # from torch.func import vmap, grad: {name: its whole spelling} (vmapping.imported); not written
    max_unrolled = _MAX_UNROLLED  # their budget, which vmap and JAX's loops (.vmapping) count against too
    remainder_of_dividend = False  # the text names PyTorch or JAX only: its % gives a zero the dividend's sign
    saving = False  # a PyTorch text with writes in place: savers registered (ir/saved.py, _Lowering.saved_by)
    float_names = None  # a text converting floats (x.float()): name -> (dtype, scope, value) (_Lowering.float_dtype)
    default_float = "default"  # what PyTorch's constructors make: "default" (float32), or the text's set_default_dtype
    converted = None  # the modules (id) whose dtype the text set (fc.double(), fc.to(torch.float64)) -> it, or None
    assigned_otherwise = frozenset()  # names bound other than by NAME = value (_assigned_otherwise)
    jax_reading = False  # the text names JAX only: its *, // and ** as JAX computes them (_JAX_OPERATORS)
    # the syntax nodes (id) that are Python sequences: list and tuple displays, x.shape and its slices, names
    # assigned one, whose + and * are Python's (concatenation, repetition), not element-wise arithmetic; read
    # off the syntax, as Python decides it (np.array([1, 2]) * 2 is an array, whatever node it lowers to); and
    # those of them that are tuples (displays, x.shape, x.size(), tuple(...)): x[t] with a tuple t is x[t[0], t[1]].
    # Made by program: a short text (no lists, no attributes) never has any
    sequences: set = frozenset()
    sequence_names: set = frozenset()
    tuples: set = frozenset()
    tuple_names: set = frozenset()
    # the syntax nodes (id) of a library's function given as a value where jac calls it: the function of
    # jax.tree_util.tree_map(jnp.zeros_like, params) and tree_reduce(jnp.add, tree) (.trees); a new set per addition
    library_arguments: frozenset = frozenset()
    folded: set = frozenset()  # ids of constants a list or tuple display made one array (program makes the set)
    # the constants a display or comprehension of Python's own values made one array ([x.shape], [(0, 1), (1, 2)],
    # [range(2)], [0, True], [t for t in ...]) -> per item, (what it is: "tuple", "list", "range", "bool" or None,
    # what its own items are: the same for an item that held some, or None): its items taken out (l[0], for s in
    # l, a, b = l) are those values again, which the constant's rows no longer say (program makes the dict; a bool
    # item is Python's bool); held_rows, those rows -> what each is. Read only where the syntax shows the list
    # (l[0] of a name holding it, for s in l): np.asarray(l) may be the same node. dict_kinds: id of a dict a
    # display made -> (the dict, its key -> what the value is): d['k'] a tuple ({'k': x.shape})
    held = MappingProxyType({})
    held_rows = MappingProxyType({})
    dict_kinds = MappingProxyType({})
    ranges: set = frozenset()  # ids of the constants range(...) made: Python's range has no + or * (program's set)
    displays = MappingProxyType({})  # folded id -> the display's elements: the pytree JAX sees (trees.unfolded)
    empties = MappingProxyType({})  # id of the constant an empty display () or [] made -> "tuple" / "list" (program)
    nested_names: frozenset = frozenset()  # names whose nested lists are written item by item (_nested_written)
    row_names: frozenset = frozenset()  # those among them another such list holds as an item (R = [a, b])
    inference: set = frozenset()  # ids of @torch.inference_mode() results, and copies of them (.inference)
    copies: set = frozenset()
    # the inputs the text makes (declare: x = torch.ones(3, requires_grad=True), fc = nn.Linear(3, 4)), name ->
    # value, and their tracers (model.parameters()); made at the first (a text without any never makes them)
    declared: dict | None = None
    leaves: dict | None = None
    random: set | None = None  # the names in declared whose values are jac's draws (torch.randn, a layer's)
    frozen: dict | None = None  # leaves made, then frozen (requires_grad_(False)): name -> values (lang/freeze.py)
    made: Made | None = None  # where declared, random and the text's gradient go (parse's made=)
    gradient: ast.expr | None = None  # V of the text's y.backward(gradient=V), lowered after y
    making: frozenset = frozenset()  # the classes of the text whose __init__ runs (one may not make itself)
    constructing = None  # the model Instance whose __init__ runs (its attributes set in loops too: own_attribute)
    grad_off = 0  # how deep the walk is in regions where PyTorch's gradients are off (no_grad; .decorators)
    pyiter_read = False  # the text may name lang/pyiter.py's spellings (set by program)
    # a text that imports a module is a Python program: its bare sum / max / any / round ... of arrays are Python's
    # builtins (lang/pybuiltins.py); the array libraries it may hold, or None for jac's own notation
    python_libraries = None
    # the state of the calls of the text's own functions, read here until a call sets its own (session 44: each set
    # in __init__ was ~0.1-0.5 k instructions of every parse, a short text's too, which calls none)
    calling = ()  # the functions of the text being called, outermost first (a recursion's depth)
    # per call open, outermost first: (does the caller's Python run it, so that its arguments are the caller's
    # very objects; the names local to the caller, None at the text's top level) (:meth:`follows`)
    sharing = ()
    locals = None  # the function being called: (its where, the names local to it), for its writes
    frame = None  # that call's Frame: what a function defined inside it sees of it once it returns
    returning = False  # the function being called returns inside a block: a 'return' run ends its call
    returned = None  # the expression the last such call returned (its Python sequence marks)

    def __init__(self, builder: Builder, source: Source | None, inputs: dict, values: dict | None = None,
                 constant: bool = False, made: Made | None = None):
        self.b = builder
        if made is not None:
            self.made = made
        builder.lowering = self  # its masked and value_of, for the functions that need them
        self.values = values
        self.value_only = constant
        if source is not None:  # else made when first asked (a short text's lowering never asks)
            self.source = source
        self.scope: dict[str, Tracer] = {}
        for name, shape in inputs.items():
            self.scope[name] = builder.input(name, shape)
        self.input_names = frozenset(inputs)
        self.output_statement: ast.stmt | None = None  # the text's last statement (program sets it)
        # a library's in-place call lowered among names of its own (functools.partial(F.relu, inplace=True)(t),
        # lang/pyiter.py): its write is made into the caller's name afterwards (value_in_place), not there
        self.in_place_outside = False

    @cached_property
    def replaced(self) -> dict:
        """id(list or dict) -> (it, what it became): the lists and dicts a call changed in place, whose caller's
        names are rebound to what they became when the call returns (:meth:`resolved`); made when first asked."""
        return {}

    @cached_property
    def value_tests(self) -> list:
        """(node id, position, kind) of the reads of the values: whiles.READS, fname; made when first asked."""
        return []

    @cached_property
    def reaches_inputs(self) -> dict:
        """Node id -> whether an input reaches it (:meth:`of_inputs`); made when first asked."""
        return {}

    @cached_property
    def source(self) -> Source:
        """The columns of the builder's text."""
        return Source(self.b.source)

    @cached_property
    def jax_made(self) -> set:
        """The constants that are JAX arrays (jnp.ones(3), and what JAX's ops make of them, c[0], c.sum()): made
        inside jax.jit or a loop's body, JAX traces them, so a Python read of one is recorded (value_tests) and
        refused there. Made when first asked (a short text's lowering never asks: a set() is ~1 k instructions)."""
        return set()

    @cached_property
    def computed(self) -> ValueMemo:
        """Node id -> its value at the given inputs (value_of), within max_bytes: made when first asked (a
        short text's lowering, most texts', never reads a value; a ValueMemo is ~3.7 k instructions)."""
        return ValueMemo()

    def program(self, module: ast.Module) -> Graph:
        self.memory = Memory(self.b, self.scope)  # the scope holds the inputs only, as yet
        self.sequences, self.sequence_names, self.tuples, self.tuple_names = set(), set(), set(), set()
        self.stacked = set()  # ids of the constants stacked of a tuple of arrays, (h0, c0): an LSTM's state is a pair
        self.folded = set()  # ids of the constants a list or tuple display made one array: a pytree refuses them
        self.held, self.held_rows, self.ranges, self.dict_kinds = {}, {}, set(), {}  # see the class's
        # ids of 0-d values a library call made (and arithmetic of them): "array" (NumPy's 0-d arrays, np.array(2.0)),
        # "numpy" (its scalars, np.float64(2)), "torch", "jax"; a Python tuple meets each as that library's type
        self.library_made = {}
        self.iterators = set()  # ids of reversed(s)'s results: an iterator, with no + or * (Python's TypeError)
        # itertools, functools, operator, zip / enumerate / map as values, math.prod (lang/pyiter.py) may be read
        self.pyiter_read = _PYITER_WORDS.search(self.source.body) is not None
        self.python_libraries = pybuiltins.libraries(module) if "import" in self.source.body else None
        self.displays = {}  # folded id -> the display's elements, read back as a pytree where one is meant
        self.empties = {}  # () and []: an empty array where an array is meant, no output (JAX: a pytree, no leaf)
        self.nested_names, self.row_names = _nested_written(module) if "[" in self.source.body else (frozenset(),) * 2
        self.module = module  # for displayed: is a () an argument (torch.tensor([]): an empty array, asked for)
        self.arguments = None
        self.inference, self.copies = set(), set()  # @torch.inference_mode()'s results (.inference)
        self.nograd_writes = {}  # id -> (a tensor a write under no_grad made, the one it wrote into) (.nograd)
        self.nograd_running = None  # the statement lang/nograd.py runs through run itself (not read again)
        if not module.body:
            raise JacParseError("the expression is empty", 0)
        # a PyTorch text that writes in place: the ops it spells that save tensors for backward are registered
        # (ir/saved.py), so a write into a saved tensor is refused as PyTorch's backward refuses it; the writes are
        # looked for in _dialect's walk (a walk of their own cost a cold call of a PyTorch text 5 %), where one may be
        self.dialect, self.remainder_of_dividend, self.jax_reading, writes = _dialect(
            module, self.scope, "=" in self.source.body or "_(" in self.source.body)
        if self.dialect not in ("torch", None):
            writes = False
        self.saving = not self.jax_reading and (writes == "torch" or bool(writes) and (
            self.dialect == "torch" or self.dialect is None and (_torch_method_called(module)  # t = x.exp(); t -= x
                                                                 or _tensor_method_called(module))))  # A.clone()
        # a text naming no library that calls a method PyTorch's Tensor alone has (t.mul_(2), t.exp(), t.clone()): it
        # runs in PyTorch alone, so a method the libraries read differently is PyTorch's (functions._method_transpose)
        self.tensor_only = self.dialect is None and not self.jax_reading and _tensor_only_text(module)
        # a PyTorch conversion (x.float(), x.to(torch.float64)) in the text: its products are checked for one float
        # dtype (_Lowering.one_float), with the names each plain assignment gave a dtype (float_names)
        self.float_names = {} if _CONVERTS.search(self.source.body) is not None else None
        # y[0].sin_(): the out-of-place call in_place_at writes back into y[0]; its receiver is the tensor PyTorch's
        # in-place op writes, whose old value autograd keeps itself (its other operands are saved as usual)
        self.in_place_value: ast.Call | None = None
        # the text's last statement, its output: 'y = True' there is no array to differentiate (a flag before it,
        # inplace = True, is Python's bool)
        self.output_statement = module.body[-1] if module.body else None
        self.in_place_found: int | None = None  # the node in_place_value lowered to (saved_by), written into y[...]
        # the layer the last module call ran and the result it gave (call_module), for saved_by to register what it
        # keeps where the text calls it by other than its own name (self.act(t), nn.ELU()(t), net[0](t))
        self.layer_called: tuple | None = None
        self.multi_views = set()  # ids of the views a call of several made (t.chunk(2), t.unbind(0)): lang/views.py
        # (position, node id) of each read by an index array computed from the inputs (y[y.argsort()]): a copy in
        # PyTorch and NumPy (an advanced index), so a name bound to it shares no buffer with the array read (new_buffer)
        self.gathered = set()
        # copies lowered onto their operand's node whose layout may differ from it (copies.hidden_layout): node id ->
        # how many such copies of it the text holds; id of the call's ast node -> (node id, the copy's layout)
        self.hidden_copies, self.copy_calls = {}, {}
        # session 57: the layouts of a text naming no library that PyTorch's .view(...) reads (a method's reduction,
        # B.sum(1): fresh and contiguous in PyTorch, not known in NumPy's reading), node id -> RESULT_LAYOUTS' kind
        self.view_layouts = {}
        self.assigned_otherwise = _assigned_otherwise(module) if self.float_names is not None else frozenset()
        self.imported = vmapping.imported(module) if "import" in self.source.body else {}
        if _FOREIGN_WORDS.search(self.source.body) is not None:  # else _foreign refuses nothing: not its walk
            _foreign(module, self.scope, self.source, self.imported)
        decorators.refuse_custom_rules(module, self.source)  # jax.custom_jvp, torch.autograd.Function: refused
        if "break" in self.source.body or "continue" in self.source.body:
            _refuse_loose_jump(module, self.source)
        if self.pyiter_read:  # an iterator read once, where Python reads it once (lang/pyiter.py)
            pyiter.refuse_reused(module, self.source)
        body = self.before_backward(module.body)
        for stmt in body[:-1]:
            if not self.declare(stmt):
                self.run(stmt)
        last = body[-1]
        if isinstance(last, (ast.Import, ast.ImportFrom)):
            _check_import(last, self.source)
            raise JacParseError("the last statement is the output: an expression (loss, or a, b for several), "
                                "not an import", self.source.at(last))
        if isinstance(last, (ast.For, ast.While)) and any(_backward_call(node) is not None for node in ast.walk(last)
                                                         if isinstance(node, ast.stmt)):
            raise JacParseError("a training loop: each step changes the parameters, and jac computes the gradients "
                                "at the parameters as made: write the loop's body once, ending with "
                                "loss.backward() (jac prints what .grad holds there)", self.source.at(last))
        if isinstance(last, (ast.For, ast.While, ast.If)):
            kind = ("an 'if' statement", "statement") if isinstance(last, ast.If) else \
                (f"a '{'for' if isinstance(last, ast.For) else 'while'}' loop", "loop")
            raise JacParseError(f"the last statement is the output: an expression (loss, or a, b for several), not "
                                f"{kind[0]}; end the text with the result the {kind[1]} computes", self.source.at(last))
        self.backward(last)
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Tuple) and last.value.elts:
            outputs = self.outputs(last.value)  # (a,): one output, named as the contract names a tuple's (a, y0)
            if len(outputs) == 1:
                return self.b.graph(self.b.name(outputs[0][1], outputs[0][0]), outputs)
            if outputs:
                return self.b.graph(outputs[0][1], outputs)
        unpacked = _unpacked_names(last)
        if unpacked is not None:  # q, r = torch.linalg.qr(A): the outputs are q and r, as if 'q, r' followed
            self.run(last)
            for elt in unpacked.elts:  # y, vjp_fn = jax.vjp(f, x): a function is no output (output says so)
                if isinstance(self.scope.get(elt.id), (Linear, Function, Module, Sequential)):
                    return self.output(self.scope[elt.id], self.source.at(elt))
            outputs = self.outputs(unpacked)
            if outputs:
                return self.b.graph(outputs[0][1], outputs)
        value = self.statement(last)
        if isinstance(last, ast.FunctionDef) and last.decorator_list and not isinstance(value, Function) \
                and not (isinstance(value, vmapping.Staged) and isinstance(value.fn, Function)):  # @jax.jit: called
            decorators.refuse_ending_definition(last, self.source.at(last))  # @jax.grad def f: no array to print
        if self.gradient is not None:  # y.backward(gradient=V): V, once y is made
            self.text_gradient(value)
        named = last.value.id if isinstance(last, ast.Expr) and isinstance(last.value, ast.Name) else \
            last.targets[0].id if isinstance(last, ast.Assign) and len(last.targets) == 1 and \
            isinstance(last.targets[0], ast.Name) else None  # grads = jax.grad(loss)(params): named as 'grads' is
        if type(value) is Dict and self.value_only:  # x='{"a": 1}': a binding's value is one array (its leaf was taken)
            raise JacValueError("the value is a dict, not an array (a value is written as x=2, x=[1, 2] or x=ones(3); "
                                "a .json file may hold several inputs by name)", self.source.at(last))
        if type(value) is Dict or named is not None and type(value) is Items and not value.fields:
            outputs = self.tree_outputs(named or "y", value, self.source.at(last))  # grads: one output per leaf
            if len(outputs) == 1:  # {'w': ...}: one output, named by its path (held as the graph's one named
                return self.b.graph(self.b.name(outputs[0][1], outputs[0][0]), outputs)  # output: x, a have names)
            if outputs:
                return self.b.graph(outputs[0][1], outputs)
        graph = self.output(value, self.source.at(last))
        if isinstance(last, ast.Expr) and named is not None and named not in graph.inputs and \
                graph.nodes[graph.output].name not in (None, named) and not graph.outputs:
            # t3 = t2.cpu(); t3 (or t3 = t2, y = x): one node with two names; the output is called as the text
            # ends, t3, as (t3,) calls it, not by the name the node was made under (a nameless node, pi or a
            # constant, keeps y, as the short reader gives it: tests/test_chain.py)
            graph = graph.named_output(named)
        return graph

    def field_outputs(self, parts: list, position: int) -> Graph:
        """The graph of a last statement that is a named tuple of the library (``torch.linalg.qr(A)``,
        ``torch.max(x, 1)``): one output per field, named as the library names it (``Q``, ``R``; ``values``,
        ``indices``), as if the text ended ``Q, R = torch.linalg.qr(A); Q, R``. ``parts`` pairs each name with
        what makes its array (a part jac refuses to compute says so when made)."""
        taken = [name for name, _ in parts if name in self.scope]
        if taken:
            fields = ", ".join(name for name, _ in parts)
            own = ", ".join(n.lower() + "_" * (n.lower() in self.scope) for n, _ in parts)
            raise JacNameError(f"the last statement is a tuple whose parts are named {fields}, and '{taken[0]}' is "
                               f"already a name of the expression: unpack it into names of your own and list them "
                               f"({own} = ...; {own})", position)
        outputs = tuple((name, self.b.lift(make())) for name, make in parts)
        return self.b.graph(outputs[0][1], outputs)

    def tree_outputs(self, prefix: str, value, position: int) -> list:
        """The outputs of a pytree (:mod:`.trees`), one per leaf, named by ``prefix`` and the leaf's path as
        ``jax.tree_util.keystr`` writes it (``grads['W']``, ``params[0][1]``); [] for a value holding what is no
        array (a tuple holding vjp_fn: :meth:`output` says what to write)."""
        try:
            leaves, tree = trees.flatten(value, "the output", position, sort=False, folded=self.folded)
        except JacValueError:
            if type(value) is Dict:
                raise
            return []
        if not leaves:
            raise JacValueError("the last statement is a pytree without arrays (only None): there is no output",
                                position)
        if prefix == "y" and "y" in self.scope:
            raise JacNameError("the output pytree's arrays would be named y[...], and 'y' is a name of the "
                               "expression: assign the pytree to a name (out = ...) and end with that", position)
        named = [(prefix + path, leaf) for path, leaf in zip(trees.paths(tree), leaves)]
        for name, leaf in named:
            self.refuse_empty(leaf, f"the output {name}", position)
        return [(name, self.b.lift(leaf)) for name, leaf in named]

    def displayed(self, node: ast.expr) -> bool:
        """Is the empty display ``node`` written for itself, not as a call's argument (``torch.tensor([])``,
        ``np.array(())``: an empty array, asked for; the constant is the call's result)?"""
        if self.arguments is None:
            self.arguments = {id(a) for call in ast.walk(self.module) if isinstance(call, ast.Call)
                              for a in [*call.args, *(k.value for k in call.keywords)]}
        return id(node) not in self.arguments

    def refuse_empty(self, value, what: str, position: int):
        """Refuse an output that is an empty display, ``()`` or ``[]``: the contract's tuple of no outputs (and JAX's
        pytree without a leaf), where NumPy's ``np.asarray(())`` would be an empty array: the readings differ, so
        neither is guessed."""
        kind = self.empties.get(value.id) if type(value) is Tracer else None
        if kind is not None:
            raise JacValueError(_empty_output(what, kind), position)

    def run(self, stmt: ast.stmt, where: str | None = None):
        """A statement before the last, of the text or (``where``: "inside f()") of a function's body."""
        if type(stmt) is ast.Return and self.returning:  # inside a block of a function returning there
            raise _Return(None if stmt.value is None else self.returned_copy(stmt.value, self.expression(stmt.value)),
                          stmt.value)
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):  # pasted code's 'import torch.nn.functional as F'
            _check_import(stmt, self.source)
            return
        if self.constructing is not None and self.own_attribute(stmt):  # setattr(self, f'act{i}', m) in a loop
            return
        if _no_effect(stmt) or self.marks_input(stmt) or self.retains_grad(stmt):  # a docstring, 'pass', 'x: Tensor',
            return  # x.requires_grad_(), y.retain_grad()
        if (self.declared or self.frozen) and (setparams.statement(self, stmt) or freeze.statement(self, stmt)):
            return  # nn.init.zeros_(fc.bias), fc.weight.copy_(W) under no_grad, fc.weight.data = W: a parameter's
            # values set before its first use (lang/setparams.py); fc.weight.requires_grad_(False) (lang/freeze.py)
        if self.flattens(stmt):  # rnn.flatten_parameters(): cuDNN's memory layout, nothing to compute
            return
        if type(stmt) is ast.Expr and type(stmt.value) is ast.Call and "_(" in self.source.body:
            spelled = self.in_place_function(stmt.value)
            if spelled is not None:  # torch.relu_(h): h.relu_(); F.leaky_relu_(h, 0.2): F.leaky_relu(h, 0.2, inplace=True)
                stmt = ast.copy_location(ast.Expr(value=spelled), stmt)
            stmt = self.through_itself(stmt)
        if nograd.statement(self, stmt, where):  # y.sigmoid_() under no_grad, y.data.mul_(2): not recorded (.nograd)
            return
        if custom.statement(self, stmt):  # ctx.save_for_backward(x), ctx.k = 3, f.defvjp(fwd, bwd) (lang/custom.py)
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "print" \
                and "print" not in self.scope:
            raise JacNameError(_PRINT, self.source.at(stmt))
        if self.module_statement(stmt):  # layers.append(nn.Linear(3, 3)), model.eval()
            return
        if "." in self.source.body and plain.statement(self, stmt):  # self.t = self.t + 1, kf.step(z) (lang/plain.py)
            return
        on = _call_on_name(stmt)
        if on is not None and type(self.scope.get(on[0])) is Dict:  # d.update(...): refused saying why (.trees)
            trees.refuse_statement(on[1], self.source.at(stmt))
        owner = self.scope.get(on[0]) if on is not None else None
        if isinstance(owner, (Instance, Module, Sequential, Optimizer)):
            name, method = on
            at = self.source.end(stmt.value.func) - len(method)
            if method == "zero_grad":
                return  # gradients start at zero
            if isinstance(owner, Optimizer):
                raise JacValueError(f"{name}.{method}() before the gradients are computed: an optimizer's step "
                                    f"changes the parameters, and jac computes the gradients at the parameters as "
                                    f"made (what .grad holds after loss.backward(), before any step): end the "
                                    f"text with loss.backward()", at)
        if self.default_dtype_set(stmt):  # torch.set_default_dtype(torch.float64): its constructors' dtype from here
            return
        setting = _global_setting(stmt)
        if setting is not None:  # pasted code's torch.manual_seed(0): what jac has instead
            raise JacParseError(setting, self.source.at(stmt))
        self.backward(stmt)
        if self.appended(stmt):
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
                and isinstance(self.scope.get(stmt.value.func.id), Function):  # fill(R, i, j, v): called for what it
            self.expression(stmt.value)  # changes in place (its caller's lists, changed_by_call); its value dropped
            return
        if isinstance(stmt, ast.Expr) and not _in_place_method(stmt.value) and not _numpy_put(stmt.value) \
                and not _autodiff_call(stmt.value) and not _view_in_place(stmt.value) \
                and not (isinstance(stmt.value, ast.Call) and (
                    self.writes_inplace(stmt.value)  # F.relu(y, inplace=True), act(y) of a partial
                    or self.module_in_place(stmt.value))):
            # x.retain_grad() is refused as what it is, by its lowering
            out = next((k for k in stmt.value.keywords if k.arg == "out"), None) \
                if isinstance(stmt.value, ast.Call) else None
            if out is not None:  # torch.add(x, 1.0, out=y): a write into y that jac does not read
                raise JacParseError(f"out= writes the result into an array, which jac does not read: assign it "
                                    f"instead ({ast.unparse(out.value)} = {ast.unparse(stmt.value.func)}(...) without "
                                    "out=)", self.source.at(out))
            viewed = _view_written(stmt.value)
            if viewed is not None and type(self.scope.get(viewed[1])) is Tracer:  # x.view(-1)[0].neg_(), x.T.abs_()
                raise JacValueError(_VIEW_WRITTEN.format(view=viewed[0], method=stmt.value.func.attr, name=viewed[1]),
                                    self.source.at(stmt))
            field = _named_field(self, stmt.value.func.value) if isinstance(stmt.value, ast.Call) \
                and isinstance(stmt.value.func, ast.Attribute) and stmt.value.func.attr.endswith("_") else None
            if field is not None:  # p.U.add_(1) of p = torch.linalg.svd(x): not a layer's parameter
                raise JacValueError(_TUPLE_ITEM_WRITTEN.format(what=f"{ast.unparse(stmt.value.func)}(...)",
                                                               name=field[0], words=_tuple_words(field[1])),
                                    self.source.at(stmt))
            hint = _in_place_hint(stmt.value)
            if hint is not None:  # y.sort(), y.fill(0), np.put(y, ...): NumPy's writes jac does not read
                raise JacParseError(hint, self.source.at(stmt))
            self.written_copy(stmt.value)  # t.flip(0).add_(1): PyTorch writes into a copy no name holds
            if _in_place_on_call(stmt.value):  # f(c).mul_(2): a write through what f returns, a view of c maybe
                self.expression(stmt.value)  # (followed as in on = f(c).mul_(2).sum()); its value dropped
                return
            # an expression statement writes nothing (y.add_(1) and np.put_along_axis do): a slip, 1;2 for [1, 2]
            raise JacParseError("this statement's value is never used: only the last statement is the result "
                                "(for several outputs list them, a, b; to use a value later, name it, a = ...; "
                                "a vector is [1, 2], a matrix [[1, 2], [3, 4]])",
                                self.source.at(stmt))
        if where is not None and _writes(stmt):
            written = _written_name(stmt)
            if self.locals is None or self.locals[0] != where or written is None:  # __init__, a no_grad block
                raise JacParseError(f"writing into an array {where} (y += v, y[i] = v, y.add_(v)) is not supported: "
                                    "write y = y + v", self.source.at(stmt))
            if written not in self.locals[1] and not self.python_container(written):  # an array of the text
                # outside: the write would change it there (a list or dict: the caller sees it, changed_by_call)
                raise JacParseError(f"writing into '{written}' {where}: '{written}' is not the function's own (a "
                                    "parameter or a name it assigns), and the write would change it outside too, "
                                    f"which jac's values cannot follow; assign a copy first ({written} = "
                                    f"{written}.clone()) or return the new value", self.source.at(stmt))
        self.statement(stmt, where)

    def declare(self, stmt: ast.stmt) -> bool:
        """A statement of the text's top level that makes a leaf as PyTorch does, ``x = torch.tensor([1., 2.],
        requires_grad=True)`` or ``w = torch.randn(3, 4).requires_grad_()``: ``x`` is an input from here on,
        its value the constructor's (lowered as without ``requires_grad``: ``torch.randn`` draws what it draws
        there), kept in :attr:`declared`. The other statements that make inputs or what reads them go to their
        own: a class of ``nn.Module`` (:meth:`declare_class`), a layer (:meth:`declare_layers`), an instance of
        the class (:meth:`declare_instance`), an optimizer (:meth:`declare_optimizer`). False for any other."""
        found = _declaring(stmt)
        if found is not None and not isinstance(found[1], ast.Call) and not self.constant_syntax(found[1]):
            found = None  # y = (x * 2).requires_grad_(): x * 2 requires grad already, and PyTorch leaves it as it is
        if found is None:
            if custom.declare_class(self, stmt):  # class F(torch.autograd.Function) (lang/custom.py)
                return True
            return self.declare_class(stmt) or self.declare_layers(stmt) or self.declare_instance(stmt) \
                or self.declare_optimizer(stmt) or self.declare_marked(stmt)
        name, call, keyword = found
        position = self.source.at(stmt)
        self.unbound(name, f"{name} = ...(requires_grad=True) makes it an input with that value", position)
        value, drawn = self.leaf_value(name, call, keyword)
        tracer = self.new_input(name, value, position, drawn)
        self.scope[name] = tracer
        self.memory.input(name, tracer)
        if self.float_names is not None:  # u = torch.tensor([...], dtype=torch.float64, requires_grad=True)
            self.float_names[name] = (self.float_dtype(found[1]), self.scope, tracer)
        return True

    def constant_syntax(self, node: ast.expr) -> bool:
        """Does ``node`` name no value but constants (``0.1 * torch.rand(3)``; not ``x * 2`` of an input x)?"""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                value = self.scope.get(sub.id)
                if isinstance(value, Tracer) and self.b.nodes[value.id].op != "const":
                    return False
        return True

    def leaf_value(self, name: str, call: ast.expr, keyword) -> tuple:
        """The value of the leaf ``name`` that ``call`` makes (its ``requires_grad`` keyword left out), in --dtype,
        and whether it holds jac's draws (torch.randn: :attr:`Builder.random`)."""
        made_by = ast.unparse(call.func).rsplit(".", 1)[-1] if isinstance(call, ast.Call) else None
        if made_by in ("empty", "empty_like", "empty_strided"):
            raise JacValueError(f"'{name}' = {made_by}(...): its values are whatever memory held, in PyTorch; "
                                f"give the input values (torch.randn, torch.zeros, torch.tensor([...]))",
                                self.source.at(call))
        if keyword is not None:  # (a call: requires_grad=True is its keyword)
            call = ast.copy_location(ast.Call(func=call.func, args=call.args,
                                              keywords=[k for k in call.keywords if k is not keyword]), call)
        made = self.expression(call)
        node = self.b.nodes[made.id] if type(made) is Tracer else None
        if node is None or node.op != "const":
            raise JacValueError(f"'{name}' made with requires_grad=True is an input, whose value must be known "
                                f"without the other inputs (numbers, torch.tensor([...]), torch.randn(3), ...): "
                                f"a tensor computed from inputs is no leaf in PyTorch either", self.source.at(call))
        kind = dtypes.kind_of(self.b, made.id)
        if kind is not None:
            raise JacValueError(f"'{name}': PyTorch says: Only Tensors of floating point and complex dtype can "
                                f"require gradients (its value is {kind[0]}: write floats, [1., 2.], or "
                                f"dtype=torch.float64)", self.source.at(call))
        return np.array(node.value, dtype=self.b.dtype), made.id in self.b.random

    def unbound(self, name: str, made: str, position: int) -> None:
        """Refuse a name the text makes an input of (``made`` says how) that a binding binds too."""
        if name in self.input_names:
            raise JacUsageError(f"'{name}' is bound twice: by a binding ({name}=VALUE, {name}:SHAPE) and in the "
                                f"text, where {made}: drop one", position)

    def new_input(self, name: str, value: np.ndarray, position: int, drawn: bool = False) -> Tracer:
        """An input the text makes, ``name`` (``x``, ``fc.weight``) of ``value``, kept in :attr:`declared`;
        ``drawn``: the value is jac's draw (:attr:`random`), not the number PyTorch would draw."""
        if self.declared is None:
            self.declared = {}
            if self.made is not None:
                self.made.values = self.declared
        if drawn:
            self.mark_drawn(name)
        if self.leaves is None:
            self.leaves = {}
        if name in self.declared:
            raise JacParseError(f"'{name}' is made twice (with requires_grad=True, or as a layer's parameter): "
                                f"PyTorch's first leaf would be lost to the second; name them apart", position)
        value.flags.writeable = False  # shared by every call of the compiled function
        if self.frozen:
            freeze.made_again(self, name)
        tracer = self.b.input(name, value.shape, position)
        self.declared[name] = value
        self.leaves[name] = tracer
        if self.values is not None:  # a mask computed from the inputs reads this one's value too
            self.values = {**self.values, name: value}
        return tracer

    def mark_drawn(self, name: str) -> None:
        """The input ``name`` the text made holds jac's draws (:attr:`random`: shown "drawn by jac")."""
        if self.random is None:
            self.random = set()
            if self.made is not None:
                self.made.random = self.random
        self.random.add(name)

    def declare_layers(self, stmt: ast.stmt) -> bool:
        """``fc = nn.Linear(3, 4)``, ``model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))`` at the
        text's top level: the layers' parameters are inputs the text makes, named as PyTorch's
        ``named_parameters()`` names them (``fc.weight``; ``model.0.bias``), drawn as PyTorch draws them
        (:func:`~jacobi_cli.lang.modules.layer`). False for any other statement."""
        found = _assigned_call(stmt)
        call, then = _made_then(found[1]) if found is not None else (None, [])
        if found is None or not self.holds_layer(call):  # model = nn.Sequential(...).to(device).eval()
            return False
        name = found[0]
        self.unbound(name, f"{name} = nn... makes its parameters inputs", self.source.at(stmt))
        self.scope[name] = self.made_layer(call, name)
        self.made_then(self.scope[name], then)
        return True

    def made_then(self, made, then: list) -> None:
        """The methods a module just made is called with where it is assigned (``Net().to(device).eval()``), in
        order: each returns the module (:meth:`module_method`)."""
        for call in then:
            position = self.source.end(call.func) - len(call.func.attr)
            _, args, kwargs = self.call_arguments(call)
            self.module_method(made, call.func.attr, args, kwargs, position)

    def call_arguments(self, call: ast.Call) -> tuple:
        """``call``'s arguments lowered one by one, as a statement that reads a call off the text lowers them (a
        module made, a model's instance): the call with ``*seq`` and ``**mapping`` written out
        (:func:`~jacobi_cli.lang.starred.expand`), its positional arguments' values and its keywords'."""
        kids = [_Unpacked(self.expression(a.value), self.source.at(a)) if type(a) is ast.Starred
                else self.expression(a) for a in call.args] + [self.expression(k.value) for k in call.keywords]
        if starred.has_stars(call):
            call, kids = starred.expand(self, call, kids, _Unpacked, self.unpacked)
        args = kids[:len(call.args)]
        return call, args, {k.arg: v for k, v in zip(call.keywords, kids[len(args):])}

    def layer_class(self, call: ast.Call) -> str | None:
        """``Linear`` of ``nn.Linear(...)`` (any spelling of torch.nn), else None."""
        func = call.func
        if isinstance(func, ast.Attribute) and LIBRARIES.get(self.module_path(func.value)) == "torch.nn":
            return func.attr
        return None

    def holds_layer(self, call: ast.Call) -> bool:
        """Does ``call`` make a layer with parameters (:data:`LAYERS`, a recurrent one or attention:
        :data:`~jacobi_cli.lang.recurrent.RECURRENT`), a norm or nn.PReLU (their parameters inputs once named),
        or a container of modules (nn.Sequential, nn.ModuleList, nn.ModuleDict)?"""
        cls = self.layer_class(call)
        return cls in LAYERS or cls in RECURRENT or cls in NORMS or cls in _CONTAINERS or cls in TRANSFORMER

    def made_layer(self, call: ast.Call, prefix: str):
        """The module ``call`` makes, its parameters named from ``prefix`` (nn.Sequential's by position)."""
        cls = self.layer_class(call)
        position = self.source.end(call.func) - len(cls)
        if cls in _CONTAINERS and not any(k.arg is None for k in call.keywords):  # nn.Sequential(*layers)
            return self.container(cls, call, prefix, position)
        if cls in TRANSFORMER:  # its modules made with their parameters pending, then named (session 55)
            return self.named_module(self.expression(call), prefix, position)
        if cls in NORMS:  # the module as made elsewhere, its parameters inputs named from prefix
            made = self.expression(call)
            made.params = {key: self.new_input(f"{prefix}.{key}", value, position)
                           for key, value in norm_parameters(self.b, made, position).items()}
            made.prefix = prefix
            made.written_dtype = _written_dtype(made.kwargs.get("dtype"))
            return made
        _, args, kwargs = self.call_arguments(call)  # nn.Linear(3, 2, **kwargs): written out (session 54)
        since = self.b.draws

        def make(suffix: str, value: np.ndarray) -> Tracer:  # each parameter made right after it is drawn (or not)
            nonlocal since
            drawn, since = self.b.draws > since, self.b.draws
            return self.new_input(f"{prefix}.{suffix}", value, position, drawn)
        made = (recurrent if cls in RECURRENT else layer)(self.b, cls, args, kwargs, position, make)
        made.prefix = prefix
        made.written_dtype = _written_dtype(kwargs.get("dtype"))
        return made

    def container(self, cls: str, call: ast.Call, prefix: str, position: int):
        """``nn.Sequential(m1, m2)`` (or ``nn.Sequential(OrderedDict([('fc', m1), ...]))``), ``nn.ModuleList([...])``
        (a list, or a comprehension: each element made with its index), ``nn.ModuleDict({'a': m, ...})``: its
        modules made (:meth:`module_value`), their parameters named ``prefix.KEY....`` as PyTorch's
        ``named_parameters()`` names them."""
        if call.keywords:
            raise JacValueError(f"nn.{cls}() takes its modules as positional arguments", position)
        if cls == "Sequential":
            pairs = self.named_items(call.args[0], cls, position) \
                if len(call.args) == 1 and _ordered_dict(call.args[0]) else list(enumerate(self.spread(call.args)))
            made = Sequential([], [])
        else:
            if len(call.args) > 1:
                raise JacValueError(f"nn.{cls}() takes one argument, the modules", position)
            given = call.args[0] if call.args else None
            made = ModuleList([]) if cls == "ModuleList" else ModuleDict([], [])
            if isinstance(given, (ast.ListComp, ast.GeneratorExp)) and cls == "ModuleList":
                made.modules = self.comprehension(given, position,
                                                  lambda i: self.module_value(given.elt, f"{prefix}.{i}"))
                made.names = [str(i) for i in range(len(made.modules))]
                made.prefix = prefix
                return made
            if given is None:
                pairs = []
            elif cls == "ModuleList" and isinstance(given, (ast.List, ast.Tuple)):
                pairs = list(enumerate(self.spread(given.elts)))
            elif cls == "ModuleDict":
                pairs = self.named_items(given, cls, position)
            else:  # nn.ModuleList(layers) of a list of modules made before
                pairs = list(enumerate(self.spread([ast.Starred(value=given, ctx=ast.Load())])))
        made.modules = [self.module_value(node, f"{prefix}.{key}") if isinstance(node, ast.AST)
                        else self.named_module(node, f"{prefix}.{key}", position) for key, node in pairs]
        made.names = [str(key) for key, _ in pairs]
        made.prefix = prefix
        return made

    def spread(self, nodes: list) -> list:
        """A container's modules as written: each node, or for ``*layers`` (and a list of modules given whole)
        the modules of the list the text made before, as values."""
        out = []
        for node in nodes:
            if not isinstance(node, ast.Starred):
                out.append(node)
                continue
            value = self.expression(node.value)
            if not isinstance(value, Listed) or not all(isinstance(m, (Module, Sequential, Instance)) for m in value):
                raise JacValueError("a container takes modules: written in the call ([nn.Linear(3, 3), nn.ReLU()], "
                                    "[nn.Linear(d, d) for _ in range(3)]) or a list of modules made before "
                                    "(layers = []; layers.append(nn.Linear(3, 3)); nn.Sequential(*layers))",
                                    self.source.at(node.value))
            out.extend(value)
        return out

    def named_module(self, module, prefix: str, position: int):
        """``module``, made where it had no name (an element of a list of modules), named ``prefix`` by the
        container or attribute that holds it: its parameters drawn then (a norm's as made) become inputs named as
        PyTorch names them. A module named before keeps its names (PyTorch's first name of a shared module)."""
        todo = [(prefix, module)]
        while todo:
            name, held = todo.pop()
            if isinstance(held, Instance) or held.prefix is not None:
                continue
            held.prefix = name
            if isinstance(held, Sequential):
                todo.extend(reversed([(f"{name}.{key}", child) for key, child in held.children()]))
                continue
            todo.extend(reversed([(f"{name}.{key}", child) for key, child in held.children()]))  # attention's out_proj
            norm = held.cls in NORMS and not held.params
            drawn = norm_parameters(self.b, held, position) if norm else \
                {k: v.value for k, v in held.params.items() if isinstance(v, Pending)}
            if drawn and held.called:
                raise JacValueError(f"nn.{held.cls}(...) was called before a container or an attribute named it: its "
                                    f"parameters are inputs only once named; call it after", position)
            for key, value in drawn.items():
                # a norm's are ones and zeros; a Pending one was drawn by modules.layer (it draws every parameter)
                held.params[key] = self.new_input(f"{name}.{key}", value, position, not norm)
                if key in held.kwargs:
                    held.kwargs[key] = held.params[key]
        return module

    def named_items(self, node: ast.expr, cls: str, position: int) -> list:
        """The (name, module's syntax) pairs of ``{'a': m, ...}``, ``[('a', m), ...]`` or ``OrderedDict([...])``:
        names written as strings, each once."""
        if _ordered_dict(node):
            node = node.args[0] if node.args else ast.List(elts=[])
        if isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values))
        elif isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Tuple) and len(e.elts) == 2
                                                             for e in node.elts):
            pairs = [tuple(e.elts) for e in node.elts]
        else:
            pairs = None
        if pairs is None or not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k, _ in pairs):
            raise JacValueError(f"nn.{cls}() takes its modules with their names written as strings: {{'a': "
                                f"nn.Linear(3, 3)}}, [('a', nn.Linear(3, 3))] or OrderedDict([...])", position)
        names = [k.value for k, _ in pairs]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise JacValueError(f"nn.{cls}(): the name {twice!r} is given twice (PyTorch keeps the last module "
                                f"under it): name them apart", position)
        return [(k.value, v) for k, v in pairs]

    def module_value(self, node: ast.expr, name: str):
        """The module that ``node`` makes or names, held in a container or set as ``self.NAME`` (``name`` its full
        name): a layer or container made here (its parameters named from ``name``), an instance of a model class
        of the text, or a module without parameters."""
        if isinstance(node, ast.Call) and self.holds_layer(node):
            return self.made_layer(node, name)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and isinstance(self.scope.get(node.func.id), (ModelClass, PlainClass)):
            return self.instance(self.scope[node.func.id], node, name)
        value = self.expression(node)
        if not isinstance(value, (Module, Sequential, Instance)):
            raise JacValueError(f"'{ast.unparse(node)}' is not a module: a container holds modules (nn.Linear(3, 3), "
                                f"nn.ReLU(), a model of the text)", self.source.at(node))
        return self.named_module(value, name, self.source.at(node))

    def module_statement(self, stmt: ast.stmt) -> bool:
        """``layers.append(nn.Linear(3, 3))`` / ``.extend([...])`` of an ``nn.ModuleList`` or ``nn.Sequential`` (named
        by its length), and the other methods of a module as statements (:meth:`module_method`: ``model.eval()``,
        ``self.register_buffer(...)``). False for any other statement."""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr != "zero_grad"):
            return False
        base = call.func.value
        while isinstance(base, ast.Attribute):
            base = base.value
        if not (isinstance(base, ast.Name) and isinstance(self.scope.get(base.id), (Module, Sequential, Instance))):
            return False
        owner = self.expression(call.func.value)
        method, position = call.func.attr, self.source.end(call.func) - len(call.func.attr)
        if not isinstance(owner, (Module, Sequential, Instance)) or isinstance(owner, Instance) \
                and method in owner.cls.methods:
            return False
        if not (isinstance(owner, Sequential) and not isinstance(owner, ModuleDict)
                and method in ("append", "extend")):  # model.eval(), self.register_buffer(...), model.cuda()
            self.module_method(owner, method, [self.expression(a) for a in call.args],
                               {k.arg: self.expression(k.value) for k in call.keywords}, position)
            return True
        if len(call.args) != 1 or call.keywords:
            raise JacValueError(f"nn.{owner.cls}'s {method}() takes one argument", position)
        if owner.prefix is None:  # a slice, model[:2]: a container of its own, which no name holds
            raise JacValueError(f"{method}() to an nn.{owner.cls} made at the text's top level or in __init__ (this "
                                f"one has no name its modules' parameters could be named from)", position)
        given = call.args[0]
        if method == "append":
            nodes = [given]
        elif isinstance(given, (ast.List, ast.Tuple)):
            nodes = given.elts
        else:
            raise JacValueError(f"nn.{owner.cls}'s extend() takes the modules written in the call, [m1, m2]",
                                position)
        for node in nodes:
            owner.add(self.module_value(node, f"{owner.prefix}.{len(owner.modules)}"))
        return True

    def module_method(self, module, method: str, args: list, kwargs: dict, position: int):
        """``module.METHOD(...)`` of a module, a container or an instance of a model class: ``parameters()``,
        ``named_parameters()`` (PyTorch's names and order), ``children()``, ``eval()`` / ``train(mode=True)``
        (returning the module), a ModuleDict's ``keys()`` / ``values()`` / ``items()``; any other refused."""
        if method == "train":
            given = {**dict(zip(("mode",), args)), **kwargs}
            if len(args) > 1 or set(kwargs) - {"mode"} or len(given) < len(args) + len(kwargs):
                raise JacValueError(".train() takes one argument, mode (True or False)", position)
            mode = given.get("mode", True)
            if not isinstance(mode, bool):
                raise JacValueError(".train(mode): mode must be True or False", position)
            set_training(module, mode)
            return module
        if method == "register_buffer" and isinstance(module, Instance):
            return self.register_buffer(module, args, kwargs, position)
        if method in ("to", "cpu", "cuda", "double", "float"):  # model.to(device): lang/devices.py
            found = module_to(self.b, module, method, args, kwargs, position)
            if method != "cpu":  # its parameters' dtype is no longer PyTorch's default (_Lowering.layer_of_one_float)
                self.converted = {**(self.converted or {}), id(module): _converted_to(method, args, kwargs)}
            return found
        if method == "apply":  # model.apply(init_weights): fn on each module, children first (PyTorch's order)
            return self.applied(module, args, kwargs, position)
        if method == "requires_grad_":  # model.backbone.requires_grad_(False): its parameters (lang/freeze.py)
            freeze.module(self, module, args, kwargs, position)
            return module
        if args or kwargs:
            raise JacValueError(f".{method}() is called without arguments here", position)
        if method == "eval":
            set_training(module, False)
            return module
        if method == "parameters":
            return Items(t for _, t in named_parameters(module))
        if method == "named_parameters":
            return Listed((Static(name), t) for name, t in named_parameters(module))
        if method == "children":
            return Listed(child for _, child in module.children())
        if method in ("modules", "named_modules"):  # for m in model.modules(): PyTorch's order, the model first
            walked = named_modules(module)
            return Listed(m for _, m in walked) if method == "modules" else \
                Listed((Static(name), m) for name, m in walked)
        if method == "named_children":
            return Listed((Static(name), child) for name, child in module.children())
        if isinstance(module, ModuleDict) and method in ("keys", "values", "items"):
            pairs = module.children()
            return Listed(Static(k) for k, _ in pairs) if method == "keys" else \
                Listed(m for _, m in pairs) if method == "values" else Listed((Static(k), m) for k, m in pairs)
        what = module.cls.name if isinstance(module, Instance) else f"nn.{module.cls}"
        raise JacNameError(f"{what} has no method '{method}' jac reads (it reads parameters(), named_parameters(), "
                           f"children(), modules(), named_modules(), eval(), train(), to()" + (
                               ", keys(), values(), items()" if isinstance(
                               module, ModuleDict) else "") + ")", position)

    def applied(self, module, args: list, kwargs: dict, position: int):
        """``model.apply(fn)``: PyTorch's ``Module.apply``, ``fn`` called on each child's modules (its own ``apply``)
        and then on the module, which it returns: an initialization (``nn.init.zeros_(m.bias)``) sets the
        parameters' values (lang/setparams.py)."""
        what = module.cls.name if isinstance(module, Instance) else f"nn.{module.cls}"
        if len(args) != 1 or kwargs or not isinstance(args[0], Function):
            raise JacValueError(f"{what}.apply(fn) takes one function of the text (def init(m): ...)", position)
        todo, order = [(module, False)], []  # an explicit stack: children first, then the module itself
        while todo:
            current, expanded = todo.pop()
            if expanded:
                order.append(current)
                continue
            todo.append((current, True))
            todo.extend((child, False) for _, child in reversed(current.children()))
        for current in order:
            self.call_function(args[0], [current], {}, position, direct=True)
        return module

    def register_buffer(self, made: "Instance", args: list, kwargs: dict, position: int):
        """``self.register_buffer('mask', torch.tril(torch.ones(4, 4)))`` in ``__init__``: an attribute, no
        parameter (``self.mask`` reads it; ``named_parameters()`` leaves it out)."""
        given = {**dict(zip(("name", "tensor", "persistent"), args)), **kwargs}
        if len(args) > 3 or set(kwargs) - {"name", "tensor", "persistent"} or "name" not in given \
                or "tensor" not in given:
            raise JacValueError("register_buffer(name, tensor, persistent=True) takes a name and an array", position)
        name = static(self.b, given["name"], "register_buffer's name", position)
        if not isinstance(name, str) or not isinstance(given["tensor"], Tracer):
            raise JacValueError("register_buffer(name, tensor): the name a string, the tensor an array", position)
        made.attributes[name] = given["tensor"]
        return None

    def flattens(self, stmt: ast.stmt) -> bool:
        """Is ``stmt`` ``rnn.flatten_parameters()`` (or ``self.lstm.flatten_parameters()``) of a recurrent layer?"""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr == "flatten_parameters" and not call.args and not call.keywords):
            return False
        owner = self.expression(call.func.value)
        return isinstance(owner, Recurrent) and not owner.cls.endswith(("Cell", "Attention"))

    def declare_optimizer(self, stmt: ast.stmt) -> bool:
        """``optimizer = torch.optim.SGD(model.parameters(), lr=0.1)`` (or a scheduler) at the top level: an
        :class:`Optimizer`, whose ``zero_grad()`` and, after ``loss.backward()``, ``step()`` are read as nothing
        (the step uses ``.grad``, which jac prints; it changes no gradient). False for any other statement."""
        name = _optimizer_made(stmt)
        if name is None:
            return False
        self.scope[name] = Optimizer()
        return True

    def declare_class(self, stmt: ast.stmt) -> bool:
        """``class Net(nn.Module): ...`` at the text's top level: a :class:`ModelClass` of its methods, made by
        ``net = Net(...)`` (:meth:`declare_instance`). False for any other statement."""
        if not (isinstance(stmt, ast.ClassDef) and len(stmt.bases) == 1 and not stmt.keywords
                and isinstance(stmt.bases[0], ast.Attribute) and stmt.bases[0].attr == "Module"
                and LIBRARIES.get(self.module_path(stmt.bases[0].value)) == "torch.nn"):
            return plain.declare(self, stmt)  # class Kalman:, class Base(object), @dataclass (lang/plain.py)
        if stmt.decorator_list:
            raise JacParseError(f"a decorator on class {stmt.name} is not followed", self.source.at(stmt))
        methods = {}
        for item in stmt.body:
            if _no_effect(item):
                continue
            if not isinstance(item, ast.FunctionDef) or item.decorator_list:
                raise JacParseError(f"in class {stmt.name}, jac reads methods (def __init__, def forward, ...) "
                                    f"without decorators: {ast.unparse(item).splitlines()[0]} is not one",
                                    self.source.at(item))
            methods[item.name] = item
        if "forward" not in methods:
            raise JacParseError(f"class {stmt.name}(nn.Module) has no forward(self, ...) method", self.source.at(stmt))
        self.scope[stmt.name] = ModelClass(stmt.name, methods)
        return True

    def declare_instance(self, stmt: ast.stmt) -> bool:
        """``net = Net(...)`` (or ``Net(...).double()``) of a class of the text at its top level: its
        ``__init__`` run, the parameters of its layers inputs named from ``net`` (``net.fc1.weight``)."""
        found = _assigned_call(stmt)
        if found is None:
            return False
        name, call = found
        call, then = _made_then(call)  # Net().to(device).double(): lang/devices.py
        if not (isinstance(call.func, ast.Name) and isinstance(self.scope.get(call.func.id), (ModelClass, PlainClass))):
            return False
        self.unbound(name, f"{name} = {call.func.id}(...) makes its parameters inputs", self.source.at(stmt))
        self.scope[name] = self.instance(self.scope[call.func.id], call, name)
        self.made_then(self.scope[name], then)
        return True

    def instance(self, cls: "ModelClass", call: ast.Call, prefix: str) -> "Instance":
        """An instance of ``cls`` made by ``call``: ``__init__`` run with ``self`` bound to it, each ``self.NAME
        = ...`` an attribute (a layer, its parameters inputs named ``prefix.NAME.weight``; an ``nn.Parameter``;
        an instance of another class of the text; a number)."""
        position = self.source.at(call)
        if cls in self.making:
            raise JacValueError(f"{cls.name}.__init__ makes a {cls.name} again: a model that holds itself has no "
                                f"end", position)
        call, args, kwargs = self.call_arguments(call)  # Net(**config): written out (session 54)
        if isinstance(cls, PlainClass):  # a plain class of the text (lang/plain.py)
            kinds = ([self.python_kind(a, v) for a, v in zip(call.args, args)],
                     {k.arg: self.python_kind(k.value, kwargs[k.arg]) for k in call.keywords})
            self.plain_call = (call, args)  # Poly([1.0, 2.0]): which arguments are Python sequences
            return plain.make(self, Instance(cls, prefix, self), args, kwargs, position, kinds)
        made = Instance(cls, prefix, self)
        init = cls.methods.get("__init__")
        if init is None:
            if args or kwargs:
                raise JacValueError(f"{cls.name}() takes no arguments (it has no __init__)", position)
            return made
        fn = cls.function(self, "__init__")
        bound = fn.bind([made] + args, kwargs, position)
        saved = self.scope
        self.scope = {**self.scope, **bound}
        self.making = self.making | {cls}
        constructing, self.constructing = self.constructing, made
        try:
            for stmt in fn.body:
                if _super_init(stmt):
                    continue
                if not self.own_attribute(stmt):
                    self.run(stmt, f"inside {cls.name}.__init__()")
        finally:
            carried(saved, self.scope, frozenset(bound) | _assigned(fn.body))
            self.scope = saved
            self.making = self.making - {cls}
            self.constructing = constructing
        return made

    def own_attribute(self, stmt: ast.stmt) -> bool:
        """``self.NAME = VALUE`` or ``setattr(self, NAME, VALUE)`` in the ``__init__`` of the model being made (at its
        top level, or in a loop or branch there: ``for i in range(2): setattr(self, f'act{i}', nn.Tanh())``): the
        attribute set as PyTorch registers it (a layer, an ``nn.Parameter`` an input named ``net.NAME``). False for
        any other statement."""
        made = self.constructing
        if made is None or type(stmt) not in (ast.Assign, ast.Expr):
            return False
        target = stmt.targets[0] if type(stmt) is ast.Assign and len(stmt.targets) == 1 else None
        call = stmt.value if type(stmt) is ast.Expr else None
        if type(target) is ast.Attribute and type(target.value) is ast.Name and self.scope.get(target.value.id) is made:
            name, value = target.attr, stmt.value
        elif type(call) is ast.Call and type(call.func) is ast.Name and call.func.id == "setattr" \
                and "setattr" not in self.scope and len(call.args) == 3 and not call.keywords \
                and type(call.args[0]) is ast.Name and self.scope.get(call.args[0].id) is made:
            position = self.source.at(call)
            name = static(self.b, self.expression(call.args[1]), "setattr()'s attribute name", position)
            if not isinstance(name, str):
                raise JacValueError(f"TypeError: attribute name must be string, not '{type(name).__name__}'", position)
            value = call.args[2]
        else:
            return False
        assign = ast.copy_location(ast.Assign(targets=[ast.Name(id="_", ctx=ast.Store())], value=value), stmt)
        made.attributes[name] = self.attribute_value(assign, f"{made.prefix}.{name}")
        return True

    def model_builtin(self, node: ast.Call, kids: list):
        """``getattr(self, NAME[, default])`` and ``hasattr(self, NAME)`` of a model instance (``nn.Module``'s
        subclass of the text): its attributes as ``__init__`` set them, ``training``, its methods (hasattr);
        Python's AttributeError refused where no default is given."""
        fname, position, made = node.func.id, self.source.at(node), kids[0]
        if node.keywords or not (2 <= len(kids) <= (3 if fname == "getattr" else 2)):
            raise JacValueError(f"{fname}() takes the instance, the attribute's name"
                                f"{' and a default' if fname == 'getattr' else ''}, by position", position)
        name = static(self.b, kids[1], f"{fname}()'s attribute name", position)
        if not isinstance(name, str):
            raise JacValueError(f"TypeError: attribute name must be string, not '{type(name).__name__}'", position)
        known = name in made.attributes or name == "training"
        if fname == "hasattr":
            return known or name in made.cls.methods
        if name in made.attributes:
            found = made.attributes[name]
            return found.read() if type(found) is Parameters else found
        if name == "training":
            return made.training
        if len(kids) == 3:
            return kids[2]
        if name in made.cls.methods:
            raise JacValueError(f"getattr(self, '{name}') is the method {made.cls.name}.{name}: call it as "
                                f"self.{name}(...)", position)
        raise JacNameError(f"AttributeError: '{made.cls.name}' object has no attribute '{name}' (set in its "
                           "__init__), as Python raises", position)

    def attribute_value(self, stmt: ast.Assign, name: str):
        """The value of ``self.NAME = VALUE`` in ``__init__``, ``name`` its full name (``net.fc1``)."""
        value = stmt.value
        if type(value) is ast.Call and ast.unparse(value.func) in _PARAMETER_CONTAINERS:
            return self.parameters_made(value, name)  # nn.ParameterDict({'w': nn.Parameter(...)})
        leaf = _declaring(ast.copy_location(ast.Assign(targets=[ast.Name(id="_", ctx=ast.Store())], value=value),
                                            stmt))
        if leaf is not None:  # self.w = nn.Parameter(torch.randn(3, 4))
            value, drawn = self.leaf_value(name, leaf[1], leaf[2])
            return self.new_input(name, value, self.source.at(stmt), drawn)
        if isinstance(value, ast.Call) and (self.holds_layer(value) or isinstance(value.func, ast.Name)
                                            and isinstance(self.scope.get(value.func.id), (ModelClass, PlainClass))):
            return self.module_value(value, name)
        return self.expression(value)

    def parameters_made(self, call: ast.Call, name: str) -> "Parameters":
        """``nn.ParameterDict({'w': nn.Parameter(...), ...})`` or ``nn.ParameterList([nn.Parameter(...), ...])`` (a
        list display or a comprehension) assigned to ``name`` (``net.ps``): each parameter an input named as PyTorch
        names it (``net.ps.w``, ``net.ps.0``), its value made as ``nn.Parameter``'s."""
        cls = ast.unparse(call.func).rsplit(".", 1)[-1]
        position = self.source.at(call)
        shown = "{'w': nn.Parameter(...), ...}" if cls == "ParameterDict" else "[nn.Parameter(...), ...]"
        if call.keywords or len(call.args) > 1:
            raise JacValueError(f"nn.{cls}(...) is read with one argument here, {shown}", position)
        given = call.args[0] if call.args else None

        def leaf(item: ast.expr, key) -> Tracer:
            inner = _parameter_of(item)
            if inner is None:
                raise JacValueError(f"nn.{cls}: jac reads each item written nn.Parameter(...) here (an input named "
                                    f"{name}.{key})", self.source.at(item))
            data, drawn = self.leaf_value(f"{name}.{key}", inner, None)
            return self.new_input(f"{name}.{key}", data, self.source.at(item), drawn)
        if given is None:
            pairs = []
        elif cls == "ParameterDict" and type(given) is ast.Dict \
                and all(type(k) is ast.Constant and type(k.value) is str for k in given.keys):
            # a dict's keys sorted, as ParameterDict.update takes a plain dict (an OrderedDict keeps its order)
            pairs = sorted((k.value, leaf(v, k.value)) for k, v in zip(given.keys, given.values))
        elif cls == "ParameterList" and type(given) is ast.List:
            pairs = [(str(k), leaf(v, k)) for k, v in enumerate(given.elts)]
        elif cls == "ParameterList" and type(given) is ast.ListComp:
            made = self.comprehension(given, position, element=lambda k: leaf(given.elt, k))
            pairs = [(str(k), v) for k, v in enumerate(made)]
        else:
            raise JacValueError(f"nn.{cls}(...) is read with {shown} written out here (keys strings)",
                                self.source.at(given))
        return Parameters(cls, pairs, name)

    def call_method(self, made: "Instance", method: str, args: list, kwargs: dict, position: int):
        """``net(x)`` (``forward``) or ``self.helper(x)`` of an instance: the method written out, ``self`` bound."""
        if isinstance(made.cls, PlainClass):
            return plain.call(self, made, method, args, kwargs, position)
        if method not in made.cls.methods or method == "__init__":
            raise JacNameError(f"{made.cls.name} has no method '{method}' jac can call", position)
        return self.call_function(made.cls.function(self, method), [made] + list(args), kwargs, position)

    def call_attribute(self, made: "Instance", name: str, args: list, kwargs: dict, position: int):
        """``self.NAME(...)`` in a method: a layer or module attribute called, or another method."""
        if name in made.attributes:
            value = made.attributes[name]
            if isinstance(value, (Module, Sequential)):
                return self.call_module(value, args, kwargs, position)
            if isinstance(value, Instance):
                return self.call_method(value, value.cls.entry, args, kwargs, position)
            if isinstance(made.cls, PlainClass) and not isinstance(value, (Tracer, Items, Dict, Static)):
                return self.call_value(value, args, kwargs, position)  # self.f = f: a function it holds
            raise JacValueError(f"self.{name} of {made.cls.name} is not a module: it cannot be called", position)
        return self.call_method(made, name, args, kwargs, position)

    def before_backward(self, body: list) -> list:
        """The statements that compute what ``y.backward()`` differentiates, ending in ``y``: a text as
        PyTorch's tutorials write it (``y = (x ** 2).sum(); y.backward(); print(x.grad)``) has ``y`` as
        its output, and jac prints what each ``x.grad`` holds. After the call, only ``print(...)`` and
        ``x.grad`` are read (and do nothing: jac prints them); ``backward(gradient=V)``'s V is jac vjp's v
        (:meth:`text_gradient`); the text's ``print(...)`` calls before it are read as nothing too (PyTorch's
        autograd tutorial prints as it goes). Without a ``backward()`` call of the top level, ``body`` itself."""
        at = next((i for i, stmt in enumerate(body) if _backward_call(stmt) is not None), None)
        if at is None:
            return body
        call = _backward_call(body[at])
        where = self.source.end(call.func) - len("backward")
        y = ast.unparse(call.func.value)
        gradient = [k.value for k in call.keywords if k.arg == "gradient"] + call.args[:1]
        flags = call.args[1:3] + [k.value for k in call.keywords if k.arg in ("retain_graph", "create_graph")]
        others = [k.arg for k in call.keywords if k.arg not in ("gradient", "retain_graph", "create_graph")]
        if others or len(call.args) > 3 or len(gradient) > 1 \
                or not all(isinstance(f, ast.Constant) and f.value in (None, True, False) for f in flags):
            what = f"'{others[0]}='" if others else "its arguments"
            raise JacValueError(f"{ast.unparse(call)}: {what} not read: jac reads {y}.backward(), or "
                                f"{y}.backward(gradient=V) with V a constant of {y}'s shape (jac vjp prints what it "
                                f"leaves in x.grad), and retain_graph / create_graph as True or False", where)
        if gradient and not (isinstance(gradient[0], ast.Constant) and gradient[0].value is None):
            self.gradient = gradient[0]
        optimizers = {_optimizer_made(stmt) for stmt in body[:at]} - {None}
        for stmt in body[at + 1:]:
            on = _call_on_name(stmt)
            if on is not None and on[0] in optimizers and on[1] in ("step", "zero_grad"):
                continue  # optimizer.step(): reads .grad, which jac prints, and changes no gradient
            if not _prints_or_grad(stmt):
                what = "another backward() call" if _backward_call(stmt) is not None else "this statement"
                raise JacParseError(f"{what} after {y}.backward(): jac differentiates {y} and prints what "
                                    f"x.grad holds for every input x; after the call only print(...) and x.grad "
                                    f"are read (an optimizer's step, a second backward, a loop are not): end "
                                    f"the text there", self.source.at(stmt))
        before = [stmt for stmt in body[:at] if not _prints(stmt)]  # print(y) on the way: jac prints what matters
        return before + [ast.copy_location(ast.Expr(value=call.func.value), body[at])]

    def text_gradient(self, y) -> None:
        """V of the text's ``y.backward(gradient=V)``, lowered once ``y`` is made: a constant of ``y``'s shape (as
        PyTorch requires), kept in :attr:`Made.gradient` for jac vjp."""
        position = self.source.at(self.gradient)
        given = self.gradient.operand if isinstance(self.gradient, ast.UnaryOp) else self.gradient
        if isinstance(given, (ast.Constant, ast.List, ast.Tuple)):  # PyTorch: 'float' object is not iterable
            raise JacValueError(f"backward(gradient=V) takes a tensor, not the Python value {ast.unparse(self.gradient)}"
                                f" (PyTorch raises): write torch.tensor(...) or torch.ones_like(y); jac vjp --v V prints "
                                f"what y.backward(gradient=V) leaves in x.grad", position)
        v = self.expression(self.gradient)
        if type(y) is not Tracer:
            raise JacValueError("backward(gradient=V) of a value that is not one array", position)
        if type(v) is not Tracer or self.b.nodes[v.id].op != "const":
            raise JacValueError("backward(gradient=V): jac reads V when it is known without the inputs' values (a "
                                "constant: torch.ones(2), torch.tensor([...])); for another V, end the text with the "
                                "output and give jac vjp --v V", position)
        if v.shape != y.shape:
            raise JacShapeError(f"backward(gradient=V): V has shape {fmt(v.shape)} but the output has shape "
                                f"{fmt(y.shape)}. PyTorch says: Mismatch in shape", position)
        if self.made is not None:
            gradient = np.array(self.b.nodes[v.id].value, dtype=self.b.dtype)
            gradient.flags.writeable = False  # shared by every call of the compiled function
            self.made.gradient = gradient

    def backward(self, stmt: ast.stmt) -> None:
        """``loss.backward()`` pasted after the loss: refused, saying which line to keep instead."""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "backward"):
            return
        y, text = ast.unparse(call.func.value), ast.unparse(call)
        raise JacNameError(f"the method '.backward()' is not needed: jac differentiates the expression itself: delete "
                           f"'{text}' and end with {y}: jac eval prints its derivatives for every input x (what x.grad "
                           f"holds after {y}.backward()), jac vjp --v V what {y}.backward(gradient=V) leaves in x.grad",
                           self.source.end(call.func) - len("backward"))

    def marks_input(self, stmt: ast.stmt) -> bool:
        """``x.requires_grad_()``, ``x.requires_grad = True``, ``x = x.requires_grad_()`` of an input ``x`` as
        given: what jac does already (it differentiates with respect to every input, or those of --wrt)."""
        owner = _marked(stmt)
        if owner is None:
            freeze.refuse_bound(self, stmt)  # x.requires_grad_(False) of a bound x: --wrt says it
            return False
        value = self.scope.get(owner)
        return type(value) is Tracer and self.b.nodes[value.id].op == "input" and self.b.nodes[value.id].name == owner

    def retains_grad(self, stmt: ast.stmt) -> bool:
        """``y.retain_grad()`` of an array the text computes (PyTorch's tutorial on non-leaf gradients): it only has
        PyTorch keep ``y.grad`` after backward, no value changes (``jac graph --backward`` shows every node's)."""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "retain_grad"
                and not call.args and not call.keywords and isinstance(call.func.value, ast.Name)):
            return False
        name, value = call.func.value.id, self.scope.get(call.func.value.id)
        if type(value) is not Tracer:
            return False
        if self.b.nodes[value.id].op == "const":
            raise JacValueError(f"{name}.retain_grad(): no input reaches {name}, a constant: PyTorch refuses it too "
                                "(\"can't retain_grad on Tensor that has requires_grad=False\"): delete the line",
                                self.source.at(stmt))
        return True

    def declare_marked(self, stmt: ast.stmt) -> bool:
        """``x.requires_grad_()`` (or ``x.requires_grad = True``, ``x = x.requires_grad_()``) at the text's top level
        of a name holding a constant, ``x = torch.arange(4.0)`` before it (d2l's autograd chapter): PyTorch's leaf,
        an input the text makes from here on, as :meth:`declare` makes one. False for any other statement."""
        name = _marked(stmt)
        value = self.scope.get(name) if name is not None else None
        if type(value) is not Tracer or self.b.nodes[value.id].op != "const":
            return False
        position = self.source.at(stmt)
        self.unbound(name, f"{name}.requires_grad_() makes it an input with its value", position)
        if dtypes.kind_of(self.b, value.id) is not None:
            raise JacValueError(f"'{name}': PyTorch says: Only Tensors of floating point and complex dtype can "
                                f"require gradients (its value is {dtypes.kind_of(self.b, value.id)[0]}: write "
                                f"floats, torch.arange(4.0), or dtype=torch.float64)", position)
        tracer = self.new_input(name, np.array(self.b.nodes[value.id].value, dtype=self.b.dtype), position,
                                value.id in self.b.random)
        self.scope[name] = tracer
        self.memory.input(name, tracer)
        return True

    def define(self, node, returns: bool = True) -> Function:
        """A ``def`` statement or a ``lambda``: a :class:`Function`, its defaults lowered now, as Python
        evaluates them. ``returns``: it ends in ``return VALUE`` (False: an ``__init__``, which returns
        nothing; its result is None)."""
        a = node.args
        names = [p.arg for p in a.posonlyargs + a.args]
        defaults = {n: self.expression(d) for n, d in zip(names[len(names) - len(a.defaults):], a.defaults)}
        defaults.update({p.arg: self.expression(d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        fn = self.closed(self.function(node, defaults, returns))
        written = [*zip(names[len(names) - len(a.defaults):], a.defaults), *((p.arg, d) for p, d in zip(
            a.kwonlyargs, a.kw_defaults) if d is not None)]  # def f(v, s=(2, 3)): s a tuple where not given
        fn.defaulted = ([n for n, d in written if id(d) in self.sequences], [n for n, d in written
                                                                             if id(d) in self.tuples])
        if any(type(v) is Items and v.display == "list" or type(v) is Dict or type(v) is Tracer and v.shape == (0,)
               for v in defaults.values()):  # def f(h=[]): Python's one list, which a change anywhere changes
            self.mutable_defaults = getattr(self, "mutable_defaults", ()) + (fn,)
        return fn

    def function(self, node, defaults: dict, returns: bool) -> Function:
        """:meth:`define`'s function, its defaults lowered."""
        if isinstance(node, ast.Lambda):
            return Function("<lambda>", node, defaults, [], node.body)
        body = node.body[1:] if _no_effect(node.body[0]) else node.body  # its docstring
        if not returns:
            early = _returns(body)
            if early:
                raise JacParseError(f"a 'return' in {node.name}() is not supported: it returns nothing",
                                    self.source.at(early[0]))
            return Function(node.name, node, defaults, body, None)
        last = body[-1] if body else node
        inside = _returns(body[:-1] if isinstance(last, ast.Return) else body)
        if isinstance(last, ast.Return) and last.value is not None and not inside:
            return Function(node.name, node, defaults, body[:-1], last.value)  # the common form, read at once
        if not inside and not isinstance(last, ast.Return):  # def fill(R, i, v): R[i] = v; Python returns None
            return Function(node.name, node, defaults, body, None)
        valued = [stmt for stmt in _returns(body) if stmt.value is not None]
        bare = [stmt for stmt in _returns(body) if stmt.value is None]
        if bare and valued:
            raise JacParseError(f"'return' without a value in {node.name}(), which returns a value elsewhere: Python "
                                "returns None there, which jac has no array for", self.source.at(bare[0]))
        fn = Function(node.name, node, defaults, body, None)  # returns inside its blocks: each run ends the call
        fn.early = bool(valued) or "none"  # "none": its returns are bare, as its end: it returns None
        return fn

    def closed(self, fn: Function) -> Function:
        """``fn`` defined inside a call of another function: it sees that call's names (a closure, ``def
        make_loss(w): return lambda x: ...w...``), as they are when the call returns (Python's cells bind late)."""
        if self.frame is not None:
            fn.closure = self.frame
        return fn

    def call_function(self, fn: Function, args: list, kwargs: dict, position: int, sequences=((), ()),
                      direct: bool = False, passed: dict | None = None, copied: frozenset = frozenset()):
        """``f(x, y)`` of a function of the text: its statements lowered with its parameters bound to the
        arguments, in a scope of its own (the names it assigns are gone after the call), as Python runs it;
        ``sequences``, the parameters given a Python sequence and a tuple (``f(x, x.shape)``: ``s + (1,)`` in it
        is a tuple's +). ``direct``: the text calls it itself (not a transform tracing it), so that a list or dict
        it changes in place is the caller's very object, whose names see the change when the call returns
        (:meth:`follows`, :meth:`resolved`); ``passed``, the caller's name each parameter was given as (``f(l)``);
        ``copied``, the parameters given a copy (``g(t.clone())``: a buffer of its own, which the function may write
        into, as ``u = t.clone()`` is)."""
        if len(self.calling) >= _MAX_CALL_DEPTH:  # f0 calls f1 calls f2 ...: each call is lowered inside its caller's
            raise JacLimitError(f"{fn.name}() is called inside {_MAX_CALL_DEPTH} calls of the text's functions: jac writes "
                                f"each call out, inside its caller's, up to {_MAX_CALL_DEPTH} deep (Python's own "
                                "limit is about 1,000); write the expression with fewer nested calls", position)
        if fn in self.calling and (not fn.early or self.calling.count(fn) >= _MAX_RECURSION):
            depth = f"more than {_MAX_RECURSION} deep" if fn.early else "in every call"
            raise JacValueError(f"{fn.name}() calls itself {depth}: jac writes each call "
                                "out, and its recursion ends only at a 'return' before the call, whose test jac "
                                "reads without the values (if n == 0: return v); write the expression without the "
                                "recursion", position)
        bound = fn.bind(args, kwargs, position)
        for name, what in fn.changed.items():
            if bound.get(name) is fn.defaults[name]:
                kind = what.rsplit(" ", 1)[1]
                raise JacValueError(f"{fn.name}() takes its default '{name}' again, a {kind} an earlier call changed in "
                                    f"place ({what.rsplit(' ', 1)[0]}): Python makes a default once and shares it "
                                    "between calls, so this call would see the change, which jac does not follow; give "
                                    f"it as None and make the {kind} inside the function ({name} = "
                                    f"{'{}' if kind == 'dict' else '[]'} if {name} is None else {name})", position)
        saved = self.scope, self.sequence_names, self.tuple_names, dict(self.memory.tokens), self.frame
        closure = fn.closure.values
        for name, value in list(closure.items()):  # a list it closes over, changed since by a call: Python's cell
            if self.resolved(value) is not value:  # holds the one list
                closure[name] = self.resolved(value)
        self.scope = {**self.scope, **closure, **bound}  # the enclosing call's names, if fn was defined in one
        own = frozenset(bound) | _assigned(fn.body)  # Python's locals: written here, not outside
        hidden = _shadowed(saved[0], [*closure, *own], fn.name, self.memory.tokens)
        self.scope.update(hidden)
        self.sharing = self.sharing + ((direct, self.locals[1] if self.locals is not None else None, frozenset(hidden),
                                        frozenset(closure), {}, passed or {}),)
        given = {*fn.positional[:len(args)], *kwargs}
        sequences = [[*marked, *(n for n in defaulted if n not in given)] for marked, defaulted in zip(
            sequences, fn.defaulted)]
        self.sequence_names = (self.sequence_names - set(closure) | fn.closure.sequences) - set(bound) \
            | set(sequences[0])
        self.tuple_names = (self.tuple_names - set(closure) | fn.closure.tuples) - set(bound) | set(sequences[1])
        for key in hidden:  # 'R outside f()' is Python's list (or tuple) the caller's R is
            base = key.split(" outside ")[0]
            if base in saved[1]:
                self.sequence_names.add(key)
            if base in saved[2]:
                self.tuple_names.add(key)
        kept = {k.split(" outside ")[0]: k for k in hidden}
        for base, key in kept.items():  # the caller's object itself, under the name that keeps it
            self.memory.objects[key] = self.memory.objects.get(base, base)
        for name, value in {**closure, **bound}.items():
            if isinstance(value, (Tracer, Items)):
                self.memory.bind(name, value, name in copied and name in bound and type(value) is Tracer,
                                 alias=self.passed_alias(name, value, passed, saved[0], kept))
        self.calling = self.calling + (fn,)
        where, outer = f"inside {fn.name}()", self.locals
        self.locals = (where, own)
        self.frame = frame = Frame()
        returning, self.returning = self.returning, fn.early
        try:
            try:
                for stmt in fn.body:
                    self.run(stmt, where)
            except _Return as done:  # a 'return' inside a block ran: the call ends there, as in Python
                self.returned = done.node
                return done.value
            if fn.early is True:
                raise JacValueError(f"{fn.name}() reached its end without a 'return' on this call: Python returns "
                                    "None there, which jac has no array for", position)
            return None if fn.result is None else self.returned_copy(fn.result, self.expression(fn.result))  # None:
            # setup_context (lang/custom.py)
        finally:  # what a function defined in this call sees of it (its closure): the names as they end
            self.returning = returning
            names = [n for n in (*closure, *self.locals[1]) if n in self.scope]
            frame.values.update((n, self.scope[n]) for n in names)
            frame.sequences.update(n for n in names if n in self.sequence_names)
            frame.tuples.update(n for n in names if n in self.tuple_names)
            ended, ended_tokens, pending = self.scope, self.memory.tokens, self.sharing[-1][4]
            self.scope, self.sequence_names, self.tuple_names, self.memory.tokens, self.frame = saved
            self.calling = self.calling[:-1]
            self.sharing = self.sharing[:-1]
            self.locals = outer
            self.changed_by_call(ended, ended_tokens, {k.split(" outside ")[0]: k for k in hidden})
            self.numbers_written(pending, ended_tokens)

    def passed_alias(self, name: str, value, passed: dict | None, caller: dict, kept: dict) -> str | None:
        """The caller's name the parameter ``name`` was given as, bare (``g(t)``: Python binds ``v`` to ``t``'s very
        tensor, as ``v = t`` does), under the key a parameter or local of the same name hides it by (``t outside
        g()``); None for any other argument (an expression: ``g(t.float())`` may be a copy, jac's node says not)."""
        given = (passed or {}).get(name)
        if given is None or type(value) is not Tracer or caller.get(given) is not value:
            return None
        key = kept.get(given, given)
        return key if key in self.memory.tokens else None

    def written_outside(self, names) -> None:
        """A write in place inside a call just rebound ``names`` (the written name, its aliases, the views of its
        buffer: lang/views.py): each that is no local of the function is the caller's (or a name a parameter hides
        the caller's by, ``t outside g()``), and holds the written tensor when the call returns, as the caller's
        tensor itself is written in PyTorch and NumPy (:meth:`numbers_written` rebinds it there)."""
        if not self.sharing or self.locals is None:
            return
        for n in names:
            if n not in self.locals[1] and n in self.scope:
                if not self.follows(n):  # a transform's trace: JAX and torch.func hand the function their own arrays
                    raise JacValueError(f"'{n.split(' outside ')[0]}' is written in place inside a function a "
                                        "transform traces (jax.grad, jax.vmap, torch.func): jac does not follow the "
                                        "write out to it; write into a copy (.clone()) and return it",
                                        self.b.nodes[self.scope[n].id].position if type(self.scope[n]) is Tracer
                                        else None)
                self.sharing[-1][4][n] = self.scope[n]

    def python_container(self, name: str) -> bool:
        """Does ``name`` hold a Python list (of lists, of arrays, of numbers held as one 1-d array) or a dict, whose
        change inside a function its callers see (:meth:`follows`)?"""
        value = self.scope.get(name)
        if type(value) is Dict or type(value) is Items and value.display == "list":
            return True
        return type(value) is Tracer and value.ndim == 1 and name in self.sequence_names \
            and name not in self.tuple_names

    def changed_by_call(self, ended: dict, ended_tokens: dict, hidden: dict) -> None:
        """The call just returned: each of the caller's names holding a list or dict the call changed in place
        (``fill(R, i, j, v)`` writing ``R[i][j]``, ``push(out, v)`` appending) rebound to what it became, as
        every name holding Python's one object sees the change; ``hidden``, the caller's names the call's
        parameters hid (:func:`_shadowed`), by name."""
        if not self.replaced:
            return
        for name, value in list(self.scope.items()):
            new = self.resolved(value)
            if new is value:
                continue
            self.scope[name] = new
            tokens = self.memory.tokens.get(name, frozenset()) | ended_tokens.get(hidden.get(name), frozenset())
            if isinstance(new, Items):
                tokens = tokens.union(*(self.memory._base(p) for p in new if type(p) is Tracer))
            self.memory.tokens[name] = tokens
            if isinstance(new, Items) and new.display == "list":
                self.sequence_names.add(name)

    def numbers_written(self, pending: dict, ended_tokens: dict) -> None:
        """The call just returned: the caller's names of Python's lists of numbers (jac holds each as one array) the
        call wrote into (``def f(l): l[0] = v``, :meth:`shared_numbers`), by name, ``pending``: each rebound to the
        written list, and passed on to the call's own caller where it is not the caller's own name either."""
        for holder, value in pending.items():
            name = holder.split(" outside ")[0] if holder in self.hidden_keys(holder) else holder
            self.scope[name] = value
            self.memory.tokens[name] = ended_tokens.get(holder, self.memory.tokens.get(name, frozenset()))
            if self.sharing and (self.locals is None or name not in self.locals[1]):
                self.sharing[-1][4][name] = value

    def hidden_keys(self, holder: str) -> frozenset:
        """``holder`` if it is a name under which a call kept its caller's name (``R outside f()``) that is not in
        the scope now (the call that made it has returned)."""
        return frozenset((holder,)) if " outside " in holder and holder not in self.scope else frozenset()

    def resolved(self, value):
        """``value`` as it is now: a list or dict a call changed in place is what it became (:attr:`replaced`),
        and a list holding one, at any depth, holds what it became."""
        if not self.replaced:
            return value
        memo = {}

        def now(item):
            seen = 0
            while id(item) in self.replaced and seen <= len(self.replaced):
                item, seen = self.replaced[id(item)][1], seen + 1
            if type(item) is not Items or not any(isinstance(i, _HOLDERS) for i in item):
                return item
            if id(item) in memo:
                return memo[id(item)]
            parts = [now(i) if isinstance(i, _HOLDERS) else i for i in item]
            out = item
            if any(a is not b for a, b in zip(parts, item)):
                out = Items(parts)
                out.display, out.fields = item.display, item.fields
            memo[id(item)] = out
            return out
        return now(value)

    def changed(self, old, new) -> None:
        """The list or dict ``old`` changed in place into ``new`` inside a call of a function of the text: kept,
        so that the caller's names holding ``old`` hold ``new`` when the call returns (:meth:`changed_by_call`)."""
        if self.calling and old is not new and old is not None:
            self.replaced[id(old)] = (old, new)

    def follows(self, name: str) -> bool:
        """May the function being called change a list or dict the name ``name`` of a caller (or a closure) holds,
        as Python does? Yes where each call from here out to the one whose caller has the name is one the text
        makes itself; no where one of them is a transform's trace (``jax.grad(f)``, ``jax.vmap(f)``,
        ``torch.func.grad(f)``): JAX and torch.func pass the function lists of their own."""
        for direct, caller_names, hidden, *_ in reversed(self.sharing):
            if not direct:
                return False
            if name in hidden:  # 'R outside g()': the caller's R, which may be its caller's in turn
                name = name.split(" outside ")[0]
            if caller_names is None or name in caller_names:
                return True
        return True

    def no_grad(self, stmt: ast.With, mode: str = "off"):
        """``with torch.no_grad(): ...`` (``torch.set_grad_enabled(False)``; ``torch.inference_mode()``, ``mode``
        "inference"): the statements run, and each name they assign is detached (a constant of the derivatives, as
        PyTorch makes every result inside; under inference_mode an inference tensor too, never saved for backward:
        lang/inference.py)."""
        before = dict(self.scope)
        self.grad_off += 1  # a @torch.enable_grad() function called inside: refused (.decorators)
        jump = None
        where = f"inside 'with {ast.unparse(stmt.items[0].context_expr)}'"
        try:
            for inner in stmt.body:
                self.run(inner, where)
        except (_Break, _Continue) as err:  # a loop's break inside: what ran before it is detached all the same
            jump = err
        except _Return as err:  # return f(x) inside: its value made under no_grad, detached as PyTorch's
            if type(err.value) is not Tracer:
                raise JacValueError("a 'return' inside 'with torch.no_grad()': jac reads one array returned there",
                                    self.source.at(err.node)) from None
            err.value = detached(self.b, err.value, self.source.at(err.node))
            jump = err
        finally:
            self.grad_off -= 1
        self.detach_assigned(stmt, before, mode == "inference")
        if jump is not None:
            raise jump

    def grad_on(self, stmt: ast.With):
        """``with torch.enable_grad():`` (``set_grad_enabled(True)``, ``inference_mode(False)``): the statements run
        as outside it, where gradients are on; inside a region where they are off, refused (PyTorch's results there
        would carry the gradient the region drops, which jac does not follow)."""
        spelling = ast.unparse(stmt.items[0].context_expr)
        if self.grad_off:
            raise JacValueError(f"'with {spelling}:' where gradients are off (inside 'with torch.no_grad()' or a "
                                f"@torch.no_grad() function): PyTorch's results there would carry the gradient the "
                                f"region drops, which jac does not follow; write it outside", self.source.at(stmt))
        for inner in stmt.body:
            self.run(inner, f"inside 'with {spelling}'")

    def detach_assigned(self, stmt: ast.With, before: dict, inferred: bool = False) -> None:
        """The names ``with torch.no_grad():`` assigned (bound otherwise than in ``before``), detached; ``inferred``
        (``torch.inference_mode()``): inference tensors too."""
        for name, value in list(self.scope.items()):
            if before.get(name) is value or nograd.kept(self, name, value, before):  # y.add_(1): y's history kept
                continue
            if type(value) is not Tracer:
                raise JacValueError(f"'{name}': inside 'with torch.no_grad()' jac reads assignments of one array",
                                    self.source.at(stmt))
            constant = detached(self.b, value, self.source.at(stmt))
            self.scope[name] = self.b.name(constant, name)
            self.memory.bind(name, constant, False)
            if inferred:
                inference.mark(self, [constant, self.scope[name]])

    def output(self, value, position: int) -> Graph:
        """The graph whose output is ``value``, the last statement's (at ``position``)."""
        if isinstance(value, Function) and self.value_only:  # x="lambda: 1": a function is no value (as np.sin)
            raise JacValueError(f"the value is the function {value.signature()}, not an array (a value is "
                                "written as x=2, x=[1, 2] or x=ones(3))", position)
        if isinstance(value, Function):  # a snippet that is a function: called with the inputs of its parameters
            value = self.call_function(value, [], self.arguments_of(value, position), position)
        if isinstance(value, vmapping.Staged) and isinstance(value.fn, Function):  # @jax.jit def f: traced so
            value = vmapping.call_mapped(self, value, [], self.arguments_of(value.fn, position), position)
        if isinstance(value, (Module, Sequential)):
            raise JacValueError(f"the last statement is the module nn.{value.cls}(...): call it on an array, "
                                f"nn.{value.cls}(...)(x)", position)
        held = [v for v in (value if isinstance(value, Items) else [value]) if isinstance(v, Linear)]
        if held:  # jax.vjp(f, x): its vjp_fn is no array
            raise JacValueError(f"the last statement is {'a tuple holding ' * isinstance(value, Items)}the function "
                                f"{held[0].spelling} returns: call it ({held[0].example})",
                                position)
        if isinstance(value, Items) and value.fields and len(value) > 1:  # torch.linalg.qr(A): outputs Q and R
            return self.field_outputs([(f, lambda f=f: value.field(f, position)) for f in value.fields], position)
        if isinstance(value, Items):
            names = f" or by name ({', '.join('.' + f for f in value.fields)})" if value.fields else ""
            arrays = "array" if len(value) == 1 else "arrays"
            raise JacValueError(f"the last statement is a tuple of {len(value)} {arrays}: pick one by index "
                                f"(parts[0]){names}, or list the outputs you want (a, b)", position)
        if isinstance(value, Pair) and value.reading == "torch":  # PyTorch's result is a tuple: not one array
            if any(n.isdigit() for n in value.names):  # torch.std_mean(x): a plain tuple, no names to give
                raise JacValueError(_pair_output("the last statement", value), position)
            return self.field_outputs([(n, lambda n=n: value.part(n)) for n in value.names], position)
        if isinstance(value, bool):  # x=True as np.array(True) and [True, False] read it: 1.0 in --dtype
            value = boolean(self.b, self.b.const(float(value), position))
        if value is None:  # f(x) of a def without 'return VALUE', a name bound to one (_ = fill(R, v))
            raise JacValueError("the last statement's value is None (a function without 'return VALUE' returns "
                                "None in Python), not an array: end the text with the array to compute", position)
        fourier.refuse_output(value, "the last statement", position)
        if type(value) is plain.Iterator:  # iter(x) as the text's output: Python's iterator object, no array
            raise JacValueError("the last statement is an iterator, iter(...): Python reads it once, in a loop or a "
                                "call such as list(...) or sum(...); end the text with the array to compute", position)
        if not isinstance(value, Tracer):
            raise JacValueError("the last statement must be an array expression", position)
        self.refuse_empty(value, "the last statement", position)
        check_rank(value.shape, "the output", position)
        return self.b.graph(value)

    def chain(self, atoms: list, atom_columns: list, ops: list, op_columns: list) -> Graph:
        """The graph of a flat chain (:func:`~jacobi_cli.lang.chain.split_chain`), built as
        :meth:`expression` builds it from the syntax tree: each atom lowered when reached, each
        ``*`` ``/`` applied once its right atom is, each ``+`` ``-`` once its right term is complete
        (left-deep, as Python associates them), so nodes come in the walk's post-order."""
        binary = self.b.binary
        inputs = {name: t for name, t in self.scope.items() if type(t) is Tracer}  # what self.name gives for them
        const = self.b.const

        def atom(text: str, position: int):
            """A name or a number, lowered as :meth:`lower` lowers its ``ast`` leaf (no atom is a
            list of arrays, which :meth:`lower` refuses in arithmetic: a chain assigns nothing)."""
            found = inputs.get(text)
            if found is not None:
                return found
            if text[0] in "0123456789":
                # self.number; ast reads 12 as an int, 1.5 as a float: float() of either is this value,
                # finite or inf, never an OverflowError
                out = const(float(text), position)
                if text.isdigit():  # self.number's integer literal
                    self.b.pyints[out.id] = int(text)
                return out
            return self.name(text, position)

        total = None  # the terms so far, joined by ``pending``
        pending = pending_at = None
        term = atom(atoms[0], atom_columns[0])
        for k, op in enumerate(ops):
            if op in "+-":  # the term before is complete: join it to the total, then read the next
                if total is None:
                    total = term
                else:
                    total = binary(pending, total, term, pending_at)
                pending, pending_at = _CHAIN_OPS[op], op_columns[k]
                term = atom(atoms[k + 1], atom_columns[k + 1])
            else:
                term = binary(_CHAIN_OPS[op], term, atom(atoms[k + 1], atom_columns[k + 1]), op_columns[k])
        if total is not None:
            term = binary(pending, total, term, pending_at)
        return self.output(term, 0)

    def direct(self, text: str) -> Graph | None:
        """The graph of a short expression lowered as it is read
        (:func:`~jacobi_cli.lang.short.read_short`), built as :meth:`program` builds it from the
        syntax tree: the same lowering calls, in the walk's post-order, at the columns ``ast`` gives;
        None when the text is not certainly in the short grammar. Any exception leaves this
        lowering's builder unusable: ``parse`` then starts again through ``ast``."""
        value = read_short(text, self)
        b = self.b
        if type(value) is int:  # a node id (the reader's own values): its graph, or self.output of its tracer
            if len(b.nodes[value].shape) <= MAX_RANK and not b.signs and not b.stale:  # b.graph(tracer), no tracer made
                return b.graph_of(value)
            value = b.tracer_of(value)
        if type(value) is Tracer and len(value.shape) <= MAX_RANK:  # self.output's answer without its tests
            return b.graph(value)
        return None if value is None else self.output(value, 0)

    # the nodes of a short expression, lowered as the walk over its syntax tree lowers them (`direct`)

    def short_name(self, text: str, start: int):
        found = self.scope.get(text)  # self.name's answer for a tracer in scope, without its calls
        return found if type(found) is Tracer else self.name(text, start)

    def short_number(self, text: str, start: int) -> int:
        """The id of the constant node of the number ``text`` (the short reader's values are node ids): the node
        ``b.const`` appends, without ``_append``'s call and a Tracer (a constant has no argument to flag)."""
        b = self.b
        nodes = b.nodes
        i = len(nodes)
        if i >= MAX_NODES:
            raise JacLimitError(f"the expression needs more than {MAX_NODES:,} graph nodes")
        # self.number of ast's float (digits "." digits) or int (at most 18 digits): neither float() overflows
        value = None if "." in text else int(text)
        nodes.append(new_node(i, "const", (), _NO_PARAMS, (), None, start, False,
                              float(text) if value is None else float(value)))
        if value is not None:
            if self.value_only:
                dtypes.exact_literal(b, value, "the literal", start)
            b.pyints[i] = value
        return i

    def short_call(self, fname: str, args: list, start: int):
        b = self.b
        # self.lookup("function", fname, None, start) for the names it finds: no library (the call is
        # bare), Python's own reading first (float(t)), then the shared one; anything else through lookup
        b.library = None
        lower = _library_function(("builtins", fname)) or _function(fname) or \
            self.lookup("function", fname, None, start)
        if len(args) == 1 and type(args[0]) is Tracer:
            op = _unary_op(lower)
            if op is not None:  # sin(x): the lowering's first line, b.apply(op, x, position=start)
                return b._apply(op, (args[0],), start, None, _NO_PARAMS)
        return lower(b, args, {}, start)

    def short_neg(self, operand, start: int):
        if isinstance(operand, Items):
            raise JacValueError(_ITEMS_ARITHMETIC, start)
        return self.b._apply("neg", (operand,), start, None, _NO_PARAMS)  # self.b.apply("neg", operand, position=start)

    def short_binary(self, op: str, left, right, position: int):
        """``left op right`` with the operator at ``position`` (``operator_position``'s column)."""
        b = self.b
        if type(left) is Tracer and type(right) is Tracer and not b.booleans and (op != "matmul" or not b.typed):
            # self.arithmetic's answer without its three calls: with no boolean node there is no
            # logical or/and, and Builder.apply of two tracers without parameters is _binary (a
            # product beside an integer constant goes through arithmetic: functions.one_dtype), whose
            # node is _apply's: its memo of result shapes serves long sums, a short text seldom repeats
            # an op of the same shapes, and a miss costs a hashed key (~1.5 k instructions)
            return b._apply(op, (left, right), position, None, _NO_PARAMS)
        if isinstance(left, Items) or isinstance(right, Items):
            raise JacValueError(_ITEMS_ARITHMETIC, position)  # (ast's error is at the left operand: made again)
        return self.arithmetic(op, left, right, position)

    def outputs(self, node: ast.Tuple) -> tuple:
        """A final tuple of several outputs, ``((name, tracer), ...)``: named by their
        variable, else ``y0``, ``y1``, ... by position. Constants are outputs too (``x.sum(), 2``,
        ``torch.tensor(1.), torch.tensor(2.)``, ``1, 2``), as the contract reads a final tuple; ``()``
        for a binding's value, where ``x=1,2`` is the vector [1, 2]."""
        if self.value_only:
            return ()
        for elt in node.elts:  # (*x, 1): Python's tuple of x's elements, which no output name could follow
            if isinstance(elt, ast.Starred):
                raise JacValueError(_STARRED_OUTPUT, self.source.at(elt))
        values = [self.expression(elt) for elt in node.elts]
        named, seen = [], {}
        for i, (elt, value) in enumerate(zip(node.elts, values)):
            name = elt.id if isinstance(elt, ast.Name) else f"y{i}"
            if name in seen:
                raise JacNameError(f"two outputs are named '{name}' (outputs {seen[name]} and {i}); "
                                   "assign one to another name first", self.source.at(elt))
            if not isinstance(elt, ast.Name) and name in self.scope:
                raise JacNameError(f"output {i} would be named '{name}', which is already a name of the expression; "
                                   f"assign it to a variable (out = ...) and list that", self.source.at(elt))
            seen[name] = i
            fourier.refuse_output(value, f"output {i} ({name})", self.source.at(elt))
            self.refuse_empty(value, f"output {i} ({name})", self.source.at(elt))
            if isinstance(value, Pair) and value.reading == "torch":
                raise JacValueError(_pair_output(f"output {i}", value), self.source.at(elt))
            if type(value) is Dict or type(value) is Items and not value.fields:  # loss, grads: grads' leaves
                parts = self.tree_outputs(name, value, self.source.at(elt))
                if parts:
                    named += parts
                    continue
            named.append((name, self.b.lift(value)))
        return tuple(named)

    def arguments_of(self, fn: Function, position: int) -> dict:
        """The inputs a text ending with the function ``fn`` is called with: those named as its parameters."""
        given = {}
        for name in fn.positional + fn.keyword_only:
            if name in self.input_names:
                given[name] = self.scope[name]
            elif name not in fn.defaults:
                raise JacNameError(f"the expression ends with the function {fn.signature()}: jac calls it with the "
                                   f"inputs named as its parameters, and '{name}' is not one (bind it: {name}=VALUE "
                                   f"or {name}:SHAPE), or end with the call you mean", position)
        return given

    def statement(self, stmt: ast.stmt, where: str | None = None):
        limit = limit_now()  # under a time limit (the API's timeout=): checked before each statement, loops unrolled
        if limit is not None:
            check_time(limit)
        if self.constructing is not None and self.own_attribute(stmt):  # setattr(self, f'act{i}', m) in a loop
            return None
        if isinstance(stmt, ast.Expr) and _view_in_place(stmt.value):  # t.unsqueeze(0).exp_(): through a view
            return self.view_in_place(stmt.value)
        if isinstance(stmt, ast.Expr) and not _in_place_method(stmt.value) and not _numpy_put(stmt.value):
            return self.expression(stmt.value)
        if isinstance(stmt, ast.FunctionDef):
            self.scope[stmt.name] = found = self.define(stmt)
            if stmt.decorator_list:  # @jax.vmap, @torch.no_grad(): f = deco(f), nearest first (.decorators)
                found = decorators.decorated(self, stmt, found)
            return found
        if isinstance(stmt, ast.With) and len(stmt.items) > 1:  # with torch.no_grad(), torch.enable_grad():
            return self.statement(_nested_with(stmt, self.source))  # Python's nested withs, left one outermost
        if isinstance(stmt, ast.With) and len(stmt.items) == 1 and stmt.items[0].optional_vars is None:
            mode = _GRAD_MODES.get(ast.unparse(stmt.items[0].context_expr))
            if mode is not None:  # with torch.no_grad(), set_grad_enabled(False), inference_mode(), enable_grad()
                return self.no_grad(stmt, mode) if mode != "on" else self.grad_on(stmt)
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Subscript) \
                and isinstance(stmt.target.value, ast.Name) and stmt.target.value.id in ("In", "Out"):
            raise JacParseError(f"'{ast.unparse(stmt.target)}:' is IPython's prompt: {_PROMPTS['I']}",
                                self.source.at(stmt))
        if isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
            return self.statement(ast.copy_location(ast.Assign(targets=[stmt.target], value=stmt.value), stmt))
        if isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self.delete(target)
            return None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) > 1 and all(isinstance(t, ast.Name) for t in stmt.targets):
            first = stmt.targets[0]  # a = b = EXPR: both names the one value, as Python binds them
            value = self.statement(ast.copy_location(ast.Assign(targets=[first], value=stmt.value), stmt))
            for target in stmt.targets[1:]:
                read = ast.copy_location(ast.Name(id=first.id, ctx=ast.Load()), first)
                self.statement(ast.copy_location(ast.Assign(targets=[target], value=read), stmt))
            return value
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], (ast.Tuple, ast.List)):
            return self.unpack_items(stmt)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id  # x = x.view(B, -1) rebinds the name, as in Python: the input stays the leaf
            if target in self.nested_names and pylists.buildable(stmt.value) \
                    and (target in self.row_names or pylists.nested(stmt.value)):  # R = [[None] * S for _ in range(T)]
                value = pylists.build(self, stmt.value)  # then R[t][s] = v: Python's lists, each row one object
                if isinstance(value, Items) and any(isinstance(m, (Module, Sequential, Instance)) for m in value):
                    value = self.literal(list(value), self.source.at(stmt.value))  # layers = [nn.Linear(3, 3)]
                    self.scope[target] = value  # then layers.append(nn.ReLU()): a list of modules (Listed)
                    self.sequence_names.discard(target)
                    return value
                self.scope[target] = value
                self.memory.bind(target, value, False)
                self.sequence_names.add(target)
                self.tuple_names.discard(target)
                return value
            value = self.expression(stmt.value)
            if id(stmt.value) in self.sequences:  # s = x.shape: s + (1,) is a tuple's +
                self.sequence_names.add(target)
            else:
                self.sequence_names.discard(target)
            if id(stmt.value) in self.tuples:  # idx = (0, 1): x[idx] is x[0, 1]
                self.tuple_names.add(target)
            else:
                self.tuple_names.discard(target)
            if isinstance(value, Items):  # F = torch.split(x, 2): indexed later, F[0]
                self.scope[target] = value
                self.memory.bind(target, value, False)
                return value
            if isinstance(value, (Dict, TreeDef)):  # params = {'W': W, 'b': b}: a structure of arrays (.trees)
                self.scope[target] = value
                if type(value) is Dict:  # a = params['W'] then reaches the buffer the dict holds (.scatter.Memory)
                    self.memory.bind(target, Items(_held_arrays(value)), False)
                return value
            if type(value) is slice or isinstance(value, (Function, Module, Sequential, Instance, Listed, plain.BoundMethod,
                                                          derivatives.Transform, Linear)) \
                    or isinstance(value, (vmapping.Mapped, derivatives.LibraryFunction, plain.Partial, trees.Unravel)) \
                    or isinstance(value, decorators.GradMode) or isinstance(value, custom.VALUES) \
                    or isinstance(value, distributions.Distribution) or isinstance(value, pyiter.CALLABLE) \
                    or type(value) is Complex:  # model.to(device), jax.vmap(f), @torch.no_grad()
                self.scope[target] = value  # f = lambda x: ...; g = partial(f, reg=0.1); X = torch.fft.rfft(x)
                return value
            if isinstance(value, Static) and isinstance(value.value, (Device, DType, str, *gathers.NAMED)):
                self.scope[target] = value  # device = torch.device('cpu'), dtype = torch.float64: read at .to()
                return value
            if value is None and custom.in_backward(self):  # gx = None in a backward: no gradient (lang/custom.py)
                self.scope[target] = None
                return value
            if value is None and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
                    and isinstance(self.scope.get(stmt.value.func.id), Function):  # _ = fill(R, i, v): Python's None
                self.scope[target] = None
                self.memory.tokens.pop(target, None)
                self.sequence_names.discard(target)
                self.tuple_names.discard(target)
                return value
            if type(value) is bool and (stmt is not self.output_statement or not isinstance(stmt.value, ast.Constant)):
                self.scope[target] = value  # s = flags[0], inplace = True (session 55): Python's bool, as a loop or
                self.memory.tokens.pop(target, None)  # a, b = ... binds it
                return value
            if not isinstance(value, Tracer):
                raise JacValueError(f"'{target}' must be assigned an array expression", self.source.at(stmt.value))
            dtype = self.float_dtype(stmt.value) if self.float_names is not None else None  # read before rebinding
            self.scope[target] = self.b.name(value, target)
            if self.float_names is not None:  # h = x.float(): h's dtype, while h holds this value in this scope
                self.float_names[target] = (dtype, self.scope, self.scope[target])
            fresh = self.new_buffer(stmt.value, value) \
                or value.ndim == 1 and _list_copy(stmt.value, self.sequence_names)
            owned = self.own_copy(stmt.value, value) if fresh else value
            if owned is not value:  # v = t.T.contiguous(), v = u[:, :2].clone(): a node of its own
                value = self.scope[target] = self.b.name(owned, target)
            layout = None if fresh else copies.numpy_layout(self, stmt.value, value)  # np.ascontiguousarray(a)
            named = stmt.value.id if type(stmt.value) is ast.Name else None  # v = a: a's buffers, whatever node
            itself = not fresh and named is None and copies.itself(self, stmt.value, value)
            viewing = None if fresh or named is not None or itself else self.viewed_name(stmt.value, value)
            written = None if fresh or named is not None or itself else self.in_place_argument(stmt.value) \
                or self.passed_through(stmt.value, value)
            if itself:  # g = t.double(), u = t.flatten(1, 1), u = torch.atleast_2d(t): PyTorch's t itself
                named, viewing = self.itself(target, copies.operand(self, stmt.value), value)
            elif written is not None:  # u = F.relu(t, inplace=True), w = act(t): PyTorch returns t itself
                named, viewing = self.itself(target, written, value)
            elif layout == "itself" and named is None and viewing is None:  # v = np.asarray(a): a itself
                named, viewing = self.itself(target, stmt.value.args[0], value)
            self.memory.bind(target, value, fresh, named if named in self.memory.tokens else None, viewing)
            if not fresh and named is None and not itself and _new_view_call(stmt.value):  # u = torch.movedim(t, 1, 1):
                self.memory.distinct.add(target)  # jac's node of t, PyTorch's new view (its own shape)
            if layout == "unknown":  # a copy or not as a layout jac does not know says: a write into it is refused
                self.memory.seconds.add(target)
                self.memory.maybe_copies.add(target)
            else:
                self.memory.maybe_copies.discard(target)
            root = _view_root(stmt.value)
            made = None if fresh else _read_only(stmt.value, self.memory.read_only)
            if made is not None:  # w = sliding_window_view(x, 3), v = w[0]: NumPy's read-only view, or one of it
                self.memory.read_only[target] = made
            if not fresh and self.memory.tokens.get(root) and type(value) is Tracer and (
                    not any(isinstance(t, tuple) for t in self.memory.tokens[root])
                    or self.memory.tokens[root] == frozenset((("input", root),))):
                # v = y[:2] of y = x.clone(): y's buffers alone (clone returns x's node, which the walk reached);
                # k = x[1:] of the input x after g = x.clone(): x's, not the copy g's too (session 38)
                self.memory.tokens[target] = self.memory.tokens[root]
            held = [n for n in _displayed_names(stmt.value) if n in self.memory.tokens]
            if held:  # l = [a, b]: Python's list holds a and b themselves, so a write into a changes l[0]
                self.memory.tokens[target] = self.memory.tokens[target].union(*(self.memory.tokens[n] for n in held))
            return value
        if isinstance(stmt, ast.Expr) and _in_place_method(stmt.value):  # y.add_(1): PyTorch's in-place methods
            return self.in_place(stmt.value)
        if isinstance(stmt, ast.Expr) and _numpy_put(stmt.value):  # np.put_along_axis(y, idx, v, 1)
            return self.put_statement(stmt.value)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript):
            return self.write(stmt.targets[0], stmt.value, None)
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) \
                and stmt.target.id in self.sequence_names:  # y = [1, 2]; y += [3]: Python's list, y = y + [3]
            name, current = stmt.target.id, self.scope.get(stmt.target.id)
            listed = name not in self.tuple_names and isinstance(stmt.op, (ast.Add, ast.Mult))
            holders = self.same_list(name, current, f"{name} {_BINOP_TEXT[type(stmt.op)]}= ...",
                                     self.source.at(stmt)) if listed else [name]
            read = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), stmt.target)
            combined = ast.copy_location(ast.BinOp(left=read, op=stmt.op, right=stmt.value), stmt)
            ast.fix_missing_locations(combined)
            found = self.statement(ast.copy_location(ast.Assign(targets=[stmt.target], value=combined), stmt))
            if listed:
                self.changed(current, self.scope[name])
            for held in holders[1:]:  # a list's += and *= change it in place: b = a sees it (a tuple's make anew)
                self.scope[held] = self.scope[name]
                if name in self.sequence_names:
                    self.sequence_names.add(held)
                if name in self.memory.tokens:
                    self.memory.tokens[held] = self.memory.tokens[name]
            return found
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, (ast.Name, ast.Subscript)):
            return self.write(stmt.target, stmt.value, stmt.op)
        if isinstance(stmt, ast.For):
            return self.loop(stmt, where)
        if isinstance(stmt, ast.While):
            return self.while_loop(stmt, where)
        if isinstance(stmt, ast.Break):  # inside a loop of the same function: checked before the walk (_jump)
            raise _Break
        if isinstance(stmt, ast.Continue):
            raise _Continue
        if isinstance(stmt, ast.If):
            for inner in stmt.body if self.truth(stmt.test, self.expression(stmt.test), "an 'if' statement") \
                    else stmt.orelse:
                self.run(inner, where)
            return None
        raise JacParseError(f"only expressions, assignments 'NAME = EXPR', writes 'NAME[INDEX] = EXPR', "
                            f"augmented assignments 'NAME += EXPR', 'for' loops and 'if' statements are allowed, not "
                            f"{_statement_words(stmt)}", self.source.at(stmt))

    def appended(self, stmt: ast.stmt) -> bool:
        """``out.append(v)`` / ``out.extend([a, b])`` of a name bound to a Python list (``out = []``, a list of
        arrays), as a loop fills one: the name is bound to the longer list; a list of arrays' other methods that
        change it, ``insert``, ``pop`` (``v = out.pop()`` too), ``clear``, ``reverse`` (:meth:`list_changed`).
        False for any other statement."""
        call = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if isinstance(stmt, ast.Expr) and isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                and call.func.attr in _LIST_CHANGES + pylists.ORDERING and isinstance(call.func.value, ast.Subscript):
            root = call.func.value
            while isinstance(root, ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name) and isinstance(self.scope.get(root.id), Items):  # R[i].append(v)
                if call.func.attr in pylists.METHODS:  # R[i].pop(), R[i].insert(0, v), R[i].sort()
                    return pylists.inner_change(self, call, None, self.source.at(call))
                return self.nested_append(call, self.source.at(call))
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(call, ast.Call) \
                and isinstance(call.func, ast.Attribute) and call.func.attr == "pop" \
                and isinstance(call.func.value, ast.Subscript):
            root = call.func.value
            while isinstance(root, ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name) and isinstance(self.scope.get(root.id), Items):  # v = R[i].pop()
                return pylists.inner_change(self, call, stmt.targets[0], self.source.at(call))
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in _LIST_CHANGES + pylists.ORDERING and isinstance(call.func.value, ast.Name)):
            return False
        popped = None
        if isinstance(stmt, ast.Assign):  # v = out.pop(): the item bound to v
            if call.func.attr != "pop" or len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                return False
            popped = stmt.targets[0].id
        name, position = call.func.value.id, self.source.at(call)
        current = self.scope.get(name)
        empty = isinstance(current, Tracer) and name in self.sequence_names and self.b.nodes[current.id].op == "const" \
            and np.size(self.b.nodes[current.id].value) == 0
        if call.func.attr in pylists.ORDERING:  # xs.sort(), xs.remove(v) of a Python list (of lists)
            if not (isinstance(current, Items) and current.display == "list") or popped is not None:
                return False  # an array's y.sort(): said by _in_place_hint
            return pylists.inner_change(self, call, None, self.source.at(call))
        if call.func.attr not in ("append", "extend"):
            if not (isinstance(current, Items) and current.display == "list" or empty):
                return False  # an array's y.sort(), a list of numbers: said by _in_place_hint
            return self.list_changed(call, name, [] if empty else current, popped, position)
        if not (isinstance(current, (Items, Listed)) or empty):
            if name in self.scope:
                raise JacValueError(f"{name}.{call.func.attr}(...): jac appends to a list of arrays (out = [], or "
                                    f"[x, y]); '{name}' is {'an array' if isinstance(current, Tracer) else 'not one'}"
                                    " (for an array, torch.cat / np.append)", position)
            return False
        if len(call.args) != 1 or call.keywords:
            raise JacParseError(f"{name}.{call.func.attr}() takes one argument", position)
        if name in self.nested_names and call.func.attr == "append" and pylists.buildable(call.args[0]):
            value = pylists.build(self, call.args[0])  # R.append([0.0] * m), then R[i][j] = v: a list of its own
        else:
            value = self.expression(call.args[0])
            self.held_sequence(call.args[0], value)
        if isinstance(current, Listed) or (empty or type(current) is Items and not current) \
                and isinstance(value, (Module, Sequential, Instance, Listed)):  # layers = [] held as Python's list
            return self.appended_module(call, name, current, value, position)  # layers.append(nn.Linear(3, 3))
        _refuse_cycle(current, value, "list", f"{name}.{call.func.attr}(...)", position)
        if call.func.attr == "extend":
            if not isinstance(value, Items):
                raise JacValueError(f"{name}.extend() takes a list of arrays here ([a, b])", position)
            added = list(value)
        else:
            added = [value]
        longer = Items((list(current) if isinstance(current, Items) else []) + added)
        longer.display = "list"
        for held in self.same_list(name, current, f"{name}.{call.func.attr}(...)", position):
            self.scope[held] = longer
            # a = xs[0] reaches what the list holds (.scatter.Memory); xs.append(y.clone()) holds a new buffer
            self.memory.holds(held, added, fresh=call.func.attr == "append" and copies.is_copy(call.args[0]))
            self.sequence_names.add(held)  # still Python's list: xs + [y] concatenates
        self.swap_inside(current, longer, added, call.func.attr == "append" and copies.is_copy(call.args[0]))
        return True

    def list_changed(self, call: ast.Call, name: str, current, popped, position: int) -> bool:
        """``xs.insert(i, v)``, ``xs.pop(i)``, ``xs.clear()``, ``xs.reverse()`` of a list of arrays, as Python
        changes the one list every name holding it sees (:meth:`same_list`); ``popped`` the name ``v = xs.pop()``
        binds the item to."""
        method, items = call.func.attr, list(current)
        what = f"{name}.{method}(...)"
        takes = {"insert": (2, 2), "pop": (0, 1), "clear": (0, 0), "reverse": (0, 0)}[method]
        if call.keywords or not takes[0] <= len(call.args) <= takes[1]:
            raise JacParseError(f"{what}: a list's {method} takes {takes[1]} argument{'s' * (takes[1] != 1)}"
                                f"{' at most' if takes[0] != takes[1] else ''}, by position", position)
        holders = self.same_list(name, current, what, position)
        added = []
        if method in ("insert", "pop"):
            index = self.list_index(call.args[0], f"{what}: the index must be one constant integer") if call.args else -1
            if method == "insert":
                value = pylists.build(self, call.args[1]) if name in self.nested_names \
                    and pylists.buildable(call.args[1]) else self.expression(call.args[1])
                added = [value]
                items.insert(index, value)
            elif not -len(items) <= index < len(items):
                raise JacValueError(f"{what}: {'pop from empty list' if not items else 'pop index out of range'} "
                                    f"('{name}' holds {len(items)} item{'s' * (len(items) != 1)})", position)
            else:
                items.pop(index)
                if popped is not None:  # v = xs.pop(i) is v = xs[i] before the list changes
                    read = ast.Subscript(value=ast.Name(id=name, ctx=ast.Load()),
                                         slice=call.args[0] if call.args else ast.Constant(value=-1), ctx=ast.Load())
                    taken = ast.Assign(targets=[ast.Name(id=popped, ctx=ast.Store())], value=read)
                    self.statement(ast.fix_missing_locations(ast.copy_location(taken, call)))
        elif method == "clear":
            items = []
        else:
            items.reverse()
        new = Items(items)
        new.display = "list"
        for held in holders:
            self.scope[held] = new
            self.sequence_names.add(held)
            if added:
                self.memory.holds(held, added, fresh=copies.is_copy(call.args[1]))
        self.swap_inside(current, new, added, bool(added) and copies.is_copy(call.args[1]))
        return True

    def same_list(self, name: str, current, what: str, position: int) -> list:
        """``name`` and every other name holding the very list it holds (``b = a``): Python's ``a.append(v)``
        changes the one list they all hold, and jac rebinds each of them. Refused where the list is held where jac
        cannot rebind it: inside another list or a dict (``b = [a]``, ``d = {'k': a}``), or by a name of the
        caller of the function changing it (``def f(l): l.append(v)``)."""
        kind = "dict" if type(current) is Dict else "list"
        fn = self.calling[-1] if self.calling else None
        changed = [p for p, v in fn.defaults.items() if v is current] if fn is not None else []
        if changed:  # Python's default, made once: a later call that takes it sees this change (call_function)
            fn.changed = {**fn.changed, changed[0]: f"{what} {kind}"}
        holders = [name] + [n for n, v in self.scope.items() if n != name and v is current]
        outside = [n for n in holders if self.locals is not None and n not in self.locals[1]]
        memo = {}  # one scan of the scope: each list looked into once (_holds)
        inside = [n for n, v in self.scope.items() if n not in holders and _holds(v, current, memo)]
        if kind == "list":  # R = [row, ...] then row[0] = v: R rebuilt around the new row (swap_inside)
            outside += [n for n in inside if self.locals is not None and n not in self.locals[1]]
            inside = [n for n in inside if not _lists_only(self.scope[n], current, memo)]
        traced = [n for n in outside if not self.follows(n)]  # the caller's names see the change as the call returns
        if traced and not inside:
            shown = traced[0].split(" outside ")[0]
            raise JacValueError(f"{what} changes the {kind} '{name}' in place inside a function that a transform "
                                f"traces (jax.grad, jax.vmap, jax.jit, torch.func), and '{shown}' outside it holds "
                                f"that {kind} too: JAX and torch.func pass the function {kind}s of their own (a {kind} "
                                "it closes over would hold their tracers), which jac does not follow; make the "
                                f"{kind} inside the function, or return it and assign it", position)
        outside = []
        if outside or inside:
            where = f"'{(inside or outside)[0]}'"
            raise JacValueError(f"{what} changes the {kind} '{name}' in place, which {where} holds too (Python's "
                                f"{kind}s are shared, jac's are values it rebinds by name): build the {kind} before "
                                f"putting it into another, or return it from the function and assign it", position)
        return holders

    def swap_inside(self, old, new, added: list = (), fresh: bool = False) -> None:
        """Python's list ``old`` changed in place into ``new``: each list of the scope holding it, at any depth
        (``R`` of ``row = R[0]``, ``[[0.0] * 3] * 2``'s both rows), rebuilt around ``new``, as every holder sees the
        one list changed; the rebuilt lists keep which of their inner lists are one object (:meth:`same_list`
        has refused a dict or a caller's name holding it)."""
        memo = {id(old): new}
        self.changed(old, new)
        for fn in getattr(self, "mutable_defaults", ()):  # l = f(); l.append(x): f's default changed (call_function)
            for name, value in fn.defaults.items():
                if value is old and name not in fn.changed:
                    fn.changed = {**fn.changed, name: "a change through a name holding it list"}
        if getattr(self, "plain_keys", None):  # self.history of an instance holding it (lang/plain.py)
            plain.swapped(self, old, new)

        holding = {}  # one scan of the scope: each list looked into once (_holds)

        def swapped(value):
            if id(value) in memo:
                return memo[id(value)]
            if type(value) is not Items or not _holds(value, old, holding):
                return value
            out = Items([swapped(item) for item in value])
            out.display, out.fields = value.display, value.fields
            memo[id(value)] = out
            self.changed(value, out)
            return out
        for name, value in list(self.scope.items()):
            if value is not new and type(value) is Items and _holds(value, old, holding):
                self.scope[name] = swapped(value)
                if added:
                    self.memory.holds(name, [a for a in added if isinstance(a, Tracer)], fresh=fresh)

    def appended_module(self, call: ast.Call, name: str, current, value, position: int) -> bool:
        """``layers.append(nn.Linear(3, 3))`` / ``layers.extend([...])`` of a list of modules (``layers = []``),
        ``value`` the argument's."""
        added = list(value) if call.func.attr == "extend" and isinstance(value, Listed) else [value]
        if not all(isinstance(m, (Module, Sequential, Instance)) for m in added):
            raise JacValueError(f"{name}.{call.func.attr}(...): '{name}' is a list of modules, and this is not one",
                                position)
        longer = Listed((list(current) if isinstance(current, Listed) else []) + added)
        for held in self.same_list(name, current, f"{name}.{call.func.attr}(...)", position):
            self.scope[held] = longer
            self.sequence_names.discard(held)
        return True

    def loop(self, stmt: ast.For, where: str | None):
        """``for NAME in ITER: BODY``, the body written out once per item of ITER (a list, an array's rows,
        ``range(n)``, ``zip``, ``enumerate``: what a comprehension iterates over), as Python runs it: the names
        the body and the loop bind stay bound after it. ``break`` and ``continue`` under ``if`` tests known without
        the values (``if i == 2: break``) stop or skip as Python's; ``else`` runs unless a ``break`` ran."""
        position = self.source.at(stmt)
        if type(stmt.iter) in (ast.List, ast.Tuple) and stmt.iter.elts and all(
                type(e) is ast.Name and type(self.scope.get(e.id)) is Tracer for e in stmt.iter.elts):
            items = [self.scope[e.id] for e in stmt.iter.elts]  # for s in [t, u]: s is t, then u (Python's objects,
            # which a write in place changes: a list of constants was an array of its own, its rows copies)
        else:
            items = self.items_of(stmt.iter, "a for loop")
        self.unrolled += len(items) * len(stmt.body)
        if self.unrolled > _MAX_UNROLLED:
            raise JacLimitError(f"loops that run more than {_MAX_UNROLLED:,} statements: jac writes each out; write "
                                "the expression with whole arrays", position)
        names = [n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)]
        counting = type(stmt.iter) is ast.Call and type(stmt.iter.func) is ast.Name and stmt.iter.func.id == "range"
        for item in items:
            self.bind_target(stmt.target, item, position)
            for name in names:  # for r in xs: r is xs[0] (a write into r changes it: refused, .scatter.Memory)
                if isinstance(self.scope.get(name), (Tracer, Items)):
                    held = self.scope[name]  # for t in [u, w]: t is the object u holds (Python's alias, session 55)
                    alias = next((n for n, v in self.scope.items() if v is held and n != name and n not in names
                                  and n in self.memory.tokens), None) if type(held) is Tracer and not counting else None
                    self.memory.bind(name, held, False, alias)
            if not self.body_of_loop(stmt.body, where):
                return None  # a break ran: no else
        for inner in stmt.orelse:
            self.run(inner, where)
        return None

    def body_of_loop(self, body: list, where: str | None) -> bool:
        """One pass of a loop's body: False where a ``break`` ran in it, True otherwise (``continue`` too)."""
        try:
            for inner in body:
                self.run(inner, where)
        except _Continue:
            return True
        except _Break:
            return False
        return True

    def while_loop(self, stmt: ast.While, where: str | None):
        """``while TEST: BODY``, the body written out for as long as the test, known without the values at each
        pass (a counter compared with a constant, as an ``if`` test), is true, as Python runs it; ``break``,
        ``continue`` and ``else`` as in :meth:`loop`. Past the budget of the for loops (an endless ``while
        True``), refused."""
        position = self.source.at(stmt)
        while self.truth(stmt.test, self.expression(stmt.test), "a 'while' loop"):
            self.unrolled += max(len(stmt.body), 1)
            if self.unrolled > _MAX_UNROLLED:
                raise JacLimitError(f"loops that run more than {_MAX_UNROLLED:,} statements: jac writes each out, and "
                                    "this 'while' loop's test is still true there; write the expression with whole "
                                    "arrays", position)
            if not self.body_of_loop(stmt.body, where):
                return None
        for inner in stmt.orelse:
            self.run(inner, where)
        return None

    def target(self, name: str, node: ast.expr, what: str, position: int, item: bool = False) -> Tracer:
        """The array ``name`` (at ``node``) that a write ``what`` changes: one array, not a tuple (``item``: the write
        is into a part of ``name``, ``ts[0].add_(1)``)."""
        y = self.name(name, self.source.at(node))
        if type(y) is Complex:  # X *= H, X[0] = 0 of X = torch.fft.rfft(x)
            raise JacValueError(f"{what}: '{name}' is complex, which jac does not "
                                f"change in place: write a new value ({name} = {name} * H; the index's part by "
                                f"a mask, {name} = {name} * mask)", position)
        if not isinstance(y, Tracer) or isinstance(y, Pair):  # PyTorch's (values, indices) is a tuple too
            kind, unpack = _tuple_words(y)
            if item in (True, "augmented") and self.torch_writes() and type(y) is Items:  # p = torch.split(x, 2);
                for part in y:  # p[0].add_(1), p[0] += 1: PyTorch's in-place write into one of several views raises
                    if type(part) is Tracer and part.id in self.multi_views:  # before Python's TypeError (session 52)
                        views.check_multiple(self.b, part.id, self.multi_views, what, position)
            if item in ("assign", "augmented"):  # p[0] = v, p[0] += v: Python's tuple refuses it (a named one too)
                raise JacValueError(f"{what}: '{name}' is {kind}, whose items Python does not assign (TypeError: the "
                                    "tuple does not support item assignment); jac follows a write into an array a "
                                    "name holds or an item of a Python list, not an item of a tuple: make it a list "
                                    f"({name} = list({name})), or write into a copy of the item and make a new tuple",
                                    position)
            if item:  # ts[0].add_(1), of f(*ts) too: the tuple's item is an array another name may hold
                raise JacValueError(f"{what}: '{name}' is {kind}, and jac follows a write into an array a "
                                    "name holds or an item of a Python list, not an item of a tuple: make it a list "
                                    f"({name} = list({name})), or name its arrays where it is made ({unpack} = ...) "
                                    "and write into one", position)
            raise JacValueError(f"{what}: '{name}' is {kind}; index it first (parts[0])", position)
        return y

    def is_input(self, name: str) -> bool:
        """Does ``name`` hold an input itself (a fresh, contiguous tensor of its own)?"""
        value = self.scope.get(name)
        return type(value) is Tracer and self.b.nodes[value.id].op == "input"

    def checked_write(self, name: str, what: str, position: int, whole: bool = True, part: bool = False) -> None:
        """A write into ``name`` (``what``, at ``position``) that NumPy and PyTorch make on an array of its own, or of
        Python aliases alone (``u = t``: :meth:`rebind` rebinds them too) (:meth:`~jacobi_cli.lang.scatter.Memory.check`),
        or in a PyTorch text of views of one buffer that jac follows (lang/views.py: :meth:`rebind` rebinds them;
        ``whole``: the write changes every element of ``name``, not a part, ``name[0] = v``);
        in a PyTorch text, the savers of its buffer remembered (ir/saved.py: refused if backward reads them)."""
        aliases = self.same_object(name, self.scope.get(name))
        if self.torch_writes() and type(self.scope.get(name)) is Tracer:
            views.check_multiple(self.b, self.scope[name].id, self.multi_views, what, position)
        found = self.view_family(name)
        if found is not None:  # d = t.diagonal(); d.mul_(2): t and d both see it
            if not part:  # e[0] = v of a broadcast view e: its part checked by views.part_of
                views.check_written(found, name, what, position, whole)
            aliases = list(found.paths) + list(found.stale) + [h[0] for h in found.held]  # a stale part (a, b =
            # t.chunk(2)): refused at its use; a list holding an item of the buffer: rebuilt (bind_written)
        elif self.torch_writes() and type(self.scope.get(name)) is Tracer and not any(  # (not through a copy the
                self.hidden_copies.get(k) for k in layout_nodes(self.b, self.scope[name].id) or ()):  # graph hides)
            views.check_own_overlap(self.b, self.scope[name].id, name, what, position, whole and not part)
        self.memory.check(name, what, position, frozenset(aliases) if aliases else None)
        if self.saving and self.b.savers:
            saved.overwritten(self.b, self.memory.tokens.get(name, frozenset()), name, what, position)

    def saved_by(self, node: ast.expr, values: list, found: Tracer) -> None:
        """Register ``found`` as a saver (ir/saved.py) where the text spells the op itself: an operator, a torch or
        F function, or a method, of exactly these operands (no keyword), and it requires grad."""
        made = self.b.nodes[found.id]
        if node is self.in_place_value:
            self.in_place_found = found.id
        if not made.requires_grad:
            return
        receiver = None
        called, self.layer_called = self.layer_called, None
        if type(node) is ast.Call and called is not None and called[1] is found:  # fc(h), self.act(t), nn.ELU(0.5)(t)
            return self.kept_by_layer(called[0], node, values[len(values) - len(node.args) - len(node.keywords):],
                                      found)
        if type(node) is ast.BinOp:
            spelling, operands = _SAVING_OPERATORS.get(type(node.op)), [node.left, node.right]
        elif type(node) is ast.Call and type(node.func) is ast.Attribute:
            root = node.func.value
            module = _torch_module(root) and _root_name(root) not in self.scope
            method = not module and self.callee(node.func)[0] == "method"
            spelling = node.func.attr if module or method else None
            if module and spelling in ("batch_norm", "instance_norm") and _dotted(root) == "torch":
                spelling = f"torch.{spelling}"  # its weight and bias before the running statistics (saved.NAMED)
            operands = ([root] if method else []) + list(node.args)
            if node is self.in_place_value and method:  # y[0].clamp_(min=0.5): y[0]'s old value is autograd's own
                receiver = root
            if node.keywords or module and type(root) is not ast.Name:  # torch.linalg.norm(h), F.elu(h, 0.5)
                return self.kept_by_call(spelling, operands + [k.value for k in node.keywords], values, found,
                                         node.keywords, receiver)
        else:
            return
        if saved.rule(spelling, made.op) is None:
            return self.kept_by_call(spelling, operands, values, found, (), receiver)
        if saved.rule(spelling, made.op) is None or len(made.args) != len(values) or len(operands) != len(values) \
                or (made.op == "div" and (type(values[0]) is not Tracer or self.b.nodes[made.args[0]].op
                                          == "const" and not values[0].shape)):  # 2 / h: PyTorch's reciprocal(h) * 2
            return
        nodes = self.b.nodes
        if not all(a == v.id if type(v) is Tracer else nodes[a].op == "const" for a, v in zip(made.args, values)):
            return
        kept = saved.saved_ids(nodes, found.id)
        results = self.memory._base(found) if found.id in kept else frozenset()
        arguments = frozenset().union(*(self.buffers(e, v) for a, e, v in zip(made.args, operands, values)
                                        if a in kept and type(v) is Tracer and e is not receiver))
        saved.register(self.b, found.id, results, arguments)

    def product_of_one_float(self, node: ast.Call) -> None:
        """``torch.mm(A, B.float())``, ``A.mm(B.float())``: PyTorch's products (:data:`_ONE_FLOAT`) refuse operands of
        two float dtypes, where its element-wise ops promote; checked where the text shows each operand's dtype."""
        root = node.func.value
        module = _torch_module(root) and _root_name(root) not in self.scope
        if not module and self.callee(node.func)[0] != "method":
            return
        operands = ([] if module else [root]) + [e for a in node.args + [k.value for k in node.keywords]
                                                 for e in (a.elts if type(a) in (ast.List, ast.Tuple) else (a,))]
        name = f"{_dotted(root)}.{node.func.attr}" if module else f".{node.func.attr}()"
        self.one_float(name, operands, self.source.at(node))

    def layer_of_one_float(self, node: ast.Call) -> None:
        """``fc(u)`` of a layer made in the text (``fc = nn.Linear(3, 2)``: its parameters are PyTorch's default
        dtype, float32, unless the text set it or converted the layer) and a ``u`` the text makes float64: PyTorch
        raises ("expected m1 and m2 to have the same dtype"); jac computes layers in --dtype, and refuses there."""
        module = self.scope.get(node.func.id)
        if type(module) is not Module or not module.params or module.cls == "RMSNorm":  # rms_norm promotes
            return
        converted = self.converted or {}
        own = _layer_dtype(module)  # nn.Linear(3, 2, dtype=torch.float64): its parameters' (session 38)
        layer = converted.get(id(module)) if id(module) in converted else own or self.default_float
        given = self.float_dtype(node.args[0])
        if layer is None or given is None or given == "input" or own is None and _given_a_dtype(self.source.body):
            return  # a bound input beside the layer: PyTorch's default dtype, as the layer's (a deliberate choice)
        layer, given = ("float32" if d == "default" else d for d in (layer, given))
        if layer == given:
            return
        shown = ast.get_source_segment(self.source.body, node.args[0]) or "its argument"
        made = "as the text converted it" if id(module) in converted else "as its dtype= says" if own \
            else "PyTorch's default dtype"
        said = next((said for start, said in _MIXED if module.cls.startswith(start)),
                    "expected m1 and m2 to have the same dtype").format(*(("float" if d == "float32" else "double")
                                                                           for d in (given, layer)))
        raise JacValueError(f"{node.func.id}(...): nn.{module.cls}'s parameters are {layer} ({made}) and '{shown}' "
                            f"{given}, which PyTorch refuses (\"{said}\"); convert "
                            f"the layer ({node.func.id}.double() / .float()) or the input, or write "
                            "torch.set_default_dtype(torch.float64) before making the layer", self.source.at(node))

    def in_place_function(self, call: ast.Call) -> ast.Call | None:
        """``torch.NAME_(h, ...)`` / ``F.NAME_(h, ...)`` as a statement, PyTorch's in-place functions, spelled as
        jac reads them: ``F.NAME(h, ..., inplace=True)`` where F's NAME takes inplace= (relu, elu, leaky_relu,
        hardtanh, selu, celu, threshold, rrelu, dropout), else the method ``h.NAME_(...)`` (torch.sigmoid_(h),
        torch.exp_(h)); None for any other call."""
        func = call.func
        if type(func) is not ast.Attribute or not func.attr.endswith("_") or func.attr.startswith("_") \
                or not call.args or type(call.args[0]) not in (ast.Name, ast.Subscript) \
                or type(func.value) not in (ast.Name, ast.Attribute) or _root_name(func.value) in self.scope:
            return None
        module, name = _dotted(func.value), func.attr[:-1]
        if module not in ("torch", "F", "torch.nn.functional", "nn.functional") or module != "torch" \
                and name not in INPLACE_AT or any(k.arg == "inplace" for k in call.keywords):
            return None
        if name in INPLACE_AT:
            functional = ast.parse("torch.nn.functional", mode="eval").body
            for node in ast.walk(functional):
                ast.copy_location(node, func.value)
            spelled = ast.copy_location(ast.Attribute(value=functional, attr=name, ctx=ast.Load()), func)
            return ast.copy_location(ast.Call(func=spelled, args=call.args, keywords=[
                *call.keywords, ast.keyword(arg="inplace", value=ast.copy_location(ast.Constant(value=True), func))]),
                call)
        method = ast.copy_location(ast.Attribute(value=call.args[0], attr=func.attr, ctx=ast.Load()), func)
        return ast.copy_location(ast.Call(func=method, args=call.args[1:], keywords=call.keywords), call)

    def module_in_place(self, call: ast.Call) -> bool:
        """``nn.ReLU(inplace=True)(h)`` or ``act(h)`` of ``act = nn.ReLU(inplace=True)``, as a statement: a call of a
        module made with ``inplace=True``, which writes into its argument (:meth:`call_module`)."""
        func = call.func
        if type(func) is ast.Call:
            return self.writes_inplace(func) and type(func.func) is ast.Attribute and _dotted(func.func.value) in (
                "nn", "torch.nn") and _root_name(func.func.value) not in self.scope
        if type(func) is not ast.Name:
            return False
        module = self.scope.get(func.id)
        return type(module) is Module and module.kwargs.get("inplace") not in (None, False)

    def default_dtype_set(self, stmt: ast.stmt) -> bool:
        """``torch.set_default_dtype(torch.float64)`` (or ``torch.float32``) as a statement: PyTorch's constructors
        (``torch.ones(3)``, ``torch.tensor([1.0])``) make that dtype from here on (:meth:`float_dtype`); jac computes
        in --dtype as before. float64 under --dtype float32 is refused (PyTorch's constructors and layers would
        compute in float64); other dtypes are left to :func:`_global_setting`."""
        call = stmt.value if type(stmt) is ast.Expr else None
        if type(call) is not ast.Call or type(call.func) is not ast.Attribute or call.func.attr != "set_default_dtype" \
                or _dotted(call.func.value) != "torch" or "torch" in self.scope or len(call.args) != 1 \
                or call.keywords:
            return False
        dtype = _TORCH_FLOATS.get(_dotted(call.args[0]))
        if dtype is None:
            return False
        if dtype == "float64" and np.dtype(self.b.dtype) != np.float64:
            raise JacValueError("torch.set_default_dtype(torch.float64) under --dtype float32: PyTorch's constructors "
                                "and layers would compute in float64 beside float32 inputs; run with --dtype float64",
                                self.source.at(stmt))
        self.default_float = "float64" if dtype == "float64" else "default"
        return True

    def one_float(self, what: str, operands: list, position: int) -> None:
        """Refuse the product ``what`` of ``operands`` where two of them are held in different float dtypes: two the
        text shows (a bound input is --dtype), or a constructor's default float32 beside a float64 the text makes
        (a bound input beside a constructor is not refused: it stands for a tensor of PyTorch's default dtype too,
        computed in --dtype, as a layer's parameters are)."""
        dtypes, made = {}, {}
        for e in operands:
            dtype = self.float_dtype(e)
            shown = ast.get_source_segment(self.source.body, e) or "an operand"
            if dtype is not None:
                made.setdefault(dtype, shown)
                dtypes.setdefault(np.dtype(self.b.dtype).name if dtype == "input" else dtype, shown)
        dtypes.pop("default", None)
        if "default" in made and "float64" in made:
            raise JacValueError(f"{what}: PyTorch's products take operands of one dtype (its RuntimeError \"expected "
                                f"m1 and m2 to have the same dtype\"): '{made['default']}' is float32 (PyTorch's "
                                f"default dtype, which its constructors make) and '{made['float64']}' float64; give "
                                "the constructor dtype=torch.float64 (or write .double()), or write "
                                "torch.set_default_dtype(torch.float64) before it; element-wise ops promote, products "
                                "do not", position)
        if len(dtypes) > 1:
            (d1, e1), (d2, e2) = sorted(dtypes.items())[:2]
            raise JacValueError(f"{what}: PyTorch's products take operands of one dtype (its RuntimeError \"expected "
                                f"m1 and m2 to have the same dtype\"): '{e2}' is {d2} and '{e1}' {d1} (bound inputs "
                                f"are --dtype, {np.dtype(self.b.dtype).name}); convert one (.double(), .float(), "
                                ".to(other.dtype)), or run with --dtype float32 where the inputs are float32 tensors; "
                                "element-wise ops promote, products do not", position)

    def float_dtype(self, expr: ast.expr) -> str | None:
        """The float dtype PyTorch holds ``expr`` in, where the text shows it: a conversion (``.float()``,
        ``.double()``, ``.to(torch.float32)``, ``.type(torch.float64)``), through views and copies of one, a name a
        plain assignment bound to one, or a bound input (--dtype) named where no other binding of its name could
        hide a conversion (jac computes a conversion as the identity: the node does not say); a float function of one
        float tensor (``torch.sin(x)``, ``x.exp()``) keeps its dtype (h39-views2). None: not known."""
        floats_only = False  # through torch.sin(x): x's dtype where it is a float one (an integer's sin is float32)
        while True:
            kind = type(expr)
            if kind is ast.Subscript or kind is ast.Attribute and expr.attr in ("T", "mT"):
                expr = expr.value
                continue
            if kind is ast.Call and type(expr.func) is ast.Attribute and expr.func.attr in _FLOAT_KEEPING \
                    and not expr.keywords and (
                        not expr.args and self.callee(expr.func)[0] == "method"
                        or len(expr.args) == 1 and _dotted(expr.func.value) == "torch" and "torch" not in self.scope):
                expr = expr.args[0] if expr.args else expr.func.value
                floats_only = True
                continue
            if floats_only:
                found = self._float_dtype_of(expr)
                return found if found in ("float32", "float64", "input", "default") else None
            return self._float_dtype_of(expr)

    def _float_dtype_of(self, expr: ast.expr) -> str | None:
        """:meth:`float_dtype` past the float functions of one tensor."""
        while True:
            kind = type(expr)
            if kind is ast.Subscript or kind is ast.Attribute and expr.attr in ("T", "mT"):
                expr = expr.value
                continue
            if kind is ast.Call and type(expr.func) is ast.Attribute and expr.func.attr in _PROMOTING \
                    and _dotted(expr.func.value) == "torch" and "torch" not in self.scope and not expr.keywords:
                return self.promoted_dtype(expr.args)  # torch.outer(u, u), torch.stack([c, c])
            if kind is ast.Call and type(expr.func) is ast.Attribute and _dotted(expr.func.value) in _MAKERS_OF \
                    and _root_name(expr.func.value) not in self.scope:
                made = self.made_dtype(expr)  # torch.ones(3): PyTorch's default dtype
                if made != "like":
                    return made
                expr = expr.args[0]  # torch.ones_like(x), nn.Parameter(t): x's dtype
                continue
            if kind is ast.Call and type(expr.func) is ast.Attribute and self.callee(expr.func)[0] == "method":
                method = expr.func.attr
                if method in ("float", "double") and not expr.args and not expr.keywords:
                    return "float32" if method == "float" else "float64"
                if method in ("to", "type"):
                    written = expr.args[:1] + [k.value for k in expr.keywords if k.arg == "dtype"]
                    spelled = _dotted(written[0]) if len(written) == 1 else None
                    return _TORCH_FLOATS.get(spelled) if "torch" not in self.scope else None
                if method not in _SAME_DTYPE_METHODS:
                    return None
                expr = expr.func.value
                continue
            if kind is ast.BinOp and type(expr.op) in _SCALAR_KEEPS and _python_number(expr.right):
                expr = expr.left  # x.float() * 2: a Python number keeps the tensor's dtype
                continue
            if kind is ast.BinOp and type(expr.op) in _SCALAR_KEEPS and _python_number(expr.left):
                expr = expr.right
                continue
            if kind is ast.UnaryOp and type(expr.op) in (ast.USub, ast.UAdd):
                expr = expr.operand
                continue
            if kind is not ast.Name or expr.id in self.assigned_otherwise:
                return None
            value = self.scope.get(expr.id)
            tag = self.float_names.get(expr.id)
            if tag is not None:
                return tag[0] if tag[1] is self.scope and tag[2] is value else None
            if type(value) is Tracer and self.frame is None and self.b.nodes[value.id].op == "input" \
                    and expr.id not in (self.leaves or {}) and self.b.nodes[value.id].name == expr.id:
                return "input"  # --dtype
            return None

    def saved_parts(self, node: ast.Call, values: list, found) -> None:
        """Register each differentiable part of a PyTorch call of several results (:data:`saved.PARTS`: a (values,
        indices) pair, ``eigh``'s, ``qr``'s, ``slogdet``'s tuple) as a saver of what that call keeps: its operand's
        buffers and its kept parts', made here (a pair makes its parts when asked for: a write between the call and
        that ask changes what PyTorch saved at the call)."""
        called, self.layer_called = self.layer_called, None
        operands = values[len(values) - len(node.args) - len(node.keywords):]  # h, c = cell(x), self.cell(x)
        if isinstance(found, Items) and called is not None and called[1] is found:
            for k in range(len(found)):
                part = found[k]
                if type(part) is Tracer and self.b.nodes[part.id].requires_grad:
                    self.kept_by_layer(called[0], node, operands, part)
            return
        if type(node.func) is not ast.Attribute or not values or type(values[0]) is not Tracer:
            return
        root = node.func.value
        module = _torch_module(root) and _root_name(root) not in self.scope
        if not (module and node.args or self.callee(node.func)[0] == "method") or node.func.attr not in saved.PARTS:
            return
        keeps_operand, kept = saved.PARTS[node.func.attr]
        parts = []
        for name in (found.names if isinstance(found, Pair) else range(len(found))):
            try:
                parts.append(found.part(name) if isinstance(found, Pair) else found[name])
            except JacError:  # a part this call cannot make (refused when asked for, as before)
                parts.append(None)
        nodes = self.b.nodes
        arguments = self.buffers(node.args[0] if module else root, values[0]) if keeps_operand else frozenset()
        results = frozenset().union(*(self.memory._base(parts[k]) for k in kept
                                      if k < len(parts) and isinstance(parts[k], Tracer)))
        for part in parts:
            if isinstance(part, Tracer) and nodes[part.id].requires_grad and (arguments or results):
                saved.register(self.b, part.id, results, arguments, node.func.attr)

    def promoted_dtype(self, args: list) -> str | None:
        """The float dtype of ``torch.outer(a, b)`` / ``torch.kron`` / ``torch.cat([a, b])`` / ``torch.stack``
        (operands of one dimension or more, which PyTorch promotes): float64 where one operand is, their one dtype
        where they agree, else None."""
        operands = [e for a in args for e in (a.elts if type(a) in (ast.List, ast.Tuple) else (a,))]
        if type(args[0] if args else None) in (ast.List, ast.Tuple) and len(args) > 2 or not operands:
            return None
        dtypes = {self.float_dtype(e) for e in operands}
        return "float64" if "float64" in dtypes else dtypes.pop() if len(dtypes) == 1 else None

    def made_dtype(self, call: ast.Call) -> str | None:
        """The float dtype of a PyTorch constructor's result (``torch.ones(3)``, ``torch.tensor([1.0, 2.0])``,
        ``torch.arange(3.0)``): its ``dtype=``, or PyTorch's default (``"default"``: float32, or the text's
        ``torch.set_default_dtype``) where its arguments make a float; ``"like"`` for ``torch.ones_like(x)`` and
        ``nn.Parameter(t)`` (the first argument's); None where not known (an integer tensor, data from an array)."""
        name = call.func.attr
        written = [k.value for k in call.keywords if k.arg == "dtype"]
        if written:
            return _TORCH_FLOATS.get(_dotted(written[0]))
        if _dotted(call.func.value) != "torch" and name != "Parameter" or name not in _MAKERS:
            return None
        kind = _MAKERS[name]
        if kind == "like":
            return "like" if len(call.args) >= 1 and type(call.args[0]) is not ast.Starred else None
        if kind == "data":  # torch.tensor([1.0, 2.0]): a float literal among Python numbers
            if len(call.args) != 1 or not _float_literals(call.args[0]):
                return None
        elif kind == "numbers":  # torch.arange(3.0), torch.full((3,), 2.0): a float among the numbers
            if not any(type(a) is ast.Constant and type(a.value) is float for a in call.args):
                return None
        return self.default_float

    def kept_by_call(self, spelling, operands: list, values: list, found: Tracer, keywords, receiver=None) -> None:
        """Register ``found`` as a saver of the tensors a call of :data:`saved.KEPT` keeps (ir/saved.py: PyTorch's
        ``derivatives.yaml``, checked against PyTorch), whatever nodes its lowering made; not with ``inplace=`` given
        another value than False (``inplace=False``, or a flag holding False, is the call without it: session 55,
        it kept nothing, so a later write into what F.elu(t, inplace=False) keeps was answered where PyTorch raises).
        ``receiver``: the operand an in-place method writes (:meth:`in_place_at`), never counted as kept."""
        if spelling not in saved.KEPT and spelling not in ("max", "min", "median") or len(operands) != len(values) \
                or any(k.arg == "inplace" and in_place_flag(None, [], {"inplace": v}) is not False
                       for k, v in zip(keywords, values[len(values) - len(keywords):])) \
                or in_place_flag(spelling, values[:len(values) - len(keywords)], {}) not in (None, False):
            return  # F.threshold(h, 0.2, 0.0, flag): the flag by position
        nodes = self.b.nodes
        grads = [nodes[v.id].requires_grad if type(v) is Tracer else None for v in values]
        kept = saved.kept_by_call(spelling, operands, grads, tuple(k.arg for k in keywords))
        if kept is None:
            return
        results = self.memory._base(found) if kept[0] else frozenset()
        arguments = frozenset().union(*(self.buffers(operands[k], values[k]) for k in kept[1]
                                        if operands[k] is not receiver))
        saved.register(self.b, found.id, results, arguments, spelling)

    def kept_by_layer(self, module, node: ast.Call, values: list, found: Tracer) -> None:
        """Session 38: a layer called by its name (``fc(h)``, ``model(h)``) registered as a saver of what PyTorch
        keeps for its derivative (:func:`saved.layer_keeps`): its tensor arguments where its first module keeps its
        input (a layer with parameters multiplies it by a weight, a norm keeps it), its result where its last module
        keeps its result (``nn.ReLU()``); a later write into either makes PyTorch's backward raise."""
        first, last = module, module
        while isinstance(first, Sequential) and first.modules:
            first = first.modules[0]
        while isinstance(last, Sequential) and last.modules:
            last = last.modules[-1]
        if not isinstance(first, Module) or not isinstance(last, Module):
            return
        keeps_input = saved.layer_keeps(first.cls, first.fname, first.kwargs, RECURRENT, LAYERS, NORMS)[0]
        keeps_result = saved.layer_keeps(last.cls, last.fname, last.kwargs, RECURRENT, LAYERS, NORMS)[1]
        arguments = frozenset().union(*(self.buffers(e, v) for e, v in zip(node.args, values)
                                        if type(v) is Tracer)) if keeps_input else frozenset()
        results = self.memory._base(found) if keeps_result else frozenset()
        if arguments or results:
            saved.register(self.b, found.id, results, arguments, f"nn.{module.cls}")  # nn.Sequential: its layers

    def kept_by_itself(self, name: str, spelling: str, operands: list, values: list, new: Tracer, keywords: bool,
                       what: str, position: int) -> None:
        """PyTorch's in-place ``name.<spelling>_(...)`` / ``name op= v`` that keeps for its derivative an operand
        sharing ``name``'s buffer, which this very write changes (ir/saved.py: ``in_place_kept``): registered as a
        saver made stale, so backward reaching ``new`` is refused as PyTorch's raises."""
        nodes = self.b.nodes
        if not self.saving or not nodes[new.id].requires_grad or len(operands) != len(values):
            return
        grads = [nodes[v.id].requires_grad if type(v) is Tracer else None for v in values]
        mine = self.memory.tokens.get(name, frozenset())
        kept = saved.in_place_kept(spelling, operands, grads, keywords)
        for k in kept:
            if type(values[k]) is Tracer and (_viewed_name(operands[k]) == name
                                              or type(operands[k]) is ast.Name  # an alias: u = t; t.mul_(u)
                                              and mine & self.memory.tokens.get(operands[k].id, frozenset())):
                return saved.changed_by_itself(self.b, new.id, mine, name, what, position, spelling)
        # the operands it keeps, as its out-of-place call's (saved_by): t.addcmul_(u, u) then u.relu_() raises in
        # PyTorch's backward (session 50)
        arguments = frozenset().union(*(self.buffers(operands[k], values[k]) for k in kept if type(values[k]) is Tracer))
        if arguments:
            saved.register(self.b, new.id, frozenset(), arguments, spelling)

    def buffers(self, expr: ast.expr, value: Tracer) -> frozenset:
        """The buffers the operand ``expr`` (lowered to ``value``) reads: a name's own (a copy that shares the node,
        ``h = p.clone()``, is its buffer, not p's), none for a new buffer no name holds (``h.clone()``,
        ``h.flip(0)``, ``h[[0, 2]]``, ``h.clone().detach()``: never written, whatever node jac's graph gives it), a
        view of a name written as one (``x[1:]``) that name's (session 54), or those of the node it reaches through
        views."""
        if type(expr) is ast.Name and expr.id in self.memory.tokens:
            return self.memory.tokens[expr.id]
        base = _torch_view_base(expr)
        if self.new_buffer(expr, value) or base is not expr and copies.is_copy(base):
            return frozenset()
        viewed = self.viewed_name(expr, value) if type(value) is Tracer else None
        if viewed is not None:
            return self.memory.tokens[viewed]  # x[1:] beside t = x.clone(), whose node is x's: x's buffer alone
        return self.memory._base(value)

    def own_copy(self, expr: ast.expr, value):
        """``value``, the copy ``expr`` makes (a new buffer: :meth:`new_buffer`), as a node of its own in the copy's
        layout where jac lowered it onto its operand's node and the layouts differ (``t.T.contiguous()``, ``u[:,
        :2].clone()``: copies.hidden_layout), so the view check reads the operand's and the copy's each as it is;
        else ``value`` itself. Bound to a name (``v = t.T.contiguous()``) or returned by a function of the text
        (``def f(t): return t.contiguous()``, session 57: its caller's ``f(A.T).T.view(-1)`` was answered)."""
        if type(value) is not Tracer or type(expr) is not ast.Call:
            return value
        hidden = self.copy_calls.get(id(expr))
        hidden = hidden.get(value.id) if hidden is not None and len(hidden) == 1 and self.hidden_copies.get(
            value.id) and type(expr.func) is ast.Attribute and expr.func.attr in ("contiguous", "clone", "tensor") else None
        if hidden is None and not copies.contiguous_copy(self, expr, value):
            return value
        if hidden is not None:
            self.hidden_copies[value.id] -= 1
        return copies.own_node(self.b, value, self.source.at(expr), hidden or "new")

    def returned_copy(self, expr: ast.expr | None, value):
        """A function's returned ``value`` (of ``expr``): a copy (``return t.clone()``) as :meth:`own_copy` makes it
        for a name."""
        if expr is None or type(value) is not Tracer or not self.new_buffer(expr, value):
            return value
        return self.own_copy(expr, value)

    def new_buffer(self, expr: ast.expr, value) -> bool:
        """Is ``expr`` (lowered to ``value``) a call or index whose result the library holds in a new buffer, though
        jac's graph may show its operand's node or a view of it: ``y.clone()``, ``np.array(y)``, ``y[[0, 1]]``,
        ``torch.flip(y)``, ``F.embedding(i, W)``, ``y.float()`` of a double (lang/copies.py)."""
        return copies.is_copy(expr) or _advanced(expr, value, self.b) or copies.fresh(self, expr, value) \
            or type(expr) is ast.Subscript and type(value) is Tracer \
            and (self.source.at(expr.slice), value.id) in self.gathered

    def rebind(self, name: str, new: Tracer, follow: bool = True) -> Tracer:
        """``name`` bound to the written value ``new`` (a write rebinds it, see :meth:`write`), and the names bound
        to the very same object (``u = t``: Python's aliases, which see the write too). In a PyTorch text, the names
        viewing the buffer ``name`` views (``d = t.diagonal()``) see the write too (lang/views.py): ``follow=False``
        for a write of the shape alone (``t.unsqueeze_(0)``), which changes no other name."""
        old = self.scope.get(name)
        found = self.view_family(name) if follow and type(new) is Tracer else None
        if found is not None:
            return self.rebind_views(name, old, found, new)
        if follow and type(old) is Tracer and type(new) is Tracer and self.torch_writes():
            self.same_buffer(new, old.id)
        self.scope[name] = self.b.name(new, name)
        self.memory.rebind(name, new)
        aliases = self.same_object(name, old)
        for alias in aliases:
            self.scope[alias] = self.scope[name]
        self.written_outside([name, *aliases])
        return new

    def other_buffer(self, expr: ast.expr, name: str | None) -> bool:
        """Is ``expr`` written as a view of a name whose buffers ``name``'s do not share (``A[0]`` beside ``t =
        A.clone()``, whose node is ``A``'s): no overlap, whatever the nodes of the graph say."""
        base = _view_base(expr)
        if type(base) is ast.Call and copies.is_copy(base):  # t[1:].clone(): a buffer of its own, made before the
            return True  # write (its node is t[1:]'s, which no longer marks it a copy: session 56)
        mine = self.memory.tokens.get(name) if name is not None else None
        if type(base) is not ast.Name or base.id not in self.memory.tokens or not mine:
            return False
        return not (self.memory.tokens[base.id] & mine)

    def written_copy(self, call: ast.expr) -> None:
        """Refuse ``t.flip(0).add_(1)`` as a statement saying what it does: PyTorch's flip (clone, roll, contiguous of
        a transpose, ... lang/copies.py) makes a new tensor, the in-place method writes into it, and no name holds it,
        so nothing changes (PyTorch runs it; a text that means to change ``t`` has a slip jac will not hide)."""
        if not (type(call) is ast.Call and type(call.func) is ast.Attribute and call.func.attr.endswith("_")
                and not call.func.attr.startswith("_") and type(call.func.value) is ast.Call):
            return
        receiver = call.func.value
        value = self.expression(receiver)
        if type(value) is not Tracer or not (copies.is_copy(receiver) or copies.fresh(self, receiver, value)):
            return
        base = next((n.id for n in ast.walk(receiver) if type(n) is ast.Name and type(self.scope.get(n.id)) is Tracer),
                    None)
        text = ast.unparse(receiver)
        kept = f"'{base}' stays as it was" if base is not None else "no name changes"
        raise JacValueError(f"{text}.{call.func.attr}(...) as a statement changes nothing: {text} is a new tensor (a "
                            f"copy, in PyTorch), the in-place method writes into it and no name holds it, so {kept} "
                            f"(PyTorch runs it and drops the result); to use it, name it (u = {text}.{call.func.attr}"
                            "(...))" + (f", or write into '{base}' itself ({base}[...] = ..., {base}.copy_(...))"
                                        if base is not None else ""), self.source.at(call))

    def through_itself(self, stmt: ast.Expr) -> ast.Expr:
        """``t.contiguous().mul_(2)``, ``t.double().add_(1)`` as a statement: where PyTorch's call answers with ``t``
        itself (lang/copies.py ``itself``: contiguous already, of that dtype already), the method written on ``t``."""
        call = stmt.value
        if not (type(call.func) is ast.Attribute and call.func.attr.endswith("_") and not call.func.attr.startswith("_")):
            return stmt
        receiver = inner = call.func.value
        while (base := copies.operand(self, inner)) is not None:  # t.double(), t.flatten(1, 1), torch.atleast_2d(t)
            inner = base
        if inner is receiver or not _view_like(inner):  # lowered below only where it is views of a name: no effect
            return stmt
        while receiver is not inner:
            value = self.expression(receiver)
            if type(value) is not Tracer or not copies.itself(self, receiver, value):
                return stmt
            receiver = copies.operand(self, receiver)
        func = ast.copy_location(ast.Attribute(value=receiver, attr=call.func.attr, ctx=ast.Load()), call.func)
        return ast.copy_location(ast.Expr(value=ast.copy_location(
            ast.Call(func=func, args=call.args, keywords=call.keywords), call)), stmt)

    def in_place_argument(self, call: ast.expr) -> ast.Name | None:
        """``t`` of ``F.relu(t, inplace=True)`` or of ``act(t)`` (``act = nn.ReLU(inplace=True)``), calls that write
        into the name they are given and return that tensor itself (session 54); None for any other expression."""
        if type(call) is not ast.Call or not call.args or type(call.args[0]) is not ast.Name \
                or call.args[0].id not in self.memory.tokens:
            return None
        if self.writes_inplace(call) or self.module_in_place(call):
            return call.args[0]
        return None

    def passed_through(self, call: ast.expr, value: Tracer) -> ast.Name | None:
        """``t`` of ``g = m(t)``, ``nn.Identity()(t)``, ``F.dropout(t, training=False)``: a module or function that
        PyTorch 2.13 answers with its argument itself (``g is t``: nn.Identity, and dropout with p=0 or out of training)
        where jac's node is ``t``'s own (a dropout that draws, or zeroes at p=1, is another node); None for any other
        expression. A write through either name is then seen through the other (session 56)."""
        if type(call) is not ast.Call or not call.args or type(call.args[0]) is not ast.Name:
            return None
        held = self.scope.get(call.args[0].id)
        if type(held) is not Tracer or held.id != value.id or call.args[0].id not in self.memory.tokens:
            return None
        func = call.func
        if type(func) is ast.Name:
            module = self.scope.get(func.id)
            return call.args[0] if type(module) is Module and module.cls in _PASSING_MODULES else None
        if type(func) is ast.Call and type(func.func) is ast.Attribute and func.func.attr in _PASSING_MODULES:
            return call.args[0] if self.module_path(func.func.value) in ("nn", "torch.nn") else None
        if type(func) is ast.Attribute and func.attr in _PASSING_FUNCTIONS:
            return call.args[0] if self.module_path(func.value) in _PASSING_OWNERS else None
        return None

    def itself(self, target: str, receiver: ast.expr, value: Tracer) -> tuple:
        """``target = receiver.double()`` (``.contiguous()``, ...) that PyTorch answers with ``receiver`` itself
        (lang/copies.py ``itself``): (the name it aliases, or None; the name it views, or None). An alias is bound to
        the name's own tracer, so a write into either rebinds both (Python's aliases). ``receiver`` may itself be such a
        call (``t.cpu().flatten(1, 1)``): its name is the chain's."""
        while type(receiver) is not ast.Name and (inner := copies.operand(self, receiver)) is not None:
            receiver = inner
        if type(receiver) is ast.Name and receiver.id in self.memory.tokens and self.scope.get(receiver.id) is not None \
                and type(self.scope[receiver.id]) is Tracer and (self.scope[receiver.id].id == value.id
                                                                 or self.scope[receiver.id].shape == value.shape):
            self.scope[target] = self.scope[receiver.id]
            return receiver.id, None
        return None, self.viewed_name(receiver, value)

    def viewed_name(self, expr: ast.expr, value: Tracer) -> str | None:
        """The name whose tensor ``expr`` (lowered to ``value``) is a chain of views of, as written (``t`` of
        ``t[0].T``), where jac's graph shows that chain: ``v = t[0]`` then shares ``t``'s buffers exactly, though
        ``t``'s node is another name's too (``t = A.clone()``, lowered onto ``A``'s node)."""
        base = _view_base(expr)
        if type(base) is not ast.Name or base.id not in self.memory.tokens or type(self.scope.get(base.id)) is not Tracer:
            return None
        return base.id if overlap.chain(self.b, value.id, self.scope[base.id].id) is not None else None

    def same_buffer(self, new: Tracer, old: int) -> None:
        """``new``, a write in place's result made by this write (no name's node yet), is held in node ``old``'s buffer,
        whose layout (strides) it keeps: ``functions._stand_in`` replays it, for the overlap checks of later writes."""
        if new.id > old and new.id not in self.memory.by_node and self.b.nodes[new.id].op not in ("input", "const") \
                and not (self.b.layouts and new.id in self.b.layouts):
            copied_layout(self.b, new, ("buffer", old))

    def view_family(self, name: str):
        """The names viewing ``name``'s buffer that a write into it changes too (lang/views.py). In a text NumPy may
        run, only views both libraries make alike: basic indices and transposes (NumPy's diagonal and broadcast are
        read-only, its integer index of every axis a scalar of its own)."""
        if self.jax_reading:
            return None
        containers = self.torch_writes() and not self.grad_off and self.nograd_running is None  # ys = [t] (views.py)
        found = views.family(self.memory, self.scope, self.b, name, self.multi_views, containers)
        if found is not None and self.sharing and self.locals is not None:  # a call's write: its caller's names too
            closures = frozenset().union(*(level[3] for level in self.sharing))
            if any(n not in self.locals[1] and (n in closures or not self.follows(n))
                   for n in (*found.paths, *found.stale, *(h[0] for h in found.held))):  # (a closure's cell, a
                return None  # transform's trace: refused)
        if found is None or self.torch_writes():
            return found
        return found if views.numpy_alike(self.b, found, name) else None

    def expanded_part(self, name: str, target: ast.expr, what: str, position: int):
        """``e[0] = v`` (``target``) of a broadcast view ``e = t[0].expand(3, 3)`` in a PyTorch text: (the names
        viewing the buffer, the part's view nodes from ``e``, the part's offsets in the buffer), which PyTorch writes
        where the part holds each element once (views.part_of); None for any other write."""
        if not isinstance(target, ast.Subscript) or not self.torch_writes() or type(self.scope.get(name)) is not Tracer:
            return None
        found = self.view_family(name)
        if found is None:
            return None
        viewed = overlap.viewed(found.ids, found.paths[name])
        if viewed is None or len(np.unique(viewed)) == viewed.size:
            return None
        if not _view_like(target):  # e[[0]] = v: index_put_ checks the whole of e
            raise JacValueError(f"{what}: PyTorch raises \"{views.MORE_THAN_ONE}\"", position)
        value = self.expression(target)
        path = overlap.chain(self.b, value.id, self.scope[name].id) if type(value) is Tracer else None
        if path is None:
            return None
        return found, path, views.part_of(found, name, path, what, position)

    def rebind_part(self, name: str, part: tuple, new: Tracer, position: int, piece: Tracer | None = None) -> Tracer:
        """``new`` (``name``'s value as the write of a part leaves it; or ``piece``, the part's new value) written
        through the broadcast view ``name``: the part's new elements put into the buffer's root, every name viewing it
        replayed (:meth:`rebind_views`)."""
        found, path, offsets = part
        piece = views.replay(self.b, path, new, position) if piece is None else piece
        root, values = views.written(self.b, found, name, new, position, (offsets, piece))
        return self.bind_written(name, None, found, root, values, held_now=True)

    def stale_views(self, found) -> None:
        """The names viewing a split / chunk / unbind part of the written buffer (``a, b = t.chunk(2); t.add_(1)``):
        refused at their next use, as PyTorch raises there; no longer views the buffer's later writes change."""
        for n in found.stale:
            self.scope[n] = Refused(views.stale_view(n))
            self.memory.tokens.pop(n, None)

    def rebind_views(self, name: str, old, found, new: Tracer) -> Tracer:
        """``new`` written into ``name``, a view of the buffer the names of ``found`` view: the buffer's root as the
        write leaves it, and every name bound to its view of that root (Python's aliases to one tracer)."""
        root, values = views.written(self.b, found, name, new, self.b.nodes[new.id].position)
        return self.bind_written(name, old, found, root, values)

    def bind_written(self, name: str, old, found, root, values: dict, held_now: bool = False) -> Tracer:
        """After a write into ``name`` (a view of the buffer the names of ``found`` view): the buffer's ``root`` as
        the write leaves it, each name's view of it (``values``) bound, and the names holding ``old``, the object
        ``name`` held (Python's aliases; ``held_now``: the one ``name`` holds once the stale views are refused),
        bound to ``name``'s."""
        self.stale_views(found)
        self.same_buffer(root, found.root)
        tokens = self.memory.tokens[name]
        self.memory.by_node[root.id] = self.memory.by_node.get(root.id, frozenset()) | tokens
        aliases = self.same_object(name, self.scope.get(name) if held_now else old)
        items = {key: values.pop(key) for key in [k for k in values if type(k) is tuple]}
        for n, value in values.items():
            if n not in aliases:
                self.scope[n] = self.b.name(value, n)
                self.memory.rebind(n, value)
        for alias in aliases:
            self.scope[alias] = self.scope[name]
        self.held_rebuilt(items)
        self.written_outside([*values, *aliases, *found.stale, *(n for n, _ in items)])
        return self.scope[name]

    def held_rebuilt(self, items: dict) -> None:
        """The lists and tuples holding an item of a written buffer (``ys = [t]``; ``items``: (name, k) -> the item's
        new value, lang/views.py's ``Family.held``), each rebuilt with it, every name holding the same list object
        (``zs = ys``) bound to the one new list, as Python's list is one object whose item PyTorch changed."""
        made = {}
        for (n, k), value in items.items():
            old = self.scope[n]
            if id(old) not in made:
                made[id(old)] = (old, list(old))
            made[id(old)][1][k] = value
        for old, parts in made.values():
            new = Items(parts)
            new.display, new.fields = old.display, old.fields
            for m, held in list(self.scope.items()):
                if held is old:
                    self.scope[m] = new
            self.changed(old, new)

    def same_object(self, name: str, value) -> list:
        """The other names holding the object ``name`` holds (``u = t``), bound to ``value`` still."""
        return [n for n in self.memory.aliases(name) if value is not None and self.scope.get(n) is value]

    def write(self, target, value_node: ast.expr, op, in_place: str | None = None):
        """``y[idx] = v``, ``y op= v``, ``y[idx] op= v``: the name rebound to the written value,
        where that is what NumPy and PyTorch compute in place (:class:`~jacobi_cli.lang.scatter.Memory`).
        ``in_place``: ``y[i] = y[i].mul(2)`` stands for ``y[i].mul_(2)`` (the text, for messages), which writes into
        the array a list's or dict's item holds (checked as ``y[i] *= 2`` is)."""
        position = self.source.at(target)
        named = target.value if isinstance(target, ast.Subscript) else target
        text = (_BINOP_TEXT.get(type(op)) or _op_text(op)) + "=" if op is not None else "="
        what = in_place or f"{ast.unparse(target)} {text} ..."  # h[0].mul_(...) quoted as written, not h[0] = ...
        if isinstance(named, ast.Subscript) and isinstance(target, ast.Subscript):  # R[i][j] = v of lists
            return self.nested_write(target, value_node, op, what, position)
        field = _named_field(self, named)
        if field is not None:  # p.sign[...] = 1 of p = torch.linalg.slogdet(x): an array of a named tuple
            raise JacValueError(_TUPLE_ITEM_WRITTEN.format(what=what, name=field[0], words=_tuple_words(field[1])),
                                position)
        if not isinstance(named, ast.Name):
            raise JacParseError(f"{what}: only a name can be written into (y[...] = v, y += v)", position)
        name = named.id
        if type(self.scope.get(name)) is Dict:  # params['W'] = v: the name bound to a new dict (.trees)
            return self.dict_write(name, target, value_node, op, what, position, in_place)
        if type(self.scope.get(name)) is Items and isinstance(target, ast.Subscript) and (
                self.scope[name].display == "list" or self.scope[name].display is None and name in self.sequence_names
                and name not in self.tuple_names):  # outs[0] = v: Python's list item written (b = a[:] a list too)
            return self.list_write(name, target, value_node, op, what, position, in_place)
        y = self.scope.get(name)
        if type(y) is Complex and not (self.jax_reading and isinstance(target, ast.Subscript)):  # X[4:] = 0 of
            return fourier.write(self, name, target, value_node, op, what, position)  # X = np.fft.rfft(x)
        y = y if type(y) is Complex else self.target(name, named, what, position,
                                                         isinstance(target, ast.Subscript)
                                                         and (("assign" if op is None else "augmented")
                                                              if in_place is None else True))
        if self.jax_reading and isinstance(target, ast.Subscript) and name not in self.sequence_names:  # a list's
            # item is Python's to write; y = jnp.exp(x); y[0] = 0 is JAX's TypeError
            raise JacValueError(f"{what}: JAX raises \"JAX arrays are immutable and do not support in-place item "
                                "assignment. Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] "
                                f"method\"; write {name} = {name}.at[...].set(v) (or .add, .multiply)", position)
        if isinstance(target, ast.Name) and type(op) in _BINOPS and (self.jax_reading or self.b.nodes[y.id].op ==
                                                                      "const" and not isinstance(
                    self.b.nodes[y.id].value, np.ndarray)):  # s = 0; s += x: Python's number rebinds, as JAX's arrays
            rebound = ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())],
                                 value=ast.BinOp(left=ast.Name(id=name, ctx=ast.Load()), op=op, right=value_node))
            for part in (rebound, rebound.targets[0], rebound.value, rebound.value.left):
                ast.copy_location(part, target)
            return self.statement(rebound)
        shared = self.shared_numbers(name, y, target)
        if shared is None and self.locals is not None and name not in self.locals[1] and self.calling:
            raise JacValueError(f"{what}: '{name}' is not the function's own (a parameter or a name it assigns), and "
                                "the write would change it outside too, which jac follows only for a Python list or "
                                "dict the function is called on directly (not through a closure of numbers, nor "
                                f"under a transform): assign a copy first ({name} = {name}.copy()) or return the new "
                                "value", position)
        part = self.expanded_part(name, target, what, position) if shared is None else None
        if shared is None:
            self.checked_write(name, what, position, isinstance(target, ast.Name), part is not None)
        if op is not None and type(op) not in _BINOPS:
            raise JacParseError(f"{what}: the operator {_op_text(op)}= is not supported "
                                "(use += -= *= /= **= @= %= //=)",
                                position)
        value = self.expression(value_node)
        if type(y) is Tracer and self.torch_writes():  # t[0:2] += t[1:]: PyTorch's overlap check (lang/overlap.py)
            self.overlapping(y, target, value, op, in_place, what, position, value_node)
        if shared is None and self.saving and self.b.savers:  # t *= t.sin(): the value's savers kept t's buffer
            saved.overwritten(self.b, self.memory.tokens.get(name, frozenset()), name, what, position)
        if isinstance(value, Items):
            raise JacValueError(f"{what}: the value must be one array, not a list of arrays",
                                self.source.at(value_node))
        if isinstance(target, ast.Name):
            new = self.arithmetic(_BINOPS[type(op)], y, value, position)
            if type(op) in _IN_PLACE_SAVERS and isinstance(new, Tracer):  # t *= t: PyTorch's mul_ keeps t
                self.kept_by_itself(name, _IN_PLACE_SAVERS[type(op)], [target, value_node], [y, value], new, False,
                                    what, position)
            if y.id in self.b.typed or y.id in self.b.integral:  # y += v into integers keeps their dtype
                new = written_value(self.b, y, new, "whole", what, position)
            elif is_boolean(self.b, y) and not is_boolean(self.b, new):  # m += 0.5 into booleans: both refuse
                raise JacValueError(f"{what}: the result is not a boolean, which NumPy and PyTorch do not write in "
                                    f"place into the boolean array '{name}' (write {name} = {name} + ..., or "
                                    f"{name} = {name}.float() first)", position)
            if tuple(new.shape) != tuple(y.shape):
                raise JacShapeError(f"{what}: the result has shape {fmt(new.shape)}, but '{name}' has shape "
                                    f"{fmt(y.shape)}: NumPy and PyTorch write the result into '{name}' itself, and "
                                    "refuse one that does not fit", position)
        else:
            new = self.write_at(y, target, value, op, what, position)
            if type(op) in _IN_PLACE_SAVERS and isinstance(new, Tracer):  # t[...] *= t: the view's mul_ keeps t
                self.kept_by_itself(name, _IN_PLACE_SAVERS[type(op)], [target, value_node], [y, value], new, False,
                                    what, position)
        found = self.rebind(name, new) if part is None else self.rebind_part(name, part, new, position)
        for holder in shared or ():  # def f(l): l[0] = v of the caller's list of numbers: its one list
            self.scope[holder] = self.scope[name]
            self.memory.tokens[holder] = self.memory.tokens[name]
        if shared is not None:  # the caller's names rebound when the call returns (numbers_written)
            local = self.locals[1] if self.locals is not None else frozenset()
            for holder in [name, *shared]:
                if holder not in local:
                    self.sharing[-1][4][holder] = self.scope[name]
        return found

    def buffer_of(self, target, y: Tracer) -> int:
        """The node holding the whole buffer that the write into ``target`` (a name, or ``name[...]``; its value ``y``)
        changes: for PyTorch's overlap checks (lang/overlap.py), the root of the views jac follows (lang/views.py)
        where other names view it, else ``y`` itself."""
        while isinstance(target, ast.Subscript):
            target = target.value
        name = target.id if isinstance(target, ast.Name) else target
        found = self.view_family(name) if isinstance(name, str) else None
        return found.root if found is not None else y.id

    def torch_call(self, func: ast.Attribute) -> bool:
        """Is ``func`` PyTorch's: ``torch.f`` / ``torch.nn.functional.f``, or a method in a PyTorch text (functions.
        RESULT_LAYOUTS: the layout of its result)?"""
        module = self.module_path(func.value)
        if module is not None:
            return module.split(".")[0] == "torch" or module in ("F", "nn", "nn.functional")
        return (self.dialect == "torch" or self.tensor_only) and not self.jax_reading

    def torch_writes(self) -> bool:
        """Does the text's write follow PyTorch's (a PyTorch text, NumPy's ufuncs buffer an overlap)?"""
        return (self.dialect == "torch" or self.saving) and not self.jax_reading

    def overlapping(self, y: Tracer, target, value, op, in_place, what: str, position: int,
                    value_node: ast.expr | None = None) -> None:
        """PyTorch's check of a write in place whose operand views the tensor written (lang/overlap.py):
        ``t[0:2] += t[1:]``, ``t[0:2] = t[1:]``, ``t[0:2].add_(t[1:])``, ``t += t.T``."""
        call = self.in_place_value if in_place is not None else None
        name = _view_base(target)
        name = name.id if type(name) is ast.Name else None
        if type(call) is ast.Call:  # t[0:2].add_(t[1:]): the method's tensor arguments, views lowered again
            operands = [self.expression(a) for a in [*call.args, *(k.value for k in call.keywords)] if _view_like(a)
                        and not self.other_buffer(a, name)]
        else:
            operands = [value] if value_node is None or not self.other_buffer(value_node, name) else []
        if isinstance(target, ast.Name):
            written = y.id
        elif all(_basic_index(p) for p in self.index_parts(target.slice)):
            read = ast.copy_location(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), target)
            written = self.expression(read)
            written = written.id if type(written) is Tracer else -1
        elif op is None:
            written = None  # t[[0, 1]] = v: index_put_ (t[mask] = v of one element: masked_fill_, reads v once)
        else:
            return  # t[[0, 1]] += v: a copy gathered, added to, put back
        base = self.buffer_of(target, y)
        for operand in operands:
            if type(operand) is not Tracer or written == -1:
                continue
            fill = op is None and call is None and (operand.ndim == 0 or written is None
                                                    and math.prod(operand.shape) == 1 and self.one_mask(target))
            if written is None and not fill:  # index_put_: its own check, of t with the basic parts applied
                self_view, picked = self.index_put_self(target)
                overlap.check_index_put(self.b, base, self_view, picked, operand.id, what, position)
            else:
                overlap.check(self.b, base, written, operand.id, fill, what, position)

    def index_put_self(self, target: ast.Subscript) -> tuple:
        """The nodes of the tensor PyTorch's ``t[idx] = v`` hands to ``index_put_`` (``t[0, [0, 1]]``: ``t[0]``, the
        basic parts applied and each advanced one left whole, as ``applySlicing`` does) and of ``t[idx]`` itself (the
        elements written); None for one jac cannot read."""
        parts, kept = self.index_parts(target.slice), []
        for part in parts:
            found = None if _basic_index(part) else self.expression(part)
            if found is None or type(found) is Tracer and found.ndim == 0 and not is_boolean(self.b, found):
                kept.append(part)  # a slice, an integer, None, ... (or a name holding an integer)
            else:  # a list or array of positions (one axis), a mask (as many axes as it has)
                ndim = found.ndim if type(found) is Tracer and is_boolean(self.b, found) else 1
                kept.extend(ast.copy_location(ast.Slice(), part) for _ in range(max(ndim, 1)))
        index = ast.copy_location(ast.Tuple(elts=kept, ctx=ast.Load()), target.slice) if len(kept) != 1 else kept[0]
        view = ast.copy_location(ast.Subscript(value=target.value, slice=index, ctx=ast.Load()), target)
        read = ast.copy_location(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), target)
        found = []
        for expr in (view, read):  # t[mask]: read at the values only where jac may (else unknown: None)
            try:
                value = self.expression(expr)
            except JacError:
                value = None
            found.append(value.id if type(value) is Tracer else None)
        return tuple(found)

    def one_mask(self, target: ast.Subscript) -> bool:
        """``t[t > 3]``: one boolean mask as the index."""
        parts = self.index_parts(target.slice)
        if len(parts) != 1:
            return False
        found = self.expression(parts[0])
        return type(found) is Tracer and is_boolean(self.b, found)

    def shared_numbers(self, name: str, y: Tracer, target) -> list:
        """``l[i] = v`` inside a function, ``l`` a Python list of numbers (jac holds it as one 1-d array) that a
        caller's (or a closure's) name holds too, the very object (``def f(l): l[0] = v`` called as ``f(l)``):
        those names, which see the write as Python's one list, where each is one the call may change
        (:meth:`follows`), or [] for a list of the caller's the function writes by its name (``l[1] += v``); None
        otherwise (a list of the call's own, an array's write: NumPy's aliasing, checked by ``Memory.check``)."""
        if not self.calling or not isinstance(target, ast.Subscript) or type(y) is not Tracer or y.ndim != 1 \
                or name not in self.sequence_names or name in self.tuple_names:
            return None
        tokens = self.memory.tokens.get(name, frozenset())
        if not tokens or any(isinstance(t, tuple) for t in tokens):
            return None
        others = [n for n, t in self.memory.tokens.items() if n != name and t & tokens]
        local = self.locals[1] if self.locals is not None else frozenset()
        memo = {}  # one scan of the scope: each list looked into once (_holds)
        if not others and name in local or any(self.scope.get(n) is not y or n not in self.sequence_names
                                               or n in self.tuple_names or n not in self.passed_as(name)
                                               for n in others) \
                or any(isinstance(v, _HOLDERS) and _holds(v, y, memo) for v in self.scope.values()):
            return None
        closure = self.sharing[-1][3] if self.sharing else frozenset()
        if any(n not in local and (not self.follows(n) or n in closure) for n in [name, *others]):
            return None
        return others

    def passed_as(self, name: str) -> set:
        """The names of the callers that were given, call by call outwards, as the parameter ``name`` (``g(l)``
        calling ``f(m)`` with its ``m``: ``m`` and ``l``), under the names the calls keep them by (``m outside f()``):
        the one Python list a write into ``name`` changes. A name holding the same array otherwise (``t = list(l)``:
        jac's one node) is not among them."""
        found = set()
        for _, _, _, _, _, passed in reversed(self.sharing):
            given = passed.get(name)
            if given is None:
                break
            found.add(given)
            name = given
        keys = [k for level in self.sharing for k in level[2]]
        return found | {k for k in keys if k.split(" outside ")[0] in found}

    def inner_list(self, node: ast.Subscript, what: str, position: int) -> tuple:
        """The list that ``node`` (``R[i]``, ``R[i][j]``: constant integer indices into Python's nested lists)
        reads, with the name ``R`` and the names holding that very list, checked as :meth:`same_list` checks a
        change of it; a refusal naming the list where it is an array or a tuple, or jac holds ``R`` as one array."""
        indices, root = [], node
        while isinstance(root, ast.Subscript):
            indices.append(root.slice)
            root = root.value
        if not isinstance(root, ast.Name):
            raise JacParseError(f"{what}: only a name can be written into (y[...] = v, y += v)", position)
        name, shown = root.id, ast.unparse(node)
        current = self.name(name, self.source.at(root))
        if not isinstance(current, Items):
            if isinstance(current, Tracer) and name in self.sequence_names and name not in self.tuple_names:
                raise JacValueError(f"{what}: '{name}' is a Python list that jac holds as one array, as the text does "
                                    "not show that each item is a list of its own (a name, a call, list(...)); an "
                                    "item that is an array shares its memory with the name it came from, which jac "
                                    f"does not follow: make '{name}' where it is written, with a comprehension or a "
                                    f"display ({name} = [[0.0] * m for _ in range(n)], or [[1.0, 2.0], [3.0, 4.0]])",
                                    position)
            if isinstance(current, Pair):  # p = torch.sort(x); p[0][0] = 1: an item of PyTorch's (values, indices)
                raise JacValueError(_TUPLE_ITEM_WRITTEN.format(what=what, name=name, words=_tuple_words(current)),
                                    position)
            raise JacValueError(f"{what}: '{name}' is an array, not a Python list: write its element at one index "
                                f"({name}[i, j] = v), as NumPy and PyTorch index it", position)
        self.same_list(name, current, what, position)
        whole = current
        for at in reversed(indices):
            if not isinstance(current, Items):
                break
            i = self.list_index(at, f"{what}: an item of the nested list '{name}' is read at constant integer "
                                    f"indices ({name}[0][1] = v)")
            if not -len(current) <= i < len(current):
                raise JacValueError(f"{what}: list index {i} out of range for the {len(current)} items of "
                                    f"{ast.unparse(at.parent) if hasattr(at, 'parent') else repr(name)}",
                                    self.source.at(at))
            current = current[i]
        held = "tuple" if whole.display == "tuple" or whole.fields and whole.display is None \
            or name in self.tuple_names else "list"  # fields: a library's named tuple (torch.linalg.slogdet)
        if isinstance(current, Tracer) and held == "tuple":  # torch.linalg.slogdet(x)[0][...] = 1, as of a Pair above
            raise JacValueError(_TUPLE_ITEM_WRITTEN.format(what=what, name=name, words=_tuple_words(whole)), position)
        if isinstance(current, Tracer) and self.torch_writes():  # p = torch.split(x, 2); p[0][...] = 1: a tuple of
            views.check_multiple(self.b, current.id, self.multi_views, what, position)  # views, PyTorch's words (52)
            if whole.display is None:  # p = torch.tensor_split(y, 2): PyTorch's tuple (it writes into y); jac follows
                raise JacValueError(_TUPLE_ITEM_WRITTEN.format(  # a named view only
                    what=what, name=name, words=_tuple_words(whole)), position)
        if isinstance(current, Tracer):
            raise JacValueError(f"{what}: {shown} is an array held in the list '{name}', and NumPy and PyTorch write "
                                "into that array itself, which shares its memory with every other name of it; "
                                "jac's values cannot "
                                f"follow it: replace the item whole ({shown} = torch.cat([...]), np.where(...), or "
                                f"hold numbers in '{name}')", position)
        if not isinstance(current, Items) or current.display == "tuple":
            raise JacValueError(f"{what}: {shown} is a tuple, whose items Python does not assign (TypeError: "
                                "'tuple' object does not support item assignment)", position)
        direct = [n for n, v in self.scope.items() if v is current]
        if direct:
            self.same_list(direct[0], current, what, position)
        memo = {}  # one scan of the scope: each list looked into once (_holds)
        held = [n for n, v in self.scope.items() if v is not current and _holds(v, current, memo)
                and not _lists_only(v, current, memo)]
        if held:  # d = {'a': R[0]}: a dict holds the inner list, which jac does not rebuild
            raise JacValueError(f"{what} changes the list {ast.unparse(node)} in place, which '{held[0]}' holds too "
                                "(Python's lists are shared, jac's are values it rebinds by name): build the list "
                                "before putting it into a dict", position)
        return name, current, direct

    def nested_write(self, target: ast.Subscript, value_node: ast.expr, op, what: str, position: int):
        """``R[i][j] = v`` (and ``op=``) of Python's nested lists: the inner list ``R[i]`` changed as Python
        changes it, so that every list and name holding it sees the change (``row = R[i]``, ``[[0.0] * 3] * 2``'s
        other row: :meth:`swap_inside`)."""
        name, current, direct = self.inner_list(target.value, what, position)
        shown = ast.unparse(target.value)
        i = self.list_index(target.slice, f"{what}: an item of the list {shown} is written at one constant integer "
                                          f"index ({shown}[0] = v)")
        if not -len(current) <= i < len(current):
            raise JacValueError(f"{what}: list assignment index {i} out of range for the {len(current)} items of "
                                f"{shown}", self.source.at(target.slice))
        value = self.expression(value_node)
        if op is not None:
            if type(op) not in _BINOPS:
                raise JacParseError(f"{what}: the operator {_op_text(op)}= is not supported", position)
            if isinstance(current[i], Items):
                raise JacValueError(f"{what}: {shown}[{i}] is a list: '{_BINOP_TEXT[type(op)]}=' of a list "
                                    f"changes it in place; jac writes nested lists item by item ({shown}[{i}][0] = "
                                    "...)", position)
            self.item_check(current[i], direct + [name], what, position)
            value = self.arithmetic(_BINOPS[type(op)], current[i], value, position)
        items = list(current)
        items[i] = value
        new = trees.written(Items(items), "list")
        self.changed_inner(current, new, direct, [value], op is not None or copies.is_copy(value_node))
        return new

    def changed_inner(self, current: Items, new: Items, direct: list, added: list, fresh: bool) -> None:
        """The inner list ``current`` of Python's nested lists changed in place into ``new``: the names holding it
        (``direct``, :meth:`inner_list`) rebound, and every list holding it rebuilt (:meth:`swap_inside`)."""
        for holder in direct:
            self.scope[holder] = new
            self.memory.holds(holder, added, fresh=fresh)
        self.swap_inside(current, new, added, fresh)

    def extended_inner(self, target: ast.Subscript, value_node: ast.expr, op, what: str, position: int):
        """``R[i] += [v]`` of Python's nested lists: the inner list extended in place (``list.__iadd__``), as
        ``R[i].extend([v])``, seen by every name and list holding it; ``R[i] *= n`` refused, saying what to write."""
        if type(op) is not ast.Add:
            raise JacValueError(f"{what}: {ast.unparse(target)} is a list, which '{_BINOP_TEXT.get(type(op), '')}=' "
                                f"changes in place; jac extends an inner list with += [...] or extend([...])", position)
        call = ast.Call(func=ast.Attribute(value=target, attr="extend", ctx=ast.Load()), args=[value_node],
                        keywords=[])
        ast.fix_missing_locations(ast.copy_location(call, target))
        call.func.value = target
        self.nested_append(call, position)
        return self.scope.get(target.value.id) if isinstance(target.value, ast.Name) else None

    def nested_append(self, call: ast.Call, position: int) -> bool:
        """``R[i].append(v)`` / ``R[i].extend([...])`` of Python's nested lists (:meth:`nested_write`)."""
        what = f"{ast.unparse(call.func)}(...)"
        name, current, direct = self.inner_list(call.func.value, what, position)
        if call.func.attr not in ("append", "extend") or len(call.args) != 1 or call.keywords:
            raise JacValueError(f"{what}: jac changes an inner list with append(v), extend([...]) or item writes "
                                f"({ast.unparse(call.func.value)}[0] = v)", position)
        value = self.expression(call.args[0])
        if call.func.attr == "extend" and type(value) is Tracer and value.ndim == 1 \
                and self.python_kind(call.args[0], value) == "list":  # [x[1], x[2]]: Python's numbers, one array here
            value = self.rows(value, value.shape[0], position)
        if call.func.attr == "extend" and not isinstance(value, Items):
            raise JacValueError(f"{what}: extend takes a list of arrays or numbers here ([a, b])", position)
        added = list(value) if call.func.attr == "extend" else [value]
        new = trees.written(Items(list(current) + added), "list")
        self.changed_inner(current, new, direct, added, call.func.attr == "append" and copies.is_copy(call.args[0]))
        return True

    def list_write(self, name: str, target: ast.Subscript, value_node: ast.expr, op, what: str, position: int,
                   in_place: str | None = None):
        """``outs[i] = v`` (and ``outs[i] += v``) of a list of arrays: the item replaced in the one list every name
        holding it sees (:meth:`same_list`); an index that is not one constant integer is refused."""
        current = self.scope[name]
        i = self.list_index(target.slice, f"{what}: an item of the list '{name}' is written at one constant integer "
                                          "index (outs[0] = v)")
        if not -len(current) <= i < len(current):
            raise JacValueError(f"{what}: list assignment index {i} out of range for the {len(current)} items of "
                                f"'{name}'", self.source.at(target.slice))
        if op is not None and type(current[i]) is Items and current[i].display == "list":
            return self.extended_inner(target, value_node, op, what, position)
        value = self.expression(value_node)
        holders = self.same_list(name, current, what, position)
        if in_place:  # rows = list(t); rows[0].mul_(2) writes into t: PyTorch raises, NumPy changes t
            self.item_check(current[i], holders, in_place, position)
        if op is not None:
            if type(op) not in _BINOPS:
                raise JacParseError(f"{what}: the operator {_op_text(op)}= is not supported", position)
            self.item_check(current[i], holders, what, position)
            value = self.arithmetic(_BINOPS[type(op)], current[i], value, position)
        items = list(current)
        items[i] = value
        new = Items(items)
        new.display = "list"
        for holder in holders:
            self.scope[holder] = new
            self.memory.holds(holder, [value] if isinstance(value, Tracer) else [], fresh=op is not None
                              or copies.is_copy(value_node))
        self.swap_inside(current, new, [value], op is not None or copies.is_copy(value_node))
        return new

    def delete(self, target: ast.expr) -> None:
        """``del NAME`` (the name unbound, as Python does: a later read is an unknown name), ``del xs[i]`` of a list
        and ``del d['k']`` of a dict (every name holding the one list or dict sees it, :meth:`same_list`); an
        array's item cannot be deleted (NumPy and PyTorch refuse it)."""
        what = f"del {ast.unparse(target)}"
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.delete(element)
            return
        if isinstance(target, ast.Name):
            if target.id not in self.scope:
                raise JacNameError(f"{what}: name '{target.id}' is not defined", self.source.at(target))
            self.scope[target.id] = Refused(f"name '{target.id}' is not defined: '{what}' deleted it, as Python "
                                            f"does (assign it again to use the name)")
            self.memory.tokens.pop(target.id, None)
            self.sequence_names.discard(target.id)
            self.tuple_names.discard(target.id)
            return
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Subscript):  # del R[i][j] of lists
            return pylists.inner_delete(self, target)
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                and target.value.id in self.scope):
            raise JacParseError(f"{what}: jac deletes a name, a list's item or a dict's key (del xs[0], del d['k'])",
                                self.source.at(target))
        name, position = target.value.id, self.source.at(target)
        current = self.scope[name]
        if type(current) is Dict:
            if isinstance(target.slice, (ast.Slice, ast.Tuple)):
                raise JacValueError(f"{what}: a dict's keys are deleted one at a time (del d['W'])", position)
            new = current.without(trees.key_of(self.b, self.expression(target.slice), self.source.at(target.slice)),
                                  self.source.at(target.slice))
        elif isinstance(current, Items) and current.display == "list" and not isinstance(target.slice, ast.Slice):
            i = self.list_index(target.slice, f"{what}: a list's item is deleted at one constant integer index "
                                              f"(del xs[0])")
            if not -len(current) <= i < len(current):
                raise JacValueError(f"{what}: list assignment index {i} out of range for the {len(current)} items of "
                                    f"'{name}'", self.source.at(target.slice))
            new = Items(current[:i] + current[i + 1:] if i != -1 else current[:-1])
            new.display = "list"
        elif isinstance(current, Items) and current.display == "list":
            raise JacValueError(f"{what}: jac deletes one item of a list at a time (del xs[0]): write the list "
                                f"without them ({name} = {name}[:i] + {name}[j:])", position)
        else:
            raise JacValueError(f"{what}: an array's items cannot be deleted (NumPy and PyTorch refuse it): write the "
                                f"array without them ({name} = {name}[1:], np.delete({name}, i), torch.cat([...]))",
                                position)
        for holder in self.same_list(name, current, what, position):
            self.scope[holder] = new
        self.changed(current, new)
        if type(current) is Items:  # W = [R]; del R[0]: W holds the shorter list too
            self.swap_inside(current, new)

    def list_index(self, node: ast.expr, refusal: str) -> int:
        """The index ``node`` of a list's item: one constant integer, else ``refusal``."""
        index = self.expression(node)
        held = self.b.nodes[index.id] if isinstance(index, Tracer) else None
        if held is None or held.op != "const" or np.ndim(held.value) != 0 or not float(held.value).is_integer() \
                or is_boolean(self.b, index):
            raise JacValueError(refusal, self.source.at(node))
        return int(held.value)

    def item_check(self, item, holders: list, what: str, position: int) -> None:
        """``outs[0] += v`` / ``d['k'] += v``: NumPy and PyTorch add into the array the item holds, so refuse where
        that array is an input or a name other than the container's ``holders`` (:meth:`same_list`) sees it (as a
        write into a name is refused, ``Memory.check``)."""
        if not isinstance(item, Tracer):
            return
        tokens = self.memory._base(item)
        inputs = sorted(t[1] for t in tokens if isinstance(t, tuple))
        others = sorted(n for n, t in self.memory.tokens.items() if n not in holders and t & tokens)
        if inputs or others:
            seen = f"the input '{inputs[0]}'" if inputs else f"'{others[0]}'"
            item_text = what.split(" ")[0].split("].")[0] + ("]" if "]." in what.split(" ")[0] else "")
            raise JacValueError(f"{what}: the item is {seen} or shares its memory with it, and NumPy and PyTorch "
                                f"write into that array itself (PyTorch refuses it for an input that requires grad), "
                                f"which jac's values cannot follow; write the item anew ({item_text} = "
                                f"{item_text} + ...)", position)

    def dict_write(self, name: str, target, value_node: ast.expr, op, what: str, position: int,
                   in_place: str | None = None):
        """``d['W'] = v`` (and ``d['W'] += v``) of a dict: ``d`` bound to a new dict, as the text is functional."""
        if not isinstance(target, ast.Subscript) or isinstance(target.slice, (ast.Slice, ast.Tuple)):
            raise JacValueError(f"{what}: a dict is written one key at a time (d['W'] = v)", position)
        key = trees.key_of(self.b, self.expression(target.slice), self.source.at(target.slice))
        value = self.expression(value_node)
        current = self.scope[name]
        _refuse_cycle(current, value, "dict", what, position)
        holders = self.same_list(name, current, what, position)
        if in_place:
            self.item_check(current.get(key, position), holders, in_place, position)
        if op is not None:
            if type(op) not in _BINOPS:
                raise JacParseError(f"{what}: the operator {_op_text(op)}= is not supported", position)
            self.item_check(current.get(key, position), holders, what, position)
            value = self.arithmetic(_BINOPS[type(op)], current.get(key, position), value, position)
        new = current.with_item(key, value, position)
        self.changed(current, new)
        if getattr(self, "plain_keys", None):  # self.params of an instance holding it (lang/plain.py)
            plain.swapped(self, current, new)
        for holder in holders:  # e = d: Python's one dict, written
            self.scope[holder] = new
            # d['a'] = y: d holds y's buffer (.scatter.Memory); d['a'] = y.clone() a new one
            self.memory.holds(holder, _held_arrays(value), fresh=op is not None or copies.is_copy(value_node))
        return new

    def in_place(self, call: ast.Call):
        """``y.NAME_(...)`` as a statement: ``y = y.NAME(...)`` where that is what PyTorch computes in
        place (``y.copy_(v)``: ``v`` broadcast to ``y``'s shape; ``y.zero_()``: zeros)."""
        if isinstance(call.func.value, ast.Subscript):
            return self.in_place_at(call)
        name, method = call.func.value.id, call.func.attr
        position = self.source.end(call.func) - len(method)
        what = f"{name}.{method}(...)"
        y = self.target(name, call.func.value, what, position)
        argspec.number_method(self.b, y, method, position)  # t = 0.0; t.div_(2.0): Python's AttributeError
        lower = None
        if method in _AUTODIFF_NAMES:  # x.requires_grad_()
            raise JacNameError(unknown_message(f"method '.{method}()'", method), position)
        if method in ("resize_", "resize_as_", "as_strided_"):
            raise JacValueError(f"{what}: " + ("PyTorch raises \"cannot resize variables that require grad\""
                                               if self.b.nodes[y.id].requires_grad else "jac does not follow a "
                                               "resize in place (its new elements are uninitialised memory)")
                                + f"; write {name} = {name}.reshape(...)", position)
        if method not in _WRITTEN_AS_IS:  # an unknown one is "not supported" first
            try:  # h.transpose_(0, 1): PyTorch's alone, so torch.transpose(h, 0, 1), never NumPy's permutation
                lower = self.lookup("function", method[:-1], "torch", position) if method in _SHAPE_IN_PLACE \
                    else self.lookup("method", method[:-1], None, position)
            except JacNameError:
                raise JacNameError(f"the method '.{method}()' is not supported by jac (nor '.{method[:-1]}()')",
                                   position) from None
        if method in _SHAPE_IN_PLACE:  # u = t; u.unsqueeze_(0): t's shape too (one object); a view v = t[:] keeps its
            if self.torch_writes() and type(y) is Tracer and self.multi_views:  # a, = t.chunk(1); a.t_(), or
                tokens = self.memory.tokens.get(name, frozenset())  # a[0].t_() (session 57): as at a.mul_(2); a
                views.check_multiple(self.b, y.id, self.multi_views, what, position,  # view of the part sharing its
                                     lambda part: part == y.id or bool(  # memory (check_multiple's walk through
                                         tokens & self.memory.by_node.get(part, frozenset())))  # views also passes
                # torch.stack((a,)), a tensor of its own)
            aliases = self.same_object(name, y)
            arrays = frozenset(n for n, v in self.scope.items() if type(v) is Tracer and n in self.memory.tokens
                               and (n not in self.memory.aliases(name) or n in aliases)
                               and (v.id != y.id or n == name or n in aliases or n in self.memory.distinct
                                    or name in self.memory.distinct and not self.memory.second(n)))
            # t2 = F.dropout(t, training=False), g(t) returning its argument: jac's node of t, maybe PyTorch's very
            # tensor t, whose shape the write changes too: refused (a Python alias is rebound; a view call's result,
            # torch.movedim(t, 1, 1), is a tensor of its own)
            self.memory.check(name, what, position, arrays)
            if self.saving and self.b.savers:
                saved.overwritten(self.b, self.memory.tokens.get(name, frozenset()), name, what, position)
            if self.torch_writes() and type(y) is Tracer:  # t2, t3 = t.split(1); t.squeeze_(): a write for autograd's
                found = self.view_family(name)  # version counter, so the split's parts are stale, as PyTorch raises
                if found is not None and found.stale:  # at their use (torchprog37, seed 5410; session 54)
                    self.stale_views(found)
        else:
            self.checked_write(name, what, position)
        if any(k.arg is None for k in call.keywords):
            raise JacParseError("'**' unpacking is not supported", position)
        args = [self.expression(a) for a in call.args]
        kwargs = {k.arg: self.expression(k.value) for k in call.keywords}
        if type(y) is Tracer and self.torch_writes() and method not in _SHAPE_IN_PLACE:  # t.add_(t.T): PyTorch's
            written = [*call.args, *(k.value for k in call.keywords)]  # overlap check (lang/overlap.py)
            for operand, spelled in zip([*args, *kwargs.values()], written):
                if type(operand) is not Tracer or self.other_buffer(spelled, name):
                    continue
                if method in _NO_OVERLAP:  # t.index_put_(idx, t): PyTorch's assert_no_overlap, the same elements too
                    overlap.check_index_put(self.b, self.buffer_of(name, y), y.id, None, operand.id, what, position)
                else:
                    overlap.check(self.b, self.buffer_of(name, y), y.id, operand.id, False, what, position)
        if self.saving and self.b.savers:  # t.mul_(t.sin()): the argument's savers kept t's buffer, now written
            saved.overwritten(self.b, self.memory.tokens.get(name, frozenset()), name, what, position)
        if method == "zero_" and not args and not kwargs:
            new = self.b.const(np.zeros(tuple(y.shape)), position)
        elif method == "fill_" and len(args) == 1 and not kwargs:  # PyTorch's h.fill_(v): v a number or a 0-d tensor
            new = self.filled(y, args[0], what, position)
        elif method == "copy_" and len(args) == 1 and not kwargs and isinstance(args[0], Tracer):
            new = self.b.apply("broadcast_to", args[0], shape=tuple(y.shape), position=position) \
                if tuple(args[0].shape) != tuple(y.shape) else args[0]
        elif method == "fill_diagonal_" and len(args) == 1 and set(kwargs) <= {"wrap"}:  # PyTorch's, as NumPy's
            fill = static(self.b, args[0], f"{what}: the fill value (PyTorch takes a number, not a tensor)", position)
            if not isinstance(fill, (int, float)):
                raise JacValueError(f"{what}: the fill value must be a number, as PyTorch's", position)
            new = fill_diagonal(self.b, y, self.b.const(float(fill), position), kwargs.get("wrap", False), what,
                                position)
        elif lower is None:
            takes = {"zero_": "no arguments", "copy_": "one array", "fill_": "one value"}.get(
                method, "the fill value (and wrap=)")
            raise JacValueError(f"{what}: it takes {takes}", position)
        else:
            argspec.check(self, "method", method[:-1], None, [y] + args, kwargs, position, in_place=True)
            new = lower(self.b, [y] + args, kwargs, position)
            if self.saving and type(new) is Tracer and not args and not kwargs and self.b.nodes[new.id].requires_grad \
                    and saved.rule(method[:-1], self.b.nodes[new.id].op) in saved.RESULT:  # h.exp_(): h's buffer kept
                saved.register(self.b, new.id, self.memory.tokens.get(name, frozenset()), frozenset())
        if isinstance(new, Tracer) and method not in _WRITTEN_AS_IS and method not in _SHAPE_IN_PLACE:
            self.kept_by_itself(name, method[:-1], [call.func.value] + list(call.args) + [k.value for k in call.keywords],
                                [y] + args + list(kwargs.values()), new, bool(kwargs), what, position)
            new = self.kept_dtype(name, y, new, args, what, position)
        if method in ("zero_", "fill_", "copy_") and self.saving and isinstance(new, Tracer) \
                and self.b.nodes[y.id].requires_grad:  # h.fill_(1.5): PyTorch's backward still runs h's old history
            new = self.b.apply("where", self.b.const(0.0, position), y, new, position=position)  # (zero through it)
        if isinstance(new, Tracer) and method in _SHAPE_IN_PLACE:  # h.unsqueeze_(0): h's tensor (and its aliases'),
            return self.rebind(name, new, follow=False)  # its shape changed (a write for autograd's version counter:
            # checked above); its views' elements did not
        if not isinstance(new, Tracer) or tuple(new.shape) != tuple(y.shape):
            got = f"shape {fmt(new.shape)}" if isinstance(new, Tracer) else "no single array"
            raise JacShapeError(f"{what}: the result has {got}, but '{name}' has shape {fmt(y.shape)}; jac writes "
                                "an in-place result only where it fits the array (rebinding it)", position)
        return self.rebind(name, new)

    def view_in_place(self, call: ast.Call):
        """``t.unsqueeze(0).exp_()``, ``t[0].unsqueeze(0).mul_(2)``, ``t.view(-1)[0:1].add_(1)``: PyTorch's in-place
        method on a view of the name ``t`` (views of one tensor: basic indices, ``.T``, view methods) writes into ``t``:
        the method computed on the view as :meth:`in_place_temporary` computes it, and each of its elements put back at
        the element of ``t`` it views (lang/overlap.py replays the strides). Checked as a write into ``t``."""
        owner, method = call.func.value, call.func.attr
        position = self.source.end(call.func) - len(method)
        what = f"{ast.unparse(owner)}.{method}(...)"
        name = _view_base(owner).id
        y = self.target(name, _view_base(owner), what, position, item=True)
        view = self.expression(owner)
        if method in _SHAPE_IN_PLACE:  # t.unsqueeze(0).unsqueeze_(0): the temporary view's shape, not t's
            if self.saving and self.b.savers:  # (PyTorch bumps the version t's views share: session 53)
                saved.overwritten(self.b, self.memory.tokens.get(name, frozenset()), name, what, position)
            return None
        part = self.expanded_part(name, owner, what, position)  # e[0].mul_(2) of e = t[0].expand(3, 3)
        self.checked_write(name, what, position, False, part is not None)  # a part of it
        ids = overlap.identities(self.b, y.id) if type(view) is Tracer else None
        if ids is None and type(view) is Tracer:  # t.T.exp_() of a sort's 1-d values: y's elements in order
            ids = views.line_ids(y.shape)
        path = views.chain(self.b, view.id, y.id) if ids is not None else None  # (a constant's folded views too)
        viewed = overlap.viewed(ids, path) if path is not None else None
        if viewed is None:
            raise JacValueError(f"{what}: jac does not know which elements of '{name}' this view reaches (a reshape "
                                f"PyTorch may copy, a layout jac does not replay): write {name}[...] = ... or name "
                                "the view's value", position)
        if len(np.unique(viewed)) != viewed.size:  # t.expand(2, 3).add_(1)
            raise JacValueError(f"{what}: PyTorch raises \"unsupported operation: more than one element of the "
                                "written-to tensor refers to a single memory location. Please clone() the tensor "
                                "before performing the operation.\"", position)
        kids = [view] + [self.expression(a) for a in [*call.args, *(k.value for k in call.keywords)]]
        for operand, spelled in zip(kids[1:], [*call.args, *(k.value for k in call.keywords)]):  # t.unsqueeze(0)
            if type(operand) is Tracer and not self.other_buffer(spelled, name):  # .add_(t[1:]): the overlap check
                overlap.check(self.b, self.buffer_of(name, y), view.id, operand.id, False, what, position)
        new = self.in_place_temporary(call, kids, fresh=True)
        mine = self.memory.tokens.get(name, frozenset())
        if self.b.savers and new.id in self.b.savers:  # exp_ keeps its result: the view, a part of t's buffer
            results, arguments, spelling = self.b.savers[new.id]
            self.b.savers[new.id] = (results | mine if results else results, arguments, spelling)
        if method not in _WRITTEN_AS_IS:  # t.unsqueeze(0).mul_(t): mul_ keeps t, which this write changes
            self.kept_by_itself(name, method[:-1], [owner, *call.args, *(k.value for k in call.keywords)], kids, new,
                                bool(call.keywords), what, position)
        where = np.empty(int(ids.max()) + 1, np.intp)
        where[ids.reshape(-1)] = np.arange(ids.size)
        if part is not None:
            return self.rebind_part(name, part, y, position, new)
        put = put_values(self.b, y, where[viewed], new, False, what, position)
        if _detached(owner):  # t.detach().mul_(2): t's values change, its derivative (autograd's history) does not
            put = self.b.apply("straight_through", self.b.apply("detach", put, position=position), y, position=position)
        return self.rebind(name, put)

    def filled(self, y: Tracer, value, what: str, position: int) -> Tracer:
        """``y.fill_(value)``: ``y``'s shape, every element ``value``, as PyTorch fills it (a number, or a 0-d tensor,
        which the result is differentiable by)."""
        if isinstance(value, Tracer):
            if value.ndim:
                raise JacValueError(f"{what}: PyTorch raises \"fill_ only supports 0-dimension value tensor but got "
                                    f"tensor with {value.ndim} dimensions\"", position)
            return self.b.apply("broadcast_to", value, shape=tuple(y.shape), position=position) if y.ndim else value
        number = static(self.b, value, f"{what}: the fill value", position)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise JacValueError(f"{what}: the fill value must be a number or a 0-d tensor, as PyTorch's", position)
        return self.b.const(np.full(tuple(y.shape), float(number)), position)

    def in_place_temporary(self, node: ast.Call, kids: list, fresh: bool = False):
        """``(v / c).sqrt().add_(eps)``: PyTorch's in-place method on a temporary, the result of a call or an operator
        (``kids``: it and the arguments, computed), written as :meth:`in_place` writes a name: refused where the
        temporary is a view of a name (the write would change it) or where an op saved it for backward (PyTorch's
        backward raises)."""
        spelled = f"({ast.unparse(node.func.value)})"  # a name the text cannot write
        values = {spelled: kids[0]}
        args = []
        for k, written in enumerate([*node.args, *(w.value for w in node.keywords)]):
            values[f"argument {k} of {spelled}.{node.func.attr}"] = kids[1 + k]
            args.append(ast.copy_location(ast.Name(id=f"argument {k} of {spelled}.{node.func.attr}", ctx=ast.Load()),
                                          written))
        func = ast.copy_location(ast.Attribute(value=ast.copy_location(ast.Name(id=spelled, ctx=ast.Load()),
                                                                       node.func.value),
                                               attr=node.func.attr, ctx=ast.Load()), node.func)
        call = ast.copy_location(ast.Call(func=func, args=args[:len(node.args)], keywords=[
            ast.keyword(arg=w.arg, value=a) for w, a in zip(node.keywords, args[len(node.args):])]), node)
        # x.clone().add_(1), torch.flip(y).add_(1), y[[0, 1]].add_(1): a new buffer, though the graph may return y's
        # node (fresh: view_in_place puts the result back into the viewed name itself)
        copy = fresh or copies.is_copy(node.func.value) or type(kids[0]) is Tracer and self.new_buffer(node.func.value,
                                                                                                     kids[0])
        written = dict(zip(list(values)[1:], [*node.args, *(w.value for w in node.keywords)]))
        for name, value in values.items():
            self.scope[name] = value
            if isinstance(value, (Tracer, Items)):
                self.memory.bind(name, value, copy and name == spelled, viewing=self.viewed_name(
                    written[name], value) if name in written and type(value) is Tracer else None)
        try:
            return self.in_place(call)
        finally:
            for name in values:
                self.scope.pop(name, None)
                self.memory.tokens.pop(name, None)

    def kept_dtype(self, name: str, y: Tracer, new: Tracer, args: list, what: str, position: int) -> Tracer:
        """``y.NAME_(...)``'s result ``new`` written into ``y``'s dtype, as PyTorch's in-place methods keep it: an
        integer or bool ``y`` takes an integer result (a bool one a bool), and PyTorch raises for any other ("result
        type Float can't be cast to the desired output type Long"); a float ``y`` takes any."""
        kind = dtypes.kind_of(self.b, y.id)
        if kind is None:
            return new
        got = dtypes.kind_of(self.b, new.id)
        if got is not None and (got[0].kind == "b" or kind[0].kind != "b"):
            return written_value(self.b, y, new, "whole", what, position) if kind[0].kind != "b" else new
        result = "Long" if got is not None else "Double" if self.b.dtype is np.float64 and any(
            type(a) is Tracer and a.id not in self.b.typed and self.b.nodes[a.id].op != "const" for a in args) \
            else "Float"
        target = _TORCH_DTYPE_NAMES.get(kind[0].name, kind[0].name)
        raise JacValueError(f"{what}: PyTorch raises \"result type {result} can't be cast to the desired output type "
                            f"{target}\": an in-place method keeps '{name}''s dtype ({kind[0].name}); write "
                            f"{name} = {name}.double() first, or {name} = {name}{what[len(name):].replace('_(', '(', 1)}",
                            position)

    def item_name(self, target: ast.Subscript) -> str | None:
        """The name holding the very tensor ``target`` (``ys[0]`` of a list or tuple ``ys``, a constant index) is,
        where a write into it is followed through lang/views.py's family (a PyTorch text, outside ``no_grad``): the
        write is then that name's, and the family rebuilds the list (``Family.held``). None otherwise."""
        if type(target.value) is not ast.Name or not isinstance(self.scope.get(target.value.id), Items) \
                or not self.torch_writes() or self.grad_off or self.nograd_running is not None:
            return None
        index = target.slice
        if type(index) is ast.UnaryOp and type(index.op) is ast.USub and type(index.operand) is ast.Constant:
            k = -index.operand.value if type(index.operand.value) is int else None
        else:
            k = index.value if type(index) is ast.Constant and type(index.value) is int else None
        held = self.scope[target.value.id]
        if k is None or not -len(held) <= k < len(held) or type(held[k]) is not Tracer:
            return None
        named = next((n for n, v in self.scope.items() if v is held[k] and n in self.memory.tokens
                      and n.isidentifier()), None)
        found = self.view_family(named) if named is not None else None  # (else the item's own refusal, as before)
        return named if found is not None and target.value.id in (h[0] for h in found.held) else None

    def in_place_at(self, call: ast.Call):
        """``y[1:3].mul_(2)``: PyTorch's in-place method on a view of ``y`` (basic indexing: slices, integers,
        None, ...) writes into ``y``: ``y[1:3] = y[1:3].mul(2)``. On an index that picks elements (a list, an
        array, a mask) PyTorch changes a copy and ``y`` stays as it was: refused, saying so."""
        target, method = call.func.value, call.func.attr
        position = self.source.end(call.func) - len(method)
        named = self.item_name(target)
        if named is not None:  # ys = [t]; ys[0].mul_(2): the very tensor t holds, written as t.mul_(2) (session 55)
            func = ast.copy_location(ast.Attribute(value=ast.copy_location(ast.Name(id=named, ctx=ast.Load()), target),
                                                   attr=method, ctx=ast.Load()), call.func)
            return self.in_place(ast.copy_location(ast.Call(func=func, args=call.args, keywords=call.keywords), call))
        if type(target.value) is ast.Name and type(self.scope.get(target.value.id)) is Dict:
            pass  # d['a'].mul_(2): the tensor the dict holds, written in place (dict_write, checked as d['a'] *= 2)
        elif not all(_basic_index(p) for p in self.index_parts(target.slice)):
            raise JacValueError(f"{ast.unparse(target)}.{method}(...): an index that picks elements (a list, an "
                                "array, a mask) makes a copy, which PyTorch changes in place while "
                                f"'{target.value.id}' stays as it was; write {ast.unparse(target)} = ... to change it",
                                position)
        held = type(target.value) is ast.Name and isinstance(self.scope.get(target.value.id), (Dict, Items))
        if held and method in ("zero_", "fill_", "copy_"):  # l[0].zero_(): the item's tensor written whole
            return self.item_in_place(call)
        if method == "zero_" and not call.args and not call.keywords:
            value = ast.copy_location(ast.Constant(value=0.0), call)
        elif method == "copy_" and len(call.args) == 1 and not call.keywords:
            value = call.args[0]
        elif method == "fill_" and len(call.args) == 1 and not call.keywords:  # y[0].fill_(v): PyTorch's fill
            fill = self.expression(call.args[0])
            if isinstance(fill, Tracer) and fill.ndim:
                raise JacValueError(f"{ast.unparse(target)}.fill_(...): PyTorch raises \"fill_ only supports "
                                    f"0-dimension value tensor but got tensor with {fill.ndim} dimensions\"", position)
            value = call.args[0]
        else:
            try:
                self.lookup("method", method[:-1], None, position)
            except JacNameError:
                raise JacNameError(f"the method '.{method}()' is not supported by jac (nor '.{method[:-1]}()')",
                                   position) from None
            func = ast.copy_location(ast.Attribute(value=target, attr=method[:-1], ctx=ast.Load()), call.func)
            value = ast.copy_location(ast.Call(func=func, args=call.args, keywords=call.keywords), call)
        outer, self.in_place_value = self.in_place_value, value
        outer_found, self.in_place_found = self.in_place_found, None
        try:
            written = self.write(target, value, None, in_place=f"{ast.unparse(target)}.{method}(...)")
            self.kept_result_in(target, self.in_place_found)
            return written
        finally:
            self.in_place_value, self.in_place_found = outer, outer_found

    def kept_result_in(self, target: ast.expr, found: int | None) -> None:
        """``y[1:].exp_()``: exp keeps its result for its derivative, and that result is now y's elements (PyTorch's
        in-place op on a view writes into y's buffer): a later write into y (``y.mul_(2)``, ``y += 1``, another view of
        it) changes the saved tensor, and PyTorch's backward raises. The saver registered for the out-of-place call
        (:meth:`saved_by`) kept a buffer of its own; it keeps y's too (session 50, torchprog37's version-counter
        programs)."""
        savers = self.b.savers
        if not self.saving or found is None or not savers or found not in savers or type(target.value) is not ast.Name:
            return
        results, arguments, spelling = savers[found]
        if results:
            savers[found] = (results | self.memory.tokens.get(target.value.id, frozenset()), arguments, spelling)

    def item_in_place(self, call: ast.Call):
        """``l[0].zero_()`` / ``.fill_(v)`` / ``.copy_(v)`` of a tensor a list or dict holds: the item written whole as
        :meth:`in_place` writes a name (zeros of its shape, ``v`` broadcast to it), then put back as ``l[0] = ...``,
        which replaces the item (``l[0] = 0.0`` would make it a number: PyTorch keeps the tensor's shape)."""
        target, method = call.func.value, call.func.attr
        spelled = f"({ast.unparse(target)})"  # a name the text cannot write
        item = self.expression(target)
        if type(item) is not Tracer:
            raise JacValueError(f"{ast.unparse(target)}.{method}(...): the item is not a tensor", self.source.at(call))
        result = f"{spelled}.{method}(...)"
        self.scope[spelled] = item  # a buffer of its own (no node's buffers changed): the write below, into the
        self.memory.tokens[spelled] = frozenset((object(),))  # container's item, is checked as l[0] *= v is
        try:
            func = ast.copy_location(ast.Attribute(value=ast.copy_location(ast.Name(id=spelled, ctx=ast.Load()), target),
                                                   attr=method, ctx=ast.Load()), call.func)
            new = self.in_place(ast.copy_location(ast.Call(func=func, args=call.args, keywords=call.keywords), call))
            self.scope.pop(spelled, None)
            self.memory.tokens.pop(spelled, None)
            self.scope[result] = new
            self.memory.tokens[result] = frozenset((object(),))
            value = ast.copy_location(ast.Name(id=result, ctx=ast.Load()), call)
            return self.write(target, value, None, in_place=f"{ast.unparse(target)}.{method}(...)")
        finally:
            for name in (spelled, result):
                self.scope.pop(name, None)
                self.memory.tokens.pop(name, None)

    def put_statement(self, call: ast.Call):
        """``np.put_along_axis(y, indices, values, axis)``: NumPy writes into ``y`` (and returns None)."""
        if call.func.attr == "fill_diagonal":
            return self.fill_statement(call)
        if call.func.attr == "at":
            return self.ufunc_at_statement(call)
        if call.func.attr in pasted.WRITES:  # np.putmask(y, m, v), np.place, np.copyto (lang/pasted.py)
            name, what, position, args, kwargs = self.write_call(call, call.func.attr)
            return self.rebind(name, pasted.written(self.b, call.func.attr, args, kwargs, what, position))
        name, what, position, args, kwargs = self.write_call(call, "put_along_axis")
        a = arguments("put_along_axis", args, kwargs, {"x": REQUIRED, "indices": REQUIRED, "values": REQUIRED,
                                                       "axis": REQUIRED}, position)
        new = put_along_axis(self.b, a["x"], a["indices"], a["values"], a["axis"], what, position)
        return self.rebind(name, new)

    def ufunc_at_statement(self, call: ast.Call):
        """``np.add.at(y, indices, values)`` / ``np.subtract.at``: NumPy adds (subtracts) each value into ``y`` at
        its index, in place, a repeated index accumulating (unbuffered), where ``y[indices] += values`` would
        keep one; ``np.multiply.at`` / ``maximum.at`` / ``minimum.at`` apply each value in turn (session 40)."""
        ufunc, name = call.func.value.attr, call.args[0].id
        what, position = f"np.{ufunc}.at({name}, ...)", self.source.end(call.func) - len(f"{ufunc}.at")
        if len(call.args) != 3 or call.keywords:
            raise JacParseError(f"np.{ufunc}.at takes three arguments here: (a, indices, b)", position)
        y = self.target(name, call.args[0], what, position)
        self.checked_write(name, what, position)
        index = call.args[1]
        parts = [self.expression(e) for e in index.elts] if isinstance(index, ast.Tuple) else \
            self.index_tuple(index, [self.expression(index)])  # np.add.at(y, idx, v) with idx = (rows, cols)
        value = self.expression(call.args[2])
        if ufunc == "subtract":
            value = self.b.apply("neg", value, position=position) if isinstance(value, Tracer) else -value
        targets, _ = self.written(y, parts, what, position)
        mode = {"multiply": "mul", "maximum": "max", "minimum": "min"}.get(ufunc, "add")
        return self.rebind(name, put_values(self.b, y, targets, value, mode, what, position))

    def fill_statement(self, call: ast.Call):
        """``np.fill_diagonal(y, val, wrap=False)``: NumPy writes into ``y``'s diagonal (and returns None)."""
        name, what, position, args, kwargs = self.write_call(call, "fill_diagonal")
        a = arguments("fill_diagonal", args, kwargs, {"x": REQUIRED, "val": REQUIRED, "wrap": False}, position)
        return self.rebind(name, fill_diagonal(self.b, a["x"], a["val"], a["wrap"], what, position))

    def write_call(self, call: ast.Call, fname: str) -> tuple:
        """``(name, what, position, args, kwargs)`` of ``np.FNAME(y, ...)``, a NumPy call that writes into the
        name ``y``: ``y`` checked as a target that may be written (``args[0]`` its value), the rest lowered."""
        position = self.source.end(call.func) - len(fname)
        name = call.args[0].id
        what = f"np.{fname}({name}, ...)"
        y = self.target(name, call.args[0], what, position)
        self.checked_write(name, what, position)
        if any(k.arg is None for k in call.keywords):
            raise JacParseError("'**' unpacking is not supported", position)
        rest = [self.expression(a) for a in call.args[1:]]
        kwargs = {k.arg: self.expression(k.value) for k in call.keywords}
        return name, what, position, [y] + rest, kwargs

    def write_at(self, y: Tracer, target: ast.Subscript, value, op, what: str, position: int) -> Tracer:
        """``y[idx] = value`` (``op``: ``y[idx] op= value``): the positions ``y[idx]`` reads,
        written with ``value`` broadcast to them."""
        parts = self.index_tuple(target.slice, [self.expression(p) for p in self.index_parts(target.slice)])
        if any(computed_index(self.b, p, position) for p in parts):  # y[y.argsort()[:2]] = v
            return self.write_computed(y, target, parts, value, op, what, position)
        mask = parts[0] if len(parts) == 1 and type(parts[0]) is Tracer and is_boolean(self.b, parts[0]) else None
        if mask is not None and op is None and tuple(mask.shape) == tuple(y.shape) \
                and self.b.nodes[mask.id].op != "const" and (self.values is None or self.b.shapes_only) \
                and (isinstance(value, (int, float)) and not isinstance(value, bool)
                     or type(value) is Tracer and value.ndim == 0 and not is_boolean(self.b, value)) \
                and not is_boolean(self.b, y) and y.id not in self.b.typed and y.id not in self.b.integral:
            # y[mask] = 0 of a mask of y's shape computed from inputs without values (a backward's sub-graph, jac
            # diff): where(mask, 0, y), the same elements written whatever the mask holds
            return self.b.apply("where", mask, value, y, position=position)
        targets, read = self.written(y, parts, what, position)
        if op is not None:
            operand = value
            value = self.arithmetic(_BINOPS[type(op)], read(), value, position)
            if tuple(value.shape) != tuple(targets.shape):
                raise JacShapeError(f"{what}: the result has shape {fmt(value.shape)}, but the elements written "
                                    f"have shape {fmt(targets.shape)}", position)
            targets, value = self.written_once(targets, operand, value, what, position)
        if type(value) is bool and not is_boolean(self.b, y):  # z[1] = True writes 1 into numbers
            value = self.b.const(float(value), position)
        if y.id in self.b.typed or y.id in self.b.integral:
            value = written_value(self.b, y, value, op is not None, what, position)
        if op is None and is_boolean(self.b, y) and not (isinstance(value, Tracer) and is_boolean(self.b, value)):
            # a boolean array holds booleans: a number written into it is its truth (x != 0), as PyTorch
            # and NumPy cast it (m[0] = 0.5 writes True, never 0.5)
            value = self.b.const(float(value), position) if isinstance(value, (bool, int, float)) else value
            written = put_values(self.b, y, targets, truth(self.b, value, position), False, what, position)
            return boolean(self.b, written)
        return put_values(self.b, y, targets, value, False, what, position)

    def write_computed(self, y: Tracer, target: ast.Subscript, parts: list, value, op, what: str, position: int):
        """``y[idx] = value`` (``op``: ``y[idx] op= value``) for a 1-d ``y`` named alone (a view of another array
        too: :meth:`rebind` writes it through) and one 1-d index array ``idx`` computed from the inputs whose values
        are distinct for any inputs: lang/scatter.py's :func:`computed_write`."""
        if len(parts) != 1 or not isinstance(target.value, ast.Name):
            raise JacValueError(f"{what}: jac writes with an index array computed from the inputs only into a 1-d "
                                "array named alone, by one 1-d index array (y[y.argsort()[:2]] = v)", position)
        if op is not None and y.ndim == 1 and parts[0].ndim == 1 and distinct_bound(self.b, parts[0]) is not None:
            value = self.arithmetic(_BINOPS[type(op)], self.b.apply("take_along", y, parts[0], axis=0,
                                                                    position=position), value, position)
        return computed_write(self.b, y, parts[0], value, what, position)

    def index_tuple(self, index: ast.expr, parts: list) -> list:
        """The indices ``parts`` of ``x[index]`` as Python passes a tuple: a name holding one (``idx = (0, 1)``, or
        ``idx = (rows, cols)`` of index arrays, which the parser stacks into one array) gives its elements, so
        ``x[idx]`` is ``x[idx[0], idx[1]]``, never one index array along the first axis."""
        if len(parts) == 1 and id(index) in self.tuples and type(parts[0]) is Tracer and parts[0].ndim >= 1:
            return self.unpacked([_Unpacked(parts[0], self.source.at(index))])
        if len(parts) == 1 and type(parts[0]) is Tracer and parts[0].ndim >= 2 and not is_boolean(self.b, parts[0]) \
                and (type(index) is ast.List or type(index) is ast.Name and id(index) in self.sequences):
            # x[[i, j]] of index arrays: PyTorch reads a list of them as a tuple, NumPy as one array, JAX refuses
            if self.dialect == "torch" and not self.jax_reading:
                return self.unpacked([_Unpacked(parts[0], self.source.at(index))])
            if self.dialect != "numpy" or self.jax_reading:
                raise JacValueError("a list of index arrays as the only index reads two ways: PyTorch takes it as "
                                    "one index per axis (x[i, j]), NumPy as one index array along the first axis, "
                                    "and JAX refuses it; write x[i, j] or x[tuple(idx)] for the first, "
                                    "x[np.array(idx)] for the second", self.source.at(index))
        return parts

    def written_once(self, targets: np.ndarray, operand, value: Tracer, what: str, position: int) -> tuple:
        """``y[idx] op= v`` with repeated positions: NumPy's buffered ``y[idx] = y[idx] op v`` writes the same
        value at each repeat (``y[[0, 0]] += 1`` adds 1 once) when ``v`` does not vary along the repeats, so a
        NumPy text's write keeps each position's first value: exact, with the function's own derivative.
        PyTorch computes the same value, but its gradient counts the element once per repeat (x.grad twice
        the cotangent there): refused in a text that is not NumPy's. Otherwise unchanged (``write`` refuses
        repeats whose values differ: NumPy leaves the winner unspecified)."""
        flat = targets.reshape(-1)
        if np.unique(flat).size == flat.size:
            return targets, value
        keep = same_values(targets, np.shape(operand) if not isinstance(operand, Tracer) else operand.shape)
        if keep is None:
            return targets, value
        if self.dialect != "numpy" or self.jax_reading:
            raise JacValueError(f"{what} writes an element more than once, the same value each time: NumPy and "
                                "PyTorch compute it once (y[[0, 0]] += 1 adds 1, not 2), but PyTorch's gradient "
                                "counts the element once per repeat; jac reads it in a NumPy text (np. calls) and "
                                "refuses it here: write y[unique positions] op= v, or index_add / np.add.at to "
                                "add every repeat", position)
        flat_value = self.b.apply("reshape", value, shape=(flat.size,), position=position) if value.ndim != 1 else value
        return flat[keep], self.b.apply("getitem", flat_value, index=(keep,), position=position)

    def at_out_of_bounds(self, y: Tracer, parts: list, position: int):
        """``x.at[idx]`` of an index out of bounds (``written`` refused it): JAX's reading by mode= (.scatter),
        for integers and slices; None for anything else (refused as before)."""
        if any(is_boolean(self.b, p) for p in parts):
            return None
        index = expand_ellipsis(tuple(self.index_item(p, position) for p in parts), y.ndim, position)
        try:
            targets, inside = out_of_bounds(tuple(y.shape), index)
        except (IndexError, TypeError, ValueError):
            return None
        gathered = any(np.ndim(item) > 0 for item in index if item is not None and not isinstance(item, slice))
        return AtOutOfBounds(self.b, y, targets, inside, position, gathered)

    def written(self, y: Tracer, parts: list, what: str, position: int):
        """The flat positions ``y[parts]`` reads, shaped as that read, and a function giving the
        read itself (made only when asked: a plain write reads nothing)."""
        shape = tuple(y.shape)
        if len(parts) == 1 and isinstance(parts[0], Items):  # y[np.diag_indices(3)] = v: y[idx[0], idx[1]] = v
            parts = list(parts[0])
        masks = [p for p in parts if is_boolean(self.b, p)]
        if masks:  # x.at[None, mask]: the mask need not be the first part (mask_index reads it where it stands)
            if self.b.nodes[masks[0].id].op != "const" and (self.values is None or self.b.shapes_only):
                raise NeedsValues(f"{what}: which elements a mask computed from the inputs selects depends on their "
                                  "values, so it is known only for given values (jac eval, vjp, jvp, hessian, check "
                                  "compute it; jac shape and jac diff cannot); where(mask, v, y) writes the same "
                                  "without them", position)
            index = self.mask_index(y, parts, position)  # a constant y's read folds: no index to read back
        else:
            index = expand_ellipsis(tuple(self.index_item(p, position) for p in parts), y.ndim, position)
        if len(parts) > 1 or not masks:
            if self.selects_first(y, index, position):  # PyTorch's y[0, :, [1, 2]] = v: y[0][:, [1, 2]]
                first, rest = _integers_first(index)
                try:
                    targets = advanced_targets(shape, first)[rest]
                except IndexError as err:
                    raise JacShapeError(f"{what}: {err}", position) from None
                return targets, lambda: self.b.apply("getitem", self.b.apply("getitem", y, index=first,
                                                                             position=position),
                                                     index=rest, position=position)
        try:
            targets = advanced_targets(shape, index)
        except IndexError as err:
            raise JacShapeError(f"{what}: {err}", position) from None
        return targets, lambda: self.b.apply("getitem", y, index=index, position=position)

    def rows(self, value: Tracer, count: int, position: int) -> Items:
        """The rows of ``value`` (its elements along the first axis), ``count`` of them, as
        ``a, b = x`` and ``B, T, C = x.shape`` unpack in Python, PyTorch and NumPy."""
        if value.ndim == 0:
            raise JacValueError("a 0-d array cannot be unpacked into names (PyTorch: iteration over a 0-d "
                                "tensor)", position)
        rows = value.shape[0]
        if not isinstance(rows, int):
            raise JacShapeError(f"unpacking needs a concrete first size, but {fmt(value.shape)} is symbolic",
                                position)
        if rows != count:
            raise JacValueError(f"{count} names for an array of {rows} rows (shape {fmt(value.shape)}): "
                                f"unpacking takes its rows, one per name", position)
        return Items([self.b.apply("getitem", value, index=(i,), position=position) for i in range(rows)])

    def unpack_items(self, stmt: ast.Assign):
        """``Q, R = torch.linalg.qr(A)``: names bound to the parts of a tuple result."""
        targets = stmt.targets[0].elts
        if any(isinstance(t, ast.Subscript) for t in targets) \
                and all(isinstance(t, (ast.Name, ast.Subscript)) for t in targets):
            return self.assign_each(stmt, targets)
        if not all(isinstance(t, ast.Name) or _nested_names(t) or _starred_name(t) for t in targets):
            raise JacParseError("only names can be assigned, as in 'a, b = EXPR'", self.source.at(stmt.targets[0]))
        shown = stmt.value.elts if isinstance(stmt.value, (ast.Tuple, ast.List)) else ()
        if len(shown) == len(targets) and all(type(t) is ast.Name for t in targets) \
                and not any(isinstance(e, ast.Starred) for e in shown):
            return self.bind_shown(targets, shown)
        return self.bind_parts(stmt, targets, self.expression(stmt.value))

    def assign_each(self, stmt: ast.Assign, targets: list):
        """``R[0][0], R[0][1] = a, b`` (and ``l[i], l[j] = l[j], l[i]``): every value on the right made first, then
        each target assigned in turn, left to right, as Python assigns a tuple of targets."""
        shown = stmt.value.elts if isinstance(stmt.value, (ast.Tuple, ast.List)) else None
        position = self.source.at(stmt.targets[0])
        if shown is None or any(isinstance(e, ast.Starred) for e in shown):
            raise JacParseError("a tuple of targets with an item among them is assigned from a tuple written out "
                                "(R[0][0], R[0][1] = a, b): write one assignment per item", position)
        if len(shown) != len(targets):
            raise JacValueError(f"{len(targets)} targets and {len(shown)} values: Python's ValueError (too "
                                f"{'many' if len(shown) > len(targets) else 'few'} values to unpack)", position)
        temps = []
        for k, node in enumerate(shown):
            value = pylists.build(self, node) if pylists.buildable(node) and pylists.nested(node) \
                else self.expression(node)
            temp = f"item {k} of the right side"  # a name the text cannot write
            self.scope[temp] = value
            if isinstance(value, (Tracer, Items)):
                self.memory.bind(temp, value, copies.is_copy(node) or type(value) is Tracer and copies.fresh(self, node, value))
            kind = self.python_kind(node, value)
            (self.sequence_names.add if kind in ("tuple", "list", "range") else self.sequence_names.discard)(temp)
            (self.tuple_names.add if kind == "tuple" else self.tuple_names.discard)(temp)
            temps.append(temp)
        try:
            for target, temp in zip(targets, temps):
                read = ast.copy_location(ast.Name(id=temp, ctx=ast.Load()), target)
                self.statement(ast.copy_location(ast.Assign(targets=[target], value=read), stmt))
        finally:
            for temp in temps:
                self.scope.pop(temp, None)
                self.memory.tokens.pop(temp, None)
                self.sequence_names.discard(temp)
                self.tuple_names.discard(temp)
        return None

    def copy_layouts(self, expr: ast.expr, value: Tracer) -> dict | None:
        """The layouts over ``b.layouts`` that ``expr`` (lowered to ``value``) has: those of a copy at the root of its
        views (``v.contiguous().T``: contiguous, not ``v``'s) that jac lowered onto its operand's node, else none;
        None where another such copy's node is met (jac cannot tell whether the text reads the copy or its operand
        there: the view check answers) or the copy's layout is not known (``memory_format=``)."""
        root = expr
        while True:
            if type(root) is ast.Attribute and root.attr in ("T", "mT"):
                root = root.value
            elif type(root) is ast.Subscript:
                root = root.value
            elif type(root) is ast.Call and type(root.func) is ast.Attribute and root.func.attr in _VIEW_METHODS:
                root = root.func.value
            else:
                break
        own = self.copy_calls.get(id(root), {}) if type(root) is ast.Call else {}
        if own is None:
            return None
        met = layout_nodes(self.b, value.id, {**(self.b.layouts or {}), **own})
        if met is None or any(self.hidden_copies.get(k) and k not in own for k in met):
            return None
        return own

    def bind_shown(self, targets: list, shown: list):
        """``a, b = e1, e2``: each name bound to its own value, every value made first (``a, b = b, a`` swaps),
        as Python binds them: a tuple stays one (``s, n = x.shape, 2``), a bool is Python's (``x[s]`` a mask, as
        a loop's ``for s in [True]``), no array of them all is made."""
        values = [self.expression(e) for e in shown]
        for target, node, value in zip(targets, shown, values):
            if not isinstance(value, (Tracer, Items, bool, Complex)) and not plain.plain_instance(value):  # a, b =
                raise JacValueError(f"'{target.id}' must be assigned an array expression",  # P(x), P(y)
                                    self.source.at(node))
        for target, node, value in zip(targets, shown, values):
            self.scope[target.id] = self.b.name(value, target.id) if isinstance(value, Tracer) else value
            if type(value) is Complex:  # X, Y = torch.fft.rfft(x), torch.fft.rfft(y): no buffer jac writes into
                self.memory.tokens.pop(target.id, None)
            elif not isinstance(value, bool) and not plain.plain_instance(value):  # a, b = y.clone(), y[1:]
                self.memory.bind(target.id, value, type(value) is Tracer and (
                    copies.is_copy(node) or _advanced(node, value, self.b) or copies.fresh(self, node, value)))
            kind = self.python_kind(node, value)
            for names, mark in ((self.sequence_names, kind in ("tuple", "list", "range")),
                                (self.tuple_names, kind == "tuple")):
                if mark:
                    names.add(target.id)
                else:
                    names.discard(target.id)
        return Items(values)

    def bind_parts(self, stmt: ast.Assign, targets: list, value) -> None:
        """The names ``targets`` bound to the parts of ``value``; a tuple of names among them to the parts of a
        tuple part, as Python unpacks ``out, (h, c) = lstm(x)``."""
        stars = [i for i, t in enumerate(targets) if isinstance(t, ast.Starred)]
        if len(stars) > 1:
            raise JacParseError("multiple starred expressions in assignment (Python's SyntaxError)",
                                self.source.at(targets[stars[1]]))
        if isinstance(value, Pair):  # values, indices = torch.max(x, 1)
            value = Items(unpack_pair(value, 2 if stars else len(targets), self.source.at(stmt.value)))
        elif isinstance(value, Tracer):  # B, T, C = x.shape; a, b = x: its rows, as Python iterates an array
            count = value.shape[0] if stars and value.ndim and isinstance(value.shape[0], int) else len(targets)
            rows = self.rows(value, count, self.source.at(stmt.value))  # a, b = l of l = [(1, 2), (0, 1)]: tuples
            value = self.held_items(value, rows) if id(stmt.value) in self.sequences else rows
        if not isinstance(value, Items):
            raise JacValueError("only a tuple result (torch.split, torch.linalg.qr, ...) can be unpacked into names",
                                self.source.at(stmt.value))
        if stars:  # first, *rest = xs: the starred name a list of the parts the others leave, as Python's
            star, after = stars[0], len(targets) - stars[0] - 1
            if len(value) < len(targets) - 1:
                raise JacValueError(f"not enough values to unpack (expected at least {len(targets) - 1}, got "
                                    f"{len(value)})", self.source.at(stmt.targets[0]))
            rest = Items(value[star:len(value) - after])
            rest.display = "list"
            value = Items([*value[:star], rest, *value[len(value) - after:]])
            name = targets[star].value.id
            targets = [*targets[:star], targets[star].value, *targets[star + 1:]]
            self.sequence_names.add(name)
        if len(value) != len(targets):
            raise JacValueError(f"{len(targets)} names for a result of {len(value)} parts",
                                self.source.at(stmt.targets[0]))
        for target, part in zip(targets, value):
            if not isinstance(target, ast.Name):  # (h, c) of out, (h, c) = lstm(x)
                self.bind_parts(stmt, target.elts, part)
                continue
            self.bind_name(target.id, self.b.name(part, target.id) if isinstance(part, Tracer) else part)  # or Refused
            if isinstance(part, Tracer):
                self.memory.bind(target.id, part, False)
        return value

    # -- the walk ------------------------------------------------------------------------

    def expression(self, root: ast.expr):
        """Post-order walk with an explicit stack: children first, then the node."""
        results: dict[int, object] = {}
        stack = [(root, None)]  # kids is None until the node's children are pushed
        pop, push, children, lower = stack.pop, stack.append, self.children, self.lower
        while stack:
            node, kids = pop()
            if kids is not None:
                if type(kids) is _Branch:  # a conditional expression's chosen branch, lowered: its value
                    results[id(node)] = results.pop(id(kids.node))
                    if id(kids.node) in self.sequences:  # s = x.shape if c else None: a tuple still
                        self.sequences.add(id(node))
                        if id(kids.node) in self.tuples:
                            self.tuples.add(id(node))
                    continue
                values = [results.pop(id(k)) for k in kids]
                written = node
                if type(node) is ast.Call and starred.has_stars(node):  # f(*args, **kw): the call written out
                    written, values = starred.expand(self, node, values, _Unpacked, self.unpacked)
                found = lower(written, values)
                if type(found) is Tracer and (self.jax_made or type(node) is ast.Call):
                    self.jax_array(written, found, values)
                if self.saving and type(found) is Tracer:
                    self.saved_by(written, values, found)
                elif self.saving and isinstance(found, (Pair, Items)) and type(node) is ast.Call:
                    self.saved_parts(written, values, found)  # torch.cummax(h, 0), torch.linalg.eigh(h)
                if type(found) is _Branch:  # a conditional expression's test decided: its branch next
                    push((node, found))
                    push((found.node, None))
                    continue
                results[id(node)] = found
                continue
            kids = children(node)
            if not kids:  # a leaf: lowered at once, no second visit
                results[id(node)] = lower(node, kids)
                continue
            push((node, kids))
            for k in reversed(kids):
                push((k, None))
        return results[id(root)]

    def jax_array(self, node: ast.AST, found: Tracer, values: list) -> None:
        """Mark ``found``, the constant ``node`` made, as a JAX array (:attr:`jax_made`) where JAX's function made it
        (``jnp.ones(3)``, ``jax.nn.relu(c)``) or an op of a JAX array (``c[0]``, ``c * 2``, ``c.sum()``); NumPy's own
        function of one (``np.sin(c)``) makes a NumPy array. Its shape is no JAX array: ``c.shape``, ``c.ndim``,
        ``c.size``, ``len(c)``, ``jnp.shape(c)`` are Python ints even under jax.jit (``if c.shape[0] > 2:`` traces)."""
        if self.b.nodes[found.id].op != "const" or found.id in self.jax_made or _static_of_array(node, values):
            return
        module = self.module_path(node.func.value) if type(node) is ast.Call and type(node.func) is ast.Attribute \
            else None
        if module is not None and module.startswith(("jnp", "jax")) or module is None and any(
                type(v) is Tracer and v.id in self.jax_made for v in values):
            self.jax_made.add(found.id)

    def children(self, node: ast.AST) -> list:
        kind = type(node)
        if kind in _LEAVES:  # names and numbers, the most common nodes
            return []
        if kind is ast.BinOp:
            return [node.left, node.right]
        if kind is ast.Call and type(node.func) is ast.Name and node.func.id == "isinstance" \
                and "isinstance" not in self.scope and len(node.args) == 2 and not node.keywords:
            return [node.args[0]]  # isinstance(m, nn.Linear): the class is read off the text (instance_test)
        if kind is ast.Call and _dict_of_zip(node) and "dict" not in self.scope:  # dict(zip(k, v)): tree_call's
            return [k.value for k in node.keywords]
        if kind is ast.Call and _copy_call(node) and "copy" not in self.scope:  # copy.deepcopy(R): its argument
            return list(node.args)
        if kind is ast.Call and type(node.func) is ast.Attribute and node.func.attr in plain.SPELLED \
                and plain.spelling(self, node.func) is not None:  # dataclasses.replace(p, x=v): no module value
            return node.args + [k.value for k in node.keywords]
        if self.pyiter_read and kind in (ast.Call, ast.Attribute) and pyiter.spelling_of(
                node.func if kind is ast.Call else node, self.scope) is not None:
            return []  # itertools.combinations(range(n), 2), operator.add: read off the text (lang/pyiter.py)
        if kind is ast.Call and type(node.func) is ast.Name and node.keywords and pybuiltins.keyed_call(node, self.scope):
            return []  # max(x, key=abs): the key is a function, read off the text (lang/pybuiltins.py)
        if kind is ast.Call and self.partial_call(node):  # partial(f, params): a library's function as a value
            if type(node.args[0]) is ast.Attribute:
                self.library_arguments = {*self.library_arguments, id(node.args[0])}
            return list(node.args) + [k.value for k in node.keywords]
        if kind is ast.Call and type(node.func) is ast.Name and node.func.id not in self.imported:  # f(...): no
            # method's owner among them (a name imported from jax or torch.func, vmap(f, ...), is read below)
            return node.args + [k.value for k in node.keywords] if node.keywords else list(node.args)
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if isinstance(node, ast.Compare):
            return [node.left] + list(node.comparators)
        if isinstance(node, (ast.Tuple, ast.List)):
            functions = {id(v) for v in node.elts if type(v) is ast.Attribute and self.module_path(v.value)}
            if functions:  # [jax.nn.silu, jax.nn.elu]: a library's functions as values, called later (session 55)
                self.library_arguments = {*self.library_arguments, *functions}
            return list(node.elts)
        if isinstance(node, ast.Starred):
            return [node.value]
        if kind is ast.IfExp:  # the test only: its value picks the branch lowered (the other may not apply)
            return [node.test]
        if kind is ast.BoolOp:  # the first operand only: Python's and / or may stop there (x.ndim > 1 and x.shape[1])
            return [node.values[0]]
        if isinstance(node, ast.Call):
            if self.derivative_spelling(node.func) is not None:  # jax.grad(f), torch.autograd.grad(y, x): its own
                return []
            if self.tree_spelling(node.func) is not None:  # jax.tree_util.tree_map(f, a, b): its arguments (.trees)
                if node.args and type(node.args[0]) is ast.Attribute:  # tree_map(jnp.zeros_like, params)
                    self.library_arguments = {*self.library_arguments, id(node.args[0])}
                return list(node.args) + [k.value for k in node.keywords]
            if custom.spelling(self, node.func) is not None:  # jax.custom_vjp(f): its arguments (lang/custom.py)
                return list(node.args) + [k.value for k in node.keywords]
            if self.mask_indices_call(node):  # np.mask_indices(3, np.triu): the function read off the text
                return []
            kind = self.callee(node.func)[0]
            owner = [node.func.value] if kind == "method" else [node.func] if kind == "other" \
                and self.made_callable(node.func) else []
            return owner + list(node.args) + [k.value for k in node.keywords]
        if isinstance(node, ast.Attribute):
            if type(node.value) is ast.Name and node.value.id in _ROOTS and node.value.id not in self.scope:
                return []  # jax.lax: a module jac lacks under a root of those it has (attribute() says so)
            return [] if self.module_path(node.value) else [node.value]
        if isinstance(node, ast.Subscript):
            return [node.value] + self.index_parts(node.slice)
        if isinstance(node, ast.Slice):
            return [p for p in (node.lower, node.upper, node.step) if p is not None]
        if kind is ast.Dict:  # {'W': W, **a}: the keys written, then the values (.trees)
            functions = {id(v) for v in node.values if type(v) is ast.Attribute and self.module_path(v.value)}
            if functions:  # {'a': torch.tanh}: a library's functions as values, called later (self.acts['a'](x))
                self.library_arguments = {*self.library_arguments, *functions}
            return [k for k in node.keys if k is not None] + list(node.values)
        if kind is ast.JoinedStr:  # f'act{i}': the values formatted
            return [v.value for v in node.values if type(v) is ast.FormattedValue]
        return []

    def index_parts(self, index: ast.AST) -> list:
        return list(index.elts) if isinstance(index, ast.Tuple) else [index]

    def lower(self, node: ast.AST, kids: list):
        kind = type(node)  # names, calls and arithmetic by their exact type (ast makes no subclasses of them)
        if self.sequences:  # a function's body is lowered at each call: what its node was last time is gone
            self.sequences.discard(id(node))
            self.tuples.discard(id(node))
        if self.complex_values and kids and fourier.holds(kids):  # X.abs(), X * H of X = torch.fft.rfft(x)
            found = fourier.lower(self, node, kids)
            if found is not fourier.ORDINARY:
                return found
        if kind is ast.Name:
            if self.sequence_names and node.id in self.sequence_names:
                self.sequences.add(id(node))
                if node.id in self.tuple_names:
                    self.tuples.add(id(node))
            return self.name(node.id, self.source.at(node))
        if self.pyiter_read and kind in (ast.Call, ast.Attribute):
            spelling = pyiter.spelling_of(node.func if kind is ast.Call else node, self.scope)
            if spelling is not None:  # lang/pyiter.py
                return pyiter.call(self, spelling, node) if kind is ast.Call else pyiter.value(self, spelling, node)
        if kind is ast.Call and not kids and node.keywords and pybuiltins.keyed_call(node, self.scope):
            return pybuiltins.keyed(self, node)  # max(x, key=abs) (lang/pybuiltins.py)
        if kind is ast.Call:
            if self.sequences and _python_sequence_call(node) == "reordered" and id(node.args[0]) in self.sequences:
                self.sequences.add(id(node))  # reversed(range(x.ndim)), sorted(x.shape): a sequence still
            if self.sequences and _python_sequence_call(node) == "copy" and id(node.args[0]) in self.sequences:
                self.sequences.add(id(node))  # list(x.shape), tuple(s): the same numbers, still a sequence
                if type(node.func) is ast.Attribute or node.func.id == "tuple":  # torch.Size(...) is a tuple
                    self.tuples.add(id(node))
                found = self.sized(node, kids[0])
                if type(found) is Tracer and (found.id in self.ranges or found.id in self.iterators):
                    # list(range(3)), tuple(reversed(s)): a list or tuple, no range or iterator
                    copied = self.b.const(self.b.nodes[found.id].value, self.source.at(node))
                    if found.id in self.b.pyints:
                        self.b.pyints[copied.id] = self.b.pyints[found.id]
                    found = copied
                return found
            found = self.call(node, kids)
            if type(found) is Tracer and found.ndim == 0:
                found = self.library_value(node, kids, found)
            elif type(found) is Complex or type(found) is Items and fourier.holds(found):  # torch.fft.rfft(x),
                self.complex_values = True  # scipy.signal.stft's (f, t, Zxx): from here on nodes may meet one
            elif type(found) is Tracer and _python_sequence_call(node) == "reordered" and node.func.id == "reversed" \
                    and id(node) in self.sequences:
                self.iterators.add(found.id)
            if _python_sequence_call(node) == "made" and (type(node.func) is ast.Name
                                                         or self.module_path(node.func.value) is None):
                self.sequences.add(id(node))  # x.size() (torch.Size), range(n): Python sequences
                if type(node.func) is ast.Attribute:
                    self.tuples.add(id(node))
                elif type(found) is Tracer:
                    self.ranges.add(found.id)
            return found
        if kind is ast.BinOp and (type(kids[0]) is Instance or type(kids[1]) is Instance) \
                and (plain.plain_instance(kids[0]) or plain.plain_instance(kids[1])):  # dual * 3: __mul__ (.plain)
            return plain.binary(self, node, kids, self.operator_position(node))
        if kind is ast.BinOp and (type(kids[0]) is Dict or type(kids[1]) is Dict):  # d + 1: no array (.trees)
            trees.refuse_array_use(kids, f"'{_BINOP_TEXT.get(type(node.op), '?')}' of a dict", self.operator_position(node))
        if kind is ast.BinOp and type(node.op) in _BINOPS and not isinstance(kids[0], Items) \
                and not isinstance(kids[1], Items) and not self.sequences:
            if self.float_names is not None and type(node.op) is ast.MatMult:  # x.float() @ A
                self.one_float("@", [node.left, node.right], self.operator_position(node))
            found = self.arithmetic(_BINOPS[type(node.op)], kids[0], kids[1], self.operator_position(node))
            return self.library_scalar(found, kids) if self.library_made else found
        position = self.source.at(node)
        if kind is ast.BinOp and type(node.op) in _BINOPS:
            found = self.sequence_arithmetic(node, kids)
            if found is not None:
                self.sequences.add(id(node))
                if id(node.left) in self.tuples or id(node.right) in self.tuples:
                    self.tuples.add(id(node))
                return found
            if self.float_names is not None and type(node.op) is ast.MatMult:  # torch.tensor([1.0, 2.0]) @ x.double()
                self.one_float("@", [node.left, node.right], self.operator_position(node))
        if isinstance(node, ast.Constant):
            return self.constant(node, position)
        if isinstance(node, (ast.BinOp, ast.UnaryOp)) and any(isinstance(k, Items) for k in kids):
            raise JacValueError(_ITEMS_ARITHMETIC, position)
        if isinstance(node, (ast.BinOp, ast.UnaryOp)) and self.library_made:
            return self.library_scalar(self.arithmetic_of(node, kids, position), kids)
        return self.arithmetic_of(node, kids, position)

    def library_scalar(self, found, kids: list):
        """``found``, the arithmetic of ``kids``, marked as the library's 0-d value where one of them is
        (``np.float64(2) * 1`` is NumPy's scalar still, and so is a 0-d array's arithmetic)."""
        if type(found) is Tracer and found.ndim == 0:
            made = {self.library_made.get(k.id) for k in kids if type(k) is Tracer}
            for library in ("torch", "jax", "numpy", "array"):
                if library in made:
                    self.library_made[found.id] = "numpy" if library == "array" else library
                    break
        return found

    def arithmetic_of(self, node: ast.AST, kids: list, position: int):
        """The rest of :meth:`lower`: arithmetic, comparisons, displays, subscripts..."""
        kind = type(node)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if type(node.op) in _INT_BITS and all(type(self.python_int_or_bool(k)) in (int, bool) for k in kids):
                return self.int_bits(node, kids, position)  # 1 << 3, 5 & 3, True & False of Python ints: Python's
            if isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
                return self.logical_operator(node, kids)
            if op is None:
                raise JacParseError(f"the operator {_op_text(node.op)} is not supported (use + - * / ** @ % // "
                                    "and & | ^ ~ on booleans)", self.operator_position(node))
            return self.arithmetic(op, kids[0], kids[1], self.operator_position(node))
        if isinstance(node, ast.UnaryOp):
            if type(kids[0]) is Instance and plain.plain_instance(kids[0]) and not isinstance(node.op, ast.Not):  # -dual
                return plain.unary(self, node, kids[0], position)
            return self.unary(node, kids[0], position)
        if isinstance(node, ast.Compare):
            return self.compare(node, kids)
        if isinstance(node, ast.BoolOp):
            return self.bool_op(node, kids[0], position)
        if isinstance(node, (ast.Tuple, ast.List)):
            self.sequences.add(id(node))
            if isinstance(node, ast.Tuple):
                self.tuples.add(id(node))
            elements = self.unpacked(kids)
            found = self.literal(elements, position,
                                 arrays=not any(isinstance(e, (ast.List, ast.Tuple)) for e in node.elts))
            if type(found) is Tracer and found.ndim and not any(type(k) is _Unpacked for k in kids):
                self.hold(found, [(self.python_kind(e, k), self.held.get(k.id) if type(k) is Tracer else None)
                                  for e, k in zip(node.elts, kids)])  # [x.shape]: l[0] a tuple
            if type(found) is Tracer and len(kids) > 1 and all(type(k) is Tracer and k.ndim for k in kids):
                self.stacked.add(found.id)  # (h0, c0) of constants: one constant, which an LSTM reads as the pair
            kind = "tuple" if isinstance(node, ast.Tuple) else "list"
            if type(found) is Tracer and not node.elts and type(self.empties) is dict and not self.value_only \
                    and self.displayed(node):
                self.empties[found.id] = kind  # () as an output holds no array (outputs, tree_outputs, output)
            if type(found) is Tracer and node.elts:  # [jnp.ones(3), jnp.zeros(3)]: no pytree leaf (.trees)
                self.folded.add(found.id)
                self.displays[found.id] = trees.written(elements, kind)
            if type(found) is Items and not found.fields:  # isinstance(n, tuple) reads it (.trees)
                found = trees.written(found, kind)
            return found
        if isinstance(node, ast.Starred):
            return _Unpacked(kids[0], position)
        if isinstance(node, ast.Attribute):
            if node.attr == "shape" and kids:
                self.sequences.add(id(node))
                self.tuples.add(id(node))
            found = self.attribute(node, kids)
            kind = plain.python_kind(self, kids[0], node.attr) if kids and type(found) in (Tracer, Items) and (
                type(kids[0]) is Instance or type(kids[0]) is PlainClass) else None
            if kind is not None:  # self.shape = x.shape: self.shape + (1,) a tuple's + (lang/plain.py)
                self.mark(node, kind)
            return found
        if isinstance(node, ast.Subscript):
            if id(node.value) in self.sequences and isinstance(node.slice, ast.Slice):
                self.sequences.add(id(node))  # x.shape[:-1]: still a tuple
                if id(node.value) in self.tuples:
                    self.tuples.add(id(node))
            found = self.subscript(node, kids)
            if type(kids[0]) is Items and type(found) is Tracer and found.id in self.held_rows \
                    and type(kids[1]) is not slice:  # cand[0] of cand.append(b + [k]): Python's list still
                self.mark(node, self.held_rows[found.id])
            if type(kids[0]) is Dict and id(kids[0]) in self.dict_kinds and self.dict_kinds[id(kids[0])][0] is kids[0] \
                    and type(found) is Tracer and len(kids) == 2:  # d = {'k': x.shape}: d['k'] is the tuple
                what = self.dict_kinds[id(kids[0])][1].get(trees.key_of(self.b, kids[1], position))
                if what in ("tuple", "list", "range"):
                    self.mark(node, what)
            if type(kids[0]) is Tracer and kids[0].id in self.held and id(node.value) in self.sequences \
                    and type(found) is Tracer and len(kids) == 2:  # l = [x.shape]: l[0] the tuple, l[:1] a list
                items = self.held[kids[0].id]
                if type(kids[1]) is slice:
                    self.hold(found, items[kids[1]])
                elif found.ndim == kids[0].ndim - 1 and type(kids[1]) is Tracer:
                    at = self.b.nodes[kids[1].id]
                    if at.op == "const" and np.ndim(at.value) == 0 and -len(items) <= at.value < len(items):
                        found = self.held_item(found, items[int(at.value)])
                        if type(found) is Tracer and found.id in self.held_rows:
                            self.mark(node, self.held_rows[found.id])
            return found
        if isinstance(node, ast.Slice):
            return self.slice_value(node, kids)
        if kind is ast.IfExp:
            return _Branch(node.body if self.truth(node.test, kids[0]) else node.orelse)
        if isinstance(node, ast.Lambda):
            return self.define(node)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            found = self.comprehension(node, position)
            if kind is ast.ListComp:  # a Python list: [...] * 2 repeats it, [...] + [...] concatenates
                self.sequences.add(id(node))
                if type(found) is Items and not found.fields:  # its methods change it (r.reverse(), r[0] = v)
                    found = trees.written(found, "list")
            return found
        if kind is ast.Dict:  # {'W': W, 'b': b}: a structure of arrays (.trees)
            found = trees.display(self, node, kids, position)
            keys, kinds = iter(kids[:len(kids) - len(node.values)]), {}
            for key, value_node, value in zip(node.keys, node.values, kids[len(kids) - len(node.values):]):
                if key is not None:
                    kinds[trees.key_of(self.b, next(keys), position)] = self.python_kind(value_node, value)
                elif id(value) in self.dict_kinds and self.dict_kinds[id(value)][0] is value:  # {**d}: d's own
                    kinds.update(self.dict_kinds[id(value)][1])
                else:
                    kinds.update(dict.fromkeys(value.keys()) if type(value) is Dict else {})
            if any(what in ("tuple", "list", "range") for what in kinds.values()):  # {'k': x.shape}: d['k'] a tuple
                self.dict_kinds[id(found)] = (found, kinds)
            return found
        if kind is ast.DictComp:
            return trees.comprehension(self, node, position)
        if kind is ast.JoinedStr:
            return self.fstring(node, kids, position)
        name = _UNSUPPORTED.get(type(node), type(node).__name__)
        raise JacParseError(f"{name} are not part of jac's expression language", position)

    # -- leaves --------------------------------------------------------------------------

    def constant(self, node: ast.Constant, position: int):
        value = node.value
        if value is None:
            return None
        if value is Ellipsis:
            return Ellipsis
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return self.number(value, position)
        if isinstance(value, str):
            return Static(value)
        if isinstance(value, complex):  # 1j * x: a complex value (lang/fourier.py)
            self.complex_values = True
            return fourier.literal(self.b, value, position)
        raise JacParseError(f"{type(value).__name__} constants are not supported", position)

    def fstring(self, node: ast.JoinedStr, kids: list, position: int) -> Static:
        """``f'act{i}'``, ``f'{name}_{k}'``: Python's string, of values known as the text is read (a string, a Python
        int such as a loop's ``range`` index, a number); a value of the inputs, a format spec or a conversion
        other than ``!s`` is refused."""
        values, parts = iter(kids), []
        for part in node.values:
            if type(part) is ast.Constant:
                parts.append(part.value)
                continue
            if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                raise JacParseError("an f-string's format spec or !r / !a conversion is not read by jac (write "
                                    "f'{v}')", self.source.at(part))
            value = next(values)
            if isinstance(value, Static) and isinstance(value.value, str) or type(value) in (str, int, bool):
                parts.append(str(value.value if isinstance(value, Static) else value))
                continue
            if type(value) is Tracer and self.b.nodes[value.id].op == "const" and value.shape == ():
                held, number = self.b.pyints.get(value.id), float(self.b.nodes[value.id].value)
                if held is None and number.is_integer():  # max(1, 2), 7 % 3: Python's int or float? jac's
                    raise JacValueError(f"an f-string of the whole number {number:g}, which jac holds as a float "  # 2.0
                                        "where Python may hold the int (f'{n}' is '2' or '2.0'): write int(...) or "
                                        "float(...) inside the braces", self.source.at(part))
                parts.append(str(held if held is not None else number))
                continue
            raise JacValueError("an f-string formats strings and numbers known as the text is read (a loop's index, "
                                "a name bound to a string), not an array or a value of the inputs",
                                self.source.at(part))
        return Static("".join(parts))

    def number(self, value, position: int):
        # Numbers are floats, as every value becomes --dtype: 2**10000 overflows to inf
        # rather than wrapping around in a fixed-width integer.
        try:
            out = self.b.const(float(value), position)
        except OverflowError:
            raise JacLimitError(f"the number {str(value)[:20]}... is too large to hold", position) from None
        if type(value) is float:  # a float literal, refused where an integer is needed (functions.written_as_float)
            self.b.own("floats")[out.id] = True
        if type(value) is int:  # an integer literal: a Python int where it meets integer constants
            if self.value_only:  # a binding's value: converted to --dtype exactly, or refused
                dtypes.exact_literal(self.b, value, "the literal", position)
            self.b.pyints[out.id] = value
        return out

    def name(self, name: str, position: int):
        if name in self.scope:
            return Refused.check(self.scope[name], position)
        if name in CONSTANTS:
            return self.b.const(CONSTANTS[name], position)
        if name in ("float", "int", "bool", "complex"):  # dtype=float, as NumPy users write it
            return Static(DType(name, DTYPES.get(name, "c")))
        if name in FUNCTIONS:  # t, psi, angle, diff: also what a user may call a variable and forget to bind
            bind = "" if self.value_only else \
                f", or, if it is an input, give it a value with {name}=VALUE or a shape with {name}:SHAPE"
            raise JacNameError(f"'{name}' is a function; call it, as in {name}(x){bind}", position)
        if name in MODULES:
            raise JacNameError(f"'{name}' is a module; use its functions, as in {name}.exp(x)", position)
        if name in _ROOTS:  # jax.foo(x), jax + x: jac has jax.nn and jax.numpy, not jax itself
            modules = " and ".join(sorted(m for m in MODULES if m.startswith(name + ".")))
            raise JacNameError(f"jac knows '{name}' only as {modules}", position)
        known = sorted(self.scope)
        if name in _PASTED_NAMES and not self.value_only:  # pasted code's self, device, model
            raise JacNameError(f"unknown name '{name}': {_PASTED_NAMES[name]}", position)
        from .vocabulary import LIBRARY_NAMES  # a name of PyTorch / NumPy is no misspelt function of jac's

        others = [] if name in LIBRARY_NAMES else list(FUNCTIONS) + list(CONSTANTS)
        hint = difflib.get_close_matches(name, known + others, n=1)
        inputs = [n for n in known if n in self.input_names]  # the scope holds the text's own names too
        odd = [n for n in inputs if not n.isidentifier() or keyword.iskeyword(n)]  # the API's {'x y': ...}
        bound = f"the inputs are {_listed([repr(n) if n in odd else n for n in inputs])}" if inputs else \
            "no inputs are bound"
        if odd:
            bound += f" ({_listed(list(map(repr, odd)))} {'is' if len(odd) == 1 else 'are'} no name an expression " \
                     f"can use)"
        if len(inputs) < len(known):
            bound += f"; the text assigns {_listed([n for n in known if n not in self.input_names])}"
        suggestion = f"; did you mean '{_shortened(hint[0])}'?" if hint else ""
        odd = f": it holds {not_ascii(name)}" if not name.isascii() else ""  # а (Cyrillic) typed for a
        if odd and ascii_lookalike(name) in known:
            suggestion = f"; did you mean '{ascii_lookalike(name)}'?"
        if self.value_only:
            raise JacNameError(f"unknown name '{name}'{odd}: a value is a constant expression (numbers, lists, "
                               f"constructors such as ones(3)) and names no input{suggestion}", position)
        if odd:  # no binding of the command line can name it (NAME=VALUE takes an ASCII NAME; the API's dict can)
            raise JacNameError(f"unknown name '{name}' ({bound}){odd}; a binding of the command line names an "
                               f"input in ASCII (letters, digits and _){suggestion}", position)
        raise JacNameError(f"unknown name '{name}' ({bound}: give it a value with {name}=VALUE or a shape "
                           f"with {name}:SHAPE){suggestion}", position)

    def python_int(self, value):
        """The Python int a constant holds exactly (``Builder.pyints``: a literal, an int of one), else None."""
        return self.b.pyints.get(value.id) if type(value) is Tracer else None

    def python_int_or_bool(self, value):
        """The Python int or bool ``value`` is (a literal ``True``) or a constant holds exactly, else None."""
        if type(value) in (int, bool):
            return value
        return self.python_int(value)

    def int_bits(self, node, kids: list, position: int) -> Tracer:
        """Python's bit operators of Python ints and bools (``1 << k``, ``5 & 3``, ``~5``, ``True ^ True``),
        computed exactly (a bool of two bools' ``& | ^``, as Python); a shift past a float's range refused before
        it is computed."""
        ints = [self.python_int_or_bool(k) for k in kids]
        if isinstance(node.op, ast.Invert):  # ~True is -2, ~int(True) (Python 3.12 deprecates ~ of a bool)
            ints = [int(i) for i in ints]
        if isinstance(node.op, ast.LShift) and ints[1] > 0 and ints[0] and ints[0].bit_length() + ints[1] > 1024:
            raise JacValueError(f"{ints[0]} << {ints[1]} is past a float's range: jac holds numbers as floats, not "
                                "Python's exact ints", position)
        try:
            value = _INT_BITS[type(node.op)](*ints)
        except ValueError as err:  # 1 << -1
            raise JacValueError(f"Python raises ValueError: {err}", position) from None
        if type(value) is bool:  # True & False: a bool, as a literal is
            return value
        out = self.b.const(float(value), position)
        self.b.pyints[out.id] = value
        return out

    def unary(self, node: ast.UnaryOp, operand, position: int):
        trees.refuse_array_use([operand], "'-', '+', '~' or 'not' of a dict", position)
        if id(node.operand) in self.sequences and not isinstance(node.op, ast.Not):  # -x.shape: Python's TypeError
            what = "tuple" if id(node.operand) in self.tuples else "list"
            sign = {ast.USub: "-", ast.UAdd: "+"}.get(type(node.op)) or _op_text(node.op)
            raise JacValueError(f"'{sign}' of a Python {what} is an error in Python ({what}s have no "
                                "arithmetic); for arithmetic on the numbers make an array first: np.array(...)",
                                position)
        if isinstance(node.op, ast.Invert) and type(self.python_int_or_bool(operand)) in (int, bool):  # ~5: -6, ~True: -2
            return self.int_bits(node, [operand], position)
        if isinstance(node.op, ast.USub):
            if self.dialect == "torch" and not self.jax_reading:  # -(x > 0): PyTorch's Negation ... not supported
                dtypes.torch_operator(self.b, "neg", [operand], position)
            out = self.b.apply("neg", operand, position=position)
            if isinstance(operand, Tracer) and operand.id in self.b.floats:  # -1.0: a float literal still
                self.b.own("floats")[out.id] = True
            return out
        if isinstance(node.op, ast.UAdd):
            if not self.jax_reading and is_boolean(self.b, operand):
                raise JacValueError("+ of a boolean array: PyTorch raises \"The `+` operator, on a bool tensor is not "
                                    "supported.\" and NumPy \"ufunc 'positive' did not contain a loop with signature "
                                    "matching types\" (JAX alone takes it); write the mask itself, or x.float()",
                                    position)
            return operand
        if isinstance(node.op, ast.Invert):
            if not is_boolean(self.b, operand):
                bound = isinstance(operand, Tracer) and self.b.nodes[operand.id].op == "input" \
                    and isinstance(node.operand, ast.Name)
                raise JacValueError("~ is the logical not of a boolean (a comparison such as x > 0); jac's numbers are "
                                    "floats, which have no bitwise not" +
                                    (f"; {node.operand.id} is an input, held as --dtype floats even when bound to "
                                     f"booleans (0.0 and 1.0): write {node.operand.id} == 0 for its not" if bound
                                     else ""), position)
            return logical("not", self.b, [operand], position)
        if isinstance(node.op, ast.Not):
            try:  # Python's not of a value known without the inputs' values (not x.ndim == 2): a bool
                return not self.truth(node.operand, operand, "'not'")
            except NeedsValues:
                raise
            except JacValueError:
                raise JacParseError("'not' of an array is not supported: for arrays write ~(x > 0) or "
                                    "logical_not(x)", position) from None
        raise JacParseError(f"the operator {_op_text(node.op)} is not supported", position)

    def literal(self, items: list, position: int, arrays: bool = False):
        """``[1, 2, 3]`` or ``(2, 3)``: a constant array, nested lists for matrices. ``arrays``: no element is
        itself written as a list or tuple, so constant arrays of different shapes are a list of arrays
        (``(torch.zeros(1, 3), torch.zeros(1, 5))``, ``torch.cat([torch.zeros(2), torch.ones(3)])``)."""
        if any(type(item) is Dict or type(item) is TreeDef or type(item) is Static and type(item.value) is tuple
               and item.value and all(v is None for v in item.value) for item in items):
            return Items(items)  # (loss, {'h': h}), [x, (None,)], [params, grads]: a pytree (.trees)
        if items and all(isinstance(item, Static) and isinstance(item.value, str) for item in items):
            return Listed(items)  # ['W', 'b']: dict(zip(keys, values))'s keys (.trees)
        if items and all(isinstance(item, distributions.Distribution) for item in items):
            return Listed(items)  # [ExpTransform(), AffineTransform(0.0, 2.0)]: a TransformedDistribution's transforms
        if items and all(type(item) is derivatives.LibraryFunction for item in items):
            return Listed(items)  # acts = [jax.nn.silu, jnp.tanh]: called as they are reached (session 55)
        if any(isinstance(item, (Module, Sequential, Instance)) for item in items):
            if all(isinstance(item, (Module, Sequential, Instance)) for item in items):
                return Listed(items)  # layers = [nn.Linear(3, 3), nn.ReLU()]: nn.Sequential(*layers) names them
            raise JacValueError("a list holds modules or arrays, not both", position)
        if any(isinstance(item, (Function, Module, Sequential)) for item in items):
            raise JacValueError("a list of functions (lambda v: -v) is not an array, and jac takes no functions as "
                                "arguments: write the expression itself (np.piecewise's pieces as "
                                "np.select([x < 0, x >= 0], [-x, x ** 2]))", position)
        if any(item is None for item in items) and any(isinstance(item, Items) or isinstance(item, Tracer) and type(
                self.b.pyints.get(item.id)) is not int for item in items):  # return c, None: a scan's step (.vmapping)
            return Items(items)
        if any(item is None for item in items):  # (3, None): an output size keeping an axis (adaptive pooling)
            sizes = [None if item is None else self.b.pyints.get(item.id) if isinstance(item, Tracer) else item
                     for item in items]
            if not all(v is None or type(v) is int for v in sizes):
                raise JacValueError("a list or tuple holding None may hold only integers besides (sizes, as "
                                    "(3, None))", position)
            return Static(tuple(sizes))
        values = []
        flags = [isinstance(item, bool) or is_boolean(self.b, item) for item in items]
        items = [boolean(self.b, self.b.const(float(item), position)) if isinstance(item, bool) else item
                 for item in items]
        for item in items:
            node = self.b.nodes[item.id] if isinstance(item, Tracer) else None
            if node is None or node.op != "const":
                if items and all(isinstance(i, Tracer) for i in items):  # torch.cat([x, y]): a list of arrays
                    return Items(items)
                if items and all(isinstance(i, (Tracer, Items)) for i in items):
                    return Items(items)  # [[a, b], [c, d]] of arrays: np.block, np.array
                raise JacValueError("a list or tuple may hold only numbers (constants), or arrays (as the argument "
                                    "of cat or stack), not lists of arrays", position)
            values.append(node.value)
        if arrays and len({np.shape(v) for v in values}) > 1 and all(isinstance(i, Tracer) and i.ndim for i in items):
            return Items(items)  # arrays of their own shapes, as (x, y) of inputs is
        try:
            array = np.array(values, dtype=np.float64) if values else np.zeros((0,), dtype=np.float64)
        except ValueError:
            if laxnames.axis_numbers(values) is not None:  # (((1,), (0,)), ((), ())): dot_general's axes
                return Static(laxnames.axis_numbers(values))
            if arrays and all(isinstance(i, Tracer) for i in items):
                return Items(items)  # (0, jnp.ones(3)): Python's tuple of a number and an array (a loop's carry)
            raise JacValueError("a nested list must be rectangular (every row the same length)", position) from None
        out = self.b.const(array, position)
        exact = [self.b.pyints.get(item.id) for item in items]
        if any(item.id in self.b.floats for item in items):  # (0, 1.0): a float literal among the sizes or axes
            self.b.own("floats")[out.id] = True
        self.b.own("displays")[out.id] = True  # torch.isin(x, (0, 1)): PyTorch's TypeError (functions.written_as_sequence)
        if items and not any(e is None for e in exact):  # [1, 2]: integer literals, exact (ir/dtypes.py)
            self.b.pyints[out.id] = np.array(exact, dtype=object if array.size and np.abs(array).max() >= 2**62
                                             else np.int64)
        return boolean(self.b, out) if items and all(flags) else out

    def sequence_arithmetic(self, node: ast.BinOp, kids: list):
        """Python's ``+`` and ``*`` of lists and tuples (displays, ``x.shape``): ``[0.0] * 3`` repeats,
        ``x.shape + (1,)`` and ``[x] + [y]`` concatenate, as the pasted code means them (NumPy's and
        PyTorch's arrays would add and multiply element by element: ``torch.tensor([1, 2] * 2)`` is
        ``[1, 2, 1, 2]``). A list with a number Python refuses (``[1, 2] + 1``, ``[1.0] * 2.5``,
        ``x.shape // 2``, ``s - s``: every other operator) is refused; None for anything else (a list with an
        array is the array's arithmetic, as in NumPy)."""
        seq = [id(node.left) in self.sequences, id(node.right) in self.sequences]
        if not any(seq) or not all(isinstance(k, Items) or isinstance(k, Tracer) and self.b.nodes[k.id].op == "const"
                                   for k, is_seq in zip(kids, seq) if is_seq):
            return None
        position = self.operator_position(node)
        if any(type(k) is Tracer and k.id in self.ranges for k, is_seq in zip(kids, seq) if is_seq):
            raise JacValueError(f"'{_BINOP_TEXT[type(node.op)]}' of a Python range is an error in Python (a range "
                                "has no arithmetic, not even + and *): make a list first, list(range(...))",
                                position)
        if all(seq):
            kinds = ["tuple" if id(side) in self.tuples else "list" for side in (node.left, node.right)]
            if isinstance(node.op, ast.Add) and kinds[0] != kinds[1]:  # [0, 1] + (1,): Python's TypeError
                raise JacValueError(f'a Python {kinds[0]} plus a {kinds[1]} is an error in Python (can only '
                                    f'concatenate {kinds[0]} (not "{kinds[1]}") to {kinds[0]}): convert one, '
                                    f'{kinds[0]}(...) + {kinds[0]}(...)', position)
            if isinstance(node.op, ast.Add):
                return self.concatenated(kids[0], kids[1], position)
            if isinstance(node.op, ast.Mult):
                raise JacValueError("a Python list or tuple times another is an error in Python (a sequence repeats "
                                    "by an int); for element-wise products make arrays: np.array([...]) * "
                                    "np.array([...])", position)
            sign = _BINOP_TEXT[type(node.op)]
            raise JacValueError(f"'{sign}' of two Python lists or tuples is an error in Python (they concatenate with "
                                f"+ and nothing else); for arithmetic on the numbers make arrays: np.array([...]) "
                                f"{sign} np.array([...])", position)
        if any(type(k) is Tracer and k.id in self.iterators for k, is_seq in zip(kids, seq) if is_seq):
            raise JacValueError(f"'{_BINOP_TEXT[type(node.op)]}' of reversed(...) is an error in Python (reversed "
                                "gives an iterator, which has no arithmetic: unsupported operand type(s) for "
                                f"{_BINOP_TEXT[type(node.op)]}: 'reversed'); make a tuple or list first, "
                                "tuple(reversed(s))", position)
        other, other_node = (kids[1], node.right) if seq[0] else (kids[0], node.left)
        library = self.library_operand(node, seq, other, kids, position)
        if library is not False:
            return library
        count = other if type(other) in (bool, int) else self.b.nodes[other.id].value \
            if isinstance(other, Tracer) and self.b.nodes[other.id].op == "const" else None
        integer = count is not None and np.ndim(count) == 0 and float(count).is_integer() and not (
            isinstance(other_node, ast.Constant) and type(other_node.value) is float  # 2.0 written
            or isinstance(other_node, ast.Call) and type(other_node.func) is ast.Name and other_node.func.id == "float")
        if isinstance(other, Tracer) and other.id in self.b.typed and integer and isinstance(node.op, ast.Mult) \
                and np.dtype(self.b.typed[other.id][0]).kind in "iu":  # s * np.int64(2): its __index__ repeats
            return self.repeated(kids[0] if seq[0] else kids[1], int(count), position)
        if not self.python_number(other_node, other):
            return None  # an array (or a NumPy / PyTorch scalar): element-wise, as those libraries do
        written = node.left if seq[0] else node.right
        what = "tuple" if isinstance(written, ast.Tuple) or id(written) in self.tuples else "list"
        if isinstance(node.op, ast.Mult) and integer:  # s * True repeats once: a bool is an int
            return self.repeated(kids[0] if seq[0] else kids[1], int(count), position)
        word = {ast.Add: "plus", ast.Mult: "times"}.get(type(node.op), f"'{_BINOP_TEXT[type(node.op)]}'")
        raise JacValueError(f"a Python {what} {word} a number is an error in Python ({what}s concatenate with + and "
                            "repeat by an int with *, and have no other arithmetic); for arithmetic on the numbers "
                            "make an array first: np.array([...]) or torch.tensor([...])", position)

    def library_kind(self, node: ast.Call) -> str | None:
        """The kind of 0-d value the call ``node`` makes as its library types it: ``"array"`` for NumPy's array
        makers (``np.array(2.0)``, a 0-d ndarray), ``"numpy"`` for its other functions (``np.float64(2)``,
        ``np.sum(x)``: NumPy's scalars), ``"torch"``, ``"jax"``; None for a method or a bare call (Python's
        ``float('1.5')``, ``len(x)``, ``x.item()``)."""
        if type(node.func) is not ast.Attribute:
            return None
        module = self.module_path(node.func.value)
        if module is None:
            return None
        if module.startswith(("jnp", "jax")):
            return "jax"
        library = LIBRARIES.get(module)
        if library in ("torch", "torch.linalg"):
            return "torch"
        if library in ("numpy", "np.linalg", "numpy.random"):
            return "array" if node.func.attr in _NUMPY_ARRAY_MAKERS else "numpy"
        return None

    def library_value(self, node: ast.Call, kids: list, found: Tracer) -> Tracer:
        """``found``, the 0-d result of the call ``node``, marked with :meth:`library_kind`; a constant the call
        returned as it was given (``np.float64(2)``: the literal's node, a Python int) is copied first, so that
        the mark, and no longer the Python int, is what the copy holds."""
        made = self.library_kind(node)
        if made is None:
            return found
        if any(type(k) is Tracer and k.id == found.id for k in kids):
            if self.b.nodes[found.id].op != "const" or found.id in self.b.typed:
                return found
            found = self.b.const(self.b.nodes[found.id].value, self.b.nodes[found.id].position)
        self.library_made[found.id] = made
        return found

    def library_operand(self, node: ast.BinOp, seq: list, other, kids: list, position: int):
        """``s OP v`` of a Python sequence ``s`` and a 0-d value ``v`` a library made (or one computed from the
        inputs), as Python computes it: None where the value's own arithmetic answers (NumPy's 0-d arrays, and its
        scalars but for ``*``), the sequence repeated where the value is an integer a ``*`` reads by ``__index__``
        (``np.int64(2)``, ``torch.tensor(2)``), Python's TypeError otherwise; ``False`` for another value."""
        if type(other) is not Tracer or other.ndim != 0:
            return False
        made = self.library_made.get(other.id)
        held = self.b.nodes[other.id]
        if made is None and (held.op in ("const", "input") or other.id in self.b.pyints):
            return False  # a Python number, or an input (an array: NumPy's reading, as before)
        if made == "array":
            return None  # np.array(2.0) * s: the 0-d array's element-wise product, as NumPy
        mult = isinstance(node.op, ast.Mult)
        if made in ("numpy", None) and not mult:
            return None  # s + np.float64(1): NumPy's scalar adds element-wise (PyTorch's tensor would refuse)
        typed = self.b.typed.get(other.id)
        kind = np.dtype(typed[0]).kind if typed is not None else "f"
        if mult and held.op == "const" and made != "jax" and (kind in "iu" or kind == "b" and made == "torch"):
            return self.repeated(kids[0] if seq[0] else kids[1], int(held.value), position)
        what = "tuple" if id(node.left if seq[0] else node.right) in self.tuples else "list"
        sign = _BINOP_TEXT[type(node.op)]
        word = {ast.Add: "plus", ast.Mult: "times"}.get(type(node.op), f"'{sign}'")
        if made is None:  # computed from the inputs: NumPy's scalar or PyTorch's tensor, never a count jac knows
            raise JacValueError(f"a Python {what} times a number computed from the inputs is an error in Python "
                                "(a NumPy scalar: can't multiply sequence by non-int of type 'numpy.float64'; a "
                                "PyTorch tensor: only integer tensors of a single element can be converted to an "
                                "index; jac repeats a sequence only by a count known without the values); for "
                                "arithmetic make an array first: np.array(s) * v", position)
        why = {"numpy": "can't multiply sequence by non-int of type 'numpy.…'",
               "torch": "only integer tensors of a single element can be converted to an index" if mult else
               f'can only concatenate {what} (not "Tensor") to {what}' if sign == "+" else
               f"unsupported operand type(s) for {sign}: '{what}' and 'Tensor'",
               "jax": f"unsupported operand type(s) for {sign}: '{what}' and 'ArrayImpl'"}[made]
        number = {"numpy": "a NumPy scalar that is no integer", "torch": "a PyTorch tensor" if not mult else
                  "a PyTorch tensor that is no integer", "jax": "a JAX array"}[made]
        raise JacValueError(f"a Python {what} {word} {number} is an error in Python (TypeError: {why}); for "
                            f"arithmetic make an array first: np.array(s) {sign} v", position)

    def python_number(self, node: ast.expr, value) -> bool:
        """``value`` (at ``node``) is one of Python's numbers as far as the text shows: a number or bool written
        (``2``, ``True``), or a 0-d constant that is no NumPy or PyTorch scalar (``x.shape[0]``, ``len(x)``):
        what a list or tuple meets as Python's own, not as an array's element-wise arithmetic."""
        if type(value) in (bool, int, float):
            return True
        if not isinstance(value, Tracer):
            return False
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            node = node.operand
        held = self.b.nodes[value.id]
        if held.op != "const" or np.ndim(held.value) != 0:
            return False
        return isinstance(node, ast.Constant) and type(node.value) in (int, float, bool) \
            or value.id not in self.b.typed

    def unpacked(self, items: list) -> list:
        """``items`` with each ``*seq`` (:class:`_Unpacked`) replaced by the elements of ``seq``, as Python
        unpacks it: a constant vector's numbers (``*x.shape``, ``*(2, 3)``, ``*range(3)``) or a list's arrays."""
        if not any(type(i) is _Unpacked for i in items):
            return items
        out = []
        for item in items:
            if type(item) is not _Unpacked:
                out.append(item)
                continue
            value = item.value
            if isinstance(value, (Items, Listed)):
                out.extend(value)
                continue
            node = self.b.nodes[value.id] if isinstance(value, Tracer) else None
            if node is not None and value.ndim and isinstance(value.shape[0], int) and value.shape[0] > _MAX_UNROLLED:
                raise JacLimitError(f"'*' unpacks {value.shape[0]:,} elements (more than {_MAX_UNROLLED:,}): jac writes "
                                    "each out; pass the array itself", item.position)
            if node is not None and (node.op != "const" or np.ndim(node.value) > 1) and value.ndim:
                out.extend(FUNCTIONS["list"](self.b, [value], {}, item.position))  # *x: its rows, as Python iterates
                continue
            if node is None or node.op != "const" or np.ndim(node.value) != 1:
                raise JacValueError("'*' unpacks a tuple, a list or an array of at least one dimension (*x.shape, "
                                    "*(2, 3), *[a, b], *x)", item.position)
            exact = self.b.pyints.get(value.id)
            for k, v in enumerate(np.asarray(node.value)):
                number = self.b.const(float(v), item.position)
                if exact is not None:
                    self.b.pyints[number.id] = int(exact[k])
                elif float(v).is_integer():  # x.shape's sizes are Python ints
                    self.b.pyints[number.id] = int(v)
                out.append(number)
        return out

    def listed_arrays(self, value, position: int):
        """A Python list the parse holds as one constant, as the arrays it lists, where it lists arrays (its
        rows, ``[np.ones(2)]``) or nothing (``[]``); anything else as it is."""
        if not isinstance(value, Tracer) or self.b.nodes[value.id].op != "const":
            return value
        held = self.held.get(value.id)
        if value.ndim == 1 and value.shape[0] == 0:
            return Items([])
        if value.ndim >= 2 and not (held and any(kind is not None for kind, _ in held)):
            return FUNCTIONS["list"](self.b, [value], {}, position)
        return value

    def repeated(self, value, n: int, position: int):
        """A Python sequence repeated ``n`` times (``[0.0] * 3``, ``[x] * 2``, ``(2,) * 2``)."""
        n = max(n, 0)
        if isinstance(value, Items):
            if len(value) * n > _MAX_UNROLLED:
                raise JacLimitError(f"a list of {len(value) * n:,} arrays (more than {_MAX_UNROLLED:,}): jac writes "
                                    "each out; write the expression with whole arrays", position)
            return Items(list(value) * n)
        array = self.b.nodes[value.id].value
        reps = (n,) + (1,) * (array.ndim - 1)
        self.b.check_size((array.shape[0] * n,) + array.shape[1:], "the repeated sequence", position)  # first
        out = self.b.const(np.tile(array, reps), position)
        exact = self.b.pyints.get(value.id)
        if exact is not None:
            self.b.pyints[out.id] = np.tile(exact, reps)
        if is_boolean(self.b, value):
            boolean(self.b, out)
        return out

    def concatenated(self, left, right, position: int):
        """Two Python sequences joined (``[1, 2] + [3]``, ``x.shape + (1,)``, ``[x] + [y]``)."""
        if isinstance(left, Items) != isinstance(right, Items):  # [] + [x], [c] + [x]: the constant's arrays
            left, right = (self.listed_arrays(side, position) for side in (left, right))
        if isinstance(left, Items) and isinstance(right, Items):
            joined = Items(list(left) + list(right))
            joined.display = "list" if "list" in (left.display, right.display) else None
            return joined
        if isinstance(left, Items) or isinstance(right, Items):
            raise JacValueError("joining a list of arrays and a list of numbers: jac keeps a list either of arrays "
                                "(for cat, stack) or of numbers; write each as its own list", position)
        a, b = self.b.nodes[left.id].value, self.b.nodes[right.id].value
        parts = [p for p in (a, b) if p.size or p.ndim > 1] or [a]
        try:
            array = np.concatenate(parts)
        except ValueError:
            raise JacValueError("a nested list must be rectangular (every row the same length)", position) from None
        out = self.b.const(array, position)
        exact = [self.b.pyints.get(t.id) for t, p in zip((left, right), (a, b)) if p.size or p.ndim > 1]
        if exact and not any(e is None for e in exact):
            self.b.pyints[out.id] = np.concatenate(exact)
        if is_boolean(self.b, left) and is_boolean(self.b, right):
            boolean(self.b, out)
        return out

    def operator_position(self, node: ast.BinOp) -> int:
        """The column of the operator itself, so a caret points at ``@``, not the left operand."""
        text = _BINOP_TEXT.get(type(node.op)) or _op_text(node.op)
        start, stop = self.source.end(node.left), self.source.at(node.right)
        if text:
            found = self.source.text.find(text, start, stop)
            if found >= 0:
                return found
        return self.source.at(node)

    # -- calls, attributes, subscripts ---------------------------------------------------

    def module_path(self, node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
            if len(parts) > _MODULE_DEPTH:  # x.T.T.T...: no module is that deep; stop in O(1)
                return None
        if not isinstance(node, ast.Name) or node.id in self.scope:
            return None
        path = ".".join([node.id] + parts[::-1])
        return path if path in MODULES else None

    def callee(self, func: ast.AST):
        """("function", name) for ``f(...)``/``torch.f(...)``; ("method", name) for ``x.f(...)``."""
        if isinstance(func, ast.Name):
            return "function", func.id
        if isinstance(func, ast.Attribute):
            if self.module_path(func.value):
                return "function", func.attr
            return "method", func.attr
        return "other", None

    def comprehension(self, node, position: int, element=None):
        """``[ELT for NAME in ITER if TEST]`` and ``(ELT for ...)``: written out, one element per item of ITER
        (a list of arrays, an array's rows, ``range(n)``, ``zip(...)``, ``enumerate(...)``), in a scope of its
        own, as Python runs it; a list of the elements (``torch.stack([...])``, Python's ``sum(...)``). With
        ``element`` (``nn.ModuleList([nn.Linear(d, d) for _ in range(3)])``): ``element(i)`` makes the i-th, and
        the list of them is returned as it is."""
        saved, results, marks = self.scope, [], (set(self.sequence_names), set(self.tuple_names))
        self.scope, held = dict(self.scope), []
        try:
            loops = [(0, None)]  # (the generator to run next, the item to bind first): an explicit stack
            while loops:
                k, item = loops.pop()
                if item is not None:
                    gen = node.generators[k - 1]
                    self.bind_target(gen.target, item[0], position)
                    if not all(self.truth(test, self.expression(test)) for test in gen.ifs):
                        continue
                if k == len(node.generators):
                    results.append(self.expression(node.elt) if element is None else element(len(results)))
                    if element is None:
                        held.append((self.python_kind(node.elt, results[-1]), self.held.get(results[-1].id)
                                     if type(results[-1]) is Tracer else None))
                    if len(results) > _MAX_UNROLLED:
                        raise JacLimitError(f"a comprehension of more than {_MAX_UNROLLED:,} elements: jac writes "
                                            "each out; write the expression with whole arrays", position)
                    continue
                gen = node.generators[k]
                if gen.is_async:
                    raise JacParseError("'async for' is not supported", self.source.at(gen.iter))
                loops.extend((k + 1, (v,)) for v in reversed(self.items_of(gen.iter)))
        finally:  # its names are its own, as Python 3's
            ended, self.scope, (self.sequence_names, self.tuple_names) = self.scope, saved, marks
            carried(saved, ended, _stored_names([gen.target for gen in node.generators]))
        if element is not None:
            return results
        if not results:  # sum(...) of it is its start, len(...) 0, as Python's; the functions refuse it by name
            return Items([])
        # [p for p in model.parameters() if not p.requires_grad]: constants of their own shapes, a list of arrays
        found = self.literal(results, position, arrays=type(node.elt) not in (ast.List, ast.Tuple))
        if type(found) is Tracer and found.ndim:  # [t for t in [x.shape]]: a list of tuples
            self.hold(found, held)
        return found

    def items_of(self, node: ast.expr, what: str = "a comprehension") -> list:
        """What ``for ... in node`` iterates over, as Python: a list's items, an array's rows (a constant
        vector's numbers: ``range(n)``), ``zip``'s tuples, ``enumerate``'s (index, item) pairs. ``what``
        names the statement in the errors (a comprehension, or a for loop)."""
        position = self.source.at(node)
        if self.pyiter_read and type(node) is ast.Call:  # zip, enumerate, map, itertools' (lang/pyiter.py)
            spelling = pyiter.spelling_of(node.func, self.scope)
            if spelling in pyiter.ITERATORS:
                return pyiter.items(self, spelling, node, what)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
                and "range" not in self.scope and not node.keywords \
                and not any(isinstance(a, ast.Starred) for a in node.args):  # counted before anything is made
            numbers = python_range(self.b, [self.expression(a) for a in node.args], {}, position)
            if len(numbers) > _MAX_UNROLLED:
                raise JacLimitError(f"{what} over more than {_MAX_UNROLLED:,} elements: jac writes each out; "
                                    "write the expression with whole arrays", position)
            return [self.number(i, position) for i in numbers]
        return self.items_in(self.expression(node), node, what, position)

    def items_in(self, value, node: ast.expr, what: str, position: int) -> list:
        """The items of ``value`` (written ``node``) as :meth:`items_of` iterates them."""
        if isinstance(value, (Items, Listed)):
            return list(value)
        if plain.plain_instance(value) or type(value) is plain.Iterator:  # for p in params: __iter__ (lang/plain.py)
            return plain.iterated(self, value, position)
        if isinstance(value, ModuleDict):  # a dict's iteration: its keys
            return [Static(name) for name in value.names]
        if type(value) is Dict:  # for k in params: its keys, in insertion order (.trees)
            return [Static(k) if isinstance(k, str) else self.number(k, position) for k in value.keys()]
        if isinstance(value, Sequential):  # for layer in model: its modules
            return list(value.modules)
        if not isinstance(value, Tracer) or value.ndim == 0:
            raise JacValueError(f"{what} iterates over a list, an array's rows, range(n), zip(...) or "
                                "enumerate(...)", position)
        if isinstance(value.shape[0], int) and value.shape[0] > _MAX_UNROLLED:
            raise JacLimitError(f"{what} over more than {_MAX_UNROLLED:,} elements: jac writes each out; "
                                "write the expression with whole arrays", position)
        numbers = self.b.pyints.get(value.id)
        if numbers is not None and np.ndim(numbers) == 1:  # range(n): Python's ints
            return [self.number(int(v), position) for v in numbers]
        rows = self.rows(value, value.shape[0], position)
        held = node is None or id(node) in self.sequences  # for s in [x.shape]
        return list(self.held_items(value, rows) if held else rows)

    def listed(self, found: list, node: ast.Call, position: int):
        """An iterator's items (lang/pyiter.py) as the value a list comprehension of them is: numbers and tuples of
        numbers one constant array remembering them (:attr:`held`), anything else a list of them."""
        if not found:
            return trees.written(Items([]), "list")
        values, held = [], []
        for item in found:
            if type(item) is Items and item.display == "tuple" and item and all(
                    type(v) is Tracer and v.ndim == 0 and self.b.nodes[v.id].op == "const" for v in item):
                item = self.literal(list(item), position)
                held.append(("tuple", None))
            else:
                held.append((None, None))
            values.append(item)
        if all(type(v) is Tracer and self.b.nodes[v.id].op == "const" for v in values) \
                and len({v.shape for v in values}) == 1:
            out = self.literal(values, position)
            self.hold(out, held)
            self.mark(node, "list")
            return out
        return trees.written(Items(values), "list")

    def held_items(self, value: Tracer, rows: Items) -> Items:
        """``rows`` of ``value``, each a Python sequence where ``value`` holds them (``for s in [x.shape]``)."""
        if value.id in self.held and len(self.held[value.id]) == len(rows):
            return Items([self.held_item(row, item) for row, item in zip(rows, self.held[value.id])])
        return rows

    def hold(self, found: Tracer, items: list) -> None:
        """``found``, one array made of a list of Python's values, remembers what each was (:attr:`held`)."""
        if any(kind is not None or inner is not None for kind, inner in items) and found.shape[0] == len(items):
            self.held[found.id] = tuple(items)

    def held_item(self, row: Tracer, item: tuple):
        """An item of a list holding Python's own values (:attr:`held`), ``item`` what it was: the row itself,
        marked as the sequence it was (``held_rows``, :attr:`ranges`) and what its items were, or Python's bool."""
        kind, inner = item
        if kind == "bool" and self.b.nodes[row.id].op == "const":
            return bool(self.b.nodes[row.id].value)  # [0, True][1] is True: x[s] a new axis, s + s 2
        if inner is not None:
            self.held[row.id] = inner
        if kind is not None:
            self.held_rows[row.id] = kind
        if kind == "range":
            self.ranges.add(row.id)
        return row

    def held_sequence(self, node: ast.expr, value) -> None:
        """``value`` (at ``node``), put into a list of the text (``out.append(b + [k])``), remembered as the Python
        sequence it is, where it is one array (:attr:`held_rows`): ``out[0] + [1]`` and ``for b in out: b + [1]``
        concatenate it, as Python does, instead of adding arrays."""
        kind = self.python_kind(node, value)
        if type(value) is Tracer and kind in ("tuple", "list", "range"):
            self.held_rows[value.id] = kind
            if kind == "range":
                self.ranges.add(value.id)

    def python_kind(self, node: ast.expr, value) -> str | None:
        """What Python's own value ``value`` (at ``node``) is: "tuple", "list" or "range" (a sequence the syntax
        or the value shows), "bool" (True, False), None for anything else (a number, an array)."""
        if type(value) is bool:
            return "bool"
        if id(node) not in self.sequences:
            return None
        if type(value) is Tracer and value.id in self.ranges:
            return "range"
        return "tuple" if id(node) in self.tuples else "list"

    def mark(self, node: ast.expr, kind: str) -> None:
        """``node``'s value is Python's sequence of ``kind`` (tuple, list, range)."""
        self.sequences.add(id(node))
        if kind == "tuple":
            self.tuples.add(id(node))

    def bind_name(self, name: str, value) -> None:
        """``name`` bound by a loop or unpacking to ``value``: a Python sequence (a tuple) where ``value`` is
        an item of a list holding them (:meth:`held_items`), no longer one otherwise."""
        self.scope[name] = value
        found = self.held_rows.get(value.id) if type(value) is Tracer else None
        for names, mark in ((self.sequence_names, found is not None), (self.tuple_names, found == "tuple")):
            if mark:
                names.add(name)
            else:
                names.discard(name)

    def bind_target(self, target: ast.expr, value, position: int) -> None:
        """``for NAME in ...`` / ``for a, (b, c) in ...``: the names bound to an item, as Python unpacks it."""
        pending = [(target, value)]
        while pending:
            target, value = pending.pop()
            if isinstance(target, ast.Name):
                self.bind_name(target.id, value)
                continue
            if not isinstance(target, (ast.Tuple, ast.List)):
                raise JacParseError("a comprehension binds names (for a, b in ...)", self.source.at(target))
            parts = list(value) if isinstance(value, (tuple, Items)) else list(self.held_items(
                value, self.rows(value, len(target.elts), position))) if isinstance(value, Tracer) else None
            if parts is None or len(parts) != len(target.elts):
                raise JacValueError(f"{len(target.elts)} names for an item of another length", self.source.at(target))
            pending.extend(zip(target.elts, parts))

    def made_callable(self, func: ast.AST) -> bool:
        """A callee that is an expression making a function: ``(lambda t: t ** 3)(x)``, ``nn.ReLU()(x)``, and
        ``Net()(x)`` of a class of the text (refused: a model is made at the top level); ``getattr(a, 'f')(x)``,
        ``p.deriv()(t)``, ``(p * q)(t)`` of a plain class (lang/plain.py)."""
        return isinstance(func, (ast.Lambda, ast.Subscript)) or plain.makes_callable(self, func) \
            or isinstance(func, ast.Call) and (
            isinstance(func.func, ast.Attribute) and LIBRARIES.get(self.module_path(func.func.value)) == "torch.nn"
            or isinstance(func.func, ast.Name) and isinstance(self.scope.get(func.func.id), (ModelClass, PlainClass))
            or self.derivative_spelling(func.func) is not None  # jax.grad(f)(x)
            or self.partial_call(func)  # functools.partial(f, a)(b)
            or custom.spelling(self, func.func) is not None  # jax.custom_vjp(f)(x) (lang/custom.py)
            or isinstance(func.func, ast.Attribute) and func.func.attr in _MADE_THEN  # model.to(device)(x)
            or isinstance(func.func, ast.Name) and isinstance(self.scope.get(func.func.id), Function)  # make(w)(x)
            or isinstance(func.func, ast.Call) and self.made_callable(func.func)  # outer(a)(b)(x)
            or self.pyiter_read and pyiter.spelling_of(func.func, self.scope) in pyiter.MADE)  # partial(f, 2)(x)

    def tree_spelling(self, func: ast.AST) -> str | None:
        """``jax.tree_util.tree_map``, ``jax.tree.leaves``...: the spelling of a pytree function (:mod:`.trees`),
        unless its root is a name of the text."""
        if type(func) is ast.Name and func.id not in self.scope and self.imported.get(func.id) in trees.SPELLINGS:
            return self.imported[func.id]  # from jax.tree_util import tree_map
        if type(func) is not ast.Attribute or func.attr not in trees.LAST_NAMES:
            return None
        path = _dotted(func)
        root = path.split(".")[0] if path is not None else None
        if root in self.imported and root not in self.scope:  # import jax.tree_util as jtu: jtu.tree_map
            path = self.imported[root] + path[len(root):]
        return path if path in trees.SPELLINGS and path.split(".")[0] not in self.scope else None

    def mask_indices_call(self, node: ast.Call) -> bool:
        """``np.mask_indices(n, np.triu, k)`` (or jnp's): its function argument is read off the text."""
        func = node.func
        return type(func) is ast.Attribute and func.attr == "mask_indices" \
            and LIBRARIES.get(self.module_path(func.value)) == "numpy"

    def derivative_spelling(self, func: ast.AST) -> str | None:
        """``jax.grad``, ``torch.autograd.grad``...: the spelling of a derivative written in the text
        (:mod:`.derivatives`), or of a vmap, loop or wrapper of :mod:`.vmapping`, unless its root is a name of the
        text."""
        if type(func) is ast.Name and func.id in self.imported and func.id not in self.scope \
                and self.imported[func.id] not in trees.SPELLINGS:  # (from jax.tree_util import tree_map: .trees)
            return self.imported[func.id]  # from torch.func import vmap, grad: vmap(grad(f))
        if type(func) is ast.Attribute and func.attr in vmapping.LAST_NAMES:
            found = vmapping.spelling_of(_dotted(func))
            if found is not None and _dotted(func).split(".")[0] not in self.scope:
                return found
        if type(func) is not ast.Attribute or func.attr not in _AUTODIFF_NAMES and func.attr not in \
                derivatives.LAST_NAMES:
            return None
        path = _dotted(func)  # one of those, or another name of their modules (torch.func.vmap: refused there)
        if path is None or path.rsplit(".", 1)[0] not in derivatives.FAMILIES or path.split(".")[0] in self.scope:
            return None
        return path

    def is_callable(self, value) -> bool:
        """A value :meth:`call_value` calls: a function, module, model or transform of the text."""
        return isinstance(value, (Function, Module, Sequential, Instance, derivatives.Transform, Linear,
                                  vmapping.Mapped, decorators.GradMode, trees.Unravel, plain.Partial)) \
            or isinstance(value, custom.CALLABLE) or isinstance(value, pyiter.CALLABLE)

    def partial_call(self, node: ast.Call) -> bool:
        """``partial(f, ...)`` / ``functools.partial(f, ...)`` called as a value (not a decorator's)."""
        path = _dotted(node.func)
        return bool(node.args) and (path == "partial" and "partial" not in self.scope
                                    or path == "functools.partial" and "functools" not in self.scope)

    def is_callable_value(self, value) -> bool:
        """A function :meth:`call_value` calls: the text's, or a library's given as a value (``jnp.zeros_like``)."""
        return self.is_callable(value) or type(value) is derivatives.LibraryFunction

    def call_text_function(self, node: ast.Call, fn: Function, args: list, kwargs: dict, position: int):
        """``f(x, x.shape)`` of a function of the text: the parameters given a Python sequence or tuple stay one
        inside, and a call returning one is one (``f(s) + (1,)`` a tuple's +), as Python's values are."""
        given = [*zip(fn.positional, node.args), *((k.arg, k.value) for k in node.keywords)]
        marks = ([n for n, a in given if id(a) in self.sequences], [n for n, a in given if id(a) in self.tuples])
        rest = [*node.args[len(fn.positional):], *(k.value for k in node.keywords if k.arg not in fn.positional
                                                   and k.arg not in fn.keyword_only)]
        marked = [a for a in rest if id(a) in self.sequences]
        if marked and (fn.varargs or fn.varkw):  # f(x, x.shape) into *args: a tuple of arrays holds no tuple
            raise JacValueError(f"{fn.name}(): '{ast.unparse(marked[0])}' is a Python sequence, and jac collects "
                                f"arrays and numbers into *args and **kwargs: name a parameter for it", position)
        passed = {p: a.id for p, a in given if type(a) is ast.Name}
        copied = frozenset(p for p, a in given if copies.is_copy(a))
        found = self.call_function(fn, args, kwargs, position, marks, direct=True, passed=passed, copied=copied)
        result = self.returned if fn.early else fn.result
        if result is not None and id(result) in self.sequences:
            self.sequences.add(id(node))
            if id(result) in self.tuples:
                self.tuples.add(id(node))
        return found

    def call_value(self, fn, args: list, kwargs: dict, position: int):
        """``fn(*args, **kwargs)`` of a function a derivative of the text differentiates (:mod:`.derivatives`)."""
        if isinstance(fn, Function):
            return self.call_function(fn, args, kwargs, position)
        if isinstance(fn, plain.Partial):  # partial(f, params)(x): f(params, x)
            return self.call_value(fn.fn, [*fn.args, *args], {**fn.kwargs, **kwargs}, position)
        if isinstance(fn, plain.BoundMethod):  # f = kf.predict, rk4(osc.rhs, s, h) (lang/plain.py)
            return plain.call(self, fn.made, fn.name, args, kwargs, position)
        if isinstance(fn, (Module, Sequential, Instance)):
            return self.call_module(fn, args, kwargs, position)
        if isinstance(fn, derivatives.Transform):
            return derivatives.call_transform(self, fn, args, kwargs, position)
        if isinstance(fn, (Linear, trees.Unravel)):  # vjp_fn of y, vjp_fn = jax.vjp(f, x) (lang/vjps.py); unravel
            return fn.call(self, args, kwargs, position)
        if isinstance(fn, vmapping.Mapped):
            return vmapping.call_mapped(self, fn, args, kwargs, position)
        if isinstance(fn, decorators.GradMode):  # a def decorated @torch.no_grad()
            return decorators.call_grad_mode(self, fn, args, kwargs, position)
        if isinstance(fn, custom.CALLABLE):  # F.apply, a jax.custom_vjp function (lang/custom.py)
            return custom.call(self, fn, args, kwargs, position)
        if isinstance(fn, pyiter.CALLABLE):  # partial(f, ...), operator.mul, itemgetter(0) (lang/pyiter.py)
            return pyiter.invoke(self, fn, args, kwargs, position)
        if not isinstance(fn, derivatives.LibraryFunction):  # tree_reduce(None, tree), a number given as f
            raise JacValueError(f"'{_value_kind(fn)}' object is not callable (Python's TypeError): a function is "
                                "needed here", position)
        lower = self.lookup("function", fn.name, fn.module, position)  # a derivatives.LibraryFunction: jnp.sin
        vmapping.whiles.numpy_reads(self, fn.module, fn.name, args, kwargs, position)  # np.sin of a tracer: JAX raises
        found = lower(self.b, args, kwargs, position)
        self.value_in_place(fn.name, args, kwargs, found, position)  # act = F.relu; act(t, inplace=True)
        return found

    def value_in_place(self, fname: str, args: list, kwargs: dict, result, position: int,
                       spelled: ast.expr | None = None) -> None:
        """A library's function called as a value (``act = F.relu; act(t, inplace=True)``, ``functools.partial(
        F.relu, inplace=flag)(t)``) given the value True for ``inplace``: its write into its first argument, made as
        :meth:`call` makes the written call's (session 55: it was silently not in place, or refused); ``spelled``:
        the argument as the text wrote it, where known (``t`` of ``act(t)``)."""
        if not in_place_value(in_place_flag(fname, args, kwargs), fname, position, self.b):
            return
        first = args[0] if args else kwargs.get("input")
        if type(first) is Tracer and type(result) is Tracer:
            self.changed_in_place(first, result, f"{fname}(..., inplace=True)", position, fname, spelled)

    def module_call(self, node: ast.Call, kind: str, fname: str | None, kids: list, made: bool, position: int):
        """The calls of modules' own: ``model.parameters()`` and the other methods of :meth:`module_method`,
        ``model[0](x)`` / ``model.fc1(x)`` / ``heads['a'](x)`` of a container, ``len(model)``, a parameter's
        name's ``n.startswith('fc')`` / ``endswith``. None for any other call."""
        owner = kids[0] if kids and (kind == "method" or made) else None
        if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):
            return None
        rest = kids[1:] if owner is not None else kids
        args = rest[: len(rest) - len(node.keywords)]
        kwargs = {k.arg: v for k, v in zip(node.keywords, rest[len(args):])}
        if kind == "method" and isinstance(owner, (Instance, Module, Sequential)) and fname in _MODULE_METHODS \
                and not (isinstance(owner, Instance) and (fname in owner.cls.methods
                                                          or isinstance(owner.cls, PlainClass))):
            return self.module_method(owner, fname, args, kwargs, position)
        if kind == "method" and isinstance(owner, Sequential) and fname in owner.names:  # model.fc1(x)
            return self.call_module(owner.named(fname), args, kwargs, position)
        if made and isinstance(owner, (Module, Sequential, Instance)):  # model[0](x), self.heads['a'](x)
            return self.call_module(owner, args, kwargs, position)
        if kind == "function" and fname == "len" and "len" not in self.scope and len(kids) == 1 \
                and isinstance(kids[0], (Sequential, Listed, Items)):  # Items: a Python list of arrays, as Python
            return self.number(len(kids[0].modules if isinstance(kids[0], Sequential) else kids[0]), position)
        if kind == "method" and isinstance(owner, Static) and isinstance(owner.value, str) \
                and fname in ("startswith", "endswith"):  # for name, p in model.named_parameters(): a name's test
            texts = [static(self.b, a, f"{fname}()", position) for a in args]
            if len(texts) != 1 or kwargs or not all(isinstance(t, (str, tuple)) for t in texts):
                raise JacValueError(f"a name's {fname}() takes one string (or a tuple of strings) here", position)
            return getattr(owner.value, fname)(texts[0])
        return None

    def instance_test(self, value, classes: ast.expr) -> bool:
        """``isinstance(m, nn.Linear)`` (or a tuple of classes; ``nn.Module``; a model class of the text) of a
        module the text makes, as PyTorch answers it; of anything else (an array, a name) False for a module class.
        Another class is refused."""
        found = []
        for node in classes.elts if isinstance(classes, ast.Tuple) else [classes]:
            if isinstance(node, ast.Attribute) and LIBRARIES.get(self.module_path(node.value)) == "torch.nn":
                found.append(node.attr)
            elif isinstance(node, ast.Name) and isinstance(self.scope.get(node.id), (ModelClass, PlainClass)):
                found.append(self.scope[node.id])
            else:
                raise JacValueError(f"isinstance(..., {ast.unparse(node)}): jac reads isinstance of a module with a "
                                    f"class of torch.nn (nn.Linear, nn.Module) or a model class of the text",
                                    self.source.at(node))
        if isinstance(value, Instance):
            return any(of in plain.lineage(value.cls) or of == "Module" and not isinstance(value.cls, PlainClass)
                       for of in found)
        if type(value) is Items and value.record is not None:  # a NamedTuple's instance (lang/plain.py)
            return any(of in plain.lineage(value.record) for of in found)
        if isinstance(value, (Module, Sequential, Parameters)):
            return any(isinstance(of, str) and is_instance(value.cls, of) for of in found)
        return False

    def call_module(self, module, args: list, kwargs: dict, position: int):
        """A module, a container or an instance of a model class called on ``args``."""
        if isinstance(module, Instance):
            found = self.call_method(module, module.cls.entry, args, kwargs, position)
            self.layer_called = None  # its layers' calls registered theirs, each at its own line
            return found
        if isinstance(module, Recurrent) and module.kwargs.get("mode") == "LSTM":
            args, kwargs = self.lstm_state(args, kwargs, position)
        if type(module) is Sequential and len(args) == 1 and not kwargs:  # each module as called alone: in place too
            value = args[0]
            for inner in module.modules:
                value = self.call_module(inner, [value], {}, position)
            self.layer_called = (module, value)  # kept_by_layer: its first layer's input, its last one's result
            return value
        found = module.call(self.b, args, kwargs, position)
        self.layer_called = (module, found)
        if type(module) is Module and module.kwargs.get("inplace") not in (None, False) and args \
                and type(args[0]) is Tracer and type(found) is Tracer \
                and static(self.b, module.kwargs["inplace"], "inplace", position):  # nn.ReLU(inplace=True)(y)
            self.changed_in_place(args[0], found, f"nn.{module.cls}(inplace=True)", position,
                                  module.cls.lower().replace("leakyrelu", "leaky_relu"))
        return found

    def lstm_state(self, args: list, kwargs: dict, position: int) -> tuple:
        """An LSTM's (or LSTMCell's) arguments with a state written as a tuple of constants, ``(h0, c0)``, which
        the literal made one stacked constant, given back as the pair; a tensor the text stacked itself stays one
        tensor, which the layer refuses as PyTorch does."""
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        if type(hx) is not Tracer or hx.id not in self.stacked:
            return args, kwargs
        pair = Items(self.b.apply("getitem", hx, index=(k,), position=position) for k in range(hx.shape[0]))
        return (args[:1] + [pair] + args[2:], kwargs) if len(args) > 1 else (args, {**kwargs, "hx": pair})

    def fresh_leaf(self, node: ast.Call, value: Tracer, position: int) -> Tracer:
        """``torch.zeros(1, n, 4).requires_grad_()`` where no top-level assignment makes it an input (a model's
        ``forward`` making its initial state, as tutorials write it): PyTorch makes the constant a leaf whose
        gradient nothing outside can read, and every other gradient is as without the flag: the value itself. Of a
        value computed from the inputs (``(x * 2).requires_grad_()``) the flag changes nothing in PyTorch either."""
        if not _true_or_nothing(node):
            given = list(node.args) + [k.value for k in node.keywords]
            if len(given) == 1 and isinstance(given[0], ast.Constant) and given[0].value is False \
                    and type(node.func.value) in (ast.Name, ast.Attribute):
                # lin.weight.requires_grad_(False).mul_(2.): read as a statement of its own (lang/freeze.py), never
                # inside an expression or a chain (it said "read without arguments or with True": False is read)
                target = ast.unparse(node.func.value)
                raise JacValueError(f"{target}.requires_grad_(False) is read only as a statement of its own, not "
                                    f"inside an expression or a chain of calls: write {target}.requires_grad_(False) "
                                    f"on its own line, and what follows it on the next", position)
            raise JacValueError(".requires_grad_() is read without arguments or with True or, as a statement of its "
                                "own on a leaf the text made, with False", position)
        return value  # of a value computed from the inputs: it requires grad already, and PyTorch leaves it so

    def call(self, node: ast.Call, kids: list):
        if _copy_call(node) and "copy" not in self.scope:
            return self.copied(node, kids)
        if type(node.func) is ast.Name and node.func.id in plain.BUILTINS and kids and (
                plain.plain_instance(kids[0]) or isinstance(kids[0], PlainClass)):  # len(poly), getattr(obj, 'w')
            return plain.builtin(self, node, kids)
        if type(node.func) is ast.Name and node.func.id in ("getattr", "hasattr") and node.func.id not in self.scope \
                and kids and type(kids[0]) is Instance and not isinstance(kids[0].cls, PlainClass):
            return self.model_builtin(node, kids)  # getattr(self, f'layer{i}')
        if type(node.func) is ast.Name and node.func.id in plain.ITERATING and node.func.id not in self.scope \
                and plain.iterating(node, kids):  # sorted(cands), sum(duals), iter(self.items) (lang/plain.py)
            return plain.builtin_iterating(self, node, kids)
        path = plain.spelling(self, node.func) if "import" in self.source.body else None
        if path is not None:  # dataclasses.replace(p, pos=...), collections.namedtuple(...) (lang/plain.py)
            return plain.special_call(self, node, kids, path, self.source.at(node))
        if self.float_names is not None and type(node.func) is ast.Name and node.args:
            self.layer_of_one_float(node)  # fc(u) of fc = nn.Linear(3, 2) and a float64 u
        if type(node.func) is ast.Attribute and node.func.attr == "view" and not node.args and not node.keywords \
                and (self.dialect == "torch" or self.tensor_only) and type(kids[0] if kids else None) is Tracer \
                and self.callee(node.func)[0] == "method":  # NumPy's a.view() is the array; PyTorch's needs a shape
            # (a text naming no library that calls a method PyTorch alone has, t.relu_(), is PyTorch's: tensor_only)
            raise JacValueError(f"{ast.unparse(node)}: PyTorch raises \"TypeError: view() received an invalid "
                                "combination of arguments - got ()\": give the shape (t.view(-1), t.view(2, 3)), or "
                                "write t.view_as(t) for a view of the whole tensor", self.source.at(node))
        before = len(self.b.nodes)
        found = self.lowered_call(node, kids)
        operand = copies.copy_operand(self, node) if type(found) is Tracer and found.id < before else None
        hidden = False
        if operand is not None:  # t.T.contiguous(), u[:, :2].clone(): a copy jac's graph shows as t.T's, u[:, :2]'s node
            layouts, hidden = copies.hidden_layout(self.b, node, found, self.copy_layouts(operand, found))
            self.copy_calls[id(node)] = layouts
            if hidden:
                self.hidden_copies[found.id] = self.hidden_copies.get(found.id, 0) + 1
        if type(node.func) is ast.Attribute and node.func.attr in RESULT_LAYOUTS and isinstance(found, (Tracer, Items)):
            if self.torch_call(node.func):  # torch.sort(A, dim=1), A.topk(2): PyTorch's layout
                if node.func.attr == "tensor" and node.args and type(node.args[0]) in (ast.List, ast.Tuple) \
                        and type(found) is Tracer and self.b.nodes[found.id].op == "const":
                    before = found.id  # torch.tensor([[1., 2.], [3., 4.]]): the literal's own constant, made before
                result_layout(self.b, found, node.func.attr, kids[0] if kids else None, before)
            elif self.dialect is None and not self.jax_reading and self.module_path(node.func.value) is None:
                result_layout(self.b, found, node.func.attr, kids[0] if kids else None, before, self.view_layouts)
                # B.sum(1) in a text naming no library: PyTorch's layout for its .view(...) alone (session 57)
        if self.float_names is not None and type(node.func) is ast.Attribute and node.func.attr in _ONE_FLOAT:
            self.product_of_one_float(node)
        if type(node.func) is ast.Attribute and node.func.attr in _LAYOUTS and type(found) is Tracer and not (
                operand is not None and node.func.attr == "clone"):  # (u.clone() is u's node: u's layout stays u's)
            copied_layout(self.b, found, _LAYOUTS[node.func.attr])  # x.clone(), A.repeat(2, 1)
        if type(found) is Items and type(node.func) in (ast.Attribute, ast.Name) and (
                node.func.attr if type(node.func) is ast.Attribute else node.func.id) in _MULTI_VIEWS:
            self.multi_views.update(p.id for p in found if type(p) is Tracer)  # a, b = t.chunk(2) (lang/views.py)
        if type(found) is Tracer and type(node.func) is ast.Attribute and node.func.attr == "view" and node.args \
                and type(kids[0]) is Tracer:  # A.T.view(-1), (A @ B).T.view(-1): strides replayed where known
            layouts = self.copy_layouts(node.func.value, kids[0])
            if layouts is not None:  # (None: a copy whose layout the graph does not show may be read: answered)
                check_view(self.b, kids[0], tuple(found.shape), self.source.end(node.func) - 4,
                           {**self.view_layouts, **(self.b.layouts or {}), **layouts})
        given = _inplace_value(node, kids) if type(found) is Tracer else None
        if given is not None and self.library_call(node) and in_place_value(
                given, ast.unparse(node.func), self.source.at(node), self.b) and not self.in_place_outside:
            # F.relu(y, inplace=True), and inplace=flag, **kw, a default, self.inplace: the value True jac read
            # (session 55: the very handling of the written True; it was refused, and before that not in place)
            kind, fname = self.callee(node.func)
            argument = _first_argument(node, kids)
            if kind != "method" and type(argument) is Tracer:
                self.changed_in_place(argument, found, f"{fname}(..., inplace=True)", self.source.at(node), fname,
                                      node.args[0] if node.args else None)
        return found

    def copied(self, node: ast.Call, kids: list):
        """``copy.copy(v)`` / ``copy.deepcopy(v)`` (and a list's ``R.copy()``): a new list holding the very items
        (a shallow copy: ``S[0]`` is ``R[0]``), or new lists all the way down (a deep copy, keeping which of its inner
        lists are one object, as deepcopy's memo does); a dict's copy a new dict; an array's a new one."""
        deep = isinstance(node.func, ast.Attribute) and node.func.attr == "deepcopy"
        if len(kids) != 1 or node.keywords:
            raise JacValueError(f"{ast.unparse(node.func)}() takes one argument here", self.source.at(node))
        value, memo = kids[0], {}
        if plain.plain_instance(value):  # copy.copy(kf): a new object of its attributes (lang/plain.py)
            return plain.copied(self, value, deep, self.source.at(node))

        def copy(item, top):
            if type(item) is Items and (top or deep):
                if id(item) not in memo:
                    memo[id(item)] = out = Items([copy(i, False) for i in item])
                    out.display, out.fields = item.display, item.fields
                return memo[id(item)]
            if type(item) is Dict and (top or deep):
                return Dict([(k, copy(v, False)) for k, v in item.items()])
            return item
        found = copy(value, True)
        if id(node.args[0]) in self.sequences and type(found) is not Dict:
            self.mark(node, "tuple" if id(node.args[0]) in self.tuples else "list")
        return found

    def writes_inplace(self, call: ast.Call) -> bool:
        """Is ``call`` (of a library's function, :meth:`library_call`; or of a name holding one,
        ``act = F.relu``, ``act = functools.partial(F.relu, inplace=True)``) given the value True for ``inplace``,
        written so (``F.relu(y, inplace=True)``, ``F.relu(y, True)``) or through what jac knows at read time
        (session 55): a name, an attribute (``self.inplace``, set in ``__init__``), a parameter or its default, a
        ``**kw`` of a dict it knows, a ``*`` of a display; read as the walk reads them, without lowering anything
        else. The walk's :meth:`call` reads the lowered values themselves (:func:`_inplace_value`); this is for
        the checks that read a statement before it is lowered."""
        func, args, given = call.func, [], {}
        fname = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
        held = self.scope.get(func.id) if type(func) is ast.Name else None
        if held is None and not self.library_call(call):
            return False
        if _inplace_call(call) and held is None:
            return True
        if isinstance(held, plain.Partial):  # partial(F.relu, inplace=True): its arguments first
            args, given = list(held.args), dict(held.kwargs)
            held = held.fn
        if type(held) is pyiter.Written:
            fname = held.node.attr if type(held.node) is ast.Attribute else getattr(held.node, "id", None)
        elif type(held) is derivatives.LibraryFunction:
            fname = held.name
        elif held is not None:
            return False  # a def, a module, a model of the text: their own inplace parameters are theirs
        for a in call.args:
            if type(a) is not ast.Starred:
                args.append(a)
            elif type(a.value) in (ast.List, ast.Tuple) and not any(type(e) is ast.Starred for e in a.value.elts):
                args.extend(a.value.elts)  # F.relu(y, *[True])
            else:
                return False  # what a '*' of a name holds is read by the walk (lang/starred.py)
        for k in call.keywords:
            if k.arg is not None:
                given[k.arg] = k.value
            elif starred.pure(k.value):  # **kw of a dict jac knows
                found = self.known_value(k.value)
                if type(found) is Dict and "inplace" in found:
                    given["inplace"] = found.get("inplace", self.source.at(k))
        flag = in_place_flag(fname, args, given)
        if isinstance(flag, ast.expr):
            flag = flag.value if type(flag) is ast.Constant else self.known_value(flag) if starred.pure(flag) \
                else None
        try:
            return bool(in_place_value(flag, fname, 0, self.b))  # inplace=1 by its truth, as PyTorch's
        except JacError:
            return False  # a flag of the inputs: refused where the walk reads the call

    def known_value(self, expr: ast.expr):
        """The value of ``expr`` (a name or an attribute of one, which reading makes nothing), or None where reading
        it is refused."""
        try:
            found = self.expression(expr)
        except JacError:
            return None
        return found.value if type(found) is Static else found

    def library_call(self, node: ast.Call) -> bool:
        """Does the call name a library's function (``F.relu``, ``relu`` imported), not one of the text (a def, a
        lambda, a module or model it made: their own ``inplace`` parameters are theirs)?"""
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id not in self.scope

    def changed_in_place(self, argument: Tracer, result: Tracer, what: str, position: int,
                         fname: str | None = None, spelled: ast.expr | None = None) -> None:
        """``result`` was written into ``argument``'s buffer, as PyTorch's ``inplace=True`` writes it: the name
        holding ``argument`` now holds ``result`` (refused, as a write into it is, where it is an input or another
        name shares it); nothing more where no name holds it (a temporary: ``F.relu(conv(x), inplace=True)``).
        In a PyTorch text, the in-place forms of relu, leaky_relu, elu, selu, celu and rrelu (``fname``) keep the
        written tensor for backward, so a later write into it is refused as PyTorch's backward raises."""
        if result.id == argument.id and "ropout" in what:  # F.dropout(h, 0.0, inplace=True), training=False:
            return  # PyTorch returns h as it is, writing nothing (no version change: what backward saved stays valid)
        written = self.written_name(argument, spelled)
        tokens = self.memory.tokens[written] if written is not None else self.memory._base(argument)
        names = [n for n, t in self.memory.tokens.items() if t & tokens]
        if not names:
            return
        if len(names) == 1 and self.scope.get(names[0]) is argument or written is not None and self.torch_writes():
            # F.relu(t, inplace=True) beside v = t[1:3] or u = t: a write into t as t.relu_() writes it, which every
            # name viewing t's buffer sees where lang/views.py follows them (else Memory.check refuses it, saying so)
            name = names[0] if written is None else written
            self.checked_write(name, what, position)
            self.rebind(name, result)
            if self.saving and fname in _IN_PLACE_KEEPS_RESULT and self.b.nodes[result.id].requires_grad:
                saved.register(self.b, result.id, self.memory.tokens.get(name, frozenset()), frozenset(), fname)
            return
        shown = ", ".join(f"'{n}'" for n in names[:3])
        raise JacValueError(f"{what} writes into its argument, which {shown} hold{'s' * (len(names) == 1)} (the "
                            "array or a view of it): PyTorch changes them all, which jac's values cannot follow "
                            "here; write it without inplace=True (out = F.relu(y)), or apply it to a name of its "
                            "own (y = F.relu(y, inplace=True))", position)

    def written_name(self, argument: Tracer, spelled: ast.expr | None) -> str | None:
        """The name an ``inplace=True`` call writes into: the one its argument is written as (``F.relu(t, inplace=
        True)``; not ``x`` of ``t = x.clone()``, whose node ``t``'s may be), or, for a module's call (no text at hand),
        a name holding the very tensor (all such names of one buffer: ``v = t.T`` of a vector is t's tracer); None
        where that is not known (a view, a temporary, names of two buffers)."""
        if spelled is not None:
            if type(spelled) is ast.Name and self.scope.get(spelled.id) is argument \
                    and spelled.id in self.memory.tokens:
                return spelled.id
            return None
        held = [n for n, v in self.scope.items() if v is argument and n in self.memory.tokens]
        return held[0] if held and all(self.memory.tokens[n] == self.memory.tokens[held[0]] for n in held) else None

    def holders(self, argument: Tracer) -> list:
        """The names whose buffers ``argument``'s buffers are (itself, an alias, a view of it, a view it is of)."""
        tokens = self.memory._base(argument)
        return [n for n, t in self.memory.tokens.items() if t & tokens]

    def updated_in_place(self, argument: Tracer, result: Tracer, what: str, position: int) -> None:
        """A library call wrote ``result`` into ``argument`` besides returning its own result, as
        ``F.batch_norm(x, running_mean, running_var, training=True)`` moves its running statistics: the one name
        holding ``argument`` holds ``result`` after the call; where an input or several names hold it (``rm`` an
        input, ``st[0]`` a view), jac writes none of them, and each is refused where read afterwards, as its value
        there would be the one from before the call; nothing where no name holds it (a temporary)."""
        names = self.holders(argument)
        inputs = any(isinstance(t, tuple) for n in names for t in self.memory.tokens[n])
        if len(names) == 1 and not inputs and self.scope.get(names[0]) is argument:
            self.rebind(names[0], result)
            return
        for name in names:
            self.scope[name] = Refused(
                f"'{name}' was changed in place by {what} (an input, or sharing its memory with another name), which "
                f"jac does not follow: give the call an array of its own, made in the text ({name} = "
                f"{name}.clone() before it, or torch.zeros(...)), to read it afterwards")

    def lowered_call(self, node: ast.Call, kids: list):
        kind, fname = self.callee(node.func)
        position = self.source.end(node.func) - len(fname) if fname else self.source.at(node)
        found = self.custom_call(node, kind, fname, kids, position)
        if found is not None:
            return found
        spelling = self.derivative_spelling(node.func)
        if spelling is not None and spelling in derivatives.LINEAR:  # jax.vjp(f, x): a pair holding a function
            return lower_linear(self, spelling, node, position)
        if spelling in vmapping.SPELLINGS:  # jax.vmap(f), lax.scan(f, c, xs), jax.jit(f): written out (.vmapping)
            return vmapping.lower(self, spelling, node, position)
        if spelling is not None:  # jax.grad(f), torch.autograd.grad(y, x): derivatives written in the text
            return derivatives.lower(self, spelling, node, position)
        if kind == "function" and fname == "isinstance" and type(node.func) is ast.Name \
                and "isinstance" not in self.scope and len(node.args) == 2 and not node.keywords \
                and trees.builtin_classes(node.args[1]) is not None:  # isinstance(n, tuple): is_leaf's (.trees)
            held = self.python_kind(node.args[0], kids[0]) if type(kids[0]) is Tracer else None
            if held in ("tuple", "list", "range"):  # l = [1.0, 2.0] (one array): Python's list (was False)
                return held in trees.builtin_classes(node.args[1])
            return trees.instance_of(kids[0], trees.builtin_classes(node.args[1]), position)
        found = self.tree_call(node, kind, fname, kids, position)
        if found is not None:
            return found
        if self.partial_call(node):  # functools.partial(f, *args, **kwargs): called later with the rest
            if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):
                raise JacParseError("'*' and '**' unpacking in functools.partial are not supported", position)
            args = kids[: len(kids) - len(node.keywords)]
            if not self.is_callable_value(args[0]):
                raise JacValueError("functools.partial(f, ...) takes a function first: a def or lambda of the text, "
                                    "a module, or a library's function (jnp.sin)", position)
            return pyiter.partial_of(self, node, args[0], args[1:],  # the rule functools.partial's has (.pyiter)
                                     {k.arg: v for k, v in zip(node.keywords, kids[len(args):])})
        if kind == "function" and fname == "mask_indices" and self.mask_indices_call(node):
            return index_tuples.mask_indices(self, node, position)  # (.index_tuples)
        if kind == "method" and fname == "requires_grad_" and kids and type(kids[0]) is Tracer:
            return self.fresh_leaf(node, kids[0], position)
        if kind == "function" and fname == "isinstance" and type(node.func) is ast.Name \
                and "isinstance" not in self.scope and len(node.args) == 2 and not node.keywords:
            found = plain.instance_test(self, kids[0], node.args[0], node.args[1], position)
            if found is not None:  # isinstance(o, (int, float)) in a Dual's __mul__ (lang/plain.py)
                return found
            return self.instance_test(kids[0], node.args[1])
        if kind == "method" and kids and isinstance(kids[0], distributions.Distribution):  # d.log_prob(x)
            if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):
                raise JacParseError("'*' and '**' unpacking in a distribution's method are not supported", position)
            args = kids[1: len(kids) - len(node.keywords)]
            kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(kids) - len(node.keywords):])}
            return distributions.method(self.b, kids[0], fname, args, kwargs, position)
        if kind == "function" and fname == "super" and type(node.func) is ast.Name and "super" not in self.scope:
            return plain.Super(None, None)  # super(): its method called next (plain.super_call)
        if kind == "method" and kids and isinstance(kids[0], (plain.Super, PlainClass)):  # super().__init__(...),
            if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):  # Kalman.make()
                raise JacParseError("'*' and '**' unpacking in a call of a method are not supported", position)
            if isinstance(kids[0], plain.Super):
                return plain.super_call(self, node, kids, fname, position)
            args = kids[1: len(kids) - len(node.keywords)]
            kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(kids) - len(node.keywords):])}
            self.plain_call = (node, args)  # Kalman.make([1.0, 2.0]): which arguments are Python sequences
            return plain.call(self, kids[0], fname, args, kwargs, position)
        made = kind == "other" and self.made_callable(node.func)
        called = kids[0] if made else self.scope.get(fname) if type(node.func) is ast.Name else None
        found = self.module_call(node, kind, fname, kids, made, position)
        if found is not None:
            return found
        if isinstance(called, (ModelClass, PlainClass)):  # ContrastiveLoss()(a, b): a module without parameters is a function
            held = len(self.declared or ())
            made = self.instance(called, node, fname)
            if len(self.declared or ()) == held:
                return made
            raise JacValueError(f"{fname}(...) makes a module: jac makes one where the text's top level assigns it, "
                                f"model = {fname}(...), and its layers' parameters are inputs", position)
        if kind == "method" and kids and isinstance(kids[0], Instance) or isinstance(called, Instance):
            if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):
                raise JacParseError("'*' and '**' unpacking in a call of a module are not supported", position)
            rest = kids[1:] if kind == "method" else kids
            args = rest[: len(rest) - len(node.keywords)]
            kwargs = {k.arg: v for k, v in zip(node.keywords, rest[len(args):])}
            self.plain_call = (node, args)  # kf.update(x, [1.0, 2.0]): which arguments are Python sequences
            if kind == "method":
                return self.call_attribute(kids[0], fname, args, kwargs, position)
            return self.call_module(called, args, kwargs, position)
        if isinstance(called, (Function, Module, Sequential, derivatives.Transform, Linear, plain.BoundMethod,
                               trees.Unravel, plain.Partial)) \
                or isinstance(called, (vmapping.Mapped, derivatives.LibraryFunction)) \
                or isinstance(called, decorators.GradMode) or isinstance(called, custom.CALLABLE) \
                or isinstance(called, pyiter.CALLABLE):  # jax.jit(jnp.sin)(x), a @torch.no_grad() def, partial(f, 2)
            if any(k.arg is None for k in node.keywords):
                raise JacParseError("'**' unpacking is not supported", position)
            kids = kids[1:] if made else kids
            args = kids[: len(kids) - len(node.keywords)]
            kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(args):])}
            if any(type(a) is _Unpacked for a in args):
                args = self.unpacked(args)
            elif isinstance(called, Function):
                return self.call_text_function(node, called, args, kwargs, position)
            elif isinstance(called, vmapping.Staged):  # jax.jit(f, static_argnums=1)(x, [1, 2]): a list is refused
                written = [*zip(range(len(args)), node.args), *((k.arg, k.value) for k in node.keywords)]
                kinds = {key: self.python_kind(a, v) or "value"  # np.array((1., 2.)): no tuple
                         for (key, a), v in zip(written, [*args, *kwargs.values()])}
                return vmapping.whiles.call_staged(self, called, args, kwargs, position, kinds)
            return self.call_value(called, args, kwargs, position)  # f(x), nn.ReLU()(x), jax.grad(f)(x)
        if kind == "other":
            if made and isinstance(called, (Tracer, Items)):  # f(x)(3) of a function returning an array
                raise JacValueError(f"'{ast.unparse(node.func)}' is {'an array' if type(called) is Tracer else 'a tuple'}"
                                    f", not a function: it cannot be called (Python: object is not callable)",
                                    position)
            if isinstance(node.func, ast.Call) and ast.unparse(node.func.func).startswith(("torch.nn.", "nn.")):
                raise JacParseError("only named functions can be called; jac has no module objects such as "
                                    "torch.nn.Softmax(dim=0): write the function, F.softmax(x, dim=0)", position)
            staged = _staged_stage(node.func)
            if staged is not None:  # jax.jit(f).lower(x).compile()(x): the caret under lower
                spelling = vmapping.spelling_of(_dotted(staged.value.func))
                raise JacNameError(f"'{spelling}(f).{staged.attr}(...)': jac reads {spelling}(f)(x), the function "
                                   f"called, and not JAX's ahead-of-time API ({', '.join('.' + n for n in _AOT)}): "
                                   f"call it, {spelling}(f)(x)", self.source.end(staged) - len(staged.attr))
            if isinstance(node.func, ast.Call):  # jax.grad(f)(x), torch.func.vmap(f)(x): a transform of a function
                _, inner = self.callee(node.func.func)
                text = ast.unparse(node.func.func)
                if inner in _AUTODIFF_NAMES:
                    raise JacParseError(f"'{text}(...)' is not needed: {_AUTODIFF}", position)
                if inner in _TRANSFORMS:
                    raise JacParseError(f"'{text}(...)' is not needed: {_TRANSFORMS[inner]}", position)
            raise JacParseError("only named functions can be called", position)
        if any(k.arg is None for k in node.keywords):
            raise JacParseError("'**' unpacking is not supported", position)
        module = self.module_path(node.func.value) if kind == "function" and isinstance(node.func, ast.Attribute) \
            else None
        args = kids[: len(kids) - len(node.keywords)]
        kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(args):])}
        if any(type(a) is _Unpacked for a in args):  # x.view(*x.shape[:-1], 2, -1), torch.zeros(*shape)
            args = self.unpacked(args)
        if kind == "method":
            argspec.number_method(self.b, args[0], fname, position)  # 1.5.abs(): Python's AttributeError
        if kind == "method" and isinstance(args[0], (AtIndex, Ufunc)):
            if type(args[0]) is Ufunc:  # np.add.reduce(v) of a JAX tracer: TracerArrayConversionError (jnp's: traced)
                vmapping.whiles.numpy_reads(self, args[0].module, fname, args[1:], kwargs, position, "ufunc")
            return args[0].call(self.b, fname, args[1:], kwargs, position)
        if kind == "method" and isinstance(args[0], vmapping.Staged):  # jax.jit(f).lower(x): JAX's stages
            raise JacNameError(f"'{args[0].spelling}(f).{fname}(...)': jac reads {args[0].spelling}(f)(x), the "
                               f"function called, and not JAX's ahead-of-time API ({', '.join('.' + n for n in _AOT)}"
                               f"){'' if fname in _AOT else f', nor any other method of it'}: call it, "
                               f"{args[0].spelling}(f)(x)", position)
        if kind == "method" and type(args[0]) is Items and args[0].record is not None:  # s._replace(x=v), s.f()
            return plain.record_method(self, args[0], fname, list(args[1:]), kwargs, position, node)
        if kind == "method" and fname.endswith("_") and not fname.startswith("_") and fname[:-1] in FUNCTIONS \
                and type(node.func.value) in (ast.Call, ast.BinOp, ast.UnaryOp):  # (v / c).sqrt().add_(eps)
            return self.in_place_temporary(node, kids)
        if kind == "method" and fname.endswith("_") and not fname.startswith("_") and fname[:-1] in FUNCTIONS:
            raise JacNameError(f"the in-place method '.{fname}()' works only as a statement of its own on a name "
                               f"(y.{fname}(...); ...), not inside an expression", position)
        if kind == "function" and module is None and fname in _PYTHON_ITERATING and args and node.args \
                and type(node.func) is ast.Name and fname not in self.scope:
            args = [self.python_iterated(node.args[0], args[0], fname, position), *args[1:]]
            if fname in ("min", "max") and len(args) == 1 and not kwargs and type(args[0]) is Items:
                args = self.compared_items(args[0], fname, position)  # min(l) of numbers is min(l[0], l[1], ...)
        if kind == "function" and module is None and fname in pybuiltins.NAMES and self.python_libraries is not None \
                and type(node.func) is ast.Name and fname not in self.scope:  # sum(A) of a program: Python's
            found = pybuiltins.call(self, node, fname, args, kwargs, position)
            if found is not pybuiltins.PASS:
                return found
        if kind == "function" and module is not None:  # np.sin(v) of a JAX tracer: TracerArrayConversionError
            vmapping.whiles.numpy_reads(self, module, fname, args, kwargs, position)
        if kind == "method" and not _TORCH_KEYWORDS.isdisjoint(kwargs) and ("torch", fname) in LIBRARY_FUNCTIONS:
            lower = self.lookup("function", fname, "torch", position)  # x.max(dim=1): NumPy's methods have no dim=
        else:
            lower = self.lookup(kind, fname, module, position)
        argspec.check(self, kind, fname, module, args, kwargs, position)  # what the library named requires
        if kwargs:  # the keywords the library named takes, its operands by keyword passed on by position
            args, kwargs = argspec.library_keywords(self, kind, fname, module, args, kwargs, position)
        if kwargs and fname in argspec.TORCH_SECOND_OPERAND:  # torch.mm(A, mat2=B): PyTorch's name of B
            kwargs = argspec.torch_operand_keywords(self, kind, module, fname, kwargs)
        if kwargs and "b" in kwargs and kind == "function":  # np.dot(a=A, b=B): NumPy's and JAX's names
            kwargs = argspec.ab_operand_keywords(module, fname, kwargs)
        if kind == "method" and fname == "copy" and type(args[0]) is Items and args[0].display == "list" \
                and len(args) == 1 and not kwargs:  # R.copy() of Python's list: a new list of the very items
            self.mark(node, "list")
            return trees.written(Items(list(args[0])), "list")
        if kind == "method" and isinstance(args[0], Items):
            raise JacValueError(f"a list or tuple of arrays has no method '.{fname}()'; index it first (parts[0])",
                                position)
        if kind == "method" and fname == "argsort" and self.jax_reading and len(args) < 3 \
                and not {"kind", "stable"} & set(kwargs):  # a JAX array's argsort is stable (NumPy's: quicksort)
            kwargs = {**kwargs, "stable": True}
        if len(args) > 2 and fname in NUMPY_AFTER_AXIS and self.b.library != "jax.lax":  # np.sum(x, 0, int): NumPy's third is dtype, PyTorch's keepdim
            numpy = self.b.library == "numpy" or (kind == "method" and self.dialect == "numpy")
            args, kwargs = numpy_positional(fname, args, kwargs, numpy, position)
        if len(args) == 3 and (module == "torch" or kind == "method"):  # torch.softmax(x, -1, torch.float64)
            args, kwargs = torch_positional_dtype(fname, args, kwargs)
        if kwargs and "dtype" in kwargs and fname in DTYPE_FIRST \
                and (fname not in TORCH_DTYPE_FIRST or self.b.library in ("torch", "method")):  # x.sum(dtype=...)
            return dtype_first(self.b, fname, lower, args, kwargs, position)
        if kwargs and "precision" in kwargs and module in ("jnp", "jax.numpy", "jnp.linalg", "jax.numpy.linalg",
                                                           "jax.image"):
            written = next((k.value for k in node.keywords if k.arg == "precision"), None)  # [..]: a list refused
            kwargs = jaximage.without_precision(kwargs, position, written)  # jnp.einsum(..., precision=lax.Precision.HIGHEST)
        if kwargs and "dtype" in kwargs and module == "scipy.special" and argspec.scipy_ufunc(fname):
            return numpy_dtype(self.b, fname, lower, args, kwargs, position)  # scipy.special.expit(x, dtype=...)
        if kwargs and "dtype" in kwargs and (self.b.library == "numpy" and module in ("np", "numpy") or kind == "method"
                                             and self.dialect == "numpy" or module in ("jnp", "jax.numpy")
                                             and fname in NUMPY_DTYPE_REDUCTIONS | NUMPY_DTYPE_CASTS) \
                and numpy_takes_dtype(fname, kind):
            return numpy_dtype(self.b, fname, lower, args, kwargs, position)  # np.exp(x, dtype=np.float64)
        found = lower(self.b, args, kwargs, position)
        if self.inference and fname in inference.COPIES and type(found) is Tracer:  # f(x).clone(): a normal tensor
            found = inference.copied(self, found, position)
        if self.folded and type(found) is Tracer:  # jnp.array([1.0, 2.0]): one array, as meant (.trees)
            self.folded.discard(found.id)
        return found

    def python_iterated(self, node: ast.expr, value, fname: str, position: int):
        """The argument of Python's ``sum`` / ``max`` / ``min`` / ``any`` / ``all``, which iterate it: a list or
        tuple of arrays (or a generator of them) that the parse holds as one array of them (all constants:
        ``[np.ones(4) * i for i in range(3)]``) given as its items, so that ``sum([a, b])`` is ``a + b`` as in
        Python, not every element's sum (a name holding an array is jac's reduction: ``sum(x * x)``); a list of
        lists refused, as Python adds or compares the lists themselves, not their numbers."""
        if type(value) is not Tracer or value.ndim < 2 or not (
                isinstance(node, ast.GeneratorExp) or self.python_kind(node, value) in ("list", "tuple")):
            return value
        inner = self.held.get(value.id)
        if inner is not None and any(kind in ("list", "tuple", "range") for kind, _ in inner):
            raise JacValueError(f"{fname}() of a list of lists: Python {'adds' if fname == 'sum' else 'compares'} "
                                "the lists themselves, not their numbers"
                                f"{' (0 + [...] raises TypeError)' if fname == 'sum' else ''}; for the numbers write "
                                f"np.{fname}(np.array(...))", position)
        return FUNCTIONS["list"](self.b, [value], {}, position)

    def compared_items(self, items: Items, fname: str, position: int) -> list:
        """``min(l)`` / ``max(l)`` of a list or tuple of numbers: its items, compared as ``min(a, b, ...)`` compares
        them (Python's first least or greatest); an empty one, or one holding arrays, refused as Python raises."""
        if not len(items):
            raise JacValueError(f"{fname}() arg is an empty sequence (Python's ValueError)", position)
        if any(isinstance(i, (Items, Dict)) or type(i) is Tracer and i.ndim != 0 or i is None for i in items):
            raise JacValueError(f"{fname}() needs numbers here, not a list or tuple of arrays: Python compares them "
                                f"whole (an array's truth is ambiguous, ValueError); for the numbers write "
                                f"np.{fname}(np.array(...))", position)
        return list(items)

    def custom_call(self, node: ast.Call, kind: str, fname: str | None, kids: list, position: int):
        """``F.apply(x)`` of a ``torch.autograd.Function`` and ``jax.custom_vjp(f)`` (:mod:`.custom`); None for any
        other call."""
        rule = custom.spelling(self, node.func)
        owner = kids[0] if kind == "method" and kids and isinstance(kids[0], custom.VALUES) else None
        if rule is None and owner is None:
            return None
        if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):
            raise JacParseError("'*' and '**' unpacking in this call are not supported", position)
        rest = kids[1:] if owner is not None else kids
        args = rest[: len(rest) - len(node.keywords)]
        kwargs = {k.arg: v for k, v in zip(node.keywords, rest[len(args):])}
        if rule is not None:
            return custom.make_vjp(self, args, kwargs, position, rule)
        if isinstance(owner, custom.FunctionClass) and fname == "apply":
            return custom.call(self, custom.Apply(owner), args, kwargs, position)
        raise JacValueError(f"{ast.unparse(node.func)}(...) is not read here: jac reads F.apply(...), "
                            f"ctx.save_for_backward(...) and f.defvjp(fwd, bwd) as statements of their own", position)

    def tree_call(self, node: ast.Call, kind: str, fname: str | None, kids: list, position: int):
        """The calls of dicts and pytrees (:mod:`.trees`): ``jax.tree_util.tree_map(...)``, ``dict(...)``,
        ``d.keys()``, ``len(d)``; a dict given to any other function refused. None for any other call."""
        spelling = self.tree_spelling(node.func)
        if kind == "function" and fname == "stop_gradient" and len(kids) == 1 and not node.keywords \
                and isinstance(kids[0], (Dict, Items)) and type(node.func) is ast.Attribute \
                and LIBRARIES.get(self.module_path(node.func.value)) == "jax.lax":  # of a pytree: of each leaf, as JAX
            lower = self.lookup("function", fname, self.module_path(node.func.value), position)
            leaves, tree = trees.flatten(trees.unfolded(self, kids[0]), f"{ast.unparse(node.func)}'s tree", position,
                                         folded=self.folded)
            return trees.unflatten(tree, [lower(self.b, [leaf], {}, position) for leaf in leaves])
        keys = kind == "function" and fname in ("list", "tuple", "sorted") and len(kids) == 1 \
            and type(kids[0]) is Listed and all(isinstance(k, Static) for k in kids[0])  # list(d.keys())
        if spelling is None and not any(type(k) is Dict for k in kids) and not keys and not (
                kind == "function" and fname == "dict" and type(node.func) is ast.Name and "dict" not in self.scope):
            return None
        if any(k.arg is None for k in node.keywords) or any(type(a) is _Unpacked for a in kids):
            raise JacParseError("'*' and '**' unpacking in this call are not supported", position)
        args = kids[: len(kids) - len(node.keywords)]
        kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(args):])}
        if _dict_of_zip(node):  # dict(zip(keys, values)): zip's pairs, as a for loop reads them
            args = [Listed(self.items_of(node.args[0], "dict(...)"))]
        if spelling is not None:
            return trees.lower(self, spelling, args, kwargs, position)
        if kind == "function" and type(node.func) is ast.Name and fname not in self.scope:
            if fname == "dict":
                return trees.make(self, args, kwargs, position)
            if fname == "len" and len(args) == 1 and not kwargs:
                return self.number(len(args[0]), position)
            if keys and not kwargs:
                return Listed(sorted(args[0], key=lambda k: k.value) if fname == "sorted" else args[0])
            if fname in ("list", "tuple", "sorted") and len(args) == 1 and not kwargs:  # list(d): its keys
                keys = args[0].keys()
                return Listed(Static(k) if isinstance(k, str) else self.number(k, position)
                              for k in (sorted(keys) if fname == "sorted" else keys))
        if kind == "method" and type(kids[0]) is Dict:
            return trees.method(self, kids[0], fname, args[1:], kwargs, position)
        if kind == "method" and (plain.plain_instance(kids[0]) or isinstance(kids[0], PlainClass)) \
                or type(node.func) is ast.Name and isinstance(self.scope.get(fname), PlainClass):
            return None  # opt.step(grads), View(d): a plain class's method or constructor takes a dict (lang/plain.py)
        if type(node.func) is ast.Name and self.is_callable(self.scope.get(fname)) or \
                kind == "other" and self.made_callable(node.func):
            return None  # f(params): a function of the text takes a dict
        trees.refuse_array_use(kids, f"{ast.unparse(node.func)}(...)", position)
        return None

    def attribute(self, node: ast.Attribute, kids: list):
        position = self.source.end(node) - len(node.attr)
        if not kids:  # a module attribute: np.pi, torch.e
            if node.attr in CONSTANTS:
                return self.b.const(CONSTANTS[node.attr], position)
            if node.attr in DTYPES:  # torch.int is int32, Python's int (and np.int_) int64
                return Static(DType(node.attr, DTYPES[node.attr], LIBRARIES.get(self.module_path(node.value))))
            if node.attr == "newaxis":  # x[:, np.newaxis]
                return None
            module = self.module_path(node.value)
            if node.attr == "RoundingMethod" and LIBRARIES.get(module) == "jax.lax":  # its members (.laxmore)
                return laxmore.ROUNDING
            if node.attr == "Precision" and LIBRARIES.get(module) == "jax.lax":  # lax.Precision.HIGHEST (.jaximage)
                return jaximage.PRECISION
            if node.attr == "ResizeMethod" and LIBRARIES.get(module) == "jax.image":  # its members (.jaximage)
                return jaximage.RESIZE_METHOD
            if node.attr == "GatherScatterMode" and LIBRARIES.get(module) == "jax.lax":  # its members (.gathers)
                return gathers.MODES
            if node.attr in ("s_", "index_exp") and LIBRARIES.get(module) == "numpy":  # x[np.s_[1:3]]
                return IndexExpression(node.attr == "index_exp")
            if node.attr in TENSOR_TYPES and module == "torch":  # x.type(torch.DoubleTensor): a dtype
                return Static(DType(TENSOR_TYPES[node.attr], DTYPES[TENSOR_TYPES[node.attr]], "torch"))
            if module is None:  # jax.lax.stop_gradient(x), scipy.stats...: jax and scipy are jac modules' roots
                module = node.value.id
                raise JacNameError(_module_message(f"{module}.{node.attr}", node.attr), position)
            if id(node) in self.library_arguments and (
                    node.attr in FUNCTIONS or library_function(library_of(module), node.attr) is not None):
                return derivatives.LibraryFunction(module, node.attr)  # tree_map(jnp.zeros_like, params) (.trees)
            if node.attr in UFUNCS and LIBRARIES.get(module) == "numpy":  # np.add.outer(a, b): waits for its method
                return Ufunc(module, node.attr)
            if node.attr in _SUBMODULES:  # torch.fft.fft(x), np.polynomial...: a module jac lacks, not a constant
                raise JacNameError(_module_message(f"{module}.{node.attr}", node.attr), position)
            if node.attr in FUNCTIONS or library_function(library_of(module), node.attr) is not None:
                raise JacNameError(f"'{module}.{node.attr}' is a function: call it, as in {module}.{node.attr}(x); "
                                   "jac has no functions as values (one is an argument only of the transforms and loops jac reads, "
                                   "as np.apply_along_axis(np.sum, 0, A))", position)
            raise JacNameError(f"'{node.attr}' is not a known constant of {module}; functions must be called",
                               position)
        value = kids[0]
        if type(value) is TreeDef and node.attr == "num_leaves":  # jax.tree_util.tree_structure(p).num_leaves
            return self.number(value.num_leaves, position)
        if isinstance(value, custom.VALUES):  # ctx.saved_tensors, F.apply (lang/custom.py)
            return custom.attribute(self, value, node.attr, position)
        if value is jaximage.PRECISION:  # lax.Precision.HIGHEST: a precision= a JAX matrix product drops on the CPU
            return jaximage.precision_member(node.attr, position)
        if value is jaximage.RESIZE_METHOD:  # jax.image.ResizeMethod.LINEAR: the method resize reads
            return jaximage.resize_member(node.attr, position)
        if value is laxmore.ROUNDING:  # lax.RoundingMethod.TO_NEAREST_EVEN: its number, which lax.round reads
            return self.number(laxmore.rounding_method(node.attr, position), position)
        if value is gathers.MODES:  # lax.GatherScatterMode.CLIP: its string, which lax.gather's mode= reads
            return gathers.mode_member(node.attr, position)
        if isinstance(value, Items):
            if value.record is not None:  # s.x, s.energy, s.step of a NamedTuple's instance (lang/plain.py)
                return plain.record_attribute(self, value, node.attr, position)
            return value.field(node.attr, position)
        if isinstance(value, distributions.Distribution):  # dist.mean, dist.stddev (.distributions)
            return distributions.attribute(self.b, value, node.attr, position)
        if isinstance(value, Module) and value.parameter(node.attr) is not None:  # fc.weight of fc = nn.Linear(...)
            return value.parameter(node.attr)
        buffer = value.buffer(self.b, node.attr, position) if isinstance(value, Module) else None
        if buffer is not None:  # bn.running_mean
            return buffer
        if isinstance(value, (PlainClass, plain.Super)) or isinstance(value, Instance) \
                and isinstance(value.cls, PlainClass):  # kf.F, self.t, Kalman.DIM, a @property (lang/plain.py)
            return plain.attribute(self, value, node.attr, position)
        if isinstance(value, (Module, Sequential, Instance)) and node.attr == "training" \
                and not (isinstance(value, Instance) and "training" in value.attributes):  # if self.training:
            return value.training
        if isinstance(value, Sequential) and node.attr in value.names:  # model.fc1 of nn.Sequential(OrderedDict(...))
            return value.named(node.attr)
        if isinstance(value, (Module, Sequential)):
            what = "parameter" if isinstance(value, Module) else "module"
            raise JacNameError(f"nn.{value.cls} has no {what} '{node.attr}' jac reads (it has "
                               f"{', '.join((value.params if isinstance(value, Module) else value.names)) or 'none'})",
                               position)
        if isinstance(value, Instance):  # self.fc1, net.fc1.weight
            if node.attr not in value.attributes:
                raise JacNameError(f"{value.cls.name} has no attribute '{node.attr}' set in its __init__ (jac reads "
                                   f"self.NAME = ... there)", position)
            found = value.attributes[node.attr]
            return found.read() if type(found) is Parameters else found  # self.ps: the dict or list of them
        if node.attr == "at" and type(value) is Tracer:  # JAX's x.at[idx].set(v)
            return At(value)
        part = pair_attribute(value, node.attr, position)
        if part is not None:
            return part
        if node.attr == "T" and isinstance(value, Tracer):
            return transpose_all(self.b, value, position)
        if node.attr in ("mT", "mH") and isinstance(value, Tracer):  # PyTorch: the last two axes swapped
            return matrix_transpose(self.b, value, position, f".{node.attr}")
        if node.attr == "H" and isinstance(value, Tracer):  # PyTorch's x.H: a matrix's (real: plain) transpose
            if value.ndim != 2:
                raise JacShapeError(f".H is only for matrices (2 dimensions), as in PyTorch; got shape "
                                    f"{fmt(value.shape)} (x.mH swaps the last two axes of any batch)", position)
            return matrix_transpose(self.b, value, position, ".H")
        if node.attr in ("requires_grad", "is_leaf") and type(value) is Tracer:  # if p.requires_grad: PyTorch's flag
            return freeze.flag(self.b, value, node.attr)
        if node.attr in ATTRIBUTES and isinstance(value, Tracer):  # x.shape, x.ndim, x.size: constants
            return ATTRIBUTES[node.attr](self.b, value, position)
        if node.attr in FUNCTIONS:
            raise JacNameError(f"'{node.attr}' is a method; call it, as in x.{node.attr}()", position)
        raise JacNameError(unknown_message(f"attribute '.{node.attr}'", node.attr, "(jac knows .T and method calls)"),
                           position)

    def slice_value(self, node: ast.Slice, kids: list):
        parts = iter(kids)
        with reads_as(self.b, "slice"):  # x[:n] of a traced n: JAX's IndexError
            bounds = [self.index_int(next(parts), self.source.at(node)) if p is not None else None
                      for p in (node.lower, node.upper, node.step)]
        if bounds[2] == 0:
            raise JacValueError("slice step must not be 0", self.source.at(node))
        return slice(*bounds)

    def index_int(self, value, position: int) -> int:
        found = data_index(self.b, value, position)
        if found is not None:  # x[i] with i=2 bound: an integer given as an input
            if found.ndim == 0 and float(found).is_integer():
                return int(found)
            raise JacValueError(f"index {found.tolist()} is not an integer", position)
        node = self.b.nodes[value.id] if isinstance(value, Tracer) else None
        if node is not None and node.op not in ("const", "input"):
            found = run_time_int(self.b, value, "an index", position)  # x[int(t.argmax())]: read at the values
            if found is not None:
                return found
            raise JacValueError("indices must be integer constants: jac takes an index computed from the inputs only "
                                "where it reads, made by argmax / argmin / argsort / topk's indices and in range of "
                                "the axis it indexes (x[torch.argmax(x)], y[y.argsort()], A[:, A[0].argsort()]), "
                                "and where it writes only by a 1-d index array of distinct values (y[x.argsort()[:2]] = v); torch.gather / np.take_along_axis pick along an "
                                "axis, torch.where(mask, a, b) chooses by a condition", position)
        if node is None or node.op != "const" or np.ndim(node.value) != 0:
            raise JacValueError(f"indices must be integer constants{input_not_constant(self.b, value)}", position)
        v = node.value.item() if isinstance(node.value, np.ndarray) else node.value
        if isinstance(v, float) and not v.is_integer():
            raise JacValueError(f"index {v} is not an integer", position)
        return int(v)

    def subscript(self, node: ast.Subscript, kids: list):
        if type(kids[0]) is Instance and plain.plain_instance(kids[0]):  # series[i]: __getitem__ (lang/plain.py)
            if len(kids) != 2:
                raise JacParseError("obj[i, j] of an instance: jac passes one index to __getitem__; write obj[(i, j)]",
                                    self.source.at(node))
            return plain.getitem(self, kids[0], kids[1], self.source.at(node))
        value, parts = kids[0], self.unpacked(kids[1:])  # x[*idx]: x[idx[0], idx[1]], as Python 3.11
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else (node.slice,)
        for item, part in zip(items, kids[1:] if not any(isinstance(i, ast.Starred) for i in items) else ()):
            self.float_index(item, part)
        if isinstance(node.slice, ast.List) and any(isinstance(e, (ast.List, ast.Tuple)) for e in node.slice.elts):
            raise JacValueError("a nested list as the only index reads two ways: NumPy takes it as one index array, "
                                "PyTorch as one index list per axis (x[[0, 1], [1, 2]]); write the latter, or "
                                "x[np.array([[0, 1], [1, 2]])] for the index array", self.source.at(node.slice))
        parts = self.index_tuple(node.slice, parts)  # idx = (0, 1); x[idx]: x[0, 1]
        position = self.source.at(node.slice)
        if type(value) is IndexExpression:  # np.s_[1:3] is the slice 1:3; np.s_[1:3, 0] and np.index_exp[...] tuples
            if len(parts) == 1 and not isinstance(node.slice, ast.Tuple) and not value.always_tuple:
                return parts[0]
            return Items(parts)
        if isinstance(value, Listed):  # layers[0] of a list of modules
            if len(parts) != 1 or not isinstance(parts[0], slice) and parts[0] is None:
                raise JacValueError("a list of modules is indexed with one integer or a slice", position)
            key = parts[0] if isinstance(parts[0], slice) else self.index_int(parts[0], position)
            if isinstance(key, slice):
                return Listed(tuple.__getitem__(value, key))
            if not -len(value) <= key < len(value):
                raise JacValueError(f"index {key} is out of range for a list of {len(value)} modules", position)
            return value[key]
        if isinstance(value, Sequential):  # model[0], model[-1], model[:2], heads['a']
            if len(parts) != 1 or parts[0] is None:
                raise JacValueError(f"nn.{value.cls} is indexed with one integer, a slice or a name", position)
            key = parts[0]
            if isinstance(key, Static) and isinstance(key.value, str):
                key = key.value
            elif not isinstance(key, slice):
                key = self.index_int(key, position)
            return value.item(key, position)
        if isinstance(value, At):
            if len(parts) == 1 and isinstance(parts[0], Items):  # x.at[jnp.diag_indices(3)]: x.at[idx[0], idx[1]]
                parts = list(parts[0])
            try:
                with reads_as(self.b):  # JAX's x.at[i] takes a traced i
                    targets, read = self.written(value.array, parts, "x.at[...]", position)
            except JacShapeError:  # an index out of bounds: JAX's mode= says what it reads (.scatter)
                found = self.at_out_of_bounds(value.array, parts, position)
                if found is None:
                    raise
                return found
            return AtIndex(value.array, targets, read())
        if type(value) is Dict:  # params['W'] (.trees)
            if len(parts) != 1:
                raise JacValueError("a dict is indexed with one key (params['W'])", position)
            return value.get(trees.key_of(self.b, parts[0], position), position)
        if isinstance(value, Items):
            if len(parts) == 1 and isinstance(parts[0], slice):  # parts[1:], parts[::-1]: a tuple, as Python's
                return trees.written(Items(tuple.__getitem__(value, parts[0])), "list") if value.display == "list" \
                    else Items(tuple.__getitem__(value, parts[0]))  # a list's slice: a new list
            if len(parts) != 1 or parts[0] is None:
                raise JacValueError("a tuple result is indexed with one integer (parts[0]) or a slice (parts[1:])", position)
            with reads_as(self.b, "index"):  # a tuple indexed by a traced int: JAX's TracerIntegerConversionError
                key = self.index_int(parts[0], position)
            return value.part(key, position)
        if not isinstance(value, Tracer):
            raise JacValueError("only arrays can be indexed", position)
        if (self.dialect == "torch" or self.saving or self.tensor_only) and not self.jax_reading \
                and (self.python_libraries is None or self.python_libraries <= _TORCH_ONLY) \
                and self.python_kind(node.value, value) is None \
                and any(type(p) is slice and p.step is not None and p.step < 0 for p in parts):
            # (tensor_only: a text naming no library that calls t.exp(), which NumPy's ndarray lacks: PyTorch's)
            raise JacValueError("step must be greater than zero: PyTorch's tensors take no negative step (its "
                                "ValueError); write x.flip(dim) to reverse, or a NumPy text (np. calls) for NumPy's "
                                "reading", position)
        if len(parts) == 1 and type(parts[0]) is Tracer and self.python_kind(node.value, value) is not None:
            # [1., 2., 3.][i] of Python's numbers (one constant array to jac) by an array: Python calls i.__index__,
            # of a JAX tracer TracerIntegerConversionError (jit, vmap, a loop's body)
            record_read(self.b, parts[0], position, "index")
        if len(parts) == 1 and type(parts[0]) is Items and parts[0].display == "list" \
                and not any(isinstance(p, Tracer) and p.ndim for p in parts[0]):  # x[R[0]] of Python's numbers
            parts = [pylists.index_array(self, parts[0], position)]  # NumPy's index array, not a tuple of indices
        # (a list of arrays, S[list(torch.tril_indices(3, 3))], stays PyTorch's tuple of indices, as below)
        if len(parts) == 1 and isinstance(parts[0], Items):  # x[tuple(idx)], x[np.triu_indices(3)]: x[idx[0], idx[1]]
            parts = list(parts[0])
        item = pair_item(self.b, value, parts, position)
        if item is not None:
            return item
        if any(is_boolean(self.b, p) for p in parts):
            return self.masked(value, parts, position)
        if parts and self.computed_index(value, parts[0]):
            return self.at_computed_index(value, parts, position)
        spots = [k for k, p in enumerate(parts) if self.computed_array(p, position)]
        if spots:  # y[y.argsort()], A[:, idx], x[torch.topk(x, 2).indices]: a gather read at evaluation
            return self.at_computed_array(value, parts, spots, position)
        index = expand_ellipsis(tuple(self.index_item(p, position) for p in parts), value.ndim, position)
        if self.selects_first(value, index, position):  # PyTorch's x[0, :, [1, 2]]: x[0][:, [1, 2]]
            first, index = _integers_first(index)
            value = self.b.apply("getitem", value, index=first, position=position)
        return self.b.apply("getitem", value, index=index, position=position)

    def selects_first(self, value: Tracer, index: tuple, position: int) -> bool:
        """Whether ``value[index]`` is read as PyTorch reads an integer beside an index array: a selection
        made first, the arrays applied to what is left (NumPy counts the integer among the advanced indices,
        whose dims go first when they are apart: ``x[0, :, [1, 2]]`` of a (2, 3, 4) array is (2, 3) in NumPy,
        (3, 2) in PyTorch). Where the two layouts differ, a text naming one library gets that library's and
        a text naming neither is refused; where they agree, NumPy's single index is kept."""
        if not any(type(i) is int for i in index) or not any(type(i) is np.ndarray for i in index):
            return False
        numpy_items, torch_items, axis = [], [], 0
        for k, i in enumerate(index):
            if i is None:
                item = ("new", k)
            elif type(i) is np.ndarray or type(i) is int:
                item = ("advanced", None)
            else:
                item = ("dim", axis)
            axis += i is not None
            numpy_items.append(item)
            if type(i) is not int:
                torch_items.append(item)
        if _index_layout(numpy_items) == _index_layout(torch_items):
            return False
        if self.dialect is None:
            first, rest = _integers_first(index)
            shapes = ""
            if is_concrete(value.shape):
                ours, theirs = index_shape(value.shape, index), index_shape(index_shape(value.shape, first), rest)
                shapes = f" (NumPy's shape {fmt(ours)}, PyTorch's {fmt(theirs)})" if ours != theirs else \
                    f" (both of shape {fmt(ours)}, with the axes in another order)"
            raise JacValueError(
                f"this index reads two ways{shapes}: NumPy counts an integer beside an index array among the "
                "advanced indices, whose dims then go first; PyTorch selects with the integer first. Name the "
                "library (np. or torch. in the text), or write the selection first (x[0][:, [1, 2]]) for "
                "PyTorch's reading", position)
        return self.dialect == "torch"

    def computed_index(self, value, part) -> bool:
        """Whether ``part``, the first index of ``value``, is one integer the graph computes that is in
        range for every value of the inputs: argmax / argmin of ``value.shape[0]`` elements (the
        flattened array, or one axis of a vector), as x[torch.argmax(x)], x[np.argmin(y)]."""
        if not isinstance(part, Tracer) or isinstance(part, Items) or part.ndim != 0 or not value.ndim:
            return False
        node = self.b.nodes[part.id]
        if node.op not in ("argmax", "argmin"):
            return False
        source = self.b.nodes[node.args[0]].shape
        axis = node.params["axis"]
        picked = source[axis] if axis is not None else source[0] if len(source) == 1 else \
            (int(np.prod(source)) if all(isinstance(d, int) for d in source) else None)
        return picked is not None and picked == value.shape[0]

    def at_computed_index(self, value, parts, position: int):
        """``value[i, rest...]`` for a computed index ``i`` (:meth:`computed_index`): the rest first, then
        the element at ``i`` along axis 0, read at evaluation (``take_along``: its derivative flows to
        that element only, as PyTorch's); the result's shape never depends on ``i``'s value."""
        rest = parts[1:]
        if any(p is None or p is Ellipsis or not (isinstance(p, slice) or isinstance(p, Tracer)
                                                   and self.b.nodes[p.id].op == "const"
                                                   and np.ndim(self.b.nodes[p.id].value) == 0) for p in rest):
            raise JacValueError("an index computed from the inputs (argmax, argmin) is taken first and alone, or "
                                "followed by integers and slices (x[torch.argmax(x)], A[A[:, 0].argmax(), 1:]); "
                                "for more, torch.gather / np.take_along_axis with keepdim=True indices",
                                position)
        if len(parts) > value.ndim:
            raise JacShapeError(f"too many indices: {len(parts)} for an array of {value.ndim} dimension"
                                f"{'s' if value.ndim > 1 else ''} (shape {fmt(value.shape)})", position)
        if rest:
            index = (slice(None),) + tuple(self.index_item(p, position) for p in rest)
            value = self.b.apply("getitem", value, index=expand_ellipsis(index, value.ndim, position),
                                 position=position)
        at = self.b.apply("reshape", parts[0], shape=(1,) * value.ndim, position=position)
        picked = self.b.apply("take_along", value, at, axis=0, position=position)
        return self.b.apply("reshape", picked, shape=tuple(value.shape[1:]), position=position)

    def computed_array(self, part, position: int) -> bool:
        """Whether ``part`` is an integer index array (one axis or more) the graph computes from the inputs
        (argsort, ``sort(...).indices``, ``topk(...).indices``, argmax with a dim, moved or sliced): PyTorch
        and NumPy index with its values, piecewise constant in the inputs. An index bound as an input
        (:func:`data_index`, read at the values given) and a mask are not."""
        return computed_index(self.b, part, position)

    def index_bound(self, part) -> int | None:
        """``n`` when every value ``part`` can hold is in 0..n-1 whatever the inputs: made by an index op along
        an axis of n elements (argsort, argpartition, argmax / argmin, the median's, the mode's: of the
        flattened array without an axis) and then only moved, sliced, gathered or reshaped. None otherwise
        (arithmetic on the indices, searchsorted's n, a concatenation)."""
        node = self.b.nodes[part.id]
        while node.op in _INDEX_KEEPING:
            node = self.b.nodes[node.args[0]]
        if node.op not in _BOUNDED_INDEX_OPS:
            return None
        source = self.b.nodes[node.args[0]].shape
        axis = node.params.get("axis")
        if axis is None:  # of the flattened array: a symbolic size only of a vector
            return source[0] if len(source) == 1 else math.prod(source) if is_concrete(source) else None
        return source[axis]

    def at_computed_array(self, value, parts, spots, position: int):
        """``value[..., idx, ...]`` for one integer index array ``idx`` computed from the inputs
        (:meth:`computed_array`) beside slices, ``...`` and integers: the integers and slices applied first,
        then a ``take_along`` by ``idx`` (flattened) along its axis, reshaped to PyTorch's and NumPy's layout
        (``idx``'s shape in place of that axis). The gather reads the indices at evaluation, so a compiled
        function recomputes them at every call; its derivative goes to the elements picked, as PyTorch's.
        The indices must be in range for every value of the inputs (:meth:`index_bound`): jac refuses an index
        that could be out of range rather than check it at each call."""
        other = [p for k, p in enumerate(parts) if k != spots[0]]
        if len(spots) > 1 or any(p is None or isinstance(p, Tracer) and p.ndim for p in other):
            raise JacValueError("an index array computed from the inputs (argsort, topk's indices, argmax with a dim) "
                                "is taken with slices, '...' and integers beside it only, one such array at a time "
                                "(y[y.argsort()], A[:, idx], A[idx, 0]); index again for more "
                                "(A[idx][:, [0, 2]])", position)
        idx = parts[spots[0]]
        marker = slice(None)
        items = tuple(marker if k == spots[0] else self.index_item(p, position) for k, p in enumerate(parts))
        if any(type(i) is not int and not isinstance(i, slice) and i is not Ellipsis for i in items):
            raise JacValueError("an index array computed from the inputs is taken with slices, '...' and integers "
                                "beside it only (y[y.argsort()], A[:, idx], A[idx, 0])", position)
        index = expand_ellipsis(items, value.ndim, position)
        if len(index) > value.ndim:
            raise JacShapeError(f"too many indices: {len(index)} for an array of {value.ndim} dimension"
                                f"{'s' if value.ndim != 1 else ''} (shape {fmt(value.shape)})", position)
        spot = next(k for k, i in enumerate(index) if i is marker)
        ints = [k for k, i in enumerate(index) if type(i) is int]
        axis = sum(1 for i in index[:spot] if type(i) is not int)
        advanced = sorted(ints + [spot])
        if axis and advanced != list(range(advanced[0], advanced[-1] + 1)):
            raise JacValueError(
                "this index reads two ways: NumPy counts an integer beside an index array among the advanced "
                "indices, whose dims then go first when a slice stands between them; PyTorch selects with the "
                "integer first. Write the selection first (A[0][:, idx])", position)
        if ints or any(i != slice(None) for i in index if i is not marker):
            value = self.b.apply("getitem", value, index=tuple(slice(None) if i is marker else i for i in index),
                                 position=position)
        n = value.shape[axis]
        bound = self.index_bound(idx)
        if idx.ndim > 1 and not (is_concrete(value.shape) and is_concrete(idx.shape)):
            raise JacShapeError(f"an index array of {idx.ndim} dimensions computed from the inputs needs the sizes of "
                                f"the array it indexes and of the indices as numbers, but {fmt(value.shape)} or "
                                f"{fmt(idx.shape)} is symbolic", position)
        if bound is None or bound != n and not (type(bound) is int and type(n) is int and bound < n):
            why = (f"its indices run to {bound - 1 if type(bound) is int else f'{bound} - 1'}, and the axis it indexes "
                   f"has {n} elements (PyTorch raises IndexError at an index past it)") if bound is not None else (
                "jac takes one made by argsort / sort(...).indices / topk(...).indices / argmax or argmin (with a dim) "
                "and then only sliced, flipped, reshaped or gathered, whose values are in range for any inputs")
            raise JacValueError(f"an index array computed from the inputs must be in range for every value of the "
                                f"inputs: {why}; torch.gather / np.take_along_axis pick along an axis", position)
        if idx.ndim == 1:  # the indices along ``axis``, broadcast along the others (symbolic sizes too)
            at = idx if axis == value.ndim - 1 else self.b.apply(
                "getitem", idx, index=(slice(None),) + (None,) * (value.ndim - axis - 1), position=position)
            picked = self.b.apply("take_along", value, at, axis=axis, position=position)
        else:
            at = self.b.apply("reshape", idx, shape=(1,) * axis + (math.prod(idx.shape),)
                              + (1,) * (value.ndim - axis - 1), position=position)
            picked = self.b.apply("reshape", self.b.apply("take_along", value, at, axis=axis, position=position),
                                  shape=tuple(value.shape[:axis]) + tuple(idx.shape) + tuple(value.shape[axis + 1:]),
                                  position=position)
        self.gathered.add((position, picked.id))  # an advanced index: a copy in PyTorch and NumPy, no view of ``value``
        return picked

    def float_index(self, item: ast.expr, part) -> None:
        """Refuse an index written as a float (``x[1.0]``) or as an array of float literals made in place
        (``x[torch.tensor([0., 1.])]``, ``x[np.array([0., 1.])]``, ``x[arange(2.0)]``, ``x[[0., 1.]]``): PyTorch's
        and NumPy's IndexError, whole numbers or not. An integer array is typed (ir/dtypes.py); an array made
        otherwise (``tril_indices``, shape arithmetic) or held in a name is read as before."""
        if isinstance(item, ast.Constant) and type(item.value) is float:
            raise JacValueError(f"index {item.value!r} is a float: PyTorch and NumPy take only integers (and slices, "
                                f"masks) as indices (IndexError); write {int(item.value)}" if item.value.is_integer()
                                else f"index {item.value!r} is not an integer", self.source.at(item))
        b = self.b
        if not isinstance(part, Tracer) or b.nodes[part.id].op != "const" or part.id in b.typed \
                or part.id in b.pyints or part.id in b.booleans or part.ndim == 0:
            return
        func = item.func if isinstance(item, ast.Call) else None
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if (name in _FLOAT_MAKERS or isinstance(item, ast.List)) and _float_literal(item) or \
                name in _EMPTY_FLOAT_MAKERS and _empty_display(item) or \
                name in _FLOAT_ALWAYS and not any(k.arg == "dtype" for k in item.keywords) and \
                (len(item.args) == 1 or name in _FLOAT_ANY_ARGS):  # x[np.ones(2)]: a float array
            raise JacValueError("an index array must have an integer (or bool) dtype: PyTorch and NumPy raise "
                                "IndexError for a float tensor or array, whole numbers or not ('tensors used as "
                                "indices must be long, int, byte or bool tensors'); write integers "
                                "(torch.tensor([0, 1])) or convert with .long()", self.source.at(item))

    def index_item(self, part, position: int):
        if part is None or isinstance(part, slice):
            return part
        if part is Ellipsis:
            return Ellipsis
        node = self.b.nodes[part.id] if isinstance(part, Tracer) else None
        found = data_index(self.b, part, position) if node is not None and node.op != "const" else None
        if found is not None and found.ndim >= 1:  # logp[range(n), labels] with labels=[0, 3, 1] bound
            array = found
            if array.size and not (np.array_equal(array, np.round(array)) and np.all(np.abs(array) < 2**62)):
                raise JacValueError("an index array must hold integers", position)
            return array.astype(np.intp)
        if node is not None and node.op == "const" and np.ndim(node.value) >= 1:  # x[[0, 2]], x[[[0, 1], [1, 2]]]
            array = np.asarray(node.value)
            if array.size and not (np.array_equal(array, np.round(array)) and np.all(np.abs(array) < 2**62)):
                raise JacValueError("an index list must hold integers", position)
            return array.astype(np.intp)
        with reads_as(self.b):  # x[i]: JAX takes a traced i
            return self.index_int(part, position)

    # --- PART elementwise: comparisons, logic on booleans, masks, library names ------------

    def bool_op(self, node: ast.BoolOp, first, position: int):
        """Python's ``a and b`` / ``a or b`` of values known without the inputs' values (x.ndim == 2 and
        x.shape[0] == x.shape[1]): the first operand that decides, as Python, the rest lowered only if it
        does not (a _Branch of them). Arrays of the inputs are refused: their and / or is & and |."""
        try:
            true = self.truth(node.values[0], first, "'and' / 'or'")
        except NeedsValues:
            raise
        except JacValueError:
            raise JacParseError("'and'/'or' of arrays are not supported: for arrays write & and | (with "
                                "parentheses: (x > 0) & (x < 1))", position) from None
        if true == isinstance(node.op, ast.Or):  # a true operand of or, a false one of and: Python stops here
            return first
        rest = _Tail(node.values, 1)  # no copy of the rest: a chain of n operands would copy n²/2 of them
        return _Branch(rest[0] if len(rest) == 1 else ast.copy_location(ast.BoolOp(op=node.op, values=rest), rest[0]))

    def truth(self, test: ast.expr, value, what: str = "'a if test else b'") -> bool:
        """Python's truth of a conditional expression's test (``what``: the construct, for the messages), known
        without the inputs' values (a constant, x.ndim == 1, x.shape[0] > 3, a shape or list: its length); a
        test of the values is refused."""
        position = self.source.at(test)
        if id(test) in self.sequences:
            return len(value) > 0 if isinstance(value, Items) else bool(np.size(self.b.nodes[value.id].value))
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, Static) and isinstance(value.value, (str, int, float)):
            return bool(value.value)
        node = self.b.nodes[value.id] if isinstance(value, Tracer) else None
        if node is None:
            raise JacValueError(f"the test of {what} must be a number or a comparison", position)
        held = node.value
        if node.op == "const" and value.id in self.jax_made:  # if jnp.ones(3)[0] > 0: a tracer under jax.jit
            self.value_tests.append((value.id, position, "test"))
        if node.op != "const":  # a test of the inputs' values: taken at the given values, as PyTorch runs it
            self.value_tests.append((value.id, position, "test"))  # jax.jit / vmap of the function refuse it (.whiles)
            count = math.prod(value.shape) if all(type(d) is int for d in value.shape) else None  # x:n: a size's name
            if count is not None and count != 1:
                raise JacValueError(f"the truth value of an array of {count} elements "
                                    f"is ambiguous (PyTorch and NumPy refuse {what} with it): use .any() or .all(), "
                                    "or torch.where / np.where to choose element by element", position)
            held = self.value_of(value, position, message=(
                f"{what} with a test of the inputs' values: jac takes it at the given values, as PyTorch runs it, and "
                "the result holds for those values only (jac eval, vjp, jvp, hessian, check compute it; jac shape, "
                "jac diff and a compiled function cannot; np.where / torch.where choose element by element for any "
                "values)"))
        if np.size(held) != 1:
            raise JacValueError(f"the truth value of an array of {np.size(held)} elements is ambiguous "
                                f"(PyTorch and NumPy refuse {what} with it): use .any() or .all(), or "
                                "torch.where / np.where to choose element by element", position)
        return bool(np.asarray(held).item())

    def chained(self, node: ast.Compare, kids: list, position: int):
        """``a < b < c``, Python's ``(a < b) and (b < c)``: the first false comparison, or the last, of numbers
        known without the values (``0 < x.ndim < 3``); of arrays of the inputs' values PyTorch and NumPy refuse
        the ``and``, and so does jac, saying what to write."""
        operands = [node.left, *node.comparators]
        pairs = [ast.copy_location(ast.Compare(left=operands[i], ops=[op], comparators=[operands[i + 1]]),
                                   operands[i]) for i, op in enumerate(node.ops)]
        found = None
        for pair, left, right in zip(pairs, kids, kids[1:]):
            found = self.compare(pair, [left, right])
            try:
                true = self.truth(pair, found, "a chained comparison")
            except NeedsValues:
                raise
            except JacValueError:
                written = " & ".join(f"({ast.unparse(p)})" for p in pairs)
                raise JacParseError(f"a chained comparison is Python's 'and' of its comparisons, which PyTorch and "
                                    f"NumPy refuse for arrays of several elements: write {written}",
                                    position) from None
            if not true:
                return found
        return found

    def compare(self, node: ast.Compare, kids: list):
        position = self.source.at(node)
        if len(node.ops) > 1:
            return self.chained(node, kids, position)
        if plain.compares(kids):  # a < b of instances: __lt__ (or b.__gt__), a == b, obj in ... (lang/plain.py)
            return plain.compare(self, node, kids)
        if type(kids[1]) is Dict and type(node.ops[0]) in (ast.In, ast.NotIn):  # 'W' in params (.trees)
            found = trees.key_of(self.b, kids[0], position) in kids[1]
            return found if isinstance(node.ops[0], ast.In) else not found
        if type(node.ops[0]) in (ast.Is, ast.IsNot) and any(k is None for k in kids) \
                and all(k is None or type(k) in (Tracer, Items, Dict, bool) for k in kids):  # n is None: is_leaf's
            return (kids[0] is kids[1]) == (type(node.ops[0]) is ast.Is)
        if any(type(k) is Dict for k in kids):
            trees.refuse_array_use(kids, "a comparison with a dict", position)
        if any(isinstance(k, Static) and isinstance(k.value, str) for k in kids):  # 'bias' in name, name == 'fc.bias'
            return _compare_strings(node.ops[0], kids, position)
        if all(isinstance(k, Static) and isinstance(k.value, DType) for k in kids) \
                and type(node.ops[0]) in (ast.Eq, ast.NotEq, ast.Is, ast.IsNot):  # x.dtype == torch.float32
            return pasted.same_dtype(self.b, type(node.ops[0]) in (ast.Eq, ast.Is), *kids, position)
        op = _COMPARISONS.get(type(node.ops[0]))
        if op is None:
            word = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}.get(type(node.ops[0]), "?")
            raise JacParseError(f"the comparison '{word}' is not supported (use < <= > >= == !=)", position)
        left, right = kids
        if id(node.left) in self.sequences and id(node.comparators[0]) in self.sequences:
            return self.sequence_comparison(node, op, left, right, position)
        marked = [id(side) in self.sequences for side in (node.left, node.comparators[0])]
        if any(marked) and self.python_number(*((node.comparators[0], right) if marked[0] else (node.left, left))):
            return self.number_comparison(node, op, marked, position)
        if not (isinstance(left, Tracer) or isinstance(right, Tracer)):
            raise JacValueError("a comparison needs numbers or arrays on both sides", position)
        start, stop = self.source.end(node.left), self.source.at(node.comparators[0])
        found = self.source.text.find(_COMPARISON_TEXT[op], start, stop)  # the caret under the operator
        out = boolean(self.b, self.b.apply(op, left, right, position=found if found >= 0 else position))
        if argspec.python_number(self.b, left) and argspec.python_number(self.b, right) and type(out) is Tracer:
            self.b.own("pybools")[out.id] = True  # 2.0 > 0.5: Python's bool, no tensor
        return out

    def sized(self, node: ast.Call, value):
        """``torch.Size(seq)``'s check: sizes are integers (PyTorch refuses 2.0); list / tuple take anything."""
        if type(node.func) is ast.Attribute:
            held = self.b.nodes[value.id] if isinstance(value, Tracer) else None
            literal = isinstance(node.args[0], (ast.List, ast.Tuple))  # written [2.0, 3]: not ints
            if held is None or held.op != "const" or np.ndim(held.value) != 1 or \
                    not all(float(v).is_integer() for v in held.value) or \
                    (literal and held.value.size and value.id not in self.b.pyints):
                raise JacValueError("torch.Size() takes integers, as torch.Size([2, 3]) or torch.Size(x.shape)",
                                    self.source.at(node))
        if isinstance(value, Items):  # list(a): a new list, which a.append(...) later leaves as it is
            copied = Items(value)
            copied.fields, copied.display = value.fields, value.display
            return copied
        return value

    def number_comparison(self, node: ast.Compare, op: str, marked: list, position: int):
        """``x.shape[0] == (2, 3)``, ``s != 3`` of a tuple ``s``: Python's comparison of a list or tuple with one of
        its numbers, never equal (one truth value, not NumPy's element by element); ``<`` and the like an error."""
        what = "tuple" if id(node.left if marked[0] else node.comparators[0]) in self.tuples else "list"
        if op not in ("eq", "ne"):
            raise JacValueError(f"'{_COMPARISON_TEXT[op]}' between a Python {what} and a number is an error in Python;"
                                f" to compare element by element make an array first: np.array(...)", position)
        return boolean(self.b, self.b.const(0.0 if op == "eq" else 1.0, position))

    def sequence_comparison(self, node: ast.Compare, op: str, left, right, position: int):
        """``x.shape == (2, 3)``, ``x.shape == torch.Size([2, 3])``: Python's comparison of two tuples (or lists),
        one truth value (a tuple never equals a list, as in Python); not NumPy's element by element."""
        values = []
        for side, value in ((node.left, left), (node.comparators[0], right)):
            held = self.b.nodes[value.id] if isinstance(value, Tracer) else None
            if held is None or held.op != "const" or np.ndim(held.value) != 1:
                raise JacValueError("comparing a list or tuple of arrays is not supported: compare the arrays "
                                    "(torch.equal, np.array_equal, or == element by element)", position)
            values.append(tuple(np.asarray(held.value).tolist()))
        kinds = ["range" if type(value) is Tracer and value.id in self.ranges else id(side) in self.tuples
                 for side, value in ((node.left, left), (node.comparators[0], right))]
        if op not in ("eq", "ne") and "range" in kinds:
            raise JacValueError(f"'{_COMPARISON_TEXT[op]}' of a Python range is an error in Python", position)
        if op in ("eq", "ne"):
            same = kinds[0] == kinds[1] and values[0] == values[1]
            found = same if op == "eq" else not same
        elif kinds[0] != kinds[1]:
            raise JacValueError(f"'{_COMPARISON_TEXT[op]}' between a tuple and a list is an error in Python", position)
        else:
            found = {"lt": values[0] < values[1], "le": values[0] <= values[1], "gt": values[0] > values[1],
                     "ge": values[0] >= values[1]}[op]
        return boolean(self.b, self.b.const(1.0 if found else 0.0, position))  # as x.ndim == 1 is

    def arithmetic(self, op: str, left, right, position: int):
        """``left op right`` for an arithmetic operator (functions.arithmetic: bool + bool is their or); ``@``
        of a float and an integer or bool array as PyTorch or NumPy reads it (functions.one_dtype)."""
        if self.dialect == "torch" and not self.jax_reading and op in _TORCH_BOOL_OPERATORS:  # (x > 0) - (x < 0)
            dtypes.torch_operator(self.b, op, [left, right], position)
        if op == "matmul":
            one_dtype(self.b, "matmul (@)", (left, right), position, operator=True)
        if op == "remainder" and self.remainder_of_dividend:
            return remainder_of_dividend(self.b, left, right, position)
        if self.jax_reading and op in _JAX_OPERATORS:
            return _JAX_OPERATORS[op](self.b, left, right, position)
        if op == "pow" and self.dialect == "torch":  # x ** s of a tensor s is C's pow, of a number NumPy's
            return torch_power(self.b, left, right, position)
        return arithmetic(self.b, op, left, right, position)

    def logical_operator(self, node: ast.BinOp, kids: list):
        position = self.operator_position(node)
        if any(type(k) is bool for k in kids) and any(type(k) is Tracer and is_boolean(self.b, k) for k in kids):
            kids = [boolean(self.b, self.b.const(float(k), position)) if type(k) is bool else k
                    for k in kids]  # (x > 0) & True: a mask beside Python's bool, as NumPy and PyTorch take it
        if not all(is_boolean(self.b, k) for k in kids):
            if isinstance(node.op, ast.BitXor):  # x^2 written for a power (MATLAB, LaTeX, Excel)
                raise JacValueError(f"^ is exclusive or in Python, not a power: write {self.operand_text(node.left)}**"
                                    f"{self.operand_text(node.right)} (^, & and | take booleans: comparisons, in "
                                    "parentheses)", position)
            raise JacValueError(f"{_op_text(node.op)} is a logical operator on booleans (comparisons, in parentheses: "
                                "(x > 0) & (x < 1)); jac's numbers are floats, which have no bitwise operators",
                                position)
        op = {ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor"}[type(node.op)]
        return logical(op, self.b, kids, position)

    def operand_text(self, node: ast.AST) -> str:
        """An operand as written, in parentheses unless it is an atom (``x``, ``2``, ``f(x)``,
        ``x.T``, ``x[0]``): what may stand beside ``**`` in a suggestion."""
        text = ast.get_source_segment(self.source.body, node)  # as split_outputs reads an element
        atom = isinstance(node, (ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.Subscript))
        return text if atom and "\n" not in text else f"({' '.join(text.split())})"

    def masked(self, value: Tracer, parts: list, position: int):
        """``x[mask]``: the elements where a boolean mask is true, flattened in order (NumPy's and
        PyTorch's boolean indexing); the mask covers the leading axes of ``x``, or, beside other parts
        (``x[None, mask]``, ``x[:, mask]``, ``x[0, mask]``), the axes where it stands."""
        index = self.mask_index(value, parts, position)
        if len(parts) > 1 and self.selects_first(value, index, position):  # PyTorch's x[0, :, mask]
            first, index = _integers_first(index)
            value = self.b.apply("getitem", value, index=first, position=position)
        return self.b.apply("getitem", value, index=index, position=position)

    def mask_index(self, value: Tracer, parts: list, position: int) -> tuple:
        """The integer index of ``value[mask]``: ``np.nonzero`` of the mask's values."""
        if len(parts) != 1:
            return self.masks_among(value, parts, position)
        mask = parts[0]
        if isinstance(mask, Tracer) and self.b.nodes[mask.id].op != "const":
            self.value_tests.append((mask.id, position, "mask"))  # jax.jit / vmap raise (.whiles)
        flags = np.asarray(self.value_of(mask, position)) != 0
        if flags.ndim == 0 or flags.shape != tuple(value.shape[:flags.ndim]):
            raise JacShapeError(f"the boolean mask has shape {fmt(flags.shape)}, which does not match the leading "
                                f"axes of the array, shape {fmt(value.shape)}", position)
        return tuple(np.nonzero(flags))

    def masks_among(self, value: Tracer, parts: list, position: int) -> tuple:
        """The index of ``value[parts]`` where boolean masks stand among other parts: each mask replaced by
        ``np.nonzero`` of its values, the integer arrays of the axes it covers, as NumPy, JAX and PyTorch read
        it (``x[None, mask]`` is ``x[None, *mask.nonzero()]``); each mask's shape checked against those axes."""
        items, masks = [], []
        for part in parts:
            if isinstance(part, Tracer) and is_boolean(self.b, part):
                if self.b.nodes[part.id].op != "const":
                    self.value_tests.append((part.id, position, "mask"))  # jax.jit / vmap raise (.whiles)
                flags = np.asarray(self.value_of(part, position)) != 0
                if flags.ndim == 0:
                    raise JacValueError("a boolean mask must be the whole index (x[mask]), not one of several",
                                        position)
                masks.append((len(items), flags.shape))
                items.extend(np.nonzero(flags))
            else:
                items.append(self.index_item(part, position))
        index = expand_ellipsis(tuple(items), value.ndim, position)
        spot = next((k for k, i in enumerate(items) if i is Ellipsis), len(items))
        for at, shape in masks:
            at += (len(index) - len(items)) if at > spot else 0  # after '...': shifted by its full slices
            axis = sum(1 for i in index[:at] if i is not None)
            if shape != tuple(value.shape[axis:axis + len(shape)]):
                raise JacShapeError(f"the boolean mask has shape {fmt(shape)}, which does not match axes {axis} to "
                                    f"{axis + len(shape) - 1} of the array, shape {fmt(value.shape)} (NumPy's "
                                    "IndexError)", position)
        return index

    def value_of(self, t: Tracer, position: int, what: str | None = None, message: str | None = None):
        """The value of node ``t``: a constant's, or computed from the input values (then the
        graph holds for these values only). ``what`` names the call whose result's shape
        depends on those values, for the refusal where they are not given (or ``message`` says it all)."""
        node = self.b.nodes[t.id]
        if node.op == "const":
            return node.value
        free = not self.of_inputs(t)  # a value JAX traces though no input reaches it (jit's int argument)
        if (self.values is None or self.b.shapes_only) and not free:
            if message is not None:
                raise NeedsValues(message, position)
            if what is not None:
                raise NeedsValues(f"{what} of an array computed from the inputs: the shape of the result depends on "
                                  "their values, so it is known only for given values (jac eval, vjp, jvp, hessian, "
                                  "check compute it; jac shape and jac diff cannot)", position)
            raise NeedsValues("x[mask] with a mask computed from the inputs: the shape of the result depends on "
                              "their values, so it is known only for given values (jac eval, vjp, jvp, hessian, check "
                              "compute it; jac shape and jac diff cannot); where(mask, x, 0) keeps the shape", position)
        if position not in self.b.by_value and not free:  # where it reads them (a loop's test: one place each pass)
            self.b.by_value += (position,)
        memo = self.computed
        found = memo.values
        nodes = self.b.nodes
        needed, pending = set(), [t.id]  # the nodes t needs not computed yet (no walk of the others)
        while pending:
            i = pending.pop()
            if i not in found and i not in needed:
                needed.add(i)
                pending.extend(nodes[i].args)
        uses = {}  # node id -> how many of the nodes still to compute read it
        for i in needed:
            for a in nodes[i].args:
                uses[a] = uses.get(a, 0) + 1
        cap = self.b.max_bytes or DEFAULT_MAX_BYTES
        try:
            with np.errstate(all="ignore"):
                for i in sorted(needed):  # ids are in topological order: arguments first
                    n = nodes[i]
                    if n.op == "input":
                        found[i] = np.asarray(self.values[n.name], dtype=self.b.dtype)
                    elif n.op == "const":
                        found[i] = n.value
                    else:
                        memo.add(i, OPS[n.op].impl(*[found[a] for a in n.args], **n.params))
                    for a in n.args:
                        uses[a] -= 1
                        if not uses[a]:
                            memo.released(a)
                    if memo.total > cap and not memo.trim(uses, t.id, cap):
                        raise JacLimitError(f"the values read at the given inputs here (a test of them, a mask) need "
                                            f"more than {cap:,} bytes at once, over the limit per array; use smaller "
                                            f"inputs, or raise the budget with --max-memory", position)
        finally:
            memo.end_walk()
        return found[t.id]

    def of_inputs(self, t: Tracer) -> bool:
        """Whether an input reaches node ``t``: not so for a node of constants only that is not folded
        (:meth:`Builder.fresh` of a constant: a number JAX traces, :func:`.whiles.traced_constant`), whose value is
        the same at any inputs. Remembered per node (nodes never change)."""
        known, nodes = self.reaches_inputs, self.b.nodes
        pending = [t.id]
        while pending:
            i = pending[-1]
            if i in known:
                pending.pop()
                continue
            args = [a for a in nodes[i].args if a not in known]
            if nodes[i].op == "input" or any(known.get(a) for a in nodes[i].args):
                known[i] = True
            elif args:
                pending.extend(args)
                continue
            else:
                known[i] = False
            pending.pop()
        return known[t.id]

    def lookup(self, kind: str, fname: str, module: str | None, position: int):
        """The lowering of ``fname`` called as ``kind`` from ``module``: the library's own
        reading first (``LIBRARY_FUNCTIONS[(library_of(...), NAME)]``, then its fallback:
        ``torch.linalg`` → ``torch``), then the shared one (``FUNCTIONS[NAME]``)."""
        lib = library_of(module, kind == "method")
        if lib == "method" and fname == "ptp" and self.dialect is not None and not self.jax_reading:
            owner = "numpy.ndarray" if self.dialect == "numpy" else "Tensor"  # JAX's Array keeps .ptp()
            why = "NumPy 2 removed the method ndarray.ptp" if self.dialect == "numpy" else "PyTorch has no ptp"
            raise JacNameError(f"AttributeError: '{owner}' object has no attribute 'ptp' ({why}): write "
                               + ("np.ptp(x, axis=...)" if self.dialect == "numpy" else "x.amax(dim) - x.amin(dim)"),
                               position)
        if lib == "method" and self.dialect is not None \
                and all((other, fname) in LIBRARY_FUNCTIONS for other in PER_LIBRARY):
            lib = self.dialect  # x.std() in a text that calls torch only: torch.std(x), as its author reads it
        self.b.library = FALLBACK.get(lib, lib)  # the library of the call being lowered: its constants' dtypes
        self.b.call = f".{fname}()" if kind == "method" else f"{module}.{fname}" if module else fname
        if lib in LIBRARY_NAMES and fname not in LIBRARY_NAMES[lib]:  # jax.nn.normalize: not PyTorch's normalize
            raise JacNameError(_library_message(module, fname, lib), position)
        found = LIBRARY_FUNCTIONS.get(("torch.aten", fname)) if module == "torch" else None  # ATen's twins of F's
        if found is None:
            found = library_function(lib, fname) if lib is not None or kind != "function" else \
                LIBRARY_FUNCTIONS.get(("builtins", fname))  # float(t): Python's, not the method t.float()
        if found is not None:
            return found
        if lib == "jax.lax":  # lax.max is no reduction: nothing of the shared table
            raise JacNameError(_library_message(module, fname, lib), position)
        if lib == "torch.nn":
            why = refused_recurrent(fname) or refused_module(fname)
            raise JacNameError(why or f"'{module}.{fname}' is not supported by jac: of torch.nn, jac has the modules "
                                      "without parameters (nn.ReLU(), nn.MaxPool2d(2), nn.MSELoss(), ...), the "
                                      "normalizations as made (nn.LayerNorm(8)) and the functions of "
                                      "torch.nn.functional (F.relu(x))", position)
        if lib == "numpy.random":
            raise JacNameError(f"'{module}.{fname}' is not supported by jac: of {module}, jac has rand and randn "
                               "(seeded by --seed)", position)
        if fname in FUNCTIONS:
            return FUNCTIONS[fname]
        if lib == "method":
            lib = None
        readings = [other for other in ("torch", "numpy") if (other, fname) in READINGS]
        if len(readings) == 2 and lib is None:
            raise JacNameError(ambiguous_message(fname, kind), position)
        if readings and lib is None:
            return LIBRARY_FUNCTIONS[(readings[0], fname)]  # one library has it: no other reading
        if readings:  # only another library's reading: not a function of this one
            raise JacNameError(f"'{module}.{fname}' is not supported by jac (only {readings[0]}'s {fname} is)",
                               position)
        what = f"method '.{fname}()'" if kind == "method" else f"function '{module}.{fname}'" if module else \
            f"function '{fname}'"
        raise JacNameError(unknown_message(what, fname, spelled=lambda close: self._spelled(kind, close, module)),
                           position)

    @staticmethod
    def _spelled(kind: str, name: str, module: str | None) -> str:
        """How a "did you mean" names ``name``, a function of the shared table, for a call written
        ``module.fname``: ``'np.sin'`` (np.sinn; a module that got this far reads every name of the table, as
        ``lookup`` shows), ``'.sum()'`` for a method (x.smu()), the bare name for a bare call."""
        return f".{name}()" if kind == "method" else f"{module}.{name}" if module else name


_CHAIN_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
_ITEMS_ARITHMETIC = ("arithmetic on a list or tuple of arrays is not defined; index it first (parts[0]) or make one "
                     "array of it with stack([...]) or cat([...])")
_COMPARISONS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}
_COMPARISON_TEXT = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}


def ambiguous_message(fname: str, kind: str) -> str:
    written = f"x.{fname}()" if kind == "method" else f"{fname}()"
    meanings = "; ".join(f"{'np' if lib == 'numpy' else lib}.{fname}: {READINGS.get((lib, fname), 'its own')}"
                         for lib in ("torch", "numpy"))
    return (f"{written} means different things in PyTorch and NumPy ({meanings}); write torch.{fname}(...) or "
            f"np.{fname}(...) to say which")


_LIBRARY_TITLES = {"jax": "jax.nn", "scipy": "scipy.special", "jax.scipy": "jax.scipy.special", "jax.lax": "jax.lax",
                   "jax.scipy.linalg": "jax.scipy.linalg", "scipy.linalg": "scipy.linalg", "scipy.integrate": "scipy.integrate",
                   "jax.scipy.integrate": "jax.scipy.integrate", **distributions.TITLES,
                   **names34.TITLES, **jaximage.TITLES}


_LIBRARY_HINTS = {
    ("jax", "normalize"): "jax.nn.normalize was the old name of jax.nn.standardize: write jax.nn.standardize(x) "
                          "(PyTorch's F.normalize, x / its norm, is another function)",
    ("jax.scipy", "psi"): "jax.scipy.special has no psi (SciPy's other name of digamma): write "
                          "jax.scipy.special.digamma(x)",
}
# A library's own functions, when jac lacks one of it: what else to write it with (LIBRARY_ENDINGS first)
_ROOT_ENDINGS = {"torch": "torch's functions", "jax": "jnp's functions", "scipy": "NumPy's functions"}
_STATS_ENDINGS = {"jax": "jnp's and jax.scipy.special's functions (gammaln, xlogy, log_ndtr)",
                  "scipy": "NumPy's and scipy.special's functions (gammaln, xlogy, log_ndtr)"}
_LISTED = 40  # a library with more names than this is named by their count, and the few nearest the one written


def _library_message(module: str, fname: str, lib: str, ending: str | None = None) -> str:
    """``module.fname`` of a library whose names jac lists (jax.nn, scipy.special, jax.lax): what jac reads of
    that library (the names, or for a long list their count and the nearest ones), those of them it refuses, and
    ``ending``, what else to write it with: the library's own kin (LIBRARY_ENDINGS, else its root's: NumPy's
    functions for SciPy, torch's for PyTorch, jnp's for JAX)."""
    if lib == "jax.lax" and fname in LAX_HINTS:
        return f"'{module}.{fname}' is not supported by jac: {LAX_HINTS[fname]}"
    if (lib, fname) in _LIBRARY_HINTS:
        return f"'{module}.{fname}' is not supported by jac: {_LIBRARY_HINTS[(lib, fname)]}"
    if ending is None:
        root = lib.split(".")[0]
        ending = LIBRARY_ENDINGS.get(lib) or (_STATS_ENDINGS[root] if ".stats." in lib else _ROOT_ENDINGS[root])
    have = LIBRARY_NAMES.get(lib) or {n for (library, n) in LIBRARY_FUNCTIONS if library == lib}
    refused = LIBRARY_REFUSED.get(lib, frozenset())
    read = sorted(set(have) - refused)
    close = _nearest(fname, read, 2)  # Normla, Nromal: a letter or two, a swap of two one
    if close and _not_in_library(_LIBRARY_TITLES[lib], fname):  # Normla: no name of the library, a typo
        return f"unknown function '{module}.{fname}' ({_LIBRARY_TITLES[lib]} has no such name); did you mean " \
               f"'{module}.{close[0]}'?"
    if len(read) <= _LISTED:
        what = (", ".join(read) or "no function of it") + (
            f"; it refuses {', '.join(sorted(refused))}, saying why" if refused else "")
    else:
        near = difflib.get_close_matches(fname, read, n=3, cutoff=0.6)
        noun = "classes and functions" if lib == "torch.distributions" else "functions"
        what = f"{len(read)} {noun}, listed in docs/expressions.md" + (
            f"; the nearest to '{fname}': {', '.join(near)}" if near else "")
    return (f"'{module}.{fname}' is not supported by jac (of {_LIBRARY_TITLES[lib]}, jac reads {what}); "
            f"write it with {'those or with ' if read else ''}{ending}")


def _not_in_library(path: str, fname: str) -> bool:
    """Whether ``fname`` is certainly no name of the installed library module ``path`` (a typo, which a "did you
    mean" may answer; scipy.special.ellipj is SciPy's, unread, never a misspelt ellipk). Read from the text of the
    module's source file, found without importing anything (importing PyTorch for an error message took seconds,
    and no code of the library runs): each module jac lists names of names them there, in ``__all__``, its imports
    or its docstring's table. False where the file is not found."""
    import importlib.util
    import os
    import re

    top, *rest = path.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level package: found, not imported
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    base = os.path.join(next(iter(spec.submodule_search_locations)), *rest)
    for source in (os.path.join(base, "__init__.py"), base + ".py"):
        try:
            with open(source, encoding="utf-8", errors="replace") as f:
                text = f.read(4_000_000)
        except OSError:
            continue
        return re.search(rf"(?<![\w.]){re.escape(fname)}\b", text) is None
    return False


def _is_jit(decorator: ast.AST) -> bool:
    """``@jax.jit``, ``@jit``, ``@partial(jax.jit, static_argnums=1)``: compiling changes no value."""
    if isinstance(decorator, ast.Call) and _dotted(decorator.func) in ("partial", "functools.partial") \
            and decorator.args:
        decorator = decorator.args[0]
    if isinstance(decorator, ast.Call) and not decorator.args and vmapping.SPELLINGS.get(
            vmapping.spelling_of(_dotted(decorator.func))) == "same":  # @torch.compile(mode="max-autotune")
        decorator = decorator.func
    return _dotted(decorator) in ("jax.jit", "jit") or vmapping.SPELLINGS.get(
        vmapping.spelling_of(_dotted(decorator))) == "same"  # @jax.checkpoint, @torch.compile (.vmapping)


# Libraries of the JAX world that jac does not read, and what to write instead
_FLAX = ("flax is not supported by jac: its layers hold parameters, so write the computation with the "
         "parameters bound as inputs (nn.Dense(n)(x) is x @ W + b with W and b bound); its activations are "
         "jax.nn's (nn.relu(x) is jax.nn.relu(x), nn.gelu(x) is jax.nn.gelu(x), nn.softmax(x) is "
         "jax.nn.softmax(x))")
_FOREIGN = {"optax": "optax is not supported by jac: write the loss itself with jnp and jax.nn (optax.l2_loss(p, t) "
                     "is 0.5 * (p - t) ** 2); an optimizer's step is not an expression: paste the loss alone",
            "flax": _FLAX, "nnx": _FLAX, "linen": _FLAX, "haiku": "haiku is not supported by jac: write the "
            "computation with the parameters bound as inputs (hk.Linear(n)(x) is x @ W + b)",
            "hk": "haiku is not supported by jac: write the computation with the parameters bound as inputs "
                  "(hk.Linear(n)(x) is x @ W + b)", "equinox": "equinox is not supported by jac: write the "
            "computation with the parameters bound as inputs", "eqx": "equinox is not supported by jac: write the "
            "computation with the parameters bound as inputs"}
_OPTAX = {
    "l2_loss": "0.5 * (predictions - targets) ** 2",
    "squared_error": "(predictions - targets) ** 2",
    "softmax_cross_entropy": "-jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1)",
    "safe_softmax_cross_entropy": "-jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1)",
    "softmax_cross_entropy_with_integer_labels":
        "-jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=-1)[:, 0]",
    "sigmoid_binary_cross_entropy":
        "-(labels * jax.nn.log_sigmoid(logits) + (1 - labels) * jax.nn.log_sigmoid(-logits))",
    "huber_loss": "jnp.where(jnp.abs(e) <= delta, 0.5 * e ** 2, delta * (jnp.abs(e) - 0.5 * delta)) with "
                  "e = predictions - targets (delta 1.0)",
    "log_cosh": "jnp.log(jnp.cosh(predictions - targets))",
    "cosine_similarity": "jnp.sum(a * b, axis=-1) / (jnp.linalg.norm(a, axis=-1) * jnp.linalg.norm(b, axis=-1))",
    "cosine_distance": "1 - jnp.sum(a * b, axis=-1) / (jnp.linalg.norm(a, axis=-1) * jnp.linalg.norm(b, axis=-1))",
    "kl_divergence": "jnp.sum(jax.scipy.special.xlogy(targets, targets) - targets * log_predictions, axis=-1)",
    "hinge_loss": "jnp.maximum(0, 1 - labels * scores)",
    "poly_loss_cross_entropy": "its formula with jax.nn.log_softmax",
}
# jax.NAME that jac does not read: what to write instead
_JAX_ELSEWHERE = {
    "jit": "jac compiles repeated calls itself: call the function without jit, f(x)",
    "vmap": _TRANSFORMS["vmap"], "pmap": _TRANSFORMS["vmap"],
    "checkpoint": "write the function's call without checkpoint", "remat": "write the function's call without remat",
    "random": "jac has no random keys: bind the random values as an input (eps=@noise.npy, or eps:3 for values "
              "drawn with --seed)",
    "device_put": "jac computes on the CPU with NumPy: drop jax.device_put and write the array itself",
    "debug": "jac prints the output: end with the value itself (jax.debug.print is not needed)",
    "config": "jac computes in float64 (--dtype float32 for single precision): drop jax.config",
    "ops": "jax.ops.segment_sum(v, idx, num_segments=n) is jnp.zeros(n).at[idx].add(v)",
    "block_until_ready": "jac's values are ready: drop it",
    "eval_shape": "it gives ShapeDtypeStructs, not values: jac shape prints the output's shape (jac shape 'f(x)' "
                  "x:3), and jac reads the function's call itself, f(x)",
}
# what an array's shape gives, a Python int or tuple under jax.jit too: never a JAX array (_Lowering.jax_array)
_STATIC_ATTRIBUTES = frozenset(("shape", "ndim", "size", "itemsize", "nbytes"))
_STATIC_FUNCTIONS = frozenset(("shape", "ndim", "size"))


def _static_of_array(node: ast.AST, values: list) -> bool:
    """Is ``node`` (lowered from ``values``) an array's shape, rank or size (``c.shape``, ``c.ndim``, ``len(c)``,
    ``jnp.shape(c)``)?"""
    if type(node) is ast.Attribute:  # c.shape of an array, not an instance's attribute named size (self.size)
        return node.attr in _STATIC_ATTRIBUTES and len(values) == 1 and type(values[0]) is Tracer
    if type(node) is not ast.Call:
        return False
    func = node.func
    return type(func) is ast.Name and func.id == "len" or type(func) is ast.Attribute and func.attr in \
        _STATIC_FUNCTIONS


# JAX's ahead-of-time API of a jitted function (jax/_src/stages.py): jac reads jax.jit(f)(x), the call, not its stages
_AOT = ("lower", "compile", "trace", "eval_shape")


def _staged_stage(node: ast.expr) -> ast.Attribute | None:
    """In ``jax.jit(f).lower(x).compile()``, the attribute ``.lower`` of the call of a staging wrapper
    (``vmapping.whiles.STAGING``) that the chain of calls and attributes ``node`` reaches, or None."""
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Attribute) and node.attr in _AOT and isinstance(node.value, ast.Call) \
                and vmapping.spelling_of(_dotted(node.value.func)) in vmapping.whiles.STAGING:
            return node
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def _transform_call(node: ast.Call) -> str | None:
    """``jax.grad(f)(x)`` and the other transforms called at once: what to write, naming ``f(x)``."""
    inner = node.func
    path = _dotted(inner.func) or ""
    name = path.rsplit(".", 1)[-1]
    if name not in _AUTODIFF_NAMES and name not in _TRANSFORMS or not inner.args:
        return None
    fn, args = inner.args[0], ", ".join(ast.unparse(a) for a in node.args)
    if isinstance(fn, ast.Lambda) and [p.arg for p in fn.args.args] == [ast.unparse(a) for a in node.args]:
        call = ast.unparse(fn.body)  # jax.grad(lambda x: f(x))(x): its body
    else:
        call = f"{ast.unparse(fn) if not isinstance(fn, ast.Lambda) else '(' + ast.unparse(fn) + ')'}({args})"
    if name in ("vmap", "pmap"):  # jax.vmap and torch.func.vmap are read (.vmapping): not an imported name
        return (f"'{path}(...)' is not read: jac reads jax.vmap(f, in_axes)(x) and torch.func.vmap(f, in_dims)(x), "
                f"or vmap imported by name (from jax import vmap); or write {call} with --batch on the batched "
                f"input")
    if name in _TRANSFORMS:
        return f"'{path}(...)' is not needed: {_TRANSFORMS[name]}: write {call}"
    if name == "hessian":
        return (f"'{path}(...)' is not needed: write the expression, {call}, and run jac hessian, which prints its "
                f"Hessian")
    wrt = " (--wrt NAME picks the inputs argnums= named)" if any(k.arg == "argnums" for k in inner.keywords) else ""
    return (f"'{path}(...)' is not needed: write the expression, {call}: jac eval prints its value and its "
            f"Jacobian by every input{wrt}, which for a scalar is the gradient {path}(...)(...) computes; "
            f"jac vjp --v V prints the vector-Jacobian product")


# A name every refusal of _foreign reads: an attribute chain's root (_foreign_path) or a transform called at once
# (_transform_call). A text holding none of them as a word is left alone without its walk over the tree (~35 us,
# more than ast.parse of a one-line expression).
_FOREIGN_WORDS = re.compile(r"\b(?:" + "|".join(sorted({"jax", "lax", "optax", *_FOREIGN, *_AUTODIFF_NAMES,
                                                          *_TRANSFORMS})) + r")\b")


def _foreign(module: ast.Module, scope: dict, source, imported: dict = {}) -> None:  # noqa: B006 - read only
    """Refuse what JAX users paste that jac does not read, saying what to write: optax's losses (each one's
    formula), flax, ``jax.grad(f)(x)`` and the other transforms (naming ``f(x)``), ``jax.random``..."""
    jitted = set()  # the nodes of @jax.jit decorators: read as no decorator (a def comes before its decorators)
    inner = set()  # the attributes of a chain below its outermost, which reads them all (x.T.T...: once, not n² / 2)
    for node in ast.walk(module):
        if id(node) in jitted:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            jitted.update(id(part) for d in node.decorator_list if _is_jit(d) for part in ast.walk(d))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Call) \
                and _dotted(node.func.func) not in derivatives.SPELLINGS \
                and vmapping.spelling_of(_dotted(node.func.func)) is None \
                and _dotted(node.func.func) not in imported:  # jax.grad(f)(x), jax.vmap(f)(x), vmap(f)(x): read
            message = _transform_call(node)
            if message is not None:
                raise JacParseError(message, source.at(node))
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        chain = [node]  # the outermost attribute first, then each one below it: a.b.c, then a.b
        while isinstance(chain[-1].value, ast.Attribute):
            chain.append(chain[-1].value)
            inner.add(id(chain[-1]))
        base = chain[-1].value
        if not isinstance(base, ast.Name) or base.id in scope:
            continue
        parts = [base.id] + [a.attr for a in reversed(chain)]
        for k in range(len(chain)):  # each attribute's path, parts[:length], outermost first
            _foreign_path(parts, len(parts) - k, chain, source)


def _foreign_path(parts: list, length: int, chain: list, source) -> None:
    """Refuse the path ``parts[:length]`` (``jax.random.normal``; ``chain``: the attributes of ``parts``, outermost
    first) when it is of a library jac does not read, saying what to write, the caret under the last name of the
    path it names. O(1) unless it refuses: the path's text is made only for the message."""
    root, last = parts[0], parts[length - 1]
    second = parts[1] if length > 1 else None
    if last in vmapping.LAST_NAMES and vmapping.spelling_of(_joined(parts, length)) is not None:
        return  # jax.vmap, lax.scan, jax.jit: read (.vmapping)
    if length <= 3 and last in LAX_HINTS and last not in laxnames.COLLECTIVES and (
            length == 2 and root == "lax" or length == 3 and root == "jax"
            and second == "lax"):  # before its arguments: lax.map(f, x); a collective inside a vmap is read
        raise JacParseError(f"'{_joined(parts, length)}' is not supported by jac: {LAX_HINTS[last]}",
                            _name_at(chain, length, source))
    if root == "optax":
        formula = _OPTAX.get(last)
        if formula is not None:  # its formula, once (the general text's example is l2_loss's)
            raise JacParseError(f"'{_joined(parts, length)}' is not supported by jac: write the loss itself with jnp "
                                f"and jax.nn: optax.{last}(...) is {formula}", _name_at(chain, length, source))
        raise JacParseError(f"'{_joined(parts, length)}': {_FOREIGN['optax']}", _name_at(chain, length, source))
    if root in _FOREIGN and root not in ("linen",):
        raise JacParseError(f"'{_joined(parts, length)}': {_FOREIGN[root]}", _name_at(chain, length, source))
    if root == "jax" and second == "flatten_util" and len(parts) > 2:  # jax.flatten_util.ravel_pytree (.trees)
        if _joined(parts, 3) in trees.SPELLINGS:
            return
        raise JacParseError(f"'{_joined(parts, 3)}' is not supported by jac: of jax.flatten_util it reads "
                            f"ravel_pytree", _name_at(chain, 3, source))
    if root == "jax" and second in ("tree_util", "tree"):  # jax.tree_util.tree_map: read (.trees)
        if _joined(parts, min(len(parts), 3)) in trees.SPELLINGS:
            return
        read = sorted(s for s in trees.SPELLINGS if s.startswith(("jax.tree.", "jax.tree_util.")))  # not ravel_pytree
        raise JacParseError(f"'{_joined(parts, min(len(parts), 3))}' is not supported by jac: it reads "
                            f"{', '.join(read)}", _name_at(chain, min(len(parts), 3), source))
    if root == "jax" and second is not None and second not in ("nn", "numpy", "scipy", "lax", "image"):
        if length == 2 and f"jax.{second}" in derivatives.SPELLINGS:  # jax.grad: read (.derivatives)
            return
        if second in _AUTODIFF_NAMES:  # jax.hvp
            raise JacParseError(f"'jax.{second}' is not supported by jac: {derivatives.READ}",
                                _name_at(chain, 2, source))
        why = _JAX_ELSEWHERE.get(second)
        if why is not None:
            raise JacParseError(f"'jax.{second}' is not needed: {why}" if second in (
                "jit", "checkpoint", "remat", "device_put", "debug", "config") else
                f"'jax.{second}' is not supported by jac: {why}", _name_at(chain, 2, source))
    if length > 2 and root == "jax" and second == "scipy" and parts[2] not in ("special", "linalg", "integrate", "signal") \
            and not (parts[2] == "stats" and len(parts) > 3 and parts[3] in distributions.STATS):  # (.distributions)
        raise JacParseError(f"the module 'jax.scipy.{parts[2]}' is not supported by jac"
                            f"{_submodule_hint('jax.scipy', parts[2])}", _name_at(chain, 3, source))


def _name_at(chain: list, length: int, source) -> int:
    """The offset of the last name of the path of ``length`` names whose attributes are ``chain`` (outermost first):
    where the caret goes under ``jax.random`` in ``jax.random.normal(key)``."""
    attribute = chain[len(chain) + 1 - length]
    return source.end(attribute) - len(attribute.attr)


def _joined(parts: list, length: int) -> str:
    return ".".join(parts[:length])


def _module_message(path: str, name: str) -> str:
    if path in derivatives.FAMILIES:  # torch.func.functional_call: not one of the derivatives jac reads
        return f"of the module '{path}' jac reads only derivatives: {derivatives.READ}"
    if name in _AUTODIFF_NAMES:  # torch.autograd, torch.func
        return f"the module '{path}' is not needed: {_AUTODIFF}"
    if path.endswith("nn.utils"):  # nn.utils.rnn.pack_padded_sequence around an RNN (session 30)
        return (f"the module '{path}' is not supported by jac: jac runs an nn.RNN / GRU / LSTM on the padded batch "
                f"itself, without packed sequences (pack_padded_sequence, pad_packed_sequence); for sequences of "
                f"different lengths run each alone on its own steps, rnn(x[i:i + 1, :n_i]) with batch_first=True, whose "
                f"h_n is the packed run's; clip_grad_norm_ and the other training helpers change no derivative")
    return f"the module '{path}' is not supported by jac{_submodule_hint(path, name)}"


def _submodule_hint(path: str, name: str) -> str:
    """What ``_SUBMODULES`` says of the module ``path`` (last name ``name``), in the words of its own library."""
    kin = _KIN.get(path.split(".")[0], {"special": "scipy.special", "linalg": "np.linalg"})
    *first, last = distributions.STATS
    stats = f"{', '.join(first)} and {last}"
    return _SUBMODULES.get(name, "").format(stats=stats, **kin)


def unknown_message(what: str, name: str, tail: str = "", spelled=None) -> str:
    """``what`` (``"function 'torch.einsum'"``) is unknown: "not supported by jac" for a name of
    PyTorch or NumPy, never with a "did you mean" another function (einsum is not a misspelt
    sum); a suggestion only for a name of neither library that is a letter or two from one
    jac knows (a typo: sofmax), named as ``spelled`` says (``np.sinn``: 'np.sin')."""
    from .vocabulary import LIBRARY_NAMES

    if name in _AUTODIFF_NAMES:
        return f"the {what} is not needed: {_AUTODIFF}"
    if name in _PASTED_NAMES and what.startswith("function"):  # model(x)
        return f"unknown {what}: {_PASTED_NAMES[name]}"
    if what == "function 'print'":  # pasted code's print(loss): it was "did you mean 'rint'?"
        return _PRINT
    if what.startswith("function") and name in _MATH_NAMES:  # ln(x): it was "did you mean 'len'?"
        return f"unknown {what}: {_MATH_NAMES[name]}"
    if name == "block_until_ready" and what.startswith("method"):  # JAX's: the values are ready
        return f"{what[7:]} is not needed: jac's values are ready; drop it"
    if name in ("cuda", "mps", "xpu") and what.startswith("method"):  # as device='cuda' and x.to('cuda') say
        return f"{what[7:]} is not needed: jac computes on the CPU with NumPy (x.cpu() and x.to('cpu') are accepted)"
    if name in LIBRARY_NAMES:
        return f"the {what} is not supported by jac"
    if what == f"function '{name}'" and _python_builtin(name):  # map(f, x) is no typo of max, nor str of std
        return f"unknown {what}{_BUILTIN_HINTS.get(name, '')}"
    close = _nearest(name, FUNCTIONS, max(1, len(name) // 4))
    if close:
        return f"unknown {what}; did you mean '{spelled(close[0]) if spelled else close[0]}'?"
    return f"unknown {what}{' ' + tail if tail else ''}"


_BUILTIN_HINTS = {"map": " (Python's builtin map is not read): write a comprehension, [f(v) for v in x]",
                  "filter": " (Python's builtin filter is not read): write a comprehension, [v for v in x if ...]"}


def _python_builtin(name: str) -> bool:
    """Is ``name`` one of Python's own builtins (``map``, ``iter``, ``str``), which no "did you mean" should take
    for a misspelt function (``map`` is a letter from ``max``)?"""
    import builtins
    return not name.startswith("_") and callable(getattr(builtins, name, None))


def _nearest(name: str, names, most: int) -> list[str]:
    """The names at most ``most`` edits from ``name``, nearest first (then the most alike, then A-Z)."""
    found = [(_edits(name, c), c) for c in names if abs(len(c) - len(name)) <= most]
    return [c for _, _, c in sorted((d, -difflib.SequenceMatcher(None, name, c).ratio(), c)
                                    for d, c in found if d <= most)]


def _edits(a: str, b: str) -> int:
    """Edits from ``a`` to ``b`` (short names only): insertions, deletions, substitutions and swaps of two
    neighbours (``nrom`` is one from ``norm``, as people mistype), each counted once."""
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        now = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            now[j] = min(row[j] + 1, now[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                now[j] = min(now[j], before[j - 2] + 1)
        before, row = row, now
    return row[-1]


# The modules an import may name, as jac reads them: ``import numpy as np`` binds np to what jac reads as
# np already. An alias of another name (``import numpy as torch``, ``import torch as T``) would make the
# expression mean something else than what it says, so it is refused.
_IMPORT_ALIASES = {"np": "numpy", "jnp": "jax.numpy", "F": "torch.nn.functional", "nn": "torch.nn", "lax": "jax.lax"}
_IMPORT_USUAL = {module: alias for alias, module in _IMPORT_ALIASES.items()}


def _check_import(stmt, source: Source) -> None:
    """``import torch``, ``import numpy as np``, ``import torch.nn.functional as F``, ``from torch.nn
    import functional as F``: pasted code's imports of what jac reads under those names already, so
    they change nothing and are skipped; any other import is refused, saying what jac reads."""
    position = source.at(stmt)
    if isinstance(stmt, ast.ImportFrom) and (stmt.level or not stmt.module):
        raise JacParseError("relative imports ('from . import ...') name nothing jac has", position)
    for alias in stmt.names:
        if alias.name == "*":
            raise JacParseError(f"'from {stmt.module} import *' is not supported: write the module's name, as in "
                                f"torch.sin(x) or np.sin(x)", position)
        path = f"{stmt.module}.{alias.name}" if isinstance(stmt, ast.ImportFrom) else alias.name
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        bound = alias.asname or (alias.name if isinstance(stmt, ast.ImportFrom) else None)
        if bound is None:  # import torch.nn.functional: binds torch, and jac reads torch.nn.functional.relu
            if path in LIBRARIES or path in _ROOTS:
                continue
        elif bound == path and path in LIBRARIES or _IMPORT_ALIASES.get(bound) == path:
            continue
        written = ast.unparse(stmt) if len(stmt.names) == 1 else f"the import of {path}"
        if path.split(".")[0] in _FOREIGN:  # import optax, import flax.linen as nn
            raise JacParseError(f"{written}: {_FOREIGN[path.split('.')[0]]}", position)
        if path in ("jax.jit", "functools.partial"):  # from jax import jit: @jit changes no value
            continue
        if path in custom.IMPORTS:  # from torch.autograd import Function, from jax import custom_vjp (lang/custom.py)
            continue
        if path == "functools" and bound is None:  # @functools.partial(jax.vmap, ...) (.decorators)
            continue
        if pyiter.accepted_import(stmt, bound, path):  # import itertools, import operator (lang/pyiter.py)
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module in pyiter.MODULES:
            raise JacParseError(f"{written}: " + (f"jac reads {path}(...) written so, or imported where the text "
                                                  f"binds '{bound}' nowhere else (import {stmt.module})"
                                                  if path in pyiter.SPELLINGS else
                                                  f"jac has no '{path}' (it reads {pyiter.READ})"), position)
        if path == "copy" and bound is None:  # copy.copy(R), copy.deepcopy(R) of Python's lists (_Lowering.copied)
            continue
        if path == "torch.optim" and bound in (None, "optim"):  # an optimizer's lines are read as nothing
            continue
        if path == "collections.OrderedDict" and bound == "OrderedDict" or path == "collections" and bound is None:
            continue  # nn.Sequential(OrderedDict([...])): its modules' names
        if path in ("dataclasses", "dataclasses.dataclass", "dataclasses.field") and bound in (None, path.split(".")[-1]):
            continue  # @dataclass on a plain class of the text (lang/plain.py)
        if path in plain.TYPING or path in ("typing", "dataclasses", "collections"):  # NamedTuple, Optional for
            continue  # annotations, namedtuple, dataclasses.replace (lang/plain.py)
        if path not in LIBRARIES and path not in _ROOTS:
            if path in ("jax.tree_util", "jax.tree") and bound is not None:  # import jax.tree_util as jtu (.trees)
                continue
            if path == "jax.flatten_util" and bound is None:  # jax.flatten_util.ravel_pytree(params) (.trees)
                continue
            if isinstance(stmt, ast.ImportFrom) and (vmapping.spelling_of(path) is not None
                                                     or path in derivatives.SPELLINGS or path in trees.SPELLINGS):
                continue  # from torch.func import vmap, grad: read under their whole names (vmapping.imported)
            if path in derivatives.SPELLINGS or vmapping.spelling_of(path):  # import torch.func.grad: not a module
                raise JacParseError(f"{written}: a name imported from a module is not followed; write {path}(...) "
                                    f"where it is used (and import the module: import {path.split('.')[0]})",
                                    position)
            if any(part in _AUTODIFF_NAMES for part in path.split(".")):  # from torch.autograd import grad
                raise JacParseError(f"{written}: not needed: {_AUTODIFF}", position)
            name = path.split(".")[-1]
            if isinstance(stmt, ast.ImportFrom) and stmt.module in LIBRARIES and name not in _SUBMODULES:
                usual = _IMPORT_USUAL.get(stmt.module, stmt.module)  # from torch import sin
                module = f"{stmt.module} as {usual}" if usual != stmt.module else usual
                raise JacParseError(f"{written}: a name imported from a module is not followed; write "
                                    f"{usual}.{name} where it is used (and import the module: import {module})",
                                    position)
            why = _module_message(path, name) if name in _SUBMODULES else f"jac has no module '{path}'"
            raise JacParseError(f"{written}: {why} (the imports jac reads: torch, numpy as np, "
                                f"torch.nn.functional as F, math, scipy.special, jax.numpy as jnp, itertools, "
                                f"functools, operator)", position)
        usual = _IMPORT_USUAL.get(path, path)
        raise JacParseError(f"{written}: jac reads {path} as '{usual}' only, so the expression must call it so "
                            f"({usual}.NAME(...)); an import cannot rename a module", position)


_STATEMENT_WORDS = {
    ast.For: "'for' loops", ast.AsyncFor: "'for' loops", ast.While: "'while' loops", ast.If: "'if' statements",
    ast.FunctionDef: "function definitions ('def')", ast.AsyncFunctionDef: "function definitions ('def')",
    ast.ClassDef: "class definitions ('class'), but at the text's top level (plain classes, @dataclass, nn.Module)", ast.Import: "'import' statements",
    ast.ImportFrom: "'from ... import' statements", ast.Return: "'return' statements", ast.Delete: "'del' statements",
    ast.Pass: "'pass' statements", ast.Break: "'break' statements", ast.Continue: "'continue' statements",
    ast.With: "'with' statements", ast.AsyncWith: "'with' statements", ast.Try: "'try' statements",
    ast.Raise: "'raise' statements", ast.Assert: "'assert' statements", ast.Global: "'global' statements",
    ast.Nonlocal: "'nonlocal' statements", ast.AnnAssign: "annotated assignments ('NAME: TYPE = EXPR')",
    ast.Match: "'match' statements",
}


# Python's bit operators of ints (int_bits), by the syntax tree's operator
_INT_BITS = {ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitAnd: operator.and_,
             ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.Invert: operator.invert}


def _refuse_loose_jump(module: ast.Module, source: Source) -> None:
    """``break`` or ``continue`` outside a loop of its own function: Python's SyntaxError (``ast.parse`` lets it
    through), refused before the walk, so a jump run always has its loop (:meth:`_Lowering.loop`)."""
    pending = [(node, False) for node in module.body]
    while pending:
        node, inside = pending.pop()
        if isinstance(node, (ast.Break, ast.Continue)) and not inside:
            word = "break" if isinstance(node, ast.Break) else "continue"
            raise JacParseError(f"'{word}' outside loop (Python's SyntaxError)", source.at(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend((child, False) for child in ast.iter_child_nodes(node))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            pending.extend((child, True) for child in node.body)
            pending.extend((child, inside) for child in node.orelse)
        elif isinstance(node, ast.stmt):
            pending.extend((child, inside) for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
                           or isinstance(child, ast.excepthandler))
        elif isinstance(node, ast.excepthandler):
            pending.extend((child, inside) for child in node.body)


def _statement_words(stmt: ast.stmt) -> str:
    """The statement's kind in Python's words (``'for' loops``)."""
    if isinstance(stmt, ast.Assign):
        if len(stmt.targets) > 1:
            return "chained assignments to other than names ('a = y[0] = EXPR')"
        target = stmt.targets[0]
        if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
            return (f"'{ast.unparse(target)} = ...' (jac reads a literal True or False set on a leaf the text makes, "
                    "a parameter or torch.tensor(..., requires_grad=True), before its first use; of an input bound "
                    "on the command line, --wrt chooses what is differentiated)")
        if isinstance(target, ast.Attribute) and target.attr in ("weight", "bias") \
                and isinstance(stmt.value, ast.Attribute) and stmt.value.attr in ("weight", "bias"):
            return (f"tied parameters ('{ast.unparse(target)} = {ast.unparse(stmt.value)}': jac makes each layer's "
                    "parameters its own inputs, so one shared by two layers would be read as two; write the second "
                    "layer's call with the first's parameter, F.linear(h, enc.weight))")
        return "assignments to an attribute ('y.NAME = EXPR')" if isinstance(target, ast.Attribute) \
            else "assignments to this target"
    if isinstance(stmt, ast.AugAssign):
        if isinstance(stmt.target, ast.Attribute) and stmt.target.attr in ("data", "weight", "bias"):
            return (f"writes into a parameter ('{ast.unparse(stmt.target)} {_BINOP_TEXT.get(type(stmt.op), '?')}= "
                    f"...'): {_OWN_PARAMETERS}")
        return "augmented assignments to an attribute"
    return _STATEMENT_WORDS.get(type(stmt), f"{type(stmt).__name__.lower()} statements")


_SETTINGS = {  # pasted code's process-wide settings: what jac has in their place
    ("torch", "manual_seed"): "jac's rand and randn and a layer's initial parameters are jac's draws, seeded by --seed, "
                              "not PyTorch's numbers (drop the line; --seed 0 is the default); to compare with a "
                              "PyTorch run, write the values (torch.tensor([...]), nn.init.constant_(fc.weight, 0.5), "
                              "fc.weight.copy_(W) under torch.no_grad())",
    ("torch", "seed"): "jac's rand and randn are seeded by --seed (drop the line)",
    ("np.random", "seed"): "jac's rand and randn are seeded by --seed (drop the line; --seed 0 is the default)",
    ("numpy.random", "seed"): "jac's rand and randn are seeded by --seed (drop the line; --seed 0 is the default)",
    ("random", "seed"): "jac's rand and randn are seeded by --seed (drop the line; --seed 0 is the default)",
    ("torch", "set_default_dtype"): "jac computes in --dtype (float64 by default; --dtype float32)",
    ("torch", "set_grad_enabled"): "jac differentiates with respect to the inputs in --wrt (all by default)",
    ("torch", "set_printoptions"): "jac prints full precision; --json gives every digit",
    ("np", "set_printoptions"): "jac prints full precision; --json gives every digit",
}


def _global_setting(stmt: ast.stmt):
    """The message for a statement that only changes a library's global setting (``torch.manual_seed(0)``,
    ``np.random.seed(0)``, ``torch.set_default_dtype(...)``), else None."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    try:
        module = ast.unparse(call.func.value)
    except Exception:  # pragma: no cover - ast.unparse of a parsed expression does not fail
        return None
    why = _SETTINGS.get((module, call.func.attr))
    return None if why is None else f"'{module}.{call.func.attr}(...)' is not needed: {why}"


def _python_sequence_call(node: ast.Call):
    """``"copy"`` for list(s) / tuple(s) of one argument, ``"made"`` for x.size() and range(...) (Python sequences
    whose + and * are Python's), ``"reordered"`` for reversed(s) / sorted(s), else None."""
    func = node.func
    if type(func) is ast.Name and func.id in ("reversed", "sorted") and len(node.args) == 1:
        return "reordered"  # lowered as the builtins' reversed / sorted, a sequence again
    if type(func) is ast.Name and not node.keywords:
        if func.id in ("list", "tuple") and len(node.args) == 1:
            return "copy"
        return "made" if func.id == "range" else None
    if type(func) is ast.Attribute and func.attr == "Size" and type(func.value) is ast.Name \
            and func.value.id == "torch" and len(node.args) == 1 and not node.keywords:
        return "copy"  # torch.Size([2, 3]), torch.Size(x.shape): a tuple of those numbers
    if type(func) is ast.Attribute and func.attr == "size" and not node.args and not node.keywords:
        return "made"
    return None


# in-place methods jac writes without their out-of-place method: zero_, copy_, fill_ (PyTorch's: NumPy's x.fill
# returns None) and fill_diagonal_; and those that change the tensor's shape, which the name is rebound to (h.t_())
# F.relu(h, inplace=True) / F.relu_(h) and these: PyTorch's backward reads the written tensor (checked against
# PyTorch by tests/test_inplace37.py; hardtanh_, threshold_, silu, relu6, mish, hardswish, hardsigmoid keep nothing
# a later write changes)
_IN_PLACE_KEEPS_RESULT = frozenset(("relu", "leaky_relu", "elu", "selu", "celu", "rrelu"))
_WRITTEN_AS_IS = frozenset(("zero_", "copy_", "fill_", "fill_diagonal_"))
_SHAPE_IN_PLACE = frozenset(("unsqueeze_", "squeeze_", "t_", "transpose_", "swapdims_", "swapaxes_"))


def _in_place_method(node: ast.expr) -> bool:
    """``y.add_(1)``, ``y[1:3].mul_(2)``: a call of a method ending in one underscore on a name or on an index
    of a name."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_")
            and not node.func.attr.startswith("_")):
        return False
    owner = node.func.value
    if isinstance(owner, ast.Subscript):
        owner = owner.value
    return isinstance(owner, ast.Name) and owner.id not in MODULES


def _in_place_on_call(node: ast.expr) -> bool:
    """``f(c).mul_(2)``, ``torch.diagonal(c).add_(-1)``: an in-place method of PyTorch's on a call's result."""
    return type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr.endswith("_") \
        and not node.func.attr.startswith("_") and node.func.attr[:-1] in FUNCTIONS \
        and type(node.func.value) is ast.Call


def _view_in_place(node: ast.expr) -> bool:
    """``t.unsqueeze(0).exp_()``, ``t[0].unsqueeze(0).mul_(2)``, ``t.view(-1)[0:1].add_(1)``, ``t.T.add_(1)``: an
    in-place method on views of a name that are more than one basic index of it (those are :meth:`in_place_at`'s)."""
    if not (type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr.endswith("_")
            and not node.func.attr.startswith("_")):
        return False
    owner = node.func.value
    if type(owner) is ast.Name or type(owner) is ast.Subscript and type(owner.value) is ast.Name:
        return False
    base = _view_base(owner) if _view_like(owner) else None
    return type(base) is ast.Name and base.id not in MODULES


def _detached(node: ast.expr) -> bool:
    """A chain of views through ``.detach()`` (a write there changes the values, not the history: ``straight_through``)."""
    return any(type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr == "detach"
               for n in ast.walk(node))


def _view_like(node: ast.expr) -> bool:
    """A name, or views of it (basic indices, ``.T``, ``.mT``, view methods), which lowering again adds no effect."""
    while True:
        if type(node) is ast.Name:
            return True
        if type(node) is ast.Subscript and all(_basic_index(p) for p in (
                node.slice.elts if type(node.slice) is ast.Tuple else [node.slice])):
            node = node.value
        elif type(node) is ast.Attribute and node.attr in ("T", "mT"):
            node = node.value
        elif type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _VIEWING_METHODS \
                and type(node.func.value) is ast.Name and node.func.value.id == "torch" and node.args \
                and all(type(a) is ast.Constant or type(a) is ast.UnaryOp for a in node.args[1:]) and not node.keywords:
            node = node.args[0]  # torch.diagonal(t), torch.narrow(t, 0, 1, 2)
        elif type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _VIEWING_METHODS \
                and all(type(a) is ast.Constant or type(a) is ast.UnaryOp for a in node.args) and not node.keywords:
            node = node.func.value
        else:
            return False


_VIEWING_METHODS = frozenset(("view", "reshape", "transpose", "t", "permute", "unsqueeze", "squeeze", "detach",
                              "expand", "flatten", "unflatten", "swapaxes", "swapdims", "movedim", "narrow", "select",
                              "diagonal"))


def _basic_index(node: ast.expr) -> bool:
    """An index part that makes a view: a slice, an integer, None or ``...`` written out."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Slice) or isinstance(node, ast.Constant) and (
        node.value is None or node.value is Ellipsis or type(node.value) is int)


def _autodiff_call(node: ast.expr) -> bool:
    """``y.sum().backward()``, ``x.retain_grad()``: a call of an autodiff library's method."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _AUTODIFF_NAMES


_LIST_CHANGES = ("append", "extend", "insert", "pop", "clear", "reverse")  # the parser's appended: a list's own

_IN_PLACE_METHODS = {  # NumPy's array methods (and a list's) that change the array and return None
    "sort": "NumPy's {y}.sort() sorts {y} in place (PyTorch's returns the sorted values and leaves {y}): write "
            "{y} = np.sort({y}), {y} = {y}.sort().values, or {y} = sorted({y}) for a list",
    "fill": "NumPy's {y}.fill(v) writes v into every element of {y}: write {y} = np.full_like({y}, v)",
    "partition": "NumPy's {y}.partition(k) reorders {y} in place: write {y} = np.partition({y}, k)",
    "resize": "NumPy's {y}.resize(shape) changes {y} in place: write the reshape or the padding meant "
              "({y} = {y}.reshape(...), {y} = np.pad({y}, ...))",
    "reverse": "a list's {y}.reverse() reverses it in place: write {y} = {y}[::-1]",
    "itemset": "{y}.itemset(i, v) writes into {y}: write {y}[i] = v",
    "insert": "a list's {y}.insert(i, v) changes it in place, which jac does not read: write "
              "{y} = {y}[:i] + [v] + {y}[i:]",
    "pop": "a list's {y}.pop() removes its last item in place, which jac does not read: write v = {y}[-1] and "
           "{y} = {y}[:-1]",
    "remove": "a list's {y}.remove(v) changes it in place, which jac does not read: write the list without v",
    "clear": "a list's {y}.clear() empties it in place, which jac does not read: write {y} = []",
}


def _in_place_hint(node: ast.expr):
    """What to write instead of a statement that changes an array in place in a way jac does not read (NumPy's
    ``y.sort()``, ``np.put(y, ...)``, ``nn.init.zeros_(w)``), or None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    name, owner = node.func.attr, ast.unparse(node.func.value)
    if name in _IN_PLACE_METHODS and isinstance(node.func.value, (ast.Name, ast.Subscript, ast.Attribute)) \
            and owner not in MODULES:
        return _IN_PLACE_METHODS[name].format(y=owner)
    if owner in ("np", "numpy") and name == "put":
        return ("np.put(a, ind, v) writes into a's flattened elements in place, which jac does not read: write "
                "a = torch.put(a, ind, v) with v as long as ind, or a[np.unravel_index(ind, a.shape)] = v")
    if owner in ("nn.init", "torch.nn.init") and name.endswith("_"):
        return f"{owner}.{name}(w, ...) writes new values into w in place, which jac does not read: {_OWN_PARAMETERS}"
    if name.endswith("_") and not name.startswith("_") and isinstance(node.func.value, ast.Attribute) \
            and owner.split(".")[0] not in MODULES:  # fc.weight.data.fill_(1.0), fc.bias.zero_()
        base = owner[:-len(".data")]
        if owner.endswith(".data") and base.isidentifier():  # y.data.mul_(3): any array's values behind autograd
            return (f"{owner}.{name}(...) changes {base}'s values behind autograd's back (its gradient stays that of "
                    f"the old values), which jac does not read: compute the values meant as an array of their own "
                    f"({base}_new = ...), or for a layer's parameter: {_OWN_PARAMETERS}")
        return f"{owner}.{name}(...) writes into {owner} in place, which jac does not read: {_OWN_PARAMETERS}"
    return None


# Session 38: the steps that make a view of their operand in PyTorch (and NumPy where it has them), so that an in-place
# method called on the chain (x.view(-1)[0:1].neg_(), x.detach().exp_(), x.T.abs_()) writes into the name's buffer
_VIEW_ATTRIBUTES = frozenset(("T", "mT", "H", "mH"))
_VIEW_STEP_METHODS = frozenset(("view", "view_as", "reshape", "detach", "flatten", "ravel", "squeeze", "unsqueeze",
                           "transpose", "swapaxes", "swapdims", "permute", "t", "narrow", "expand", "expand_as",
                           "diagonal", "select", "unflatten", "movedim", "moveaxis", "as_strided", "unfold"))
_VIEW_WRITTEN = ("{view}.{method}(...) writes in place into {view}, a view of '{name}' made in this statement: NumPy and "
                 "PyTorch change '{name}' too, which jac's values cannot follow; compute the new values as an array of "
                 "their own ({name}_new = ...), or write into a copy ({name} = {name}.clone() first, then the write "
                 "into its elements: {name}[...] = ...)")


def _view_written(node: ast.expr):
    """``(the receiver's text, the name it views)`` for an in-place method (``NAME_``) called on a chain of view
    steps (``_VIEW_ATTRIBUTES``, ``_VIEW_STEP_METHODS``, basic indices) of a name with at least one step beyond an index
    of the name itself (``y[0].add_(1)`` is a write jac reads), else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_")
            and not node.func.attr.startswith("_")):
        return None
    receiver = owner = node.func.value
    steps = 0
    while not isinstance(owner, ast.Name):
        if isinstance(owner, ast.Attribute) and owner.attr in _VIEW_ATTRIBUTES:
            owner = owner.value
        elif isinstance(owner, ast.Call) and isinstance(owner.func, ast.Attribute) \
                and owner.func.attr in _VIEW_STEP_METHODS:
            owner = owner.func.value
        elif isinstance(owner, ast.Subscript) and all(
                _basic_index(e) for e in (owner.slice.elts if isinstance(owner.slice, ast.Tuple) else [owner.slice])):
            owner = owner.value
        else:
            return None
        steps += 1
    if owner.id in MODULES or steps < 2 and isinstance(receiver, ast.Subscript):
        return None
    return ast.unparse(receiver), owner.id


_OWN_PARAMETERS = ("jac makes a layer's parameters as PyTorch's constructors draw them (--seed), and sets their values "
                   "from nn.init's constant_, zeros_, ones_, eye_, normal_, uniform_, xavier_* and kaiming_* and "
                   "from writes under 'with torch.no_grad():' or into .data (copy_, fill_, zero_, mul_, add_, w[i] = "
                   "v, w.data = V, nn.Parameter(V)) made before the layer's first call, with values known without "
                   "the inputs; for values that depend on the inputs, write the layer's function of inputs you bind "
                   "(F.linear(x, W, b) with W=... b=...)")


def _numpy_put(node: ast.expr) -> bool:
    """``np.put_along_axis(y, ...)`` (NumPy's, which writes into the name ``y``; not JAX's ``inplace=False``),
    ``np.fill_diagonal(y, ...)`` and ``np.add.at(y, ...)`` / ``subtract`` / ``multiply`` / ``maximum`` /
    ``minimum``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "at" \
            and isinstance(node.func.value, ast.Attribute) \
            and node.func.value.attr in ("add", "subtract", "multiply", "maximum", "minimum") \
            and isinstance(node.func.value.value, ast.Name) and node.func.value.value.id in ("np", "numpy") \
            and node.args and isinstance(node.args[0], ast.Name):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr in ("put_along_axis", "fill_diagonal") + pasted.WRITES \
        and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy") and bool(node.args) \
        and isinstance(node.args[0], ast.Name) and not any(k.arg == "inplace" for k in node.keywords)


def _advanced(node, value, b) -> bool:
    """``y[[0, 1]]``, ``y[mask]``: indexing written with an integer or boolean array, which NumPy and
    PyTorch answer with a copy (a slice, an integer or None makes a view). Only the subscript as written
    counts, read off the getitem it made: functions lowered onto getitem (diagonal, ...) may be views."""
    if not isinstance(node, ast.Subscript) or not isinstance(value, Tracer):
        return False
    made = b.nodes[value.id]
    return made.op == "getitem" and any(isinstance(i, np.ndarray) for i in made.params["index"])


_HOLDERS = (Items, Listed, Dict)


_NEW_VIEWS = frozenset(("movedim", "moveaxis", "permute", "transpose", "swapaxes", "swapdims", "view", "view_as",
                        "expand", "expand_as", "squeeze", "narrow", "unflatten", "reshape", "reshape_as"))


def _new_view_call(expr: ast.expr) -> bool:
    """``t.movedim(1, 1)``, ``torch.permute(t, (0, 1))``, ``t.view(t.shape)``: a call PyTorch answers with a new
    tensor object (a view, or a copy), never its operand itself, though jac's node of a view that changes nothing is
    the operand's."""
    return type(expr) is ast.Call and type(expr.func) is ast.Attribute and expr.func.attr in _NEW_VIEWS


def carried(outer: dict, inner: dict, own: frozenset) -> None:
    """A scope of its own (a comprehension's, ``__init__``'s) ends: each name of the enclosing scope ``outer`` that a
    call inside rebound (a write in place into a view of its tensor, :meth:`_Lowering.written_outside`) keeps what
    it became in ``inner``; ``own``, the names the inner scope binds itself."""
    for name, value in inner.items():
        if name in outer and name not in own and outer[name] is not value and type(outer[name]) is Tracer:
            outer[name] = value


def _stored_names(targets: list) -> frozenset:
    """The names the targets ``targets`` bind (``i``, ``(a, b)``)."""
    return frozenset(n.id for t in targets for n in ast.walk(t) if type(n) is ast.Name)


def _shadowed(caller: dict, bound, fname: str, tokens: dict) -> dict:
    """The caller's arrays, lists and dicts that ``fname``'s parameters, closure or other locals (``bound``: their
    names) of the same name hide, kept in its scope under a name the text cannot write (``R outside f()``), with their
    buffers: a write into the very list or array the parameter holds (``def f(R): R[0][0] = v`` called as ``f(R)``)
    then finds the caller's name holding it too, and is followed into it (lang/views.py, :meth:`_Lowering.
    written_outside`) or refused as a change of a caller's list (:meth:`_Lowering.same_list`,
    :meth:`.scatter.Memory.check`) instead of being lost when the call ends; a local assigned before the write
    (``t = v * 0``) no longer hides that the caller's ``t`` views the buffer written."""
    hidden = {}
    for name in dict.fromkeys(bound):
        value = caller.get(name)
        if not isinstance(value, (Tracer, Items, Dict)):
            continue
        key = f"{name} outside {fname}()"
        while key in caller or key in hidden:  # a recursion: the outer call's own hidden name kept too
            key += "'"
        hidden[key] = value
        if name in tokens:
            tokens[key] = tokens[name]
    return hidden


def _holds(container, value, memo: dict | None = None) -> bool:
    """Does a list, tuple or dict of the text hold ``value`` itself, at any depth? (Looked for at each change of a
    list, in every other list of the scope: the passes over the items run in C, a loop that fills two long lists
    would otherwise spend its time here.) A walk with a stack of its own (a list nested 10,000 deep is no
    recursion); ``memo`` (id of a container -> its answer for this ``value``), shared by the calls of one scan of the
    scope, looks into each container once: ``a1 = [a0]; a2 = [a1]; ...`` costs the scan n, not n²/2."""
    memo = {} if memo is None else memo
    stack, visiting = [container], set()
    while stack:
        current = stack[-1]
        if id(current) in memo:
            stack.pop()
            continue
        items = current.values() if type(current) is Dict else current if isinstance(current, (Items, Listed)) \
            else None
        if items is None or any(map(operator.is_, items, itertools.repeat(value))):
            memo[id(current)] = items is not None
            stack.pop()
            continue
        pending = [item for item in items if isinstance(item, _HOLDERS) and id(item) not in memo
                   and id(item) not in visiting]
        if pending and id(current) not in visiting:
            visiting.add(id(current))
            stack.extend(pending)
            continue
        memo[id(current)] = any(memo.get(id(item), False) for item in items if isinstance(item, _HOLDERS))
        stack.pop()
    return memo[id(container)]


# the methods and functions whose result may be a view of their first array (PyTorch's view ops, NumPy's
# views): a write into the result may reach the array's buffer
_VIEW_CALLS = frozenset({
    "reshape", "view", "view_as", "transpose", "permute", "t", "ravel", "flatten", "unflatten", "squeeze",
    "unsqueeze", "expand", "expand_as", "broadcast_to", "narrow", "select", "diagonal", "swapaxes", "swapdims",
    "movedim", "moveaxis", "rollaxis", "adjoint", "unfold", "as_strided", "detach",
    "atleast_1d", "atleast_2d", "atleast_3d", "expand_dims", "matrix_transpose", "sliding_window_view"})


_READ_ONLY_CALLS = frozenset({"sliding_window_view"})  # NumPy's views that refuse a write (lang/names34.py)


def _read_only(node: ast.expr, read_only: dict):
    """The call a read-only view is made by (``sliding_window_view(x, 3)``), where ``node`` is one or a view of one
    (``w[0]``, ``w.T``, ``w.reshape(...)`` of a read-only ``w``), else None."""
    base = _view_base(node, _READ_ONLY_CALLS)
    if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr in _READ_ONLY_CALLS:
        return f"{base.func.attr}(...)"
    return read_only.get(base.id) if isinstance(base, ast.Name) else None


def _view_root(node: ast.expr):
    """The name a view is taken of, as written: ``y`` of ``y[:2]``, ``y.T``, ``y[0].T``, ``y.reshape(2, 2)``,
    ``torch.transpose(y, 0, 1)``; None for anything else."""
    if not isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
        return None
    base = _view_base(node)
    return base.id if isinstance(base, ast.Name) else None


def _view_base(node: ast.expr, stop=frozenset()):
    """What a chain of views written in the text is taken of: ``y`` of ``y[0].T``, ``y.reshape(2, 2)``,
    ``torch.transpose(y, 0, 1)``; the call where a view function of ``stop`` is called (``sliding_window_view(x,
    3)`` of ``sliding_window_view(x, 3)[0]``, for the read-only views); None for a module's view function called
    without arguments."""
    while True:
        if isinstance(node, ast.Subscript) or isinstance(node, ast.Attribute) and node.attr in ("T", "mT", "H", "mH"):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in stop:
            return node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _VIEW_CALLS:
            owner = node.func.value  # y.reshape(...), or torch.reshape(y, ...) / np.transpose(y) of a module
            if isinstance(owner, ast.Name) and owner.id in MODULES or isinstance(owner, ast.Attribute) \
                    and ast.unparse(owner) in MODULES:
                if not node.args:
                    return None
                node = node.args[0]
            else:
                node = owner
        else:
            return node


def _lists_only(container, value, memo: dict | None = None) -> bool:
    """Is ``value`` held in ``container`` through lists and tuples alone (no dict, no list of modules), so that
    :meth:`_Lowering.swap_inside` can rebuild it? A walk with a stack of its own, as :func:`_holds`, whose ``memo``
    it shares (its own answers are kept beside, under ``("only", id)``)."""
    memo = {} if memo is None else memo
    stack = [container]
    while stack:
        current = stack[-1]
        if ("only", id(current)) in memo:
            stack.pop()
            continue
        if type(current) is not Items:
            memo["only", id(current)] = False
            stack.pop()
            continue
        inner = [item for item in current if item is not value and isinstance(item, _HOLDERS)
                 and _holds(item, value, memo)]
        pending = [item for item in inner if ("only", id(item)) not in memo]
        if pending and ("seen", id(current)) not in memo:
            memo["seen", id(current)] = True
            stack.extend(pending)
            continue
        memo["only", id(current)] = all(memo.get(("only", id(item)), False) for item in inner)
        stack.pop()
    return memo["only", id(container)]


def _displayed_names(node: ast.expr) -> list:
    """The names a list or tuple display holds (``[a, b]``, ``(a, [b.T, c[0]])``: a, b, c), whose arrays Python's
    list holds themselves (jac stacks them into one array, a copy)."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    names = []
    for element in node.elts:
        element = element.value if isinstance(element, ast.Starred) else element
        while isinstance(element, (ast.Subscript, ast.Attribute)):
            element = element.value
        if isinstance(element, ast.Name):
            names.append(element.id)
        elif isinstance(element, (ast.List, ast.Tuple)):
            names += _displayed_names(element)
    return names


def _copy_call(node: ast.expr) -> bool:
    """``copy.copy(v)`` / ``copy.deepcopy(v)`` of Python's ``copy`` module."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
        and node.func.value.id == "copy" and node.func.attr in ("copy", "deepcopy")


def _list_copy(node: ast.expr, lists) -> bool:
    """``list(xs)``, or ``xs[:]`` of a name ``lists`` holds as Python's list: a new list, whose items, when the
    value is one vector (numbers, not rows), are Python's numbers, copied (a write into an item replaces it). For
    rows the items would be the rows themselves (``rows[0][1] = v`` changes the first list's row): not this."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list" \
            and len(node.args) == 1 and not node.keywords:
        return True
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in lists \
        and isinstance(node.slice, ast.Slice) and node.slice.lower is None and node.slice.upper is None \
        and node.slice.step is None


def _integers_first(index: tuple) -> tuple:
    """PyTorch's reading of an index with integers beside arrays, as two: ``(first, rest)``, the integers'
    selection (every other axis kept whole) and the rest of the index applied to what it leaves."""
    first = tuple(i if type(i) is int else slice(None) for i in index if i is not None)
    return first, tuple(i for i in index if type(i) is not int)


def _index_layout(items: list) -> tuple:
    """Where each axis of ``x[index]`` comes from, by NumPy's rule: ``items`` are ("advanced", None) for an
    index array (or an integer counted with them), ("dim", axis) for a slice, ("new", k) for None; the
    advanced indices' broadcast dims stand where the first of them is when they are adjacent, else first."""
    advanced = [k for k, (kind, _) in enumerate(items) if kind == "advanced"]
    rest = tuple(label for kind, label in items if kind != "advanced")
    if not advanced:
        return rest
    if advanced[-1] - advanced[0] + 1 != len(advanced):
        return ("advanced",) + rest
    return tuple("advanced" if k == advanced[0] else label for k, (kind, label) in enumerate(items)
                 if kind != "advanced" or k == advanced[0])


def expand_ellipsis(index: tuple, ndim: int, position: int) -> tuple:
    """Replace ``...`` by full slices, so every index names its axes explicitly."""
    spots = [k for k, i in enumerate(index) if i is Ellipsis]
    if len(spots) > 1:
        raise JacValueError("an index can have only one '...'", position)
    if not spots:
        return index
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    at = spots[0]
    return index[:at] + (slice(None),) * max(ndim - used, 0) + index[at + 1:]


def _op_text(op: ast.AST) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
            ast.BitAnd: "&", ast.BitXor: "^", ast.Invert: "~", ast.Not: "not"}.get(type(op), type(op).__name__)


def describe_inputs(inputs: dict) -> str:
    return ", ".join(f"{n}{fmt(s)}" for n, s in inputs.items())


class Frame:
    """The names of one call of a function of the text as the call ends, which a function defined inside the
    call sees when called later (its closure): ``values``, and which of them are Python sequences and tuples."""

    __slots__ = ("values", "sequences", "tuples")

    def __init__(self):
        self.values, self.sequences, self.tuples = {}, set(), set()


_NO_CLOSURE = Frame()  # never written: a Frame is filled only by the call that made it


class Function:
    """``def NAME(...): ...`` or ``lambda ...: ...`` of the text: lowered again at each call with its parameters
    bound to the call's arguments (``_Lowering.call_function``), as tracing runs a Python function, so a call is
    the function's body written out; ``result`` is the returned expression, ``body`` the statements before it;
    ``closure``, the :class:`Frame` of the call it was defined in (none at the text's top level)."""

    closure = _NO_CLOSURE
    defaulted = ((), ())  # the parameters whose defaults are a Python sequence, and a tuple (def f(v, s=(2, 3)))
    early = False  # it returns inside its blocks (``if k > 0: return a``): ``body`` is all of it, ``result`` None
    changed = MappingProxyType({})  # default name -> what changed it in place (replaced, never changed)

    def __init__(self, name: str, node, defaults: dict, body: list, result: ast.expr):
        self.name, self.node, self.defaults, self.body, self.result = name, node, defaults, body, result
        a = node.args
        self.positional = [p.arg for p in a.posonlyargs + a.args]
        self.keyword_only = [p.arg for p in a.kwonlyargs]
        self.positional_only = len(a.posonlyargs)
        self.varargs = a.vararg.arg if a.vararg else None  # def f(*xs): the rest of the positional arguments
        self.varkw = a.kwarg.arg if a.kwarg else None  # def f(**kw): the rest of the keyword arguments

    def signature(self) -> str:
        rest = ([f"*{self.varargs}"] if self.varargs else []) + ([f"**{self.varkw}"] if self.varkw else [])
        return f"{self.name}({', '.join(self.positional + self.keyword_only + rest)})"

    def bind(self, args: list, kwargs: dict, position: int) -> dict:
        """The parameters' values for a call, as Python binds them (its TypeErrors are JacValueErrors): ``*xs``
        a tuple of the arrays left over, ``**kw`` a dict of the keywords left over."""
        if len(args) > len(self.positional) and self.varargs is None:
            count = len(self.positional)
            raise JacValueError(f"{self.name}() takes {count} positional argument{'s' * (count != 1)} but {len(args)} "
                                f"{'was' if len(args) == 1 else 'were'} given", position)
        bound = dict(zip(self.positional, args))
        extra = {}
        for key, value in kwargs.items():
            if key not in self.positional[self.positional_only:] and key not in self.keyword_only:
                if self.varkw is None:
                    raise JacValueError(f"{self.name}() got an unexpected keyword argument '{key}'", position)
                extra[key] = value
                continue
            if key in bound:
                raise JacValueError(f"{self.name}() got multiple values for argument '{key}'", position)
            bound[key] = value
        if self.varargs is not None:
            bound[self.varargs] = self.collected(args[len(self.positional):], f"*{self.varargs}", position)
        if self.varkw is not None:
            self.collected(list(extra.values()), f"**{self.varkw}", position)
            bound[self.varkw] = Dict(extra.items(), position)
        for key in self.positional + self.keyword_only:
            if key not in bound:
                if key not in self.defaults:
                    raise JacValueError(f"{self.name}() missing required argument: '{key}'", position)
                bound[key] = self.defaults[key]
        return bound

    def collected(self, values: list, what: str, position: int) -> Items:
        """The arguments ``*args`` or ``**kwargs`` collects: arrays (numbers among them), as a tuple."""
        for value in values:  # what a plain argument may hold (session 54: bools, strings, None, dtypes, modules)
            if not (value is None or type(value) in (Tracer, bool, Static, Items, Dict)
                    or isinstance(value, (Module, Sequential, Instance, Listed)) or plain.plain_instance(value)):
                raise JacValueError(f"{self.name}(): jac collects arrays, numbers, bools, strings, None, dtypes, "
                                    f"tuples, dicts and modules into {what}; a {type(value).__name__} among them: "
                                    "name a parameter for it", position)
        out = Items(values)
        out.display = "tuple"
        return out


_CONTAINERS = frozenset(("Sequential", "ModuleList", "ModuleDict"))
# the methods of a module jac reads (_Lowering.module_method)
_MODULE_METHODS = frozenset(("parameters", "named_parameters", "children", "named_children", "eval", "train", "keys",
                             "values", "items", "double", "register_buffer",
                             "to", "cpu", "cuda", "float", "modules", "named_modules", "apply"))


def _compare_strings(op: ast.cmpop, kids: list, position: int) -> bool:
    """Python's ``'bias' in name``, ``name == 'fc.bias'`` of a parameter's name (strings known without the values)."""
    left, right = (k.value if isinstance(k, Static) else k for k in kids)
    if not (isinstance(left, str) and isinstance(right, str)):
        raise JacValueError("a name (a string) is compared with another string here ('bias' in name, name == "
                            "'fc.weight')", position)
    compare = {ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b, ast.Eq: lambda a, b: a == b,
               ast.NotEq: lambda a, b: a != b}.get(type(op))
    if compare is None:
        raise JacParseError("strings are compared with in, not in, == and != here", position)
    return compare(left, right)


def _ordered_dict(node: ast.expr) -> bool:
    """``OrderedDict([...])`` / ``collections.OrderedDict(...)``: the named modules of an nn.Sequential."""
    return isinstance(node, ast.Call) and ast.unparse(node.func) in ("OrderedDict", "collections.OrderedDict") \
        and len(node.args) <= 1 and not node.keywords


class ModelClass:
    """``class NAME(nn.Module)`` of the text: its methods' ``def`` nodes, written out at each call."""

    entry = "forward"  # what calling an instance runs

    def __init__(self, name: str, methods: dict):
        self.name, self.methods = name, methods
        self.functions: dict = {}  # method -> Function, defined once (defaults lowered once, as Python does)

    def function(self, lowering, method: str) -> Function:
        """The method as a :class:`Function` of ``lowering`` (one object per method: a method calling itself
        is found by :meth:`_Lowering.call_function`)."""
        if method not in self.functions:
            self.functions[method] = lowering.define(self.methods[method], returns=method != "__init__")
        return self.functions[method]


class Instance:
    """An instance of a :class:`ModelClass` made at the text's top level: the attributes its ``__init__`` set
    (layers, parameters as inputs, numbers), ``prefix`` its parameters' names' start (``net``)."""

    training = True  # a model just made trains; .eval() / .train(False) set it, here and in what it holds

    def __init__(self, cls: ModelClass, prefix: str, lowering=None):
        self.cls, self.prefix, self.attributes, self.lowering = cls, prefix, {}, lowering

    def call(self, b, args: list, kwargs: dict, position: int):
        """The instance called (its ``forward``), held in a container (``nn.Sequential(Block(3), ...)``)."""
        return self.lowering.call_method(self, self.cls.entry, args, kwargs, position)

    def children(self) -> list:
        """Its modules, in the order ``__init__`` set them."""
        return [(k, v) for k, v in self.attributes.items() if isinstance(v, (Module, Sequential, Instance, Parameters))]

    def own_parameters(self) -> list:
        """Its ``self.NAME = nn.Parameter(...)`` attributes, in the order ``__init__`` set them."""
        leaves = self.lowering.leaves or {}
        return [(k, v) for k, v in self.attributes.items()
                if type(v) is Tracer and leaves.get(f"{self.prefix}.{k}") is v]


class Parameters:
    """``nn.ParameterDict`` / ``nn.ParameterList`` a model holds (session 37): a child module whose parameters are
    ``attributes`` (key -> input; ``torch.func.functional_call`` swaps them there), read as the dict or list of
    them, made at each read."""

    training = True

    def __init__(self, cls: str, pairs: list, prefix: str):
        self.cls, self.attributes, self.prefix = cls, dict(pairs), prefix

    def own_parameters(self) -> list:
        return list(self.attributes.items())

    def children(self) -> list:
        return []

    def read(self):
        if self.cls == "ParameterDict":
            return Dict(self.attributes.items())
        return trees.written(list(self.attributes.values()), "list")


def _parameter_of(node: ast.expr):
    """``X`` of ``nn.Parameter(X)`` (``requires_grad=True`` allowed), else None."""
    if type(node) is ast.Call and ast.unparse(node.func) in _PARAMETER and len(node.args) == 1 \
            and all(k.arg == "requires_grad" and type(k.value) is ast.Constant and k.value.value is True
                    for k in node.keywords):
        return node.args[0]
    return None


def _dict_of_zip(node: ast.Call) -> bool:
    """Is ``node`` ``dict(zip(...))`` or ``dict(enumerate(...))``?"""
    return type(node.func) is ast.Name and node.func.id == "dict" and len(node.args) == 1 \
        and isinstance(node.args[0], ast.Call) and isinstance(node.args[0].func, ast.Name) \
        and node.args[0].func.id in ("zip", "enumerate")


def _call_on_name(stmt: ast.stmt):
    """``(name, method)`` of ``name.method(...)`` as a statement (``model.eval()``, ``optimizer.step()``), else None."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return call.func.value.id, call.func.attr
    return None


def _nested_names(target: ast.AST) -> bool:
    """Is ``target`` a tuple of names (or of such tuples, one name starred in each), as in
    ``out, (h, c) = lstm(x)``?"""
    return isinstance(target, (ast.Tuple, ast.List)) and all(
        isinstance(t, ast.Name) or _nested_names(t) or _starred_name(t) for t in target.elts)


def _starred_name(target: ast.AST) -> bool:
    """``*rest`` of ``first, *rest = xs``."""
    return isinstance(target, ast.Starred) and isinstance(target.value, ast.Name)


def _assigned_call(stmt: ast.stmt):
    """``(name, call)`` of ``name = call(...)`` (one name assigned a call), else None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
            and isinstance(stmt.value, ast.Call):
        return stmt.targets[0].id, stmt.value
    return None


_MADE_THEN = frozenset(("double", "float", "train", "eval", "to", "cpu", "cuda"))  # methods returning the module


def _made_then(call: ast.Call) -> tuple:
    """``(made, [calls])`` of ``MADE(...).to(device).eval()``: the call that makes a module and the calls of its
    methods that return it (:data:`_MADE_THEN`), innermost first."""
    then = []
    while isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call) \
            and call.func.attr in _MADE_THEN:
        then.append(call)
        call = call.func.value
    return call, then[::-1]


def _optimizer_made(stmt: ast.stmt) -> str | None:
    """``optimizer`` of ``optimizer = torch.optim.SGD(...)`` (an optimizer or a scheduler), else None."""
    found = _assigned_call(stmt)
    return found[0] if found is not None and _OPTIMIZER.match(ast.unparse(found[1].func)) else None


# the grad modes a 'with' statement sets: off (no_grad), inference (inference_mode: off, and its results inference
# tensors), on (enable_grad); other spellings (a mode computed, set_grad_enabled(train)) stay refused as 'with' is
_GRAD_MODES = MappingProxyType({
    **dict.fromkeys(("torch.no_grad()", "no_grad()", "torch.autograd.no_grad()", "torch.set_grad_enabled(False)",
                     "torch.autograd.set_grad_enabled(False)", "torch.set_grad_enabled(mode=False)"), "off"),
    **dict.fromkeys(("torch.inference_mode()", "torch.inference_mode(True)", "torch.inference_mode(mode=True)",
                     "torch.autograd.inference_mode()"), "inference"),
    **dict.fromkeys(("torch.enable_grad()", "torch.autograd.enable_grad()", "torch.set_grad_enabled(True)",
                     "torch.set_grad_enabled(mode=True)", "torch.inference_mode(False)",
                     "torch.inference_mode(mode=False)"), "on"),
})



def _nested_with(stmt: ast.With, source: Source) -> ast.With:
    """``with A, B: body`` as the ``with A: with B: body`` Python runs it as (A entered first, B innermost: for grad
    modes, B's wins inside), where each of A, B is a grad mode jac reads alone (``_GRAD_MODES``); a mixture with
    another context manager (``with torch.no_grad(), open(p):``) refused, naming the one jac does not read."""
    for item in stmt.items:
        spelling = ast.unparse(item.context_expr)
        if item.optional_vars is not None or spelling not in _GRAD_MODES:
            written = spelling if item.optional_vars is None else f"{spelling} as {ast.unparse(item.optional_vars)}"
            raise JacParseError(f"'with {ast.unparse(stmt.items[0].context_expr)}, ...': jac reads a 'with' of grad "
                                f"modes only (torch.no_grad(), torch.enable_grad(), torch.set_grad_enabled(B), "
                                f"torch.inference_mode()), not '{written}'", source.at(item.context_expr))
    inner = ast.copy_location(ast.With(items=stmt.items[1:], body=stmt.body), stmt)
    return ast.copy_location(ast.With(items=stmt.items[:1], body=[inner]), stmt)


_OPTIMIZER = re.compile(r"(?:torch\.)?optim\.(?:lr_scheduler\.)?[A-Za-z_]\w*\Z")


class Optimizer:
    """``torch.optim.NAME(...)`` made at the text's top level: its ``zero_grad()`` before ``loss.backward()``
    and its ``step()`` after are read as nothing (jac prints the gradients the step would use)."""


def _super_init(stmt: ast.stmt) -> bool:
    """``super().__init__()``, ``super(Net, self).__init__()``, ``nn.Module.__init__(self)`` as a statement."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "__init__"):
        return False
    owner = call.func.value
    return isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super" \
        or ast.unparse(owner) in ("nn.Module", "torch.nn.Module")


def _no_effect(stmt: ast.stmt) -> bool:
    """A statement Python runs without effect: a docstring (a string alone), ``pass``, ``x: torch.Tensor``."""
    return isinstance(stmt, ast.Pass) or isinstance(stmt, ast.AnnAssign) and stmt.value is None \
        or isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


_PARAMETER = frozenset(("nn.Parameter", "torch.nn.Parameter", "nn.parameter.Parameter",
                        "torch.nn.parameter.Parameter"))
_PARAMETER_CONTAINERS = frozenset(("nn.ParameterDict", "torch.nn.ParameterDict", "nn.ParameterList",
                                   "torch.nn.ParameterList"))


def _declaring(stmt: ast.stmt):
    """``(name, constructor call, its requires_grad keyword or None)`` of ``x = torch.tensor(v,
    requires_grad=True)``, ``x: Tensor = torch.ones(3, requires_grad=True)`` or ``x =
    torch.randn(3).requires_grad_()``; None for any other statement."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return None
    if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
        return None
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == "requires_grad_" and _true_or_nothing(value) \
            and not isinstance(func.value, ast.Name):  # x = x.requires_grad_() is _marked's
        return target.id, func.value, None
    if ast.unparse(func) in _PARAMETER and len(value.args) == 1 and isinstance(value.args[0], ast.Call) \
            and all(k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in value.keywords):  # nn.Parameter(torch.randn(3, 4)): requires grad by default
        return target.id, value.args[0], None
    for keyword in value.keywords:
        if keyword.arg == "requires_grad" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True:
            return target.id, value, keyword
    return None


def _marked(stmt: ast.stmt) -> str | None:
    """``x`` of ``x.requires_grad_()``, ``x.requires_grad = True`` or ``x = x.requires_grad_()``; else None."""
    owner = None
    if isinstance(stmt, ast.Expr):
        call = stmt.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_" \
                and _true_or_nothing(call):
            owner = call.func.value
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute) \
            and stmt.targets[0].attr == "requires_grad" and isinstance(stmt.value, ast.Constant) \
            and stmt.value.value is True:
        owner = stmt.targets[0].value
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
            and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
            and stmt.value.func.attr == "requires_grad_" and _true_or_nothing(stmt.value) \
            and isinstance(stmt.value.func.value, ast.Name) and stmt.value.func.value.id == stmt.targets[0].id:
        owner = stmt.value.func.value
    return owner.id if isinstance(owner, ast.Name) else None


def _backward_call(stmt: ast.stmt) -> ast.Call | None:
    """The call of ``y.backward(...)`` as a statement of its own, else None."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "backward":
        return call
    return None


def _prints(stmt: ast.stmt) -> bool:
    """``print(...)`` as a statement."""
    value = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print"


def _prints_or_grad(stmt: ast.stmt) -> bool:
    """``print(...)``, ``x.grad`` or ``x.grad, w.grad`` (a notebook's last line) as a statement: what may
    follow ``y.backward()``."""
    if _prints(stmt):
        return True
    value = stmt.value if isinstance(stmt, ast.Expr) else None
    shown = value.elts if isinstance(value, ast.Tuple) else [value]
    return all(isinstance(v, ast.Attribute) and v.attr == "grad" for v in shown)


def _true_or_nothing(call: ast.Call) -> bool:
    """``requires_grad_()`` or ``requires_grad_(True)``: no other argument."""
    given = list(call.args) + [k.value for k in call.keywords]
    return not given or len(given) == 1 and isinstance(given[0], ast.Constant) and given[0].value is True


def _written_name(stmt: ast.stmt) -> str | None:
    """The name a writing statement (:func:`_writes`) writes into: ``y`` of ``y += v``, ``y[i] = v``,
    ``y.add_(v)``, ``np.put_along_axis(y, ...)``; None when it is no plain name."""
    if isinstance(stmt, ast.AugAssign):
        target = stmt.target.value if isinstance(stmt.target, ast.Subscript) else stmt.target
    elif isinstance(stmt, ast.Assign):
        subscripts = [t for t in stmt.targets if isinstance(t, ast.Subscript)]
        target = subscripts[0].value if len(subscripts) == 1 and len(stmt.targets) == 1 else None
    else:
        call = stmt.value
        target = call.func.value if _in_place_method(call) else call.args[0] if call.args else None
    while isinstance(target, ast.Subscript):  # R[i][j] = v writes the list R holds (_Lowering.nested_write)
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


# the node kinds _nested_written reads (ast's classes are final in practice: no subclass reaches a parse)
_WRITE_KINDS = frozenset((ast.Assign, ast.AugAssign, ast.Call, ast.Delete, ast.For))


def _nested_written(module: ast.Module) -> tuple:
    """The names whose Python lists the text writes into below their first level, or item by item: the root
    ``R`` of ``R[i][j] = v``, ``R[i] = v``, ``R[i].append(v)``, and of ``row = R[i]`` / ``for row in R`` where
    ``row`` is written so, and the lists such a list holds or is held in (``R = [a, b]``); jac holds such a nested
    list as lists of items, not as one constant array. Second, the names among them put into such a list as an item
    (``a``) or changed by a list's method (``a.insert(0, v)``), which jac holds as a list of items even where they
    hold numbers."""
    def root(node):
        while isinstance(node, ast.Subscript):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None
    written, aliases, held, changed = set(), [], [], set()
    defs = {node.name: [a.arg for a in node.args.posonlyargs + node.args.args]
            for node in ast.walk(module) if isinstance(node, ast.FunctionDef)}
    for node in ast.walk(module):
        if type(node) not in _WRITE_KINDS:  # every test below is of one of these (a third of a long text's parse)
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AugAssign) else []
        targets = [e for t in targets for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])]
        written.update(root(t) for t in targets if isinstance(t, ast.Subscript))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defs:
            # fill(R, i, v) of def fill(T, i, v): T[i][j] = v: R is the list T writes into
            aliases.extend((p, root(a)) for p, a in zip(defs[node.func.id], node.args) if root(a) is not None)
            aliases.extend((k.arg, root(k.value)) for k in node.keywords if k.arg and root(k.value) is not None)
        if isinstance(node, ast.Delete):  # del R[0], del R[i][j]
            written.update(root(t) for t in node.targets if isinstance(t, ast.Subscript))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _LIST_CHANGES + pylists.ORDERING:
            written.add(root(node.func.value))
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value.args[0] if isinstance(node.value, ast.Call) and len(node.value.args) == 1 \
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "list" else node.value
            if isinstance(value, (ast.Subscript, ast.Name)):  # row = R[0], S = R, S = R[:], S = list(R)
                aliases.append((node.targets[0].id, root(value)))
            elif isinstance(value, ast.Call) and (_copy_call(value) or isinstance(value.func, ast.Attribute)
                                                  and value.func.attr == "copy" and not value.args):
                aliases.append((node.targets[0].id, root(value.args[0] if value.args else value.func.value)))
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            aliases.append((node.target.id, root(node.iter)))
        if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and len(node.target.elts) == 2 \
                and isinstance(node.target.elts[1], ast.Name) and isinstance(node.iter, ast.Call) \
                and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "enumerate" and node.iter.args:
            aliases.append((node.target.elts[1].id, root(node.iter.args[0])))  # for i, row in enumerate(R)
        held.extend(_held_names(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.attr in _LIST_CHANGES + pylists.ORDERING:  # terms = [a]; terms.append(b): a list
            changed.add(node.func.value.id)
    nested = written | {r for a, r in aliases if a in written}
    # R = [a, b] with a[0] = v, or R[0][1] = v: R and a are lists of each other's (pylists.build): what a search
    # from the written names reaches, a container to what it holds, a name held as an item to its container
    reaches = {}
    for container, item, both in held:
        reaches.setdefault(container, []).append(item)
        if both:
            reaches.setdefault(item, []).append(container)
    pending = list(nested)
    while pending:
        for name in reaches.get(pending.pop(), ()):
            if name not in nested:
                nested.add(name)
                pending.append(name)
    return frozenset(nested) - {None}, frozenset(e for c, e, both in held if both and c in nested) | changed


def _held_names(node: ast.AST) -> list:
    """(container, name, True) for each name a statement puts into a list as an item: ``R = [a, b]``, ``[row] * 2``,
    ``[row[:] for _ in ...]``, ``R.append(row)``, ``R.insert(0, row)``, ``R[i] = row``; (container, name, False)
    for a name whose item it puts (``S = [R[0], R[1]]``: a list holding R's lists)."""
    def items(value):
        found, pending = [], [value]
        while pending:
            part = pending.pop()
            if isinstance(part, ast.List):
                pending.extend(part.elts)
            elif isinstance(part, ast.ListComp):
                pending.append(part.elt)
            elif isinstance(part, ast.BinOp) and isinstance(part.op, ast.Mult):
                pending.extend((part.left, part.right))
            elif isinstance(part, ast.Name):
                found.append((part.id, True))
            elif isinstance(part, ast.Subscript) and isinstance(part.slice, ast.Slice):  # row[:]
                pending.append(part.value)
            elif isinstance(part, ast.Subscript):  # S = [R[0], R[1]]: R holds the lists S holds
                root = part.value
                while isinstance(root, ast.Subscript):
                    root = root.value
                if isinstance(root, ast.Name):
                    found.append((root.id, False))
            elif isinstance(part, ast.Call) and not part.keywords and len(part.args) <= 1 and (
                    isinstance(part.func, ast.Name) and part.func.id == "list"
                    or isinstance(part.func, ast.Attribute) and part.func.attr == "copy"):
                pending.extend(part.args or [part.func.value])
        return found
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        while isinstance(target, ast.Subscript):
            target = target.value
        if isinstance(target, ast.Name) and isinstance(node.value, (ast.List, ast.ListComp, ast.BinOp, ast.Name)):
            names = items(node.value) if not isinstance(node.value, ast.Name) or target is not node.targets[0] \
                else []
            return [(target.id, n, both) for n, both in names]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "insert") \
            and node.args:
        container = node.func.value
        while isinstance(container, ast.Subscript):
            container = container.value
        if isinstance(container, ast.Name) and isinstance(node.args[-1], ast.Name):
            return [(container.id, node.args[-1].id, True)]
    return []


def _returns(body: list) -> list:
    """The ``return`` statements of a function's body, in its blocks too, nested functions and classes aside."""
    found, pending = [], list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pending.extend(child for child in ast.iter_child_nodes(node)
                           if isinstance(child, (ast.stmt, ast.excepthandler)))
        elif isinstance(node, ast.excepthandler):
            pending.extend(node.body)
    return sorted(found, key=lambda r: (r.lineno, r.col_offset))


def _assigned(body: list) -> frozenset:
    """The names a function's statements assign (Python's local names of its body), nested functions and
    comprehensions (scopes of their own) aside."""
    found, pending = set(), list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
                             ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            if hasattr(node, "name"):
                found.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        pending.extend(ast.iter_child_nodes(node))
    return frozenset(found)


def _writes(stmt: ast.stmt) -> bool:
    """A statement writing into an array: ``y += v``, ``y[i] = v``, ``y.add_(v)``, ``np.put_along_axis(y, ...)``."""
    return isinstance(stmt, ast.AugAssign) or isinstance(stmt, ast.Assign) \
        and any(isinstance(t, ast.Subscript) for t in stmt.targets) \
        or isinstance(stmt, ast.Expr) and (_in_place_method(stmt.value) or _numpy_put(stmt.value))


_DIALECTS = {"torch": "torch", "F": "torch", "nn": "torch", "np": "numpy", "numpy": "numpy", "jnp": "numpy",
             "scipy": "numpy"}
_JAX = frozenset(("jnp", "jax", "lax"))  # a text naming these alone reads its operators as JAX (_JAX_OPERATORS)
# the operators JAX computes otherwise than NumPy: mask * x is a select, x // y's zero has y's sign, x ** 0.5 is pow
_JAX_OPERATORS = MappingProxyType({"mul": masked_product, "floor_divide": jax_floor_divide, "pow": c_power})
_DIVIDEND_SIGN = frozenset(("torch", "F", "nn")) | _JAX  # their remainder's zero: the dividend's sign
_LIBRARY_ROOTS = frozenset(_DIALECTS) | _DIVIDEND_SIGN  # math.pi beside torch.sin: still PyTorch's %


# constructors that make a float array of a float literal written in them (_Lowering.float_index)
_FLOAT_MAKERS = frozenset(("tensor", "array", "asarray", "as_tensor", "arange", "Tensor", "FloatTensor",
                           "DoubleTensor"))


# constructors whose array is float whatever their sizes (without a dtype: np.ones(2, int) is an integer array)
_FLOAT_ALWAYS = frozenset(("ones", "zeros", "empty", "eye", "linspace", "logspace", "rand", "randn"))
_FLOAT_ANY_ARGS = frozenset(("linspace", "logspace", "rand", "randn"))  # no dtype among their first arguments


# torch.tensor([]), np.array([]) without dtype=: float32 / float64, no index (session 48, torchprog37 seed 4810);
# a bare [] is an index of nothing in both libraries
_EMPTY_FLOAT_MAKERS = frozenset(("tensor", "array", "asarray", "as_tensor", "Tensor", "FloatTensor"))


def _empty_display(item: ast.AST) -> bool:
    """``torch.tensor([])``, ``np.array([[]])``: a call whose first argument is a display holding no number, and no
    ``dtype=``."""
    if not isinstance(item, ast.Call) or not item.args or any(k.arg == "dtype" for k in item.keywords):
        return False
    pending = [item.args[0]]
    if type(pending[0]) not in (ast.List, ast.Tuple):
        return False
    while pending:
        node = pending.pop()
        if type(node) not in (ast.List, ast.Tuple):
            return False
        pending.extend(node.elts)
    return True


def _float_literal(item: ast.AST) -> bool:
    """A float literal among ``item``'s arguments or elements, not inside another call (``[0., 1.]``,
    ``arange(2.0)``; not ``[int(2.0)]``): the array made of it is float. Arrays of shape arithmetic
    (``torch.arange(x.shape[0])``), whose values jac holds as floats, hold none."""
    todo = list(item.args) + [k.value for k in item.keywords] if isinstance(item, ast.Call) else [item]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Constant) and type(node.value) is float:
            return True
        if not isinstance(node, ast.Call):
            todo.extend(ast.iter_child_nodes(node))
    return False


def _pair_output(what: str, pair: Pair) -> str:
    """Why a PyTorch (values, indices) or (statistic, mean) pair is no output: PyTorch's result is a tuple, and
    showing its first part alone would answer another question than the one asked."""
    named = not any(n.isdigit() for n in pair.names)
    parts = pair.names if named else pair.fname.split("_")  # std_mean: (std, mean)
    pick = ", ".join(f".{n} or [{i}]" if named else f"[{i}] for the {n}" for i, n in enumerate(parts))
    return (f"{what} is the pair ({', '.join(parts)}) that {pair.fname} returns, a tuple in PyTorch: pick one part "
            f"({pick}), or name both as outputs (a, b = ...; a, b)")


# PyTorch's modules and functions that answer with their argument itself where they change nothing (`g is t`, PyTorch
# 2.13: nn.Identity; dropout with p=0 or out of training), and the modules the functions are read from
_PASSING_MODULES = frozenset(("Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                              "FeatureAlphaDropout"))
_PASSING_FUNCTIONS = frozenset(("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                "feature_alpha_dropout"))
_PASSING_OWNERS = frozenset(("F", "torch", "nn.functional", "torch.nn.functional"))
# PyTorch's view methods, whose chain down to a copy _Lowering.copy_layouts reads
_VIEW_METHODS = frozenset(("t", "transpose", "permute", "expand", "expand_as", "unsqueeze", "view", "swapaxes",
                           "swapdims", "movedim", "narrow", "squeeze"))


# the operators PyTorch refuses for a bool tensor (dtypes.torch_operator)
_TORCH_BOOL_OPERATORS = frozenset(("sub", "pow", "floor_divide", "remainder"))
# PyTorch's names of the integer and bool dtypes, as its messages write them
_TORCH_DTYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
def _viewed_name(expr: ast.expr) -> str | None:
    """The name whose buffer ``expr`` is in PyTorch for certain: the name itself, or views PyTorch makes of it
    (``t.detach()``, ``t.T``, ``t.view(...)``, ``t[0]``, ``t[1:]``); None for anything else (a copy, or an op
    whose result may be either: ``reshape``, an index array)."""
    base = _torch_view_base(expr)
    return base.id if type(base) is ast.Name else None


def _torch_view_base(expr: ast.expr) -> ast.expr:
    """What a chain of views PyTorch makes for certain (:func:`_viewed_name`'s) is taken of: ``t.clone()`` of
    ``t.clone().detach()[0]``; ``expr`` itself when it is no such view."""
    while True:
        kind = type(expr)
        if kind is ast.Call and type(expr.func) is ast.Attribute and expr.func.attr in _TORCH_VIEWS:
            expr = expr.func.value
        elif kind is ast.Attribute and expr.attr in ("T", "mT", "data"):
            expr = expr.value
        elif kind is ast.Subscript and _basic(expr.slice):
            expr = expr.value
        else:
            return expr


def _basic(index: ast.expr) -> bool:
    """Is the subscript ``index`` written with slices without a step, integers, None and Ellipsis alone (a view
    PyTorch makes for certain)?"""
    return all(type(i) is ast.Slice and i.step is None or type(i) is ast.Constant
               and (i.value is None or i.value is Ellipsis or type(i.value) is int)
               for i in (index.elts if type(index) is ast.Tuple else [index]))


_TORCH_VIEWS = frozenset(("detach", "view", "view_as", "t", "transpose", "permute", "unsqueeze", "squeeze", "expand",
                          "expand_as", "narrow", "select", "swapaxes", "swapdims", "movedim", "diagonal", "unflatten"))
# y op= v: the in-place op whose kept operands may share y's buffer (ir/saved.py: in_place_kept)
_IN_PLACE_SAVERS = {ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
# the operators whose op may save its operands for PyTorch's backward (ir/saved.py)
_TORCH_MODULES = frozenset(("torch", "F", "torch.linalg", "torch.special", "torch.nn.functional", "nn.functional"))


def _torch_module(node: ast.expr) -> bool:
    """Does ``node`` spell one of PyTorch's function modules (``torch``, ``F``, ``torch.linalg``, ...)?"""
    return _dotted(node) in _TORCH_MODULES


def _root_name(node: ast.expr) -> str | None:
    """``t`` of ``t.a.b``; None where the chain starts at no name (``t.detach().T``: a call)."""
    while type(node) is ast.Attribute:
        node = node.value
    return node.id if type(node) is ast.Name else None


# PyTorch's calls whose result jac's graph shows as a view or an element-wise op, where PyTorch copies: in the
# operand's layout (clone and flip keep a dense one: preserve_format) or contiguous (repeat, tile, masked_fill)
_LAYOUTS = {**dict.fromkeys(("clone", "flip", "fliplr", "flipud"), "like"),
            **dict.fromkeys(("repeat", "tile", "masked_fill", "masked_scatter", "repeat_interleave"), "fresh")}
# a float dtype the text shows (x.float(), dtype=torch.float64, set_default_dtype): _Lowering.float_dtype is read
_CONVERTS = re.compile(r"\.(float|double|to|type)\(|float64|torch\.double|set_default_dtype")
_PYITER_WORDS = re.compile(r"\b(?:zip|enumerate|map|filter|itertools|functools|operator|prod)\b")  # lang/pyiter.py's
_PYITER_MODULES = re.compile(r"\b(?:itertools|functools|operator|math)\b")
_TORCH_ONLY = frozenset({"torch"})  # a text importing NumPy or JAX too may index their arrays (x[::-1])
_TORCH_FLOATS = {"torch.float32": "float32", "torch.float": "float32", "torch.float64": "float64",
                 "torch.double": "float64"}
# PyTorch's products, which refuse operands of two float dtypes ("expected m1 and m2 to have the same dtype"; outer,
# ger, kron and addr promote, as element-wise ops do), and the few other calls that refuse them (lerp,
# binary_cross_entropy, heaviside), each checked against PyTorch (tests/test_saved36.py)
_ONE_FLOAT = frozenset(("mm", "matmul", "mv", "dot", "vdot", "bmm", "inner", "tensordot", "cross", "cdist", "addmm",
                        "addmv", "baddbmm", "linear", "einsum", "solve", "multi_dot", "chain_matmul", "vecdot",
                        "bilinear", "lerp", "binary_cross_entropy", "heaviside",
                        # session 37 (tests/test_dtypes37.py): layers and losses that refuse a mix too
                        "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                        "batch_norm", "layer_norm", "group_norm", "instance_norm", "prelu", "cross_entropy",
                        "nll_loss"))
# methods whose result PyTorch holds in their tensor's dtype: views and copies
_SAME_DTYPE_METHODS = frozenset(("t", "reshape", "view", "transpose", "permute", "unsqueeze", "squeeze", "contiguous",
                                 "clone", "flatten", "expand", "movedim", "swapaxes", "detach", "requires_grad_",
                                 "fill_", "zero_", "cpu"))


_SCALAR_KEEPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
# float functions of one tensor whose result keeps a float argument's dtype (torch.sin(x), x.exp()): float_dtype
_FLOAT_KEEPING = frozenset(("sin", "cos", "tan", "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt",
                            "rsqrt", "tanh", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
                            "sigmoid", "erf", "erfc", "abs", "neg", "relu", "square", "reciprocal", "sign"))
# PyTorch's constructors whose float result _Lowering.made_dtype reads: "float" (always PyTorch's default dtype unless
# dtype= says), "data" (torch.tensor of Python numbers, a float among them), "numbers" (a float argument), "like"
# (the first argument's dtype)
_MAKERS = {**dict.fromkeys(("ones", "zeros", "empty", "rand", "randn", "eye", "linspace", "logspace"), "float"),
           **dict.fromkeys(("tensor", "as_tensor"), "data"), **dict.fromkeys(("arange", "full"), "numbers"),
           **dict.fromkeys(("ones_like", "zeros_like", "empty_like", "rand_like", "randn_like", "full_like",
                            "Parameter"), "like")}
_MAKERS_OF = frozenset(("torch", "nn", "torch.nn"))  # the modules spelling them (nn.Parameter)
_PROMOTING = frozenset(("outer", "ger", "kron", "cat", "concat", "concatenate", "stack", "hstack", "vstack"))


def _converted_to(method: str, args: list, kwargs: dict) -> str | None:
    """The float dtype ``module.double()`` / ``.float()`` / ``.to(torch.float64)`` gives a module's parameters (None:
    not known, as for ``.to(device)``; the device then keeps the dtype, which jac does not follow)."""
    if method in ("double", "float"):
        return "float64" if method == "double" else "float32"
    for value in list(args) + [kwargs.get("dtype")]:
        dtype = getattr(value, "value", None)
        if isinstance(dtype, DType) and dtype.name in ("float64", "double", "float32", "float"):
            return "float64" if dtype.name in ("float64", "double") else "float32"
    return None


# what PyTorch says of a float32 input to a float64 module's parameters (or back), by the module's class
_MIXED = (("Conv", "Input type ({}) and bias type ({}) should be the same"), ("PReLU", "prelu: Type promoting not supported"),
          *((norm, "mixed dtype (CPU)") for norm in ("LayerNorm", "GroupNorm", "BatchNorm", "InstanceNorm")))


def _written_dtype(written) -> str | None:
    """The float dtype a layer's ``dtype=`` (lowered to ``written``) gives its parameters: ``nn.Linear(3, 2,
    dtype=torch.float64)``, ``nn.LayerNorm(4, dtype=torch.float64)`` (session 38; the norms since session 51)."""
    dtype = getattr(written.value if isinstance(written, Static) else written, "name", None)
    return {"float": "float32", "double": "float64"}.get(dtype, dtype) if dtype in ("float32", "float64", "float",
                                                                                    "double") else None


def _layer_dtype(module) -> str | None:
    """The float dtype a layer's ``dtype=`` gives its parameters (``nn.Linear(3, 2, dtype=torch.float64)``), or None."""
    return getattr(module, "written_dtype", None)


def _given_a_dtype(text: str) -> bool:
    """Does the text make a layer with a ``dtype=`` (``nn.Linear(3, 2, dtype=torch.float64)``)? (Its dtype is not
    kept on the module: such a text is not read for a layer's float32, _Lowering.layer_of_one_float.)"""
    return any(type(n) is ast.Call and type(n.func) is ast.Attribute and _dotted(n.func.value) in ("nn", "torch.nn")
               and any(k.arg == "dtype" for k in n.keywords) for n in ast.walk(ast.parse(text)))


def _float_literals(data: ast.expr) -> bool:
    """Is ``data`` Python's numbers (a number, or nested list / tuple displays of them) with a float among them?"""
    found, pending = False, [data]
    while pending:
        node = pending.pop()
        if type(node) in (ast.List, ast.Tuple):
            pending.extend(node.elts)
            continue
        if type(node) is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd):
            node = node.operand
        if type(node) is not ast.Constant or type(node.value) not in (int, float):
            return False
        found = found or type(node.value) is float
    return found


def _python_number(node: ast.expr) -> bool:
    """A number literal (PyTorch's operators keep a tensor's float dtype beside one), signed or not."""
    if type(node) is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd):
        node = node.operand
    return type(node) is ast.Constant and type(node.value) in (int, float)


def _assigned_otherwise(module: ast.Module) -> frozenset:
    """The names the text binds other than by a plain ``NAME = value`` (a loop, unpacking, ``+=``, a parameter, a
    comprehension, ``with ... as``): a conversion could reach them unseen (_Lowering.float_dtype)."""
    plain, found = set(), set()
    for node in ast.walk(module):
        if type(node) is ast.Assign and all(type(t) is ast.Name for t in node.targets):
            plain.update(id(t) for t in node.targets)
        elif type(node) is ast.arg:
            found.add(node.arg)
    for node in ast.walk(module):
        if type(node) is ast.Name and type(node.ctx) is not ast.Load and id(node) not in plain:
            found.add(node.id)
    return frozenset(found)


_SAVING_OPERATORS = {ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}


_WRITE_NODES = frozenset((ast.Call, ast.AugAssign, ast.Assign))  # the nodes _write_in_place reads


def _write_in_place(node: ast.AST):
    """Is ``node`` a write into an array? "torch" for one of PyTorch's in-place methods (``y.add_(1)``, PyTorch's
    alone), True for another write (``y += v``, ``y[i] = v``, ``inplace=True``), else False."""
    kind = type(node)
    if kind is ast.Call:
        if type(node.func) is ast.Attribute and node.func.attr.endswith("_") and not node.func.attr.startswith("_"):
            return "torch"
        if any(k.arg == "inplace" or k.arg is None for k in node.keywords):  # inplace=flag, **kw (session 55)
            return True
        name = node.func.attr if type(node.func) is ast.Attribute else node.func.id \
            if type(node.func) is ast.Name else None
        at = INPLACE_AT.get(name)  # F.relu(h, True), F.relu(h, flag), F.relu(h, *opts)
        return at is not None and (len(node.args) == at + 1 or any(type(a) is ast.Starred for a in node.args))
    if kind is ast.Assign and any(type(t) is ast.Attribute and t.attr == "data" for t in node.targets):
        return "torch"  # y.data = V: PyTorch's (lang/nograd.py)
    return kind is ast.AugAssign or kind is ast.Assign and any(
        type(t) is ast.Subscript or type(t) in (ast.Tuple, ast.List) and any(type(e) is ast.Subscript for e in t.elts)
        for t in node.targets)  # t[0], t[1] = t[1], t[0] too (session 53)


def _torch_method_called(module: ast.Module) -> bool:
    """Does the text call a method that PyTorch's Tensor alone has (:data:`~.saved.TORCH_METHODS`: ``x.exp()``,
    ``h.sigmoid()``; NumPy's ndarray and JAX's Array raise AttributeError), on anything but a module? Such a text runs
    in PyTorch alone, so its writes are checked as PyTorch's backward checks them (ir/saved.py)."""
    return any(type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in saved.TORCH_METHODS
               and not (type(node.func.value) is ast.Name and node.func.value.id in MODULES)
               for node in ast.walk(module))


# PyTorch's functions returning several views (CreationMeta::MULTI_OUTPUT_NODE): none may be written in place, nor
# read by autograd after a write of the tensor they view
_MULTI_VIEWS = frozenset(("split", "chunk", "unbind", "split_with_sizes",
                          "unsafe_split", "unsafe_chunk", "unflatten_dense_tensors"))

# PyTorch's in-place methods that check their source with at::assert_no_overlap (the very same elements refused too,
# where a TensorIterator's check refuses a partial overlap only): t.index_put_((i,), t) raises
_NO_OVERLAP = frozenset(("index_put_", "index_add_", "index_copy_", "scatter_", "scatter_add_", "scatter_reduce_",
                         "put_"))

# methods PyTorch's Tensor has and NumPy's ndarray lacks (tests/test_views39.py asks both): a text that writes in place
# and calls one runs in PyTorch alone (JAX's arrays are not written in place), so its writes are checked as PyTorch's
# (overlaps, saved tensors: _Lowering.saving)
TENSOR_ONLY_METHODS = frozenset(("clone", "narrow", "unsqueeze", "expand", "expand_as", "movedim", "permute", "select",
                                 "t", "detach", "contiguous", "view_as", "unflatten", "index_put", "masked_fill",
                                 "index_fill", "index_add", "index_copy", "masked_scatter", "numel", "dim",
                                 "double", "float"))  # h39-views2: g = t.double() may be t itself
# Session 57: the other methods jac reads that PyTorch's Tensor has and neither NumPy's ndarray, JAX's Array nor
# Python's containers have (x * 1.0; t *= t; t.unbind(0) named no library, and its write went unchecked while PyTorch's
# backward raises); tests/test_fuzz57.py recomputes the condition from the libraries
TENSOR_ONLY_METHODS = TENSOR_ONLY_METHODS | frozenset((
    "absolute", "addcdiv", "addr", "adjoint", "allclose", "angle", "arcsinh",
    "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "bool", "broadcast_to",
    "ceil", "cholesky", "cholesky_inverse", "cholesky_solve", "chunk", "conj_physical",
    "corrcoef", "count_nonzero", "cov", "cpu", "deg2rad", "diag", "diag_embed",
    "diagflat", "diff", "dsplit", "eig", "eq", "fix", "flip", "fliplr", "flipud",
    "floor", "floor_divide", "fmod", "frac", "ge", "greater", "greater_equal", "gt",
    "hardshrink", "heaviside", "histogram", "hsplit", "igamma", "igammac",
    "index_reduce", "index_select", "int", "isclose", "isfinite", "isinf", "isnan",
    "isneginf", "isposinf", "ldexp", "le", "lerp", "less", "less_equal", "logical_and",
    "logical_not", "logical_or", "logical_xor", "long", "lstsq", "lt", "matrix_exp",
    "matrix_power", "moveaxis", "ne", "neg", "negative", "nelement", "new_full",
    "new_ones", "new_tensor", "new_zeros", "nextafter", "not_equal", "orgqr",
    "pinverse", "polygamma", "positive", "quantile", "rad2deg", "remainder", "renorm",
    "repeat_interleave", "reshape_as", "resolve_conj", "resolve_neg", "roll", "rot90",
    "scatter", "scatter_add", "scatter_reduce", "sgn", "sign", "signbit", "solve",
    "split_with_sizes", "sub", "subtract", "swapdims", "tensor_split", "tile", "tril",
    "triu", "trunc", "type_as", "unbind", "unsafe_chunk", "unsafe_split", "vsplit",
    "where"))


_PLAIN_IN_PLACE = frozenset(("add", "sub", "mul", "div", "zero", "fill", "copy", "neg", "clamp"))


def _tensor_only_text(module: ast.Module) -> bool:
    """Does the text call, on anything but a module, a method that PyTorch's Tensor has and neither NumPy's ndarray
    nor JAX's Array has: :data:`~.saved.TORCH_METHODS`, :data:`TENSOR_ONLY_METHODS`, or an in-place method of either
    or of arithmetic (``t.mul_(2)``, ``t.zero_()``)?"""
    names = saved.TORCH_METHODS | TENSOR_ONLY_METHODS | _PLAIN_IN_PLACE
    for node in ast.walk(module):
        if type(node) is ast.Call and type(node.func) is ast.Attribute \
                and not (type(node.func.value) is ast.Name and node.func.value.id in MODULES):
            attr = node.func.attr
            if attr in saved.TORCH_METHODS or attr in TENSOR_ONLY_METHODS \
                    or attr.endswith("_") and not attr.endswith("__") and attr[:-1] in names:
                return True
    return False


# keywords of _TORCH_KEYWORDS that no method of NumPy's ndarray or JAX's Array takes (NumPy 2 takes correction=)
_TENSOR_ONLY_KEYWORDS = frozenset(("dim", "keepdim", "unbiased"))


def _tensor_method_called(module: ast.Module) -> bool:
    """Does the text call a method of :data:`TENSOR_ONLY_METHODS` (or its in-place form), or any method with a
    keyword only PyTorch's take (``t.sort(dim=0)``, ``t.sum(keepdim=True)``: session 57), on anything but a module?"""
    return any(type(node) is ast.Call and type(node.func) is ast.Attribute
               and (node.func.attr.rstrip("_") in TENSOR_ONLY_METHODS
                    or any(k.arg in _TENSOR_ONLY_KEYWORDS for k in node.keywords))
               and not (type(node.func.value) is ast.Name and node.func.value.id in MODULES)
               for node in ast.walk(module))


def _dialect(module: ast.Module, scope: dict, writes: bool = False) -> tuple:
    """The one library a text's calls and imports name (``torch.`` / ``F.`` / ``nn.``, or ``np.`` / ``jnp.`` /
    ``scipy.``), or None when it names both or neither: a method that the two libraries read differently
    (``x.transpose(0, 1)``, ``x.std()``, ``x.repeat(2, 1)``) is read as that library reads it. Second: whether
    the libraries named are PyTorch and JAX alone, whose ``%`` gives a zero remainder the dividend's sign
    (functions.remainder_of_dividend), where NumPy's and Python's give it the divisor's. Third: whether they
    are JAX alone, whose operators ``*``, ``//`` and ``**`` JAX computes otherwise (_JAX_OPERATORS). Fourth, where
    ``writes`` asks: whether the text writes into an array (:func:`_write_in_place`: "torch", True or False)."""
    roots = set()
    written = False
    for node in ast.walk(module):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id not in scope:
            roots.add(node.value.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                path = node.module if isinstance(node, ast.ImportFrom) else alias.name
                roots.add((path or "").split(".")[0])
        elif writes and type(node) in _WRITE_NODES and written != "torch":
            written = _write_in_place(node) or written
    found = {_DIALECTS[root] for root in roots if root in _DIALECTS}
    libraries = roots & _LIBRARY_ROOTS
    return (found.pop() if len(found) == 1 else None), bool(libraries) and libraries <= _DIVIDEND_SIGN, \
        bool(libraries) and libraries <= _JAX, written


_NAMES_LISTED = 20  # names listed in a message about names, the rest counted
_NAME_SHOWN = 60  # characters of one name shown in such a list


def _shortened(name: str) -> str:
    """A name as a message shows it: a name past :data:`_NAME_SHOWN` characters (a binding of 100,000 x's)
    shortened, its length said."""
    return name if len(name) <= _NAME_SHOWN else f"{name[:_NAME_SHOWN]}… ({len(name):,} characters)"


def _listed(names: list) -> str:
    """``names`` joined by commas for a message: the first :data:`_NAMES_LISTED`, the others counted (5,000
    bindings made a 34 KB message listing each; session 53)."""
    shown = ", ".join(_shortened(n) for n in names[:_NAMES_LISTED])
    return shown if len(names) <= _NAMES_LISTED else f"{shown} and {len(names) - _NAMES_LISTED:,} more"
