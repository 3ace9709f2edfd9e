"""A registry-wide fuzz at the edges: every function jac's reference lists, called at empty, size-1 and 0-d shapes,
with negative axes, ``keepdim``, tuples of axes and repeated arguments, to orders 1-3, compared with the library.

    PYTHONPATH=. python benchmarks/edges35_fuzz.py [--seed 0] [--count 1] [--jobs 2] [--only NAME,NAME] [--show 40]

The names are the function table's (``lang.functions.FUNCTIONS``, the bare names) and ``LIBRARY_FUNCTIONS``'
PyTorch, NumPy and method names. Each is spelled as the libraries spell it: ``torch.NAME``, ``F.NAME``,
``torch.linalg.NAME``, the tensor method ``a.NAME(...)`` (PyTorch is the reference: float64, its own autograd),
``np.NAME`` and ``np.linalg.NAME`` (NumPy is the reference for the value and whether it raises, JAX x64 for the
derivatives). A call form (``f(a)``, ``f(a, b)``, ``f(a, a)``, ``f(a, -1)``, ``f(a, dim=-2)``, ``f(a, dim=-1,
keepdim=True)``, ``f(a, dim=(0, -1))``, NumPy's ``axis=``/``keepdims=``, ``f(a, 1)``, ``f(a, b, dim=-1)``) is kept for
a spelling when the library answers it with a float array at an ordinary shape of that rank ((), (3,), (3, 3),
(2, 3, 3)); then ``--count`` edge shapes of the rank are drawn (seeded): (0,) (1,); (0, 0) (1, 1) (0, 3) (3, 0)
(1, 4); (0, 3, 3) (2, 1, 1) (1, 0, 0) (2, 3, 0); and 0-d. A second operand is the first's shape, the first's with
its last two axes swapped (a matrix product), 0-d, or (1,) beside (0,). Inputs are uniform in [0.2, 0.9] (square
matrices get 2 on the diagonal).

Each case runs these checks, each classified on its own:

- ``value``: ``api.evaluate`` against the library;
- ``jacobian``: ``api.jacobian`` against ``torch.autograd.functional.jacobian`` / ``jax.jacrev``;
- ``vjp`` / ``jvp``: ``api.vjp`` / ``api.jvp`` with random v / tangents against the reference Jacobian contracted;
- ``hessian`` (every pair of inputs, any output shape) and ``order3`` (``api.derivative(order=3)``, one input)
  against PyTorch's nested ``jacobian(create_graph=True)`` / ``jax.jacfwd``, on every third case;
- ``twice``: ``api.compile`` called three times (first call, then the planned / kernel path): the same bits.

Categories: AGREE; REFUSED-AS-LIB (the library raises and jac refuses); JAC-REFUSES-WHERE-LIB-ANSWERS (at the edge
shape; a spelling jac refuses at the ordinary shape too is counted apart as ``vocabulary``, not an edge finding);
JAC-ANSWERS-WHERE-LIB-RAISES; WRONG (shape, numbers, NaN positions; rtol 1e-9 for values, 1e-7 for derivatives;
``twice``: any bit); CRASH (anything but a JacError, or over 60 s); UNCHECKED (the reference has no such derivative:
no double backward, an integer result). Counts are printed per check and category, then per spelling for every one
with a finding. Exit 1 on any WRONG or CRASH.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import bucket, differ, run_workers, with_timeout  # noqa: E402

CATEGORIES = ("AGREE", "REFUSED-AS-LIB", "JAC-REFUSES-WHERE-LIB-ANSWERS", "JAC-ANSWERS-WHERE-LIB-RAISES", "WRONG",
              "CRASH", "UNCHECKED", "vocabulary")
CHECKS = ("value", "jacobian", "vjp", "jvp", "hessian", "order3", "twice")
# names whose values are not a function of the inputs (random draws, uninitialised memory), or that read files
SKIP_WORDS = ("rand", "dropout", "empty", "bernoulli", "multinomial", "normal", "poisson", "rrelu", "seed", "manual",
              "load", "save", "set_", "fromfile", "fromfunction", "frompyfunc", "vectorize", "gumbel", "exponential_",
              "geometric", "cauchy_", "log_normal", "uniform", "shuffle", "permutation", "choice", "memmap", "genfrom",
              "loadtxt", "savetxt", "compile", "jit", "vmap", "grad", "hessian", "jacobian", "apply", "piecewise",
              "nonzero", "unique", "argwhere", "where", "masked", "histogram", "bincount", "histc", "einsum", "printoptions")
# casts to a narrower float: jac computes in one dtype (docs/vocabulary-elementwise.md), so they are the identity
CASTS = {"float", "half", "bfloat16", "float16", "float32", "single", "to"}
ORDINARY = {0: (), 1: (3,), 2: (3, 3), 3: (2, 3, 3)}
EDGES = {0: [()], 1: [(0,), (1,)], 2: [(0, 0), (1, 1), (0, 3), (3, 0), (1, 4)],
         3: [(0, 3, 3), (2, 1, 1), (1, 0, 0), (2, 3, 0)]}
TORCH_FORMS = [[], ["b"], ["a"], ["-1"], ["-2"], ["1"], ["dim=-1"], ["dim=-2"], ["dim=-1", "keepdim=True"],
               ["dim=(0, -1)"], ["b", "dim=-1"]]
NUMPY_FORMS = [[], ["b"], ["a"], ["-1"], ["-2"], ["1"], ["axis=-1"], ["axis=-2"], ["axis=-1", "keepdims=True"],
               ["axis=(0, -1)"], ["b", "axis=-1"]]


# --- the spellings ----------------------------------------------------------------------------------------

def spellings() -> list:
    """``(library, call)`` for every name of the reference that a library spells: ``call`` is the text before the
    parenthesis (``torch.sum``, ``a.sum``)."""
    import torch
    import torch.nn.functional as F
    from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS

    names = set(FUNCTIONS) | {n for lib, n in LIBRARY_FUNCTIONS
                              if lib in ("torch", "numpy", "method", "torch.linalg", "np.linalg")}
    names = sorted(n for n in names if n.isidentifier() and not n.startswith("_")
                   and n not in CASTS and not any(w in n.lower() for w in SKIP_WORDS))
    out = []
    for n in names:
        for lib, mod, prefix in (("torch", torch, "torch."), ("torch", F, "F."), ("torch", torch.linalg, "torch.linalg."),
                                 ("numpy", np, "np."), ("numpy", np.linalg, "np.linalg.")):
            if callable(getattr(mod, n, None)) and not isinstance(getattr(mod, n), type):
                out.append((lib, prefix + n))
        if callable(getattr(torch.Tensor, n, None)) and not n.endswith("_"):
            out.append(("torch", "a." + n))
    return out


def text_of(call: str, extra: list) -> str:
    args = extra if call.startswith("a.") else ["a"] + extra
    return f"{call}({', '.join(args)})"




# --- the references -------------------------------------------------------------------------------------------

class LibError(Exception):
    pass


def draw(rng, shape) -> np.ndarray:
    x = rng.uniform(0.2, 0.9, size=shape)
    if len(shape) >= 2 and shape[-1] == shape[-2] and shape[-1] > 0:
        x = x + 2 * np.eye(shape[-1])
    return x


def torch_scope(values: dict) -> dict:
    import torch
    import torch.nn.functional as F
    return {"torch": torch, "F": F, **values}


def torch_fn(text: str, names: list):
    import torch
    import torch.nn.functional as F
    code = compile(text, "<case>", "eval")

    def f(*xs):
        return eval(code, {"torch": torch, "F": F, **dict(zip(names, xs))})  # noqa: S307
    return f


def jax_fn(text: str, names: list):
    import jax.numpy as jnp
    code = compile(text, "<case>", "eval")

    def f(*xs):
        return eval(code, {"np": jnp, **dict(zip(names, xs))})  # noqa: S307
    return f


class Reference:
    """The library's answers for one case: ``value()``, ``jacobian()`` (a list per input), ``hessian()`` (a list
    of lists), ``order3()``; each raises LibError where the library raises."""

    def __init__(self, lib: str, text: str, values: dict):
        self.lib, self.text, self.values = lib, text, values
        self.names = list(values)

    def value(self):
        try:
            if self.lib == "torch":
                import torch
                y = torch_fn(self.text, self.names)(*[torch.tensor(v) for v in self.values.values()])
                if not isinstance(y, torch.Tensor):
                    raise LibError(f"not a tensor: {type(y).__name__}")
                return y.detach().numpy()
            y = eval(self.text, {"np": np, **{k: np.array(v) for k, v in self.values.items()}})  # noqa: S307
            if not isinstance(y, (np.ndarray, np.generic, float, int, bool)):
                raise LibError(f"not an array: {type(y).__name__}")
            return np.asarray(y)
        except LibError:
            raise
        except Exception as e:  # noqa: BLE001 - the library raising is a result here
            raise LibError(f"{type(e).__name__}: {str(e)[:80]}") from None

    def _derivative(self, order: int):
        try:
            if self.lib == "torch":
                return self._torch(order)
            return self._jax(order)
        except Exception as e:  # noqa: BLE001
            raise LibError(f"{type(e).__name__}: {str(e)[:80]}") from None

    def _torch(self, order: int):
        """torch.func.jacrev nested (it handles empty shapes); PyTorch's autograd.functional where vmap cannot."""
        import torch
        f = torch_fn(self.text, self.names)
        xs = tuple(torch.tensor(v) for v in self.values.values())
        args = tuple(range(len(xs)))
        try:
            if order == 1:
                return [j.detach().numpy() for j in torch.func.jacrev(f, argnums=args)(*xs)]
            if order == 2:
                return [[h.detach().numpy() for h in row]
                        for row in torch.func.jacrev(torch.func.jacrev(f, argnums=args), argnums=args)(*xs)]
            return torch.func.jacrev(torch.func.jacrev(torch.func.jacrev(f)))(xs[0]).detach().numpy()
        except Exception:  # noqa: BLE001 - an op without a batching rule: the loop over rows
            return self._torch_loop(order, f, xs)

    def _torch_loop(self, order: int, f, xs):
        from torch.autograd.functional import jacobian
        if order == 1:
            return [j.numpy() for j in jacobian(f, xs)]
        if order == 2:
            return [[h.detach().numpy() for h in jacobian(lambda *z, i=i: jacobian(f, z, create_graph=True)[i], xs)]
                    for i in range(len(xs))]

        def g(x):
            return jacobian(lambda y: jacobian(f, (y,), create_graph=True)[0], (x,), create_graph=True)[0]
        return jacobian(g, xs[:1])[0].detach().numpy()

    def _jax(self, order: int):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        f = jax_fn(self.text, self.names)
        xs = tuple(jnp.asarray(v) for v in self.values.values())
        args = tuple(range(len(xs)))
        if order == 1:
            return [np.asarray(j) for j in jax.jacrev(f, argnums=args)(*xs)]
        if order == 2:
            return [[np.asarray(h) for h in row] for row in jax.jacfwd(jax.jacrev(f, argnums=args), argnums=args)(*xs)]
        return np.asarray(jax.jacfwd(jax.jacfwd(jax.jacrev(f)))(xs[0]))

    def jacobian(self):
        return self._derivative(1)

    def vjp(self, v):
        """The library's own reverse pass along ``v`` (torch.func.vjp, jax.vjp)."""
        try:
            if self.lib == "torch":
                import torch
                _, back = torch.func.vjp(torch_fn(self.text, self.names), *[torch.tensor(x) for x in self.values.values()])
                return [g.detach().numpy() for g in back(torch.tensor(v))]
            import jax
            _, back = jax.vjp(jax_fn(self.text, self.names), *[jax.numpy.asarray(x) for x in self.values.values()])
            return [np.asarray(g) for g in back(jax.numpy.asarray(v))]
        except Exception as e:  # noqa: BLE001
            raise LibError(f"{type(e).__name__}: {str(e)[:80]}") from None

    def jvp(self, tangents: dict):
        """The library's own forward pass along ``tangents`` (torch.func.jvp, jax.jvp)."""
        try:
            if self.lib == "torch":
                import torch
                return torch.func.jvp(torch_fn(self.text, self.names), tuple(torch.tensor(x) for x in self.values.values()),
                                      tuple(torch.tensor(t) for t in tangents.values()))[1].detach().numpy()
            import jax
            return np.asarray(jax.jvp(jax_fn(self.text, self.names), tuple(jax.numpy.asarray(x) for x in self.values.values()),
                                      tuple(jax.numpy.asarray(t) for t in tangents.values()))[1])
        except Exception as e:  # noqa: BLE001
            raise LibError(f"{type(e).__name__}: {str(e)[:80]}") from None

    def hessian(self):
        return self._derivative(2)

    def order3(self):
        return self._derivative(3)


