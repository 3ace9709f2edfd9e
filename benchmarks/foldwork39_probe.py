"""foldwork39: the factors of ``jacobi_cli/ir/work.py``, measured (session 39).

    PYTHONPATH=. /work/venv/bin/python benchmarks/foldwork39_probe.py [--n 1500] [--repeat 3]

For each decomposition jac folds, the time of the op's own implementation (``OPS[name].impl``, what a fold
calls) on an n × n matrix over the time of an n × n product: the factor ``work.CUBIC`` holds. Then the product's
rate (multiply-adds a second), from which ``MAX_FOLD_WORK`` reads as seconds, and, for each op, ``fold_work``'s
estimate over the measured time (the rate it implies: near the product's when the factor is right).
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from jacobi_cli.ir import work
    from jacobi_cli.ir.ops import OPS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n))
    spd = a @ a.T + n * np.eye(n)
    product = best(lambda: a @ a, args.repeat)
    rate = n ** 3 / product
    print(f"n = {n}: product {product:.3f} s, {rate:.3g} multiply-adds a second; MAX_FOLD_WORK "
          f"{work.MAX_FOLD_WORK:.3g} is about {work.MAX_FOLD_WORK / rate:.1f} s at that rate")
    print(f"{'op':14} {'seconds':>8} {'measured':>9} {'CUBIC':>6} {'implied rate':>13}")
    for name, factor in work.CUBIC.items():
        impl = OPS[name].impl
        matrix = spd if name in ("cholesky", "eigvalsh", "eigh_vectors") else a
        params = {"part": "U"} if name == "lu" else {}
        try:
            seconds = best(lambda: impl(matrix, **params), args.repeat)
        except Exception as err:  # noqa: BLE001 - a probe: say which op and go on
            print(f"{name:14} {type(err).__name__}: {err}")
            continue
        estimate = work.fold_work(name, [matrix], params, OPS[name].shape(matrix.shape, **params))
        print(f"{name:14} {seconds:8.3f} {seconds / product:9.1f} {factor:6} {estimate / seconds:13.3g}")
    for name, values, params in (("solve", [a, a], {}), ("matrix_exp", [a / n], {})):
        seconds = best(lambda: OPS[name].impl(*values, **params), args.repeat)
        estimate = work.fold_work(name, values, params, OPS[name].shape(*[v.shape for v in values], **params))
        print(f"{name:14} {seconds:8.3f} {seconds / product:9.1f} {'rule':>6} {estimate / seconds:13.3g}")


if __name__ == "__main__":
    main()
