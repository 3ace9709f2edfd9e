"""Higher orders, forward mode and batches of jac's whole vocabulary of functions, against JAX and PyTorch.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/orders30_sweep.py [-k SUBSTRING] [--lib jax,torch,scipy]
                                                                       [--checks hessian,jvp,batch,order3] [-v]

The names are jac's own tables (``lang.functions.FUNCTIONS`` and ``LIBRARY_FUNCTIONS``, filled by importing the
parser), each spelt as a library spells it: ``jnp.`` / ``jax.nn.`` / ``jax.scipy.special.`` / ``lax.`` where JAX
has the name, ``torch.`` / ``F.`` / ``torch.special.`` / ``torch.linalg.`` where PyTorch has it (both when both do),
``scipy.special.`` for a SciPy name neither has. Each spelling is called with each argument PATTERN (``f(x)``,
``f(x, y)``, ``f(A)``, ``f(2, x)``, ...); a pattern is a case when the library evaluates it to a float array and
jac evaluates it to the same value at the random point (a probe: patterns the library refuses are skipped).
Each case is run at the POINTS (random, mixed signs, ties and zeros, integer values) by four CHECKS:

- ``hessian``: ``jacobi_cli.hessian`` (every pair of inputs: the mixed partials) against ``jax.hessian`` /
  ``torch.func.jacfwd(jacrev)``;
- ``jvp``: ``jacobi_cli.jvp`` with a tangent for every input against ``jax.jvp`` / ``torch.func.jvp``;
- ``batch``: ``jacobi_cli.jacobian(batch=["x"])`` (x batched, the other inputs shared) against ``jax.vmap`` of
  ``jax.jacrev`` (in_axes 0 for x, None for the others) / ``torch.func.vmap`` of ``jacrev``;
- ``order3``: ``jacobi_cli.tools.api.derivative(order=3, wrt x)`` against ``jacfwd(jacfwd(jacrev))``.

Where PyTorch has no forward-mode or batching rule for an op, its reference is the same by
``torch.autograd.functional`` (nested ``jacobian(create_graph=True)``, ``jvp``, the examples one by one).

A SciPy name no library has under transforms is checked against central differences of jac's own lower order
(hessian: of jac's Jacobian; order 3: of jac's order 2; jvp: jac's Jacobian times the tangent; batch: jac's
Jacobian example by example). Outcomes per (case, point, check):

- ``agree``: within |jac - ref| <= 1e-7 |ref| + 1e-9 max|ref| (1e-4 relative against central differences), NaN
  where the reference has NaN;
- ``differ``: a number differs (a silent wrong answer until triaged: listed);
- ``nan``: agree where both are numbers, one side NaN or inf elsewhere (a 0 * inf of one side's rule);
- ``known``: a difference triaged by hand (``KNOWN``: a kink where jac makes PyTorch's documented choice, central
  differences across a kink or jump);
- ``refused``: the reference answers, jac raises a JacError; ``both``: both raise; ``ref-raises``: jac answers;
- ``crash``: jac raised something other than a JacError.

Prints one line per outcome that is not ``agree`` and the tally per check.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

RNG = np.random.default_rng(30)
_G = RNG.uniform(-1, 1, (3, 3))
RAND = {"x": RNG.uniform(0.2, 0.9, 4), "y": RNG.uniform(0.2, 0.9, 4), "A": _G @ _G.T + np.eye(3),
        "B": RNG.uniform(-1, 1, (3, 3)), "X3": RNG.uniform(-1, 1, (1, 2, 6)), "X4": RNG.uniform(-1, 1, (1, 2, 4, 4))}
# the points: a function of the random values (same shapes)
POINTS = {
    "rand": lambda n, v: v,
    "mixed": lambda n, v: v * np.where(np.arange(v.size).reshape(v.shape) % 2 == 0, -1.0, 1.0) * 1.7
    if n not in ("A",) else v,
    "ties": lambda n, v: np.round(v * 2) / 2 if n != "A" else np.full((3, 3), 0.5) + np.eye(3),
    "ints": lambda n, v: np.clip(np.round(v * 4), 1, None) + (np.arange(v.size).reshape(v.shape) % 3),
}
PATTERNS = ["{f}(x)", "{f}(x, y)", "{f}(A)", "{f}(A, B)", "{f}(2, x)", "{f}(x, 2)", "{f}(X3, 2)", "{f}(X4, 2)",
            "{f}(x, 0)", "{f}(1, x)", "{f}(x, y, 0.5)"]
INPUT_NAMES = ("x", "y", "A", "B", "X3", "X4")


def spellings(only: list) -> list:
    """(library, spelling) of every name in jac's tables that a library has."""
    import jax
    import jax.scipy.special
    import scipy.special
    import torch
    import torch.nn.functional as F

    from jacobi_cli.lang import functions, parser  # noqa: F401  (the parser imports every table)
    from jacobi_cli.tools import api

    api.evaluate("x", {"x": 1.0})
    jax_mods = [("jnp", jax.numpy), ("jax.nn", jax.nn), ("jax.scipy.special", jax.scipy.special), ("lax", jax.lax),
                ("jnp.linalg", jax.numpy.linalg)]
    torch_mods = [("torch", torch), ("F", F), ("torch.special", torch.special), ("torch.linalg", torch.linalg)]
    where = {"numpy": jax_mods[:1], "np.linalg": jax_mods[4:], "jax": jax_mods[1:2], "jax.scipy": jax_mods[2:3],
             "jax.lax": jax_mods[3:4], "torch": torch_mods, "torch.linalg": torch_mods[3:], "scipy": None}
    names = {(None, n) for n in functions.FUNCTIONS} | set(functions.LIBRARY_FUNCTIONS)
    out = set()
    for lib, name in sorted(names, key=lambda t: (t[0] or "", t[1])):
        if lib is None:
            mods = {"jax": jax_mods, "torch": torch_mods}
        elif lib in where and where[lib] is not None:
            mods = {"jax" if where[lib][0][0] in dict(jax_mods) else "torch": where[lib]}
        elif lib == "scipy":
            found = [m for m, mod in jax_mods if hasattr(mod, name)]
            if not found and hasattr(scipy.special, name):
                out.add(("scipy", f"scipy.special.{name}"))
            mods = {"jax": jax_mods[2:3]} if found else {}
        else:
            continue
        for kind, ms in mods.items():
            for m, mod in ms:
                if callable(getattr(mod, name, None)) and not name.startswith("_"):
                    out.add((kind, f"{m}.{name}"))
                    break
    out = sorted(out)
    return [s for s in out if s[0] in only]


