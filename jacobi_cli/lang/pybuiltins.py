"""Python's builtins applied to arrays in a program that imports a library (session 37).

jac's own notation reads ``sum(A)`` as every element's sum and ``max(x)`` as NumPy's max (the contract's "Functions,
bare"). A text that imports a module is a Python program, and there ``sum``, ``max``, ``min``, ``any``, ``all``,
``round``, ``divmod``, ``float``, ``int`` and ``bool`` are Python's builtins, which iterate an array along its first
axis or call its dunder methods: ``sum(A)`` of a matrix is ``0 + A[0] + A[1] + ...``, a vector; ``max(x)`` compares
the elements one by one (the first greatest; its derivative flows to that one element, as PyTorch's autograd through
Python's max); ``max(A)`` of a matrix raises (an array's truth is ambiguous); ``round(t)`` of a tensor raises
(``Tensor`` has no ``__round__``). :func:`call` gives those readings, or refuses in the library's words where Python
raises, and leaves everything else (:data:`PASS`) to the bare spellings. ``max(items, key=f)`` / ``min`` (any text)
are Python's own algorithm over the items, each key compared as the text's ``>`` (:func:`keyed`)."""

from __future__ import annotations

import ast

from ..errors import JacLimitError, JacParseError, JacValueError
from ..ir.graph import Tracer
from .functions import FUNCTIONS, Items, arithmetic, boolean

NAMES = frozenset({"sum", "max", "min", "any", "all", "round", "divmod", "float", "int", "bool", "sorted"})
KEYED = frozenset({"max", "min", "sorted"})  # read off the syntax where a key= is given (its function is no value of jac's)
LIBRARIES = frozenset({"torch", "numpy", "jax"})
_ROOTS = {"torch": "torch", "numpy": "numpy", "jax": "jax"}
MAX_ITEMS = 10_000  # items compared one by one are written out (pyiter's bound)
PASS = object()  # not read here: the bare spelling's lowering follows
_AMBIGUOUS = ("an array's truth is ambiguous (PyTorch: 'Boolean value of Tensor with more than one value is "
              "ambiguous'; NumPy and JAX: 'The truth value of an array with more than one element is ambiguous')")


def libraries(module: ast.Module) -> frozenset | None:
    """None where the text imports nothing (jac's own notation); otherwise the array libraries its arrays may
    come from: those it imports, or all three where it imports none of them (``import math`` alone)."""
    roots, imported = set(), False
    for node in ast.walk(module):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported = True
            for alias in node.names:
                path = node.module if isinstance(node, ast.ImportFrom) else alias.name
                root = _ROOTS.get((path or "").split(".")[0])
                if root is not None:
                    roots.add(root)
    if not imported:
        return None
    return frozenset(roots) or LIBRARIES


def call(lowering, node: ast.Call, fname: str, args: list, kwargs: dict, position: int):
    """Python's builtin ``fname`` of arrays in a program (:func:`libraries` not None), or :data:`PASS`."""
    found = lowering.python_libraries
    if found is None:
        return PASS
    if fname == "sorted":
        return _sorted(lowering, node, args, kwargs, position)
    return _RULES[fname](lowering, found, args, kwargs, position)


def _sorted(lowering, node: ast.Call, args: list, kwargs: dict, position: int):
    """``sorted(x)`` of an array: its items (elements, or rows) in Python's order, Python's own sort comparing
    them with the text's ``<``, each comparison's truth taken as an ``if`` test's (at the given values, recorded;
    of rows, ambiguous and refused), so ties keep their order and NaN lands where Python's sort leaves it."""
    from . import plain
    if len(args) != 1 or set(kwargs) - {"reverse"}:
        return PASS
    if type(args[0]) is Items and all(type(i) is Tracer for i in args[0]):  # sorted([a, b]): Python's algorithm
        return plain.ordered(lowering, node, "sorted", [args[0]], kwargs, position)
    if not _is_array(lowering, args[0]) or _const(lowering, args[0]) and args[0].ndim == 1:
        return PASS  # numbers known without the values (sorted(range(3))): the bare spelling's constant
    n = _rows(lowering, args[0], "sorted", position)
    if n > MAX_ITEMS:
        raise JacLimitError(f"sorted() of {n:,} items: jac writes each comparison out (at most {MAX_ITEMS:,}): write "
                            "torch.sort / np.sort", position)
    items = Items(FUNCTIONS["list"](lowering.b, [args[0]], {}, position))
    return plain.ordered(lowering, node, "sorted", [items], kwargs, position)


