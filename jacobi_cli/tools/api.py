"""The Python API: the same computations as the commands, returning NumPy arrays.

>>> import numpy as np
>>> jacobian("2 * dot(x, y)", {"x": np.arange(4.0), "y": [3.0, 1.0, 2.0, 5.0]})["x"]
array([ 6.,  2.,  4., 10.])

Bindings are arrays (or anything ``np.asarray`` takes), or strings in the command-line
binding language (``"arange(4.0)"``, ``"@data.npy"``).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from ..engine import autodiff, memory
from typing import TYPE_CHECKING, Literal, Mapping, Sequence, Union

from ..lang.bindings import Bindings, BindingsLike, DType, Value, check_seed, check_wrt, resolve_dtype, to_bindings
from ..errors import JacLimitError, JacNameError, JacShapeError, JacUsageError, JacValueError
from ..ir.graph import DEFAULT_MAX_BYTES, Graph
from ..engine.jacobian import Jacobian
from ..engine.memory import fmt_bytes
from ..lang.parser import parse
from ..engine.planner import HessianPlan, Plan, _small, check as check_plan, fit_hessian, make_plan, run as run_plan
from ..engine.planner import hessian_plan as blocks_plan, values_nbytes
from ..ir.shapes import fmt

UNLIMITED = sys.maxsize

if TYPE_CHECKING:
    from .symbolic import Derivative

Wrt = Union[Sequence[str], None]  # the inputs to differentiate (default: every bound input)
Size = Union[int, str, None]  # a memory budget: bytes, "2G", "512M", "50%"; None: half the available memory


@dataclass
class Problem:
    """A parsed expression, its input values, and the inputs to differentiate."""

    graph: Graph  # requires_grad set for ``wrt``
    env: dict
    wrt: list
    values: list  # every node's value
    plans: dict = field(default_factory=dict)  # plans without a budget, shared by problems of one graph
    traced: tuple | None = None  # (gradient graph, its values, its gradient nodes) once a Hessian needs them

    @property
    def output(self):
        return np.asarray(self.values[self.graph.output], dtype=self.graph.dtype)


class _Compiled:
    """What depends only on the expression and the input shapes, kept between calls (as
    ``jax.jit`` keeps its traces): the parsed graph, its copy per ``wrt``, and the plans."""

    __slots__ = ("graph", "by_wrt", "plans")

    def __init__(self, graph: Graph):
        self.graph, self.by_wrt, self.plans = graph, {}, {}


_COMPILED: OrderedDict = OrderedDict()
COMPILED_CACHE_SIZE = 64


def _compiled(expr: str, shapes: dict, dtype, seed: int, max_bytes: int) -> _Compiled:
    key = (expr, tuple(shapes.items()), np.dtype(dtype).str, seed, max_bytes)
    entry = _COMPILED.get(key)
    if entry is None:
        entry = _COMPILED[key] = _Compiled(parse(expr, shapes, dtype=dtype, seed=seed, max_bytes=max_bytes))
        if len(_COMPILED) > COMPILED_CACHE_SIZE:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(key)
    return entry


def prepare(expr: str, bindings=None, wrt=None, dtype="float64", seed: int = 0,
            max_bytes: int = DEFAULT_MAX_BYTES) -> Problem:
    """Parse, bind and evaluate: the common first step of every computing command.

    The parse of an expression for given input shapes is cached (64 entries), so calling
    again with new values of the same shapes only evaluates.
    """
    dtype = resolve_dtype(dtype)
    seed = check_seed(seed)
    bound = to_bindings(bindings, dtype, seed, max_bytes).realize(dtype, seed, max_bytes)
    entry = _compiled(expr, bound.shapes, dtype, seed, max_bytes)
    names = check_wrt(wrt, entry.graph.inputs)
    graph = entry.by_wrt.get(tuple(names))
    if graph is None:
        graph = entry.by_wrt[tuple(names)] = entry.graph.with_wrt(names)
    env = {name: bound.values[name] for name in graph.inputs}
    return Problem(graph, env, names, autodiff.evaluate(graph, env), entry.plans)


def plan_of(problem: Problem, mode: str = "auto", budget: int | None = None) -> Plan:
    """How the Jacobians of ``problem`` will be computed (see :mod:`jacobi_cli.planner`);
    a plan that does not fit ``budget`` has a ``refusal`` (``check_plan`` raises it).

    A plan depends on the graph and the shapes only, never on values: the plan without a
    budget is kept with the graph and reused whenever it fits the budget."""
    budget = memory.default_budget() if budget is None else int(budget)
    key = (tuple(problem.wrt), mode)
    free = problem.plans.get(key)
    if free is None:
        free = problem.plans[key] = make_plan(problem.graph, problem.values, problem.wrt, mode, UNLIMITED)
    if free.peak_bytes > budget:
        return make_plan(problem.graph, problem.values, problem.wrt, mode, budget)
    fitted = problem.plans.get(key + ("fitted",))  # the last budget's copy: budgets rarely change
    if fitted is None or fitted.budget != budget:
        fitted = problem.plans[key + ("fitted",)] = replace(free, budget=budget)
    return fitted


def jacobians(problem: Problem, plan: Plan | None = None) -> dict:
    """``{name: Jacobian}`` for every input in ``wrt``, computed as ``plan`` says (default:
    the automatic plan). Structured Jacobians stay structured."""
    plan = plan_of(problem) if plan is None else plan
    found = run_plan(check_plan(plan), problem.graph, problem.values)
    return {name: _unaliased(j, problem.env) for name, j in found.items()}


def _unaliased(j: Jacobian, env: dict) -> Jacobian:
    """``j``, copied if it is a view of an input (``A @ x`` gives ``A`` itself): the caller's
    arrays are read without copying, and a result must not change when they do."""
    array = j._array
    if array is not None and any(np.may_share_memory(array, v) for v in env.values()):
        return Jacobian(j.name, j.y_shape, j.x_shape, array.copy(), j.dtype)
    return j


def dense(j: Jacobian, layout: str = "array", budget: int | None = None) -> np.ndarray:
    """``j.to_array(layout)``, refused before allocation when the dense array passes ``budget``."""
    if j.structure != "dense" and budget is not None and j.dense_nbytes > budget:
        raise JacLimitError(
            f"∂y/∂{j.name} is {j.describe()} ({j.nnz:,} stored values), but as a dense array of shape "
            f"{fmt(j.shape)} it needs {j.dense_nbytes:,} bytes ({fmt_bytes(j.dense_nbytes)}), more than the "
            f"memory budget of {budget:,} bytes ({fmt_bytes(budget)}); nothing was allocated. Keep it sparse "
            f"(--sparse with --json, --out FILE.npz) or raise --max-memory")
    return j.to_array(layout)


def cotangent(problem: Problem, v=None, name: str = "y") -> np.ndarray:
    """The ``v`` of ``y.backward(gradient=v)``: ones for a one-element output, else required.
    ``name`` is what the messages call the output (``z`` in ``jac vjp "x * y"``)."""
    y_shape = tuple(problem.graph.output_shape)
    dtype = problem.graph.dtype
    if v is None:
        if int(np.prod(y_shape, dtype=np.int64)) != 1:
            raise JacValueError(
                f"the output {name} has shape {fmt(y_shape)}, so a vector v of that shape is needed: pass --v VALUE "
                f"(or --v ones). PyTorch says: grad can be implicitly created only for scalar outputs")
        return np.ones(y_shape, dtype=dtype)
    if isinstance(v, str) and v.strip() == "ones":
        return np.ones(y_shape, dtype=dtype)
    if isinstance(v, str):
        v = to_bindings([f"v={v}"], dtype).values["v"]
    v = np.asarray(v, dtype=dtype)
    if v.shape != y_shape:
        if v.size == int(np.prod(y_shape, dtype=np.int64)) and v.size == 1:
            return v.reshape(y_shape)
        raise JacShapeError(f"v has shape {fmt(v.shape)} but the output {name} has shape {fmt(y_shape)}; "
                            f"they must match, as in {name}.backward(gradient=v)")
    return v


def vjp_of(problem: Problem, v) -> dict:
    """``{name: x.grad}`` after ``y.backward(gradient=v)``."""
    grads = autodiff.vjp(problem.graph, problem.values, v[None])
    return {name: np.asarray(grads[name][0]) for name in problem.wrt}


def node_grads(problem: Problem, v) -> dict:
    """``{node_id: gradient}`` after ``y.backward(gradient=v)`` with ``retain_grad()`` on
    every node: ``.grad`` for the leaves that require grad, the cotangent for the others.
    Nodes that do not require grad have none (``.grad`` is ``None`` in PyTorch)."""
    g = problem.graph
    grads, kept = autodiff.vjp(g, problem.values, v[None], retain=True)
    out = {i: np.asarray(ct[0]) for i, ct in kept.items()}
    for name in problem.wrt:  # an input the output does not use gets zeros, as in jac vjp
        out.setdefault(g.inputs[name], np.asarray(grads[name][0]))
    return out


def tangents_of(problem: Problem, tangents: dict) -> dict:
    """Checked tangents ``{name: array of x's shape}``; inputs not named get none."""
    g = problem.graph
    out = {}
    for name, t in tangents.items():
        if name not in g.inputs:
            raise JacNameError(f"--tangent {name}: no input named '{name}' is bound (inputs: {', '.join(g.inputs)})")
        if name not in problem.wrt:  # it would move a constant: the header says it is not differentiated
            raise JacNameError(f"--tangent {name}: '{name}' is held constant (--wrt {' '.join(problem.wrt)}); "
                               f"add --wrt {name}, or drop its tangent")
        shape = tuple(g.nodes[g.inputs[name]].shape)
        if isinstance(t, str):
            t = np.ones(shape) if t.strip() == "ones" else to_bindings([f"{name}={t}"], g.dtype).values[name]
        t = np.asarray(t, dtype=g.dtype)
        if t.shape != shape:
            raise JacShapeError(f"the tangent for '{name}' has shape {fmt(t.shape)}, but '{name}' has shape {fmt(shape)}")
        out[name] = t
    return out


def jvp_of(problem: Problem, tangents: dict) -> np.ndarray:
    """J·t: the output's directional derivative along ``tangents``."""
    if not tangents:
        return np.zeros(problem.graph.output_shape, dtype=problem.graph.dtype)
    batched = {name: t[None] for name, t in tangents.items()}
    return np.asarray(autodiff.jvp(problem.graph, problem.values, batched)[problem.graph.output][0])


def hessians(problem: Problem, plan: HessianPlan | None = None, budget: int | None = None) -> dict:
    """``{(a, b): d²y / da db}`` with shape ``a.shape + b.shape``; needs a one-element output.

    Computed as ``plan`` says (default: :func:`hessian_plan_of` for ``budget``): a plan that
    does not fit raises :class:`~jacobi_cli.errors.JacLimitError` before a block is allocated."""
    plan = hessian_plan_of(problem, budget) if plan is None else plan
    check_plan(plan)
    g2, values, grad_ids = _traced_gradient(problem)
    return autodiff.hessian_blocks(g2, values, grad_ids, problem.wrt, plan.batch)


def hessian_plan_of(problem: Problem, budget: int | None = None) -> HessianPlan:
    """How the Hessian of ``problem`` will be computed (see :class:`~jacobi_cli.planner.HessianPlan`);
    a plan that does not fit ``budget`` has a ``refusal`` (``check_plan`` raises it).

    The blocks are checked against the budget and the limit per array from the input shapes
    alone, before the gradient graph is traced. As for :func:`plan_of`, the plan without a
    budget is kept with the graph and reused whenever it fits."""
    y_shape = tuple(problem.graph.output_shape)
    if int(np.prod(y_shape, dtype=np.int64)) != 1:
        raise JacShapeError(f"the Hessian needs a scalar output, but the output has shape {fmt(y_shape)}; "
                            "reduce it first, e.g. sum(...)")
    budget = memory.default_budget() if budget is None else int(budget)
    g = problem.graph
    shapes = {name: tuple(g.nodes[g.inputs[name]].shape) for name in problem.wrt}
    values_bytes = values_nbytes(problem.values)
    plan = blocks_plan(shapes, g.dtype, values_bytes, budget, min(budget, DEFAULT_MAX_BYTES))
    if plan.refusal:  # from the shapes alone: nothing traced, nothing allocated
        return plan
    key = ("hessian", tuple(problem.wrt), plan.max_bytes, values_bytes)
    free = problem.plans.get(key)
    if free is None:
        free = problem.plans[key] = _fitted(replace(plan, budget=UNLIMITED), problem)
    if free.refusal is None and free.peak_bytes <= budget:
        return replace(free, budget=budget)
    return _fitted(plan, problem)


def _fitted(plan: HessianPlan, problem: Problem) -> HessianPlan:
    """``plan`` with its passes, the values of the gradient graph counted with the others."""
    g2, values, grad_ids = _traced_gradient(problem)
    plan = replace(plan, values_bytes=values_nbytes(problem.values, values))
    return fit_hessian(plan, g2, values, grad_ids)


def _traced_gradient(problem: Problem) -> tuple:
    """``(g2, values, grad_ids)``: the reverse pass traced into a graph (kept with the
    parse, per ``wrt``), the values of its nodes at this problem's inputs, and its gradient nodes."""
    if problem.traced is None:
        key = ("grad_graph", tuple(problem.wrt))
        if key not in problem.plans:
            problem.plans[key] = autodiff.grad_graph(problem.graph)
        g2, grad_ids = problem.plans[key]
        problem.traced = (g2, autodiff.evaluate(g2, problem.env), grad_ids)
    return problem.traced


# --- hot calls: compiled kernels -----------------------------------------------------------
#
# A call repeated with the same expression, options and input shapes runs a kernel
# (:mod:`jacobi_cli.kernels`): the forward and derivative passes compiled into one Python
# function. It is made at the second such call, as a JIT compiles what runs again, checked
# once against the interpreter's answer, and used while it fits the memory budget. A kernel
# that fails (an op refusing its values) hands the call back to the interpreter, which
# raises the error with its position.

_HOT: OrderedDict = OrderedDict()  # key -> calls seen (int), a kernel, or None (cannot compile)
HOT_AFTER = 2
HOT_CACHE_SIZE = 64


def _hot_inputs(bindings, dtype) -> tuple | None:
    """``(key, env)`` for bindings that are a dict of arrays or numbers, else None (the
    interpreter's path parses binding strings and reports bad values)."""
    if type(bindings) is not dict:
        return None
    key, env = [], {}
    for name, value in bindings.items():
        if type(value) is not np.ndarray:
            if isinstance(value, str):
                return None
            value = np.asarray(value)
        kind = value.dtype
        if kind.kind not in "biuf":
            return None
        key.append((name, value.shape, kind.char))
        env[name] = value if kind.type is dtype else value.astype(dtype)
    return tuple(key), env


def _hot(key):
    """The kernel for ``key``, or None; counts the calls that have none yet."""
    entry = _HOT.get(key, 0)
    if type(entry) is int:
        _HOT[key] = entry + 1
        if len(_HOT) > HOT_CACHE_SIZE:
            try:
                _HOT.popitem(last=False)
            except KeyError:  # another thread emptied it first
                pass
        return None
    return entry


def _due(key) -> bool:
    """Is it time to compile a kernel for ``key`` (the call was seen often enough)?"""
    entry = _HOT.get(key)
    return type(entry) is int and entry >= HOT_AFTER


def _learn(key, make: str, make_args: tuple, run_args, expected, answer=lambda got: got) -> None:
    """At the call that makes ``key`` due, compile ``kernels.<make>(*make_args)`` and keep it
    if its first answer (``answer`` of what it returns for ``run_args(kernel)``) is the
    interpreter's ``expected``; else remember that ``key`` stays with the interpreter."""
    if not _due(key):
        return
    kernel = _compile(make, *make_args)
    got = _run_kernel(kernel, *run_args(kernel)) if kernel is not None else None
    _HOT[key] = kernel if got is not None and _same(expected, answer(got)) else None


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, Jacobian) or isinstance(b, Jacobian):
        if not (isinstance(a, Jacobian) and isinstance(b, Jacobian)) or a.structure != b.structure:
            return False
        if a.structure != "dense":
            return (np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols)
                    and _same(np.asarray(a.values), np.asarray(b.values)))
        a, b = a.to_array(), b.to_array()
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.allclose(a, b, rtol=1e-9, atol=0, equal_nan=True))


