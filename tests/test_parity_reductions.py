"""Parity with PyTorch 2.13 for reductions, statistics, selections, norms and losses
(issue 13, part reductions; see tests/parity.py). Inputs have no ties unless a case says so."""

import math

import numpy as np
import pytest

from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(13)
x5 = rng.permutation(np.linspace(-1.3, 1.9, 5)) + rng.uniform(0, 0.01, 5)
y5 = rng.uniform(-1, 1, 5)
A = rng.uniform(-1, 1, (3, 4))
B = rng.uniform(-1, 1, (3, 4))
T = rng.uniform(-1, 1, (2, 3, 4))
P = rng.uniform(0.1, 0.9, (3, 4))   # probabilities
Q = rng.uniform(0.1, 0.9, (3, 4))
labels = np.array([2.0, 0.0, 3.0])   # class indices for (3, 4) scores
soft = rng.dirichlet(np.ones(4), 3)  # class probabilities, rows sum to 1
w4 = np.array([0.5, 1.0, 2.0, 1.5])
W4 = torch.tensor(w4)  # weights are constants: PyTorch does not differentiate them
zx = np.array([0.7, 0.0, -1.2, 2.0, 0.0])  # zeros: cumprod, norms with p < 1

CASES = [
    # var, std: the library named decides the correction
    ("torch.var(x)", {"x": x5}, lambda x: x.var()),
    ("np.var(x)", {"x": x5}, lambda x: x.var(unbiased=False)),
    ("var(A, axis=1, ddof=1)", {"A": A}, lambda A: A.var(dim=1)),
    ("A.var(dim=0, unbiased=False, keepdim=True)", {"A": A}, lambda A: A.var(0, unbiased=False, keepdim=True)),
    ("torch.var(A, dim=(0, 1), correction=2)", {"A": A}, lambda A: A.var(dim=(0, 1), correction=2)),
    ("torch.std(x)", {"x": x5}, lambda x: x.std()),
    ("torch.std(A, 1, False, True)", {"A": A}, lambda A: torch.std(A, 1, False, True)),
    ("np.std(A, axis=0)", {"A": A}, lambda A: A.std(0, unbiased=False)),
    ("A.std(1, keepdim=True, correction=0)", {"A": A}, lambda A: A.std(1, keepdim=True, correction=0)),
    ("numpy.std(T, axis=(1, 2), ddof=1)", {"T": T}, lambda T: T.std(dim=(1, 2))),
    # log_softmax, softmin
    ("F.log_softmax(x, dim=0)", {"x": x5}, lambda x: F.log_softmax(x, dim=0)),
    ("torch.log_softmax(A, 1)", {"A": A}, lambda A: torch.log_softmax(A, 1)),
    ("A.log_softmax(dim=0)", {"A": A}, lambda A: A.log_softmax(0)),
    ("F.softmin(A, dim=1)", {"A": A}, lambda A: F.softmin(A, dim=1)),
    ("torch.nn.functional.softmin(x, 0)", {"x": x5}, lambda x: F.softmin(x, 0)),
    # cumsum, cumprod (zeros included: exact, as prod's rule)
    ("torch.cumsum(A, dim=1)", {"A": A}, lambda A: torch.cumsum(A, 1)),
    ("np.cumsum(A, axis=0)", {"A": A}, lambda A: torch.cumsum(A, 0)),
    ("x.cumsum(0)", {"x": x5}, lambda x: x.cumsum(0)),
    ("np.cumsum(A)", {"A": A}, lambda A: torch.cumsum(A.reshape(-1), 0)),
    ("torch.cumprod(x, 0)", {"x": x5}, lambda x: torch.cumprod(x, 0)),
    ("torch.cumprod(x, 0)", {"x": zx}, lambda x: torch.cumprod(x, 0)),
    ("np.cumprod(A, axis=1)", {"A": A}, lambda A: torch.cumprod(A, 1)),
    ("T.cumprod(dim=1)", {"T": T}, lambda T: T.cumprod(1)),
    ("sum(cumprod(x))", {"x": zx}, lambda x: x.cumprod(0).sum()),
    # selections: values and indices
    ("torch.max(A, 1).values", {"A": A}, lambda A: torch.max(A, 1).values),
    ("torch.max(A, dim=0)[0]", {"A": A}, lambda A: torch.max(A, dim=0)[0]),
    ("A.max(dim=1, keepdim=True).values", {"A": A}, lambda A: A.max(dim=1, keepdim=True).values),
    ("torch.min(A, 0).values * torch.min(A, 0).indices", {"A": A},
     lambda A: torch.min(A, 0).values * torch.min(A, 0).indices),
    ("torch.min(A, 1)[1] + A.min(1).values", {"A": A}, lambda A: A.min(1)[1] + A.min(1).values),
    ("torch.sort(x).values", {"x": x5}, lambda x: torch.sort(x).values),
    ("torch.sort(A, dim=0, descending=True)[0]", {"A": A}, lambda A: torch.sort(A, dim=0, descending=True)[0]),
    ("A.sort(1).indices * 1.0 + A", {"A": A}, lambda A: A.sort(1).indices * 1.0 + A),
    ("np.sort(A, axis=0)", {"A": A}, lambda A: torch.sort(A, 0).values),
    ("np.sort(A, axis=None)", {"A": A}, lambda A: torch.sort(A.reshape(-1)).values),
    ("torch.argsort(x, descending=True) + x", {"x": x5}, lambda x: torch.argsort(x, descending=True) + x),
    ("torch.topk(x, 3).values", {"x": x5}, lambda x: torch.topk(x, 3).values),
    ("A.topk(2, dim=0, largest=False)[0]", {"A": A}, lambda A: A.topk(2, dim=0, largest=False)[0]),
    ("torch.topk(A, 2).indices + A[:, :2]", {"A": A}, lambda A: torch.topk(A, 2).indices + A[:, :2]),
    ("torch.median(x)", {"x": x5}, lambda x: torch.median(x)),
    ("torch.median(A)", {"A": A}, lambda A: torch.median(A)),
    ("torch.median(A, 1).values", {"A": A}, lambda A: torch.median(A, 1).values),
    ("A.median(dim=0, keepdim=True)[0]", {"A": A}, lambda A: A.median(dim=0, keepdim=True)[0]),
    ("torch.median(A, 1).indices + A[:, 0]", {"A": A}, lambda A: torch.median(A, 1).indices + A[:, 0]),
    ("np.median(A, axis=1)", {"A": A}, lambda A: torch.quantile(A, 0.5, dim=1)),
    ("np.median(x[:3])", {"x": x5}, lambda x: torch.median(x[:3])),
    ("np.argsort(x) + x", {"x": x5}, lambda x: torch.argsort(x) + x),
    ("np.argmax(A) + A", {"A": A}, lambda A: torch.argmax(A) + A),
    ("torch.argmax(A, dim=1) + A[:, 0]", {"A": A}, lambda A: torch.argmax(A, dim=1) + A[:, 0]),
    ("np.argmin(A, axis=0) * A[0]", {"A": A}, lambda A: torch.argmin(A, dim=0) * A[0]),
    ("x.argmax() + x", {"x": x5}, lambda x: x.argmax() + x),
    ("torch.argmax(A, 0, keepdim=True) * A", {"A": A}, lambda A: torch.argmax(A, 0, keepdim=True) * A),
    # norms with every ord
    ("torch.linalg.vector_norm(x)", {"x": x5}, lambda x: torch.linalg.vector_norm(x)),
    ("torch.linalg.vector_norm(x, 3)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, 3)),
    ("torch.linalg.vector_norm(x, ord=0.5)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, ord=0.5)),
    ("torch.linalg.vector_norm(x, -1.5)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, -1.5)),
    ("torch.linalg.vector_norm(x, -1)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, -1)),
    ("torch.linalg.vector_norm(x, inf)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, math.inf)),
    ("torch.linalg.vector_norm(x, -inf)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, -math.inf)),
    # at zeros PyTorch's second derivative of a p < 1 norm is NaN; jac's is exact (0 across a zero)
    ("torch.linalg.vector_norm(x, 0.5)", {"x": zx}, lambda x: torch.linalg.vector_norm(x, 0.5), ("hessian",)),
    ("torch.linalg.vector_norm(x, -1)", {"x": zx}, lambda x: torch.linalg.vector_norm(x, -1), ("hessian",)),
    ("torch.linalg.vector_norm(x, 0)", {"x": zx}, lambda x: torch.linalg.vector_norm(x, 0)),
    ("torch.linalg.vector_norm(x, 1)", {"x": x5}, lambda x: torch.linalg.vector_norm(x, 1)),
    ("torch.linalg.vector_norm(A, 2.5, dim=1, keepdim=True)", {"A": A},
     lambda A: torch.linalg.vector_norm(A, 2.5, dim=1, keepdim=True)),
    ("torch.linalg.vector_norm(T, 3, dim=(0, 2))", {"T": T}, lambda T: torch.linalg.vector_norm(T, 3, dim=(0, 2))),
    ("torch.linalg.matrix_norm(A)", {"A": A}, lambda A: torch.linalg.matrix_norm(A)),
    ("torch.linalg.matrix_norm(A, ord=1)", {"A": A}, lambda A: torch.linalg.matrix_norm(A, ord=1)),
    ("torch.linalg.matrix_norm(A, -1)", {"A": A}, lambda A: torch.linalg.matrix_norm(A, -1)),
    ("torch.linalg.matrix_norm(A, inf)", {"A": A}, lambda A: torch.linalg.matrix_norm(A, math.inf)),
    ("torch.linalg.matrix_norm(A, -inf)", {"A": A}, lambda A: torch.linalg.matrix_norm(A, -math.inf)),
    ("torch.linalg.matrix_norm(T, 1, dim=(0, 2))", {"T": T}, lambda T: torch.linalg.matrix_norm(T, 1, dim=(0, 2))),
    ("torch.linalg.matrix_norm(A, 2)", {"A": A}, lambda A: torch.linalg.matrix_norm(A, 2)),
    ("torch.linalg.matrix_norm(A.T, -2)", {"A": A}, lambda A: torch.linalg.matrix_norm(A.T, -2)),
    ("torch.linalg.matrix_norm(A, 'nuc', keepdim=True)", {"A": A},
     lambda A: torch.linalg.matrix_norm(A, "nuc", keepdim=True)),
    ("np.linalg.norm(T, 2, axis=(2, 1))", {"T": T}, lambda T: torch.linalg.matrix_norm(T, 2, dim=(2, 1))),
    ("torch.norm(A, 'nuc')", {"A": A}, lambda A: torch.norm(A, "nuc")),
    ("torch.linalg.norm(A, inf)", {"A": A}, lambda A: torch.linalg.norm(A, math.inf)),
    ("torch.linalg.norm(x, 3)", {"x": x5}, lambda x: torch.linalg.norm(x, 3)),
    ("np.linalg.norm(A, 1)", {"A": A}, lambda A: torch.linalg.matrix_norm(A, 1)),
    ("np.linalg.norm(A, -inf, axis=(1, 0))", {"A": A}, lambda A: torch.linalg.matrix_norm(A, -math.inf, dim=(1, 0))),
    ("np.linalg.norm(A, 'fro')", {"A": A}, lambda A: torch.linalg.matrix_norm(A)),
    ("np.linalg.norm(A, 3, axis=1)", {"A": A}, lambda A: torch.linalg.vector_norm(A, 3, dim=1)),
    ("torch.norm(A, 1)", {"A": A}, lambda A: torch.norm(A, 1)),
    ("A.norm(p=3, dim=0)", {"A": A}, lambda A: A.norm(p=3, dim=0)),
    ("torch.norm(A, inf)", {"A": A}, lambda A: torch.norm(A, math.inf)),
    ("torch.dist(x, y)", {"x": x5, "y": y5}, lambda x, y: torch.dist(x, y)),
    ("torch.dist(A, B, 3)", {"A": A, "B": B}, lambda A, B: torch.dist(A, B, 3)),
    ("torch.dist(A, x[:4], p=1)", {"A": A, "x": x5}, lambda A, x: torch.dist(A, x[:4], p=1)),
    ("F.normalize(A)", {"A": A}, lambda A: F.normalize(A)),
    ("F.normalize(A, p=1, dim=0)", {"A": A}, lambda A: F.normalize(A, p=1, dim=0)),
    ("F.normalize(x, dim=0)", {"x": x5}, lambda x: F.normalize(x, dim=0)),
    ("F.cosine_similarity(A, B)", {"A": A, "B": B}, lambda A, B: F.cosine_similarity(A, B)),
    ("torch.cosine_similarity(A, B, dim=0)", {"A": A, "B": B}, lambda A, B: torch.cosine_similarity(A, B, dim=0)),
    ("F.cosine_similarity(x, y, dim=0)", {"x": x5, "y": y5}, lambda x, y: F.cosine_similarity(x, y, dim=0)),
    ("F.cosine_similarity(A, x[:4])", {"A": A, "x": x5}, lambda A, x: F.cosine_similarity(A, x[:4])),
    # losses, every reduction
    ("F.mse_loss(A, B)", {"A": A, "B": B}, lambda A, B: F.mse_loss(A, B)),
    ("F.mse_loss(A, B, reduction='sum')", {"A": A, "B": B}, lambda A, B: F.mse_loss(A, B, reduction="sum")),
    ("F.mse_loss(A, B, reduction='none')", {"A": A, "B": B}, lambda A, B: F.mse_loss(A, B, reduction="none")),
    ("F.l1_loss(A, B)", {"A": A, "B": B}, lambda A, B: F.l1_loss(A, B)),
    ("F.l1_loss(A, B, reduction='none')", {"A": A, "B": B}, lambda A, B: F.l1_loss(A, B, reduction="none")),
    ("F.smooth_l1_loss(2 * A, B)", {"A": A, "B": B}, lambda A, B: F.smooth_l1_loss(2 * A, B)),
    ("F.smooth_l1_loss(A, B, beta=0.5, reduction='sum')", {"A": A, "B": B},
     lambda A, B: F.smooth_l1_loss(A, B, beta=0.5, reduction="sum")),
    ("F.smooth_l1_loss(A, B, beta=0.0)", {"A": A, "B": B}, lambda A, B: F.smooth_l1_loss(A, B, beta=0.0)),
    ("F.huber_loss(2 * A, B)", {"A": A, "B": B}, lambda A, B: F.huber_loss(2 * A, B)),
    ("F.huber_loss(A, B, delta=0.4, reduction='none')", {"A": A, "B": B},
     lambda A, B: F.huber_loss(A, B, delta=0.4, reduction="none")),
    ("F.cross_entropy(A, t)", {"A": A, "t": labels}, lambda A, t: F.cross_entropy(A, t.long())),
    ("F.cross_entropy(A, t, reduction='none')", {"A": A, "t": labels},
     lambda A, t: F.cross_entropy(A, t.long(), reduction="none")),
    ("F.cross_entropy(A, t, weight=[0.5, 1, 2, 1.5], reduction='sum')", {"A": A, "t": labels},
     lambda A, t: F.cross_entropy(A, t.long(), weight=W4, reduction="sum")),
    ("F.cross_entropy(A, t, weight=[0.5, 1, 2, 1.5])", {"A": A, "t": labels},
     lambda A, t: F.cross_entropy(A, t.long(), weight=W4)),
    ("F.cross_entropy(A, t, ignore_index=0, label_smoothing=0.2)", {"A": A, "t": labels},
     lambda A, t: F.cross_entropy(A, t.long(), ignore_index=0, label_smoothing=0.2)),
    ("F.cross_entropy(A, t, weight=[0.5, 1, 2, 1.5], label_smoothing=0.1)", {"A": A, "t": labels},
     lambda A, t: F.cross_entropy(A, t.long(), weight=W4, label_smoothing=0.1)),
    ("F.cross_entropy(x[:4], 2)", {"x": x5}, lambda x: F.cross_entropy(x[:4], torch.tensor(2))),
    ("F.cross_entropy(A, S)", {"A": A, "S": soft}, lambda A, S: F.cross_entropy(A, S)),
    ("F.cross_entropy(A, S, weight=[0.5, 1, 2, 1.5], reduction='none', label_smoothing=0.3)", {"A": A, "S": soft},
     lambda A, S: F.cross_entropy(A, S, weight=W4, reduction="none", label_smoothing=0.3)),
    ("F.cross_entropy(T, S)", {"T": T, "S": rng.dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1)},
     lambda T, S: F.cross_entropy(T, S)),
    ("F.cross_entropy(T, [[0, 2, 1, 1], [2, 2, 0, 1]], weight=[1, 2, 0.5])", {"T": T},
     lambda T: F.cross_entropy(T, torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]]),
                               weight=torch.tensor([1, 2, 0.5], dtype=torch.float64))),
    ("F.nll_loss(T, [[0, 2, 1, 1], [2, 2, 0, 1]], reduction='none')", {"T": T},
     lambda T: F.nll_loss(T, torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]]), reduction="none")),
    ("F.nll_loss(F.log_softmax(A, 1), t)", {"A": A, "t": labels},
     lambda A, t: F.nll_loss(F.log_softmax(A, 1), t.long())),
    ("F.nll_loss(A, t, weight=[0.5, 1, 2, 1.5], reduction='none')", {"A": A, "t": labels},
     lambda A, t: F.nll_loss(A, t.long(), weight=W4, reduction="none")),
    ("F.nll_loss(A, t, ignore_index=2)", {"A": A, "t": labels}, lambda A, t: F.nll_loss(A, t.long(), ignore_index=2)),
    ("F.binary_cross_entropy(P, Q)", {"P": P, "Q": Q}, lambda P, Q: F.binary_cross_entropy(P, Q)),
    ("F.binary_cross_entropy(P, Q, weight=[0.5, 1, 2, 1.5], reduction='none')", {"P": P, "Q": Q},
     lambda P, Q: F.binary_cross_entropy(P, Q, weight=W4, reduction="none")),
    ("F.binary_cross_entropy_with_logits(A, Q)", {"A": A, "Q": Q},
     lambda A, Q: F.binary_cross_entropy_with_logits(A, Q)),
    ("F.binary_cross_entropy_with_logits(A, Q, pos_weight=[0.5, 1, 2, 1.5], reduction='sum')", {"A": A, "Q": Q},
     lambda A, Q: F.binary_cross_entropy_with_logits(A, Q, pos_weight=W4, reduction="sum")),
    ("F.binary_cross_entropy_with_logits(A, Q, weight=[2, 1, 0.5, 1], reduction='none')", {"A": A, "Q": Q},
     lambda A, Q: F.binary_cross_entropy_with_logits(A, Q, weight=torch.tensor([2, 1, 0.5, 1.0], dtype=torch.float64), reduction="none")),
    ("F.kl_div(log(P), Q)", {"P": P, "Q": Q}, lambda P, Q: F.kl_div(P.log(), Q)),
    ("F.kl_div(A, Q, reduction='batchmean')", {"A": A, "Q": Q}, lambda A, Q: F.kl_div(A, Q, reduction="batchmean")),
    ("F.kl_div(A, B, reduction='sum', log_target=True)", {"A": A, "B": B},
     lambda A, B: F.kl_div(A, B, reduction="sum", log_target=True)),
    ("F.kl_div(A, Q, reduction='none')", {"A": A, "Q": Q}, lambda A, Q: F.kl_div(A, Q, reduction="none")),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # PyTorch's own advice on kl_div
