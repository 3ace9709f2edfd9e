"""contract48: the contract's newer sections as a cross product, every clause x every command (session 48).

    PYTHONPATH=. /work/venv/bin/python benchmarks/contract48_probe.py [-k SUBSTRING] [-v] [--part K/N]

contract29/30/35/38/46 read ../shared/CONTRACT.md clause by clause, each clause on one or two commands. This probe
takes each clause of "Batches (vmap)", "Several outputs", "Higher orders", "Files, time and memory" and "Exit codes
and errors" to EVERY command it applies to (eval vjp jvp hessian derivative check shape graph diff run), as a CI
author combines them: ``--batch NAME`` and ``NAME:AXIS`` with several outputs, with ``--v`` / ``--tangent`` carrying
the batch axis, with ``--wrt`` of shared weights only, with ``--out`` and ``--max-memory``; the plural keys of
several outputs; derivatives of order 1..4 against nested ``torch.func.jacfwd``; ``--out`` atomicity; a closed
pipe; every error kind on every command. Numbers are compared with ``torch.func`` / ``torch.autograd.functional``
(float64). Calls run in this process through ``entry.main`` (as the ``jac`` script does), except the pipe and the
memory-before-allocation clauses, which need a process of their own.

Prints a table clause x command of PASS / FAIL / - (does not apply), each FAIL's detail below it; exit 1 on a FAIL.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

from jacobi_cli.cli import entry

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (-v, --part)

COMMANDS = ["eval", "vjp", "jvp", "hessian", "derivative", "check", "shape", "graph", "diff", "run"]
CLAUSES = []
RESULTS = {}  # (clause, command) -> (verdict, detail)
VERBOSE = False
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clause(fn):
    CLAUSES.append(fn)
    return fn


def jac(*args, json_mode=True):
    """(exit code, the --json object or None, stderr) of one call of jac in this process."""
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args] + (["--json"] if json_mode else [])
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = entry.main(argv)
        except BaseException as e:  # noqa: BLE001 - anything escaping is a failure
            return f"raised {e!r}", None, err.getvalue()
    try:
        obj = json.loads(out.getvalue())
    except ValueError:
        obj = None
    return code, obj, err.getvalue()


def record(name, command, ok, detail=""):
    key = (name, command)
    if key in RESULTS and RESULTS[key][0] == "FAIL":
        return  # the first failure of a cell is kept
    RESULTS[key] = ("PASS" if ok else "FAIL", "" if ok else str(detail)[:400])
    if VERBOSE:  # each cell's verdict as it is found: a run cut short still says which cells passed
        print(f"{RESULTS[key][0]:4} {name} / {command}" + (f": {RESULTS[key][1]}" if not ok else ""), flush=True)


def same(got, want, rtol=1e-9, atol=1e-11):
    try:
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True))


def _t(a):
    import torch
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64)


def _np(t):
    return t.detach().numpy()


# ---------------------------------------------------------------- the problem every batch clause uses

X = np.array([[0.3, -1.2], [1.5, 0.4], [-0.7, 2.0]])   # B = 3 examples of a vector x (2,)
W = np.array([[0.5, -1.0], [2.0, 0.25]])               # shared weights
V = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]])   # a cotangent per example of a (2,)
TX = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])   # a tangent per example of x
TW = np.array([[0.0, 1.0], [1.0, 0.5]])               # a tangent of the shared W (no batch axis)

A_TEXT = "tanh(x @ W) * x"
B_TEXT = "(sin(x @ W) ** 2).sum()"
SEVERAL = f"a = {A_TEXT}; b = {B_TEXT}; a, b"


def fa(x, w):
    import torch
    return torch.tanh(x @ w) * x


def fb(x, w):
    import torch
    return (torch.sin(x @ w) ** 2).sum()


def _bindings(axis):
    x = X if axis == 0 else X.T
    return [f"x={x.tolist()}", f"W={W.tolist()}", "--batch", "x" if axis == 0 else "x:1"]


def _batch_key(obj, axis, where, name):
    want = {"size": 3, "inputs": {"x": axis}}
    got = obj.get("batch") or {}
    if {k: got.get(k) for k in want} != want:  # more keys (check's "failed") extend it
        return f"{where}: batch {obj.get('batch')} != {want}"
    ins = obj.get("inputs", {})
    if ins.get("x", {}).get("shape") != [2] or ins.get("W", {}).get("shape") != [2, 2]:
        return f"{where}: inputs' shapes {ins} do not describe one example"
    return None


def _compare(pairs):
    return [what for what, got, want in pairs
            if (got != want if isinstance(want, list) else not same(got, _np(want) if hasattr(want, "detach") else want))]


def batch_one_output(axis, name):
    """Every command under --batch x (or x:1), one output: values (B, *y), blocks (B, *y, *x) against vmap."""
    import torch
    from torch.func import hessian, jacfwd, jacrev, jvp, vjp, vmap
    bind = _bindings(axis)
    x, w = _t(X), _t(W)
    runs = {
        "eval": (["eval", A_TEXT, *bind], lambda o: (
            [("value", o["output"]["value"], vmap(fa, (0, None))(x, w))]
            + [(f"jacobian {k}", o["jacobian"][k]["value"], want) for k, want in
               zip(["x", "W"], vmap(jacrev(fa, argnums=(0, 1)), (0, None))(x, w))]
            + [(f"{k} shape", o["jacobian"][k]["shape"], s) for k, s in [("x", [2, 2]), ("W", [2, 2, 2])]])),
        "vjp": (["vjp", A_TEXT, *bind, "--v", f"{V.tolist()}"], lambda o: [
            (f"vjp {k}", o["vjp"][k]["value"], want) for k, want in
            zip(["x", "W"], vmap(lambda x, v: vjp(lambda x, w: fa(x, w), x, w)[1](v), (0, 0))(x, _t(V)))]),
        "jvp": (["jvp", A_TEXT, *bind, "--tangent", f"x={(TX if axis == 0 else TX.T).tolist()}",
                 "--tangent", f"W={TW.tolist()}"], lambda o: [
            ("jvp", o["jvp"]["value"],
             vmap(lambda x, tx: jvp(fa, (x, w), (tx, _t(TW)))[1], (0, 0))(x, _t(TX)))]),
        "hessian": (["hessian", B_TEXT, *bind], lambda o: [
            (f"hessian {p},{q}", o["hessian"][f"{p},{q}"]["value"], H[i][j])
            for H in [vmap(hessian(fb, argnums=(0, 1)), (0, None))(x, w)]
            for i, p in enumerate(["x", "W"]) for j, q in enumerate(["x", "W"])]),
        "derivative": (["derivative", A_TEXT, *bind, "--wrt", "x", "--order", "2"], lambda o: [
            ("derivative", o["derivative"]["x"]["value"], vmap(jacfwd(jacrev(fa)), (0, None))(x, w)),
            ("derivative shape", o["derivative"]["x"]["shape"], [2, 2, 2])]),
        "check": (["check", A_TEXT, *bind], lambda o: [
            ("passed", [o["inputs"][k]["passed"] for k in "xW"], [True, True]),
            ("value", o["output"]["value"], vmap(fa, (0, None))(x, w))]),
        "shape": (["shape", A_TEXT, *bind], lambda o: [
            ("shape x", o["derivatives"]["x"]["shape"], [2, 2]), ("shape W", o["derivatives"]["W"]["shape"], [2, 2, 2]),
            ("output shape", o["output"]["shape"], [2])]),
        "graph": (["graph", A_TEXT, *bind], lambda o: [("value", o["output"]["value"], vmap(fa, (0, None))(x, w))]),
    }
    for command, (args, pairs) in runs.items():
        code, obj, err = jac(*args)
        if code != 0 or obj is None:
            record(name, command, False, f"exit {code}: {err.strip()[:200]}")
            continue
        try:
            bad = _compare(pairs(obj))
        except (KeyError, TypeError) as e:
            bad = [f"key {e!r} missing"]
        bk = _batch_key(obj, axis, command, name)
        record(name, command, not bad and not bk, "; ".join(bad + ([bk] if bk else [])))
    del torch


@clause
def batch_axis0():
    batch_one_output(0, "batch x: values, blocks, batch key")


@clause
def batch_axis1():
    batch_one_output(1, "batch x:1 (v/tangent batch first)")


@clause
def batch_several():
    """--batch with several outputs: plural keys, per example, --v of one output only (the other zero)."""
    from torch.func import hessian, jacfwd, jacrev, jvp, vjp, vmap
    name = "batch x + several outputs"
    bind = _bindings(0)
    x, w = _t(X), _t(W)
    runs = {
        "eval": (["eval", SEVERAL, *bind], lambda o: [
            (f"jacobians {out}.{k}", o["jacobians"][out][k]["value"], want)
            for out, f in [("a", fa), ("b", fb)]
            for k, want in zip(["x", "W"], vmap(jacrev(f, argnums=(0, 1)), (0, None))(x, w))]),
        "vjp": (["vjp", SEVERAL, *bind, "--v", f"a={V.tolist()}"], lambda o: [
            (f"vjp {k}", o["vjp"][k]["value"], want) for k, want in
            zip(["x", "W"], vmap(lambda x, v: vjp(fa, x, w)[1](v), (0, 0))(x, _t(V)))]),
        "jvp": (["jvp", SEVERAL, *bind, "--tangent", f"x={TX.tolist()}", "--tangent", f"W={TW.tolist()}"],
                lambda o: [(f"jvps {out}", o["jvps"][out]["value"],
                            vmap(lambda x, tx: jvp(f, (x, w), (tx, _t(TW)))[1], (0, 0))(x, _t(TX)))
                           for out, f in [("a", fa), ("b", fb)]]),
        "hessian": (["hessian", SEVERAL, *bind], lambda o: [
            (f"hessians {out} {p},{q}", o["hessians"][out][f"{p},{q}"]["value"], H[i][j])
            for out, f in [("a", fa), ("b", fb)]
            for H in [vmap(jacfwd(jacrev(f, argnums=(0, 1)), argnums=(0, 1)), (0, None))(x, w)]
            for i, p in enumerate(["x", "W"]) for j, q in enumerate(["x", "W"])]),
        "derivative": (["derivative", SEVERAL, *bind, "--wrt", "x", "--order", "3"], lambda o: [
            (f"derivatives {out}", o["derivatives"][out]["x"]["value"],
             vmap(jacfwd(jacfwd(jacrev(f))), (0, None))(x, w)) for out, f in [("a", fa), ("b", fb)]]),
        "check": (["check", SEVERAL, *bind], lambda o: [
            ("passed", [o["inputs"][k]["passed"] for k in "xW"], [True, True])]),
        "shape": (["shape", SEVERAL, *bind], lambda o: [
            ("outputs' shapes", [q["shape"] for q in o["outputs"]], [[2], []])]),
        "graph": (["graph", SEVERAL, *bind], lambda o: [
            ("outputs' values", o["outputs"][1]["value"], vmap(fb, (0, None))(x, w))]),
    }
    for command, (args, pairs) in runs.items():
        code, obj, err = jac(*args)
        if code != 0 or obj is None:
            record(name, command, False, f"exit {code}: {err.strip()[:200]}")
            continue
        try:
            bad = _compare(pairs(obj))
            names = [q["name"] for q in obj["outputs"]]
            if names != ["a", "b"] or "output" in obj:
                bad.append(f"outputs {names}, keys {list(obj)}")
        except (KeyError, TypeError) as e:
            bad = [f"key {e!r} missing"]
        bk = _batch_key(obj, 0, command, name)
        record(name, command, not bad and not bk, "; ".join(bad + ([bk] if bk else [])))


@clause
def batch_shared_weights():
    """--batch x --wrt W: per-example gradients of shared weights, (B, *y, *W)."""
    from torch.func import jacfwd, jacrev, jvp, vjp, vmap
    name = "batch x --wrt W (per-example grads)"
    bind = _bindings(0)
    x, w = _t(X), _t(W)
    runs = {
        "eval": (["eval", A_TEXT, *bind, "--wrt", "W"], lambda o: [
            ("jacobian W", o["jacobian"]["W"]["value"], vmap(jacrev(fa, argnums=1), (0, None))(x, w)),
            ("x absent", sorted(o["jacobian"]), ["W"])]),
        "vjp": (["vjp", B_TEXT, *bind, "--wrt", "W"], lambda o: [
            ("vjp W", o["vjp"]["W"]["value"], vmap(jacrev(fb, argnums=1), (0, None))(x, w))]),
        "jvp": (["jvp", A_TEXT, *bind, "--wrt", "W", "--tangent", f"W={TW.tolist()}"], lambda o: [
            ("jvp", o["jvp"]["value"], vmap(lambda x: jvp(lambda w: fa(x, w), (w,), (_t(TW),))[1])(x))]),
        "hessian": (["hessian", B_TEXT, *bind, "--wrt", "W"], lambda o: [
            ("hessian W,W", o["hessian"]["W,W"]["value"],
             vmap(jacfwd(jacrev(fb, argnums=1), argnums=1), (0, None))(x, w))]),
        "derivative": (["derivative", B_TEXT, *bind, "--wrt", "W", "--order", "2"], lambda o: [
            ("derivative W", o["derivative"]["W"]["value"],
             vmap(jacfwd(jacrev(fb, argnums=1), argnums=1), (0, None))(x, w))]),
        "check": (["check", A_TEXT, *bind, "--wrt", "W"], lambda o: [
            ("passed", o["inputs"]["W"]["passed"], True), ("x not checked", o["inputs"]["x"].get("passed"), None)]),
        "shape": (["shape", A_TEXT, *bind, "--wrt", "W"], lambda o: [
            ("derivatives", sorted(o["derivatives"]), ["W"])]),
    }
    for command, (args, pairs) in runs.items():
        code, obj, err = jac(*args)
        if code != 0 or obj is None:
            record(name, command, False, f"exit {code}: {err.strip()[:200]}")
            continue
        try:
            bad = []
            for what, got, want in pairs(obj):
                if want is None or isinstance(want, (list, bool, str)):
                    if got != want:
                        bad.append(f"{what}: {got} != {want}")
                elif not same(got, _np(want)):
                    bad.append(what)
        except (KeyError, TypeError) as e:
            bad = [f"key {e!r} missing"]
        record(name, command, not bad, "; ".join(bad))


@clause
def batch_out():
    """--out FILE under --batch: the file holds what --json holds, (B, ...) arrays (eval; graph's --out is a drawing)."""
    name = "batch x + --out FILE"
    with tempfile.TemporaryDirectory() as d:
        for suffix in ("npz", "json", "npy"):
            path = os.path.join(d, f"r.{suffix}")
            one = ["--wrt", "x"] if suffix == "npy" else []  # a .npy holds one Jacobian
            code, obj, err = jac("eval", SEVERAL if suffix != "npy" else A_TEXT, *_bindings(0), *one, "--out", path)
            if code != 0:
                record(name, "eval", False, f".{suffix}: exit {code} {err.strip()[:200]}")
                continue
            if suffix == "npz":
                z = np.load(path)
                bad = [k for k in z.files if k.startswith(("jacobian", "value", "output")) and z[k].shape[:1] != (3,)]
                record(name, "eval", not bad, f".npz arrays without the batch axis: {bad} of {z.files}")
            elif suffix == "json":
                with open(path) as f:
                    saved = json.load(f)
                # docs/commands.md: the .json file holds the .npz's keys, OUT,IN with several outputs
                record(name, "eval", sorted(saved) == ["a,W", "a,x", "b,W", "b,x"] and
                       same(saved["a,x"], obj["jacobians"]["a"]["x"]["value"]),
                       f".json differs from --json: {list(saved)}")
            else:
                arr = np.load(path)
                record(name, "eval", arr.shape[:1] == (3,), f".npy shape {arr.shape}")
        path = os.path.join(d, "g.dot")
        code, obj, err = jac("graph", A_TEXT, *_bindings(0), "--out", path)
        record(name, "graph", code == 0 and os.path.exists(path), f"exit {code} {err.strip()[:200]}")


def _budget_args(command):
    """A problem whose per-example work fits 2 MB but whose batch of values and blocks does not."""
    big = ["x:400x30", "W:30x30", "--batch", "x", "--max-memory", "2MB"]
    if command in ("jvp", "graph"):  # no Jacobian: the inputs (1.9 MB) and the stacked results (1.9 MB) must count
        big[0] = "x:8000x30"
    if command == "vjp":
        return ["vjp", "tanh(x @ W) * x", *big, "--v", "ones"]
    if command == "jvp":
        return ["jvp", "tanh(x @ W) * x", *big, "--tangent", "x=ones(8000, 30)"]
    if command == "derivative":
        return ["derivative", "tanh(x @ W) * x", *big, "--wrt", "x", "--order", "2"]
    if command == "hessian":
        return ["hessian", "(tanh(x @ W) * x).sum()", *big]
    return [command, "tanh(x @ W) * x", *big]


@clause
def batch_max_memory():
    """--batch with --max-memory: the batch's values and blocks counted, a `limit` error (exit 2) before the work."""
    name = "batch x + --max-memory (limit)"
    for command in ["eval", "vjp", "jvp", "hessian", "derivative", "check", "graph"]:
        code, obj, err = jac(*_budget_args(command))
        kind = (obj or {}).get("error", {}).get("kind")
        record(name, command, code == 2 and kind == "limit", f"exit {code}, kind {kind}: {err.strip()[:200]}")


# ---------------------------------------------------------------- several outputs without a batch

XS, WS = X[0], W


@clause
def several_keys():
    """Several outputs: `outputs` (not `output`), each command's plural key, values against torch."""
    from torch.func import jacfwd, jacrev, jvp, vjp
    name = "several outputs: keys + values"
    x, w = _t(XS), _t(WS)
    bind = [f"x={XS.tolist()}", f"W={WS.tolist()}"]
    runs = {
        "eval": (["eval", SEVERAL, *bind], "jacobians", lambda o: [
            (f"{out}.{k}", o["jacobians"][out][k]["value"], want) for out, f in [("a", fa), ("b", fb)]
            for k, want in zip(["x", "W"], jacrev(f, argnums=(0, 1))(x, w))]),
        "vjp": (["vjp", SEVERAL, *bind, "--v", "a=[1, -2]", "--v", "b=0.5"], "vjp", lambda o: [
            (f"vjp {k}", o["vjp"][k]["value"], vjp(fa, x, w)[1](_t([1, -2]))[i] + 0.5 * jacrev(fb, argnums=i)(x, w))
            for i, k in enumerate(["x", "W"])]),
        "jvp": (["jvp", SEVERAL, *bind, "--tangent", "x=[1, 2]", "--tangent", f"W={TW.tolist()}"], "jvps",
                lambda o: [(out, o["jvps"][out]["value"], jvp(f, (x, w), (_t([1, 2]), _t(TW)))[1])
                           for out, f in [("a", fa), ("b", fb)]]),
        "hessian": (["hessian", SEVERAL, *bind], "hessians", lambda o: [
            (f"{out} {p},{q}", o["hessians"][out][f"{p},{q}"]["value"], H[i][j])
            for out, f in [("a", fa), ("b", fb)] for H in [jacfwd(jacrev(f, argnums=(0, 1)), argnums=(0, 1))(x, w)]
            for i, p in enumerate(["x", "W"]) for j, q in enumerate(["x", "W"])]),
        "derivative": (["derivative", SEVERAL, *bind, "--wrt", "x", "--order", "2"], "derivatives", lambda o: [
            (out, o["derivatives"][out]["x"]["value"], jacfwd(jacrev(f))(x, w)) for out, f in [("a", fa), ("b", fb)]]),
        "check": (["check", SEVERAL, *bind], "outputs", lambda o: [("passed", o["inputs"]["x"]["passed"], True)]),
        "shape": (["shape", SEVERAL, "x:2", "W:2x2"], "outputs", lambda o: [
            ("shapes", [q["shape"] for q in o["outputs"]], [[2], []])]),
        "graph": (["graph", SEVERAL, *bind], "outputs", lambda o: [("b", o["outputs"][1]["value"], fb(x, w))]),
        "diff": (["diff", SEVERAL, "x:2", "W:2x2", "--wrt", "x"], "outputs", lambda o: [
            ("names", [q["name"] for q in o["outputs"]], ["a", "b"])]),
    }
    for command, (args, key, pairs) in runs.items():
        code, obj, err = jac(*args)
        if code != 0 or obj is None:
            record(name, command, False, f"exit {code}: {err.strip()[:200]}")
            continue
        bad = []
        if "output" in obj or "outputs" not in obj or key not in obj:
            bad.append(f"keys {list(obj)}")
        try:
            for what, got, want in pairs(obj):
                if isinstance(want, list) and not hasattr(want, "detach") and not same(got, want):
                    if got != want:
                        bad.append(f"{what}: {got} != {want}")
                elif isinstance(want, bool):
                    if got is not want:
                        bad.append(f"{what}: {got}")
                elif not isinstance(want, list) and not same(got, _np(want)):
                    bad.append(what)
        except (KeyError, TypeError, IndexError) as e:
            bad.append(f"key {e!r} missing")
        record(name, command, not bad, "; ".join(bad))


@clause
def several_unnamed_and_independent():
    """Unnamed outputs y0, y1; an output that does not depend on an input: its blocks are zeros of the right shape."""
    name = "unnamed y0,y1 + independent output"
    text = "sin(x) * 2, (W ** 2).sum()"
    bind = ["x=[0.5, 1.0]", f"W={WS.tolist()}"]
    zeros = {
        "eval": lambda o: [(o["jacobians"]["y1"]["x"]["value"], np.zeros(2)),
                           (o["jacobians"]["y0"]["W"]["value"], np.zeros((2, 2, 2)))],
        "vjp": lambda o: [(o["vjp"]["W"]["value"], np.zeros((2, 2))),
                          (o["vjp"]["x"]["value"], 2 * np.cos([0.5, 1.0]) * [1, -1])],
        "jvp": lambda o: [(o["jvps"]["y1"]["value"], 0.0), (o["jvps"]["y0"]["value"], 2 * np.cos([0.5, 1.0]))],
        "hessian": lambda o: [(o["hessians"]["y1"]["x,x"]["value"], np.zeros((2, 2))),
                              (o["hessians"]["y0"]["W,W"]["value"], np.zeros((2, 2, 2, 2, 2))),
                              (o["hessians"]["y0"]["x,W"]["value"], np.zeros((2, 2, 2, 2)))],
        "derivative": lambda o: [(o["derivatives"]["y1"]["x"]["value"], np.zeros((2, 2, 2)))],
        "check": lambda o: [(o["inputs"]["x"]["passed"], True), (o["inputs"]["W"]["passed"], True)],
        "shape": lambda o: [],
        "graph": lambda o: [],
        "diff": lambda o: [],
    }
    extra = {"vjp": ["--v", "y0=[1, -1]"], "jvp": ["--tangent", "x=[1, 1]", "--tangent", "W=[[0, 0], [0, 0]]"],
             "derivative": ["--wrt", "x", "--order", "3"], "diff": ["--wrt", "x"]}
    for command, pairs in zeros.items():
        b = ["x:2", "W:2x2"] if command in ("shape", "diff") else bind
        code, obj, err = jac(command, text, *b, *extra.get(command, []))
        if code != 0 or obj is None:
            record(name, command, False, f"exit {code}: {err.strip()[:200]}")
            continue
        bad = []
        try:
            if [q["name"] for q in obj["outputs"]] != ["y0", "y1"]:
                bad.append(f"names {[q['name'] for q in obj['outputs']]}")
            for i, (got, want) in enumerate(pairs(obj)):
                if not (got is want if isinstance(want, bool) else same(got, want)):
                    bad.append(f"pair {i}: {str(got)[:80]}")
        except (KeyError, TypeError, IndexError) as e:
            bad.append(f"key {e!r} missing")
        record(name, command, not bad, "; ".join(bad))


@clause
def several_vjp_rules():
    """--v OUT=VALUE: omitted outputs zero; a lone one-element output needs no --v; an unknown OUT is a `name` error."""
    name = "vjp --v OUT rules"
    code, obj, err = jac("vjp", "a = x * 2; b = x.sum(); a, b", "x=[1, 2]", "--v", "b=3")
    record(name, "vjp", code == 0 and same(obj["vjp"]["x"]["value"], [3, 3]), f"omitted a: {code} {err[:150]}")
    code, obj, err = jac("vjp", "a = x * 2; b = x.sum(); a, b", "x=[1, 2]", "--v", "c=3")
    kind = (obj or {}).get("error", {}).get("kind")
    # usage, as tests/test_parity_orders14.py pins it (docs/json.md's `name` is for a name of no INPUT)
    record(name, "vjp", code == 2 and kind == "usage" and "a, b" in obj["error"]["message"],
           f"--v c=3 (no output c): {code} {kind}")
    code, obj, err = jac("vjp", "a = x * 2; b = x.sum(); a, b", "x=[1, 2]")
    record(name, "vjp", code == 2, f"no --v with a vector output: {code}")
    # under --batch: the one-element output of each example needs no --v either (torch.func.vmap(grad))
    code, obj, err = jac("vjp", "a = (x * 2).sum(); a, x.sum()", "x=[[1, 2], [3, 4]]", "--batch", "x")
    record(name, "vjp", code == 0 and same(obj["vjp"]["x"]["value"], [[3, 3], [3, 3]]),
           f"--batch, scalar outputs, no --v: {code} {err[:150]}")


# ---------------------------------------------------------------- higher orders

@clause
def hessian_nonscalar():
    """jac hessian of a vector and of a matrix output: blocks y.shape + x_i.shape + x_j.shape against torch."""
    import torch
    from torch.autograd.functional import jacobian
    name = "hessian of a non-scalar output"
    x, w = _t(XS), _t(WS)
    for text, f, yshape in [(A_TEXT, fa, (2,)), ("outer(tanh(x), x) @ W", lambda x, w: torch.outer(torch.tanh(x), x) @ w, (2, 2))]:
        code, obj, err = jac("hessian", text, f"x={XS.tolist()}", f"W={WS.tolist()}")
        if code != 0:
            record(name, "hessian", False, f"{text}: exit {code} {err[:200]}")
            continue
        H = jacobian(lambda x, w: jacobian(f, (x, w), create_graph=True), (x, w))
        bad = []
        for i, p in enumerate(["x", "W"]):
            for j, q in enumerate(["x", "W"]):
                block = obj["hessian"][f"{p},{q}"]
                want = yshape + tuple((x, w)[i].shape) + tuple((x, w)[j].shape)
                if tuple(block["shape"]) != want or not same(block["value"], _np(H[i][j])):
                    bad.append(f"{p},{q} {block['shape']} vs {list(want)}")
        record(name, "hessian", not bad, f"{text}: {bad}")


@clause
def derivative_orders():
    """jac derivative --order K --wrt NAME, K = 1..4, against nested torch.func.jacfwd; jac diff --order K at a point."""
    import torch
    from torch.func import jacfwd, jacrev
    name = "derivative --order 1..4"
    x, w = _t(XS), _t(WS)
    fns = {A_TEXT: fa, B_TEXT: fb, "x[0] ** 3 * exp(x[1]) * W[0, 1]": lambda x, w: x[0] ** 3 * torch.exp(x[1]) * w[0, 1]}
    for text, f in fns.items():
        for k in range(1, 5):
            for wrt, arg in (("x", 0), ("W", 1)):
                if wrt == "W" and k == 4:
                    continue  # (2,) + (2, 2) * 4 = 512 entries: enough with x's
                code, obj, err = jac("derivative", text, f"x={XS.tolist()}", f"W={WS.tolist()}", "--wrt", wrt,
                                     "--order", str(k))
                g = jacrev(f, argnums=arg)
                for _ in range(k - 1):
                    g = jacfwd(g, argnums=arg)
                want = _np(g(x, w))
                ok = code == 0 and obj["derivative"][wrt]["order"] == k and \
                    tuple(obj["derivative"][wrt]["shape"]) == want.shape and same(obj["derivative"][wrt]["value"], want)
                record(name, "derivative", ok, f"{text} --wrt {wrt} --order {k}: {code} {err[:150]}")
    # jac diff --order K --at: the symbolic K-th derivative, evaluated, against torch
    name = "diff --order K (symbolic) vs torch"
    f = lambda x: x[0] ** 3 * torch.exp(x[1]) + torch.sin(x[0] * x[1])  # noqa: E731
    for k in range(1, 4):
        code, obj, err = jac("diff", "x[0] ** 3 * exp(x[1]) + sin(x[0] * x[1])", "x:2", "--wrt", "x",
                             "--order", str(k), "--at", "x=[0.7, -0.4]")
        g = jacrev(f)
        for _ in range(k - 1):
            g = jacfwd(g)
        want = _np(g(_t([0.7, -0.4])))
        got = None
        if code == 0:
            d = obj["derivative"]["x"]
            got = d.get("value", d.get("at", {}).get("value") if isinstance(d.get("at"), dict) else None)
        record(name, "diff", code == 0 and got is not None and same(got, want),
               f"--order {k}: exit {code}, value {str(got)[:100]} vs {want.tolist()} {err[:150]}; keys "
               f"{list(obj['derivative']['x']) if code == 0 else ''}")


# ---------------------------------------------------------------- files, time, memory

@clause
def out_atomic():
    """A failed command leaves an --out / --junit file as it was, a successful one replaces it, no temp file left."""
    name = "--out/--junit atomic"
    with tempfile.TemporaryDirectory() as d:
        cases = {
            "eval": (["eval", "sin(x)", "x=[1, 2]"], ["eval", "sin(x) @ W", "x=[1, 2]", "W:3x3"], "r.json", "--out"),
            "graph": (["graph", "sin(x)", "x=[1, 2]"], ["graph", "sin(x) @ W", "x=[1, 2]", "W:3x3"], "g.dot", "--out"),
            "run": (["run", os.path.join(ROOT, "examples", "suite.toml")] if os.path.exists(
                os.path.join(ROOT, "examples", "suite.toml")) else None,
                ["run", os.path.join(d, "missing.toml")], "j.xml", "--junit"),
        }
        for command, (good, badcall, fname, opt) in cases.items():
            path = os.path.join(d, fname)
            with open(path, "w") as f:
                f.write("previous")
            code, obj, err = jac(*badcall, opt, path)
            with open(path) as f:
                kept = f.read() == "previous"
            ok = code == 2 and kept
            detail = f"failing call: exit {code}, file kept {kept}"
            if good is not None:
                code, obj, err = jac(*good, opt, path)
                with open(path) as f:
                    replaced = f.read() != "previous"
                ok = ok and code in (0, 1) and replaced
                detail += f"; good call exit {code}, replaced {replaced}"
            stray = sorted(set(os.listdir(d)) - {"r.json", "g.dot", "j.xml"})
            record(name, command, ok and not stray, f"{detail}; stray files {stray}")
        # refused while writing (a .json of a Jacobian with an empty axis before its last, docs/commands.md), and
        # under --batch: the previous file stays whole
        path = os.path.join(d, "r.json")
        for args in (["eval", "x * 2", "x=zeros((0, 3))"], ["eval", "x * 2", "x=zeros((2, 0, 3))", "--batch", "x"]):
            with open(path, "w") as f:
                f.write("previous")
            code, obj, err = jac(*args, "--out", path)
            with open(path) as f:
                kept = f.read() == "previous"
            stray = sorted(set(os.listdir(d)) - {"r.json", "g.dot", "j.xml"})
            record(name, "eval", code == 2 and kept and not stray,
                   f"{args}: exit {code}, file kept {kept}, stray {stray}: {err.strip()[:150]}")


MEMORY_ARGS = {
    "eval": ["eval", "x.sum()"], "vjp": ["vjp", "x.sum()"], "jvp": ["jvp", "x.sum()", "--tangent", "x=ones(200000, 2000)"],
    "hessian": ["hessian", "x.sum()"], "derivative": ["derivative", "x.sum()", "--order", "2"],
    "check": ["check", "x.sum()"], "graph": ["graph", "x.sum()"], "diff": ["diff", "x.sum()", "--wrt", "x", "--at", "x=ones(200000, 2000)"],
    "shape": ["shape", "x.sum()"],
}


@clause
def max_memory_before_allocating():
    """--max-memory 1MB with a 3.2 GB input: a `limit` error before allocating (peak RSS far below the input)."""
    name = "--max-memory before allocating"
    # the peak RSS of this process image (VmHWM: getrusage's ru_maxrss keeps the probe's own across fork and exec)
    probe = (
        "import sys\n"
        "from jacobi_cli.cli import entry\n"
        "code = entry.main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print('RSS', hwm, file=sys.stderr)\n"
        "sys.exit(code)\n")
    for command, args in MEMORY_ARGS.items():
        argv = [*args, "x:200000x2000", "--max-memory", "1MB", "--json"]
        p = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": ROOT}, timeout=120)
        rss = [int(line.split()[1]) for line in p.stderr.splitlines() if line.startswith("RSS ")]
        try:
            kind = json.loads(p.stdout)["error"]["kind"]
        except (ValueError, KeyError, TypeError):
            kind = None
        if command == "shape":  # jac shape needs no values: it answers whatever the size
            record(name, command, p.returncode == 0, f"exit {p.returncode}: {p.stderr[:200]}")
            continue
        ok = p.returncode == 2 and kind == "limit" and rss and rss[0] < 400_000
        record(name, command, ok, f"exit {p.returncode}, kind {kind}, peak RSS {rss} kB: {p.stderr[:200]}")


@clause
def max_memory_values():
    """--max-memory counts the values too: a budget the inputs fit but the results do not is a `limit` error."""
    name = "--max-memory counts results"
    bind = ["x:300", "--max-memory", "200KB"]  # x is 2.4 KB, a 300x300 Jacobian 720 KB, the Hessian of a vector 216 MB
    runs = {"eval": ["eval", "sin(x) * x.sum()"], "hessian": ["hessian", "sin(x) * x.sum()"],
            "derivative": ["derivative", "sin(x) * x.sum()", "--order", "2"], "check": ["check", "sin(x) * x.sum()"],
            "graph": ["graph", "outer(x, x)"], "vjp": ["vjp", "outer(x, x)", "--v", "ones"],
            "jvp": ["jvp", "outer(x, x)", "--tangent", "x=ones(300)"]}
    for command, args in runs.items():
        code, obj, err = jac(*args, *bind)
        kind = (obj or {}).get("error", {}).get("kind")
        record(name, command, code == 2 and kind == "limit", f"exit {code}, kind {kind}: {err.strip()[:200]}")


class _Sink(io.TextIOBase):
    def write(self, text):
        return len(text)

    def writable(self):
        return True


def _held(argv) -> tuple:
    """(exit code, traced peak in bytes) of one call, stdout and stderr thrown away as they are written (a pipe's
    reader), after a first call that did the imports and first-use caches."""
    import gc
    import tracemalloc

    from jacobi_cli.tools import api

    def once():
        with contextlib.redirect_stdout(_Sink()), contextlib.redirect_stderr(_Sink()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return entry.main(argv)
    once()
    api.clear_cache()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        code = once()
        return code, tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


PEAK_CASES = {  # problems whose values and results (20-60 MiB) dwarf Python's own objects, unbatched and batched
    "eval": ["eval", "tanh(x @ W) @ W.T * x", "x:2000", "W:2000x20", "--wrt", "x"],
    "vjp": ["vjp", "tanh(x @ W) * x", "x:20000x40", "W:40x40", "--v", "ones"],
    "jvp": ["jvp", "tanh(x @ W) * x", "x:20000x40", "W:40x40", "--tangent", "x=ones"],
    "hessian": ["hessian", "(tanh(x) * x).sum() * x", "x:150"],
    "derivative": ["derivative", "tanh(x) * x.sum()", "x:150", "--order", "2"],
    "check": ["check", "tanh(x) * x.sum()", "x:1000"],
    "graph": ["graph", "tanh(x @ W) * x", "x:20000x40", "W:40x40"],
    "diff": ["diff", "tanh(x) * x.sum()", "x:40", "--wrt", "x", "--at", "x=ones(40)"],
}
PEAK_BATCHED = {
    "eval": ["eval", "tanh(x @ W) * x", "x:3000x40", "W:40x40", "--batch", "x", "--wrt", "x"],
    "vjp": ["vjp", "tanh(x @ W) * x", "x:20000x40", "W:40x40", "--batch", "x", "--v", "ones", "--wrt", "x"],
    "jvp": ["jvp", "tanh(x @ W) * x", "x:20000x40", "W:40x40", "--batch", "x", "--tangent", "x=ones"],
    "hessian": ["hessian", "(tanh(x) * x).sum()", "x:500x60", "--batch", "x"],
    "derivative": ["derivative", "tanh(x) * x.sum()", "x:100x40", "--batch", "x", "--order", "2"],
    "check": ["check", "tanh(x) * x.sum()", "x:20x1000", "--batch", "x"],
    "graph": ["graph", "tanh(x @ W) * x", "x:20000x40", "W:40x40", "--batch", "x"],
}


def _least_budget(argv) -> int | None:
    """The least --max-memory (to 3 %) under which ``argv`` answers, or None if 256 MiB does not do."""
    lo, hi = 16 * 1024, 256 * 2**20
    code, _ = jac(*argv, "--max-memory", str(hi))[:2]
    if code not in (0, 1):
        return None
    while hi > lo * 1.05:
        mid = (lo * hi) ** 0.5
        code = jac(*argv, "--max-memory", str(int(mid)))[0]
        lo, hi = (lo, int(mid)) if code in (0, 1) else (int(mid), hi)
    return hi


@clause
def max_memory_peak():
    """--max-memory bounds the whole command, --json's text included: at the least budget a command accepts,
    the traced peak stays within it (5 % and 1 MiB of Python objects beside: the parse, plans, SymPy)."""
    for name, cases in (("--max-memory bounds the peak (--json)", PEAK_CASES),
                        ("--max-memory bounds the peak (--batch --json)", PEAK_BATCHED)):
        for command, argv in cases.items():
            budget = _least_budget(argv)
            if budget is None:
                record(name, command, False, "refused at 256 MiB")
                continue
            code, peak = _held([*argv, "--max-memory", str(budget), "--json"])
            ok = code in (0, 1) and peak <= budget * 1.05 + 2**20
            record(name, command, ok, f"least budget {budget / 2**20:.2f} MiB, peak {peak / 2**20:.2f} MiB "
                                      f"with --json (exit {code})")
            if VERBOSE:
                print(f"{command:10} budget {budget / 2**20:7.2f} MiB  peak {peak / 2**20:7.2f} MiB")


@clause
def timeout_symbolic():
    """--timeout with symbolic work: a `limit` error, exit 2 (jac diff, jac eval --symbolic)."""
    name = "--timeout symbolic -> limit"
    # slow on purpose (tests/test_robustness.py's): 625 component formulas; det's 120 terms, --order 2 of a product
    for command, args in {"diff": ["diff", "cumsum(inv(A), 0)", "A:5x5"],
                          "eval": ["eval", "det(A)", "A:5x5", "--symbolic"]}.items():
        code, obj, err = jac(*args, "--timeout", "0.3")
        kind = (obj or {}).get("error", {}).get("kind")
        record(name, command, code == 2 and kind == "limit", f"exit {code}, kind {kind}: {err.strip()[:200]}")


def _pipe_args(command):
    big = ["x:60", "W:60x60"]
    return {
        "eval": ["eval", "tanh(x @ W) * x", *big], "vjp": ["vjp", "tanh(x @ W) * x", *big, "--v", "ones"],
        "jvp": ["jvp", "tanh(x @ W) * x", *big, "--tangent", "x=ones(60)"],
        "hessian": ["hessian", "(tanh(x @ W) * x).sum()", *big], "derivative": ["derivative", "tanh(x @ W) * x", *big,
                                                                              "--wrt", "x", "--order", "2"],
        "check": ["check", "tanh(x @ W) * x", *big],
        "shape": ["shape", ", ".join(f"x * {i}" for i in range(600)), *big],  # 600 outputs' shapes: 300 kB
        "graph": ["graph", "tanh(x @ W) * x", *big], "diff": ["diff", "cumsum(x, 0) * x", "x:60", "--wrt", "x"],  # 140 kB of formulas
    }[command]


@clause
def closed_pipe():
    """`jac ... --json | true`: every command ends quietly with one exit code (141), batched or not."""
    name = "closed pipe: one exit code"
    for batched in (False, True):
        for command in [c for c in COMMANDS if c != "run"]:
            args = _pipe_args(command) + (["--batch", "x:0"] if batched and command not in ("diff",) else [])
            if batched and command in ("diff",):
                continue
            if batched:
                args = [a if a != "x:60" else ("x:400x60" if command == "graph" else "x:5x60") for a in args]
                args = [a if a != "x=ones(60)" else "x=ones(5, 60)" for a in args]
            cmd = " ".join(f"'{a}'" for a in [sys.executable, "-m", "jacobi_cli", *args, "--json"])
            # `| true`: the reader is gone before jac (0.2 s of start-up at least) writes its first byte, so every
            # command meets the closed pipe, whatever its output's size (`| head -c1` races a text the buffer holds)
            p = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd} | true; "
                                              "echo ${PIPESTATUS[0]} >&2"], capture_output=True, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": ROOT}, timeout=300)
            lines = p.stderr.strip().splitlines()
            code = lines[-1] if lines else "?"
            noise = [line for line in lines[:-1] if line.strip()]
            record(name + (" (--batch)" if batched else ""), command, code == "141" and not noise,
                   f"exit {code}, stderr {noise[:3]}")


