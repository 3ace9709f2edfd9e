"""Decorated defs and index tuples made by calls, generated and run by jac and by the library itself: the value AND
jac's Jacobian by every input compared (lang/decorators.py, lang/index_tuples.py, the parser's index_tuple).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/deco26_sweep.py [deco | index] [-k SUBSTRING] [-v]

- deco: each stack of decorators in JAX_STACKS / TORCH_STACKS (nearest the def last in the list) on a def of each
  body of BODIES (NAME each function of FUNCTIONS), called on ``x`` (3,) or, under a vmap, ``X`` (4, 3); JAX's
  texts run by JAX (float64, ``jax.jacrev`` of the text as a function of its inputs), PyTorch's by PyTorch
  (``torch.autograd.functional.jacobian``).
- index: each index tuple of INDICES (made by a call, held in a name, unpacked) in each use of USES (a read,
  ``x.at[idx].set/add/multiply/subtract/get``, ``y[idx] = v``, ``y[idx] += v``, ``np.add.at``), per library: jnp's
  run by JAX, torch's by PyTorch, NumPy's by NumPy (its Jacobian by central differences of NumPy's own value,
  step 1e-6, compared at 1e-6).
|jac - ref| <= 1e-9 |ref| + 1e-11 max|ref| (fuzzkit.differ). Counts: AGREE, WRONG (must be none), REFUSED (the
library answers, jac refuses with a JacError), CRASH (not a JacError: must be none), SKIPPED (the library refuses
the text: JAX's .at[].multiply by its values without unique_indices; PyTorch's inference tensors saved for backward,
``f(x) * x`` of an ``@torch.inference_mode()`` f, which jac reads as ``@torch.no_grad()``; a vmap's out_axes=1 of a
scalar, which jac refuses too). ``@jax.value_and_grad`` (a pair) is checked in tests/test_parity_deco26.py.
"""
from __future__ import annotations

import ast
import sys
import time
from collections import Counter

import numpy as np

from fuzzkit import differ, summary

FUNCTIONS = ["sin", "tanh", "exp", "log1p", "sqrt", "cos"]
BODIES = {"jax": ["return jnp.sum(jnp.NAME(t) * t)", "return jnp.NAME(t) * t[0]"],
          "torch": ["return torch.sum(torch.NAME(t) * t)", "return torch.NAME(t) * t[0]"]}
# (decorators, nearest the def last; whether the function's output must be a scalar; whether it maps rows)
JAX_STACKS = [
    ([], False, False), (["jax.jit"], False, False), (["jax.checkpoint"], False, False),
    (["jax.jit(static_argnums=())"], False, False), (["partial(jax.jit, static_argnames=())"], False, False),
    (["jax.grad"], True, False), (["jax.jacrev"], False, False),
    (["jax.jacfwd"], False, False), (["jax.hessian"], True, False), (["jax.jit", "jax.grad"], True, False),
    (["jax.jacfwd", "jax.grad"], True, False), (["jax.grad", "jax.checkpoint"], True, False),
    (["jax.vmap"], False, True), (["jax.vmap", "jax.grad"], True, True), (["jax.vmap", "jax.jit"], False, True),
    (["partial(jax.vmap, in_axes=0)", "jax.grad"], True, True), (["jax.jacrev", "jax.vmap"], False, True),
    (["partial(jax.vmap, in_axes=1)"], False, True), (["partial(jax.vmap, in_axes=0, out_axes=1)"], False, True),
]
TORCH_STACKS = [
    (["torch.func.grad"], True, False), (["torch.func.jacrev"], False, False), (["torch.func.jacfwd"], False, False),
    (["torch.func.hessian"], True, False), (["torch.func.vmap"], False, True),
    (["torch.func.vmap", "torch.func.grad"], True, True), (["torch.no_grad()"], False, False),
    (["torch.no_grad"], False, False), (["torch.enable_grad()"], False, False),
    (["torch.inference_mode()"], False, False), (["torch.set_grad_enabled(False)"], False, False),
]
# how the output of the decorated f is used: a grad mode is seen only next to the input's own use
TORCH_USES = ["f(x)", "f(x) * x", "f(x) + x"]

