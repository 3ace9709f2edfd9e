"""What each command reports: a typed result per command.

A :class:`Result` holds ``data``, the ``--json`` object in the contract's shape (values
still NumPy arrays until :mod:`jacobi_cli.cli.render` draws or serialises them;
``to_json()`` is what ``--json`` prints), and, as typed fields of its subclass, what drawing
it needs beyond the contract: the Jacobian objects and the plan of ``jac eval``, SymPy
formulas, the curve of ``jac plot``. Options meant for the renderer (``--latex``,
``--max-nodes``) are passed to the renderer, never stored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import api
from ..engine import autodiff, finite, memory
from ..lang.bindings import parse_bindings
from ..errors import JacError, JacUsageError
from ..ir.graph import DEFAULT_MAX_BYTES
from ..lang.parser import parse
from ..ir.shapes import kind, legend, math_shape

JSON_VERSION = 1


@dataclass
class Result:
    """One command's result: ``data`` is its ``--json`` object. Reading and writing its keys
    (``result["output"]``) goes to ``data``; what is not in the contract is a typed field."""

    data: dict

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
    plan: object = None  # the Plan it followed (--explain)
    budget: int | None = None  # --max-memory, for making a structured Jacobian dense
    formulas: dict | None = None  # --symbolic: SymPy expressions, "output" and per input
    wrote: list = field(default_factory=list)  # files written beside the report (--plot): said on stderr


@dataclass
class HessianResult(Result):
    plan: object = None  # the HessianPlan it followed (--explain)


@dataclass
class DiffResult(Result):
    formulas: dict = field(default_factory=dict)  # SymPy expressions, "output" and per input


@dataclass
class CheckResult(Result):
    limit_at: tuple | None = None  # --limit: (input name, x)


@dataclass
class GraphResult(Result):
    constants: dict = field(default_factory=dict)  # node id -> the constant's value


@dataclass
class PlotResult(Result):
    curve: tuple = ()  # (xs, ys)


def _header(command: str, expr: str, graph, wrt) -> dict:
    inputs = {name: {"shape": list(graph.nodes[i].shape), "kind": kind(graph.nodes[i].shape),
                     "requires_grad": name in wrt}
              for name, i in graph.inputs.items()}
    return {"jac_version": JSON_VERSION, "command": command, "expression": expr, "inputs": inputs}


def output_name(graph) -> str:
    """What to call the output: its assigned name (``G = ...``), else the first of ``y``,
    ``z``, ``f``, ``out``, ... that no input or assigned node already has (in
    ``y = x * 2; z = y ** 2; z.sum()`` the output is ``f``)."""
    node = graph.nodes[graph.output]
    if node.name and node.op != "input":
        return node.name
    taken = set(graph.inputs) | {n.name for n in graph.nodes if n.name}
    candidates = ("y", "z", "f", "out", "output")
    return next((n for n in candidates if n not in taken),
                next(f"output{i}" for i in range(1, len(taken) + 2) if f"output{i}" not in taken))


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
                mode="auto", max_memory=None, values="dense", on_plan=None) -> EvalResult:
    """The eval report. ``on_plan(plan)`` is called once the plan is made, before it runs
    (``--explain``); a plan that does not fit the budget is refused after that call."""
    budget = memory.budget(max_memory)
    problem = api.prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(budget, DEFAULT_MAX_BYTES))
    plan = api.plan_of(problem, mode, budget)
    if on_plan is not None:
        on_plan(plan)
    jacobians = api.jacobians(problem, plan)
    report = _header("eval", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    of = report["output"]["name"]
    report["jacobian"] = {name: jacobian_block(j, layout, of, values, budget) for name, j in jacobians.items()}
    _warn(report, finite.warnings(problem, [(f"∂{of}/∂{name}", name, j) for name, j in jacobians.items()]))
    formulas = _add_formulas(report, problem, layout) if symbolic else None
    return EvalResult(report, jacobians, plan, budget, formulas)


def _add_formulas(report: dict, problem, layout: str) -> dict:
    """``--symbolic``: the formula of the output and of each (small) Jacobian beside the
    numbers; returns the SymPy expressions."""
    from . import symbolic

    y, formulas = symbolic.eval_formulas(problem.graph, problem.wrt, layout)
    if y is not None:
        report["output"].update(expr=symbolic.text(y), latex=symbolic.latex(y))
    for name, f in formulas.items():
        block = report["jacobian"][name]
        if isinstance(f, str):
            block.update(expr=None, latex=None, note=f"no formula: {f}")
        else:
            block.update(expr=symbolic.text(f), latex=symbolic.latex(f))
    return {"output": y, **formulas}


def save_jacobians(path: str, jacobians: dict, layout: str = "array", budget=None) -> None:
    """``--out``: a ``.npz`` of one structured Jacobian is a SciPy sparse matrix (COO) of
    dvec(y)/dvec(x); otherwise the dense arrays (``.npy``, ``.npz`` by name, ``.json``)."""
    from ..lang.fileio import save_array, save_sparse

    blocks = list(jacobians.values())
    if path.lower().endswith(".npz") and len(blocks) == 1 and blocks[0].structure != "dense":
        rows, cols, values, shape = blocks[0].matrix()
        save_sparse(path, rows, cols, values, shape)
        return
    save_array(path, {name: api.dense(j, layout, budget) for name, j in jacobians.items()})


def vjp_report(expr: str, bindings, v=None, wrt=None, dtype="float64", seed=0) -> Result:
    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    cot = api.cotangent(problem, v, output_name(problem.graph))
    grads = api.vjp_of(problem, cot)
    report = _header("vjp", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["v"] = {"shape": list(cot.shape), "value": cot}
    report["vjp"] = {name: {"shape": list(g.shape), "value": g} for name, g in grads.items()}
    _warn(report, finite.warnings(problem, [(f"{name}.grad", name, g) for name, g in grads.items()]))
    return Result(report)


def jvp_report(expr: str, bindings, tangents: dict, wrt=None, dtype="float64", seed=0) -> Result:
    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    checked = api.tangents_of(problem, tangents)
    out = api.jvp_of(problem, checked)
    report = _header("jvp", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["tangent"] = {name: {"shape": list(t.shape), "value": t} for name, t in checked.items()}
    report["jvp"] = {"shape": list(out.shape), "value": out}
    _warn(report, finite.jvp_warnings(problem, checked, out))
    return Result(report)


def hessian_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, max_memory=None,
                   on_plan=None) -> HessianResult:
    """The hessian report. ``on_plan(plan)`` is called once the plan is made, before it runs
    (``--explain``); a plan that does not fit the budget is refused after that call."""
    budget = memory.budget(max_memory)
    problem = api.prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(budget, DEFAULT_MAX_BYTES))
    plan = api.hessian_plan_of(problem, budget)
    if on_plan is not None:
        on_plan(plan)
    blocks = api.hessians(problem, plan)
    report = _header("hessian", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["hessian"] = {}
    for (a, b), h in blocks.items():
        a_shape, b_shape = problem.env[a].shape, problem.env[b].shape
        report["hessian"][f"{a},{b}"] = {
            "shape": list(h.shape), "value": h,
            "math_shape": list(math_shape(a_shape, b_shape)),
            "legend": _hessian_legend(a, b, a_shape, b_shape, report["output"]["name"])}
    _warn(report, finite.hessian_warnings(problem, blocks, report["output"]["name"]))
    return HessianResult(report, plan)


def _warn(report: dict, found: list) -> None:
    """``"warnings"``: where NaN or infinities first appeared; the key is there only when
    there is one, so a clean report keeps exactly the contract's keys."""
    if found:
        report["warnings"] = [w.as_dict() for w in found]


