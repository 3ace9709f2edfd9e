"""What each command reports: a typed result per command.

A :class:`Result` holds ``data``, the ``--json`` object in the contract's shape (values
still NumPy arrays until :mod:`jacobi_cli.cli.render` draws or serialises them;
``to_json()`` is what ``--json`` prints), and, as typed fields of its subclass, what drawing
it needs beyond the contract: the Jacobian objects and the plan of ``jac eval``, SymPy
formulas, the curve of ``jac plot``. Options meant for the renderer (``--latex``,
``--max-nodes``) are passed to the renderer, never stored here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from itertools import compress
from types import MappingProxyType
from typing import Callable

import numpy as np

from . import api
from ..engine import autodiff, batching, conditioning, finite, memory, planner
from ..engine.jacobian import Jacobian
from ..lang.bindings import drawn_names, parse_bindings
from ..errors import JacError, JacLimitError, JacShapeError, JacUsageError, JacValueError
from ..ir import dtypes
from ..ir.graph import DEFAULT_MAX_BYTES, LEAF_OPS, output_name
from ..lang.parser import parse
from ..ir.shapes import fmt, kind, legend, math_shape

JSON_VERSION = 1


@dataclass
class Result:
    """One command's result: ``data`` is its ``--json`` object. Reading and writing its keys
    (``result["output"]``) goes to ``data``; what is not in the contract is a typed field."""

    data: dict
    # the values drawn for NAME:SHAPE bindings, {name: array} (an input with a batch axis whole, every
    # example); not in the --json object, whose inputs carry no values:
    # the text shows them under each input, since nothing else says at which point the derivatives are
    drawn: dict = field(default_factory=dict, kw_only=True)
    # which of them the text makes itself (x = torch.randn(3, requires_grad=True)): the text says so; and of
    # those, which hold jac's draws (torch.randn, a layer's initial parameters), not PyTorch's numbers
    made: frozenset = field(default=frozenset(), kw_only=True)
    random: frozenset = field(default=frozenset(), kw_only=True)
    # the leaves the text makes and then freezes (fc.weight.requires_grad_(False)): constants, no input, whose values
    # the text shows too (lang/freeze.py)
    frozen: dict = field(default_factory=dict, kw_only=True)
    # the text calls y.backward(gradient=V): jac vjp takes V as its v; the other commands say so
    text_gradient: bool = field(default=False, kw_only=True)

    def to_json(self) -> dict:
        """The ``--json`` object (arrays not yet serialised)."""
        return self.data

    def __getitem__(self, key: str):
        return self.data[key]

    def __setitem__(self, key: str, value) -> None:
        if key.startswith("_"):
            raise KeyError(f"{key!r}: what is not in the --json contract is a typed field of the result")
        self.data[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default=None):
        return self.data.get(key, default)


@dataclass
class EvalResult(Result):
    jacobians: dict = field(default_factory=dict)  # name -> Jacobian, structure kept (--out, drawing)
    plan: object = None  # the Plan it followed (--explain; a BatchPlan for several outputs or a batch)
    budget: int | None = None  # --max-memory, for making a structured Jacobian dense
    formulas: dict | None = None  # --symbolic: SymPy expressions, "output" and per input
    by_output: dict | None = None  # several outputs: output -> {name: Jacobian}
    arrays: dict | None = None  # a batch: (output or None, name) -> the stacked blocks (B, *y, *x)
    streamed: str | None = None  # the --out file the Jacobian was streamed to (past the budget), else None
    wrote: list = field(default_factory=list)  # files written beside the report (--plot): said on stderr


@dataclass
class HessianResult(Result):
    plan: object = None  # the HessianPlan it followed (--explain)


@dataclass
class DerivativeResult(Result):
    plan: object = None  # the BatchPlan of DerivativePlans it followed (--explain)


@dataclass
class DiffResult(Result):
    formulas: dict = field(default_factory=dict)  # SymPy expressions, "output" and per input
    by_output: dict | None = None  # several outputs: output -> (its SymPy expression, {name: derivative})
    deadline: float | None = None  # time.monotonic() at which --timeout ends: drawing the formulas stops there too
    timeout: float | None = None  # the --timeout (seconds) that deadline ends


@dataclass
class CheckResult(Result):
    limit_at: tuple | None = None  # --limit: (input name, x)


class JSONReady(list):
    """A list of JSON values already (Python ints, strings, bools, None, and dicts and lists of
    them: no NumPy, no float), which ``--json`` writes as it is instead of converting each item:
    the 300,000 nodes and edges of ``jac graph`` on a long sum."""


@dataclass
class GraphResult(Result):
    """``jac graph``: ``"nodes"`` and ``"edges"`` (one record per node the output depends on)
    are made from ``graph`` when first read, so that drawing 200 of 300,000 nodes makes 200."""

    graph: object = None  # the Graph listed, requires_grad set
    picked: list = field(default_factory=list)  # ids of its nodes listed (graph_nodes), in order
    grads: dict = field(default_factory=dict)  # node id -> gradient (--backward)
    wrote: list = field(default_factory=list)  # the --out file written beside the tree: said on stderr

    def constant(self, i: int):
        """The value of node ``i`` when it is a constant (``const``), else None."""
        node = self.graph.nodes[i]
        return node.value if node.op == "const" else None

    def record(self, i: int) -> dict:
        """The entry of ``"nodes"`` for node ``i``."""
        n = self.graph.nodes[i]
        return _node_record(n, kind(n.shape), self.grads)

    def records_pending(self) -> bool:
        return self.data.get("nodes") is None and self.graph is not None

    def _records(self) -> None:
        if self.records_pending():
            self.data["nodes"], self.data["edges"] = _graph_records(self.graph, self.picked, self.grads)

    def to_json(self) -> dict:
        self._records()
        return self.data

    def __getitem__(self, key: str):
        if key in ("nodes", "edges"):
            self._records()
        return self.data[key]

    def get(self, key: str, default=None):
        if key in ("nodes", "edges"):
            self._records()
        return self.data.get(key, default)


@dataclass
class PlotResult(Result):
    curve: tuple = ()  # (xs, ys)


def _header(command: str, expr: str, graph, wrt, values=None) -> dict:
    inputs = {name: {"shape": list(graph.nodes[i].shape), "kind": kind(graph.nodes[i].shape),
                     "requires_grad": name in wrt}
              for name, i in graph.inputs.items()}
    report = {"jac_version": JSON_VERSION, "command": command, "expression": expr, "inputs": inputs}
    if graph.by_value:
        report["warnings"] = [by_value_warning(graph.by_value)]
    casts = recast_now(graph.recast, values) if graph.recast and command != "shape" else ()
    if casts:  # shapes do not depend on the precision
        report.setdefault("warnings", []).append(recast_warning(casts, graph.dtype))
    return report


def recast_now(recast: tuple, values=None) -> tuple:
    """The entries of ``graph.recast`` the dtype warning counts: the casts and the ops of constants (known when the
    text was read), then of the ops an input reaches that the library computes in float32 (``(column, "float32",
    node id)``, ir/dtypes.narrowed) the first whose values at the given inputs (``values``, every node's) float32 does
    not hold; without values (a batch's other examples, a plot's span, symbolic results) the first of them."""
    known = tuple(entry for entry in recast if len(entry) < 3 or entry[2] is None)
    for entry in recast:
        if len(entry) == 3 and entry[2] is not None:
            value = None if values is None else values[entry[2]]
            if values is None or value is not None and not dtypes.holds_float32(value):
                return known + (entry,)
    return known


def recast_warning(casts: tuple, dtype) -> dict:
    """The ``"warnings"`` entry (kind ``dtype``) of casts to the float width --dtype is not (``x.float()`` under
    float64): jac computes them in --dtype (one dtype a graph), where the library rounds to float32 or computes
    in float64, so its numbers differ from these in the last digits of float32's precision. ``"position"`` is the
    first cast's column."""
    (position, name), more = casts[0][:2], len(casts) - 1
    given = np.dtype(dtype).name
    elsewhere = f" (and {more} more cast{'s' if more > 1 else ''})" if more else ""
    other = "float64" if given == "float32" else "float32"
    what = (f"rounds to {name} here" if name == "float32" else f"computes in {name} from here")
    return {"kind": "dtype", "in": "value", "op": "cast", "position": position,
            "message": f"this cast to {name}{elsewhere} is computed in {given} (--dtype): PyTorch or NumPy {what}, so "
                       f"their numbers differ from these after about 7 digits; run with --dtype {other} for theirs"}


def by_value_warning(positions: tuple) -> dict:
    """The ``"warnings"`` entry (kind ``by_value``) of a graph built at the given values: the expression reads them
    (an if / while test, a mask, a loop's condition, an integer), so the result holds for them only. One line of at
    most 160 characters; ``"position"`` (the caret) is the first place it reads them."""
    more = len(positions) - 1
    elsewhere = f" and at {more} more place{'s' if more > 1 else ''}" if more else ""
    return {"kind": "by_value", "in": "value", "op": "input", "position": positions[0],
            "message": f"the result holds at these values only: the expression reads them here{elsewhere}; other "
                       f"values may take another branch or select other elements"}


def lone_v(v, graph):
    """One output's ``--v``: ``None`` or its one VALUE (given more than once is refused), with
    ``OUT=`` dropped when OUT is the output's name (the form several outputs take: ``y=ones``)."""
    if isinstance(v, (list, tuple)):
        if len(v) > 1:
            raise JacUsageError("--v is given more than once, but the expression has one output")
        v = v[0] if v else None
    if isinstance(v, str):
        name, sep, rest = v.partition("=")
        if sep and name.strip().isidentifier() and not rest.startswith("="):
            if name.strip() != output_name(graph):  # read as a VALUE it was an assignment, its value taken
                raise JacUsageError(f"--v {v}: the output is named {output_name(graph)}, not {name.strip()}; "
                                    f"give --v VALUE, or --v {output_name(graph)}=VALUE")
            return rest
    return v


def _output(problem: api.Problem) -> dict:
    shape = tuple(problem.graph.output_shape)
    return {"shape": list(shape), "kind": kind(shape), "value": problem.output,
            "name": output_name(problem.graph)}


def jacobian_block(j, layout: str = "array", of: str = "y", values: str = "dense", budget=None) -> dict:
    """One Jacobian's entry of ``"jacobian"``. ``values``: ``"dense"`` adds ``"value"``;
    ``"coo"`` adds ``"coo"`` for a structured Jacobian (``"value"`` for a dense one);
    ``"none"`` adds neither for a structured one (the renderer asks the Jacobian itself)."""
    block = {"shape": list(j.layout_shape(layout)), "math_shape": list(j.math_shape), "layout": layout,
             "structure": j.structure, "nnz": j.nnz, "cell": j.cell, "legend": j.legend(layout, of)}
    if j.structure == "dense" or values == "dense":
        block["value"] = api.dense(j, layout, budget)
    elif values == "coo":
        indices, stored = j.coo(layout)
        block["coo"] = {"indices": indices, "values": stored}
    return block


def eval_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, layout="array", symbolic: bool = False,
                mode="auto", max_memory=None, values="dense", on_plan=None, batch=None,
                timeout: float | None = None, out: str | None = None, explain: bool = False,
                strict: bool = False) -> EvalResult:
    """The eval report. ``on_plan(plan)`` is called once the plan is made, before it runs
    (``--explain``); a plan that does not fit the budget is refused after that call.
    ``batch``: the ``--batch`` specs (``["x", "W:1"]``). ``--symbolic`` formulas are stopped
    after ``timeout`` seconds (None: no limit).

    ``out``: the ``--out`` file. When it is a ``.npy`` and the Jacobian (one input) does not
    fit the budget, it is streamed there pass by pass (:func:`stream_report`) instead of refused.
    ``explain``: the plan also says whether repeated calls would run a kernel (``Plan.kernel``).
    ``strict``: a streamed Jacobian or its value holding NaN or infinities is refused (:func:`refuse_nonfinite`)
    before the file is moved into place; other reports are refused by the caller, before it writes them."""
    _cli_options(dtype, seed)
    budget = memory.budget(max_memory)
    problem, found, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES), budget)
    drawn = _drawn(bindings, problem, found, split)
    if _general(problem, found):
        if symbolic:
            raise JacUsageError("--symbolic shows one output without a batch")
        return _shown(drawn, _eval_general(expr, problem, found, split, layout, mode, budget, values, on_plan))
    plan = api.plan_of(problem, mode, budget)
    if plan.refusal and _streamable(out, problem, layout):
        del plan  # the refused plan and its pattern are not kept beside the stream's passes (session 57)
        return _shown(drawn, stream_report(expr, problem, out, layout, mode, budget, on_plan, strict))
    if explain:
        plan = problem.compiled.explained(problem, plan)
    if on_plan is not None:
        on_plan(plan)
    jacobians = api.jacobians(problem, plan)
    report = _header("eval", expr, problem.graph, problem.wrt, problem.values)
    report["output"] = _output(problem)
    of = report["output"]["name"]
    if values == "dense":  # every dense array beside the Jacobians and the values, before the first is made
        api.dense_fits(jacobians.values(), budget, plan.values_bytes)
    report["jacobian"] = {name: jacobian_block(j, layout, of, values, budget) for name, j in jacobians.items()}
    _warn(report, finite.warnings(problem, [(f"∂{of}/∂{name}", name, j) for name, j in jacobians.items()]))
    _conditioning(report, problem, None, lambda o, p: [("value", None)] + [(f"∂{of}/∂{n}", n) for n in jacobians])
    _unused(report, problem.graph)
    formulas = None
    if symbolic:
        from . import bounded
        from ..ir.work import alarm

        limit = alarm()  # under a --timeout for the whole command (cli.commands.whole_command): what is left of it
        seconds = timeout if limit is None else max(min(timeout or math.inf, limit.left()), 1e-6)
        y, per_input, texts, notes = bounded.call(lambda: _formulas(problem, layout, jacobians), seconds,
                                                  "--symbolic", "leave --symbolic out for the numbers alone",
                                                  limit=None if limit is None else limit.given)
        formulas = _add_formulas(report, y, per_input, texts, notes)
    return _shown(drawn, EvalResult(report, jacobians, plan, budget, formulas))


