"""Answers where the library raises (session 35, h35-raises): texts written for PyTorch, NumPy or JAX that the
library itself refuses (bool arithmetic, dtype mixes, in-place writes into leaves, into saved tensors, into integer
arrays, into JAX's immutable arrays, shape rules, views of non-contiguous tensors, ...), each run by the library
(PyTorch float64 inputs with requires_grad=True and a backward pass per output element; NumPy; JAX x64 with
jax.jacrev) and by jac (value and Jacobian through jacobi_cli.tools.api), classified:

- AGREE: both answer, value and Jacobian the same (a library's integer or bool output: its value, Jacobian zero);
- REFUSED-AS-LIB: both refuse;
- JAC-ANSWERS-WHERE-LIB-RAISES: the library raises, jac answers (a silent answer its user would trust);
- JAC-REFUSES-WHERE-LIB-ANSWERS: a false refusal (some are jac's documented choices: an input written in place);
- WRONG: both answer, differently; CRASH: jac raised something other than its own errors;
- LIBS-DIFFER: a text of bare operators that the three libraries do not read alike (jac's outcome shown).

    PYTHONPATH=. /work/venv/bin/python benchmarks/raises35_probe.py [-v] [-k SUBSTRING]

Prints one line per text not AGREE / REFUSED-AS-LIB (all with -v), then the counts. Run by hand (~1 minute).
"""
from __future__ import annotations

import argparse
import ast
import collections
import sys
import warnings

import numpy as np

INPUTS = {"x": [0.5, -1.5, 2.0], "y": [1.0, 2.0, -0.5], "p": [0.5, 1.5, 2.0],
          "A": [[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0], [2.0, -0.5, 1.0]], "s": 1.5}


