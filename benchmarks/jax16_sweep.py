"""The jax16 sweep: what JAX and SciPy users paste, run through jac and through JAX itself.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/jax16_sweep.py [-k SUBSTRING] [-v]

Each snippet is text as JAX users write it (``jnp.`` / ``jax.numpy.`` functions and methods, ``x.at[i].set(v)``,
``jnp.linalg``, ``jax.nn``, ``jax.scipy.special``, ``jax.lax``, ``def f(x): ...`` and ``lambda``, ``jax.grad(f)(x)``
and other transforms pasted around a function, optax and flax losses) or as SciPy users write it
(``scipy.special``), with bindings. The reference is **the snippet itself run by Python**: with JAX 0.10 in
float64 (``jax_enable_x64``; value, and ``jax.jacrev`` for each float input) for JAX snippets; with SciPy and
central differences for SciPy snippets. A snippet whose pasted text Python cannot run as is (a trailing ``def``)
names the text to run instead (``ref=``). jac is run through the API (value, every Jacobian, a VJP with a random
cotangent) and through ``jac eval ... --json`` in-process (exit code, message, and the value and Jacobians it
prints). Each snippet is one of paste15's classes:

- ``agrees``: jac's value and derivatives are JAX's (rtol 1e-7; 1e-5 against central differences), by the API
  and by the command line;
- ``refused``: exit 2, one ``jac: error`` line, and a refusal was expected, its message holding the words of
  ``refuse=`` (what is wrong, and what to write instead); ``refused-unclear`` when they are missing;
- ``refused-unexpectedly``: exit 2 for a snippet that JAX runs and jac should (everyday code);
- ``documented``: the value agrees, the derivative differs where jac documents why (``differs=``: a kink, where
  jac takes PyTorch's one-sided derivative; an exact 0 where JAX makes NaN of 0 · inf or of the branch
  ``jnp.where`` did not take);
- ``wrong``: a value or derivative that differs, or an answer where a refusal was expected;
- ``crashed``: a traceback, exit 70 or another exit code.

Prints one line per snippet not ``agrees``/``refused`` (all with ``-v``) and the counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from paste15_sweep import _close, _floats, _run, tally

rng = np.random.default_rng(16)


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
    lib: str = "jax"            # how the reference runs: "jax" or "scipy" (values by SciPy, central differences)
    ref: str | None = None      # the text Python runs, where the pasted one cannot run as is
    refuse: tuple = ()          # a refusal is expected, its message holding these words
    tol: float = 1e-7
    differs: str = ""           # a documented difference in the derivative (a kink's convention, a structural 0)

    def label(self) -> str:
        return " ".join(self.code.split())[:90]


def S(code, lib="jax", ref=None, refuse=(), tol=1e-7, differs="", **inputs):
    return Snippet(code, inputs, lib, ref, tuple([refuse] if isinstance(refuse, str) else refuse), tol, differs)


KINK = "at a kink jac takes PyTorch's one-sided derivative (abs'(0) = 0, relu'(0) = 0, norm'(0) = 0), JAX another"
STRUCTURAL = ("where an output does not depend on an input jac's derivative is an exact 0; JAX multiplies 0 by an "
              "infinite partial (sqrt'(0), 1/0) or reads the branch jnp.where did not take, making NaN")


def R(code, *words, **inputs):
    """A snippet jac must refuse, its message holding ``words``."""
    return S(code, refuse=words, **inputs)


X3, Y3, X5, Y5 = n(3), n(3), n(5), n(5)
A34, B34, A33, B33 = n(3, 4), n(3, 4), n(3, 3), n(3, 3)
SPD = A33 @ A33.T + 3 * np.eye(3)
P3, P5 = u(0.1, 0.9, 3), u(0.1, 0.9, 5)
POS3, POS5 = u(0.5, 3.0, 3), u(0.5, 3.0, 5)
U3 = u(-0.9, 0.9, 3)
LOGITS = n(4, 5)
LABELS = ints(0, 3, 1, 4)
ONEHOT = np.eye(5)[LABELS]
Y01 = np.array([0.0, 1.0, 1.0])
T3 = n(2, 3, 4)
XB, W, Bv = n(5, 3), n(3, 4), n(4)
IDX = ints(2, 0, 2)

JNP_ELEMENTWISE = [S(f"jnp.{f}(x)", x=v) for f, v in [
    ("exp", X3), ("log", POS3), ("log1p", POS3), ("expm1", X3), ("sqrt", POS3), ("square", X3), ("abs", X3),
    ("absolute", X3), ("fabs", X3), ("sin", X3), ("cos", X3), ("tan", U3), ("tanh", X3), ("sinh", X3),
    ("cosh", X3), ("arcsin", U3), ("arccos", U3), ("arctan", X3), ("arcsinh", X3), ("arccosh", POS3 + 1),
    ("arctanh", U3), ("asin", U3), ("acos", U3), ("atan", X3), ("asinh", X3), ("acosh", POS3 + 1), ("atanh", U3),
    ("exp2", X3), ("log2", POS3), ("log10", POS3), ("cbrt", POS3), ("sinc", X3), ("reciprocal", POS3),
    ("negative", X3), ("positive", X3), ("deg2rad", X3), ("rad2deg", X3), ("radians", X3), ("degrees", X3),
    ("sign", X3), ("floor", X3 * 3), ("ceil", X3 * 3), ("round", X3 * 3), ("rint", X3 * 3), ("trunc", X3 * 3),
    ("i0", X3), ("signbit", X3), ("isfinite", X3), ("nan_to_num", X3), ("conj", X3),
    ("conjugate", X3), ("real", X3), ("logical_not", X3), ("ones_like", X3), ("zeros_like", X3), ("copy", X3),
    ("asarray", X3), ("array", X3), ("atleast_1d", X3), ("atleast_2d", X3), ("ravel", A34)]] + [
    S(f"jnp.{f}(x, y)", x=a, y=b) for f, a, b in [
        ("add", X3, Y3), ("subtract", X3, Y3), ("multiply", X3, Y3), ("divide", X3, POS3), ("true_divide", X3, POS3),
        ("power", POS3, Y3), ("float_power", POS3, Y3), ("maximum", X3, Y3), ("minimum", X3, Y3), ("fmax", X3, Y3),
        ("fmin", X3, Y3), ("arctan2", X3, Y3), ("atan2", X3, Y3), ("hypot", X3, Y3), ("logaddexp", X3, Y3),
        ("logaddexp2", X3, Y3), ("copysign", X3, Y3), ("heaviside", X3, Y3), ("greater", X3, Y3),
        ("less_equal", X3, Y3), ("remainder", X3 * 3, POS3), ("mod", X3 * 3, POS3),
        ("fmod", X3 * 3, POS3), ("floor_divide", X3 * 3, POS3),
        ("pow", POS3, Y3)]] + [
    S("jnp.clip(x, -0.5, 0.5)", x=X5),
    S("jnp.clip(x, min=-0.5, max=0.5)", x=X5),
    S("jnp.clip(x, max=0.3)", x=X5),
    S("jnp.clip(x, 0)", x=X5),
    S("x.clip(-0.5, 0.5)", x=X5),
    S("x.clip(min=0.0)", x=X5),
    S("jnp.where(x > 0, x, 0.01 * x)", x=X5),
    S("jnp.where(x > 0, x, jnp.exp(x) - 1)", x=X5),
    S("jnp.where(x > y, x, y)", x=X5, y=Y5),
    S("jnp.where(x > 0, 1.0, 0.0) * x", x=X5),
    S("jnp.where(jnp.abs(x) < 1, 0.5 * x ** 2, jnp.abs(x) - 0.5)", x=X5 * 2),
    S("jnp.heaviside(x, 0.5) * x", x=X5),
    S("jnp.polyval(c, x)", c=n(4), x=X3),
    S("jnp.polyval(jnp.array([1.0, -2.0, 3.0]), x)", x=X3),
    R("jnp.interp(x, xp, fp)", "constant", x=u(0.1, 0.9, 4), xp=np.linspace(0, 1, 5), fp=n(5)),
    S("jnp.sinc(x) ** 2", x=X5),
    S("x ** 2 + 3 * x - 1", x=X5),
    S("jnp.exp(-x ** 2 / 2) / jnp.sqrt(2 * jnp.pi)", x=X5),
    S("jnp.log(jnp.cosh(x))", x=X5),
    S("jnp.sqrt(x ** 2 + 1e-8)", x=X5),
    S("x * jnp.tanh(jnp.log1p(jnp.exp(x)))", x=X5),
    S("jnp.float32(2.0) * x", x=X3, tol=1e-6),
    S("x.astype(jnp.float32) * 2", x=X3, tol=1e-6),
    S("jnp.float64(2.0) * x", x=X3),
    S("jnp.array(2.0) * x", x=X3),
    S("jnp.array([1.0, 2.0, 3.0]) * x", x=X3),
    S("jnp.asarray([1, 2, 3]) * x", x=X3),
    S("x * jnp.e + jnp.pi", x=X3),
    S("jnp.where(jnp.isnan(x), 0.0, x)", x=X3),
    S("jnp.logical_and(x > 0, y > 0) * x", x=X5, y=Y5),
    S("jnp.exp(x) / jnp.sum(jnp.exp(x))", x=X5),
    S("jnp.abs(x).max()", x=X5),
]

JNP_REDUCTIONS = [
    S("jnp.sum(x)", x=A34), S("jnp.sum(x, axis=0)", x=A34), S("jnp.sum(x, axis=-1, keepdims=True)", x=A34),
    S("jnp.sum(x, axis=(0, 1))", x=T3), S("x.sum()", x=A34), S("x.sum(axis=1)", x=A34), S("x.sum(0)", x=A34),
    S("jnp.mean(x)", x=A34), S("jnp.mean(x, axis=0)", x=A34), S("x.mean(axis=-1, keepdims=True)", x=A34),
    S("jnp.mean(x, where=x > 0)", x=A34),
    S("jnp.sum(x, where=x > 0)", x=A34),
    S("jnp.var(x)", x=A34), S("jnp.var(x, axis=0)", x=A34), S("jnp.var(x, ddof=1)", x=A34),
    S("jnp.std(x)", x=A34), S("jnp.std(x, axis=1)", x=A34), S("x.std()", x=A34, refuse=("ambiguous", "np.std(x)")), S("x.var(axis=0)", x=A34, refuse=("ambiguous", "np.var(x)")),
    S("x.std(ddof=1)", x=A34), S("jnp.std(x, axis=-1, keepdims=True)", x=A34),
    S("jnp.prod(x)", x=X5), S("jnp.prod(x, axis=0)", x=A34), S("x.prod()", x=X5),
    S("jnp.max(x)", x=A34), S("jnp.max(x, axis=1)", x=A34), S("jnp.min(x, axis=0)", x=A34), S("x.max()", x=A34),
    S("x.max(axis=0)", x=A34), S("x.min(axis=-1, keepdims=True)", x=A34), S("jnp.amax(x, axis=1)", x=A34),
    S("jnp.amin(x)", x=A34), S("jnp.ptp(x)", x=A34), S("jnp.ptp(x, axis=1)", x=A34),
    S("jnp.max(x, axis=1, initial=0.0)", x=A34),
    S("jnp.argmax(x)", x=A34), S("jnp.argmax(x, axis=1)", x=A34), S("jnp.argmin(x, axis=0)", x=A34),
    S("x.argmax(axis=-1)", x=A34), S("jnp.argsort(x)", x=X5), S("jnp.sort(x)", x=X5),
    S("jnp.sort(x, axis=0)", x=A34), S("jnp.sort(x)[::-1]", x=X5), S("-jnp.sort(-x)", x=X5),
    S("jnp.cumsum(x)", x=X5), S("jnp.cumsum(x, axis=1)", x=A34), S("jnp.cumprod(x)", x=X5),
    S("x.cumsum()", x=X5), S("x.cumsum(axis=0)", x=A34), S("jnp.cumulative_sum(x)", x=X5),
    S("jnp.cumulative_prod(x)", x=X5),
    S("jnp.diff(x)", x=X5), S("jnp.diff(x, n=2)", x=X5), S("jnp.diff(x, axis=0)", x=A34),
    S("jnp.median(x)", x=X5), S("jnp.median(x, axis=0)", x=A34), S("jnp.quantile(x, 0.3)", x=X5),
    S("jnp.percentile(x, 75)", x=X5), S("jnp.nanmean(x)", x=X5), S("jnp.nansum(x)", x=X5),
    S("jnp.nanmax(x)", x=X5), S("jnp.average(x)", x=X5), S("jnp.average(x, weights=w)", x=X5, w=POS5),
    S("jnp.average(x, axis=0, weights=w)", x=A34, w=POS3),
    S("jnp.count_nonzero(x > 0)", x=X5), S("jnp.all(x > -10)", x=X5), S("jnp.any(x > 0)", x=X5),
    S("jnp.linalg.norm(x)", x=X5), S("jnp.linalg.norm(x, ord=1)", x=X5), S("jnp.linalg.norm(x, ord=jnp.inf)", x=X5),
    S("jnp.linalg.norm(x, axis=1)", x=A34), S("jnp.linalg.norm(x, axis=-1, keepdims=True)", x=A34),
    S("jnp.linalg.norm(A)", A=A34), S("jnp.linalg.norm(A, 'fro')", A=A34), S("jnp.linalg.norm(A, ord=2)", A=A33),
    S("jnp.linalg.norm(A, ord='nuc')", A=A33), S("jnp.linalg.norm(A, ord=1)", A=A33),
    S("jnp.linalg.norm(x, 3)", x=X5),
    S("jnp.linalg.vector_norm(x)", x=X5), S("jnp.linalg.matrix_norm(A)", A=A33),
    S("jnp.trapezoid(y, x)", y=X5, x=np.arange(5.0)), S("jnp.trapezoid(y, dx=0.5)", y=X5),
    S("jnp.sum(x ** 2) / x.shape[0]", x=X5), S("jnp.sum(x ** 2) / x.size", x=A34),
    S("jnp.mean(jnp.abs(x - y))", x=X5, y=Y5),
    S("jnp.max(jnp.abs(x))", x=X5),
    S("jnp.einsum('ij->', x)", x=A34),
    S("jnp.take_along_axis(x, jnp.argsort(x, axis=1), axis=1)", x=A34),
    S("jnp.take_along_axis(logits, labels[:, None], axis=1)", logits=LOGITS, labels=LABELS),
    S("jnp.take_along_axis(logits, labels[:, None], axis=-1).squeeze(-1)", logits=LOGITS, labels=LABELS),
    S("jnp.take(x, idx)", x=X5, idx=IDX), S("jnp.take(x, idx, axis=1)", x=A34, idx=IDX),
    S("x.take(idx)", x=X5, idx=IDX),
    S("jnp.max(x, axis=-1, keepdims=True)", x=A34),
    S("x - jnp.max(x, axis=-1, keepdims=True)", x=A34),
    S("jax.numpy.sum(x ** 2)", x=X3),
    S("jax.numpy.linalg.norm(x)", x=X3),
]

SHAPES = [
    S("jnp.reshape(x, (4, 3))", x=A34), S("x.reshape(-1)", x=A34), S("x.reshape(2, 6)", x=A34),
    S("x.reshape((6, 2))", x=A34), S("jnp.ravel(x)", x=A34), S("x.ravel()", x=A34), S("x.flatten()", x=A34),
    S("jnp.transpose(x)", x=A34), S("jnp.transpose(x, (1, 0, 2))", x=T3), S("x.transpose(2, 0, 1)", x=T3),
    S("x.transpose((2, 0, 1))", x=T3), S("x.T", x=A34), S("x.mT", x=T3), S("jnp.matrix_transpose(x)", x=T3),
    S("jnp.swapaxes(x, 0, 2)", x=T3), S("x.swapaxes(0, 1)", x=A34), S("jnp.moveaxis(x, 0, -1)", x=T3),
    S("jnp.expand_dims(x, 0)", x=X3), S("jnp.expand_dims(x, axis=-1)", x=A34), S("jnp.squeeze(x)", x=n(1, 3, 1)),
    S("x.squeeze(0)", x=n(1, 3)), S("jnp.squeeze(x, axis=1)", x=n(3, 1)), S("x[None]", x=X3),
    S("x[:, None] * y[None, :]", x=X3, y=Y3), S("x[..., None]", x=A34), S("x[:, jnp.newaxis]", x=X3),
    S("jnp.concatenate([x, y])", x=X3, y=Y3), S("jnp.concatenate([a, b], axis=1)", a=A34, b=B34),
    S("jnp.concatenate((a, b), axis=0)", a=A34, b=B34), S("jnp.stack([x, y])", x=X3, y=Y3),
    S("jnp.stack([x, y], axis=1)", x=X3, y=Y3), S("jnp.stack((x, y), -1)", x=X3, y=Y3),
    S("jnp.hstack([x, y])", x=X3, y=Y3), S("jnp.vstack([x, y])", x=X3, y=Y3),
    S("jnp.column_stack([x, y])", x=X3, y=Y3), S("jnp.dstack([x, y])", x=X3, y=Y3),
    S("jnp.split(x, 2)[1]", x=n(6)), S("jnp.split(x, [1, 3], axis=1)[2]", x=A34),
    S("a, b = jnp.split(x, 2, axis=-1)\na * jax.nn.sigmoid(b)", x=n(2, 6)),
    S("jnp.array_split(x, 2)[0]", x=X5),
    S("jnp.tile(x, 2)", x=X3), S("jnp.tile(x, (2, 1))", x=A34), S("jnp.repeat(x, 2)", x=X3),
    S("jnp.repeat(x, 2, axis=0)", x=A34), S("x.repeat(3)", x=X3, refuse=("ambiguous",)), S("x.repeat(2, axis=1)", x=A34),
    S("jnp.flip(x)", x=X5), S("jnp.flip(x, axis=0)", x=A34), S("jnp.fliplr(x)", x=A34), S("jnp.flipud(x)", x=A34),
    S("x[::-1]", x=X5), S("jnp.roll(x, 1)", x=X5), S("jnp.roll(x, -1, axis=1)", x=A34),
    S("jnp.pad(x, 1)", x=X3), S("jnp.pad(x, (1, 2))", x=X3), S("jnp.pad(x, ((0, 1), (2, 0)))", x=A34),
    S("jnp.pad(x, 1, mode='edge')", x=X3), S("jnp.pad(x, 2, mode='reflect')", x=X5),
    S("jnp.pad(x, (1, 1), constant_values=0.5)", x=X3),
    S("jnp.triu(x)", x=A33), S("jnp.tril(x, -1)", x=A33), S("jnp.tril(x, k=1)", x=A34), S("jnp.diag(x)", x=X3),
    S("jnp.diag(x)", x=A33), S("jnp.diagonal(x)", x=A34), S("jnp.diagonal(x, offset=1)", x=A34),
    S("x.diagonal()", x=A33), S("jnp.trace(x)", x=A33), S("x.trace()", x=A33), S("jnp.diag(jnp.diag(x))", x=A33),
    S("jnp.diagflat(x)", x=X3), S("jnp.fill_diagonal(x, 0.0, inplace=False)", x=A33),
    S("jnp.eye(3) * x", x=X3), S("jnp.identity(3) @ x", x=X3), S("jnp.eye(3, k=1) @ x", x=X3),
    S("jnp.zeros(3) + x", x=X3), S("jnp.ones((2, 3)) * x", x=X3), S("jnp.full((3,), 2.0) * x", x=X3),
    S("jnp.full_like(x, 0.5) + x", x=X3), S("jnp.zeros_like(x).at[0].set(1.0) * x", x=X3),
    S("jnp.arange(3) * x", x=X3), S("jnp.arange(3.0) * x", x=X3), S("jnp.linspace(0, 1, 3) * x", x=X3),
    S("jnp.linspace(0.0, 1.0, num=3, endpoint=False) * x", x=X3),
    S("jnp.broadcast_to(x, (2, 3))", x=X3), S("jnp.atleast_2d(x).T", x=X3),
    S("jnp.meshgrid(x, y)[0] * jnp.meshgrid(x, y)[1]", x=X3, y=n(2)),
    S("xx, yy = jnp.meshgrid(x, y, indexing='ij')\nxx * yy", x=X3, y=n(2)),
    S("jnp.outer(x, y).reshape(-1)", x=X3, y=Y3),
    S("x[1:]", x=X5), S("x[:, 1]", x=A34), S("x[::2]", x=X5), S("x[..., -1]", x=T3), S("x[idx]", x=X5, idx=IDX),
    S("x[jnp.array([0, 2])]", x=X5), S("x[x > 0]", x=X5), S("x[jnp.arange(3), idx]", x=A34, idx=IDX),
    S("jnp.nonzero(x > 0)[0].shape[0] * x", x=X5),
    S("jnp.unique(x)", x=np.array([1.0, 2.0, 1.0, 3.0]), refuse=("no derivative",)),
    S("jnp.searchsorted(s, x) * x", s=np.array([-1.0, 0.0, 1.0]), x=X3),
    S("jnp.select([x < 0, x < 1], [x ** 2, x], 1.0)", x=X5),
    R("jnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])", "no functions", x=X5),
]

LINALG = [
    S("jnp.dot(x, y)", x=X3, y=Y3), S("jnp.dot(A, x)", A=A34, x=n(4)), S("A.dot(x)", A=A34, x=n(4)),
    S("jnp.dot(A, B)", A=A34, B=n(4, 2)), S("jnp.matmul(A, B)", A=A34, B=n(4, 2)), S("A @ B", A=A34, B=n(4, 2)),
    S("x @ W + b", x=XB, W=W, b=Bv), S("jnp.vdot(x, y)", x=X3, y=Y3), S("jnp.inner(x, y)", x=X3, y=Y3),
    S("jnp.outer(x, y)", x=X3, y=Y3), S("jnp.kron(a, b)", a=n(2, 2), b=n(2, 2)),
    S("jnp.tensordot(a, b, axes=1)", a=A34, b=n(4, 2)), S("jnp.tensordot(a, b, axes=([1], [0]))", a=A34, b=n(4, 2)),
    S("jnp.tensordot(a, b)", a=A34, b=B34), S("jnp.cross(x, y)", x=X3, y=Y3),
    S("jnp.linalg.multi_dot([A, B, x])", A=A34, B=n(4, 2), x=n(2)),
    S("jnp.einsum('ij,j->i', A, x)", A=A34, x=n(4)), S("jnp.einsum('ij,jk->ik', A, B)", A=A34, B=n(4, 2)),
    S("jnp.einsum('bij,bjk->bik', a, b)", a=T3, b=n(2, 4, 2)), S("jnp.einsum('i,i->', x, y)", x=X3, y=Y3),
    S("jnp.einsum('ij->ji', A)", A=A34), S("jnp.einsum('ii', A)", A=A33), S("jnp.einsum('ii->i', A)", A=A33),
    S("jnp.einsum('i,j->ij', x, y)", x=X3, y=Y3), S("jnp.einsum('...ij,...j->...i', A, x)", A=T3, x=n(4)),
    S("jnp.einsum('ij,ij->i', a, b)", a=A34, b=B34), S("jnp.einsum(a, [0, 1], b, [1, 2])", a=A34, b=n(4, 2), refuse=("einsum('ij,jk->ik'",)),
    S("jnp.einsum('bhqd,bhkd->bhqk', q, k)", q=n(1, 2, 3, 4), k=n(1, 2, 3, 4)),
    S("jnp.linalg.inv(A)", A=SPD), S("jnp.linalg.solve(A, b)", A=SPD, b=X3), S("jnp.linalg.solve(A, B)", A=SPD, B=A34),
    S("jnp.linalg.det(A)", A=A33), S("jnp.linalg.slogdet(A)[1]", A=A33), S("jnp.linalg.slogdet(A).logabsdet", A=A33),
    S("sign, logdet = jnp.linalg.slogdet(A)\nsign * logdet", A=A33), S("jnp.linalg.cholesky(A)", A=SPD),
    S("L = jnp.linalg.cholesky(A)\n2 * jnp.sum(jnp.log(jnp.diag(L)))", A=SPD),
    S("jnp.linalg.eigh(A)[0]", A=SPD), S("jnp.linalg.eigvalsh(A)", A=SPD),
    S("w, v = jnp.linalg.eigh(A)\nw", A=SPD), S("jnp.linalg.eigh(A).eigenvalues", A=SPD),
    S("jnp.linalg.svd(A, compute_uv=False)", A=A34), S("jnp.linalg.svdvals(A)", A=A34),
    S("U, s, Vt = jnp.linalg.svd(A, full_matrices=False)\n(U * s) @ Vt", A=A34),
    S("Q, R = jnp.linalg.qr(A)\nQ @ R", A=A34.T), S("jnp.abs(jnp.linalg.qr(A)[1])", A=A33),
    S("jnp.linalg.pinv(A)", A=A34), S("jnp.linalg.matrix_power(A, 3)", A=A33), S("jnp.linalg.matrix_power(A, -1)", A=SPD),
    S("jnp.linalg.lstsq(A, b)[0]", A=XB, b=X5), S("jnp.linalg.lstsq(A, b, rcond=None)[0]", A=XB, b=X5),
    S("jnp.linalg.trace(A)", A=A33), S("jnp.linalg.outer(x, y)", x=X3, y=Y3),
    S("jnp.linalg.vecdot(x, y)", x=A34, y=B34), S("jnp.vecdot(x, y)", x=A34, y=B34),
    S("jnp.linalg.matmul(A, B)", A=A34, B=n(4, 2)), S("jnp.linalg.tensorsolve(A, b)", A=SPD, b=X3),
    S("jnp.linalg.cond(A)", A=SPD), S("jnp.linalg.matrix_rank(A) * 1.0", A=A33),
    S("jnp.linalg.eigvals(A)", A=SPD, refuse=("complex", "eigvalsh")), S("jnp.linalg.cholesky(A, upper=True)", A=SPD),
    S("x @ jnp.linalg.solve(A, x)", A=SPD, x=X3),
    S("0.5 * x @ A @ x - b @ x", A=SPD, x=X3, b=Y3),
    S("jnp.trace(jnp.linalg.inv(A) @ B)", A=SPD, B=B33),
    S("jax.scipy.linalg.solve_triangular(L, b, lower=True)", L=np.tril(SPD), b=X3),
    R("jax.scipy.linalg.expm(A)", "jax.scipy.linalg", A=A33 * 0.3),
    R("jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(A), b)", "jnp.linalg.cholesky(a)", A=SPD, b=X3),
    S("jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(A), True), b)", A=SPD, b=X3),
    R("jax.scipy.linalg.det(A)", "jnp.linalg has solve, inv, det", A=A33),
    R("jax.scipy.linalg.inv(A)", "jnp.linalg has solve, inv", A=SPD),
]

AT = [
    S("x.at[0].set(1.0)", x=X5), S("x.at[0].set(y[0])", x=X5, y=Y5), S("x.at[1:].add(y[1:])", x=X5, y=Y5),
    S("x.at[idx].add(v)", x=X5, idx=IDX, v=Y3), S("x.at[idx].set(v)", x=X5, idx=ints(0, 2, 4), v=Y3),
    S("x.at[idx].set(v)", x=X5, idx=IDX, v=Y3, refuse=("repeat",)),
    S("x.at[idx].multiply(v)", x=X5, idx=IDX, v=Y3), S("x.at[idx].mul(v)", x=X5, idx=IDX, v=Y3),
    S("x.at[idx].min(v)", x=X5, idx=ints(0, 2, 4), v=Y3), S("x.at[idx].max(v)", x=X5, idx=ints(0, 2, 4), v=Y3),
    S("x.at[idx].get()", x=X5, idx=IDX), S("x.at[2].get()", x=X5), S("x.at[1].divide(2.0)", x=X5),
    S("x.at[1].power(2.0)", x=POS5), S("x.at[:, 0].set(0.0)", x=A34), S("x.at[0, :].add(y)", x=A34, y=n(4)),
    S("x.at[..., -1].set(y)", x=A34, y=X3), S("x.at[1, 2].set(v)", x=A34, v=np.array(0.7)),
    S("x.at[jnp.diag_indices(3)].set(0.0)", x=A33), S("x.at[jnp.triu_indices(3, 1)].set(0.0)", x=A33),  # session 26
    S("jnp.zeros(5).at[idx].add(v)", idx=IDX, v=Y3), S("jnp.zeros((3, 4)).at[:, 1].set(x)", x=X3),
    S("y = x.at[0].set(0.0)\ny = y.at[-1].set(0.0)\ny * x", x=X5),
    R("x.at[idx].apply(jnp.sin)", "no functions as values", x=X5, idx=ints(0, 2)),
    S("x.at[1].set(2.0, mode='drop')", x=X5), S("x.at[idx].get(mode='clip')", x=X5, idx=IDX),
    S("jnp.zeros(5).at[idx].add(v, indices_are_sorted=False, unique_indices=False)", idx=IDX, v=Y3),
    S("x.at[idx].add(v)", x=X5, idx=ints(7, 1), v=n(2)),  # JAX drops the update out of bounds (session 27)
    R("jax.ops.segment_sum(v, idx, num_segments=3)", "jnp.zeros(n).at[idx].add(v)", v=Y3, idx=IDX),
    S("jnp.zeros(3).at[idx].add(v)", v=Y3, idx=IDX),
    S("jnp.put_along_axis(x, idx[:, None], 0.0, axis=1, inplace=False)", x=A34, idx=ints(0, 3, 1)),
]

JAX_NN = [
    S("jax.nn.relu(x)", x=X5), S("jax.nn.relu6(x * 4)", x=X5), S("jax.nn.sigmoid(x)", x=X5),
    S("jax.nn.log_sigmoid(x)", x=X5), S("jax.nn.softplus(x)", x=X5 * 10), S("jax.nn.silu(x)", x=X5),
    S("jax.nn.swish(x)", x=X5), S("jax.nn.gelu(x)", x=X5), S("jax.nn.gelu(x, approximate=False)", x=X5),
    S("jax.nn.gelu(x, approximate=True)", x=X5), S("jax.nn.elu(x)", x=X5), S("jax.nn.elu(x, alpha=0.5)", x=X5),
    S("jax.nn.leaky_relu(x)", x=X5), S("jax.nn.leaky_relu(x, negative_slope=0.2)", x=X5),
    S("jax.nn.leaky_relu(x, 0.1)", x=X5), S("jax.nn.celu(x)", x=X5), S("jax.nn.celu(x, alpha=2.0)", x=X5),
    S("jax.nn.selu(x)", x=X5), S("jax.nn.glu(x)", x=n(2, 6)), S("jax.nn.glu(x, axis=0)", x=n(4, 3)),
    S("jax.nn.hard_tanh(x * 2)", x=X5), S("jax.nn.hard_sigmoid(x * 4)", x=X5), S("jax.nn.hard_silu(x * 4)", x=X5),
    S("jax.nn.hard_swish(x * 4)", x=X5), S("jax.nn.mish(x)", x=X5), S("jax.nn.soft_sign(x)", x=X5),
    S("jax.nn.tanh(x)", x=X5), S("jax.nn.squareplus(x)", x=X5), S("jax.nn.squareplus(x, b=2.0)", x=X5),
    S("jax.nn.sparse_plus(x)", x=X5 * 2), S("jax.nn.sparse_sigmoid(x)", x=X5 * 2), S("jax.nn.log_softmax(x)", x=X5),
    S("jax.nn.softmax(x)", x=X5), S("jax.nn.softmax(x, axis=-1)", x=A34), S("jax.nn.softmax(x, axis=0)", x=A34),
    S("jax.nn.softmax(x)", x=T3), S("jax.nn.log_softmax(x, axis=1)", x=A34), S("jax.nn.log_softmax(x)", x=T3),
    S("jax.nn.softmax(x, axis=(0, 1))", x=A34), S("jax.nn.log_softmax(x, axis=None)", x=A34),
    R("jax.nn.softmax(x, where=m)", "jnp.where(m, x, -jnp.inf)", x=A34, m=A34 > -0.5),
    S("jax.nn.logsumexp(x)", x=A34), S("jax.nn.logsumexp(x, axis=1)", x=A34),
    S("jax.nn.logsumexp(x, axis=-1, keepdims=True)", x=A34), S("jax.nn.one_hot(labels, 5)", labels=LABELS),
    S("jax.nn.one_hot(labels, num_classes=5) * logits", labels=LABELS, logits=LOGITS),
    S("-jnp.sum(jax.nn.one_hot(labels, 5) * jax.nn.log_softmax(logits), axis=-1).mean()",
      labels=LABELS, logits=LOGITS),
    S("-jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * onehot, axis=-1))", logits=LOGITS, onehot=ONEHOT),
    S("jax.nn.standardize(x)", x=A34), S("jax.nn.standardize(x, axis=0)", x=A34),
    S("jax.nn.standardize(x, epsilon=1e-3)", x=A34),
    R("jax.nn.dot_product_attention(q, k, v)", "jnp.einsum", q=n(1, 3, 2, 4), k=n(1, 3, 2, 4), v=n(1, 3, 2, 4)),
    R("jax.nn.dot_product_attention(q, k, v, is_causal=True)", "jnp.einsum", q=n(1, 3, 2, 4), k=n(1, 3, 2, 4), v=n(1, 3, 2, 4)),
    S("jax.nn.relu(x @ W + b)", x=XB, W=W, b=Bv),
    S("jax.nn.sigmoid(x) * (1 - jax.nn.sigmoid(x))", x=X5),
    S("jax.nn.logsumexp(x, b=w)", x=X5, w=POS5),
    R("from jax.nn import relu, softmax\nsoftmax(relu(x))", "write jax.nn.relu", x=X5),
    R("from jax import nn\nnn.relu(x) + nn.softplus(x)", "jax.nn.NAME", x=X5),
    R("import jax.nn as jnn\njnn.gelu(x)", "jax.nn.NAME", x=X5),
    S("jax.nn.initializers.glorot_normal()", x=X5, refuse=("initializers",)),
    S("jax.nn.normalize(x)", x=A34, refuse=("standardize",)),
]

_SP_ARGS = [("expit", X5), ("logit", P5), ("erf", X5), ("erfc", X5), ("erfinv", U3), ("gammaln", POS5),
            ("digamma", POS5), ("entr", P5), ("log_ndtr", X5), ("ndtr", X5), ("ndtri", P5), ("i0", X5),
            ("i0e", X5), ("i1", X5), ("i1e", X5), ("gamma", POS5), ("logsumexp", A34), ("log_softmax", A34),
            ("softmax", A34), ("sinc", X5), ("expm1", X5), ("log1p", POS5), ("exp2", X3), ("exp10", X3), ("psi", POS5),
            ("erfcx", X5), ("spence", POS5), ("log_expit", X5), ("loggamma", POS5), ("rgamma", POS5),
            ("factorial", POS5), ("cbrt", POS5)]
_SP_BINARY = [("xlogy", X3, POS3), ("xlog1py", X3, POS3), ("rel_entr", P3, POS3), ("kl_div", P3, POS3),
              ("betaln", POS3, POS3), ("beta", POS3, POS3), ("gammainc", POS3, POS3), ("gammaincc", POS3, POS3),
              ("zeta", POS3 + 1.5, POS3), ("huber", POS3, X3), ("pseudo_huber", POS3, X3), ("boxcox", POS3, Y3),
              ("logsumexp", A34, 1), ("softmax", A34, 1), ("log_softmax", A34, 0), ("multigammaln", POS3 + 2, 2),
              ("polygamma", 1, POS3), ("xlogy", 0.5, POS3)]


# what jac refuses of SciPy's and JAX's special functions, and the words its message holds
_JAC_LACKS: tuple = ()  # every name of these lists is read: the gamma family since session 28, spence since 29
_JAX_READS = ("gamma", "loggamma", "factorial", "betaln", "beta", "boxcox")  # jax.scipy.special's, since 26-27
_NO_DERIVATIVE = {"gammainc": "by a is not supported", "gammaincc": "by a is not supported",
                  "zeta": "by x is not supported"}


JAX_SPENCE = ("JAX 0.10's derivative of spence is NaN on (1, 2] (and 0 at 1); jac's is log z / (1 - z), its limit -1 "
              "at 1 (tests/test_parity_scipy29.py)")


def _has(module, name) -> bool:
    import importlib

    return hasattr(importlib.import_module(module), name)


def _special(module, lib):
    out = []
    for f, v in _SP_ARGS:
        lacks = f in _JAC_LACKS and not (lib == "jax" and f in _JAX_READS)
        missing = ("not supported",) if not _has(module, f) or lacks else ()
        differs = JAX_SPENCE if (lib, f) == ("jax", "spence") else ""
        out.append(S(f"{module}.{f}(x)", lib=lib, x=v, refuse=missing, differs=differs))
    for f, a, b in _SP_BINARY:
        if isinstance(b, int):
            code, inputs = (f"{module}.{f}(x, axis={b})", {"x": a}) if f != "multigammaln" else \
                (f"{module}.{f}(x, {b})", {"x": a})
        elif isinstance(a, (int, float)):
            code, inputs = f"{module}.{f}({a}, x)", {"x": b}
        else:
            code, inputs = f"{module}.{f}(x, y)", {"x": a, "y": b}
        lacks = f in _JAC_LACKS and not (lib == "jax" and f in _JAX_READS)
        missing = ("not supported",) if not _has(module, f) or lacks else \
            (_NO_DERIVATIVE[f],) if f in _NO_DERIVATIVE and "x, y" in code else ()
        out.append(S(code, lib=lib, refuse=missing, **inputs))
    return out


JSP = _special("jax.scipy.special", "jax") + [
    S("jax.scipy.special.logsumexp(x, axis=1, keepdims=True)", x=A34),
    S("jax.scipy.special.logsumexp(x, b=w)", x=X5, w=POS5),
    S("jax.scipy.special.logsumexp(x, axis=0, b=w)", x=A34, w=u(0.5, 2, 3, 4)),
    R("jax.scipy.special.logsumexp(x, return_sign=True)[0]", "jnp.sign(s)", x=X5),
    R("from jax.scipy.special import logsumexp\nlogits - logsumexp(logits, axis=-1, keepdims=True)", "write jax.scipy.special.logsumexp", logits=LOGITS),
    R("from jax.scipy.special import expit, logit\nexpit(logit(p) + x)", "write jax.scipy.special.expit", p=P3, x=X3),
    R("import jax.scipy as jsp\njsp.special.erf(x)", "jax.scipy", x=X5),
    R("from jax.scipy import special\nspecial.gammaln(x)", "jax.scipy.special.NAME", x=POS5),
    S("jax.scipy.stats.norm.logpdf(x)", x=X5, refuse=("jax.scipy.stats", "-x ** 2 / 2")),
    S("jax.scipy.stats.norm.cdf(x)", x=X5, refuse=("jax.scipy.stats", "ndtr")),
    S("jax.scipy.special.bessel_jn(x, v=1)", x=POS3),  # read since session 29 (SciPy's values)
]

SCIPY = _special("scipy.special", "scipy") + [
    S("scipy.special.logsumexp(x, axis=1, keepdims=True)", lib="scipy", x=A34),
    S("scipy.special.logsumexp(x, b=w)", lib="scipy", x=X5, w=POS5),
    S("scipy.special.softmax(x)", lib="scipy", x=X5),
    R("from scipy.special import expit\nexpit(x @ w)", "write scipy.special.expit", x=XB, w=X3),
    R("from scipy.special import logsumexp, softmax\nlogsumexp(x) + softmax(x, axis=0)[0]", "write scipy.special.logsumexp", x=A34),
    R("from scipy import special\nspecial.expit(x)", "scipy.special.NAME", x=X5),
    R("import scipy.special as sc\nsc.gammaln(x)", "scipy.special.NAME", x=POS5),
    R("import scipy.special as sps\nsps.xlogy(x, y)", "scipy.special.NAME", x=X3, y=POS3),
    S("np.sum(scipy.special.rel_entr(p, q))", lib="scipy", p=P3, q=POS3),
    S("scipy.special.expit(x) * (1 - scipy.special.expit(x))", lib="scipy", x=X5),
    S("-np.mean(y * np.log(scipy.special.expit(z)) + (1 - y) * np.log(1 - scipy.special.expit(z)))", lib="scipy",
      y=Y01, z=X3),
    S("scipy.special.softplus(x)", lib="scipy", x=X5),
    S("scipy.stats.norm.logpdf(x)", lib="scipy", x=X5, refuse=("scipy.stats", "-x ** 2 / 2")),
]

LAX = [
    S("jax.lax.stop_gradient(x) * y", x=X3, y=Y3), S("x * jax.lax.stop_gradient(x)", x=X3),
    S("from jax import lax\nlax.stop_gradient(x) + x ** 2", x=X3),
    S("x + jax.lax.stop_gradient(jnp.round(x) - x)", x=X3 * 3),
    S("jnp.exp(x - jax.lax.stop_gradient(x.max()))", x=X5),
    S("jax.lax.exp(x)", x=X3), S("jax.lax.log(x)", x=POS3), S("jax.lax.rsqrt(x)", x=POS3), S("jax.lax.sqrt(x)", x=POS3),
    S("jax.lax.logistic(x)", x=X3), S("jax.lax.tanh(x)", x=X3), S("jax.lax.erf(x)", x=X3), S("jax.lax.neg(x)", x=X3),
    S("jax.lax.abs(x)", x=X3), S("jax.lax.square(x)", x=X3), S("jax.lax.integer_pow(x, 3)", x=X3),
    S("jax.lax.pow(x, y)", x=POS3, y=Y3), S("jax.lax.add(x, y)", x=X3, y=Y3), S("jax.lax.sub(x, y)", x=X3, y=Y3),
    S("jax.lax.mul(x, y)", x=X3, y=Y3), S("jax.lax.div(x, y)", x=X3, y=POS3), S("jax.lax.max(x, y)", x=X3, y=Y3),
    S("jax.lax.min(x, y)", x=X3, y=Y3), S("jax.lax.clamp(-0.5, x, 0.5)", x=X5), S("jax.lax.clamp(0.0, x, 1.0)", x=X5),
    S("jax.lax.select(x > 0, x, y)", x=X3, y=Y3), S("jax.lax.dot(A, x)", A=A34, x=n(4)),
    S("jax.lax.dot(A, B)", A=A34, B=n(4, 2)), S("jax.lax.sin(x) + jax.lax.cos(x)", x=X3),
    S("jax.lax.reduce_sum(x, axes=(0,))", x=A34), S("jax.lax.sign(x) * x", x=X3), S("jax.lax.log1p(x)", x=POS3),
    S("jax.lax.expm1(x)", x=X3), S("jax.lax.reciprocal(x)", x=POS3), S("jax.lax.atan2(x, y)", x=X3, y=Y3),
    S("jax.lax.erf_inv(x)", x=U3), S("jax.lax.lgamma(x)", x=POS3), S("jax.lax.digamma(x)", x=POS3),
    S("jax.lax.cumsum(x)", x=X5), S("jax.lax.cumsum(x, axis=1)", x=A34), S("jax.lax.transpose(x, (1, 0))", x=A34),
    S("jax.lax.reshape(x, (4, 3))", x=A34), S("jax.lax.concatenate([x, y], 0)", x=X3, y=Y3),
    S("jax.lax.slice(x, (1,), (4,))", x=X5), S("jax.lax.dynamic_slice(x, (1,), (2,))", x=X5),
    S("jax.lax.dynamic_update_slice(x, y, (1,))", x=X5, y=n(2)),
    S("jax.lax.batch_matmul(a, b)", a=T3, b=n(2, 4, 2)),
    S("jax.lax.cond(True, lambda v: v * 2, lambda v: v, x)", x=X3),  # read since session 25 (lang/vmapping.py)
    S("jax.lax.cond(x.sum() > 0, lambda v: v * 2, lambda v: v, x)", x=X3, refuse=("lax.cond", "jnp.where")),
    S("jax.lax.fori_loop(0, 3, lambda i, v: v * 2, x)", x=X3),
    S("jax.lax.scan(lambda c, v: (c + v, c), 0.0, x)[0]", x=X3),
    S("jax.lax.while_loop(lambda v: v.sum() < 10, lambda v: v * 2, x)", x=POS3, refuse=("while_loop",)),
    S("jax.lax.map(jnp.sin, x)", x=X3),
    S("jax.lax.psum(x, 'i')", x=X3, refuse=("psum",)),
    S("jax.lax.conv_general_dilated(x, w, (1,), 'SAME')", x=n(1, 1, 5), w=n(1, 1, 3)),  # read since session 27
    S("lax.stop_gradient(x) * x", x=X3),
]

FUNCS = [
    S("def f(x):\n    return jnp.sum(jnp.tanh(x) ** 2)\nf(x)", x=X5),
    S("def f(x):\n    return jnp.sum(jnp.sin(x) * x)", ref="jnp.sum(jnp.sin(x) * x)", x=X5),
    S("def loss(w, x, y):\n    pred = x @ w\n    return jnp.mean((pred - y) ** 2)\nloss(w, x, y)", w=X3, x=XB, y=X5),
    S("def loss(params, x, y):\n    w, b = params\n    return jnp.mean((x @ w + b - y) ** 2)\nloss((w, b), x, y)",
      w=X3, b=np.array(0.2), x=XB, y=X5),
    S("def predict(W, b, x):\n    return jax.nn.sigmoid(x @ W + b)\npredict(W, b, x)", W=W, b=Bv, x=XB),
    S("f = lambda x: jnp.sum(x ** 3)\nf(x)", x=X3), S("(lambda x: jnp.exp(x).sum())(x)", x=X3),
    S("lambda x: jnp.sum(x ** 2)", ref="jnp.sum(x ** 2)", x=X3),
    S("def mlp(x, W1, b1, W2, b2):\n    h = jax.nn.relu(x @ W1 + b1)\n    return h @ W2 + b2\nmlp(x, W1, b1, W2, b2)",
      x=XB, W1=W, b1=Bv, W2=n(4, 2), b2=n(2)),
    S("def cross_entropy(logits, labels):\n    logp = jax.nn.log_softmax(logits)\n"
      "    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))\ncross_entropy(logits, labels)",
      logits=LOGITS, labels=LABELS),
    S("def layer_norm(x, g, b, eps=1e-5):\n    mu = x.mean(-1, keepdims=True)\n    var = x.var(-1, keepdims=True)\n"
      "    return (x - mu) / jnp.sqrt(var + eps) * g + b\nlayer_norm(x, g, b)", x=n(2, 6), g=n(6), b=n(6)),
    S("def attention(q, k, v):\n    d = q.shape[-1]\n    s = q @ k.T / jnp.sqrt(d)\n    return jax.nn.softmax(s) @ v\n"
      "attention(q, k, v)", q=n(4, 8), k=n(4, 8), v=n(4, 8)),
    S("def rbf(x, y, gamma=0.5):\n    return jnp.exp(-gamma * jnp.sum((x[:, None] - y[None]) ** 2, axis=-1))\nrbf(x, y)",
      x=XB, y=n(4, 3)),
    R("@jax.jit\ndef f(x):\n    return jnp.sin(x) * 2\nf(x)", "decorator line", x=X3),
    R("@jit\ndef f(x):\n    return jnp.sin(x) * 2\nf(x)", "decorator line", x=X3),
    S("from jax import jit\n\n@jit\ndef f(x):\n    return jnp.sin(x) * 2\nf(x)", ref="jnp.sin(x) * 2", x=X3),
    S("import jax\n@jax.jit\ndef f(x):\n    return jnp.sin(x) * 2\nf(x)", x=X3),
    S("f = jax.jit(lambda x: jnp.cos(x))\nf(x)", x=X3), S("jax.jit(jnp.tanh)(x)", x=X3),
    S("def f(x):\n    y = x\n    for _ in range(3):\n        y = jnp.sin(y)\n    return y\nf(x)", x=X3),  # for loops: read
    R("def f(x):\n    if x.ndim == 1:\n        return x * 2\n    return x\nf(x)", "only expressions", x=X3),
    S("import jax\nimport jax.numpy as jnp\n\ndef f(x):\n    return jnp.linalg.norm(x)\n\nf(x)", x=X3),
    S("from jax import numpy as jnp\njnp.sum(x)", x=X3),
    R("import jax.numpy as np\nnp.sum(np.sin(x))", "jnp.NAME", x=X3),
    S("from jax import jit, grad\njnp.sum(x ** 2)", x=X3),  # names imported from jax are read (session 25)
    S("def f(x, *, scale=2.0):\n    return x * scale\nf(x, scale=3.0)", x=X3),
    S("def f(x):\n    return x.at[0].set(0.0) ** 2\nf(x)", x=X3),
    R("@partial(jax.jit, static_argnums=1)\ndef f(x, n):\n    return x ** n\nf(x, 3)", "decorator line", x=X3),
    S("from functools import partial\n@partial(jax.jit, static_argnums=1)\ndef f(x, n):\n    return x ** n\nf(x, 3)", ref="x ** 3", x=X3),
    S("def f(x):\n    a, b = x[:2], x[2:]\n    return jnp.concatenate([b, a])\nf(x)", x=X5),
    S("softplus = lambda z: jnp.logaddexp(z, 0.0)\nsoftplus(x)", x=X5),
    R("x.block_until_ready() * 2", "drop it", x=X3),
    R("jax.device_put(x) * 2", "drop jax.device_put", x=X3),
    R("def f(x):\n    print(x)\n    return x * 2\nf(x)", "print() is not needed", x=X3),
    R("def f(x):\n    jax.debug.print('{}', x)\n    return x * 2\nf(x)", "jax.debug.print is not needed", x=X3),
]

WRAPPERS = [
    # the derivatives written in the text are read since session 24 (lang/derivatives.py), vjp/jvp since 25
    R("jax.grad(f)(x)", "unknown name 'f'", x=X3),
    S("def f(x):\n    return jnp.sum(x ** 2)\njax.grad(f)(x)", x=X3),
    S("jax.grad(lambda x: jnp.sum(x ** 2))(x)", x=X3),
    R("jax.grad(loss)(w, x, y)", "unknown name 'loss'", w=X3, x=XB, y=X5),
    S("def loss(w):\n    return jnp.sum(w ** 2)\ng = jax.grad(loss)(w)\ng", w=X3),
    S("jax.value_and_grad(lambda x: jnp.sum(x ** 2))(x)[1]", x=X3),
    S("jax.jacrev(jnp.sin)(x)", x=X3), S("jax.jacfwd(jnp.sin)(x)", x=X3),
    S("jax.jacobian(jnp.sin)(x)", x=X3), S("jax.hessian(lambda x: jnp.sum(x ** 3))(x)", x=X3),
    S("jax.vmap(jnp.dot)(a, b)", a=A34, b=B34),  # read since session 25 (lang/vmapping.py)
    S("jax.vmap(lambda r: jnp.sum(r ** 2))(A)", A=A34),
    S("jax.jvp(jnp.sin, (x,), (v,))[1]", x=X3, v=Y3),
    S("y, vjp_fn = jax.vjp(jnp.sin, x)\nvjp_fn(v)[0]", x=X3, v=Y3),
    S("from jax import grad\ngrad(lambda x: jnp.sum(x ** 2))(x)", x=X3),
    R("jax.random.normal(key, (3,)) * x", "random", x=X3, key=ints(0, 0)),
    R("key = jax.random.PRNGKey(0)\njax.random.normal(key, (3,)) * x", "random", x=X3),
    S("jax.tree_util.tree_map(lambda t: t * 2, x)", x=X3),  # read since session 26 (lang/trees.py)
    S("jax.tree.map(lambda t: t * 2, x)", x=X3),
    S("jax.checkpoint(jnp.sin)(x)", x=X3),
    R("jax.linearize(jnp.sin, x)", "linearize", x=X3),
]

OPTAX = [
    R("optax.softmax_cross_entropy(logits, onehot).mean()", "optax", "jax.nn.log_softmax", logits=LOGITS, onehot=ONEHOT),
    R("optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()", "optax", "take_along_axis",
      logits=LOGITS, labels=LABELS),
    R("optax.l2_loss(pred, target).mean()", "optax", "0.5 *", pred=X3, target=Y3),
    R("optax.squared_error(pred, target).mean()", "optax", "** 2", pred=X3, target=Y3),
    R("optax.sigmoid_binary_cross_entropy(z, y).mean()", "optax", "log_sigmoid", z=X3, y=Y01),
    R("optax.huber_loss(pred, target).mean()", "optax", "jnp.where", pred=X3, target=Y3),
    R("optax.cosine_similarity(a, b)", "optax", "jnp.linalg.norm", a=X3, b=Y3),
    R("optax.log_cosh(pred, target).mean()", "optax", "jnp.log(jnp.cosh", pred=X3, target=Y3),
    R("import optax\noptax.l2_loss(pred, target).sum()", "optax", pred=X3, target=Y3),
    R("optax.losses.l2_loss(pred, target)", "optax", pred=X3, target=Y3),
    R("optax.kl_divergence(jax.nn.log_softmax(a), jax.nn.softmax(b))", "optax", a=X3, b=Y3),
    R("optax.safe_softmax_cross_entropy(logits, onehot)", "optax", logits=LOGITS, onehot=ONEHOT),
    R("import flax.linen as nn\nnn.Dense(3)(x)", "flax", "x @ W + b", x=X3),
    R("flax.linen.relu(x)", "flax", "jax.nn.relu", x=X3),
    R("import flax.linen as nn\nnn.relu(x)", "flax", "jax.nn.relu", x=X3),
    R("from flax import linen as nn\nnn.gelu(x)", "flax", "jax.nn.gelu", x=X3),
    R("nnx.relu(x)", "nnx", x=X3),
    R("model.apply(params, x)", "model", x=X3),
    R("state.apply_fn({'params': params}, x)", "state", x=X3),
]

# what pasted JAX code does that NumPy's and PyTorch's readers meet differently
SEMANTICS = [
    S("x.at[idx].add(1.0)", x=X5, idx=IDX),
    S("jnp.round(x)", x=np.array([0.5, 1.5, 2.5, -0.5])),
    S("jnp.clip(x, 0.0, 1.0) * y", x=X5, y=Y5),
    S("jnp.maximum(x, 0.0)", x=np.array([-1.0, 0.0, 2.0])),
    S("jax.nn.relu(x)", x=np.array([-1.0, 0.0, 2.0])),
    S("jnp.abs(x)", x=np.array([-1.0, 0.0, 2.0]), differs=KINK),
    S("jnp.sqrt(x)", x=np.array([0.0, 1.0, 4.0]), differs=STRUCTURAL),
    S("jnp.linalg.norm(x)", x=np.array([0.0, 0.0]), differs=KINK),
    S("jnp.max(x)", x=np.array([1.0, 3.0, 3.0])),
    S("jnp.sort(x)", x=np.array([1.0, 3.0, 3.0])),
    S("jnp.var(x)", x=X5), S("x.var()", x=X5, refuse=("ambiguous",)), S("x.std(axis=0)", x=A34, refuse=("ambiguous",)),
    S("jnp.sign(x) * x", x=np.array([-1.0, 0.0, 2.0])),
    S("jnp.where(x > 0, jnp.sqrt(x), 0.0)", x=np.array([-1.0, 0.0, 4.0]), differs=STRUCTURAL),
    S("jnp.where(x != 0, jnp.sin(x) / x, 1.0)", x=np.array([0.0, 1.0, 2.0]), differs=STRUCTURAL),
    S("jnp.linalg.norm(x, axis=0)", x=A34),
    S("jnp.mean(x, axis=(0, 1))", x=T3),
    S("jnp.cumsum(x)[-1]", x=X5),
    S("jax.nn.softplus(x)", x=np.array([-30.0, 0.0, 30.0])),
    S("jax.nn.gelu(x)", x=np.array([-3.0, 0.0, 3.0])),
    S("jax.nn.logsumexp(x)", x=np.array([-1000.0, 0.0, 1000.0])),
    S("jax.nn.log_softmax(x)", x=np.array([-1000.0, 0.0, 1000.0])),
    S("jnp.linalg.det(A)", A=np.array([[1.0, 2.0], [2.0, 4.0]])),
    S("x[jnp.array([True, False, True])]", x=X3),
    S("jnp.sum(x, dtype=jnp.float32)", x=X3, tol=1e-6),
    S("jnp.prod(x)", x=np.array([2.0, 0.0, 3.0])),
    S("jnp.minimum(x, y)", x=np.array([1.0, 2.0]), y=np.array([1.0, 3.0])),
    S("jnp.max(jnp.stack([x, y]), axis=0)", x=np.array([1.0, 2.0]), y=np.array([1.0, 3.0])),
    S("jnp.argmax(x) * 1.0 + x", x=np.array([1.0, 3.0, 3.0])),
    S("jnp.floor_divide(x, 2.0)", x=X5 * 3),
    S("x // 2", x=X5 * 3), S("x % 2.0", x=X5 * 3), S("-x % 2.0", x=X5 * 3),
    S("jnp.true_divide(x, 0.0)", x=X3, differs=STRUCTURAL),
    S("jnp.power(x, 2)", x=X3), S("x ** 0.5", x=POS3), S("jnp.power(x, 0)", x=X3),
    S("jnp.linalg.matrix_power(A, 0)", A=A33),
    S("jnp.std(x, ddof=0)", x=X5),
    S("jnp.nanstd(x)", x=X5),
    S("jax.nn.one_hot(labels, 3)", labels=ints(0, 5, -1, 2), refuse=("from 0 to 2",)),
    S("jnp.take(x, idx)", x=X5, idx=ints(7, -1), refuse=("out of range",)),
    S("x[idx]", x=X5, idx=ints(7, 1), refuse=("out of",)),
]


def collection() -> list:
    return JNP_ELEMENTWISE + JNP_REDUCTIONS + SHAPES + LINALG + AT + JAX_NN + JSP + SCIPY + LAX + FUNCS \
        + WRAPPERS + OPTAX + SEMANTICS


# ----------------------------------------------------------------------------------------------- the references


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy
    import jax.scipy.linalg
    import jax.scipy.special
    import jax.scipy.stats  # noqa: F401 (jax.scipy.stats.norm as pasted)
    return jax


def _scope() -> dict:
    import functools

    import scipy.special
    import scipy.stats  # noqa: F401
    jax = _jax()
    scope = {"jax": jax, "jnp": jax.numpy, "np": np, "math": math, "scipy": scipy, "lax": jax.lax,
             "jit": jax.jit, "partial": functools.partial}
    return scope


def reference(s: Snippet) -> dict:
    """{"value", "jacobian": {name: ...}} computed from the snippet's own text: by JAX (``jax.jacrev``), or by
    SciPy and central differences."""
    code = s.ref or s.code
    floats = _floats(s.inputs)
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if s.lib == "jax":
            jax = _jax()
            jnp = jax.numpy

            def f(*xs):
                scope = _scope()
                scope.update({k: jnp.asarray(v) for k, v in s.inputs.items()})
                scope.update(dict(zip(floats, xs)))
                return jnp.asarray(_run(code, scope), dtype=jnp.float64)

            args = tuple(jnp.asarray(s.inputs[k], dtype=jnp.float64) for k in floats)
            value = f(*args)
            try:
                jac = jax.jacrev(f, argnums=tuple(range(len(args))))(*args) if floats else ()
            except NotImplementedError:  # scatter_mul of repeated indices: JAX's own values, central differences
                jac = tuple(_central(lambda t, i=i: np.asarray(f(*args[:i], jnp.asarray(t), *args[i + 1:])),
                                     np.asarray(a))
                            for i, a in enumerate(args))
            return {"value": np.asarray(value), "jacobian": {k: np.asarray(j) for k, j in zip(floats, jac)}}

        def g(**xs):
            scope = _scope()
            scope.update({k: np.array(v) for k, v in s.inputs.items()})
            scope.update(xs)
            return np.asarray(_run(code, scope), dtype=np.float64)

        jacobian = {k: _central(lambda t, k=k: g(**{k: t}), np.asarray(s.inputs[k], dtype=np.float64))
                    for k in floats}
        return {"value": g(), "jacobian": jacobian}


def _central(fn, x0: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The Jacobian of ``fn`` at ``x0`` by central differences."""
    y0 = np.asarray(fn(x0))
    J = np.zeros(y0.shape + x0.shape)
    for i in np.ndindex(x0.shape):
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        J[(...,) + i] = (np.asarray(fn(xp)) - np.asarray(fn(xm))) / (2 * h)
    return J


