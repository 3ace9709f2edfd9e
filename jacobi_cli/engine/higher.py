"""Derivatives of any order with respect to one input, composed from the VJP and JVP rules.

The K-th derivative of ``y`` with respect to ``x`` has shape ``y.shape + x.shape * K``
(``D[..., i1, ..., iK] = ∂^K y / ∂x[i1] ... ∂x[iK]``). It is built as JAX builds
``jacfwd(jacfwd(jacrev(f)))``: forward over reverse, each level a pass traced into a graph
of its own, so the next level differentiates it again (no finite differences):

- level 1: the reverse pass over the output's basis, traced: ``D1 = J`` (``y.shape + x.shape``; order 1
  itself is ``jac eval``'s Jacobian, and order 2 ``jac hessian``'s block, see :func:`run`);
- level k + 1: the forward pass over ``x``'s basis through the graph of ``D_k``, traced,
  its basis axis moved last: ``D_{k+1}`` (``D_k.shape + x.shape``).

When ``y`` depends on ``x`` element by element (the dry run of the Jacobian finds it
diagonal, from the sparsity pattern alone), every higher derivative is diagonal too:
``D[i, i, ..., i] = f_i^{(K)}(x_i)`` and the rest is zero. Then K nested forward passes
along the all-ones tangent give that diagonal: O(n) values instead of O(n^K)
(:func:`diagonal_graph`).

A plan (:class:`DerivativePlan`) is made before anything is evaluated: the traced graph's
node shapes are known, so the bytes of its values and of the result are counted against
the budget and a derivative that cannot fit is refused before allocation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import JacLimitError, JacUsageError
from ..ir.graph import Graph
from ..ir.ops import P
from ..ir.shapes import NUMPY_MAX_RANK, fmt, size
from .autodiff import basis, evaluate, hessian, jvp, replay, vjp
from .memory import fmt_bytes
from . import planner
from .planner import structural_zeros

MAX_ORDER = 32


def check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 1 <= order <= MAX_ORDER:
        raise JacUsageError(f"--order must be a whole number from 1 to {MAX_ORDER}, not {order!r}")
    return int(order)


MAX_TRACED_NODES = 200_000  # a derivative whose traced passes grow past this is refused (high orders)


def _level(g: Graph, name: str):
    """``(g', builder, traced)``: ``g`` pruned (only the nodes its output needs, and the inputs;
    repeated computations merged, exact identities ``g * 1`` and ``g + 0`` dropped, so nested
    traces stay small), and ``g'`` replayed into a builder for the next level's pass."""
    from .kernels import KernelBuilder

    if len(g.nodes) > MAX_TRACED_NODES:
        raise JacLimitError(f"the traced passes of this derivative grew past {MAX_TRACED_NODES:,} graph nodes; "
                            "lower --order (each order differentiates the passes of the one before)")
    pruned = KernelBuilder(g.source, dtype=g.dtype)
    keep = g.needed()
    traced: list = []
    for node in g.nodes:
        if node.op == "input":
            traced.append(pruned.input(node.name, node.shape, node.position))
        elif not keep[node.id]:
            traced.append(None)
        elif node.op == "const":
            traced.append(pruned.const(node.value, node.position))
        else:
            traced.append(pruned.apply(node.op, *[traced[a] for a in node.args], position=node.position,
                                       **node.params))
    g = pruned.graph(pruned.lift(traced[g.output])).with_wrt([name])
    b = KernelBuilder(g.source, dtype=g.dtype)
    return g, b, replay(g, b)


def derivative_graph(graph: Graph, name: str, order: int) -> Graph:
    """A graph whose output is the ``order``-th derivative of ``graph``'s output with respect
    to ``name``, shape ``y.shape + x.shape * order``: forward over reverse, each level traced."""
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    g = graph.with_wrt([name])
    for level in range(order):
        g, b, traced = _level(g, name)
        d_shape = tuple(g.output_shape)
        if level == 0:  # D1[y..., x...]: row r of the reverse pass is d y[r] / d x
            grad = vjp(g, traced, b.const(basis(d_shape, g.dtype)))[name]
            d = P.reshape(grad, shape=d_shape + x_shape)
        else:  # D_{k+1}[d..., x...]: column c of the forward pass is d D_k / d x[c]
            tangent = jvp(g, traced, {name: b.const(basis(x_shape, g.dtype))})[g.output]
            moved = P.transpose(tangent, axes=tuple(range(1, len(d_shape) + 1)) + (0,))
            d = P.reshape(moved, shape=d_shape + x_shape)
        g = b.graph(b.lift(d)).with_wrt([name])
    return g


def product_graph(graph: Graph, name: str, order: int) -> Graph:
    """:func:`derivative_graph`'s passes along one direction each (the all-ones cotangent, then the all-ones
    tangent): the same ops and rules (so the same checks, ``singular_check`` among them) at the cost of a VJP
    and K - 1 JVPs, whatever the derivative's size. ``jac diff --at`` runs it where the derivative itself does not
    fit the budget, so that a formula is never shown at a point where the derivative is refused."""
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    g = graph.with_wrt([name])
    for level in range(order):
        g, b, traced = _level(g, name)
        d_shape = tuple(g.output_shape)
        if level == 0:  # a batch of one direction, as derivative_graph's bases (the rules read a leading axis)
            grad = vjp(g, traced, b.const(np.ones((1,) + d_shape, dtype=g.dtype)))[name]
            d = P.reshape(grad, shape=x_shape)
        else:
            tangent = jvp(g, traced, {name: b.const(np.ones((1,) + x_shape, dtype=g.dtype))})[g.output]
            d = P.reshape(tangent, shape=d_shape)
        g = b.graph(b.lift(d)).with_wrt([name])
    return g


def diagonal_graph(graph: Graph, name: str, order: int) -> Graph:
    """For ``y`` element-wise in ``x`` (a diagonal Jacobian): a graph whose output, shaped
    like ``y``, is the diagonal ``∂^K y[i] / ∂x[i]^K``. Along the all-ones tangent
    ``Σ_j ∂y_i/∂x_j = ∂y_i/∂x_i`` when only ``j = i`` is structurally nonzero, and the
    result is again element-wise in ``x``, so K nested forward passes give the K-th."""
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    g = graph.with_wrt([name])
    for _ in range(order):
        g, b, traced = _level(g, name)
        tangent = jvp(g, traced, {name: b.const(np.ones((1,) + x_shape, dtype=g.dtype))})[g.output]
        g = b.graph(b.lift(P.reshape(tangent, shape=tuple(g.output_shape)))).with_wrt([name])
    return g


@dataclass(frozen=True)
class DerivativePlan:
    """How ``jac derivative`` computes the ``order``-th derivative for one input."""

    name: str
    order: int
    y_shape: tuple
    x_shape: tuple
    structure: str  # "diagonal" (element-wise: K forward passes along ones) or "dense"
    itemsize: int
    values_bytes: int  # the traced graph's node values, counted from its shapes
    budget: int
    dense_result: bool  # is the dense tensor made (else only the diagonal)
    graph: Graph | None = None
    refusal: str | None = None
    source: Graph | None = None  # the expression's graph (for --wrt name): order 1's plan, the dependence mask

    @property
    def shape(self) -> tuple:
        return tuple(self.y_shape) + tuple(self.x_shape) * self.order

    @property
    def result_bytes(self) -> int:
        stored = size(self.shape) if self.dense_result else size(self.y_shape)
        return stored * self.itemsize

    @property
    def peak_bytes(self) -> int:
        return self.values_bytes + self.result_bytes

    def explain(self) -> list:
        k = self.order
        diagonal = f"the derivative is diagonal, {size(self.y_shape):,} values instead of {size(self.shape):,}"
        how = ("jac eval's Jacobian (its plan and its structured passes" + (f"; {diagonal})" if
                                                                            self.structure == "diagonal" else ")")
               if k == 1 else
               f"{k} nested forward passes along the all-ones tangent (element-wise: {diagonal})"
               if self.structure == "diagonal" else
               "jac hessian's block: 1 reverse pass over the output's basis, traced, then 1 forward pass over "
               f"{self.name}'s basis" if k == 2 else
               f"1 reverse pass over the output's basis, then {k - 1} forward passes over {self.name}'s basis, "
               "each traced")
        lines = [f"derivative plan: order {k} of {fmt(self.y_shape)} with respect to {self.name} {fmt(self.x_shape)}, "
                 f"shape {fmt(self.shape)}",
                 f"  {how}",
                 f"  traced graph values {fmt_bytes(self.values_bytes)}, result {fmt_bytes(self.result_bytes)}"
                 + (" (dense)" if self.dense_result else " (the diagonal only)")]
        peak = f"predicted peak {fmt_bytes(self.peak_bytes)} of the budget {fmt_bytes(self.budget)}"
        return lines + [f"  {peak}"] + ([f"  refused: {self.refusal}"] if self.refusal else [])

    def to_dict(self) -> dict:
        return {"input": self.name, "order": self.order, "structure": self.structure, "shape": list(self.shape),
                "values_bytes": self.values_bytes, "result_bytes": self.result_bytes, "peak_bytes": self.peak_bytes,
                "budget_bytes": self.budget, "refused": self.refusal}


def plan_derivative(graph: Graph, name: str, order: int, diagonal: bool, budget: int, dense: bool = True,
                    max_bytes: int | None = None, offers_sparse: bool = False) -> DerivativePlan:
    """Trace the derivative's graph (only constants are allocated: the bases, checked first)
    and count its values and the result against ``budget``; refused plans say why. ``offers_sparse``: the
    caller has ``--sparse`` (``jac derivative``), which a refusal of a diagonal derivative points to; the API,
    a suite's ``[[case.derivative]]`` and ``jac diff --at`` have none, so theirs says what they can change."""
    itemsize = np.dtype(graph.dtype).itemsize
    y_shape = tuple(graph.output_shape)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    structure = "diagonal" if diagonal else "dense"
    plan = DerivativePlan(name, order, y_shape, x_shape, structure, itemsize, 0, int(budget), dense)
    limit = budget if max_bytes is None else min(budget, max_bytes)
    # which bound refuses: --max-memory's budget, or jac's cap on one array (which --max-memory does not raise)
    bound = f"the memory budget of {fmt_bytes(limit)}" if limit == budget else \
        f"jac's limit of {fmt_bytes(limit)} for one array (whatever --max-memory)"
    if dense and len(plan.shape) > NUMPY_MAX_RANK:
        return _refused(plan, f"the derivative of order {order} would have {len(plan.shape)} dimensions (the output's "
                              f"{len(y_shape)} and {order} times the input's {len(x_shape)}); NumPy holds at most "
                              f"{NUMPY_MAX_RANK}. Lower --order, or use an input of fewer dimensions"
                              + (" (it is diagonal: --sparse gives its diagonal alone)" if diagonal and offers_sparse
                                 else ""))
    if dense and plan.result_bytes > limit:
        return _refused(plan, f"the derivative of order {order} has shape {fmt(plan.shape)}: {size(plan.shape):,} "
                              f"values ({fmt_bytes(plan.result_bytes)}), more than {bound}; nothing was "
                              "allocated" + (". It is diagonal: --sparse gives its diagonal alone"
                                             if diagonal and offers_sparse else
                                             ". Lower --order, differentiate a smaller input" +
                                             (", or raise --max-memory" if limit == budget else "")))
    if not diagonal:
        for what, n in (("output", size(y_shape)), (f"input {name}", size(x_shape))):
            if n * n * itemsize > limit:
                return _refused(plan, f"the basis of the {what} ({n:,} × {n:,}) needs {fmt_bytes(n * n * itemsize)}, "
                                      f"more than {bound}; nothing was allocated")
    traced = (diagonal_graph if diagonal else derivative_graph)(graph, name, order)
    values = sum(size(n.shape) for n in traced.nodes if n.op != "input") * itemsize
    plan = DerivativePlan(name, order, y_shape, x_shape, structure, itemsize, values, int(budget), dense, traced,
                          source=graph.with_wrt([name]))
    if plan.peak_bytes > budget:
        return _refused(plan, f"the traced passes of order {order} hold {fmt_bytes(values)} of values and the result "
                              f"{fmt_bytes(plan.result_bytes)}: {fmt_bytes(plan.peak_bytes)}, more than the memory "
                              f"budget of {fmt_bytes(budget)}; nothing was computed. Lower --order, differentiate a "
                              "smaller input, or raise --max-memory")
    return plan