def _is_array(lowering, value) -> bool:
    return type(value) is Tracer


def _const(lowering, value) -> bool:
    return lowering.b.nodes[value.id].op == "const"


def _rows(lowering, x: Tracer, fname: str, position: int, symbolic: bool = False) -> int:
    """The number of items Python's iteration of ``x`` gives (its first size), refused for a 0-d array (Python's
    TypeError) and for a size not known as a number (kept, a letter of ``jac shape``, where ``symbolic``)."""
    if x.ndim == 0:
        raise JacValueError(f"{fname}() of a 0-d array: Python iterates its argument, and a 0-d array or tensor has "
                            f"no items (TypeError: iteration over a 0-d array / tensor)", position)
    n = x.shape[0]
    if type(n) is not int and not symbolic:
        raise JacValueError(f"{fname}() of an array of {n} rows: Python iterates the rows one by one, and jac needs "
                            "their number", position)
    return n


def _row_size(x: Tracer) -> int | None:
    size = 1
    for s in x.shape[1:]:
        if type(s) is not int:
            return None
        size *= s
    return size


def _sum(lowering, found, args, kwargs, position):
    """``sum(a, start=0)``: ``start + a[0] + a[1] + ...``, the sum over the first axis (a vector of a matrix's
    column sums); an empty ``a`` is ``start``. Python's sum has no axis: ``sum(x, 1)`` is ``1 + x[0] + ...``."""
    if not args or not _is_array(lowering, args[0]):
        return PASS
    if len(args) > 2 or set(kwargs) - {"start"} or len(args) == 2 and kwargs:
        extra = next(iter(set(kwargs) - {"start"}), None)
        raise JacValueError(f"Python's builtin sum takes (iterable, start){f', not {extra}=' if extra else ''} "
                            "(TypeError): for a library's sum over an axis write torch.sum / np.sum", position)
    x = args[0]
    n = _rows(lowering, x, "sum", position, symbolic=True)
    start = args[1] if len(args) == 2 else kwargs.get("start")
    b = lowering.b
    if n == 0:  # Python's sum of no items: start (0, an int)
        return lowering.number(0, position) if start is None else start
    total = FUNCTIONS["sum"](b, [x], {"axis": 0} if x.ndim > 1 else {}, position)
    return total if start is None else arithmetic(b, "add", start, total, position)


def _extreme(lowering, found, args, kwargs, position, fname=None):
    """``max(x)`` / ``min(x)``: Python compares the items of ``x`` one by one (``item > best``: the first greatest,
    NaN never greater), so a vector's greatest element, its derivative flowing to that element; a matrix's rows
    compared raise unless they hold one element each (or there is one row, never compared)."""
    if any(not (_is_array(lowering, a)) for a in args) or set(kwargs) - {"default"}:
        return PASS
    if len(args) > 1:
        if "default" in kwargs:
            raise JacValueError(f"Cannot specify a default for {fname}() with multiple positional arguments "
                                "(Python's TypeError)", position)
        if all(a.ndim == 0 for a in args):
            return PASS  # Python's max(a, b) of numbers: the bare spelling's
        if any(_row_size_all(a) != 1 for a in args):
            raise JacValueError(f"{fname}(a, b) of arrays compares them whole with '>', and {_AMBIGUOUS}: for "
                                f"the element-wise {'greater' if fname == 'max' else 'lesser'} write "
                                f"torch.{fname}imum(a, b) / np.{fname}imum(a, b)", position)
        return _chain(lowering, list(args), fname, position)
    x = args[0]
    n = _rows(lowering, x, fname, position)
    if n == 0:
        if "default" in kwargs:
            return kwargs["default"]
        raise JacValueError(f"{fname}() iterable argument is empty (Python's ValueError)", position)
    if n > MAX_ITEMS:
        raise JacLimitError(f"{fname}() of {n:,} items: Python compares them one by one and jac writes each "
                            f"comparison out (at most {MAX_ITEMS:,}): write x.{fname}() for the library's", position)
    items = list(FUNCTIONS["list"](lowering.b, [x], {}, position))
    if n > 1 and x.ndim > 1 and _row_size(x) != 1:
        raise JacValueError(f"{fname}() of an array of {x.ndim} dimensions compares its rows with '>', and "
                            f"{_AMBIGUOUS}: for the greatest element write x.{fname}(), for the rows' "
                            f"x.{fname}(0) (torch: .values) or np.{fname}(x, axis=0)", position)
    return _chain(lowering, items, fname, position)


