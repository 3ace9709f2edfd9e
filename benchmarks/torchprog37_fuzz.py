"""A differential fuzz of whole PyTorch programs (session 37): seeded random programs of 2-6 statements over 1-3
inputs of random shapes (0-d to 3-d, size-1 dims included), run by PyTorch (float64 value and
``torch.autograd.functional.jacobian`` by every input) and by jac's Python API (``evaluate``, ``jacobian``), compared.

    PYTHONPATH=. /work/venv/bin/python benchmarks/torchprog37_fuzz.py [--n 3000] [--seed 37] [--jobs 1]
                                                                      [--no-shrink] [--show 25] [--print]

Where torch_fuzz.py draws one expression over fixed inputs, this draws programs: statements that name their
results, method chains and functions with ``dim=`` / ``keepdim=`` / negative dims, broadcasting, reductions
(sum / mean / prod / amax / amin / logsumexp / norm / var / std with ``correction=``, cumsum / cumprod, max(dim)),
shape ops and views (reshape / view / permute / transpose / unsqueeze / squeeze / expand / flatten / movedim /
narrow / chunk / split / unbind / stack / cat / .T / .mT / detach), indexing (ints, slices, ``None``, ``...``,
integer lists, boolean masks; a negative step, which PyTorch refuses), in-place ops on non-leaf tensors and on
views of them (``add_`` ``mul_`` ``clamp_`` ``masked_fill_`` ``x[idx] = v`` ``+=`` ``relu_`` ``copy_`` ...; now and
then on an input or an expanded view, which PyTorch refuses), ``torch.where``, comparisons, ``F.*`` activations,
linear algebra (``@``, einsum, linalg.norm / det / inv / solve) and Python control flow over known values (``for``
over ``range``, ``if`` on shapes, ``while``, comprehensions).

Each program is one of AGREE (value and every Jacobian within 1e-9 relative, fuzzkit.differ), BOTH-RAISE,
JAC-REFUSES (a JacError where PyTorch answers: fine, the top reasons are listed), JAC-ANSWERS-WHERE-TORCH-RAISES,
WRONG (a value, a Jacobian or a shape differs) or CRASH (jac raises anything but a JacError, or takes over 20 s).
WRONG and CRASH programs are shrunk (statements dropped, sub-expressions replaced by an operand) and printed with
their inputs. Exit 1 on WRONG or CRASH. 3000 programs take about five minutes on one core.
"""

from __future__ import annotations

import argparse
import ast
import copy
import math
import os
import random
import re
import sys
import time
import warnings
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import Timeout, broadcast, differ, run_workers, with_timeout  # noqa: E402

MAX = 36  # elements of any drawn value

UNARY = ["torch.sin({a})", "{a}.exp()", "torch.tanh({a})", "{a}.sigmoid()", "F.relu({a})", "F.gelu({a})",
         "F.softplus({a})", "F.silu({a})", "F.elu({a})", "F.leaky_relu({a}, 0.1)", "{a}.abs()", "{a} ** 2",
         "torch.clamp({a}, -0.5, 0.5)", "{a}.clamp(min=-0.2)", "{a} * 1.0", "{a}.clone()", "-{a}",
         "torch.log1p({a}.abs())", "F.hardtanh({a})", "F.gelu({a}, approximate='tanh')", "{a}.square()",
         "torch.sqrt({a}.abs() + 0.1)", "F.mish({a})", "{a}.cos()", "F.logsigmoid({a})", "{a}.tanh()",
         "torch.atan({a})", "{a}.pow(3)", "2 * {a} + 1"]
DIMWISE = ["F.softmax({a}, dim={d})", "F.log_softmax({a}, dim={d})", "torch.softmax({a}, {d})",
           "F.normalize({a}, dim={d})", "{a}.softmax(dim={d})", "{a}.log_softmax({d})"]
BINOPS = ["+", "-", "*"]
BINFNS = ["torch.maximum({a}, {b})", "torch.minimum({a}, {b})", "{a} / ({b}.abs() + 1)", "torch.mul({a}, {b})",
          "torch.add({a}, {b}, alpha=2)", "{a}.sub({b})", "torch.atan2({a}, {b})", "torch.hypot({a}, {b})",
          "torch.where({a} > {b}, {a}, {b})", "torch.where({b} > 0, {a}, 0.0)", "{a}.mul({b})",
          "torch.lerp({a}, {b}, 0.3)", "torch.addcmul({a}, {a}, {b}, value=0.5)", "torch.logaddexp({a}, {b})",
          "{a} * ({b} > 0)", "({a} > {b}).double() * {a}", "{a}.masked_fill({b} < 0, 0.0)",
          "torch.where({a} < {b}, {a} * {b}, {a} - {b})"]
INPLACE_B = ["{t}.add_({b})", "{t}.mul_({b})", "{t}.sub_({b}, alpha=2)", "{t} += {b}", "{t} *= {b}", "{t} -= {b}",
             "{t}.copy_({b})", "{t}.addcmul_({b}, {b}, value=0.5)", "{t}.lerp_({b}, 0.3)",
             "{t}.div_({b}.abs() + 1)", "{t}.masked_fill_({b} > 0.5, 0.0)", "torch.add({t}, {b}, out={t})"]
INPLACE_U = ["{t}.mul_(0.5)", "{t}.clamp_(min=-0.5)", "{t}.clamp_(-1, 1)", "{t}.relu_()", "{t}.sigmoid_()",
             "{t}.tanh_()", "{t}.exp_()", "{t}.zero_()", "{t}.fill_(1.5)", "F.relu({t}, inplace=True)",
             "{t}.abs_()", "{t}.pow_(2)", "{t}.neg_()", "{t}.masked_fill_({t} > 0, -1.0)", "{t}.add_(1)",
             "{t}.sin_()", "{t} /= 2", "{t}.clamp_(max=0.3)", "F.leaky_relu_({t}, 0.2)", "{t}.square_()"]


class Var:
    """A drawn name: its shape and whether it is an input or a view of one (PyTorch refuses to write into it)."""

    def __init__(self, name, shape, leafy=False, view_of=None):
        self.name, self.shape, self.leafy, self.view_of = name, tuple(shape), leafy, view_of


def numel(shape) -> int:
    return math.prod(shape)


