"""The dtype16 sweep: ``--dtype float32`` against PyTorch 2.13 in float32.

Each case is ``(group, expr, torch_expr)``: ``expr`` goes through jac (the Python API and the CLI's
``--json``), ``torch_expr`` (default ``expr``: the torch spelling is jac's too) through PyTorch with
float32 tensors that require grad, and :func:`run_case` compares the value, the Jacobian of each input,
a VJP, a JVP and (one-element outputs) the Hessian, and the dtype jac computes in: every result
float32, and no node of the forward pass holding a float64 array (an int64 array beside a float32 one
makes NumPy compute in float64 where PyTorch stays in float32).

Tolerances (float32's eps is 1.2e-7): value, Jacobian, VJP and JVP agree when
``|jac - torch| <= RTOL * |torch| + ATOL * (1 + max |torch|)`` with RTOL = 2e-5 and ATOL = 2e-6 (a
few dozen ulps: the two libraries round sums and transcendental functions differently); Hessians
with RTOL = 1e-4 and ATOL = 1e-5. NaN must meet NaN and an infinity the same infinity.

The inputs (float32): x = [0.5, -1.2, 2.0], y = [1.5, 0.7, -0.4], p = [0.5, 1.3, 2.1] (positive),
A (2, 2) well conditioned, M (2, 3).
"""

from __future__ import annotations

import re

import numpy as np

INPUTS = {
    "x": [0.5, -1.2, 2.0],
    "y": [1.5, 0.7, -0.4],
    "p": [0.5, 1.3, 2.1],
    "A": [[1.0, 0.5], [0.3, 2.0]],
    "M": [[0.2, -0.5, 1.0], [1.5, 0.3, -0.7]],
}
RTOL, ATOL = 2e-5, 2e-6
HESS_RTOL, HESS_ATOL = 1e-4, 1e-5