def _compile(make: str, *args):
    """``kernels.<make>(*args)``, or None when the computation cannot be traced into a kernel
    (a rule that needs concrete values): the interpreter keeps running it. (The module is
    imported here: a command runs once and never compiles, so ``jac eval`` never loads it.)"""
    from ..engine import kernels

    try:
        return getattr(kernels, make)(*args)
    except Exception:  # noqa: BLE001 - compiling is an optimisation, never an error
        return None


def _run_kernel(kernel, *args):
    """The kernel's answer, or None when it fails (the interpreter then runs the call)."""
    try:
        return kernel(*args)
    except Exception:  # noqa: BLE001 - the interpreter's path reports every error properly
        return None


def _wrt_key(wrt) -> tuple | None:
    return None if not wrt else tuple(wrt)


# --- the public one-call functions -------------------------------------------------------
#
# Each is one command: the same parsing, bindings, --wrt, --dtype and --seed, the same
# errors (JacError subclasses, which the commands turn into exit 2), NumPy arrays back.

def evaluate(expr: str, bindings: BindingsLike = None, dtype: DType = "float64", seed: int = 0) -> np.ndarray:
    """The value of ``expr`` (``output.value`` of ``jac eval``).

    >>> evaluate("x * y", {"x": [1.0, 2.0], "y": "[3, 4]"})
    array([3., 8.])
    """
    dtype = resolve_dtype(dtype)
    hot = _hot_inputs(bindings, dtype)
    key = ("evaluate", expr, hot[0], dtype, seed) if hot else None
    kernel = _hot(key) if hot else None
    if kernel is not None:
        found = _run_kernel(kernel, hot[1])
        if found is not None:
            return found[0]
    problem = prepare(expr, bindings, None, dtype, seed)
    if hot:
        _learn(key, "evaluate_kernel", (problem.graph,), lambda k: (hot[1],), problem.output, lambda got: got[0])
    return problem.output


