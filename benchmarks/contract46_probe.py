"""contract46: the sentences of ../shared/CONTRACT.md earlier audits read least, run against the libraries (session 46).

    PYTHONPATH=. /work/venv/bin/python benchmarks/contract46_probe.py [-k SUBSTRING] [-v]

contract29/30/35/38 checked the commands, keys, shapes, exits, files and limits clause by clause. This probe reads
the sentences they took on trust, and answers each from PyTorch 2.13 and NumPy themselves (every call in this
process through ``entry.main`` with ``--json``, as the ``jac`` script runs it):

- readings: "Where a spelling means different things in PyTorch and NumPy, the library named decides; an
  ambiguous bare method is refused with both readings." For a table of spellings both libraries answer (functions
  bare / ``torch.`` / ``np.`` / ``scipy.special.``, and methods both ``Tensor`` and ``ndarray`` have), the real
  libraries run the same text: ``torch.NAME`` must be PyTorch's value (or refused), ``np.NAME`` NumPy's (or
  refused), and the bare or method spelling must be refused where the two libraries' values differ, and where they
  agree, be that value; sweep: the same rule for every bare name of jac's table both libraries have and every
  method ``Tensor`` and ``ndarray`` share, in common call patterns;
- derivatives: each answered spelling's Jacobian against ``torch.autograd.functional.jacobian`` of PyTorch's reading
  (or central differences of NumPy's);
- newcomer: ten everyday snippets of autodiff tutorials pasted as written, their values, gradients and Hessians
  against PyTorch: refused or right, never wrong;
- the newer sections (batches, several outputs, higher orders) against ``torch.func``: ``--batch NAME:AXIS`` with
  ``--v`` / ``--tangent`` carrying the batch axis, a several-output ``vjp`` (omitted outputs zero), ``hessian`` of a
  vector output and of several, ``derivative --order 3`` under a batch; ``--json``'s keys and types there;
- errors: the ``position`` of an error in a later line, after a tab, after non-ASCII text; ``--json`` on every kind.

Prints each deviation; the counts at the end; exit 1 if there is one."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import warnings

import numpy as np

from jacobi_cli.cli import entry

CHECKS = []
VERBOSE = False


def check(fn):
    CHECKS.append(fn)
    return fn


def jac(*args):
    """(exit code, the --json object or None, stderr) of one call of jac in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = entry.main([str(a) for a in [*args, "--json"]])
        except BaseException as e:  # noqa: BLE001 - anything escaping is a deviation
            return f"raised {e!r}", None, err.getvalue()
    try:
        obj = json.loads(out.getvalue())
    except ValueError:
        obj = None
    return code, obj, err.getvalue()


class Tally:
    def __init__(self):
        self.passed, self.refused, self.deviations = 0, 0, []

    def ok(self, what):
        self.passed += 1
        if VERBOSE:
            print("ok      ", what)

    def refuse(self, what, message):
        self.refused += 1
        if VERBOSE:
            print("refused ", what, "--", message[:120])

    def bad(self, what, detail):
        self.deviations.append((what, detail))
        print("DEVIATION", what, "--", detail)


def value_of(obj):
    out = obj.get("output") or obj.get("outputs")
    return out["value"] if isinstance(out, dict) else [o["value"] for o in out]


