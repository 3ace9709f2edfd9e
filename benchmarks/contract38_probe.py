"""contract38: ../shared/CONTRACT.md clause by clause, from the shell (session 38).

    PYTHONPATH=. /work/venv/bin/python benchmarks/contract38_probe.py [-k SUBSTRING] [-v]

Each clause of the contract (every command, option, JSON key, exit code, error rule, batch / several-outputs /
higher-orders / files-time-memory rule and every example it gives) is tested literally as written by one or more
``jac`` subprocesses (``python -m jacobi_cli``, as a script calls it), with the edges a script hits: empty and huge
inputs, every binding form, ``-`` for stdin, unicode, options given twice, conflicting options, ``--json`` on
errors, exit codes 0 / 1 / 2 exactly, stderr against stdout, ``jac run`` suites, ``--out`` files, limits.
Values are compared with PyTorch where it is installed. Prints PASS / FAIL per clause with what was expected and
what came; the counts at the end; exit 1 if any clause failed."""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.environ.get("JAC_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the jac to probe
ENV = dict(os.environ, PYTHONPATH=ROOT, COLUMNS="100")
JAC = [sys.executable, "-m", "jacobi_cli"]
CLAUSES = []


class Run:
    """One finished ``jac`` call."""

    def __init__(self, args, rc, out, err, seconds):
        self.args, self.rc, self.out, self.err, self.seconds = args, rc, out, err, seconds

    @property
    def json(self):
        try:
            return json.loads(self.out, parse_constant=_bare)
        except ValueError as exc:
            return {"<not json>": str(exc), "<stdout>": self.out[:300]}

    def __repr__(self):
        return f"rc={self.rc} out={self.out[:200]!r} err={self.err[:200]!r}"


def _bare(name):
    raise ValueError(f"bare {name} in JSON")


def jac(*args, stdin=None, timeout=120, cwd=None):
    """Run jac with ``args`` (strings) and return its exit code, stdout and stderr."""
    start = time.perf_counter()
    try:
        p = subprocess.run(JAC + [str(a) for a in args], input=stdin, capture_output=True, text=True, env=ENV,
                           timeout=timeout, cwd=cwd or ROOT)
    except subprocess.TimeoutExpired:
        return Run(args, "timeout", "", "", timeout)
    return Run(args, p.returncode, p.stdout, p.stderr, time.perf_counter() - start)


def clause(text):
    def register(fn):
        CLAUSES.append((text, fn))
        return fn
    return register


class Failed(Exception):
    pass


def expect(ok, expected, got):
    if not ok:
        raise Failed(f"expected {expected}; got {got}")


def ok_json(r, command=None):
    """Exit 0, one JSON object on stdout, nothing but warnings on stderr."""
    expect(r.rc == 0, f"exit 0 for {r.args}", r)
    d = r.json
    expect(isinstance(d, dict) and "<not json>" not in d, "one JSON object on stdout", r.out[:300])
    if command:
        expect(d.get("jac_version") == 1 and d.get("command") == command, f"jac_version 1, command {command}",
               {k: d.get(k) for k in ("jac_version", "command")})
    return d


def bad(r, kind=None, json_mode=False, position="any"):
    """Exit 2, no traceback, one message on stderr; with --json the error object on stdout."""
    expect(r.rc == 2, f"exit 2 for {r.args}", r)
    expect("Traceback" not in r.err and "Traceback" not in r.out, "no traceback", r.err[-300:])
    expect(r.err.strip() != "", "a message on stderr", r)
    if json_mode:
        d = r.json
        e = d.get("error") if isinstance(d, dict) else None
        expect(isinstance(e, dict) and set(e) >= {"kind", "message", "position"},
               '{"error": {"kind", "message", "position"}} on stdout', r.out[:300])
        expect(e["kind"] in {"parse", "name", "shape", "value", "io", "limit", "usage"}, "a contract kind", e["kind"])
        if kind:
            expect(e["kind"] == kind, f"kind {kind}", e)
        if position != "any":
            expect(e["position"] == position, f"position {position}", e)
        expect(isinstance(e["position"], int) or e["position"] is None, "position N or null", e)
        return e
    if kind:
        expect(f"({kind})" in r.err or kind in r.err, f"the kind {kind} on stderr", r.err)
    return None


def close(a, b, rtol=1e-7, atol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def torch_or_none():
    try:
        import torch
        return torch
    except ImportError:
        return None


# ---------------------------------------------------------------- Commands
@clause("eval: value, full Jacobian for every input, derivative-shape table (text)")
def _():
    r = jac("eval", "2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3, 1, 2, 5]")
    expect(r.rc == 0, "exit 0", r)
    for word in ("40", "∂z/∂x", "∂z/∂y", "Derivative shapes", "math_shape"):
        expect(word in r.out, f"{word!r} in the output", r.out[:400])
    expect(r.err == "", "nothing on stderr", r.err)


@clause("eval --json: jac_version, command, expression, inputs, output, jacobian (values right)")
def _():
    d = ok_json(jac("eval", "2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3, 1, 2, 5]", "--json"), "eval")
    expect(d["expression"] == "2 * torch.dot(x, y)", "expression as given", d["expression"])
    expect(d["inputs"]["x"] == {"shape": [4], "kind": "vector", "requires_grad": True} or
           {k: d["inputs"]["x"][k] for k in ("shape", "kind", "requires_grad")} ==
           {"shape": [4], "kind": "vector", "requires_grad": True}, "inputs.x shape/kind/requires_grad", d["inputs"])
    o = d["output"]
    expect(o["shape"] == [] and o["kind"] == "scalar" and o["value"] == 40, "output scalar 40 (plain number)", o)
    jx = d["jacobian"]["x"]
    expect(jx["shape"] == [4] and jx["math_shape"] == [1, 4] and jx["layout"] == "array", "x block shapes", jx)
    expect(close(jx["value"], [6, 2, 4, 10]), "dy/dx = 2y", jx["value"])
    expect(close(d["jacobian"]["y"]["value"], [0, 2, 4, 6]), "dy/dy = 2x", d["jacobian"]["y"]["value"])


@clause("vjp --v: what y.backward(gradient=v) leaves in x.grad (PyTorch parity)")
def _():
    d = ok_json(jac("vjp", "A @ x", "A=[[1,2],[3,4],[5,6]]", "x=[1,-1]", "--v", "[1,2,3]", "--json"), "vjp")
    torch = torch_or_none()
    A = np.array([[1., 2], [3, 4], [5, 6]])
    gx = np.array([1., 2, 3]) @ A
    gA = np.outer([1., 2, 3], [1, -1])
    if torch:
        At = torch.tensor(A, requires_grad=True)
        xt = torch.tensor([1., -1], dtype=torch.float64, requires_grad=True)
        (At @ xt).backward(gradient=torch.tensor([1., 2, 3], dtype=torch.float64))
        gx, gA = xt.grad.numpy(), At.grad.numpy()
    expect(close(d["vjp"]["x"]["value"], gx) and close(d["vjp"]["A"]["value"], gA), "x.grad, A.grad", d["vjp"])
    expect(d["v"]["shape"] == [3] and close(d["v"]["value"], [1, 2, 3]), '"v": {"shape", "value"}', d.get("v"))
    expect(d["vjp"]["x"]["shape"] == [2], "vjp.x.shape", d["vjp"]["x"])


@clause("vjp without --v: a one-element output works like backward()")
def _():
    d = ok_json(jac("vjp", "sum(x**2)", "x=[1,2,3]", "--json"), "vjp")
    expect(close(d["vjp"]["x"]["value"], [2, 4, 6]), "2x", d["vjp"])
    d = ok_json(jac("vjp", "x**2", "x=[3]", "--json"), "vjp")
    expect(close(d["vjp"]["x"]["value"], [6]), "one-element vector output works", d["vjp"])


@clause("vjp without --v on a many-element output: exit 2, names the shape and --v")
def _():
    r = jac("vjp", "x**2", "x=[2,3]")
    bad(r, "value")
    expect("(2,)" in r.err and "--v" in r.err, "the shape (2,) and --v named", r.err)
    e = bad(jac("vjp", "x**2", "x=[2,3]", "--json"), "value", json_mode=True)
    expect("(2,)" in e["message"] and "--v" in e["message"], "the JSON message names them", e)


@clause("vjp --v ones is a shorthand")
def _():
    d = ok_json(jac("vjp", "x**2", "x=[2,3]", "--v", "ones", "--json"), "vjp")
    expect(close(d["vjp"]["x"]["value"], [4, 6]), "2x", d["vjp"])


@clause("vjp --v of the wrong shape: exit 2 (never broadcast silently)")
def _():
    bad(jac("vjp", "x**2", "x=[2,3]", "--v", "[1,2,3]", "--json"), json_mode=True)
    bad(jac("vjp", "x**2", "x=[2,3]", "--v", "1", "--json"), json_mode=True)


@clause("jvp --tangent NAME=VALUE: J·t (forward mode), several tangents")
def _():
    d = ok_json(jac("jvp", "x * y", "x=[1,2]", "y=[3,4]", "--tangent", "x=[1,0]", "--tangent", "y=[0,1]",
                    "--json"), "jvp")
    expect(close(d["jvp"]["value"], [3, 2]) and d["jvp"]["shape"] == [2], "y*tx + x*ty = [3, 2]", d["jvp"])
    expect(set(d["tangent"]) == {"x", "y"}, '"tangent": {x, y}', d.get("tangent"))


@clause("jvp --tangent of an unknown name / wrong shape: exit 2")
def _():
    bad(jac("jvp", "x * 2", "x=[1,2]", "--tangent", "z=[1,0]", "--json"), json_mode=True)
    bad(jac("jvp", "x * 2", "x=[1,2]", "--tangent", "x=[1,0,0]", "--json"), json_mode=True)


@clause("hessian of a scalar: blocks for every ordered pair, values as torch.autograd.functional.hessian")
def _():
    d = ok_json(jac("hessian", "sum(x**2 * w)", "x=[1,2]", "w=[3,4]", "--json"), "hessian")
    h = d["hessian"]
    expect(set(h) == {"x,x", "x,w", "w,x", "w,w"}, "four blocks", sorted(h))
    expect(h["x,w"]["shape"] == [2, 2] and close(h["x,x"]["value"], np.diag([6, 8])), "x,x = diag(2w)", h["x,x"])
    expect(close(h["x,w"]["value"], np.diag([2, 4])), "x,w = diag(2x)", h["x,w"])
    torch = torch_or_none()
    if torch:
        H = torch.autograd.functional.hessian(lambda x, w: (x**2 * w).sum(),
                                              (torch.tensor([1., 2], dtype=torch.float64),
                                               torch.tensor([3., 4], dtype=torch.float64)))
        expect(close(h["w,x"]["value"], H[1][0].numpy()), "torch's w,x block", h["w,x"])


@clause("hessian of a vector output: block shape y.shape + x.shape + x.shape")
def _():
    d = ok_json(jac("hessian", "x**3", "x=[1,2]", "--json"), "hessian")
    b = d["hessian"]["x,x"]
    expect(b["shape"] == [2, 2, 2], "(2, 2, 2)", b["shape"])
    want = np.zeros((2, 2, 2))
    want[0, 0, 0], want[1, 1, 1] = 6, 12
    expect(close(b["value"], want), "6x on the diagonal", b["value"])


@clause("derivative --order K: shape y.shape + x.shape * K, values")
def _():
    d = ok_json(jac("derivative", "sin(x)", "x=[0.5,1]", "--order", "3", "--json"), "derivative")
    b = d["derivative"]["x"]
    expect(b["order"] == 3 and b["shape"] == [2, 2, 2, 2], "order 3, shape (2,2,2,2)", b)
    v = np.asarray(b["value"])
    expect(close(v[0, 0, 0, 0], -np.cos(0.5)) and close(v[1, 1, 1, 1], -np.cos(1)), "-cos on the diagonal", v.ravel())
    d = ok_json(jac("derivative", "x**4", "x=2", "--order", "4", "--json"), "derivative")
    expect(close(d["derivative"]["x"]["value"], 24), "24", d["derivative"])


@clause("derivative --order 0 / negative / non-integer: exit 2 usage or value")
def _():
    for k in ("0", "-1", "1.5", "x"):
        bad(jac("derivative", "x**2", "x=2", "--order", k, "--json"), json_mode=True)


@clause("derivative with two inputs and no --wrt: refused naming --wrt (one input)")
def _():
    r = jac("derivative", "x*y", "x=1", "y=2", "--order", "2", "--json")
    e = bad(r, json_mode=True)
    expect("--wrt" in e["message"], "names --wrt", e)


@clause("shape: NAME:SHAPE, output kind/shape, derivatives shape/math_shape/kind, no values")
def _():
    d = ok_json(jac("shape", "A @ x", "A:3x4", "x:4", "--json"), "shape")
    expect(d["output"]["shape"] == [3] and d["output"]["kind"] == "vector", "output (3,) vector", d["output"])
    expect("value" not in d["output"], "no value", d["output"])
    dA = d["derivatives"]["A"]
    expect(dA["shape"] == [3, 3, 4] and dA["math_shape"] == [3, 4, 3] and "value" not in dA, "A: (3,3,4) (3,4,3)", dA)
    expect("kind" in dA, "derivatives.A.kind", dA)


@clause("shape with symbolic sizes x:n, A:nxm")
def _():
    d = ok_json(jac("shape", "A @ x", "A:nxm", "x:m", "--json"), "shape")
    expect(d["output"]["shape"] == ["n"], "output (n,)", d["output"])
    expect(d["derivatives"]["A"]["math_shape"] == ["n", "m", "n"], "A math_shape (n, m, n)", d["derivatives"]["A"])
    r = jac("shape", "A @ x", "A:nxm", "x:k")
    bad(r, "shape")


@clause("diff --wrt NAME: symbolic derivative, plain and LaTeX")
def _():
    r = jac("diff", "sin(x) * x", "--wrt", "x")
    expect(r.rc == 0 and "cos" in r.out and "\\" in r.out, "plain and LaTeX (a backslash)", r)
    d = ok_json(jac("diff", "sin(x) * x", "--wrt", "x", "--json"), "diff")
    expect("cos" in json.dumps(d), "the formula in JSON", d)


@clause("diff --order K: symbolic counterpart of derivative")
def _():
    d = ok_json(jac("diff", "x**4", "--wrt", "x", "--order", "3", "--json"), "diff")
    expect("24*x" in json.dumps(d).replace(" ", ""), "24*x", json.dumps(d)[:300])


@clause("check: exit 0 when automatic agrees with finite differences")
def _():
    r = jac("check", "sum(sin(x) * A @ x)", "A:3x3", "x:3")
    expect(r.rc == 0, "exit 0", r)
    d = ok_json(jac("check", "sum(sin(x))", "x:3", "--json"), "check")


@clause("check: exit 1 on a mismatch (relu at 0), with and without --json")
def _():
    r = jac("check", "relu(x)", "x=0")
    expect(r.rc == 1 and "Traceback" not in r.err, "exit 1", r)
    r = jac("check", "relu(x)", "x=0", "--json")
    expect(r.rc == 1, "exit 1 with --json", r)
    d = r.json
    expect(isinstance(d, dict) and "error" not in d and d.get("command") == "check", "the check's JSON", r.out[:200])


@clause("graph: every node's op, shape, leaf/non-leaf, requires-grad; gradient after a backward pass")
def _():
    r = jac("graph", "F = a * b; G = 2 * F; G.sum()", "a=[1,2]", "b=[3,4]")
    expect(r.rc == 0, "exit 0", r)
    for w in ("F", "G", "a", "b"):
        expect(w in r.out, f"node {w}", r.out[:500])
    d = ok_json(jac("graph", "F = a * b; G = 2 * F; G.sum()", "a=[1,2]", "b=[3,4]", "--backward", "--json"),
                "graph")
    text = json.dumps(d)
    expect('"leaf"' in text or "is_leaf" in text, "leaf per node", text[:300])
    expect("grad" in text, "gradients after --backward", text[:300])
    nodes = d.get("nodes") or []
    named = {n.get("name"): n for n in nodes if isinstance(n, dict)}
    if "a" in named:
        g = named["a"].get("grad")
        expect(g is not None and close(g if not isinstance(g, dict) else g.get("value"), [6, 8]),
               "a.grad = 2b", named["a"])
    if "F" in named:
        expect(named["F"].get("leaf") in (False, None) or named["F"].get("is_leaf") is False, "F non-leaf",
               named["F"])


# ---------------------------------------------------------------- shared options
COMPUTING = {
    "eval": [], "vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "hessian": [],
    "derivative": ["--order", "2", "--wrt", "x"], "check": [], "graph": [],
}


@clause("every command that computes takes --wrt, --json, --dtype, --seed")
def _():
    for cmd, extra in COMPUTING.items():
        r = jac(cmd, "sin(x) * w", "x:3", "w:3", *extra, "--wrt", "x", "--dtype", "float32", "--seed", "4",
                "--json")
        ok_json(r, cmd)
        d = r.json
        if "inputs" in d:
            expect(d["inputs"]["w"]["requires_grad"] is False and d["inputs"]["x"]["requires_grad"] is True,
                   f"{cmd}: --wrt x leaves w without grad", d["inputs"])


@clause("--wrt default: every bound input; repeated --wrt; unknown --wrt name exit 2 name")
def _():
    d = ok_json(jac("eval", "x * w", "x=1", "w=2", "--json"), "eval")
    expect(set(d["jacobian"]) == {"x", "w"}, "both", list(d["jacobian"]))
    d = ok_json(jac("eval", "x * w", "x=1", "w=2", "--wrt", "x", "--wrt", "w", "--json"), "eval")
    expect(set(d["jacobian"]) == {"x", "w"}, "both with --wrt twice", list(d["jacobian"]))
    d = ok_json(jac("eval", "x * w", "x=1", "w=2", "--wrt", "x", "--wrt", "x", "--json"), "eval")
    expect(list(d["jacobian"]) == ["x"], "x once", list(d["jacobian"]))
    bad(jac("eval", "x * w", "x=1", "w=2", "--wrt", "z", "--json"), "name", json_mode=True)


@clause("--dtype float32: values converted (integers included); float16 refused exit 2")
def _():
    d = ok_json(jac("eval", "x / 3", "x=[1,2]", "--dtype", "float32", "--json"), "eval")
    expect(np.float32(d["output"]["value"][0]) == np.float32(1) / np.float32(3), "float32 1/3 (its shortest text)",
           d["output"]["value"])
    d = ok_json(jac("eval", "x / 3", "x=[1,2]", "--json"), "eval")
    expect(d["output"]["value"][0] == 1 / 3, "float64 1/3 (integers converted)", d["output"]["value"])
    e = bad(jac("eval", "x", "x=1", "--dtype", "float16", "--json"), json_mode=True)
    expect("--dtype" in e["message"] and "float16" in e["message"], "names --dtype and float16", e)


@clause("options given twice: refused naming the option (session 32's rule), or the same value; never one silently")
def _():
    r = jac("eval", "x / 3", "x=1", "--dtype", "float32", "--dtype", "float64", "--json")
    e = bad(r, "usage", json_mode=True)
    expect("--dtype" in e["message"] and "twice" in e["message"], "says --dtype twice", e)
    e = bad(jac("eval", "x", "x:2", "--seed", "1", "--seed", "2", "--json"), "usage", json_mode=True)
    expect("--seed" in e["message"], "names --seed", e)
    e = bad(jac("eval", "x", "x:2", "--layout", "array", "--layout", "numerator", "--json"), "usage", json_mode=True)
    e = bad(jac("vjp", "x*2", "x:2", "--v", "ones", "--v", "[1,2]", "--json"), "usage", json_mode=True)
    ok_json(jac("eval", "x", "x=1", "--json", "--json"), "eval")


@clause("--seed: same seed same values, another seed other values (x:SHAPE, rand, randn)")
def _():
    for binding in ("x:3", "x=rand(3)", "x=randn(3)"):
        a = ok_json(jac("eval", "x", binding, "--seed", "5", "--json"))["output"]["value"]
        b = ok_json(jac("eval", "x", binding, "--seed", "5", "--json"))["output"]["value"]
        c = ok_json(jac("eval", "x", binding, "--seed", "6", "--json"))["output"]["value"]
        expect(a == b and a != c, f"{binding}: seeded", (a, b, c))
    bad(jac("eval", "x", "x:3", "--seed", "abc", "--json"), "usage", json_mode=True)


@clause("eval --layout numerator: blocks in math_shape; array default is y.shape + x.shape")
def _():
    d = ok_json(jac("eval", "A @ x", "A:3x4", "x:4", "--layout", "numerator", "--json"), "eval")
    b = d["jacobian"]["A"]
    expect(b["layout"] == "numerator" and np.asarray(b["value"]).shape == (3, 4, 3), "(3, 4, 3) numerator", b["layout"])
    a = ok_json(jac("eval", "A @ x", "A:3x4", "x:4", "--json"), "eval")["jacobian"]["A"]
    va, vn = np.asarray(a["value"]), np.asarray(b["value"])
    expect(va.shape == (3, 3, 4) and close(vn, va.transpose(0, 2, 1)), "numerator = array with x's axes reversed",
           (va.shape, vn.shape))
    bad(jac("eval", "x", "x=1", "--layout", "denominator", "--json"), "usage", json_mode=True)


@clause("eval --out .npy / .npz / .json: the Jacobians written")
def _():
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "j.npy")
        expect(jac("eval", "x**2", "x=[1,2]", "--out", p).rc == 0 and close(np.load(p), np.diag([2, 4])), ".npy", p)
        p = os.path.join(t, "j.npz")
        expect(jac("eval", "x*w", "x=[1,2]", "w=[3,4]", "--out", p).rc == 0, "exit 0", p)
        z = np.load(p)
        expect(set(z.files) == {"x", "w"} and close(z["x"], np.diag([3, 4])), ".npz per input", z.files)
        p = os.path.join(t, "j.json")
        expect(jac("eval", "x**2", "x=[1,2]", "--out", p).rc == 0, "exit 0", p)
        json.load(open(p))
        r = jac("eval", "x*w", "x=[1,2]", "w=[3,4]", "--out", os.path.join(t, "two.npy"), "--json")
        bad(r, json_mode=True)
        r = jac("eval", "x", "x=1", "--out", os.path.join(t, "j.txt"), "--json")
        bad(r, json_mode=True)


@clause("eval --json --out: stdout stays exactly one JSON object")
def _():
    with tempfile.TemporaryDirectory() as t:
        ok_json(jac("eval", "x**2", "x=[1,2]", "--out", os.path.join(t, "j.npz"), "--json"), "eval")


# ---------------------------------------------------------------- Expressions
@clause("operators + - * / ** % broadcast; @ matmul; unary -")
def _():
    d = ok_json(jac("eval", "(A + x - x * 2 / 4) ** 2 % 5", "A=[[1,2],[3,4]]", "x=[1,2]", "--json"))
    A, x = np.array([[1., 2], [3, 4]]), np.array([1., 2])
    expect(close(d["output"]["value"], (A + x - x * 2 / 4) ** 2 % 5), "NumPy's value", d["output"]["value"])
    d = ok_json(jac("eval", "-(A @ x)", "A=[[1,2],[3,4]]", "x=[1,2]", "--json"))
    expect(close(d["output"]["value"], -(A @ x)), "matmul", d["output"])
    d = ok_json(jac("eval", "B @ A", "B=ones((5,2,3))", "A:3x4", "--json"))
    expect(d["output"]["shape"] == [5, 2, 4], "batched matmul (5,2,4)", d["output"]["shape"])


@clause("comparisons and & | ~ give booleans, never differentiated (where, masks)")
def _():
    d = ok_json(jac("eval", "where((x > 0) & ~(x == 2) | (x < -5), x**2, 0)", "x=[-1,1,2,3]", "--json"))
    expect(close(d["output"]["value"], [0, 1, 0, 9]), "masked value", d["output"])
    expect(close(d["jacobian"]["x"]["value"], np.diag([0, 2, 0, 6])), "derivative only through x**2",
           d["jacobian"]["x"]["value"])
    d = ok_json(jac("eval", "x * (x >= 1)", "x=[0.5, 2]", "--json"))
    expect(close(d["jacobian"]["x"]["value"], np.diag([0, 1])), "mask constant", d["jacobian"]["x"]["value"])


ELEMENTWISE = "exp log log1p sqrt abs sin cos tan tanh sinh cosh arcsin arccos arctan sigmoid relu softplus square".split()


@clause("element-wise functions bare / torch. / np. / numpy. (values as NumPy / PyTorch)")
def _():
    x = np.array([0.2, 0.7])
    ref = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0),
           "softplus": lambda v: np.log1p(np.exp(v))}
    fails = []
    for prefix in ("", "torch.", "np.", "numpy."):
        # one call per spelling: a tuple of every function's output (the contract lists np.sigmoid too, though
        # NumPy has none: jac's reading is the one formula)
        names = ELEMENTWISE
        r = jac("eval", ", ".join(f"{prefix}{f}(x)" for f in names), "x=[0.2, 0.7]", "--json")
        if r.rc != 0:
            fails.append(f"{prefix}: {r}")
            continue
        d = r.json
        for f, out in zip(names, d["outputs"]):
            want = ref[f](x) if f in ref else getattr(np, f)(x)
            if not close(out["value"], want):
                fails.append(f"{prefix}{f}: {out['value']} vs {want}")
            if torch_or_none() and f not in ("abs", "relu"):
                torch = torch_or_none()
                tfn = {"arcsin": torch.asin, "arccos": torch.acos, "arctan": torch.atan,
                       "softplus": torch.nn.functional.softplus}.get(f) or getattr(torch, f)
                jac_x = np.diag(torch.func.vmap(torch.func.grad(tfn))(torch.tensor(x)).numpy())
                if not close(d["jacobians"][out["name"]]["x"]["value"], jac_x):
                    fails.append(f"{prefix}{f}: Jacobian {d['jacobians'][out['name']]['x']['value']} vs torch {jac_x}")
    expect(not fails, "all of them", fails[:5])


