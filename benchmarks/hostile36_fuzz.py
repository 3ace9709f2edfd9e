"""hostile36: hostile files, time and memory through every command and input route (session 36).

    PYTHONPATH=. /work/venv/bin/python benchmarks/hostile36_fuzz.py [-k SUBSTRING] [-v] [--timeout T]

The earlier sweeps (hostile_sweep, hostile12_sweep, cli28_sweep, cli34_fuzz) ran hostile values through the
options; this one goes further on the file and resource side. Every case is a real ``python -m jacobi_cli``
process (so FIFOs, devices, standard input, a full disk and file permissions are the real thing), in a scratch
folder of hostile files, with a timeout (20 s), and is classified:

- OK: the exit code the case expects (2 for a refusal, 0 for input jac reads, either where both are right),
  one ``jac: error`` line naming the file (what and where), the files kept;
- TRACEBACK: a Python traceback, or an exit other than 0/1/2/130/141 (70: an internal error);
- EXIT-NOT-2: a refusal expected and exit 0 or 1 given (or exit 2 where jac should have read the input);
- HANG: past the timeout; SLOW: a refusal that took over 10 s (a size must be refused by size, fast);
- FILE-LOST: a file that was there before changed or vanished (an output target after a failed run included);
- FILE-PARTIAL: a new file left behind by a failed run (a temporary file, a half-written output);
- MESSAGE-UNCLEAR: exit 2 without exactly one ``jac: error`` line, or without the file's name in it;
- MEMORY: a peak resident size over 3 GB (the machine's budget is half the available memory);
- OVER-BUDGET: a peak resident size over the ``--max-memory`` given plus 400 MB (the interpreter and its modules);
- CODE-RAN: the canary a hostile pickle or expression tries to create appeared.

Input routes: the expression (``@file`` and ``-`` for standard input), a binding ``x=@file``, ``--v @file``,
``--tangent x=@file``, ``--at x=@file``, a suite (``jac run SUITE``) and a suite's binding ``"@file"``.
Output routes: ``jac eval --out`` / ``--plot``, ``jac graph --out``, ``jac plot --out``, ``jac run --junit``.
The permission cases drop root's CAP_DAC_OVERRIDE (setpriv) so that a mode of 000 means what it says; the
disk-full cases write into a 64 KiB tmpfs when this process may mount one (otherwise they are skipped and
counted). Prints the counts per class and the failing command lines; exit 1 if any is not OK.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
OK_CODES = {0, 1, 2, 130, 141}
SLOW_SECONDS = 10.0
MEMORY_LIMIT_KB = 3 * 1024 * 1024
BASELINE_BYTES = 400 * 2**20  # the interpreter, NumPy and jac's modules, and the runner's pages the fork copied
NOCAPS = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
GOOD_SUITE = """[[case]]
name = "dot"
expr = "2 * torch.dot(x, y)"
bindings = { x = "arange(4.0)", y = [3.0, 1.0, 2.0, 5.0] }
value = 40
"""


class Canary:
    """Unpickling this creates the canary file: a pickle jac must never load."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@dataclass
class Case:
    name: str
    argv: list
    expect: str = "refuse"  # refuse (exit 2) | ok (exit 0) | any (0 or 2) | fail (exit 1 or 2)
    names: str | None = None  # a text the message must hold (the file's name)
    stdin: object = None  # bytes, "pipe-open" (a pipe nobody writes to), "devnull", or None (empty)
    nocaps: bool = False
    targets: tuple = ()  # files the command may legitimately change
    setup: object = None  # a function of the scratch folder run before the case
    env: dict = field(default_factory=dict)
    timeout: float | None = None  # seconds, where the work asked for is legitimately long (x:100000000)


# --- the scratch folder ---------------------------------------------------------------------------------------


def npy_bytes(header: str, data: bytes = b"", version=(1, 0)) -> bytes:
    text = header.encode("latin-1")
    pad = 64 - (10 + len(text) + 1) % 64
    body = text + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + len(body).to_bytes(2, "little") + body + data