def same(a, b, rtol=1e-9, atol=1e-12):
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def torch_value(text, bindings):
    """What PyTorch computes for TEXT with the bindings as float64 tensors (None if it raises)."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    names = {k: torch.tensor(v, dtype=torch.float64) for k, v in bindings.items()}
    torch.set_default_dtype(torch.float64)  # jac's constructors make --dtype values (float64 here)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = eval(text, {"torch": torch, "F": F, "inf": float("inf")}, names)  # noqa: S307 - our own table
    except Exception:  # noqa: BLE001 - PyTorch refusing is an answer
        return None
    return _plain(y)


def numpy_value(text, bindings):
    """What NumPy computes for TEXT with the bindings as float64 arrays (None if it raises)."""
    names = {k: np.array(v, dtype=np.float64) for k, v in bindings.items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            import scipy.special
            y = eval(text, {"np": np, "inf": np.inf, "scipy": scipy}, names)  # noqa: S307 - our own table
    except Exception:  # noqa: BLE001 - NumPy refusing is an answer
        return None
    return _plain(y)


def _plain(y):
    if hasattr(y, "detach"):
        if y.is_complex():
            return None  # jac's values are real
        return y.detach().numpy().astype(float)
    if isinstance(y, tuple) and hasattr(y, "values") and not isinstance(y, np.ndarray):
        return None  # a (values, indices) pair: several outputs, not compared here
    if isinstance(y, (tuple, list)) or y is None:
        return None
    if np.iscomplexobj(y):
        return None
    try:
        return np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- readings

X = [3.0, 1.0, 4.0, 1.5, 2.0, 6.0]
A = [[1.0, 2.0, 3.0], [4.0, 5.0, 7.0], [0.0, 1.0, -1.0]]
R = [[1.0, 2.0, 3.0, 0.5], [4.0, -5.0, 7.0, 2.0], [0.0, 1.0, -1.0, 3.0]]
T3 = [[[1.0, 2.0], [3.0, 5.0]], [[1.0, -2.0], [0.5, 5.0]], [[2.0, 0.0], [1.0, 1.0]]]
B = {"x": X, "A": A, "R": R, "T": T3, "a": [1.0, 2.0, 3.0], "b": [0.5, -1.0, 2.0], "p": [0.2, 0.3, 0.5],
     "q": [0.1, 0.6, 0.3]}

# (bare spelling, PyTorch's, NumPy's): both libraries answer the last two
FUNCTIONS = [
    ("norm(A, {o})", "torch.norm(A, {o})", "np.linalg.norm(A, {o})"),
    ("norm(R, {o})", "torch.norm(R, {o})", "np.linalg.norm(R, {o})"),
    ("norm(x, {o})", "torch.norm(x, {o})", "np.linalg.norm(x, {o})"),
    ("norm(T, {o}, (1, 2))", "torch.norm(T, {o}, (1, 2))", "np.linalg.norm(T, {o}, (1, 2))"),
    ("std(x)", "torch.std(x)", "np.std(x)"), ("var(A, 0)", "torch.var(A, 0)", "np.var(A, 0)"),
    ("std(A, 1)", "torch.std(A, 1)", "np.std(A, 1)"),
    ("median(x)", "torch.median(x)", "np.median(x)"), ("median(a)", "torch.median(a)", "np.median(a)"),
    ("split(x, 2)[0]", "torch.split(x, 2)[0]", "np.split(x, 2)[0]"),
    ("split(x, 3)[1]", "torch.split(x, 3)[1]", "np.split(x, 3)[1]"),
    ("cross(A, R[:, :3])", "torch.cross(A, R[:, :3])", "np.cross(A, R[:, :3])"),
    ("max(A, 1)", "torch.max(A, 1).values", "np.max(A, 1)"), ("min(x, 0)", "torch.min(x, 0).values", "np.min(x, 0)"),
    ("transpose(T, 0, 1)", "torch.transpose(T, 0, 1)", "np.transpose(T, (1, 0, 2))"),
    ("roll(A, 1)", "torch.roll(A, 1)", "np.roll(A, 1)"), ("flip(A, 0)", "torch.flip(A, (0,))", "np.flip(A, 0)"),
    ("cumsum(A, 1)", "torch.cumsum(A, 1)", "np.cumsum(A, 1)"), ("diff(x)", "torch.diff(x)", "np.diff(x)"),
    ("diff(A, 1, 0)", "torch.diff(A, 1, 0)", "np.diff(A, 1, 0)"),
    ("round(x * 1.25, 1)", "torch.round(x * 1.25, decimals=1)", "np.round(x * 1.25, 1)"),
    ("round(x / 2)", "torch.round(x / 2)", "np.round(x / 2)"),
    ("quantile(x, 0.3)", "torch.quantile(x, 0.3)", "np.quantile(x, 0.3)"),
    ("cov(R)", "torch.cov(R)", "np.cov(R)"), ("corrcoef(R)", "torch.corrcoef(R)", "np.corrcoef(R)"),
    ("tensordot(A, A, 1)", "torch.tensordot(A, A, 1)", "np.tensordot(A, A, 1)"),
    ("inner(A, R.T[:3])", "torch.inner(A, R.T[:3])", "np.inner(A, R.T[:3])"),
    ("trace(A)", "torch.trace(A)", "np.trace(A)"), ("diag(A, 1)", "torch.diag(A, 1)", "np.diag(A, 1)"),
    ("tril(A, -1)", "torch.tril(A, -1)", "np.tril(A, -1)"), ("kron(a, b)", "torch.kron(a, b)", "np.kron(a, b)"),
    ("clip(x, 2, 3)", "torch.clip(x, 2, 3)", "np.clip(x, 2, 3)"),
    ("logsumexp(A, 0)", "torch.logsumexp(A, 0)", "~np.log(np.exp(A).sum(0))"),
    ("prod(A, 0)", "torch.prod(A, 0)", "np.prod(A, 0)"), ("mean(A, 1)", "torch.mean(A, 1)", "np.mean(A, 1)"),
    ("sum(A, 0)", "torch.sum(A, 0)", "np.sum(A, 0)"), ("argmax(A, 1)", "torch.argmax(A, 1)", "np.argmax(A, 1)"),
    ("argsort(x)", "torch.argsort(x)", "np.argsort(x)"), ("sort(x)", "torch.sort(x).values", "np.sort(x)"),
    ("squeeze(A[None])", "torch.squeeze(A[None])", "np.squeeze(A[None])"),
    ("stack([a, b], 1)", "torch.stack([a, b], 1)", "np.stack([a, b], 1)"),
    ("outer(a, b)", "torch.outer(a, b)", "np.outer(a, b)"), ("dot(a, b)", "torch.dot(a, b)", "np.dot(a, b)"),
    ("det(A)", "torch.det(A)", "np.linalg.det(A)"), ("inv(A)", "torch.inverse(A)", "np.linalg.inv(A)"),
    ("pinv(R)", "torch.linalg.pinv(R)", "np.linalg.pinv(R)"),
    ("matrix_power(A, 3)", "torch.linalg.matrix_power(A, 3)", "np.linalg.matrix_power(A, 3)"),
    ("cond(A)", "torch.linalg.cond(A)", "np.linalg.cond(A)"),
    ("cond(A, 1)", "torch.linalg.cond(A, 1)", "np.linalg.cond(A, 1)"),
    ("where(x > 2, x, a.sum())", "torch.where(x > 2, x, a.sum())", "np.where(x > 2, x, a.sum())"),
    ("maximum(x, 2.5)", "torch.maximum(x, torch.tensor(2.5, dtype=torch.float64))", "np.maximum(x, 2.5)"),
    ("cumprod(x, 0)", "torch.cumprod(x, 0)", "np.cumprod(x, 0)"),
    ("mean(T, (0, 2))", "torch.mean(T, (0, 2))", "np.mean(T, (0, 2))"),
    ("amax(T, (0, 2))", "torch.amax(T, (0, 2))", "np.amax(T, (0, 2))"),
    ("var(T, (0, 2))", "torch.var(T, (0, 2))", "np.var(T, (0, 2))"),
    ("std(x, 0)", "torch.std(x, 0)", "np.std(x, 0)"),
    ("nanmean(x)", "torch.nanmean(x)", "np.nanmean(x)"), ("nansum(A, 0)", "torch.nansum(A, 0)", "np.nansum(A, 0)"),
    ("logaddexp(x, 2)", "torch.logaddexp(x, torch.tensor(2.0, dtype=torch.float64))", "np.logaddexp(x, 2)"),
    ("remainder(x, -2.5)", "torch.remainder(x, -2.5)", "np.remainder(x, -2.5)"),
    ("fmod(-x, 2.5)", "torch.fmod(-x, 2.5)", "np.fmod(-x, 2.5)"),
    ("trapezoid(x)", "torch.trapezoid(x)", "np.trapezoid(x)"), ("trapezoid(x, a.sum() * x)",
                                                               "torch.trapezoid(x, a.sum() * x)",
                                                               "np.trapezoid(x, a.sum() * x)"),
    ("vander(a)", "torch.vander(a)", "np.vander(a)"), ("vander(a, 2)", "torch.vander(a, 2)", "np.vander(a, 2)"),
    ("histc(x)", "torch.histc(x)", "~np.histogram(x)[0]"),
    ("tile(a, 2)", "torch.tile(a, (2,))", "np.tile(a, 2)"), ("repeat(a, 2)", "torch.repeat_interleave(a, 2)",
                                                              "np.repeat(a, 2)"),
    ("unique(x)", "torch.unique(x)", "np.unique(x)"), ("cummax(x, 0)[0]", "torch.cummax(x, 0).values",
                                                        "~np.maximum.accumulate(x, 0)"),
    ("softmax(A, 0)", "torch.softmax(A, 0)", "~np.exp(A) / np.exp(A).sum(0)"),
    ("searchsorted(a, 2.5)", "torch.searchsorted(a, torch.tensor(2.5, dtype=torch.float64))",
     "np.searchsorted(a, 2.5)"),
    ("take(A, 4)", "torch.take(A, torch.tensor(4))", "np.take(A, 4)"),
    ("heaviside(x - 3, 0.5)", "torch.heaviside(x - 3, torch.tensor(0.5, dtype=torch.float64))",
     "np.heaviside(x - 3, 0.5)"),
    ("sign(x - 3)", "torch.sign(x - 3)", "np.sign(x - 3)"), ("floor_divide(x, -2.5)", "torch.floor_divide(x, -2.5)",
                                                              "np.floor_divide(x, -2.5)"),
    ("deg2rad(x)", "torch.deg2rad(x)", "np.deg2rad(x)"), ("count_nonzero(x - 3)", "torch.count_nonzero(x - 3)",
                                                           "np.count_nonzero(x - 3)"),
    ("var(x, 0, keepdims=True)", "torch.var(x, 0, keepdim=True)", "np.var(x, 0, keepdims=True)"),
    ("triu(A, 1)", "torch.triu(A, 1)", "np.triu(A, 1)"), ("rot90(A)", "torch.rot90(A)", "np.rot90(A)"),
    ("rot90(A, 1, (1, 0))", "torch.rot90(A, 1, (1, 0))", "np.rot90(A, 1, (1, 0))"),
    ("moveaxis(T, 0, 2)", "torch.moveaxis(T, 0, 2)", "np.moveaxis(T, 0, 2)"),
    ("swapaxes(T, 0, 2)", "torch.swapaxes(T, 0, 2)", "np.swapaxes(T, 0, 2)"),
    ("einsum('ij,jk->ik', A, A)", "torch.einsum('ij,jk->ik', A, A)", "np.einsum('ij,jk->ik', A, A)"),
    ("cumulative_trapezoid(x)", "torch.cumulative_trapezoid(x)", "~np.cumsum((x[1:] + x[:-1]) / 2)"),
    ("atleast_2d(a)", "torch.atleast_2d(a)", "np.atleast_2d(a)"),
    ("frexp(x)[0]", "torch.frexp(x)[0]", "np.frexp(x)[0]"),
    ("gcd(x, 2)", "torch.gcd(x, 2)", "np.gcd(x, 2)"),
    ("lstsq(R.T, a.sum() + R[0])[0]", "torch.linalg.lstsq(R.T, (a.sum() + R[0])[:, None])[0][:, 0]",
     "np.linalg.lstsq(R.T, a.sum() + R[0])[0]"),
    ("eigvalsh(A + A.T)", "torch.linalg.eigvalsh(A + A.T)", "np.linalg.eigvalsh(A + A.T)"),
    ("svd(A)[1]", "torch.linalg.svd(A)[1]", "np.linalg.svd(A)[1]"),
    ("qr(R)[1]", "torch.linalg.qr(R)[1]", "np.linalg.qr(R)[1]"),
    ("qr(R.T)[1]", "torch.linalg.qr(R.T)[1]", "np.linalg.qr(R.T)[1]"),
    ("solve(A, a)", "torch.linalg.solve(A, a)", "np.linalg.solve(A, a)"),
    ("solve(A, R)", "torch.linalg.solve(A, R)", "np.linalg.solve(A, R)"),
    ("matrix_rank(R)", "torch.linalg.matrix_rank(R)", "np.linalg.matrix_rank(R)"),
    ("slogdet(A)[1]", "torch.linalg.slogdet(A)[1]", "np.linalg.slogdet(A)[1]"),
    ("cholesky(A @ A.T + 1)", "torch.linalg.cholesky(A @ A.T + 1)", "np.linalg.cholesky(A @ A.T + 1)"),
    ("split(x, [2, 4])[1]", "torch.split(x, [2, 4])[1]", "np.split(x, [2, 4])[1]"),
    ("median(R.T, 0)", "torch.median(R.T, 0).values", "np.median(R.T, 0)"),
    ("median(A, 0)", "torch.median(A, 0).values", "np.median(A, 0)"),
    ("std(x, False)", "torch.std(x, False)", "np.std(x, False)"),
    ("var(A, 1, False)", "torch.var(A, 1, False)", "np.var(A, 1, False)"),
    ("sum(A, 0, True)", "torch.sum(A, 0, True)", "np.sum(A, 0, True)"),
    ("mean(A, 1, True)", "torch.mean(A, 1, True)", "np.mean(A, 1, True)"),
    ("log(x, 2)", "torch.log(x, 2)", "np.log(x, 2)"), ("sinc(x / 3)", "torch.sinc(x / 3)", "np.sinc(x / 3)"),
    ("trace(A, 1)", "torch.trace(A, 1)", "np.trace(A, 1)"),
    ("diagonal(T, 0, 1, 2)", "torch.diagonal(T, 0, 1, 2)", "np.diagonal(T, 0, 1, 2)"),
    ("diagonal(T, 1, 0, 2)", "torch.diagonal(T, 1, 0, 2)", "np.diagonal(T, 1, 0, 2)"),
    ("argsort(A, 0)", "torch.argsort(A, 0)", "np.argsort(A, 0)"),
    ("sort(A, 0)", "torch.sort(A, 0).values", "np.sort(A, 0)"),
    ("clip(x, min=2)", "torch.clip(x, min=2)", "np.clip(x, min=2)"),
    ("std(A, (0, 1))", "torch.std(A, (0, 1))", "np.std(A, (0, 1))"),
    ("var(x, correction=0)", "torch.var(x, correction=0)", "np.var(x, correction=0)"),
    ("var(x, ddof=1)", "torch.var(x, ddof=1)", "np.var(x, ddof=1)"),
    ("std(x, unbiased=False)", "torch.std(x, unbiased=False)", "np.std(x, unbiased=False)"),
    ("nan_to_num(log(x - 3))", "torch.nan_to_num(torch.log(x - 3))", "np.nan_to_num(np.log(x - 3))"),
    ("isclose(x, 3)", "torch.isclose(x, torch.tensor(3.0, dtype=torch.float64))", "np.isclose(x, 3)"),
    ("hypot(x, 2)", "torch.hypot(x, torch.tensor(2.0, dtype=torch.float64))", "np.hypot(x, 2)"),
    ("copysign(x, -1)", "torch.copysign(x, -1)", "np.copysign(x, -1)"),
    ("vdot(a, b)", "torch.vdot(a, b)", "np.vdot(a, b)"), ("vdot(A, A)", "torch.vdot(A, A)", "np.vdot(A, A)"),
    ("dot(A, a)", "torch.dot(A, a)", "np.dot(A, a)"), ("matmul(a, A)", "torch.matmul(a, A)", "np.matmul(a, A)"),
    ("outer(A, a)", "torch.outer(A, a)", "np.outer(A, a)"),
    ("mean(A, axis=0)", "torch.mean(A, axis=0)", "np.mean(A, axis=0)"),
    ("sum(A, dim=1)", "torch.sum(A, dim=1)", "np.sum(A, dim=1)"),
    ("max(A, axis=1)", "torch.max(A, axis=1).values", "np.max(A, axis=1)"),
    ("prod(x, 0, keepdim=True)", "torch.prod(x, 0, keepdim=True)", "np.prod(x, 0, keepdims=True)"),
    ("all(A > 0, 1)", "torch.all(A > 0, 1)", "np.all(A > 0, 1)"),
    ("flip(A, (0, 1))", "torch.flip(A, (0, 1))", "np.flip(A, (0, 1))"),
    ("roll(A, 1, 0)", "torch.roll(A, 1, 0)", "np.roll(A, 1, 0)"),
    ("roll(A, (1, 2), (0, 1))", "torch.roll(A, (1, 2), (0, 1))", "np.roll(A, (1, 2), (0, 1))"),
    ("tile(A, 2)", "torch.tile(A, (2,))", "np.tile(A, 2)"),
    ("repeat(A, 2, 0)", "torch.repeat_interleave(A, 2, 0)", "np.repeat(A, 2, 0)"),
    ("cumsum(A, axis=0)", "torch.cumsum(A, axis=0)", "np.cumsum(A, axis=0)"),
    ("pad(a, 1)", "F.pad(a, (1, 1))", "np.pad(a, 1)"), ("pad(a, (1, 2))", "F.pad(a, (1, 2))", "np.pad(a, (1, 2))"),
    ("pad(A, (1, 2))", "F.pad(A, (1, 2))", "np.pad(A, (1, 2))"),
    ("squeeze(A[None], 0)", "torch.squeeze(A[None], 0)", "np.squeeze(A[None], 0)"),
    ("expand_dims(a, 1)", "torch.unsqueeze(a, 1)", "np.expand_dims(a, 1)"),
    ("concatenate([A, A], 1)", "torch.cat([A, A], 1)", "np.concatenate([A, A], 1)"),
    ("broadcast_to(a, (2, 3))", "torch.broadcast_to(a, (2, 3))", "np.broadcast_to(a, (2, 3))"),
    ("arange(3) * a", "torch.arange(3) * a", "np.arange(3) * a"),
    ("linspace(0, 1, 3) * a", "torch.linspace(0, 1, 3) * a", "np.linspace(0, 1, 3) * a"),
    ("eye(3, 4)[0] + a.sum()", "torch.eye(3, 4)[0] + a.sum()", "np.eye(3, 4)[0] + a.sum()"),
    ("eye(3, 3, 1) @ a", "torch.eye(3, 3, 1) @ a", "np.eye(3, 3, 1) @ a"),
    ("full((2,), 3) * a[:2]", "torch.full((2,), 3) * a[:2]", "np.full((2,), 3) * a[:2]"),
    ("zeros(2, 3) + a", "torch.zeros(2, 3) + a", "np.zeros(2, 3) + a"),
    ("ones((2, 3)) + a", "torch.ones((2, 3)) + a", "np.ones((2, 3)) + a"),
    ("logspace(0, 1, 3) * a", "torch.logspace(0, 1, 3) * a", "np.logspace(0, 1, 3) * a"),
    ("tril(ones(3, 3)) @ a", "torch.tril(torch.ones(3, 3)) @ a", "np.tril(np.ones(3, 3)) @ a"),
    ("mean(x > 2)", "torch.mean(x > 2)", "np.mean(x > 2)"), ("sum(x > 2)", "torch.sum(x > 2)", "np.sum(x > 2)"),
    ("amin(A, 1)", "torch.amin(A, 1)", "np.amin(A, 1)"),
    ("ptp(A, 0)", "torch.max(A, 0).values - torch.min(A, 0).values", "np.ptp(A, 0)"),
    ("cumprod(A, 1)", "torch.cumprod(A, 1)", "np.cumprod(A, 1)"),
    ("logsumexp(x)", "torch.logsumexp(x, 0)", "~np.log(np.exp(x).sum())"),
    ("std_mean(x)[0]", "torch.std_mean(x)[0]", "~np.std(x, ddof=1)"),
]
# bare names both torch / F and scipy.special spell (jac reads bare names from F and scipy.special alike)
FUNCTIONS += [
    ("kl_div(p, q)", "F.kl_div(p, q)", "scipy.special.kl_div(p, q)"),
    ("entr(p)", "torch.special.entr(p)", "scipy.special.entr(p)"),
    ("xlogy(p, q)", "torch.special.xlogy(p, q)", "scipy.special.xlogy(p, q)"),
    ("logit(p)", "torch.special.logit(p)", "scipy.special.logit(p)"),
    ("expit(p)", "torch.special.expit(p)", "scipy.special.expit(p)"),
    ("erfinv(p)", "torch.special.erfinv(p)", "scipy.special.erfinv(p)"),
    ("i0(p)", "torch.special.i0(p)", "scipy.special.i0(p)"), ("i1e(p)", "torch.special.i1e(p)", "scipy.special.i1e(p)"),
    ("polygamma(2, p)", "torch.special.polygamma(2, p)", "scipy.special.polygamma(2, p)"),
    ("digamma(p)", "torch.special.digamma(p)", "scipy.special.digamma(p)"),
    ("ndtri(p)", "torch.special.ndtri(p)", "scipy.special.ndtri(p)"),
    ("log_ndtr(p)", "torch.special.log_ndtr(p)", "scipy.special.log_ndtr(p)"),
    ("zeta(p + 1, q)", "torch.special.zeta(p + 1, q)", "scipy.special.zeta(p + 1, q)"),
    ("logsumexp(A, 1)", "torch.logsumexp(A, 1)", "scipy.special.logsumexp(A, 1)"),
    ("logsumexp(A)", "torch.logsumexp(A, (0, 1))", "scipy.special.logsumexp(A)"),
    ("softmax(A, 0)", "F.softmax(A, 0)", "scipy.special.softmax(A, 0)"),
    ("log_softmax(A, 1)", "F.log_softmax(A, 1)", "scipy.special.log_softmax(A, 1)"),
    ("sinc(p)", "torch.special.sinc(p)", "np.sinc(p)"), ("round(p * 10)", "torch.special.round(p * 10)",
                                                         "np.round(p * 10)"),
    ("gammaln(p)", "torch.special.gammaln(p)", "scipy.special.gammaln(p)"),
    ("multigammaln(p + 3, 2)", "torch.special.multigammaln(p + 3, 2)", "scipy.special.multigammaln(p + 3, 2)"),
    ("bessel_j0(p)", "torch.special.bessel_j0(p)", "scipy.special.j0(p)"),
    ("softplus(p)", "F.softplus(p)", "np.logaddexp(0, p)"),
]
ORDS = ["1", "2", "-2", "-1", "inf", "-inf", "3", "0.5", "0", "'fro'", "'nuc'"]

# methods both torch.Tensor and numpy.ndarray have: (text, bindings used)
METHODS = [
    "x.std()", "A.var(0)", "A.std(1)", "x.max()", "A.max(1)", "A.min(0)", "A.argmax(1)", "A.sum(1)", "A.mean(0)",
    "A.prod(1)", "A.cumsum(1)", "A.cumprod(0)", "A.transpose()", "T.transpose(0, 2)", "T.transpose(1, 0, 2)",
    "A.T", "T.T", "A.diagonal()", "A.diagonal(1)", "A.trace()", "A.flatten()", "A.ravel()", "A.reshape(9)",
    "A.reshape(-1, 1)", "x.repeat(2)", "A.repeat(2, 1)", "x.round()", "(x * 1.25).round(1)", "x.clip(2, 3)",
    "A.squeeze()", "A[None].squeeze(0)", "A.swapaxes(0, 1)", "a.dot(b)", "A.dot(a)", "x.sort()", "x.argsort()",
    "A.take(4)", "A.all()", "x.any()", "A.nonzero()", "A.argmin()", "x.ptp()", "A.sum(axis=0)", "A.sum(0, keepdims=True)",
    "A.max(axis=1)", "x.var(ddof=1)", "A.std(axis=0, ddof=1)", "x.mean(dtype=None)", "A.flatten(1)", "x.conj()",
    "T.sum((0, 1))", "T.mean((0, 2))", "A.copy()", "A.astype(float)", "x[0].item()",
    "A.size", "A.ndim", "x.size",
    "A.prod()", "A.var()", "x.cumsum(0)", "A.max(0, keepdims=True)", "x.min(0)", "A.clip(min=1)", "a.searchsorted(2.5)",
    "A.sum(0, True)", "A.mean(0, True)", "A.max(0, True)", "x.std(0, True)", "A.var(0, 1)", "A.trace(1)",
    "A.squeeze(0)", "A.argsort(0)", "A.sort(0)", "A.diagonal(0, 1, 0)", "A.all(0)", "x.cumprod(0)",
    "A.transpose(1, 0)", "A.round(1)", "A.min(axis=0)", "A.sum(axis=(0, 1))", "A.mean(axis=1, keepdims=True)",
    "A.reshape((3, 3))", "A.reshape(3, -1)", "x.reshape(2, 3)", "A.flatten(0)", "x.std(ddof=1)",
    "A.max(initial=10)", "x.clip(None, 2)", "x.argmax(0)", "A.argmin(axis=1)", "A.any(1)", "A.cumsum(axis=1)",
    "A.prod(dtype=None)", "T.swapaxes(0, 2)", "T.transpose(2, 0)", "T.max((0, 1))", "T.sum(-1)", "x.dot(x)",
    "x.var(0)", "A.ptp(0)", "A.ptp()", "x.std(0)", "A.diagonal(offset=1)",
]

# methods whose readings differ, in texts that call one library (LIB: torch, then np)
DIALECT = ["LIB.sin(x).std()", "LIB.exp(A).var(0)", "LIB.abs(x).repeat(2)", "LIB.abs(A).std(1)",
           "LIB.sin(x).var()", "LIB.cos(A).max(0)", "LIB.abs(A).sum(0)",
           "LIB.tanh(A).flatten()", "LIB.abs(A).transpose(1, 0)", "LIB.exp(x).cumsum(0)",
           "LIB.abs(A).min(1)", "LIB.abs(T).swapaxes(0, 2)", "LIB.abs(A).std(0) + LIB.exp(x).var()"]

# ".values / .indices of max, min, sort, topk as in PyTorch", and the other named tuples PyTorch returns
FIELDS = ["torch.max(A, 1).indices", "A.max(1).values", "A.max(dim=1).indices", "torch.topk(x, 2).indices",
          "torch.topk(x, 2).values", "x.topk(3, largest=False).values", "torch.sort(x, descending=True).values",
          "torch.sort(x, descending=True).indices", "torch.min(A, dim=0).values", "torch.kthvalue(x, 2).values",
          "torch.median(A, 1).indices", "torch.median(A, 1).values", "torch.mode(A, 1).values", "A.sort(1).values",
          "A.sort(0).indices", "torch.max(A, 1, keepdim=True).values", "torch.cummax(x, 0).indices",
          "torch.aminmax(A).max", "torch.std_mean(A, 0)[1]", "torch.var_mean(A, 1, correction=0)[0]",
          "torch.frexp(x).mantissa", "torch.linalg.slogdet(A).logabsdet", "torch.linalg.eigh(A + A.T).eigenvalues",
          "torch.linalg.qr(A).R", "torch.linalg.svd(A).S", "torch.linalg.lu_factor(A).pivots",
          "torch.linalg.inv_ex(A).inverse", "torch.linalg.cholesky_ex(A @ A.T).L",
          "torch.linalg.lstsq(A, x[:3]).solution", "torch.max(A, 1)[0]", "torch.max(A, 1)[1]"]


def _answer(text):
    code, obj, err = jac("eval", text, *(f"{k}={v}" for k, v in B.items()))
    if code == 0 and obj is not None:
        return "value", value_of(obj), obj
    if code == 2:
        return "refused", (obj or {}).get("error", {}).get("message", err), obj
    return "broke", f"exit {code}: {err[-300:]}", obj


def torch_jacobians(text, bindings):
    """PyTorch's Jacobian of TEXT by each binding (torch.autograd.functional.jacobian), or None if it raises."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch.autograd.functional import jacobian
    names = list(bindings)

    def fn(*values):
        return eval(text, {"torch": torch, "F": F}, dict(zip(names, values)))  # noqa: S307 - our own table
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = jacobian(fn, tuple(torch.tensor(bindings[k], dtype=torch.float64) for k in names))
    except Exception:  # noqa: BLE001
        return None
    return dict(zip(names, (j.numpy() for j in found)))


