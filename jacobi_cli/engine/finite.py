"""Where a NaN or an infinity first appears: in the value, or in a derivative.

One mechanism for every command. When a result (the value, a Jacobian, ``x.grad``,
``J·t``, a Hessian) holds a non-finite number, find the first node, in topological order,
that is non-finite although everything it was computed from is finite: that op, at that
column, made it. For values the scan runs over the node values the evaluation already
has; for derivatives over the tangents of one forward pass along the input element whose
column holds the non-finite number (so an op whose derivative is infinite, ``sqrt`` at 0,
is found even where its value is finite).

>>> from jacobi_cli import api
>>> problem = api.prepare("2 * log(x)", {"x": [1.0, -1.0]})
>>> [w.message for w in value_warnings(problem.graph, problem.values)]
['log at column 4 made NaN: log(-1) = NaN']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import autodiff
from ..ir.ops import OPS

MAX_WARNINGS = 5  # per command: one per result that holds non-finite numbers


@dataclass(frozen=True)
class NonFinite:
    """A non-finite number in a result, and the op that first made it.

    ``where`` names the result (``"value"``, ``"∂y/∂x"``, ``"x.grad"``, ``"jvp"``,
    ``"∂²y/∂x∂x"``); ``op`` the culprit (``"log"``, or ``"input"``/``"const"`` when the
    number was given); ``position`` its column in the expression, or ``None``.
    """

    where: str
    op: str
    position: int | None
    message: str
    kind: str = "nonfinite"  # or "nondifferentiable": a finite number where no derivative exists

    def as_dict(self) -> dict:
        return {"kind": self.kind, "in": self.where, "op": self.op, "position": self.position,
                "message": self.message}


FINITE_BLOCK = 1 << 16  # elements tested at a time: isfinite's mask of a whole result is 1/8 of its bytes (session 48)


def all_finite(array) -> bool:
    """Whether ``array`` holds no NaN and no infinity, tested ``FINITE_BLOCK`` elements at a time: the mask of a
    30 MiB Jacobian at once (3.8 MiB) was held beside it, past the budget ``--max-memory`` had checked."""
    a = np.asarray(array)
    if a.dtype.kind not in "fc":
        return True
    if a.size <= FINITE_BLOCK:
        return bool(np.isfinite(a).all())
    if a.flags.c_contiguous or a.flags.f_contiguous:
        flat = a.ravel(order="K")  # a view of a contiguous array
        return all(np.isfinite(flat[i:i + FINITE_BLOCK]).all() for i in range(0, flat.size, FINITE_BLOCK))
    rows = max(1, FINITE_BLOCK // (a.size // a.shape[0]))  # leading rows at a time (views); a row past a block:
    if rows > 1:                                            # its own rows in turn (depth at most a.ndim)
        return all(np.isfinite(a[i:i + rows]).all() for i in range(0, a.shape[0], rows))
    return all(all_finite(row) for row in a)


def value_warnings(graph, values: list) -> list:
    """Why the output value holds NaN or infinities (``[]`` when it does not)."""
    if all_finite(values[graph.output]):
        return []
    needed = graph.needed()
    for node in graph.nodes:
        if not needed[node.id] or all_finite(values[node.id]):
            continue
        if all(all_finite(values[a]) for a in node.args):
            return [_culprit("value", node, values, values[node.id])]
    return []  # pragma: no cover - the output itself is such a node


def derivative_warnings(graph, values: list, where: str, name: str, flat_column, held=None) -> list:
    """Why a derivative with respect to input ``name`` holds NaN or infinities.

    ``flat_column`` is the element of ``name`` (a flat index) whose column of the Jacobian
    holds the non-finite number; one forward pass along that basis vector is scanned. ``held``: that
    column's values, when known: the warning names the kinds it holds (the dense pass also holds the
    0 · inf = NaN of entries a structured Jacobian knows to be 0).
    """
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    tangent = np.zeros((1, int(np.prod(x_shape, dtype=np.int64))), dtype=graph.dtype)
    tangent[0, flat_column] = 1
    return tangent_warnings(graph, values, where, {name: tangent.reshape((1,) + x_shape)}, held)


def tangent_warnings(graph, values: list, where: str, tangents: dict, held=None) -> list:
    """The first node whose tangent is non-finite while its arguments' tangents are finite,
    in one forward pass with ``tangents`` (``{name: (1, *x.shape)}``)."""
    needed = graph.needed()
    ids = [n.id for n in graph.nodes if needed[n.id]]
    pushed = autodiff.jvp(graph, values, tangents, outputs=ids)
    reached = {i for i in ids if graph.nodes[i].op == "input" and graph.nodes[i].name in tangents}
    for i in ids:
        node = graph.nodes[i]
        if node.op in ("input", "const") or OPS[node.op].nondiff:
            continue
        if not any(a in reached for a in node.args):
            continue
        reached.add(i)
        if all_finite(pushed[i]) or not all(all_finite(pushed[a]) for a in node.args if a in reached):
            continue
        return [_culprit(where, node, values, _held_kinds(np.asarray(pushed[i])[0], held), derivative=True)]
    return [NonFinite(where, "", None, f"{where} holds {_kinds(None)}; every op's derivative was finite, "
                      "so they overflowed when multiplied or summed")]


def jacobian_warnings(graph, values: list, where: str, name: str, array) -> list:
    """Warnings for a derivative whose trailing axes are the shape of input ``name``: an
    array, or a :class:`~jacobi_cli.jacobian.Jacobian` (a structured one is read from its
    stored values, never made dense)."""
    if getattr(array, "structure", "dense") != "dense":
        return _structured_warnings(graph, values, where, name, array)
    a = np.asarray(array.to_array() if hasattr(array, "structure") else array)
    if all_finite(a):
        return []
    x_size = int(np.prod(graph.nodes[graph.inputs[name]].shape, dtype=np.int64))
    columns = ~np.isfinite(a.reshape(-1, x_size)).all(axis=0)
    column = int(np.argmax(columns))
    found = derivative_warnings(graph, values, where, name, column, a.reshape(-1, x_size)[:, column])
    return [_with_kinds(w, a) for w in found]


def result_warning(where: str, array) -> NonFinite:
    """A result that holds NaN or infinities when no op's derivative is found to have made them."""
    return NonFinite(where, "", None, f"{where} holds {_kinds(array)}")


