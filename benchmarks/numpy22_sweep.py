"""NumPy's keyword arguments, ndarray methods and the derivatives of `np.` functions, through NumPy (or JAX) and jac.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/numpy22_sweep.py [keywords | methods | grads]

keywords: every `np.` / `np.linalg.` function jac reads, with each keyword its `inspect.signature` names (but
  axis= and keepdims=, which ranks21_sweep.py covers) given values of its own (dtype=, where=, ord=, ...) or
  values of its default's type, on up to 8 base calls NumPy answers (the base calls too); each value also by
  position, the defaults before it written out. A keyword jac ignores, or a position it reads as PyTorch's
  parameter, shows as WRONG. About a minute.
methods: every `ndarray` method and attribute in a text that imports numpy (so jac reads methods as NumPy
  does: parser._dialect), with ranks21's argument patterns and the keywords of the `np.` function of that name
  (by keyword and by position). Seconds; `methods NAME...` runs those methods only.
grads: jac's VJP (a fixed random cotangent) of every call jac and NumPy answer alike, against `jax.vjp` of the
  `jnp.` function (x64) where JAX gives NumPy's values, else central differences of NumPy's function (step
  1e-6, rtol 1e-6): ranks21's patterns at 1-2-d, the keywords' cases at 3 x 3, the methods' at 2 x 3. Casts to
  float16 / float32 are left out (jac computes in --dtype). About 6 CPU-minutes.

Prints CRASH (jac's internal error: must be none), WRONG (both answer, the values, shapes or gradients differ)
and LENIENT (NumPy refuses, jac answers: read them for a reading that is not NumPy's), then the counts.
"""
import inspect
import re
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
from jacobi_cli.errors import JacError
from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS
from jacobi_cli.tools import api

MODE = sys.argv[1] if len(sys.argv) > 1 else "keywords"
SHAPES = [(3,), (2, 3), (3, 3), (2, 3, 4)]
BASES = ["x", "x, y", "x, y, z", "x, 1", "x, 0", "x, 2", "x, -1", "x, 1, 2", "x, 0.3", "x, 30", "x, axis=0",
         "x, 0.3, axis=0", "x, 30, 0",  # q of quantile / percentile inside the range, so method= shows
         "x, 0, int", "x, 1, float", "x, 0, None, True", "x, 0, None, None, True"]  # NumPy's dtype, out by position
ARGSETS = BASES[:8] + ["x, axis=0", "x, axis=-1", "x, axis=(0, 1)", "x, keepdims=True"]
# values of the keywords NumPy's functions share; any other keyword gets values of its default's type (generic)
VALUES = {
    "dtype": ["np.float64", "np.float32", "int", "bool", "None"], "out": ["None"], "where": ["y > 0.5", "True"],
    "initial": ["0.5", "5.0"], "ddof": ["1", "0.5"], "correction": ["1"], "mean": ["np.mean(x, keepdims=True)"],
    "ord": ["1", "2", "np.inf", "-np.inf", "'fro'", "'nuc'", "-1", "-2", "0", "3", "None"],
    "side": ["'left'", "'right'"], "kind": ["'stable'", "'mergesort'", "'heapsort'", "None"],
    "method": ["'linear'", "'lower'", "'higher'", "'nearest'", "'midpoint'", "'weibull'", "'inverted_cdf'"],
    "weights": ["y", "None"], "stable": ["True", "False", "None"], "copy": ["True", "False", "None"],
    "order": ["'C'", "'F'", "'A'", "'K'"], "casting": ["'unsafe'", "'same_kind'", "'no'"], "subok": ["True", "False"],
    "axis": [], "keepdims": [], "dim": [], "x": [], "a": [], "device": ["'cpu'", "None"], "like": ["None"],
    "UPLO": ["'L'", "'U'"], "indexing": ["'xy'", "'ij'"], "edge_order": ["1", "2"], "decimals": ["0", "1", "-1"],
    "norm": ["'backward'", "'ortho'", "'forward'"], "nan": ["0.5"], "posinf": ["0.5"], "neginf": ["0.5"],
    "bins": ["3", "'auto'", "[0.2, 0.5, 0.9]"], "range": ["(0.0, 1.0)"], "sorter": ["np.argsort(x)"],
}
# a parameter whose default is a string gets its default and these (mode=, method=, ...)
WORDS = ["'full'", "'same'", "'valid'", "'reflect'", "'edge'", "'wrap'", "'symmetric'", "'clip'", "'raise'",
         "'reduced'", "'complete'", "'r'", "'constant'", "'mean'", "'linear_ramp'", "'maximum'", "'minimum'",
         "'median'", "'empty'", "'linear'", "'nearest'", "'fro'", "'nuc'", "'F'", "'C'"]
