"""The h32 probe of the symbolic path against the numeric one, for the vocabulary added since session 14.

    PYTHONPATH=. /work/venv/bin/python benchmarks/symbolic32_probe.py [-k SUBSTRING] [--part ops|names|cli|all]
                                                                      [--verbose]

Three parts:

- **ops**: every op of the registry (``ir/ops.py`` ``OPS``) on the first two cases of its table in
  ``tests/test_ops.py``, at two random points of its domain (``_draw``) and at edge points: zeros (where the domain
  holds 0), ties (every argument the same constant: ties inside a reduction and between two arguments), and for an
  element-wise op a grid of round numbers (-3 ... 3, where piecewise ops have their kinks), each argument with its
  own arrangement of it and all of them the same one (ties at each). At each point: ``jac eval --symbolic``'s
  formulas (:func:`symbolic.jacobian_components`, evaluated by :func:`symbolic.evaluate_components`), ``jac diff``'s
  (:func:`symbolic.differentiate_graph` at the point: the formula's own value, taken before the check at ``--at``,
  and the value it shows with its note), jac's numeric Jacobian as ``jac eval`` plans it
  (``symbolic._automatic_at``) and central differences with one-sided slopes (step 1e-6).
- **names**: user-facing names that lower onto several ops (``NAMES``: ``scipy.special``, ``jax.lax``, losses,
  norms, pooling, scans, where / select forms, integer ops, Python's math, closures, loops) through
  :func:`symbolic.differentiate` (``jac diff --at``) against :func:`api.jacobian` and central differences, at random
  points and at the edge points written beside each.
- **cli**: a sample of both through the command line (``jac diff --json --at``, ``jac eval --symbolic --json``):
  the exit code (0, 1 or 2), no traceback, and the derivative's ``shape`` / ``math_shape`` as ``jac eval``'s.

Each (case, point) is ``agree``; ``refused`` (a JacError of the symbolic path, listed with its message once per
case); ``noted`` (the formula does not hold at that point, and ``jac diff --at`` says so and shows the numeric
value); ``WRONG`` (the formula's value, or the value shown, is another number than jac's numeric Jacobian with no
word: at an edge point the symbolic path picked the other one-sided choice); ``known`` (such a difference left on
purpose: ``KNOWN_TIES``); ``crash`` (anything but a JacError).
``numeric-refused`` where ``jac eval`` itself refuses the point (nothing to compare), and ``fd`` flags where jac's
numeric Jacobian and central differences differ at a point where the function is smooth (a defect of the numeric
side, reported apart). Prints every line that is not ``agree`` and the tally.
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
import warnings
from collections import Counter
from unittest import mock

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import test_ops as TO  # noqa: E402
import test_symbolic  # noqa: E402,F401 - its additions to the op tables (MASK_CASES)

from jacobi_cli.engine import autodiff  # noqa: E402
from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.ir import shapes as shapes_mod  # noqa: E402
from jacobi_cli.ir.ops import OPS  # noqa: E402
from jacobi_cli.tools import api, symbolic  # noqa: E402

RTOL = 1e-7
GRID = np.array([-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0])
SECONDS = 40  # one (case, point) at most

# --- user-facing names lowering onto several ops: (expr, {name: shape}, domain, [edge points {name: value}])
NAMES = [
    # scipy.special / jax.scipy.special (lang/specials29.py, lang/scipynames.py)
    ("scipy.special.expit(x) * scipy.special.log_ndtr(x)", {"x": (3,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0]}]),
    ("scipy.special.xlogy(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 2.0], "y": [1.0, 1.0, 2.0]}]),
    ("scipy.special.xlog1py(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.0]}]),
    ("scipy.special.entr(x)", {"x": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 0.5]}]),
    ("scipy.special.rel_entr(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 0.5], "y": [1.0, 1.0, 0.5]}]),
    ("scipy.special.kl_div(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 0.5], "y": [1.0, 1.0, 0.5]}]),
    ("scipy.special.huber(d, x)", {"d": (), "x": (3,)}, (0.2, 2), [{"d": 1.0, "x": [1.0, -1.0, 0.0]}]),
    ("scipy.special.pseudo_huber(d, x)", {"d": (), "x": (3,)}, (0.2, 2), [{"d": 1.0, "x": [1.0, -1.0, 0.0]}]),
    ("scipy.special.logsumexp(x)", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.5]}]),
    ("scipy.special.softmax(x)", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.5]}]),
    ("scipy.special.boxcox(x, 0.5)", {"x": (3,)}, (0.2, 2), [{"x": [1.0, 0.5, 2.0]}]),
    ("scipy.special.boxcox1p(x, l)", {"x": (3,), "l": ()}, (0.2, 1), [{"x": [1.0, 0.5, 2.0], "l": 0.0}]),
    ("scipy.special.exprel(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("scipy.special.sinc(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("scipy.special.cosm1(x) + scipy.special.expm1(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("scipy.special.cbrt(x)", {"x": (3,)}, (0.2, 2), [{"x": [1.0, -1.0, 8.0]}]),
    ("scipy.special.erfcinv(x)", {"x": (3,)}, (0.2, 1.8), [{"x": [1.0, 0.5, 1.5]}]),
    ("scipy.special.ndtr(x) + scipy.special.ndtri(y)", {"x": (3,), "y": (3,)}, (0.2, 0.8), [{"x": [0.0, 0.5, 0.5], "y": [0.5, 0.5, 0.5]}]),
    ("scipy.special.i0e(x) + scipy.special.i1e(x)", {"x": (3,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0]}]),
    ("scipy.special.spherical_jn(1, x)", {"x": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 2.0]}]),
    ("scipy.special.jv(1.5, x)", {"x": (3,)}, (0.2, 2), [{"x": [1.0, 1.0, 2.0]}]),
    ("scipy.special.gammaln(x) + scipy.special.psi(x)", {"x": (3,)}, (0.2, 2), [{"x": [1.0, 1.0, 2.0]}]),
    ("scipy.special.sindg(x) * scipy.special.cosdg(x)", {"x": (3,)}, (-90, 90), [{"x": [0.0, 90.0, 45.0]}]),
    ("scipy.special.log_expit(x)", {"x": (3,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0]}]),
    ("scipy.special.logit(x)", {"x": (3,)}, (0.2, 0.8), [{"x": [0.5, 0.5, 0.25]}]),
    ("jax.scipy.special.xlogy(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 2.0], "y": [1.0, 1.0, 2.0]}]),
    ("jax.scipy.special.entr(x)", {"x": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 0.5]}]),
    # jax.lax
    ("jax.lax.clamp(-0.5, x, 0.5)", {"x": (4,)}, (-1, 1), [{"x": [-0.5, 0.5, 0.0, 1.0]}]),
    ("jax.lax.max(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("jax.lax.min(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("jax.lax.abs(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.lax.sign(x) * x", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.lax.rsqrt(x) + jax.lax.cbrt(x)", {"x": (3,)}, (0.2, 2), [{"x": [1.0, 1.0, 8.0]}]),
    ("jax.lax.select(x > y, x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("jax.lax.integer_pow(x, 3)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.lax.logistic(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.lax.reduce_max(x, (0,))", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.0]}]),
    ("jax.lax.cummax(x)", {"x": (4,)}, (-1, 1), [{"x": [0.5, 0.2, 0.7, 0.1]}]),
    ("jax.lax.cumsum(x) * jax.lax.cumprod(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, 2.0]}]),
    ("jax.nn.relu6(x)", {"x": (4,)}, (-1, 7), [{"x": [0.0, 6.0, 3.0, -1.0]}]),
    ("jax.nn.hard_tanh(x)", {"x": (4,)}, (-2, 2), [{"x": [-1.0, 1.0, 0.0, 2.0]}]),
    ("jax.nn.celu(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.nn.squareplus(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.nn.sparse_plus(x)", {"x": (4,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0, 2.0]}]),
    ("jax.nn.sparse_sigmoid(x)", {"x": (4,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0, 2.0]}]),
    ("jax.nn.hard_silu(x)", {"x": (4,)}, (-4, 4), [{"x": [0.0, 3.0, -3.0, 1.0]}]),
    ("jax.nn.glu(x)", {"x": (4,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0, 0.0]}]),
    ("jax.nn.log_sigmoid(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jnp.heaviside(x, 0.5) * x", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    # torch / F: losses, norms, pooling, activations
    ("F.relu6(x)", {"x": (4,)}, (-1, 7), [{"x": [0.0, 6.0, 3.0, -1.0]}]),
    ("F.hardtanh(x)", {"x": (4,)}, (-2, 2), [{"x": [-1.0, 1.0, 0.0, 2.0]}]),
    ("F.hardsigmoid(x)", {"x": (4,)}, (-4, 4), [{"x": [-3.0, 3.0, 0.0, 1.0]}]),
    ("F.hardswish(x)", {"x": (4,)}, (-4, 4), [{"x": [-3.0, 3.0, 0.0, 1.0]}]),
    ("F.hardshrink(x, 0.5)", {"x": (4,)}, (-1, 1), [{"x": [-0.5, 0.5, 0.0, 1.0]}]),
    ("F.softshrink(x, 0.5)", {"x": (4,)}, (-1, 1), [{"x": [-0.5, 0.5, 0.0, 1.0]}]),
    ("F.threshold(x, 0.5, -1.0)", {"x": (4,)}, (-1, 1), [{"x": [-0.5, 0.5, 0.0, 1.0]}]),
    ("F.rrelu(x, training=False)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("F.selu(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("F.elu(x, alpha=0.5)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("F.celu(x, alpha=2.0)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("F.leaky_relu(x, 0.2)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("F.softplus(x, beta=2, threshold=1)", {"x": (3,)}, (-1, 1), [{"x": [0.5, 1.0, -1.0]}]),
    ("F.prelu(x, w)", {"x": (3,), "w": (1,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0], "w": [0.25]}]),
    ("F.l1_loss(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("F.smooth_l1_loss(x, y, beta=0.5)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("F.huber_loss(x, y, delta=0.5)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("F.hinge_embedding_loss(x, y)", {"x": (3,)}, (-1, 1), [{"x": [1.0, 0.0, 0.5]}], ),
    ("F.margin_ranking_loss(x, y, torch.tensor([1.0, -1.0, 1.0]))", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("F.soft_margin_loss(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.0, 0.0, 1.0], "y": [1.0, -1.0, 1.0]}]),
    ("F.poisson_nll_loss(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 1.0], "y": [0.0, 1.0, 1.0]}]),
    ("F.gaussian_nll_loss(x, y, v)", {"x": (3,), "y": (3,), "v": (3,)}, (0.2, 2), [{"x": [0.5, 1.0, 1.0], "y": [0.5, 1.0, 1.0], "v": [1.0, 1.0, 1.0]}]),
    ("F.cosine_embedding_loss(x, y, torch.tensor([1.0, -1.0]))", {"x": (2, 3), "y": (2, 3)}, (-1, 1), []),
    ("F.triplet_margin_loss(a, p, n)", {"a": (2, 3), "p": (2, 3), "n": (2, 3)}, (-1, 1), []),
    ("F.multi_margin_loss(x, torch.tensor([0, 2]))", {"x": (2, 3)}, (-1, 1), [{"x": [[0.5, 0.5, 0.5], [0.0, 1.0, 0.0]]}]),
    ("F.multilabel_soft_margin_loss(x, torch.tensor([[1.0, 0.0, 1.0]]))", {"x": (1, 3)}, (-1, 1), [{"x": [[0.0, 0.0, 0.0]]}]),
    ("F.nll_loss(x, torch.tensor([0, 2]))", {"x": (2, 3)}, (-1, 1), []),
    ("F.cross_entropy(x, torch.tensor([0, 2]), label_smoothing=0.1)", {"x": (2, 3)}, (-1, 1), [{"x": [[0.5, 0.5, 0.5], [0.0, 0.0, 0.0]]}]),
    ("torch.linalg.vector_norm(x, 1)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.linalg.vector_norm(x, float('inf'))", {"x": (3,)}, (-1, 1), [{"x": [1.0, -1.0, 0.5]}]),
    ("torch.linalg.vector_norm(x, float('-inf'))", {"x": (3,)}, (-1, 1), [{"x": [0.5, -0.5, 1.0]}]),
    ("torch.linalg.vector_norm(x, 0.5)", {"x": (3,)}, (-1, 1), [{"x": [0.5, -0.5, 1.0]}]),
    ("torch.linalg.matrix_norm(A, 1)", {"A": (2, 2)}, (-1, 1), [{"A": [[1.0, 0.5], [-1.0, 0.5]]}]),
    ("torch.linalg.matrix_norm(A, float('inf'))", {"A": (2, 2)}, (-1, 1), [{"A": [[1.0, 1.0], [-1.0, 1.0]]}]),
    ("torch.norm(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("F.normalize(x, dim=0)", {"x": (3,)}, (-1, 1), []),
    ("F.max_pool1d(x[None], 2)", {"x": (4,)}, (-1, 1), [{"x": [0.5, 0.5, 0.1, 0.1]}]),
    ("F.avg_pool1d(x[None], 2)", {"x": (4,)}, (-1, 1), []),
    ("F.lp_pool1d(x[None], 2.0, 2)", {"x": (4,)}, (0.2, 1), []),
    ("F.adaptive_max_pool1d(x[None], 2)", {"x": (4,)}, (-1, 1), [{"x": [0.5, 0.5, 0.1, 0.1]}]),
    ("torch.amax(A, 1)", {"A": (2, 3)}, (-1, 1), [{"A": [[0.5, 0.5, 0.1], [0.1, 0.2, 0.2]]}]),
    ("torch.max(x)", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.1]}]),
    ("torch.max(A, 1).values", {"A": (2, 3)}, (-1, 1), [{"A": [[0.5, 0.5, 0.1], [0.1, 0.2, 0.2]]}]),
    ("torch.median(x)", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.1]}]),
    ("torch.sort(x).values * torch.arange(3.0)", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.1]}]),
    ("torch.topk(x, 2).values", {"x": (3,)}, (-1, 1), [{"x": [0.5, 0.5, 0.1]}]),
    ("torch.cummax(x, 0).values", {"x": (4,)}, (-1, 1), [{"x": [0.5, 0.2, 0.5, 0.1]}]),
    ("torch.cummin(x, 0).values", {"x": (4,)}, (-1, 1), [{"x": [0.5, 0.7, 0.5, 0.6]}]),
    ("torch.logcumsumexp(x, 0)", {"x": (3,)}, (-1, 1), []),
    ("torch.clamp(x, min=0.1, max=0.5)", {"x": (4,)}, (-1, 1), [{"x": [0.1, 0.5, 0.3, 1.0]}]),
    ("torch.clamp(x, min=y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("torch.clamp(x, max=y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("torch.clamp(x, y, z)", {"x": (3,), "y": (3,), "z": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0], "z": [0.6, 0.0, -1.0]}]),
    ("np.clip(x, y, z)", {"x": (3,), "y": (3,), "z": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0], "z": [0.6, 0.0, -1.0]}]),
    ("torch.maximum(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("np.fmax(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("np.fmin(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("torch.abs(x) + torch.sign(x) * x", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.sgn(x) * x ** 2", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.copysign(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0], "y": [1.0, -1.0, 0.0]}]),
    ("np.heaviside(x, 0.5) * x ** 2", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    # where / select forms
    ("torch.where(x > y, x * y, x - y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("np.where(x >= 0, x, 0.1 * x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("np.select([x < 0, x < 0.5], [x ** 2, 2 * x], x)", {"x": (4,)}, (-1, 1), [{"x": [0.0, 0.5, -1.0, 1.0]}]),
    ("np.piecewise(x, [x < 0, x >= 0], [lambda t: -t, lambda t: t ** 2])", {"x": (3,)}, (-1, 1), [{"x": [0.0, 0.5, -1.0]}]),
    ("jnp.where(x > 0, jnp.sqrt(jnp.abs(x)), x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 0.5, -1.0]}]),
    ("torch.masked_fill(x, x < 0, 0.0)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 0.5, -1.0]}]),
    # integer ops, rounding, remainders
    ("x * torch.floor(x) + torch.round(x)", {"x": (3,)}, (-2, 2), [{"x": [0.0, 0.5, 1.0]}]),
    ("torch.remainder(x, 0.7)", {"x": (3,)}, (-2, 2), [{"x": [0.0, 0.7, 1.4]}]),
    ("torch.fmod(x, y)", {"x": (3,), "y": (3,)}, (0.5, 2), [{"x": [1.0, 0.5, 2.0], "y": [0.5, 1.0, 1.0]}]),
    ("x // 0.3 * x", {"x": (3,)}, (-2, 2), [{"x": [0.0, 0.3, 0.6]}]),
    ("(x > 0).sum() * x", {"x": (3,)}, (-1, 1), [{"x": [0.0, 0.5, -1.0]}]),
    ("x * x.long()", {"x": (3,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.frac(x) * x", {"x": (3,)}, (-2, 2), [{"x": [0.0, 1.0, -1.0]}]),
    # Python's math (lang/pymath.py), closures, loops
    ("import math\nmath.exp(s) * math.sin(s) + math.hypot(s, 2.0)", {"s": ()}, (-1, 1), [{"s": 0.0}]),
    ("import math\nmath.fabs(s) + math.copysign(s, -1.0)", {"s": ()}, (-1, 1), [{"s": 0.0}]),
    ("import math\nmath.erf(s) + math.lgamma(s + 2) + math.atan2(s, 1.0)", {"s": ()}, (-1, 1), [{"s": 0.0}]),
    ("import math\nmax(s, 0.5) + min(s, t)", {"s": (), "t": ()}, (-1, 1), [{"s": 0.5, "t": 0.5}]),
    ("abs(s) + math.sqrt(s * s + 1)" if False else "abs(s) + s ** 2", {"s": ()}, (-1, 1), [{"s": 0.0}]),
    ("def f(v):\n    return torch.relu(v) * w\nf(x).sum()", {"x": (3,), "w": ()}, (-1, 1), [{"x": [0.0, 1.0, -1.0], "w": 2.0}]),
    ("k = 2.0\ng = lambda v: torch.clamp(v * k, -1, 1)\ng(x)", {"x": (3,)}, (-1, 1), [{"x": [0.5, -0.5, 0.0]}]),
    ("y = x\nfor i in range(3):\n    y = torch.maximum(y, x * i / 2)\ny", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("y = x\nwhile y.shape[0] < 6:\n    y = torch.cat([y, torch.abs(x)])\ny.sum()", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.lax.fori_loop(0, 3, lambda i, c: jnp.maximum(c, 0.1) * 1.5, x)", {"x": (3,)}, (-1, 1), [{"x": [0.1, 1.0, -1.0]}]),
    ("jax.lax.scan(lambda c, v: (c + jnp.abs(v), c * v), 0.0, x)[1]", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("jax.lax.associative_scan(jnp.maximum, x)", {"x": (4,)}, (-1, 1), [{"x": [0.5, 0.2, 0.7, 0.1]}]),
    ("jax.lax.cond(True, lambda v: jnp.abs(v), lambda v: v, x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.special.xlogy(x, y) + torch.special.xlog1py(x, y)", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 0.0, 1.0], "y": [0.0, 1.0, 1.0]}]),
    ("torch.special.entr(x)", {"x": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 0.5]}]),
    ("torch.special.sinc(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.special.logit(x, eps=0.1)", {"x": (4,)}, (0.05, 0.95), [{"x": [0.1, 0.9, 0.5, 0.05]}]),
    ("torch.nan_to_num(torch.log(x))", {"x": (3,)}, (0.2, 2), []),
    ("torch.hypot(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.0, 1.0, 0.0], "y": [1.0, 0.0, 0.0]}]),
    ("torch.atan2(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0], "y": [1.0, 0.0, -1.0]}]),
    ("torch.logaddexp(x, y)", {"x": (3,), "y": (3,)}, (-1, 1), [{"x": [0.5, 0.0, 1.0], "y": [0.5, 0.0, -1.0]}]),
    ("torch.nn.functional.gelu(x)", {"x": (3,)}, (-1, 1), [{"x": [0.0, 1.0, -1.0]}]),
    ("torch.sqrt(x)", {"x": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 4.0]}]),
    ("torch.pow(x, 0.5)", {"x": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 4.0]}]),
    ("x ** y", {"x": (3,), "y": (3,)}, (0.2, 2), [{"x": [0.0, 1.0, 0.0], "y": [2.0, 0.0, 0.5]}]),
    ("torch.special.i0(x) * torch.special.ndtri(y)", {"x": (3,), "y": (3,)}, (0.2, 0.8), []),
]


# the max / min reductions at a tie of three or more: the formula's θ(x[i] - max(the others)) is 1/2 at every
# tied element (right for two), PyTorch and jac eval split the gradient, 1/k each; no Heaviside convention gives
# 1/k, and jac diff --at shows jac eval's value with a note there (docs/symbolic.md, "Values")
KNOWN_TIES = {"max", "min"}


class _Late(Exception):
    pass


def _alarm(*_):
    raise _Late()


def _bounded(fn):
    """``fn()`` stopped after SECONDS (a _Late)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        return fn()
    finally:
        signal.alarm(0)


