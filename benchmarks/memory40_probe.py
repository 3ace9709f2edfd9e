"""Predicted peak memory against the measured peak, expression by expression and mode by mode (session 40).

``--max-memory`` is a bound only if the plan is one: every command checks its predicted peak against the budget
before allocating. This probe runs ~300 cases (element-wise chains, broadcasting, reductions, products, linear
algebra, cumulative ops, indexing, softmax, convolutions, ...; each in the modes that apply: `jac eval` reverse,
forward and chunked under a small budget, `jac vjp`, `jac jvp`, `jac hessian`) through the Python API and
compares, for each, the plan's predicted peak (`Plan.peak_bytes`, `ProductPlan.peak_bytes`,
`HessianPlan.peak_bytes`: what `--explain` prints) with the peak tracemalloc measures (NumPy reports its buffers
to it) during the same call, plus the inputs' bytes (made before the measurement starts; the plan counts them).
A Jacobian is measured as `jac eval` computes it: the plan's run (`api.jacobians`, the Jacobian objects, kept
structured) plus the values its preparation computed; making it a dense array is checked apart
(`compiled.dense(j, layout, budget)`), as `--json` and `--out` do.

A call is measured as a first call: once to import what it imports lazily, the API's cache cleared, then again
under tracemalloc. A case is UNDER when measured > predicted · (1 + 5 %) + 256 KiB (Python objects of the
parse and the plan, which no plan counts). Sizes are chosen so that arrays of a few MiB dominate.

    PYTHONPATH=. python benchmarks/memory40_probe.py [--only SUBSTRING] [--list] [--part K/N]

Prints each UNDER case (and, with --list, every case) and the counts: cases, answered, refused by the budget,
errors, UNDER.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc

import numpy as np

from jacobi_cli.tools import api

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part)

MARGIN = (0.05, 256 * 2**10)

N = 300  # a vector's length: its Jacobian by itself is 700 KiB
M = 60  # a matrix's side: 28 KiB, its Jacobian by itself 100 MiB

# (expression, {name: shape}, commands): commands among "rev fwd chunk vjp jvp hess"
ALL = ("rev", "fwd", "chunk", "vjp", "jvp", "hess")
NO_HESS = ("rev", "fwd", "chunk", "vjp", "jvp")
V = {"x": (N,), "y": (N,)}
S = {"A": (M, M)}
SB = {"A": (M, M), "B": (M, M)}
MV = {"A": (M, M), "x": (M,)}
CASES = [
    # element-wise chains
    ("sin(x) * exp(x)", V, ALL), ("tanh(tanh(tanh(x)))", V, ALL), ("x * y + sin(x * y)", V, ALL),
    ("sum(exp(sin(x) * cos(x)))", V, ALL), ("log(1 + x ** 2) / (1 + exp(-x))", V, ALL),
    ("sqrt(x * x + 1) * y", V, ALL), ("maximum(x, y) * minimum(x, y)", V, ALL), ("abs(x) ** 1.5", V, ALL),
    ("where(x > 0, x, 0.1 * x) * y", V, ALL), ("clip(x, -0.5, 0.5) * sum(y)", V, ALL),
    ("sigmoid(x) * softplus(y)", V, ALL), ("exp(sin(x) * sum(x))", V, ALL),
    # broadcasting
    ("prod(x[:, None] * x)", V, NO_HESS), ("prod(x[:, None] * x, axis=0)", V, NO_HESS),
    ("sum(x[:, None] * y)", V, ALL), ("sum(sin(x[:, None] - y[None, :]))", V, NO_HESS),
    ("(x[:, None] * y).max(axis=1)", V, NO_HESS), ("sum(exp(-(x[:, None] - y) ** 2), axis=1)", V, NO_HESS),
    ("A * x[:, None]", MV, NO_HESS), ("sum(A * x, axis=0)", MV, ALL), ("prod(A + x, axis=1)", MV, NO_HESS),
    # reductions
    ("sum(x)", V, ALL), ("prod(x)", V, ALL), ("mean(x * y)", V, ALL), ("max(x * y)", V, NO_HESS),
    ("norm(x)", V, ALL), ("logsumexp(x)", V, ALL), ("np.std(x)", V, ALL), ("np.var(x * y)", V, ALL),
    ("sum(A, axis=0) * sum(A)", S, NO_HESS), ("prod(A, axis=1)", S, NO_HESS), ("np.linalg.norm(A, axis=0)", S, NO_HESS),
    ("logsumexp(A, axis=1)", S, NO_HESS), ("amax(A, axis=0)", S, NO_HESS), ("np.median(x)", V, NO_HESS),
    ("sort(x)[::2]", V, NO_HESS), ("np.sort(x * sum(x))", V, NO_HESS),
    # products
    ("A @ x", MV, ALL), ("tanh(A @ tanh(A @ x))", MV, ALL), ("x @ A @ x", MV, ALL), ("A @ B", SB, NO_HESS),
    ("sum(A @ B @ A)", SB, ALL), ("np.einsum('ij,jk->ik', A, B)", SB, NO_HESS), ("np.outer(x, y)", V, NO_HESS),
    ("np.dot(x, y) * x", V, ALL), ("np.kron(A[:5, :5], B[:6, :6])", SB, NO_HESS), ("trace(A @ B)", SB, ALL),
    ("np.einsum('ij,ij->i', A, A) * sum(A)", S, NO_HESS),
    # linear algebra
    ("np.linalg.inv(A + 60 * eye(60))", S, NO_HESS), ("np.linalg.det(A + 60 * eye(60))", S, ALL),
    ("np.linalg.slogdet(A)[1]", S, ALL), ("np.linalg.solve(A + 60 * eye(60), B)", SB, NO_HESS),
    ("np.linalg.eigh(A + A.T)[0]", S, NO_HESS), ("np.linalg.svd(A)[1]", S, NO_HESS), ("np.linalg.qr(A)[0]", S, NO_HESS),
    ("np.linalg.cholesky(A @ A.T + 60 * eye(60))", S, NO_HESS), ("np.linalg.pinv(A)", S, NO_HESS),
    ("scipy.linalg.expm(A / 60)", S, NO_HESS), ("np.linalg.norm(A, 'fro')", S, ALL), ("np.linalg.norm(A, 2)", S, NO_HESS),
    # cumulative
    ("np.cumsum(x)", V, NO_HESS), ("np.cumprod(x / 2 + 1)", V, NO_HESS), ("torch.logcumsumexp(x, 0)", V, NO_HESS),
    ("torch.cummax(x * x.sum(), 0).values", V, NO_HESS), ("np.cumsum(A, axis=1)", S, NO_HESS),
    ("sum(np.cumsum(x) ** 2)", V, ALL), ("np.diff(x) * y[1:]", V, NO_HESS),
    # indexing
    ("x[::-1] * y", V, NO_HESS), ("x[arange(0, 300, 2)] * sum(x)", V, NO_HESS), ("np.take(x, arange(299, -1, -1))", V, NO_HESS),
    ("A[:, 3] * A[5]", S, NO_HESS), ("A.T[::2]", S, NO_HESS), ("np.roll(x, 3) * x", V, NO_HESS),
    ("np.concatenate([x, y]) * 2", V, NO_HESS), ("np.stack([x, y]).sum(0)", V, NO_HESS), ("np.tile(x[:10], 30) * y", V, NO_HESS),
    ("zeros(300).at[arange(300) // 2].add(x * sum(x))", V, NO_HESS), ("np.triu(A) @ x", MV, NO_HESS),
    ("np.diag(x[:60]) @ A", MV, NO_HESS), ("x.reshape(15, 20).T.reshape(-1) * y", V, NO_HESS),
    # softmax and friends
    ("softmax(x)", V, NO_HESS), ("softmax(A, axis=1)", S, NO_HESS), ("log_softmax(x) * y", V, NO_HESS),
    ("sum(softmax(x) * y)", V, ALL), ("torch.nn.functional.normalize(A, dim=1)", S, NO_HESS),
    # convolutions and pooling
    ("np.convolve(x, y[:20])", V, NO_HESS), ("F.conv1d(X, W)", {"X": (1, 4, 200), "W": (4, 4, 5)}, NO_HESS),
    ("F.conv2d(X, W, padding=1)", {"X": (1, 2, 24, 24), "W": (2, 2, 3, 3)}, NO_HESS),
    ("F.max_pool2d(X * sum(X), 2)", {"X": (1, 2, 30, 30)}, NO_HESS),
    ("F.avg_pool2d(X * sum(X), 2)", {"X": (1, 2, 30, 30)}, NO_HESS),
    # fft
    ("abs(np.fft.fft(x))", V, NO_HESS), ("np.fft.irfft(np.fft.rfft(x) * 1j)", V, NO_HESS),
]

HESS_N = 80  # hessians: vectors of this length (a Hessian of x:300 is 700 KiB, its passes much more)


def inputs_for(shapes: dict, small: bool) -> dict:
    rng = np.random.default_rng(0)
    out = {}
    for name, shape in shapes.items():
        if small and len(shape) == 1 and shape[0] == N:
            shape = (HESS_N,)
        out[name] = rng.uniform(0.5, 1.5, shape)
    return out


def predicted_and_call(command: str, expr: str, b: dict):
    """(predicted peak bytes, the call) of one command."""
    if command in ("rev", "fwd", "chunk"):
        mode = {"rev": "reverse", "fwd": "forward", "chunk": "auto"}[command]
        budget = None
        if command == "chunk":  # a third of the auto plan's peak: chunks where the plan can make them
            budget = max(api.plan(expr, b).peak_bytes // 3, 2**20)
        plan = api.plan(expr, b, mode=mode, max_memory=budget)
        if plan.refusal:
            return None, None

        def jacobians():  # as jac eval computes them (report.eval_report): the plan's Jacobian objects
            problem = api.prepare(expr, b)
            planned = api.plan_of(problem, mode, plan.budget)
            return lambda: api.jacobians(problem, planned), planned.values_bytes

        return plan.peak_bytes, jacobians
    if command == "vjp":
        problem = api.prepare(expr, b)
        peak = problem.compiled.product_plan(None, "vjp").peak_bytes
        v = np.ones(problem.output.shape)
        return peak, lambda: api.vjp(expr, b, v=v)
    if command == "jvp":
        problem = api.prepare(expr, b)
        names = list(b)
        peak = problem.compiled.product_plan(None, "jvp", names).peak_bytes
        t = {n: np.ones(np.shape(b[n])) for n in names}
        return peak, lambda: api.jvp(expr, b, t)
    if command == "hess":
        problem = api.prepare(expr, b)
        plan = api.hessian_plan_of(problem)
        if plan.refusal:
            return None, None
        return plan.peak_bytes, lambda: api.hessian(expr, b)
    raise ValueError(command)


def measure(call, inputs: int) -> int:
    """The peak bytes of ``call()`` as a first call, plus the inputs' (or, for a Jacobian, the values', which its
    preparation computed before the measurement: a call that returns ``(the run, the values' bytes)``)."""
    setup = call.__name__ == "jacobians"
    (call()[0] if setup else call)()  # imports and first-use caches of the libraries
    api.clear_cache()
    gc.collect()
    if setup:
        call, inputs = call()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] + inputs
    finally:
        tracemalloc.stop()
        api.clear_cache()


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    listing = "--list" in sys.argv
    counts = {"cases": 0, "answered": 0, "refused": 0, "errors": 0, "UNDER": 0}
    part = sys.argv[sys.argv.index("--part") + 1] if "--part" in sys.argv else "1/1"
    chosen = fuzzkit.part_of([(expr, shapes, command) for expr, shapes, commands in CASES if only in expr
                              for command in commands], part)
    for expr, shapes, command in chosen:
        counts["cases"] += 1
        b = inputs_for(shapes, command == "hess")
        inputs = sum(a.nbytes for a in b.values())
        try:
            predicted, call = predicted_and_call(command, expr, b)
            if call is None:
                counts["refused"] += 1
                continue
            measured = measure(call, inputs)
        except Exception as err:  # noqa: BLE001 - a case jac refuses in that mode: counted, not measured
            counts["errors"] += 1
            if listing:
                print(f"ERROR {command:5} {expr[:60]:60} {type(err).__name__}: {str(err)[:90]}")
            continue
        counts["answered"] += 1
        under = measured > predicted * (1 + MARGIN[0]) + MARGIN[1]
        counts["UNDER"] += under
        if under or listing:
            print(f"{'UNDER' if under else 'ok   '} {command:5} {expr[:60]:60} predicted {predicted / 2**20:8.2f} MiB"
                  f"  measured {measured / 2**20:8.2f} MiB  ({measured / max(predicted, 1):5.2f}x)", flush=True)
    print("counts:", counts)


if __name__ == "__main__":
    main()
