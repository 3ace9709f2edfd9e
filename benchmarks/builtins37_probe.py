"""Session 37's probe of Python's builtins applied to arrays in library-spelled programs (h37-builtins): each text
imports torch, numpy or jax.numpy and is run by Python itself (PyTorch float64 tensors, NumPy arrays, JAX float64
arrays) and by the jac of the checkout TREE: values compared (rtol 1e-12), jac's Jacobian by every input against
central differences of Python's own run (and PyTorch's autograd for PyTorch's texts).

    /work/venv/bin/python benchmarks/builtins37_probe.py TREE [-v]

Outcomes: AGREE; REFUSED (both refuse: Python raises, jac refuses); WRONG (another value or Jacobian, or jac
answers where Python raises: a silent difference); JAC-REFUSES-WHERE-LIB-ANSWERS; CRASH (not a JacError);
DETACHED (the value agrees, and the Jacobian is PyTorch's autograd's where float() / int() / bool() of an element
is a number with no derivative, as .item(): central differences see the number move, autograd does not).
Run by hand, never as a test.
"""
import collections
import functools
import itertools
import math
import operator
import re
import sys

import numpy as np
import torch

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

sys.path.insert(0, sys.argv[1])
import jacobi_cli  # noqa: E402
from jacobi_cli import errors  # noqa: E402

INPUTS = {
    "x": np.array([0.3, -1.4, 2.2, 0.7]),  # no integers or halves: round, int, divmod are smooth here
    "y": np.array([1.2, 0.35, -0.8, 0.1]),
    "A": np.array([[1.1, 0.45, -0.2], [-0.3, 2.05, 0.4]]),
    "B": np.array([[0.2, -1.0, 0.6], [0.7, 0.4, -0.5]]),
    "T": np.arange(12.0).reshape(2, 3, 2) / 7 - 0.5,
    "s": np.array(0.8),
}
HEADS = {"torch": "import torch\n", "numpy": "import numpy as np\n", "jax": "import jax.numpy as jnp\n"}
MOD = {"torch": "torch", "numpy": "np", "jax": "jnp"}

