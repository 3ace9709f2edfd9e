"""vmap and JAX's loops written in the text: every one-array function jac reads under ``jnp.`` (and ``torch.``),
put inside ``jax.vmap`` / ``jax.lax.map`` / ``jax.lax.scan`` / ``jax.lax.fori_loop`` (and ``torch.func.vmap``, with
``grad`` inside), run by jac and by the library itself; the value AND jac's Jacobian of it compared.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/vmap25_sweep.py [jax | torch] [-k SUBSTRING] [-v]

Templates (``NAME`` each function; ``x`` uniform(0.2, 0.9), shape (4, 3), seeded per text), run by
grad24_sweep.py's loop and ``reference`` (the value against the library's in float64, jac's Jacobian against ``jax.jacrev``
/ ``torch.autograd.functional.jacobian`` of the same text as a function of x); its ``names`` and ``EXPECTED``
(casts, random values, PyTorch's polygamma) and fuzzkit's tolerance. Counts: AGREE, WRONG (must be none), REFUSED
(the library answers, jac refuses with a JacError), CRASH (not a JacError: must be none), SKIPPED (the library
refuses the text, or its value is not finite), EXPECTED. Before session 25 every text was refused.
"""
from __future__ import annotations

import sys

import numpy as np

from grad24_sweep import main

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


def _matrix(rng) -> np.ndarray:
    return rng.uniform(0.2, 0.9, (4, 3))


if __name__ == "__main__":
    main(sys.argv[1:], TEMPLATES, _matrix)