# (text making idx, as JAX / NumPy spell it; torch's own below)
INDICES = ["jnp.diag_indices(3)", "jnp.diag_indices_from(x)", "jnp.tril_indices(3)", "jnp.triu_indices(3, 1)",
           "jnp.tril_indices(3, -1, 3)", "jnp.tril_indices_from(x)", "jnp.triu_indices_from(x, 1)",
           "jnp.mask_indices(3, jnp.triu)", "jnp.mask_indices(3, jnp.tril, -1)", "jnp.nonzero(jnp.eye(3))",
           "jnp.ix_(jnp.array([0, 2]), jnp.array([1, 2]))", "jnp.indices((3, 3), sparse=True)",
           "tuple(jnp.indices((2, 3)))", "(jnp.array([0, 2]), jnp.array([1, 1]))", "(0, 1)",
           "(jnp.array([0, 0, 1]), jnp.array([1, 1, 2]))"]
JAX_USES = ["x[IDX] * 2", "idx = IDX\nx[idx] * 2", "jnp.sin(x.at[IDX].get())", "x.at[IDX].set(0.5)",
            "x.at[IDX].set(x[IDX] ** 2)", "x.at[IDX].add(x[0, 0])", "x.at[IDX].subtract(1.0)",
            "x.at[IDX].multiply(x[IDX])", "x.at[IDX].multiply(x[IDX], unique_indices=True)", "x.at[IDX].min(0.0)",
            "idx = IDX\nx.at[idx].set(x[idx] * 3)", "x.at[IDX].set(x[1, 1])"]
NUMPY_USES = ["x[IDX] * 2", "idx = IDX\nx[idx] * 2", "y = x.copy()\ny[IDX] = 0.5\ny",
              "y = x.copy()\ny[IDX] = x[IDX] ** 2\ny", "y = x.copy()\nidx = IDX\ny[idx] = x[idx] * 3\ny",
              "y = x.copy()\ny[IDX] *= 3.0\ny", "y = x.copy()\nnp.add.at(y, IDX, x[0, 0])\ny"]
TORCH_INDICES = ["tuple(torch.tril_indices(3, 3))", "tuple(torch.triu_indices(3, 3, 1))",
                 "(torch.tril_indices(3, 3)[0], torch.tril_indices(3, 3)[1])",
                 "(torch.tensor([0, 2]), torch.tensor([1, 1]))", "[torch.tensor([0, 2]), torch.tensor([1, 1])]",
                 "(0, 1)", "(torch.tensor([0, 0]), torch.tensor([1, 1]))"]
TORCH_INDEX_USES = ["x[IDX] * 2", "idx = IDX\nx[idx] * 2", "y = x.clone()\ny[IDX] = 0.5\ny",
                    "y = x.clone()\nidx = IDX\ny[idx] = x[idx] * 3\ny", "y = x.clone()\ny[IDX] = x[IDX] ** 2\ny"]


def deco_texts():
    """(library, text, the input's name: x (3,), or X (4, 3) under a vmap) of every decorated def."""
    for library, stacks in (("jax", JAX_STACKS), ("torch", TORCH_STACKS)):
        head = "import jax\nfrom functools import partial\n" if library == "jax" else "import torch\n"
        for decorators, scalar, mapped in stacks:
            for body in BODIES[library]:
                if scalar and "sum" not in body:
                    continue
                for name in FUNCTIONS:
                    lines = "".join(f"@{d}\n" for d in decorators)
                    fn = f"{head}{lines}def f(t):\n    {body.replace('NAME', name)}\n"
                    for use in (["f(x)"] if library == "jax" or mapped else TORCH_USES):
                        yield library, fn + use.replace("x", "X" if mapped else "x"), "X" if mapped else "x"


def index_texts():
    """(library, text) of every index tuple in every use, of an input x (3, 3)."""
    for idx in INDICES:
        for use in JAX_USES:
            yield "jax", use.replace("IDX", idx)
        for use in NUMPY_USES:
            yield "numpy", use.replace("IDX", idx.replace("jnp.", "np."))
    for idx in TORCH_INDICES:
        for use in TORCH_INDEX_USES:
            yield "torch", use.replace("IDX", idx)