def close(a, b, rtol=RTOL) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size != b.size:
        return False
    a = a.reshape(b.shape)
    finite = np.isfinite(b)
    scale = max(1.0, float(np.max(np.abs(b[finite]), initial=0.0)))
    with np.errstate(invalid="ignore"):
        return bool(np.allclose(a, b, rtol=rtol, atol=1e-9 * scale, equal_nan=True))


def where_differs(a, b) -> str:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size != b.size:
        return f"shape {a.shape} vs {b.shape}"
    a = a.reshape(b.shape)
    with np.errstate(invalid="ignore"):
        bad = ~np.isclose(a, b, rtol=RTOL, atol=1e-9, equal_nan=True)
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else ()
    return f"at {idx}: {a[idx]!r} vs numeric {b[idx]!r}"


def smooth_fd(f, x):
    """(central estimate, kinked?) of df/dx at x (shape ``f(x).shape + x.shape``): kinked where the one-sided
    slopes at a step of 1e-6 differ by more than 1e-3."""
    x = np.asarray(x, dtype=np.float64)
    y0 = np.asarray(f(x), dtype=np.float64)
    est = np.zeros(y0.shape + x.shape)
    kink = False
    for idx in np.ndindex(*x.shape):
        h = 1e-6 * max(1.0, abs(float(x[idx])))
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        fu, fdn = np.asarray(f(up), dtype=np.float64), np.asarray(f(down), dtype=np.float64)
        est[(Ellipsis,) + idx] = (fu - fdn) / (2 * h)
        left, right = (y0 - fdn) / h, (fu - y0) / h
        with np.errstate(invalid="ignore"):
            kink = kink or bool(np.any(np.abs(left - right) > 1e-3 * np.maximum(1.0, np.abs(left))))
    return est, kink


