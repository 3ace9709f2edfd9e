"""Peak memory of jac against --max-memory, refusals included (session 36, h36-memory).

Runs `jac eval` (and `jac hessian` of a few) in a child process per cell of a grid of expressions x sizes x
budgets and reads the child's peak RSS (`/usr/bin/time -f %M`, kilobytes). What is counted: the child's peak
RSS minus the interpreter's fixed baseline, measured the same way on `jac eval 'sum(x)' x:3` (Python, NumPy
and jac imported: about 60-100 MB). A cell is OVER when that excess passes its budget.

    PYTHONPATH=. python benchmarks/memory36_probe.py [--repo PATH] [--quick]

``--repo`` runs another checkout's jac (main, to compare before and after). Prints one line per cell and the counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

MB = 2**20
VECTOR = [  # (label, expression, uses A)
    ("sum", "sum(x)", False),
    ("elementwise", "sin(x) * x", False),
    ("E5 softmax", "softmax(x)", False),
    ("E1", "sin(x) * x**2 + exp(-x)", False),
    ("E4", "sum(x * x)", False),
    ("slice", "sum(x[1:-1] * x[:-2])", False),
]
MATRIX = [
    ("matmul", "A @ x", True),
    ("E2", "x @ A @ x", True),
    ("E3", "tanh(A @ x)", True),
    ("E6", "sum(tanh(A @ tanh(A @ x)))", True),
]
SIZES = {"vector": [2_000_000, 8_000_000], "matrix": [1000, 3000]}
BUDGETS = ["20M", "100M", "300M"]


def _run(repo: str, argv: list) -> tuple:
    env = dict(os.environ, PYTHONPATH=repo, COLUMNS="100")
    start = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "jacobi_cli", *argv],
                          capture_output=True, text=True, env=env, cwd=repo)
    kb = int(done.stderr.strip().splitlines()[-1])
    return kb * 1024, done.returncode, time.monotonic() - start


def _default_budget(repo: str) -> int:
    found = subprocess.run([sys.executable, "-c", "from jacobi_cli.engine import memory; print(memory.default_budget())"],
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=repo), cwd=repo)
    return int(found.stdout)


def cells(quick: bool):
    for label, expr, matrix in VECTOR + MATRIX:
        sizes = SIZES["matrix" if matrix else "vector"][: 1 if quick else None]
        for n in sizes:
            binds = [f"x:{n}"] + ([f"A:{n}x{n}"] if matrix else [])
            for budget in BUDGETS:
                yield "eval", label, expr, n, binds, budget
    for budget in ["300M", "default"]:  # default: half the available memory (the draw fits: 800 MB)
        yield "hessian", "sum", "sum(x)", 100_000_000, ["x:100000000"], budget


def main() -> None:
    repo = os.path.abspath(sys.argv[sys.argv.index("--repo") + 1]) if "--repo" in sys.argv else os.getcwd()
    quick = "--quick" in sys.argv
    base, _, _ = _run(repo, ["eval", "sum(x)", "x:3"])
    print(f"repo {repo}; baseline RSS {base / MB:.0f} MiB (jac eval 'sum(x)' x:3)")
    counts = {"OK": 0, "OVER": 0, "answered": 0, "refused": 0}
    for command, label, expr, n, binds, budget in cells(quick):
        options = [] if budget == "default" else ["--max-memory", budget]
        rss, code, seconds = _run(repo, [command, expr, *binds, *options])
        limit = _default_budget(repo) if budget == "default" else int(budget[:-1]) * MB
        over = rss - base > limit
        counts["OVER" if over else "OK"] += 1
        counts["answered" if code == 0 else "refused"] += 1
        print(f"{command:7} {label:12} n={n:<10,} budget {budget:>5}: exit {code}, peak {rss / MB:6.0f} MiB "
              f"(+{(rss - base) / MB:5.0f} over baseline), {seconds:5.1f} s  {'OVER' if over else 'ok'}", flush=True)
    print("counts:", counts)


if __name__ == "__main__":
    main()
