"""Each library's own keyword names: every name of jac's vocabulary, with each keyword spelling jac accepts (session 53).

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/kwforms53_probe.py [--only NS ...] [--list])

kwforms52_probe asks 60 everyday names; this probe asks every public callable of ``torch``, ``F``,
``torch.linalg``, ``torch.special``, the ``torch.Tensor`` methods, ``np``, ``np.linalg``, ``scipy.special``,
``jnp``, ``jnp.linalg``, ``jax.nn`` and ``jax.scipy.special`` (vocab_names.py's, jax_vocab_names.py's and
scipy_vocab_names.py's lists: ``dir()`` without classes, modules, in-place ``name_``; no random names), each with
every keyword jac's shared aliases read (``functions.ALIASES``, ``SECOND_ALIASES``: ``dim axis dims axes keepdim
keepdims input x a x1 other y b x2 exponent p ord a_min a_max min max``, and ``dtype``).

A name is asked where its base call answers in the library and in jac: ``NAME(A)`` (a method: ``A.NAME()``) or
``NAME(A, B)`` (``A.NAME(B)``). Each keyword then makes one text from each base that answered: the first operand
by keyword (``NAME(input=A)``, ``NAME(x=A)``, ...; from the one-operand base), the second by keyword
(``NAME(A, other=B)``, ...; from the two-operand base, and a method's ``A.NAME(other=B)``), any other keyword beside
the base's operands (``NAME(A, dim=-1)``, ``NAME(A, B, dtype=...)``). The library runs each text (answers or
raises: its own types, no derivative); jac runs it (``api.evaluate``: answers or refuses). Each text is one of:

- ``BOTH-ANSWER`` / ``BOTH-RAISE``: jac does as the library;
- ``JAC-ANSWERS``: the library raises and jac answers (listed: the library's message);
- ``REFUSED``: the library answers and jac refuses (listed: jac's message);
- ``CRASH``: jac raised an exception that is no JacError (listed).

Values are not compared here (kwforms52_probe and vocab41_probe compare them): a keyword read as another parameter
than the library's shows as a raise on one side. Prints the counts per namespace and in all.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections import Counter

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import vocab41_probe as v41  # noqa: E402
from fuzzkit import with_timeout  # noqa: E402

FIRST = ("input", "x", "a", "x1")  # the first operand by keyword
SECOND = ("other", "y", "b", "x2", "exponent")  # the second
VALUED = {"dim": "-1", "axis": "-1", "dims": "(-1,)", "axes": "(-1,)", "keepdim": "True", "keepdims": "True",
          "p": "2", "ord": "2", "a_min": "0.25", "a_max": "0.75", "min": "0.25", "max": "0.75", "dtype": "DT"}
DT = {"torch": "torch.float64", "numpy": "np.float64", "jax": "jnp.float64"}
HEADS = {"torch": "import torch\nimport torch.nn.functional as F\n",
         "numpy": "import numpy as np\nimport scipy.special\n",
         "jax": "import jax\nimport jax.numpy as jnp\nimport jax.nn\nimport jax.scipy.special\n"}
SKIP = re.compile(v41.SKIP.pattern + r"|^empty|^new_empty|^set_|^is_|^get_|^save|^load|^fill|^zero_$|^resize|"
                  r"^record_stream|^share_memory|^pin_memory|^storage|^data_ptr|^register|^retain|^backward$|"
                  r"^requires_grad_|^to_|^numpy$|^tolist$|^item$|^cpu$|^cuda|^apply_|^map_|^untyped|^element_size")


def namespaces() -> list:
    import jax.nn
    import jax.numpy as jnp
    import jax.scipy.special
    import scipy.special
    import torch
    import torch.nn.functional as F

    return [("torch", "torch", torch, "torch."), ("F", "torch", F, "F."),
            ("torch.linalg", "torch", torch.linalg, "torch.linalg."),
            ("torch.special", "torch", torch.special, "torch.special."),
            ("Tensor methods", "torch", torch.Tensor, None),
            ("np", "numpy", np, "np."), ("np.linalg", "numpy", np.linalg, "np.linalg."),
            ("scipy.special", "numpy", scipy.special, "scipy.special."),
            ("jnp", "jax", jnp, "jnp."), ("jnp.linalg", "jax", jnp.linalg, "jnp.linalg."),
            ("jax.nn", "jax", jax.nn, "jax.nn."), ("jax.scipy.special", "jax", jax.scipy.special,
                                                    "jax.scipy.special.")]


def public(module) -> list:
    import inspect
    out = []
    for name in dir(module):
        if name.startswith("_") or name.endswith("_") or SKIP.search(name):
            continue
        obj = getattr(module, name, None)
        if obj is None or inspect.ismodule(obj) or inspect.isclass(obj) or not callable(obj):
            continue
        out.append(name)
    return sorted(out)


def scope(values: dict) -> dict:
    import jax
    import jax.nn
    import jax.numpy as jnp
    import jax.scipy.special
    import scipy
    import scipy.special
    import torch
    import torch.nn.functional as F

    return {"torch": torch, "F": F, "np": np, "jax": jax, "jnp": jnp, "scipy": scipy, **values}


def library_answers(lib: str, text: str, names: list):
    """None where the library answers ``text``, else its exception's first line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(text, scope(v41.as_inputs(lib, names, grad=True)))  # noqa: S307 - the probe's own texts
    except Exception as err:  # noqa: BLE001 - the library refuses the text
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:200]
    return None