@pytest.mark.parametrize("case", CASES, ids=[f"{k}-{c[0]}" for k, c in enumerate(CASES)])
def test_matches_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())

nx = np.array([0.4, np.nan, -1.1, 2.2])
labels_pm = np.array([1.0, -1.0, -1.0])
MORE = [
    ("torch.nansum(x)", {"x": nx}, lambda x: torch.nansum(x)),
    ("np.nansum(A, axis=0, keepdims=True)", {"A": A}, lambda A: torch.nansum(A, 0, keepdim=True)),
    ("np.nanmean(A, axis=1)", {"A": A}, lambda A: torch.nanmean(A, 1)),
    ("torch.nanmean(x)", {"x": nx}, lambda x: torch.nanmean(x)),
    ("np.average(A, axis=1, weights=[0.5, 1, 2, 1.5])", {"A": A},
     lambda A: (A * W4).sum(1) / W4.sum()),
    ("np.average(A, weights=B * B)", {"A": A, "B": B}, lambda A, B: (A * B * B).sum() / (B * B).sum()),
    ("torch.count_nonzero(x) + x", {"x": zx}, lambda x: torch.count_nonzero(x) + x),
    ("torch.logcumsumexp(A, dim=1)", {"A": A}, lambda A: torch.logcumsumexp(A, 1)),
    ("torch.cummax(x, 0).values", {"x": x5}, lambda x: torch.cummax(x, 0).values),
    ("torch.cummin(A, dim=1)[0] + torch.cummin(A, 1)[1]", {"A": A},
     lambda A: torch.cummin(A, 1)[0] + torch.cummin(A, 1)[1]),
    ("torch.kthvalue(x, 2).values", {"x": x5}, lambda x: torch.kthvalue(x, 2).values),
    ("A.kthvalue(3, dim=1, keepdim=True)[0]", {"A": A}, lambda A: A.kthvalue(3, dim=1, keepdim=True)[0]),
    ("v, m = torch.var_mean(A, 1); v * m", {"A": A}, lambda A: torch.var_mean(A, 1)[0] * torch.var_mean(A, 1)[1]),
    ("torch.std_mean(x, unbiased=False)[0]", {"x": x5}, lambda x: torch.std_mean(x, unbiased=False)[0]),
    ("torch.aminmax(A, dim=0).max - torch.aminmax(A, dim=0).min", {"A": A},
     lambda A: torch.aminmax(A, dim=0).max - torch.aminmax(A, dim=0).min),
    ("torch.quantile(x, 0.3)", {"x": x5}, lambda x: torch.quantile(x, 0.3)),
    ("torch.quantile(A, 0.75, dim=1, keepdim=True)", {"A": A}, lambda A: torch.quantile(A, 0.75, dim=1, keepdim=True)),
    ("torch.quantile(A, 0.4, dim=0, interpolation='midpoint')", {"A": A},
     lambda A: torch.quantile(A, 0.4, dim=0, interpolation="midpoint")),
    ("np.quantile(A, 0.4, axis=0, method='lower')", {"A": A},
     lambda A: torch.quantile(A, 0.4, dim=0, interpolation="lower")),
    ("np.percentile(x, 90)", {"x": x5}, lambda x: torch.quantile(x, 0.9)),
    ("torch.quantile(x, 0.5)", {"x": nx}, lambda x: torch.quantile(x, 0.5)),
    ("F.pairwise_distance(A, B)", {"A": A, "B": B}, lambda A, B: F.pairwise_distance(A, B)),
    ("F.pairwise_distance(A, B, p=1, keepdim=True)", {"A": A, "B": B},
     lambda A, B: F.pairwise_distance(A, B, p=1, keepdim=True)),
    ("torch.cdist(A, B)", {"A": A, "B": B}, lambda A, B: torch.cdist(A, B)),
    ("torch.cdist(A, B, p=1)", {"A": A, "B": B}, lambda A, B: torch.cdist(A, B, p=1)),
    ("torch.cdist(T, T[:, :2] * 2, p=3)", {"T": T}, lambda T: torch.cdist(T, T[:, :2] * 2, p=3)),
    ("F.soft_margin_loss(x, [1, -1, 1, 1, -1])", {"x": x5},
     lambda x: F.soft_margin_loss(x, torch.tensor([1, -1, 1, 1, -1.0], dtype=torch.float64))),
    ("F.margin_ranking_loss(x, y, [1, -1, 1, 1, -1], margin=0.2)", {"x": x5, "y": y5},
     lambda x, y: F.margin_ranking_loss(x, y, torch.tensor([1, -1, 1, 1, -1.0], dtype=torch.float64), margin=0.2)),
    ("F.hinge_embedding_loss(A, [[1, -1, 1, -1]] * ones(3, 1), reduction='none')", {"A": A},
     lambda A: F.hinge_embedding_loss(A, torch.tensor([[1, -1, 1, -1.0]], dtype=torch.float64).expand(3, 4),
                                      reduction="none")),
    ("F.cosine_embedding_loss(A, B, [1, -1, -1])", {"A": A, "B": B},
     lambda A, B: F.cosine_embedding_loss(A, B, torch.tensor([1, -1, -1.0], dtype=torch.float64))),
    ("F.cosine_embedding_loss(A, B, [1, -1, -1], margin=-0.5, reduction='sum')", {"A": A, "B": B},
     lambda A, B: F.cosine_embedding_loss(A, B, torch.tensor([1, -1, -1.0], dtype=torch.float64), margin=-0.5,
                                          reduction="sum")),
    ("F.triplet_margin_loss(A, B, 2 * A - B)", {"A": A, "B": B}, lambda A, B: F.triplet_margin_loss(A, B, 2 * A - B)),
    ("F.triplet_margin_loss(A, B, B.flip(0), margin=2, p=1, swap=True)", {"A": A, "B": B},
     lambda A, B: F.triplet_margin_loss(A, B, B.flip(0), margin=2, p=1, swap=True)),
    ("F.poisson_nll_loss(A, P)", {"A": A, "P": P}, lambda A, P: F.poisson_nll_loss(A, P)),
    ("F.poisson_nll_loss(P, 3 * Q, log_input=False, full=True, reduction='sum')", {"P": P, "Q": Q},
     lambda P, Q: F.poisson_nll_loss(P, 3 * Q, log_input=False, full=True, reduction="sum")),
    ("F.gaussian_nll_loss(A, B, P)", {"A": A, "B": B, "P": P}, lambda A, B, P: F.gaussian_nll_loss(A, B, P)),
    ("F.gaussian_nll_loss(A, B, Q[:, 0], full=True, reduction='none')", {"A": A, "B": B, "Q": Q},
     lambda A, B, Q: F.gaussian_nll_loss(A, B, Q[:, 0], full=True, reduction="none")),
    ("F.multilabel_soft_margin_loss(A, Q)", {"A": A, "Q": Q}, lambda A, Q: F.multilabel_soft_margin_loss(A, Q)),
]