def make_scratch(d: str, outside: str) -> None:
    import zipfile

    import numpy as np

    os.makedirs(d, exist_ok=True)

    def w(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)

    np.save(os.path.join(d, "good.npy"), np.arange(3.0))
    w("good.json", "[1.0, 2.0, 3.0]")
    w("good.csv", "1,2,3\n")
    w("good.txt", "1 2 3\n")
    w("expr.txt", "sin(x).sum()")
    w("suite.toml", GOOD_SUITE)
    w("existing.npy", b"old contents that must survive a failed run")
    w("existing.npz", b"old npz")
    w("existing.json", '{"keep": true}')
    w("existing.dot", "digraph keep {}")
    w("existing.png", b"old png")
    w("existing.xml", "<keep/>")
    # hostile contents, under every suffix jac reads
    garbage = os.urandom(4096)
    for suffix in (".npy", ".json", ".csv", ".txt", ".py", ".toml"):
        w("garbage" + suffix, garbage)
        w("latin1" + suffix, "[1, 2, 3] # caf\xe9\n".encode("latin-1") if suffix != ".npy" else b"\xe9" * 20)
        w("nul" + suffix, b"[1, 2,\x00 3]\n" if suffix != ".py" else b"sin(x)\x00.sum()")
        w("empty" + suffix, b"")
    for suffix, text in ((".json", "[1.0, 2.0, 3.0]"), (".csv", "1,2,3\n"), (".txt", "1 2 3\n"),
                         (".py", "sin(x).sum()\n"), (".toml", GOOD_SUITE)):
        w("utf16" + suffix, text.encode("utf-16"))  # with its BOM
        w("utf8bom" + suffix, b"\xef\xbb\xbf" + text.encode())
        w("crlf" + suffix, text.replace("\n", "\r\n").encode() if "\n" in text else (text + "\r\n").encode())
    w("crlf2.csv", "1,2,3\r\n4,5,6\r\n")
    w("crlf_prog.py", "a = sin(x)\r\nb = a * 2\r\nb.sum()\r\n")
    w("cr_prog.py", "a = sin(x)\rb = a * 2\rb.sum()\r")
    # .npy files that lie
    with open(os.path.join(d, "pickle.npy"), "wb") as f:  # object dtype: loading it would run the canary
        f.write(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + pickle.dumps([Canary()]))
    w("pickle.pkl.npy", pickle.dumps(Canary()))  # a bare pickle named .npy
    w("huge_shape.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"))
    w("overflow_shape.npy", npy_bytes(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"))
    w("neg_shape.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }"))
    w("truncated.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100,), }", b"\0" * 80))
    w("header_len.npy", b"\x93NUMPY\x02\x00" + (2**31).to_bytes(4, "little") + b"{")
    w("header_call.npy", npy_bytes("{'descr': __import__('os').system('touch PWNED'), 'fortran_order': False, "
                                   "'shape': (1,), }", b"\0" * 8))
    w("header_deep.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 3000 + ")" * 3000
                                   + ", }"))
    w("void.npy", npy_bytes("{'descr': '|V8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8))
    w("string.npy", npy_bytes("{'descr': '<U2', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8))
    w("dims40.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': " + str((1,) * 40) + ", }",
                              b"\0" * 8))
    np.save(os.path.join(d, "int64_big.npy"), np.array([2**62], dtype=np.int64))
    # archives: as an input (jac reads no .npz) and as a bomb
    with zipfile.ZipFile(os.path.join(d, "many.npz"), "w") as z:
        for i in range(2000):
            z.writestr(f"a{i}.npy", b"")
    with zipfile.ZipFile(os.path.join(d, "bomb.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (16777216,), }")
                   + bytes(8 * 2**24))
    os.makedirs(os.path.join(d, "data.zarr", "0"), exist_ok=True)
    w("data.zarr/.zarray", '{"shape": [3], "dtype": "<f8", "chunks": [3]}')
    # sizes: sparse files that claim 10 GB
    for suffix in (".npy", ".json", ".csv", ".txt", ".py", ".toml"):
        with open(os.path.join(d, "sparse" + suffix), "wb") as f:
            f.truncate(10 * 2**30)
    with open(os.path.join(d, "sparse_hdr.npy"), "wb") as f:  # a real header, 10 GB of (sparse) zeros
        f.write(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1342177280,), }"))
        f.truncate(f.tell() + 8 * 1342177280)
    w("long_expr.py", "x" + "+x" * 3_500_000)  # 10.5 MB
    w("mid_expr.py", "x" + "+x" * 600_000)  # 1.2 MB: over the 1,000,000 characters
    w("deep_expr.py", "(" * 100_000 + "x" + ")" * 100_000)
    w("forloop.py", "for i in range(10**9):\n    x = x + 1\nx.sum()\n")
    w("while.py", "while True:\n    x = x + 1\nx.sum()\n")
    w("recursion.py", "def f(n, x):\n    return f(n - 1, x) + x if n > 0 else x\nf(10**6, x).sum()\n")
    w("recursion_inf.py", "def f(x):\n    return f(x)\nf(x).sum()\n")
    w("bigpow.py", "x ** 10**9\n")
    w("ones.py", "np.ones((10**6, 10**6)).sum() * x.sum()\n")
    w("deep_json.json", "[" * 100_000 + "1" + "]" * 100_000)
    w("long_line.csv", ",".join(["1"] * 2_000_000) + "\n")
    # folders, links, FIFOs, permissions
    for suffix in (".npy", ".json", ".csv", ".txt", ".py", ".toml", ".npz", ".png", ".dot", ".xml"):
        os.makedirs(os.path.join(d, "adir" + suffix), exist_ok=True)
    os.makedirs(os.path.join(d, "ro"), exist_ok=True)
    w("ro/existing.npy", b"old contents in a read-only folder")
    os.chmod(os.path.join(d, "ro"), 0o555)
    w("file.txt", "a file, not a folder")
    for suffix in (".npy", ".json", ".csv", ".txt", ".py", ".toml", ".dot", ".png", ".xml", ".npz"):
        os.symlink("loop" + suffix, os.path.join(d, "loop" + suffix))
        os.symlink("missing" + suffix, os.path.join(d, "dangling" + suffix))
        os.mkfifo(os.path.join(d, "fifo" + suffix))
    for suffix, name in ((".npy", "good.npy"), (".json", "good.json"), (".py", "expr.txt"), (".toml", "suite.toml"),
                         (".csv", "good.csv"), (".txt", "good.txt")):
        w("noperm" + suffix, open(os.path.join(d, name), "rb").read())
        os.chmod(os.path.join(d, "noperm" + suffix), 0)
    with open(os.path.join(outside, "elsewhere.npy"), "wb") as f:
        f.write(b"old file elsewhere")
    os.symlink(os.path.join(outside, "elsewhere.npy"), os.path.join(d, "outlink.npy"))
    os.symlink(os.path.join(outside, "gone", "x.npy"), os.path.join(d, "outdangling.npy"))


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
            elif not stat.S_ISREG(st.st_mode):
                state[rel] = ("special",)
            elif st.st_size > 2**24:
                state[rel] = ("big", st.st_size, st.st_mtime_ns)
            else:
                with open(p, "rb") as f:
                    state[rel] = ("file", hashlib.md5(f.read()).hexdigest())
    return state


# --- the cases -------------------------------------------------------------------------------------------------

COMMANDS = {  # command → (expression, bindings, extra options) that succeed with x a 3-vector
    "eval": ("sin(x).sum()", ["x=[1,2,3]"], []),
    "vjp": ("sin(x)", ["x=[1,2,3]"], ["--v", "ones"]),
    "jvp": ("sin(x)", ["x=[1,2,3]"], ["--tangent", "x=ones"]),
    "hessian": ("sin(x).sum()", ["x=[1,2,3]"], []),
    "derivative": ("sin(x).sum()", ["x=[1,2,3]"], ["--order", "2"]),
    "shape": ("sin(x).sum()", ["x:3"], []),
    "diff": ("sin(x).sum()", ["x:3"], []),
    "check": ("sin(x).sum()", ["x=[1,2,3]"], []),
    "graph": ("sin(x).sum()", ["x=[1,2,3]"], []),
}
READ_FILES = {  # a hostile file (stem) → what a reader must do with it: (expect, names)
    "fifo": "refuse", "dangling": "refuse", "loop": "refuse", "noperm": "refuse", "garbage": "refuse",
    "latin1": "refuse", "nul": "refuse", "empty": "refuse", "sparse": "refuse", "utf16": "refuse",
    "utf8bom": "any", "crlf": "ok", "adir": "refuse",
}


def input_cases() -> list:
    cases = []
    # the expression from a file, every command
    for command, (expr, binds, extra) in COMMANDS.items():
        for stem, expect in READ_FILES.items():
            if expect == "ok" and command in ("diff",):
                expect = "any"
            cases.append(Case(f"{command} @{stem}.py", [command, f"@{stem}.py", *binds, *extra], expect,
                              names=f"{stem}.py", nocaps=stem == "noperm"))
        for dev in ("/dev/zero", "/dev/urandom", "/dev/stdin", "/dev/null", "/proc/self/mem", "/dev/fd/0"):
            cases.append(Case(f"{command} @{dev}", [command, f"@{dev}", *binds, *extra], names=dev,
                              stdin="pipe-open"))
    for stdin, expect in ((b"", "refuse"), ("pipe-open", "hang-ok"), (b"\xff\xfe\x00", "refuse"),
                          ("sin(x).sum()".encode("utf-16"), "refuse"), (b"sin(x)\x00.sum()", "refuse"),
                          (b"a = sin(x)\r\na.sum()\r\n", "ok"), (b"x" + b"+x" * 3_500_000, "refuse"),
                          (b"\xef\xbb\xbfsin(x).sum()", "any")):
        label = stdin if isinstance(stdin, str) else repr(stdin[:20])
        if expect != "hang-ok":
            cases.append(Case(f"eval - stdin={label}", ["eval", "-", "x=[1,2,3]"], expect, stdin=stdin))
    # value files: a binding, --v, --tangent, --at
    value_files = dict(READ_FILES)
    value_files.pop("crlf")
    for suffix in (".npy", ".json", ".csv", ".txt"):
        for stem, expect in value_files.items():
            if stem == "utf16" and suffix == ".npy" or stem == "utf8bom" and suffix == ".npy":
                continue
            f = f"{stem}{suffix}"
            cases.append(Case(f"eval x=@{f}", ["eval", "sin(x).sum()", f"x=@{f}"], expect, names=f,
                              nocaps=stem == "noperm"))
        for stem in ("utf16", "utf8bom", "crlf"):
            f = f"{stem}{suffix}"
            if os.path.splitext(f)[1] == suffix and stem != "crlf" or stem == "crlf" and suffix != ".npy":
                pass
        if suffix != ".npy":
            cases.append(Case(f"eval x=@crlf{suffix}", ["eval", "sin(x).sum()", f"x=@crlf{suffix}"], "ok"))
            cases.append(Case(f"eval x=@utf8bom{suffix}", ["eval", "sin(x).sum()", f"x=@utf8bom{suffix}"], "any",
                              names=f"utf8bom{suffix}"))
    cases.append(Case("eval x=@crlf2.csv", ["eval", "sin(x).sum()", "x=@crlf2.csv"], "ok"))
    for npy in ("pickle.npy", "pickle.pkl.npy", "huge_shape.npy", "overflow_shape.npy", "neg_shape.npy",
                "truncated.npy", "header_len.npy", "header_call.npy", "header_deep.npy", "void.npy", "string.npy",
                "dims40.npy", "int64_big.npy", "sparse_hdr.npy", "many.npz", "bomb.npz", "data.zarr",
                "deep_json.json", "long_line.csv"):
        expect = "ok" if npy in ("int64_big.npy",) else "refuse"
        for command in ("eval", "vjp", "jvp", "hessian", "derivative", "check", "graph", "shape", "diff"):
            if command in ("eval", "graph", "shape", "diff"):
                argv = [command, "x.sum()", f"x=@{npy}"]
            else:
                argv = [command, "x.sum()", f"x=@{npy}"] + {"derivative": ["--order", "2"],
                                                             "jvp": ["--tangent", "x=ones"]}.get(command, [])
            e = expect if command not in ("shape", "diff") or npy != "int64_big.npy" else "any"
            if npy == "long_line.csv":
                e = "any"  # 2,000,000 numbers: read, then the Jacobian may be refused by the budget
            cases.append(Case(f"{command} x=@{npy}", argv, e, names=None if npy == "long_line.csv" else npy))
    for stem in ("fifo", "dangling", "loop", "garbage", "sparse", "pickle", "huge_shape", "truncated", "adir"):
        f = f"{stem}.npy"
        cases.append(Case(f"vjp --v @{f}", ["vjp", "sin(x)", "x=[1,2,3]", "--v", f"@{f}"], names=f))
        cases.append(Case(f"graph --v @{f}", ["graph", "sin(x)", "x=[1,2,3]", "--backward", "--v", f"@{f}"],
                          names=f))
        cases.append(Case(f"jvp --tangent x=@{f}", ["jvp", "sin(x)", "x=[1,2,3]", "--tangent", f"x=@{f}"], names=f))
        cases.append(Case(f"diff --at x=@{f}", ["diff", "sin(x).sum()", "--at", f"x=@{f}"], names=f))
    for dev in ("/dev/zero", "/dev/urandom", "/dev/stdin"):
        cases.append(Case(f"eval x=@{dev}", ["eval", "x.sum()", f"x=@{dev}"], names=dev, stdin="pipe-open"))
        cases.append(Case(f"vjp --v @{dev}", ["vjp", "sin(x)", "x=[1,2,3]", "--v", f"@{dev}"], names=dev,
                          stdin="pipe-open"))
    # suites
    for stem, expect in READ_FILES.items():
        f = f"{stem}.toml"
        if stem == "crlf":
            expect = "ok"
        cases.append(Case(f"run {f}", ["run", f], expect, names=f, nocaps=stem == "noperm"))
    for dev in ("/dev/zero", "/dev/urandom", "/dev/stdin"):
        cases.append(Case(f"run {dev}", ["run", dev], names=dev, stdin="pipe-open"))
    for stem in ("fifo", "dangling", "loop", "garbage", "sparse", "pickle", "huge_shape", "truncated", "adir",
                 "noperm", "sparse_hdr"):
        f = f"{stem}.npy"
        suite = f"suite_{stem}.toml"
        text = f'[[case]]\nname = "c"\nexpr = "x.sum()"\nbindings = {{ x = "@{f}" }}\nvalue = 3\n'
        cases.append(Case(f"run (binding @{f})", ["run", suite], "refuse", names=f, nocaps=stem == "noperm",
                          setup=lambda d, s=suite, t=text: open(os.path.join(d, s), "w").write(t)))
    return cases


def time_memory_cases() -> list:
    cases = []
    for prog in ("long_expr.py", "mid_expr.py", "deep_expr.py", "forloop.py", "while.py", "recursion.py",
                 "recursion_inf.py", "bigpow.py", "ones.py"):
        expect = "any" if prog == "bigpow.py" else "refuse"
        for command in ("eval", "graph", "shape", "vjp", "diff"):
            binds = ["x:3"] if command in ("shape", "diff") else ["x=[1,2,3]"]
            extra = ["--v", "ones"] if command == "vjp" else []
            cases.append(Case(f"{command} @{prog}", [command, f"@{prog}", *binds, *extra], expect))
    for expr, binds, expect in (
        ("x ** 10**9", ["x=[1,2,3]"], "any"), ("x ** 10**100", ["x=[1.0,0.5]"], "any"),
        ("sum(x)", ["x:100000000"], "any"), ("x.sum()", ["x:100000000", "--max-memory", "100M"], "refuse"),
        ("sum(x)", ["x:20000000", "--max-memory", "300M"], "refuse"),
        ("sum(x)", ["x:100000000", "--max-memory", "1G"], "refuse"),
        ("x.sum()", ["x:4294967296x4294967296"], "refuse"), ("x.sum()", ["x:3037000500x3037000500"], "refuse"),
        ("x.sum()", ["x:" + "x".join(["65536"] * 5)], "refuse"),
        ("np.ones((10**6,10**6)).sum() + x", ["x=1"], "refuse"), ("torch.ones(10**6, 10**6).sum() + x", ["x=1"], "refuse"),
        ("np.zeros(10**19) + x", ["x=1"], "refuse"), ("np.empty((2**32, 2**32)).sum() + x", ["x=1"], "refuse"),
        ("np.ones((10**6,10**6)).sum() + x", ["x=1", "--max-memory", "1"], "refuse"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "1"], "refuse"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "1K"], "any"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "1E"], "any"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "99999999999999T"], "any"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", str(10**30)], "any"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "1e400"], "refuse"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "0.0000001%"], "any"),
        ("x.sum()", ["x=[1,2,3]", "--max-memory", "0"], "refuse"),
        ("x.sum()", ["x:100000000x3", "--batch", "x"], "refuse"),
        ("x.sum()", ["x:1000000x1000", "--batch", "x"], "refuse"),
        ("x.sum()", ["x:4294967296x1", "--batch", "x"], "refuse"),
        ("x.sum()", ["x:100000x3", "--batch", "x", "--max-memory", "1M"], "refuse"),
        ("x.sum()", ["x:3", "--batch", "x:" + str(10**30)], "refuse"),
        ("x[:, None] * x", ["x:100000"], "refuse"),
        ("x" + "+x" * 100, ["x:1000000", "--max-memory", "50M"], "refuse"),
        ("(" * 100_000 + "x" + ")" * 100_000, ["x=1"], "refuse"),
        ("sin(" * 100_000 + "x" + ")" * 100_000, ["x=1"], "refuse"),
        ("-" * 100_000 + "x", ["x=1"], "refuse"),
        ("x" + "**x" * 50_000, ["x=1"], "refuse"),
        ("[" * 100_000 + "x" + "]" * 100_000, ["x=1"], "refuse"),
        ("x" + "[0]" * 100_000, ["x=1"], "refuse"),
        ("kron(kron(kron(x, x), kron(x, x)), kron(kron(x, x), kron(x, x)))", ["x:100"], "refuse"),
        ("outer(outer(x, x).ravel(), outer(x, x).ravel())", ["x:1000"], "refuse"),
        ("x.repeat(10**12)", ["x=[1,2,3]"], "refuse"),
        ("np.tile(x, 10**12)", ["x=[1,2,3]"], "refuse"),
        ("x.expand(10**9, 10**9, 3).sum()", ["x=[1,2,3]"], "refuse"),
        ("np.broadcast_to(x, (10**9, 10**9, 3)).sum()", ["x=[1,2,3]"], "refuse"),
        ("x.reshape(" + ",".join(["1"] * 40) + ", 3)", ["x=[1,2,3]"], "refuse"),
        ("np.arange(0, 1e18, 1).sum() + x", ["x=1"], "refuse"),
        ("np.linspace(0, 1, 10**12).sum() + x", ["x=1"], "refuse"),
        ("np.eye(10**7).sum() + x", ["x=1"], "refuse"),
        ("torch.randn(10**5, 10**5).sum() + x", ["x=1"], "refuse"),
        ("np.full((10**5, 10**5), 2.0).sum() + x", ["x=1"], "refuse"),
        ("x @ x.T @ x @ x.T", ["x:40000x1"], "refuse"),
    ):
        for command in ("eval", "hessian", "graph", "shape"):
            if command == "shape" and expr in ("sum(x)", "x.sum()", "x[:, None] * x") and "--batch" not in binds:
                e = "any"  # shape computes nothing: any size is a shape
            elif command == "shape" or command == "graph" and expr in ("sum(x)", "x.sum()") and "--batch" not in binds:
                e = "any"  # the graph of a sum needs the values only: x fits a budget its Jacobian does not
            else:
                e = expect
            long = len(expr) > 100_000  # Linux refuses one argument over 128 KiB: through standard input
            cases.append(Case(f"{command} {expr[:40]} {' '.join(binds)[:40]}",
                              [command, "-" if long else expr, *binds], e, stdin=expr.encode() if long else None,
                              timeout=90 if "x:100000000" in binds else None))
    for argv in (["check", "x.sum()", "x:2000000"], ["check", "sin(x).sum()", "x:100000x3", "--batch", "x"],
                 ["check", "x.sum()", "x:200000", "--method", "richardson"],
                 ["check", "a = sin(x); b = x.sum(); a, b", "x:100000"], ["check", "x * 2", "x:500"]):
        cases.append(Case(" ".join(argv), argv, "ok" if argv[-1] == "x:500" else "refuse"))
    for expr in ("x" + "+x" * 3_500_000,):
        cases.append(Case("eval 10 MB via stdin", ["eval", "-", "x=1"], "refuse", stdin=expr.encode()))
    return cases


