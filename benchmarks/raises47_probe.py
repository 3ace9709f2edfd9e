"""A required argument missing or given in the wrong form (session 47): where the library named raises, jac must
refuse too (benchmarks/raises41_fuzz.py's rule: an answer to a call the library refuses is a silent surprise).

    PYTHONPATH=. python benchmarks/raises47_probe.py [--jobs 2] [--only NAME,NAME] [--show 60]

raises41_fuzz mutates the call forms the library answers; this probe asks the short forms a user writes whether
the library answers them or not, on ordinary arrays of rank 0-3 (edges35's (), (3,), (3, 3), (2, 3, 3)):

- ``f(a)``: no dim / axis / size at all (``torch.logsumexp(a)``, ``a.cumsum()``);
- a tuple where ints are expected and ints where a tuple is expected (``f(a, (0, 1))``, ``f(a, 0, 1)``,
  ``f(a, (0,))``);
- the keyword spelled the other library's way (``axis=`` to PyTorch, ``dim=`` to NumPy, ``keepdims`` beside
  ``dim=`` and ``keepdim`` beside ``axis=``).

Spellings: edges35_fuzz's (``torch.NAME``, ``F.NAME``, ``torch.linalg.NAME``, ``np.NAME``, ``np.linalg.NAME``, the
method ``a.NAME``) plus ``scipy.special.NAME`` for the names SciPy has. A method is asked three ways: in a text that
names PyTorch (``torch.as_tensor(a).NAME(...)``: PyTorch decides), in one that names NumPy (``np.asarray(a).NAME``:
NumPy decides) and bare (``a.NAME(...)``: both are asked; jac must refuse where both raise, answer the one reading
where only one answers, and answer or refuse with both readings where both answer). ``RANDOM``: the constructors
and the random family with sizes as a tuple and as ints (only the shape is compared for draws).

Categories: JAC-ANSWERS (the library raises, jac answers: the bug), WRONG (both answer, different value or shape),
FALSE-REFUSAL (the library answers, jac refuses), REFUSED-AS-LIB, AGREE, SKIP (the library's answer is no array),
CRASH (anything but a JacError). A bare method both libraries answer differently and jac refuses is
``REFUSED-AMBIGUOUS`` (the contract's rule), not a false refusal; one jac answers with one of the two readings is
``ONE-READING`` (the contract would refuse it; counted apart, not a wrong answer of the library named).
``VOCABULARY``: the library answers and jac refuses the name itself (``np.random.uniform``: "not supported by
jac"), no argument check. Exit 1 on any JAC-ANSWERS, WRONG or CRASH; ``--dump FILE`` writes every row as JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from edges35_fuzz import ORDINARY, draw, spellings  # noqa: E402
from fuzzkit import differ, with_timeout  # noqa: E402

CATEGORIES = ("AGREE", "REFUSED-AS-LIB", "REFUSED-AMBIGUOUS", "ONE-READING", "VOCABULARY", "FALSE-REFUSAL",
              "JAC-ANSWERS", "WRONG", "CRASH", "SKIP")

# the short and wrong forms, per library named: (kind, extra arguments)
TORCH_FORMS = [("bare", []), ("int", ["0"]), ("ints", ["0", "1"]), ("tuple", ["(0, 1)"]), ("tuple1", ["(0,)"]),
               ("other-keyword", ["axis=0"]), ("other-keyword", ["axis=(0, 1)"]),
               ("other-keep", ["dim=0", "keepdims=True"]), ("other-keep", ["axis=0", "keepdims=True"]),
               ("own-tuple", ["dim=(0,)"])]
NUMPY_FORMS = [("bare", []), ("int", ["0"]), ("ints", ["0", "1"]), ("tuple", ["(0, 1)"]), ("tuple1", ["(0,)"]),
               ("other-keyword", ["dim=0"]), ("other-keyword", ["dim=(0, 1)"]),
               ("other-keep", ["axis=0", "keepdim=True"]), ("other-keep", ["dim=0", "keepdim=True"]),
               ("own-tuple", ["axis=(0,)"])]

# constructors and draws: (library, text); ``a`` is an input so that there is something to differentiate
RANDOM = []
for _f in ("rand", "randn", "random", "random_sample", "standard_normal", "sample", "ranf"):
    for _size in ("(2, 3)", "2, 3", "[2, 3]", "3", "size=(2, 3)"):
        RANDOM.append(("numpy", f"np.random.{_f}({_size}) * a.sum()"))
for _f, _lead in (("uniform", ""), ("uniform", "0.0, 1.0, "), ("normal", ""), ("normal", "0.0, 1.0, "),
                  ("randint", "5, "), ("randint", "0, 5, "), ("exponential", "1.0, "), ("standard_normal", "")):
    for _size in ("(2, 3)", "size=(2, 3)", "2, 3"):
        RANDOM.append(("numpy", f"np.random.{_f}({_lead}{_size}) * a.sum()"))
for _f, _lead in (("rand", ""), ("randn", ""), ("randint", "5, "), ("randint", "0, 5, "), ("rand_like", None),
                  ("randn_like", None), ("zeros", ""), ("ones", ""), ("empty", ""), ("full", None)):
    if _lead is None:
        continue
    for _size in ("(2, 3)", "2, 3", "[2, 3]", "3", "size=(2, 3)", "(2, 3), 3"):
        RANDOM.append(("torch", f"torch.{_f}({_lead}{_size}) * a.sum()"))
for _f in ("zeros", "ones", "empty", "identity", "eye", "arange", "full", "tri"):
    for _size in ("(2, 3)", "2, 3", "[2, 3]", "3", "shape=(2, 3)"):
        if _f == "full":
            _size = _size + ", 1.5"
        RANDOM.append(("numpy", f"np.{_f}({_size}) * a.sum()"))
for _size in ("(2, 3)", "2, 3", "3", "(3,)"):
    RANDOM.append(("torch", f"torch.eye({_size}) * a.sum()"))
    RANDOM.append(("torch", f"torch.full({_size}, 1.5) * a.sum()"))
    RANDOM.append(("torch", f"torch.full(({_size}), 1.5) * a.sum()"))
# a refusal of the name itself (a name jac does not read, PyTorch's draws): vocabulary, not an argument's check
VOCABULARY_WORDS = ("not supported by jac", "which jac does not reproduce")
RANDOM_WORDS = ("rand", "normal", "uniform", "random", "sample", "ranf", "exponential", "empty")


def values_of(rank: int) -> dict:
    return {"a": draw(np.random.default_rng(0), ORDINARY[rank])}


class LibRaised(Exception):
    pass


class NotArray(Exception):
    pass


def library(lib: str, text: str, values: dict):
    """The library's array, LibRaised when it raises, NotArray for another result."""
    import scipy.special
    import torch
    import torch.nn.functional as F
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if lib == "torch":
                scope = {"torch": torch, "F": F, "np": np, **{k: torch.tensor(v) for k, v in values.items()}}
            else:
                scope = {"np": np, "scipy": scipy, "torch": torch, **{k: np.array(v) for k, v in values.items()}}
            y = eval(text, scope)  # noqa: S307
        except Exception as e:  # noqa: BLE001 - the library raising is the result here
            raise LibRaised(f"{type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}") from None
    if isinstance(y, torch.Tensor):
        try:
            return y.detach().numpy()
        except (TypeError, RuntimeError) as e:  # a dtype NumPy has not (complex32): no array to compare
            raise NotArray(str(e)[:60]) from None
    if isinstance(y, (np.ndarray, np.generic, float, int, bool)):
        return np.asarray(y)
    raise NotArray(type(y).__name__)


