"""contract29: an outside tester's audit of ../shared/CONTRACT.md against today's jac (session 29).

    PYTHONPATH=. /work/venv/bin/python benchmarks/contract29_sweep.py [--random N] [--seed S] [-v]

Two parts, every call in this process through ``entry.main`` (as the ``jac`` script runs it):

- grid: each command that computes (eval vjp jvp hessian derivative shape diff check graph) × the kinds of last
  statement the parser reads since session 16 (one output, a one-element one, a tuple, a named tuple of the library
  (torch.linalg.qr), a dict, a nested pytree, a derivative written in the text (jax.grad), a model's parameters
  made by the text (nn.Linear)) × (plain, --wrt, --dtype float32, --batch): the contract's keys, each block's
  shape (``y.shape + x.shape``, hessian ``y + x_i + x_j``, derivative ``y + x * K``), each value's shape
  (batched: ``(B, *shape)``), math_shape by the table, the inputs' shapes and kinds (one example), --wrt's blocks
  only, and the JSON against the command's schema (cli/schemas);
- random: a seeded sweep of commands × expressions × binding sets × options (some bad on purpose): no exit outside
  0/1/2, never a traceback, exit 2 always exactly one message on stderr and one JSON error object on stdout that
  validates against error.json, and every exit-0/1 object validating against its command's schema.

Prints the counts and each deviation found; exit 1 if there is one."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import warnings
from collections import Counter

import jsonschema
import numpy as np

from jacobi_cli.cli import entry, schema

VALIDATORS = {n: jsonschema.Draft202012Validator(schema.load(n)) for n in schema.names()}
KINDS = {0: "scalar", 1: "vector", 2: "matrix"}


def run(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = entry.main([str(a) for a in args])
        except SystemExit as e:  # entry.main returns its code; a SystemExit escaping is a deviation
            code = f"SystemExit({e.code})"
        except BaseException as e:  # noqa: BLE001 - anything escaping is what this sweep looks for
            code = f"raised {e!r}"[:200]
    return code, out.getvalue(), err.getvalue()


def _strict(text):
    def bare(token):
        raise ValueError(f"bare {token}")
    return json.loads(text, parse_constant=bare)


def basic(args, code, out, err):
    """The rules every call keeps: exit 0/1/2, no traceback, exit 2 is one message (+ one JSON error object)."""
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"exit {code}")
    if "Traceback" in err or "Traceback" in out:
        problems.append("a traceback")
    obj = None
    if "--json" in args and code in (0, 1, 2):
        try:
            obj = _strict(out)
        except ValueError as e:
            problems.append(f"stdout is not one JSON object: {e} {out[:120]!r}")
        if obj is not None:
            name = "error" if code == 2 else args[0]
            if code == 2 and list(obj) != ["error"]:
                problems.append(f"error object keys {list(obj)}")
            if name in VALIDATORS:
                errors = sorted(VALIDATORS[name].iter_errors(obj), key=str)
                if errors:
                    e = errors[0]
                    problems.append(f"schema {name}: {e.message[:160]} at /{'/'.join(map(str, e.absolute_path))}")
            if code == 2 and isinstance(obj.get("error"), dict) and obj["error"].get("message") not in err:
                problems.append("the JSON error's message is not the one on stderr")
    if code == 2:
        if err.count("jac: error") != 1:
            problems.append(f"stderr holds {err.count('jac: error')} 'jac: error' lines")
        if "--json" not in args and out:
            problems.append("exit 2 wrote to stdout without --json")
    return obj, problems


def kind_of(shape):
    return KINDS.get(len(shape), "tensor")


def math_shape(y, x):
    """The contract's table (numerator layout: y down, x across); tensors: y + x."""
    y, x = list(y), list(x)
    if len(y) > 2 or len(x) > 2:
        return y + x
    across = x[::-1]  # a vector x (n) is n across; a matrix X (n, k) is (k, n)
    if not y:
        return [1] + across if len(x) == 1 else (across or [1])
    if len(y) == 1:
        return y + (across or [1])
    return y + across


def vshape(value):
    """The shape of a JSON value (nested lists)."""
    return list(np.shape(np.asarray(value, dtype=object))) if isinstance(value, list) else []