def output_cases() -> list:
    cases = []
    writers = [  # (label, argv prefix, option, suffix, success argv tail, failing argv tail)
        ("eval --out", ["eval", "sin(x).sum()"], "--out", ".npy", ["x=[1,2,3]"], ["x=[1,2"]),
        ("eval --out npz", ["eval", "sin(x).sum()"], "--out", ".npz", ["x=[1,2,3]"], ["x=@fifo.npy"]),
        ("eval --out json", ["eval", "sin(x).sum()"], "--out", ".json", ["x=[1,2,3]"], ["x=@garbage.npy"]),
        ("eval --plot", ["eval", "sin(x).sum()"], "--plot", ".png", ["x=[1,2,3]"], ["x=@sparse.npy"]),
        ("graph --out", ["graph", "sin(x).sum()"], "--out", ".dot", ["x=[1,2,3]"], ["y=@loop.npy"]),
        ("plot --out", ["plot", "sin(x)"], "--out", ".png", ["x=1"], ["x=@pickle.npy"]),
        ("run --junit", ["run", "suite.toml"], "--junit", ".xml", [], ["--shard", "0/0"]),
    ]
    for label, prefix, option, suffix, good, bad in writers:
        existing = f"existing{suffix}"
        # the old file survives a failed run, and is replaced by a successful one
        cases.append(Case(f"{label} onto existing, failing", [*prefix, *bad, option, existing], "refuse"))
        cases.append(Case(f"{label} onto existing, ok", [*prefix, *good, option, existing], "ok", targets=(existing,)))
        for target, names in ((f"adir{suffix}", f"adir{suffix}"), ("ro/new" + suffix, "ro/new" + suffix),
                              ("file.txt/out" + suffix, "file.txt/out" + suffix), ("/dev/full", "/dev/full"),
                              (f"fifo{suffix}", f"fifo{suffix}"), (f"loop{suffix}", f"loop{suffix}"),
                              ("/proc/version", "/proc/version"), ("missing/dir/out" + suffix, "missing/dir/out"),
                              ("/dev/null", "/dev/null"), ("/dev/stdout", "/dev/stdout"),
                              ("a" * 300 + suffix, "a" * 30)):
            cases.append(Case(f"{label} onto {target[:40]}", [*prefix, *good, option, target], names=names,
                              nocaps=target.startswith("ro/")))
        cases.append(Case(f"{label} onto ro/existing", [*prefix, *good, option, "ro/existing" + suffix],
                          names="ro/existing", nocaps=True))
        cases.append(Case(f"{label} onto a dangling link", [*prefix, *good, option, f"dangling{suffix}"], "any",
                          targets=(f"missing{suffix}",), names=f"dangling{suffix}"))
    cases.append(Case("eval --out onto a link elsewhere", ["eval", "sin(x).sum()", "x=[1,2,3]", "--out",
                                                          "outlink.npy"], "ok"))
    cases.append(Case("eval --out onto a link to a missing folder", ["eval", "sin(x).sum()", "x=[1,2,3]", "--out",
                                                                    "outdangling.npy"], names="outdangling.npy"))
    cases.append(Case("eval --out past --max-memory", ["eval", "x * 2", "x:3000", "--out", "existing.npy",
                                                      "--max-memory", "1M"], "any", targets=("existing.npy",)))
    cases.append(Case("eval --out, file size limit", ["eval", "x * 2", "x:300", "--out", "existing.npy"],
                      "refuse", names="existing.npy", env={"PRLIMIT_FSIZE": "4096"}))
    cases.append(Case("eval --out, streamed, file size limit", ["eval", "x * x.sum()", "x:3000", "--out", "existing.npy",
                                                                "--max-memory", "20M"],
                      "refuse", names="existing.npy", env={"PRLIMIT_FSIZE": "65536"}))
    return cases


