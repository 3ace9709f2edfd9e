"""Session 40 (h40-newcomer): the mistakes a newcomer makes in the first hour, through the command line and the
Python API, and every message judged.

Command lines (about 190; through the entry point in this process, or each in a subprocess with
``--subprocesses``; standard input's cases always in a subprocess): wrong binding syntax (``x=1,2`` is fine, ``x:3`` vs ``x=[..]``, ``x = 1``), PyTorch calls
with keyword arguments, NumPy programs pasted with imports and prints, a ``def f(x): ...`` pasted whole, shapes as
``(3,)``, files without ``@``, ``--wrt`` naming a missing input, ``jac vjp`` without ``--v``, suites with a typo in a
key, Windows paths, a non-UTF-8 file, a very long line, typos of commands and options. Each is run in a subprocess
(timeout 60 s); for each failing run the probe prints the exit code, the message's length and lines, and flags:

  TRACEBACK   a Python traceback on stderr
  EMPTY       exit != 0 and no message
  LONG        a message of more than 3 lines (a caret line and the line it points into not counted)
  INTERNAL    a Python class name (AttributeError, NoneType, ndarray, ...) or an op name with an underscore the user
              never typed (``svd_zero``)
  NOCARET     an expression error (kind parse / name / shape) with a position, but no caret drawn
  NOHINT      no next step: no "did you mean", "write", "give", "use", "pass", "add", "e.g.", "such as", ...
  EXIT        an exit code other than 0 / 1 / 2 for bad input (a crash is 70 or 1 with a traceback)

API calls (about 60): each public function's bad arguments (wrong types, unknown names, object arrays, tensors, CLI
strings where the API takes lists); flagged as above, plus

  CLIWORDS    the message names a command-line option (``--wrt``, ``--v``, ``--tangent``, ``--order``,
              ``--max-memory``, ``--batch``, ``--dtype``, ``--seed``) where the caller used a keyword argument
  RAISED      a Python exception other than JacError (a traceback for a program)

    PYTHONPATH=. python benchmarks/newcomer40_probe.py             # this checkout
    python benchmarks/newcomer40_probe.py --jac /work/main          # another checkout ("before")
    ... --only api | cli, --verbose (every message)
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

PY = sys.executable
LONG_LINE = "x" + " + x" * 6000


def cli_cases(d: str) -> list:
    """(label, argv, stdin) of the command lines a newcomer types; ``d`` a directory of files made for them."""
    f = lambda name: os.path.join(d, name)  # noqa: E731
    c = [
        # bindings
        ("binding comma", ["eval", "sum(x)", "x=1,2"]),
        ("binding colon values", ["eval", "sum(x)", "x:[1,2]"]),
        ("binding colon tuple shape", ["eval", "sum(x)", "x:(3,)"]),
        ("binding eq tuple shape", ["eval", "sum(x)", "x=(3,)"]),
        ("binding shape tuple 2d", ["eval", "sum(A)", "A:(2,3)"]),
        ("binding shape comma", ["eval", "sum(A)", "A:2,3"]),
        ("binding shape star", ["eval", "sum(A)", "A:2*3"]),
        ("binding shape X upper", ["eval", "sum(A)", "A:2X3"]),
        ("binding shape negative", ["eval", "sum(x)", "x:-3"]),
        ("binding shape float", ["eval", "sum(x)", "x:2.5"]),
        ("binding shape letter", ["eval", "sum(x)", "x:n"]),
        ("binding spaces", ["eval", "sum(x)", "x", "=", "[1,2]"]),
        ("binding space after eq", ["eval", "sum(x)", "x=", "[1,2]"]),
        ("binding double eq", ["eval", "sum(x)", "x==1"]),
        ("binding colon eq", ["eval", "sum(x)", "x:=1"]),
        ("binding unclosed", ["eval", "sum(x)", "x=[1,2"]),
        ("binding ragged", ["eval", "sum(x)", "x=[[1,2],[3]]"]),
        ("binding string", ["eval", "sum(x)", "x='abc'"]),
        ("binding complex", ["eval", "sum(x)", "x=1+2j"]),
        ("binding nan", ["eval", "sum(x)", "x=nan"]),
        ("binding None", ["eval", "sum(x)", "x=None"]),
        ("binding True", ["eval", "x * 2", "x=True"]),
        ("binding missing", ["eval", "x * y", "x=1"]),
        ("binding extra", ["eval", "x * 2", "x=1", "y=2"]),
        ("binding twice", ["eval", "x * 2", "x=1", "x=2"]),
        ("binding bad name", ["eval", "x * 2", "2x=1"]),
        ("binding dotted", ["eval", "x * 2", "x.y=1"]),
        ("binding semicolon", ["eval", "x * y", "x=1;y=2"]),
        ("binding json style", ["eval", "x * 2", '{"x": 1}']),
        ("binding torch.tensor kw", ["eval", "sum(x)", "x=torch.tensor([1.0, 2.0], requires_grad=True)"]),
        ("binding np.array dtype", ["eval", "sum(x)", "x=np.array([1, 2], dtype=np.float32)"]),
        ("binding torch.randn", ["eval", "sum(x)", "x=torch.randn(3)"]),
        ("binding randn tuple", ["eval", "sum(x)", "x=randn((2, 3))"]),
        ("binding np.random", ["eval", "sum(x)", "x=np.random.randn(3)"]),
        ("binding huge", ["eval", "sum(x)", "x=ones(10**12)"]),
        ("binding huge shape", ["eval", "sum(x)", "x:100000x100000"]),
        ("binding var ref", ["eval", "x + y", "x=1", "y=x+1"]),
        ("binding call unknown", ["eval", "sum(x)", "x=foo(3)"]),
        ("binding dash", ["eval", "sum(x)", "-x=1"]),
        ("binding unicode minus", ["eval", "x * 2", "x=\u22121"]),
        ("binding fullwidth", ["eval", "x * 2", "x=\uff11"]),
        # files
        ("file without @", ["eval", "sum(x)", "x=" + f("x.npy")]),
        ("file without @ csv", ["eval", "sum(x)", "x=" + f("x.csv")]),
        ("file missing", ["eval", "sum(x)", "x=@" + f("nope.npy")]),
        ("file windows path", ["eval", "sum(x)", "x=@C:\\Users\\me\\x.npy"]),
        ("file windows path fwd", ["eval", "sum(x)", "x=@C:/Users/me/x.npy"]),
        ("file non-utf8 csv", ["eval", "sum(x)", "x=@" + f("latin1.csv")]),
        ("file non-utf8 expr", ["eval", "@" + f("latin1.py"), "x=1"]),
        ("file expr missing", ["eval", "@" + f("missing.py")]),
        ("file expr dir", ["eval", "@" + d]),
        ("file empty expr", ["eval", "@" + f("empty.py")]),
        ("file binary", ["eval", "sum(x)", "x=@" + f("binary.bin")]),
        ("file txt bad", ["eval", "sum(x)", "x=@" + f("bad.txt")]),
        ("file json bad", ["eval", "sum(x)", "x=@" + f("bad.json")]),
        ("file pickle npy", ["eval", "sum(x)", "x=@" + f("obj.npy")]),
        ("file ext unknown", ["eval", "sum(x)", "x=@" + f("x.dat")]),
        ("file crlf expr", ["eval", "@" + f("crlf.py"), "x=[1,2]"]),
        ("file bom expr", ["eval", "@" + f("bom.py"), "x=[1,2]"]),
        ("expr as path no @", ["eval", f("prog.py"), "x=[1,2]"]),
        ("expr windows path no @", ["eval", "C:\\work\\prog.py"]),
        # expressions
        ("expr empty", ["eval", "", "x=1"]),
        ("expr spaces", ["eval", "   ", "x=1"]),
        ("expr syntax", ["eval", "sin(x", "x=1"]),
        ("expr syntax2", ["eval", "x +* 2", "x=1"]),
        ("expr unknown fn", ["eval", "sinn(x)", "x=1"]),
        ("expr unknown torch", ["eval", "torch.sine(x)", "x=1"]),
        ("expr unknown np", ["eval", "np.sine(x)", "x=1"]),
        ("expr unknown method", ["eval", "x.summ()", "x=[1,2]"]),
        ("expr caret ^", ["eval", "x^2", "x=[1,2]"]),
        ("expr math.sin", ["eval", "math.sin(x)", "x=1"]),
        ("expr math.sin array", ["eval", "math.sin(x)", "x=[1,2]"]),
        ("expr shape mismatch", ["eval", "x + y", "x=[1,2]", "y=[1,2,3]"]),
        ("expr matmul mismatch", ["eval", "A @ x", "A:2x3", "x:2"]),
        ("expr dot mismatch", ["eval", "torch.dot(x, y)", "x:3", "y:4"]),
        ("expr torch kw dim", ["eval", "torch.sum(x, dim=0)", "x:2x3"]),
        ("expr torch kw axis", ["eval", "torch.sum(x, axis=0)", "x:2x3"]),
        ("expr np kw dim", ["eval", "np.sum(x, dim=0)", "x:2x3"]),
        ("expr kw unknown", ["eval", "torch.sum(x, dims=0)", "x:2x3"]),
        ("expr kw keepdims", ["eval", "torch.sum(x, dim=0, keepdims=True)", "x:2x3"]),
        ("expr kw bad axis", ["eval", "torch.sum(x, dim=2)", "x:2x3"]),
        ("expr softmax no dim", ["eval", "torch.softmax(x)", "x:3"]),
        ("expr F.softmax no dim", ["eval", "F.softmax(x)", "x:3"]),
        ("expr mse kw", ["eval", "F.mse_loss(x, y, reduction='avg')", "x:3", "y:3"]),
        ("expr reshape bad", ["eval", "x.reshape(2, 2)", "x:3"]),
        ("expr view bad", ["eval", "x.view(4)", "x:3"]),
        ("expr index oob", ["eval", "x[5]", "x:3"]),
        ("expr too many idx", ["eval", "x[0, 0]", "x:3"]),
        ("expr float idx", ["eval", "x[1.5]", "x:3"]),
        ("expr lambda", ["eval", "lambda x: x**2", "x=1"]),
        ("expr def whole", ["eval", "def f(x):\n    return x**2", "x=1"]),
        ("expr def and call", ["eval", "def f(x):\n    return x**2\nf(x)", "x=1"]),
        ("expr def one line", ["eval", "def f(x): return x**2", "x=1"]),
        ("expr def indented", ["eval", "  y = x**2\n  y", "x=1"]),
        ("expr numpy program", ["eval", "import numpy as np\nx = np.array([1.0, 2.0])\ny = np.sin(x)\nprint(y.sum())"]),
        ("expr torch program print", ["eval", "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                                               "y = (x**2).sum()\nprint(y)"]),
        ("expr torch program backward", ["vjp", "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                                                 "y = (x**2).sum()\ny.backward()\nprint(x.grad)"]),
        ("expr import os", ["eval", "import os\nos.system('ls')"]),
        ("expr open file", ["eval", "open('/etc/passwd').read()"]),
        ("expr dunder", ["eval", "x.__class__", "x=1"]),
        ("expr eval call", ["eval", "eval('1+1')"]),
        ("expr exec", ["eval", "exec('x=1')"]),
        ("expr f-string", ["eval", "f'{x}'", "x=1"]),
        ("expr string literal", ["eval", "'hello'"]),
        ("expr assignment only", ["eval", "y = x * 2", "x=1"]),
        ("expr walrus", ["eval", "(y := x * 2)", "x=1"]),
        ("expr while true", ["eval", "while True:\n    x = x + 1\nx", "x=1"]),
        ("expr huge power", ["eval", "x ** 10 ** 10", "x=2"]),
        ("expr int overflow", ["eval", "2 ** 10000 * x", "x=1"]),
        ("expr deep parens", ["eval", "(" * 300 + "x" + ")" * 300, "x=1"]),
        ("expr long line", ["eval", LONG_LINE, "x=1"]),
        ("expr long bad line", ["eval", LONG_LINE + " +", "x=1"]),
        ("expr long unknown tail", ["eval", LONG_LINE + " + zz", "x=1"]),
        ("expr tabs", ["eval", "x\t*\t2", "x=1"]),
        ("expr unicode op", ["eval", "x \u00d7 2", "x=1"]),
        ("expr unicode minus", ["eval", "x \u2212 2", "x=1"]),
        ("expr smart quotes", ["eval", "torch.sum(x, dim=\u20180\u2019)", "x:2x3"]),
        ("expr greek name", ["eval", "\u03b8 * 2", "\u03b8=1"]),
        ("expr requires_grad kw", ["eval", "torch.tensor([1.0, 2.0], requires_grad=True).sum()"]),
        ("expr nondiff", ["eval", "argmax(x)", "x:3"]),
        ("expr int result", ["eval", "x > 0", "x:3"]),
        ("expr item", ["eval", "x.sum().item() * x", "x:3"]),
        ("expr numpy()", ["eval", "x.numpy() * 2", "x:3"]),
        ("expr dash first", ["eval", "-x", "x=1"]),
        ("expr no inputs", ["eval", "2 + 3"]),
        ("expr missing", ["eval"]),
        ("expr only binding", ["eval", "x=1"]),
        ("expr binding first", ["eval", "x=[1,2]", "sum(x)"]),
        ("expr shell glob", ["eval", "x", "*", "2", "x=1"]),
        # options
        ("wrt missing input", ["eval", "x * y", "x=1", "y=2", "--wrt", "z"]),
        ("wrt comma", ["eval", "x * y", "x=1", "y=2", "--wrt", "x,y"]),
        ("wrt no value", ["eval", "x * y", "x=1", "y=2", "--wrt"]),
        ("wrt typo", ["eval", "xx * y", "xx=1", "y=2", "--wrt", "x"]),
        ("wrt eq", ["eval", "x * y", "x=1", "y=2", "--wrt=x"]),
        ("wrt shape", ["eval", "x * y", "x=1", "y=2", "--wrt", "x:3"]),
        ("vjp no v", ["vjp", "x * 2", "x=[1,2]"]),
        ("vjp v shape", ["vjp", "x * 2", "x=[1,2]", "--v", "[1,2,3]"]),
        ("vjp v bad", ["vjp", "x * 2", "x=[1,2]", "--v", "[1,"]),
        ("vjp v name", ["vjp", "x * 2", "x=[1,2]", "--v", "y=[1,2]"]),
        ("vjp v shape syntax", ["vjp", "x * 2", "x=[1,2]", "--v", ":2"]),
        ("vjp tangent", ["vjp", "x * 2", "x=[1,2]", "--tangent", "x=[1,2]"]),
        ("jvp no tangent", ["jvp", "x * 2", "x=[1,2]"]),
        ("jvp tangent no name", ["jvp", "x * 2", "x=[1,2]", "--tangent", "[1,0]"]),
        ("jvp tangent unknown", ["jvp", "x * 2", "x=[1,2]", "--tangent", "z=[1,0]"]),
        ("jvp tangent shape", ["jvp", "x * 2", "x=[1,2]", "--tangent", "x=[1,0,0]"]),
        ("jvp v", ["jvp", "x * 2", "x=[1,2]", "--v", "[1,0]"]),
        ("derivative two inputs", ["derivative", "x * y", "x=1", "y=2", "--order", "2"]),
        ("derivative order 0", ["derivative", "x ** 3", "x=1", "--order", "0"]),
        ("derivative order text", ["derivative", "x ** 3", "x=1", "--order", "two"]),
        ("hessian no inputs", ["hessian", "2 + 3"]),
        ("shape values", ["shape", "sum(x)", "x=[1,2]"]),
        ("shape tuple", ["shape", "A @ x", "A:(2,3)", "x:(3,)"]),
        ("shape mismatch", ["shape", "A @ x", "A:2x3", "x:2"]),
        ("diff wrt missing", ["diff", "x**2", "--wrt", "y"]),
        ("diff no wrt two", ["diff", "x*y"]),
        ("diff numpy", ["diff", "np.sin(x)", "--wrt", "x"]),
        ("dtype float16", ["eval", "x * 2", "x=1", "--dtype", "float16"]),
        ("dtype typo", ["eval", "x * 2", "x=1", "--dtype", "flaot32"]),
        ("dtype torch", ["eval", "x * 2", "x=1", "--dtype", "torch.float32"]),
        ("seed negative", ["eval", "sum(x)", "x:3", "--seed", "-1"]),
        ("seed text", ["eval", "sum(x)", "x:3", "--seed", "abc"]),
        ("layout typo", ["eval", "x * 2", "x=1", "--layout", "denominator"]),
        ("mode typo", ["eval", "x * 2", "x=1", "--mode", "backward"]),
        ("max-memory bad", ["eval", "x * 2", "x=1", "--max-memory", "lots"]),
        ("max-memory tiny", ["eval", "x * 2", "x:1000", "--max-memory", "100"]),
        ("out bad ext", ["eval", "x * 2", "x=1", "--out", f("out.txt")]),
        ("out dir missing", ["eval", "x * 2", "x=1", "--out", f("nodir/out.npy")]),
        ("option typo", ["eval", "x * 2", "x=1", "--jsn"]),
        ("option single dash", ["eval", "x * 2", "x=1", "-json"]),
        ("option em dash", ["eval", "x * 2", "x=1", "\u2014json"]),
        ("option other cmd", ["eval", "x * 2", "x=1", "--order", "2"]),
        ("command typo", ["evl", "x * 2", "x=1"]),
        ("command grad", ["grad", "x * 2", "x=1"]),
        ("command jacobian", ["jacobian", "x * 2", "x=1"]),
        ("batch missing", ["eval", "x * 2", "x=[[1,2]]", "--batch", "z"]),
        ("batch axis", ["eval", "x * 2", "x=[[1,2]]", "--batch", "x:5"]),
        ("check tol text", ["check", "sin(x)", "x=1", "--rtol", "abc"]),
        ("json missing input", ["eval", "x * y", "x=1", "--json"]),
        ("json syntax", ["eval", "x +", "x=1", "--json"]),
        # suites
        ("run typo key", ["run", f("typo.toml")]),
        ("run typo case key", ["run", f("typo2.toml")]),
        ("run missing", ["run", f("nope.toml")]),
        ("run bad toml", ["run", f("bad.toml")]),
        ("run json", ["run", f("x.npy")]),
        ("run without file", ["run"]),
        ("run expr given", ["run", "sin(x)"]),
        ("help eval", ["eval", "--help"]),
        ("schema typo", ["schema", "evl"]),
        ("completion typo", ["completion", "powershell"]),
    ]
    return [(label, argv, None) for label, argv in c] + [
        ("stdin empty", ["eval", "-", "x=1"], ""),
        ("stdin program", ["eval", "-", "x=[1,2]"], "import numpy as np\ny = np.sin(x)\nprint(y)\n"),
        ("stdin binary", ["eval", "-", "x=1"], "\udcff"),
    ]


def make_files(d: str) -> None:
    import numpy as np
    np.save(os.path.join(d, "x.npy"), np.arange(3.0))
    np.save(os.path.join(d, "obj.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
    w = lambda name, data, mode="w": open(os.path.join(d, name), mode).write(data)  # noqa: E731
    w("x.csv", "1,2,3\n")
    w("latin1.csv", "1,2,3 # caf\xe9\n".encode("latin-1"), "wb")
    w("latin1.py", "# caf\xe9\nx * 2\n".encode("latin-1"), "wb")
    w("empty.py", "")
    w("binary.bin", bytes(range(256)), "wb")
    w("bad.txt", "1 2\n3\n")
    w("bad.json", "{x: 1")
    w("x.dat", "1 2 3")
    w("crlf.py", "y = x * 2\r\ny.sum()\r\n")
    w("bom.py", "\ufeffy = x * 2\ny.sum()\n")
    w("prog.py", "y = x * 2\ny.sum()\n")
    w("typo.toml", '[[case]]\nname = "a"\nexpr = "sin(x)"\nbindings = { x = "1.0" }\njacobain = { x = 0.54 }\n')
    w("typo2.toml", '[[cases]]\nname = "a"\nexpr = "sin(x)"\n')
    w("bad.toml", '[[case]\nname = "a"\n')


class _Late(BaseException):
    """A case past its time (in-process runs)."""


def run_in_process(argv) -> tuple:
    """``jac ARGV`` through the entry point in this process (no interpreter start-up per case: about 50 times
    faster on a loaded machine), with a 60 s alarm; its exit code, stdout and stderr."""
    import contextlib
    import io
    import signal

    from jacobi_cli.cli import entry

    out, err = io.StringIO(), io.StringIO()

    def late(*_):
        raise _Late()

    old = signal.signal(signal.SIGALRM, late)
    signal.alarm(60)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = entry.main(list(argv))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 2
    except _Late:
        return 124, out.getvalue(), "TIMEOUT"
    except Exception:  # noqa: BLE001 - what escapes the entry point is what the probe counts
        import traceback
        return 70, out.getvalue(), err.getvalue() + traceback.format_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return code, out.getvalue(), err.getvalue()


def run_cli(argv, stdin, jac_root: str, subprocesses: bool = False) -> tuple:
    if stdin is None and not subprocesses:
        return run_in_process(argv)
    env = dict(os.environ, PYTHONPATH=jac_root, COLUMNS="100", NO_COLOR="1")
    data = None if stdin is None else stdin.encode("utf-8", "surrogateescape")
    try:
        p = subprocess.run([PY, "-m", "jacobi_cli", *argv], input=data, capture_output=True, timeout=60, env=env,
                           stdin=None if data is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return 124, "", "TIMEOUT"
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


CLASS_WORDS = re.compile(r"\b(\w+Error|NoneType|ndarray|object has no attribute|Traceback|builtin_function|"
                         r"<class|<function|KeyError|dict_keys|numpy\.\w+\b(?=\s*object)|_Lowering|Builder|Node\b)")
HINT_WORDS = re.compile(r"did you mean|\bwrite\b|\bgive\b|\buse\b|\bpass\b|\badd\b|e\.g\.|such as|\binstead\b|"
                        r"\bname one\b|\bdrop\b|\bquote\b|\braise\b|\bcall\b|\bput\b|accepted|one of|\btry\b|"
                        r"\bkeys?\b.*\b(are|is)\b|see |\brun\b|\bset\b|\bcompile it\b|\bmust\b|\bexpected\b|\b(in|out)puts: |\bare a dict\b|\bTrue or False\b",
                        re.I)
CLI_OPTIONS = re.compile(r"--(wrt|v|tangent|order|max-memory|batch|dtype|seed|mode|layout)\b")


def op_names() -> set:
    from jacobi_cli.ir.ops import OPS
    return {n for n in OPS if "_" in n}


def message_lines(text: str) -> list:
    """The message's lines without the caret line and the line it points into."""
    lines = text.strip("\n").splitlines()
    out = []
    for ln in lines:
        if ln.strip() and set(ln.strip()) <= set("^~"):
            if out:
                out.pop()
            continue
        out.append(ln)
    return [ln for ln in out if ln.strip()]


