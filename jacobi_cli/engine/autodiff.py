"""Transforms over a graph: evaluation, VJP (reverse), JVP (forward), Jacobians, Hessians.

Every pass is a loop over the flat node list; working state (values, tangents,
cotangents) lives in local dicts. Batched passes carry a leading axis of ``B`` basis
vectors through the rules, as ``vmap`` does, so a full Jacobian is one pass:

- ``jacrev``: one VJP pass whose cotangent is the basis of the output (B = y.size);
- ``jacfwd``: one JVP pass per input whose tangent is that input's basis (B = x.size);
- ``hessian = jacfwd(grad)``: the VJP pass traced into a graph, then JVP passes over it
  (in chunks of the basis when memory is short: :func:`hessian_blocks`).
"""

from __future__ import annotations

import numpy as np

from ..ir import structured
from ..errors import JacError, JacValueError
from ..ir.graph import Builder, Graph, Tracer, last_uses, needed
from ..ir.ops import _BLOCKS, OPS, P, SECOND_ORDER, shape_of
from ..ir.reverse import pullback
from ..ir.shapes import size
from ..ir.work import _LIMIT, check_time, limit_now, refuse_pass_past_deadline
from .jacobian import JacobianBuilder


# ``with np.errstate(all="ignore")`` builds NumPy's error state at each entry: ~17 k instructions
# for its entry and exit, a third of a short expression's forward pass. NumPy 2 keeps the state
# in a context variable; where it holds NumPy's default state (or "ignore all" already), the
# state errstate would make from it is the one made here once, so a pass sets that and resets
# it after (per thread and context, as errstate does). Any other state (a caller's own
# np.setbufsize or error callback) goes through np.errstate, which keeps it.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _ERROR_STATE

    _DEFAULT_STATE = _ERROR_STATE.get()
    with np.errstate(all="ignore"):
        _IGNORE_ALL = _ERROR_STATE.get()
    # the context variable's methods and np.errstate read once (a method of a module's object, and any name of
    # NumPy's module, which defines __getattr__, is a generic lookup at each read in Python 3.11)
    _state_get, _state_set, _state_reset = _ERROR_STATE.get, _ERROR_STATE.set, _ERROR_STATE.reset
except (ImportError, AttributeError, LookupError):  # pragma: no cover - other NumPy versions
    _ERROR_STATE = _DEFAULT_STATE = _IGNORE_ALL = _state_get = _state_set = _state_reset = None
_errstate = np.errstate
_limit_now = _LIMIT.get  # work.limit_now without its Python frame (evaluate's, once a pass)


def errors_ignored():
    """Enter "ignore every floating-point error", as ``np.errstate(all="ignore").__enter__()``;
    returns what :func:`errors_restored` takes to leave it."""
    if _state_get is not None:
        current = _state_get()
        if current is _DEFAULT_STATE or current is _IGNORE_ALL:
            return _state_set(_IGNORE_ALL)
    state = _errstate(all="ignore")
    state.__enter__()
    return state


def errors_restored(entered) -> None:
    """Leave what :func:`errors_ignored` entered."""
    if type(entered) is _errstate:
        entered.__exit__(None, None, None)
    else:
        _state_reset(entered)


