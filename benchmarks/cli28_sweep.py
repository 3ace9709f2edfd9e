"""The command line's paths against PyTorch (session 28): every case run through jac's typer app with --json (each
object validated against its command's schema, cli/schemas), and compared with PyTorch 2.x in float64.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/cli28_sweep.py [-k SUBSTRING] [-v]

- outputs: several outputs (tuples, a list, a named tuple of the library last: qr, slogdet, max, sort, ...; an
  output that is an input, one that reads no input, an integer one) under jac eval, vjp (--v OUT=VALUE for every
  output but the first, which counts as zero), jvp, hessian, derivative --order 3 and check, each output's answer
  against torch.autograd.functional.jacobian / torch.autograd.grad / torch.func.jvp / jacrev∘jacrev;
- batches: --batch (axis 0 and 1), every command, each row of the batched answer against the unbatched call's,
  bit for bit (NaN, inf, -0.0, ties and singular matrices among the rows: the kernels run from the second row);
- orders: jac hessian on 60 texts (element-wise, reductions, linalg, indexing, where / max away from ties) against
  torch.func.jacfwd(jacrev) or jacrev(jacrev) (PyTorch's forward-over-forward third derivatives of solve, det and
  slogdet are wrong: jac's agree with central differences of the Hessian and with jacrev³), the blocks' symmetry,
  and jac derivative --order 2's block against jac hessian's, bit for bit;
- modes: jac eval --mode forward / reverse, --layout numerator (the contract's permutation of the array layout)
  and --dtype float32 against PyTorch's float32;
- found: what this session fixed, each checked as it is now (FIXED counts them; on ce9f75f each was WRONG).

Counts as the other sweeps' (fuzzkit.summary): WRONG and CRASH must be none; REFUSED where jac refuses what the
library computes (each with its one-line message among the top refusals)."""
from __future__ import annotations

import ast
import json
import sys
import time
import warnings
from collections import Counter

import numpy as np
import torch
from typer.testing import CliRunner

from fuzzkit import summary
from jacobi_cli.cli import schema
from jacobi_cli.cli.app import app

torch.set_default_dtype(torch.float64)
RUNNER = CliRunner()
rng = np.random.default_rng(28)
x3, w2, x4 = rng.standard_normal(3), rng.standard_normal(2), rng.uniform(0.2, 1.5, 4) * np.array([1, -1, 1, -1])
p4, y4 = rng.uniform(0.2, 1.5, 4), rng.standard_normal(4)
A3, B32 = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 2))
S3, B34 = A3 @ A3.T + np.eye(3), rng.standard_normal((3, 4))

