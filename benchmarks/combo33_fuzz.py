"""Session 33's new readings combined, against the libraries (h33e-combo): random programs that chain
value-dependent control flow (a Python ``if``, ``jax.lax.cond`` / ``switch`` / ``while_loop``, ``torch.cond`` /
``torch.while_loop``, an int read off the values), probability densities (``torch.distributions``,
``scipy.stats``, ``jax.scipy.stats``), ``np.piecewise`` / ``jnp.piecewise`` with functions, nested Python lists
written as DP tables, ``scipy.linalg`` / ``jax.scipy.linalg``, ``lstsq``'s 4-tuple, ``jax.jit`` /
``jax.checkpoint`` / ``jax.grad`` and names bound by imports (``import scipy.linalg as sla``, ``from
torch.distributions import Normal``), each inside functions and loops, with ordinary ops between them:

    PYTHONPATH=. /work/venv/bin/python benchmarks/combo33_fuzz.py [--seeds 0 1 2] [--count 40] [-k LIB] [-v]

Each program has inputs ``x`` and ``w`` (4 elements each) and is run by jac (the Python API) and by the library:
PyTorch float64 eager autograd (``torch.autograd.functional.jacobian`` / ``hessian``; through ``torch.cond`` the
Hessian is central differences of PyTorch's gradient, as PyTorch's second derivative there is 0; through
``torch.while_loop`` every derivative is central differences of PyTorch's values, as PyTorch 2.13's gradient of a
loop that runs no step is one step's, 1.5 for ``u * 1.5 + 0.2``, where it is 1), JAX x64
(``jax.jacrev``, ``jax.hessian``; ``jacfwd`` where a while_loop is, which JAX's reverse mode refuses; in a spawned
process), NumPy / SciPy values with central differences for the derivatives. Compared: the value, the Jacobian
by each input, a VJP and (scalar outputs) the Hessian at ``x1``; the value and Jacobian again (the first two calls
are the interpreter's, the third a kernel's); then at a second point ``x2 = -x1`` (a graph built at the values must
be built again or refuse, never reuse the first point's branch) and once more at ``x1``.

Outcomes: AGREE, REFUSED (a JacError at x1; or at x2 only: ``REFUSED@x2``), WRONG, CRASH (not a JacError),
REF-FAIL (the library raised: the program is not valid there), LENIENT (jac answered where the library raised).
Exit 1 on WRONG, CRASH or LENIENT. Run by hand.
"""
from __future__ import annotations

import argparse
import signal
import sys
import traceback
from dataclasses import dataclass, field

import numpy as np

from fuzzkit import central_columns, close_scaled as close, numpy_function, spawned_pool, split_program as _split

N = 4


@dataclass
class Program:
    name: str
    lib: str
    code: str
    scalar: bool
    stages: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- grammar
FUNS = {
    "torch": ["torch.sin({})", "torch.tanh({})", "({}) ** 2 / 3", "torch.exp(-({}) ** 2)", "({}) * w",
              "torch.sigmoid({}) - 0.5", "F.softplus({}) - 0.5"],
    "jax": ["jnp.sin({})", "jnp.tanh({})", "({}) ** 2 / 3", "jnp.exp(-({}) ** 2)", "({}) * w",
            "jax.nn.sigmoid({}) - 0.5", "jax.nn.softplus({}) - 0.5"],
    "numpy": ["np.sin({})", "np.tanh({})", "({}) ** 2 / 3", "np.exp(-({}) ** 2)", "({}) * w",
              "np.cos({}) - 0.5", "np.log1p(({}) ** 2)"],
}
HEADS = {
    "torch": "import torch\nimport torch.nn.functional as F\n",
    "jax": "import jax\nimport jax.numpy as jnp\nfrom jax import lax\n",
    "numpy": "import numpy as np\nimport scipy\n",
}


