"""contract35: ../shared/CONTRACT.md's claims crossed with each other (session 35).

    PYTHONPATH=. /work/venv/bin/python benchmarks/contract35_probe.py [--pairs N] [--seed S] [-v]

Every command that computes (eval vjp jvp hessian derivative shape diff check graph) × three last statements (one
vector output, one scalar output, two outputs ``a, b``) × three binding sets (plain; ``--batch x``; ``--batch x:1``)
× each option the command takes (read from the typer commands) alone and, seeded, N random pairs of them. Every
call runs in this process through ``entry.main`` with ``--json`` and is held to the contract's rules:

- exit 0, 1 or 2 only; 1 only from ``jac check``; never a traceback;
- standard output exactly one JSON object (no bare NaN / Infinity) valid against the command's schema
  (cli/schemas), or against error.json with exit 2, whose message is on standard error once;
- an error's ``position`` is an offset into the expression (``"expression"`` as given): the caret on standard error
  stands under that character of the expression;
- ``"command"`` and ``"expression"`` as given; ``"batch": {"size": 4, "inputs": {"x": AXIS}}`` under ``--batch`` and
  every value with the batch axis first; ``"outputs"`` named ``a``, ``b`` with several outputs (and the plural key
  of the command: ``jacobians``, ``jvps``, ``hessians``), ``"output"`` with one;
- ``--dtype float32``: every number printed is a float32's shortest
  text (converted to --dtype); ``--wrt x``: blocks for x alone and
  ``w`` not requiring grad; ``--layout numerator``: each block's shape is its math_shape;
- ``--derivative --order 3``: the block's shape ``y.shape + x.shape * 3``;
- ``--out``: the file exists after exit 0, holding the blocks the JSON holds; after exit 2 no file and no temporary;
- ``--max-memory 20`` (bytes; x alone holds 24): a ``limit`` error (jac shape excepted: it makes no values); ``--timeout 1e-9`` on symbolic
  work (diff, eval --symbolic): a ``limit`` error.

Prints the counts and each deviation; exit 1 if there is one."""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import random
import sys
import tempfile
import warnings
from collections import Counter

import jsonschema
import numpy as np

from jacobi_cli.cli import entry, schema

VALIDATORS = {n: jsonschema.Draft202012Validator(schema.load(n)) for n in schema.names()}
COMMANDS = ["eval", "vjp", "jvp", "hessian", "derivative", "shape", "diff", "check", "graph"]
EXPRS = {"vector": "sin(x) * w", "scalar": "sum(sin(x) * w)", "several": "a = sin(x) * w; b = sum(x**2 * w); a, b"}
BINDS = {"plain": (["x:3", "w:3"], None), "batch": (["x:4x3", "w:3", "--batch", "x"], 0),
         "batch1": (["x:3x4", "w:3", "--batch", "x:1"], 1)}
# each option's values to try, per command where it differs; None: a flag
OPTIONS = {
    "--dtype": ["float32"], "--seed": ["3"], "--wrt": ["x"], "--max-memory": ["1G", "20"], "--timeout": ["30", "1e-9"],
    "--strict": [None], "--layout": ["numerator"], "--explain": [None], "--sparse": [None], "--mode": ["forward"],
    "--symbolic": [None], "--method": ["richardson"], "--rtol": ["1e-3"], "--latex": [None], "--max-nodes": ["2"],
    "--out": ["OUT"], "--order": ["3"], "--backward": [None],
}
OUT_SUFFIX = {"eval": [".npz", ".json", ".npy"], "graph": [".dot"]}


def command_options() -> dict:
    """The options each command takes, as the typer commands declare them."""
    import typer

    from jacobi_cli.cli.app import app

    commands = typer.main.get_command(app).commands
    return {c: [o for o in OPTIONS if any(o in p.opts for p in commands[c].params)] for c in COMMANDS}


def required(command: str, expr: str, batch) -> list:
    """What the command needs to run at all on ``expr``."""
    several = expr == "several"
    if command == "vjp" or command == "graph":
        v = ["--v", "a=ones", "--v", "b=ones"] if several else ([] if expr == "scalar" else ["--v", "ones"])
        return (["--backward"] if command == "graph" else []) + v
    if command == "jvp":
        return ["--tangent", "x=ones"]
    if command == "derivative":
        return ["--wrt", "x"]
    return []


