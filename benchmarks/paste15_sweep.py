"""The paste15 sweep: what users paste when checking a gradient, run through jac and through the libraries.

    PYTHONPATH=. python benchmarks/paste15_sweep.py [-k SUBSTRING] [-v]

Each snippet is text as people paste it from training loops, hand-written layers, NumPy code, tutorials and
Q&A answers (imports, comments, continuations, ``def``/``lambda``, ``nn`` modules, Python builtins, Unicode
from web pages), with bindings. The reference is **the snippet itself run by Python** with the libraries
(PyTorch 2.13 in float64 for torch snippets, with ``torch.autograd.functional.jacobian``; NumPy for numpy
snippets, differentiated by central differences); a snippet whose pasted text Python cannot run as is (a
Unicode minus, a trailing ``def``) names the text to run instead (``ref=``). jac is run through the API for the
value, every Jacobian and a VJP with a random cotangent, and through ``jac eval`` in-process for its exit code
and message. Each snippet is one of:

- ``agrees``: jac's value and derivatives are the library's (rtol 1e-7 against PyTorch, 1e-5 against central
  differences);
- ``refused``: exit 2, one ``jac: error`` line, and the snippet expected a refusal (``refuse=`` words found
  in the message: what is wrong, and what to write instead); ``refused-unclear`` when the words are missing;
- ``refused-unexpectedly``: exit 2 for a snippet that the libraries run and jac should (everyday code);
- ``wrong``: a value or derivative that differs, or an answer where a refusal was expected;
- ``crashed``: a traceback, exit 70 or another exit code.

Prints one line per snippet not ``agrees``/``refused`` (all with ``-v``) and the counts.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import math
import sys
import warnings
from dataclasses import dataclass

import numpy as np

rng = np.random.default_rng(15)


def n(*shape):
    return rng.standard_normal(shape)


def u(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


def ints(*values):
    return np.array(values, dtype=np.int64)


@dataclass
class Snippet:
    code: str
    inputs: dict
    lib: str = "torch"          # how the reference runs: "torch" or "numpy"
    ref: str | None = None      # the text Python runs, where the pasted one cannot run as is
    refuse: tuple = ()          # a refusal is expected, its message holding these words
    vjp: bool = True
    name: str = ""
    tol: float = 1e-7

    def label(self) -> str:
        return self.name or " ".join(self.code.split())[:90]


def S(code, lib="torch", ref=None, refuse=(), vjp=True, tol=1e-7, **inputs):
    return Snippet(code, inputs, lib, ref, tuple([refuse] if isinstance(refuse, str) else refuse), vjp, tol=tol)


X3, Y3 = n(3), n(3)
X5 = n(5)
A34, B34 = n(3, 4), n(3, 4)
A33 = n(3, 3)
P3 = u(0.1, 0.9, 3)
Y01 = np.array([0.0, 1.0, 1.0])
LOGITS = n(4, 5)
LABELS = ints(0, 3, 1, 4)
Q, K, V = n(4, 8), n(4, 8), n(4, 8)
H = n(2, 6)
W, Bv = n(3, 6), n(3)
XB = n(5, 3)
T3 = n(2, 3, 4)

LOSSES = [
    S("((pred - target)**2).mean()", pred=X3, target=Y3),
    S("((pred - target) ** 2).sum() / len(pred)", pred=X5, target=n(5)),
    S("torch.mean((pred - target)**2)", pred=X3, target=Y3),
    S("F.mse_loss(pred, target)", pred=X3, target=Y3),
    S("torch.nn.functional.mse_loss(x, y, reduction='sum')", x=X3, y=Y3),
    S("F.mse_loss(pred, target, reduction=\"none\")", pred=X3, target=Y3),
    S("F.l1_loss(pred, target)", pred=X3, target=Y3),
    S("F.smooth_l1_loss(pred, target, beta=0.5)", pred=X3, target=Y3),
    S("F.huber_loss(pred, target, delta=1.0)", pred=X3 * 2, target=Y3),
    S("F.cross_entropy(logits, labels)", logits=LOGITS, labels=LABELS),
    S("F.cross_entropy(logits, labels, reduction='sum')", logits=LOGITS, labels=LABELS),
    S("F.cross_entropy(logits, labels, label_smoothing=0.1)", logits=LOGITS, labels=LABELS),
    S("F.nll_loss(F.log_softmax(logits, dim=1), labels)", logits=LOGITS, labels=LABELS),
    S("F.nll_loss(torch.log_softmax(logits, -1), labels)", logits=LOGITS, labels=LABELS),
    S("-F.log_softmax(logits, dim=-1)[torch.arange(len(labels)), labels].mean()", logits=LOGITS, labels=LABELS),
    S("-torch.log_softmax(logits, 1).gather(1, labels.unsqueeze(1)).mean()", logits=LOGITS, labels=LABELS),
    S("-(y*torch.log(p) + (1-y)*torch.log(1-p)).mean()", y=Y01, p=P3),
    S("F.binary_cross_entropy(p, y)", p=P3, y=Y01),
    S("F.binary_cross_entropy_with_logits(z, y)", z=X3, y=Y01),
    S("torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction='sum')", z=X3, y=Y01),
    S("F.kl_div(F.log_softmax(a, dim=-1), F.softmax(b, dim=-1), reduction='batchmean')", a=A34, b=B34),
    S("(p * (torch.log(p) - torch.log(q))).sum()", p=P3, q=u(0.1, 0.9, 3)),
    S("torch.sum(p * torch.log(p / q))", p=P3, q=u(0.1, 0.9, 3)),
    S("F.softplus(-y * z).mean()", y=np.array([1.0, -1.0, 1.0]), z=X3),
    S("torch.clamp(1 - y * z, min=0).mean()", y=np.array([1.0, -1.0, 1.0]), z=X3),
    S("torch.relu(1 - y*z).sum()", y=np.array([1.0, -1.0, 1.0]), z=X3),
    S("F.cosine_similarity(a, b, dim=-1).mean()", a=A34, b=B34),
    S("1 - F.cosine_similarity(a, b, dim=0)", a=X3, b=Y3),
    S("(a * b).sum() / (a.norm() * b.norm())", a=X3, b=Y3),
    S("torch.dist(a, b)", a=X3, b=Y3),
    S("F.triplet_margin_loss(a, p, n)", a=A34, p=B34, n=n(3, 4)),
    S("F.margin_ranking_loss(a, b, y)", a=X3, b=Y3, y=np.array([1.0, -1.0, 1.0])),
    S("F.hinge_embedding_loss(x, y)", x=X3, y=np.array([1.0, -1.0, 1.0])),
    S("F.poisson_nll_loss(x, y)", x=X3, y=np.array([1.0, 0.0, 2.0])),
    S("F.gaussian_nll_loss(mu, target, var)", mu=X3, target=Y3, var=u(0.5, 2, 3)),
    S("0.5 * torch.log(2 * math.pi * var) + (x - mu)**2 / (2 * var)", x=X3, mu=Y3, var=u(0.5, 2, 3)),
    S("-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())", mu=X3, logvar=Y3),
    S("torch.logsumexp(logits, dim=1).mean() - logits[range(4), labels].mean()", logits=LOGITS, labels=LABELS),
    S("loss = F.mse_loss(pred, target)\nloss", pred=X3, target=Y3),
    S("loss = ((pred - target)**2).mean()\nloss.item()", pred=X3, target=Y3),
    S("np.mean((y_pred - y_true) ** 2)", "numpy", y_pred=X3, y_true=Y3),
    S("np.sum(np.abs(y_pred - y_true))", "numpy", y_pred=X3, y_true=Y3),
    S("-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / len(y)", "numpy", y=Y01, p=P3),
    S("-np.mean(np.log(softmax[np.arange(len(labels)), labels]))", "numpy", softmax=u(0.1, 0.9, 4, 5),
      labels=LABELS),
    S("np.linalg.norm(y_pred - y_true) ** 2 / 2", "numpy", y_pred=X3, y_true=Y3),
    S("0.5 * np.sum((X @ w - y)**2) + 0.5 * lam * np.dot(w, w)", "numpy", X=XB, w=X3, y=X5, lam=np.array(0.1)),
    S("np.log(1 + np.exp(-y * (X @ w))).mean()", "numpy", X=XB, w=X3, y=np.sign(X5)),
    S("np.logaddexp(0, -y * X.dot(w)).sum()", "numpy", X=XB, w=X3, y=np.sign(X5)),
    S("nn.MSELoss()(pred, target)", pred=X3, target=Y3),
    S("criterion = nn.CrossEntropyLoss()\nloss = criterion(logits, labels)\nloss", logits=LOGITS, labels=LABELS),
    S("loss_fn = torch.nn.MSELoss(reduction='sum')\nloss_fn(pred, target)", pred=X3, target=Y3),
    S("torch.nn.BCEWithLogitsLoss()(z, y)", z=X3, y=Y01),
    S("nn.L1Loss()(pred, target)", pred=X3, target=Y3),
    S("nn.SmoothL1Loss(beta=0.5)(pred, target)", pred=X3, target=Y3),
    S("nn.NLLLoss()(F.log_softmax(logits, 1), labels)", logits=LOGITS, labels=LABELS),
    S("nn.BCELoss()(torch.sigmoid(z), y)", z=X3, y=Y01),
    S("nn.KLDivLoss(reduction='batchmean')(F.log_softmax(a, -1), F.softmax(b, -1))", a=A34, b=B34),
    S("nn.HuberLoss(delta=0.5)(pred, target)", pred=X3, target=Y3),
]

LAYERS = [
    S("softmax(Q @ K.T / math.sqrt(d), dim=-1) @ V", ref="F.softmax(Q @ K.T / math.sqrt(8), dim=-1) @ V",
      Q=Q, K=K, V=V, d=np.array(8.0)),
    S("F.softmax(Q @ K.T / math.sqrt(Q.shape[-1]), dim=-1) @ V", Q=Q, K=K, V=V),
    S("torch.softmax(Q @ K.transpose(-2, -1) / Q.size(-1) ** 0.5, dim=-1) @ V", Q=Q, K=K, V=V),
    S("scores = Q @ K.T / math.sqrt(K.shape[1])\nweights = F.softmax(scores, dim=-1)\nweights @ V", Q=Q, K=K, V=V),
    S("d_k = Q.size(-1)\nscores = torch.matmul(Q, K.transpose(-2, -1)) / math.sqrt(d_k)\n"
      "p_attn = scores.softmax(dim=-1)\ntorch.matmul(p_attn, V)", Q=Q, K=K, V=V),
    S("mask = torch.triu(torch.ones(4, 4), diagonal=1).bool()\nscores = (Q @ K.T).masked_fill(mask, float('-inf'))\n"
      "torch.softmax(scores, -1) @ V", Q=Q, K=K, V=V),
    S("att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))\natt = F.softmax(att, dim=-1)\ny = att @ v\ny",
      q=n(2, 4, 8), k=n(2, 4, 8), v=n(2, 4, 8)),
    S("F.scaled_dot_product_attention(Q, K, V)", Q=Q, K=K, V=V),
    S("F.scaled_dot_product_attention(q, k, v, is_causal=True)", q=n(2, 4, 8), k=n(2, 4, 8), v=n(2, 4, 8)),
    S("mean = x.mean(-1, keepdim=True)\nvar = x.var(-1, keepdim=True, unbiased=False)\n"
      "(x - mean) / torch.sqrt(var + 1e-5) * gamma + beta", x=H, gamma=n(6), beta=n(6)),
    S("(x - x.mean(dim=-1, keepdim=True)) / (x.std(dim=-1, keepdim=True) + 1e-6)", x=H),
    S("F.layer_norm(x, (6,), weight=g, bias=b)", x=H, g=n(6), b=n(6)),
    S("F.layer_norm(x, x.shape[-1:])", x=H),
    S("x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight", x=H, weight=n(6)),
    S("norm = x.norm(dim=-1, keepdim=True) * (x.shape[-1] ** -0.5)\nx / (norm + 1e-8) * g", x=H, g=n(6)),
    S("0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))", x=X5),
    S("0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))", "numpy", x=X5),
    S("0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))", x=X5),
    S("x * torch.sigmoid(1.702 * x)", x=X5),
    S("F.gelu(x, approximate='tanh')", x=X5),
    S("F.gelu(x)", x=X5),
    S("x * torch.sigmoid(x)", x=X5),
    S("F.silu(x) * y", x=X5, y=n(5)),
    S("a, b = x.chunk(2, dim=-1)\na * F.silu(b)", x=H),
    S("F.glu(x, dim=-1)", x=H),
    S("torch.sigmoid(X @ w + b)", X=XB, w=X3, b=np.array(0.3)),
    S("1 / (1 + torch.exp(-(X @ w + b)))", X=XB, w=X3, b=np.array(0.3)),
    S("1 / (1 + np.exp(-(X.dot(w) + b)))", "numpy", X=XB, w=X3, b=np.array(0.3)),
    S("h = (x @ W1 + b1).clamp(min=0)\nh @ W2 + b2", x=XB, W1=n(3, 4), b1=n(4), W2=n(4, 2), b2=n(2)),
    S("h = torch.relu(x @ W1.T + b1)\nout = h @ W2.T + b2\nout", x=XB, W1=n(4, 3), b1=n(4), W2=n(2, 4), b2=n(2)),
    S("F.linear(F.relu(F.linear(x, W1, b1)), W2, b2)", x=XB, W1=n(4, 3), b1=n(4), W2=n(2, 4), b2=n(2)),
    S("h = np.maximum(0, X @ W1 + b1)\nscores = h @ W2 + b2\nscores", "numpy", X=XB, W1=n(3, 4), b1=n(4),
      W2=n(4, 2), b2=n(2)),
    S("torch.tanh(x @ Wxh + h @ Whh + bh)", x=n(2, 3), h=n(2, 4), Wxh=n(3, 4), Whh=n(4, 4), bh=n(4)),
    S("z = torch.sigmoid(x @ Wz + h @ Uz)\nr = torch.sigmoid(x @ Wr + h @ Ur)\n"
      "hh = torch.tanh(x @ Wh + (r * h) @ Uh)\n(1 - z) * h + z * hh",
      x=n(3), h=n(4), Wz=n(3, 4), Uz=n(4, 4), Wr=n(3, 4), Ur=n(4, 4), Wh=n(3, 4), Uh=n(4, 4)),
    S("gates = x @ W + h @ U + b\ni, f, g, o = gates.chunk(4, -1)\n"
      "c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\ntorch.sigmoid(o) * torch.tanh(c2)",
      x=n(3), h=n(2), c=n(2), W=n(3, 8), U=n(2, 8), b=n(8)),
    S("F.conv1d(x, w, padding=1)", x=n(1, 2, 6), w=n(3, 2, 3)),
    S("F.conv2d(x, w, stride=1, padding=1)", x=n(1, 1, 4, 4), w=n(2, 1, 3, 3)),
    S("F.max_pool2d(x, 2)", x=n(1, 1, 4, 4)),
    S("F.avg_pool1d(x, kernel_size=2)", x=n(1, 2, 6)),
    S("F.dropout(x, p=0.5, training=False)", x=X5),
    S("F.embedding(idx, E)", idx=ints(0, 2, 1), E=n(4, 3)),
    S("E[idx]", idx=ints(0, 2, 1, 2), E=n(4, 3)),
    S("F.one_hot(labels, num_classes=5).float() * logits", labels=LABELS, logits=LOGITS),
    S("F.normalize(x, dim=-1)", x=H),
    S("x / x.norm(dim=1, keepdim=True)", x=H),
    S("x / np.linalg.norm(x, axis=1, keepdims=True)", "numpy", x=H),
    S("torch.einsum('bij,bjk->bik', A, B)", A=n(2, 3, 4), B=n(2, 4, 2)),
    S("torch.einsum('i,i->', x, y)", x=X3, y=Y3),
    S("torch.bmm(A, B).sum()", A=n(2, 3, 4), B=n(2, 4, 2)),
    S("torch.baddbmm(C, A, B, alpha=0.5)", C=n(2, 3, 2), A=n(2, 3, 4), B=n(2, 4, 2)),
    S("x.softmax(-1)", x=H),
    S("torch.exp(x) / torch.exp(x).sum(dim=-1, keepdim=True)", x=H),
    S("e = np.exp(x - np.max(x, axis=-1, keepdims=True))\ne / e.sum(axis=-1, keepdims=True)", "numpy", x=H),
    S("np.exp(x) / np.sum(np.exp(x), axis=0)", "numpy", x=X5),
    S("x - torch.logsumexp(x, dim=-1, keepdim=True)", x=H),
    S("torch.where(x > 0, x, 0.01 * x)", x=X5),
    S("F.leaky_relu(x, negative_slope=0.2)", x=X5),
    S("torch.where(x > 0, x, torch.exp(x) - 1)", x=X5),
    S("F.elu(x, alpha=1.0)", x=X5),
    S("torch.nn.functional.softplus(x, beta=2)", x=X5),
    S("torch.log1p(torch.exp(x))", x=X5),
    S("F.mish(x)", x=X5),
    S("x * torch.tanh(F.softplus(x))", x=X5),
    S("F.hardswish(x)", x=X5 * 2),
    S("x.clamp(-1, 1)", x=X5 * 2),
    S("torch.clip(x, min=-0.5, max=0.5)", x=X5),
    S("F.hardtanh(x)", x=X5 * 2),
    S("torch.maximum(x, torch.zeros_like(x))", x=X5),
    S("nn.ReLU()(x)", x=X5),
    S("nn.Softmax(dim=1)(x)", x=H),
    S("act = nn.GELU()\nact(x)", x=X5),
    S("nn.Tanh()(x @ W.T + b)", x=n(2, 6), W=W, b=Bv),
    S("torch.nn.LogSoftmax(dim=-1)(x)", x=H),
    S("nn.Sigmoid()(x).sum()", x=X5),
    S("nn.LeakyReLU(0.1)(x)", x=X5),
    S("nn.Linear(3, 4)(x)", x=X3, refuse=("nn.Linear", "parameters")),
    # layer = nn.Linear(6, 3); layer(x) makes its parameters inputs (session 23): its values are jac's draws, so
    # PyTorch running it gives others; tests/test_parity_leaves23.py compares it with PyTorch's parameters set
    S("nn.Flatten()(x)", x=T3),
    S("nn.Identity()(x)", x=X3),
    S("nn.Dropout(0.1)(x)", x=X3, refuse=("Dropout",)),
    S("torch.nn.functional.relu(x)", x=X5),
    S("torch.relu(x)", x=X5),
]

NUMPY = [
    S("np.einsum('ij,jk->ik', A, B)", "numpy", A=A34, B=n(4, 2)),
    S("np.einsum('ij,ij->i', A, B)", "numpy", A=A34, B=B34),
    S("np.einsum('i,j->ij', x, y)", "numpy", x=X3, y=Y3),
    S("np.einsum('ii', A)", "numpy", A=A33),
    S("np.einsum('...ij,...jk', A, B)", "numpy", A=n(2, 3, 4), B=n(2, 4, 2)),
    S("np.einsum(\"bi,bi->b\", x, y)", "numpy", x=H, y=n(2, 6)),
    S("np.linalg.norm(x, ord=2, axis=0, keepdims=True)", "numpy", x=A34),
    S("np.linalg.norm(x, axis=1)", "numpy", x=A34),
    S("np.linalg.norm(x)", "numpy", x=X5),
    S("np.linalg.norm(A, 'fro')", "numpy", A=A34),
    S("np.linalg.norm(x, ord=1)", "numpy", x=X5),
    S("np.linalg.norm(x, np.inf)", "numpy", x=X5),
    S("x[:, None] - x[None, :]", "numpy", x=X3),
    S("np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1) + 1e-12)", "numpy", x=n(4, 2)),
    S("np.sum((X[:, np.newaxis, :] - C[np.newaxis, :, :])**2, axis=2)", "numpy", X=XB, C=n(2, 3)),
    S("np.where(x > 0, x, 0.01*x)", "numpy", x=X5),
    S("np.where(x > 0, x, 0)", "numpy", x=X5),
    S("x.astype(np.float32)", "torch", ref="x.to(torch.float32)", x=X5, tol=1e-6),
    S("x.astype(np.float64) ** 2", "numpy", x=X5),
    S("x.astype('float64').sum()", "numpy", x=X5),
    S("np.maximum(x, 0)", "numpy", x=X5),
    S("np.clip(x, -1, 1)", "numpy", x=X5 * 2),
    S("np.tanh(x)", "numpy", x=X5),
    S("np.dot(A, x)", "numpy", A=A34, x=n(4)),
    S("A.dot(x) + b", "numpy", A=A34, x=n(4), b=X3),
    S("np.matmul(A, B.T)", "numpy", A=A34, B=B34),
    S("np.outer(x, y)", "numpy", x=X3, y=Y3),
    S("np.cross(x, y)", "numpy", x=X3, y=Y3),
    S("np.trace(A @ A.T)", "numpy", A=A33),
    S("np.linalg.det(A)", "numpy", A=A33),
    S("np.linalg.inv(A) @ b", "numpy", A=A33 + 3 * np.eye(3), b=X3),
    S("np.linalg.solve(A, b)", "numpy", A=A33 + 3 * np.eye(3), b=X3),
    S("np.log(np.linalg.det(A @ A.T + np.eye(3)))", "numpy", A=A33),
    S("sign, logdet = np.linalg.slogdet(A @ A.T + np.eye(3))\nlogdet", "numpy", A=A33),
    S("np.cumsum(x)", "numpy", x=X5),
    S("np.diff(x)", "numpy", x=X5),
    S("np.prod(x)", "numpy", x=X5),
    S("np.std(x)", "numpy", x=X5),
    S("np.var(x, ddof=1)", "numpy", x=X5),
    S("(x - x.mean(axis=0)) / x.std(axis=0)", "numpy", x=XB, refuse=("ambiguous", "np.std(x)")),
    S("(x - x.mean(axis=0)) / x.std(axis=0) + np.pi", "numpy", x=XB),
    S("(x - x.mean(dim=0)) / x.std(dim=0)", x=XB),
    S("np.mean(x, axis=0, keepdims=True)", "numpy", x=XB),
    S("x.reshape(-1, 1) * y.reshape(1, -1)", "numpy", x=X3, y=Y3),
    S("x.T @ x", "numpy", x=XB),
    S("x.ravel()", "numpy", x=A34),
    S("x.flatten() @ y.flatten()", "numpy", x=A34, y=B34),
    S("np.concatenate([x, y])", "numpy", x=X3, y=Y3),
    S("np.stack([x, y], axis=1)", "numpy", x=X3, y=Y3),
    S("np.hstack((x, y))", "numpy", x=X3, y=Y3),
    S("np.vstack([x, y]).sum(axis=0)", "numpy", x=X3, y=Y3),
    S("np.exp(-0.5 * np.sum(((x - mu) / sigma) ** 2))", "numpy", x=X3, mu=Y3, sigma=u(0.5, 2, 3)),
    S("np.exp(-np.sum((x[:, None] - x[None, :])**2, axis=-1) / (2 * l**2))", "numpy", x=n(3, 2), l=np.array(1.3)),
    S("np.square(x).sum()", "numpy", x=X5),
    S("np.abs(x).max()", "numpy", x=X5),
    S("np.max(x, axis=1)", "numpy", x=A34),
    S("np.argmax(x)", "numpy", x=X5),
    S("x[np.argmax(x)]", "numpy", x=X5),
    S("np.sort(x)[::-1]", "numpy", x=X5),
    S("np.sin(x) ** 2 + np.cos(x) ** 2", "numpy", x=X5),
    S("np.power(x, 3)", "numpy", x=X5),
    S("np.float_power(x, 2)", "numpy", x=X5),
    S("np.exp2(x) + np.log2(p) + np.log10(p)", "numpy", x=X3, p=P3),
    S("np.sinc(x)", "numpy", x=X5),
    S("np.arctan2(y, x)", "numpy", y=Y3, x=X3),
    S("np.hypot(x, y)", "numpy", x=X3, y=Y3),
    S("x @ np.diag(d) @ x", "numpy", x=X3, d=Y3),
    S("np.tril(A) + np.triu(A, 1).T", "numpy", A=A33),
    S("np.pad(x, (1, 1))", "numpy", x=X3),
    S("np.roll(x, 1)", "numpy", x=X5),
    S("np.flip(x)", "numpy", x=X5),
    S("np.tile(x, 2)", "numpy", x=X3),
    S("np.repeat(x, 2)", "numpy", x=X3),
    S("np.interp(x, [0, 1], [1, 3])", "numpy", x=u(0.1, 0.9, 3)),
    S("np.polyval([1, 2, 3], x)", "numpy", x=X3),
    S("np.mean(x ** 2, axis=(0, 1))", "numpy", x=T3),
    S("np.linalg.eigvalsh(A + A.T)", "numpy", A=A33, tol=1e-6),
    S("np.linalg.cholesky(A @ A.T + np.eye(3))", "numpy", A=A33),
    S("np.transpose(x, (1, 0, 2))", "numpy", x=T3),
    S("np.swapaxes(x, 0, 1)", "numpy", x=A34),
    S("np.expand_dims(x, 0) * y[:, np.newaxis]", "numpy", x=X3, y=Y3),
    S("np.squeeze(x)", "numpy", x=n(1, 3)),
    S("np.array([x[0] ** 2, x[1] * x[2]])", "numpy", x=X3),
    S("np.array([[x[0], x[1]], [x[1], x[0]]])", "numpy", x=X3),
    S("np.asarray(x) * 2", "numpy", x=X3),
    S("np.logaddexp(x, y)", "numpy", x=X3, y=Y3),
    S("scipy.special.expit(x)", "numpy", x=X3),
    S("scipy.special.logsumexp(x)", "numpy", x=X5),
    S("np.heaviside(x, 0.5) * x", "numpy", x=X5),
    S("np.fmax(x, y)", "numpy", x=X3, y=Y3),
    S("np.nansum(x)", "numpy", x=X5),
    S("np.average(x, weights=w)", "numpy", x=X3, w=u(0.5, 2, 3)),
    S("np.median(x)", "numpy", x=X5),
    S("np.percentile(x, 90)", "numpy", x=X5),
    S("np.linalg.matrix_power(A, 3)", "numpy", A=A33),
    S("np.kron(x, y)", "numpy", x=X3, y=Y3),
    S("np.trapezoid(y, x)", "numpy", x=np.sort(X5), y=n(5)),
]

CHAINS = [
    S("x.pow(2).sum(dim=-1, keepdim=True).sqrt()", x=H),
    S("x.view(-1, 1)", x=A34),
    S("x.view(-1, 1) * y.view(1, -1)", x=X3, y=Y3),
    S("x.unsqueeze(0).expand(3, -1)", x=X3),
    S("x.unsqueeze(-1).repeat(1, 2)", x=X3),
    S("x.flatten()", x=T3),
    S("x.flatten(1)", x=T3),
    S("x.contiguous().view(2, -1)", x=T3),
    S("x.transpose(0, 1).contiguous().view(-1)", x=A34, refuse=("ambiguous", "x.T")),
    S("torch.relu(x.transpose(0, 1).contiguous().view(-1))", x=A34),
    S("x.repeat(2, 1) * torch.ones(1)", x=A34),
    S("np.ones(1) * x.repeat(2, 0)", "numpy", x=A34),
    S("x.std(0) + np.zeros(4)", "numpy", x=A34),
    S("import numpy as np\nx.var(axis=1)", "numpy", x=A34),
    S("x.permute(2, 0, 1).reshape(4, -1)", x=T3),
    S("x.detach() * y", x=X3, y=Y3),
    S("(x - x.detach().mean()) ** 2", x=X3),
    S("x.float()", x=X3),
    S("x.double().sum()", x=X3),
    S("x.sum().item()", x=X3),
    S("x.mean().item() * y", x=X3, y=Y3),
    S("x.clone().sum()", x=X3),
    S("x.abs().max()", x=X5),
    S("x.exp().log1p()", x=X5),
    S("x.sigmoid().mul(2).sub(1)", x=X5),
    S("x.tanh().add(1).div(2)", x=X5),
    S("x.mm(y.t())", x=A34, y=B34),
    S("x.matmul(y)", x=A34, y=n(4)),
    S("x.squeeze().sum()", x=n(1, 3, 1)),
    S("x.norm(p=2)", x=X5),
    S("x.norm(dim=0)", x=A34),
    S("x.max(dim=1).values.sum()", x=A34),
    S("x.max(dim=1)[0]", x=A34),
    S("x.min(1).values", x=A34),
    S("x.topk(2).values.sum()", x=X5),
    S("x.sort(descending=True).values", x=X5),
    S("x.cumsum(0)", x=X5),
    S("x.mean(dim=(0, 1))", x=T3),
    S("x.sum(axis=1)", x=A34),
    S("x.t() @ x", x=XB),
    S("x.T.mm(x)", x=XB),
    S("x.to(torch.float64) * 2", x=X3),
    S("x.to('cpu').sum()", x=X3),
    S("x.cpu().numpy()", x=X3, ref="x.cpu()"),
    S("x.type(torch.float64)", x=X3),
    S("x.new_tensor([1.0, 2.0, 3.0]) * x", x=X3),
    S("torch.ones_like(x) * x.sum()", x=X3),
    S("torch.zeros(3).scatter_add(0, idx, x)", idx=ints(0, 2, 0), x=X3),
    S("x.masked_fill(x < 0, 0.0)", x=X5),
    S("x[x > 0].sum()", x=X5),
    S("x[..., :2]", x=T3),
    S("x[:, -1, :]", x=T3),
    S("x[::2]", x=X5),
    S("x.split(2, dim=-1)[1]", x=H),
    S("torch.cat([x, y], dim=0)", x=X3, y=Y3),
    S("torch.stack((x, y)).sum(0)", x=X3, y=Y3),
    S("torch.outer(x, y)", x=X3, y=Y3),
    S("torch.diag(x) @ y", x=X3, y=Y3),
    S("torch.trace(A @ A.T)", A=A33),
    S("torch.det(A)", A=A33),
    S("torch.linalg.inv(A)", A=A33 + 3 * np.eye(3)),
    S("torch.linalg.solve(A, b)", A=A33 + 3 * np.eye(3), b=X3),
    S("torch.logdet(A @ A.T + torch.eye(3))", A=A33),
    S("torch.linalg.norm(x, dim=-1)", x=H),
    S("torch.cdist(a, b)", a=n(3, 2), b=n(4, 2)),
    S("torch.var(x, unbiased=False)", x=X5),
    S("torch.std(x, dim=0)", x=XB),
    S("x.var(0, correction=0)", x=XB),
    S("torch.prod(x)", x=X5),
    S("torch.cumprod(x, dim=0)", x=X5),
    S("torch.square(x).mean()", x=X5),
    S("torch.addmm(b, x, W.t())", b=Bv, x=n(2, 6), W=W),
    S("torch.tensor([1.0, 2.0, 3.0]) @ x", x=X3),
    S("torch.tensor([[1., 2], [3, 4]]) @ x", x=n(2)),
    S("torch.arange(3) * x", x=X3),
    S("torch.linspace(0, 1, 3) * x", x=X3),
    S("torch.eye(3) + x[:, None] * x", x=X3),
    S("torch.full((3,), 2.0) * x", x=X3),
    S("torch.tril(torch.ones(3, 3)) @ x", x=X3),
    S("torch.as_tensor(x) * 2", x=X3),
    S("torch.from_numpy(x) * 2", x=X3, ref="x * 2"),
    S("torch.tensor(x) ** 2", x=X3),
    S("x.numpy() ** 2", x=X3, ref="x ** 2"),
    S("x.shape[0] * x", x=X3),
    S("x.size(0) * x.sum()", x=X3),
    S("x.numel() * x", x=X3),
    S("x.dim() * x", x=X3),
    S("len(x) * x", x=X3),
    S("x.reshape(x.shape[0], -1)", x=T3),
    S("x.reshape(*x.shape[:-1], 2, 2)", x=T3),
    S("x.sum(-1).mean()", x=T3),
    S("x.amax(dim=-1)", x=A34),
    S("x.logsumexp(-1)", x=A34),
    S("x.log_softmax(-1)", x=A34),
    S("x.clamp(min=0).pow(2).sum()", x=X5),
    S("x.clamp_min(0)", x=X5),
    S("x.relu()", x=X5),
    S("x.sqrt()", x=P3),
    S("x.rsqrt()", x=P3),
    S("x.reciprocal()", x=P3),
    S("x.neg().exp()", x=X3),
    S("x.lerp(y, 0.3)", x=X3, y=Y3),
    S("x.where(x > 0, y)", x=X3, y=Y3),
    S("x.diagonal().sum()", x=A33),
    S("x.triu(1)", x=A33),
    S("x.roll(1, 0)", x=X5),
    S("x.flip(0)", x=X5),
    S("x.mean(0, keepdim=True).expand_as(x)", x=XB),
    S("x.expand(2, 3)", x=n(1, 3)),
    S("x.repeat(2, 1)", x=A34, refuse=("ambiguous", "tile")),
    S("x.index_select(0, idx)", x=A34, idx=ints(2, 0)),
    S("x.gather(1, idx)", x=A34, idx=ints(0, 3, 1).reshape(3, 1)),
    S("x.sum(dim=1).softmax(0)", x=A34),
]

PYTHON = [
    S("import torch\nimport torch.nn.functional as F\n\nF.softmax(x, dim=0)", x=X3),
    S("import numpy as np\n\nnp.tanh(x).sum()", "numpy", x=X3),
    S("import math\nmath.sqrt(2) * x", x=X3),
    S("import torch.nn as nn\nnn.functional.relu(x)", x=X3),
    S("import torch.nn as nn\nnn.MSELoss()(x, y)", x=X3, y=Y3),
    S("from torch import nn\nnn.Softplus()(x)", x=X3),
    S("from torch.nn import functional as F\nF.relu(x).sum()", x=X3),
    S("import torch as th\nth.sin(x)", x=X3, refuse=("import torch as th",)),
    S("# mean squared error\nloss = ((pred - target) ** 2).mean()  # scalar\nloss", pred=X3, target=Y3),
    S("loss = ((pred - target) ** 2).mean();", ref="loss = ((pred - target) ** 2).mean()\nloss", pred=X3,
      target=Y3),
    S("((pred - target) ** 2).mean();", pred=X3, target=Y3),
    S("y = x ** 2;\ny.sum();", x=X3),
    S("total = (x ** 2).sum() + \\\n        (y ** 2).sum()\ntotal", x=X3, y=Y3),
    S("total = ((x ** 2).sum()\n         + (y ** 2).sum())\ntotal", x=X3, y=Y3),
    S("out = torch.cat([x,\n                 y],\n                dim=0)\nout", x=X3, y=Y3),
    S("    h = torch.tanh(x)\n    h.sum()", ref="h = torch.tanh(x)\nh.sum()", x=X3),
    S("abs(x)", x=X3),
    S("abs(x - y).sum()", x=X3, y=Y3),
    S("max(x.sum(), y.sum())", x=X3, y=Y3),
    S("min(x.sum(), 0.0)", x=X3),
    S("max(0.0, 1 - x.sum())", x=X3),
    S("max(x, y)", ref="torch.maximum(x, y)", x=X3, y=Y3),
    S("pow(x, 2)", x=X3),
    S("pow(x, 3).sum()", x=X3),
    S("round(x.sum().item(), 3) * x", x=X3),
    S("sum(x ** 2)", x=X3),
    S("sum([a, b, c])", a=X3, b=Y3, c=n(3)),
    S("sum(w * v for w, v in zip(ws, vs))", ws=X3, vs=Y3),
    S("sum(x[i] ** 2 for i in range(3))", x=X3),
    S("sum([x[i] * y[i] for i in range(len(x))])", x=X3, y=Y3),
    S("torch.stack([x[i] * i for i in range(3)])", x=X3),
    S("math.exp(1) * x", x=X3),
    S("math.log(2.0) + x", x=X3),
    S("x * math.pi / 180", x=X3),
    S("x * math.e", x=X3),
    S("math.cos(0.5) * torch.sin(x)", x=X3),
    S("x / math.sqrt(x.shape[-1])", x=H),
    S("x ** 2 / 2.", x=X3),
    S("x ** -1", x=P3),
    S("1e-3 * x ** 2", x=X3),
    S("x // 1 + x", "numpy", x=X3),
    S("x % 1.0", x=X3),
    S("float(x.shape[0]) * x", x=X3),
    S("int(2.7) * x", x=X3),
    S("x * (-1)", x=X3),
    S("−x ** 2", ref="-x ** 2", x=X3),
    S("x − y", ref="x - y", x=X3, y=Y3),
    S("x × y", ref="x * y", x=X3, y=Y3, refuse=("×", "*")),
    S("F.mse_loss(x, y, reduction=‘sum’)", ref="F.mse_loss(x, y, reduction='sum')", x=X3, y=Y3),
    S("torch.einsum(“i,i->”, x, y)", ref="torch.einsum('i,i->', x, y)", x=X3, y=Y3),
    S("x²", x=X3, refuse=("²",)),
    S("x\u00a0* y", ref="x * y", x=X3, y=Y3),
    S("x.sum()\u200b", ref="x.sum()", x=X3),
    S("def f(x):\n    return (x ** 2).sum()\nf(x)", x=X3),
    S("def f(x): return torch.sin(x) * x\nf(x)", x=X3),
    S("def loss(pred, target):\n    return ((pred - target) ** 2).mean()", ref="def loss(pred, target):\n"
      "    return ((pred - target) ** 2).mean()\nloss(pred, target)", pred=X3, target=Y3),
    S("def f(x):\n    \"\"\"Squared norm.\"\"\"\n    y = x * x\n    return y.sum()", x=X3,
      ref="def f(x):\n    y = x * x\n    return y.sum()\nf(x)"),
    S("def gelu(x):\n    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))\n"
      "gelu(x).sum()", x=X5),
    S("def mlp(x, W1, W2):\n    h = torch.relu(x @ W1)\n    return h @ W2\nmlp(x, W1, W2).sum()",
      x=XB, W1=n(3, 4), W2=n(4, 2)),
    S("def f(x, scale=2.0):\n    return scale * x\nf(x) + f(x, scale=3.0)", x=X3),
    S("def norm(v):\n    return torch.sqrt((v ** 2).sum())\nnorm(x) + norm(y)", x=X3, y=Y3),
    S("def sq(t):\n    return t * t\ndef f(x):\n    return sq(x).sum()\nf(x)", x=X3),
    S("def f(x):\n    return f(x)\nf(x)", x=X3, refuse=("f", "itself")),
    S("def f(x):\n    if x.sum() > 0:\n        return x\n    return -x\nf(x)", x=X3, refuse=("if",)),
    S("f = lambda x: (x ** 2).sum()\nf(x)", x=X3),
    S("lambda x: torch.sin(x).sum()", ref="(lambda x: torch.sin(x).sum())(x)", x=X3),
    S("f = lambda a, b: (a * b).sum()\nf(x, y)", x=X3, y=Y3),
    S("(lambda t: t ** 3)(x)", x=X3),
    S("sq = lambda t: t * t\nsq(x) + sq(y)", x=X3, y=Y3),
    S("with torch.no_grad():\n    m = x.mean()\n(x - m) ** 2", x=X3),
    S("with torch.no_grad():\n    y = x * 2\ny.sum()", x=X3),
    S("x.requires_grad_()\ny = (x ** 2).sum()\ny", x=X3),
    S("x = x.requires_grad_()\n(x ** 2).sum()", x=X3),
    S("x.requires_grad = True\n(x ** 2).sum()", x=X3),
    S("y = (x ** 2).sum()\ny.backward()", ref="(x ** 2).sum()", x=X3),  # backward() names the output (session 23)
    S("loss = F.mse_loss(pred, target)\nloss.backward()\npred.grad", ref="F.mse_loss(pred, target)", pred=X3,
      target=Y3),
    # backward(gradient=V) names the output and V is jac vjp's v when --v is not given (session 25): jac eval
    # prints the Jacobian; the API's vjp with another v is refused (tests/test_leaves23.py checks V itself)
    S("y = x ** 2\ny.backward(torch.ones_like(y))", ref="x ** 2", vjp=False, x=X3),
    S("torch.autograd.grad(y, x)", x=X3, y=Y3, refuse=("autograd",)),
    S("x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n(x ** 2).sum()", x=X3,
      refuse=("bound twice", "in the text")),  # the text makes x: binding it too is refused (session 23)
    S("x = torch.randn(3, requires_grad=True)\n(x ** 2).sum()", x=X3, refuse=("randn",)),
    S("print(loss)", loss=X3, refuse=("print",)),
    S("loss = (x ** 2).sum()\nprint(loss.item())", x=X3, refuse=("print",)),
    S("x = x.to(device)\n(x ** 2).sum()", x=X3, refuse=("device",)),
    S("x = x.cuda()\nx.sum()", x=X3, refuse=("cuda",)),
    S("optimizer.zero_grad()\nloss = (x ** 2).sum()\nloss", x=X3, refuse=("optimizer",)),
    S("torch.manual_seed(0)\n(x ** 2).sum()", x=X3, refuse=("seed",)),
    S(">>> torch.sin(x)", x=X3, refuse=(">>>",)),
    S(">>> y = x ** 2\n>>> y.sum()", x=X3, refuse=(">>>",)),
    S("In [1]: x.sum()", x=X3, refuse=("In [1]",)),
    S("$ jac eval 'x.sum()' x:3", x=X3, refuse=("jac eval",)),
    S("for i in range(3):\n    x = x * 2\nx", x=X3),  # loops are written out (twentieth session)
    S("if True:\n    y = x\ny", x=X3),
    S("y = x if x.sum() > 0 else -x", x=X3, refuse=("if",)),
    S("x.grad", x=X3, refuse=("grad",)),
    S("torch.func.grad(lambda x: (x ** 2).sum())(x)", x=X3),  # read as the gradient (twenty-fourth session)
    S("jax.grad(f)(x)", x=X3, refuse=("grad",)),
    S("class M(nn.Module):\n    def forward(self, x):\n        return x * 2", x=X3, refuse=("class",)),
    S("model(x)", x=X3, refuse=("model",)),
    S("self.fc(x)", x=X3, refuse=("self",)),
    S("x.sum()  # → scalar", x=X3),
    S("\"\"\"doc\"\"\"\nx.sum()", x=X3),
    S("y = x.sum(); y", x=X3),
    S("a = b = x * 2\na + b", x=X3),
    S("x, y = y, x\nx - y", x=X3, y=Y3),
    S("n = x.shape[0]\nx.sum() / n", x=X3),
    S("B, T, C = x.shape\nx.view(B * T, C)", x=T3),
    S("N = len(x)\nx @ torch.ones(N)", x=X3),
    S("loss = 0\nfor xi in x:\n    loss += xi ** 2\nloss", x=X3),
    S("loss = 0.0\nloss += (x ** 2).sum()\nloss = loss / 2\nloss", x=X3),
    S("loss = torch.tensor(0.)\nloss = loss + x.sum()\nloss", x=X3),
    S("assert x.shape == (3,)\nx.sum()", x=X3, refuse=("assert",)),
    S("x: torch.Tensor\nx.sum()", x=X3),
    S("y: torch.Tensor = x * 2\ny.sum()", x=X3),
    S("torch.set_grad_enabled(True)\nx.sum()", x=X3, refuse=("set_grad_enabled",)),
    S("x.sum(dim=-1, keepdims=True)", x=A34),
    S("x.sum(axis=-1, keepdim=True)", x=A34),
    S("np.sum(x, dim=0)", "numpy", ref="np.sum(x, axis=0)", x=A34),
]

# what this sweep's fixes read: scopes and late binding of functions, defaults, no_grad, modules, prompts
FIXED = [
    S("a = x\nf = lambda t: t * a\na = y\nf(x)", x=X3, y=Y3),
    S("def f(t, s=x):\n    return t * s\nx2 = f(y)\nx2 + f(y, s=y)", x=X3, y=Y3),
    S("def f(t):\n    u = t * 2\n    return u\nu = x + 1\nf(x) * u", x=X3),
    S("def f(t):\n    x = t * 3\n    return x\nf(y) + x", x=X3, y=Y3),
    S("def outer(t):\n    def inner(u):\n        return u * t\n    return inner(t + 1)\nouter(x)", x=X3),
    S("def f(*, t):\n    return t.exp()\nf(t=x)", x=X3),
    S("def layer(h, W, b):\n    return torch.tanh(h @ W + b)\nh = layer(x, W1, b1)\nh = layer(h, W2, b2)\nh.sum()",
      x=n(2, 3), W1=n(3, 4), b1=n(4), W2=n(4, 4), b2=n(4)),
    S("def attention(q, k, v):\n    d = q.shape[-1]\n    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), -1)\n"
      "    return w @ v\nattention(Q, K, V)", Q=Q, K=K, V=V),
    S("softplus = lambda z: torch.log1p(torch.exp(z))\nsoftplus(x).sum()", x=X5),
    S("relu = lambda z: z.clamp(min=0)\nrelu(x @ W.T + b)", x=n(2, 6), W=W, b=Bv),
    S("with torch.no_grad():\n    mu = x.mean(0)\n    sd = x.std(0)\n(x - mu) / sd", x=XB),
    S("with torch.no_grad():\n    w = x / x.norm()\n(w * y).sum() + (x * y).sum()", x=X3, y=Y3),
    S("x.requires_grad_(True)\ny.requires_grad_()\n(x * y).sum()", x=X3, y=Y3),
    S("x.requires_grad_(False)\nx.sum()", x=X3, refuse=("requires_grad_",)),
    S("nn.Sequential(nn.ReLU(), nn.Softmax(dim=-1))(x)", x=H),
    S("f = nn.Sequential(nn.Tanh(), nn.Flatten(0))\nf(x)", x=A34),
    S("nn.CrossEntropyLoss(label_smoothing=0.1, reduction='sum')(logits, labels)", logits=LOGITS, labels=LABELS),
    S("nn.CosineSimilarity(dim=0)(a, b)", a=X3, b=Y3),
    S("nn.Hardtanh(-0.5, 0.5)(x)", x=X5),
    S("nn.Softplus(2.0)(x)", x=X5),
    S("nn.LogSigmoid()(x).sum()", x=X5),
    S("nn.Threshold(0.1, 20.0)(x)", x=X5),
    S("nn.Sequential(nn.Linear(3, 3))(x)", x=X3, refuse=("nn.Linear", "F.linear")),
    S("nn.Conv2d(1, 2, 3)(x)", x=n(1, 1, 4, 4), refuse=("Conv2d", "F.conv2d")),
    S("nn.LSTM(3, 4)(x)", x=n(2, 3), refuse=("holds parameters", "rnn = nn.LSTM(...)")),
    S("nn.CTCLoss()(x, x, x, x)", x=n(2, 3), refuse=("input_lengths must be a constant",)),  # read since session 28
    S("pool = nn.MaxPool2d(2)\npad = nn.ReflectionPad2d(1)\npool(pad(x))", x=n(1, 2, 4, 4)),
    S("nn.Sequential(nn.Upsample(scale_factor=2, mode='bilinear'), nn.AvgPool2d(3, 1, 1))(x)", x=n(1, 1, 3, 3)),
    S("x.permute(*reversed(range(x.ndim))) if x.ndim == 3 and x.shape[0] == 2 else x", x=n(2, 3, 4)),
    S("math.sqrt(s) * x", x=X3, s=np.array(2.0)),
    S("math.exp(s.item()) * x", x=X3, s=np.array(0.5)),
    S("x * math.log(s)", x=X3, s=np.array(3.0)),
    S("math.sqrt(x)", x=X3, refuse=("math.sqrt", "torch.sqrt(x)")),
    S("x.pow(2).sum() / math.sqrt(x.numel())", x=X5),
    S("logits[torch.arange(4), labels]", logits=LOGITS, labels=LABELS),
    S("logits.gather(1, labels.view(-1, 1)).squeeze(1)", logits=LOGITS, labels=LABELS),
    S("torch.take_along_dim(logits, labels[:, None], dim=1)", logits=LOGITS, labels=LABELS),
    S("np.take_along_axis(logits, labels[:, None], axis=1)", "numpy", logits=LOGITS, labels=LABELS),
    S("E[idx].sum(0)", idx=ints(3, 1), E=n(4, 3)),
    S("x[i] * x", x=X3, i=ints(2)[0]),
    S("torch.zeros(4).index_add(0, idx, x)", idx=ints(0, 2, 0), x=X3),
    S("torch.stack([x[i] * x[(i + 1) % 3] for i in range(3)])", x=X3),
    S("sum((x[i] - y[i]) ** 2 for i in range(len(x))) / len(x)", x=X3, y=Y3),
    S("sum(r @ r for r in A)", A=A34),
    S("torch.stack([torch.outer(r, r) for r in A]).sum(0)", A=A34),
    S("sum([i * x[i] for i in range(3) if i != 1])", x=X3),
    S("np.array([np.dot(a, b) for a, b in zip(A, B)])", "numpy", A=A34, B=B34),
    S("sum(w * x ** k for k, w in enumerate(ws))", x=X3, ws=n(4)),
    S("sum(x, y)", x=X3, y=Y3, refuse=("axis must be a constant",)),
    S("x ≤ y", x=X3, y=Y3, refuse=("<=",)),
    S("√x", x=P3, refuse=("sqrt",)),
    S("F.relu(x) * 2", ref="F.relu(x) * 2", x=X3),
    S("x – y", ref="x - y", x=X3, y=Y3),
    S("Out[3]: tensor([1., 2.])", x=X3, refuse=("IPython",)),
    S("lambda x, y: (x * y).sum()", ref="(x * y).sum()", x=X3, y=Y3),
    S("def loss(w, X=None):\n    return (w ** 2).sum()", ref="(w ** 2).sum()", w=X3),
    S("def f(x, y):\n    return x * y", x=X3, refuse=("'y' is not one",)),
]


def collection() -> list:
    return LOSSES + LAYERS + NUMPY + CHAINS + PYTHON + FIXED


# ----------------------------------------------------------------------------------------------- the references


def _scope(lib: str):
    import scipy.special
    import torch

    scope = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, "np": np, "math": math,
             "scipy": scipy}
    return scope


def _run(code: str, scope: dict):
    """The value of ``code``'s last statement (an expression) run by Python, or of a function it ends with."""
    tree = ast.parse(code)
    last = tree.body[-1]
    if not isinstance(last, ast.Expr):
        raise ValueError("the reference's last statement is not an expression")
    body = ast.Module(body=tree.body[:-1], type_ignores=[])
    exec(compile(body, "<ref>", "exec"), scope)
    return eval(compile(ast.Expression(last.value), "<ref>", "eval"), scope)