class Gen:
    def __init__(self, rng, lib):
        self.r, self.lib = rng, lib
        self.imports: list[str] = []
        self.k = 0

    def f(self, v="h"):
        return self.r.choice(FUNS[self.lib]).format(v)

    def c(self):
        return f"{self.r.uniform(-0.5, 0.5):.2f}"

    def fresh(self, base):
        self.k += 1
        return f"{base}{self.k}"

    def imp(self, line):
        if line not in self.imports:
            self.imports.append(line)

    # each stage: lines acting on the vector named v (4 elements), keeping it a 4-vector
    def stage(self, v, depth=0):
        table = getattr(self, f"stages_{self.lib}")()
        name = self.r.choice(sorted(table))
        if depth == 0 and self.r.random() < 0.25:  # in a function called in a loop
            g = self.fresh("g")
            inner, used = self.stage("v", depth + 1)
            body = [f"def {g}(v):"] + ["    " + line for line in inner] + ["    return v"]
            return body + [f"for _ in range({self.r.integers(1, 3)}):", f"    {v} = {g}({v})"], f"fn({used})"
        if depth == 0 and self.r.random() < 0.2:  # inside a value-dependent if
            inner, used = self.stage(v, depth + 1)
            test = self.r.choice([f"{v}.sum() > {self.c()}", f"{v}[0] > {v}[1]", f"({v} ** 2).sum() > 1.0"])
            return ([f"if {test}:"] + ["    " + line for line in inner] +
                    ["else:", f"    {v} = {self.f(v)}"]), f"if({used})"
        return table[name](v), name

    # ---- PyTorch
    def stages_torch(self):
        r = self

        def normal(v):
            spell = r.r.choice(["torch.distributions.Normal", "Normal", "D.Normal"])
            if spell == "Normal":
                r.imp("from torch.distributions import Normal")
            if spell == "D.Normal":
                r.imp("import torch.distributions as D")
            return [f"{v} = {v} + 0.1 * {spell}({v}, 1.0 + w ** 2).log_prob(x)"]

        def laplace(v):
            return [f"{v} = {v} + 0.1 * torch.distributions.Laplace({v}, torch.exp(0.3 * w)).log_prob(x)"]

        def mvn(v):
            L = r.fresh("L")
            return [f"{L} = torch.diag(torch.exp(0.2 * w)) + 0.1 * torch.tril(torch.outer(x, w), -1)",
                    f"{v} = {v} + 0.1 * torch.distributions.MultivariateNormal({v}, scale_tril={L}).log_prob(x)"]

        def kl(v):
            return [f"p = torch.distributions.Normal({v}, 1.0 + w ** 2)",
                    f"{v} = {v} + 0.1 * torch.distributions.kl_divergence(p, torch.distributions.Normal(x, 1.5))"]

        def entropy(v):
            return [f"{v} = {v} * torch.distributions.Normal(x, 1.0 + {v} ** 2).entropy().mean()"]

        def pyif(v):
            return [f"if {v}.sum() > {r.c()}:", f"    {v} = {r.f(v)}", "else:", f"    {v} = {r.f(v)}"]

        def cond(v):
            return [f"{v} = torch.cond({v}.sum() > {r.c()}, lambda u: {r.f('u')}, lambda u: {r.f('u')}, ({v},))"]

        def while_(v):
            return [f"{v} = torch.while_loop(lambda u: u.abs().sum() < 6.0, lambda u: (u * 1.5 + 0.2,), ({v},))[0]"]

        def dp(v):
            R = r.fresh("R")
            out = r.r.choice([f"{v} = {v} + 0.1 * {R}[1][{N}]", f"{v} = torch.stack({R}[1][1:])"])
            return [f"{R} = [[0.0] * {N + 1} for _ in range(2)]",
                    f"for j in range({N}):",
                    f"    {R}[0][j + 1] = {R}[0][j] + {v}[j]",
                    f"    {R}[1][j + 1] = torch.logsumexp(torch.stack([{R}[0][j] + w[j], {R}[1][j] + {v}[j]]), 0)",
                    out]

        def lstsq(v):
            return [f"A = torch.stack([{v}, torch.sin(w), torch.ones({N})], 1)",
                    "sol, res, rank, sv = torch.linalg.lstsq(A, x[:, None])",
                    f"{v} = {v} + 0.5 * (A @ sol)[:, 0]"]

        def runint(v):
            return [f"k = int(({v} > 0).sum())", "for _ in range(k):", f"    {v} = torch.tanh({v}) + 0.1 * {v}"]

        def argidx(v):
            return [f"i = int(torch.argmax({v}))", f"{v} = {v} * {v}[i] + torch.roll({v}, i)"]

        def lptest(v):
            return [f"if torch.distributions.Normal(x, 1.0).log_prob({v}).sum() > -6.0:",
                    f"    {v} = {r.f(v)}", "else:", f"    {v} = torch.cond({v}[0] > 0, lambda u: {r.f('u')}, "
                    f"lambda u: {r.f('u')}, ({v},))"]

        def prefix(v):
            return [f"k = int(({v} > 0).sum())", f"{v} = {v} + {v}[:k].sum() - torch.cat([{v}[k:], {v}[:k]]) * 0.3"]

        return dict(normal=normal, laplace=laplace, mvn=mvn, kl=kl, entropy=entropy, pyif=pyif, cond=cond,
                    while_=while_, dp=dp, lstsq=lstsq, runint=runint, argidx=argidx, lptest=lptest, prefix=prefix)

    # ---- JAX
    def stages_jax(self):
        r = self

        def cond(v):
            return [f"{v} = lax.cond({v}.sum() > {r.c()}, lambda u: {r.f('u')}, lambda u: {r.f('u')}, {v})"]

        def switch(v):
            fs = ", ".join(f"lambda u: {r.f('u')}" for _ in range(N))
            return [f"{v} = lax.switch(jnp.argmax({v}), [{fs}], {v})"]

        def while_(v):
            return [f"{v} = lax.while_loop(lambda u: jnp.sum(jnp.abs(u)) < 6.0, lambda u: u * 1.5 + 0.2, {v})"]

        def grad_cond(v):
            return [f"{v} = {v} + 0.1 * jax.grad(lambda t: lax.cond(t.sum() > {r.c()}, lambda u: jnp.sum(u ** 3), "
                    f"lambda u: jnp.sum(jnp.sin(u)), t))({v})"]

        def grad_if(v):
            return [f"{v} = {v} + 0.1 * jax.grad(lambda t: jnp.sum(t ** 3) / 3 if t[0] > t[1] "
                    f"else jnp.sum(jnp.cos(t) * w))({v})"]

        def norm(v):
            spell = r.r.choice(["jax.scipy.stats.norm", "norm", "jst.norm"])
            if spell == "norm":
                r.imp("from jax.scipy.stats import norm")
            if spell == "jst.norm":
                r.imp("import jax.scipy.stats as jst")
            return [f"{v} = {v} + 0.1 * {spell}.logpdf(x, {v}, 1.0 + w ** 2)"]

        def mvn(v):
            return [f"K = 2.0 * jnp.eye({N}) + 0.1 * jnp.outer(w, w)",
                    f"{v} = {v} + 0.1 * jax.scipy.stats.multivariate_normal.logpdf(x, {v}, K)"]

        def jit(v):
            wrap = r.r.choice(["jax.jit", "jax.checkpoint"])
            inner = r.r.choice([r.f("u"), f"lax.cond(u.sum() > 0, lambda t: {r.f('t')}, lambda t: {r.f('t')}, u)"])
            return [f"{v} = {wrap}(lambda u: {inner})({v})"]

        def piecewise(v):
            return [f"{v} = jnp.piecewise({v}, [{v} < 0, {v} >= 0.5], [lambda t: t ** 2, jnp.sin, lambda t: 0.5 * t])"]

        def lstsq(v):
            return [f"A = jnp.stack([{v}, jnp.sin(w), jnp.ones({N})], 1)",
                    "sol, res, rank, sv = jnp.linalg.lstsq(A, x)",
                    f"{v} = {v} + 0.5 * (A @ sol) + 0.1 * res"]

        def cho(v):
            spell = r.r.choice(["jax.scipy.linalg", "jsl"])
            if spell == "jsl":
                r.imp("import jax.scipy.linalg as jsl")
            return [f"K = 2.0 * jnp.eye({N}) + 0.1 * jnp.outer(w, w) + jnp.diag({v} ** 2)",
                    f"{v} = {spell}.cho_solve((jnp.linalg.cholesky(K), True), x + {v})"]

        def dp(v):
            R = r.fresh("R")
            return [f"{R} = [[0.0] * {N + 1} for _ in range(2)]",
                    f"for j in range({N}):",
                    f"    {R}[0][j + 1] = {R}[0][j] + {v}[j]",
                    f"    {R}[1][j + 1] = jnp.logaddexp({R}[0][j] + w[j], {R}[1][j] + {v}[j])",
                    f"{v} = {v} + 0.1 * {R}[1][{N}]"]

        def pyif(v):
            return [f"if {v}.sum() > {r.c()}:", f"    {v} = {r.f(v)}", "else:", f"    {v} = {r.f(v)}"]

        def runint(v):
            return [f"k = int(({v} > 0).sum())", "for _ in range(k):", f"    {v} = jnp.tanh({v}) + 0.1 * {v}"]

        def vmap_cond(v):
            return [f"{v} = jax.vmap(lambda t, s: lax.cond(t > s, lambda u: {r.f('u')}, lambda u: {r.f('u')}, t))"
                    f"({v}, w)"]

        def grad_stats(v):
            return [f"{v} = {v} + 0.1 * jax.grad(lambda t: jnp.sum(jax.scipy.stats.norm.logpdf(x, t, 1.0 + w ** 2)) "
                    f"if t.sum() > 0 else jnp.sum(jnp.piecewise(t, [t < 0], [jnp.sin, lambda u: u ** 2])))({v})"]

        def switch_int(v):
            return [f"i = int(jnp.argmax({v}))", f"{v} = lax.switch(i % 3, [jnp.sin, jnp.cos, jnp.tanh], {v}) * {v}[i]"]

        return dict(cond=cond, switch=switch, while_=while_, grad_cond=grad_cond, grad_if=grad_if, norm=norm,
                    mvn=mvn, jit=jit, piecewise=piecewise, lstsq=lstsq, cho=cho, dp=dp, pyif=pyif, runint=runint,
                    vmap_cond=vmap_cond, grad_stats=grad_stats, switch_int=switch_int)

    # ---- NumPy / SciPy
    def stages_numpy(self):
        r = self

        def piecewise(v):
            return [f"{v} = np.piecewise({v}, [{v} < 0, {v} >= 0.5], [lambda t: t ** 2, np.sin, lambda t: 0.5 * t])"]

        def linalg_name(name):
            spell = r.r.choice(["scipy.linalg.", "sla.", ""])
            if spell == "sla.":
                r.imp("import scipy.linalg as sla")
            if spell == "":
                r.imp(f"from scipy.linalg import {name}")
            return spell + name

        def cho(v):
            K = r.fresh("K")
            return [f"{K} = 0.1 * np.outer(w, w) + 2.0 * np.eye({N}) + np.diag({v} ** 2)",
                    f"{v} = {linalg_name('cho_solve')}({linalg_name('cho_factor')}({K}), x + {v})"]

        def solve(v):
            K = r.fresh("K")
            call = r.r.choice([f"{linalg_name('solve')}({K}, {v}, assume_a='pos')",
                               f"{linalg_name('solve_triangular')}(np.tril({K}), {v}, lower=True)",
                               f"{linalg_name('expm')}(0.1 * np.outer({v}, w)) @ x",
                               f"{linalg_name('inv')}({K}) @ {v}"])
            return [f"{K} = 0.1 * np.outer(w, x) + 2.0 * np.eye({N}) + np.diag({v} ** 2)", f"{v} = {call}"]

        def stats(v):
            spell = r.r.choice(["scipy.stats.norm", "norm", "st.norm"])
            if spell == "norm":
                r.imp("from scipy.stats import norm")
            if spell == "st.norm":
                r.imp("import scipy.stats as st")
            if spell == "scipy.stats.norm":
                r.imp("import scipy.stats")
            return [f"{v} = {v} + 0.1 * {spell}.logpdf(x, loc={v}, scale=1.0 + w ** 2)"]

        def mvn(v):
            r.imp("import scipy.stats")
            return [f"K = 2.0 * np.eye({N}) + 0.1 * np.outer(w, w)",
                    f"{v} = {v} + 0.1 * scipy.stats.multivariate_normal.logpdf(x, {v}, K)"]

        def lstsq(v):
            fn = r.r.choice(["np.linalg.lstsq(A, x, rcond=None)", f"{linalg_name('lstsq')}(A, x)"])
            return [f"A = np.stack([{v}, np.sin(w), np.ones({N})], 1)",
                    f"sol, res, rank, sv = {fn}",
                    f"{v} = {v} + 0.5 * (A @ sol) + 0.1 * res"]

        def dp(v):
            R = r.fresh("R")
            r.imp("from scipy.special import logsumexp")
            return [f"{R} = [[0.0] * {N + 1} for _ in range(2)]",
                    f"for j in range({N}):",
                    f"    {R}[0][j + 1] = {R}[0][j] + {v}[j]",
                    f"    {R}[1][j + 1] = np.logaddexp({R}[0][j] + w[j], {R}[1][j] + {v}[j])",
                    f"{v} = {v} + 0.1 * logsumexp(np.array({R}[1]))"]

        def pyif(v):
            return [f"if {v}.sum() > {r.c()}:", f"    {v} = {r.f(v)}", "else:", f"    {v} = {r.f(v)}"]

        def runint(v):
            return [f"k = int(({v} > 0).sum())", "for _ in range(k):", f"    {v} = np.tanh({v}) + 0.1 * {v}"]

        def argidx(v):
            return [f"i = int(np.argmax({v}))", f"{v} = {v} * {v}[i] + np.roll({v}, i)"]

        def lptest(v):
            r.imp("import scipy.stats")
            return [f"if scipy.stats.norm.logpdf({v}, x, 1.0).sum() > -6.0:",
                    f"    {v} = np.piecewise({v}, [{v} < 0], [np.sin, lambda t: t ** 3])", "else:",
                    f"    {v} = {r.f(v)}"]

        def prefix(v):
            return [f"k = int(({v} > 0).sum())",
                    f"{v} = {v} + {v}[:k].sum() - np.concatenate([{v}[k:], {v}[:k]]) * 0.3"]

        return dict(piecewise=piecewise, cho=cho, solve=solve, stats=stats, mvn=mvn, lstsq=lstsq, dp=dp,
                    pyif=pyif, runint=runint, argidx=argidx, lptest=lptest, prefix=prefix)

    def program(self, name):
        lines = ["h = x * 1.0"]
        used = []
        for _ in range(self.r.integers(2, 5)):
            if self.r.random() < 0.4:
                lines.append(f"h = {self.f('h')}")
            more, what = self.stage("h")
            lines += more
            used.append(what)
        scalar = self.r.random() < 0.75
        last = {"torch": ["h.sum()", "torch.logsumexp(h, 0)", "(h ** 2).mean()", "(h * w).sum()"],
                "jax": ["h.sum()", "jax.scipy.special.logsumexp(h)", "(h ** 2).mean()", "(h * w).sum()"],
                "numpy": ["h.sum()", "np.log(np.exp(h).sum())", "(h ** 2).mean()", "(h * w).sum()"]}[self.lib]
        lines.append(self.r.choice(last) if scalar else "h")
        code = HEADS[self.lib] + "".join(line + "\n" for line in self.imports) + "\n".join(lines)
        return Program(name, self.lib, code, scalar, used)


