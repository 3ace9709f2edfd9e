"""Derivatives written in the text: every one-array function jac reads under ``jnp.`` (and under ``torch.``), put
inside ``jax.grad`` / ``jax.hessian`` / ``torch.autograd.grad(..., create_graph=True)`` / ``torch.func.hessian``,
run by jac and by the library itself; the value AND jac's Jacobian of it (a second or third derivative) compared.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/grad24_sweep.py [jax | torch] [-k SUBSTRING] [-v]

Templates (``NAME`` each function; ``x`` uniform(0.2, 0.9), shape (3,), distinct, seeded per text):
- jax: ``jax.grad(lambda t: jnp.sum(jnp.NAME(t) * t))(x)`` and ``jax.hessian(lambda t: jnp.sum(jnp.NAME(t)))(x)``:
  the value against JAX's (float64), jac's Jacobian against ``jax.jacrev`` of the same text as a function of x.
- torch: ``y = (torch.NAME(x) * x).sum(); g, = torch.autograd.grad(y, x, create_graph=True); g`` and
  ``torch.func.hessian(lambda t: torch.NAME(t).sum())(x)``: against PyTorch's value and
  ``torch.autograd.functional.jacobian`` of the text.
|jac - ref| <= 1e-9 |ref| + 1e-11 max|ref| (fuzzkit.differ). Counts: AGREE, WRONG (must be none), REFUSED (the
library answers, jac refuses with a JacError: read them), CRASH (not a JacError: must be none), SKIPPED (the
library refuses the text, or the value is not finite there), EXPECTED (the differences listed in EXPECTED, which are
not the derivatives' reading: casts, random values, PyTorch's polygamma). Before session 24 every text was refused.
"""
from __future__ import annotations

import ast
import sys
import time
from collections import Counter

import numpy as np

from fuzzkit import differ, summary

TEMPLATES = {
    "jax": ["jax.grad(lambda t: jnp.sum(jnp.NAME(t) * t))(x)", "jax.hessian(lambda t: jnp.sum(jnp.NAME(t)))(x)"],
    "torch": ["y = (torch.NAME(x) * x).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\ng",
              "torch.func.hessian(lambda t: torch.NAME(t).sum())(x)"],
}


# differences that are not the derivatives' reading, documented elsewhere: counted as EXPECTED, not compared
EXPECTED = {
    "float16": "a cast: jac computes in one dtype per run (x.float() of a float64 run stays float64)",
    "bfloat16": "a cast (as float16)", "float32": "a cast (as float16)",
    "empty_like": "uninitialised values", "rand_like": "random values", "randn_like": "random values",
    "digamma": "PyTorch's CPU trigamma is off by up to 5e-10 relative (grads22_sweep.py)",
    "lgamma": "PyTorch's polygamma, as digamma's",
}


def names(library: str) -> list:
    """The functions of one array that jac reads under the library's spelling and the library has."""
    from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS
    if library == "jax":
        import jax.numpy as module
        keys = {n for (lib, n) in LIBRARY_FUNCTIONS if lib == "numpy"} | set(FUNCTIONS)
    else:
        import torch as module
        keys = {n for (lib, n) in LIBRARY_FUNCTIONS if lib == "torch"} | set(FUNCTIONS)
    return sorted(n for n in keys if not n.startswith("_") and callable(getattr(module, n, None)))


def reference(library: str, text: str, x: np.ndarray):
    """(value, Jacobian by x) of ``text`` run by the library, or None where it refuses."""
    tree = ast.parse(text)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)
    if library == "jax":
        import jax
        import jax.numpy as jnp

        def f(t):
            scope = {"jax": jax, "jnp": jnp, "x": t}
            exec(compile(body, "<t>", "exec"), scope)  # noqa: S102 - the sweep's own texts
            return jnp.asarray(eval(compile(last, "<t>", "eval"), scope), dtype=jnp.float64)  # noqa: S307

        t = jnp.asarray(x)
        return np.asarray(f(t)), np.asarray(jax.jacrev(f)(t))
    import torch

    def g(t):
        scope = {"torch": torch, "x": t}
        exec(compile(body, "<t>", "exec"), scope)  # noqa: S102
        return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307

    t = torch.tensor(x, requires_grad=True)
    value = g(t)
    return value.detach().numpy(), torch.autograd.functional.jacobian(g, t).numpy()


def _vector(rng) -> np.ndarray:
    return np.sort(rng.uniform(0.2, 0.9, 3))


def main(argv: list, templates: dict = TEMPLATES, draw=_vector) -> None:
    """Run the sweep over ``templates`` ({library: [text with NAME]}; vjp25_sweep.py and vmap25_sweep.py give their
    own), ``x`` drawn by ``draw(rng)`` (here a sorted 3-vector; vmap25_sweep.py a (4, 3) matrix)."""
    libraries = [a for a in argv if a in templates] or list(templates)
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    verbose = "-v" in argv
    if "jax" in libraries:
        import jax
        jax.config.update("jax_enable_x64", True)
    import torch
    torch.set_default_dtype(torch.float64)
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    counts, refused = Counter(), Counter()
    start = time.monotonic()
    for library in libraries:
        for name in names(library):
            for template in templates[library]:
                text = template.replace("NAME", name)
                if only and only not in text:
                    continue
                if name in EXPECTED:
                    counts["EXPECTED"] += 1
                    continue
                rng = np.random.default_rng(sum(map(ord, text)) * 7919 + len(text))  # per text: -k re-runs it alone
                x = draw(rng)
                try:
                    ref = reference(library, text, x)
                except Exception:  # noqa: BLE001 - the library refuses the text (a function of two arrays...)
                    counts["SKIPPED"] += 1
                    continue
                if not np.isfinite(ref[0]).all():
                    counts["SKIPPED"] += 1
                    continue
                try:
                    value = api.evaluate(text, {"x": x})
                    jac = api.jacobian(text, {"x": x})["x"]
                except JacError as err:
                    counts["REFUSED"] += 1
                    refused[str(err).split("\n")[0][:110]] += 1
                    if verbose:
                        print(f"REFUSED {text!r}: {err}")
                    continue
                except Exception as err:  # noqa: BLE001 - what the sweep looks for
                    counts["CRASH"] += 1
                    print(f"CRASH {text!r}: {type(err).__name__}: {err}")
                    continue
                wrong = differ(value, ref[0], None, "float64") or differ(jac, ref[1], None, "float64",
                                                                          derivative=True)
                if wrong:
                    counts["WRONG"] += 1
                    print(f"WRONG {text!r} at x={x.tolist()}: {wrong}")
                else:
                    counts["AGREE"] += 1
    summary(refused, counts, ', '.join(libraries), start,
            ("AGREE", "WRONG", "REFUSED", "CRASH", "EXPECTED", "SKIPPED"))


if __name__ == "__main__":
    main(sys.argv[1:])
