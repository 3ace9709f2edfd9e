#!/usr/bin/env python3
"""Large products beside busy processes: jac, PyTorch and jax.jit each in a process of its own.

Run by hand, never as a test (see benchmarks/README.md):

    python benchmarks/alone_bench.py                      # n = 3000, beside 0 and 1 busy loops, 2 rounds
    python benchmarks/alone_bench.py --loops 0,1,2 --rounds 3 --n 1000,3000

bench.py times every tool in one process, interleaved: there PyTorch's OpenMP threads and XLA's pool, spinning
after their own calls, compete with OpenBLAS's threads in jac's calls (and the reverse), so a row at n = 3000 moves
by 1.5-2 x between runs on a quiet machine. Here each tool runs alone in a fresh process (jac from ``--tree``,
default this checkout), beside ``K`` processes running ``while True: pass``, started half a second before it; the
tools of a round run one after another and the rounds alternate. Rows: the gradients (``x.grad`` of a scalar
output) of E2 ``x @ A @ x`` and E6 ``sum(tanh(A @ tanh(A @ x)))`` and the VJP of E3 ``tanh(A @ x)``; per row the
median and p90 of ``--repeat`` calls after two warm-up calls, and jac's median over the fastest peer's; then the
same ratio of the means (the time a loop of these calls takes: a peer's stalls count there, its lucky median not).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = ("E2 grad", "E3 vjp", "E6 grad")
TOOLS = ("jac", "torch", "jax.jit")


def worker(tool: str, n: int, repeat: int, tree: str) -> None:
    """One tool's rows in this process: prints ``row median_ms p90_ms mean_ms`` per row."""
    import numpy as np

    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, n)) / n**0.5
    x = rng.standard_normal(n)
    v = rng.standard_normal(n)
    if tool == "jac":
        sys.path.insert(0, tree)
        import jacobi_cli

        b = {"x": x, "A": A}
        calls = {"E2 grad": lambda: jacobi_cli.jacobian("x @ A @ x", b, wrt=["x"]),
                 "E3 vjp": lambda: jacobi_cli.vjp("tanh(A @ x)", b, v, wrt=["x"]),
                 "E6 grad": lambda: jacobi_cli.jacobian("sum(tanh(A @ tanh(A @ x)))", b, wrt=["x"])}
    elif tool == "torch":
        import torch

        At, xt, vt = torch.tensor(A), torch.tensor(x), torch.tensor(v)

        def backward(f, grad=None):
            def run():
                xx = xt.clone().requires_grad_(True)
                f(xx).backward(grad)
                return xx.grad
            return run
        calls = {"E2 grad": backward(lambda x: x @ At @ x), "E3 vjp": backward(lambda x: torch.tanh(At @ x), vt),
                 "E6 grad": backward(lambda x: torch.tanh(At @ torch.tanh(At @ x)).sum())}
    else:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        Aj, xj, vj = jnp.asarray(A), jnp.asarray(x), jnp.asarray(v)
        g2 = jax.jit(jax.grad(lambda x, A: x @ A @ x))
        v3 = jax.jit(lambda x, A, v: jax.vjp(lambda x: jnp.tanh(A @ x), x)[1](v)[0])
        g6 = jax.jit(jax.grad(lambda x, A: jnp.sum(jnp.tanh(A @ jnp.tanh(A @ x)))))
        calls = {"E2 grad": lambda: g2(xj, Aj).block_until_ready(),
                 "E3 vjp": lambda: v3(xj, Aj, vj).block_until_ready(),
                 "E6 grad": lambda: g6(xj, Aj).block_until_ready()}
    for row in ROWS:
        call = calls[row]
        call()
        call()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        times.sort()
        print(row, times[len(times) // 2] * 1e3, times[int(len(times) * 0.9)] * 1e3, sum(times) / repeat * 1e3,
              flush=True)


def run_tool(tool: str, n: int, repeat: int, tree: str, loops: int) -> dict:
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(loops)]
    try:
        time.sleep(0.5)
        out = subprocess.run([sys.executable, __file__, "--worker", tool, "--n", str(n), "--repeat", str(repeat),
                              "--tree", tree], capture_output=True, text=True, check=True).stdout
    finally:
        for p in busy:
            p.kill()
            p.wait()
    result = {}
    for line in out.splitlines():
        *row, median, p90, mean = line.split()
        result[" ".join(row)] = (float(median), float(p90), float(mean))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="3000", help="comma-separated sizes (default 3000)")
    ap.add_argument("--loops", default="0,1", help="comma-separated numbers of busy loops (default 0,1)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=40, help="timed calls per row (default 40)")
    ap.add_argument("--tree", default=str(HERE.parent), help="the checkout whose jacobi_cli is timed")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, int(args.n), args.repeat, args.tree)
        return
    print(f"{'n':>5} {'loops':>5} {'round':>5}  {'row':8} " + "  ".join(f"{t:>13}" for t in TOOLS)
          + "  jac / fastest peer: medians, means   (median / p90, ms)")
    for n in (int(s) for s in args.n.split(",")):
        for loops in (int(s) for s in args.loops.split(",")):
            for r in range(args.rounds):
                got = {tool: run_tool(tool, n, args.repeat, args.tree, loops) for tool in TOOLS}
                for row in ROWS:
                    cells = "  ".join(f"{got[t][row][0]:.2f} / {got[t][row][1]:.2f}".rjust(13) for t in TOOLS)
                    peer = min(got[t][row][0] for t in TOOLS if t != "jac")
                    peer_mean = min(got[t][row][2] for t in TOOLS if t != "jac")
                    print(f"{n:>5} {loops:>5} {r + 1:>5}  {row:8} {cells}  {got['jac'][row][0] / peer:.2f}, "
                          f"{got['jac'][row][2] / peer_mean:.2f}", flush=True)


if __name__ == "__main__":
    main()
