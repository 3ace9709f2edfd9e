"""A differential fuzz (session 38, h38-numpyhigher): nprog37_fuzz's random NumPy / jax.numpy programs, with the
ground it did not cover, and results beyond the value and the Jacobian.

    PYTHONPATH=. python benchmarks/nprog38_fuzz.py [--n 300] [--seed 0] [--spelling numpy|jax|both]
        [--mode first|hessian|jvp|vjp|batch|all] [--show 12] [--print] [--only STATUS] [--jac-path DIR]

The vocabulary adds to nprog37's (drawn about twice as often as it): ufunc methods (``np.add.reduce / accumulate /
outer / reduceat``, ``np.maximum.accumulate``, ``np.multiply.outer`` ...), the nan-functions over NaN-free and
NaN-holding arrays, ``diff / gradient / ediff1d / cross / convolve / correlate / interp / polyval / polyfit /
vander / meshgrid / select / piecewise``, ``where`` with scalars, ``clip`` with arrays, cumulative ops with
``axis=``, ``sort / partition / searchsorted``, linalg ``qr / svd / cholesky / lstsq / matrix_power / eigvalsh /
multi_dot / tensorsolve / tensorinv``, ``np.block``, ``np.pad`` modes, ``np.apply_along_axis`` with a lambda,
``einsum`` with ``optimize=`` and ellipses, and the keywords of reductions (``keepdims``, ``initial``, ``where=``,
``dtype=``) and NumPy's ``out=`` (read by JAX as the result).

Modes (``--mode``):
  first    value and Jacobian against NumPy / JAX, classified as nprog37 does (its ``checked``)
  hessian  ``api.hessian`` (every pair) against ``jax.hessian``
  jvp      ``api.jvp`` with random tangents against ``jax.jvp``
  vjp      ``api.vjp`` with a random cotangent against ``jax.vjp``
  batch    ``jac eval --batch`` (one or two inputs batched, axis 0 or 1, shared inputs otherwise): the value and
           the per-example Jacobians against ``jax.vmap`` of the function and of ``jax.jacfwd``

For the four modes beyond ``first`` the program's jnp reference must trace (NO-REF otherwise) and the library
must run it (LIB-RAISES otherwise: ``first`` classifies those). A difference is CONVENTION where one-sided
differences of the quantity differ (a kink), JAX-DIFFERS where jac agrees with central differences and JAX does
not, WRONG otherwise; jac raising what is not a JacError, or taking over 30 s, is CRASH. Exit 1 on WRONG or CRASH.
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
if "--jac-path" in sys.argv:
    ROOT = os.path.abspath(sys.argv[sys.argv.index("--jac-path") + 1])
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nprog37_fuzz as p37  # noqa: E402
from fuzzkit import bucket, with_timeout  # noqa: E402

HEAD = p37.HEAD


class Gen38(p37.Gen):
    """nprog37's grammar and the new vocabulary. A statement may be ``("pair", numpy text, jnp text)``: NumPy's
    spelling with ``out=`` and its jnp reading."""

    def vec(self, pred=lambda a: True):
        return self.name(lambda u: np.ndim(u) == 1 and pred(u))

    def s_ufuncm(self):
        a = self.name()
        v, r = self.env[a], self.r
        n = np.ndim(v)
        f = r.choice(["add.reduce", "multiply.reduce", "maximum.reduce", "minimum.reduce", "add.accumulate",
                      "multiply.accumulate", "maximum.accumulate", "minimum.accumulate", "add.outer",
                      "multiply.outer", "subtract.outer", "add.reduceat", "maximum.reduceat"])
        if f.endswith("outer"):
            b = self.name(lambda u: np.size(u) * np.size(v) <= 64)
            return f"{{M}}.{f}({a}, {b})"
        if n == 0:
            raise LookupError
        k = self.axis(v)
        if f.endswith("reduceat"):
            m = np.shape(v)[k]
            idx = sorted(r.sample(range(m), r.randint(1, m)))
            if r.random() < 0.3:
                idx = idx[::-1]
            return f"{{M}}.{f}({a}, {idx}, axis={k})"
        if f.endswith("reduce") and r.random() < 0.3:
            return f"{{M}}.{f}({a}, axis={self.axes(v)})"
        return f"{{M}}.{f}({a}, axis={k})"

    def s_nan(self):
        a = self.name()
        v, r = self.env[a], self.r
        f = r.choice(["nansum", "nanmean", "nanprod", "nanmax", "nanmin", "nancumsum", "nancumprod", "nanvar",
                      "nanstd", "nanmedian", "nanargmax"])
        held = r.choice([a, f"{{M}}.where({a} > 0.8, {{M}}.nan, {a})", f"{{M}}.where({a} < -1.2, {{M}}.nan, {a})"])
        if np.ndim(v) >= 1 and r.random() < 0.3:
            m = np.shape(v)[-1]
            const = "[" + ", ".join(r.choice(["1.0", "2.0", "nan", "-0.5"]) for _ in range(m)) + "]"
            held = f"{a} * {{M}}.array({const.replace('nan', '{M}.nan')})"
        ax = self.axes(v)
        if f in ("nancumsum", "nancumprod", "nanargmax"):
            ax = str(self.axis(v)) if np.ndim(v) and r.random() < 0.8 else "None"
        kw = ", keepdims=True" if f not in ("nancumsum", "nancumprod", "nanargmax") and r.random() < 0.3 else ""
        if f in ("nanvar", "nanstd") and r.random() < 0.4:
            kw += ", ddof=1"
        if f == "nanargmax":
            return f"{{M}}.nanargmax({held}, axis={ax}) * 1.0 + {{M}}.nansum({held})"
        return f"{{M}}.{f}({held}, axis={ax}{kw})"

    def s_diffs(self):
        r = self.r
        f = r.choice(["diff", "diff", "gradient", "ediff1d", "cross", "convolve", "correlate", "interp_x",
                      "interp_fp", "polyval", "polyfit", "vander", "meshgrid", "select", "piecewise", "where_s",
                      "clip_arr", "cumsum", "cumprod"])
        if f == "diff":
            a = self.name(lambda u: np.ndim(u) >= 1)
            v = self.env[a]
            k = self.axis(v)
            return f"{{M}}.diff({a}, n={r.choice([1, 1, 2])}, axis={k})"
        if f == "gradient":
            a = self.name(lambda u: np.ndim(u) >= 1 and min(np.shape(u)) >= 2)
            v = self.env[a]
            if np.ndim(v) == 1:
                return r.choice([f"{{M}}.gradient({a})", f"{{M}}.gradient({a}, 0.5)"])
            return f"{{M}}.gradient({a}, axis={self.axis(v)})"
        if f == "ediff1d":
            return f"{{M}}.ediff1d({self.name(lambda u: np.size(u) >= 2)})"
        if f == "cross":
            a = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[-1] == 3)
            b = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[-1] == 3 and self._broadcasts(u, self.env[a]))
            return f"{{M}}.cross({a}, {b})"
        if f in ("convolve", "correlate"):
            a, b = self.vec(), self.vec()
            mode = r.choice(["", ", mode='same'", ", mode='valid'", ", mode='full'"])
            return f"{{M}}.{f}({a}, {b}{mode})"
        if f == "interp_x":
            a = self.name()
            return f"{{M}}.interp({a}, {{M}}.array([-1.0, 0.0, 0.5, 2.0]), {{M}}.array([0.0, 2.0, 1.0, 3.0]))"
        if f == "interp_fp":
            a = self.vec(lambda u: np.size(u) >= 2)
            m = np.size(self.env[a])
            xp = ", ".join(str(float(i)) for i in range(m))
            return f"{{M}}.interp({{M}}.array([0.3, {m - 1.5}, -1.0]), {{M}}.array([{xp}]), {a})"
        if f == "polyval":
            a = self.vec()
            b = self.name()
            return f"{{M}}.polyval({a}, {b})"
        if f == "polyfit":
            a = self.vec(lambda u: np.size(u) >= 3)
            m = np.size(self.env[a])
            xs = ", ".join(str(0.5 * i - 1) for i in range(m))
            return f"{{M}}.polyfit({{M}}.array([{xs}]), {a}, {r.randint(1, min(2, m - 1))})"
        if f == "vander":
            a = self.vec()
            return f"{{M}}.vander({a}{r.choice(['', ', 3', ', increasing=True'])})"
        if f == "meshgrid":
            a, b = self.vec(), self.vec()
            ij = r.choice(["", ", indexing='ij'"])
            return f"{{M}}.meshgrid({a}, {b}{ij})[{r.randint(0, 1)}]"
        if f == "select":
            a = self.name()
            return f"{{M}}.select([{a} > 0.5, {a} < -0.5], [{a} * 2.0, {a} ** 2], {r.choice(['0.0', 'default=1.5', a])})"
        if f == "piecewise":
            a = self.name()
            return f"{{M}}.piecewise({a}, [{a} < 0, {a} >= 0], [lambda v: -v * 2.0, lambda v: v ** 2])"
        if f == "where_s":
            a = self.name()
            return r.choice([f"{{M}}.where({a} > 0, 1.0, {a})", f"{{M}}.where({a} > 0, {a}, -1.0)",
                             f"{{M}}.where({a} > 0.2, 2.0, 3.0) * {a}"])
        if f == "clip_arr":
            a = self.name()
            b = self.name(lambda u: self._broadcasts(u, self.env[a]))
            return r.choice([f"{{M}}.clip({a}, {b} - 0.5, None)", f"{{M}}.clip({a}, None, {b})",
                             f"{{M}}.clip({a}, {b} - 0.3, {b} + 0.3)", f"{a}.clip({b}, 1.0)"])
        a = self.name(lambda u: np.ndim(u) >= 1)
        k = self.axis(self.env[a])
        return f"{{M}}.{f}({a}, axis={k})" if r.random() < 0.6 else f"{a}.{f}(axis={k})"

    def s_sorts(self):
        r = self.r
        a = self.name(lambda u: np.ndim(u) >= 1)
        v = self.env[a]
        k = self.axis(v)
        m = np.shape(v)[k]
        f = r.choice(["sort", "sort", "argsort", "partition", "searchsorted", "searchsorted", "sort_method"])
        if f == "sort":
            return f"{{M}}.sort({a}, axis={k})"
        if f == "sort_method":
            return f"{{M}}.sort({a}, axis=None)"
        if f == "argsort":
            return f"{{M}}.take_along_axis({a}, {{M}}.argsort(-{a}, axis={k}), axis={k})"
        if f == "partition":
            kth = r.randrange(m)
            return f"{{M}}.take({{M}}.partition({a}, {kth}, axis={k}), {kth}, axis={k})"
        side = r.choice(["", ", side='right'", ", side='left'"])
        return f"{{M}}.searchsorted({{M}}.array([-1.0, 0.0, 0.5, 1.5]), {a}{side}) * 1.0 + {a}"

    def s_linalg38(self):
        r = self.r
        f = r.choice(["qr_r", "qr_q", "svdvals", "svd_s", "cholesky", "lstsq", "matrix_power", "eigvalsh",
                      "multi_dot", "tensorsolve", "tensorinv", "norm2"])
        if f in ("qr_r", "qr_q", "svdvals", "svd_s", "norm2"):
            a = self.name(lambda u: np.ndim(u) == 2)
            if f == "qr_r":
                return f"{{M}}.abs({{M}}.linalg.qr({a})[1])"
            if f == "qr_q":
                return f"{{M}}.linalg.qr({a}).R ** 2"
            if f == "svdvals":
                return f"{{M}}.linalg.svd({a}, compute_uv=False)"
            if f == "norm2":
                return f"{{M}}.linalg.norm({a}, 2)"
            return f"{{M}}.linalg.svd({a})[1]"
        if f in ("multi_dot",):
            a = self.name(lambda u: np.ndim(u) == 2)
            m = np.shape(self.env[a])[1]
            b = self.name(lambda u: np.ndim(u) in (1, 2) and np.shape(u)[0] == m)
            return f"{{M}}.linalg.multi_dot([{a}, {a}.T, {a}, {b}])"
        if f == "lstsq":
            a = self.name(lambda u: np.ndim(u) == 2 and np.shape(u)[0] >= np.shape(u)[1])
            m = np.shape(self.env[a])[0]
            b = self.name(lambda u: np.ndim(u) in (1, 2) and np.shape(u)[0] == m)
            return f"{{M}}.linalg.lstsq({a} + {{M}}.eye({m}, {np.shape(self.env[a])[1]}) * 3.0, {b}, rcond=None)[0]"
        sq = self.name(lambda u: np.ndim(u) >= 2 and np.shape(u)[-1] == np.shape(u)[-2])
        m = np.shape(self.env[sq])[-1]
        if f == "cholesky":
            return f"{{M}}.linalg.cholesky({sq} @ {{M}}.swapaxes({sq}, -1, -2) + {{M}}.eye({m}))"
        if f == "matrix_power":
            return f"{{M}}.linalg.matrix_power({sq}, {r.choice([0, 1, 2, 3, -2])})"
        if f == "eigvalsh":
            uplo = r.choice(["", ", UPLO='U'"])
            return f"{{M}}.linalg.eigvalsh({sq} + {{M}}.swapaxes({sq}, -1, -2){uplo})"
        if np.ndim(self.env[sq]) != 2:
            raise LookupError
        if f == "tensorsolve":
            b = self.name(lambda u: np.shape(u) == (m,))
            return f"{{M}}.linalg.tensorsolve({sq} + 3.0 * {{M}}.eye({m}), {b})"
        return f"{{M}}.linalg.tensorinv({sq} + 3.0 * {{M}}.eye({m}), ind=1)"

    def s_misc38(self):
        r = self.r
        f = r.choice(["block", "block2", "pad", "pad", "apply", "apply", "einsum_opt", "einsum_ell"])
        if f == "block":
            a = self.name(lambda u: np.ndim(u) == 1)
            b = self.vec()
            return f"{{M}}.block([{a}, {b}])"
        if f == "block2":
            a = self.name(lambda u: np.ndim(u) == 2)
            s = np.shape(self.env[a])
            b = self.name(lambda u: np.ndim(u) == 2 and np.shape(u)[0] == s[0])
            return f"{{M}}.block([[{a}, {b}], [{a}, {b}]])"
        if f == "pad":
            a = self.name(lambda u: np.ndim(u) >= 1)
            n = np.ndim(self.env[a])
            mode = r.choice(["", ", mode='constant'", ", mode='constant', constant_values=1.5", ", mode='edge'",
                             ", mode='reflect'", ", mode='symmetric'", ", mode='wrap'", ", mode='linear_ramp'",
                             ", mode='maximum'", ", mode='mean'", ", mode='minimum'"])
            width = r.choice(["1", "(1, 2)", "((1, 0),)" if n == 1 else "1", "((0, 1),) * " + str(n)])
            if "reflect" in mode and min(np.shape(self.env[a])) < 2:
                mode = ", mode='edge'"
            return f"{{M}}.pad({a}, {width}{mode})"
        if f == "apply":
            a = self.name(lambda u: np.ndim(u) >= 1)
            k = self.axis(self.env[a])
            fn = r.choice(["lambda v: v * v.sum()", "lambda v: v.max()", "lambda v: {M}.sin(v) + v[0]",
                           "lambda v: {M}.cumsum(v)", "lambda v: (v ** 2).mean()"])
            return f"{{M}}.apply_along_axis({fn}, {k}, {a})"
        if f == "einsum_opt":
            a = self.name(lambda u: np.ndim(u) == 2)
            m = np.shape(self.env[a])[1]
            b = self.name(lambda u: np.ndim(u) == 2 and np.shape(u)[0] == m)
            c = self.name(lambda u: np.ndim(u) >= 1 and np.shape(u)[0] == np.shape(self.env[b])[1])
            cl = "kl"[:np.ndim(self.env[c])]
            opt = r.choice(["True", "'greedy'", "'optimal'", "False"])
            return f"{{M}}.einsum('ij,jk,{cl}->i{cl[1:]}', {a}, {b}, {c}, optimize={opt})"
        a = self.name(lambda u: np.ndim(u) >= 2)
        return r.choice([f"{{M}}.einsum('...ij->...i', {a})", f"{{M}}.einsum('...ij->...ji', {a})",
                         f"{{M}}.einsum('i...->...', {a})", f"{{M}}.einsum('...j,...j->...', {a}, {a})"])

    def s_reduce38(self):
        """Reductions' keywords: ``initial``, ``where=``, ``dtype=``, ``keepdims``, and NumPy's ``out=``."""
        r = self.r
        a = self.name()
        v = self.env[a]
        n = np.ndim(v)
        f = r.choice(["sum", "prod", "max", "min", "mean", "var", "std", "cumsum", "out_ufunc", "out_reduce"])
        ax = self.axes(v)
        kws = []
        if f in ("sum", "prod", "max", "min") and r.random() < 0.5:
            kws.append(f"initial={r.choice(['0.0', '1.5', '-1.0'])}")
        if f in ("sum", "prod", "max", "min", "mean", "var", "std") and r.random() < 0.4 and n:
            kws.append(r.choice([f"where={a} > -0.5", f"where={{M}}.array({[r.random() < 0.7 for _ in range(np.shape(v)[-1])]})"]))
            if f in ("max", "min") and not any(k.startswith("initial") for k in kws):
                kws.append("initial=-5.0" if f == "max" else "initial=5.0")
        if r.random() < 0.3 and f not in ("out_ufunc", "out_reduce"):
            kws.append(f"dtype={{M}}.{r.choice(['float32', 'float64', 'float64', 'float64', 'float16'])}")
        if r.random() < 0.3 and f not in ("cumsum", "out_ufunc", "out_reduce"):
            kws.append("keepdims=True")
        if f == "cumsum":
            ax = str(self.axis(v)) if n else "None"
            return f"{{M}}.cumsum({a}, axis={ax}{''.join(', ' + k for k in kws if not k.startswith('keep'))})"
        t = self.fresh_name_peek()
        if f == "out_ufunc":
            g = r.choice(["sin", "exp", "tanh", "negative"])
            shape = tuple(np.shape(v))
            return ("pair", f"{t} = np.empty({shape})\nnp.{g}({a}, out={t})", f"{t} = jnp.{g}({a})")
        if f == "out_reduce":
            if n == 0:
                raise LookupError
            k = self.axis(v, neg=False)
            shape = tuple(s for i, s in enumerate(np.shape(v)) if i != k)
            g = r.choice(["sum", "max", "mean", "prod"])
            return ("pair", f"{t} = np.zeros({shape})\nnp.{g}({a}, axis={k}, out={t})\n{t} = {t} * 1.0",
                    f"{t} = jnp.{g}({a}, axis={k}) * 1.0")
        return f"{{M}}.{f}({a}, axis={ax}{''.join(', ' + k for k in kws)})"

    def statement(self):
        kinds = ["s_unary", "s_binary", "s_reduce", "s_shape", "s_index", "s_linalg",
                 "s_ufuncm", "s_ufuncm", "s_nan", "s_nan", "s_diffs", "s_diffs", "s_diffs", "s_sorts",
                 "s_linalg38", "s_linalg38", "s_misc38", "s_misc38", "s_reduce38", "s_reduce38"]
        k = self.r.choice(kinds)
        got = getattr(self, k)()
        if got is None:
            raise LookupError
        t = self.fresh_name_peek()
        if isinstance(got, tuple) and got[0] == "pair":
            return (got[1] if self.spelling == "numpy" else None), got[2], got[2]
        npt = f"{t} = " + got.replace("{M}", "np").replace("{S}", "scipy.special")
        jx = f"{t} = " + got.replace("{M}", "jnp").replace("{S}", "jax.scipy.special")
        return npt, jx, jx


def draw_program(seed: int, spelling: str, jax_env):
    """(program text, jnp reference text, inputs) or None: nprog37's drawing over :class:`Gen38`."""
    saved = p37.Gen
    p37.Gen = Gen38
    try:
        return p37.draw_program(seed, spelling, jax_env)
    finally:
        p37.Gen = saved


