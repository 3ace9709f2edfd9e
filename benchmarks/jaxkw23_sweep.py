"""Every keyword of every JAX / SciPy function jac reads, through JAX 0.10 (x64) and jac.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/jaxkw23_sweep.py [MODE] [NAME...]

MODE is a namespace: jnp, linalg (jnp.linalg), nn (jax.nn), special (jax.scipy.special), scipy_linalg
(jax.scipy.linalg), lax (jax.lax), or all (the default). NAMEs limit the run to those functions.

For each function of the namespace that jac reads (its lowering tables: ``functions.library_function`` of the
module's library, then the shared table where the parser falls back to it), the argument patterns of
numpy22_sweep's BASES that JAX answers (at most BASES_PER_CALL of them, plus each function's EXTRA patterns),
then every parameter ``inspect.signature`` names for the JAX function, given by keyword and, where it is
positional, by position (the defaults before it written out), with values chosen by its name (axis 0, -1,
(0, 1); keepdims; dtype jnp.float64 / float32 / int64 / bool; ord; where= masks; initial=; mode=; method=; ...)
or by its default's type (numpy22_sweep.generic). Inputs x, y, z: float64 uniform(0.2, 0.9) of 0-3-d shapes;
for the linalg namespaces square matrices plus 3 I (well conditioned, positive definite; x symmetric, y and z
not: a function that reads one triangle, or symmetrizes, shows).

Each text is run by JAX (``jax_enable_x64``) and by jac's API; a tuple result is compared element by element
(``text[i]``). Classes:

- AGREE: both answer alike: shape, values (rtol 1e-6), dtype class (float / integer / bool: JAX's dtype against
  the builder's record of the output node), and jac's VJP of a random cotangent against ``jax.vjp``;
- REFUSED: both refuse; OVER-REFUSED: JAX answers, jac refuses (NOGRAD: jac refuses the VJP JAX gives);
- LENIENT: JAX raises, jac answers (read them: a keyword jac ignores shows here);
- WRONG: both answer and the values, shapes, dtype classes or gradients differ;
- CRASH: jac raised something other than its own errors.

Prints one line per case that is not AGREE or REFUSED, then the counts per namespace.
"""
import inspect
import os
import re
import sys
import warnings
from collections import Counter

import numpy as np