# --- part 1: the registry op by op ----------------------------------------------------------------------------

def _is_float_arg(shape) -> bool:
    return not isinstance(shape, str) or shape in ("square", "spd")


def op_points(op, shapes, rng_seed: int):
    """[(label, arrays)]: two random points, then the edge points."""
    out = []
    for seed in (rng_seed, rng_seed + 1):
        rng = np.random.default_rng(seed)
        out.append((f"random{seed}", [np.asarray(TO._draw(op, s, rng), dtype=np.float64) for s in shapes]))
    base = out[0][1]
    lo, hi = op.domain
    floats = [k for k, s in enumerate(shapes) if _is_float_arg(s)]
    if not floats:
        return out
    if lo <= 0 <= hi:
        out.append(("zeros", [np.zeros_like(a) if k in floats else a for k, a in enumerate(base)]))
    c = 0.5 if lo <= 0.5 <= hi else round((lo + hi) / 2, 1)
    out.append((f"ties({c})", [np.full_like(a, c) if k in floats else a for k, a in enumerate(base)]))
    if op.elementwise:
        grid = GRID[(GRID >= lo) & (GRID <= hi)]
        if grid.size:
            mixed = [np.resize(np.roll(grid, 2 * k), base[k].shape) if k in floats else a for k, a in enumerate(base)]
            out.append(("grid", mixed))
            same = [np.resize(grid, base[k].shape) if k in floats else a for k, a in enumerate(base)]
            if len(floats) > 1:
                out.append(("grid-ties", same))
            if base[floats[0]].size < grid.size:  # every grid value once, the argument as a column of them
                for start in range(0, grid.size, max(1, base[floats[0]].size)):
                    out.append((f"grid@{start}", [np.resize(np.roll(grid, -start - 2 * k), a.shape) if k in floats
                                                  else a for k, a in enumerate(base)]))
    return out


