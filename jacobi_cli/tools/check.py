"""Checking the automatic derivatives: reverse mode, forward mode and finite differences.

Like ``torch.autograd.gradcheck`` and ``jax.test_util.check_grads``: the full Jacobian of
each input by ``jacrev`` and by ``jacfwd`` is compared with a finite-difference estimate
(:mod:`jacobi_cli.numeric`), element by element, as ``np.isclose`` does, allowing also
for the estimate's own rounding error: ``|automatic - numeric| <= atol + rtol |numeric| + rounding``.

>>> from jacobi_cli import api
>>> result = check(api.prepare("sin(x) * x", {"x": [0.5, 2.0]}))["x"]
>>> result.passed, result.max_abs_error < 1e-8
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..engine import autodiff, memory, planner
from ..engine.blas import product_work, threads_for
from ..engine.jacobian import SparseJacobian
from . import numeric
from ..errors import JacLimitError, JacShapeError, JacUsageError, unknown_choice
from ..ir.shapes import fmt

# (rtol, atol) per dtype: central differences are good to about eps**(2/3) relative
# (4e-11 in float64, 2e-5 in float32) before cancellation in f itself costs more.
DEFAULT_TOLERANCES = {np.dtype(np.float64): (1e-5, 1e-8), np.dtype(np.float32): (2e-3, 1e-4)}
MAX_KINKS = 10  # kink points listed per input; all of them are counted
MAX_REFINED = 1000  # failing elements given a second look at a smaller step
CHECK_ARRAYS = 28  # output-sized float64 arrays per checked column, measured (tests/test_check.py): forward and
# reverse columns, the estimates (estimate, rounding, left, right, kink) and their arranged copies, the refined
# copies, and the comparisons' temporaries
# What a check may cost before it runs, in element operations (measured on 2 busy cores, session 36: about 4e8 a
# second): n evaluations of the expression per element of an input of n elements make the work quadratic, so a
# check of 2,000,000 elements (48 hours) is refused at once instead of running as if it had hung.
MAX_CHECK_WORK = 4 * 10**10
EVALUATIONS_PER_ELEMENT = {"central": 6, "richardson": 10}  # the estimate's and the one-sided slopes' (numeric.py)
NODE_WORK = 5_000  # one node's evaluation, in element operations (NumPy's call and the interpreter's step)
CHECK_CALL_WORK = 700_000  # one check's own work beside the differences: its plans, passes and comparisons


# Forward and reverse mode differing by at most this much of the largest entry differ as rounding does where terms
# that cancel are much larger than the result (A @ inv(A + A.T @ A) at condition 2e5: 1.2e-7, PyTorch's own error
# there 1.2e-7); a rule that is wrong shows a larger difference. Only the words of a failure depend on it.
ROUNDING_LEVEL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


# Where the point is ill-conditioned for an op (a nearly singular matrix that is solved with or inverted, nearly
# repeated eigenvalues whose vectors are read), both the automatic derivatives and the finite differences lose
# digits: the derivative's terms are about cond² times the result's size and cancel (A @ inv(A + AᵀA) at cond 1e7:
# 1e-2 of the largest entry, forward against reverse and either against the differences). The check then allows,
# relative to the Jacobian's largest entry, CONDITIONING_FACTOR · cond² · eps (cond: the op's condition number at
# the point, conditioning.py's estimate, cond·eps, squared over eps), and says it did. Measured over
# benchmarks/checktrust39_probe.py's nearly singular matrices (session 40): at most 9.1 · cond² · eps.
CONDITIONING_FACTOR = 16.0
# At most a tenth of the largest entry: an allowance of all of it would pass a derivative of the wrong sign or
# twice its size (a PASS that says nothing). Past it (cond past 5e6 in float64, 230 in float32) the check keeps
# the tenth, and a FAIL there says that rounding alone may be that large (``capped``).
MAX_ALLOWANCE = 0.1
# An allowance below this (relative) changes nothing a reader needs to know: not reported
ALLOWANCE_SHOWN = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-5}


@dataclass(frozen=True)
class Allowance:
    """The conditioning allowance of one input: ``relative`` to the Jacobian's largest entry, from ``op`` (its
    column ``position``) whose condition number at the point is ``condition``."""

    relative: float = 0.0
    op: str | None = None
    position: int | None = None
    condition: float = 1.0
    capped: bool = False  # rounding here may exceed the allowance (MAX_ALLOWANCE): a FAIL may be rounding alone

    def as_dict(self) -> dict:
        return {"op": self.op, "position": self.position, "condition_number": self.condition,
                "allowance": self.relative, "capped": self.capped}


def conditioning_allowances(problem) -> dict:
    """``{name: Allowance}`` for the inputs of ``problem.wrt`` that reach an ill-conditioned op: the worst op's
    CONDITIONING_FACTOR · cond² · eps, cond from :mod:`jacobi_cli.engine.conditioning`'s estimate of the op's
    error, cond·eps (an inputs reaching none gets none)."""
    from ..engine import conditioning

    graph = problem.graph
    eps = float(np.finfo(graph.dtype).eps)
    try:
        found = conditioning._scan(graph, problem.values, 0.0)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return {}
    out: dict = {}
    for f in found:
        condition = f.raw / eps
        if not np.isfinite(condition) or condition <= 1.0:
            continue
        wanted = CONDITIONING_FACTOR * condition * condition * eps
        relative = min(wanted, MAX_ALLOWANCE)
        for name in conditioning._inputs_of(graph, f.node.id) & set(problem.wrt):
            if condition > out.get(name, Allowance()).condition:
                out[name] = Allowance(relative, f.node.op, f.node.position, condition, wanted > MAX_ALLOWANCE)
    return out


def rounding_sized(error: float, scale: float, dtype) -> bool:
    """Is ``error``, forward against reverse mode, no bigger than rounding at an ill-conditioned point, relative
    to ``scale``, the Jacobian's largest entry?"""
    return scale > 0 and 0 <= error <= ROUNDING_LEVEL[np.dtype(dtype)] * scale