def full_disk_cases(full: str) -> list:
    """Writes into a 64 KiB tmpfs: ENOSPC, never a partial file, the old file kept."""
    cases = []
    for label, argv in (
        ("eval --out .npy", ["eval", "x * 2", "x:300", "--out", f"{full}/j.npy"]),
        ("eval --out .npz", ["eval", "x * x.sum()", "x:300", "--out", f"{full}/j.npz"]),
        ("eval --out .json", ["eval", "x * 2", "x:300", "--out", f"{full}/j.json"]),
        ("eval --out streamed", ["eval", "x * x.sum()", "x:3000", "--out", f"{full}/j.npy", "--max-memory", "20M"]),
        ("eval --plot", ["eval", "x * 2", "x:60", "--plot", f"{full}/j.png"]),
        ("graph --out", ["graph", "x" + "+x" * 3000, "x=1", "--out", f"{full}/g.dot"]),
        ("run --junit", ["run", "big_suite.toml", "--junit", f"{full}/r.xml"]),
    ):
        cases.append(Case(f"disk full: {label}", argv, "refuse", names=full, setup=_fill_disk(full)))
    return cases


def _fill_disk(full: str):
    def setup(d: str) -> None:
        for name in os.listdir(full):
            os.unlink(os.path.join(full, name))
        with open(os.path.join(full, "j.npy"), "wb") as f:
            f.write(b"old")  # the old file that must survive
        with open(os.path.join(full, "filler"), "wb") as f:
            f.write(b"\0" * (40 * 1024))
        with open(os.path.join(d, "big_suite.toml"), "w") as f:
            for i in range(400):
                f.write(f'[[case]]\nname = "case number {i} with a long name {"x" * 100}"\nexpr = "x * 2"\n'
                        f'bindings = {{ x = 1 }}\nvalue = 2\n')
    return setup


