"""The h35 probe of the symbolic path on what sessions 33-34 added.

    PYTHONPATH=. /work/venv/bin/python benchmarks/symbolic35_probe.py [-k SUBSTRING] [--cli [--cli-every K]] [--verbose]

For each text of ``CASES`` (grouped by family: distributions, scipy.linalg / jax.scipy.linalg, nested lists,
functions changing lists, plain classes, value-dependent control flow, masks, selections, spectral functions at
repeated eigenvalues, scipy.spatial.distance, sliding_window_view, polyval, quadrature, scipy.integrate, custom
rules, derivatives written in the text), at the values written beside it:

- **numeric**: ``api.jacobian`` (``jac eval``'s Jacobian). A text jac eval refuses is ``numeric-refused`` (nothing
  to compare).
- **eval**: ``jac eval --symbolic``'s formulas (``report.eval_report(symbolic=True)``, in-process and bounded), each
  Jacobian's formula evaluated at the values (:func:`symbolic.evaluate_components`) against the numeric one.
- **diff**: ``jac diff`` with the values as bindings (``symbolic.differentiate``: the formula checked against
  autodiff at the point, the value shown), and the formula's own value before that check.

Each path is ``AGREE`` (to 1e-10 relative), ``REFUSED-CLEARLY`` (a JacError: one message), ``NOTED`` (the formula
does not hold at the point and the output says so, showing jac eval's number), ``BRANCH`` (the text reads its
values, so the formula holds on the branch taken only, and it is shown with no word of that beside it), ``WRONG``
(another number than jac eval's, with no word), ``CRASH`` (anything but a JacError) or ``HANG`` (past SECONDS).
``--cli`` also runs each text through ``jac diff --json`` and ``jac eval --symbolic --json`` in a process: the exit
code must be 0 or 2, stderr free of tracebacks, and ``--timeout`` obeyed (``CLI-CRASH`` / ``CLI-HANG`` otherwise);
and the texts of ``SLOW`` with ``--timeout 2``, which must end in a limit error (``CLI-LIMIT``) or an answer.
An in-process path past SECONDS (no time limit there) is ``HANG``; the command line stops it at ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from unittest import mock

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api, report, symbolic  # noqa: E402

RTOL = 1e-10
SECONDS = 60

SPD = "[[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]"
GEN = "[[2.0, 1.0, 0.3], [0.5, 3.0, 0.2], [0.1, 0.7, 1.5]]"
TRI = "[[2.0, 0.0, 0.0], [0.5, 3.0, 0.0], [0.1, 0.7, 1.5]]"
X3 = "[0.3, -0.7, 1.2]"
P3 = "[0.4, 1.3, 2.1]"
TD = "torch.distributions."

CUSTOM_EXP = """import torch
class MyExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y
    @staticmethod
    def backward(ctx, grad_output):
        y, = ctx.saved_tensors
        return 2 * grad_output * y
MyExp.apply(x).sum()
"""
CUSTOM_STE = """import torch
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x * 4)
    @staticmethod
    def backward(ctx, g):
        return g * 4
RoundSTE.apply(x)
"""
CUSTOM_CLIP = """import torch
class ClipGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()
    @staticmethod
    def backward(ctx, g):
        return g.clamp(-0.3, 0.3)
(ClipGrad.apply(x) * 2).sum()
"""
JAX_CUSTOM_VJP = """import jax
import jax.numpy as jnp
@jax.custom_vjp
def f(x):
    return jnp.sin(x)
def f_fwd(x):
    return jnp.sin(x), jnp.cos(x)
def f_bwd(c, g):
    return (3.0 * c * g,)
f.defvjp(f_fwd, f_bwd)
f(x)
"""
JAX_CUSTOM_JVP = """import jax
import jax.numpy as jnp
@jax.custom_jvp
def f(x):
    return jnp.log1p(jnp.exp(x))
@f.defjvp
def f_jvp(primals, tangents):
    x, = primals
    t, = tangents
    return f(x), 2.0 * t
f(x).sum()
"""
NEWTON = """import torch
def newton_sqrt(a, tol=1e-12):
    x = a.clone()
    while (x * x - a).abs() > tol:
        x = (x + a / x) / 2
    return x