def _formulas(problem, layout: str, jacobians: dict) -> tuple:
    """The SymPy formulas of the output and of each (small) Jacobian, with their text and LaTeX, and the
    notes of those that do not hold beyond or at these values (:func:`symbolic.formula_notes`)."""
    from . import symbolic

    y, formulas = symbolic.eval_formulas(problem.graph, problem.wrt, layout)
    texts = {name: (symbolic.text(f), symbolic.latex(f)) for name, f in [("", y), *formulas.items()]
             if f is not None and not isinstance(f, str)}
    shown = {"": y, **{name: f for name, f in formulas.items() if not isinstance(f, str)}}
    numbers = {name: jacobians[name].to_array(layout) for name in shown if name}
    numbers[""] = problem.output
    notes = symbolic.formula_notes(problem.graph, problem.env, numbers, shown)
    return y, formulas, texts, notes


def _add_formulas(report: dict, y, formulas: dict, texts: dict, notes: dict) -> dict:
    """``--symbolic``: the formula of the output and of each (small) Jacobian beside the
    numbers, with a note where it holds for the branch these values take only, or not at
    these values; returns the SymPy expressions."""
    if y is not None:
        report["output"].update(expr=texts[""][0], latex=texts[""][1])
        if "" in notes:
            report["output"]["note"] = notes[""]
    for name, f in formulas.items():
        block = report["jacobian"][name]
        if isinstance(f, str):
            block.update(expr=None, latex=None, note=f"no formula: {f}")
        else:
            block.update(expr=texts[name][0], latex=texts[name][1])
            if name in notes:
                block["note"] = notes[name]
    return {"output": y, **formulas}


SPARSE_KEYS = ("format", "shape", "row", "col", "data")  # SciPy's COO members (scipy.sparse.save_npz)


def save_jacobians(path: str, jacobians: dict, layout: str = "array", budget=None) -> str:
    """``--out``: the dense arrays by input name (``.npy``, ``.npz``, ``.json``), whatever the number of
    inputs: ``np.load("J.npz")["x"]``. A ``.npz`` of one structured Jacobian is also a SciPy sparse matrix
    (COO) of dvec(y)/dvec(x) (``scipy.sparse.load_npz``, which reads its own members only): its dense array
    is left out only where it would pass the budget (a million-element diagonal) or where the input's name
    is one of SciPy's members. Returns what was written, in words (see :func:`save_arrays`)."""
    from ..lang.fileio import save_sparse

    blocks = list(jacobians.values())
    if path.lower().endswith(".npz") and len(blocks) == 1 and blocks[0].structure != "dense":
        (name, j), = jacobians.items()
        rows, cols, values, shape = j.matrix()
        over = budget is not None and j.dense_nbytes > budget
        arrays = {} if over or name in SPARSE_KEYS else {name: api.dense(j, layout, budget)}
        save_sparse(path, rows, cols, values, shape, also=arrays)
        said = (f"the Jacobian by {name} as a SciPy sparse matrix of dvec(y)/dvec(x), shape {fmt(tuple(shape))}, "
                f"{len(values):,} stored entries")
        if arrays:
            return f"{said}, and as the array {name}, shape {fmt(np.shape(arrays[name]))}, {layout} layout"
        why = (f"its {j.dense_nbytes:,} bytes pass the memory budget" if over
               else f"'{name}' is a member of SciPy's format")
        return f"{said} only (no dense array {name}: {why})"
    return _saved(path, {name: api.dense(j, layout, budget) for name, j in jacobians.items()}, layout)


def save_arrays(path: str, report, layout: str = "array") -> str:
    """``--out`` for every eval report: the Jacobians of one output (see :func:`save_jacobians`),
    else one array per block named ``OUT,IN`` (several outputs) or ``IN`` (a batch of one output:
    ``(B, *y, *x)``). Returns what was written, in words: ``jac eval`` says it on standard error."""
    if report.arrays is not None:
        return _saved(path, {(name if o is None else f"{o},{name}"): a for (o, name), a in report.arrays.items()},
                      layout)
    if "jacobian" in report:
        return save_jacobians(path, report.jacobians, layout, report.budget)
    return _saved(path, {f"{o},{name}": api.dense(j, layout, report.budget)
                         for o, js in report.by_output.items() for name, j in js.items()}, layout)


def _saved(path: str, arrays: dict, layout: str) -> str:
    from ..lang.fileio import save_array

    save_array(path, arrays)
    if len(arrays) == 1:
        ((key, a),) = arrays.items()
        return f"the Jacobian by {key}, shape {fmt(np.shape(a))}, {layout} layout"
    shapes = ", ".join(f"{key} {fmt(np.shape(a))}" for key, a in arrays.items())
    return f"{len(arrays)} Jacobians, by key: {shapes}; {layout} layout"


def _streamable(out: str | None, problem: api.Problem, layout: str) -> bool:
    """Can the Jacobian go to ``out`` pass by pass: a ``.npy`` file, one input, and a layout
    whose rows are the output's elements (the array layout, or a numerator layout that is the same)?"""
    if not out or not out.lower().endswith(".npy") or len(problem.wrt) != 1:
        return False
    if layout == "array":
        return True
    g = problem.graph
    j = Jacobian(problem.wrt[0], tuple(g.output_shape), tuple(g.nodes[g.inputs[problem.wrt[0]]].shape), None, g.dtype)
    return tuple(j.layout_shape(layout)) == tuple(j.layout_shape("array"))


def stream_report(expr: str, problem: api.Problem, out: str, layout: str, mode: str, budget: int,
                  on_plan=None, strict: bool = False) -> EvalResult:
    """``jac eval --out FILE.npy`` for a Jacobian larger than the budget: planned with only the
    values and one pass in memory, each pass's part written to the file as it is computed
    (atomically: the file appears whole or not at all), and scanned for NaN and infinities on
    the way. The block names the file instead of holding the value. ``strict``: a NaN or an
    infinity in the value or the Jacobian is refused and the file is left as it was."""
    from ..lang.fileio import NpyStream

    g = problem.graph
    problem.compiled.forget_plan(problem, mode)  # its pattern would stay beside the passes, uncounted
    plan = planner.make_plan(g, problem.values, problem.wrt, mode, budget, stream=True)
    if on_plan is not None:
        on_plan(plan)
    planner.check(plan)
    (name,) = problem.wrt
    j = Jacobian(name, tuple(g.output_shape), tuple(g.nodes[g.inputs[name]].shape), None, g.dtype)
    report = _header("eval", expr, g, problem.wrt, problem.values)
    report["output"] = _output(problem)
    of = report["output"]["name"]
    found = _value_warnings(problem)
    if strict:  # before any pass: the value is known
        refuse_nonfinite([w.as_dict() for w in found], expr)
    with NpyStream(out, j.layout_shape(layout), g.dtype, rows=int(np.prod(j.y_shape, dtype=np.int64))) as written:
        scanned = _Scanned(written)
        planner.stream(plan, g, problem.values, scanned)
        if scanned.column is not None:
            found += [finite._with_kinds(w, scanned.kinds()) for w in
                      finite.derivative_warnings(g, problem.values, f"∂{of}/∂{name}", name, scanned.column)]
        found = found[:finite.MAX_WARNINGS]
        if strict:  # inside the block: the refusal removes the temporary file, the old one stays
            refuse_nonfinite([w.as_dict() for w in found], expr)
    block = {"shape": list(j.layout_shape(layout)), "math_shape": list(j.math_shape), "layout": layout,
             "structure": "dense", "cell": j.cell, "legend": j.legend(layout, of),
             "file": {"path": out, "bytes": written.nbytes}}
    report["jacobian"] = {name: block}
    _warn(report, found)
    _conditioning(report, problem, None, lambda o, p: [("value", None), (f"∂{of}/∂{name}", name)])
    return EvalResult(report, {}, plan, budget, None, streamed=out)


class _Scanned:
    """A :class:`~jacobi_cli.lang.fileio.NpyStream` whose blocks are scanned for NaN and
    infinities as they pass (the Jacobian is never whole in memory): ``column``, the first
    input element whose column holds one (None: none yet), as ``finite.jacobian_warnings``
    finds it in a whole Jacobian."""

    def __init__(self, stream):
        self.stream, self.column, self.seen = stream, None, set()

    def write_rows(self, first: int, block) -> None:  # rows of (y.size, x.size)
        self._scan(block, 0)
        self.stream.write_rows(first, block)

    def write_columns(self, first: int, block) -> None:  # (y.size, k): columns first, ...
        self._scan(block, first)
        self.stream.write_columns(first, block)

    def _scan(self, block, first: int) -> None:
        if finite.all_finite(block):
            return
        bad = ~np.isfinite(block)
        column = first + int(np.argmax(bad.any(axis=0)))
        self.column = column if self.column is None else min(self.column, column)
        self.seen.update(float(v) for v in (np.nan, np.inf, -np.inf) if _holds(block, v))

    def kinds(self) -> np.ndarray:
        """One number of each kind seen (NaN, inf, -inf), for the warning's words."""
        return np.array(sorted(self.seen, key=str))


