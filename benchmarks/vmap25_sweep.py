"""vmap and JAX's loops written in the text: every one-array function jac reads under ``jnp.`` (and ``torch.``),
put inside ``jax.vmap`` / ``jax.lax.map`` / ``jax.lax.scan`` / ``jax.lax.fori_loop`` (and ``torch.func.vmap``, with
``grad`` inside), run by jac and by the library itself; the value AND jac's Jacobian of it compared.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/vmap25_sweep.py [jax | torch] [-k SUBSTRING] [-v]

Templates (``NAME`` each function; ``x`` uniform(0.2, 0.9), shape (4, 3), seeded per text), run by
grad24_sweep.py's ``reference`` (the value against the library's in float64, jac's Jacobian against ``jax.jacrev``
/ ``torch.autograd.functional.jacobian`` of the same text as a function of x); its ``names`` and ``EXPECTED``
(casts, random values, PyTorch's polygamma) and fuzzkit's tolerance. Counts: AGREE, WRONG (must be none), REFUSED
(the library answers, jac refuses with a JacError), CRASH (not a JacError: must be none), SKIPPED (the library
refuses the text, or its value is not finite), EXPECTED. Before session 25 every text was refused.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

import numpy as np

from fuzzkit import differ
from grad24_sweep import EXPECTED, names, reference

TEMPLATES = {
    "jax": ["jax.vmap(lambda r: jnp.sum(jnp.NAME(r) * r))(x)",
            "jax.vmap(jax.grad(lambda r: jnp.sum(jnp.NAME(r) * r)), in_axes=1, out_axes=-1)(x)",
            "jax.lax.map(jnp.NAME, x)",
            "c, ys = jax.lax.scan(lambda c, r: (c * 0.5 + jnp.sum(jnp.NAME(r)), jnp.NAME(r) * c), 0.5, x)\nys + c",
            "jax.lax.fori_loop(0, 2, lambda i, v: jnp.NAME(v) * 0.5 + v * i, x)"],
    "torch": ["torch.func.vmap(lambda r: (torch.NAME(r) * r).sum())(x)",
              "torch.func.vmap(torch.func.grad(lambda r: (torch.NAME(r) * r).sum()), in_dims=(1,), out_dims=1)(x)",
              "torch.vmap(torch.NAME)(x)"],
}


def main(argv: list) -> None:
    libraries = [a for a in argv if a in TEMPLATES] or list(TEMPLATES)
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
            for template in TEMPLATES[library]:
                text = template.replace("NAME", name)
                if only and only not in text:
                    continue
                if name in EXPECTED:
                    counts["EXPECTED"] += 1
                    continue
                rng = np.random.default_rng(sum(map(ord, text)) * 7919 + len(text))  # per text: -k re-runs it alone
                x = rng.uniform(0.2, 0.9, (4, 3))
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
                    print(f"WRONG {text!r}: {wrong}")
                else:
                    counts["AGREE"] += 1
    print("\ntop refusals:")
    for message, c in refused.most_common(12):
        print(f"  {c:4d}  {message}")
    print(f"\n{', '.join(libraries)} ({time.monotonic() - start:.0f} s): "
          + ", ".join(f"{k} {counts[k]}" for k in ("AGREE", "WRONG", "REFUSED", "CRASH", "EXPECTED", "SKIPPED")))


if __name__ == "__main__":
    main(sys.argv[1:])