@clause("pow maximum minimum clip (two-argument element-wise)")
def _():
    for text, want in (("pow(x, 2)", [0.04, 0.49]), ("maximum(x, 0.5)", [0.5, 0.7]), ("minimum(x, 0.5)", [0.2, 0.5]),
                       ("clip(x, 0.3, 0.6)", [0.3, 0.6]), ("torch.pow(x, 2)", [0.04, 0.49]),
                       ("np.clip(x, 0.3, 0.6)", [0.3, 0.6]), ("torch.clip(x, 0.3, 0.6)", [0.3, 0.6])):
        d = ok_json(jac("eval", text, "x=[0.2, 0.7]", "--json"))
        expect(close(d["output"]["value"], want), text, d["output"]["value"])


@clause("reductions with axis= / dim=: sum mean prod max min norm logsumexp softmax")
def _():
    A = np.array([[1., 2, 3], [4, 5, 6]])
    torch = torch_or_none()
    cases = [("sum(A, axis=1)", A.sum(1)), ("torch.sum(A, dim=0)", A.sum(0)), ("mean(A, axis=0)", A.mean(0)),
             ("prod(A, axis=1)", A.prod(1)), ("np.max(A, axis=1)", A.max(1)), ("np.min(A, axis=0)", A.min(0)),
             ("norm(A)", np.linalg.norm(A)), ("logsumexp(A, axis=1)", np.log(np.exp(A).sum(1))),
             ("softmax(A, axis=1)", np.exp(A) / np.exp(A).sum(1, keepdims=True)), ("A.sum()", A.sum()),
             ("torch.max(A, dim=1).values", A.max(1)), ("torch.min(A, dim=1).indices", A.argmin(1))]
    for text, want in cases:
        d = ok_json(jac("eval", text, "A=[[1,2,3],[4,5,6]]", "--json"))
        expect(close(d["output"]["value"], want), text, d["output"]["value"])


