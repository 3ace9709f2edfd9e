"""A sweep of everyday PyTorch / NumPy calls through ``jac eval --json``, value and Jacobian checked.

    PYTHONPATH=. python benchmarks/vocab_sweep.py [-k SUBSTRING] [--jobs N] [--verbose]

Each case is an expression, the inputs it reads (by name, from ``POOL``: random values in the
function's domain) and a reference: a PyTorch function (its value and
``torch.autograd.functional.jacobian``) or, for a NumPy-only call, the NumPy function (its value
and central differences). ``jac eval --json`` runs in a real process and the case is classified:

- ``ok``: value and every Jacobian agree with the reference;
- ``refused``: exit 2 with a message (``refused-ok`` when refusing is right: random or complex);
- ``wrong``: exit 0 but a value or a Jacobian differs (the worst defect);
- ``crash``: any other exit code, a traceback, or a timeout;
- ``differs``: a difference jac documents or means (a subgradient chosen at a kink or a tie, a limit where
  PyTorch writes NaN), named by the case; found among the edge values (``--edges``).

Prints one line per case that is not ``ok`` and the counts; exit 1 if any case is wrong or crashed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pool() -> dict:
    rng = np.random.default_rng(7)
    S = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    G = rng.uniform(-1, 1, (3, 3))
    R = rng.uniform(0.1, 1, (4, 5))
    return {
        "x": rng.uniform(-1, 1, 5), "y": rng.uniform(-1, 1, 5), "z": rng.uniform(-1, 1, 5),
        "p": rng.uniform(0.5, 2, 5), "q": rng.uniform(0.5, 2, 5), "u": rng.uniform(0.1, 0.9, 5),
        "w": rng.uniform(0.1, 0.9, 5), "a": rng.uniform(-1, 1, 3), "b": rng.uniform(-1, 1, 3),
        "c": rng.uniform(-1, 1, 4), "s": np.array(0.7),
        "A": rng.uniform(-1, 1, (3, 4)), "B": rng.uniform(-1, 1, (3, 4)), "M": rng.uniform(-1, 1, (4, 3)),
        "W": rng.uniform(-1, 1, (2, 4)), "S": S, "P": G @ G.T + np.eye(3), "U": np.triu(S),
        "T": rng.uniform(-1, 1, (2, 3, 4)), "L": rng.uniform(-2, 2, (4, 5)), "R": R / R.sum(1, keepdims=True),
        "Y": rng.uniform(0.1, 0.9, (4, 5)), "D": rng.uniform(0.5, 2, (3, 4)),
        # edge values: zeros and ties (e), signed zeros (o), the corners of clamp/hardtanh (k), -inf (n),
        # a zero row (Z), a repeated row (H)
        "e": np.array([0.0, 1.0, 1.0, -0.5, 0.0]), "o": np.array([0.0, -0.0, 0.0, 1.0, -1.0]),
        "k": np.array([-1.0, 1.0, 0.1, -0.3, 0.5]), "n": np.array([-np.inf, 0.0, 1.0, -np.inf, 2.0]),
        "Z": np.array([[0.0, 0.0, 0.0, 0.0], [0.5, -1.0, 0.25, 2.0], [1.0, 1.0, -1.0, 0.0]]),
        "H": np.array([[1.0, 2.0, 2.0], [0.5, -1.0, 0.25], [1.0, 2.0, 2.0]]),
        "j": np.array([1.0, np.inf, 2.0]), "m": np.array([-np.inf, -np.inf, -np.inf]),
    }


POOL = _pool()


@dataclass
class Case:
    expr: str
    ref: object                 # a function of the inputs (tensors for torch, arrays for numpy)
    lib: str = "torch"          # "torch" or "numpy" (central differences)
    refuse: bool = False        # refusing is the right answer (random, complex)
    nondiff: bool = False       # the Jacobian must be zero (or the reference's, which is zero)
    differs: str = ""           # a difference jac documents (a subgradient's choice): reported, not wrong
    jacrev: bool = False        # the reference Jacobian is torch.func.jacrev's (PyTorch's eager backward is wrong)
    names: tuple = ()

    def inputs(self) -> dict:
        return {n: POOL[n] for n in self.names}


def t(expr, fn, **kw):
    return Case(expr, fn, "torch", names=tuple(inspect.signature(fn).parameters), **kw)


def n(expr, fn, **kw):
    return Case(expr, fn, "numpy", names=tuple(inspect.signature(fn).parameters), **kw)


def cases() -> list:  # noqa: PLR0915 - one line per case
    import torch
    F = torch.nn.functional
    la = torch.linalg
    i2 = torch.tensor([1, 0, 4, 2])
    return [
        # tensor methods
        t("x.clamp_min(0.1)", lambda x: x.clamp_min(0.1)),
        t("x.clamp_max(0.2)", lambda x: x.clamp_max(0.2)),
        t("x.clamp(min=-0.5, max=0.5)", lambda x: x.clamp(min=-0.5, max=0.5)),
        t("x.clamp(y, z + 1)", lambda x, y, z: x.clamp(y, z + 1)),
        t("S.addmm(A, M, beta=0.5, alpha=2)", lambda S, A, M: S.addmm(A, M, beta=0.5, alpha=2)),
        t("torch.addmm(S, A, M)", lambda S, A, M: torch.addmm(S, A, M)),
        t("a.addmv(A, c)", lambda a, A, c: a.addmv(A, c)),
        t("S.addr(a, b)", lambda S, a, b: S.addr(a, b)),
        t("x.lerp(y, 0.3)", lambda x, y: x.lerp(y, 0.3)),
        t("x.lerp(y, u)", lambda x, y, u: x.lerp(y, u)),
        t("x.masked_fill(x > 0, 0.5)", lambda x: x.masked_fill(x > 0, 0.5)),
        t("x.expand(3, 5)", lambda x: x.expand(3, 5)),
        t("a[:, None].expand(-1, 4) * A", lambda a, A: a[:, None].expand(-1, 4) * A),
        t("x.expand_as(A[:, :1] + x)", lambda x, A: x.expand_as(A[:, :1] + x)),
        t("x.repeat(2, 3)", lambda x: x.repeat(2, 3)),
        t("x.repeat_interleave(2)", lambda x: x.repeat_interleave(2)),
        t("A.repeat_interleave(2, dim=0)", lambda A: A.repeat_interleave(2, dim=0)),
        t("A.flip(0)", lambda A: A.flip(0)),
        t("A.flip(dims=(0, 1))", lambda A: A.flip(dims=(0, 1))),
        t("A.fliplr()", lambda A: A.fliplr()),
        t("x.roll(2)", lambda x: x.roll(2)),
        t("A.roll(1, 1)", lambda A: A.roll(1, 1)),
        t("A.roll((1, -1), (0, 1))", lambda A: A.roll((1, -1), (0, 1))),
        t("A.narrow(1, 1, 2)", lambda A: A.narrow(1, 1, 2)),
        t("x.chunk(2)[1]", lambda x: x.chunk(2)[1]),
        t("A.split(2, dim=1)[1]", lambda A: A.split(2, dim=1)[1]),
        t("A.unbind(1)[2]", lambda A: A.unbind(1)[2]),
        t("A.view_as(M)", lambda A, M: A.view_as(M)),
        t("A.view(-1)", lambda A: A.view(-1)),
        t("x.type_as(y)", lambda x, y: x.type_as(y)),
        t("x.new_zeros(3) + x.sum()", lambda x: x.new_zeros(3) + x.sum()),
        t("x.new_ones((2, 5)) * x", lambda x: x.new_ones((2, 5)) * x),
        t("torch.zeros_like(x) + x ** 2", lambda x: torch.zeros_like(x) + x ** 2),
        t("x.norm(p=1)", lambda x: x.norm(p=1)),
        t("x.norm(p=3)", lambda x: x.norm(p=3)),
        t("A.norm(dim=1)", lambda A: A.norm(dim=1)),
        t("A.norm(p='fro')", lambda A: A.norm(p="fro")),
        t("A.std(unbiased=False)", lambda A: A.std(unbiased=False)),
        t("A.std(1, unbiased=True)", lambda A: A.std(1, unbiased=True)),
        t("A.var(1, correction=0)", lambda A: A.var(1, correction=0)),
        t("A.var(0, correction=2)", lambda A: A.var(0, correction=2)),
        t("A.var(dim=1, keepdim=True)", lambda A: A.var(dim=1, keepdim=True)),
        t("torch.std_mean(A, 1)[0]", lambda A: torch.std_mean(A, 1)[0]),
        t("torch.var_mean(A, dim=0)[1]", lambda A: torch.var_mean(A, dim=0)[1]),
        t("A.amax(1)", lambda A: A.amax(1)),
        t("A.amin(0)", lambda A: A.amin(0)),
        t("A.amax(dim=(0, 1))", lambda A: A.amax(dim=(0, 1))),
        t("A.logsumexp(1)", lambda A: A.logsumexp(1)),
        t("x.cumprod(0)", lambda x: x.cumprod(0)),
        t("A.cumprod(dim=1)", lambda A: A.cumprod(dim=1)),
        t("A.cummax(1).values", lambda A: A.cummax(1).values),
        t("A.cummin(0)[0]", lambda A: A.cummin(0)[0]),
        t("x.diff()", lambda x: x.diff()),
        t("A.diff(dim=0)", lambda A: A.diff(dim=0)),
        t("x.diff(n=2)", lambda x: x.diff(n=2)),
        t("S.trace()", lambda S: S.trace()),
        t("S.triu(1)", lambda S: S.triu(1)),
        t("S.tril(-1)", lambda S: S.tril(-1)),
        t("x.diag_embed()", lambda x: x.diag_embed()),
        t("A.diag_embed(offset=1)", lambda A: A.diag_embed(offset=1)),
        t("S.diagonal(1)", lambda S: S.diagonal(1)),
        t("x.square()", lambda x: x.square()),
        t("p.rsqrt()", lambda p: p.rsqrt()),
        t("p.reciprocal()", lambda p: p.reciprocal()),
        t("x.sign() * x", lambda x: x.sign() * x),
        t("(3 * x).frac()", lambda x: (3 * x).frac()),
        t("x.fmod(0.3)", lambda x: x.fmod(0.3)),
        t("x.remainder(0.3)", lambda x: x.remainder(0.3)),
        t("x.fmod(p)", lambda x, p: x.fmod(p)),
        t("x.hypot(y)", lambda x, y: x.hypot(y)),
        t("x.atan2(y)", lambda x, y: x.atan2(y)),
        t("p.xlogy(q)", lambda p, q: p.xlogy(q)),
        t("x.logaddexp(y)", lambda x, y: x.logaddexp(y)),
        t("x.logaddexp2(y)", lambda x, y: x.logaddexp2(y)),
        t("x.where(x > 0, y)", lambda x, y: x.where(x > 0, y)),
        t("x.copysign(y)", lambda x, y: x.copysign(y)),
        t("x.exp2()", lambda x: x.exp2()),
        t("p.log2()", lambda p: p.log2()),
        t("p.log10()", lambda p: p.log10()),
        t("x.expm1()", lambda x: x.expm1()),
        t("x.sinc()", lambda x: x.sinc()),
        t("x.erf()", lambda x: x.erf()),
        t("x.erfc()", lambda x: x.erfc()),
        t("x.erfinv()", lambda x: x.erfinv()),
        t("p.lgamma()", lambda p: p.lgamma()),
        t("p.digamma()", lambda p: p.digamma()),
        t("u.logit()", lambda u: u.logit()),
        t("x.logit(eps=0.2)", lambda x: x.logit(eps=0.2)),
        t("x.asinh()", lambda x: x.asinh()),
        t("(p + 1).acosh()", lambda p: (p + 1).acosh()),
        t("u.atanh()", lambda u: u.atanh()),
        t("x.deg2rad()", lambda x: x.deg2rad()),
        t("x.rad2deg()", lambda x: x.rad2deg()),
        t("x.float_power(2)", lambda x: x.float_power(2)),
        t("p.pow(y)", lambda p, y: p.pow(y)),
        t("x.fmax(y)", lambda x, y: x.fmax(y)),
        t("x.maximum(y)", lambda x, y: x.maximum(y)),
        t("T.permute(2, 0, 1)", lambda T: T.permute(2, 0, 1)),
        t("T.transpose(0, 2)", lambda T: T.transpose(0, 2)),
        t("T.flatten(1)", lambda T: T.flatten(1)),
        t("T.movedim(0, -1)", lambda T: T.movedim(0, -1)),
        t("T.sum((0, 2))", lambda T: T.sum((0, 2))),
        t("A.prod(1)", lambda A: A.prod(1)),
        t("A.max(1).values", lambda A: A.max(1).values),
        t("A.sort(1, descending=True).values", lambda A: A.sort(1, descending=True).values),
        t("A.topk(2, dim=1).values", lambda A: A.topk(2, dim=1).values),
        t("A.kthvalue(2, 1).values", lambda A: A.kthvalue(2, 1).values),
        t("A.median(1).values", lambda A: A.median(1).values),
        t("x.median()", lambda x: x.median()),
        t("x.nanmean()", lambda x: x.nanmean()),
        t("A.nansum(1)", lambda A: A.nansum(1)),
        t("A.index_select(1, torch.tensor([0, 2]))", lambda A: A.index_select(1, torch.tensor([0, 2]))),
        t("A.gather(1, torch.tensor([[0], [3], [1]]))", lambda A: A.gather(1, torch.tensor([[0], [3], [1]]))),
        t("x.take(torch.tensor([0, 3]))", lambda x: x.take(torch.tensor([0, 3]))),
        t("x[torch.tensor([1, 0, 4, 2])]", lambda x: x[i2]),
        t("x.logcumsumexp(0)", lambda x: x.logcumsumexp(0)),
        t("x.softmax(0)", lambda x: x.softmax(0)),
        t("A.log_softmax(dim=1)", lambda A: A.log_softmax(dim=1)),
        t("S.matrix_power(3)", lambda S: S.matrix_power(3)),
        t("(0.3 * S).matrix_exp()", lambda S: (0.3 * S).matrix_exp()),
        t("S.inverse()", lambda S: S.inverse()),
        t("P.logdet()", lambda P: P.logdet()),
        t("S.slogdet()[1]", lambda S: S.slogdet()[1]),
        t("P.cholesky()", lambda P: torch.linalg.cholesky(P)),
        t("x.outer(y)", lambda x, y: x.outer(y)),
        t("a.cross(b, dim=0)", lambda a, b: a.cross(b, dim=0)),
        t("x.heaviside(y) * x", lambda x, y: x.heaviside(y) * x),
        t("x.round(decimals=1) + x", lambda x: x.round(decimals=1) + x),
        t("x.floor() + x.ceil() + x.trunc() + x", lambda x: x.floor() + x.ceil() + x.trunc() + x),
        t("x.nan_to_num() * 2", lambda x: x.nan_to_num() * 2),
        t("x.abs().sqrt()", lambda x: x.abs().sqrt()),
        t("x.unflatten(0, (5, 1))", lambda x: x.unflatten(0, (5, 1))),
        t("A.tile((2,))", lambda A: A.tile((2,))),
        t("A.renorm(2, 0, 1.0)", lambda A: A.renorm(2, 0, 1.0)),
        # torch functions
        t("torch.addcmul(x, y, z, value=0.5)", lambda x, y, z: torch.addcmul(x, y, z, value=0.5)),
        t("torch.addcdiv(x, y, p, value=2)", lambda x, y, p: torch.addcdiv(x, y, p, value=2)),
        t("torch.lerp(x, y, 0.25)", lambda x, y: torch.lerp(x, y, 0.25)),
        t("torch.cdist(A, W)", lambda A, W: torch.cdist(A, W)),
        t("torch.cdist(A, W, p=1)", lambda A, W: torch.cdist(A, W, p=1)),
        t("torch.cosine_similarity(A, B, dim=1)", lambda A, B: torch.cosine_similarity(A, B, dim=1)),
        t("torch.pairwise_distance(A, B)", lambda A, B: torch.pairwise_distance(A, B)),
        t("torch.kron(a, b)", lambda a, b: torch.kron(a, b)),
        t("torch.kron(S, W)", lambda S, W: torch.kron(S, W)),
        t("torch.tensordot(A, M, dims=1)", lambda A, M: torch.tensordot(A, M, dims=1)),
        t("torch.tensordot(T, A, dims=([1, 2], [0, 1]))", lambda T, A: torch.tensordot(T, A, dims=([1, 2], [0, 1]))),
        t("torch.tensordot(A, B, dims=2)", lambda A, B: torch.tensordot(A, B, dims=2)),
        t("torch.einsum('ij,jk->ik', A, M)", lambda A, M: torch.einsum("ij,jk->ik", A, M)),
        t("torch.einsum('ii', S)", lambda S: torch.einsum("ii", S)),
        t("torch.einsum('ij->j', A)", lambda A: torch.einsum("ij->j", A)),
        t("torch.einsum('ij,ij->i', A, B)", lambda A, B: torch.einsum("ij,ij->i", A, B)),
        t("torch.einsum('bij,kj->bik', T, W)", lambda T, W: torch.einsum("bij,kj->bik", T, W)),
        t("torch.einsum('i,j->ij', a, c)", lambda a, c: torch.einsum("i,j->ij", a, c)),
        t("torch.einsum('...j,j->...', T, c)", lambda T, c: torch.einsum("...j,j->...", T, c)),
        t("torch.einsum('ij,jk,kl->il', A, M, S)", lambda A, M, S: torch.einsum("ij,jk,kl->il", A, M, S)),
        t("torch.block_diag(S, W)", lambda S, W: torch.block_diag(S, W)),
        t("torch.cartesian_prod(a, b)", lambda a, b: torch.cartesian_prod(a, b)),
        t("torch.trapz(x)", lambda x: torch.trapz(x)),
        t("torch.trapezoid(x, dx=0.5)", lambda x: torch.trapezoid(x, dx=0.5)),
        t("torch.trapezoid(y, x)", lambda y, x: torch.trapezoid(y, x)),
        t("torch.trapezoid(A, dim=0)", lambda A: torch.trapezoid(A, dim=0)),
        t("torch.cumulative_trapezoid(x)", lambda x: torch.cumulative_trapezoid(x)),
        t("torch.cumulative_trapezoid(y, x)", lambda y, x: torch.cumulative_trapezoid(y, x)),
        t("torch.logcumsumexp(A, 1)", lambda A: torch.logcumsumexp(A, 1)),
        t("torch.vander(a)", lambda a: torch.vander(a)),
        t("torch.vander(a, N=4, increasing=True)", lambda a: torch.vander(a, N=4, increasing=True)),
        t("torch.diagflat(a)", lambda a: torch.diagflat(a)),
        t("torch.diagflat(a, 1)", lambda a: torch.diagflat(a, 1)),
        t("S[torch.tril_indices(3, 3)[0], torch.tril_indices(3, 3)[1]]",
          lambda S: S[torch.tril_indices(3, 3)[0], torch.tril_indices(3, 3)[1]]),
        t("S[tuple(torch.triu_indices(3, 3, 1))]", lambda S: S[tuple(torch.triu_indices(3, 3, 1))]),
        t("torch.stack([x, y], dim=1)", lambda x, y: torch.stack([x, y], dim=1)),
        t("torch.hstack([x, y])", lambda x, y: torch.hstack([x, y])),
        t("torch.vstack([x, y])", lambda x, y: torch.vstack([x, y])),
        t("torch.dstack([A, B])", lambda A, B: torch.dstack([A, B])),
        t("torch.column_stack([x, y])", lambda x, y: torch.column_stack([x, y])),
        t("torch.cat([A, B], dim=1)", lambda A, B: torch.cat([A, B], dim=1)),
        t("torch.meshgrid(a, c, indexing='ij')[0] * A", lambda a, c, A: torch.meshgrid(a, c, indexing="ij")[0] * A),
        t("torch.meshgrid(a, c, indexing='xy')[1] * M", lambda a, c, M: torch.meshgrid(a, c, indexing="xy")[1] * M),
        t("torch.where(x > 0, x, 0.1 * x)", lambda x: torch.where(x > 0, x, 0.1 * x)),
        t("torch.clamp(x, -0.5, 0.5)", lambda x: torch.clamp(x, -0.5, 0.5)),
        t("torch.square(x).sum()", lambda x: torch.square(x).sum()),
        t("torch.dist(x, y)", lambda x, y: torch.dist(x, y)),
        t("torch.dist(x, y, p=1)", lambda x, y: torch.dist(x, y, p=1)),
        t("torch.inner(A, B)", lambda A, B: torch.inner(A, B)),
        t("torch.baddbmm(T[:, :, :3], T, T.transpose(1, 2)[:, :4, :3])",
          lambda T: torch.baddbmm(T[:, :, :3], T, T.transpose(1, 2)[:, :4, :3])),
        t("torch.bmm(T, T.transpose(1, 2))", lambda T: torch.bmm(T, T.transpose(1, 2))),
        t("torch.chain_matmul(A, M, S)", lambda A, M, S: torch.linalg.multi_dot([A, M, S])),
        t("torch.rot90(A)", lambda A: torch.rot90(A)),
        t("torch.polar(p, x)", lambda p, x: torch.polar(p, x), refuse=True),
        t("torch.special.xlog1py(p, x)", lambda p, x: torch.special.xlog1py(p, x)),
        t("torch.special.entr(u)", lambda u: torch.special.entr(u)),
        t("torch.special.log_ndtr(x)", lambda x: torch.special.log_ndtr(x)),
        t("torch.special.ndtr(x)", lambda x: torch.special.ndtr(x)),
        t("torch.special.i0(x)", lambda x: torch.special.i0(x)),
        t("torch.special.expit(x)", lambda x: torch.special.expit(x)),
        # torch.linalg
        t("torch.linalg.norm(S)", lambda S: la.norm(S)),
        t("torch.linalg.norm(S, ord=2)", lambda S: la.norm(S, ord=2)),
        t("torch.linalg.norm(x, ord=3)", lambda x: la.norm(x, ord=3)),
        t("torch.linalg.norm(x, float('inf'))", lambda x: la.norm(x, float("inf"))),
        t("torch.linalg.norm(A, dim=1)", lambda A: la.norm(A, dim=1)),
        t("torch.linalg.vector_norm(A, ord=1, dim=1)", lambda A: la.vector_norm(A, ord=1, dim=1)),
        t("torch.linalg.vector_norm(A)", lambda A: la.vector_norm(A)),
        t("torch.linalg.matrix_norm(S, 'nuc')", lambda S: la.matrix_norm(S, "nuc")),
        t("torch.linalg.matrix_norm(S, ord=1)", lambda S: la.matrix_norm(S, ord=1)),
        t("torch.linalg.matrix_norm(S, ord=-2)", lambda S: la.matrix_norm(S, ord=-2)),
        t("torch.linalg.slogdet(S)[1]", lambda S: la.slogdet(S)[1]),
        t("torch.linalg.slogdet(S).logabsdet", lambda S: la.slogdet(S).logabsdet),
        t("torch.linalg.eigh(P)[0]", lambda P: la.eigh(P)[0]),
        t("torch.linalg.eigh(P).eigenvectors ** 2", lambda P: la.eigh(P).eigenvectors ** 2),
        t("torch.linalg.eigvalsh(P)", lambda P: la.eigvalsh(P)),
        t("torch.linalg.svdvals(A)", lambda A: la.svdvals(A)),
        t("torch.linalg.svd(A, full_matrices=False)[1]", lambda A: la.svd(A, full_matrices=False)[1]),
        t("torch.linalg.pinv(A)", lambda A: la.pinv(A)),
        t("torch.linalg.lstsq(M, A.T).solution", lambda M, A: la.lstsq(M, A.T).solution),
        t("torch.linalg.solve_triangular(U, A, upper=True)", lambda U, A: la.solve_triangular(U, A, upper=True)),
        t("torch.linalg.solve_triangular(U.T, A, upper=False)",
          lambda U, A: la.solve_triangular(U.T, A, upper=False)),
        t("torch.linalg.matrix_exp(0.3 * S)", lambda S: la.matrix_exp(0.3 * S)),
        t("torch.linalg.matrix_power(S, 3)", lambda S: la.matrix_power(S, 3)),
        t("torch.linalg.matrix_power(S, -2)", lambda S: la.matrix_power(S, -2)),
        t("torch.linalg.cross(a, b)", lambda a, b: la.cross(a, b)),
        t("torch.linalg.multi_dot([A, M, S])", lambda A, M, S: la.multi_dot([A, M, S])),
        t("torch.linalg.householder_product(M, a[:2])", lambda M, a: la.householder_product(M, a[:2])),
        t("torch.linalg.cond(S)", lambda S: la.cond(S)),
        t("torch.linalg.cond(S, 'fro')", lambda S: la.cond(S, "fro")),
        t("torch.linalg.matrix_rank(S)", lambda S: la.matrix_rank(S), nondiff=True),
        t("torch.linalg.solve(S, a)", lambda S, a: la.solve(S, a)),
        t("torch.linalg.inv(S)", lambda S: la.inv(S)),
        t("torch.linalg.det(S)", lambda S: la.det(S)),
        t("torch.linalg.cholesky(P)", lambda P: la.cholesky(P)),
        t("torch.linalg.qr(A.T).R", lambda A: la.qr(A.T).R),
        t("torch.linalg.vecdot(A, B)", lambda A, B: la.vecdot(A, B)),
        t("torch.cholesky_solve(A, torch.linalg.cholesky(P))",
          lambda A, P: torch.cholesky_solve(A, la.cholesky(P))),
        t("torch.cholesky_inverse(torch.linalg.cholesky(P))", lambda P: torch.cholesky_inverse(la.cholesky(P))),
        t("torch.linalg.eigvals(S)", lambda S: la.eigvals(S), refuse=True),
        t("torch.linalg.tensorinv(S, ind=1)", lambda S: la.tensorinv(S, ind=1)),
        t("torch.linalg.diagonal(S)", lambda S: la.diagonal(S)),
        # F losses
        t("F.mse_loss(x, y)", lambda x, y: F.mse_loss(x, y)),
        t("F.mse_loss(A, B, reduction='none')", lambda A, B: F.mse_loss(A, B, reduction="none")),
        t("F.l1_loss(x, y, reduction='sum')", lambda x, y: F.l1_loss(x, y, reduction="sum")),
        t("F.smooth_l1_loss(x, y, beta=0.5)", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5)),
        t("F.huber_loss(2 * x, y, delta=0.3)", lambda x, y: F.huber_loss(2 * x, y, delta=0.3)),
        t("F.cross_entropy(L, torch.tensor([0, 2, 4, 1]))", lambda L: F.cross_entropy(L, torch.tensor([0, 2, 4, 1]))),
        t("F.cross_entropy(L, torch.tensor([0, 2, 4, 1]), label_smoothing=0.1)",
          lambda L: F.cross_entropy(L, torch.tensor([0, 2, 4, 1]), label_smoothing=0.1)),
        t("F.cross_entropy(L, R)", lambda L, R: F.cross_entropy(L, R)),
        t("F.cross_entropy(L, R, label_smoothing=0.2, reduction='sum')",
          lambda L, R: F.cross_entropy(L, R, label_smoothing=0.2, reduction="sum")),
        t("F.cross_entropy(L, torch.tensor([0, 2, 4, 1]), weight=p, reduction='none')",
          lambda L, p: F.cross_entropy(L, torch.tensor([0, 2, 4, 1]), weight=p, reduction="none")),
        t("F.cross_entropy(L, torch.tensor([0, 2, 4, 1]), weight=p)",
          lambda L, p: F.cross_entropy(L, torch.tensor([0, 2, 4, 1]), weight=p)),
        t("F.cross_entropy(L, torch.tensor([0, -100, 4, 1]))",
          lambda L: F.cross_entropy(L, torch.tensor([0, -100, 4, 1]))),
        t("F.cross_entropy(x, torch.tensor(3))", lambda x: F.cross_entropy(x, torch.tensor(3))),
        t("F.nll_loss(F.log_softmax(L, 1), torch.tensor([0, 2, 4, 1]))",
          lambda L: F.nll_loss(F.log_softmax(L, 1), torch.tensor([0, 2, 4, 1]))),
        t("F.nll_loss(L, torch.tensor([0, 2, 4, 1]), reduction='sum')",
          lambda L: F.nll_loss(L, torch.tensor([0, 2, 4, 1]), reduction="sum")),
        t("F.kl_div(F.log_softmax(L, 1), R, reduction='batchmean')",
          lambda L, R: F.kl_div(F.log_softmax(L, 1), R, reduction="batchmean")),
        t("F.kl_div(L, Y.log(), log_target=True, reduction='sum')",
          lambda L, Y: F.kl_div(L, Y.log(), log_target=True, reduction="sum")),
        t("F.binary_cross_entropy(u, w)", lambda u, w: F.binary_cross_entropy(u, w)),
        t("F.binary_cross_entropy(u, w, weight=p, reduction='sum')",
          lambda u, w, p: F.binary_cross_entropy(u, w, weight=p, reduction="sum")),
        t("F.binary_cross_entropy_with_logits(x, w)", lambda x, w: F.binary_cross_entropy_with_logits(x, w)),
        t("F.binary_cross_entropy_with_logits(x, w, pos_weight=p)",
          lambda x, w, p: F.binary_cross_entropy_with_logits(x, w, pos_weight=p)),
        t("F.binary_cross_entropy_with_logits(L, Y, pos_weight=p, weight=q)",
          lambda L, Y, p, q: F.binary_cross_entropy_with_logits(L, Y, pos_weight=p, weight=q)),
        t("F.poisson_nll_loss(x, p)", lambda x, p: F.poisson_nll_loss(x, p)),
        t("F.poisson_nll_loss(q, p, log_input=False)", lambda q, p: F.poisson_nll_loss(q, p, log_input=False)),
        t("F.poisson_nll_loss(q, p, log_input=False, full=True)",
          lambda q, p: F.poisson_nll_loss(q, p, log_input=False, full=True)),
        t("F.gaussian_nll_loss(x, y, p)", lambda x, y, p: F.gaussian_nll_loss(x, y, p)),
        t("F.gaussian_nll_loss(x, y, p, full=True, reduction='sum')",
          lambda x, y, p: F.gaussian_nll_loss(x, y, p, full=True, reduction="sum")),
        t("F.cosine_embedding_loss(A, B, torch.tensor([1, -1, 1]))",
          lambda A, B: F.cosine_embedding_loss(A, B, torch.tensor([1, -1, 1]))),
        t("F.margin_ranking_loss(x, y, torch.tensor([1, -1, 1, 1, -1]), margin=0.1)",
          lambda x, y: F.margin_ranking_loss(x, y, torch.tensor([1, -1, 1, 1, -1]), margin=0.1)),
        t("F.hinge_embedding_loss(x, torch.tensor([1, -1, 1, 1, -1]))",
          lambda x: F.hinge_embedding_loss(x, torch.tensor([1, -1, 1, 1, -1]))),
        t("F.soft_margin_loss(x, torch.tensor([1, -1, 1, 1, -1]))",
          lambda x: F.soft_margin_loss(x, torch.tensor([1, -1, 1, 1, -1]))),
        t("F.triplet_margin_loss(A, B, D)", lambda A, B, D: F.triplet_margin_loss(A, B, D)),
        t("F.multilabel_soft_margin_loss(L, Y)", lambda L, Y: F.multilabel_soft_margin_loss(L, Y)),
        t("F.multi_margin_loss(L, torch.tensor([0, 2, 4, 1]))",
          lambda L: F.multi_margin_loss(L, torch.tensor([0, 2, 4, 1]))),
        t("F.multi_margin_loss(L, torch.tensor([0, 2, 4, 1]), p=2, margin=0.5, weight=p, reduction='sum')",
          lambda L, p: F.multi_margin_loss(L, torch.tensor([0, 2, 4, 1]), p=2, margin=0.5, weight=p,
                                           reduction="sum")),
        # F activations
        t("F.hardtanh(2 * x)", lambda x: F.hardtanh(2 * x)),
        t("F.hardtanh(x, -0.5, 0.2)", lambda x: F.hardtanh(x, -0.5, 0.2)),
        t("F.relu6(8 * x)", lambda x: F.relu6(8 * x)),
        t("F.elu(x, alpha=0.5)", lambda x: F.elu(x, alpha=0.5)),
        t("F.selu(x)", lambda x: F.selu(x)),
        t("F.celu(x, alpha=2.0)", lambda x: F.celu(x, alpha=2.0)),
        t("F.leaky_relu(x, 0.2)", lambda x: F.leaky_relu(x, 0.2)),
        t("F.leaky_relu(x, negative_slope=0.05)", lambda x: F.leaky_relu(x, negative_slope=0.05)),
        t("F.prelu(A, c[:1])", lambda A, c: F.prelu(A, c[:1])),
        t("F.prelu(T, a)", lambda T, a: F.prelu(T, a)),
        t("F.rrelu(x)", lambda x: F.rrelu(x)),  # training=False by default: a fixed slope
        t("F.rrelu(x, training=True)", lambda x: F.rrelu(x, training=True), refuse=True),
        t("F.rrelu(x, training=False)", lambda x: F.rrelu(x, training=False)),
        t("F.gumbel_softmax(x)", lambda x: F.gumbel_softmax(x), refuse=True),
        t("F.gelu(x)", lambda x: F.gelu(x)),
        t("F.gelu(x, approximate='tanh')", lambda x: F.gelu(x, approximate="tanh")),
        t("F.silu(x)", lambda x: F.silu(x)),
        t("F.mish(x)", lambda x: F.mish(x)),
        t("F.hardswish(4 * x)", lambda x: F.hardswish(4 * x)),
        t("F.hardsigmoid(4 * x)", lambda x: F.hardsigmoid(4 * x)),
        t("F.softsign(x)", lambda x: F.softsign(x)),
        t("F.tanhshrink(x)", lambda x: F.tanhshrink(x)),
        t("F.softshrink(x, 0.3)", lambda x: F.softshrink(x, 0.3)),
        t("F.hardshrink(x, lambd=0.3)", lambda x: F.hardshrink(x, lambd=0.3)),
        t("F.threshold(x, 0.1, -2.0)", lambda x: F.threshold(x, 0.1, -2.0)),
        t("F.logsigmoid(x)", lambda x: F.logsigmoid(x)),
        t("F.softplus(x, beta=2, threshold=1)", lambda x: F.softplus(x, beta=2, threshold=1)),
        t("F.softmin(A, dim=1)", lambda A: F.softmin(A, dim=1)),
        t("F.log_softmax(A, 0)", lambda A: F.log_softmax(A, 0)),
        t("F.softmax(T, dim=-1)", lambda T: F.softmax(T, dim=-1)),
        t("F.normalize(A)", lambda A: F.normalize(A)),
        t("F.normalize(A, p=1, dim=0)", lambda A: F.normalize(A, p=1, dim=0)),
        t("F.normalize(x, dim=0)", lambda x: F.normalize(x, dim=0)),
        t("F.cosine_similarity(A, B)", lambda A, B: F.cosine_similarity(A, B)),
        t("F.cosine_similarity(x, y, dim=0)", lambda x, y: F.cosine_similarity(x, y, dim=0)),
        t("F.pairwise_distance(A, B, p=1)", lambda A, B: F.pairwise_distance(A, B, p=1)),
        t("F.pdist(A)", lambda A: F.pdist(A)),
        t("F.bilinear(a[None], c[None], T[:1, :, :].expand(2, 3, 4))",
          lambda a, c, T: F.bilinear(a[None], c[None], T[:1, :, :].expand(2, 3, 4))),
        t("F.sigmoid(x) * F.tanh(x)", lambda x: torch.sigmoid(x) * torch.tanh(x)),
        t("F.relu(x)", lambda x: F.relu(x)),
        t("F.softplus(x)", lambda x: F.softplus(x)),
        # numpy
        n("np.linalg.norm(A)", lambda A: np.linalg.norm(A)),
        n("np.linalg.norm(A, ord=1)", lambda A: np.linalg.norm(A, ord=1)),
        n("np.linalg.norm(A, ord=np.inf)", lambda A: np.linalg.norm(A, ord=np.inf)),
        n("np.linalg.norm(S, 2)", lambda S: np.linalg.norm(S, 2)),
        n("np.linalg.norm(S, 'nuc')", lambda S: np.linalg.norm(S, "nuc")),
        n("np.linalg.norm(A, axis=1)", lambda A: np.linalg.norm(A, axis=1)),
        n("np.linalg.norm(x, 3)", lambda x: np.linalg.norm(x, 3)),
        n("np.linalg.norm(x, -np.inf)", lambda x: np.linalg.norm(x, -np.inf)),
        n("np.linalg.det(S)", lambda S: np.linalg.det(S)),
        n("np.linalg.inv(S)", lambda S: np.linalg.inv(S)),
        n("np.linalg.solve(S, a)", lambda S, a: np.linalg.solve(S, a)),
        n("np.linalg.slogdet(S)[1]", lambda S: np.linalg.slogdet(S)[1]),
        # jac reads a symmetric argument as (P + P.T) / 2 (docs/vocabulary-shapes-linalg.md), NumPy its
        # lower triangle: the same value at a symmetric P, but central differences step off the symmetry
        n("np.linalg.eigh(P)[0]", lambda P: np.linalg.eigh((P + P.T) / 2)[0]),
        n("np.linalg.eigvalsh(P)", lambda P: np.linalg.eigvalsh((P + P.T) / 2)),
        n("np.linalg.svd(A, compute_uv=False)", lambda A: np.linalg.svd(A, compute_uv=False)),
        n("np.linalg.pinv(A)", lambda A: np.linalg.pinv(A)),
        n("np.linalg.lstsq(M, c, rcond=None)[0]", lambda M, c: np.linalg.lstsq(M, c, rcond=None)[0]),
        n("np.linalg.matrix_power(S, 3)", lambda S: np.linalg.matrix_power(S, 3)),
        n("np.linalg.cholesky(P)", lambda P: np.linalg.cholesky((P + P.T) / 2)),
        n("np.linalg.qr(M)[1]", lambda M: np.linalg.qr(M)[1]),
        n("np.linalg.cond(S)", lambda S: np.linalg.cond(S)),
        n("np.linalg.multi_dot([A, M, S])", lambda A, M, S: np.linalg.multi_dot([A, M, S])),
        n("np.linalg.matrix_rank(S)", lambda S: np.linalg.matrix_rank(S), nondiff=True),
        n("np.cumsum(A, axis=1)", lambda A: np.cumsum(A, axis=1)),
        n("np.cumprod(x)", lambda x: np.cumprod(x)),
        n("np.cumsum(A)", lambda A: np.cumsum(A)),
        n("np.diff(x, n=2)", lambda x: np.diff(x, n=2)),
        n("np.diff(A, axis=0)", lambda A: np.diff(A, axis=0)),
        n("np.diff(x, prepend=0)", lambda x: np.diff(x, prepend=0)),
        n("np.diff(A, axis=0, append=B[:1])", lambda A, B: np.diff(A, axis=0, append=B[:1])),
        t("torch.diff(x, prepend=y[:2], append=z)", lambda x, y, z: torch.diff(x, prepend=y[:2], append=z)),
        t("torch.gradient(A, spacing=[0.5, 2.0])[1]", lambda A: torch.gradient(A, spacing=[0.5, 2.0])[1]),
        t("torch.quantile(x, torch.tensor([0.25, 0.5]))", lambda x: torch.quantile(x, torch.tensor([0.25, 0.5],
                                                                                              dtype=x.dtype))),
        n("np.gradient(x)", lambda x: np.gradient(x)),
        n("np.gradient(x, 0.5)", lambda x: np.gradient(x, 0.5)),
        n("np.gradient(A, axis=1)", lambda A: np.gradient(A, axis=1)),
        n("np.gradient(x, edge_order=2)", lambda x: np.gradient(x, edge_order=2)),
        n("np.trapezoid(x)", lambda x: np.trapezoid(x)),  # np.trapz: removed in NumPy 2.4, refused (session 34)
        n("np.trapezoid(y, dx=0.1)", lambda y: np.trapezoid(y, dx=0.1)),
        n("np.trapezoid(A, axis=0)", lambda A: np.trapezoid(A, axis=0)),
        n("np.interp(x, [-1, 0, 0.5, 1], [0, 1, 3, 2])", lambda x: np.interp(x, [-1, 0, 0.5, 1], [0, 1, 3, 2])),
        n("np.interp(0.3, np.linspace(-1, 1, 5), y)", lambda y: np.interp(0.3, np.linspace(-1, 1, 5), y)),
        n("np.where(x > 0, x, y)", lambda x, y: np.where(x > 0, x, y)),
        n("np.clip(x, -0.5, 0.5)", lambda x: np.clip(x, -0.5, 0.5)),
        n("np.einsum('ij,jk', A, M)", lambda A, M: np.einsum("ij,jk", A, M)),
        n("np.einsum('ij,ij->', A, B)", lambda A, B: np.einsum("ij,ij->", A, B)),
        n("np.einsum('i,i', x, y)", lambda x, y: np.einsum("i,i", x, y)),
        n("np.tensordot(A, M, axes=1)", lambda A, M: np.tensordot(A, M, axes=1)),
        n("np.tensordot(A, B, axes=([1], [1]))", lambda A, B: np.tensordot(A, B, axes=([1], [1]))),
        n("np.kron(a, c)", lambda a, c: np.kron(a, c)),
        n("np.outer(a, c)", lambda a, c: np.outer(a, c)),
        n("np.inner(A, B)", lambda A, B: np.inner(A, B)),
        n("np.cross(a, b)", lambda a, b: np.cross(a, b)),
        n("np.vdot(A, B)", lambda A, B: np.vdot(A, B)),
        n("np.tile(a, 2)", lambda a: np.tile(a, 2)),
        n("np.tile(A, (2, 1))", lambda A: np.tile(A, (2, 1))),
        n("np.repeat(a, 2)", lambda a: np.repeat(a, 2)),
        n("np.repeat(A, [1, 0, 2], axis=0)", lambda A: np.repeat(A, [1, 0, 2], axis=0)),
        n("np.flip(A)", lambda A: np.flip(A)),
        n("np.flip(A, 1)", lambda A: np.flip(A, 1)),
        n("np.fliplr(A)", lambda A: np.fliplr(A)),
        n("np.rot90(A, 2)", lambda A: np.rot90(A, 2)),
        n("np.roll(x, -1)", lambda x: np.roll(x, -1)),
        n("np.roll(A, 1, axis=1)", lambda A: np.roll(A, 1, axis=1)),
        n("np.triu(S, 1)", lambda S: np.triu(S, 1)),
        n("np.tril(S)", lambda S: np.tril(S)),
        n("np.moveaxis(T, 0, -1)", lambda T: np.moveaxis(T, 0, -1)),
        n("np.swapaxes(T, 0, 2)", lambda T: np.swapaxes(T, 0, 2)),
        n("np.expand_dims(x, 0)", lambda x: np.expand_dims(x, 0)),
        n("np.squeeze(A[:1])", lambda A: np.squeeze(A[:1])),
        n("np.concatenate([A, B], axis=1)", lambda A, B: np.concatenate([A, B], axis=1)),
        n("np.concatenate([A, B], axis=None)", lambda A, B: np.concatenate([A, B], axis=None)),
        n("np.split(x, [2])[1]", lambda x: np.split(x, [2])[1]),
        n("np.array_split(x, 2)[0]", lambda x: np.array_split(x, 2)[0]),
        n("np.hsplit(A, 2)[1]", lambda A: np.hsplit(A, 2)[1]),
        n("np.sort(x)", lambda x: np.sort(x)),
        n("np.sort(A, axis=0)", lambda A: np.sort(A, axis=0)),
        n("np.median(x)", lambda x: np.median(x)),
        n("np.median(A, axis=1)", lambda A: np.median(A, axis=1)),
        n("np.percentile(x, 30)", lambda x: np.percentile(x, 30)),
        n("np.quantile(A, 0.25, axis=1)", lambda A: np.quantile(A, 0.25, axis=1)),
        n("np.quantile(x, [0.1, 0.9])", lambda x: np.quantile(x, [0.1, 0.9])),
        n("np.average(x, weights=p)", lambda x, p: np.average(x, weights=p)),
        n("np.average(A, axis=1, weights=c)", lambda A, c: np.average(A, axis=1, weights=c)),
        n("np.std(x, ddof=1)", lambda x: np.std(x, ddof=1)),
        n("np.std(A, axis=0)", lambda A: np.std(A, axis=0)),
        n("np.var(A, axis=1, ddof=1)", lambda A: np.var(A, axis=1, ddof=1)),
        n("np.var(x)", lambda x: np.var(x)),
        n("np.ptp(x)", lambda x: np.ptp(x)),
        n("np.ptp(A, axis=1)", lambda A: np.ptp(A, axis=1)),
        n("np.nanmean(A, axis=0)", lambda A: np.nanmean(A, axis=0)),
        n("np.nansum(x)", lambda x: np.nansum(x)),
        n("np.nanstd(x)", lambda x: np.nanstd(x)),
        n("np.nanvar(A, axis=1, ddof=1)", lambda A: np.nanvar(A, axis=1, ddof=1)),
        n("np.nanmax(A, axis=1)", lambda A: np.nanmax(A, axis=1)),
        n("np.hypot(x, y)", lambda x, y: np.hypot(x, y)),
        n("np.arctan2(x, y)", lambda x, y: np.arctan2(x, y)),
        n("np.sinc(x)", lambda x: np.sinc(x)),
        n("np.logaddexp(x, y)", lambda x, y: np.logaddexp(x, y)),
        n("np.logaddexp2(x, y)", lambda x, y: np.logaddexp2(x, y)),
        n("np.heaviside(x, 0.5) * y", lambda x, y: np.heaviside(x, 0.5) * y),
        n("np.sign(x) * y", lambda x, y: np.sign(x) * y),
        n("np.fmax(x, y)", lambda x, y: np.fmax(x, y)),
        n("np.fmin(x, y)", lambda x, y: np.fmin(x, y)),
        n("np.round(x, 1) + x", lambda x: np.round(x, 1) + x),
        n("np.around(x * 10) * y", lambda x, y: np.around(x * 10) * y),
        n("np.fmod(x, 0.3)", lambda x: np.fmod(x, 0.3)),
        n("np.mod(x, 0.3)", lambda x: np.mod(x, 0.3)),
        n("np.remainder(x, p)", lambda x, p: np.remainder(x, p)),
        n("np.cbrt(p)", lambda p: np.cbrt(p)),
        n("np.exp2(x)", lambda x: np.exp2(x)),
        n("np.log2(p)", lambda p: np.log2(p)),
        n("np.reciprocal(p)", lambda p: np.reciprocal(p)),
        n("np.square(x)", lambda x: np.square(x)),
        n("np.deg2rad(x)", lambda x: np.deg2rad(x)),
        n("np.mean(A, axis=(0, 1))", lambda A: np.mean(A, axis=(0, 1))),
        n("np.max(A, axis=0)", lambda A: np.max(A, axis=0)),
        n("np.amax(A, axis=1)", lambda A: np.amax(A, axis=1)),
        n("np.prod(A, axis=0)", lambda A: np.prod(A, axis=0)),
        n("np.trace(S)", lambda S: np.trace(S)),
        n("np.trace(T, axis1=1, axis2=2)", lambda T: np.trace(T, axis1=1, axis2=2)),
        n("np.diag(S)", lambda S: np.diag(S)),
        n("np.diag(a, 1)", lambda a: np.diag(a, 1)),
        n("np.diagonal(T, axis1=1, axis2=2)", lambda T: np.diagonal(T, axis1=1, axis2=2)),
        n("np.dot(A, M)", lambda A, M: np.dot(A, M)),
        n("np.matmul(T, M)", lambda T, M: np.matmul(T, M)),
        n("np.stack([x, y], axis=1)", lambda x, y: np.stack([x, y], axis=1)),
        n("np.vstack([x, y])", lambda x, y: np.vstack([x, y])),
        n("np.hstack([A, B])", lambda A, B: np.hstack([A, B])),
        n("np.dstack([a, b])", lambda a, b: np.dstack([a, b])),
        n("np.column_stack([a, b])", lambda a, b: np.column_stack([a, b])),
        n("np.atleast_2d(x)", lambda x: np.atleast_2d(x)),
        n("np.reshape(A, (2, -1))", lambda A: np.reshape(A, (2, -1))),
        n("np.ravel(A)", lambda A: np.ravel(A)),
        n("A.flatten()", lambda A: A.flatten()),
        n("np.transpose(T, (1, 0, 2))", lambda T: np.transpose(T, (1, 0, 2))),
        n("np.convolve(x, a, mode='same')", lambda x, a: np.convolve(x, a, mode="same")),
        n("np.correlate(x, a, mode='valid')", lambda x, a: np.correlate(x, a, mode="valid")),
        n("np.polyval(a, x)", lambda a, x: np.polyval(a, x)),
        n("np.vander(a, 3)", lambda a: np.vander(a, 3)),
        n("np.maximum(x, 0)", lambda x: np.maximum(x, 0)),
        n("np.abs(x).sum()", lambda x: np.abs(x).sum()),
        n("np.log1p(p)", lambda p: np.log1p(p)),
        n("np.expm1(x)", lambda x: np.expm1(x)),
        n("np.arcsinh(x)", lambda x: np.arcsinh(x)),
        n("np.sqrt(p).mean()", lambda p: np.sqrt(p).mean()),
        n("np.cumsum(x[::-1])[::-1]", lambda x: np.cumsum(x[::-1])[::-1]),
        n("np.take(x, [0, 3, 3])", lambda x: np.take(x, [0, 3, 3])),
        n("np.take_along_axis(A, np.argsort(A, axis=1), axis=1)",
          lambda A: np.take_along_axis(A, np.argsort(A, axis=1), axis=1)),
        n("np.linalg.tensorsolve(S, a)", lambda S, a: np.linalg.tensorsolve(S, a)),
        n("np.linalg.matrix_power(S, -1)", lambda S: np.linalg.matrix_power(S, -1)),
        n("np.linalg.eigvals(S)", lambda S: np.linalg.eigvals(S), refuse=True),
        n("np.random.normal(size=3) * s", lambda s: s, refuse=True),
        n("np.i0(x)", lambda x: np.i0(x)),
        n("np.unwrap(4 * x)", lambda x: np.unwrap(4 * x)),
        n("np.select([x > 0.5, x < -0.5], [x, -x], 0.1 * x)",
          lambda x: np.select([x > 0.5, x < -0.5], [x, -x], 0.1 * x)),
        n("np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])",
          lambda x: np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]), refuse=True),
        n("np.polyfit(x, y, 2)", lambda x, y: np.polyfit(x, y, 2)),
        n("np.cov(A)", lambda A: np.cov(A)),
        n("np.corrcoef(A)", lambda A: np.corrcoef(A)),
        n("np.histogram(x)[0]", lambda x: np.histogram(x)[0], nondiff=True),
        # the second sweep (hvocab2): more of the calls around the ones refused above
        t("F.interpolate(T, size=6, mode='linear')", lambda T: F.interpolate(T, size=6, mode="linear")),
        t("F.interpolate(T, scale_factor=2.5)", lambda T: F.interpolate(T, scale_factor=2.5)),
        t("F.interpolate(T[None], scale_factor=1.5, mode='bilinear', align_corners=True)",
          lambda T: F.interpolate(T[None], scale_factor=1.5, mode="bilinear", align_corners=True)),
        t("F.interpolate(T[None], size=(2, 7), mode='bilinear')",
          lambda T: F.interpolate(T[None], size=(2, 7), mode="bilinear")),
        t("F.interpolate(T[None, None], size=(3, 2, 5), mode='trilinear')",
          lambda T: F.interpolate(T[None, None], size=(3, 2, 5), mode="trilinear")),
        t("F.interpolate(T, size=3, mode='nearest-exact')", lambda T: F.interpolate(T, size=3, mode="nearest-exact")),
        t("F.interpolate(T[None], size=4, mode='bicubic')", lambda T: F.interpolate(T[None], size=4, mode="bicubic")),
        t("F.pixel_shuffle(T.reshape(1, 4, 3, 2), 2)", lambda T: F.pixel_shuffle(T.reshape(1, 4, 3, 2), 2)),
        t("F.pixel_unshuffle(T.reshape(1, 1, 4, 6), 2)", lambda T: F.pixel_unshuffle(T.reshape(1, 1, 4, 6), 2)),
        t("F.local_response_norm(T, 2)", lambda T: F.local_response_norm(T, 2)),
        t("F.local_response_norm(T[None], 3, alpha=0.5, k=2.0)",
          lambda T: F.local_response_norm(T[None], 3, alpha=0.5, k=2.0)),
        t("torch.renorm(A, 1, 1, 0.8)", lambda A: torch.renorm(A, 1, 1, 0.8)),
        t("torch.special.i0e(x)", lambda x: torch.special.i0e(x)),
        t("torch.special.i1(x) + torch.special.i1e(y)", lambda x, y: torch.special.i1(x) + torch.special.i1e(y)),
        t("torch.i0(x)", lambda x: torch.i0(x)),
        t("torch.nanmedian(A, 1).values", lambda A: torch.nanmedian(A, 1).values),
        t("torch.linalg.tensorsolve(S, a)", lambda S, a: la.tensorsolve(S, a)),
        t("torch.linalg.householder_product(T[0].T, b[:2])", lambda T, b: la.householder_product(T[0].T, b[:2])),
        t("A[list(torch.tril_indices(3, 4))]", lambda A: A[tuple(torch.tril_indices(3, 4))]),
        n("np.nanmedian(A, axis=0)", lambda A: np.nanmedian(A, axis=0)),
        n("np.histogram(x, 3)[1]", lambda x: np.histogram(x, 3)[1]),
        n("np.histogram(x, 3, weights=p, density=True)[0]", lambda x, p: np.histogram(x, 3, weights=p, density=True)[0]),
        n("np.polyfit(x, y, 3, w=p)", lambda x, y, p: np.polyfit(x, y, 3, w=p)),
        n("np.piecewise(x, [x < 0, x >= 0], [-1.5, 2.0])", lambda x: np.piecewise(x, [x < 0, x >= 0], [-1.5, 2.0]),
          nondiff=True),
        n("np.linalg.tensorinv(P, ind=1)", lambda P: np.linalg.tensorinv(P, ind=1)),
        n("scipy.special.i1(x)", lambda x: __import__("scipy.special").special.i1(x)),
    ] + edge_cases() + vocab10_cases()


def _filled(S, a):
    out = S * 1
    np.fill_diagonal(out, a)
    return out


def vocab10_cases() -> list:
    """The third sweep (hvocab10): Bessel functions, frexp, where= reductions, partition, index arithmetic,
    fill_diagonal, unfold / fold, and the refusals that say why."""
    import scipy.special as sp
    import torch
    F = torch.nn.functional
    return [
        # PyTorch has no derivative for these (its jacobian is zeros): PyTorch's values, central differences
        n("torch.special.modified_bessel_k0(p)", lambda p: torch.special.modified_bessel_k0(torch.tensor(p)).numpy()),
        n("torch.special.scaled_modified_bessel_k1(p) + torch.special.modified_bessel_i1(x)",
          lambda p, x: (torch.special.scaled_modified_bessel_k1(torch.tensor(p))
                        + torch.special.modified_bessel_i1(torch.tensor(x))).numpy()),
        t("torch.special.bessel_j0(x)", lambda x: torch.special.bessel_j0(x), refuse=True),
        n("scipy.special.j1(x) + scipy.special.y0(p) * scipy.special.k1e(q)",
          lambda x, p, q: sp.j1(x) + sp.y0(p) * sp.k1e(q)),
        t("torch.frexp(x).mantissa", lambda x: torch.frexp(x).mantissa),
        n("np.frexp(x)[1]", lambda x: np.frexp(x)[1], nondiff=True),
        n("np.ldexp(x, 3)", lambda x: np.ldexp(x, 3)),
        n("np.sum(A, axis=1, where=A > 0)", lambda A: np.sum(A, axis=1, where=A > 0)),
        n("np.max(A, axis=0, initial=0.5, where=A < 0.9)", lambda A: np.max(A, axis=0, initial=0.5, where=A < 0.9)),
        n("np.mean(A, where=A > 0)", lambda A: np.mean(A, where=A > 0)),
        n("np.prod(p, where=p > 1, initial=2.0)", lambda p: np.prod(p, where=p > 1, initial=2.0)),
        n("np.partition(x, 2)", lambda x: np.partition(x, 2)),
        n("np.argpartition(x, 2)", lambda x: np.argpartition(x, 2), nondiff=True),
        n("np.lexsort((x, y))", lambda x, y: np.lexsort((x, y)), nondiff=True),
        n("np.unravel_index(np.argmax(A), A.shape)[1]", lambda A: np.unravel_index(np.argmax(A), A.shape)[1],
          nondiff=True),
        n("np.ravel_multi_index((np.argmax(A, axis=0), [0, 1, 2, 3]), A.shape)",
          lambda A: np.ravel_multi_index((np.argmax(A, axis=0), [0, 1, 2, 3]), A.shape), nondiff=True),
        n("Z = S * 1; np.fill_diagonal(Z, a); Z", lambda S, a: _filled(S, a)),
        t("F.unfold(T[None], 2)", lambda T: F.unfold(T[None], 2)),
        t("F.fold(F.unfold(T[None], 2, padding=1), (3, 4), 2, padding=1)",
          lambda T: F.fold(F.unfold(T[None], 2, padding=1), (3, 4), 2, padding=1)),
        t("torch.linalg.ldl_factor(P)[0]", lambda P: torch.linalg.ldl_factor(P)[0], refuse=True),
    ]


def edge_cases() -> list:
    """Kinks, ties, zeros and -inf, where a silently wrong derivative hides; PyTorch decides (what jac
    documents as a deliberate difference is marked and reported as ``differs``)."""
    import torch
    F = torch.nn.functional
    la = torch.linalg
    return [
        t("e.norm(p=1)", lambda e: e.norm(p=1)),
        t("e.abs()", lambda e: e.abs()),
        t("F.relu(e)", lambda e: F.relu(e)),
        t("F.leaky_relu(e, 0.2)", lambda e: F.leaky_relu(e, 0.2)),
        t("F.elu(e)", lambda e: F.elu(e)),
        t("F.prelu(e, e[3:4])", lambda e: F.prelu(e, e[3:4])),
        t("F.hardtanh(k)", lambda k: F.hardtanh(k)),
        t("k.clamp(-1, 1)", lambda k: k.clamp(-1, 1)),
        t("k.clamp_min(0.1)", lambda k: k.clamp_min(0.1)),
        t("F.threshold(k, 0.1, 0.0)", lambda k: F.threshold(k, 0.1, 0.0)),
        t("F.softshrink(k, 0.5)", lambda k: F.softshrink(k, 0.5)),
        t("F.hardsigmoid(3 * k)", lambda k: F.hardsigmoid(3 * k)),
        t("F.hardswish(3 * k)", lambda k: F.hardswish(3 * k)),
        t("F.relu6(6 * k)", lambda k: F.relu6(6 * k)),
        t("torch.maximum(e, e.flip(0))", lambda e: torch.maximum(e, e.flip(0))),
        t("e.max()", lambda e: e.max()),
        t("e.amax(0)", lambda e: e.amax(0)),
        t("torch.max(e, 0).values", lambda e: torch.max(e, 0).values),
        t("e.sort().values", lambda e: e.sort().values),
        t("e.median()", lambda e: e.median(),
          differs="a tie: jac's derivative goes to the element torch.median(x, 0) indexes, PyTorch's shares it"),
        t("e.prod()", lambda e: e.prod()),
        t("e[1:].prod()", lambda e: e[1:].prod()),
        t("e.cumprod(0)", lambda e: e.cumprod(0)),
        t("e.pow(2)", lambda e: e.pow(2)),
        t("e ** 3", lambda e: e ** 3),
        t("o.sign() * o", lambda o: o.sign() * o),
        t("o.copysign(o)", lambda o: o.copysign(o)),
        t("torch.where(e > 0, e, 0.0)", lambda e: torch.where(e > 0, e, 0.0)),
        t("e.xlogy(e + 1)", lambda e: e.xlogy(e + 1)),
        t("n.logsumexp(0)", lambda n: n.logsumexp(0)),
        t("n.softmax(0)", lambda n: n.softmax(0)),
        t("n.log_softmax(0)", lambda n: n.log_softmax(0)),
        t("n.logcumsumexp(0)", lambda n: n.logcumsumexp(0),
          differs="a -inf element's weight exp(-inf - y) is 0 in jac, NaN in PyTorch"),
        t("j.logsumexp(0)", lambda j: j.logsumexp(0)),
        t("j.logcumsumexp(0)", lambda j: j.logcumsumexp(0)),
        t("m.logsumexp(0)", lambda m: m.logsumexp(0)),
        t("m.logcumsumexp(0)", lambda m: m.logcumsumexp(0),
          differs="a -inf element's weight exp(-inf - y) is 0 in jac, NaN in PyTorch"),
        t("m.softmax(0)", lambda m: m.softmax(0)),
        t("j.softmax(0)", lambda j: j.softmax(0)),
        t("j.log_softmax(0)", lambda j: j.log_softmax(0),
          differs="x - logsumexp(x) beside +inf is -inf in jac, NaN in PyTorch"),
        t("j.cumsum(0)", lambda j: j.cumsum(0)),
        t("j.cumprod(0)", lambda j: j.cumprod(0), differs="0 · inf = NaN in other places of the Jacobian"),
        t("j.norm()", lambda j: j.norm()),
        t("F.normalize(j, dim=0)", lambda j: F.normalize(j, dim=0)),
        t("F.softplus(j)", lambda j: F.softplus(j)),
        t("F.logsigmoid(-j)", lambda j: F.logsigmoid(-j)),
        t("torch.sigmoid(m)", lambda m: torch.sigmoid(m)),
        t("F.gelu(m)", lambda m: F.gelu(m), differs="off-diagonal 0 (element-wise), PyTorch NaN"),
        t("F.silu(m)", lambda m: F.silu(m), differs="off-diagonal 0 (element-wise), PyTorch NaN"),
        t("F.mish(m)", lambda m: F.mish(m), differs="off-diagonal 0 (element-wise), PyTorch NaN"),
        t("F.elu(m)", lambda m: F.elu(m)),
        t("F.binary_cross_entropy_with_logits(j, j / j)", lambda j: F.binary_cross_entropy_with_logits(j, j / j)),
        t("F.cross_entropy(n[None], torch.tensor([4]))", lambda n: F.cross_entropy(n[None], torch.tensor([4]))),
        t("F.normalize(Z)", lambda Z: F.normalize(Z)),
        t("F.cosine_similarity(Z, Z.flip(0))", lambda Z: F.cosine_similarity(Z, Z.flip(0))),
        t("F.pairwise_distance(Z, Z)", lambda Z: F.pairwise_distance(Z, Z)),
        t("torch.cdist(Z, Z)", lambda Z: torch.cdist(Z, Z)),
        t("F.pdist(H)", lambda H: F.pdist(H)),
        t("Z.norm(dim=1)", lambda Z: Z.norm(dim=1)),
        t("torch.linalg.vector_norm(Z, ord=3, dim=1)", lambda Z: la.vector_norm(Z, ord=3, dim=1)),
        t("torch.linalg.vector_norm(Z, ord=float('inf'), dim=1)",
          lambda Z: la.vector_norm(Z, ord=float("inf"), dim=1)),
        t("torch.linalg.matrix_rank(H)", lambda H: la.matrix_rank(H), nondiff=True),
        t("torch.linalg.svdvals(H)", lambda H: la.svdvals(H),
          differs="a zero singular value is a kink: u vᵀ with LAPACK's signs, PyTorch's the opposite here"),
        t("F.mse_loss(e, e.flip(0))", lambda e: F.mse_loss(e, e.flip(0))),
        t("F.l1_loss(e, e.flip(0))", lambda e: F.l1_loss(e, e.flip(0))),
        t("F.smooth_l1_loss(e, e.flip(0))", lambda e: F.smooth_l1_loss(e, e.flip(0))),
        t("F.huber_loss(e, 2 * e.flip(0), delta=0.5)", lambda e: F.huber_loss(e, 2 * e.flip(0), delta=0.5)),
        t("F.hinge_embedding_loss(e, torch.tensor([1, -1, 1, -1, -1]))",
          lambda e: F.hinge_embedding_loss(e, torch.tensor([1, -1, 1, -1, -1]))),
        t("F.margin_ranking_loss(e, e.flip(0), torch.tensor([1, 1, -1, 1, -1]))",
          lambda e: F.margin_ranking_loss(e, e.flip(0), torch.tensor([1, 1, -1, 1, -1]))),
        t("x.hypot(o)", lambda x, o: x.hypot(o)),
        t("x.atan2(o)", lambda x, o: x.atan2(o)),
        t("(3 * e).fmod(1.5)", lambda e: (3 * e).fmod(1.5)),
        t("(3 * e).remainder(1.5)", lambda e: (3 * e).remainder(1.5)),
        t("e.diff(prepend=e[:1])", lambda e: e.diff(prepend=e[:1])),
        t("torch.quantile(e, 0.5)", lambda e: torch.quantile(e, 0.5)),
        # det at a singular matrix: the cofactor matrix, torch.func.jacrev's (the eager backward writes 0 there)
        t("torch.linalg.det(H)", lambda H: la.det(H), jacrev=True),
        t("torch.det(H * 0)", lambda H: torch.det(H * 0), jacrev=True),
        t("torch.linalg.det(H[::2, :2])", lambda H: la.det(H[::2, :2]), jacrev=True),
        t("H.det() * x[0]", lambda H, x: H.det() * x[0], jacrev=True),
        n("np.linalg.det(H)", lambda H: np.linalg.det(H)),
        t("torch.logdet(H)", lambda H: torch.logdet(H), refuse=True),   # -inf; its derivative does not exist
        t("torch.special.entr(e)", lambda e: torch.special.entr(e),
          differs="entr is -inf for x < 0: jac's derivative there is 0 (a constant), PyTorch's NaN"),
        t("torch.special.entr(o)", lambda o: torch.special.entr(o),
          differs="entr is -inf for x < 0: jac's derivative there is 0 (a constant), PyTorch's NaN"),
        t("torch.special.i0(o) + torch.special.i1(o) + torch.special.i0e(o) + torch.special.i1e(o)",
          lambda o: torch.special.i0(o) + torch.special.i1(o) + torch.special.i0e(o) + torch.special.i1e(o)),
        t("torch.renorm(Z, 2, 0, 1.0)", lambda Z: torch.renorm(Z, 2, 0, 1.0)),
        t("torch.nanmedian(n)", lambda n: torch.nanmedian(n)),
        t("F.interpolate(n[None, None], size=8, mode='linear')",
          lambda n: F.interpolate(n[None, None], size=8, mode="linear")),
    ]


# -- running one case ----------------------------------------------------------------------------

def _literal(v: np.ndarray) -> str:
    text = json.dumps(np.asarray(v, dtype=np.float64).tolist())
    return text.replace("-Infinity", "-inf").replace("Infinity", "inf").replace("NaN", "nan")


def _decode(v):
    if isinstance(v, str):
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[v]
    if isinstance(v, list):
        return [_decode(e) for e in v]
    return v


def reference(case: Case) -> tuple:
    """(value, {name: Jacobian}, whether the Jacobians are central differences) from the reference."""
    inputs = case.inputs()
    if case.lib == "torch":
        import torch
        from torch.autograd.functional import jacobian
        args = tuple(torch.tensor(inputs[k], dtype=torch.float64) for k in case.names)

        def f(*xs):
            out = case.ref(*xs)
            return out if out.is_floating_point() else out.double()

        value = f(*args).detach().numpy()
        if case.jacrev:
            jac = torch.func.jacrev(f, argnums=tuple(range(len(args))))(*args)
            return value, {k: np.asarray(j.numpy()) for k, j in zip(case.names, jac)}, False
        if case.nondiff:
            return value, {k: np.zeros(value.shape + inputs[k].shape) for k in case.names}, False
        try:
            jac = jacobian(f, args)
        except RuntimeError:  # PyTorch does not differentiate this argument (weight=, heaviside)
            return value, _central(lambda **kw: f(*(torch.tensor(kw[k]) for k in case.names)).detach().numpy(),
                                   inputs, case.nondiff)[1], True
        return value, {k: np.asarray(j.numpy()) for k, j in zip(case.names, jac)}, False
    return (*_central(lambda **kw: case.ref(**kw), inputs, case.nondiff), True)


def _central(fn, inputs: dict, nondiff: bool) -> tuple:
    """The value and central-difference Jacobians of ``fn(**inputs)``."""
    def f(**kw):
        return np.asarray(fn(**kw), dtype=np.float64)

    value = f(**inputs)
    jacs = {}
    for k, x in inputs.items():
        J = np.zeros(value.shape + x.shape)
        for idx in np.ndindex(x.shape):
            h = 1e-6 * max(1.0, abs(x[idx]))
            up, down = x.copy(), x.copy()
            up[idx] += h
            down[idx] -= h
            J[(...,) + idx] = (f(**{**inputs, k: up}) - f(**{**inputs, k: down})) / (2 * h)
        jacs[k] = np.zeros_like(J) if nondiff else J
    return value, jacs


def run_jac(case: Case) -> tuple:
    args = [sys.executable, "-m", "jacobi_cli", "eval", "--json", case.expr]
    args += [f"{k}={_literal(v)}" for k, v in case.inputs().items()]
    env = {**os.environ, "PYTHONPATH": ROOT, "COLUMNS": "200"}
    env.pop("JAC_DEBUG", None)
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return "timeout", "", ""
    return proc.returncode, proc.stdout, proc.stderr


def classify(case: Case) -> tuple:
    """(class, detail)."""
    code, out, err = run_jac(case)
    if code == 2 and "Traceback" not in err:
        message = err.strip().splitlines()[0] if err.strip() else "(no message)"
        return ("refused-ok" if case.refuse else "refused"), message
    if code != 0 or "Traceback" in err:
        return "crash", f"exit {code}: {err.strip().splitlines()[-1] if err.strip() else ''}"
    if case.refuse:
        return "wrong", "computed where it must refuse"
    try:
        value, jacs, central = reference(case)
    except Exception as e:  # noqa: BLE001 - a reference that cannot run is reported, not a jac failure
        return "noref", f"reference failed: {type(e).__name__}: {e}"
    doc = json.loads(out)
    ours = np.asarray(_decode(doc["output"]["value"]), dtype=np.float64)
    rtol, atol = (1e-5, 1e-6) if central else (1e-7, 1e-9)
    problems = []
    if ours.shape != value.shape:
        problems.append(f"value shape {ours.shape}, reference {value.shape}")
    elif not np.allclose(ours, value, rtol=rtol, atol=atol, equal_nan=True):
        problems.append(f"value differs by {np.nanmax(abs(ours - value)):.3g}")
    for k, ref in jacs.items():
        block = doc.get("jacobian", {}).get(k)
        if block is None:
            if np.any(ref != 0):
                problems.append(f"no Jacobian for {k}")
            continue
        J = np.asarray(_decode(block["value"]), dtype=np.float64)
        if J.shape != ref.shape:
            problems.append(f"d/d{k} shape {J.shape}, reference {ref.shape}")
        elif not np.allclose(J, ref, rtol=rtol, atol=atol * 10 if central else atol, equal_nan=True):
            problems.append(f"d/d{k} differs by {np.nanmax(abs(J - ref)):.3g}")
    if problems and case.differs:
        return "differs", f"{'; '.join(problems)} ({case.differs})"
    return ("wrong", "; ".join(problems)) if problems else ("ok", "")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="", help="only cases whose expression contains this")
    parser.add_argument("--edges", action="store_true", help="only the edge-value cases")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="a line for every case, ok included")
    opts = parser.parse_args()
    todo = [c for c in (edge_cases() if opts.edges else cases()) if opts.k in c.expr]
    with ThreadPoolExecutor(opts.jobs) as pool:
        results = list(pool.map(classify, todo))
    counts: dict = {}
    for case, (kind, detail) in zip(todo, results):
        counts[kind] = counts.get(kind, 0) + 1
        if kind != "ok" or opts.verbose:
            print(f"{kind:10} {case.expr}  {detail}")
    print(f"{len(todo)} cases: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 1 if counts.get("wrong") or counts.get("crash") else 0


if __name__ == "__main__":
    sys.exit(main())