# --- the other results --------------------------------------------------------------------------------------

def _fn(ref_body, names, jax_env):
    f = p37.jax_function(ref_body, names, jax_env)
    return f


def _as(x):
    return np.asarray(x, dtype=float)


def _numeric(g, args, side):
    """d g / d args by differences: a list per arg (g's value shape + arg shape)."""
    return p37.central(lambda *a: _as(g(*a)), args, 1e-6 if side == 0 else 1e-7, side)


def _judge(ours, theirs, g, args, contract, rtol=1e-8):
    """'AGREE', 'CONVENTION', 'JAX-DIFFERS' or 'WRONG' for jac's ``ours`` against JAX's ``theirs`` (lists of
    arrays); ``g`` is the function whose derivatives ``contract`` turns into the quantity compared."""
    if all(p37.close(o, t, rtol) for o, t in zip(ours, theirs)):
        return "AGREE", ""
    cen, fwd, bwd = (contract(_numeric(g, args, s)) for s in (0, 1, -1))
    for o, t, c, f, b in zip(ours, theirs, cen, fwd, bwd):
        if p37.close(o, t, rtol):
            continue
        nan = np.isnan(_as(t)) & ~np.isnan(_as(o))
        if nan.any() and p37.close(np.where(nan, 0, o), np.where(nan, 0, t), rtol):
            return "JAX-DIFFERS", "JAX's NaN where jac's is finite (jac's exact 0 where the output is constant)"
        if not p37.close(f, b, 1e-3):
            return "CONVENTION", "a kink"
        if p37.close(o, c, 1e-5) and not p37.close(t, c, 1e-5):
            return "JAX-DIFFERS", f"jax {_as(t).ravel()[:6]}, central {_as(c).ravel()[:6]}"
        return "WRONG", f"jac {_as(o).ravel()[:8]}, jax {_as(t).ravel()[:8]}"
    return "AGREE", ""


