"""Which calls hand back a new buffer where jac's graph shows a view of their operand, or the operand's node itself
(session 37, h37-views).

``lang/scatter.Memory`` finds the buffers a name may share by walking the graph through the view ops; a call that
copies but lowers onto a view op (``torch.flip`` and ``torch.roll`` onto an index, ``.contiguous()`` and
``.float()`` onto the identity, ``torch.cat([u])`` onto ``u``'s node) then looked like a view, and a later write into
its result was refused as a write through a view. :func:`fresh` reads the call as written and says where the
library copies, each case checked against PyTorch (``tests/test_views37.py``); where it cannot be sure (a layout jac
does not know, a dtype the text does not show) it says no, and the write stays refused.

- :data:`ALWAYS`: copies in PyTorch and NumPy both (``roll``, ``tile``, ``repeat``, ``cat``, ``index_select``, ...);
- :data:`TORCH_ONLY`: PyTorch copies, NumPy gives a view or has none (``flip``, ``fliplr``, ``flipud``, ``rot90``,
  ``diag``, ``F.embedding``): a copy only as PyTorch's function or method;
- ``.contiguous()``: a copy where the operand is not contiguous (its strides replayed, ``functions._stand_in``),
  else the tensor itself; ``reshape`` / ``flatten`` / ``ravel``: a copy where no view has that shape;
- ``.float()``, ``.double()``, ``.to(dtype)``, ``.type(dtype)``: a copy where the dtype changes (``copy=True``:
  always); the tensor itself where it does not. Dropout in eval mode or with p=0 returns its input itself: no copy.
"""

from __future__ import annotations

import ast
import re

import numpy as np

from .functions import MODULES

ALWAYS = frozenset(("roll", "repeat", "repeat_interleave", "tile", "index_select", "masked_select", "take",
                    "take_along_dim", "take_along_axis", "gather", "kron", "cat", "concat", "concatenate",
                    "stack", "hstack", "vstack", "dstack", "column_stack", "row_stack", "tril", "triu", "pad"))
TORCH_ONLY = frozenset(("flip", "fliplr", "flipud", "rot90", "diag", "embedding"))
_RESHAPES = frozenset(("reshape", "flatten", "ravel", "reshape_as"))
# the float dtypes a conversion names, and every spelling of each a text may hold
_TARGETS = {"float": "float32", "double": "float64"}
_NAMED = {"torch.float32": "float32", "torch.float": "float32", "torch.float64": "float64",
          "torch.double": "float64"}
_SPELLINGS = {"float32": re.compile(r"\.float\(|float32|torch\.float\b(?!\d)|\bFloatTensor|\bsingle\b"),
              "float64": re.compile(r"\.double\(|float64|torch\.double|\bDoubleTensor")}


