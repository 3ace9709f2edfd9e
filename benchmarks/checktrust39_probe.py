"""Can `jac check` be fooled? (session 39)

Part 1, mutations must fail: for each expression below, every differentiable op of its graph has its VJP rule
(and separately its JVP rule) wrapped in-process to be slightly wrong (scaled by 1.01, one entry's sign flipped,
a square result transposed, the term dropped). Where the mutation changes what `jac eval` answers (its
Jacobian differs from the unmutated one), `jac check` must FAIL; a PASS there is a blind spot. The library's
files are never edited: the rules are swapped on the registry's frozen blocks and put back.

Part 2, right derivatives must pass: random smooth expressions at points of magnitudes 1e-6..1e6, near-singular
but valid matrices, float32, big outputs (chunked columns) and batches; a FAIL there is a false fail.

Part 3, `jac run` suites: a right expectation passes, a wrong one fails with exit 1.

    (ulimit -v 6000000; PYTHONPATH=. python benchmarks/checktrust39_probe.py [--quick] [--seed N])

Prints counts per part and the cases that went wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
import time

import numpy as np

from jacobi_cli.ir.ops import OPS, P  # noqa: E402
from jacobi_cli.tools import api, report  # noqa: E402

# (expression, {name: (shape, low, high)}, extra {name: fixed value}): points drawn uniformly in [low, high]
SPD = "A @ A.T + 3 * eye(3)"
CASES = [
    ("exp(x) * sin(x)", {"x": ((4,), -1.5, 1.5)}),
    ("log(x) + sqrt(x)", {"x": ((4,), 0.3, 3.0)}),
    ("tanh(x) * sigmoid(y)", {"x": ((3,), -2, 2), "y": ((3,), -2, 2)}),
    ("x ** y", {"x": ((3,), 0.5, 2), "y": ((3,), -1, 2)}),
    ("x / y - x * y", {"x": ((3,), -2, 2), "y": ((3,), 0.5, 2)}),
    ("arctan(x) + arcsin(x / 3) + cosh(x)", {"x": ((4,), -1, 1)}),
    ("softplus(x) + torch.nn.functional.gelu(x) + torch.nn.functional.silu(x)", {"x": ((4,), -2, 2)}),
    ("torch.nn.functional.elu(x) + x ** 2", {"x": ((4,), 0.2, 2)}),
    ("torch.special.erf(x) + torch.lgamma(x + 3) + torch.digamma(x + 3)", {"x": ((4,), -1, 1)}),
    ("np.hypot(x, y) + np.arctan2(x, y) + np.logaddexp(x, y)", {"x": ((3,), 0.5, 2), "y": ((3,), 0.5, 2)}),
    ("maximum(x, y) + minimum(x, 2 * y)", {"x": ((4,), -2, 2), "y": ((4,), -2, 2)}),
    ("clip(x, -0.5, 0.5) + relu(x) + abs(x)", {"x": ((5,), -2, 2)}),
    ("sum(x ** 3)", {"x": ((4,), -2, 2)}),
    ("mean(A, axis=0)", {"A": ((3, 4), -2, 2)}),
    ("prod(x)", {"x": ((4,), 0.5, 2)}),
    ("max(A, axis=1)", {"A": ((3, 4), -2, 2)}),
    ("norm(x)", {"x": ((4,), -2, 2)}),
    ("logsumexp(A, axis=1)", {"A": ((3, 4), -2, 2)}),
    ("softmax(x, dim=0)", {"x": ((4,), -2, 2)}),
    ("cumsum(x, 0) * cumprod(x, 0)", {"x": ((4,), 0.5, 1.5)}),
    ("A @ B", {"A": ((3, 3), -1, 1), "B": ((3, 3), -1, 1)}),
    ("A @ x", {"A": ((3, 4), -1, 1), "x": ((4,), -1, 1)}),
    ("A.T @ B + A * B", {"A": ((3, 3), -1, 1), "B": ((3, 3), -1, 1)}),
    ("np.einsum('ij,jk->ik', A, B)", {"A": ((2, 3), -1, 1), "B": ((3, 2), -1, 1)}),
    ("trace(A @ A)", {"A": ((3, 3), -1, 1)}),
    ("det(A)", {"A": ((3, 3), -1, 1)}),
    ("inv(A)", {"A": ((3, 3), -1, 1)}),
    ("torch.linalg.solve(A, b)", {"A": ((3, 3), -1, 1), "b": ((3,), -1, 1)}),
    (f"torch.linalg.cholesky({SPD})", {"A": ((3, 3), -1, 1)}),
    (f"torch.linalg.eigvalsh({SPD})", {"A": ((3, 3), -1, 1)}),
    ("torch.linalg.svdvals(A)", {"A": ((3, 2), -1, 1)}),
    ("torch.linalg.matrix_exp(A)", {"A": ((3, 3), -0.5, 0.5)}),
    ("torch.linalg.qr(A).R", {"A": ((3, 3), -1, 1)}),
    ("torch.logdet(" + SPD + ")", {"A": ((3, 3), -1, 1)}),
    ("A[1:, 0] * A[0, :2]", {"A": ((3, 3), -2, 2)}),
    ("x[[0, 2, 2]] * 2", {"x": ((4,), -2, 2)}),
    ("torch.sort(x).values * torch.arange(4.0)", {"x": ((4,), -2, 2)}),
    ("reshape(A, (6,)) * arange(6.0)", {"A": ((2, 3), -2, 2)}),
    ("transpose(A) * arange(6.0).reshape(3, 2)", {"A": ((2, 3), -2, 2)}),
    ("where(x > 0, x ** 2, sin(x))", {"x": ((5,), -2, 2)}),
    ("torch.nn.functional.conv1d(x, w)", {"x": ((1, 1, 6), -1, 1), "w": ((1, 1, 3), -1, 1)}),
    ("torch.nn.functional.conv2d(x, w)", {"x": ((1, 1, 4, 4), -1, 1), "w": ((1, 1, 2, 2), -1, 1)}),
    ("torch.fft.rfft(x).abs()", {"x": ((6,), -1, 1)}),
    ("torch.fft.fft(x).real * arange(5.0)", {"x": ((5,), -1, 1)}),
    ("torch.nn.functional.log_softmax(A, dim=1)", {"A": ((2, 3), -2, 2)}),
    ("torch.nn.functional.mse_loss(x, y)", {"x": ((4,), -2, 2), "y": ((4,), -2, 2)}),
    ("torch.nn.functional.cross_entropy(A, torch.tensor([0, 2]))", {"A": ((2, 3), -2, 2)}),
    ("torch.outer(x, y) ** 2", {"x": ((3,), -2, 2), "y": ((2,), -2, 2)}),
    ("torch.var(x) + torch.std(x)", {"x": ((5,), -2, 2)}),
    ("torch.special.i0(x) + torch.special.ndtri(sigmoid(x))", {"x": ((4,), -1, 1)}),
    ("scipy.special.gammainc(a, x)", {"a": ((3,), 0.5, 3), "x": ((3,), 0.5, 3)}),
    ("scipy.special.jv(1.5, x) + scipy.special.kv(0.5, x)", {"x": ((3,), 0.5, 3)}),
    ("torch.cdist(A, B)", {"A": ((3, 2), -1, 1), "B": ((2, 2), -1, 1)}),
    ("torch.nn.functional.layer_norm(A, (3,))", {"A": ((2, 3), -2, 2)}),
    ("torch.tril(A) @ torch.triu(A)", {"A": ((3, 3), -1, 1)}),
    ("torch.kron(A, B)", {"A": ((2, 2), -1, 1), "B": ((2, 2), -1, 1)}),
    ("torch.atan2(x, y) * torch.fmod(x, 1.7)", {"x": ((3,), 0.2, 1.5), "y": ((3,), 0.5, 2)}),
]


def draw(spec: dict, rng, dtype=np.float64) -> dict:
    return {name: rng.uniform(lo, hi, size=shape).astype(dtype) for name, (shape, lo, hi) in spec.items()}


def quiet_check(expr, bindings, **kw):
    """``(passed, data)`` of ``jac check``, or ``(None, message)`` when it refuses (exit 2)."""
    from jacobi_cli.errors import JacError
    api.clear_cache()
    try:
        r = report.check_report(expr, bindings, **kw)
    except JacError as e:
        return None, str(e)
    return bool(r.data["passed"]), r.data


def eval_jacobians(expr, bindings, **kw) -> dict | None:
    from jacobi_cli.errors import JacError
    api.clear_cache()
    try:
        found = api.jacobian(expr, bindings, **kw)
    except JacError:
        return None
    return {k: np.asarray(v, dtype=np.float64) for k, v in found.items()}


def ops_of(expr, bindings) -> list:
    problem = api.prepare(expr, bindings)
    seen = []
    for node in problem.graph.nodes:
        op = OPS.get(node.op)
        if op is None or op.nondiff or not (op.vjp or op.jvp) or node.op in seen:
            continue
        if node.requires_grad:
            seen.append(node.op)
    return seen


def _shape(r):
    return tuple(getattr(r, "shape", np.shape(r)))


def mutate(kind: str):
    """A wrapper turning a rule into a slightly wrong one, or None where the kind does not apply."""
    def scale(r):
        return P.mul(r, 1.01)

    def flip(r):
        s = _shape(r)[1:]
        m = np.ones(s)
        m.reshape(-1)[:1] = -1.0
        return P.mul(r, m.astype(np.float64))

    def transpose(r):
        s = _shape(r)
        if len(s) < 3 or s[-1] != s[-2] or s[-1] < 2:
            return r
        axes = tuple(range(len(s) - 2)) + (len(s) - 1, len(s) - 2)
        return P.transpose(r, axes=axes)

    def drop(r):
        return P.mul(r, 0.0)

    return {"scale": scale, "flip": flip, "transpose": transpose, "drop": drop}[kind]


@contextlib.contextmanager
def mutated(op_name: str, mode: str, kind: str):
    """The op's ``mode`` rules (every argument's) wrapped by the mutation, restored after."""
    op = OPS[op_name]
    original = getattr(op, mode)
    wrap = mutate(kind)

    def wrapped(rule):
        if rule is None:
            return None

        def changed(*args, **params):
            out = rule(*args, **params)
            return out if out is None else wrap(out)
        return changed

    object.__setattr__(op, mode, tuple(wrapped(r) for r in original))
    try:
        yield
    finally:
        object.__setattr__(op, mode, original)


def differs(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return False
    for k in a:
        x, y = a[k], b[k]
        scale = max(1.0, float(np.nanmax(np.abs(x))) if x.size else 1.0)
        if x.shape != y.shape or np.nanmax(np.abs(x - y), initial=0.0) > 1e-9 * scale:
            return True
    return False


def part1(rng, points: int, kinds) -> dict:
    counts = {"mutations": 0, "answer_changed": 0, "caught": 0, "missed": 0, "not_reached_check_fails": 0,
              "not_reached_check_passes": 0, "refused": 0, "baseline_fail": 0}
    missed = []
    for expr, spec in CASES:
        for _ in range(points):
            values = draw(spec, rng)
            ok, data = quiet_check(expr, values)
            if ok is not True:
                counts["baseline_fail"] += 1
                missed.append(("baseline", expr, None, None, data if ok is None else "FAIL"))
                continue
            right = eval_jacobians(expr, values)
            for op_name in ops_of(expr, values):
                for mode in ("vjp", "jvp"):
                    for kind in kinds:
                        with mutated(op_name, mode, kind):
                            wrong = eval_jacobians(expr, values)
                            passed, _ = quiet_check(expr, values)
                        counts["mutations"] += 1
                        if passed is None:
                            counts["refused"] += 1
                            continue
                        if differs(right, wrong):
                            counts["answer_changed"] += 1
                            if passed:
                                counts["missed"] += 1
                                missed.append(("missed", expr, op_name, mode, kind))
                            else:
                                counts["caught"] += 1
                        elif passed:
                            counts["not_reached_check_passes"] += 1
                            missed.append(("unreached", expr, op_name, mode, kind))
                        else:
                            counts["not_reached_check_fails"] += 1
    return counts, missed


UNARY = ("({a}) ** 2", "sqrt({a})", "({a}) ** 1.5", "1 / ({a})", "({a}) ** (1 / 3)")
BINARY = ("({a}) * ({b})", "({a}) / ({b})", "({a}) + ({b})", "np.hypot({a}, {b})")
OUTER = ("{a}", "sum({a})", "norm({a})", "log({a})", "sin(log({a}))", "tanh(log({a}))", "mean({a}) * ({a})",
         "prod({a})", "logsumexp(log({a}))", "softmax(log({a}), dim=0)")


def smooth(rng, depth: int) -> str:
    """A random smooth expression of positive vectors x, y, scale-free (homogeneous) inside, so any
    magnitude of x and y keeps every intermediate positive and finite."""
    if depth == 0:
        return str(rng.choice(["x", "y"]))
    if rng.random() < 0.5:
        return str(rng.choice(UNARY)).format(a=smooth(rng, depth - 1))
    return str(rng.choice(BINARY)).format(a=smooth(rng, depth - 1), b=smooth(rng, depth - 1))


def kinked(data) -> int:
    """Kinks ``jac check`` reported at the point (every expression of part 2 is smooth there)."""
    inputs = data.get("inputs", {})
    return sum(int(info.get("kink_count", 0) or 0) for info in inputs.values() if isinstance(info, dict))


def near_singular(rng, n: int, smallest: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.geomspace(1.0, smallest, n)) @ w.T


MATRIX = ("det(A)", "inv(A)", "torch.linalg.solve(A, b)", "torch.linalg.slogdet(A).logabsdet", "trace(inv(A) @ A.T)",
          "torch.linalg.pinv(A)", "A @ inv(A + A.T @ A)")


def part2(rng, count: int) -> tuple:
    counts = {"checks": 0, "false_fail": 0, "false_kink": 0, "refused": 0}
    bad = []

    def run(label, expr, values, **kw):
        ok, data = quiet_check(expr, values, **kw)
        counts["checks"] += 1
        if ok is None:
            counts["refused"] += 1
            return
        kinks = kinked(data)
        if not ok:
            counts["false_fail"] += 1
            bad.append(("false fail", label, expr, {k: np.asarray(v).ravel()[:3].tolist() for k, v in values.items()}))
        elif kinks:
            counts["false_kink"] += 1
            bad.append(("false kink", label, expr, {k: np.asarray(v).ravel()[:3].tolist() for k, v in values.items()}))

    for i in range(count):
        expr = str(rng.choice(OUTER)).format(a=smooth(rng, int(rng.integers(1, 4))))
        for magnitude in (1e-6, 1e-3, 1.0, 1e3, 1e6):
            values = {"x": magnitude * rng.uniform(0.5, 2, 3), "y": magnitude * rng.uniform(0.5, 2, 3)}
            run(f"magnitude {magnitude:g}", expr, values)
        for magnitude in (1e-2, 1.0, 1e2):
            values = {"x": (magnitude * rng.uniform(0.5, 2, 3)).astype(np.float32),
                      "y": (magnitude * rng.uniform(0.5, 2, 3)).astype(np.float32)}
            run(f"float32 magnitude {magnitude:g}", expr, values, dtype="float32")
        values = {"x": rng.uniform(0.5, 2, (4, 3)), "y": rng.uniform(0.5, 2, 3)}
        run("batch x (4 examples)", expr, values, batch=["x"])
    for i in range(count):
        expr = MATRIX[i % len(MATRIX)]
        for smallest in (1e-3, 1e-5, 1e-7):
            values = {"A": near_singular(rng, 3, smallest), "b": rng.standard_normal(3)}
            if "b" not in expr:
                del values["b"]
            run(f"near-singular {smallest:g}", expr, values)
    for n in (60, 150):  # a big output checked a chunk of columns at a time under a small budget
        values = {"x": rng.uniform(0.5, 2, n), "y": rng.uniform(0.5, 2, n)}
        run(f"chunked outer {n}", "torch.outer(sin(x), y) * 3", values, max_memory="2MB")
        run(f"chunked float32 {n}", "torch.outer(sin(x), y) * 3",
            {k: v.astype(np.float32) for k, v in values.items()}, dtype="float32", max_memory="2MB")
    return counts, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", default="123")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    if "1" in args.part:
        kinds = ("scale", "flip") if args.quick else ("scale", "flip", "transpose", "drop")
        counts, missed = part1(rng, 1 if args.quick else 3, kinds)
        print("part 1 (mutations):", counts)
        for m in missed:
            print("  ", m)
        print(f"  {time.time() - t0:.0f} s")
    if "2" in args.part:
        counts, bad = part2(rng, 10 if args.quick else 40)
        print("part 2 (right derivatives):", counts)
        for b in bad:
            print("  ", b)
        print(f"  {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