def _holds(block, v: float) -> bool:
    return bool(np.isnan(block).any()) if np.isnan(v) else bool((block == v).any())


def refuse_nonfinite(warnings, expression: str | None = None) -> None:
    """``--strict``: the first NaN or infinity of a report's ``warnings`` (their dicts), as a
    JacValueError."""
    for warning in warnings or ():
        if warning["kind"] == "nonfinite":
            raise JacValueError(f"{warning['message']} (--strict: NaN and infinities are errors)",
                                warning["position"], expression)


def vjp_report(expr: str, bindings, v=None, wrt=None, dtype="float64", seed=0, batch=None,
               max_memory=None) -> Result:
    """The vjp report; ``v`` is one VALUE, or the list of ``--v`` options (``OUT=VALUE`` each
    when there are several outputs)."""
    _cli_options(dtype, seed)
    budget = memory.budget(max_memory)  # the values and the reverse pass, planned together (planner.product_plan)
    problem, found, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES),
                                   budget, ("vjp", None))
    drawn = _drawn(bindings, problem, found, split)
    if problem.compiled.made.gradient is not None and found is not None:
        raise JacUsageError("--batch with the text's y.backward(gradient=V): give each example's v with --v (its "
                            "batch axis first) and write y.backward() in the text")
    if _general(problem, found):
        return _shown(drawn, _vjp_general(expr, problem, found, split, v, budget))
    cot = api.cotangent(problem, lone_v(problem.compiled.text_v(v), problem.graph), output_name(problem.graph))
    grads = api.vjp_of(problem, cot)
    report = _header("vjp", expr, problem.graph, problem.wrt, problem.values)
    report["output"] = _output(problem)
    report["v"] = {"shape": list(cot.shape), "value": cot}
    report["vjp"] = {name: {"shape": list(g.shape), "value": g} for name, g in grads.items()}
    if finite.all_finite(cot):
        _warn(report, finite.warnings(problem, [(f"{name}.grad", name, g) for name, g in grads.items()]))
    else:  # the v given holds NaN or inf: it is why, not an op
        _warn(report, finite.value_warnings(problem.graph, problem.values)
              + [finite.given_warning(f"{name}.grad", g, "--v", cot) for name, g in grads.items()
                 if not finite.all_finite(g)])
    _conditioning(report, problem, None, lambda o, p: [("value", None)] + [(f"{n}.grad", n) for n in grads],
                  {None: cot} if finite.all_finite(cot) else None)
    return _shown(drawn, Result(report))


def jvp_report(expr: str, bindings, tangents: dict, wrt=None, dtype="float64", seed=0, batch=None,
               max_memory=None) -> Result:
    _cli_options(dtype, seed)
    budget = memory.budget(max_memory)  # the values and the forward pass, planned together (planner.product_plan)
    problem, found, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES),
                                   budget, ("jvp", tuple(tangents or ())))
    drawn = _drawn(bindings, problem, found, split)
    if _general(problem, found):
        return _shown(drawn, _jvp_general(expr, problem, found, split, tangents, budget))
    checked = api.tangents_of(problem, tangents)
    out = api.jvp_of(problem, checked)
    report = _header("jvp", expr, problem.graph, problem.wrt, problem.values)
    report["output"] = _output(problem)
    report["tangent"] = {name: {"shape": list(t.shape), "value": t} for name, t in checked.items()}
    report["jvp"] = {"shape": list(out.shape), "value": out}
    _warn(report, finite.jvp_warnings(problem, checked, out))
    _conditioning(report, problem, None, lambda o, p: [("value", None), ("jvp", tuple(checked))])
    return _shown(drawn, Result(report))


def hessian_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, max_memory=None, on_plan=None,
                   batch=None, few_blocks=False) -> HessianResult:
    """The hessian report. ``on_plan(plan)`` is called once the plan is made, before it runs
    (``--explain``); a plan that does not fit the budget is refused after that call. ``few_blocks``
    (the text output, which a person reads): the default ``wrt`` is refused past :data:`HESSIAN_BLOCKS`."""
    _cli_options(dtype, seed)
    budget = memory.budget(max_memory)
    if batch is None:
        _blocks_before_draw(expr, bindings, wrt, dtype, seed, budget, few_blocks, on_plan)
    problem, found, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES), budget)
    if wrt is None and few_blocks:
        _few_enough_blocks(problem)
    drawn = _drawn(bindings, problem, found, split)
    if _general(problem, found):
        return _shown(drawn, _hessian_general(expr, problem, found, split, budget, on_plan))
    plan = api.hessian_plan_of(problem, budget)
    if on_plan is not None:
        on_plan(plan)
    blocks = api.hessians(problem, plan)
    report = _header("hessian", expr, problem.graph, problem.wrt, problem.values)
    report["output"] = _output(problem)
    y_shape = tuple(problem.graph.output_shape)
    report["hessian"] = {f"{a},{b}": _hessian_block(h, y_shape, problem.env[a].shape, problem.env[b].shape, a, b,
                                                    report["output"]["name"]) for (a, b), h in blocks.items()}
    _warn(report, finite.hessian_warnings(problem, blocks, report["output"]["name"]))
    _conditioning(report, problem, None, lambda o, p: [("value", None), (f"∂²{report['output']['name']}", "*")],
                  order=2)
    return _shown(drawn, HessianResult(report, plan))


# Drawn inputs of at least this many bytes take long enough to draw (~0.1 s per 100 MB) that the Hessian's blocks
# are checked from the shapes first, by a shapes-only parse: `jac hessian 'sum(x)' x:100000000` is refused at
# once, not after 10 s of drawing and evaluating (session 36). Below it, the second parse would cost more.
DRAWN_FIRST_CHECKED = 64 * 2**20


def _blocks_before_draw(expr: str, bindings, wrt, dtype, seed, budget: int, few_blocks: bool, on_plan=None) -> None:
    """Refuse, before any ``NAME:SHAPE`` input is drawn, a Hessian whose blocks and inputs alone pass
    ``budget`` (``planner.hessian_plan`` from the shapes of a shapes-only parse, the inputs' bytes a lower
    bound of the values the later check counts, so nothing it answers is refused here). Only when every
    binding is drawn and they hold :data:`DRAWN_FIRST_CHECKED` bytes; anything unusual (a binding or
    expression error, several outputs, a graph read off the values, a default --wrt the text output
    refuses for its blocks' count) is left to the usual path, which says it in its own words. ``on_plan``
    (``--explain``) is shown the refused plan first, as the usual path shows it."""
    from ..lang.bindings import check_seed, resolve_dtype

    if not isinstance(bindings, (list, tuple)) or not bindings or len(drawn_names(bindings)) != len(bindings):
        return
    try:
        dtype = resolve_dtype(dtype)
        limit = min(budget, DEFAULT_MAX_BYTES)
        bound = parse_bindings(list(bindings), dtype, check_seed(seed), max_bytes=limit, symbolic=False)
        itemsize = np.dtype(dtype).itemsize
        if sum(math.prod(s) for s in bound.shapes.values()) * itemsize < DRAWN_FIRST_CHECKED:
            return
        graph = parse(expr, dict(bound.shapes), dtype, max_bytes=limit, shapes_only=True)
        if graph.several or graph.by_value or (wrt is None and few_blocks and len(graph.inputs) ** 2 > HESSIAN_BLOCKS):
            return
        names = api.check_wrt(wrt, graph.inputs)
    except Exception:  # noqa: BLE001 - the usual path below raises its own error for it
        return
    shapes = {n: tuple(graph.nodes[graph.inputs[n]].shape) for n in names}
    inputs = sum(math.prod(graph.nodes[i].shape) for i in graph.inputs.values()) * itemsize
    plan = planner.hessian_plan(shapes, dtype, inputs, budget, limit, tuple(graph.output_shape))
    if plan.refusal:
        if on_plan is not None:
            on_plan(plan)
        raise JacLimitError(plan.refusal)


# Blocks of `jac hessian` printed as text without --wrt: past this, the default (every input, a model's parameters
# included) is refused, naming --wrt and --json. 40 Linear layers make 81 inputs, 6,561 blocks: 62,000 printed lines
# that no one reads, where the user most often wanted the blocks of one or two inputs. Named inputs are never
# refused, nor --json (a script's data: every block, as torch.autograd.functional.hessian of every input gives).
HESSIAN_BLOCKS = 1024


def _few_enough_blocks(problem) -> None:
    """Refuse a default --wrt whose blocks (one per pair of inputs, per output) pass :data:`HESSIAN_BLOCKS`."""
    n, outputs = len(problem.wrt), len(problem.graph.outputs) if problem.graph.several else 1
    if n * n * outputs <= HESSIAN_BLOCKS:
        return
    made = sum(name in problem.compiled.declared for name in problem.wrt)
    which = f" ({made:,} of them parameters the text makes)" if made else ""
    per = f" for each of the {outputs} outputs" if outputs > 1 else ""
    given = [name for name in problem.wrt if name not in problem.compiled.declared] or list(problem.wrt)
    raise JacLimitError(
        f"{n:,} inputs{which} make {n * n * outputs:,} Hessian blocks (one per pair of inputs{per}), more than "
        f"the {HESSIAN_BLOCKS:,} jac hessian prints without --wrt: name the inputs you want, "
        f"e.g. --wrt {given[0]} (each --wrt adds one; named inputs are not limited), or ask for --json (every block)")


def _warn(report: dict, found: list) -> None:
    """``"warnings"``: where NaN or infinities first appeared; the key is there only when
    there is one, so a clean report keeps exactly the contract's keys."""
    if found:
        report.setdefault("warnings", []).extend(w.as_dict() for w in found)


def _conditioning(report: dict, problem, batch, results, probes=None, order: int = 1, watch=None,
                  split=None) -> None:
    """``"warnings"`` of kind ``conditioning`` (:mod:`jacobi_cli.engine.conditioning`): per output, the results
    ``results(o, p)`` gives (``[(where, input name or None for the value or "*" for every input)]``) whose
    estimated relative error passes √eps, weighed by what the output reads (``probes``: its cotangent by output,
    the ``--v`` given, with the batch axis under ``--batch``; else a seeded random one). Under ``--batch``,
    ``watch`` (a :class:`conditioning.Watch` the examples filled) finds the examples whose values alone pass, and
    only those are computed again and weighed, one warning per op naming them."""
    if batch:
        if watch:
            _batch_conditioning(report, problem, batch, split, watch, results, probes, order)
        return
    found = []
    for o, p in api.output_problems(problem):
        probe = None if probes is None else probes.get(o)
        found += conditioning.estimates(p, results(o, p), probe, order)
    _warn(report, found[:conditioning.MAX_WARNINGS])


