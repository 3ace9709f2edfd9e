"""PyTorch in-place writes through views, round 39 (h39-views): writes through a named view (``d = t.diagonal();
d.mul_(2)``), reads of a view after a write of its base, in-place methods on unnamed views (``t.diagonal().mul_(2)``),
in-place methods on copies (``t.flip(0).add_(1)``), index_put with operands that read the written tensor, and the
autograd errors PyTorch raises for in-place writes (a leaf, a tensor saved for backward).

Each text is a short PyTorch program run by PyTorch itself (float64 leaves with requires_grad=True, one backward
pass per output element) and by jac (value and Jacobian through ``jacobi_cli.tools.api``). A text's class:

- AGREE: both answer, value and every Jacobian block the same bits (NaN where NaN);
- CLOSE: both answer, equal within 1e-12 relative but not bit for bit;
- REFUSED-AS-LIB: both refuse;
- JAC-ANSWERS-WHERE-LIB-RAISES: a silent answer (the worst defect);
- JAC-REFUSES-WHERE-LIB-ANSWERS: a false refusal;
- WRONG: both answer, differently; CRASH: jac raised something that is not a JacError;
- FLOAT32-CAST: both answer, within float32's rounding, where the text casts to float32: jac computes the cast in
  float64 and warns that PyTorch rounds there (session 47's convention), not a defect;
- NUMPY-READING: jac's answer differs from PyTorch's (or PyTorch raises), but the text names no library and runs in
  NumPy too, whose value jac gives: jac reads such a text as NumPy runs it (documented), not a defect.

    PYTHONPATH=. /work/venv/bin/python benchmarks/views39_probe.py [-v] [-k SUBSTRING]

Prints one line per text that is not AGREE / REFUSED-AS-LIB (all with -v), then the counts. About a minute.
"""
from __future__ import annotations

import argparse
import ast
import collections
import re
import sys
import warnings

import numpy as np

INPUTS = {"A": [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5], [-2.0, 1.0, 3.0]], "x": [0.5, -1.5, 2.0]}

BASES = ["t = A * 1", "t = torch.sin(A)", "t = A.exp()", "t = A.clone()"]
# named views of t (3×3) and a write that fits each
VIEWS = ["t[0]", "t[:, 1]", "t[1:]", "t[0:2, 1:]", "t.T", "t.t()", "t.diagonal()", "t.diagonal(1)",
         "torch.diagonal(t)", "t.diagonal(-1)", "t.view(9)", "t.view(3, 3)", "t.reshape(9)", "t.flatten()",
         "t.unsqueeze(0)", "t.narrow(0, 1, 2)", "t.select(1, 0)", "t.transpose(0, 1)", "t.permute(1, 0)", "t[None]",
         "t[...]", "t[:]", "t[::2]", "t.T[1:]", "t.movedim(0, 1)", "t[0].expand(3, 3)", "t.expand(2, 3, 3)",
         "t.detach()", "t.view_as(t)", "t[1].unsqueeze(1)", "t.T.diagonal()", "t[1:].diagonal()",
         "t.view(-1)[2:5]", "t.unflatten(1, (3, 1))", "t.squeeze()"]
WRITES = ["v.mul_(2)", "v += 1", "v.add_(x[0])", "v.zero_()", "v.fill_(3.0)", "v[0] = 5.0", "v.exp_()",
          "v.copy_(torch.ones_like(v) * 4)", "v.clamp_(min=0.0)", "v *= v", "v.sub_(A[2, 2])"]
READS = ["torch.cat([t.reshape(-1), v.reshape(-1)])", "t", "v * 1"]
BASE_WRITES = ["t.mul_(3)", "t[1] = 2.0", "t += A", "t.zero_()", "t[0, 0] = t[1, 1] * 1"]