def programs(seed, count, libs):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        lib = libs[i % len(libs)]
        out.append(Gen(rng, lib).program(f"s{seed}-{i}-{lib}"))
    return out


def points(seed, i):
    rng = np.random.default_rng([seed, i, 33])
    x1, w = rng.uniform(-1.2, 1.2, N), rng.uniform(-1, 1, N)
    return {"x": x1, "w": w}, {"x": -x1, "w": w}


# ---------------------------------------------------------------------------------------------- references
def torch_reference(code, inputs, scalar):
    import torch
    torch.set_default_dtype(torch.float64)
    body, last = _split(code)

    def f(x, w):
        scope = {"x": x, "w": w, "_while_loop": _while_loop}
        exec(body, scope)  # noqa: S102
        return eval(last, scope)  # noqa: S307

    args = tuple(torch.tensor(inputs[k]) for k in ("x", "w"))
    value = f(*args).detach().numpy()
    if scalar is None:
        return {"value": value}
    if "torch.while_loop" in code:  # PyTorch 2.13's gradient of a while_loop that runs no step is one step's;
        # differences of the loop run by Python (PyTorch's eager loop, without its tracing's second per call)
        python = code.replace("torch.while_loop(", "_while_loop(")
        return _central_reference(lambda v: torch_reference(python, v, None)["value"], inputs, scalar, value)
    J = torch.autograd.functional.jacobian(f, args)
    out = {"value": value, "jacobian": {k: j.numpy() for k, j in zip(("x", "w"), J)}}
    if scalar:
        if "torch.cond" in code:  # PyTorch's second derivative through torch.cond is 0: central differences
            # of its gradient, the text compiled afresh at each point: compiled once, its gradients at nearby
            # points differed from these (a cache of what torch.cond traced, it seems)
            def grad(values):
                J = torch_reference(code, values, False)["jacobian"]
                return np.concatenate([J["x"].ravel(), J["w"].ravel()])
            out["hessian"], out["central"] = _blocks(_central(grad, inputs, 1e-5)), True
        else:
            H = torch.autograd.functional.hessian(f, args)
            out["hessian"] = {(a, b): H[i][j].numpy() for i, a in enumerate("xw") for j, b in enumerate("xw")}
    return out