def cases() -> list:
    """(library, text): library "torch", "numpy", "jax", or "any" (bare operators, run by all three)."""
    out = []
    masks = ["(x > 0)", "(x < 0)", "(y >= 1)"]
    # bool arithmetic, bare operators
    for m1 in masks:
        for m2 in masks:
            for op in ["-", "+", "*", "/", "**", "//", "%"]:
                out.append(("any", f"({m1} {op} {m2}) * x"))
    for m in masks:
        for t in ["-{m} * x", "({m} - 1) * x", "(1 - {m}) * x", "{m} - x", "x - {m}", "({m} ** 2) * x",
                  "(2 ** {m}) * x", "({m} / 2) * x", "({m} - True) * x", "(True - {m}) * x", "abs({m}) * x",
                  "(~{m}) * x", "(+{m}) * x"]:
            out.append(("any", t.format(m=m)))
    # bool arithmetic in a text that names one library (its operators read as that library's)
    for m1 in masks:
        for m2 in masks[:2]:
            for t in ["torch.sin(x) * ({a} - 1)", "{a} - torch.sin(x)", "torch.sin(x) - {a}", "-{a} * torch.sin(x)",
                      "(+{a}) * torch.sin(x)", "({a} ** {b}) * torch.sin(x)", "({a} // {b}) * torch.sin(x)",
                      "({a} % {b}) * torch.sin(x)", "({a} / {b}) * torch.sin(x)", "({a} ** 2) * torch.sin(x)",
                      "({a} + {b}) * torch.sin(x)", "({a} * {b}) * torch.sin(x)", "({a} ^ {b}) * torch.sin(x)",
                      "y2 = torch.sin(x); y2 -= {a}; y2"]:
                out.append(("torch", t.format(a=m1, b=m2)))
            for t in ["np.sin(x) * ({a} - 1)", "{a} - np.sin(x)", "(+{a}) * np.sin(x)", "({a} ** {b}) * np.sin(x)",
                      "-{a} * np.sin(x)", "({a} - {b}) * np.sin(x)"]:
                out.append(("numpy", t.format(a=m1, b=m2)))
    # bool arithmetic, spelled
    for m1, m2 in [("(x > 0)", "(x < 0)"), ("(y > 0)", "(x > 1)")]:
        out += [("torch", f"torch.sub({m1}, {m2}) * x"), ("torch", f"torch.neg({m1}) * x"),
                ("torch", f"torch.subtract({m1}, {m2}) * x"), ("torch", f"torch.pow({m1}, {m2}) * x"),
                ("torch", f"torch.true_divide({m1}, {m2}) * x"), ("torch", f"torch.negative({m1}) * x"),
                ("torch", f"torch.rsub({m1}, {m2}) * x"), ("torch", f"{m1}.sub({m2}) * x"),
                ("torch", f"{m1}.neg() * x"), ("torch", f"torch.sign(x) * torch.sub({m1}, {m2})"),
                ("numpy", f"np.subtract({m1}, {m2}) * x"), ("numpy", f"np.negative({m1}) * x"),
                ("numpy", f"np.power({m1}, {m2}) * x"), ("numpy", f"np.true_divide({m1}, {m2}) * x"),
                ("numpy", f"np.sign(x) * np.subtract({m1}, {m2})"),
                ("jax", f"jnp.subtract({m1}, {m2}) * x"), ("jax", f"jnp.negative({m1}) * x"),
                ("jax", f"jnp.power({m1}, {m2}) * x"), ("jax", f"jnp.sum(({m1} - {m2}) * x)")]
    # PyTorch dtype mixes in products
    for t in ["torch.dot(x, x.long())", "torch.dot(x.long(), x)", "torch.dot(x, x.float())", "torch.dot(x.float(), x)",
              "torch.dot(x, x.int())", "torch.mm(A, A.long())", "torch.mm(A.float(), A)", "torch.matmul(A, x.long())",
              "torch.mv(A, x.float())", "torch.mv(A.long(), x)", "A @ x.long()", "x.long() @ A",
              "torch.where(x > 0, x, x.long())", "torch.where(x > 0, x, x.float())", "torch.where(x > 0, x, 0)",
              "torch.where(x > 0, x.float(), x)", "torch.outer(x, x.long())", "torch.inner(x, x.long())",
              "torch.vdot(x, x.long())", "torch.addmm(A, A, A.long())", "x * x.long()", "x.float() * x",
              "torch.tensordot(x, x.long(), 1)", "torch.einsum('i,i->', x, x.long())", "torch.kron(x, x.long())",
              "F.linear(x, A.long())", "torch.cat([x, x.long()])", "torch.stack([x, x.float()])",
              "torch.dot(x, x.double())", "torch.mm(A, A.double())", "torch.matmul(x.float(), A.float()).double()"]:
        out.append(("torch", t))
    # in-place results whose dtype does not fit
    for conv in [".long()", ".int()", " > 0"]:
        for op in ["add_(0.5)", "mul_(1.5)", "div_(2)", "sub_(0.5)", "add_(x)", "mul_(x)", "add_(1)", "mul_(2)",
                   "clamp_(0.5, 1.5)", "pow_(2)", "neg_()", "abs_()", "floor_()", "fill_(0.5)", "zero_()"]:
            out.append(("torch", f"y = (x{conv}); y.{op}; y * x"))
        for aug in ["+= 0.5", "*= 1.5", "/= 2", "//= 2", "+= 1", "-= 1", "*= 2", "**= 2", "+= x"]:
            out.append(("torch", f"y = (x{conv}); y {aug}; y * torch.sin(x)"))
    for conv in [".astype(int)", ".astype(np.int64)", ".astype(np.int32)", " > 0"]:
        for aug in ["+= 0.5", "*= 1.5", "/= 2", "//= 2", "+= 1", "-= 1", "*= 2", "**= 2", "+= x", "|= (x < 1)"]:
            out.append(("numpy", f"y = (x{conv}); y {aug}; y * np.sin(x)"))
    # in-place on a leaf that requires grad, on a view of one
    for t in ["x.add_(1); x.sum()", "x += 1; torch.sum(x)", "x[0] = 1.0; torch.sum(x)", "x.mul_(2); torch.sin(x)",
              "x.zero_(); torch.sin(x)", "v = x[0:2]; v.add_(1); v.sum()", "v = x.view(3); v.mul_(2); torch.sin(v)",
              "v = x.reshape(3); v += 1; torch.sin(v)", "x.clamp_(0, 1); torch.sin(x)", "x.detach().add_(1); torch.sin(x)",
              "y = x.clone(); y.add_(1); y.sum()", "y = x * 1; y[0] = 0.0; y.sum()", "y = x.detach(); y.add_(1); x * 2",
              "v = A[0]; v.mul_(2); torch.sin(A)", "A.t().add_(1); torch.sin(A)", "A[:, 0] = 0.0; torch.sin(A)"]:
        out.append(("torch", t))
    for t in ["x += 1; np.sin(x)", "x[0] = 1.0; np.sin(x)", "y = x.copy(); y[0] = 0.0; np.sin(y)",
              "y = x * 2; y += 1; np.sin(y)"]:
        out.append(("numpy", t))
    # JAX arrays are immutable; x += 1 rebinds
    for t in ["x[0] = 1.0; jnp.sin(x)", "y = jnp.exp(x); y[0] = 0.0; y", "y = jnp.exp(x); y += 1; y",
              "y = jnp.exp(x); y[1:] *= 2; y", "y = jnp.zeros(3); y[0] = x[0]; y", "y = jnp.array(x); y[0] = 1.0; y",
              "y = jnp.exp(x); y = y.at[0].set(0.0); y", "x += 1; jnp.sin(x)", "y = jnp.sin(x); y *= 2; y",
              "A[0, 0] = 1.0; jnp.sum(A)", "y = jnp.exp(x); y[y > 2] = 0.0; y", "y = jnp.sin(A); y[:, 0] = 0.0; y"]:
        out.append(("jax", t))
    # PyTorch: a tensor autograd saved, changed in place before backward
    unary = ["exp", "tanh", "sigmoid", "sqrt", "relu", "sin", "cos", "log", "abs", "square", "reciprocal", "rsqrt",
             "expm1", "log1p", "atan", "sinh", "cosh", "tan", "erf", "neg", "exp2", "sign", "asinh", "log2"]
    for f in unary:
        out += [("torch", f"h = torch.{f}(p); h.add_(1); h.sum()"),
                ("torch", f"h = p.clone(); g = torch.{f}(h); h.add_(1); g.sum()"),
                ("torch", f"h = torch.{f}(p); g = h * 2; h.mul_(3); g.sum()"),
                ("torch", f"h = torch.{f}(p); g = h.sum(); h.add_(1); g"),
                ("torch", f"h = torch.{f}(p); h.add_(1); p.sum()"),
                ("torch", f"h = torch.{f}(p); h += 1; h.sum()"),
                ("torch", f"h = p.{f}(); h[0] = 0.0; h.sum()"),
                ("torch", f"h = p * 1; h.{f}_(); h.sum()"),
                ("torch", f"h = p * 1; h.{f}_(); h.add_(1); h.sum()")]
    for g in ["h * y", "h * 2", "y * h", "h / y", "y / h", "h / 2", "2 / h", "h + y", "h - y", "h ** 2", "2 ** h",
              "h ** y", "h @ A", "A @ h", "torch.dot(h, y)", "h.sum()", "h.mean()", "h.prod()", "h.max()", "h.norm()",
              "h[0]", "torch.softmax(h, 0)", "torch.cumsum(h, 0)", "h.abs()", "F.relu(h)", "torch.clamp(h, 0, 1)",
              "torch.maximum(h, y)", "torch.where(h > 0, h, y)", "torch.exp(h)", "h.exp()", "torch.outer(h, y)",
              "h * h", "h.pow(2)", "torch.atan2(h, y)", "F.softplus(h)", "torch.logsumexp(h, 0)", "h.var()",
              "torch.sort(h).values", "torch.cumprod(h, 0)", "F.gelu(h)", "torch.tanh(h) * h"]:
        out.append(("torch", f"h = p.clone(); g = {g}; h.add_(1); g.sum()"))
        out.append(("torch", f"h = torch.exp(p); g = {g}; h.add_(1); g.sum()"))
    for t in ["h = p.clone(); c = torch.ones(3); g = h * c; c.add_(1); g.sum()",
              "h = p.clone(); c = torch.ones(3); g = c * 2; c.add_(1); g.sum() + h.sum()",
              "h = p.clone(); g = h * y; y2 = y.clone(); y2.add_(1); g.sum()",
              "h = torch.exp(p); h = h + 1; h.sum()", "h = torch.exp(p); h2 = h.clone(); h2.add_(1); h.sum()",
              "h = torch.exp(p); g = h.detach(); g.add_(1); h.sum()",
              "h = torch.exp(p); s = h.sum(); h.add_(1); s + h.sum()",
              "h = torch.exp(p); g = h.sum(); h.add_(1); g.detach() + p.sum()"]:
        out.append(("torch", t))
    # shape rules, conversions, views
    for t in ["torch.dot(A, A)", "torch.dot(x, y[:2])", "A @ y[:2]", "torch.mv(A, y[:2])", "torch.mm(x, A)",
              "y2 = x * 1; y2 += A; y2", "torch.cat([x.sum(), x.sum()])", "torch.stack([x.sum(), x.sum()])",
              "torch.cat([x, A])", "torch.tensor([[1.0, 2.0], [3.0]]) * x.sum()", "torch.ones(3)[3] * x",
              "x[5]", "x.sum().item() * x", "x.item() * x", "len(x.sum()) * x", "float(x) * x",
              "float(x.sum()) * x", "A.T.view(-1)", "A.T.reshape(-1)", "A.t().view(9)", "A[:, 0].view(-1)",
              "A[:, :2].view(-1)", "A.T.contiguous().view(-1)", "A.view(-1)", "A.permute(1, 0).view(9)",
              "x.expand(2, 3).view(-1)", "x.expand(2, 3).reshape(-1)", "A.T.view(3, 3)", "A[::2].view(-1)",
              "A.mT.view(-1)", "A.transpose(0, 1).view(-1)", "x[::2].view(-1)", "A.unsqueeze(0).view(-1)",
              "(x.long() // 0) * x", "(x.long() % 0) * x", "torch.div(x.long(), 0, rounding_mode='floor') * x",
              "((x > 5).long() // (x > 5).long()) * x", "torch.remainder(x.long(), 0) * x",
              "torch.fmod(x.long(), 0) * x", "(x.long() / 0) * x", "(x // 0) * x", "int(x.sum()) * x",
              "int(x) * x", "x.sum().tolist() * x", "bool(x) * x", "bool(x.sum()) * x", "x.numpy()",
              "x.detach().numpy() * 2", "torch.tensor(x) * 2", "torch.zeros(2)[-3] * x"]:
        out.append(("torch", t))
    for t in ["np.dot(A, y[:2])", "np.matmul(x, A[:2])", "y2 = x * 1; y2 += A; y2", "np.concatenate([x.sum(), x.sum()])",
              "np.stack([x.sum(), x.sum()])", "np.concatenate([x, A])", "np.array([[1.0, 2.0], [3.0]]) * x.sum()",
              "np.ones(3)[3] * x", "x[5]", "x.sum().item() * x", "x.item() * x", "len(x.sum()) * x", "float(x) * x",
              "float(x.sum()) * x", "np.dot(x, y[:2])", "np.inner(A, y[:2])", "np.outer(x, A)",
              "(x.astype(int) // 0) * x", "(x.astype(int) % 0) * x", "int(x) * x"]:
        out.append(("numpy", t))
    for t in ["jnp.dot(A, y[:2])", "jnp.concatenate([jnp.sum(x), jnp.sum(x)])", "len(jnp.sum(x)) * x",
              "float(jnp.sum(x)) * x", "jnp.sum(x).item() * x", "jnp.array([[1.0, 2.0], [3.0]]) * jnp.sum(x)",
              "jnp.ones(3)[3] * x", "x[5] * jnp.ones(1)", "jnp.matmul(x, A[:2])", "(x.astype(int) // 0) * x",
              "int(jnp.sum(x)) * x", "jnp.stack([jnp.sum(x), jnp.sum(x)])", "y2 = x * 1; y2 += A; jnp.sum(y2)"]:
        out.append(("jax", t))
    return out