@clause("linear algebra: dot mm mv matmul outer trace det inv transpose reshape")
def _():
    A = np.array([[2., 1], [1, 3]])
    x = np.array([1., 2])
    for text, want in (("dot(x, x)", 5), ("mm(A, A)", A @ A), ("mv(A, x)", A @ x), ("matmul(A, x)", A @ x),
                       ("outer(x, x)", np.outer(x, x)), ("trace(A)", 5), ("det(A)", 5), ("inv(A)", np.linalg.inv(A)),
                       ("transpose(A)", A.T), ("reshape(A, (4,))", A.ravel()), ("np.linalg.inv(A)", np.linalg.inv(A)),
                       ("torch.linalg.det(A)", 5)):
        d = ok_json(jac("eval", text, "A=[[2,1],[1,3]]", "x=[1,2]", "--json"))
        expect(close(d["output"]["value"], want), text, d["output"]["value"])
    d = ok_json(jac("eval", "det(A)", "A=[[2,1],[1,3]]", "--json"))
    expect(close(d["jacobian"]["A"]["value"], 5 * np.linalg.inv(A).T), "d det = det A^-T", d["jacobian"]["A"])


@clause("constants pi and e; constructors as constants (eye(3), ones(4)) never differentiated")
def _():
    d = ok_json(jac("eval", "pi * x + e", "x=1", "--json"))
    expect(close(d["output"]["value"], np.pi + np.e), "pi + e", d["output"])
    d = ok_json(jac("eval", "eye(3) @ x + ones(3)", "x=[1,2,3]", "--json"))
    expect(close(d["output"]["value"], [2, 3, 4]) and list(d["jacobian"]) == ["x"], "x only", d["jacobian"].keys())


