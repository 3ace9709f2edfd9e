"""Derivative rules written by hand in the text (``torch.autograd.Function``, ``jax.custom_vjp``): the ``custom``
op's rules, which apply the user's backward, held as a sub-graph (:class:`Rule`), to the cotangents.

A ``custom`` node's arguments are ``(value, *primals, *residuals)``: ``value`` is the function's output computed by
ordinary nodes (detached by the lowering, so no cotangent flows into it), ``residuals`` what the backward reads
(``ctx.saved_tensors``, ``fwd``'s residuals). Its VJP rule for primal ``p`` applies the backward sub-graph to the
residuals' values and the batched cotangent ``g`` (``(B, *out)``) and takes output ``p``:

- a backward linear in its cotangents (every path from a cotangent to an output through ops linear in that
  argument, :func:`linear_in_cotangents`) is applied to the whole batch at once: the tangent its sub-graph pushes
  forward from the cotangent inputs (their primal zeros), by the ops' own JVP rules, so traced passes (Hessians,
  derivatives written in the text) get nodes of the backward's own ops, which jac differentiates again;
- any other backward (``jnp.clip(g, -1, 1)``) is applied row by row to arrays, as the libraries' vmap of it would;
  traced, a batch of one row is that row, and more rows are refused.

Its JVP rule is the rule's Jacobian (the backward of each basis cotangent: the rows ``jacrev`` prints) times the
tangent, so forward mode prints the Jacobian reverse mode prints. ``Rule.once`` (JAX's custom_vjp, whose higher
derivatives differentiate ``fwd``'s formula; PyTorch's ``once_differentiable``) wraps a traced backward in a
``custom_once`` node, whose derivative is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import JacValueError

# ops linear in the arguments at these positions (the others must not depend on a cotangent)
_LINEAR = {"neg": (0,), "reshape": (0,), "transpose": (0,), "getitem": (0,), "broadcast_to": (0,),
           "sum_to": (0,), "sum": (0,), "mean": (0,), "cumsum": (0,), "take_along": (0,), "trace": (0,),
           "mul": (0, 1), "matmul": (0, 1), "einsum": None, "div": (0,), "add": (0, 1), "sub": (0, 1),
           "where": (1, 2)}


@dataclass(frozen=True, eq=False)
class Rule:
    """A backward (or bwd) written in the text, lowered once into a sub-graph of its own.

    ``nodes``: the sub-graph's nodes; ``residual_ids`` / ``cotangent_ids``: its input nodes for the residuals and
    for the cotangent of each output; ``result_ids``: per primal, the node of its cotangent (None: no cotangent);
    ``residual_from``: per residual, ``(slot, k)``: the custom node's argument ``1 + primals + slot``, or, when
    ``k`` is the node's output, the node's own value; ``linear``: the backward is linear in the
    cotangents; ``once``: its own derivative is refused (``message`` says why); ``name``/``library`` for messages."""

    name: str
    library: str
    nodes: tuple
    residual_ids: tuple
    cotangent_ids: tuple
    result_ids: tuple
    residual_from: tuple
    output_shapes: tuple
    primal_shapes: tuple
    linear: bool
    once: bool
    message: str = ""

    def __repr__(self) -> str:  # a kernel's or a graph's label
        return f"{self.library} rule {self.name}"

    @property
    def label(self) -> str:
        what = "torch.autograd.Function" if self.library == "torch" else "jax.custom_vjp"
        return f"{what} {self.name}"


def linear_in_cotangents(nodes, cotangent_ids, result_ids) -> bool:
    """Is every result linear in the cotangent inputs: reached from them only through :data:`_LINEAR` ops at
    their linear positions (a sum of two reached terms; a product with one reached factor), and no result a
    constant other than zeros that no cotangent reaches?"""
    reached = set(cotangent_ids)
    by_id = {node.id: node for node in nodes}
    for node in nodes:
        if node.op in ("input", "const"):
            continue
        hit = [i for i, a in enumerate(node.args) if a in reached]
        if not hit:
            continue
        positions = _LINEAR.get(node.op, ())
        if node.op == "einsum" or node.op in ("mul", "matmul"):
            if len(hit) != 1:
                return False
        elif positions is None or any(i not in positions for i in hit):
            return False
        if node.op in ("add", "sub", "where"):
            others = [a for i, a in enumerate(node.args) if i in positions and a not in reached]
            if any(not _zero_constant(by_id[a]) for a in others):
                return False
        reached.add(node.id)
    return all(r is None or r in reached or _zero_constant(by_id[r]) for r in result_ids)


def _zero_constant(node) -> bool:
    return node.op == "const" and node.value is not None and not np.any(np.asarray(node.value))


def _ops():
    from . import ops
    return ops


def _is_tracer(x) -> bool:
    from .op import Proxy
    return isinstance(x, Proxy) and x.traces


def _zeros(like, shape: tuple):
    """Zeros of ``shape`` (batched) in the kind of ``like``: an array, a structured batch, a dry run's stand-in
    or a constant of a traced graph."""
    from . import structured
    if type(like) is np.ndarray:
        return np.zeros(shape, dtype=like.dtype)
    if _is_tracer(like):
        return like.builder.const(np.zeros(shape, dtype=like.builder.dtype))
    if structured.is_batch(like):
        return structured.zeros(shape[0], shape[1:], like.dtype)
    return np.zeros(shape)


def residual_values(rule: Rule, ans, args, output: int) -> list:
    """The residuals' values: each the node's argument of its slot, or the node's own value where the residual
    is this output (PyTorch's saved output: its derivative at second order goes through the rule)."""
    first = 1 + len(rule.primal_shapes)
    return [ans if k == output else args[first + slot] for slot, k in rule.residual_from]


def _evaluate(rule: Rule, inputs: dict) -> dict:
    """The sub-graph's values with ``P``, given its input nodes' values."""
    P = _ops().P
    values = {}
    for node in rule.nodes:
        if node.op == "input":
            values[node.id] = inputs[node.id]
        elif node.op == "const":
            values[node.id] = node.value
        else:
            args = [values[a] for a in node.args]
            values[node.id] = getattr(P, node.op)(*args, **node.params) if node.params else \
                getattr(P, node.op)(*args)
    return values


def _pushed(rule: Rule, primal: dict, tangents: dict, batch: int) -> dict:
    """The tangents of the sub-graph's nodes from ``tangents`` of its cotangent inputs, by the ops' JVP rules."""
    ops = _ops()
    P, OPS = ops.P, ops.OPS
    tan = dict(tangents)
    for node in rule.nodes:
        if node.op in ("input", "const"):
            continue
        reached = [(i, a) for i, a in enumerate(node.args) if a in tan]
        if not reached:
            continue
        rules = OPS[node.op].jvp
        args = [primal[a] for a in node.args]
        total = None
        for i, a in reached:
            part = rules[i](tan[a], primal[node.id], *args, **node.params)
            total = part if total is None else P.add(total, part)
        full = (batch,) + tuple(node.shape)
        tan[node.id] = total if tuple(ops.shape_of(total)) == full else P.broadcast_to(total, shape=full)
    return tan


def cotangent(rule: Rule, g, ans, args, output: int, primal: int):
    """The cotangent of primal ``primal`` from the batched cotangent ``g`` of output ``output``."""
    ops = _ops()
    P = ops.P
    batch = ops.shape_of(g)[0]
    shape = (batch,) + tuple(rule.primal_shapes[primal])
    result = rule.result_ids[primal]
    if result is None:
        return _zeros(g, shape)
    residuals = residual_values(rule, ans, args, output)
    inputs = dict(zip(rule.residual_ids, residuals))
    traced = _is_tracer(g) or any(_is_tracer(r) for r in residuals)
    if rule.linear:
        dtype = ans.dtype if hasattr(ans, "dtype") else np.float64
        for k, i in enumerate(rule.cotangent_ids):
            inputs[i] = np.zeros(rule.output_shapes[k], dtype=dtype)
        out = _pushed(rule, _evaluate(rule, inputs), {rule.cotangent_ids[output]: g}, batch).get(result)
        if out is None:  # a result no cotangent reaches: zeros (linear_in_cotangents checked it)
            return _zeros(g, shape)
    elif not traced and type(g) is not np.ndarray and g.dry_result(shape) is not None:
        return g.dry_result(shape)
    else:
        if not traced and type(g) is not np.ndarray:
            g = g.to_dense()
        if traced and batch != 1:
            raise JacValueError(f"the backward of {rule.label} is not linear in its gradient, and a pass that "
                                f"jac traces (a second derivative, a derivative written in the text of more than "
                                f"one row) would apply it to {batch} rows at once: jac applies such a backward "
                                f"to arrays only (write it linear in the gradient to go further)")
        rows = []
        for b in range(batch):
            for k, i in enumerate(rule.cotangent_ids):
                inputs[i] = np.zeros(rule.output_shapes[k], dtype=g.dtype) if k != output else \
                    P.reshape(P.getitem(g, index=(b,)), shape=tuple(rule.output_shapes[k]))
            rows.append(_evaluate(rule, inputs)[result])
        out = P.reshape(rows[0], shape=shape) if traced else np.stack(
            [np.broadcast_to(r, rule.primal_shapes[primal]) for r in rows]).astype(g.dtype, copy=False)
    if rule.once and _is_tracer(out):
        out = P.custom_once(out, rule=rule)
    return out


def vjp_rule(index: int):
    """The VJP rule of the ``custom`` node's argument ``index``: a primal's cotangent, zeros for the value and the
    residuals (their derivatives reach the inputs through the backward's own nodes, at second order)."""
    def rule_of(g, ans, *args, rule: Rule, output: int):
        primals = len(rule.primal_shapes)
        if 1 <= index <= primals:
            return cotangent(rule, g, ans, args, output, index - 1)
        shape = (_ops().shape_of(g)[0],) + tuple(_ops().shape_of(args[index]))
        return _zeros(g, shape)
    return rule_of


def jvp_rule(index: int):
    """The JVP rule of argument ``index``: for a primal, the rule's Jacobian (the backward of each basis
    cotangent) times the tangent, as ``jacrev`` of the function prints it; zeros for the value and residuals."""
    def rule_of(t, ans, *args, rule: Rule, output: int):
        ops = _ops()
        P = ops.P
        batch = ops.shape_of(t)[0]
        out_shape = tuple(rule.output_shapes[output])
        primals = len(rule.primal_shapes)
        if not 1 <= index <= primals:
            return _zeros(t, (batch,) + out_shape)
        if not rule.linear:
            raise JacValueError(f"forward mode through {rule.label}, whose backward is not linear in its gradient: "
                                f"the library applies such a backward to each cotangent, which forward mode never "
                                f"has; ask for reverse mode (--mode reverse; jac vjp)")
        primal_shape = tuple(rule.primal_shapes[index - 1])
        m, n = math.prod(out_shape), math.prod(primal_shape)
        dtype = ans.dtype if hasattr(ans, "dtype") else np.float64
        basis = np.eye(m, dtype=dtype).reshape((m,) + out_shape)
        rows = cotangent(rule, basis, ans, args, output, index - 1)  # (m, *primal_shape)
        flat_t = P.reshape(t, shape=(batch, n))
        flat_rows = P.reshape(rows, shape=(m, n))
        pushed = P.matmul(flat_t, P.transpose(flat_rows, axes=(1, 0)))
        return P.reshape(pushed, shape=(batch,) + out_shape)
    return rule_of


def refuse_again(rule: Rule):
    raise JacValueError(rule.message or f"a second derivative through {rule.label} is not supported")


def once_rule(g, ans, x, rule: Rule):
    refuse_again(rule)