def _documented_zeros(got, want):
    """jac's 0 where PyTorch's dense reverse pass makes 0 * inf = NaN off the diagonal (docs/expressions.md, kinks)."""
    got = np.asarray(got, dtype=float)
    if got.shape != np.shape(want):
        return got
    return np.where(np.isnan(want) & (got == 0), np.nan, got)


def _reading(tally, text, want, library):
    what, got, obj = _answer(text)
    if what == "value" and library == "PyTorch" and want is not None and same(got, want) and "jacobian" in obj:
        jacobians = torch_jacobians(text.replace("inf", "float('inf')"), B)
        wrong = [k for k, block in obj["jacobian"].items()
                 if jacobians is not None and not same(_documented_zeros(block["value"], jacobians[k]), jacobians[k],
                                                       1e-7, 1e-9)]
        if wrong:
            tally.bad(text, f"the Jacobian by {', '.join(wrong)} differs from torch.autograd.functional.jacobian")
            return what, got
    if what == "broke":
        tally.bad(text, got)
    elif what == "refused":
        tally.refuse(text, got)
    elif want is None:
        tally.ok(f"{text}: {library} raises, jac answers its own reading")  # lenient, never contradicting
    elif not same(got, want):
        tally.bad(text, f"jac {np.round(np.asarray(got, float), 6).tolist()} but {library} "
                        f"{np.round(want, 6).tolist()}")
    else:
        tally.ok(text)
    return what, got