_T = None  # each case below: (group, expr[, torch_expr])
CASES = [
    # element-wise functions
    ("elementwise", "torch.sin(x)"), ("elementwise", "torch.cos(x) * y"), ("elementwise", "torch.tan(x / 3)"),
    ("elementwise", "torch.exp(x)"), ("elementwise", "torch.log(p)"), ("elementwise", "torch.log1p(p)"),
    ("elementwise", "torch.sqrt(p)"), ("elementwise", "torch.rsqrt(p)"), ("elementwise", "torch.abs(x)"),
    ("elementwise", "torch.tanh(x)"), ("elementwise", "torch.sigmoid(x)"), ("elementwise", "F.relu(x)"),
    ("elementwise", "F.softplus(x)"), ("elementwise", "F.gelu(x)"), ("elementwise", "F.silu(x)"),
    ("elementwise", "F.elu(x)"), ("elementwise", "torch.erf(x)"), ("elementwise", "torch.atan(x)"),
    ("elementwise", "torch.asin(x / 3)"), ("elementwise", "x.square()"), ("elementwise", "torch.atan2(x, y)"),
    ("elementwise", "torch.clamp(x, -1, 1)"), ("elementwise", "torch.maximum(x, y)"),
    ("elementwise", "torch.minimum(x, y)"), ("elementwise", "torch.heaviside(x, y) * x"),
    ("elementwise", "x.heaviside(y) * x"), ("elementwise", "torch.hypot(x, y)"),
    ("elementwise", "torch.special.expit(x)"), ("elementwise", "torch.lerp(x, y, 0.3)"),
    # binary ops with Python numbers
    ("numbers", "x * 2"), ("numbers", "x + 1"), ("numbers", "3 - x"), ("numbers", "x / 3"), ("numbers", "2 / p"),
    ("numbers", "x * 2.5"), ("numbers", "x + 0.1"), ("numbers", "x / 0.1"), ("numbers", "x ** 2"),
    ("numbers", "x ** 3"), ("numbers", "p ** 0.5"), ("numbers", "p ** -0.5"), ("numbers", "p ** -1"),
    ("numbers", "2 ** x"), ("numbers", "0.5 ** x"), ("numbers", "x.pow(2)"), ("numbers", "torch.pow(p, 2.5)"),
    ("numbers", "x % 2"), ("numbers", "(x // 2) * x"), ("numbers", "x * -1e-3"), ("numbers", "x * 1e30"),
    ("numbers", "torch.where(x > 0, x, 0)"), ("numbers", "torch.where(x > 0, x, 0.5)"),
    ("numbers", "torch.where(x > 0, 1, x)"), ("numbers", "x.sum() / 3"), ("numbers", "x.sum() / x.numel()"),
    ("numbers", "x.sum() / x.shape[0]"), ("numbers", "x * len(x)"), ("numbers", "torch.pi * x"),
    # integer-valued and boolean constants
    ("int-const", "x + torch.arange(3)"), ("int-const", "x * torch.arange(3)"),
    ("int-const", "x + torch.tensor([1, 2, 3])"), ("int-const", "torch.tensor([1, 2, 3]) * x"),
    ("int-const", "x * torch.tensor(2)"), ("int-const", "x * torch.tensor(2.5)"),
    ("int-const", "x * torch.tensor([True, False, True])"), ("int-const", "x + torch.tensor([True, False, True])"),
    ("int-const", "x * torch.tensor([1, 2, 3], dtype=torch.int32)"),
    ("int-const", "x * torch.tensor([1, 2, 3], dtype=torch.uint8)"),
    ("int-const", "x * torch.tensor([1, 2, 3], dtype=torch.int8)"), ("int-const", "x ** torch.arange(3)"),
    ("int-const", "x.pow(torch.tensor([1, 2, 3]))"), ("int-const", "torch.arange(1, 4) ** x"),
    ("int-const", "x / torch.arange(1, 4)"), ("int-const", "torch.arange(1, 4) / p"),
    ("int-const", "torch.linspace(0, 1, 3) * x"), ("int-const", "torch.arange(3.0) * x"),
    ("int-const", "x @ torch.eye(3)"), ("int-const", "torch.ones(3) @ x"), ("int-const", "x + torch.eye(3)"),
    ("int-const", "x * torch.full((3,), 2)"), ("int-const", "torch.where(x > 0, x, torch.arange(3))"),
    ("int-const", "torch.maximum(x, torch.arange(3))"), ("int-const", "torch.cat([x, torch.arange(3)])"),
    ("int-const", "torch.stack([x, torch.arange(3)])"), ("int-const", "torch.outer(x, torch.arange(3))"),
    ("int-const", "torch.atan2(x, torch.arange(1, 4))"), ("int-const", "torch.arange(3).sum() * x"),
    ("int-const", "F.l1_loss(x, torch.arange(3))"), ("int-const", "F.mse_loss(x, torch.tensor([1, 2, 3]))"),
    ("int-const", "torch.clamp(x, torch.tensor(0), torch.tensor(1))"),
    ("int-const", "x * torch.tensor(3.0, dtype=torch.float64)"),
    # integer and boolean tensors computed from the inputs
    ("int-input", "x * y.long()"), ("int-input", "x.long() * y"), ("int-input", "(x > 0) * x"),
    ("int-input", "(x > 0).float() * y"), ("int-input", "(x > 0).long() * y"), ("int-input", "(x > 0).sum() * x"),
    ("int-input", "x * (y > 0).sum()"), ("int-input", "x.int() * x"), ("int-input", "x.long() + x"),
    ("int-input", "x.argsort() * x"), ("int-input", "torch.argsort(x) + y"), ("int-input", "torch.argmax(x) * x"),
    ("int-input", "torch.argmin(y) * x"), ("int-input", "torch.sort(x).indices * y"),
    ("int-input", "torch.topk(x, 2).indices * x[:2]"), ("int-input", "torch.max(M, 1).indices * M[:, 0]"),
    ("int-input", "torch.searchsorted(torch.tensor([0.0, 1.0]), x) * x"),
    ("int-input", "torch.bucketize(x, torch.tensor([0.0, 1.0])) * x"),
    ("int-input", "torch.cummax(x, 0).indices * x"), ("int-input", "(x.argsort() > 1) * x"),
    ("int-input", "torch.where(x > 0, x, x.argsort())"), ("int-input", "torch.maximum(x.argsort(), x)"),
    ("int-input", "x.argsort().float() * x"), ("int-input", "(x.argsort() * 2) * x"),
    ("int-input", "(x.argsort() / 2) * x"), ("int-input", "x.argsort().sum() * x"),
    ("int-input", "torch.cat([x, x.argsort()])"), ("int-input", "x ** x.argsort()"),
    ("int-input", "torch.argsort(torch.argsort(x)) * x"), ("int-input", "x[torch.argmax(x)] * x"),
    ("int-input", "torch.cumsum(x.long(), 0) * x"), ("int-input", "torch.count_nonzero(x > 0) * x"),
    # reductions
    ("reduction", "x.sum()"), ("reduction", "x.mean()"), ("reduction", "torch.prod(x)"), ("reduction", "x.max()"),
    ("reduction", "torch.norm(x)"), ("reduction", "torch.logsumexp(x, 0)"), ("reduction", "torch.std(x)"),
    ("reduction", "torch.var(x)"), ("reduction", "torch.cumsum(x, 0)"), ("reduction", "torch.cumprod(x, 0)"),
    ("reduction", "torch.amax(M, 1)"), ("reduction", "M.sum(0)"), ("reduction", "M.mean(dim=1)"),
    ("reduction", "torch.median(x)"), ("reduction", "torch.quantile(x, 0.3)"), ("reduction", "torch.sort(x).values"),
    ("reduction", "torch.topk(x, 2).values"), ("reduction", "torch.cummax(x, 0).values"),
    ("reduction", "x.mean() * x.shape[0]"), ("reduction", "torch.linalg.vector_norm(x, 3)"),
    # matmul and linalg
    ("linalg", "A @ A"), ("linalg", "A @ x[:2]"), ("linalg", "torch.det(A)"), ("linalg", "torch.linalg.inv(A)"),
    ("linalg", "torch.linalg.solve(A, y[:2])"), ("linalg", "torch.trace(A)"), ("linalg", "A.T @ A"),
    ("linalg", "torch.linalg.norm(A)"), ("linalg", "torch.outer(x, y)"), ("linalg", "torch.dot(x, y)"),
    ("linalg", "torch.linalg.eigvalsh(A @ A.T)"), ("linalg", "torch.linalg.cholesky(A @ A.T + torch.eye(2))"),
    ("linalg", "torch.logdet(A @ A.T + torch.eye(2))"), ("linalg", "M @ x"), ("linalg", "torch.mv(M, y)"),
    ("linalg", "M.T @ A"), ("linalg", "torch.kron(x, torch.arange(2))"),
    # losses
    ("loss", "F.mse_loss(x, y)"), ("loss", "F.l1_loss(x, y)"), ("loss", "F.smooth_l1_loss(x, y)"),
    ("loss", "F.huber_loss(x, y)"), ("loss", "F.binary_cross_entropy(torch.sigmoid(x), torch.sigmoid(y))"),
    ("loss", "F.binary_cross_entropy_with_logits(x, (y > 0).float())"),
    ("loss", "F.cross_entropy(M, torch.tensor([0, 2]))"),
    ("loss", "F.nll_loss(F.log_softmax(M, 1), torch.tensor([0, 2]))"),
    ("loss", "F.kl_div(F.log_softmax(x, 0), F.softmax(y, 0), reduction='sum')"),
    ("loss", "F.cross_entropy(x, torch.tensor(1))"), ("loss", "F.cross_entropy(M, F.softmax(M * 2, 1))"),
    ("loss", "F.cosine_similarity(x, y, dim=0)"), ("loss", "F.cross_entropy(M, torch.tensor([0, 2]), "
                                                          "label_smoothing=0.1)"),
    # softmax family
    ("softmax", "F.softmax(x, 0)"), ("softmax", "F.log_softmax(x, 0)"), ("softmax", "torch.softmax(M, 1)"),
    ("softmax", "torch.logsumexp(M, 1)"), ("softmax", "F.softmin(x, 0)"), ("softmax", "y[:2] @ F.softmax(M, 0)"),
    # indexing
    ("index", "x[0]"), ("index", "x[1:]"), ("index", "x[[0, 2]]"), ("index", "x[torch.tensor([0, 2])]"),
    ("index", "M[:, 1]"), ("index", "M[1]"), ("index", "torch.gather(M, 1, torch.tensor([[0], [2]]))"),
    ("index", "x[torch.tensor([True, False, True])]"), ("index", "x.index_select(0, torch.tensor([2, 0]))"),
    ("index", "M[torch.arange(2), torch.tensor([1, 2])]"), ("index", "x[-1] * y[torch.tensor(0)]"),
    # NumPy spellings: NumPy 2 promotes an int64 array or a float64 scalar beside float32 to float64; jac
    # computes in --dtype (a documented difference); derivatives against PyTorch's float32
    ("numpy", "np.sin(x) * np.arange(3)", "torch.sin(x) * torch.arange(3)"),
    ("numpy", "x * np.float64(2)", "x * 2"), ("numpy", "x + np.array([1, 2, 3])", "x + torch.tensor([1, 2, 3])"),
    ("numpy", "np.where(x > 0, x, 0)", "torch.where(x > 0, x, 0)"),
    ("numpy", "np.argsort(x) * x", "torch.argsort(x) * x"), ("numpy", "np.sum(x ** 2) / 3", "(x ** 2).sum() / 3"),
    ("numpy", "np.linalg.norm(M)", "torch.linalg.norm(M)"), ("numpy", "np.exp(x) @ np.ones(3)", "torch.exp(x).sum()"),
]
CASES = [c if len(c) == 3 else (c[0], c[1], c[1]) for c in CASES]

