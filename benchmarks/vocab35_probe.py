"""How jac answers each public name users paste: read, refused saying why, or refused bare (session 35).

    PYTHONPATH=. /work/venv/bin/python benchmarks/vocab35_probe.py [--list] [--only MODULE]

For every public callable of ``torch``, ``torch.nn.functional``, ``torch.linalg``, ``torch.special``, ``numpy``,
``numpy.linalg``, ``jax.numpy``, ``jax.nn``, ``jax.lax`` (from ``dir()``: no classes, no submodules) jac parses
``MODULE.NAME(x)`` with a vector x; for every public method of ``torch.Tensor`` and ``numpy.ndarray`` it parses
``x.NAME()``. Each outcome is one of
- ``read``: a value, or an error that is not about the name (a wrong argument, a shape, a value refused saying
  why, as F.dropout's randomness);
- ``why``: refused by name (a name error, or "not supported" / "unknown") with a reason: the message says more;
- ``bare``: refused by name with no reason ("the function 'torch.X' is not supported by jac", "unknown ...");
- ``crash``: an exception that is no JacError.
Prints the counts per module; ``--list`` also lists the ``bare`` and ``crash`` names (and the ``why`` ones).
"""

from __future__ import annotations

import argparse
import inspect
import re

import numpy as np

BARE = [r"^the function '[\w.]+' is not supported by jac$", r"^unknown function '[\w.]+'$",
        r"^unknown method '\.\w+\(\)'$", r"^the method '\.\w+\(\)' is not supported by jac$",
        r"^'[\w.]+' is not supported by jac$", r"^unknown function '[\w.]+'[^(]*$"]


def public(module) -> list:
    out = []
    for name in dir(module):
        if name.startswith("_") or name.endswith("_"):
            continue
        obj = getattr(module, name, None)
        if inspect.ismodule(obj) or inspect.isclass(obj) or not callable(obj):
            continue
        out.append(name)
    return sorted(out)


def outcome(text: str) -> tuple:
    from jacobi_cli.errors import JacError, JacNameError
    from jacobi_cli.tools import api

    try:
        api.evaluate(text, {"x": np.array([0.5, 1.5, 2.5])})
    except JacError as err:
        msg = err.message.split("\n")[0]
        if isinstance(err, JacNameError) or "not supported by jac" in msg or "unknown" in msg:
            core = re.sub(r"\s*\(did you mean[^)]*\)\??$|;? ?did you mean .*$", "", msg).strip()
            return ("bare" if any(re.match(p, core) for p in BARE) else "why"), msg
        return "read", msg
    except Exception as err:  # noqa: BLE001 - a crash is a bug to report
        return "crash", f"{type(err).__name__}: {err}"
    return "read", ""


def targets() -> list:
    import jax
    import jax.lax
    import jax.nn
    import jax.numpy as jnp
    import torch

    head = "import torch, torch.nn.functional as F, numpy as np, jax, jax.numpy as jnp, jax.nn, jax.lax\n"
    mods = [("torch", torch), ("F", torch.nn.functional), ("torch.linalg", torch.linalg),
            ("torch.special", torch.special), ("np", np), ("np.linalg", np.linalg), ("jnp", jnp),
            ("jax.nn", jax.nn), ("jax.lax", jax.lax)]
    out = [(m, [(n, f"{head}{m}.{n}(x)") for n in public(mod)]) for m, mod in mods]
    tensor = [n for n in public(torch.Tensor)]
    out.append(("Tensor methods", [(n, f"import torch\nx = torch.as_tensor(x)\nx.{n}()") for n in tensor]))
    ndarray = [n for n in public(np.ndarray)]
    out.append(("ndarray methods", [(n, f"import numpy as np\nx = np.asarray(x)\nx.{n}()") for n in ndarray]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--only", default=None)
    opts = parser.parse_args()
    for label, items in targets():
        if opts.only and label != opts.only:
            continue
        found: dict = {"read": [], "why": [], "bare": [], "crash": []}
        for name, text in items:
            kind, msg = outcome(text)
            found[kind].append((name, msg))
        print(f"{label}: {len(items)} names: read {len(found['read'])}, refused saying why {len(found['why'])}, "
              f"refused bare {len(found['bare'])}, crash {len(found['crash'])}")
        for kind in ("bare", "crash") + (("why",) if opts.list else ()):
            if found[kind] and (opts.list or kind == "crash"):
                print(f"  {kind}: " + " ".join(n for n, _ in found[kind]))
            if kind == "crash":
                for n, m in found[kind]:
                    print(f"    {n}: {m[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