def _ambiguous(tally, text, tv, nv):
    """A spelling both libraries answer: refused where they differ, their common value where they agree."""
    what, got, _ = _answer(text)
    if what == "broke":
        tally.bad(text, got)
    elif tv is None or nv is None:
        want = nv if tv is None else tv
        if what == "value" and want is not None and not same(got, want):
            tally.bad(text, f"jac {got} but the one library answering says {want.tolist()}")
        else:
            tally.ok(text)
    elif same(tv, nv):
        if what == "value" and not same(got, tv):
            tally.bad(text, f"jac {got} but PyTorch and NumPy agree on {tv.tolist()}")
        elif what == "refused":
            tally.refuse(text, got)
        else:
            tally.ok(text)
    elif what == "value":
        tally.bad(text, f"PyTorch {np.round(tv, 6).tolist()} and NumPy / SciPy {np.round(nv, 6).tolist()} differ, "
                        f"jac answered {np.round(np.asarray(got, float), 6).tolist()} (not refused with both readings)")
    else:
        tally.ok(f"{text}: refused ({got[:80]})")


@check
def readings(tally):
    """The library named decides; a spelling that could be either is refused with both readings."""
    rows = []
    for bare, torch_text, numpy_text in FUNCTIONS:
        for order in (ORDS if "{o}" in bare else [None]):
            fill = (lambda s: s.format(o=order)) if order else (lambda s: s)
            rows.append((fill(bare), fill(torch_text), fill(numpy_text)))
    for bare, torch_text, numpy_text in rows:  # a NumPy text starting with ~ is a reference jac is not asked
        tv, nv = torch_value(torch_text.replace("inf", "float('inf')"), B), numpy_value(numpy_text.lstrip("~"), B)
        _reading(tally, torch_text, tv, "PyTorch")
        if not numpy_text.startswith("~"):
            _reading(tally, numpy_text, nv, "NumPy")
        _ambiguous(tally, bare, tv, nv)
    for text in METHODS:
        _ambiguous(tally, text, torch_value(text, B), numpy_value(text, B))
    for text in FIELDS:
        _reading(tally, text, torch_value(text, B), "PyTorch")
    for text in DIALECT:  # a method in a text that calls one library only: that library's method
        for lib, module, value in (("PyTorch", "torch", torch_value), ("NumPy", "np", numpy_value)):
            spelled = text.replace("LIB", module)
            _reading(tally, spelled, value(spelled, B), lib)


