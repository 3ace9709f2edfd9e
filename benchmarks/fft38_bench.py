"""Session 38: the two routes of a Fourier transform's derivative, by cost. jac's cos / sin matrix route (session 36;
forced with fourier.MATRIX_BYTES large) and its fftmap route (forced with MATRIX_BYTES = 0) against PyTorch's
torch.fft and JAX's jnp.fft, at n = 8 ... 65,536 points of `(rfft(x).abs() ** 2).sum()` and `fft(x).real.sum()`:

- build: the first call (parse, matrices, value), a new text per call so nothing is cached;
- vjp: a warm call of jacobi_cli.vjp (the compiled text cached); PyTorch: forward + backward; JAX: a jitted grad;
- jac: the full Jacobian of `rfft(x).real` (n <= 1,024), a new text per call;
- bytes: the matrices' bytes (the matrix route's values besides the signal's).

Each time is the best of REPEATS. The matrix route runs up to 4,096 points (session 37's cap: 268 MB there).

    PYTHONPATH=. /work/venv/bin/python benchmarks/fft38_bench.py [--quick]

Prints one row per n with the times and the ratios matrix / fftmap and fftmap / torch, then the crossover: the
smallest n from which the fftmap route is at least as fast as the matrix route in every column.
"""
from __future__ import annotations

import sys
import time
import warnings

import numpy as np

REPEATS = 3
SIZES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
MATRIX_UP_TO = 4096
JACOBIAN_UP_TO = 1024


def best(fn, repeats=REPEATS):
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return min(times)


def jac_times(jacobi_cli, fourier, route, n, x, tag):
    fourier.MATRIX_BYTES = 10 ** 12 if route == "matrix" else 0
    code = 10 * tag + (route == "matrix")  # the compile cache keys by the text, not by the route: one text each
    text = f"(torch.fft.rfft(x).abs() ** 2).sum() + 0 * {code}"
    build = best(lambda i: jacobi_cli.evaluate(f"{text} + 0 * {i}", {"x": x}))
    jacobi_cli.vjp(text, {"x": x})
    vjp = best(lambda i: jacobi_cli.vjp(text, {"x": x}), 5)
    jac = best(lambda i: jacobi_cli.jacobian(f"torch.fft.rfft(x).real * (1 + 0 * {code}) + 0 * {i}", {"x": x})) \
        if n <= JACOBIAN_UP_TO else None
    fourier.MATRIX_BYTES = 10 ** 12
    return build, vjp, jac


def torch_vjp(torch, x):
    xt = torch.tensor(x, requires_grad=True)

    def run(_):
        xt.grad = None
        (torch.fft.rfft(xt).abs() ** 2).sum().backward()
    return best(run, 5)


def jax_vjp(jax, x):
    import jax.numpy as jnp
    grad = jax.jit(jax.grad(lambda t: (jnp.abs(jnp.fft.rfft(t)) ** 2).sum()))
    xj = jnp.asarray(x)
    grad(xj).block_until_ready()
    return best(lambda _: grad(xj).block_until_ready(), 5)


def fmt(t):
    return f"{'-':>9}" if t is None else f"{t * 1e3:9.2f}"


def main(argv):
    sys.path.insert(0, ".")
    warnings.simplefilter("ignore")
    import jacobi_cli
    from jacobi_cli.lang import fourier
    import torch
    import jax
    jax.config.update("jax_enable_x64", True)
    torch.set_num_threads(1)
    sizes = SIZES[:8] if "--quick" in argv else SIZES
    rng = np.random.default_rng(38)
    print("times in ms (best of runs); ratios matrix/fftmap (>1: fftmap cheaper), fftmap/torch")
    print(f"{'n':>6} {'bytes':>12} | {'build M':>9} {'build F':>9} | {'vjp M':>9} {'vjp F':>9} {'torch':>9} "
          f"{'jax':>9} | {'jac M':>9} {'jac F':>9} | {'M/F build':>9} {'M/F vjp':>8} {'M/F jac':>8} "
          f"{'F/torch':>8}")
    crossover = None
    for tag, n in enumerate(sizes):
        x = rng.standard_normal(n)
        matrix_bytes = 2 * n * (n // 2 + 1) * 8
        m = jac_times(jacobi_cli, fourier, "matrix", n, x, tag) if n <= MATRIX_UP_TO else (None, None, None)
        f = jac_times(jacobi_cli, fourier, "fftmap", n, x, tag)
        t, j = torch_vjp(torch, x), jax_vjp(jax, x)
        ratios = [(a / c if a is not None and c is not None else None) for a, c in zip(m, f)]
        cheaper = all(r is None or r >= 1 for r in ratios)
        crossover = (n if crossover is None else crossover) if cheaper else None
        print(f"{n:>6} {matrix_bytes:>12,} | {fmt(m[0])} {fmt(f[0])} | {fmt(m[1])} {fmt(f[1])} {fmt(t)} {fmt(j)} | "
              f"{fmt(m[2])} {fmt(f[2])} | " + " ".join("       -" if r is None else f"{r:8.2f}" for r in ratios)
              + f" {f[1] / t:8.2f}", flush=True)
    print(f"crossover: the fftmap route is at least as fast in every column from n = {crossover}")


if __name__ == "__main__":
    main(sys.argv[1:])