def judge(text: str, code: int, typed: str, ops: set, api: bool = False, kind: str | None = None,
          position=None) -> list:
    flags = []
    if "Traceback" in text:
        flags.append("TRACEBACK")
    if code not in (0, 1, 2, 130, None):
        flags.append("EXIT")
    if code not in (0, None) and not text.strip():
        flags.append("EMPTY")
        return flags
    if code == 0:
        return flags
    lines = message_lines(text)
    if len(lines) > 3:
        flags.append("LONG")
    internal = CLASS_WORDS.search(text)
    leaked = [w for w in re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b", text) if w in ops and w not in typed]
    if internal or leaked:
        flags.append("INTERNAL")
    if not HINT_WORDS.search(text):
        flags.append("NOHINT")
    if api and CLI_OPTIONS.search(text):
        flags.append("CLIWORDS")
    if not api and kind in ("parse", "name", "shape") and position is not None and "^" not in text:
        flags.append("NOCARET")
    return flags


def probe_cli(jac_root: str, verbose: bool, subprocesses: bool = False) -> collections.Counter:
    import json
    counts = collections.Counter()
    ops = op_names()
    os.environ.update(COLUMNS="100", NO_COLOR="1")  # as the subprocesses get them
    with tempfile.TemporaryDirectory() as d:
        make_files(d)
        cases = cli_cases(d)
        for label, argv, stdin in cases:
            code, out, err = run_cli(argv, stdin, jac_root, subprocesses)
            kind = position = None
            if code == 2 and "--json" in argv:
                try:
                    e = json.loads(out)["error"]
                    kind, position = e["kind"], e["position"]
                except (ValueError, KeyError, TypeError):
                    counts["json_broken"] += 1
            elif code == 2:  # the same line again with --json, for the kind and position
                if argv and argv[0] in ("eval", "vjp", "jvp", "hessian", "derivative", "shape", "check", "graph"):
                    c2, out2, _ = run_cli(argv + ["--json"], stdin, jac_root, subprocesses)
                    try:
                        e = json.loads(out2)["error"]
                        kind, position = e["kind"], e["position"]
                    except (ValueError, KeyError, TypeError):
                        pass
            text = err if code != 0 else ""
            typed = " ".join(argv) + (stdin or "")
            flags = judge(text, code, typed, ops, kind=kind, position=position)
            if label.startswith("help") and code == 0:
                flags = []
            counts["cli"] += 1
            counts[f"exit {code}"] += 1
            counts["caret"] += "^" in text
            counts["hint"] += bool(text) and bool(HINT_WORDS.search(text))
            for fl in flags:
                counts["cli " + fl] += 1
            lines = message_lines(text)
            if flags or verbose:
                first = lines[0][:150] if lines else ""
                print(f"cli  {label:30} exit {code:3} len {len(text):5} lines {len(lines)} {' '.join(flags)}: "
                      f"{first}")
    return counts


def api_cases():
    import numpy as np
    import jacobi_cli
    from jacobi_cli.tools import api
    b = {"x": [1.0, 2.0], "y": [3.0, 4.0]}
    cases = [
        ("evaluate unknown input", lambda: api.evaluate("x * y", {"x": [1.0]})),
        ("evaluate syntax", lambda: api.evaluate("x +", {"x": 1.0})),
        ("evaluate bindings list of numbers", lambda: api.evaluate("x", [1, 2])),
        ("evaluate bindings str", lambda: api.evaluate("x * 2", "x=[1, 2]")),
        ("evaluate bindings tuple", lambda: api.evaluate("x * 2", ("x", 1))),
        ("evaluate bindings set", lambda: api.evaluate("x * 2", {"x=1"})),
        ("evaluate expr int", lambda: api.evaluate(3, {"x": 1})),
        ("evaluate expr bytes", lambda: api.evaluate(b"x * 2", {"x": 1})),
        ("evaluate value None", lambda: api.evaluate("x", {"x": None})),
        ("evaluate value dict", lambda: api.evaluate("x", {"x": {"a": 1}})),
        ("evaluate value str list", lambda: api.evaluate("x", {"x": ["1", "2"]})),
        ("evaluate object array", lambda: api.evaluate("x", {"x": np.array([1, "a"], dtype=object)})),
        ("evaluate object numbers", lambda: api.evaluate("sum(x)", {"x": np.array([1, 2.5], dtype=object)})),
        ("evaluate complex", lambda: api.evaluate("x", {"x": np.array([1 + 2j])})),
        ("evaluate name int", lambda: api.evaluate("x", {1: 2})),
        ("evaluate name with space", lambda: api.evaluate("x", {"x y": 2})),
        ("evaluate dtype", lambda: api.evaluate("x", {"x": 1}, dtype="float16")),
        ("evaluate seed", lambda: api.evaluate("x", {"x": ":3"}, seed=-1)),
        ("evaluate bad shape string", lambda: api.evaluate("x", {"x": ":(3,)"})),
        ("evaluate value string bad", lambda: api.evaluate("x", {"x": "[1, 2"})),
        ("jacobian wrt missing", lambda: api.jacobian("x * y", b, wrt=["z"])),
        ("jacobian wrt str", lambda: api.jacobian("x * xy", {"x": [1.0], "xy": [2.0]}, wrt="xy")),
        ("jacobian wrt int", lambda: api.jacobian("x * y", b, wrt=[1])),
        ("jacobian wrt comma", lambda: api.jacobian("x * y", b, wrt=["x,y"])),
        ("jacobian wrt empty", lambda: api.jacobian("x * y", b, wrt=[""])),
        ("jacobian wrt space", lambda: api.jacobian("x * y", b, wrt=[" x"])),
        ("jacobian wrt dict", lambda: api.jacobian("x * y", b, wrt={"x": 1})),
        ("jacobian layout", lambda: api.jacobian("x", {"x": [1.0]}, layout="denominator")),
        ("jacobian mode", lambda: api.jacobian("x", {"x": [1.0]}, mode="rev")),
        ("jacobian max_memory text", lambda: api.jacobian("x", {"x": [1.0]}, max_memory="lots")),
        ("jacobian max_memory tiny", lambda: api.jacobian("x", {"x": np.ones(1000)}, max_memory=100)),
        ("jacobian batch missing", lambda: api.jacobian("x", {"x": [1.0, 2.0]}, batch=["z"])),
        ("jacobian batch str", lambda: api.jacobian("x * 2", {"x": [[1.0, 2.0]]}, batch="x")),
        ("jacobian structured str", lambda: api.jacobian("x", {"x": [1.0]}, structured="no")),
        ("vjp no v", lambda: api.vjp("x * y", b)),
        ("vjp v shape", lambda: api.vjp("x * y", b, v=[1.0, 2.0, 3.0])),
        ("vjp v text bad", lambda: api.vjp("x * y", b, v="[1, 2")),
        ("vjp v object", lambda: api.vjp("x * y", b, v=np.array([1, "a"], dtype=object))),
        ("vjp v None list", lambda: api.vjp("x * y", b, v=[None, 1.0])),
        ("vjp several no v", lambda: api.vjp("a = x * y; a, x", b)),
        ("vjp several v key", lambda: api.vjp("a = x * y; a, x", b, v={"q": [1.0, 2.0]})),
        ("vjp wrt missing", lambda: api.vjp("sum(x * y)", b, wrt=["z"])),
        ("jvp tangent unknown", lambda: api.jvp("x * y", b, {"z": [1.0, 0.0]})),
        ("jvp tangent shape", lambda: api.jvp("x * y", b, {"x": [1.0, 0.0, 3.0]})),
        ("jvp tangents list", lambda: api.jvp("x * y", b, [1.0, 0.0])),
        ("jvp tangent text bad", lambda: api.jvp("x * y", b, {"x": "[1, "})),
        ("jvp tangent object", lambda: api.jvp("x * y", b, {"x": np.array([1, "a"], dtype=object)})),
        ("hessian wrt missing", lambda: api.hessian("sum(x * y)", b, wrt=["q"])),
        ("hessian max_memory negative", lambda: api.hessian("sum(x)", {"x": [1.0]}, max_memory=-5)),
        ("derivative two inputs", lambda: api.derivative("sum(x * y)", b)),
        ("derivative order 0", lambda: api.derivative("sum(x)", {"x": [1.0, 2.0]}, order=0)),
        ("derivative order str", lambda: api.derivative("sum(x)", {"x": [1.0, 2.0]}, order="2")),
        ("plan mode", lambda: api.plan("x", {"x": [1.0]}, mode="fwd")),
        ("diff wrt missing", lambda: api.diff("x**2", wrt=["y"])),
        ("diff at bad", lambda: api.diff("x**2", at={"x": "[1,"})),
        ("diff at object", lambda: api.diff("x**2", at={"x": np.array(["a"], dtype=object)})),
        ("compile shape", lambda: jacobi_cli.compile("x * 2", {"x": ":3"}).jacobian({"x": np.ones(4)})),
        ("compile missing", lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).value({"x": np.ones(3)})),
        ("compile wrt", lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).jacobian(
            {"x": np.ones(3), "y": np.ones(3)}, wrt=["q"])),
        ("compile vjp no v", lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).vjp(
            {"x": np.ones(3), "y": np.ones(3)})),
        ("compile jvp unknown", lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).jvp(
            {"x": np.ones(3), "y": np.ones(3)}, {"z": np.ones(3)})),
        ("compile object value", lambda: jacobi_cli.compile("x * 2", {"x": ":2"}).value(
            {"x": np.array([1, "a"], dtype=object)})),
    ]
    try:
        import torch
    except ImportError:
        return cases
    cases += [
        ("torch tensor requires_grad", lambda: api.evaluate("sum(x)", {"x": torch.tensor([1.0, 2.0], requires_grad=True)})),
        ("torch complex", lambda: api.evaluate("sum(x)", {"x": torch.tensor([1 + 1j])})),
        ("torch meta", lambda: api.evaluate("sum(x)", {"x": torch.ones(2, device="meta")})),
        ("torch sparse", lambda: api.evaluate("sum(x)", {"x": torch.ones(2).to_sparse()})),
        ("torch v", lambda: api.vjp("x * 2", {"x": [1.0, 2.0]}, v=torch.ones(2))),
        ("torch v sparse", lambda: api.vjp("x * 2", {"x": [1.0, 2.0]}, v=torch.ones(2).to_sparse())),
        ("torch tangent meta", lambda: api.jvp("x * 2", {"x": [1.0, 2.0]}, {"x": torch.ones(2, device="meta")})),
    ]
    return cases


