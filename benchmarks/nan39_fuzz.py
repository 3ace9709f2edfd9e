"""NaN, inf and zero artefacts: random PyTorch expressions at 0, -0.0, ±inf, NaN, 1e308, 1e-308 and subnormals,
against PyTorch.

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/nan39_fuzz.py [--cases N] [--seed S]
        [--points P] [-k SUBSTRING] [-v])

Each case is an expression of two inputs ``x`` and ``y`` (length 4) drawn from element-wise ops (log / exp
families, powers, divisions, xlogy / xlog1py / entr, where and masking, nan_to_num), reductions, softmax /
logsumexp, norms and losses (kl_div, binary_cross_entropy, mse, poisson_nll, smooth_l1), evaluated at P points
whose entries are drawn from {0, -0.0, inf, -inf, NaN, 1e308, 1e-308, 5e-324, 1, -1, 0.5, 2} (two specials at
most, the rest ordinary numbers). The checks and verdicts are benchmarks/kinks39_fuzz.py's (value, reverse
Jacobian ``J``, forward Jacobian ``Jfwd``, ``vjp``, ``jvp``, Hessian ``H``), entry by entry, NaN == NaN counted as
agreeing: ``nan`` (PyTorch NaN / inf where jac has a number: a 0 · inf of PyTorch's dense pass, which jac's
structured Jacobian avoids, or a documented choice), ``jac nan`` (jac NaN / inf where PyTorch has a number: fix
unless documented), ``nonfinite`` (both sides non-finite at different entries), ``differ`` (a finite number against
another: a silent wrong answer), ``torch modes`` (PyTorch's forward mode differs from its reverse mode and jac's
forward gives the reverse mode's answer), ``torch overflow`` (a ``differ`` where PyTorch's value is ±inf and
jac's finite, or a norm's value differs: PyTorch's norm of 1e308 overflows, jac's is scaled).
Prints the counts and the first point of each text that did not agree; exit 1 when anything differs.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from kinks39_fuzz import RANK, Timeout, alarm, run_case, torch_side  # noqa: E402

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, 1e-308, 5e-324]
ORDINARY = [1.0, -1.0, 0.5, 2.0]

ELEMENTWISE = [
    "torch.log({a})", "torch.exp({a})", "torch.log1p({a})", "torch.expm1({a})", "torch.log2({a})",
    "torch.sqrt({a})", "torch.rsqrt({a})", "torch.reciprocal({a})", "1.0 / {a}", "{a} / {b}", "{a} * {b}",
    "{a} ** 2", "{a} ** 0.5", "{a} ** -1", "torch.abs({a}) ** {b}", "torch.pow(2.0, {a})", "{a} ** {b}",
    "torch.xlogy({a}, {b})", "torch.xlogy({a}, torch.abs({b}))", "torch.special.xlog1py({a}, {b})",
    "torch.special.entr({a})", "torch.exp(torch.xlogy({a}, torch.abs({b})))", "torch.sigmoid({a})",
    "torch.tanh({a})", "F.softplus({a})", "torch.logaddexp({a}, {b})", "torch.hypot({a}, {b})",
    "torch.atan2({a}, {b})", "torch.nan_to_num({a})", "torch.nan_to_num(torch.log({a}))",
    "torch.where({a} > 0, {a}, 0.0)", "torch.where({a} > 0, torch.log({a}), 0.0)",
    "torch.where(torch.isfinite({a}), {a}, 0.0)", "{a}.masked_fill({a} < 0, 0.0)", "torch.relu({a})",
    "torch.clamp({a}, -1.0, 1.0)", "torch.maximum({a}, {b})", "torch.fmax({a}, {b})", "torch.sin({a})",
    "torch.special.logit({a})", "torch.erf({a})", "torch.lgamma({a})", "torch.sinc({a})",
    "torch.log(torch.relu({a}))", "torch.sqrt(torch.relu({a}))", "{a} - {b}", "{a} + 1.0",
]
VECTOR = [
    "torch.softmax({a}, 0)", "F.log_softmax({a}, 0)", "torch.cumsum({a}, 0)", "torch.cumprod({a}, 0)",
    "torch.logcumsumexp({a}, 0)", "F.normalize({a}, dim=0)", "torch.flip({a}, [0])",
]
REDUCE = [
    "torch.sum({a})", "torch.mean({a})", "torch.prod({a})", "torch.logsumexp({a}, 0)", "torch.amax({a})",
    "torch.norm({a})", "torch.linalg.vector_norm({a}, 1)", "torch.linalg.vector_norm({a}, float('inf'))",
    "torch.var({a})", "torch.std({a})", "torch.nansum({a})", "torch.nanmean({a})",
    "torch.logsumexp(torch.log(torch.relu({a})), 0)", "torch.dist({a}, {b})",
    "F.kl_div({a}, torch.abs({b}), reduction='sum')", "F.kl_div({a}, {b}, reduction='sum', log_target=True)",
    "F.binary_cross_entropy(torch.sigmoid({a}), torch.sigmoid({b}), reduction='sum')",
    "F.binary_cross_entropy_with_logits({a}, torch.sigmoid({b}), reduction='sum')",
    "F.mse_loss({a}, {b})", "F.smooth_l1_loss({a}, {b})", "F.poisson_nll_loss({a}, torch.abs({b}))",
    "F.huber_loss({a}, {b})", "F.cross_entropy({a}.reshape(1, -1), torch.softmax({b}, 0).reshape(1, -1))",
]


def draw(rng: random.Random) -> str:
    code = rng.choice(["x", "x", "y", "x - y", "x * y"])
    for _ in range(rng.randint(1, 2)):
        t = rng.choice(ELEMENTWISE if rng.random() < 0.75 else VECTOR)
        code = t.format(a=f"({code})", b=rng.choice(["y", "x", "torch.flip(x, [0])"]))
    if rng.random() < 0.6:
        code = rng.choice(REDUCE).format(a=f"({code})", b=rng.choice(["y", "torch.flip(x, [0])"]))
    return code


def point(rng: random.Random, n: int) -> np.ndarray:
    out = np.array([rng.choice(ORDINARY) for _ in range(n)])
    for i in rng.sample(range(n), rng.randint(1, 2)):
        out[i] = rng.choice(SPECIAL)
    return out


def overflowed(text: str, x, y) -> bool:
    """PyTorch's value holds ±inf where jac's is finite: torch.dist / normalize of 1e308, which PyTorch squares
    past the largest double and jac's scaled norm does not; its derivatives then differ too."""
    from jacobi_cli.tools import api
    theirs = torch_side(text, x, y, None, None, None)["value"]
    try:
        ours = np.asarray(api.evaluate(text, {"x": x, "y": y}))
    except Exception:
        return False
    if not isinstance(theirs, np.ndarray) or theirs.shape != ours.shape:
        return False
    return bool((np.isinf(theirs) & np.isfinite(ours)).any() or
                (np.isfinite(theirs) & np.isfinite(ours) & (theirs != ours)).any() and "norm" in text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--points", type=int, default=2)
    ap.add_argument("--seed", type=int, default=39)
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    args = ap.parse_args(argv)
    import torch
    torch.set_default_dtype(torch.float64)
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, alarm)
    tally, per_check, listed = Counter(), Counter(), Counter()
    ran = 0
    for _ in range(args.cases):
        text = draw(rng)
        points = [(point(rng, 4), point(rng, 4)) for _ in range(args.points)]
        if args.k not in text:
            continue
        for x, y in points:
            ran += 1
            signal.alarm(args.timeout)
            try:
                verdicts = run_case(text, x, y, rng, torch_side)
            except Timeout:
                verdicts = {"all": "timeout"}
            except Exception as e:  # a crash of jac (anything but a JacError)
                verdicts = {"all": f"crash {type(e).__name__}: {e}"[:120]}
            finally:
                signal.alarm(0)
            worst = "same"
            for k, verdict in verdicts.items():
                per_check[(k, verdict.split(":")[0])] += 1
                if RANK.get(verdict.split(" ")[0], 9) > RANK.get(worst.split(" ")[0], 9):
                    worst = verdict
            if worst.startswith("differ") and overflowed(text, x, y):
                worst = "torch overflow"  # PyTorch's value is ±inf where jac's is finite (a norm of 1e308: jac scales)
            tally[worst] += 1
            if worst != "same" or args.v:
                bad = {k: vv for k, vv in verdicts.items() if vv != "same"}
                if listed[text] < 1 or args.v:
                    print(f"{worst:14} {text}  x={x.tolist()} y={y.tolist()}  {bad}", flush=True)
                listed[text] += 1
    print(f"\n{ran} (case, point) runs of {args.cases} drawn expressions (seed {args.seed}): "
          + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print("per check: " + ", ".join(f"{k}/{v} {c}" for (k, v), c in sorted(per_check.items())))
    return 1 if any(k.startswith(("differ", "crash")) for k in tally) else 0


if __name__ == "__main__":
    sys.exit(main())
