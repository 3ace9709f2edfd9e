"""A differential fuzz: random programs in PyTorch spelling, run by PyTorch and by jac, compared.

    PYTHONPATH=. python benchmarks/torch_fuzz.py [--n 2000] [--seed 0] [--dtype float64|float32]
                                                 [--jobs 1] [--no-shrink] [--show 20]

Each program is drawn from a grammar of ``torch.*`` functions, tensor methods, operators (``@ ** // %``,
comparisons, ``& | ^ ~``), indexing (integers, slices, ``None``, ``...``, integer lists, boolean masks),
keyword arguments (``dim=``, ``keepdim=``, ``unbiased=``, ``correction=``, ``descending=``), broadcasting,
integer and boolean tensors, 0-d tensors, (values, indices) results, method chains and several statements
(assignments, tuple unpacking, ``+=``, ``t[i] = v``), with shapes tracked so that most are well-typed.
PyTorch runs it with ``exec`` (default dtype set to the run's dtype, so ``torch.tensor(0.1)`` means the same
number in both; jac computes in one dtype, docs/vocabulary-elementwise.md) and
``torch.autograd.functional.jacobian`` by every input; jac runs it through its Python API
(``evaluate``, ``jacobian``). Each program is one of

- ``match``: value (shape, NaN positions, numbers) and every Jacobian agree;
- ``refused``: jac raises a JacError (fine: the top messages are listed);
- ``torch-error``: PyTorch raises (the program is not valid PyTorch: skipped);
- ``MISMATCH``: both answer and a value, a shape, a result kind (a boolean where PyTorch has numbers) or a
  Jacobian differs; printed with a reproduction shrunk by deleting statements and replacing a
  sub-expression by one of its arguments while it still mismatches;
- ``zero-sign``: everything agrees but the sign of a zero in a value (float64): PyTorch's kernels make -0 and
  +0 their own ways (which of -0 and +0 a max, a sort or a clamp picks when they tie; a shrunk reproduction
  that no longer names torch is read as NumPy, whose ``%`` gives a zero the divisor's sign); counted and the
  first five shown, not failed;
- ``pair``: the result is a bare ``(values, indices)`` (``torch.cummax(x, 0)``), a tuple that jac refuses as an
  output, asking for a part (DEVELOPERS.md: a ``Pair``): counted, not compared;
- ``CRASH``: jac raises anything but a JacError (or takes over 20 s).

An integer result of an integer cast of inf or NaN is not compared (PyTorch's is undefined: INT_MIN on x86).
``torch.argsort`` and ``torch.sort`` are drawn with ``stable=True`` (PyTorch's default order of ties is
unspecified).

float64: numbers agree to rtol 1e-9 (atol 1e-11 × the largest |value|). float32: jac's float32 answer must
be as close to PyTorch's float32 one as PyTorch's float32 answer is to its float64 answer (×10, + 1e-4
relative), so rounding that PyTorch itself shows is not reported. Exit 1 if any mismatch or crash.

``--second``: second derivatives. The program's last line ``y`` becomes ``torch.sin(y).sum()`` (so both y's
Jacobian and its second derivatives enter), and its Hessian by every pair of inputs
(``torch.autograd.functional.hessian``, jac's ``api.hessian``) is compared as the Jacobians are. A PyTorch op
without a double backward ("not implemented") is compared by value only.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fuzzkit  # noqa: E402
from fuzzkit import (P, Retry, T, Timeout, broadcast, bucket, differ, report, run_workers,  # noqa: E402
                     signed_zeros_differ, size, used_inputs, with_timeout)

INPUT_SHAPES = {"x": (4,), "y": (4,), "A": (3, 4), "B": (4, 4), "s": ()}
MAX_SIZE = fuzzkit.Grammar.max_size


# --- the grammar ---------------------------------------------------------------------------------------

UNARY = [  # (template, domain): "{}" is the argument, "{P}" the argument as a receiver
    "torch.sin({})", "torch.cos({})", "{P}.exp()", "torch.tanh({})", "torch.sigmoid({})", "{P}.sigmoid()",
    "torch.abs({})", "{P}.abs()", "F.relu({})", "F.gelu({})", "F.softplus({})", "F.silu({})", "F.elu({})",
    "F.leaky_relu({}, 0.1)", "torch.erf({})", "{P}.square()", "torch.atan({})", "torch.sinh({})",
    "torch.log({P}.abs() + 0.5)", "torch.sqrt({P}.abs() + 0.1)", "{P}.log1p()", "torch.log1p({P}.abs())",
    "torch.rsqrt({P}.abs() + 1)", "{P}.reciprocal()", "torch.clamp({}, -0.5, 0.5)", "{P}.clamp(min=0.1)",
    "{P}.clamp(max=0.2)", "torch.clamp({}, min=-1)", "torch.floor({})", "torch.ceil({})", "torch.round({})",
    "{P}.trunc()", "torch.frac({})", "torch.sign({})", "{P}.sgn()", "torch.neg({})", "-{P}",
    "F.hardtanh({})", "F.relu6({})", "F.hardswish({})", "torch.expm1({})", "torch.log2({P}.abs() + 1)",
    "torch.asinh({})", "torch.special.expit({})", "F.logsigmoid({})", "torch.nan_to_num({P}.log())",
    "{P}.pow(2)", "{P} ** 3", "{P}.abs() ** 0.5", "torch.pow({}, 2)", "2 ** {P}", "torch.exp2({})",
    "F.softsign({})", "F.mish({})", "torch.deg2rad({})", "torch.xlogy({}, {P}.abs() + 1)",
    "torch.heaviside({}, torch.tensor(0.5))", "torch.logit({P}.sigmoid())", "torch.sinc({})",
    "F.threshold({}, 0.1, -1.0)", "torch.fmod({}, 0.7)", "torch.remainder({}, 0.7)", "{P} % 0.7",
    "{P} // 0.3", "{P}.float_power(2)" , "F.celu({})", "F.selu({})", "torch.square({})",
    "{P}.detach()", "{P}.clone()", "{P}.contiguous()", "torch.positive({})",
]
SCALARS = ["2", "0.5", "-1.5", "3", "0.25", "1"]
BINOPS = ["+", "-", "*", "/", "**", "//", "%"]
BINFNS = ["torch.maximum({a}, {b})", "torch.minimum({a}, {b})", "torch.atan2({a}, {b})",
          "torch.hypot({a}, {b})", "torch.add({a}, {b}, alpha=2)", "torch.sub({a}, {b}, alpha=0.5)",
          "torch.mul({a}, {b})", "torch.div({a}, {b})", "torch.div({a}, {b}, rounding_mode='floor')",
          "torch.div({a}, {b}, rounding_mode='trunc')", "torch.fmod({a}, {b})", "torch.remainder({a}, {b})",
          "torch.copysign({a}, {b})", "torch.lerp({a}, {b}, 0.3)", "{Pa}.add({b})", "{Pa}.sub({b})",
          "{Pa}.mul({b})", "{Pa}.div({b})", "torch.fmax({a}, {b})", "torch.fmin({a}, {b})",
          "torch.true_divide({a}, {b})", "torch.addcmul({a}, {a}, {b}, value=0.5)", "torch.xlogy({a}, {b})",
          "torch.pow({Pa}.abs(), {b})", "torch.logaddexp({a}, {b})", "{Pa}.maximum({b})",
          "torch.where({a} > {b}, {a}, {b})", "torch.where({a} > 0, {b}, 0.0)", "{Pa}.clamp(min={b})",
          "torch.clamp({a}, max={b})", "torch.dist({a}, {b})", "F.mse_loss({a}, {b})",
          "F.l1_loss({a}, {b}, reduction='sum')", "F.smooth_l1_loss({a}, {b})", "F.huber_loss({a}, {b})"]
CMPS = ["<", "<=", ">", ">=", "==", "!="]


class Grammar(fuzzkit.Grammar):
    def __init__(self, rng: random.Random, dtype: str):
        super().__init__(rng, dtype, INPUT_SHAPES)

    # leaves ----------------------------------------------------------------------------------------
    def bool_leaf(self, a: T) -> T:
        return T(f"{P(a)} > {self.r.choice(['0', '0.3', '-0.2'])}", a.shape, "b", False)

    def int_leaf(self, a: T) -> T:
        return self.r.choice([T(f"{P(a)}.long()", a.shape, "i"), T(f"({P(a)} * 3).int()", a.shape, "i"),
                              T(f"torch.floor({P(a)} * 2).long()", a.shape, "i")])

    def const(self, shape) -> T:
        r = self.r
        base = self.env.get(next((n for n, t in INPUT_SHAPES.items() if t == shape), ""), None)
        c = r.randrange(6)
        if c == 0 or not shape:
            if not shape:
                return T(r.choice(["torch.tensor(0.75)", "torch.tensor(-1.25)", "torch.tensor(2.0)"]), ())
            vals = np.round(np.random.default_rng(r.randrange(10**6)).uniform(-2, 2, shape), 2).tolist()
            return T(f"torch.tensor({vals})", shape)
        if c == 1:
            return T(f"torch.ones({', '.join(map(str, shape))})", shape)
        if c == 2:
            return T(f"torch.full({shape!r}, {r.choice(['0.5', '-2.0', '0.1'])})", shape)
        if c == 3 and len(shape) == 1:
            code = r.choice([f"torch.arange({shape[0]}.0)", f"torch.linspace(-1, 1, {shape[0]})",
                             f"torch.arange({shape[0]}) * 0.5"])
            return T(code, shape, "f", "*" not in code)
        if c == 4 and base is not None:
            return T(r.choice([f"torch.zeros_like({base.code})", f"torch.ones_like({base.code})",
                               f"torch.full_like({base.code}, 0.3)"]), shape)
        return T(f"torch.eye({shape[-1]})" if len(shape) == 2 and shape[0] == shape[1] else
                 f"torch.ones({', '.join(map(str, shape))}) * 0.5", shape, "f", len(shape) == 2 and shape[0] == shape[1])

    # expressions ----------------------------------------------------------------------------------
    def k_f(self, depth: int) -> T:
        r = self.r
        c = r.choices(["unary", "scalar", "binop", "binfn", "reduce", "shape", "index", "matmul", "where",
                       "fromint", "frombool", "chain", "cat", "more"],
                      [10, 5, 10, 6, 9, 7, 7, 4, 3, 2, 2, 2, 2, 8])[0]
        if c == "unary":
            a = self.expr(depth - 1)
            tpl = r.choice(UNARY)
            code = tpl.replace("{P}", P(a)).replace("{}", a.code)
            return T(code, a.shape, "f", not (code.startswith("-") or " ** " in code or " % " in code
                                              or " // " in code))
        if c == "scalar":
            a = self.expr(depth - 1)
            op, k = r.choice(["+", "-", "*", "/", "**"]), r.choice(SCALARS)
            if op == "**":
                return T(f"{P(a)} ** {k}" if r.random() < 0.7 else f"{k} ** {P(a)}", a.shape, "f", False)
            return T(f"{P(a)} {op} {k}" if r.random() < 0.5 else f"{k} {op} {P(a)}", a.shape, "f", False)
        if c == "binop":
            a = self.expr(depth - 1)
            b = self.other(a, depth - 1)
            shape = broadcast(a.shape, b.shape)
            if shape is None:
                raise Retry
            op = r.choice(BINOPS)
            if op == "**":
                return T(f"{P(a)}.abs() ** {P(b)}", shape, "f", False)
            return T(f"{P(a)} {op} {P(b)}", shape, "f", False)
        if c == "binfn":
            a = self.expr(depth - 1)
            b = self.other(a, depth - 1)
            shape = broadcast(a.shape, b.shape)
            if shape is None:
                raise Retry
            tpl = r.choice(BINFNS)
            if any(w in tpl for w in ("dist", "loss")):
                if a.shape != b.shape:
                    raise Retry
                shape = ()
            return T(tpl.format(a=a.code, b=b.code, Pa=P(a)), shape)
        if c == "reduce":
            return self.reduce(self.expr(depth - 1))
        if c == "shape":
            return self.shape_op(self.expr(depth - 1))
        if c == "index":
            return self.index(self.expr(depth - 1))
        if c == "matmul":
            return self.matmul(depth)
        if c == "where":
            a = self.expr(depth - 1)
            m = self.other(a, depth - 1, "b")
            b = self.other(a, depth - 1)
            shape = broadcast(broadcast(a.shape, m.shape) or (9, 9, 9, 9), b.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"torch.where({m.code}, {a.code}, {b.code})", shape),
                             T(f"{P(a)}.masked_fill({m.code}, {r.choice(SCALARS)})", a.shape)
                             if broadcast(a.shape, m.shape) == a.shape else
                             T(f"torch.where({m.code}, {a.code}, 0.0)", broadcast(a.shape, m.shape))])
        if c == "fromint":
            i = self.expr(depth - 1, "i")
            a = self.other(i, depth - 1)
            shape = broadcast(i.shape, a.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"{P(i)} * {P(a)}", shape, "f", False), T(f"{P(i)} / 2", i.shape, "f", False),
                             T(f"{P(i)} + {P(a)}", shape, "f", False),
                             T(f"{P(i)}.{'double' if self.dtype == 'float64' else 'float'}()", i.shape),
                             T(f"{P(i)} * 1.0", i.shape, "f", False), T(f"{P(i)} / {P(a)}", shape, "f", False)])
        if c == "frombool":
            m = self.expr(depth - 1, "b")
            a = self.other(m, depth - 1)
            shape = broadcast(m.shape, a.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"{P(m)} * {P(a)}", shape, "f", False), T(f"{P(a)} * {P(m)}", shape, "f", False),
                             T(f"{P(m)}.{'double' if self.dtype == 'float64' else 'float'}()", m.shape),
                             T(f"{P(m)} + {P(a)}", shape, "f", False), T(f"{P(a)} - {P(m)}", shape, "f", False)])
        if c == "chain":
            a = self.expr(depth - 1)
            t = T(f"{P(a)}.reshape(-1)", (size(a.shape),))
            if len(a.shape) == 2 and r.random() < 0.5:
                t = T(f"{P(a)}.t().reshape(-1)", (size(a.shape),))
            return T(f"{t.code}.{r.choice(['cumsum', 'cumprod', 'softmax', 'log_softmax'])}(0)", t.shape)
        if c == "more":
            return self.more(self.expr(depth - 1), depth)
        if c == "cat":
            a = self.expr(depth - 1)
            b = self.leaf("f", a.shape) if r.random() < 0.5 else self.expr(depth - 1)
            if b.shape != a.shape:
                b = self.leaf("f", a.shape)
            if not a.shape or r.random() < 0.5:
                d = r.randrange(-len(a.shape) - 1, len(a.shape) + 1)
                dd = d if d >= 0 else d + len(a.shape) + 1
                shape = a.shape[:dd] + (2,) + a.shape[dd:]
                return T(f"torch.stack([{a.code}, {b.code}], {'dim=' if r.random() < 0.5 else ''}{d})", shape)
            d = self.dim(a)
            shape = list(a.shape)
            shape[d] *= 2
            return T(f"torch.{r.choice(['cat', 'concat', 'concatenate'])}(({a.code}, {b.code}), dim={d})", tuple(shape))
        raise Retry

    def more(self, a: T, depth: int) -> T:
        """Gathers, computed indices, tuple dims, splits, norms and padding."""
        r = self.r
        n = len(a.shape)
        if n == 0:
            raise Retry
        d = self.dim(a)
        c = r.randrange(16)
        if c == 0:
            i = self.expr(depth - 1)
            if not i.shape:
                raise Retry
            return T(f"{P(a)}[{P(i)}.{r.choice(['argmax', 'argmin'])}() % {a.shape[0]}]", a.shape[1:])
        if c == 1:
            idx = [r.randrange(a.shape[d]) for _ in range(r.randint(1, 3))]
            shape = list(a.shape)
            shape[d] = len(idx)
            return T(r.choice([f"torch.index_select({a.code}, {d}, torch.tensor({idx}))",
                               f"{P(a)}.index_select({d}, torch.tensor({idx}))"]), tuple(shape))
        if c == 2 and n >= 1:
            idx = np.random.default_rng(r.randrange(10**6)).integers(0, a.shape[d], a.shape).tolist()
            return T(f"torch.gather({a.code}, {d}, torch.tensor({idx}))", a.shape)
        if c == 3 and n == 2:
            dims = r.choice(["(0, 1)", "(-1, 0)", "[0, 1]"])
            return r.choice([T(f"{P(a)}.sum(dim={dims})", ()), T(f"{P(a)}.mean({dims}, keepdim=True)", (1, 1)),
                             T(f"torch.amax({a.code}, dim={dims})", ())])
        if c == 4:
            k = r.choice([2, 3])
            if a.shape[d] % k:
                raise Retry
            shape = list(a.shape)
            shape[d] //= k
            part = r.randrange(k)
            return T(r.choice([f"torch.chunk({a.code}, {k}, dim={d})[{part}]", f"{P(a)}.chunk({k}, {d})[{part}]",
                               f"torch.split({a.code}, {shape[d]}, dim={d})[{part}]"]), tuple(shape))
        if c == 5:
            return T(r.choice([f"F.normalize({a.code}, dim={d})", f"F.normalize({a.code}, p=1, dim={d})"]), a.shape)
        if c == 6:
            return T(f"F.layer_norm({a.code}, {a.shape[-1:]!r})", a.shape)
        if c == 7 and n <= 2:
            shape = a.shape[:-1] + (a.shape[-1] + 3,)
            return T(f"F.pad({a.code}, (1, 2){r.choice(['', ', value=0.5'])})", shape)
        if c == 8 and n == 2:
            return r.choice([T(f"torch.einsum('ij->ji', {a.code})", a.shape[::-1]),
                             T(f"torch.einsum('ij,ij->i', {a.code}, {a.code})", a.shape[:1]),
                             T(f"torch.einsum('ij->', {a.code})", ())])
        if c == 9:
            v, m = r.choice([("var_mean", 0), ("var_mean", 1), ("std_mean", 0), ("std_mean", 1)])
            if a.shape[d] < 2:
                raise Retry
            shape = tuple(s for i, s in enumerate(a.shape) if i != d % n)
            return T(f"torch.{v}({a.code}, dim={d}{r.choice(['', ', unbiased=False', ', correction=0'])})[{m}]",
                     shape)
        if c == 10:
            return T(f"{P(a)}.view_as({a.code})" if r.random() < 0.5 else f"{P(a)}.reshape_as({a.code})", a.shape)
        if c == 11:
            return T(f"{P(a)}.squeeze({d})" if a.shape[d] == 1 else f"{P(a)}.unsqueeze(0).squeeze(0)",
                     tuple(s for i, s in enumerate(a.shape) if i != d % n) if a.shape[d] == 1 else a.shape)
        if c == 12:
            b = self.other(a, depth - 1)
            lo = self.other(a, depth - 1)
            shape = broadcast(broadcast(a.shape, b.shape) or (9, 9, 9), lo.shape)
            if shape is None or shape != a.shape:
                raise Retry
            return T(f"torch.clamp({a.code}, min={lo.code}, max={P(lo)} + {P(b)}.abs())", a.shape)
        if c == 13 and n <= 2 and size(a.shape) * 2 <= MAX_SIZE:
            return T(f"torch.tile({a.code}, (2,))" if n == 1 else f"torch.tile({a.code}, (1, 2))",
                     (a.shape[0] * 2,) if n == 1 else (a.shape[0], a.shape[1] * 2))
        if c == 14 and size(a.shape) * 2 <= MAX_SIZE:
            shape = list(a.shape)
            shape[d] *= 2
            return T(f"torch.repeat_interleave({a.code}, 2, dim={d})", tuple(shape))
        if c == 15:
            return T(f"{P(a)}[{P(a)}.argsort(dim=0, stable=True)]" if n == 1 else f"{P(a)}[:, 0].sort(stable=True)[0]",
                     a.shape if n == 1 else a.shape[:1])
        raise Retry

    def reduce(self, a: T) -> T:
        r = self.r
        n = len(a.shape)
        name = r.choice(["sum", "mean", "prod", "amax", "amin", "std", "var", "logsumexp", "norm", "max", "min",
                         "cumsum", "cumprod", "softmax", "log_softmax", "sort", "median", "topk", "nansum",
                         "cummax", "logcumsumexp", "diff", "kthvalue"])
        if n == 0:
            if name in ("sum", "mean", "prod", "amax", "max", "min", "norm"):
                return T(r.choice([f"{P(a)}.{name}()", f"torch.{name}({a.code})"]), ())
            raise Retry
        d = self.dim(a)
        keep = r.random() < 0.3
        kshape = tuple(1 if i == d % n else s for i, s in enumerate(a.shape)) if keep else \
            tuple(s for i, s in enumerate(a.shape) if i != d % n)
        kw = ", keepdim=True" if keep else r.choice(["", ", keepdim=False"])
        dimkw = r.choice([f"{d}", f"dim={d}"])
        if name in ("sum", "mean", "prod", "amax", "amin", "nansum"):
            if r.random() < 0.3 and name != "prod":
                return T(f"{P(a)}.{name}()", ())
            return T(r.choice([f"{P(a)}.{name}({dimkw}{kw})", f"torch.{name}({a.code}, {dimkw}{kw})"]), kshape)
        if name in ("std", "var"):
            opt = r.choice(["", ", unbiased=False", ", correction=0", ", correction=1", ", unbiased=True"])
            if r.random() < 0.3:
                if size(a.shape) < 2:
                    raise Retry
                return T(f"{P(a)}.{name}({opt.lstrip(', ')})", ())
            if a.shape[d] < 2:
                raise Retry
            return T(f"torch.{name}({a.code}, dim={d}{opt}{kw})", kshape)
        if name == "logsumexp":
            return T(f"torch.logsumexp({a.code}, {dimkw}{kw})", kshape)
        if name == "norm":
            p = r.choice(["", ", p=1", ", p=2", ", p=float('inf')", ", p=3"])
            if r.random() < 0.3:
                return T(f"{P(a)}.norm({p.lstrip(', ')})", ())
            return T(f"torch.norm({a.code}{p}, dim={d}{kw})", kshape)
        if name in ("max", "min"):
            c = r.randrange(5)
            if c == 0:
                return T(f"{P(a)}.{name}()", ())
            if c == 1:
                return T(f"torch.{name}({a.code}, {d}{kw})[0]", kshape)
            if c == 2:
                return T(f"{P(a)}.{name}(dim={d}{kw}).values", kshape)
            if c == 3:
                return T(f"torch.{name}({a.code}, {d}{kw})[1]", kshape, "i")
            return T(f"{P(a)}.{name}({dimkw}{kw}).indices", kshape, "i")
        if name in ("cumsum", "cumprod", "logcumsumexp"):
            return T(r.choice([f"{P(a)}.{name}({dimkw})", f"torch.{name}({a.code}, {dimkw})"]), a.shape)
        if name == "cummax":
            return T(f"torch.cummax({a.code}, {d})[{r.choice('01')}]", a.shape)
        if name in ("softmax", "log_softmax"):
            return T(r.choice([f"{P(a)}.{name}({dimkw})", f"torch.{name}({a.code}, {dimkw})",
                               f"F.{name}({a.code}, dim={d})"]), a.shape)
        if name == "sort":
            desc = r.choice(["", ", descending=True", ", descending=False"]) + ", stable=True"
            part = r.choice(["[0]", ".values", "[1]", ".indices"])
            return T(f"torch.sort({a.code}, {dimkw}{desc}){part}", a.shape, "i" if part in ("[1]", ".indices") else "f")
        if name == "median":
            if r.random() < 0.5:
                return T(f"{P(a)}.median()", ())
            return T(f"torch.median({a.code}, {dimkw}{kw}){r.choice(['[0]', '.values'])}", kshape)
        if name == "topk":
            k = r.randint(1, a.shape[d])
            shape = list(a.shape)
            shape[d] = k
            return T(f"torch.topk({a.code}, {k}, dim={d}{r.choice(['', ', largest=False'])}){r.choice(['[0]', '.values'])}",
                     tuple(shape))
        if name == "diff":
            if a.shape[d] < 2:
                raise Retry
            shape = list(a.shape)
            shape[d] -= 1
            return T(f"torch.diff({a.code}, dim={d})", tuple(shape))
        if name == "kthvalue":
            k = r.randint(1, a.shape[d])
            return T(f"torch.kthvalue({a.code}, {k}, {d}{kw})[0]", kshape)
        raise Retry

    def shape_op(self, a: T) -> T:
        r = self.r
        n = len(a.shape)
        c = r.randrange(14)
        if c == 0:
            return T(f"{P(a)}.reshape(-1)", (size(a.shape),))
        if c == 1 and n == 2:
            return T(r.choice([f"{P(a)}.t()", f"{P(a)}.T", f"{P(a)}.transpose(0, 1)", f"{P(a)}.mT",
                               f"torch.transpose({a.code}, -1, -2)", f"{P(a)}.permute(1, 0)"]), a.shape[::-1])
        if c == 2:
            d = r.randrange(-n - 1, n + 1)
            dd = d if d >= 0 else d + n + 1
            return T(r.choice([f"{P(a)}.unsqueeze({d})", f"torch.unsqueeze({a.code}, {d})"]),
                     a.shape[:dd] + (1,) + a.shape[dd:])
        if c == 3:
            return T(f"{P(a)}.squeeze()", tuple(s for s in a.shape if s != 1))
        if c == 4 and n:
            d = self.dim(a)
            return T(r.choice([f"{P(a)}.flip({d})", f"torch.flip({a.code}, dims=({d},))", f"{P(a)}.flip(dims=[{d}])"]),
                     a.shape)
        if c == 5 and n:
            d = self.dim(a)
            return T(f"{P(a)}.roll({r.choice([1, -1, 2])}, {d})", a.shape)
        if c == 6 and n == 1 and a.shape[0] % 2 == 0:
            return r.choice([T(f"{P(a)}.reshape(2, -1)", (2, a.shape[0] // 2)),
                             T(f"{P(a)}.view(-1, 2)", (a.shape[0] // 2, 2))])
        if c == 7 and size(a.shape) * 2 <= MAX_SIZE:
            return T(f"{P(a)}.expand(2, {', '.join(['-1'] * n)})" if n else f"{P(a)}.expand(2)", (2,) + a.shape)
        if c == 8 and size(a.shape) * 2 <= MAX_SIZE and n:
            reps = [1] * n
            reps[r.randrange(n)] = 2
            return T(f"{P(a)}.repeat({', '.join(map(str, reps))})", tuple(s * k for s, k in zip(a.shape, reps)))
        if c == 9 and n == 2:
            return T(r.choice([f"torch.tril({a.code})", f"torch.triu({a.code}, 1)", f"{P(a)}.tril(-1)"]), a.shape)
        if c == 10 and n == 2 and a.shape[0] == a.shape[1]:
            return r.choice([T(f"torch.trace({a.code})", ()), T(f"{P(a)}.diagonal()", a.shape[:1]),
                             T(f"torch.diag({a.code})", a.shape[:1])])
        if c == 11 and n == 1:
            return T(r.choice([f"torch.diag({a.code})", f"torch.outer({a.code}, {a.code})"]), a.shape * 2) \
                if size(a.shape) ** 2 <= MAX_SIZE else T(f"{P(a)}.flip(0)", a.shape)
        if c == 12:
            return T(f"{P(a)}.flatten()", (size(a.shape),))
        if c == 13 and n == 2:
            return T(f"{P(a)}.sum(0, keepdim=True).expand_as({P(a)})", a.shape)
        raise Retry

    def index(self, a: T) -> T:
        r = self.r
        n = len(a.shape)
        if n == 0:
            return T(f"{P(a)}[None]", (1,)) if r.random() < 0.5 else T(f"{P(a)}[...]", ())
        c = r.randrange(10)
        s0 = a.shape[0]
        if c == 0:
            i = r.randrange(-s0, s0)
            return T(f"{P(a)}[{i}]", a.shape[1:])
        if c == 1:
            lo, step = r.choice([None, 1, -2, 0]), r.choice([None, 2, 3])
            sl = f"{'' if lo is None else lo}:{'' if step is None else ':' + str(step)}"
            length = len(range(s0)[slice(lo, None, step)])
            if length == 0:
                raise Retry
            return T(f"{P(a)}[{sl}]", (length,) + a.shape[1:])
        if c == 2 and n >= 2:
            j = r.randrange(-a.shape[1], a.shape[1])
            return T(r.choice([f"{P(a)}[:, {j}]", f"{P(a)}[..., {j}]"]) if n == 2 else f"{P(a)}[:, {j}]",
                     a.shape[:1] + a.shape[2:])
        if c == 3:
            return T(r.choice([f"{P(a)}[None]", f"{P(a)}[None, ...]"]), (1,) + a.shape)
        if c == 4:
            return T(f"{P(a)}[..., None]", a.shape + (1,))
        if c == 5:
            idx = [r.randrange(-s0, s0) for _ in range(r.randint(1, 4))]
            return T(f"{P(a)}[{idx}]", (len(idx),) + a.shape[1:])
        if c == 6:
            m = f"{P(a)} > {r.choice(['0', '0.2', '-0.3'])}" if r.random() < 0.7 else f"{P(a)}.abs() < 1"
            return T(f"{P(a)}[{m}]", (-1,))  # value-dependent length: kept 1-d, never broadcast
        if c == 7 and n == 2:
            return T(f"{P(a)}[1:, ::2]", (a.shape[0] - 1, (a.shape[1] + 1) // 2))
        if c == 8 and n >= 1:
            return T(f"{P(a)}[-1:]", (1,) + a.shape[1:])
        if c == 9 and n == 2:
            return T(f"{P(a)}[0, -1]", ())
        raise Retry

    def matmul(self, depth: int) -> T:
        r = self.r
        a = self.expr(depth - 1)
        if len(a.shape) not in (1, 2):
            raise Retry
        k = a.shape[-1]
        want = r.choice([(k,), (k, 3), (k, 4), (k, 2)])
        b = self.expr(depth - 1)
        if b.shape != want:
            b = self.leaf("f", want)
        shape = a.shape[:-1] + b.shape[1:]
        if len(a.shape) == 1 and len(b.shape) == 1:
            return T(r.choice([f"{P(a)} @ {P(b)}", f"torch.dot({a.code}, {b.code})", f"torch.inner({a.code}, {b.code})",
                               f"{P(a)}.dot({b.code})"]), (), "f", False)
        spell = [f"{P(a)} @ {P(b)}", f"torch.matmul({a.code}, {b.code})", f"{P(a)}.matmul({b.code})"]
        if len(a.shape) == 2 and len(b.shape) == 2:
            spell += [f"torch.mm({a.code}, {b.code})", f"{P(a)}.mm({b.code})"]
        if len(a.shape) == 2 and len(b.shape) == 1:
            spell += [f"torch.mv({a.code}, {b.code})", f"{P(a)}.mv({b.code})"]
        code = r.choice(spell)
        return T(code, shape, "f", "@" not in code)

    def k_i(self, depth: int) -> T:
        r = self.r
        c = r.randrange(9)
        if c == 0:
            a = self.expr(depth - 1)
            return T(r.choice([f"{P(a)}.long()", f"{P(a)}.int()", f"{P(a)}.to(torch.int64)",
                               f"torch.round({a.code} * 2).long()"]), a.shape, "i")
        if c == 1:
            a = self.expr(depth - 1)
            if not a.shape:
                raise Retry
            if r.random() < 0.3:
                return T(f"{P(a)}.{r.choice(['argmax', 'argmin'])}()", (), "i")
            d = self.dim(a)
            n = len(a.shape)
            return T(f"torch.{r.choice(['argmax', 'argmin'])}({a.code}, dim={d})",
                     tuple(s for i, s in enumerate(a.shape) if i != d % n), "i")
        if c == 2:
            i = self.expr(depth - 1, "i")
            j = self.other(i, depth - 1, "i")
            shape = broadcast(i.shape, j.shape)
            if shape is None:
                raise Retry
            op = r.choice(["+", "-", "*", "//", "%"])
            return T(f"{P(i)} {op} {P(j)}", shape, "i", False)
        if c == 3:
            i = self.expr(depth - 1, "i")
            op, k = r.choice(["+", "-", "*", "//", "%"]), r.choice(["2", "3", "-2"])
            return T(f"{P(i)} {op} {k}" if r.random() < 0.7 else f"{k} {op} {P(i)}", i.shape, "i", False)
        if c == 4:
            m = self.expr(depth - 1, "b")
            if not m.shape or r.random() < 0.4:
                return r.choice([T(f"{P(m)}.sum()", (), "i"), T(f"{P(m)}.long()", m.shape, "i"),
                              T(f"{P(m)} + 0", m.shape, "i", False), T(f"{P(m)} * 2", m.shape, "i", False)])
            d = self.dim(m)
            return T(f"{P(m)}.sum({d})", tuple(s for k, s in enumerate(m.shape) if k != d % len(m.shape)), "i")
        if c == 5:
            n = r.choice([3, 4])
            return T(f"torch.arange({n})", (n,), "i")
        if c == 6:
            i = self.expr(depth - 1, "i")
            return r.choice([T(f"{P(i)}.abs()", i.shape, "i"), T(f"-{P(i)}", i.shape, "i", False),
                             T(f"torch.clamp({i.code}, 0, 2)", i.shape, "i"),
                             T(f"{P(i)}.cumsum(0)" if i.shape else f"{P(i)}.abs()", i.shape, "i")])
        if c == 7:
            a = self.expr(depth - 1)
            if not a.shape:
                raise Retry
            d = self.dim(a)
            return T(f"torch.argsort({a.code}, dim={d}, stable=True{r.choice(['', ', descending=True'])})", a.shape, "i")
        if c == 8:
            a = self.expr(depth - 1)
            if not a.shape:
                raise Retry
            return T(f"torch.count_nonzero({P(a)} > 0)", (), "i")
        raise Retry

    def k_b(self, depth: int) -> T:
        r = self.r
        c = r.randrange(7)
        if c == 0:
            a = self.expr(depth - 1)
            b = self.other(a, depth - 1) if r.random() < 0.5 else T(r.choice(["0", "0.5", "-0.25"]), ())
            shape = broadcast(a.shape, b.shape)
            if shape is None:
                raise Retry
            return T(f"{P(a)} {r.choice(CMPS)} {P(b)}", shape, "b", False)
        if c == 1:
            a = self.expr(depth - 1, r.choice("fi"))
            return T(r.choice([f"torch.gt({a.code}, 0)", f"{P(a)}.ge(0)", f"torch.isnan({a.code})",
                               f"torch.isfinite({a.code})", f"{P(a)}.bool()", f"{P(a)}.eq(0)",
                               f"torch.signbit({a.code})", f"{P(a)}.lt(1)"]), a.shape, "b")
        if c == 2:
            m = self.expr(depth - 1, "b")
            n = self.other(m, depth - 1, "b")
            shape = broadcast(m.shape, n.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"{P(m)} {r.choice(['&', '|', '^'])} {P(n)}", shape, "b", False),
                             T(f"torch.logical_and({m.code}, {n.code})", shape, "b"),
                             T(f"torch.logical_or({m.code}, {n.code})", shape, "b"),
                             T(f"torch.logical_xor({m.code}, {n.code})", shape, "b"),
                             T(f"{P(m)} + {P(n)}", shape, "b", False), T(f"{P(m)} * {P(n)}", shape, "b", False),
                             T(f"{P(m)} == {P(n)}", shape, "b", False), T(f"{P(m)} != {P(n)}", shape, "b", False)])
        if c == 3:
            m = self.expr(depth - 1, "b")
            return r.choice([T(f"~{P(m)}", m.shape, "b", False), T(f"{P(m)}.logical_not()", m.shape, "b"),
                             T(f"torch.logical_not({m.code})", m.shape, "b")])
        if c == 4:
            m = self.expr(depth - 1, "b")
            if not m.shape or r.random() < 0.4:
                return T(f"{P(m)}.{r.choice(['any', 'all'])}()", (), "b")
            d = self.dim(m)
            return T(f"{P(m)}.{r.choice(['any', 'all'])}({d})",
                     tuple(s for k, s in enumerate(m.shape) if k != d % len(m.shape)), "b")
        if c == 5:
            i = self.expr(depth - 1, "i")
            j = self.other(i, depth - 1, "i")
            shape = broadcast(i.shape, j.shape)
            if shape is None:
                raise Retry
            return T(f"{P(i)} {r.choice(CMPS)} {P(j)}", shape, "b", False)
        if c == 6:
            a = self.expr(depth - 1)
            return T(f"{P(a)}.{r.choice(['isnan', 'isinf', 'isfinite', 'isneginf', 'signbit'])}()", a.shape, "b")
        raise Retry

    # programs ------------------------------------------------------------------------------------
    def program(self) -> list:
        r = self.r
        stmts = []
        for _ in range(r.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]):
            self.counter += 1
            name = f"t{self.counter}"
            c = r.randrange(10)
            if c == 0:
                a = self.expr(2)
                if not a.shape or a.shape == (-1,):
                    a = self.leaf("f", (3, 4))
                d = self.dim(a)
                n = len(a.shape)
                kshape = tuple(s for i, s in enumerate(a.shape) if i != d % n)
                fn = r.choice(["torch.max", "torch.min", "torch.sort", "torch.median"])
                shape = a.shape if fn == "torch.sort" else kshape
                stmts.append(f"{name}, {name}i = {fn}({a.code}, {d})")
                self.env[name] = T(name, shape)
                self.env[name + "i"] = T(name + "i", shape, "i")
                continue
            kind = r.choices("fib", [6, 1, 1])[0]
            t = self.expr(r.randint(1, 3), kind)
            if t.shape == (-1,):
                stmts.append(f"{name} = {t.code}")
                continue  # a value-dependent length: not reused
            stmts.append(f"{name} = {t.code}")
            self.env[name] = T(name, t.shape, t.kind)
            if c == 1 and t.kind == "f":
                b = self.other(self.env[name], 1)
                if broadcast(t.shape, b.shape) == t.shape:
                    stmts.append(f"{name} {r.choice(['+=', '-=', '*=', '/='])} {b.code}")
            elif c == 2 and t.kind == "f" and t.shape:
                stmts[-1] = f"{name} = ({t.code}).clone()"
                i = r.randrange(-t.shape[0], t.shape[0])
                v = self.leaf("f", t.shape[1:]) if r.random() < 0.6 else T(r.choice(SCALARS), ())
                stmts.append(f"{name}[{i}] = {v.code}")
        final = self.expr(r.randint(2, 5), r.choices("fib", [8, 1, 1])[0])
        if r.random() < 0.1:
            other = self.expr(2)
            return stmts + [f"{final.code}, {other.code}"]
        return stmts + [final.code]


# --- running ------------------------------------------------------------------------------------------

EDGES = np.array([-2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0])


def inputs_for(rng: np.random.Generator, dtype: str, edges: bool = False) -> dict:
    """Standard normal values, or (``edges``) values drawn from -2, -1, -0.5, -0, 0, 0.5, 1, 2: ties, signed
    zeros, the kinks of abs, relu, clamp, floor."""
    if edges:
        return {n: rng.choice(EDGES, s).astype(dtype) for n, s in INPUT_SHAPES.items()}
    return {n: rng.standard_normal(s).astype(dtype) for n, s in INPUT_SHAPES.items()}


def second_program(program: str) -> str:
    """``program`` with its last line ``y`` made ``torch.sin(y).sum()``: a scalar with y's first and second
    derivatives in its Hessian (``--second``)."""
    *stmts, last = program.split("; ")
    return "; ".join(stmts + [f"torch.sin({last}).sum()"])


def written_program(program: str) -> str:
    """``program`` with its last line ``y`` made ``torch.autograd.grad(torch.sin(y).sum(), x, create_graph=True)[0]``:
    a derivative written in the text, whose Jacobians are second derivatives (``--written``; lang/derivatives.py)."""
    *stmts, last = program.split("; ")
    return "; ".join(stmts + [f"torch.autograd.grad(torch.sin({last}).sum(), x, create_graph=True)[0]"])


def run_torch(program: str, inputs: dict, dtype: str, second: bool = False):
    """(outputs as a tuple of tensors, Jacobians as a tuple per output of a tuple per input) or an exception.
    ``second``: the Hessian blocks (a tuple per input of a tuple per input) in place of the Jacobians."""
    import torch

    torch.set_default_dtype(torch.float64 if dtype == "float64" else torch.float32)
    names = list(inputs)
    lines = program.split("; ")
    body = compile("\n".join(lines[:-1]) or "pass", "<fuzz>", "exec")
    last = compile(lines[-1], "<fuzz>", "eval")
    pair = []
    ns_base = {"torch": torch, "F": torch.nn.functional, "float": float, "int": int, "len": len}

    def f(*xs):
        ns = dict(ns_base)
        ns.update(zip(names, xs))
        exec(body, ns)
        out = eval(last, ns)
        if hasattr(out, "_fields"):  # a bare (values, indices): jac refuses it as an output (a Pair)
            pair.append(True)
            return (out[0],)
        return out if isinstance(out, tuple) else (out,)

    args = tuple(torch.tensor(v) for v in inputs.values())
    with warnings.catch_warnings(), _contiguous_expand(torch):
        warnings.simplefilter("ignore")
        outs = f(*[a.clone().requires_grad_(True) for a in args])
        if not all(isinstance(o, torch.Tensor) for o in outs):
            raise TypeError("not a tensor: " + ", ".join(type(o).__name__ for o in outs))
        floating = [o.is_floating_point() for o in outs]

        def g(*xs):
            return tuple(o for o, fl in zip(f(*xs), floating) if fl)

        if pair:
            raise _PairResult()
        if not args:
            return tuple(o.detach() for o in outs), tuple(() for _ in outs)
        if second:
            try:
                hess = torch.autograd.functional.hessian(lambda *xs: f(*xs)[0], args)
            except RuntimeError as e:  # no double backward for an op: values only
                if "not implemented" not in str(e) and "does not require grad" not in str(e):
                    raise
                return tuple(o.detach() for o in outs), None
            return tuple(o.detach() for o in outs), (tuple(tuple(h.detach().numpy() for h in row) for row in hess),)
        try:
            jac = torch.autograd.functional.jacobian(g, args) if any(floating) else ()
        except RuntimeError as e:  # "derivative for aten::floor_divide is not implemented": values only
            if "not implemented" not in str(e):
                raise
            return tuple(o.detach() for o in outs), None
    jacs, k = [], 0
    for o, fl in zip(outs, floating):
        if fl:
            jacs.append(tuple(j.detach().numpy() for j in jac[k]))
            k += 1
        else:
            jacs.append(tuple(np.zeros(tuple(o.shape) + a.shape) for a in args))
    return tuple(o.detach() for o in outs), tuple(jacs)


class _PairResult(Exception):
    """The program's result is PyTorch's (values, indices) named tuple, which jac reads as the values."""


class _contiguous_expand:
    """``x.expand(...)`` made contiguous while PyTorch runs a program: PyTorch 2.13's ``torch.median(x, dim)``
    of an expanded tensor (stride 0 along dim) reads memory it does not own (``torch.median(x.expand(2, -1),
    0)`` gives values that are not in x, different at each call; ``.contiguous()`` first gives x). The copy
    has the same value and derivative."""

    def __init__(self, torch):
        self.t = torch.Tensor

    def __enter__(self):
        self.saved = self.t.expand, self.t.expand_as
        expand, expand_as = self.saved
        self.t.expand = lambda x, *a, **k: expand(x, *a, **k).contiguous()
        self.t.expand_as = lambda x, y: expand_as(x, y).contiguous()

    def __exit__(self, *exc):
        self.t.expand, self.t.expand_as = self.saved


def run_jac(program: str, inputs: dict, dtype: str, second: bool = False):
    from jacobi_cli.tools import api

    value = api.evaluate(program, inputs, dtype=dtype)
    values = value if isinstance(value, tuple) else (value,)
    if not inputs:
        return values, tuple(() for _ in values)
    if second:  # the blocks as run_torch gives them: a row per input
        H = api.hessian(program, inputs, dtype=dtype)
        return values, (tuple(tuple(np.asarray(H[(a, b)]) for b in inputs) for a in inputs),)
    J = api.jacobian(program, inputs, dtype=dtype)
    if isinstance(value, tuple):
        jacs = tuple(tuple(np.asarray(J[o][n]) for n in inputs) for o in J)
    else:
        jacs = (tuple(np.asarray(J[n]) for n in inputs),)
    return values, jacs


def classify(program: str, inputs: dict, dtype: str, values_only: bool = False, second: bool = False) -> tuple:
    """("match" | "refused" | "torch-error" | "MISMATCH" | "CRASH", detail)."""
    from jacobi_cli.errors import JacError

    inputs = used_inputs(program, inputs)
    try:
        touts, tjacs = run_torch(program, inputs, dtype, second)
    except _PairResult:
        return "pair", "a (values, indices) result"
    except Exception as e:  # noqa: BLE001
        return "torch-error", f"{type(e).__name__}: {str(e)[:100]}"
    alt = None
    try:
        ours, jacs = run_jac(program, inputs, dtype, second)
    except JacError as e:
        return "refused", str(e).split("\n")[0]
    except Timeout:
        return "CRASH", "timeout"
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"
    if dtype == "float32":
        try:
            alt = run_torch(program, {n: v.astype(np.float64) for n, v in inputs.items()}, "float64", second)
        except Exception:  # noqa: BLE001
            alt = None
    if len(ours) != len(touts):
        return "MISMATCH", f"{len(ours)} outputs vs torch {len(touts)}"
    for k, (o, t) in enumerate(zip(ours, touts)):
        tv = t.numpy(force=True)  # a ZeroTensor (torch.autograd.grad of torch.floor(x): --written) too
        if t.dtype.is_floating_point and dtype == "float64" and t.dtype != __import__("torch").float64:
            return "MISMATCH", f"output {k}: torch dtype {t.dtype}"
        av = alt[0][k].numpy() if alt else None
        if t.dtype == __import__("torch").bool and np.asarray(o).size and not np.isin(np.asarray(o), (0, 1)).all():
            return "MISMATCH", f"output {k}: torch has a bool, jac numbers {np.asarray(o).ravel()[:6]}"
        if not t.dtype.is_floating_point and not np.isfinite(np.asarray(o)).all():
            continue  # an integer cast of inf or NaN: PyTorch's value is undefined (INT_MIN on x86)
        why = differ(o, tv, av, dtype)
        if why:
            return "MISMATCH", f"value {k}: {why}"
        if t.dtype.is_floating_point and dtype == "float64" and signed_zeros_differ(o, tv):
            return "zero-sign", f"value {k}: a zero's sign differs"
        if tjacs is None or values_only or (alt and alt[1] is None):
            continue
        for n, j, tj, aj in zip(inputs, jacs[k], tjacs[k], alt[1][k] if alt else [None] * len(inputs)):
            if second:  # a row of Hessian blocks
                for m, h, th, ah in zip(inputs, j, tj, aj if aj is not None else [None] * len(inputs)):
                    why = differ(h, th, ah, dtype, derivative=True)
                    if why:
                        return "MISMATCH", f"d2(output)/d{n}d{m}: {why}"
                continue
            why = differ(j, tj, aj, dtype, derivative=True)
            if why:
                return "MISMATCH", f"d(output {k})/d{n}: {why}"
    return "match", ""


def checked(program: str, inputs: dict, dtype: str, values_only: bool = False, second: bool = False) -> tuple:
    return with_timeout(classify, program, inputs, dtype, values_only, second)


def shrink(program: str, inputs: dict, dtype: str, values_only: bool, status: str, second: bool = False) -> str:
    return fuzzkit.shrink(program, lambda p: checked(p, inputs, dtype, values_only, second)[0], status)


# --- the run ------------------------------------------------------------------------------------------

def worker(args) -> dict:
    seed, n, dtype, do_shrink, edges, second, written = args
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    counts, refused, terrors, found = Counter(), Counter(), Counter(), []
    for k in range(n):
        rng = random.Random(seed * 1_000_003 + k)
        program = "; ".join(Grammar(rng, dtype).program())
        if second:
            program = second_program(program)
        if written:
            program = written_program(program)
        inputs = inputs_for(np.random.default_rng(seed * 1_000_003 + k), dtype, edges)
        status, detail = checked(program, inputs, dtype, edges, second)
        counts[status] += 1
        if status == "refused":
            refused[bucket(detail)] += 1
        elif status == "torch-error":
            terrors[detail[:60]] += 1
        elif status in ("MISMATCH", "CRASH") or status == "zero-sign" and counts[status] <= 5:
            small = shrink(program, inputs, dtype, edges, status, second) if do_shrink and status != "CRASH" else program
            sd = checked(small, inputs, dtype, edges, second)[1] if small != program else detail
            found.append({"seed": seed * 1_000_003 + k, "program": program, "small": small, "status": status,
                          "detail": sd, "inputs": {n: v.tolist() for n, v in used_inputs(small, inputs).items()}})
    return {"counts": counts, "refused": refused, "terrors": terrors, "found": found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--edges", action="store_true",
                    help="inputs from -2, -1, -0.5, -0, 0, 0.5, 1, 2; values compared, not Jacobians (kinks, ties)")
    ap.add_argument("--second", action="store_true", help="Hessians of torch.sin(y).sum() (see above)")
    ap.add_argument("--written", action="store_true",
                    help="torch.autograd.grad(torch.sin(y).sum(), x, create_graph=True)[0] of the program's y (see "
                         "written_program)")
    ap.add_argument("--show", type=int, default=15, help="refusal messages listed")
    ap.add_argument("--print", action="store_true", help="print the programs drawn and stop")
    a = ap.parse_args()
    if a.print:
        for k in range(a.n):
            print("; ".join(Grammar(random.Random(a.seed * 1_000_003 + k), a.dtype).program()))
        return 0
    start = time.monotonic()
    per = [(a.seed * 1000 + j, a.n // a.jobs + (j < a.n % a.jobs), a.dtype, not a.no_shrink, a.edges, a.second,
            a.written) for j in range(a.jobs)]
    merged = run_workers(worker, per)
    counts = merged["counts"]
    report(merged, f"{a.n} programs ({a.dtype}{', edges' if a.edges else ''}{', second' if a.second else ''}{', written' if a.written else ''}, seed {a.seed}",
           ("match", "refused", "torch-error", "pair", "zero-sign", "MISMATCH", "CRASH"), a.show, "torch-error", start)
    return 1 if counts["MISMATCH"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