OUTPUTS = [
    ("a = torch.sin(x)\nb = (x ** 2).sum()\na, b", dict(x=x3)), ("torch.outer(x, w), x.sum() * w", dict(x=x3, w=w2)),
    ("y = x * 2\nx, y", dict(x=x3)), ("x, w", dict(x=x3, w=w2)), ("torch.sin(x), torch.cos(w)", dict(x=x3, w=w2)),
    ("q, r = torch.linalg.qr(B)\nq, r", dict(B=B32)), ("x.sin(), x.sin().sum()", dict(x=x3)),
    ("A @ B, (A @ B).T, B.sum(0)", dict(A=A3, B=B32)), ("x[0], x[1:], x[[2, 0]]", dict(x=x3)),
    ("torch.exp(x).reshape(3, 1), torch.linalg.det(A)", dict(x=x3, A=A3)),
    ("u = x * w[0]\nv = u.sum()\nv, u", dict(x=x3, w=w2)),
    ("torch.linalg.inv(A), torch.linalg.solve(A, x)", dict(A=A3, x=x3)),
    ("torch.where(x > 0, x, x ** 2), torch.clamp(x, -0.5, 0.5)", dict(x=x3)),
    ("torch.softmax(x, 0), torch.logsumexp(x, 0)", dict(x=x3)), ("x.cumsum(0), x.cumprod(0)", dict(x=x3)),
    ("torch.sort(x).values, x.max()", dict(x=x3)), ("x.argmax(), (x ** 2).sum()", dict(x=x3)),
    ("x.sum(), torch.ones(2)", dict(x=x3)), ("[x.sin(), w.cos()]", dict(x=x3, w=w2)),
    ("torch.linalg.qr(A)", dict(A=A3)), ("torch.linalg.qr(B)", dict(B=B32)), ("torch.linalg.slogdet(A)", dict(A=A3)),
    ("torch.max(A, 1)", dict(A=A3)), ("torch.sort(x, descending=True)", dict(x=x3)), ("torch.topk(x, 2)", dict(x=x3)),
    ("x.aminmax()", dict(x=x3)), ("torch.cummax(x, 0)", dict(x=x3)), ("torch.median(A, 1)", dict(A=A3)),
    ("torch.linalg.lu_factor(A)", dict(A=A3)), ("torch.linalg.inv_ex(A)", dict(A=A3)), ("torch.frexp(x)", dict(x=x3)),
    ("torch.linalg.cholesky_ex(S)", dict(S=S3)), ("torch.linalg.lu(A)", dict(A=A3)),
    ("torch.linalg.solve_ex(A, B)", dict(A=A3, B=B32)), ("torch.linalg.eigh(S)", dict(S=S3)),
    ("torch.var_mean(x)", dict(x=x3)),
]
HESSIANS = [
    ("torch.sin(x).sum()", dict(x=x4)), ("(x ** 3).sum()", dict(x=x4)), ("torch.exp(x) * y", dict(x=x4, y=y4)),
    ("torch.log(p).sum()", dict(p=p4)), ("torch.sqrt(p) * torch.tanh(y)", dict(p=p4, y=y4)),
    ("(x * y).sum() ** 2", dict(x=x4, y=y4)), ("torch.sigmoid(x) @ y", dict(x=x4, y=y4)),
    ("torch.softmax(x, 0)", dict(x=x4)), ("torch.logsumexp(x, 0)", dict(x=x4)),
    ("torch.log_softmax(x, 0) @ y", dict(x=x4, y=y4)), ("torch.linalg.norm(x)", dict(x=x4)), ("x.prod()", dict(x=x4)),
    ("torch.var(x) * x.mean()", dict(x=x4)), ("torch.std(x)", dict(x=x4)),
    ("torch.cumsum(x, 0) * torch.cumprod(p, 0)", dict(x=x4, p=p4)), ("torch.outer(x, y)", dict(x=x4, y=y4)),
    ("B @ x", dict(B=B34, x=x4)), ("(B @ x) ** 2", dict(B=B34, x=x4)), ("torch.linalg.det(A)", dict(A=A3)),
    ("torch.linalg.inv(A)", dict(A=A3)), ("torch.linalg.slogdet(A).logabsdet", dict(A=A3)),
    ("torch.trace(A @ A)", dict(A=A3)), ("torch.linalg.solve(A, B)", dict(A=A3, B=B34)),
    ("torch.linalg.cholesky(A @ A.T)", dict(A=A3)), ("torch.linalg.eigvalsh(A + A.T)", dict(A=A3)),
    ("torch.linalg.matrix_exp(A / 3)", dict(A=A3)), ("torch.linalg.svdvals(B)", dict(B=B34)),
    ("torch.linalg.qr(A).R", dict(A=A3)), ("torch.linalg.pinv(B)", dict(B=B34)), ("x[1] * x[2] ** 2", dict(x=x4)),
    ("x[[0, 0, 3]] ** 2", dict(x=x4)), ("A[:, 1] @ A[1, :]", dict(A=A3)), ("x[x > 0] ** 3", dict(x=x4)),
    ("torch.where(x > 0, x ** 3, torch.sin(x))", dict(x=x4)), ("torch.maximum(x, y) ** 2", dict(x=x4, y=y4)),
    ("torch.minimum(x ** 2, y)", dict(x=x4, y=y4)), ("torch.clamp(x, -0.5, 0.5) * x", dict(x=x4)),
    ("x.max() * x.min()", dict(x=x4)), ("torch.relu(x) ** 2", dict(x=x4)), ("torch.abs(x) ** 3", dict(x=x4)),
    ("F.softplus(x) * y", dict(x=x4, y=y4)), ("F.gelu(x)", dict(x=x4)), ("F.elu(x)", dict(x=x4)),
    ("torch.sort(x * y).values", dict(x=x4, y=y4)), ("torch.topk(x, 2).values ** 2", dict(x=x4)),
    ("s ** x", dict(s=0.7, x=x4)), ("p ** s", dict(p=p4, s=0.7)), ("torch.atan2(x, y)", dict(x=x4, y=y4)),
    ("torch.hypot(x, y)", dict(x=x4, y=y4)), ("x / (1 + x ** 2)", dict(x=x4)), ("F.normalize(x, dim=0)", dict(x=x4)),
    ("F.mse_loss(x, y)", dict(x=x4, y=y4)), ("F.cross_entropy(B, torch.tensor([0, 2, 1]))", dict(B=B34)),
    ("F.binary_cross_entropy(torch.sigmoid(x), torch.sigmoid(y))", dict(x=x4, y=y4)),
    ("torch.kron(A, A[:2, :2])", dict(A=A3)), ("torch.einsum('ij,jk->ik', A, B).sum(1)", dict(A=A3, B=B34)),
    ("torch.diff(x ** 3)", dict(x=x4)), ("torch.erf(x) * torch.lgamma(p)", dict(x=x4, p=p4)),
    ("torch.special.xlogy(p, p)", dict(p=p4)), ("torch.linalg.solve(A, x[:3]).sum()", dict(A=A3, x=x4)),
]
NASTY = np.array([[1.0, -2.0, 0.5], [0.0, -0.0, 3.0], [np.inf, 1.0, 2.0], [np.nan, 1.0, -1.0],
                  [1e-310, -1e308, 1e308], [2.0, 2.0, 2.0], [-1.0, 0.5, 0.25]])
