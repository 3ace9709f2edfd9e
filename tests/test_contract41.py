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


# ---------------------------------------------------------------------------------------------------------------
# vjp: "what y.backward(gradient=v) leaves in x.grad"; several outputs "as torch.autograd.backward([outs], [vs])"
# ---------------------------------------------------------------------------------------------------------------
def torch_backward(fn, values, vs):
    """What torch.autograd.backward(outs, vs) leaves in each input's .grad (None: never reached)."""
    import torch
    leaves = {n: torch.tensor(np.asarray(v, dtype=float), requires_grad=True) for n, v in values.items()}
    outs = fn(**leaves)
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [(o, torch.tensor(np.asarray(v, dtype=float))) for o, v in zip(outs, vs) if v is not None]
    torch.autograd.backward([o for o, _ in pairs], [v for _, v in pairs])
    return {n: (t.grad.numpy() if t.grad is not None else np.zeros(t.shape)) for n, t in leaves.items()}


def _two(x, A):
    import torch
    a = torch.tanh(A @ x)
    b = (x ** 3).sum()
    return a, b


VJP_CASES = {  # id: (expression, bindings, options, the torch function, the v of each output (None: left out))
    "one output, --v VALUE": ("tanh(A @ x)", {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                              ["--v", "[2, -3]"], lambda x, A: _two(x, A)[0], [[2, -3]]),
    "one output, --v ones": ("tanh(A @ x)", {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                             ["--v", "ones"], lambda x, A: _two(x, A)[0], [[1, 1]]),
    "a 0-d output, no --v (backward())": ("(x ** 3).sum()", {"x": [0.3, -0.4, 0.9], "A": [[1.0]]}, [],
                                          lambda x, A: (x ** 3).sum(), [1.0]),
    "a one-element vector output, no --v": ("x[1:2] * 3", {"x": [0.3, -0.4, 0.9], "A": [[1.0]]}, [],
                                            lambda x, A: x[1:2] * 3, [[1.0]]),
    "a one-element matrix output, no --v": ("A[0:1, 1:2] * x[0]", {"x": [0.3, -0.4], "A": [[1, 2], [3, 4]]}, [],
                                            lambda x, A: A[0:1, 1:2] * x[0], [[[1.0]]]),
    "several, every --v": ("a = tanh(A @ x); b = (x ** 3).sum(); a, b",
                           {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                           ["--v", "a=[2, -3]", "--v", "b=0.5"], _two, [[2, -3], 0.5]),
    "several, b left out counts as zero": ("a = tanh(A @ x); b = (x ** 3).sum(); a, b",
                                           {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                                           ["--v", "a=[2, -3]"], _two, [[2, -3], None]),
    "several, a left out counts as zero": ("a = tanh(A @ x); b = (x ** 3).sum(); a, b",
                                           {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                                           ["--v", "b=-2"], _two, [None, -2.0]),
    "several, --v OUT=ones": ("a = tanh(A @ x); b = (x ** 3).sum(); a, b",
                              {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                              ["--v", "a=ones"], _two, [[1, 1], None]),
    "several scalars, no --v: ones each (backward of each)": (
        "(x ** 3).sum(), (A @ x).sum()", {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]}, [],
        lambda x, A: ((x ** 3).sum(), (A @ x).sum()), [1.0, 1.0]),
    "several unnamed, --v y1=": ("(x ** 3).sum(), A @ x", {"x": [0.3, -0.4, 0.9], "A": [[1, 2, 0.5], [0.1, -1, 2]]},
                                 ["--v", "y1=[1, -1]"], lambda x, A: ((x ** 3).sum(), A @ x), [None, [1, -1]]),
    "an output that is an input": ("x", {"x": [0.3, -0.4], "A": [[1.0]]}, ["--v", "[5, 6]"], lambda x, A: x,
                                   [[5, 6]]),
}


@pytest.mark.parametrize("case", list(VJP_CASES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vjp_is_what_backward_leaves_in_grad(capsys, case, dtype):
    # "jac vjp: the vector-Jacobian product for each input: what y.backward(gradient=v) leaves in x.grad";
    # "--v OUT=VALUE once per output (omitted outputs count as zero; a lone one-element output needs no --v),
    # and "vjp": {IN: ...} as torch.autograd.backward([outs], [vs]) leaves in .grad"; "--v ones" shorthand
    pytest.importorskip("torch")
    expr, values, options, fn, vs = VJP_CASES[case]
    obj = ok(capsys, "vjp", expr, *[f"{n}={v}" for n, v in values.items()], *options, "--dtype", dtype)
    if dtype == "float32":
        values = {n: np.asarray(v, dtype=np.float32).astype(float) for n, v in values.items()}
    want = torch_backward(fn, values, vs)
    # every bound input (--wrt's default), one the output does not reach too: zeros where PyTorch's .grad is None
    assert set(obj["vjp"]) == set(values)
    for n in values:
        got = plain(obj["vjp"][n]["value"])
        assert obj["vjp"][n]["shape"] == list(np.shape(values[n]))
        np.testing.assert_allclose(got, want[n], rtol=1e-12 if dtype == "float64" else 1e-5, atol=1e-6, err_msg=n)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("axis", [0, 1])
def test_batched_vjp_v_carries_the_output_batch_axis_and_matches_vmap(capsys, dtype, axis):
    # "--v and --tangent values carry the batch axis of the output / input"; "Results are per example, the batch
    # axis first"; a Jacobian block of an input that is not batched: "per-example gradients of shared weights"
    torch = pytest.importorskip("torch")
    from torch.func import vjp, vmap
    xs = np.array([[0.3, -0.4, 0.9], [1.0, 0.2, -0.5]])
    A = np.array([[1, 2, 0.5], [0.1, -1, 2]])
    v = np.array([[2.0, -3.0], [0.5, 1.5]])
    binding = xs if axis == 0 else xs.T
    obj = ok(capsys, "vjp", "tanh(A @ x)", f"x={binding.tolist()}", f"A={A.tolist()}", "--batch", f"x:{axis}",
             "--v", str(v.tolist()), "--dtype", dtype)

    def one(x, v_):
        return vjp(lambda x, A: torch.tanh(A @ x), x, torch.tensor(A))[1](v_)
    gx, gA = vmap(one)(torch.tensor(xs), torch.tensor(v))
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(plain(obj["vjp"]["x"]["value"]), gx.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(plain(obj["vjp"]["A"]["value"]), gA.numpy(), rtol=tol, atol=tol)
    assert obj["vjp"]["A"]["shape"] == [2, 3] and plain(obj["vjp"]["A"]["value"]).shape == (2, 2, 3)


def test_batched_vjp_with_an_example_shaped_v_is_refused_naming_both_shapes(capsys):
    # "--v ... values carry the batch axis of the output": one example's shape is refused, saying the shape wanted
    e = error_of(capsys, "vjp", "x * 2", "x=[[1, 2], [3, 4], [5, 6]]", "--batch", "x", "--v", "[1, 2]")
    assert e["kind"] == "shape" and "(2,)" in e["message"] and "(3, 2)" in e["message"]


@pytest.mark.parametrize("axis", [0, 1])
def test_batched_jvp_tangent_carries_the_input_batch_axis_and_matches_vmap(capsys, axis):
    # "--tangent values carry the batch axis of ... the input"
    torch = pytest.importorskip("torch")
    from torch.func import jvp, vmap
    xs = np.array([[0.3, -0.4, 0.9], [1.0, 0.2, -0.5]])
    ts = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.25]])
    A = np.array([[1, 2, 0.5], [0.1, -1, 2]])
    tr = (lambda a: a) if axis == 0 else (lambda a: a.T)
    obj = ok(capsys, "jvp", "tanh(A @ x)", f"x={tr(xs).tolist()}", f"A={A.tolist()}", "--batch", f"x:{axis}",
             "--tangent", f"x={tr(ts).tolist()}")
    want = vmap(lambda x, t: jvp(lambda x: torch.tanh(torch.tensor(A) @ x), (x,), (t,))[1])(
        torch.tensor(xs), torch.tensor(ts))
    np.testing.assert_allclose(plain(obj["jvp"]["value"]), want.numpy(), rtol=1e-12)
    assert obj["jvp"]["shape"] == [2]


@pytest.mark.parametrize("options,words", [
    ([], ["(2,)", "--v", "grad can be implicitly created only for scalar outputs"]),
    (["--batch", "x"], ["(2,)", "--v", "grad can be implicitly created only for scalar outputs"]),
])
def test_vjp_without_v_of_a_vector_output_is_exit_2_naming_shape_and_option(capsys, options, words):
    # "jac vjp without --v works only for an output with one element ... otherwise it fails with exit 2 and says
    # so, naming the output's shape and --v (PyTorch's words ...)"
    x = "x=[[1, 2], [3, 4]]" if options else "x=[1, 2]"
    e = error_of(capsys, "vjp", "sin(x)", x, *options)
    assert all(w in e["message"] for w in words), e


def test_vjp_of_several_outputs_without_v_for_a_vector_one_names_that_output(capsys):
    # "a lone one-element output needs no --v": a vector output among several still needs its --v OUT=VALUE
    e = error_of(capsys, "vjp", "a = sin(x); b = sum(x); a, b", "x=[1, 2]")
    assert "a" in e["message"] and "(2,)" in e["message"] and "--v a=" in e["message"]


# ---------------------------------------------------------------------------------------------------------------
# Kinds and the derivative-shape table, every cell and tensors, in jac shape, jac eval and jac diff
# ---------------------------------------------------------------------------------------------------------------
YS = {"scalar": (), "vector": (3,), "matrix": (3, 4), "tensor": (3, 4, 2)}
XS_ = {"scalar": (), "vector": (5,), "matrix": (5, 7), "tensor": (2, 5, 3)}


def math_shape(ykind, xkind):
    """The contract's table (numerator layout, y down, x across); tensors y.shape + x.shape."""
    y, x = YS[ykind], XS_[xkind]
    if "tensor" in (ykind, xkind):
        return list(y + x)
    table = {  # the contract's rows: scalar y, vector y (m), matrix Y (m, l); columns: scalar x, x (n), X (n, k)
        "scalar": {"scalar": (1,), "vector": (1,) + x, "matrix": x[::-1]},
        "vector": {"scalar": y + (1,), "vector": y + x, "matrix": y + x[::-1]},
        "matrix": {"scalar": y, "vector": y + x, "matrix": y + x[::-1]},
    }
    return list(table[ykind][xkind])


def shape_text(s):
    return "()" if not s else "x".join(map(str, s))


CELLS = list(itertools.product(YS, XS_))


@pytest.mark.parametrize("ykind,xkind", CELLS, ids=[f"{y} y by {x} x" for y, x in CELLS])
def test_math_shape_of_every_cell_of_the_kinds_table(capsys, ykind, xkind):
    # "An input or output is a scalar (0-d), a vector (1-d ...), a matrix (2-d, n×k), or a tensor (3-d and up).
    # math_shape is the numerator layout of this table"; "For tensors math_shape is y.shape + x.shape. The array
    # layout ... is always y.shape + x.shape"
    expr = "sum(x) * C" if YS[ykind] else "sum(x)"
    want_math, want_array = math_shape(ykind, xkind), list(YS[ykind] + XS_[xkind])
    shape = ok(capsys, "shape", expr, f"x:{shape_text(XS_[xkind])}", f"C:{shape_text(YS[ykind])}", "--wrt", "x")
    block = shape["derivatives"]["x"]
    assert (block["shape"], block["math_shape"]) == (want_array, want_math)
    assert shape["inputs"]["x"]["kind"] == xkind and shape["output"]["kind"] == ykind
    ev = ok(capsys, "eval", expr, f"x:{shape_text(XS_[xkind])}", f"C:{shape_text(YS[ykind])}", "--wrt", "x")
    block = ev["jacobian"]["x"]
    assert (block["shape"], block["math_shape"], block["layout"]) == (want_array, want_math, "array")
    assert plain(block["value"]).shape == tuple(want_array)
    num = ok(capsys, "eval", expr, f"x:{shape_text(XS_[xkind])}", f"C:{shape_text(YS[ykind])}", "--wrt", "x",
             "--layout", "numerator")["jacobian"]["x"]
    assert num["layout"] == "numerator" and int(np.prod(plain(num["value"]).shape)) == int(np.prod(want_math))
    assert plain(num["value"]).reshape(-1).size == plain(block["value"]).size


@pytest.mark.parametrize("ykind,xkind", [("vector", "matrix"), ("matrix", "vector"), ("scalar", "matrix")])
def test_math_shape_describes_one_example_under_batch(capsys, ykind, xkind):
    # "Shapes and math_shape describe one example."
    expr = "sum(x) * C" if YS[ykind] else "sum(x)"
    obj = ok(capsys, "shape", expr, f"x:{shape_text((6,) + XS_[xkind])}", f"C:{shape_text(YS[ykind])}", "--wrt",
             "x", "--batch", "x")
    block = obj["derivatives"]["x"]
    assert block["math_shape"] == math_shape(ykind, xkind) and block["shape"] == list(YS[ykind] + XS_[xkind])
    assert obj["batch"]["size"] == 6 and obj["inputs"]["x"]["shape"] == list(XS_[xkind])


@pytest.mark.parametrize("ykind,xkind", [("scalar", "matrix"), ("vector", "matrix"), ("matrix", "vector")])
def test_math_shape_with_symbolic_sizes_in_shape_and_diff(capsys, ykind, xkind):
    # "For jac shape and jac diff, a size may be a letter, kept symbolic: x:n, A:nxm"
    xs = {"vector": "n", "matrix": "nxk"}[xkind]
    ys = {"scalar": None, "vector": "m", "matrix": "mxl"}[ykind]
    expr = "sum(x) * C" if ys else "sum(x)"
    binds = [f"x:{xs}"] + ([f"C:{ys}"] if ys else [])
    want = {("scalar", "matrix"): ["k", "n"], ("vector", "matrix"): ["m", "k", "n"],
            ("matrix", "vector"): ["m", "l", "n"]}[(ykind, xkind)]
    assert ok(capsys, "shape", expr, *binds, "--wrt", "x")["derivatives"]["x"]["math_shape"] == want
    block = ok(capsys, "diff", expr, *binds, "--wrt", "x")["derivative"]["x"]
    # jac diff, where a derivative has no matrix form, lists components at sizes it picks and says so ("note",
    # "sizes"): its math_shape is then the same table's at those sizes
    sizes = block.get("sizes", {})
    assert block["math_shape"] == [sizes.get(s, s) for s in want]
    assert ("sizes" in block) == ("note" in block) == (block["form"] == "components")


# ---------------------------------------------------------------------------------------------------------------
# EXPR forms: "@path", "-" (standard input), an EXPR that begins with "-"
# ---------------------------------------------------------------------------------------------------------------
COMMANDS = {"eval": [], "vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "hessian": [],
            "derivative": ["--order", "2", "--wrt", "x"], "check": [], "graph": [], "shape": [],
            "diff": ["--wrt", "x"]}
SEVERAL = "a = -x * 2; b = sum(sin(x)); a, b"


def bind_for(command):
    return "x:2" if command == "shape" else "x=[0.5, 1.5]"


def several_options(command):
    return {"vjp": ["--v", "a=ones", "--v", "b=2"]}.get(command, COMMANDS[command])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_expr_from_a_file_is_the_expression_as_given(capsys, tmp_path, command):
    # "EXPR may be @path (read the expression from a file)"; "expression": "<as given>"
    path = tmp_path / "e.jac"
    path.write_text(SEVERAL + "\n")
    direct = ok(capsys, command, SEVERAL, bind_for(command), *several_options(command))
    via = ok(capsys, command, f"@{path}", bind_for(command), *several_options(command))
    assert via["expression"] in (f"@{path}", SEVERAL, SEVERAL + "\n")
    drop = ("expression", "timing")
    assert {k: v for k, v in via.items() if k not in drop} == {k: v for k, v in direct.items() if k not in drop}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_expr_from_standard_input(capsys, monkeypatch, command):
    # "EXPR may be ... - (standard input)"
    import io
    direct = ok(capsys, command, SEVERAL, bind_for(command), *several_options(command))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SEVERAL.encode())))
    via = ok(capsys, command, "-", bind_for(command), *several_options(command))
    drop = ("expression",)
    assert {k: v for k, v in via.items() if k not in drop} == {k: v for k, v in direct.items() if k not in drop}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("expr", ["-x", "-(x + x)", "-x.sum(), x * 1", "-x.sum(), x"])
def test_an_expr_beginning_with_minus_is_an_expression(capsys, command, expr):
    # "An EXPR that begins with - ("-x", "-(a + b)") is an expression, not an option, unless it is one of jac's"
    # "named by their variable (or y0, y1, ... for unnamed expressions)": `-x.sum(), x` names its second "x"
    second = "x" if expr.endswith(", x") else "y1"
    options = COMMANDS[command] if command != "vjp" else (["--v", "ones"] if "," not in expr else
                                                            ["--v", "y0=1", "--v", f"{second}=ones"])
    obj = ok(capsys, command, expr, bind_for(command), *options)
    assert obj["expression"] == expr
    if "," in expr:
        assert [o["name"] for o in obj["outputs"]] == ["y0", second]
    if command == "eval" and "," not in expr:
        np.testing.assert_allclose(plain(obj["output"]["value"]), -np.array([0.5, 1.5]) * (2 if "+" in expr else 1))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_expr_that_is_one_of_jacs_options_is_the_option(capsys, command):
    # "... unless it is one of jac's options": `jac CMD --json x=1` has no EXPR: a usage error, exit 2
    code, out, err = jac(capsys, command, "--json", "x=1")
    assert code == 2 and "Traceback" not in err
    assert json.loads(out)["error"]["kind"] == "usage"


# ---------------------------------------------------------------------------------------------------------------
# Bindings: every form, converted to --dtype
# ---------------------------------------------------------------------------------------------------------------
BINDING_FORMS = {  # id: (binding text or a file maker, the array NumPy reads)
    "x=2": ("x=2", np.array(2.0)),
    "x=[1,2,3]": ("x=[1,2,3]", np.array([1.0, 2, 3])),
    "A=[[1,2],[3,4]]": ("x=[[1,2],[3,4]]", np.array([[1.0, 2], [3, 4]])),
    "arange(4.0)": ("x=arange(4.0)", np.arange(4.0)),
    "arange(6).reshape(2,3)": ("x=arange(6).reshape(2,3)", np.arange(6.0).reshape(2, 3)),
    "linspace": ("x=linspace(0, 1, 5)", np.linspace(0, 1, 5)),
    "ones": ("x=ones(3)", np.ones(3)),
    "zeros": ("x=zeros((2, 2))", np.zeros((2, 2))),
    "full": ("x=full((2, 3), 7)", np.full((2, 3), 7.0)),
    "eye": ("x=eye(3)", np.eye(3)),
    "torch.tensor": ("x=torch.tensor([[1, 2], [3, 5]])", np.array([[1.0, 2], [3, 5]])),
    "np.array": ("x=np.array([1.5, -2])", np.array([1.5, -2.0])),
    "constant expression": ("x=[pi, e, 2**3]", np.array([np.pi, np.e, 8.0])),
    ".npy": (lambda d: (np.save(d / "x.npy", np.array([[1, 2, 3]])), f"x=@{d / 'x.npy'}")[1],
             np.array([[1.0, 2, 3]])),
    ".npy 0-d": (lambda d: (np.save(d / "x.npy", np.array(2.5)), f"x=@{d / 'x.npy'}")[1], np.array(2.5)),
    ".csv": (lambda d: ((d / "x.csv").write_text("1,2,3\n4,5,6\n"), f"x=@{d / 'x.csv'}")[1],
             np.array([[1.0, 2, 3], [4, 5, 6]])),
    ".txt vector": (lambda d: ((d / "x.txt").write_text("1 2 3\n"), f"x=@{d / 'x.txt'}")[1], np.array([1.0, 2, 3])),
    ".txt matrix": (lambda d: ((d / "x.txt").write_text("1 2\n3 4\n"), f"x=@{d / 'x.txt'}")[1],
                    np.array([[1.0, 2], [3, 4]])),
    ".json": (lambda d: ((d / "x.json").write_text("[[1, 2], [3, 4.5]]"), f"x=@{d / 'x.json'}")[1],
              np.array([[1.0, 2], [3, 4.5]])),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("form", list(BINDING_FORMS))
def test_every_binding_form_is_read_and_converted_to_dtype(capsys, tmp_path, form, dtype):
    # "NAME=VALUE: ... constructors arange linspace ones zeros full eye ...; torch.tensor([...]), np.array([...]);
    # Or NAME=@path for a .npy, .csv, .txt or .json file"; "Every value is converted to the --dtype; integers
    # included" (x / 3 of an integer array is float: 1/3 in --dtype)
    text, want = BINDING_FORMS[form]
    text = text(tmp_path) if callable(text) else text
    obj = ok(capsys, "eval", "x / 3", text, "--dtype", dtype)
    got = plain(obj["output"]["value"])
    # the JSON prints --dtype's shortest digits: read back in --dtype they are its numbers exactly
    np.testing.assert_array_equal(got.astype(dtype), want.astype(dtype) / np.array(3, dtype))
    assert obj["inputs"]["x"]["shape"] == list(want.shape)


@pytest.mark.parametrize("form,shape,kind", [("x:3", [3], "vector"), ("x:3x4", [3, 4], "matrix"),
                                             ("x:2x3x4", [2, 3, 4], "tensor"), ("x:()", [], "scalar")])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_shape_bindings_are_seeded_random_arrays(capsys, form, shape, kind, dtype):
    # "NAME:SHAPE: a seeded random array of that shape: x:3, A:3x4, T:2x3x4, s:() (a 0-d scalar)"; --seed N
    a = ok(capsys, "eval", "x * 1", form, "--dtype", dtype)
    b = ok(capsys, "eval", "x * 1", form, "--dtype", dtype, "--seed", "0")
    c = ok(capsys, "eval", "x * 1", form, "--dtype", dtype, "--seed", "7")
    assert a["inputs"]["x"] == {"shape": shape, "kind": kind, "requires_grad": True}
    assert a["output"]["value"] == b["output"]["value"] != c["output"]["value"]
    if not shape:
        assert isinstance(a["output"]["value"], float)  # 0-d values plain numbers


def test_a_pickled_npy_is_never_unpickled(capsys, tmp_path):
    # "NAME=@path for a .npy (never unpickled)": an object array is refused, and its pickle is never run
    marker = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    path = tmp_path / "x.npy"
    np.save(path, np.array([Boom()], dtype=object), allow_pickle=True)
    for command in COMMANDS:
        e = error_of(capsys, command, "x * 2", f"x=@{path}", *COMMANDS[command])
        assert e["kind"] in ("value", "io") and "pickle" in e["message"].lower()
    assert not marker.exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_converts_integer_bindings_to_float32(capsys, command):
    # "Every value is converted to the --dtype; integers included", in every command that takes values
    if command == "shape":
        pytest.skip("jac shape takes shapes")
    obj = ok(capsys, command, "x / 3", "x=[1, 2]", "--dtype", "float32", *COMMANDS[command])
    if command == "diff":
        np.testing.assert_allclose(plain(obj["output"]["value"]), [1 / 3, 2 / 3])
        return
    value = obj["output"]["value"]
    assert value == [float(str(np.float32(1) / np.float32(3))), float(str(np.float32(2) / np.float32(3)))]


# ---------------------------------------------------------------------------------------------------------------
# --json: NaN and infinities as strings, 0-d values plain numbers, exactly one object
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["eval", "vjp", "jvp", "hessian", "derivative", "graph", "diff"])
@pytest.mark.parametrize("batch", [False, True])
def test_nan_and_infinities_are_strings(capsys, command, batch):
    # "NaN and infinities are the strings "NaN", "Infinity", "-Infinity""
    if command == "diff" and batch:
        pytest.skip("jac diff --batch takes shapes, not values")
    x = "x=[[0.0, -1.0, 1.0]]" if batch else "x=[0.0, -1.0, 1.0]"
    extra = ["--batch", "x"] if batch else []
    code, out, err = jac(capsys, command, "x / 0", x, *COMMANDS[command], *extra, "--json")
    assert code == 0, err
    assert '"NaN"' in out and '"Infinity"' in out and '"-Infinity"' in out
    obj = json.loads(out)  # strict JSON: Python's json accepts bare NaN too, so check no bare token is there
    json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c} in --json"))
    value = plain((obj.get("output") or obj["outputs"][0])["value"])
    assert np.isnan(value.ravel()[0]) and value.ravel()[1] == -np.inf and value.ravel()[2] == np.inf


@pytest.mark.parametrize("command,key", [("eval", "jacobian"), ("vjp", "vjp"), ("jvp", "jvp"), ("hessian", "hessian"),
                                         ("derivative", "derivative"), ("diff", "derivative")])
def test_zero_d_values_are_plain_numbers(capsys, command, key):
    # "Arrays are nested lists, 0-d values plain numbers"
    extra = {"jvp": ["--tangent", "x=2"], "derivative": ["--order", "2"], "vjp": [], "diff": ["--wrt", "x"]}
    obj = ok(capsys, command, "x ** 3", "x=2", *extra.get(command, []))
    assert obj["output"]["value"] == 8.0 and isinstance(obj["output"]["value"], float)
    block = obj[key] if command == "jvp" else obj[key]["x,x" if command == "hessian" else "x"]
    want = {"eval": 12.0, "vjp": 12.0, "jvp": 24.0, "hessian": 12.0, "derivative": 12.0, "diff": 12.0}[command]
    assert block["value"] == want and block["shape"] == []


# ---------------------------------------------------------------------------------------------------------------
# Files, time and memory
# ---------------------------------------------------------------------------------------------------------------
SUITE = '''name = "s"
[[case]]
name = "one"
expr = "x * 2"
bindings = { x = [1.0, 2.0] }
value = [2, 4]
'''


def writers(tmp_path):
    """Each way jac writes a file: (id, the argument list with TARGET for the file)."""
    suite = tmp_path / "s.toml"
    suite.write_text(SUITE)
    out = [("eval --out .npy", ["eval", "x * 2", "x=[1, 2]", "--out", "TARGET.npy"]),
           ("eval --out .npz", ["eval", "x * 2", "x=[1, 2]", "--out", "TARGET.npz"]),
           ("eval --out .json", ["eval", "x * 2", "x=arange(8.0)", "--out", "TARGET.json"]),
           ("eval --batch --out .npy", ["eval", "x * 2", "x=[[1, 2], [3, 4]]", "--batch", "x", "--out", "TARGET.npy"]),
           ("eval several --out .npz", ["eval", "x * 2, sum(x)", "x=[1, 2]", "--out", "TARGET.npz"]),
           ("run --junit", ["run", str(suite), "--junit", "TARGET.xml"])]
    try:
        import matplotlib  # noqa: F401
        out += [("plot --out .png", ["plot", "sin(x)", "x=0.5", "--out", "TARGET.png"]),
                ("plot --out .svg", ["plot", "sin(x)", "x=0.5", "--out", "TARGET.svg"]),
                ("eval --plot", ["eval", "sin(x)", "x=[0.5, 1]", "--plot", "TARGET.png"])]
    except ImportError:
        pass
    return out


WRITERS = [
    "eval --out .npy", "eval --out .npz", "eval --out .json", "eval --batch --out .npy", "eval several --out .npz",
    "run --junit", "plot --out .png", "plot --out .svg", "eval --plot"]


def writer(tmp_path, which):
    found = dict(writers(tmp_path))
    if which not in found:
        pytest.skip("matplotlib is not installed")
    args = found[which]
    target = next(a for a in args if a.startswith("TARGET"))
    path = tmp_path / ("old" + target[len("TARGET"):])
    path.write_bytes(b"the previous file")
    return [str(path) if a == target else a for a in args], path


@pytest.mark.parametrize("which", WRITERS)
def test_a_failed_write_leaves_the_previous_file(tmp_path, which):
    # "A file that jac writes (--out, --junit, plots) is written to a temporary file and renamed into place only
    # when complete: a failed ... write leaves the previous file as it was" (a file-size limit: EFBIG mid-write)
    import resource
    args, path = writer(tmp_path, which)

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (40, 40))
    p = subprocess.run([sys.executable, "-m", "jacobi_cli", *args], capture_output=True, timeout=240, cwd=tmp_path,
                       env=dict(ENV, PYTHONDONTWRITEBYTECODE="1"), preexec_fn=small_files)
    assert p.returncode == 2, (p.returncode, p.stderr.decode())
    assert b"Traceback" not in p.stderr and p.stderr.strip()
    assert path.read_bytes() == b"the previous file"
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(["s.toml", path.name])  # no temporary file left


