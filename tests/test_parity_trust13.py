"""What people paste from training code (htrust13): a two-layer MLP's forward pass and loss in one expression,
attention (scaled dot products, masks, bmm, baddbmm, einsum), torch.linalg on ill-conditioned and symmetric
inputs, view and reshape chains, reductions over dim tuples, ties of amax / max(dim) / sort / topk / kthvalue,
and the element-wise functions with kinks (where with scalar branches, clamp with tensor bounds, nan_to_num,
logaddexp, xlogy, hypot, atan2, copysign, fmod / remainder), each against PyTorch (float64): value, Jacobian,
a VJP and, for a one-element output, the Hessian. ``benchmarks/trust13_sweep.py`` runs the same cases at the
special points too (zeros, ties, ±inf, NaN) and tallies them (benchmarks/RESULTS.md)."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
la = torch.linalg


def pool() -> dict:
    """The inputs, by name: random values in each function's domain."""
    rng = np.random.default_rng(13)
    G = rng.uniform(-1, 1, (3, 3))
    Q_, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    return {
        "x": rng.uniform(-1, 1, 5), "y": rng.uniform(-1, 1, 5), "z": rng.uniform(-1, 1, 5),
        "p": rng.uniform(0.5, 2, 5), "q": rng.uniform(0.5, 2, 5), "u": rng.uniform(0.1, 0.9, 5),
        "a": rng.uniform(-1, 1, 3), "b": rng.uniform(-1, 1, 3), "c": rng.uniform(-1, 1, 4),
        "A": rng.uniform(-1, 1, (3, 4)), "B": rng.uniform(-1, 1, (3, 4)), "M": rng.uniform(-1, 1, (4, 3)),
        "Z": rng.uniform(-1, 1, (2, 3, 4)),
        # a two-layer MLP: a batch of 4 examples of 3 features, 6 hidden units, 2 outputs
        "X": rng.uniform(-1, 1, (4, 3)), "W1": rng.uniform(-1, 1, (6, 3)), "b1": rng.uniform(-0.5, 0.5, 6),
        "W2": rng.uniform(-1, 1, (2, 6)), "b2": rng.uniform(-0.5, 0.5, 2), "T": rng.uniform(-1, 1, (4, 2)),
        "g": rng.uniform(0.5, 1.5, 6), "h": rng.uniform(-0.5, 0.5, 6),
        "L": rng.uniform(-2, 2, (4, 5)), "Pr": _softmax(rng.uniform(-1, 1, (4, 5))),
        # attention: 3 tokens of width 4, and a batch of 2 of them
        "Q": rng.uniform(-1, 1, (3, 4)), "K": rng.uniform(-1, 1, (3, 4)), "V": rng.uniform(-1, 1, (3, 4)),
        "Qb": rng.uniform(-1, 1, (2, 3, 4)), "Kb": rng.uniform(-1, 1, (2, 3, 4)), "Vb": rng.uniform(-1, 1, (2, 3, 4)),
        "Mb": rng.uniform(-1, 1, (2, 3, 3)),
        # linear algebra: well conditioned, positive definite, symmetric indefinite, ill conditioned (cond 1e6)
        "S": G + 3 * np.eye(3), "P": G @ G.T + np.eye(3), "Sym": G + G.T,
        "Ill": Q_ @ np.diag([1.0, 1e-3, 1e-6]) @ Q_.T + 1e-3 * np.triu(np.ones((3, 3)), 1),
        "R": rng.uniform(-1, 1, (4, 3)), "U": np.triu(G) + 2 * np.eye(3), "s": np.array(0.7), "t": np.array(1.3),
    }


def _softmax(v):
    e = np.exp(v - v.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


IDX = "torch.tensor([[0, 2], [1, 1], [3, 0]])"  # a gather / scatter index of A (3, 4), a repeat in row 1
_IDX = torch.tensor([[0, 2], [1, 1], [3, 0]])
TGT = torch.tensor([1, 0, 4, 2])
CAUSAL = torch.triu(torch.ones(3, 3), 1).bool()

# (expression, PyTorch function): the inputs are the function's parameters, read from the pool
MLP = [
    ("F.mse_loss(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), T)",
     lambda X, W1, b1, W2, b2, T: F.mse_loss(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), T)),
    ("F.mse_loss(F.linear(torch.tanh(F.linear(X, W1, b1)), W2, b2), T, reduction='sum')",
     lambda X, W1, b1, W2, b2, T: F.mse_loss(F.linear(torch.tanh(F.linear(X, W1, b1)), W2, b2), T, reduction='sum')),
    ("F.mse_loss(F.linear(F.gelu(F.linear(X, W1, b1)), W2), T, reduction='none')",
     lambda X, W1, b1, W2, T: F.mse_loss(F.linear(F.gelu(F.linear(X, W1, b1)), W2), T, reduction='none')),
    ("F.linear(F.gelu(F.linear(X, W1, b1), approximate='tanh'), W2, b2)",
     lambda X, W1, b1, W2, b2: F.linear(F.gelu(F.linear(X, W1, b1), approximate='tanh'), W2, b2)),
    ("F.layer_norm(F.linear(X, W1, b1), (6,))", lambda X, W1, b1: F.layer_norm(F.linear(X, W1, b1), (6,))),
    ("F.layer_norm(F.linear(X, W1, b1), (6,), g, h)",
     lambda X, W1, b1, g, h: F.layer_norm(F.linear(X, W1, b1), (6,), g, h)),
    ("F.layer_norm(F.linear(X, W1), [6], weight=g, bias=h, eps=1e-3)",
     lambda X, W1, g, h: F.layer_norm(F.linear(X, W1), [6], weight=g, bias=h, eps=1e-3)),
    ("F.layer_norm(Z, Z.shape[1:])", lambda Z: F.layer_norm(Z, Z.shape[1:])),
    ("F.linear(F.layer_norm(F.gelu(F.linear(X, W1, b1)), (6,), g, h), W2, b2).pow(2).mean()",
     lambda X, W1, b1, g, h, W2, b2: F.linear(F.layer_norm(F.gelu(F.linear(X, W1, b1)), (6,), g, h), W2, b2).pow(2).mean()),
    ("F.dropout(F.linear(X, W1, b1), p=0.5, training=False)",
     lambda X, W1, b1: F.dropout(F.linear(X, W1, b1), p=0.5, training=False)),
    ("F.linear(F.dropout(F.relu(F.linear(X, W1, b1)), 0.1, False), W2, b2)",
     lambda X, W1, b1, W2, b2: F.linear(F.dropout(F.relu(F.linear(X, W1, b1)), 0.1, False), W2, b2)),
    ("F.smooth_l1_loss(F.linear(torch.tanh(F.linear(X, W1, b1)), W2, b2), T, beta=0.5)",
     lambda X, W1, b1, W2, b2, T: F.smooth_l1_loss(F.linear(torch.tanh(F.linear(X, W1, b1)), W2, b2), T, beta=0.5)),
    ("F.smooth_l1_loss(X @ W1.T @ W2.T, T, reduction='sum', beta=2.0)",
     lambda X, W1, W2, T: F.smooth_l1_loss(X @ W1.T @ W2.T, T, reduction='sum', beta=2.0)),
    ("F.huber_loss(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), T, delta=0.3)",
     lambda X, W1, b1, W2, b2, T: F.huber_loss(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), T, delta=0.3)),
    ("F.huber_loss(X @ W1.T @ W2.T, T, reduction='none')",
     lambda X, W1, W2, T: F.huber_loss(X @ W1.T @ W2.T, T, reduction='none')),
    ("F.l1_loss(F.linear(torch.sigmoid(F.linear(X, W1, b1)), W2, b2), T)",
     lambda X, W1, b1, W2, b2, T: F.l1_loss(F.linear(torch.sigmoid(F.linear(X, W1, b1)), W2, b2), T)),
    ("F.binary_cross_entropy_with_logits(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), (T > 0).float(), "
     "pos_weight=torch.tensor([3.0, 0.5]))",
     lambda X, W1, b1, W2, b2, T: F.binary_cross_entropy_with_logits(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2),
                                                                      (T > 0).double(), pos_weight=torch.tensor([3.0, 0.5], dtype=torch.float64))),
    ("F.binary_cross_entropy_with_logits(X @ W1.T @ W2.T, torch.sigmoid(T), pos_weight=torch.tensor([2.0, 1.0]), "
     "reduction='sum')",
     lambda X, W1, W2, T: F.binary_cross_entropy_with_logits(X @ W1.T @ W2.T, torch.sigmoid(T),
                                                              pos_weight=torch.tensor([2.0, 1.0], dtype=torch.float64), reduction='sum')),
    ("F.binary_cross_entropy_with_logits(F.linear(X, W1, b1), torch.ones(4, 6), pos_weight=g, reduction='none')",
     lambda X, W1, b1, g: F.binary_cross_entropy_with_logits(F.linear(X, W1, b1), torch.ones(4, 6, dtype=torch.float64),
                                                              pos_weight=g, reduction='none')),
    ("F.binary_cross_entropy(torch.sigmoid(F.linear(X, W1.T[:, :2].T)), (T > 0).float(), reduction='sum')",
     lambda X, W1, T: F.binary_cross_entropy(torch.sigmoid(F.linear(X, W1.T[:, :2].T)), (T > 0).double(), reduction='sum')),
    ("F.kl_div(F.log_softmax(F.linear(X, W1, b1), dim=1), F.softmax(F.linear(X, W1), dim=1), reduction='batchmean')",
     lambda X, W1, b1: F.kl_div(F.log_softmax(F.linear(X, W1, b1), dim=1), F.softmax(F.linear(X, W1), dim=1),
                                reduction='batchmean')),
    ("F.kl_div(F.log_softmax(L, -1), F.log_softmax(L * 2, -1), reduction='batchmean', log_target=True)",
     lambda L: F.kl_div(F.log_softmax(L, -1), F.log_softmax(L * 2, -1), reduction='batchmean', log_target=True)),
    ("F.kl_div(F.log_softmax(L, 1), Pr.log(), log_target=True, reduction='sum')",
     lambda L, Pr: F.kl_div(F.log_softmax(L, 1), Pr.log(), log_target=True, reduction='sum')),
    ("F.kl_div(F.log_softmax(L, 1), Pr, reduction='mean')", lambda L, Pr: F.kl_div(F.log_softmax(L, 1), Pr, reduction='mean')),
    ("F.nll_loss(F.log_softmax(F.linear(X, W1[:5], b1[:5]), dim=1), torch.tensor([1, 0, 4, 2]), "
     "weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0]))",
     lambda X, W1, b1: F.nll_loss(F.log_softmax(F.linear(X, W1[:5], b1[:5]), dim=1), TGT,
                                  weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=torch.float64))),
    ("F.nll_loss(F.log_softmax(L, 1), torch.tensor([1, 0, 4, 2]), weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0]), "
     "reduction='sum')",
     lambda L: F.nll_loss(F.log_softmax(L, 1), TGT, weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=torch.float64),
                          reduction='sum')),
    ("F.nll_loss(F.log_softmax(L, 1), torch.tensor([1, 0, 4, 2]), weight=Pr[0], reduction='none')",
     lambda L, Pr: F.nll_loss(F.log_softmax(L, 1), TGT, weight=Pr[0], reduction='none')),
    ("F.cross_entropy(F.linear(F.relu(F.linear(X, W1, b1)), torch.cat([W2, W2, W2[:1]]), b1[:5]), torch.tensor([1, 0, 4, 2]))",
     lambda X, W1, b1, W2: F.cross_entropy(F.linear(F.relu(F.linear(X, W1, b1)), torch.cat([W2, W2, W2[:1]]), b1[:5]), TGT)),
    ("-F.log_softmax(L, dim=1).gather(1, torch.tensor([[1], [0], [4], [2]])).mean()",
     lambda L: -F.log_softmax(L, dim=1).gather(1, TGT[:, None]).mean()),
    ("(torch.logsumexp(L, 1) - L[torch.arange(4), torch.tensor([1, 0, 4, 2])]).mean()",
     lambda L: (torch.logsumexp(L, 1) - L[torch.arange(4), TGT]).mean()),
    ("h1 = torch.tanh(X @ W1.T + b1); out = h1 @ W2.T + b2; ((out - T) ** 2).mean()",
     lambda X, W1, b1, W2, b2, T: (((torch.tanh(X @ W1.T + b1)) @ W2.T + b2 - T) ** 2).mean()),
    ("h1 = F.silu(F.linear(X, W1, b1)); loss = F.mse_loss(F.linear(h1, W2, b2), T); loss + 1e-2 * (W1 ** 2).sum()",
     lambda X, W1, b1, W2, b2, T: F.mse_loss(F.linear(F.silu(F.linear(X, W1, b1)), W2, b2), T) + 1e-2 * (W1 ** 2).sum()),
    ("F.linear(F.elu(F.linear(X, W1, b1), alpha=0.5), W2)", lambda X, W1, b1, W2: F.linear(F.elu(F.linear(X, W1, b1), alpha=0.5), W2)),
    ("F.linear(F.leaky_relu(F.linear(X, W1, b1), 0.2), W2)",
     lambda X, W1, b1, W2: F.linear(F.leaky_relu(F.linear(X, W1, b1), 0.2), W2)),
    ("F.linear(F.softplus(F.linear(X, W1, b1), beta=2.0), W2)",
     lambda X, W1, b1, W2: F.linear(F.softplus(F.linear(X, W1, b1), beta=2.0), W2)),
    ("F.linear(F.mish(F.linear(X, W1, b1)), W2, b2)", lambda X, W1, b1, W2, b2: F.linear(F.mish(F.linear(X, W1, b1)), W2, b2)),
    ("F.linear(F.selu(F.linear(X, W1, b1)), W2, b2)", lambda X, W1, b1, W2, b2: F.linear(F.selu(F.linear(X, W1, b1)), W2, b2)),
    ("F.linear(F.hardtanh(F.linear(X, W1, b1), -0.5, 0.5), W2)",
     lambda X, W1, b1, W2: F.linear(F.hardtanh(F.linear(X, W1, b1), -0.5, 0.5), W2)),
    ("X + F.linear(F.relu(F.linear(X, W1, b1)), W1.T)", lambda X, W1, b1: X + F.linear(F.relu(F.linear(X, W1, b1)), W1.T)),
    ("F.normalize(F.linear(X, W1), dim=1)", lambda X, W1: F.normalize(F.linear(X, W1), dim=1)),
    ("X / torch.sqrt((X ** 2).mean(-1, keepdim=True) + 1e-6) * g[:3]",
     lambda X, g: X / torch.sqrt((X ** 2).mean(-1, keepdim=True) + 1e-6) * g[:3]),
    ("F.rms_norm(F.linear(X, W1, b1), (6,), g)", lambda X, W1, b1, g: F.rms_norm(F.linear(X, W1, b1), (6,), g)),
    ("F.batch_norm(F.linear(X, W1, b1), torch.zeros(6), torch.ones(6), g, h, training=False)",
     lambda X, W1, b1, g, h: F.batch_norm(F.linear(X, W1, b1), torch.zeros(6, dtype=torch.float64),
                                          torch.ones(6, dtype=torch.float64), g, h, training=False)),
    ("F.batch_norm(F.linear(X, W1, b1), None, None, g, h, training=True)",
     lambda X, W1, b1, g, h: F.batch_norm(F.linear(X, W1, b1), None, None, g, h, training=True)),
    ("torch.addmm(b1, X, W1.T)", lambda X, W1, b1: torch.addmm(b1, X, W1.T)),
    ("torch.addmm(b2, torch.relu(torch.addmm(b1, X, W1.t())), W2.t(), beta=0.5, alpha=2.0)",
     lambda X, W1, b1, W2, b2: torch.addmm(b2, torch.relu(torch.addmm(b1, X, W1.t())), W2.t(), beta=0.5, alpha=2.0)),
    ("F.gaussian_nll_loss(F.linear(X, W2[:, :3]), T, torch.ones(4, 2) * 0.5)",
     lambda X, W2, T: F.gaussian_nll_loss(F.linear(X, W2[:, :3]), T, torch.ones(4, 2, dtype=torch.float64) * 0.5)),
    ("F.poisson_nll_loss(F.linear(X, W2[:, :3]), T.abs())", lambda X, W2, T: F.poisson_nll_loss(F.linear(X, W2[:, :3]), T.abs())),
    ("F.cosine_similarity(F.linear(X, W1), F.linear(X, W1.flip(0)), dim=1).mean()",
     lambda X, W1: F.cosine_similarity(F.linear(X, W1), F.linear(X, W1.flip(0)), dim=1).mean()),
    ("F.softmax(F.linear(X, W1, b1) / t, dim=-1)", lambda X, W1, b1, t: F.softmax(F.linear(X, W1, b1) / t, dim=-1)),
    ("F.log_softmax(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), -1).sum()",
     lambda X, W1, b1, W2, b2: F.log_softmax(F.linear(F.relu(F.linear(X, W1, b1)), W2, b2), -1).sum()),
]

