"""A differential fuzz (session 39, h39-jaxprog): random JAX *programs* as a user pastes them, run by jac and by
JAX itself (x64), compared entry by entry.

    PYTHONPATH=. python benchmarks/jaxprog39_fuzz.py [--n 200] [--seed 0] [--workers 2] [--show 15]
        [--print] [--only STATUS] [--jac-path DIR] [--rtol 1e-12]

A program is ``import jax, jax.numpy as jnp`` / ``from jax import lax``, a few helper functions, a function
``f`` of the inputs (``x`` a vector, ``W`` a matrix, sometimes ``s`` a scalar), often under ``@jax.jit``,
and the call ``f(...)`` as its last line. ``f``'s body is 2-6 statements drawn from: ``jax.nn`` activations,
``jax.nn.softmax / log_softmax(axis=)``, jnp element-wise functions and operators with broadcasting,
reductions with ``axis`` / ``keepdims`` / ``where``, ``jnp.where``, ``jnp.take_along_axis``,
``.at[].set/add/mul/min/max``, ``jnp.einsum``, ``lax.dynamic_slice`` / ``dynamic_update_slice`` (constant or
data-dependent starts), ``lax.cumsum / cumprod``, ``lax.scan`` with tuple and dict carries (``reverse``, xs None
and ``length``), ``lax.fori_loop``, ``lax.while_loop`` with a data-dependent trip count (at most 8 trips),
``lax.cond`` / ``lax.switch`` on the data, ``jax.vmap`` with ``in_axes`` / ``out_axes``, ``jax.grad`` /
``jacrev`` / ``jacfwd`` / ``hessian`` / ``jvp`` / ``value_and_grad`` inside the program, integer and float32
operands (dtype promotion with x64 on), and, rarely, forms JAX refuses (a Python ``if`` of the data under
``jax.jit``, ``jax.grad`` over a ``while_loop``) to see jac refuse them too.

Each program is compared on four results: the value (``f(...)`` by JAX), the Jacobian by every input (jac's
``api.jacobian`` against ``jax.jacrev``, or ``jax.jacfwd`` where the program holds a ``while_loop``, which JAX's
reverse mode refuses and jac differentiates by its own rules, as documented), a JVP along random tangents
(``jax.jvp``) and the Hessian (every pair, against ``jax.hessian`` or ``jacfwd(jacfwd)`` likewise). Entries agree
when ``|jac - jax| <= rtol * (|jax| + max(1, max |jax|))`` (``--rtol``, 1e-12). Outcomes per program:

  AGREE                         all four agree
  BOTH-RAISE                    JAX raises running the program and jac refuses it (a JacError)
  JAC-REFUSES                   JAX runs it, jac refuses (counted by message: a false refusal unless documented)
  JAC-ANSWERS-WHERE-LIB-RAISES  JAX raises, jac answers
  ROUNDING                      a result differs past rtol but within 1e-8 of the scale (reported apart)
  FLOAT32-CAST                  the program casts to float32 and jac's answer is within 1e-5: jac computes every
                                cast to float32 in --dtype, as docs/vocabulary-elementwise.md says (JAX rounds)
  WRONG                         a shape, value or derivative differs otherwise (a silent wrong answer)
  CRASH                         jac raised what is not a JacError, or took over 40 s
  NO-REF                        JAX's own reference took over 40 s (not counted either way)

Programs run in ``--workers`` subprocesses, each under a 6 GB address-space limit and a wall-clock limit; a
program has 40 s. Every WRONG, CRASH and JAC-ANSWERS-WHERE-LIB-RAISES is printed with its program and inputs.
Exit 1 if any WRONG or CRASH.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if "--jac-path" in sys.argv:
    ROOT = os.path.abspath(sys.argv[sys.argv.index("--jac-path") + 1])

HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
ACTS = ["relu", "relu6", "sigmoid", "softplus", "silu", "swish", "gelu", "elu", "celu", "selu", "leaky_relu",
        "log_sigmoid", "soft_sign", "hard_tanh", "hard_sigmoid", "hard_swish", "tanh", "mish", "squareplus",
        "sparse_plus", "glu"]
UNARY = ["jnp.sin({a})", "jnp.cos({a})", "jnp.tanh({a})", "jnp.exp(0.5 * {a})", "jnp.log1p(jnp.abs({a}))",
         "jnp.sqrt({a} ** 2 + 1.0)", "jnp.square({a})", "jnp.abs({a})", "jnp.arctan({a})", "{a} ** 3",
         "jnp.expm1(0.3 * {a})", "jnp.logaddexp({a}, 0.5)", "jnp.sinc({a})", "jnp.cbrt({a} + 3.0)"]


class Gen:
    """One program: ``helpers`` (top-level defs), ``body`` (f's lines), ``env`` (name -> shape, dtype kind)."""

    def __init__(self, r: random.Random):
        self.r = r
        self.n = r.randint(2, 5)
        self.m = r.randint(2, 4)
        self.inputs = {"x": (self.n,), "W": (self.m, self.n)}
        if r.random() < 0.3:
            self.inputs["s"] = ()
        self.env = dict(self.inputs)
        self.helpers: list[str] = []
        self.body: list[str] = []
        self.count = 0
        self.jit = r.random() < 0.6
        self.has_while = False
        self.note = set()

    def fresh(self, p="v"):
        self.count += 1
        return f"{p}{self.count}"

    def pick(self, pred=lambda s: True):
        pool = [k for k, s in self.env.items() if pred(s)]
        if not pool:
            raise LookupError
        # prefer recent names, so the statements chain
        pool.sort(key=lambda k: list(self.env).index(k))
        return self.r.choice(pool[-3:] + pool) if self.r.random() < 0.6 else self.r.choice(pool)

    def vec(self):
        return self.pick(lambda s: len(s) == 1)

    def mat(self):
        return self.pick(lambda s: len(s) == 2)

    def axis(self, shape):
        k = len(shape)
        return self.r.randrange(-k, k)

    def put(self, expr, shape, p="v"):
        name = self.fresh(p)
        self.body.append(f"{name} = {expr}")
        self.env[name] = shape
        return name

    def same(self, shape):
        """An operand that broadcasts with ``shape``: a name of that shape, a scalar, a row."""
        pool = [k for k, s in self.env.items() if s == shape]
        c = self.r.random()
        if pool and c < 0.55:
            return self.r.choice(pool)
        if c < 0.75:
            return repr(round(self.r.uniform(-2, 2), 2))
        rows = [k for k, s in self.env.items() if shape and s == shape[-1:]]
        if rows:
            return self.r.choice(rows)
        return self.r.choice([k for k, s in self.env.items() if s == ()] or ["1.5"])

    # --- statements ---------------------------------------------------------------------------------------
    def s_act(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        f = self.r.choice(ACTS)
        if f == "glu":
            if sh[-1] % 2:
                raise LookupError
            return self.put(f"jax.nn.glu({a}, axis=-1)", sh[:-1] + (sh[-1] // 2,))
        kw = {"gelu": self.r.choice(["", ", approximate=False", ", approximate=True"]),
              "leaky_relu": self.r.choice(["", ", negative_slope=0.2"]),
              "elu": self.r.choice(["", ", alpha=0.7"]), "celu": self.r.choice(["", ", alpha=1.3"])}.get(f, "")
        fn = "jnp.tanh" if f == "tanh" else f"jax.nn.{f}"
        return self.put(f"{fn}({a}{kw})", sh)

    def s_softmax(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        f = self.r.choice(["jax.nn.softmax", "jax.nn.log_softmax", "jax.nn.standardize"])
        ax = self.r.choice(["", f", axis={self.axis(sh)}"] + ([", axis=(0, 1)"] if len(sh) == 2 else []))
        return self.put(f"{f}({a}{ax})", sh)

    def s_unary(self):
        a = self.pick()
        return self.put(self.r.choice(UNARY).format(a=a), self.env[a])

    def s_binary(self):
        a = self.pick()
        sh = self.env[a]
        b = self.same(sh)
        bsh = self.env.get(b, ())
        op = self.r.choice(["+", "-", "*", "/", "*"])
        if op == "/":
            b = f"(1.0 + jnp.abs({b}))"
        out = sh if len(sh) >= len(bsh) else bsh
        return self.put(f"{a} {op} {b}", out)

    def s_reduce(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        f = self.r.choice(["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "sum", "mean"])
        fn = "jax.nn.logsumexp" if f == "logsumexp" else f"jnp.{f}"
        if self.r.random() < 0.25:
            ax = None
        else:
            ax = self.axis(sh)
        kd = self.r.random() < 0.3
        args = "" if ax is None else f", axis={ax}"
        if kd:
            args += ", keepdims=True"
        if f in ("sum", "mean", "max", "min", "prod") and self.r.random() < 0.3:
            args += f", where={a} > {round(self.r.uniform(-0.5, 0.5), 2)}"
            if f in ("max", "min"):
                args += ", initial=" + ("-10.0" if f == "max" else "10.0")
            if f == "mean":  # an all-False row makes NaN in both; keep the row filled
                args = args.replace(f"where={a} >", f"where={a} > -1e9 + 0 *")
        if f == "std" and self.r.random() < 0.3:
            args += ", ddof=1"
        if ax is None:
            out = (1,) * len(sh) if kd else ()
        else:
            k = ax % len(sh)
            out = sh[:k] + ((1,) if kd else ()) + sh[k + 1:]
        return self.put(f"{fn}({a}{args})", out)

    def s_where(self):
        a = self.pick()
        sh = self.env[a]
        b = self.same(sh)
        c = self.r.choice([f"{a} > 0", f"{a} > {b}", f"jnp.abs({a}) < 1.0"])
        return self.put(f"jnp.where({c}, {a}, {self.r.choice(['2.0 * ' + b, 'jnp.sin(' + b + ')', '0.0'])})",
                        sh if len(sh) >= len(self.env.get(b, ())) else self.env[b])

    def s_take(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        ax = self.axis(sh)
        if self.r.random() < 0.5:
            idx = f"jnp.argsort({a}, axis={ax})"
        else:
            k = ax % len(sh)
            idx = "jnp.array(" + repr(np.random.default_rng(self.r.randrange(1 << 30)).integers(
                0, sh[k], size=sh).tolist()) + ")"
        return self.put(f"jnp.take_along_axis({a}, {idx}, axis={ax})", sh)

    def s_at(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        meth = self.r.choice(["set", "add", "mul", "min", "max"])
        if len(sh) == 1:
            idx, vsh = self.r.choice([(f"{self.r.randrange(sh[0])}", ()), ("1:", (sh[0] - 1,)),
                                      (f"jnp.array([0, {sh[0] - 1}])", (2,)), ("::2", ((sh[0] + 1) // 2,)),
                                      ("-1", ())])
        else:
            idx, vsh = self.r.choice([(f"{self.r.randrange(sh[0])}", sh[1:]), (f":, {self.r.randrange(sh[1])}",
                                      sh[:1]), (f"0, {sh[1] - 1}", ()), ("1:, :", (sh[0] - 1, sh[1]))])
        pool = [k for k, s in self.env.items() if s == vsh and k != a]
        val = self.r.choice(pool) if pool and self.r.random() < 0.6 else repr(round(self.r.uniform(-2, 2), 2))
        if meth == "set" and pool and self.r.random() < 0.3:
            val = f"2.0 * {val}"
        return self.put(f"{a}.at[{idx}].{meth}({val})", sh)

    def s_einsum(self):
        c = self.r.random()
        if c < 0.3:
            A, v = self.mat(), self.vec()
            if self.env[A][1] != self.env[v][0]:
                raise LookupError
            return self.put(f"jnp.einsum('ij,j->i', {A}, {v})", self.env[A][:1])
        if c < 0.5:
            A = self.mat()
            pool = [k for k, s in self.env.items() if s == self.env[A]]
            B = self.r.choice(pool)
            return self.put(f"jnp.einsum('ij,ij->', {A}, {B})", ())
        if c < 0.7:
            A = self.mat()
            pool = [k for k, s in self.env.items() if len(s) == 2 and s[1] == self.env[A][1]]
            B = self.r.choice(pool)
            return self.put(f"jnp.einsum('ij,kj->ik', {A}, {B})", (self.env[A][0], self.env[B][0]))
        if c < 0.85:
            A = self.mat()
            return self.put(f"jnp.einsum('ij->ji', {A})", self.env[A][::-1])
        v = self.vec()
        pool = [k for k, s in self.env.items() if s == self.env[v]]
        return self.put(f"jnp.einsum('i,i->', {v}, {self.r.choice(pool)})", ())

    def s_dslice(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        k = self.r.randint(1, sh[0])
        start = self.r.choice([str(self.r.randrange(sh[0])), f"jnp.argmax({a})" if len(sh) == 1 else "1",
                               f"jnp.argmin({a}) % 2" if len(sh) == 1 else "0", "-1", str(sh[0] + 2)])
        starts = f"({start},)" if len(sh) == 1 else f"({start}, 0)"
        sizes = f"({k},)" if len(sh) == 1 else f"({k}, {sh[1]})"
        if self.r.random() < 0.35:
            pool = [q for q, s in self.env.items() if s == (k,) + sh[1:]]
            upd = self.r.choice(pool) if pool else f"jnp.ones({sizes})"
            return self.put(f"lax.dynamic_update_slice({a}, {upd}, {starts})", sh)
        return self.put(f"lax.dynamic_slice({a}, {starts}, {sizes})", (k,) + sh[1:])

    def s_cum(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        ax = self.axis(sh) % len(sh)
        f = self.r.choice(["lax.cumsum", "lax.cumprod", "jnp.cumsum", "lax.cumlogsumexp"])
        rev = self.r.choice(["", ", reverse=True"]) if f.startswith("lax") else ""
        return self.put(f"{f}({a}, axis={ax}{rev})", sh)

    def s_scan(self):
        M = self.mat()
        m, n = self.env[M]
        hs = [k for k, s in self.env.items() if s == (n,)]
        h = self.r.choice(hs) if hs else f"jnp.ones({n})"
        step = self.fresh("step")
        body = self.r.choice(["jnp.tanh(h * r + 0.5 * acc)", "h * jnp.cos(r) + 0.1 * acc", "jnp.sin(h) + r * acc",
                              "jax.nn.sigmoid(h - r) * (1.0 + acc)"])
        rev = self.r.choice(["", ", reverse=True"])
        if self.r.random() < 0.35:  # a dict carry
            self.helpers.append(f"def {step}(c, r):\n    h, acc = c['h'], c['acc']\n    h = {body}\n"
                                f"    acc = acc + 0.1 * jnp.sum(h)\n    return {{'h': h, 'acc': acc}}, h * acc")
            out, ys = self.fresh("c"), self.fresh("ys")
            self.body.append(f"{out}, {ys} = lax.scan({step}, {{'h': {h}, 'acc': jnp.zeros(())}}, {M}{rev})")
            hn = self.put(f"{out}['h'] + {out}['acc']", (n,))
        elif self.r.random() < 0.3:  # no xs: length=
            L = self.r.randint(1, 6)
            self.helpers.append(f"def {step}(c, _):\n    h, acc = c\n    r = 0.5\n    h = {body}\n"
                                f"    acc = acc + 0.1 * jnp.sum(h)\n    return (h, acc), jnp.sum(h)")
            hn, acc, ys = self.fresh("h"), self.fresh("a"), self.fresh("ys")
            self.body.append(f"({hn}, {acc}), {ys} = lax.scan({step}, ({h}, jnp.zeros(())), None, length={L}{rev})")
            self.env[hn], self.env[acc], self.env[ys] = (n,), (), (L,)
            return ys
        else:
            self.helpers.append(f"def {step}(c, r):\n    h, acc = c\n    h = {body}\n"
                                f"    acc = acc + 0.1 * jnp.sum(h)\n    return (h, acc), h * acc")
            hn, acc, ys = self.fresh("h"), self.fresh("a"), self.fresh("ys")
            self.body.append(f"({hn}, {acc}), {ys} = lax.scan({step}, ({h}, jnp.zeros(())), {M}{rev})")
            self.env[hn], self.env[acc] = (n,), ()
        self.env[ys] = (m, n)
        return ys

    def s_fori(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        pool = [k for k, s in self.env.items() if s == sh]
        b = self.r.choice(pool)
        L = self.r.randint(0, 7)
        lo = self.r.choice([0, 1])
        body = self.fresh("body")
        upd = self.r.choice(["c[0] * 0.9 + jnp.sin(c[1]) * i", "jnp.tanh(c[0] + c[1]) + 0.1 * i",
                             "c[0] + 0.5 * c[1] * c[0]"])
        self.helpers.append(f"def {body}(i, c):\n    return ({upd}, c[1] * 0.8 + 0.1 * c[0])")
        u, w = self.fresh("u"), self.fresh("w")
        self.body.append(f"{u}, {w} = lax.fori_loop({lo}, {lo + L}, {body}, ({a}, {b}))")
        self.env[u] = self.env[w] = sh
        return u

    def s_while(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        cond, body = self.fresh("wcond"), self.fresh("wbody")
        bound = round(self.r.uniform(2.0, 60.0), 1)
        self.helpers.append(f"def {cond}(c):\n    i, v = c\n    return (i < 8) & (jnp.sum(v * v) < {bound})")
        upd = self.r.choice(["v * 1.3 + 0.1", "v + jnp.tanh(v) + 0.2", "jnp.sin(v) + 1.1 * v + 0.05 * i"])
        self.helpers.append(f"def {body}(c):\n    i, v = c\n    return i + 1, {upd}")
        k = self.fresh("k")
        w = self.fresh("w")
        self.body.append(f"{k}, {w} = lax.while_loop({cond}, {body}, (0, {a}))")
        self.env[w] = sh
        self.has_while = True
        return w

    def s_cond(self):
        a = self.pick()
        sh = self.env[a]
        pred = self.r.choice([f"jnp.sum({a}) > 0", f"jnp.max({a}) > 1.0", f"jnp.mean({a}) < 0.2"])
        t = self.r.choice(["jnp.sin(v)", "v * 2.0", "jnp.tanh(v) + v"])
        f = self.r.choice(["jnp.cos(v)", "v - 1.0", "v ** 2"])
        if self.r.random() < 0.5:
            return self.put(f"lax.cond({pred}, lambda v: {t}, lambda v: {f}, {a})", sh)
        br = self.fresh("br")
        self.helpers.append(f"def {br}_t(v):\n    return {t}\n\ndef {br}_f(v):\n    return {f}")
        return self.put(f"lax.cond({pred}, {br}_t, {br}_f, {a})", sh)

    def s_switch(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        idx = self.r.choice([f"jnp.argmax({a}) % 3", f"jnp.argmin({a})", f"(jnp.sum({a}) > 0).astype(int)",
                             f"jnp.sum({a} > 0)"])
        return self.put(f"lax.switch({idx}, [lambda v: jnp.sin(v), lambda v: v * v, lambda v: jnp.exp(-v)], {a})",
                        sh)

    def s_vmap(self):
        M = self.mat()
        m, n = self.env[M]
        c = self.r.random()
        if c < 0.4:
            hs = [k for k, s in self.env.items() if s == (n,)]
            if not hs:
                raise LookupError
            h = self.r.choice(hs)
            oa = self.r.choice([0, 1])
            out = (m, n) if oa == 0 else (n, m)
            return self.put(f"jax.vmap(lambda r, v: jnp.dot(r, v) * jnp.tanh(r), in_axes=(0, None), out_axes={oa})"
                            f"({M}, {h})", out)
        if c < 0.7:
            return self.put(f"jax.vmap(lambda col: jax.nn.softmax(col) * col, in_axes=1, out_axes=1)({M})", (m, n))
        return self.put(f"jax.vmap(jnp.sum, in_axes={self.r.choice([0, 1])})({M})" if False else
                        f"jax.vmap(lambda r: jnp.sum(r ** 2))({M})", (m,))

    def s_grad(self):
        a = self.vec()
        sh = self.env[a]
        pool = [k for k, s in self.env.items() if s == sh and k != a]
        b = self.r.choice(pool) if pool else "1.0"
        c = self.r.randrange(7)
        if c == 0:
            return self.put(f"jax.grad(lambda v: jnp.sum(jnp.tanh(v) ** 2) + jnp.sum(v * {b}))({a})", sh)
        if c == 1:
            return self.put(f"jax.jacrev(lambda v: jnp.sin(v) * jnp.sum(v))({a})", sh + sh)
        if c == 2:
            return self.put(f"jax.jacfwd(lambda v: jnp.cumsum(v * {b}))({a})", sh + sh)
        if c == 3:
            return self.put(f"jax.hessian(lambda v: jnp.sum(jnp.exp(0.3 * v)) * jnp.sum(v ** 2))({a})", sh + sh)
        if c == 4:
            if not pool:
                raise LookupError
            return self.put(f"jax.jvp(lambda v: jnp.tanh(v) * v, ({a},), ({b},))[1]", sh)
        if c == 5:
            val, g = self.fresh("val"), self.fresh("g")
            self.body.append(f"{val}, {g} = jax.value_and_grad(lambda v: jnp.sum(jnp.sin(v) * v))({a})")
            self.env[val], self.env[g] = (), sh
            return g
        gn = self.fresh("gw")
        self.helpers.append(f"def {gn}(v, c):\n    return jnp.sum(jax.nn.softplus(v) * c)")
        return self.put(f"jax.grad({gn}, argnums=(0, 1))({a}, {b if pool else a})[1]", sh)

    def s_dtype(self):
        a = self.pick(lambda s: len(s) >= 1)
        sh = self.env[a]
        c = self.r.choice([f"{a} * jnp.arange({sh[-1]})", f"{a} + ({a} > 0)", f"{a} * jnp.int32(3)",
                           f"{a} + jnp.arange({sh[-1]}, dtype=jnp.int32) / 2", f"({a} > 0).astype({a}.dtype) * {a}",
                           f"{a} * jnp.float32(1.5)", f"{a}.astype(jnp.float32) * 2.0",
                           f"{a} + jnp.ones({sh[-1]}, dtype=jnp.float32) * 0.1"])
        if "float32" in c:
            self.note.add("float32")
        return self.put(c, sh)

    def s_refused(self):
        """What JAX refuses: a Python if of the data under jit, grad over a while_loop."""
        a = self.vec()
        sh = self.env[a]
        if self.r.random() < 0.5:
            v = self.fresh("v")
            self.body += [f"if jnp.sum({a}) > 0:", f"    {v} = {a} * 2.0", "else:", f"    {v} = {a} - 1.0"]
            self.env[v] = sh
            self.note.add("pyif")
            return v
        cond, body = self.fresh("wcond"), self.fresh("wbody")
        self.helpers.append(f"def {cond}(c):\n    i, v = c\n    return (i < 5) & (jnp.sum(v) < 30.0)")
        self.helpers.append(f"def {body}(c):\n    i, v = c\n    return i + 1, v * 1.5")
        self.has_while = True
        self.note.add("gradwhile")
        return self.put(f"jax.grad(lambda u: jnp.sum(lax.while_loop({cond}, {body}, (0, u))[1]))({a})", sh)

    def s_more(self):
        """Second-round forms (what the first 200 programs did not reach): masked softmax and var, repeated
        indices, out-of-range switch indices, several operands, pytree xs, nested vmaps, derivatives of loops."""
        n, m = self.n, self.m
        a = self.pick(lambda s: s == (n,))
        M = self.pick(lambda s: s == (m, n))
        r = self.r
        k = r.randrange(20)
        if k == 0:
            f = r.choice(["jax.nn.softmax", "jax.nn.log_softmax"])
            ax, mask = r.choice([(1, f"{M} > 0"), (0, f"{M} > -0.4"), ("None", f"{M} < 0.8"), (-1, f"{M} > 9")])
            out = self.put(f"{f}({M}, axis={ax}, where={mask})", (m, n))
            if "log" in f:  # -inf where masked: keep the output finite
                out = self.put(f"jnp.where({mask}, {out}, 0.0)", (m, n))
            return out
        if k == 1:
            f = r.choice(["jnp.var", "jnp.std"])
            return self.put(f"{f}({M}, axis=1, where={M} > -0.5)", (m,))
        if k == 2:
            meth = r.choice(["add", "mul", "min", "max"])
            return self.put(f"{a}.at[jnp.array([0, 0, {n - 1}])].{meth}(jnp.sin({M}[0, :3]) + 1.0)"
                            if n >= 3 else f"{a}.at[jnp.array([0, 0])].{meth}({M}[0, :2])", (n,))
        if k == 3:
            return self.put(f"lax.switch({r.choice([5, -3, 2])}, [jnp.sin, jnp.cos, jnp.tanh], {a})", (n,))
        if k == 4:
            p, q = self.fresh("p"), self.fresh("q")
            self.body.append(f"{p}, {q} = lax.cond({a}[0] > 0, lambda u, v: (u * v, u + v), "
                             f"lambda u, v: (u - v, u / (1 + v * v)), {a}, {M}[0])")
            self.env[p] = self.env[q] = (n,)
            return q
        if k == 5:
            st = self.fresh("step")
            self.helpers.append(f"def {st}(c, xs):\n    r, q = xs\n    return c * jnp.tanh(r) + q, (c.sum(), c * 2)")
            c, s1, s2 = self.fresh("c"), self.fresh("s"), self.fresh("s")
            self.body.append(f"{c}, ({s1}, {s2}) = lax.scan({st}, {a}, ({M}, {M} ** 2){r.choice(['', ', unroll=2'])})")
            self.env[c], self.env[s1], self.env[s2] = (n,), (m,), (m, n)
            return s2
        if k == 6:
            st = self.fresh("step")
            self.helpers.append(f"def {st}(c, xs):\n    return c * xs['a'] + jnp.sin(xs['b']), c")
            c, ys = self.fresh("c"), self.fresh("ys")
            self.body.append(f"{c}, {ys} = lax.scan({st}, {a}, {{'a': {M}, 'b': {M} * 0.5}}, reverse=True)")
            self.env[c], self.env[ys] = (n,), (m, n)
            return ys
        if k == 7:
            cond, body = self.fresh("wcond"), self.fresh("wbody")
            self.helpers.append(f"def {cond}(c):\n    return (c['n'] < 6) & (jnp.sum(c['v'] ** 2) < 20.0)")
            self.helpers.append(f"def {body}(c):\n    return {{'v': c['v'] * 1.4 + 0.3, 'n': c['n'] + 1}}")
            o = self.fresh("o")
            self.body.append(f"{o} = lax.while_loop({cond}, {body}, {{'v': {a}, 'n': 0}})")
            self.has_while = True
            return self.put(f"{o}['v'] * {o}['n']", (n,))
        if k == 8:
            return self.put(f"jax.vmap(lambda r, v: r * jnp.sum(v), in_axes=(1, 0))({M}, {a})", (n, m))
        if k == 9:
            u, w = self.fresh("u"), self.fresh("w")
            self.body.append(f"{u}, {w} = jax.vmap(lambda r: (jnp.sum(r), jnp.tanh(r) * 2), out_axes=(0, 1))({M})")
            self.env[u], self.env[w] = (m,), (n, m)
            return w
        if k == 10:
            return self.put(f"jax.vmap(jax.vmap(lambda p, q: p * jnp.sin(q), in_axes=(0, None)), "
                            f"in_axes=(None, 0))({a}, {M})", (m, n))
        if k == 11:
            return self.put(f"jax.grad(lambda v: jnp.sum(lax.scan(lambda c, r: (jnp.tanh(c * r), c), v, {M})[0]))"
                            f"({a})", (n,))
        if k == 12:
            return self.put(f"jax.grad(lambda v: lax.fori_loop(0, {r.randint(1, 5)}, lambda i, c: c * jnp.sin(c) + i,"
                            f" v).sum())({a})", (n,))
        if k == 13:
            return self.put(f"jax.grad(lambda v: lax.cond(v.sum() > 0, jnp.sin, jnp.cos, v).sum())({a})", (n,))
        if k == 14:
            return self.put(f"jax.jacrev(lambda v, A: A @ jnp.tanh(v), argnums=(0, 1))({a}, {M})[1]", (m, m, n))
        if k == 15:
            return self.put(f"jax.hessian(lambda v, A: jnp.sum(A @ jnp.tanh(v)) ** 2, argnums=(0, 1))({a}, {M})[0][1]",
                            (n, m, n))
        if k == 16:
            self.has_while = True
            return self.put(f"jax.jacfwd(lambda v: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, "
                            f"jnp.sin(c[1]) * 1.1), (0, v))[1])({a})", (n, n))
        if k == 17:
            return self.put(f"jnp.einsum('ij,jk,k->i', {M}, jnp.outer({a}, {a}), {a})", (m,))
        if k == 18:
            g = self.fresh("g")
            self.body.append(f"{g} = jax.checkpoint(lambda v: jnp.sin(v) * v)")
            return self.put(f"jax.grad(lambda v: {g}(v).sum())({a})", (n,))
        return self.put(f"lax.dynamic_index_in_dim({M}, {r.randrange(n)}, axis=1, keepdims=False)", (m,))

    WEIGHTS = {"s_act": 10, "s_softmax": 6, "s_unary": 8, "s_binary": 10, "s_reduce": 8, "s_where": 5, "s_take": 4,
               "s_at": 6, "s_einsum": 5, "s_dslice": 4, "s_cum": 4, "s_scan": 6, "s_fori": 5, "s_while": 5,
               "s_cond": 5, "s_switch": 3, "s_vmap": 5, "s_grad": 6, "s_dtype": 4, "s_refused": 1, "s_more": 14}

    def statement(self):
        names = list(self.WEIGHTS)
        for _ in range(30):
            k = self.r.choices(names, [self.WEIGHTS[n] for n in names])[0]
            saved = (list(self.body), list(self.helpers), dict(self.env), self.count)
            try:
                return getattr(self, k)()
            except LookupError:
                self.body, self.helpers, self.env, self.count = saved
        return None

    def program(self):
        last = None
        for _ in range(self.r.randint(2, 6)):
            got = self.statement()
            if got is not None:
                last = got
        if last is None:
            last = self.put("jnp.sin(x)", self.inputs["x"])
        made = [k for k in self.env if k not in self.inputs and k != last]
        rest = " + ".join(f"0.1 * jnp.sum({k})" for k in made[-3:])  # the earlier statements reach the output
        c = self.r.random()
        if c < 0.3 and self.env[last] != ():
            ret = f"jnp.sum({last} ** 2)" + (f" + {rest}" if rest else "")
        elif c < 0.8 and rest:
            ret = f"{last} + ({rest})"
        else:
            ret = last
        params = ", ".join(self.inputs)
        dec = "@jax.jit\n" if self.jit else ""
        lines = [HEAD.rstrip("\n")] + self.helpers + [dec + f"def f({params}):"] + ["    " + b for b in self.body] \
            + [f"    return {ret}", f"f({params})"]
        text = "\n".join(lines[:1]) + "\n\n" + "\n\n".join(lines[1:len(self.helpers) + 1]) + \
            ("\n\n" if self.helpers else "") + "\n".join(lines[len(self.helpers) + 1:]) + "\n"
        return text


def draw(seed: int):
    r = random.Random(seed)
    g = Gen(r)
    text = g.program()
    rng = np.random.default_rng(seed)
    inputs = {k: np.round(rng.uniform(-1.5, 1.5, size=s), 3) + 0.0 for k, s in g.inputs.items()}
    return text, inputs, g.has_while, sorted(g.note)


# --- the references --------------------------------------------------------------------------------------------

def jax_function(text: str):
    import ast
    tree = ast.parse(text)
    scope: dict = {}
    exec(compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<program>", "exec"), scope)  # noqa: S102
    return scope["f"]


def reference(text, inputs, has_while, tangents):
    import jax
    import jax.numpy as jnp
    f = jax_function(text)
    names = list(inputs)
    args = [jnp.asarray(inputs[k]) for k in names]
    value = np.asarray(f(*args))
    argnums = tuple(range(len(args)))
    first = jax.jacfwd if has_while else jax.jacrev
    tangent = tuple(jnp.asarray(tangents[k]) for k in names)

    def derivatives(*a):
        # one input at a time for jacfwd: its pass over every input's basis at once carries 0 · inf from another
        # input's path into this one's columns (session 53, seed 5309015944: a masked log_softmax's -inf entries
        # made d/dx NaN where jax.jacfwd(f, 0) and jac give finite numbers)
        jac = tuple(first(f, argnums=i)(*a) for i in argnums) if has_while else first(f, argnums=argnums)(*a)
        hess = jax.jacfwd(first(f, argnums=argnums), argnums=argnums)(*a)
        return jac, hess, jax.jvp(f, tuple(a), tangent)[1]
    try:  # staged: op-by-op transforms of a loop take seconds
        jac, hess, jv = jax.jit(derivatives)(*args)
    except Exception:  # noqa: BLE001 - a Python test of the values: JAX's eager transforms read it
        jac, hess, jv = derivatives(*args)
    return {"value": value, "jacobian": {k: np.asarray(jac[i]) for i, k in enumerate(names)},
            "jvp": np.asarray(jv),
            "hessian": {(a, b): np.asarray(hess[i][j]) for i, a in enumerate(names) for j, b in enumerate(names)}}


def run_jac(text, inputs, tangents):
    from jacobi_cli.tools import api
    value = np.asarray(api.evaluate(text, inputs))
    jac = api.jacobian(text, inputs)
    jv = np.asarray(api.jvp(text, inputs, tangents))
    hess = api.hessian(text, inputs)
    return {"value": value, "jacobian": {k: np.asarray(v) for k, v in jac.items()}, "jvp": jv,
            "hessian": {k: np.asarray(v) for k, v in hess.items()}}


def compare(ours, theirs, rtol):
    """(worst relative difference, what) over the results; inf for a shape or NaN mismatch."""
    worst, where = 0.0, ""
    pairs = [("value", ours["value"], theirs["value"]), ("jvp", ours["jvp"], theirs["jvp"])]
    pairs += [(f"d/d{k}", ours["jacobian"].get(k), t) for k, t in theirs["jacobian"].items()]
    pairs += [(f"hessian {k}", ours["hessian"].get(k), t) for k, t in theirs["hessian"].items()]
    for what, o, t in pairs:
        t = np.asarray(t, dtype=np.float64)
        o = np.zeros_like(t) if o is None else np.asarray(o, dtype=np.float64)
        if o.shape != t.shape:
            return float("inf"), f"{what} shape jac {o.shape} vs jax {t.shape}"
        if (np.isnan(o) != np.isnan(t)).any():
            return float("inf"), f"{what} NaN positions: jac {o.ravel()[:6]} vs jax {t.ravel()[:6]}"
        inf = np.isinf(o) | np.isinf(t)
        if (o[inf] != t[inf]).any():
            return float("inf"), f"{what} infinities: jac {o.ravel()[:6]} vs jax {t.ravel()[:6]}"
        ok = ~np.isnan(t) & ~inf
        o, t = o[ok], t[ok]
        if not o.size:
            continue
        scale = max(1.0, float(np.abs(t).max()))
        d = float((np.abs(o - t) / (np.abs(t) + scale)).max())
        if d > worst:
            i = int(np.argmax(np.abs(o - t)))
            worst, where = d, f"{what}: jac {o[i]!r} vs jax {t[i]!r}"
    return worst, where


def classify(text, inputs, has_while, rtol, note=()):
    from jacobi_cli.errors import JacError
    rng = np.random.default_rng(len(text))
    tangents = {k: np.round(rng.normal(size=np.shape(v)), 3) for k, v in inputs.items()}
    try:
        theirs = reference(text, inputs, has_while, tangents)
        lib_error = None
    except Exception as e:  # noqa: BLE001
        if type(e).__name__ == "Timeout":  # the alarm rang inside JAX's reference (an eager Hessian of a loop)
            return "NO-REF", "JAX's reference took over 40 s"
        lib_error = f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
    try:
        ours = run_jac(text, inputs, tangents)
    except JacError as e:
        return ("BOTH-RAISE" if lib_error else "JAC-REFUSES"), str(e).splitlines()[0][:160]
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"
    if lib_error:
        return "JAC-ANSWERS-WHERE-LIB-RAISES", lib_error
    worst, where = compare(ours, theirs, rtol)
    if worst <= rtol:
        return "AGREE", ""
    if "float32" in note and worst <= 1e-5:
        return "FLOAT32-CAST", f"{worst:.2g} {where}"
    if worst <= 1e-8:
        return "ROUNDING", f"{worst:.2g} {where}"
    return "WRONG", f"{worst:.2g} {where}"


# --- the pool --------------------------------------------------------------------------------------------------

def worker(seeds, rtol):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    sys.path.insert(0, ROOT)
    import warnings
    warnings.simplefilter("ignore")
    import jax
    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fuzzkit import with_timeout
    for seed in seeds:
        text, inputs, has_while, note = draw(seed)
        status, detail = with_timeout(classify, text, inputs, has_while, rtol, note, seconds=40)
        print(json.dumps({"seed": seed, "status": status, "detail": detail, "note": note}), flush=True)


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show", type=int, default=15)
    ap.add_argument("--rtol", type=float, default=1e-12)
    ap.add_argument("--print", action="store_true", help="print the programs drawn and stop")
    ap.add_argument("--only", default=None, help="print the programs of this outcome too")
    ap.add_argument("--jac-path", default=None)
    ap.add_argument("--deadline", type=float, default=None, help="stop the workers after this many seconds; the "
                    "programs left are NOT-RUN")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    seeds = [a.seed * 1_000_003 + k for k in range(a.n)]
    if a.worker is not None:
        worker([int(s) for s in a.worker.split(",")], a.rtol)
        return 0
    if a.print:
        for s in seeds:
            print(f"# seed {s}\n{draw(s)[0]}")
        return 0
    start = time.monotonic()
    chunks = [seeds[i::a.workers] for i in range(a.workers)]
    env = dict(os.environ, PYTHONPATH=ROOT)
    procs = []
    for c in chunks:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", ",".join(map(str, c)), "--rtol", str(a.rtol)]
        if a.jac_path:
            cmd += ["--jac-path", a.jac_path]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                      preexec_fn=_limited))
    rows, done = [], set()
    end = start + (a.deadline or 60 * max(map(len, chunks)) + 120)
    for p, c in zip(procs, chunks):
        try:
            out, _ = p.communicate(timeout=max(1.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        for line in out.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                rows.append(row)
                done.add(row["seed"])
    for s in seeds:  # a worker that died (memory, a hang) loses the rest of its chunk
        if s not in done:
            rows.append({"seed": s, "status": "NOT-RUN", "detail": "the worker died or --deadline passed",
                         "note": []})
    counts, refusals = Counter(), Counter()
    for row in sorted(rows, key=lambda r: r["seed"]):
        counts[row["status"]] += 1
        if row["status"] in ("JAC-REFUSES", "BOTH-RAISE"):
            refusals[(row["status"], row["detail"][:110])] += 1
        if row["status"] in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-LIB-RAISES", "ROUNDING") or row["status"] == a.only:
            text, inputs, _, _ = draw(row["seed"])
            print(f"{row['status']} [seed {row['seed']}] {row['detail']}\n{text}--- inputs: "
                  f"{ {k: v.tolist() for k, v in inputs.items()} }\n", flush=True)
    print("top refusals:")
    for (st, msg), c in refusals.most_common(a.show):
        print(f"  {c:4d}  {st:11s} {msg}")
    statuses = ("AGREE", "ROUNDING", "FLOAT32-CAST", "NO-REF", "NOT-RUN", "BOTH-RAISE", "JAC-REFUSES", "JAC-ANSWERS-WHERE-LIB-RAISES", "WRONG", "CRASH")
    print(f"\n{len(seeds)} programs ({time.monotonic() - start:.0f} s): "
          + ", ".join(f"{s} {counts[s]}" for s in statuses))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
