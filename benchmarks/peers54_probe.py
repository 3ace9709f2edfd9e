#!/usr/bin/env python3
"""Everyday texts pasted as a newcomer would, each checked against the library itself (session 54).

Run by hand, never as a test (see benchmarks/README.md):

    PYTHONPATH=. /work/venv/bin/python benchmarks/peers54_probe.py torch      # Jacobians, torch.autograd.functional.jacobian
    PYTHONPATH=. /work/venv/bin/python benchmarks/peers54_probe.py hessian    # jac hessian of sum(cos(0.7 * TEXT))
    PYTHONPATH=. /work/venv/bin/python benchmarks/peers54_probe.py jax        # Jacobians, jax.jacrev in x64

Each line of ``peers54_torch.txt`` / ``peers54_jax.txt`` is one text over ``x`` (4,) and ``A`` (3, 3) (a line with
`` if `` is a note kept for the Jacobian mode only). jac runs in a real process (``jac eval`` or ``jac hessian``
``--json``); the library evaluates the same text in float64. A line per text that is not AGREE:

- AGREE: the value and every Jacobian (Hessian block) within rtol 1e-8, atol 1e-11 (Hessians 1e-7, 1e-10);
- WRONG: they differ (the library's own derivative may be the wrong one: PyTorch's zeros where it has none,
  JAX's NaN; docs/expressions.md names each such function);
- JAC-REFUSES / JAC-ANSWERS: exit 2 where the library answers / an answer where the library raises;
- BOTH-RAISE: both refuse.
Then the counts.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
X = np.array([0.3, 0.7, 1.4, 2.2])
A = np.array([[2.0, 0.3, 0.1], [0.2, 1.5, -0.4], [0.1, -0.3, 1.8]])
VALUES = {"x": X, "A": A}


def _names(text: str) -> list:
    """The inputs a text reads (x, A), not counting the letters of library names."""
    bare = text
    for word in ("torch", "F.", "max", "ax", "jax", "jnp"):
        bare = bare.replace(word, "")
    return [n for n in ("x", "A") if n in bare]


def _library(mode: str):
    """(environment, tensor maker, Jacobian of f by each argument, Hessian blocks) of the reference library."""
    if mode == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jax.scipy  # noqa: F401  (jax.scipy.special, .stats, .linalg by attribute)
        import jax.scipy.linalg  # noqa: F401
        import jax.scipy.special  # noqa: F401
        import jax.scipy.stats  # noqa: F401

        def jacobians(f, ins):
            return [np.asarray(jax.jacrev(f, argnums=i)(*ins)) for i in range(len(ins))]

        return {"jax": jax, "jnp": jnp, "np": np}, jnp.asarray, jacobians, None
    import torch
    import torch.nn.functional as F

    torch.set_default_dtype(torch.float64)

    def jacobians(f, ins):
        return [np.asarray(t) for t in torch.autograd.functional.jacobian(f, tuple(ins))]

    def hessians(f, ins):
        blocks = torch.autograd.functional.hessian(f, tuple(ins))
        return ((blocks,),) if len(ins) == 1 else blocks

    return {"torch": torch, "F": F, "nn": torch.nn, "np": np}, torch.tensor, jacobians, hessians


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "torch"
    if mode not in ("torch", "hessian", "jax"):
        sys.exit("usage: peers54_probe.py torch|hessian|jax")
    env, tensor, jacobians, hessians = _library(mode)
    lines = (HERE / ("peers54_jax.txt" if mode == "jax" else "peers54_torch.txt")).read_text().splitlines()
    counts: dict = {}
    for text0 in (line for line in lines if line.strip() and not line.startswith("#")):
        if mode == "hessian" and " if " in text0:
            continue
        names = _names(text0)
        text = f"torch.sum(torch.cos(torch.as_tensor({text0}) * 0.7))" if mode == "hessian" else text0
        binds = [f"{n}={json.dumps(VALUES[n].tolist())}" for n in names]
        command = "hessian" if mode == "hessian" else "eval"
        run = subprocess.run([sys.executable, "-m", "jacobi_cli", command, text, *binds, "--json"],
                             capture_output=True, text=True)
        ins = [tensor(VALUES[n]) for n in names]
        f = lambda *a: eval(text, env, dict(zip(names, a)))  # noqa: E731, S307 (the probe's own texts)
        try:
            value = np.asarray(f(*ins)) if mode != "torch" else f(*ins).detach().numpy()
            ref = hessians(f, ins) if mode == "hessian" else jacobians(f, ins)
            err = None
        except Exception as error:  # noqa: BLE001 (the library's refusal is a verdict)
            ref, err = None, f"{type(error).__name__}: {str(error)[:100]}"
        if run.returncode != 0:
            verdict = "BOTH-RAISE" if ref is None else "JAC-REFUSES"
            detail = run.stderr.strip().splitlines()[0][:220] if run.stderr.strip() else f"exit {run.returncode}"
        elif ref is None:
            verdict, detail = "JAC-ANSWERS", f"library: {err}"
        else:
            bad = _compare(json.loads(run.stdout), mode, names, value, ref)
            verdict, detail = ("WRONG" if bad else "AGREE"), "; ".join(bad)
        counts[verdict] = counts.get(verdict, 0) + 1
        if verdict != "AGREE":
            print(f"{verdict} {text0}\n    {detail}", flush=True)
    print(json.dumps(counts))


def _compare(answer: dict, mode: str, names: list, value, ref) -> list:
    bad = []
    if mode == "hessian":
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                got, want = np.asarray(answer["hessian"][f"{a},{b}"]["value"], dtype=float), np.asarray(ref[i][j])
                if got.size != want.size or not np.allclose(got.reshape(want.shape), want, rtol=1e-7, atol=1e-10,
                                                            equal_nan=True):
                    bad.append(f"{a},{b}: {_gap(got, want)}")
        return bad
    got = np.asarray(answer["output"]["value"], dtype=float)
    if not np.allclose(got, value, rtol=1e-9, atol=1e-12, equal_nan=True):
        bad.append(f"value {got} vs {value}")
    for i, n in enumerate(names):
        got, want = np.asarray(answer["jacobian"][n]["value"], dtype=float), ref[i]
        if got.size != want.size or not np.allclose(got.reshape(want.shape), want, rtol=1e-8, atol=1e-11,
                                                    equal_nan=True):
            bad.append(f"d/d{n}: {_gap(got, want)}")
    return bad


def _gap(got, want) -> str:
    if got.size != want.size:
        return f"shape {got.shape} vs {want.shape}"
    got = got.reshape(want.shape)
    nan = int(np.sum(np.isnan(got) != np.isnan(want)))
    gap = f"max difference {np.nanmax(np.abs(got - want)):.3g} of {np.nanmax(np.abs(want)):.3g}"
    return gap + (f", NaN in one of them only at {nan} entries (jac's: {int(np.sum(np.isnan(got)))})" if nan else "")


if __name__ == "__main__":
    main()