# every bare name of jac's table that both libraries have, and every method Tensor and ndarray share, called in these
# patterns: where both libraries answer and differ, jac must refuse (bare softmax / log_softmax along the last axis are
# docs/expressions.md's documented choice; empty_like's values are whatever memory held)
CALLS = ["{f}(x)", "{f}(A)", "{f}(A, 0)", "{f}(A, 1)", "{f}(x, 2)", "{f}(a, b)", "{f}(A, A)", "{f}(A, 2)", "{f}(x, 0)",
         "{f}(T)", "{f}(T, 1)", "{f}(p)", "{f}(p, q)", "{f}(A, -1)", "{f}(x, 1)", "{f}(A, 0, 1)"]
CALLED = ["x.{f}()", "A.{f}()", "A.{f}(0)", "A.{f}(1)", "x.{f}(2)", "A.{f}(0, 1)", "T.{f}(1)", "T.{f}(0, 2)",
          "A.{f}(-1)", "x.{f}(0)", "A.{f}(2)", "T.{f}()", "A.{f}(1, 0)", "a.{f}(b)", "A.{f}(A)", "A.{f}(True)",
          "A.{f}(0, True)"]
DOCUMENTED = {"softmax", "log_softmax", "empty_like", "empty"}


def _library_call(text, modules, array):
    name = text.split("(")[0]
    names = {k: array(v) for k, v in B.items()}
    for module in modules:
        if hasattr(module, name):
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    return _plain(eval(text, {name: getattr(module, name)}, names))  # noqa: S307 - our own table
            except Exception:  # noqa: BLE001 - the library refusing is an answer
                continue
    return None