def is_copy(node: ast.expr) -> bool:
    """``x.clone()``, ``torch.clone(x)``, ``x.copy()``, ``np.copy(x)``, and the calls that copy unless told not to,
    ``np.array(x)``, ``torch.tensor(x)``, ``x.astype(t)``: a new buffer, whatever jac's graph makes of it (it
    returns the argument's node)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))):
        return False
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
    if name in ("clone", "copy", "deepcopy"):
        return True
    told = any(k.arg == "copy" and not (isinstance(k.value, ast.Constant) and k.value.value is True)
               for k in node.keywords)
    owner = ast.unparse(node.func.value) if isinstance(node.func, ast.Attribute) else None
    return not told and (name == "astype" and owner not in MODULES or (owner, name) in (
        ("np", "array"), ("numpy", "array"), ("torch", "tensor")))


def fresh(lowering, node: ast.expr, value) -> bool:
    """Is ``node`` (lowered to ``value``) a call whose result the library holds in a new buffer, though jac's graph
    shows a view of its operand or the operand itself?"""
    if type(node) is not ast.Call or type(node.func) not in (ast.Attribute, ast.Name):
        return False
    name = node.func.attr if type(node.func) is ast.Attribute else node.func.id
    module = lowering.module_path(node.func.value) if type(node.func) is ast.Attribute else None
    method = type(node.func) is ast.Attribute and module is None
    torch = module is not None and (module.startswith("torch") or module in ("F", "nn", "nn.functional"))
    numpy = module is not None and module.split(".")[0] in ("np", "numpy")
    if not (method or torch or numpy):
        return False
    if name in ALWAYS:
        return True
    if name in TORCH_ONLY:
        return method or torch
    if name == "contiguous" and method:
        return _not_contiguous(lowering.b, value.id)
    if name in _RESHAPES and (method or torch or numpy):
        return _reshape_copies(lowering.b, value.id)
    if method and name in ("float", "double", "to", "type"):
        return _converts(lowering, node, name)
    return numpy and numpy_layout(lowering, node, value) == "copy"


# NumPy's array makers whose result is the operand itself, or a copy where its layout is not the one asked for
_NUMPY_MAKERS = frozenset(("asarray", "asanyarray", "array", "require", "ascontiguousarray", "asfortranarray"))
_FIXED_ORDER = {"ascontiguousarray": "C", "asfortranarray": "F"}
_REQUIREMENT_ORDER = {"C": "C", "C_CONTIGUOUS": "C", "CONTIGUOUS": "C", "F": "F", "F_CONTIGUOUS": "F",
                      "FORTRAN": "F"}
_NO_COPY_REQUIREMENTS = frozenset(("A", "ALIGNED", "W", "WRITEABLE", "E", "ENSUREARRAY"))


def numpy_layout(lowering, node: ast.expr, value) -> str | None:
    """NumPy's ``np.ascontiguousarray(x)``, ``np.asfortranarray(x)``, ``np.asarray(x, order='C')``, ``np.require(x,
    requirements='C')``, ``np.array(x, copy=False)`` of an array ``x`` (lowered to ``value``): "copy" where NumPy
    copies (``x`` is not laid out as asked: ``np.ascontiguousarray(a.T)``), "itself" where it hands back ``x``'s
    memory, "unknown" where that depends on a layout (or a dtype, an ownership) jac does not know; None for any
    other call. jac's graph shows ``x``'s node in every case, so a copy read as a view was a silent wrong answer:
    ``v = np.ascontiguousarray(a.T); v[0] = 1.0; a`` changed ``a`` (session 40)."""
    if type(node) is not ast.Call or type(node.func) is not ast.Attribute or node.func.attr not in _NUMPY_MAKERS \
            or not node.args or type(value) is not _tracer():
        return None
    module = lowering.module_path(node.func.value)
    if module is None or module.split(".")[0] not in ("np", "numpy"):
        return None
    name, keywords = node.func.attr, {k.arg: k.value for k in node.keywords}
    first = node.args[0]
    if type(first) in (ast.List, ast.Tuple, ast.Constant, ast.ListComp) or type(first) is ast.Name \
            and type(lowering.scope.get(first.id)) is not _tracer():  # a list or a number: a new array
        return None
    told = keywords.get("copy")
    if type(told) is ast.Constant and told.value is True:
        return "copy"
    if name == "array":
        copy = told
        if copy is None or not (type(copy) is ast.Constant and copy.value in (False, None)):
            return "copy"  # np.array(x) copies (copies.is_copy)
    if "dtype" in keywords or len(node.args) > 1 and name != "require" or len(node.args) > 2 \
            or any(k not in ("dtype", "order", "copy", "requirements", "like") for k in keywords):
        return "unknown"  # a dtype NumPy may convert to (a copy): jac computes in one dtype
    order = _FIXED_ORDER.get(name)
    if name == "require":
        written = keywords.get("requirements", node.args[1] if len(node.args) > 1 else None)
        try:
            asked = [] if written is None else ast.literal_eval(written)
        except ValueError:
            return "unknown"
        asked = [asked] if isinstance(asked, str) else list(asked) if isinstance(asked, (list, tuple)) else None
        if asked is None or not all(isinstance(r, str) for r in asked):
            return "unknown"
        orders = {_REQUIREMENT_ORDER[r.upper()] for r in asked if r.upper() in _REQUIREMENT_ORDER}
        if len(orders) > 1 or any(r.upper() not in _REQUIREMENT_ORDER and r.upper() not in _NO_COPY_REQUIREMENTS
                                  for r in asked):
            return "unknown"  # 'O' (own data): whether x owns its memory jac does not model
        order = next(iter(orders), None)
    elif "order" in keywords:
        written = keywords["order"]
        if type(written) is not ast.Constant or written.value not in ("C", "F", "A", "K", None):
            return "unknown"
        order = written.value if written.value in ("C", "F") else None
    if order is None:
        return "itself"
    from .functions import _stand_in
    a = _stand_in(lowering.b, value.id)
    if a is None:
        return "unknown"
    laid = a.flags.c_contiguous if order == "C" else a.flags.f_contiguous
    return "itself" if laid else "copy"


def contiguous_copy(lowering, node: ast.expr, value) -> bool:
    """``t.T.contiguous()`` of a tensor jac knows is not contiguous: PyTorch's new, contiguous tensor, which jac's
    graph shows as ``t.T``'s own node (contiguous is the identity), whose strides are the transpose's: a reshape of
    it, a view in PyTorch, was read as a copy (``v = t.T.contiguous(); w = v.reshape(-1); w.mul_(2); v`` left v as it
    was: a silent wrong answer before session 40)."""
    return type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "contiguous" \
        and lowering.module_path(node.func.value) is None and not node.args and not node.keywords \
        and _not_contiguous(lowering.b, value.id)


def own_node(b, value, position, layout="new"):
    """``value`` as a node of its own, laid out contiguous (functions.copied_layout "new"; ``layout="like"``: in
    ``value``'s memory format, as clone): the same values and derivative (``straight_through`` of its detached
    self), so no other name's layout changes with it."""
    from .functions import copied_layout
    made = b.apply("straight_through", b.apply("detach", value, position=position), value, position=position)
    copied_layout(b, made, ("like", value.id) if layout == "like" else "new")  # functions.RESULT_LAYOUTS' kinds
    return made