def fits(value, shape) -> bool:
    """A JSON value has ``shape``: nested lists hold no size past an empty axis (a (0, 3) array is [])."""
    shape = list(shape)
    return vshape(value) == (shape[:shape.index(0) + 1] if 0 in shape else shape)


def contract_keys(args, obj, expected_wrt=None, batch=None, order=None, layout="array"):
    """The contract's promises on a successful object (keys, shapes, kinds, math_shape, --wrt, batch)."""
    p = []
    command = args[0]
    if obj.get("jac_version") != 1 or obj.get("command") != command:
        p.append(f"jac_version/command {obj.get('jac_version')!r} {obj.get('command')!r}")
    if command != "run" and obj.get("expression") != args[1] and not str(args[1]).startswith(("@", "-")):
        p.append(f"expression {obj.get('expression')!r} is not as given")
    inputs = obj.get("inputs", {})
    for name, spec in inputs.items():
        if not isinstance(spec.get("requires_grad"), bool) or spec.get("kind") != kind_of(spec.get("shape", [])):
            p.append(f"input {name}: {spec}")
    several = "outputs" in obj
    if several == ("output" in obj):
        p.append("exactly one of output / outputs")
        return p
    outs = obj["outputs"] if several else [obj["output"]]
    B = [obj["batch"]["size"]] if "batch" in obj else []
    if batch and not B:
        p.append("no batch key with --batch")
    if not batch and B:
        p.append("a batch key without --batch")
    oshape = {}
    for i, o in enumerate(outs):
        name = o.get("name") if several else None
        if several and not isinstance(name, str):
            p.append(f"output {i} without a name")
        if o.get("kind") != kind_of(o.get("shape", [])):
            p.append(f"output {name} kind {o.get('kind')} for shape {o.get('shape')}")
        if command != "shape" and "value" in o and not fits(o["value"], B + list(o["shape"])) and not _scalar_ok(o):
            p.append(f"output {name} value shape {vshape(o['value'])} != {B + list(o['shape'])}")
        oshape[name] = o["shape"]
    ishape = {n: s["shape"] for n, s in inputs.items()}
    wanted = set(expected_wrt) if expected_wrt else {n for n, s in inputs.items() if s.get("requires_grad")}

    def block(where, b, want_shape, values=True):
        if b.get("shape") != want_shape:
            p.append(f"{where} shape {b.get('shape')} != {want_shape}")
        if values and "value" in b and layout == "array" and not fits(b["value"], B + list(want_shape)):
            if not (want_shape == [] and not isinstance(b["value"], list)):
                p.append(f"{where} value shape {vshape(b['value'])} != {B + list(want_shape)}")

    def per_out(single, plural):
        if several:
            if single in obj or plural not in obj:
                p.append(f"several outputs: want {plural!r} not {single!r}: {sorted(obj)}")
                return {}
            if set(obj[plural]) != set(oshape):
                p.append(f"{plural} keys {sorted(obj[plural])} != outputs {sorted(oshape)}")
            return obj[plural]
        if plural in obj or single not in obj:
            p.append(f"one output: want {single!r} not {plural!r}: {sorted(obj)}")
            return {}
        return {None: obj[single]}

    if command == "eval":
        for out, blocks in per_out("jacobian", "jacobians").items():
            if set(blocks) != wanted:
                p.append(f"jacobian blocks {sorted(blocks)} != wrt {sorted(wanted)}")
            for n, b in blocks.items():
                if n in ishape and out in oshape and layout == "numerator":
                    if b.get("shape") not in (b.get("math_shape"), []):  # numerator: the value's shape
                        p.append(f"numerator jacobian[{out}][{n}] shape {b.get('shape')} != {b.get('math_shape')}")
                elif n in ishape and out in oshape:
                    block(f"jacobian[{out}][{n}]", b, list(oshape[out]) + list(ishape[n]))
                    if b.get("math_shape") != math_shape(oshape[out], ishape[n]):
                        p.append(f"math_shape[{out}][{n}] {b.get('math_shape')} != {math_shape(oshape[out], ishape[n])}")
                    if b.get("layout") != layout:
                        p.append(f"layout {b.get('layout')}")
    elif command == "vjp":
        if "v" not in obj or "vjp" not in obj:
            p.append(f"vjp keys {sorted(obj)}")
        else:
            if set(obj["vjp"]) != wanted:
                p.append(f"vjp blocks {sorted(obj['vjp'])} != wrt {sorted(wanted)}")
            for n, b in obj["vjp"].items():
                block(f"vjp[{n}]", b, ishape.get(n))
            vs = obj["v"] if several else {None: obj["v"]}
            for out, v in vs.items():
                if out in oshape:
                    block(f"v[{out}]", v, oshape[out])
    elif command == "jvp":
        for out, b in per_out("jvp", "jvps").items():
            if out in oshape:
                block(f"jvp[{out}]", b, oshape[out])
        if "tangent" not in obj:
            p.append("no tangent key")
    elif command == "hessian":
        for out, blocks in per_out("hessian", "hessians").items():
            for pair, b in blocks.items():
                a, c = pair.split(",")
                if a not in wanted or c not in wanted:
                    p.append(f"hessian block {pair} outside wrt {sorted(wanted)}")
                if out in oshape and a in ishape and c in ishape:
                    block(f"hessian[{out}][{pair}]", b, list(oshape[out]) + list(ishape[a]) + list(ishape[c]))
            if len(blocks) != len(wanted) ** 2:
                p.append(f"{len(blocks)} hessian blocks for {len(wanted)} inputs")
    elif command == "derivative":
        for out, blocks in per_out("derivative", "derivatives").items():
            for n, b in blocks.items():
                if b.get("order") != order:
                    p.append(f"derivative order {b.get('order')} != {order}")
                if out in oshape and n in ishape:
                    block(f"derivative[{out}][{n}]", b, list(oshape[out]) + list(ishape[n]) * order)
    elif command == "shape":
        ders = obj.get("derivatives")
        if ders is None:
            p.append("shape: no derivatives key")
        elif not several:
            for n, b in ders.items():
                if "value" in b:
                    p.append("shape: a value")
                if n in ishape and b.get("shape") != list(outs[0]["shape"]) + list(ishape[n]):
                    p.append(f"shape derivatives[{n}] {b.get('shape')}")
                if n in ishape and b.get("math_shape") != math_shape(outs[0]["shape"], ishape[n]):
                    p.append(f"shape math_shape[{n}] {b.get('math_shape')}")
    return p