UNNAMED = ["t.diagonal().mul_(2)", "t.diagonal(1).add_(1)", "torch.diagonal(t).zero_()", "t.T.diagonal().exp_()",
           "t[0].mul_(2)", "t.T.add_(1)", "t.narrow(0, 1, 2).zero_()", "t.unsqueeze(0).mul_(2)", "t.view(9).add_(1)",
           "t.flip(0).add_(1)", "torch.flip(t, [0]).mul_(2)", "t.roll(1, 0).add_(1)", "t[[0, 1]].add_(1)",
           "t.clone().add_(1)", "t.contiguous().mul_(2)", "t.T.contiguous().add_(1)", "t.expand(2, 3, 3).add_(1)",
           "t[0].expand(3, 3).mul_(2)", "t.diagonal().fill_(0.5)", "t.diagonal().copy_(x)"]

INDEX_PUTS = ["t[[0, 1]] = t[[1, 0]]", "t[[0, 1]] = t[1:] * 1", "t[[1]] = t[0:1]", "t[[0]] = t[1:2]",
              "t[[0, 1, 2]] = t", "t[[2, 1, 0]] = t", "t[:, [0, 1]] = t[:, 1:]", "t[:, [0, 2]] = t[:, 1:2]",
              "t[[0]] = t[0]", "t[t > 0.6] = t[0, 0]", "t[t > 0.6] += 1", "t[[0, 0]] += 1", "t[[0, 1]] += t[1:]",
              "t.index_put_((torch.tensor([0, 1]),), t[1:])", "t.index_put_((torch.tensor([0]),), t[1:2])",
              "t.index_put_((torch.tensor([1]),), t[0], accumulate=True)",
              "t.index_put_((torch.tensor([0, 1, 2]),), t.flip(0))", "t[torch.tensor([0, 2])] = t.flip(0)[:2]",
              "t[0, [0, 1]] = t[1, 1:]", "t[0, [0, 1]] = t[0, 1:]", "t[0, [1, 2]] = t[0, :2]",
              "t[0, [1, 2]] = t[0, [0, 1]]", "t[[0]] = t[[1]]", "t.index_put_((torch.tensor([0]),), t[0:1])",
              "t[[0, 1]] = t.T[:2]", "t[[1, 2]] = t[:2].T[:2].T", "t[:, [0, 1]] = t.T[:, 1:]",
              "t.index_put_((torch.tensor([0, 2]),), t[1], accumulate=True)", "t[[0, 2]] -= t[1]",
              "t[t < 0] = t[t > 2][0]", "t.index_fill_(0, torch.tensor([0]), 1.5)", "t.index_add_(0, torch.tensor([0]), t[1:2])",
              "t.index_copy_(0, torch.tensor([0]), t[2:])", "t.masked_fill_(t > 1, 0.0)", "t.masked_scatter_(t > 1, t * 2)",
              "t.scatter_(0, torch.tensor([[1, 0, 2]]), t[2:])", "t.put_(torch.tensor([0, 4]), t[2, :2])",
              "t.index_put_((torch.tensor([0, 1, 2]),), t)", "t.index_put_((torch.tensor([2, 1, 0]),), t, accumulate=True)",
              "t.index_add_(0, torch.tensor([0, 1, 2]), t)", "t.index_copy_(0, torch.tensor([2, 1, 0]), t)",
              "t.scatter_(0, torch.tensor([[1, 0, 2]]), t)", "t.masked_scatter_(t > 1, t)", "t[[0, 1, 2]] = t.T",
              "t[1:, [0, 1]] = t[0, :2]", "t[[0, 1], 1:] = t[2, 1:]", "t[[0, 1], 1:] = t[1:, :2]",
              "t[:, [0, 2]] = t[:, 1:2] * 1", "t[t > 1] = t[0, :2]", "t[t > 1] = t[0, 2]",
              "t[torch.tensor([True, False, True])] = t[1]", "t[[0, 2], 0] = t[1, :2]", "t[[0, 2], 0] = t[:2, 1]",
              "t[[0, 1]] = t[1:, [2, 1, 0]]", "t[1, [0, 2]] = t[0, :2]", "t[[0, 1], [1, 2]] = t[2, :2]",
              "t[[0, 1], [1, 2]] = t[1, 1:]", "t.index_put_((torch.tensor([0]), torch.tensor([1])), t[1, 1])"]