class JacTimeout(Exception):
    """jac took over 60 s."""


def _jac(fn, *args):
    """``fn(*args)`` (a call of jac's), raising :class:`JacTimeout` past 60 s."""
    got = with_timeout(lambda: ("ok", fn(*args)), seconds=60)
    if got == ("CRASH", "timeout"):
        raise JacTimeout
    return got[1]


def higher(mode, program, ref_body, inputs, jax_env, rng):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    jax, jnp = jax_env
    names = list(inputs)
    args = [inputs[n] for n in names]
    jf = _fn(ref_body, names, jax_env)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = _as(jf(*[jnp.asarray(a) for a in args]))
    except Exception as e:  # noqa: BLE001
        return "LIB-RAISES", f"{type(e).__name__}"
    if np.asarray(jf(*[jnp.asarray(a) for a in args])).dtype.kind != "f" or not np.isfinite(value).all():
        return "NO-REF", "not a finite float result"
    try:
        jax.jacfwd(jf, argnums=tuple(range(len(args))))(*[jnp.asarray(a) for a in args])
    except Exception as e:  # noqa: BLE001
        return "NO-REF", f"jacfwd: {type(e).__name__}"
    g = lambda *a: jf(*[jnp.asarray(v) for v in a])  # noqa: E731
    try:
        if mode == "hessian":
            theirs_t = jax.hessian(jf, argnums=tuple(range(len(args))))(*[jnp.asarray(a) for a in args])
            theirs = [_as(theirs_t[i][j]) for i in range(len(args)) for j in range(len(args))]
            got = _jac(api.hessian, program, inputs)
            ours = [_as(got[(a, b)]) for a in names for b in names]
            jac_of = lambda *a: [_as(j) for j in jax.jacfwd(jf, argnums=tuple(range(len(args))))(*[jnp.asarray(v) for v in a])]  # noqa: E731

            def hg(*a):  # all first-derivative blocks, flattened and joined: differenced to the Hessian
                return np.concatenate([j.reshape(value.shape + (-1,)) for j in jac_of(*a)], axis=-1)

            def contract(ds):  # ds[j]: value.shape + (sum sizes,) + arg_j.shape -> blocks (i, j)
                out, sizes = [], [int(np.size(a)) for a in args]
                for i in range(len(args)):
                    for j in range(len(args)):
                        lo = sum(sizes[:i])
                        blk = ds[j][(...,) + (slice(lo, lo + sizes[i]),) + (slice(None),) * np.ndim(args[j])]
                        out.append(blk.reshape(value.shape + np.shape(args[i]) + np.shape(args[j])))
                return out
            return _judge(ours, theirs, hg, args, contract)
        if mode == "jvp":
            tangents = [rng.normal(size=np.shape(a)) for a in args]
            _, t_out = jax.jvp(jf, tuple(jnp.asarray(a) for a in args), tuple(jnp.asarray(t) for t in tangents))
            ours = [_as(_jac(api.jvp, program, inputs, dict(zip(names, tangents))))]

            def contract(ds):
                return [sum(np.tensordot(d, t, axes=np.ndim(t)) for d, t in zip(ds, tangents))]
            return _judge(ours, [_as(t_out)], g, args, contract)
        if mode == "vjp":
            v = rng.normal(size=value.shape)
            out, pull = jax.vjp(jf, *[jnp.asarray(a) for a in args])
            # the cotangent in the output's dtype (session 51: np.sum(..., dtype=np.float32) made JAX's pullback raise
            # "unexpected JAX type" for a float64 v, counted as jac's CRASH)
            theirs = [_as(c) for c in pull(jnp.asarray(v, dtype=out.dtype))]
            got = _jac(api.vjp, program, inputs, v)
            ours = [_as(got[n]) if n in got else np.zeros(np.shape(a)) for n, a in zip(names, args)]

            def contract(ds):
                return [np.tensordot(v, d, axes=(list(range(v.ndim)), list(range(v.ndim)))) for d in ds]
            return _judge(ours, theirs, g, args, contract)
        return batch(program, ref_body, inputs, jax_env, rng)
    except JacError as e:
        return "JAC-REFUSES", str(e).splitlines()[0]
    except JacTimeout:
        return "CRASH", "timeout (jac alone, 60 s)"
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"


