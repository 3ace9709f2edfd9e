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

from dataclasses import dataclass, field, replace

import numpy as np

from ..engine import autodiff
from . import numeric
from ..errors import JacShapeError, JacUsageError
from ..ir.shapes import fmt

# (rtol, atol) per dtype: central differences are good to about eps**(2/3) relative
# (4e-11 in float64, 2e-5 in float32) before cancellation in f itself costs more.
DEFAULT_TOLERANCES = {np.dtype(np.float64): (1e-5, 1e-8), np.dtype(np.float32): (2e-3, 1e-4)}
MAX_KINKS = 10  # kink points listed per input; all of them are counted
MAX_REFINED = 1000  # failing elements given a second look at a smaller step


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

    @property
    def passed(self) -> bool:
        return self.reverse.passed and self.forward.passed and self.modes.passed

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


def check(problem, method: str = "central", rtol: float | None = None, atol: float | None = None) -> dict:
    """``{name: InputCheck}`` for every input in ``problem.wrt``."""
    if method not in numeric.METHODS:
        raise JacUsageError(f"--method must be {' or '.join(numeric.METHODS)}, not {method!r}")
    default_rtol, default_atol = default_tolerances(problem.graph.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if not problem.wrt:
        return {}
    reverse = autodiff.jacrev(problem.graph, problem.values)
    forward = autodiff.jacfwd(problem.graph, problem.values, problem.wrt)
    return {name: _check_input(problem, name, reverse[name], forward[name], method, rtol, atol)
            for name in problem.wrt}


def _check_input(problem, name, reverse, forward, method, rtol, atol) -> InputCheck:
    f, x = function_of(problem, name), problem.env[name]
    est = numeric.differences(f, x, method)
    y_ndim = len(problem.graph.output_shape)
    first = _failing(reverse, forward, est.estimate, est.rounding, rtol, atol)
    estimate, rounding, straddled = _refine(f, x, est, first, y_ndim)
    failing = _failing(reverse, forward, estimate, rounding, rtol, atol)
    straddled = {key: v for key, v in straddled.items() if failing[key]}  # resolved ones need no note
    est = replace(est, estimate=estimate, rounding=rounding, kink=_confirmed_kinks(f, x, est, y_ndim))
    return InputCheck(name, compare(reverse, estimate, rtol, atol, rounding),
                      compare(forward, estimate, rtol, atol, rounding),
                      _compare_modes(forward, reverse, rtol, atol),
                      nonfinite_numeric=int(np.sum(~np.isfinite(estimate))),
                      nonfinite_automatic=int(np.sum(~(np.isfinite(reverse) & np.isfinite(forward)))),
                      **_kinks(est, reverse, failing, y_ndim, straddled))


def _failing(reverse, forward, estimate, rounding, rtol, atol) -> np.ndarray:
    return ~(close(reverse, estimate, rtol, atol, rounding) & close(forward, estimate, rtol, atol, rounding))


def _compare_modes(forward, reverse, rtol, atol) -> Comparison:
    """Forward against reverse where both are finite. Where a derivative is infinite the
    modes can differ in which zero meets it (``0 * inf`` is NaN): reported separately."""
    finite = np.isfinite(forward) & np.isfinite(reverse)
    return compare(forward[finite], reverse[finite], rtol, atol)


def _confirmed_kinks(f, x, est, y_ndim) -> np.ndarray:
    """The kinks at the point that persist at much smaller steps (a smooth ``f`` varying on a
    scale finer than the step looks kinked at that step only)."""
    kink = est.kink.copy()
    for x_index in dict.fromkeys(tuple(int(i) for i in k[y_ndim:]) for k in np.argwhere(kink)[:MAX_REFINED]):
        at = (...,) + x_index
        kink[at] = kink[at] & numeric.kink_persists(f, x, x_index, est.step[x_index])
    return kink


def _refine(f, x, est, failing, y_ndim) -> tuple:
    """A better yardstick where the first estimate fails: ``(estimate, rounding, straddled)``.

    For the input elements of failing estimates, central differences at shrinking steps
    (:func:`numeric.refined`) replace the estimate and its error bound there: the step scaled
    to ``|x|`` can be far too coarse for an ``f`` that varies on a finer scale. ``straddled``
    maps the elements where the estimates jumped as the step shrank (a kink within the first
    step, or a scale finer than it) to the refined estimate; where that estimate agrees with
    jac, the first step was only too coarse, and nothing is reported."""
    estimate, rounding, straddled = est.estimate.copy(), est.rounding.copy(), {}
    for x_index in dict.fromkeys(tuple(int(i) for i in k[y_ndim:]) for k in np.argwhere(failing)[:MAX_REFINED]):
        better = numeric.refined(f, x, x_index, est.step[x_index])
        at = (...,) + x_index
        mask = np.asarray(failing[at]) & np.isfinite(better.estimate)
        estimate[at] = np.where(mask, better.estimate, estimate[at])
        rounding[at] = np.where(mask, better.error, rounding[at])
        for y_index in np.argwhere(np.atleast_1d(mask & better.kink)):
            key = tuple(int(i) for i in y_index[:y_ndim]) + x_index
            straddled[key] = np.asarray(better.estimate)[key[:y_ndim]]
    return estimate, rounding, straddled


def _kinks(est, automatic, failing, y_ndim: int, straddled: dict) -> dict:
    """Where ``f`` is not smooth: every kink at the point (the one-sided slopes differ),
    and the kinks within the step that explain a failure; the biggest jumps first."""
    mask = est.kink.copy()
    for key in straddled:
        mask[key] = True
    where = np.argwhere(mask)
    jumps = np.abs(est.right - est.left)[mask]
    listed = []
    for k in np.argsort(-jumps, kind="stable")[:MAX_KINKS]:
        index = tuple(int(i) for i in where[k])
        entry = {"where": "within_step" if index in straddled else "at_point",
                 "output_index": list(index[:y_ndim]), "input_index": list(index[y_ndim:]),
                 "left": est.left[index], "right": est.right[index], "step": est.step[index[y_ndim:]],
                 "automatic": automatic[index], "numeric": est.estimate[index], "passed": not failing[index]}
        if index in straddled:
            entry["numeric_small_step"] = straddled[index]
        listed.append(entry)
    return {"kinks": listed, "kink_count": int(len(where))}


def scalar_input(problem, what: str) -> str:
    """The one input of a scalar function of a scalar (``--limit``, ``jac plot``)."""
    g = problem.graph
    y_shape = tuple(g.output_shape)
    if int(np.prod(y_shape, dtype=np.int64)) != 1:
        raise JacShapeError(f"{what} needs a scalar output, but the output has shape {fmt(y_shape)}; "
                            "reduce it first, e.g. sum(...)")
    if len(problem.wrt) != 1:
        listed = ", ".join(problem.wrt) or "none"
        raise JacUsageError(f"{what} needs exactly one input to vary, but there are {len(problem.wrt)} ({listed}); "
                            "pick one with --wrt NAME")
    name = problem.wrt[0]
    shape = tuple(g.nodes[g.inputs[name]].shape)
    if int(np.prod(shape, dtype=np.int64)) != 1:
        raise JacShapeError(f"{what} needs a scalar input, but '{name}' has shape {fmt(shape)}")
    return name


def limit(problem, steps=numeric.LIMIT_STEPS) -> list:
    """``[(h, (f(x+h) - f(x)) / h)]`` for a scalar function of one scalar input."""
    name = scalar_input(problem, "--limit")
    return numeric.limit_table(function_of(problem, name), problem.env[name], steps)
