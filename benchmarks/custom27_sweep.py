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

TORCH_HEAD = "import torch\n"
TORCH_RULES = {
    "Exp": ("""class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result
    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result
""", "Exp.apply(ARG)"),
    "WrongExp": ("""class WrongExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i)
        return torch.exp(i)
    @staticmethod
    def backward(ctx, g):
        i, = ctx.saved_tensors
        return 2 * g * torch.exp(i)
""", "WrongExp.apply(ARG)"),
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
    "Legendre": ("""class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)
    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)
""", "LegendrePolynomial3.apply(ARG)"),
    "ClipGrad": ("""class ClipGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()
    @staticmethod
    def backward(ctx, g):
        return g.clamp(-0.3, 0.3)
""", "ClipGrad.apply(ARG)"),
    "STE": ("""class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x * 4)
    @staticmethod
    def backward(ctx, g):
        return g * 4
""", "RoundSTE.apply(ARG)"),
    "MulConst": ("""class MulConst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k
    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None
""", "MulConst.apply(ARG, 3.0)"),
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
    "Setup": ("""class Cube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x ** 3
    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        ctx.save_for_backward(x)
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * g * x ** 2
""", "Cube.apply(ARG)"),
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
    "Intermediate": ("""class Soft(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(x)
        ctx.save_for_backward(e)
        return torch.log1p(e)
    @staticmethod
    def backward(ctx, g):
        e, = ctx.saved_tensors
        return g * e / (1 + e)
""", "Soft.apply(ARG)"),
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
    "SinCos": ("""class SinCos(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x), torch.cos(x)
    @staticmethod
    def backward(ctx, gs, gc):
        x, = ctx.saved_tensors
        return gs * torch.cos(x) - 2 * gc * torch.sin(x)
""", "SinCos.apply(ARG)[0] * SinCos.apply(ARG)[1]"),
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
    "Needs": ("""class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y
    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * y
        if ctx.needs_input_grad[1]:
            gy = g * x
        return gx, gy
""", "Mul.apply(ARG, torch.tensor([1.0, 2.0, 3.0]))"),
}
TORCH_USES = ["CALL", "torch.sin(CALL) * x", "(CALL ** 2).sum()", "CALL.sum() * x[0]"]
TORCH_ARGS = ["x", "x * 2"]

JAX_HEAD = "import jax\nimport jax.numpy as jnp\nfrom functools import partial\n"
JAX_RULES = {
    "sin_times": ("""@jax.custom_vjp
def f(x, y):
    return jnp.sin(x) * y
def f_fwd(x, y):
    return f(x, y), (jnp.cos(x), jnp.sin(x), y)
def f_bwd(res, g):
    cos_x, sin_x, y = res
    return (cos_x * g * y, sin_x * g)
f.defvjp(f_fwd, f_bwd)
""", "f(ARG, jnp.exp(ARG))"),
    "clip_gradient": ("""@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def clip_gradient(lo, hi, x):
    return x
def clip_gradient_fwd(lo, hi, x):
    return x, None
def clip_gradient_bwd(lo, hi, _, g):
    return (jnp.clip(g, lo, hi),)
clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)
""", "clip_gradient(-0.4, 0.4, ARG)"),
    "log1pexp": ("""def log1pexp(x):
    return jnp.log1p(jnp.exp(x))
log1pexp = jax.custom_vjp(log1pexp)
def fwd(x):
    return log1pexp(x), x
def bwd(x, g):
    return (g * (1 - 1 / (1 + jnp.exp(x))),)
log1pexp.defvjp(fwd, bwd)
""", "log1pexp(ARG)"),
    "wrong": ("""@jax.custom_vjp
def s(x):
    return jnp.sin(x)
def s_fwd(x):
    return jnp.sin(x), jnp.cos(x)
def s_bwd(c, g):
    return (2.0 * c * g,)
s.defvjp(s_fwd, s_bwd)
""", "s(ARG)"),
    "dict_res": ("""@jax.custom_vjp
def h(x):
    return x ** 3
def h_fwd(x):
    return x ** 3, {'x': x, 'sq': x * x}
def h_bwd(r, g):
    return (3.0 * r['sq'] * g,)
h.defvjp(h_fwd, h_bwd)
""", "h(ARG)"),
    "jvp_log1pexp": ("""@jax.custom_jvp
def log1pexp(x):
    return jnp.log(1. + jnp.exp(x))
@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    x, = primals
    x_dot, = tangents
    ans = log1pexp(x)
    ans_dot = (1 - 1 / (1 + jnp.exp(x))) * x_dot
    return ans, ans_dot
""", "log1pexp(ARG)"),
    "jvp_wrong": ("""@jax.custom_jvp
def c(x):
    return jnp.cos(x)
@c.defjvp
def c_jvp(primals, tangents):
    x, = primals
    t, = tangents
    return jnp.cos(x), jnp.sin(x) * t
""", "c(ARG)"),
    "jvps_two": ("""def g(x, y):
    return jnp.sin(x) * y
g = jax.custom_jvp(g)
g.defjvps(lambda t, ans, x, y: jnp.cos(x) * t * y, lambda t, ans, x, y: 3.0 * jnp.sin(x) * t)
""", "g(ARG, jnp.exp(ARG))"),
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