# ----------------------------------------------------------------------------------------------------- jac


def run_cli(s: Snippet, extra: list) -> tuple:
    """(exit code, stdout, stderr) of ``jac eval CODE BINDINGS EXTRA`` in this process."""
    from jacobi_cli.cli import entry

    args = ["eval", s.code]
    for k, v in s.inputs.items():
        a = np.asarray(v)
        text = np.array2string(a, separator=",", threshold=10**6, floatmode="unique").replace("\n", "")
        args.append(f"{k}={text}" if a.ndim else f"{k}={a.item()!r}")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(args + extra)
    return code, out.getvalue(), err.getvalue()


_NONFINITE = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf, None: np.nan}


def _json_array(value) -> np.ndarray:
    """A JSON array of numbers and ``"NaN"`` / ``"Infinity"`` / ``"-Infinity"`` strings as doubles."""
    def number(v):
        return [number(e) for e in v] if isinstance(v, list) else _NONFINITE.get(v, v) if not isinstance(
            v, (int, float)) else v
    return np.asarray(number(value), dtype=np.float64)


def _cli_differs(s: Snippet, out: str, theirs: dict, tol: float) -> str:
    """What ``jac eval --json`` printed that differs from the reference, or ""."""
    printed = json.loads(out)
    if not _close(_json_array(printed["output"]["value"]), theirs["value"], s.tol):
        return "the CLI's value differs"
    for k, J in theirs["jacobian"].items():
        entry = printed.get("jacobian", {}).get(k)
        if entry is None or entry.get("value") is None:
            continue  # a large Jacobian the CLI does not print whole
        if not _close(_json_array(entry["value"]), J, tol):
            return f"the CLI's d/d{k} differs"
    return ""


