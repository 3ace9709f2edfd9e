"""PyTorch's keywords one by one: every function of a PyTorch module jac reads (as grads22_sweep.py lists them),
or every ``torch.Tensor`` method jac reads, called with each keyword its signature names, by keyword and (where
the keyword is positional) by position, through PyTorch and through jac; the value, then the gradient.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/torchkw23_sweep.py [torch | F | linalg | special | methods]
                                                                          [-k SUBSTRING] [-v] [--bases N]

The keywords: the union over the ATen schemas of the name (``torch._C._jit_get_schemas_for_operator``: every
overload, so ``torch.std``'s ``correction`` and ``unbiased`` both), the ``torch.overrides.get_testing_overrides()``
lambda, and ``inspect.signature`` of a Python function (``F.*``: its own order alone). Base calls: per input shape
((), (3,), (2, 3), (2, 3, 4)) the first five (--bases N: N) of BASES PyTorch answers (``t``: class indices written as a
``torch.tensor`` literal). Each keyword the base leaves unbound gets VALUES by its name or values of its default's
type; ``keepdim``-like keywords also after ``dim=-1``; each value also by position (the defaults before it
written out) in every overload whose positional parameters the base's arguments begin; and the base once with its
arguments as keywords (``torch.sum(input=x)``).

Classified per call: AGREE (values alike, and the VJP of a random cotangent against ``torch.autograd.grad`` for every
float input: grads22's tolerance, |jac - torch| <= 1e-9 |torch| + 1e-12), REFUSED (both refuse; ``out=`` refused by
jac while PyTorch writes: jac must refuse it), OVER-REFUSED (PyTorch answers, jac refuses with a JacError),
LENIENT (PyTorch raises, jac answers), WRONG (values, shapes or gradients differ; ``out=`` answered; a result
PyTorch holds as integers or booleans that jac differentiates to a nonzero gradient) and CRASH (jac's internal
error). Prints WRONG, CRASH and LENIENT lines (-v: OVER-REFUSED too), then the counts and the OVER-REFUSED
(function, keyword) pairs by count.

Expected differences, as grads22_sweep.py lists them: random functions skipped; singular vectors and eigenvectors
compared up to sign (LAPACK's, NumPy's: PyTorch's differ for some matrices); a float32 dtype= computed in jac's
--dtype, float64, compared at float32's tolerance; the gradients of F.hardsigmoid and digamma at 1e-7 relative.
A spread that is not finite has its gradient left uncompared (GRADNONFINITE): var / std with no degree of freedom
left (``torch.var(x, 0, correction=2)`` of 2 rows) are inf in both, and PyTorch's gradient divides by N - c < 0
(finite numbers, or ±inf) where jac's is NaN; ``pinverse``-like solutions of an ill-conditioned x @ x.mT agree to
~1e-12 of their largest element, not element by element (grads22_sweep.py).
One pass of all five modes takes about 9 minutes (2 shared cores).
"""
from __future__ import annotations

import inspect
import sys
import warnings
import zlib
from collections import Counter
from functools import cache

import numpy as np
import torch

warnings.simplefilter("ignore")
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from grads22_sweep import RANDOM, close, module_names, parts, signed, worst  # noqa: E402

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

torch.set_default_dtype(torch.float64)
MODES = {"torch": "torch", "F": "F", "linalg": "torch.linalg", "special": "torch.special", "methods": "methods"}
SHAPES = [(), (3,), (2, 3), (2, 3, 4)]
BASES = ["x", "x, y", "x, t", "x, 1", "x, 0", "x, -1", "x, y, z", "x, 1, 2", "x @ x.mT", "x, b", "x, y, b"]
TARGETS = {(3,): "torch.tensor(1)", (2, 3): "torch.tensor([2, 0])",
           (2, 3, 4): "torch.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])"}  # class indices of x's axis 1 (0 unbatched)