# --- one case -------------------------------------------------------------------------------------------------

def jac_call(fn, *args):
    """``("ok", result)``, ``("refused", message)`` or ``("crash", message)``."""
    from jacobi_cli.errors import JacError
    try:
        return "ok", fn(*args)
    except JacError as e:
        return "refused", str(e).splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return "crash", f"{type(e).__name__}: {str(e)[:120]}"


def classify(ours: tuple, theirs, compare) -> tuple:
    """(category, detail) from jac's ``(status, result)`` and the reference's result or LibError."""
    status, got = ours
    if status == "crash":
        return "CRASH", got
    lib_raised = isinstance(theirs, LibError)
    if lib_raised:
        return ("REFUSED-AS-LIB", got) if status == "refused" else ("JAC-ANSWERS-WHERE-LIB-RAISES", str(theirs))
    if status == "refused":
        return "JAC-REFUSES-WHERE-LIB-ANSWERS", got
    problem = compare(got, theirs)
    return ("WRONG", problem) if problem else ("AGREE", "")


def attempt(fn):
    try:
        return fn()
    except LibError as e:
        return e


def same(ours, theirs, rtol=1e-7, derivative=True):
    """fuzzkit's comparison; for a derivative a NaN on one side only is not reported (a dense pass writes 0 · NaN
    where jac's rules know a 0; JAX's std at one element is NaN where PyTorch's and jac's is 0)."""
    return differ(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), None, "float64",
                  derivative=derivative, rtol=rtol)


