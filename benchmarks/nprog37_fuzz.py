"""A differential fuzz (session 37, h37-numpyfuzz): small random NumPy and jax.numpy *programs* (2-6 statements
over 1-3 inputs of random shapes, 0-d to 3-d, size-1 dimensions included), run by jac and by the libraries.

    PYTHONPATH=. python benchmarks/nprog37_fuzz.py [--n 300] [--seed 0] [--spelling numpy|jax|both] [--show 12]
                                                   [--print] [--only STATUS] [--jac-path DIR]

Each statement is drawn from a vocabulary of ufuncs, reductions (``axis=`` ints, negative ints and tuples,
``keepdims=``, ``ddof=``, ``weights=``), broadcasting, shape ops (reshape with -1 and ``order='F'``, transpose with
axes, swapaxes, moveaxis, squeeze, expand_dims, concatenate / stack / hstack / vstack / split / array_split,
flip / roll / tile / repeat, diag / diagonal / trace / triu / tril), indexing (negative-step slices, integer arrays,
constant boolean masks, ``...``, ``None``, take / take_along_axis), where, clip, einsum, linalg (norm with
``ord=`` / ``axis=``, det, slogdet, inv, solve, pinv, eigh), outer / inner / dot / vdot / kron / tensordot, and
Python control flow over shapes (``for`` over a range, ``if`` on a shape); JAX's own spellings add
``x.at[idx].set/add/mul/min/max``, ``jax.nn.*`` and ``lax.*``; NumPy's add writes (``t[idx] = v``, ``t += v``).
A statement is kept when JAX (x64, eager) runs it, so the programs are valid; about 4% of programs end in a
statement JAX refuses, to see jac refuse it too.

References: the value by NumPy itself (NumPy spelling) or JAX (jax spelling); the Jacobian by every input with
``jax.jacfwd`` (float64) of the program in ``jnp`` spelling (a NumPy write ``t[i] = v`` read as ``t = t.at[i].set(v)``);
where jacfwd cannot trace the program, or JAX's value is not NumPy's, by central differences of the library's
program (step 1e-6, rtol 1e-5). Outcomes:

  AGREE                         values (rtol 1e-9) and Jacobians (rtol 1e-9) equal; an integer or boolean result
                                equal exactly, its Jacobian 0
  BOTH-RAISE                    the library raises and jac refuses
  JAC-REFUSES                   the library answers, jac refuses (a JacError: counted by message)
  JAC-ANSWERS-WHERE-LIB-RAISES  the library raises, jac answers
  CONVENTION                    the Jacobians differ where jac's documented choice applies: at a kink (one-sided
                                differences differ), or JAX's NaN where jac's is the exact value central differences
                                give (docs/expressions.md, "Where a function has a kink")
  WRONG                         a value, shape, or Jacobian differs otherwise
  CRASH                         jac raised what is not a JacError, or took over 30 s

Every WRONG and CRASH is printed with its program and inputs, reduced by dropping statements while it keeps its
outcome. Exit 1 if any WRONG or CRASH.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import sys
import time
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if "--jac-path" in sys.argv:  # another jac source tree (a "before" run): its package first
    ROOT = os.path.abspath(sys.argv[sys.argv.index("--jac-path") + 1])
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import bucket, with_timeout  # noqa: E402

HEAD = {"numpy": "import numpy as np\nimport scipy.special\n",
        "jax": "import jax, jax.numpy as jnp\nfrom jax import lax\nimport jax.scipy.special\n"}
MOD = {"numpy": "np", "jax": "jnp"}


# --- the grammar -------------------------------------------------------------------------------------------

class Gen:
    """One program: ``env`` holds each name's JAX value (the inputs', then each statement's), ``lines`` the
    statements as (NumPy text or None, jnp text or None, jnp text for the reference)."""

    def __init__(self, r: random.Random, jnp, spelling: str):
        self.r, self.jnp, self.spelling = r, jnp, spelling
        self.env: dict = {}
        self.count = 0

    # operands
    def name(self, pred=lambda a: True):
        names = [n for n, v in self.env.items() if pred(v)]
        if not names:
            raise LookupError
        if names[-1].startswith("t") and self.r.random() < 0.5:  # the latest result: fewer dead statements
            return names[-1]
        return self.r.choice(names)

    def axis(self, a, neg=True):
        n = np.ndim(a)
        if n == 0:
            raise LookupError
        k = self.r.randrange(n)
        return k - n if neg and self.r.random() < 0.4 else k

    def axes(self, a):
        n = np.ndim(a)
        if n == 0:
            return "None"
        choice = self.r.random()
        if choice < 0.25:
            return "None"
        if choice < 0.7 or n == 1:
            return str(self.axis(a))
        ks = self.r.sample(range(n), self.r.randint(1, n))
        return "(" + ", ".join(str(k - n if self.r.random() < 0.3 else k) for k in ks) + ("," if len(ks) == 1 else "") + ")"

    def float_lit(self):
        return self.r.choice(["0.5", "-1.5", "2.0", "0.3", "3.0", "-0.7"])

    def ints(self, n, k):
        return "[" + ", ".join(str(self.r.randrange(-n, n)) for _ in range(k)) + "]"

    def sl(self, n):
        start = self.r.choice(["", str(self.r.randrange(-n, n)) if n else "0"])
        stop = self.r.choice(["", str(self.r.randrange(-n, n + 1))])
        step = self.r.choice(["", "", "-1", "2", "-2"])
        return f"{start}:{stop}" + (f":{step}" if step else "")

    # the statements: each returns (numpy text, jnp text); {M} is the module; None: not in that spelling
    def s_unary(self):
        a = self.name()
        f = self.r.choice(["{M}.sin({a})", "{M}.cos({a})", "{M}.tanh({a})", "{M}.exp({a} / 4)", "{M}.log({M}.abs({a}) + 1)",
                           "{M}.sqrt({a} * {a} + 0.5)", "{M}.abs({a})", "{M}.square({a})", "{M}.arctan({a})", "{M}.sinh({a} / 2)",
                           "{M}.expm1({a} / 3)", "{M}.log1p({M}.abs({a}))", "{M}.sign({a}) * {a}", "{M}.negative({a})",
                           "{M}.reciprocal({a} * {a} + 1)", "{M}.cbrt({a} + 5)", "{M}.maximum({a}, 0)", "{M}.minimum({a}, 0.2)",
                           "{a} ** 3", "{M}.power({M}.abs({a}) + 1, 1.5)", "{M}.exp2({a} / 2)", "{M}.hypot({a}, 1.0)",
                           "{M}.logaddexp({a}, 0.5)", "{M}.sinc({a})", "{M}.arcsinh({a})", "-{a}", "{a} * 2.5 - 1",
                           "{M}.floor({a}) + {a}", "{M}.round({a}, 1) * {a}", "{M}.fmod({a}, 0.7)", "{a} % 0.7",
                           "{M}.heaviside({a}, 0.5) * {a}", "{M}.copysign({a}, -1.0)", "{M}.deg2rad({a})"])
        return f.format(M="{M}", a=a)

    def s_binary(self):
        a = self.name()
        b = self.name(lambda v: self._broadcasts(self.env[a], v))
        op = self.r.choice(["{a} + {b}", "{a} * {b}", "{a} - {b}", "{a} / ({b} * {b} + 1)", "{M}.maximum({a}, {b})",
                            "{M}.minimum({a}, {b})", "{M}.hypot({a}, {b})", "{M}.arctan2({a}, {b})", "{M}.add({a}, {b})",
                            "{M}.multiply({a}, {b})", "{M}.power({M}.abs({a}) + 1, {b})", "{M}.logaddexp({a}, {b})",
                            "{a} @ {b}", "{M}.matmul({a}, {b})", "{M}.where({a} > {b}, {a}, {b})",
                            "{M}.where({b} > 0, {a}, 0.0)", "{M}.clip({a}, -0.5, 0.8)", "{M}.clip({a}, {b} - 1, {b} + 1)",
                            "{M}.fmax({a}, {b})", "{M}.fmin({a}, {b})", "{M}.true_divide({a}, 2.0 + {b} * {b})"])
        if "@" in op or "matmul" in op:
            b = self.name(lambda v: np.ndim(v) >= 1 and np.ndim(self.env[a]) >= 1 and np.shape(v)[-2 if np.ndim(v) > 1 else 0] == np.shape(self.env[a])[-1])
        return op.format(M="{M}", a=a, b=b)

    @staticmethod
    def _broadcasts(u, v):
        try:
            np.broadcast_shapes(np.shape(u), np.shape(v))
            return True
        except ValueError:
            return False

    def s_reduce(self):
        a = self.name()
        f = self.r.choice(["sum", "mean", "prod", "max", "min", "ptp", "var", "std", "nansum", "cumsum", "cumprod",
                           "average", "nanmean", "amax", "nanmax", "argmax", "count_nonzero", "median", "logsumexp",
                           "any", "all", "nanprod", "cummax"])
        ax = self.axes(self.env[a])
        if f in ("cumsum", "cumprod"):
            ax = str(self.axis(self.env[a])) if np.ndim(self.env[a]) and self.r.random() < 0.8 else "None"
            return f"{{M}}.{f}({a}, axis={ax})"
        if f == "cummax":
            return None
        if f == "logsumexp":
            return f"{{S}}.logsumexp({a}, axis={ax})"
        if f == "argmax":
            ax = str(self.axis(self.env[a])) if np.ndim(self.env[a]) else "None"
            return f"{{M}}.argmax({a}, axis={ax}) * 1.0 + {a}.sum()"
        if f in ("any", "all"):
            return f"{{M}}.where({{M}}.{f}({a} > 0, axis={ax}), 1.0, -2.0) * {{M}}.sum({a})"
        if f == "count_nonzero":
            return f"{{M}}.count_nonzero({a} > 0, axis={ax}) * {{M}}.mean({a})"
        if f == "average":
            if ax == "None" or "(" in ax:
                return f"{{M}}.average({a}, axis={ax})"
            n = np.shape(self.env[a])[int(ax)]
            w = "[" + ", ".join(self.r.choice(["1.0", "2.0", "0.5", "3.0"]) for _ in range(n)) + "]"
            return f"{{M}}.average({a}, axis={ax}, weights={{M}}.array({w}))"
        kw = ", keepdims=True" if self.r.random() < 0.35 else ""
        if f in ("var", "std") and self.r.random() < 0.5:
            kw += ", ddof=1"
        if f == "median":
            kw = ""
        if self.r.random() < 0.2 and f in ("sum", "max", "min", "mean", "prod", "var", "std", "ptp"):
            return f"{a}.{f}(axis={ax}{kw})"
        return f"{{M}}.{f}({a}, axis={ax}{kw})"

    def s_shape(self):
        a = self.name()
        v = self.env[a]
        shape, n = np.shape(v), np.ndim(v)
        r = self.r
        choice = r.choice(["reshape", "reshape", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims",
                           "concatenate", "stack", "hstack", "vstack", "split", "array_split", "flip", "roll",
                           "tile", "repeat", "diag", "diagonal", "trace", "triu", "tril", "ravel", "T", "flatten",
                           "broadcast_to", "atleast_2d", "squeeze_all"])
        if choice == "reshape":
            size = int(np.prod(shape))
            divs = [d for d in range(1, size + 1) if size % d == 0]
            d = r.choice(divs)
            new = r.choice([f"({d}, -1)", f"(-1, {d})", "-1", f"({d}, {size // d})", f"(1, {d}, -1)"])
            order = r.choice(["", "", ", order='F'", ", order='C'"])
            return r.choice([f"{{M}}.reshape({a}, {new}{order})", f"{a}.reshape({new}{order})"])
        if choice in ("transpose", "T"):
            if choice == "T" or n < 2 or r.random() < 0.3:
                return f"{a}.T" if choice == "T" else f"{{M}}.transpose({a})"
            perm = list(range(n))
            r.shuffle(perm)
            perm = [p - n if r.random() < 0.3 else p for p in perm]
            return r.choice([f"{{M}}.transpose({a}, {tuple(perm)})", f"{a}.transpose({', '.join(map(str, perm))})"])
        if choice == "swapaxes":
            return f"{{M}}.swapaxes({a}, {self.axis(v)}, {self.axis(v)})"
        if choice == "moveaxis":
            return f"{{M}}.moveaxis({a}, {self.axis(v)}, {self.axis(v)})"
        if choice == "squeeze":
            ones = [k for k, s in enumerate(shape) if s == 1]
            if not ones:
                raise LookupError
            k = r.choice(ones)
            return f"{{M}}.squeeze({a}, axis={k - n if r.random() < 0.4 else k})"
        if choice == "squeeze_all":
            return f"{a}.squeeze()"
        if choice == "expand_dims":
            k = r.randrange(-(n + 1), n + 1)
            return f"{{M}}.expand_dims({a}, {k})"
        if choice in ("concatenate", "stack", "hstack", "vstack"):
            b = self.name(lambda u: np.shape(u) == shape or (choice == "concatenate" and np.ndim(u) == n))
            if choice == "concatenate":
                return f"{{M}}.concatenate([{a}, {b}], axis={self.axis(v) if n else 0})"
            if choice == "stack":
                return f"{{M}}.stack([{a}, {b}], axis={r.randrange(-(n + 1), n + 1)})"
            return f"{{M}}.{choice}(({a}, {b}))"
        if choice in ("split", "array_split"):
            k = self.axis(v)
            m = shape[k]
            parts = r.choice([d for d in range(1, m + 1) if m % d == 0] if choice == "split" else [1, 2, 3])
            if r.random() < 0.3 and m > 1:
                parts = f"[{r.randrange(1, m)}]"
                return f"{{M}}.{choice}({a}, {parts}, axis={k})[{r.randrange(-2, 2)}]"
            return f"{{M}}.{choice}({a}, {parts}, axis={k})[{r.randrange(-1, 1)}]"
        if choice == "flip":
            return f"{{M}}.flip({a}, axis={self.axes(v)})"
        if choice == "roll":
            return f"{{M}}.roll({a}, {r.randrange(-3, 4)}, axis={self.axes(v)})"
        if choice == "tile":
            return f"{{M}}.tile({a}, {r.choice(['2', '(2, 1)', '(1, 2)', '(2, 1, 1)'])})"
        if choice == "repeat":
            ax = str(self.axis(v)) if n and r.random() < 0.7 else "None"
            return f"{{M}}.repeat({a}, {r.choice(['2', '3'])}, axis={ax})"
        if choice == "diag":
            if n not in (1, 2):
                raise LookupError
            return f"{{M}}.diag({a}, {r.choice([0, 0, 1, -1])})"
        if n < 2:
            raise LookupError
        if choice == "diagonal":
            a1, a2 = r.sample(range(n), 2)
            return f"{{M}}.diagonal({a}, {r.choice([0, 0, 1, -1])}, {a1}, {a2})"
        if choice == "trace":
            return f"{{M}}.trace({a}, {r.choice([0, 1])})"
        if choice in ("triu", "tril"):
            return f"{{M}}.{choice}({a}, {r.choice([0, 1, -1])})"
        if choice == "ravel":
            return f"{{M}}.ravel({a}{r.choice(['', ', order=' + repr('F')])})"
        if choice == "flatten":
            return f"{a}.flatten()"
        if choice == "broadcast_to":
            return f"{{M}}.broadcast_to({a}, (2,) + {a}.shape)"
        return f"{{M}}.atleast_2d({a})"

    def s_index(self):
        a = self.name(lambda u: np.ndim(u) >= 1)
        v = self.env[a]
        shape, n = np.shape(v), np.ndim(v)
        r = self.r
        choice = r.choice(["slice", "slice", "int", "intarr", "mask", "ellipsis", "newaxis", "take", "take_along",
                           "mixed", "argsort_take"])
        if choice == "slice":
            parts = [self.sl(shape[k]) for k in range(r.randint(1, n))]
            return f"{a}[{', '.join(parts)}]"
        if choice == "int":
            return f"{a}[{r.randrange(-shape[0], shape[0])}]"
        if choice == "intarr":
            return f"{a}[{{M}}.array({self.ints(shape[0], r.randint(1, 4))})]"
        if choice == "mask":
            bits = "[" + ", ".join(r.choice(["True", "False"]) for _ in range(shape[0])) + "]"
            return f"{a}[{{M}}.array({bits})]"
        if choice == "ellipsis":
            return f"{a}[..., {r.randrange(-shape[-1], shape[-1])}]" if r.random() < 0.5 else f"{a}[..., {self.sl(shape[-1])}]"
        if choice == "newaxis":
            return r.choice([f"{a}[None]", f"{a}[:, None]", f"{a}[..., {{M}}.newaxis]", f"{a}[{{M}}.newaxis, ..., None]"])
        if choice == "take":
            k = self.axis(v)
            return f"{{M}}.take({a}, {{M}}.array({self.ints(shape[k], r.randint(1, 4))}), axis={k})"
        if choice == "take_along":
            k = self.axis(v)
            return f"{{M}}.take_along_axis({a}, {{M}}.argsort({a}, axis={k}), axis={k})"
        if choice == "argsort_take":
            return f"{a}[{{M}}.argsort({a}.ravel()[:{shape[0]}]) % {shape[0]}]"
        if n < 2:
            raise LookupError
        return f"{a}[{{M}}.array({self.ints(shape[0], 2)}), {self.sl(shape[1])}]" if r.random() < 0.5 else \
            f"{a}[{{M}}.array({self.ints(shape[0], 2)}), {{M}}.array({self.ints(shape[1], 2)})]"

    def s_linalg(self):
        r = self.r
        sq = self.name(lambda u: np.ndim(u) >= 2 and np.shape(u)[-1] == np.shape(u)[-2])if r.random() < 0.6 else None
        if sq:
            f = r.choice(["det", "inv", "solve", "pinv", "eigh", "slogdet", "eigvalsh", "trace_inv", "matrix_power"])
            if f == "solve":
                return f"{{M}}.linalg.solve({sq} + 3.0 * {{M}}.eye({np.shape(self.env[sq])[-1]}), {sq})"
            if f == "eigh":
                return f"{{M}}.linalg.eigh({sq} + {{M}}.swapaxes({sq}, -1, -2))[0]"
            if f == "eigvalsh":
                return f"{{M}}.linalg.eigvalsh({sq} @ {{M}}.swapaxes({sq}, -1, -2))"
            if f == "slogdet":
                return f"{{M}}.linalg.slogdet({sq})[1]"
            if f == "matrix_power":
                return f"{{M}}.linalg.matrix_power({sq}, {r.choice([2, 3, -1])})"
            if f == "trace_inv":
                return f"{{M}}.trace({{M}}.linalg.inv({sq} + 3.0 * {{M}}.eye({np.shape(self.env[sq])[-1]})))"
            return f"{{M}}.linalg.{f}({sq})"
        a = self.name(lambda u: np.ndim(u) >= 1)
        v = self.env[a]
        n = np.ndim(v)
        f = r.choice(["norm", "norm", "outer", "inner", "dot", "vdot", "kron", "tensordot", "einsum", "pinv_rect"])
        if f == "norm":
            if n == 1 or r.random() < 0.3:
                ords = ["None", "1", "2", "np.inf", "-np.inf", "3"] if n == 1 else ["None"]
                ax = "" if n == 1 else f", axis={self.axis(v)}"
                o = r.choice(ords).replace("np.", "{M}.")
                return f"{{M}}.linalg.norm({a}, ord={o}{ax})" if (ax or n == 1) else f"{{M}}.linalg.norm({a})"
            a1, a2 = r.sample(range(n), 2)
            o = r.choice(["'fro'", "1", "-1", "{M}.inf", "2", "'nuc'", "None"])
            return f"{{M}}.linalg.norm({a}, ord={o}, axis=({a1}, {a2}){r.choice(['', ', keepdims=True'])})"
        b = self.name(lambda u: np.ndim(u) >= 1)
        if f == "outer":
            return f"{{M}}.outer({a}, {b})"
        if f == "kron":
            return f"{{M}}.kron({a}, {b})"
        if f == "vdot":
            b = self.name(lambda u: np.size(u) == np.size(v))
            return f"{{M}}.vdot({a}, {b})"
        if f == "inner":
            b = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[-1] == np.shape(v)[-1])
            return f"{{M}}.inner({a}, {b})"
        if f == "dot":
            b = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[-2 if np.ndim(u) > 1 else 0] == np.shape(v)[-1])
            return f"{{M}}.dot({a}, {b})"
        if f == "tensordot":
            b = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[0] == np.shape(v)[-1])
            if r.random() < 0.5:
                return f"{{M}}.tensordot({a}, {b}, axes=1)"
            return f"{{M}}.tensordot({a}, {b}, axes=([{n - 1}], [0]))"
        if f == "pinv_rect":
            if n < 2:
                raise LookupError
            return f"{{M}}.linalg.pinv({a})"
        # einsum
        letters = "ijk"[:n]
        b = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[0] == np.shape(v)[-1])
        lb = letters[-1] + "lm"[:np.ndim(self.env[b]) - 1]
        out = r.choice(["", letters[0], letters[:-1] + lb[1:], "".join(sorted(set(letters + lb) - {letters[-1]}))])
        out = "".join(dict.fromkeys(c for c in out if c != letters[-1] or r.random() < 0.3))
        if r.random() < 0.3 and n >= 2 and np.shape(v)[0] == np.shape(v)[1]:
            return f"{{M}}.einsum('ii{letters[2:]}->{r.choice(['', 'i'])}', {a})"
        return f"{{M}}.einsum('{letters},{lb}->{out}', {a}, {b})"

    def s_flow(self):
        a = self.name()
        r = self.r
        t = self.fresh_name_peek()
        choice = r.choice(["for", "if", "ifelse", "while", "listsum"])
        if choice == "for":
            k = r.randint(1, 3)
            return ("block", f"{t} = {a}\nfor i in range({k}):\n    {t} = {{M}}.sin({t}) * (i + 1) + {a}")
        if choice == "if":
            return ("block", f"{t} = {a} * 2.0\nif {a}.ndim > 1:\n    {t} = {t}.sum(axis=0)")
        if choice == "ifelse":
            return ("block", f"if {a}.shape[-1:] == (1,) or {a}.size > 4:\n    {t} = {{M}}.cos({a})\nelse:\n    {t} = {a} ** 2")
        if choice == "while":
            return ("block", f"{t} = {a}\nn = 0\nwhile n < {r.randint(1, 3)}:\n    {t} = {t} * 0.5 + {{M}}.tanh({t})\n    n += 1")
        b = self.name(lambda u: np.shape(u) == np.shape(self.env[a]))
        return ("block", f"{t} = sum([{a}, {b}, {a} * {b}])")

    def s_write(self):
        """A write into a copy: NumPy's ``t[idx] = v`` / ``t[idx] += v``, JAX's ``.at[idx].set/add/mul/min/max``."""
        a = self.name(lambda u: np.ndim(u) >= 1)
        v = self.env[a]
        shape = np.shape(v)
        r = self.r
        idx = r.choice([str(r.randrange(-shape[0], shape[0])), self.sl(shape[0]), "...",
                        f"{{M}}.array({self.ints(shape[0], 2)})", f"{self.sl(shape[0])}, {r.randrange(-1, 1)}" if len(shape) > 1 and shape[1] >= 1 else "0"])
        src = self.name(lambda u: np.ndim(u) == 0)
        src = r.choice([src, self.float_lit(), f"{{M}}.sin({src})"])
        t = self.fresh_name_peek()
        kind = r.choice(["set", "add", "mul", "min", "max"])
        npop = {"set": "=", "add": "+=", "mul": "*=", "min": None, "max": None}[kind]
        jx = f"{t} = {a}.at[{idx}].{kind}({src})"
        if npop is None:
            nptext = None
        else:
            nptext = f"{t} = {a}.copy()\n{t}[{idx}] {npop} {src}"
        return ("write", nptext, jx)

    def s_jaxonly(self):
        a = self.name()
        r = self.r
        f = r.choice(["jax.nn.relu({a})", "jax.nn.softplus({a})", "jax.nn.sigmoid({a})", "jax.nn.gelu({a})",
                      "jax.nn.silu({a})", "jax.nn.softmax({a}, axis={ax})", "jax.nn.log_softmax({a}, axis={ax})",
                      "jax.nn.logsumexp({a}, axis={ax})", "jax.nn.elu({a})", "jax.nn.leaky_relu({a}, 0.1)",
                      "jax.nn.standardize({a}, axis={ax})", "jax.nn.one_hot(jnp.argmax({a}, axis={ax}), 3) * 1.0",
                      "jax.nn.relu6({a} * 4)", "jax.nn.hard_tanh({a} * 2)", "jax.nn.celu({a})", "jax.nn.glu({a}, axis={ax})",
                      "lax.add({a}, {a})", "lax.mul({a}, {a})", "lax.sin({a})", "lax.exp({a} / 3)", "lax.neg({a})",
                      "lax.square({a})", "lax.rsqrt({a} * {a} + 1)", "lax.tanh({a})", "lax.max({a}, 0.0 * {a})",
                      "lax.clamp(-0.5, {a}, 0.5)", "lax.select({a} > 0, {a}, -{a})", "lax.integer_pow({a}, 3)",
                      "lax.reduce_sum({a}, axes=({ax0},))", "lax.cumsum({a}, axis={ax0})", "lax.rev({a}, ({ax0},))",
                      "lax.transpose({a}, {perm})", "lax.slice_in_dim({a}, 0, 1, axis={ax0})", "lax.expand_dims({a}, (0,))",
                      "lax.dynamic_slice_in_dim({a}, 1, 1, axis={ax0})", "lax.pow({a} * {a} + 1, 0.5)",
                      "lax.stop_gradient({a}) * {a}", "lax.cumprod({a}, axis={ax0})", "lax.cummax({a}, axis={ax0})",
                      "lax.sort({a}, dimension={ax0})", "lax.dot({a}, {a}) if {a}.ndim == 1 else {a}"])
        v = self.env[a]
        n = np.ndim(v)
        if ("{ax0}" in f or "{perm}" in f) and n == 0:
            raise LookupError
        ax = str(self.axis(v)) if n else "None"
        perm = tuple(r.sample(range(n), n)) if n else ()
        return f.format(a=a, ax=ax, ax0=r.randrange(n) if n else 0, perm=perm)

    def fresh_name_peek(self):
        return f"t{self.count + 1}"

    def statement(self):
        kinds = ["s_unary", "s_binary", "s_binary", "s_reduce", "s_reduce", "s_shape", "s_shape", "s_index",
                 "s_index", "s_linalg", "s_flow", "s_write"]
        if self.spelling == "jax":
            kinds += ["s_jaxonly", "s_jaxonly"]
        k = self.r.choice(kinds)
        got = getattr(self, k)()
        if got is None:
            raise LookupError
        t = self.fresh_name_peek()
        if isinstance(got, tuple) and got[0] == "block":
            text = got[1]
            return text.replace("{M}", "np").replace("{S}", "scipy.special"), \
                text.replace("{M}", "jnp").replace("{S}", "jax.scipy.special"), \
                text.replace("{M}", "jnp").replace("{S}", "jax.scipy.special")
        if isinstance(got, tuple) and got[0] == "write":
            nptext, jx = got[1], got[2]
            jx = jx.replace("{M}", "jnp")
            return (nptext.replace("{M}", "np") if nptext else None), jx, jx
        if "jax.nn" in got or "lax." in got:
            return None, f"{t} = {got}", f"{t} = {got}"
        return f"{t} = " + got.replace("{M}", "np").replace("{S}", "scipy.special"), \
            f"{t} = " + got.replace("{M}", "jnp").replace("{S}", "jax.scipy.special"), \
            f"{t} = " + got.replace("{M}", "jnp").replace("{S}", "jax.scipy.special")


def draw_inputs(r: random.Random, nr) -> dict:
    out = {}
    for name in ["x", "y", "z"][:r.randint(1, 3)]:
        nd = r.choice([0, 1, 1, 2, 2, 2, 3])
        while True:
            shape = tuple(r.choice([1, 2, 3, 3, 4]) for _ in range(nd))
            if nd == 2 and r.random() < 0.4:
                shape = (shape[0], shape[0])
            if int(np.prod(shape)) <= 24:
                break
        out[name] = np.round(nr.normal(size=shape), 3).astype(np.float64) + 0.0
    return out


def draw_program(seed: int, spelling: str, jax_env):
    """(program text in the spelling, the jnp reference text, inputs) or None."""
    jax, jnp = jax_env
    r = random.Random(seed)
    nr = np.random.default_rng(seed)
    inputs = draw_inputs(r, nr)
    g = Gen(r, jnp, spelling)
    g.env = {k: jnp.asarray(v) for k, v in inputs.items()}
    lines, refs = [], []
    target = r.randint(2, 6)
    tries = 0
    imports = "import jax, jax.numpy as jnp\nfrom jax import lax\nimport jax.scipy.special\nimport scipy.special\n"
    scope: dict = {}
    exec(imports, scope)  # noqa: S102 - the fuzz's own text
    bad = False
    while len(lines) < target and tries < 60:
        tries += 1
        try:
            npt, jxt, ref = g.statement()
        except (LookupError, ValueError, IndexError):
            continue
        text = npt if spelling == "numpy" else jxt
        if text is None:
            continue
        local = dict(scope, **g.env)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(ref, local)  # noqa: S102 - the fuzz's own text
            val = local[g.fresh_name_peek()]
            if not hasattr(val, "shape") or np.size(val) > 200 or not np.all(np.isfinite(np.asarray(val, dtype=float))):
                continue
        except Exception:  # noqa: BLE001 - JAX refuses this statement: usually draw another
            if r.random() < 0.04 and lines:
                lines.append(text)
                refs.append(ref)
                g.count += 1
                bad = True
                break
            continue
        g.count += 1
        g.env[f"t{g.count}"] = val
        lines.append(text)
        refs.append(ref)
    if len(lines) < 2:
        return None
    last = f"t{g.count}"
    if not bad and r.random() < 0.3:
        last = r.choice([f"{last}.sum()", f"{last} * 2.0", f"({last} ** 2).mean()"])
    body = "\n".join(lines) + "\n" + last
    ref_body = "\n".join(refs) + "\n" + last
    return HEAD[spelling] + body, ref_body, inputs


# --- running ----------------------------------------------------------------------------------------------------

def _split(code):
    tree = ast.parse(code)
    return (compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<p>", "exec"),
            compile(ast.Expression(tree.body[-1].value), "<p>", "eval"))


def jax_function(ref_body, names, jax_env):
    jax, jnp = jax_env
    body, last = _split("import jax, jax.numpy as jnp\nfrom jax import lax\nimport jax.scipy.special\n" + ref_body)

    def f(*args):
        scope = dict(zip(names, args))
        exec(body, scope)  # noqa: S102 - the fuzz's own text
        return eval(last, scope)  # noqa: S307
    return f


def numpy_function(program, names):
    body, last = _split(program)

    def f(*args):
        scope = {n: np.array(a, dtype=np.float64) for n, a in zip(names, args)}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(body, scope)  # noqa: S102
            return np.asarray(eval(last, scope))  # noqa: S307
    return f


def central(fn, args, h=1e-6, side=0):
    """d fn / d each arg by differences (side 0 central, +1 forward, -1 backward), each (out.shape + arg.shape)."""
    base = np.asarray(fn(*args), dtype=float)
    out = []
    for k, a in enumerate(args):
        cols = np.zeros(base.shape + np.shape(a))
        for i in np.ndindex(np.shape(a)):
            up, down = [np.array(v, dtype=float) for v in args], [np.array(v, dtype=float) for v in args]
            up[k][i] += h if side >= 0 else 0
            down[k][i] -= h if side <= 0 else 0
            d = (np.asarray(fn(*up), dtype=float) - np.asarray(fn(*down), dtype=float)) / (h * (2 if side == 0 else 1))
            cols[(...,) + i] = d
        out.append(cols)
    return out


def close(a, b, rtol):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    if a.size == 0:
        return True
    scale = max(1.0, float(np.nanmax(np.abs(b))) if np.isfinite(b).any() else 1.0)
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True))


def reference(program, ref_body, inputs, spelling, jax_env):
    """(value, dtype kind, [jacobian per input], how) from the libraries; raises what the library raises."""
    jax, jnp = jax_env
    names = list(inputs)
    args = [inputs[n] for n in names]
    jf = jax_function(ref_body, names, jax_env)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spelling == "numpy":
            value = numpy_function(program, names)(*args)
        else:
            value = np.asarray(jf(*[jnp.asarray(a) for a in args]))
    kind = value.dtype.kind
    if kind not in "f":
        return value, kind, [np.zeros(value.shape + np.shape(a)) for a in args], "zero"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            jv = np.asarray(jf(*[jnp.asarray(a) for a in args]))
            if not close(jv, value, 1e-9):
                raise ValueError("JAX's value is not NumPy's")
            jacs = jax.jacfwd(jf, argnums=tuple(range(len(args))))(*[jnp.asarray(a) for a in args])
        return value, kind, [np.asarray(j, dtype=float) for j in jacs], "jax"
    except Exception:  # noqa: BLE001 - jacfwd cannot trace it: central differences of the library's program
        fn = numpy_function(program, names) if spelling == "numpy" else (lambda *a: np.asarray(jf(*[jnp.asarray(v) for v in a])))
        return value, kind, central(fn, args), "central"


def run_jac(program, inputs):
    """jac's value and Jacobians; the Jacobian asked three times (the first call runs the dense passes, the
    second the plan, the third the kernel learnt at the second), each compared with the reference."""
    from jacobi_cli.tools import api
    value = np.asarray(api.evaluate(program, inputs))
    calls = []
    for _ in range(3):
        jac = api.jacobian(program, inputs)
        calls.append([np.asarray(jac[n]) if n in jac else None for n in inputs])
    return value, calls


def convention(program, ref_body, inputs, spelling, jax_env, ours, theirs):
    """Whether a Jacobian difference is at a kink (one-sided differences differ) or a NaN of JAX's where jac has
    what central differences give."""
    jax, jnp = jax_env
    names = list(inputs)
    args = [inputs[n] for n in names]
    jf = jax_function(ref_body, names, jax_env)
    fn = numpy_function(program, names) if spelling == "numpy" else (lambda *a: np.asarray(jf(*[jnp.asarray(v) for v in a])))
    fwd, bwd, cen = central(fn, args, 1e-7, 1), central(fn, args, 1e-7, -1), central(fn, args, 1e-6)
    for o, t, f, b, c in zip(ours, theirs, fwd, bwd, cen):
        if o is None or close(o, t, 1e-9):
            continue
        if np.isnan(t).any() and close(np.where(np.isnan(t) & np.isnan(c), 0, o), np.where(np.isnan(t) & np.isnan(c), 0, c), 1e-5):
            continue  # JAX's NaN where jac's is exact (a NaN output that does not depend on the input: jac's 0)
        if not close(f, b, 1e-3):
            continue
        return False
    return True


def classify(program, ref_body, inputs, spelling, jax_env):
    from jacobi_cli.errors import JacError
    try:
        value, kind, jacs, how = reference(program, ref_body, inputs, spelling, jax_env)
        lib_error = None
    except Exception as e:  # noqa: BLE001
        lib_error = f"{type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}"
    try:
        ours, calls = run_jac(program, inputs)
    except JacError as e:
        return ("BOTH-RAISE" if lib_error else "JAC-REFUSES"), str(e).splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"
    if lib_error:
        return "JAC-ANSWERS-WHERE-LIB-RAISES", lib_error
    if ours.shape != value.shape:
        return "WRONG", f"value shape: jac {ours.shape}, library {value.shape}"
    if kind in "biu":
        if not np.array_equal(ours.astype(float), value.astype(float)):
            return "WRONG", f"{kind} value: jac {ours.ravel()[:6]}, library {value.ravel()[:6]}"
    elif not close(ours, value, 1e-9):
        return "WRONG", f"value: jac {ours.ravel()[:6]}, library {value.ravel()[:6]}"
    conventional, first = None, ""
    for call, our_jacs in enumerate(calls, 1):
        for n, o, t in zip(inputs, our_jacs, jacs):
            if o is None:
                o = np.zeros_like(t)
            if o.shape != t.shape:
                return "WRONG", f"d/d{n} shape (call {call}): jac {o.shape}, library {t.shape}"
            if not close(o, t, 1e-9 if how != "central" else 1e-5):
                if conventional is None:
                    conventional = convention(program, ref_body, inputs, spelling, jax_env, our_jacs, jacs)
                if not conventional:
                    return "WRONG", f"d/d{n} ({how}, call {call}): jac {o.ravel()[:8]}, library {t.ravel()[:8]}"
                if call == 1:
                    first = f"d/d{n} ({how}): jac {o.ravel()[:6]}, library {t.ravel()[:6]}"
        if call > 1 and any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(our_jacs, calls[0])
                            if a is not None and b is not None):
            return "WRONG", f"call {call}'s Jacobian is not call 1's"
    return ("CONVENTION", first) if conventional else ("AGREE", "")


def checked(program, ref_body, inputs, spelling, jax_env):
    return with_timeout(classify, program, ref_body, inputs, spelling, jax_env, seconds=30)


def reduce(program, ref_body, inputs, spelling, jax_env, status):
    """Drop statements (a program's and its reference's together) while the outcome stays ``status``."""
    head = HEAD[spelling]
    body = ast.parse(program[len(head):]).body
    refs = ast.parse(ref_body).body
    if len(body) != len(refs):
        return program
    k = 0
    while k < len(body) - 1:
        nb, nr = body[:k] + body[k + 1:], refs[:k] + refs[k + 1:]
        p = head + "\n".join(ast.unparse(s) for s in nb)
        rb = "\n".join(ast.unparse(s) for s in nr)
        try:
            got = checked(p, rb, inputs, spelling, jax_env)[0]
        except Exception:  # noqa: BLE001
            got = None
        if got == status:
            body, refs = nb, nr
        else:
            k += 1
    return head + "\n".join(ast.unparse(s) for s in body)


STATUSES = ("AGREE", "BOTH-RAISE", "JAC-REFUSES", "JAC-ANSWERS-WHERE-LIB-RAISES", "CONVENTION", "WRONG", "CRASH")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300, help="programs per spelling")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spelling", default="both", choices=["numpy", "jax", "both"])
    ap.add_argument("--show", type=int, default=12)
    ap.add_argument("--print", action="store_true", help="print the programs drawn and stop")
    ap.add_argument("--only", default=None, help="print the programs of this outcome")
    ap.add_argument("--jac-path", default=None, help="the jac source tree to run (default: this one)")
    a = ap.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    jax_env = (jax, jnp)
    start = time.monotonic()
    bad = 0
    spellings = ["numpy", "jax"] if a.spelling == "both" else [a.spelling]
    for spelling in spellings:
        counts, refusals, found = Counter(), Counter(), []
        for k in range(a.n):
            seed = a.seed * 1_000_003 + k
            drawn = draw_program(seed, spelling, jax_env)
            if drawn is None:
                continue
            program, ref_body, inputs = drawn
            if a.print:
                print(f"# seed {seed}\n{program}\n")
                continue
            status, detail = checked(program, ref_body, inputs, spelling, jax_env)
            counts[status] += 1
            if (k + 1) % 25 == 0:
                print(f"  [{spelling} {k + 1}/{a.n}, {time.monotonic() - start:.0f} s] "
                      + ", ".join(f"{s} {c}" for s, c in sorted(counts.items())), file=sys.stderr, flush=True)
            if status in ("JAC-REFUSES", "BOTH-RAISE"):
                refusals[(status, bucket(detail))] += 1
            if status in ("WRONG", "CRASH") or status == a.only:
                small = reduce(program, ref_body, inputs, spelling, jax_env, status) if status in ("WRONG", "CRASH") else program
                found.append(status)
                print(f"{status} [{spelling} seed {seed}] {detail}\n--- program:\n{small}\n--- inputs: "
                      f"{ {n: v.tolist() for n, v in inputs.items()} }\n", flush=True)
        if a.print:
            continue
        print(f"\ntop refusals ({spelling}):")
        for (st, msg), c in refusals.most_common(a.show):
            print(f"  {c:4d}  {st:11s} {msg}")
        print(f"\n{spelling}: {sum(counts.values())} programs ({time.monotonic() - start:.0f} s): "
              + ", ".join(f"{s} {counts[s]}" for s in STATUSES), flush=True)
        bad += counts["WRONG"] + counts["CRASH"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
