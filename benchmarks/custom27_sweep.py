"""Derivative rules written by hand (torch.autograd.Function, jax.custom_vjp, jax.custom_jvp; lang/custom.py), run by jac and by the
library: the value, jac's Jacobian (auto, forward and reverse mode), a VJP and a JVP by every input compared, and
for PyTorch a scalar text's Hessian (its double backward); each text evaluated three times (a kernel from the
third call) and compared with the first.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/custom27_sweep.py [-k SUBSTRING] [-v]

Each rule of TORCH_RULES / JAX_RULES is called in each use of its library's USES on ``x`` (3,) drawn in
(0.2, 0.9); the library's answers by deco26_sweep.run (``torch.autograd.functional.jacobian``, ``jax.jacrev``),
its VJP and JVP by the Jacobian's contraction (PyTorch's VJP is ``y.backward(v)``: the same numbers), its Hessian
by ``torch.autograd.functional.hessian``. Counts as deco26_sweep's (fuzzkit.summary): WRONG and CRASH must be
none; REFUSED where jac refuses what the library computes; PARTLY where every answer jac gives agrees and it refuses
some of the asks (forward mode and a JVP through a backward not linear in its gradient, which the library applies
to each cotangent; a Hessian through @once_differentiable, which PyTorch refuses too). The value and the
reverse-mode Jacobian are never among those. JAX's second order through a custom_vjp is refused by design: a
Hessian of a JAX text is not asked for.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

import numpy as np

from deco26_sweep import run
from fuzzkit import differ, summary

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests")
import custom27 as c27  # noqa: E402 - the rules tests/test_custom27.py checks, shared

def _body(text: str) -> str:
    """A rule's text of tests/custom27.py (which tests/test_custom27.py checks too) without its imports: the sweep
    writes its own head."""
    lines = text.split("\n")
    while lines and lines[0].startswith(("import ", "from ")):
        lines.pop(0)
    return "\n".join(lines)


TORCH_HEAD = "import torch\n"
TORCH_RULES = {
    "Exp": (_body(c27.EXP), "Exp.apply(ARG)"),
    "WrongExp": (_body(c27.WRONG_EXP), "WrongExp.apply(ARG)"),
    "MyReLU": ("""class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)
    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0.5] = 0
        return grad_input
""", "MyReLU.apply(ARG - 0.5)"),
    "Legendre": (_body(c27.LEGENDRE), "LegendrePolynomial3.apply(ARG)"),
    "ClipGrad": (_body(c27.CLIP), "ClipGrad.apply(ARG)"),
    "STE": (_body(c27.STE), "RoundSTE.apply(ARG)"),
    "MulConst": (_body(c27.MUL_CONST), "MulConst.apply(ARG, 3.0)"),
    "Mul2": ("""class Mul2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a
""", "Mul2.apply(ARG, torch.sin(ARG))"),
    "Setup": (_body(c27.SETUP), "Cube.apply(ARG)"),
    "Once": ("""from torch.autograd.function import once_differentiable