def same_blocks(ours: dict, theirs: list, names: list) -> str | None:
    for n, t in zip(names, theirs):
        problem = same(ours[n], t)
        if problem:
            return f"d/d{n}: {problem}"
    return None


def bits(result) -> list:
    if isinstance(result, dict):
        return [(k, np.asarray(v).shape, np.asarray(v).tobytes()) for k, v in sorted(result.items())]
    return [(np.asarray(result).shape, np.asarray(result).tobytes())]


def run_case(lib: str, text: str, values: dict, rng, deep: bool) -> dict:
    """{check: (category, detail)} for one case."""
    from jacobi_cli.tools import api
    names = list(values)
    ref = Reference(lib, text, values)
    out = {}
    theirs = attempt(ref.value)
    ours = jac_call(api.evaluate, text, values)
    out["value"] = classify(ours, theirs, lambda o, t: same(o, t, 1e-9, False) if np.asarray(t).dtype != bool
                            else (None if np.array_equal(o, t) else "booleans differ"))
    if out["value"][0] != "AGREE":
        return out
    y = theirs
    if y.dtype.kind not in "fc":
        out["jacobian"] = ("UNCHECKED", "integer or boolean result")
        return out
    jref = attempt(ref.jacobian)
    out["jacobian"] = classify(jac_call(api.jacobian, text, values), jref,
                               lambda o, t: same_blocks(o, t, names))
    if isinstance(jref, LibError):
        out["jacobian"] = ("UNCHECKED", str(jref)) if out["jacobian"][0] == "JAC-ANSWERS-WHERE-LIB-RAISES" \
            else out["jacobian"]
        return out
    v = rng.standard_normal(y.shape)
    want = attempt(lambda: ref.vjp(v))
    if isinstance(want, LibError):  # the library's reverse pass cannot (no batching rule): its Jacobian contracted
        want = [np.tensordot(v, j, axes=y.ndim) if y.ndim else v * j for j in jref]
    out["vjp"] = classify(jac_call(api.vjp, text, values, v), want, lambda o, t: same_blocks(o, t, names))
    tangents = {n: rng.standard_normal(np.shape(values[n])) for n in names}
    want = attempt(lambda: ref.jvp(tangents))
    if isinstance(want, LibError):  # no forward mode in the library: its Jacobian contracted
        want = np.broadcast_to(sum(np.tensordot(j, tangents[n], axes=np.ndim(values[n])) for n, j in zip(names, jref)),
                               y.shape)
    out["jvp"] = classify(jac_call(api.jvp, text, values, tangents), want, lambda o, t: same(o, t))
    out["twice"] = twice(text, values)
    if deep:
        href = attempt(ref.hessian)
        ours = jac_call(api.hessian, text, values)
        out["hessian"] = ("UNCHECKED", str(href)) if isinstance(href, LibError) and ours[0] == "ok" else \
            classify(ours, href, lambda o, t: next(
                (f"d2/d{a}d{b}: {p}" for i, a in enumerate(names) for k, b in enumerate(names)
                 if (p := same(o[(a, b)], t[i][k]))), None))
        if len(names) == 1:
            tref = attempt(ref.order3)
            ours = jac_call(api.derivative, text, values, 3)
            out["order3"] = ("UNCHECKED", str(tref)) if isinstance(tref, LibError) and ours[0] == "ok" else \
                classify(ours, tref, lambda o, t: same(o, t))
    return out


