"""Predicted peak memory against the measured peak, across the vocabulary, commands and sizes (session 41).

``--max-memory`` "bounds every command, values included, and is checked before allocating" (CONTRACT.md): every
command compares its plan's predicted peak with the budget before it allocates, so the prediction must not be
below what the command really holds. This probe extends ``memory40_probe.py``: a broad sample of the vocabulary
(element-wise chains, broadcasting, reductions, products, linear algebra, softmax and losses, indexing, cumulative
ops, convolutions and pooling, several outputs, batches) x commands (``jac eval`` reverse / forward / chunked under
a third of the plan's peak / under a budget just below the measured peak, ``jac vjp``, ``jac jvp``, ``jac hessian``,
``jac check``) x two sizes, each measured as a first call (the API's cache cleared; once before to import what it
imports lazily) under tracemalloc, which NumPy reports its buffers to (checked first: ``tracemalloc_sees_numpy``).

The prediction is what ``--explain`` prints: ``Plan.peak_bytes`` (eval), ``ProductPlan.peak_bytes`` (vjp, jvp),
``HessianPlan.peak_bytes``, a ``BatchPlan``'s (several outputs, ``--batch``: the whole report is measured, its
parse and values included; for several outputs at least what ``compiled.dense_fits`` checks before the structured
Jacobians are made dense arrays), and for ``jac check`` the sum of what ``tools/check.py`` plans (one evaluation and
the shifted inputs, the reverse plan, the forward columns with their comparison arrays). The measured peak adds
the bytes made before the measurement starts and that the plan counts (the inputs, or the values of a Jacobian's
preparation).

- UNDER: measured > predicted · (1 + 5 %) + 256 KiB (Python objects of the parse and the plan, which no plan
  counts): the budget check would let the command pass its budget.
- OVER10: predicted > 10 x measured + 1 MiB: a needless refusal of a budget ten times what the command needs.
- TIGHT (command ``tight``): ``jac eval`` under a budget 10 % below its measured peak must refuse or chunk to within
  it; TIGHT counts a run that answered and held more than the budget (the same margin).

    PYTHONPATH=. python benchmarks/memory41_probe.py [--only SUBSTRING] [--size small|large] [--command NAME] [--skip NAME] [--list]
        [--batched]

``--batched`` (session 42) runs only the ``--batch x`` cases of ``MANY_CASES``.

Prints each UNDER / OVER10 / TIGHT case (and, with --list, every case) and the counts.
"""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc

import numpy as np

from jacobi_cli.engine import memory, planner
from jacobi_cli.errors import JacError, JacLimitError
from jacobi_cli.tools import api, check, report

MARGIN = (0.05, 256 * 2**10)
OVER = (10, 2**20)
SIZES = {"large": (300, 60, 80), "small": (100, 20, 30)}  # a vector's length, a matrix's side, a Hessian's vector

ALL = ("rev", "fwd", "chunk", "tight", "vjp", "jvp", "hess", "check")
NO_HESS = ("rev", "fwd", "chunk", "tight", "vjp", "jvp", "check")
FIRST = ("rev", "fwd", "chunk", "tight", "vjp", "jvp")
MANY = ("eval", "vjp", "jvp", "hess", "check")  # several outputs / a batch: through the reports


def V(n, m):
    return {"x": (n,), "y": (n,)}


def S(n, m):
    return {"A": (m, m)}


def SB(n, m):
    return {"A": (m, m), "B": (m, m)}


def MV(n, m):
    return {"A": (m, m), "x": (m,)}