ATTENTION = [
    ("torch.softmax(Q @ K.T / math.sqrt(4), dim=-1) @ V",
     lambda Q, K, V: torch.softmax(Q @ K.T / math.sqrt(4), dim=-1) @ V),
    ("torch.softmax(Q @ K.T / Q.shape[-1] ** 0.5, dim=-1) @ V",
     lambda Q, K, V: torch.softmax(Q @ K.T / Q.shape[-1] ** 0.5, dim=-1) @ V),
    ("torch.softmax(Q @ K.transpose(0, 1) / np.sqrt(Q.size(-1)), -1) @ V",
     lambda Q, K, V: torch.softmax(Q @ K.transpose(0, 1) / np.sqrt(Q.size(-1)), -1) @ V),
    ("F.softmax(torch.matmul(Q, K.t()) * (1 / 2), dim=1).matmul(V)",
     lambda Q, K, V: F.softmax(torch.matmul(Q, K.t()) * (1 / 2), dim=1).matmul(V)),
    ("torch.softmax((Q @ K.T).masked_fill(torch.triu(torch.ones(3, 3), 1).bool(), float('-inf')), -1) @ V",
     lambda Q, K, V: torch.softmax((Q @ K.T).masked_fill(CAUSAL, float('-inf')), -1) @ V),
    ("torch.softmax((Q @ K.T).masked_fill(torch.triu(torch.ones(3, 3), diagonal=1) == 1, -1e9), -1) @ V",
     lambda Q, K, V: torch.softmax((Q @ K.T).masked_fill(torch.triu(torch.ones(3, 3), diagonal=1) == 1, -1e9), -1) @ V),
    ("torch.softmax((Q @ K.T).masked_fill(~torch.tril(torch.ones(3, 3, dtype=torch.bool)), -torch.inf) / 2, dim=1)",
     lambda Q, K: torch.softmax((Q @ K.T).masked_fill(~torch.tril(torch.ones(3, 3, dtype=torch.bool)), -torch.inf) / 2, dim=1)),
    ("scores = Q @ K.T; scores = torch.where(torch.tril(torch.ones(3, 3)) > 0, scores, float('-inf')); "
     "scores.softmax(-1) @ V",
     lambda Q, K, V: torch.where(torch.tril(torch.ones(3, 3)) > 0, Q @ K.T, float('-inf')).softmax(-1) @ V),
    ("torch.softmax((Q @ K.T).masked_fill(Q[:, :1] > 0, float('-inf')), -1)",
     lambda Q, K: torch.softmax((Q @ K.T).masked_fill(Q[:, :1] > 0, float('-inf')), -1)),
    ("torch.softmax(torch.bmm(Qb, Kb.transpose(1, 2)) / 2.0, dim=-1).bmm(Vb)",
     lambda Qb, Kb, Vb: torch.softmax(torch.bmm(Qb, Kb.transpose(1, 2)) / 2.0, dim=-1).bmm(Vb)),
    ("torch.bmm(F.softmax(torch.bmm(Qb, Kb.mT), -1), Vb)", lambda Qb, Kb, Vb: torch.bmm(F.softmax(torch.bmm(Qb, Kb.mT), -1), Vb)),
    ("torch.baddbmm(Mb, Qb, Kb.transpose(1, 2), beta=2.0, alpha=0.5)",
     lambda Mb, Qb, Kb: torch.baddbmm(Mb, Qb, Kb.transpose(1, 2), beta=2.0, alpha=0.5)),
    ("torch.baddbmm(torch.zeros(2, 3, 3), Qb, Kb.mT, beta=0, alpha=1 / 2).softmax(-1) @ Vb",
     lambda Qb, Kb, Vb: torch.baddbmm(torch.zeros(2, 3, 3, dtype=torch.float64), Qb, Kb.mT, beta=0, alpha=1 / 2).softmax(-1) @ Vb),
    ("Mb.baddbmm(Qb, Kb.mT)", lambda Mb, Qb, Kb: Mb.baddbmm(Qb, Kb.mT)),
    ("torch.baddbmm(b[None, None, :], Qb, Kb.mT)", lambda b, Qb, Kb: torch.baddbmm(b[None, None, :], Qb, Kb.mT)),
    ("torch.einsum('bij,bjd->bid', torch.softmax(torch.einsum('bid,bjd->bij', Qb, Kb) / 2, -1), Vb)",
     lambda Qb, Kb, Vb: torch.einsum('bij,bjd->bid', torch.softmax(torch.einsum('bid,bjd->bij', Qb, Kb) / 2, -1), Vb)),
    ("torch.einsum('id,jd->ij', Q, K).softmax(dim=1)", lambda Q, K: torch.einsum('id,jd->ij', Q, K).softmax(dim=1)),
    ("F.scaled_dot_product_attention(Qb, Kb, Vb)", lambda Qb, Kb, Vb: F.scaled_dot_product_attention(Qb, Kb, Vb)),
    ("F.scaled_dot_product_attention(Qb, Kb, Vb, is_causal=True)",
     lambda Qb, Kb, Vb: F.scaled_dot_product_attention(Qb, Kb, Vb, is_causal=True)),
    ("F.scaled_dot_product_attention(Q, K, V, scale=0.3)", lambda Q, K, V: F.scaled_dot_product_attention(Q, K, V, scale=0.3)),
    ("F.scaled_dot_product_attention(Qb, Kb, Vb, attn_mask=torch.tril(torch.ones(3, 3)).bool())",
     lambda Qb, Kb, Vb: F.scaled_dot_product_attention(Qb, Kb, Vb, attn_mask=torch.tril(torch.ones(3, 3)).bool())),
    ("F.scaled_dot_product_attention(Qb, Kb, Vb, attn_mask=Mb)", lambda Qb, Kb, Vb, Mb: F.scaled_dot_product_attention(Qb, Kb, Vb, attn_mask=Mb)),
    ("q = Qb.reshape(2, 3, 2, 2).transpose(1, 2); k = Kb.reshape(2, 3, 2, 2).transpose(1, 2); "
     "v = Vb.reshape(2, 3, 2, 2).transpose(1, 2); "
     "(torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(2), -1) @ v).transpose(1, 2).reshape(2, 3, 4)",
     lambda Qb, Kb, Vb: (torch.softmax(Qb.reshape(2, 3, 2, 2).transpose(1, 2) @ Kb.reshape(2, 3, 2, 2).transpose(1, 2).transpose(-2, -1)
                                       / math.sqrt(2), -1) @ Vb.reshape(2, 3, 2, 2).transpose(1, 2)).transpose(1, 2).reshape(2, 3, 4)),
    ("q = Qb.view(2, 3, 2, 2).permute(0, 2, 1, 3); (q @ q.transpose(-1, -2)).softmax(-1).sum(1)",
     lambda Qb: (Qb.view(2, 3, 2, 2).permute(0, 2, 1, 3) @ Qb.view(2, 3, 2, 2).permute(0, 2, 1, 3).transpose(-1, -2)).softmax(-1).sum(1)),
    ("torch.softmax(Q @ K.T / t, -1) @ V", lambda Q, K, V, t: torch.softmax(Q @ K.T / t, -1) @ V),
    ("torch.matmul(Qb, Kb.transpose(-2, -1)).softmax(-1).max(-1).values",
     lambda Qb, Kb: torch.matmul(Qb, Kb.transpose(-2, -1)).softmax(-1).max(-1).values),
    ("(torch.softmax(Q @ K.T, -1) * torch.log_softmax(Q @ K.T, -1)).sum(-1)",
     lambda Q, K: (torch.softmax(Q @ K.T, -1) * torch.log_softmax(Q @ K.T, -1)).sum(-1)),
    ("x_ = Qb + F.scaled_dot_product_attention(Qb, Kb, Vb); F.layer_norm(x_, (4,))",
     lambda Qb, Kb, Vb: F.layer_norm(Qb + F.scaled_dot_product_attention(Qb, Kb, Vb), (4,))),
]