# ---------------------------------------------------------------- errors

ERRORS = {  # kind -> (expression, bindings); every command that takes them
    "parse": ("sin(x", ["x:2"]),
    "name": ("foo(x)", ["x:2"]),
    "shape": ("x @ W", ["x:3", "W:2x2"]),
    "value": ("x.sum()", ["x=[[1, 2], [3]]"]),
    "io": ("x.sum()", ["x=@/nonexistent/x.npy"]),
    "limit": ("x.sum()", ["x:1000", "--max-memory", "100"]),
    "usage": ("x.sum()", ["x:2", "--dtype", "float16"]),
}


def _error_extra(command):
    return {"derivative": ["--order", "2"], "diff": ["--wrt", "x"], "jvp": ["--tangent", "x=[1, 1]"]}.get(command, [])


@clause
def error_kinds():
    """Every error kind on every command: exit 2, one stderr message, {"error": {kind, message, position}}."""
    for kind, (text, bind) in ERRORS.items():
        name = f"error kind {kind}"
        for command in [c for c in COMMANDS if c != "run"]:
            if command in ("shape",) and kind in ("io",):
                bind_ = bind
            else:
                bind_ = bind
            code, obj, err = jac(command, text, *bind_, *_error_extra(command))
            if command == "shape" and kind == "limit":
                record(name, command, code == 0, f"jac shape needs no values: exit {code}")
                continue
            e = (obj or {}).get("error")
            bad = []
            if code != 2:
                bad.append(f"exit {code}")
            if not isinstance(e, dict) or list(obj) != ["error"]:
                bad.append(f"json {str(obj)[:120]}")
            else:
                if e.get("kind") != kind:
                    bad.append(f"kind {e.get('kind')}")
                if not isinstance(e.get("message"), str) or not e["message"]:
                    bad.append("message")
                if "position" not in e or not (e["position"] is None or type(e["position"]) is int):
                    bad.append(f"position {e.get('position', 'missing')!r}")
                if not {"kind", "message", "position"} <= set(e):
                    bad.append(f"keys {list(e)}")
            if "Traceback" in err or not err.startswith("jac: error"):
                bad.append(f"stderr {err[:120]!r}")
            record(name, command, not bad, "; ".join(bad))
    # jac run: a suite with an error is exit 2 and the error object
    with tempfile.TemporaryDirectory() as d:
        suite = os.path.join(d, "s.toml")
        for kind, body in {"parse": 'expr = "sin(x"', "name": 'expr = "foo(x)"', "usage": 'expr = "x"\nbogus = 1'}.items():
            with open(suite, "w") as f:
                f.write(f'[[case]]\nname = "c"\n{body}\nbindings = {{x = "[1.0]"}}\n')
            code, obj, err = jac("run", suite)
            record(f"error kind {kind}", "run", code in (1, 2) and obj is not None and "Traceback" not in err,
                   f"exit {code}, json {str(obj)[:150]}")
        code, obj, err = jac("run", os.path.join(d, "missing.toml"))
        e = (obj or {}).get("error", {})
        record("error kind io", "run", code == 2 and e.get("kind") == "io", f"exit {code}, {str(obj)[:150]}")