def _hessian_legend(a: str, b: str, a_shape, b_shape, of: str = "y") -> str:
    letters = "ijklmnpq"
    ai, bi = letters[:len(a_shape)], letters[len(a_shape):len(a_shape) + len(b_shape)]
    da = f"∂{a}[{', '.join(ai)}]" if ai else f"∂{a}"
    db = f"∂{b}[{', '.join(bi)}]" if bi else f"∂{b}"
    idx = ", ".join(ai + bi)
    return f"H[{idx}] = ∂²{of} / {da} {db}" if idx else f"H = ∂²{of} / {da} {db}"


def shape_report(expr: str, bindings, wrt=None) -> Result:
    """Shapes only: no values are computed (``NAME:SHAPE`` sizes may be symbolic)."""
    bound = parse_bindings(list(bindings or []), symbolic=True)
    graph = parse(expr, bound.shapes, shapes_only=True)
    names = api.check_wrt(wrt, graph.inputs)
    report = _header("shape", expr, graph, names)
    y_shape = tuple(graph.output_shape)
    report["output"] = {"shape": list(y_shape), "kind": kind(y_shape), "name": output_name(graph)}
    report["derivatives"] = {}
    for name in names:
        x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
        report["derivatives"][name] = {
            "shape": list(y_shape + x_shape), "math_shape": list(math_shape(y_shape, x_shape)),
            "kind": kind(y_shape + x_shape), "cell": f"{kind(y_shape)} by {kind(x_shape)}",
            "legend": legend(name, y_shape, x_shape, of=report["output"]["name"])}
    return Result(report)


