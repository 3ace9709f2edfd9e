"""Every derivative mode of jac at the points where an op is not smooth, against each other and the text's library.

    PYTHONPATH=. /work/venv/bin/python benchmarks/modes31_probe.py [-k SUBSTRING] [-v]

The cases are jac's non-smooth ops (``ir/ops.py``: abs, relu and the hard activations, clip / clamp, maximum /
minimum / fmax / fmin, the max / min reductions, sort / topk / median / kthvalue / quantile (``take_along`` by a
selection), cummax / cummin (``argcum``), norms and ``hypot`` / ``atan2`` at 0, prod / cumprod at zeros, remainder /
fmod at their jumps, max pooling, ``scatter_extreme``, svdvals) in the spellings users write, PyTorch's and JAX's.
Each case is a function of one input ``x`` (a binary op reads ``x[:2]`` and ``x[2:]``), run at the POINTS: ties of
every kind, zeros (signed), the bounds of the clamps, NaN and inf, and a generic point away from every kink (where
central differences must agree too). For each (case, point) the probe computes:

- ``J``: ``api.jacobian`` (and with ``mode="forward"`` / ``"reverse"``, ``structured=True``, and
  ``api.derivative(order=1)``; the points run one after another on one compiled function, so all but the first
  run its kernels); ``vjp``: ``api.vjp`` with each basis row of the output; ``jvp``: ``api.jvp`` with each
  basis column; ``batch``: ``api.jacobian(batch=["x"])`` of this point stacked with the generic one; ``text``:
  the library's own transforms written in the text (``jax.jacrev`` / ``jax.jacfwd`` / ``jax.jvp`` of each basis
  column; ``torch.autograd.functional.jacobian`` / ``torch.func.jacfwd`` / ``torch.func.jvp``), evaluated by jac;
- second order, of ``s = sum(f(x) * w)``: ``api.hessian``, ``api.derivative(order=2)`` and ``api.jacobian`` of the text's gradient
  (``jax.grad`` / ``torch.func.grad``);
- the library itself: ``jax.jacrev`` / ``jax.jacfwd`` / ``jax.hessian``, ``torch.autograd.functional.jacobian`` /
  ``hessian``.

Every first-order mode of jac must give the same matrix, or all of them refuse (a JacError); so must the two
second-order ones; and an answer must be the library's (JAX's jacrev for a JAX text, PyTorch's reverse mode for a
PyTorch one; where the library's own reverse and forward modes differ jac may follow either). Outcomes per
(case, point): ``consistent``, ``refused`` (every mode refuses, consistently), ``inconsistent`` (listed, with the
modes that differ), ``library`` (jac's modes agree with each other, not with the library: listed, to be read
against the policy the reference documents for the op, PyTorch's subgradient at a kink), ``crash`` (an exception
other than a JacError). Exit 1 when any case is inconsistent or crashed.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

NAN, INF = float("nan"), float("inf")
POINTS = {
    "generic": [0.31, -0.72, 0.58, 1.37],
    "zeros": [0.0, 0.0, 0.0, 0.0],
    "signed0": [0.0, -0.0, 1.0, -1.0],
    "tie_all": [0.5, 0.5, 0.5, 0.5],
    "tie_pair": [0.5, -0.5, 0.5, -0.5],
    "tie_adj": [0.5, 0.5, 0.0, 1.0],
    "tie_low": [-0.5, 1.0, -0.5, 2.0],
    "bounds": [0.5, -0.5, 1.0, -1.0],
    "bounds6": [6.0, 3.0, -3.0, 0.0],
    "nan": [NAN, 0.5, 1.0, 0.0],
    "inf": [INF, 0.5, -INF, 0.0],
}
W = [0.7, -1.3, 0.4, 2.1]  # the second order's weights (sliced to the output's size)

TORCH = [
    "torch.abs(x)", "torch.relu(x)", "F.relu6(x)", "F.hardtanh(x)", "F.hardsigmoid(x)", "F.hardswish(x)",
    "F.leaky_relu(x, 0.1)", "F.elu(x)", "F.celu(x)", "F.selu(x)", "torch.clamp(x, -0.5, 0.5)",
    "torch.clamp(x, min=0.0)", "torch.clip(x, 0.0, 1.0)", "F.threshold(x, 0.5, 0.0)", "F.softshrink(x, 0.5)",
    "F.hardshrink(x, 0.5)", "F.l1_loss(x, torch.zeros(4))", "F.smooth_l1_loss(x, torch.zeros(4))",
    "F.huber_loss(x, torch.zeros(4))",
    "torch.maximum(x[:2], x[2:])", "torch.minimum(x[:2], x[2:])", "torch.fmax(x[:2], x[2:])",
    "torch.fmin(x[:2], x[2:])", "torch.max(x[:2], x[2:])",
    "torch.max(x)", "torch.min(x)", "torch.amax(x)", "torch.amin(x)", "torch.max(x.reshape(2, 2), 1).values",
    "torch.amax(x.reshape(2, 2), 1)", "torch.sort(x).values", "torch.topk(x, 2).values", "torch.median(x)",
    "torch.nanmedian(x)", "torch.kthvalue(x, 2).values", "torch.quantile(x, 0.5)", "torch.quantile(x, 0.3)",
    "torch.cummax(x, 0).values", "torch.cummin(x, 0).values", "torch.msort(x)",
    "torch.norm(x)", "torch.linalg.vector_norm(x)", "torch.linalg.vector_norm(x, 1)",
    "torch.linalg.vector_norm(x, float('inf'))", "torch.linalg.vector_norm(x, 3)", "F.normalize(x, dim=0)",
    "torch.dist(x[:2], x[2:])", "torch.hypot(x[:2], x[2:])", "torch.atan2(x[:2], x[2:])", "torch.sqrt(x)",
    "torch.prod(x)", "torch.cumprod(x, 0)", "torch.remainder(x, 0.5)", "torch.fmod(x, 0.5)",
    "torch.logsumexp(x, 0)", "F.max_pool1d(x.reshape(1, 1, 4), 2).reshape(2)",
    "F.adaptive_max_pool1d(x.reshape(1, 1, 4), 1).reshape(1)", "torch.linalg.svdvals(x.reshape(2, 2))",
    "torch.linalg.matrix_norm(x.reshape(2, 2), 2)", "torch.linalg.matrix_norm(x.reshape(2, 2), 'nuc')",
    "torch.special.xlogy(x, x)", "torch.special.entr(x)", "torch.logaddexp(x[:2], x[2:])",
    "torch.scatter_reduce(torch.zeros(2), 0, torch.tensor([0, 0, 1, 1]), x, 'amax')",
    "torch.where(x > 0, x, 0.0)", "x.clamp(max=0.5)", "torch.sign(x) * x",
]
JAX = [
    "jnp.abs(x)", "lax.abs(x)", "jax.nn.relu(x)", "jax.nn.relu6(x)", "jax.nn.hard_tanh(x)", "jax.nn.hard_sigmoid(x)",
    "jax.nn.hard_swish(x)", "jax.nn.leaky_relu(x, 0.1)", "jax.nn.elu(x)", "jax.nn.celu(x)", "jax.nn.selu(x)",
    "jnp.clip(x, -0.5, 0.5)", "jnp.clip(x, 0.0)", "lax.clamp(-0.5, x, 0.5)",
    "jnp.maximum(x[:2], x[2:])", "jnp.minimum(x[:2], x[2:])", "jnp.fmax(x[:2], x[2:])", "jnp.fmin(x[:2], x[2:])",
    "lax.max(x[:2], x[2:])", "lax.min(x[:2], x[2:])",
    "jnp.max(x)", "jnp.min(x)", "jnp.amax(x)", "jnp.max(x.reshape(2, 2), 1)", "jnp.nanmax(x)", "jnp.ptp(x)",
    "lax.reduce_max(x, (0,))", "jnp.sort(x)", "lax.sort(x)", "lax.top_k(x, 2)[0]", "jnp.median(x)",
    "jnp.nanmedian(x)", "jnp.quantile(x, 0.5)", "jnp.quantile(x, 0.3)", "jnp.percentile(x, 30.0)",
    "lax.cummax(x)", "lax.cummin(x)", "lax.cummax(x, reverse=True)", "jnp.maximum.accumulate(x)",
    "lax.associative_scan(jnp.maximum, x)", "x[jnp.argmax(x)]", "jnp.take_along_axis(x, jnp.argsort(x), 0)",
    "jnp.linalg.norm(x)", "jnp.linalg.norm(x, 1)", "jnp.linalg.norm(x, jnp.inf)", "jnp.linalg.norm(x, 3)",
    "jnp.hypot(x[:2], x[2:])", "jnp.arctan2(x[:2], x[2:])", "jnp.sqrt(x)", "jnp.cbrt(x)", "jnp.prod(x)",
    "jnp.cumprod(x)", "jnp.remainder(x, 0.5)", "jnp.fmod(x, 0.5)", "jax.nn.logsumexp(x)",
    "jnp.logaddexp(x[:2], x[2:])", "jnp.linalg.svd(x.reshape(2, 2), compute_uv=False)",
    "jnp.linalg.norm(x.reshape(2, 2), 2)", "jnp.linalg.norm(x.reshape(2, 2), 'nuc')",
    "jax.scipy.special.xlogy(x, x)", "jax.scipy.special.entr(x)", "jnp.where(x > 0, x, 0.0)", "jnp.sign(x) * x",
    "jnp.zeros(2).at[jnp.array([0, 0, 1, 1])].max(x)",
    "lax.reduce_window(x, -jnp.inf, lax.max, (2,), (2,), 'VALID')",
]
CASES = [("torch", t) for t in TORCH] + [("jax", t) for t in JAX]


def lib_namespace(kind: str) -> dict:
    if kind == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jax.scipy.special  # noqa: F401
        from jax import lax
        return {"jax": jax, "jnp": jnp, "lax": lax}
    import torch
    import torch.nn.functional as F
    return {"torch": torch, "F": F}


def wrapped(kind: str, body: str) -> dict:
    """The texts jac reads for ``body``: the function, its transforms written in the library's words."""
    if kind == "jax":
        f = f"lambda x: {body}"
        return {"f": body, "jacrev": f"jax.jacrev({f})(x)", "jacfwd": f"jax.jacfwd({f})(x)",
                "jvp": f"jax.jvp({f}, (x,), (t,))[1]", "s": f"jnp.sum(({body}) * w)",
                "grad": f"jax.grad(lambda x: jnp.sum(({body}) * w))(x)"}
    f = f"lambda x: {body}"
    return {"f": body, "jacrev": f"torch.autograd.functional.jacobian({f}, x)",
            "jacfwd": f"torch.func.jacfwd({f})(x)", "jvp": f"torch.func.jvp({f}, (x,), (t,))[1]",
            "s": f"torch.sum(({body}) * w)", "grad": f"torch.func.grad(lambda x: torch.sum(({body}) * w))(x)"}