def _row_size_all(a: Tracer) -> int | None:
    size = 1
    for s in a.shape:
        if type(s) is not int:
            return None
        size *= s
    return size


def _chain(lowering, items: list, fname: str, position: int):
    """Python's ``max`` over ``items``: the first item, then each later one where it is strictly greater."""
    b, op = lowering.b, "gt" if fname == "max" else "lt"
    best = items[0]
    for item in items[1:]:
        larger = boolean(b, b.apply(op, item, best, position=position))
        best = b.apply("where", larger, item, best, position=position)
    return best


def _truth(lowering, found, args, kwargs, position, fname=None):
    """``any(x)`` / ``all(x)``: Python takes the truth of each item, so a matrix's rows raise unless they hold
    one element each; of a vector, the library's any / all."""
    if len(args) == 1 and not kwargs and type(args[0]) is Items and all(
            type(i) is Tracer and _row_size_all(i) == 1 or type(i) is bool for i in args[0]):
        return _truths(lowering, list(args[0]), fname, position)  # any([a > 0, b > 0])
    if len(args) != 1 or not _is_array(lowering, args[0]):
        return PASS
    if kwargs:
        raise JacValueError(f"Python's builtin {fname}() takes one iterable, no {next(iter(kwargs))}= (TypeError): "
                            f"for the library's write x.{fname}(...)", position)
    x = args[0]
    n = _rows(lowering, x, fname, position, symbolic=True)
    if n != 0 and x.ndim > 1 and _row_size(x) != 1:
        raise JacValueError(f"{fname}() of an array of {x.ndim} dimensions takes the truth of each row, and "
                            f"{_AMBIGUOUS}: for every element write x.{fname}()", position)
    return PASS


def _truths(lowering, items: list, fname: str, position: int):
    """``any([a, b, ...])`` / ``all`` of numbers: the or (and) of their truths; of no items, False (True)."""
    from .functions import logical, truth
    b = lowering.b
    if not items:
        return fname == "all"
    found = [b.const(float(i), position) if type(i) is bool else i for i in items]
    out = truth(b, b.apply("reshape", found[0], shape=(), position=position), position)
    for item in found[1:]:
        out = logical("or" if fname == "any" else "and", b,
                      [out, b.apply("reshape", item, shape=(), position=position)], position)
    return out


def _round(lowering, found, args, kwargs, position):
    """``round(t)``: Python calls ``t.__round__``, which PyTorch's tensors and NumPy's arrays lack (TypeError);
    NumPy's scalars (``x[0]``) and JAX's arrays have it (NumPy's round)."""
    if not args or not _is_array(lowering, args[0]):
        return PASS
    x = args[0]
    if "torch" in found and not (x.ndim == 0 and _const(lowering, x)):
        raise JacValueError("round() of a tensor: PyTorch's Tensor has no __round__ (Python's TypeError: type Tensor "
                            "doesn't define __round__ method): write torch.round(x) or x.round()", position)
    if "numpy" in found and x.ndim > 0:
        raise JacValueError("round() of an array: NumPy's ndarray has no __round__ (Python's TypeError: type "
                            "numpy.ndarray doesn't define __round__ method): write np.round(x)", position)
    return PASS