def run(args: list) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = entry.main([str(a) for a in args])
        except BaseException as e:  # noqa: BLE001 - anything escaping is a deviation
            code = f"raised {e!r}"[:200]
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str):
    def bare(token):
        raise ValueError(f"bare {token}")
    return json.loads(text, parse_constant=bare)


def numbers(obj):
    """Every number in ``obj`` (NaN and infinities, which are strings, left out)."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from numbers(v)
    elif isinstance(obj, float):
        yield obj


def blocks(obj: dict, command: str) -> dict:
    """``{(out, in): block}`` of the command's derivative key, one output or several."""
    one, several = {"eval": ("jacobian", "jacobians"), "hessian": ("hessian", "hessians"),
                    "derivative": ("derivative", "derivatives"), "shape": ("derivatives", "derivatives"),
                    "vjp": ("vjp", "vjp")}.get(command, (None, None))
    if one is None:
        return {}
    if "outputs" in obj and command not in ("vjp",):
        return {(o, i): b for o, per in obj[several].items() for i, b in per.items()}
    return {(None, i): b for i, b in obj[one].items()}


def caret_column(err: str):
    """The column of the caret line under the echoed text on stderr, with that text: ``(text, column)``."""
    lines = err.splitlines()
    for k in range(1, len(lines)):
        stripped = lines[k].strip()
        if stripped and set(stripped) <= {"^", "~"} and lines[k].startswith("  "):
            return lines[k - 1][2:], lines[k].index("^") - 2
    return None


def check(args: list, code, out: str, err: str, outfile: str | None) -> list:
    command, expr = args[0], args[1]
    problems = []
    if code not in (0, 1, 2):
        return [f"exit {code}"]
    if code == 1 and command != "check":
        problems.append("exit 1 from a command that checks nothing")
    if "Traceback" in err or "Traceback" in out:
        problems.append("a traceback")
    try:
        obj = strict_json(out)
    except ValueError as e:
        return problems + [f"stdout is not one JSON object: {e} {out[:100]!r}"]
    name = "error" if code == 2 else command
    bad = sorted(VALIDATORS[name].iter_errors(obj), key=str)
    if bad:
        problems.append(f"schema {name}: {bad[0].message[:140]} at /{'/'.join(map(str, bad[0].absolute_path))}")
    if code == 2:
        error = obj.get("error", {})
        if list(obj) != ["error"] or err.count("jac: error") != 1 or error.get("message", "?") not in err:
            problems.append("exit 2 without one message and one error object")
        caret = caret_column(err)
        if error.get("position") is not None:
            position = error["position"]
            line = expr[expr.rfind("\n", 0, position) + 1:].split("\n")[0]
            if caret is None or caret[0].rstrip() != line.rstrip() or caret[1] != _column(expr, position):
                problems.append(f"position {position} is no column of the expression: the caret is under {caret}")
        if outfile and os.path.exists(outfile):
            problems.append("exit 2 left the --out file")
        return problems
    return problems + semantics(args, obj, outfile)


def _column(expr: str, position: int) -> int:
    return position - (expr.rfind("\n", 0, position) + 1)