def _while_loop(cond, body, carry):
    while cond(*carry):
        carry = body(*carry)
    return carry


def jax_reference(code, inputs, scalar):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    body, last = _split(code)
    try:
        def f(x, w):
            scope = {"x": x, "w": w}
            exec(body, scope)  # noqa: S102
            return jnp.asarray(eval(last, scope), dtype=jnp.float64)  # noqa: S307

        args = tuple(jnp.asarray(inputs[k]) for k in ("x", "w"))
        forward = "while_loop" in code
        d = jax.jacfwd if forward else jax.jacrev
        out = {"value": np.asarray(f(*args)),
               "jacobian": {k: np.asarray(j) for k, j in zip(("x", "w"), d(f, argnums=(0, 1))(*args))}}
        if scalar:
            H = jax.jacfwd(d(f, argnums=(0, 1)), argnums=(0, 1))(*args)
            out["hessian"] = {(a, b): np.asarray(H[i][j]) for i, a in enumerate("xw") for j, b in enumerate("xw")}
        return out
    except Exception as e:  # noqa: BLE001 - reported as REF-FAIL
        return f"{type(e).__name__}: {e}"[:300]


def _central(fn, inputs, h):
    """d fn / d (x, w) by central differences: shape fn's size × 8."""
    return central_columns(fn, inputs, h, ("x", "w"))