def jac(text: str, values: dict):
    """("ok", array) / ("refused", message) / ("crash", message)."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    try:
        y = api.evaluate(text, values)
    except JacError as e:
        return "refused", str(e).splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return "crash", f"{type(e).__name__}: {str(e)[:120]}"
    try:
        return "ok", np.asarray(y)
    except ValueError:  # several outputs of different shapes (torch.linalg.inv_ex): an answer, no one array
        return "several", type(y).__name__
    except JacError as e:
        return "refused", str(e).splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return "crash", f"{type(e).__name__}: {str(e)[:120]}"


def compare(ours, theirs, shape_only: bool = False) -> str | None:
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    if shape_only:
        return None
    if theirs.dtype.kind in "fc" or ours.dtype.kind in "fc":
        if theirs.dtype.kind == "c":
            return None if np.allclose(ours, theirs, equal_nan=True) else "values differ"
        return differ(ours, theirs, None, "float64", rtol=1e-9)
    return None if np.array_equal(ours.astype(float), theirs.astype(float)) else "values differ"


def _reference(lib: str, text: str, values: dict):
    try:
        return library(lib, text, values)
    except (LibRaised, NotArray) as e:
        return e


def classify(refs: list, text: str, values: dict, shape_only: bool = False) -> tuple:
    """``refs``: the libraries asked, each ``(lib, text)``; one library decides, two (a bare method) must agree
    for an answer: jac's answer must be one of the answers, and a refusal is right where they differ or one
    raises."""
    answers = [_reference(lib, t, values) for lib, t in refs]
    if all(isinstance(a, NotArray) for a in answers):
        return "SKIP", str(answers[0])
    status, ours = with_timeout(jac, text, values, seconds=20)
    if status in ("CRASH", "crash"):
        return "CRASH", ours
    if status == "several":  # jac answered with several arrays: wrong where the library raises, else not compared
        return ("JAC-ANSWERS", str(answers[0])) if all(isinstance(a, LibRaised) for a in answers) else ("SKIP", ours)
    arrays = [a for a in answers if isinstance(a, np.ndarray)]
    if not arrays and any(isinstance(a, NotArray) for a in answers):  # a.max(dim=0): PyTorch's pair, NumPy raises
        return "SKIP", str(next(a for a in answers if isinstance(a, NotArray)))
    if not arrays:
        return ("REFUSED-AS-LIB", ours) if status == "refused" else ("JAC-ANSWERS", str(answers[0]))
    if status == "refused":
        if len(arrays) == 2 and compare(arrays[0], arrays[1], shape_only) is not None:
            return "REFUSED-AMBIGUOUS", ours
        if any(w in ours for w in VOCABULARY_WORDS):
            return "VOCABULARY", ours
        return "FALSE-REFUSAL", ours
    problems = [compare(ours, a, shape_only) for a in arrays]
    if all(p is not None for p in problems):
        return "WRONG", problems[0]
    if len(answers) == 2 and len(arrays) == 2 and any(p is not None for p in problems):
        return "ONE-READING", "the libraries differ and jac answers one reading: " + \
            next(p for p in problems if p is not None)
    return "AGREE", ""


def call_text(call: str, args: list) -> str:
    return f"{call}({', '.join(args if call.startswith('a.') else ['a'] + args)})"


def cases(lib: str, call: str) -> list:
    """``(kind, refs, text, rank)`` for one spelling: ``refs`` the (library, text) pairs that decide."""
    out = []
    method = call.startswith("a.")
    name = call.split(".")[-1]
    forms = NUMPY_FORMS if lib == "numpy" else TORCH_FORMS
    for rank in ORDINARY:
        for kind, args in (TORCH_FORMS + [f for f in NUMPY_FORMS if f not in TORCH_FORMS] if method else forms):
            if kind != "bare" and rank == 0:
                continue
            if not method:
                out.append((kind, [(lib, call_text(call, args))], call_text(call, args), rank))
                continue
            tail = f".{name}({', '.join(args)})"
            bare = f"a{tail}"
            if not hasattr(np.ndarray, name):  # no ndarray method: PyTorch's alone, in every text
                out.append((kind, [("torch", bare)], bare, rank))
                continue
            out.append((kind, [("torch", bare), ("numpy", bare)], bare, rank))
            out.append((kind + "/torch-text", [("torch", f"torch.as_tensor(a){tail}")], f"torch.as_tensor(a){tail}",
                        rank))
            out.append((kind + "/numpy-text", [("numpy", f"np.asarray(a){tail}")], f"np.asarray(a){tail}", rank))
    return out


def scipy_spellings() -> list:
    import scipy.special
    from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS
    names = set(FUNCTIONS) | {n for lib, n in LIBRARY_FUNCTIONS if lib.startswith("scipy")}
    return [("numpy", "scipy.special." + n) for n in sorted(names)
            if n.isidentifier() and not n.startswith("_") and callable(getattr(scipy.special, n, None))]


def worker(job) -> list:
    lib, call = job
    import torch
    torch.set_default_dtype(torch.float64)  # PyTorch's constructors in jac's dtype (jac computes in float64)
    rows = []
    if call == "RANDOM":
        for l2, text in RANDOM:
            shape_only = any(w in text for w in RANDOM_WORDS)
            cat, detail = classify([(l2, text)], text, values_of(1), shape_only)
            rows.append((l2, "RANDOM", "size", text, 1, cat, detail))
        return rows
    for kind, refs, text, rank in cases(lib, call):
        cat, detail = classify(refs, text, values_of(rank))
        rows.append((lib, call, kind, text, rank, cat, detail))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--show", type=int, default=60)
    ap.add_argument("--dump", default="", help="write every row as a JSON line to this file")
    opts = ap.parse_args()
    start = time.time()
    import multiprocessing
    only = set(filter(None, opts.only.split(",")))
    jobs = [(lib, call) for lib, call in spellings() + scipy_spellings()
            if not only or call.split(".")[-1] in only or call in only] + \
        ([("numpy", "RANDOM")] if not only or "RANDOM" in only else [])
    with multiprocessing.get_context("fork").Pool(opts.jobs, maxtasksperchild=20) as pool:
        results = pool.map(worker, jobs, chunksize=4)
    rows = [r for rs in results for r in rs]
    counts = Counter(r[5] for r in rows)
    if opts.dump:
        import json
        with open(opts.dump, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    by_kind = defaultdict(Counter)
    for r in rows:
        by_kind[r[2]][r[5]] += 1
    for cat in ("JAC-ANSWERS", "WRONG", "CRASH", "FALSE-REFUSAL"):
        found = [r for r in rows if r[5] == cat]
        print(f"\n{cat} ({len(found)}):")
        for lib, call, kind, text, rank, _, detail in found[:opts.show]:
            print(f"  [{lib} {kind} rank {rank}] {text}  -- {detail}")
    print("\nper kind:")
    for kind, c in sorted(by_kind.items()):
        print(f"  {kind:26s} " + ", ".join(f"{k} {c[k]}" for k in CATEGORIES if c[k]))
    print(f"\n{len(rows)} cases from {len(jobs)} spellings in {time.time() - start:.0f} s")
    print("total: " + ", ".join(f"{k} {counts[k]}" for k in CATEGORIES))
    return 1 if counts["JAC-ANSWERS"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
