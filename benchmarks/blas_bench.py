"""BLAS threads per call (jacobi_cli/engine/blas.py), measured: the same repeated jac calls (their
kernels) with jac's choice, with one BLAS thread always, and with BLAS's own thread count,
interleaved in rounds so that a busy spell slows every arm alike. Run it quiet, and with a busy
loop on the other core (``python -c "while True: pass" &``, started a minute before, so that the
load average sees it) to see the stalls the policy avoids. Never a test.

    /work/benchvenv/bin/python benchmarks/blas_bench.py [--n 100,300,1000,3000]

A kernel binds ``threads_for`` when it is compiled, so the arms act where it looks at each call:
"one thread" runs the calls inside ``threadpoolctl.threadpool_limits(1)``, entered outside the
timed calls (jac's own switch then finds one thread and leaves it), "BLAS as it is" replaces ``blas.OneThread`` by a context that
does nothing, and "jac's choice" changes nothing. (Before the tenth session the arms replaced
``kernels.threads_for``, which compiled kernels never read again: the three arms measured the
same thing.)
"""

import argparse
import os
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import jacobi_cli  # noqa: E402
from jacobi_cli.engine import blas  # noqa: E402


def timed(call, k: int) -> list:
    out = []
    for _ in range(k):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


class _AsItIs:
    """``blas.OneThread`` that leaves BLAS's count alone."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@contextmanager
def as_it_is():
    """BLAS's own thread count: jac's one-thread switch replaced by :class:`_AsItIs`."""
    one_thread = blas.OneThread
    blas.OneThread = _AsItIs
    try:
        yield
    finally:
        blas.OneThread = one_thread


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="100,300,1000,3000", help="comma-separated sizes")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    sizes, rounds = [int(s) for s in args.n.split(",")], args.rounds
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    print(f"load average {os.getloadavg()[0]:.2f};"
          f" jac's choice now: {'busy' if blas.machine_busy() else 'quiet'} machine", flush=True)
    for n in sizes:
        x, A = rng.standard_normal(n), rng.standard_normal((n, n)) / np.sqrt(n)
        b = {"x": x, "A": A}
        calls = [("E2 jacobian", lambda: jacobi_cli.jacobian("x @ A @ x", b, wrt=["x"])),
                 ("E2 vjp", lambda: jacobi_cli.vjp("x @ A @ x", b, wrt=["x"])),
                 ("E6 jacobian", lambda: jacobi_cli.jacobian("sum(tanh(A @ tanh(A @ x)))", b, wrt=["x"])),
                 ("sum(A @ A @ x) jacobian", lambda: jacobi_cli.jacobian("sum(A @ A @ x)", b, wrt=["x"]))]
        for label, call in calls:
            if label.startswith("sum(A @ A") and n == 3000:
                continue
            for _ in range(3):  # the kernel is compiled at the second call
                call()

            arms = {"jac's choice": nullcontext, "one thread": lambda: threadpool_limits(1, user_api="blas"),
                    "BLAS as it is": as_it_is}
            times = {name: [] for name in arms}
            k = 200 if n <= 100 else 20 if n <= 1000 else 2
            for _ in range(rounds):
                for name, arm in arms.items():
                    with arm():  # entered and left outside the timed calls
                        times[name] += timed(call, k)
            print(n, label, "  ".join(f"{name}: median {np.median(v) * 1e6:.1f} us, p90 {np.percentile(v, 90) * 1e6:.1f} us"
                                      for name, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