def diff_report(expr: str, bindings, wrt=None, at=None) -> DiffResult:
    """Symbolic derivatives (SymPy): a formula per input, its shape, and its value at ``--at``."""
    from . import symbolic

    result = symbolic.differentiate(expr, bindings, wrt, at)
    graph = result.graph
    report = _header("diff", expr, graph, result.wrt)
    y_shape = tuple(graph.output_shape)
    of = output_name(graph)
    report["output"] = {"shape": list(y_shape), "kind": kind(y_shape), "name": of,
                        "expr": symbolic.text(result.output), "latex": symbolic.latex(result.output)}
    if result.output_value is not None:
        report["output"]["value"] = result.output_value
    if result.point is not None:
        report["at"] = {name: result.point[name] for name in graph.inputs}
    report["derivative"] = {name: _derivative_block(d, y_shape, of) for name, d in result.derivatives.items()}
    return DiffResult(report, {"output": result.output, **{name: d.expr for name, d in result.derivatives.items()}})


def _derivative_block(d, y_shape, of: str) -> dict:
    from . import symbolic

    x_shape = tuple(d.shape[len(y_shape):])
    block = {"expr": symbolic.text(d.expr), "latex": symbolic.latex(d.expr), "shape": list(d.shape),
             "math_shape": list(d.math_shape), "form": d.form, "cell": f"{kind(y_shape)} by {kind(x_shape)}",
             "legend": legend(d.name, y_shape, x_shape, of=of)}
    if d.form == "components":
        block["entries"] = symbolic.entries(d.expr)
    if d.value is not None:
        block["value"] = d.value
    if d.note:
        block["note"] = d.note
        block["sizes"] = d.sizes
    return block


# --- the teaching and debugging views: check, graph, plot ------------------------------------

