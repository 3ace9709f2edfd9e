"""``jax.lax.associative_scan(fn, elems, reverse=False, axis=0)`` for the functions whose scan jac has as one op:
``fn`` one of add, multiply, maximum, minimum, logaddexp (``jnp.add``, ``lax.mul``, ``jnp.maximum``, or a lambda or
``def`` of two parameters returning ``a + b``, ``a * b`` or such a call of them), lowered onto ``cumsum``,
``cumprod``, ``cummax`` / ``cummin`` and ``logcumsumexp``.

JAX combines the elements in a tree (pairs, then pairs of pairs), so for a function that is not associative its
result is not the running fold, and jac does not read any other ``fn`` (it refuses, saying what to write). For the
five, the value is the running fold up to rounding, and so are the derivatives where the function is smooth. Where
it is not, jac refuses at evaluation rather than answer otherwise than JAX: equal elements of a max / min scan
(JAX's derivative splits the cotangent as its tree meets them, 0.5, 0.25...), NaN there, and elements that are not
finite in a product or logaddexp scan (JAX's tree multiplies or adds the infinities in another order than the
running fold, so its NaN and inf land elsewhere).
"""

from __future__ import annotations

import ast

from ..errors import JacValueError
from ..ir.graph import Tracer
from ..ir.refusals import refused
from .functions import FUNCTIONS, library_function, static_int

SPELLING = "jax.lax.associative_scan"
PARAMETERS = ("fn", "elems", "reverse", "axis")
# a library function's (module, name) -> the combination it is
_NAMED = {**{(m, n): k for m in ("jnp", "jax.numpy", "np", "numpy") for n, k in (
    ("add", "add"), ("multiply", "mul"), ("maximum", "max"), ("minimum", "min"), ("logaddexp", "logaddexp"))},
    **{(m, n): k for m in ("lax", "jax.lax") for n, k in (("add", "add"), ("mul", "mul"), ("max", "max"),
                                                          ("min", "min"))}}
_OPERATORS = {ast.Add: "add", ast.Mult: "mul"}
_READS = ("jac reads fn = add, multiply, maximum, minimum or logaddexp (jnp.add, lax.mul, jnp.maximum, or "
          "lambda a, b: a + b); JAX combines the elements in a tree, not one after another, so for another "
          "function its result is not the running fold: write the cumulative function (jnp.cumsum, jnp.cumprod) "
          "or the steps out")
_TIES = ("{} with a max / min at equal elements (or NaN) along the axis: JAX's derivative splits the "
         "cotangent between equal elements as its tree meets them (0.5, 0.25, ...), which jac does not "
         "reproduce; perturb the ties, or write the comparison out (jnp.where)")
_INFINITE = (f"{SPELLING} of a product or logaddexp with an element that is infinite or NaN: JAX's tree combines "
             f"them in another order than one after another, so its NaN and inf derivatives land elsewhere; jac "
             f"refuses rather than answer otherwise")


def associative_scan(lowering, given: dict, position: int, literal):
    """The scan of ``elems`` along ``axis`` (``reverse``: from the end) by ``fn``. ``literal`` reads a keyword
    given as a Python literal (the transforms' helper)."""
    for key in ("fn", "elems"):
        if key not in given:
            raise JacValueError(f"{SPELLING}() needs {key}", position)
    kind = _combination(lowering, given["fn"], position)
    b = lowering.b
    x = lowering.expression(given["elems"])
    if not isinstance(x, Tracer):
        raise JacValueError(f"{SPELLING}: jac reads elems as one array (a tuple or dict of arrays, combined by a "
                            f"function of tuples, is not read: scan each array by itself)", position)
    if x.ndim == 0:
        raise JacValueError(f"{SPELLING}: elems is a scalar; it needs an axis to scan along, as JAX", position)
    axis = static_int(b, lowering.expression(given["axis"]), f"{SPELLING}'s axis", position) if "axis" in given else 0
    if not -x.ndim <= axis < x.ndim:
        raise JacValueError(f"{SPELLING}: axis {axis} is out of range for elems of {x.ndim} axes", position)
    reverse = bool(literal(given["reverse"], SPELLING, "reverse")) if "reverse" in given else False
    if reverse and axis < 0:
        raise JacValueError(f"{SPELLING}(..., reverse=True, axis={axis}): JAX raises TypeError for a negative axis "
                            f"with reverse=True (its lax.rev takes nonnegative dimensions); write axis={axis % x.ndim}",
                            position)
    axis %= x.ndim
    flip = tuple(slice(None, None, -1) if i == axis else slice(None) for i in range(x.ndim))
    if reverse:  # JAX: the scan of the reversed elements, reversed
        x = b.apply("getitem", x, index=flip, position=position)
    out = _scanned(b, x, kind, axis, position)
    return b.apply("getitem", out, index=flip, position=position) if reverse else out