@pytest.mark.parametrize("case", MORE, ids=[f"more-{k}-{c[0]}" for k, c in enumerate(MORE)])
def test_more_of_the_vocabulary_matches_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


LAST = [
    ("torch.diff(x)", {"x": x5}, lambda x: torch.diff(x)),
    ("np.diff(A, n=2, axis=1)", {"A": A}, lambda A: torch.diff(A, n=2, dim=1)),
    ("torch.trapezoid(A)", {"A": A}, lambda A: torch.trapezoid(A)),
    ("torch.trapezoid(A, dx=0.5, dim=0)", {"A": A}, lambda A: torch.trapezoid(A, dx=0.5, dim=0)),
    ("np.trapezoid(y, x)", {"y": y5, "x": np.sort(x5)}, lambda y, x: torch.trapezoid(y, x)),
    ("torch.trapz(A, B)", {"A": A, "B": B}, lambda A, B: torch.trapz(A, B)),
    ("np.ptp(A, axis=1)", {"A": A}, lambda A: A.amax(1) - A.amin(1)),
    ("torch.cov(A)", {"A": A}, lambda A: torch.cov(A)),
    ("np.cov(A, rowvar=False, bias=True)", {"A": A}, lambda A: torch.cov(A.T, correction=0)),
    ("torch.cov(x, correction=0)", {"x": x5}, lambda x: torch.cov(x, correction=0)),
    ("torch.corrcoef(A)", {"A": A}, lambda A: torch.corrcoef(A)),
    ("np.corrcoef(A.T)", {"A": A}, lambda A: torch.corrcoef(A.T)),
]


