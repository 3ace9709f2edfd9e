"""PyTorch's saved tensors beyond session 35's set, non-contiguous views of computed tensors, and float dtype mixes
in products (session 36, h36-saved): texts written for PyTorch that PyTorch itself refuses or answers, each run by
PyTorch (float64 inputs with requires_grad=True, a backward pass per output element) and by jac (value and
Jacobian through jacobi_cli.tools.api), classified as in benchmarks/raises35_probe.py (whose runners it uses):
AGREE, REFUSED-AS-LIB, JAC-ANSWERS-WHERE-LIB-RAISES (a silent answer), JAC-REFUSES-WHERE-LIB-ANSWERS (a false
refusal), WRONG, CRASH.

- saved: for each op, the op's operand or result (or, of two operands, either one, with the other a constant)
  written in place after the op and before backward, and writes PyTorch's backward does not mind (a copy written,
  the op off the output's path, the write before the op);
- views: ``.view(...)`` of a computed tensor through transposes, permutes and slices (and the contiguous ones);
- dtypes: ``.float()`` / ``.double()`` / ``.to(torch.float32)`` beside float64 tensors in PyTorch's products (which
  refuse a mix) and in element-wise ops (which promote).

    PYTHONPATH=. /work/venv/bin/python benchmarks/raises36_probe.py [-v] [-k SUBSTRING]

Prints one line per text not AGREE / REFUSED-AS-LIB (all with -v), then the counts. Run by hand (~1-2 minutes).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raises35_probe as r35  # noqa: E402

# q: inside (-1, 1) (asin, atanh, erfinv, logit in (0, 1)); r: above 1 (acosh)
r35.INPUTS.update({"q": [0.1, 0.3, 0.6], "r": [1.5, 2.0, 3.0], "B": [[0.5, -1.0, 2.0], [1.5, 0.5, -0.5],
                                                                        [1.0, 2.0, 0.25]]})

# (operand source, op text with {h}) for ops of one tensor
UNARY = [("p", t) for t in [
    "torch.prod({h})", "{h}.prod()", "torch.prod({h}, 0)", "{h}.max()", "torch.max({h})", "{h}.min()",
    "torch.min({h})", "torch.amax({h}, 0)", "torch.amin({h}, dim=0)", "torch.max({h}, 0).values",
    "{h}.max(0)[0]", "torch.min({h}, dim=0).values", "torch.median({h})", "torch.norm({h})", "{h}.norm()",
    "torch.norm({h}, 1)", "torch.norm({h}, p=float('inf'))", "torch.linalg.vector_norm({h})",
    "torch.linalg.norm({h})", "torch.linalg.vector_norm({h}, ord=1)", "torch.clamp({h}, 0, 1)",
    "{h}.clamp(min=0.7)", "torch.clip({h}, 0.6, 1.8)", "{h}.clip(max=1.0)", "torch.clamp_min({h}, 1.0)",
    "torch.clamp_max({h}, 1.0)", "F.softplus({h})", "F.softplus({h}, beta=2.0)", "torch.logsumexp({h}, 0)",
    "{h}.logsumexp(0)", "torch.cumprod({h}, 0)", "{h}.cumprod(dim=0)", "torch.logcumsumexp({h}, 0)", "F.gelu({h})",
    "F.gelu({h}, approximate='tanh')", "torch.cumsum({h}, 0)", "torch.softmax({h}, 0)", "F.softmax({h}, dim=0)",
    "{h}.softmax(0)", "torch.log_softmax({h}, 0)", "F.log_softmax({h}, dim=0)", "F.softmin({h}, 0)", "F.relu({h})",
    "F.leaky_relu({h})", "F.leaky_relu({h}, 0.2)", "F.elu({h})", "F.elu({h}, alpha=0.5)", "F.silu({h})",
    "F.mish({h})", "F.selu({h})", "F.hardtanh({h})", "F.relu6({h})", "F.logsigmoid({h})", "F.softsign({h})",
    "F.hardswish({h})", "F.tanhshrink({h})", "torch.sign({h})", "torch.erfc({h})", "torch.lgamma({h})",
    "torch.digamma({h})", "torch.sinc({h})", "torch.var({h})", "torch.std({h})", "torch.var({h}, 0)",
    "torch.std({h}, dim=0)", "{h}.mean()", "torch.sum({h})", "torch.nan_to_num({h})", "torch.nanmean({h})",
    "torch.nansum({h})", "torch.i0({h})", "torch.special.erfcx({h})", "torch.special.log_ndtr({h})",
    "torch.special.entr({h})", "torch.float_power({h}, 2)", "F.normalize({h}, dim=0)", "F.layer_norm({h}, (3,))",
    "torch.sort({h}).values", "torch.topk({h}, 2).values", "torch.trace(torch.outer({h}, {h}))",
    "torch.exp({h})", "torch.sin({h})", "torch.sqrt({h})", "torch.rsqrt({h})", "torch.log({h})",
    "torch.log1p({h})", "torch.tanh({h})", "torch.sigmoid({h})", "torch.abs({h})", "torch.erf({h})",
    "torch.cos({h})", "torch.tan({h})", "{h}.pow(2)", "torch.pow(2.0, {h})", "{h} ** 2", "torch.relu({h})",
    "torch.diff({h})", "torch.flip({h}, [0])", "torch.index_select({h}, 0, torch.tensor([2, 0]))",
    "torch.gather({h}, 0, torch.tensor([1, 1]))", "torch.lerp({h}, torch.ones(3), 0.5)",
    "torch.where({h} > 1, {h}, 0.0)", "torch.trunc({h})", "torch.frac({h})", "torch.deg2rad({h})",
    "torch.cummax({h}, 0).values", "torch.special.ndtr({h})", "torch.kron({h}, {h})",
]] + [("q", t) for t in [
    "torch.asin({h})", "torch.arcsin({h})", "torch.acos({h})", "torch.atanh({h})", "torch.erfinv({h})",
    "torch.logit({h})", "torch.special.logit({h})",
]] + [("r", t) for t in ["torch.acosh({h})", "torch.arccosh({h})"]] + [("A", t) for t in [
    "torch.linalg.matrix_norm({h})", "torch.det({h})", "torch.linalg.det({h})", "torch.logdet({h} @ {h}.T)",
    "torch.inverse({h})", "torch.linalg.inv({h})", "torch.norm({h}, dim=1)", "torch.prod({h}, 1)",
    "{h}.max()", "torch.amax({h}, (0, 1))", "torch.logsumexp({h}, 1)", "torch.softmax({h}, 1)",
    "torch.trace({h})", "{h}.sum(0)",
]]
# (first source, second source, op text with {h} and {y}) for ops of two tensors
BINARY = [("p", "y", t) for t in [
    "torch.max({h}, {y})", "torch.min({h}, {y})", "torch.maximum({h}, {y})", "torch.minimum({h}, {y})",
    "torch.fmax({h}, {y})", "torch.fmin({h}, {y})", "torch.clamp({h}, {y}, None)", "torch.clamp({h}, min={y})",
    "torch.outer({h}, {y})", "torch.ger({h}, {y})", "torch.atan2({h}, {y})", "torch.arctan2({h}, {y})",
    "torch.hypot({h}, {y})", "torch.xlogy({h}, {y})", "torch.logaddexp({h}, {y})", "torch.logaddexp2({h}, {y})",
    "F.mse_loss({h}, {y})", "F.smooth_l1_loss({h}, {y})", "F.huber_loss({h}, {y})", "F.l1_loss({h}, {y})",
    "torch.dist({h}, {y})", "torch.inner({h}, {y})", "torch.vdot({h}, {y})", "torch.tensordot({h}, {y}, 1)",
    "torch.cross({h}, {y}, dim=0)", "torch.einsum('i,i->', {h}, {y})", "torch.einsum('i,j->ij', {h}, {y})",
    "torch.pow({h}, {y})", "{h} ** {y}", "torch.div({h}, {y})", "{h} * {y}", "torch.dot({h}, {y})",
    "torch.where({h} > 1, {h}, {y})", "torch.lerp({h}, {y}, 0.5)", "torch.kron({h}, {y})",
    "torch.addcmul({h}, {h}, {y})", "torch.copysign({h}, {y})", "torch.cdist({h}[None], {y}[None])",
    "{h}.dot({y})", "{h}.outer({y})", "{h}.maximum({y})", "{h}.atan2({y})", "{h} @ {y}",
]] + [("A", "B", t) for t in [
    "torch.bmm({h}[None], {y}[None])", "torch.mm({h}, {y})", "torch.matmul({h}, {y})", "F.linear({h}, {y})",
    "torch.cdist({h}, {y})", "torch.maximum({h}, {y})", "torch.einsum('ij,jk->ik', {h}, {y})",
    "torch.tensordot({h}, {y}, dims=1)", "{h}.mm({y})",
]]


def saved_cases() -> list:
    out = []
    for src, op in UNARY:
        g = op.format(h="h")
        for t in [f"h = {src}.clone(); g = {g}; h.add_(1); g.sum()",
                  f"h = {src}.clone(); g = {g}; g.mul_(2); g.sum()",
                  f"h = {src}.clone(); g = {g}; h.mul_(2); h.sum()",
                  f"h = {src}.clone(); h.add_(1); g = {g}; g.sum()",
                  f"h = {src}.clone(); g = {g}; h2 = h.clone(); h2.add_(1); g.sum()"]:
            out.append(("torch", t))
    for a, b, op in BINARY:
        g = op.format(h="h", y="k")
        for t in [f"h = {a}.clone(); k = {b}.clone(); g = {g}; h.add_(1); g.sum()",
                  f"h = {a}.clone(); k = {b}.clone(); g = {g}; k.add_(1); g.sum()",
                  f"h = {a}.clone(); k = {b}.clone(); g = {g}; g.mul_(2); g.sum()",
                  f"h = {a}.clone(); k = {b}.detach().clone(); g = {g}; h.add_(1); g.sum()",
                  f"h = {a}.clone(); k = {b}.detach().clone(); g = {g}; k.add_(1); g.sum()",
                  f"h = {a}.detach().clone(); k = {b}.clone(); g = {g}; h.add_(1); g.sum()"]:
            out.append(("torch", t))
    return out


def view_cases() -> list:
    out = []
    for made in ["(A @ B)", "torch.mm(A, B)", "torch.exp(A)", "(A * 2)", "torch.sin(A)", "(A + B)", "A.clone()",
                 "torch.relu(A)", "A.T @ B"]:
        for view in [".T.view(-1)", ".t().view(9)", ".permute(1, 0).view(9)", ".transpose(0, 1).view(3, 3)",
                     ".mT.view(-1)", "[:, :2].view(-1)", "[:2].view(-1)", "[::2].view(-1)", ".view(-1)",
                     ".T.reshape(-1)", ".T.contiguous().view(-1)", "[1].view(-1)", "[:, 0].view(-1)",
                     ".T.T.view(-1)", ".unsqueeze(0).view(-1)", ".T[0].view(-1)", ".T[:, 0].view(-1)"]:
            out.append(("torch", f"{made}{view}"))
        out.append(("torch", f"h = {made}; g = h.T; g.view(-1)"))
        out.append(("torch", f"h = {made}.T; h.view(-1)"))
        out.append(("torch", f"h = {made}.T; torch.sin(h).view(-1)"))
        out.append(("torch", f"h = {made}.T; (h * 2).view(-1)"))
        out.append(("torch", f"h = {made}.T; h.clone().view(-1)"))
    return out


def dtype_cases() -> list:
    out = []
    for conv in [".float()", ".to(torch.float32)", ".type(torch.float32)", ".to(dtype=torch.float32)",
                 ".double()", ".to(torch.float64)", ".float().double()"]:
        for t in ["torch.mm(A, B{c})", "torch.mm(A{c}, B)", "torch.matmul(A, x{c})", "A @ x{c}", "x{c} @ A",
                  "A{c} @ B", "torch.dot(x, y{c})", "torch.dot(x{c}, y)", "torch.mv(A, x{c})", "torch.mv(A{c}, x)",
                  "torch.bmm(A[None], B{c}[None])", "torch.addmm(A, A, B{c})", "torch.addmm(A{c}, A, B)",
                  "F.linear(x, A{c})", "F.linear(x{c}, A)", "torch.inner(x, y{c})", "torch.outer(x, y{c})",
                  "torch.einsum('ij,j->i', A, x{c})", "torch.tensordot(A, B{c}, 1)", "x.dot(y{c})",
                  "A.mm(B{c})", "A.T{c} @ x", "A{c}.T @ x", "A @ x{c}[:3]", "torch.mm(A{c}, B{c})",
                  "x * y{c}", "x{c} + A", "torch.maximum(x, y{c})", "torch.where(x > 0, x, y{c})",
                  "torch.cat([x, y{c}])", "x{c} * 2 @ A", "h = x{c}; A @ h", "h = x{c}; h = h * 1; A @ h"]:
            out.append(("torch", t.format(c=conv)))
    return out


def cases() -> list:
    return saved_cases() + view_cases() + dtype_cases()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts, parts = collections.Counter(), collections.defaultdict(collections.Counter)
    for part, made in [("saved", saved_cases()), ("views", view_cases()), ("dtypes", dtype_cases())]:
        for lib, text in made:
            if options.k not in text:
                continue
            status, ours, theirs = r35.classify(lib, text)
            counts[status] += 1
            parts[part][status] += 1
            if options.v or status not in ("AGREE", "REFUSED-AS-LIB"):
                print(f"{status:30s} [{lib}] {text}\n{'':32s}jac: {ours}\n{'':32s}lib: {theirs}")
    for part, found in parts.items():
        print(f"  {part}: " + ", ".join(f"{k} {found[k]}" for k in r35.STATUSES if found[k]))
    print(f"\nraises36 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in r35.STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
