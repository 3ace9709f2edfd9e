"""BLAS threads per call (jacobi_cli/engine/blas.py), measured: the same jac calls with jac's choice
(one BLAS thread for middle-sized products when the machine is busy), with one thread always for them,
and with BLAS's own thread count, interleaved
in rounds so that a busy spell slows both alike. Run it quiet, and with a busy loop on the other
core (``python -c "while True: pass" &``, started a minute before, so that the load average
sees it) to see the stalls the policy avoids. Never a test.

    python benchmarks/blas_bench.py
"""

import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import jacobi_cli  # noqa: E402
import jacobi_cli.engine.kernels as kernels  # noqa: E402


def timed(call, k: int) -> list:
    out = []
    for _ in range(k):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    rng = np.random.default_rng(0)
    policy = kernels.threads_for
    for n in (300, 1000, 3000):
        x, A = rng.standard_normal(n), rng.standard_normal((n, n)) / np.sqrt(n)
        b = {"x": x, "A": A}
        calls = [("E2 vjp", lambda: jacobi_cli.vjp("x @ A @ x", b, wrt=["x"])),
                 ("E6 jacobian", lambda: jacobi_cli.jacobian("sum(tanh(A @ tanh(A @ x)))", b, wrt=["x"])),
                 ("sum(A @ A @ x) jacobian", lambda: jacobi_cli.jacobian("sum(A @ A @ x)", b, wrt=["x"]))]
        for label, call in calls:
            if label.startswith("sum(A @ A") and n == 3000:
                continue
            for _ in range(3):  # the kernel is compiled at the second call
                call()
            arms = {"jac's choice (one thread when busy)": policy,
                    "always one thread": lambda work: policy(work, busy=True),
                    "BLAS as it is": lambda work: nullcontext()}
            times = {k: [] for k in arms}
            for _ in range(10):
                for k, arm in arms.items():
                    kernels.threads_for = arm
                    times[k] += timed(call, 5 if n < 3000 else 2)
            kernels.threads_for = policy
            print(n, label, "  ".join(f"{k}: median {np.median(v) * 1e6:.0f} us, p90 {np.percentile(v, 90) * 1e6:.0f} us"
                                      for k, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