# Cases PyTorch refuses (a mixed-dtype product, a float index): jac must refuse them too (exit 2)
REFUSED = [
    ("mixed-matmul", "x @ torch.arange(3)"), ("mixed-matmul", "A @ torch.isfinite(x[:2])"),
    ("mixed-matmul", "torch.dot(x, x.long())"), ("mixed-matmul", "x @ x.argsort()"),
    ("mixed-matmul", "torch.mv(A, torch.tensor([1, 2]))"), ("mixed-matmul", "torch.mm(A, torch.eye(2).long())"),
    ("mixed-matmul", "M @ (x > 0)"), ("mixed-matmul", "torch.matmul(A, torch.tensor([[1, 0], [0, 1]]))"),
    ("float-index", "x[torch.tensor([0., 1.])]"), ("float-index", "x[torch.arange(2.0)]"),
    ("float-index", "x[1.0]"), ("float-index", "M[0, 1.0]"), ("float-index", "x[np.array([0., 1.])]"),
    ("float-index", "x[[0., 1.]]"),
]
# ... and those jac still accepts, documented (docs/vocabulary-elementwise.md): a float 0-d tensor as an
# index, a float index array computed or held in a name, or given to a function, when it holds whole
# numbers; and an input holding
# whole numbers, as every binding is --dtype (a deliberate difference: it stands for an integer tensor)
DOCUMENTED = [
    ("float-index", "x[torch.tensor(1.0)]"), ("float-index", "x[torch.tensor([0, 1]) + 1.0]"),
    ("float-index", "i = torch.tensor([0., 1.]); x[i]"), ("float-index", "torch.gather(x, 0, torch.tensor([0., 1.]))"),
    ("float-index", "x.index_select(0, torch.tensor([0., 2.]))"),
    ("float-index", "torch.take_along_dim(x, torch.tensor([0., 1.]), 0)"),
]