def op_cases():
    for name in sorted(OPS):
        cases = TO.CASES.get(name, test_symbolic.MASK_CASES.get(name, []))
        if not cases:
            yield name, None
            continue
        for case in cases[:2]:
            yield name, case


def _differentiate_graph_raw(graph, names, env):
    raw = {}
    original = symbolic._check_at_point

    def spy(d, g, name, *args):
        raw[name] = None if d.value is None else np.array(d.value, dtype=np.float64)
        original(d, g, name, *args)

    with mock.patch.object(symbolic, "_check_at_point", spy):
        result = symbolic.differentiate_graph(graph, names, env)
    return result, raw


def _numeric(graph, x, env, values):
    """(jac eval's Jacobian by x, None) or (None, why it refuses)."""
    try:
        return symbolic._automatic_at(graph, x, env, 1, values)
    except JacError as err:
        return None, err.message


def probe_op(name, case, verbose=False):
    """[(kind, label, detail)] for one op case at its points."""
    op = OPS[name]
    if case is None:
        return [("no-case", "", "no case in tests/test_ops.py")]
    shapes, params = TO._normalize(case)
    rows = []
    try:
        points = op_points(op, shapes, 0)
    except Exception as err:  # noqa: BLE001
        return [("no-case", "", f"cannot draw: {err}")]
    names = [f"a{i}" for i, s in enumerate(shapes) if s != "mask" and _is_float_arg(s) and TO._differentiable(op, i)]
    if not names:
        return [("no-case", "", "no differentiable argument")]
    try:
        graph, _ = TO._graph(name, points[0][1], params)
        graph = graph.with_wrt(names)
    except Exception as err:  # noqa: BLE001
        return [("no-case", "", f"cannot build: {type(err).__name__}: {err}")]
    # jac eval --symbolic's formulas, once per case
    formulas, leaves, refusal = None, None, None
    try:
        def translate():
            values, lv = symbolic.translate(graph, as_components=True)
            return symbolic.jacobian_components(graph, names, values, lv), lv
        formulas, leaves = _bounded(translate)
    except JacError as err:
        refusal = err.message
    except _Late:
        return [("slow", "", f"translation over {SECONDS} s")]
    except Exception as err:  # noqa: BLE001
        where = traceback.extract_tb(err.__traceback__)[-1]
        return [("crash", "translate", f"{type(err).__name__}: {err} ({os.path.basename(where.filename)}:{where.lineno})")]
    for label, arrays in points:
        env = {f"a{i}": a for i, a in enumerate(arrays)}
        try:
            values = autodiff.evaluate(graph, env)
        except JacError as err:
            rows.append(("numeric-refused", label, err.message))
            continue
        numeric_refused = False
        for x in names:
            num, why = _numeric(graph, x, env, values)
            if why:
                rows.append(("numeric-refused", label, why))
                numeric_refused = True
                continue
            y_shape, x_shape = tuple(graph.output_shape), np.shape(env[x])
            if num.shape != y_shape + x_shape:
                rows.append(("WRONG", label, f"numeric Jacobian by {x} of shape {num.shape}, not {y_shape + x_shape}"))

            def f(v, x=x):
                return np.asarray(autodiff.evaluate(graph, {**env, x: v})[graph.output], dtype=np.float64)
            try:
                with np.errstate(all="ignore"):
                    fd, kink = smooth_fd(f, env[x])
            except JacError:  # a step leaves the op's domain (a symmetric matrix made not symmetric)
                fd, kink = num, True
            if label.startswith("random") and not kink and np.all(np.isfinite(num)) and not close(fd, num, 1e-4):
                rows.append(("fd", label, f"d/d{x}: numeric vs central differences {where_differs(fd, num)}"))
            if refusal is not None:
                continue
            comp = formulas[x]
            if comp.shape != y_shape + x_shape:
                rows.append(("WRONG", label, f"formula of shape {comp.shape}, numeric {num.shape}"))
                continue
            got = symbolic.evaluate_components(comp, leaves, env)
            if not close(got, num):
                # a formula without a value there (0/0 at a removable singularity, NaN) is no other number
                finite = np.isfinite(got.reshape(num.shape)) | ~np.isfinite(num)
                bad = ~np.isclose(got.reshape(num.shape), num, rtol=RTOL, atol=1e-9, equal_nan=True)
                kind = "WRONG" if np.any(bad & finite) or label.startswith("random") else "undefined"
                rows.append((kind, label, f"eval --symbolic d/d{x} {where_differs(got, num)}"
                             + (" (a kink)" if kink else "")))
        if refusal is None and not numeric_refused:  # jac diff --at: the formula's own value and what is shown
            try:
                result, raw = _bounded(lambda: _differentiate_graph_raw(graph, names, env))
            except JacError as err:
                rows.append(("refused", label, f"jac diff: {err.message}"))
                continue
            except _Late:
                rows.append(("slow", label, "jac diff over the limit"))
                continue
            except Exception as err:  # noqa: BLE001
                where = traceback.extract_tb(err.__traceback__)[-1]
                rows.append(("crash", label, f"jac diff: {type(err).__name__}: {err} "
                                             f"({os.path.basename(where.filename)}:{where.lineno})"))
                continue
            for x in names:
                d = result.derivatives[x]
                num, why = _numeric(graph, x, env, values)
                if why:
                    continue
                if tuple(d.shape) != num.shape:
                    rows.append(("WRONG", label, f"jac diff's shape label {d.shape} for a Jacobian {num.shape}"))
                ms = tuple(shapes_mod.math_shape(tuple(graph.output_shape), np.shape(env[x])))
                if tuple(d.math_shape) != ms:
                    rows.append(("WRONG", label, f"jac diff's math_shape {d.math_shape}, numeric {ms}"))
                if d.value is not None and not close(d.value, num):
                    rows.append(("WRONG", label, f"jac diff shows d/d{x} {where_differs(d.value, num)} "
                                                 f"(note: {d.note})"))
                elif raw.get(x) is not None and not close(raw[x], num):
                    rows.append(("noted", label, f"jac diff's {d.form} formula d/d{x} {where_differs(raw[x], num)}"))
    if refusal is not None:
        rows.append(("refused", "", refusal))
    if name in KNOWN_TIES:
        rows = [("known",) + r[1:] if r[0] == "WRONG" and not r[1].startswith("random") else r for r in rows]
    return rows