@clause("methods: x.T, x.mT, x.sum(), x.dot(y), x.reshape(2, 3); .values/.indices of max min sort topk")
def _():
    X = np.arange(6.).reshape(2, 3)
    for text, want in (("X.T", X.T), ("X.mT", X.T), ("X.sum()", 15), ("x.dot(x)", 14), ("X.reshape(3, 2)", X.reshape(3, 2)),
                       ("torch.sort(x).values", [1, 2, 3]), ("torch.topk(x, 2).indices", [2, 1]),
                       ("x.max()", 3), ("torch.sort(x, descending=True).values", [3, 2, 1])):
        d = ok_json(jac("eval", text, "X=arange(6).reshape(2,3)", "x=[1,2,3]", "--json"))
        expect(close(d["output"]["value"], want), text, d["output"]["value"])


@clause("indexing x[0], x[1:3], A[:, 0], A[1] (and x[-1], out of range exit 2)")
def _():
    A = np.arange(6.).reshape(2, 3)
    for text, want in (("x[0]", 0), ("x[1:3]", [1, 2]), ("A[:, 0]", [0, 3]), ("A[1]", [3, 4, 5]), ("x[-1]", 5)):
        d = ok_json(jac("eval", text, "x=arange(6.0)", "A=arange(6).reshape(2,3)", "--json"))
        expect(close(d["output"]["value"], want), text, d["output"]["value"])
    bad(jac("eval", "x[10]", "x=arange(6.0)", "--json"), json_mode=True)


@clause("several statements with ; and new lines; assigned names non-leaf; last is the output")
def _():
    d = ok_json(jac("eval", "F = a * b; G = 2 * F; G.sum()", "a=[1,2]", "b=[3,4]", "--json"))
    expect(close(d["output"]["value"], 22) and close(d["jacobian"]["a"]["value"], [6, 8]), "22, [6, 8]", d["output"])
    d = ok_json(jac("eval", "F = a * b\nG = 2 * F\nG.sum()", "a=[1,2]", "b=[3,4]", "--json"))
    expect(close(d["output"]["value"], 22), "newlines", d["output"])


@clause("EXPR @path reads the expression from a file; - reads standard input")
def _():
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "e.py")
        open(p, "w").write("F = a * b\nF.sum()\n")
        d = ok_json(jac("eval", "@" + p, "a=[1,2]", "b=[3,4]", "--json"))
        expect(close(d["output"]["value"], 11), "11", d["output"])
        bad(jac("eval", "@" + os.path.join(t, "missing.py"), "a=1", "--json"), "io", json_mode=True)
        bad(jac("eval", "@" + t, "a=1", "--json"), "io", json_mode=True)
        open(os.path.join(t, "empty.py"), "w").close()
        bad(jac("eval", "@" + os.path.join(t, "empty.py"), "a=1", "--json"), json_mode=True)
    d = ok_json(jac("eval", "-", "a=[1,2]", "--json", stdin="sum(a**2)\n"))
    expect(close(d["output"]["value"], 5), "5 from stdin", d["output"])
    bad(jac("eval", "-", "a=[1,2]", "--json", stdin=""), json_mode=True)
    for cmd, extra in COMPUTING.items():
        r = jac(cmd, "-", "x=[1.0,2.0]", *extra, "--json", stdin="sum(sin(x))")
        ok_json(r, cmd)


@clause("an EXPR beginning with - is an expression: \"-x\", \"-(a + b)\"")
def _():
    d = ok_json(jac("eval", "-x", "x=[1,2]", "--json"))
    expect(close(d["output"]["value"], [-1, -2]), "-x", d["output"])
    d = ok_json(jac("eval", "-(a + b)", "a=1", "b=2", "--json"))
    expect(close(d["output"]["value"], -3), "-(a + b)", d["output"])
    d = ok_json(jac("eval", "--json", "-x", "x=[1,2]"))
    expect(close(d["output"]["value"], [-1, -2]), "--json before -x", d["output"])
    for cmd, extra in COMPUTING.items():
        ok_json(jac(cmd, "-x*x", "x=[1.0,2.0]", *extra, "--json"), cmd)
    ok_json(jac("shape", "-x", "x:3", "--json"), "shape")
    ok_json(jac("diff", "-x**2", "--wrt", "x", "--json"), "diff")


@clause("expressions never evaluated by Python: __import__, eval, open, dunders refused exit 2")
def _():
    with tempfile.TemporaryDirectory() as t:
        mark = os.path.join(t, "pwned")
        for text in (f"__import__('os').system('touch {mark}')", f"open('{mark}', 'w')", "x.__class__",
                     f"eval(\"__import__('os').system('touch {mark}')\")", "().__class__.__bases__[0]",
                     f"exec(\"open('{mark}','w')\")"):
            bad(jac("eval", text, "x=1", "--json"), json_mode=True)
        expect(not os.path.exists(mark), "no file made", mark)


@clause("unknown names: exit 2 name, pointing at the name")
def _():
    e = bad(jac("eval", "x + foo(x)", "x=1", "--json"), "name", json_mode=True)
    expect(e["position"] == 4, "position 4", e)
    e = bad(jac("eval", "x + y", "x=1", "--json"), "name", json_mode=True)
    expect(e["position"] == 4, "position 4 (y unbound)", e)


