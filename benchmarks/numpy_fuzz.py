"""A differential fuzz: random programs in NumPy spelling, run by NumPy and by jac, compared.

    PYTHONPATH=. python benchmarks/numpy_fuzz.py [--n 2000] [--seed 0] [--dtype float64|float32]
                                                 [--edges] [--no-int] [--jobs 1] [--no-shrink] [--show 20]

Programs are drawn from a grammar of ``np.*`` functions (ufuncs, reductions with ``axis=`` / ``keepdims=`` /
``ddof=``, NaN-ignoring reductions, cumulative ops, sorting, stacking, ``np.where``, ``np.linalg``, ufunc
methods), array methods, operators, indexing (integers, slices with negative steps, ``None``, ``...``,
integer lists, two integer arrays, boolean masks), broadcasting, integer and boolean arrays, 0-d arrays and
several statements (``y[i] = v``, ``y[::2] = v``, ``y += v``) over the inputs x, y (4,), A (3, 4), B (4, 4),
s (). The grammar's skeleton, the comparison and the shrinking are benchmarks/fuzzkit.py's (shared with
torch_fuzz.py).

References. Values: NumPy itself, ``exec`` of the same text (generated here, never user input) on copies of
the inputs. Derivatives (not with ``--edges``): HIPS autograd (``autograd.numpy`` as ``np``,
``autograd.jacobian``), else JAX (``jax.numpy`` as ``np``, x64, ``jax.jacrev``) where autograd lacks the op,
else central differences of NumPy's own program (step 1e-6, float64). Each program is one of

- ``match``: values bitwise equal (NaN positions, infinities, the sign of every zero) and every Jacobian
  within rtol 1e-9 of autograd's / JAX's (1e-5 of central differences; 1e-3 in float32);
- ``rounding``: values equal to rtol 1e-12 but not bitwise (another order of the same sums);
- ``refused``: jac raises a JacError; ``numpy-error``: NumPy raises (not a valid program: skipped);
- ``zero-sign``: only the sign of a zero in a value differs;
- ``MISMATCH``: a value, shape, result kind or Jacobian differs;
- ``ref-deriv``: jac's Jacobian differs from autograd's or JAX's but agrees with central differences (the
  reference library is wrong, or defines the derivative differently at a kink: tests/test_kinks.py);
- ``CRASH``: jac raises anything but a JacError (or takes over 20 s).

``MISMATCH``, ``zero-sign``, ``ref-deriv`` and ``CRASH`` are printed with a reproduction shrunk while its status
holds.
float32: jac computes in float32 throughout; its answer must be as close to NumPy's as NumPy's is to its own
float64 answer (×10, + 1e-4 relative). ``--edges``: inputs from 0, -0, ±inf, NaN, subnormals, ±0.5, ±1, 2
with ties; values only. ``--no-int``: no integer arrays drawn (casts, integer arithmetic). An integer result
of a cast of inf or NaN is not compared (NumPy's is undefined).
Exit 1 if any mismatch, zero-sign or crash.

``--jax``: the same programs in JAX spelling (``np.`` written ``jnp.``), which jac reads with JAX's semantics
where they differ from NumPy's; the reference is JAX itself (x64, eager): values within rtol 1e-9 (XLA's
transcendental functions are not NumPy's bit for bit; a zero's sign is counted, not failed), Jacobians
``jax.jacrev``; ``--edges`` draws no subnormals (XLA on CPU flushes them to zero). A program JAX refuses (a
write ``y[i] = v``, a NumPy-only function) is ``numpy-error``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fuzzkit  # noqa: E402
from fuzzkit import (P, Retry, T, broadcast, bucket, differ, report, run_workers,  # noqa: E402
                     signed_zeros_differ, size, used_inputs, with_timeout)

INPUT_SHAPES = {"x": (4,), "y": (4,), "A": (3, 4), "B": (4, 4), "s": ()}
MODULES = ("np",)

UNARY = [
    "np.sin({})", "np.cos({})", "np.tan({})", "np.exp({})", "np.tanh({})", "np.abs({})", "np.absolute({})",
    "np.fabs({})", "np.sqrt({})", "np.sqrt(np.abs({}))", "np.log({})", "np.log(np.abs({}))", "np.log1p({})",
    "np.log2(np.abs({}) + 1)", "np.log10(np.abs({}))", "np.expm1({})", "np.exp2({})", "np.square({})",
    "np.reciprocal({})", "np.cbrt({})", "np.sign({})", "np.floor({})", "np.ceil({})", "np.trunc({})",
    "np.fix({})", "np.rint({})", "np.round({})", "np.round({}, 1)", "np.around({}, 2)", "{P}.round(1)",
    "np.arctan({})", "np.arcsin({})", "np.arccos({})", "np.arcsinh({})", "np.arccosh({})", "np.arctanh({})",
    "np.sinh({})", "np.cosh({})", "np.negative({})", "np.positive({})", "-{P}", "np.deg2rad({})",
    "np.degrees({})", "np.sinc({})", "np.clip({}, -0.5, 0.5)", "np.clip({}, 0, None)", "{P}.clip(-1, 1)",
    "np.clip({}, a_min=None, a_max=0.2)", "np.heaviside({}, 0.5)", "np.heaviside({}, 0)", "np.copysign({}, -1)",
    "np.fmod({}, 0.7)", "np.remainder({}, 0.7)", "np.mod({}, -0.7)", "{P} % 0.7", "{P} // 0.3",
    "np.floor_divide({}, 0.3)", "np.float_power(np.abs({}), 2.5)", "np.power({}, 2)", "np.power({}, 3)",
    "{P} ** 2", "np.abs({}) ** 0.5", "2 ** {P}", "np.nan_to_num({})", "np.nan_to_num(np.log({}))",
    "np.nan_to_num({}, nan=0.5, posinf=2.0)", "np.maximum({}, 0)", "np.minimum({}, 0.0)", "np.fmax({}, 0)",
    "np.fmin({}, -0.0)", "np.logaddexp({}, 0)", "np.logaddexp2({}, {})", "np.hypot({}, 1)", "np.arctan2({}, -1)",
    "np.arctan2(0.0, {})", "np.ldexp({}, 2)", "np.real({})", "np.conj({})", "{P}.copy()", "np.copy({})",
    "np.asarray({})", "np.array({})", "{P} + 0", "0.0 - {P}", "{P} * 1", "{P} / 1", "np.spacing(np.abs({}) + 1) * 0",
]
SCALARS = ["2", "0.5", "-1.5", "3", "0.25", "1", "0", "-0.0", "np.pi", "np.inf", "np.nan"]
BINOPS = ["+", "-", "*", "/", "**", "//", "%"]
BINFNS = ["np.maximum({a}, {b})", "np.minimum({a}, {b})", "np.fmax({a}, {b})", "np.fmin({a}, {b})",
          "np.arctan2({a}, {b})", "np.hypot({a}, {b})", "np.add({a}, {b})", "np.subtract({a}, {b})",
          "np.multiply({a}, {b})", "np.divide({a}, {b})", "np.true_divide({a}, {b})", "np.power(np.abs({a}), {b})",
          "np.float_power(np.abs({a}), {b})", "np.floor_divide({a}, {b})", "np.mod({a}, {b})", "np.fmod({a}, {b})",
          "np.remainder({a}, {b})", "np.copysign({a}, {b})", "np.logaddexp({a}, {b})", "np.logaddexp2({a}, {b})",
          "np.heaviside({a}, {b})", "np.where({a} > {b}, {a}, {b})", "np.where({a} >= 0, {b}, 0.0)",
          "np.clip({a}, {b}, None)", "np.clip({a}, None, {b})", "np.nan_to_num({a} / {b})", "{Pa}.clip(min={b})"]
CMPS = ["<", "<=", ">", ">=", "==", "!="]
REDUCE = ["sum", "mean", "prod", "max", "min", "amax", "amin", "std", "var", "nansum", "nanmean", "nanmax",
          "nanmin", "nanprod", "nanstd", "nanvar", "median", "nanmedian", "ptp", "average", "cumsum", "cumprod",
          "nancumsum", "nancumprod", "sort", "diff", "argmax", "argmin", "argsort", "percentile", "quantile",
          "norm", "logsumexp", "accumulate", "count_nonzero"]


class Grammar(fuzzkit.Grammar):
    def __init__(self, rng: random.Random, dtype: str, ints: bool = True):
        super().__init__(rng, dtype, INPUT_SHAPES)
        self.ints = ints  # integer arrays (casts, integer arithmetic) drawn at all

    # leaves ----------------------------------------------------------------------------------------------
    def bool_leaf(self, a: T) -> T:
        return T(f"{P(a)} > {self.r.choice(['0', '0.3', '-0.2'])}", a.shape, "b", False)

    def int_leaf(self, a: T) -> T:
        return self.r.choice([T(f"{P(a)}.astype(int)", a.shape, "i"),
                              T(f"np.floor({P(a)} * 2).astype(int)", a.shape, "i"),
                              T(f"np.round({P(a)} * 3).astype(np.int64)", a.shape, "i")])

    def const(self, shape) -> T:
        r = self.r
        base = next((n for n, t in INPUT_SHAPES.items() if t == shape), None)
        c = r.randrange(7)
        if not shape:
            return T(r.choice(["np.float64(0.75)", "np.array(-1.25)", "np.array(2.0)", "np.array(-0.0)"]), ())
        if c == 0:
            vals = np.round(np.random.default_rng(r.randrange(10**6)).uniform(-2, 2, shape), 2).tolist()
            return T(f"np.array({vals})", shape)
        if c == 1:
            return T(f"np.ones({shape!r})", shape)
        if c == 2:
            return T(f"np.full({shape!r}, {r.choice(['0.5', '-2.0', '-0.0', 'np.nan', 'np.inf'])})", shape)
        if c == 3 and len(shape) == 1:
            return T(r.choice([f"np.arange({shape[0]}.0)", f"np.linspace(-1, 1, {shape[0]})",
                               f"np.arange({shape[0]}) - 1.5"]), shape, "f", False)
        if c == 4 and base is not None:
            return T(r.choice([f"np.zeros_like({base})", f"np.ones_like({base})", f"np.full_like({base}, 0.3)"]),
                     shape)
        if c == 5:
            return T(f"np.zeros({shape!r})", shape)
        return T(f"np.eye({shape[-1]})" if len(shape) == 2 and shape[0] == shape[1] else
                 f"np.ones({shape!r}) * 0.5", shape, "f", len(shape) == 2 and shape[0] == shape[1])

    # expressions ---------------------------------------------------------------------------------------
    def k_f(self, depth: int) -> T:
        r = self.r
        c = r.choices(["unary", "scalar", "binop", "binfn", "reduce", "shape", "index", "matmul", "where",
                       "fromint", "frombool", "stack", "linalg", "more"],
                      [10, 5, 10, 6, 10, 7, 8, 4, 3, 2 * self.ints, 2, 3, 3, 5])[0]
        if c == "unary":
            a = self.expr(depth - 1)
            code = r.choice(UNARY).replace("{P}", P(a)).replace("{}", a.code)
            return T(code, a.shape, "f", not (code.startswith(("-", "0.0 -", "2 **")) or
                                               any(o in code for o in (" ** ", " % ", " // ", " + 0", " * 1", " / 1"))))
        if c == "scalar":
            a = self.expr(depth - 1)
            op, k = r.choice(["+", "-", "*", "/", "**"]), r.choice(SCALARS)
            if op == "**":
                return T(f"{P(a)} ** {k}" if r.random() < 0.7 else f"{k} ** {P(a)}", a.shape, "f", False)
            return T(f"{P(a)} {op} {k}" if r.random() < 0.5 else f"{k} {op} {P(a)}", a.shape, "f", False)
        if c in ("binop", "binfn"):
            a = self.expr(depth - 1)
            b = self.other(a, depth - 1)
            shape = broadcast(a.shape, b.shape)
            if shape is None:
                raise Retry
            if c == "binfn":
                return T(r.choice(BINFNS).format(a=a.code, b=b.code, Pa=P(a)), shape)
            op = r.choice(BINOPS)
            return T(f"np.abs({a.code}) ** {P(b)}" if op == "**" else f"{P(a)} {op} {P(b)}", shape, "f", False)
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
            return r.choice([T(f"np.where({m.code}, {a.code}, {b.code})", shape),
                             T(f"np.select([{m.code}], [{a.code}], {b.code})", shape),
                             T(f"np.where({m.code}, {a.code}, {r.choice(SCALARS)})", broadcast(a.shape, m.shape))])
        if c == "fromint":
            i = self.expr(depth - 1, "i")
            a = self.other(i, depth - 1)
            shape = broadcast(i.shape, a.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"{P(i)} * {P(a)}", shape, "f", False), T(f"{P(i)} / 2", i.shape, "f", False),
                             T(f"{P(i)} + {P(a)}", shape, "f", False), T(f"{P(i)}.astype(float)", i.shape),
                             T(f"{P(i)} / {P(a)}", shape, "f", False)])
        if c == "frombool":
            m = self.expr(depth - 1, "b")
            a = self.other(m, depth - 1)
            shape = broadcast(m.shape, a.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"{P(m)} * {P(a)}", shape, "f", False), T(f"{P(a)} - {P(m)}", shape, "f", False),
                             T(f"{P(m)}.astype(float)", m.shape), T(f"{P(m)} + {P(a)}", shape, "f", False)])
        if c == "stack":
            return self.stack(depth)
        if c == "linalg":
            return self.linalg(depth)
        return self.more(self.expr(depth - 1), depth)

    def reduce(self, a: T) -> T:
        r = self.r
        n = len(a.shape)
        name = r.choice(REDUCE)
        if n == 0:
            if name in ("sum", "mean", "prod", "max", "min", "amax", "nansum"):
                meth = name in ("sum", "mean", "prod", "max", "min")
                return T(f"{P(a)}.{name}()" if meth and r.random() < 0.5 else f"np.{name}({a.code})", ())
            raise Retry
        d = self.dim(a)
        keep = r.random() < 0.3
        kshape = tuple(1 if i == d % n else s for i, s in enumerate(a.shape)) if keep else \
            tuple(s for i, s in enumerate(a.shape) if i != d % n)
        kw = ", keepdims=True" if keep else r.choice(["", ", keepdims=False"])
        ax = r.choice([f"axis={d}", f"{d}"])
        whole = r.random() < 0.3
        if name in ("sum", "mean", "prod", "max", "min", "amax", "amin", "nansum", "nanmean", "nanmax", "nanmin",
                    "nanprod", "median", "nanmedian", "ptp", "std", "var", "nanstd", "nanvar", "average"):
            extra = ""
            if name in ("std", "var", "nanstd", "nanvar"):
                extra = r.choice(["", ", ddof=1", ", ddof=0"])
                if "ddof=1" in extra and (a.shape[d] < 2 or whole and size(a.shape) < 2):
                    extra = ""
            if name == "average":
                kw, kshape = "", tuple(s for i, s in enumerate(a.shape) if i != d % n)
            if whole:
                if n == 2 and r.random() < 0.3 and name not in ("median", "nanmedian", "average", "ptp"):
                    return T(f"np.{name}({a.code}, axis={r.choice(['(0, 1)', '(-1, 0)'])}{extra})", ())
                meth = name in ("sum", "mean", "prod", "max", "min") or name in ("std", "var") and extra
                return T(f"{P(a)}.{name}({extra.lstrip(', ')})" if meth and r.random() < 0.5
                         else f"np.{name}({a.code}{extra})", ())
            meth = name in ("sum", "mean", "prod", "max", "min") or name in ("std", "var") and extra
            if meth and r.random() < 0.4:
                return T(f"{P(a)}.{name}({ax}{extra}{kw})", kshape)
            return T(f"np.{name}({a.code}, {ax}{extra}{kw})", kshape)
        if name in ("cumsum", "cumprod", "nancumsum", "nancumprod"):
            if whole:
                return T(f"np.{name}({a.code})", (size(a.shape),))
            return T(r.choice([f"np.{name}({a.code}, axis={d})", f"{P(a)}.{name}({d})"]
                              if name in ("cumsum", "cumprod") else [f"np.{name}({a.code}, axis={d})"]), a.shape)
        if name == "accumulate":
            u = r.choice(["add", "multiply", "maximum", "minimum"])
            return T(f"np.{u}.accumulate({a.code}, axis={d})", a.shape) if r.random() < 0.6 else \
                T(f"np.{u}.reduce({a.code}, axis={d})", tuple(s for i, s in enumerate(a.shape) if i != d % n))
        if name == "sort":
            if whole and n == 2:
                return T(f"np.sort({a.code}, axis=None)", (size(a.shape),))
            return T(f"np.sort({a.code}, axis={d})" if r.random() < 0.6 else f"np.sort({a.code})[..., ::-1]", a.shape)
        if name == "diff":
            if a.shape[d] < 2:
                raise Retry
            shape = list(a.shape)
            k = r.choice([1, 1, 2]) if a.shape[d] > 2 else 1
            shape[d] -= k
            return T(f"np.diff({a.code}, {'n=2, ' if k == 2 else ''}axis={d})", tuple(shape))
        if name in ("argmax", "argmin"):
            i = T(f"np.{name}({a.code}, axis={d})", tuple(s for k, s in enumerate(a.shape) if k != d % n), "i")
            return T(f"{P(i)} * 1.0", i.shape, "f", False)
        if name == "argsort":
            return T(f"np.take_along_axis({a.code}, np.argsort({a.code}, axis={d}, kind='stable'), axis={d})", a.shape)
        if name in ("percentile", "quantile"):
            q = r.choice(["30", "50", "100", "0"]) if name == "percentile" else r.choice(["0.3", "0.5", "1.0", "0.75"])
            if whole:
                return T(f"np.{name}({a.code}, {q})", ())
            return T(f"np.{name}({a.code}, {q}, axis={d}{kw})", kshape)
        if name == "norm":
            if whole:
                o = r.choice(["", ", 1", ", np.inf", ", -np.inf", ", 3", ", 0.5"] if n == 1 else
                             ["", ", 'fro'", ", 1", ", np.inf", ", -1"] if n == 2 else [""])
                return T(f"np.linalg.norm({a.code}{o})", ())
            o = r.choice(["", ", ord=1", ", ord=np.inf", ", ord=2", ", ord=3", ", ord=-np.inf", ", ord=0"])
            return T(f"np.linalg.norm({a.code}{o}, axis={d}{kw})", kshape)
        if name == "logsumexp":
            return T(f"np.logaddexp.reduce({a.code}, axis={d})", tuple(s for i, s in enumerate(a.shape) if i != d % n))
        if name == "count_nonzero":
            return T(f"np.count_nonzero({a.code}, axis={d}) * 1.0",
                     tuple(s for i, s in enumerate(a.shape) if i != d % n),
                     "f", False)
        raise Retry

    def shape_op(self, a: T) -> T:
        r = self.r
        n = len(a.shape)
        c = r.randrange(16)
        if c == 0:
            return T(r.choice([f"{P(a)}.reshape(-1)", f"{P(a)}.ravel()", f"np.ravel({a.code})", f"{P(a)}.flatten()"]),
                     (size(a.shape),))
        if c == 1 and n == 2:
            return T(r.choice([f"{P(a)}.T", f"np.transpose({a.code})", f"{P(a)}.transpose(1, 0)",
                               f"np.swapaxes({a.code}, 0, 1)", f"np.moveaxis({a.code}, 0, -1)",
                               f"np.rot90({a.code}, 2).T"]),
                     a.shape[::-1])
        if c == 2:
            d = r.randrange(-n - 1, n + 1)
            dd = d if d >= 0 else d + n + 1
            return T(f"np.expand_dims({a.code}, {d})", a.shape[:dd] + (1,) + a.shape[dd:])
        if c == 3:
            return T(f"np.squeeze({a.code})", tuple(s for s in a.shape if s != 1))
        if c == 4 and n:
            d = self.dim(a)
            return T(r.choice([f"np.flip({a.code}, {d})", f"np.flip({a.code}, axis={d})", f"np.flip({a.code})"]),
                     a.shape)
        if c == 5 and n:
            d = self.dim(a)
            return T(r.choice([f"np.roll({a.code}, {r.choice([1, -1, 2])}, axis={d})", f"np.roll({a.code}, -3)"]),
                     a.shape)
        if c == 6 and n == 1 and a.shape[0] % 2 == 0:
            return T(f"{P(a)}.reshape(2, -1)", (2, a.shape[0] // 2))
        if c == 7 and size(a.shape) * 2 <= self.max_size:
            return T(f"np.broadcast_to({a.code}, {(2,) + a.shape!r})", (2,) + a.shape)
        if c == 8 and size(a.shape) * 2 <= self.max_size and n:
            d = self.dim(a)
            shape = list(a.shape)
            shape[d] *= 2
            return T(r.choice([f"np.repeat({a.code}, 2, axis={d})", f"{P(a)}.repeat(2, axis={d})"]), tuple(shape))
        if c == 9 and n == 2:
            return T(r.choice([f"np.tril({a.code})", f"np.triu({a.code}, 1)", f"np.tril({a.code}, -1)",
                               f"np.fliplr({a.code})", f"np.flipud({a.code})"]), a.shape)
        if c == 10 and n == 2 and a.shape[0] == a.shape[1]:
            return r.choice([T(f"np.trace({a.code})", ()), T(f"np.diagonal({a.code})", a.shape[:1]),
                             T(f"np.diag({a.code})", a.shape[:1]), T(f"{P(a)}.diagonal(1)", (a.shape[0] - 1,))])
        if c == 11 and n == 1 and size(a.shape) ** 2 <= self.max_size:
            return T(r.choice([f"np.diag({a.code})", f"np.outer({a.code}, {a.code})",
                               f"np.multiply.outer({a.code}, {a.code})",
                               f"np.subtract.outer({a.code}, {a.code})"]), a.shape * 2)
        if c == 12 and n <= 2 and size(a.shape) * 2 <= self.max_size:
            return T(f"np.tile({a.code}, 2)" if n <= 1 else f"np.tile({a.code}, (1, 2))",
                     (2,) if n == 0 else (a.shape[0] * 2,) if n == 1 else (a.shape[0], a.shape[1] * 2))
        if c == 13 and n <= 2:
            return T(f"np.pad({a.code}, 1)", tuple(s + 2 for s in a.shape)) if r.random() < 0.5 else \
                T(f"np.pad({a.code}, (1, 2), constant_values=0.5)", tuple(s + 3 for s in a.shape))
        if c == 14 and n == 1:
            return T(r.choice([f"np.atleast_2d({a.code})", f"{P(a)}[None, :]"]), (1,) + a.shape)
        if c == 15 and n:
            return T(f"np.ascontiguousarray({a.code})", a.shape)
        raise Retry

    def index(self, a: T) -> T:
        r = self.r
        n = len(a.shape)
        if n == 0:
            return T(f"{P(a)}[None]", (1,)) if r.random() < 0.5 else T(f"{P(a)}[...]", ())
        c = r.randrange(13)
        s0 = a.shape[0]
        if c == 0:
            i = r.randrange(-s0, s0)
            return T(f"{P(a)}[{i}]", a.shape[1:])
        if c == 1:
            lo, hi, step = r.choice([None, 1, -2, 0, 3]), r.choice([None, -1, 2, 0]), r.choice([None, 2, -1, -2, 3])
            sl = f"{'' if lo is None else lo}:{'' if hi is None else hi}{'' if step is None else ':' + str(step)}"
            length = len(range(s0)[slice(lo, hi, step)])
            if length == 0:
                raise Retry
            return T(f"{P(a)}[{sl}]", (length,) + a.shape[1:])
        if c == 2 and n >= 2:
            j = r.randrange(-a.shape[1], a.shape[1])
            return T(r.choice([f"{P(a)}[:, {j}]", f"{P(a)}[..., {j}]"]) if n == 2 else f"{P(a)}[:, {j}]",
                     a.shape[:1] + a.shape[2:])
        if c == 3:
            return T(r.choice([f"{P(a)}[None]", f"{P(a)}[np.newaxis, ...]"]), (1,) + a.shape)
        if c == 4:
            return T(f"{P(a)}[..., None]", a.shape + (1,))
        if c == 5:
            idx = [r.randrange(-s0, s0) for _ in range(r.randint(1, 4))]
            return T(r.choice([f"{P(a)}[{idx}]", f"np.take({a.code}, {idx}, axis=0)", f"{P(a)}[np.array({idx})]"]),
                     (len(idx),) + a.shape[1:])
        if c == 6:
            m = f"{P(a)} > {r.choice(['0', '0.2', '-0.3'])}" if r.random() < 0.7 else f"np.abs({a.code}) < 1"
            return T(f"{P(a)}[{m}]", (-1,))  # value-dependent length: kept 1-d, never broadcast
        if c == 7 and n == 2:
            return self._slice2(a)
        if c == 8:
            return T(f"{P(a)}[-1:]", (1,) + a.shape[1:])
        if c == 9 and n == 2:
            i = [r.randrange(a.shape[0]) for _ in range(3)]
            j = [r.randrange(-a.shape[1], a.shape[1]) for _ in range(3)]
            return T(f"{P(a)}[{i}, {j}]", (3,))
        if c == 10 and n == 2:
            return T(f"{P(a)}[{r.randrange(a.shape[0])}, -1]", ())
        if c == 11 and n == 2:
            return T(f"{P(a)}[:, [0, -1]]", (a.shape[0], 2))
        if c == 12 and n == 1 and s0 >= 2:
            return T(f"{P(a)}[::-1]", a.shape)
        raise Retry

    def _slice2(self, a: T) -> T:
        r = self.r
        sl0, sl1 = r.choice([slice(1, None), slice(None, None, -1), slice(-2, None)]), \
            r.choice([slice(None, None, 2), slice(None, None, -2), slice(1, None, -1), slice(None, 1)])
        shape = (len(range(a.shape[0])[sl0]), len(range(a.shape[1])[sl1]))
        if 0 in shape:
            raise Retry

        def txt(s):
            return f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}" + \
                ("" if s.step is None else f":{s.step}")
        return T(f"{P(a)}[{txt(sl0)}, {txt(sl1)}]", shape)

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
            return T(r.choice([f"{P(a)} @ {P(b)}", f"np.dot({a.code}, {b.code})", f"np.inner({a.code}, {b.code})",
                               f"{P(a)}.dot({b.code})", f"np.vdot({a.code}, {b.code})",
                               f"np.einsum('i,i->', {a.code}, {b.code})"]), (), "f", False)
        spell = [f"{P(a)} @ {P(b)}", f"np.matmul({a.code}, {b.code})", f"np.dot({a.code}, {b.code})",
                 f"{P(a)}.dot({b.code})", f"np.tensordot({a.code}, {b.code}, axes=1)"]
        if len(a.shape) == 2 and len(b.shape) == 2:
            spell += [f"np.einsum('ij,jk->ik', {a.code}, {b.code})", f"np.linalg.multi_dot([{a.code}, {b.code}])"]
        code = r.choice(spell)
        return T(code, shape, "f", "@" not in code)

    def stack(self, depth: int) -> T:
        r = self.r
        a = self.expr(depth - 1)
        b = self.leaf("f", a.shape) if r.random() < 0.5 else self.expr(depth - 1)
        if b.shape != a.shape:
            b = self.leaf("f", a.shape)
        n = len(a.shape)
        if not n or r.random() < 0.4:
            d = r.randrange(-n - 1, n + 1)
            dd = d if d >= 0 else d + n + 1
            return T(f"np.stack([{a.code}, {b.code}], axis={d})", a.shape[:dd] + (2,) + a.shape[dd:])
        d = self.dim(a)
        shape = list(a.shape)
        shape[d] *= 2
        c = r.randrange(4)
        if c == 0 and n == 1:
            return T(r.choice([f"np.hstack([{a.code}, {b.code}])", f"np.append({a.code}, {b.code})"]), tuple(shape))
        if c == 1 and n == 1:
            return T(r.choice([f"np.vstack([{a.code}, {b.code}])", f"np.column_stack([{a.code}, {b.code}]).T"]),
                     (2,) + a.shape)
        if c == 2 and n >= 1:
            return T(f"np.split(np.concatenate([{a.code}, {b.code}], axis={d}), 2, axis={d})[{r.randrange(2)}]",
                     a.shape)
        return T(f"np.concatenate(({a.code}, {b.code}), axis={d})", tuple(shape))

    def linalg(self, depth: int) -> T:
        r = self.r
        a = self.expr(depth - 1)
        if a.shape != (4, 4):
            a = self.leaf("f", (4, 4))
        c = r.randrange(9)
        if c == 0:
            return T(r.choice([f"np.linalg.det({a.code})", f"np.linalg.slogdet({a.code})[1]",
                               f"np.linalg.slogdet({a.code})[0]"]), ())
        if c == 1:
            return T(f"np.linalg.inv({a.code})", (4, 4))
        if c == 2:
            b = self.leaf("f", r.choice([(4,), (4, 4)]))
            return T(f"np.linalg.solve({a.code}, {b.code})", b.shape)
        if c == 3:
            return T(f"np.linalg.eigvalsh({P(a)} + {P(a)}.T)", (4,))
        if c == 4:
            return T(f"np.linalg.svd({a.code}, compute_uv=False)", (4,))
        if c == 5:
            return T(f"np.linalg.matrix_power({a.code}, {r.choice([0, 2, 3, -1])})", (4, 4))
        if c == 6:
            return T(f"np.linalg.cholesky({P(a)} @ {P(a)}.T + np.eye(4))", (4, 4))
        if c == 7:
            return T(f"np.linalg.pinv({a.code})", (4, 4))
        return T(r.choice([f"np.linalg.norm({a.code}, 2)", f"np.linalg.norm({a.code}, 'nuc')",
                           f"np.linalg.cond({a.code})"]), ())

    def more(self, a: T, depth: int) -> T:
        r = self.r
        n = len(a.shape)
        if n == 0:
            raise Retry
        c = r.randrange(9)
        if c == 0:
            if a.shape[-1] == 4:
                return T(f"np.cross({P(a)}[..., :3], {P(a)}[..., 1:])", a.shape[:-1] + (3,))
            if n == 1:
                return T(f"np.convolve({a.code}, [1.0, -1.0])", (a.shape[0] + 1,))
        if c == 1 and n == 1:
            return r.choice([T(f"np.interp({a.code}, [-1.0, 0.0, 1.0], [2.0, -1.0, 0.5])", a.shape),
                             T(f"np.polyval([1.0, -2.0, 0.5], {a.code})", a.shape),
                             T(f"np.polyval({a.code}, 0.5)", ())])
        if c == 2 and n == 1 and a.shape[0] >= 2:
            return T(r.choice([f"np.gradient({a.code})", f"np.cumsum({a.code})[::-1]"]), a.shape)
        if c == 3 and n == 1:
            return T(r.choice([f"np.trapezoid({a.code})", f"np.ediff1d({a.code}).sum()"]), ())
        if c == 4 and n == 2 and a.shape[1] >= 2:
            return T(r.choice([f"np.cov({a.code})", f"np.corrcoef({a.code})"]), (a.shape[0], a.shape[0]))
        if c == 5 and n == 1 and a.shape[0] ** 2 <= self.max_size:
            return T(f"np.kron({a.code}, {a.code})", (a.shape[0] ** 2,))
        if c == 6:
            return T(f"np.isclose({a.code}, 0.5) * {P(a)}", a.shape, "f", False)
        if c == 7 and n == 2:
            return r.choice([T(f"np.einsum('ij->ji', {a.code})", a.shape[::-1]),
                             T(f"np.einsum('ij,ij->i', {a.code}, {a.code})", a.shape[:1]),
                             T(f"np.einsum('ij->', {a.code})", ())])
        if c == 8:
            d = self.dim(a)
            idx = np.random.default_rng(r.randrange(10**6)).integers(0, a.shape[d], a.shape).tolist()
            return T(f"np.take_along_axis({a.code}, np.array({idx}), axis={d})", a.shape)
        raise Retry

    def k_i(self, depth: int) -> T:
        r = self.r
        c = r.randrange(6)
        if c == 0:
            a = self.expr(depth - 1)
            return T(r.choice([f"{P(a)}.astype(int)", f"np.floor({a.code}).astype(np.int64)",
                               f"np.round({a.code} * 2).astype(int)"]), a.shape, "i")
        if c == 1:
            a = self.expr(depth - 1)
            if not a.shape:
                raise Retry
            if r.random() < 0.3:
                return T(f"np.{r.choice(['argmax', 'argmin'])}({a.code})", (), "i")
            d = self.dim(a)
            return T(f"{P(a)}.{r.choice(['argmax', 'argmin'])}(axis={d})",
                     tuple(s for i, s in enumerate(a.shape) if i != d % len(a.shape)), "i")
        if c == 2:
            i = self.expr(depth - 1, "i")
            j = self.other(i, depth - 1, "i")
            shape = broadcast(i.shape, j.shape)
            if shape is None:
                raise Retry
            return T(f"{P(i)} {r.choice(['+', '-', '*', '//', '%'])} {P(j)}", shape, "i", False)
        if c == 3:
            m = self.expr(depth - 1, "b")
            if not m.shape or r.random() < 0.4:
                return T(r.choice([f"np.sum({m.code})", f"np.count_nonzero({m.code})"]), (), "i")
            d = self.dim(m)
            return T(f"{P(m)}.sum(axis={d})", tuple(s for k, s in enumerate(m.shape) if k != d % len(m.shape)), "i")
        if c == 4:
            n = r.choice([3, 4])
            return T(f"np.arange({n})", (n,), "i")
        if c == 5:
            a = self.expr(depth - 1)
            if not a.shape:
                raise Retry
            d = self.dim(a)
            return T(f"np.argsort({a.code}, axis={d}, kind='stable')", a.shape, "i")
        raise Retry

    def k_b(self, depth: int) -> T:
        r = self.r
        c = r.randrange(5)
        if c == 0:
            a = self.expr(depth - 1)
            b = self.other(a, depth - 1) if r.random() < 0.5 else T(r.choice(["0", "0.5", "-0.25", "-0.0"]), ())
            shape = broadcast(a.shape, b.shape)
            if shape is None:
                raise Retry
            return T(f"{P(a)} {r.choice(CMPS)} {P(b)}", shape, "b", False)
        if c == 1:
            a = self.expr(depth - 1)
            return T(r.choice([f"np.isnan({a.code})", f"np.isfinite({a.code})", f"np.isinf({a.code})",
                               f"np.signbit({a.code})", f"np.isposinf({a.code})", f"np.greater({a.code}, 0)",
                               f"np.less_equal({a.code}, 0)", f"np.equal({a.code}, 0)"]), a.shape, "b")
        if c == 2:
            m = self.expr(depth - 1, "b")
            o = self.other(m, depth - 1, "b")
            shape = broadcast(m.shape, o.shape)
            if shape is None:
                raise Retry
            return r.choice([T(f"{P(m)} {r.choice(['&', '|', '^'])} {P(o)}", shape, "b", False),
                             T(f"np.logical_and({m.code}, {o.code})", shape, "b"),
                             T(f"np.logical_or({m.code}, {o.code})", shape, "b"),
                             T(f"np.logical_xor({m.code}, {o.code})", shape, "b")])
        if c == 3:
            m = self.expr(depth - 1, "b")
            return r.choice([T(f"~{P(m)}", m.shape, "b", False), T(f"np.logical_not({m.code})", m.shape, "b")])
        m = self.expr(depth - 1, "b")
        if not m.shape or r.random() < 0.4:
            return T(f"np.{r.choice(['any', 'all'])}({m.code})", (), "b")
        d = self.dim(m)
        return T(f"np.{r.choice(['any', 'all'])}({m.code}, axis={d})",
                 tuple(s for k, s in enumerate(m.shape) if k != d % len(m.shape)), "b")

    # programs ------------------------------------------------------------------------------------------
    def program(self) -> list:
        r = self.r
        stmts = []
        for _ in range(r.choices([0, 1, 2, 3], [3, 3, 2, 2])[0]):
            self.counter += 1
            name = f"t{self.counter}"
            kind = r.choices("fib", [7, self.ints, 1])[0]
            t = self.expr(r.randint(1, 3), kind)
            stmts.append(f"{name} = {t.code}")
            if t.shape == (-1,):
                continue  # a value-dependent length: not reused
            self.env[name] = T(name, t.shape, t.kind)
            c = r.randrange(5)
            if c == 1 and t.kind == "f":
                b = self.other(self.env[name], 1)
                if broadcast(t.shape, b.shape) == t.shape:
                    stmts[-1] = f"{name} = np.array({t.code})" if r.random() < 0.5 else f"{name} = ({t.code}).copy()"
                    stmts.append(f"{name} {r.choice(['+=', '-=', '*=', '/=', '**='])} {b.code}")
            elif c == 2 and t.kind == "f" and t.shape:
                stmts[-1] = f"{name} = np.copy({t.code})"
                s0 = t.shape[0]
                i, vshape = r.choice([(str(r.randrange(-s0, s0)), t.shape[1:]),
                                      ("::-2", (len(range(s0)[::-2]),) + t.shape[1:]),
                                      ("1:", (s0 - 1,) + t.shape[1:]),
                                      (str([r.randrange(s0)]), (1,) + t.shape[1:])])
                if 0 in vshape:
                    continue
                v = self.leaf("f", vshape) if r.random() < 0.6 else T(r.choice(SCALARS), ())
                op = r.choice(["=", "=", "+=", "*="])
                stmts.append(f"{name}[{i}] {op} {v.code}")
            elif c == 3 and t.kind == "f" and len(t.shape) >= 1:
                stmts[-1] = f"{name} = np.copy({t.code})"
                stmts.append(f"{name}[{name} < 0] = {r.choice(['0', '-0.0', 'np.nan', '0.5'])}")
        final = self.expr(r.randint(2, 5), r.choices("fib", [8, self.ints, 1])[0])
        if r.random() < 0.1:
            return stmts + [f"{final.code}, {self.expr(2).code}"]
        return stmts + [final.code]


# --- running ----------------------------------------------------------------------------------------------

def edges_for(dtype: str) -> np.ndarray:
    tiny = np.finfo(dtype).smallest_subnormal
    return np.array([-2.0, -1.0, -0.5, -0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 2.0, np.inf, -np.inf, np.nan, tiny, -tiny,
                     np.finfo(dtype).tiny], dtype=dtype)


def inputs_for(rng: np.random.Generator, dtype: str, edges: bool = False, jax: bool = False) -> dict:
    """Standard normal values, or (``edges``) values drawn from ``edges_for``: ties, signed zeros, infinities,
    NaN, subnormals, the kinks of abs, maximum, clip, floor. ``jax``: no subnormals (XLA on CPU flushes them
    to zero, so 5e-324 > 0 is False there: the platform's, not a reading jac could follow)."""
    if edges:
        e = edges_for(dtype)
        if jax:
            e = e[(e == 0) | ~(np.abs(e) < np.finfo(dtype).tiny)]
        return {n: rng.choice(e, s).astype(dtype) for n, s in INPUT_SHAPES.items()}
    return {n: rng.standard_normal(s).astype(dtype) for n, s in INPUT_SHAPES.items()}


def _compiled(program: str):
    lines = program.split("; ")
    return compile("\n".join(lines[:-1]) or "pass", "<fuzz>", "exec"), compile(lines[-1], "<fuzz>", "eval")


def _function(program: str, module, names):
    """The program as a function of its inputs with ``np`` (and ``jnp``) bound to ``module``: a tuple of outputs."""
    body, last = _compiled(program)

    def f(*xs):
        ns = {"np": module, "jnp": module, "float": float, "int": int}
        ns.update(zip(names, xs))
        exec(body, ns)
        out = eval(last, ns)
        return out if isinstance(out, tuple) else (out,)
    return f


def jax_numpy():
    """``jax.numpy``, with float64 enabled (``--jax``'s reference)."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    return jnp


def run_numpy(program: str, inputs: dict, jax: bool = False) -> tuple:
    """The program's outputs by NumPy, or by JAX (``jax``)."""
    module = jax_numpy() if jax else np
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = _function(program, module, list(inputs))(*[module.asarray(v) if jax else v.copy()
                                                          for v in inputs.values()])  # JAX's arrays: JAX's operators
    outs = tuple(np.asarray(o) for o in outs)
    for o in outs:
        if o.dtype.kind not in "biuf":
            raise TypeError(f"a {o.dtype} result")
    return outs


def _autograd_jacobians(program, inputs, k):
    import autograd
    import autograd.numpy as anp

    f = _function(program, anp, list(inputs))
    xs = [v.astype(np.float64) for v in inputs.values()]
    return tuple(np.asarray(autograd.jacobian(lambda *a, i=i: f(*a)[k], i)(*xs)) for i in range(len(xs)))


def _jax_jacobians(program, inputs, k):
    import jax

    jnp = jax_numpy()
    f = _function(program, jnp, list(inputs))
    xs = [jnp.asarray(v.astype(np.float64)) for v in inputs.values()]
    return tuple(np.asarray(j) for j in jax.jacrev(lambda *a: f(*a)[k], argnums=tuple(range(len(xs))))(*xs))


def _central_jacobians(program, inputs, k, h=1e-6, jax=False):
    xs = {n: v.astype(np.float64) for n, v in inputs.items()}
    out = []
    for n, v in xs.items():
        cols = []
        for j in range(v.size):
            e = np.zeros(v.size)
            e[j] = h
            plus = run_numpy(program, {**xs, n: v + e.reshape(v.shape)}, jax)[k].astype(np.float64)
            minus = run_numpy(program, {**xs, n: v - e.reshape(v.shape)}, jax)[k].astype(np.float64)
            cols.append((plus - minus) / (2 * h))
        base = run_numpy(program, xs, jax)[k]
        out.append(np.stack(cols, -1).reshape(base.shape + v.shape) if cols else np.zeros(base.shape + v.shape))
    return tuple(out)


def reference_jacobians(program: str, inputs: dict, k: int, jax: bool = False) -> tuple:
    """(library, Jacobians of output k by each input): autograd, else JAX, else central differences
    (``jax``: JAX, else central differences of JAX's program)."""
    for name, fn in (("jax", _jax_jacobians),) if jax else (("autograd", _autograd_jacobians), ("jax", _jax_jacobians)):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return name, fn(program, inputs, k)
        except Exception:  # noqa: BLE001  (the library lacks an op, a write, a keyword)
            continue
    return "central", _central_jacobians(program, inputs, k, jax=jax)


def run_jac(program: str, inputs: dict, dtype: str, values_only: bool):
    from jacobi_cli.tools import api

    value = api.evaluate(program, inputs, dtype=dtype)
    values = value if isinstance(value, tuple) else (value,)
    if not inputs or values_only:
        return values, None
    J = api.jacobian(program, inputs, dtype=dtype)
    if isinstance(value, tuple):
        return values, tuple(tuple(np.asarray(J[o][n]) for n in inputs) for o in J)
    return values, (tuple(np.asarray(J[n]) for n in inputs),)


def _bitwise_equal(o, t) -> bool:
    o, t = np.asarray(o, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return o.shape == t.shape and bool(((o == t) & (np.signbit(o) == np.signbit(t)) | np.isnan(o) & np.isnan(t)).all())


def classify(program: str, inputs: dict, dtype: str, values_only: bool = False, jax: bool = False) -> tuple:
    """(status, detail): see the module's docstring."""
    from jacobi_cli.errors import JacError

    inputs = used_inputs(program, inputs)
    try:
        routs = run_numpy(program, inputs, jax)
    except Exception as e:  # noqa: BLE001
        return "numpy-error", f"{type(e).__name__}: {str(e)[:100]}"
    try:
        ours, jacs = run_jac(program, inputs, dtype, values_only)
    except JacError as e:
        return "refused", str(e).split("\n")[0]
    except fuzzkit.Timeout:
        return "CRASH", "timeout"
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"
    alt = None
    if dtype == "float32":
        try:
            alt = run_numpy(program, {n: v.astype(np.float64) for n, v in inputs.items()}, jax)
        except Exception:  # noqa: BLE001
            alt = None
    if len(ours) != len(routs):
        return "MISMATCH", f"{len(ours)} outputs vs numpy {len(routs)}"
    rounding = False
    for k, (o, t) in enumerate(zip(ours, routs)):
        o = np.asarray(o)
        if t.dtype == bool and o.size and not np.isin(o, (0, 1)).all():
            return "MISMATCH", f"output {k}: numpy has a bool, jac numbers {o.ravel()[:6]}"
        if t.dtype.kind in "iu" and not np.isfinite(o).all():
            continue  # an integer cast of inf or NaN: NumPy's value is undefined
        if dtype == "float64" and t.dtype.kind == "f" and t.dtype != np.float64:
            return "MISMATCH", f"output {k}: numpy dtype {t.dtype}"
        if not _bitwise_equal(o, t):
            why = differ(o, t, alt[k] if alt and len(alt) > k else None, dtype, ref="jax" if jax else "numpy",
                         rtol=1e-12 if dtype == "float64" and not jax else 1e-9)
            if why:
                return "MISMATCH", f"value {k}: {why}"
            if dtype == "float64" and signed_zeros_differ(o, t):
                return "zero-sign", f"value {k}: a zero's sign differs"
            rounding = True
        if jacs is None or t.dtype.kind != "f":
            continue
        try:
            lib, refs = reference_jacobians(program, inputs, k, jax)
        except fuzzkit.Timeout:  # the alarm covers the whole comparison: not jac's time
            return "numpy-error", "timeout in the reference derivatives"
        for n, j, rj in zip(inputs, jacs[k], refs):
            tol = 1e-3 if dtype == "float32" else 1e-5 if lib == "central" else 1e-9  # jac's float32 rounding
            why = differ(j, rj, None, "float64", derivative=True, ref=lib, rtol=tol)
            if not why:
                continue
            if lib != "central":
                fd = _central_jacobians(program, inputs, k, jax=jax)[list(inputs).index(n)]
                if not differ(j, fd, None, "float64", derivative=True, ref="central", rtol=1e-5):
                    return "ref-deriv", f"d(output {k})/d{n}: {lib} {why}"
            return "MISMATCH", f"d(output {k})/d{n}: {why}"
    return ("rounding", "") if rounding else ("match", "")


def checked(program: str, inputs: dict, dtype: str, values_only: bool = False, jax: bool = False) -> tuple:
    return with_timeout(classify, program, inputs, dtype, values_only, jax)


FOUND = ("MISMATCH", "CRASH", "zero-sign", "ref-deriv")


def _kind(status: str, detail: str) -> str:
    """What a shrunk program must keep: the status and the kind of difference (``value N: NaN positions``,
    ``d(output N)/dx: max``), so that shrinking does not drift to another finding."""
    return status + " " + " ".join(re.sub(r"[0-9]+", "N", detail).split()[:3])


def worker(args) -> dict:
    seed, n, dtype, do_shrink, edges, ints, jax = args
    warnings.simplefilter("ignore")
    counts, refused, terrors, found = Counter(), Counter(), Counter(), []
    for k in range(n):
        rng = random.Random(seed * 1_000_003 + k)
        program = "; ".join(Grammar(rng, dtype, ints).program())
        if jax:
            program = re.sub(r"\bnp\.", "jnp.", program)
        inputs = inputs_for(np.random.default_rng(seed * 1_000_003 + k), dtype, edges, jax)
        status, detail = checked(program, inputs, dtype, edges, jax)
        counts[status] += 1
        if status == "refused":
            refused[bucket(detail)] += 1
        elif status == "numpy-error":
            terrors[detail[:60]] += 1
        elif status in FOUND:
            small = program
            if do_shrink and detail != "timeout":
                small = fuzzkit.shrink(program, lambda p: _kind(*checked(p, inputs, dtype, edges, jax)),
                                       _kind(status, detail), ("jnp",) if jax else MODULES)
            sd = checked(small, inputs, dtype, edges, jax)[1] if small != program else detail
            found.append({"seed": seed * 1_000_003 + k, "program": program, "small": small, "status": status,
                          "detail": sd, "inputs": {n: v.tolist() for n, v in used_inputs(small, inputs).items()}})
            print(f"{status}: {sd}\n  minimal: {small}\n  inputs:  {found[-1]['inputs']}", file=sys.stderr, flush=True)
    return {"counts": counts, "refused": refused, "terrors": terrors, "found": found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--edges", action="store_true",
                    help="inputs from 0, -0, ±inf, NaN, subnormals, ±0.5, ±1, 2; values only (kinks, ties)")
    ap.add_argument("--no-int", action="store_true", help="no integer arrays (casts, integer arithmetic)")
    ap.add_argument("--jax", action="store_true", help="JAX spelling (jnp.), JAX as the reference (see above)")
    ap.add_argument("--show", type=int, default=15, help="refusal messages listed")
    ap.add_argument("--print", action="store_true", help="print the programs drawn and stop")
    a = ap.parse_args()
    if a.print:
        for k in range(a.n):
            print("; ".join(Grammar(random.Random(a.seed * 1_000_003 + k), a.dtype, not a.no_int).program()))
        return 0
    start = time.monotonic()
    per = [(a.seed * 1000 + j, a.n // a.jobs + (j < a.n % a.jobs), a.dtype, not a.no_shrink, a.edges, not a.no_int,
            a.jax) for j in range(a.jobs)]
    merged = run_workers(worker, per)
    report(merged, f"{a.n} programs ({a.dtype}{', edges' if a.edges else ''}{', jax' if a.jax else ''}, seed {a.seed}",
           ("match", "rounding", "refused", "numpy-error", "zero-sign", "ref-deriv", "MISMATCH", "CRASH"),
           a.show, "numpy-error", start)
    counts = merged["counts"]
    return 1 if counts["MISMATCH"] or counts["CRASH"] or counts["zero-sign"] and not a.jax else 0


if __name__ == "__main__":
    sys.exit(main())