# --- part 2: user-facing names ---------------------------------------------------------------------------------

def _names_points(shapes, domain, edges, seeds=(0, 1)):
    lo, hi = domain
    out = []
    for seed in seeds:
        rng = np.random.default_rng(100 + seed)
        out.append((f"random{seed}", {n: rng.uniform(lo, hi, s) for n, s in shapes.items()}))
    for k, edge in enumerate(edges):
        out.append((f"edge{k}", {n: np.asarray(edge[n], dtype=np.float64) for n in shapes}))
    return out


def _shape_binding(name, shape):
    return f"{name}:()" if shape == () else f"{name}:{'x'.join(str(s) for s in shape)}"


def probe_name(expr, shapes, domain, edges):
    rows = []
    binds = [_shape_binding(n, s) for n, s in shapes.items()]
    for label, point in _names_points(shapes, domain, edges):
        try:
            num = api.jacobian(expr, point)
        except JacError as err:
            rows.append(("numeric-refused", label, err.message))
            continue
        except Exception as err:  # noqa: BLE001
            rows.append(("crash", label, f"api.jacobian: {type(err).__name__}: {err}"))
            continue
        raw = {}
        original = symbolic._check_at_point

        def spy(d, g, name, *args):
            raw[name] = None if d.value is None else np.array(d.value, dtype=np.float64)
            original(d, g, name, *args)

        try:
            with mock.patch.object(symbolic, "_check_at_point", spy):
                result = _bounded(lambda: symbolic.differentiate(expr, binds, at=dict(point)))
        except JacError as err:
            rows.append(("refused", label, err.message))
            break  # the same refusal at every point
        except _Late:
            rows.append(("slow", label, "jac diff over the limit"))
            continue
        except Exception as err:  # noqa: BLE001
            where = traceback.extract_tb(err.__traceback__)[-1]
            rows.append(("crash", label, f"{type(err).__name__}: {err} ({os.path.basename(where.filename)}:{where.lineno})"))
            continue
        for x, d in result.derivatives.items():
            n = np.asarray(num[x], dtype=np.float64)

            def f(v, x=x):
                return np.asarray(api.evaluate(expr, {**point, x: v}), dtype=np.float64)
            with np.errstate(all="ignore"):
                fd, kink = smooth_fd(f, point[x])
            if label.startswith("random") and not kink and np.all(np.isfinite(n)) and not close(fd, n, 1e-4):
                rows.append(("fd", label, f"d/d{x}: numeric vs central differences {where_differs(fd, n)}"))
            if tuple(d.shape) != n.shape:
                rows.append(("WRONG", label, f"d/d{x}: shape label {d.shape}, numeric {n.shape}"))
            if d.value is not None and not close(d.value, n):
                rows.append(("WRONG", label, f"jac diff shows d/d{x} {where_differs(d.value, n)} (note: {d.note})"))
            elif raw.get(x) is not None and not close(raw[x], n):
                rows.append(("noted", label, f"jac diff's {d.form} formula d/d{x} {where_differs(raw[x], n)}"
                             + (" (a kink)" if kink else "")))
    return rows


