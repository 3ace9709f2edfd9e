"""Derivatives at odd ranks and odd arguments: every function of a PyTorch module that jac reads (as
ranks21_sweep.py selects them), or every ``torch.Tensor`` method jac reads, called with arrays of 0 to 3
dimensions (and empty ones) and argument patterns, through PyTorch and through jac; the value AND the gradient.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/grads22_sweep.py [torch | F | torch.linalg | torch.special
                                                                         | methods] [-k SUBSTRING] [-v] [--base] [--hessian]

Inputs are uniform(0.2, 0.9) in float64, distinct, seeded per call (the text and shape: a line re-runs alone with
``-k``), so sort, max and median have no ties and relu, abs and clamp no kinks. A result PyTorch gives as a tuple
or list is compared element by element as ``f(...)[k]``. For each float result the value is compared (shape and
elements), then the gradient: jac's VJP (``jacobi_cli.vjp(text, bindings, v, wrt=[...])``) with a fixed random
cotangent against ``torch.autograd.grad(out, inputs, v)`` for every input (an input PyTorch's graph does not reach
counts as zeros), |jac - torch| <= 1e-9 |torch| + 1e-12 element by element. Methods are written
``x.NAME(...)`` after ``import torch``, so a method PyTorch and NumPy read differently is read as PyTorch's.

Prints one line per finding:
- CRASH: jac's internal error (exit 70: an exception that is not a JacError). Must be none.
- WRONG: both answer and the values, shapes or gradients differ. Must be none but the expected ones below.
- GRADREFUSED: the values agree, PyTorch differentiates, jac refuses the VJP with a JacError (read them).
- With --hessian, HESSREFUSED / HESSONLY / WRONG "hessian": jac's Hessian blocks of the same calls as
  Hessian-vector products of <v, f>, against PyTorch's double backward (HESSONLY: PyTorch has none).
- JVPREFUSED: jac's VJP agrees, its JVP (forward mode) is refused. Where it answers, the JVP of a random tangent t
  is checked against the VJP just compared: <v, J t> == sum of <Jᵀ v, t> over the inputs (WRONG "jvp" if not).
- LENIENT: PyTorch refuses, jac answers (read them for a reading that is not PyTorch's).
and counts: calls, refused (PyTorch answers, jac refuses with a JacError), results compared, gradients compared, GRADONLY (the value agrees but PyTorch cannot
differentiate the result: integer and boolean outputs, "derivative not implemented"; not compared).

A call PyTorch refuses with inputs that require grad (``F.relu(x, True)`` in place on a leaf, a loss's weight
that has no derivative) is made again without, and its value compared (GRADONLY).

Expected differences (documented, not fixed):
- PyTorch's random and uninitialised constructors (``rand``, ``empty``, ``bernoulli``, ``dropout``, ...: their
  values differ by design; listed in RANDOM and skipped).
- The signs of singular vectors (``svd``'s U, V, Vh) and of ``eigh``'s eigenvectors are PyTorch's LAPACK's (MKL),
  which jac cannot reproduce: since session 23 an output that depends on them is refused (decomp23_sweep.py
  measures it), so SIGNS (a result equal up to a sign per vector, its gradient compared with the cotangent times
  the same signs) should stay 0 (docs/vocabulary-shapes-linalg.md).
- ``x.float()`` of a float64 run stays float64 in jac (one dtype per run; PyTorch rounds to float32).
- ``F.hardsigmoid``'s gradient: PyTorch's CPU kernel multiplies by 1.0f / 6 (float32's sixth, 3e-8 off in
  float64); jac by 1/6.
- ``torch.logdet`` of a matrix with a negative determinant: NaN in both, its gradient A⁻ᵀ in jac and 0 in
  PyTorch (its where); docs/vocabulary-shapes-linalg.md.
- ``digamma``'s gradient (trigamma): PyTorch's CPU trigamma is off by up to 5e-10 relative (against mpmath);
  jac's is SciPy's polygamma(1, x), exact to rounding.
- The JVP identity where a partial derivative is infinite: ``torch.sqrt(x @ x.mT)`` and ``torch.special.entr``
  of it for an empty ``x`` (2, 0) are 0, whose tangent is 0 · inf = NaN in jac as in ``torch.func.jvp``, while
  the VJP into the empty ``x`` is empty.
- ``torch.block_diag(x, b)`` with an empty 1-d ``x`` (read as a (1, 0) block) and a 0-d ``b``: the value puts b
  in row 1, and jac's gradient of b is v[1, 0]; PyTorch's backward gives v[0, 0] (it skips the empty block's row:
  a PyTorch bug, not copied).
- --hessian: the second derivatives of ``digamma`` / ``lgamma`` (PyTorch's polygamma, as its trigamma above, is
  off by ~1e-9 relative); ``pinverse(x @ x.mT)`` of an ill-conditioned matrix (cond ~800: PyTorch's Hessian
  differs from its own ``linalg.inv``'s by 1e-9 of its largest element, jac's pinverse and inv agree to 2e-13);
  ``x.std(0)`` where the Hessian is ~3e-12 (rounding at the absolute tolerance).
- Solutions of ill-conditioned systems (``torch.linalg.lstsq(x @ x.mT, y)`` of a 3 × 3 ``x``): gradients of
  ~1e4 agree to ~3e-10 of their largest element, not element by element; rounding, not a reading.
"""
from __future__ import annotations

