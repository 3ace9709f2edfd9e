"""Session 47 (h47-newcomer): a newcomer's hour with batches, several outputs, higher orders and suites.

Five parts, each printing a summary (no timings):

* PARITY: 53 command lines a PyTorch/JAX user types (``--batch`` on axis 0, 1, -1 and 2, several outputs,
  ``--order 3`` and 5, ``jac vjp`` with ``--v OUT=...``, ``jac jvp`` of a batch, ``jac hessian`` of a vector output,
  ``jac graph --backward --batch``, ``torch.func.vmap`` / ``jax.vmap`` written in the text ...), each run with
  ``--json`` through the entry point in this process, every number compared with PyTorch's ``torch.func``
  (``vmap``, ``jacrev``, ``jacfwd``, ``hessian``, ``vjp``, ``jvp``) or ``torch.autograd.backward`` (rtol 1e-9,
  atol 1e-11, NaN for NaN; float32 rtol 1e-5). A row prints OK, or DIFF with the key and the largest difference.
* SWEEP: 10 terms under ``--batch x:AXIS`` (w shared), one output or beside ``sum(x**3)``: ``jac derivative
  --order 2|3`` and ``jac eval`` against a Python loop of ``torch.func`` over the examples.
* BRANCHES: 14 terms whose examples take different branches (relu, abs, max, where, clip, sort, median at zeros,
  ties and mixed signs; the batch's kernel is made from example 0): eval, hessian, derivative --order 3 and vjp.
* MISTAKES: the mistakes of the hour (a wrong shape in ``--v``, batch sizes that differ, an axis out of range,
  ``--order 0`` and ``50``, a typo in a suite, a suite with tabs / CRLF / a BOM, a wrong hand gradient in ``jac
  run`` and a wrong hand backward in ``jac check``, ``--out`` of each format): exit code and message, flagged
  TRACEBACK (a traceback), EXIT (an exit code other than expected) or NOWHERE (the message misses what the row
  expects it to say: the option, the key, the entry).
* HELP: each command's ``--help`` against its options' help texts (a bracketed text rich read as markup and
  dropped), and the functions docs/api.md names, imported from ``jacobi_cli``.

    PYTHONPATH=. python benchmarks/newcomer47_probe.py [--verbose] [--only parity|sweep|mistakes|help]
    PYTHONPATH=/work/main python benchmarks/newcomer47_probe.py     # another checkout ("before")
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile

import numpy as np


def run(argv) -> tuple:
    """``jac ARGV`` through the entry point in this process: exit code, stdout, stderr."""
    from jacobi_cli.cli import entry

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = entry.main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 2
    except Exception:  # noqa: BLE001 - what escapes the entry point is what the probe counts
        import traceback
        return 70, out.getvalue(), err.getvalue() + traceback.format_exc()
    return code, out.getvalue(), err.getvalue()


def T(v):
    import torch
    return torch.tensor(np.asarray(v, dtype=float), dtype=torch.float64)


def N(t):
    if isinstance(t, (tuple, list)):
        return [N(u) for u in t]
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def dig(d, path):
    for key in path:
        d = d[key]
    return np.asarray(d, dtype=float) if not isinstance(d, (int, float)) else np.asarray(float(d))


def fix_json(v):
    if isinstance(v, list):
        return [fix_json(u) for u in v]
    if isinstance(v, str):
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[v]
    return v


# ---------------------------------------------------------------------------------------------------- parity
def parity_cases():
    """(label, argv, reference) where reference() gives {json path: expected array} from PyTorch."""
    import torch
    from torch.func import hessian, jacfwd, jacrev, jvp, vjp, vmap

    X3 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    W2 = [0.5, 2.0]
    XB1 = [[1.0, 2.0, 0.5], [0.0, 0.0, -1.0]]   # batch along axis 1: three examples of (2,)
    A = [[1.0, 2.0], [3.0, 4.0]]
    c = []

    def add(label, argv, ref):
        c.append((label, argv, ref))

    # --- batches, axis 0 and other axes
    add("eval softmax batch 0", ["eval", "softmax(x)", f"x={X3}", "--batch", "x"],
        lambda: {("output", "value"): N(torch.softmax(T(X3), -1)),
                 ("jacobian", "x", "value"): N(vmap(jacrev(lambda x: torch.softmax(x, -1)))(T(X3)))})
    add("eval softmax batch x:1", ["eval", "softmax(x)", f"x={XB1}", "--batch", "x:1"],
        lambda: {("output", "value"): N(vmap(lambda x: torch.softmax(x, -1), in_dims=1)(T(XB1))),
                 ("jacobian", "x", "value"): N(vmap(jacrev(lambda x: torch.softmax(x, -1)), in_dims=1)(T(XB1)))})
    add("eval softmax batch x:-1", ["eval", "softmax(x)", f"x={XB1}", "--batch", "x:-1"],
        lambda: {("jacobian", "x", "value"): N(vmap(jacrev(lambda x: torch.softmax(x, -1)), in_dims=-1)(T(XB1)))})
    f_wx = lambda x, w: torch.tanh(w * x).sum()  # noqa: E731
    add("vjp shared w batch x", ["vjp", "sum(tanh(w * x))", f"x={X3}", f"w={W2}", "--batch", "x"],
        lambda: {("vjp", "x", "value"): N(vmap(jacrev(f_wx, 0), in_dims=(0, None))(T(X3), T(W2))),
                 ("vjp", "w", "value"): N(vmap(jacrev(f_wx, 1), in_dims=(0, None))(T(X3), T(W2)))})
    add("vjp batch x:1 shared w", ["vjp", "sum(tanh(w * x))", f"x={[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]}",
                                    f"w={W2}", "--batch", "x:1"],
        lambda: {("vjp", "x", "value"): N(vmap(jacrev(f_wx, 0), in_dims=(0, None))(T(X3), T(W2))),
                 ("vjp", "w", "value"): N(vmap(jacrev(f_wx, 1), in_dims=(0, None))(T(X3), T(W2)))})
    VB = [[1.0, -1.0], [0.5, 2.0], [3.0, 0.0]]
    add("vjp batch with --v", ["vjp", "sin(x) * w", f"x={X3}", f"w={W2}", "--batch", "x", "--v", f"{VB}"],
        lambda: {("vjp", "x", "value"): N(vmap(lambda x, v: vjp(lambda x: torch.sin(x) * T(W2), x)[1](v)[0])(T(X3), T(VB))),
                 ("vjp", "w", "value"): N(vmap(lambda x, v: vjp(lambda w: torch.sin(x) * w, T(W2))[1](v)[0])(T(X3), T(VB)))})
    TB = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    add("jvp batch tangent", ["jvp", "sin(x) * w", f"x={X3}", f"w={W2}", "--batch", "x", "--tangent", f"x={TB}"],
        lambda: {("jvp", "value"): N(vmap(lambda x, t: jvp(lambda x: torch.sin(x) * T(W2), (x,), (t,))[1])(T(X3), T(TB)))})
    add("jvp batch x:1 tangent", ["jvp", "x ** 3", f"x={XB1}", "--batch", "x:1", "--tangent", f"x={XB1}"],
        lambda: {("jvp", "value"): N(vmap(lambda x, t: jvp(lambda x: x ** 3, (x,), (t,))[1], in_dims=1)(T(XB1), T(XB1)))})
    add("hessian batch logsumexp", ["hessian", "logsumexp(x)", f"x={X3}", "--batch", "x"],
        lambda: {("hessian", "x,x", "value"): N(vmap(hessian(lambda x: torch.logsumexp(x, -1)))(T(X3)))})
    add("hessian batch x:1", ["hessian", "logsumexp(x)", f"x={XB1}", "--batch", "x:1"],
        lambda: {("hessian", "x,x", "value"): N(vmap(hessian(lambda x: torch.logsumexp(x, -1)), in_dims=1)(T(XB1)))})
    add("hessian batch shared w", ["hessian", "sum(tanh(w * x))", f"x={X3}", f"w={W2}", "--batch", "x"],
        lambda: {("hessian", key, "value"): N(vmap(jacfwd(jacrev(f_wx, i), j), in_dims=(0, None))(T(X3), T(W2)))
                 for key, i, j in (("x,x", 0, 0), ("x,w", 0, 1), ("w,x", 1, 0), ("w,w", 1, 1))})
    add("derivative order 3 batch", ["derivative", "x ** 4 + sin(x)", f"x={X3}", "--batch", "x", "--order", "3"],
        lambda: {("derivative", "x", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x: x ** 4 + torch.sin(x)))))(T(X3)))})
    add("derivative order 3 batch x:1 sum", ["derivative", "sum(x ** 4) * x[0]", f"x={XB1}", "--batch", "x:1",
                                             "--order", "3"],
        lambda: {("derivative", "x", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x: (x ** 4).sum() * x[0]))), in_dims=1)(T(XB1)))})
    add("derivative order 3 shared w", ["derivative", "sum(tanh(w * x))", f"x={X3}", f"w={W2}", "--batch", "x",
                                        "--order", "3", "--wrt", "w"],
        lambda: {("derivative", "w", "value"): N(vmap(jacfwd(jacfwd(jacrev(f_wx, 1), 1), 1), in_dims=(0, None))(T(X3), T(W2)))})
    add("batch two inputs", ["eval", "x * y", f"x={X3}", f"y={[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]}", "--batch", "x",
                             "--batch", "y"],
        lambda: {("jacobian", "y", "value"): N(vmap(jacrev(lambda x, y: x * y, 1))(T(X3), T([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])))})
    add("batch two inputs different axes", ["eval", "x @ A", f"x={X3}", f"A={[[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 0.0], [1.0, 3.0]]]}",
                                            "--batch", "x", "--batch", "A:1"],
        lambda: {("jacobian", "A", "value"): N(vmap(jacrev(lambda x, a: x @ a, 1), in_dims=(0, 1))(
            T(X3), T([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 0.0], [1.0, 3.0]]])))})
    # --- several outputs
    g2 = lambda x, y: (torch.sin(x) * y, (x ** 2).sum())  # noqa: E731
    add("eval two outputs", ["eval", "a = sin(x) * y; b = sum(x**2); a, b", "x=[1, 2]", "y=[3, 4]"],
        lambda: {("jacobians", "a", "x", "value"): N(jacrev(lambda x: g2(x, T([3, 4]))[0])(T([1, 2]))),
                 ("jacobians", "b", "x", "value"): N(jacrev(lambda x: g2(x, T([3, 4]))[1])(T([1, 2]))),
                 ("jacobians", "a", "y", "value"): N(jacrev(lambda y: g2(T([1, 2]), y)[0])(T([3, 4])))})

    def backward2(va, vb):
        x, y = T([1, 2]).requires_grad_(), T([3, 4]).requires_grad_()
        a, b = g2(x, y)
        torch.autograd.backward([a, b], [T(va), T(vb)])
        return {("vjp", "x", "value"): N(x.grad), ("vjp", "y", "value"): N(y.grad)}
    add("vjp two outputs both v", ["vjp", "a = sin(x) * y; b = sum(x**2); a, b", "x=[1, 2]", "y=[3, 4]",
                                   "--v", "a=[1, -2]", "--v", "b=3"], lambda: backward2([1, -2], 3))
    add("vjp two outputs only a", ["vjp", "a = sin(x) * y; b = sum(x**2); a, b", "x=[1, 2]", "y=[3, 4]",
                                   "--v", "a=[1, 1]"], lambda: backward2([1, 1], 0))
    add("vjp two outputs --v ones", ["vjp", "a = sin(x) * y; b = sum(x**2); a, b", "x=[1, 2]", "y=[3, 4]",
                                     "--v", "ones"], lambda: backward2([1, 1], 1))
    add("jvp two outputs", ["jvp", "a = sin(x) * y; b = sum(x**2); a, b", "x=[1, 2]", "y=[3, 4]", "--tangent",
                            "x=[1, 0.5]"],
        lambda: dict(zip((("jvps", "a", "value"), ("jvps", "b", "value")),
                         N(jvp(lambda x: g2(x, T([3, 4])), (T([1, 2]),), (T([1, 0.5]),))[1]))))
    add("hessian two outputs", ["hessian", "a = sin(x) * y; b = sum(x**3); a, b", "x=[1, 2]", "y=[3, 4]"],
        lambda: {("hessians", "a", "x,y", "value"): N(jacfwd(jacrev(lambda x, y: torch.sin(x) * y, 0), 1)(T([1, 2]), T([3, 4]))),
                 ("hessians", "b", "x,x", "value"): N(hessian(lambda x: (x ** 3).sum())(T([1, 2])))})
    add("derivative 3 two outputs", ["derivative", "a = sin(x) * y; b = sum(x**4); a, b", "x=[1, 2]", "y=[3, 4]",
                                     "--order", "3", "--wrt", "x"],
        lambda: {("derivatives", "a", "x", "value"): N(jacfwd(jacfwd(jacrev(lambda x: torch.sin(x) * T([3, 4]))))(T([1, 2]))),
                 ("derivatives", "b", "x", "value"): N(jacfwd(jacfwd(jacrev(lambda x: (x ** 4).sum())))(T([1, 2])))})
    add("qr named tuple", ["eval", "torch.linalg.qr(A)", f"A={A}"],
        lambda: {("jacobians", "Q", "A", "value"): N(jacrev(lambda a: torch.linalg.qr(a)[0])(T(A))),
                 ("jacobians", "R", "A", "value"): N(jacrev(lambda a: torch.linalg.qr(a)[1])(T(A)))})
    # --- several outputs and a batch, order 3
    f3 = lambda x, w: (torch.sin(x) * w, (x ** 3).sum())  # noqa: E731
    add("batch + two outputs eval", ["eval", "a = sin(x) * w; b = sum(x**3); a, b", f"x={X3}", f"w={W2}", "--batch", "x"],
        lambda: {("jacobians", "a", "x", "value"): N(vmap(jacrev(lambda x, w: f3(x, w)[0]), in_dims=(0, None))(T(X3), T(W2))),
                 ("jacobians", "a", "w", "value"): N(vmap(jacrev(lambda x, w: f3(x, w)[0], 1), in_dims=(0, None))(T(X3), T(W2))),
                 ("jacobians", "b", "x", "value"): N(vmap(jacrev(lambda x, w: f3(x, w)[1]), in_dims=(0, None))(T(X3), T(W2)))})
    add("batch + two outputs order 3", ["derivative", "a = sin(x) * w; b = sum(x**3); a, b", f"x={X3}", f"w={W2}",
                                        "--batch", "x", "--order", "3", "--wrt", "x"],
        lambda: {("derivatives", "a", "x", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x, w: f3(x, w)[0]))), in_dims=(0, None))(T(X3), T(W2))),
                 ("derivatives", "b", "x", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x, w: f3(x, w)[1]))), in_dims=(0, None))(T(X3), T(W2)))})
    add("batch + two outputs order 3 wrt w", ["derivative", "a = sin(x) * w**2; b = sum(x * w**3); a, b", f"x={X3}", f"w={W2}",
                                              "--batch", "x", "--order", "3", "--wrt", "w"],
        lambda: {("derivatives", "a", "w", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x, w: torch.sin(x) * w ** 2, 1), 1), 1), in_dims=(0, None))(T(X3), T(W2))),
                 ("derivatives", "b", "w", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x, w: (x * w ** 3).sum(), 1), 1), 1), in_dims=(0, None))(T(X3), T(W2)))})
    add("batch x:1 + two outputs order 3", ["derivative", "a = exp(x) * x[0]; b = sum(x**3); a, b", f"x={XB1}",
                                            "--batch", "x:1", "--order", "3"],
        lambda: {("derivatives", "a", "x", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x: torch.exp(x) * x[0]))), in_dims=1)(T(XB1))),
                 ("derivatives", "b", "x", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda x: (x ** 3).sum()))), in_dims=1)(T(XB1)))})
    add("batch + two outputs vjp", ["vjp", "a = sin(x) * w; b = sum(x**3); a, b", f"x={X3}", f"w={W2}", "--batch", "x",
                                    "--v", f"a={VB}", "--v", "b=[1, 2, 3]"],
        lambda: {("vjp", "x", "value"): N(vmap(lambda x, va, vb: vjp(lambda x: f3(x, T(W2)), x)[1]((va, vb))[0])(T(X3), T(VB), T([1, 2, 3]))),
                 ("vjp", "w", "value"): N(vmap(lambda x, va, vb: vjp(lambda w: f3(x, w), T(W2))[1]((va, vb))[0])(T(X3), T(VB), T([1, 2, 3])))})
    add("batch + two outputs hessian", ["hessian", "a = sin(x) * w; b = sum(x**3); a, b", f"x={X3}", f"w={W2}", "--batch", "x"],
        lambda: {("hessians", "a", "x,w", "value"): N(vmap(jacfwd(jacrev(lambda x, w: f3(x, w)[0]), 1), in_dims=(0, None))(T(X3), T(W2))),
                 ("hessians", "b", "x,x", "value"): N(vmap(hessian(lambda x: (x ** 3).sum()))(T(X3)))})
    # --- higher orders, the other library's spelling
    add("order 3 torch spelling", ["derivative", "torch.sin(x) * torch.exp(x)", "x=[0.5, 1.0]", "--order", "3"],
        lambda: {("derivative", "x", "value"): N(jacfwd(jacfwd(jacrev(lambda x: torch.sin(x) * torch.exp(x))))(T([0.5, 1.0])))})
    add("order 3 numpy spelling", ["derivative", "np.sum(np.tanh(A @ x))", f"A={A}", "x=[0.3, -0.2]", "--order", "3",
                                   "--wrt", "x"],
        lambda: {("derivative", "x", "value"): N(jacfwd(jacfwd(jacrev(lambda x: torch.tanh(T(A) @ x).sum())))(T([0.3, -0.2])))})
    add("order 4 matrix", ["derivative", "torch.linalg.det(A)", f"A={A}", "--order", "2"],
        lambda: {("derivative", "A", "value"): N(jacfwd(jacrev(torch.linalg.det))(T(A)))})
    add("hessian vector output", ["hessian", "x**3", "x=[1, 2]"],
        lambda: {("hessian", "x,x", "value"): N(jacfwd(jacrev(lambda x: x ** 3))(T([1, 2])))})
    add("hessian F.softplus", ["hessian", "F.softplus(x).sum() * y", "x=[0.2, -1]", "y=3"],
        lambda: {("hessian", "x,y", "value"): N(jacfwd(jacrev(lambda x, y: torch.nn.functional.softplus(x).sum() * y), 1)(T([0.2, -1]), T(3)))})
    add("jax spelling jnp", ["eval", "jnp.sum(jax.nn.sigmoid(x) ** 2)", "x=[0.1, 0.2, 0.3]"],
        lambda: {("jacobian", "x", "value"): N(jacrev(lambda x: (torch.sigmoid(x) ** 2).sum())(T([0.1, 0.2, 0.3])))})
    add("order 1 == eval", ["derivative", "x.pow(3).mean()", "x=[1, 2, 3]", "--order", "1"],
        lambda: {("derivative", "x", "value"): N(jacrev(lambda x: x.pow(3).mean())(T([1, 2, 3])))})
    add("order 5 scalar", ["derivative", "exp(2 * x) * sin(x)", "x=0.7", "--order", "5"],
        lambda: {("derivative", "x", "value"): N(jacfwd(jacfwd(jacfwd(jacfwd(jacrev(lambda x: torch.exp(2 * x) * torch.sin(x))))))(T(0.7)))})
    add("vjp torch.autograd.grad style", ["vjp", "(x @ A @ x).sum()", "x=[1, 2]", f"A={A}"],
        lambda: {("vjp", "x", "value"): N(torch.func.grad(lambda x: x @ T(A) @ x)(T([1, 2]))),
                 ("vjp", "A", "value"): N(torch.func.grad(lambda a: T([1, 2]) @ a @ T([1, 2]))(T(A)))})
    add("batch dim= keyword", ["eval", "torch.softmax(x, dim=-1)", f"x={X3}", "--batch", "x"],
        lambda: {("jacobian", "x", "value"): N(vmap(jacrev(lambda x: torch.softmax(x, dim=-1)))(T(X3)))})
    add("batch matrix example axis 2", ["eval", "A @ v", f"A={np.arange(12.0).reshape(2, 2, 3).tolist()}", "v=[1, -1]",
                                        "--batch", "A:2"],
        lambda: {("jacobian", "A", "value"): N(vmap(jacrev(lambda a, v: a @ v), in_dims=(2, None))(T(np.arange(12.0).reshape(2, 2, 3)), T([1, -1]))),
                 ("jacobian", "v", "value"): N(vmap(jacrev(lambda a, v: a @ v, 1), in_dims=(2, None))(T(np.arange(12.0).reshape(2, 2, 3)), T([1, -1])))})
    # --- more steps off the path
    add("graph --backward batch", ["graph", "h = tanh(w * x); sum(h)", f"x={X3}", f"w={W2}", "--batch", "x", "--backward"],
        lambda: {("nodes", 0, "grad"): N(vmap(jacrev(f_wx, 0), in_dims=(0, None))(T(X3), T(W2))),
                 ("nodes", 1, "grad"): N(vmap(jacrev(f_wx, 1), in_dims=(0, None))(T(X3), T(W2)))})
    add("vjp batch --v ones", ["vjp", "x ** 2 * w", f"x={X3}", f"w={W2}", "--batch", "x", "--v", "ones"],
        lambda: {("vjp", "w", "value"): N(vmap(lambda x: vjp(lambda w: x ** 2 * w, T(W2))[1](torch.ones(2, dtype=torch.float64))[0])(T(X3)))})
    add("jvp shared tangent per example", ["jvp", "sum(tanh(w * x))", f"x={X3}", f"w={W2}", "--batch", "x",
                                           "--tangent", f"w={TB}"],
        lambda: {("jvp", "value"): N(vmap(lambda x, t: jvp(lambda w: f_wx(x, w), (T(W2),), (t,))[1])(T(X3), T(TB)))})
    add("jvp shared tangent one", ["jvp", "sum(tanh(w * x))", f"x={X3}", f"w={W2}", "--batch", "x", "--tangent", "w=[1, -1]"],
        lambda: {("jvp", "value"): N(vmap(lambda x: jvp(lambda w: f_wx(x, w), (T(W2),), (T([1, -1]),))[1])(T(X3)))})
    M3 = np.arange(1.0, 13.0).reshape(3, 2, 2).tolist()
    add("hessian batch matrix axis 0 det", ["hessian", "det(A)", f"A={M3}", "--batch", "A"],
        # a loop, not vmap: torch.func's vmap of det's Hessian is wrong in PyTorch 2.13 (docs/batches-outputs-orders.md)
        lambda: {("hessian", "A,A", "value"): N(torch.stack([jacfwd(jacrev(torch.linalg.det))(a) for a in T(M3)]))})
    add("derivative 3 batch matrix trace(A@A@A)", ["derivative", "trace(A @ A @ A)", f"A={M3}", "--batch", "A", "--order", "3"],
        lambda: {("derivative", "A", "value"): N(vmap(jacfwd(jacfwd(jacrev(lambda a: torch.trace(a @ a @ a)))))(T(M3)))})
    add("derivative 3 sparse batch", ["derivative", "tanh(x)", f"x={X3}", "--batch", "x", "--order", "3", "--sparse"],
        lambda: {("derivative", "x", "diagonal"): N(torch.stack([torch.stack([
            jacfwd(jacfwd(jacrev(torch.tanh)))(x)[i, i, i, i] for i in range(2)]) for x in T(X3)]))})
    add("float32 batch eval", ["eval", "softmax(x)", f"x={X3}", "--batch", "x", "--dtype", "float32"],
        lambda: {("jacobian", "x", "value"): N(vmap(jacrev(lambda x: torch.softmax(x, -1)))(T(X3)))})
    add("hessian numpy spelling vector out", ["hessian", "np.outer(x, x).sum(axis=0)", "x=[1, 2, 3]"],
        lambda: {("hessian", "x,x", "value"): N(jacfwd(jacrev(lambda x: torch.outer(x, x).sum(0)))(T([1, 2, 3])))})
    # --- torch.func / jax transforms written in the text, as pasted
    add("text vmap(jacrev)", ["eval", "torch.func.vmap(torch.func.jacrev(lambda v: torch.tanh(v) * v.sum()))(x)", f"x={X3}"],
        lambda: {("output", "value"): N(vmap(jacrev(lambda v: torch.tanh(v) * v.sum()))(T(X3))),
                 ("jacobian", "x", "value"): N(jacrev(vmap(jacrev(lambda v: torch.tanh(v) * v.sum())))(T(X3)))})
    add("text jax.vmap(jax.hessian)", ["eval", "jax.vmap(jax.hessian(lambda v: jnp.sum(jnp.sin(v) * v**2)))(x)", f"x={X3}"],
        lambda: {("output", "value"): N(vmap(hessian(lambda v: (torch.sin(v) * v ** 2).sum()))(T(X3)))})
    add("text vmap in_dims=1", ["vjp", "torch.func.vmap(lambda v: (v ** 3).sum(), in_dims=1)(x).sum()", f"x={XB1}"],
        lambda: {("vjp", "x", "value"): N(torch.func.grad(lambda x: vmap(lambda v: (v ** 3).sum(), in_dims=1)(x).sum())(T(XB1)))})
    return c


SWEEP_TERMS = [  # (jac text, torch function of x (one example) and w (shared))
    ("sin(x) * w", lambda x, w, t: t.sin(x) * w),
    ("exp(x) / (1 + x**2)", lambda x, w, t: t.exp(x) / (1 + x ** 2)),
    ("softmax(x * w)", lambda x, w, t: t.softmax(x * w, -1)),
    ("logsumexp(x) * w", lambda x, w, t: t.logsumexp(x, -1) * w),
    ("tanh(w @ x) * x", lambda x, w, t: t.tanh(w @ x) * x),
    ("x.cumsum(0) ** 2", lambda x, w, t: x.cumsum(0) ** 2),
    ("torch.outer(x, w).sum(0)", lambda x, w, t: t.outer(x, w).sum(0)),
    ("x / x.norm()", lambda x, w, t: x / t.linalg.norm(x)),
    ("F.softplus(x - w).prod()", lambda x, w, t: t.nn.functional.softplus(x - w).prod()),
    ("x.flip(0) * x", lambda x, w, t: x.flip(0) * x),
]


def sweep_cases():
    """Each term at a seeded point: eval / hessian / derivative --order 2..3, --batch on axis 0, 1 or -1 of x
    (w shared), one output and the term beside sum(x**3) as two; against a Python loop over the examples of
    torch.func (not vmap: vmap of some higher derivatives is wrong in PyTorch 2.13, see the docs)."""
    import torch
    from torch.func import jacfwd, jacrev

    rng = np.random.default_rng(47)
    cases = []
    for k, (text, fn) in enumerate(SWEEP_TERMS):
        B, n = 3, 2
        axis = [0, 1, -1][k % 3]
        ex = rng.uniform(0.3, 1.5, size=(B, n))
        x_full = np.moveaxis(ex, 0, axis % 2)
        w = rng.uniform(-1, 1, size=n)
        order = 2 + k % 2
        two = k % 2 == 1
        expr = f"a = {text}; b = sum(x**3); a, b" if two else text
        f = lambda x, w=T(w), fn=fn: fn(x, w, torch)  # noqa: E731

        def nested(g, order):
            d = jacrev(g)
            for _ in range(order - 1):
                d = jacfwd(d)
            return d

        def ref(f=f, order=order, two=two, ex=ex):
            per = [N(nested(f, order)(T(e))) for e in ex]
            jac = [N(jacrev(f)(T(e))) for e in ex]
            if two:
                return {("derivatives", "a", "x", "value"): np.stack(per),
                        ("jacobians", "a", "x", "value"): np.stack(jac)}
            return {("derivative", "x", "value"): np.stack(per), ("jacobian", "x", "value"): np.stack(jac)}
        cases.append((f"sweep {text} order {order} axis {axis}{' two outputs' if two else ''}",
                      expr, [f"x={x_full.tolist()}", f"w={w.tolist()}", "--batch", f"x:{axis}", "--wrt", "x"],
                      order, ref))
    return cases


def probe_sweep(verbose: bool) -> int:
    diffs = 0
    cases = sweep_cases()
    for label, expr, args, order, ref in cases:
        want = ref()
        got = {}
        for command in (["derivative", expr, *args, "--order", str(order)], ["eval", expr, *args]):
            code, out, err = run([*command, "--json"])
            if code != 0:
                got = None
                print(f"FAIL  {label}: {command[0]} exit {code}: {err.strip()[:200]}")
                break
            data = json.loads(out)
            for path in want:
                if path[0] in data:
                    got[path] = fix_json(dig(data, path).tolist())
        if got is None:
            diffs += 1
            continue
        problems = [f"{'.'.join(p)}: {c}" for p in want if (c := compare(got.get(p), want[p]) if p in got else "missing")]
        diffs += bool(problems)
        print(f"{'DIFF' if problems else 'OK  '}  {label}" + "".join(f"\n      {p}" for p in problems))
    print(f"\nsweep: {len(cases)} terms, derivative and eval under --batch, against a loop of torch.func; {diffs} differ\n")
    return diffs


BRANCH_TERMS = [  # where examples take different branches: the batch's kernel is made from example 0 alone
    ("relu(x) * w", lambda x, w, t: t.relu(x) * w),
    ("abs(x).sum() * x", lambda x, w, t: t.abs(x).sum() * x),
    ("torch.max(x) * w", lambda x, w, t: t.max(x) * w),
    ("torch.where(x > 0, x**2, -x) + w", lambda x, w, t: t.where(x > 0, x ** 2, -x) + w),
    ("clip(x, -0.5, 0.5) * x", lambda x, w, t: t.clamp(x, -0.5, 0.5) * x),
    ("torch.sort(x).values * w", lambda x, w, t: t.sort(x).values * w),
    ("maximum(x, w) ** 2", lambda x, w, t: t.maximum(x, w) ** 2),
    ("x.norm() * x", lambda x, w, t: t.linalg.norm(x) * x),
    ("softmax(x * w).max()", lambda x, w, t: t.softmax(x * w, -1).max()),
    ("x[x.argmax()] * x", lambda x, w, t: x[x.argmax()] * x),
    ("torch.sign(x) * x**2", lambda x, w, t: t.sign(x) * x ** 2),
    ("F.leaky_relu(x, 0.1) @ w", lambda x, w, t: t.nn.functional.leaky_relu(x, 0.1) @ w),
    ("torch.median(x) * w", lambda x, w, t: t.median(x) * w),
    ("F.hardtanh(x * 3) * w", lambda x, w, t: t.nn.functional.hardtanh(x * 3) * w),
]


def probe_branches(verbose: bool) -> int:
    """40 examples (zeros, ties, mixed signs among them) of each BRANCH_TERMS term: eval, hessian and
    derivative --order 3 by x, vjp --v ones by the shared w, against a loop of torch.func."""
    import torch
    from torch.func import jacfwd, jacrev

    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    X[5], X[6], X[7], X[8] = 0, [1, 1, 1], [-1, 2, 2], [2, -1, 2]
    W = rng.normal(size=3)
    diffs = 0
    for text, fn in BRANCH_TERMS:
        f = lambda x, fn=fn: fn(x, T(W), torch)  # noqa: E731
        refs = {("eval", ("jacobian", "x", "value")): lambda: [jacrev(f)(T(x)) for x in X],
                ("hessian", ("hessian", "x,x", "value")): lambda: [jacfwd(jacrev(f))(T(x)) for x in X],
                ("derivative", ("derivative", "x", "value")): lambda: [jacfwd(jacfwd(jacrev(f)))(T(x)) for x in X],
                ("vjp", ("vjp", "w", "value")): lambda: [torch.func.vjp(lambda w: fn(T(x), w, torch), T(W))[1](
                    torch.ones_like(f(T(x))))[0] for x in X]}
        problems = []
        for (command, path), ref in refs.items():
            extra = {"eval": ["--wrt", "x"], "hessian": ["--wrt", "x"], "derivative": ["--wrt", "x", "--order", "3"],
                     "vjp": ["--v", "ones"]}[command]
            code, out, err = run([command, text, f"x={X.tolist()}", f"w={W.tolist()}", "--batch", "x", *extra, "--json"])
            if code != 0:
                problems.append(f"{command}: exit {code}: {err.strip()[:160]}")
                continue
            p = compare(fix_json(dig(json.loads(out), path).tolist()), np.stack(N(ref())))
            if p:
                problems.append(f"{command} {'.'.join(path)}: {p}")
        diffs += bool(problems)
        print(f"{'DIFF' if problems else 'OK  '}  branches {text}" + "".join(f"\n      {p}" for p in problems))
    print(f"\nbranches: {len(BRANCH_TERMS)} terms x 4 commands, 40 examples each, against a loop of torch.func; "
          f"{diffs} differ\n")
    return diffs


def compare(got, want, rtol=1e-9, atol=1e-11):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return f"shape {got.shape} != torch {want.shape}"
    both_nan = np.isnan(got) & np.isnan(want)
    bad = ~both_nan & ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    bad &= ~((got == want) & np.isinf(want))
    if bad.any():
        return f"max |diff| {np.nanmax(np.abs(got - want)):.3g} at {np.argwhere(bad)[0].tolist()}"
    return None


def probe_parity(verbose: bool) -> int:
    diffs = 0
    cases = parity_cases()
    for label, argv, ref in cases:
        code, out, err = run([*argv, "--json"])
        if code != 0:
            diffs += 1
            print(f"FAIL  {label}: exit {code}: {err.strip().splitlines()[-1] if err.strip() else out[:200]}")
            continue
        data = json.loads(out)
        problems = []
        for path, want in ref().items():
            try:
                got = fix_json(dig(data, path).tolist())
            except (KeyError, TypeError) as e:
                problems.append(f"{'.'.join(path)}: missing ({e})")
                continue
            p = compare(got, want, *((1e-5, 1e-6) if "float32" in argv else ()))
            if p:
                problems.append(f"{'.'.join(path)}: {p}")
        diffs += bool(problems)
        print(f"{'DIFF' if problems else 'OK  '}  {label}" + ("".join(f"\n      {p}" for p in problems)))
        if verbose:
            print("      jac " + " ".join(argv))
    print(f"\nparity: {len(cases)} command lines against torch.func / torch.autograd, {diffs} differ or fail\n")
    return diffs


# -------------------------------------------------------------------------------------------------- mistakes
SUITE_OK = """name = "s"
[[case]]
name = "square"
expr = "x**2"
bindings = { x = [1.0, 2.0] }
jacobian.x = [[2, 0], [0, 4]]
"""
SUITE_TYPO = SUITE_OK + """
[[case]]
name = "typo"
expr = "sum(x**2)"
bindings = { x = [1.0, 2.0] }
jacobain.x = [2, 4]
"""
SUITE_WRONG = SUITE_OK + """
[[case]]
name = "hand gradient"
expr = "sum(sin(x) * x)"
bindings = { x = [1.0, 2.0] }
jacobian.x = [1.3817732906760363, 0.0771]
"""
CUBE = """import torch