class _float64:
    def __enter__(self):
        import torch

        self.before = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)

    def __exit__(self, *exc):
        import torch

        torch.set_default_dtype(self.before)


def _floats(inputs: dict) -> list:
    return [k for k, v in inputs.items() if np.asarray(v).dtype.kind == "f"]


def reference(s: Snippet) -> dict:
    """{"value", "jacobian": {name: ...}} computed by the library from the snippet's own text."""
    import torch

    code = s.ref or s.code
    floats = _floats(s.inputs)
    with warnings.catch_warnings(), _float64(), np.errstate(all="ignore"), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if s.lib == "torch":
            def f(*xs):
                scope = _scope("torch")
                scope.update({k: torch.tensor(v) for k, v in s.inputs.items()})
                scope.update(dict(zip(floats, xs)))
                out = _run(code, scope)
                return torch.as_tensor(out, dtype=torch.float64) if not torch.is_tensor(out) else out.double() \
                    if out.is_floating_point() else out.double()

            args = tuple(torch.tensor(np.asarray(s.inputs[k], dtype=np.float64)) for k in floats)
            value = f(*args)
            jac = torch.autograd.functional.jacobian(f, args) if floats else ()
            return {"value": value.detach().numpy(),
                    "jacobian": {k: j.numpy() for k, j in zip(floats, jac)}}

        def g(**xs):
            scope = _scope("numpy")
            scope.update({k: np.array(v) for k, v in s.inputs.items()})
            scope.update(xs)
            return np.asarray(_run(code, scope), dtype=np.float64)

        value = g()
        jacobian = {}
        for k in floats:
            x0 = np.asarray(s.inputs[k], dtype=np.float64)
            J = np.zeros(value.shape + x0.shape)
            h = 1e-6
            for i in np.ndindex(x0.shape):
                xp, xm = x0.copy(), x0.copy()
                xp[i] += h
                xm[i] -= h
                J[(...,) + i] = (g(**{k: xp}) - g(**{k: xm})) / (2 * h)
            jacobian[k] = J
        return {"value": value, "jacobian": jacobian}