import sys
import warnings
import zlib

import numpy as np
import torch

warnings.simplefilter("ignore")
from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS, READINGS  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

torch.set_default_dtype(torch.float64)
SHAPES = [(), (3,), (2, 3), (3, 3), (2, 3, 4), (0,), (2, 0)]
ARGSETS = ["x", "x, y", "x, 1", "x, 0", "x, -1", "x, 2", "x, y, z", "x, dim=0", "x, dim=-1", "x, 1, 2"]
METHOD_ARGSETS = ["", "y", "1", "0", "-1", "y, z", "dim=0", "dim=-1", "1, 2"]
# the session's second run added these (--base leaves them out): keepdim, a tensor then an int, a symmetric
# positive semi-definite matrix (cholesky, eigh, ... of x @ x.mT), and b, of x's shape without its first axis
# (broadcast: the gradient summed over the axes it is repeated along)
EXTRA = ["x, 1, True", "x, dim=-1, keepdim=True", "x, y, 0", "x @ x.mT", "x @ x.mT, y", "x, b", "x, y, b"]
METHOD_EXTRA = ["0, True", "dim=-1, keepdim=True", "y, 0", "@", "@y", "b", "y, b"]
RANDOM = {"rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm", "bernoulli",
          "multinomial", "normal", "poisson", "empty", "empty_like", "empty_strided", "new_empty",
          "new_empty_strided", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
          "feature_alpha_dropout", "rrelu", "gumbel_softmax", "fractional_max_pool2d", "fractional_max_pool3d",
          "uniform_", "exponential_", "geometric_", "log_normal_", "cauchy_", "random_", "native_dropout",
          "feature_dropout", "seed", "manual_seed", "initial_seed", "get_rng_state"}
RTOL, ATOL = 1e-9, 1e-12
SIGNED = ("svd",)  # singular vectors: their signs are LAPACK's (module docstring)


def method_text(n: str, args: str) -> str:
    """``x.n(args)``; ``@``: of x @ x.mT (``@y``: with the argument y)."""
    return f"(x @ x.mT).{n}({args[1:]})" if args.startswith("@") else f"x.{n}({args})"


