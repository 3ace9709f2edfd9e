"""cli34: a randomized fuzz of whole ``jac`` command lines (session 34).

    PYTHONPATH=. /work/venv/bin/python benchmarks/cli34_fuzz.py [--cases N] [--subprocess M] [--seed S]
                                                                [--seconds T] [-v] [--show K]

The earlier sweeps (hostile_sweep, hostile12_sweep, contract29_sweep, contract30_probe, cli28_sweep) ran fixed
lists. This one draws command lines at random: every command of ``jac --help`` (eval vjp jvp hessian derivative
shape diff check graph plot run schema completion), a random subset of its own options (from its --help) with
values drawn from valid ones and hostile ones (empty, 1e400, 10**100 sizes, negative and zero sizes, NaN/inf,
Unicode dashes and quotes, 1 MB expressions, 10,000 nested parentheses, Python builtins and dunders, paths to
folders, missing files, /dev/zero, FIFOs, symlinks, an ``--out`` onto an input or an existing file), options given
twice, options of another command, ``--json`` with anything, bindings valid and hostile, and suites for ``jac run``.

Most cases run in this process's forked worker through ``entry.main`` (as the ``jac`` script runs it, with
``JAC_DEBUG=1`` so that an internal error shows its traceback) or typer's ``CliRunner`` on the app; a sample runs
``python -m jacobi_cli`` in a subprocess. Each run gets 20 s, in a scratch folder of hostile files, and is
classified:

- OK: exit 0/1/2, a clean message, JSON parseable where --json;
- TRACEBACK: a traceback, an exception escaping, or an exit other than 0/1/2/130/141/143 (70: internal error);
- HANG: past the timeout, and again past 6 times it run the same way (SLOW: it finished then: a 1 MB expression
  on a busy machine);
- LOST-FILE: a file that was there before changed or vanished, by a command that failed (or one that was not a
  target of --out/--plot/--junit, whatever the exit);
- LEFTOVER: a new file left by a command that exited 2 (a temporary file, a half-written output);
- BAD-JSON: with --json, stdout not one JSON object, or not valid against ``jac schema <command>`` (``error``
  for exit 2);
- MESSAGE: exit 2 with an empty message, without 'jac: error', or with more than one;
- CODE-RAN: a canary the hostile expressions try to create (``PWNED``) appeared.

Prints the counts per class and runner, and the first few command lines of each class; exit 1 if any is not OK.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/work/venv/bin/python"
TIMEOUT = 20
OK_CODES = {0, 1, 2, 130, 141, 143}

# --- the scratch folder ---------------------------------------------------------------------------------------

SUITE_GOOD = """name = "s"
[[case]]
name = "dot"
expr = "2 * torch.dot(x, y)"
bindings = { x = "arange(4.0)", y = [3.0, 1.0, 2.0, 5.0] }
value = 40
jacobian.x = [6, 2, 4, 10]
"""
SUITE_FAIL = SUITE_GOOD.replace("value = 40", "value = 41")
SUITE_HOSTILE = {
    "bad_toml.toml": "[[case]\nname = ",
    "import.toml": '[[case]]\nname = "i"\nexpr = "__import__(\'os\').system(\'touch PWNED\')"\nvalue = 0\n',
    "huge.toml": '[[case]]\nname = "h"\nexpr = "x.sum()"\nbindings = { x = "ones(10**100)" }\nvalue = 1\n',
    "nan.toml": '[[case]]\nname = "n"\nexpr = "x"\nbindings = { x = 1 }\nvalue = nan\nrtol = nan\n',
    "nocase.toml": 'name = "empty"\n',
    "deep.toml": '[[case]]\nname = "d"\nexpr = "' + "(" * 3000 + "x" + ")" * 3000 + '"\nbindings = { x = 1 }\nvalue = 1\n',
    "dupe.toml": SUITE_GOOD + SUITE_GOOD.split("\n", 1)[1],
    "bom.toml": "\ufeff" + SUITE_GOOD,
    "inf_tol.toml": SUITE_GOOD.replace("value = 40", "value = 40\nrtol = 1e400\natol = -1"),
    "loop.toml": '[[case]]\nname = "w"\nexpr = "while True:\\n    x = x + 1\\nx"\nbindings = { x = 1 }\nvalue = 1\n',
}


def make_scratch(d: str) -> None:
    """The hostile files every case may name (relative paths: cases run with this folder as cwd)."""
    import numpy as np

    os.makedirs(d, exist_ok=True)
    w = lambda name, text, mode="w": open(os.path.join(d, name), mode).write(text)  # noqa: E731
    w("in.json", "[1.0, 2.0, 3.0]")
    w("in.csv", "1,2,3\n")
    w("in.txt", "1 2 3\n")
    w("A.json", "[[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]")
    np.save(os.path.join(d, "in.npy"), np.arange(3.0))
    np.save(os.path.join(d, "obj.npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    w("expr.txt", "sin(x).sum()")
    w("expr_import.txt", "__import__('os').system('touch PWNED')")
    w("expr_big.txt", "x" + "+x" * 400_000)
    w("bad.json", "[1, 2,")
    w("nan.json", "[NaN, Infinity, 1]")
    w("deep.json", "[" * 5000 + "1" + "]" * 5000)
    w("existing.json", '{"keep": true}')
    w("existing.npy", "not really an npy but must survive")
    w("existing.png", "PNG placeholder that must survive")
    w("existing.xml", "<keep/>")
    w("good.toml", SUITE_GOOD)
    w("fail.toml", SUITE_FAIL)
    for name, text in SUITE_HOSTILE.items():
        w(name, text)
    w("binary.npy", b"\x93NUMPY\x01\x00\xff\xff" + b"\x00" * 64, "wb")
    os.makedirs(os.path.join(d, "adir"), exist_ok=True)
    os.makedirs(os.path.join(d, "ro"), exist_ok=True)
    w("ro/keep.json", '{"ro": 1}')
    w("noperm.json", "[1, 2, 3]")
    os.chmod(os.path.join(d, "noperm.json"), 0)
    for link, target in (("link.json", "in.json"), ("dangling.json", "missing.json"), ("dirlink", "adir"),
                         ("loop.json", "loop.json"), ("outlink.json", "existing.json")):
        with contextlib.suppress(FileExistsError):
            os.symlink(target, os.path.join(d, link))
    with contextlib.suppress(FileExistsError):
        os.mkfifo(os.path.join(d, "fifo"))


def snapshot(d: str) -> dict:
    state = {}
    for base, dirs, files in os.walk(d):
        for name in dirs + files:
            p = os.path.join(base, name)
            rel = os.path.relpath(p, d)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                state[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                state[rel] = ("dir",)
            elif stat.S_ISFIFO(st.st_mode):
                state[rel] = ("fifo",)
            else:
                with open(p, "rb") as f:
                    state[rel] = ("file", hashlib.md5(f.read()).hexdigest(), stat.S_IMODE(st.st_mode))
    return state


def reset_scratch(d: str) -> None:
    for name in os.listdir(d):
        p = os.path.join(d, name)
        if os.path.isdir(p) and not os.path.islink(p):
            os.chmod(p, 0o755)
            shutil.rmtree(p)
        else:
            os.unlink(p)
    make_scratch(d)


# --- the vocabulary ---------------------------------------------------------------------------------------

BIG = "x" + "+x" * 400_000  # ~1.2 MB
BIG_SUB = "x" + "+x" * 40_000  # 120 KB: Linux refuses one argument over 128 KiB
NESTED = "(" * 10_000 + "x" + ")" * 10_000
EXPR_VALID = ["sin(x)", "x.sum()", "(x ** 2).sum()", "A @ x", "a = sin(x); b = x.sum(); a, b", "torch.dot(x, y)",
              "exp(x) * y", "x[0]", "sum(x * y)", "-x", "-(x + y)", "det(A)", "x", "softmax(x, 0)",
              "torch.linalg.qr(A)", "{'a': x.sin(), 'b': x.sum()}", "x @ A @ x", "where(x > 0, x, -x)",
              "x.max()", "norm(x)", "log(x)", "sqrt(x).sum()", "x / y", "@expr.txt", "np.cumsum(x)",
              "jax.grad(lambda t: (t ** 3).sum())(x)", "relu(x) + 1"]
EXPR_HOSTILE = ["", " ", "x +", "__import__('os').system('touch PWNED')", "().__class__.__bases__[0].__subclasses__()",
                "open('PWNED', 'w').write('x')", "eval('1')", "exec('x = 1')", "globals()", "x.__class__",
                "x.__dict__", "getattr(x, '__class__')", "lambda: 0", "import os", "breakpoint()",
                "compile('1', 'f', 'eval')", "x.__class__.__init__.__globals__", "[c for c in ().__class__.__mro__]",
                NESTED, BIG, "\u2212x", "x \u2013 y", "\u201cx\u201d", "x\x00", "1e400", "10**100", "x ** 10**100",
                "ones(10**100)", "zeros(-1)", "eye(10**9)", "nan", "inf", "-inf * x", "@missing.txt", "@adir",
                "@/dev/zero", "@fifo", "@noperm.json", "@link.json", "@dangling.json", "@expr_import.txt",
                "@expr_big.txt", "@", "-", "--", "-x", "\u2014x", "\u202ex", "[" * 5000 + "x" + "]" * 5000, "not x",
                "x if x else y", "def f(x):\n    return x\nf(x)", "while True:\n    x = x + 1\nx",
                "for i in range(10**9):\n    x = x + 1\nx", "2**2**2**2**2", "'a' * 10**9", "x.reshape(10**100)",
                "sum(x, axis=10**100)", "x[10**100]", "x[::0]", "x" * 100_000, "\ufeffsin(x)", "sin(x)  # comment",
                "x.sum(); ;", "yield x", "await x", "x := 1", "f'{x}'", "b'x'", "..." , "x[...]", "(x,)", "()",
                "[]", "{}", "x, ", "print(x)", "type(x)", "vars()", "__builtins__", "sys.exit(0)", "exit()",
                "quit()", "raise SystemExit", "assert False", "del x", "global x", "x = 1", "x.sum", "torch",
                "np.linalg", "np.load('in.npy', allow_pickle=True)", "np.save('PWNED', x)", "torch.save(x, 'PWNED')",
                "np.savetxt('PWNED', x)", "open", "x.tofile('PWNED')", "np.fromfile('/dev/zero')",
                "x.astype(object)", "np.array(['a'])", "1 / 0", "0 ** -1", "np.float128(1)", "complex(1, 2) * x",
                "1j * x", "x @ x @ x @ x", "sin(" * 500 + "x" + ")" * 500]
SCALAR_EXPR = ["sin(x)", "3*x**2 - 4*x", "exp(x)", "x", "1 / x", "log(x)", "abs(x)"]

BIND_VALID = ["x=[1,2,3]", "x:3", "y:3", "A:3x3", "x=2", "x=arange(3.0)", "x=@in.json", "x=@in.npy", "A=eye(3)",
              "y=[3,1,2]", "x=@in.csv", "x=@in.txt", "A=@A.json", "x:()", "x=0.5", "y=[1.0, -1.0, 2.0]"]
BIND_HOSTILE = ["x=", "=3", "x", "x:", "x:-1", "x:0", "x:10**100", "x:1e400", "x:nan", "x:3x-1", "x=1e400",
                "x=nan", "x=inf", "x=[1,2", "x=__import__('os').system('touch PWNED')", "x=@adir", "x=@/dev/zero",
                "x=@fifo", "x=@missing.npy", "x=@noperm.json", "x=@link.json", "x=@dangling.json",
                "x=ones(10**100)", "x=rand(10**9)", "x=\u20181\u2019", "x:\uff13", "x=@/dev/stdin", "x=[[1],[2,3]]",
                "x=" + "1," * 200_000 + "1", "x=" + "[" * 5000 + "1" + "]" * 5000, "__class__=1", "sum=3", "x=1",
                "x:4", "x=@obj.npy", "x=@binary.npy", "x=@bad.json", "x=@nan.json", "x=@deep.json", "x:99999999999",
                "x:3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3x3", "x=@", "x=@expr.txt",
                "A:nxm", "x:n", "x\u2212=1", "x=().__class__", "x=open('PWNED','w')", "x=x", "1x=2", "x.y=1",
                "x=[1,2,3]" * 1000, "x=np.load('obj.npy', allow_pickle=True)", "x=10**400", "x=-0.0",
                "x=[1e308, 1e308]", "x=[]", "x=[[]]", "x=ones(0)", "x=ones((2, 0))", "x=True", "x='a'", "x=None"]

SIZES_GOOD, SIZES_BAD = ["1G", "512M", "50%", "100M"], ["0", "-1", "1e400", "", "nan", str(10**100), "100%",
                                                         "200%", "1", "1K", "1X", "-50%", "\u22121G", "inf"]
NUM_BAD = ["", "nan", "inf", "-inf", "1e400", "-1", "0", str(10**100), "abc", "1.5", "\u22121", "0x10", "1_000"]
OUT_PATHS = ["out.json", "out.npy", "out.npz", "existing.json", "existing.npy", "in.json", "in.npy", "adir", "fifo",
             "/dev/zero", "/dev/full", "missing/x.json", "link.json", "dangling.json", "", "-", "x.txt",
             "existing.png", "outlink.json", "dirlink", "ro/keep.json", "expr.txt", "good.toml", ".", "adir/",
             "x" * 300 + ".json", "loop.json", "noperm.json", "out.png", "out.svg", "existing.xml"]

OPTIONS = {  # name -> (good values, hostile values); None: a flag
    "--wrt": (["x", "y", "A"], ["", "z", "__class__", "x,y", "1x", "x ", "\u2212x", "--json"]),
    "--json": None, "--explain": None, "--sparse": None, "--strict": None, "--symbolic": None, "--latex": None,
    "--limit": None, "--backward": None, "--dot": None,
    "--dtype": (["float64", "float32"], ["", "float16", "int64", "FLOAT64", "complex128", "object"]),
    "--seed": (["0", "1", "42"], NUM_BAD + [str(2**64), str(2**63)]),
    "--layout": (["array", "numerator"], ["", "x", "ARRAY"]),
    "--out": (["out.json", "out.npy", "out.npz"], OUT_PATHS),
    "--plot": (["out.png", "out.svg"], OUT_PATHS),
    "--mode": (["auto", "forward", "reverse"], ["", "sideways"]),
    "--max-memory": (SIZES_GOOD, SIZES_BAD),
    "--batch": (["x", "x:0", "A", "A:1"], ["", "x:1e400", f"x:{10**100}", "x:-1", "y", "x:1", "A:5", "x:x", ":0"]),
    "--timeout": (["1", "30", "5"], NUM_BAD + ["0.001"]),
    "--v": (["ones", "1", "[1,2,3]", "y0=1"], ["", "nan", "x=1", "ones(10**100)", "__import__('os')", "[1,2",
                                                "@in.npy", "@fifo", "@adir", "y9=1", "1e400", "[[1,2,3]]"]),
    "--tangent": (["x=[1,2,3]", "x=ones", "x=1", "A=eye(3)"], ["", "=1", "x", "x=nan", "z=1", "x=@in.npy",
                                                                 "x=@fifo", "x=ones(10**100)", "x=[1,2", "x=1e400"]),
    "--order": (["1", "2", "3"], NUM_BAD + ["100000", "1000"]),
    "--at": (["x=1", "x=0.5", "A=eye(3)"], ["x=", "", "x=nan", "x=1e400", "z=1", "x=__import__('os')", "x=@fifo"]),
    "--method": (["central", "richardson"], ["", "forward"]),
    "--rtol": (["1e-6", "1e-3"], NUM_BAD), "--atol": (["1e-8", "0"], NUM_BAD),
    "--max-nodes": (["10", "1000"], NUM_BAD),
    "--range": (["-1:3", "0:1", "-pi:pi"], ["", "3:-1", "nan:1", "1e400:1e401", "a:b", "1:1", ":", "1:", "-inf:inf"]),
    "-k": (["dot", "s"], ["", "[", "*", "\u2212", "x" * 10000]),
    "--shard": (["1/2", "2/2", "1/1"], ["0/0", "3/2", "-1/2", "", "1/0", f"{10**100}/1", "a/b", "1/2/3"]),
    "--jobs": (["1", "2"], NUM_BAD), "-j": (["1", "2"], NUM_BAD),
    "--junit": (["junit.xml", "j.xml"], OUT_PATHS),
    "--help": None, "--version": None,
}
COMMANDS = {
    "eval": ["--wrt", "--json", "--dtype", "--seed", "--layout", "--out", "--symbolic", "--plot", "--mode",
             "--explain", "--sparse", "--max-memory", "--strict", "--batch", "--timeout"],
    "vjp": ["--wrt", "--json", "--dtype", "--seed", "--v", "--strict", "--batch", "--max-memory"],
    "jvp": ["--wrt", "--json", "--dtype", "--seed", "--tangent", "--strict", "--batch", "--max-memory"],
    "hessian": ["--wrt", "--json", "--dtype", "--seed", "--explain", "--max-memory", "--strict", "--batch"],
    "derivative": ["--wrt", "--json", "--dtype", "--seed", "--order", "--sparse", "--explain", "--max-memory",
                   "--strict", "--batch"],
    "shape": ["--wrt", "--json", "--batch", "--max-memory", "--dtype", "--seed"],
    "diff": ["--wrt", "--json", "--at", "--latex", "--order", "--timeout", "--max-memory", "--batch", "--dtype",
             "--seed"],
    "check": ["--wrt", "--json", "--dtype", "--seed", "--method", "--rtol", "--atol", "--limit", "--batch",
              "--max-memory"],
    "graph": ["--wrt", "--json", "--dtype", "--seed", "--backward", "--v", "--dot", "--out", "--max-nodes",
              "--max-memory", "--batch"],
    "plot": ["--wrt", "--json", "--dtype", "--seed", "--out", "--range", "--max-memory", "--batch"],
    "run": ["-k", "--shard", "--jobs", "-j", "--junit", "--json", "--max-memory", "--timeout"],
    "schema": [], "completion": [],
}
WRITES = ("--out", "--plot", "--junit")
SUITES = ["good.toml", "fail.toml", "examples/seeds.toml", "missing.toml", "adir", "fifo", "/dev/zero", "in.json",
          "noperm.json", "link.json", "dangling.json", ""] + list(SUITE_HOSTILE)


def draw(r: random.Random, sub: bool) -> list:
    """One command line (the arguments after ``jac``)."""
    command = r.choice(list(COMMANDS))
    if r.random() < 0.02:
        return r.choice([[], ["--help"], ["--version"], ["nope"], [""], ["-x"], ["eval", "--help"], ["\u2212\u2212json"],
                         ["--json"], ["eval"], ["run"], ["EVAL", "x"]])
    hostile = r.random() < 0.5
    args = [command]
    if command == "schema":
        args += r.choice([[], ["eval"], ["error"], ["run"], ["nope"], [""], ["../etc/passwd"], ["eval", "eval"],
                          ["--json"], ["eval", "--json"]])
        return args
    if command == "completion":
        args += r.choice([["bash"], ["zsh"], ["fish"], [""], ["cmd"], [], ["bash", "zsh"], ["--json"]])
        return args
    if command == "run":
        if r.random() < 0.9:
            s = r.choice(SUITES)
            args.append(os.path.join(ROOT, s) if s.startswith("examples") else s)
        if r.random() < 0.15:
            args.append(r.choice(SUITES[:2]))
    else:
        pool = EXPR_HOSTILE if hostile and r.random() < 0.6 else (SCALAR_EXPR if command == "plot" else EXPR_VALID)
        e = r.choice(pool)
        if sub and len(e) > 100_000:
            e = BIG_SUB
        if e.startswith("-") and r.random() < 0.5:
            args.append("--")
        args.append(e)
        n = r.choice([0, 1, 1, 2, 2, 3])
        for _ in range(n):
            b = r.choice(BIND_HOSTILE if hostile and r.random() < 0.4 else BIND_VALID)
            if sub and len(b) > 100_000:
                b = b[:100_000]
            args.append(b)
        if command == "plot" and r.random() < 0.5:
            args.append(r.choice(["x=0.5", "x=1", "x:()"]))
    opts = list(COMMANDS[command])
    if command == "plot" and r.random() < 0.8:
        args += ["--out", r.choice(OPTIONS["--out"][1] if hostile else ["out.png", "out.svg"])]
    k = r.choice([0, 1, 1, 2, 2, 3, 4])
    for _ in range(k):
        if r.random() < 0.07:  # an option of another command
            name = r.choice([o for o in OPTIONS if o not in opts and o not in ("--help", "--version")])
        elif opts:
            name = r.choice(opts)
        else:
            continue
        spec = OPTIONS[name]
        if spec is None:
            args.append(name)
            continue
        good, bad = spec
        value = r.choice(bad if hostile and r.random() < 0.5 else good)
        if r.random() < 0.1 and not value.startswith("-"):
            args.append(f"{name}={value}")
        else:
            args += [name, value]
        if r.random() < 0.08:  # given twice
            args += [name, r.choice(good + bad)]
    if r.random() < 0.5 and "--json" not in args:
        args.append("--json")
    if r.random() < 0.05:
        args.insert(r.randrange(1, len(args) + 1), r.choice(["--json", "--", "-", "--wrt", "-h"]))
    return args


# --- running ------------------------------------------------------------------------------------------------

def _in_process(args: list, how: str):
    """Run one command line here; (code, stdout, stderr, escaped traceback or None)."""
    import traceback

    out, err = io.StringIO(), io.StringIO()
    escaped = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if how == "entry":
                from jacobi_cli.cli import entry
                code = entry.main(list(args))
            else:  # typer's CliRunner streams around the typer path (app.main: no fast path of entry's)
                from typer.testing import CliRunner

                from jacobi_cli.cli.app import main as typer_main
                with CliRunner().isolation(input="") as (o, e, _):
                    try:
                        code = typer_main(list(args))
                    finally:
                        sys.stdout.flush()
                        sys.stderr.flush()
                        out.write(o.getvalue().decode("utf-8", "replace"))
                        err.write(e.getvalue().decode("utf-8", "replace") if e is not None else "")
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
            escaped = f"SystemExit({e.code!r}) escaped"
        except BaseException:  # noqa: BLE001 - what the fuzz looks for
            code = None
            escaped = traceback.format_exc()
    return code, out.getvalue(), err.getvalue(), escaped


def _worker(conn, scratch):
    os.chdir(scratch)
    os.environ["JAC_DEBUG"] = "1"
    os.environ["COLUMNS"] = "120"
    sys.stdin = open(os.devnull)
    while True:
        item = conn.recv()
        if item is None:
            return
        args, how = item
        try:
            conn.send(_in_process(args, how))
        except Exception as e:  # noqa: BLE001 - an unpicklable result
            conn.send((None, "", "", f"harness: {e!r}"))


class Worker:
    """A forked process that runs in-process cases one at a time; killed and replaced on a timeout."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.start()

    def start(self):
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, self.scratch))
        self.proc.start()

    def run(self, args, how, timeout=TIMEOUT):
        self.conn.send((args, how))
        if self.conn.poll(timeout):
            try:
                return self.conn.recv()
            except EOFError:
                pass
            self.proc.join(1)
            return self.proc.exitcode, "", "", f"worker died (exit {self.proc.exitcode})"
        self.kill()
        self.start()
        return "HANG", "", "", None

    def kill(self):
        with contextlib.suppress(Exception):
            os.kill(self.proc.pid, 9)
        self.proc.join(5)

    def stop(self):
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.proc.join(2)
        if self.proc.is_alive():
            self.kill()