@check
def sweep(tally):
    """Every bare name both libraries have and every shared method, in common call patterns: never one reading."""
    import scipy.special
    import torch
    import torch.nn.functional as F  # noqa: N812
    from jacobi_cli.lang.functions import FUNCTIONS as TABLE
    torch.set_default_dtype(torch.float64)
    ours, theirs = (torch, F, torch.special, torch.linalg), (np, np.linalg, scipy.special)
    for name in sorted(n for n in TABLE if n.isidentifier() and n not in DOCUMENTED):
        if any(hasattr(m, name) for m in ours) and any(hasattr(m, name) for m in theirs):
            for pattern in CALLS:
                text = pattern.format(f=name)
                tv = _library_call(text, ours, lambda v: torch.tensor(v, dtype=torch.float64))
                nv = _library_call(text, theirs, lambda v: np.array(v, dtype=np.float64))
                if tv is not None and nv is not None and not same(tv, nv):
                    _ambiguous(tally, text, tv, nv)
    for name in sorted(n for n in set(dir(torch.Tensor)) & set(dir(np.ndarray)) if not n.startswith("_")):
        for pattern in CALLED:
            text = pattern.format(f=name)
            tv, nv = torch_value(text, B), numpy_value(text, B)
            if tv is not None and nv is not None and not same(tv, nv):
                _ambiguous(tally, text, tv, nv)


# ---------------------------------------------------------------- newcomer

RNG = np.random.default_rng(46)


def _r(*shape, positive=False):
    v = RNG.standard_normal(shape)
    return np.abs(v) + 0.5 if positive else v


# (what a tutorial writes, jac's text as pasted, bindings, PyTorch's function of the bindings in that order)
SNIPPETS = [
    ("PyTorch autograd tutorial: out = (3 (x + 2)^2).mean()", "y = x + 2; z = y * y * 3; out = z.mean(); out",
     {"x": np.ones((2, 2))}, lambda x: (3 * (x + 2) ** 2).mean()),
    ("linear regression, mean squared error", "((X @ w + b - t) ** 2).mean()",
     {"X": _r(5, 3), "w": _r(3), "b": _r(), "t": _r(5)}, lambda X, w, b, t: ((X @ w + b - t) ** 2).mean()),
    ("logistic regression, BCE with logits", "F.binary_cross_entropy_with_logits(X @ w, t)",
     {"X": _r(4, 3), "w": _r(3), "t": np.array([0.0, 1.0, 1.0, 0.0])},
     lambda X, w, t: __import__("torch").nn.functional.binary_cross_entropy_with_logits(X @ w, t)),
    ("two-layer MLP", "h = torch.tanh(x @ W1 + b1); h @ W2", {"x": _r(3), "W1": _r(3, 4), "b1": _r(4), "W2": _r(4, 2)},
     lambda x, W1, b1, W2: __import__("torch").tanh(x @ W1 + b1) @ W2),
    ("softmax cross-entropy, class targets", "F.cross_entropy(L, torch.tensor([0, 2]))", {"L": _r(2, 3)},
     lambda L: __import__("torch").nn.functional.cross_entropy(L, __import__("torch").tensor([0, 2]))),
    ("Rosenbrock", "sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)", {"x": _r(4)},
     lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()),
    ("Gaussian negative log-likelihood", "(0.5 * ((x - mu) / s) ** 2 + log(s) + 0.5 * log(2 * pi)).sum()",
     {"x": _r(5), "mu": _r(), "s": _r(positive=True)},
     lambda x, mu, s: (0.5 * ((x - mu) / s) ** 2 + s.log() + 0.5 * np.log(2 * np.pi)).sum()),
    ("scaled dot-product attention", "softmax(Q @ K.T / sqrt(2.0), dim=-1) @ V",
     {"Q": _r(3, 2), "K": _r(4, 2), "V": _r(4, 2)},
     lambda Q, K, V: __import__("torch").softmax(Q @ K.T / np.sqrt(2.0), dim=-1) @ V),
    ("layer norm", "F.layer_norm(x, (4,))", {"x": _r(2, 4)},
     lambda x: __import__("torch").nn.functional.layer_norm(x, (4,))),
    ("log-determinant of a Gram matrix", "torch.logdet(A @ A.T + torch.eye(3))", {"A": _r(3, 3)},
     lambda A: __import__("torch").logdet(A @ A.T + __import__("torch").eye(3, dtype=A.dtype))),
    ("NumPy: a damped sine", "np.sum(np.sin(x) * np.exp(-x ** 2))", {"x": _r(4)},
     lambda x: (x.sin() * (-x ** 2).exp()).sum()),
    ("unit vector", "x / torch.linalg.norm(x)", {"x": _r(3)}, lambda x: x / __import__("torch").linalg.norm(x)),
    ("torch.func: per-example gradients (a pasted program)",
     "from torch.func import grad, vmap\ndef loss(w, x):\n    return torch.sigmoid(x @ w).log().sum()\n"
     "vmap(grad(loss), in_dims=(None, 0))(w, X)", {"w": _r(2), "X": _r(3, 2)},
     lambda w, X: (1 - __import__("torch").sigmoid(X @ w))[:, None] * X),
    ("JAX: value_and_grad (a pasted program)",
     "import jax\nimport jax.numpy as jnp\nf = lambda x: jnp.sum(x ** 3)\nval, g = jax.value_and_grad(f)(x)\ng",
     {"x": _r(3)}, lambda x: 3 * x ** 2),
]