def judge(s: Snippet) -> tuple:
    """(class, detail) of one snippet."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    code, out, err = run_cli(s, ["--json"])
    if code not in (0, 2) or "Traceback" in out + err:
        return "crashed", f"exit {code}: {err.strip()[-300:]}"
    if code == 2:
        message = json.loads(out)["error"]["message"] if out.strip() else err.strip()
        if err.count("jac: error") != 1:
            return "crashed", f"exit 2 without one 'jac: error' line: {err.strip()[:300]}"
        if s.refuse:
            missing = [w for w in s.refuse if w not in message]
            return ("refused", message) if not missing else \
                ("refused-unclear", f"(message lacks {missing}) {message}")
        return "refused-unexpectedly", message[:300]
    if s.refuse:
        return "wrong", "answered where a refusal was expected"
    try:
        theirs = reference(s)
    except Exception as e:  # noqa: BLE001 (the library refuses: jac must too)
        return "wrong", f"jac answers, the library raises {type(e).__name__}: {str(e)[:200]}"
    tol = s.tol if s.lib == "jax" else max(s.tol, 1e-5)
    floats = _floats(s.inputs)
    inputs = {k: np.asarray(v) for k, v in s.inputs.items()}
    try:
        value = api.evaluate(s.code, inputs)
        if not _close(value, theirs["value"], s.tol):
            return "wrong", f"value {np.asarray(value).ravel()[:4]} vs {np.asarray(theirs['value']).ravel()[:4]}"
        differs = _cli_differs(s, out, theirs, tol)
        if differs:
            return ("documented", f"{differs}: {s.differs}") if s.differs and "value" not in differs else \
                ("wrong", differs)
        if not floats:
            return "agrees", ""
        ours = api.jacobian(s.code, inputs, wrt=floats)
        for k in floats:
            if not _close(ours[k], theirs["jacobian"][k], tol):
                if s.differs:
                    return "documented", f"d/d{k}: {s.differs}"
                return "wrong", f"d/d{k} differs: {np.asarray(ours[k]).ravel()[:4]} vs " \
                                f"{np.asarray(theirs['jacobian'][k]).ravel()[:4]}"
        v = np.random.default_rng(0).standard_normal(np.shape(value))
        grads = api.vjp(s.code, inputs, v=v, wrt=floats)
        for k in floats:
            expected = np.tensordot(v, theirs["jacobian"][k], axes=np.ndim(value))
            if not _close(grads[k], expected, tol):
                return "wrong", f"vjp {k} differs"
    except JacError as e:
        return "crashed", f"the API refuses what jac eval answered: {e}"
    return "agrees", ""


CLASSES = ("agrees", "documented", "refused", "refused-unclear", "refused-unexpectedly", "wrong", "crashed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args(argv)
    return tally([s for s in collection() if args.k in s.code], judge, "snippets", args.v, classes=CLASSES)


if __name__ == "__main__":
    sys.exit(main())