@pytest.mark.parametrize("case", LAST, ids=[f"last-{k}-{c[0]}" for k, c in enumerate(LAST)])
def test_differences_integrals_and_covariances_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


s0 = np.array(-1.5)  # a 0-d tensor: PyTorch reads its dim 0 (or -1) as one axis of length 1, results 0-d
ZERO_D = [
    ("torch.max(s, 0).values", {"s": s0}, lambda s: torch.max(s, 0).values),
    ("torch.max(s, 0, keepdim=True)[0]", {"s": s0}, lambda s: torch.max(s, 0, keepdim=True)[0]),
    ("torch.min(s, dim=-1).values + torch.min(s, dim=-1).indices", {"s": s0},
     lambda s: torch.min(s, dim=-1).values + torch.min(s, dim=-1).indices),
    ("s * torch.argmax(s, 0)", {"s": s0}, lambda s: s * torch.argmax(s, 0)),
    ("torch.sort(s, descending=True).values", {"s": s0}, lambda s: torch.sort(s, descending=True).values),
    ("s.sort()[0] * 2", {"s": s0}, lambda s: s.sort()[0] * 2),
    ("torch.topk(s, 1).values", {"s": s0}, lambda s: torch.topk(s, 1).values),
    ("torch.cummax(s, 0).values", {"s": s0}, lambda s: torch.cummax(s, 0).values),
    ("s + torch.argsort(s)", {"s": s0}, lambda s: s + torch.argsort(s)),
    ("torch.softmax(s, 0) * s", {"s": s0}, lambda s: torch.softmax(s, 0) * s),
    ("F.log_softmax(s, dim=-1) + s", {"s": s0}, lambda s: F.log_softmax(s, dim=-1) + s),
    ("F.softmin(s, dim=0) * s", {"s": s0}, lambda s: F.softmin(s, dim=0) * s),
    ("F.normalize(s, dim=0) * s", {"s": s0}, lambda s: F.normalize(s, dim=0) * s),
    ("torch.median(s, 0).values", {"s": s0}, lambda s: torch.median(s, 0).values),
    ("torch.kthvalue(s, 1, 0).values", {"s": s0}, lambda s: torch.kthvalue(s, 1, 0).values),
    ("torch.squeeze(s, 0)", {"s": s0}, lambda s: torch.squeeze(s, 0)),
    ("np.squeeze(s, axis=-1)", {"s": s0}, lambda s: s.squeeze(-1)),
    ("torch.atleast_1d(s)", {"s": s0}, lambda s: torch.atleast_1d(s)),
    ("torch.atleast_2d(s)", {"s": s0}, lambda s: torch.atleast_2d(s)),
    ("s.index_select(0, torch.tensor([0])) * s", {"s": s0}, lambda s: s.index_select(0, torch.tensor([0])) * s),
    ("F.cosine_similarity(s, 2 * s + 1, dim=0)", {"s": s0}, lambda s: F.cosine_similarity(s, 2 * s + 1, dim=0)),
    # a 0-d tensor as the second argument is an array, never a dim: the element-wise maximum
    ("torch.max(x, torch.tensor(0.0))", {"x": x5}, lambda x: torch.max(x, torch.tensor(0.0, dtype=x.dtype))),
    ("torch.min(x, torch.tensor(1.0))", {"x": x5}, lambda x: torch.min(x, torch.tensor(1.0, dtype=x.dtype))),
    ("torch.max(x, 0).values", {"x": x5}, lambda x: torch.max(x, 0).values),
]