def _scalar_ok(o):
    return o.get("shape") == [] and not isinstance(o.get("value"), list)


# ---------------------------------------------------------------------------------------------------
# grid

X = [[1.0, 2.0], [3.0, -4.0], [0.5, 6.0]]
W = [[1.0, -1.0], [0.5, 2.0]]
LASTS = {
    "one": "tanh(W @ x)",
    "scalar": "sum(tanh(W @ x))",
    "tuple": "a = tanh(W @ x); b = sum(x * x); a, b",
    "named": "torch.linalg.qr(W * x + 3 * torch.eye(2))",
    "dict": "{'a': tanh(W @ x), 'b': (x * x).sum()}",
    "pytree": "{'a': (tanh(W @ x), W.sum()), 'b': [x.sum() * W[0]]}",
    "grad": "jax.grad(lambda w: jnp.sum(jnp.sin(w @ x)))(W)",
    "grad_x": "jax.grad(lambda u: jnp.sum(jnp.sin(W @ u) ** 2))(x)",
    "linear": "fc = nn.Linear(2, 3); torch.tanh(fc(x)) + W.sum()",
}
SCALAR_LASTS = {"scalar"}


KNOWN = {  # the grid's refusals that are documented decisions, each with its message
    "has no SymPy translation": "jac diff of torch.linalg.qr: no symbolic QR (jac eval differentiates it)",
    "is held constant": "jvp --tangent x with --wrt fc.weight: a tangent of an input held constant",
}