def semantics(args: list, obj: dict, outfile: str | None) -> list:
    command, expr = args[0], args[1]
    problems = []
    if obj.get("command") != command or obj.get("expression") != expr:
        problems.append("command / expression not as given")
    several = ";" in expr
    if several != ("outputs" in obj) or several == ("output" in obj):
        problems.append(f"outputs/output keys wrong: {sorted(obj)}")
    if several and [o.get("name") for o in obj.get("outputs", [])] != ["a", "b"]:
        problems.append("outputs not named a, b")
    plural = {"eval": "jacobians", "jvp": "jvps", "hessian": "hessians"}.get(command)
    if several and plural and plural not in obj:
        problems.append(f"several outputs without {plural!r}")
    if "--batch" in args:
        axis = 1 if "x:1" in args else 0
        if obj.get("batch", {}).get("size") != 4 or obj["batch"].get("inputs") != {"x": axis}:
            problems.append(f"batch key {obj.get('batch')}")
        outs = obj.get("outputs") or [obj.get("output", {})]
        for o in outs:
            if "value" in o and np.shape(o["value"])[:1] != (4,):
                problems.append("a batched value without the batch axis first")
    elif "batch" in obj:
        problems.append("a batch key without --batch")
    if "--dtype" in args:
        off = [v for v in numbers(obj) if float(str(np.float32(v))) != v and command != "check"]
        if off:
            problems.append(f"--dtype float32 printed {off[0]!r}, which is no float32")
    found = blocks(obj, command)
    if "--wrt" in args and command != "derivative":
        if any(set(i.split(",")) != {"x"} for (_, i) in found) or obj["inputs"]["w"]["requires_grad"]:
            problems.append("--wrt x: blocks or requires_grad beyond x")
    if "--layout" in args:
        for key, b in found.items():
            if b.get("layout") != "numerator" or b["shape"] != b["math_shape"]:
                problems.append(f"--layout numerator: {key} shape {b['shape']} math_shape {b.get('math_shape')}")
    if command == "derivative":
        order = int(args[args.index("--order") + 1]) if "--order" in args else 2
        for (out, _), b in found.items():
            y = next(o for o in obj["outputs"] if o["name"] == out)["shape"] if out else obj["output"]["shape"]
            if b["order"] != order or b["shape"] != y + obj["inputs"]["x"]["shape"] * order:
                problems.append(f"derivative order {order}: {b['order']} {b['shape']}")
    if outfile:
        problems += out_file(outfile, found, obj)
    if "--max-memory" in args and args[args.index("--max-memory") + 1] == "20" and command != "shape":
        problems.append("--max-memory 20 did not refuse")
    if "--timeout" in args and args[args.index("--timeout") + 1] == "1e-9" and (
            command == "diff" or "--symbolic" in args):
        problems.append("--timeout 1e-9 did not stop the symbolic work")
    return problems


def out_file(path: str, found: dict, obj: dict) -> list:
    if not os.path.exists(path):
        return ["exit 0 without the --out file"]
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f != os.path.basename(path)]
    if leftovers:
        return [f"files beside --out: {leftovers}"]
    if path.endswith(".dot"):
        return [] if open(path, encoding="utf-8").read().startswith("digraph") else ["a .dot file that is no DOT"]
    key = {(o, i): (f"{o},{i}" if o else i) for (o, i) in found}
    if path.endswith(".npy"):
        (block,) = found.values()
        return [] if np.load(path).shape == tuple(obj.get("batch") and [4] or []) + tuple(block["shape"]) \
            else ["the .npy file's shape is not the block's"]
    held = dict(np.load(path)) if path.endswith(".npz") else json.load(open(path, encoding="utf-8"))
    if sorted(held) != sorted(key.values()):
        return [f"--out holds {sorted(held)}, the JSON {sorted(key.values())}"]
    for k, b in found.items():
        saved = np.asarray(held[key[k]])
        dtype = saved.dtype if saved.dtype.kind == "f" else np.float64  # a float32 file against the JSON's text
        if not np.array_equal(saved.astype(dtype), dense(b, obj).astype(dtype), equal_nan=True):
            return [f"--out's {key[k]} differs from the JSON's"]
    return []


# bad input: (what, expression, extra arguments, the kind the contract's error object names)
ERRORS = [
    ("syntax", "sin(x", [], "parse"), ("syntax, second line", "y = sin(x)\nz = y +", [], "parse"),
    ("unknown name", "sin(q) * w", [], "name"), ("shapes", "x @ ones(4)", [], "shape"),
    ("binding's syntax", "sin(x) * w", ["x=[1, 2"], "parse"), ("binding's name", "sin(x) * w", ["x=foo(3)"], "name"),
    ("binding's shape", "sin(x) * w", ["x=ones(3) @ ones(4)"], "shape"), ("a file", "sin(x) * w", ["x=@missing.npy"], "io"),
    ("a shape", "sin(x) * w", ["x:3y"], "value"), ("an option", "sin(x) * w", ["--bogus"], "usage"),
]
OPTION_ERRORS = {"vjp": ["--v", "[1, 2"], "graph": ["--backward", "--v", "[1, 2"], "jvp": ["--tangent", "x=[1,, 2]"],
                 "diff": ["--at", "x=[1, 2", "--at", "w=[1, 2, 3]"]}