def namespace(kind: str) -> dict:
    if kind == "jax":
        import jax
        import jax.numpy as jnp
        import jax.scipy.special  # noqa: F401
        from jax import lax
        return {"jax": jax, "jnp": jnp, "lax": lax}
    if kind == "torch":
        import torch
        import torch.nn.functional as F
        return {"torch": torch, "F": F}
    import scipy.special
    return {"scipy": scipy}


def lib_function(kind: str, text: str, names: list):
    """The library's function of the inputs ``names`` (arrays of its own kind in, float64 arrays out)."""
    ns = namespace(kind)
    code = compile(text, "<case>", "eval")

    def f(*args):
        fn = eval(text.split("(")[0], ns) if kind == "scipy" else None
        if isinstance(fn, np.ufunc) and len(args) + text.count(", 2") + text.count(", 0") + text.count("(2,") \
                + text.count("(1,") + text.count(", 0.5") > fn.nin:
            raise TypeError("more arguments than the ufunc's inputs (the next would be its out=)")
        out = eval(code, {**ns, **dict(zip(names, args))})
        if isinstance(out, tuple):
            raise TypeError("a tuple")
        return out
    return f


def to_lib(kind, v):
    if kind == "jax":
        import jax.numpy as jnp
        return jnp.asarray(v, dtype=jnp.float64)
    if kind == "torch":
        import torch
        return torch.tensor(np.asarray(v, dtype=np.float64))
    return np.array(v, dtype=np.float64)  # a copy: a SciPy ufunc's second positional argument is its out=


def to_np(x):
    if isinstance(x, (tuple, list)):
        return type(x)(to_np(a) for a in x)
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return np.asarray(x)


def is_float(out) -> bool:
    a = to_np(out)
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size <= 64


# --- references --------------------------------------------------------------------------------------------

def ref_hessian(kind, f, args):
    n = len(args)
    if kind == "jax":
        import jax
        H = jax.hessian(f, argnums=tuple(range(n)))(*args)
        return {(i, j): to_np(H[i][j]) for i in range(n) for j in range(n)}
    import torch
    from torch.autograd.functional import jacobian
    try:  # torch.func first (one vectorised pass), the autograd loops where an op has no forward / batching rule
        from torch.func import jacfwd, jacrev
        return {(i, j): to_np(jacfwd(jacrev(f, argnums=i), argnums=j)(*args)) for i in range(n) for j in range(n)}
    except Exception:
        pass
    out = {}
    for i in range(n):
        for j in range(n):
            def gi(*a, i=i):
                return jacobian(lambda t: f(*a[:i], t, *a[i + 1:]), a[i], create_graph=True)
            out[(i, j)] = to_np(jacobian(lambda t: gi(*args[:j], t, *args[j + 1:]), args[j]))
    return out