def grid_calls():
    calls = []
    for command in ("eval", "vjp", "jvp", "hessian", "derivative", "shape", "diff", "check", "graph"):
        for last, expr in LASTS.items():
            for opt in ("plain", "wrt", "float32", "batch", "batch+wrt+float32", "numerator"):
                if opt == "numerator" and command != "eval":
                    continue
                batch = "batch" in opt
                bindings = [f"x={X}" if batch else "x=[1.0, 2.0]", f"W={W}"]
                if command in ("shape", "diff"):
                    bindings = ["x:3x2" if batch else "x:2", "W:2x2"]
                extra = []
                wrt = None
                if "wrt" in opt or command in ("derivative", "diff"):
                    wrt = ["x"] if command in ("derivative", "diff") or last != "linear" else ["fc.weight"]
                    for w in wrt:
                        extra += ["--wrt", w]
                if "float32" in opt:
                    extra += ["--dtype", "float32"]
                if batch:
                    extra += ["--batch", "x"]
                if opt == "numerator":
                    extra += ["--layout", "numerator"]
                order = None
                if command == "derivative":
                    order = 2
                    extra += ["--order", "2"]
                if command == "jvp":
                    extra += ["--tangent", "x=ones"]
                if command in ("vjp",) and last not in SCALAR_LASTS:
                    extra += ["--v", "ones"]
                if command == "graph":
                    extra += ["--backward"] + (["--v", "ones"] if last not in SCALAR_LASTS else [])
                args = [command, expr, *bindings, *extra, "--json"]
                calls.append((args, dict(expected_wrt=wrt if command not in ("derivative", "jvp") else None,
                                         batch=batch, order=order,
                                         layout="numerator" if opt == "numerator" else "array")))
    return calls


# ---------------------------------------------------------------------------------------------------
# random sweep

R_EXPRS = ["sin(x) * y", "sum(x ** 2)", "x @ A", "A @ x + y", "a = sin(x); b = sum(x); a, b", "torch.linalg.qr(A)",
           "torch.max(A, 1)", "torch.sort(x)", "{'p': x * 2, 'q': [A.sum(), y]}", "softmax(x, 0)", "det(A)",
           "jax.grad(lambda t: jnp.sum(jnp.tanh(t) ** 2))(x)", "jax.jacobian(jnp.sin)(x)",
           "fc = nn.Linear(3, 2); fc(x)", "x[0] + x[5]", "sin(x) +", "foo(x)", "x @ y @ A", "log(x)", "x / 0",
           "np.linalg.svd(A, full_matrices=False)", "torch.func.vmap(torch.sin)(A)", "x.max().values", "-x",
           "where(x > 0, x, 0 * x)", "norm(x)", "inv(A)", "prod(x)", "a, b = x[0], x[1]; a * b", "A.T @ A",
           "torch.autograd.grad(sum(x ** 3), x, create_graph=True)[0]", "x, A", "{'z': x}", "(x,)", "()",
           "torch.linalg.slogdet(A)", "x.sum(dim=0, keepdim=True)", "F.relu(x)", "clip(x, -0.5, 0.5)"]
R_BINDINGS = [["x=[1.0, 2.0, 3.0]", "y=[0.5, -1.0, 2.0]", "A=[[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0]]"],
              ["x:3", "y:3", "A:3x3"], ["x:3", "y:()", "A:3x3"], ["x=[[1, 2, 3], [4, 5, 6]]", "y:3", "A:3x3"],
              ["x:2x3", "y:2x3", "A:2x3x3"], ["x=arange(3.0)", "y=ones(3)", "A=eye(3)"], ["x:3"],
              ["x=[0, 0, 0]", "y=[nan, inf, -inf]", "A=zeros((3, 3))"], ["x:0", "y:0", "A:0x0"], ["x:n", "A:3x3", "y:3"],
              ["x=", "A:3x3"], ["x:3", "y:3", "A:3x3", "x:3"]]
GOOD_OPTIONS = [[], ["--wrt", "x"], ["--wrt", "A"], ["--dtype", "float32"], ["--batch", "x"], ["--seed", "3"],
                ["--layout", "numerator"], ["--wrt", "x", "--dtype", "float32", "--batch", "x"], ["--batch", "x:1"]]
R_OPTIONS = [[], ["--wrt", "x"], ["--wrt", "A"], ["--wrt", "nope"], ["--dtype", "float32"], ["--dtype", "float16"],
             ["--batch", "x"], ["--batch", "x:1"], ["--batch", "A"], ["--batch", "nope"], ["--seed", "3"],
             ["--seed", "-1"], ["--max-memory", "1K"], ["--max-memory", "lots"], ["--timeout", "0.01"],
             ["--layout", "numerator"], ["--layout", "diagonal"], ["--order", "3"], ["--order", "0"],
             ["--v", "ones"], ["--v", "[1, 2, 3]"], ["--v", "a=ones"], ["--tangent", "x=ones"],
             ["--tangent", "x=[1, 2]"], ["--out", "/nonexistent/dir/J.npy"], ["--wrt", "x", "--dtype", "float32",
                                                                              "--batch", "x"]]
