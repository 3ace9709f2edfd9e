"""Answers where PyTorch raises, the rest (session 37, h37-dtypes): PyTorch-spelled texts run by PyTorch and by jac
(value and Jacobian through jacobi_cli.tools.api), classified as in benchmarks/raises35_probe.py: AGREE,
REFUSED-AS-LIB, JAC-ANSWERS-WHERE-LIB-RAISES (a silent answer), JAC-REFUSES-WHERE-LIB-ANSWERS (a false refusal),
WRONG, CRASH.

- dtypes: PyTorch's constructors' default float32 (``torch.ones(3)``, ``torch.tensor([1., 2., 3.])``,
  ``torch.arange(3.)``, ``torch.linspace``, ``torch.eye``, ``torch.full``, ...) beside a tensor the text makes
  float64 (``x.double()``, ``torch.tensor(..., dtype=torch.float64, requires_grad=True)``, ``dtype=torch.float64``
  constants) in products (which refuse the mix) and element-wise ops (which promote); the same after
  ``torch.set_default_dtype(torch.float64)``, and with ``dtype=`` given;
- bound: the same constructors beside an input bound from outside the text (jac's bindings: --dtype, read as
  PyTorch's default dtype beside a constructor, a deliberate choice: PyTorch run with float64 leaves raises);
- inplace: ``inplace=True`` (``F.relu``, ``nn.ReLU``, ``F.elu``, ``F.hardtanh``, ``F.threshold``, ``F.dropout``,
  ...) into leaves, views of leaves, tensors saved for backward (``torch.sigmoid``'s result, ``torch.sin``'s
  argument) and tensors nothing saved;
- saved: writes in place into the input, weight or result of conv1d / conv2d, batch_norm (training and eval),
  layer_norm, group_norm, instance_norm, F.linear, embedding, cross_entropy, nll_loss, mse_loss, ...;
- cummax: ``torch.cummax(h, 0).values`` (and cummin, and the tuple's ``[0]``) with a write after.

The texts make the inputs they name (float64 leaves with requires_grad=True, as raises35_probe's runner), and
leaves of their own (``u = torch.tensor(..., requires_grad=True)``), whose Jacobians are compared too. PyTorch's
default dtype is put back to float32 before each text.

    PYTHONPATH=. /work/venv/bin/python benchmarks/raises37_probe.py [-v] [-k SUBSTRING] [-p PART]

Prints one line per text not AGREE / REFUSED-AS-LIB (all with -v), then the counts per part. Run by hand
(about 2 minutes).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raises35_probe as r35  # noqa: E402

r35.INPUTS.update({
    "q": [0.1, 0.3, 0.6],
    "X1": [[[0.5, -1.0, 2.0, 0.25, 1.5], [1.0, 0.5, -0.5, 2.0, -1.5]]],  # conv1d input (1, 2, 5)
    "W1": [[[0.5, -0.25, 1.0], [0.75, 0.5, -1.0]], [[1.0, 0.5, 0.25], [-0.5, 1.5, 0.5]],
           [[0.25, 1.0, -0.75], [0.5, -0.5, 1.25]]],  # conv1d weight (3, 2, 3)
    "b3": [0.1, -0.2, 0.3],
    "X2": [[[[0.5, -1.0, 2.0, 0.25], [1.0, 0.5, -0.5, 2.0], [-1.5, 0.75, 1.25, -0.25], [0.3, 1.1, -0.7, 0.9]]]],
    "W2": [[[[0.5, -0.25, 1.0], [0.75, 0.5, -1.0], [1.0, 0.2, 0.3]]],
           [[[0.25, 1.0, -0.75], [0.5, -0.5, 1.25], [-0.4, 0.6, 0.1]]]],  # conv2d weight (2, 1, 3, 3)
    "N": [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 2.0, 0.75], [0.3, -0.6, 1.2]],  # (batch 4, features 3)
    "G": [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 2.0, 0.75], [0.3, -0.6, 1.2]],
          [[1.0, 0.5, -2.0], [0.5, 1.25, 0.5], [2.0, -1.0, 0.25], [-0.3, 0.6, 0.2]]],  # (2, 4, 3)
    "E": [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 2.0, 0.75], [0.3, -0.6, 1.2], [1.0, 0.5, -2.0]],
})
_LEAF = "torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True)"
_LEAF32 = "torch.tensor([0.5, -1.5, 2.0], requires_grad=True)"


def run_torch(text: str):
    """raises35_probe's runner, with nn in scope, the text's own leaves differentiated too, and PyTorch's default
    dtype float32 at the start (a text may set it)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)
    body, last = r35.split(text)
    names = r35.names_in(text)
    leaves = {k: torch.tensor(r35.INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names}
    scope = {"torch": torch, "F": F, "nn": nn, **leaves}
    try:
        exec(body, scope)  # noqa: S102
        y = eval(last, scope)  # noqa: S307
        seen = {id(v) for v in leaves.values()}
        made = {k: v for k, v in scope.items() if k not in leaves and isinstance(v, torch.Tensor) and v.is_leaf
                and v.requires_grad and id(v) not in seen}  # h = x: the same leaf
        leaves.update(made)
        if not isinstance(y, torch.Tensor):
            y = torch.tensor(y)
        value = y.detach().double().numpy()
        jac = {k: np.zeros(tuple(y.shape) + tuple(v.shape)) for k, v in leaves.items()}
        if y.requires_grad and y.dtype.is_floating_point:
            flat = y.reshape(-1)
            for i in range(flat.numel()):
                grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
                for k, g in zip(leaves, grads):
                    if g is not None:
                        jac[k].reshape(flat.numel(), -1)[i] = g.reshape(-1).double().numpy()
        return value, jac
    finally:
        torch.set_default_dtype(torch.float32)


def jac_run(text: str):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    bindings = {k: np.array(r35.INPUTS[k], dtype=np.float64) for k in r35.names_in(text)}
    try:
        value = np.asarray(api.evaluate(text, bindings), dtype=float)
        jac = api.jacobian(text, bindings) if bindings or "requires_grad" in text else {}
        return ("ok", value, {k: np.asarray(v, dtype=float) for k, v in jac.items()})
    except JacError as e:
        return ("raises", r35.first_line(e))
    except Exception as e:  # noqa: BLE001
        return ("crash", r35.first_line(e))


def classify(text: str) -> tuple:
    ours = jac_run(text)
    if ours[0] == "crash":
        return "CRASH", ours[1], ""
    try:
        theirs = ("ok", *run_torch(text))
    except Exception as e:  # noqa: BLE001 - PyTorch's own refusal, whatever its class
        theirs = ("raises", r35.first_line(e))
    if theirs[0] == "raises":
        return ("REFUSED-AS-LIB" if ours[0] == "raises" else "JAC-ANSWERS-WHERE-LIB-RAISES"), \
            ours[1] if ours[0] == "raises" else "", theirs[1]
    if ours[0] == "raises":
        return "JAC-REFUSES-WHERE-LIB-ANSWERS", ours[1], ""
    if r35.agree(theirs, ours):
        return "AGREE", "", ""
    return "WRONG", f"jac value {np.round(ours[1], 6).tolist()}", f"lib value {np.round(theirs[1], 6).tolist()}"


# constructors: (text, PyTorch's dtype without a default set) -- random ones only where no value is compared
_CONSTRUCTORS = ["torch.ones(3)", "torch.zeros(3)", "torch.tensor([1.0, 2.0, 3.0])", "torch.arange(3.0)",
                 "torch.arange(0.0, 3.0)", "torch.linspace(0, 1, 3)", "torch.full((3,), 2.0)", "torch.eye(3)[0]",
                 "torch.tensor([1.0, 2.0, 3.0]) * 2", "torch.ones(3).T", "torch.ones(1, 3)[0]",
                 "torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)", "torch.ones(3, dtype=torch.float64)",
                 "torch.ones(3).double()", "torch.ones(3, dtype=torch.float32)", "torch.ones(3).float()",
                 "torch.zeros(3, dtype=torch.double)", "torch.linspace(0, 1, 3, dtype=torch.float64)"]
_RANDOM = ["torch.rand(3)", "torch.randn(3)", "torch.empty(3).fill_(1.0)"]
# the tensors PyTorch holds in float64 that the text shows: {a}
_FLOAT64 = [("x.double()", ""), ("u", f"u = {_LEAF}; "), ("v", "v = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64); ")]
_PRODUCTS = ["torch.dot({a}, {c})", "{a} @ {c}", "torch.matmul({c}, {a})", "torch.inner({a}, {c})",
             "{a}.dot({c})", "torch.lerp({a}, {c}, 0.5)", "torch.einsum('i,i->', {a}, {c})",
             "torch.mv(torch.outer({a}, {a}), {c})", "F.linear({a}, torch.stack([{c}, {c}]))",
             "torch.outer({a}, {c})", "{a} * {c}", "{a} + {c}", "torch.maximum({a}, {c})",
             "torch.where({a} > 0, {a}, {c})", "torch.cat([{a}, {c}])"]
_MATRICES = ["torch.mm(A.double(), torch.eye(3))", "torch.mm(torch.ones(3, 3), A.double())",
             "F.linear(A.double(), torch.ones(2, 3))", "torch.bmm(A.double()[None], torch.ones(1, 3, 3))",
             "F.conv1d(X1.double(), torch.ones(3, 2, 3))", "F.conv1d(torch.ones(1, 2, 5), W1.double())",
             "F.linear(A.double(), torch.ones(2, 3, dtype=torch.float64))", "torch.mm(A.double(), torch.eye(3).double())",
             "W = torch.ones(2, 3); F.linear(A.double(), W)", "W = nn.Parameter(torch.ones(2, 3)); A.double() @ W.T",
             "W = torch.ones(2, 3, requires_grad=True); A.double() @ W.T",
             "w = torch.ones(3, requires_grad=True); torch.dot(x.double(), w)",
             "w = torch.ones(3, requires_grad=True); torch.dot(w, w.double())",
             "w = torch.ones(3, requires_grad=True); torch.dot(w, torch.ones(3))"]


def dtype_cases() -> list:
    out = []
    for a, pre in _FLOAT64:
        for k, c in enumerate(_CONSTRUCTORS):
            for op in _PRODUCTS if k < 4 else _PRODUCTS[:10]:
                out.append(pre + op.format(a=a, c=c))
        for c in _RANDOM:
            for op in _PRODUCTS[:3]:
                out.append(pre + op.format(a=a, c=c))
    for t in _MATRICES:
        out.append(t)
    # PyTorch's default dtype set by the text
    for c in _CONSTRUCTORS[:8]:
        for op in _PRODUCTS[:3]:
            out.append("torch.set_default_dtype(torch.float64); " + op.format(a="x.double()", c=c))
            out.append("torch.set_default_dtype(torch.float64); " + op.format(a="x.float()", c=c))
            out.append(f"c = {c}; torch.set_default_dtype(torch.float64); " + op.format(a="x.double()", c="c"))
            out.append("torch.set_default_dtype(torch.float32); " + op.format(a="x.double()", c=c))
            out.append(f"torch.set_default_dtype(torch.float64); u = {_LEAF32}; " + op.format(a="u", c=c))
            out.append(f"u = {_LEAF32}; " + op.format(a="u", c=c))
            out.append(f"u = {_LEAF32}; " + op.format(a="u.double()", c=c))
    for layer in ["nn.Linear(3, 2)", "nn.Linear(3, 2).double()", "nn.Linear(3, 2, dtype=torch.float64)",
                  "nn.LayerNorm(3)", "nn.Bilinear(3, 3, 2)", "nn.ReLU()"]:
        for a in ["x.double()", "u", "u.float()", "x", "x.float()"]:
            call = f"fc({a}, {a})" if "Bilinear" in layer else f"fc({a})"
            out.append(f"u = {_LEAF}; fc = {layer}; {call}.sum() * 0")
    out += ["torch.set_default_dtype(torch.float64); fc = nn.Linear(3, 2); fc(x.double()).sum() * 0",
            f"u = {_LEAF}; fc = nn.Linear(3, 2); fc.double(); fc(u).sum() * 0",
            f"u = {_LEAF}; fc = nn.Linear(3, 2); fc.to(torch.float64); fc(u).sum() * 0",
            "torch.set_default_dtype(torch.float64); torch.dot(x.float(), x.float())",
            "torch.set_default_dtype(torch.double); torch.dot(x.double(), torch.ones(3))"]
    return out


def bound_cases() -> list:
    return [op.format(a="x", c=c) for c in _CONSTRUCTORS[:11] for op in _PRODUCTS[:9]]


_INPLACE = ["F.relu({h}, inplace=True)", "nn.ReLU(inplace=True)({h})", "F.leaky_relu({h}, 0.1, inplace=True)",
            "nn.LeakyReLU(0.1, inplace=True)({h})", "F.elu({h}, inplace=True)", "nn.ELU(inplace=True)({h})",
            "F.hardtanh({h}, inplace=True)", "nn.Hardtanh(inplace=True)({h})", "F.threshold({h}, 0.1, 0.0, inplace=True)",
            "F.relu6({h}, inplace=True)", "nn.ReLU6(inplace=True)({h})", "F.selu({h}, inplace=True)",
            "F.celu({h}, inplace=True)", "F.silu({h}, inplace=True)", "nn.SiLU(inplace=True)({h})",
            "F.hardsigmoid({h}, inplace=True)", "F.hardswish({h}, inplace=True)", "F.mish({h}, inplace=True)",
            "F.dropout({h}, 0.0, inplace=True)", "F.dropout({h}, 0.5, training=False, inplace=True)",
            "nn.Dropout(0.0, inplace=True)({h})", "F.relu({h}, True)", "F.relu_({h})", "{h}.relu_()"]
_PRODUCERS = ["x * 1", "torch.sigmoid(x)", "torch.exp(x)", "torch.sin(x)", "(x * 1)[:2]", "x"]


def inplace_cases() -> list:
    out = []
    for p in _PRODUCERS:
        for op in _INPLACE:
            w = op.format(h="h")
            out += [f"h = {p}; {w}; h", f"h = {p}; g = {w}; g * 2", f"h = {p}; k = torch.sin(h); {w}; k + h",
                    f"h = {p}; k = h * 2; {w}; k"]
    return out


# (inputs made: written name -> source) op text with {h} (the tensor written after the op)
_SAVED = [
    ("X1", "W1", "F.conv1d({h}, {k})"), ("X1", "W1", "F.conv1d({h}, {k}, b3)"),
    ("X1", "W1", "F.conv1d({h}, {k}, padding=1)"), ("X2", "W2", "F.conv2d({h}, {k})"),
    ("X1", "W1", "torch.conv1d({h}, {k})"), ("X2", "W2", "torch.conv2d({h}, {k}, stride=1)"),
    ("A", "B", "F.linear({h}, {k})"), ("A", "B", "F.linear({h}, {k}, b3)"),
    ("N", "b3", "F.batch_norm({h}, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64), {k}, None, training=True)"),
    ("N", "b3", "F.batch_norm({h}, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64), {k}, None, training=False)"),
    ("N", "b3", "F.batch_norm({h}, None, None, {k}, None, training=True)"),
    ("N", "b3", "F.batch_norm({h}, None, None, None, {k}, training=True)"),
    ("N", "b3", "torch.batch_norm({h}, {k}, None, None, None, True, 0.1, 1e-5, False)"),
    ("N", "b3", "torch.batch_norm({h}, None, {k}, None, None, True, 0.1, 1e-5, False)"),
    ("X1", "b3", "F.conv1d({h}, W1, {k})"), ("X1", "b3", "F.conv1d({h}, W1, bias={k})"),
    ("N", "y", "F.prelu({h}, {k}[:1])"), ("X2", "W2", "F.max_pool2d({h}, 2)"), ("X2", "W2", "F.avg_pool2d({h}, 2)"),
    ("X1", "W1", "F.adaptive_avg_pool1d({h}, 2)"), ("X1", "W1", "F.adaptive_max_pool1d({h}, 2)"),
    ("q", "p", "F.binary_cross_entropy_with_logits({h}, p / 3, pos_weight={k})"),
    ("A", "y", "F.cross_entropy({h}, torch.tensor([0, 2, 1]), weight={k}.detach())"),
    ("A", "y", "F.nll_loss({h}, torch.tensor([0, 2, 1]), weight={k}.detach())"),
    ("A", "B", "F.pairwise_distance({h}, {k}.detach())"),
    ("N", "b3", "F.layer_norm({h}, (3,), {k})"), ("N", "b3", "F.layer_norm({h}, (3,), None, {k})"),
    ("G", "q", "F.layer_norm({h}, (3,), {k})"),
    ("G", "y", "F.group_norm({h}, 2, torch.cat([{k}, {k}[:1]]))"), ("G", "y", "F.group_norm({h}, 2)"),
    ("G", "y", "F.instance_norm({h})"), ("G", "y", "F.instance_norm({h}, weight=torch.cat([{k}, {k}[:1]]))"),
    ("E", "A", "F.embedding(torch.tensor([0, 2, 4]), {h})"), ("E", "A", "{h}[torch.tensor([0, 2, 4])]"),
    ("A", "y", "F.cross_entropy({h}, torch.tensor([0, 2, 1]))"),
    ("A", "y", "F.cross_entropy({h}, torch.tensor([0, 2, 1]), weight={k})"),
    ("A", "y", "F.nll_loss({h}, torch.tensor([0, 2, 1]))"), ("A", "y", "F.nll_loss({h}, torch.tensor([0, 2, 1]), {k})"),
    ("A", "B", "F.mse_loss({h}, {k})"), ("A", "B", "F.l1_loss({h}, {k})"), ("A", "B", "F.smooth_l1_loss({h}, {k})"),
    ("q", "p", "F.binary_cross_entropy({h}, {k} / 3)"), ("A", "B", "F.binary_cross_entropy_with_logits({h}, {k} / 3)"),
    ("A", "B", "F.kl_div({h}, {k}, reduction='sum')"), ("A", "B", "F.cosine_similarity({h}, {k})"),
    ("A", "B", "F.pairwise_distance({h}, {k})"), ("X1", "W1", "F.max_pool1d({h}, 2)"),
    ("X1", "W1", "F.avg_pool1d({h}, 2)"), ("A", "B", "F.softmax({h}, 1)"), ("A", "B", "F.log_softmax({h}, 1)"),
    ("A", "B", "F.dropout({h}, 0.0)"), ("N", "b3", "F.normalize({h}, dim=1)"),
]


def saved_cases() -> list:
    out = []
    for a, b, op in _SAVED:
        g = op.format(h="h", k="k")
        for t in [f"h = {a}.clone(); k = {b}.clone(); g = {g}; h.add_(1); g.sum()",
                  f"h = {a}.clone(); k = {b}.clone(); g = {g}; k.add_(1); g.sum()",
                  f"h = {a}.clone(); k = {b}.clone(); g = {g}; g.mul_(2); g.sum()",
                  f"h = {a}.clone(); k = {b}.detach().clone(); g = {g}; h.add_(1); g.sum()",
                  f"h = {a}.detach().clone(); k = {b}.clone(); g = {g}; k.add_(1); g.sum()",
                  f"h = {a}.clone(); k = {b}.clone(); g = {g}; h2 = h.clone(); h2.add_(1); g.sum()"]:
            if "{k}" in op or "k.add_" not in t:
                out.append(t)
    return out


def cummax_cases() -> list:
    out = []
    for c in ["torch.cummax(h, 0).values", "torch.cummin(h, 0).values", "torch.cummax(h, 0)[0]", "h.cummax(0).values",
              "torch.cummax(h, dim=0).values", "h.cummin(dim=0)[0]"]:
        for src in ["p", "A"]:
            out += [f"h = {src}.clone(); g = {c}; h.add_(1); g.sum()", f"h = {src}.clone(); g = {c}; g.mul_(2); g.sum()",
                    f"h = {src}.clone(); h.add_(1); g = {c}; g.sum()", f"h = {src}.clone(); g = {c}; g.sum()",
                    f"h = {src}.clone(); g = {c}; h2 = h.clone(); h2.add_(1); g.sum()"]
    out += ["h = p.clone(); v, i = torch.cummax(h, 0); h.add_(1); v.sum()",
            "h = p.clone(); r = torch.cummax(h, 0); h.add_(1); r.values.sum()",
            "h = p.clone(); g = torch.cummax(h, 0).indices; h.add_(1); p.sum() * g.sum()"]
    return out


PARTS = {"dtypes": dtype_cases, "bound": bound_cases, "inplace": inplace_cases, "saved": saved_cases,
         "cummax": cummax_cases}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    parser.add_argument("-p", default="", help="only this part")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts, parts = collections.Counter(), collections.defaultdict(collections.Counter)
    for part, made in PARTS.items():
        if options.p and part != options.p:
            continue
        for text in made():
            if options.k not in text:
                continue
            status, ours, theirs = classify(text)
            counts[status] += 1
            parts[part][status] += 1
            if options.v or status not in ("AGREE", "REFUSED-AS-LIB"):
                print(f"{status:30s} {text}\n{'':32s}jac: {ours}\n{'':32s}lib: {theirs}")
    for part, found in parts.items():
        print(f"  {part} ({sum(found.values())}): " + ", ".join(f"{k} {found[k]}" for k in r35.STATUSES if found[k]))
    print(f"\nraises37 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in r35.STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