def _tracer():
    from ..ir.graph import Tracer
    return Tracer


# PyTorch's calls that answer with their operand itself, the very tensor object, where they change nothing (``r is
# t`` in PyTorch 2.13; session 47): a later write in place that changes the shape (``t.unsqueeze_(0)``, ``t.t_()``,
# ``t.squeeze_(1)``, ``t.transpose_(0, 1)``) then changes both names, where a view keeps its own shape. Each is the
# tensor itself exactly where jac lowers it onto its operand's own node (a real tensor's ``conj()``, a 2-d tensor's
# ``atleast_2d``, a shape's own ``sum_to_size``); ``flatten`` by its axes, ``.to(...)`` and ``type_as`` by the dtype.
_SELF_METHODS = frozenset(("positive", "to_dense", "conj", "conj_physical", "resolve_conj", "resolve_neg", "cpu",
                           "sum_to_size"))
_SELF_FUNCTIONS = frozenset(("positive", "conj", "conj_physical", "resolve_conj", "resolve_neg", "real", "atleast_1d",
                             "atleast_2d", "atleast_3d", "as_tensor", "asarray"))
# every call :func:`itself` may find to be its operand (:func:`operand` reads no other)
_MAYBE_ITSELF = _SELF_METHODS | _SELF_FUNCTIONS | {"flatten", "to", "type_as", "contiguous", "float", "double",
                                                   "type"}
_DEVICES = frozenset(("'cpu'", '"cpu"', "torch.device('cpu')", 'torch.device("cpu")'))