_NAME = re.compile(r"(?<![\w.])([xypAM])(?![\w(])")


def inputs_of(expr: str) -> dict:
    """The float32 inputs ``expr`` names."""
    return {n: np.asarray(INPUTS[n], dtype=np.float32) for n in INPUTS if n in set(_NAME.findall(expr))}


def torch_results(torch_expr: str, inputs: dict, v, tangents) -> dict:
    """PyTorch's float32 value, Jacobians, VJP, JVP and (one-element output) Hessian."""
    import torch
    import torch.nn.functional as F
    from torch.autograd.functional import hessian, jacobian, jvp, vjp

    names = list(inputs)
    args = tuple(torch.tensor(inputs[n]) for n in names)

    def f(*xs):
        return eval(torch_expr, {"torch": torch, "F": F, **dict(zip(names, xs))})  # noqa: S307 - our own cases

    value = f(*[a.clone().requires_grad_(True) for a in args])
    out = {"value": value.detach().numpy(), "dtype": str(value.dtype).replace("torch.", "")}
    if not value.requires_grad:  # PyTorch has no derivative of it (heaviside): the value alone
        return out
    value = value.detach()
    out["jacobian"] = {n: j.numpy() for n, j in zip(names, jacobian(f, args))}
    out["vjp"] = {n: g.numpy() for n, g in zip(names, vjp(f, args, torch.tensor(v))[1])}
    out["jvp"] = jvp(f, args, tuple(torch.tensor(tangents[n]) for n in names))[1].numpy()
    if value.numel() == 1:
        h = hessian(lambda *xs: f(*xs).reshape(()), args)
        out["hessian"] = {(a, b): h[i][j].numpy().reshape(tuple(value.shape) + args[i].shape + args[j].shape)
                          for i, a in enumerate(names) for j, b in enumerate(names)}
    return out