def default_tolerances(dtype) -> tuple:
    """``(rtol, atol)`` for ``dtype``: float32 gets looser ones."""
    return DEFAULT_TOLERANCES[np.dtype(dtype)]


@dataclass
class Comparison:
    """How far ``actual`` is from ``expected``: the worst element, and whether all are close."""

    max_abs_error: float
    max_rel_error: float  # over the elements where |expected| > atol + its rounding error
    passed: bool


def close(actual, expected, rtol: float, atol: float, rounding=0.0) -> np.ndarray:
    """Element-wise ``|actual - expected| <= atol + rtol |expected| + rounding``, where
    ``rounding`` is the yardstick's own rounding error (a big ``f`` whose derivative is
    near 0 must not fail for that alone); infinities of the same sign are close."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        return (actual == expected) | (np.abs(actual - expected) <= atol + rtol * np.abs(expected) + rounding)


def compare(actual, expected, rtol: float, atol: float, rounding=0.0) -> Comparison:
    """The worst errors, and whether every element is :func:`close`."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.size == 0:
        return Comparison(0.0, 0.0, True)
    with np.errstate(all="ignore"):
        error = np.where(actual == expected, 0.0, np.abs(actual - expected))  # inf == inf is no error
        # relative to estimates above atol and their rounding error: relative to noise means nothing
        significant = np.abs(expected) > atol + rounding
        relative = error[significant] / np.abs(expected[significant])
    return Comparison(float(np.max(error)), float(np.max(relative)) if relative.size else 0.0,
                      bool(np.all(close(actual, expected, rtol, atol, rounding))))


@dataclass
class InputCheck:
    """The check of one input: reverse and forward mode against the finite differences,
    and against each other; the points where ``f`` has a kink; non-finite estimates."""

    name: str
    reverse: Comparison
    forward: Comparison
    modes: Comparison  # forward against reverse
    kinks: list = field(default_factory=list)  # the first MAX_KINKS, as dicts
    kink_count: int = 0
    nonfinite_numeric: int = 0  # elements where the finite difference is NaN or infinite
    nonfinite_automatic: int = 0  # elements where jacrev or jacfwd is NaN or infinite
    scale: float = 0.0  # the largest finite |entry| of jacrev: what a rounding-sized difference is measured by
    dtype: str = "float64"  # the dtype the derivatives were computed in
    allowance: Allowance = field(default_factory=Allowance)  # the conditioning allowance applied
    strict_passed: bool = True  # would it pass without the allowance?
    compared: int = 0  # the Jacobian's entries compared: y.size * x.size, 0 where either is empty (a vacuous pass)
    failing: int = 0  # the entries where reverse or forward mode is not close to the finite differences
    worst: dict | None = None  # the failing entry farthest from its finite difference: where a failure is

    @property
    def passed(self) -> bool:
        return self.reverse.passed and self.forward.passed and self.modes.passed

    @property
    def rounding_sized(self) -> bool:
        """Forward and reverse mode disagree by no more than rounding at an ill-conditioned point does."""
        return not self.modes.passed and rounding_sized(self.modes.max_abs_error, self.scale, self.dtype)

    @property
    def max_abs_error(self) -> float:
        return max(self.reverse.max_abs_error, self.forward.max_abs_error, key=_nan_first)

    @property
    def max_rel_error(self) -> float:
        return max(self.reverse.max_rel_error, self.forward.max_rel_error, key=_nan_first)