UNINITIALISED = ("empty", "empty_like")  # NumPy's values are whatever memory held
CASTS = ("float16", "float32", "half", "single", "astype")  # jac computes in --dtype: a narrower float is its own
rng = np.random.default_rng(22)
stats = {"calls": 0, "both": 0, "CRASH": 0, "WRONG": 0, "LENIENT": 0, "grads": 0, "refused": 0}


def generic(default) -> list:
    if default is inspect.Parameter.empty or default is np._NoValue:
        return ["0.5", "1", "True", "y"]
    if isinstance(default, bool):
        return [str(not default), str(default)]
    if isinstance(default, int):
        return sorted({str(default), str(default + 1), "0", "-1"})
    if isinstance(default, float):
        return [repr(default), "0.5"]
    if default is None:
        return ["None", "1", "0", "0.5", "True", "y"]
    if isinstance(default, str):
        return [repr(default)] + [w for w in WORDS if w != repr(default)]
    return []


def functions() -> list:
    out = []
    for mod, lib in (("np", np), ("np.linalg", np.linalg)):
        out += [(mod, n, getattr(lib, n)) for n in sorted(dir(lib)) if not n.startswith("_")
                and callable(getattr(lib, n)) and n not in UNINITIALISED and (n in FUNCTIONS or ("numpy", n) in LIBRARY_FUNCTIONS
                                                   or (mod, n) in LIBRARY_FUNCTIONS)]
    return out


def inputs(shape):
    return {k: rng.uniform(0.2, 0.9, shape) for k in "xyz"}


def bindings(text, env):
    return {k: v for k, v in env.items() if re.search(rf"\b{k}\b", text)}


def numpy_value(text, env):
    try:
        t = eval(text.split("\n")[-1], {"np": np}, {k: v.copy() for k, v in env.items()})  # x.sort() writes
    except Exception as e:
        return None, str(e)[:60]
    if isinstance(t, (tuple, list)) or not isinstance(t, (np.ndarray, np.generic, float, int, bool)):
        return "skip", None
    return np.asarray(t), None


def jac_value(text, env):
    """(value or None, error or None); a value of "crash" after printing an internal error."""
    stats["calls"] += 1
    try:
        j = api.evaluate(text, bindings(text, env))
    except JacError as e:
        return None, str(e)[:80]
    except Exception as e:
        stats["CRASH"] += 1
        print("CRASH", repr(text), env["x"].shape, type(e).__name__, str(e)[:120], flush=True)
        return "crash", None
    return ("skip" if isinstance(j, tuple) else np.asarray(j, dtype=float)), None


def compare(text, env, quiet_lenient=False):
    """Both readings of one text; returns (numpy's value, jac's) when they agree, else None."""
    t, terr = numpy_value(text, env)
    if isinstance(t, str):
        return None
    j, jerr = jac_value(text, env)
    if isinstance(j, str):
        return None
    if t is None and j is not None:
        stats["LENIENT"] += 1
        print("LENIENT", repr(text), env["x"].shape, terr, flush=True)
    elif t is not None and j is not None:
        stats["both"] += 1
        tf = t.astype(float) if t.dtype.kind in "biuf" else None
        if tf is None or tf.shape != j.shape or not np.allclose(tf, j, rtol=1e-6, atol=1e-9, equal_nan=True):
            stats["WRONG"] += 1
            print("WRONG", repr(text), env["x"].shape, "numpy", t.shape, t.dtype, "jac", j.shape,
                  "" if tf is None or tf.shape != j.shape else f"max diff {np.nanmax(np.abs(tf - j)):.3g}", flush=True)
            return None
        return t, j
    return None


def base_calls(fn, name, env):
    """The argument patterns of BASES NumPy answers for this function, and the parameters each binds."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return sig, []
    found = []
    for args in BASES:
        t, _ = numpy_value(f"{name}({args})", env)
        if t is None or isinstance(t, str):
            continue
        try:
            bound = set(sig.bind(*[0] * args.count(",") + [0]).arguments) if "=" not in args else set()
        except TypeError:
            bound = set()
        found.append((args, bound))
    return sig, found


def keyword_texts(sig, args, bound):
    for p in sig.parameters.values():
        if p.name in bound or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        for value in VALUES.get(p.name, generic(p.default)) if p.name in VALUES else generic(p.default):
            yield f"{args}, {p.name}={value}"


def positional_texts(sig, args, bound):
    """The keywords' values given by position instead: the defaults of the parameters before (written out)."""
    before = []
    for p in sig.parameters.values():
        if p.name in bound:
            continue
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or not written(p.default):
            return
        for value in VALUES[p.name] if p.name in VALUES else generic(p.default):
            yield ", ".join([args] + before + [value])
        before.append(repr(p.default))


def written(default) -> bool:
    """A default that reads back as itself in a text."""
    return default is None or isinstance(default, (bool, int, float, str))