def twice(text: str, values: dict) -> tuple:
    from jacobi_cli.tools import api
    status, f = jac_call(api.compile, text, values)
    if status != "ok":
        return ("AGREE", "") if status == "refused" else ("CRASH", f)
    runs = []
    for _ in range(3):
        status, got = jac_call(lambda: (f.value(values), f.jacobian(values)))
        if status != "ok":
            return ("AGREE", "") if status == "refused" and not runs else ("CRASH" if status == "crash" else "WRONG",
                                                                          f"call {len(runs) + 1}: {got}")
        runs.append(bits(got[0]) + bits(got[1]))
    return ("AGREE", "") if runs[0] == runs[1] == runs[2] else ("WRONG", "the calls' bits differ")


# --- the run ----------------------------------------------------------------------------------------------------

def forms(lib: str, call: str) -> list:
    return TORCH_FORMS if lib == "torch" else NUMPY_FORMS


def second_shapes(shape: tuple) -> list:
    out = [shape]
    if len(shape) >= 2 and shape[-1] != shape[-2]:
        out.append(shape[:-2] + (shape[-1], shape[-2]))
    if shape:
        out.append(())
    if shape == (0,):
        out.append((1,))
    return out


def answers(lib: str, text: str, values: dict) -> bool:
    """Whether the library gives a float array for ``text`` at ``values`` (an ordinary shape)."""
    try:
        y = Reference(lib, text, values).value()
    except LibError:
        return False
    return y.dtype.kind in "fcbiu"


