"""A differential fuzz of jac's other results against PyTorch (session 38): the VJP, the JVP, the Hessian (by each
input and mixed) and the derivatives of order 2 and 3, over session 37's random programs (torchprog37_fuzz's
``Program``, imported: its outcomes are unchanged) with a vocabulary it lacks: ``nn`` layers (Linear, Conv1d, Conv2d,
LayerNorm, BatchNorm1d in eval and training mode, Embedding, GRUCell, LSTMCell, MultiheadAttention), ``F.pad``'s
modes, ``F.interpolate``, the losses with ``reduction=``, gather / scatter_add / index_add / index_put /
masked_scatter, sort / topk / argsort, cumsum / cummax / cummin, and ``torch.linalg`` qr / svd / eigh / cholesky /
lstsq on well-conditioned inputs.

    PYTHONPATH=. /work/venv/bin/python benchmarks/torchhigher38_fuzz.py [--n 3000] [--seed 38] [--jobs 1]
                                                                        [--cli-every 25] [--no-shrink] [--print]

A layer's parameters are jac's (drawn with --seed 0 as PyTorch draws them, ``Compiled.declared``), copied into
PyTorch's module before it runs, as tests/torch_models.py does; every call of the program runs on a fresh deep copy of
the modules (a batch norm in training mode updates its running statistics). PyTorch's references, float64:
- value and Jacobian as torchprog37 (``torch.autograd.grad`` row by row), by the inputs and the layers' parameters;
- VJP: ``torch.autograd.grad(outputs, leaves, grad_outputs=v)``, v random of each output's shape (jac: ``api.vjp``
  with ``v`` or ``{output: v}``), by inputs and parameters;
- JVP: ``torch.func.jvp`` with random tangents for the inputs (parameters fixed), else
  ``torch.autograd.functional.jvp`` (jac: ``api.jvp``);
- Hessian: ``torch.autograd.functional.jacobian`` of ``jacobian(create_graph=True)``, every pair of inputs (jac:
  ``api.hessian`` with ``wrt`` the inputs), when ``y.size * sum(x.size) <= 300``;
- order 2 and 3 (jac: ``api.derivative``) by the first input, against the Hessian's block and one more nesting,
  when small.
Eigen and singular vectors are only used through gauge-invariant results (``Q diag(L) Q^T``, ``U diag(S) V^H``,
eigenvalues, singular values), on spectra separated by construction (a diagonal of distinct steps added).

Each result is one of AGREE, BOTH-RAISE, JAC-REFUSES, JAC-ANSWERS-WHERE-TORCH-RAISES, WRONG, CRASH (as torchprog37)
or SKIP (too large to compare, or not asked), or TORCH-WRONG: a Hessian, order 2 or order 3 that differs where
central differences of PyTorch's lower order (its Jacobian, its Hessian) give jac's numbers (``arbitrate_second``,
``arbitrate``), or TORCH-MODES: a jvp that differs from PyTorch's forward mode where jac's is PyTorch's reverse-mode
Jacobian times the tangents (``arbitrate_jvp``: a write under ``torch.no_grad()``, which forward AD records). Every ``--cli-every``-th program runs ``jac eval/vjp/jvp/hessian
--json`` in this process (``entry.main``), which must give the API's numbers. WRONG and CRASH programs are shrunk
and printed. Exit 1 on WRONG or CRASH.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import io
import json
import os
import random
import re
import sys
import time
import warnings
import zlib
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import Timeout, differ, run_workers, with_timeout  # noqa: E402
from torchprog37_fuzz import MAX, Program, Retry, Var, candidates, numel, reason  # noqa: E402

RESULTS = ("value", "jacobian", "vjp", "jvp", "hessian", "order2", "order3", "cli")
STATUSES = ("AGREE", "BOTH-RAISE", "JAC-REFUSES", "JAC-ANSWERS-WHERE-TORCH-RAISES", "WRONG", "CRASH", "SKIP",
            "TORCH-WRONG", "TORCH-MODES")
HESSIAN_MAX = 300  # y.size * (sum of the inputs' sizes) for the Hessian's comparison


def tensor_text(rng: random.Random, shape, lo=-2.0, hi=2.0) -> str:
    vals = np.round(np.random.default_rng(rng.randrange(10 ** 6)).uniform(lo, hi, shape), 2).tolist()
    return f"torch.tensor({vals})"


class HigherProgram(Program):
    """torchprog37's programs, with statements of layers and the functional vocabulary above. A layer is made
    in ``setup`` (lines before the body: PyTorch's copy gets jac's parameters between the two)."""

    def __init__(self, rng):
        super().__init__(rng)
        self.setup: list[str] = []
        self.modules = 0

    def module(self, text: str) -> str:
        self.modules += 1
        name = f"m{self.modules}"
        self.setup.append(f"{name} = {text}")
        return name

    # --- layers --------------------------------------------------------------------------------
    def s_layer(self):
        r = self.r
        c = r.randrange(10)
        if c == 0:  # Linear on the last dim
            a = self.pick(lambda v: len(v.shape) >= 1 and v.shape[-1] <= 6)
            out = r.randint(1, 4)
            bias = "" if r.random() < 0.7 else ", bias=False"
            m = self.module(f"nn.Linear({a.shape[-1]}, {out}{bias})")
            return self.bind(f"{m}({a.name})", a.shape[:-1] + (out,))
        if c == 1:  # Conv1d on (C, L) or (N, C, L)
            a = self.pick(lambda v: len(v.shape) in (2, 3) and v.shape[-1] >= 2)
            C, L = a.shape[-2], a.shape[-1]
            k = r.randint(1, min(3, L))
            pad = r.choice([0, 0, 1])
            stride = r.choice([1, 1, 2])
            co = r.randint(1, 3)
            mode = r.choice(["", "", ", padding_mode='reflect'", ", padding_mode='circular'"]) if pad else ""
            if mode and L < 2:
                raise Retry
            m = self.module(f"nn.Conv1d({C}, {co}, {k}, stride={stride}, padding={pad}{mode})")
            Lo = (L + 2 * pad - k) // stride + 1
            return self.bind(f"{m}({a.name})", a.shape[:-2] + (co, Lo))
        if c == 2:  # Conv2d on (C, H, W)
            a = self.pick(lambda v: len(v.shape) == 3 and min(v.shape[1:]) >= 2)
            C, H, W = a.shape
            k = r.randint(1, 2)
            pad = r.choice([0, 1])
            co = r.randint(1, 2)
            m = self.module(f"nn.Conv2d({C}, {co}, {k}, padding={pad})")
            return self.bind(f"{m}({a.name})", (co, H + 2 * pad - k + 1, W + 2 * pad - k + 1))
        if c == 3:  # LayerNorm over the last dim(s)
            a = self.pick(lambda v: len(v.shape) >= 1 and v.shape[-1] >= 2)
            shape = list(a.shape[-2:]) if len(a.shape) >= 2 and r.random() < 0.3 else [a.shape[-1]]
            affine = "" if r.random() < 0.7 else ", elementwise_affine=False"
            m = self.module(f"nn.LayerNorm({shape}{affine})")
            return self.bind(f"{m}({a.name})", a.shape)
        if c == 4:  # BatchNorm1d on (N, C) or (N, C, L), training or eval
            a = self.pick(lambda v: len(v.shape) in (2, 3) and numel(v.shape) // v.shape[1] > 1)
            affine = "" if r.random() < 0.8 else ", affine=False"
            m = self.module(f"nn.BatchNorm1d({a.shape[1]}{affine})")
            mode = r.random()
            if mode < 0.35:
                self.setup.append(f"{m}.eval()")
            elif mode < 0.6:  # statistics of a first batch, then eval
                self.lines.append(f"_ = {m}({a.name})")
                self.lines.append(f"{m}.eval()")
            return self.bind(f"{m}({a.name})", a.shape)
        if c == 5:  # Embedding: rows picked by constant indices, added to a drawn value
            a = self.pick(lambda v: len(v.shape) >= 1 and v.shape[-1] <= 5)
            n = r.randint(2, 5)
            m = self.module(f"nn.Embedding({n}, {a.shape[-1]})")
            idx = np.random.default_rng(r.randrange(10 ** 6)).integers(0, n, a.shape[:-1]).tolist()
            return self.bind(f"{a.name} + {m}(torch.tensor({idx}))", a.shape)
        if c in (6, 7):  # GRUCell / LSTMCell on (N, in) or (in,)
            a = self.pick(lambda v: len(v.shape) in (1, 2) and v.shape[-1] <= 5)
            hid = r.randint(1, 3)
            cls = "GRUCell" if c == 6 else "LSTMCell"
            m = self.module(f"nn.{cls}({a.shape[-1]}, {hid}{', bias=False' if r.random() < 0.2 else ''})")
            hs = a.shape[:-1] + (hid,)
            h = [v for v in self.vars.values() if v.shape == hs]
            state = ""
            if h and r.random() < 0.5:
                hv = r.choice(h).name
                state = f", {hv}" if cls == "GRUCell" else f", ({hv}, {hv} * 0.5)"
            if cls == "GRUCell":
                return self.bind(f"{m}({a.name}{state})", hs)
            hn, cn = self.fresh(), self.fresh()
            self.lines.append(f"{hn}, {cn} = {m}({a.name}{state})")
            self.vars[hn] = Var(hn, hs)
            self.vars[cn] = Var(cn, hs)
            return self.vars[r.choice([hn, cn])]
        if c == 8:  # MultiheadAttention, unbatched (L, E) or batch_first (N, L, E)
            a = self.pick(lambda v: len(v.shape) in (2, 3) and v.shape[-1] in (2, 4))
            E = a.shape[-1]
            heads = r.choice([1, 2]) if E % 2 == 0 else 1
            bf = ", batch_first=True" if len(a.shape) == 3 else ""
            m = self.module(f"nn.MultiheadAttention({E}, {heads}{bf})")
            kv = [v for v in self.vars.values() if v.shape == a.shape]
            k = r.choice(kv).name
            if r.random() < 0.3:
                wname = self.fresh()
                out = self.fresh()
                self.lines.append(f"{out}, {wname} = {m}({a.name}, {k}, {k})")
                L = a.shape[-2]
                self.vars[out] = Var(out, a.shape)
                self.vars[wname] = Var(wname, a.shape[:-2] + (L, L))
                return self.vars[r.choice([out, wname])]
            nw = ", need_weights=False" if r.random() < 0.5 else ""
            return self.bind(f"{m}({a.name}, {k}, {k}{nw})[0]", a.shape)
        # 9: Sequential of a Linear and an activation
        a = self.pick(lambda v: len(v.shape) >= 1 and v.shape[-1] <= 5)
        out = r.randint(1, 3)
        act = r.choice(["nn.Tanh()", "nn.ReLU()", "nn.GELU()", "nn.Sigmoid()"])
        m = self.module(f"nn.Sequential(nn.Linear({a.shape[-1]}, {out}), {act})")
        return self.bind(f"{m}({a.name})", a.shape[:-1] + (out,))

    # --- F. calls ------------------------------------------------------------------------------
    def s_functional(self):
        r = self.r
        c = r.randrange(6)
        if c == 0:  # F.pad
            a = self.pick(lambda v: len(v.shape) in (2, 3) and v.shape[-1] >= 2)
            mode = r.choice(["constant", "reflect", "replicate", "circular"])
            p1, p2 = r.randint(0, 1), r.randint(0, 1)
            if mode == "constant":
                extra = r.choice(["", ", value=0.5"])
                return self.bind(f"F.pad({a.name}, ({p1}, {p2}), mode='constant'{extra})",
                                 a.shape[:-1] + (a.shape[-1] + p1 + p2,))
            if len(a.shape) == 3 and r.random() < 0.3 and a.shape[-2] >= 2:
                return self.bind(f"F.pad({a.name}, ({p1}, {p2}, 1, 0), mode='{mode}')",
                                 a.shape[:-2] + (a.shape[-2] + 1, a.shape[-1] + p1 + p2))
            return self.bind(f"F.pad({a.name}, ({p1}, {p2}), mode='{mode}')", a.shape[:-1] + (a.shape[-1] + p1 + p2,))
        if c == 1:  # F.interpolate on (N, C, L)
            a = self.pick(lambda v: len(v.shape) == 3)
            mode = r.choice(["nearest", "linear", "linear", "nearest-exact"])
            extra = f", align_corners={r.choice([True, False])}" if mode == "linear" and r.random() < 0.5 else ""
            if r.random() < 0.5:
                size = r.randint(1, 6)
                return self.bind(f"F.interpolate({a.name}, size={size}, mode='{mode}'{extra})", a.shape[:-1] + (size,))
            return self.bind(f"F.interpolate({a.name}, scale_factor=2, mode='{mode}'{extra})",
                             a.shape[:-1] + (2 * a.shape[-1],))
        if c == 2:  # losses
            red = r.choice(["mean", "sum", "none"])
            k = r.randrange(5)
            if k <= 1:  # cross_entropy / nll_loss on (N, C) or (C,)
                a = self.pick(lambda v: len(v.shape) in (1, 2) and v.shape[-1] >= 2)
                C = a.shape[-1]
                tgt = np.random.default_rng(r.randrange(10 ** 6)).integers(0, C, a.shape[:-1]).tolist()
                shape = a.shape[:-1] if red == "none" else ()
                if k == 0:
                    ls = r.choice(["", "", ", label_smoothing=0.1"])
                    if r.random() < 0.3:  # class probabilities
                        p = f"F.softmax({tensor_text(r, a.shape)}, dim=-1)"
                        return self.bind(f"F.cross_entropy({a.name}, {p}, reduction='{red}'{ls})", shape)
                    return self.bind(f"F.cross_entropy({a.name}, torch.tensor({tgt}), reduction='{red}'{ls})", shape)
                return self.bind(f"F.nll_loss(F.log_softmax({a.name}, -1), torch.tensor({tgt}), reduction='{red}')",
                                 shape)
            a = self.pick(lambda v: numel(v.shape) > 0)
            b = self.operand(a.shape, exact=True)
            fn = ["F.mse_loss({a}, {b}, reduction='{red}')", "F.huber_loss({a}, {b}, reduction='{red}', delta=0.7)",
                  "F.smooth_l1_loss({a}, {b}, reduction='{red}', beta=0.5)"][k - 2]
            if b not in self.vars and not b.startswith("torch.tensor(["):
                b = f"torch.full_like({a.name}, {b})"
            return self.bind(fn.format(a=a.name, b=b, red=red), a.shape if red == "none" else ())
        if c == 3:  # gather / scatter_add / index_add / index_put / masked_scatter
            a = self.pick(lambda v: len(v.shape) >= 1 and min(v.shape) >= 1)
            d = self.dim(a)
            size = a.shape[d]
            g = np.random.default_rng(r.randrange(10 ** 6))
            k = r.randrange(5)
            if k == 0:
                ishape = list(a.shape)
                ishape[d] = r.randint(1, 3)
                idx = g.integers(0, size, ishape).tolist()
                return self.bind(f"torch.gather({a.name}, {d}, torch.tensor({idx}))", tuple(ishape))
            if k == 1:
                idx = g.integers(0, size, a.shape).tolist()
                src = self.operand(a.shape, exact=True)
                src = src if src in self.vars else f"torch.ones_like({a.name}) * {src}"
                return self.bind(f"{a.name}.scatter_add({d}, torch.tensor({idx}), {src})", a.shape)
            if k == 2:
                n = r.randint(1, 3)
                idx = g.integers(0, size, n).tolist()
                sshape = list(a.shape)
                sshape[d] = n
                src = tensor_text(r, tuple(sshape))
                alpha = r.choice(["", ", alpha=2"])
                same = [v for v in self.vars.values() if v.shape == tuple(sshape)]
                if same and r.random() < 0.6:
                    src = r.choice(same).name
                return self.bind(f"torch.index_add({a.name}, {d}, torch.tensor({idx}), {src}{alpha})", a.shape)
            if k == 3:
                i = g.integers(0, a.shape[0], r.randint(1, 3)).tolist()
                vshape = (len(i),) + a.shape[1:]
                same = [v for v in self.vars.values() if v.shape == vshape]
                val = r.choice(same).name if same and r.random() < 0.6 else tensor_text(r, vshape)
                acc = r.choice(["", ", accumulate=True"])
                if not acc and len(set(i)) < len(i):
                    i = sorted(set(i))
                    vshape = (len(i),) + a.shape[1:]
                    val = tensor_text(r, vshape)
                return self.bind(f"{a.name}.index_put((torch.tensor({i}),), {val}{acc})", a.shape)
            src = [v for v in self.vars.values() if numel(v.shape) >= numel(a.shape)]
            s = r.choice(src).name if src else None
            if s is None:
                raise Retry
            mask = (g.random(a.shape) < 0.5).tolist()
            return self.bind(f"{a.name}.masked_scatter(torch.tensor({mask}), {s})", a.shape)
        if c == 4:  # sort / topk / argsort / cummin
            a = self.pick(lambda v: len(v.shape) >= 1)
            d = self.dim(a)
            k = r.randrange(6)
            if k == 0:
                desc = r.choice(["", ", descending=True"])
                return self.bind(f"torch.sort({a.name}, dim={d}{desc}).values", a.shape)
            if k == 1:
                n = r.randint(1, a.shape[d])
                shape = list(a.shape)
                shape[d] = n
                largest = r.choice(["", ", largest=False"])
                return self.bind(f"{a.name}.topk({n}, dim={d}{largest})[0]", tuple(shape))
            if k == 2:
                return self.bind(f"torch.gather({a.name}, {d}, {a.name}.argsort(dim={d}))", a.shape)
            if k == 3:
                return self.bind(f"torch.cummin({a.name}, {d})[0]", a.shape)
            if k == 4:
                return self.bind(f"{a.name}.cummax(dim={d}).values * {a.name}", a.shape)
            return self.bind(f"torch.cumsum({a.name}, {d}) - {a.name}.sort(dim={d})[0]", a.shape)
        # linear algebra on well-conditioned inputs: A = (k x k of a drawn value) @ its transpose + a diagonal
        a = self.pick(lambda v: numel(v.shape) >= 4)
        k = 3 if numel(a.shape) >= 9 and r.random() < 0.5 else 2
        base = self.bind(f"{a.name}.flatten()[:{k * k}].reshape({k}, {k})", (k, k))
        steps = ", ".join(f"{3.0 * (i + 1) * k}" for i in range(k))
        spd = self.bind(f"{base.name} @ {base.name}.mT + torch.diag(torch.tensor([{steps}]))", (k, k))
        j = r.randrange(7)
        if j == 0:
            Q, R = self.fresh(), self.fresh()
            self.lines.append(f"{Q}, {R} = torch.linalg.qr({base.name} + {2 * k} * torch.eye({k}))")
            self.vars[Q], self.vars[R] = Var(Q, (k, k)), Var(R, (k, k))
            return self.vars[r.choice([Q, R])]
        if j == 1:
            return self.bind(f"torch.linalg.svdvals({base.name} + {2 * k} * torch.eye({k}))", (k,))
        if j == 2:  # U diag(S) Vh: gauge-invariant
            U, S, V = self.fresh(), self.fresh(), self.fresh()
            self.lines.append(f"{U}, {S}, {V} = torch.linalg.svd({spd.name})")
            return self.bind(f"({U} * {S}) @ {V}", (k, k))
        if j == 3:  # eigenvalues, or Q diag(L) Q^T, of a separated spectrum
            L, Q = self.fresh(), self.fresh()
            self.lines.append(f"{L}, {Q} = torch.linalg.eigh({spd.name})")
            self.vars[L] = Var(L, (k,))
            if r.random() < 0.5:
                return self.vars[L]
            return self.bind(f"({Q} * {L}.sqrt()) @ {Q}.mT", (k, k))
        if j == 4:
            return self.bind(f"torch.linalg.cholesky({spd.name})", (k, k))
        if j == 5:
            return self.bind(f"torch.linalg.eigvalsh({spd.name})", (k,))
        B = [v for v in self.vars.values() if v.shape and v.shape[0] == k + 1 and len(v.shape) <= 2]
        tall = self.bind(f"torch.cat([{base.name} + {2 * k} * torch.eye({k}), {base.name}[:1] * 0.5])", (k + 1, k))
        rhs = r.choice(B).name if B else tensor_text(r, (k + 1,))
        rshape = self.shape_of(rhs) if rhs.startswith("torch.tensor(") else self.vars[rhs].shape
        return self.bind(f"torch.linalg.lstsq({tall.name}, {rhs}).solution", (k,) + tuple(rshape[1:]))

    STATEMENTS = Program.STATEMENTS + [("s_layer", 9), ("s_functional", 12)]

    def draw(self):
        text = super().draw()
        return "\n".join(self.setup + [text]) if self.setup else text


# --- running --------------------------------------------------------------------------------------------

def draw(seed: int) -> tuple:
    """(program text, setup line count, inputs N(0, 1) of the drawn shapes) of seed ``seed``."""
    p = HigherProgram(random.Random(seed))
    text = p.draw()
    rng = np.random.default_rng(seed)
    return text, {n: rng.standard_normal(s) for n, s in p.inputs.items()}


def used(text: str, inputs: dict) -> dict:
    try:
        names = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return dict(inputs)
    return {k: v for k, v in inputs.items() if k in names}


def split_setup(text: str) -> tuple:
    """(setup: the leading lines that make modules or set their mode, the rest)."""
    lines = text.split("\n")
    k = 0
    while k < len(lines) and re.match(r"m\d+( = nn\.|\.eval\(\))", lines[k]):
        k += 1
    return "\n".join(lines[:k]), "\n".join(lines[k:])


class TorchProgram:
    """The program under PyTorch, float64: ``setup`` run once with the modules' parameters set to jac's
    (``declared``), the body a function of the inputs, each call on a fresh copy of the modules."""

    def __init__(self, text: str, names: list, declared: dict):
        import torch

        torch.set_default_dtype(torch.float64)
        self.torch = torch
        setup, body = split_setup(text)
        self.scope = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
        exec(setup, self.scope)  # noqa: S102 - the fuzz's own programs
        self.params = {}
        for name, value in list(self.scope.items()):
            if isinstance(value, torch.nn.Module):
                self.params.update(value.named_parameters(prefix=name))
        if set(self.params) - set(declared):
            raise KeyError(f"parameters jac does not declare: {sorted(set(self.params) - set(declared))}")
        with torch.no_grad():
            for key, p in self.params.items():
                p.copy_(torch.from_numpy(np.array(declared[key])))
        tree = ast.parse(body)
        self.body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<program>", "exec")
        self.last = compile(ast.Expression(tree.body[-1].value), "<program>", "eval")
        self.names = names
        self.pnames = list(self.params)

    def call(self, xs, ps=None):
        """The outputs (a tuple) for inputs ``xs`` and parameters ``ps`` (default: the modules' own)."""
        torch = self.torch
        ns = dict(self.scope)
        mods = {k: v for k, v in self.scope.items() if isinstance(v, torch.nn.Module)}
        fresh = copy.deepcopy(mods)
        ns.update(fresh)
        if ps is not None:  # parameters as leaves: functional_call per module
            for k, m in fresh.items():
                own = {n[len(k) + 1:]: p for n, p in zip(self.pnames, ps) if n.startswith(k + ".")}
                ns[k] = _Bound(m, own)
        ns.update(zip(self.names, xs))
        exec(self.body, ns)  # noqa: S102
        out = eval(self.last, ns)  # noqa: S307
        outs = out if isinstance(out, tuple) else (out,)
        if not all(isinstance(o, torch.Tensor) and o.is_floating_point() for o in outs):
            raise TypeError("not a float tensor")
        return outs


class _Bound:
    """A module called with given parameters (``torch.func.functional_call``), its other methods its own."""

    def __init__(self, module, params):
        self.module, self.params = module, params

    def __call__(self, *args, **kwargs):
        import torch

        return torch.func.functional_call(self.module, self.params, args, kwargs)

    def __getattr__(self, name):
        return getattr(self.module, name)


def torch_results(tp: TorchProgram, inputs: dict, declared: dict, vs: list, tangents: dict, want: dict) -> dict:
    """PyTorch's results, each a value or an Exception: ``value``, ``jacobian`` ({output k: {name: J}}),
    ``vjp``, ``jvp`` (per output), ``hessian`` ({k: {(a, b): H}}), ``order2``/``order3``."""
    torch = tp.torch
    out = {}
    xs = [torch.tensor(v) for v in inputs.values()]
    ps = [torch.tensor(np.array(declared[n])) for n in tp.pnames]
    names = list(inputs) + tp.pnames

    def leaves():
        return [a.clone().requires_grad_(True) for a in xs + ps]

    def f_all(*ls):
        return tp.call(ls[:len(xs)], ls[len(xs):] if ps else None)

    def f_x(*ls):
        return tp.call(ls, None)

    outs = f_all(*leaves())
    out["value"] = tuple(o.detach().numpy() for o in outs)
    try:  # Jacobian, row by row
        ls = leaves()
        rows = {}
        for k, o in enumerate(f_all(*ls)):
            flat = o.reshape(-1)
            cols = {n: np.zeros((flat.numel(),) + tuple(a.shape)) for n, a in zip(names, ls)}
            for i in range(flat.numel() if flat.requires_grad else 0):
                gs = torch.autograd.grad(flat[i], ls, retain_graph=True, allow_unused=True)
                for n, g in zip(names, gs):
                    if g is not None:
                        cols[n][i] = g.numpy()
            rows[k] = {n: c.reshape(tuple(o.shape) + tuple(a.shape)) for (n, c), a in zip(cols.items(), ls)}
        out["jacobian"] = rows
    except Exception as e:  # noqa: BLE001
        out["jacobian"] = e
    try:  # VJP
        ls = leaves()
        os_ = f_all(*ls)
        pairs = [(o, torch.tensor(np.zeros(o.shape) if v is None else v)) for o, v in zip(os_, vs)
                 if o.requires_grad]
        if pairs:
            gs = torch.autograd.grad([p[0] for p in pairs], ls, grad_outputs=[p[1] for p in pairs],
                                     allow_unused=True)
        else:
            gs = [None] * len(ls)
        out["vjp"] = {n: np.zeros(a.shape) if g is None else g.numpy() for n, g, a in zip(names, gs, ls)}
    except Exception as e:  # noqa: BLE001
        out["vjp"] = e
    if tangents:
        ts = tuple(torch.tensor(tangents[n]) for n in inputs)
        try:
            _, jv = torch.func.jvp(f_x, tuple(xs), ts)
            out["jvp"] = tuple(j.detach().numpy() for j in jv)
        except Exception as e:  # noqa: BLE001 - torch.func refuses some programs (in-place on a view...)
            try:
                _, jv = torch.autograd.functional.jvp(f_x, tuple(xs), ts)
                out["jvp"] = tuple(j.detach().numpy() for j in jv)
            except Exception:  # noqa: BLE001
                out["jvp"] = e
    if want.get("hessian"):
        try:
            H = {}
            for k in range(len(outs)):
                def grad_k(*ls, k=k):
                    return torch.autograd.functional.jacobian(lambda *a: f_x(*a)[k], ls, create_graph=True)
                got = torch.autograd.functional.jacobian(grad_k, tuple(xs))
                H[k] = {(a, b): got[i][j].detach().numpy() for i, a in enumerate(inputs)
                        for j, b in enumerate(inputs)}
            out["hessian"] = H
        except Exception as e:  # noqa: BLE001
            out["hessian"] = e
    if want.get("order3"):
        try:
            first = list(inputs)[0]
            rest = xs[1:]

            def f1(x):
                return f_x(x, *rest)

            def d1(x):
                return torch.autograd.functional.jacobian(lambda a: f1(a)[0], x, create_graph=True)

            def d2(x):
                return torch.autograd.functional.jacobian(d1, x, create_graph=True)

            out["order3"] = torch.autograd.functional.jacobian(d2, xs[0]).detach().numpy()
            _ = first
        except Exception as e:  # noqa: BLE001
            out["order3"] = e
    return out


def jac_results(text: str, inputs: dict, vs: list, tangents: dict, want: dict) -> dict:
    """jac's results through the Python API, each a value or an Exception (as ``torch_results``)."""
    from jacobi_cli.tools import api

    out = {"declared": {}}
    if "nn." in text:  # the layers' parameters jac draws (a text whose shapes depend on values has none here)
        try:  # compiled for these values where the shapes depend on them (x[x > 0]), as api.evaluate compiles
            found = api._compiled(text, inputs, np.float64, 0, api.DEFAULT_MAX_BYTES)[0]
            out["declared"] = dict(found.declared or {})
        except Exception:  # noqa: BLE001 - the calls below say what jac says
            pass
    value = api.evaluate(text, inputs)
    several = isinstance(value, tuple)
    values = value if several else (value,)
    out["value"] = values
    if vs is None:  # the value only: the shapes of v
        return out
    names = None

    def attempt(key, fn):
        try:
            out[key] = fn()
        except Timeout:
            raise
        except Exception as e:  # noqa: BLE001
            out[key] = e

    def jac_all():
        J = api.jacobian(text, inputs)
        out["names"] = list(J) if several else None
        return {k: J[o] for k, o in enumerate(J)} if several else {0: J}

    attempt("jacobian", jac_all)
    names = out.get("names")

    def vjp():
        if several:
            onames = names or [f"y{k}" for k in range(len(values))]
            return api.vjp(text, inputs, v={o: v for o, v in zip(onames, vs) if v is not None})
        return api.vjp(text, inputs, v="ones" if want.get("ones") else vs[0])

    attempt("vjp", vjp)
    if tangents:
        attempt("jvp", lambda: api.jvp(text, inputs, tangents))
    if want.get("hessian"):
        def hess():
            H = api.hessian(text, inputs, wrt=list(inputs))
            return {k: H[o] for k, o in enumerate(H)} if several else {0: H}
        attempt("hessian", hess)
        first = list(inputs)[0]
        attempt("order2", lambda: api.derivative(text, inputs, order=2, wrt=[first]))
    if want.get("order3"):
        attempt("order3", lambda: api.derivative(text, inputs, order=3, wrt=[list(inputs)[0]]))
    return out


def compare(key, ours, theirs, inputs, jac_out) -> tuple:
    """(status, detail) of one result."""
    from jacobi_cli.errors import JacError

    if theirs is None and ours is None:
        return "SKIP", ""
    terr = isinstance(theirs, Exception)
    if isinstance(ours, Exception):
        if isinstance(ours, JacError):
            return ("BOTH-RAISE", "") if terr else ("JAC-REFUSES", (str(ours).splitlines() or [""])[0])
        return "CRASH", f"{key}: {type(ours).__name__}: {str(ours)[:200]}"
    if terr:
        return "JAC-ANSWERS-WHERE-TORCH-RAISES", f"{key}: {type(theirs).__name__}: {(str(theirs).splitlines() or [''])[0][:100]}"
    if theirs is None or ours is None:
        return "SKIP", ""
    deriv = key != "value"
    pairs = []
    if key == "value":
        if len(ours) != len(theirs):
            return "WRONG", f"value: {len(ours)} outputs vs torch {len(theirs)}"
        pairs = [(f"value {k}", o, t) for k, (o, t) in enumerate(zip(ours, theirs))]
    elif key == "jacobian":
        for k, blocks in theirs.items():
            for n, t in blocks.items():
                pairs.append((f"d(output {k})/d{n}", np.asarray(ours[k][n]), t))
    elif key == "vjp":
        for n, t in theirs.items():
            pairs.append((f"vjp {n}", ours[n], t))
    elif key == "jvp":
        o = ours if isinstance(ours, dict) else {0: ours}
        o = list(o.values())
        if len(o) != len(theirs):
            return "WRONG", f"jvp: {len(o)} outputs vs torch {len(theirs)}"
        pairs = [(f"jvp {k}", a, t) for k, (a, t) in enumerate(zip(o, theirs))]
    elif key == "hessian":
        for k, blocks in theirs.items():
            for (a, b), t in blocks.items():
                pairs.append((f"hessian {k} {a},{b}", ours[k][(a, b)], t))
    elif key in ("order2", "order3"):
        o = ours
        if isinstance(o, dict):
            o = list(o.values())[0]
        pairs = [(key, o, theirs)]
    for what, o, t in pairs:
        why = differ(o, t, None, "float64", derivative=deriv, rtol=1e-8 if deriv else 1e-9)
        if why:
            return "WRONG", f"{what}: {why}"
    return "AGREE", ""


def cli_check(text: str, inputs: dict, vs: list, tangents: dict, jac_out: dict) -> tuple:
    """(status, detail): ``jac eval/vjp/jvp --json`` run in this process give the API's numbers."""
    from jacobi_cli.cli import entry

    def arr(value, shape=None):
        if shape is not None:  # an empty array's nested lists do not say its shape; "shape" does
            return arr(value).reshape(shape)

        def one(v):
            if isinstance(v, list):
                return [one(e) for e in v]
            return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(v, v) if isinstance(v, str) else v
        return np.asarray(one(value), dtype=np.float64)

    def txt(v):
        v = np.asarray(v, dtype=np.float64)
        return repr(float(v)) if v.ndim == 0 else repr(v.tolist())

    def run(args):
        so, se = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
            code = entry.main([str(a) for a in args])
        try:
            return code, json.loads(so.getvalue())
        except ValueError:
            return code, None

    binds = [f"{n}={txt(v)}" for n, v in inputs.items()]
    several = len(jac_out["value"]) > 1 or jac_out.get("names")
    code, obj = run(["eval", text, *binds, "--json"])
    if isinstance(jac_out.get("jacobian"), Exception):
        return ("AGREE", "") if code == 2 else ("WRONG", f"cli eval exit {code} where the API refuses")
    if code != 0 or obj is None:
        return "WRONG", f"cli eval exit {code} where the API answers"
    if several:
        outs = [arr(o["value"], o["shape"]) for o in obj["outputs"]]
        jacs = {k: {n: arr(b["value"], b["shape"]) for n, b in obj["jacobians"][o["name"]].items()}
                for k, o in enumerate(obj["outputs"])}
    else:
        outs = [arr(obj["output"]["value"], obj["output"]["shape"])]
        jacs = {0: {n: arr(b["value"], b["shape"]) for n, b in obj["jacobian"].items()}}
    for o, t in zip(outs, jac_out["value"]):
        if differ(o, t, None, "float64", rtol=1e-12):
            return "WRONG", "cli value differs from the API's"
    for k, blocks in jacs.items():
        for n, b in blocks.items():
            if differ(b, np.asarray(jac_out["jacobian"][k][n]), None, "float64", derivative=True, rtol=1e-12):
                return "WRONG", f"cli jacobian {k} {n} differs from the API's"
    if not isinstance(jac_out.get("vjp"), Exception):
        if several:
            names = jac_out["names"]
            vargs = [a for o, v in zip(names, vs) if v is not None for a in ("--v", f"{o}={txt(v)}")]
        else:
            vargs = ["--v", "ones" if (vs[0] == 1).all() else txt(vs[0])]
        code, obj = run(["vjp", text, *binds, *vargs, "--json"])
        if code != 0 or obj is None:
            return "WRONG", f"cli vjp exit {code} where the API answers"
        for n, b in obj["vjp"].items():
            if differ(arr(b["value"], b["shape"]), jac_out["vjp"][n], None, "float64", derivative=True, rtol=1e-12):
                return "WRONG", f"cli vjp {n} differs from the API's"
    if tangents and not isinstance(jac_out.get("jvp"), Exception):
        targs = [a for n, t in tangents.items() for a in ("--tangent", f"{n}={txt(t)}")]
        code, obj = run(["jvp", text, *binds, *targs, "--json"])
        if code != 0 or obj is None:
            return "WRONG", f"cli jvp exit {code} where the API answers"
        got = [arr(b["value"], b["shape"]) for b in obj["jvps"].values()] if several else \
            [arr(obj["jvp"]["value"], obj["jvp"]["shape"])]
        ours = jac_out["jvp"]
        ours = list(ours.values()) if isinstance(ours, dict) else [ours]
        for a, b in zip(got, ours):
            if differ(a, b, None, "float64", derivative=True, rtol=1e-12):
                return "WRONG", "cli jvp differs from the API's"
    if isinstance(jac_out.get("hessian"), dict) and not several:
        code, obj = run(["hessian", text, *binds, *[a for n in inputs for a in ("--wrt", n)], "--json"])
        if code != 0 or obj is None:
            return "WRONG", f"cli hessian exit {code} where the API answers"
        for key, b in obj["hessian"].items():
            a, c = key.split(",")
            if differ(arr(b["value"], b["shape"]), jac_out["hessian"][0][(a, c)], None, "float64", derivative=True, rtol=1e-12):
                return "WRONG", f"cli hessian {key} differs from the API's"
    for order in (2, 3):
        ours = jac_out.get(f"order{order}")
        if ours is None or isinstance(ours, Exception) or several:
            continue
        first = list(inputs)[0]
        code, obj = run(["derivative", text, *binds, "--order", order, "--wrt", first, "--json"])
        if code != 0 or obj is None:
            return "WRONG", f"cli derivative --order {order} exit {code} where the API answers"
        d = obj["derivative"][first]
        if differ(arr(d["value"], d["shape"]), ours, None, "float64", derivative=True, rtol=1e-12):
            return "WRONG", f"cli derivative --order {order} differs from the API's"
    return "AGREE", ""


def classify(text: str, inputs: dict, cli: bool = False) -> dict:
    """{result: (status, detail)} for every result of ``RESULTS``."""
    from jacobi_cli.errors import JacError

    inputs = used(text, inputs)
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    res = {}
    try:
        jo = jac_results(text, inputs, None, {}, {})  # the value first: the shapes of v
    except Timeout:
        raise
    except JacError as e:
        jo = e
    except Exception as e:  # noqa: BLE001
        return {k: ("CRASH", f"{type(e).__name__}: {str(e)[:200]}") for k in RESULTS}
    declared = {} if isinstance(jo, Exception) else jo["declared"]
    try:
        tp = TorchProgram(text, list(inputs), declared)
        touts = tp.call([__import__("torch").tensor(v) for v in inputs.values()])
        tv = [rng.standard_normal(tuple(o.shape)) for o in touts]
        terr = None
    except Exception as e:  # noqa: BLE001
        terr, tv = e, None
    if isinstance(jo, Exception):
        status = "BOTH-RAISE" if terr else "JAC-REFUSES"
        return {k: (status, str(jo).splitlines()[0] if str(jo) else "") for k in RESULTS}
    if terr is not None:
        d = f"{type(terr).__name__}: {str(terr).splitlines()[0][:100] if str(terr) else ''}"
        return {k: ("JAC-ANSWERS-WHERE-TORCH-RAISES", d) for k in RESULTS}
    vs = tv
    ones = len(tv) == 1 and rng.random() < 0.2  # --v ones
    if ones:
        vs = [np.ones(tv[0].shape)]
    elif len(tv) > 1 and rng.random() < 0.3:  # an output left out of v counts as zero
        vs = list(tv)
        vs[int(rng.integers(len(vs)))] = None
    tangents = {n: rng.standard_normal(v.shape) for n, v in inputs.items()}
    ysize = sum(int(np.prod(o.shape)) for o in touts)
    xsize = sum(v.size for v in inputs.values())
    want = {"hessian": bool(inputs) and ysize * xsize <= HESSIAN_MAX,
            "order3": bool(inputs) and len(touts) == 1 and ysize * list(inputs.values())[0].size ** 2 <= 64,
            "ones": ones}
    jo = jac_results(text, inputs, vs, tangents, want)
    try:
        to = torch_results(tp, inputs, declared, vs, tangents, want)
    except Exception as e:  # noqa: BLE001 - PyTorch raises with leaves that require grad, not without them
        d = f"{type(e).__name__} (with grad): {str(e).splitlines()[0][:100] if str(e) else ''}"
        return {k: ("JAC-ANSWERS-WHERE-TORCH-RAISES", d) for k in RESULTS}
    if want["hessian"] and not isinstance(to.get("hessian"), Exception):
        to["order2"] = to["hessian"][0][(list(inputs)[0],) * 2] if len(touts) == 1 else None
    elif want["hessian"]:
        to["order2"] = to["hessian"]
    for key in RESULTS[:-1]:
        res[key] = compare(key, jo.get(key), to.get(key), inputs, jo)
    if res["order3"][0] == "WRONG":
        res["order3"] = arbitrate(tp, inputs, jo["order3"], to["order3"], res["order3"])
    for key in ("hessian", "order2"):
        if res[key][0] == "WRONG" and res["jacobian"][0] == "AGREE":
            res[key] = arbitrate_second(tp, inputs, jo[key], to[key], key, res[key])
    if res["jvp"][0] == "WRONG" and res["jacobian"][0] == "AGREE":
        res["jvp"] = arbitrate_jvp(jo["jvp"], to["jacobian"], tangents, res["jvp"])
    res["cli"] = cli_check(text, inputs, vs, tangents, jo) if cli else ("SKIP", "")
    return res


def arbitrate(tp: TorchProgram, inputs: dict, ours, theirs, status: tuple) -> tuple:
    """A third derivative that differs: central differences of PyTorch's Hessian (by the first input; PyTorch's
    orders 1 and 2 are right) decide. PyTorch's fused layer_norm / batch_norm (training) / instance_norm give
    wrong third derivatives (pytorch/pytorch#175754, #186256): TORCH-WRONG when jac is the differences' answer."""
    torch = tp.torch
    xs = [torch.tensor(v) for v in inputs.values()]
    J = torch.autograd.functional.jacobian

    def hess(x0):
        def f(a):
            return tp.call([a, *xs[1:]])[0]
        return J(lambda b: J(f, b, create_graph=True), x0).detach().numpy()

    x0 = xs[0]
    h = 1e-4 * max(1.0, float(x0.abs().max()))
    cols = []
    for i in range(x0.numel()):
        e = torch.zeros(x0.numel(), dtype=x0.dtype)
        e[i] = h
        e = e.reshape(x0.shape)
        cols.append((hess(x0 + e) - hess(x0 - e)) / (2 * h))
    fd = np.stack(cols, -1).reshape(np.shape(theirs))
    ours = np.asarray(list(ours.values())[0] if isinstance(ours, dict) else ours)
    return ("TORCH-WRONG", status[1]) if torch_is_wrong(ours, theirs, fd, 1e-5) is True else status


def torch_is_wrong(ours, theirs, fd, close: float):
    """None where jac is not the central differences' answer (within ``close`` of their scale); else whether PyTorch
    is off them by more than 1e-5 of the scale and ten times jac (session 48: 1e-3 missed PyTorch's logcumsumexp
    Hessian 0.00083 off, and a layer norm's third derivative 1e-4 off, where jac was within 1e-9)."""
    scale = max(1.0, float(np.abs(fd).max()))
    mine = float(np.abs(np.asarray(ours) - fd).max())
    if mine >= close * scale:
        return None
    return float(np.abs(np.asarray(theirs) - fd).max()) > max(1e-5 * scale, 10 * mine)


def arbitrate_second(tp: TorchProgram, inputs: dict, ours, theirs, key: str, status: tuple) -> tuple:
    """A Hessian (or order 2) block that differs: central differences of PyTorch's Jacobian (right where the
    Jacobians agreed) decide, block by block. PyTorch's double backward of ``logcumsumexp`` along a dim of size 1
    is wrong (session 48, seed 4820: ``torch.logcumsumexp(x, 1)`` of x (4, 1), the identity, gives x_i's second
    derivative of x_i ** 2 as 2 + 2 x_i): TORCH-WRONG when jac is the differences' answer in every block."""
    torch = tp.torch
    names = list(inputs)
    xs = [torch.tensor(v) for v in inputs.values()]
    J = torch.autograd.functional.jacobian
    if key == "order2":
        blocks = {(0, names[0], names[0]): (list(ours.values())[0] if isinstance(ours, dict) else ours, theirs)}
    else:
        blocks = {(k, a, c): (ours[k][(a, c)], t) for k, pairs in theirs.items() for (a, c), t in pairs.items()}
    torch_wrong = False
    for (k, a, c), (o, t) in blocks.items():
        ia, ic = names.index(a), names.index(c)

        def jac(args, k=k, ia=ia):
            return J(lambda v: tp.call([*args[:ia], v, *args[ia + 1:]])[k], args[ia]).detach().numpy()

        x0 = xs[ic]
        h = 1e-5 * max(1.0, float(x0.abs().max())) if x0.numel() else 1e-5
        cols = []
        for i in range(x0.numel()):
            e = torch.zeros(x0.numel(), dtype=x0.dtype)
            e[i] = h
            e = e.reshape(x0.shape)
            cols.append((jac([*xs[:ic], x0 + e, *xs[ic + 1:]]) - jac([*xs[:ic], x0 - e, *xs[ic + 1:]])) / (2 * h))
        if not cols:
            continue
        fd = np.stack(cols, -1).reshape(np.shape(t))
        verdict = torch_is_wrong(o, t, fd, 1e-6)
        if verdict is None:
            return status  # jac is not the differences' answer: WRONG stands
        torch_wrong = torch_wrong or verdict
    return ("TORCH-WRONG", status[1]) if torch_wrong else status


def arbitrate_jvp(ours, jacobian: dict, tangents: dict, status: tuple) -> tuple:
    """A jvp that differs from ``torch.func.jvp``'s where jac's Jacobian agrees with PyTorch's reverse mode: TORCH-MODES
    when jac's jvp is that Jacobian times the tangents (Σ_n J_n t_n), PyTorch's forward mode disagreeing with its own
    reverse mode. Session 54: a write under ``torch.no_grad()`` (``t1 = sin(x); with torch.no_grad(): t1.exp_()``),
    which PyTorch's reverse mode does not record and its forward mode does ("This API does not apply to forward-mode
    AD", torch.no_grad's docs): jac follows the reverse mode in both (one Jacobian), lang/nograd.py."""
    o = list(ours.values()) if isinstance(ours, dict) else [ours]
    if len(o) != len(jacobian):
        return status
    for k, blocks in jacobian.items():
        want = None
        for n, J in blocks.items():
            if n not in tangents:  # a module's parameter, held fixed by the jvp (no tangent)
                continue
            t = np.asarray(tangents[n])
            part = np.tensordot(J, t, axes=t.ndim) if t.ndim else J * t
            want = part if want is None else want + part
        if want is None or differ(np.asarray(o[k]), want, None, "float64", derivative=True, rtol=1e-8):
            return status
    return "TORCH-MODES", status[1] + " (PyTorch's forward mode against its reverse mode: jac's jvp is J·t)"


def overall(res: dict) -> tuple:
    for s in ("CRASH", "WRONG"):
        for k, (st, d) in res.items():
            if st == s:
                return s, f"{k}: {d}"
    return "OK", ""


def checked(text, inputs, cli=False):
    got = with_timeout(classify, text, inputs, cli, seconds=60)
    if isinstance(got, tuple):  # the timeout
        return {k: got for k in RESULTS}
    return got


def shrink(text: str, inputs: dict, status: tuple, budget: int = 150) -> str:
    tries, progress = 0, True
    while progress and tries < budget:
        progress = False
        for cand in candidates(text):
            tries += 1
            if tries > budget:
                break
            if len(cand) >= len(text):
                continue
            try:
                got = overall(checked(cand, inputs))
            except Exception:  # noqa: BLE001
                continue
            if got[0] == status[0] and got[1].split(":")[0] == status[1].split(":")[0]:
                text, progress = cand, True
                break
    return text


def worker(args) -> dict:
    seed, first, n, do_shrink, cli_every = args
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    counts = {k: Counter() for k in RESULTS}
    refused, terrors, found = Counter(), Counter(), []
    programs = Counter()
    for k in range(first, first + n):
        s = seed * 1_000_003 + k
        text, inputs = draw(s)
        res = checked(text, inputs, cli=cli_every > 0 and k % cli_every == 0)
        layer = "nn." in text
        programs["with layers" if layer else "without layers"] += 1
        for key, (st, d) in res.items():
            counts[key][st] += 1
            if st == "JAC-REFUSES" and (key == "value" or res["value"][0] != "JAC-REFUSES"):
                refused[f"{key}: {reason(d)}"] += 1
            elif st == "JAC-ANSWERS-WHERE-TORCH-RAISES" and (key == "value" or res["value"][0] != st):
                terrors[f"{key}: {d[:100]}"] += 1
        st = overall(res)
        if st[0] != "OK":
            small = shrink(text, inputs, st) if do_shrink else text
            found.append({"seed": s, "program": text, "small": small, "status": st[0],
                          "detail": overall(checked(small, inputs))[1] or st[1],
                          "inputs": {n: v.tolist() for n, v in used(small, inputs).items()}})
    return {"counts": counts, "refused": refused, "terrors": terrors, "found": found, "programs": programs}


def merge(parts: list) -> dict:
    out = {"counts": {k: Counter() for k in RESULTS}, "refused": Counter(), "terrors": Counter(), "found": [],
           "programs": Counter()}
    for p in parts:
        for k in RESULTS:
            out["counts"][k].update(p["counts"][k])
        out["refused"].update(p["refused"])
        out["terrors"].update(p["terrors"])
        out["found"] += p["found"]
        out["programs"].update(p["programs"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=38)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--cli-every", type=int, default=25)
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--show", type=int, default=25)
    ap.add_argument("--print", action="store_true")
    a = ap.parse_args()
    if a.print:
        for k in range(a.first, a.first + a.n):
            text, inputs = draw(a.seed * 1_000_003 + k)
            print(f"# {k}: " + ", ".join(f"{n}{list(v.shape)}" for n, v in inputs.items()) + "\n" + text + "\n")
        return 0
    start = time.monotonic()
    per, first = [], a.first
    for j in range(a.jobs):
        n = a.n // a.jobs + (j < a.n % a.jobs)
        per.append((a.seed, first, n, not a.no_shrink, a.cli_every))
        first += n
    if a.jobs == 1:
        merged = merge([worker(per[0])])
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(a.jobs) as pool:
            merged = merge(pool.map(worker, per))
    seen = set()
    for f in merged["found"]:
        if (f["status"], f["small"]) in seen:
            continue
        seen.add((f["status"], f["small"]))
        small = f["small"].replace("\n", "\n           ")
        print(f"{f['status']} [seed {f['seed']}] {f['detail']}\n  minimal: {small}\n  inputs:  {f['inputs']}")
    print(f"\ntop JAC-REFUSES reasons ({sum(merged['refused'].values())}):")
    for msg, c in merged["refused"].most_common(a.show):
        print(f"  {c:6d}  {msg}")
    print(f"top JAC-ANSWERS-WHERE-TORCH-RAISES ({sum(merged['terrors'].values())}):")
    for msg, c in merged["terrors"].most_common(a.show):
        print(f"  {c:6d}  {msg}")
    print(f"\n{a.n} programs (seed {a.seed}, first {a.first}, {time.monotonic() - start:.0f} s; "
          + ", ".join(f"{k} {v}" for k, v in sorted(merged["programs"].items())) + "):")
    bad = 0
    for key in RESULTS:
        c = merged["counts"][key]
        bad += c["WRONG"] + c["CRASH"]
        print(f"  {key:9s} " + ", ".join(f"{s} {c[s]}" for s in STATUSES))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
