"""PyTorch's saved tensors: what its backward pass reads back, and refuses when a write in place changed it.

Autograd keeps some tensors of the forward pass for the derivative (``torch.exp`` its result, ``torch.sin`` its
input, ``a * b`` each operand where the other requires grad: ``derivatives.yaml``) and checks their version when
backward unpacks them: a write in place between the two (``h = torch.exp(x); h.add_(1); h.sum()``) makes backward
raise "one of the variables needed for gradient computation has been modified by an inplace operation", where the
mathematics (and jac, before session 35) has an answer. jac refuses such a text, PyTorch-spelled, for the documented
set below, where it knows exactly what PyTorch saves (``tests/test_raises35.py`` checks each entry against PyTorch
itself); other ops are answered as before (a text whose write changes a tensor saved by another op, say
``h.prod()``, is answered: PyTorch would raise).

The parser registers a node as a saver only where the text spells the op itself (:data:`SAVES`: ``torch.exp(h)``,
``h.exp()``, ``h * y``, ``torch.dot(h, y)``), never an op inside another function's lowering; a write in place
(``h.add_(1)``, ``h += 1``, ``h[0] = 0``) records the savers that saved the buffer it changes (its node, or a view
of it: a transpose, ``detach``, a basic index, ``expand``), and :meth:`~.graph.Builder.graph` refuses the output
when one of them is on its backward path (reached from an output through nodes that require grad), as PyTorch's
backward would run it."""

from __future__ import annotations

from ..errors import JacValueError

# the ops PyTorch saves the result of (exp's derivative is grad * result), and those it saves the input of
RESULT = frozenset(("exp", "exp2", "expm1", "tanh", "sigmoid", "sqrt", "rsqrt", "relu", "reciprocal", "tan"))
_INPUT = frozenset(("sin", "cos", "log", "log1p", "log2", "log10", "abs", "square", "arctan", "sinh", "cosh",
                    "asinh", "erf"))
# spelling (a torch function, a method, an operator) -> jac's op it lowers to
SAVES = {**{name: name for name in RESULT | _INPUT - {"arctan"}}, "atan": "arctan", "arctan": "arctan",
         "mul": "mul", "multiply": "mul", "div": "div", "divide": "div", "true_divide": "div",
         "matmul": "matmul", "mm": "matmul", "mv": "matmul", "dot": "matmul", "pow": "pow"}
MESSAGE = "one of the variables needed for gradient computation has been modified by an inplace operation"


def rule(spelling: str | None, op: str) -> str | None:
    """The op ``spelling`` names, if it is ``op`` (the node the text's call made) and one of :data:`SAVES`."""
    return op if spelling is not None and SAVES.get(spelling) == op else None


def saved_ids(nodes, i: int) -> tuple:
    """The nodes saver ``i`` keeps for its derivative, as PyTorch's ``derivatives.yaml`` says (each operand
    of a product where the other requires grad; a power's base and exponent, its result too where the exponent
    requires grad)."""
    node = nodes[i]
    op, args = node.op, node.args
    if op in RESULT:
        return (i,)
    if op in _INPUT:
        return args[:1]
    grad = [nodes[a].requires_grad for a in args]
    if op in ("mul", "matmul"):
        return tuple(a for a, other in ((args[0], grad[1]), (args[1], grad[0])) if other)
    if op == "div":
        return ((args[1],) if grad[0] else ()) + (tuple(args) if grad[1] else ())
    if op == "pow":
        return tuple(args) + ((i,) if grad[1] else ())
    return ()


def register(b, i: int, results: frozenset, arguments: frozenset) -> None:
    """Node ``i`` (which the text spelled as one of :data:`SAVES`, and which requires grad) keeps the buffers
    ``results`` (its result's, where it saves it) and ``arguments`` (those of the operands it saves: the tokens
    of ``lang.scatter.Memory``, so a copy that shares the node, ``h2 = h.clone()``, is a buffer of its own)."""
    if b.savers is None:
        b.savers, b.stale = {}, []
    b.savers[i] = (results, arguments)


def overwritten(b, written: frozenset, name: str, what: str, position) -> None:
    """A write in place into the buffers ``written`` (the name ``name``'s, a view's base's too): the savers that
    kept one of them are remembered, with the write, for :func:`check`."""
    for saver, (results, arguments) in (b.savers or {}).items():
        if written & results or written & arguments:
            b.stale.append((saver, name, what, position, b.nodes[saver].op, bool(written & results)))


def check(b, outputs: list) -> None:
    """Refuse the outputs when a saver whose tensor a later write changed is on their backward path."""
    nodes = b.nodes
    stale = {}
    for entry in b.stale:
        stale.setdefault(entry[0], entry)
    reached = set(outputs)
    first = min(stale)
    from .ops import OPS
    for i in range(max(reached), first - 1, -1):
        if i not in reached:
            continue
        node = nodes[i]
        if not node.requires_grad or OPS[node.op].nondiff:
            continue
        if i in stale:
            _refuse(stale[i])
        reached.update(a for a in node.args if nodes[a].requires_grad)


def _refuse(entry) -> None:
    saver, name, what, position, op, result = entry
    kept = "its result" if result else "its argument"
    raise JacValueError(f"{what}: PyTorch's backward pass raises here (\"{MESSAGE}\"): {op} saved '{name}' "
                        f"({kept}) for its derivative, and this write changes it before backward; write into a copy "
                        f"({name} = {name}.clone() before the write) or bind a new name ({name}2 = {name} + ...)",
                        position)