os.environ.setdefault("JAX_PLATFORMS", "cpu")
warnings.simplefilter("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg  # noqa: E402,F401
import jax.scipy.special  # noqa: E402,F401
from jax import lax  # noqa: E402

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.lang import jaxnames, parser  # noqa: E402
from jacobi_cli.lang.functions import FUNCTIONS, library_function, library_of  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402
from numpy22_sweep import BASES, VALUES as NUMPY_VALUES, WORDS, generic, written  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_disable_jit", True)  # op by op: half the time of compiling each call's jit anew

NAMESPACES = {"jnp": ("jnp", jnp), "linalg": ("jnp.linalg", jnp.linalg), "nn": ("jax.nn", jax.nn),
              "special": ("jax.scipy.special", jax.scipy.special),
              "scipy_linalg": ("jax.scipy.linalg", jax.scipy.linalg), "lax": ("jax.lax", lax)}
SQUARE = ("linalg", "scipy_linalg")
SHAPES = {"default": [(), (3,), (3, 3), (2, 3, 4)], "square": [(3,), (3, 3), (2, 3, 3)]}
BASES_PER_CALL = 3
# argument patterns a function needs that BASES do not hold
EXTRA = {
    "cho_solve": ["(x, True), y", "(x, False), y", "(jnp.tril(x), True), y", "(jnp.triu(x), False), y"],
    "cho_factor": ["x", "x, True", "x, lower=True"], "cholesky": ["x", "x, lower=True"],
    "solve_triangular": ["x, y", "x, y, lower=True", "x, y, trans=1", "x, y, trans='T', lower=True",
                         "x, y, unit_diagonal=True"],
    "take": ["x, jnp.array([0, 1])", "x, jnp.array([0, 1]), axis=0", "x, jnp.array([0, 5]), mode='fill'",
             "x, jnp.array([0, 5]), mode='clip'", "x, jnp.array([0, -5]), mode='wrap'",
             "x, jnp.array([0, 5]), mode='fill', fill_value=0.5", "x, jnp.array([0, 1]), unique_indices=True"],
    "partition": ["x, 1", "x, 0, axis=0"], "argpartition": ["x, 1", "x, 0, axis=0"],
    "take_along_axis": ["x, jnp.argsort(x, axis=-1), axis=-1", "x, jnp.argsort(x, axis=0), axis=0"],
    "clip": ["x, min=0.4", "x, max=0.6", "x, 0.4, 0.6", "x, min=y", "x, min=0.4, max=0.6", "x, a_min=0.4",
             "x, None, 0.6"],
    "concatenate": ["[x, y]", "[x, y], axis=-1", "(x, y), 0"], "stack": ["[x, y]", "[x, y], axis=-1"],
    "einsum": ["'ij->ji', x", "'ij,jk->ik', x, y", "'ij,jk->ik', x, y, optimize=False"],
    "logsumexp": ["x, b=y", "x, axis=0, b=y", "x, b=y, return_sign=True", "x, b=-y"],
    "where": ["x > 0.5, x, y", "x > 0.5, x, 0.0"], "select": ["x > 0.5, x, y"],
    "one_hot": ["jnp.array([0, 2]), 3"], "searchsorted": ["jnp.sort(x.ravel()), y"],
}
VALUES = {k: [v.replace("np.", "jnp.") for v in vs] for k, vs in NUMPY_VALUES.items()}
VALUES.update({
    "axis": ["0", "-1", "(0, 1)", "None"], "keepdims": ["True", "False"], "dim": [], "x": [], "a": [],
    "dtype": ["jnp.float64", "jnp.float32", "jnp.int64", "bool", "None"], "where": ["y > 0.5", "True"],
    "initial": ["0.5", "5.0"], "promote_integers": ["True", "False"], "descending": ["True", "False"],
    "stable": ["True", "False"], "kind": ["'stable'", "'quicksort'", "None"], "min": ["0.4", "y", "None"],
    "max": ["0.6", "None"], "a_min": ["0.4"], "a_max": ["0.6"], "fill_value": ["0.5", "None"],
    "b": ["y", "-y", "None"], "precision": ["None", "'highest'"], "size": ["3", "None"],
    "preferred_element_type": ["None", "jnp.float64", "jnp.float32"], "out_sharding": ["None"],
    "rtol": ["None", "0.1"], "rcond": ["None", "0.1"], "tol": ["None", "0.1"],
    "method": NUMPY_VALUES["method"] + ["'scan'", "'sort'", "'compare_all'"],
})
# a mode= whose default is None (jnp.take, jnp.take_along_axis)
MODE_WORDS = ["None", "'fill'", "'clip'", "'wrap'", "'promise_in_bounds'", "'raise'"]
rng = np.random.default_rng(23)


def jac_reads(module: str, name: str) -> bool:
    """Whether jac's parser reads ``module.name`` (its ``lookup``, without a parse)."""
    lib = library_of(module)
    if lib is None or lib in jaxnames.LIBRARY_NAMES and name not in jaxnames.LIBRARY_NAMES[lib]:
        return False
    if library_function(lib, name) is not None:
        return True
    return lib not in ("jax.lax",) and name in FUNCTIONS


def functions(mode: str, only=()) -> list:
    module, lib = NAMESPACES[mode]
    return [(module, n, getattr(lib, n)) for n in sorted(dir(lib)) if not n.startswith("_")
            and callable(getattr(lib, n)) and not inspect.isclass(getattr(lib, n)) and jac_reads(module, n)
            and (not only or n in only)]


def inputs(shape, square: bool):
    """x, y, z uniform(0.2, 0.9); of square matrices (``square``) plus 3 I, x symmetric (y and z not): eigh and
    cholesky answer for x, and a reading of one triangle shows in y's."""
    env = {k: rng.uniform(0.2, 0.9, shape) for k in "xyz"}
    if square and len(shape) >= 2 and shape[-1] == shape[-2]:
        env = {k: v + 3 * np.eye(shape[-1]) for k, v in env.items()}
        env["x"] = (env["x"] + np.swapaxes(env["x"], -1, -2)) / 2
    return env


def bindings(text, env):
    return {k: v for k, v in env.items() if re.search(rf"\b{k}\b", text)}


def jax_eval(text, env):
    scope = {"jnp": jnp, "jax": jax, "lax": lax}
    return eval(text, scope, {k: jnp.asarray(v) for k, v in env.items()})


def values_of(p) -> list:
    if p.name == "mode" and p.default is None:
        return MODE_WORDS
    if p.name in VALUES:
        return VALUES[p.name]
    return generic(p.default)


def signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def base_calls(module, name, fn, env):
    """The patterns of BASES JAX answers (at most BASES_PER_CALL), then EXTRA's, each with the parameters it binds."""
    sig = signature(fn)
    found = []
    for args in BASES:
        if len(found) >= BASES_PER_CALL:
            break
        try:
            jax_eval(f"{module}.{name}({args})", env)
        except Exception:
            continue
        found.append((args, bound_by(sig, args)))
    return sig, found + [(args, bound_by(sig, args)) for args in EXTRA.get(name, [])]


def bound_by(sig, args):
    if sig is None:
        return set()
    positional = [a for a in split_args(args) if "=" not in a or a.lstrip().startswith(("(", "["))]
    named = {a.split("=")[0].strip() for a in split_args(args) if re.match(r"\s*\w+=", a)}
    try:
        return set(sig.bind_partial(*[0] * len(positional)).arguments) | named
    except TypeError:
        return named


def split_args(args):
    """The top-level arguments of a text (commas inside brackets kept)."""
    out, depth, cur = [], 0, ""
    for c in args:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
    return out + [cur]


def keyword_texts(sig, args, bound):
    for p in sig.parameters.values():
        if p.name in bound or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        for value in values_of(p):
            yield f"{args}, {p.name}={value}"


def positional_texts(sig, args, bound):
    before, n = [], len(split_args(args))
    for i, p in enumerate(sig.parameters.values()):
        if i < n or p.name in bound:
            continue
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or not written(p.default):
            return
        for value in values_of(p):
            yield ", ".join([args] + before + [value])
        before.append(repr(p.default))


def cases(mode, only=()):
    module = NAMESPACES[mode][0]
    for _, name, fn in functions(mode, only):
        for shape in SHAPES["square" if mode in SQUARE else "default"]:
            env = inputs(shape, mode in SQUARE)
            sig, calls = base_calls(module, name, fn, env)
            for args, bound in calls:
                texts = [args]
                if sig is not None:
                    texts += list(keyword_texts(sig, args, bound)) + list(positional_texts(sig, args, bound))
                for text in dict.fromkeys(texts):
                    yield f"{module}.{name}({text})", env


def kind_of_jax(a) -> str:
    k = np.asarray(a).dtype.kind
    return "i" if k in "iu" else k


def kind_of_jac(text, env) -> str:
    """The dtype class jac's builder records for the output node: b, i or f."""
    box = {}
    made = parser._new_builder

    def capture(*args, **kwargs):
        box["b"] = made(*args, **kwargs)
        return box["b"]
    parser._new_builder = capture
    try:
        g = parser.parse(text, {k: v.shape for k, v in env.items()}, values=env)
    finally:
        parser._new_builder = made
    b, out = box["b"], g.output
    if out in b.booleans:
        return "b"
    record = b.integral.get(out) or b.typed.get(out)
    if record is not None:
        k = np.dtype(record[0]).kind
        return "i" if k in "iu" else k
    return "f"


class Sweep:
    def __init__(self):
        self.counts = Counter()

    def report(self, tag, text, env, detail=""):
        self.counts[tag] += 1
        if tag not in ("AGREE", "REFUSED"):
            print(tag, repr(text), np.shape(env["x"]), detail, flush=True)

    def run(self, text, env):
        b = bindings(text, env)
        try:
            t = jax_eval(text, b)
        except Exception as e:  # noqa: BLE001 - any refusal of JAX's
            t, terr = None, f"{type(e).__name__}: {str(e)[:70]}"
        if isinstance(t, (tuple, list)):
            for i in range(len(t)):
                self.run(f"{text}[{i}]", env)
            return
        if t is not None and not hasattr(t, "dtype"):
            return
        try:
            j = api.evaluate(text, b)
        except JacError as e:
            j, jerr = None, str(e).splitlines()[0][:110]
        except Exception as e:  # noqa: BLE001
            return self.report("CRASH", text, env, f"{type(e).__name__}: {str(e)[:110]}")
        if isinstance(j, tuple):
            return self.report("WRONG", text, env, "jac answers several arrays, JAX one")
        if t is None:
            return self.report("REFUSED" if j is None else "LENIENT", text, env, "" if j is None else terr)
        if j is None:
            return self.report("OVER-REFUSED", text, env, jerr)
        self.compare(text, env, b, np.asarray(t), np.asarray(j, dtype=float))

    def compare(self, text, env, b, t, j):
        tf = t.astype(float) if t.dtype.kind in "biuf" else None
        if tf is None or tf.shape != j.shape or not np.allclose(tf, j, rtol=1e-6, atol=1e-9, equal_nan=True):
            diff = "" if tf is None or tf.shape != j.shape else f"max diff {np.nanmax(np.abs(tf - j)):.3g}"
            return self.report("WRONG", text, env, f"jax {t.shape} {t.dtype} jac {j.shape} {diff}")
        try:
            kind = kind_of_jac(text, b)
        except Exception as e:  # noqa: BLE001
            return self.report("CRASH", text, env, f"parse: {type(e).__name__}: {str(e)[:100]}")
        if kind != kind_of_jax(t):
            return self.report("WRONG", text, env, f"dtype class: jax {t.dtype}, jac {kind}")
        if t.dtype.kind != "f" or t.size == 0:
            return self.report("AGREE", text, env)
        self.gradient(text, env, b, t)

    def gradient(self, text, env, b, t):
        v = rng.standard_normal(t.shape)
        names = list(b)
        try:
            out, pull = jax.vjp(lambda *arrays: jax_eval(text, dict(zip(names, arrays))),
                                *[jnp.asarray(b[k]) for k in names])
            ref = dict(zip(names, [np.asarray(g) for g in pull(jnp.asarray(v))]))
        except Exception:  # noqa: BLE001 - JAX gives no VJP here: the value alone
            return self.report("AGREE", text, env)
        try:
            mine = api.vjp(text, b, v=v)
        except JacError as e:
            return self.report("NOGRAD", text, env, str(e).splitlines()[0][:110])
        except Exception as e:  # noqa: BLE001
            return self.report("CRASH", text, env, f"vjp: {type(e).__name__}: {str(e)[:100]}")
        for k in names:
            scale = max(1.0, float(np.nanmax(np.abs(ref[k]), initial=0)))
            if np.shape(mine[k]) != ref[k].shape or not np.allclose(mine[k], ref[k], rtol=1e-6, atol=1e-6 * scale,
                                                                    equal_nan=True):
                diff = np.nanmax(np.abs(np.asarray(mine[k]) - ref[k])) if np.shape(mine[k]) == ref[k].shape else "shape"
                return self.report("WRONG", text, env, f"grad {k}: max diff {diff}")
        self.report("AGREE", text, env)


def main(argv):
    mode = argv[0] if argv and argv[0] in list(NAMESPACES) + ["all"] else "all"
    only = argv[1:] if argv and argv[0] == mode else argv
    modes = list(NAMESPACES) if mode == "all" else [mode]
    total = Counter()
    for m in modes:
        sweep = Sweep()
        for text, env in cases(m, only):
            sweep.run(text, env)
        print(m, dict(sorted(sweep.counts.items())), flush=True)
        total += sweep.counts
    print("total", dict(sorted(total.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
