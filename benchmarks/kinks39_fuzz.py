"""Ties and kinks: random PyTorch expressions of the ops that have them, at small integers and halves, against PyTorch.

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/kinks39_fuzz.py [--cases N] [--seed S]
        [--points P] [-k SUBSTRING] [-v] [--jax])

Each case is an expression drawn from the ops with a kink or a tie (the hard activations, clamp with tensor bounds,
maximum / minimum / fmax / fmin, the max / min reductions whole and along a dim, sort / topk / kthvalue / median /
mode, cummax / cummin, max pooling, norms at 0, dist / cdist / pdist at coincident points, where with equal
branches, the roundings, remainder / fmod, powers at 0, copysign, nan_to_num, logsumexp with -inf, softmax of equal
entries) composed with smooth ops that keep ties (``a * 2``, ``a - y``, ``a ** 2``, a flip), of two inputs ``x`` and
``y`` of length 4 or 6, evaluated at P points whose entries are drawn from three of {-2, -1.5, ..., 2} (many ties and
zeros), in float64. The same text is evaluated by PyTorch (``eval`` with ``torch`` and ``F``) and by jac; at each
point the probe compares, entry by entry to 1e-12 relative:

- ``value``; ``J``: ``api.jacobian`` (reverse mode) against ``torch.autograd.functional.jacobian``;
- ``Jfwd``: ``api.jacobian(mode="forward")`` against PyTorch's forward mode (``strategy="forward-mode"``);
- ``vjp``: ``api.vjp`` with a drawn cotangent against ``torch.autograd.grad``;
- ``jvp``: ``api.jvp`` with a drawn tangent against ``torch.func.jvp``;
- ``H``: ``api.hessian`` of ``torch.sum(f * w)`` against ``torch.autograd.functional.hessian``.

Outcomes per check: ``same``; ``nan`` (PyTorch has NaN or inf where jac has a finite number and they agree
elsewhere: a 0 * inf of PyTorch's dense pass, which jac's structured Jacobian avoids, documented); ``jac nan`` (the
reverse); ``nonfinite`` (every entry that differs is NaN or inf on one side); ``close`` (to 1e-7: PyTorch's
hardsigmoid / hardswish use 1/6 rounded to float32); ``torch modes`` (a forward-mode check where PyTorch's forward
mode differs from its own reverse mode at a tie and jac gives the reverse mode's answer, as docs/expressions.md
says: jac's modes agree); ``differ`` (a finite number against another: a silent disagreement, listed); ``jac refuses`` (a JacError where PyTorch answers: listed, not wrong); ``both refuse``;
``torch refuses`` (jac answers where PyTorch raises: listed). ``--jax`` runs the ``jax.lax`` / ``jnp`` / ``jax.nn``
round instead, against ``jax.jacrev`` / ``jax.jacfwd`` / ``jax.jvp`` / ``jax.hessian``: a difference of a text that
holds a ``jnp.`` / ``jax.nn.`` spelling with a kink is ``pytorch choice`` (those make PyTorch's choices, as
documented); one of ``jax.lax`` primitives and smooth ops alone is a ``differ``.
Prints the counts; exit 1 when anything differs.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

GRID = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
RTOL = 1e-12

# --- the grammar: (template, needs) -----------------------------------------------------------
# "{a}" is the operand (a vector of length L); "{b}" another of the same length; "{L}" its length.
ELEMENTWISE = [
    "torch.abs({a})", "torch.sign({a}) * {a}", "torch.relu({a})", "F.relu6({a} * 3.0)", "F.hardtanh({a})",
    "F.hardtanh({a}, -0.5, 1.0)", "F.hardsigmoid({a} * 3.0)", "F.hardswish({a} * 3.0)", "F.leaky_relu({a}, 0.1)",
    "F.elu({a})", "F.celu({a}, 0.5)", "F.selu({a})", "F.softplus({a}, 1.0, 1.0)", "F.softplus({a}, 2.0, 1.0)",
    "F.threshold({a}, 0.5, 0.0)", "F.softshrink({a}, 0.5)", "F.hardshrink({a}, 0.5)",
    "torch.clamp({a}, -1.0, 1.0)", "torch.clamp({a}, min=0.5)", "torch.clamp({a}, max=0.0)",
    "torch.clamp({a}, {b}, {b} + 1.0)", "torch.clamp({a}, min={b})", "torch.clip({a}, max={b})",
    "torch.clamp({a}, {b}, {b})", "{a}.clamp(-0.5, 0.5)",
    "torch.maximum({a}, {b})", "torch.minimum({a}, {b})", "torch.fmax({a}, {b})", "torch.fmin({a}, {b})",
    "torch.max({a}, {b})", "torch.min({a}, {b})",
    "torch.floor({a}) + {a}", "torch.ceil({a}) * {a}", "torch.round({a}) + {a}", "torch.trunc({a}) + {a}",
    "torch.frac({a})", "torch.remainder({a}, 1.0)", "torch.fmod({a}, 0.5)", "torch.remainder({a}, {b} + 3.0)",
    "torch.fmod({a}, 2.0)", "{a} % 1.5",
    "{a} ** 0", "{a} ** 1", "torch.abs({a}) ** 0.5", "{a} ** 2", "torch.pow({a}, 3)", "torch.sqrt(torch.abs({a}))",
    "torch.abs({a}) ** {b}", "torch.heaviside({a}, {b})", "torch.copysign({a}, {b})", "torch.copysign({b}, {a})",
    "torch.nan_to_num(torch.log({a}))", "torch.nan_to_num(torch.log({a}), 0.0, 5.0, -5.0)",
    "torch.where({a} > 0, {a}, {a})", "torch.where({a} >= {b}, {a}, {b})", "torch.where({a} > {b}, {a} * 2.0, {a} + {a})",
    "torch.hypot({a}, {b})", "torch.atan2({a}, {b} + 1.0)", "torch.xlogy({a}, torch.abs({b}))",
    "torch.special.entr(torch.abs({a}))", "torch.logaddexp({a}, {b})",
]
VECTOR = [  # length L in, length given by the function out
    ("torch.sort({a}).values", lambda L: L), ("torch.sort({a}, descending=True).values", lambda L: L),
    ("torch.sort({a}, stable=True).values", lambda L: L), ("torch.msort({a})", lambda L: L),
    ("{a}[torch.argsort({a})]", lambda L: L), ("torch.topk({a}, 2).values", lambda L: 2),
    ("torch.topk({a}, 3, largest=False).values", lambda L: 3), ("torch.cummax({a}, 0).values", lambda L: L),
    ("torch.cummin({a}, 0).values", lambda L: L), ("torch.softmax({a}, 0)", lambda L: L),
    ("F.log_softmax({a}, 0)", lambda L: L), ("torch.flip({a}, [0])", lambda L: L),
    ("F.max_pool1d({a}.reshape(1, 1, -1), 2).reshape(-1)", lambda L: L // 2),
    ("F.max_pool1d({a}.reshape(1, 1, -1), 2, 1).reshape(-1)", lambda L: L - 1),
    ("F.max_pool1d({a}.reshape(1, 1, -1), 3, 2, ceil_mode=True).reshape(-1)", lambda L: (L - 3 + 1) // 2 + 1),
    ("F.max_pool1d({a}.reshape(1, 1, -1), 3, 2, padding=1).reshape(-1)", lambda L: (L + 2 - 3) // 2 + 1),
    ("F.adaptive_max_pool1d({a}.reshape(1, 1, -1), 3).reshape(-1)", lambda L: 3),
    ("F.max_pool2d({a}.reshape(1, 2, -1), 2, 1).reshape(-1)", lambda L: L // 2 - 1),
    ("F.max_pool2d({a}.reshape(1, 2, -1), (1, 2), 1).reshape(-1)", lambda L: L - 2),
    ("F.adaptive_max_pool2d({a}.reshape(1, 2, -1), (1, 2)).reshape(-1)", lambda L: 2),
    ("{a}.reshape(2, -1).max(1).values", lambda L: 2), ("{a}.reshape(2, -1).min(0).values", lambda L: L // 2),
    ("torch.amax({a}.reshape(2, -1), 1)", lambda L: 2), ("torch.amin({a}.reshape(2, -1), 0)", lambda L: L // 2),
    ("torch.max({a}.reshape(2, -1), 1, keepdim=True).values.reshape(-1)", lambda L: 2),
    ("torch.max({a}.reshape(2, -1), 0)[0]", lambda L: L // 2),
    ("torch.median({a}.reshape(2, -1), 1).values", lambda L: 2),
    ("torch.nanmedian({a}.reshape(2, -1), 0).values", lambda L: L // 2),
    ("torch.kthvalue({a}.reshape(2, -1), 2, 1).values", lambda L: 2),
    ("torch.mode({a}.reshape(2, -1), 1).values", lambda L: 2),
    ("{a}.reshape(2, -1).gather(1, {a}.reshape(2, -1).argmax(1, keepdim=True)).reshape(-1)", lambda L: 2),
    ("torch.cdist({a}.reshape(-1, 2), {b}.reshape(-1, 2)).reshape(-1)", lambda L: (L // 2) ** 2),
    ("torch.cdist({a}.reshape(-1, 2), {a}.reshape(-1, 2)).reshape(-1)", lambda L: (L // 2) ** 2),
    ("torch.cdist({a}.reshape(-1, 2), {b}.reshape(-1, 2), p=1.0).reshape(-1)", lambda L: (L // 2) ** 2),
    ("F.pdist({a}.reshape(-1, 2))", lambda L: (L // 2) * (L // 2 - 1) // 2),
    ("torch.linalg.vector_norm({a}.reshape(2, -1), dim=1)", lambda L: 2),
    ("torch.linalg.vector_norm({a}.reshape(2, -1), 1, dim=0)", lambda L: L // 2),
    ("torch.linalg.vector_norm({a}.reshape(2, -1), float('inf'), dim=1)", lambda L: 2),
    ("torch.norm({a}.reshape(2, -1), dim=1)", lambda L: 2),
    ("F.normalize({a}.reshape(2, -1), dim=1).reshape(-1)", lambda L: L),
    ("torch.logsumexp(torch.stack([{a}, torch.log(torch.relu({b}))]), 0)", lambda L: L),
    ("torch.softmax(torch.round({a}), 0) * {a}", lambda L: L),
]
REDUCE = [
    "torch.max({a})", "torch.min({a})", "torch.amax({a})", "torch.amin({a})", "{a}.max()",
    "torch.median({a})", "torch.nanmedian({a})", "torch.kthvalue({a}, 2).values", "torch.mode({a}).values",
    "{a}[torch.argmax({a})]", "{a}[torch.argmin({a})]", "torch.logsumexp({a}, 0)",
    "torch.logsumexp(torch.log(torch.relu({a})), 0)",
    "torch.norm({a})", "torch.linalg.norm({a})", "torch.linalg.vector_norm({a}, 1)",
    "torch.linalg.vector_norm({a}, 2)", "torch.linalg.vector_norm({a}, float('inf'))",
    "torch.linalg.vector_norm({a}, float('-inf'))", "torch.linalg.vector_norm({a}, 0.5)",
    "torch.linalg.vector_norm({a}, 0)", "torch.linalg.vector_norm({a}, 3)",
    "torch.linalg.matrix_norm({a}.reshape(2, -1))", "torch.linalg.matrix_norm({a}.reshape(2, -1), 'nuc')",
    "torch.linalg.matrix_norm({a}.reshape(2, -1), 1)", "torch.linalg.matrix_norm({a}.reshape(2, -1), -1)",
    "torch.linalg.matrix_norm({a}.reshape(2, -1), float('inf'))",
    "torch.linalg.matrix_norm({a}.reshape(2, -1), float('-inf'))",
    "torch.linalg.matrix_norm({a}.reshape(2, -1), 2)", "torch.linalg.matrix_norm({a}.reshape(2, -1), -2)",
    "torch.dist({a}, {b})", "torch.dist({a}, {b}, 1)", "torch.dist({a}, {b}, float('inf'))",
    "torch.dist({a}, {b}, 0.5)", "torch.dist({a}, {b}, 0)",
    "torch.prod({a})", "torch.sum({a})",
]
SMOOTH = ["{a} * 2.0", "{a} - {b}", "{a} * {b}", "{a} ** 2", "-{a}", "{a} + 0.5", "torch.sin({a})", "{a} * {a}",
          "torch.exp({a}) - 1.0", "torch.flip({a}, [0]) - {a}", "{a}.roll(1)", "torch.tanh({a})"]


def other(L: int, n: int, rng: random.Random) -> str:
    """A second operand of length L: y (or a view of x, so that the two tie) where L is the inputs' length."""
    if L == n:
        return rng.choice(["y", "y", "x", "torch.flip(x, [0])", "x.roll(1)", "torch.round(y)", "x * 0.0"])
    vals = ", ".join(str(rng.choice(GRID)) for _ in range(L))
    return rng.choice([f"torch.tensor([{vals}], dtype=torch.float64)", f"torch.flip(x, [0])[:{L}]", f"y[:{L}]"])


