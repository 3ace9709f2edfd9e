"""Plans: how each Jacobian will be computed, decided before anything big is computed.

For every input the plan names the mode (forward: one pass per input over its basis;
reverse: one pass for all reverse inputs over the output's basis), the structure the
Jacobian will have, the number of basis vectors per pass (the chunk) and the predicted
peak memory. It comes from dry runs of the passes themselves
(:func:`jacobi_cli.structured.dry_run`): the same rules on shapes and sparsity patterns,
no values, so the prediction follows the code that will run.

- ``mode="auto"`` takes, per input, the mode whose dry run does less work. That is
  reverse when the output is smaller than the input and forward when it is larger, as
  usual, except where structure changes the count (an element-wise chain costs O(n)
  either way; ``tanh(A @ x)`` is a gather of ``A`` in reverse).
- A plan whose results alone pass the budget is refused (:class:`JacLimitError`) with the
  sizes. One whose passes would pass it is chunked: fewer basis vectors per pass.

>>> import numpy as np
>>> from jacobi_cli import api
>>> p = api.prepare("sin(x) * x**2", {"x": np.ones(1000)})
>>> plan = make_plan(p.graph, p.values, p.wrt)
>>> plan.inputs["x"].structure, plan.inputs["x"].nnz
('diagonal', 1000)
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from . import autodiff
from ..ir import structured
from ..errors import JacLimitError, JacUsageError, unknown_choice
from ..ir.graph import _NONDIFF, Graph, itemsize as dtype_itemsize, output_name
from ..ir.ops import OPS
from .jacobian import TRIPLET_OBJECTS, Jacobian, JacobianBuilder, SparseJacobian, finish_bytes
from .blas import SPLIT, graph_work, threads_for
from .memory import default_budget, fmt_bytes, forward_bytes
from ..ir.shapes import NUMPY_MAX_RANK, fmt, size

# NumPy's C functions behind np.count_nonzero(a) (axis None) and np.vdot, without their Python layers
# (__array_function__ dispatch, count_nonzero's keyword handling): the same calls for plain ndarrays
try:
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:  # pragma: no cover - other NumPy versions
    _count_nonzero = np.count_nonzero
_vdot = getattr(np.vdot, "_implementation", np.vdot)
# read once: NumPy's module defines __getattr__, so Python 3.11 reads each np.NAME by a generic lookup
_ndarray, _empty, _zeros = np.ndarray, np.empty, np.zeros

MODES = ("auto", "forward", "reverse")
SMALL = 1024  # Jacobians of at most this many elements run dense passes (see _run_small)
FEW = 8  # a pass of at most this many basis vectors runs dense whatever the sizes
# a small Jacobian's passes run dense only while a batch of every node (basis vectors · the graph's elements) is at
# most this many elements: prod(x[:, None] * x) of x:300 has a 300-element Jacobian, and a dense forward pass of
# 300 · 90,000 elements (620 MiB) where the plan predicted the structured pass's 7.6 MiB (session 40)
DENSE_PASS = 2**14
DENSE_COPIES = 2  # a dense pass's batches of the largest node made by a rule beside every node's tangent
PATTERN_MAX = 2**16  # a plan keeps the entries' positions of a structured Jacobian up to this nnz


@dataclass(frozen=True)
class Probe:
    """What a dry run of one pass predicts: per input structure, nnz and result bytes;
    the pass's work (elements touched) and its peak bytes, results included."""

    structures: dict
    nnz: dict
    result_bytes: dict
    work: int
    peak: int
    patterns: dict  # name -> (rows, cols) of a small structured Jacobian, else None
    pass_peak: int = 0  # the pass's own peak, before its parts join the Jacobians (see chunked_peak)
    slots: int = 0  # the parts its structured Jacobians list (JacobianBuilder.slots: Python's objects each)


