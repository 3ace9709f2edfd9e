"""Which public names of JAX jac still refuses by name ("not supported by jac"): the JAX side of vocab_names.py.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/jax_vocab_names.py [--list]

For each public callable of ``jax.numpy``, ``jax.nn``, ``jax.scipy.special``, ``jax.lax`` and ``jax.numpy.linalg``
(from ``dir()``: no classes, no submodules), jac evaluates ``MODULE.NAME(x)`` with a vector x. A name jac does not
know is refused with "not supported by jac" (or "unknown"); any other outcome (a value, a wrong-argument error, a
refusal that says why) means jac knows the name. A crash (an exception that is no JacError) is listed too, marked
``!CRASH``. Prints the count per module, and with ``--list`` the refused names.
"""

from __future__ import annotations

import argparse
import inspect

import numpy as np

HEADER = "import jax, jax.numpy as jnp, jax.nn, jax.scipy.special, jax.lax\n"


def modules() -> dict:
    import jax
    import jax.lax
    import jax.nn
    import jax.numpy as jnp
    import jax.scipy.special
    return {"jnp": jnp, "jax.nn": jax.nn, "jax.scipy.special": jax.scipy.special, "jax.lax": jax.lax,
            "jax.numpy.linalg": jnp.linalg}


def public(module) -> list:
    out = []
    for name in dir(module):
        value = getattr(module, name)
        if not name.startswith("_") and callable(value) and not inspect.isclass(value) and not inspect.ismodule(value):
            out.append(name)
    return out


def refused(prefix: str, names: list) -> list:
    """The names jac refuses by name (or crashes on), called on a vector."""
    import jacobi_cli
    from jacobi_cli.errors import JacError
    out = []
    for name in names:
        try:
            jacobi_cli.evaluate(f"{HEADER}{prefix}.{name}(x)", {"x": np.array([0.3, 0.5, 0.7])})
        except JacError as e:
            if "not supported by jac" in str(e) or "unknown" in str(e).lower():
                out.append(name)
        except Exception as e:  # noqa: BLE001 - a crash is what this script looks for
            out.append(f"{name}!CRASH:{type(e).__name__}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print the refused names too")
    args = ap.parse_args()
    for prefix, module in modules().items():
        names = public(module)
        out = refused(prefix, names)
        print(f"{prefix}: {len(out)} of {len(names)} refused by name")
        if args.list:
            print("   ", " ".join(out))


if __name__ == "__main__":
    main()