INF = "float('inf')"
VALUES = {
    "dim": ["0", "-1", "(0, 1)"], "keepdim": ["True", "False"],
    "dtype": ["torch.float64", "torch.float32", "torch.int64", "torch.bool"],
    "p": ["1", "2", INF, "'fro'", "'nuc'"], "ord": ["1", "2", INF, "-" + INF, "'fro'", "'nuc'", "-1", "0"],
    "reduction": ["'sum'", "'mean'", "'none'", "'batchmean'"], "correction": ["0", "1", "2"],
    "unbiased": ["True", "False"], "out": ["y"], "label_smoothing": ["0.1"], "ignore_index": ["1", "-100"],
    "weight": ["None"], "pos_weight": ["None"], "descending": ["True", "False"], "stable": ["True", "False"],
    "approximate": ["'none'", "'tanh'"], "rounding_mode": ["None", "'trunc'", "'floor'"],
    "interpolation": ["'linear'", "'lower'", "'higher'", "'midpoint'", "'nearest'"], "side": ["'left'", "'right'"],
    "UPLO": ["'L'", "'U'"], "indexing": ["'ij'", "'xy'"], "norm": ["'backward'", "'ortho'", "'forward'"],
    "mode": ["'reduced'", "'complete'", "'r'", "'constant'", "'reflect'"], "driver": ["None"],
    "size_average": ["None", "True", "False"], "reduce": ["None", "True", "False"], "beta": ["1.0", "0.5", "2"],
    "alpha": ["1", "0.5", "2"],
    "eps": ["1e-8", "0.5"], "min": ["None", "0.5"], "max": ["None", "0.5"], "largest": ["True", "False"],
    "sorted": ["True", "False"], "log_target": ["True", "False"], "full": ["True", "False"],
    "requires_grad": ["False"], "device": ["'cpu'"], "inplace": ["False", "True"],
}
SKIP = {"layout", "memory_format", "pin_memory", "generator", "names", "_stacklevel", "non_blocking", "copy"}
SIGNED = ("svd", "eigh")  # singular vectors and eigenvectors: their signs are LAPACK's (NumPy's), compared up to sign
# gradients compared at 1e-7 relative (grads22_sweep.py's expected differences): F.hardsigmoid's (PyTorch's CPU kernel
# multiplies by float32's 1/6), digamma's (PyTorch's trigamma is off by up to 5e-10 relative; jac's is SciPy's)
LOOSE = ("hardsigmoid", "digamma")
SPREADS = ("var", "std", "var_mean", "std_mean")  # with no degree of freedom left: see the docstring
SCALED = ("pinv", "pinverse", "lstsq")  # gradients within 1e-11 of their largest element (ill-conditioned x @ x.mT)
# also written after dim=-1: torch.max(x, dim=-1, keepdim=True)
AFTER_DIM = {"keepdim", "correction", "unbiased", "dtype"}


def generic(default) -> list:
    if isinstance(default, bool):
        return [str(not default), str(default)]
    if isinstance(default, int):
        return sorted({str(default), str(default + 1), "0", "-1"})
    if isinstance(default, float):
        return sorted({repr(default), "0.5"})
    if isinstance(default, str):
        return [repr(default), "'bogus'"]
    return ["None", "1", "0.5", "True"]


@cache
def overrides() -> dict:
    return torch.overrides.get_testing_overrides()


def schemas(mod: str, n: str) -> list:
    """[[(name, default, written, positional)]] per overload: ATen's schemas (self as input), the override lambda,
    a Python function's own signature."""
    prefix = {"torch.linalg": "linalg_", "torch.special": "special_"}.get(mod, "")
    lib = {"torch": torch, "F": torch.nn.functional, "torch.linalg": torch.linalg, "torch.special": torch.special}
    fn = getattr(torch.Tensor, n, None) if mod == "methods" else getattr(lib[mod], n)
    found = []
    for op in dict.fromkeys([prefix + n, n]) if not inspect.isfunction(fn) else ():  # F.mse_loss: Python's order
        for s in torch._C._jit_get_schemas_for_operator(f"aten::{op}"):
            if any("Dimname" in str(a.type) for a in s.arguments):
                continue
            found.append([("input" if a.name == "self" else a.name,
                           a.default_value, a.default_value is not None or str(a.type).startswith("Optional"),
                           not a.kwarg_only) for a in s.arguments])
    for f in (overrides().get(fn), fn):
        try:
            sig = inspect.signature(f)
        except (TypeError, ValueError):
            continue
        found.append([("input" if p.name == "self" else p.name, None if p.default is p.empty else p.default,
                       p.default is not p.empty, p.kind == p.POSITIONAL_OR_KEYWORD or p.kind == p.POSITIONAL_ONLY)
                      for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)])
    if mod == "methods":
        found = [s[1:] if s and s[0][0] == "input" else s for s in found]
    return found