@pytest.mark.parametrize("case", ZERO_D, ids=[f"zero-d-{k}-{c[0]}" for k, c in enumerate(ZERO_D)])
def test_zero_d_tensors_and_tensor_arguments_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


@pytest.mark.parametrize("expr, words", [
    ("torch.max(s, 1)", "axis 1 is out of range"),
    ("torch.topk(s, 2)", "0-d array is read as shape (1,)"),
    ("torch.max(x, (0,))", "torch.maximum(x, y)"),
    ("torch.index_select(s, 0, torch.tensor([0, 0]))", "a 0-d array takes one index, got 2"),
    ("torch.min(x, torch.tensor([0.0]))", "torch.amin(x, dim=...)"),
])
def test_zero_d_dims_and_constant_arrays_that_read_as_dims_are_refused(expr, words):
    from jacobi_cli import evaluate
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError, match=__import__("re").escape(words)):
        evaluate(expr, {"s": s0, "x": x5})


SIZES = [  # sizes as numbers: constants of the graph, as PyTorch's Python ints
    ("x / x.shape[0]", {"x": x5}, lambda x: x / x.shape[0]),
    ("A.sum() / len(A) + A.size(1) * A.mean()", {"A": A}, lambda A: A.sum() / len(A) + A.size(1) * A.mean()),
    ("A.reshape(A.shape[0], -1) * A.numel() + A.dim()", {"A": A}, lambda A: A.reshape(A.shape[0], -1) * A.numel() + A.dim()),
    ("torch.ones(T.shape) * T / T.size(-1) + T.ndim", {"T": T}, lambda T: torch.ones(T.shape) * T / T.size(-1) + T.ndim),
    ("x * x.size()[0] + torch.numel(x) + x.nelement()", {"x": x5}, lambda x: x * x.size()[0] + torch.numel(x) + x.nelement()),
    ("np.size(A) * A + np.size(A, 1) + np.shape(A)[0] + A.size + np.ndim(A)", {"A": A},
     lambda A: A.numel() * A + A.shape[1] + A.shape[0] + A.numel() + A.dim()),
]