@pytest.mark.parametrize("which", WRITERS)
def test_an_interrupted_write_leaves_the_previous_file_and_exits_130(capsys, monkeypatch, tmp_path, which):
    # "... a failed or interrupted write leaves the previous file as it was"; "SIGINT exits 130"
    args, path = writer(tmp_path, which)
    real = os.fsync

    def interrupted(fd):
        raise KeyboardInterrupt  # Ctrl-C while the temporary file is synced, before the rename
    monkeypatch.setattr(os, "fsync", interrupted)
    code = entry.main(args)
    monkeypatch.setattr(os, "fsync", real)
    capsys.readouterr()
    assert code == 130
    assert path.read_bytes() == b"the previous file"
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(["s.toml", path.name])


@pytest.mark.parametrize("which", WRITERS)
def test_a_complete_write_replaces_the_previous_file(capsys, tmp_path, which):
    # "... renamed into place only when complete": when complete, it is in place
    args, path = writer(tmp_path, which)
    code = entry.main(args)
    capsys.readouterr()
    assert code == 0 and path.read_bytes() != b"the previous file" and path.stat().st_size > 40
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(["s.toml", path.name])


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("command", ["eval", "vjp", "jvp", "hessian", "derivative", "check", "graph", "diff", "plot"])
def test_max_memory_bounds_every_command_before_allocating(capsys, tmp_path, command, batch):
    # "--max-memory bounds every command, values included, and is checked before allocating": an 8 MB
    # intermediate under a 1 MB budget is refused (kind limit) and no array near its size was ever allocated
    import tracemalloc
    extra = {"vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "derivative": ["--order", "2"],
             "graph": ["--backward"], "diff": ["--wrt", "x"], "plot": ["--out", str(tmp_path / "p.png")]}
    if command == "plot" and batch:
        pytest.skip("jac plot needs a scalar input per example")
    binding = ["x:4x1000", "--batch", "x"] if batch else ["x:1000"]
    if command == "diff" and batch:
        binding = ["x=zeros((4, 1000))", "--batch", "x"]  # jac diff --batch takes shapes: its values are refused
    jac(capsys, command, "sum(outer(x, x))", "x:2", *extra.get(command, []))  # its modules imported: not counted
    tracemalloc.start()
    try:
        code, out, err = jac(capsys, command, "sum(outer(x, x))", *binding, *extra.get(command, []),
                             "--max-memory", "1MB", "--json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2 and "Traceback" not in err, (out, err)
    e = json.loads(out)["error"]
    assert e["kind"] in ("limit", "usage") if command == "diff" and batch else e["kind"] == "limit", e
    assert peak < 4_000_000, peak


@pytest.mark.parametrize("command", list(COMMANDS))
def test_max_memory_bounds_values_given_in_bindings(capsys, command):
    # "--max-memory bounds every command, values included"
    e = error_of(capsys, command, "sum(x)", "x=zeros((400, 400))", *COMMANDS[command], "--max-memory", "1MB")
    assert e["kind"] == "limit" and "1,048,576" in e["message"]


@pytest.mark.parametrize("args", [["diff", SEVERAL, "x:2", "--wrt", "x", "--order", "2"],
                                  ["diff", SEVERAL, "x:3x2", "--batch", "x:1"],
                                  ["eval", SEVERAL, "x=[[0.5, 1.5]]", "--batch", "x", "--symbolic"]])
def test_symbolic_work_stops_at_timeout_with_a_limit_error(capsys, args):
    # "Symbolic work stops at --timeout seconds with a limit error" (several outputs, a batch, --order 2)
    start = time.monotonic()
    e = error_of(capsys, *args, "--timeout", "1e-6")
    assert e["kind"] == "limit" and "--timeout" in e["message"] and time.monotonic() - start < 60


# ---------------------------------------------------------------------------------------------------------------
# SIGINT exits 130; a closed output pipe ends quietly with one exit code for every command
# ---------------------------------------------------------------------------------------------------------------
ALL = {**COMMANDS, "plot": ["--out", "p.png"]}


@pytest.mark.parametrize("command", list(ALL))
def test_sigint_exits_130_quietly_in_every_command(tmp_path, command):
    # "SIGINT exits 130": jac waiting on its expression from standard input (EXPR is -), interrupted there
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "jacobi_cli", command, "-", bind_for(command).replace(
        "[0.5, 1.5]", "0.5"), *ALL[command], "--json"], stdin=r, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=ENV, cwd=tmp_path)
    os.close(r)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _reads_stdin(proc.pid):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(w)
    assert proc.returncode == 130, (proc.returncode, err.decode())
    assert b"Traceback" not in err and out == b""