class Refused:
    def __init__(self, message: str):
        self.message = message

    def __repr__(self):
        return f"refused({self.message[:70]})"


def attempt(fn):
    """fn's array, a Refused for a JacError (or the library's own exception), or the crash itself."""
    from jacobi_cli.errors import JacError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(fn(), dtype=float)
    except JacError as e:
        return Refused(str(e))


def compare(a, b) -> str:
    """'same' (NaN where the other has NaN), 'nan' (the numbers agree; one side is NaN or inf where the other is
    finite: a 0 * inf of one path's products, which a VJP with a basis row makes as PyTorch's does) or 'differ'."""
    if isinstance(a, Refused) or isinstance(b, Refused):
        return "same" if isinstance(a, Refused) and isinstance(b, Refused) else "differ"
    if a.size != b.size:
        return "differ"
    a, b = a.reshape(-1), b.reshape(-1)
    close = np.isclose(a, b, rtol=1e-7, atol=1e-12) | (np.isnan(a) & np.isnan(b)) | (a == b)
    if close.all():
        return "same"
    finite = np.isfinite(a) & np.isfinite(b)
    return "nan" if close[finite].all() else "differ"


def same(a, b) -> bool:
    return compare(a, b) == "same"


def jac_modes(kind: str, body: str, x: np.ndarray, other: np.ndarray) -> dict:
    """Every first- and second-order path of jac for ``body`` at ``x`` (flattened to (m, n) matrices)."""
    from jacobi_cli.tools import api
    texts = wrapped(kind, body)
    value = attempt(lambda: api.evaluate(texts["f"], {"x": x}))
    out: dict = {"value": value}
    if isinstance(value, Refused):
        return out
    m, n, shape = max(value.size, 1), x.size, value.shape
    eye_out, eye_in = np.eye(m), np.eye(n)
    out["J"] = attempt(lambda: api.jacobian(texts["f"], {"x": x})["x"].reshape(m, n))
    out["J_forward"] = attempt(lambda: api.jacobian(texts["f"], {"x": x}, mode="forward")["x"].reshape(m, n))
    out["J_reverse"] = attempt(lambda: api.jacobian(texts["f"], {"x": x}, mode="reverse")["x"].reshape(m, n))
    out["J_structured"] = attempt(lambda: np.asarray(api.jacobian(texts["f"], {"x": x}, structured=True)["x"])
                                  .reshape(m, n))
    out["order1"] = attempt(lambda: np.asarray(api.derivative(texts["f"], {"x": x}, order=1)).reshape(m, n))

    def rows():
        return np.stack([api.vjp(texts["f"], {"x": x}, v=eye_out[i].reshape(shape))["x"].reshape(n)
                         for i in range(m)])

    def cols():
        return np.stack([np.asarray(api.jvp(texts["f"], {"x": x}, {"x": eye_in[j]})).reshape(m)
                         for j in range(n)], axis=1)
    out["vjp"] = attempt(rows)
    out["jvp"] = attempt(cols)
    out["batch"] = attempt(lambda: api.jacobian(texts["f"], {"x": np.stack([x, other])}, batch=["x"])["x"][0]
                           .reshape(m, n))
    out["text_jacrev"] = attempt(lambda: api.evaluate(texts["jacrev"], {"x": x}).reshape(m, n))
    out["text_jacfwd"] = attempt(lambda: api.evaluate(texts["jacfwd"], {"x": x}).reshape(m, n))
    out["text_jvp"] = attempt(lambda: np.stack([np.asarray(api.evaluate(texts["jvp"], {"x": x, "t": eye_in[j]}))
                                                .reshape(m) for j in range(n)], axis=1))
    w = np.array(W[:m]).reshape(shape)
    out["H"] = attempt(lambda: api.hessian(texts["s"], {"x": x, "w": w}, wrt=["x"])[("x", "x")].reshape(n, n))
    out["order2"] = attempt(lambda: np.asarray(api.derivative(texts["s"], {"x": x, "w": w}, order=2, wrt=["x"]))
                            .reshape(n, n))
    out["text_grad_J"] = attempt(lambda: api.jacobian(texts["grad"], {"x": x, "w": w}, wrt=["x"])["x"].reshape(n, n))
    return out


