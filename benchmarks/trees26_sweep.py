"""Dicts and pytrees (lang/trees.py): generated texts whose parameters are pytrees (dicts, lists and tuples nested,
None leaves for JAX) of expressions of three inputs, differentiated as the JAX and torch.func tutorials write it,
run by jac and by the library itself; the value of the last statement (one array picked by a path) AND jac's
Jacobian of it by the inputs (a second or third derivative) compared with ``jax.jacrev`` /
``torch.autograd.functional.jacobian`` of the same text as a function of the inputs.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/trees26_sweep.py [jax | torch] [-n COUNT] [-v]

Templates per text (the tree and the loss drawn, seeded by the text's number): jax.grad, value_and_grad,
argnums=(0, 1), jacrev of tree_map's output (a tree of trees), hessian, an SGD step with tree_map, tree_leaves,
tree_flatten / tree_unflatten, jax.vjp of a tree; torch.func.grad, grad_and_value, jacrev and vjp of dicts.
|jac - ref| <= 1e-9 |ref| + 1e-11 max|ref| (fuzzkit.differ). Counts: AGREE, WRONG (must be none), REFUSED (the
library answers, jac refuses with a JacError), CRASH (not a JacError: must be none), SKIPPED (the library refuses).
Before session 26 (main at bc8313f) every text was refused.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

import numpy as np

from deco26_sweep import run  # the library's value and Jacobians of a text
from fuzzkit import differ, summary

INPUTS = {"a": (3,), "B": (2, 3), "c": (2,)}
LEAVES = {"jax": ["a", "B", "c", "a * 2.0", "jnp.sin(c)", "B.T", "a[:2]", "B[0] * c[1]"],
          "torch": ["a", "B", "c", "a * 2.0", "torch.sin(c)", "B.T", "a[:2]", "B[0] * c[1]"]}
FUNCS = {"jax": ["jnp.tanh({})", "jnp.sin({})", "{} ** 2", "jnp.exp(-{} ** 2)"],
         "torch": ["torch.tanh({})", "torch.sin({})", "{} ** 2", "torch.exp(-{} ** 2)"]}


def tree(rng, library: str, depth: int = 0) -> tuple:
    """(text of a pytree, [(path, leaf text)]) drawn at random."""
    kinds = ["dict", "list", "tuple"] if library == "jax" else ["dict", "dict", "list"]
    kind = "leaf" if depth >= 2 or (depth > 0 and rng.random() < 0.4) else kinds[rng.integers(len(kinds))]
    if kind == "leaf":
        if library == "jax" and depth > 0 and rng.random() < 0.08:
            return "None", []
        leaf = LEAVES[library][rng.integers(len(LEAVES[library]))]
        return leaf, [("", leaf)]
    n = int(rng.integers(1, 4))
    parts, paths = [], []
    for k in range(n):
        text, found = tree(rng, library, depth + 1)
        key = f"'{'wxyzuv'[k]}{rng.integers(10)}'" if kind == "dict" else str(k)
        parts.append(f"{key}: {text}" if kind == "dict" else text)
        paths += [(f"[{key}]" + p, leaf) for p, leaf in found]
    if kind == "dict":
        return "{" + ", ".join(parts) + "}", paths
    if kind == "tuple":
        return "(" + ", ".join(parts) + ("," if n == 1 else "") + ")", paths
    return "[" + ", ".join(parts) + "]", paths


def text_of(rng, library: str, template: int) -> str | None:
    params, paths = tree(rng, library)
    if not paths:
        return None
    f = FUNCS[library]
    terms = [f"{float(rng.uniform(0.5, 1.5)):.3f} * {'jnp' if library == 'jax' else 'torch'}.sum("
             + f[rng.integers(len(f))].format(f"p{path}") + ")" for path, _ in paths]
    loss = "def loss(p):\n    return " + " + ".join(terms) + "\n"
    head = loss + f"P = {params}\n"
    path = paths[rng.integers(len(paths))][0]
    other = paths[rng.integers(len(paths))][0]
    if library == "jax":
        endings = [f"g = jax.grad(loss)(P)\ng{path}",
                   f"v, g = jax.value_and_grad(loss)(P)\nv * jnp.sum(g{path})",
                   f"g = jax.grad(lambda p, q: loss(p) * jnp.sum(q), argnums=(0, 1))(P, a)\ng[0]{path} * jnp.sum(g[1])",
                   f"J = jax.jacrev(lambda p: jax.tree_util.tree_map(lambda t: jnp.sin(t) * 2.0, p))(P)\nJ{path}{other}",
                   f"H = jax.hessian(loss)(P)\nH{path}{other}",
                   "new = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, P, jax.grad(loss)(P))\nloss(new)",
                   "ls = jax.tree_util.tree_leaves(jax.grad(loss)(P))\nsum(jnp.sum(t * t) for t in ls)",
                   "ls, d = jax.tree_util.tree_flatten(P)\nloss(jax.tree_util.tree_unflatten(d, [t * 3.0 for t in ls]))",
                   f"y, f = jax.vjp(lambda p: loss(p) * a, P)\nf(a)[0]{path}"]
    else:
        endings = [f"g = torch.func.grad(loss)(P)\ng{path}",
                   f"g, v = torch.func.grad_and_value(loss)(P)\nv * torch.sum(g{path})",
                   f"J = torch.func.jacrev(lambda p: loss(p) * a)(P)\nJ{path}",
                   f"y, f = torch.func.vjp(lambda p: loss(p) * a, P)\nf(a)[0]{path}",
                   "g = torch.func.grad(loss)(P)\ntorch.cat([t.flatten() for t in g.values()])"]
    ending = endings[template % len(endings)]
    if ending.endswith("g.values()])") and not params.startswith("{"):
        return None  # a dict's values in insertion order: torch.func keeps it
    return head + ending


def main(argv: list) -> None:
    libraries = [a for a in argv if a in ("jax", "torch")] or ["jax", "torch"]
    count = int(argv[argv.index("-n") + 1]) if "-n" in argv else 200
    verbose = "-v" in argv
    if "jax" in libraries:
        import jax
        jax.config.update("jax_enable_x64", True)
    import torch
    torch.set_default_dtype(torch.float64)
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    counts, refused = Counter(), Counter()
    start = time.monotonic()
    for library in libraries:
        for k in range(count):
            rng = np.random.default_rng(2600 + k + (100_000 if library == "torch" else 0))
            text = text_of(rng, library, k)
            if text is None:
                continue
            inputs = {n: rng.uniform(-1.0, 1.0, s) for n, s in INPUTS.items()}
            try:
                ref = run(library, text, inputs)
            except Exception as err:  # noqa: BLE001 - the library refuses the text
                counts["SKIPPED"] += 1
                if verbose:
                    print(f"SKIPPED {text!r}: {type(err).__name__}: {str(err)[:100]}")
                continue
            used = {n: v for n, v in inputs.items() if n in text}
            try:
                value = api.evaluate(text, inputs)
                jac = api.jacobian(text, inputs)
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
            wrong = differ(value, ref[0], None, "float64", ref=library) or next(
                (f"{n}: {d}" for n in used if (d := differ(jac[n], ref[1][n], None, "float64", derivative=True,
                                                          ref=library))), None)
            if wrong:
                counts["WRONG"] += 1
                print(f"WRONG {text!r}: {wrong}")
            else:
                counts["AGREE"] += 1
    summary(refused, counts, ', '.join(libraries), start)


if __name__ == "__main__":
    main(sys.argv[1:])
