"""Empty and size-one shapes across the vocabulary's families (session 40): a hand-written table of texts, each at
inputs of shape (0,), (0, 3), (3, 0), (1,), (1, 1) and () (or the family's own: batched (0, 2, 2) and (2, 0, 0)
matrices, (0, 1, 3) batches of a convolution, empty index arrays), compared with PyTorch, NumPy and JAX.

    PYTHONPATH=. python benchmarks/empty40_fuzz.py [--only FAMILY,FAMILY] [--jobs 2] [--show 60] [--no-cli]

Families: element-wise, broadcasting, reductions with and without axis / keepdims (sum prod mean var std max min
argmax logsumexp norm any all), softmax, cumulative ops, sort / topk / unique, matmul / einsum / tensordot / kron /
outer with an empty axis, linalg of 0x0 and batched 0xNxN / Nx0x0, concatenate / stack / split of empties, reshape
with -1 and 0, indexing with empty index arrays, FFT of length 0 and 1, convolutions and pools with size-1
kernels, losses of an empty batch, where and masks.

Checks per case (benchmarks/edges35_fuzz.py's ``run_case``: every check classified on its own): ``value`` (the
library's, NaN for a mean of nothing, the identity for a sum / product of nothing, the library's error for a max of
nothing), ``jacobian`` (reverse mode, against ``torch.func.jacrev`` / ``jax.jacrev``: shape ``y.shape + x.shape``,
empty when either is), ``forward`` (jac's forward mode against the same reference), ``vjp``, ``jvp``, ``hessian``
(every pair of inputs), ``order3`` (one input), ``twice`` (a compiled function's three calls, same bits): all of them
for PyTorch's texts; a NumPy text's value is NumPy's at every shape and its first derivatives JAX's (x64) where an
input is empty (JAX compiles each, about a second a case on a loaded machine); and, through the command line in the
family's process (typer's CliRunner, inputs as ``.npy`` files):

- ``shape``: ``jac shape TEXT x:0x3 ...`` names the output's shape and each derivative's ``y.shape + x.shape``;
- ``json``: ``jac eval --json``'s output and Jacobian ``"shape"`` are the reference's, and its ``"value"`` nested
  lists hold that many elements;
- ``out``: ``jac eval --out J.npz`` / ``.npy`` / ``.json`` give back each Jacobian at its shape (``np.load``,
  ``json.load`` then ``np.array``), or refuse with exit 2;
- ``check``: ``jac check --json`` of a case with nothing to compare (an empty Jacobian) must not pass silently:
  its report says that no entry was compared (``"compared": 0``) and its words say so.

Categories as edges35_fuzz: AGREE, REFUSED-AS-LIB, JAC-REFUSES-WHERE-LIB-ANSWERS, JAC-ANSWERS-WHERE-LIB-RAISES,
WRONG, CRASH (anything but a JacError / exit 2, or over 60 s), UNCHECKED (no reference derivative: an integer or
boolean result, no double backward). Exit 1 on any WRONG or CRASH.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from edges35_fuzz import LibError, Reference, attempt, classify, draw, jac_call, run_case, same, same_blocks  # noqa: E402
from fuzzkit import with_timeout  # noqa: E402

CATEGORIES = ("AGREE", "REFUSED-AS-LIB", "JAC-REFUSES-WHERE-LIB-ANSWERS", "JAC-ANSWERS-WHERE-LIB-RAISES", "WRONG",
              "CRASH", "UNCHECKED")
CHECKS = ("value", "jacobian", "forward", "vjp", "jvp", "hessian", "order3", "twice", "shape", "json", "out", "check")
SHAPES = [(0,), (0, 3), (3, 0), (1,), (1, 1), ()]
SQUARE = [(0, 0), (1, 1), (0, 2, 2), (2, 0, 0), (1, 1, 1), (0, 3), ()]
PAIRS = [((0,), (0,)), ((0,), (1,)), ((1,), (0,)), ((0, 3), (3,)), ((0, 3), (1, 3)), ((3, 0), (3, 1)),
         ((3, 0), (1, 0)), ((1, 1), (0, 3)), ((), (0,)), ((0, 3), ()), ((1,), (1,)), ((1, 1), ())]
MATMUL = [((0, 3), (3, 2)), ((2, 0), (0, 3)), ((3, 0), (0,)), ((0,), (0,)), ((0,), (0, 2)), ((1, 1), (1, 0)),
          ((0, 2, 2), (2, 2)), ((2, 0, 3), (3, 1)), ((1,), (1,)), ((0, 3), (0, 3))]
EMPTY_LONG = "torch.tensor([], dtype=torch.long)"


def x_only(shapes=SHAPES):
    return [{"x": s} for s in shapes]


def xy(pairs):
    return [{"x": a, "y": b} for a, b in pairs]


def reductions() -> list:
    out = []
    for name in ("sum", "prod", "mean", "var", "std", "amax", "amin", "logsumexp", "max", "min", "argmax", "norm"):
        forms = [("", "")] if name != "logsumexp" else []
        forms += [(", dim=0", ", axis=0"), (", dim=-1, keepdim=True", ", axis=-1, keepdims=True")]
        for tf, nf in forms:
            t = f"torch.{name}(x{tf})" + (".values" if name in ("max", "min") and tf else "")
            np_name = {"amax": "max", "amin": "min", "logsumexp": None, "norm": "linalg.norm"}.get(name, name)
            n = None if np_name is None else f"np.{np_name}(x{nf})"
            out.append(("reduction", t, n, x_only()))
    out.append(("reduction", "torch.any(x > 0.5)", "np.all(x > 0.5, axis=0)", x_only()))
    out.append(("reduction", "torch.all(x > 0.5, dim=-1)", "np.any(x > 0.5)", x_only()))
    out.append(("reduction", "torch.where(torch.all(x > 0.1), x.sum(), x.prod())", None, x_only()))
    out.append(("reduction", "torch.linalg.vector_norm(x, ord=float('inf'))", "np.linalg.norm(x.ravel(), ord=np.inf)",
                x_only()))
    out.append(("reduction", "torch.var(x, dim=0, correction=0)", "np.var(x, axis=0, ddof=1)", x_only()))
    out.append(("reduction", "torch.nansum(x)", "np.nanmean(x, axis=-1)", x_only()))
    out.append(("reduction", "torch.count_nonzero(x)", "np.average(x, axis=0)", x_only()))
    out.append(("reduction", "torch.aminmax(x).min", "np.ptp(x)", x_only()))
    return out


CASES = [
    ("elementwise", "torch.sin(x) * x + torch.exp(-x)", "np.sin(x) * x + np.exp(-x)", x_only()),
    ("elementwise", "torch.log1p(x) / (1 + x ** 2)", "np.sqrt(x) * np.tanh(x)", x_only()),
    ("elementwise", "torch.sigmoid(x).abs()", "np.clip(x, 0.3, 0.6) ** 2", x_only()),
    ("broadcast", "x * y + torch.sin(y)", "x * y - np.cos(x)", xy(PAIRS)),
    ("broadcast", "torch.maximum(x, y) / (1 + x)", "np.minimum(x, y) * x", xy(PAIRS)),
    ("broadcast", "torch.atan2(x, y)", "np.hypot(x, y)", xy(PAIRS)),
    *reductions(),
    ("softmax", "torch.softmax(x, dim=-1)", None, x_only()),
    ("softmax", "F.log_softmax(x, dim=0)", None, x_only()),
    ("softmax", "F.softmin(x, dim=-1) * x", None, x_only()),
    ("cumulative", "torch.cumsum(x, dim=0)", "np.cumsum(x)", x_only()),
    ("cumulative", "torch.cumprod(x, dim=-1)", "np.cumprod(x, axis=-1)", x_only()),
    ("cumulative", "torch.cummax(x, dim=0).values", "np.cumsum(x, axis=0)", x_only()),
    ("cumulative", "torch.logcumsumexp(x, dim=-1)", "np.diff(x)", x_only()),
    ("sort", "torch.sort(x, dim=-1).values", "np.sort(x, axis=0)", x_only()),
    ("sort", "torch.topk(x, 0, dim=-1).values", "np.sort(x)", x_only()),
    ("sort", "torch.topk(x, 1).values", "np.argsort(x)", x_only()),
    ("sort", "torch.unique(x)", "np.unique(x)", x_only()),
    ("sort", "torch.msort(x)", "np.partition(x, 0, axis=-1)", x_only()),
    ("matmul", "x @ y", "x @ y", xy(MATMUL)),
    ("matmul", "torch.matmul(x, y) * 2", "np.dot(x, y)", xy(MATMUL)),
    ("matmul", "torch.einsum('ij,jk->ik', x, y)", "np.einsum('ij,jk->ik', x, y)",
     xy([((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 0)), ((0, 0), (0, 0))])),
    ("matmul", "torch.einsum('i,i->', x, y)", "np.einsum('i,j->ij', x, y)", xy([((0,), (0,)), ((1,), (1,))])),
    ("matmul", "torch.tensordot(x, y, dims=1)", "np.tensordot(x, y, axes=1)", xy(MATMUL)),
    ("matmul", "torch.tensordot(x, y, dims=0)", "np.tensordot(x, y, axes=0)", xy(PAIRS)),
    ("matmul", "torch.kron(x, y)", "np.kron(x, y)", xy(PAIRS)),
    ("matmul", "torch.outer(x, y)", "np.outer(x, y)", xy(PAIRS)),
    ("matmul", "torch.inner(x, y)", "np.inner(x, y)", xy(PAIRS)),
    ("matmul", "torch.linalg.multi_dot([x, y, y.mT])", "np.linalg.multi_dot([x, y, y.T])",
     xy([((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 0))])),
    ("linalg", "torch.linalg.det(x)", "np.linalg.det(x)", x_only(SQUARE)),
    ("linalg", "torch.linalg.inv(x)", "np.linalg.inv(x)", x_only(SQUARE)),
    ("linalg", "torch.linalg.slogdet(x).logabsdet", "np.linalg.slogdet(x)[1]", x_only(SQUARE)),
    ("linalg", "torch.linalg.solve(x, x.mT)", "np.linalg.solve(x, x)", x_only(SQUARE)),
    ("linalg", "torch.linalg.cholesky(x @ x.mT)", "np.linalg.cholesky(x @ x.swapaxes(-1, -2))", x_only(SQUARE)),
    ("linalg", "torch.linalg.eigvalsh(x + x.mT)", "np.linalg.eigvalsh(x + x.swapaxes(-1, -2))", x_only(SQUARE)),
    ("linalg", "torch.linalg.svdvals(x)", "np.linalg.svd(x, compute_uv=False)", x_only(SQUARE)),
    ("linalg", "torch.linalg.matrix_norm(x)", "np.linalg.norm(x, axis=(-2, -1))", x_only(SQUARE)),
    ("linalg", "torch.linalg.qr(x).R", "np.linalg.qr(x)[1]", x_only(SQUARE)),
    ("linalg", "torch.linalg.pinv(x)", "np.linalg.pinv(x)", x_only(SQUARE)),
    ("linalg", "torch.linalg.matrix_exp(x)", "np.trace(x)", x_only(SQUARE)),
    ("linalg", "torch.trace(x)", "np.linalg.matrix_power(x, 2)", x_only(SQUARE)),
    ("linalg", "torch.diagonal(x, dim1=-2, dim2=-1)", "np.diagonal(x, axis1=-2, axis2=-1)", x_only(SQUARE)),
    ("linalg", "torch.triu(x)", "np.tril(x)", x_only(SQUARE)),
    ("linalg", "torch.linalg.eigh(x + x.mT).eigenvectors.abs()", "np.linalg.eigh(x + x.swapaxes(-1, -2))[0]",
     x_only(SQUARE)),
    ("join", "torch.cat([x, y], dim=0)", "np.concatenate([x, y])",
     xy([((0,), (2,)), ((0, 3), (2, 3)), ((0,), (0,)), ((3, 0), (1, 0)), ((1,), (0,))])),
    ("join", "torch.cat([x, y], dim=-1)", "np.concatenate([x, y], axis=-1)",
     xy([((3, 0), (3, 2)), ((0, 3), (0, 1)), ((1, 1), (1, 0))])),
    ("join", "torch.stack([x, x], dim=-1)", "np.stack([x, x], axis=0)", x_only()),
    ("join", "torch.hstack([x, x])", "np.vstack([x, x])", x_only()),
    ("split", "torch.split(x, 1, dim=0)[0]", "np.split(x, 1)[0]", x_only()),
    ("split", "torch.chunk(x, 2, dim=-1)[0]", "np.array_split(x, 2, axis=-1)[-1]", x_only()),
    ("split", "torch.tensor_split(x, 3, dim=0)[2]", "np.split(x, [0], axis=0)[1]", x_only()),
    ("split", "torch.unbind(x, dim=-1)[0]", "np.hsplit(x, 1)[0]", x_only()),
    ("reshape", "x.reshape(-1)", "x.reshape(-1)", x_only()),
    ("reshape", "x.reshape(0, -1)", "x.reshape(0, -1)", x_only()),
    ("reshape", "x.reshape(-1, 3)", "x.reshape(-1, 3)", x_only()),
    ("reshape", "x.reshape(3, 0)", "np.reshape(x, (0, 3))", x_only()),
    ("reshape", "x.reshape(1, -1, 1)", "x.reshape(1, -1, 1)", x_only()),
    ("reshape", "x.view(-1, 1).flatten()", "x.ravel()[None]", x_only()),
    ("reshape", "x.squeeze()", "np.squeeze(x)", x_only()),
    ("reshape", "x.unsqueeze(0).mT", "np.expand_dims(x, -1).T", x_only()),
    ("reshape", "x.expand(2, *x.shape)", "np.broadcast_to(x, (2,) + x.shape)", x_only()),
    ("reshape", "torch.flip(x, [0])", "np.flip(x)", x_only()),
    ("index", f"x[{EMPTY_LONG}]", "x[np.array([], dtype=int)]", x_only()),
    ("index", "x[[]]", "x[[]]", x_only()),
    ("index", "x[0:0] * 2", "x[1:] * 2", x_only()),
    ("index", "x[..., 0:0]", "x[..., 1:]", x_only()),
    ("index", "x[0]", "x[-1]", x_only()),
    ("index", f"torch.index_select(x, 0, {EMPTY_LONG})", "np.take(x, np.array([], dtype=int), axis=0)", x_only()),
    ("index", f"torch.index_select(x, -1, {EMPTY_LONG})", "np.take(x, [])", x_only()),
    ("index", "torch.gather(x, 0, torch.zeros((0,) + x.shape[1:], dtype=torch.long))",
     "np.take_along_axis(x, np.zeros((0,) + x.shape[1:], dtype=int), axis=0)", x_only()),
    ("index", f"x[:, {EMPTY_LONG}]", "x[:, np.array([], dtype=int)]", x_only()),
    ("mask", "x[x > 5]", "x[x > 5]", x_only()),
    ("mask", "torch.masked_select(x, x > 0.5)", "x[x > 0.5] ** 2", x_only()),
    ("mask", "torch.where(x > 0.5, x, y)", "np.where(x > 0.5, x, 2 * y)", xy(PAIRS)),
    ("mask", "torch.where(x > 5, x, torch.zeros_like(x))", "np.where(x > 5, x ** 2, 0.0)", x_only()),
    ("mask", "x.masked_fill(x > 0.5, 0.0)", "x * (x > 0.5)", x_only()),
    ("mask", "x[x > 5].sum()", "np.sum(x[x > 5])", x_only()),
    ("mask", "x[x > 5].mean()", "np.mean(x[x > 5])", x_only()),
    ("mask", "torch.nonzero(x > 0.5)", "np.nonzero(x > 0.5)[0]", x_only()),
    ("fft", "torch.fft.fft(x).real", "np.fft.fft(x).real", x_only()),
    ("fft", "torch.fft.rfft(x).abs()", "np.fft.rfft(x).imag", x_only()),
    ("fft", "torch.fft.fft(x, dim=0).imag", "np.fft.fft(x, axis=0).imag", x_only()),
    ("fft", "torch.fft.fft2(x).real", "np.fft.fft2(x).real", x_only()),
    ("fft", "torch.fft.irfft(x)", "np.fft.irfft(x)", x_only()),
    ("fft", "torch.fft.ifft(x).real", "np.fft.ifft(x).real", x_only()),
    ("fft", "torch.fft.fftshift(x)", "np.fft.fftshift(x)", x_only()),
    ("conv", "F.conv1d(x, y)", None, xy([((1, 1, 1), (1, 1, 1)), ((1, 1, 0), (1, 1, 1)), ((0, 1, 3), (1, 1, 1)),
                                         ((1, 2, 3), (0, 2, 1)), ((2, 1, 3), (2, 1, 1))])),
    ("conv", "F.conv2d(x, y)", None, xy([((1, 1, 1, 1), (1, 1, 1, 1)), ((0, 1, 2, 2), (1, 1, 1, 1)),
                                         ((1, 1, 0, 2), (1, 1, 1, 1)), ((1, 1, 2, 2), (2, 1, 1, 1))])),
    ("conv", "F.max_pool1d(x, 1)", None, x_only([(1, 1, 1), (0, 1, 3), (1, 0, 3), (1, 1, 3), (2, 3)])),
    ("conv", "F.avg_pool1d(x, 1)", None, x_only([(1, 1, 1), (0, 1, 3), (1, 0, 3), (1, 1, 3), (2, 3)])),
    ("conv", "F.max_pool2d(x, 1)", None, x_only([(1, 1, 1, 1), (0, 1, 2, 2), (1, 0, 2, 2), (1, 1, 2)])),
    ("conv", "F.avg_pool2d(x, 1)", None, x_only([(1, 1, 1, 1), (0, 1, 2, 2), (1, 0, 2, 2), (1, 1, 2)])),
    ("conv", "F.adaptive_avg_pool1d(x, 1)", None, x_only([(1, 1, 1), (0, 1, 3), (1, 1, 3)])),
    ("loss", "F.mse_loss(x, y)", None, xy([((0,), (0,)), ((0, 3), (0, 3)), ((1,), (1,)), ((), ())])),
    ("loss", "F.mse_loss(x, y, reduction='sum')", None, xy([((0,), (0,)), ((0, 3), (0, 3)), ((1,), (1,))])),
    ("loss", "F.l1_loss(x, y, reduction='none')", None, xy([((0,), (0,)), ((0, 3), (0, 3)), ((1,), (1,))])),
    ("loss", "F.smooth_l1_loss(x, y)", None, xy([((0,), (0,)), ((0, 3), (0, 3)), ((1, 1), (1, 1))])),
    ("loss", "F.huber_loss(x, y, reduction='sum')", None, xy([((0,), (0,)), ((3, 0), (3, 0))])),
    ("loss", f"F.cross_entropy(x, {EMPTY_LONG})", None, x_only([(0, 3), (0, 1)])),
    ("loss", f"F.cross_entropy(x, {EMPTY_LONG}, reduction='sum')", None, x_only([(0, 3), (0, 1)])),
    ("loss", f"F.nll_loss(F.log_softmax(x, dim=-1), {EMPTY_LONG})", None, x_only([(0, 3), (0, 1)])),
    ("loss", "F.cross_entropy(x, torch.zeros(1, dtype=torch.long))", None, x_only([(1, 3), (1, 1)])),
    ("loss", "F.cross_entropy(x, y)", None, xy([((0, 3), (0, 3)), ((1, 1), (1, 1))])),
    ("loss", "F.binary_cross_entropy(torch.sigmoid(x), y)", None, xy([((0,), (0,)), ((0, 3), (0, 3)),
                                                                      ((1,), (1,))])),
    ("loss", "F.kl_div(x, y, reduction='batchmean')", None, xy([((0, 3), (0, 3)), ((1, 1), (1, 1))])),
    ("loss", "F.cosine_similarity(x, y, dim=-1)", None, xy([((0, 3), (0, 3)), ((3, 0), (3, 0)), ((1, 1), (1, 1))])),
    ("loss", "F.gaussian_nll_loss(x, y, torch.ones_like(x))", None, xy([((0,), (0,)), ((1,), (1,))])),
    ("loss", "F.poisson_nll_loss(x, y)", None, xy([((0,), (0,)), ((0, 3), (0, 3))])),
    ("loss", "F.normalize(x, dim=-1)", None, x_only()),
    ("loss", "F.layer_norm(x, x.shape[-1:])", None, x_only([(0, 3), (3, 0), (1, 1), (1,), (0,)])),
]


# --- the command line -----------------------------------------------------------------------------------------

def cli(args: list):
    from typer.testing import CliRunner
    from jacobi_cli.cli.app import app
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r.exit_code, r.stdout, r.exception if not isinstance(r.exception, SystemExit) else None


def bindings(values: dict, folder: str) -> list:
    out = []
    for n, v in values.items():
        path = os.path.join(folder, f"{n}.npy")
        np.save(path, np.asarray(v, dtype=np.float64))
        out.append(f"{n}=@{path}")
    return out


def shape_spec(shape: tuple) -> str:
    return "()" if shape == () else "x".join(map(str, shape))


def cli_cases(text: str, values: dict, y_ref, jref) -> dict:
    """``shape``, ``json``, ``out`` and ``check`` for one case where the library answered (``jref`` its Jacobians
    by input, or a LibError)."""
    out = {}
    names = list(values)
    want = {n: tuple(np.shape(y_ref)) + tuple(np.shape(values[n])) for n in names}
    code, stdout, exc = cli(["shape", text, *[f"{n}:{shape_spec(np.shape(v))}" for n, v in values.items()], "--json"])
    if exc is not None:
        out["shape"] = ("CRASH", f"{type(exc).__name__}: {exc}")
    elif code == 2:
        out["shape"] = ("JAC-REFUSES-WHERE-LIB-ANSWERS", json.loads(stdout)["error"]["message"][:120])
    else:
        got = json.loads(stdout)
        bad = [n for n in names if tuple(got["derivatives"][n]["shape"]) != want[n]]
        out["shape"] = ("WRONG", f"output {got['output']['shape']}, {bad}: "
                                 f"{[got['derivatives'][n]['shape'] for n in bad]} vs {[want[n] for n in bad]}") \
            if bad or tuple(got["output"]["shape"]) != np.shape(y_ref) else ("AGREE", "")
    if isinstance(jref, LibError) or np.asarray(y_ref).dtype.kind not in "fc":
        return out
    with tempfile.TemporaryDirectory() as folder:
        binds = bindings(values, folder)
        code, stdout, exc = cli(["eval", text, *binds, "--json"])
        if exc is not None or code not in (0, 2):
            out["json"] = ("CRASH", f"exit {code} {exc!r}")
        elif code == 2:
            out["json"] = ("JAC-REFUSES-WHERE-LIB-ANSWERS", json.loads(stdout)["error"]["message"][:120])
        else:
            out["json"] = json_problem(json.loads(stdout), y_ref, want)
        out["out"] = out_problem(text, binds, folder, want)
        out["check"] = check_problem(text, binds, want)
    return out


def count_leaves(value) -> int:
    return sum(count_leaves(v) for v in value) if isinstance(value, list) else 1


def json_problem(got: dict, y_ref, want: dict) -> tuple:
    if tuple(got["output"]["shape"]) != np.shape(y_ref) or count_leaves(got["output"]["value"]) != np.size(y_ref) \
            and np.size(y_ref) != 0:
        return "WRONG", f"output {got['output']['shape']} vs {np.shape(y_ref)}"
    for n, shape in want.items():
        block = got["jacobian"][n]
        size = int(np.prod(shape))
        leaves = count_leaves(block["value"]) if size else 0
        if tuple(block["shape"]) != shape or leaves != size:
            return "WRONG", f"d/d{n}: shape {block['shape']} ({leaves} numbers) vs {shape}"
    return "AGREE", ""


def out_problem(text: str, binds: list, folder: str, want: dict) -> tuple:
    """Each ``--out`` suffix: the file's arrays at the Jacobians' shapes, or exit 2 with the file not written."""
    for suffix in ("npz", "npy", "json"):
        if suffix == "npy" and len(want) != 1:
            continue
        path = os.path.join(folder, f"J.{suffix}")
        code, stdout, exc = cli(["eval", text, *binds, "--out", path])
        if exc is not None or code not in (0, 2):
            return "CRASH", f".{suffix}: exit {code} {exc!r}"
        if code == 2:
            if os.path.exists(path):
                return "WRONG", f".{suffix}: refused but written"
            continue
        if suffix == "npz":
            with np.load(path, allow_pickle=False) as d:
                got = {n: d[n].shape for n in want}
        elif suffix == "npy":
            got = {n: np.load(path, allow_pickle=False).shape for n in want}
        else:
            with open(path) as f:
                saved = json.load(f)
            got = {n: tuple(saved[n]["shape"]) if isinstance(saved[n], dict) else np.array(saved[n]).shape
                   for n in want}
        bad = {n: (got[n], s) for n, s in want.items() if tuple(got[n]) != s}
        os.remove(path)
        if bad:
            return "WRONG", f".{suffix}: " + ", ".join(f"d/d{n} {g} vs {s}" for n, (g, s) in bad.items())
    return "AGREE", ""


def check_problem(text: str, binds: list, want: dict) -> tuple:
    """``jac check`` where every Jacobian is empty must say that nothing was compared."""
    code, stdout, exc = cli(["check", text, *binds, "--json"])
    if exc is not None or code not in (0, 1, 2):
        return "CRASH", f"exit {code} {exc!r}"
    if code == 2:
        return "AGREE", ""
    got = json.loads(stdout)
    empty = {n for n, s in want.items() if int(np.prod(s)) == 0}
    for n in want:
        compared = got["inputs"][n].get("compared")
        if compared is not None and compared != int(np.prod(want[n])):
            return "WRONG", f"d/d{n}: compared {compared}, the Jacobian has {int(np.prod(want[n]))} entries"
    if empty == set(want) and got["passed"] is not False and (
            got.get("compared") != 0 or "nothing" not in json.dumps(got.get("warnings", []))):
        return "WRONG", "passed with nothing compared and no word of it"
    return "AGREE", ""


# --- the run ----------------------------------------------------------------------------------------------------

def forward_check(text: str, values: dict, jref) -> tuple:
    from jacobi_cli.tools import api
    ours = jac_call(lambda: api.jacobian(text, values, mode="forward"))
    if isinstance(jref, LibError) and ours[0] == "ok":
        return "UNCHECKED", str(jref)
    return classify(ours, jref, lambda o, t: same_blocks(o, t, list(values)))


def value_only(lib: str, text: str, values: dict) -> dict:
    from jacobi_cli.tools import api
    theirs = attempt(Reference(lib, text, values).value)
    return {"value": classify(jac_call(api.evaluate, text, values), theirs, lambda o, t: same(o, t, 1e-9, False))}


def one(lib: str, text: str, shapes: dict, seed: int, with_cli: bool) -> dict:
    """Every check of one case. A NumPy text's derivatives are JAX's, whose compiling costs about a second a case
    on a loaded machine: they are checked (to first order) where an input is empty, the value everywhere; PyTorch's
    texts check every derivative at every shape."""
    rng = np.random.default_rng(seed)
    values = {n: draw(rng, s) for n, s in shapes.items()}
    empty = any(0 in s for s in shapes.values())
    if lib == "numpy" and not empty:
        got = value_only(lib, text, values)
    else:
        got = dict(run_case(lib, text, values, rng, deep=lib == "torch"))
    if got["value"][0] not in ("AGREE",) or "jacobian" not in got or got["jacobian"][0] == "UNCHECKED":
        y_ref = attempt(Reference(lib, text, values).value)
        if with_cli and got["value"][0] == "AGREE":
            got.update(cli_cases(text, values, y_ref, LibError("no derivative")))
        return got
    ref = Reference(lib, text, values)
    jref = attempt(ref.jacobian)
    got["forward"] = forward_check(text, values, jref)
    if with_cli:
        got.update(cli_cases(text, values, ref.value(), jref))
    return got


def family_run(family: str, with_cli: bool) -> dict:
    """One family's cases in this process: ``{"counts": [[check, category, n], ...], "found": [...], "cases": n}``."""
    warnings.simplefilter("ignore")
    import jax
    import torch
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    counts, found, n_cases = Counter(), [], 0
    for fam, torch_text, numpy_text, shape_list in CASES:
        if fam != family:
            continue
        for lib, text in (("torch", torch_text), ("numpy", numpy_text)):
            if text is None:
                continue
            for k, shapes in enumerate(shape_list):
                n_cases += 1
                got = with_timeout(one, lib, text, shapes, k, with_cli, seconds=60)
                if isinstance(got, tuple):
                    got = {"value": ("CRASH", "timeout")}
                for check, (cat, detail) in got.items():
                    counts[check, cat] += 1
                    if cat in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-LIB-RAISES", "JAC-REFUSES-WHERE-LIB-ANSWERS"):
                        found.append((cat, check, fam, text, {n: list(s) for n, s in shapes.items()}, str(detail)))
                jax.clear_caches()  # JAX's compiled functions of every case would take gigabytes
    return {"counts": [[c, k, n] for (c, k), n in counts.items()], "found": found, "cases": n_cases}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=None, help="families, comma-separated")
    ap.add_argument("--show", type=int, default=60)
    ap.add_argument("--no-cli", action="store_true", help="leave out the shape / json / out / check checks")
    ap.add_argument("--jobs", type=int, default=2, help="families run at once, each in its own process")
    ap.add_argument("--family", default=None, help=argparse.SUPPRESS)  # a child: one family, JSON on stdout
    a = ap.parse_args()
    if a.family:
        print(json.dumps(family_run(a.family, not a.no_cli)))
        return 0
    start = time.monotonic()
    counts, found, n_cases = Counter(), [], 0
    families = list(dict.fromkeys(c[0] for c in CASES if not a.only or c[0] in a.only.split(",")))
    from concurrent.futures import ThreadPoolExecutor

    def run_family(family):  # a fresh process per family: what PyTorch and JAX keep is freed with it
        return family, subprocess.run([sys.executable, __file__, "--family", family] + (["--no-cli"] if a.no_cli else []),
                                      capture_output=True, text=True, timeout=3600)

    with ThreadPoolExecutor(a.jobs) as pool:
        children = list(pool.map(run_family, families))
    for family, child in children:
        if child.returncode != 0:
            counts["value", "CRASH"] += 1
            found.append(("CRASH", "value", family, "(the family's process)", {}, child.stderr[-300:]))
            continue
        got = json.loads(child.stdout.strip().splitlines()[-1])
        n_cases += got["cases"]
        found += [tuple(f) for f in got["found"]]
        for c, k, n in got["counts"]:
            counts[c, k] += n
        print(f"  {family}: {got['cases']} cases ({time.monotonic() - start:.0f} s)", file=sys.stderr)
    for cat in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-LIB-RAISES", "JAC-REFUSES-WHERE-LIB-ANSWERS"):
        shown = [f for f in found if f[0] == cat]
        print(f"\n== {cat} ({len(shown)})")
        for _, check, family, text, shapes, detail in shown[:a.show]:
            print(f"  [{check}] {text}  {shapes}: {str(detail)[:200]}")
    print("\nper check:")
    for check in CHECKS:
        row = {cat: counts[check, cat] for cat in CATEGORIES if counts[check, cat]}
        print(f"  {check:9s} " + ", ".join(f"{k} {v}" for k, v in row.items()))
    total = Counter()
    for (check, cat), c in counts.items():
        total[cat] += c
    print(f"\n{n_cases} cases ({time.monotonic() - start:.0f} s): " + ", ".join(f"{k} {total[k]}" for k in CATEGORIES))
    return 1 if total["WRONG"] or total["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