def lib_modes(kind: str, body: str, x: np.ndarray, m: int) -> dict:
    """The library's own Jacobians (reverse and forward) and Hessian of the weighted sum, or Refused."""
    ns = lib_namespace(kind)
    n = x.size
    w = np.array(W[:m])
    out = {}

    def guard(fn):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return np.asarray(fn(), dtype=float)
        except Exception as e:  # the library's own refusal
            return Refused(f"{type(e).__name__}: {e}")
    if kind == "jax":
        jax, jnp = ns["jax"], ns["jnp"]
        f = eval(f"lambda x: {body}", ns)
        s = lambda x: jnp.sum(jnp.reshape(f(x), (-1,)) * w)  # noqa: E731
        xa = jnp.asarray(x)
        out["lib_rev"] = guard(lambda: jax.jacrev(f)(xa).reshape(m, n))
        out["lib_fwd"] = guard(lambda: jax.jacfwd(f)(xa).reshape(m, n))
        out["lib_H"] = guard(lambda: jax.hessian(s)(xa).reshape(n, n))
        return out
    torch = ns["torch"]
    f = eval(f"lambda x: {body}", ns)
    s = lambda x: torch.sum(f(x).reshape(-1) * torch.tensor(w))  # noqa: E731
    xt = torch.tensor(x, dtype=torch.float64)
    out["lib_rev"] = guard(lambda: torch.autograd.functional.jacobian(f, xt).reshape(m, n))
    out["lib_fwd"] = guard(lambda: torch.autograd.functional.jacobian(f, xt, strategy="forward-mode",
                                                                      vectorize=True).reshape(m, n))
    out["lib_H"] = guard(lambda: torch.autograd.functional.hessian(s, xt).reshape(n, n))
    return out


