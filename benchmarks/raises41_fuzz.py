"""Argument validation against the library named (session 41): calls with invalid or edge arguments, where the
library raises, jac must refuse too (an answer to a call the library refuses is a silent surprise: the user's real
code would crash).

    PYTHONPATH=. python benchmarks/raises41_fuzz.py [--jobs 2] [--only NAME,NAME] [--show 40] [--cli 40]

The spellings are edges35_fuzz's (the reference's names as ``torch.NAME``, ``F.NAME``, ``torch.linalg.NAME``, the
tensor method ``a.NAME``, ``np.NAME``, ``np.linalg.NAME``). For each, the call forms the library answers at an
ordinary shape of rank 0-3 (edges35's forms: ``f(a)``, ``f(a, b)``, ``f(a, -1)``, ``f(a, dim=-1)``, ``f(a, dim=-1,
keepdim=True)``, ``f(a, dim=(0, -1))``, ...) are mutated into invalid or edge ones:

- an axis out of range (``rank``, ``-rank - 1``), on a 0-d array (a form the library answers at rank 1, at rank 0),
  duplicated (``(0, -rank)``), a float (``1.0``);
- ``keepdim`` / ``keepdims`` of a wrong type (``'yes'``, ``None``, ``2``);
- one positional argument too many, an unknown keyword (``bogus=1``);
- a second operand that does not broadcast (its last axis one longer);

plus a hand-written table (``HAND``) of reshape to an incompatible size, ``-1`` twice, negative sizes, indices out
of range, matmul of 0-d, ``ord=`` values a norm refuses, reductions without identity of an empty array, repeat /
tile / expand / split / cat / stack / transpose / permute / squeeze / diagonal / roll / flip / narrow with bad
arguments. The library named decides: PyTorch for ``torch.`` / ``F.`` / methods, NumPy for ``np.``.

Categories: JAC-ANSWERS (the library raises, jac answers: the bug), FALSE-REFUSAL (the library answers, jac
refuses), WRONG (both answer, different value or shape), REFUSED-AS-LIB (both raise: fine), AGREE, SKIP (the
library's answer is not an array), CRASH (anything but a JacError). ``--cli N`` runs N REFUSED-AS-LIB cases through
the command line and counts those without exit 2, one ``jac: error`` line, no traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from edges35_fuzz import NUMPY_FORMS, ORDINARY, TORCH_FORMS, draw, spellings, torch_fn  # noqa: E402
from fuzzkit import differ, with_timeout  # noqa: E402

CATEGORIES = ("AGREE", "REFUSED-AS-LIB", "FALSE-REFUSAL", "JAC-ANSWERS", "WRONG", "CRASH", "SKIP")

# (library, text, {name: shape}): the hand-written edge table
HAND = []


def _hand(lib, text, **shapes):
    HAND.append((lib, text, shapes))


for _t, _n in [("a.reshape(4, 2)", "np.reshape(a, (4, 2))"), ("a.reshape(-1, -1)", "np.reshape(a, (-1, -1))"),
               ("a.reshape(-2, 3)", "np.reshape(a, (-2, 3))"), ("a.reshape(2.0, 3)", "np.reshape(a, (2.0, 3))"),
               ("a.view(5, -1)", "a.reshape(5, -1)"), ("torch.reshape(a, (0, -1))", "np.reshape(a, (0, -1))"),
               ("a.flatten(0, 2)", "a.flatten(order='Q')"), ("a.unflatten(0, (4, 2))", "np.ravel(a, order='Z')"),
               ("a.expand(3, 3)", "np.broadcast_to(a, (3, 3))"), ("a.expand(-1, 4)", "np.broadcast_to(a, (2,))"),
               ("a.expand(2)", "np.broadcast_to(a, (-1, 3))"),
               ("a.repeat(2)", "np.repeat(a, -1)"), ("a.repeat(-1, 2)", "np.repeat(a, 2, axis=2)"),
               ("a.repeat_interleave(2, dim=2)", "np.repeat(a, [1, 2, 3], axis=0)"),
               ("torch.tile(a, (-1,))", "np.tile(a, (-1,))"), ("a.transpose(0, 2)", "np.transpose(a, (0, 2))"),
               ("a.permute(0, 0)", "np.transpose(a, (0, 0))"), ("a.permute(1)", "np.transpose(a, (1,))"),
               ("a.squeeze(2)", "np.squeeze(a, axis=0)"), ("a.unsqueeze(3)", "np.expand_dims(a, 3)"),
               ("a.unsqueeze(-4)", "np.expand_dims(a, -4)"), ("torch.diagonal(a, 0, 0, 0)", "np.diagonal(a, 0, 0, 0)"),
               ("torch.diagonal(a, dim1=2)", "np.diagonal(a, axis1=2)"), ("torch.roll(a, 1, 2)", "np.roll(a, 1, 2)"),
               ("torch.roll(a, (1, 2), 0)", "np.roll(a, (1, 2), (0,))"), ("torch.flip(a, (0, 0))", "np.flip(a, (0, 0))"),
               ("torch.flip(a, (2,))", "np.flip(a, 2)"), ("a.narrow(0, 1, 2)", "np.swapaxes(a, 0, 2)"),
               ("a.narrow(1, -4, 1)", "np.moveaxis(a, 0, 2)"), ("torch.movedim(a, 0, 2)", "np.moveaxis(a, (0, 0), (1, 0))"),
               ("a.swapaxes(0, 2)", "np.rot90(a, 1, (0, 0))"), ("torch.rot90(a, 1, (0, 0))", "np.rot90(a, 1, (0, 2))"),
               ("a[2]", "a[2]"), ("a[:, 3]", "a[:, 3]"), ("a[-3]", "a[-3]"), ("a[0, 0, 0]", "a[0, 0, 0]"),
               ("a[[0, 2]]", "a[[0, 2]]"), ("a[torch.tensor([2])]", "a[np.array([2])]"),
               ("torch.index_select(a, 0, torch.tensor([2]))", "np.take(a, [6])"),
               ("torch.take(a, torch.tensor([6]))", "np.take(a, [3], axis=1)"),
               ("torch.gather(a, 1, torch.tensor([[3]]))", "np.take_along_axis(a, np.array([[3]]), 1)"),
               ("torch.split(a, 0)[0]", "np.split(a, 4)[0]"), ("torch.split(a, [1, 1])[0]", "np.split(a, 0)[0]"),
               ("torch.chunk(a, 0)[0]", "np.array_split(a, 0)[0]"), ("torch.tensor_split(a, 0)[0]", "np.split(a, [1], axis=2)[0]"),
               ("torch.cat([a, a], dim=2)", "np.concatenate([a, a], axis=2)"), ("torch.cat([a, a.T], 0)", "np.concatenate([a, a.T], 0)"),
               ("torch.stack([a, a], dim=3)", "np.stack([a, a], axis=3)"), ("torch.stack([a, a[0]])", "np.stack([a, a[0]])"),
               ("torch.hstack([a, a[0]])", "np.hstack([a, a[0]])"), ("torch.vstack([a, a[:, :1]])", "np.vstack([a, a[:, :1]])"),
               ("torch.trace(a[0])", "np.trace(a[0])"), ("torch.tril(a[0], 1.5)", "np.tril(a, 1.5)"),
               ("torch.triu(a[0, 0])", "np.triu(a[0, 0])"), ("torch.diag(a)", "np.diag(a)"),
               ("torch.diag_embed(a, dim1=0, dim2=0)", "np.diagflat(a, 1.5)"),
               ("torch.kthvalue(a, 4).values", "np.partition(a, 4)"), ("torch.kthvalue(a, 0).values", "np.partition(a, -4)"),
               ("torch.topk(a, 4).values", "np.partition(a, 3, axis=3)"), ("torch.topk(a, -1).values", "np.sort(a, axis=3)"),
               ("torch.cumsum(a, 3)", "np.cumsum(a, axis=3)"), ("torch.cumsum(a)", "np.cumsum(a, axis=1.0)"),
               ("torch.diff(a, -1)", "np.diff(a, -1)"), ("torch.diff(a, 1, 3)", "np.diff(a, 1, 3)"),
               ("torch.sum(a, dim=3)", "np.sum(a, axis=3)"), ("torch.sum(a, (0, 0))", "np.sum(a, (0, 0))"),
               ("torch.mean(a, dim=1.0)", "np.mean(a, axis=1.0)"), ("torch.sum(a, keepdim=True)", "np.sum(a, keepdims='no')"),
               ("torch.softmax(a, 3)", "np.sum(a, axis=-4)"), ("F.softmax(a, dim=-4)", "np.prod(a, axis=(1, -2))"),
               ("torch.logsumexp(a, 3)", "np.var(a, ddof=1.5)"), ("torch.var(a, 3)", "np.std(a, axis=3)"),
               ("torch.var(a, correction=-1)", "np.var(a, ddof=-1)"), ("torch.std(a, unbiased=2)", "np.std(a, ddof=100)"),
               ("torch.norm(a, p='bogus')", "np.linalg.norm(a, ord='bogus')"),
               ("torch.linalg.norm(a[0], ord=3)", "np.linalg.norm(a[0], ord=3)"),
               ("torch.linalg.norm(a[0], ord='nuc', dim=(0, 0))", "np.linalg.norm(a[0], ord='nuc', axis=(0, 0))"),
               ("torch.linalg.vector_norm(a, ord='fro')", "np.linalg.norm(a[0, 0], ord='fro')"),
               ("torch.linalg.matrix_norm(a[0, 0])", "np.linalg.norm(a[0, 0], ord='nuc')"),
               ("torch.linalg.matrix_norm(a[0], ord=3)", "np.linalg.norm(a, ord=2)"),
               ("torch.linalg.vector_norm(a, dim=(0, 0))", "np.linalg.norm(a, axis=(0, 1, 2))"),
               ("torch.linalg.norm(a, ord=2)", "np.linalg.norm(a[0], ord=-3)"),
               ("torch.max(a[:0])", "np.max(a[:0])"), ("torch.amin(a[:0])", "np.min(a[:0])"),
               ("torch.argmax(a[:0])", "np.argmax(a[:0])"), ("torch.max(a[:0], 0).values", "np.max(a[:0], axis=0)"),
               ("torch.amax(a[:0], dim=1)", "np.amax(a[:0], axis=1)"), ("torch.aminmax(a[:0]).min", "np.ptp(a[:0])"),
               ("torch.prod(a[:0], 0)", "np.max(a[:0], initial=0.0)"), ("torch.median(a[:0])", "np.median(a[:0])"),
               ("torch.kthvalue(a[:0], 1, 0).values", "np.percentile(a[:0], 50)"),
               ("torch.logsumexp(a[:0], 0)", "np.max(a, axis=1, initial=0.5)"),
               ("torch.linspace(0, 1, -1) * a.sum()", "np.linspace(0, 1, -1) * a.sum()"),
               ("torch.arange(0, 3, 0) * a.sum()", "np.arange(0, 3, 0) * a.sum()"),
               ("torch.ones(-1) * a.sum()", "np.ones(-1) * a.sum()"), ("torch.zeros(2.5) * a.sum()", "np.zeros(2.5) * a.sum()"),
               ("torch.eye(-2) * a.sum()", "np.eye(-2) * a.sum()"), ("torch.full((2,), 1, 2) * a.sum()", "np.full(-2, 1.0) * a.sum()"),
               ("torch.clamp(a)", "np.clip(a)"), ("torch.pow(a)", "np.power(a)"), ("torch.sin(a, a)", "np.sin(a, a, a)"),
               ("torch.sum(a, 0, True, 1)", "np.sum(a, 0, None, None, True, 1, 2)"), ("torch.exp(a, bogus=1)", "np.exp(a, bogus=1)"),
               ("torch.outer(a, a)", "np.outer(a, a).reshape(2, 2)"), ("torch.dot(a[0, 0], a[0, 0, :2])", "np.dot(a[0, 0], a[0, 0, :2])"),
               ("torch.dot(a[0], a[0])", "np.inner(a[0, 0], a[0, 0, :2])"), ("torch.mv(a[0], a[0, :, 0])", "np.vdot(a[0, 0], a[0, 0, :2])"),
               ("torch.mm(a[0, 0], a[0])", "np.cross(a[0, 0, :1], a[0, 0, :1])"), ("torch.kron(a, a, a)", "np.kron(a)"),
               ("torch.tensordot(a, a, dims=4)", "np.tensordot(a, a, axes=4)"),
               ("torch.tensordot(a, a, dims=([0], [1]))", "np.tensordot(a, a, axes=([0], [1]))"),
               ("torch.einsum('ij->i', a)", "np.einsum('ij->i', a)"), ("torch.einsum('ijk,ijk->', a, a[0])", "np.einsum('ijk,ijk->', a, a[0])"),
               ("torch.where(a > 0.5, a, a[:, :1, :2])", "np.where(a > 0.5, a, a[:, :1, :2])"),
               ("torch.clip(a, a[:, :, :2])", "np.clip(a, a[:, :, :2], 1)"), ("torch.maximum(a, a[:, :, :2])", "np.maximum(a, a[:, :, :2])"),
               ("torch.atan2(a, a[0, :2])", "np.arctan2(a, a[0, :2])"), ("torch.linalg.det(a[0, :2])", "np.linalg.det(a[0, :2])"),
               ("torch.linalg.inv(a[0, 0])", "np.linalg.inv(a[0, 0])"), ("torch.linalg.solve(a[0], a[0, :2])", "np.linalg.solve(a[0], a[0, :2])"),
               ("torch.linalg.cholesky(a[0, :2])", "np.linalg.cholesky(a[0, :2])"), ("torch.trace(a)", "np.trace(a[0, 0])"),
               ("torch.cross(a, a, dim=1)", "np.cross(a, a, axis=1)"),
               ("torch.nn.functional.pad(a, (1,))", "np.pad(a, -1)"), ("F.pad(a, (-4, 0))", "np.pad(a, ((1, 1), (1, 1)))"),
               ("F.normalize(a, dim=3)", "np.linalg.norm(a, axis=3)"), ("F.one_hot(torch.tensor([3]), 2) * a.sum()", "np.eye(3)[[3]] * a.sum()"),
               ("F.linear(a, a[0])", "np.matmul(a, a[0, :2])"), ("F.cosine_similarity(a, a[:, :2])", "np.matmul(a[0], a[0, :2])"),
               ("F.mse_loss(a, a[0, :2])", "np.average(a, axis=0, weights=[1.0, 2.0, 3.0])"),
               ("F.mse_loss(a, a, reduction='bogus')", "np.average(a, weights=a[0])"),
               ("torch.cumprod(a, dim=-4)", "np.cumprod(a, axis=-4)"), ("torch.flatten(a, 2, 1)", "np.moveaxis(a, 3, 0)"),
               ("a.mT.matmul(a[0, 0])", "np.matmul(a[0, 0], a)"), ("a.sum().matmul(a)", "np.matmul(a.sum(), a)"),
               ("a @ a", "a @ a"), ("a[0, 0] @ a[0, 0, :2]", "a[0, 0] @ a[0, 0, :2]"),
               ("a.sum() @ a[0]", "a.sum() @ a[0]")]:
    _hand("torch", _t, a=(2, 3, 3))
    _hand("numpy", _n, a=(2, 3, 3))


def values_of(shapes: dict) -> dict:
    rng = np.random.default_rng(0)
    return {n: draw(rng, s) for n, s in shapes.items()}


class LibRaised(Exception):
    pass


class NotArray(Exception):
    pass


def library(lib: str, text: str, values: dict):
    """The library's array, LibRaised when it raises, NotArray for another result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if lib == "torch":
                import torch
                y = torch_fn(text, list(values))(*[torch.tensor(v) for v in values.values()])
                if not isinstance(y, torch.Tensor):
                    raise NotArray(type(y).__name__)
                return y.detach().numpy()
            y = eval(text, {"np": np, **{k: np.array(v) for k, v in values.items()}})  # noqa: S307
        except NotArray:
            raise
        except Exception as e:  # noqa: BLE001 - the library raising is the result here
            raise LibRaised(f"{type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}") from None
        if isinstance(y, (np.ndarray, np.generic, float, int, bool)) and not isinstance(y, (tuple, list)):
            return np.asarray(y)
        raise NotArray(type(y).__name__)