def LOG(n, m):  # logits (rows of 10 classes) and targets
    return {"Z": (n // 10, 10)}


def IMG(n, m):
    return {"X": (1, 2, m // 2, m // 2), "W": (2, 2, 3, 3)}


def SEQ(n, m):
    return {"X": (1, 4, 2 * n // 3), "W": (4, 4, 5)}


CASES = [
    # element-wise chains
    ("sin(x) * exp(x)", V, ALL), ("tanh(tanh(tanh(x)))", V, ALL), ("x * y + sin(x * y)", V, ALL),
    ("log(1 + x ** 2) / (1 + exp(-x))", V, ALL), ("maximum(x, y) * minimum(x, y)", V, NO_HESS),
    ("where(x > 0, x, 0.1 * x) * y", V, NO_HESS), ("sigmoid(x) * softplus(y)", V, ALL), ("exp(sin(x) * sum(x))", V, ALL),
    # broadcasting
    ("prod(x[:, None] * x, axis=0)", V, FIRST), ("sum(x[:, None] * y)", V, ALL),
    ("(x[:, None] * y).max(axis=1)", V, FIRST), ("sum(A * x, axis=0)", MV, ALL), ("prod(A + x, axis=1)", MV, FIRST),
    # reductions
    ("sum(x)", V, ALL), ("prod(x)", V, ALL), ("norm(x)", V, ALL), ("logsumexp(x)", V, ALL),
    ("np.std(x * y)", V, ALL), ("amax(A, axis=0)", S, NO_HESS), ("np.median(x)", V, FIRST),
    ("sort(x)[::2]", V, FIRST), ("np.linalg.norm(A, axis=0)", S, NO_HESS),
    # products
    ("A @ x", MV, ALL), ("x @ A @ x", MV, ALL), ("A @ (x * x)", MV, ALL), ("x @ A", MV, ALL),
    ("tanh(A @ tanh(A @ x))", MV, ALL), ("A @ B", SB, NO_HESS), ("sum(A @ B @ A)", SB, ALL),
    ("np.outer(x, y)", V, FIRST), ("np.outer(x, x) @ y", V, FIRST), ("np.dot(x, y) * x", V, ALL),
    ("np.einsum('ij,jk->ik', A, B)", SB, FIRST), ("np.kron(A[:5, :5], B[:6, :6])", SB, FIRST),
    ("trace(A @ B)", SB, ALL), ("A.T @ A", S, FIRST),
    # linear algebra
    ("np.linalg.inv(A + 60 * eye(A.shape[0]))", S, FIRST), ("np.linalg.det(A + 60 * eye(A.shape[0]))", S, ALL),
    ("np.linalg.slogdet(A)[1]", S, ALL), ("np.linalg.solve(A + 60 * eye(A.shape[0]), B)", SB, FIRST),
    ("np.linalg.eigh(A + A.T)[0]", S, FIRST), ("np.linalg.eigh(A + A.T)[1]", S, FIRST),
    ("np.linalg.eigvalsh(A + A.T)", S, FIRST), ("np.linalg.svd(A)[1]", S, FIRST),
    ("np.linalg.svd(A, compute_uv=False)", S, FIRST), ("np.linalg.svd(A)[0]", S, FIRST),
    ("np.linalg.qr(A)[0]", S, FIRST), ("np.linalg.cholesky(A @ A.T + 60 * eye(A.shape[0]))", S, FIRST),
    ("np.linalg.pinv(A)", S, FIRST), ("np.linalg.norm(A, 2)", S, FIRST), ("np.linalg.norm(A, 'nuc')", S, FIRST),
    ("sum(np.linalg.eigh(A + A.T)[0] ** 2)", S, ("rev", "vjp", "jvp", "hess")),
    # cumulative
    ("np.cumsum(x)", V, FIRST), ("np.cumprod(x / 2 + 1)", V, FIRST), ("torch.logcumsumexp(x, 0)", V, FIRST),
    ("torch.cummax(x * x.sum(), 0).values", V, FIRST), ("sum(np.cumsum(x) ** 2)", V, ALL),
    # indexing
    ("x[::-1] * y", V, FIRST), ("np.take(x, arange(x.shape[0] - 1, -1, -1))", V, FIRST), ("A[:, 3] * A[5]", S, FIRST),
    ("np.roll(x, 3) * x", V, FIRST), ("np.concatenate([x, y]) * 2", V, FIRST), ("np.triu(A) @ x", MV, FIRST),
    ("np.diag(x) @ A", MV, FIRST), ("zeros(x.shape[0]).at[arange(x.shape[0]) // 2].add(x * sum(x))", V, FIRST),
    ("torch.gather(A, 1, torch.tensor([[0, 1]] * A.shape[0]))", S, FIRST),
    # softmax, normalisation and losses
    ("softmax(x)", V, FIRST), ("softmax(A, axis=1)", S, FIRST), ("log_softmax(x) * y", V, FIRST),
    ("sum(softmax(x) * y)", V, ALL), ("F.normalize(A, dim=1)", S, FIRST), ("F.layer_norm(A, (A.shape[1],))", S, FIRST),
    ("F.mse_loss(x, y)", V, ALL), ("F.huber_loss(x, y)", V, ("rev", "vjp", "jvp", "check")),
    ("F.cross_entropy(Z, torch.tensor([1] * Z.shape[0]))", LOG, ALL),
    ("F.binary_cross_entropy_with_logits(x, y / 2)", V, ALL),
    # convolutions and pooling
    ("np.convolve(x, y[:20])", V, FIRST), ("F.conv1d(X, W)", SEQ, FIRST), ("F.conv2d(X, W, padding=1)", IMG, FIRST),
    ("F.max_pool2d(X * sum(X), 2)", IMG, FIRST), ("F.avg_pool2d(X * sum(X), 2)", IMG, FIRST),
    # fft
    ("abs(np.fft.fft(x))", V, FIRST),
]

# several outputs, and batches (x batched along axis 0: B examples of the shapes' vectors)
MANY_CASES = [
    ("sin(x) * y, sum(x * y)", V, None), ("A @ x, x @ A", MV, None), ("np.outer(x, y), x * y", V, None),
    ("np.linalg.eigh(A + A.T)", S, None), ("sin(x) * exp(x)", V, "x"), ("A @ x", MV, "x"),
    ("sum(softmax(x) * y)", V, "x"), ("np.outer(x, y)", V, "x"), ("sin(x), sum(x) * x", V, "x"),
]
BATCH = 6
MANY_SIZE = {"large": (120, 40, 30), "small": (40, 16, 12)}


def inputs_for(shapes, n: int, m: int, batched: str | None = None) -> dict:
    rng = np.random.default_rng(0)
    out = {}
    for name, shape in shapes(n, m).items():
        if name == batched:
            shape = (BATCH,) + shape
        out[name] = rng.uniform(0.5, 1.5, shape)
    return out


def tracemalloc_sees_numpy() -> bool:
    """Does tracemalloc count NumPy's data buffers (NumPy reports them to it)?"""
    tracemalloc.start()
    try:
        a = np.ones(2**20)
        seen = tracemalloc.get_traced_memory()[1]
        del a
        return seen >= 8 * 2**20
    finally:
        tracemalloc.stop()


def check_prediction(problem, budget: int) -> int:
    """What ``check.check`` plans, as one peak: one evaluation and the shifted inputs beside the reverse plan
    (its values, Jacobians and largest pass), then per input a chunk of forward columns and their comparison
    arrays beside the Jacobians."""
    evaluation = check._evaluation_bytes(problem)
    plan = check._reverse_plan(problem, budget, evaluation)
    room = budget - plan.values_bytes - plan.result_bytes - evaluation
    g, values = problem.graph, problem.values
    per_column = check.CHECK_ARRAYS * math.prod(g.output_shape) * 8
    columns = 0
    for name in problem.wrt:
        batch = check.plan_columns(problem, name, room, budget)
        columns = max(columns, planner.probe_forward(g, values, name, batch).peak + batch * per_column)
    return evaluation + max(plan.peak_bytes, plan.values_bytes + plan.result_bytes + columns)


def predicted_and_call(command: str, expr: str, b: dict):
    """(predicted peak bytes or None when the plan refuses, a callable returning (the call, bytes held before it))."""
    if command in ("rev", "fwd", "chunk"):
        mode = {"rev": "reverse", "fwd": "forward", "chunk": "auto"}[command]
        budget = None
        if command == "chunk":  # a third of the auto plan's peak: chunks where the plan can make them
            budget = max(api.plan(expr, b).peak_bytes // 3, 2**20)
        plan = api.plan(expr, b, mode=mode, max_memory=budget)
        if plan.refusal:
            return None, None

        def setup():  # as jac eval computes them (report.eval_report): the plan's Jacobian objects
            problem = api.prepare(expr, b)
            planned = api.plan_of(problem, mode, plan.budget)
            return (lambda: api.jacobians(problem, planned)), planned.values_bytes

        return plan.peak_bytes, setup
    inputs = sum(a.nbytes for a in b.values())
    if command == "vjp":
        problem = api.prepare(expr, b)
        peak = problem.compiled.product_plan(None, "vjp").peak_bytes
        v = np.ones(problem.output.shape)
        return peak, lambda: ((lambda: api.vjp(expr, b, v=v)), inputs)
    if command == "jvp":
        problem = api.prepare(expr, b)
        names = list(b)
        peak = problem.compiled.product_plan(None, "jvp", names).peak_bytes
        t = {n: np.ones(np.shape(b[n])) for n in names}
        return peak, lambda: ((lambda: api.jvp(expr, b, t)), inputs)
    if command == "hess":
        problem = api.prepare(expr, b)
        plan = api.hessian_plan_of(problem)
        if plan.refusal:
            return None, None
        return plan.peak_bytes, lambda: ((lambda: api.hessian(expr, b)), inputs)
    if command == "check":
        budget = api.plan(expr, b).budget
        peak = check_prediction(api.prepare(expr, b), budget)

        def setup():
            problem = api.prepare(expr, b)
            return (lambda: check.check(problem, budget=budget)), sum(getattr(v, "nbytes", 8) for v in problem.values)

        return peak, setup
    raise ValueError(command)


def many_predicted_and_call(command: str, expr: str, b: dict, batched: str | None):
    """A report of several outputs or a batch: its BatchPlan's peak (``on_plan``), the whole report measured."""
    batch = [batched] if batched else None
    inputs = sum(a.nbytes for a in b.values())
    if command == "eval":
        seen = []
        report.eval_report(expr, b, batch=batch, on_plan=seen.append)
        return max(seen[0].peak_bytes, 0 if batched else dense_need(seen[0])), \
            lambda: ((lambda: report.eval_report(expr, b, batch=batch)), inputs)
    if command == "hess":
        seen = []
        report.hessian_report(expr, b, batch=batch, on_plan=seen.append)
        return seen[0].peak_bytes, lambda: ((lambda: report.hessian_report(expr, b, batch=batch)), inputs)
    problem = (api.prepare_batch(expr, b, batch, several=True)[0] if batched
               else api.prepare(expr, b, several=True))
    if command in ("vjp", "jvp"):  # the pass's product plan (what the report's bind checks), and the results
        names = list(b) if command == "jvp" else None
        peak = problem.compiled.product_plan(None, command, names).peak_bytes
        if batched:  # session 42: what api.stacked_fits checks, the stacked results and the rest
            peak = api.stacked_need(problem, api.prepare_batch(expr, b, batch, several=True)[1], command, names)
        if command == "vjp":
            call = lambda: report.vjp_report(expr, b, v="ones", batch=batch)  # noqa: E731
        else:
            t = {n: "ones" for n in b}
            call = lambda: report.jvp_report(expr, b, t, batch=batch)  # noqa: E731
        return peak, lambda: (call, inputs)
    if command == "check":
        budget = memory.default_budget()
        peak = max(check_prediction(p, budget) for _, p in api.output_problems(problem))
        return peak, lambda: ((lambda: report.check_report(expr, b, batch=batch)), inputs)
    raise ValueError(command)


def dense_need(batch_plan) -> int:
    """What ``jac eval --json`` of several outputs checks before it makes the structured Jacobians dense
    (``compiled.dense_fits``): every output's Jacobians, their dense arrays and the values, from the plans."""
    plans = list(batch_plan.plans.values())
    values = max(p.values_bytes for p in plans)
    results = sum(p.result_bytes for p in plans)
    made = [(math.prod(p.y_shape) * math.prod(i.x_shape) * 8, i.nnz) for p in plans for i in p.inputs.values()
            if i.structure != "dense"]
    if not made:
        return 0
    return values + results + sum(a for a, _ in made) + max(n * 8 for _, n in made)


def measure(setup) -> int:
    """The peak bytes of a call as a first call, plus the bytes made before it that its plan counts."""
    call, _ = setup()
    call()  # imports and first-use caches of the libraries
    api.clear_cache()
    gc.collect()
    call, held = setup()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] + held
    finally:
        tracemalloc.stop()
        api.clear_cache()


def tight(expr: str, b: dict, measured: int):
    """``jac eval`` under a budget 10 % below its measured peak: None when refused, else the peak it held and the
    budget."""
    budget = int(measured * 0.9)
    try:
        plan = api.plan(expr, b, max_memory=budget)
    except JacLimitError:
        return None
    if plan.refusal:
        return None

    def setup():
        problem = api.prepare(expr, b)
        planned = api.plan_of(problem, "auto", budget)
        return (lambda: api.jacobians(problem, planned)), planned.values_bytes

    return measure(setup), budget


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    sizes = [sys.argv[sys.argv.index("--size") + 1]] if "--size" in sys.argv else list(SIZES)
    commands = sys.argv[sys.argv.index("--command") + 1] if "--command" in sys.argv else ""
    skip = sys.argv[sys.argv.index("--skip") + 1] if "--skip" in sys.argv else ""  # a command left out (hess: slow)
    listing = "--list" in sys.argv
    batched_only = "--batched" in sys.argv
    if not tracemalloc_sees_numpy():
        sys.exit("tracemalloc does not see NumPy's buffers here: nothing measured")
    counts = {"cases": 0, "answered": 0, "refused": 0, "errors": 0, "UNDER": 0, "OVER10": 0, "TIGHT": 0}
    worst = []

    def record(kind, command, expr, size, predicted, measured):
        counts["answered"] += 1
        under = measured > predicted * (1 + MARGIN[0]) + MARGIN[1]
        over = command != "tight" and predicted > OVER[0] * measured + OVER[1]
        flag = ("TIGHT" if command == "tight" else "UNDER") if under else "OVER10" if over else ""
        if flag:
            counts[flag] += 1
            worst.append((measured / max(predicted, 1), command, expr, size))
        if flag or listing:
            what = "budget" if command == "tight" else "predicted"
            print(f"{flag or 'ok':6} {size:5} {command:5} {expr[:58]:58} {what} {predicted / 2**20:8.2f} MiB"
                  f"  measured {measured / 2**20:8.2f} MiB  ({measured / max(predicted, 1):5.2f}x)", flush=True)

    def error(command, expr, size, err):
        counts["errors"] += 1
        if listing:
            print(f"ERROR  {size:5} {command:5} {expr[:58]:58} {type(err).__name__}: {str(err)[:90]}")

    for size in sizes:
        n, m, h = SIZES[size]
        for expr, shapes, cmds in CASES:
            if (only and only not in expr) or batched_only:
                continue
            for command in cmds:
                if (commands and command != commands) or command == skip:
                    continue
                counts["cases"] += 1
                b = inputs_for(shapes, h if command == "hess" else n, m)
                try:
                    if command == "tight":
                        predicted, setup = predicted_and_call("rev", expr, b)
                        if setup is None:
                            counts["refused"] += 1
                            continue
                        found = tight(expr, b, measure(setup))
                        if found is None:
                            counts["refused"] += 1
                            continue
                        record("tight", command, expr, size, found[1], found[0])
                        continue
                    predicted, setup = predicted_and_call(command, expr, b)
                    if setup is None:
                        counts["refused"] += 1
                        continue
                    measured = measure(setup)
                except (JacError, ValueError, TypeError, RuntimeError) as err:
                    error(command, expr, size, err)
                    continue
                record("one", command, expr, size, predicted, measured)
        n, m, h = MANY_SIZE[size]
        for expr, shapes, batched in MANY_CASES:
            if (only and only not in expr) or (batched_only and not batched):
                continue
            for command in MANY:
                if (commands and command != commands) or command == skip:
                    continue
                counts["cases"] += 1
                b = inputs_for(shapes, h if command == "hess" else n, m, batched)
                label = f"{expr} [batch {batched}]" if batched else expr
                try:
                    predicted, setup = many_predicted_and_call(command, expr, b, batched)
                    if setup is None:
                        counts["refused"] += 1
                        continue
                    measured = measure(setup)
                except (JacError, ValueError, TypeError, RuntimeError, IndexError) as err:
                    error(command, label, size, err)
                    continue
                record("many", command, label, size, predicted, measured)
    print("counts:", counts)
    for ratio, command, expr, size in sorted(worst, reverse=True)[:10]:
        print(f"  worst: {ratio:6.2f}x {size} {command} {expr}")


if __name__ == "__main__":
    main()
