"""hostile39: work on constants, long programs, suite files and output targets (session 39).

    PYTHONPATH=. /work/venv/bin/python benchmarks/hostile39_fuzz.py [-k A|B] [-v] [--part K/N] [--timeout T] [--root DIR]

Each case is a real ``python -m jacobi_cli`` process under an address-space limit of 6 GB (``RLIMIT_AS``), in
its own session (killed as a group past ``--timeout``), in a scratch folder holding ``keep.txt``, which must
survive. Four parts:

- **constants**: products and decompositions of 10,000 × 10,000 constants (inv, cholesky, eigh, eigvalsh, svd,
  svdvals, solve, det, slogdet, lstsq, pinv, matrix_exp, qr, matmul, einsum), Wishart and MultivariateNormal of
  such constants, by `jac eval`, `jac shape`, with and without `--timeout`: refused before the work, with the
  caret under the call, within the CPU limit;
- **programs**: 9,000 heavy statements through `jac eval` and through `jac run --timeout 1`;
- **suites**: every case key given each wrong TOML type, duplicate keys and names, a huge suite, deep nesting,
  unicode and bidirectional controls in names, bindings and expected values naming `/dev/zero`, FIFOs, folders,
  link loops, dangling links, files rewritten while they are read; the suite itself such a file;
- **outputs**: `--junit` / `--out` onto the suite, a binding file, an expected-value file, the `@` expression, a
  link to one of them, the same path twice, an existing file when the run is refused (kept byte for byte), a
  missing folder, a folder, `/dev/full`, a FIFO.

Classes: OK; TRACEBACK (a traceback, or an exit other than 0 / 1 / 2); HANG (past the timeout); SLOW (CPU past
the case's limit: CPU, as the machine is shared); EXIT (an exit the case does not allow: 2 for bad input, 1 only
for a failed check); MESSAGE (exit 2 without exactly one ``jac: error`` line, or with ``--json`` without the error
object or the run report; a bidirectional control echoed raw); FILE (``keep.txt`` or a protected file changed, a
temporary file left). Prints the counts per class and each case that is not OK; exit 1 if any is not OK.
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
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
ADDRESS_LIMIT = 6 * 2**30
BIDI = "\u202e"


@dataclass
class Case:
    name: str
    argv: list  # after `python -m jacobi_cli`, run in the scratch folder
    expect: tuple = (2,)  # the exits allowed
    files: dict = field(default_factory=dict)  # name -> text written before the run
    setup: object = None  # a callable of the scratch folder, run after the files are written
    keep: tuple = ()  # files whose bytes must not change
    cpu: float = 8.0  # CPU seconds past which the case is SLOW
    during: object = None  # a callable of (folder, stop event), run in a thread while the process runs


# --- constants -----------------------------------------------------------------------------------------------------

N = 10_000
BIG = f"torch.eye({N}) * 2"
SPD = f"torch.eye({N})"
CONSTANT_TEXTS = {
    "inv": f"torch.linalg.inv({BIG}).sum() + x.sum()",
    "np inv": f"np.linalg.inv(np.eye({N}) * 2).sum() + x.sum()",
    "cholesky": f"torch.linalg.cholesky({SPD}).sum() + x.sum()",
    "eigh": f"torch.linalg.eigh({SPD})[1].sum() + x.sum()",
    "eigvalsh": f"torch.linalg.eigvalsh({SPD}).sum() + x.sum()",
    "svd": f"torch.linalg.svd({BIG})[0].sum() + x.sum()",
    "svdvals": f"torch.linalg.svdvals({BIG}).sum() + x.sum()",
    "solve": f"torch.linalg.solve({BIG}, torch.ones({N}, 3)).sum() + x.sum()",
    "det": f"torch.linalg.det({BIG}) + x.sum()",
    "slogdet": f"torch.linalg.slogdet({BIG})[1] + x.sum()",
    "lstsq": f"torch.linalg.lstsq({BIG}, torch.ones({N}, 1)).solution.sum() + x.sum()",
    "pinv": f"torch.linalg.pinv({BIG}).sum() + x.sum()",
    "matrix_exp": f"torch.linalg.matrix_exp({BIG}).sum() + x.sum()",
    "qr": f"torch.linalg.qr({BIG})[1].sum() + x.sum()",
    "matmul": f"(torch.ones({N}, {N}) @ torch.ones({N}, {N})).sum() + x.sum()",
    "einsum": f"np.einsum('ij,jk->ik', np.ones(({N}, {N})), np.ones(({N}, {N}))).sum() + x.sum()",
    "matrix_power": f"torch.linalg.matrix_power({BIG}, 40).sum() + x.sum()",
    "Wishart cov": f"torch.distributions.Wishart(torch.tensor({N + 1}.0), covariance_matrix={SPD}).log_prob({SPD}) "
                   "+ x.sum()",
    "Wishart tril": f"torch.distributions.Wishart(torch.tensor({N + 1}.0), scale_tril={SPD}).log_prob({SPD}) + x.sum()",
    "Wishart 5000": "torch.distributions.Wishart(torch.tensor(5001.), scale_tril=torch.eye(5000))"
                    ".log_prob(torch.eye(5000)) + x.sum()",
    "MVN cov": f"torch.distributions.MultivariateNormal(torch.zeros({N}), covariance_matrix={SPD}).log_prob(y)",
    "MVN tril": f"torch.distributions.MultivariateNormal(torch.zeros({N}), scale_tril={SPD}).log_prob(y)",
    "MVN precision": f"torch.distributions.MultivariateNormal(torch.zeros({N}), precision_matrix={SPD}).log_prob(y)",
}

VARIANTS = ("inv", "svd", "matmul", "Wishart cov", "MVN cov", "MVN tril")  # also with --timeout 1, --max-memory 1G, shape


def constant_cases() -> list:
    out = []
    for name, text in CONSTANT_TEXTS.items():
        binds = [f"y=zeros({N})"] if " y)" in text or "(y)" in text else ["x=[1,2]"]
        variants = ([], ["--timeout", "1"], ["--max-memory", "1G"]) if name in VARIANTS else ([],)
        for options in variants:
            out.append(Case(f"constants {name} eval {' '.join(options)}".strip(),
                            ["eval", "@e.py", *binds, "--json", *options], files={"e.py": text}, cpu=40.0))
        shapes = [f"y:{N}"] if binds[0].startswith("y") else ["x:2"]
        if name in VARIANTS:
                out.append(Case(f"constants {name} shape", ["shape", "@e.py", *shapes, "--json"], files={"e.py": text},
                            cpu=40.0))
    return out


# --- programs ------------------------------------------------------------------------------------------------------

LONG = "import numpy as np\ny = x\n" + "y = np.sin(y) + np.cos(y[0])\n" * 9000 + "y.sum()\n"


def program_cases() -> list:
    suite = "[[case]]\nname = \"long\"\nexpr = " + json.dumps(LONG) + "\nbindings = { x = [1, 2] }\nvalue = 0\n"
    many = "".join(f"[[case]]\nname = \"long {i}\"\nexpr = " + json.dumps(LONG) + "\nbindings = { x = [1, 2] }\n"
                   "value = 0\n" for i in range(3))
    return [
        Case("programs 9000 statements eval", ["eval", "@e.py", "x=[1,2]", "--json"], (0,), {"e.py": LONG}, cpu=12),
        Case("programs 9000 statements run --timeout 1", ["run", "s.toml", "--timeout", "1", "--json"], (2,),
             {"s.toml": suite}, cpu=12),
        Case("programs 3 x 9000 statements run --timeout 1 --jobs 1", ["run", "s.toml", "--timeout", "1", "--jobs",
                                                                        "1"], (2,), {"s.toml": many}, cpu=20),
    ]


# --- suites --------------------------------------------------------------------------------------------------------

GOOD = '[[case]]\nname = "a"\nexpr = "sum(x**2)"\nbindings = { x = [1, 2] }\nvalue = 5\n'
WRONG_TYPES = {"int": "1", "float": "1.5", "bool": "true", "string": '"zz"', "array": "[1, [2]]",
               "table": "{ q = 1 }", "datetime": "1979-05-27T07:32:00Z", "empty array": "[]", "nan": "nan"}
CASE_KEYS = ["name", "expr", "bindings", "wrt", "dtype", "seed", "rtol", "atol", "layout", "value", "jacobian",
             "hessian", "output_shape", "jacobian_shape", "math_shape", "check", "error", "description", "vjp", "jvp"]


# the types a key legitimately takes (not hostile): `check = true`, `output_shape = []` of a scalar output
VALID = {"name": ("string",), "bindings": ("table",), "check": ("bool",), "output_shape": ("empty array",),
         "expr": ("string",), "description": ("string",)}


def _with(key: str, value: str) -> str:
    base = {"name": '"a"', "expr": '"sum(x**2)"', "bindings": "{ x = [1, 2] }"}
    base[key] = value
    return "[[case]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items())


def _fifo(d, name):
    os.mkfifo(os.path.join(d, name))


def _link(target, name):
    return lambda d: os.symlink(target, os.path.join(d, name))


def _loop(d):
    os.symlink("loop2", os.path.join(d, "loop1"))
    os.symlink("loop1", os.path.join(d, "loop2"))


def _rewriting(name, contents):
    """A thread body rewriting ``name`` in place (truncate, then write) between ``contents`` as fast as it can."""
    def run(d, stop):
        i = 0
        while not stop.is_set():
            with open(os.path.join(d, name), "w") as f:
                f.write(contents[i % len(contents)])
            i += 1
    return run


def _binding_suite(path: str, key: str = "bindings") -> str:
    if key == "bindings":
        return f'[[case]]\nname = "a"\nexpr = "sum(x**2)"\nbindings = {{ x = "@{path}" }}\nvalue = 5\n'
    return f'[[case]]\nname = "a"\nexpr = "x * 2"\nbindings = {{ x = [1, 2] }}\nvalue = "@{path}"\n'


def suite_cases() -> list:
    out = []
    for key in CASE_KEYS:
        for kind, value in WRONG_TYPES.items():
            if VALID.get(key) and kind in VALID[key]:
                continue
            out.append(Case(f"suites wrong type {key} {kind}", ["run", "s.toml", "--json"], (1, 2),
                            {"s.toml": _with(key, value)}))
    for kind, value in WRONG_TYPES.items():
        out.append(Case(f"suites wrong type defaults {kind}", ["run", "s.toml"], (2,),
                        {"s.toml": f"defaults = {value}\n" + GOOD}))
        out.append(Case(f"suites wrong type case {kind}", ["run", "s.toml"], (2,), {"s.toml": f"case = {value}\n"}))
        if kind != "string":
            out.append(Case(f"suites wrong type name {kind}", ["run", "s.toml"], (2,),
                            {"s.toml": f"name = {value}\n" + GOOD}))
    out += [
        Case("suites duplicate key", ["run", "s.toml", "--json"], (2,), {"s.toml": GOOD + 'name = "b"\n'}),
        Case("suites duplicate table", ["run", "s.toml"], (2,), {"s.toml": "[defaults]\nseed = 1\n[defaults]\n"
                                                                           "seed = 2\n" + GOOD}),
        Case("suites duplicate names", ["run", "s.toml"], (2,), {"s.toml": GOOD + GOOD}),
        Case("suites duplicate binding", ["run", "s.toml"], (2,),
             {"s.toml": '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1, x = 2 }\n'}),
        Case("suites empty", ["run", "s.toml"], (2,), {"s.toml": ""}),
        Case("suites no cases", ["run", "s.toml"], (2,), {"s.toml": 'name = "x"\n'}),
        Case("suites nested arrays 100000", ["run", "s.toml"], (2,),
             {"s.toml": '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = ' + "[" * 100_000 + "1"
                        + "]" * 100_000 + " }\n"}),
        Case("suites nested tables 10000", ["run", "s.toml"], (2,),
             {"s.toml": GOOD + "q = " + "{ a = " * 10_000 + "1" + " }" * 10_000 + "\n"}),
        Case("suites 5000 cases", ["run", "s.toml", "--json"], (0,), {"s.toml": "".join(
            f'[[case]]\nname = "c{i}"\nexpr = "x * {i}"\nbindings = {{ x = 1 }}\nvalue = {i}\n'
            for i in range(5000))}, cpu=30),
        Case("suites 10 MB string", ["run", "s.toml"], (0,),
             {"s.toml": '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\ndescription = "'
                        + "z" * 10_000_000 + '"\nvalue = 1\n'}, cpu=12),
        Case("suites bidi name", ["run", "s.toml"], (1,),
             {"s.toml": f'[[case]]\nname = "ok {BIDI}LIAF"\nexpr = "x"\nbindings = {{ x = 1 }}\nvalue = 2\n'}),
        Case("suites bidi name json", ["run", "s.toml", "--json"], (1,),
             {"s.toml": f'[[case]]\nname = "ok {BIDI}LIAF"\nexpr = "x"\nbindings = {{ x = 1 }}\nvalue = 2\n'}),
        Case("suites escape name", ["run", "s.toml"], (1,),
             {"s.toml": '[[case]]\nname = "a\\u001b]0;pwned\\u0007"\nexpr = "x"\nbindings = { x = 1 }\nvalue = 2\n'}),
        Case("suites name NUL", ["run", "s.toml"], (1, 2),
             {"s.toml": '[[case]]\nname = "a\\u0000b"\nexpr = "x"\nbindings = { x = 1 }\nvalue = 2\n'}),
        Case("suites binding name unicode", ["run", "s.toml"], (0, 2),
             {"s.toml": '[[case]]\nname = "a"\nexpr = "\u00e9 * 2"\nbindings = { "\u00e9" = 1 }\nvalue = 2\n'}),
        Case("suites binding name not identifier", ["run", "s.toml"], (2,),
             {"s.toml": '[[case]]\nname = "a"\nexpr = "x"\nbindings = { "__import__(\'os\')" = 1 }\nvalue = 2\n'}),
        Case("suites binding name dunder", ["run", "s.toml"], (0, 2),  # a name, never Python's attribute
             {"s.toml": '[[case]]\nname = "a"\nexpr = "__class__"\nbindings = { __class__ = 1 }\nvalue = 1\n'}),
    ]
    paths = {"dev zero": ("/dev/zero", None), "dev urandom": ("/dev/urandom", None), "fifo": ("f.json", _fifo),
             "folder": ("dir", lambda d, n: os.mkdir(os.path.join(d, n))),
             "link loop": ("loop1", lambda d, n: _loop(d)),
             "dangling": ("gone.json", lambda d, n: os.symlink("nowhere.json", os.path.join(d, n))),
             "link to dev zero": ("z.json", lambda d, n: os.symlink("/dev/zero", os.path.join(d, n))),
             "sparse 3 GB": ("big.json", lambda d, n: os.truncate(_touch(d, n), 3 * 2**30)),
             "absolute outside": ("/etc/shadow", None), "parent escape": ("../../../../etc/passwd", None)}
    for kind, (path, make) in paths.items():
        setup = (lambda m, p: (lambda d: m(d, p)))(make, path) if make else None
        out.append(Case(f"suites binding file {kind}", ["run", "s.toml"], (2,), {"s.toml": _binding_suite(path)},
                        setup))
        out.append(Case(f"suites expected file {kind}", ["run", "s.toml"], (2,),
                        {"s.toml": _binding_suite(path, "value")}, setup))
        if not path.startswith("/") and not path.startswith(".."):
            out.append(Case(f"suites suite file {kind}", ["run", path], (2,), {}, setup))
    out.append(Case("suites binding file rewritten while read", ["run", "s.toml"], (0, 1, 2),
                    {"s.toml": _binding_suite("w.json"), "w.json": "[1, 2]"},
                    during=_rewriting("w.json", ["[1, 2]", "[1, 2, 3]", "", "[1,"])))
    out.append(Case("suites suite rewritten while read", ["run", "w.toml"], (0, 1, 2), {"w.toml": GOOD},
                    during=_rewriting("w.toml", [GOOD, GOOD + GOOD, "", GOOD[:30]])))
    return out


def _touch(d, name):
    path = os.path.join(d, name)
    open(path, "w").close()
    return path


# --- outputs -------------------------------------------------------------------------------------------------------

OLD = "old report, must survive\n"


def output_cases() -> list:
    suite = _binding_suite("x.json")
    files = {"s.toml": suite, "x.json": "[1, 2]", "old.xml": OLD, "old.npy": OLD, "e.py": "sum(x**2)"}
    keep = ("s.toml", "x.json", "old.xml", "old.npy", "e.py")
    expected = {"s.toml": _binding_suite("x.json", "value"), "x.json": "[2, 4]", "old.xml": OLD}
    hard = lambda d: os.link(os.path.join(d, "x.json"), os.path.join(d, "hard.json"))  # noqa: E731
    c = [
        Case("outputs junit onto the suite", ["run", "s.toml", "--junit", "s.toml"], (2,), files, keep=keep),
        Case("outputs junit onto a binding file", ["run", "s.toml", "--junit", "x.json"], (2,), files, keep=keep),
        Case("outputs junit onto an expected file", ["run", "s.toml", "--junit", "x.json"], (2,), expected,
             keep=("s.toml", "x.json")),
        Case("outputs junit onto a link to the suite", ["run", "s.toml", "--junit", "l.xml"], (2,), files,
             _link("s.toml", "l.xml"), keep=keep),
        Case("outputs junit onto a hard link to a binding", ["run", "s.toml", "--junit", "hard.json"], (2,), files,
             hard, keep=keep),
        Case("outputs junit onto the suite by another spelling", ["run", "s.toml", "--junit", "./sub/../s.toml"], (2,),
             files, lambda d: os.mkdir(os.path.join(d, "sub")), keep=keep),
        Case("outputs junit twice", ["run", "s.toml", "--junit", "j.xml", "--junit", "j.xml"], (2,), files, keep=keep),
        Case("outputs junit kept when the suite is refused", ["run", "bad.toml", "--junit", "old.xml"], (2,),
             dict(files, **{"bad.toml": "[[case]]\nname = 1\n"}), keep=keep),
        Case("outputs junit kept when a case times out", ["run", "t.toml", "--junit", "old.xml", "--timeout", "0.5"],
             (2,), dict(files, **{"t.toml": "[[case]]\nname = \"t\"\nexpr = " + json.dumps(LONG)
                                  + "\nbindings = { x = [1, 2] }\nvalue = 0\n"}), keep=("s.toml", "x.json", "e.py")),
        Case("outputs junit missing folder", ["run", "s.toml", "--junit", "no/j.xml"], (2,), files, keep=keep),
        Case("outputs junit folder", ["run", "s.toml", "--junit", "sub"], (2,), files,
             lambda d: os.mkdir(os.path.join(d, "sub")), keep=keep),
        Case("outputs junit dev full", ["run", "s.toml", "--junit", "/dev/full"], (2,), files, keep=keep),
        Case("outputs junit fifo", ["run", "s.toml", "--junit", "p.xml"], (2,), files,
             lambda d: _fifo(d, "p.xml"), keep=keep),
        Case("outputs junit through a file", ["run", "s.toml", "--junit", "x.json/j.xml"], (2,), files, keep=keep),
        Case("outputs out onto the expression file", ["eval", "@e.py", "x=[1,2]", "--out", "e.py"], (2,), files,
             keep=keep),
        Case("outputs out onto the binding file", ["eval", "@e.py", "x=@x.json", "--out", "x.json"], (2,), files,
             keep=keep),
        Case("outputs out onto a link to the binding", ["eval", "@e.py", "x=@x.json", "--out", "l.json"], (2,), files,
             _link("x.json", "l.json"), keep=keep),
        Case("outputs out twice", ["eval", "@e.py", "x=[1,2]", "--out", "a.npy", "--out", "a.npy"], (2,), files,
             keep=keep),
        Case("outputs out kept when refused", ["eval", "@e.py", "x=[1,'a']", "--out", "old.npy"], (2,), files,
             keep=keep),
        Case("outputs out kept when strict refuses", ["eval", "log(x).sum()", "x=[-1,2]", "--strict", "--out",
                                                       "old.npy"], (2,), files, keep=keep),
        Case("outputs graph out onto the expression", ["graph", "@e.py", "x=[1,2]", "--dot", "--out", "e.py"], (2,),
             files, keep=keep),
        Case("outputs out onto the v file", ["vjp", "x * 2", "x=[1,2]", "--v", "@x.json", "--out", "x.json"], (2,),
             files, keep=keep),
        Case("outputs plot onto the binding", ["eval", "@e.py", "x=@x.json", "--plot", "x.json"], (2,), files,
             keep=keep),
        Case("outputs junit and plot the same", ["eval", "@e.py", "x=[1,2]", "--plot", "o.png", "--out", "o.png"],
             (2,), files, keep=keep),
    ]
    return c


def all_cases() -> list:
    return constant_cases() + program_cases() + suite_cases() + output_cases()


# --- running -------------------------------------------------------------------------------------------------------


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
    os.setsid()


def run_case(case: Case, d: str, timeout: float, root: str):
    env = dict(os.environ, PYTHONPATH=root, COLUMNS="100")
    env.pop("JAC_DEBUG", None)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    stop = threading.Event()
    thread = threading.Thread(target=case.during, args=(d, stop), daemon=True) if case.during else None
    if thread:
        thread.start()
    start = time.monotonic()
    p = subprocess.Popen([PY, "-m", "jacobi_cli", *case.argv], cwd=d, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, env=env, preexec_fn=_limits)
    rc, cpu = None, 0.0
    while time.monotonic() - start < timeout:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc, cpu = os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
            p.returncode = rc
            break
        time.sleep(0.02)
    if rc is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.wait()
    stop.set()
    if thread:
        thread.join()
    out.seek(0)
    err.seek(0)
    return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), cpu


def _snapshot(d: str, names) -> dict:
    found = {}
    for name in names:
        with contextlib.suppress(OSError):
            with open(os.path.join(d, name), "rb") as f:
                found[name] = f.read()
    return found


def _message_ok(case: Case, rc: int, stdout: str, stderr: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.startswith("jac: error")]
    if BIDI in stdout + stderr and "--json" not in case.argv:
        return False
    if case.argv[0] == "run" and rc == 2 and not lines:  # a case's error: the report says which and why
        if "--json" in case.argv:
            with contextlib.suppress(ValueError):
                report = json.loads(stdout)
                return all(c["error"] and c["error"]["message"] for c in report["cases"] if c["status"] == "error")
            return False
        return "error" in stdout
    if rc != 2:
        return True
    if len(lines) != 1 or not stderr.startswith("jac: error"):
        return False
    if "--json" in case.argv:
        with contextlib.suppress(ValueError):
            return "error" in json.loads(stdout)
        return False
    return True


def classify(case, rc, stdout, stderr, cpu, d, before, listing) -> list:
    if rc is None:
        return ["HANG"]
    found = []
    if "Traceback (most recent call last)" in stderr or rc not in (0, 1, 2):
        found.append("TRACEBACK")
    if cpu > case.cpu:
        found.append("SLOW")
    if rc in (0, 1, 2) and rc not in case.expect:
        found.append("EXIT")
    if not _message_ok(case, rc, stdout, stderr):
        found.append("MESSAGE")
    with open(os.path.join(d, "keep.txt")) as f:
        if f.read() != "keep me\n":
            found.append("FILE")
    if _snapshot(d, case.keep) != before:
        found.append("FILE")
    stray = set(os.listdir(d)) - listing
    if any(name.endswith(".tmp") for name in stray):
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
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("-v", action="store_true", help="print every case")
    fuzzkit.add_part_flags(parser, verbose=False)
    parser.add_argument("--root", default=ROOT, help="the jac source tree to run (another worktree: a before count)")
    args = parser.parse_args()
    cases = fuzzkit.part_of([c for c in all_cases() if any(k in c.name for k in args.k.split("|"))], args.part, args.sample)
    counts, bad = Counter(), []
    started = time.monotonic()
    d = tempfile.mkdtemp(prefix="hostile39_")
    try:
        for case in cases:
            _clear(d)
            with open(os.path.join(d, "keep.txt"), "w") as f:
                f.write("keep me\n")
            for name, text in case.files.items():
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    f.write(text)
            if case.setup:
                case.setup(d)
            before, listing = _snapshot(d, case.keep), set(os.listdir(d))
            rc, stdout, stderr, cpu = run_case(case, d, args.timeout, args.root)
            found = classify(case, rc, stdout, stderr, cpu, d, before, listing)
            counts.update(found)
            line = f"{'/'.join(found):10} rc={rc} cpu={cpu:5.1f}s  {case.name}"
            if found != ["OK"]:
                bad.append(line + "\n    " + (stderr.strip().splitlines() or [""])[-1][:300])
            if args.v:
                print(line, flush=True)
    finally:
        _clear(d)
        os.rmdir(d)
    for line in bad:
        print(line)
    print(f"{len(cases)} cases in {time.monotonic() - started:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
