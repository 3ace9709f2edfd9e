"""Predicted against measured peak of batched ``jac run`` cases (session 43).

A batched case is checked before its second example (``suite._batch_fits``: ``suite._batch_plan``'s
``BatchPlan``, whose ``case_bytes`` are ``suite._case_need``'s). The prediction must
bound what the case holds (never under, beyond tracemalloc's margin for Python's objects: ``MARGIN``), and a
tight one refuses fewer cases that fit. The measured peak is ``run_case``'s as a first call (run once before for
imports, the API's cache cleared), traced by tracemalloc, which NumPy reports its buffers to; the expectations
and the bound values were loaded before (``parse_suite``), as ``jac run`` loads them before any case runs.

    PYTHONPATH=. python benchmarks/runbatch43_probe.py [--only SUBSTRING]

Prints, per case, the predicted and measured peak and their ratio; UNDER flags a prediction below the measured peak.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from jacobi_cli.tools import api, suite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from tracing import traced_peak  # noqa: E402 - the memory tests' own measure

MARGIN = (0.05, 256 * 2**10)  # as memory41_probe: Python's objects of the parse and the plan, which no plan counts


def _shapes(expr: str, arrays: dict, batch: str | None) -> tuple:
    """(one example's output shapes by name, input shapes of one example)."""
    one = {n: (a[0] if n == batch else a) for n, a in arrays.items()}
    problem = api.prepare(expr, one, several=True)
    outs = {o: tuple(p.graph.output_shape) for o, p in api.output_problems(problem)}
    return outs, {n: np.shape(a) for n, a in one.items()}


def make_case(folder: Path, name: str, expr: str, arrays: dict, batch: str | None, wrt: list,
              jacobian: bool = True, vjps: int = 1, jvps: int = 1, hessian: bool = False, dtype: str = "float64",
              ones: bool = False) -> str:
    """A case's TOML with every expectation in a .npy file of the right shape (values that need not match:
    a comparison runs over every element whatever it finds)."""
    rng = np.random.default_rng(len(name))
    outs, xs = _shapes(expr, arrays, batch)
    several = len(outs) > 1
    lead = (len(arrays[batch]),) if batch else ()

    def saved(key: str, shape: tuple, batched: bool = True) -> str:
        path = folder / f"{name}-{key}.npy"
        np.save(path, rng.uniform(-1, 1, (lead if batched else ()) + shape))
        return f'"@{path.name}"'

    for n, a in arrays.items():
        np.save(folder / f"{name}-in-{n}.npy", a)
    lines = ["[[case]]", f'name = "{name}"', f'expr = "{expr}"',
             "bindings = { " + ", ".join(f'{n} = "@{name}-in-{n}.npy"' for n in arrays) + " }",
             f"wrt = {wrt!r}".replace("'", '"')]
    if batch:
        lines.append(f'batch = "{batch}"')
    lines.append(f'dtype = "{dtype}"')
    for o, y in outs.items():
        lines.append(f"value{'.' + o if several else ''} = {saved(f'value-{o}', y)}")
        for x in wrt if jacobian else ():
            lines.append(f"jacobian.{o + '.' if several else ''}{x} = {saved(f'J-{o}-{x}', y + xs[x])}")
        if hessian:
            for x in wrt:
                lines.append(f'hessian.{o + "." if several else ""}"{x},{x}" = {saved(f"H-{o}-{x}", y + xs[x] + xs[x])}')
    for i in range(vjps):
        lines.append("[[case.vjp]]")
        v = {o: '"ones"' if ones else saved(f"v{i}-{o}", y) for o, y in outs.items()}
        lines.append("v = " + ("{ " + ", ".join(f"{o} = {t}" for o, t in v.items()) + " }" if several
                               else next(iter(v.values()))))
        for x in wrt:
            lines.append(f"grad.{x} = {saved(f'g{i}-{x}', xs[x])}")
    for i in range(jvps):
        lines.append("[[case.jvp]]")
        lines.append("tangent = { " + ", ".join(f"{x} = {saved(f't{i}-{x}', xs[x], x == batch)}"
                                                for x in wrt[:1]) + " }")
        for o, y in outs.items():
            lines.append(f"expected{'.' + o if several else ''} = {saved(f'jvp{i}-{o}', y)}")
    return "\n".join(lines) + "\n"


def measured(case) -> tuple:
    suite.run_case(case)
    api.clear_cache()
    got = []
    try:
        return traced_peak(lambda: got.append(suite.run_case(case))), got[0]
    finally:
        api.clear_cache()


def predicted(case) -> int | None:
    """What the case is checked against: its BatchPlan's peak (None: a plan refused on its own)."""
    problem, found, _ = api.prepare_batch(case.expr, case.bindings, case.batch, case.wrt, case.dtype, case.seed,
                                          suite._max_bytes(case), several=bool(case.outputs), budget=case.budget)
    tangents = [api.batch_tangents(problem, item.tangent, found) for item in case.jvp]
    planned = suite._batch_plan(case, problem, found, tangents)
    return None if planned is None else planned.peak_bytes


B = 12


def CASES(rng):
    u = lambda *s: rng.uniform(0.5, 1.5, s)  # noqa: E731
    return [
        ("sin-1vjp-1jvp", "sin(x) * y", {"x": u(B, 100), "y": u(100)}, "x", ["x"], {}),
        ("sin-3vjp-3jvp", "sin(x) * y", {"x": u(B, 100), "y": u(100)}, "x", ["x"], {"vjps": 3, "jvps": 3}),
        ("sin-2vjp-nojac", "sin(x) * y", {"x": u(B, 400), "y": u(400)}, "x", ["x"], {"jacobian": False, "vjps": 2, "jvps": 0}),
        ("sin-2jvp-nojac", "sin(x) * y", {"x": u(B, 400), "y": u(400)}, "x", ["x"], {"jacobian": False, "vjps": 0, "jvps": 2}),
        ("sin-float32", "sin(x) * y", {"x": u(B, 400), "y": u(400)}, "x", ["x"], {"dtype": "float32", "vjps": 2, "jvps": 2}),
        ("sin-ones", "sin(x) * y", {"x": u(B, 400), "y": u(400)}, "x", ["x", "y"], {"ones": True, "vjps": 2, "jvps": 1}),
        ("outer-float32", "np.outer(x, y)", {"x": u(B, 60), "y": u(60)}, "x", ["x", "y"], {"dtype": "float32"}),
        ("outer", "np.outer(x, y)", {"x": u(B, 60), "y": u(60)}, "x", ["x", "y"], {}),
        ("outer-2vjp-2jvp", "np.outer(x, y)", {"x": u(B, 60), "y": u(60)}, "x", ["x", "y"], {"vjps": 2, "jvps": 2}),
        ("matvec", "A @ x", {"A": u(40, 40), "x": u(B, 40)}, "x", ["A", "x"], {"vjps": 2, "jvps": 1}),
        ("softmax", "sum(softmax(x) * y)", {"x": u(B, 200), "y": u(200)}, "x", ["x"], {"vjps": 2, "jvps": 2}),
        ("tanh-W", "tanh(W @ x)", {"W": u(50, 50), "x": u(B, 50)}, "x", ["W", "x"], {"vjps": 1, "jvps": 1}),
        ("several", "sin(x) * y, x * 2", {"x": u(B, 150), "y": u(150)}, "x", ["x"], {"vjps": 1, "jvps": 2}),
        ("several-ones", "sin(x) * y, x * 2", {"x": u(B, 150), "y": u(150)}, "x", ["x", "y"], {"ones": True, "vjps": 2, "jvps": 1}),
        ("several-float32", "A @ x, sum(x ** 2)", {"A": u(30, 30), "x": u(B, 30)}, "x", ["A", "x"], {"dtype": "float32"}),
        ("hessian", "sum(x ** 3 * y)", {"x": u(B, 30), "y": u(30)}, "x", ["x"], {"hessian": True}),
    ]


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(0)
        texts = [make_case(folder, name, expr, arrays, batch, wrt, **kw)
                 for name, expr, arrays, batch, wrt, kw in CASES(rng) if only in name]
        (folder / "s.toml").write_text("\n".join(texts))
        cases = suite.load_suite(str(folder / "s.toml")).cases
        for case in cases:
            want = predicted(case)
            peak, result = measured(case)
            flag = "" if want is None else "UNDER" if peak > want * (1 + MARGIN[0]) + MARGIN[1] else "ok"
            ratio = f"{want / peak:5.2f}x" if want else "  -  "
            shown = f"{want / 2**20:7.2f}" if want else "      -"
            print(f"{flag or '-':5} {case.name:18} {result.status:7} predicted {shown} MiB  measured "
                  f"{peak / 2**20:7.2f} MiB  predicted/measured {ratio}", flush=True)


if __name__ == "__main__":
    main()