def jacobian(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
             layout: Literal["array", "numerator"] = "array", mode: Literal["auto", "forward", "reverse"] = "auto",
             max_memory: Size = None, structured: bool = False) -> dict[str, Union[np.ndarray, Jacobian]]:
    """``{name: dy/dx}`` for every input in ``wrt`` (default: all), as ``jac eval``.

    The ``array`` layout is ``y.shape + x.shape`` (as ``torch.autograd.functional.jacobian``
    and ``jax.jacrev``); ``layout="numerator"`` gives the ``math_shape`` of the table.

    >>> J = jacobian("A @ x", {"A": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "x": [1.0, 1.0]})
    >>> J["x"].shape, J["A"].shape, jacobian("sum(X)", {"X": ":3x2"}, layout="numerator")["X"].shape
    ((3, 2), (3, 3, 2), (2, 3))

    ``mode`` is ``"auto"`` (per input, the cheaper of forward and reverse), ``"forward"`` or
    ``"reverse"``; ``max_memory`` the budget (bytes or ``"2G"``; default half the available
    memory): passes are chunked to fit it, and a result that cannot fit raises
    :class:`~jacobi_cli.errors.JacLimitError` before anything is allocated. With
    ``structured=True`` the values are :class:`~jacobi_cli.jacobian.Jacobian` objects that
    keep their structure (``.structure``, ``.to_array(layout)``, ``np.asarray(J)``):

    >>> J = jacobian("sin(x) * x**2", {"x": [1.0, 2.0, 3.0]}, structured=True)["x"]
    >>> J.structure, J.diagonal().round(3).tolist()
    ('diagonal', [2.223, 1.973, -8.063])
    """
    if layout not in ("array", "numerator"):
        raise JacValueError(f"layout must be array or numerator, not {layout!r}")
    limit = memory.budget(max_memory)
    dtype = resolve_dtype(dtype)
    hot = _hot_inputs(bindings, dtype)
    key = ("jacobian", expr, hot[0], dtype, seed, _wrt_key(wrt), mode, max_memory) if hot else None
    kernel = _hot(key) if hot else None
    if kernel is not None and kernel.peak <= limit:
        found = _run_kernel(kernel, hot[1], structured)
        if found is not None:
            return found if structured or layout == "array" else _in_layout(found, kernel, layout)
    problem = prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(limit, DEFAULT_MAX_BYTES))
    plan = plan_of(problem, mode, limit)
    found = jacobians(problem, plan)
    if hot:
        _learn(key, "jacobian_kernel", (problem.graph, plan, _small(plan, problem.graph)), lambda k: (hot[1], True),
               found)
    return found if structured else {name: dense(j, layout, budget=limit) for name, j in found.items()}