LINALG = [
    ("torch.linalg.solve(S, a)", lambda S, a: la.solve(S, a)),
    ("torch.linalg.solve(Ill, a)", lambda Ill, a: la.solve(Ill, a)),
    ("torch.linalg.solve(P, R.T)", lambda P, R: la.solve(P, R.T)),
    ("torch.linalg.solve(Sym, a)", lambda Sym, a: la.solve(Sym, a)),
    ("torch.linalg.solve(S, R.T, left=True)", lambda S, R: la.solve(S, R.T, left=True)),
    ("torch.linalg.solve(S, R, left=False)", lambda S, R: la.solve(S, R, left=False)),
    ("torch.linalg.inv(S)", lambda S: la.inv(S)),
    ("torch.linalg.inv(Ill)", lambda Ill: la.inv(Ill)),
    ("torch.linalg.inv(P) @ a", lambda P, a: la.inv(P) @ a),
    ("torch.inverse(Sym).sum()", lambda Sym: torch.inverse(Sym).sum()),
    ("torch.linalg.det(S)", lambda S: la.det(S)),
    ("torch.linalg.det(Ill)", lambda Ill: la.det(Ill)),
    ("torch.det(Sym)", lambda Sym: torch.det(Sym)),
    ("torch.linalg.slogdet(Ill).logabsdet", lambda Ill: la.slogdet(Ill).logabsdet),
    ("torch.linalg.slogdet(Sym)[1]", lambda Sym: la.slogdet(Sym)[1]),
    ("torch.logdet(P)", lambda P: torch.logdet(P)),
    ("torch.linalg.cholesky(P)", lambda P: la.cholesky(P)),
    ("torch.linalg.cholesky(P, upper=True)", lambda P: la.cholesky(P, upper=True)),
    ("torch.linalg.cholesky(P @ P.T + Ill @ Ill.T)", lambda P, Ill: la.cholesky(P @ P.T + Ill @ Ill.T)),
    ("torch.cholesky_solve(R.T, torch.linalg.cholesky(P))", lambda P, R: torch.cholesky_solve(R.T, la.cholesky(P))),
    ("2 * torch.linalg.cholesky(P).diagonal().log().sum()", lambda P: 2 * la.cholesky(P).diagonal().log().sum()),
    ("torch.linalg.qr(R).Q", lambda R: la.qr(R).Q),
    ("torch.linalg.qr(R).R", lambda R: la.qr(R).R),
    ("torch.linalg.qr(S)[0] @ torch.linalg.qr(S)[1]", lambda S: la.qr(S)[0] @ la.qr(S)[1]),
    ("torch.linalg.qr(Ill).R.diagonal()", lambda Ill: la.qr(Ill).R.diagonal()),
    ("torch.linalg.eigh(Sym).eigenvalues", lambda Sym: la.eigh(Sym).eigenvalues),
    ("torch.linalg.eigvalsh(P)", lambda P: la.eigvalsh(P)),
    ("torch.linalg.eigvalsh(Sym, UPLO='U')", lambda Sym: la.eigvalsh(Sym, UPLO='U')),
    ("w, Vec = torch.linalg.eigh(Sym); Vec @ torch.diag(w) @ Vec.T", lambda Sym: (lambda w, V: V @ torch.diag(w) @ V.T)(*la.eigh(Sym))),
    ("w, Vec = torch.linalg.eigh(P); Vec @ torch.diag(w.sqrt()) @ Vec.T", lambda P: (lambda w, V: V @ torch.diag(w.sqrt()) @ V.T)(*la.eigh(P))),
    ("torch.linalg.eigh(Sym).eigenvectors ** 2", lambda Sym: la.eigh(Sym).eigenvectors ** 2),
    ("torch.linalg.eigh(P).eigenvalues.max()", lambda P: la.eigh(P).eigenvalues.max()),
    ("torch.linalg.svdvals(R)", lambda R: la.svdvals(R)),
    ("torch.linalg.svdvals(Ill)", lambda Ill: la.svdvals(Ill)),
    ("torch.linalg.svdvals(Sym).sum()", lambda Sym: la.svdvals(Sym).sum()),
    ("U_, S_, Vh = torch.linalg.svd(R, full_matrices=False); U_ @ torch.diag(S_) @ Vh",
     lambda R: (lambda U, S, Vh: U @ torch.diag(S) @ Vh)(*la.svd(R, full_matrices=False))),
    ("torch.linalg.matrix_exp(0.3 * S)", lambda S: la.matrix_exp(0.3 * S)),
    ("torch.linalg.matrix_exp(Sym)", lambda Sym: la.matrix_exp(Sym)),
    ("torch.matrix_exp(Ill * 10)", lambda Ill: torch.matrix_exp(Ill * 10)),
    ("torch.linalg.pinv(R)", lambda R: la.pinv(R)),
    ("torch.linalg.pinv(S)", lambda S: la.pinv(S)),
    ("torch.linalg.pinv(P, hermitian=True)", lambda P: la.pinv(P, hermitian=True)),
    ("torch.linalg.lstsq(R, c).solution", lambda R, c: la.lstsq(R, c).solution),
    ("torch.linalg.lstsq(R, M).solution", lambda R, M: la.lstsq(R, M).solution),
    ("torch.linalg.lstsq(S, a[:, None]).solution", lambda S, a: la.lstsq(S, a[:, None]).solution),
    ("torch.linalg.norm(S)", lambda S: la.norm(S)),
    ("torch.linalg.norm(S, 'fro')", lambda S: la.norm(S, 'fro')),
    ("torch.linalg.norm(S, 'nuc')", lambda S: la.norm(S, 'nuc')),
    ("torch.linalg.norm(Sym, 2)", lambda Sym: la.norm(Sym, 2)),
    ("torch.linalg.norm(S, -2)", lambda S: la.norm(S, -2)),
    ("torch.linalg.norm(S, 1)", lambda S: la.norm(S, 1)),
    ("torch.linalg.norm(S, -1)", lambda S: la.norm(S, -1)),
    ("torch.linalg.norm(S, float('inf'))", lambda S: la.norm(S, float('inf'))),
    ("torch.linalg.norm(S, -float('inf'))", lambda S: la.norm(S, -float('inf'))),
    ("torch.linalg.norm(x, 0.5)", lambda x: la.norm(x, 0.5)),
    ("torch.linalg.norm(x, -1)", lambda x: la.norm(x, -1)),
    ("torch.linalg.norm(A, dim=(0, 1))", lambda A: la.norm(A, dim=(0, 1))),
    ("torch.linalg.norm(Z, ord=2, dim=(1, 2))", lambda Z: la.norm(Z, ord=2, dim=(1, 2))),
    ("torch.linalg.matrix_norm(Z, ord='nuc')", lambda Z: la.matrix_norm(Z, ord='nuc')),
    ("torch.linalg.matrix_norm(A, ord=1, keepdim=True)", lambda A: la.matrix_norm(A, ord=1, keepdim=True)),
    ("torch.linalg.vector_norm(Z, ord=3, dim=(0, 2))", lambda Z: la.vector_norm(Z, ord=3, dim=(0, 2))),
    ("torch.linalg.vector_norm(A, ord=float('inf'), dim=1, keepdim=True)",
     lambda A: la.vector_norm(A, ord=float('inf'), dim=1, keepdim=True)),
    ("torch.norm(A, p=1, dim=1)", lambda A: torch.norm(A, p=1, dim=1)),
    ("torch.norm(S, p='fro')", lambda S: torch.norm(S, p='fro')),
    ("torch.linalg.cond(S)", lambda S: la.cond(S)),
    ("torch.linalg.cond(P, 'fro')", lambda P: la.cond(P, 'fro')),
    ("torch.linalg.matrix_power(S, 3)", lambda S: la.matrix_power(S, 3)),
    ("torch.linalg.matrix_power(P, -2)", lambda P: la.matrix_power(P, -2)),
    ("torch.linalg.multi_dot([A, M, a])", lambda A, M, a: la.multi_dot([A, M, a])),
    ("torch.linalg.solve_triangular(U, R.T, upper=True)", lambda U, R: la.solve_triangular(U, R.T, upper=True)),
    ("torch.linalg.solve_triangular(U.T, R, upper=False, left=False)",
     lambda U, R: la.solve_triangular(U.T, R, upper=False, left=False)),
    ("torch.trace(torch.linalg.inv(P) @ S)", lambda P, S: torch.trace(la.inv(P) @ S)),
    ("torch.linalg.vecdot(A, B)", lambda A, B: la.vecdot(A, B)),
    ("torch.linalg.cross(a, b)", lambda a, b: la.cross(a, b)),
    ("a @ torch.linalg.solve(P, a)", lambda a, P: a @ la.solve(P, a)),
    ("0.5 * (a @ torch.cholesky_solve(a[:, None], torch.linalg.cholesky(P))).sum() + torch.logdet(P)",
     lambda a, P: 0.5 * (a @ torch.cholesky_solve(a[:, None], la.cholesky(P))).sum() + torch.logdet(P)),
    ("torch.linalg.inv_ex(S).inverse", lambda S: la.inv_ex(S).inverse),
    ("torch.linalg.cholesky_ex(P).L", lambda P: la.cholesky_ex(P).L),
    ("torch.linalg.diagonal(Z)", lambda Z: la.diagonal(Z)),
    ("torch.linalg.matmul(A, M)", lambda A, M: la.matmul(A, M)),
    ("torch.linalg.tensorsolve(S, a)", lambda S, a: la.tensorsolve(S, a)),
    ("torch.linalg.tensorinv(S, ind=1)", lambda S: la.tensorinv(S, ind=1)),
]