def run(library: str, text: str, inputs: dict):
    """(value, {name: Jacobian}) of ``text`` run by the library."""
    tree = ast.parse(text)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)
    names = list(inputs)
    if library == "jax":
        import jax
        import jax.numpy as jnp

        def f(*xs):
            scope = {"jax": jax, "jnp": jnp, **dict(zip(names, xs))}
            exec(compile(body, "<t>", "exec"), scope)  # noqa: S102 - the sweep's own texts
            return jnp.asarray(eval(compile(last, "<t>", "eval"), scope), dtype=jnp.float64)  # noqa: S307

        args = [jnp.asarray(inputs[k]) for k in names]
        jacs = jax.jacrev(f, argnums=tuple(range(len(names))))(*args)
        return np.asarray(f(*args)), {k: np.asarray(j) for k, j in zip(names, jacs)}
    if library == "numpy":
        def g(*xs):
            scope = {"np": np, **dict(zip(names, xs))}
            exec(compile(body, "<t>", "exec"), scope)  # noqa: S102
            return np.asarray(eval(compile(last, "<t>", "eval"), scope), dtype=float)  # noqa: S307

        args = [np.asarray(inputs[k], dtype=float) for k in names]
        value = g(*args)
        jacs = {}
        for k, name in enumerate(names):
            x0, h = args[k], 1e-6
            J = np.zeros(value.shape + x0.shape)
            for i in np.ndindex(x0.shape):
                xp, xm = x0.copy(), x0.copy()
                xp[i] += h
                xm[i] -= h
                J[(...,) + i] = (g(*args[:k], xp, *args[k + 1:]) - g(*args[:k], xm, *args[k + 1:])) / (2 * h)
            jacs[name] = J
        return value, jacs
    import torch

    def t(*xs):
        scope = {"torch": torch, **dict(zip(names, xs))}
        exec(compile(body, "<t>", "exec"), scope)  # noqa: S102
        return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307

    args = tuple(torch.tensor(np.asarray(inputs[k], dtype=float), requires_grad=True) for k in names)
    value = t(*args)
    jacs = torch.autograd.functional.jacobian(t, args)
    return value.detach().numpy(), {k: j.numpy() for k, j in zip(names, jacs)}


def main(argv: list) -> None:
    parts = [a for a in argv if a in ("deco", "index")] or ["deco", "index"]
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    verbose = "-v" in argv
    import jax
    jax.config.update("jax_enable_x64", True)
    import torch
    torch.set_default_dtype(torch.float64)
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    cases = []
    if "deco" in parts:
        cases += [(lib, text, arg) for lib, text, arg in deco_texts()]
    if "index" in parts:
        cases += [(lib, text, "x") for lib, text in index_texts()]
    counts, refused = Counter(), Counter()
    start = time.monotonic()
    for library, text, arg in cases:
        if only and only not in text:
            continue
        rng = np.random.default_rng(sum(map(ord, text)) * 7919 + len(text))  # per text: -k re-runs it alone
        shape = (4, 3) if arg == "X" else (3,) if "def f" in text else (3, 3)
        inputs = {arg: rng.uniform(0.2, 0.9, shape)}
        try:
            ref = run(library, text, inputs)
        except Exception:  # noqa: BLE001 - the library refuses the text
            counts["SKIPPED"] += 1
            if verbose:
                print(f"SKIPPED {text!r}")
            continue
        try:
            value = api.evaluate(text, inputs)
            jacs = api.jacobian(text, inputs)
        except JacError as err:
            counts["REFUSED"] += 1
            refused[str(err).split("\n")[0][:110]] += 1
            if verbose:
                print(f"REFUSED {text!r}: {err}")
            continue
        except Exception as err:  # noqa: BLE001 - what the sweep looks for
            counts["CRASH"] += 1
            print(f"CRASH {text!r}: {type(err).__name__}: {err}")
            continue
        rtol = 1e-6 if library == "numpy" else 1e-9
        wrong = differ(value, ref[0], None, "float64") or next(
            (w for k in inputs for w in [differ(jacs[k], ref[1][k], None, "float64", derivative=True, rtol=rtol)] if w),
            None)
        if wrong:
            counts["WRONG"] += 1
            print(f"WRONG {text!r}: {wrong}")
        else:
            counts["AGREE"] += 1
    summary(refused, counts, ', '.join(parts), start)


if __name__ == "__main__":
    main(sys.argv[1:])
