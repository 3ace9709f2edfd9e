"""What each command reports: plain dicts in the shape of the ``--json`` contract.

Values stay NumPy arrays (and :class:`~jacobi_cli.jacobian.Jacobian` objects under the
private ``"_jacobians"`` key) until :mod:`jacobi_cli.render` draws or serialises them.
"""

from __future__ import annotations

from . import api, memory
from .bindings import parse_bindings
from .graph import DEFAULT_MAX_BYTES
from .parser import parse
from .shapes import kind, legend, math_shape

JSON_VERSION = 1


def _header(command: str, expr: str, graph, wrt) -> dict:
    inputs = {name: {"shape": list(graph.nodes[i].shape), "kind": kind(graph.nodes[i].shape),
                     "requires_grad": name in wrt}
              for name, i in graph.inputs.items()}
    return {"jac_version": JSON_VERSION, "command": command, "expression": expr, "inputs": inputs}


def output_name(graph) -> str:
    """What to call the output: its assigned name (``G = ...``), else ``y`` (or ``z``,
    ``f``, ``out`` when an input already has that name)."""
    node = graph.nodes[graph.output]
    if node.name and node.op != "input":
        return node.name
    return next(n for n in ("y", "z", "f", "out", "output") if n not in graph.inputs)


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


def eval_report(expr: str, bindings, wrt=None, dtype="float64", seed=0, layout="array", mode="auto",
                max_memory=None, values="dense", on_plan=None) -> dict:
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
    report["_jacobians"] = jacobians
    report["_plan"] = plan
    report["_budget"] = budget
    return report


def save_jacobians(path: str, jacobians: dict, layout: str = "array", budget=None) -> None:
    """``--out``: a ``.npz`` of one structured Jacobian is a SciPy sparse matrix (COO) of
    dvec(y)/dvec(x); otherwise the dense arrays (``.npy``, ``.npz`` by name, ``.json``)."""
    from .fileio import save_array, save_sparse

    blocks = list(jacobians.values())
    if path.lower().endswith(".npz") and len(blocks) == 1 and blocks[0].structure != "dense":
        rows, cols, values, shape = blocks[0].matrix()
        save_sparse(path, rows, cols, values, shape)
        return
    save_array(path, {name: api.dense(j, layout, budget) for name, j in jacobians.items()})


def vjp_report(expr: str, bindings, v=None, wrt=None, dtype="float64", seed=0) -> dict:
    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    cot = api.cotangent(problem, v)
    grads = api.vjp_of(problem, cot)
    report = _header("vjp", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["v"] = {"shape": list(cot.shape), "value": cot}
    report["vjp"] = {name: {"shape": list(g.shape), "value": g} for name, g in grads.items()}
    return report


def jvp_report(expr: str, bindings, tangents: dict, wrt=None, dtype="float64", seed=0) -> dict:
    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    checked = api.tangents_of(problem, tangents)
    out = api.jvp_of(problem, checked)
    report = _header("jvp", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["tangent"] = {name: {"shape": list(t.shape), "value": t} for name, t in checked.items()}
    report["jvp"] = {"shape": list(out.shape), "value": out}
    return report


def hessian_report(expr: str, bindings, wrt=None, dtype="float64", seed=0) -> dict:
    problem = api.prepare(expr, bindings, wrt, dtype, seed)
    blocks = api.hessians(problem)
    report = _header("hessian", expr, problem.graph, problem.wrt)
    report["output"] = _output(problem)
    report["hessian"] = {}
    for (a, b), h in blocks.items():
        a_shape, b_shape = problem.env[a].shape, problem.env[b].shape
        report["hessian"][f"{a},{b}"] = {
            "shape": list(h.shape), "value": h,
            "math_shape": list(math_shape(a_shape, b_shape)),
            "legend": _hessian_legend(a, b, a_shape, b_shape, report["output"]["name"])}
    return report


def _hessian_legend(a: str, b: str, a_shape, b_shape, of: str = "y") -> str:
    letters = "ijklmnpq"
    ai, bi = letters[:len(a_shape)], letters[len(a_shape):len(a_shape) + len(b_shape)]
    da = f"∂{a}[{', '.join(ai)}]" if ai else f"∂{a}"
    db = f"∂{b}[{', '.join(bi)}]" if bi else f"∂{b}"
    idx = ", ".join(ai + bi)
    return f"H[{idx}] = ∂²{of} / {da} {db}" if idx else f"H = ∂²{of} / {da} {db}"


def shape_report(expr: str, bindings, wrt=None) -> dict:
    """Shapes only: no values are computed (``NAME:SHAPE`` sizes may be symbolic)."""
    bound = parse_bindings(list(bindings or []), symbolic=True)
    graph = parse(expr, bound.shapes)
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
    return report


def public(report: dict) -> dict:
    """The report without its private keys: what ``--json`` prints."""
    return {k: v for k, v in report.items() if not k.startswith("_")}

