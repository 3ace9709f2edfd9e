"""The one reverse pass: cotangents pulled back through a list of nodes by the ops' own VJP rules.

Both the engine (``engine/autodiff.vjp``: arrays, structured batches, or tracers of a traced
gradient) and the parser (``lang/derivatives``: ``jax.grad(f)(x)``, ``torch.autograd.grad(y, x)``
written in the text, whose cotangents are nodes of the graph being built) run this loop; the rules
are written with ``P``, so applied to tracers they add nodes.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacError
from .ops import _BLOCKS, P, shape_of
from .structured import _LEDGER
from .work import _LIMIT, check_time, refuse_pass_past_deadline

# read once (np.NAME is a generic lookup in Python 3.11); two arrays' cotangents are summed by NumPy's add at once,
# P.add's call for them (a first call's pass sums one per argument read twice), anything else through P.add
_ndarray, _add = np.ndarray, np.add
# structured.ledger_now and work.limit_now, without their Python frames: the context variables' own get (C)
_ledger_now, _limit_now = _LEDGER.get, _LIMIT.get


def pullback(nodes, values, ct: dict, flags, keep=None, stop: int = 0) -> dict:
    """Pull the batched cotangents ``ct`` (``{node id: (B, *node.shape)}``, consumed) back through ``nodes``.

    ``values`` are the nodes' values by id (arrays or tracers); ``flags[i]`` says whether node ``i`` carries a
    derivative (an input that requires grad, or a node one reaches): the loop visits only those, and pulls a
    cotangent back only into such arguments. ``keep(node id, cotangent)``, when given, is called for every
    node the pass reaches, before its cotangent is passed on (``retain_grad()``, or the parser's chosen
    nodes). Nodes below ``stop`` are not visited (none of them is flagged: the caller knows). Returns
    ``{input name: (B, *x.shape)}`` of the input nodes reached. A rule's JacError is raised pointing at its
    node (``position``), unless it points somewhere already.
    """
    grads = {}
    pop, add = ct.pop, P.add
    top = max(ct) if ct else -1
    ledger = _ledger_now()  # a dry run: each rule's unbatched temporaries are counted (Ledger.rule)
    limit = _limit_now()  # a time limit (the API's timeout=, --timeout): checked before each rule
    if limit is not None and ledger is None and ct and not getattr(seed := ct[top], "traces", False):
        # values (arrays, structured batches), not a dry run's nor a tracer's: a pass that cannot fit is refused
        refuse_pass_past_deadline(limit, nodes, _reached(nodes, ct, flags, stop), shape_of(seed)[0],
                                  "a reverse-mode pass")
    for nid in range(top, stop - 1, -1):
        g = pop(nid, None)
        if g is None or not flags[nid]:
            continue
        if limit is not None:
            check_time(limit)
        if keep is not None:
            keep(nid, g)
        node = nodes[nid]
        op = node.op
        if op == "input":
            grads[node.name] = g
            continue
        if op == "const":  # a chosen node that is a constant (the parser's jax.grad(f)(2.0)): nothing below it
            continue
        node_args, params = node.args, node.params
        rules = _BLOCKS[op].vjp  # OPS's own dict, read at each pass: tests patch the registry's rules
        ans = values[nid]
        if ledger is not None:
            ledger.rule(op, ans, [values[a] for a in node_args])
        try:  # each rule that reaches an argument requiring grad, in order; its part accumulated
            if len(node_args) == 1:  # the common arities, called without * (and ** without parameters)
                a = node_args[0]
                if flags[a]:
                    part = rules[0](g, ans, values[a], **params) if params else rules[0](g, ans, values[a])
                    ct[a] = part if a not in ct else \
                        _add(ct[a], part) if type(part) is _ndarray and type(ct[a]) is _ndarray else add(ct[a], part)
            elif len(node_args) == 2 and not params:
                a, b = node_args
                value_a, value_b = values[a], values[b]
                if flags[a]:
                    part = rules[0](g, ans, value_a, value_b)
                    if a == b:  # f(x, x): its derivative by x, the sum of its two partials, made first (below)
                        part = _own_sum(part, rules[1](g, ans, value_a, value_b))
                    ct[a] = part if a not in ct else \
                        _add(ct[a], part) if type(part) is _ndarray and type(ct[a]) is _ndarray else add(ct[a], part)
                if flags[b] and a != b:
                    part = rules[1](g, ans, value_a, value_b)
                    ct[b] = part if b not in ct else \
                        _add(ct[b], part) if type(part) is _ndarray and type(ct[b]) is _ndarray else add(ct[b], part)
            else:
                args = list(map(values.__getitem__, node_args))  # no comprehension: values stays a local
                own = {} if len(set(node_args)) < len(node_args) else None  # an argument given twice (below)
                for i, a in enumerate(node_args):
                    if flags[a]:
                        part = rules[i](g, ans, *args, **params)
                        if own is not None:
                            own[a] = part if a not in own else _own_sum(own[a], part)
                            continue
                        ct[a] = part if a not in ct else _add(ct[a], part) \
                            if type(part) is _ndarray and type(ct[a]) is _ndarray else add(ct[a], part)
                for a, part in (own or {}).items():
                    ct[a] = part if a not in ct else _add(ct[a], part) \
                        if type(part) is _ndarray and type(ct[a]) is _ndarray else add(ct[a], part)
        except JacError as err:  # a rule refusing the values (det's at a singular matrix): point at the op
            err.position = node.position if err.position is None else err.position
            raise
        if ledger is not None:
            ledger.done()
    return grads


def _own_sum(part, other):
    """One op's two parts for one argument it reads twice (``atan2(x, x)``, ``x * x``), added before they join the
    argument's cotangent: the op's derivative by it, as the forward pass's tangent sums them. Added one at a time,
    partials that cancel and are large absorbed what other readers gave: ``sum(atan2(x, x)) + sum(x[::-1])`` at
    x = 1e-200, partials ±5e199, gave (1 + 5e199) - 5e199 = 0 for 1 in reverse mode (session 53, nan41's seed
    5301: ``softmax(atan2(x, x) * flip(x))``'s columns of its tiny entries were 0, silently)."""
    return _add(part, other) if type(part) is _ndarray and type(other) is _ndarray else P.add(part, other)


def _reached(nodes, ct: dict, flags, stop: int) -> list:
    """``reached[i]``: does node ``i``'s VJP rule run in a pass from the cotangents ``ct`` (one reaches it and it
    carries a derivative)? For the time estimate of a pass under a limit only."""
    reached = [False] * len(nodes)
    for nid in ct:
        reached[nid] = True
    for nid in range(max(ct), stop - 1, -1):
        if reached[nid] and flags[nid]:
            for a in nodes[nid].args:
                if flags[a]:
                    reached[a] = True
        else:
            reached[nid] = False
    return reached
