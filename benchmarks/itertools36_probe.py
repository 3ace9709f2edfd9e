"""Session 36's probe of Python's itertools, functools and operator in pasted programs (h36-itertools): each text run
by Python itself (NumPy arrays, or PyTorch float64 tensors where it names torch) and by the jac of the checkout TREE:
values compared to the last bit's neighbourhood (rtol 1e-12), jac's Jacobian by every input against central
differences of Python's own run, and against PyTorch's autograd for PyTorch's texts.

    /work/venv/bin/python benchmarks/itertools36_probe.py TREE [-v]

Outcomes: OK; REF (jac refuses, saying why, where Python answers); REF-MEANT (a refusal the text asks for: an
iterator read twice or given to len(), whose second pass Python finds empty); both (both refuse: Python raises);
WRONG (another value or Jacobian, no word); ANSWERS where Python raises; CRASH (not a JacError).
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

sys.path.insert(0, sys.argv[1])
import jacobi_cli  # noqa: E402
from jacobi_cli import errors  # noqa: E402

INPUTS = {
    "x": np.array([0.5, -1.5, 2.0, 0.7]),
    "y": np.array([1.2, 0.3, -0.8]),
    "w": np.array([0.9, -0.4, 1.3]),
    "A": np.array([[1.0, 0.5], [-0.3, 2.0]]),
    "B": np.array([[0.2, -1.0], [0.7, 0.4]]),
    "P": np.array([[0.0, 0.0, 0.1], [1.1, 0.2, -0.1], [0.3, 1.2, 0.4], [1.0, 1.1, 0.9]]),
}

LJ = """from itertools import combinations
E = 0.0
for i, j in combinations(range(len(P)), 2):
    r = torch.linalg.norm(P[i] - P[j])
    E = E + 4 * (r ** -12 - r ** -6)
E"""
LJ_NP = """import itertools
n = P.shape[0]
E = 0.0
for i, j in itertools.combinations(range(n), 2):
    d = np.linalg.norm(P[i] - P[j])
    E += 4.0 * ((1.0 / d) ** 12 - (1.0 / d) ** 6)
E"""
COULOMB = """from itertools import combinations
q = [1.0, -1.0, 0.5, -0.5]
sum(q[i] * q[j] / np.sqrt(np.sum((P[i] - P[j]) ** 2)) for i, j in combinations(range(4), 2))"""
NEIGHBOURS = """from itertools import product
n = len(P)
E = 0.0
for i, j in product(range(n), range(n)):
    if i != j:
        E = E + np.exp(-np.sum((P[i] - P[j]) ** 2))
E / 2"""
VECTORIZED = """import itertools
pairs = np.array(list(itertools.combinations(range(4), 2)))
d = P[pairs[:, 0]] - P[pairs[:, 1]]
np.sum(np.sqrt(np.sum(d ** 2, axis=1)))"""
UNZIPPED = """from itertools import combinations
I, J = zip(*combinations(range(4), 2))
np.sum((P[list(I)] - P[list(J)]) ** 2)"""
CHAIN_MATMUL = """from functools import reduce
mats = [A, B, A.T, B @ B]
reduce(np.matmul, mats).sum()"""
CHAIN_TORCH = """import functools
functools.reduce(torch.mm, [A, B, A]).trace()"""
EMA = """from itertools import accumulate
s = list(accumulate(x, lambda a, b: 0.9 * a + 0.1 * b))
np.stack(s)"""
PARTIAL_LOSS = """from functools import partial
def loss(w, x, reg=0.0):
    return np.sum((w * x[:3] - 1.0) ** 2) + reg * np.sum(w ** 2)