AUTOGRAD = ["x.add_(1); x * 1", "v = x[1:]; v.add_(1); x * 1", "v = x.detach(); v.add_(1); x * 1",
            "y = x.exp(); y.add_(1); y.sum()", "y = x.sigmoid(); z = y * 2; y.mul_(2); (z + y).sum()",
            "y = x * 2; z = y * 2; y.mul_(2); (z + y).sum()", "y = x.sin(); z = y * y; y.add_(1); z.sum()",
            "y = x.sin(); z = y + 1; y.add_(1); (z * y).sum()", "y = x.sin(); z = y ** 2; y.add_(1); z.sum()",
            "y = x.tanh(); y.mul_(2); y.sum()", "y = x * 1; v = y[1:]; z = v.exp(); y.add_(1); z.sum()",
            "y = x * 1; v = y[1:]; z = v.sin(); y.add_(1); z.sum()", "y = x * 1; v = y[1:]; z = v.sin(); v.add_(1); z.sum()",
            "y = x * 1; v = y[1:]; z = y.sin(); v.add_(1); z.sum()", "y = x * 1; v = y[1:]; z = y.exp(); v.add_(1); z.sum()",
            "y = x * 1; v = y[1:]; z = v.exp(); y[0] = 5.0; z.sum()", "y = x * 1; v = y[1:]; z = v.sin(); y[0] = 5.0; z.sum()",
            "y = x.relu(); y.mul_(2); y", "y = x * 1; d = y[:2]; z = d * x[:2]; y.mul_(2); z",
            "y = x * 1; d = y[:2]; z = x[:2] * d; d.add_(1); z", "y = torch.sin(x); v = y.view(3, 1); v.mul_(2); y.exp()",
            "y = torch.sin(x); v = y[0]; w = v * v; y.add_(1); w", "y = torch.sin(x); v = y.unsqueeze(0); y.mul_(2); v.sum(1)",
            "y = torch.sin(x); v = y[1:]; v.exp_(); y.sum()", "y = torch.sin(x); v = y[1:]; v.exp_(); v.add_(1); y.sum()",
            "y = torch.sin(x); v = y[1:]; v.sigmoid_(); y * 1", "y = torch.sin(x); v = y[1:]; v.sigmoid_(); y.mul_(2); y"]


