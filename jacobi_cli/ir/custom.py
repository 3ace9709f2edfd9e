"""Derivative rules written by hand in the text (``torch.autograd.Function``, ``jax.custom_vjp``): the user's
backward held as a sub-graph (:class:`Rule`), and what the ``custom`` op's rules (its block in :mod:`.ops`, which
imports this module) need to know of it.

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

from dataclasses import dataclass

import numpy as np

from ..errors import JacValueError

# ops linear in the arguments at these positions (the others must not depend on a cotangent)
_LINEAR = {"neg": (0,), "reshape": (0,), "transpose": (0,), "getitem": (0,), "broadcast_to": (0,),
           "expand": (0,), "sum_to": (0,), "sum": (0,), "mean": (0,), "cumsum": (0,), "take_along": (0,), "trace": (0,),
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
    functorch: bool = False  # PyTorch's: setup_context given (torch.func's transforms read the rule then)
    vmappable: bool = False  # PyTorch's: generate_vmap_rule = True (torch.func.vmap of it then)
    # "vjp": a backward (cotangent inputs per output, results per primal); "jvp": a jax.custom_jvp's rule (tangent
    # inputs per primal in cotangent_ids, results per output in result_ids), linear in its tangents
    kind: str = "vjp"

    def __repr__(self) -> str:  # a kernel's or a graph's label
        return f"{self.library} rule {self.name}"

    @property
    def label(self) -> str:
        what = "torch.autograd.Function" if self.library == "torch" else f"jax.custom_{self.kind}"
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


def once_rule(g, ans, x, rule: Rule):
    """The ``custom_once`` node's rules: its derivative refused."""
    raise JacValueError(rule.message or f"a second derivative through {rule.label} is not supported")