# one template per line; {m} is the library's module name
TEMPLATES = [
    # sum: Python adds the rows
    "sum(A)", "sum(A, 1.0)", "sum(A, start=x[:3])", "sum(x)", "sum(x, 2.0)", "sum(T)", "sum(A * A)",
    "sum(sum(A))", "sum(A) * 2", "sum({m}.sin(A))", "sum(A.T)", "sum(A[0])", "sum(s)", "sum(x.sum())",
    "sum(A[:1])", "sum(A, B[0])", "sum(r * r for r in A)", "sum([A, B])", "sum(A).sum()", "sum(T)[0]",
    "sum(A @ B.T)", "y0 = sum(A)\ny0 * x[:3]", "def f(M):\n    return sum(M)\nf(A)", "sum(abs(A))",
    "sum(list(A))",
    # max / min
    "max(x)", "min(x)", "max(A)", "min(A)", "max(A[:1])", "max(T)", "max(x) - min(x)", "max(x[0], x[1])",
    "max(x[0], 1.0)", "min(x[0], x[1], x[2])", "max(x, key=abs)", "min(x, key=lambda v: -v)", "max(A, key=sum)",
    "max(x, default=0.0)", "max(s)", "max(x.sum(), 0.0)", "max([x[0], x[3]])", "max(A[0] * 2)",
    "min(list(x))", "max(abs(x))",
    # abs, round, pow, divmod
    "abs(x)", "abs(A)", "abs(x[0]) * x", "round(x)", "round(x[0])", "round(x, 1)", "round(A)",
    "round(x.sum(), 2) * x", "pow(x, 2)", "pow(A, 3)", "pow(2.0, x)", "pow(x, 2, 3)", "pow(x[0], 2) * x",
    "divmod(x, 2.0)[1]", "divmod(x, 2.0)[0] + x", "divmod(x[0], 0.25)[1] * x",
    # len, list, tuple
    "len(A) * x", "len(x) * x", "len(T) * A", "len(s) * x", "len(A[0]) * x", "list(A)[1]", "list(x)[2] * A",
    "len(list(A)) * x", "tuple(A)[0] + tuple(A)[1]", "list(T)[1]", "list(s)[0]", "a, b = A\na * b",
    "a, b, c, d = x\na * d - b * c", "p, q = A.T[:2]\np @ q",
    # sorted, reversed
    "sorted(x)[0]", "sum(sorted(x))", "sorted(x, reverse=True)[0] * x", "sorted(A)[0]", "sorted(A.shape)[0] * x",
    "reversed(x)", "list(reversed(x))[0]", "sum(reversed(x))", "list(reversed(A))[0]", "reversed(A)",
    "sum(v * i for i, v in enumerate(reversed(x)))",
    # any / all
    "any(x > 0) * x", "all(x > 0) * x", "any(A > 0) * x", "all(A > 0) * x", "any(x > 5) * x + all(x > -5) * x",
    "any(x) * x", "all(A[0] > 0) * A", "any([x[0] > 0, x[1] > 0]) * x", "any(s > 0) * x", "all(A[:1] > -9) * x",
    # float / int / bool
    "float(x[0]) * x", "float(x) * x", "float(A) * x", "int(x[2]) * x", "int(x) * x", "float(s) * x",
    "bool(x[0] > 0) * x", "bool(x > 0) * x", "float(x.sum()) * x", "float(A[:1, :1]) * x",
    # zip, enumerate, map over rows
    "sum(a @ b for a, b in zip(A, B))", "sum(a * b for a, b in zip(x, y))", "{m}.stack([a - b for a, b in zip(A, B)])",
    "sum(i * r for i, r in enumerate(A))", "sum(i * v for i, v in enumerate(x, 1))",
    "{m}.stack(list(map(lambda r: r * r, A)))", "sum(map(lambda r: (r ** 2).sum(), A))",
    "sum(map({m}.sin, x))", "sum(map(abs, A))", "{m}.stack([r for r in A])", "sum(r[0] for r in A)",
    "sum(a * b for a, b in zip(A, x))", "len(list(zip(A, x))) * x", "sum(map(max, A))", "sum(map(sum, A))",
    "sum(map(len, A)) * x",
    # iter / next
    "next(iter(A))", "next(iter(x)) * x", "r = iter(A)\nnext(r) * next(r)",
    # sorted and max / min with key= of items
    "sorted(x, key=lambda v: -v)[0]", "max([x, 2 * x], key=lambda v: v.sum())", "min(A, key=lambda r: r[1])",
    "max(range(4), key=lambda i: -i) * x", "sorted([x[1], x[0], x[2]])[1]", "max(x, key=lambda v: v * v)",
    "sorted(A, key=lambda r: r.sum())[0]", "max(x[:0], key=abs, default=x[1])",
    # the rest of itertools, functools and operator (session 37)
    "import itertools\nsum(itertools.takewhile(lambda v: v < 2, x))",
    "import itertools\nsum(itertools.dropwhile(lambda v: v < 2, x))",
    "import itertools\nsum(itertools.filterfalse(lambda v: v > 0, x))",
    "import itertools\nsum(itertools.filterfalse(None, [x[0], 0.0, x[2]]))",
    "sum(filter(lambda v: v > 0, x))", "sum(filter(None, [x[0], 0.0, x[2]]))",
    "sum(r.sum() for r in filter(lambda r: r[0] > 0, A))",
    "import itertools\nsum(itertools.compress(x, [1, 0, 1, 1]))",
    "import itertools\nsum(itertools.compress(x, [True, False]))",
    "import itertools\nsum(itertools.compress(x, x > 0))",
    "import itertools\nsum(sum(g) * k for k, g in itertools.groupby(x, key=lambda v: int(v > 0)))",
    "import itertools\n{m}.stack([sum(g) for k, g in itertools.groupby([x[0], x[0], x[1]])])",
    "import itertools\nsum(len(list(g)) * x[k] for k, g in itertools.groupby([0, 0, 1, 2, 2, 2]))",
    "import itertools\nt = 0.0\nfor k, g in itertools.groupby(range(6), key=lambda i: i // 2):\n    t = t + x[k] * sum(g)\nt",
    "import itertools\ngs = list(itertools.groupby([1, 1, 2]))\nlen(gs) * x",
    "import itertools\na, b = itertools.tee(x)\nsum(p * q for p, q in zip(a, b))",
    "import itertools\na, b = itertools.tee(x)\nsum(a) + sum(a) * 0 + sum(b)",
    "import itertools\na, b, c = itertools.tee(A, 3)\nsum(a) * sum(c)",
    "import itertools\nsum(v * i for i, v in zip(itertools.count(1), x))",
    "import itertools\nsum(itertools.islice(itertools.cycle(x), 6))",
    "import itertools\nsum(a * b for a, b in zip(x, itertools.repeat(2.0)))",
    "import itertools\nsum(itertools.starmap(lambda a, b: a * b, zip(x, y)))",
    "import operator\nf = operator.attrgetter('T')\nf(A).sum(0)",
    "import operator\nf = operator.methodcaller('sum', 0)\nf(A)",
    "import operator\nsum(map(operator.methodcaller('sum'), A))",
    "import operator\nf = operator.attrgetter('T', 'mT')\nf(A)[0][0]",
    "import functools\n@functools.lru_cache(maxsize=None)\ndef f(n):\n    return x * n\nf(2) + f(3)",
    "import functools\nw = x\n@functools.cache\ndef f(n):\n    return w * n\na = f(2)\nw = x * 10\na + f(2)",
    "import functools\nw = x\n@functools.lru_cache(maxsize=1)\ndef f(n):\n    return w * n\na = f(2)\nw = x * 10\nb = f(3)\na + f(2)",
    "import functools\n@functools.cache\ndef f(v):\n    return v * 2\nf(x)",
    "from functools import lru_cache\n@lru_cache\ndef fib(n):\n    return x[0] if n < 2 else fib(n - 1) + fib(n - 2)\nfib(6)",
    "import functools\nsorted(x, key=functools.cmp_to_key(lambda a, b: a - b))[1]",
    "import functools\nsorted(range(4), key=functools.cmp_to_key(lambda i, j: j - i))[0] * x",
    "import functools\nmax(x, key=functools.cmp_to_key(lambda a, b: b - a))",
    # the parser's bare partial and functools.partial of a list the text changes
    "from functools import partial\ndef f(a, l):\n    return a * l[0]\nl = [x[0]]\ng = partial(f, l=l)\nl[0] = x[1]\ng(x)",
    "from functools import partial\ndef f(a, l):\n    return a * l[0]\nl = (x[0],)\ng = partial(f, l=l)\ng(x)",
]
BARE = [  # no import of functools: the parser's own partial (Python: NameError, jac's notation reads it)
    "def f(a, l):\n    return a * l[0]\nl = [x[0]]\ng = partial(f, l=l)\nl[0] = x[1]\ng(x)",
]


