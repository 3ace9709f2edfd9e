"""Transforms over a graph: evaluation, VJP (reverse), JVP (forward), Jacobians, Hessians.

Every pass is a loop over the flat node list; working state (values, tangents,
cotangents) lives in local dicts. Batched passes carry a leading axis of ``B`` basis
vectors through the rules, as ``vmap`` does, so a full Jacobian is one pass:

- ``jacrev``: one VJP pass whose cotangent is the basis of the output (B = y.size);
- ``jacfwd``: one JVP pass per input whose tangent is that input's basis (B = x.size);
- ``hessian = jacfwd(grad)``: the VJP pass traced into a graph, then a JVP pass over it.
"""

from __future__ import annotations

import numpy as np

from .graph import Builder, Graph, Tracer
from .ops import OPS, P, shape_of
from .shapes import size


def evaluate(graph: Graph, env: dict) -> list:
    """The value of every node, indexed by node id; ``env`` maps input names to arrays."""
    values: list = []
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node.op == "input":
                values.append(env[node.name])
            elif node.op == "const":
                values.append(node.value)
            else:
                values.append(OPS[node.op].impl(*[values[a] for a in node.args], **node.params))
    return values


def _accumulate(store: dict, key: int, value) -> None:
    store[key] = value if key not in store else P.add(store[key], value)


def vjp(graph: Graph, values: list, cotangent, retain: bool = False):
    """Pull a batched cotangent ``(B, *y.shape)`` back to every input that requires grad.

    Returns ``{name: (B, *x.shape)}``. Each node's cotangent is dropped once passed on,
    unless ``retain``: then returns ``(grads, {node_id: (B, *node.shape)})`` with the
    cotangent of every node it reached, as ``retain_grad()`` keeps it in PyTorch.
    """
    nodes = graph.nodes
    ct = {graph.output: cotangent}
    grads = {}
    kept = {}
    with np.errstate(all="ignore"):
        for node in reversed(nodes):
            g = ct.pop(node.id, None)
            if g is None or not node.requires_grad:
                continue
            if retain:  # a copy: a rule may pass g itself on, to be accumulated into
                kept[node.id] = np.array(g, copy=True)
            if node.op == "input":
                grads[node.name] = g
                continue
            rules = OPS[node.op].vjp
            args = [values[a] for a in node.args]
            for i, a in enumerate(node.args):
                if nodes[a].requires_grad:
                    _accumulate(ct, a, rules[i](g, values[node.id], *args, **node.params))
    batch = shape_of(cotangent)[0]
    for name, i in graph.inputs.items():
        if nodes[i].requires_grad and name not in grads:
            grads[name] = np.zeros((batch,) + nodes[i].shape, dtype=graph.dtype)
    return (grads, kept) if retain else grads


def jvp(graph: Graph, values: list, tangents: dict, outputs=None) -> dict:
    """Push batched tangents ``{name: (B, *x.shape)}`` forward.

    Returns ``{node_id: (B, *node.shape)}`` for the ids in ``outputs`` (default: the
    output); a node no tangent reaches gets zeros.
    """
    outputs = [graph.output] if outputs is None else list(outputs)
    batch = shape_of(next(iter(tangents.values())))[0]
    tan: dict = {}
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node.op == "input":
                if node.name in tangents:
                    tan[node.id] = tangents[node.name]
                continue
            if node.op == "const" or OPS[node.op].nondiff:
                continue
            reached = [(i, a) for i, a in enumerate(node.args) if a in tan]
            if not reached:
                continue
            rules = OPS[node.op].jvp
            args = [values[a] for a in node.args]
            total = None
            for i, a in reached:
                part = rules[i](tan[a], values[node.id], *args, **node.params)
                total = part if total is None else P.add(total, part)
            full = (batch,) + tuple(node.shape)
            tan[node.id] = total if tuple(shape_of(total)) == full else P.broadcast_to(total, shape=full)
    return {o: tan[o] if o in tan else np.zeros((batch,) + graph.nodes[o].shape, dtype=graph.dtype)
            for o in outputs}


def basis(shape: tuple, dtype) -> np.ndarray:
    """The standard basis of arrays of ``shape``, stacked: ``(n, *shape)``."""
    n = size(shape)
    return np.eye(n, dtype=dtype).reshape((n,) + tuple(shape))


def jacrev(graph: Graph, values: list) -> dict:
    """Full Jacobians ``{name: y.shape + x.shape}`` in one batched reverse pass."""
    y_shape = graph.output_shape
    grads = vjp(graph, values, basis(y_shape, graph.dtype))
    return {name: np.reshape(g, tuple(y_shape) + tuple(g.shape[1:])) for name, g in grads.items()}


def jacfwd(graph: Graph, values: list, names) -> dict:
    """Full Jacobians ``{name: y.shape + x.shape}``, one batched forward pass per input."""
    y_shape = tuple(graph.output_shape)
    out = {}
    for name in names:
        x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
        t = jvp(graph, values, {name: basis(x_shape, graph.dtype)})[graph.output]
        t = np.reshape(t, (size(x_shape),) + y_shape)
        out[name] = np.moveaxis(t, 0, -1).reshape(y_shape + x_shape)
    return out


def grad_graph(graph: Graph) -> tuple:
    """The reverse pass of a scalar-output ``graph``, traced into a graph of its own.

    Returns ``(graph2, {name: node id of d y / d name in graph2})``; each gradient node
    has shape ``(1, *x.shape)`` (the batch axis of one cotangent).
    """
    b = Builder(graph.source, dtype=graph.dtype)
    traced: list = []
    for node in graph.nodes:
        if node.op == "input":
            traced.append(b.input(node.name, node.shape, node.position))
        elif node.op == "const":
            traced.append(b.const(node.value, node.position))
        else:
            traced.append(b.apply(node.op, *[traced[a] for a in node.args], position=node.position,
                                  name=node.name, **node.params))
    seed = b.const(np.ones((1,) + tuple(graph.output_shape), dtype=graph.dtype))
    grads = vjp(graph, traced, seed)
    ids = {name: b.lift(g).id for name, g in grads.items()}
    return b.graph(traced[graph.output]), ids


def hessian(graph: Graph, env: dict, names) -> dict:
    """Second derivatives of a scalar output: ``{(a, b): a.shape + b.shape}``.

    Forward over reverse: one batched JVP pass per input ``b`` through the traced
    gradient graph yields the blocks ``(a, b)`` for every ``a`` at once.
    """
    names = list(names)
    g2, grad_ids = grad_graph(graph.with_wrt(names))
    values = evaluate(g2, env)
    blocks = {}
    for b_name in names:
        b_shape = tuple(g2.nodes[g2.inputs[b_name]].shape)
        tangents = jvp(g2, values, {b_name: basis(b_shape, graph.dtype)}, outputs=[grad_ids[a] for a in names])
        for a_name in names:
            a_shape = tuple(g2.nodes[g2.inputs[a_name]].shape)
            t = np.reshape(tangents[grad_ids[a_name]], (size(b_shape),) + a_shape)
            blocks[(a_name, b_name)] = np.moveaxis(t, 0, -1).reshape(a_shape + b_shape)
    return blocks


def is_traced(value) -> bool:
    return isinstance(value, Tracer)