class Program:
    """One drawn program: ``lines`` (Python source lines), ``inputs`` (name -> shape), the names bound."""

    def __init__(self, rng: random.Random):
        self.r = rng
        self.lines: list[str] = []
        self.vars: dict[str, Var] = {}
        self.count = 0
        self.written: list[str] = []  # names written in place (the output likes them)
        self.inputs = self.draw_inputs()
        for n, s in self.inputs.items():
            self.vars[n] = Var(n, s, leafy=True)

    # --- shapes -----------------------------------------------------------------------------------
    def draw_shape(self):
        r = self.r
        rank = r.choices([0, 1, 2, 3], [1, 3, 4, 3])[0]
        for _ in range(20):
            shape = tuple(r.choice([1, 2, 3, 4]) for _ in range(rank))
            if numel(shape) <= 24:
                return shape
        return (2,) * rank

    def draw_inputs(self):
        r = self.r
        base = self.draw_shape()
        shapes = {"x": base}
        for name in ["y", "z"][: r.choices([0, 1, 2], [3, 4, 2])[0]]:
            c = r.randrange(4)
            if c == 0:
                s = base
            elif c == 1:
                s = base[r.randrange(len(base) + 1):]
            elif c == 2:
                s = tuple(1 if r.random() < 0.4 else d for d in base)
            else:
                s = self.draw_shape()
            shapes[name] = s
        return shapes

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def pick(self, pred=lambda v: True, prefer_new=True) -> Var:
        pool = [v for v in self.vars.values() if pred(v)]
        if not pool:
            raise Retry
        if prefer_new and self.r.random() < 0.5:
            fresh = [v for v in pool if not v.leafy] or pool
            return fresh[-1] if self.r.random() < 0.6 else self.r.choice(fresh)
        return self.r.choice(pool)

    def dim(self, v: Var) -> int:
        n = len(v.shape)
        return self.r.randrange(-n, n)

    def operand(self, shape, exact=False) -> str:
        """Another drawn name, a constant or a scalar that broadcasts with ``shape`` (to ``shape`` itself
        when ``exact``: the second argument of an in-place op)."""
        r = self.r
        fits = [v for v in self.vars.values() if (broadcast(shape, v.shape) == shape if exact else
                                                  broadcast(shape, v.shape) is not None
                                                  and numel(broadcast(shape, v.shape)) <= MAX)]
        c = r.random()
        if fits and c < 0.7:
            return r.choice(fits).name
        if c < 0.85 or not shape:
            return r.choice(["0.5", "2.0", "-1.5", "torch.tensor(0.75)"])
        sub = shape[r.randrange(len(shape)):]
        if 0 in sub:  # an empty list is torch.tensor([]), of shape (0,) whatever sub's other sizes: no broadcast
            return "0.5"  # (no draw: every other program stays as the seed drew it)
        vals = np.round(np.random.default_rng(r.randrange(10 ** 6)).uniform(-2, 2, sub), 2).tolist()
        return f"torch.tensor({vals})"

    def bind(self, expr: str, shape, view_of: Var | None = None) -> Var:
        if numel(shape) > MAX:
            raise Retry
        name = self.fresh()
        self.lines.append(f"{name} = {expr}")
        v = Var(name, shape, leafy=bool(view_of and view_of.leafy), view_of=view_of.name if view_of else None)
        self.vars[name] = v
        return v

    # --- statements -------------------------------------------------------------------------------
    def s_unary(self):
        a = self.pick()
        if self.r.random() < 0.3 and a.shape:
            return self.bind(self.r.choice(DIMWISE).format(a=a.name, d=self.dim(a)), a.shape)
        return self.bind(self.r.choice(UNARY).format(a=a.name), a.shape)

    def s_binary(self):
        a = self.pick()
        b = self.operand(a.shape)
        shape = broadcast(a.shape, self.shape_of(b))
        if self.r.random() < 0.5:
            expr = f"{a.name} {self.r.choice(BINOPS)} {b}"
        else:
            expr = self.r.choice(BINFNS).format(a=a.name, b=b)
        if self.r.random() < 0.5:
            a, b = b, a
        return self.bind(expr, shape)

    def shape_of(self, code: str):
        if code in self.vars:
            return self.vars[code].shape
        if code.startswith("torch.tensor(["):
            return np.shape(ast.literal_eval(code[len("torch.tensor("):-1]))
        return ()

    def s_reduce(self):
        r = self.r
        a = self.pick(lambda v: numel(v.shape) > 0)
        n = len(a.shape)
        if n == 0 or r.random() < 0.15:
            form = r.choice(["{a}.sum()", "{a}.mean()", "{a}.prod()", "torch.logsumexp({a}.flatten(), 0)",
                             "{a}.norm()", "{a}.amax()", "{a}.max()", "{a}.min()", "torch.linalg.norm({a})",
                             "{a}.std()", "{a}.var(correction=0)"])
            return self.bind(form.format(a=a.name), ())
        keep = r.random() < 0.35
        if r.random() < 0.2 and n >= 2:
            dims = tuple(sorted(r.sample(range(n), 2)))
            dims = tuple(d - n if r.random() < 0.5 else d for d in dims)
        else:
            dims = (self.dim(a),)
        kept = tuple(1 if (i in [d % n for d in dims]) else s for i, s in enumerate(a.shape))
        shape = kept if keep else tuple(s for i, s in enumerate(a.shape) if i not in [d % n for d in dims])
        dtext = str(dims[0]) if len(dims) == 1 else str(dims)
        kw = ", keepdim=True" if keep else ""
        one = len(dims) == 1
        forms = [f"{a.name}.sum(dim={dtext}{kw})", f"torch.sum({a.name}, {dtext}{kw})",
                 f"{a.name}.mean({dtext}{kw})", f"{a.name}.amax(dim={dtext}{kw})",
                 f"torch.amin({a.name}, {dtext}{kw})", f"torch.logsumexp({a.name}, dim={dtext}{kw})",
                 f"{a.name}.norm(dim={dtext}{kw})", f"torch.norm({a.name}, p=1, dim={dtext}{kw})",
                 f"{a.name}.var(dim={dtext}, correction={r.choice([0, 1, 2])}{kw})",
                 f"torch.std({a.name}, dim={dtext}, correction={r.choice([0, 1])}{kw})",
                 f"torch.linalg.vector_norm({a.name}, ord={r.choice([1, 2, 3])}, dim={dtext}{kw})",
                 f"torch.var_mean({a.name}, {dtext}{kw})[0]", f"torch.std_mean({a.name}, dim={dtext}{kw})[1]"]
        if one:
            d = dims[0]
            forms += [f"{a.name}.prod({d}{kw})", f"torch.prod({a.name}, dim={d}{kw})",
                      f"{a.name}.max(dim={d}{kw}).values", f"torch.min({a.name}, {d}{kw})[0]",
                      f"torch.max({a.name}, dim={d}{kw})[0]"]
            if r.random() < 0.4:
                return self.bind(r.choice([f"{a.name}.cumsum({d})", f"torch.cumsum({a.name}, dim={d})",
                                           f"torch.cumprod({a.name}, {d})", f"{a.name}.cumprod(dim={d})",
                                           f"torch.logcumsumexp({a.name}, {d})",
                                           f"torch.cummax({a.name}, {d}).values"]), a.shape)
        return self.bind(r.choice(forms), shape)

    def s_shape(self):
        r = self.r
        a = self.pick()
        s, n = a.shape, len(a.shape)
        c = r.randrange(14)
        if c == 0:  # reshape / view to a random factorization
            new = factor(r, numel(s))
            text = ", ".join(map(str, new))
            if new and r.random() < 0.3:
                k = r.randrange(len(new))
                text = ", ".join("-1" if i == k else str(d) for i, d in enumerate(new))
            meth = r.choice(["reshape", "view", "reshape"])
            arg = f"({text},)" if r.random() < 0.3 else text
            return self.bind(f"{a.name}.{meth}({arg})", new, a)
        if c == 1 and n >= 2:
            perm = list(range(n))
            r.shuffle(perm)
            if r.random() < 0.3:
                perm = [p - n for p in perm]
            return self.bind(f"{a.name}.permute({', '.join(map(str, perm))})", tuple(s[p] for p in perm), a)
        if c == 2 and n >= 2:
            i, j = self.dim(a), self.dim(a)
            new = list(s)
            new[i], new[j] = new[j], new[i]
            f = r.choice(["{a}.transpose({i}, {j})", "torch.transpose({a}, {i}, {j})", "{a}.swapaxes({i}, {j})"])
            return self.bind(f.format(a=a.name, i=i, j=j), new, a)
        if c == 3:
            d = r.randrange(-n - 1, n + 1)
            new = list(s)
            new.insert(d % (n + 1), 1)
            return self.bind(f"{a.name}.unsqueeze({d})" if r.random() < 0.7 else f"torch.unsqueeze({a.name}, {d})",
                             new, a)
        if c == 4 and 1 in s:
            if r.random() < 0.5:
                return self.bind(f"{a.name}.squeeze()", tuple(d for d in s if d != 1), a)
            d = self.dim(a)
            new = list(s)
            if new[d] == 1:
                del new[d]
            return self.bind(f"{a.name}.squeeze({d})", new, a)
        if c == 5 and n >= 1 and 1 in s:
            new = [r.choice([2, 3]) if d == 1 else d for d in s]
            args = [str(d) if d != old or r.random() < 0.5 else "-1" for d, old in zip(new, s)]
            if r.random() < 0.3:
                new = [2] + new
                args = ["2"] + args
            return self.bind(f"{a.name}.expand({', '.join(args)})", new, a)
        if c == 6 and n >= 1:
            lo = r.randrange(n)
            hi = r.randrange(lo, n)
            lo_t, hi_t = (lo - n if r.random() < 0.3 else lo), (hi - n if r.random() < 0.3 else hi)
            new = s[:lo] + (numel(s[lo:hi + 1]),) + s[hi + 1:]
            return self.bind(f"{a.name}.flatten({lo_t}, {hi_t})" if r.random() < 0.7 else
                             f"torch.flatten({a.name}, start_dim={lo_t}, end_dim={hi_t})", new, a)
        if c == 7 and n >= 2:
            i, j = self.dim(a), self.dim(a)
            order = [k for k in range(n) if k != i % n]
            order.insert(j % n, i % n)
            return self.bind(f"torch.movedim({a.name}, {i}, {j})", tuple(s[k] for k in order), a)
        if c == 8 and n >= 1:
            d = self.dim(a)
            size = s[d]
            start = r.randrange(size)
            length = r.randrange(1, size - start + 1)
            new = list(s)
            new[d] = length
            return self.bind(f"{a.name}.narrow({d}, {start}, {length})", new, a)
        if c == 9 and n == 2:
            return self.bind(f"{a.name}.T" if r.random() < 0.5 else f"{a.name}.t()", s[::-1], a)
        if c == 10 and n >= 2:
            return self.bind(f"{a.name}.mT", s[:-2] + (s[-1], s[-2]), a)
        if c == 11:
            return self.bind(r.choice([f"{a.name}.detach()", f"{a.name}.view_as({a.name})", f"{a.name}[...]",
                                       f"{a.name}.contiguous()", f"{a.name}.to(torch.float64)",
                                       f"{a.name}.double()", f"{a.name}.type_as({a.name})",
                                       f"{a.name}.requires_grad_()"]), s, a)
        if c == 12 and n >= 1:
            d = self.dim(a)
            return self.bind(f"{a.name}.flip({d})" if r.random() < 0.5 else f"torch.roll({a.name}, 1, {d})", s)
        if c == 13 and n >= 1 and len(self.vars) > 1:
            return self.s_stackcat()
        raise Retry

    def s_split(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and max(v.shape) >= 2)
        d = self.dim(a)
        size = a.shape[d]
        c = r.randrange(3)
        if c == 0:
            k = r.randint(1, max(1, size))
            step = -(-size // k)
            sizes = [min(step, size - i) for i in range(0, size, step)]
            call = f"{a.name}.chunk({k}, {d})" if r.random() < 0.6 else f"torch.chunk({a.name}, {k}, dim={d})"
        elif c == 1:
            step = r.randint(1, size)
            sizes = [min(step, size - i) for i in range(0, size, step)]
            call = f"{a.name}.split({step}, dim={d})" if r.random() < 0.6 else f"torch.split({a.name}, {step}, {d})"
        else:
            sizes = None
            call = f"{a.name}.unbind({d})" if r.random() < 0.6 else f"torch.unbind({a.name}, dim={d})"
        shapes = []
        for i in range(size if sizes is None else len(sizes)):
            new = list(a.shape)
            if sizes is None:
                del new[d]
            else:
                new[d] = sizes[i]
            shapes.append(tuple(new))
        names = [self.fresh() for _ in shapes]
        if len(names) <= 4 and r.random() < 0.6:
            self.lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {call}")
            for nm, sh in zip(names, shapes):
                self.vars[nm] = Var(nm, sh, a.leafy, a.name)
            return self.vars[names[-1]]
        parts = names[0]
        self.lines.append(f"{parts} = {call}")
        i = r.randrange(-len(shapes), len(shapes))
        if r.random() < 0.5 and all(sh == shapes[0] for sh in shapes) and numel(shapes[0]) * len(shapes) <= MAX:
            e = r.randrange(len(shapes[0]) + 1)
            new = list(shapes[0])
            new.insert(e, len(shapes))
            return self.bind(f"torch.stack({parts}, dim={e})" if r.random() < 0.5 else
                             f"torch.stack([p * (j + 1) for j, p in enumerate({parts})], {e - len(new)})", new)
        v = self.bind(f"{parts}[{i}]", shapes[i], a)
        return v

    def s_stackcat(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        same = [v for v in self.vars.values() if v.shape == a.shape]
        b = r.choice(same)
        if r.random() < 0.5:
            e = r.randrange(-len(a.shape) - 1, len(a.shape) + 1)
            new = list(a.shape)
            new.insert(e % (len(a.shape) + 1), 2)
            return self.bind(f"torch.stack([{a.name}, {b.name}], dim={e})" if r.random() < 0.6 else
                             f"torch.stack(({a.name}, {b.name}), {e})", new)
        d = self.dim(a)
        cands = [v for v in self.vars.values() if len(v.shape) == len(a.shape)
                 and all(x == y for i, (x, y) in enumerate(zip(v.shape, a.shape)) if i != d % len(a.shape))]
        b = r.choice(cands)
        new = list(a.shape)
        new[d] += b.shape[d]
        return self.bind(r.choice([f"torch.cat([{a.name}, {b.name}], dim={d})", f"torch.cat(({a.name}, {b.name}), {d})",
                                   f"torch.concat([{b.name}, {a.name}], {d})"]), new)

    def s_index(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        s, n = a.shape, len(a.shape)
        c = r.randrange(11)
        if c == 0:
            i = r.randrange(-s[0], s[0])
            return self.bind(f"{a.name}[{i}]", s[1:], a)
        if c == 1:
            lo = r.randrange(-s[0], s[0])
            lo_p = lo % s[0]
            hi = r.randrange(lo_p + 1, s[0] + 1)
            step = r.choice([1, 1, 2])
            return self.bind(f"{a.name}[{lo}:{hi}{':' + str(step) if step > 1 else ''}]",
                             (len(range(lo_p, hi, step)),) + s[1:], a)
        if c == 2 and n >= 2:
            i = r.randrange(-s[1], s[1])
            return self.bind(f"{a.name}[:, {i}]", s[:1] + s[2:], a)
        if c == 3:
            i = r.randrange(-s[-1], s[-1])
            return self.bind(f"{a.name}[..., {i}]", s[:-1], a)
        if c == 4:
            if r.random() < 0.5:
                return self.bind(f"{a.name}[None]", (1,) + s, a)
            return self.bind(f"{a.name}[:, None]", s[:1] + (1,) + s[1:], a)
        if c == 5:  # integer list
            k = r.randint(1, 3)
            idx = [r.randrange(-s[0], s[0]) for _ in range(k)]
            if r.random() < 0.5:
                return self.bind(f"{a.name}[{idx}]", (k,) + s[1:])
            return self.bind(f"{a.name}[torch.tensor({idx})]", (k,) + s[1:])
        if c == 6 and n >= 2:  # two integer arrays
            k = r.randint(1, 3)
            i = [r.randrange(-s[0], s[0]) for _ in range(k)]
            j = [r.randrange(-s[1], s[1]) for _ in range(k)]
            return self.bind(f"{a.name}[{i}, {j}]", (k,) + s[2:])
        if c == 7:  # boolean mask: the length is the data's, so reduce at once
            red = r.choice(["sum()", "mean()", "amax()", "norm()", "prod()"])
            m = r.choice([f"{a.name} > 0", f"{a.name}.abs() < 1"])
            return self.bind(f"{a.name}[{m}].{red}" if red != "mean()" else f"{a.name}[{m}].sum()", ())
        if c == 8 and n >= 2:
            return self.bind(f"{a.name}[1:, ::2]", (max(s[0] - 1, 0), len(range(0, s[1], 2))) + s[2:], a)
        if c == 9 and r.random() < 0.15:  # PyTorch refuses a negative step
            return self.bind(f"{a.name}[::-1]", s, a)
        if c == 10 and n >= 1:
            mask = [r.random() < 0.5 for _ in range(s[0])]
            return self.bind(f"{a.name}[torch.tensor({mask})]", (sum(mask),) + s[1:])
        raise Retry

    def s_inplace(self):
        r = self.r
        leafy_ok = r.random() < 0.04
        t = self.pick(lambda v: (leafy_ok or not v.leafy))
        c = r.randrange(5)
        if c == 0:
            self.lines.append(r.choice(INPLACE_U).format(t=t.name))
        elif c <= 2:
            b = self.operand(t.shape, exact=True)
            self.lines.append(r.choice(INPLACE_B).format(t=t.name, b=b))
        elif c == 3 and t.shape:
            s = t.shape
            forms = [(f"{r.randrange(-s[0], s[0])}", s[1:]), ("0:1", (1,) + s[1:]), ("...", s),
                     (f"{t.name} > 0", None), (f"[{r.randrange(s[0])}]", (1,) + s[1:])]
            if len(s) >= 2:
                forms += [(f":, {r.randrange(-s[1], s[1])}", s[:1] + s[2:]), ("1:, :1", (max(s[0] - 1, 0), 1) + s[2:])]
            idx, dst = r.choice(forms)
            if dst is None:
                val = r.choice(["0.0", "-1.0", f"{t.name}[{t.name} > 0] * 2"])
            else:
                val = self.operand(dst, exact=True)
            op = r.choice(["=", "=", "+=", "*="])
            self.lines.append(f"{t.name}[{idx}] {op} {val}")
        else:
            self.lines.append(r.choice(["{t}.squeeze_()", "{t}.unsqueeze_(0)", "{t}.t_()",
                                        "{t}.transpose_(0, -1)"]).format(t=t.name))
            s = t.shape
            line = self.lines[-1]
            if "squeeze_" in line and "un" not in line:
                new = tuple(d for d in s if d != 1)
            elif "unsqueeze_" in line:
                new = (1,) + s
            elif len(s) >= 2:
                new = (s[-1],) + s[1:-1] + (s[0],) if "transpose_" in line else s[::-1]
            else:
                new = s
            self.retype(t.name, new)
        self.written.append(t.name)
        return t

    def retype(self, name, shape):
        v = self.vars[name]
        self.vars[name] = Var(name, shape, v.leafy, v.view_of)

    def s_linalg(self):
        r = self.r
        c = r.randrange(6)
        if c == 0:  # matmul where the shapes fit
            a = self.pick(lambda v: len(v.shape) >= 1)
            k = a.shape[-1]
            bs = [v for v in self.vars.values() if (len(v.shape) == 1 and v.shape[0] == k) or
                  (len(v.shape) >= 2 and v.shape[-2] == k)]
            if bs:
                b = r.choice(bs)
                shape = matmul_shape(a.shape, b.shape)
                if shape is None:
                    raise Retry
                return self.bind(r.choice([f"{a.name} @ {b.name}", f"torch.matmul({a.name}, {b.name})"]), shape)
            m = self.pick(lambda v: v.shape[-1:] == a.shape[-1:] and len(v.shape) >= 1)
            shape = matmul_shape(a.shape, m.shape[:-2] + m.shape[-1:][::-1] + (m.shape[-2],)
                                 if len(m.shape) >= 2 else m.shape)
            if shape is None:
                raise Retry
            return self.bind(f"{a.name} @ {m.name}.mT" if len(m.shape) >= 2 else f"{a.name} @ {m.name}", shape)
        if c == 1:  # einsum
            a = self.pick(lambda v: len(v.shape) >= 1)
            bs = [v for v in self.vars.values() if v.shape and v.shape[-1] == a.shape[-1]]
            b = r.choice(bs)
            if len(a.shape) == 2 and len(b.shape) == 2:
                return self.bind(f"torch.einsum('ij,kj->ik', {a.name}, {b.name})", (a.shape[0], b.shape[0]))
            if len(a.shape) == 1 and len(b.shape) == 1:
                return self.bind(f"torch.einsum('i,i->', {a.name}, {b.name})", ())
            shape = broadcast(a.shape[:-1], b.shape[:-1])
            if shape is None:
                raise Retry
            return self.bind(f"torch.einsum('...i,...i->...', {a.name}, {b.name})", shape)
        if c == 2:  # a square matrix made well conditioned, then det / inv / solve / slogdet
            a = self.pick(lambda v: len(v.shape) >= 2)
            m = a.shape[-2]
            S = self.bind(f"{a.name} @ {a.name}.mT + {m} * torch.eye({m})"
                          if r.random() < 0.6 else f"torch.eye({m}) * 2 + 0.3 * {a.name} @ {a.name}.transpose(-1, -2)",
                          a.shape[:-1] + (m,))
            f = r.randrange(5)
            if f == 0:
                return self.bind(f"torch.linalg.det({S.name})", S.shape[:-2])
            if f == 1:
                return self.bind(r.choice([f"torch.linalg.inv({S.name})", f"{S.name}.inverse()"]), S.shape)
            if f == 2:
                rhs = [v for v in self.vars.values() if v.shape[-1:] == (m,) and
                       broadcast(v.shape[:-1], S.shape[:-2]) is not None and len(v.shape) <= len(S.shape) - 1]
                if not rhs:
                    raise Retry
                bvec = r.choice(rhs)
                return self.bind(f"torch.linalg.solve({S.name}, {bvec.name})",
                                 broadcast(bvec.shape[:-1], S.shape[:-2]) + (m,))
            if f == 3:
                return self.bind(f"torch.linalg.slogdet({S.name})[1]", S.shape[:-2])
            return self.bind(f"torch.logdet({S.name})", S.shape[:-2])
        if c == 3:
            a = self.pick(lambda v: len(v.shape) >= 1)
            d = self.dim(a)
            return self.bind(f"torch.linalg.norm({a.name}, dim={d})",
                             tuple(s for i, s in enumerate(a.shape) if i != d % len(a.shape)))
        if c == 4:
            a = self.pick(lambda v: len(v.shape) == 2)
            return self.bind(r.choice([f"torch.linalg.norm({a.name}, ord='fro')", f"torch.linalg.matrix_norm({a.name})",
                                       f"torch.linalg.norm({a.name}, ord=1)", f"torch.trace({a.name} @ {a.name}.T)"]), ())
        a = self.pick(lambda v: len(v.shape) == 1)
        b = self.pick(lambda v: len(v.shape) == 1)
        return self.bind(r.choice([f"torch.outer({a.name}, {b.name})", f"torch.ger({a.name}, {b.name})"]),
                         (a.shape[0], b.shape[0]))

    def s_control(self):
        r = self.r
        c = r.randrange(6)
        a = self.pick()
        name = self.fresh()
        if c == 0:
            k = r.randint(1, 3)
            self.lines += [f"{name} = {a.name}.clone()" if r.random() < 0.5 else f"{name} = torch.zeros_like({a.name})",
                           f"for i in range({k}):",
                           f"    {name} = {name} * 0.5 + {r.choice(UNARY).format(a=a.name)}"]
            self.vars[name] = Var(name, a.shape)
            return self.vars[name]
        if c == 1 and a.shape:
            self.lines += [f"{name} = torch.zeros({', '.join(map(str, a.shape[1:]))}{',' if len(a.shape) == 2 else ''})"
                           if len(a.shape) > 1 else f"{name} = torch.tensor(0.0)",
                           f"for i in range({a.name}.shape[0]):",
                           f"    {name} = {name} + {a.name}[i] * (i + 1)"]
            self.vars[name] = Var(name, a.shape[1:])
            return self.vars[name]
        if c == 2 and a.shape:  # write rows of a fresh buffer in a loop
            self.lines += [f"{name} = torch.empty_like({a.name})" if r.random() < 0.5 else
                           f"{name} = torch.zeros({list(a.shape)})",
                           f"for i in range({a.shape[0]}):",
                           f"    {name}[i] = {r.choice(['torch.sin', 'torch.tanh', 'F.relu'])}({a.name}[i]) * i"]
            self.vars[name] = Var(name, a.shape)
            return self.vars[name]
        if c == 3:  # if on shapes: the branch taken is known
            test = r.choice([f"{a.name}.dim() >= 2", f"{a.name}.shape[-1] > 2" if a.shape else f"{a.name}.dim() == 0",
                             f"{a.name}.numel() > 6", f"len({a.name}.shape) == 1"])
            red_true = r.choice([f"{a.name} * 2", f"torch.tanh({a.name})", f"{a.name}.exp()"])
            red_false = r.choice([f"{a.name} - 1", f"{a.name}.abs()", f"F.relu({a.name})"])
            self.lines += [f"if {test}:", f"    {name} = {red_true}", "else:", f"    {name} = {red_false}"]
            self.vars[name] = Var(name, a.shape)
            return self.vars[name]
        if c == 4:
            k = r.randint(1, 3)
            self.lines += [f"{name} = {a.name}", "k = 0", f"while k < {k}:", f"    {name} = {name} + torch.cos({name})",
                           "    k += 1"]
            self.vars[name] = Var(name, a.shape)
            return self.vars[name]
        if c == 5 and a.shape and a.shape[0] <= 4:
            self.lines.append(f"{name} = " + r.choice([f"sum({a.name}[i] ** 2 for i in range({a.name}.shape[0]))",
                                                        f"torch.stack([{a.name}[i] * i for i in range(len({a.name}))])",
                                                        f"torch.cat([{a.name}[i:i + 1].exp() for i in range({a.shape[0]})])"]))
            shape = a.shape[1:] if "sum(" in self.lines[-1] else a.shape
            self.vars[name] = Var(name, shape)
            return self.vars[name]
        raise Retry

    def s_views(self):
        """Containers of views and in-place methods on views that are not named: ``rows = list(t);
        rows[0].mul_(2)``, ``t[0].add_(1)``, ``t[:, 1:].clamp_(min=0)``, ``d = {'a': t}``, ``torch.relu_(t)``."""
        r = self.r
        t = self.pick(lambda v: not v.leafy and len(v.shape) >= 1)
        s = t.shape
        c = r.randrange(6)
        meth = r.choice(["mul_(2)", "add_(1)", "clamp_(min=0)", "zero_()", "sigmoid_()", "neg_()", "exp_()"])
        if c == 0:
            rows = self.fresh()
            self.lines.append(r.choice([f"{rows} = list({t.name})", f"{rows} = [r for r in {t.name}]",
                                        f"{rows} = list({t.name}.unbind(0))", f"{rows} = [{t.name} * 1, {t.name}]"]))
            i = r.randrange(-s[0], s[0]) if "* 1" not in self.lines[-1] else r.randrange(2)
            self.lines.append(f"{rows}[{i}].{meth}")
            out = self.fresh()
            self.lines.append(f"{out} = {rows}[{i}]")
            self.vars[out] = Var(out, s if "* 1" in self.lines[-2] else s[1:])
            self.written.append(t.name)
            return self.vars[out]
        if c == 1:
            idx = r.choice([f"{r.randrange(-s[0], s[0])}", "1:", ":1", "..."] +
                           ([":, 0", ":, -1:", "0, 1:"] if len(s) >= 2 and s[1] >= 2 else []))
            self.lines.append(f"{t.name}[{idx}].{meth}")
        elif c == 2:
            self.lines.append(r.choice([f"torch.relu_({t.name})", f"F.relu_({t.name})", f"torch.sigmoid_({t.name})",
                                        f"torch.clamp_({t.name}, min=-0.3)", f"F.hardtanh_({t.name})",
                                        f"torch.exp_({t.name})"]))
        elif c == 3:
            d = self.fresh()
            self.lines += [f"{d} = {{'a': {t.name}, 'b': {t.name} * 2}}", f"{d}['{r.choice('ab')}'] += 1"]
            out = self.fresh()
            self.lines.append(f"{out} = {d}['a'] + {d}['b']")
            self.vars[out] = Var(out, s)
            return self.vars[out]
        elif c == 4:
            self.lines.append(r.choice([f"{t.name}.view(-1)[0:1].{meth}", f"{t.name}.T.{meth}",
                                        f"{t.name}.detach().{meth}", f"{t.name}.data.{meth}",
                                        f"{t.name}.unsqueeze(0).{meth}", f"{t.name}.flatten().{meth}"]))
        else:
            self.lines += ["with torch.no_grad():", f"    {t.name}.{meth}"]
        self.written.append(t.name)
        return t

    def s_func(self):
        """A function of the text's own: a pure one, one that writes into its argument (the caller's tensor), one
        with a default and a keyword, a closure over a drawn name."""
        r = self.r
        a = self.pick()
        g = self.fresh().replace("t", "g")
        c = r.randrange(4)
        if c == 0:
            body = [f"def {g}(v, k=2.0):", f"    return {r.choice(UNARY).format(a='v')} * k"]
            call = f"{g}({a.name}, k={r.choice(['0.5', '3.0'])})" if r.random() < 0.5 else f"{g}({a.name})"
        elif c == 1 and not a.leafy:
            body = [f"def {g}(v):", f"    v.{r.choice(['mul_(2)', 'add_(1)', 'tanh_()'])}", "    return v"]
            call = f"{g}({a.name})"
            self.written.append(a.name)
        elif c == 2:
            other = self.pick()
            body = [f"def {g}(v):", f"    return v * {other.name}.sum() + 1"]
            call = f"{g}({a.name})"
        else:
            body = [f"def {g}(v):", "    if v.dim() > 1:", "        return v.sum(-1)", "    return v * 2"]
            call = f"{g}({a.name})"
            self.lines += body
            return self.bind(call, a.shape[:-1] if len(a.shape) > 1 else a.shape)
        self.lines += body
        return self.bind(call, a.shape)

    def s_select(self):
        """sort / topk / gather / index_select / take_along_dim / F.pad / F.linear / dropout in eval."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        d = self.dim(a)
        n = a.shape[d]
        c = r.randrange(8)
        if c == 0:
            return self.bind(r.choice([f"torch.sort({a.name}, dim={d}, stable=True).values",
                                       f"{a.name}.sort(dim={d}, descending=True, stable=True)[0]"]), a.shape)
        if c == 1:
            k = r.randint(1, n)
            new = list(a.shape)
            new[d] = k
            return self.bind(f"torch.topk({a.name}, {k}, dim={d}).values", new)
        if c == 2:
            k = r.randint(1, 3)
            idx = [r.randrange(-n, n) for _ in range(k)]
            new = list(a.shape)
            new[d] = k
            return self.bind(f"torch.index_select({a.name}, {d}, torch.tensor({[i % n for i in idx]}))", new)
        if c == 3:
            idx = np.random.default_rng(r.randrange(10 ** 6)).integers(0, n, a.shape).tolist()
            return self.bind(r.choice([f"torch.gather({a.name}, {d}, torch.tensor({idx}))",
                                       f"{a.name}.gather({d}, torch.tensor({idx}))",
                                       f"torch.take_along_dim({a.name}, torch.tensor({idx}), dim={d})"]), a.shape)
        if c == 4:
            p = (r.randint(0, 2), r.randint(0, 2))
            new = a.shape[:-1] + (a.shape[-1] + sum(p),)
            return self.bind(f"F.pad({a.name}, {p}, value={r.choice(['0.0', '1.5'])})", new)
        if c == 5:
            k = a.shape[-1]
            m = r.randint(1, 3)
            W = np.round(np.random.default_rng(r.randrange(10 ** 6)).uniform(-1, 1, (m, k)), 2).tolist()
            return self.bind(f"F.linear({a.name}, torch.tensor({W}))", a.shape[:-1] + (m,))
        if c == 6:
            return self.bind(f"F.dropout({a.name}, 0.5, training=False)", a.shape)
        if n >= 2 and r.random() < 0.5:
            return self.bind(f"torch.diff({a.name}, dim={d})",
                             tuple(m - 1 if i == d % len(a.shape) else m for i, m in enumerate(a.shape)))
        return self.bind(r.choice([f"torch.flip({a.name}, [{d}])", f"{a.name}.roll(-1, {d})"]), a.shape)

    STATEMENTS = [("s_unary", 3), ("s_binary", 4), ("s_reduce", 3), ("s_shape", 4), ("s_split", 2),
                  ("s_index", 3), ("s_inplace", 5), ("s_linalg", 2), ("s_control", 2), ("s_stackcat", 1),
                  ("s_views", 2), ("s_func", 1), ("s_select", 2)]

    def draw(self):
        r = self.r
        # the first statement makes a non-leaf of an input (so in-place ops have something to write into)
        x = self.vars["x"]
        first = r.choice(["{a} * 1.0", "{a}.clone()", "torch.sin({a})", "{a} + 0", "{a}.exp()", "{a} * 2"])
        self.bind(first.format(a=x.name), x.shape)
        want = r.randint(2, 6)
        kinds, weights = zip(*self.STATEMENTS)
        tries = 0
        while len(self.lines) < want + 1 and tries < 60:
            tries += 1
            kind = r.choices(kinds, weights)[0]
            keep = (list(self.lines), dict(self.vars), self.count, list(self.written))
            try:
                getattr(self, kind)()
            except (Retry, IndexError, ValueError):
                self.lines, self.vars, self.count, self.written = keep
        self.lines.append(self.output())
        return "\n".join(self.lines)

    def output(self) -> str:
        r = self.r
        made = [v for v in self.vars.values() if not v.name in self.inputs]
        pool = [self.vars[n] for n in self.written if n in self.vars] + made[-3:]
        bases = [self.vars[v.view_of] for v in pool if v.view_of in self.vars]
        choice = r.choice(pool + bases) if r.random() < 0.85 else r.choice(list(self.vars.values()))
        if r.random() < 0.15 and len(made) >= 2:
            other = r.choice([v for v in made if v.name != choice.name] or made)
            return f"{choice.name}, {other.name}"
        if r.random() < 0.2:
            return f"{choice.name}.sum()"
        return choice.name


class Retry(Exception):
    pass


def factor(r, n):
    """A random shape of n elements (0 to 3 dims)."""
    if n == 0:  # an empty value (a slice past the end): the loop below would never end
        return r.choice([(0,), (0, 2), (2, 0)])
    if n == 1:
        return r.choice([(), (1,), (1, 1)])
    dims = []
    rest = n
    for p in (2, 3, 5, 7):
        while rest % p == 0:
            dims.append(p)
            rest //= p
    if rest > 1:
        dims.append(rest)
    r.shuffle(dims)
    k = r.randint(1, min(3, len(dims)))
    out = [1] * k
    for i, d in enumerate(dims):
        out[i % k if i < k else r.randrange(k)] *= d
    if r.random() < 0.2:
        out.insert(r.randrange(len(out) + 1), 1)
    return tuple(out)


def matmul_shape(a, b):
    if not a or not b:
        return None
    if len(a) == 1 and len(b) == 1:
        return () if a == b else None
    if len(a) == 1:
        return b[:-2] + b[-1:] if b[-2] == a[0] else None
    if len(b) == 1:
        return a[:-1] if a[-1] == b[0] else None
    if a[-1] != b[-2]:
        return None
    batch = broadcast(a[:-2], b[:-2])
    return None if batch is None else batch + (a[-2], b[-1])


# --- running --------------------------------------------------------------------------------------------

def draw(seed: int) -> tuple:
    """(program text, inputs) of seed ``seed``: inputs N(0, 1) of the drawn shapes."""
    p = Program(random.Random(seed))
    text = p.draw()
    rng = np.random.default_rng(seed)
    return text, {n: rng.standard_normal(s) for n, s in p.inputs.items()}


def used(text: str, inputs: dict) -> dict:
    try:
        names = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return dict(inputs)
    return {k: v for k, v in inputs.items() if k in names}


def run_torch(text: str, inputs: dict):
    """(outputs, Jacobians per output per input) by PyTorch, float64, or raises what PyTorch raises."""
    import torch

    torch.set_default_dtype(torch.float64)
    tree = ast.parse(text)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<program>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<program>", "eval")
    names = list(inputs)

    def f(*xs):
        ns = {"torch": torch, "F": torch.nn.functional}
        ns.update(zip(names, xs))
        exec(body, ns)  # noqa: S102 - the fuzz's own programs
        out = eval(last, ns)  # noqa: S307
        outs = out if isinstance(out, tuple) else (out,)
        if not all(isinstance(o, torch.Tensor) and o.is_floating_point() for o in outs):
            raise TypeError("not a float tensor")
        return outs

    args = tuple(torch.tensor(v) for v in inputs.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = f(*[a.clone().requires_grad_(True) for a in args])
        if not args:
            return tuple(o.detach().numpy() for o in outs), tuple(() for _ in outs)
        leaves = [a.clone().requires_grad_(True) for a in args]
        rows = []
        for o in f(*leaves):  # torch.autograd.functional.jacobian's loop, which refuses an empty output
            flat = o.reshape(-1)
            cols = [np.zeros((flat.numel(),) + tuple(a.shape)) for a in args]
            for i in range(flat.numel() if flat.requires_grad else 0):
                grads = torch.autograd.grad(flat[i], leaves, retain_graph=True, allow_unused=True)
                for c, g in zip(cols, grads):
                    if g is not None:
                        c[i] = g.numpy()
            rows.append(tuple(c.reshape(tuple(o.shape) + tuple(a.shape)) for c, a in zip(cols, args)))
    return tuple(o.detach().numpy() for o in outs), tuple(rows)


def run_jac(text: str, inputs: dict):
    from jacobi_cli.tools import api

    value = api.evaluate(text, inputs)
    values = value if isinstance(value, tuple) else (value,)
    if not inputs:
        return values, tuple(() for _ in values)
    J = api.jacobian(text, inputs)
    if isinstance(value, tuple):
        return values, tuple(tuple(np.asarray(J[o][n]) for n in inputs) for o in J)
    return values, (tuple(np.asarray(J[n]) for n in inputs),)


def classify(text: str, inputs: dict) -> tuple:
    """(status, detail): AGREE, BOTH-RAISE, JAC-REFUSES, JAC-ANSWERS-WHERE-TORCH-RAISES, WRONG or CRASH."""
    from jacobi_cli.errors import JacError

    inputs = used(text, inputs)
    try:
        touts, tjacs = run_torch(text, inputs)
        terr = None
    except Exception as e:  # noqa: BLE001 - what the fuzz compares
        terr = f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
    try:
        ours, jacs = run_jac(text, inputs)
    except JacError as e:
        return ("BOTH-RAISE", terr) if terr else ("JAC-REFUSES", str(e).splitlines()[0])
    except Timeout:
        return "CRASH", "timeout"
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"
    if terr:
        return "JAC-ANSWERS-WHERE-TORCH-RAISES", terr
    if len(ours) != len(touts):
        return "WRONG", f"{len(ours)} outputs vs torch {len(touts)}"
    for k, (o, t) in enumerate(zip(ours, touts)):
        why = differ(o, t, None, "float64")
        if why:
            return "WRONG", f"value {k}: {why}"
        for n, j, tj in zip(inputs, jacs[k], tjacs[k]):
            why = differ(j, tj, None, "float64", derivative=True)
            if why:
                return "WRONG", f"d(output {k})/d{n}: {why}"
    return "AGREE", ""


def checked(text, inputs):
    return with_timeout(classify, text, inputs)


# --- shrinking ------------------------------------------------------------------------------------------

def candidates(text: str):
    """Smaller programs: a statement dropped (at any depth), a compound statement replaced by its body, or a
    sub-expression replaced by one of its operands."""
    tree = ast.parse(text)
    stmts = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    for k in range(len(stmts)):
        t2 = copy.deepcopy(tree)
        target = [n for n in ast.walk(t2) if isinstance(n, ast.stmt)][k]
        for parent in ast.walk(t2):
            for field in ("body", "orelse"):
                seq = getattr(parent, field, None)
                if isinstance(seq, list) and target in seq:
                    i = seq.index(target)
                    inner = getattr(target, "body", None) if isinstance(target, (ast.For, ast.If, ast.While)) else None
                    if inner is not None:
                        yield ast.unparse(_with(t2, seq, i, inner))
                        t2 = copy.deepcopy(tree)
                        target = [n for n in ast.walk(t2) if isinstance(n, ast.stmt)][k]
                        seq = [getattr(p, field) for p in ast.walk(t2) if target in (getattr(p, field, None) or [])][0]
                    if len(seq) > 1 and not (parent is t2 and i == len(seq) - 1):
                        del seq[i]
                        yield ast.unparse(t2)
                    break
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.expr)]
    for idx, node in enumerate(nodes):
        kids = []
        if isinstance(node, ast.Call):
            kids = list(node.args) + [k.value for k in node.keywords]
            if isinstance(node.func, ast.Attribute) and not _module(node.func.value):
                kids.append(node.func.value)
        elif isinstance(node, ast.BinOp):
            kids = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            kids = [node.operand]
        elif isinstance(node, ast.Attribute) and not _module(node.value):
            kids = [node.value]
        for kid in kids:
            if kid not in nodes:
                continue
            t2 = copy.deepcopy(tree)
            n2 = [n for n in ast.walk(t2) if isinstance(n, ast.expr)]
            if _replace(t2, n2[idx], n2[nodes.index(kid)]):
                yield ast.unparse(t2)


def _with(tree, seq, i, inner):
    seq[i:i + 1] = inner
    return tree


def _module(node) -> bool:
    return isinstance(node, ast.Name) and node.id in ("torch", "F") or \
        isinstance(node, ast.Attribute) and _module(node.value)


def _replace(tree, target, new) -> bool:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
                return True
            if isinstance(value, list) and any(v is target for v in value):
                value[[id(v) for v in value].index(id(target))] = new
                return True
    return False


def _kept(status: str, detail: str):
    """What a smaller program must keep: the status, and for a crash or a PyTorch error the message's start."""
    return status if status in ("WRONG", "AGREE") else (status, detail[:40])


def shrink(text: str, inputs: dict, status: tuple, budget: int = 250) -> str:
    tries, progress = 0, True
    while progress and tries < budget:
        progress = False
        for cand in candidates(text):
            tries += 1
            if tries > budget:
                break
            if len(cand) >= len(text):
                continue
            if _kept(*checked(cand, inputs)) == status:
                text, progress = cand, True
                break
    return text


# --- the run --------------------------------------------------------------------------------------------

def reason(message: str) -> str:
    """A refusal's message with the drawn names and numbers taken out, so that one reason counts once."""
    text = re.sub(r"\b[tgd]\d+\b", "t", message)
    text = re.sub(r"'[^']*'", "'..'", text)
    return re.sub(r"[0-9]+", "N", text)[:110]


STATUSES = ("AGREE", "BOTH-RAISE", "JAC-REFUSES", "JAC-ANSWERS-WHERE-TORCH-RAISES", "WRONG", "CRASH")


def worker(args) -> dict:
    seed, first, n, do_shrink = args
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    counts, refused, terrors, found = Counter(), Counter(), Counter(), []
    for k in range(first, first + n):
        text, inputs = draw(seed * 1_000_003 + k)
        status, detail = checked(text, inputs)
        counts[status] += 1
        if status == "JAC-REFUSES":
            refused[reason(detail)] += 1
        elif status == "JAC-ANSWERS-WHERE-TORCH-RAISES":
            terrors[detail[:90]] += 1
        if status in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-TORCH-RAISES"):
            small = shrink(text, inputs, _kept(status, detail)) if do_shrink else text
            found.append({"seed": seed * 1_000_003 + k, "program": text, "small": small, "status": status,
                          "detail": checked(small, inputs)[1],
                          "inputs": {n: v.tolist() for n, v in used(small, inputs).items()}})
    return {"counts": counts, "refused": refused, "terrors": terrors, "found": found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=37)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--show", type=int, default=25, help="refusal reasons listed")
    ap.add_argument("--print", action="store_true", help="print the programs drawn and stop")
    a = ap.parse_args()
    if a.print:
        for k in range(a.n):
            text, inputs = draw(a.seed * 1_000_003 + k)
            print(f"# {k}: " + ", ".join(f"{n}{list(v.shape)}" for n, v in inputs.items()) + "\n" + text + "\n")
        return 0
    start = time.monotonic()
    per, first = [], 0
    for j in range(a.jobs):
        n = a.n // a.jobs + (j < a.n % a.jobs)
        per.append((a.seed, first, n, not a.no_shrink))
        first += n
    merged = run_workers(worker, per)
    counts = merged["counts"]
    seen = set()
    for f in merged["found"]:
        if (f["status"], f["small"]) in seen:
            continue
        seen.add((f["status"], f["small"]))
        small = f["small"].replace("\n", "\n           ")
        print(f"{f['status']} [seed {f['seed']}] {f['detail']}\n  minimal: {small}\n  inputs:  {f['inputs']}")
    print(f"\ntop JAC-REFUSES reasons ({counts['JAC-REFUSES']}):")
    for msg, c in merged["refused"].most_common(a.show):
        print(f"  {c:6d}  {msg}")
    print(f"top JAC-ANSWERS-WHERE-TORCH-RAISES ({counts['JAC-ANSWERS-WHERE-TORCH-RAISES']}):")
    for msg, c in merged["terrors"].most_common(10):
        print(f"  {c:6d}  {msg}")
    print(f"\n{a.n} programs (seed {a.seed}, {time.monotonic() - start:.0f} s): "
          + ", ".join(f"{k} {counts[k]}" for k in STATUSES))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