class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.where(x > 2.5, 3.03 * x ** 2, 3 * x ** 2)   # wrong by 1 % where x > 2.5

x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
y = Cube.apply(x).sum()
y.backward()
"""
SUITE_BATCH = """[[case]]
name = "batched"
expr = "softmax(x)"
bindings = { x = [[1.0, 2.0], [0.0, 0.0]] }
batch = ["x"]
value = [[0.2689414213699951, 0.7310585786300049], [0.5, 0.5]]
"""


def mistake_cases(d):
    HAND = "@" + os.path.join(d, "cube.py")

    def w(name, text, mode="w", newline=None, encoding="utf-8"):
        path = os.path.join(d, name)
        with open(path, mode, newline=newline, encoding=encoding) as fh:
            fh.write(text)
        return path
    w("cube.py", CUBE)
    ok = w("ok.toml", SUITE_OK)
    typo = w("typo.toml", SUITE_TYPO)
    wrong = w("wrong.toml", SUITE_WRONG)
    tabs = w("tabs.toml", SUITE_OK.replace("expr =", "expr\t=\t").replace("\nbindings", "\n\tbindings"))
    crlf = w("crlf.toml", SUITE_OK.replace("\n", "\r\n"), newline="")
    bom = w("bom.toml", SUITE_OK, encoding="utf-8-sig")
    bom_crlf_tabs = w("all.toml", SUITE_OK.replace("expr =", "expr\t=").replace("\n", "\r\n"), newline="",
                      encoding="utf-8-sig")
    batch = w("batch.toml", SUITE_BATCH)
    X3 = "x=[[1, 2], [3, 4], [5, 6]]"
    two = "a = sin(x) * w; b = sum(x**3); a, b"
    # (label, argv, expected exit code, regex the message must match)
    return [
        ("v wrong shape", ["vjp", "x * 2", "x=[1, 2, 3]", "--v", "[1, 2]"], 2, r"\bv has shape"),
        ("v wrong shape batch", ["vjp", "x * 2", X3, "--batch", "x", "--v", "[1, 2]"], 2, r"\bv has shape.*batch"),
        ("v unknown output", ["vjp", two, X3, "w=[1, 2]", "--v", "c=[1, 2]"], 2, r"--v"),
        ("v missing vector", ["vjp", "x * 2", "x=[1, 2, 3]"], 2, r"--v"),
        ("batch sizes differ", ["eval", "x * y", X3, "y=[[1, 2], [3, 4]]", "--batch", "x", "--batch", "y"], 2, r"batch"),
        ("batch axis out of range", ["eval", "x * 2", X3, "--batch", "x:2"], 2, r"--batch"),
        ("batch axis -3", ["eval", "x * 2", X3, "--batch", "x:-3"], 2, r"--batch"),
        ("batch unknown input", ["eval", "x * 2", X3, "--batch", "z"], 2, r"--batch"),
        ("batch of a scalar", ["eval", "x * 2", "x=3", "--batch", "x"], 2, r"--batch"),
        ("batch axis not int", ["eval", "x * 2", X3, "--batch", "x:one"], 2, r"--batch"),
        ("batch twice", ["eval", "x * 2", X3, "--batch", "x", "--batch", "x:1"], 2, r"--batch"),
        ("batch tangent wrong", ["jvp", "x * 2", X3, "--batch", "x", "--tangent", "x=[1, 2, 3]"], 2, r"tangent for 'x'"),
        ("batch written x=1", ["eval", "x * 2", X3, "--batch", "x=1"], 2, r"--batch x:1"),
        ("derivative --sparse not element-wise", ["derivative", "softmax(x)", "x=[1, 2]", "--order", "3", "--sparse"], 0,
         r"warning \(sparse\)"),
        ("check hand backward", ["check", HAND], 1, r"∂y/∂x\[3\] is the farthest of 2 failing entries"),
        ("v positional two outputs", ["vjp", "sin(x), sum(x)", "x=[1, 2]", "--v", "[1, 1]", "--v", "2"], 2,
         r"--v 'y0=\[1, 1\]' --v y1=2"),
        ("shape batch header", ["shape", "softmax(x)", "x:4x3", "--batch", "x"], 0, r"(?m)shapes are one example's$"),
        ("check batch detached", ["check", "sum(x * x.detach())", "x=[[1, 2]]", "--batch", "x"], 1, r"detached value"),
        ("order 0", ["derivative", "x**3", "x=2", "--order", "0"], 2, r"--order"),
        ("order 50", ["derivative", "x**3", "x=2", "--order", "50"], 2, r"--order"),
        ("order -1", ["derivative", "x**3", "x=2", "--order", "-1"], 2, r"--order"),
        ("order 2.5", ["derivative", "x**3", "x=2", "--order", "2.5"], 2, r"--order"),
        ("derivative two inputs no wrt", ["derivative", "x * y", "x=1", "y=2", "--order", "2"], 2, r"--wrt"),
        ("output index out of range", ["eval", "x[3]", "x=[1, 2, 3]"], 2, r"\^|column"),
        ("output index out of range batch", ["eval", "x[2]", X3, "--batch", "x"], 2, r"\^|column"),
        ("diff order 0", ["diff", "x**3", "--wrt", "x", "--order", "0"], 2, r"--order"),
        ("suite ok", ["run", ok, "--jobs", "1"], 0, r""),
        ("suite typo", ["run", typo, "--jobs", "1"], 2, r"jacobain.*did you mean"),
        ("suite tabs", ["run", tabs, "--jobs", "1"], 0, r""),
        ("suite CRLF", ["run", crlf, "--jobs", "1"], 0, r""),
        ("suite BOM", ["run", bom, "--jobs", "1"], 0, r""),
        ("suite BOM CRLF tabs", ["run", bom_crlf_tabs, "--jobs", "1"], 0, r""),
        ("suite wrong hand gradient", ["run", wrong, "--jobs", "1"], 1, r"jacobian\.x"),
        ("suite batch", ["run", batch, "--jobs", "1"], 0, r""),
        ("check wrong-ish", ["check", "sum(x * x.detach())", "x=[1, 2]"], 1, r"detached"),
        ("out npy", ["eval", "x**2", "x=[1, 2]", "--out", os.path.join(d, "j.npy")], 0, r""),
        ("out npz", ["eval", "x**2", "x=[1, 2]", "--out", os.path.join(d, "j.npz")], 0, r""),
        ("out json", ["eval", "x**2", "x=[1, 2]", "--out", os.path.join(d, "j.json")], 0, r""),
        ("out npy two inputs", ["eval", "x*y", "x=[1, 2]", "y=[3, 4]", "--out", os.path.join(d, "j2.npy")], 2, r"\.npz|--out"),
        ("out npz two outputs", ["eval", two, X3, "w=[1, 2]", "--batch", "x", "--out", os.path.join(d, "j3.npz")], 0, r""),
        ("out txt", ["eval", "x**2", "x=[1, 2]", "--out", os.path.join(d, "j.txt")], 2, r"--out"),
    ]


def probe_mistakes(verbose: bool) -> int:
    flagged = 0
    with tempfile.TemporaryDirectory() as d:
        cases = mistake_cases(d)
        for label, argv, want_code, pattern in cases:
            code, out, err = run(argv)
            text = err.strip() or out.strip()
            flags = []
            if "Traceback" in text:
                flags.append("TRACEBACK")
            if code != want_code:
                flags.append(f"EXIT {code}, expected {want_code}")
            if pattern and not re.search(pattern, text):
                flags.append("NOWHERE")
            flagged += bool(flags)
            first = "\n      ".join(text.splitlines()[:3] if (flags or verbose) else [])
            print(f"{'FLAG' if flags else 'OK  '}  {label} (exit {code}) {' '.join(flags)}" + (f"\n      {first}" if first else ""))
    print(f"\nmistakes: {len(cases)} command lines, {flagged} flagged\n")
    return flagged


def probe_help_and_api(verbose: bool) -> int:
    """Every command's --help: a bracketed text of an option's help that rich read as markup and dropped (the
    help as rendered, 3000 columns wide, against the option's help text); and the API a script imports."""
    import typer.main

    from jacobi_cli.cli.app import app

    found = 0
    os.environ["COLUMNS"] = "3000"
    try:
        for name, sub in typer.main.get_command(app).commands.items():
            flat = " ".join(run([name, "--help"])[1].split())
            for pname, text in [(p.name, getattr(p, "help", None)) for p in sub.params] + [("(doc)", sub.help)]:
                for m in re.finditer(r"(?<!\\)\[[^\]]*\]", text or ""):
                    if m.group(0) not in flat:
                        found += 1
                        print(f"FLAG  jac {name} --help, {pname}: {m.group(0)!r} is not shown (read as markup)")
    finally:
        os.environ["COLUMNS"] = "120"
    import jacobi_cli
    for fn in ("evaluate", "jacobian", "vjp", "jvp", "hessian", "derivative", "diff", "compile", "plan"):
        try:
            getattr(jacobi_cli, fn)
        except AttributeError:
            found += 1
            print(f"FLAG  from jacobi_cli import {fn}: not there (docs/api.md lists it)")
    print(f"\nhelp and API: {found} flagged\n")
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--only", choices=["parity", "sweep", "mistakes", "help"])
    a = p.parse_args()
    os.environ.setdefault("COLUMNS", "120")
    total = 0
    if a.only in (None, "parity"):
        total += probe_parity(a.verbose)
    if a.only in (None, "sweep"):
        total += probe_sweep(a.verbose)
        total += probe_branches(a.verbose)
    if a.only in (None, "mistakes"):
        total += probe_mistakes(a.verbose)
    if a.only in (None, "help"):
        total += probe_help_and_api(a.verbose)
    print(f"summary: {total} finding(s)")


if __name__ == "__main__":
    main()