def operand(lowering, node: ast.expr) -> ast.expr | None:
    """The tensor a call that may answer with its operand itself is made of: ``t`` of ``t.cpu()``,
    ``torch.atleast_2d(t)``, ``t.real``, ``+t``; None for anything else."""
    kind = type(node)
    if kind is ast.UnaryOp:
        return node.operand if type(node.op) is ast.UAdd else None
    if kind is ast.Attribute:
        return node.value if node.attr == "real" else None
    if kind is not ast.Call or type(node.func) is not ast.Attribute or node.func.attr not in _MAYBE_ITSELF:
        return None
    if lowering.module_path(node.func.value) is None:
        return node.func.value
    return node.args[0] if node.args else None


def itself(lowering, node: ast.expr, value) -> bool:
    """Is ``node`` (lowered to ``value``) a call PyTorch answers with its operand itself, the same tensor (session 39,
    h39-views2): ``.contiguous()`` of a tensor jac knows is contiguous, ``.double()`` / ``.float()`` / ``.to(dtype)`` /
    ``.type(dtype)`` of one whose dtype the text shows (``_Lowering.float_dtype``) is that dtype already; session 47:
    the calls of :data:`_SELF_METHODS` and :data:`_SELF_FUNCTIONS`, ``t.real``, ``+t``, ``t.flatten(d, d)`` (and a 1-d
    tensor's ``flatten()``), ``t.to('cpu')`` / ``t.cpu()``, ``t.to(u)`` / ``t.type_as(u)`` of one dtype, in a text
    PyTorch runs (NumPy's ``a.flatten()``, ``+a`` and ``a.conj()`` copy). Unknown (a layout or dtype jac cannot
    tell): no, and the name stays refused as one that may be a copy."""
    if _torch_itself(lowering, node, value):
        return True
    if type(node) is not ast.Call or type(node.func) is not ast.Attribute \
            or lowering.module_path(node.func.value) is not None:
        return False
    name = node.func.attr
    if name == "contiguous":
        return not node.args and not node.keywords and _contiguous(lowering.b, value.id)
    if name not in ("float", "double", "to", "type") or lowering.float_names is None:
        return False
    if any(k.arg == "copy" for k in node.keywords):
        return False
    if name in _TARGETS:
        if node.args or node.keywords:
            return False
        target = _TARGETS[name]
    else:
        if len(node.args) != 1 or node.keywords:
            return False
        target = _NAMED.get(ast.unparse(node.args[0])) if "torch" not in lowering.scope else None
        if target is None:
            return False
    return source_dtype(lowering, node.func.value) == target


def _torch_itself(lowering, node: ast.expr, value) -> bool:
    """:func:`itself` for the calls of session 47 (see :data:`_SELF_METHODS`): ``node``'s operand is a name bound to
    a tensor, and PyTorch's call hands that tensor back."""
    base = operand(lowering, node)
    if type(base) is ast.Name:
        held = lowering.scope.get(base.id)
    elif base is not None and operand(lowering, base) is not None:  # t.cpu().flatten(1, 1): t.cpu() lowered
        held = lowering.expression(base)  # again (the calls operand reads make no node but their result)
        if not hasattr(held, "id") or not itself(lowering, base, held):
            return False
    else:
        return False
    if held is None or not hasattr(held, "id") or not hasattr(value, "id"):
        return False
    kind = type(node)
    if kind is ast.Call:
        module = lowering.module_path(node.func.value)
        name = node.func.attr
        if module is None:
            if not lowering.torch_writes():  # a method NumPy reads too: ndarray.flatten() and .conj() copy
                return False
        elif module != "torch" or "torch" in lowering.scope:
            return False
        arguments = node.args if module is None else node.args[1:]
        if name == "flatten":
            return _flatten_itself(node, arguments, len(held.shape))
        if module is None and name in ("to", "cpu", "type_as"):
            return _same_tensor_kind(lowering, node, name, base, arguments)
        if name not in (_SELF_METHODS if module is None else _SELF_FUNCTIONS) or node.keywords \
                or name != "sum_to_size" and arguments:
            return False
    elif not lowering.torch_writes():  # NumPy's +a is a copy; its a.real of a real array too
        return False
    return value.id == held.id