def _divmod(lowering, found, args, kwargs, position):
    """``divmod(a, b)``: PyTorch's tensors have no ``__divmod__`` (Python's TypeError); NumPy's and JAX's do."""
    if "torch" in found and any(_is_array(lowering, a) and not _const(lowering, a) for a in args):
        raise JacValueError("divmod() of a tensor: PyTorch's Tensor has no __divmod__ (Python's TypeError: "
                            "unsupported operand type(s) for divmod()): write (a // b, a % b) or "
                            "torch.div(a, b, rounding_mode='floor') and torch.remainder(a, b)", position)
    return PASS


def _number(lowering, found, args, kwargs, position, fname=None):
    """``float(a)`` / ``int(a)`` / ``bool(a)`` of an array of one element and some dimensions: PyTorch converts
    it, NumPy 2 and JAX only a 0-d array (TypeError: only 0-dimensional arrays can be converted to Python
    scalars)."""
    if len(args) != 1 or not _is_array(lowering, args[0]) or args[0].ndim == 0:
        return PASS
    if found & {"numpy", "jax"} and fname != "bool":
        raise JacValueError(f"{fname}() of an array of shape {tuple(args[0].shape)}: NumPy and JAX convert only a "
                            "0-d array (Python's TypeError: only 0-dimensional arrays can be converted to Python "
                            f"scalars): index it first, {fname}(x[0])" +
                            (" (PyTorch converts any one-element tensor)" if "torch" in found else ""), position)
    return PASS


def _named(rule, fname):
    return lambda lowering, found, args, kwargs, position: rule(lowering, found, args, kwargs, position, fname)


_RULES = {"sum": _sum, "max": _named(_extreme, "max"), "min": _named(_extreme, "min"),
          "any": _named(_truth, "any"), "all": _named(_truth, "all"), "round": _round, "divmod": _divmod,
          "float": _named(_number, "float"), "int": _named(_number, "int"), "bool": _named(_number, "bool")}


# --- max / min with key= ------------------------------------------------------------------------------------------

def keyed_call(node: ast.Call, scope) -> bool:
    """Is ``node`` Python's ``max(..., key=f)`` / ``min(..., key=f)`` (the builtin, not a name of the text)?"""
    return type(node.func) is ast.Name and node.func.id in KEYED and node.func.id not in scope \
        and any(k.arg == "key" for k in node.keywords)


def keyed(lowering, node: ast.Call):
    """``max(items, key=f, default=d)`` / ``min``, or of several arguments: Python's own algorithm, each item's
    key ``f(item)`` written out as the text's call and compared with ``>`` (``<``), the first greatest kept; a key
    that is no number refused (Python compares arrays whole: ambiguous), and items of several shapes refused where
    the choice depends on the values (one array could not hold either)."""
    from . import plain, pyiter

    fname, position = node.func.id, lowering.source.at(node)
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise JacParseError(f"'*' and '**' in {fname}(..., key=...) are not supported: write its arguments", position)
    unknown = [k.arg for k in node.keywords if k.arg not in (("key", "reverse") if fname == "sorted" else
                                                             ("key", "default"))]
    if unknown:
        raise JacValueError(f"{fname}() got an unexpected keyword argument '{unknown[0]}' (Python's TypeError)",
                            position)
    if not node.args:
        raise JacValueError(f"{fname} expected at least 1 argument, got 0 (Python's TypeError)", position)
    given = {k.arg: k.value for k in node.keywords}
    if len(node.args) > 1 and "default" in given:
        raise JacValueError(f"Cannot specify a default for {fname}() with multiple positional arguments (Python's "
                            "TypeError)", position)
    key_node = given["key"]
    fn = None if type(key_node) is ast.Constant and key_node.value is None else pyiter.callee(lowering, key_node)
    args = [lowering.expression(a) for a in node.args] if len(node.args) > 1 or not _iterator(node.args[0]) else None
    if args is not None and plain.iterating(node, args):  # max(cands, key=...) of plain instances (lang/plain.py)
        kwargs = [lowering.expression(k.value) for k in node.keywords]
        return plain.builtin_iterating(lowering, node, [*args, *kwargs])
    if len(node.args) > 1:
        items = args
    elif args is not None and type(args[0]) is Tracer:
        _rows(lowering, args[0], fname, position)
        items = list(FUNCTIONS["list"](lowering.b, [args[0]], {}, position))
    else:
        items = list(args[0] if args is not None else pyiter._iterable(lowering, node.args[0], f"{fname}()"))
    if len(items) > MAX_ITEMS:
        raise JacLimitError(f"{fname}() of {len(items):,} items: jac writes each comparison out (at most "
                            f"{MAX_ITEMS:,})", position)
    if not items and fname != "sorted":
        if "default" in given:
            return lowering.expression(given["default"])
        raise JacValueError(f"{fname}() iterable argument is empty (Python's ValueError)", position)
    kwargs = {k.arg: lowering.expression(k.value) for k in node.keywords if k.arg not in ("key", "default")}
    if isinstance(fn, pyiter.CmpKey):
        return _compared(lowering, fn, items, fname, kwargs, position)
    if fname == "sorted" or not items:
        return plain.ordered(lowering, node, fname, [Items(items)], {**kwargs, **({} if fn is None else {"key": fn})},
                             position)
    keys = [item if fn is None else pyiter.invoke(lowering, fn, [item], {}, key_node) for item in items]
    found = _keyed_chain(lowering, items, keys, fname, position)
    if found is not None:
        return found
    return plain.ordered(lowering, node, fname, [Items(items)], {} if fn is None else {"key": fn}, position)