def order_warnings(graph, values: list, name: str, order: int, result, of: str = "y") -> list:
    """Warnings for ``jac derivative``: the ``order``-th derivative ``result`` by ``name`` (its
    trailing axes ``name``'s elements; a diagonal result holds one per element). The op whose
    first derivative is non-finite along the column that holds the number, else past order 1
    the result named alone (an op's higher derivative is infinite there: x**1.5 at 0)."""
    a = np.asarray(result)
    if all_finite(a):
        return []
    power = "" if order == 1 else "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(order))
    where = f"∂{power}{of}/∂{name}{power}"
    if order == 1:
        return jacobian_warnings(graph, values, where, name, a)
    x_size = int(np.prod(graph.nodes[graph.inputs[name]].shape, dtype=np.int64))
    column = int(np.argmax(~np.isfinite(a.reshape(-1, x_size)).all(axis=0)))
    found = [w for w in derivative_warnings(graph, values, where, name, column) if w.op]
    return found or [NonFinite(where, "", None, f"{where} holds {_kinds(a)}: the first derivative is finite, so "
                               f"an op's derivative of a higher order is infinite or undefined at this point")]


def _structured_warnings(graph, values: list, where: str, name: str, jacobian) -> list:
    stored = np.asarray(jacobian.values if jacobian.values is not None else [])
    bad = ~np.isfinite(stored)
    if not bad.any():
        return []
    cols = np.asarray(jacobian.cols)
    column = int(cols[np.argmax(bad)])
    held = stored[cols == column] if cols.shape == stored.shape else None
    return [_with_kinds(w, stored) for w in derivative_warnings(graph, values, where, name, column, held)]


