"""Every op of the registry against finite differences at many points, beyond tests/test_ops.py's one draw.

    PYTHONPATH=. /work/venv/bin/python benchmarks/opscheck36_probe.py [-k SUBSTRING] [--seeds N] [--verbose]

Each case of ``tests/test_ops.py``'s ``CASES`` (all of them: the file's tables as they end) is drawn ``--seeds``
times (default 12) in three regions: the op's ``domain`` (as the tests draw), ``wide``, the domain widened by
its length on each side, and ``grid``: round numbers -3 ... 3 (kinks, zeros, ties; the named arguments,
"orders3", "square", ..., stay as the tests fix them in every region). At each
draw, for each argument whose derivative jac gives: jac's reverse and forward Jacobians against Richardson's
extrapolated central differences (error O(h⁶)); an element counts where the function is smooth there (finite
estimate, no kink in the one-sided slopes, Richardson and plain central differences within 1e-6 of each other).
Then, at the first three draws of each region, the second derivative of ``sum(w * op(args))`` (jac's Hessian)
against the same estimate of jac's gradient.

Per element: ``agree`` (rtol 1e-5, atol 1e-7), ``WRONG`` (a finite, smooth estimate and another number from
jac: the silent wrong answer), ``nonfinite`` (jac gives NaN or inf where the estimate is finite: not silent, but
listed), ``skipped`` (not smooth there, or the value is not finite), ``FINITE-AT-NAN`` (an element-wise op at finite
arguments whose value is NaN with a finite, non-zero slope: a number for the derivative of no number). For each argument whose derivative jac
refuses, the request must raise jac's error (``refused`` counts those; ``REFUSAL-SILENT`` an answer instead).
``known``: a difference listed in ``KNOWN`` with its reason; ``point-refused``: jac refuses the draw itself (outside
where the op is defined, said in jac's error), ``value-nonfinite``: draws where some value is NaN or inf (the first
derivatives still compared where the estimate is finite; the second derivatives not).
Prints every case with a WRONG, nonfinite or REFUSAL-SILENT element and the tally.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from jacobi_cli.engine import autodiff  # noqa: E402
from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.ir.graph import Builder  # noqa: E402
from jacobi_cli.ir.ops import OPS  # noqa: E402
from jacobi_cli.tools.numeric import central_jacobian, differences  # noqa: E402
from tests import test_ops as T  # noqa: E402

RTOL, ATOL = 1e-5, 1e-7
# differences that are no defect of a derivative rule, and why
KNOWN = {
    # torch.special.airy_ai is PyTorch's approximation (Cephes' asymptotic series below x = -2.09, off SciPy's Ai by
    # up to 3e-6); its rule is the exact Ai' (SciPy's), airy_ai_prime's rule x·Ai reads that approximation: the
    # slopes of the approximation differ from them by ~1e-5 relative there. PyTorch has no derivative of airy_ai.
    ("airy_ai", "wide"): "PyTorch's approximate Ai below -2.09",
    ("airy_ai_prime", "wide"): "PyTorch's approximate Ai below -2.09",
    # scatter_reduce(amax / amin, include_self=False): PyTorch splits the slope with x's element equal to the result
    # although x takes no part (0.5 where the slope is 1); jac gives PyTorch's on purpose (CHANGELOG, session 2x)
    ("scatter_extreme", "grid"): "PyTorch's split with an excluded x",
    # LAPACK's sign of a singular vector flips at an exactly diagonal U (rows orthogonal): the value jumps there;
    # jac's slope is its value's branch's, as PyTorch's
    ("svd_u", "grid"): "LAPACK's sign of U flips at this point",
    # LU of a numerically singular matrix (cond 1.4e16, U's last pivot 5.6e-17): the Hessian's U⁻¹ terms cancel in
    # exact arithmetic only (PyTorch's differs from jac's by 3.9); agrees to cond 2.5e9. No conditioning warning for lu.
    ("lu", "grid"): "LU of a numerically singular matrix",
}


class Wide:
    """An op seen through a wider domain (``_draw`` reads ``domain`` and ``name``)."""

    def __init__(self, op):
        lo, hi = op.domain
        self.name, self.domain = op.name, (lo - (hi - lo), hi + (hi - lo))


GRID = np.array([-3.0, -2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
REGIONS = ("domain", "wide", "grid")


def _arrays(op, shapes, seed, region):
    """The arguments of one draw: ``grid`` puts round numbers (kinks, zeros, ties) at the drawn positions, each
    argument shifted along the grid by its own amount so that the draws pair them differently."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(T._draw(op if region == "domain" else Wide(op), s, rng), dtype=np.float64) for s in shapes]
    if region == "grid":
        for i, s in enumerate(shapes):
            if isinstance(s, tuple):
                arrays[i] = GRID[(seed * (2 * i + 1) + 5 * i + np.arange(arrays[i].size)) % len(GRID)].reshape(s)
    return arrays