def _batch_conditioning(report: dict, problem, batch, split, watch, results, probes, order: int) -> None:
    found = {}
    for b in watch.flagged():
        example = api.example(problem, batch, split, b)
        for o, p in api.output_problems(example):
            probe = None if probes is None or o not in probes else np.asarray(probes[o])[b]
            found.setdefault(b, []).extend(conditioning.estimates(p, results(o, p), probe, order))
    warned = conditioning.in_examples(found, batch.size)[:conditioning.MAX_WARNINGS]
    if warned:
        report.setdefault("warnings", []).extend(warned)


def _unused(report: dict, graph) -> None:
    """A ``"warnings"`` entry (kind ``unused``) per input that no output depends on: its Jacobian is
    all zeros because the expression never reads it (a misspelt name, a leftover binding)."""
    needed = graph.needed()
    for name, i in graph.inputs.items():
        if not needed[i]:
            grad = report.get("inputs", {}).get(name, {}).get("requires_grad", graph.nodes[i].requires_grad)
            zeros = ": its derivatives are zero" if grad else \
                " (nor in --wrt: no derivatives are taken)"
            read = " (or only as an index, read at its values)" if graph.by_value else ""  # logp[range(n), labels]
            report.setdefault("warnings", []).append(
                {"kind": "unused", "in": name, "op": "input", "position": None,
                 "message": f"the input '{name}' is not used by the expression{read}{zeros}"})


def _hessian_legend(a: str, b: str, a_shape, b_shape, of: str = "y", y_shape=()) -> str:
    letters = "ijklmnpqrstuvw"
    yi = letters[:len(y_shape)]
    ai = letters[len(yi):len(yi) + len(a_shape)]
    bi = letters[len(yi) + len(a_shape):len(yi) + len(a_shape) + len(b_shape)]
    da = f"∂{a}[{', '.join(ai)}]" if ai else f"∂{a}"
    db = f"∂{b}[{', '.join(bi)}]" if bi else f"∂{b}"
    y = f"{of}[{', '.join(yi)}]" if yi else of
    idx = ", ".join(yi + ai + bi)
    return f"H[{idx}] = ∂²{y} / {da} {db}" if idx else f"H = ∂²{y} / {da} {db}"


def shape_report(expr: str, bindings, wrt=None, batch=None, max_memory=None, dtype="float64", seed: int = 0) -> Result:
    """Shapes only: no values are computed (``NAME:SHAPE`` sizes may be symbolic). With
    ``batch`` the shapes are one example's; several outputs give ``"outputs"`` and
    ``"derivatives"`` ``{OUT: {IN: ...}}``. ``max_memory`` caps the arrays it does make:
    bound values and constants. ``dtype``/``seed`` as every command's (the values a binding makes are
    converted to ``dtype``, drawn with ``seed``); shapes do not depend on them."""
    _cli_options(dtype, seed)
    from ..lang.bindings import check_seed, resolve_dtype

    limit = DEFAULT_MAX_BYTES if max_memory is None else min(memory.budget(max_memory), DEFAULT_MAX_BYTES)
    bound = parse_bindings(list(bindings or []), resolve_dtype(dtype), check_seed(seed), max_bytes=limit,
                           symbolic=True)
    shapes, found = dict(bound.shapes), None
    if batch:
        found = _counted(batching.batch_of(shapes, batching.parse_specs(batch), expr))
        shapes = {n: tuple(d for i, d in enumerate(s) if n not in found.axes or i != found.axes[n])
                  for n, s in shapes.items()}
    graph = parse(expr, shapes, max_bytes=limit, shapes_only=True)
    names = api.check_wrt(wrt, graph.inputs)
    report = _header("shape", expr, graph, names)
    graphs = graph.output_graphs() if graph.several else [(output_name(graph), graph)]
    outputs, derivatives = [], {}
    # every input's symbolic sizes: Q:nxd K:mxd gave dy/dQ the legend J[i, j, l, m], m read as K's size
    sizes = {d for i in graph.inputs.values() for d in graph.nodes[i].shape if isinstance(d, str)}
    for of, g in graphs:
        y_shape = tuple(g.output_shape)
        outputs.append({"shape": list(y_shape), "kind": kind(y_shape), "name": of})
        derivatives[of] = {}
        for name in names:
            x_shape = tuple(g.nodes[g.inputs[name]].shape)
            derivatives[of][name] = {
                "shape": list(y_shape + x_shape), "math_shape": list(math_shape(y_shape, x_shape)),
                "kind": kind(y_shape + x_shape), "cell": f"{kind(y_shape)} by {kind(x_shape)}",
                "legend": legend(name, y_shape, x_shape, of=of, avoid=sizes)}
    if graph.several:
        report["outputs"], report["derivatives"] = outputs, derivatives
    else:
        report["output"], report["derivatives"] = outputs[0], derivatives[outputs[0]["name"]]
    if found:
        report["batch"] = found.as_dict()
    return Result(report)


def diff_report(expr: str, bindings, wrt=None, at=None, order: int = 1, timeout: float | None = None,
                max_memory=None, batch=None, dtype="float64", seed: int = 0) -> DiffResult:
    """Symbolic derivatives (SymPy): a formula per input, its shape, and its value at ``--at``;
    ``order`` K > 1: the K-th derivative's formulas (concrete sizes). An expression that ends
    in a tuple gives ``"outputs"`` and ``"derivatives"`` ``{OUT: {IN: block}}``. Stopped with a
    JacLimitError after ``timeout`` seconds (None: no limit); ``max_memory`` bounds the values
    (bindings, ``--at``, constants, the point's node values), checked before they are made.
    ``batch`` (vmap): the formulas of one example, the same for every example (shapes only).
    ``dtype``/``seed`` as every command's: the values are converted to ``dtype`` (then computed in float64)."""
    _cli_options(dtype, seed)
    import time

    from . import bounded
    from ..lang.bindings import check_seed, resolve_dtype

    start = time.monotonic()
    budget = memory.budget(max_memory)  # a bad --max-memory is refused here, before any fork
    resolve_dtype(dtype), check_seed(seed)  # and a bad --dtype or --seed
    found = None
    if batch:
        bindings, found = _one_example_shapes(bindings, at, batch, min(budget, DEFAULT_MAX_BYTES), expr)
    report = bounded.call(lambda: _diff_report(expr, bindings, wrt, at, order, budget, dtype, seed), timeout,
                          "the symbolic derivative",
                          "numbers instead of formulas come fast from `jac eval` (same expression and bindings)")
    if found is not None:
        report["batch"] = found.as_dict()
    report.deadline = None if timeout is None else start + timeout  # the drawing's share (Renderer.prepare_diff)
    report.timeout = timeout
    return report


def _counted(found):
    """The batch of ``jac shape`` / ``jac diff --batch`` (shapes only): a number of examples, at least one, as
    the commands computing values require (an empty batch printed ``"size": 0``, outside the schema)."""
    if not isinstance(found.size, int):
        raise JacUsageError(f"--batch: the batch size must be a number, not '{found.size}'")
    if found.size == 0:
        raise JacShapeError(f"the batch is empty (size 0 along {', '.join(found.axes)}): there is no example to "
                            f"compute")
    return found


def _one_example_shapes(bindings, at, batch, limit: int, expr: str | None = None) -> tuple:
    """``jac diff --batch``: ``({name: ":SHAPE"} of one example, Batch)``. The formulas are the
    same for every example, so only shapes are taken: values (a binding's or ``--at``) would
    ask for per-example numbers, which ``jac eval --batch`` gives."""
    bound = parse_bindings(list(bindings or []), max_bytes=limit, symbolic=True)
    if bound.values or at:
        raise JacUsageError("jac diff --batch takes shapes (x:8x3), not values: its formulas are one example's, "
                            "the same for every example; per-example numbers come from jac eval --batch")
    found = _counted(batching.batch_of(dict(bound.shapes), batching.parse_specs(batch), expr))
    shapes = {n: tuple(d for i, d in enumerate(s) if n not in found.axes or i != found.axes[n])
              for n, s in bound.shapes.items()}
    return {n: ":" + ("x".join(map(str, s)) if s else "()") for n, s in shapes.items()}, found


def _diff_report(expr: str, bindings, wrt=None, at=None, order: int = 1, budget: int | None = None,
                 dtype="float64", seed: int = 0) -> DiffResult:
    from . import symbolic
    from ..engine.higher import check_order
    from ..lang.parser import made_outputs, split_outputs

    order = check_order(order)
    try:
        parts = split_outputs(expr)
        if parts:
            results = []
            for i, (name, text) in enumerate(parts):
                def one(text=text):
                    return symbolic.differentiate(text, bindings, wrt, at, order, budget, dtype, seed)
                try:
                    results.append((name, _in_whole(expr, text, i, one)))
                except symbolic.MadeOutputs as several:  # x, {'a': ..., 'b': ...}: y1['a'], y1['b'], as jac eval
                    made = made_outputs(text, several.names)
                    if made is None or not all(n.startswith(("y[", name + "[")) for n, _ in made):
                        raise
                    results += [(n if n.startswith(name + "[") else name + n[1:], _made_output(expr, lambda t=t: one(t)))
                                for n, t in made]
            if any(r.graph.nodes[r.graph.output].op != "const" for _, r in results):
                return _diff_several(expr, results, order)
        try:
            result = symbolic.differentiate(expr, bindings, wrt, at, order, budget, dtype, seed)
        except symbolic.MadeOutputs as several:  # a dict, a pytree, a named tuple last: each output on its own
            parts = made_outputs(expr, several.names)
            if parts is None:
                raise
            results = [(name, _made_output(expr, lambda: symbolic.differentiate(text, bindings, wrt, at, order,
                                                                                 budget, dtype, seed)))
                       for name, text in parts]
            return _diff_several(expr, results, order)
    except JacError as err:  # the caret goes under the expression as given (a syntax error included)
        raise err.with_source(expr)
    report = _header("diff", expr, result.graph, result.wrt)
    of = output_name(result.graph)
    report["output"] = _diff_output(result, of)
    if result.point is not None:
        report["at"] = {name: result.point[name] for name in result.graph.inputs}
    y_shape = tuple(result.graph.output_shape)
    report["derivative"] = {name: _derivative_block(d, y_shape, of, order) for name, d in result.derivatives.items()}
    if order > 1:
        report["order"] = order
    _unused(report, result.graph)  # as jac eval: a leftover or misspelt binding is named
    return DiffResult(report, {"output": result.output, **{name: d.expr for name, d in result.derivatives.items()}})


def _made_output(expr: str, differentiate: Callable):
    """``differentiate()`` of one output that the last statement makes with others (:func:`made_outputs`' text); an
    error found there (the whole text parsed already: SymPy's, a limit) is the whole expression's, without a column."""
    try:
        return differentiate()
    except JacError as err:
        err.source, err.position = expr, None
        raise


def _in_whole(expr: str, text: str, index: int, differentiate: Callable):
    """``differentiate()`` of output ``index``'s own expression ``text`` (the statements before the final
    tuple, then its element), an error's column moved back into ``expr``, where the user typed it."""
    try:
        return differentiate()
    except JacError as err:
        if err.source in (None, text) and err.position is not None:
            from ..lang.parser import output_starts

            starts = output_starts(expr)
            if err.position >= starts[0]:  # in the element, not in the statements before the tuple
                err.position += starts[index + 1] - starts[0]
            err.source = expr
        raise