def check_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, method="central",
                 rtol=None, atol=None, limit=False) -> CheckResult:
    """Automatic derivatives (reverse and forward) against finite differences."""
    from . import check

    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    default_rtol, default_atol = check.default_tolerances(problem.graph.dtype)
    rtol = _tolerance("--rtol", default_rtol if rtol is None else rtol)
    atol = _tolerance("--atol", default_atol if atol is None else atol)
    results = check.check(problem, method, rtol, atol)
    report = _header("check", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    for name, info in report["inputs"].items():
        info.update(_check_entry(results.get(name)))
    report.update({"method": method, "dtype": np.dtype(problem.graph.dtype).name, "rtol": rtol, "atol": atol,
                   "passed": all(r.passed for r in results.values())})
    if limit:
        name = check.scalar_input(problem, "--limit")
        derivative = float(np.reshape(autodiff.jacrev(problem.graph, problem.values)[name], -1)[0])
        report["limit"] = [{"h": h, "quotient": float(np.reshape(q, -1)[0]),
                            "error": float(np.reshape(q, -1)[0]) - derivative} for h, q in check.limit(problem)]
        report["derivative"] = derivative
        return CheckResult(report, (name, float(np.reshape(problem.env[name], -1)[0])))
    return CheckResult(report)


def _tolerance(option: str, value) -> float:
    value = float(value)
    if not (value >= 0 and np.isfinite(value)):
        raise JacUsageError(f"{option} must be a finite number >= 0, not {value}")
    return value


def _check_entry(result) -> dict:
    """The per-input keys of ``jac check --json`` (``None`` for an input not in --wrt)."""
    if result is None:
        return {"max_abs_error": None, "max_rel_error": None, "passed": None}

    def side(c):
        return {"max_abs_error": c.max_abs_error, "max_rel_error": c.max_rel_error, "passed": c.passed}

    return {"max_abs_error": result.max_abs_error, "max_rel_error": result.max_rel_error,
            "passed": result.passed, "reverse": side(result.reverse), "forward": side(result.forward),
            "forward_vs_reverse": side(result.modes), "kinks": result.kinks, "kink_count": result.kink_count,
            "nonfinite_numeric": result.nonfinite_numeric, "nonfinite_automatic": result.nonfinite_automatic}


def graph_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, backward=False, v=None) -> GraphResult:
    """The computation graph: every node the output depends on, and every input."""
    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    g = problem.graph
    grads = {}
    report = _header("graph", expr, g, problem.wrt)
    report["output"] = {**_output(problem), "id": g.output}
    if backward:
        cot = api.cotangent(problem, v, output_name(g))
        grads = api.node_grads(problem, cot)
        report["v"] = {"shape": list(cot.shape), "value": cot}
    elif v is not None:
        raise JacUsageError("--v is the gradient passed to backward: it needs --backward")
    ids = graph_nodes(g)
    report["nodes"] = [{"id": i, "op": g.nodes[i].op, "name": g.nodes[i].name, "shape": list(g.nodes[i].shape),
                        "kind": kind(g.nodes[i].shape), "leaf": g.nodes[i].leaf,
                        "requires_grad": g.nodes[i].requires_grad, "grad": grads.get(i)} for i in ids]
    report["edges"] = [[a, i] for i in ids for a in g.nodes[i].args]
    report["backward"] = bool(backward)
    return GraphResult(report, {i: g.nodes[i].value for i in ids if g.nodes[i].op == "const"})


def graph_nodes(graph) -> list:
    """Ids of the nodes the output depends on, and of every input, in topological order."""
    needed = graph.needed()
    for i in graph.inputs.values():
        needed[i] = True
    return [i for i, flag in enumerate(needed) if flag]


def parse_range(text: str) -> tuple:
    """``--range LO:HI``: two constant expressions (``-1:3``, ``-pi:pi``), LO < HI."""
    from ..lang.parser import parse_value

    lo, sep, hi = text.partition(":")
    if not sep or not lo.strip() or not hi.strip():
        raise JacUsageError(f"--range {text}: expected LO:HI, e.g. --range=-1:3")
    try:
        bounds = [float(np.reshape(parse_value(part), -1)[0]) for part in (lo, hi)]
    except (JacError, IndexError):
        raise JacUsageError(f"--range {text}: LO and HI must be numbers, e.g. --range=-pi:pi") from None
    if not (np.isfinite(bounds).all() and bounds[0] < bounds[1]):
        raise JacUsageError(f"--range {text}: needs finite LO < HI")
    return tuple(bounds)


def plot_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, span=None, points=401) -> PlotResult:
    """A scalar function of one scalar around a point: the curve and its tangent line."""
    from . import check

    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    name = check.scalar_input(problem, "jac plot")
    x0 = float(np.reshape(problem.env[name], -1)[0])
    y0 = float(np.reshape(problem.output, -1)[0])
    slope = float(np.reshape(autodiff.jacrev(problem.graph, problem.values)[name], -1)[0])
    lo, hi = span if span is not None else (x0 - 2 * max(1.0, abs(x0)), x0 + 2 * max(1.0, abs(x0)))
    f = check.function_of(problem, name)
    shape = problem.env[name].shape
    xs = np.linspace(lo, hi, points)
    ys = np.array([float(np.reshape(f(np.full(shape, x)), -1)[0]) for x in xs])
    report = _header("plot", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["point"] = {"name": name, "x": x0, "y": y0}
    report["tangent"] = {"slope": slope, "intercept": y0 - slope * x0}  # y = slope * x + intercept
    report["range"] = [lo, hi]
    return PlotResult(report, (xs, ys))


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
                              "max_abs_error": o.max_abs_error, "max_rel_error": o.max_rel_error}
                             for o in result.outcomes],
            "error": result.error}
