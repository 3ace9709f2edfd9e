"""contract30: the contract's newer sections probed with what a script meets (session 30).

    PYTHONPATH=. /work/venv/bin/python benchmarks/contract30_probe.py [-v]

Every call in this process through ``entry.main`` (as the ``jac`` script runs it), each checked by contract29's
rules (``contract29_sweep.basic``: exit 0/1/2 only, no traceback, exit 2 one message on stderr and, with
``--json``, one error object valid against error.json; exit-0/1 objects valid against their schema), with and
without ``--json``, in a temporary folder holding hostile files:

- hostile targets of every file jac writes (``--out`` of one output, several outputs, a batch; ``--junit``;
  ``jac plot --out``): a folder, a symlink to a folder, a dangling symlink, a symlink loop, a FIFO, devices, a path
  through a file, a missing folder, a wrong suffix, an empty name, ``-``, a name too long, a file in /proc; after
  each, the files there are as they were (a regular file kept byte for byte, a symlink's target rewritten only
  by a run that succeeded) and no temporary file is left;
- impossible option combinations and sizes (batches, several outputs, higher orders, memory, time, suites);
- the last statements the contract's "several outputs" rules read: a tuple of one, empty tuples and lists as the
  output, a part or a leaf, under every command;
- suites of several outputs written from the commands' own --json (eval's values and Jacobians, vjp's grads for
  some outputs' v, jvp's products), for 5 texts (a tuple, a dict, a named tuple, a tuple holding a pytree): jac run
  must pass every expectation, then, one output's value changed, fail that key alone.

Prints each call's exit and first line, the counts, and each deviation; exit 1 if there is one."""
from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract29_sweep as sweep  # noqa: E402

TUPLE = "a = sin(x); b = x.sum(); a, b"
FILES = ["adir", "adir/", "dirlink.json", "dangling.json", "loop.json", "fifo.json", "/dev/full", "/dev/null",
         "keep.json/x.json", "nodir/x.json", "x.txt", "", ".", "-", "x" * 300 + ".json", "/proc/version",
         "/proc/x.json", "link.json", "x.npy", "x.npz", "x.json"]
IMPOSSIBLE = [
    ["derivative", "sin(x)", "x:3", "--order", "0"], ["derivative", "sin(x)", "x:3", "--order", "100000"],
    ["derivative", "sin(x).sum()", "x:3", "y:2", "--order", "2"], ["derivative", "sin(x).sum()", "x:300", "--order", "4"],
    ["hessian", "sin(x).sum()", "x:20000"], ["eval", "sin(x)", "x:1000000000000"],
    ["eval", "sin(x)", "x:99999999999999999999999"], ["eval", "sin(x)", "x:100000", "--max-memory", "1M"],
    ["eval", "sin(x)", "x:3", "--max-memory", "0"], ["eval", "sin(x)", "x:3", "--max-memory", "1e400"],
    ["eval", "sin(x)", "x:3", "--batch", "x:1"], ["eval", "sin(x)", "x:3", "--batch", "x:abc"],
    ["eval", "sin(x)", "x:3", "--batch", "y"], ["eval", "sin(x)", "x:3", "--batch", "x", "--batch", "x"],
    ["eval", "x + y", "x:3x2", "y:4x2", "--batch", "x", "--batch", "y"], ["eval", "sin(x)", "x:0", "--batch", "x"],
    ["shape", "sin(x)", "x:3", "--batch", "x:5"], ["diff", "sin(x)", "x:n", "--batch", "x"],
    ["diff", "sin(x)", "--wrt", "x", "--order", "0"], ["diff", "sin(x)", "--wrt", "x", "--timeout", "-1"],
    ["diff", "sin(x)", "--wrt", "x", "--timeout", "nan"], ["eval", "sin(x)", "x:3", "--dtype", "float16"],
    ["eval", "sin(x)", "x:3", "--seed", "-1"], ["vjp", "sin(x)", "x:3", "--layout", "numerator"],
    ["eval", "sin(x)", "x:3", "--v", "ones"], ["vjp", "sin(x)", "x:3", "--tangent", "x=ones"], ["jvp", "sin(x)", "x:3"],
    ["vjp", TUPLE, "x:3", "--v", "c=1"], ["vjp", TUPLE, "x:3", "--v", "a=1", "--v", "a=1"],
    ["vjp", TUPLE, "x:3", "--v", "[1,2,3]"], ["vjp", TUPLE, "x:3", "--v", "a=[1,2]"],
    ["jvp", TUPLE, "x:3", "--tangent", "x=[1,2]"], ["hessian", TUPLE, "x:3", "--wrt", "z"],
    ["eval", TUPLE, "x:3", "--out", "j.npy"], ["eval", TUPLE, "x:3", "--symbolic"], ["eval", TUPLE, "x:3", "--plot", "p.png"],
    ["plot", TUPLE, "x:3", "--out", "p.png"], ["graph", "sin(x)", "x:3", "--v", "ones"],
    ["graph", "sin(x)", "x:3", "--backward", "--v", "[1,2]"], ["check", "sin(x)", "x:3", "--rtol", "-1"],
    ["check", "sin(x)", "x:3", "--rtol", "nan"], ["check", "sin(x)", "x:3", "--method", "bogus"],
    ["run", "suite.toml", "--shard", "0/3"], ["run", "suite.toml", "--shard", "4/3"], ["run", "suite.toml", "--jobs", "-1"],
    ["run", "suite.toml", "--timeout", "-1"], ["run", "suite.toml", "--max-memory", "0"], ["run", "adir"],
    ["run", "fifo.json"], ["run", "/dev/null"], ["run", "nope.toml"], ["run", "keep.json"], ["run", "several.toml"],
    ["eval", "x", "x=@adir"], ["eval", "x", "x=@fifo.json"], ["eval", "x", "x=@/dev/full"], ["eval", "x", "x=@loop.json"],
    ["eval", "x", "x=@dangling.json"], ["eval", "x", "x=@keep.npy"], ["eval", "@adir"], ["eval", "@fifo.json", "x:3"],
    ["eval", "@loop.json"],
]
LASTS = ["(sin(x).sum(),)", "y = sin(x); (y,)", "(x,)", "(1.0,)", "()", "[]", "y = (); y", "x.sum(), ()", "x.sum(), []",
         "{'a': x.sum(), 'b': ()}", "{'a': [], 'b': x}", "x.sum(), torch.tensor([])", "x.sum(), zeros(0)"]