def texts():
    out = []
    for library, head in HEADS.items():
        for template in TEMPLATES:
            out.append((library, head + template.replace("{m}", MOD[library])))
        for template in BARE:  # Python runs it with functools.partial bound, as a pasted snippet means it
            out.append((library, head + template))
    return out


def names(text):
    return [n for n in INPUTS if re.search(rf"\b{n}\b", text.split("\n", 1)[1])]


def convert(library, v):
    return {"torch": torch.tensor, "numpy": np.array, "jax": jnp.array}[library](v.copy())


def python_value(library, text, values):
    *body, last = text.split("\n")
    env = {"math": math, "itertools": itertools, "functools": functools, "operator": operator,
           "partial": functools.partial}
    env.update({n: convert(library, v) for n, v in values.items()})
    exec("\n".join(body), env)
    got = eval(last, env)
    if isinstance(got, torch.Tensor):
        got = got.detach().numpy()
    if isinstance(got, (list, tuple)):
        raise TypeError(f"a {type(got).__name__} (no one array)")
    return np.asarray(got, dtype=float)


def central(library, text, values, name, h=1e-6):
    value, cols = values[name], []
    for k in range(value.size):
        e = np.zeros(value.size)
        e[k] = h
        e = e.reshape(value.shape)
        plus = python_value(library, text, {**values, name: value + e})
        minus = python_value(library, text, {**values, name: value - e})
        cols.append(((plus - minus) / (2 * h)).ravel())
    return np.stack(cols, axis=-1)


def autograd(text, values, name):
    def run(t):
        *body, last = text.split("\n")
        env = {n: torch.tensor(v) for n, v in values.items()}
        env[name] = t
        exec("\n".join(body), env)
        return torch.as_tensor(eval(last, env), dtype=torch.float64)
    J = torch.autograd.functional.jacobian(run, torch.tensor(values[name]))
    return J.numpy().reshape(-1, values[name].size)


def outcome(library, text):
    values = {n: INPUTS[n] for n in names(text)}
    try:
        want = python_value(library, text, values)
    except Exception as e:
        want = f"Python raises {type(e).__name__}: {e}"
    try:
        got = np.asarray(jacobi_cli.evaluate(text, values), dtype=float)
        J = jacobi_cli.jacobian(text, values) if values else {}
    except errors.JacError as e:
        got = f"refused: {str(e).splitlines()[0][:240]}"
    except Exception as e:
        got = f"CRASH {type(e).__name__}: {e}"
    if isinstance(got, str) and got.startswith("CRASH"):
        return "CRASH", got, want
    if isinstance(want, str):
        return ("REFUSED" if isinstance(got, str) else "WRONG"), got, want
    if isinstance(got, str):
        return "JAC-REFUSES-WHERE-LIB-ANSWERS", got, want
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True):
        return "WRONG", got, want
    for name in values:
        jac_J = np.asarray(J[name]).reshape(-1, values[name].size)
        want_J = autograd(text, values, name) if library == "torch" else central(library, text, values, name)
        if not np.allclose(jac_J, want_J, rtol=1e-5, atol=1e-6):
            if re.search(r"\b(float|int|bool)\(", text):
                return "DETACHED", f"J[{name}] = {jac_J.ravel()}", f"central {want_J.ravel()}"
            return "WRONG", f"J[{name}] = {jac_J.ravel()}", f"central {want_J.ravel()}"
    return "AGREE", got, want


def main():
    counts = collections.Counter()
    cases = texts()
    for library, text in cases:
        tag, got, want = outcome(library, text)
        counts[tag] += 1
        if tag != "AGREE" or "-v" in sys.argv:
            print(f"{tag} [{library}] {text.split(chr(10), 1)[1]!r}\n      jac: {str(got)[:300]}\n      py:  {str(want)[:300]}")
    print(dict(counts), "of", len(cases))


if __name__ == "__main__":
    main()