M7 = rng.standard_normal((7, 3, 3)) + 3 * np.eye(3)
BATCHES = [  # (text, inputs, --batch specs): NASTY's rows hold NaN, inf, -0.0, subnormals and ties
    ("torch.sin(x) * x", dict(x=NASTY), ["x"]), ("x / x.sum()", dict(x=NASTY), ["x"]),
    ("torch.sqrt(torch.abs(x))", dict(x=NASTY), ["x"]), ("x.max()", dict(x=NASTY), ["x"]),
    ("torch.maximum(x, x.flip(0))", dict(x=NASTY), ["x"]), ("torch.sort(x).values", dict(x=NASTY), ["x"]),
    ("torch.softmax(x, 0)", dict(x=NASTY), ["x"]), ("torch.log(x)", dict(x=NASTY), ["x"]),
    ("x ** 0.5", dict(x=NASTY), ["x"]),
    ("x ** 2 @ W", dict(x=NASTY, W=B32), ["x"]), ("torch.tanh(x @ W).sum()", dict(x=NASTY, W=B32), ["x"]),
    ("torch.linalg.det(M)", dict(M=M7), ["M"]), ("torch.linalg.inv(M) @ x", dict(M=M7, x=NASTY[0]), ["M"]),
    ("torch.linalg.inv(M) @ x", dict(M=M7, x=rng.standard_normal((7, 3))), ["M", "x"]),
    ("torch.relu(x).prod()", dict(x=NASTY), ["x"]), ("torch.where(x > 0, x, 0.0 * x)", dict(x=NASTY), ["x"]),
    ("torch.clamp(x, -1, 1)", dict(x=NASTY), ["x"]), ("torch.linalg.norm(x)", dict(x=NASTY), ["x"]),
    ("torch.cumprod(x, 0)", dict(x=NASTY), ["x"]), ("x.T", dict(x=NASTY.T.copy()), ["x:1"]),
    ("x * w", dict(x=NASTY.T.copy(), w=NASTY[0]), ["x:1"]), ("s * x", dict(s=NASTY[:, 0].copy(), x=NASTY), ["s", "x"]),
    ("a = torch.sin(x)\nb = (x ** 2).sum()\na, b", dict(x=NASTY), ["x"]), ("x[1:] - x[:-1]", dict(x=NASTY), ["x"]),
    ("torch.linalg.qr(M)", dict(M=M7), ["M"]), ("torch.max(M, 1)", dict(M=M7), ["M"]),
    ("torch.linalg.slogdet(M)", dict(M=M7), ["M"]), ("x.aminmax()", dict(x=M7[:, 0]), ["x"]),
]
COMMANDS = ("eval", "vjp", "jvp", "hessian", "derivative")