# --- part 3: the command line -----------------------------------------------------------------------------------

def _at_values(point):
    return [f"{n}={json.dumps(np.asarray(v).tolist())}" for n, v in point.items()]


def probe_cli(expr, shapes, domain, edges):
    rows = []
    env = {**os.environ, "PYTHONPATH": ROOT}
    for label, point in _names_points(shapes, domain, edges, seeds=(0,)):
        values = _at_values(point)
        runs = {"diff": ["diff", "--json", "--", expr, *values],
                "eval": ["eval", "--json", "--", expr, *values],
                "eval --symbolic": ["eval", "--symbolic", "--json", "--", expr, *values]}
        out = {}
        for what, argv in runs.items():
            p = subprocess.run([sys.executable, "-m", "jacobi_cli", *argv], capture_output=True, text=True, env=env,
                               timeout=120)
            if p.returncode not in (0, 1, 2) or "Traceback" in p.stderr:
                rows.append(("crash", label, f"jac {what}: exit {p.returncode}: {p.stderr.strip()[-300:]}"))
                continue
            try:
                out[what] = json.loads(p.stdout)
            except ValueError:
                rows.append(("crash", label, f"jac {what}: not one JSON object: {p.stdout[:200]!r}"))
        if "eval" not in out or "jacobian" not in out["eval"]:
            rows.append(("numeric-refused", label, str(out.get("eval", {}).get("error", ""))[:200]))
            continue
        jac = out["eval"]["jacobian"]
        if "diff" in out and "error" in out["diff"]:
            rows.append(("refused", label, out["diff"]["error"]["message"][:300]))
        elif "diff" in out:
            for x, block in out["diff"].get("derivatives", {}).items():
                if x not in jac:
                    continue
                if block.get("shape") != jac[x]["shape"] or block.get("math_shape", jac[x]["math_shape"]) != jac[x]["math_shape"]:
                    rows.append(("WRONG", label, f"jac diff's d/d{x} shape {block.get('shape')} / "
                                                 f"{block.get('math_shape')}, jac eval's {jac[x]['shape']} / "
                                                 f"{jac[x]['math_shape']}"))
                if "value" in block and not close(_unjson(block["value"]), _unjson(jac[x]["value"])):
                    rows.append(("WRONG", label, f"jac diff --json value d/d{x} differs from jac eval's"))
        if "eval --symbolic" in out and "error" in out["eval --symbolic"]:
            rows.append(("refused", label, "eval --symbolic: " + out["eval --symbolic"]["error"]["message"][:300]))
    return rows