def _smooth_estimate(f, x):
    """Richardson's estimate where it is trustworthy, NaN elsewhere."""
    rich = differences(f, x, "richardson", kinks=True)
    plain = central_jacobian(f, x)
    ok = np.isfinite(rich.estimate) & ~rich.kink & np.isclose(rich.estimate, plain, rtol=1e-6, atol=1e-8)
    return np.where(ok, rich.estimate, np.nan)


def _compare(tally, bad, label, got, numeric, known=None):
    usable = np.isfinite(numeric)
    tally["skipped"] += int(np.sum(~usable))
    nonfinite = usable & ~np.isfinite(got)
    close = np.isclose(got, numeric, rtol=RTOL, atol=ATOL)
    wrong = usable & np.isfinite(got) & ~close
    tally["agree"] += int(np.sum(usable & close))
    tally["nonfinite"] += int(np.sum(nonfinite))
    tally["known" if known else "WRONG"] += int(np.sum(wrong))
    if wrong.any() or nonfinite.any():
        label += f" (known: {known})" if known and wrong.any() else ""
        k = np.argwhere(wrong | nonfinite)[0]
        bad.append(f"{label}: {int(np.sum(wrong))} wrong, {int(np.sum(nonfinite))} nonfinite; "
                   f"e.g. at {tuple(int(i) for i in k)} jac {got[tuple(k)]!r} vs differences {numeric[tuple(k)]!r}")


def _first_order(tally, bad, name, k, shapes, params, seed, region):
    op = OPS[name]
    arrays = _arrays(op, shapes, seed, region)
    with np.errstate(all="ignore"):
        value = np.asarray(op.impl(*arrays, **params), dtype=np.float64)
    if not np.all(np.isfinite(value)):  # still checked where the estimate is finite
        tally["value-nonfinite"] += 1
    graph, env = T._graph(name, arrays, params)
    for i in range(len(arrays)):
        if shapes[i] in ("mask",) or not (i < len(op.vjp) and op.vjp[i] is not None):
            continue
        g = graph.with_wrt([f"a{i}"])
        if hasattr(op.vjp[i], "refuses"):
            try:
                autodiff.jacrev(g, autodiff.evaluate(g, env))
            except JacError:
                tally["refused"] += 1
            else:
                tally["REFUSAL-SILENT"] += 1
                bad.append(f"{name}-{k} {region} seed {seed} arg {i}: refused by rule, answered")
            continue

        def f(x, i=i):
            args = list(arrays)
            args[i] = x
            return op.impl(*args, **params)

        with np.errstate(all="ignore"):
            numeric = _smooth_estimate(f, arrays[i])
            values = autodiff.evaluate(g, env)
            rev = autodiff.jacrev(g, values)[f"a{i}"]
            fwd = autodiff.jacfwd(g, values, [f"a{i}"])[f"a{i}"]
        label = f"{name}-{k} {region} seed {seed} arg {i}"
        if op.elementwise and all(np.all(np.isfinite(a)) for a in arrays):  # a number for the slope of a NaN
            rows = np.isnan(value).reshape(-1)
            slopes = rev.reshape(value.size, -1)[rows]
            finite = int(np.sum(np.any(np.isfinite(slopes) & (slopes != 0), axis=1)))
            tally["FINITE-AT-NAN"] += finite
            if finite:
                bad.append(f"{label}: {finite} finite slopes where the value is NaN")
        known = KNOWN.get((name, region))
        _compare(tally, bad, label + " VJP", rev, numeric, known)
        _compare(tally, bad, label + " JVP", fwd, numeric, known)


