"""hostile38: big texts, constants too large for the budget, hostile files (session 38).

    PYTHONPATH=. /work/venv/bin/python benchmarks/hostile38_fuzz.py [-k SUBSTRING] [-v] [--timeout T] [--root DIR]

Three parts, each case a real ``python -m jacobi_cli`` process under an address-space limit of 4 GB
(``RLIMIT_AS``) and a timeout, in a scratch folder holding a file that must survive (``keep.txt``):

- **texts**: generated programs of 1,000 to 100,000 statements, call arguments, list items, and/or operands,
  nestings of lists held in lists and of calls of the text's functions (the parser's passes over big texts);
- **constants**: constants no budget holds (``np.ones((10**5, 10**5))``, ``'a' * 10**10``, ``10**10**10``,
  einsum / kron / tile / outer bombs, distributions of 10,000 × 10,000 constants), which must be refused by
  size, before they are made;
- **files**: hostile binding files (pickled and object ``.npy`` / ``.npz``, truncated headers, huge declared
  shapes over small bodies, links to ``/dev/zero`` and ``/dev/urandom``, FIFOs, folders, NaN / Inf / huge numbers
  in CSV and JSON) and ``--out`` onto hostile targets (the input file itself, a link to it, a missing folder, a
  folder, a read-only file, a file size limit mid-write: the old file must survive).

Classes: OK (exit 2 with one ``jac: error`` line and the JSON error object, or exit 0 where the case allows an
answer, equal to ``want`` where given); TRACEBACK (a traceback, or an exit other than 0 / 1 / 2); HANG (past the
timeout); SLOW (more than ``--cpu`` seconds of CPU, 4 by default: CPU, not wall time, as the machine is shared);
OOM (exit 2 saying "not enough memory", or a peak resident size over 4 GB); EXIT (an answer where a refusal is
due, or the reverse); WRONG; MESSAGE; FILE (``keep.txt`` or a file the case protects changed, a stray file left).
Prints the counts per class and each case that is not OK; exit 1 if any is not OK.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
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
ADDRESS_LIMIT = 4 * 2**30
X = "x=[0.5,-1.5,2.0]"
XSUM = 1.0  # x.sum() of X


@dataclass
class Case:
    name: str
    text: str  # the expression, written to case.py and given as @case.py
    binds: list = field(default_factory=lambda: [X])
    expect: str = "refuse"  # refuse (exit 2) | ok (exit 0) | any (0 or 2)
    want: object = None  # the output's value for an exit 0
    options: list = field(default_factory=list)
    setup: object = None  # a callable of the scratch folder, run before the case
    keep: tuple = ()  # files of the scratch folder whose bytes must not change
    fsize: int | None = None  # RLIMIT_FSIZE of the process (bytes)


# --- texts -------------------------------------------------------------------------------------------------------

def text_cases() -> list:
    c = []
    for n in (1000, 5000, 9000):
        c.append(Case(f"{n} statements of calls", "import numpy as np\ny = x\n" + "y = np.sin(y) + np.cos(y[0])\n" * n
                      + "y.sum()", expect="ok"))
        c.append(Case(f"{n} list writes", "R = [x, x]\n" + "R[0] = R[1] * 2\n" * n + "R[0].sum()", expect="ok",
                      want=2 * XSUM))
    for n in (10_001, 30_000, 60_000):
        c.append(Case(f"{n} statements of calls", "import numpy as np\ny = x\n" + "y = np.sin(y) + np.cos(y[0])\n" * n
                      + "y.sum()"))
        c.append(Case(f"{n} list writes", "R = [x, x]\n" + "R[0] = R[1] * 2\n" * n + "R[0].sum()"))
        c.append(Case(f"{n} ifs", "y = x\n" + "if True:\n    y = y + 1\n" * n + "y.sum()"))
    c.append(Case("30,000 statements inside one def", "def f(a):\n" + "    a = a * 1\n" * 30_000 + "    return a\n"
                  "f(x).sum()"))
    c.append(Case("30,000 partials written", "import functools\ndef f(a):\n    return a * 2\np = f\n"
                  + "p = functools.partial(p)\n" * 30_000 + "p(x).sum()"))
    for n in (10_000, 100_000):
        c.append(Case(f"max of {n} arguments", "max(" + ", ".join(str(i) for i in range(n)) + ") * x.sum()",
                      expect="ok", want=(n - 1) * XSUM))
        c.append(Case(f"max of {n} arguments on line 2", "y = x\nmax(" + ", ".join(str(i) for i in range(n))
                      + ") * y.sum()", expect="ok", want=(n - 1) * XSUM))
        c.append(Case(f"sum of a list of {n} items", "s = sum([" + ", ".join(["x[0]"] * n) + "])\ns", expect="ok",
                      want=0.5 * n))
        c.append(Case(f"and of {n} operands", "y = x if " + " and ".join(["True"] * n) + " else -x\ny.sum()",
                      expect="ok", want=XSUM))
        c.append(Case(f"or of {n} operands, non-ASCII line", "y = x if " + " or ".join(["False"] * n)
                      + " else -x  # é\ny.sum()", expect="ok", want=-XSUM))
    for n in (1000, 9000):
        c.append(Case(f"lists held in lists {n} deep", "a0 = [x]\n" + "".join(f"a{i} = [a{i - 1}]\n" for i in range(1, n))
                      + "a0[0] = x * 2\na0[0].sum()", expect="ok", want=2 * XSUM))
    for n in (99, 101, 3000):
        c.append(Case(f"def chain {n} deep", "def f0(a):\n    return a\n" + "".join(
            f"def f{i}(a):\n    return f{i - 1}(a)\n" for i in range(1, n)) + f"f{n - 1}(x).sum()",
            expect="ok" if n < 100 else "refuse", want=XSUM if n < 100 else None))
    c.append(Case("lambda chain 3000 deep", "f = lambda a: a\n" + "f = lambda a, f=f: f(a) * 1\n" * 3000 + "f(x).sum()"))
    c.append(Case("elif chain 10,000", "y = x\nif x.shape[0] > 100:\n    y = x\n" + "".join(
        f"elif x.shape[0] > {i + 100}:\n    y = x * {i}\n" for i in range(10_000)) + "y.sum()"))
    c.append(Case("x[:] 30,000 times", "x" + "[:]" * 30_000 + ".sum()", expect="ok", want=XSUM))
    c.append(Case("class of 4,000 methods", "class A:\n" + "".join(f"    def m{i}(self, a):\n        return a * {i}\n"
                                                               for i in range(4000)) + "A().m3(x).sum()",
                  expect="ok", want=3 * XSUM))
    return c


# --- constants ---------------------------------------------------------------------------------------------------

D = "import torch\nfrom torch.distributions import Wishart, MultivariateNormal, LowRankMultivariateNormal\n"


def constant_cases() -> list:
    texts = [
        "np.ones((10**5, 10**5)).sum() * x", "torch.randn(10**5, 10**5).sum() * x", "np.arange(1e12).sum() * x",
        "len('a' * 10**10) * x", "10**10**10 * x", "x * len([0] * 10**10)", "x * len((0,) * 10**10)",
        "np.zeros(2**63).sum() * x", "np.empty((10**9, 10**9)).sum() * x", "np.eye(10**6).sum() * x",
        "np.linspace(0, 1, 10**12).sum() * x", "np.repeat(x, 10**12).sum()", "np.tile(x, 10**10).sum()",
        "np.tile(x, (10**5, 10**5)).sum()", "np.full((10**5, 10**5), 2.0).sum() * x",
        "np.ones(10**5)[:, None] * np.ones(10**5) * x.sum()",
        "np.einsum('i,j,k->ijk', np.ones(10**4), np.ones(10**4), np.ones(10**4)).sum() * x",
        "np.einsum('i,j->ij', np.repeat(x, 10**5), np.repeat(x, 10**5)).sum()",
        "np.kron(np.kron(np.ones(10**4), np.ones(10**4)), np.ones(10**4)).sum() * x",
        "np.kron(np.ones((3000, 3000)), np.ones((3000, 3000))).sum() * x",
        "np.outer(np.outer(np.ones(10**4), np.ones(10**4)), np.ones(10**4)).sum() * x",
        "np.outer(np.repeat(x, 10**5), np.repeat(x, 10**5)).sum()",
        "np.ones(10**12).reshape(10**6, 10**6).sum() * x", "x.reshape(10**6, 10**6)",
        "np.broadcast_to(x, (10**6, 10**6, 3)).sum()", "torch.zeros(10**5, 10**5).sum() * x",
        "torch.ones(10**5).expand(10**5, 10**5).sum() * x", "np.random.randn(10**6, 10**6).sum() * x",
        "np.random.default_rng(0).normal(size=(10**6, 10**6)).sum() * x",
        "x * np.array(" + "[" * 300 + "1" + "]" * 300 + ").sum()",
        "x * sum(" + "[" * 150 + "1" + "]" * 150 + ")", "np.meshgrid(np.ones(10**5), np.ones(10**5))[0].sum() * x",
        "np.tri(10**6).sum() * x", "np.vander(np.ones(10**5)).sum() * x", "np.diag(np.ones(10**6)).sum() * x",
        "np.identity(10**6).sum() * x", "np.zeros_like(np.empty((10**5, 10**5))).sum() * x",
        "x * np.prod(np.ones((10**5, 10**5)))", "np.stack([np.ones(10**8)] * 100).sum() * x",
        "np.concatenate([np.ones(10**8)] * 100).sum() * x", "x ** np.ones((10**5, 10**5))",
        "str(10**100000) and x", "int('9' * 10**6) * x", "bytes(10**10) and x", "sum(range(10**18)) * x",
        "x * float('1' * 5000)", "torch.cartesian_prod(torch.ones(10**4), torch.ones(10**4), torch.ones(10**4)).sum() * x",
        "torch.block_diag(*[torch.ones(3000, 3000)] * 20).sum() * x",
    ]
    c = [Case(f"constant {t[:70]}", "import numpy as np\nimport torch\n" + t) for t in texts]
    c += [
        Case("Wishart of a 10**4 x 10**4 zero", D + "Wishart(torch.tensor(1e4 + 1), covariance_matrix="
             "torch.zeros(10**4, 10**4)).log_prob(torch.eye(3)).sum() * x"),
        Case("Wishart of a 10**4 x 10**4 eye", D + "Wishart(torch.tensor(1e4 + 1), covariance_matrix="
             "torch.eye(10**4)).log_prob(torch.eye(10**4)).sum() * x"),
        Case("Wishart 5000 scale_tril", D + "Wishart(torch.tensor(5001.0), scale_tril=torch.eye(5000))"
             ".log_prob(torch.eye(5000)).sum() * x"),
        Case("MultivariateNormal of 10**4", D + "MultivariateNormal(torch.zeros(10**4), torch.eye(10**4))"
             ".log_prob(torch.zeros(10**4)) * x.sum()"),
        Case("MultivariateNormal of 3 * 10**4", D + "MultivariateNormal(torch.zeros(3 * 10**4), "
             "torch.eye(3 * 10**4)).log_prob(torch.zeros(3 * 10**4)) * x.sum()"),
        Case("LowRank of 10**6 x 10**3", D + "LowRankMultivariateNormal(torch.zeros(10**6), torch.ones(10**6, 10**3), "
             "torch.ones(10**6)).log_prob(torch.zeros(10**6)) * x.sum()"),
        Case("cholesky of a 10**4 eye", "import torch\ntorch.linalg.cholesky(torch.eye(10**4)).sum() * x"),
        Case("inv of a 8000 eye", "import numpy as np\nnp.linalg.inv(np.eye(8000)).sum() * x"),
        Case("binding ones((10**5, 10**5))", "x.sum()", ["x=ones((10**5, 10**5))"]),
        Case("binding arange(1e12)", "x.sum()", ["x=arange(1e12)"]),
        Case("binding nested list 300 deep", "x.sum()", ["x=" + "[" * 300 + "1" + "]" * 300]),
        Case("binding 10**10**10", "x * 2", ["x=10**10**10"]),
        Case("binding 'a' * 10**10", "x * 2", ["x='a' * 10**10"]),
        Case("binding x:100000x100000", "x.sum()", ["x:100000x100000"]),
        Case("binding randn(10**6, 10**6)", "x.sum()", ["x=randn(10**6, 10**6)"]),
        Case("--v of ones((10**5, 10**5))", "x * 2", [X], options=["--v", "ones((10**5, 10**5))"]),
    ]
    return c


# --- files -------------------------------------------------------------------------------------------------------

def _npy(header: str, body: bytes = b"", version: bytes = b"\x01\x00") -> bytes:
    head = header.encode("latin1")
    pad = 64 - (10 + len(head) + 1) % 64
    head = head + b" " * pad + b"\n"
    return b"\x93NUMPY" + version + len(head).to_bytes(2, "little") + head + body


def _write(d, name, data, mode=None):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    if mode is not None:
        os.chmod(path, mode)


def _pickle_npy(d):
    import pickle
    payload = pickle.dumps(_Pwn())
    _write(d, "p.npy", _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload))


class _Pwn:  # unpickling it would run os.system: the canary
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _npz(d, name, members):
    import zipfile
    with zipfile.ZipFile(os.path.join(d, name), "w") as z:
        for member, data in members.items():
            z.writestr(member, data)


def _object_npz(d):
    import pickle
    _npz(d, "o.npz", {"x.npy": _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                                    pickle.dumps(_Pwn()))})


def _good_npy(d, name="g.npy"):
    import numpy as np
    np.save(os.path.join(d, name), np.array([1.0, 2.0, 3.0]))


def file_cases() -> list:
    f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }"
    c = [
        Case("npy pickled object", "x.sum()", ["x=@p.npy"], setup=_pickle_npy),
        Case("npz of a pickled object", "x.sum()", ["x=@o.npz"], setup=_object_npz),
        Case("npy truncated header", "x.sum()", ["x=@t.npy"], setup=lambda d: _write(d, "t.npy", b"\x93NUMPY\x01\x00\xff")),
        Case("npy header length past the file", "x.sum()", ["x=@t.npy"],
             setup=lambda d: _write(d, "t.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'")),
        Case("npy huge declared shape, small body", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy(f8 % "(1000000, 1000000)", b"\0" * 64))),
        Case("npy declared shape 10**30", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy(f8 % "(10**30,)", b"\0" * 64))),
        Case("npy shape of 100 axes", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy(f8 % ("(1,) * 100" if False else "(" + "1, " * 100 + ")"),
                                                      b"\0" * 8))),
        Case("npy shape shorter body", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy(f8 % "(1000,)", b"\0" * 80))),
        Case("npy header an expression", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy("__import__('os').system('touch PWNED')", b""))),
        Case("npy header a dict of a call", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                                     "eval('(3,)'), }", b"\0" * 24))),
        Case("npy descr of a structured dtype", "x.sum()", ["x=@h.npy"],
             setup=lambda d: _write(d, "h.npy", _npy("{'descr': [('a', '<f8'), ('b', '|O')], 'fortran_order': "
                                                     "False, 'shape': (1,), }", b"\0" * 16))),
        Case("npz huge member declared", "x.sum()", ["x=@z.npz"],
             setup=lambda d: _npz(d, "z.npz", {"x.npy": _npy(f8 % "(10**6, 10**6)", b"\0" * 64)})),
        Case("npz empty", "x.sum()", ["x=@z.npz"], setup=lambda d: _npz(d, "z.npz", {})),
        Case("npz not a zip", "x.sum()", ["x=@z.npz"], setup=lambda d: _write(d, "z.npz", b"PK\x03\x04garbage")),
        Case("link to /dev/zero .npy", "x.sum()", ["x=@z.npy"], setup=lambda d: os.symlink("/dev/zero", f"{d}/z.npy")),
        Case("link to /dev/urandom .csv", "x.sum()", ["x=@u.csv"],
             setup=lambda d: os.symlink("/dev/urandom", f"{d}/u.csv")),
        Case("link to /dev/zero .json", "x.sum()", ["x=@z.json"], setup=lambda d: os.symlink("/dev/zero", f"{d}/z.json")),
        Case("FIFO .npy", "x.sum()", ["x=@f.npy"], setup=lambda d: os.mkfifo(f"{d}/f.npy")),
        Case("FIFO .csv", "x.sum()", ["x=@f.csv"], setup=lambda d: os.mkfifo(f"{d}/f.csv")),
        Case("FIFO expression", "x.sum()", [X], setup=lambda d: os.mkfifo(f"{d}/e.py"), options=["--", "@e.py"]),
        Case("folder .npy", "x.sum()", ["x=@dir.npy"], setup=lambda d: os.mkdir(f"{d}/dir.npy")),
        Case("symlink loop", "x.sum()", ["x=@loop.npy"], setup=lambda d: os.symlink("loop.npy", f"{d}/loop.npy")),
        Case("unreadable .npy", "x.sum()", ["x=@u.npy"],
             setup=lambda d: (_good_npy(d, "u.npy"), os.chmod(f"{d}/u.npy", 0)), expect="any"),
        Case("csv NaN Inf", "x.sum()", ["x=@n.csv"], setup=lambda d: _write(d, "n.csv", "1,nan,inf,-inf\n"),
             expect="any"),
        Case("csv 1e400", "x.sum()", ["x=@n.csv"], setup=lambda d: _write(d, "n.csv", "1,1e400\n"), expect="any"),
        Case("csv 400-digit integer", "x.sum()", ["x=@n.csv"], setup=lambda d: _write(d, "n.csv", "1," + "9" * 400 + "\n"),
             expect="any"),
        Case("csv 10**6 digits", "x.sum()", ["x=@n.csv"], setup=lambda d: _write(d, "n.csv", "9" * 10**6 + "\n"),
             expect="any"),  # inf, as np.loadtxt reads it
        Case("json NaN Infinity", "x.sum()", ["x=@n.json"], setup=lambda d: _write(d, "n.json", "[1, NaN, Infinity]"),
             expect="any"),
        Case("json 1e999", "x.sum()", ["x=@n.json"], setup=lambda d: _write(d, "n.json", "[1, 1e999]"), expect="any"),
        Case("json 10**6 digits", "x.sum()", ["x=@n.json"], setup=lambda d: _write(d, "n.json", "[" + "9" * 10**6 + "]")),
        Case("json 10**6 deep", "x.sum()", ["x=@n.json"], setup=lambda d: _write(d, "n.json", "[" * 10**6 + "]" * 10**6)),
        Case("json 10**6 wide", "x.sum()", ["x=@n.json"], setup=lambda d: _write(d, "n.json", "[" + "1," * 10**6 + "1]"),
             expect="ok", want=10**6 + 1),
        Case("json string bomb", "x.sum()", ["x=@n.json"], setup=lambda d: _write(d, "n.json", '"' + "a" * 10**7 + '"')),
        Case("json 3 GB sparse file", "x.sum()", ["x=@n.json"],
             setup=lambda d: (open(f"{d}/n.json", "wb").truncate(3 * 2**30))),
        Case("npy 3 GB sparse body", "x.sum()", ["x=@n.npy"],
             setup=lambda d: (_write(d, "n.npy", _npy(f8 % "(400000000,)")),
                              open(f"{d}/n.npy", "r+b").truncate(3 * 2**30 + 128))),
    ]
    # --out onto hostile targets
    c += [
        Case("--out onto the input file", "x * 2", ["x=@g.npy"], options=["--out", "g.npy"], setup=_good_npy,
             keep=("g.npy",)),
        Case("--out onto a link to the input", "x * 2", ["x=@g.npy"], options=["--out", "l.npy"],
             setup=lambda d: (_good_npy(d), os.symlink("g.npy", f"{d}/l.npy")), keep=("g.npy",)),
        Case("--out onto a hard link to the input", "x * 2", ["x=@g.npy"], options=["--out", "h.npy"],
             setup=lambda d: (_good_npy(d), os.link(f"{d}/g.npy", f"{d}/h.npy")), keep=("g.npy",)),
        Case("--out into a missing folder", "x * 2", [X], options=["--out", "missing/j.npy"]),
        Case("--out onto a folder", "x * 2", [X], options=["--out", "dir.npy"], setup=lambda d: os.mkdir(f"{d}/dir.npy")),
        Case("--out onto a FIFO", "x * 2", [X], options=["--out", "f.npy"], setup=lambda d: os.mkfifo(f"{d}/f.npy")),
        Case("--out onto /dev/full", "x * 2", [X], options=["--out", "/dev/full"]),
        Case("--out onto a read-only file", "x * 2", [X], options=["--out", "ro.npy"], expect="any",
             setup=lambda d: (_good_npy(d, "ro.npy"), os.chmod(f"{d}/ro.npy", 0o444))),
        Case("--out past the file size limit keeps the old file", "x[:, None] * x", ["x:300"],
             options=["--out", "old.npy"], setup=lambda d: _good_npy(d, "old.npy"), keep=("old.npy",), fsize=2**20),
        Case("--out of a wrong suffix", "x * 2", [X], options=["--out", "j.pickle"]),
        Case("--out json past the file size limit", "x[:, None] * x", ["x:2000"], options=["--out", "old.json"],
             setup=lambda d: _write(d, "old.json", "{}"), keep=("old.json",), fsize=2**20),
    ]
    return c


def all_cases() -> list:
    return text_cases() + constant_cases() + file_cases()


# --- running -----------------------------------------------------------------------------------------------------


def _limits(fsize):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        os.setsid()
    return apply


def run_case(case: Case, d: str, timeout: float, root: str):
    env = dict(os.environ, PYTHONPATH=root, JAC_DEBUG="1", COLUMNS="100")
    with open(os.path.join(d, "case.py"), "w", encoding="utf-8") as f:
        f.write(case.text)
    expression = [] if "--" in case.options else ["@case.py"]
    argv = [PY, "-m", "jacobi_cli", "eval", *expression, *case.binds, "--json", *case.options]
    if "--" in case.options:  # the expression after the binds: "-- @e.py"
        argv = [PY, "-m", "jacobi_cli", "eval", "--json", *case.options, *case.binds]
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    start = time.monotonic()
    p = subprocess.Popen(argv, cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                         preexec_fn=_limits(case.fsize))
    rc, peak, cpu = None, 0, 0.0
    while time.monotonic() - start < timeout:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc, peak, cpu = os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime
            p.returncode = rc
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    if rc is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.wait()
    out.seek(0)
    err.seek(0)
    return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), elapsed, cpu, peak


def _value(stdout: str):
    try:
        return (json.loads(stdout).get("output") or {}).get("value")
    except ValueError:
        return None


def _close(got, want) -> bool:
    import numpy as np
    try:
        return bool(np.allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-9))
    except (TypeError, ValueError):
        return False


def _snapshot(d: str, names) -> dict:
    found = {}
    for name in names:
        with contextlib.suppress(OSError):
            with open(os.path.join(d, name), "rb") as f:
                found[name] = f.read()
    return found


def classify(case: Case, rc, stdout, stderr, cpu, peak, d, before, listing, cpu_limit) -> list:
    if rc is None:
        return ["HANG"]
    found = []
    if "Traceback (most recent call last)" in stderr or rc not in (0, 1, 2):
        found.append("TRACEBACK")
    if os.path.exists(os.path.join(d, "PWNED")):
        found.append("CODE-RAN")
    if peak > ADDRESS_LIMIT // 1024 or rc == 2 and "not enough memory" in stderr:
        found.append("OOM")
    if cpu > cpu_limit:
        found.append("SLOW")
    if case.expect == "refuse" and rc in (0, 1) or case.expect == "ok" and rc == 2:
        found.append("EXIT")
    if rc == 2:
        lines = [line for line in stderr.splitlines() if line.startswith("jac: error")]
        if len(lines) != 1 or not stderr.startswith("jac: error") or '"error"' not in stdout:
            found.append("MESSAGE")
    if rc == 0 and case.want is not None and not _close(_value(stdout), case.want):
        found.append("WRONG")
    with open(os.path.join(d, "keep.txt")) as f:
        if f.read() != "keep me\n":
            found.append("FILE")
    if _snapshot(d, case.keep) != before:
        found.append("FILE")
    stray = set(os.listdir(d)) - listing - {"PWNED"}
    if rc != 0 and stray or any(name.endswith(".tmp") for name in stray):
        found.append("FILE")
    return found or ["OK"]


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
    parser.add_argument("--cpu", type=float, default=4.0, help="CPU seconds past which a case is SLOW")
    parser.add_argument("-v", action="store_true", help="print every case")
    parser.add_argument("--root", default=ROOT, help="the jac source tree to run (another worktree: a before count)")
    args = parser.parse_args()
    cases = [c for c in all_cases() if any(k in c.name for k in args.k.split("|"))]
    counts, bad = Counter(), []
    started = time.monotonic()
    d = tempfile.mkdtemp(prefix="hostile38_")
    try:
        for case in cases:
            _clear(d)
            with open(os.path.join(d, "keep.txt"), "w") as f:
                f.write("keep me\n")
            if case.setup is not None:
                case.setup(d)
            before, listing = _snapshot(d, case.keep), set(os.listdir(d)) | {"case.py"}
            rc, out, err, elapsed, cpu, peak = run_case(case, d, args.timeout, args.root)
            found = classify(case, rc, out, err, cpu, peak, d, before, listing, args.cpu)
            counts.update(found)
            line = f"{'/'.join(found):14} rc={rc} {elapsed:5.1f}s cpu {cpu:5.2f}s {peak // 1024:5d}MB  {case.name[:80]}"
            if found != ["OK"]:
                bad.append(line + "\n      " + (err.strip().splitlines() or ["(no stderr)"])[-1][:300])
            if args.v:
                print(line, flush=True)
    finally:
        _clear(d)
        shutil.rmtree(d, ignore_errors=True)
    print(f"hostile38: {len(cases)} cases in {time.monotonic() - started:.0f} s")
    for name, n in sorted(counts.items()):
        print(f"  {name:16} {n}")
    for line in bad:
        print(line)
    return 1 if set(counts) - {"OK"} else 0


if __name__ == "__main__":
    sys.exit(main())