def _compared(lowering, key, items: list, fname: str, kwargs: dict, position: int):
    """``sorted`` / ``min`` / ``max`` with ``key=functools.cmp_to_key(f)``: Python's own algorithm over the items,
    ``a < b`` being ``f(a, b) < 0`` and ``a > b`` being ``f(a, b) > 0``, each truth taken as an ``if`` test's."""
    from . import plain, pyiter
    from .functions import static

    def order(op):
        def compare(self, other):
            found = pyiter.invoke(lowering, key.fn, [items[self.i], items[other.i]], {}, key.where)
            return plain._truth(lowering, key.where, plain.rich(lowering, op, found, 0, key.where), "cmp_to_key's "
                                "comparison")
        return compare

    wrapped = type("K", (), {"__init__": lambda self, i: setattr(self, "i", i), "__lt__": order(ast.Lt),
                             "__gt__": order(ast.Gt)})
    if fname == "sorted":
        backwards = bool(static(lowering.b, kwargs["reverse"], "reverse", position)) if "reverse" in kwargs else False
        chosen = sorted(range(len(items)), key=wrapped, reverse=backwards)
        return pyiter.trees.written(Items([items[i] for i in chosen]), "list")
    if not items:
        raise JacValueError(f"{fname}() iterable argument is empty (Python's ValueError)", position)
    return items[(min if fname == "min" else max)(range(len(items)), key=wrapped)]


def _iterator(node: ast.expr) -> bool:
    """Is ``node`` a call or generator whose items pyiter reads off the text (``zip(...)``, ``(f(v) for v in s)``)?"""
    return type(node) in (ast.Call, ast.GeneratorExp)


def _keyed_chain(lowering, items: list, keys: list, fname: str, position: int):
    """Python's ``max(items, key=f)`` where every key is a number and every item an array of one shape: the chain
    of :func:`_chain` on the keys, each choice a ``where`` (right at any values); None otherwise."""
    b, op = lowering.b, "gt" if fname == "max" else "lt"
    keys = [lowering.number(k, position) if type(k) in (bool, int, float) else k for k in keys]
    if any(type(k) is not Tracer or _row_size_all(k) != 1 for k in keys):
        return None  # tuples, arrays: Python's algorithm compares them (and refuses what it refuses)
    best, best_key = items[0], keys[0]
    for item, key in zip(items[1:], keys[1:]):
        larger = boolean(b, b.apply(op, key, best_key, position=position))
        if b.nodes[larger.id].op == "const":  # keys known without the values: Python's choice, made here
            if bool(b.nodes[larger.id].value):
                best, best_key = item, key
            continue
        if type(item) is not Tracer or type(best) is not Tracer or tuple(item.shape) != tuple(best.shape):
            return None  # not one array either way: Python's algorithm, its tests taken at the given values
        best = b.apply("where", larger, item, best, position=position)
        best_key = b.apply("where", larger, key, best_key, position=position)
    return best
