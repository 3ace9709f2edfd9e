"""The hsym14 correctness sweep of the symbolic paths: ``jac diff`` (components, matrix forms, index forms,
``--order 2/3``) and ``jac eval --symbolic`` against jac's numeric Jacobian and PyTorch's
``torch.autograd.functional.jacobian`` (float64) at random points, and at the points where forms differ in
domain (singular matrices, zeros of log/sqrt/abs, ties of max/min, kinks of relu/abs/clamp).

    PYTHONPATH=. python benchmarks/symbolic14_sweep.py [-k SUBSTRING] [--seeds 2] [--verbose] [--quick]

The cases: every element-wise function of jac's vocabulary that ``torch`` / ``torch.special`` / ``F`` spells
alike (found by trying ``torch.NAME(x)`` and ``torch.NAME(x, y)`` on both, in a domain where both are
finite), each in seven compositions at scalar, vector, matrix and broadcast shapes (``VARIANTS_1``,
``VARIANTS_2``); the structured functions and their compositions of ``tests/test_symbolic_sweep14.py``
(``STRUCTURED``, ``HIGHER``, ``SPECIAL_POINTS``). Each (case, point) is ``agree``, ``refused`` (a JacError:
listed), ``crash`` (anything else: a defect) or ``differ`` (a defect: what differs and where; see
``tests/symsweep.py`` for what is compared). Prints every line that does not agree and the tally.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import symsweep as S  # noqa: E402
import test_symbolic_sweep14 as T  # noqa: E402

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

# PyTorch's gradients known to differ from the exact derivative: hardsigmoid's slope is float32's 1/6
# (0.1666666716337204) in float64 too; jac's is 1/6
KNOWN = {"F.hardsigmoid"}
# every function name of torch / torch.special / F tried as f(x) and f(x, y) (and kept where jac and PyTorch
# both answer finite values of shape (3,) that agree)
DOMAINS = [(0.2, 0.8), (1.2, 2.0), (-0.8, -0.2)]
NOT_ELEMENTWISE = {"argsort", "as_tensor", "asarray", "atleast_1d", "cartesian_prod", "clone", "flatten", "flipud",
                   "ravel", "squeeze", "t", "tensor", "ones_like", "zeros_like", "softmin", "cross", "max", "min",
                   "hinge_embedding_loss", "resolve_conj", "resolve_neg", "conj", "conj_physical", "real",
                   "positive", "detach", "isclose"}
# f composed at several shapes: (text with f(...), spec, wrt, order)
VARIANTS_1 = [
    ("{f}(x)", {"x": "3"}, None, 1),
    ("torch.sum({f}(x))", {"x": "n"}, None, 1),
    ("A @ {f}(x)", {"A": "mn", "x": "n"}, ["x"], 1),
    ("{f}(A)", {"A": "nm"}, None, 1),
    ("{f}(A) * x", {"A": "nm", "x": "m"}, None, 1),
    ("{f}(s) * x", {"s": "", "x": "3"}, None, 1),
    ("torch.sum({f}(x))", {"x": "3"}, None, 2),
    ("torch.sum({f}(x) * y)", {"x": "2", "y": "2"}, ["x"], 3),
]
VARIANTS_2 = [
    ("{f}(x, y)", {"x": "3", "y": "3"}, None, 1),
    ("{f}(x, y)", {"x": "3", "y": "3"}, ["y"], 1),
    ("torch.sum({f}(x, y))", {"x": "n", "y": "n"}, ["y"], 1),
    ("torch.sum({f}(x, y))", {"x": "n", "y": "n"}, None, 1),
    ("{f}(A, x)", {"A": "nm", "x": "m"}, None, 1),
    ("{f}(x, s)", {"x": "3", "s": ""}, None, 1),
    ("torch.sum({f}(x, y))", {"x": "3", "y": "3"}, ["x"], 2),
]


def discover():
    """(unary, binary): ``(spelling, (lo, hi))`` of each element-wise function both libraries answer."""
    import torch

    from jacobi_cli.lang import functions

    rng = np.random.default_rng(0)
    ns = S.torch_namespace()
    found = ([], [])
    for name in sorted(functions.FUNCTIONS):
        if name in NOT_ELEMENTWISE:
            continue
        module = next((m for m, o in (("torch", torch), ("torch.special", torch.special),
                                      ("F", torch.nn.functional)) if hasattr(o, name)), None)
        if module is None:
            continue
        for arity in (1, 2):
            expr = f"{module}.{name}({'x' if arity == 1 else 'x, y'})"
            for lo, hi in DOMAINS:
                point = {"x": rng.uniform(lo, hi, 3), "y": rng.uniform(lo, hi, 3)}
                point = point if arity == 2 else {"x": point["x"]}
                try:
                    ours = np.asarray(api.evaluate(expr, point), dtype=np.float64)
                    theirs = S.torch_value(expr, point)
                except Exception:  # noqa: BLE001 - not this spelling or not this domain
                    continue
                if ours.shape == (3,) and np.all(np.isfinite(ours)) and S.how(ours, theirs, 1e-9) is None:
                    found[arity - 1].append((f"{module}.{name}", (lo, hi)))
                    break
    return found


def vocabulary_cases():
    unary, binary = discover()
    for fn, (lo, hi) in unary:
        for text, spec, wrt, order in VARIANTS_1:
            yield text.format(f=fn), spec, wrt, order, (lo, hi)
    for fn, (lo, hi) in binary:
        for text, spec, wrt, order in VARIANTS_2:
            yield text.format(f=fn), spec, wrt, order, (lo, hi)


def eval_symbolic_cases(k: str = ""):
    """``jac eval --symbolic`` of every element-wise function times a scalar, and summed after a product."""
    rng = np.random.default_rng(5)
    unary, _ = discover()
    for fn, (lo, hi) in unary:
        mid = (lo + hi) / 2
        for expr in (f"{fn}(x) * y", f"torch.sum({fn}(A @ x))"):
            if k not in expr:
                continue
            x = rng.uniform(lo, hi, 3)
            if "A @" in expr:  # A @ x stays in (lo, hi): rows of A sum to 1, x near the domain's middle
                a = rng.uniform(0.2, 0.4, (2, 3))
                yield expr, {"A": a / a.sum(axis=1, keepdims=True), "x": mid + (x - mid) * 0.5}
            else:
                yield expr, {"x": x, "y": rng.uniform(lo, hi, ())}


class _Late(Exception):
    pass


def _alarm(*_):
    raise _Late()


def run_one(expr, spec, wrt, order, domain, seed, point=None):
    rng = np.random.default_rng(seed)
    lo, hi = domain
    point = S.random_point(spec, rng, lo, hi) if point is None else point
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        return S.compare(expr, spec, point, wrt, order)
    except _Late:
        return [("slow", "over 60 s")]
    except JacError as err:
        return [("refused", err.message)]
    except Exception as err:  # noqa: BLE001 - PyTorch refusing, or a crash of jac's
        where = traceback.extract_tb(err.__traceback__)[-1]
        return [("crash", f"{type(err).__name__}: {err} ({os.path.basename(where.filename)}:{where.lineno})")]
    finally:
        signal.alarm(0)


def main(argv=None):
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the test file's cases only")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    cases = [(e, s, w, o, d) for e, s, w, o, d in T.all_cases()]
    if not args.quick:
        cases += list(vocabulary_cases())
    cases = [c for c in cases if args.k in c[0]]
    tally, start = Counter(), time.time()
    for expr, spec, wrt, order, domain in cases:
        for seed in range(args.seeds):
            problems = run_one(expr, spec, wrt, order, domain, seed)
            kinds = {p[0].split(" ")[0] for p in problems} - {"torch-raises"}
            tally["vs-jac-only" if any(p[0] == "torch-raises" for p in problems) else "vs-torch"] += 1
            kind = ("agree" if not kinds else "refused" if kinds == {"refused"} else
                    "crash" if "crash" in kinds else "slow" if "slow" in kinds else "differ")
            if kind == "differ" and any(k + "(" in expr for k in KNOWN):
                kind = "known"
            tally[kind] += 1
            if kinds or args.verbose:
                print(f"{kind:8} {expr}  {S.bindings(spec)} wrt={wrt} order={order} seed={seed}: {problems}",
                      flush=True)
            if kind == "refused":
                break  # the same refusal at every point
    if not args.quick:  # jac eval --symbolic: the components beside the numbers, against PyTorch
        for expr, point in eval_symbolic_cases(args.k):
            signal.signal(signal.SIGALRM, _alarm)
            signal.alarm(60)
            try:
                problems = S.compare_eval_symbolic(expr, point)
            except Exception as err:  # noqa: BLE001
                problems = [("crash", f"{type(err).__name__}: {err}")]
            finally:
                signal.alarm(0)
            kinds = {p[0].split(" ")[0] for p in problems}
            kind = "agree" if not kinds else "refused" if kinds == {"refused"} else "differ"
            kind = "known" if kind == "differ" and any(k + "(" in expr for k in KNOWN) else kind
            tally[f"eval-symbolic-{kind}"] += 1
            if kind not in ("agree", "refused") or args.verbose:
                print(f"eval-symbolic {kind:8} {expr}: {problems}", flush=True)
    for label, pts in T.special_point_cases():
        tally["special"] += 1
        problems = T.special_point_problems(*pts)
        if problems:
            tally["special-differ"] += 1
            print(f"special  {label}: {problems}", flush=True)
    compared = tally["vs-torch"] + tally["vs-jac-only"]
    print(f"\n{len(cases)} cases, {compared} (case, point) comparisons ({tally['vs-torch']} against PyTorch, "
          f"{tally['vs-jac-only']} against jac eval / jac derivative only: PyTorch has no such derivative) in "
          f"{time.time() - start:.0f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())
                                                     if not k.startswith(("vs-", "eval-symbolic-"))))
    print("eval --symbolic: " + ", ".join(f"{k[14:]} {v}" for k, v in sorted(tally.items())
                                         if k.startswith("eval-symbolic-")))


if __name__ == "__main__":
    main()
