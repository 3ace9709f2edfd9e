"""Can `jac check` be fooled? (session 39)

Part 1, mutations must fail: for each expression below, every differentiable op of its graph has its VJP rule
(and separately its JVP rule) wrapped in-process to be slightly wrong (scaled by 1.01, one entry's sign flipped,
a square result transposed, the term dropped). Where the mutation changes what `jac eval` answers (its
Jacobian differs from the unmutated one), `jac check` must FAIL; a PASS there is a blind spot. The library's
files are never edited: the rules are swapped on the registry's frozen blocks and put back.

Part 2, right derivatives must pass: random smooth expressions at points of magnitudes 1e-6..1e6, near-singular
but valid matrices, float32, big outputs (chunked columns) and batches; a FAIL there is a false fail.

Part 3, `jac run` suites: a right expectation passes, a wrong one fails with exit 1.

Part 4, structure rules: each op's rule that keeps a structured batch structured, its values ×1.01, at sizes where
the plans keep structure (forward mode included): where `jac eval`'s answer changed, `jac check` must FAIL.

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


def change(a: dict | None, b: dict | None) -> float:
    """The largest change of an entry between two answers, relative to the largest entry (at least 1)."""
    if a is None or b is None:
        return 0.0
    worst = 0.0
    for k in a:
        x, y = a[k], b[k]
        if x.shape != y.shape:
            return np.inf
        scale = max(1.0, float(np.nanmax(np.abs(x))) if x.size else 1.0)
        worst = max(worst, float(np.nanmax(np.abs(x - y), initial=0.0)) / scale)
    return worst


def differs(a: dict | None, b: dict | None, dtype="float64") -> bool:
    """Did the mutation change the answer beyond the dtype's rounding (what the check can see at all)?"""
    return change(a, b) > (1e-9 if np.dtype(dtype) == np.float64 else 1e-4)


def part1(rng, points: int, kinds, dtype: str = "float64", batched: bool = False, cases=CASES) -> dict:
    """Every op of every case mutated in each mode and kind; ``dtype`` and ``batched`` (the first input
    given a batch axis of 2 examples, ``--batch NAME``) as the check runs them."""
    counts = {"mutations": 0, "answer_changed": 0, "caught": 0, "missed": 0, "not_reached_check_fails": 0,
              "not_reached_check_passes": 0, "refused": 0, "baseline_fail": 0}
    missed = []
    for expr, spec in cases:
        for _ in range(points):
            values = draw(spec, rng, np.dtype(dtype))
            kw = {"dtype": dtype}
            op_names = ops_of(expr, values)
            if batched:
                first = next(iter(values))
                values[first] = np.stack([values[first], draw(spec, rng, np.dtype(dtype))[first]])
                kw["batch"] = [first]
            ok, data = quiet_check(expr, values, **kw)
            if ok is not True:
                counts["baseline_fail"] += 1
                missed.append(("baseline", expr, None, None, data if ok is None else "FAIL"))
                continue
            right = eval_jacobians(expr, values, **kw)
            for op_name in op_names:
                for mode in ("vjp", "jvp"):
                    for kind in kinds:
                        with mutated(op_name, mode, kind):
                            wrong = eval_jacobians(expr, values, **kw)
                            passed, _ = quiet_check(expr, values, **kw)
                        counts["mutations"] += 1
                        if passed is None:
                            counts["refused"] += 1
                            continue
                        if differs(right, wrong, dtype):
                            counts["answer_changed"] += 1
                            if passed:
                                counts["missed"] += 1
                                missed.append(("missed", expr, op_name, mode, kind, f"change {change(right, wrong):.1e}"))
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


def explained(data) -> bool:
    """Does the failure say its modes differ by rounding at an ill-conditioned point (session 39's note)?"""
    try:
        from jacobi_cli.tools.check import rounding_sized
    except ImportError:  # before session 39
        return False
    return any(isinstance(info, dict) and info.get("forward_vs_reverse") and not info["forward_vs_reverse"]["passed"]
               and rounding_sized(info["forward_vs_reverse"]["max_abs_error"], info.get("max_abs_derivative", 0.0),
                                  data.get("dtype", "float64"))
               for info in data.get("inputs", {}).values())


def near_singular(rng, n: int, smallest: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.geomspace(1.0, smallest, n)) @ w.T


MATRIX = ("det(A)", "inv(A)", "torch.linalg.solve(A, b)", "torch.linalg.slogdet(A).logabsdet", "trace(inv(A) @ A.T)",
          "torch.linalg.pinv(A)", "A @ inv(A + A.T @ A)")


def part2(rng, count: int) -> tuple:
    counts = {"checks": 0, "false_fail": 0, "false_fail_rounding_named": 0, "false_kink": 0, "refused": 0}
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
            if explained(data):
                counts["false_fail_rounding_named"] += 1
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