# --- running ---------------------------------------------------------------------------------------------------


def run_case(case: Case, d: str, timeout: float, root: str = ROOT) -> tuple[int | None, str, str, float, int]:
    env = dict(os.environ, PYTHONPATH=root, JAC_DEBUG="1", COLUMNS="100")
    env.pop("PRLIMIT_FSIZE", None)
    prefix = []
    extra = dict(case.env)
    if "PRLIMIT_FSIZE" in extra:
        prefix = ["prlimit", f"--fsize={extra.pop('PRLIMIT_FSIZE')}"]
    env.update(extra)
    if case.nocaps:
        prefix = NOCAPS + prefix
    argv = prefix + [PY, "-m", "jacobi_cli", *case.argv]
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    writer = None
    if case.stdin == "pipe-open":
        r, writer = os.pipe()
        stdin = r
    elif case.stdin == "devnull":
        stdin = subprocess.DEVNULL
    else:
        stdin = subprocess.PIPE
    start = time.monotonic()
    p = subprocess.Popen(argv, cwd=d, stdin=stdin, stdout=out, stderr=err, env=env, start_new_session=True)
    if case.stdin == "pipe-open":
        os.close(r)
    elif stdin == subprocess.PIPE:
        with contextlib.suppress(BrokenPipeError):
            p.stdin.write(case.stdin or b"")
        with contextlib.suppress(BrokenPipeError):
            p.stdin.close()
    rc, peak = None, 0
    while time.monotonic() - start < timeout:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc, peak = os.waitstatus_to_exitcode(status), usage.ru_maxrss
            p.returncode = rc
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    if rc is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.wait()
    if writer is not None:
        os.close(writer)
    out.seek(0)
    err.seek(0)
    return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), elapsed, peak