def jac_answers(lib: str, text: str, names: list):
    """None where jac answers, else ("REFUSED", message) or ("CRASH", message)."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api.evaluate(HEADS[lib] + text, {n: v41.INPUTS[n] for n in names})
    except JacError as err:
        return ("REFUSED", err.message.split("\n")[0][:200])
    except Exception as err:  # noqa: BLE001 - what the probe looks for
        return ("CRASH", f"{type(err).__name__}: {err}"[:200])
    return None


def both(lib: str, text: str, names: list) -> tuple:
    """(the library's error or None, jac's (kind, message) or None), each under a timeout."""
    theirs = with_timeout(library_answers, lib, text, names, seconds=20)
    if theirs == ("CRASH", "timeout"):
        theirs = "timeout"
    ours = with_timeout(jac_answers, lib, text, names, seconds=30)
    return theirs, ours


def call(prefix, name: str, operands: list, keyword: str = "") -> str:
    if prefix is None:
        return f"{operands[0]}.{name}({', '.join(operands[1:] + ([keyword] if keyword else []))})"
    return f"{prefix}{name}({', '.join(operands + ([keyword] if keyword else []))})"


def texts(prefix, name: str, lib: str, bases: list) -> list:
    """[(keyword, text, names)] of the keyword forms from the bases that answered."""
    out = []
    for operands in bases:
        for k, v in VALUED.items():
            out.append((k, call(prefix, name, operands, f"{k}={v.replace('DT', DT[lib])}"), operands))
        if len(operands) == 1 and prefix is not None:
            out += [(k, f"{prefix}{name}({k}=A)", ["A"]) for k in FIRST]
        if len(operands) == 2:
            out += [(k, call(prefix, name, operands[:1], f"{k}=B"), operands) for k in SECOND]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="namespaces by label (torch F np jnp jax.nn ...)")
    parser.add_argument("--names", help="only these names, comma-separated")
    parser.add_argument("--list", action="store_true", help="every BOTH-ANSWER text too")
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    import jax
    jax.config.update("jax_enable_x64", True)
    start = time.monotonic()
    totals = Counter()
    wanted = None if not opts.names else set(opts.names.split(","))
    for label, lib, module, prefix in namespaces():
        if opts.only and label not in opts.only:
            continue
        counts = Counter()
        asked = 0
        for name in public(module):
            if wanted is not None and name not in wanted:
                continue
            bases = []
            for operands in (["A"], ["A", "B"]):
                text = call(prefix, name, operands)
                theirs, ours = both(lib, text, operands)
                if theirs is None and ours is None:
                    bases.append(operands)
            if not bases:
                continue
            asked += 1
            for k, text, names in texts(prefix, name, lib, bases):
                theirs, ours = both(lib, text, names)
                if theirs == "timeout":
                    continue
                if ours is not None and ours[0] == "CRASH":
                    verdict, why = "CRASH", ours[1]
                elif theirs is None:
                    verdict, why = ("BOTH-ANSWER", "") if ours is None else ("REFUSED", ours[1])
                else:
                    verdict, why = ("BOTH-RAISE", "") if ours is not None else ("JAC-ANSWERS", theirs)
                counts[verdict] += 1
                if verdict not in ("BOTH-ANSWER", "BOTH-RAISE") or opts.list and verdict == "BOTH-ANSWER":
                    print(f"  {verdict:11s} {label:14s} {text}" + (f"\n      {why[:170]}" if why else ""), flush=True)
        totals.update(counts)
        print(f"{label}: {asked} names asked; " + ", ".join(f"{k} {counts[k]}" for k in sorted(counts)), flush=True)
    print(f"\nall: " + ", ".join(f"{k} {totals[k]}" for k in sorted(totals)) + f" ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
