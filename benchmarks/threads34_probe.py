"""The API from many threads at once, through a cache too small for the expressions: a probe.

    PYTHONPATH=. python benchmarks/threads34_probe.py [--n 80] [--threads 6] [--calls 3000] [--cache 6] [--seed 1]
    PYTHONPATH=. python benchmarks/threads34_probe.py --snippets [--threads 6] [--calls 3000] [--cache 6]

``--n`` expressions are drawn as ``paths33_fuzz.py`` draws them (structured ops and ``numpy_fuzz``'s programs;
with ``--snippets``, ``snippets33_probe.py``'s realistic programs instead),
and each one's answers are computed alone first, in one thread with a cache of its own: the value, the
Jacobian (auto, forward and reverse mode, under a budget of 3 KB, in float32), a VJP, a JVP and, for an
output of at most four elements, the Hessian and the third derivative. Then
``--threads`` threads make ``--calls`` calls in all, each an (expression, kind) drawn at random, through the
module's one cache shrunk to ``--cache`` entries, so that compiled functions are evicted and compiled again
while other threads hold them, their kernels are built (from the third call on) while other threads call them,
and a refusal in one thread meets a success in another. Every answer must agree with the one made alone (bit
for bit, or within 1e-12 relative: another order of the same sums, counted as ``rounding``), every refusal must
be the one made alone, and no input, v or tangent may change. Exit 1 on a MISMATCH, a MUTATED input or a CRASH.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import traceback
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from paths33_fuzz import draw, inputs_for  # noqa: E402

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

KINDS = ("value", "jac-auto", "jac-forward", "jac-reverse", "jac-budget", "jac-float32", "vjp", "jvp", "hessian",
         "order3")


def arrays(result) -> list:
    """The arrays of an answer, in a fixed order (a dict's by key)."""
    if isinstance(result, dict):
        return [a for k in sorted(result) for a in arrays(result[k])]
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in arrays(r)]
    return [np.asarray(result)]


def same(got, want) -> str | None:
    """``"exact"`` or ``"rounding"`` when ``got`` agrees with ``want``, else None."""
    g, w = arrays(got), arrays(want)
    if len(g) != len(w):
        return None
    status = "exact"
    for a, b in zip(g, w):
        if a.shape != b.shape or a.dtype != b.dtype:
            return None
        if a.tobytes() == b.tobytes():
            continue
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if (nan_a != nan_b).any():
            return None
        fa, fb = a[~nan_a], b[~nan_b]
        if not np.allclose(fa, fb, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(fb).max(initial=0)))):
            return None
        status = "rounding"
    return status


class Case:
    """One expression with its inputs, its v and tangents, and its answers made alone."""

    def __init__(self, program: str, inputs: dict):
        self.program, self.inputs = program, inputs
        self.copies = {n: a.copy() for n, a in self.inputs.items()}
        self.v = self.tangents = None
        self.answers = {}

    def call(self, kind: str):
        p, x = self.program, self.inputs
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "value":
                return api.evaluate(p, x)
            if kind == "jac-budget":  # chunked passes: a plan of its own in the compiled function
                return api.jacobian(p, x, max_memory="3K")
            if kind == "jac-float32":
                return api.jacobian(p, x, dtype="float32")
            if kind.startswith("jac-"):
                return api.jacobian(p, x, mode=kind[4:])
            if kind == "vjp":
                return api.vjp(p, x, v=self.v)
            if kind == "jvp":
                return api.jvp(p, x, tangents=self.tangents)
            if kind == "order3":
                return api.derivative(p, x, order=3, wrt=sorted(x)[0])
            return api.hessian(p, x)

    def outcome(self, kind: str):
        try:
            return ("ok", self.call(kind))
        except JacError as e:
            return ("refused", f"{type(e).__name__}: {e}")

    def alone(self) -> bool:
        """The answers made alone (a fresh cache); False when the value itself is refused or not one float array."""
        api.clear_cache()
        status, y = self.outcome("value")
        if status != "ok" or isinstance(y, tuple) or np.asarray(y).dtype.kind != "f" or not self.inputs:
            return False
        rng = np.random.default_rng(len(self.program))
        y = np.asarray(y)
        self.v = rng.standard_normal(y.shape)
        self.tangents = {n: rng.standard_normal(a.shape) for n, a in self.inputs.items()}
        for kind in KINDS:
            if kind in ("hessian", "order3") and y.size > 4:
                continue
            api.clear_cache()
            self.answers[kind] = self.outcome(kind)
        return True

    def mutated(self) -> str | None:
        for n, a in self.inputs.items():
            if a.tobytes() != self.copies[n].tobytes():
                return n
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=80)
    ap.add_argument("--threads", type=int, default=6)
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--cache", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=10)
    ap.add_argument("--snippets", action="store_true", help="snippets33_probe.py's snippets instead of drawn ones")
    a = ap.parse_args()
    start = time.time()
    if a.snippets:  # the realistic snippets of snippets33_probe.py: functions, loops, lists, modules, imports
        from snippets33_probe import SNIPPETS
        drawn = [Case(s.code, {k: np.array(v, dtype=float) for k, v in s.inputs.items()}) for s in SNIPPETS]
    else:
        drawn = [Case(p, inputs_for(a.seed, k, p)) for k, p in ((k, draw(a.seed, k)) for k in range(a.n))]
    cases = [c for c in drawn if c.alone()]
    work = [(c, kind) for c in cases for kind in c.answers]
    alone = time.time() - start
    api.clear_cache()
    cache = api._CACHE
    saved = cache.size
    cache.size = a.cache
    counts, bad = Counter(), []
    lock = threading.Lock()

    def worker(t: int) -> None:
        r = random.Random(a.seed * 1000 + t)
        for _ in range(a.calls // a.threads):
            case, kind = r.choice(work)
            try:
                got = case.outcome(kind)
            except Exception as e:  # noqa: BLE001
                status, detail = "CRASH", f"{type(e).__name__}: {e} | {traceback.format_exc(limit=-3)[-300:]}"
            else:
                want = case.answers[kind]
                if got[0] != want[0]:
                    status, detail = "MISMATCH", f"{got[0]} where alone {want[0]}: {str(got[1])[:200]}"
                elif got[0] == "refused":
                    status, detail = ("AGREE", "") if got[1] == want[1] else ("MISMATCH", f"{got[1]} vs {want[1]}")
                else:
                    s = same(got[1], want[1])
                    status, detail = (s, "") if s else ("MISMATCH", "answer differs from the one made alone")
                name = case.mutated()
                if name is not None:
                    status, detail = "MUTATED", f"input {name} changed"
            with lock:
                counts[status] += 1
                if status in ("MISMATCH", "MUTATED", "CRASH"):
                    bad.append((status, kind, case.program, detail))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(a.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    cache.size = saved
    print(f"seed {a.seed}: {len(cases)} expressions ({len(work)} expression-kinds) made alone in {alone:.0f} s; "
          f"{sum(counts.values())} calls from {a.threads} threads through a cache of {a.cache}, "
          f"{time.time() - start - alone:.0f} s")
    print("  " + "  ".join(f"{s} {counts[s]}" for s in ("exact", "rounding", "AGREE", "MISMATCH", "MUTATED", "CRASH")))
    for status, kind, program, detail in bad[:a.show]:
        print(f"{status} {kind}: {program}\n    {detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
