"""value_of's memo past its budget (session 34, h34-msgs): long loops over a 1000 x 1000 carry under
``--max-memory 200M`` (and a 100 x 100 one under 2M), each run in a fresh process: its wall clock, the seconds spent
trimming the memo (the trim before session 34 rescanned it from its oldest value at each op past the budget), and
the answer or refusal, so that two trees can be compared.

    PYTHONPATH=. /work/venv/bin/python benchmarks/memo34_bench.py                 # this tree
    PYTHONPATH=. /work/venv/bin/python benchmarks/memo34_bench.py /tmp/base       # another tree's jacobi_cli
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

# a Python loop keeping each step's sum until a test of them at the end: the sums stay in the memo, and the old
# trim met all of them at every step
KEPT = """xs = []
v = x
for i in range({n}):
    v = v * 1.0001
    xs.append(v.sum())
t = np.stack(xs)
if t.max() > 0:
    out = v.sum()
else:
    out = -v.sum()
out
"""
# RESULTS.md's session-33 case: a while_loop reading each step's carry once (its test), {n} steps
WHILE = "jax.lax.while_loop(lambda v: v.sum() < {bound}, lambda v: v * 1.01, x)"
CASES = [("while_loop", WHILE, 800, 1000, "200M"), ("python loop", KEPT, 1000, 1000, "200M"),
         ("python loop", KEPT, 2000, 1000, "200M"), ("python loop", KEPT, 4000, 1000, "200M"),
         ("python loop", KEPT, 2000, 100, "2M"), ("python loop", KEPT, 4000, 100, "2M")]  # 2 statements a step:
# 5,000 steps is the most a Python loop is written out for


def child(text_file: str, side: int, budget: str) -> None:
    """In this process (``sys.path`` set to the tree): the run, and the seconds spent trimming the memo (the
    old ``_Lowering._forget`` or ``ValueMemo.trim``, whichever the tree has)."""
    from jacobi_cli.cli import entry
    from jacobi_cli.lang import parser

    spent = [0.0]

    def timed(owner, name):
        inner = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        setattr(owner, name, wrapper)

    if hasattr(parser._Lowering, "_forget"):
        timed(parser._Lowering, "_forget")
    else:
        from jacobi_cli.lang.memo import ValueMemo
        timed(ValueMemo, "trim")
    code = entry.main(["eval", f"@{text_file}", f"x=np.ones(({side}, {side}))", "--max-memory", budget])
    print(f"TRIM {spent[0]:.3f} EXIT {code}", file=sys.stderr)
    sys.exit(code)


def run(tree: str, text: str, side: int, budget: str) -> tuple:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(text)
    env = dict(os.environ, PYTHONPATH=tree)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", f.name, str(side), budget], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    os.unlink(f.name)
    lines = done.stderr.strip().splitlines()
    trim = float(lines[-1].split()[1]) if lines and lines[-1].startswith("TRIM") else float("nan")
    said = (lines or [""])[0] if done.returncode else done.stdout.splitlines()[0]
    return seconds, trim, done.returncode, said


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    tree = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, template, n, side, budget in CASES:
        text = template.format(n=n, bound=side * side * 1.01 ** n * 0.999)
        seconds, trim, code, said = run(tree, text, side, budget)
        print(f"{name:12} n={n:5} {side}x{side} --max-memory {budget:4}  {seconds:6.2f} s, trimming {trim:6.3f} s  "
              f"exit {code}  {said[:100]}")


if __name__ == "__main__":
    main()