def _central_reference(f, inputs, scalar, value):
    J = _central(f, inputs, 1e-6).reshape(np.shape(value) + (2 * N,))
    out = {"value": value, "jacobian": {"x": J[..., :N], "w": J[..., N:]}, "central": True}
    if scalar:
        out["hessian"] = _blocks(_central(lambda v: _central(f, v, 1e-4), inputs, 1e-4))
    return out


def _blocks(H):
    return {(a, b): H[i * N:(i + 1) * N, j * N:(j + 1) * N] for i, a in enumerate("xw") for j, b in enumerate("xw")}


def numpy_reference(code, inputs, scalar):
    f = numpy_function(code)
    return _central_reference(f, inputs, scalar, f(inputs))


# ---------------------------------------------------------------------------------------------- jac
class _Late(BaseException):
    pass


def _alarm(*_):
    raise _Late


def run_jac(p, x1, x2):
    """jac's answers: at x1 (value, Jacobian, VJP, Hessian), again twice (kernels), at x2, at x1 once more."""
    from jacobi_cli import errors
    from jacobi_cli.tools import api
    got = {}
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    where, v = "x1", None
    try:
        v = np.random.default_rng(7).standard_normal(np.shape(api.evaluate(p.code, x1)))
        got["x1"] = _answers(api, p, x1, v)
        where = "x1 again"
        got["x1 again"] = _answers(api, p, x1, v, hessian=False)
        got["x1 third"] = _answers(api, p, x1, v, hessian=False)
        where = "x2"
        got["x2"] = _answers(api, p, x2, v)
        got["x2 again"] = _answers(api, p, x2, v, hessian=False)
        got["x2 third"] = _answers(api, p, x2, v, hessian=False)
        where = "x1 last"
        got["x1 last"] = _answers(api, p, x1, v, hessian=False)
        return "ok", "", got, v
    except errors.JacError as e:
        return ("REFUSED" if where == "x1" else f"REFUSED@{where}"), str(e).splitlines()[0][:240], got, v
    except _Late:
        return "CRASH", f"timeout at {where}", got, None
    except Exception:  # noqa: BLE001 - the fuzz's point
        return "CRASH", f"at {where}: " + traceback.format_exc(limit=-2).strip().splitlines()[-1][:240], got, None
    finally:
        signal.alarm(0)