newton_sqrt(a)
"""
SOFT_DTW = open(os.path.join(ROOT, "examples", "soft_dtw.py")).read() + "soft_dtw(x, y)\n"
LISTS = """R = [[0.0] * 3 for _ in range(3)]
for i in range(1, 3):
    for j in range(1, 3):
        R[i][j] = R[i - 1][j - 1] + x[i] * x[j]
R[2][2]
"""
PUSH = """def push(out, v):
    out.append(v)
l = []
push(l, x ** 2)
push(l, sin(x))
l[0] + l[1]
"""
FILL = """def fill(R, i, v):
    R[i] = v
R = [0.0, 0.0, 0.0]
for i in range(3):
    fill(R, i, x[i] * x[(i + 1) % 3])
R[0] + 2 * R[1] + 3 * R[2]
"""
CLASS = """class Lin:
    def __init__(self, w):
        self.w = w
        self.n = 0
    def __call__(self, v):
        self.n = self.n + 1
        return self.w * v + self.n
m = Lin(w)
a = m(x)
m(x).sum() + a[0]
"""
KALMAN = """import numpy as np
class Kalman:
    def __init__(self, F, Q):
        self.F, self.Q = F, Q
    def predict(self, x, P):
        return self.F @ x, self.F @ P @ self.F.T + self.Q
kf = Kalman(F, np.eye(3) * 0.1)
x1, P1 = kf.predict(x, np.eye(3))
np.trace(P1) + x1.sum()
"""
DATACLASS = """from dataclasses import dataclass
import numpy as np
@dataclass
class Particle:
    pos: np.ndarray
    vel: np.ndarray
    def step(self, h):
        return Particle(self.pos + h * self.vel, self.vel - h * self.pos)
p = Particle(x, v)
for _ in range(3):
    p = p.step(0.1)
p.pos
"""
IF_PY = """import torch
def f(x):
    if x.sum() > 0:
        return torch.sin(x)
    return torch.cos(x)
f(x)
"""
WHILE_PY = """import torch
y = x
while y.norm() < 10:
    y = y * 1.5 + 0.1