# ----------------------------------------------------------------------------------------------------- jac


def run_cli(s: Snippet) -> tuple:
    """(exit code, stdout, stderr) of ``jac eval CODE BINDINGS`` in this process."""
    from jacobi_cli.cli import entry

    args = ["eval", s.code]
    for k, v in s.inputs.items():
        a = np.asarray(v)
        text = np.array2string(a, separator=",", threshold=10**6, floatmode="unique").replace("\n", "")
        args.append(f"{k}={text}" if a.ndim else f"{k}={a.item()!r}")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(args)
    return code, out.getvalue(), err.getvalue()


def _close(a, b, tol) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def judge(s: Snippet) -> tuple:
    """(class, detail) of one snippet."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    code, out, err = run_cli(s)
    if code not in (0, 2) or "Traceback" in out + err:
        return "crashed", f"exit {code}: {err.strip()[-300:]}"
    if code == 2:
        message = err.strip()
        if err.count("jac: error") != 1:
            return "crashed", f"exit 2 without one 'jac: error' line: {message[:300]}"
        if s.refuse:
            missing = [w for w in s.refuse if w not in message]
            return ("refused", message.splitlines()[0]) if not missing else \
                ("refused-unclear", f"(message lacks {missing}) {message.splitlines()[0]}")
        return "refused-unexpectedly", message.splitlines()[0][:300]
    if s.refuse:
        return "wrong", "answered where a refusal was expected"
    try:
        theirs = reference(s)
    except Exception as e:  # noqa: BLE001 (the library refuses: jac must too)
        return "wrong", f"jac answers, the library raises {type(e).__name__}: {str(e)[:200]}"
    tol = s.tol if s.lib == "torch" else max(s.tol, 1e-5)
    floats = _floats(s.inputs)
    inputs = {k: np.asarray(v) for k, v in s.inputs.items()}
    try:
        value = api.evaluate(s.code, inputs)
        if not _close(value, theirs["value"], s.tol):
            return "wrong", f"value {np.asarray(value).ravel()[:4]} vs {np.asarray(theirs['value']).ravel()[:4]}"
        if not floats:
            return "agrees", ""
        ours = api.jacobian(s.code, inputs, wrt=floats)
        for k in floats:
            if not _close(ours[k], theirs["jacobian"][k], tol):
                return "wrong", f"d/d{k} differs"
        if s.vjp:
            v = np.random.default_rng(0).standard_normal(np.shape(value))
            grads = api.vjp(s.code, inputs, v=v, wrt=floats)
            for k in floats:
                expected = np.tensordot(v, theirs["jacobian"][k], axes=np.ndim(value))
                if not _close(grads[k], expected, tol):
                    return "wrong", f"vjp {k} differs"
    except JacError as e:
        return "crashed", f"the API refuses what jac eval answered: {e}"
    return "agrees", ""


CLASSES = ("agrees", "refused", "refused-unclear", "refused-unexpectedly", "wrong", "crashed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args(argv)
    return tally([s for s in collection() if args.k in s.code], judge, "snippets", args.v)


def tally(snippets: list, judge, noun: str, verbose: bool, inputs: bool = False,
          classes: tuple | None = None) -> int:
    """Judge each snippet (a crash of the judging counted, the sweep goes on), print what is not as expected
    (everything with ``verbose``; a wrong one's inputs with ``inputs``) and the counts by class; 1 when any is
    wrong or crashed. The sweeps of this family share it (jax16_sweep.py, lax26_sweep.py)."""
    classes = CLASSES if classes is None else classes  # read at the call: trust20_sweep.py adds "known" to it
    counts = dict.fromkeys(classes, 0)
    for s in snippets:
        try:
            kind, detail = judge(s)
        except Exception as e:  # noqa: BLE001 (the sweep goes on)
            kind, detail = "crashed", f"{type(e).__name__}: {e}"
        counts[kind] += 1
        if verbose or kind not in ("agrees", "refused"):
            shown = f" {s.inputs}" if inputs and kind == "wrong" else ""
            print(f"{kind:21} {s.label()!r}{shown}: {detail}", flush=True)
    print(f"{len(snippets)} {noun}: " + ", ".join(f"{counts[c]} {c}" for c in classes))
    return 1 if counts["wrong"] or counts["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