def error_calls():
    """Each command × each bad input (and the command's own option VALUE written wrong)."""
    for command in COMMANDS:
        for what, expr, extra, kind in ERRORS:
            if command == "diff" and what == "unknown name":
                continue  # jac diff reads a name nothing binds as a scalar symbol (docs/symbolic.md)
            binds = ["x:3", "w:3"] if not any(e.startswith("x") for e in extra) else ["w:3"]
            yield what, kind, [command, expr, *binds, *extra, *required(command, "vector", None)]
        if command in OPTION_ERRORS:
            yield "the option's VALUE", "parse", [command, "sin(x) * w", "x:3", "w:3", *OPTION_ERRORS[command]]


def dense(block: dict, obj: dict) -> np.ndarray:
    """A block's value, from its ``"coo"`` (--sparse) when it has no dense ``"value"``."""
    if "value" in block:
        return np.asarray(block["value"], dtype=float)
    shape = ([obj["batch"]["size"]] if "batch" in obj else []) + block["shape"]
    full = np.zeros(shape)
    full[tuple(np.asarray(i, dtype=int) for i in block["coo"]["indices"])] = block["coo"]["values"]
    return full


def calls(pairs: int, seed: int):
    rng = random.Random(seed)
    options = command_options()
    for command in COMMANDS:
        singles = [(o, v) for o in options[command] for v in OPTIONS[o]]
        combos = [[s] for s in singles] + [list(p) for p in rng.sample(list(itertools.combinations(singles, 2)),
                                                                      min(pairs, len(singles) * (len(singles) - 1) // 2))]
        for expr, bind, combo in itertools.product(EXPRS, BINDS, [[]] + combos):
            if len({o for o, _ in combo}) < len(combo):
                continue
            yield command, expr, bind, combo


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=40, help="random option pairs per command")
    parser.add_argument("--seed", type=int, default=35)
    parser.add_argument("-v", action="store_true")
    ns = parser.parse_args()
    counts, deviations = Counter(), []
    with tempfile.TemporaryDirectory() as root:
        for n, (command, expr, bind, combo) in enumerate(calls(ns.pairs, ns.seed)):
            folder = os.path.join(root, str(n))
            os.mkdir(folder)
            args = [command, EXPRS[expr], *BINDS[bind][0], *required(command, expr, bind)]
            outfile = None
            for option, value in combo:
                if option == "--out":
                    value = outfile = os.path.join(folder, "out" + random.Random(n).choice(OUT_SUFFIX[command]))
                if option in args and option in ("--wrt", "--backward"):
                    continue  # given already by what the command needs
                args += [option] + ([] if value is None else [value])
            code, out, err = run(args + ["--json"])
            counts[f"exit {code}"] += 1
            problems = check(args, code, out, err, outfile)
            counts["calls"] += 1
            if problems:
                deviations.append((args, problems))
            elif ns.v:
                print("ok", code, " ".join(args))
        for what, kind, args in error_calls():
            code, out, err = run(args + ["--json"])
            counts["bad-input calls"] += 1
            problems = check(args, code, out, err, None) if code == 2 else [f"bad input ({what}) exit {code}"]
            if code == 2 and json.loads(out)["error"]["kind"] != kind:
                problems.append(f"{what}: kind {json.loads(out)['error']['kind']}, not {kind}")
            if problems:
                deviations.append((args, problems))
    print(f"contract35 probe: {counts['calls']} calls, " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())
                                                                   if k not in ("calls", "bad-input calls")))
    print(f"bad input: {counts['bad-input calls']} calls")
    kinds = Counter(p.split(":")[0][:60] for _, ps in deviations for p in ps)
    print(f"deviations: {len(deviations)} calls; by kind: {dict(kinds)}")
    for args, problems in deviations[:40]:
        print("  ", " ".join(map(str, args))[:200], "->", "; ".join(problems)[:300])
    return 1 if deviations else 0


if __name__ == "__main__":
    sys.exit(main())