def classify(case: Case, rc, stdout, stderr, elapsed, peak, before, after, d) -> list[str]:
    found = []
    if rc is None:
        return ["HANG"]
    if "Traceback (most recent call last)" in stderr or rc not in OK_CODES:
        found.append("TRACEBACK")
    if os.path.exists(os.path.join(d, "PWNED")):
        found.append("CODE-RAN")
        os.unlink(os.path.join(d, "PWNED"))
    if case.expect == "refuse" and rc != 2 or case.expect == "ok" and rc != 0 \
            or case.expect == "any" and rc not in (0, 2):
        found.append("EXIT-NOT-2" if case.expect != "ok" else "EXIT-NOT-0")
    if rc == 2:
        lines = [line for line in stderr.splitlines() if line.startswith("jac: error")]
        if len(lines) != 1 or not stderr.startswith("jac: error"):
            found.append("MESSAGE-UNCLEAR")
        elif case.names and case.names not in lines[0] and "(parse)" not in lines[0]:  # a parse error's caret
            found.append("MESSAGE-UNCLEAR")
        if elapsed > SLOW_SECONDS:
            found.append("SLOW")
    if peak > MEMORY_LIMIT_KB:
        found.append("MEMORY")
    budget = _given_budget(case.argv)
    if budget is not None and peak * 1024 > budget + BASELINE_BYTES:
        found.append("OVER-BUDGET")
    targets = {os.path.normpath(t) for t in case.targets} | {"PWNED"}
    for rel, state in before.items():
        if rel in targets:
            continue
        if after.get(rel) != state and not (case.expect == "ok" and rc == 0 and _is_written_target(case, rel)):
            found.append("FILE-LOST")
            break
    new = [rel for rel in after if rel not in before and rel not in targets]
    if rc != 0 and new:
        found.append("FILE-PARTIAL")
    return found or ["OK"]