def cases() -> list:
    out = []
    for base in BASES:
        for view in VIEWS:
            for write in WRITES:
                for read in READS:
                    out.append(f"{base}; v = {view}; {write}; {read}")
            for write in BASE_WRITES:
                out.append(f"{base}; v = {view}; {write}; v * 1")
        for stmt in UNNAMED:
            out.append(f"{base}; {stmt}; t")
        for stmt in INDEX_PUTS:
            out.append(f"{base}; {stmt}; t")
    out += [f"{s}" for s in AUTOGRAD]
    out += ["t = A * 1; d = t.diagonal(); u = t[0]; d.mul_(2); torch.cat([u, d, t.reshape(-1)])",
            "t = A * 1; d = t.diagonal(); u = t[0]; u.add_(1); d.mul_(2); torch.cat([u, d, t.reshape(-1)])",
            "t = A * 1; d = t[0]; e = d[1:]; e.mul_(3); torch.cat([d, e, t.reshape(-1)])",
            "t = A * 1; d = t[0]; t = A * 3; d.mul_(2); d",
            "t = A * 1; d = t[0]; t = A * 3; d.mul_(2); t",
            "t = A * 1; u = t; d = u[0]; d.mul_(2); torch.cat([u.reshape(-1), t.reshape(-1)])",
            "t = A * 1; d = t[0]; e = d; e.mul_(2); torch.cat([d, t.reshape(-1)])",
            "t = A * 1; d = t[0:2]; d += t[1:]; t", "t = A * 1; d = t[0]; d += t[1]; t",
            "t = A * 1; d = t[0]; d.add_(t[0]); t", "t = A * 1; d = t.T; d.add_(t); t",
            "t = A * 1; d = t[:, 0]; d.add_(t[0]); t", "t = A * 1; d = t.diagonal(); d.add_(t[0]); t",
            "t = A * 1; d = t.diagonal(); d.copy_(t[:, 1]); t", "t = A * 1; d = t[1:]; d[0] = t[0]; t",
            "t = A * 1; d = t.view(9); d[1:4] = d[0:3]; t", "t = A * 1; d = t[0]; d.mul_(2); t.unsqueeze_(0); d",
            "t = A * 1; d = t[0]; t.unsqueeze_(0); d.mul_(2); t", "t = A * 1; d = t[0]; t.t_(); d.mul_(2); t",
            "t = A * 1; ts = [t]; d = t[0]; d.mul_(2); ts[0]", "t = A * 1; g = t.clone(); d = t[0]; d.mul_(2); g",
            "t = A * 1; d = t[0]; g = d.clone(); d.mul_(2); torch.cat([g, d])",
            "t = A * 1; v = t[1:]; v[0, 0] = 7.0; v[:, 1] *= 2; t", "t = A * 1; v = t[0]\nfor i in range(2):\n    v.mul_(2)\nt",
            "t = A * 1; v = t.diagonal(); w = v.unsqueeze(0); w.mul_(2); t",
            "t = A * 1; v = t.diagonal(); v.mul_(2); v.add_(v); t",
            "t = torch.sin(A); a, b = t.chunk(2); t.add_(1); a * 1", "t = torch.sin(A); a, b = t.chunk(2); t.add_(1); t * 1",
            "t = torch.sin(A); a, b = t.chunk(2); a.add_(1); t", "t = torch.sin(A); r = t.unbind(0)[0]; r.mul_(2); t",
            "t = torch.sin(A); a, b = torch.split(t, 2); c = a[0]; c.mul_(2); t",
            "t = torch.sin(A)\nfor r in t:\n    r.mul_(2)\nt", "t = torch.sin(A); rows = list(t); rows[0].mul_(2); t",
            "t = torch.sin(A); g = t.float(); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
            "t = torch.sin(A); g = t.double(); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
            "t = torch.sin(A); g = t.contiguous(); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
            "t = torch.sin(A); g = t.T.contiguous(); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
            "t = torch.sin(A); g = t.to(torch.float64); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
            "t = torch.sin(A); u = t.clone(); k = u[1:]; u.add_(1.0); torch.cat([k.reshape(-1), t.reshape(-1)])",
            "t = torch.sin(A); u = t; v = u[1:]; u.mul_(2); torch.cat([t.reshape(-1), v.reshape(-1)])",
            "t = A * 2; u = t.T; t.t_(); t.mul_(2); t + u", "t = A.clone(); y3 = t; y4 = t[1:]; t.t_(); y4.add_(1); y3"]
    return out


def split(text: str):
    tree = ast.parse(text)
    return (compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec"),
            compile(ast.Expression(tree.body[-1].value), "<text>", "eval"))


def names_in(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def first_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"[:170]


def run_torch(text: str):
    import torch
    body, last = split(text)
    names = names_in(text)
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names}
    scope = {"torch": torch, **leaves}
    exec(body, scope)  # noqa: S102
    y = eval(last, scope)  # noqa: S307
    value = y.detach().numpy().astype(float)
    jac = {k: np.zeros(tuple(y.shape) + tuple(leaves[k].shape)) for k in names}
    if y.requires_grad:
        flat = y.reshape(-1)
        for i in range(flat.numel()):
            grads = torch.autograd.grad(flat[i], [leaves[k] for k in names], retain_graph=True, allow_unused=True)
            for k, g in zip(names, grads):
                if g is not None:
                    jac[k].reshape(flat.numel(), -1)[i] = g.reshape(-1).numpy()
    return value, jac


def library(text: str):
    try:
        value, jac = run_torch(text)
        return ("ok", value, jac)
    except Exception as e:  # noqa: BLE001 - PyTorch's own refusal, whatever its class
        return ("raises", first_line(e))