def _in_layout(found: dict, kernel, layout: str) -> dict:
    return {n: Jacobian(n, kernel.y_shape, x_shape, a, kernel.dtype).to_array(layout)
            for (n, a), x_shape in zip(found.items(), kernel.x_shapes)}


def plan(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
         mode: Literal["auto", "forward", "reverse"] = "auto", max_memory: Size = None) -> Plan:
    """The plan :func:`jacobian` would follow: mode, chunks, structure and predicted memory per input.

    >>> print("\\n".join(plan("tanh(A @ x)", {"A": "eye(3)", "x": "ones(3)"}, wrt=["x"]).explain()[:2]))
    ... # doctest: +ELLIPSIS
    plan (--mode auto): output (3,), 3 elements
      x (3,): ... mode, 1 pass of 3 basis vectors; structure dense, ...
    """
    limit = memory.budget(max_memory)
    return plan_of(prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(limit, DEFAULT_MAX_BYTES)), mode, limit)


def vjp(expr: str, bindings: BindingsLike = None, v: Value | None = None, wrt: Wrt = None, dtype: DType = "float64",
        seed: int = 0) -> dict[str, np.ndarray]:
    """``{name: x.grad}`` after ``y.backward(gradient=v)``, as ``jac vjp``: each shaped like its input.

    ``v`` is shaped like the output, or ``"ones"``; it may be omitted only for a one-element
    output (otherwise :class:`~jacobi_cli.errors.JacValueError`, as PyTorch refuses).

    >>> vjp("x * y", {"x": [1.0, 2.0], "y": [3.0, 4.0]}, v=[2.0, 3.0])["x"]
    array([ 6., 12.])
    """
    dtype = resolve_dtype(dtype)
    hot = _hot_inputs(bindings, dtype)
    ones = v is None or (isinstance(v, str) and v.strip() == "ones")  # y.backward() / torch.ones_like(y)
    v_hot = None if ones or isinstance(v, str) else np.asarray(v, dtype=dtype)
    v_key = "ones" if ones else v_hot.shape if v_hot is not None else None
    key = ("vjp", expr, hot[0], dtype, seed, _wrt_key(wrt), v_key) if hot and v_key is not None else None
    kernel = _hot(key) if key else None

    def run_args(k):  # the inputs, then the cotangent
        return hot[1], np.ones(k.y_shape, dtype) if ones else v_hot

    if kernel is not None:
        found = _run_kernel(kernel, *run_args(kernel))
        if found is not None:
            return dict(zip(kernel.names, found))
    problem = prepare(expr, bindings, wrt, dtype, seed)
    found = vjp_of(problem, cotangent(problem, v))
    if key:
        _learn(key, "vjp_kernel", (problem.graph, problem.wrt), run_args, found,
               lambda got: dict(zip(problem.wrt, got)))
    return found