def _flatten_itself(node: ast.Call, arguments: list, ndim: int) -> bool:
    """``t.flatten(start_dim, end_dim)`` of a tensor of ``ndim`` axes is ``t`` itself where both name one axis (a 0-d
    tensor's flatten is a new 1-d view)."""
    given = dict(zip(("start_dim", "end_dim"), arguments))
    for k in node.keywords:
        if k.arg not in ("start_dim", "end_dim") or k.arg in given:
            return False
        given[k.arg] = k.value
    axes = []
    for key, default in (("start_dim", 0), ("end_dim", -1)):
        a = given.get(key)
        if a is None:
            axes.append(default)
            continue
        try:
            axes.append(int(ast.literal_eval(a)))
        except (ValueError, TypeError, SyntaxError):
            return False
    if ndim == 0 or not all(-ndim <= a < ndim for a in axes):
        return False
    return axes[0] % ndim == axes[1] % ndim


def _same_tensor_kind(lowering, node: ast.Call, name: str, base: ast.Name, arguments: list) -> bool:
    """``t.cpu()``, ``t.to('cpu')``, ``t.to(torch.device('cpu'))``: ``t`` itself (jac's tensors are on the CPU);
    ``t.to(u)`` / ``t.type_as(u)``: ``t`` itself where the text shows both tensors' float dtype and it is one."""
    if node.keywords:
        return False
    if name == "cpu":
        return not arguments
    if len(arguments) != 1:
        return False
    if name == "to" and ast.unparse(arguments[0]) in _DEVICES or type(arguments[0]) is ast.Name \
            and arguments[0].id == base.id:  # t.type_as(t)
        return True
    if type(arguments[0]) is not ast.Name or lowering.float_names is None:
        return False
    mine, theirs = source_dtype(lowering, base), source_dtype(lowering, arguments[0])
    return mine is not None and mine == theirs


def source_dtype(lowering, expr: ast.expr) -> str | None:
    """The float dtype PyTorch holds ``expr`` in (``_Lowering.float_dtype``), named: a bound input's is --dtype, a
    constructor's PyTorch's default (float32 unless the text set float64). None: not known."""
    found = lowering.float_dtype(expr) if lowering.float_names is not None else None
    if found == "input":
        return np.dtype(lowering.b.dtype).name
    if found == "default":
        return "float64" if lowering.default_float == "float64" else "float32"
    return found


def _contiguous(b, i: int) -> bool:
    """Is node ``i``'s result, as PyTorch lays it out, known to be contiguous (``.contiguous()`` returns it itself)?"""
    from .functions import _stand_in
    a = _stand_in(b, i)
    return a is not None and a.flags.c_contiguous


def _not_contiguous(b, i: int) -> bool:
    """Is node ``i``'s result, as PyTorch lays it out, not contiguous (so ``.contiguous()`` copies)? Unknown: no."""
    from .functions import _stand_in
    a = _stand_in(b, i)
    return a is not None and not a.flags.c_contiguous


def _reshape_copies(b, i: int) -> bool:
    """Node ``i`` is a reshape that no view of its operand's memory can give (PyTorch's and NumPy's reshape copy
    there). Unknown layouts, or a node that is no reshape: no."""
    from .functions import _stand_in
    node = b.nodes[i]
    if node.op != "reshape" or not node.args:
        return False
    a = _stand_in(b, node.args[0])
    if a is None:
        return False
    try:
        a.reshape(node.params["shape"], copy=False)
    except ValueError:
        return True
    return False