def written(default) -> bool:
    return default is None or isinstance(default, (bool, int, float, str))


def keyword_cases(mod: str, n: str, args: str) -> list:
    """The texts of the base call ``args`` with each keyword, by keyword and by position."""
    overloads = schemas(mod, n)
    npos = (0 if not args else args.count(",") + 1) - (mod == "methods")  # a method's receiver is no parameter
    bound = {o[i][0] for o in overloads for i in range(min(npos, len(o))) if o[i][3]}
    params = {}
    for o in overloads:
        for name, default, has_default, _ in o:
            if name not in params or params[name] is None:
                params[name] = default if has_default else None
    texts = []
    for name, default in params.items():
        if name in bound or name in SKIP or name in ("input", "self") or name == "dim" and "dim=" in args:
            continue
        values = VALUES.get(name, generic(default))
        for value in values:
            texts.append(f"{args}, {name}={value}" if args else f"{name}={value}")
            if name in AFTER_DIM and "dim" in params and "dim" not in bound:
                texts.append(f"{args}, dim=-1, {name}={value}" if args else f"dim=-1, {name}={value}")
    for o in overloads:  # by position: the overload's positional parameters after the base's
        positional = [p for p in o if p[3]]
        if len(positional) <= npos:
            continue
        before = []
        for name, default, has_default, _ in positional[npos:]:
            if name in SKIP or name == "out":
                break
            for value in VALUES.get(name, generic(default)):
                texts.append(", ".join(([args] if args else []) + before + [value]))
            if not (has_default and written(default)):
                break
            before.append(repr(default))
    return list(dict.fromkeys(texts))


def keyword_names(mod: str, n: str, args: str) -> str:
    """The base call with its arguments as keywords (``torch.sum(input=x)``), or "" where it has none."""
    pieces = [a for a in args.split(", ") if a] if args else []
    receiver, pieces = (pieces[:1], pieces[1:]) if mod == "methods" else ([], pieces)
    for o in schemas(mod, n):
        positional = [p[0] for p in o if p[3]]
        if len(pieces) <= len(positional) and pieces and "=" not in args and " @ " not in args:
            return ", ".join(receiver + [f"{k}={v}" for k, v in zip(positional, pieces)])
    return ""


def text_of(mod: str, n: str, args: str) -> str:
    if mod != "methods":
        return f"{mod}.{n}({args})"
    if args.startswith("x @ x.mT"):
        return f"(x @ x.mT).{n}({args[len('x @ x.mT'):].lstrip(', ')})"
    return f"x.{n}({args[1:].lstrip(', ') if args.startswith('x') else args})"


def inputs_of(text: str, shape: tuple) -> dict:
    rng = np.random.default_rng(zlib.crc32(f"{text} {shape}".encode()))
    body = text.replace("dim", "").replace("torch.tensor", "").replace("keepdim", "")
    used = [k for k in "xyzb" if f"{k}," in body or f"{k})" in body or f"{k} " in body or f"{k}." in body
            or f"={k}" in body]
    return {k: rng.uniform(0.2, 0.9, shape[1:] if k == "b" else shape) for k in used}


def torch_call(text: str, values: dict, grad: bool):
    env = {k: torch.tensor(v, requires_grad=grad) for k, v in values.items()}
    return eval(text, {"torch": torch, "F": torch.nn.functional}, env), env


class Tally:
    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.counts = Counter()
        self.over = Counter()

    def say(self, kind: str, *what):
        self.counts[kind] += 1
        if kind not in ("AGREE", "REFUSED", "OVER-REFUSED") or self.verbose and kind == "OVER-REFUSED":
            print(kind, *(w.replace("\n", "; ") if isinstance(w, str) else w for w in what), flush=True)