@check
def newcomer(tally):
    """Everyday snippets as tutorials write them: value, every Jacobian, and the Hessian of a scalar, as PyTorch."""
    import torch
    from torch.autograd.functional import hessian, jacobian
    for what, text, bindings, fn in SNIPPETS:
        args = [f"{k}={np.asarray(v).tolist()}" for k, v in bindings.items()]
        tensors = tuple(torch.tensor(v, dtype=torch.float64) for v in bindings.values())
        code, obj, err = jac("eval", text, *args)
        if code != 0:
            (tally.refuse if code == 2 else tally.bad)(what, err.strip().splitlines()[0] if err.strip() else code)
            continue
        want_value = fn(*tensors).detach().numpy()
        want = jacobian(fn, tensors)
        wrong = [] if same(value_of(obj), want_value) else ["value"]
        wrong += [k for k, w in zip(bindings, want) if not same(obj["jacobian"][k]["value"], w.numpy(), 1e-8, 1e-10)]
        if want_value.ndim == 0:
            code, hobj, err = jac("hessian", text, *args)
            if code != 0:
                wrong.append(f"hessian exit {code}: {err.strip()[:100]}")
            else:
                H = hessian(fn, tensors)
                names = list(bindings)
                wrong += [f"H[{a},{b}]" for i, a in enumerate(names) for j, b in enumerate(names)
                          if not same(hobj["hessian"][f"{a},{b}"]["value"], H[i][j].numpy(), 1e-7, 1e-9)]
        if wrong:
            tally.bad(what, f"{text}: {', '.join(wrong)} differ from PyTorch")
        else:
            tally.ok(what)


# ---------------------------------------------------------------- newer sections against torch.func

XB = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [3.0, 1.0, 0.2]])
WB = np.array([0.5, 2.0, -1.0])


def _tf():
    import torch
    return torch, torch.tensor(XB, dtype=torch.float64), torch.tensor(WB, dtype=torch.float64)


@check
def batches(tally):
    """--batch NAME:AXIS as vmap's in_dims, --v and --tangent carrying the batch axis, every command."""
    from torch.func import hessian, jacrev, jvp, vjp, vmap
    torch, x, w = _tf()
    f = lambda x, w: torch.sin(x) * w + x.sum() * w  # noqa: E731
    g = lambda x, w: (torch.sin(x) * w).sum() * x[0]  # noqa: E731
    b = [f"x={XB.tolist()}", f"w={WB.tolist()}", "--batch", "x:1"]
    t = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [0.3, 0.2, 0.1]])
    v = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    cases = [
        ("eval --batch x:1", ["eval", "sin(x)*w + x.sum()*w", *b],
         lambda o: [(o["jacobian"][k]["value"], want) for k, want in
                    zip("xw", vmap(lambda x: jacrev(f, argnums=(0, 1))(x, w), in_dims=1)(x))]),
        ("jvp --batch x:1, a tangent laid out as x", ["jvp", "sin(x)*w + x.sum()*w", *b, "--tangent",
                                                      f"x={t.tolist()}", "--tangent", "w=[1, 0, 1]"],
         lambda o: [(o["jvp"]["value"], vmap(lambda x, tx: jvp(f, (x, w), (tx, torch.tensor([1.0, 0, 1],
                                                                                              dtype=torch.float64)))[1],
                                             in_dims=(1, 1))(x, torch.tensor(t)))]),
        ("vjp --batch x:1, v batch first", ["vjp", "sin(x)*w + x.sum()*w", *b, "--v", f"{v.tolist()}"],
         lambda o: [(o["vjp"][k]["value"], want) for k, want in
                    zip("xw", vmap(lambda x, v: vjp(f, x, w)[1](v), in_dims=(1, 0))(x, torch.tensor(v)))]),
        ("hessian --batch x:1", ["hessian", "(sin(x)*w).sum() * x[0]", *b],
         lambda o: [(o["hessian"][f"{p},{q}"]["value"], H[i][j]) for H in
                    [vmap(lambda x: hessian(g, argnums=(0, 1))(x, w), in_dims=1)(x)]
                    for i, p in enumerate("xw") for j, q in enumerate("xw")]),
        ("derivative --order 3 --batch x:1", ["derivative", "(sin(x)*w).sum() * x[0]", *b, "--wrt", "x", "--order", "3"],
         lambda o: [(o["derivative"]["x"]["value"],
                     vmap(lambda x: jacrev(jacrev(jacrev(lambda x: g(x, w))))(x), in_dims=1)(x))]),
        ("several outputs vjp --batch x:1, b omitted (zero)", ["vjp", "a = sin(x)*w; b = (x*w).sum(); a, b", *b,
                                                                "--v", f"a={v.tolist()}"],
         lambda o: [(o["vjp"][k]["value"], want) for k, want in
                    zip("xw", vmap(lambda x, v: vjp(lambda x, w: torch.sin(x) * w, x, w)[1](v),
                                   in_dims=(1, 0))(x, torch.tensor(v)))]),
    ]
    for what, args, pairs in cases:
        code, obj, err = jac(*args)
        if code != 0:
            tally.bad(what, f"exit {code}: {err.strip()[:200]}")
            continue
        bad = [i for i, (got, want) in enumerate(pairs(obj)) if not same(got, want.detach().numpy(), 1e-10, 1e-12)]
        batch = obj.get("batch")
        if batch != {"size": 3, "inputs": {"x": 1}}:
            bad.append(f"batch key {batch}")
        (tally.bad(what, f"blocks {bad} differ from torch.func") if bad else tally.ok(what))