VIEWS = [
    ("A.view(-1)", lambda A: A.view(-1)),
    ("Z.view(-1, 4).sum(0)", lambda Z: Z.view(-1, 4).sum(0)),
    ("A.view(2, -1) * B.view(2, 6)", lambda A, B: A.view(2, -1) * B.view(2, 6)),
    ("Z.unflatten(2, (2, 2))", lambda Z: Z.unflatten(2, (2, 2))),
    ("torch.unflatten(A, 1, (2, -1)).sum(-1)", lambda A: torch.unflatten(A, 1, (2, -1)).sum(-1)),
    ("A.flatten().unflatten(0, (4, 3)) @ a", lambda A, a: A.flatten().unflatten(0, (4, 3)) @ a),
    ("torch.movedim(Z, 0, -1)", lambda Z: torch.movedim(Z, 0, -1)),
    ("Z.movedim((0, 1), (2, 0))", lambda Z: Z.movedim((0, 1), (2, 0))),
    ("torch.moveaxis(Z, -1, 0).reshape(4, 6)", lambda Z: torch.moveaxis(Z, -1, 0).reshape(4, 6)),
    ("Z.permute(2, 0, 1) * 2", lambda Z: Z.permute(2, 0, 1) * 2),
    ("torch.permute(Z, (1, 2, 0)).reshape(3, -1)", lambda Z: torch.permute(Z, (1, 2, 0)).reshape(3, -1)),
    ("Z.permute(0, 2, 1) @ Z", lambda Z: Z.permute(0, 2, 1) @ Z),
    ("x.expand(3, 5) * a[:, None]", lambda x, a: x.expand(3, 5) * a[:, None]),
    ("A[:, None, :].expand(3, 2, 4).sum(1)", lambda A: A[:, None, :].expand(3, 2, 4).sum(1)),
    ("x.unsqueeze(0).expand(2, -1)", lambda x: x.unsqueeze(0).expand(2, -1)),
    ("a[:, None].expand_as(A) * A", lambda a, A: a[:, None].expand_as(A) * A),
    ("A.repeat(2, 1)", lambda A: A.repeat(2, 1)),
    ("x.repeat(2) * x.repeat(2).flip(0)", lambda x: x.repeat(2) * x.repeat(2).flip(0)),
    ("A.repeat(1, 2, 1).sum(0)", lambda A: A.repeat(1, 2, 1).sum(0)),
    ("torch.tile(A, (2,))", lambda A: torch.tile(A, (2,))),
    ("torch.repeat_interleave(x, 2)", lambda x: torch.repeat_interleave(x, 2)),
    ("A.repeat_interleave(2, dim=0)", lambda A: A.repeat_interleave(2, dim=0)),
    ("torch.repeat_interleave(x, torch.tensor([1, 0, 2, 1, 3]))", lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 2, 1, 3]))),
    ("A.repeat_interleave(torch.tensor([2, 0, 1, 1]), dim=1)", lambda A: A.repeat_interleave(torch.tensor([2, 0, 1, 1]), dim=1)),
    ("torch.chunk(A, 2, dim=1)[1]", lambda A: torch.chunk(A, 2, dim=1)[1]),
    ("x.chunk(2)[0] @ x.chunk(2)[0]", lambda x: x.chunk(2)[0] @ x.chunk(2)[0]),
    ("torch.chunk(Z, 3, -1)[-1]", lambda Z: torch.chunk(Z, 3, -1)[-1]),
    ("l_, r_ = A.chunk(2, 1); l_ * torch.sigmoid(r_)", lambda A: (lambda l, r: l * torch.sigmoid(r))(*A.chunk(2, 1))),
    ("torch.split(A, [1, 3], dim=1)[1]", lambda A: torch.split(A, [1, 3], dim=1)[1]),
    ("A.split(3, dim=1)[1]", lambda A: A.split(3, dim=1)[1]),
    ("torch.split(x, [2, 3])[0] @ torch.split(y, [2, 3])[0]", lambda x, y: torch.split(x, [2, 3])[0] @ torch.split(y, [2, 3])[0]),
    ("torch.cat(torch.split(x, [2, 3])[::-1])", lambda x: torch.cat(torch.split(x, [2, 3])[::-1])),
    ("torch.split(x, 2)[2]", lambda x: torch.split(x, 2)[2]),
    ("x.split([1, 1, 3])[2].sum()", lambda x: x.split([1, 1, 3])[2].sum()),
    ("torch.unbind(A)[1]", lambda A: torch.unbind(A)[1]),
    ("r0, r1, r2 = A.unbind(0); r0 * r1 - r2", lambda A: (lambda r0, r1, r2: r0 * r1 - r2)(*A.unbind(0))),
    ("torch.stack(A.unbind(1), dim=0)", lambda A: torch.stack(A.unbind(1), dim=0)),
    ("Z.unbind(-1)[2] @ a", lambda Z, a: Z.unbind(-1)[2] @ a),
    ("torch.gather(A, 1, " + IDX + ")", lambda A: torch.gather(A, 1, _IDX)),
    ("A.gather(0, torch.tensor([[2, 0, 1, 1]]))", lambda A: A.gather(0, torch.tensor([[2, 0, 1, 1]]))),
    ("torch.take_along_dim(A, torch.argsort(A, dim=1), dim=1)", lambda A: torch.take_along_dim(A, torch.argsort(A, dim=1), dim=1)),
    ("torch.take_along_dim(A, " + IDX + ", 1)", lambda A: torch.take_along_dim(A, _IDX, 1)),
    ("torch.take_along_dim(x, torch.tensor([4, 0, 0]))", lambda x: torch.take_along_dim(x, torch.tensor([4, 0, 0]))),
    ("torch.take_along_dim(A, A.argmax(1, keepdim=True), dim=1)", lambda A: torch.take_along_dim(A, A.argmax(1, keepdim=True), dim=1)),
    ("torch.zeros(3, 4).scatter(1, " + IDX + ", B[:, :2])",
     lambda B: torch.zeros(3, 4, dtype=torch.float64).scatter(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), B[:, :2])),
    ("A.scatter(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), B)",
     lambda A, B: A.scatter(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), B)),
    ("A.scatter(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), 0.5)",
     lambda A: A.scatter(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), 0.5)),
    ("torch.scatter_add(A, 1, " + IDX + ", B[:, :2])", lambda A, B: torch.scatter_add(A, 1, _IDX, B[:, :2])),
    ("torch.zeros(5).scatter_add(0, torch.tensor([0, 0, 1, 4, 4]), x)",
     lambda x: torch.zeros(5, dtype=torch.float64).scatter_add(0, torch.tensor([0, 0, 1, 4, 4]), x)),
    ("A.scatter_reduce(1, " + IDX + ", B[:, :2], reduce='amax')",
     lambda A, B: A.scatter_reduce(1, _IDX, B[:, :2], reduce='amax')),
    ("A.scatter_reduce(1, " + IDX + ", B[:, :2], reduce='mean', include_self=False)",
     lambda A, B: A.scatter_reduce(1, _IDX, B[:, :2], reduce='mean', include_self=False)),
    ("torch.index_select(A, 1, torch.tensor([3, 0, 0]))", lambda A: torch.index_select(A, 1, torch.tensor([3, 0, 0]))),
    ("x.index_select(0, torch.tensor([4, 4, 1]))", lambda x: x.index_select(0, torch.tensor([4, 4, 1]))),
    ("torch.narrow(A, 1, 1, 2)", lambda A: torch.narrow(A, 1, 1, 2)),
    ("A.unsqueeze(0).unsqueeze(-1).squeeze().t()", lambda A: A.unsqueeze(0).unsqueeze(-1).squeeze().t()),
    ("Z.reshape(6, 4).T.reshape(2, 12)", lambda Z: Z.reshape(6, 4).T.reshape(2, 12)),
    ("A.T.contiguous().view(-1)", lambda A: A.T.contiguous().view(-1)),
    ("torch.flatten(Z, 1)", lambda Z: torch.flatten(Z, 1)),
    ("torch.flatten(Z, 0, 1) @ c", lambda Z, c: torch.flatten(Z, 0, 1) @ c),
    ("Z.transpose(0, 1).reshape(3, 8)", lambda Z: Z.transpose(0, 1).reshape(3, 8)),
    ("x[None, :, None].expand(2, 5, 3).sum((0, 2))", lambda x: x[None, :, None].expand(2, 5, 3).sum((0, 2))),
    ("Z.select(1, 2) * Z[:, 0]", lambda Z: Z.select(1, 2) * Z[:, 0]),
    ("A.view(3, 2, 2).permute(2, 0, 1).flatten(1)", lambda A: A.view(3, 2, 2).permute(2, 0, 1).flatten(1)),
    ("Z.swapaxes(0, 2).reshape(-1)[::5]", lambda Z: Z.swapaxes(0, 2).reshape(-1)[::5]),
    ("Z.mT @ Z", lambda Z: Z.mT @ Z),
    ("x.view(5, 1) @ y.view(1, 5)", lambda x, y: x.view(5, 1) @ y.view(1, 5)),
    ("A.new_zeros(3, 4) + A.roll(1, 1)", lambda A: A.new_zeros(3, 4) + A.roll(1, 1)),
    ("torch.diag_embed(A).sum(-1)", lambda A: torch.diag_embed(A).sum(-1)),
    ("torch.diagonal(Z, 0, 1, 2)", lambda Z: torch.diagonal(Z, 0, 1, 2)),
]