@pytest.mark.parametrize("case", SIZES, ids=[f"sizes-{k}-{c[0]}" for k, c in enumerate(SIZES)])
def test_sizes_as_numbers_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn)


@pytest.mark.parametrize("expr, words", [
    ("len(s)", "len() of a 0-d array"),
    ("s.size(0)", "a 0-d array has no dimension"),
    ("x.size(1)", "axis 1 is out of range"),
])
def test_sizes_that_do_not_exist_are_refused(expr, words):
    from jacobi_cli import evaluate
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError, match=__import__("re").escape(words)):
        evaluate(expr, {"s": s0, "x": x5})


def test_a_symbolic_size_is_not_a_number():
    from jacobi_cli.errors import JacShapeError
    from jacobi_cli.lang.parser import parse
    with pytest.raises(JacShapeError, match="needs concrete sizes"):
        parse("x / x.shape[0]", {"x": ("n",)}, shapes_only=True)


# Every spelling of var/std's correction: PyTorch's default divides by n - 1, NumPy's by n.
VAR_SPELLINGS = [
    ("torch.var(x, 0)", lambda t: torch.var(t, 0)),
    ("x.var(0, unbiased=True)", lambda t: t.var(0, unbiased=True)),
    ("x.var(dim=0, unbiased=False)", lambda t: t.var(dim=0, unbiased=False)),
    ("torch.var(x, 0, correction=0)", lambda t: torch.var(t, 0, correction=0)),
    ("torch.var(x, None, correction=2)", lambda t: torch.var(t, None, correction=2)),
    ("torch.var(x, 1, keepdim=True)", lambda t: torch.var(t, 1, keepdim=True)),
    ("torch.var(x, 0, False)", lambda t: torch.var(t, 0, False)),
    ("torch.std(x, 1, True, True)", lambda t: torch.std(t, 1, True, True)),
    ("x.std(dim=1, correction=0, keepdim=True)", lambda t: t.std(dim=1, correction=0, keepdim=True)),
    ("torch.sin(x).var(0, correction=1)", lambda t: torch.sin(t).var(0, correction=1)),
    ("torch.var_mean(x, 0)[0]", lambda t: torch.var_mean(t, 0)[0]),
    ("torch.std_mean(x, 1, unbiased=False)[0]", lambda t: torch.std_mean(t, 1, unbiased=False)[0]),
]
NP_VAR_SPELLINGS = [
    ("np.var(x, axis=0)", lambda a: np.var(a, axis=0)),
    ("np.var(x, axis=0, ddof=1)", lambda a: np.var(a, axis=0, ddof=1)),
    ("np.var(x, axis=1, keepdims=True)", lambda a: np.var(a, axis=1, keepdims=True)),
    ("np.var(x, axis=0, correction=1)", lambda a: np.var(a, axis=0, correction=1)),
    ("np.std(x, 1, keepdims=True, ddof=1)", lambda a: np.std(a, 1, keepdims=True, ddof=1)),
    ("np.sin(x).var(axis=0, ddof=1)", lambda a: np.sin(a).var(axis=0, ddof=1)),
    ("np.nanstd(x, axis=0, ddof=1)", lambda a: np.nanstd(a, axis=0, ddof=1)),
]


