"""Odd ranks and odd arguments: every function of a PyTorch module that jac reads, called with arrays of 0 to 3
dimensions (and empty ones) and ten argument patterns, through PyTorch (or NumPy) and through jac.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/ranks21_sweep.py [torch | F | torch.linalg | torch.special | np | np.linalg]

Prints CRASH (jac's internal error: must be none), WRONG (both answer, the values or shapes differ; PyTorch's
random and uninitialised constructors are expected there) and LENIENT (PyTorch refuses, jac answers: mostly a
number where PyTorch wants a tensor, or an int for a bool; read them for a reading that is not PyTorch's).
The twenty-first session's run found 7 crashes, torch.<loss> read as F's, torch.adaptive_max_pool1d's pair
and msort of a 0-d array (tests/test_trust21.py).
"""
import sys
import warnings

import numpy as np
import torch

warnings.simplefilter("ignore")
from jacobi_cli.tools import api
from jacobi_cli.errors import JacError
from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS
rng = np.random.default_rng(7)
mod = sys.argv[1] if len(sys.argv) > 1 else "torch"
lib = {"torch": torch, "F": torch.nn.functional, "torch.linalg": torch.linalg, "torch.special": torch.special,
       "np": np, "np.linalg": np.linalg}[mod]
library = "numpy" if mod.startswith("np") else "torch"
names = sorted(n for n in dir(lib) if not n.startswith("_") and callable(getattr(lib, n))
               and (n in FUNCTIONS or (library, n) in LIBRARY_FUNCTIONS or (mod, n) in LIBRARY_FUNCTIONS
                    or ("torch.linalg", n) in LIBRARY_FUNCTIONS))
convert = (lambda v: v) if library == "numpy" else torch.tensor
shapes = [(), (3,), (2, 3), (3, 3), (2, 3, 4), (0,), (2, 0)]
argsets = ["x", "x, y", "x, 1", "x, 0", "x, -1", "x, 2", "x, y, z", "x, dim=0", "x, dim=-1", "x, 1, 2"] + \
    (["x, axis=0", "x, axis=-1", "x, axis=(0, 1)", "x, keepdims=True"] if library == "numpy" else [])
lenient, wrong = [], []
for n in names:
    for args in argsets:
        for shp in shapes:
            x = rng.uniform(0.2, 0.9, shp); y = rng.uniform(0.2, 0.9, shp); z = rng.uniform(0.2, 0.9, shp)
            text = f"{mod}.{n}({args})"
            try:
                t = eval(text, {"torch": torch, "F": torch.nn.functional, "np": np},
                         {k: convert(v) for k, v in (("x", x), ("y", y), ("z", z))})
                if isinstance(t, (tuple, list)) or not isinstance(t, (torch.Tensor, np.ndarray, np.generic, float, int,
                                                                      bool)):
                    continue
                t = np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t, dtype=float)
                terr = None
            except Exception as e:
                t, terr = None, str(e)[:60]
            b = {k: v for k, v in (("x", x), ("y", y), ("z", z)) if k in args.replace("dim", "")}
            try:
                j = api.evaluate(text, b)
                if isinstance(j, tuple): continue
                j = np.asarray(j, dtype=float); jerr = None
            except JacError as e:
                j, jerr = None, str(e)
            except Exception as e:
                print("CRASH", text, shp, type(e).__name__, e); continue
            if t is None and j is not None:
                lenient.append((text, shp, terr))
            elif t is not None and j is not None:
                if t.shape != j.shape or not np.allclose(t, j, rtol=1e-6, atol=1e-9, equal_nan=True):
                    wrong.append((text, shp, t.shape, j.shape))
for w in wrong: print("WRONG", *w)
seen = set()
for l in lenient:
    if (l[0]) in seen: continue
    seen.add(l[0]); print("LENIENT", *l)