COMMANDS = {"eval": [], "vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "hessian": [],
            "derivative": ["--order", "2"], "shape": [], "diff": ["--wrt", "x"], "check": [], "graph": []}
SEVERAL_SUITE = ('[[case]]\nname = "c"\nexpr = "a = sin(x); b = (x**2).sum(); a, b"\nbindings = { x = [0.0, 1.0] }\n'
                 'value = [0.0, 1.0]\n')


def calls() -> list:
    found = []
    for f in FILES:
        found += [["eval", "sin(x)", "x:3", "--out", f], ["eval", TUPLE, "x:3", "--out", f],
                  ["eval", "sin(x)", "x:4x3", "--batch", "x", "--out", f], ["run", "suite.toml", "--jobs", "1", "--junit", f],
                  ["plot", "sin(x)", "x:3", "--out", f + ".png" if f else f]]
    found += IMPOSSIBLE
    for command, extra in COMMANDS.items():
        found += [[command, last, "x=[0.5, -1.25]", *extra] for last in LASTS]
    return found


def setup(folder: str) -> None:
    os.chdir(folder)
    os.mkdir("adir")
    for name in ("keep.json", "keep.npy", "x.json"):
        with open(name, "w") as fp:
            fp.write("keep")
    os.symlink("x.json", "link.json")
    os.symlink("/nonexistent/x.json", "dangling.json")
    os.symlink("loop.json", "loop.json")
    os.symlink("adir", "dirlink.json")
    os.mkfifo("fifo.json")
    with open("suite.toml", "w") as fp:
        fp.write('[[case]]\nname = "c"\nexpr = "sin(x).sum()"\nbindings = { x = [0.0] }\nvalue = 0\n')
    with open("several.toml", "w") as fp:
        fp.write(SEVERAL_SUITE)


def main(argv=None) -> int:
    verbose = "-v" in (argv or sys.argv[1:])
    here = os.getcwd()
    folder = tempfile.mkdtemp(prefix="contract30-")
    setup(folder)
    kept = {name: "keep" for name in ("keep.json", "keep.npy")}
    counts, deviations = {0: 0, 1: 0, 2: 0}, []
    try:
        for args in calls():
            for extra in ([], ["--json"]):
                a = args + extra
                x_before = open("x.json").read()
                code, out, err = sweep.run(a)
                _, problems = sweep.basic(a, code, out, err)
                for name, text in kept.items():
                    if open(name).read() != text:
                        problems.append(f"{name} changed")
                if code != 0 and open("x.json").read() != x_before:
                    problems.append("x.json (link.json's target) changed by a failed run")
                left = [n for n in os.listdir(".") if n.startswith(".")]
                if left:
                    problems.append(f"temporary files left: {left}")
                if isinstance(code, int) and code in counts:
                    counts[code] += 1
                first = err.strip().splitlines()[0][:160] if err.strip() else ""
                if problems:
                    deviations.append((a, problems, first))
                if verbose or problems:
                    print(code, " ".join(map(str, a))[:100], "|", first, "|", problems or "")
        for text, problem in suites():
            deviations.append((["run", text], [problem], ""))
    finally:
        os.chdir(here)
    print(f"calls: {sum(counts.values())} (exit 0: {counts[0]}, 1: {counts[1]}, 2: {counts[2]}); "
          f"deviations: {len(deviations)}")
    for a, problems, first in deviations:
        print("  DEVIATION", a[:6], problems, first)
    return 1 if deviations else 0



