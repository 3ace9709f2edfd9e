"""NaN, inf and zero artefacts, round 3: the op families benchmarks/nan39_fuzz.py and nan40_fuzz.py did not draw,
against PyTorch.

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/nan41_fuzz.py [--cases N] [--seed S]
        [--points P] [-k SUBSTRING] [-v] [--family NAME])

The families: activations (gelu, silu, mish, elu, selu, celu, leaky_relu, hardtanh, hardswish, hardsigmoid, softsign,
tanhshrink, soft / hard shrink, threshold, relu6, glu, softmin), softmax along an axis of a 2 x 2 matrix, products
(dot, outer, matmul, mv, einsum, kron, inner, tensordot), small linear algebra of a 2 x 2 matrix (det, inv, solve,
slogdet, logdet, trace, eigvalsh / eigh of a symmetric one, svdvals, matrix_exp), statistics and normalization (var,
std, var_mean, cov, corrcoef, layer_norm, rms_norm, batch_norm in training, group_norm), differences and
interpolation (diff, trapezoid, cumulative_trapezoid, lerp, addcmul, addcdiv, logaddexp2, float_power), convolution
and resampling (conv1d, interpolate, pad), distances (cdist, pairwise_distance, cosine_similarity, pdist) and masked
forms (where, masked_fill, nan_to_num with fills, fmin / fmax, nanmean). The points, checks, verdicts and report are
nan40_fuzz.py's (its ``main``, with these families and seed 41).
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from nan40_fuzz import main  # noqa: E402

M = "{a}.reshape(2, 2)"  # a 2 x 2 matrix of the operand
S = "({a}.reshape(2, 2) + {a}.reshape(2, 2).T)"  # a symmetric one
FAMILIES = {
    "activations": [
        "F.gelu({a})", "F.gelu({a}, approximate='tanh')", "F.silu({a})", "F.mish({a})", "F.elu({a})", "F.selu({a})",
        "F.celu({a}, alpha=0.5)", "F.leaky_relu({a}, 0.1)", "F.hardtanh({a})", "F.hardswish({a})",
        "F.hardsigmoid({a})", "F.softsign({a})", "F.tanhshrink({a})", "F.softshrink({a}, 0.5)",
        "F.hardshrink({a}, 0.5)", "F.threshold({a}, 0.5, -1.0)", "F.relu6({a})", "F.glu({a}, 0)",
        "F.softmin({a}, 0)", "F.softplus({a}, beta=2.0, threshold=5.0)",
    ],
    "softmax": [
        f"torch.softmax({M}, 1).reshape(-1)", f"torch.softmax({M}, 0).reshape(-1)",
        f"F.log_softmax({M}, 1).reshape(-1)", f"F.softmin({M}, 1).reshape(-1)",
        f"torch.logsumexp({M}, 1)", "torch.special.log_softmax({a}, 0)", "torch.softmax({a} * {b}, 0)",
        "torch.softmax({a}, 0) * {b}",
    ],
    "products": [
        "torch.dot({a}, {b})", "torch.outer({a}, {b}).reshape(-1)", f"({M} @ {{b}}.reshape(2, 2)).reshape(-1)",
        f"torch.mv({M}, {{b}}[:2])", "torch.einsum('i,i->', {a}, {b})", "torch.kron({a}[:2], {b}[:2])",
        "torch.inner({a}, {b})", "torch.tensordot({a}, {b}, 1)", "torch.linalg.vecdot({a}, {b})",
        f"({M} @ {M}).reshape(-1)",
    ],
    "linalg": [
        f"torch.det({M})", f"torch.linalg.inv({M}).reshape(-1)", f"torch.linalg.solve({M}, {{b}}[:2])",
        f"torch.linalg.slogdet({M}).logabsdet", f"torch.logdet({M})", f"torch.trace({M})",
        f"torch.linalg.eigvalsh({S})", f"torch.linalg.eigvalsh({S}).sum()", f"torch.linalg.svdvals({M})",
        f"torch.linalg.matrix_exp({M}).reshape(-1)", f"torch.linalg.det({S})",
    ],
    "statistics": [
        "torch.var({a})", "torch.std({a}, unbiased=False)", "torch.var_mean({a})[0]", f"torch.cov({M}).reshape(-1)",
        f"torch.corrcoef({M}).reshape(-1)", "F.layer_norm({a}, (4,))", "F.rms_norm({a}, (4,))",
        f"F.batch_norm({M}, None, None, training=True).reshape(-1)",
        "F.group_norm({a}.reshape(1, 4, 1), 2).reshape(-1)", "torch.nanmean({a})", "torch.std_mean({a})[1]",
    ],
    "differences": [
        "torch.diff({a})", "torch.trapezoid({a})", "torch.trapezoid({a}, {b})", "torch.cumulative_trapezoid({a})",
        "torch.lerp({a}, {b}, 0.3)", "torch.lerp({a}, {b}, torch.sigmoid({b}))", "torch.addcmul({a}, {a}, {b})",
        "torch.addcdiv({a}, {a}, {b})", "torch.logaddexp2({a}, {b})", "torch.float_power({a}, 2)",
        "torch.diff({a}, 2)",
    ],
    "resampling": [
        "F.conv1d({a}.reshape(1, 1, 4), {b}[:2].reshape(1, 1, 2)).reshape(-1)",
        "F.conv1d({a}.reshape(1, 1, 4), {b}[:3].reshape(1, 1, 3), padding=1).reshape(-1)",
        "F.interpolate({a}.reshape(1, 1, 4), size=6, mode='linear').reshape(-1)",
        "F.interpolate({a}.reshape(1, 1, 4), scale_factor=2, mode='nearest').reshape(-1)",
        "F.pad({a}, (1, 1))", "F.pad({a}.reshape(1, 4), (1, 1), mode='reflect').reshape(-1)",
        "F.pad({a}.reshape(1, 4), (1, 2), mode='replicate').reshape(-1)",
        "F.conv_transpose1d({a}.reshape(1, 1, 4), {b}[:2].reshape(1, 1, 2)).reshape(-1)",
    ],
    "distances": [
        f"torch.cdist({M}, {{b}}.reshape(2, 2)).reshape(-1)", f"torch.cdist({M}, {{b}}.reshape(2, 2), p=1).reshape(-1)",
        f"F.pairwise_distance({M}, {{b}}.reshape(2, 2))", "F.cosine_similarity({a}, {b}, dim=0)",
        f"F.pdist({M})", f"torch.cdist({M}, {{b}}.reshape(2, 2), p=float('inf')).reshape(-1)",
        f"F.cosine_similarity({M}, {{b}}.reshape(2, 2))",
    ],
    "masked": [
        "torch.where({a} > {b}, {a}, {b})", "{a}.masked_fill(torch.isnan({a}), 0.0)",
        "torch.nan_to_num({a}, nan=1.0, posinf=2.0, neginf=-2.0)", "torch.nan_to_num({a} * {b}, posinf=0.0)",
        "torch.fmin({a}, {b})", "torch.fmax({a}, {b})", "torch.where(torch.isinf({a}), 0.0, {a}) * {b}",
        "torch.nanmean({a} * {b})", "torch.nan_to_num(torch.log({a}), neginf=0.0)",
    ],
}

if __name__ == "__main__":
    sys.exit(main(families=FAMILIES, seed=41))
