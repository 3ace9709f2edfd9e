"""A sweep of hostile inputs through every command of a real ``jac`` process.

    PYTHONPATH=. python benchmarks/hostile_sweep.py [-k SUBSTRING] [--jobs N]

Each case runs ``python -m jacobi_cli ARGS`` in a scratch directory holding hostile files
(lying .npy headers, pickles, deep JSON/TOML, FIFOs, devices, symlinks, ...), with a timeout,
and must end with: no "Traceback" on either stream, an exit code it allows (0 or 2; 1 only
for a failed check, 141 for a closed pipe), within the timeout, and a peak RSS under the
case's bound (the budget it gives plus interpreter overhead, 400 MB by default). Prints one
line per failure and a summary; exit 1 if any failed. ``CASES`` is also run in-process by
tests/test_hostile_sweep.py (the cases that need no real process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part, -v: shared with hostile12_sweep.py, hostile41_fuzz.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 2**20
OVERHEAD = 150 * MB  # the interpreter, NumPy, typer and rich, beyond a command's budget


@dataclass
class Case:
    args: list
    codes: tuple = (0, 2)
    rss: int = 400 * MB
    stdout: str = "pipe"  # "pipe", "closed", "full", "devnull"
    stderr: str = "pipe"
    process: bool = False  # needs a real process (FIFO, device, closed stream): not run in-process
    timeout: float = 90.0
    name: str = field(default="")

    def label(self) -> str:
        return self.name or " ".join(self.args)[:110]


COMMANDS_THAT_COMPUTE = ["eval", "vjp", "jvp", "hessian", "check", "graph", "derivative"]
OPERANDS = ["'abc'", "None", "...", "b'xy'", "1j", "True", "{1, 2}", "{'a': 1}", "lambda: 1", "[1, 'a']",
            "[[1, 2], [3]]", "(1, 2)", "[]", "print", "__import__('os')", "x.__class__", "[None]", "1e309",
            "10**400", "-10**400", "float('nan')", "2**64", "[[[]]]", "Ellipsis", "NotImplemented"]


def _for(command: str, expr: str, *bindings: str) -> list:
    extra = {"vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "derivative": ["--order", "2", "--wrt", "x"]}
    return [command, expr, *bindings, *extra.get(command, [])]


def cases() -> list:
    out = []
    add = out.append
    # operands of every Python literal type, in every computing command
    for command in COMMANDS_THAT_COMPUTE:
        for operand in OPERANDS:
            add(Case(_for(command, f"x + {operand}", "x=1.5"), codes=(0, 1, 2) if command == "check" else (0, 2)))
    for operand in OPERANDS:
        add(Case(["eval", "x * 2", f"x={operand}"]))
        add(Case(["shape", f"x * {operand}", "x:3"]))
        add(Case(["diff", f"x * {operand}", "--wrt", "x"]))
    # the list and variations
    for args in (
        ["eval", "x + 'abc'", "x=1"], ["eval", "x * None", "x=1"], ["eval", "clip(x,'a','b')", "x=1"],
        ["eval", "x", "x=1+'a'"], ["eval", "x*2", "x=[]"], ["eval", "x*2", "x:0"], ["eval", "A@A", "A:0x0"],
        ["eval", "x[[]]", "x:3"], ["eval", "arange(1,0,1)*x", "x=2"], ["diff", "x*2", "x:0", "--wrt", "x"],
        ["eval", "sum(x)", "x=" + "[" * 33 + "1" + "]" * 33], ["eval", "x", "x=ones(" + ", ".join(["1"] * 33) + ")"],
        ["eval", "ones(0, 10**20) * x", "x=1"], ["eval", "x", "x=ones(10**30)"], ["eval", "x", "x=zeros(-1)"],
        ["shape", "x * y", "x:99999999999999999999999", "y:3"], ["shape", "A @ x", "A:nxm", "x:m"],
        ["diff", "x * 2", "x:99999999999999999999999", "--wrt", "x"], ["eval", "x", "x:3", "--max-memory", "1e309"],
        ["eval", "x", "x:3", "--max-memory", "0"], ["eval", "x", "x:3", "--max-memory", "-5"],
        ["eval", "x", "x:3", "--max-memory", "1e-300"], ["eval", "x", "x:3", "--max-memory", "nan"],
        ["eval", "x", "x:3", "--max-memory", "inf"], ["eval", "x", "x:3", "--max-memory", "200%"],
        ["derivative", "sin(x)", "x=1", "--order", str(10**9)], ["derivative", "sin(x)", "x=1", "--order", "-1"],
        ["derivative", "sin(x)", "x=1", "--order", "99999999999999999999999"],
        ["derivative", "sin(x)", "x:3", "--order", "40"],
        ["check", "x*2", "x=1", "--rtol", "-1"], ["check", "x*2", "x=1", "--atol", "nan"],
        ["check", "x*2", "x=1", "--rtol", "inf"], ["eval", "x*2", "x:3", "--batch", "x:5"],
        ["eval", "x*2", "x:3", "--batch", "y"], ["eval", "x*2", "x:3", "--batch", "x:-99"],
        ["eval", "x*2", "x:3", "--batch", "x:99999999999999999999"], ["eval", "x", "x:3", "--seed", "-1"],
        ["eval", "x", "x:3", "--seed", "99999999999999999999999"], ["eval", "x", "x:3", "--dtype", "float16"],
        ["eval", "x", "x:3", "--layout", "nope"], ["eval", "x", "x:3", "--mode", "sideways"],
        ["eval", "x", "x:3", "--timeout", "nan"], ["diff", "x**2", "--wrt", "x", "--timeout", "-1"],
        ["diff", "x**2", "--wrt", "x", "--timeout", "1e309"], ["diff", "x**2", "--wrt", "x", "--order", str(10**9)],
        ["plot", "x**2", "x=1e308", "--out", "p.png"], ["plot", "x**2", "x=nan", "--out", "p.png"],
        ["plot", "x**2", "x=inf", "--out", "p.png"], ["plot", "x**2", "x=1", "--out", "p.png", "--range", "nan"],
        ["diff", "inv(A) @ x", "A:2x2", "x:2", "--wrt", "x", "--at", "A=[[0,0],[0,0]]", "--at", "x=[1,1]"],
        ["hessian", "norm(x)", "x=[0,0]"], ["eval", "x", "x=[1,2]", "--out", ""], ["eval", "x", "x=1", "--plot", ""],
        ["eval", "x", "x=1", "--out", "."], ["eval", "x", "x=1", "--out", "nodir/J.npy"],
        ["eval", "x", "x=1", "--out", "J.exe"], ["graph", "x", "x=1", "--out", ""],
        ["eval", "x" + "+x" * 3000, "x=1"], ["eval", "(" * 100_000 + "x" + ")" * 100_000, "x=1"],
        ["eval", "-" * 100_000 + "x", "x=1"], ["eval", "sin(" * 5000 + "x" + ")" * 5000, "x=1"],
        ["eval", "x**" * 5000 + "x", "x=1"], ["eval", "x" * 2_000_000, "x=1"], ["eval", "x[0]" * 1, "x=[]"],
        ["eval", "\x1b]0;pwned\x07x", "x=1"], ["eval", "x\u202e + y", "x=1", "y=2"], ["eval", "ｘ + 1", "ｘ=1"],
        ["eval", "x + 1", "\x1b[31mx=1"], ["eval", "é + 1", "é=1"], ["eval", "x\x00", "x=1"],
        ["eval", "x", "x=1", "x=2"], ["eval", "x", "x=1", "--wrt", "y"], ["eval", "x", "x=1", "--wrt", "x", "--wrt", "x"],
        ["eval", "x + y"], ["eval", ""], ["eval", " "], ["eval", "#"], ["eval", ";;"], ["eval", "x =", "x=1"],
        ["eval", "import os", "x=1"], ["eval", "open('/etc/passwd')"], ["eval", "x.__dict__", "x=1"],
        ["eval", "().__class__.__bases__[0]"], ["eval", "[x for x in y]", "y=1"], ["eval", "f'{x}'", "x=1"],
        ["eval", "x if x else x", "x=1"], ["eval", "await x", "x=1"], ["eval", "x @ x", "x=1"],
        ["eval", "sum(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(x))))))))))))", "x:20000000", "--max-memory", "200M"],
        ["check", "x * 2", "x:8000", "--max-memory", "300M"],
        ["vjp", "sin(x)", "x:20000000", "--max-memory", "200M"],
        ["jvp", "sin(x)", "x:20000000", "--tangent", "x=ones", "--max-memory", "200M"],
        ["eval", "x+y+z+w", "x=ones(2**27)", "y=ones(2**27)", "z=ones(2**27)", "w=ones(2**27)", "--max-memory", "1G"],
        ["hessian", "sum(x**2)", "x:100000"], ["eval", "x[:, None] * x", "x:100000"],
        ["eval", "eigvalsh(A)", "A=[[inf,0],[0,1]]"], ["eval", "A.transpose(0, 1)", "A:2x3"],
        ["schema"], ["schema", "eval"], ["schema", "nope"], ["schema", "\x1b[2J"], ["completion", "bash"],
        ["completion", "tcsh"], ["completion", ""], ["nope"], ["--version"], ["eval", "--help"], [],
        ["eval", "x", "x=@/etc/passwd"], ["eval", "@/etc/shadow", "x=1"], ["eval", "@", "x=1"],
    ):
        rss = 400 * MB
        if "--max-memory" in args:
            size = args[args.index("--max-memory") + 1]
            rss = {"200M": 200 * MB, "300M": 300 * MB, "1G": 1024 * MB}.get(size, 400 * MB) + OVERHEAD
        slow = args[:2] == ["check", "x * 2"]  # 8,000 columns of finite differences: ~30 s alone, more when shared
        add(Case(list(args), codes=(0, 1, 2), rss=max(rss, 400 * MB) if "--max-memory" not in args else rss,
                 timeout=600.0 if slow else 90.0))
    # files of every supported type, hostile
    for name in FILES:
        for command in ("eval", "vjp", "jvp", "hessian", "check"):
            add(Case(_for(command, "sum(x) * 2", f"x=@{name}"), codes=(0, 1, 2) if command == "check" else (0, 2)))
    for name in ("deep.toml", "huge-values.toml", "regex.toml", "bad-types.toml", "nested-array.toml",
                 "not-toml.toml", "empty.toml", "many-cases.toml", "fifo.toml", "dir.toml"):
        rss = 2 * 1024 * MB + OVERHEAD if name == "huge-values.toml" else 1200 * MB  # a suite's values: 2 GiB in all
        add(Case(["run", name], codes=(0, 1, 2), process=name == "fifo.toml", rss=rss))
        add(Case(["run", name, "--json", "--shard", "1/99999999999999999999999"], codes=(0, 1, 2),
                 process=name == "fifo.toml", rss=rss))
    for args in (["run", "ok.toml", "--jobs", "99999999999999999999"], ["run", "ok.toml", "--shard", "0/0"],
                 ["run", "ok.toml", "--shard", "3/2"], ["run", "ok.toml", "--shard", "-1/2"],
                 ["run", "ok.toml", "--junit", ""], ["run", "ok.toml", "--junit", "fifo"],
                 ["run", "ok.toml", "--junit", "/dev/full"], ["run", "ok.toml", "-k", "("],
                 ["run", "ok.toml", "--jobs", "0"], ["run", "ok.toml", "--jobs", "-3"]):
        add(Case(list(args), codes=(0, 1, 2), process="fifo" in args))
    # broken streams, every command
    for args in (["eval", "x*2", "x:3"], ["vjp", "sum(x)", "x:3"], ["jvp", "x", "x:3", "--tangent", "x=ones"],
                 ["hessian", "sum(x**2)", "x:2"], ["shape", "x", "x:3"], ["diff", "x**2", "--wrt", "x"],
                 ["check", "x*2", "x:2"], ["graph", "x*2", "x:2"], ["schema", "eval"], ["completion", "bash"],
                 ["run", "ok.toml"], ["derivative", "sin(x)", "x=1", "--order", "2"]):
        add(Case(list(args), stdout="full", codes=(2,), process=True, name="stdout full: " + " ".join(args)))
        add(Case(list(args), stdout="closed", codes=(2,), process=True, name="stdout closed: " + " ".join(args)))
        add(Case(list(args) + ["x=+"], stderr="full", codes=(2,), process=True,
                 name="stderr full: " + " ".join(args)))
        add(Case(list(args), stdout="epipe", codes=(0, 141), process=True, name="closed pipe: " + " ".join(args)))
    return out


FILES = {
    "lying-shape.npy": None, "zero-huge.npy": None, "rank64.npy": None, "pickle.npy": None, "truncated.npy": None,
    "bad-header.npy": None, "huge-header.npy": None, "fortran.npy": None, "complex.npy": None, "bool.npy": None,
    "int-huge.npy": None, "str.npy": None, "a.npz": None, "ragged.csv": None, "huge.csv": None, "bom.csv": None,
    "binary.csv": None, "empty.csv": None, "header-only.csv": None, "inf.csv": None, "deep.json": None,
    "null.json": None, "strings.json": None, "bigint.json": None, "object.json": None, "deep.txt": None,
    "a.toml": None, "dir.npy": None, "fifo.npy": None, "dev-zero.npy": None, "loop.npy": None,
    "missing.npy": None, "unreadable.csv": None, "nul.csv": None, "unicode.csv": None, "many-cols.csv": None,
}


HEAVY = ("20000000", "2**27", "x:8000", "x:100000", "huge-values", "many-cases", "deep.toml", "nested-array",
         "regex.toml", "x" * 1000, "(" * 1000, "-" * 1000, "sin(" * 100, "x**" * 100, "+x" * 100, "--order 40")


def needs_real_process(case: Case) -> bool:
    """A case the in-process test leaves out: a real stream, FIFO or permission, or large memory and time."""
    text = " ".join(case.args)
    return case.process or any(h in text for h in HEAVY) or "fifo" in text or "unreadable" in text


def make_files(folder: str) -> None:
    import numpy as np

    def npy(name, header: dict, data: bytes = b""):
        text = repr(header).encode("latin1")
        text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
        with open(os.path.join(folder, name), "wb") as fp:
            fp.write(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data)

    npy("lying-shape.npy", {"descr": "<f8", "fortran_order": False, "shape": (2**40,)}, b"\0" * 64)
    npy("zero-huge.npy", {"descr": "<f8", "fortran_order": False, "shape": (0, 2**62)})
    npy("rank64.npy", {"descr": "<f8", "fortran_order": False, "shape": (1,) * 64}, b"\0" * 8)
    np.save(os.path.join(folder, "pickle.npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    npy("truncated.npy", {"descr": "<f8", "fortran_order": False, "shape": (100,)}, b"\0" * 16)
    with open(os.path.join(folder, "bad-header.npy"), "wb") as fp:
        fp.write(b"\x93NUMPY\x01\x00\x20\x00{'descr': __import__('os')}     \n")
    with open(os.path.join(folder, "huge-header.npy"), "wb") as fp:
        fp.write(b"\x93NUMPY\x02\x00" + (2**31).to_bytes(4, "little") + b"{" * 1000)
    np.save(os.path.join(folder, "fortran.npy"), np.asfortranarray(np.ones((3, 4))))
    np.save(os.path.join(folder, "complex.npy"), np.ones(3, dtype=complex))
    np.save(os.path.join(folder, "bool.npy"), np.ones(3, dtype=bool))
    np.save(os.path.join(folder, "int-huge.npy"), np.array([2**63 - 1, -(2**63)], dtype=np.int64))
    np.save(os.path.join(folder, "str.npy"), np.array(["a", "b"]))
    np.savez(os.path.join(folder, "a.npz"), x=np.ones(3))
    text = {
        "ragged.csv": "1,2,3\n4,5\n", "huge.csv": "1e309,-1e309,1e-400\n", "bom.csv": "\ufeff1,2\n3,4\n",
        "empty.csv": "", "header-only.csv": "a,b,c\n", "inf.csv": "inf,nan,-inf\n",
        "deep.json": "[" * 100_000 + "]" * 100_000, "null.json": "null", "strings.json": '["1", "2"]',
        "bigint.json": "[" + "9" * 5000 + "]", "object.json": '{"a": [1], "b": [2]}', "deep.txt": "(" * 10000,
        "a.toml": "x = 1\n", "nul.csv": "1,\x002\n", "unicode.csv": "١,٢\n", "many-cols.csv": ",".join(["1"] * 3000),
        "unreadable.csv": "1,2\n",
    }
    for name, body in text.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as fp:
            fp.write(body)
    with open(os.path.join(folder, "binary.csv"), "wb") as fp:
        fp.write(bytes(range(256)) * 10)
    os.chmod(os.path.join(folder, "unreadable.csv"), 0)
    os.mkdir(os.path.join(folder, "dir.npy"))
    os.mkdir(os.path.join(folder, "dir.toml"))
    for fifo in ("fifo.npy", "fifo.toml", "fifo"):
        os.mkfifo(os.path.join(folder, fifo))
    os.symlink("/dev/zero", os.path.join(folder, "dev-zero.npy"))
    os.symlink("loop.npy", os.path.join(folder, "loop.npy"))
    suites = {
        "ok.toml": '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\n',
        "deep.toml": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "nested-array.toml": '[[case]]\nname = "a"\nexpr = "x"\nbindings = {x = "1"}\nvalue = '
                             + "[" * 5000 + "1" + "]" * 5000 + "\n",
        "huge-values.toml": "[[case]]\nname='a'\nexpr='x+y+z+w+u+v'\nbindings={"
                            + ", ".join(f"{n}='ones(2**27)'" for n in "xyzwuv") + "}\nvalue=1\n",
        "regex.toml": '[[case]]\nname = "r"\nexpr = "x + \'' + "a" * 5000 + '!\'"\nbindings = {x = "1"}\n'
                      'error = {match = "(a+)+$"}\n',
        "bad-types.toml": '[[case]]\nname = 3\nexpr = ["x"]\nbindings = "x"\nvalue = {}\n',
        "not-toml.toml": "[[[[\n\x00\x01", "empty.toml": "",
        "many-cases.toml": "".join(f'[[case]]\nname = "c{i}"\nexpr = "x*{i}"\nbindings = {{x = "1"}}\nvalue = {i}\n'
                                   for i in range(300)),
    }
    for name, body in suites.items():
        with open(os.path.join(folder, name), "w") as fp:
            fp.write(body)


def run_case(case: Case, folder: str) -> str | None:
    """None when the case holds, else what went wrong."""
    env = {**os.environ, "PYTHONPATH": ROOT, "COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "1"}
    args = list(case.args)
    if len(args) > 1 and len(args[1]) > 100_000:  # past the kernel's limit for one argument: from a file
        path = os.path.join(folder, f"long-{abs(hash(args[1]))}.txt")
        with open(path, "w") as fp:
            fp.write(args[1])
        args[1] = "@" + path
    cmd = [sys.executable, "-m", "jacobi_cli", *args]
    streams = {"pipe": subprocess.PIPE, "full": open("/dev/full", "w"), "devnull": subprocess.DEVNULL}
    stdout = subprocess.PIPE if case.stdout in ("pipe", "epipe") else streams.get(case.stdout, subprocess.PIPE)
    stderr = streams.get(case.stderr, subprocess.PIPE)
    kwargs = {}
    if case.stdout == "closed":
        kwargs["pass_fds"] = ()
        stdout = None
        cmd = ["sh", "-c", 'exec "$@" >&-', "sh", *cmd]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env, cwd=folder, **kwargs)
    if case.stdout == "epipe":
        proc.stdout.close()
    try:
        out, err = proc.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"hung (> {case.timeout:.0f} s)"
    rusage = proc.rusage if hasattr(proc, "rusage") else None
    elapsed = time.monotonic() - start
    text = (out or b"").decode("utf-8", "replace") + (err or b"").decode("utf-8", "replace")
    if "Traceback" in text:
        return "traceback: " + text[text.index("Traceback"):][:400].replace("\n", " | ")
    if "internal error" in text:
        return "exit 70: " + text[-300:].replace("\n", " | ")
    if proc.returncode not in case.codes:
        return f"exit {proc.returncode} not in {case.codes}: " + text[-300:].replace("\n", " | ")
    del rusage, elapsed
    return None


def run_measured(case: Case, folder: str) -> tuple:
    """``(problem or None, max RSS bytes)``: the case in a child whose peak RSS is read with wait4."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    problem = run_case(case, folder)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if problem is None and before * 1024 < peak and peak > case.rss:
        problem = f"max RSS {peak / MB:.0f} MB over {case.rss / MB:.0f} MB"
    return problem, peak


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    fuzzkit.add_part_flags(parser)
    parser.add_argument("--real-only", action="store_true",
                        help="only what tests/test_hostile_sweep.py cannot run in-process: streams, FIFOs, heavy cases")
    options = parser.parse_args()
    selected = [c for c in cases() if options.k in c.label() and (not options.real_only or needs_real_process(c))]
    selected = fuzzkit.part_of(selected, options.part, options.sample)
    # no process can receive a NUL byte in its arguments (execve ends a string there): such a case is run
    # in-process only, by tests/test_hostile_sweep.py
    unpassable = [c for c in selected if any("\x00" in a for a in c.args)]
    selected = [c for c in selected if c not in unpassable]
    folder = tempfile.mkdtemp(prefix="jac-hostile-")
    try:
        make_files(folder)
        failures = []
        started = time.monotonic()
        # one at a time: RUSAGE_CHILDREN's max RSS is per process tree, so measured cases do not overlap
        for i, case in enumerate(selected):
            problem, peak = run_measured(case, folder)
            if problem:
                failures.append((case, problem))
                print(f"FAIL {case.label()!r}: {problem}", flush=True)
            elif options.v:
                print(f"OK {i + 1}/{len(selected)} {case.label()!r} ({peak / MB:.0f} MB)", flush=True)
        skipped = f" ({len(unpassable)} with a NUL byte in an argument left to the in-process test)" if unpassable else ""
        print(f"{len(selected)} cases, {len(failures)} failures, {time.monotonic() - started:.0f} s{skipped}")
        return 1 if failures else 0
    finally:
        os.chmod(folder, 0o700)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