def _answers(api, p, at, v, hessian=True):
    out = {"value": np.asarray(api.evaluate(p.code, at)),
           "jacobian": {k: np.asarray(j) for k, j in api.jacobian(p.code, at).items()},
           "vjp": {k: np.asarray(j) for k, j in api.vjp(p.code, at, v=v).items()}}
    if hessian and p.scalar:
        out["hessian"] = {k: np.asarray(h) for k, h in api.hessian(p.code, at).items()}
    return out


def compare(mine, ref, v, lib):
    """The first disagreement of jac's answers at one point with the reference's, or ''."""
    rtol = 1e-5 if ref.get("central") else 1e-9
    if not close(mine["value"], ref["value"], rtol):
        return f"value {np.ravel(mine['value'])[:3]} vs {np.ravel(ref['value'])[:3]}"
    for k, J in ref["jacobian"].items():
        if not close(mine["jacobian"].get(k), J, rtol):
            return f"d/d{k}: max difference {np.max(np.abs(np.asarray(mine['jacobian'].get(k)) - J))}"
        want = np.tensordot(v, J, axes=v.ndim)
        if not close(mine["vjp"].get(k), want, rtol):
            return f"vjp {k}: {np.ravel(mine['vjp'].get(k))[:3]} vs {np.ravel(want)[:3]}"
    for k, H in ref.get("hessian", {}).items():
        if "hessian" in mine:
            htol = 1e-3 if ref.get("central") else 1e-8
            if not close(mine["hessian"].get(k), H, htol):
                return f"hessian {k}: max difference {np.max(np.abs(np.asarray(mine['hessian'].get(k)) - H))}"
    return ""


