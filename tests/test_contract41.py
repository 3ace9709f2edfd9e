"""Session 41: ../shared/CONTRACT.md sentence by sentence, across the cross-product users hit.

Every command that computes (eval vjp jvp hessian derivative check graph shape diff) x --json x --batch NAME /
NAME:AXIS x one output / a named tuple / an unnamed tuple x --dtype float32 x --wrt, the JSON keys and shapes as
the contract lists them, values against PyTorch (``torch.func``; vjp as ``torch.autograd.backward`` leaves ``.grad``),
the derivative-shape table cell by cell, EXPR and binding forms, files, memory, signals, pipes and errors.
Each test names the sentence it pins in a comment. In this process through ``entry.main`` (as the ``jac`` script
runs it); exit codes of signals and pipes in real processes."""
from __future__ import annotations

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jacobi_cli.cli import entry

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT), JAC_DEBUG="")


def jac(capsys, *args):
    code = entry.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *args):
    code, out, err = jac(capsys, *args, "--json")
    assert code == 0, (args, out, err)
    assert out.count("\n") <= 1 and "Traceback" not in err  # exactly one JSON object on standard output
    return json.loads(out)


def error_of(capsys, *args, code=2):
    got, out, err = jac(capsys, *args, "--json")
    assert got == code, (args, out, err)
    assert "Traceback" not in err and err.strip() and len(err.strip().splitlines()) <= 3, err
    e = json.loads(out)["error"]
    assert set(e) >= {"kind", "message", "position"}
    return e


def plain(value):
    """A JSON value back to an array: the strings "NaN" / "Infinity" / "-Infinity" as the floats."""
    def walk(v):
        if isinstance(v, list):
            return [walk(u) for u in v]
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v) if isinstance(v, str) else v
    return np.array(walk(value), dtype=float)


# ---------------------------------------------------------------------------------------------------------------
# The cross-product: command x batch x outputs x dtype x wrt, against PyTorch
# ---------------------------------------------------------------------------------------------------------------
XS = np.array([[0.5, 1.0], [1.5, -0.7], [0.3, 2.0]])  # three examples of x (n = 2)
W = np.array([0.5, 2.0])  # a shared weight, never batched
EXPRS = {  # the contract: "named by their variable (or y0, y1, ... for unnamed expressions)"
    "one": ("sin(x) * w", None),
    "named": ("a = sin(x) * w; b = sum(x**2) + w[0]; a, b", ("a", "b")),
    "unnamed": ("sin(x) * w, sum(x**2) + w[0]", ("y0", "y1")),
}
BATCHES = {"none": None, "x": "x", "x:1": "x:1"}


def torch_outputs(x, w):
    import torch
    a = torch.sin(x) * w
    b = torch.sum(x ** 2) + w[0]
    return a, b


def example_bindings(batch):
    """The bindings for a batch spec, and the examples (x, w) each stands for."""
    if batch is None:
        return [f"x={XS[0].tolist()}", f"w={W.tolist()}"], [XS[0]]
    xs = XS if batch == "x" else XS.T  # NAME:AXIS: the batch axis is axis 1 of the binding
    return [f"x={xs.tolist()}", f"w={W.tolist()}", "--batch", batch], list(XS)


def reference(kind, command, x, w, wrt):
    """PyTorch's per-example results for the cases of the cross-product: {output: {...}}."""
    import torch
    from torch.func import hessian, jacrev, jvp
    tx, tw = torch.tensor(x), torch.tensor(w)
    names = EXPRS[kind][1] or ("y",)
    fns = [lambda x, w: torch_outputs(x, w)[0], lambda x, w: torch_outputs(x, w)[1]][:len(names)]
    inputs = {"x": 0, "w": 1} if wrt is None else {"x": 0}
    out = {}
    for name, fn in zip(names, fns):
        r = {"value": fn(tx, tw).numpy()}
        if command == "eval":
            r["jacobian"] = {n: jacrev(fn, argnums=i)(tx, tw).numpy() for n, i in inputs.items()}
        if command == "hessian":
            # block "IN,IN2": y.shape + x_i.shape + x_j.shape, torch.func.hessian's order
            r["hessian"] = {f"{a},{b}": jacrev(jacrev(fn, argnums=i), argnums=j)(tx, tw).numpy()
                            for a, i in inputs.items() for b, j in inputs.items()}
        if command == "derivative":
            r["derivative"] = hessian(fn, argnums=0)(tx, tw).numpy()
        if command == "jvp":
            r["jvp"] = jvp(lambda x: fn(x, tw), (tx,), (torch.ones_like(tx),))[1].numpy()
        out[name] = r
    if command == "vjp":  # torch.autograd.backward([outs], [vs]) with v ones for every output
        tx.requires_grad_(True)
        tw.requires_grad_(wrt is None)
        outs = [fn(tx, tw) for fn in fns]
        torch.autograd.backward(outs, [torch.ones_like(o) for o in outs])
        out["vjp"] = {"x": tx.grad.numpy()} | ({"w": tw.grad.numpy()} if wrt is None else {})
    return out