@pytest.mark.parametrize("expr, f", VAR_SPELLINGS, ids=[e for e, _ in VAR_SPELLINGS])
def test_var_and_std_spellings_follow_pytorchs_correction(expr, f):
    from jacobi_cli.tools import api
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = torch.tensor(x)
    np.testing.assert_allclose(api.evaluate(expr, {"x": x}), f(t).numpy(), rtol=1e-13)
    np.testing.assert_allclose(api.jacobian(expr, {"x": x})["x"], torch.autograd.functional.jacobian(f, t).numpy(),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("expr, f", NP_VAR_SPELLINGS, ids=[e for e, _ in NP_VAR_SPELLINGS])
def test_var_and_std_spellings_follow_numpys_ddof(expr, f):
    from jacobi_cli.tools import api
    from parity import central
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(api.evaluate(expr, {"x": x}), f(x), rtol=1e-13)
    np.testing.assert_allclose(api.jacobian(expr, {"x": x})["x"], central(f, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("expr", ["x.var(0)", "torch.sin(x).var() + np.pi", "(x * 2).std(0, keepdims=True)",
                                  "var(x)"])
def test_var_without_a_correction_on_a_method_or_bare_is_refused_with_both_readings(expr):
    from jacobi_cli.errors import JacValueError
    from jacobi_cli.tools import api
    with pytest.raises(JacValueError, match="ambiguous: PyTorch's torch.(var|std) divides by n - 1"):
        api.evaluate(expr, {"x": np.ones((3, 2))})


def test_a_method_in_a_text_that_calls_one_library_is_that_librarys():
    """np.sin(x).var() names NumPy only: NumPy's ddof=0 (paste15; it was refused as ambiguous)."""
    from jacobi_cli.tools import api
    x = np.random.default_rng(3).standard_normal((3, 2))
    np.testing.assert_allclose(api.evaluate("np.sin(x).var()", {"x": x}), np.sin(x).var(), rtol=1e-13)
    np.testing.assert_allclose(api.evaluate("torch.sin(x).var()", {"x": x}), np.sin(x).var(ddof=1), rtol=1e-13)


def test_std_with_pytorchs_keepdim_is_pytorchs():
    """keepdim= (NumPy's is keepdims=) reads the method as PyTorch's: n - 1."""
    from jacobi_cli.tools import api
    x = np.random.default_rng(1).standard_normal((3, 2))
    want = torch.tensor(x * 2).std(0, keepdim=True).numpy()
    np.testing.assert_allclose(api.evaluate("(x * 2).std(0, keepdim=True)", {"x": x}), want, rtol=1e-14)


@pytest.mark.parametrize("expr, f", [
    ("torch.clamp(x, min=float('inf'))", lambda t: torch.clamp(t, min=float("inf"))),
    ("torch.clamp(x, max=-math.inf)", lambda t: torch.clamp(t, max=-math.inf)),
    ("torch.clamp(x, min=2.0, max=1.0)", lambda t: torch.clamp(t, min=2.0, max=1.0)),
    ("torch.clamp(x, 0.5, 0.5)", lambda t: torch.clamp(t, 0.5, 0.5))])
def test_clamp_with_infinite_or_crossed_bounds_matches_pytorch(expr, f):
    """min = inf sets all to inf (the gradient 1 only at x = inf); min > max sets all to max, gradient 0."""
    from jacobi_cli.tools import api
    x = np.array([-2.0, 0.5, 3.0, np.nan, -np.inf, np.inf, -0.0, 1.0, 2.0])
    t = torch.tensor(x, requires_grad=True)
    y = f(t)
    g, = torch.autograd.grad(y.sum(), t)
    ours = api.evaluate(expr, {"x": x})
    np.testing.assert_array_equal(ours, y.detach().numpy())
    for _ in range(2):
        np.testing.assert_array_equal(np.diagonal(api.jacobian(expr, {"x": x})["x"]), g.numpy())
    np.testing.assert_array_equal(api.vjp(expr, {"x": x}, v=np.ones(9))["x"], g.numpy())


@pytest.mark.parametrize("values, q", [([1.0, np.inf, 3.0], 0.5), ([1.0, 2.0, np.inf], 1.0), ([-np.inf, 2.0, 3.0], 0.0),
                                       ([1.0, 2.0, np.inf, 5.0], 0.5), ([1.0, np.nan, 3.0], 0.5), ([1.0, np.inf], 0.0),
                                       ([1.0, np.inf, np.inf], 0.75), ([-np.inf, 1.0, 2.0], 0.5), ([-0.0], 0.0)])
@pytest.mark.parametrize("method", ["linear", "midpoint"])
def test_quantile_at_infinite_elements_is_each_librarys_own(values, q, method):
    """docs/vocabulary-reductions.md: NumPy interpolates between the element at floor(q(n - 1)) and the next one
    even at a whole rank (3 + (inf - 3) · 0 is NaN), PyTorch between floor and ceil (inf + 0 · (inf - inf) is NaN
    at a whole rank on an infinite element); each spelling gives its library's answer, NaN and zero signs included."""
    x = np.array(values)
    with np.errstate(all="ignore"):
        want = {"np.quantile": np.quantile(x, q, method=method),
                "torch.quantile": torch.quantile(torch.tensor(x), q, interpolation=method).item()}
    for spelling, ref in want.items():
        kw = "method" if spelling.startswith("np") else "interpolation"
        got = float(api.evaluate(f"{spelling}(x, {q}, {kw}='{method}')", {"x": x}))
        assert (np.isnan(got) and np.isnan(ref)) or (got == ref and np.signbit(got) == np.signbit(ref)), (spelling, got, ref)