def jac_answers(text: str, values: dict) -> bool:
    from jacobi_cli.tools import api
    return jac_call(api.evaluate, text, values)[0] == "ok"


def cases_of(lib: str, call: str, rng: random.Random, count: int) -> list:
    """``(text, {name: shape})`` pairs: for each form and rank the library answers at the ordinary shape,
    ``count`` edge shapes of that rank."""
    out = []
    nprng = np.random.default_rng(0)
    for extra in forms(lib, call):
        text = text_of(call, extra)
        names = ["a"] + (["b"] if "b" in extra else [])
        for rank, ordinary in ORDINARY.items():
            if not answers(lib, text, {n: draw(nprng, ordinary) for n in names}):
                continue
            for shape in rng.sample(EDGES[rank], min(count, len(EDGES[rank]))):
                shapes = {"a": shape}
                if "b" in names:
                    shapes["b"] = rng.choice(second_shapes(shape))
                out.append((text, shapes, ordinary))
    return out


def worker(args) -> dict:
    seed, count, jobs, job, only = args
    warnings.simplefilter("ignore")
    import torch
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    counts, per_op, found, refusals = Counter(), defaultdict(Counter), [], Counter()
    spells = [s for s in spellings() if only is None or s[1].split(".")[-1] in only.split(",")]
    for k, (lib, call) in enumerate(spells):
        if k % jobs != job:
            continue
        rng = random.Random(f"{seed}:{call}")
        for n_case, (text, shapes, ordinary) in enumerate(cases_of(lib, call, rng, count)):
            nprng = np.random.default_rng(rng.randrange(2**32))
            values = {n: draw(nprng, s) for n, s in shapes.items()}
            got = with_timeout(run_case, lib, text, values, nprng, n_case % 3 == 0, seconds=60)
            if isinstance(got, tuple):  # the timeout
                got = {"value": ("CRASH", "timeout")}
            for check, (cat, detail) in got.items():
                if cat == "JAC-REFUSES-WHERE-LIB-ANSWERS" and check == "value" and not jac_answers(
                        text, {n: draw(nprng, ordinary if len(s) == len(ordinary) else s) for n, s in shapes.items()}):
                    cat = "vocabulary"
                counts[check, cat] += 1
                per_op[call][cat] += 1
                if cat in ("JAC-REFUSES-WHERE-LIB-ANSWERS", "REFUSED-AS-LIB"):
                    refusals[bucket(detail)] += 1
                if cat in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-LIB-RAISES", "JAC-REFUSES-WHERE-LIB-ANSWERS"):
                    found.append((cat, check, text, {n: list(np.shape(v)) for n, v in values.items()}, detail))
    return {"counts": counts, "per_op": {k: dict(v) for k, v in per_op.items()}, "found": found,
            "refusals": refusals, "spellings": len(spells)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=1, help="edge shapes per form and rank")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default=None, help="names, comma-separated (the last part of a spelling)")
    ap.add_argument("--show", type=int, default=40, help="findings listed per category")
    a = ap.parse_args()
    start = time.monotonic()
    per = [(a.seed, a.count, a.jobs, j, a.only) for j in range(a.jobs)]
    if a.jobs == 1:
        results = [worker(per[0])]
    else:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(a.jobs) as pool:
            results = pool.map(worker, per)
    counts, per_op, found, refusals = Counter(), defaultdict(Counter), [], Counter()
    for r in results:
        counts.update(r["counts"])
        refusals.update(r["refusals"])
        found += r["found"]
        for k, v in r["per_op"].items():
            per_op[k].update(v)
    for cat in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-LIB-RAISES", "JAC-REFUSES-WHERE-LIB-ANSWERS"):
        shown = [f for f in found if f[0] == cat]
        print(f"\n== {cat} ({len(shown)})")
        for _, check, text, shapes, detail in shown[:a.show]:
            print(f"  [{check}] {text}  {shapes}: {detail}")
    print("\ntop refusals:")
    for msg, c in refusals.most_common(15):
        print(f"  {c:5d}  {msg}")
    print("\nper spelling with a finding:")
    for call, c in sorted(per_op.items()):
        bad = {k: v for k, v in c.items() if k in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-LIB-RAISES",
                                                      "JAC-REFUSES-WHERE-LIB-ANSWERS")}
        if bad:
            print(f"  {call}: " + ", ".join(f"{k} {v}" for k, v in sorted(bad.items())) + f" (of {sum(c.values())})")
    print("\nper check:")
    for check in CHECKS:
        row = {cat: counts[check, cat] for cat in CATEGORIES if counts[check, cat]}
        print(f"  {check:9s} " + ", ".join(f"{k} {v}" for k, v in row.items()))
    total = Counter()
    for (check, cat), c in counts.items():
        total[cat] += c
    print(f"\n{results[0]['spellings']} spellings, {len(per_op)} with a case, seed {a.seed}, count {a.count} "
          f"({time.monotonic() - start:.0f} s): " + ", ".join(f"{k} {total[k]}" for k in CATEGORIES))
    return 1 if total["WRONG"] or total["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