def batch(program, ref_body, inputs, jax_env, rng):
    """``eval --batch``: one or two inputs batched (B = 2 or 3, axis 0 or 1), against jax.vmap."""
    from jacobi_cli.tools.report import eval_report
    jax, jnp = jax_env
    names = list(inputs)
    k = rng.integers(1, min(2, len(names)) + 1)
    batched = list(rng.choice(names, size=k, replace=False))
    size = int(rng.integers(2, 4))
    axes, stacked, specs = [], {}, []
    for n in names:
        a = inputs[n]
        if n not in batched:
            axes.append(None)
            stacked[n] = a
            continue
        ax = int(rng.integers(0, min(1, np.ndim(a)) + 1))
        examples = [a + 0.1 * rng.normal(size=np.shape(a)) if b else a for b in range(size)]
        stacked[n] = np.round(np.stack(examples, axis=ax), 3)
        axes.append(ax)
        specs.append(f"{n}:{ax}" if ax else n)
    jf = _fn(ref_body, names, jax_env)
    jargs = [jnp.asarray(stacked[n]) for n in names]
    value = _as(jax.vmap(jf, in_axes=tuple(axes))(*jargs))
    jacs = jax.vmap(jax.jacfwd(jf, argnums=tuple(range(len(names)))), in_axes=tuple(axes))(*jargs)
    report = _jac(lambda: eval_report(program, stacked, batch=specs))
    ours = _as(report["output"]["value"])
    if ours.shape != value.shape or not p37.close(ours, value, 1e-9):
        return "WRONG", f"batched value {specs}: jac {ours.shape} {ours.ravel()[:6]}, vmap {value.shape} {value.ravel()[:6]}"
    for n, t in zip(names, jacs):
        o = _as(report["jacobian"][n]["value"]) if n in report["jacobian"] else np.zeros(np.shape(t))
        if o.shape != np.shape(t) or not p37.close(o, t, 1e-8):
            # per example: jac's unbatched Jacobian of that example (a difference there is first mode's)
            status, why = _per_example(program, ref_body, names, stacked, axes, n, o, _as(t), jax_env)
            return status, f"batched d/d{n} {specs}: {why}jac {o.shape} {o.ravel()[:6]}, vmap {np.shape(t)} {_as(t).ravel()[:6]}"
    return "AGREE", ""