def _second_order(tally, bad, name, k, shapes, params, seed, region):
    op = OPS[name]
    arrays = _arrays(op, shapes, seed, region)
    rng = np.random.default_rng(seed + 1000)
    graph, env = T._graph(name, arrays, params)
    w = rng.uniform(0.5, 1.5, graph.output_shape)
    b = Builder()
    tracers = [b.input(f"a{i}", np.shape(a)) for i, a in enumerate(arrays)]
    y = b.apply("sum", b.apply("mul", b.apply(name, *tracers, **params), w),
                axes=tuple(range(len(graph.output_shape))))
    wrt = [f"a{i}" for i in range(len(arrays)) if T._differentiable(op, i) and shapes[i] != "mask"]
    if not wrt:
        return
    scalar = b.graph(y).with_wrt(wrt)
    with np.errstate(all="ignore"):
        if not np.isfinite(autodiff.evaluate(scalar, env)[scalar.output]).all():
            tally["value-nonfinite"] += 1
            return
        blocks = autodiff.hessian(scalar, env, wrt)
        for a in wrt:
            def grad(x, a=a):
                env2 = dict(env)
                env2[a] = x
                return autodiff.jacrev(scalar, autodiff.evaluate(scalar, env2))[a]

            numeric = _smooth_estimate(grad, env[a])
            _compare(tally, bad, f"{name}-{k} {region} seed {seed} {a} Hessian", blocks[(a, a)], numeric,
                     KNOWN.get((name, region)))


def _run(tally, crashes, label, check, *args):
    """``check(*args)``; jac's own error at the point (outside the op's domain: lambertw below -1/e, ...) counts as
    ``point-refused``, anything else is a crash."""
    try:
        check(*args)
    except JacError:
        tally["point-refused"] += 1
    except Exception as e:  # noqa: BLE001 - a probe lists every crash
        crashes.append(f"{label}: {type(e).__name__}: {e}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="")
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    first, second, crashes = collections.Counter(), collections.Counter(), []
    bad_cases = collections.defaultdict(list)
    for name, cases in T.CASES.items():
        if args.k not in name:
            continue
        for k, case in enumerate(cases):
            shapes, params = T._normalize(case)
            bad = bad_cases[f"{name}-{k}"]
            for seed in range(args.seeds):
                for region in REGIONS:
                    _run(first, crashes, f"{name}-{k} {region} seed {seed}", _first_order,
                         first, bad, name, k, shapes, params, seed, region)
                    if seed < 3 and name != "prod_except":  # prod_except: reached through prod's rules
                        _run(second, crashes, f"{name}-{k} {region} seed {seed} second order", _second_order,
                             second, bad, name, k, shapes, params, seed, region)
    for case, lines in bad_cases.items():
        if lines:
            print(f"{case}: {len(lines)} draws")
            for line in lines if args.verbose else lines[:3]:
                print("   ", line)
    for line in crashes:
        print("CRASH", line)
    print(f"cases: {sum(len(c) for n, c in T.CASES.items() if args.k in n)}, seeds {args.seeds} x {REGIONS}")
    print("first order (elements):", dict(sorted(first.items())))
    print("second order (elements):", dict(sorted(second.items())))
    print("crashes:", len(crashes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