def jac_results(expr: str, inputs: dict, v, tangents, scalar: bool) -> dict:
    """jac's results through the API in float32, each kept with its dtype; ``internal``: the dtypes of
    the float arrays of the forward pass other than float32."""
    from jacobi_cli.tools import api

    problem = api.prepare(expr, inputs, dtype="float32")
    internal = sorted({f"{node.op}:{np.asarray(val).dtype}" for node, val in zip(problem.graph.nodes, problem.values)
                       if isinstance(val, (np.ndarray, np.generic)) and val.dtype.kind in "fc"
                       and val.dtype != np.float32})
    out = {"value": np.asarray(api.evaluate(expr, inputs, dtype="float32")), "internal": internal,
           "jacobian": {n: np.asarray(j) for n, j in api.jacobian(expr, inputs, dtype="float32").items()},
           "vjp": {n: np.asarray(g) for n, g in api.vjp(expr, inputs, v=v, dtype="float32").items()},
           "jvp": np.asarray(api.jvp(expr, inputs, tangents, dtype="float32"))}
    if scalar:
        out["hessian"] = {k: np.asarray(h) for k, h in api.hessian(expr, inputs, dtype="float32").items()}
    return out


def cli_results(expr: str, inputs: dict, v, tangents, scalar: bool, invoke) -> dict:
    """The same through the CLI's ``--json`` (``invoke(args) -> (exit code, parsed JSON)``)."""
    bindings = [f"{n}={a.tolist()!r}" for n, a in inputs.items()]
    _, ev = invoke(["eval", "--json", "--dtype", "float32", expr, *bindings])
    out = {"value": _number(ev["output"]["value"]),
           "jacobian": {n: _number(b["value"]) for n, b in ev["jacobian"].items()}}
    _, vj = invoke(["vjp", "--json", "--dtype", "float32", "--v", repr(np.asarray(v).tolist()), expr, *bindings])
    out["vjp"] = {n: _number(b["value"]) for n, b in vj["vjp"].items()}
    tangent_args = [a for n, t in tangents.items() for a in ("--tangent", f"{n}={t.tolist()!r}")]
    _, jv = invoke(["jvp", "--json", "--dtype", "float32", *tangent_args, expr, *bindings])
    out["jvp"] = _number(jv["jvp"]["value"])
    if scalar:
        _, he = invoke(["hessian", "--json", "--dtype", "float32", expr, *bindings])
        out["hessian"] = {tuple(k.split(",")): _number(b["value"]) for k, b in he["hessian"].items()}
    return out


def _number(value) -> np.ndarray:
    words = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}

    def walk(v):
        return [walk(w) for w in v] if isinstance(v, list) else words.get(v, v) if isinstance(v, str) else v
    return np.asarray(walk(value), dtype=np.float64)