def _nan_first(v: float) -> float:
    return np.inf if np.isnan(v) else v


def function_of(problem, name: str):
    """``x -> y``: the output as a function of input ``name``, the others held fixed."""
    graph, env = problem.graph, dict(problem.env)

    def f(x):
        env[name] = np.asarray(x, dtype=graph.dtype)
        return autodiff.evaluate(graph, env)[graph.output]

    return f


def check(problem, method: str = "central", rtol: float | None = None, atol: float | None = None,
          budget: int | None = None) -> dict:
    """``{name: InputCheck}`` for every input in ``problem.wrt``.

    Within ``budget`` bytes (default: the default budget), planned before anything big is
    allocated: the reverse-mode Jacobians are planned and chunked as ``jac eval``'s are
    (:mod:`jacobi_cli.engine.planner`, structure kept); forward mode and the finite
    differences run a chunk of columns at a time (:func:`plan_columns`), so only that chunk
    of each comparison is in memory. A check that cannot fit raises ``JacLimitError``."""
    if method not in numeric.METHODS:
        raise unknown_choice("--method", method, numeric.METHODS)
    default_rtol, default_atol = default_tolerances(problem.graph.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if not problem.wrt:
        return {}
    budget = memory.default_budget() if budget is None else int(budget)
    g, values = problem.graph, problem.values
    evaluation = _evaluation_bytes(problem)
    plan = _reverse_plan(problem, budget, evaluation)
    room = budget - plan.values_bytes - plan.result_bytes - evaluation
    with threads_for(product_work(g.nodes)):  # once for the whole check: its passes and differences alike
        reverse = planner.run(plan, g, values)
        allowances = conditioning_allowances(problem)
        return {name: _check_input(problem, name, reverse[name], method, rtol, atol,
                                   plan_columns(problem, name, room, budget), allowances.get(name, Allowance()))
                for name in problem.wrt}


def refuse_long(problem, method: str, examples: int = 1, outputs: int = 1) -> None:
    """Refuse, before any work, a check whose finite differences would run for many minutes: it evaluates the
    expression EVALUATIONS_PER_ELEMENT times per element of each input checked (each on a shifted copy of the
    input), once per example of a batch and output, each evaluation costing every node's
    elements plus NODE_WORK, and compares CHECK_ARRAYS output-sized arrays per element."""
    if method not in EVALUATIONS_PER_ELEMENT or not problem.wrt:
        return
    repeats = examples * outputs
    nodes = [n for n in problem.graph.nodes if n.op != "const"]
    per_evaluation = sum(math.prod(n.shape) for n in nodes) + NODE_WORK * len(nodes)
    sizes = {name: int(problem.env[name].size) for name in problem.wrt}
    evaluations = repeats * EVALUATIONS_PER_ELEMENT[method] * sum(sizes.values())
    shifted = repeats * EVALUATIONS_PER_ELEMENT[method] * sum(n * n for n in sizes.values())  # x's copies
    compared = repeats * CHECK_ARRAYS * math.prod(problem.graph.output_shape) * sum(sizes.values())
    work = evaluations * per_evaluation + shifted + compared + repeats * CHECK_CALL_WORK
    if work <= MAX_CHECK_WORK:
        return
    biggest = max(sizes, key=sizes.get)
    each = "".join(f", for each of {n:,} {what}" for n, what in ((examples, "examples"), (outputs, "outputs")) if n > 1)
    raise JacLimitError(
        f"jac check would evaluate the expression {evaluations:,} times ({EVALUATIONS_PER_ELEMENT[method]} per "
        f"element of the inputs checked{each}; '{biggest}' has {sizes[biggest]:,} elements), about {work:,} "
        f"element operations, over the {MAX_CHECK_WORK:,} a check may take (about two minutes); nothing was "
        f"computed. Check smaller inputs of the same ranks (the derivative rules do not depend on the sizes), fewer "
        f"inputs (--wrt NAME) or fewer examples; jac eval computes the derivatives without the finite differences")


def _reverse_plan(problem, budget: int, evaluation: int):
    """The reverse-mode plan, in what the budget leaves beside one evaluation of ``f``; its refusal
    names the budget the user gave (--max-memory), not that remainder (which can be negative)."""
    what = (f"; of the memory budget of {budget:,} bytes ({memory.fmt_bytes(budget)}), {evaluation:,} hold "
            "the values of one evaluation and the shifted inputs of the finite differences")
    if evaluation >= budget:
        raise JacLimitError(f"jac check needs {evaluation:,} bytes ({memory.fmt_bytes(evaluation)}) for the values "
                            "of one evaluation and the shifted inputs of the finite differences, over the memory "
                            f"budget of {budget:,} bytes ({memory.fmt_bytes(budget)}); nothing was computed. Raise "
                            "--max-memory or use smaller inputs")
    try:
        return planner.check(planner.make_plan(problem.graph, problem.values, problem.wrt, "reverse",
                                               budget - evaluation))
    except JacLimitError as error:
        error.reword(error.message + what)
        raise


def _evaluation_bytes(problem) -> int:
    """What one evaluation of ``f`` holds while the finite differences run: every node's
    value, and the two shifted copies of the input."""
    itemsize = np.dtype(problem.graph.dtype).itemsize
    nodes = sum(math.prod(n.shape) for n in problem.graph.nodes if n.op != "const")
    return nodes * itemsize + 2 * max((problem.env[n].nbytes for n in problem.wrt), default=0)


def plan_columns(problem, name: str, room: int, budget: int) -> int:
    """Columns of dy/d``name`` checked at a time: one forward pass over that many basis
    vectors (its peak from the planner's dry run) and the comparison arrays of that many
    columns (``CHECK_ARRAYS`` of the output's size, in float64, per column) must fit ``room``."""
    g, values = problem.graph, problem.values
    n = problem.env[name].size
    per_column = CHECK_ARRAYS * math.prod(g.output_shape) * 8
    if n == 0:
        return 1

    def probe(batch):
        return planner.probe_forward(g, values, name, batch).peak + batch * per_column

    batch, _, refusal = planner.chunk(probe, n, probe(n), room, budget,
                                      f"for jac check of {name} (a forward pass and {CHECK_ARRAYS} comparison "
                                      f"arrays per column)")
    if refusal:
        raise JacLimitError(refusal)
    return batch


def _check_input(problem, name, reverse, method, rtol, atol, batch, allowance=Allowance()) -> InputCheck:
    """``name``'s check, ``batch`` columns at a time, the parts merged (worst errors, all counts). ``allowance``
    (relative to the Jacobian's largest entry) is added to every element's tolerance, forward against reverse
    too: what an ill-conditioned op costs both sides."""
    f, x = function_of(problem, name), problem.env[name]
    y0 = np.asarray(problem.output)
    slack = allowance.relative * _scale(np.asarray(reverse.values) if isinstance(reverse, SparseJacobian)
                                        else reverse.to_array()) if allowance.relative else 0.0
    found, refine_left = None, [MAX_REFINED]
    for start in range(0, x.size, batch):
        stop = min(start + batch, x.size)
        forward = _forward_columns(problem, name, start, stop)
        part = _check_columns(f, x, y0, (start, stop), _reverse_columns(reverse, start, stop), forward,
                              method, rtol, atol, refine_left, slack)
        del forward
        found = part if found is None else _folded(found, part)  # one summary kept, not one per chunk
    merged = _merged(name, found)
    return replace(merged, dtype=np.dtype(problem.graph.dtype).name, allowance=allowance,
                   strict_passed=merged.passed if found is None else found["strict"],
                   compared=y0.size * x.size)


def _forward_columns(problem, name, start, stop) -> np.ndarray:
    """Columns ``start..stop`` of dy/d``name`` by forward mode: ``y.shape + (stop - start,)``."""
    g = problem.graph
    part = planner.dense_part(g, problem.values, name, "forward", start, stop)
    return np.moveaxis(part.reshape((stop - start,) + tuple(g.output_shape)), 0, -1)


def _reverse_columns(j, start, stop) -> np.ndarray:
    """Columns ``start..stop`` of the (possibly structured) Jacobian ``j``: ``y.shape + (stop - start,)``."""
    m = math.prod(j.y_shape)
    if isinstance(j, SparseJacobian):
        out = np.zeros((m, stop - start), dtype=j.dtype)
        keep = (j.cols >= start) & (j.cols < stop)
        out[j.rows[keep], j.cols[keep] - start] = np.asarray(j.values)[keep]
    else:
        out = j.to_array().reshape(m, math.prod(j.x_shape))[:, start:stop]  # not -1: m may be 0
    return out.reshape(tuple(j.y_shape) + (stop - start,))


def _check_columns(f, x, y0, columns, reverse, forward, method, rtol, atol, refine_left, slack=0.0) -> dict:
    """The check of columns ``start..stop``: arrays ``y.shape + (c,)``, their element ``(..., k)``
    is input element ``start + k`` (flat); ``slack``: the conditioning allowance, absolute."""
    start, _ = columns
    est = numeric.differences(f, x, method, columns=columns, y0=y0)
    y_ndim = y0.ndim
    first = _failing(reverse, forward, est.estimate, est.rounding + slack, rtol, atol)
    estimate, rounding, straddled = _refine(f, x, est, first, y_ndim, start, refine_left)
    del first
    failing = _failing(reverse, forward, estimate, rounding + slack, rtol, atol)
    straddled = {key: v for key, v in straddled.items() if failing[key]}  # resolved ones need no note
    est = replace(est, estimate=estimate, rounding=rounding, kink=_confirmed_kinks(f, x, est, y_ndim, start))
    strict = True
    if slack:  # would it pass without the allowance? (what the output says of it)
        strict = (not _failing(reverse, forward, estimate, rounding, rtol, atol).any()
                  and _compare_modes(forward, reverse, rtol, atol).passed)
    return {"reverse": compare(reverse, estimate, rtol, atol, rounding + slack),
            "forward": compare(forward, estimate, rtol, atol, rounding + slack),
            "modes": _compare_modes(forward, reverse, rtol, atol, slack),
            "strict": strict,
            "nonfinite_numeric": int(np.sum(~np.isfinite(estimate))),
            "nonfinite_automatic": int(np.sum(~(np.isfinite(reverse) & np.isfinite(forward)))),
            "scale": _scale(reverse),
            **_worst(reverse, forward, estimate, failing, y_ndim, x.shape, start),
            **_kinks(est, reverse, failing, y_ndim, straddled, x.shape, start)}


def _folded(a: dict, b: dict) -> dict:
    """The summary of two column chunks' checks: worst errors, counts added, the first kinks."""
    def worst(x: Comparison, y: Comparison) -> Comparison:
        return Comparison(max(x.max_abs_error, y.max_abs_error, key=_nan_first),
                          max(x.max_rel_error, y.max_rel_error, key=_nan_first), x.passed and y.passed)

    out = {key: worst(a[key], b[key]) for key in ("reverse", "forward", "modes")}
    out.update({key: a[key] + b[key] for key in ("nonfinite_numeric", "nonfinite_automatic", "kink_count", "failing")})
    out["worst"] = max((w for w in (a["worst"], b["worst"]) if w is not None), key=lambda w: w["_error"], default=None)
    out["strict"] = a["strict"] and b["strict"]
    out["scale"] = max(a["scale"], b["scale"])
    out["kinks"] = sorted(a["kinks"] + b["kinks"], key=_kink_order)[:MAX_KINKS]
    return out


def _merged(name: str, found: dict | None) -> InputCheck:
    """The :class:`InputCheck` of the folded chunks (None: an empty input, nothing to check)."""
    if found is None:
        nothing = Comparison(0.0, 0.0, True)
        return InputCheck(name, nothing, nothing, nothing)
    kinks = sorted(found["kinks"], key=_kink_order)[:MAX_KINKS]
    for k in kinks:
        k.pop("_jump")
    worst = found["worst"]
    if worst is not None:
        worst.pop("_error")
    return InputCheck(name, found["reverse"], found["forward"], found["modes"], kinks=kinks,
                      failing=found["failing"], worst=worst,
                      kink_count=found["kink_count"], nonfinite_numeric=found["nonfinite_numeric"],
                      nonfinite_automatic=found["nonfinite_automatic"], scale=found["scale"])


def _kink_order(entry: dict) -> tuple:
    """The biggest jumps first (NaN last), then in the order of the elements (output, input)."""
    jump = entry["_jump"]
    return (jump != jump, 0.0 if jump != jump else -jump, entry["output_index"], entry["input_index"])


def _scale(automatic) -> float:
    automatic = np.abs(np.asarray(automatic, dtype=np.float64))
    return float(np.max(automatic[np.isfinite(automatic)], initial=0.0))


def _failing(reverse, forward, estimate, rounding, rtol, atol) -> np.ndarray:
    return ~(close(reverse, estimate, rtol, atol, rounding) & close(forward, estimate, rtol, atol, rounding))


def _compare_modes(forward, reverse, rtol, atol, slack=0.0) -> Comparison:
    """Forward against reverse where both are finite. Where a derivative is infinite the
    modes can differ in which zero meets it (``0 * inf`` is NaN): reported separately."""
    finite = np.isfinite(forward) & np.isfinite(reverse)
    return compare(forward[finite], reverse[finite], rtol, atol, slack)


def _x_index(k: int, start: int, shape: tuple) -> tuple:
    """The index into ``x`` of column ``k`` of the chunk that starts at ``start``."""
    return tuple(int(i) for i in np.unravel_index(start + k, shape))


def _confirmed_kinks(f, x, est, y_ndim, start) -> np.ndarray:
    """The kinks at the point that persist at much smaller steps (a smooth ``f`` varying on a
    scale finer than the step looks kinked at that step only)."""
    kink = est.kink.copy()
    for k in dict.fromkeys(int(w[y_ndim]) for w in np.argwhere(kink)[:MAX_REFINED]):
        x_index = _x_index(k, start, x.shape)
        at = (..., k)
        jump = np.abs(est.right[at] - est.left[at])
        kink[at] = kink[at] & numeric.kink_persists(f, x, x_index, est.step[x_index], jump)
    return kink


def _refine(f, x, est, failing, y_ndim, start, refine_left) -> tuple:
    """A better yardstick where the first estimate fails: ``(estimate, rounding, straddled)``.

    For the input elements of failing estimates, central differences at shrinking steps
    (:func:`numeric.refined`) replace the estimate and its error bound there: the step scaled
    to ``|x|`` can be far too coarse for an ``f`` that varies on a finer scale. ``straddled``
    maps the elements where the estimates jumped as the step shrank (a kink within the first
    step, or a scale finer than it) to the refined estimate; where that estimate agrees with
    jac, the first step was only too coarse, and nothing is reported. At most MAX_REFINED
    failing elements in all (``refine_left``, shared by the chunks) get the second look."""
    estimate, rounding, straddled = est.estimate.copy(), est.rounding.copy(), {}
    chosen = np.argwhere(failing)[:refine_left[0]]
    refine_left[0] -= len(chosen)
    for k in dict.fromkeys(int(w[y_ndim]) for w in chosen):
        x_index = _x_index(k, start, x.shape)
        better = numeric.refined(f, x, x_index, est.step[x_index])
        at = (..., k)
        mask = np.asarray(failing[at]) & np.isfinite(better.estimate)
        estimate[at] = np.where(mask, better.estimate, estimate[at])
        rounding[at] = np.where(mask, better.error, rounding[at])
        for y_index in np.argwhere(np.atleast_1d(mask & better.kink)):
            key = tuple(int(i) for i in y_index[:y_ndim]) + (k,)
            straddled[key] = np.asarray(better.estimate)[key[:y_ndim]]
    return estimate, rounding, straddled


def _worst(reverse, forward, estimate, failing, y_ndim: int, x_shape: tuple, start: int) -> dict:
    """``{"failing": count, "worst": entry or None}``: how many entries fail, and the one whose automatic
    derivative (reverse or forward mode) is farthest from its finite difference (NaN first), with its indices,
    as a kink's (the entry keeps its ``_error`` until the chunks are merged)."""
    count = int(np.count_nonzero(failing))
    if not count:
        return {"failing": 0, "worst": None}
    reverse, forward, estimate = (np.asarray(a, dtype=np.float64) for a in (reverse, forward, estimate))
    with np.errstate(all="ignore"):
        error = np.fmax(np.abs(reverse - estimate), np.abs(forward - estimate))
        nan = np.isnan(reverse - estimate) | np.isnan(forward - estimate)
    rank = np.where(failing, np.where(nan, np.inf, np.minimum(error, np.finfo(np.float64).max)), -1.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(rank)), rank.shape))
    x_index = _x_index(index[y_ndim], start, x_shape)
    return {"failing": count,
            "worst": {"output_index": list(index[:y_ndim]), "input_index": list(x_index),
                      "reverse": float(reverse[index]), "forward": float(forward[index]),
                      "numeric": float(estimate[index]), "abs_error": float("nan") if nan[index] else float(error[index]),
                      "_error": float(rank[index])}}