def run_subprocess(args, scratch, timeout=TIMEOUT):
    env = dict(os.environ, PYTHONPATH=ROOT, COLUMNS="120")
    env.pop("JAC_DEBUG", None)
    try:
        p = subprocess.run([PY, "-m", "jacobi_cli", *args], cwd=scratch, env=env, capture_output=True,
                           timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        return "HANG", "", "", None
    except (OSError, ValueError) as e:  # E2BIG, a NUL byte: no argv can hold them (the harness, not jac)
        return "SKIP", "", str(e), None
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), None


# --- classifying ---------------------------------------------------------------------------------------------

_VALIDATORS = {}


def validator(name):
    if name not in _VALIDATORS:
        import jsonschema

        from jacobi_cli.cli import schema
        _VALIDATORS[name] = (jsonschema.Draft202012Validator(schema.load(name))
                             if name in schema.names() else None)
    return _VALIDATORS[name]


def _strict_json(text):
    def bare(token):
        raise ValueError(f"bare {token}")
    return json.loads(text, parse_constant=bare)


def targets(args) -> set:
    """The paths this command line may write on success."""
    found = set()
    for i, a in enumerate(args):
        for opt in WRITES:
            if a == opt and i + 1 < len(args):
                found.add(args[i + 1])
            elif a.startswith(opt + "="):
                found.add(a[len(opt) + 1:])
    out = set()
    for t in found:
        out.add(os.path.normpath(t) if t else t)
        if t.endswith((".npy", ".npz", ".png", ".svg", ".json", ".xml")):
            continue
        out |= {os.path.normpath(t) + s for s in (".npy", ".npz", ".png", ".svg", ".json", ".xml")} if t else set()
    return out