FIRST = ("J", "J_forward", "J_reverse", "J_structured", "order1", "vjp", "jvp", "batch", "text_jacrev",
         "text_jacfwd", "text_jvp")
SECOND = ("H", "order2", "text_grad_J")


def classify(found: dict, lib: dict) -> tuple[str, list]:
    """('consistent' | 'refused' | 'inconsistent' | 'nan' | 'library', what differs): 'inconsistent' where two of
    jac's modes give different numbers or one refuses where another answers; 'nan' where they differ only by a NaN
    or inf against a finite number; 'library' where jac's modes agree and the library differs."""
    if isinstance(found["value"], Refused):
        return "refused", []
    problems, soft = [], []
    for group in (FIRST, SECOND):
        ref = found[group[0]]
        for k in group[1:]:
            verdict = compare(ref, found[k])
            if verdict != "same":
                what = "refuses" if isinstance(found[k], Refused) else \
                    "answers" if isinstance(ref, Refused) else verdict + "s" if verdict == "differ" else "NaN/inf"
                (soft if verdict == "nan" else problems).append(f"{k} {what} vs {group[0]}")
    first, second = found["J"], found["H"]
    rev, fwd, hess = lib.get("lib_rev"), lib.get("lib_fwd"), lib.get("lib_H")
    library = []
    if not isinstance(first, Refused) and isinstance(rev, np.ndarray) and compare(first, rev) != "same" and \
            not (isinstance(fwd, np.ndarray) and compare(first, fwd) == "same"):
        library.append(f"J {compare(first, rev)}s from the library's")
    if not isinstance(second, Refused) and isinstance(hess, np.ndarray) and compare(second, hess) != "same":
        library.append(f"H {compare(second, hess)}s from the library's")
    if problems:
        return "inconsistent", problems + soft + library
    if soft:
        return "nan", soft + library
    if library:
        return "library", library
    every = [found[k] for k in FIRST + SECOND]
    return ("refused" if all(isinstance(a, Refused) for a in every) else "consistent"), []


