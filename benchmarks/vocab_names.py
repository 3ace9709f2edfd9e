"""Which public names of PyTorch and NumPy jac still refuses by name ("not supported by jac").

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/vocab_names.py [--list]

For each public callable of ``torch``, ``torch.nn.functional``, ``torch.linalg``, ``torch.special``, ``numpy``
and ``numpy.linalg`` (from ``dir()``: no classes, no dtypes, no submodules, no in-place ``name_``), jac parses
``MODULE.NAME(x)`` with a vector x: a name jac does not know is refused with "not supported by jac"; any other
outcome (a value, a wrong-argument error, a refusal that says why) means jac knows the name. Prints the refused
names per module, in rough categories (random, complex and fft, sparse and quantized, distributed and device,
configuration and introspection, string and I/O, the rest), and the counts.
"""

from __future__ import annotations

import argparse
import inspect
import re

import numpy as np

CATEGORIES = [  # (category, pattern of names), first match wins
    ("random", r"rand|normal|bernoulli|multinomial|poisson|binomial|seed|rng|shuffle|permutation|choice|dropout"),
    ("complex / fft", r"complex|fft|polar|view_as_real|imag$|conj_|^is_conj|^is_neg|stft|istft|window"),
    ("sparse / quantized / storage", r"sparse|quant|q_|_qparams|fbgemm|mkldnn|storage|nested|bsr|bsc|csr|csc|coo|"
                                     r"indices|pin_memory|packbits|strided|int_repr|dequant"),
    ("device / distributed / compile", r"cuda|mps|xpu|device|distributed|compile|jit|vmap|export|cpu|autocast|"
                                       r"cudnn|miopen|vulkan|fork|wait|sym_|_assert|dlpack|thread"),
    ("configuration / introspection", r"^set_|^get_|^is_|^are_|^use_|enabled|printoptions|show_|^typename|"
                                      r"^result_type|^promote|^can_cast|^min_scalar|^common_type|^iinfo|^finfo|"
                                      r"^info|^isdtype|^issub|^may_share|^shares_memory|^errstate|err$|errcall|"
                                      r"bufsize|^obj2sctype|^sctype|typecodes|deterministic|^isscalar|^iterable|"
                                      r"^ndim$|^shape$|^size$"),
    ("strings / I/O / dates", r"str|repr|save|load|txt|file|buffer|busday|datetime|fromregex|genfromtxt|format|"
                              r"char|bytes|memmap|base_repr|binary_repr"),
]


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


def category(name: str) -> str:
    for label, pattern in CATEGORIES:
        if re.search(pattern, name):
            return label
    return "the rest"


def refused(spelling: str, name: str) -> bool:
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    try:
        api.evaluate(f"{spelling}.{name}(x)", {"x": np.array([0.5, 1.5, 2.5])})
    except JacError as err:
        return "not supported by jac" in err.message or "is not a known" in err.message
    except Exception:  # noqa: BLE001 - a crash is a known name that went wrong: the sweeps find those
        return False
    return False


def main() -> int:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="every refused name, not only the counts")
    opts = parser.parse_args()
    modules = [("torch", torch), ("F", torch.nn.functional), ("torch.linalg", torch.linalg),
               ("torch.special", torch.special), ("np", np), ("np.linalg", np.linalg)]
    total: dict = {}
    for spelling, module in modules:
        names = public(module)
        missing = [n for n in names if refused(spelling, n)]
        by: dict = {}
        for n in missing:
            by.setdefault(category(n), []).append(n)
        print(f"{spelling}: {len(missing)} of {len(names)} public callables refused by name")
        for label, _ in CATEGORIES + [("the rest", "")]:
            if label in by:
                total[label] = total.get(label, 0) + len(by[label])
                shown = " ".join(by[label]) if opts.list or label == "the rest" else f"{len(by[label])} names"
                print(f"  {label} ({len(by[label])}): {shown}")
    print("all modules: " + ", ".join(f"{k} {v}" for k, v in total.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
