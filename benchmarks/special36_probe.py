"""Every public name of scipy.special, torch.special and jax.scipy.special: read, refused saying why, refused bare
(session 36).

    PYTHONPATH=. /work/venv/bin/python benchmarks/special36_probe.py [--list]

For each public callable (``dir()``: no classes, no submodules) jac parses ``MODULE.NAME(x)``, ``NAME(x, x)`` and
``NAME(x, x, x)`` with x = [0.3, 0.5, 0.7]. A name is
- ``read`` when one count gives a value or an error that is not about the name (a wrong argument, a value refused
  at these points saying why);
- ``why`` when every count is refused by name and some message says why (complex-valued, no derivative formula,
  an object rather than an array, ...);
- ``bare`` when every count is refused with only "not supported by jac" / "unknown function" and the list of what
  jac reads;
- ``crash``: an exception that is no JacError (a bug).
Prints the counts per module; ``--list`` lists the names of each class.
"""

from __future__ import annotations

import argparse
import inspect
import re

import numpy as np

# a name refused with only these words (and jac's list of what it reads, or a "did you mean") says no reason
BARE = re.compile(r"^'[\w.]+' is not supported by jac \(of [\w.]+, jac reads \d+ functions|"
                  r"^unknown function '[\w.]+'|^the function '[\w.]+' is not supported by jac$")


def public(module) -> list:
    out = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name, None)
        if callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj):
            out.append(name)
    return sorted(out)


def outcome(module: str, name: str) -> tuple:
    from jacobi_cli.errors import JacError, JacNameError
    from jacobi_cli.tools import api

    head = "import torch, torch.special, scipy.special, jax.scipy.special\n"
    kinds = []
    for count in (1, 2, 3):
        text = f"{head}{module}.{name}({', '.join(['x'] * count)})"
        try:
            api.evaluate(text, {"x": np.array([0.3, 0.5, 0.7])})
        except JacError as err:
            msg = err.message.split("\n")[0]
            if isinstance(err, JacNameError) or "not supported by jac" in msg or "unknown function" in msg:
                kinds.append(("bare" if BARE.search(msg) else "why", msg))
                continue
            return "read", msg
        except Exception as err:  # noqa: BLE001 - a crash is a bug to report
            return "crash", f"{type(err).__name__}: {err}"
        return "read", ""
    why = [k for k in kinds if k[0] == "why"]
    return why[0] if why else kinds[0]


def main() -> int:
    import jax.scipy.special
    import scipy.special
    import torch.special

    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    opts = parser.parse_args()
    total = {"read": 0, "why": 0, "bare": 0, "crash": 0}
    for label, mod in (("scipy.special", scipy.special), ("torch.special", torch.special),
                       ("jax.scipy.special", jax.scipy.special)):
        found: dict = {"read": [], "why": [], "bare": [], "crash": []}
        names = public(mod)
        for name in names:
            kind, msg = outcome(label, name)
            found[kind].append((name, msg))
        for k in total:
            total[k] += len(found[k])
        print(f"{label}: {len(names)} names: read {len(found['read'])}, refused saying why {len(found['why'])}, "
              f"refused bare {len(found['bare'])}, crash {len(found['crash'])}")
        for kind in ("bare", "crash", "why", "read"):
            if found[kind] and (opts.list or kind in ("bare", "crash")):
                print(f"  {kind} ({len(found[kind])}): " + " ".join(n for n, _ in found[kind]))
            if kind == "crash":
                for n, m in found[kind]:
                    print(f"    {n}: {m[:160]}")
    print("total: " + ", ".join(f"{k} {v}" for k, v in total.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
