#!/usr/bin/env python3
"""Time ``jac graph`` on long flat sums, step by step and as a whole command.

Run by hand, never as a test (see benchmarks/README.md):

    python benchmarks/graph_bench.py                     # 30k, 100k and 300k nodes, 3 runs each
    python benchmarks/graph_bench.py --nodes 300000 --runs 5
    python benchmarks/graph_bench.py --small 2000         # also: a cold parse of small expressions

The expression is ``x*1 + x*2 + ... + x*N`` with ``x:3`` (3 nodes per term, so N = nodes / 3), the
case of issue 16 item 6. Per step, in this process, wall and CPU seconds (``time.perf_counter``,
``time.process_time``): ``ast.parse`` alone (on the parser's deep-stack thread), ``parse`` (text to
graph, ast included), ``bind`` (the graph for ``--wrt`` and the forward pass), ``report`` (the nodes and
edges of ``graph_report``), ``render`` (the tree as text to a pipe) and ``json`` (the ``--json`` text).
Then the whole command in a subprocess (``python -m jacobi_cli graph @FILE x:3``, output to a pipe),
with and without ``--json``. The median of the runs is printed, wall / CPU; the steps run with the garbage
collector as the command has it (paused, where the CLI pauses it).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmark the jacobi_cli of this checkout

from jacobi_cli.cli import commands  # noqa: E402
from jacobi_cli.cli.render import Renderer, to_json  # noqa: E402
from jacobi_cli.engine.compiled import Compiled  # noqa: E402
from jacobi_cli.lang import parser  # noqa: E402
from jacobi_cli.tools import api, report  # noqa: E402

SMALL = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
         "F = a * b; G = 2 * F; G.sum()"]


def sum_text(nodes: int) -> str:
    return " + ".join(f"x*{i}" for i in range(1, nodes // 3 + 1))


def timed(fn):
    """``(result, wall seconds, CPU seconds)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def steps(text: str) -> dict:
    """Wall and CPU seconds of each step of ``jac graph TEXT x:3``, one run, with the garbage
    collector as the command has it (paused by ``commands.collector_paused`` where it exists)."""
    paused = getattr(commands, "collector_paused", contextlib.nullcontext)
    with paused():
        return _steps(text)


def _steps(text: str) -> dict:
    out = {}
    _, *out["ast.parse"] = timed(lambda: parser._parse_deep(text))
    compiled, *out["parse"] = timed(lambda: Compiled(text, {"x": (3,)}))  # the parse, nothing more
    env = {"x": api.np.arange(3.0)}
    problem, *out["bind"] = timed(lambda: compiled.bind(env, None, True))

    def nodes():
        r = report._header("graph", text, problem.graph, problem.wrt)
        r["output"] = {**report._output(problem), "id": problem.graph.output}
        return report._graph_nodes(r, problem.graph, {}, False)

    result, *out["report"] = timed(nodes)

    def render():
        sink = io.StringIO()
        with redirect_stdout(sink):
            Renderer().graph(result)
        return sink.getvalue()

    _, *out["render"] = timed(render)
    _, *out["json"] = timed(lambda: to_json(result))
    return out


def command(path: str, extra: list) -> tuple:
    """``(wall, CPU)`` seconds of the whole command (user + system time of the child), output
    to a pipe."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "jacobi_cli", "graph", f"@{path}", "x:3", *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"jac graph failed: {done.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def small_parses(count: int) -> None:
    """The cold parse (no cache) of a few small expressions: what every first call pays."""
    shapes = {"x": (10,), "A": (10, 10), "a": (2,), "b": (2,)}
    for expr in SMALL:
        inputs = {k: v for k, v in shapes.items() if k in expr}
        parser.parse(expr, inputs)
        start = time.perf_counter()
        for _ in range(count):
            parser.parse(expr, inputs)
        per = (time.perf_counter() - start) / count
        start = time.perf_counter()
        for _ in range(count):
            api.clear_cache()
            api.prepare(expr, {k: f"ones({','.join(map(str, v))})" for k, v in inputs.items()})
        prep = (time.perf_counter() - start) / count
        print(f"  {expr:34s} parse {per * 1e6:8.1f} us   prepare (cold) {prep * 1e6:8.1f} us")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", default="30000,100000,300000", help="graph sizes (comma-separated)")
    ap.add_argument("--runs", type=int, default=3, help="runs per size; the median is printed")
    ap.add_argument("--small", type=int, default=0, help="also time cold parses of small expressions, N each")
    ap.add_argument("--no-command", action="store_true", help="skip the subprocess timing")
    args = ap.parse_args()
    paused = hasattr(commands, "collector_paused")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
          f"gc {'paused' if paused else 'on'} in the steps; median of {args.runs} runs, seconds wall / CPU")
    names = ["ast.parse", "parse", "bind", "report", "render", "json"]
    print(f"{'nodes':>8} " + " ".join(f"{n:>15}" for n in names) + f" {'command':>15} {'--json':>15}")
    for nodes in [int(n) for n in args.nodes.split(",")]:
        text = sum_text(nodes)
        runs = [steps(text) for _ in range(args.runs)]
        cells = []
        for n in names:
            wall = statistics.median(r[n][0] for r in runs)
            cpu = statistics.median(r[n][1] for r in runs)
            cells.append(f"{wall:7.2f} /{cpu:6.2f}")
        tail = ""
        if not args.no_command:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                f.write(text + "\n")
            try:
                timings = [(command(f.name, []), command(f.name, ["--json"])) for _ in range(args.runs)]
            finally:
                os.unlink(f.name)
            for k in (0, 1):
                wall = statistics.median(t[k][0] for t in timings)
                cpu = statistics.median(t[k][1] for t in timings)
                tail += f" {wall:7.2f} /{cpu:6.2f}"
        print(f"{nodes:>8} " + " ".join(cells) + tail, flush=True)
    if args.small:
        print(f"cold parse of small expressions (x:10, A:10x10), mean of {args.small}:")
        small_parses(args.small)


if __name__ == "__main__":
    main()