def classify(p, mine, refs):
    status, why, answered, v = mine
    if status != "ok" and not status.startswith("REFUSED@"):
        return status, why
    if isinstance(refs["x1"], str):
        return "LENIENT", refs["x1"]  # jac answered at x1 where the library raised
    for key, answer in answered.items():
        ref = refs[key.split()[0]]
        if isinstance(ref, str):
            return "LENIENT", f"{key}: {ref}"
        found = compare(answer, ref, v, p.lib)
        if found:
            return "WRONG", f"{key}: {found}"
    return ("AGREE", "") if status == "ok" else (status, why)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--count", type=int, default=45)
    parser.add_argument("-k", default="", help="torch, jax or numpy")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    libs = [lib for lib in ("torch", "jax", "numpy") if args.k in lib]
    todo = [(p, seed, i) for seed in args.seeds for i, p in enumerate(programs(seed, args.count, libs))]
    counts: dict = {}
    stage_counts: dict = {}
    with spawned_pool() as pool:
        futures = {}
        for p, seed, i in todo:
            if p.lib == "jax":
                x1, x2 = points(seed, i)
                futures[p.name] = (pool.submit(jax_reference, p.code, x1, p.scalar),
                                   pool.submit(jax_reference, p.code, x2, p.scalar))
        for p, seed, i in todo:
            x1, x2 = points(seed, i)
            mine = run_jac(p, x1, x2)
            if mine[0] == "ok" or mine[0].startswith("REFUSED@"):
                if p.lib == "jax":
                    refs = {"x1": futures[p.name][0].result(), "x2": futures[p.name][1].result()}
                else:
                    refs = {}
                    for key, at in (("x1", x1), ("x2", x2)):
                        try:
                            fn = torch_reference if p.lib == "torch" else numpy_reference
                            refs[key] = fn(p.code, at, p.scalar)
                        except Exception as e:  # noqa: BLE001
                            refs[key] = f"{type(e).__name__}: {e}"[:300]
                outcome, why = classify(p, mine, refs)
            else:
                outcome, why = mine[0], mine[1]
            kind = outcome.split("@")[0]
            counts[kind] = counts.get(kind, 0) + 1
            for s in p.stages:
                stage_counts.setdefault((p.lib, s.split("(")[-1].rstrip(")")), {}).setdefault(kind, 0)
                stage_counts[(p.lib, s.split("(")[-1].rstrip(")"))][kind] += 1
            if outcome != "AGREE" or args.v:
                print(f"{outcome:10} {p.name} {p.stages}: {why}")
                if outcome in ("WRONG", "CRASH", "LENIENT") or args.v:
                    print("    " + p.code.split("\n", 3)[-1].replace("\n", "\n    "))
            sys.stdout.flush()
    print(f"seeds {args.seeds}, {len(todo)} programs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.v:
        for key, c in sorted(stage_counts.items()):
            print(f"  {key[0]:6} {key[1]:10} {c}")
    return 1 if counts.get("WRONG") or counts.get("CRASH") or counts.get("LENIENT") else 0


if __name__ == "__main__":
    sys.exit(main())