@dataclass(frozen=True)
class InputPlan:
    """How dy/d``name`` is computed."""

    name: str
    x_shape: tuple
    mode: str  # "forward" or "reverse"
    structure: str  # "dense", "diagonal", "sparse" or "zero", as the dry run found it
    nnz: int
    basis: int  # basis vectors in all: x.size forward, y.size reverse
    batch: int  # basis vectors per pass
    result_bytes: int
    reason: str
    pattern: tuple | None = None  # (rows, cols) of a small structured Jacobian (see SMALL)
    work: int = 0  # elements the chosen pass touches, by its dry run
    along_ones: bool = False  # the diagonal of an element-wise graph: one pass along ones (see along_ones)

    @property
    def passes(self) -> int:
        if self.along_ones:
            return 1
        return -(-self.basis // self.batch) if self.basis else 0


@dataclass(frozen=True)
class Plan:
    """Every input's :class:`InputPlan`, the predicted peak memory and the budget."""

    requested: str
    y_shape: tuple
    inputs: dict
    values_bytes: int
    pass_peak: int  # the largest pass, with the results before it
    budget: int
    notes: tuple = field(default=())
    refusal: str | None = None  # why the plan cannot fit its budget (see :func:`check`)
    stream: bool = False  # the results go to a file chunk by chunk (:func:`stream`), never whole in memory
    kernel: tuple | None = None  # (compiled, why): would repeated calls get a kernel? None: not asked (see explain)
    threads: str | None = None  # how BLAS's threads run its products (engine/blas.explained); None: not asked or too small
    # run() may take _run_small's dense passes: False where the structured passes a NaN makes it run beside them
    # would not fit the budget (make_plan, session 57); the structured passes then run alone, as planned
    dense_passes: bool = True

    @property
    def peak_bytes(self) -> int:
        return self.values_bytes + self.pass_peak

    @property
    def result_bytes(self) -> int:
        return sum(p.result_bytes for p in self.inputs.values())

    def explain(self) -> list:
        """The plan in words, one line each (what ``jac eval --explain`` prints)."""
        m = size(self.y_shape)
        lines = [f"plan (--mode {self.requested}): output {fmt(self.y_shape)}, {m:,} element{'s' if m != 1 else ''}"]
        for p in self.inputs.values():
            passes = f"{p.passes} pass{'es' if p.passes != 1 else ''} of {p.batch:,} basis vector" \
                     f"{'s' if p.batch != 1 else ''}" if p.basis else "no pass (nothing to differentiate)"
            if p.along_ones:
                passes = "1 pass along ones (an element-wise function's Jacobian is its diagonal: no basis)"
            lines.append(f"  {p.name} {fmt(p.x_shape)}: {p.mode} mode, {passes}; structure {_described(p)}, "
                         f"{fmt_bytes(p.result_bytes)}")
            lines.append(f"    why: {p.reason}")
        if self.stream:
            lines.append(f"  streamed: each pass's rows or columns are written to the --out file as they are computed, "
                         f"{fmt_bytes(self.result_bytes)} on disk; memory holds one pass at a time")
        if self.kernel is not None:
            lines.append(f"  kernel: {self.kernel[1]}")
        if self.threads is not None:
            lines.append(f"  BLAS threads: {self.threads}")
        return lines + _explained_footer(self, "Jacobians on disk" if self.stream else "Jacobians")

    def to_dict(self) -> dict:
        inputs = {p.name: {"mode": p.mode, "structure": p.structure, "nnz": p.nnz, "basis": p.basis,
                           "batch": p.batch, "passes": p.passes, "result_bytes": p.result_bytes,
                           "reason": p.reason, "along_ones": p.along_ones} for p in self.inputs.values()}
        out = {"mode": self.requested, "inputs": inputs, "peak_bytes": self.peak_bytes,
               "values_bytes": self.values_bytes, "result_bytes": self.result_bytes, "budget_bytes": self.budget,
               "notes": list(self.notes), "refused": self.refusal, "stream": self.stream}
        if self.kernel is not None:
            out["kernel"] = {"compiled": self.kernel[0], "reason": self.kernel[1]}
        if self.threads is not None:
            out["threads"] = self.threads
        return out


def _explained_footer(plan, results: str) -> list:
    """The last lines of a plan's ``explain()``: its notes, the predicted peak against the
    budget (``results`` names what the plan computes), and a refusal."""
    lines = [f"  note: {note}" for note in plan.notes]
    held = "" if getattr(plan, "stream", False) else f"{results} {fmt_bytes(plan.result_bytes)}, "
    lines.append(f"  predicted peak memory {fmt_bytes(plan.peak_bytes)} (values {fmt_bytes(plan.values_bytes)}, "
                 f"{held}passes included); budget {fmt_bytes(plan.budget)}")
    if plan.refusal:
        lines.append("  refused: it does not fit the budget (see the error)")
    return lines


def _described(p: InputPlan) -> str:
    return f"sparse ({p.nnz:,} stored entries)" if p.structure == "sparse" else p.structure


# --- dry runs -------------------------------------------------------------------------------------

def probe_reverse(graph: Graph, values: list, names: list, batch: int | None = None,
                  branches: structured.Branches | None = None) -> Probe:
    """Dry-run one reverse pass of ``batch`` output basis vectors (default: all); ``branches``: the whole
    basis's, which a chunk's pass takes (:func:`whole_branches`)."""
    with structured.dry_run() as ledger, _taking(branches):
        builders = autodiff._builders(graph, names, "reverse")
        parts = autodiff.reverse_part(graph, values, 0, batch)
        own = ledger.peak
        for name in names:
            builders[name].add(parts.pop(name), 0)
        del parts
        return _probe(builders, ledger, own)


def probe_forward(graph: Graph, values: list, name: str, batch: int | None = None,
                  branches: structured.Branches | None = None) -> Probe:
    """Dry-run one forward pass of ``batch`` basis vectors of input ``name`` (default: all); ``branches``
    as :func:`probe_reverse`'s."""
    with structured.dry_run() as ledger, _taking(branches):
        builders = autodiff._builders(graph, [name], "forward")
        part = autodiff.forward_part(graph, values, name, 0, batch)
        own = ledger.peak
        builders[name].add(part, 0)
        del part
        return _probe(builders, ledger, own)


def dependence(graph: Graph, values: list, names) -> dict:
    """``{name: (y.size, x.size) boolean mask or None}``: the entries of dy/d``name`` the reverse dry run's
    pattern may hold (from the shapes and the rules alone, so sound for every value: where it is False,
    ``y[r]`` does not depend on ``x[c]`` at all, and neither does any derivative of ``y[r]`` by ``x[c]``);
    None where the dry run went dense (no entry known to be zero)."""
    names = list(names)
    with structured.dry_run():
        builders = autodiff._builders(graph, names, "reverse")
        parts = autodiff.reverse_part(graph, values, 0, None)
        for name in names:
            builders[name].add(parts.pop(name), 0)
        done = {name: b.finish() for name, b in builders.items()}
    found = {}
    for name, j in done.items():
        if not isinstance(j, SparseJacobian):
            found[name] = None
            continue
        mask = np.zeros((size(graph.output_shape), size(j.x_shape)), dtype=bool)
        mask[j.rows, j.cols] = True
        found[name] = mask
    return found


def structural_zeros(graph: Graph, values: list, blocks: dict) -> dict:
    """``blocks`` (``{(a, b): y.shape + a.shape + b.shape}``, or ``{(a, a, ...): y.shape + a.shape * K}`` for a
    K-th derivative) with a NaN made 0 where ``y[r]`` does not depend on ``a[i]`` (or ``b[j]``) at all, by the
    Jacobians' dry-run patterns (:func:`dependence`). The traced reverse pass seeds
    the output's basis densely, so a zero of that basis meets an infinite partial there and makes 0 · inf = NaN
    in an entry whose derivative is identically 0, which ``jac eval``'s structured passes give as 0 and the
    docs promise (docs/batches-outputs-orders.md). Blocks without a NaN are left as they are (no dry run)."""
    if not any(np.isnan(block).any() for block in blocks.values() if block.dtype.kind == "f"):
        return blocks
    masks = dependence(graph, values, sorted({n for key in blocks for n in key}))
    m = int(np.prod(graph.output_shape, dtype=np.int64))
    out = {}
    for key, block in blocks.items():
        if block.dtype.kind != "f" or any(masks[n] is None for n in key) or not np.isnan(block).any():
            out[key] = block
            continue
        shape = (m,) + tuple(masks[n].shape[1] for n in key)
        depends = np.ones(shape, dtype=bool)
        for k, n in enumerate(key):  # entry (r, i1, ..., iK) needs y[r] to depend on every one of them
            depends &= masks[n].reshape((m,) + (1,) * k + (-1,) + (1,) * (len(key) - k - 1))
        flat = block.reshape(shape).copy()
        flat[np.isnan(flat) & ~depends] = 0.0
        out[key] = flat.reshape(block.shape)
    return out


def _probe(builders: dict, ledger, own: int = 0) -> Probe:
    done = {name: b.finish(lean_above=PATTERN_MAX) for name, b in builders.items()}  # counted past it: not listed
    structures = {n: j.structure for n, j in done.items()}
    patterns = {n: (j.rows, j.cols) if structures[n] != "dense" and j.nnz <= PATTERN_MAX else None
                for n, j in done.items()}
    slots = sum(b.slots for n, b in builders.items() if done[n].structure != "dense")
    return Probe(structures, {n: j.nnz for n, j in done.items()},
                 {n: j.nbytes for n, j in done.items()}, ledger.work, ledger.peak, patterns, own, slots)


def chunked_peak(probe: Probe, held: int) -> int:
    """The peak of one pass of a chunked plan: its dry run's, or the pass's own peak beside ``held``, the
    Jacobians that earlier chunks have filled (a dense one is allocated whole by the first chunk,
    ``JacobianBuilder._add_dense``; a sparse one's entries grow to its bytes), whichever is more."""
    return max(probe.peak, probe.pass_peak + held)


# Python's objects a chunked pass leaves alive until the Jacobians are finished, per pass (session 57: ``x * sum(y)``
# forward by y held 84-140 bytes more a pass, 37 KiB past its budget in 300 passes of one basis vector). The 7-11 KiB
# a chunked pass holds once (its branches' record, its loop) are left to the margin of Python's objects the tests and
# probes allow: counted, they chunked docs/performance.md's 2 MiB example twice as finely for nothing
PASS_OBJECTS = 144


def pass_objects(basis: int, batch: int, slots: int) -> int:
    """The Python objects the passes of ``batch`` basis vectors over ``basis`` leave alive until the last one ends:
    ``PASS_OBJECTS`` a pass, and ``jacobian.TRIPLET_OBJECTS`` for each part a structured Jacobian lists (``slots`` a
    pass, as the probe of that batch lists them); :func:`chunk` adds them beside the pass (its ``overhead``)."""
    return -(-basis // max(batch, 1)) * (PASS_OBJECTS + slots * TRIPLET_OBJECTS)


# --- making a plan ----------------------------------------------------------------------------------

def make_plan(graph: Graph, values: list, wrt, mode: str = "auto", budget: int | None = None,
              stream: bool = False) -> Plan:
    """The plan for the Jacobians of ``graph``'s output with respect to ``wrt``.

    A plan that cannot fit ``budget`` bytes says why in ``refusal``; :func:`check` raises it.
    With ``stream`` (one input) the Jacobian is not kept: :func:`stream` hands each pass's
    part, made dense, to a writer, so only the values and one pass must fit the budget.
    """
    if mode not in MODES:
        raise unknown_choice("--mode", mode, MODES)
    budget = default_budget() if budget is None else int(budget)
    names = list(wrt)
    by_size = {n: _by_size(graph, n) for n in names} if mode == "auto" else {}
    forward = {n: probe_forward(graph, values, n) for n in names
               if mode == "forward" or (mode == "auto" and by_size[n] != "reverse")}
    reverse = _reverse_probes(graph, values, [n for n in names if by_size.get(n) != "forward"], mode,
                              len(names), by_size)
    plans = {n: _choose(graph, n, mode, reverse.get(n), forward.get(n), by_size.get(n)) for n in names}
    if stream:  # stream() writes the dense rows or columns of passes over the basis, chunk by chunk: no pattern kept
        plans = {n: replace(p, along_ones=False, pattern=None) for n, p in plans.items()}
    values_bytes = sum(getattr(v, "nbytes", 8) for v in values)
    if stream and len(names) != 1:
        raise JacUsageError(f"a Jacobian is streamed to a file for one input at a time, not {len(names)}; "
                            "name one with --wrt")
    plan = Plan(mode, tuple(graph.output_shape), plans, values_bytes, 0, budget, stream=stream)
    refusal = None if stream else _results_too_big(plan, graph)
    if refusal:
        return replace(plan, pass_peak=plan.result_bytes, refusal=refusal)
    plan = _fit(plan, graph, values, forward, reverse)
    if not plan.refusal and not stream and _small(plan, graph):  # run() takes dense passes: their peak is the plan's
        peak = max(plan.pass_peak + _dense_parts_bytes(plan, graph), _dense_bytes(plan, graph))
        if plan.values_bytes + peak <= budget:
            plan = replace(plan, pass_peak=peak)
        else:  # the structured passes alone, whose peak the plan fitted
            plan = replace(plan, dense_passes=False)
    return plan


def _dense_parts_bytes(plan: Plan, graph: Graph) -> int:
    """The dense passes' parts that :func:`_run_small` holds while :func:`nan_read_structured` runs the structured
    passes (the dry run's, ``pass_peak``) beside them, where a dense pass holds a NaN (session 57: a NaN in A made
    ``sum(tanh(A @ x))``'s reverse Jacobians hold 1.35 times the plan's peak; a NaN can come of finite values, 0 times
    an overflowed partial, so it is counted at any values)."""
    m = size(graph.output_shape)  # an input taken along ones has no dense part (_run takes it first)
    return sum(m * size(p.x_shape) for p in plan.inputs.values() if not p.along_ones) * np.dtype(graph.dtype).itemsize


def check(plan: Plan) -> Plan:
    """``plan``, or :class:`JacLimitError` with the sizes when it cannot fit its budget."""
    if plan.refusal:
        raise JacLimitError(plan.refusal)
    return plan


def _reverse_probes(graph: Graph, values: list, names: list, mode: str, n_wrt: int, by_size=None) -> dict:
    """``{name: Probe}`` for ``names`` (of ``n_wrt`` inputs): in auto mode one reverse dry run
    per input alone (its own cost, weighed against its forward dry run's); with ``--mode reverse``
    the one pass for all of them, and so for the inputs whose mode the sizes decided (``by_size``):
    no cost is weighed there, and one dry run per input made a model of n parameters n² work."""
    if mode == "forward" or not names:
        return {}
    if mode == "reverse" or n_wrt == 1:
        probe = probe_reverse(graph, values, names)
        return {n: probe for n in names}
    decided = [n for n in names if (by_size or {}).get(n) == "reverse"]
    found = {}
    if len(decided) > 1:  # each input's structure is the joint pass's: its cotangent flows as it does alone
        probe = probe_reverse(graph.with_wrt(decided), values, decided)
        found = {n: probe for n in decided}
    return found | {n: probe_reverse(graph.with_wrt([n]), values, [n]) for n in names if n not in found}


def _by_size(graph: Graph, name: str) -> str | None:
    """The mode the sizes alone decide, or None when the dry runs of both must: a pass of one
    basis vector (a scalar output's reverse pass, a scalar input's forward pass) is never
    beaten by a pass of many, and a small Jacobian (``SMALL`` elements) runs dense passes of
    a few basis vectors either way, microseconds apart: the side with fewer basis vectors
    wins (reverse on a tie: one pass serves every reverse input). So does an element-wise graph
    (:func:`elementwise_diagonal`, m = n): one pass along ones either way (:func:`along_ones`),
    reverse. This spares a cold call the other mode's dry run, most of its planning."""
    m, n = size(graph.output_shape), size(graph.nodes[graph.inputs[name]].shape)
    if m == 1 or n == 1 or m * n <= SMALL or elementwise_diagonal(graph, name):
        return _fewer_basis(m, n)
    return None


def _fewer_basis(m: int, n: int) -> str:
    """The mode of fewer basis vectors for an output of ``m`` and an input of ``n`` elements:
    reverse on a tie (one pass serves every reverse input)."""
    return "reverse" if m <= n else "forward"


def _choose(graph: Graph, name: str, mode: str, reverse: Probe | None, forward: Probe | None,
            by_size: str | None = None) -> InputPlan:
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    m, n = size(graph.output_shape), size(x_shape)
    if mode == "auto" and by_size is not None:
        chosen = by_size
        probe = forward if chosen == "forward" else reverse
        reason = _why_by_size(m, n, chosen, probe)
    elif mode == "auto":
        chosen = "forward" if forward.work < reverse.work or (forward.work == reverse.work and m > n) else "reverse"
        reason = _why(m, n, chosen, forward, reverse)
    else:
        chosen, reason = mode, f"--mode {mode}"
    probe = forward if chosen == "forward" else reverse
    basis = n if chosen == "forward" else m
    ones = probe.structures[name] == "diagonal" and elementwise_diagonal(graph, name)
    return InputPlan(name, x_shape, chosen, probe.structures[name], probe.nnz[name], basis, basis,
                     probe.result_bytes[name], reason, probe.patterns[name], probe.work, ones)


def _why(m: int, n: int, chosen: str, forward: Probe, reverse: Probe) -> str:
    sizes = "smaller than" if m < n else "larger than" if m > n else "as large as"
    usual = "reverse" if m < n else "forward" if m > n else chosen
    cost = f"dry runs: forward touches {forward.work:,} elements, reverse {reverse.work:,}"
    if chosen == usual:
        return f"the output ({m:,}) is {sizes} the input ({n:,}); {cost}"
    return f"the output ({m:,}) is {sizes} the input ({n:,}), but the structure makes {chosen} cheaper; {cost}"


def _why_by_size(m: int, n: int, chosen: str, probe: Probe) -> str:
    sizes = "smaller than" if m < n else "larger than" if m > n else "as large as"
    why = ("one pass of one basis vector" if m == 1 or n == 1
           else f"a small Jacobian ({m * n:,} elements): the mode with fewer basis vectors" if m * n <= SMALL
           else "an element-wise function: one pass along ones either way")
    return f"the output ({m:,}) is {sizes} the input ({n:,}); {why}; dry run: {chosen} touches {probe.work:,} elements"


def _results_too_big(plan: Plan, graph: Graph) -> str | None:
    need = plan.values_bytes + plan.result_bytes
    if need <= plan.budget:
        return None
    biggest = max(plan.inputs.values(), key=lambda p: p.result_bytes)
    m = size(plan.y_shape)
    return (
        f"the Jacobian ∂{output_name(graph)}/∂{biggest.name} is {_described(biggest)}, "
        f"{m:,} × {size(biggest.x_shape):,}: "
        f"it needs {biggest.result_bytes:,} bytes ({fmt_bytes(biggest.result_bytes)}), and with the other "
        f"results and the values {need:,} bytes ({fmt_bytes(need)}), more than the memory budget of "
        f"{plan.budget:,} bytes ({fmt_bytes(plan.budget)}); nothing was allocated. Raise --max-memory, "
        f"differentiate fewer inputs (--wrt), or use jac vjp / jac jvp for products with J")


def _fit(plan: Plan, graph: Graph, values: list, forward: dict, reverse: dict | None = None) -> Plan:
    """Predict each pass's peak, in the order the passes run, and chunk passes that do not fit."""
    inputs, done, worst, notes = dict(plan.inputs), 0, 0, []
    rev = [n for n, p in inputs.items() if p.mode == "reverse"]
    order = ([("reverse", rev)] if rev else []) + [("forward", [n]) for n, p in inputs.items() if p.mode == "forward"]
    for mode, names in order:
        first = inputs[names[0]]
        room = plan.budget - plan.values_bytes - done
        held = 0 if plan.stream else sum(inputs[n].result_bytes for n in names)  # while later chunks run
        last = held + (0 if plan.stream else _last_finish(inputs, names, graph))  # the chunks' parts listed, sorted
        # a chunk's pass takes the whole basis's branches (run() and stream() replay them): so does its dry run
        whole = _WholeBranches(graph if mode == "forward" else reverse_graph(graph, rev, len(inputs)), values, mode,
                               names[0])
        slots: dict = {}  # batch -> the parts a pass of it lists (its probe's)
        if plan.stream:
            probe = (lambda b, mode=mode, whole=whole: probe_stream(graph, values, names[0], mode, b, whole(b)))
            full = probe(first.basis)
        elif mode == "reverse":
            graph_r = reverse_graph(graph, rev, len(inputs))
            known = (reverse or {}).get(names[0])  # the same dry run, made already, when it was of these inputs
            known = known if known is not None and set(known.structures) == set(names) else None
            full = known.peak if known is not None else probe_reverse(graph_r, values, names).peak
            probe = (lambda b, graph_r=graph_r, last=last, whole=whole, slots=slots:
                     _slotted(probe_reverse(graph_r, values, names, b, whole(b)), last, b, slots))
        else:
            full = forward[names[0]].peak
            probe = (lambda b, names=names, last=last, whole=whole, slots=slots:
                     _slotted(probe_forward(graph, values, names[0], b, whole(b)), last, b, slots))
        overhead = None if plan.stream else (  # a batch not probed: every slot of every input listed
            lambda b, basis=first.basis, slots=slots, most=structured.K_MAX * len(names):
            pass_objects(basis, b, slots.get(b, most)))
        batch, peak, refusal = chunk(probe, first.basis, full, room, plan.budget,
                                     f"for {', '.join(names)} in {mode} mode", overhead)
        if refusal:
            return replace(plan, inputs=inputs, pass_peak=max(worst, done + peak), refusal=refusal)
        if batch < first.basis:
            notes.append(f"{', '.join(names)}: a pass of all {first.basis:,} basis vectors would need about "
                         f"{fmt_bytes(full)}, more than the {fmt_bytes(room)} left; chunked")
        for n in names:
            if inputs[n].batch != batch:  # made with batch = basis: replaced only when chunked
                inputs[n] = replace(inputs[n], batch=batch)
        # the pass's Jacobians are held once it ends, whatever its dry run's ledger saw: a dense Jacobian that
        # the pass makes from structured parts at its end (∂(x * sum(y))/∂y) was not in it
        worst = max(worst, done + peak, done + held)
        done += 0 if plan.stream else sum(inputs[n].result_bytes for n in names)
    return replace(plan, inputs=inputs, pass_peak=worst, notes=tuple(notes))


def _slotted(probe: Probe, last: int, batch: int, slots: dict) -> int:
    """:func:`chunked_peak` of a chunk's ``probe``, remembering the parts a pass of ``batch`` lists in ``slots``."""
    slots[batch] = probe.slots
    return chunked_peak(probe, last)


def _last_finish(inputs: dict, names: list, graph: Graph) -> int:
    """What a chunked pass's structured Jacobians hold while the last chunk's ``JacobianBuilder.finish`` lists and
    sorts every chunk's entries (``jacobian.finish_bytes`` a stored entry, in any order): a chunk's dry run lists its
    own only (session 56: ``A * x`` forward in 6 chunks held 1.77 times its prediction, ``np.outer(x, y)`` 1.78)."""
    itemsize = np.dtype(graph.dtype).itemsize
    return sum(inputs[n].nnz * finish_bytes(itemsize) for n in names if inputs[n].structure in ("sparse", "diagonal"))


def chunk(probe, basis: int, full_peak: int, room: int, budget: int, what: str, overhead=None) -> tuple:
    """``(batch, peak, refusal)``: all ``basis`` vectors in one pass if its peak ``full_peak``
    fits in ``room``, else the largest batch that does. ``probe(batch)`` is the predicted peak
    of a pass of ``batch`` vectors (a dry run); the peak is about linear in the batch, so two
    probes fit the line. ``overhead(batch)``: bytes beside a chunked pass that shrink as the batch grows (the
    passes' Python objects, :func:`pass_objects`), out of the line's fit and counted in every peak past it.
    ``refusal`` says why when not even one vector per pass fits; ``what`` names the passes in it
    (``"for x in forward mode"``)."""
    if full_peak <= room:
        return max(basis, 1), full_peak, None
    one = probe(1) if basis > 1 else full_peak
    per_vector = max((full_peak - one) / max(basis - 1, 1), 1.0)
    batch = max(1, min(basis, int((room - one) / per_vector) + 1))
    with_overhead = probe if overhead is None else (lambda b: probe(b) + overhead(b))
    peak = with_overhead(batch) if batch < basis else full_peak
    while peak > room and batch > 1:
        batch //= 2
        peak = with_overhead(batch)
    if peak > room:
        return batch, peak, (
            f"even one basis vector per pass needs about {peak:,} bytes ({fmt_bytes(peak)}) {what}, more than "
            f"the {max(room, 0):,} bytes ({fmt_bytes(max(room, 0))}) left of the memory budget of "
            f"{fmt_bytes(budget)}; nothing was allocated. Raise --max-memory")
    return batch, peak, None


def probe_stream(graph: Graph, values: list, name: str, mode: str, batch: int | None = None,
                 branches: structured.Branches | None = None) -> int:
    """The predicted peak of one streamed pass of ``batch`` basis vectors: the pass, and its
    part made dense (and, for columns, made contiguous) to be written; no Jacobian is kept."""
    with structured.dry_run() as ledger, _taking(branches):
        if mode == "reverse":
            part = autodiff.reverse_part(graph, values, 0, batch)[name]
        else:
            part = autodiff.forward_part(graph, values, name, 0, batch)
        ledger.transient((1 if mode == "reverse" else 2) * size(part.shape) * np.dtype(graph.dtype).itemsize)
        del part
        return ledger.peak


def stream(plan: Plan, graph: Graph, values: list, out) -> None:
    """Run a streamed plan's passes (one input), handing each part to ``out``: rows of the
    Jacobian seen as ``(y.size, x.size)`` to ``out.write_rows(first, block)`` (reverse mode),
    columns to ``out.write_columns(first, block)`` (forward mode)."""
    (name, p), = plan.inputs.items()
    record = whole_branches(graph, values, p.mode, name) if p.batch < p.basis else None
    with threads_for(graph_work(graph)):
        for start in range(0, p.basis, p.batch):
            stop = min(start + p.batch, p.basis)
            with _taking(record):
                block = dense_part(graph, values, name, p.mode, start, stop)
            if p.mode == "reverse":
                out.write_rows(start, block)
            else:
                out.write_columns(start, block.T)
            del block


def dense_part(graph: Graph, values: list, name: str, mode: str, start: int, stop: int) -> np.ndarray:
    """One pass over basis vectors ``start..stop`` of ``name``'s Jacobian, dense, as
    ``(stop - start, -1)``: rows of the Jacobian seen as ``(y.size, x.size)`` in reverse mode,
    columns in forward mode. BLAS threads are the caller's (:func:`threads_for` around its passes)."""
    if mode == "reverse":
        part = autodiff.reverse_part(graph, values, start, stop)[name]
    else:
        part = autodiff.forward_part(graph, values, name, start, stop)
    block = part.to_dense() if isinstance(part, structured.SparseBatch) else np.asarray(part)
    return block.reshape(stop - start, -1)


# --- running a plan -------------------------------------------------------------------------------

def run(plan: Plan, graph: Graph, values: list, parts: tuple | None = None) -> dict:
    """``{name: Jacobian}``, computed as ``plan`` says (passes in chunks, structure kept),
    with the BLAS threads that the graph's products call for (:mod:`jacobi_cli.engine.blas`).
    ``parts``: the dense passes :func:`unplanned` ran already (``(modes, arrays)``), read off
    here when the plan runs those passes, not run again."""
    with threads_for(graph_work(graph)):
        return _run(plan, graph, values, parts)


def _run(plan: Plan, graph: Graph, values: list, parts: tuple | None = None) -> dict:
    ones = {name: p.mode for name, p in plan.inputs.items() if p.along_ones}
    if ones:  # the diagonals of an element-wise graph, one pass along ones; the other inputs as planned
        out = {name: _diagonal_jacobian(name, graph, d) for name, d in along_ones(graph, values, ones,
                                                                                 len(plan.inputs)).items()}
        if len(ones) < len(plan.inputs):
            rest = replace(plan, inputs={name: p for name, p in plan.inputs.items() if not p.along_ones})
            out.update(_run(rest, graph, values, parts))
        return {name: out[name] for name in plan.inputs}
    if _small(plan, graph):
        return _run_small(plan, graph, values, parts)
    out = {}
    rev = [n for n, p in plan.inputs.items() if p.mode == "reverse"]
    if rev:
        out.update(_run_reverse(plan, reverse_graph(graph, rev, len(plan.inputs)), values, rev))
    for name, p in plan.inputs.items():
        if p.mode == "forward":
            out[name] = _run_forward(p, graph, values)
    return {name: out[name] for name in plan.inputs}


class _WholeBranches:
    """:func:`whole_branches` of one pass, recorded at the first call that asks for a part of the basis
    (``batch`` below the whole: None for the whole pass itself, which takes its own)."""

    def __init__(self, graph: Graph, values: list, mode: str, name: str):
        self.graph, self.values, self.mode, self.name, self.record = graph, values, mode, name, None

    def __call__(self, batch: int | None):
        basis = size(self.graph.output_shape if self.mode == "reverse"
                     else self.graph.nodes[self.graph.inputs[self.name]].shape)
        if batch is None or batch >= basis:
            return None
        if self.record is None:
            self.record = whole_branches(self.graph, self.values, self.mode, self.name)
        return self.record


def _taking(record: structured.Branches | None):
    """The context of a pass that takes ``record``'s branches again (none: its own)."""
    return nullcontext() if record is None else structured.branches(record.replay())


def whole_branches(graph: Graph, values: list, mode: str, name: str | None = None) -> structured.Branches:
    """The branches the structured rules take in one pass over the whole basis (the output's in reverse mode,
    input ``name``'s in forward mode), recorded by a dry run of that pass (patterns only, no values made:
    a chunk's memory, not the whole pass's): each chunk of a chunked plan takes them again
    (:func:`structured.branches`), so its rows or columns are the one-pass plan's bits (session 54)."""
    record = structured.Branches()
    with structured.dry_run(), structured.branches(record):
        if mode == "reverse":
            autodiff.reverse_part(graph, values)
        else:
            autodiff.forward_part(graph, values, name)
    return record


def _run_forward(p: InputPlan, graph: Graph, values: list):
    """Input ``p``'s Jacobian from forward passes of ``p.batch`` basis vectors, each taking the branches of
    one pass over the whole basis (:func:`whole_branches`) when there are several."""
    builder = autodiff._builders(graph, [p.name], "forward")[p.name]
    record = whole_branches(graph, values, "forward", p.name) if p.batch < p.basis else None
    for start in range(0, p.basis, p.batch):
        stop = min(start + p.batch, p.basis)
        with _taking(record):
            builder.add(autodiff.forward_part(graph, values, p.name, start, stop), start)
    return builder.finish()


def _small(plan: Plan, graph: Graph) -> bool:
    """Dense passes when every Jacobian is small or its pass has few basis vectors (a scalar
    output's reverse pass has one), and the structure's positions are known. A small Jacobian's
    dense pass over many basis vectors must itself be small (``DENSE_PASS``) and fit the budget
    with the values (:func:`_dense_bytes`, which the plan's peak counts): the plan predicted the
    structured pass, which keeps a broadcast's tangent sparse where the dense pass holds it whole."""
    if not plan.dense_passes:
        return False
    m = size(graph.output_shape)
    if not all((m * size(p.x_shape) <= SMALL or p.basis <= FEW) and p.passes <= 1
               and (p.structure == "dense" or p.pattern is not None) for p in plan.inputs.values()):
        return False
    if all(p.basis <= FEW for p in plan.inputs.values()):
        return True
    elements = _elements(graph)
    return (max(p.basis for p in plan.inputs.values()) * elements <= DENSE_PASS
            and plan.values_bytes + _dense_bytes(plan, graph) <= plan.budget)


def _elements(graph: Graph) -> int:
    """Every node's elements (``graph.facts``, or counted)."""
    facts = graph.facts
    if facts is not None:
        return facts[1]
    return sum(size(node.shape) for node in graph.nodes)


def _dense_bytes(plan: Plan, graph: Graph) -> int:
    """A bound of :func:`_run_small`'s dense passes over the basis of every input not taken along ones
    (:func:`_run` takes those first), with the Jacobians: a batch of every node's tangent alive at once and
    ``DENSE_COPIES`` more of the largest node's (a rule's temporaries), for the largest basis, at 8 bytes."""
    basis = max((p.basis for p in plan.inputs.values() if not p.along_ones), default=0)
    if not basis:
        return 0
    largest = max(size(node.shape) for node in graph.nodes)
    return plan.result_bytes + basis * (_elements(graph) + DENSE_COPIES * largest) * _MAX_ITEMSIZE


def _run_small(plan: Plan, graph: Graph, values: list, parts: tuple | None = None) -> dict:
    """Small Jacobians and passes of few basis vectors: plain dense passes (less Python per
    op than sparse batches), then the structure the plan's dry run found, read off the result.
    ``parts`` (``(modes, arrays)``): those passes, run already by :func:`unplanned`."""
    modes = {name: p.mode for name, p in plan.inputs.items()}
    if parts is None or parts[0] != modes:
        parts = (modes, _dense_passes(graph, values, modes))
    dense = parts[1]
    nan = [name for name in plan.inputs if autodiff.holds_nan(dense[name])]
    if nan:
        dense = {**dense, **nan_read_structured(plan, graph, values, nan, dense)}
    return {name: _structured(p, graph, dense[name]) for name, p in plan.inputs.items()}


def nan_read_structured(plan: Plan, graph: Graph, values: list, names: list, dense: dict) -> dict:
    """``{name: dense part}`` of ``names`` (whose dense passes hold a NaN) with each NaN read from the
    structured passes a chunked plan runs (:func:`_run_reverse`, the forward builders): a dense pass
    seeds the whole basis, so a basis vector's zeros meet a NaN or infinite partial that their entry never
    reaches (``C @ B`` of a NaN constant C: ∂y[i, j]/∂B[k, l] for l ≠ j is C[i, k] · 0 = NaN), where the
    structured rules gather only the entries a seed reaches and give the exact 0 (or the finite sum of the
    products that reach it), as docs/batches-outputs-orders.md promises. Every path (dense, chunked,
    kernel, batch) gives that one answer: the entries the dense pass made finite are kept as they are."""
    rev = [n for n in names if plan.inputs[n].mode == "reverse"]
    found = {}
    if rev:
        found.update(_run_reverse(replace(plan, inputs={n: plan.inputs[n] for n in rev}),
                                  reverse_graph(graph, rev, len(plan.inputs)), values, rev))
    for name in names:
        p = plan.inputs[name]
        if p.mode == "forward":
            found[name] = _run_forward(p, graph, values)
    m = size(graph.output_shape)
    out = {}
    for name, jac in found.items():
        part = np.asarray(dense[name])
        exact = np.asarray(jac.to_array()).reshape(m, -1)
        if plan.inputs[name].mode == "forward":  # a forward part is (x.size, *y.shape): its transpose
            exact = exact.T
        out[name] = autodiff.nan_read(part, exact.reshape(part.shape))
    return out


def _dense_passes(graph: Graph, values: list, modes: dict) -> dict:
    """``{name: dense part}``: one reverse pass over the output's whole basis for the inputs
    in reverse mode, one forward pass over its own basis for each input in forward mode."""
    out = {}
    rev = []  # a loop, not a comprehension (a function made and called at each call)
    for name, mode in modes.items():
        if mode == "reverse":
            rev.append(name)
    if rev:
        seed = autodiff.basis(graph.nodes[graph.output].shape, graph.dtype)
        grads = autodiff.vjp(reverse_graph(graph, rev, len(modes)), values, seed)
        for n in rev:  # a loop, not a comprehension: no cell of grads
            out[n] = grads[n]
    for name, mode in modes.items():
        if mode == "forward":
            seed = autodiff.basis(graph.nodes[graph.inputs[name]].shape, graph.dtype)
            out[name] = autodiff.jvp(graph, values, {name: seed})[graph.output]
    return out


# --- a first call without a plan ------------------------------------------------------------------
#
# A plan dry-runs a pass for two things: its peak (to chunk it, or refuse it) and the structure
# the answer is read off at. For a small Jacobian the first call can do without: the peak is
# bounded from the shapes (pass_bound), far below the budget, so the plan would run one dense
# pass per mode (_run_small); and the structure is dense whenever that pass's result is zero
# nowhere. Outside its pattern a pass holds only +0, -0 or NaN (the rules are linear in the
# seed, and the pattern holds every entry a rule can make of a nonzero one: _run_small drops
# the rest, which is why the pattern must be sound), so a result with no zero and no NaN has
# every entry in its pattern: dense, nnz m·n, as the dry run would have found. The Jacobian of
# an input over whose shape the graph is element-wise (E1's) is the diagonal, which every dry run
# of such a graph finds (elementwise_diagonal), at any size: one pass along ones gives it, as the
# plan's run gives it (along_ones), with no basis and no dry run. Anything else (a zero somewhere:
# x[1:3], a sparse A @ x) makes the plan after all, and reads these passes off at it.

PASS_BOUND_LINEAR = 64  # pass_bound's bytes per element of the graph and basis vector (dry runs: at most ~11)


def pass_bound(graph: Graph, batch: int, elementwise: bool = False) -> int:
    """Bytes that no dry run of one pass of ``batch`` basis vectors over ``graph`` predicts more
    of (:func:`probe_reverse`, :func:`probe_forward`, :func:`product_plan`): with S the elements
    of every node, ``itemsize · (batch + 1) · (64·S + S²)``: an over-estimate by design (the dry
    runs seen stay under 11 · batch · S · itemsize; S² leaves room for a rule whose batches are
    products of two nodes, as ``cdist``'s differences), checked rather than proven:
    ``tests/test_cold.py`` compares it with the dry runs of every op case and of the fuzz grammar.
    ``elementwise``: a pass over a graph :func:`elementwise_diagonal` takes, whose rules make
    arrays of their node's shape (times the batch) only: without the S² term."""
    facts = graph.facts
    if facts is not None:  # S counted by Builder.graph (or graph.with_wrt) on its way
        _, total, item = facts  # (its fields by name are generic lookups)
    else:
        total, item = 0, np.dtype(graph.dtype).itemsize
        for node in graph.nodes:
            total += size(node.shape)
    return item * (batch + 1) * (PASS_BOUND_LINEAR * total + (0 if elementwise else total * total))


def unplanned(graph: Graph, values: list, names: list, mode: str, budget: int, arrays: bool = False) -> tuple:
    """``(jacobians, parts)`` of a first call, before any plan: ``jacobians`` (``{name:
    Jacobian}``, dense, or diagonal for an element-wise graph) when they are provably what
    :func:`make_plan` and :func:`run` would give (see above), else None; ``parts`` the dense
    passes run meanwhile, or None, for :func:`run` to read off at the plan
    (``run(plan, graph, values, parts)``). ``arrays``: each Jacobian as the array its
    ``to_array()`` gives, made without the Jacobian object (:func:`_cold_array`)."""
    if mode not in MODES or not names:
        return None, None
    nodes, inputs = graph.nodes, graph.inputs
    m = size(nodes[graph.output].shape)
    facts = graph.facts
    itemsize = facts[2] if facts is not None else dtype_itemsize(graph.dtype)  # facts.itemsize
    # the values, at least as make_plan counts them (their nbytes, 8 for a Python number), and the diagonal
    # Jacobians made below. Counted by the facts without a walk: each value has its node's shape and at most
    # 8 bytes an element (float64, int64; jac's arrays are real: complex dtypes are refused), so every node's
    # elements times 8 bound them (a float32 graph's by twice: near the budget its plan decides)
    held = facts[1] * _MAX_ITEMSIZE if facts is not None else _values_bytes(values)  # facts.elements
    every = names
    ones = []  # a diagonal, at any size (a loop, not a comprehension: no cells of this function's variables)
    for name in names:
        if elementwise_diagonal(graph, name):
            ones.append(name)
    if ones:  # one pass along ones, as the plan runs it, when it certainly fits the budget
        held += len(ones) * m * (m * itemsize if arrays else itemsize + 16)  # the results: dense, or not
        if held + pass_bound(graph, 1, elementwise=True) > budget:
            return None, None
        diagonals = _diagonals(graph, values, ones, m, mode, len(names), arrays)
        if len(ones) == len(names):
            return diagonals, None
        names = _without(names, diagonals)
    modes, sizes, batch = {}, [], 0
    for name in names:  # the modes a plan of small Jacobians takes, with the sizes kept
        n = size(nodes[inputs[name]].shape)
        if not 0 < m * n <= SMALL:
            return None, None
        # _by_size's choice for a small Jacobian (m * n <= SMALL), from the sizes known here
        chosen = modes[name] = mode if mode != "auto" else _fewer_basis(m, n)
        sizes.append(n)
        batch = max(batch, m if chosen == "reverse" else n)
    if held + m * sum(sizes) * itemsize + pass_bound(graph, batch) > budget:
        return None, None  # the plan might chunk the passes, or refuse them
    work = graph_work(graph)
    if work < SPLIT:  # threads_for(work) would be nullcontext()
        parts = _dense_passes(graph, values, modes)
    else:
        with threads_for(work):
            parts = _dense_passes(graph, values, modes)
    found = {}
    for name, n in zip(names, sizes):
        a = parts[name]
        if not _no_zero_no_nan(a):  # a zero or a NaN: plan it
            return None, (modes, parts)
        if arrays:
            found[name] = _cold_array(graph, name, modes[name], a, m, n)
            continue
        builder = JacobianBuilder(name, graph.output_shape, nodes[inputs[name]].shape, modes[name], graph.dtype)
        builder.add(a, 0)
        found[name] = builder.finish()  # as _structured makes a dense one
    if ones:
        found.update(diagonals)
        found = _in_order(found, every)
    return found, (modes, parts)


_MAX_ITEMSIZE = 8  # bytes of an element of any value a graph computes (float64, int64)


def _values_bytes(values: list) -> int:
    """The bytes of node ``values`` as :func:`make_plan` counts them (a loop, not a generator: no cell)."""
    held = 0
    for v in values:
        held += getattr(v, "nbytes", 8)
    return held


def _diagonals(graph: Graph, values: list, ones: list, m: int, mode: str, n_wrt: int, arrays: bool) -> dict:
    """:func:`unplanned`'s diagonal Jacobians of the inputs ``ones`` (of ``n_wrt`` differentiated), from
    :func:`along_ones`: arrays, or :class:`SparseJacobian` objects."""
    diagonals = along_ones(graph, values, dict.fromkeys(ones, _fewer_basis(m, m) if mode == "auto" else mode), n_wrt)
    for name, d in diagonals.items():  # a loop, not a comprehension (a function made and called at each call)
        diagonals[name] = _diagonal_array(graph, d) if arrays else _diagonal_jacobian(name, graph, d)
    return diagonals


def _without(names: list, found: dict) -> list:
    return [name for name in names if name not in found]


def _in_order(found: dict, names: list) -> dict:
    return {name: found[name] for name in names}


def along_ones(graph: Graph, values: list, modes: dict, n_wrt: int) -> dict:
    """``{name: the diagonal, (n,)}`` of the Jacobians of inputs over whose shape the graph is
    element-wise (:func:`elementwise_diagonal`; ``modes``: each one's mode, of ``n_wrt`` inputs
    differentiated), from one pass along ones: a cotangent of ones for the reverse ones (one pass
    for them all), a tangent of ones per forward one. Its entry j meets the scalar ops of entry
    (j, j) of a pass over the basis, and no other entry meets it (each rule scales the seed
    position by position), so it is that diagonal; the first call (:func:`unplanned`) and the
    plan's run (:func:`run`) both take it, and the kernels trace it (``_diagonal_pass``). The
    arrays are the pass's own (new, never an input's), possibly of another dtype than the graph's."""
    seed = _empty((1,) + tuple(graph.nodes[graph.output].shape), graph.dtype)  # np.ones without its Python layers
    seed.fill(1)  # (x's shape is y's)
    n = seed.size
    rev = []  # loops, not comprehensions (a function made and called at each call)
    for name, mode in modes.items():
        if mode == "reverse":
            rev.append(name)
    parts = autodiff.vjp(reverse_graph(graph, rev, n_wrt), values, seed) if rev else {}
    for name, mode in modes.items():
        if mode == "forward":
            parts[name] = autodiff.jvp(graph, values, {name: seed})[graph.output]
    diagonals = {}
    for name in modes:
        diagonals[name] = parts[name].reshape(n)
    return diagonals


def _diagonal_jacobian(name: str, graph: Graph, diagonal) -> SparseJacobian:
    """The :class:`SparseJacobian` of a diagonal from :func:`along_ones` (the first call's and the plan's
    run's): entries (j, j) in order, the values a copy in the graph's dtype."""
    shape, n = tuple(graph.output_shape), diagonal.shape[0]
    return SparseJacobian(name, shape, shape, np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64),
                          diagonal.astype(graph.dtype), graph.dtype, coalesced=True)


def _diagonal_array(graph: Graph, diagonal) -> np.ndarray:
    """``to_array()`` of :func:`_diagonal_jacobian`'s Jacobian, made without it: the values cast into
    zeros at ``j * n + j``, without ``dense()``'s budget check (:func:`unplanned` checked the dense
    arrays against the budget)."""
    shape = tuple(graph.nodes[graph.output].shape)
    n = diagonal.shape[0]
    out = _zeros(n * n, dtype=graph.dtype)
    out[::n + 1] = diagonal
    return out.reshape(shape + shape)


def _no_zero_no_nan(a) -> bool:
    """Is no entry of the pass ``a`` zero (+0 or -0) and none NaN? By ``count_nonzero`` (NaN counts as
    nonzero) and ``vdot(a, a)``, the sum of the squares: NaN exactly when an entry is NaN, as the
    squares are never negative (inf meets inf, never -inf). Two C calls: ufunc reductions
    (``a.all()``, ``a.sum()``) take ~4 x as long on a small array."""
    plain = type(a) is _ndarray  # NumPy's C functions at once; anything else through NumPy's dispatch
    if (_count_nonzero(a) if plain else np.count_nonzero(a)) != a.size:
        return False
    squares = _vdot(a, a) if plain else np.vdot(a, a)
    return bool(squares == squares)


def _cold_array(graph: Graph, name: str, mode: str, part, m: int | None = None, n: int | None = None) -> np.ndarray:
    """``to_array()`` of the dense Jacobian :func:`unplanned` makes of the dense pass ``part``,
    made as that Jacobian makes it without making it: the pass (``JacobianBuilder._add_dense``)
    reshaped to ``y.shape + x.shape``. ``dense()``'s budget check cannot refuse it: :func:`unplanned`
    made sure that the dense Jacobians fit the budget. ``tests/test_cold.py`` compares both. ``m``, ``n``:
    the sizes of y and x, when the caller knows them."""
    nodes = graph.nodes
    y_shape, x_shape = tuple(nodes[graph.output].shape), tuple(nodes[graph.inputs[name]].shape)
    if m is None or n is None:
        m, n = size(y_shape), size(x_shape)
    if type(part) is not _ndarray:
        part = np.asarray(part)
    flat = part.reshape(part.shape[0], m if mode == "forward" else n)
    square = flat.T if mode == "forward" else flat  # rows of y, columns of x
    return square.reshape(y_shape + x_shape)


def _rule_positions(op) -> frozenset:
    return frozenset(i for i in range(min(len(op.vjp), len(op.jvp))) if op.vjp[i] is not None and op.jvp[i] is not None)


# read-only tables of the registry, for elementwise_diagonal (with ir.graph's _NONDIFF, the ops no
# derivative passes): per differentiable element-wise op the argument positions with both rules (vjp and jvp)
_ELEMENTWISE_RULES = MappingProxyType({name: _rule_positions(op) for name, op in OPS.items()
                                       if op.elementwise and not op.nondiff})
# and the positions 0..k-1 they all cover, as k (a node with no more arguments passes through any of them)
_ELEMENTWISE_COUNT = MappingProxyType({name: next(k for k in range(len(p) + 1) if k not in p)
                                       for name, p in _ELEMENTWISE_RULES.items()})
# their lookups as elementwise_diagonal makes them per node: a plain dict's get (a mapping proxy's get looks up
# and calls its dict's get, ~1 k instructions); the dict is a copy no one else holds, so it stays read-only
_elementwise_count = dict(_ELEMENTWISE_COUNT).get


def elementwise_diagonal(graph: Graph, name: str) -> bool:
    """Whether every dry run of ``graph`` finds dy/d``name`` diagonal (nnz = n, rows and columns
    ``0..n-1``), read off the graph: every node the derivative passes through (it depends on the
    input by ops that are not ``nondiff``) is an element-wise op (``Op.elementwise``) of the
    input's shape, with rules at the positions it passes through, and the output is one of them;
    n > 1. Such an op's rules scale the seed by unbatched arrays of its shape (``unary``/``binary``:
    ``P.mul(g, f'(x))``; add, sub, neg, where, clip: the seed itself, negated or masked), which the
    structured rules keep at the seed's pattern, and two batches of one pattern add at that
    pattern (``_merged``): the identity's pattern from the seed to every input.
    ``tests/test_cold.py`` checks each such op's dry runs in both modes, every argument position,
    and compositions of them (cold == planned)."""
    nodes = graph.nodes
    x = graph.inputs[name]
    shape = nodes[x].shape
    if tuple(nodes[graph.output].shape) != tuple(shape) or size(shape) < 2:
        return False
    facts = graph.facts
    wrt = None if facts is None else facts[0]  # facts.wrt
    if wrt is not None and len(wrt) == 1 and name in wrt:
        # requires_grad set for this input alone (graph.with_wrt) is the flags below: a node requires grad
        # when an argument does and its op is not nondiff; the loop below, reading them
        rules = _elementwise_count
        for node in nodes[x + 1:]:
            if node.requires_grad:
                op = node.op
                k = rules(op)  # rules at positions 0..k-1 (each further position asked below)
                if k is None or node.shape != shape:
                    return False
                args = node.args
                if len(args) > k:
                    positions = _ELEMENTWISE_RULES[op]
                    for i, a in enumerate(args):
                        if nodes[a].requires_grad and i not in positions:
                            return False
        return nodes[graph.output].requires_grad
    flags = [False] * len(nodes)  # flags[i]: the derivative passes through node i
    flags[x] = True
    passes = flags.__getitem__
    for node in nodes[x + 1:]:
        args = node.args
        if not any(map(passes, args)) or node.op in _NONDIFF:
            continue  # no derivative passes: an unbatched value to the nodes after it
        positions = _ELEMENTWISE_RULES.get(node.op)
        if positions is None or node.shape != shape:
            return False
        for i, a in enumerate(args):
            if flags[a] and i not in positions:
                return False
        flags[node.id] = True
    return flags[graph.output]


def _structured(p: InputPlan, graph: Graph, part) -> Jacobian:
    builder = JacobianBuilder(p.name, graph.output_shape, p.x_shape, p.mode, graph.dtype)
    builder.add(part, 0)
    if p.pattern is None:
        return builder.finish()
    rows, cols = p.pattern
    return SparseJacobian(p.name, builder.y_shape, builder.x_shape, rows, cols, builder.dense[rows, cols],
                          graph.dtype, coalesced=True)


def reverse_graph(graph: Graph, names: list, n_wrt: int) -> Graph:
    """The graph whose reverse pass reaches exactly ``names`` (the others go forward)."""
    return graph.with_wrt(names) if len(names) < n_wrt else graph


def _run_reverse(plan: Plan, graph: Graph, values: list, names: list) -> dict:
    first = plan.inputs[names[0]]
    builders = autodiff._builders(graph, names, "reverse")
    record = whole_branches(graph, values, "reverse") if first.batch < first.basis else None
    for start in range(0, first.basis, first.batch):
        with _taking(record):
            parts = autodiff.reverse_part(graph, values, start, min(start + first.batch, first.basis))
        for name in names:
            builders[name].add(parts.pop(name), start)
        del parts
    return {name: b.finish() for name, b in builders.items()}


# --- Hessians ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HessianPlan:
    """How ``jac hessian`` computes its blocks ``(a, b)``, decided before any is allocated.

    The blocks are allocated first, every one of them; then for each input ``b`` passes over
    ``b``'s basis through the traced gradient graph fill the columns of the blocks ``(·, b)``,
    ``batch[b]`` basis vectors per pass. A pass's peak comes from a dry run of the pass itself
    (:func:`probe_hessian`: the same rules on shapes and sparsity patterns, no values), so
    the prediction follows the code that runs, as for Jacobians. The peak is the values
    (the expression's and its gradient graph's) plus every block plus the largest pass.
    """

    shapes: dict  # name -> shape, in --wrt order
    itemsize: int
    values_bytes: int
    budget: int
    max_bytes: int  # the limit per array
    batch: dict = field(default_factory=dict)  # name -> basis vectors per pass; empty until the passes are fitted
    pass_peaks: dict = field(default_factory=dict)  # name -> predicted peak of one such pass
    notes: tuple = field(default=())
    refusal: str | None = None
    y_shape: tuple = ()  # the output's: a block is y.shape + a.shape + b.shape

    @property
    def block_bytes(self) -> dict:
        """``{(a, b): bytes}``, in the order the blocks are computed (``b`` outer)."""
        m = size(self.y_shape)
        return {(a, b): m * size(self.shapes[a]) * size(self.shapes[b]) * self.itemsize
                for b in self.shapes for a in self.shapes}

    @property
    def result_bytes(self) -> int:
        return sum(self.block_bytes.values())

    @property
    def peak_bytes(self) -> int:
        return self.values_bytes + self.result_bytes + max(self.pass_peaks.values(), default=0)

    def passes(self, name: str) -> int:
        n = size(self.shapes[name])
        return -(-n // self.batch.get(name, n or 1)) if n else 0

    def explain(self) -> list:
        """The plan in words, one line each (what ``jac hessian --explain`` prints)."""
        n = len(self.shapes)
        lines = [f"hessian plan: {n} input{'s' if n != 1 else ''}, {n * n} block{'s' if n != 1 else ''}"]
        for (a, b), nbytes in self.block_bytes.items():
            lines.append(f"  block ∂²y/∂{a}∂{b} {fmt(self.block_shape(a, b))}: "
                         f"{fmt_bytes(nbytes)}")
        for name, shape in self.shapes.items():
            lines.append(f"  passes over {name} {fmt(shape)}: {self._passes_described(name)}")
        return lines + _explained_footer(self, "blocks")

    def block_shape(self, a: str, b: str) -> tuple:
        return tuple(self.y_shape) + tuple(self.shapes[a]) + tuple(self.shapes[b])

    def _passes_described(self, name: str) -> str:
        n = size(self.shapes[name])
        if name not in self.pass_peaks:
            return f"{n:,} basis vector{'s' if n != 1 else ''}, not planned (refused)"
        if not n:
            return "no pass (an empty input)"
        count, batch = self.passes(name), self.batch[name]
        of = f" (of {n:,})" if batch < n else ""
        return (f"{count:,} pass{'es' if count != 1 else ''} of {batch:,} basis vector{'s' if batch != 1 else ''}"
                f"{of}, predicted peak {fmt_bytes(self.pass_peaks[name])} each")

    def to_dict(self) -> dict:
        blocks = {f"{a},{b}": {"shape": list(self.block_shape(a, b)), "bytes": nbytes}
                  for (a, b), nbytes in self.block_bytes.items()}
        inputs = {name: {"basis": size(shape), "batch": self.batch.get(name), "passes": self.passes(name)
                         if name in self.batch else None, "pass_bytes": self.pass_peaks.get(name)}
                  for name, shape in self.shapes.items()}
        return {"blocks": blocks, "inputs": inputs, "peak_bytes": self.peak_bytes, "values_bytes": self.values_bytes,
                "result_bytes": self.result_bytes, "budget_bytes": self.budget, "notes": list(self.notes),
                "refused": self.refusal}


def hessian_plan(shapes: dict, dtype, values_bytes: int, budget: int, max_bytes: int,
                 y_shape: tuple = ()) -> HessianPlan:
    """The blocks' part of a Hessian plan, from the input and output shapes alone (nothing
    traced or allocated yet): refused when the blocks and the values pass the budget, or a
    block the limit per array. :func:`fit_hessian` adds the passes."""
    plan = HessianPlan(dict(shapes), np.dtype(dtype).itemsize, values_bytes, int(budget), int(max_bytes),
                       y_shape=tuple(y_shape))
    return replace(plan, refusal=_block_over_rank(plan) or _blocks_too_big(plan) or _block_over_array_limit(plan))


def _block_over_rank(plan: HessianPlan) -> str | None:
    for name, shape in plan.shapes.items():
        ndim = len(plan.y_shape) + 2 * len(shape)
        if ndim > NUMPY_MAX_RANK:
            return (f"the Hessian block '{name},{name}' would have {ndim} dimensions (the output's {len(plan.y_shape)} "
                    f"and twice the input's {len(shape)}); NumPy holds at most {NUMPY_MAX_RANK}: differentiate an "
                    "input of fewer dimensions (reshape it), or reduce the output first")
    return None


def fit_hessian(plan: HessianPlan, g2: Graph, values: list, grad_ids: dict) -> HessianPlan:
    """``plan`` with its passes: for each input the largest batch of basis vectors whose pass
    fits what the values and the blocks leave of the budget (dry runs through the traced
    gradient graph ``g2`` at ``values``, whose bytes ``plan.values_bytes`` holds by now: see
    :func:`values_nbytes`), or a refusal. As for Jacobians, passes answer to the budget; the
    limit per array is checked on the blocks (:func:`hessian_plan`)."""
    refusal = _blocks_too_big(plan)
    if refusal:
        return replace(plan, refusal=refusal)
    outputs = [grad_ids[a] for a in plan.shapes]
    room = plan.budget - plan.values_bytes - plan.result_bytes
    batch, peaks, notes = {}, {}, []
    for name in plan.shapes:
        n = size(plan.shapes[name])
        whole = _WholeHessian(g2, values, name, outputs, n)  # a chunk's pass takes the whole pass's branches
        probe = (lambda k, name=name, whole=whole: probe_hessian(g2, values, name, outputs, k, whole(k)))
        full = probe(n)
        k, peak, refusal = chunk(probe, n, full, room, plan.budget, f"for the Hessian's passes over {name}")
        if refusal:
            return replace(plan, batch={**batch, name: k}, pass_peaks={**peaks, name: peak}, refusal=refusal)
        if k < n:
            notes.append(f"{name}: a pass of all {n:,} basis vectors would need about {fmt_bytes(full)}, more than "
                         f"the {fmt_bytes(room)} left after the values and the blocks; chunked")
        batch[name], peaks[name] = k, peak
    return replace(plan, batch=batch, pass_peaks=peaks, notes=tuple(notes))


class _WholeHessian:
    """:func:`autodiff.hessian_branches` of input ``name``, recorded at the first chunk size asked below ``n``."""

    def __init__(self, g2: Graph, values: list, name: str, outputs: list, n: int):
        self.g2, self.values, self.name, self.outputs, self.n, self.record = g2, values, name, outputs, n, None

    def __call__(self, batch: int | None):
        if batch is None or batch >= self.n:
            return None
        if self.record is None:
            self.record = autodiff.hessian_branches(self.g2, self.values, self.name, self.outputs)
        return self.record


def probe_hessian(g2: Graph, values: list, name: str, outputs: list, batch: int | None = None,
                  branches: structured.Branches | None = None) -> int:
    """The predicted peak bytes of one Hessian pass over ``batch`` basis vectors of ``name``
    (default: all), writing its columns into the blocks included; ``branches`` as :func:`probe_reverse`'s."""
    with structured.dry_run() as ledger, _taking(branches):
        parts = autodiff.hessian_part(g2, values, name, outputs, 0, batch)
        ledger.transient(max((_write_cost(p) for p in parts.values()), default=0))
        del parts
        return ledger.peak


def _write_cost(part) -> int:
    """Bytes :func:`autodiff._write_columns` may make while it writes ``part``: a copy of a
    dense batch that is a view, or the index arrays of a sparse batch's entries."""
    if isinstance(part, structured.SparseBatch):
        return 4 * 8 * size(part.shape[1:])
    return size(part.shape) * part.dtype.itemsize


def values_nbytes(*lists) -> int:
    """Bytes of node values, each buffer once: a view (``A.T``, a reshape, a broadcast) costs
    nothing of its own, and a gradient graph's inputs are the expression's."""
    seen, total = set(), 0
    for values in lists:
        for v in values:
            while isinstance(getattr(v, "base", None), np.ndarray):
                v = v.base
            if id(v) not in seen:
                seen.add(id(v))
                total += getattr(v, "nbytes", 8)
    return total


def _block_over_array_limit(plan: HessianPlan) -> str | None:
    m = size(plan.y_shape)
    for name, shape in plan.shapes.items():  # the largest blocks are the diagonal ones
        n = size(shape)
        if m * n * n * plan.itemsize > plan.max_bytes:
            return (f"the Hessian with respect to '{name}' ({n:,} elements) needs arrays of {m * n * n:,} values "
                    f"({m * n * n * plan.itemsize:,} bytes), over the limit of {plan.max_bytes:,} bytes per array; "
                    f"differentiate fewer or smaller inputs (--wrt), or use jac vjp / jac jvp for products with vectors")
    return None


def _blocks_too_big(plan: HessianPlan) -> str | None:
    need = plan.values_bytes + plan.result_bytes
    if need <= plan.budget:
        return None
    (a, b), biggest = max(plan.block_bytes.items(), key=lambda item: item[1])
    shape = plan.block_shape(a, b)
    return (
        f"the Hessian block ∂²y/∂{a}∂{b} is {size(plan.shapes[a]):,} × {size(plan.shapes[b]):,}, shape {fmt(shape)}: "
        f"it needs {biggest:,} bytes ({fmt_bytes(biggest)}), and with the other blocks and the values {need:,} bytes "
        f"({fmt_bytes(need)}), more than the memory budget of {plan.budget:,} bytes ({fmt_bytes(plan.budget)}); "
        f"nothing was allocated. Raise --max-memory or differentiate fewer or smaller inputs (--wrt)")


# --- products with J: one vjp or jvp pass, planned as the Jacobians are ---------------------------

@dataclass(frozen=True)
class ProductPlan:
    """The predicted peak of ``jac vjp`` / ``jac jvp`` (one pass of one vector): the forward
    values, then the pass, its seed and its results, from a dry run in which every value is a
    stand-in of its shape (:class:`~jacobi_cli.ir.structured.ShapeOnly`), so nothing is
    computed or allocated before the plan is checked. ``exact`` is False when a rule needed
    real values and the pass was bounded from the shapes instead (see :func:`product_plan`)."""

    kind: str  # "vjp" or "jvp"
    values_bytes: int
    pass_peak: int
    exact: bool

    @property
    def peak_bytes(self) -> int:
        return self.values_bytes + self.pass_peak


def product_plan(graph: Graph, kind: str, names=None, outputs=None) -> ProductPlan:
    """The :class:`ProductPlan` of one ``kind`` pass (``"vjp"``: from ``outputs``, default the
    output, back to the inputs that require grad; ``"jvp"``: from the tangents of ``names``).

    A rule that needs real values (Python logic on them) cannot run on stand-ins; the pass is
    then bounded by every node's cotangent or tangent alive at once plus three of the largest
    node (a rule's temporaries), which over-counts but never under-counts a plain pass."""
    outputs = graph.output_ids() if outputs is None else list(outputs)
    values = [node.value if node.op == "const" else structured.ShapeOnly(node.shape, graph.dtype)
              for node in graph.nodes]  # made outside the dry run: not counted (values_bytes counts them)
    try:
        with structured.dry_run() as ledger:
            if kind == "vjp":
                seeds = {o: structured.ShapeOnly((1,) + tuple(graph.nodes[o].shape), graph.dtype) for o in outputs}
                found = autodiff.vjp(graph, values, seeds)
            else:
                tangents = {n: structured.ShapeOnly((1,) + tuple(graph.nodes[graph.inputs[n]].shape), graph.dtype)
                            for n in (names or ())}
                found = autodiff.jvp(graph, values, tangents, outputs) if tangents else {}
            del found
            peak, exact = ledger.peak, True
    except Exception:  # noqa: BLE001 - a rule that needs values: bounded from the shapes instead
        peak, exact = _product_bound(graph), False
    return ProductPlan(kind, forward_bytes(graph), peak, exact)


def _product_bound(graph: Graph) -> int:
    itemsize = np.dtype(graph.dtype).itemsize
    sizes = [size(node.shape) * itemsize for node in graph.nodes]
    return sum(sizes) + 3 * max(sizes, default=0)


def check_product(plan: ProductPlan, budget: int, what: str, stacked: int = 0, examples: int = 0) -> None:
    """Refuse, before the forward pass, a ``plan`` that does not fit ``budget``; with a batch,
    ``stacked`` bytes of per-example results of ``examples`` examples are held beside one example's plan."""
    if plan.peak_bytes + stacked > budget:
        held = (f", the inputs, --v or --tangent, two examples' values and stacked results of {examples} examples "
                f"{fmt_bytes(stacked)}" if examples else "")
        raise JacLimitError(
            f"{what} needs about {fmt_bytes(plan.peak_bytes + stacked)} (the forward values "
            f"{fmt_bytes(plan.values_bytes)}, the {plan.kind} pass {fmt_bytes(plan.pass_peak)}{held}), over the "
            f"memory budget of {fmt_bytes(budget)}; nothing was computed. Use smaller inputs, or raise the budget "
            f"with --max-memory")