def jvp(expr: str, bindings: BindingsLike = None, tangents: Mapping[str, Value] | None = None, dtype: DType = "float64",
        seed: int = 0) -> np.ndarray:
    """J·t, shaped like the output, for ``tangents = {name: t}`` (inputs not named get none), as ``jac jvp``.

    >>> jvp("sin(x) * y", {"x": [0.0, 1.0], "y": [2.0, 3.0]}, {"x": [1.0, 0.0]})
    array([2., 0.])
    """
    dtype = resolve_dtype(dtype)
    hot = _hot_inputs(bindings, dtype)
    hot_t = _hot_inputs(dict(tangents), dtype) if hot and tangents and type(tangents) is dict else None
    key = ("jvp", expr, hot[0], dtype, seed, hot_t[0]) if hot_t else None
    kernel = _hot(key) if key else None
    if kernel is not None:
        found = _run_kernel(kernel, hot[1], *hot_t[1].values())
        if found is not None:
            return found[0]
    problem = prepare(expr, bindings, None, dtype, seed)
    found = jvp_of(problem, tangents_of(problem, tangents or {}))
    if key:
        _learn(key, "jvp_kernel", (problem.graph, list(hot_t[1])), lambda k: (hot[1], *hot_t[1].values()), found,
               lambda got: got[0])
    return found


