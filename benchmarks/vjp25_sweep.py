"""jvp, vjp and linearize written in the text: every one-array function jac reads under ``jnp.`` (and under
``torch.``), put inside ``jax.jvp`` / ``jax.vjp`` / ``jax.linearize`` / forward-over-reverse ``jax.jvp(jax.grad(f))``
(and torch.func's), run by jac and by the library itself; the value AND jac's Jacobian of it compared (reverse over
the transform). grad24_sweep.py's function list, references, EXPECTED and loop are reused.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/vjp25_sweep.py [jax | torch] [-k SUBSTRING] [-v]

Templates (``NAME`` each function; ``x`` uniform(0.2, 0.9), shape (3,), distinct, seeded per text; the tangent or
cotangent a constant (0.5, -1.0, 1.5)). Counts as grad24_sweep.py: AGREE, WRONG (must be none), REFUSED, CRASH (must
be none), EXPECTED, SKIPPED (the library refuses the text, or the value is not finite there). Before session 25 every
text was refused.
"""
from __future__ import annotations

import sys

from grad24_sweep import main

T_JAX = "jnp.array([0.5, -1.0, 1.5])"
T_TORCH = "torch.tensor([0.5, -1.0, 1.5])"
TEMPLATES = {
    "jax": [f"jax.jvp(lambda t: jnp.NAME(t) * t, (x,), ({T_JAX},))[1]",
            f"y, f_vjp = jax.vjp(lambda t: jnp.NAME(t) * t, x)\nf_vjp({T_JAX})[0] + y",
            f"jax.jvp(jax.grad(lambda t: jnp.sum(jnp.NAME(t))), (x,), ({T_JAX},))[1]",
            f"y, f_jvp = jax.linearize(jnp.NAME, x)\nf_jvp({T_JAX}) * y"],
    "torch": [f"torch.func.jvp(lambda t: torch.NAME(t) * t, (x,), ({T_TORCH},))[1]",
              f"y, vjp_fn = torch.func.vjp(lambda t: torch.NAME(t) * t, x)\nvjp_fn({T_TORCH})[0] + y",
              f"torch.func.jvp(torch.func.grad(lambda t: torch.NAME(t).sum()), (x,), ({T_TORCH},))[1]"],
}


if __name__ == "__main__":
    main(sys.argv[1:], TEMPLATES)