def jac(*args) -> tuple:
    """(exit code, the --json object or None, stderr); the object validated against its command's schema."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning NumPy would print is a finding too
        result = RUNNER.invoke(app, [str(a) for a in args])
    out = json.loads(result.stdout) if "--json" in args and result.stdout.strip() else None
    if out is not None and result.exit_code in (0, 1, 2):
        schema_of = "error" if "error" in out else args[0]
        import jsonschema

        jsonschema.validate(out, schema.load(schema_of))
    if "Traceback" in result.stderr or result.exit_code not in (0, 1, 2):
        return "crash", out, result.stderr or repr(result.exception)
    return result.exit_code, out, result.stderr


def binding(name: str, value, folder: str) -> str:
    """NAME=@file.npy: the exact bits (NaN's, -0.0's) reach jac."""
    path = f"{folder}/{name}-{abs(hash(np.asarray(value).tobytes()))}.npy"
    np.save(path, np.asarray(value, dtype=float))
    return f"{name}=@{path}"


def torch_function(code: str, names: list):
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(*xs):
        env = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, **dict(zip(names, xs))}
        exec(compile(body, "<text>", "exec"), env)  # noqa: S102 - the sweep's own text, under PyTorch
        return eval(compile(last, "<text>", "eval"), env)  # noqa: S307
    return f


def decoded(value) -> np.ndarray:
    """A --json value as an array: the contract's "NaN", "Infinity" and "-Infinity" strings read back."""
    words = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}

    def walk(v):
        return [walk(i) for i in v] if isinstance(v, list) else words.get(v, v)
    return np.asarray(walk(value), dtype=float)


def close(ours, theirs, rtol=1e-8, atol=1e-10) -> bool:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)