def evaluate(graph: Graph, env: dict) -> list:
    """The value of every node, indexed by node id; ``env`` maps input names to arrays."""
    values: list = []
    append = values.append
    limit = _limit_now()  # a time limit (the API's timeout=, --timeout): checked before each op
    # errors_ignored(), its common case inline (each pass's two frames: a first call runs two passes)
    current = _state_get() if _state_get is not None else None
    entered = _state_set(_IGNORE_ALL) if current is not None and (current is _DEFAULT_STATE or current is _IGNORE_ALL) \
        else errors_ignored()
    try:
        for node in graph.nodes:
            op = node.op
            if op == "input":
                append(env[node.name])
            elif op == "const":
                append(node.value)
            else:
                if limit is not None:
                    check_time(limit)
                args, params = node.args, node.params
                impl = _BLOCKS[op].impl  # OPS's own dict (a proxy's lookup costs more); a dict of impls per call
                # (impls.get(op), a method call) cost more than this subscript and attribute read, per node
                try:
                    if len(args) == 2 and not params:
                        append(impl(values[args[0]], values[args[1]]))
                    elif len(args) == 1:
                        append(impl(values[args[0]], **params) if params else impl(values[args[0]]))
                    else:
                        append(impl(*map(values.__getitem__, args), **params))  # no comprehension: no cell
                except JacError as err:  # an op that refuses its values (inv of a singular matrix)
                    err.position = node.position if err.position is None else err.position
                    raise err.with_source(graph.source)
                except np.linalg.LinAlgError as err:  # LAPACK refusing them (eigenvalues of inf do not converge)
                    raise JacValueError(f"{OPS[node.op].title}: linear algebra failed on these values ({err})",
                                        node.position, graph.source) from None
    finally:  # errors_restored(entered), inline
        if type(entered) is _errstate:
            entered.__exit__(None, None, None)
        else:
            _state_reset(entered)
    return values


def _located(err: JacError, node, graph: Graph) -> JacError:
    """``err`` pointing at ``node`` in the expression, unless it points somewhere already."""
    err.position = node.position if err.position is None else err.position
    return err.with_source(graph.source)


def vjp(graph: Graph, values: list, cotangent, retain: bool = False):
    """Pull a batched cotangent ``(B, *y.shape)`` back to every input that requires grad.

    Returns ``{name: (B, *x.shape)}``. Each node's cotangent is dropped once passed on,
    unless ``retain``: then returns ``(grads, {node_id: (B, *node.shape)})`` with the
    cotangent of every node it reached, as ``retain_grad()`` keeps it in PyTorch.
    ``cotangent`` may also be ``{node_id: (B, *node.shape)}``: several outputs pulled back
    at once, as ``torch.autograd.backward([outs], [vs])`` does (their sum).
    """
    nodes = graph.nodes
    if isinstance(cotangent, dict):
        ct = dict(cotangent)
        cotangent = next(iter(ct.values()))  # a batch, for the zeros below (pullback consumes ct)
    else:
        ct = {graph.output: cotangent}
    kept = {}
    # retained: a copy, as a rule may pass g itself on, to be accumulated into
    keep = (lambda nid, g: kept.__setitem__(nid, np.array(g, copy=True))) if retain else None
    flags = [node.requires_grad for node in nodes]
    current = _state_get() if _state_get is not None else None  # errors_ignored(), inline as in evaluate
    entered = _state_set(_IGNORE_ALL) if current is not None and (current is _DEFAULT_STATE or current is _IGNORE_ALL) \
        else errors_ignored()
    try:  # the one reverse pass (ir/reverse.py), which the parser's jax.grad(f)(x) runs too
        grads = pullback(nodes, values, ct, flags, keep)
    except JacError as err:  # pointing at the op whose rule refused (pullback set its position)
        raise err.with_source(graph.source)
    finally:  # errors_restored(entered), inline
        if type(entered) is _errstate:
            entered.__exit__(None, None, None)
        else:
            _state_reset(entered)
    for name, i in graph.inputs.items():
        if nodes[i].requires_grad and name not in grads:
            grads[name] = _zeros_like_batch(cotangent, nodes[i].shape, graph.dtype)
    return (grads, kept) if retain else grads


def _zeros_like_batch(batch, shape: tuple, dtype):
    """Zeros of ``(B, *shape)`` in the kind of ``batch``: structured stays structured."""
    if structured.is_batch(batch):
        return structured.zeros(shape_of(batch)[0], shape, dtype)
    return np.zeros((shape_of(batch)[0],) + tuple(shape), dtype=dtype)


def differentiated(nodes, outputs) -> list:
    """``flags[i]``: does an output read node ``i``'s tangent? (one reverse sweep, as ``graph.needed``, but
    through the arguments an op differentiates: not through a nondiff op (a comparison, ``detach``) nor an
    argument whose rule is None.) A forward pass computes no other tangent, so that a rule which refuses
    (``svd_zero``'s at a singular value at zero) refuses where a reverse pass, which never reaches it, does."""
    flags = [False] * len(nodes)
    for o in outputs:
        flags[o] = True
    for node in reversed(nodes):
        if not flags[node.id] or node.op in ("const", "input"):
            continue
        op = OPS[node.op]
        if op.nondiff:
            continue
        rules = op.jvp
        for i, a in enumerate(node.args):
            if i >= len(rules) or rules[i] is not None:
                flags[a] = True
    return flags


