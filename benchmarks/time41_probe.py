#!/usr/bin/env python3
"""Does ``--timeout`` stop every command that computes, and the API's ``timeout=``, near the limit? (session 41)

Run by hand, never as a test: ``python benchmarks/time41_probe.py [--tree DIR] [--limit 1] [--unlimited hessian ...]``.

For each command (``eval vjp jvp hessian derivative check graph shape``) it runs ``jac COMMAND SLOW ... --timeout
LIMIT --json`` (``entry.main``, in a process of its own) of the checkout ``--tree`` and prints the exit code, the error's kind, the wall and CPU time
of the limit's own span (``commands.whole_command``: start-up and rendering left out) and the overshoot past it, then the same for the
API's functions (``timeout=LIMIT``, in a thread other than the main one). ``--unlimited hessian check`` also runs those
commands without a limit, to show what the limit saved (tens of seconds each; the machine is shared).
Counts at the end: commands and functions stopped with a ``limit`` error within 2 s of the limit.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

# about 30 s of jac hessian / jac check without a limit on the 2-core machine (tanh and a product per step)
SLOW = "y = x\nfor i in range(1500):\n    y = tanh(A @ y) * 0.5 + y\ny.sum()"
BINDINGS = ["A=eye(40) * 0.1", "x:40"]
EXTRA = {"jvp": ["--tangent", "x=ones"], "derivative": ["--order", "2", "--wrt", "x"], "graph": ["--backward"],
         "hessian": ["--wrt", "x"], "check": ["--wrt", "x"]}
COMMANDS = ["eval", "vjp", "jvp", "hessian", "derivative", "check", "graph", "shape"]


CLI_PROGRAM = r"""
import contextlib, io, json, sys, time
sys.path.insert(0, sys.argv[1])
from jacobi_cli.cli import entry, app, commands
argv = json.loads(sys.argv[2])
out, err = io.StringIO(), io.StringIO()
held = commands.whole_command
spent = [0.0, 0.0]

@contextlib.contextmanager
def timed(seconds, what):  # the limit's own span: from the alarm set to the limit error raised (start-up left out)
    wall, cpu = time.monotonic(), time.process_time()
    try:
        with held(seconds, what):
            yield
    finally:
        spent[:] = [time.monotonic() - wall, time.process_time() - cpu]

commands.whole_command = timed
wall, cpu = time.monotonic(), time.process_time()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = entry.main(argv)
if spent == [0.0, 0.0]:  # no limit: the whole command, from the entry point's call
    spent = [time.monotonic() - wall, time.process_time() - cpu]
print(json.dumps([code, out.getvalue(), err.getvalue(), *spent]))
"""


def cli(tree: str, command: str, limit: str | None) -> tuple:
    """``(exit code, error kind, wall seconds, CPU seconds, message)`` of one command run in a process of its own,
    timed over the limit's own span, ``commands.whole_command`` (start-up, typer and the error's rendering left
    out: on a shared machine they are seconds of waiting)."""
    argv = [command, SLOW, *BINDINGS, *EXTRA.get(command, []), "--json"]
    if limit is not None:
        argv += ["--timeout", limit]
    done = subprocess.run([sys.executable, "-c", CLI_PROGRAM, tree, json.dumps(argv)], capture_output=True,
                          text=True, timeout=900, cwd="/")
    try:
        code, out, err, wall, cpu = json.loads(done.stdout)
    except json.JSONDecodeError:
        return None, None, 0.0, 0.0, (done.stderr.strip().splitlines() or [""])[-1]
    try:
        error = json.loads(out).get("error") or {}
    except json.JSONDecodeError:
        error = {}
    return code, error.get("kind"), wall, cpu, error.get("message") or (err.strip().splitlines() or [""])[-1]


API_PROGRAM = r"""
import json, sys, threading, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from jacobi_cli.tools import api
SLOW, limit = sys.argv[2], float(sys.argv[3])
b = {"A": np.eye(40) * 0.1, "x": np.ones(40)}
calls = {
    "evaluate": lambda: api.evaluate(SLOW, b, timeout=limit),
    "jacobian": lambda: api.jacobian(SLOW, b, timeout=limit),
    "vjp": lambda: api.vjp(SLOW, b, timeout=limit),
    "jvp": lambda: api.jvp(SLOW, b, {"x": np.ones(40)}, timeout=limit),
    "hessian": lambda: api.hessian(SLOW, b, wrt=["x"], timeout=limit),
    "derivative": lambda: api.derivative(SLOW, b, 2, wrt=["x"], timeout=limit),
}
out = {}
def run(name, call):
    start = time.monotonic()
    try:
        call()
        out[name] = ("answered", time.monotonic() - start, "")
    except Exception as err:
        out[name] = (type(err).__name__, time.monotonic() - start, str(err)[:150])
for name, call in calls.items():
    t = threading.Thread(target=run, args=(name, call))
    t.start()
    t.join()
print(json.dumps(out))
"""


def api_calls(tree: str, limit: str) -> dict:
    done = subprocess.run([sys.executable, "-c", API_PROGRAM, tree, SLOW, limit], capture_output=True, text=True,
                          timeout=900, cwd="/")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"(all)": ("crashed", 0.0, done.stderr.strip().splitlines()[-1:])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--limit", default="1")
    ap.add_argument("--unlimited", nargs="*", default=None, help="commands also run without a limit (hessian check)")
    args = ap.parse_args()
    limit = float(args.limit)
    print(f"tree {args.tree}, --timeout {args.limit}")
    stopped = 0
    for command in COMMANDS:
        code, kind, seconds, cpu, message = cli(args.tree, command, args.limit)
        ok = code == 2 and kind == "limit" and seconds <= limit + 2
        stopped += ok
        print(f"  jac {command:10} exit {code} {str(kind):6} {seconds:6.2f} s wall ({seconds - limit:+.2f} s past the "
              f"limit), {cpu:5.2f} s CPU  {message[:100]}")
    print(f"commands stopped with a limit error within 2 s of --timeout {args.limit}: {stopped}/{len(COMMANDS)}")
    found = api_calls(args.tree, args.limit)
    within = 0
    for name, (what, seconds, message) in found.items():
        ok = what == "JacLimitError" and seconds <= limit + 2
        within += ok
        print(f"  {name + '()':13} {what:14} {seconds:6.2f} s  {message[:110]}")
    print(f"API functions stopped with JacLimitError (in a thread) within 2 s of timeout={args.limit}: "
          f"{within}/{len(found)}")
    if args.unlimited is not None:
        for command in args.unlimited:
            code, kind, seconds, cpu, _ = cli(args.tree, command, None)
            print(f"  without a limit: jac {command} exit {code} in {seconds:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