def _diff_output(result, of: str) -> dict:
    from . import symbolic

    y_shape = tuple(result.graph.output_shape)
    out = {"shape": list(y_shape), "kind": kind(y_shape), "name": of,
           "expr": symbolic.text(result.output), "latex": symbolic.latex(result.output)}
    if result.output_value is not None:
        out["value"] = result.output_value
    return out


def _diff_several(expr: str, results: list, order: int) -> DiffResult:
    """``jac diff`` of each output of a final tuple (each differentiated on its own)."""
    first = results[0][1]
    report = _header("diff", expr, first.graph, first.wrt)
    for _, r in results[1:]:  # an input that only a later output reads
        extra = _header("diff", expr, r.graph, r.wrt)["inputs"]
        for name, info in extra.items():
            report["inputs"].setdefault(name, info)
    report["outputs"] = [_diff_output(r, name) for name, r in results]
    report["derivatives"] = {name: {n: _derivative_block(d, tuple(r.graph.output_shape), name, order)
                                    for n, d in r.derivatives.items()} for name, r in results}
    points = [r.point for _, r in results if r.point is not None]
    if points:
        report["at"] = {k: v for p in points for k, v in p.items()}
    if order > 1:
        report["order"] = order
    used = set()  # the inputs some output reads (one sweep of each graph, not one per input)
    for _, r in results:
        needed = r.graph.needed()
        used.update(n for n, i in r.graph.inputs.items() if needed[i])
    for _, r in results:
        _unused(report, r.graph)
    if "warnings" in report:  # an input no output reads, named once
        kept, named = [], set()
        for w in report["warnings"]:
            if w["in"] not in used and w["in"] not in named:
                named.add(w["in"])
                kept.append(w)
        if kept:
            report["warnings"] = kept
        else:
            del report["warnings"]
    return DiffResult(report, {}, {name: (r.output, {n: d.expr for n, d in r.derivatives.items()})
                                   for name, r in results})


def _derivative_block(d, y_shape, of: str, order: int = 1) -> dict:
    from . import symbolic

    x_shape = tuple(d.shape[len(y_shape):len(y_shape) + (len(d.shape) - len(y_shape)) // order])
    block = {"expr": symbolic.text(d.expr), "latex": symbolic.latex(d.expr), "shape": list(d.shape),
             "math_shape": list(d.math_shape), "form": d.form, "cell": f"{kind(y_shape)} by {kind(x_shape)}",
             "legend": legend(d.name, y_shape, x_shape, of=of) if order == 1 else
             _derivative_legend(d.name, y_shape, x_shape, order, of)}
    if order > 1:
        block["order"] = order
    if d.form == "components":
        block["entries"] = symbolic.entries(d.expr)
    if d.where:
        block["where"] = list(d.where)
    if getattr(d, "differential", None) is not None:
        block["differential"] = symbolic.text(d.differential)
    if d.value is not None:
        block["value"] = d.value
    if d.note:
        block["note"] = d.note
        block["sizes"] = d.sizes
    return block


# --- the teaching and debugging views: check, graph, plot ------------------------------------

def check_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, method="central",
                 rtol=None, atol=None, limit=False, batch=None, max_memory=None) -> CheckResult:
    """Automatic derivatives (reverse and forward) against finite differences."""
    _cli_options(dtype, seed)
    rtol, atol = _tolerance("--rtol", rtol), _tolerance("--atol", atol)
    from . import check

    budget = memory.budget(max_memory)
    problem, found, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES), budget)
    drawn = _drawn(bindings, problem, found, split)
    default_rtol, default_atol = check.default_tolerances(problem.graph.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    check.refuse_long(problem, method, found.size if found else 1,
                      len(problem.graph.outputs) if problem.graph.several else 1)
    if _general(problem, found):
        if limit:
            raise JacUsageError("--limit is for a scalar function of a scalar: one output, no batch")
        return _shown(drawn, _check_general(expr, problem, found, split, method, rtol, atol, budget))
    results = check.check(problem, method, rtol, atol, budget)
    report = _header("check", expr, problem.graph, problem.wrt, problem.values)
    report["output"] = _output(problem)
    for name, info in report["inputs"].items():
        info.update(_check_entry(results.get(name)))
        if results.get(name) is not None and not results[name].passed:
            info.update(_detached(problem.graph, name))
    report.update({"method": method, "dtype": np.dtype(problem.graph.dtype).name, "rtol": rtol, "atol": atol,
                   "passed": all(r.passed for r in results.values())})
    _compared(report, problem)
    if limit:
        name = check.scalar_input(problem, "--limit")
        derivative = float(np.reshape(autodiff.jacrev(problem.graph, problem.values)[name], -1)[0])
        report["limit"] = [{"h": h, "quotient": float(np.reshape(q, -1)[0]),
                            "error": float(np.reshape(q, -1)[0]) - derivative} for h, q in check.limit(problem)]
        report["derivative"] = derivative
        return _shown(drawn, CheckResult(report, (name, float(np.reshape(problem.env[name], -1)[0]))))
    return _shown(drawn, CheckResult(report))


def _check_general(expr, problem, batch, split, method, rtol, atol, budget=None) -> CheckResult:
    """``jac check`` of several outputs and/or a batch: every output of every example is
    checked; per input the worst result is reported (a failing one first), ``"checks"`` holds
    them per output, and ``"batch"`` names the examples that failed."""
    from . import check

    stack = batching.Stacked(batch.size if batch else None)
    worst: dict = {}
    compared: dict = {}  # (output, input) -> entries compared over the examples
    failed = []
    for b, example in enumerate(api.each_example(problem, batch, split)):
        ok = True
        for o, p in api.output_problems(example):
            stack.put((o,), b, p.output)
            for name, result in check.check(p, method, rtol, atol, budget).items():
                ok = ok and result.passed
                key = (o, name)
                compared[key] = compared.get(key, 0) + result.compared
                if key not in worst or _worse(result, worst[key]):
                    worst[key] = _placed_worst(result, b if batch else None, o if problem.graph.several else None)
        if not ok:
            failed.append(b)
    report = _header("check", expr, problem.graph, problem.wrt, None if batch else problem.values)
    by_output = {}
    outputs = [o for o, _ in api.output_problems(problem)]
    for o in outputs:
        by_output[o] = {name: _check_entry(worst.get((o, name)), compared.get((o, name)))
                        for name in problem.graph.inputs}
    for name, info in report["inputs"].items():
        results = [worst[(o, name)] for o in outputs if (o, name) in worst]
        info.update(_check_entry(max(results, key=_rank) if results else None,
                                 sum(compared.get((o, name), 0) for o in outputs)))
        if info["passed"] is False:  # why, as one output without a batch says it
            info.update(_detached(problem.graph, name))
    _placed(report, problem, stack, "_unused", "checks", by_output)
    report.pop("_unused", None)
    report.update({"method": method, "dtype": np.dtype(problem.graph.dtype).name, "rtol": rtol, "atol": atol,
                   "passed": not failed and all(r.passed for r in worst.values())})
    if batch:
        report["batch"] = {**batch.as_dict(), "failed": failed}
    _compared(report, problem)
    return CheckResult(report)


def _compared(report: dict, problem) -> None:
    """``"compared"``: the Jacobian entries the check compared, in all; where that is none though inputs were
    checked (every Jacobian empty: an empty input or output), a warning of kind ``empty`` says so, so that a
    PASS of nothing compared is never read as a derivative checked (``torch.autograd.gradcheck`` passes such a
    function silently)."""
    checked = {name: info for name, info in report["inputs"].items() if info.get("compared") is not None}
    report["compared"] = sum(info["compared"] for info in checked.values())
    if checked and not report["compared"]:
        y = report.get("output") or {"name": "the outputs", "shape": None}
        of = f"{y['name']} has shape {fmt(tuple(y['shape']))}" if y["shape"] is not None else "every output"
        shapes = ", ".join(f"{name} {fmt(tuple(info['shape']))}" for name, info in checked.items())
        report.setdefault("warnings", []).append(
            {"kind": "empty", "in": "check", "op": "input", "position": None,
             "message": f"nothing was compared: every Jacobian is empty ({of}; {shapes}), so the check passes "
                        "with no entry checked"})


def _placed_worst(result, example: int | None, output: str | None):
    """``result`` with its worst entry naming the example of the batch and the output it is of (where there are
    several); its ``failing`` count is that example's (the other examples' are not added)."""
    if result.worst is None or (example is None and output is None):
        return result
    place = {**({} if example is None else {"example": example}), **({} if output is None else {"output": output})}
    return replace(result, worst={**place, **result.worst})


def _rank(result) -> tuple:
    """Failing first, then the larger relative error (NaN counts as the largest)."""
    rel = result.max_rel_error
    return (not result.passed, np.inf if rel != rel else rel)


def _worse(a, b) -> bool:
    return _rank(a) > _rank(b)
def _detached(graph, name: str) -> dict:
    """``{"detached": [columns]}``: where the output reads input ``name`` through a detached value (``.detach()``,
    ``.item()``, ``float()``, ``torch.no_grad()``, ``jax.lax.stop_gradient``), which the automatic derivatives hold
    constant, as PyTorch's and JAX's do, and finite differences follow: the reason a check fails there, said
    (``{}`` where there is none)."""
    nodes = graph.nodes
    reads = [False] * len(nodes)
    reads[graph.inputs[name]] = True
    for n in nodes:  # topological order: a node reads the input where one of its arguments does
        if not reads[n.id] and any(reads[a] for a in n.args):
            reads[n.id] = True
    needed = graph.needed()
    detached = {n.id for n in nodes if n.op == "detach" and needed[n.id] and reads[n.args[0]]}
    # a custom rule's own detached values (its value, its residuals: the derivative is the rule's) are not the
    # text's detaching: those read only by custom ops are left out
    ruled = {i for i in detached if any(n.op.startswith("custom") and i in n.args for n in nodes)}
    for n in nodes:
        if not n.op.startswith("custom"):
            ruled.difference_update(n.args)
    found = sorted({nodes[i].position for i in detached - ruled}, key=lambda p: -1 if p is None else p)
    return {"detached": found} if found else {}


def _tolerance(option: str, value) -> float | None:
    """``--rtol`` / ``--atol`` (or a number from Python), refused in the user's own words: the command line's
    value keeps its text (``typed``, ``app._AsTyped``), so ``--rtol 1e309`` is "not '1e309'" (it was "not inf",
    a value nobody typed)."""
    if value is None:
        return None
    shown = getattr(value, "typed", value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise JacUsageError(f"{option} must be a number, not {shown!r}") from None
    if not (number >= 0 and math.isfinite(number)):
        raise JacUsageError(f"{option} must be a finite number >= 0, not {shown!r}")
    return number


def _check_entry(result, compared: int | None = None) -> dict:
    """The per-input keys of ``jac check --json`` (``None`` for an input not in --wrt); ``compared``: the
    entries compared over several outputs or examples (default: the result's own)."""
    if result is None:
        return {"max_abs_error": None, "max_rel_error": None, "passed": None}

    def side(c):
        return {"max_abs_error": c.max_abs_error, "max_rel_error": c.max_rel_error, "passed": c.passed}

    entry = {"max_abs_error": result.max_abs_error, "max_rel_error": result.max_rel_error,
             "passed": result.passed, "reverse": side(result.reverse), "forward": side(result.forward),
             "forward_vs_reverse": side(result.modes), "kinks": result.kinks, "kink_count": result.kink_count,
             "nonfinite_numeric": result.nonfinite_numeric, "nonfinite_automatic": result.nonfinite_automatic,
             "max_abs_derivative": result.scale, "compared": result.compared if compared is None else compared,
             "failing": result.failing, "worst": result.worst}
    from .check import ALLOWANCE_SHOWN
    if result.allowance.relative > ALLOWANCE_SHOWN[np.dtype(result.dtype)]:
        entry["conditioning"] = {**result.allowance.as_dict(), "needed": result.passed and not result.strict_passed}
    return entry


def graph_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, backward=False, v=None,
                 max_memory=None, batch=None) -> GraphResult:
    """The computation graph: every node the output depends on, and every input. The values
    must fit ``max_memory`` before they are computed, and with ``backward`` the gradient
    every node keeps (``retain_grad()``) too, before the backward pass. With ``batch`` (vmap)
    the graph is one example's (its shapes), the output values and gradients per example."""
    _cli_options(dtype, seed)
    budget = memory.budget(max_memory)
    problem, found, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES), budget)
    drawn = _drawn(bindings, problem, found, split)
    g = problem.graph
    size = found.size if found else 1
    # under --batch: example 0's values (kept for the report) and the previous example's while the next is made,
    # and the other examples' inputs, which the batched bindings hold (session 48: they were left out, so a batch
    # whose inputs and outputs passed --max-memory together was answered)
    values = memory.forward_bytes(g) * (2 if found else 1)
    others = (size - 1) * sum(problem.env[n].nbytes for n in found.axes if n in problem.env) if found else 0
    if backward:
        memory.require(values + others + size * _kept_gradient_bytes(g), budget,
                       "jac graph --backward (every node's value and the gradient it keeps"
                       f"{', for each of the examples, and the inputs' if found else ''})")
    elif found:
        memory.require(values + others + size * api.shapes_nbytes(problem, [p.graph.output_shape for _, p in
                                                                         api.output_problems(problem)]),
                       budget, "jac graph --batch (two examples' values, every example's input and output)")
    grads = {}
    report = _header("graph", expr, g, problem.wrt, None if found else problem.values)
    if found:
        return _shown(drawn, _graph_batch(report, problem, found, split, backward, v))
    if g.several:
        return _shown(drawn, _graph_several(report, problem, backward, v))
    report["output"] = {**_output(problem), "id": g.output}
    if backward:
        cot = api.cotangent(problem, lone_v(v, g), output_name(g))
        grads = api.node_grads(problem, cot)
        report["v"] = {"shape": list(cot.shape), "value": cot}
    elif v is not None:
        raise JacUsageError("--v is the gradient passed to backward: it needs --backward")
    return _shown(drawn, _graph_nodes(report, g, grads, backward))