def differs(ours, theirs, rtol=RTOL, atol=ATOL) -> str | None:
    """Why ``ours`` and ``theirs`` disagree beyond the float32 tolerances, or None."""
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        return f"shape {a.shape} != {b.shape}"
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return f"NaN at other places: {a.ravel()[:6]} vs {b.ravel()[:6]}"
    finite = np.isfinite(b) & np.isfinite(a)
    if not np.array_equal(a[~finite & ~np.isnan(b)], b[~finite & ~np.isnan(b)]):
        return f"infinities differ: {a.ravel()[:6]} vs {b.ravel()[:6]}"
    scale = 1 + (np.abs(b[finite]).max() if finite.any() else 0)
    bad = np.abs(a[finite] - b[finite]) > rtol * np.abs(b[finite]) + atol * scale
    if bad.any():
        return f"max |diff| {np.abs(a[finite] - b[finite]).max():.3g}: {a.ravel()[:6]} vs {b.ravel()[:6]}"
    return None


def direction(shape, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run_case(expr: str, torch_expr: str, invoke=None) -> list:
    """The disagreements of one case: ``[(part, why), ...]`` (empty: agree). ``invoke``: also the CLI."""
    inputs = inputs_of(expr)
    tangents = {n: direction(a.shape, 1 + i) for i, (n, a) in enumerate(inputs.items())}
    from jacobi_cli.tools import api

    shape = np.shape(api.evaluate(expr, inputs, dtype="float32"))
    v = direction(shape, 0)
    try:
        theirs = torch_results(torch_expr, inputs, v, tangents)
    except RuntimeError as err:  # "derivative for aten::heaviside is not implemented"
        if "not implemented" not in str(err):
            raise
        theirs = torch_results(f"({torch_expr}).detach()", inputs, v, tangents)
    scalar = "hessian" in theirs
    found = []
    routes = [("api", jac_results(expr, inputs, v, tangents, scalar))]
    if invoke is not None:
        routes.append(("cli", cli_results(expr, inputs, v, tangents, scalar, invoke)))
    ours = routes[0][1]
    if theirs["dtype"] != "float32":
        found.append(("torch-dtype", f"PyTorch computes in {theirs['dtype']}"))
    if ours["internal"]:
        found.append(("internal-dtype", ", ".join(ours["internal"])))
    for part in ("value", "jvp"):
        if ours[part].dtype != np.float32:
            found.append((f"{part}-dtype", str(ours[part].dtype)))
    for part in ("jacobian", "vjp") + (("hessian",) if scalar else ()):
        for key, block in ours[part].items():
            if block.dtype != np.float32:
                found.append((f"{part}-dtype {key}", str(block.dtype)))
    if "jacobian" not in theirs:
        found.append(("torch-no-derivative", "PyTorch has no derivative: the value alone compared"))
    for route, res in routes:
        tol = {"hessian": (HESS_RTOL, HESS_ATOL)}
        for part in ("value", "jvp") if "jvp" in theirs else ("value",):
            why = differs(res[part], theirs[part])
            if why:
                found.append((f"{route} {part}", why))
        for part in ("jacobian", "vjp") + (("hessian",) if scalar else ()):
            for key, block in theirs.get(part, {}).items():
                why = differs(res[part][key], block, *tol.get(part, (RTOL, ATOL)))
                if why:
                    found.append((f"{route} {part} {key}", why))
        if route == "cli":  # the CLI prints the API's float32 numbers (shortest repr: read back as float32)
            pairs = [(p, res[p], ours[p]) for p in ("value", "jvp")]
            pairs += [(f"{p} {k}", res[p][k], ours[p][k]) for p in ("jacobian", "vjp") + (("hessian",) if scalar
                                                                                            else ()) for k in ours[p]]
            for part, printed, api_value in pairs:
                if not np.array_equal(printed.astype(np.float32), api_value, equal_nan=True):
                    found.append(("cli-vs-api " + part, f"{printed.ravel()[:4]} vs {api_value.ravel()[:4]}"))
    return found
