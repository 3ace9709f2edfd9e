"""Session 42 (h42-jsonmem): the peak resident memory of ``--json`` and ``--out FILE.json`` with large arrays.

Runs each command line with ``/usr/bin/time -v`` in two trees (``python benchmarks/json42_bench.py BEFORE AFTER``,
each a checkout's root, run with ``PYTHONPATH=ROOT``), one process at a time, and prints the max RSS of each and
whether their standard output (and the ``--out`` file) is the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

OUT = "/tmp/h42_bench_out.json"
LINES = [
    ["eval", "np.outer(x, y)", "x:200", "y:200", "--json", "--max-memory", "300M"],
    ["eval", "np.outer(x, y)", "x:200", "y:200", "--out", OUT, "--max-memory", "300M"],
    ["eval", "np.outer(x, y)", "x:200", "y:200", "--json", "--dtype", "float32", "--max-memory", "300M"],
    ["eval", "np.sin(A) * 2", "A:1000x1000", "--json", "--wrt", "A", "--sparse"],
    ["eval", "(x * w, x.sum())", "x:2000", "w:2000", "--json"],
    ["eval", "np.sin(x) * w", "x:300x300", "w:300", "--batch", "x", "--json"],
    ["vjp", "np.sin(A @ x)", "A:3000x3000", "x:3000", "--v", "ones", "--json"],
    ["jvp", "np.sin(A) * 2", "A:3000x3000", "--tangent", "A=ones", "--json"],
    ["hessian", "(x ** 3).sum()", "x:3000", "--json"],
    ["derivative", "np.tanh(x)", "x:3000000", "--wrt", "x", "--order", "2", "--sparse", "--json"],
]


def run(root: str, line: list) -> tuple:
    if os.path.exists(OUT):
        os.remove(OUT)
    env = dict(os.environ, PYTHONPATH=root)
    done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "jacobi_cli", *line], cwd=root, env=env,
                          capture_output=True)
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) // 1024
    digest = hashlib.md5(done.stdout)
    if os.path.exists(OUT):
        with open(OUT, "rb") as fp:
            digest.update(fp.read())
    return done.returncode, rss, len(done.stdout), digest.hexdigest()


def main(before: str, after: str) -> None:
    for line in LINES:
        (c0, r0, n0, d0), (c1, r1, n1, d1) = run(before, line), run(after, line)
        print(f"jac {' '.join(line)}: exit {c0} -> {c1}, max RSS {r0} -> {r1} MB, {n0:,} bytes of stdout, "
              f"{'same bytes' if d0 == d1 else 'DIFFERENT BYTES'}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