# Forward mode where eigenvalues or singular values repeat (session 33b): a forward pass computes the tangent of
# each value alone, which is not defined where the tangent moves a cluster apart, though what the output reads of
# them may be (the trace's tr(dA)). Only a reverse pass sees what the output reads, so there the tangent is
# J·t with J's rows from reverse passes over the outputs' basis: exact, and refused exactly where reverse mode
# refuses. At most FALLBACK_ROWS output elements (that many reverse passes, CHUNK at a time); past it the forward
# refusal stands.
FALLBACK_ROWS = 1024
CHUNK = 64


def jvp(graph: Graph, values: list, tangents: dict, outputs=None) -> dict:
    """Push batched tangents ``{name: (B, *x.shape)}`` forward.

    Returns ``{node_id: (B, *node.shape)}`` for the ids in ``outputs`` (default: the
    output); a node no tangent reaches gets zeros. Where a spectral rule refuses the forward
    pass (repeated eigenvalues moved apart), J·t by reverse passes (see ``FALLBACK_ROWS``).
    """
    try:
        return _forward(graph, values, tangents, outputs)
    except JacValueError as err:
        if not getattr(err, "spectral_forward", False):
            raise
        found = _by_reverse(graph, values, tangents, [graph.output] if outputs is None else list(outputs))
        if found is None:
            raise
        return found


def stored(seed: np.ndarray):
    """A dense seed ``(1, *shape)`` (a vjp's cotangent, a jvp's tangent) as a sparse batch that stores its
    nonzero entries alone, so that the rules multiply only what the seed holds (:func:`vjp_read`)."""
    seed = np.asarray(seed)
    if seed.ndim == 0 or seed.shape[0] != 1 or seed.dtype.kind not in "fc":
        return None
    col = np.where(seed[0] != 0, 0, -1).astype(np.intp)[None]
    return structured.SparseBatch(1, col, seed.copy(), seed.dtype)


def _nan_read(found: dict, again) -> dict:
    """``found`` with each NaN read from ``again()`` (``{key: batch}``, the pass over the stored seed)."""
    if not any(holds_nan(g) for g in found.values()):
        return found
    other = again()
    if other is None:
        return found
    out = dict(found)
    for key, g in found.items():
        if holds_nan(g) and key in other:
            g = np.asarray(g)
            exact = other[key]
            exact = exact.to_dense() if isinstance(exact, structured.SparseBatch) else np.asarray(exact)
            out[key] = nan_read(g, exact)
    return out