def _per_example(program, ref_body, names, stacked, axes, n, ours, theirs, jax_env):
    """A batched Jacobian (``ours``) that differs from ``vmap(jacfwd)`` (``theirs``): WRONG unless each example's
    block is jac's own unbatched Jacobian of that example and differs from JAX's as first mode allows (session 48):
    JAX's NaN where jac's is finite and the rest agrees (JAX-DIFFERS: jac's exact 0 where the output is constant),
    or jac's is ``jax.jacrev``'s of the example (CONVENTION: a NaN-reduction's cotangent 0 times NaN)."""
    from jacobi_cli.tools import api
    jax, jnp = jax_env
    if ours.shape != theirs.shape:
        return "WRONG", ""
    jf, found = _fn(ref_body, names, jax_env), set()
    for b in range(ours.shape[0]):
        example = {m: (np.take(stacked[m], b, axis=ax) if ax is not None else stacked[m]) for m, ax in zip(names, axes)}
        own = api.jacobian(program, example)
        alone = _as(own[n]) if n in own else np.zeros(ours.shape[1:])
        if not p37.close(ours[b], alone, 1e-12):
            return "WRONG", f"example {b} is not jac's unbatched Jacobian of it; "
        if p37.close(ours[b], theirs[b], 1e-8):
            continue
        nan = np.isnan(theirs[b]) & ~np.isnan(ours[b])
        if nan.any() and p37.close(np.where(nan, 0, ours[b]), np.where(nan, 0, theirs[b]), 1e-8):
            found.add("JAX-DIFFERS")
            continue
        rev = jax.jacrev(jf, argnums=names.index(n))(*[jnp.asarray(example[m]) for m in names])
        if p37.close(ours[b], _as(rev), 1e-9):
            found.add("CONVENTION")
            continue
        return "WRONG", f"example {b}: "
    status = "JAX-DIFFERS" if "JAX-DIFFERS" in found else "CONVENTION"
    return status, "per example as first mode reads it (JAX's NaN where jac's exact 0, or jacrev's); "


