"""NaN, inf and zero artefacts, round 2: the op families benchmarks/nan39_fuzz.py did not draw, against PyTorch.

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/nan40_fuzz.py [--cases N] [--seed S]
        [--points P] [-k SUBSTRING] [-v] [--family NAME])

Each case is an expression of two inputs ``x`` and ``y`` (length 4) built around one op of a family: cumulative ops
(cumsum, cumprod, logcumsumexp, cummax, cummin), sorting and selection with ties and NaN (sort, topk, kthvalue,
median, msort, a gather by argsort), norms of every ord (vector norms 0, 0.5, 1, 2, 3, inf, -inf, -1; matrix norms
fro, nuc, 1, -1, 2, -2, inf, -inf; torch.norm, dist, normalize), the losses of torch.nn.functional, pooling (max, avg,
lp, adaptive), atan2 / hypot / copysign, fmod / remainder, clamp with infinite or tensor bounds, and special
functions (erfc, erfinv, lgamma, digamma, polygamma, i0 / i0e / i1 / i1e, ndtr / ndtri / log_ndtr, erfcx, logit,
entr, xlog1py, sinc, softplus, logsigmoid, ...), sometimes behind an element-wise op of nan39's and before a
reduction, evaluated at P points whose entries are drawn from {0, -0.0, inf, -inf, NaN, 1e308, 1e-308, 5e-324} (one
or two of them, and a tie half the time) among {1, -1, 0.5, 2}, in float64. The checks, verdicts and ranking are
nan39_fuzz.py's (kinks39_fuzz.py's ``run_case``): value, reverse Jacobian ``J``, forward ``Jfwd``, ``vjp``, ``jvp``,
Hessian ``H`` of a weighted sum, entry by entry, NaN == NaN agreeing; ``differ`` (a finite number against another:
a silent disagreement) first. ``jac refuses`` is a JacError where PyTorch answers (listed, not wrong).
Prints the first point of each text that did not agree, the counts per verdict, per check and per family.
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

from kinks39_fuzz import RANK, alarm, run_case, torch_side, Timeout  # noqa: E402
from nan39_fuzz import ELEMENTWISE, ORDINARY, SPECIAL, overflowed  # noqa: E402

# family -> templates of one operand {a} (length 4) and another {b}; each gives a vector or a scalar
FAMILIES = {
    "cumulative": [
        "torch.cumsum({a}, 0)", "torch.cumprod({a}, 0)", "torch.logcumsumexp({a}, 0)", "torch.cummax({a}, 0).values",
        "torch.cummin({a}, 0).values", "torch.cumprod({a}, 0) * {b}", "torch.cumsum(torch.cumprod({a}, 0), 0)",
        "torch.cumprod(torch.flip({a}, [0]), 0)", "torch.logcumsumexp({a} * {b}, 0)",
    ],
    "sorting": [
        "torch.sort({a}).values", "torch.sort({a}, descending=True).values", "torch.msort({a})",
        "torch.topk({a}, 2).values", "torch.topk({a}, 2, largest=False).values", "torch.kthvalue({a}, 2).values",
        "torch.median({a})", "torch.nanmedian({a})", "{a}[torch.argsort({a})]", "torch.max({a})", "torch.min({a})",
        "torch.amax({a})", "torch.amin({a})", "torch.sort({a} * {b}).values", "torch.max({a}.reshape(2, 2), 1).values",
        "torch.median({a}.reshape(2, 2), 0).values", "torch.aminmax({a}).max",
    ],
    "norms": [
        "torch.linalg.vector_norm({a}, 0)", "torch.linalg.vector_norm({a}, 0.5)", "torch.linalg.vector_norm({a}, 1)",
        "torch.linalg.vector_norm({a}, 2)", "torch.linalg.vector_norm({a}, 3)",
        "torch.linalg.vector_norm({a}, float('inf'))", "torch.linalg.vector_norm({a}, float('-inf'))",
        "torch.linalg.vector_norm({a}, -1)", "torch.linalg.matrix_norm({a}.reshape(2, 2))",
        "torch.linalg.matrix_norm({a}.reshape(2, 2), 'nuc')", "torch.linalg.matrix_norm({a}.reshape(2, 2), 1)",
        "torch.linalg.matrix_norm({a}.reshape(2, 2), -1)", "torch.linalg.matrix_norm({a}.reshape(2, 2), 2)",
        "torch.linalg.matrix_norm({a}.reshape(2, 2), -2)",
        "torch.linalg.matrix_norm({a}.reshape(2, 2), float('inf'))",
        "torch.linalg.matrix_norm({a}.reshape(2, 2), float('-inf'))", "torch.norm({a})", "torch.norm({a}, p=1)",
        "torch.dist({a}, {b})", "torch.dist({a}, {b}, 1)", "torch.dist({a}, {b}, float('inf'))",
        "F.normalize({a}, dim=0)", "F.normalize({a}, p=1.0, dim=0)",
        "torch.linalg.vector_norm({a}.reshape(2, 2), dim=1)",
    ],
    "losses": [
        "F.l1_loss({a}, {b})", "F.mse_loss({a}, {b}, reduction='sum')", "F.smooth_l1_loss({a}, {b}, beta=0.5)",
        "F.huber_loss({a}, {b}, delta=2.0)", "F.soft_margin_loss({a}, torch.sign({b}))",
        "F.kl_div({a}, torch.abs({b}), reduction='batchmean')", "F.kl_div({a}, {b}, log_target=True)",
        "F.binary_cross_entropy(torch.sigmoid({a}), torch.sigmoid({b}))",
        "F.binary_cross_entropy_with_logits({a}, torch.sigmoid({b}))",
        "F.binary_cross_entropy_with_logits({a}, torch.sigmoid({b}), pos_weight=torch.abs({b}))",
        "F.poisson_nll_loss({a}, torch.abs({b}), log_input=False)", "F.poisson_nll_loss({a}, torch.abs({b}), full=True)",
        "F.gaussian_nll_loss({a}, {b}, torch.abs({b}) + 0.5)", "F.hinge_embedding_loss({a}, torch.sign({b}))",
        "F.margin_ranking_loss({a}, {b}, torch.ones(4))", "F.cosine_embedding_loss({a}.reshape(2, 2), "
        "{b}.reshape(2, 2), torch.tensor([1.0, -1.0]))",
        "F.cross_entropy({a}.reshape(1, -1), torch.tensor([1]))",
        "F.cross_entropy({a}.reshape(2, 2), torch.tensor([1, 0]), label_smoothing=0.1)",
        "F.nll_loss(F.log_softmax({a}.reshape(2, 2), 1), torch.tensor([0, 1]))",
        "F.multilabel_soft_margin_loss({a}.reshape(1, -1), torch.tensor([[1.0, 0.0, 1.0, 0.0]]))",
        "F.triplet_margin_loss({a}.reshape(2, 2), {b}.reshape(2, 2), torch.flip({a}, [0]).reshape(2, 2))",
    ],
    "pooling": [
        "F.max_pool1d({a}.reshape(1, 1, -1), 2).reshape(-1)", "F.avg_pool1d({a}.reshape(1, 1, -1), 2).reshape(-1)",
        "F.lp_pool1d({a}.reshape(1, 1, -1), 2.0, 2).reshape(-1)", "F.lp_pool1d({a}.reshape(1, 1, -1), 1.0, 2).reshape(-1)",
        "F.adaptive_avg_pool1d({a}.reshape(1, 1, -1), 3).reshape(-1)",
        "F.adaptive_max_pool1d({a}.reshape(1, 1, -1), 3).reshape(-1)",
        "F.max_pool1d({a}.reshape(1, 1, -1), 3, 1, padding=1).reshape(-1)",
        "F.avg_pool1d({a}.reshape(1, 1, -1), 3, 1, padding=1, count_include_pad=False).reshape(-1)",
        "F.max_pool2d({a}.reshape(1, 2, 2), 2).reshape(-1)", "F.avg_pool2d({a}.reshape(1, 2, 2), 2).reshape(-1)",
    ],
    "angles": [
        "torch.atan2({a}, {b})", "torch.atan2({b}, {a})", "torch.hypot({a}, {b})", "torch.hypot({a}, {a})",
        "torch.copysign({a}, {b})", "torch.copysign({b}, {a})", "torch.atan2({a}, {a})", "torch.copysign({a}, -0.0)",
    ],
    "modulo": [
        "torch.fmod({a}, {b})", "torch.remainder({a}, {b})", "torch.fmod({a}, 1.5)", "torch.remainder({a}, 1.5)",
        "torch.fmod({b}, {a})", "torch.remainder({b}, {a})", "{a} % {b}", "torch.fmod({a}, -2.0)",
    ],
    "clamp": [
        "torch.clamp({a}, float('-inf'), float('inf'))", "torch.clamp({a}, min=float('-inf'))",
        "torch.clamp({a}, 0.0, float('inf'))", "torch.clamp({a}, max=float('inf'))",
        "torch.clamp({a}, min={b})", "torch.clamp({a}, {b}, {b} + 1.0)", "torch.clamp({a}, max={b})",
        "torch.clamp({a}, float('-inf'), 1.0)", "torch.clip({a}, -1.0, 1.0)", "torch.clamp({a}, {b}, {b})",
    ],
    "special": [
        "torch.erfc({a})", "torch.erfinv({a})", "torch.lgamma({a})", "torch.digamma({a})",
        "torch.polygamma(1, {a})", "torch.i0({a})", "torch.special.i0e({a})", "torch.special.i1({a})",
        "torch.special.i1e({a})", "torch.special.ndtr({a})", "torch.special.ndtri({a})", "torch.special.log_ndtr({a})",
        "torch.special.erfcx({a})", "torch.special.logit({a})", "torch.special.logit({a}, eps=1e-6)",
        "torch.special.entr({a})", "torch.special.xlog1py({a}, {b})", "torch.special.xlogy({a}, {b})",
        "torch.sinc({a})", "F.softplus({a})", "F.logsigmoid({a})", "torch.special.expit({a})",
        "torch.special.log1p({a})", "torch.special.expm1({a})", "torch.special.exp2({a})", "torch.special.psi({a})",
        "torch.special.gammaln({a})", "torch.special.multigammaln(torch.abs({a}) + 1.0, 2)",
        "torch.special.sinc({a} * {b})", "torch.special.erf({a})",
    ],
}
REDUCE = ["torch.sum({a})", "torch.mean({a})", "torch.prod({a})", "torch.logsumexp({a}, 0)", "torch.nansum({a})",
          "torch.std({a})", "torch.amax({a})"]


def draw(rng: random.Random, family: str, families: dict = FAMILIES) -> str:
    code = rng.choice(["x", "x", "y", "x - y", "x * y"])
    if rng.random() < 0.25:
        code = rng.choice(ELEMENTWISE).format(a=f"({code})", b=rng.choice(["y", "x"]))
    code = rng.choice(families[family]).format(a=f"({code})", b=rng.choice(["y", "torch.flip(x, [0])"]))
    if rng.random() < 0.4:
        code = rng.choice(REDUCE).format(a=f"({code})")
    return code


def point(rng: random.Random, n: int) -> np.ndarray:
    out = np.array([rng.choice(ORDINARY) for _ in range(n)])
    for i in rng.sample(range(n), rng.randint(1, 2)):
        out[i] = rng.choice(SPECIAL)
    if rng.random() < 0.5:  # a tie: two equal entries (sorting, pooling, max)
        i, j = rng.sample(range(n), 2)
        out[j] = out[i]
    return out


def main(argv=None, families: dict = FAMILIES, seed: int = 40) -> int:
    """Runs the fuzz over ``families`` (benchmarks/nan41_fuzz.py passes its own)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--points", type=int, default=2)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--family", default="")
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    args = ap.parse_args(argv)
    import warnings
    warnings.simplefilter("ignore")
    import torch
    torch.set_default_dtype(torch.float64)
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, alarm)
    tally, per_check, per_family, listed = Counter(), Counter(), Counter(), Counter()
    names = sorted(families)
    ran = 0
    for c in range(args.cases):
        family = names[c % len(names)]
        text = draw(rng, family, families)
        points = [(point(rng, 4), point(rng, 4)) for _ in range(args.points)]
        if args.k not in text or args.family not in family:
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
            per_family[(family, worst.split(":")[0])] += 1
            if worst != "same" or args.v:
                bad = {k: vv for k, vv in verdicts.items() if vv != "same"}
                if listed[text] < 1 or args.v:
                    print(f"{worst:14} {text}  x={x.tolist()} y={y.tolist()}  {bad}", flush=True)
                listed[text] += 1
    print(f"\n{ran} (case, point) runs of {args.cases} drawn expressions (seed {args.seed}): "
          + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print("per check: " + ", ".join(f"{k}/{v} {c}" for (k, v), c in sorted(per_check.items())))
    print("per family: " + ", ".join(f"{f}/{v} {c}" for (f, v), c in sorted(per_family.items())))
    return 1 if any(k.startswith(("differ", "crash")) for k in tally) else 0


if __name__ == "__main__":
    sys.exit(main())
