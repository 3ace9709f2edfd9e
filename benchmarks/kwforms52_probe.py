"""The keyword spellings people paste, on the most everyday names (session 52).

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/kwforms52_probe.py [--top 60] [--jax] [--list])

vocab41_probe's typical argument lists are mostly positional. This probe takes the first ``--top`` names of its
``EVERYDAY`` ranking and calls each, in every namespace that has it (``torch.``, ``F.``, ``torch.linalg.``,
``torch.special.``, the ``torch.Tensor`` method, ``np.``, ``np.linalg.``; with ``--jax`` also ``jnp.`` and
``jax.nn.``), with the keyword forms of ``FORMS``: a negative ``dim`` / ``axis``, a tuple of them, ``None``,
``keepdim`` / ``keepdims`` with each, ``dtype=`` the float64 of the library, ``input=`` / ``a=`` / ``x=`` named
operands, and ``out=``. The library runs each text first (vocab41_probe's ``reference``: a floating result that
depends on an input); jac then runs it (``api.evaluate``, ``api.jacobian``) and each text is one of:

- ``AGREE``: value and Jacobian as the library's (vocab41_probe's tolerances);
- ``WRONG`` / ``CRASH`` / ``LIBDIFF``: as vocab41_probe;
- ``REFUSED``: jac refuses a text the library answers (listed with the message);
- ``BOTH-REFUSE``: the library raises and jac refuses;
- ``JAC-ANSWERS``: the library raises and jac answers (listed);
- ``OUT``: an ``out=`` text: what jac says (PyTorch raises for ``out=`` of a tensor that requires grad; NumPy
  writes the array given), listed with the message.

A text neither the library answers with a differentiable result nor raises on (an integer result) is not counted.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import vocab41_probe as v41  # noqa: E402
from fuzzkit import with_timeout  # noqa: E402

FORMS = [
    ["M", "AX=-1"], ["M", "AX=-2"], ["M", "AX=(0, 1)"], ["M", "AX=(-1,)"], ["M", "AX=None"],
    ["M", "AX=-1", "KEEP=True"], ["M", "AX=(0, 1)", "KEEP=True"], ["M", "AX=None", "KEEP=True"],
    ["M", "AX=1", "KEEP=False"], ["x", "AX=-1"], ["X3", "AX=-1"], ["X3", "AX=(-1, -2)"],
    ["M", "dtype=DT"], ["M", "AX=0", "dtype=DT"], ["M", "AX=-1", "KEEP=True", "dtype=DT"],
    ["ONE=M"], ["ONE=x", "TWO=y"], ["ONE=A", "TWO=B"], ["ONE=M", "AX=-1"],
    ["M", "out=OUT"], ["x", "y", "out=OUT"], ["A", "B", "out=OUT"], ["M", "AX=-1", "out=OUT"],
]
DT = {"torch": "torch.float64", "numpy": "np.float64", "jax": "jnp.float64"}
OUT = {"torch": "torch.empty(0, dtype=torch.float64)", "numpy": "np.empty(3)", "jax": "jnp.empty(3)"}
ONE_TWO = {"torch": ("input", "other"), "numpy": ("a", "b"), "jax": ("a", "b")}


def render(args: list, lib: str, method: bool) -> str:
    ax, keep = ("dim", "keepdim") if lib == "torch" else ("axis", "keepdims")
    one, two = ONE_TWO[lib]
    out = []
    for a in args:
        a = a.replace("AX=", f"{ax}=").replace("KEEP=", f"{keep}=").replace("DT", DT[lib]).replace("OUT", OUT[lib])
        out.append(a.replace("ONE=", f"{one}=").replace("TWO=", f"{two}="))
    return ", ".join(out)


def text_of(prefix, name: str, args: list, lib: str) -> str | None:
    if prefix is not None:
        return f"{prefix}{name}({render(args, lib, False)})"
    if "=" in args[0]:
        return None  # a method's operand is its tensor
    return f"{args[0]}.{name}({render(args[1:], lib, True)})"


def spellings(use_jax: bool) -> list:
    import numpy as np
    import torch
    import torch.nn.functional as F

    out = [("torch", "torch", torch, "torch."), ("F", "torch", F, "F."), ("torch.linalg", "torch", torch.linalg,
           "torch.linalg."), ("torch.special", "torch", torch.special, "torch.special."),
           ("Tensor methods", "torch", torch.Tensor, None), ("np", "numpy", np, "np."),
           ("np.linalg", "numpy", np.linalg, "np.linalg.")]
    if use_jax:
        import jax.nn
        import jax.numpy as jnp
        out += [("jnp", "jax", jnp, "jnp."), ("jax.nn", "jax", jax.nn, "jax.nn.")]
    return out


def library_raises(lib: str, text: str, names: list) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v41.library_value(lib, text, names, v41.as_inputs(lib, names, grad=True))
    except Exception:  # noqa: BLE001 - the library refuses the text
        return True
    return False


def jac_refuses(lib: str, text: str, names: list):
    """jac's message when it refuses ``text``, else None (a crash: the exception's text, prefixed)."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    try:
        api.jacobian(v41.HEADS[lib] + text, {n: v41.INPUTS[n] for n in names}, wrt=names)
    except JacError as err:
        return err.message.split("\n")[0]
    except Exception as err:  # noqa: BLE001
        return f"CRASH {type(err).__name__}: {err}"[:200]
    return None


def run_text(lib: str, text: str, names: list) -> tuple:
    if "out=" in text:
        said = jac_refuses(lib, text, names)
        return ("OUT", said or "answered")
    try:
        found = with_timeout(v41.reference, lib, text, names, seconds=20)
    except Exception:  # noqa: BLE001 - the library refuses the text
        said = jac_refuses(lib, text, names)
        if said is None:
            return ("JAC-ANSWERS", "")
        return ("CRASH", said) if said.startswith("CRASH") else ("BOTH-REFUSE", said)
    if not found or found == ("CRASH", "timeout"):
        return None
    for item_text, value, jacs in found:
        verdict, why = with_timeout(v41.jac_answer, lib, item_text, names, value, jacs, seconds=30)
        if verdict != "ANSWERED":
            return verdict, why
    return ("AGREE", "")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--jax", action="store_true", help="also jnp. and jax.nn. (JAX traces each: slow)")
    parser.add_argument("--list", action="store_true", help="every AGREE text too")
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    import jax
    jax.config.update("jax_enable_x64", True)
    start = time.monotonic()
    top = v41.EVERYDAY[:opts.top]
    totals = Counter()
    for label, lib, module, prefix in spellings(opts.jax):
        counts = Counter()
        for name in top:
            if not callable(getattr(module, name, None)):
                continue
            for args in FORMS:
                text = text_of(prefix, name, args, lib)
                if text is None:
                    continue
                out = run_text(lib, text, v41.used(args))
                if out is None:
                    continue
                counts[out[0]] += 1
                if out[0] != "AGREE" and out[0] != "BOTH-REFUSE" or opts.list:
                    print(f"  {out[0]:11s} {label:14s} {text}" + (f"\n      {out[1][:160]}" if out[1] else ""),
                          flush=True)
        totals.update(counts)
        print(f"{label}: " + ", ".join(f"{k} {counts[k]}" for k in sorted(counts)), flush=True)
    print(f"\nall: " + ", ".join(f"{k} {totals[k]}" for k in sorted(totals)) + f" ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