def keyword_of(text: str) -> str:
    """The keyword a case tests, for the OVER-REFUSED list: the last ``name=`` of the call, or "(position)"."""
    call = text[text.index("(") + 1:]
    names = [p.split("=")[0].strip() for p in call.split(", ") if "=" in p and "==" not in p]
    return names[-1] if names else "(position)"


def one_call(tally: Tally, mod: str, n: str, text: str, shape: tuple) -> None:
    values = inputs_of(text, shape)
    jac_text = f"import torch\n{text}" if mod == "methods" else text
    grad = True
    try:
        try:
            result, env = torch_call(text, values, True)
        except Exception:  # noqa: BLE001 - out= of a leaf that requires grad, F.relu(x, inplace=True): the value
            result, env = torch_call(text, values, False)
            grad = False
        pieces = parts(result)
    except Exception as e:  # noqa: BLE001 - PyTorch refuses
        try:
            api.evaluate(jac_text, values)
        except JacError:
            return tally.say("REFUSED")
        except Exception as e2:  # noqa: BLE001
            return tally.say("CRASH", text, shape, type(e2).__name__, str(e2)[:120])
        return tally.say("LENIENT", text, shape, str(e).split("\n")[0][:90])
    if not pieces:
        return tally.say("AGREE")
    if "out=" in text:
        try:
            api.evaluate(jac_text + pieces[0][0], values)
        except JacError:
            return tally.say("REFUSED")
        except Exception as e2:  # noqa: BLE001
            return tally.say("CRASH", text, shape, type(e2).__name__, str(e2)[:120])
        return tally.say("WRONG", "out= answered", text, shape)
    rng = np.random.default_rng(zlib.crc32(f"v {text} {shape}".encode()))
    verdict = "AGREE"
    for suffix, element in pieces:
        verdict = check_part(tally, f"{jac_text}{suffix}", shape, values, env if grad else {}, element, rng)
        if verdict != "AGREE":
            break
    if verdict == "OVER-REFUSED":
        tally.over[(f"{mod}.{n}", keyword_of(text))] += 1
        tally.say("OVER-REFUSED", text, shape)
    elif verdict == "AGREE":
        tally.say("AGREE")


def check_part(tally: Tally, text: str, shape, values: dict, env: dict, element, rng) -> str:
    """AGREE, OVER-REFUSED, or "" after saying WRONG / CRASH."""
    try:
        got = api.evaluate(text, values)
    except JacError:
        return "OVER-REFUSED"
    except Exception as e:  # noqa: BLE001
        tally.say("CRASH", text, shape, type(e).__name__, str(e)[:120])
        return ""
    if isinstance(got, tuple):
        return "AGREE"
    want = element.detach().numpy() if isinstance(element, torch.Tensor) else np.asarray(element)
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    single = isinstance(element, torch.Tensor) and element.dtype == torch.float32
    signs = 1.0
    if single:
        ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-7, equal_nan=True)
    else:
        ok = close(got, want)
    if not ok:
        signs = signed(got, want) if any(f"{s}(" in text for s in SIGNED) else None
        if signs is None:
            tally.say("WRONG", "value", text, shape, worst(got, want))
            return ""
    floating = isinstance(element, torch.Tensor) and element.is_floating_point()
    differentiable = floating and element.requires_grad and env
    if not differentiable:
        if not floating and isinstance(element, torch.Tensor) and want.size and values:
            return integral(tally, text, shape, values, rng, want)
        return "AGREE"
    if not np.all(np.isfinite(want)) and any(f"{n}(" in text for n in SPREADS):  # inf in both, gradients apart
        tally.counts["GRADNONFINITE"] += 1
        return "AGREE"
    v = rng.standard_normal(element.shape)
    try:
        grads = torch.autograd.grad(element, list(env.values()), torch.tensor(v * signs, dtype=element.dtype),
                                    allow_unused=True, retain_graph=True)
    except Exception:  # noqa: BLE001 - PyTorch cannot differentiate it
        return "AGREE"
    try:
        found = api.vjp(text, values, v, wrt=list(values))
    except JacError as e:
        tally.say("GRADREFUSED", text, shape, str(e)[:100])
        return ""
    except Exception as e:  # noqa: BLE001
        tally.say("CRASH", "vjp", text, shape, type(e).__name__, str(e)[:120])
        return ""
    for k, g in zip(env, grads):
        want_g = np.zeros(values[k].shape) if g is None else g.detach().numpy(force=True).astype(float)
        mine = np.asarray(found[k], dtype=float)
        if any(f"{n}(" in text for n in SCALED) and mine.shape == want_g.shape and want_g.size:
            good = float(np.max(np.abs(mine - want_g))) <= 1e-11 * float(np.max(np.abs(want_g)))
        elif single or any(f"{n}(" in text for n in LOOSE):
            good = np.allclose(mine, want_g, rtol=1e-5 if single else 1e-7, atol=1e-6 if single else 1e-12)
        else:
            good = close(mine, want_g)
        if not (mine.shape == want_g.shape and good):
            tally.say("WRONG", f"grad {k}", text, shape, worst(mine, want_g))
            return ""
    return "AGREE"