def _deleted_names() -> set:
    """Files in the temporary folder named as a deleted file's link reads (the runner's stdout is one)."""
    return {name for name in os.listdir(tempfile.gettempdir()) if name.endswith(" (deleted)")}


def _given_budget(argv: list) -> int | None:
    """The bytes of a ``--max-memory NUMBER[K|M|G]`` in ``argv``, else None."""
    if "--max-memory" not in argv[:-1]:
        return None
    text = argv[argv.index("--max-memory") + 1]
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    try:
        return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)
    except (ValueError, OverflowError):
        return None


def _is_written_target(case: Case, rel: str) -> bool:
    return any(os.path.normpath(a) == rel for a in case.argv)


def _remove(d: str) -> None:
    if os.path.exists(os.path.join(d, "ro")):
        os.chmod(os.path.join(d, "ro"), 0o755)
    shutil.rmtree(d, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only the cases whose name holds one of these texts (a|b)")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("-v", action="store_true", help="print every case")
    parser.add_argument("--root", default=ROOT, help="the jac source tree to run (another worktree: a before count)")
    parser.add_argument("--part", default="input,time,output,disk", help="which parts: input,time,output,disk")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="hostile36_")
    full = tempfile.mkdtemp(prefix="hostile36_full_")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full],
                             capture_output=True).returncode == 0
    parts = args.part.split(",")
    cases = (input_cases() if "input" in parts else []) + (time_memory_cases() if "time" in parts else []) \
        + (output_cases() if "output" in parts else []) + (full_disk_cases(full) if mounted and "disk" in parts else [])
    cases = [c for c in cases if any(k in c.name for k in args.k.split("|"))]
    counts, bad = Counter(), []
    started = time.monotonic()
    outside = tempfile.mkdtemp(prefix="hostile36_outside_")
    pristine = None
    try:
        for case in cases:
            if pristine is None or snapshot(scratch) != pristine or snapshot(outside) != outside_state:
                _remove(scratch)
                _remove(outside)
                os.makedirs(outside)
                make_scratch(scratch, outside)
                pristine, outside_state = snapshot(scratch), snapshot(outside)
            if case.setup:
                case.setup(scratch)
            before = snapshot(scratch)
            full_before = snapshot(full) if mounted else {}
            strays = _deleted_names()
            rc, out, err, elapsed, peak = run_case(case, scratch, case.timeout or args.timeout, args.root)
            after = snapshot(scratch)
            found = classify(case, rc, out, err, elapsed, peak, before, after, scratch)
            made = _deleted_names() - strays
            if made:  # a write that followed /dev/stdout to a deleted file made '#INODE (deleted)' beside it
                found = [f for f in found if f != "OK"] + ["FILE-PARTIAL"]
                for name in made:
                    os.unlink(os.path.join(tempfile.gettempdir(), name))
            if mounted and case.name.startswith("disk full"):
                full_after = snapshot(full)
                if full_after.get("j.npy") != full_before.get("j.npy"):
                    found = [f for f in found if f != "OK"] + ["FILE-LOST"]
                if rc != 0 and set(full_after) - set(full_before):
                    found = [f for f in found if f != "OK"] + ["FILE-PARTIAL"]
            for f in found:
                counts[f] += 1
            line = f"{'/'.join(found):14} rc={rc} {elapsed:5.1f}s {peak // 1024:5d}MB  {case.name[:90]}"
            if found != ["OK"]:
                bad.append(line + "\n      " + (err.strip().splitlines() or ["(no stderr)"])[-1][:300])
            if args.v:
                print(line, flush=True)
    finally:
        if mounted:
            subprocess.run(["umount", full], capture_output=True)
        with contextlib.suppress(OSError):
            os.rmdir(full)
        _remove(scratch)
        _remove(outside)
    print(f"hostile36: {len(cases)} cases in {time.monotonic() - started:.0f} s"
          f"{'' if mounted else ' (disk-full cases skipped: no tmpfs)'}")
    for name, n in sorted(counts.items()):
        print(f"  {name:16} {n}")
    for line in bad:
        print(line)
    return 1 if set(counts) - {"OK"} else 0


if __name__ == "__main__":
    sys.exit(main())