# ---------------------------------------------------------------- Bindings
@clause("binding examples: x=2, x=[1,2,3], A=[[1,2],[3,4]], x=arange(4.0), X=arange(6).reshape(2,3)")
def _():
    for b, want in (("x=2", 2), ("x=[1,2,3]", [1, 2, 3]), ("x=[[1,2],[3,4]]", [[1, 2], [3, 4]]),
                    ("x=arange(4.0)", [0, 1, 2, 3]), ("x=arange(6).reshape(2,3)", np.arange(6).reshape(2, 3)),
                    ("x=linspace(0, 1, 3)", [0, .5, 1]), ("x=ones(2)", [1, 1]), ("x=zeros((2,))", [0, 0]),
                    ("x=full(2, 7)", [7, 7]), ("x=full((2,), 7.5)", [7.5, 7.5]), ("x=eye(2)", np.eye(2)),
                    ("x=torch.tensor([1., 2.])", [1, 2]), ("x=np.array([1, 2])", [1, 2]),
                    ("x=2*pi", 2 * np.pi), ("x=-1", -1), ("x=1e-3", 1e-3), ("x=[1, 2.5, -3]", [1, 2.5, -3]),
                    ("x=np.arange(3)", [0, 1, 2]), ("x=torch.ones(2)", [1, 1])):
        d = ok_json(jac("eval", "x * 1", b, "--json"))
        expect(close(d["output"]["value"], want), b, d["output"]["value"])


@clause("NAME:SHAPE: x:3, A:3x4, T:2x3x4, s:() a 0-d scalar")
def _():
    for b, shape in (("x:3", [3]), ("x:3x4", [3, 4]), ("x:2x3x4", [2, 3, 4]), ("x:()", [])):
        d = ok_json(jac("eval", "x * 1", b, "--json"))
        expect(d["inputs"]["x"]["shape"] == shape and d["output"]["shape"] == shape, b, d["inputs"]["x"])
    d = ok_json(jac("eval", "x * 1", "x:()", "--json"))
    expect(isinstance(d["output"]["value"], float), "0-d value a plain number", d["output"])