def central(kind: str, body: str, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    from jacobi_cli.tools import api
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((np.ravel(api.evaluate(body, {"x": x + e})) - np.ravel(api.evaluate(body, {"x": x - e}))) / (2 * h))
    return np.stack(cols, axis=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args(argv)
    tally, listed = Counter(), []
    generic = np.array(POINTS["generic"])
    for kind, body in CASES:
        if args.k not in f"{kind} {body}":
            continue
        for point, values in POINTS.items():
            x = np.array(values)
            try:
                found = jac_modes(kind, body, x, generic)
                m = found["value"].size if isinstance(found["value"], np.ndarray) else 1
                lib = lib_modes(kind, body, x, max(m, 1))
                outcome, problems = classify(found, lib)
                if point == "generic" and outcome == "consistent" and \
                        not np.allclose(found["J"], central(kind, body, x), rtol=1e-5, atol=1e-6):
                    outcome, problems = "inconsistent", ["J differs from central differences"]
            except Exception as e:  # a crash: anything but a JacError
                outcome, problems = "crash", [f"{type(e).__name__}: {e}"]
            tally[outcome] += 1
            if outcome not in ("consistent", "refused") or args.v:
                listed.append(f"{outcome:12} {kind:5} {body:60} {point:9} {'; '.join(problems)}")
                print(listed[-1], flush=True)
    print(f"\n{sum(tally.values())} (case, point) pairs over {len(CASES)} cases and {len(POINTS)} points: "
          + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    return 1 if tally["inconsistent"] or tally["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