def _held_kinds(pushed, held):
    """The pushed tangent with its non-finite entries of kinds ``held`` does not hold made finite (0): the
    kinds the warning names are the Jacobian's, not a dense pass's 0 · inf = NaN."""
    if held is None:
        return pushed
    held = np.asarray(held)
    keep = np.zeros(pushed.shape, dtype=bool)
    for test in (np.isnan, np.isposinf, np.isneginf):
        if test(held).any():
            keep |= test(pushed)
    if not keep.any():
        return pushed
    return np.where(keep | np.isfinite(pushed), pushed, 0.0)


# --- describing the culprit ---------------------------------------------------------------

def _narrowed(held: np.ndarray) -> str:
    """Under --dtype float32, why an input may hold inf the user did not write: a number beyond float32's range
    (a float64 file's 3.5e38, ``x=1e39``) is held as inf, as ``torch.tensor(1e39, dtype=torch.float32)`` is."""
    if held.dtype != np.float32 or not np.isinf(held).any():
        return ""
    return (" (under --dtype float32 a number beyond ±3.4028235e+38, float32's largest, is held as inf, as PyTorch's "
            "float32 tensor holds it: use --dtype float64 for such values)")


def _culprit(where: str, node, values: list, result, derivative: bool = False) -> NonFinite:
    result = np.asarray(result)
    bad = _kinds(result)
    position = node.position
    at = f" at column {position}" if position is not None else ""
    if node.op == "input":
        return NonFinite(where, "input", position, f"the input '{node.name}' holds {bad}{_narrowed(result)}")
    if node.op == "const":
        return NonFinite(where, "const", position, f"the constant{at} is {bad}")
    call = _call(node, values, result)
    if derivative:
        text = f"{where}: the derivative of {node.op}{at} is {bad}"
        text += f" at {call}" if call else ""
        if not all_finite(values[node.id]):
            text += f" (where its value is {_kinds(values[node.id])})"
        return NonFinite(where, node.op, position, text)
    detail = f": {call} = {_scalar(result[_first_bad(result)])}" if call else " from finite inputs"
    if not call and np.isinf(result).any():
        detail += " (overflow)"
    return NonFinite(where, node.op, position, f"{node.op}{at} made {bad}{detail}")


def _call(node, values: list, result) -> str:
    """``log(-1)``: the arguments of an element-wise op at the first non-finite element."""
    args = [np.asarray(values[a]) for a in node.args]
    shape = result.shape
    try:
        if np.broadcast_shapes(*(a.shape for a in args), shape) != shape:
            return ""
    except ValueError:
        return ""
    if node.params and node.op != "clip":
        return ""
    index = _first_bad(result)
    parts = [_scalar(np.broadcast_to(a, shape)[index]) for a in args]
    return f"{node.op}({', '.join(parts)})"


def _first_bad(a) -> tuple:
    a = np.asarray(a)
    flat = int(np.argmax(~np.isfinite(a).reshape(-1))) if a.size else 0
    return np.unravel_index(flat, a.shape) if a.ndim else ()


def _kinds(a) -> str:
    """``NaN``, ``inf``, ``-inf`` or several of them: what is in ``a``."""
    if a is None:
        return "NaN or infinite values"
    a = np.asarray(a)
    found = [word for word, test in (("NaN", np.isnan), ("inf", np.isposinf), ("-inf", np.isneginf))
             if test(a).any()]
    return " and ".join(found) or "finite values"


def _with_kinds(warning: NonFinite, array) -> NonFinite:
    if warning.op:
        return warning
    message = warning.message.replace(_kinds(None), _kinds(array))
    return NonFinite(warning.where, warning.op, warning.position, message)