SUITE_CASES = [  # (jac's text, torch's function of the inputs, inputs)
    ("sin(x) * x", lambda x: torch_mod().sin(x) * x, {"x": ((4,), -2, 2)}),
    ("A @ x", lambda A, x: A @ x, {"A": ((3, 4), -1, 1), "x": ((4,), -1, 1)}),
    ("torch.softmax(x, dim=0)", lambda x: torch_mod().softmax(x, dim=0), {"x": ((4,), -2, 2)}),
    ("sum(x ** 3)", lambda x: (x ** 3).sum(), {"x": ((4,), -2, 2)}),
    ("torch.linalg.inv(A)", lambda A: torch_mod().linalg.inv(A), {"A": ((3, 3), -1, 1)}),
]


def torch_mod():
    import torch
    return torch


def toml_array(a) -> str:
    import json
    return json.dumps(np.asarray(a, dtype=np.float64).tolist())


def truth(fn, values: dict) -> dict:
    """PyTorch's value, Jacobian per input, vjp along ones and jvp along ones."""
    torch = torch_mod()
    names = list(values)
    ts = [torch.tensor(values[n], dtype=torch.float64) for n in names]
    y = fn(*ts)
    jac = torch.autograd.functional.jacobian(fn, tuple(ts))
    _, grads = torch.autograd.functional.vjp(fn, tuple(ts), torch.ones_like(y))
    _, jvp = torch.autograd.functional.jvp(fn, tuple(ts), tuple(torch.ones_like(t) for t in ts))
    return {"value": y.numpy(), "jacobian": {n: j.numpy() for n, j in zip(names, jac)},
            "grad": {n: g.numpy() for n, g in zip(names, grads)}, "jvp": jvp.numpy()}


def suite_text(expr, values, t, wrong=None, tolerance="", check=False) -> str:
    """One case: the expectations ``t``; ``wrong`` names the one whose largest entry is moved by 1e-5 of it;
    ``tolerance``: where rtol = 1e-4 is written (``expectation``, ``case``, ``defaults``) or nowhere."""
    def expected(key, a):
        a = np.array(a, dtype=np.float64, order="C")
        if key == wrong:  # the largest entry moved by 1e-5 of it: beyond rtol = atol = 1e-7, within rtol = 1e-4
            flat = a.reshape(-1)
            i = int(np.argmax(np.abs(flat)))
            flat[i] += 1e-5 * flat[i]
        text = toml_array(a)
        return f"{{ expected = {text}, rtol = 1e-4 }}" if tolerance == "expectation" and key == wrong else text
    lines = ["[defaults]\nrtol = 1e-4"] if tolerance == "defaults" else []
    binds = ", ".join(f"{n} = {toml_array(v)}" for n, v in values.items())
    lines += ["[[case]]", 'name = "c"', f"expr = {expr!r}".replace("'", '"') if '"' not in expr else f"expr = '{expr}'",
              f"bindings = {{ {binds} }}", f"value = {expected('value', t['value'])}"]
    if tolerance == "case":
        lines.append("rtol = 1e-4")
    for n, j in t["jacobian"].items():
        lines.append(f"jacobian.{n} = {expected('jacobian.' + n, j)}")
    if check:
        lines.append("check = true")
    lines += ["[[case.vjp]]", 'v = "ones"'] + [f"grad.{n} = {expected('grad.' + n, g)}" for n, g in t["grad"].items()]
    ones = ", ".join(f'{n} = "ones"' for n in values)
    lines += ["[[case.jvp]]", f"tangent = {{ {ones} }}", f"expected = {expected('jvp', t['jvp'])}"]
    return "\n".join(lines) + "\n"


def run_suite_text(text: str) -> tuple:
    """``(exit code, failing keys)`` of ``jac run`` on the text, in this process."""
    from jacobi_cli.tools import suite
    api.clear_cache()
    cases = suite.parse_suite(text).cases
    results = suite.run_cases(cases, jobs=1)
    return suite.exit_code(results), [o.key for r in results for o in r.failures]