def draw(rng: random.Random, n: int) -> str:
    """One expression of x and y (length n)."""
    code, L = rng.choice(["x", "x", "y", "x - y", "x * 2.0", "x + y"]), n
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.45:
            t = rng.choice(ELEMENTWISE)
        elif r < 0.75:
            t, size = rng.choice(VECTOR)
            needs_even = "reshape(2" in t or "reshape(-1, 2" in t
            if needs_even and L % 2 or size(L) < 1 or ("max_pool2d" in t and L < 4) or ("pdist" in t and L < 4) \
                    or ("3, largest" in t and L < 3) or ("kthvalue" in t and L < 4) or ("pool1d" in t and L < 3):
                continue
            L = size(L)
        else:
            t = rng.choice(SMOOTH)
        code = t.format(a=f"({code})", b=other(L, n, rng))
    if rng.random() < 0.5:
        t = rng.choice(REDUCE)
        if "reshape(2" in t and L % 2 or ("kthvalue" in t and L < 2):
            return code
        code = t.format(a=f"({code})", b=other(L, n, rng))
        if rng.random() < 0.3:
            code = rng.choice(SMOOTH[:1] + SMOOTH[4:8]).format(a=f"({code})", b="1.0")
    return code


def point(rng: random.Random, n: int) -> np.ndarray:
    pool = rng.sample(GRID, 3)
    return np.array([rng.choice(pool) for _ in range(n)])