def run_numpy(text: str):
    """NumPy's value of a text naming no library, or None where NumPy does not run it."""
    body, last = split(text)
    scope = {k: np.array(INPUTS[k], dtype=np.float64) for k in names_in(text)}
    try:
        with np.errstate(all="ignore"):
            exec(body, scope)  # noqa: S102
            return np.asarray(eval(last, scope), dtype=float)  # noqa: S307
    except Exception:  # noqa: BLE001
        return None


def numpy_reading(text: str, ours) -> bool:
    if "torch" in text:
        return False
    value = run_numpy(text)
    return value is not None and value.shape == ours[1].shape and np.array_equal(value, ours[1], equal_nan=True)


def jac_run(text: str):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    bindings = {k: np.array(INPUTS[k], dtype=np.float64) for k in names_in(text)}
    try:
        value = np.asarray(api.evaluate(text, bindings), dtype=float)
        jac = api.jacobian(text, bindings)
        return ("ok", value, {k: np.asarray(v, dtype=float) for k, v in jac.items()})
    except JacError as e:
        return ("raises", first_line(e))
    except Exception as e:  # noqa: BLE001
        return ("crash", first_line(e))


def compare(theirs, ours) -> str:
    """"exact", "close" or "differ" over the value and every Jacobian block."""
    pairs = [(theirs[1], ours[1])] + [(theirs[2][k], ours[2].get(k)) for k in theirs[2]]
    found = "exact"
    for a, b in pairs:
        if b is None or np.shape(a) != np.shape(b):
            return "differ"
        if np.array_equal(a, b, equal_nan=True):
            continue
        if not np.allclose(a, b, rtol=1e-12, atol=1e-14, equal_nan=True):
            return "differ"
        found = "close"
    return found


def classify(text: str) -> tuple:
    ours = jac_run(text)
    if ours[0] == "crash":
        return "CRASH", ours[1], ""
    theirs = library(text)
    if theirs[0] == "raises" and ours[0] == "ok" and numpy_reading(text, ours):
        return "NUMPY-READING", "", theirs[1]
    if theirs[0] == "raises":
        return ("REFUSED-AS-LIB" if ours[0] == "raises" else "JAC-ANSWERS-WHERE-LIB-RAISES"), \
            ours[1] if ours[0] == "raises" else "", theirs[1]
    if ours[0] == "raises":
        return "JAC-REFUSES-WHERE-LIB-ANSWERS", ours[1], ""
    found = compare(theirs, ours)
    if found == "exact":
        return "AGREE", "", ""
    if found == "close":
        return "CLOSE", "", ""
    if numpy_reading(text, ours):
        return "NUMPY-READING", "", ""
    if _FLOAT32.search(text) and all(np.allclose(a, b, rtol=1e-6, atol=1e-7, equal_nan=True) for a, b in
                                     [(theirs[1], ours[1])] + [(theirs[2][k], ours[2][k]) for k in theirs[2]]):
        return "FLOAT32-CAST", "", ""
    return "WRONG", f"jac value {np.round(ours[1], 6).tolist()}", f"torch value {np.round(theirs[1], 6).tolist()}"


STATUSES = ("AGREE", "CLOSE", "REFUSED-AS-LIB", "JAC-ANSWERS-WHERE-LIB-RAISES", "JAC-REFUSES-WHERE-LIB-ANSWERS",
            "WRONG", "CRASH", "NUMPY-READING", "FLOAT32-CAST")
# a cast to float32 (``t.float()``): jac computes it in float64 and warns that PyTorch rounds there (session 47,
# docs/expressions.md), so the numbers differ after about 7 digits; not a defect (session 56)
_FLOAT32 = re.compile(r"\.float\(\)|float32|\.half\(\)|bfloat16")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts = collections.Counter()
    for text in cases():
        if options.k not in text:
            continue
        status, ours, theirs = classify(text)
        counts[status] += 1
        if options.v or status not in ("AGREE", "REFUSED-AS-LIB", "NUMPY-READING"):
            print(f"{status:30s} {text!r}\n{'':32s}jac: {ours}\n{'':32s}torch: {theirs}")
    print(f"\nviews39 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