REDUCTIONS = [
    ("Z.sum((0, 2), keepdim=True)", lambda Z: Z.sum((0, 2), keepdim=True)),
    ("Z.mean(dim=(0, 1))", lambda Z: Z.mean(dim=(0, 1))),
    ("torch.sum(Z, dim=[0, 2])", lambda Z: torch.sum(Z, dim=[0, 2])),
    ("Z.amax((1, 2))", lambda Z: Z.amax((1, 2))),
    ("Z.amin(dim=(0, 2), keepdim=True)", lambda Z: Z.amin(dim=(0, 2), keepdim=True)),
    ("torch.std(Z, dim=(0, 2))", lambda Z: torch.std(Z, dim=(0, 2))),
    ("torch.var(Z, (1,), keepdim=True)", lambda Z: torch.var(Z, (1,), keepdim=True)),
    ("torch.logsumexp(Z, (0, 2))", lambda Z: torch.logsumexp(Z, (0, 2))),
    ("Z.norm(dim=(1, 2))", lambda Z: Z.norm(dim=(1, 2))),
    ("Z.prod(1, keepdim=True)", lambda Z: Z.prod(1, keepdim=True)),
    ("torch.nansum(Z, (0, 1))", lambda Z: torch.nansum(Z, (0, 1))),
    ("torch.nanmean(Z, dim=2, keepdim=True)", lambda Z: torch.nanmean(Z, dim=2, keepdim=True)),
    ("torch.mean(Z, (-1, -2), True)", lambda Z: torch.mean(Z, (-1, -2), True)),
    ("torch.var_mean(Z, dim=(0, 2))[0]", lambda Z: torch.var_mean(Z, dim=(0, 2))[0]),
    ("torch.amax(x)", lambda x: torch.amax(x)),
    ("torch.amax(A, dim=1)", lambda A: torch.amax(A, dim=1)),
    ("torch.amin(A, 0, keepdim=True)", lambda A: torch.amin(A, 0, keepdim=True)),
    ("torch.amax(A, dim=(0, 1))", lambda A: torch.amax(A, dim=(0, 1))),
    ("x.max()", lambda x: x.max()),
    ("torch.max(A)", lambda A: torch.max(A)),
    ("torch.min(x)", lambda x: torch.min(x)),
    ("torch.max(A, 1).values", lambda A: torch.max(A, 1).values),
    ("A.max(dim=0)[0]", lambda A: A.max(dim=0)[0]),
    ("torch.min(A, dim=1, keepdim=True).values", lambda A: torch.min(A, dim=1, keepdim=True).values),
    ("torch.max(x, 0).values", lambda x: torch.max(x, 0).values),
    ("torch.maximum(x, y)", lambda x, y: torch.maximum(x, y)),
    ("torch.minimum(x, y)", lambda x, y: torch.minimum(x, y)),
    ("torch.max(x, y)", lambda x, y: torch.max(x, y)),
    ("torch.fmax(x, y)", lambda x, y: torch.fmax(x, y)),
    ("torch.fmin(x, y)", lambda x, y: torch.fmin(x, y)),
    ("torch.cummax(x, 0).values", lambda x: torch.cummax(x, 0).values),
    ("torch.cummin(A, dim=1).values", lambda A: torch.cummin(A, dim=1).values),
    ("torch.median(x)", lambda x: torch.median(x)),
    ("torch.median(A, dim=1).values", lambda A: torch.median(A, dim=1).values),
    ("torch.nanmedian(x)", lambda x: torch.nanmedian(x)),
    ("torch.sort(x).values", lambda x: torch.sort(x).values),
    ("torch.sort(x, descending=True).values", lambda x: torch.sort(x, descending=True).values),
    ("torch.sort(A, dim=0, stable=True).values", lambda A: torch.sort(A, dim=0, stable=True).values),
    ("x.sort()[0] * torch.arange(5)", lambda x: x.sort()[0] * torch.arange(5)),
    ("torch.msort(A)", lambda A: torch.msort(A)),
    ("torch.topk(x, 2).values", lambda x: torch.topk(x, 2).values),
    ("torch.topk(x, 3, largest=False).values", lambda x: torch.topk(x, 3, largest=False).values),
    ("torch.topk(A, 2, dim=1).values", lambda A: torch.topk(A, 2, dim=1).values),
    ("A.topk(2, dim=0, sorted=True)[0]", lambda A: A.topk(2, dim=0, sorted=True)[0]),
    ("torch.kthvalue(x, 2).values", lambda x: torch.kthvalue(x, 2).values),
    ("torch.kthvalue(A, 2, dim=0).values", lambda A: torch.kthvalue(A, 2, dim=0).values),
    ("x.kthvalue(5)[0]", lambda x: x.kthvalue(5)[0]),
    ("torch.kthvalue(A, 3, 1, keepdim=True).values", lambda A: torch.kthvalue(A, 3, 1, keepdim=True).values),
    ("torch.quantile(A, 0.5, dim=1)", lambda A: torch.quantile(A, 0.5, dim=1)),
    ("torch.logcumsumexp(A, 1)", lambda A: torch.logcumsumexp(A, 1)),
    ("torch.cumsum(Z, dim=1)", lambda Z: torch.cumsum(Z, dim=1)),
    ("torch.cumprod(A, 1)", lambda A: torch.cumprod(A, 1)),
    ("torch.aminmax(x).max - torch.aminmax(x).min", lambda x: torch.aminmax(x).max - torch.aminmax(x).min),
    ("torch.aminmax(A, dim=1).min", lambda A: torch.aminmax(A, dim=1).min),
    ("F.softmax(A, dim=0).amax(dim=1)", lambda A: F.softmax(A, dim=0).amax(dim=1)),
    ("torch.max(F.relu(x))", lambda x: torch.max(F.relu(x))),
    ("torch.std(x, unbiased=False)", lambda x: torch.std(x, unbiased=False)),
    ("torch.count_nonzero(A > 0, dim=1) * A.sum(1)", lambda A: torch.count_nonzero(A > 0, dim=1) * A.sum(1)),
]

