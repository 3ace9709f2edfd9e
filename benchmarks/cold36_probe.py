#!/usr/bin/env python3
"""Where a cold call's instructions go, piece by piece: each piece counted alone under callgrind.

Run by hand, never as a test (see benchmarks/README.md); needs valgrind, takes a minute or two:

    OPENBLAS_NUM_THREADS=1 /work/venv/bin/python benchmarks/cold36_probe.py --tree .

Each piece is a statement run 5 times, then 20 times between two ``os.getppid()`` (the window
callgrind's ``--dump-before=getppid`` cuts out), the collector stopped; it prints instructions per run
less those of ``pass`` (the ``exec`` around each run). A statement that builds a graph makes it anew
each run (the pieces of a first call); ``cold_instructions.py`` counts the whole call. Pieces counted
this way add up to a little more than the whole (each run deallocates what it made; the call shares
some of it). Use it to see what a change costs a piece before counting the whole call again.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SETUP = """
import itertools
import numpy as np
from jacobi_cli.tools import api
from jacobi_cli.engine.compiled import Compiled
from jacobi_cli.lang import short
from jacobi_cli.lang.parser import parse, Made
api.monotonic_ns = itertools.repeat(10**15).__next__
t = "sin(x) * x**2 + exp(-x)"
sh = {"x": (10,)}
x = np.random.default_rng(0).standard_normal(10)
b = {"x": x}
C = Compiled(t, sh, np.float64, 0, 2**31, checked=False, wrt=["x"])


class NoLowering:  # the reader's calls answered at once: the reader alone
    def short_name(self, *a):
        return 0
    short_number = short_call = short_neg = short_binary = short_name


nothing = NoLowering()
"""

PIECES = [
    ("exec overhead (subtracted)", "pass"),
    ("E1 cold Jacobian: cache cleared, api.jacobian", "api._CACHE.clear(); api.jacobian(t, b, wrt=['x'])"),
    ("Compiled(...).jacobian: no API layer", "Compiled(t, sh, np.float64, 0, 2**31, checked=False, wrt=['x'])"
                                            ".jacobian(b, ['x'], 'auto', 2**33)"),
    ("Compiled(...): the parse and its own lines", "Compiled(t, sh, np.float64, 0, 2**31, checked=False, wrt=['x'])"),
    ("parse(E1)", "parse(t, sh, made=Made())"),
    ("the reader, lowering nothing", "short.read_short(t, nothing)"),
    ("_TOKEN.findall(E1)", "short._TOKEN.findall(t)"),
    ("bind (evaluate, budget, wrt)", "C.bind(b, ['x'], budget=2**33)"),
    ("parse('x')", "parse('x', sh)"),
    ("parse('sin(x)')", "parse('sin(x)', sh)"),
    ("parse('sin(sin(x))')", "parse('sin(sin(x))', sh)"),
    ("parse('x*x')", "parse('x*x', sh)"),
    ("parse('x*x*x')", "parse('x*x*x', sh)"),
]

RUNNER = """
import gc, os, sys
sys.path.insert(0, sys.argv[1])
g = {}
exec(sys.argv[2], g)
code = compile(sys.argv[3], "<piece>", "exec")
for _ in range(5):
    exec(code, g)
gc.collect()
gc.disable()
os.getppid()
for _ in range(20):
    exec(code, g)
os.getppid()
"""


def count(tree: str, statement: str, folder: str) -> float:
    """Instructions per run of ``statement`` (callgrind's second dump over 20 runs)."""
    out = os.path.join(folder, "cg.out")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}",
                    sys.executable, "-c", RUNNER, tree, SETUP, statement], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for line in Path(out + ".2").read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1]) / 20
    raise RuntimeError("no summary line: did valgrind run?")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=".", help="the checkout whose jacobi_cli is counted")
    tree = os.path.abspath(ap.parse_args().tree)
    with tempfile.TemporaryDirectory() as folder:
        base = None
        for what, statement in PIECES:
            n = count(tree, statement, folder)
            base = n if base is None else base
            print(f"{what:48s} {n / 1000:8.1f} k" if statement == "pass" else f"{what:48s} {(n - base) / 1000:8.1f} k")


if __name__ == "__main__":
    main()