def module_names(mod: str, base: bool) -> tuple:
    """(the names jac reads of a module or as methods, argument patterns, text maker)."""
    if mod == "methods":
        names = sorted(n for n in dir(torch.Tensor) if not n.startswith("_") and not n.endswith("_")
                       and callable(getattr(torch.Tensor, n, None))
                       and (("method", n) in LIBRARY_FUNCTIONS or n in FUNCTIONS
                            or ("torch", n) in LIBRARY_FUNCTIONS or ("torch", n) in READINGS))
        return names, METHOD_ARGSETS + ([] if base else METHOD_EXTRA), method_text
    lib = {"torch": torch, "F": torch.nn.functional, "torch.linalg": torch.linalg,
           "torch.special": torch.special}[mod]
    names = sorted(n for n in dir(lib) if not n.startswith("_") and callable(getattr(lib, n))
                   and (n in FUNCTIONS or ("torch", n) in LIBRARY_FUNCTIONS or (mod, n) in LIBRARY_FUNCTIONS
                        or ("torch.linalg", n) in LIBRARY_FUNCTIONS))
    return names, ARGSETS + ([] if base else EXTRA), lambda n, args: f"{mod}.{n}({args})"


def inputs_of(text: str, shape: tuple, args: str, method: bool) -> dict:
    rng = np.random.default_rng(zlib.crc32(f"{text} {shape}".encode()))
    used = ("x",) + tuple(k for k in "yzb" if k in args.replace("dim", "")) if method else \
        tuple(k for k in "xyzb" if k in args.replace("dim", ""))
    return {k: rng.uniform(0.2, 0.9, shape[1:] if k == "b" else shape) for k in used}  # b broadcasts against x


def torch_call(text: str, values: dict, grad: bool = True):
    env = {k: torch.tensor(v, requires_grad=grad) for k, v in values.items()}
    return eval(text, {"torch": torch, "F": torch.nn.functional}, env), env


def parts(result) -> list:
    """[(suffix, element)] of a result: ("", t) for one tensor or number, ("[k]", t_k) for a tuple or list."""
    if isinstance(result, (tuple, list)):
        return [(f"[{k}]", r) for k, r in enumerate(result) if isinstance(r, (torch.Tensor, float, int, bool))]
    if isinstance(result, (torch.Tensor, float, int, bool)):
        return [("", result)]
    return []


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all((np.abs(a - b) <= RTOL * np.abs(b) + ATOL) | (np.isnan(a) & np.isnan(b))
                                             | (a == b)))


def signed(a: np.ndarray, b: np.ndarray):
    """The signs d (+-1 per column, or per row) with a * d == b, for singular vectors: None if there are none."""
    if a.shape != b.shape or a.ndim < 2:
        return None
    for axis in (-2, -1):  # columns (U, torch.svd's V), rows (Vh)
        d = np.sign(np.sum(a * b, axis=axis, keepdims=True))
        d[d == 0] = 1.0
        if close(a * d, b):
            return d
    return None