def classify(args, code, out, err, escaped, before, after, scratch="."):
    """(class, detail)"""
    if code == "HANG":
        return "HANG", ""
    if escaped or "Traceback" in err or "Traceback" in out:
        text = escaped or (err if "Traceback" in err else out)
        return "TRACEBACK", text.strip().splitlines()[-1][:200] if text.strip() else "?"
    if code not in OK_CODES:
        return "TRACEBACK", f"exit {code}: {err.strip()[:200]}"
    if "PWNED" in after:
        return "CODE-RAN", ""
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    allowed = targets(args) if code in (0, 1) else set()  # exit 1: a check failed, its report is written
    real = {os.path.realpath(os.path.join(scratch, t)) for t in allowed if t}
    bad = [k for k in changed if k not in allowed and os.path.realpath(os.path.join(scratch, k)) not in real]
    lost = [k for k in bad if k in before]
    if bad:
        return ("LOST-FILE" if lost else "LEFTOVER"), ", ".join(
            f"{k}: {before.get(k, ('absent',))[0]} -> {after.get(k, ('absent',))[0]}" for k in (lost or bad)[:4])
    # --json applies when the command parsed its options: exit 0/1, or 2 from the command itself
    if "--json" in args and code in (0, 1, 2) and args and args[0] in COMMANDS and "--help" not in args \
            and "-h" not in args and args[0] not in ("schema", "completion"):
        if out.strip():
            try:
                obj = _strict_json(out)
            except ValueError as e:
                return "BAD-JSON", f"not one JSON object: {e} {out[:100]!r}"
            if not isinstance(obj, dict):
                return "BAD-JSON", f"not an object: {out[:80]!r}"
            name = "error" if code == 2 else args[0]
            v = validator(name)
            if v is not None:
                errors = sorted(v.iter_errors(obj), key=str)
                if errors:
                    e = errors[0]
                    return "BAD-JSON", f"schema {name}: {e.message[:140]} at /{'/'.join(map(str, e.absolute_path))}"
        elif code in (0, 1) and not ("--explain" in args or "--dot" in args):
            return "BAD-JSON", "nothing on stdout with --json"
    if code == 2:
        n = err.count("jac: error")
        if not err.strip():
            return "MESSAGE", "empty message"
        if n != 1:
            return "MESSAGE", f"{n} 'jac: error' lines: {err.strip()[:160]!r}"
        if not err.lstrip().startswith("jac: error"):
            return "MESSAGE", f"message does not begin with 'jac: error': {err.strip()[:160]!r}"
    return "OK", ""


