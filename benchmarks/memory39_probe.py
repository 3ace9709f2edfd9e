"""Peak memory against --max-memory, op family by op family (session 39, h39-memory).

For each case (an op family of the registry at a size where the answer needs chunking, with a small budget)
one child process imports jac, runs the same command once at a tiny size (so every library the op imports
lazily is loaded: SciPy, NumPy's FFT, ...), reads its resident set (``/proc/self/statm``: the baseline), runs
the command at the real size, and reads its peak resident set (``resource.getrusage``, ``ru_maxrss``). The
excess is that peak minus the baseline: the arrays and scratch of the command, which --max-memory bounds
("values included": the drawn inputs count). A cell is OVER when the excess passes the budget by more than
10 % + 8 MiB (allocator slack, the text rendering, Python objects).

    PYTHONPATH=. python benchmarks/memory39_probe.py [--repo PATH] [--only SUBSTRING]

``--repo`` runs another checkout's jac (main, to compare before and after). Each child has a 6 GB address-space
cap and a 300 s timeout. Prints one line per cell and the counts by outcome (OK / OVER, answered / refused).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

MB = 2**20
SLACK = (0.10, 8 * MB)

# (family, command, expression, bindings at size, bindings tiny, budget, extra options)
T = "torch.distributions"
CASES = [
    ("elementwise", "eval", "exp(sin(x) * sum(x))", ["x:2500"], ["x:3"], "100M", []),
    ("elementwise", "hessian", "sum(tanh(x) * sum(x))", ["x:2500"], ["x:3"], "100M", []),
    ("elementwise", "vjp", "sin(x) * exp(x)", ["x:4000000"], ["x:3"], "200M", ["--v", "ones"]),
    ("reduction", "eval", "softmax(X, axis=1)", ["X:50x50"], ["X:2x2"], "100M", []),
    ("reduction", "hessian", "logsumexp(x)", ["x:2500"], ["x:3"], "100M", []),
    ("reduction", "eval", "norm(X, axis=0) * sum(X)", ["X:50x50"], ["X:2x2"], "100M", []),
    ("reduction", "eval", "prod(x[:, None] * x, axis=0)", ["x:1000"], ["x:3"], "60M", []),
    ("matmul", "eval", "tanh(A @ tanh(A @ x))", ["x:2500", "A:2500x2500"], ["x:3", "A:3x3"], "200M", []),
    ("linalg", "eval", "np.linalg.inv(A)", ["A:50x50"], ["A:2x2"], "100M", []),
    ("linalg", "eval", "np.linalg.solve(A, B)", ["A:50x50", "B:50x50"], ["A:2x2", "B:2x2"], "150M", []),
    ("linalg", "eval", "np.linalg.eigh(A + A.T)[0]", ["A:50x50"], ["A:2x2"], "100M", []),
    ("linalg", "eval", "np.linalg.svd(A)[1]", ["A:50x50"], ["A:2x2"], "100M", []),
    ("linalg", "eval", "np.linalg.qr(A)[0]", ["A:50x50"], ["A:2x2"], "100M", []),
    ("linalg", "eval", "np.linalg.cholesky(A @ A.T + 50 * eye(50))", ["A:50x50"], ["A:2x2"], "100M", []),
    ("linalg", "eval", "np.linalg.pinv(A)", ["A:50x40"], ["A:2x2"], "100M", []),
    ("linalg", "hessian", "np.linalg.slogdet(A)[1]", ["A:50x50"], ["A:2x2"], "100M", []),
    ("linalg", "hessian", "np.linalg.det(A)", ["A:40x40"], ["A:2x2"], "100M", []),
    ("linalg", "eval", "scipy.linalg.expm(A / 50)", ["A:50x50"], ["A:2x2"], "100M", []),
    ("fft", "eval", "np.fft.irfft(np.fft.rfft(x) * 1j)", ["x:3000"], ["x:4"], "200M", []),
    ("fft", "eval", "abs(np.fft.fft(x))", ["x:3000"], ["x:4"], "200M", []),
    ("fft", "eval", "np.fft.fft2(X).real", ["X:50x50"], ["X:2x2"], "100M", []),
    ("fft", "hessian", "sum(abs(np.fft.rfft(x)) ** 2)", ["x:2500"], ["x:4"], "100M", []),
    ("conv", "eval", "np.convolve(x, w)", ["x:2500", "w:50"], ["x:4", "w:2"], "100M", ["--wrt", "x"]),
    ("conv", "eval", "F.conv1d(x, w)", ["x:1x4x600", "w:4x4x5"], ["x:1x1x4", "w:1x1x2"], "100M", []),
    ("conv", "eval", "F.conv2d(X, W, padding=1)", ["X:1x2x36x36", "W:2x2x3x3"], ["X:1x1x3x3", "W:1x1x2x2"],
     "100M", []),
    ("pool", "eval", "F.max_pool2d(X * sum(X), 2)", ["X:1x2x50x50"], ["X:1x1x2x2"], "100M", []),
    ("pool", "eval", "F.avg_pool2d(X * sum(X), 2)", ["X:1x2x50x50"], ["X:1x1x2x2"], "100M", []),
    ("gather", "eval", "(x * sum(x))[::-1][arange(0, 2500, 2)]", ["x:2500"], ["x:4"], "100M", []),
    ("gather", "eval", "np.take(x * sum(x), arange(2499, -1, -1))", ["x:2500"], ["x:4"], "100M", []),
    ("scatter", "eval", "zeros(2500).at[arange(2500) // 2].add(x * sum(x))", ["x:2500"], ["x:4"], "100M", []),
    ("scatter", "eval", "torch.zeros(2500).index_add(0, torch.arange(2500) // 2, x * x.sum())", ["x:2500"],
     ["x:4"], "100M", []),
    ("sorting", "eval", "np.sort(x * sum(x))", ["x:2500"], ["x:4"], "100M", []),
    ("sorting", "eval", "torch.topk(x * x.sum(), 1000).values", ["x:2500"], ["x:4"], "100M", []),
    ("distributions", "eval", f"{T}.Normal(m, s).log_prob(x)", ["x:3000000", "m:3000000", "s=ones(3000000)"],
     ["x:3", "m:3", "s=ones(3)"], "300M", []),
    ("distributions", "hessian", f"{T}.MultivariateNormal(m, S @ S.T + 50 * eye(50)).log_prob(x)",
     ["x:50", "m:50", "S:50x50"], ["x:2", "m:2", "S:2x2"], "100M", []),
    ("distributions", "eval", f"{T}.MultivariateNormal(m, scale_tril=eye(10000)).log_prob(x)",
     ["x:10000", "m:10000"], ["x:3", "m:3"], "200M", []),
    ("special", "hessian", "sum(scipy.special.gammaln(x * x + 1)) * sum(x)", ["x:2500"], ["x:3"], "100M", []),
    ("special", "eval", "scipy.special.erf(x) * sum(scipy.special.digamma(x * x + 1))", ["x:2500"], ["x:3"],
     "100M", []),
    ("einsum", "eval", "np.einsum('ij,jk->ik', A, B)", ["A:50x50", "B:50x50"], ["A:2x2", "B:2x2"], "150M", []),
    ("einsum", "eval", "np.einsum('ij,ij->i', A, A) * sum(A)", ["A:60x60"], ["A:2x2"], "100M", []),
    ("cumulative", "eval", "np.cumsum(x)", ["x:2500"], ["x:4"], "100M", []),
    ("cumulative", "eval", "np.cumprod(x)", ["x:2500"], ["x:4"], "100M", []),
    ("cumulative", "eval", "torch.logcumsumexp(x, 0)", ["x:2500"], ["x:4"], "100M", []),
    ("cumulative", "eval", "torch.cummax(x * x.sum(), 0).values", ["x:2500"], ["x:4"], "100M", []),
    ("order2", "derivative", "tanh(x) * sum(x)", ["x:200"], ["x:3"], "100M", ["--order", "2"]),
]

CHILD = r"""
import io, json, os, resource, sys, contextlib
from jacobi_cli.cli.entry import main
big, tiny = json.loads(sys.argv[1]), json.loads(sys.argv[2])
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(tiny)
with open("/proc/self/statm") as fp:
    base = int(fp.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(big)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print("MEMPROBE " + json.dumps({"code": code, "base": base, "peak": peak, "err": err.getvalue()[-400:]}))
"""


def measure(repo: str, command: str, expr: str, binds: list, tiny: list, budget: str, extra: list) -> dict:
    argv = [command, expr, *binds, "--max-memory", budget, *extra]
    argv_tiny = [command, expr, *tiny, *extra]
    env = dict(os.environ, PYTHONPATH=repo, COLUMNS="100")
    start = time.monotonic()
    try:
        done = subprocess.run(["bash", "-c", 'ulimit -v 6000000; exec "$@"', "_", sys.executable, "-c", CHILD,
                               json.dumps(argv), json.dumps(argv_tiny)],
                              capture_output=True, text=True, env=env, cwd=repo, timeout=300)
    except subprocess.TimeoutExpired:
        return {"code": "TIMEOUT", "excess": 0, "seconds": 300.0, "err": ""}
    found = [line for line in done.stdout.splitlines() if line.startswith("MEMPROBE ")]
    if not found:
        return {"code": f"CRASH {done.returncode}", "excess": 0, "seconds": time.monotonic() - start,
                "err": done.stderr[-300:]}
    got = json.loads(found[-1][len("MEMPROBE "):])
    got["excess"] = max(got["peak"] - got["base"], 0)
    got["seconds"] = time.monotonic() - start
    return got


def over(excess: int, budget: int) -> bool:
    return excess > budget * (1 + SLACK[0]) + SLACK[1]


def main() -> None:
    repo = os.path.abspath(sys.argv[sys.argv.index("--repo") + 1]) if "--repo" in sys.argv else os.getcwd()
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    counts = {"OK": 0, "OVER": 0, "answered": 0, "refused": 0, "other": 0}
    print(f"repo {repo}")
    for family, command, expr, binds, tiny, budget, extra in CASES:
        if only and only not in expr and only != family:
            continue
        got = measure(repo, command, expr, binds, tiny, budget, extra)
        limit = int(budget[:-1]) * MB
        bad = over(got["excess"], limit)
        counts["OVER" if bad else "OK"] += 1
        outcome = {0: "answered", 2: "refused"}.get(got["code"], "other")
        counts[outcome] += 1
        why = "" if got["code"] == 0 else " | " + " ".join(got.get("err", "").split())[:150]
        print(f"{family:13} {command:10} {expr[:58]:58} {budget:>5}: exit {got['code']}, "
              f"+{got['excess'] / MB:6.0f} MiB ({got['excess'] / limit:5.0%}) {got['seconds']:5.1f} s "
              f"{'OVER' if bad else 'ok'}{why}", flush=True)
    print("counts:", counts)


if __name__ == "__main__":
    main()