@clause("NAME=@path for .npy (never unpickled), .csv, .txt, .json")
def _():
    with tempfile.TemporaryDirectory() as t:
        np.save(os.path.join(t, "a.npy"), np.array([[1., 2], [3, 4]]))
        np.savetxt(os.path.join(t, "a.csv"), np.array([[1., 2], [3, 4]]), delimiter=",")
        np.savetxt(os.path.join(t, "a.txt"), np.array([[1., 2], [3, 4]]))
        json.dump([[1, 2], [3, 4]], open(os.path.join(t, "a.json"), "w"))
        for ext in ("npy", "csv", "txt", "json"):
            d = ok_json(jac("eval", "A * 1", f"A=@{t}/a.{ext}", "--json"))
            expect(close(d["output"]["value"], [[1, 2], [3, 4]]), ext, d["output"])
        np.save(os.path.join(t, "o.npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
        bad(jac("eval", "A * 1", f"A=@{t}/o.npy", "--json"), json_mode=True)
        bad(jac("eval", "A * 1", f"A=@{t}/missing.npy", "--json"), "io", json_mode=True)
        bad(jac("eval", "A * 1", f"A=@{t}", "--json"), "io", json_mode=True)
        open(os.path.join(t, "bad.json"), "w").write("{not json")
        bad(jac("eval", "A * 1", f"A=@{t}/bad.json", "--json"), json_mode=True)
        open(os.path.join(t, "bad.csv"), "w").write("1,2\n3\n")
        bad(jac("eval", "A * 1", f"A=@{t}/bad.csv", "--json"), json_mode=True)
        open(os.path.join(t, "e.csv"), "w").close()
        r = jac("eval", "A * 1", f"A=@{t}/e.csv", "--json")
        expect(r.rc in (0, 2) and "Traceback" not in r.err, "an empty csv: a value or exit 2", r)
        bad(jac("eval", "A * 1", f"A=@{t}/a.pkl", "--json"), json_mode=True)


@clause("every value converted to --dtype, integers included (x=[1,2] is float; bool file)")
def _():
    d = ok_json(jac("eval", "x / 2", "x=[1,3]", "--json"))
    expect(d["output"]["value"] == [0.5, 1.5], "true division of converted ints", d["output"])
    with tempfile.TemporaryDirectory() as t:
        np.save(os.path.join(t, "i.npy"), np.array([1, 3], dtype=np.int64))
        d = ok_json(jac("eval", "x / 2", f"x=@{t}/i.npy", "--json"))
        expect(d["output"]["value"] == [0.5, 1.5] and d["inputs"]["x"]["requires_grad"], "int .npy converted", d)


@clause("binding edges: empty list, bad syntax, unbound, twice, unicode name, trailing comma")
def _():
    r = jac("eval", "sum(x)", "x=[]", "--json")
    expect(r.rc in (0, 2) and "Traceback" not in r.err, "x=[]: a value or exit 2", r)
    if r.rc == 0:
        expect(r.json["output"]["value"] == 0, "sum of nothing 0", r.json)
    e = bad(jac("eval", "x", "x=[1,", "--json"), json_mode=True)
    bad(jac("eval", "x", "x=", "--json"), json_mode=True)
    bad(jac("eval", "x", "=1", "--json"), json_mode=True)
    bad(jac("eval", "x", "x", "--json"), json_mode=True)
    bad(jac("eval", "x", "x=1", "x=2", "--json"), json_mode=True)
    bad(jac("eval", "x", "x=[[1,2],[3]]", "--json"), json_mode=True)
    bad(jac("eval", "x", "x=foo(3)", "--json"), json_mode=True)
    bad(jac("eval", "x", "x:3y", "--json"), json_mode=True)
    bad(jac("eval", "x", "x:0x-1", "--json"), json_mode=True)
    e = bad(jac("eval", "α * 2", "α=[1,2]", "--json"), json_mode=True)   # ASCII names only: refused saying so
    expect("α" in e["message"], "names α", e)
    d = ok_json(jac("eval", "x * 2", "x=[1,2,]", "--json"))
    expect(close(d["output"]["value"], [2, 4]), "trailing comma as Python", d["output"])


@clause("a binding never evaluated by Python: __import__ in a value refused")
def _():
    with tempfile.TemporaryDirectory() as t:
        mark = os.path.join(t, "pwned")
        bad(jac("eval", "x", f"x=__import__('os').system('touch {mark}')", "--json"), json_mode=True)
        expect(not os.path.exists(mark), "no file", mark)


@clause("a binding's error points into the binding (position null with --json, says which binding)")
def _():
    r = jac("eval", "x + y", "x=1", "y=[1,,2]", "--json")
    e = bad(r, json_mode=True)
    expect("y" in e["message"] or "y" in r.err, "names binding y", (e, r.err))


@clause("NaN and infinities: the strings \"NaN\", \"Infinity\", \"-Infinity\" in JSON")
def _():
    r = jac("eval", "log(x)", "x=[0, -1, 1]", "--json")
    d = ok_json(r)
    v = d["output"]["value"]
    expect(v[0] == "-Infinity" and v[1] == "NaN" and v[2] == 0, '["-Infinity", "NaN", 0.0]', v)
    d = ok_json(jac("eval", "1 / x", "x=[0]", "--json"))
    expect(d["output"]["value"] == ["Infinity"], '["Infinity"]', d["output"])


# ---------------------------------------------------------------- the derivative-shape table
TABLE = {("s", "s"): [1], ("s", "v"): [1, "n"], ("s", "m"): ["k", "n"],
         ("v", "s"): ["m", 1], ("v", "v"): ["m", "n"], ("v", "m"): ["m", "k", "n"],
         ("m", "s"): ["m", "l"], ("m", "v"): ["m", "l", "n"], ("m", "m"): ["m", "l", "k", "n"]}


@clause("math_shape: every cell of the contract's table (n=2, k=3, m=4, l=5), eval and shape")
def _():
    sizes = {"n": 2, "k": 3, "m": 4, "l": 5}
    xs = {"s": "x:()", "v": "x:2", "m": "x:2x3"}
    ys = {"s": "sum(x) * sum(w)", "v": "sum(x) * w", "m": "sum(x) * W"}
    ws = {"s": "w:()", "v": "w:4", "m": "W:4x5"}
    for (yk, xk), cell in TABLE.items():
        want = [sizes[c] if isinstance(c, str) else c for c in cell]
        for cmd in ("eval", "shape"):
            d = ok_json(jac(cmd, ys[yk], xs[xk], ws[yk], "--wrt", "x", "--json"), cmd)
            blk = (d["jacobian"] if cmd == "eval" else d["derivatives"])["x"]
            expect(blk["math_shape"] == want, f"{cmd} y {yk} x {xk}: {want}", blk["math_shape"])
            ys_ = d["output"]["shape"]
            expect(blk["shape"] == ys_ + d["inputs"]["x"]["shape"], "array shape y.shape + x.shape", blk["shape"])


@clause("tensors: math_shape is y.shape + x.shape; kinds scalar/vector/matrix/tensor")
def _():
    d = ok_json(jac("eval", "T * 2", "T:2x3x4", "--json"))
    expect(d["jacobian"]["T"]["math_shape"] == [2, 3, 4, 2, 3, 4] and d["inputs"]["T"]["kind"] == "tensor",
           "(2,3,4,2,3,4) tensor", d["jacobian"]["T"]["math_shape"])
    d = ok_json(jac("shape", "sum(T) * x", "T:2x3x4", "x:5", "--json"))
    expect(d["derivatives"]["T"]["math_shape"] == [5, 2, 3, 4], "(5,2,3,4)", d["derivatives"]["T"])


@clause("array layout matches torch.autograd.functional.jacobian")
def _():
    torch = torch_or_none()
    if torch is None:
        return
    d = ok_json(jac("eval", "A @ X", "A=[[1,2],[3,4],[5,6]]", "X=[[1,0,2],[0,1,3]]", "--json"))
    A = torch.tensor([[1., 2], [3, 4], [5, 6]], dtype=torch.float64)
    X = torch.tensor([[1., 0, 2], [0, 1, 3]], dtype=torch.float64)
    JA, JX = torch.autograd.functional.jacobian(lambda a, x: a @ x, (A, X))
    expect(close(d["jacobian"]["A"]["value"], JA.numpy()) and close(d["jacobian"]["X"]["value"], JX.numpy()),
           "torch's jacobian", d["jacobian"]["A"]["shape"])


# ---------------------------------------------------------------- --json
@clause("--json: exactly one JSON object on stdout for every command, success and error")
def _():
    runs = [jac(cmd, "sin(x) * 2", "x=[1,2]", *extra, "--json") for cmd, extra in COMPUTING.items()]
    runs += [jac("shape", "sin(x)", "x:3", "--json"), jac("diff", "sin(x)", "--wrt", "x", "--json")]
    runs += [jac(cmd, "sin(x) +", "x=[1,2]", "--json") for cmd in list(COMPUTING) + ["shape", "diff"]]
    for r in runs:
        lines = [ln for ln in r.out.splitlines() if ln.strip()]
        d = r.json
        expect(isinstance(d, dict) and "<not json>" not in d, f"{r.args[0]}: one JSON object", r.out[:200])
        expect(r.out.strip().startswith("{") and r.out.strip().endswith("}"), "nothing else on stdout", r.out[:200])


@clause("--json usage errors (typer's own: unknown option, missing argument, bad choice) still JSON on stdout")
def _():
    for args in (["eval", "x", "x=1", "--bogus", "--json"], ["eval", "--json"], ["vjp", "--json"],
                 ["eval", "x", "x=1", "--json", "--seed"],
                 ["eval", "x", "x=1", "--json", "--max-memory", "lots"], ["nosuch", "x", "--json"],
                 ["jvp", "x", "x=1", "--json", "--tangent"], ["eval", "x", "x=1", "--json", "--timeout", "-1"],
                 ["shape", "--json"], ["diff", "--json"]):
        r = jac(*args)
        bad(r, "usage", json_mode=True)


@clause("--json with diff / check / graph / shape: jac_version, command, expression as given")
def _():
    for args in (["diff", "x**2", "--wrt", "x"], ["check", "sin(x)", "x=1"], ["graph", "sin(x)", "x=1"],
                 ["shape", "sin(x)", "x:2"], ["derivative", "x**3", "x=2", "--order", "2"]):
        d = ok_json(jac(*args, "--json"), args[0])
        expect(d.get("expression") == args[1], "expression as given", d.get("expression"))


@clause("expression as given: unicode, leading spaces, a comment, a file's text")
def _():
    for text in ("  x * 2", "x * 2  # twice", "x * 2  # ×2 für α"):
        d = ok_json(jac("eval", text, "x=1", "--json"), "eval")
        expect(d["expression"] == text, repr(text), d["expression"])


@clause("0-d values are plain numbers in JSON (output, jacobian, hessian, vjp)")
def _():
    d = ok_json(jac("eval", "x**2", "x=3", "--json"))
    expect(d["output"]["value"] == 9 and d["jacobian"]["x"]["value"] == 6, "9, 6 plain", d["jacobian"]["x"])
    d = ok_json(jac("hessian", "x**3", "x=1", "--json"))
    expect(d["hessian"]["x,x"]["value"] == 6, "6 plain", d["hessian"])
    d = ok_json(jac("vjp", "x**2", "x=3", "--json"))
    expect(d["vjp"]["x"]["value"] == 6, "6 plain", d["vjp"])


# ---------------------------------------------------------------- Batches
@clause("--batch NAME: value (B, *y), Jacobian block (B, *y, *x), shapes per example; JSON batch")
def _():
    d = ok_json(jac("eval", "W @ x", "W:3x2", "x:4x2", "--batch", "x", "--json"), "eval")
    expect(d.get("batch") == {"size": 4, "inputs": {"x": 0}}, '"batch": {"size": 4, "inputs": {"x": 0}}',
           d.get("batch"))
    expect(np.asarray(d["output"]["value"]).shape == (4, 3), "value (4, 3)", np.asarray(d["output"]["value"]).shape)
    expect(np.asarray(d["jacobian"]["x"]["value"]).shape == (4, 3, 2), "x block (4, 3, 2)", d["jacobian"]["x"]["shape"])
    expect(np.asarray(d["jacobian"]["W"]["value"]).shape == (4, 3, 3, 2), "W block (4, 3, 3, 2)",
           np.asarray(d["jacobian"]["W"]["value"]).shape)
    expect(d["output"]["shape"] == [3] and d["jacobian"]["x"]["math_shape"] == [3, 2], "shapes of one example",
           (d["output"]["shape"], d["jacobian"]["x"]))


@clause("--batch NAME:AXIS as vmap in_dims (PyTorch parity: torch.func.vmap(jacrev))")
def _():
    torch = torch_or_none()
    d = ok_json(jac("eval", "sin(x) * w", "x=[[1,2,3],[4,5,6]]", "w=[1,2]", "--batch", "x:1", "--json"))
    X = np.array([[1., 2, 3], [4, 5, 6]])
    w = np.array([1., 2])
    want_v = np.stack([np.sin(X[:, b]) * w for b in range(3)])
    expect(close(d["output"]["value"], want_v), "value per column", d["output"]["value"])
    if torch:
        from torch.func import jacrev, vmap
        Jx, Jw = vmap(jacrev(lambda x, w: torch.sin(x) * w, argnums=(0, 1)), in_dims=(1, None))(
            torch.tensor(X), torch.tensor(w))
        expect(close(d["jacobian"]["x"]["value"], Jx.numpy()) and close(d["jacobian"]["w"]["value"], Jw.numpy()),
               "torch.func's per-example Jacobians", d["jacobian"]["x"]["value"])
    expect(d["batch"] == {"size": 3, "inputs": {"x": 1}}, "batch size 3 axis 1", d["batch"])


@clause("--batch for every command that computes; --v and --tangent carry the batch axis")
def _():
    for cmd, extra in COMPUTING.items():
        extra = {"vjp": ["--v", "[[1,0],[0,1],[1,1]]"], "jvp": ["--tangent", "x=[[1,0],[0,1],[1,1]]"]}.get(cmd, extra)
        d = ok_json(jac(cmd, "sin(x) * w", "x=[[1,2],[3,4],[5,6]]", "w=[1,2]", "--batch", "x", *extra, "--json"),
                    cmd)
        expect(d.get("batch", {}).get("size") == 3, f"{cmd}: batch size 3", d.get("batch"))
    d = ok_json(jac("vjp", "sin(x) * w", "x=[[1,2],[3,4],[5,6]]", "w=[1,2]", "--batch", "x",
                    "--v", "[[1,0],[0,1],[1,1]]", "--json"))
    X = np.array([[1., 2], [3, 4], [5, 6]])
    V = np.array([[1., 0], [0, 1], [1, 1]])
    expect(close(d["vjp"]["x"]["value"], V * np.cos(X) * [1, 2]), "per-example vjp x", d["vjp"]["x"])
    expect(close(d["vjp"]["w"]["value"], V * np.sin(X)), "per-example vjp of shared w", d["vjp"]["w"])
    d = ok_json(jac("jvp", "sin(x) * w", "x=[[1,2],[3,4],[5,6]]", "w=[1,2]", "--batch", "x",
                    "--tangent", "x=[[1,0],[0,1],[1,1]]", "--json"))
    expect(close(d["jvp"]["value"], V * np.cos(X) * [1, 2]), "per-example jvp", d["jvp"])


@clause("--batch errors: unknown name, axis out of range, unequal sizes, repeated -> exit 2")
def _():
    bad(jac("eval", "x", "x:3x2", "--batch", "z", "--json"), json_mode=True)
    bad(jac("eval", "x", "x:3x2", "--batch", "x:2", "--json"), json_mode=True)
    bad(jac("eval", "x * y", "x:3x2", "y:4x2", "--batch", "x", "--batch", "y", "--json"), json_mode=True)
    bad(jac("eval", "x", "x:()", "--batch", "x", "--json"), json_mode=True)
    bad(jac("eval", "x", "x:3", "--batch", "x:a", "--json"), json_mode=True)
    r = jac("eval", "x * 1", "x:3x2", "--batch", "x", "--batch", "x:1", "--json")
    expect(r.rc == 2 and "Traceback" not in r.err, "conflicting axes for x refused", r)


@clause("--batch -1 counts from the end as vmap's in_dims=-1")
def _():
    d = ok_json(jac("eval", "x * 1", "x:2x3", "--batch", "x:-1", "--json"))
    expect(d["batch"]["size"] == 3, "size 3", d["batch"])


# ---------------------------------------------------------------- Several outputs
@clause("several outputs: named by variable or y0, y1; JSON outputs / jacobians")
def _():
    d = ok_json(jac("eval", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--json"), "eval")
    expect("output" not in d and [o["name"] for o in d["outputs"]] == ["a", "b"], "outputs a, b", d.get("outputs"))
    expect(set(d["jacobians"]) == {"a", "b"} and close(d["jacobians"]["b"]["x"]["value"], [2, 4]), "jacobians",
           list(d.get("jacobians", {})))
    o = d["outputs"][0]
    expect({"name", "shape", "kind", "value"} <= set(o), "name shape kind value", o)
    d = ok_json(jac("eval", "sin(x), x**2", "x=[1,2]", "--json"))
    expect([o["name"] for o in d["outputs"]] == ["y0", "y1"], "y0, y1", d["outputs"])
    d = ok_json(jac("eval", "a = sin(x); a, x**2", "x=[1,2]", "--json"))
    expect([o["name"] for o in d["outputs"]] == ["a", "y1"], "a, y1 (position numbers)", d["outputs"])


@clause("several outputs vjp: --v OUT=VALUE per output; omitted zero; as torch.autograd.backward")
def _():
    d = ok_json(jac("vjp", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--v", "a=[1,1]", "--v", "b=2",
                    "--json"), "vjp")
    want = np.cos([1., 2]) + 2 * 2 * np.array([1., 2])
    expect(close(d["vjp"]["x"]["value"], want), "cos x + 4x", d["vjp"])
    d = ok_json(jac("vjp", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--v", "a=[1,1]", "--json"))
    expect(close(d["vjp"]["x"]["value"], np.cos([1., 2])), "b omitted counts as zero", d["vjp"])
    bad(jac("vjp", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--v", "c=1", "--json"), json_mode=True)
    bad(jac("vjp", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--v", "a=[1,1]", "--v", "a=[2,2]", "--json"),
        json_mode=True)


@clause("several outputs jvp jvps / hessian hessians")
def _():
    d = ok_json(jac("jvp", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--tangent", "x=[1,0]", "--json"))
    expect(set(d["jvps"]) == {"a", "b"} and close(d["jvps"]["b"]["value"], 2), "jvps a, b", d.get("jvps"))
    d = ok_json(jac("hessian", "a = sin(x); b = sum(x**2); a, b", "x=[1,2]", "--json"))
    expect(set(d["hessians"]) == {"a", "b"} and close(d["hessians"]["b"]["x,x"]["value"], 2 * np.eye(2)),
           "hessians", list(d.get("hessians", {})))


@clause("several outputs: one output with one element still has the one-output JSON; a 1-tuple")
def _():
    d = ok_json(jac("eval", "a = sum(x); (a,)", "x=[1,2]", "--json"))
    expect("outputs" in d or "output" in d, "some output key", list(d))


# ---------------------------------------------------------------- Files, time, memory
@clause("--out: a failed write leaves the previous file as it was, no temporary left")
def _():
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "j.npz")
        open(p, "wb").write(b"OLD")
        r = jac("eval", "x +", "x=[1,2]", "--out", p, "--json")
        bad(r, json_mode=True)
        expect(open(p, "rb").read() == b"OLD" and os.listdir(t) == ["j.npz"], "old file kept, nothing else",
               os.listdir(t))
        r = jac("eval", "log(x)", "x=[-1,2]", "--strict", "--out", p, "--json")
        bad(r, json_mode=True)
        expect(open(p, "rb").read() == b"OLD" and os.listdir(t) == ["j.npz"], "old file kept after --strict",
               os.listdir(t))
        r = jac("eval", "x * w", "x=[1,2]", "w=[3,4]", "--out", p, "--json")
        expect(r.rc == 0 and np.load(p)["x"].shape == (2, 2), "replaced when complete", r)


@clause("--out to a directory / an unwritable path / a missing directory: exit 2 io, nothing changed")
def _():
    with tempfile.TemporaryDirectory() as t:
        d = os.path.join(t, "dir.npy")
        os.mkdir(d)
        bad(jac("eval", "x", "x=[1,2]", "--out", d, "--json"), "io", json_mode=True)
        expect(os.path.isdir(d), "the directory stays", d)
        bad(jac("eval", "x", "x=[1,2]", "--out", "/proc/no/j.npy", "--json"), "io", json_mode=True)
        bad(jac("eval", "x", "x=[1,2]", "--out", os.path.join(t, "no", "j.npy"), "--json"), "io", json_mode=True)
        bad(jac("eval", "x", "x=[1,2]", "--out", "/proc/version.npy", "--json"), "io", json_mode=True)


@clause("--out the same file as an input binding: refused, the input file kept (no lost file)")
def _():
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "x.npy")
        np.save(p, np.array([1., 2]))
        e = bad(jac("eval", "x**2", f"x=@{p}", "--out", p, "--json"), json_mode=True)  # refused: never lose the input
        expect(close(np.load(p), [1, 2]) and "--out" in e["message"], "the input file kept, --out named", e)


@clause("--out given twice: refused naming --out, no file written")
def _():
    with tempfile.TemporaryDirectory() as t:
        a, b = os.path.join(t, "a.npy"), os.path.join(t, "b.npy")
        bad(jac("eval", "x**2", "x=[1,2]", "--out", a, "--out", b, "--json"), "usage", json_mode=True)
        expect(os.listdir(t) == [], "no file", os.listdir(t))


@clause("--out .npy with a dtype: float32 Jacobian saved as float32")
def _():
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "j.npy")
        expect(jac("eval", "x**2", "x=[1,2]", "--dtype", "float32", "--out", p).rc == 0, "exit 0", p)
        expect(np.load(p).dtype == np.float32, "float32", np.load(p).dtype)


@clause("--max-memory bounds every command, values included, checked before allocating (limit, fast)")
def _():
    # 20000x20000 float64 is 3.2 GB: refused before it exists
    for cmd, extra in list(COMPUTING.items()) + [("shape", [])]:
        if cmd == "shape":
            continue
        r = jac(cmd, "sum(sin(x))", "x:20000x20000", *extra, "--max-memory", "100M", "--json", timeout=60)
        bad(r, "limit", json_mode=True)
        expect(r.seconds < 30, f"{cmd}: fast", r.seconds)
    r = jac("eval", "sum(x)", "x=zeros((20000, 20000))", "--max-memory", "100M", "--json", timeout=60)
    bad(r, "limit", json_mode=True)
    r = jac("eval", "sum(x)", "x=arange(400000000.0)", "--max-memory", "100M", "--json", timeout=60)
    bad(r, "limit", json_mode=True)
    r = jac("eval", "sum(x)", "x=rand(20000, 20000)", "--max-memory", "100M", "--json", timeout=60)
    bad(r, "limit", json_mode=True)


@clause("--max-memory on the expression's own constants (ones(10**5, 10**5) inside EXPR): limit")
def _():
    r = jac("eval", "sum(x * ones((100000, 100000)))", "x=1", "--max-memory", "100M", "--json", timeout=60)
    bad(r, "limit", json_mode=True)
    r = jac("eval", "sum(x * ones((100000, 100000)))", "x=1", "--json", timeout=60)
    bad(r, "limit", json_mode=True)


@clause("--max-memory bad values: exit 2 usage")
def _():
    for v in ("lots", "-1", "0", "150%"):
        r = jac("eval", "x", "x=1", "--max-memory", v, "--json")
        bad(r, json_mode=True)


@clause("--timeout: symbolic work stops with a limit error")
def _():
    r = jac("diff", "prod(sin(x) ** 7 + cos(x) ** 5) * exp(sum(tanh(x)))", "x:30", "--wrt", "x", "--timeout",
            "0.001", "--json", timeout=60)
    bad(r, "limit", json_mode=True)
    expect(r.seconds < 20, "stops promptly", r.seconds)


@clause("SIGINT exits 130 (no traceback)")
def _():
    p = subprocess.Popen(JAC + ["diff", "prod(sin(x) ** 7 + cos(x) ** 5 + tanh(x) ** 3)", "x:60", "--wrt", "x",
                                "--timeout", "0"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=ROOT)
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise Failed("exit within 30 s of SIGINT; got none")
    expect(p.returncode == 130 and "Traceback" not in err, "exit 130", (p.returncode, err[-300:]))


@clause("a closed output pipe ends quietly with one exit code for every command")
def _():
    codes = {}
    for cmd, extra in list(COMPUTING.items()) + [("shape", []), ("diff", ["--wrt", "x"]), ("schema", None)]:
        r, w = os.pipe()
        os.close(r)   # the reader is gone before jac writes: every write meets a closed pipe
        args = ["eval"] if extra is None else [cmd, "sin(x) * 2", "x:3" if cmd in ("shape",) else "x=[1.0, 2.0]",
                                                 *extra]
        args = args if extra is not None else [cmd, "eval"]
        try:
            p = subprocess.run(JAC + args, stdout=w, stderr=subprocess.PIPE, text=True, env=ENV, timeout=120,
                               cwd=ROOT)
        finally:
            os.close(w)
        expect("Traceback" not in p.stderr and p.stderr.strip() == "", f"{cmd}: quiet", p.stderr[-300:])
        codes[cmd] = p.returncode
    expect(set(codes.values()) == {141}, "one exit code for every command (141, as the help says)", codes)


# ---------------------------------------------------------------- Exit codes and errors
@clause("a parse error: exit 2, one message, a caret under the column; --json position")
def _():
    r = jac("eval", "x + * 2", "x=1")
    bad(r, "parse")
    lines = r.err.splitlines()
    carets = [ln for ln in lines if ln.strip() == "^"]
    expect(len(carets) == 1, "one caret line", r.err)
    expr_line = lines[lines.index(carets[0]) - 1]
    col = carets[0].index("^") - expr_line.index("x + * 2")
    e = bad(jac("eval", "x + * 2", "x=1", "--json"), "parse", json_mode=True)
    expect(e["position"] == col, "the caret's column is the JSON position", (col, e["position"]))
    expect(r.err.count("error") == 1, "the message once on stderr", r.err)


@clause("--json errors: the message also on stderr (once), stdout only the JSON")
def _():
    r = jac("eval", "x + * 2", "x=1", "--json")
    e = bad(r, "parse", json_mode=True)
    expect(r.err.count(e["message"]) == 1, "message once on stderr", r.err)


@clause("error kinds: name, shape, value, io, limit, usage each reachable and named")
def _():
    bad(jac("eval", "x + q", "x=1", "--json"), "name", json_mode=True)
    bad(jac("eval", "x + y", "x=[1,2]", "y=[1,2,3]", "--json"), "shape", json_mode=True)
    bad(jac("eval", "x", "x=@/nonexistent.npy", "--json"), "io", json_mode=True)
    bad(jac("eval", "x", "x=1", "--nope", "--json"), "usage", json_mode=True)
    bad(jac("eval", "sum(x)", "x:100000x100000", "--json"), "limit", json_mode=True)


@clause("a shape error points at the operator: caret/position in the expression")
def _():
    e = bad(jac("eval", "sin(x) + y", "x=[1,2]", "y=[1,2,3]", "--json"), "shape", json_mode=True)
    expect(isinstance(e["position"], int) and 0 <= e["position"] < len("sin(x) + y"), "a position in the text", e)
    expect("(2,)" in e["message"] and "(3,)" in e["message"], "both shapes named", e["message"])


@clause("exit 1 only means a check failed: never for bad input")
def _():
    for args in (["check", "x +", "x=1"], ["check", "x", "x=@/none.npy"], ["check", "x", "--bogus"],
                 ["check", "x", "x=1", "--rtol", "abc"]):
        r = jac(*args)
        expect(r.rc == 2, f"exit 2 for {args}", r)


@clause("no command / unknown command / --help / --version")
def _():
    r = jac()
    expect(r.rc in (0, 2) and "Traceback" not in r.err, "usage, no traceback", r)
    bad(jac("nosuch"), "usage")
    r = jac("--version")
    expect(r.rc == 0 and r.out.strip(), "a version", r)
    r = jac("eval", "--help")
    expect(r.rc == 0 and "--wrt" in r.out, "help", r.err)


@clause("--json on stdout is valid when the output holds huge / tiny numbers (1e308, 5e-324)")
def _():
    d = ok_json(jac("eval", "x * 1", "x=[1e308, 5e-324, -0.0]", "--json"))
    expect(d["output"]["value"][0] == 1e308 and d["output"]["value"][1] == 5e-324, "exact", d["output"])
    d = ok_json(jac("eval", "x * 10", "x=[1e308]", "--json"))
    expect(d["output"]["value"] == ["Infinity"], "overflow to Infinity", d["output"])


@clause("--strict: NaN/inf exit 2; without it a warning on stderr and exit 0")
def _():
    r = jac("eval", "log(x)", "x=[-1.0]", "--json")
    expect(r.rc == 0 and r.err.strip() != "", "exit 0 with a warning", r)
    bad(jac("eval", "log(x)", "x=[-1.0]", "--strict", "--json"), json_mode=True)


# ---------------------------------------------------------------- jac run
SUITE_OK = '''
[[case]]
name = "dot"
expr = "2 * torch.dot(x, y)"
bindings = { x = "arange(4.0)", y = [3, 1, 2, 5] }
value = 40
jacobian.x = [6, 2, 4, 10]
check = true
'''
SUITE_FAIL = SUITE_OK.replace("value = 40", "value = 41")
SUITE_BAD = SUITE_OK.replace("value = 40", "valu = 40")


@clause("jac run: passing 0, failing 1, malformed 2 (with and without --json)")
def _():
    with tempfile.TemporaryDirectory() as t:
        paths = {}
        for name, text in (("ok", SUITE_OK), ("fail", SUITE_FAIL), ("bad", SUITE_BAD), ("syntax", "[[case]\nname=")):
            paths[name] = os.path.join(t, name + ".toml")
            open(paths[name], "w").write(text)
        for name, rc in (("ok", 0), ("fail", 1), ("bad", 2), ("syntax", 2)):
            r = jac("run", paths[name])
            expect(r.rc == rc and "Traceback" not in r.err, f"{name}: exit {rc}", r)
            r = jac("run", paths[name], "--json")
            expect(r.rc == rc, f"{name} --json: exit {rc}", r)
            d = r.json
            expect(isinstance(d, dict) and "<not json>" not in d, f"{name} --json: one JSON object", r.out[:200])
            if rc == 2:
                expect("error" in d, f"{name}: the error object", d)
        r = jac("run", os.path.join(t, "missing.toml"), "--json")
        bad(r, "io", json_mode=True)
        r = jac("run", t, "--json")
        expect(r.rc == 2 and "Traceback" not in r.err, "a directory: exit 2", r)


@clause("jac run --junit FILE: written, and a bad suite leaves the previous report as it was")
def _():
    with tempfile.TemporaryDirectory() as t:
        ok = os.path.join(t, "ok.toml")
        open(ok, "w").write(SUITE_OK)
        bd = os.path.join(t, "bad.toml")
        open(bd, "w").write(SUITE_BAD)
        j = os.path.join(t, "r.xml")
        r = jac("run", ok, "--junit", j)
        expect(r.rc == 0 and "<testsuite" in open(j).read(), "JUnit written", r)
        before = open(j).read()
        r = jac("run", bd, "--junit", j)
        expect(r.rc == 2 and open(j).read() == before, "report kept", r)
        r = jac("run", ok, "--junit", t)
        expect(r.rc == 2 and "Traceback" not in r.err, "--junit a directory: exit 2", r)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="run the clauses whose text holds this")
    ap.add_argument("--start", default="", help="begin at the first clause whose text holds this")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args(argv)
    passed = failed = 0
    started = not args.start
    for text, fn in CLAUSES:
        started = started or args.start in text
        if not started or args.k not in text:
            continue
        start = time.perf_counter()
        try:
            fn()
        except Failed as exc:
            failed += 1
            print(f"FAIL  {text}\n      {str(exc)[:900]}", flush=True)
            continue
        except Exception as exc:     # a probe bug is a FAIL too, shown as such
            failed += 1
            print(f"FAIL  {text}\n      probe raised {type(exc).__name__}: {str(exc)[:600]}", flush=True)
            continue
        passed += 1
        print(f"PASS  {text}" + (f"  ({time.perf_counter() - start:.1f} s)" if args.v else ""), flush=True)
    print(f"\n{passed} passed, {failed} failed of {passed + failed} clauses")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