y
"""
FOR_INT = """import torch
k = int((x > 0).sum())
x[:k].sum() * x[0]
"""
QUAD = """import numpy as np
nodes, w = np.polynomial.legendre.leggauss(5)
(w * np.sin(a * nodes)).sum()
"""

# (family, text, {name: value})
CASES = [
    # --- distributions (lang/distributions.py)
    ("dist", TD + "Normal(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", TD + "Normal(m, s).cdf(x)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", TD + "Normal(m, s).icdf(p)", {"m": "0.3", "s": "1.5", "p": "[0.2, 0.5, 0.9]"}),
    ("dist", TD + "Normal(m, s).entropy()", {"m": "0.3", "s": "1.5"}),
    ("dist", TD + "Laplace(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", TD + "Laplace(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": "[0.3, 1.0, -1.0]"}),
    ("dist", TD + "Gamma(a, b).log_prob(x)", {"a": "2.5", "b": "1.5", "x": P3}),
    ("dist", TD + "Beta(a, b).log_prob(x)", {"a": "2.5", "b": "1.5", "x": "[0.2, 0.5, 0.7]"}),
    ("dist", TD + "Beta(a, b).entropy()", {"a": "2.5", "b": "1.5"}),
    ("dist", TD + "Exponential(r).cdf(x)", {"r": "1.5", "x": P3}),
    ("dist", TD + "Uniform(a, b).log_prob(x)", {"a": "-1.0", "b": "2.0", "x": X3}),
    ("dist", TD + "Poisson(r).log_prob(torch.tensor([1.0, 2.0, 0.0]))", {"r": "1.5"}),
    ("dist", TD + "Categorical(logits=l).log_prob(torch.tensor(1))", {"l": X3}),
    ("dist", TD + "Categorical(logits=l).entropy()", {"l": X3}),
    ("dist", TD + "Categorical(probs=p).log_prob(torch.tensor(2))", {"p": "[0.2, 0.3, 0.5]"}),
    ("dist", TD + "Bernoulli(logits=l).log_prob(torch.tensor([1.0, 0.0, 1.0]))", {"l": X3}),
    ("dist", TD + "MultivariateNormal(mu, covariance_matrix=S).log_prob(x)", {"mu": X3, "S": SPD, "x": P3}),
    ("dist", TD + "MultivariateNormal(mu, scale_tril=L).log_prob(x)", {"mu": X3, "L": TRI, "x": P3}),
    ("dist", TD + "MultivariateNormal(mu, covariance_matrix=S).entropy()", {"mu": X3, "S": SPD}),
    ("dist", TD + "Independent(" + TD + "Normal(m, s), 1).log_prob(x)", {"m": X3, "s": P3, "x": "[0.0, 1.0, 2.0]"}),
    ("dist", TD + "kl_divergence(" + TD + "Normal(m, s), " + TD + "Normal(0.0, 1.0))", {"m": "0.3", "s": "1.5"}),
    ("dist", TD + "kl_divergence(" + TD + "Categorical(logits=a), " + TD + "Categorical(logits=b))", {"a": X3, "b": P3}),
    ("dist", TD + "VonMises(m, k).log_prob(x)", {"m": "0.3", "k": "2.0", "x": X3}),
    ("dist", TD + "Gumbel(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", TD + "LogNormal(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": P3}),
    ("dist", TD + "StudentT(3.0, m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", TD + "Dirichlet(c).log_prob(p)", {"c": P3, "p": "[0.2, 0.3, 0.5]"}),
    ("dist", TD + "MixtureSameFamily(" + TD + "Categorical(logits=l), " + TD + "Normal(m, s)).log_prob(x)",
     {"l": X3, "m": X3, "s": P3, "x": "0.4"}),
    ("dist", "scipy.stats.norm.logpdf(x, m, s)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", "scipy.stats.norm.cdf(x)", {"x": X3}),
    ("dist", "jax.scipy.stats.norm.logcdf(x)", {"x": X3}),
    ("dist", "scipy.stats.expon.logpdf(x, 0.0, s)", {"s": "1.5", "x": P3}),
    ("dist", "scipy.stats.expon.logpdf(x, 0.0, s)", {"s": "1.5", "x": X3}),
    ("dist", "scipy.stats.laplace.logpdf(x, m, s)", {"m": "0.3", "s": "1.5", "x": X3}),
    ("dist", "scipy.stats.uniform.pdf(x, a, 2.0)", {"a": "-1.0", "x": X3}),
    ("dist", "scipy.stats.gamma.sf(x, 2.0)", {"x": P3}),
    ("dist", "scipy.stats.multivariate_normal.logpdf(x, mu, S)", {"mu": X3, "S": SPD, "x": P3}),
    ("dist", "jax.scipy.stats.multivariate_normal.logpdf(x, mu, S)", {"mu": X3, "S": SPD, "x": P3}),
    ("dist", "scipy.stats.beta.logpdf(x, 2.0, 3.0)", {"x": "[0.2, 0.5, 0.7]"}),
    ("dist", "scipy.stats.t.logpdf(x, 4.0)", {"x": X3}),
    # --- scipy.linalg / jax.scipy.linalg (lang/scipylinalg.py)
    ("linalg", "scipy.linalg.solve(A, b)", {"A": GEN, "b": X3}),
    ("linalg", "scipy.linalg.solve(A, b, assume_a='pos')", {"A": SPD, "b": X3}),
    ("linalg", "scipy.linalg.solve(A, b, assume_a='sym', lower=True)", {"A": SPD, "b": X3}),
    ("linalg", "scipy.linalg.cholesky(A)", {"A": SPD}),
    ("linalg", "scipy.linalg.cholesky(A, lower=True).sum()", {"A": SPD}),
    ("linalg", "scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), b)", {"A": SPD, "b": X3}),
    ("linalg", "scipy.linalg.solve_triangular(A, b, lower=True)", {"A": TRI, "b": X3}),
    ("linalg", "scipy.linalg.solve_triangular(A, b)", {"A": GEN, "b": X3}),
    ("linalg", "scipy.linalg.lu_solve(scipy.linalg.lu_factor(A), b)", {"A": GEN, "b": X3}),
    ("linalg", "scipy.linalg.det(A)", {"A": GEN}),
    ("linalg", "scipy.linalg.inv(A)", {"A": GEN}),
    ("linalg", "scipy.linalg.expm(A).sum()", {"A": "[[0.1, 0.2], [0.3, -0.1]]"}),
    ("linalg", "scipy.linalg.eigvalsh(A)", {"A": SPD}),
    ("linalg", "scipy.linalg.svdvals(A)", {"A": GEN}),
    ("linalg", "scipy.linalg.norm(A)", {"A": GEN}),
    ("linalg", "scipy.linalg.pinv(A)", {"A": "[[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]]"}),
    ("linalg", "scipy.linalg.lstsq(A, b)[0]", {"A": "[[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]]", "b": X3}),
    ("linalg", "scipy.linalg.qr(A, mode='r')[0]", {"A": GEN}),
    ("linalg", "scipy.linalg.toeplitz(c)", {"c": X3}),
    ("linalg", "scipy.linalg.toeplitz(c, r)", {"c": X3, "r": P3}),
    ("linalg", "scipy.linalg.circulant(c) @ c", {"c": X3}),
    ("linalg", "scipy.linalg.hankel(c)", {"c": X3}),
    ("linalg", "scipy.linalg.block_diag(A, B)", {"A": "[[1.0, 2.0]]", "B": "[[3.0], [4.0]]"}),
    ("linalg", "jax.scipy.linalg.solve(A, b)", {"A": GEN, "b": X3}),
    ("linalg", "jax.scipy.linalg.det(A)", {"A": GEN}),
    ("linalg", "jax.scipy.linalg.inv(A)", {"A": GEN}),
    ("linalg", "jax.scipy.linalg.expm(A).sum()", {"A": "[[0.1, 0.2], [0.3, -0.1]]"}),
    ("linalg", "jax.scipy.linalg.lu_solve(jax.scipy.linalg.lu_factor(A), b)", {"A": GEN, "b": X3}),
    ("linalg", "jax.scipy.linalg.eigh(A)[0]", {"A": SPD}),
    ("linalg", "jax.scipy.linalg.cho_solve((L, True), b)", {"L": TRI, "b": X3}),
    ("linalg", "jax.scipy.linalg.solve_triangular(A, b, lower=True)", {"A": TRI, "b": X3}),
    ("linalg", "jax.scipy.linalg.circulant(c)", {"c": X3}),
    # --- nested lists, functions changing lists, plain classes
    ("lists", LISTS, {"x": X3}),
    ("lists", SOFT_DTW, {"x": X3, "y": P3}),
    ("lists", PUSH, {"x": X3}),
    ("lists", FILL, {"x": X3}),
    ("lists", "l = [x[0], x[1]]\nl.append(x[2] ** 2)\nl.insert(0, 2 * x[1])\nl[1] * sum(l)", {"x": X3}),
    ("lists", "R = [[x[0], x[1]], [x[2], 1.0]]\nR[1][1] = R[0][0] * R[1][0]\nR[1][1] + R[0][1]", {"x": X3}),
    ("classes", CLASS, {"w": "2.0", "x": X3}),
    ("classes", KALMAN, {"F": GEN, "x": X3}),
    ("classes", DATACLASS, {"x": X3, "v": P3}),
    # --- value-dependent control flow, masks, selections
    ("by_value", "x if x.sum() > 0 else -x", {"x": X3}),
    ("by_value", IF_PY, {"x": X3}),
    ("by_value", WHILE_PY, {"x": X3}),
    ("by_value", NEWTON, {"a": "2.0"}),
    ("by_value", FOR_INT, {"x": X3}),
    ("by_value", "x[torch.argmax(x)] * x", {"x": X3}),
    ("by_value", "x[x > 0].sum()", {"x": X3}),
    ("by_value", "(x * (x > 0)).sum()", {"x": X3}),
    ("by_value", "torch.where(x > 0, x ** 2, -x)", {"x": X3}),
    ("by_value", "np.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 2, lambda v: v])", {"x": X3}),
    ("by_value", "jax.lax.cond(x.sum() > 0, jnp.sin, jnp.cos, x)", {"x": X3}),
    ("by_value", "jax.lax.switch(jnp.argmax(x), [jnp.sin, jnp.cos, jnp.tanh], x)", {"x": X3}),
    ("by_value", "jax.lax.while_loop(lambda v: jnp.sum(v) < 20, lambda v: v * 2, x)", {"x": P3}),
    ("by_value", "torch.sort(x).values * torch.arange(3.0)", {"x": X3}),
    ("by_value", "np.sort(x)", {"x": X3}),
    ("by_value", "torch.topk(x, 2).values", {"x": X3}),
    ("by_value", "torch.max(x) + torch.min(x)", {"x": X3}),
    ("by_value", "torch.median(x)", {"x": X3}),
    ("by_value", "x[np.nonzero(x > 0)]", {"x": X3}),
    ("by_value", "max(x[0], x[1]) * x[2]", {"x": X3}),
    ("by_value", "x[x.abs().argmax()]", {"x": X3}),
    ("by_value", "torch.cummax(x, 0).values", {"x": X3}),
    ("by_value", "x.clamp(min=0.0).sum() + torch.relu(x).sum()", {"x": X3}),
    ("by_value", "float(x[0]) * x", {"x": X3}),
    ("by_value", "x.detach() * x", {"x": X3}),
    ("by_value", "x.item() * x", {"x": "1.5"}),
    ("by_value", "y = x.clone()\ny[y > 0] = 0.0\n(y * x).sum()", {"x": X3}),
    # ties and kinks, where a formula may not hold at the point
    ("ties", "torch.max(x)", {"x": "[1.0, 1.0, 0.5]"}),
    ("ties", "torch.max(x)", {"x": "[1.0, 1.0, 1.0]"}),
    ("ties", "torch.relu(x)", {"x": "[0.0, 1.0, -1.0]"}),
    ("ties", "x.abs().sum()", {"x": "[0.0, 1.0, -1.0]"}),
    ("ties", "torch.where(x > 0, x ** 2, -x)", {"x": "[0.0, 1.0, -1.0]"}),
    ("ties", "torch.clamp(x, -0.5, 0.5)", {"x": "[0.5, -0.5, 0.0]"}),
    ("ties", "np.maximum(x, y)", {"x": "[0.5, 1.0]", "y": "[0.5, 0.0]"}),
    ("ties", TD + "Laplace(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": "[0.3, 1.0]"}),
    ("ties", "scipy.spatial.distance.pdist(X, 'cityblock')", {"X": "[[0.0, 1.0], [0.0, 2.0], [1.0, 3.0]]"}),
    ("ties", "scipy.spatial.distance.pdist(X, 'chebyshev')", {"X": "[[0.0, 0.0], [1.0, 1.0], [1.0, 3.0]]"}),
    ("ties", "scipy.spatial.distance.cdist(X, Y)", {"X": "[[0.0, 1.0], [2.0, 0.5]]", "Y": "[[0.0, 1.0], [0.5, 0.5]]"}),
    ("ties", "np.lib.stride_tricks.sliding_window_view(x, 2).max(axis=1)", {"x": "[1.0, 1.0, 0.5]"}),
    ("ties", "torch.cummax(x, 0).values", {"x": "[1.0, 1.0, 0.5]"}),
    ("ties", "np.sqrt(x)", {"x": "[0.0, 1.0]"}),
    # --- spectral functions at repeated eigenvalues
    ("spectral", "torch.linalg.eigvalsh(A).sum()", {"A": "eye(3)"}),
    ("spectral", "(torch.linalg.eigvalsh(A) ** 2).sum()", {"A": "eye(3)"}),
    ("spectral", "torch.linalg.eigvalsh(A)", {"A": SPD}),
    ("spectral", "torch.linalg.svdvals(A).sum()", {"A": "eye(3)"}),
    ("spectral", "torch.linalg.matrix_norm(A, 'nuc')", {"A": GEN}),
    ("spectral", "torch.linalg.matrix_norm(A, 2)", {"A": GEN}),
    ("spectral", "torch.linalg.eigvalsh(A)[2]", {"A": "[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]"}),
    # --- scipy.spatial.distance, sliding_window_view, polyval, quadrature, integrate
    ("spatial", "scipy.spatial.distance.pdist(X)", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.pdist(X)", {"X": "[[0.0, 1.0], [0.0, 1.0], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.pdist(X, 'sqeuclidean')", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.pdist(X, 'cityblock')", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.pdist(X, 'chebyshev')", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.pdist(X, 'minkowski', p=3)", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.pdist(X, 'cosine')", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.cdist(X, Y)", {"X": "[[0.0, 1.0], [2.0, 0.5]]", "Y": "[[1.0, 3.0], [0.5, 0.5]]"}),
    ("spatial", "scipy.spatial.distance.squareform(scipy.spatial.distance.pdist(X))",
     {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("spatial", "scipy.spatial.distance.squareform(D)", {"D": "[[0.0, 1.0], [1.0, 0.0]]"}),
    ("windows", "np.lib.stride_tricks.sliding_window_view(x, 2).sum(axis=1)", {"x": X3}),
    ("windows", "np.lib.stride_tricks.sliding_window_view(x, 2).max(axis=1)", {"x": X3}),
    ("windows", "np.lib.stride_tricks.sliding_window_view(A, (2, 2)).prod(axis=(2, 3))", {"A": GEN}),
    ("poly", "np.polynomial.polynomial.polyval(x, c)", {"x": X3, "c": P3}),
    ("poly", "np.polyval(c, x)", {"x": X3, "c": P3}),
    ("poly", QUAD, {"a": "1.3"}),
    ("integrate", "scipy.integrate.trapezoid(y, x)", {"y": X3, "x": P3}),
    ("integrate", "scipy.integrate.trapezoid(y, dx=0.5) * y[0]", {"y": X3}),
    ("integrate", "scipy.integrate.cumulative_trapezoid(y)", {"y": X3}),
    ("integrate", "scipy.integrate.cumulative_trapezoid(y, x, initial=0)", {"y": X3, "x": P3}),
    # --- custom rules, derivatives in the text
    ("custom", CUSTOM_EXP, {"x": X3}),
    ("custom", CUSTOM_STE, {"x": X3}),
    ("custom", CUSTOM_CLIP, {"x": X3}),
    ("custom", JAX_CUSTOM_VJP, {"x": X3}),
    ("custom", JAX_CUSTOM_JVP, {"x": X3}),
    ("custom", "jax.grad(lambda v: jnp.sum(v ** 3))(x)", {"x": X3}),
    ("custom", "jax.lax.stop_gradient(x) * x", {"x": X3}),
    ("custom", "torch.func.grad(lambda v: (v.sin() * v).sum())(x)", {"x": X3}),
]


class _Late(Exception):
    pass


def _alarm(*_):
    raise _Late()


def _bounded(fn):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        return fn()
    finally:
        signal.alarm(0)


def close(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size != b.size:
        return False
    a = a.reshape(b.shape)
    finite = np.isfinite(b)
    scale = max(1.0, float(np.max(np.abs(b[finite]), initial=0.0)))
    with np.errstate(invalid="ignore"):
        return bool(np.allclose(a, b, rtol=RTOL, atol=RTOL * scale, equal_nan=True))


def differs(a, b) -> str:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size != b.size:
        return f"shape {a.shape} vs numeric {b.shape}"
    a = a.reshape(b.shape)
    with np.errstate(invalid="ignore"):
        bad = ~np.isclose(a, b, rtol=RTOL, atol=RTOL, equal_nan=True)
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else ()
    return f"at {idx}: {a[idx]!r} vs numeric {b[idx]!r}"


def _crash(err) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1]
    return f"{type(err).__name__}: {err} ({os.path.basename(where.filename)}:{where.lineno})"


def numeric(text, values):
    """(the numeric Jacobians, by_value) or (None, why jac eval refuses)."""
    try:
        problem = api.prepare(text, values)
        jac = api.jacobian(text, values)
    except JacError as err:
        return None, err.message
    return jac, bool(problem.graph.by_value)


def probe_eval(text, values, jac, by_value):
    """jac eval --symbolic: (kind, detail)."""
    try:
        result = _bounded(lambda: report.eval_report(text, values, symbolic=True, timeout=None))
    except JacError as err:
        return "REFUSED-CLEARLY", err.message
    except _Late:
        return "HANG", f"over {SECONDS} s"
    except Exception as err:  # noqa: BLE001
        return "CRASH", _crash(err)
    problem = api.prepare(text, values)
    formulas = result.formulas or {}
    kinds = []
    leaves = {n: symbolic.component_symbols(n, np.shape(problem.env[n])) for n in problem.env}
    y = formulas.get("output")
    if y is not None:  # the output's formula against the value printed above it
        note = result.data["output"].get("note") or ""
        try:
            got = symbolic.evaluate_components(np.asarray(y.tolist() if hasattr(y, "tolist") else y, dtype=object)
                                               .reshape(np.shape(problem.output)), leaves, problem.env)
            if not close(got, problem.output):
                kinds.append(("NOTED" if note else "WRONG", f"output: {differs(got, problem.output)}; note {note}"))
            elif by_value and "branch" not in note:
                kinds.append(("BRANCH", "output: formula shown with no note of the branch taken"))
        except Exception as err:  # noqa: BLE001
            kinds.append(("CRASH", f"output: evaluating: {_crash(err)}"))
    for name, j in jac.items():
        block = result.data["jacobian"][name]
        f = formulas.get(name)
        if f is None or isinstance(f, str):
            kinds.append(("REFUSED-CLEARLY", f"{name}: {block.get('note')}"))
            continue
        try:
            got = symbolic.evaluate_components(np.asarray(f.tolist() if hasattr(f, "tolist") else f, dtype=object)
                                               .reshape(np.shape(j)), leaves, problem.env)
        except Exception as err:  # noqa: BLE001
            kinds.append(("CRASH", f"{name}: evaluating: {_crash(err)}"))
            continue
        note = block.get("note") or ""
        if not close(got, j):
            kinds.append(("NOTED" if "does not hold" in note else "WRONG", f"{name}: {differs(got, j)}; note {note}"))
        elif by_value and "branch" not in note:
            kinds.append(("BRANCH", f"{name}: formula shown with no note of the branch taken"))
        elif by_value:
            kinds.append(("NOTED", f"{name}: {block['note']}"))
        else:
            kinds.append(("AGREE", name))
    return _worst(kinds)


ORDER = ["CRASH", "HANG", "WRONG", "BRANCH", "NOTED", "REFUSED-CLEARLY", "AGREE"]


def _worst(kinds):
    if not kinds:
        return "AGREE", ""
    kinds.sort(key=lambda k: ORDER.index(k[0]))
    return kinds[0]


def probe_diff(text, values, jac):
    """jac diff with the values as bindings: (kind, detail)."""
    raw = {}
    original = symbolic._check_at_point

    def spy(d, g, name, *args):
        raw[name] = None if d.value is None else np.array(d.value, dtype=np.float64)
        original(d, g, name, *args)

    try:
        with mock.patch.object(symbolic, "_check_at_point", spy):
            result = _bounded(lambda: symbolic.differentiate(text, values))
    except JacError as err:
        return "REFUSED-CLEARLY", err.message
    except _Late:
        return "HANG", f"over {SECONDS} s"
    except Exception as err:  # noqa: BLE001
        return "CRASH", _crash(err)
    kinds = []
    for name, j in jac.items():
        d = result.derivatives.get(name)
        if d is None:
            kinds.append(("WRONG", f"{name}: no derivative"))
            continue
        if d.value is None:
            kinds.append(("WRONG", f"{name}: no value at the point"))
            continue
        if not close(d.value, j):
            kinds.append(("WRONG", f"{name}: shown {differs(d.value, j)}"))
        elif raw.get(name) is not None and not close(raw[name], j):
            kinds.append(("NOTED" if d.note else "WRONG", f"{name}: formula {differs(raw[name], j)}; note {d.note}"))
        else:
            kinds.append(("AGREE", name))
    return _worst(kinds)


def probe_cli(text, values, timeout=20):
    """Both commands in a process: (kind, detail) of the worse."""
    bindings = [f"{k}={v}" for k, v in values.items()]
    out = []
    for cmd in (["diff", text, *bindings], ["eval", "--symbolic", text, *bindings]):
        argv = [sys.executable, "-m", "jacobi_cli", *cmd, "--json", "--timeout", str(timeout)]
        start = time.monotonic()
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 30,
                               env={**os.environ, "PYTHONPATH": ROOT})
        except subprocess.TimeoutExpired:
            out.append(("CLI-HANG", f"{cmd[0]}: past --timeout {timeout} + 30 s"))
            continue
        took = time.monotonic() - start
        if "Traceback" in p.stderr or p.returncode not in (0, 2):
            out.append(("CLI-CRASH", f"{cmd[0]}: exit {p.returncode}: {p.stderr.strip()[-300:]}"))
        elif p.returncode == 2 and "error" not in json.loads(p.stdout or "{}"):
            out.append(("CLI-CRASH", f"{cmd[0]}: exit 2 without a JSON error"))
        else:
            out.append(("CLI-OK", f"{cmd[0]}: exit {p.returncode} in {took:.1f} s"))
    out.sort(key=lambda k: ["CLI-CRASH", "CLI-HANG", "CLI-OK"].index(k[0]))
    return out[0]


# texts whose symbolic work is long: ``--timeout 2`` must stop them with a limit error (exit 2) soon after
SLOW = [
    ("diff", "scipy.linalg.det(A) * scipy.linalg.inv(A).sum()", ["A:5x5"]),
    ("diff", "cumsum(scipy.linalg.inv(A), 0)", ["A:5x5"]),
    ("diff", "scipy.linalg.solve(A, b).sum()", ["A:5x5", "b:5"]),
    ("diff", TD + "MultivariateNormal(mu, covariance_matrix=S).log_prob(x)", ["mu:5", "S:5x5", "x:5"]),
    ("eval", "torch.det(A) * torch.inverse(A).sum()", ["A=rand(5, 5)"]),
]


def probe_slow(cmd, text, bindings, timeout=2):
    """(kind, detail): CLI-LIMIT (exit 2, a limit error, within the timeout and start-up), CLI-OK (done in time),
    CLI-HANG, CLI-CRASH."""
    argv = [sys.executable, "-m", "jacobi_cli", cmd, *(["--symbolic"] if cmd == "eval" else []), text, *bindings,
            "--json", "--timeout", str(timeout)]
    start = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 60,
                           env={**os.environ, "PYTHONPATH": ROOT})
    except subprocess.TimeoutExpired:
        return "CLI-HANG", f"past --timeout {timeout} + 60 s"
    took = time.monotonic() - start
    if "Traceback" in p.stderr or p.returncode not in (0, 2):
        return "CLI-CRASH", f"exit {p.returncode}: {p.stderr.strip()[-300:]}"
    if p.returncode == 2:
        kind = json.loads(p.stdout)["error"]["kind"]
        return ("CLI-LIMIT" if kind == "limit" else "CLI-REFUSED"), f"{kind} after {took:.1f} s"
    return "CLI-OK", f"answered in {took:.1f} s"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("--cli", action="store_true")
    ap.add_argument("--cli-every", type=int, default=1, help="run every K-th text through the command line")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    tally = {"eval": Counter(), "diff": Counter(), "cli": Counter()}
    families = Counter()
    start = time.monotonic()
    for family, text, values in CASES:
        label = f"[{family}] {text.strip().splitlines()[-1][:70]!r} {values}"
        if args.k and args.k not in text and args.k != family:
            continue
        families[family] += 1
        jac, by_value = numeric(text, values)
        if jac is None:
            tally["eval"]["numeric-refused"] += 1
            tally["diff"]["numeric-refused"] += 1
            print(f"numeric-refused {label}: {by_value[:150]}")
            continue
        if not isinstance(jac, dict) or any(isinstance(v, dict) for v in jac.values()):
            print(f"skip (several outputs) {label}")
            continue
        rows = [("eval", *probe_eval(text, values, jac, by_value)), ("diff", *probe_diff(text, values, jac))]
        if args.cli and (sum(families.values()) - 1) % args.cli_every == 0:
            rows.append(("cli", *probe_cli(text, values)))
        for path, kind, detail in rows:
            tally[path][kind] += 1
            if kind not in ("AGREE", "CLI-OK") or args.verbose:
                print(f"{path:4} {kind:15} {label}: {str(detail)[:300]}")
    if args.cli:
        for cmd, text, bindings in SLOW:
            kind, detail = probe_slow(cmd, text, bindings)
            tally["cli"][kind] += 1
            print(f"slow {kind:15} jac {cmd} {text!r} {bindings}: {detail}")
    print()
    print(f"{sum(families.values())} texts ({dict(families)}) in {time.monotonic() - start:.0f} s")
    for path, counts in tally.items():
        if counts:
            print(f"{path:4}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