def _kept_gradient_bytes(g) -> int:
    """The bytes of the gradients ``--backward`` keeps: one per node that requires grad."""
    return sum(math.prod(n.shape) for n in g.nodes if n.requires_grad) * np.dtype(g.dtype).itemsize


def _graph_several(report: dict, problem, backward: bool, v) -> GraphResult:
    """``jac graph`` of an expression that ends in a tuple: every output with its node id;
    ``--backward`` is ``torch.autograd.backward([outs], [vs])`` (``--v OUT=VALUE`` each)."""
    g = problem.graph
    units = api.output_problems(problem)
    report["outputs"] = [{**_output(p), "name": o, "id": p.graph.output} for o, p in units]
    grads = {}
    if backward:
        cot = api.output_cotangents(units, v)
        seeds = {}
        for o, p in units:
            key = p.graph.output
            seeds[key] = cot[o][None] if key not in seeds else seeds[key] + cot[o][None]
        found, kept = autodiff.vjp(g, problem.values, seeds, retain=True)
        grads = {i: np.asarray(ct[0]) for i, ct in kept.items()}
        for name in problem.wrt:
            grads.setdefault(g.inputs[name], np.asarray(found[name][0]))
        report["v"] = {o: {"shape": list(c.shape), "value": c} for o, c in cot.items()}
    elif v is not None:
        raise JacUsageError("--v is the gradient passed to backward: it needs --backward")
    return _graph_nodes(report, g, grads, backward)


def _graph_batch(report: dict, problem, batch, split, backward: bool, v) -> GraphResult:
    """``jac graph --batch``: one example's graph; each output's value, and with ``backward``
    each node's gradient, stacked over the examples, batch axis first (``--v`` carries it)."""
    g = problem.graph
    units = api.output_problems(problem)
    if v is not None and not backward:
        raise JacUsageError("--v is the gradient passed to backward: it needs --backward")
    cot = api.output_cotangents(units, v if g.several else lone_v(v, g), batch, output_name(g)) if backward else {}
    stack = batching.Stacked(batch.size)
    for b, example in enumerate(api.each_example(problem, batch, split)):
        seeds = {}
        for o, p in api.output_problems(example):
            stack.put(("value", o), b, p.output)
            if backward:
                key, vb = p.graph.output, cot[o][b][None]
                seeds[key] = vb if key not in seeds else seeds[key] + vb  # one node listed twice: they add
        if backward:
            found, kept = autodiff.vjp(example.graph, example.values, seeds, retain=True)
            for i, ct in kept.items():
                stack.put(("grad", i), b, ct[0])
            for name in problem.wrt:
                if g.inputs[name] not in kept:
                    stack.put(("grad", g.inputs[name]), b, found[name][0])
    outputs = [{**_output(p), "value": stack[("value", o)], "name": _out_name(o, p.graph), "id": p.graph.output}
               for o, p in units]
    if g.several:
        report["outputs"] = outputs
    else:
        report["output"] = outputs[0]
    if backward:
        report["v"] = _given(cot[None], True) if None in cot else {o: _given(c, True) for o, c in cot.items()}
    report["batch"] = batch.as_dict()
    grads = {key[1]: a for key, a in stack.arrays.items() if key[0] == "grad"}
    return _graph_nodes(report, g, grads, backward)


def _graph_nodes(report: dict, g, grads: dict, backward: bool) -> GraphResult:
    """``jac graph``'s result: the ``nodes`` and ``edges`` keys are made when first read
    (:class:`GraphResult`), in their place among the keys."""
    picked = graph_nodes(g)
    report["nodes"] = report["edges"] = None
    report["backward"] = bool(backward)
    return GraphResult(report, graph=g, picked=picked, grads=grads)


def _node_record(n, kind_of: str, grads: dict) -> dict:
    """The entry of ``"nodes"`` for node ``n`` (its kind given: the caller may have it already)."""
    return {"id": n.id, "op": n.op, "name": n.name, "shape": list(n.shape), "kind": kind_of,
            "leaf": n.op in LEAF_OPS, "requires_grad": n.requires_grad, "grad": grads.get(n.id)}


def _graph_records(g, picked: list, grads: dict) -> tuple:
    """``(nodes, edges)`` of ``jac graph``: one pass over the needed nodes (300,000 of them in a long sum)."""
    picked = [g.nodes[i] for i in picked]
    kinds = {s: kind(s) for s in {n.shape for n in picked}}
    nodes = [_node_record(n, kinds[n.shape], grads) for n in picked]
    # ids and arguments are ints, requires_grad a bool, names strings, by construction (Builder,
    # Graph.with_wrt); a size could be a NumPy integer, and a gradient is an array
    ready = not grads and all(type(d) is int for s in kinds for d in s)
    return JSONReady(nodes) if ready else nodes, JSONReady([a, n.id] for n in picked for a in n.args)


def graph_nodes(graph) -> list:
    """Ids of the nodes the output depends on, and of every input, in topological order."""
    needed = graph.needed()
    for i in graph.inputs.values():
        needed[i] = True
    return list(compress(range(len(needed)), needed))


def parse_range(text: str) -> tuple:
    """``--range LO:HI``: two constant expressions (``-1:3``, ``-pi:pi``), LO < HI."""
    from ..lang.parser import parse_value

    lo, sep, hi = text.partition(":")
    if not sep or not lo.strip() or not hi.strip():
        raise JacUsageError(f"--range {text or repr(text)}: expected LO:HI, e.g. --range=-1:3")
    try:
        bounds = [float(np.reshape(parse_value(part), -1)[0]) for part in (lo, hi)]
    except (JacError, IndexError):
        raise JacUsageError(f"--range {text}: LO and HI must be numbers, e.g. --range=-pi:pi") from None
    if not (np.isfinite(bounds).all() and bounds[0] < bounds[1]):
        raise JacUsageError(f"--range {text}: needs finite LO < HI")
    return tuple(bounds)


def _require_drawable(name: str, x0: float, y0: float, slope: float) -> None:
    """A tangent line needs a finite point, value and slope: refuse NaN and infinities."""
    for what, v in ((name, x0), ("the value", y0), ("the slope", slope)):
        if not np.isfinite(v):
            raise JacValueError(f"jac plot: {what} at {name} = {x0:.4g} is {v}, so there is no tangent line "
                                f"to draw; pick a point where the function and its derivative are finite")


MAX_CURVES = 100  # jac plot --batch: one curve per example, and a picture of more is no longer read