def ref_jvp(kind, f, args, tangents):
    if kind == "jax":
        import jax
        return to_np(jax.jvp(f, tuple(args), tuple(tangents))[1])
    try:
        import torch.func
        return to_np(torch.func.jvp(f, tuple(args), tuple(tangents))[1])
    except Exception:
        pass
    from torch.autograd.functional import jvp
    return to_np(jvp(f, tuple(args), tuple(tangents))[1])


def ref_batch(kind, f, args, batched):
    """{i: (B, *y, *x_i)}: x batched along axis 0, the others shared."""
    n = len(args)
    if kind == "jax":
        import jax
        J = jax.vmap(jax.jacrev(f, argnums=tuple(range(n))), in_axes=(0,) + (None,) * (n - 1))(batched, *args[1:])
        return {i: to_np(J[i]) for i in range(n)}
    try:
        import torch.func
        J = torch.func.vmap(torch.func.jacrev(f, argnums=tuple(range(n))), in_dims=(0,) + (None,) * (n - 1))(
            batched, *args[1:])
        return {i: to_np(J[i]) for i in range(n)}
    except Exception:
        pass
    from torch.autograd.functional import jacobian
    rows = []
    for b in range(batched.shape[0]):
        J = jacobian(f, (batched[b], *args[1:]))
        rows.append([to_np(J[i]) for i in range(n)])
    return {i: np.stack([r[i] for r in rows]) for i in range(n)}


def ref_order3(kind, f, args):
    if kind == "jax":
        import jax
        return to_np(jax.jacfwd(jax.jacfwd(jax.jacrev(f)))(*args))
    try:
        from torch.func import jacfwd, jacrev
        return to_np(jacfwd(jacfwd(jacrev(f)))(*args))
    except Exception:
        pass
    from torch.autograd.functional import jacobian

    def g1(t):
        return jacobian(lambda u: f(u, *args[1:]), t, create_graph=True)

    def g2(t):
        return jacobian(g1, t, create_graph=True)
    return to_np(jacobian(g2, args[0]))


# --- jac -----------------------------------------------------------------------------------------------------

def cd(fun, x, h=1e-5):
    """Central differences of fun (array -> array) at x: shape fun(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        step = h * max(1.0, abs(x.reshape(-1)[k]))
        e[k] = step
        cols.append((np.asarray(fun(x + e.reshape(x.shape))) - np.asarray(fun(x - e.reshape(x.shape)))) / (2 * step))
    out = np.stack(cols, axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


def jac_checks(text, names, values, check, tangents=None, batched=None):
    from jacobi_cli.tools import api
    env = {n: np.array(v) for n, v in zip(names, values)}
    if check == "hessian":
        H = api.hessian(text, env)
        return {(i, j): np.asarray(H[(a, b)]) for i, a in enumerate(names) for j, b in enumerate(names)}
    if check == "jvp":
        return np.asarray(api.jvp(text, env, dict(zip(names, tangents))))
    if check == "batch":
        J = api.jacobian(text, {**env, names[0]: batched}, batch=[names[0]])
        return {i: np.asarray(J[a]) for i, a in enumerate(names)}
    if check == "order3":
        return np.asarray(api.derivative(text, env, order=3, wrt=[names[0]]))
    raise ValueError(check)


def self_reference(text, names, values, check, tangents=None, batched=None):
    """For a name no library has under transforms: central differences of jac's own lower order."""
    from jacobi_cli.tools import api
    env = dict(zip(names, values))
    if check == "hessian":
        out = {}
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                out[(i, j)] = cd(lambda t: np.asarray(api.jacobian(text, {**env, b: t}, wrt=[a])[a]), env[b])
        return out
    if check == "jvp":
        J = api.jacobian(text, env)
        ny = np.asarray(api.evaluate(text, env)).ndim
        return sum(np.tensordot(np.asarray(J[a]), t, axes=np.ndim(t)) if np.ndim(t) else np.asarray(J[a]) * t
                   for a, t in zip(names, tangents)) + np.zeros(np.asarray(api.evaluate(text, env)).shape) * ny
    if check == "batch":
        rows = [api.jacobian(text, {**env, names[0]: batched[b]}) for b in range(batched.shape[0])]
        return {i: np.stack([np.asarray(r[a]) for r in rows]) for i, a in enumerate(names)}
    if check == "order3":
        return cd(lambda t: np.asarray(api.derivative(text, {**env, names[0]: t}, order=2, wrt=[names[0]])),
                  env[names[0]])
    raise ValueError(check)