def probe_api(verbose: bool) -> collections.Counter:
    from jacobi_cli.errors import JacError
    counts = collections.Counter()
    ops = op_names()
    for label, call in api_cases():
        counts["api"] += 1
        try:
            got = call()
        except JacError as err:
            text, code = str(err), 2
            flags = judge(text, 2, label, ops, api=True)
            kind = err.kind
        except Exception as err:  # noqa: BLE001 - what the probe counts
            text, code, kind = f"{type(err).__name__}: {err}", 2, "raised"
            flags = ["RAISED"]
        else:
            text, code, kind, flags = repr(got)[:100], 0, "answered", []
        counts["api " + kind] += 1
        for fl in flags:
            counts["api " + fl] += 1
        if flags or verbose:
            print(f"api  {label:30} {kind:9} {' '.join(flags)}: {text.splitlines()[0][:160] if text else ''}")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jac", default=os.getcwd(), help="the checkout whose jacobi_cli is probed")
    ap.add_argument("--only", choices=("api", "cli"))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--subprocesses", action="store_true", help="each command line in its own process (the "
                    "installed way, slow on a loaded machine); default: the entry point in this process")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.jac))
    counts = collections.Counter()
    if args.only != "cli":
        counts += probe_api(args.verbose)
    if args.only != "api":
        counts += probe_cli(os.path.abspath(args.jac), args.verbose, args.subprocesses)
    print("\ncounts:")
    for key in sorted(counts):
        print(f"  {key:24} {counts[key]}")


if __name__ == "__main__":
    main()