def _as_jacrev(program, ref_body, inputs, jax_env):
    """Whether jac's Jacobian is ``jax.jacrev``'s where it differs from ``jacfwd``'s: a NaN where a
    nan-reduction drops an element that is NaN times the input (``np.nansum(x * c)`` with a NaN in ``c``), the
    cotangent 0 times NaN in reverse mode, as ``jax.grad`` and PyTorch's ``backward()`` give it."""
    from jacobi_cli.tools import api
    jax, jnp = jax_env
    names = list(inputs)
    try:
        jf = p37.jax_function(ref_body, names, jax_env)
        rev = jax.jacrev(jf, argnums=tuple(range(len(names))))(*[jnp.asarray(inputs[n]) for n in names])
        ours = api.jacobian(program, inputs)
        return all(p37.close(np.asarray(ours[n]) if n in ours else np.zeros(np.shape(r)), np.asarray(r), 1e-9)
                   for n, r in zip(names, rev))
    except Exception:  # noqa: BLE001
        return False


def _jac_alone(program, inputs):
    try:
        p37.run_jac(program, inputs)
    except Exception:  # noqa: BLE001 - classify saw what it raises
        pass
    return "done", ""


def _float32_only(program, ref_body, inputs, jax_env):
    """Whether jac's value is NumPy's with every float32 read as float64 (jac's documented reading of a cast or
    ``dtype=`` to float32 under --dtype float64): then a value differing at float32's rounding is that choice."""
    from jacobi_cli.tools import api
    wide = program.replace("np.float32", "np.float64").replace("jnp.float32", "jnp.float64")
    try:
        if program.startswith(HEAD["numpy"]):
            ref = p37.numpy_function(wide, list(inputs))(*inputs.values())
        else:
            ref = p37.jax_function(ref_body.replace("jnp.float32", "jnp.float64"), list(inputs), jax_env)(*inputs.values())
        return p37.close(api.evaluate(program, inputs), np.asarray(ref), 1e-9)
    except Exception:  # noqa: BLE001
        return False