def _reads_stdin(pid):
    """The process blocks in a read (its expression from the pipe): jac's handlers are installed by then."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read()
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state == "S" and ("pipe" in wchan or wchan in ("0", ""))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_closed_pipe_ends_quietly_with_one_exit_code_for_every_command(tmp_path, command):
    # "a closed output pipe ends quietly with one exit code for every command" (141, as a shell's SIGPIPE), with
    # the least tested forms: several outputs, a batch, --json (tests/test_contract35.py and 38 have the others)
    expr = "a = sin(x); b = sum(x); a, b"
    extra = {"vjp": ["--v", "a=ones"], "jvp": ["--tangent", "x=ones"], "derivative": ["--order", "2", "--wrt", "x"],
             "diff": ["--wrt", "x"]}.get(command, [])
    binds = ["x:2x2"] if command in ("shape", "diff") else ["x=[[0.5, 1.5], [1, 2]]"]
    r, w = os.pipe()
    os.close(r)  # the reader is gone before jac writes a byte
    try:
        p = subprocess.run([sys.executable, "-m", "jacobi_cli", command, expr, *binds, "--batch", "x", *extra,
                            "--json"], stdout=w, stderr=subprocess.PIPE, env=ENV, timeout=120, cwd=tmp_path)
    finally:
        os.close(w)
    assert (p.returncode, p.stderr.decode()) == (141, "")


def test_a_pipe_closed_after_the_first_bytes_ends_quietly_with_141(tmp_path):
    # "a closed output pipe ends quietly": the reader takes the first bytes of a long output and leaves
    proc = subprocess.Popen([sys.executable, "-m", "jacobi_cli", "eval", "sin(x)", "x:300", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=tmp_path)
    assert proc.stdout.read(10) == b'{"jac_vers'
    proc.stdout.close()
    proc.wait(timeout=120)
    assert proc.returncode == 141 and proc.stderr.read() == b""


# ---------------------------------------------------------------------------------------------------------------
# Exit codes and errors: the error object for every kind, in every command; never a traceback
# ---------------------------------------------------------------------------------------------------------------
def error_case(kind, command):
    """(expression, bindings and options, the position: an int is the expression's column, None none)."""
    x = bind_for(command)
    return {
        "parse": ("x +* 2", [x], 3),
        # jac diff reads a name bound nowhere as a scalar symbol (its docs): an unknown function is its name error
        "name": ("x + zz", [x], 4) if command != "diff" else ("x + foo(x)", [x], 4),
        "shape": ("x @ A", [x, "A:3x3" if command == "shape" else "A=eye(3)"], 2),
        "value": ("x * 2", ["x=16777217", "--dtype", "float32"], None),  # not held exactly by float32: refused
        "io": ("x * 2", ["x=@/nonexistent/x.npy"], None),
        # (jac diff makes no values of x:SHAPE: its graph's product is what is refused, at its column)
        "limit": ("x * 2", ["x:300000" if command != "shape" else "x:2", "--max-memory", "1KB"],
                  2 if command == "diff" else None),
        "usage": ("x * 2", [x, "--no-such-option"], None),
    }[kind]


KINDS = ["parse", "name", "shape", "value", "io", "limit", "usage"]
ERRS = [(k, c) for k in KINDS for c in ALL]


@pytest.mark.parametrize("kind,command", ERRS, ids=[f"{k}-{c}" for k, c in ERRS])
def test_every_error_kind_in_every_command_is_exit_2_with_the_error_object(capsys, tmp_path, kind, command):
    # "2 bad input: the expression, a binding, a shape, a file, an option. A bad input never shows a Python
    # traceback: one clear message on standard error saying what is wrong and where (a caret under the column of
    # the expression when there is one), and with --json also {"error": {"kind", "message", "position"}}"
    expr, rest, position = error_case(kind, command)
    options = [a if a != "p.png" else str(tmp_path / "p.png") for a in ALL[command]]
    if command == "plot" and kind in ("parse", "name", "shape"):
        rest = [r.replace("[0.5, 1.5]", "0.5") for r in rest]
    if kind == "limit" and command == "shape":
        pytest.skip("jac shape allocates nothing")
    code, out, err = jac(capsys, command, expr, *rest, *options, "--json")
    assert code == 2 and "Traceback" not in err + out, (code, out, err)
    obj = json.loads(out)
    assert list(obj) == ["error"]
    e = obj["error"]
    assert e["kind"] == kind and e["message"] and e["position"] == position, e
    assert err.startswith(f"jac: error ({kind}): ") and e["message"] in err
    lines = err.splitlines()
    if position is not None:  # the expression and a caret under the column
        i = lines.index(f"  {expr}")
        assert lines[i + 1] == " " * (2 + position) + "^", err
    elif "value" in e:  # an error in a binding's value: the caret under its column there (docs/json.md)
        i = lines.index(f"  {e['value']['text']}")
        assert lines[i + 1] == " " * (2 + e["value"]["position"]) + "^", err
    else:
        assert "^" not in err
    # without --json: the same message on standard error, nothing on standard output
    code2, out2, err2 = jac(capsys, command, expr, *rest, *options)
    assert (code2, out2) == (2, "") and err2 == err


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("several", [False, True])
def test_a_failed_expectation_is_exit_1_and_a_met_one_0(capsys, tmp_path, as_json, several):
    # "0 success; 1 a check or expectation failed": a suite whose expected value is wrong exits 1, not 2
    suite = tmp_path / "s.toml"
    case = ('expr = "a = x * 2; b = sum(x); a, b"\nbindings = { x = [1.0, 2.0] }\nvalue.a = [2, 4]\n'
            'value.b = {b}\n') if several else 'expr = "x * 2"\nbindings = { x = [1.0, 2.0] }\nvalue = [2, {b}]\n'
    flags = ["--json"] if as_json else []
    for b, want in (("4" if not several else "3", 0), ("5", 1)):
        suite.write_text('name = "s"\n[[case]]\nname = "one"\n' + case.replace("{b}", b))
        code, out, err = jac(capsys, "run", str(suite), *flags)
        assert code == want and "Traceback" not in err, (b, out, err)
        if as_json:
            json.loads(out)


# ---------------------------------------------------------------------------------------------------------------
# The one message mended: jac plot --batch of a vector example advised the --batch already given
# ---------------------------------------------------------------------------------------------------------------
def test_plot_of_a_batched_vector_input_does_not_advise_the_batch_already_given(capsys, tmp_path):
    # "Every command that computes takes it [--batch]": plot's refusal names one example's shape and the batch;
    # before: "... has shape (3,); for one curve per value, mark the values a batch: --batch x" with --batch x given
    e = error_of(capsys, "plot", "sum(x)", "x:20x3", "--batch", "x", "--out", str(tmp_path / "p.png"))
    assert e["kind"] == "shape" and "(3,) in each example of --batch x" in e["message"]
    assert "mark the values a batch" not in e["message"]
    e = error_of(capsys, "plot", "sum(x)", "x:3", "--out", str(tmp_path / "p.png"))  # unbatched: the advice stays
    assert e["message"].endswith("mark the values a batch: --batch x")
    assert not (tmp_path / "p.png").exists()