def part3(rng, points: int) -> tuple:
    counts = {"right_pass": 0, "right_fail": 0, "wrong_fail": 0, "wrong_pass": 0, "tolerance_pass": 0,
              "tolerance_fail": 0, "mutated_check_fail": 0, "mutated_check_pass": 0}
    bad = []
    for expr, fn, spec in SUITE_CASES:
        for _ in range(points):
            values = draw(spec, rng)
            t = truth(fn, values)
            code, keys = run_suite_text(suite_text(expr, values, t, check=True))
            counts["right_pass" if code == 0 else "right_fail"] += 1
            if code:
                bad.append(("right failed", expr, keys))
            wrongs = ["value", "jvp"] + [f"{k}.{n}" for k in ("jacobian", "grad") for n in values]
            arrays = {"value": t["value"], "jvp": t["jvp"], **{f"jacobian.{n}": j for n, j in t["jacobian"].items()},
                      **{f"grad.{n}": g for n, g in t["grad"].items()}}
            for wrong in wrongs:
                if np.max(np.abs(arrays[wrong])) < 1e-2:  # softmax's vjp along ones is 0: no entry to move
                    continue
                code, keys = run_suite_text(suite_text(expr, values, t, wrong=wrong))
                named = any(wrong.split(".")[0] in k for k in keys)
                counts["wrong_fail" if code == 1 and named else "wrong_pass"] += 1
                if code != 1 or not named:
                    bad.append(("wrong passed", expr, wrong, code, keys))
                for where in ("expectation", "case", "defaults"):
                    code, keys = run_suite_text(suite_text(expr, values, t, wrong=wrong, tolerance=where))
                    counts["tolerance_pass" if code == 0 else "tolerance_fail"] += 1
                    if code:
                        bad.append(("rtol = 1e-4 did not pass", where, expr, wrong, keys))
            first = OPS_OF_SUITE.get(expr)
            if first:
                with mutated(first, "vjp", "scale"):
                    code, keys = run_suite_text(suite_text(expr, values, t, check=True).replace(
                        "\n[[case.vjp]]", "\n[[case.vjp]]", 1))
                caught = code == 1 and any(k.startswith("check") for k in keys)
                counts["mutated_check_fail" if caught else "mutated_check_pass"] += 1
                if not caught:
                    bad.append(("mutated rule passed check = true", expr, first, keys))
    return counts, bad


OPS_OF_SUITE = {"sin(x) * x": "sin", "A @ x": "matmul", "torch.softmax(x, dim=0)": "softmax",
                "sum(x ** 3)": "pow", "torch.linalg.inv(A)": "inv"}


STRUCTURED_CASES = [  # sizes where the plans keep structure (diagonal, sparse, forward mode)
    ("exp(x) * sin(x)", {"x": ((400,), -1, 1)}),
    ("x[1:] * x[:-1] - 2 * x[2:].sum()", {"x": ((300,), -1, 1)}),
    ("A @ x", {"A": ((40, 40), -1, 1), "x": ((40,), -1, 1)}),
    ("(A * B).sum(0) / (1 + A.mean(1)[:, None]).sum(0)", {"A": ((30, 30), 0, 1), "B": ((30, 30), -1, 1)}),
    ("torch.softmax(A, dim=1)", {"A": ((30, 20), -1, 1)}),
    ("where(x > 0, x, 2 * x).reshape(20, 20).T @ ones(20)", {"x": ((400,), -1, 1)}),
    ("torch.sort(x).values * arange(300.0)", {"x": ((300,), -1, 1)}),
    ("-x.reshape(15, 20).T + broadcast_to(y, (20, 15))", {"x": ((300,), -1, 1), "y": ((15,), -1, 1)}),
]


def part4(rng) -> tuple:
    """Each op's structure rule (a structured batch kept structured) with its values ×1.01."""
    from jacobi_cli.ir.structured import SparseBatch
    counts = {"changed": 0, "caught": 0, "missed": 0, "unreached": 0}
    missed = []
    names = [n for n, o in OPS.items() if o.structure is not None]
    for expr, spec in STRUCTURED_CASES:
        values = draw(spec, rng)
        right = eval_jacobians(expr, values)
        for name in names:
            op = OPS[name]
            original = op.structure

            def wrapped(*a, _original=original, **k):
                out = _original(*a, **k)
                if isinstance(out, SparseBatch) and out.val is not None:
                    return out.with_(out.col, out.val * 1.01)
                return out
            object.__setattr__(op, "structure", wrapped)
            try:
                wrong = eval_jacobians(expr, values)
                passed, _ = quiet_check(expr, values)
            finally:
                object.__setattr__(op, "structure", original)
            if not differs(right, wrong):
                counts["unreached"] += 1
            elif passed:
                counts["missed"] += 1
                missed.append((expr, name))
            else:
                counts["caught"] += 1
            counts["changed"] = counts["caught"] + counts["missed"]
    return counts, missed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", default="1234")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    if "1" in args.part:
        kinds = ("scale", "flip") if args.quick else ("scale", "flip", "transpose", "drop")
        counts, missed = part1(rng, 1 if args.quick else 3, kinds)
        print("part 1 (mutations):", counts)
        for m in missed:
            if m[0] != "unreached" or m[4] != "transpose":  # a transpose of a result that is not square is none
                print("  ", m)
        print(f"  {time.time() - t0:.0f} s")
        for label, kw in (("float32", {"dtype": "float32"}), ("batched", {"batched": True})):
            counts, missed = part1(rng, 1, ("scale", "flip"), cases=CASES[::2] if args.quick else CASES, **kw)
            print(f"part 1 {label} (mutations):", counts)
            for m in missed:
                if m[0] != "unreached":
                    print("  ", m)
            print(f"  {time.time() - t0:.0f} s")
    if "3" in args.part:
        counts, bad = part3(rng, 1 if args.quick else 3)
        print("part 3 (jac run expectations):", counts)
        for b in bad:
            print("  ", b)
        print(f"  {time.time() - t0:.0f} s")
    if "4" in args.part:
        counts, missed = part4(rng)
        print("part 4 (structure rules x1.01):", counts)
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