STATUSES = p37.STATUSES + ("NO-REF", "LIB-RAISES", "JAX-DIFFERS", "SLOW-REF")


def run_one(mode, seed, spelling, jax_env):
    drawn = draw_program(seed, spelling, jax_env)
    if drawn is None:
        return None
    program, ref_body, inputs = drawn
    if mode == "first":
        # the libraries' references (JAX's tracing) may take a minute on a loaded machine: a timeout is jac's only
        # when jac alone also takes over 30 s
        status, detail = with_timeout(p37.classify, program, ref_body, inputs, spelling, jax_env, seconds=240)
        if (status, detail) == ("CRASH", "timeout"):
            alone = with_timeout(_jac_alone, program, inputs, seconds=30)
            status, detail = ("CRASH", "timeout (jac alone)") if alone == ("CRASH", "timeout") else ("SLOW-REF", "")
        if status == "WRONG" and "nan" in detail and _as_jacrev(program, ref_body, inputs, jax_env):
            status, detail = "CONVENTION", "reverse mode's 0 * NaN, as jax.jacrev and PyTorch: " + detail
        if status == "WRONG" and "float32" in program and detail.startswith("value:") and _float32_only(program, ref_body, inputs, jax_env):
            status, detail = "CONVENTION", "dtype=float32 computed in --dtype (float64)"
        return program, ref_body, inputs, status, detail
    rng = np.random.default_rng(seed)
    got = higher(mode, program, ref_body, inputs, jax_env, rng)
    return (program, ref_body, inputs) + tuple(got)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300, help="programs per spelling and mode")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spelling", default="both", choices=["numpy", "jax", "both"])
    ap.add_argument("--mode", default="first", choices=["first", "hessian", "jvp", "vjp", "batch", "all"])
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
    modes = ["first", "hessian", "jvp", "vjp", "batch"] if a.mode == "all" else [a.mode]
    for mode in modes:
        for spelling in spellings:
            counts, refusals = Counter(), Counter()
            for k in range(a.n):
                seed = a.seed * 1_000_003 + k
                if a.print:
                    drawn = draw_program(seed, spelling, jax_env)
                    if drawn:
                        print(f"# seed {seed}\n{drawn[0]}\n")
                    continue
                got = run_one(mode, seed, spelling, jax_env)
                if got is None:
                    continue
                program, ref_body, inputs, status, detail = got
                counts[status] += 1
                if (k + 1) % 25 == 0:
                    print(f"  [{mode} {spelling} {k + 1}/{a.n}, {time.monotonic() - start:.0f} s] "
                          + ", ".join(f"{s} {c}" for s, c in sorted(counts.items())), file=sys.stderr, flush=True)
                if status in ("JAC-REFUSES", "BOTH-RAISE", "JAC-ANSWERS-WHERE-LIB-RAISES", "NO-REF", "JAX-DIFFERS"):
                    refusals[(status, bucket(detail))] += 1
                if status in ("WRONG", "CRASH") or status == a.only:
                    small = program
                    if status in ("WRONG", "CRASH") and mode == "first":
                        small = p37.reduce(program, ref_body, inputs, spelling, jax_env, status)
                    print(f"{status} [{mode} {spelling} seed {seed}] {detail}\n--- program:\n{small}\n--- inputs: "
                          f"{ {n: v.tolist() for n, v in inputs.items()} }\n", flush=True)
            if a.print:
                continue
            print(f"\ntop refusals ({mode}, {spelling}):")
            for (st, msg), c in refusals.most_common(a.show):
                print(f"  {c:4d}  {st:11s} {msg}")
            print(f"\n{mode} {spelling}: {sum(counts.values())} programs ({time.monotonic() - start:.0f} s): "
                  + ", ".join(f"{s} {counts[s]}" for s in STATUSES if counts[s] or s in p37.STATUSES), flush=True)
            bad += counts["WRONG"] + counts["CRASH"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