# --- the comparison ---------------------------------------------------------------------------

class Refused:
    def __init__(self, why: str):
        self.why = why


def attempt(fn, jac_side: bool):
    from jacobi_cli.errors import JacError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(fn(), dtype=float)
    except JacError as e:
        if jac_side:
            return Refused(str(e).splitlines()[0][:100])
        raise
    except Exception as e:
        if jac_side:
            raise
        return Refused(f"{type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}")


def compare(ours, theirs) -> str:
    """same; nan (PyTorch NaN or inf at every entry that differs); jac nan (jac NaN or inf where PyTorch has a
    number); close (to 1e-7 only: a constant PyTorch rounds, hardsigmoid's 1/6 in float32); nonfinite (each entry
    that differs is NaN or inf on one side or the other, or close: 0 * inf in one library's order of products); differ (a
    finite number against another: a silent disagreement)."""
    if isinstance(ours, Refused) or isinstance(theirs, Refused):
        if isinstance(ours, Refused) and isinstance(theirs, Refused):
            return "both refuse"
        return "jac refuses" if isinstance(ours, Refused) else "torch refuses"
    a, b = np.ravel(ours), np.ravel(theirs)
    if a.size != b.size:
        return "differ"
    scale = max(np.max(np.abs(b[np.isfinite(b)]), initial=0.0), 1.0)
    with np.errstate(invalid="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= RTOL * scale)
        close = same | (np.abs(a - b) <= 1e-7 * scale)
    if same.all():
        return "same"
    if not np.isfinite(b[~same]).any():
        return "nan"
    if np.isfinite(b[~same]).all() and not np.isfinite(a[~same]).any():
        return "jac nan"
    if close.all():
        return "close"
    return "nonfinite" if (close | ~np.isfinite(a) | ~np.isfinite(b)).all() else "differ"


def torch_side(text: str, x, y, v, t, w) -> dict:
    import torch
    import torch.nn.functional as F
    ns = {"torch": torch, "F": F}

    def f(x, y):
        return eval(text, ns, {"x": x, "y": y})
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    out = {"value": attempt(lambda: f(xt, yt).detach(), False)}
    if isinstance(out["value"], Refused) or v is None:
        return out
    shape = out["value"].shape
    out["J"] = attempt(lambda: np.concatenate([j.reshape(max(np.prod(shape, dtype=int), 1), -1) for j in
                                               torch.autograd.functional.jacobian(f, (xt, yt))], axis=1), False)
    out["Jfwd"] = attempt(lambda: np.concatenate([j.reshape(max(np.prod(shape, dtype=int), 1), -1) for j in
                                                  torch.autograd.functional.jacobian(
                                                      f, (xt, yt), strategy="forward-mode", vectorize=True)], axis=1),
                          False)

    def vjp():
        a, b = xt.clone().requires_grad_(), yt.clone().requires_grad_()
        gs = torch.autograd.grad(f(a, b), (a, b), torch.tensor(v).reshape(shape), allow_unused=True)
        return np.concatenate([np.zeros(len(x)) if g is None else g.numpy() for g in gs])
    out["vjp"] = attempt(vjp, False)
    out["jvp"] = attempt(lambda: torch.func.jvp(f, (xt, yt), (torch.tensor(t[0]), torch.tensor(t[1])))[1], False)
    if isinstance(out["J"], np.ndarray):  # what the reverse mode's Jacobian gives for the forward checks
        out["J_as_fwd"] = out["J"]
        out["J_as_jvp"] = out["J"] @ np.concatenate(t)
    wt = torch.tensor(w).reshape(shape)
    out["H"] = attempt(lambda: np.block([[h.numpy() for h in row] for row in torch.autograd.functional.hessian(
        lambda a, b: torch.sum(f(a, b) * wt), (xt, yt))]), False)
    return out


def jac_side(text: str, x, y, v, t, w) -> dict:
    from jacobi_cli.tools import api
    b = {"x": x, "y": y}
    out = {"value": attempt(lambda: api.evaluate(text, b), True)}
    if isinstance(out["value"], Refused):
        return out
    shape, m = out["value"].shape, max(out["value"].size, 1)
    out["J"] = attempt(lambda: np.concatenate([np.asarray(api.jacobian(text, b, mode="reverse")[k]).reshape(m, -1)
                                               for k in "xy"], axis=1), True)
    out["Jfwd"] = attempt(lambda: np.concatenate([np.asarray(api.jacobian(text, b, mode="forward")[k]).reshape(m, -1)
                                                  for k in "xy"], axis=1), True)
    out["vjp"] = attempt(lambda: np.concatenate([api.vjp(text, b, v=np.reshape(v, shape))[k] for k in "xy"]), True)
    out["jvp"] = attempt(lambda: api.jvp(text, b, {"x": t[0], "y": t[1]}), True)
    s = f"torch.sum(({text}) * w)"
    out["H"] = attempt(lambda: np.block([[api.hessian(s, {**b, "w": np.reshape(w, shape)}, wrt=["x", "y"])[(p, q)]
                                          for q in "xy"] for p in "xy"]), True)
    return out


class Timeout(Exception):
    pass


def alarm(signum, frame):
    raise Timeout()


def run_case(text: str, x, y, rng: random.Random, lib=torch_side) -> dict:
    from jacobi_cli.tools import api
    try:
        m = np.asarray(api.evaluate(text, {"x": x, "y": y})).size
    except Exception:
        try:
            m = np.asarray(lib(text, x, y, None, None, None)["value"]).size
        except Exception:
            m = 1
    v = np.array([rng.choice([1.0, -1.0, 2.0, 0.5]) for _ in range(m)])
    t = (np.array([rng.choice([1.0, -1.0, 0.5, 0.0]) for _ in x]), np.array([rng.choice([1.0, -2.0, 0.0]) for _ in y]))
    w = np.array([rng.choice([0.7, -1.3, 0.4, 2.1]) for _ in range(m)])
    theirs = lib(text, x, y, v, t, w)
    ours = jac_side(text, x, y, v, t, w)
    verdicts = {}
    for k in ("value", "J", "Jfwd", "vjp", "jvp", "H"):
        if k in theirs and k in ours:
            verdicts[k] = compare(ours[k], theirs[k])
            # PyTorch's forward mode differs from its reverse mode at this tie: jac's modes give one answer, the
            # reverse mode's (docs/expressions.md), so the forward checks are held to that
            rev = theirs.get({"Jfwd": "J_as_fwd", "jvp": "J_as_jvp"}.get(k, ""))
            if verdicts[k] not in ("same", "nan") and rev is not None and \
                    compare(theirs["J"], theirs[k] if k == "Jfwd" else theirs["J"] @ np.concatenate(t)) != "same" \
                    and compare(ours[k], rev) in ("same", "nan"):
                verdicts[k] = "torch modes"
        elif k in theirs or k in ours:
            verdicts[k] = compare(ours.get(k, Refused("no value")), theirs.get(k, Refused("no value")))
    return verdicts


# --- the JAX round ----------------------------------------------------------------------------

JAX_OPS = [
    "lax.max({a}, {b})", "lax.min({a}, {b})", "lax.clamp(-1.0, {a}, 1.0)", "lax.clamp({b}, {a}, {b} + 1.0)",
    "lax.abs({a})", "jnp.abs({a})", "jnp.maximum({a}, {b})", "jnp.minimum({a}, {b})", "jnp.clip({a}, -0.5, 0.5)",
    "jnp.clip({a}, {b}, {b} + 1.0)", "jax.nn.relu({a})", "jax.nn.relu6({a} * 3.0)", "jax.nn.hard_tanh({a})",
    "jax.nn.hard_sigmoid({a} * 3.0)", "jax.nn.hard_swish({a} * 3.0)", "jax.nn.leaky_relu({a}, 0.1)",
    "jax.nn.elu({a})", "jax.nn.celu({a}, 0.5)", "jax.nn.selu({a})", "jnp.fmax({a}, {b})", "jnp.fmin({a}, {b})",
    "jnp.sign({a}) * {a}", "jnp.where({a} > 0, {a}, {a})", "jax.nn.softmax({a})", "jnp.sort({a})",
    "jnp.sqrt(jnp.abs({a}))", "{a} ** 2", "jnp.sin({a})", "{a} * {b}", "{a} - {b}",
]
JAX_REDUCE = ["jnp.max({a})", "jnp.min({a})", "jnp.linalg.norm({a})", "jnp.linalg.norm({a}, 1)",
              "jnp.linalg.norm({a}, jnp.inf)", "jax.nn.logsumexp({a})", "jnp.median({a})", "jnp.sum({a})"]


def draw_jax(rng: random.Random, n: int) -> str:
    code = rng.choice(["x", "y", "x - y"])
    for _ in range(rng.randint(1, 3)):
        b = rng.choice(["y", "x", "jnp.flip(x)", "jnp.round(y)"])
        code = rng.choice(JAX_OPS).format(a=f"({code})", b=b)
    if rng.random() < 0.5:
        code = rng.choice(JAX_REDUCE).format(a=f"({code})")
    return code


def jax_side(text: str, x, y, v, t, w) -> dict:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax
    ns = {"jax": jax, "jnp": jnp, "lax": lax}

    def f(x, y):
        return eval(text, ns, {"x": x, "y": y})
    xa, ya = jnp.asarray(x), jnp.asarray(y)
    out = {"value": attempt(lambda: f(xa, ya), False)}
    if isinstance(out["value"], Refused) or v is None:
        return out
    shape = out["value"].shape
    m = max(int(np.prod(shape)), 1)

    def both(jacobian):
        return np.concatenate([np.asarray(j).reshape(m, -1) for j in jacobian(f, argnums=(0, 1))(xa, ya)], axis=1)
    out["J"] = attempt(lambda: both(jax.jacrev), False)
    out["Jfwd"] = attempt(lambda: both(jax.jacfwd), False)

    def vjp():
        _, pull = jax.vjp(f, xa, ya)
        return np.concatenate([np.asarray(g) for g in pull(jnp.asarray(v).reshape(shape))])
    out["vjp"] = attempt(vjp, False)
    out["jvp"] = attempt(lambda: jax.jvp(f, (xa, ya), (jnp.asarray(t[0]), jnp.asarray(t[1])))[1], False)
    wa = jnp.asarray(w).reshape(shape)
    out["H"] = attempt(lambda: np.block([[np.asarray(h) for h in row] for row in jax.hessian(
        lambda a, b: jnp.sum(f(a, b) * wa), argnums=(0, 1))(xa, ya)]), False)
    return out


# the jnp. / jax.nn. spellings with a kink or tie, which make PyTorch's choices (DEVELOPERS.md, docs/expressions.md)
PYTORCH_CHOICE = (r"jnp\.(abs|maximum|minimum|clip|fmax|fmin|max|min|median|linalg|sign|sort)\b|"
                  r"jax\.nn\.(relu|relu6|hard_tanh|hard_sigmoid|hard_swish|leaky_relu|elu|celu|selu)\b")
RANK = {"same": 0, "both": 0, "nan": 1, "close": 1, "nonfinite": 1, "torch": 2, "jac": 3, "differ": 4, "timeout": 5, "crash": 6}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--seed", type=int, default=39)
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--jax", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, alarm)
    tally, per_check, listed = Counter(), Counter(), Counter()
    ran = 0
    for _ in range(args.cases):
        n = rng.choice([4, 6])
        text = draw_jax(rng, n) if args.jax else draw(rng, n)
        if args.k not in text:
            continue
        for _ in range(args.points):
            x, y = point(rng, n), point(rng, n)
            ran += 1
            signal.alarm(args.timeout)
            try:
                verdicts = run_case(text, x, y, rng, jax_side if args.jax else torch_side)
            except Timeout:
                verdicts = {"all": "timeout"}
            except Exception as e:  # a crash of jac (anything but a JacError)
                verdicts = {"all": f"crash {type(e).__name__}: {e}"[:120]}
            finally:
                signal.alarm(0)
            worst = "same"
            for k, verdict in verdicts.items():
                per_check[(k, verdict.split(":")[0])] += 1
                if RANK.get(verdict.split(" ")[0], 9) > RANK.get(worst.split(" ")[0], 9):
                    worst = verdict
            if args.jax and worst == "differ" and re.search(PYTORCH_CHOICE, text):
                worst = "pytorch choice"  # a jnp. / jax.nn. kink: PyTorch's choice, as documented (not JAX's)
            tally[worst] += 1
            if worst != "same" or args.v:
                bad = {k: vv for k, vv in verdicts.items() if vv != "same"}
                line = f"{worst:14} {text}  x={x.tolist()} y={y.tolist()}  {bad}"
                if listed[text] < 1 or args.v:
                    print(line, flush=True)
                listed[text] += 1
    print(f"\n{ran} (case, point) runs of {args.cases} drawn {'JAX' if args.jax else 'PyTorch'} expressions "
          f"(seed {args.seed}): " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print("per check: " + ", ".join(f"{k}/{v} {c}" for (k, v), c in sorted(per_check.items())))
    return 1 if any(k.startswith(("differ", "crash")) for k in tally) else 0


if __name__ == "__main__":
    sys.exit(main())