def _converts(lowering, node: ast.Call, name: str) -> bool:
    """``x.float()``, ``x.to(torch.float32)``: a copy where the dtype changes (or ``copy=True``). The dtype of ``x``
    is the one the text shows (``_Lowering.float_dtype``), else --dtype where the text spells the target dtype
    nowhere but here (no other conversion could have made ``x`` of it already)."""
    if any(k.arg == "copy" and type(k.value) is ast.Constant and k.value.value is True for k in node.keywords):
        return True
    if name in _TARGETS:
        if node.args or node.keywords:
            return False
        target = _TARGETS[name]
    else:
        written = node.args[:1] + [k.value for k in node.keywords if k.arg == "dtype"]
        if len(written) != 1 or len(node.args) > 1 or any(k.arg not in ("dtype", "copy", "non_blocking")
                                                          for k in node.keywords):
            return False
        path = ast.unparse(written[0])
        target = _NAMED.get(path) if "torch" not in lowering.scope else None
        if target is None:
            return False
    source = source_dtype(lowering, node.func.value)
    if source is not None:  # a bound input's dtype is --dtype: x.double() of a float64 input is x itself (h39-views2)
        return source != target
    text = lowering.source.body
    return np.dtype(lowering.b.dtype).name != target and len(_SPELLINGS[target].findall(text)) == 1


# the calls that copy (or may) though jac lowers them onto their operand's own node, and the layout of the copy:
# "new", contiguous whatever the operand's (contiguous, np.array); "like", preserve_format (clone: the operand's
# strides where it is dense, else dense in their order, functions._copied; torch.tensor(t) of a tensor too, session
# 57: PyTorch 2.13's torch.tensor(A.T) has A.T's strides (1, 3), and .view(-1) of it raises); None, one jac does not
# know
_HIDDEN = {**dict.fromkeys(("contiguous", "array", "ascontiguousarray"), "new"),
           **dict.fromkeys(("clone", "copy", "tensor"), "like"), "deepcopy": None, "as_strided": None}


def _called(node: ast.Call) -> str | None:
    """The name a call calls (``clone`` of ``t.clone()`` and ``torch.clone(t)``, ``f`` of ``f(t)``); None for any other
    callee (``fs[0](t)``): :func:`copy_operand` and :func:`hidden_layout` read it so."""
    func = node.func
    return func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None


def copy_operand(lowering, node: ast.Call) -> ast.expr | None:
    """The tensor a copy of :data:`_HIDDEN` is made of (``t`` of ``t.clone()``, ``torch.clone(t)``), or None where
    ``node`` is no such call."""
    name = _called(node)
    if name not in _HIDDEN:
        return None
    if type(node.func) is ast.Attribute and lowering.module_path(node.func.value) is None:
        return node.func.value
    return node.args[0] if node.args else None


def hidden_layout(b, node: ast.Call, value, operand: dict | None):
    """``node``, a copy of :data:`_HIDDEN` lowered onto its operand's very node ``value``, whose operand's layouts
    are ``b.layouts`` with ``operand`` over them (None: not known): (the copy's layouts over ``b.layouts``, None
    where not known; whether the copy's layout may differ from the node's, which then hides it). The parser's view
    check (``.view(...)``) reads the copy's layout where the text reads the copy itself (session 56)."""
    from .functions import _stand_in, dense
    kind = None if any(k.arg == "memory_format" for k in node.keywords) else _HIDDEN[_called(node)]
    if kind is None or operand is None and kind == "like":
        return None, True
    a = _stand_in(b, value.id, {**(b.layouts or {}), **operand}) if operand is not None else None
    if kind == "new" and a is not None and a.flags.c_contiguous:
        return operand, False  # contiguous already: PyTorch's t.contiguous() is t itself
    if kind == "like" and a is not None and dense(a):
        return operand, False  # clone of a dense layout keeps its strides: the node's layout is the copy's
    if kind == "like" and (a is None or value.id in operand):
        return None, True  # (an expanded operand: PyTorch's and NumPy's orders of its strides differ)
    return {**(operand or {}), value.id: kind}, True