class Sq(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * g * x
""", "Sq.apply(ARG)"),
    "Shape": ("""class SumAll(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.n = x.shape[0]
        return x.sum()
    @staticmethod
    def backward(ctx, g):
        return g * torch.ones(ctx.n)
""", "SumAll.apply(ARG) * ARG"),
    "Intermediate": (_body(c27.SOFT), "Soft.apply(ARG)"),
    "Matrix": ("""class Lin(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return w @ x
    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return w.T @ g, torch.outer(g, x)
""", "Lin.apply(ARG, torch.outer(ARG, ARG) + 1.0)"),
    "SinCos": (_body(c27.SIN_COS), "SinCos.apply(ARG)[0] * SinCos.apply(ARG)[1]"),
    "Twice": ("""class Exp2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result
    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result * 3
""", "Exp2.apply(Exp2.apply(ARG) * 0.5)"),
    "Needs": (_body(c27.NEEDS), "Mul.apply(ARG, torch.tensor([1.0, 2.0, 3.0]))"),
}
TORCH_USES = ["CALL", "torch.sin(CALL) * x", "(CALL ** 2).sum()", "CALL.sum() * x[0]"]
TORCH_ARGS = ["x", "x * 2"]

JAX_HEAD = "import jax\nimport jax.numpy as jnp\nfrom functools import partial\n"
JAX_RULES = {
    "sin_times": (_body(c27.JAX_SIN), "f(ARG, jnp.exp(ARG))"),
    "clip_gradient": (_body(c27.JAX_CLIP), "clip_gradient(-0.4, 0.4, ARG)"),
    "log1pexp": (_body(c27.JAX_LOG1PEXP), "log1pexp(ARG)"),
    "wrong": (_body(c27.JAX_WRONG), "s(ARG)"),
    "dict_res": ("""@jax.custom_vjp
def h(x):
    return x ** 3
def h_fwd(x):
    return x ** 3, {'x': x, 'sq': x * x}
def h_bwd(r, g):
    return (3.0 * r['sq'] * g,)
h.defvjp(h_fwd, h_bwd)
""", "h(ARG)"),
    "jvp_log1pexp": (_body(c27.JVP_LOG1PEXP), "log1pexp(ARG)"),
    "jvp_wrong": (_body(c27.JVP_WRONG), "c(ARG)"),
    "jvps_two": (_body(c27.JVPS_TWO), "g(ARG, jnp.exp(ARG))"),
    "jvp_nondiff": ("""from functools import partial
@partial(jax.custom_jvp, nondiff_argnums=(0,))
def scaled(k, x):
    return k * jnp.tanh(x)
@scaled.defjvp
def scaled_jvp(k, primals, tangents):
    x, = primals
    t, = tangents
    return scaled(k, x), k * (1 - jnp.tanh(x) ** 2) * t
""", "scaled(2.0, ARG)"),
}
JAX_USES = ["CALL", "jnp.sin(CALL) * x", "jnp.sum(CALL ** 2)", "jnp.tanh(CALL) + CALL[0]"]
JAX_ARGS = ["x", "jnp.sin(x)"]


def texts():
    """(library, text) of every rule in every use."""
    for library, head, rules, uses, args in (("torch", TORCH_HEAD, TORCH_RULES, TORCH_USES, TORCH_ARGS),
                                              ("jax", JAX_HEAD, JAX_RULES, JAX_USES, JAX_ARGS)):
        for rule, call in rules.values():
            for arg in args:
                for use in uses:
                    yield library, head + rule + use.replace("CALL", call.replace("ARG", arg))


def hessian_ref(text: str, inputs: dict):
    import ast

    import torch
    tree = ast.parse(text)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def t(x):
        scope = {"torch": torch, "x": x}
        exec(compile(body, "<t>", "exec"), scope)  # noqa: S102 - the sweep's own texts
        return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307
    return torch.autograd.functional.hessian(t, torch.tensor(inputs["x"])).numpy()


def vjp_ref(library: str, text: str, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """What the library's own VJP leaves: ``y.backward(v)``'s ``x.grad``, ``jax.vjp``'s pullback of ``v`` (for a
    backward not linear in its gradient, not the Jacobian's contraction)."""
    import ast

    tree = ast.parse(text)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)
    if library == "jax":
        import jax
        import jax.numpy as jnp

        def f(t):
            scope = {"jax": jax, "jnp": jnp, "x": t}
            exec(compile(body, "<t>", "exec"), scope)  # noqa: S102 - the sweep's own texts
            return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307
        return np.asarray(jax.vjp(f, jnp.asarray(x))[1](jnp.asarray(v))[0])
    import torch
    leaf = torch.tensor(x, requires_grad=True)
    scope = {"torch": torch, "x": leaf}
    exec(compile(body, "<t>", "exec"), scope)  # noqa: S102
    y = eval(compile(last, "<t>", "eval"), scope)  # noqa: S307
    y.backward(torch.tensor(v))
    return leaf.grad.numpy()


def check(library: str, text: str, inputs: dict, api) -> tuple:
    """(what differs or None, what jac refused: forward mode through a backward not linear in its gradient)."""
    from jacobi_cli.errors import JacError

    value, jacs = run(library, text, inputs)
    J = np.asarray(jacs["x"]).reshape(np.size(value), -1)
    rng = np.random.default_rng(3)
    v = rng.standard_normal(np.shape(value))
    t = rng.standard_normal(inputs["x"].shape)
    asks = [("value", lambda: api.evaluate(text, inputs), value)]
    for mode in ("reverse", "auto", "forward"):
        asks.append((f"jacobian {mode}", lambda mode=mode: api.jacobian(text, inputs, mode=mode)["x"], jacs["x"]))
    asks.append(("vjp", lambda: api.vjp(text, inputs, v=v)["x"], vjp_ref(library, text, inputs["x"], v)))
    asks.append(("jvp", lambda: api.jvp(text, inputs, tangents={"x": t}), (J @ t.reshape(-1)).reshape(np.shape(value))))
    for _ in range(2):  # the third call runs a kernel where one is built
        asks.append(("again", lambda: api.jacobian(text, inputs, mode="reverse")["x"], jacs["x"]))
    if library == "torch" and np.ndim(value) == 0:
        asks.append(("hessian", lambda: api.hessian(text, inputs)[("x", "x")], hessian_ref(text, inputs)))
    refused = []
    for what, ours, theirs in asks:
        try:
            got = ours()
        except JacError as err:
            if what in ("value", "jacobian reverse"):
                raise
            refused.append(f"{what}: {str(err).splitlines()[0][:90]}")
            continue
        wrong = differ(got, theirs, None, "float64", derivative=what != "value")
        if wrong:
            return f"{what}: {wrong}", refused
    return None, refused


def main(argv: list) -> None:
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    verbose = "-v" in argv
    import jax
    jax.config.update("jax_enable_x64", True)
    import torch
    torch.set_default_dtype(torch.float64)
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    counts, refused = Counter(), Counter()
    start = time.monotonic()
    for library, text in texts():
        if only and only not in text:
            continue
        rng = np.random.default_rng(sum(map(ord, text)) * 7919 + len(text))
        inputs = {"x": rng.uniform(0.2, 0.9, (3,))}
        try:
            run(library, text, inputs)
        except Exception:  # noqa: BLE001 - the library refuses the text
            counts["SKIPPED"] += 1
            if verbose:
                print(f"SKIPPED {text!r}")
            continue
        try:
            wrong, partly = check(library, text, inputs, api)
        except JacError as err:
            counts["REFUSED"] += 1
            refused[str(err).split("\n")[0][:110]] += 1
            if verbose:
                print(f"REFUSED {text!r}: {err}")
            continue
        except Exception as err:  # noqa: BLE001 - what the sweep looks for
            counts["CRASH"] += 1
            print(f"CRASH {text!r}: {type(err).__name__}: {err}")
            continue
        kind = "WRONG" if wrong else "PARTLY" if partly else "AGREE"
        counts[kind] += 1
        for message in partly:
            refused[message] += 1
        if wrong or verbose:
            print(f"{kind} {text!r}: {wrong or partly or ''}")
    summary(refused, counts, "custom27", start, keys=("AGREE", "PARTLY", "WRONG", "REFUSED", "CRASH", "SKIPPED"))


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    main(sys.argv[1:])
