"""The hostile sweep of branch hhostile12: what benchmarks/hostile_sweep.py does not cover.

    PYTHONPATH=. python benchmarks/hostile12_sweep.py [-k SUBSTRING] [--list] [--root CHECKOUT]

Output options against the files a command reads, --strict with --out/--plot, a full disk (a
64 KiB tmpfs in a private mount namespace, when ``unshare -m`` may mount one; skipped
otherwise), standard streams and locales (closed stdin, ``LC_ALL=C PYTHONUTF8=0``, COLUMNS,
TERM, NO_COLOR), CSV quoting, JSON keys given twice, .npy dtypes and headers not in the first
sweep, file names with new lines and escapes, expressions a newcomer pastes (indented, a BOM,
Unicode look-alikes), odd option values in every command, and suites with bad tolerances.

Each case runs ``python -m jacobi_cli ARGS`` in a scratch folder of such files, with a timeout,
and is classified: ``hang`` (past the timeout), ``traceback``, ``internal`` (exit 70), ``code``
(an exit code the case does not allow), ``message`` (exit 2 without exactly one ``jac: error``
line, or with --json no error object on stdout), ``files`` (a file changed, appeared or vanished
that the case may not write: every input is hashed before and after). Prints one line per
failure, the count per class and the time; exit 1 if any case failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part, -v)
import hostile_sweep  # noqa: E402  (its hostile files are made here too)


@dataclass
class Case:
    args: list
    codes: tuple = (0, 2)
    writes: tuple = ()  # files (relative to the folder) the case may create or change
    env: dict = field(default_factory=dict)
    stdin: str = "devnull"  # "devnull", "closed", or text to feed
    tiny: bool = False  # runs with a 64 KiB tmpfs mounted at tiny/ (a full disk)
    name: str = ""
    timeout: float = 120.0

    def label(self) -> str:
        return self.name or " ".join(map(repr, self.args))[:120]


def _npy(path: str, header: dict, data: bytes = b"", version: bytes = b"\x01\x00") -> None:
    text = repr(header).encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    with open(path, "wb") as fp:
        fp.write(b"\x93NUMPY" + version + len(text).to_bytes(2, "little") + text + data)


NPY = {  # name -> (header, data) of .npy files the first sweep lacks
    "neg-shape.npy": ({"descr": "<f8", "fortran_order": False, "shape": (-1,)}, b""),
    "float-shape.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2.5,)}, b""),
    "bool-shape.npy": ({"descr": "<f8", "fortran_order": False, "shape": (True,)}, b"\0" * 8),
    "str-shape.npy": ({"descr": "<f8", "fortran_order": False, "shape": "3"}, b""),
    "extra-key.npy": ({"descr": "<f8", "fortran_order": False, "shape": (1,), "evil": 1}, b"\0" * 8),
    "missing-key.npy": ({"descr": "<f8", "shape": (1,)}, b"\0" * 8),
    "fortran-str.npy": ({"descr": "<f8", "fortran_order": "yes", "shape": (1,)}, b"\0" * 8),
    "descr-list.npy": ({"descr": [("a", "<f8")], "fortran_order": False, "shape": (1,)}, b"\0" * 8),
    "descr-bad.npy": ({"descr": "<f9", "fortran_order": False, "shape": (1,)}, b"\0" * 8),
    "descr-void-huge.npy": ({"descr": "<V99999999999", "fortran_order": False, "shape": (1,)}, b"\0" * 8),
    "descr-str-huge.npy": ({"descr": "<U99999999999", "fortran_order": False, "shape": (1,)}, b"\0" * 8),
    "extra-data.npy": ({"descr": "<f8", "fortran_order": False, "shape": (1,)}, b"\0" * 16),
    "nested-shape.npy": ({"descr": "<f8", "fortran_order": False, "shape": ((1,),)}, b"\0" * 8),
    "dims-overflow.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2**32, 2**32, 0)}, b""),
}

TEXT = {  # name -> text of files read as bindings or expressions
    "decimal-comma.csv": '"1,5","2,5"\n"3,5","4,5"\n', "unclosed-quote.csv": '"1,2\n3,4\n',
    "mid-quote.csv": 'a,b\n"1"2,3\n', "quoted-newline.csv": '"1\n2",3\n', "quoted-ok.csv": '"a","b"\n"0.1", 2\n',
    "semicolon.csv": "1;2\n3;4\n", "tabs.csv": "1\t2\n3\t4\n", "trailing-comma.csv": "1,2,\n3,4,\n",
    "crlf.csv": "1,2\r\n3,4\r\n", "cr-only.csv": "1,2\r3,4\r", "hex.txt": "0x10 1_000\n", "comment-only.txt": "# x\n",
    "dup-key.json": '{"a": [1], "a": [2]}', "dup-value.json": '{"value": 1, "value": 2}',
    "dup-nested.json": '{"a": {"b": 1, "b": 2}}', "nan-words.json": "[NaN, Infinity, -Infinity]",
    "trailing.json": "[1, 2] garbage", "lone-surrogate.json": '["\\udcff"]', "empty-object.json": "{}",
    "long-exponent.json": "[1e" + "9" * 10000 + "]", "bom.json": "\ufeff[1, 2]", "bom.txt": "\ufeff1 2\n",
    "data.json": "[1, 2]", "e.json": "x*2", "expr-bom.txt": "\ufeffx*2\r\n", "expr-indented.txt": "  a = x*2\n  a\n",
    "expr-environ.txt": "x*2\n",
    "suite.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "@data.json"}\nvalue = [2, 4]\n',
    "nan-value.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = nan\n',
    "neg-rtol.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\nrtol = -1\n',
    "nan-rtol.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\nrtol = nan\n',
    "inf-atol.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\natol = inf\n',
    "str-rtol.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\nrtol = "1e-3"\n',
    "bool-rtol.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\nrtol = true\n',
    "check-neg.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\ncheck = {rtol = -1}\n',
    "date-value.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2000-01-01\n',
    "bad-regex.toml": '[[case]]\nname = "a"\nexpr = "x+"\nbindings = {x = "1"}\nerror = {kind = "parse", match = "["}\n',
    "empty-shape.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = ":"}\nvalue = 2\n',
    "control-name.toml": '[[case]]\nname = "a\\u0000\\u001b[2J"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 3\n',
    "deep-value.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = ' + "[" * 40 + "2"
                       + "]" * 40 + "\n",
    "bom.toml": '\ufeff[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\n',
}


def make_files(folder: str) -> None:
    import numpy as np

    hostile_sweep.make_files(folder)
    for name, (header, data) in NPY.items():
        _npy(os.path.join(folder, name), header, data)
    np.save(os.path.join(folder, "x.npy"), np.arange(3.0))
    np.save(os.path.join(folder, "big-endian.npy"), np.arange(3, dtype=">f8"))
    np.save(os.path.join(folder, "float16.npy"), np.arange(3, dtype=np.float16))
    np.save(os.path.join(folder, "uint64-max.npy"), np.array([2**64 - 1], dtype=np.uint64))
    np.save(os.path.join(folder, "datetime.npy"), np.array(["2020-01-01"], dtype="datetime64[D]"))
    np.save(os.path.join(folder, "structured.npy"), np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]))
    np.save(os.path.join(folder, "subarray.npy"), np.zeros(2, dtype=("f8", (3,))))
    for name, body in TEXT.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as fp:
            fp.write(body)
    with open(os.path.join(folder, "utf16.json"), "wb") as fp:
        fp.write("[1, 2]".encode("utf-16"))
    os.symlink("x.npy", os.path.join(folder, "x-link.npy"))
    os.link(os.path.join(folder, "x.npy"), os.path.join(folder, "x-hard.npy"))
    os.symlink("/proc/self/mem", os.path.join(folder, "proc-mem.npy"))
    os.symlink("/dev/urandom", os.path.join(folder, "urandom.txt"))
    os.symlink("/etc", os.path.join(folder, "etc.json"))
    os.mkdir(os.path.join(folder, "tiny"))
    np.save(os.path.join(folder, "tiny-old.npy"), np.arange(3.0))  # copied into tiny/ by a full-disk case


def _e(*args, codes=(0, 2), **kw) -> Case:
    return Case(list(args), codes=codes, **kw)


def cases() -> list:
    out = []
    add = out.append
    # output options naming a file the command reads (must be refused; the file kept)
    for args in (["eval", "x*2", "x=@x.npy", "--out", "x.npy"], ["eval", "x*2", "x=@x.npy", "--out", "x-link.npy"],
                 ["eval", "x*2", "x=@x.npy", "--out", "x-hard.npy"], ["eval", "x*2", "x=@x.npy", "--out", "./no/../x.npy"],
                 ["eval", "@e.json", "x=1", "--out", "e.json"], ["eval", "x*2", "x=@x.npy", "--plot", "x.npy"],
                 ["graph", "@e.json", "x=1", "--out", "e.json"], ["plot", "@e.json", "x=1", "--out", "e.json"],
                 ["graph", "x*2", "x=[1,2]", "--backward", "--v", "@data.json", "--out", "data.json"],
                 ["run", "suite.toml", "--junit", "suite.toml"], ["run", "suite.toml", "--junit", "data.json"]):
        add(Case(args, codes=(2,)))
    add(Case(["eval", "x*2", "x=@x.npy", "--out", "J.npy"], codes=(0,), writes=("J.npy",)))
    add(Case(["run", "suite.toml", "--junit", "report.xml"], codes=(0,), writes=("report.xml",)))
    # --strict refuses before writing
    for option, name in (("--out", "S.npy"), ("--out", "x.npy"), ("--plot", "S.svg")):
        add(Case(["eval", "log(x)", "x=[-1,2]", "--strict", option, name], codes=(2,)))
    # a full disk: the old file stays whole, exit 2 with one message
    for args in (["eval", "x", "x=ones(200)", "--out", "tiny/old.npy"], ["eval", "x", "x=ones(300)", "--out", "tiny/old.json"],
                 ["eval", "x", "x=ones(2000)", "--out", "tiny/old.npz"], ["graph", "x+" * 2000 + "x", "x=1", "--out", "tiny/g.dot"],
                 ["run", "many-cases.toml", "--junit", "tiny/old.npy"]):
        add(Case(args, codes=(0, 2) if "--junit" in args or "npz" in args[-1] else (2,), tiny=True, writes=("tiny",)))
    # standard streams and locales
    c_locale = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    for args in (["eval", "x*2", "x=[1,2]"], ["--help"], ["eval", "--help"], ["run", "ok.toml"], ["diff", "x**2", "--wrt", "x"],
                 ["hessian", "sum(x**3)", "x=[1,2]", "--explain"], ["graph", "x*2", "x=[1,2]"], ["check", "x*2", "x=[1,2]"],
                 ["eval", "x", "x=@\udcff.npy"]):
        add(Case(args, env=c_locale, name="C locale, no UTF-8 mode: " + " ".join(args)))
    for env in ({"COLUMNS": "5"}, {"COLUMNS": "0"}, {"COLUMNS": "-3"}, {"COLUMNS": "abc"}, {"COLUMNS": "99999999999"},
                {"TERM": "dumb"}, {"NO_COLOR": "1"}, {"FORCE_COLOR": "1"}, {"PYTHONIOENCODING": "ascii"},
                {"PYTHONIOENCODING": "latin-1"}, {"LC_ALL": "tr_TR.UTF-8"}, {"HOME": "/nonexistent"},
                {"TMPDIR": "/nonexistent"}, {"LINES": "0"}):
        for args in (["eval", "x*2", "x=[1,2]"], ["run", "ok.toml"], ["graph", "x*2", "x=[1,2]", "--backward"],
                     ["eval", "x*y", "x=1"]):
            add(Case(args, env=env, name=f"{env}: " + " ".join(args)))
    for args in (["eval", "-", "x=1"], ["eval", "-", "x=1", "--json"], ["run", "-"], ["eval", "@/dev/stdin", "x=1"],
                 ["eval", "x", "x=@/dev/stdin"]):
        add(Case(args, codes=(2,), stdin="closed", name="stdin closed: " + " ".join(args)))
    add(Case(["eval", "-", "x=3"], codes=(0,), stdin="\ufeffx*2\n", name="stdin with a BOM"))
    add(Case(["eval", "-", "x=3"], codes=(0,), stdin="  x*2\n", name="stdin indented"))
    # files read
    names = list(NPY) + [n for n in TEXT if not n.endswith(".toml") and not n.startswith("expr-")] + [
        "big-endian.npy", "float16.npy", "uint64-max.npy", "datetime.npy", "structured.npy", "subarray.npy",
        "utf16.json", "proc-mem.npy", "urandom.txt", "etc.json"]
    for name in names:
        add(Case(["eval", "sum(x)*2", f"x=@{name}"]))
    for name in (n for n in TEXT if n.endswith(".toml")):
        add(Case(["run", name], codes=(0, 1, 2)))
        add(Case(["run", name, "--json"], codes=(0, 1, 2)))
    for name in ("expr-bom.txt", "expr-indented.txt", "expr-environ.txt"):
        add(Case(["eval", f"@{name}", "x=3"], codes=(0,)))
    # file names with new lines and terminal escapes
    for path in ("no\ndir/J.npy", "no\x1b[2Jdir/J.npy", "\udcff/J.npy"):
        add(Case(["eval", "x", "x=1", "--out", path], codes=(2,)))
        add(Case(["eval", "x", "x=@" + path]))
        add(Case(["run", path.replace("J.npy", "s.toml")], codes=(2,)))
    # expressions a newcomer pastes
    for expr in ("x − 1", "x × 2", "x·2", "x\u00a0+ 1", "х + 1", "x ** ２", "x²", "√x", "sum(x)\u200b", "“x”",
                 " x*2", "\tx*2", "\n    a = x*2\n    a.sum()\n", "  a = x*2\n    a", "x @@ x", "np..sum(x)",
                 "x[1:2:3:4]", "x[2**63]", "x[-2**63-1]", "x[True]", "x.__class__.__mro__", "(y := x) + y",
                 "x.T.T.T.__len__", "x[::10**30]", "x.reshape(10**30, 0)", "arange(0, 1, 1e-300)",
                 "linspace(0, 1, 10**15)", "x.unsqueeze(0).expand(10**9, 3).sum()"):
        add(Case(["eval", expr, "x=[1,2,3]"]))
    # odd option values, every command
    for args in (
        ["eval", "x", "x=1", "--wrt", ""], ["eval", "x", "x=1", "--wrt", "x,y"], ["eval", "x", "x=[1,2]", "--batch", "x:"],
        ["eval", "x", "x=[[1,2]]", "--batch", "x:1", "--batch", "x:0"], ["vjp", "x", "x=[1,2]", "--v", ""],
        ["vjp", "x", "x=[1,2]", "--v", "@missing.npy"], ["vjp", "x", "x=[1,2]", "--v", "y=[1,2]"],
        ["vjp", "x*2", "x=[1,2]", "--v", "[1,nan]"], ["jvp", "x*2", "x=[1,2]", "--tangent", "x=[1,inf]"],
        ["jvp", "x*2", "x=[1,2]", "--tangent", "x=[1,inf]", "--strict"], ["jvp", "x", "x=[1,2]", "--tangent", "x=@etc.json"],
        ["diff", "x", "--wrt", "x", "--at", "x=@x.npy"], ["graph", "x", "x=1", "--max-nodes", "99999999999999999999999"],
        ["graph", "x", "x=1", "--dot", "--out", "g.gv", "--json"], ["check", "x", "x=[1,2]", "--limit"],
        ["check", "x", "x:10", "--max-memory", "100"], ["check", "x", "x:10", "--max-memory", "300"],
        ["plot", "x", "x=1", "--out", "p.png", "--range=-1e308:1e308"], ["eval", "x", "x=1", "--seed", " 5"],
        ["eval", "x", "x=1", "--max-memory", "1P"], ["eval", "x", "x=1", "--max-memory", "5 G"],
        ["eval", "x", "x=1", "--max-memory", "-0"], ["eval", "x", "x=1", "--json=1"], ["eval", "x", "x:"],
        ["eval", "x", "x:3X4"], ["eval", "x", "x:(3,4)"], ["eval", "x", "x:١٠"], ["shape", "x", "x:" + "a" * 10000],
        ["run", "ok.toml", "--shard", "١/٢"], ["run", "ok.toml", "-k", "a" * 100000], ["run", "ok.toml", "--max-memory", "1"],
        ["derivative", "sin(x)", "x=1", "--order", "+2"], ["diff", "x**2", "--wrt", "x", "--timeout", "1e-320"],
        ["eval", "x", "x=nan", "--strict"], ["eval", "x.argmax()", "x=[1,2]", "--plot", "p.svg"],
        ["eval", "1", "--out", "J.npy"], ["eval", "x, x", "x=[1,2]", "--out", "J.npz"],
        ["completion", "bash", "--json"], ["schema", "eval", "--json"], ["schema", "../../etc/passwd"],
    ):
        writes = tuple(a for a in args if a in ("g.gv", "p.png", "p.svg", "J.npy", "J.npz"))
        add(Case(args, codes=(0, 1, 2), writes=writes))
    return out


def snapshot(folder: str) -> dict:
    """{relative path: digest} of every file and link under ``folder`` (FIFOs and devices by type)."""
    found = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[rel] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                try:
                    with open(path, "rb") as fp:
                        found[rel] = hashlib.sha1(fp.read()).hexdigest()
                except OSError:
                    found[rel] = "unreadable"
            elif not os.path.isdir(path):
                found[rel] = "special"
    return found


def _tiny_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


def run_case(case: Case, folder: str, tiny: bool, root: str = ROOT) -> tuple:
    """``(class or None, detail, seconds)``; ``root``: the checkout whose jac runs."""
    env = {**os.environ, "PYTHONPATH": root, "COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "1", **case.env}
    env = {k: v for k, v in env.items() if v != ""}
    cmd = [sys.executable, "-m", "jacobi_cli", *case.args]
    streams = {"stdin": subprocess.DEVNULL}
    if case.stdin == "closed":
        cmd = ["sh", "-c", 'exec "$@" <&-', "sh", *cmd]
    elif case.stdin != "devnull":
        streams = {"input": case.stdin.encode("utf-8")}
    if case.tiny:
        if not tiny:
            return "skipped", "no tmpfs in a private mount namespace here", 0.0
        script = ('mount -t tmpfs -o size=64k tmpfs tiny && cp tiny-old.npy tiny/old.npy && echo "[1]" > tiny/old.json '
                  '&& cp tiny-old.npy tiny/old.npz && cp tiny/old.npz tiny/keep.npz && "$@"; code=$?; '
                  'if [ $code -ne 0 ]; then cmp -s tiny-old.npy tiny/old.npy || echo "sweep: LOST old.npy" >&2; '
                  'echo "[1]" | cmp -s - tiny/old.json || echo "sweep: LOST old.json" >&2; '
                  'cmp -s tiny/keep.npz tiny/old.npz || echo "sweep: LOST old.npz" >&2; fi; exit $code')
        cmd = ["unshare", "-m", "sh", "-c", script, "sh", *cmd]
    before = snapshot(folder)
    kept = {rel: open(os.path.join(folder, rel), "rb").read() for rel, digest in before.items()
            if len(digest) == 40 and os.path.getsize(os.path.join(folder, rel)) < 2**20}
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, **streams, capture_output=True, env=env, cwd=folder,
                              timeout=case.timeout)
    except subprocess.TimeoutExpired:
        return "hang", f"> {case.timeout:.0f} s", case.timeout
    seconds = time.monotonic() - start
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    err = re.sub(r"\x1b\[[0-9;]*m", "", err)  # FORCE_COLOR's colours: the text is what counts
    after = snapshot(folder)
    allowed = lambda rel: any(rel == w or rel.startswith(w + os.sep) for w in case.writes)  # noqa: E731
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and not allowed(k))
    for rel in set(after) - set(before):  # what the case made goes, so that the next case starts from the same files
        path = os.path.join(folder, rel)
        if os.path.isfile(path) or os.path.islink(path):
            os.remove(path)
    for rel in changed:  # and what it replaced comes back (a lost input must not fail the cases after it)
        if rel in kept:
            with open(os.path.join(folder, rel), "wb") as fp:
                fp.write(kept[rel])
    if "Traceback" in out + err:
        return "traceback", err[err.find("Traceback"):][:300], seconds
    if proc.returncode == 70 or "internal error" in err:
        return "internal", err[-300:], seconds
    if proc.returncode not in case.codes:
        return "code", f"exit {proc.returncode}: {err[-300:]}", seconds
    if changed or "sweep: LOST" in err:
        return "files", (", ".join(map(repr, changed)) + err[err.find("sweep: LOST"):] * ("LOST" in err))[:300], seconds
    case_errors = case.args[:1] == ["run"] and ("ERROR" in out or '"status": "error"' in out)
    if proc.returncode == 2 and not case_errors:  # (jac run: a case that errored is reported in the run's table)
        lines = [line for line in err.splitlines() if line.startswith("jac: error")]
        first = err.splitlines()[0] if err else ""
        if len(lines) != 1 or not first.startswith("jac: error"):
            return "message", f"{len(lines)} 'jac: error' lines: {err[:300]}", seconds
        if "--json" in case.args:
            try:
                json.loads(out)["error"]
            except (ValueError, KeyError, TypeError):
                return "message", f"--json without an error object: {out[:200]}", seconds
        if "budget of -" in err:
            return "message", err[:300], seconds
    return None, "", seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    fuzzkit.add_part_flags(parser)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--root", default=ROOT, help="the checkout whose jac runs (another commit: git archive "
                        "COMMIT | tar -x -C DIR), for before/after counts")
    options = parser.parse_args()
    selected = [c for c in cases() if options.k in c.label()]
    selected = fuzzkit.part_of(selected, options.part, options.sample)
    if options.list:
        print("\n".join(c.label() for c in selected))
        return 0
    folder = tempfile.mkdtemp(prefix="jac-hostile12-")
    try:
        make_files(folder)
        tiny = _tiny_works()
        counts, started, times = {}, time.monotonic(), []
        for case in selected:
            kind, detail, seconds = run_case(case, folder, tiny, options.root)
            times.append(seconds)
            counts[kind or "ok"] = counts.get(kind or "ok", 0) + 1
            if kind and kind != "skipped":
                print(f"{kind.upper()} {case.label()}: {detail}".replace("\n", " | "), flush=True)
            elif options.v:
                print(f"{(kind or 'ok').upper()} {len(times)}/{len(selected)} {case.label()} ({seconds:.1f} s)",
                      flush=True)
        failed = sum(n for k, n in counts.items() if k not in ("ok", "skipped"))
        print(f"{len(selected)} cases in {time.monotonic() - started:.0f} s (slowest {max(times, default=0):.1f} s): "
              + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
        return 1 if failed else 0
    finally:
        os.chmod(os.path.join(folder, "unreadable.csv"), 0o600)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