def _refused(plan: DerivativePlan, why: str) -> DerivativePlan:
    from dataclasses import replace

    return replace(plan, refusal=why, graph=None)


def run(plan: DerivativePlan, env: dict) -> np.ndarray:
    """The derivative as ``plan`` says: the dense tensor, or (``dense_result`` false) the
    diagonal shaped like ``y``. Order 1 is ``jac eval``'s Jacobian (:func:`_jacobian`) and order 2 (dense) the
    Hessian's block, forward over the traced reverse pass with ``jac hessian``'s structured basis, so each
    command gives what the other does (a dense forward basis makes 0 · inf = NaN where a partial is infinite);
    a NaN where ``y[r]`` does not depend on the input is 0 (:func:`~jacobi_cli.engine.planner.structural_zeros`)."""
    if plan.refusal:
        raise JacLimitError(plan.refusal)
    if plan.order == 1 and plan.source is not None:
        return _jacobian(plan, env)
    if plan.order == 2 and plan.structure != "diagonal" and plan.source is not None:
        value = np.asarray(hessian(plan.source, env, [plan.name])[(plan.name, plan.name)]).reshape(plan.shape)
    else:
        value = np.asarray(evaluate(plan.graph, env)[plan.graph.output], dtype=plan.graph.dtype)
    if plan.structure != "diagonal":
        value = value.reshape(plan.shape)
        if plan.source is None or not np.isnan(value).any():
            return value
        key = (plan.name,) * plan.order
        return structural_zeros(plan.source, evaluate(plan.source, env), {key: value})[key]
    if not plan.dense_result:
        return value.reshape(plan.y_shape)
    return spread_diagonal(value, plan.shape, plan.order)