ELEMENTWISE = [
    ("torch.where(x > 0, x, 0.0)", lambda x: torch.where(x > 0, x, 0.0)),
    ("torch.where(x > 0, 1.0, x ** 2)", lambda x: torch.where(x > 0, 1.0, x ** 2)),
    ("torch.where(x > y, x, y)", lambda x, y: torch.where(x > y, x, y)),
    ("torch.where(x >= 0, 2, -1) * x", lambda x: torch.where(x >= 0, 2, -1) * x),
    ("torch.where(x > 0, x.exp(), 1 + x)", lambda x: torch.where(x > 0, x.exp(), 1 + x)),
    ("torch.where(A > 0, A, torch.zeros_like(A)).sum(1)", lambda A: torch.where(A > 0, A, torch.zeros_like(A)).sum(1)),
    ("torch.where(x > 0, 0.5, -0.5) + 0 * x", lambda x: torch.where(x > 0, 0.5, -0.5) + 0 * x),
    ("x.where(x > 0, y)", lambda x, y: x.where(x > 0, y)),
    ("torch.clamp(x, min=y)", lambda x, y: torch.clamp(x, min=y)),
    ("torch.clamp(x, y, z)", lambda x, y, z: torch.clamp(x, y, z)),
    ("x.clamp(max=y)", lambda x, y: x.clamp(max=y)),
    ("torch.clamp(x, y - 0.5, y + 0.5)", lambda x, y: torch.clamp(x, y - 0.5, y + 0.5)),
    ("torch.clip(x, min=-0.5, max=y)", lambda x, y: torch.clip(x, min=-0.5, max=y)),
    ("torch.clamp(x, min=torch.zeros(5))", lambda x: torch.clamp(x, min=torch.zeros(5, dtype=torch.float64))),
    ("torch.clamp(A, min=a[:, None], max=1.0)", lambda A, a: torch.clamp(A, min=a[:, None], max=1.0)),
    ("torch.clamp(x, 0.5, -0.5)", lambda x: torch.clamp(x, 0.5, -0.5)),
    ("x.clamp_min(0.1) * x.clamp_max(0.2)", lambda x: x.clamp_min(0.1) * x.clamp_max(0.2)),
    ("torch.nan_to_num(torch.log(x))", lambda x: torch.nan_to_num(torch.log(x))),
    ("torch.nan_to_num(x / y, nan=0.0, posinf=1.0, neginf=-1.0)", lambda x, y: torch.nan_to_num(x / y, nan=0.0, posinf=1.0, neginf=-1.0)),
    ("torch.nan_to_num(x, 0.0, 2.0, -2.0) * y", lambda x, y: torch.nan_to_num(x, 0.0, 2.0, -2.0) * y),
    ("x.nan_to_num(posinf=0.0)", lambda x: x.nan_to_num(posinf=0.0)),
    ("torch.logaddexp(x, y)", lambda x, y: torch.logaddexp(x, y)),
    ("torch.logaddexp2(x, y)", lambda x, y: torch.logaddexp2(x, y)),
    ("torch.logaddexp(x, torch.zeros(5))", lambda x: torch.logaddexp(x, torch.zeros(5, dtype=torch.float64))),
    ("torch.logaddexp(x * 1000, y * 1000)", lambda x, y: torch.logaddexp(x * 1000, y * 1000)),
    ("torch.xlogy(u, p)", lambda u, p: torch.xlogy(u, p)),
    ("torch.xlogy(x, p)", lambda x, p: torch.xlogy(x, p)),
    ("torch.special.xlogy(u, u)", lambda u: torch.special.xlogy(u, u)),
    ("torch.special.xlog1py(x, p)", lambda x, p: torch.special.xlog1py(x, p)),
    ("torch.xlogy(2.0, p)", lambda p: torch.xlogy(2.0, p)),
    ("torch.special.entr(u)", lambda u: torch.special.entr(u)),
    ("torch.hypot(x, y)", lambda x, y: torch.hypot(x, y)),
    ("torch.hypot(x, torch.zeros(5))", lambda x: torch.hypot(x, torch.zeros(5, dtype=torch.float64))),
    ("torch.atan2(y, x)", lambda x, y: torch.atan2(y, x)),
    ("torch.arctan2(x, p)", lambda x, p: torch.arctan2(x, p)),
    ("torch.atan2(x, -p)", lambda x, p: torch.atan2(x, -p)),
    ("torch.copysign(x, y)", lambda x, y: torch.copysign(x, y)),
    ("torch.copysign(p, -1.0)", lambda p: torch.copysign(p, -1.0)),
    ("torch.copysign(x, torch.tensor([0.0, -0.0, 1.0, -1.0, 0.0]))",
     lambda x: torch.copysign(x, torch.tensor([0.0, -0.0, 1.0, -1.0, 0.0], dtype=torch.float64))),
    ("torch.fmod(x, y)", lambda x, y: torch.fmod(x, y)),
    ("torch.remainder(x, y)", lambda x, y: torch.remainder(x, y)),
    ("torch.fmod(x * 3, 0.5)", lambda x: torch.fmod(x * 3, 0.5)),
    ("torch.remainder(x * 3, 0.5)", lambda x: torch.remainder(x * 3, 0.5)),
    ("x % y", lambda x, y: x % y),
    ("torch.fmod(p, q)", lambda p, q: torch.fmod(p, q)),
    ("torch.remainder(-p, q)", lambda p, q: torch.remainder(-p, q)),
    ("x.fmod(-0.3)", lambda x: x.fmod(-0.3)),
    ("torch.lerp(x, y, u)", lambda x, y, u: torch.lerp(x, y, u)),
    ("torch.addcdiv(x, y, p, value=0.5)", lambda x, y, p: torch.addcdiv(x, y, p, value=0.5)),
    ("torch.addcmul(x, y, z, value=-2)", lambda x, y, z: torch.addcmul(x, y, z, value=-2)),
    ("F.relu6(x * 8)", lambda x: F.relu6(x * 8)),
    ("F.hardswish(x * 4)", lambda x: F.hardswish(x * 4)),
    ("F.hardsigmoid(x * 4)", lambda x: F.hardsigmoid(x * 4)),
    ("F.logsigmoid(x * 10)", lambda x: F.logsigmoid(x * 10)),
    ("torch.logit(u)", lambda u: torch.logit(u)),
    ("torch.logit(u, eps=0.2)", lambda u: torch.logit(u, eps=0.2)),
    ("torch.special.expit(x) * torch.special.log_ndtr(x)", lambda x: torch.special.expit(x) * torch.special.log_ndtr(x)),
    ("torch.special.ndtri(u)", lambda u: torch.special.ndtri(u)),
    ("torch.erfinv(x * 0.9)", lambda x: torch.erfinv(x * 0.9)),
    ("torch.sinc(x * 2)", lambda x: torch.sinc(x * 2)),
    ("torch.float_power(p, y)", lambda p, y: torch.float_power(p, y)),
    ("torch.pow(p, y) + torch.pow(x, 2)", lambda p, y, x: torch.pow(p, y) + torch.pow(x, 2)),
    ("torch.pow(x, 3.0) * torch.pow(2.0, x)", lambda x: torch.pow(x, 3.0) * torch.pow(2.0, x)),
    ("torch.heaviside(x, torch.tensor(0.5)) * x", lambda x: torch.heaviside(x, torch.tensor(0.5, dtype=torch.float64)) * x),
    ("torch.sign(x) * x ** 2", lambda x: torch.sign(x) * x ** 2),
    ("torch.sgn(x) * torch.abs(x)", lambda x: torch.sgn(x) * torch.abs(x)),
    ("torch.rsqrt(p) + torch.reciprocal(x)", lambda p, x: torch.rsqrt(p) + torch.reciprocal(x)),
    ("torch.exp2(x) + torch.expm1(x) + torch.log2(p) + torch.log10(p)",
     lambda x, p: torch.exp2(x) + torch.expm1(x) + torch.log2(p) + torch.log10(p)),
    ("torch.frac(x * 3) + torch.trunc(x * 3) * x", lambda x: torch.frac(x * 3) + torch.trunc(x * 3) * x),
    ("torch.round(x, decimals=1) * x", lambda x: torch.round(x, decimals=1) * x),
    ("torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)",
     lambda p: torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)),
    ("torch.special.i0(x) + torch.special.i0e(x) + torch.special.i1(x)",
     lambda x: torch.special.i0(x) + torch.special.i0e(x) + torch.special.i1(x)),
    ("torch.abs(x).pow(0.5)", lambda x: torch.abs(x).pow(0.5)),
    ("torch.sqrt(x ** 2 + y ** 2)", lambda x, y: torch.sqrt(x ** 2 + y ** 2)),
    ("torch.true_divide(x, p) - torch.floor_divide(x, 0.3) * 0.3", lambda x, p: torch.true_divide(x, p) - torch.floor_divide(x, 0.3) * 0.3),
    ("torch.nextafter(x, y) - x", lambda x, y: torch.nextafter(x, y) - x),
    ("torch.ldexp(x, torch.tensor([1, 2, 3, 0, -1]))", lambda x: torch.ldexp(x, torch.tensor([1, 2, 3, 0, -1]))),
]

CASES = MLP + ATTENTION + LINALG + VIEWS + REDUCTIONS + ELEMENTWISE
POOL = pool()

# Not parity cases (each has a test of its own below): PyTorch raises, jac refuses, or they differ as documented
ELSEWHERE = {
    "F.binary_cross_entropy_with_logits(F.linear(X, W1, b1), torch.ones(4, 6), pos_weight=g, reduction='none')":
        "PyTorch does not differentiate pos_weight: refused as PyTorch raises (session 38, test_views38)",
    "F.nll_loss(F.log_softmax(L, 1), torch.tensor([1, 0, 4, 2]), weight=Pr[0], reduction='none')":
        "PyTorch does not differentiate weight: refused as PyTorch raises (session 38, test_views38)",
    "torch.linalg.cond(P, 'fro')": "PyTorch's backward raises (a variable modified in place)",
    "A.scatter(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), B)": "PyTorch's backward raises (src larger than index)",
    "torch.clip(x, min=-0.5, max=y)": "PyTorch refuses a number and a tensor as bounds: refused as PyTorch raises (session 54)",
    "torch.clamp(A, min=a[:, None], max=1.0)": "PyTorch refuses a number and a tensor as bounds: refused as PyTorch raises (session 54)",
    "torch.heaviside(x, torch.tensor(0.5)) * x": "PyTorch has no derivative of heaviside",
    "torch.true_divide(x, p) - torch.floor_divide(x, 0.3) * 0.3": "PyTorch has no derivative of floor_divide",
    "F.hardsigmoid(x * 4)": "PyTorch's derivative is 1/6 rounded to float32",
    "torch.ldexp(x, torch.tensor([1, 2, 3, 0, -1]))": "PyTorch's derivative at a negative exponent is 0",
    "torch.softmax(Q @ K.transpose(0, 1) / np.sqrt(Q.size(-1)), -1) @ V": "ambiguous: refused",
    "A.repeat(2, 1)": "ambiguous: refused",
    "x.repeat(2) * x.repeat(2).flip(0)": "ambiguous: refused",
    "torch.zeros(3, 4).scatter(1, " + IDX + ", B[:, :2])": "a position written twice: refused",
    "torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)": "PyTorch's polygamma(1, p) is 1e-9 off",
}
PARITY = [c for c in CASES if c[0] not in ELSEWHERE]


def inputs_of(fn) -> dict:
    return {name: POOL[name] for name in inspect.signature(fn).parameters}


@pytest.mark.parametrize("expr,fn", PARITY, ids=[c[0] for c in PARITY])
def test_parity_at_random_inputs(expr, fn):
    assert_parity(expr, inputs_of(fn), fn)


# --- special points: every input 0, or rounded to a multiple of 0.5 (ties, zeros, repeated eigenvalues) ----

def at_point(v, point: str):
    return np.zeros_like(v) if point == "zeros" else np.round(np.asarray(v) * 2) / 2


SPECIAL_GROUPS = [(MLP, ("zeros",)), (ATTENTION, ("zeros", "ties")), (VIEWS, ("ties",)),  # the sweep has the rest
                  (REDUCTIONS, ("zeros", "ties")), (ELEMENTWISE, ("ties",)), (LINALG, ("ties",))]