def parts(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def outputs_case(code: str, inputs: dict, folder: str) -> tuple:
    """(status, note) of one text of OUTPUTS under every command."""
    names = list(inputs)
    f = torch_function(code, names)
    args = tuple(torch.tensor(inputs[k]) for k in names)
    outs = parts(f(*args))
    bound = [binding(k, v, folder) for k, v in inputs.items()]
    code_, o, err = jac("eval", code, *bound, "--json")
    if code_ != 0:
        return ("CRASH" if code_ == "crash" else "REFUSED"), err.strip().splitlines()[0]
    listed = o.get("outputs") or [o["output"]]
    keys = [out["name"] for out in listed] if "outputs" in o else [None]
    floats = [t.dtype.is_floating_point for t in outs]
    if len(listed) != len(outs):
        return "WRONG", f"{len(listed)} outputs, PyTorch's {len(outs)}"
    wrong = []
    block = (lambda o, many, one, k: o[many][k] if many in o else o[one])
    for i, (out, t) in enumerate(zip(listed, outs)):
        if not close(decoded(out["value"]), t.detach().numpy()):
            wrong.append(f"value of {keys[i]}")
        if floats[i]:
            theirs = torch.autograd.functional.jacobian(lambda *a, i=i: parts(f(*a))[i], args)
            wrong += [f"eval {keys[i]},{n}" for n, j in zip(names, theirs)
                      if not close(decoded(block(o, "jacobians", "jacobian", keys[i])[n]["value"]), j.numpy())]
    skip = 0 if sum(floats[1:]) else None  # the first output's --v left out (zero), unless it is the only float one
    vs = [torch.tensor(rng.standard_normal(tuple(t.shape))) if floats[i] and i != skip else None
          for i, t in enumerate(outs)]
    given = [a for k, v in zip(keys, vs) if v is not None
             for a in ("--v", json.dumps(v.tolist()) if k is None else f"{k}={json.dumps(v.tolist())}")]
    leaves = tuple(a.clone().requires_grad_() for a in args)
    ys = parts(f(*leaves))
    used = [i for i, v in enumerate(vs) if v is not None and ys[i].requires_grad]
    code_, o, err = jac("vjp", code, *bound, *given, "--json")
    if code_ != 0:
        wrong.append(f"vjp exit {code_}: {err.strip()[:100]}")
    elif used:
        grads = torch.autograd.grad([ys[i] for i in used], leaves, [vs[i] for i in used], allow_unused=True)
        grads = [torch.zeros_like(a) if g is None else g for g, a in zip(grads, leaves)]
        wrong += [f"vjp {n}" for n, g in zip(names, grads) if not close(decoded(o["vjp"][n]["value"]), g.numpy())]
    tangents = tuple(torch.tensor(rng.standard_normal(a.shape)) for a in args)
    along = [a for n, t in zip(names, tangents) for a in ("--tangent", f"{n}={json.dumps(t.tolist())}")]
    code_, o, err = jac("jvp", code, *bound, *along, "--json")
    if code_ != 0:
        wrong.append(f"jvp exit {code_}: {err.strip()[:100]}")
    for i in range(len(outs) if code_ == 0 else 0):
        if floats[i]:  # J·t with PyTorch's reverse-mode J: torch.func.jvp of cholesky reads a tangent's upper triangle
            J = torch.autograd.functional.jacobian(lambda *a, i=i: parts(f(*a))[i], args)  # differently from its J
            theirs = sum(np.tensordot(j.numpy(), t.numpy(), t.ndim) for j, t in zip(J, tangents))
            if not close(decoded(block(o, "jvps", "jvp", keys[i])["value"]), theirs):
                wrong.append(f"jvp {keys[i]}")
    every = tuple(range(len(names)))
    code_, o, err = jac("hessian", code, *bound, "--json")
    for i in range(len(outs) if code_ == 0 else 0):
        if floats[i]:
            def fi(*a, i=i):
                return parts(f(*a))[i]
            H = torch.func.jacrev(torch.func.jacrev(fi, argnums=every), argnums=every)(*args)
            blocks = block(o, "hessians", "hessian", keys[i])
            wrong += [f"hessian {keys[i]} {a},{b}" for p, a in enumerate(names) for q, b in enumerate(names)
                      if not close(decoded(blocks[f"{a},{b}"]["value"]), H[p][q].numpy())]
    code_, o, err = jac("derivative", code, *bound, "--wrt", names[0], "--order", "3", "--json")
    for i in range(len(outs) if code_ == 0 else 0):
        if floats[i]:
            def g(a0, i=i):
                return parts(f(a0, *args[1:]))[i]
            D = torch.func.jacrev(torch.func.jacrev(torch.func.jacrev(g)))(args[0])
            ours = decoded(block(o, "derivatives", "derivative", keys[i])[names[0]]["value"])
            if not close(ours, D.numpy(), 1e-7, 1e-8):
                wrong.append(f"derivative {keys[i]}")
    code_, o, err = jac("check", code, *bound, "--json")
    if code_ != 0:
        wrong.append(f"check exit {code_}")
    return ("WRONG", "; ".join(wrong)) if wrong else ("AGREE", "")


def leaves_of(o: dict) -> dict:
    """Every array of a report: path -> value."""
    found = {}

    def walk(path, v):
        if isinstance(v, dict):
            if "value" in v and "shape" in v:
                found[path] = v["value"]
            for k, item in v.items():
                if k != "value":
                    walk(f"{path}/{k}", item)
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for k, item in enumerate(v):
                walk(f"{path}/{k}", item)
    for key in ("output", "outputs", "jacobian", "jacobians", "vjp", "jvp", "jvps", "hessian", "hessians",
                "derivative", "derivatives"):
        if key in o:
            walk(key, o[key])
    return found


def batch_case(code: str, inputs: dict, specs: list, command: str, folder: str) -> tuple:
    axes = {s.split(":")[0]: int(s.split(":")[1]) if ":" in s else 0 for s in specs}
    extra = {"vjp": ["--v", "ones"], "jvp": [a for n in inputs for a in ("--tangent", f"{n}=ones")],
             "derivative": ["--wrt", specs[0].split(":")[0], "--order", "2"]}.get(command, [])
    bound = [binding(k, v, folder) for k, v in inputs.items()]
    code_, o, err = jac(command, code, *bound, *[a for s in specs for a in ("--batch", s)], *extra, "--json")
    if code_ != 0:
        return ("CRASH" if code_ == "crash" else "REFUSED"), err.strip().splitlines()[0]
    stacked = leaves_of(o)
    size = next(np.shape(v)[axes[k]] for k, v in inputs.items() if k in axes)
    for b in range(size):
        one = [binding(k, np.take(v, b, axis=axes[k]) if k in axes else v, folder) for k, v in inputs.items()]
        code_, o1, err = jac(command, code, *one, *extra, "--json")
        if code_ != 0:
            return "WRONG", f"example {b} alone: {err.strip()[:100]}"
        for path, value in leaves_of(o1).items():
            row, alone = decoded(stacked[path])[b], decoded(value)
            if not (row.shape == alone.shape and np.array_equal(row, alone, equal_nan=True)
                    and np.array_equal(np.signbit(row), np.signbit(alone))):
                return "WRONG", f"row {b} of {path}"
    return "AGREE", ""


def hessian_case(code: str, inputs: dict, folder: str) -> tuple:
    names = list(inputs)
    f = torch_function(code, names)
    args = tuple(torch.tensor(inputs[k]) for k in names)
    every = tuple(range(len(names)))
    refs = [torch.func.jacrev(torch.func.jacrev(f, argnums=every), argnums=every)(*args)]
    try:
        refs.append(torch.func.jacfwd(torch.func.jacrev(f, argnums=every), argnums=every)(*args))
    except RuntimeError:  # forward AD PyTorch has not implemented
        pass
    bound = [binding(k, v, folder) for k, v in inputs.items()]
    code_, o, err = jac("hessian", code, *bound, "--json")
    if code_ != 0:
        return ("CRASH" if code_ == "crash" else "REFUSED"), err.strip().splitlines()[0]
    ny = len(o["output"]["shape"])
    for p, a in enumerate(names):
        for q, b in enumerate(names):
            ours = decoded(o["hessian"][f"{a},{b}"]["value"])
            if not any(close(ours, H[p][q].numpy()) for H in refs):
                return "WRONG", f"block {a},{b}"
            ka, kb = np.ndim(inputs[a]), np.ndim(inputs[b])
            swap = list(range(ny)) + list(range(ny + kb, ny + kb + ka)) + list(range(ny, ny + kb))
            if not close(ours, np.transpose(decoded(o["hessian"][f"{b},{a}"]["value"]), swap), 1e-9, 1e-10):
                return "WRONG", f"blocks {a},{b} and {b},{a} are not each other's transpose"
    code_, o2, err = jac("derivative", code, *bound, "--wrt", names[0], "--order", "2", "--json")
    if code_ == 0:
        ours, block = decoded(o2["derivative"][names[0]]["value"]), decoded(o["hessian"][f"{names[0]},{names[0]}"]["value"])
        # docs/batches-outputs-orders.md: bit for bit, except an element-wise output's diagonal (the passes along the
        # all-ones tangent), which agrees to rounding (session 53: this check predated that path)
        if o2["derivative"][names[0]].get("structure") == "diagonal":
            if not close(ours, block, 1e-14, 1e-300):
                return "WRONG", "derivative --order 2 (diagonal) is not the Hessian's block to rounding"
        elif ours.tobytes() != block.tobytes():
            return "WRONG", "derivative --order 2 is not the Hessian's block bit for bit"
    return "AGREE", ""


def modes_case(code: str, inputs: dict, folder: str) -> tuple:
    names = list(inputs)
    f = torch_function(code, names)
    theirs = torch.autograd.functional.jacobian(f, tuple(torch.tensor(inputs[k]) for k in names))
    try:
        singles = tuple(torch.tensor(v, dtype=torch.float32) for v in inputs.values())
        theirs32 = torch.autograd.functional.jacobian(f, singles)
    except RuntimeError:  # a constant of the text in float64 beside float32 arrays (lu_solve refuses to mix)
        theirs32 = None
    bound = [binding(k, v, folder) for k, v in inputs.items()]
    arrays = None
    for mode in ("auto", "forward", "reverse"):
        code_, o, err = jac("eval", code, *bound, "--mode", mode, "--json")
        if code_ != 0:
            return ("CRASH" if code_ == "crash" else "REFUSED"), err.strip().splitlines()[0]
        arrays = arrays or {n: decoded(o["jacobian"][n]["value"]) for n in names}
        if not all(close(decoded(o["jacobian"][n]["value"]), j.numpy()) for n, j in zip(names, theirs)):
            return "WRONG", f"--mode {mode}"
    code_, o, err = jac("eval", code, *bound, "--layout", "numerator", "--json")
    for n in names:
        y, xs, ms = o["output"]["shape"], list(np.shape(inputs[n])), o["jacobian"][n]["math_shape"]
        expected = arrays[n].reshape(y + xs)
        expected = np.swapaxes(expected, -1, -2) if len(xs) == 2 and len(y) <= 2 else expected
        if not np.array_equal(expected.reshape(ms), decoded(o["jacobian"][n]["value"])):
            return "WRONG", f"--layout numerator by {n}"
    code_, o, err = jac("eval", code, *bound, "--dtype", "float32", "--json")
    if code_ != 0 or theirs32 is not None and not all(close(decoded(o["jacobian"][n]["value"]), j.numpy(), 2e-4, 2e-5)
                                                      for n, j in zip(names, theirs32)):
        return "WRONG", "--dtype float32"
    return "AGREE", ""


def found_cases(folder: str) -> list:
    """(name, passes now): what this session fixed (tests/test_cli28.py pins each)."""
    code_, o, err = jac("eval", "x * 1", "x=[1e39, 1]", "--dtype", "float32", "--json")
    cases = [("a binding past float32's range warns once, as jac", code_ == 0 and len(err.splitlines()) == 1 and
              err.startswith("jac: warning (nonfinite): the input 'x' holds inf"))]  # a reason added later
    net = "net = nn.Sequential(*[nn.Linear(2, 2) for _ in range(40)])\nnet(x).sum()"
    # printed as text (CHANGELOG, session 28: --json gives every block, as torch.autograd.functional.hessian)
    result = RUNNER.invoke(app, ["hessian", net, "x=[1, 2]"])
    cases.append(("jac hessian of 81 inputs without --wrt refused naming --wrt",
                  result.exit_code == 2 and "error (limit)" in result.output and "--wrt x" in result.output))
    result = RUNNER.invoke(app, ["eval", "x * 1", "x=[1e-9, -1e-12]"])
    cases.append(("[1e-9, -1e-12] is not printed as [0. -0.]", "[ 1.e-09 -1.e-12]" in result.stdout))
    return cases


def main(argv: list) -> None:
    import tempfile

    pick = argv[argv.index("-k") + 1] if "-k" in argv else ""
    verbose = "-v" in argv
    start, counts, refused = time.monotonic(), Counter(), Counter()
    with tempfile.TemporaryDirectory() as folder:
        runs = [("outputs", c, lambda c=c, i=i: outputs_case(c, i, folder)) for c, i in OUTPUTS]
        runs += [(f"batch {cmd}", c, lambda c=c, i=i, s=s, cmd=cmd: batch_case(c, i, s, cmd, folder))
                 for c, i, s in BATCHES for cmd in COMMANDS]
        runs += [("hessian", c, lambda c=c, i=i: hessian_case(c, i, folder)) for c, i in HESSIANS]
        runs += [("modes", c, lambda c=c, i=i: modes_case(c, i, folder)) for c, i in HESSIANS]
        for section, code, run in runs:
            if pick not in f"{section} {code}":
                continue
            status, note = run()
            counts[status] += 1
            if status == "REFUSED":
                refused[note[:110]] += 1
            if status != "AGREE" and (verbose or status in ("WRONG", "CRASH")):
                print(f"{status:8s} {section:16s} {code!r:50.50s} {note}")
        for name, passes in found_cases(folder) if not pick else []:
            counts["FIXED" if passes else "WRONG"] += 1
            print(f"{'FIXED' if passes else 'WRONG':8s} {name}")
    summary(refused, counts, "cli28", start, keys=("AGREE", "FIXED", "WRONG", "REFUSED", "CRASH"))


if __name__ == "__main__":
    main(sys.argv[1:])