def _jacobian(plan: DerivativePlan, env: dict) -> np.ndarray:
    """Order 1: the Jacobian as ``jac eval`` computes it (its plan, its structured passes), so the two commands
    give the same numbers bit for bit: the traced reverse pass seeds the output's basis densely, where a zero
    meets an infinite partial (``a[:, None].expand(-1, 4) * A`` with ``A[0, 0] = inf``: 0 · inf = NaN summed
    into the finite ``∂y[0, 1] / ∂a[0]``)."""
    values = evaluate(plan.source, env)
    chosen = planner.check(planner.make_plan(plan.source, values, [plan.name], "auto", plan.budget))
    jacobian = planner.run(chosen, plan.source, values)[plan.name]
    if plan.structure == "diagonal" and not plan.dense_result:
        return np.asarray(jacobian.diagonal(), dtype=plan.source.dtype).reshape(plan.y_shape)
    return np.asarray(jacobian.to_array(), dtype=plan.source.dtype)


def spread_diagonal(diag: np.ndarray, shape: tuple, order: int) -> np.ndarray:
    """The dense tensor ``y.shape + x.shape * K`` whose entries ``[i, i, ..., i]`` (flat
    indices of y and of each x) are ``diag`` and the rest zero (``y.size == x.size``)."""
    n = diag.size
    out = np.zeros((n,) * (order + 1), dtype=diag.dtype)
    idx = np.arange(n)
    out[(idx,) * (order + 1)] = diag.reshape(-1)
    return out.reshape(shape)