# where they differ at these points, each documented (docs/vocabulary-*.md) and tested below or by the sweep
SPECIAL_DIFFERS = {
    "torch.median(x)", "torch.nanmedian(x)",  # a full median's tie: jac's one element, PyTorch shares it
    "torch.topk(x, 2).values", "torch.topk(x, 3, largest=False).values", "torch.topk(A, 2, dim=1).values",
    "torch.kthvalue(x, 2).values", "torch.kthvalue(A, 2, dim=0).values",  # ties: the stable sort's, PyTorch's unspecified
    "F.kl_div(F.log_softmax(L, 1), Pr.log(), log_target=True, reduction='sum')",  # kl_div at a target 0: -inf, NaN
    "F.kl_div(F.log_softmax(L, 1), Pr, reduction='mean')",
    "F.cosine_similarity(F.linear(X, W1), F.linear(X, W1.flip(0)), dim=1).mean()",  # Hessian at 0: PyTorch NaN
    "torch.nan_to_num(torch.log(x))", "torch.nan_to_num(x / y, nan=0.0, posinf=1.0, neginf=-1.0)",  # 0 · inf off the
    "torch.hypot(x, torch.zeros(5))", "torch.fmod(x, y)", "torch.remainder(x, y)", "x % y",  # diagonal: PyTorch NaN
    "torch.logit(u)", "torch.special.ndtri(u)", "torch.rsqrt(p) + torch.reciprocal(x)", "torch.abs(x).pow(0.5)",
    "torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)",  # PyTorch's polygamma(1, p), 1e-9 off
    "torch.linalg.solve(Ill, a)", "torch.linalg.inv(Ill)", "torch.linalg.det(Ill)",  # Ill rounded is singular:
    "torch.linalg.slogdet(Ill).logabsdet", "torch.linalg.qr(Ill).R.diagonal()",    # refused, or NaN / inf placed
    "torch.linalg.svdvals(Ill)",  # a repeated zero singular value: the sign of its subgradient
    "torch.linalg.norm(x, 0.5)", "torch.linalg.norm(x, -1)",  # p < 1 at 0: jac's Hessian finite, PyTorch's NaN
    "torch.softmax(Q @ K.T / t, -1) @ V",  # t = 0: NaN scores; d/dV's exact 0s (below)
}
SPECIAL = [(expr, fn, point) for group, points in SPECIAL_GROUPS for expr, fn in group
           if expr not in ELSEWHERE and expr not in SPECIAL_DIFFERS for point in points]
_SELECTS = ("topk", "kthvalue")  # PyTorch's choice among equal elements is unspecified: jac refuses such ties
UNSPECIFIED = [case for case in SPECIAL if any(name in case[0] for name in _SELECTS)]


@pytest.mark.parametrize("expr,fn,point", [c for c in SPECIAL if c not in UNSPECIFIED],
                         ids=[f"{c[2]}:{c[0]}" for c in SPECIAL if c not in UNSPECIFIED])
def test_parity_at_zeros_and_ties(expr, fn, point):
    assert_parity(expr, {n: at_point(v, point) for n, v in inputs_of(fn).items()}, fn)


def test_attention_at_a_zero_temperature_keeps_the_exact_zeros_of_the_values_jacobian():
    """At zeros t = 0: the scores 0 / 0 are NaN, and so is every output. ∂y[i, j]/∂V[k, l] for l ≠ j does not
    depend on the scores: jac's exact 0, where PyTorch's dense pass writes 0 · NaN (session 49: every path of a
    call gives the structured passes' entries, docs/batches-outputs-orders.md); the entries that depend are NaN in
    both, and the other inputs' Jacobians equal PyTorch's. At ties, parity."""
    import torch

    expr, fn = next((e, f) for e, f in ATTENTION if e == "torch.softmax(Q @ K.T / t, -1) @ V")
    assert_parity(expr, {n: at_point(v, "ties") for n, v in inputs_of(fn).items()}, fn)
    bound = {n: at_point(v, "zeros") for n, v in inputs_of(fn).items()}
    ours = api.jacobian(expr, bound)
    names = list(bound)
    theirs = torch.autograd.functional.jacobian(fn, tuple(torch.tensor(bound[n]) for n in names))
    for name, block in zip(names, theirs):
        block = block.numpy()
        if name != "V":
            np.testing.assert_allclose(ours[name], block, equal_nan=True, err_msg=name)
            continue
        m, d = ours[name].shape[:2]
        same = np.eye(d, dtype=bool)[None, :, None, :]  # l == j
        assert np.isnan(ours[name][np.broadcast_to(same, ours[name].shape)]).all()
        off = ours[name][~np.broadcast_to(same, ours[name].shape)]
        assert off.size and (off == 0).all() and not np.signbit(off).any()
        assert np.isnan(block).all()  # PyTorch's 0 · NaN, documented


@pytest.mark.parametrize("expr,fn,point", UNSPECIFIED, ids=[f"{c[2]}:{c[0]}" for c in UNSPECIFIED])
def test_topk_and_kthvalue_at_zeros_and_ties_agree_or_refuse_the_tie(expr, fn, point):
    """A tie topk or kthvalue must choose among is refused (docs/vocabulary-reductions.md); without one, parity."""
    bound = {n: at_point(v, point) for n, v in inputs_of(fn).items()}
    try:
        api.evaluate(expr, bound)
    except JacError as e:
        assert "unspecified" in str(e)
        return
    assert_parity(expr, bound, fn)


# --- found by the sweep ------------------------------------------------------------------------------

SVD_BASED = ["torch.linalg.svdvals(R)", "torch.linalg.pinv(R)", "np.linalg.pinv(R)", "torch.linalg.matrix_norm(R, 2)",
             "torch.linalg.matrix_norm(R, 'nuc')", "torch.linalg.cond(R[:3])", "torch.linalg.svd(R, full_matrices=False).U",
             "torch.linalg.svd(R, full_matrices=False).Vh", "torch.det(R[:3] * 0 + R[:3, :1])"]


def test_an_svd_of_an_infinity_is_nan_instead_of_never_returning():
    """OpenBLAS's gesdd never returns on a matrix holding inf (np.linalg.svd hangs): jac eval of pinv, svdvals,
    the 2- and nuclear norms, cond and svd hung forever. Such a matrix's factors are NaN (the value as PyTorch's
    svdvals, matrix_norm and cond give it; its pinv of inf is 0); of NaN, refused as before. Run in a child process,
    so that a hang fails the test instead of stopping the suite."""
    import json
    import os
    import subprocess
    import sys

    script = ("import json, sys, numpy as np\nfrom jacobi_cli.tools import api\nout = []\n"
              "for expr in json.loads(sys.argv[1]):\n"
              "    for bad in (np.inf, -np.inf):\n"
              "        R = np.arange(12.0).reshape(4, 3) % 5 + np.eye(4, 3); R[0, 0] = bad\n"
              "        v = np.asarray(api.evaluate(expr, {'R': R})); j = np.asarray(api.jacobian(expr, {'R': R})['R'])\n"
              "        out.append([expr, bool(np.isnan(v).all()), bool(np.isnan(j).any() and (np.isnan(j) | (j == 0)).all())])\n"
              "print(json.dumps(out))\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", script, json.dumps(SVD_BASED)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    for expr, value_nan, jacobian_nan in json.loads(done.stdout):  # the Jacobian: NaN, 0 where R is not read
        assert value_nan and jacobian_nan, expr
    for expr, fn in [("torch.linalg.svdvals(R)", la.svdvals), ("torch.linalg.matrix_norm(R, 2)", lambda R: la.matrix_norm(R, 2)),
                     ("torch.linalg.cond(R[:3])", lambda R: la.cond(R[:3]))]:
        R = np.ones((4, 3)) + np.eye(4, 3)
        R[0, 0] = np.inf
        assert np.isnan(fn(torch.tensor(R)).numpy()).all()  # PyTorch's value


# --- where PyTorch raises or is off: jac against central differences and exact values -------------------------

def _central_all(expr: str, inputs: dict) -> dict:
    from parity import central

    out = {}
    for name, v in inputs.items():
        out[name] = central(lambda t: np.asarray(api.evaluate(expr, {**inputs, name: t})), v)
    return out


def _against_central(expr: str, inputs: dict, rtol: float = 1e-6, atol: float = 1e-8) -> dict:
    ours = api.jacobian(expr, inputs)
    for name, want in _central_all(expr, inputs).items():
        np.testing.assert_allclose(np.asarray(ours[name]), want, rtol=rtol, atol=atol, err_msg=f"{expr} d/d{name}")
    return ours


@pytest.mark.parametrize("expr", [e for e in ELSEWHERE if "refused" not in ELSEWHERE[e] and " off" not in ELSEWHERE[e]])
def test_where_pytorch_raises_or_is_off_jac_agrees_with_central_differences(expr):
    fn = dict(CASES)[expr]
    inputs = inputs_of(fn)
    value = np.asarray(api.evaluate(expr, inputs))
    _against_central(expr, inputs)
    t = {n: torch.tensor(v) for n, v in inputs.items()}
    try:  # where PyTorch computes the value, it is jac's
        theirs = fn(**t).numpy()
    except TypeError:  # a number and a tensor as clamp's bounds: PyTorch wants both tensors
        theirs = None
    if theirs is not None:
        np.testing.assert_allclose(value, theirs, rtol=1e-12, atol=1e-14)


def test_clamp_with_a_number_and_a_tensor_is_refused_as_pytorch_raises():
    """Answered as PyTorch's with two tensors until session 54; PyTorch 2.13 raises TypeError (its overloads take two
    tensors or two numbers), and so does jac now (h54-vocab), saying what to write."""
    x, y, A, a = POOL["x"], POOL["y"], POOL["A"], POOL["a"]
    for expr, inputs, fn in [("torch.clip(x, min=-0.5, max=y)", {"x": x, "y": y},
                               lambda x, y: torch.clip(x, min=-0.5, max=y)),
                              ("torch.clamp(A, min=a[:, None], max=1.0)", {"A": A, "a": a},
                               lambda A, a: torch.clamp(A, min=a[:, None], max=1.0))]:
        with pytest.raises(TypeError):
            fn(**{n: torch.tensor(v) for n, v in inputs.items()})
        with pytest.raises(JacError, match="both be tensors or both be numbers"):
            api.evaluate(expr, inputs)
    assert_parity("torch.clip(x, min=torch.full_like(x, -0.5), max=y)", {"x": x, "y": y},
                  lambda x, y: torch.clip(x, min=torch.full_like(x, -0.5), max=y))


def test_hardsigmoid_ldexp_and_digamma_derivatives_are_exact():
    """PyTorch 2.13: hardsigmoid's slope is 1/6 in float32 (0.1666666716), ldexp's derivative by x at a negative
    exponent is 0 (2 ** -1 in integers), polygamma(1, p) is ~1e-9 off (so is the derivative of digamma); jac's are
    the exact numbers (mpmath's, to 1e-13)."""
    x, p = POOL["x"], POOL["p"]
    inside = np.abs(4 * x) < 3
    got = np.diag(np.asarray(api.jacobian("F.hardsigmoid(x * 4)", {"x": x})["x"]))
    np.testing.assert_array_equal(got, np.where(inside, 4 / 6, 0.0))
    got = np.diag(np.asarray(api.jacobian("torch.ldexp(x, torch.tensor([1, 2, 3, 0, -1]))", {"x": x})["x"]))
    np.testing.assert_array_equal(got, [2.0, 4.0, 8.0, 1.0, 0.5])
    mpmath = pytest.importorskip("mpmath")
    got = np.diag(np.asarray(api.jacobian("torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)", {"p": p})["p"]))
    want = [float(mpmath.digamma(v) + mpmath.polygamma(1, v) + mpmath.polygamma(2, v)) for v in p]
    np.testing.assert_allclose(got, want, rtol=1e-13)
    value = api.evaluate("torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)", {"p": p})
    want = [float(mpmath.loggamma(v) + mpmath.digamma(v) + mpmath.polygamma(1, v)) for v in p]
    np.testing.assert_allclose(value, want, rtol=1e-14)
    assert_parity("torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p)", {"p": p},
                  lambda p: torch.lgamma(p) + torch.digamma(p) + torch.polygamma(1, p), rtol=1e-8)


@pytest.mark.parametrize("expr,says", [
    ("torch.softmax(Q @ K.transpose(0, 1) / np.sqrt(Q.size(-1)), -1) @ V", "ambiguous"),
    ("A.repeat(2, 1)", "np.tile"),
    ("torch.zeros(3, 4).scatter(1, " + IDX + ", B[:, :2])", "more than once"),
])
def test_what_jac_refuses_it_says_why(expr, says):
    with pytest.raises(JacError, match=re.escape(says)):
        api.jacobian(expr, {n: POOL[n] for n in "QKVABxy" if n in expr})


@pytest.mark.parametrize("expr,fn", [
    ("torch.cat(torch.split(x, [2, 3])[::-1])", lambda x: torch.cat(torch.split(x, [2, 3])[::-1])),
    ("torch.stack(torch.chunk(x, 5)[1:3]).sum(0)", lambda x: torch.stack(torch.chunk(x, 5)[1:3]).sum(0)),
    ("a_, b_ = torch.split(x, [2, 3])[::-1]; a_.sum() * b_", lambda x: torch.split(x, [2, 3])[1].sum() * x[:2]),
    ("torch.split(x, 2)[-2:][0] * 3", lambda x: torch.split(x, 2)[-2:][0] * 3),
    ("q_ = torch.linalg.qr(R)[:1]; q_[0] @ a", lambda R, a: torch.linalg.qr(R)[:1][0] @ a),
])
def test_a_slice_of_a_tuple_result_is_a_tuple(expr, fn):
    """Was refused ("a tuple result is indexed with one integer"): parts[::-1] of split, chunk, qr."""
    inputs = inputs_of(fn)
    assert_parity(expr, inputs, fn)
    _against_central(expr, inputs)


# --- ties: amax shares the derivative, max(dim) gives it to one element, as PyTorch --------------------------

TIES = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 2.0, -1.0, 2.0]])