def _scanned(b, x, kind: str, axis: int, position: int, spelling: str = SPELLING):
    """The scan along ``axis``; ``spelling`` names the call in a refusal (jax.lax.cummax is this max scan)."""
    ties = _TIES.format(spelling)
    every = tuple(range(x.ndim))
    if kind == "add":
        return _numpy("cumsum")(b, [x], {"axis": axis}, position)
    if kind in ("mul", "logaddexp"):
        out = _numpy("cumprod")(b, [x], {"axis": axis}, position) if kind == "mul" else \
            FUNCTIONS["logcumsumexp"](b, [x, axis], {}, position)
        bad = b.apply("isfinite", x, position=position)
        return refused(b, out, _INFINITE, where=bad, unless=True, axes=every, position=position)
    out = FUNCTIONS["cummax" if kind == "max" else "cummin"](b, [x, axis], {}, position).part("values")
    if x.shape[axis] == 1:
        return refused(b, out, ties, where=b.apply("isnan", x, position=position), axes=every, position=position)
    before = tuple(slice(None, -1) if i == axis else slice(None) for i in range(x.ndim))
    after = tuple(slice(1, None) if i == axis else slice(None) for i in range(x.ndim))
    met = b.apply("getitem", out, index=before, position=position)  # the running extreme each element meets
    tie = b.apply("eq", met, b.apply("getitem", x, index=after, position=position), position=position)
    nan = b.apply("isnan", x, position=position)
    out = refused(b, out, ties, where=tie, axes=every, position=position)
    return refused(b, out, ties, where=nan, axes=every, position=position)


def _numpy(name):
    return library_function("numpy", name) or FUNCTIONS[name]


def _combination(lowering, node: ast.expr, position: int, spelling: str = SPELLING) -> str:
    """Which of the five ``fn`` is, read off the text: a library's name, or a function of two parameters
    returning ``a + b``, ``a * b`` or a call of a library's name on them (lang/windows.py's reductions too)."""
    reads = _READS if spelling == SPELLING else (
        "jac reads computation = add, multiply, maximum or minimum (lax.add, jnp.multiply, lax.max, or lambda a, "
        "b: a + b); write the reduction itself (jnp.sum, jnp.max) for another")
    if isinstance(node, ast.Attribute):
        found = _NAMED.get((lowering.module_path(node.value), node.attr))
        if found is not None:
            return found
        raise JacValueError(f"{spelling}: {_what(spelling)}={ast.unparse(node)} is not read: {reads}", position)
    value = lowering.expression(node)
    fn_node, result = getattr(value, "node", None), getattr(value, "result", None)
    params = getattr(value, "positional", None)
    if not (isinstance(fn_node, (ast.Lambda, ast.FunctionDef)) and not value.body and params is not None
            and len(params) == 2 and not value.keyword_only and isinstance(result, ast.expr)):
        raise JacValueError(f"{spelling}: {_what(spelling)}={ast.unparse(node)} is not read: {reads}", position)
    names = lambda pair: len(pair) == 2 and all(isinstance(e, ast.Name) for e in pair) \
        and sorted(e.id for e in pair) == sorted(params)
    if isinstance(result, ast.BinOp) and type(result.op) in _OPERATORS and names([result.left, result.right]):
        return _OPERATORS[type(result.op)]
    if isinstance(result, ast.Call) and isinstance(result.func, ast.Attribute) and not result.keywords \
            and names(result.args):
        found = _NAMED.get((lowering.module_path(result.func.value), result.func.attr))
        if found is not None:
            return found
    raise JacValueError(f"{spelling}: {_what(spelling)} returning {ast.unparse(result)} is not read: {reads}",
                        position)


def _what(spelling: str) -> str:
    return "fn" if spelling == SPELLING else "computation"