def hessian(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
            max_memory: Size = None) -> dict[tuple[str, str], np.ndarray]:
    """``{(a, b): d²y / da db}`` with shape ``a.shape + b.shape`` for a scalar output, as ``jac hessian``.

    >>> hessian("x @ A @ x", {"x": [1.0, 2.0], "A": [[1.0, 2.0], [3.0, 4.0]]}, wrt=["x"])[("x", "x")]
    array([[2., 5.],
           [5., 8.]])

    ``max_memory`` is the budget, as for :func:`jacobian` (bytes or ``"2G"``; default half the
    available memory): the passes over an input's basis are chunked to fit it, and blocks that
    cannot fit raise :class:`~jacobi_cli.errors.JacLimitError` before anything is allocated.
    """
    limit = memory.budget(max_memory)
    return hessians(prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(limit, DEFAULT_MAX_BYTES)), budget=limit)


def diff(expr: str, bindings: BindingsLike = None, wrt: Wrt = None,
         at: Mapping[str, Value] | Sequence[str] | None = None) -> dict[str, Derivative]:
    """``{name: Derivative}``: symbolic derivatives by SymPy (imported on first call).

    ``bindings`` may keep sizes symbolic (``{"x": ":n"}``); names bound nowhere are scalar
    symbols; ``at`` (``{name: value}`` or ``["x=1"]``) also evaluates each derivative there.
    Each :class:`~jacobi_cli.symbolic.Derivative` has ``expr`` (SymPy, array layout),
    ``form`` (``"matrix"`` or ``"components"``), ``shape``, ``math_shape`` and ``value``.

    >>> str(diff("3*x**2 - 4*x")["x"].expr)
    '6*x - 4'
    """
    from .symbolic import differentiate

    return differentiate(expr, bindings, wrt, at).derivatives