@pytest.mark.parametrize("expr,fn", [
    ("torch.amax(A, dim=1)", lambda A: torch.amax(A, dim=1)),
    ("torch.amin(A, dim=1)", lambda A: torch.amin(A, dim=1)),
    ("A.amax()", lambda A: A.amax()),
    ("torch.max(A)", lambda A: torch.max(A)),
    ("torch.max(A, dim=1).values", lambda A: torch.max(A, dim=1).values),
    ("torch.min(A, 1)[0]", lambda A: torch.min(A, 1)[0]),
    ("A.max(dim=0, keepdim=True).values", lambda A: A.max(dim=0, keepdim=True).values),
    ("torch.maximum(A, A.flip(1))", lambda A: torch.maximum(A, A.flip(1))),
    ("torch.sort(A, dim=1, stable=True).values", lambda A: torch.sort(A, dim=1, stable=True).values),
    ("torch.cummax(A, 1).values", lambda A: torch.cummax(A, 1).values),
])
def test_ties_go_where_pytorch_sends_them(expr, fn):
    assert_parity(expr, {"A": TIES}, fn)
    J = np.asarray(api.jacobian(expr, {"A": TIES})["A"])
    if expr.startswith("torch.amax(A, dim=1)"):
        np.testing.assert_array_equal(J[1, 1], [0.25] * 4)  # shared evenly: four equal elements
    if expr.startswith("torch.max(A, dim=1)"):
        assert sorted(J[1, 1].tolist()) == [0.0, 0.0, 0.0, 1.0]  # one element


def test_topk_kthvalue_refuse_a_tie_and_the_full_median_takes_the_documented_element():
    """docs/vocabulary-reductions.md: a tie topk or kthvalue chooses among is refused (PyTorch's choice is
    unspecified: torch.topk([1, 3, 3, 2, 3], 2) gives indices 2 and 4), and the full median's derivative shared
    evenly among the elements equal to it, as PyTorch's."""
    x = np.array([-0.5, 0.5, 1.0, 0.0, 0.5])
    for text in ("torch.topk(x, 2).values", "torch.topk(x, 2)[1]", "torch.kthvalue(x * 0, 2).values",
                 "torch.kthvalue(x, 4).values", "torch.topk(torch.tensor([1.0, 3, 3, 2, 3]) * x, 2)[1]"):
        with pytest.raises(JacError, match="unspecified"):
            api.jacobian(text, {"x": x})
    J = np.asarray(api.jacobian("torch.topk(x, 1).values", {"x": x})["x"])  # no tie at the first
    np.testing.assert_array_equal(J, [[0, 0, 1, 0, 0]])
    J = np.asarray(api.jacobian("torch.kthvalue(x, 2).values", {"x": x})["x"])  # 0.0: no equal neighbour
    np.testing.assert_array_equal(J, [0, 0, 0, 1, 0])
    J = np.asarray(api.jacobian("torch.median(x)", {"x": x})["x"])  # shared evenly since session 29, as PyTorch's
    np.testing.assert_array_equal(J, [0, 0.5, 0, 0, 0.5])


def test_the_linear_recurrence_is_unchanged_bit_for_bit():
    """_linrec_impl's two loops made one (htrust13): the same numbers as the recurrence written out, with NaN and
    inf in a (the masked loop) and without (the plain one), both directions."""
    from jacobi_cli.ir.ops import _linrec_impl

    rng = np.random.default_rng(5)
    for a in (rng.standard_normal((4, 3)), np.array([[2.0, np.nan, 1.0], [np.inf, 0.5, -1.0], [1.0, 2.0, 0.0],
                                                      [0.0, 3.0, np.nan]])):
        b = rng.standard_normal((4, 3)) * (rng.random((4, 3)) > 0.3)
        for reverse in (False, True):
            want, plain = np.empty_like(b), np.isfinite(a).all()
            for col in range(3):
                z, started = 0.0, False
                for step, i in enumerate(range(3, -1, -1) if reverse else range(4)):
                    coef = a[i + 1, col] if reverse and step else a[i, col]
                    with np.errstate(invalid="ignore"):
                        z = b[i, col] if step == 0 or not (plain or started) else coef * z + b[i, col]
                    started = started or b[i, col] != 0
                    want[i, col] = z
            with np.errstate(invalid="ignore"):
                got = _linrec_impl(a, b, 0, reverse)
            np.testing.assert_array_equal(got, want)


NAN_AT = np.array([[np.nan, 0.2, 0.1], [0.3, 3.0, 0.5], [0.1, 0.4, 3.2]])


@pytest.mark.parametrize("expr,fn", [
    ("torch.linalg.inv(S)", lambda S: la.inv(S)),
    ("torch.inverse(S) @ a", lambda S, a: torch.inverse(S) @ a),
    ("torch.linalg.solve(S, a)", lambda S, a: la.solve(S, a)),
    ("torch.linalg.solve(S, R.T)", lambda S, R: la.solve(S, R.T)),
    ("torch.linalg.solve(S, R, left=False)", lambda S, R: la.solve(S, R, left=False)),
    ("np.linalg.solve(S, a)", lambda S, a: la.solve(S, a)),
    ("torch.linalg.inv_ex(S).inverse.sum(0)", lambda S: la.inv_ex(S).inverse.sum(0)),
])
def test_an_inverse_or_solution_of_a_matrix_holding_nan_is_nan(expr, fn):
    """LAPACK pivots around the NaN: inv([[nan, .2, .1], ...])'s second and third rows came out finite, and
    solve's last entries, though each depends on the NaN (wrong numbers, where PyTorch's are NaN)."""
    inputs = {**inputs_of(fn), "S": NAN_AT}
    assert np.isnan(np.asarray(api.evaluate(expr, inputs))).all()
    assert_parity(expr, inputs, fn)
    batch = np.stack([NAN_AT, POOL["S"]])  # the other matrix of a batch keeps its own numbers
    np.testing.assert_allclose(np.asarray(api.evaluate("torch.linalg.inv(S)", {"S": batch}))[1], np.linalg.inv(POOL["S"]),
                               rtol=1e-14)


def test_an_inverse_at_an_infinity_is_the_limit_numpy_computes():
    S = np.array(NAN_AT)
    S[0, 0] = np.inf
    got = np.asarray(api.evaluate("torch.linalg.inv(S)", {"S": S}))
    S[0, 0] = 1e200
    np.testing.assert_allclose(got, np.linalg.inv(S), rtol=1e-14, atol=1e-150)


@pytest.mark.parametrize("expr,fn", [
    ("torch.linalg.lu(S).L", lambda S: la.lu(S).L),
    ("torch.linalg.lu(S).U", lambda S: la.lu(S).U),
    ("torch.linalg.lu_factor(S).LU", lambda S: la.lu_factor(S).LU),
])
def test_an_lu_of_a_matrix_holding_nan_is_nan_where_it_depends_on_it(expr, fn):
    """getrf leaves the column of a NaN pivot unscaled: L[1, 0] of [[nan, .2, .1], [.3, 3, .5], ...] was 0.3, U's
    later rows finite, where PyTorch's are NaN. Now every computed entry is NaN; L's unit diagonal and the
    triangles' zeros stay."""
    got = np.asarray(api.evaluate(expr, {"S": NAN_AT}))
    theirs = fn(torch.tensor(NAN_AT)).numpy()
    assert np.isnan(got[np.isnan(theirs)]).all()
    if expr.endswith(".L"):
        np.testing.assert_array_equal(np.triu(got), np.eye(3))
        assert np.isnan(got[np.tril_indices(3, -1)]).all()
    if expr.endswith(".U"):
        np.testing.assert_array_equal(got[np.tril_indices(3, -1)], 0.0)
    fine = np.stack([NAN_AT, POOL["S"]])
    np.testing.assert_allclose(np.asarray(api.evaluate(expr, {"S": fine}))[1], fn(torch.tensor(POOL["S"])).numpy(),
                               rtol=1e-13, atol=1e-15)