def integral(tally: Tally, text: str, shape, values: dict, rng, want) -> str:
    """PyTorch holds the result as integers or booleans (no gradient): jac's VJP must be zero or refused."""
    try:
        found = api.vjp(text, values, rng.standard_normal(want.shape), wrt=list(values))
    except JacError:
        return "AGREE"
    except Exception as e:  # noqa: BLE001
        tally.say("CRASH", "vjp", text, shape, type(e).__name__, str(e)[:120])
        return ""
    if any(np.any(np.asarray(g) != 0) for g in found.values()):
        tally.say("WRONG", "dtype: PyTorch's result is integral, jac differentiates it", text, shape)
        return ""
    return "AGREE"


def sweep(mode: str, only: str | None, verbose: bool, bases: int = 5) -> Tally:
    mod = MODES[mode]
    names, _, _ = module_names(mod, True)
    tally = Tally(verbose)
    for n in names:
        if n in RANDOM or (only and only not in n):
            continue
        for shape in SHAPES:
            for base in first_bases(mod, n, shape, bases):
                args = base.replace("t", TARGETS[shape]) if base == "x, t" else base
                cases = [args] + keyword_cases(mod, n, args)
                named = keyword_names(mod, n, args)
                if named:
                    cases.append(named)
                for case in dict.fromkeys(cases):
                    tally.counts["calls"] += 1
                    one_call(tally, mod, n, text_of(mod, n, case), shape)
    return tally


def first_bases(mod: str, n: str, shape: tuple, count: int = 5) -> list:
    """The first ``count`` of BASES PyTorch answers for this function at this shape."""
    found = []
    for base in BASES:
        if len(found) == count:
            break
        if base == "x, t" and shape not in TARGETS or "@" in base and len(shape) < 2 or "b" in base and not shape:
            continue
        args = base.replace("t", TARGETS[shape]) if base == "x, t" else base
        text = text_of(mod, n, args)
        try:
            torch_call(text, inputs_of(text, shape), False)
        except Exception:  # noqa: BLE001
            continue
        found.append(base)
    return found


def main(argv: list) -> None:
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    modes = [a for i, a in enumerate(argv)
             if not a.startswith("-") and (i == 0 or argv[i - 1] not in ("-k", "--bases"))] or ["torch"]
    for mode in modes:
        tally = sweep(mode, only, "-v" in argv, int(argv[argv.index("--bases") + 1]) if "--bases" in argv else 5)
        order = ("calls", "AGREE", "REFUSED", "OVER-REFUSED", "LENIENT", "WRONG", "CRASH", "GRADREFUSED",
                 "GRADNONFINITE")
        print(mode, " ".join(f"{k}={tally.counts[k]}" for k in order), flush=True)
        print("OVER-REFUSED by (function, keyword):",
              ", ".join(f"{f}({k}=) {c}" for (f, k), c in tally.over.most_common(60)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