def worst(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shape jac {a.shape} torch {b.shape}"
    d = np.abs(a - b)
    return f"max |diff| {np.nanmax(d) if d.size else 0:.3g} at |torch| max {np.nanmax(np.abs(b)) if b.size else 0:.3g}"


class Tally:
    def __init__(self, verbose: bool, hessian: bool = False):
        self.verbose = verbose
        self.counts = dict.fromkeys(("calls", "refused", "results", "SIGNS", "gradients", "jvps", "hessians", "CRASH",
                                     "WRONG", "GRADREFUSED", "JVPREFUSED", "HESSREFUSED", "LENIENT", "GRADONLY",
                                     "HESSONLY"), 0)
        self.hessian = hessian
        self.lenient_seen: set = set()

    def say(self, kind: str, *what):
        self.counts[kind] += 1
        if kind not in ("GRADONLY", "HESSONLY") or self.verbose:
            print(kind, *(w.replace("\n", "; ") if isinstance(w, str) else w for w in what), flush=True)


def check_part(tally: Tally, text: str, shape, values: dict, inputs: dict, element, rng):
    """Value then gradient of one element of PyTorch's result against jac's reading of ``text``."""
    try:
        got = api.evaluate(text, values)
    except JacError:
        tally.counts["refused"] += 1
        return
    except Exception as e:  # noqa: BLE001 - jac's internal error is what the sweep looks for
        return tally.say("CRASH", text, shape, type(e).__name__, str(e)[:120])
    if isinstance(got, tuple):
        return
    want = element.detach().numpy() if isinstance(element, torch.Tensor) else np.asarray(element)
    floating = isinstance(element, torch.Tensor) and element.is_floating_point() or isinstance(element, float)
    tally.counts["results"] += 1
    got, want, signs = np.asarray(got, dtype=float), np.asarray(want, dtype=float), 1.0
    if not close(got, want):
        signs = signed(got, want) if any(f"{n}(" in text for n in SIGNED) else None
        if signs is None:
            return tally.say("WRONG", "value", text, shape, worst(got, want))
        tally.counts["SIGNS"] += 1
    if not (isinstance(element, torch.Tensor) and floating and element.requires_grad):
        return tally.say("GRADONLY", text, shape)
    v = rng.standard_normal(element.shape)
    try:  # jac's result is PyTorch's times signs: jac's VJP of v is PyTorch's of v * signs
        grads = torch.autograd.grad(element, list(inputs.values()), torch.tensor(v * signs), allow_unused=True,
                                    retain_graph=True)  # the other parts of a tuple share the graph
    except Exception:  # noqa: BLE001 - PyTorch cannot differentiate it
        return tally.say("GRADONLY", text, shape)
    want_grads = {k: np.zeros(values[k].shape) if g is None else g.detach().numpy(force=True)
                  for k, g in zip(inputs, grads)}
    try:
        found = api.vjp(text, values, v, wrt=list(values))
    except JacError as e:
        return tally.say("GRADREFUSED", text, shape, str(e)[:100])
    except Exception as e:  # noqa: BLE001
        return tally.say("CRASH", "vjp", text, shape, type(e).__name__, str(e)[:120])
    tally.counts["gradients"] += 1
    agree = True
    for k, g in want_grads.items():
        mine = np.asarray(found[k], dtype=float)
        if not close(mine, g):
            agree = False
            tally.say("WRONG", f"grad {k}", text, shape, worst(mine, g))
    if agree:
        check_jvp(tally, text, shape, values, v, found, rng, np.all(np.isfinite(got)))
    if agree and tally.hessian and np.all(np.isfinite(got)):
        check_hvp(tally, text, shape, values, inputs, element, v, signs, rng)


def check_hvp(tally: Tally, text: str, shape, values: dict, inputs: dict, element, v, signs, rng):
    """(--hessian) jac's Hessian blocks against PyTorch's double backward, as Hessian-vector products of the
    scalar <v, f>: sum over b of H[a, b] t_b for every input a, a random tangent t."""
    tangents = {k: rng.standard_normal(np.shape(a)) for k, a in values.items()}
    xs = list(inputs.values())
    try:
        gs = torch.autograd.grad(element, xs, torch.tensor(v * signs), create_graph=True, retain_graph=True,
                                 allow_unused=True)
        if any(g is not None and not g.requires_grad for g in gs):  # a backward PyTorch does not differentiate
            return tally.say("HESSONLY", text, shape)
        terms = [(g * torch.tensor(tangents[k])).sum() for k, g in zip(inputs, gs) if g is not None]
        hv = torch.autograd.grad(sum(terms), xs, allow_unused=True, retain_graph=True) if terms else [None] * len(xs)
    except Exception:  # noqa: BLE001 - PyTorch has no second derivative of it
        return tally.say("HESSONLY", text, shape)
    want = {k: np.zeros(np.shape(values[k])) if h is None else h.detach().numpy(force=True) for k, h in zip(inputs, hv)}
    try:
        blocks = api.hessian(text, values)
    except JacError as e:
        return tally.say("HESSREFUSED", text, shape, str(e)[:100])
    except Exception as e:  # noqa: BLE001
        return tally.say("CRASH", "hessian", text, shape, type(e).__name__, str(e)[:120])
    tally.counts["hessians"] += 1
    for a in values:
        mine = sum(np.tensordot(np.tensordot(v, np.asarray(blocks[(a, b)], dtype=float), axes=np.ndim(v)),
                                tangents[b], axes=np.ndim(tangents[b])) for b in values)
        if not close(np.asarray(mine, dtype=float), want[a]):
            tally.say("WRONG", f"hessian {a}", text, shape, worst(np.asarray(mine, dtype=float), want[a]))


def check_jvp(tally: Tally, text: str, shape, values: dict, v, found: dict, rng, finite: bool):
    """jac's forward mode against its reverse mode, checked above: <v, J t> == sum_k <J_kᵀ v, t_k>, where the
    value is finite (the mean of an empty array is NaN, its tangent too, and the VJP of an empty input empty)."""
    tangents = {k: rng.standard_normal(np.shape(a)) for k, a in values.items()}
    try:
        jt = np.asarray(api.jvp(text, values, tangents), dtype=float)
    except JacError as e:
        return tally.say("JVPREFUSED", text, shape, str(e)[:100])
    except Exception as e:  # noqa: BLE001
        return tally.say("CRASH", "jvp", text, shape, type(e).__name__, str(e)[:120])
    tally.counts["jvps"] += 1
    forward = float(np.sum(v * jt))
    reverse = sum(float(np.sum(np.asarray(found[k]) * t)) for k, t in tangents.items())
    scale = float(np.sum(np.abs(v * jt))) + sum(float(np.sum(np.abs(np.asarray(found[k]) * t)))
                                                for k, t in tangents.items())
    if not finite and not (np.isfinite(forward) and np.isfinite(reverse)):
        return
    if not (forward == reverse or abs(forward - reverse) <= RTOL * scale + ATOL):
        tally.say("WRONG", "jvp", text, shape, f"<v, Jt> {forward:.12g} against <Jᵀv, t> {reverse:.12g}")


def sweep(mod: str, only: str | None, verbose: bool, base: bool, hessian: bool = False) -> dict:
    names, argsets, make = module_names(mod, base)
    method = mod == "methods"
    tally = Tally(verbose, hessian)
    for n in names:
        if n in RANDOM or (only and only not in n):
            continue
        for args in argsets:
            for shape in SHAPES:
                text = make(n, args)
                values = inputs_of(text, shape, args, method)
                jac_text = f"import torch\n{text}" if method else text
                tally.counts["calls"] += 1
                try:
                    try:
                        result, inputs = torch_call(text, values)
                    except Exception:  # noqa: BLE001 - F.relu(x, True) of a leaf, a weight without a derivative:
                        result, inputs = torch_call(text, values, grad=False)  # the value alone
                    pieces = parts(result)
                except Exception as e:  # noqa: BLE001 - PyTorch refuses: is jac lenient?
                    try:
                        api.evaluate(jac_text, values)
                    except JacError:
                        continue
                    except Exception as e2:  # noqa: BLE001
                        tally.say("CRASH", text, shape, type(e2).__name__, str(e2)[:120])
                        continue
                    if text not in tally.lenient_seen:
                        tally.lenient_seen.add(text)
                        tally.say("LENIENT", text, shape, str(e).split("\n")[0][:80])
                    continue
                rng = np.random.default_rng(zlib.crc32(f"v {text} {shape}".encode()))
                for suffix, element in pieces:
                    check_part(tally, jac_text + suffix, shape, values, inputs, element, rng)
    return tally.counts


def main(argv: list) -> None:
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    verbose = "-v" in argv
    mods = [a for i, a in enumerate(argv) if not a.startswith("-") and (i == 0 or argv[i - 1] != "-k")] or ["torch"]
    for mod in mods:
        counts = sweep(mod, only, verbose, "--base" in argv, "--hessian" in argv)
        print(mod, " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
