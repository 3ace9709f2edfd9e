"""hostile41: files on every route, hostile expressions, every numeric option (session 41).

    PYTHONPATH=. /work/venv/bin/python benchmarks/hostile41_fuzz.py [-k A|B] [-v] [--part K/N] [--timeout T] [--root DIR]

Each case is a real ``python -m jacobi_cli`` process under an address-space limit of 6 GB (``RLIMIT_AS``), in
its own session (killed as a group past ``--timeout``), in a scratch folder holding ``keep.txt``, which must
survive. Standard input is ``/dev/null`` unless the case says otherwise: closed, a terminal (a pseudo-terminal
nobody types into), ``/dev/zero``, or a text piped in. Four parts:

- **files**: each hostile file (a folder, a FIFO with no writer, ``/dev/zero``, ``/dev/stdin``, a link loop, a
  dangling link, an unreadable file, a ``.npy`` of object dtype or holding a pickle whose unpickling would make a
  file, a ``.npy`` whose header claims 10^12 elements, a truncated ``.npy``, an ``.npz`` zip bomb, a ``.json``
  nested 10^5 deep, a sparse 2 GB file, Latin-1, UTF-16 and UTF-8 byte-order marks, CRLF lines, a file rewritten
  while it is read) on every route that reads a file: ``NAME=@path``, ``@path`` expressions, ``--v @path``,
  ``--tangent x=@path``, ``--at x=@path``, ``jac run SUITE`` and a suite's ``"@path"`` binding;
- **outputs**: ``--out`` / ``--junit`` / ``--plot`` onto the input file itself, a folder, a read-only place
  (``/proc``, ``/sys``), ``/dev/full`` (the previous file must stay whole), a FIFO, a link to a device, paths with
  ``..`` and unicode, names past the file system's length;
- **expressions**: nesting 10^4 deep, 10^6 characters, towers of powers, ``1e999999``, ``10**10**10`` in a binding,
  shapes of 10^11 elements and of many axes, unicode lookalikes, NUL bytes, attribute, lambda, comprehension,
  f-string, walrus and starred escapes (each tries to make a file: it must not exist afterwards);
- **options**: every numeric option of every command given NaN, infinities, negatives, huge, empty and
  non-numbers; options repeated; options that conflict.

Classes: OK-2 (exit 2 with exactly one ``jac: error`` line, and with ``--json`` the error object; or an exit the
case allows); TRACEBACK (a traceback, or an exit other than 0 / 1 / 2); HANG (past the timeout); EXIT-other (an
exit 0 where a refusal is due or a refusal where an answer is due); WRONG-EXIT-1 (exit 1 outside a check);
MESSAGE (exit 2 without exactly one ``jac: error`` line or the JSON error object); LOST-FILE (``keep.txt`` or a file
the case protects changed, a temporary file left, the canary made); BIG-MEMORY (peak resident size past the case's
bound, 1.5 GB by default, or "not enough memory"). Prints the counts per class and each case that is not OK-2;
exit 1 if any is not.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import pty
import resource
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
ADDRESS_LIMIT = 6 * 2**30
CANARY = "PWNED"


@dataclass
class Case:
    name: str
    argv: list  # after `python -m jacobi_cli`, run in the scratch folder
    expect: tuple = (2,)  # the exits allowed
    files: dict = field(default_factory=dict)  # name -> text (str) or bytes written before the run
    setup: object = None  # a callable of the scratch folder, run after the files are written
    keep: tuple = ()  # files whose bytes must not change
    stdin: object = "null"  # "null", "closed", "tty", "zero", or bytes piped in
    rss: int = 1536  # MB of peak resident size past which the case is BIG-MEMORY
    during: object = None  # a callable of (folder, stop event), run in a thread while the process runs


# --- files ---------------------------------------------------------------------------------------------------------

F8 = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }"


def _npy(header: str, body: bytes = b"") -> bytes:
    text = header.encode("latin-1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + body


def _pickle_npy() -> bytes:
    import pickle

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {CANARY}",))

    return _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", pickle.dumps([Boom()], protocol=2))


def _object_npy() -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.array([1.0, "a", None], dtype=object), allow_pickle=True)
    return buf.getvalue()


def _zip_bomb(d: str, name: str) -> None:
    """An .npz whose one member inflates to 4 GB of zeros from a few MB (a valid .npy header first)."""
    body = _npy(F8 % "(536870912,)")
    with zipfile.ZipFile(os.path.join(d, name), "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("x.npy", "w", force_zip64=True) as f:
            f.write(body)
            chunk = b"\0" * 2**24
            for _ in range(256):
                f.write(chunk)


def _write(d: str, name: str, data) -> str:
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data)
    return path


def _fifo(d, name):
    os.mkfifo(os.path.join(d, name))


def _loop(d, name):
    os.symlink(name + ".2", os.path.join(d, name))
    os.symlink(name, os.path.join(d, name + ".2"))


def _sparse(d, name):
    with open(os.path.join(d, name), "wb") as f:
        f.truncate(2 * 2**30)


def _unreadable(d, name):
    os.chmod(_write(d, name, GOOD_TEXT[os.path.splitext(name)[1]]), 0)


def _rewriting(name, contents):
    """A thread body rewriting ``name`` in place (truncate, then write) between ``contents`` as fast as it can."""
    def run(d, stop):
        i = 0
        while not stop.is_set():
            with open(os.path.join(d, name), "wb") as f:
                f.write(contents[i % len(contents)])
            i += 1
    return run


GOOD_TEXT = {".json": "[1, 2]", ".csv": "1,2\n", ".txt": "1 2\n", ".py": "sum(x**2)", ".npy": "", ".npz": "",
             ".toml": ""}
DEEP = "[" * 100_000 + "1" + "]" * 100_000

# kind -> (suffixes it is tried with, make(d, name) or None for a path used as it is, expected exits)
FILE_KINDS = {
    "folder": ((".npy", ".json", ".py", ".toml"), lambda d, n: os.mkdir(os.path.join(d, n)), (2,)),
    "fifo": ((".npy", ".json", ".csv", ".py", ".toml"), _fifo, (2,)),
    "link to dev zero": ((".npy", ".json", ".txt", ".py", ".toml"),
                         lambda d, n: os.symlink("/dev/zero", os.path.join(d, n)), (2,)),
    "link loop": ((".npy", ".json", ".py", ".toml"), _loop, (2,)),
    "dangling link": ((".npy", ".json", ".py", ".toml"), lambda d, n: os.symlink("gone" + n, os.path.join(d, n)),
                      (2,)),
    "unreadable": ((".json", ".py"), _unreadable, (0, 1, 2)),  # root reads it anyway
    "object npy": ((".npy",), lambda d, n: _write(d, n, _object_npy()), (2,)),
    "pickle npy": ((".npy",), lambda d, n: _write(d, n, _pickle_npy()), (2,)),
    "huge shape npy": ((".npy",), lambda d, n: _write(d, n, _npy(F8 % "(1000000, 1000000)", b"\0" * 64)), (2,)),
    "shape 10**30 npy": ((".npy",), lambda d, n: _write(d, n, _npy(F8 % "(10**30,)", b"\0" * 64)), (2,)),
    "truncated npy": ((".npy",), lambda d, n: _write(d, n, _npy(F8 % "(3,)", b"\0" * 20)), (2,)),
    "truncated npy header": ((".npy",), lambda d, n: _write(d, n, b"\x93NUMPY\x01\x00\xff\xff{'descr'"), (2,)),
    "npz bomb": ((".npz",), _zip_bomb, (2,)),
    "json 10**5 deep": ((".json", ".toml"), lambda d, n: _write(d, n, DEEP if n.endswith(".json") else
                                                                "[[case]]\nname='a'\nexpr='x'\nbindings={x=" + DEEP
                                                                + "}\n"), (2,)),
    "sparse 2 GB": ((".npy", ".json", ".csv", ".py", ".toml"), _sparse, (2,)),
    "latin-1": ((".json", ".csv", ".py", ".toml"),
                lambda d, n: _write(d, n, {".json": b'[1, 2] \xe9', ".csv": b"1,2\xe9\n", ".py": b"sum(x) # \xe9\n",
                                           ".toml": b"# \xe9\n"}[os.path.splitext(n)[1]]), (2,)),
    "utf-16 bom": ((".json", ".csv", ".py", ".toml"),
                   lambda d, n: _write(d, n, ({".toml": '[[case]]\nname="a"\nexpr="x"\nbindings={x=1}\nvalue=1\n'}
                                              .get(os.path.splitext(n)[1]) or GOOD_TEXT[os.path.splitext(n)[1]])
                                       .encode("utf-16")), (2,)),
    "utf-8 bom": ((".json", ".csv", ".py", ".toml"),
                  lambda d, n: _write(d, n, b"\xef\xbb\xbf" + ({".toml": '[[case]]\nname="a"\nexpr="sum(x**2)"\n'
                                                                 'bindings={x=[1,2]}\nvalue=5\n'}
                                                                .get(os.path.splitext(n)[1])
                                                                or GOOD_TEXT[os.path.splitext(n)[1]]).encode()),
                  (0, 1, 2)),
    "crlf": ((".json", ".csv", ".py", ".toml"),
             lambda d, n: _write(d, n, {".json": "[1,\r\n 2]\r\n", ".csv": "1,2\r\n", ".py": "y = x**2\r\nsum(y)\r\n",
                                        ".toml": '[[case]]\r\nname="a"\r\nexpr="sum(x**2)"\r\nbindings={x=[1,2]}\r\n'
                                                 'value=5\r\n'}[os.path.splitext(n)[1]]), (0,)),
    "integer past 2**53": ((".json", ".csv", ".txt", ".toml"),
                           lambda d, n: _write(d, n, {".json": "[9007199254740993, 1]", ".csv": "9007199254740993,1\n",
                                                      ".txt": "9007199254740993 1\n",
                                                      ".toml": '[[case]]\nname="a"\nexpr="x"\n'
                                                               'bindings={x=[9007199254740993, 1]}\n'
                                                               'value=[9007199254740992, 1]\n'}[os.path.splitext(n)[1]]),
                           (2,)),  # read rounded (..992), silently, before session 41
    "nul bytes": ((".json", ".csv", ".py", ".toml"), lambda d, n: _write(d, n, b"[1,\0 2]\n"), (2,)),
}

# route -> (argv for a file named NAME, the suffixes the route reads)
ROUTES = {
    "binding": lambda p: ["eval", "x * 2", f"x=@{p}"],
    "expression": lambda p: ["eval", f"@{p}", "x=[1,2]"],
    "vjp v": lambda p: ["vjp", "x * 2", "x=[1,2]", "--v", f"@{p}"],
    "jvp tangent": lambda p: ["jvp", "x * 2", "x=[1,2]", "--tangent", f"x=@{p}"],
    "diff at": lambda p: ["diff", "x**2", "--wrt", "x", "--at", f"x=@{p}"],
    "suite": lambda p: ["run", p],
    "suite binding": lambda p: ["run", "s.toml"],
}


def _suite_binding(p: str) -> str:
    return f'[[case]]\nname = "a"\nexpr = "sum(x**2)"\nbindings = {{ x = "@{p}" }}\nvalue = 5\n'


def file_cases() -> list:
    out = []
    for kind, (suffixes, make, expect) in FILE_KINDS.items():
        for suffix in suffixes:
            name = "k" + suffix
            for route, argv in ROUTES.items():
                reads = {".py": ("expression",), ".toml": ("suite",), ".npz": ("binding",)}.get(
                    suffix, ("binding", "vjp v", "jvp tangent", "diff at", "suite binding"))
                if route not in reads:
                    continue
                files = {"s.toml": _suite_binding(name)} if route == "suite binding" else {}
                setup = (lambda m, n: (lambda d: m(d, n)))(make, name)
                allowed = expect
                if route in ("suite", "suite binding") and 1 not in allowed and 0 in allowed:
                    allowed = (0, 1)
                if kind == "crlf" and suffix == ".csv" and route in ("vjp v", "jvp tangent"):
                    allowed = (2,)  # a .csv is always 2-d (docs/bindings.md): a (1, 2) v for a (2,) output
                out.append(Case(f"files {kind} {suffix} {route}", argv(name), allowed, files, setup,
                                rss=3000 if kind == "npz bomb" else 1536))
    out += [
        Case("files dev zero direct binding", ["eval", "x * 2", "x=@/dev/zero"]),
        Case("files dev zero direct expression", ["eval", "@/dev/zero", "x=1"]),
        Case("files dev zero direct suite", ["run", "/dev/zero"]),
        Case("files dev stdin binding stdin closed", ["eval", "x * 2", "x=@/dev/stdin"], stdin="closed"),
        Case("files dev stdin expression stdin closed", ["eval", "@/dev/stdin", "x=1"], stdin="closed"),
        Case("files dash expression stdin closed", ["eval", "-", "x=1"], stdin="closed"),
        Case("files dash expression stdin null", ["eval", "-", "x=1"]),
        Case("files dash expression stdin zero", ["eval", "-", "x=1"], stdin="zero"),
        Case("files dash expression stdin tty", ["eval", "-", "x=1"], stdin="tty"),
        Case("files dash expression stdin tty json", ["eval", "-", "x=1", "--json"], stdin="tty"),
        Case("files dash shape stdin tty", ["shape", "-", "x:3"], stdin="tty"),
        Case("files dash suite stdin tty", ["run", "-"], stdin="tty"),
        Case("files dev stdin binding stdin tty", ["eval", "x * 2", "x=@/dev/stdin"], stdin="tty"),
        Case("files dev stdin expression stdin tty", ["eval", "@/dev/stdin", "x=1"], stdin="tty"),
        Case("files dev tty expression", ["eval", "@/dev/tty", "x=1"], stdin="tty"),
        Case("files dash expression piped", ["eval", "-", "x=[1,2]"], (0,), stdin=b"sum(x**2)\r\n"),
        Case("files dash expression piped utf-16", ["eval", "-", "x=[1,2]"], stdin="sum(x)".encode("utf-16")),
        Case("files dash expression piped latin-1", ["eval", "-", "x=[1,2]"], stdin=b"sum(x) # \xe9"),
        Case("files dash twice", ["eval", "-", "x=1", "--v", "-"], stdin=b"x"),
        Case("files binding rewritten while read", ["eval", "x * 2", "x=@w.json"], (0, 2), {"w.json": "[1, 2]"},
             during=_rewriting("w.json", [b"[1, 2]", b"[1, 2, 3]", b"", b"[1,", b"[" * 5000])),
        Case("files npy rewritten while read", ["eval", "x * 2", "x=@w.npy"], (0, 2),
             setup=lambda d: _write(d, "w.npy", _npy(F8 % "(2,)", b"\0" * 16)),
             during=_rewriting("w.npy", [_npy(F8 % "(2,)", b"\0" * 16), _npy(F8 % "(100000,)", b"\0" * 16), b""])),
        Case("files expression rewritten while read", ["eval", "@w.py", "x=[1,2]"], (0, 2), {"w.py": "sum(x)"},
             during=_rewriting("w.py", [b"sum(x)", b"", b"sum(", "sum(x) # \u00e9".encode()])),
        Case("files suite rewritten while read", ["run", "w.toml"], (0, 1, 2), {"w.toml": _suite_binding("x.json"),
                                                                               "x.json": "[1, 2]"},
             during=_rewriting("w.toml", [_suite_binding("x.json").encode(), b"", b"[[case]]\n"])),
    ]
    return out


# --- outputs -------------------------------------------------------------------------------------------------------

OLD = "old contents, must survive\n"
SUITE = '[[case]]\nname = "a"\nexpr = "sum(x**2)"\nbindings = { x = "@x.json" }\nvalue = 5\n'


def output_cases() -> list:
    files = {"s.toml": SUITE, "x.json": "[1, 2]", "old.npy": OLD, "old.xml": OLD, "old.json": OLD, "e.py": "x * 2"}
    keep = tuple(files)
    ev = ["eval", "@e.py", "x=@x.json"]
    rn = ["run", "s.toml"]
    targets = {
        "the input file": ("x.json", None, (2,)),
        "the expression file": ("e.py", None, (2,)),
        "the suite": ("s.toml", None, (2,)),
        "a folder": ("dir.npy", lambda d: os.mkdir(os.path.join(d, "dir.npy")), (2,)),
        "a folder by slash": ("dir/", lambda d: os.mkdir(os.path.join(d, "dir")), (2,)),
        "proc": ("/proc/self/o.npy", None, (2,)),
        "proc file": ("/proc/self/comm", None, (2,)),
        "sys": ("/sys/o.npy", None, (2,)),
        "dev full": ("/dev/full", None, (2,)),
        "dev null": ("/dev/null", None, (2,)),
        "dev stdout": ("/dev/stdout", None, (2,)),
        "dev stderr": ("/dev/stderr", None, (2,)),
        "a fifo": ("p.npy", lambda d: _fifo(d, "p.npy"), (2,)),
        "a link to dev zero": ("z.npy", lambda d: os.symlink("/dev/zero", os.path.join(d, "z.npy")), (2,)),
        "a dangling link": ("dl.npy", lambda d: os.symlink("nowhere/x.npy", os.path.join(d, "dl.npy")), (2,)),
        "a link loop": ("ll.npy", lambda d: _loop(d, "ll.npy"), (2,)),
        "a path with dot-dot": ("sub/../o.npy", lambda d: os.mkdir(os.path.join(d, "sub")), (0, 1)),
        "a path with dot-dot onto the input": ("sub/../x.json", lambda d: os.mkdir(os.path.join(d, "sub")), (2,)),
        "a unicode path": ("\u00e9t\u00e9/\u0440\u0435\u0437\u0443\u043b\u044c\u0442\u0430\u0442 \U0001f600.npy",
                           lambda d: os.mkdir(os.path.join(d, "\u00e9t\u00e9")), (0, 1)),
        "a bidi path": ("o\u202eypn.npy", None, (0, 1)),
        "a newline path": ("o\nx.npy", None, (0, 1)),
        "a name of 255 bytes": ("a" * 251 + ".npy", None, (0, 1, 2)),
        "a name of 300 bytes": ("a" * 296 + ".npy", None, (2,)),
        "a path of 5000 bytes": ("/".join(["d" * 200] * 24) + "/o.npy", None, (2,)),
        "through a file": ("x.json/o.npy", None, (2,)),
        "a missing folder": ("none/o.npy", None, (2,)),
        "empty": ("", None, (2,)),
        "a space": (" ", None, (2,)),
    }
    c = []
    for what, (path, setup, expect) in targets.items():
        suffix_path = path
        c.append(Case(f"outputs out onto {what}", [*ev, "--out", suffix_path], expect if expect != (0, 1) else (0,),
                      files, setup, keep=keep))
        junit = path[:-4] + ".xml" if path.endswith(".npy") and setup is None else path
        if what == "the expression file":  # jac run reads no e.py: a report replaces it, as pytest's --junitxml would
            c.append(Case(f"outputs out onto {what}", [*ev, "--out", path], expect, files, setup, keep=keep))
            continue
        c.append(Case(f"outputs junit onto {what}", [*rn, "--junit", junit], expect, files, setup, keep=keep))
    c += [
        Case("outputs out onto dev full keeps nothing", [*ev, "--out", "/dev/full", "--json"], (2,), files, keep=keep),
        Case("outputs out onto a link to dev full", [*ev, "--out", "f.npy"], (2,), files,
             lambda d: os.symlink("/dev/full", os.path.join(d, "f.npy")), keep=keep),
        Case("outputs out onto an old file refused", ["eval", "x * 'a'", "x=1", "--out", "old.npy"], (2,), files,
             keep=keep),
        Case("outputs out json onto an old file refused", ["eval", "log(x)", "x=-1", "--strict", "--out", "old.json"],
             (2,), files, keep=keep),
        Case("outputs junit onto the old file when the suite is bad", ["run", "bad.toml", "--junit", "old.xml"], (2,),
             dict(files, **{"bad.toml": "[[case]]\nname = 1\n"}), keep=keep),
        Case("outputs plot onto the input", [*ev, "--plot", "x.json"], (2,), files, keep=keep),
        Case("outputs plot onto dev full", [*ev, "--plot", "/dev/full"], (2,), files, keep=keep),
        Case("outputs plot onto a folder", [*ev, "--plot", "dir.png"], (2,), files,
             lambda d: os.mkdir(os.path.join(d, "dir.png")), keep=keep),
        Case("outputs graph out onto the expression", ["graph", "@e.py", "x=[1,2]", "--dot", "--out", "e.py"], (2,),
             files, keep=keep),
        Case("outputs graph out onto dev full", ["graph", "@e.py", "x=[1,2]", "--dot", "--out", "/dev/full"], (2,),
             files, keep=keep),
        Case("outputs out and plot the same file", [*ev, "--out", "o.npy", "--plot", "o.npy"], (2,), files,
             keep=keep),
        Case("outputs out onto the v file", ["vjp", "x * 2", "x=[1,2]", "--v", "@x.json", "--out", "x.json"], (2,),
             files, keep=keep),
    ]
    return c


# --- expressions ---------------------------------------------------------------------------------------------------

ESCAPES = [
    "().__class__", "().__class__.__bases__[0].__subclasses__()", "x.__class__", "x.__dict__", "x.__globals__",
    "sum.__globals__", "np.__builtins__", "__import__('os').system('touch PWNED')", "eval('1')",
    "exec('open(\"PWNED\",\"w\")')", "open('PWNED', 'w')", "(lambda: 1)()", "(lambda: __import__('os'))()",
    "[open('PWNED','w') for i in range(1)]", "{i: i for i in range(3)}", "sum(i for i in x)",
    "f'{__import__(\"os\").system(\"touch PWNED\")}'", "f'{x}'", "(y := x) * 2", "[*x]", "sum(*x)", "{**x}",
    "print(x)", "globals()", "vars()", "getattr(x, '__class__')", "x.__reduce__()", "type(x)('a')",
    "np.save('PWNED', x)", "np.lib.format.open_memmap('PWNED', mode='w+', shape=(1,))", "torch.save(x, 'PWNED')",
    "np.loadtxt('/etc/passwd')", "np.load('PWNED.npy', allow_pickle=True)", "import os; os.system('touch PWNED')",
    "from os import system; system('touch PWNED')", "def f(): return open('PWNED','w')\nf()",
    "class A: pass\nA()", "x.tofile('PWNED')", "np.ctypeslib", "__builtins__['open']('PWNED','w')",
    "breakpoint()", "input()", "exit(3)", "quit()", "raise SystemExit(5)", "assert False", "async def f(): pass",
    "await x", "yield x", "global x", "del x", "with open('PWNED','w') as f: f", "try:\n  x\nexcept: x",
    "while True: pass", "x.numpy().tofile('PWNED')", "np.set_printoptions(threshold=1)",
]

# Python jac reads itself (docs/programs.md): an answer is fine, as long as the canary is never made
INTERPRETED = {"(lambda: 1)()", "{i: i for i in range(3)}", "sum(i for i in x)", "(y := x) * 2", "[*x]", "sum(*x)",
               "f'{x}'", "def f(): return open('PWNED','w')\nf()", "class A: pass\nA()", "try:\n  x\nexcept: x"}

LOOKALIKES = {  # text, bindings
    "cyrillic a": ("sin(\u0430).sum()", ["a=[1,2]"]),
    "cyrillic x binding": ("sin(x).sum()", ["\u0445=[1,2]"]),
    "greek omicron": ("\u03bf * 2", ["o=1"]),
    "fullwidth x": ("sin(\uff58).sum()", ["x=[1,2]"]),
    "script e": ("\u212f ** x", ["x=1"]),
    "mathematical x": ("\U0001d431 * 2", ["x=1"]),
    "unicode minus": ("x \u2212 1", ["x=1"]),
    "unicode times": ("x \u00d7 2", ["x=1"]),
    "fullwidth digit": ("x * \uff12", ["x=1"]),
    "zero width space": ("x\u200b * 2", ["x=1"]),
    "bidi override": ("x * 2 \u202e", ["x=1"]),
    "nbsp": ("x\u00a0* 2", ["x=1"]),
    "combining": ("x\u0301 * 2", ["x=1"]),
    "smart quotes": ("einsum(\u2018i->\u2019, x)", ["x=[1,2]"]),
    "dash lookalike option": ("x * 2", ["x=1", "\u2014json"]),
}


def expression_cases() -> list:
    out = []
    for i, text in enumerate(ESCAPES):
        allowed = (0, 2) if text in INTERPRETED else (2,)
        out.append(Case(f"expressions escape {i} {text[:40]!r}", ["eval", text, "x=[1,2]"], allowed))
    out.append(Case("expressions escape in a binding", ["eval", "x", "x=__import__('os').system('touch PWNED')"]))
    out.append(Case("expressions escape in --v", ["vjp", "x", "x=[1,2]", "--v", "open('PWNED','w')"]))
    out.append(Case("expressions escape in a suite", ["run", "s.toml"], (2,),
                    {"s.toml": '[[case]]\nname="a"\nexpr="open(\'PWNED\',\'w\')"\nbindings={x=1}\nvalue=1\n'}))
    for what, (text, binds) in LOOKALIKES.items():
        allowed = (0, 2) if what in ("fullwidth x", "script e", "mathematical x", "fullwidth digit", "unicode minus",
                                     "zero width space", "nbsp", "smart quotes") else (2,)  # docs/expressions.md
        out.append(Case(f"expressions lookalike {what}", ["eval", text, *binds], allowed))
    big = {
        "nesting 10**4 parentheses": ("(" * 10_000 + "x" + ")" * 10_000, (0, 2)),
        "nesting 10**4 calls": ("sin(" * 10_000 + "x" + ")" * 10_000, (0, 2)),
        "nesting 10**4 lists": ("sum(" + "[" * 10_000 + "x" + "]" * 10_000 + ")", (0, 2)),
        "nesting 10**4 unary minus": ("-" * 10_000 + "x", (0, 2)),
        "nesting 10**4 subscripts": ("x" + "[0]" * 10_000, (2,)),
        "nesting 10**4 attribute": ("x" + ".T" * 10_000, (0, 2)),
        "nesting 10**5 parentheses": ("(" * 100_000 + "x" + ")" * 100_000, (0, 2)),
        "10**6 characters sum": ("+".join(["x"] * 333_333), (0, 2)),
        "10**6 characters one name": ("x" * 1_000_000, (2,)),
        "10**6 characters number": ("x * " + "9" * 1_000_000, (2,)),
        "10**6 characters float": ("x * 0." + "9" * 1_000_000, (0, 2)),
        "10**6 characters string": ("x * '" + "a" * 1_000_000 + "'", (2,)),
        "10**6 characters comment": ("x # " + "a" * 1_000_000, (0, 2)),
        "10**6 characters statements": ("y = x\n" * 166_666 + "y", (0, 2)),
        "tower 2**2**2**2**99": ("x + 2**2**2**2**99", (2,)),
        "tower 9**9**9": ("x + 9**9**9", (2,)),
        "tower float": ("x + 2.0**2**2**2**99", (0, 2)),
        "1e999999": ("x * 1e999999", (0, 2)),
        "int 10**4300": ("x * 10**4300", (2,)),
        "huge shift": ("x * (1 << 10**9)", (2,)),
        "huge repeat list": ("x * len([0] * 10**12)", (2,)),
        "huge string repeat": ("x * len('a' * 10**12)", (2,)),
        "huge range": ("x * len(range(10**18))", (0, 2)),
        "huge arange": ("x * arange(10**12).sum()", (2,)),
        "huge ones": ("x * ones((10**6, 10**6)).sum()", (2,)),
        "huge reshape": ("x.reshape(10**10, -1)", (2,)),
        "nul byte": ("x\0 * 2", (2,)),
        "nul byte in string": ("einsum('i\0->', x)", (2,)),
        "only whitespace": ("   \n\t ", (2,)),
        "backslash continuation": ("x \\\n * 2", (0,)),
        "unterminated string": ("x * 'abc", (2,)),
        "tab indentation error": ("y = x\n\ty", (2,)),
        "non-printing control": ("x \x1b[31m* 2", (2,)),
        "surrogate": ("x * 2 # \udcff", (0, 2)),
        "deep lambda": ("(lambda: " * 500 + "x" + ")()" * 500, (2,)),
        "complex literal": ("x * 1j", (2,)),
        "ellipsis": ("x[...]", (0, 2)),
        "bytes literal": ("x * b'a'", (2,)),
        "set": ("x * len({1, 2})", (0, 2)),
        "chained comparison 10**4": ("x" + " < x" * 10_000, (0, 2)),
        "boolean ops 10**4": ("x" + " and x" * 10_000, (0, 2)),
        "starred assignment": ("a, *b = x; a", (0, 2)),
        "walrus in comprehension": ("[(y := i) for i in x]", (0, 2)),
        "match statement": ("match x:\n  case _: x", (2,)),
    }
    for what, (text, allowed) in big.items():
        out.append(Case(f"expressions {what}", ["eval", "@e.py", "x=[1,2]"], allowed, {"e.py": text}))
    bindings = {
        "10**10**10 in a binding": ["x=10**10**10"],
        "1e999999 in a binding": ["x=1e999999"],
        "2**2**2**2**99 in a binding": ["x=2**2**2**2**99"],
        "huge list in a binding": ["x=[0]*10**12"],
        "huge arange in a binding": ["x=arange(10**13)"],
        "huge ones in a binding": ["x=ones((10**5, 10**5))"],
        "huge randn in a binding": ["x=randn(10**6, 10**6)"],
        "shape 99999999999": ["x:99999999999"],
        "shape 10**30": ["x:" + "1" + "0" * 30],
        "shape 0x0x... 40 axes": ["x:" + "x".join(["0"] * 40)],
        "shape 1x1x... 40 axes": ["x:" + "x".join(["1"] * 40)],
        "shape 2x... 32 axes": ["x:" + "x".join(["2"] * 32)],
        "shape 10**4 axes": ["x:" + "x".join(["1"] * 10_000)],  # an argument holds at most 128 KiB (Linux)
        "shape negative": ["x:-3"],
        "shape 3x-1": ["x:3x-1"],
        "shape empty": ["x:"],
        "shape float": ["x:2.5"],
        "shape nan": ["x:nan"],
        "shape unicode digit": ["x:\u0663"],
        "shape fullwidth": ["x:\uff13"],
        "binding nested 10**4 deep": ["x=" + "[" * 10_000 + "1" + "]" * 10_000],
        "binding 10**5 characters": ["x=[" + "1," * 50_000 + "1]"],
        "binding ragged": ["x=[[1,2],[3]]"],
        "binding NUL": ["x=[1,\x01 2]"],  # a control character (a NUL cannot be passed in an argument)
        "binding name empty": ["=3"],
        "binding name dunder": ["__class__=3"],
        "binding name keyword": ["lambda=3"],
        "binding twice": ["x=1", "x=2"],
        "binding 10**4 of them": [f"v{i}=1" for i in range(10_000)],
    }
    for what, binds in bindings.items():
        allowed = (0, 2) if what in ("binding 10**4 of them", "1e999999 in a binding", "shape 1x1x... 40 axes",
                                     "binding 10**5 characters",
                                     "binding name dunder", "shape 0x0x... 40 axes", "shape unicode digit",
                                     "shape fullwidth") else (2,)
        text = "x * 2" if what != "binding 10**4 of them" else "x * 2 + v0"
        binds = binds if what != "binding 10**4 of them" else ["x=1", *binds]
        out.append(Case(f"expressions {what}", ["eval", text, *binds], allowed))
        if what.startswith("shape"):
            sized = what in ("shape 99999999999", "shape 10**30", "shape 2x... 32 axes", "shape nan")  # jac shape: any
            # size, and a letter (nan) is a symbolic one
            out.append(Case(f"expressions {what} shape", ["shape", "x * 2", *binds], (0, 2) if sized else allowed))
    return out


# --- options -------------------------------------------------------------------------------------------------------

BAD_NUMBERS = ["nan", "inf", "-1", "1e400", "99999999999999999999999999", "abc", "", "\uff11", "\u22121", "1\n"]
# (a NUL cannot be passed in an argument; "\uff11", a fullwidth 1, and "1\n" are Python's int 1: an answer is fine)

NUMERIC_OPTIONS = {  # option -> (argv before it, the values that are legitimate answers)
    ("eval", "--seed"): (["eval", "x:2"], ("-1", "1_0", "99999999999999999999999999")),
    ("eval", "--max-memory"): (["eval", "x:2"], ("1e400", "99999999999999999999999999", "inf")),
    ("eval", "--timeout"): (["eval", "x:2"], ("inf", "1e400", "99999999999999999999999999", "1_0", "1e-400")),
    ("diff", "--timeout"): (["diff", "x**2", "--wrt", "x"], ("inf", "1e400", "99999999999999999999999999", "1_0",
                                                              "1e-400")),
    ("diff", "--order"): (["diff", "x**2", "--wrt", "x"], ("1_0",)),
    ("derivative", "--order"): (["derivative", "sum(x**2)", "x=[1,2]"], ("1_0",)),
    ("check", "--rtol"): (["check", "sum(x**2)", "x=[1,2]"], ("inf", "1e400", "99999999999999999999999999", "1_0",
                                                             "1e-400")),
    ("check", "--atol"): (["check", "sum(x**2)", "x=[1,2]"], ("inf", "1e400", "99999999999999999999999999", "1_0",
                                                             "1e-400")),
    ("graph", "--max-nodes"): (["graph", "x * 2", "x=[1,2]"], ("99999999999999999999999999", "1_0")),
    ("run", "--jobs"): (["run", "s.toml"], ("1_0", "99999999999999999999999999")),
    ("run", "--timeout"): (["run", "s.toml"], ("inf", "1e400", "99999999999999999999999999", "1_0", "1e-400")),
    ("run", "--shard"): (["run", "s.toml"], ()),
    ("plot", "--range"): (["plot", "x**2", "x=1", "--out", "o.png"], ()),
    ("vjp", "--v"): (["vjp", "x * 2", "x=[1,2]"], ()),
    ("jvp", "--tangent"): (["jvp", "x * 2", "x=[1,2]"], ()),
    ("eval", "--batch"): (["eval", "x * 2", "x=[[1,2]]"], ("-1",)),  # in_dims=-1, as vmap takes it
}
GOOD_SUITE = '[[case]]\nname = "a"\nexpr = "sum(x**2)"\nbindings = { x = [1, 2] }\nvalue = 5\n'


def option_cases() -> list:
    out = []
    for (command, option), (argv, fine) in NUMERIC_OPTIONS.items():
        argv = [a if a != "x:2" else "x * 2" for a in argv] + (["x:2"] if "x:2" in argv else [])
        for value in BAD_NUMBERS:
            shown = value
            if option == "--tangent":
                value = "x=" + value
            elif option == "--batch":
                value = "x:" + value
            elif option == "--shard":
                value = value + "/2"
            elif option == "--range":
                value = value + ":1"
            allowed = (0, 1, 2) if shown in fine or shown in ("\uff11", "1\n") else (2,)  # int("1\n") == 1
            if command == "check":
                allowed = tuple(sorted(set(allowed) | {1})) if shown in fine else allowed
            if command == "plot":
                allowed = (0, 2)
            out.append(Case(f"options {command} {option} {shown!r}", [*argv, f"{option}={value}"]
                            if value.startswith("-") or not value.strip() else [*argv, option, value], allowed,
                            {"s.toml": GOOD_SUITE}))
    common = ["eval", "x * 2", "x=[1,2]"]
    out += [
        Case("options seed twice", [*common, "--seed", "1", "--seed", "2"]),
        Case("options dtype twice", [*common, "--dtype", "float32", "--dtype", "float64"]),
        Case("options json twice", [*common, "--json", "--json"], (0, 2)),
        Case("options out twice", [*common, "--out", "a.npy", "--out", "b.npy"]),
        Case("options max-memory twice", [*common, "--max-memory", "1G", "--max-memory", "2G"]),
        Case("options timeout twice", [*common, "--timeout", "1", "--timeout", "2"]),
        Case("options wrt twice the same", [*common, "--wrt", "x", "--wrt", "x"], (0, 2)),
        Case("options wrt no input", [*common, "--wrt", "z"]),
        Case("options batch twice the same", ["eval", "x * 2", "x=[[1,2]]", "--batch", "x", "--batch", "x"]),
        Case("options batch conflicting axes", ["eval", "x * 2", "x=[[1,2]]", "--batch", "x:0", "--batch", "x:1"]),
        Case("options layout numerator with sparse", [*common, "--layout", "numerator", "--sparse", "--json"],
             (0, 2)),
        Case("options sparse without json", [*common, "--sparse"], (0, 2)),
        Case("options mode forward and explain json", [*common, "--mode", "forward", "--explain", "--json"], (0, 2)),
        Case("options strict with nan", ["eval", "log(x)", "x=[-1, 2]", "--strict"]),
        Case("options v ones and v value", ["vjp", "x * 2", "x=[1,2]", "--v", "ones", "--v", "[1,2]"]),
        Case("options tangent twice", ["jvp", "x * 2", "x=[1,2]", "--tangent", "x=[1,2]", "--tangent", "x=[1,2]"]),
        Case("options shard 3/2", ["run", "s.toml", "--shard", "3/2"], (2,), {"s.toml": GOOD_SUITE}),
        Case("options shard 0/0", ["run", "s.toml", "--shard", "0/0"], (2,), {"s.toml": GOOD_SUITE}),
        Case("options shard 1/10**30", ["run", "s.toml", "--shard", "1/" + "1" + "0" * 30], (0, 2),
             {"s.toml": GOOD_SUITE}),
        Case("options jobs 10**6", ["run", "s.toml", "--jobs", "1000000"], (0, 2), {"s.toml": GOOD_SUITE}),
        Case("options order 10**6", ["derivative", "sum(x**2)", "x=[1,2]", "--order", "1000000"]),
        Case("options order 100 of a vector", ["derivative", "sum(x**2)", "x=[1,2]", "--order", "100"]),
        Case("options diff order 10**4", ["diff", "x**2", "--wrt", "x", "--order", "10000"], (0, 2)),
        Case("options max-memory 1 byte", [*common, "--max-memory", "1"], (2,)),
        Case("options max-memory 0", [*common, "--max-memory", "0"], (2,)),
        Case("options max-memory 200%", [*common, "--max-memory", "200%"], (0, 2)),
        Case("options max-memory 1e3G", [*common, "--max-memory", "1e3G"], (0, 2)),
        Case("options max-memory 1P", [*common, "--max-memory", "1P"], (0, 2)),
        Case("options timeout 1e-9", [*common, "--timeout", "1e-9"], (0, 2)),
        Case("options dtype float16", [*common, "--dtype", "float16"]),
        Case("options dtype empty", [*common, "--dtype="]),
        Case("options unknown", [*common, "--frobnicate"]),
        Case("options unknown value", [*common, "--frobnicate=3"]),
        Case("options json with a value", [*common, "--json=yes"]),
        Case("options double dash", [*common, "--", "--json"]),
        Case("options option of another command", [*common, "--order", "2"]),
        Case("options graph v on eval", [*common, "--v", "ones"]),
        Case("options help with junk", [*common, "--help", "--seed", "nan"], (0,)),
        Case("options 10**4 wrt", [*common] + ["--wrt", "x"] * 10_000, (0, 2)),
        Case("options 10**4 unknown", [*common] + ["--zz"] * 10_000),
        Case("options no command", ["--json"]),
        Case("options unknown command", ["evaluate", "x"]),
        Case("options command lookalike", ["\u0435val", "x", "x=1"]),
    ]
    return out


def all_cases() -> list:
    return file_cases() + output_cases() + expression_cases() + option_cases()


# --- running -------------------------------------------------------------------------------------------------------


def _limits(close_stdin: bool):
    def run():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
        os.setsid()
        if close_stdin:
            os.close(0)
    return run


def run_case(case: Case, d: str, timeout: float, root: str):
    env = dict(os.environ, PYTHONPATH=root, COLUMNS="100")
    env.pop("JAC_DEBUG", None)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    stop = threading.Event()
    thread = threading.Thread(target=case.during, args=(d, stop), daemon=True) if case.during else None
    if thread:
        thread.start()
    opened = []
    if case.stdin == "tty":
        master, slave = pty.openpty()
        opened, stdin = [master, slave], slave
    elif case.stdin == "zero":
        stdin = open("/dev/zero", "rb")
        opened = [stdin]
    elif isinstance(case.stdin, bytes):
        stdin = tempfile.TemporaryFile()
        stdin.write(case.stdin)
        stdin.seek(0)
        opened = [stdin]
    else:
        stdin = subprocess.DEVNULL
    start = time.monotonic()
    p = subprocess.Popen([PY, "-m", "jacobi_cli", *case.argv], cwd=d, stdin=stdin, stdout=out, stderr=err, env=env,
                         preexec_fn=_limits(case.stdin == "closed"))
    rc, rss = None, 0
    while time.monotonic() - start < timeout:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc, rss = os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024
            p.returncode = rc
            break
        time.sleep(0.02)
    if rc is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.wait()
    for f in opened:
        os.close(f) if isinstance(f, int) else f.close()
    stop.set()
    if thread:
        thread.join()
    out.seek(0)
    err.seek(0)
    return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), rss


def _snapshot(d: str, names) -> dict:
    found = {}
    for name in names:
        with contextlib.suppress(OSError):
            with open(os.path.join(d, name), "rb") as f:
                found[name] = f.read()
    return found


def _message_ok(case: Case, rc: int, stdout: str, stderr: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.startswith("jac: error")]
    if case.argv[0] == "run" and rc == 2 and not lines:  # a case's error: the report says which and why
        return "error" in stdout
    if rc != 2:
        return True
    if len(lines) != 1 or not stderr.startswith("jac: error"):
        return False
    options = case.argv[:case.argv.index("--")] if "--" in case.argv else case.argv  # after --, an argument
    if "--json" in options:
        with contextlib.suppress(ValueError):
            return "error" in json.loads(stdout)
        return False
    return True


def classify(case, rc, stdout, stderr, rss, d, before, listing) -> list:
    if rc is None:
        return ["HANG"]
    found = []
    if "Traceback (most recent call last)" in stderr or rc not in (0, 1, 2):
        found.append("TRACEBACK")
    if rss > case.rss or "not enough memory" in stderr or "MemoryError" in stderr:
        found.append("BIG-MEMORY")
    if rc == 1 and case.argv[0] not in ("check", "run") and 1 not in case.expect:
        found.append("WRONG-EXIT-1")
    elif rc in (0, 1, 2) and rc not in case.expect:
        found.append("EXIT-other")
    if not _message_ok(case, rc, stdout, stderr):
        found.append("MESSAGE")
    with open(os.path.join(d, "keep.txt")) as f:
        if f.read() != "keep me\n":
            found.append("LOST-FILE")
    if _snapshot(d, case.keep) != before or any(n.startswith(CANARY) for n in os.listdir(d)):
        found.append("LOST-FILE")
    stray = set(os.listdir(d)) - listing
    if any(name.endswith(".tmp") or name.startswith(".jac") for name in stray):
        found.append("LOST-FILE")
    return found or ["OK-2"]


def _clear(d: str) -> None:
    for name in os.listdir(d):
        p = os.path.join(d, name)
        with contextlib.suppress(OSError):
            os.chmod(p, stat.S_IRWXU) if not os.path.islink(p) else None
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only the cases whose name holds one of these texts (a|b)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("-v", action="store_true", help="print every case")
    fuzzkit.add_part_flags(parser, verbose=False)
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (each in its own folder)")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument("--root", default=ROOT, help="the jac source tree to run (another worktree: a before count)")
    args = parser.parse_args()
    cases = fuzzkit.part_of([c for c in all_cases() if any(k in c.name for k in args.k.split("|"))], args.part, args.sample)
    if args.list:
        print("\n".join(c.name for c in cases), f"\n{len(cases)} cases")
        return 0
    counts, bad = Counter(), []
    started = time.monotonic()
    lock = threading.Lock()
    todo = list(enumerate(cases))

    def worker():
        d = tempfile.mkdtemp(prefix="hostile41_")
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    _, case = todo.pop(0)
                _clear(d)
                with open(os.path.join(d, "keep.txt"), "w") as f:
                    f.write("keep me\n")
                for name, text in case.files.items():
                    _write(d, name, text)
                if case.setup:
                    case.setup(d)
                before, listing = _snapshot(d, case.keep), set(os.listdir(d))
                try:
                    rc, stdout, stderr, rss = run_case(case, d, args.timeout, args.root)
                    found = classify(case, rc, stdout, stderr, rss, d, before, listing)
                except Exception as error:  # the fuzz's own failure (E2BIG, a setup): counted, not fatal
                    rc, stdout, stderr, rss, found = None, "", repr(error), 0, ["FUZZ-ERROR"]
                line = f"{'/'.join(found):10} rc={rc} rss={rss:5}MB  {case.name}"
                with lock:
                    counts.update(found)
                    if found != ["OK-2"]:
                        bad.append(line + "\n    " + (stderr.strip().splitlines() or [""])[-1][:300])
                    if args.v:
                        print(line, flush=True)
        finally:
            _clear(d)
            os.rmdir(d)

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for line in bad:
        print(line)
    print(f"{len(cases)} cases in {time.monotonic() - started:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
