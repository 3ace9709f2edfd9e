#!/usr/bin/env python3
"""Per-example Jacobians of a batch: jac --batch against torch.func.vmap(jacrev) and jax.vmap(jax.jacrev).

Run by hand, never as a test (see benchmarks/README.md):

    python benchmarks/batch.py               # B = 1000, n = 100
    python benchmarks/batch.py --B 100 --n 10 --repeat 3

A peer that does not import is reported as "not installed". Every answer is checked against
PyTorch's (else jac's) and a disagreement is printed as MISMATCH. jac is timed through its
Python API (``jacobian(..., batch=["x"])``, ``vjp`` via the report of ``jac vjp --batch``):
parse and plan once for one example, then each example in turn, results stacked.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmark the jacobi_cli of this checkout

# name, jac expression, what is differentiated, f(ops, W, x) for torch and jax
CASES = [
    ("J1 per-example Jacobian d tanh(W x)/dx", "tanh(W @ x)", "x", lambda o, W, x: o.tanh(W @ x)),
    ("J2 per-example Jacobian d softmax(x)/dx", "softmax(x)", "x", lambda o, W, x: o.softmax(x)),
    ("G1 per-sample gradient d log softmax(W x)[0]/dW", "log(softmax(W @ x)[0])", "W",
     lambda o, W, x: o.log(o.softmax(W @ x)[0])),
]


def timed(run, repeat: int) -> tuple:
    """(median seconds, answer) of ``repeat`` calls after one warm-up call."""
    answer = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def jac_runner(expr: str, wrt: str, W, X):
    from jacobi_cli.tools import api
    from jacobi_cli.tools.report import vjp_report

    if wrt == "W":  # a scalar per example: the gradient is the VJP with v = 1
        return lambda: vjp_report(expr, {"x": X, "W": W}, wrt=["W"], batch=["x"])["vjp"]["W"]["value"]
    return lambda: api.jacobian(expr, {"x": X, "W": W}, wrt=[wrt], batch=["x"])[wrt]


def torch_runner(f, wrt: str, W, X):
    try:
        import torch
    except ImportError:
        return None
    ops = type("ops", (), {"tanh": staticmethod(torch.tanh), "log": staticmethod(torch.log),
                           "softmax": staticmethod(lambda v: torch.softmax(v, -1))})
    tW, tX = torch.tensor(W), torch.tensor(X)
    argnum = 0 if wrt == "W" else 1
    transform = torch.func.grad if wrt == "W" else torch.func.jacrev
    batched = torch.func.vmap(transform(lambda W, x: f(ops, W, x), argnums=argnum), in_dims=(None, 0))
    return lambda: batched(tW, tX).numpy()


def jax_runner(f, wrt: str, W, X):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    ops = type("ops", (), {"tanh": staticmethod(jnp.tanh), "log": staticmethod(jnp.log),
                           "softmax": staticmethod(jax.nn.softmax)})
    argnum = 0 if wrt == "W" else 1
    transform = jax.grad if wrt == "W" else jax.jacrev
    batched = jax.jit(jax.vmap(transform(lambda W, x: f(ops, W, x), argnums=argnum), in_axes=(None, 0)))
    jW, jX = jnp.asarray(W), jnp.asarray(X)
    return lambda: np.asarray(batched(jW, jX).block_until_ready())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--B", type=int, default=1000, help="examples in the batch")
    parser.add_argument("--n", type=int, default=100, help="size of one example (x: n, W: n x n)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per tool (the median is shown)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(args.n, args.n)) / np.sqrt(args.n)
    X = rng.normal(size=(args.B, args.n))
    print(f"B = {args.B}, n = {args.n}, float64, median of {args.repeat} calls after a warm-up (jax: jit-compiled)")
    print(f"{'case':<50} {'tool':<24} {'ms':>10} {'per example':>12}  check")
    for name, expr, wrt, f in CASES:
        tools = [("jac --batch", jac_runner(expr, wrt, W, X)), ("torch.func.vmap", torch_runner(f, wrt, W, X)),
                 ("jax.vmap (jit)", jax_runner(f, wrt, W, X))]
        results = [(tool, None if run is None else timed(run, args.repeat)) for tool, run in tools]
        found = {tool: r[1] for tool, r in results if r is not None}
        reference = found.get("torch.func.vmap", found["jac --batch"])
        for tool, result in results:
            if result is None:
                print(f"{name:<50} {tool:<24} {'not installed':>10}")
                continue
            seconds, answer = result
            ok = np.allclose(answer, reference, rtol=1e-9, atol=1e-12)
            print(f"{name:<50} {tool:<24} {seconds * 1e3:>10.1f} {seconds / args.B * 1e6:>10.1f}us  "
                  f"{'ok' if ok else 'MISMATCH'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