f = partial(loss, x=x, reg=0.1)
f(w)"""
POLY_HORNER = """from functools import reduce
coeffs = [w[0], w[1], w[2]]
reduce(lambda acc, c: acc * x + c, coeffs)"""
TEXTS = [
    LJ, LJ_NP, COULOMB, NEIGHBOURS, VECTORIZED, UNZIPPED, CHAIN_MATMUL, CHAIN_TORCH, EMA, PARTIAL_LOSS, POLY_HORNER,
    # combinations and their kin
    "from itertools import combinations\nsum(x[i] * x[j] for i, j in combinations(range(4), 2))",
    "from itertools import combinations\nsum(a * b for a, b in combinations(x, 2))",
    "from itertools import combinations\nsum(np.dot(a, b) for a, b in combinations(P, 2))",
    "from itertools import combinations\nsum(a @ b for a, b in combinations([A, B, A.T], 2)).sum()",
    "from itertools import combinations\nsum(x[i] * x[j] * x[k] for i, j, k in combinations(range(4), 3))",
    "from itertools import combinations\nsum(x[i] for i, j in combinations(range(3), 5)) + x.sum()",
    "from itertools import combinations\nlen(list(combinations(range(3), 0))) * x",
    "from itertools import combinations\nlen(list(combinations(range(6), 3))) * x",
    "from itertools import combinations\nnp.array([x[i] - x[j] for i, j in combinations(range(4), 2)])",
    "from itertools import combinations\ntorch.stack([x[i] * x[j] for (i, j) in combinations(range(4), 2)])",
    "from itertools import combinations_with_replacement\nsum(x[i] * x[j] for i, j in combinations_with_replacement(range(4), 2))",
    "import itertools\nsum(A[i, j] for i, j in itertools.combinations_with_replacement(range(2), 2))",
    "from itertools import permutations\nsum(x[i] / (1 + x[j] ** 2) for i, j in permutations(range(4), 2))",
    "from itertools import permutations\nsum(y[p[0]] * y[p[1]] ** 2 * y[p[2]] ** 3 for p in permutations(range(3)))",
    "from itertools import permutations\nnp.stack([np.stack(p) for p in permutations([y[0], y[1], y[2]])])",
    "import itertools\nsum(w[i] - w[j] for i, j in itertools.permutations(range(3), 2)) + w[0]",
    # product
    "from itertools import product\nsum(A[i, j] * B[j, i] for i, j in product(range(2), range(2)))",
    "from itertools import product\nsum(A[i, j] ** 2 for i, j in product(range(2), repeat=2))",
    "from itertools import product\nnp.array([x[i] * y[j] for i, j in product(range(4), range(3))])",
    "from itertools import product\nsum(s * v for s, v in product([1.0, -1.0], [x, y[0] * x]))",
    "import itertools\nsum(np.exp(-(a - b) ** 2) for a, b in itertools.product(x, y))",
    "from itertools import product\nsum(x[i] for i, in product(range(4)))",
    "from itertools import product\nlen(list(product(range(3), range(0)))) + x",
    "from itertools import product\nsum(P[i, a] * P[j, a] for i, j, a in product(range(2), range(2), range(3)))",
    # pairwise
    "from itertools import pairwise\nsum((b - a) ** 2 for a, b in pairwise(x))",
    "from itertools import pairwise\nsum(np.sum((P[j] - P[i]) ** 2) for i, j in pairwise(range(4)))",
    "from itertools import pairwise\nnp.stack([b - a for a, b in pairwise(x)])",
    "from itertools import pairwise\nsum((a @ b).trace() for a, b in pairwise([A, B, A @ B]))",
    "import itertools\nsum(np.linalg.norm(b - a) for a, b in itertools.pairwise(P))",
    "from itertools import pairwise\nsum(a * b for a, b in pairwise(x[:1])) + x.sum()",
    # chain, islice
    "from itertools import chain\nsum(v ** 2 for v in chain(x[:2], y))",
    "from itertools import chain\nnp.stack(list(chain([x[0], x[1]], [y[2]], (w[1],))))",
    "import itertools\nsum(v for v in itertools.chain.from_iterable([[x[0], x[1]], [y[0]], []]))",
    "import itertools\nnp.stack(list(itertools.chain.from_iterable([x[:2], y])))",
    "from itertools import chain\nsum(a @ b for a, b in zip(chain([A], [B]), chain([B], [A]))).sum()",
    "from itertools import islice\nsum(islice(x, 2))",
    "from itertools import islice\nsum(v * v for v in islice(x, 1, None))",
    "from itertools import islice\nsum(x[i] for i in islice(range(10), 0, 4, 2))",
    "from itertools import islice\nnp.stack(list(islice(x, 3, 1))) if False else x[0] + sum(islice(x, 3, 1))",
    "import itertools\nsum(x[i] * y[j] for i, j in itertools.islice(itertools.product(range(4), range(3)), 5))",
    "import itertools\nsum(w[i] for i in itertools.islice(itertools.count(), 3))",
    "import itertools\nsum(v for v in itertools.islice(itertools.cycle([w[0], w[1]]), 5))",
    # repeat, zip_longest, starmap
    "from itertools import repeat\nsum(repeat(x[0], 3))",
    "from itertools import repeat\nsum(a * b for a, b in zip(x, repeat(2.0)))",
    "from itertools import repeat\nsum(np.dot(r, v) for r, v in zip(P[:, :3], repeat(w)))",
    "from itertools import repeat\nsum(repeat(x, 0)) + x",
    "from itertools import repeat\nsum(repeat(y[1], -2)) + y[0]",
    "from itertools import zip_longest\nsum(a * b for a, b in zip_longest(x[:2], x, fillvalue=1.0))",
    "from itertools import zip_longest\nsum(a + b for a, b in zip_longest(y, w))",
    "from itertools import zip_longest\nnp.stack([a * b for a, b in zip_longest(x, y, fillvalue=x[0])])",
    "from itertools import starmap\nsum(starmap(lambda a, b: a * b, zip(x, x[::-1])))",
    "from itertools import starmap\nimport operator\nsum(starmap(operator.mul, zip(y, w)))",
    "import itertools\nnp.stack(list(itertools.starmap(np.hypot, [(x[0], x[1]), (x[2], x[3])])))",
    "from itertools import starmap\ndef f(a, b, c=2.0):\n    return a * c - b\nsum(starmap(f, [(x[0], x[1]), (x[2], x[3])]))",
    # accumulate
    "from itertools import accumulate\nnp.stack(list(accumulate(x)))",
    "from itertools import accumulate\nimport operator\nnp.stack(list(accumulate(x, operator.mul)))",
    "from itertools import accumulate\nnp.stack(list(accumulate(x, initial=1.0)))",
    "from itertools import accumulate\nnp.stack(list(accumulate(y, lambda a, b: a * b + 1.0, initial=w[0])))",
    "from itertools import accumulate\nsum(m.sum() for m in accumulate([A, B, A], np.matmul))",
    "from itertools import accumulate\nnp.stack(list(accumulate(x, max)))",
    "from itertools import accumulate\nnp.stack(list(accumulate(x, np.maximum)))",
    "from itertools import accumulate\nnp.stack(list(accumulate([x[0]])))",
    "from itertools import accumulate\nlen(list(accumulate([]))) + x",
    "from itertools import accumulate\nlen(list(accumulate([], initial=3.0))) * x",
    "import itertools, operator\nnp.stack(list(itertools.accumulate(x, operator.sub)))",
    # functools.reduce
    "from functools import reduce\nreduce(lambda a, b: a @ b, [A, B, A], np.eye(2)).sum()",
    "from functools import reduce\nimport operator\nreduce(operator.add, [x, 2 * x, x ** 2])",
    "from functools import reduce\nimport operator\nreduce(operator.mul, x.shape, 1) * x",
    "from functools import reduce\nimport operator\nreduce(operator.mul, P.shape) * P.sum()",
    "from functools import reduce\nreduce(np.add, [x, x, x])",
    "from functools import reduce\nreduce(np.maximum, [x, -x, x ** 2])",
    "from functools import reduce\nreduce(lambda a, b: a + b, [], x)",
    "from functools import reduce\nreduce(lambda a, b: a * b, [x[0]])",
    "from functools import reduce\nreduce(lambda acc, v: acc + v ** 2, x, 0.0)",
    "import functools\nfunctools.reduce(lambda a, b: np.kron(a, b), [A, B])",
    "from functools import reduce\nreduce(np.matmul, [A])",
    "from functools import reduce\nfrom operator import matmul\nreduce(matmul, [A, B, B]).sum()",
    "import functools, operator\nfunctools.reduce(operator.truediv, [x[0], x[1], x[2]])",
    "from functools import reduce\nfrom operator import add\nreduce(add, map(np.sin, x))",
    # functools.partial
    "from functools import partial\ndef f(a, b, c):\n    return a * b + c\ng = partial(f, x, c=1.0)\ng(x ** 2)",
    "from functools import partial\nscale = partial(np.multiply, 3.0)\nscale(x)",
    "from functools import partial\nsmooth = partial(np.clip, a_min=-1.0, a_max=1.0)\nsmooth(x)",
    "from functools import partial\nimport operator\ndouble = partial(operator.mul, 2.0)\ndouble(y)",
    "from functools import partial\ndef f(a, b, c=0.0):\n    return a - b * c\np = partial(partial(f, x), c=2.0)\np(x[0])",
    "import functools\nsoftplus = functools.partial(np.logaddexp, 0.0)\nnp.sum(softplus(x))",
    "from functools import partial\nf = lambda a, b: a / b\npartial(f, 1.0)(x)",
    "from functools import partial\ndef loss(w, reg):\n    return np.sum(w ** 2) * reg\nsum(map(partial(loss, reg=0.5), [w, 2 * w]))",
    # map, zip, enumerate as values
    "sum(map(np.sin, x))",
    "np.stack(list(map(lambda a, b: a * b, x, x)))",
    "sum(map(lambda r: np.sum(r ** 2), P))",
    "pairs = list(zip(x, x[1:]))\nsum(a * b for a, b in pairs)",
    "pairs = list(zip(y, w))\nlen(pairs) * pairs[1][0] * pairs[2][1]",
    "z = zip(x, y)\nsum(a * b for a, b in z)",
    "sum(i * v for i, v in enumerate(x, 1))",
    "sum(i * v for i, v in enumerate(x, start=2))",
    "np.stack([v * i for i, v in list(enumerate(y))])",
    "sum(a * b for a, b in zip(x, y, strict=False))",
    "d = dict(zip(['a', 'b'], [x, y]))\nd['a'][0] * d['b'][1]",
    "xs, ys = zip(*[(x[0], y[0]), (x[1], y[1])])\nxs[1] * ys[0] + len(xs)",
    "for p in zip(x, y):\n    s = p[0] * p[1]\ns",
    # math.prod, sum with start, all, any, sorted, reversed
    "import math\nmath.prod([x[0], x[1], x[2]])",
    "import math\nmath.prod(x)",
    "import math\nmath.prod(A)",
    "import math\nmath.prod(P.shape) * x",
    "import math\nmath.prod([y, w], start=x[0])",
    "import math\nmath.prod([]) * x",
    "from math import prod\nprod(x[:2]) + prod(range(1, 5))",
    "sum([x, y[0] * x], x)",
    "sum((x[i] for i in range(3)), start=y[0])",
    "all([True, 1 < 2]) * x + any([False, 3 > 2]) * x",
    "sum(y[i] for i in sorted([2, 0, 1])[:2])",
    "l = list(reversed([x, 2 * x]))\nl[0] - l[1]",
    # operator
    "import operator\noperator.add(x, y[0]) * operator.neg(x)",
    "import operator\noperator.matmul(A, B).sum() + operator.pow(x, 2).sum()",
    "import operator\nnp.stack(list(map(operator.itemgetter(1), [(x[0], x[1]), (x[2], x[3])])))",
    "from operator import itemgetter\nsum(map(itemgetter(0, 2), [x, y]), ())[1] * x[3]",
    "import operator\nsum(map(operator.abs, x))",
    "import operator\nsum(operator.getitem(x, i) for i in range(2))",
    "from operator import sub\nf = sub\nf(x, y[1])",
    "import itertools as it\nsum(x[i] * x[j] for i, j in it.combinations(range(4), 2))",
    "from itertools import combinations as comb\nsum(a * b for a, b in comb(y, 2))",
    # iterators read twice, or as no iterator is: refused as meant (REF-MEANT)
    "import itertools\nc = itertools.combinations(range(3), 2)\na = sum(x[i] for i, j in c)\nb = sum(x[j] for i, j in c)\na + b",
    "z = zip(x, y)\nt = 0.0\nfor k in range(2):\n    for a, b in z:\n        t = t + a * b\nt",
    # Python raises: both refuse
    "from functools import reduce\nreduce(lambda a, b: a + b, [])",
    "from itertools import combinations\nsum(x[i] for (i,) in combinations(range(3), -1))",
    "from itertools import islice\nsum(islice(x, -1))",
    "from itertools import combinations\nc = combinations(range(3), 2)\nlen(c) * x",
    "sum(a for a, b in zip(x, y, strict=True))",
    "from itertools import combinations\ncombinations(range(4), 2)[0][0] * x",
]
MEANT = ("c = itertools.combinations(range(3), 2)\na =", "z = zip(x, y)\nt = 0.0")


def names(text):
    return [n for n in INPUTS if re.search(rf"\b{n}\b", text)]


def python_value(text, values, torch_text=None):
    torch_text = "torch" in text if torch_text is None else torch_text
    *body, last = text.split("\n")
    env = {"np": np, "torch": torch, "math": math, "itertools": itertools, "functools": functools,
           "operator": operator}
    env.update({n: torch.tensor(v) if torch_text else v.copy() for n, v in values.items()})
    exec("\n".join(body), env)
    got = eval(last, env)
    if isinstance(got, torch.Tensor):
        got = got.detach().numpy()
    return np.asarray(got, dtype=float)


def central(text, values, name, h=1e-6):
    value, cols = values[name], []
    for k in range(value.size):
        e = np.zeros(value.size)
        e[k] = h
        e = e.reshape(value.shape)
        plus = python_value(text, {**values, name: value + e})
        minus = python_value(text, {**values, name: value - e})
        cols.append(((plus - minus) / (2 * h)).ravel())
    return np.stack(cols, axis=-1)


def autograd(text, values, name):
    def run(t):
        *body, last = text.split("\n")
        env = {"np": np, "torch": torch, "math": math, "itertools": itertools, "functools": functools,
               "operator": operator}
        env.update({n: torch.tensor(v) for n, v in values.items()})
        env[name] = t
        exec("\n".join(body), env)
        return eval(last, env)
    J = torch.autograd.functional.jacobian(run, torch.tensor(values[name]))
    return J.numpy().reshape(-1, values[name].size)


def outcome(text):
    values = {n: INPUTS[n] for n in names(text)}
    try:
        want = python_value(text, values)
    except Exception as e:
        want = f"Python raises {type(e).__name__}: {e}"
    try:
        got = np.asarray(jacobi_cli.evaluate(text, values), dtype=float)
        J = jacobi_cli.jacobian(text, values)
    except errors.JacError as e:
        got = f"refused: {str(e).splitlines()[0][:200]}"
    except Exception as e:
        got = f"CRASH {type(e).__name__}: {e}"
    if isinstance(got, str) or isinstance(want, str):
        if isinstance(got, str) and got.startswith("CRASH"):
            return "CRASH", got, want
        if isinstance(want, str):
            return ("both" if isinstance(got, str) else "ANSWERS"), got, want
        return ("REF-MEANT" if text.startswith(MEANT) or any(m in text for m in MEANT) else "REF"), got, want
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True):
        return "WRONG", got, want
    for name in values:
        jac_J = np.asarray(J[name]).reshape(-1, values[name].size)
        if not np.allclose(jac_J, central(text, values, name), rtol=1e-5, atol=1e-6):
            return "WRONG", f"J[{name}] = {jac_J.ravel()}", f"central {central(text, values, name).ravel()}"
        if "torch" in text and not np.allclose(jac_J, autograd(text, values, name), rtol=1e-10, atol=1e-12):
            return "WRONG", f"J[{name}] = {jac_J.ravel()}", f"autograd {autograd(text, values, name).ravel()}"
    return "OK", got, want


def main():
    counts = collections.Counter()
    for text in TEXTS:
        tag, got, want = outcome(text)
        counts[tag] += 1
        if tag != "OK" or "-v" in sys.argv:
            print(f"{tag:5} {text!r}\n      jac: {str(got)[:300]}\n      py:  {str(want)[:300]}")
    print(dict(counts), "of", len(TEXTS))


if __name__ == "__main__":
    main()