def names_in(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def split(text: str):
    tree = ast.parse(text)
    return (compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec"),
            compile(ast.Expression(tree.body[-1].value), "<text>", "eval"))


def first_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"[:160]


def run_torch(text: str):
    import torch
    import torch.nn.functional as F
    body, last = split(text)
    names = names_in(text)
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names}
    scope = {"torch": torch, "F": F, **leaves}
    exec(body, scope)  # noqa: S102
    y = eval(last, scope)  # noqa: S307
    if not isinstance(y, torch.Tensor):
        y = torch.tensor(y)
    value = y.detach().numpy().astype(float)
    jac = {}
    for k in names:
        jac[k] = np.zeros(tuple(y.shape) + tuple(leaves[k].shape))
    if y.requires_grad and y.dtype.is_floating_point:
        flat = y.reshape(-1)
        for i in range(flat.numel()):
            grads = torch.autograd.grad(flat[i], [leaves[k] for k in names], retain_graph=True, allow_unused=True)
            for k, g in zip(names, grads):
                if g is not None:
                    jac[k].reshape(flat.numel(), -1)[i] = g.reshape(-1).numpy()
    return value, jac


def run_numpy(text: str):
    body, last = split(text)
    names = names_in(text)
    scope = {"np": np, **{k: np.array(INPUTS[k], dtype=np.float64) for k in names}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(body, scope)  # noqa: S102
        y = eval(last, scope)  # noqa: S307
    return np.asarray(y).astype(float), None


def run_jax(text: str):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    body, last = split(text)
    names = names_in(text)

    def f(*args):
        scope = {"jnp": jnp, "jax": jax, **dict(zip(names, args))}
        exec(body, scope)  # noqa: S102
        return eval(last, scope)  # noqa: S307
    args = [jnp.asarray(INPUTS[k], dtype=jnp.float64) for k in names]
    y = jnp.asarray(f(*args))
    value = np.asarray(y).astype(float)
    jac = {k: np.zeros(tuple(y.shape) + tuple(np.shape(INPUTS[k]))) for k in names}
    if jnp.issubdtype(y.dtype, jnp.floating) and names:
        found = jax.jacrev(f, argnums=tuple(range(len(names))))(*args)
        jac = {k: np.asarray(j) for k, j in zip(names, found)}
    return value, jac


RUNNERS = {"torch": run_torch, "numpy": run_numpy, "jax": run_jax}


def library(lib: str, text: str):
    """("ok", value, jacobian) or ("raises", message)."""
    try:
        value, jac = RUNNERS[lib](text)
        return ("ok", value, jac)
    except Exception as e:  # noqa: BLE001 - the library's own refusal, whatever its class
        return ("raises", first_line(e))


def jac_run(text: str):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    bindings = {k: np.array(INPUTS[k], dtype=np.float64) for k in names_in(text)}
    try:
        value = np.asarray(api.evaluate(text, bindings), dtype=float)
        jac = api.jacobian(text, bindings) if bindings else {}
        return ("ok", value, {k: np.asarray(v, dtype=float) for k, v in jac.items()})
    except JacError as e:
        return ("raises", first_line(e))
    except Exception as e:  # noqa: BLE001
        return ("crash", first_line(e))


def same(a, b, jacobian: bool = False) -> bool:
    """``jacobian``: ``b`` (jac's) may hold 0 where ``a`` (the library's backward over the output's basis) holds a
    NaN that the one-hot cotangent met (0 * inf): jac's structural zeros (planner.structural_zeros)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if jacobian and a.shape == b.shape:
        a = np.where(np.isnan(a) & (b == 0), 0.0, a)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


def agree(lib_result, ours) -> bool:
    _, value, jac = lib_result
    _, our_value, our_jac = ours
    if not same(value, our_value):
        return False
    if jac is None or our_jac is None:
        return True
    return all(k in our_jac and same(jac[k], our_jac[k], jacobian=True) for k in jac)


def classify(lib: str, text: str) -> tuple:
    ours = jac_run(text)
    if ours[0] == "crash":
        return "CRASH", ours[1], ""
    libs = ["torch", "numpy", "jax"] if lib == "any" else [lib]
    found = {name: library(name, text) for name in libs}
    kinds = {r[0] for r in found.values()}
    results = list(found.values())
    if len(kinds) > 1 or (kinds == {"ok"} and not all(agree(results[0], r) for r in results[1:])):
        said = "; ".join(f"{n}: {r[1] if r[0] == 'raises' else 'answers'}" for n, r in found.items())
        return "LIBS-DIFFER", ours[1] if ours[0] == "raises" else "jac answers", said
    theirs = next(iter(found.values()))
    said = theirs[1] if theirs[0] == "raises" else ""
    if theirs[0] == "raises":
        return ("REFUSED-AS-LIB" if ours[0] == "raises" else "JAC-ANSWERS-WHERE-LIB-RAISES"), \
            ours[1] if ours[0] == "raises" else "", said
    if ours[0] == "raises":
        return "JAC-REFUSES-WHERE-LIB-ANSWERS", ours[1], ""
    if all(agree(r, ours) for r in found.values()):
        return "AGREE", "", ""
    return "WRONG", f"jac value {np.round(ours[1], 6).tolist()}", f"lib value {np.round(theirs[1], 6).tolist()}"


STATUSES = ("AGREE", "REFUSED-AS-LIB", "JAC-ANSWERS-WHERE-LIB-RAISES", "JAC-REFUSES-WHERE-LIB-ANSWERS", "WRONG",
            "CRASH", "LIBS-DIFFER")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts = collections.Counter()
    for lib, text in cases():
        if options.k not in text:
            continue
        status, ours, theirs = classify(lib, text)
        counts[status] += 1
        if options.v or status not in ("AGREE", "REFUSED-AS-LIB"):
            print(f"{status:30s} [{lib}] {text}\n{'':32s}jac: {ours}\n{'':32s}lib: {theirs}")
    print(f"\nraises35 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