def _scalar(v) -> str:
    v = float(v)
    if np.isnan(v):
        return "NaN"
    return f"{v:.6g}" if np.isfinite(v) else ("inf" if v > 0 else "-inf")


# --- per command ------------------------------------------------------------------------------

def warnings(problem, derivatives=()) -> list:
    """The value's warnings, then one per derivative ``(where, input name, array)`` that holds
    non-finite numbers (its trailing axes are the input's shape)."""
    found = value_warnings(problem.graph, problem.values)
    for where, name, array in derivatives:
        found += jacobian_warnings(problem.graph, problem.values, where, name, array)
    return found[:MAX_WARNINGS]


def given_warning(where: str, result, option: str, given) -> NonFinite:
    """A product that holds NaN or infinities when the vector the user gave (``--v``, ``--tangent
    x``) holds them: that vector is named; no op made them (no "overflow" to look for)."""
    return NonFinite(where, "", None, f"{where} holds {_kinds(result)}: the {option} given holds {_kinds(given)}")


def jvp_warnings(problem, tangents: dict, result) -> list:
    """Warnings for ``jac jvp``: the value, and ``J·t`` along the given ``tangents``."""
    found = value_warnings(problem.graph, problem.values)
    nonfinite = [name for name, t in tangents.items() if not all_finite(t)]
    if nonfinite and not all_finite(result):
        return found + [given_warning("jvp", result, f"--tangent {nonfinite[0]}", tangents[nonfinite[0]])]
    if not all_finite(result):
        batched = {name: np.asarray(t)[None] for name, t in tangents.items()}
        found += [_with_kinds(w, result) for w in tangent_warnings(problem.graph, problem.values, "jvp", batched)]
    return found[:MAX_WARNINGS]


def hessian_warnings(problem, blocks: dict, of: str = "y") -> list:
    """Warnings for ``jac hessian``: the value, the gradient, then the second derivatives
    (scanned in the traced gradient graph, whose derivative-rule nodes have no column)."""
    if all(all_finite(h) for h in blocks.values()):
        return (value_warnings(problem.graph, problem.values) + kink_warnings(problem, of))[:MAX_WARNINGS]
    graph, values = problem.graph, problem.values
    seed = np.ones((1,) + tuple(graph.output_shape), dtype=graph.dtype)
    grads = autodiff.vjp(graph, values, seed)
    first = [(f"∂{of}/∂{name}", name, grads[name][0]) for name in problem.wrt]
    found = warnings(problem, first)
    if any(not all_finite(g) for _, _, g in first):
        return found
    g2, ids = autodiff.grad_graph(graph)
    values2 = autodiff.evaluate(g2, problem.env)
    for (a, b), h in blocks.items():
        if not all_finite(h):
            found += jacobian_warnings(g2.with_output(ids[a]), values2, f"∂²{of}/∂{a}∂{b}", b, h)
    return found[:MAX_WARNINGS]


# ops whose second derivative does not exist where their value is 0, though the first one
# is defined there (a subgradient, as PyTorch takes): norm(x) at x = 0
SECOND_ORDER_KINKS = {"norm": "norm"}


def kink_warnings(problem, of: str = "y") -> list:
    """Second derivatives that do not exist: an op of :data:`SECOND_ORDER_KINKS` whose value
    is 0 on the way to the output. jac's Hessian holds 0 there; PyTorch's holds NaN."""
    graph, values = problem.graph, problem.values
    needed = graph.needed()
    found = []
    for node in graph.nodes:
        if node.op in SECOND_ORDER_KINKS and needed[node.id] and np.any(np.asarray(values[node.id]) == 0):
            column = f" at column {node.position}" if node.position is not None else ""
            found.append(NonFinite(f"∂²{of}", node.op, node.position,
                                   f"{node.op}{column} is 0, where its second derivative does not exist (the "
                                   f"first is taken as 0, as PyTorch does); the Hessian holds 0 for it, PyTorch "
                                   f"NaN", kind="nondifferentiable"))
    return found