COMMANDS = ["eval", "vjp", "jvp", "hessian", "derivative", "shape", "diff", "check", "graph"]


def random_calls(n, seed):
    rng = random.Random(seed)
    calls = []
    for _ in range(n):
        command = rng.choice(COMMANDS)
        good = rng.random() < 0.6
        opts = rng.choice(GOOD_OPTIONS if good else R_OPTIONS) + (rng.choice(R_OPTIONS) if rng.random() < 0.2 else [])
        if command == "eval" and "--layout" not in opts and rng.random() < 0.2:
            opts = opts + ["--layout", "numerator"]
        if command == "derivative" and "--order" not in opts:
            opts = opts + ["--order", str(rng.choice([1, 2, 3]))]
        if command in ("vjp", "graph") and "--v" not in opts and rng.random() < 0.5:
            opts = opts + ["--v", "ones"]
        if command == "graph" and rng.random() < 0.6:
            opts = opts + ["--backward"]
        if command == "jvp" and "--tangent" not in opts and rng.random() < 0.8:
            opts = opts + ["--tangent", "x=ones"]
        if command in ("diff", "derivative") and "--wrt" not in opts and rng.random() < 0.7:
            opts = opts + ["--wrt", "x"]
        bindings = rng.choice(R_BINDINGS[:6] if good else R_BINDINGS)
        if "--batch" in opts and rng.random() < 0.7:
            bindings = ["x:4x3" if "x:1" not in opts else "x:3x4"] + [b for b in bindings if not b.startswith("x")]
        calls.append([command, rng.choice(R_EXPRS), *bindings, *opts, "--json"])
    return calls


def _wanted(args):
    """What a random call's options promise: its --wrt names, --batch, --order, --layout."""
    wrt = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--wrt"]
    order = int(args[args.index("--order") + 1]) if "--order" in args else None
    layout = args[args.index("--layout") + 1] if "--layout" in args else "array"
    return dict(expected_wrt=wrt if args[0] not in ("derivative", "jvp", "shape") else None,
                batch="--batch" in args, order=order, layout=layout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--grid-only", action="store_true")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args(argv)
    deviations = []
    exits = Counter()
    refusals = Counter()
    grid = grid_calls()
    for args, want in grid:
        code, out, err = run(args)
        exits[("grid", code)] += 1
        obj, problems = basic(args, code, out, err)
        if code in (0, 1) and obj is not None and args[0] not in ("diff", "check", "graph"):
            problems += contract_keys(args, obj, **want)
        if code == 2 and any(k in err for k in KNOWN):
            exits[("grid", "known refusal")] += 1
        elif code == 2:
            problems.append("refused: " + err.strip().splitlines()[0][:200])
        if problems:
            deviations.append((args, problems))
    rand = [] if a.grid_only else random_calls(a.random, a.seed)
    for args in rand:
        code, out, err = run(args)
        exits[("random", code)] += 1
        obj, problems = basic(args, code, out, err)
        if code in (0, 1) and obj is not None and args[0] not in ("diff", "check", "graph"):
            problems += contract_keys(args, obj, **_wanted(args))
        if code == 2:
            refusals[err.strip().splitlines()[0][:90]] += 1
        if problems:
            deviations.append((args, problems))
    print("top refusals:")
    for line, n in refusals.most_common(25):
        print(f"  {n:4d}  {line}")
    kinds = Counter(p.split(":")[0][:60] for _, ps in deviations for p in ps)
    print(f"grid calls {len(grid)}, random calls {len(rand)}; exits {dict(sorted(exits.items(), key=str))}")
    print(f"deviating calls {len(deviations)}; by problem: {dict(kinds.most_common())}")
    shown = Counter()
    for args, problems in deviations:
        key = problems[0][:50]
        if a.v or shown[key] < 3:
            print(" ", args, "\n     ", problems)
        shown[key] += 1
    return 1 if deviations else 0


if __name__ == "__main__":
    sys.exit(main())