def _unjson(v):
    if isinstance(v, list):
        return np.array([_unjson(e) for e in v], dtype=np.float64)
    return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(v, v) if isinstance(v, str) else v


CLI_SAMPLE = ["scipy.special.xlogy(x, y)", "jax.lax.clamp(-0.5, x, 0.5)", "F.hardswish(x)", "torch.max(x)",
              "np.select([x < 0, x < 0.5], [x ** 2, 2 * x], x)", "F.smooth_l1_loss(x, y, beta=0.5)",
              "torch.linalg.vector_norm(x, float('inf'))", "jax.lax.scan(lambda c, v: (c + jnp.abs(v), c * v), 0.0, x)[1]",
              "import math\nmax(s, 0.5) + min(s, t)", "torch.special.sinc(x)", "F.max_pool1d(x[None], 2)",
              "scipy.special.spherical_jn(1, x)", "torch.clamp(x, y, z)", "x ** y", "F.hardtanh(x)"]


def classify(rows) -> str:
    kinds = {r[0] for r in rows}
    for k in ("crash", "WRONG", "slow", "known"):
        if k in kinds:
            return k
    if "refused" in kinds:
        return "refused"
    if "noted" in kinds or "undefined" in kinds:
        return "noted"
    if kinds <= {"numeric-refused", "fd"} and "numeric-refused" in kinds and len(rows) and \
            all(r[0] == "numeric-refused" for r in rows):
        return "numeric-refused"
    return "agree"