# ---------------------------------------------------------------------------------------------------
# suites of several outputs against the commands: each expectation written from jac eval / vjp / jvp / hessian's
# --json of the same text (the contract's per-output keys), then one value changed: the run must pass, then fail
# naming exactly that key

SUITE_TEXTS = ["a = sin(x) * w; b = (x**2).sum(); a, b", "{'s': (x * w).sum(), 'v': tanh(x)}",
               "q, r = torch.linalg.qr(A); q, r", "x**2, {'a': x.sum(), 'b': [x * w, w]}", "(x * w).sum(), x"]


def _toml(value) -> str:
    return json.dumps(value)  # nested lists of numbers: the same text in TOML


def suite_from_commands(text: str, rng) -> tuple:
    """(suite text, the keys it checks) with every value read off the commands' --json."""
    binds = ["x=[0.5, -1.25, 2.0]", "w=1.5", "A=[[2.0, 1.0], [1.0, 3.0], [0.5, -1.0]]"]
    used = [b for b in binds if b.split("=")[0] in text.replace("torch", "")]
    ev = sweep._strict(sweep.run(["eval", text, *used, "--json"])[1])
    outs = [o["name"] for o in ev["outputs"]]
    key = lambda n: n if n.isidentifier() else json.dumps(n)  # noqa: E731
    lines = ['[[case]]', 'name = "c"', f"expr = {json.dumps(text)}",
             "bindings = { " + ", ".join(f"{b.split('=')[0]} = {b.split('=', 1)[1]}" for b in used) + " }"]
    keys = []
    for o in ev["outputs"]:
        lines.append(f"value.{key(o['name'])} = {_toml(o['value'])}")
        keys.append(f"value.{o['name']}")
    for o, blocks in ev["jacobians"].items():
        for n, block in blocks.items():
            lines.append(f"jacobian.{key(o)}.{n} = {_toml(block['value'])}")
            keys.append(f"jacobian.{o}.{n}")
    chosen = rng.sample(outs, max(1, len(outs) // 2))
    vjp = sweep._strict(sweep.run(["vjp", text, *used, *sum((["--v", f"{o}=ones"] for o in chosen), []),
                                   "--json"])[1])
    lines += ["", "[[case.vjp]]"] + [f"v.{key(o)} = \"ones\"" for o in chosen]
    for n, g in vjp["vjp"].items():
        lines.append(f"grad.{n} = {_toml(g['value'])}")
        keys.append(f"vjp[0].grad.{n}")
    first = used[0].split("=")[0]
    jvp = sweep._strict(sweep.run(["jvp", text, *used, "--tangent", f"{first}=ones", "--json"])[1])
    lines += ["", "[[case.jvp]]", f'tangent = {{ {first} = "ones" }}']
    for o, j in jvp["jvps"].items():
        lines.append(f"expected.{key(o)} = {_toml(j['value'])}")
        keys.append(f"jvp[0].expected.{o}")
    return "\n".join(lines) + "\n", keys


def suites(seed: int = 30) -> list:
    """Deviations of the suites part: [(text, problem)]."""
    rng = random.Random(seed)
    found = []
    for text in SUITE_TEXTS:
        suite, keys = suite_from_commands(text, rng)
        with open("from_commands.toml", "w") as fp:
            fp.write(suite)
        code, out, err = sweep.run(["run", "from_commands.toml", "--jobs", "1", "--json"])
        obj = sweep._strict(out) if out else {}
        got = [e["key"] for c in obj.get("cases", []) for e in c["expectations"]]
        if code != 0 or sorted(got) != sorted(keys):
            found.append((text, f"exit {code}, keys {got} for {keys}: {err[:200]}"))
            continue
        value_lines = [line for line in suite.splitlines() if line.startswith("value.")]
        line = rng.choice(value_lines)  # one output's value changed by 1 in its first number
        changed = re.sub(r"(-?\d+\.?\d*(?:e-?\d+)?)", lambda m: repr(float(m[1]) + 1.0), line.split(" = ", 1)[1], 1)
        with open("from_commands.toml", "w") as fp:
            fp.write(suite.replace(line, line.split(" = ", 1)[0] + " = " + changed))
        code, out, err = sweep.run(["run", "from_commands.toml", "--jobs", "1", "--json"])
        failed = [e["key"] for c in sweep._strict(out)["cases"] for e in c["expectations"] if not e["passed"]]
        want = "value." + json.loads(line.split(" = ")[0][6:]) if '"' in line.split(" = ")[0] else \
            line.split(" = ")[0]
        if code != 1 or failed != [want]:
            found.append((text, f"changed {line[:60]}: exit {code}, failed {failed}, wanted [{want}]"))
    return found


if __name__ == "__main__":
    sys.exit(main())