@check
def several_outputs(tally):
    """Several outputs: names, plural keys, vjp as torch.autograd.backward, hessians of each output."""
    import torch
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    text = "a = sin(x)*y; b = (x*y).sum()**2; a, x.sum() * y, b"
    bindings = ["x=[1, 2]", "y=3"]
    code, obj, err = jac("eval", text, *bindings)
    names = [o["name"] for o in obj["outputs"]] if code == 0 else err
    if names != ["a", "y1", "b"] or "jacobians" not in obj or "output" in obj:
        tally.bad("several outputs named by variable or y<i>", f"{names}, keys {list(obj or {})}")
    else:
        tally.ok("several outputs named a, y1, b; jacobians")
    code, obj, err = jac("vjp", text, *bindings, "--v", "a=[1, -1]", "--v", "b=0.5")
    a, m, b = torch.sin(x) * y, x.sum() * y, (x * y).sum() ** 2
    torch.autograd.backward([a, b], [torch.tensor([1.0, -1.0], dtype=torch.float64),
                                     torch.tensor(0.5, dtype=torch.float64)])
    if code != 0 or not same(obj["vjp"]["x"]["value"], x.grad.numpy()) or not same(obj["vjp"]["y"]["value"], y.grad):
        tally.bad("vjp --v OUT=VALUE as torch.autograd.backward", f"{code} {err[:150]} {obj and obj.get('vjp')}")
    else:
        tally.ok("vjp of several outputs, one omitted, as torch.autograd.backward")
    del m
    code, obj, err = jac("hessian", text, *bindings)
    from torch.autograd.functional import hessian, jacobian
    fa = lambda x, y: torch.sin(x) * y  # noqa: E731
    H = jacobian(lambda x, y: jacobian(fa, (x, y), create_graph=True), (x.detach(), y.detach()))
    if code != 0 or "hessians" not in obj:
        tally.bad("hessian of several outputs", f"{code} {err[:200]}")
    else:
        got = obj["hessians"]["a"]
        bad = [k for k, (i, j) in {"x,x": (0, 0), "x,y": (0, 1), "y,x": (1, 0), "y,y": (1, 1)}.items()
               if not same(got[k]["value"], H[i][j].numpy())]
        hb = hessian(lambda x, y: (x * y).sum() ** 2, (x.detach(), y.detach()))
        bad += [f"b {k}" for k, (i, j) in {"x,x": (0, 0), "x,y": (0, 1), "y,y": (1, 1)}.items()
                if not same(obj["hessians"]["b"][k]["value"], hb[i][j].numpy())]
        (tally.bad("hessian of several outputs", f"blocks {bad} differ") if bad else
         tally.ok("hessians of a vector output and a scalar one, every ordered pair"))


# ---------------------------------------------------------------- bindings

BINDINGS = [  # values as PyTorch / NumPy users write them (seed-free), each against the library itself
    "np.arange(6).reshape(2, 3)", "torch.arange(6).reshape(2, 3)", "torch.ones(3) * 2", "np.linspace(0, 1, 5)[1:]",
    "np.eye(2, 3)", "np.arange(0, 1, 0.25)", "np.linspace(0, 1, num=5)", "np.full((2, 2), 7)", "torch.full((2,), 1.5)",
    "torch.tensor([[1, 2], [3, 4]], dtype=torch.float64)", "np.array(2)", "torch.tensor(3.)", "np.ones((2, 3)).T",
    "np.eye(3)[0]", "np.diag([1., 2.])", "torch.tensor([1, 2]).float()", "np.array([1, 2]).astype(np.float32)",
    "torch.tensor([0.5, 2.0], dtype=torch.float32)", "np.float32(0.1)", "torch.tensor([0.1, 0.2], dtype=torch.float32)",
    "torch.tensor([0.1]).float()", "np.float64(0.1) * 3", "torch.linspace(-1, 1, 5)", "np.logspace(0, 2, 3)",
    "torch.eye(2)", "np.tri(3)", "torch.tril(torch.ones(3, 3))", "np.zeros((2, 3)) + 1",
]


@check
def bindings(tally):
    """"Every value is converted to the --dtype": a binding holds the library's value, converted; or is refused."""
    import torch
    torch.set_default_dtype(torch.float64)
    for text in BINDINGS:
        lib = torch_value if text.startswith("torch") else numpy_value
        want = lib(text, {})
        code, obj, err = jac("eval", "x * 1", f"x={text}")
        if code == 2:
            tally.refuse(f"x={text}", (obj or {}).get("error", {}).get("message", err))
        elif code != 0:
            tally.bad(f"x={text}", f"exit {code}: {err[-200:]}")
        elif not same(value_of(obj), want, 0, 0):
            tally.bad(f"x={text}", f"jac holds {value_of(obj)}, the library {want.tolist()}")
        else:
            tally.ok(f"x={text}")


# ---------------------------------------------------------------- errors


@check
def error_positions(tally):
    """Every kind with --json: exit 2, one object, position an offset into the expression (or null)."""
    cases = [
        ("a = x*2\nb = a @ A\nb.sum()", ["x=[1, 2]", "A=[[1, 2, 3]]"], "shape", 14),
        ("a = x*2;\tb = a + q; b", ["x=[1, 2]"], "name", 17),
        ("# 日本語\nβ = x*2; β + q", ["x=[1, 2]"], "name", 19),
        ("x + ", ["x=[1, 2]"], "parse", 4),
        ("x[5]", ["x=[1, 2]"], "shape", 2),
        ("norm(A, 2)", ["A=[[1, 2], [3, 4]]"], "value", 0),
        ("x", ["x=@/nonexistent.npy"], "io", None),
        ("x", ["x=[1, 2]", "--max-memory", "8"], "limit", None),
        ("x", ["x=[1, 2]", "--dtype", "float16"], "usage", None),
    ]
    for text, args, kind, position in cases:
        code, obj, err = jac("eval", text, *args)
        e = (obj or {}).get("error", {})
        if code != 2 or list(obj or {}) != ["error"] or e.get("kind") != kind or e.get("position") != position \
                or "Traceback" in err or not err.strip():
            tally.bad(f"error {kind} in {text!r}", f"exit {code}, {e}, stderr {err.strip()[:100]!r}")
        else:
            tally.ok(f"error {kind} at {position}")


# ---------------------------------------------------------------- main


def main(argv=None):
    global VERBOSE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only the checks whose name holds this")
    parser.add_argument("-v", action="store_true", help="print every call's verdict")
    args = parser.parse_args(argv)
    VERBOSE = args.v
    tally = Tally()
    for fn in CHECKS:
        if args.k in fn.__name__:
            before = (tally.passed, tally.refused, len(tally.deviations))
            fn(tally)
            print(f"{fn.__name__}: {tally.passed - before[0]} right, {tally.refused - before[1]} refused, "
                  f"{len(tally.deviations) - before[2]} deviations")
    print(f"total: {tally.passed} right, {tally.refused} refused, {len(tally.deviations)} deviations")
    return 1 if tally.deviations else 0


if __name__ == "__main__":
    sys.exit(main())