def report(tag, rows, verbose):
    kind = classify(rows)
    shown = [r for r in rows if r[0] not in ("numeric-refused",)] if not verbose else rows
    if kind != "agree" or verbose or any(r[0] == "fd" for r in rows):
        for r in shown[:6]:
            print(f"{r[0]:8} {tag} [{r[1]}]: {r[2][:400]}", flush=True)
    return kind


def main(argv=None):
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("--part", default="all", choices=["ops", "names", "cli", "all"])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    start = time.time()
    tallies = {}
    if args.part in ("ops", "all"):
        tally = tallies.setdefault("ops", Counter())
        seen = Counter()
        for name, case in op_cases():
            if args.k not in name:
                continue
            try:
                rows = probe_op(name, case, args.verbose)
            except Exception as err:  # noqa: BLE001
                rows = [("crash", "", f"probe: {type(err).__name__}: {err}")]
            kind = report(f"op {name} {case if case is None else TO._normalize(case)[0]}", rows, args.verbose)
            tally[kind] += 1
            seen[name] += 1
            tally["fd-flags"] += sum(1 for r in rows if r[0] == "fd")
        tally["ops"] = len(seen)
    if args.part in ("names", "all"):
        tally = tallies.setdefault("names", Counter())
        for expr, shapes, domain, edges in NAMES:
            if args.k not in expr:
                continue
            rows = probe_name(expr, shapes, domain, edges)
            tally[report(f"name {expr!r}", rows, args.verbose)] += 1
            tally["fd-flags"] += sum(1 for r in rows if r[0] == "fd")
    if args.part in ("cli", "all"):
        tally = tallies.setdefault("cli", Counter())
        for expr, shapes, domain, edges in NAMES:
            if expr not in CLI_SAMPLE or args.k not in expr:
                continue
            rows = probe_cli(expr, shapes, domain, edges)
            tally[report(f"cli {expr!r}", rows, args.verbose)] += 1
    print(f"\nin {time.time() - start:.0f} s")
    for part, tally in tallies.items():
        print(f"{part}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))


if __name__ == "__main__":
    main()