EXTRA = {"eval": [], "vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "hessian": [],
         "derivative": ["--order", "2"], "check": [], "graph": ["--backward"], "shape": [], "diff": []}
CROSS = [(c, k, b, d, wrt) for c in EXTRA for k in EXPRS for b in BATCHES for d in ("float64", "float32")
         for wrt in (None, "x")]


def several_v(command, kind):
    """`--v ones` names no output; with several outputs it is given once per output."""
    if command not in ("vjp", "graph"):
        return EXTRA[command]
    names = EXPRS[kind][1]
    vs = ["--v", "ones"] if names is None else [a for n in names for a in ("--v", f"{n}=ones")]
    return vs + (["--backward"] if command == "graph" else [])


@pytest.mark.parametrize("command,kind,batch,dtype,wrt", CROSS,
                         ids=[f"{c}-{k}-batch={b}-{d}-wrt={w}" for c, k, b, d, w in CROSS])
def test_every_command_json_batch_outputs_dtype_wrt(capsys, command, kind, batch, dtype, wrt):
    # "Every command that computes takes it [--batch]"; "--json: exactly one JSON object ... Keys, for every
    # command that computes: jac_version, command, expression (as given), inputs, output"; "Several outputs ...
    # outputs instead of output"; "Options shared by the commands that compute: --wrt, --json, --dtype"
    pytest.importorskip("torch")
    expr, names = EXPRS[kind]
    binds, examples = example_bindings(BATCHES[batch])
    if command == "diff" and BATCHES[batch]:  # jac diff --batch takes shapes, not values (its docs; refused below)
        binds = ["x:3x2" if batch == "x" else "x:2x3", "w:2", "--batch", BATCHES[batch]]
    if command == "derivative" and wrt is None:
        binds += ["--wrt", "x"]  # one input: the contract's "with respect to one input"
    obj = ok(capsys, command, expr, *binds, *several_v(command, kind), "--dtype", dtype,
             *(["--wrt", wrt] if wrt else []))
    assert obj["jac_version"] == 1 and obj["command"] == command and obj["expression"] == expr
    wrt_in = {"x"} if wrt or command == "derivative" else {"x", "w"}
    assert set(obj["inputs"]) == {"x", "w"}
    for n, spec in obj["inputs"].items():  # "inputs: {NAME: {shape, kind, requires_grad}}", one example's shape
        assert spec["shape"] == [2] and spec["kind"] == "vector" and spec["requires_grad"] == (n in wrt_in)
    if BATCHES[batch]:  # "batch": {"size": B, "inputs": {NAME: AXIS}} at the top level
        # (check adds "failed": the examples that failed; the contract's two keys are as it lists them)
        assert {k: obj["batch"][k] for k in ("size", "inputs")} == {"size": 3, "inputs": {"x": 0 if batch == "x" else 1}}
    else:
        assert "batch" not in obj
    outs = [obj["output"]] if names is None else obj["outputs"]
    assert ("output" in obj) == (names is None) and ("outputs" in obj) == (names is not None)
    if names is not None:
        assert [o["name"] for o in outs] == list(names)
    for o, shape in zip(outs, ([2], [])):
        assert o["shape"] == shape and o["kind"] == ("vector" if shape else "scalar")
    if command == "shape" or (command == "diff" and BATCHES[batch]):
        if command == "shape":
            check_shape_keys(obj, names, wrt_in)
        return
    # jac diff --dtype float32 rounds the point to float32 and computes SymPy's exact formulas there in float64
    # (docs/commands.md): values as float32's to float32's precision; every other command computes in float32
    rtol = 1e-12 if dtype == "float64" else 2e-6
    refs = [reference(kind, command, x, W, None if wrt_in == {"x", "w"} else "x") for x in examples]
    batched = BATCHES[batch] is not None

    def stacked(get):
        arrays = [np.asarray(get(r)) for r in refs]
        return np.stack(arrays) if batched else arrays[0]

    def close(got, want, what):
        got = plain(got)
        assert got.shape == np.shape(want), (what, got.shape, np.shape(want))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=what)
        if dtype == "float32" and command != "diff":  # every value converted to --dtype: the numbers are float32's
            # (printed as float32's shortest digits, not float64's: 1.682942, not 1.6829419696157930)
            assert all(float(str(np.float32(v))) == v for v in got.ravel() if np.isfinite(v)), what

    onames = names or ("y",)
    for o, n in zip(outs, onames):
        if "value" in o:  # 0-d values plain numbers: a scalar output unbatched is a number, not a list
            close(o["value"], stacked(lambda r: r[n]["value"]), f"value of {n}")
            if not batched and o["shape"] == []:
                assert isinstance(o["value"], float)
    check_command(command, obj, names, onames, wrt_in, stacked, close)