@clause
def error_batch():
    """--batch errors on every command: an unknown name is `name`, a wrong axis or sizes `shape`, exit 2 + JSON."""
    for what, args, want in [("--batch z (no input z)", ["--batch", "z"], "name"),
                             ("--batch x:5 (no axis 5)", ["--batch", "x:5"], "shape"),
                             ("--batch x W (sizes 3, 2)", ["--batch", "x", "--batch", "W"], "shape"),
                             ("--batch x:a", ["--batch", "x:a"], "usage")]:
        name = f"batch error {what}"
        for command in ["eval", "vjp", "jvp", "hessian", "derivative", "check", "shape", "graph"]:
            text = B_TEXT if command == "hessian" else A_TEXT
            bind = [f"x={X.tolist()}", f"W={W.tolist()}"] if command != "shape" else ["x:3x2", "W:2x2"]
            code, obj, err = jac(command, text, *bind, *args, *_error_extra(command))
            e = (obj or {}).get("error", {})
            record(name, command, code == 2 and e.get("kind") == want and "Traceback" not in err,
                   f"exit {code}, kind {e.get('kind')}: {err.strip()[:160]}")


def table():
    names = list(dict.fromkeys(c for c, _ in RESULTS))
    if not names:
        print("no clause matched")
        return 1
    width = max(len(n) for n in names) + 1
    print("clause".ljust(width) + "".join(c[:6].ljust(7) for c in COMMANDS))
    for n in names:
        print(n.ljust(width) + "".join(RESULTS.get((n, c), ("-", ""))[0].ljust(7) for c in COMMANDS))
    fails = [(k, v[1]) for k, v in RESULTS.items() if v[0] == "FAIL"]
    for (n, c), detail in fails:
        print(f"FAIL {n} / {c}: {detail}")
    passed = sum(v[0] == "PASS" for v in RESULTS.values())
    print(f"{passed} PASS, {len(fails)} FAIL over {len(RESULTS)} cells")
    return 1 if fails else 0


def main(argv=None):
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="run the clauses whose function name holds this")
    fuzzkit.add_part_flags(ap)
    a = ap.parse_args(argv)
    VERBOSE = a.v
    for fn in fuzzkit.part_of([fn for fn in CLAUSES if a.k in fn.__name__], a.part, a.sample):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a probe's own crash is a FAIL of the clause, not the end
            record(fn.__name__ + " (probe crashed)", "eval", False, repr(e))
    return table()


if __name__ == "__main__":
    sys.exit(main())