def compare(got, ref, rtol) -> tuple:
    """(outcome, detail) of jac's array(s) against the reference's."""
    if isinstance(ref, dict):
        worst = ("agree", "")
        order = ["agree", "nan", "differ"]
        for k in ref:
            o, d = compare(got[k], ref[k], rtol)
            if order.index(o) > order.index(worst[0]):
                worst = (o, f"block {k}: {d}")
        return worst
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        if got.size == ref.size:
            got = got.reshape(ref.shape)
        else:
            return "differ", f"shape {got.shape} vs {ref.shape}"
    both = np.isfinite(got) & np.isfinite(ref)
    scale = np.max(np.abs(ref[both])) if both.any() else 0.0
    atol = (1e-9 if rtol < 1e-6 else 1e-6) * max(scale, 1e-3 if rtol < 1e-6 else 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = both & ~(np.abs(got - ref) <= rtol * np.abs(ref) + atol)
    if bad.any():
        k = np.argwhere(bad)[0]
        return "differ", f"at {tuple(k)}: jac {got[tuple(k)]!r} ref {ref[tuple(k)]!r}"
    same_special = (got == ref) | (np.isnan(got) & np.isnan(ref))
    if (~both & ~same_special).any():
        k = np.argwhere(~both & ~same_special)[0]
        return "nan", f"at {tuple(k)}: jac {got[tuple(k)]!r} ref {ref[tuple(k)]!r}"
    return "agree", ""


def cases(only: list, k: str) -> list:
    """(kind, text, names) of every pattern the library evaluates and jac evaluates to the same value."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    out = []
    for kind, spelling in spellings(only):
        for pattern in PATTERNS:
            text = pattern.format(f=spelling)
            if k not in text:
                continue
            names = [n for n in INPUT_NAMES if n in text.replace(spelling, "")]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = lib_function(kind, text, names)
                    val = f(*[to_lib(kind, RAND[n]) for n in names])
                if not is_float(val):
                    continue
            except Exception:
                continue
            try:
                mine = api.evaluate(text, {n: RAND[n].copy() for n in names})
            except JacError:
                out.append((kind, text, names, "jac-refuses-value"))
                continue
            except Exception as e:
                out.append((kind, text, names, f"jac-crash-value {type(e).__name__}: {e}"))
                continue
            o, d = compare(mine, to_np(val), 1e-7)
            out.append((kind, text, names, None if o == "agree" else f"value-{o} {d}"))
            break  # the first pattern that the library takes: one case per spelling
    return out


def run_one(kind, text, names, point, check):
    from jacobi_cli.errors import JacError
    values = [POINTS[point](n, RAND[n]) for n in names]
    tangents = [np.linspace(0.3, -0.7, v.size).reshape(v.shape) for v in values]
    batched = np.stack([values[0], values[0][::-1] if values[0].ndim == 1 else values[0] * 0.9, RAND[names[0]]])
    rtol = 1e-7
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "scipy":
                ref = self_reference(text, names, values, check, tangents, batched)
                rtol = 1e-4
            else:
                f = lib_function(kind, text, names)
                args = [to_lib(kind, v) for v in values]
                if check == "hessian":
                    ref = ref_hessian(kind, f, args)
                elif check == "jvp":
                    ref = ref_jvp(kind, f, args, [to_lib(kind, t) for t in tangents])
                elif check == "batch":
                    ref = ref_batch(kind, f, args, to_lib(kind, batched))
                else:
                    ref = ref_order3(kind, f, args)
        ref_err = None
    except Exception as e:
        ref, ref_err = None, f"{type(e).__name__}: {str(e)[:100]}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = jac_checks(text, names, values, check, tangents, batched)
    except JacError as e:
        return ("both" if ref_err else "refused"), str(e)[:200]
    except Exception as e:
        return "crash", f"{type(e).__name__}: {e}\n{traceback.format_exc()[-600:]}"
    if ref_err:
        return "ref-raises", ref_err
    return compare(got, ref, rtol)


CHECKS = ("hessian", "jvp", "batch", "order3")
# differences triaged by hand: (text, point) -> why (outcome ``known``)
_KINK = ("a kink at the tie point: jac makes PyTorch's choice for clip (the derivative passes where lo <= x <= hi, "
         "docs/expressions.md); JAX's where / clip give 1 / 0.5 there")
KNOWN = {
    ("jax.nn.hard_tanh(x)", "ties"): _KINK,
    ("jax.nn.sparse_sigmoid(x)", "ties"): _KINK,
    **{("scipy.special.huber(x, y)", p): "central differences across huber's kink |r| = delta"
       for p in ("ties", "ints")},
    **{("scipy.special.perm(x, y)", p): "central differences across perm's jump at k = N (poch(1, k) to 0)"
       for p in ("ties", "ints")},
    ("scipy.special.ellipkm1(x)", "ties"): "p = 1 (m = 0): jac's third derivative is the series' (-75 pi / 256); the "
                                           "central differences of jac's second beside it lose digits to the "
                                           "0/0 of K's derivative there (tests/test_orders30.py)",
    **{("jnp.clip(x, y)", p): _KINK for p in ("ties", "ints")},
    **{(f"jnp.{f}(x, y)", p): "a tie: jac's fmax / fmin give the whole derivative to the first argument, as "
                              "PyTorch's masks (ir/ops.py); JAX's to the second"
       for f in ("fmax", "fmin") for p in ("ties", "ints")},
    **{("jnp.hypot(x, y)", p): "|x| == |y|: jac's second derivative is y² / r³; JAX's hypot computes with "
                               "maximum / minimum of |x|, |y|, whose second derivative at their tie is 0"
       for p in ("ties", "ints")},
    ("jax.scipy.special.logit(x)", "ints"): "x >= 1, outside the domain (inf, NaN): as at mixed signs",
    ("jax.scipy.special.spence(x)", "ties"): "x = 1: jac's spence'(1) = -1 is the limit of log(x) / (1 - x); JAX's "
                                             "where gives 0 there",
    ("jax.scipy.special.kl_div(x, y)", "mixed"): "x < 0, outside the domain (the value is inf): jac's derivative is "
                                                 "that of the constant, JAX's formula continues",
    ("jax.scipy.special.logit(x)", "mixed"): "x < 0, outside the domain (the value is NaN): jac's second derivative "
                                             "is PyTorch's logit's (0), JAX's formula continues",
    **{("torch.cdist(A, B)", p): "PyTorch's vmap of jacrev of cdist is not its Jacobian example by example "
                                 "(torch.autograd.functional.jacobian agrees with jac to 2e-16)"
       for p in ("rand", "mixed", "ties", "ints")},
    ("F.binary_cross_entropy(x, y)", "ties"): "x = 1, the boundary of the domain: PyTorch's double backward "
                                              "divides by its eps clamp squared (1e-24), jac's by the clamp; the "
                                              "derivative is infinite there",
}


def main() -> int:
    import jax
    jax.config.update("jax_enable_x64", True)
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("--lib", default="jax,torch,scipy")
    ap.add_argument("--checks", default=",".join(CHECKS))
    ap.add_argument("--points", default=",".join(POINTS))
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    start = time.perf_counter()
    found = cases(args.lib.split(","), args.k)
    tally = defaultdict(Counter)
    probes = Counter()
    for kind, text, names, problem in found:
        if problem:
            probes[problem.split()[0]] += 1
            print(f"{'probe':10} {'':8} {'':6} {text:40} | {problem[:200]}", flush=True)
            continue
        probes["case"] += 1
        for point in args.points.split(","):
            for check in args.checks.split(","):
                outcome, detail = run_one(kind, text, names, point, check)
                if outcome == "differ" and (text, point) in KNOWN:
                    outcome, detail = "known", KNOWN[(text, point)]
                tally[check][outcome] += 1
                tally["all"][outcome] += 1
                if outcome not in ("agree", "both", "nan", "known") or args.v:
                    print(f"{outcome:10} {check:8} {point:6} {text:40} | {detail[:240]}", flush=True)
    kinds = ["agree", "differ", "known", "nan", "refused", "both", "ref-raises", "crash"]
    print(f"\ncases: {dict(probes)}")
    print("| check | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for check, c in tally.items():
        print(f"| {check} | " + " | ".join(str(c[k]) for k in kinds) + " |")
    print(f"{time.perf_counter() - start:.0f} s")
    return 1 if tally["all"]["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