def nan_read(dense: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """``dense`` (a dense pass's result) with each NaN that ``exact`` (the structured passes' same entries) does
    not hold read from ``exact``; a NaN both give keeps the dense pass's bits (its sign, its payload), as a
    kernel's dense pass makes them."""
    return np.where(np.isnan(dense) & ~np.isnan(exact), exact, dense).astype(dense.dtype, copy=False)


def holds_nan(g) -> bool:
    """Whether ``g`` (an array, or what ``np.asarray`` makes one; a sparse batch or a traced value never) holds
    a NaN. A real float array in one ``argmax``: NumPy's float argmax stops at the first NaN, as the maximal
    element, so the element it points at is NaN exactly where one is; no mask of the array's size, no
    arithmetic that could overflow (a sum or a dot of squares would, which a caller's ``np.seterr(over='raise')``
    turns into an error: tests/test_threads41.py), and no ufunc: a reduce costs ~8 k instructions of set-up on
    the small arrays of a repeated call, whose every kernel answer is scanned, an argmax and an item ~1 k
    (session 50)."""
    if type(g) is not np.ndarray:
        if isinstance(g, structured.SparseBatch) or is_traced(g):
            return False
        g = np.asarray(g)
    return g.dtype.kind in "fc" and nan_in((g,))


def nan_in(arrays) -> bool:
    """Whether one of ``arrays`` (a kernel's answers) holds a NaN, the one test :func:`holds_nan` makes too: the
    element an argmax points at is unequal to itself. NumPy's argmax stops at a NaN of a float or complex array (a
    NaN in either part); an integer or bool array's element never is. One call for all of a repeated call's answers
    (its hot path), not one of holds_nan per array."""
    for g in arrays:
        if type(g) is np.ndarray:
            if g.size:
                v = g.item(g.argmax())
                if v != v:
                    return True
        elif holds_nan(g):
            return True
    return False


def vjp_read(graph: Graph, values: list, cotangent) -> dict:
    """:func:`vjp` of a dense cotangent of one row (or ``{node_id: row}``), its NaNs read from the pass of
    the cotangent's nonzero entries alone: a dense pass pulls the cotangent's zeros back through partials
    that are NaN or infinite and writes 0 · NaN into entries that the Jacobian holds as an exact 0 (its
    structured passes), so ``vjp(v)`` is ``Σ_r v[r] J[r]`` over the rows v weighs, and ``vjp(e_r)`` is J's
    row r, NaN for NaN (planner.nan_read_structured does the same for the Jacobian's dense passes)."""
    found = vjp(graph, values, cotangent)

    def again():
        if isinstance(cotangent, dict):
            seeds = {k: stored(c) for k, c in cotangent.items()}
            return None if any(c is None for c in seeds.values()) else vjp(graph, values, seeds)
        seed = stored(cotangent)
        return None if seed is None else vjp(graph, values, seed)
    return _nan_read(found, again)


def jvp_read(graph: Graph, values: list, tangents: dict, outputs=None) -> dict:
    """:func:`jvp` of dense tangents of one row, its NaNs read from the pass of their nonzero entries alone
    (:func:`vjp_read`'s reason): J·t is ``Σ_c J[:, c] t[c]`` over the entries t moves."""
    found = jvp(graph, values, tangents, outputs)

    def again():
        seeds = {n: stored(t) for n, t in tangents.items()}
        return None if any(t is None for t in seeds.values()) else jvp(graph, values, seeds, outputs)
    return _nan_read(found, again)


def _by_reverse(graph: Graph, values: list, tangents: dict, outputs: list) -> dict | None:
    """``{output id: (B, *shape)}``, J·t with J's rows pulled back from each output's basis, or None where
    that cannot be done here (traced values, a tangent of an input no reverse pass reaches, too many rows)."""
    if sum(size(graph.nodes[o].shape) for o in outputs) > FALLBACK_ROWS or \
            any(is_traced(values[o]) for o in outputs):
        return None
    dense = {}
    for name, t in tangents.items():
        if is_traced(t) or name not in graph.inputs or not graph.nodes[graph.inputs[name]].requires_grad:
            return None
        dense[name] = t.to_dense() if structured.is_batch(t) else np.asarray(t)
        if dense[name].dtype == object:  # pragma: no cover - a dry run's batch holds no values
            return None
    batch = shape_of(next(iter(tangents.values())))[0]
    out = {}
    for o in outputs:
        shape = tuple(graph.nodes[o].shape)
        rows = basis(shape, graph.dtype).reshape((-1,) + shape)
        found = np.zeros((batch, len(rows)), dtype=graph.dtype)
        for start in range(0, len(rows), CHUNK):
            grads = vjp(graph, values, {o: rows[start:start + CHUNK]})  # the reverse pass refuses what it reads apart
            part = found[:, start:start + CHUNK]
            for name, t in dense.items():
                g = grads[name]
                g = g.to_dense() if structured.is_batch(g) else np.asarray(g)
                part += t.reshape(batch, -1) @ g.reshape(len(g), -1).T
        out[o] = found.reshape((batch,) + shape)
    return out


def _reached(nodes, need, tangents: dict, inputs: dict) -> list:
    """``flags[i]``: does node ``i``'s JVP rule run in a forward pass along ``tangents`` (a tangent reaches it and
    an output reads it)? For the time estimate of a pass under a limit only."""
    flags = [False] * len(nodes)
    for name in tangents:
        if name in inputs:
            flags[inputs[name]] = True
    for node in nodes:
        if node.op not in ("input", "const") and need[node.id] and any(flags[a] for a in node.args):
            flags[node.id] = True
    return flags


def _forward(graph: Graph, values: list, tangents: dict, outputs=None) -> dict:
    """:func:`jvp`'s forward pass, the ops' JVP rules node by node."""
    outputs = [graph.output] if outputs is None else list(outputs)
    seed = next(iter(tangents.values()))
    batch = shape_of(seed)[0]
    last = last_uses(graph.nodes, outputs)
    # only the tangents an output reads: a node no output reads (svdvals' lowering leaves svd_u and
    # svd_vh), or reads through a nondiff op only, must not refuse the call (svd_u's rule at repeated
    # singular values), as a VJP, which never reaches it, and a kernel, which leaves it out, do not
    need = differentiated(graph.nodes, outputs)
    tan: dict = {}
    ledger = structured.ledger_now()  # a dry run: each rule's unbatched temporaries are counted (Ledger.rule)
    limit = limit_now()  # a time limit: a pass that cannot fit is refused before it runs, and checked between ops
    if limit is not None and ledger is None and not getattr(seed, "traces", False):  # values, not a dry run's
        refuse_pass_past_deadline(limit, graph.nodes, _reached(graph.nodes, need, tangents, graph.inputs), batch,
                                  "a forward-mode pass", graph.source)
    entered = errors_ignored()
    try:
        for node in graph.nodes:
            if not need[node.id]:
                continue
            if limit is not None:
                check_time(limit)
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
            if ledger is not None:
                ledger.rule(node.op, values[node.id], args)
            try:
                for i, a in reached:
                    part = rules[i](tan[a], values[node.id], *args, **node.params)
                    total = part if total is None else P.add(total, part)
            except JacError as err:
                raise _located(err, node, graph)
            if ledger is not None:
                ledger.done()
            full = (batch,) + tuple(node.shape)
            tan[node.id] = total if tuple(shape_of(total)) == full else P.broadcast_to(total, shape=full)
            for _, a in reached:  # a tangent no later node reads is dropped at once
                if last[a] == node.id:
                    tan.pop(a, None)
    finally:
        errors_restored(entered)
    return {o: tan[o] if o in tan else _zeros_like_batch(seed, graph.nodes[o].shape, graph.dtype)
            for o in outputs}


_zeros, _empty = np.zeros, np.empty  # read once: see _errstate


def basis(shape: tuple, dtype) -> np.ndarray:
    """The standard basis of arrays of ``shape``, stacked: ``(n, *shape)``."""
    n = size(shape)
    if n == 1:  # a one-element output's seed (a scalar loss): one 1, as below, made in its shape (np.array of a
        one = _empty((1,) + tuple(shape), dtype)  # list discovers its dtype and shape: ~2.5 k instructions more)
        one.fill(1)
        return one
    flat = _zeros(n * n, dtype)  # np.eye(n, dtype=dtype), made without its Python layers: the same array
    flat[::n + 1] = 1
    return flat.reshape((n,) + tuple(shape))


def reverse_part(graph: Graph, values: list, start: int = 0, stop: int | None = None) -> dict:
    """Rows ``start..stop`` of every Jacobian (inputs that require grad): one reverse pass
    whose cotangent is that part of the output's basis, kept sparse while it can be.

    Returns ``{name: batch (stop - start, *x.shape)}``: a :class:`~jacobi_cli.structured.SparseBatch`
    or an array (inside :func:`~jacobi_cli.structured.dry_run`: their stand-ins).
    """
    return vjp(graph, values, structured.basis(graph.output_shape, graph.dtype, start, stop))


def forward_part(graph: Graph, values: list, name: str, start: int = 0, stop: int | None = None):
    """Columns ``start..stop`` of dy/d``name``: one forward pass whose tangent is that part
    of the input's basis. Returns a batch ``(stop - start, *y.shape)`` (see :func:`reverse_part`)."""
    x_shape = graph.nodes[graph.inputs[name]].shape
    return jvp(graph, values, {name: structured.basis(x_shape, graph.dtype, start, stop)})[graph.output]


def jacrev(graph: Graph, values: list, structure: bool = False) -> dict:
    """Full Jacobians ``{name: y.shape + x.shape}`` in one batched reverse pass.

    Arrays, or :class:`~jacobi_cli.jacobian.Jacobian` objects with ``structure=True``.
    """
    builders = _builders(graph, [n for n, i in graph.inputs.items() if graph.nodes[i].requires_grad], "reverse")
    for name, part in reverse_part(graph, values).items():
        builders[name].add(part, 0)
    return _finished(builders, structure)


def jacfwd(graph: Graph, values: list, names, structure: bool = False) -> dict:
    """Full Jacobians ``{name: y.shape + x.shape}``, one batched forward pass per input."""
    builders = _builders(graph, names, "forward")
    for name in names:
        builders[name].add(forward_part(graph, values, name), 0)
    return _finished(builders, structure)


def _builders(graph: Graph, names, mode: str) -> dict:
    return {name: JacobianBuilder(name, graph.output_shape, graph.nodes[graph.inputs[name]].shape, mode, graph.dtype)
            for name in names}


def _finished(builders: dict, structure: bool) -> dict:
    out = {name: b.finish() for name, b in builders.items()}
    return out if structure else {name: j.to_array() for name, j in out.items()}


def replay(graph: Graph, builder: Builder) -> list:
    """``graph``'s nodes added to ``builder``: the traced value of every node, by id (the
    start of every pass traced into a graph of its own)."""
    traced: list = []
    limit = limit_now()  # a time limit: checked before each node
    for node in graph.nodes:
        if limit is not None:
            check_time(limit)
        if node.op == "input":
            traced.append(builder.input(node.name, node.shape, node.position))
        elif node.op == "const":
            traced.append(builder.const(node.value, node.position))
        else:
            traced.append(builder.apply(node.op, *[traced[a] for a in node.args], position=node.position,
                                        name=node.name, **node.params))
    return traced


def grad_graph(graph: Graph) -> tuple:
    """The reverse pass of ``graph``, traced into a graph of its own.

    Returns ``(graph2, {name: node id of d y / d name in graph2})``; each gradient node
    has shape ``(m, *x.shape)``: the batch axis of the output's basis (m = y.size; a scalar
    output has one cotangent, 1).
    """
    b = Builder(graph.source, dtype=graph.dtype)
    traced = replay(graph, b)
    seed = b.const(basis(graph.output_shape, graph.dtype))
    grads = vjp(graph, traced, seed)
    ids = {name: b.lift(g).id for name, g in grads.items()}
    return b.graph(traced[graph.output]), ids


def hessian(graph: Graph, env: dict, names, batch: dict | None = None) -> dict:
    """Second derivatives: ``{(a, b): y.shape + a.shape + b.shape}``.

    Forward over reverse: the reverse pass traced into a graph (:func:`grad_graph`), then
    per input ``b`` forward passes through it over ``b``'s basis yield the blocks ``(a, b)``
    for every ``a`` at once (see :func:`hessian_blocks`; ``batch`` chunks them).
    """
    names = list(names)
    g2, grad_ids = grad_graph(graph.with_wrt(names))
    return hessian_blocks(g2, evaluate(g2, env), grad_ids, names, batch)


def hessian_part(g2: Graph, values: list, name: str, outputs, start: int = 0, stop: int | None = None) -> dict:
    """Columns ``start..stop`` of the Hessian blocks ``(a, name)``: one forward pass through
    the traced gradient graph ``g2`` whose tangent is that part of ``name``'s basis, kept
    sparse while it can be. ``outputs`` are the gradient nodes ``d y / d a``; returns
    ``{node id: batch (stop - start, y.size, *a.shape)}`` (see :func:`reverse_part`)."""
    x_shape = g2.nodes[g2.inputs[name]].shape
    try:
        return jvp(g2, values, {name: structured.basis(x_shape, g2.dtype, start, stop)}, outputs=outputs)
    except JacValueError as err:  # the gradient was answered: at repeated values it is the second derivative
        what = getattr(err, "spectral", None)  # that is refused (a spectral check in the pass or its fallback)
        if what is None:
            raise
        raise JacValueError(SECOND_ORDER[what], err.position, err.source) from None


def hessian_branches(g2: Graph, values: list, name: str, outputs) -> "structured.Branches":
    """The structured rules' branches in the Hessian pass over ``name``'s whole basis, recorded by its dry run
    (``planner.whole_branches``'s for Jacobians): each chunk of a chunked Hessian takes them again."""
    record = structured.Branches()
    with structured.dry_run(), structured.branches(record):
        hessian_part(g2, values, name, outputs)
    return record


def hessian_blocks(g2: Graph, values: list, grad_ids: dict, names: list, batch: dict | None = None) -> dict:
    """``{(a, b): y.shape + a.shape + b.shape}`` from the traced gradient graph ``g2`` (values
    ``values``, gradient nodes ``grad_ids``): every block is allocated once, then the passes
    over ``b``'s basis, ``batch[b]`` vectors each (default: all in one), fill its columns."""
    shapes = {n: tuple(g2.nodes[g2.inputs[n]].shape) for n in names}
    y_shape = tuple(g2.output_shape)
    m = size(y_shape)
    blocks = {(a, b): np.zeros(y_shape + shapes[a] + shapes[b], dtype=g2.dtype) for b in names for a in names}
    outputs = [grad_ids[a] for a in names]
    for b in names:
        n = size(shapes[b])
        step = max(1, (batch or {}).get(b) or n)
        record = hessian_branches(g2, values, b, outputs) if step < n else None
        for start in range(0, n, step):
            if record is None:
                parts = hessian_part(g2, values, b, outputs, start, min(start + step, n))
            else:  # the branches of the pass over b's whole basis: the one-pass plan's bits (session 54)
                with structured.branches(record.replay()):
                    parts = hessian_part(g2, values, b, outputs, start, min(start + step, n))
            for a in names:  # block (y, a, b) seen as (y.size * a.size, b.size): the gradient node is (m, *a)
                _write_columns(blocks[(a, b)], parts[grad_ids[a]], start, m * size(shapes[a]), n)
            del parts
        if step > 1:
            _nan_columns_alone(g2, values, grad_ids, names, b, blocks, m, shapes)
    return blocks


def _nan_columns_alone(g2: Graph, values: list, grad_ids: dict, names: list, b: str, blocks: dict, m: int,
                       shapes: dict) -> None:
    """Columns of the blocks ``(·, b)`` that hold a NaN, made again by a pass of their basis vector alone:
    a pass over several basis vectors may meet 0 · ∞ where the vector alone gives an entry of its own
    (``0 ** M``'s -inf beside a NaN), so a chunked plan (fewer vectors a pass) and the default one would
    hold other non-finite values there. Alone, every plan gives the same column, bit for bit."""
    n = size(shapes[b])
    bad = np.zeros(n, dtype=bool)
    for a in names:
        block = blocks[(a, b)]
        if block.dtype.kind in "fc":
            bad |= np.isnan(block.reshape(-1, n)).any(axis=0)
    for col in np.flatnonzero(bad).tolist():
        parts = hessian_part(g2, values, b, [grad_ids[a] for a in names], col, col + 1)
        for a in names:
            flat = blocks[(a, b)].reshape(m * size(shapes[a]), n)
            flat[:, col] = 0
            _write_columns(blocks[(a, b)], parts[grad_ids[a]], col, m * size(shapes[a]), n)
        del parts


def _write_columns(block: np.ndarray, part, start: int, rows: int, cols: int) -> None:
    """Columns ``start..`` of ``block`` seen as ``(a.size, b.size)`` are the pass's batch
    ``(B, y.size, *a.shape)`` transposed: a sparse batch's entries land where they belong."""
    flat = block.reshape(rows, cols)  # a view: the block was just allocated, contiguous
    if isinstance(part, structured.SparseBatch):
        for _, where, col, val in part.entries():
            flat[where, start + col] += val  # (element, column) pairs are distinct within one slot
    else:
        count = shape_of(part)[0]
        flat[:, start:start + count] = np.reshape(part, (count, rows)).T


def is_traced(value) -> bool:
    return isinstance(value, Tracer)