def short(args) -> str:
    return " ".join(repr(a[:60] + "…") if len(a) > 60 else (repr(a) if (not a or " " in a or "\n" in a) else a)
                    for a in args)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--subprocess", type=int, default=300)
    ap.add_argument("--seed", type=int, default=34)
    ap.add_argument("--seconds", type=float, default=1200)
    ap.add_argument("--show", type=int, default=6)
    ap.add_argument("-v", action="store_true")
    opts = ap.parse_args()
    r = random.Random(opts.seed)
    scratch = tempfile.mkdtemp(prefix="cli34_")
    make_scratch(scratch)
    pristine = snapshot(scratch)
    counts = defaultdict(Counter)
    examples = defaultdict(list)
    start = time.time()
    worker = Worker(scratch)
    plan = [("entry" if i % 3 else "runner", False) for i in range(opts.cases)]
    plan += [("subprocess", True)] * opts.subprocess
    r.shuffle(plan)
    done = 0
    try:
        for how, sub in plan:
            if time.time() - start > opts.seconds:
                break
            args = draw(r, sub)
            before = pristine
            if how == "subprocess":
                code, out, err, escaped = run_subprocess(args, scratch)
            else:
                code, out, err, escaped = worker.run(args, how)
            if code == "SKIP":
                continue
            after = snapshot(scratch)
            cls, detail = classify(args, code, out, err, escaped, before, after, scratch)
            if cls == "HANG":  # past 20 s: a real hang, or a big input on a busy machine? once more, 6x the time
                reset_scratch(scratch)
                t0 = time.time()
                again = (run_subprocess(args, scratch, 6 * TIMEOUT) if how == "subprocess"
                         else worker.run(args, how, 6 * TIMEOUT))
                if again[0] != "HANG":
                    cls, detail = "SLOW", f"finished in {time.time() - t0:.0f} s with exit {again[0]}"
                after = snapshot(scratch)
            done += 1
            counts[how][cls] += 1
            if cls != "OK":
                examples[cls].append((how, args, code, detail))
                if opts.v:
                    print(f"{cls:9} {how:10} exit {code}: {short(args)[:300]}\n          {detail}", flush=True)
            if after != before:
                reset_scratch(scratch)
            if done % 250 == 0:
                print(f"... {done} runs, {time.time() - start:.0f} s: "
                      + ", ".join(f"{k} {v}" for k, v in sorted(sum(counts.values(), Counter()).items())), flush=True)
    finally:
        worker.stop()
        with contextlib.suppress(Exception):
            os.chmod(os.path.join(scratch, "noperm.json"), 0o644)
            shutil.rmtree(scratch)
    total = Counter()
    for how, c in counts.items():
        total.update(c)
        print(f"{how:10} {sum(c.values()):5} runs: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    print(f"{'total':10} {done:5} runs: " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())),
          f"({time.time() - start:.0f} s)")
    for cls, items in sorted(examples.items()):
        print(f"\n{cls} ({len(items)}):")
        seen = set()
        for how, args, code, detail in items:
            key = re.sub(r"\d+", "N", detail)[:80]
            if key in seen:
                continue
            seen.add(key)
            print(f"  [{how}] exit {code}: jac {short(args)[:300]}\n      {detail}")
            if len(seen) >= opts.show:
                break
    return 1 if any(k != "OK" for k in total) else 0


if __name__ == "__main__":
    sys.exit(main())