def keyword_cases(shapes=SHAPES, bases=8):
    for mod, n, fn in functions():
        for shape in shapes:
            env = inputs(shape)
            sig, calls = base_calls(fn, f"{mod}.{n}", env)
            for args, bound in calls[:bases]:
                for text in [args] * (args not in BASES[:8]) + list(keyword_texts(sig, args, bound)) + \
                        list(positional_texts(sig, args, bound)):
                    yield f"{mod}.{n}({text})", env


def method_cases(shapes=SHAPES):
    names = [n for n in dir(np.ndarray) if not n.startswith("_") and (len(sys.argv) < 3 or n in sys.argv[2:])]
    for shape in shapes:
        env = inputs(shape)
        for n in names:
            try:
                attribute = getattr(env["x"], n)
            except ValueError:  # x.mT of a vector
                attribute = None
            if not callable(attribute):
                yield f"import numpy as np\nx.{n}", env
                continue
            texts = [s[1:].lstrip(", ") for s in ARGSETS]  # "x, 1" as x.NAME(1)
            fn = getattr(np, n, None)
            if fn is not None and callable(fn):
                try:
                    sig = inspect.signature(fn)
                    first = set(list(sig.parameters)[:1])
                    texts += [t.split(", ", 1)[1] for t in list(keyword_texts(sig, "x", first)) +
                              list(positional_texts(sig, "x", first))]
                except (TypeError, ValueError):
                    pass
            for t in dict.fromkeys(texts):
                yield f"import numpy as np\nx.{n}({t})", env


def argument_cases(shapes=SHAPES):
    for mod, n, fn in functions():
        if n in CASTS:
            continue
        for shape in shapes:
            env = inputs(shape)
            for args in ARGSETS:
                yield f"{mod}.{n}({args})", env


def keywords():
    for text, env in keyword_cases():
        compare(text, env)


def methods():
    for text, env in method_cases():
        compare(text, env)


def grads():
    """The ranks sweep's argument patterns (1-2-d), then the keywords' (3 x 3) and the methods' (2 x 3) cases."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    counts = {"jax": 0, "central": 0}
    cases = [argument_cases(SHAPES[:3]), keyword_cases(SHAPES[2:3], 1), method_cases(SHAPES[1:2])]  # ~10 minutes
    for text, env in (case for part in cases for case in part):
        if text.split("(")[0].split(".")[-1] in CASTS or any(c in text for c in CASTS[:2]):
            continue
        found = compare(text, env)
        if found is None:
            continue
        t, j = found
        if t.dtype.kind != "f" or t.size == 0:
            continue
        b = bindings(text, env)
        v = rng.standard_normal(t.shape)
        try:
            mine = api.vjp(text, b, v=v)
        except JacError as e:
            stats["refused"] += 1
            print("NOGRAD", repr(text), env["x"].shape, str(e)[:100], flush=True)
            continue
        except Exception as e:
            stats["CRASH"] += 1
            print("CRASH", repr(text), env["x"].shape, "vjp", type(e).__name__, str(e)[:120], flush=True)
            continue
        ref, how = jax_vjp(jax, jnp, text, b, v, t)
        if ref is None:
            ref, how = central(text, b, v), "central"
        counts[how] += 1
        stats["grads"] += 1
        for k in b:
            scale = max(1.0, float(np.abs(ref[k]).max(initial=0)))
            if mine[k].shape != ref[k].shape or not np.allclose(mine[k], ref[k], rtol=1e-6, atol=1e-6 * scale,
                                                                equal_nan=True):
                stats["WRONG"] += 1
                print("WRONG grad", repr(text), env["x"].shape, k, how,
                      f"max diff {np.nanmax(np.abs(np.asarray(mine[k]) - ref[k])):.3g}", flush=True)
                break
    print("references:", counts)


def jax_vjp(jax, jnp, text, b, v, t):
    jtext = text.split("\n")[-1].replace("np.", "jnp.")
    names = list(b)

    def f(*arrays):
        return eval(jtext, {"jnp": jnp}, dict(zip(names, arrays)))
    try:
        out, pull = jax.vjp(f, *[jnp.asarray(b[k]) for k in names])
        if out.shape != t.shape or not np.allclose(np.asarray(out), t, rtol=1e-9, atol=1e-12, equal_nan=True):
            return None, None
        return dict(zip(names, [np.asarray(g) for g in pull(jnp.asarray(v))])), "jax"
    except Exception:
        return None, None


def central(text, b, v, h=1e-6):
    out = {}
    for k in b:
        g = np.zeros_like(b[k])
        for i in np.ndindex(b[k].shape):
            values = []
            for step in (h, -h):
                env = {name: a.copy() for name, a in b.items()}
                env[k][i] += step
                values.append(np.sum(v * eval(text.split("\n")[-1], {"np": np}, env)))
            g[i] = (values[0] - values[1]) / (2 * h)
        out[k] = g
    return out


if __name__ == "__main__":  # jaxkw23_sweep.py imports the keyword values and their generation
    {"keywords": keywords, "methods": methods, "grads": grads}[MODE]()
    print(MODE, stats)