def plot_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, span=None, points=401,
                max_memory=None, batch=None) -> PlotResult:
    """A scalar function of one scalar around a point: the curve and its tangent line. The
    values (one point's at a time) must fit ``max_memory`` before they are computed. With
    ``batch`` (vmap), one curve and tangent per example: ``"point"`` and ``"tangent"`` hold
    lists, batch axis first, and the range covers every example's point."""
    _cli_options(dtype, seed)
    from . import check

    budget = memory.budget(max_memory)
    if batch:
        problem, found, split = api.prepare_batch(expr, bindings, batch, wrt, dtype, seed,
                                                  min(budget, DEFAULT_MAX_BYTES), budget=budget)
        if found.size > MAX_CURVES:
            raise JacUsageError(f"jac plot --batch draws one curve per example, at most {MAX_CURVES}; the batch has "
                                f"{found.size:,} (pick fewer examples, or use jac eval --batch for the numbers)")
        memory.require(found.size * points * 8, budget, "jac plot --batch (every example's curve)")
    else:
        problem, found, split = api.prepare(expr, bindings, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES),
                                            budget=budget), None, None
    name = check.scalar_input(problem, "jac plot", () if found is None else tuple(found.axes))
    tangents = [_tangent_at(p, name, None if found is None else b)
                for b, p in enumerate(api.each_example(problem, found, split))]
    with np.errstate(over="ignore"):
        lo, hi = span if span is not None else (min(x0 - 2 * max(1.0, abs(x0)) for _, x0, _, _ in tangents),
                                                max(x0 + 2 * max(1.0, abs(x0)) for _, x0, _, _ in tangents))
        if not np.isfinite(hi - lo):
            raise JacValueError(f"jac plot: the range around {name} = {tangents[0][1]:.4g} is too wide for floating "
                                f"point; give a narrower one with --range=LO:HI")
    xs = np.linspace(lo, hi, points)
    curves = np.array([_curve(p, name, xs) for p, _, _, _ in tangents])
    report = _header("plot", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    x0s, y0s, slopes = ([t[k] for t in tangents] for k in (1, 2, 3))
    if found is None:
        report["point"] = {"name": name, "x": x0s[0], "y": y0s[0]}
        report["tangent"] = {"slope": slopes[0], "intercept": y0s[0] - slopes[0] * x0s[0]}  # y = slope * x + intercept
    else:
        report["output"]["value"] = np.array([np.asarray(p.output) for p, _, _, _ in tangents])
        report["point"] = {"name": name, "x": x0s, "y": y0s}
        report["tangent"] = {"slope": slopes, "intercept": [y - k * x for x, y, k in zip(x0s, y0s, slopes)]}
    report["range"] = [lo, hi]
    if found is not None:
        report["batch"] = found.as_dict()
    return PlotResult(report, (xs, curves[0] if found is None else curves))


def _tangent_at(problem, name: str, b: int | None) -> tuple:
    """``(problem, x0, y0, slope)`` of one example (``b``; None without a batch), refused
    where there is no tangent line to draw."""
    x0 = float(np.reshape(problem.env[name], -1)[0])
    y0 = float(np.reshape(problem.output, -1)[0])
    slope = float(np.reshape(autodiff.jacrev(problem.graph, problem.values)[name], -1)[0])
    try:
        _require_drawable(name, x0, y0, slope)
    except JacValueError as err:
        if b is not None:
            err.reword(f"example {b}: {err.message}")
        raise
    return problem, x0, y0, slope


def _curve(problem, name: str, xs) -> np.ndarray:
    """The output at each of ``xs`` (the other inputs held), NaN where it is not finite."""
    from . import check

    f = check.function_of(problem, name)
    shape = problem.env[name].shape
    with np.errstate(all="ignore"):
        ys = np.array([float(np.reshape(f(np.full(shape, x)), -1)[0]) for x in xs])
    ys[~np.isfinite(ys)] = np.nan  # left out of the curve (a gap), as matplotlib draws NaN
    return ys


def run_report(suite, results: list, seconds: float, jobs: int, patterns=(), shard=None) -> Result:
    """``jac run``: the summary and every selected case's expectations, in file order."""
    from .suite import exit_code

    code = exit_code(results)
    counts = {status: sum(r.status == status for r in results) for status in ("passed", "failed", "error")}
    return Result({"jac_version": JSON_VERSION, "command": "run", "suite": suite.path, "name": suite.name,
                   "passed": code == 0, "exit_code": code,
                   "summary": {"cases": len(results), "passed": counts["passed"], "failed": counts["failed"],
                               "errors": counts["error"], "in_suite": len(suite.cases), "seconds": seconds,
                               "jobs": jobs},
                   "selection": {"k": list(patterns), "shard": list(shard) if shard else None},
                   "cases": [case_entry(r) for r in results]})

def case_entry(result) -> dict:
    return {"name": result.name, "expression": result.expression, "status": result.status,
            "seconds": result.seconds,
            "expectations": [{"key": o.key, "passed": o.passed, "message": o.message,
                              "max_abs_error": o.max_abs_error, "max_rel_error": o.max_rel_error,
                              **({"output": o.output} if o.output is not None else {})}
                             for o in result.outcomes],
            "error": result.error}


# --- several outputs and batches ------------------------------------------------------------
#
# An expression that ends in a tuple has several outputs; ``--batch`` runs B examples. Both
# go through the same loop: every example (just the one without a batch), every output,
# that output's plan made once for the shapes of one example. Per-example results are
# stacked batch axis first (engine/batching.Stacked); shapes in the report describe one example.

def _cli_options(dtype, seed) -> None:
    """``--dtype`` and ``--seed`` checked in the command line's words before the API reads them (its own
    refusals say ``dtype=`` and ``seed=``, as a Python caller wrote them)."""
    from ..lang.bindings import check_seed, resolve_dtype

    resolve_dtype(dtype, "--dtype"), check_seed(seed, "--seed")


def _setup(expr: str, bindings, batch, wrt, dtype, seed, max_bytes: int = DEFAULT_MAX_BYTES,
           budget: int | None = None, product: tuple | None = None) -> tuple:
    """``(problem of example 0, Batch or None, split inputs or None)``; several outputs allowed;
    the forward values (and with ``product`` that pass) must fit ``budget`` before they are computed."""
    if batch:
        return api.prepare_batch(expr, bindings, batch, wrt, dtype, seed, max_bytes, several=True, budget=budget,
                                 product=product)
    return api.prepare(expr, bindings, wrt, dtype, seed, max_bytes, several=True, budget=budget,
                       product=product), None, None


def _batch_plan(plans: dict, batch, budget: int, problem, units, on_plan, kernel: bool = False):
    """The plans of every output over the batch, shown (``--explain``) before a refusal is raised;
    ``kernel``: the examples may run a compiled Jacobian kernel, counted when it fits."""
    plan = api.batch_jacobian_plan(plans, batch, budget, units, kernel)
    if on_plan is not None:
        on_plan(plan)
    api.refuse_unfit(plan)
    return plan


def _drawn(bindings, problem, batch=None, split=None) -> dict:
    """``{name: value}`` of the inputs bound by ``NAME:SHAPE`` (see :attr:`Result.drawn`): an input with
    a batch axis whole, as drawn (``problem`` holds its first example; ``split`` every example, the
    batch axis first, which goes back to its place)."""
    axes = batch.axes if batch is not None else {}
    drawn = _Drawn((name, np.moveaxis(split[name], 0, axes[name]) if name in axes else problem.env[name])
                   for name in drawn_names(bindings) if name in problem.env)
    made = problem.compiled.declared
    if made:  # the inputs the text makes: shown too, since the text may draw them (torch.randn)
        drawn.update(made)
        drawn.made = frozenset(made)
        drawn.random = frozenset(problem.compiled.made.random)
    if problem.compiled.made.frozen:
        drawn.frozen = dict(problem.compiled.made.frozen)
        drawn.random = frozenset(problem.compiled.made.random)
    drawn.text_gradient = problem.compiled.made.gradient is not None
    return drawn


class _Drawn(dict):
    """:func:`_drawn`'s values, with the names of those the text makes (:attr:`Result.made`) and of those
    among them that hold jac's draws (:attr:`Result.random`)."""

    made = frozenset()
    random = frozenset()
    frozen = MappingProxyType({})
    text_gradient = False


def _shown(drawn: dict, result: Result) -> Result:
    """``result`` with :attr:`Result.drawn`, :attr:`Result.made` and :attr:`Result.random` set."""
    result.drawn = drawn
    result.made = getattr(drawn, "made", frozenset())
    result.random = getattr(drawn, "random", frozenset())
    result.frozen = dict(getattr(drawn, "frozen", {}))
    result.text_gradient = getattr(drawn, "text_gradient", False)
    return result


def _general(problem, batch) -> bool:
    return batch is not None or problem.graph.several


def _out_name(name, graph) -> str:
    return output_name(graph) if name is None else name


def _given(value, per_example: bool) -> dict:
    """A ``--v`` or ``--tangent`` under the contract's keys: with a batch axis (first, where
    ``per_example``), its ``"shape"`` is one example's, as every shape under ``--batch`` is."""
    shape = np.shape(value)
    return {"shape": list(shape[1:] if per_example else shape), "value": value}


def _placed(report: dict, problem, stack, one: str, several: str, blocks: dict | None) -> None:
    """The outputs (values from ``stack[(name,)]``) and the per-output ``blocks`` under the
    contract's keys: ``"output"`` and ``one`` for a lone output, else ``"outputs"`` and
    ``several`` (``blocks`` None: the outputs alone)."""
    outputs = []
    for name, p in api.output_problems(problem):
        shape = tuple(p.graph.output_shape)
        outputs.append({"shape": list(shape), "kind": kind(shape), "value": stack[(name,)],
                        "name": _out_name(name, p.graph)})
    if not problem.graph.several:
        report["output"] = outputs[0]
        if blocks is not None:
            report[one] = blocks[None]
    else:
        report["outputs"] = outputs
        if blocks is not None:
            report[several] = blocks


def _value_warnings(problem) -> list:
    """Where NaN or infinities first appear in the value of each output."""
    found = []
    for _, p in api.output_problems(problem):
        found += finite.value_warnings(p.graph, p.values)
    return found[:finite.MAX_WARNINGS]


def _batch_warnings(report: dict, stacked: list, batch, warn_example) -> None:
    """``"warnings"`` for the first example whose results hold NaN or infinities:
    ``warn_example(b)`` gives that example's warnings, named by the example."""
    b = batching.first_nonfinite(stacked)
    if b is None:
        return
    found = [{**w.as_dict(), "message": f"example {b}: {w.message}"} for w in warn_example(b)]
    if found:
        report.setdefault("warnings", []).extend(found)


def _eval_general(expr, problem, batch, split, layout, mode, budget, values, on_plan) -> EvalResult:
    if batch and values == "coo":
        raise JacUsageError("--sparse does not combine with --batch: the per-example Jacobians are stacked dense")
    units = api.output_problems(problem)
    plans = {o: api.plan_of(p, mode, budget) for o, p in units}
    plan = _batch_plan(plans, batch, budget, problem, units, on_plan, kernel=layout == "array")
    stack, first, kernels = batching.Stacked(batch.size if batch else None), {}, {}
    watch = conditioning.Watch(problem.graph) if batch else None
    for b, example in enumerate(api.each_example(problem, batch, split, watch)):
        for o, p in api.output_problems(example):
            stack.put((o,), b, p.output)
            fast = kernels.get(o)
            found = fast(p.env) if fast is not None else None  # dense arrays from a checked kernel
            if found is None:
                found = api.jacobians(p, plans[o])
                first.setdefault(o, found)
                if batch and b == 0 and plan.kernel_bytes:
                    kernels[o] = api.example_kernel(p, plans[o], found, budget)
                found = {name: api.dense(j, layout, budget) for name, j in found.items()} if batch else found
            for name, a in found.items() if batch else ():
                stack.put((o, name), b, a)
    report = _header("eval", expr, problem.graph, problem.wrt, None if batch else problem.values)
    if values == "dense" and not batch:  # every output's dense arrays together, before the first is made
        api.dense_fits([j for found in first.values() for j in found.values()], budget,
                       max(p.values_bytes for p in plans.values()))
    blocks = {}
    for (o, p), found in zip(units, first.values()):
        of = _out_name(o, p.graph)
        blocks[o] = {name: jacobian_block(j, layout, of, "none" if batch else values, budget)
                     for name, j in found.items()}
        for name in found if batch else ():
            blocks[o][name]["value"] = stack[(o, name)]
    _placed(report, problem, stack, "jacobian", "jacobians", blocks)
    result = EvalResult(report, {} if batch or None not in first else first[None], plan, budget, None,
                        None if batch else first,
                        {(o, name): stack[(o, name)] for o in first for name in first[o]} if batch else None)
    if batch:
        report["batch"] = batch.as_dict()

        def warn_example(b):
            found = []
            for o, p in api.output_problems(api.example(problem, batch, split, b)):
                js = api.jacobians(p, plans[o])
                found += finite.warnings(p, [(f"∂{_out_name(o, p.graph)}/∂{n}", n, j) for n, j in js.items()])
            return found

        _batch_warnings(report, list(stack.arrays.values()), batch, warn_example)
        _conditioning(report, problem, batch, lambda o, p: [("value", None)] + [(f"∂{_out_name(o, p.graph)}/∂{n}", n)
                                                                               for n in problem.wrt],
                      watch=watch, split=split)
    else:
        found = []
        for (o, p), js in zip(units, first.values()):
            found += finite.warnings(p, [(f"∂{_out_name(o, p.graph)}/∂{n}", n, j) for n, j in js.items()])
        _warn(report, found[:finite.MAX_WARNINGS])
        _conditioning(report, problem, None, lambda o, p: [("value", None)] + [(f"∂{_out_name(o, p.graph)}/∂{n}", n)
                                                                              for n in problem.wrt])
    _unused(report, problem.graph)
    return result


def _vjp_general(expr, problem, batch, split, v, budget) -> Result:
    units = api.output_problems(problem)
    api.stacked_fits(problem, batch, budget, "vjp")
    cot = api.output_cotangents(units, v if problem.graph.several else lone_v(v, problem.graph), batch,
                                output_name(problem.graph))
    watch = conditioning.Watch(problem.graph) if batch else None
    stack = api.stacked_vjp(problem, batch, split, cot, watch)
    report = _header("vjp", expr, problem.graph, problem.wrt, None if batch else problem.values)
    _placed(report, problem, stack, "v", "v", None)
    if None in cot:
        report["v"] = _given(cot[None], batch is not None)
    else:
        report["v"] = {o: _given(c, batch is not None) for o, c in cot.items()}
    report["vjp"] = {name: {"shape": list(problem.env[name].shape), "value": stack[("grad", name)]}
                     for name in problem.wrt}
    if batch:
        report["batch"] = batch.as_dict()
    _warn_values(report, problem, batch, split, stack,
                 lambda b: [(f"{n}.grad", n, stack[("grad", n)] if b is None else stack[("grad", n)][b], None)
                            for n in problem.wrt])
    _conditioning(report, problem, batch, lambda o, p: [("value", None)] + [(f"{n}.grad", n) for n in problem.wrt],
                  {o: c for o, c in cot.items() if finite.all_finite(c)}, watch=watch, split=split)
    return Result(report)


def _warn_values(report: dict, problem, batch, split, stack, results=None) -> None:
    """Warnings on the value, then on the derivative results (the first example that holds NaN):
    ``results(b)`` gives ``[(where, input name or None, array, tangents or None)]`` for example
    ``b`` (``None`` without a batch); an input's name when the array's trailing axes are its
    elements, tangents for a jvp."""
    def found(b, example):
        return (_value_warnings(example) + _result_warnings(example, results(b) if results else []))[
            :finite.MAX_WARNINGS]

    if batch:
        _batch_warnings(report, list(stack.arrays.values()), batch,
                        lambda b: found(b, api.example(problem, batch, split, b)))
    else:
        _warn(report, found(None, problem))


def _result_warnings(problem, results: list) -> list:
    """Per non-finite result, the op whose derivative made it, searched in each output's graph
    (a vjp of several outputs sums theirs), else the result named alone."""
    out = []
    for where, name, array, tangents in results:
        if finite.all_finite(array):
            continue
        culprit = []
        for _, p in api.output_problems(problem):
            if tangents is not None:
                found = finite.tangent_warnings(p.graph, p.values, where, {n: np.asarray(t)[None]
                                                                           for n, t in tangents.items()})
            else:
                found = finite.jacobian_warnings(p.graph, p.values, where, name, array)
            culprit = [w for w in found if w.op]
            if culprit:
                break
        out += culprit or [finite.result_warning(where, array)]
    return out


def _jvp_general(expr, problem, batch, split, tangents: dict, budget) -> Result:
    units = api.output_problems(problem)
    api.stacked_fits(problem, batch, budget, "jvp", tuple(tangents or ()))
    ids = {o: p.graph.output for o, p in units}
    given = api.batch_tangents(problem, tangents, batch) if batch else \
        {n: (t, False) for n, t in api.tangents_of(problem, tangents).items()}
    watch = conditioning.Watch(problem.graph) if batch else None
    stack = api.stacked_jvp(problem, batch, split, given, watch)
    report = _header("jvp", expr, problem.graph, problem.wrt, None if batch else problem.values)
    report["tangent"] = {n: _given(t, per) for n, (t, per) in given.items()}
    blocks = {o: {"shape": list(problem.graph.nodes[i].shape), "value": stack[("jvp", o)]} for o, i in ids.items()}
    _placed(report, problem, stack, "jvp", "jvps", blocks)
    if batch:
        report["batch"] = batch.as_dict()
    _warn_values(report, problem, batch, split, stack,
                 lambda b: [("jvp" if o is None else f"jvp of {o}", None,
                             stack[("jvp", o)] if b is None else stack[("jvp", o)][b],
                             {n: t[b] if per else t for n, (t, per) in given.items()}) for o in ids])
    _conditioning(report, problem, batch, lambda o, p: [("value", None), ("jvp" if o is None else f"jvp of {o}",
                                                                           tuple(given))],
                  watch=watch, split=split)
    return Result(report)


def _hessian_general(expr, problem, batch, split, budget, on_plan) -> HessianResult:
    units = api.output_problems(problem)
    plans = {o: api.hessian_plan_of(p, budget) for o, p in units}
    plan = _batch_plan(plans, batch, budget, problem, units, on_plan)
    watch = conditioning.Watch(problem.graph) if batch else None
    stack = api.stacked_hessians(problem, batch, split, plans, watch)
    report = _header("hessian", expr, problem.graph, problem.wrt, None if batch else problem.values)
    blocks = {}
    for o, p in units:
        y_shape, of = tuple(p.graph.output_shape), _out_name(o, p.graph)
        blocks[o] = {f"{a},{c}": _hessian_block(stack[(o, (a, c))], y_shape, problem.env[a].shape,
                                                problem.env[c].shape, a, c, of)
                     for a in problem.wrt for c in problem.wrt}
    _placed(report, problem, stack, "hessian", "hessians", blocks)
    if batch:
        report["batch"] = batch.as_dict()
    _warn_values(report, problem, batch, split, stack,
                 lambda b: [(f"∂²{_out_name(o, p.graph)}/∂{a}∂{c}", c,
                             stack[(o, (a, c))] if b is None else stack[(o, (a, c))][b], None)
                            for o, p in units for a in problem.wrt for c in problem.wrt])
    _conditioning(report, problem, batch, lambda o, p: [("value", None), (f"∂²{_out_name(o, p.graph)}", "*")],
                  order=2, watch=watch, split=split)
    return HessianResult(report, plan)


def _hessian_block(h, y_shape, a_shape, b_shape, a, b, of) -> dict:
    """One block ``"a,b"``: ``shape`` is one example's ``y.shape + a.shape + b.shape``."""
    a_shape, b_shape, y_shape = tuple(a_shape), tuple(b_shape), tuple(y_shape)
    return {"shape": list(y_shape + a_shape + b_shape), "value": h,
            "math_shape": list(y_shape + tuple(math_shape(a_shape, b_shape))),  # = higher_math_shape(y, a, 2) at a == b
            "legend": _hessian_legend(a, b, a_shape, b_shape, of, y_shape)}


def _warn_not_sparse(report: dict, plans: dict, units: list, name: str, power: str) -> None:
    """``--sparse`` where an output is not element-wise in ``name``: its derivative has no diagonal to give
    alone, so the dense tensor is given (``"value"``, not ``"diagonal"``), said by a warning of kind ``sparse``
    rather than silently (a script reading ``"diagonal"`` would fail on it, or read a dense tensor as one)."""
    for o, p in units:
        pl = plans[o]
        if pl.structure == "diagonal" or pl.dense_result is False or math.prod(pl.x_shape) <= 1:
            continue
        y = _out_name(o, p.graph)
        report.setdefault("warnings", []).append(
            {"kind": "sparse", "in": f"∂{power}{y}/∂{name}{power}", "op": "input", "position": None,
             "message": f"--sparse: {y} is not element-wise in {name} (each output element depends on other elements "
                        f"of {name}), so its derivative has no diagonal to give alone: the dense tensor is given "
                        "(\"value\", not \"diagonal\", in --json)"})


def derivative_report(expr: str, bindings, order, wrt=None, dtype="float64", seed=0, max_memory=None,
                      sparse: bool = False, on_plan=None, batch=None) -> DerivativeResult:
    """``jac derivative``: the ``order``-th derivative with respect to one input, per output
    and per example (see :mod:`jacobi_cli.engine.higher`)."""
    _cli_options(dtype, seed)
    from ..engine import higher

    order = higher.check_order(order)
    budget = memory.budget(max_memory)
    problem, found_batch, split = _setup(expr, bindings, batch, wrt, dtype, seed, min(budget, DEFAULT_MAX_BYTES),
                                         budget)
    drawn = _drawn(bindings, problem, found_batch, split)
    name = api.derivative_input(problem)
    units = api.output_problems(problem)
    plans = {o: api.derivative_plan(p, name, order, budget, sparse) for o, p in units}
    plan = _batch_plan(plans, found_batch, budget, problem, units, on_plan)
    watch = conditioning.Watch(problem.graph) if found_batch else None
    stack = api.stacked_derivatives(problem, found_batch, split, plans, watch)
    report = _header("derivative", expr, problem.graph, problem.wrt, None if found_batch else problem.values)
    blocks = {}
    for o, p in units:
        pl = plans[o]
        block = {"order": order, "shape": list(pl.shape), "structure": pl.structure,
                 "legend": _derivative_legend(name, pl.y_shape, pl.x_shape, order, _out_name(o, p.graph))}
        block["value" if pl.dense_result else "diagonal"] = stack[(o, "d")]
        blocks[o] = {name: block}
    _placed(report, problem, stack, "derivative", "derivatives", blocks)
    report["order"] = order
    if found_batch:
        report["batch"] = found_batch.as_dict()
        _batch_warnings(report, list(stack.arrays.values()), found_batch,
                        lambda b: _order_warnings(api.example(problem, found_batch, split, b), name, order,
                                                  {o: stack[(o, "d")][b] for o, _ in units}))
    else:
        _warn(report, _order_warnings(problem, name, order, {o: stack[(o, "d")] for o, _ in units}))
    power = "" if order == 1 else "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(order))
    if sparse:
        _warn_not_sparse(report, plans, units, name, power)
    _conditioning(report, problem, found_batch,
                  lambda o, p: [("value", None), (f"∂{power}{_out_name(o, p.graph)}/∂{name}{power}", name)], order=order,
                  watch=watch, split=split)
    return _shown(drawn, DerivativeResult(report, plan))


def _order_warnings(problem, name: str, order: int, results: dict) -> list:
    """The values' warnings, then each output's ``order``-th derivative's (``results`` by output)."""
    found = _value_warnings(problem)
    for o, p in api.output_problems(problem):
        found += finite.order_warnings(p.graph, p.values, name, order, results[o], _out_name(o, p.graph))
    return found[:finite.MAX_WARNINGS]


def _derivative_legend(name, y_shape, x_shape, order, of) -> str:
    letters = iter("ijklmnpqrstuvwabcdefgh" * 4)
    yi = [next(letters) for _ in y_shape]
    xs = [[next(letters) for _ in x_shape] for _ in range(order)]
    at = (lambda idx: f"[{', '.join(idx)}]" if idx else "")
    dens = " ".join(f"∂{name}{at(x)}" for x in xs)
    power = "" if order == 1 else "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(order))
    idx = ", ".join(yi + [i for x in xs for i in x])
    return f"D{f'[{idx}]' if idx else ''} = ∂{power}{of}{at(yi)} / {dens}"