def check_shape_keys(obj, names, wrt_in):
    # "shape: derivatives: {NAME: {shape, math_shape, kind}} (no values)"; several: one block per output
    blocks = {"y": obj["derivatives"]} if names is None else obj["derivatives"]
    assert set(blocks) == set(names or ("y",))
    for out, per in blocks.items():
        assert set(per) == wrt_in
        for block in per.values():
            assert "value" not in block and {"shape", "math_shape", "kind"} <= set(block)
            want = [2, 2] if out in ("y", "a", "y0") else [2]
            assert block["shape"] == want and block["math_shape"] == ([2, 2] if len(want) == 2 else [1, 2])


def check_command(command, obj, names, onames, wrt_in, stacked, close):
    several = names is not None
    if command == "eval":
        # one: "jacobian": {NAME: {shape, math_shape, layout, value}}; several: "jacobians": {OUT: {IN: block}}
        jac_ = obj["jacobians"] if several else {"y": obj["jacobian"]}
        assert ("jacobian" in obj) != several
        for n in onames:
            assert set(jac_[n]) == wrt_in
            for i, block in jac_[n].items():
                assert block["layout"] == "array" and {"shape", "math_shape", "value"} <= set(block)
                want = stacked(lambda r: r[n]["jacobian"][i])
                assert block["shape"] == list(want.shape[1:] if obj.get("batch") else want.shape)
                close(block["value"], want, f"jacobian {n} {i}")
    elif command == "vjp":
        # "v": one: {shape, value}; "vjp": {NAME: {shape, value}} as torch.autograd.backward([outs], [vs]) leaves
        assert set(obj["vjp"]) == wrt_in
        if several:
            assert set(obj["v"]) == set(names)
        else:
            assert {"shape", "value"} <= set(obj["v"])
        for i, block in obj["vjp"].items():
            assert block["shape"] == [2]
            close(block["value"], stacked(lambda r: r["vjp"][i]), f"vjp {i}")
    elif command == "jvp":
        # "tangent": {NAME: {...}}, one: "jvp": {shape, value}; several: "jvps": {OUT: {shape, value}}
        assert set(obj["tangent"]) == {"x"}
        jv = obj["jvps"] if several else {"y": obj["jvp"]}
        assert ("jvp" in obj) != several
        for n in onames:
            close(jv[n]["value"], stacked(lambda r: r[n]["jvp"]), f"jvp {n}")
    elif command == "hessian":
        # one: "hessian": {"NAME,NAME2": block}; several: "hessians": {OUT: {"IN,IN2": block}};
        # block shape y.shape + x_i.shape + x_j.shape
        hs = obj["hessians"] if several else {"y": obj["hessian"]}
        assert ("hessian" in obj) != several
        for n in onames:
            assert set(hs[n]) == {f"{a},{b}" for a in wrt_in for b in wrt_in}
            for key, block in hs[n].items():
                want = stacked(lambda r: r[n]["hessian"][key])
                yshape = [2] if n in ("y", "a", "y0") else []
                assert block["shape"] == yshape + [2, 2]
                close(block["value"], want, f"hessian {n} {key}")
    elif command == "derivative":
        # "derivative": {NAME: {order, shape, value}}, shape y.shape + x.shape * K
        ds = obj["derivatives"] if several else {"y": obj["derivative"]}
        for n in onames:
            block = ds[n]["x"]
            assert block["order"] == 2
            assert block["shape"] == ([2] if n in ("y", "a", "y0") else []) + [2, 2]
            close(block["value"], stacked(lambda r: r[n]["derivative"]), f"derivative {n}")
    elif command == "check":
        assert all(spec["passed"] for spec in obj["inputs"].values() if spec["requires_grad"])
    elif command == "graph":
        assert obj["backward"] is True and any(node["grad"] is not None for node in obj["nodes"])
    elif command == "diff":
        per = obj["derivatives"] if several else {"y": obj["derivative"]}
        for n in onames:
            assert set(per[n]) == wrt_in