def _kinks(est, automatic, failing, y_ndim: int, straddled: dict, x_shape: tuple, start: int) -> dict:
    """Where ``f`` is not smooth: every kink at the point (the one-sided slopes differ),
    and the kinks within the step that explain a failure; the biggest jumps first (each
    entry keeps its ``_jump`` until the chunks are merged)."""
    mask = est.kink.copy()
    for key in straddled:
        mask[key] = True
    where = np.argwhere(mask)
    jumps = np.abs(est.right - est.left)[mask]
    listed = []
    for k in np.argsort(-jumps, kind="stable")[:MAX_KINKS]:
        index = tuple(int(i) for i in where[k])
        x_index = _x_index(index[y_ndim], start, x_shape)
        entry = {"where": "within_step" if index in straddled else "at_point",
                 "output_index": list(index[:y_ndim]), "input_index": list(x_index),
                 "left": est.left[index], "right": est.right[index], "step": est.step[x_index],
                 "automatic": automatic[index], "numeric": est.estimate[index], "passed": not failing[index],
                 "_jump": float(jumps[k])}
        if index in straddled:
            entry["numeric_small_step"] = straddled[index]
        listed.append(entry)
    return {"kinks": listed, "kink_count": int(len(where))}


def scalar_input(problem, what: str, batched=()) -> str:
    """The one input of a scalar function of a scalar (``--limit``, ``jac plot``); ``batched``: the
    inputs already marked a batch (``--batch``), whose example is what must be a scalar."""
    g = problem.graph
    y_shape = tuple(g.output_shape)
    if len(problem.wrt) == 1:  # a vector input first: "reduce the output with sum(...)" misled for tanh(x) at [0.5, 1]
        _scalar(g, problem.wrt[0], what, batched)
    if int(np.prod(y_shape, dtype=np.int64)) != 1:
        raise JacShapeError(f"{what} needs a scalar output, but the output has shape {fmt(y_shape)}; "
                            "reduce it first, e.g. sum(...)")
    if len(problem.wrt) != 1:
        listed = ", ".join(problem.wrt) or "none"
        raise JacUsageError(f"{what} needs exactly one input to vary, but there are {len(problem.wrt)} ({listed}); "
                            "pick one with --wrt NAME")
    return _scalar(g, problem.wrt[0], what, batched)


def _scalar(g, name: str, what: str, batched=()) -> str:
    shape = tuple(g.nodes[g.inputs[name]].shape)
    if int(np.prod(shape, dtype=np.int64)) != 1:
        several = f"; for one curve per value, mark the values a batch: --batch {name}" \
            if what == "jac plot" and len(shape) == 1 and name not in batched else ""
        if name in batched:  # --batch x was given: one example of x is what is not a scalar
            several = f" in each example of --batch {name}; a curve is drawn along a scalar input"
        raise JacShapeError(f"{what} needs a scalar input, but '{name}' has shape {fmt(shape)}{several}")
    return name


def limit(problem, steps=numeric.LIMIT_STEPS) -> list:
    """``[(h, (f(x+h) - f(x)) / h)]`` for a scalar function of one scalar input."""
    name = scalar_input(problem, "--limit")
    return numeric.limit_table(function_of(problem, name), problem.env[name], steps)