def jac(text: str, values: dict):
    """("ok", array) / ("refused", message) / ("crash", message)."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    try:
        return "ok", np.asarray(api.evaluate(text, values))
    except JacError as e:
        return "refused", str(e).splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return "crash", f"{type(e).__name__}: {str(e)[:120]}"


def compare(ours, theirs) -> str | None:
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    if theirs.dtype.kind in "fc" or ours.dtype.kind in "fc":
        if theirs.dtype.kind == "c":
            return None if np.allclose(ours, theirs, equal_nan=True) else "values differ"
        return differ(ours, theirs, None, "float64", rtol=1e-9)
    return None if np.array_equal(ours.astype(float), theirs.astype(float)) else "values differ"


def classify(lib: str, text: str, shapes: dict) -> tuple:
    values = values_of(shapes)
    try:
        theirs = library(lib, text, values)
    except NotArray as e:
        return "SKIP", str(e)
    except LibRaised as e:
        theirs = e
    status, ours = with_timeout(jac, text, values, seconds=20)
    if status == "CRASH" or status == "crash":
        return "CRASH", ours
    if isinstance(theirs, LibRaised):
        return ("REFUSED-AS-LIB", ours) if status == "refused" else ("JAC-ANSWERS", str(theirs))
    if status == "refused":
        return "FALSE-REFUSAL", ours
    problem = compare(ours, theirs)
    return ("WRONG", problem) if problem else ("AGREE", "")


# --- the mutations ------------------------------------------------------------------------------------------

def _answers(lib, text, shapes) -> bool:
    try:
        library(lib, text, values_of(shapes))
        return True
    except (LibRaised, NotArray):
        return False


def call_text(call: str, args: list) -> str:
    args = args if call.startswith("a.") else ["a"] + args
    return f"{call}({', '.join(args)})"


def mutations(form: list, rank: int, lib: str) -> list:
    """``(kind, args, rank)``: the invalid or edge variants of a form the library answers at ``rank``."""
    key, keep = ("dim", "keepdim") if lib == "torch" else ("axis", "keepdims")
    out = []
    for i, arg in enumerate(form):
        def swap(new, kind, r=rank):
            out.append((kind, form[:i] + [new] + form[i + 1:], r))
        if arg in (f"{key}=-1", f"{key}=-2", "-1", "-2", "1"):
            prefix = f"{key}=" if arg.startswith(key) else ""
            swap(f"{prefix}{max(rank, 1)}", "axis-high")
            swap(f"{prefix}{-max(rank, 1) - 1}", "axis-low")
            swap(f"{prefix}1.0" if rank > 1 else f"{prefix}0.0", "axis-float")
            if rank >= 1:
                swap(f"{prefix}({0}, {-rank})", "axis-duplicate")
            if rank == 1:
                swap(arg, "axis-on-0d", 0)
        elif arg == f"{key}=(0, -1)":
            swap(f"{key}=(0, {rank})", "axis-high")
            if rank >= 1:
                swap(f"{key}=(0, 0)", "axis-duplicate")
        elif arg == f"{keep}=True":
            swap(f"{keep}='yes'", "keepdim-type")
            swap(f"{keep}=None", "keepdim-type")
            swap(f"{keep}=2", "keepdim-type")
    if form == []:
        out.append(("unknown-keyword", ["bogus=1"], rank))
        out.append(("too-many", ["a", "a", "a", "a", "a", "a", "a", "a"], rank))
    if form == ["b"] and rank >= 1:
        out.append(("no-broadcast", ["b"], rank))
    return out


def cases(lib: str, call: str) -> list:
    """``(kind, text, shapes)`` for one spelling."""
    out = []
    forms = TORCH_FORMS if lib == "torch" else NUMPY_FORMS
    for rank, ordinary in ORDINARY.items():
        for form in forms:
            text = call_text(call, form)
            shapes = {"a": ordinary, **({"b": ordinary} if "b" in form else {})}
            if not _answers(lib, text, shapes):
                continue
            for kind, args, r in mutations(form, rank, lib):
                s = {"a": ORDINARY[r], **({"b": ORDINARY[r]} if "b" in args else {})}
                if kind == "no-broadcast":
                    s["b"] = s["a"][:-1] + (s["a"][-1] + 1,)
                out.append((kind, call_text(call, args), s))
    return out


def worker(job) -> list:
    lib, call, only_hand = job
    import torch  # noqa: F401 - warm the import outside the alarms
    rows = []
    todo = [("hand", text, shapes) for l2, text, shapes in HAND if l2 == lib and call == "HAND"] if only_hand \
        else cases(lib, call)
    seen = set()
    for kind, text, shapes in todo:
        if (text, tuple(sorted(shapes.items()))) in seen:
            continue
        seen.add((text, tuple(sorted(shapes.items()))))
        cat, detail = classify(lib, text, shapes)
        rows.append((lib, call, kind, text, shapes, cat, detail))
    return rows


def cli_check(rows: list, n: int) -> Counter:
    """N REFUSED-AS-LIB cases through the command line: exit 2, one ``jac: error`` line, no traceback."""
    import tempfile
    out = Counter()
    tmp = tempfile.mkdtemp()
    for lib, call, kind, text, shapes, cat, detail in [r for r in rows if r[5] == "REFUSED-AS-LIB"][:n]:
        args = []
        for name, value in values_of(shapes).items():
            path = os.path.join(tmp, f"{name}.npy")
            np.save(path, value)
            args.append(f"{name}=@{path}")
        p = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", text, *args], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "PYTHONPATH": os.path.dirname(HERE)})
        lines = p.stderr.strip().splitlines()
        good = p.returncode == 2 and lines and lines[0].startswith("jac: error") and "Traceback" not in p.stderr
        out["cli-ok" if good else "cli-bad"] += 1
        if not good:
            print(f"  CLI {p.returncode}: {text}: {p.stderr[:200]!r}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--show", type=int, default=40)
    ap.add_argument("--cli", type=int, default=0)
    opts = ap.parse_args()
    start = time.time()
    import multiprocessing
    only = set(filter(None, opts.only.split(",")))
    jobs = [(lib, call, False) for lib, call in spellings()
            if not only or call.split(".")[-1] in only or call in only]
    if not only or "HAND" in only:
        jobs += [("torch", "HAND", True), ("numpy", "HAND", True)]
    with multiprocessing.get_context("fork").Pool(opts.jobs, maxtasksperchild=20) as pool:
        results = pool.map(worker, jobs, chunksize=4)
    rows = [r for rs in results for r in rs]
    counts = Counter(r[5] for r in rows)
    by_kind = defaultdict(Counter)
    for r in rows:
        by_kind[r[2]][r[5]] += 1
    for cat in ("JAC-ANSWERS", "WRONG", "CRASH", "FALSE-REFUSAL"):
        found = [r for r in rows if r[5] == cat]
        print(f"\n{cat} ({len(found)}):")
        for lib, call, kind, text, shapes, _, detail in found[:opts.show]:
            print(f"  [{lib}] {text}  {shapes}  -- {detail}")
    print(f"\nREFUSED-AS-LIB messages (a sample):")
    for r in [r for r in rows if r[5] == "REFUSED-AS-LIB"][:: max(1, counts["REFUSED-AS-LIB"] // 15)]:
        print(f"  {r[3]}: {r[6][:110]}")
    print("\nper kind:")
    for kind, c in sorted(by_kind.items()):
        print(f"  {kind:16s} " + ", ".join(f"{k} {c[k]}" for k in CATEGORIES if c[k]))
    print(f"\n{len(rows)} cases from {len(jobs)} spellings in {time.time() - start:.0f} s")
    print("total: " + ", ".join(f"{k} {counts[k]}" for k in CATEGORIES))
    if opts.cli:
        print("cli: " + ", ".join(f"{k} {v}" for k, v in cli_check(rows, opts.cli).items()))
    return 1 if counts["JAC-ANSWERS"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
