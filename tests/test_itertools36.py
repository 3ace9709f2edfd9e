"""Thirty-sixth session: Python's itertools, functools and operator in the programs people paste (lang/pyiter.py):
each text run by Python itself and by jac, the values equal and jac's Jacobian Python's central differences (and
PyTorch's autograd for PyTorch's texts); Python's refusals refused in its words; an iterator read where Python would
read it otherwise (twice, by len(), lazily after a change) refused. ``benchmarks/itertools36_probe.py`` runs 140."""
from __future__ import annotations

import functools
import itertools
import math
import operator

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

INPUTS = {"x": np.array([0.5, -1.5, 2.0, 0.7]), "A": np.array([[1.0, 0.5], [-0.3, 2.0]]),
          "B": np.array([[0.2, -1.0], [0.7, 0.4]]),
          "P": np.array([[0.0, 0.0, 0.1], [1.1, 0.2, -0.1], [0.3, 1.2, 0.4], [1.0, 1.1, 0.9]])}


def _env(values: dict, torch_text: bool) -> dict:
    env = {"np": np, "math": math, "itertools": itertools, "functools": functools, "operator": operator}
    if torch_text:
        import torch
        env["torch"] = torch
        env.update({n: torch.tensor(v) for n, v in values.items()})
    else:
        env.update({n: v.copy() for n, v in values.items()})
    return env


def _python(text: str, values: dict):
    """``text`` run by Python itself: its last line's value."""
    env = _env(values, "torch" in text)
    *statements, last = text.split("\n")
    exec("\n".join(statements), env)  # noqa: S102 - the test's own text
    got = eval(last, env)  # noqa: S307
    return np.asarray(got.detach().numpy() if hasattr(got, "detach") else got, dtype=float)


def _used(text: str) -> dict:
    import re
    return {n: v for n, v in INPUTS.items() if re.search(rf"\b{n}\b", text)}


def _agrees_with_python(text: str) -> None:
    values = _used(text)
    want = _python(text, values)
    np.testing.assert_allclose(api.evaluate(text, values), want, rtol=1e-13, atol=1e-15)
    J = api.jacobian(text, values)
    for name, value in values.items():
        h, columns = 1e-6, []
        for j in range(value.size):
            e = np.zeros(value.size)
            e[j] = h
            plus = _python(text, {**values, name: value + e.reshape(value.shape)})
            minus = _python(text, {**values, name: value - e.reshape(value.shape)})
            columns.append((plus - minus) / (2 * h))
        central = np.stack(columns, axis=-1).reshape(want.shape + value.shape)
        np.testing.assert_allclose(np.asarray(J[name]), central, rtol=1e-6, atol=1e-6)


LJ = """from itertools import combinations
E = 0.0
for i, j in combinations(range(len(P)), 2):
    r = torch.linalg.norm(P[i] - P[j])
    E = E + 4 * (r ** -12 - r ** -6)
E"""

READ = [
    LJ,
    "import itertools\npairs = np.array(list(itertools.combinations(range(4), 2)))\n"
    "np.sum(np.sqrt(np.sum((P[pairs[:, 0]] - P[pairs[:, 1]]) ** 2, axis=1)))",
    "from itertools import combinations\nI, J = zip(*combinations(range(4), 2))\nnp.sum((P[list(I)] - P[list(J)]) ** 2)",
    "from itertools import combinations\nsum(a * b for a, b in combinations(x, 2))",
    "from itertools import combinations\nsum(x[i] * x[j] * x[k] for i, j, k in combinations(range(4), 3))",
    "from itertools import combinations_with_replacement as cwr\nsum(x[i] * x[j] for i, j in cwr(range(4), 2))",
    "from itertools import permutations\nsum(x[i] / (1 + x[j] ** 2) for i, j in permutations(range(4), 2))",
    "from itertools import product\nsum(A[i, j] * B[j, i] for i, j in product(range(2), repeat=2))",
    "import itertools as it\nsum(np.exp(-(a - b) ** 2) for a, b in it.product(x, x[:2]))",
    "from itertools import pairwise\nsum((b - a) ** 2 for a, b in pairwise(x))",
    "from itertools import chain\nnp.stack(list(chain([x[0]], x[2:], (A[0, 1],))))",
    "import itertools\nsum(itertools.chain.from_iterable([[x[0], x[1]], [], [x[3]]]))",
    "from itertools import islice\nsum(x[i] for i in islice(range(10), 0, 4, 2)) + sum(islice(x, 1, None))",
    "import itertools\nsum(x[i] for i in itertools.islice(itertools.count(1), 3))",
    "from itertools import repeat\nsum(a * b for a, b in zip(x, repeat(2.0))) + sum(repeat(x[0], 3))",
    "from itertools import zip_longest\nsum(a * b for a, b in zip_longest(x[:2], x, fillvalue=1.0))",
    "from itertools import starmap\nimport operator\nsum(starmap(operator.mul, zip(x, x[::-1])))",
    "from itertools import accumulate\nnp.stack(list(accumulate(x, lambda a, b: 0.9 * a + 0.1 * b)))",
    "from itertools import accumulate\nimport operator\nnp.stack(list(accumulate(x, operator.mul, initial=2.0)))",
    "from itertools import accumulate\nsum(m.sum() for m in accumulate([A, B, A], np.matmul))",
    "from functools import reduce\nreduce(np.matmul, [A, B, A.T, B @ B]).sum()",
    "import functools\nfunctools.reduce(torch.mm, [A, B, A]).trace()",
    "from functools import reduce\nreduce(lambda a, b: a @ b, [A, B], np.eye(2)).sum()",
    "from functools import reduce\nimport operator\nreduce(operator.mul, P.shape, 1) * x",
    "from functools import reduce\nreduce(lambda acc, c: acc * x + c, [A[0, 0], A[0, 1], B[1, 1]])",
    "from functools import partial\ndef loss(w, v, reg=0.0):\n    return np.sum((w * v - 1.0) ** 2) + reg * np.sum(w ** 2)\n"
    "f = partial(loss, v=x[:2], reg=0.1)\nf(A[0])",
    "from functools import partial\nsoftplus = partial(np.logaddexp, 0.0)\nnp.sum(softplus(x))",
    "from functools import partial\ndef f(a, b, c=0.0):\n    return a - b * c\np = partial(partial(f, x), c=2.0)\np(x[0])",
    "sum(map(lambda r: np.sum(r ** 2), P))",
    "pairs = list(zip(x, x[1:]))\nlen(pairs) * pairs[1][0] * pairs[2][1]",
    "sum(i * v for i, v in enumerate(x, start=2))",
    "for p in zip(x, x[::-1]):\n    s = p[0] * p[1]\ns",
    "import math\nmath.prod([x[0], x[1], x[2]]) + math.prod(x.shape)",
    "import math\nmath.prod(A)",  # the product of its rows, as Python: NumPy's prod of every element was answered
    "import math\nmath.prod([A, B], start=x[0])",
    "import operator\noperator.add(x, A[0, 0]) * operator.neg(x)",
    "import operator\nnp.stack(list(map(operator.itemgetter(1), [(x[0], x[1]), (x[2], x[3])])))",
    "from operator import sub\nf = sub\nf(x, A[1, 1])",
]


@pytest.mark.parametrize("text", READ)
def test_itertools_functools_and_operator_are_read_as_python_runs_them(text):
    _agrees_with_python(text)


def test_a_pytorch_text_agrees_with_pytorchs_autograd():
    torch = pytest.importorskip("torch")
    P = torch.tensor(INPUTS["P"], requires_grad=True)

    def energy(P):
        E = 0.0
        for i, j in itertools.combinations(range(len(P)), 2):
            r = torch.linalg.norm(P[i] - P[j])
            E = E + 4 * (r ** -12 - r ** -6)
        return E

    want = torch.autograd.functional.jacobian(energy, P).numpy()
    np.testing.assert_allclose(np.asarray(api.jacobian(LJ, {"P": INPUTS["P"]})["P"]), want, rtol=1e-12, atol=0)


def test_reduce_follows_pythons_order_to_the_bit():
    """reduce(operator.add, xs) is ((x0 + x1) + x2) + x3, Python's left fold, not a pairwise sum."""
    values = [0.1, 1e16, -1e16, 0.3]
    text = "from functools import reduce\nimport operator\nreduce(operator.add, [x[0], x[1], x[2], x[3]])"
    assert api.evaluate(text, {"x": np.array(values)}) == functools.reduce(operator.add, values)


def test_empty_results_are_pythons():
    assert api.evaluate("from itertools import combinations\nlen(list(combinations(range(3), 5))) + x",
                        {"x": 1.0}) == 1.0
    assert api.evaluate("from itertools import combinations\nlen(list(combinations(range(3), 0))) + x",
                        {"x": 1.0}) == 2.0
    assert api.evaluate("from functools import reduce\nreduce(lambda a, b: a + b, [], x)", {"x": 2.0}) == 2.0
    assert api.evaluate("import math\nmath.prod([]) * x", {"x": 3.0}) == 3.0


PYTHON_RAISES = [
    ("from functools import reduce\nreduce(lambda a, b: a + b, [])",
     "reduce\\(\\) of empty iterable with no initial value \\(Python's TypeError\\)"),
    ("from itertools import combinations\nsum(x[i] for (i,) in combinations(range(3), -1))",
     "r must be non-negative"),
    ("from itertools import islice\nsum(islice(x, -1))", "Stop argument for islice\\(\\) must be None"),
    ("sum(a for a, b in zip(x, x[:2], strict=True))", "zip\\(\\) argument 2 is shorter than argument 1"),
    ("from itertools import combinations\nc = combinations(range(3), 2)\nlen(c) * x", "has no len\\(\\) or \\[i\\]"),
    ("from itertools import combinations\ncombinations(range(4), 2)[0][0] * x", "is an iterator"),
]


@pytest.mark.parametrize("text,says", PYTHON_RAISES)
def test_what_python_refuses_is_refused_in_its_words(text, says):
    with pytest.raises(Exception):
        _python(text, {"x": INPUTS["x"]})
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": INPUTS["x"]})


# Python answers each, but not what a reading of the iterator once, where it is made, would give: refused
DIFFERENT_IN_PYTHON = [
    ("import itertools\nc = itertools.combinations(range(3), 2)\na = sum(x[i] for i, j in c)\n"
     "b = sum(x[j] for i, j in c)\na + b", "a second pass finding it empty"),
    ("z = zip(x, x)\nt = 0.0\nfor k in range(2):\n    for a, b in z:\n        t = t + a * b\nt", "second pass"),
    ("s = 1.0\nfor v in map(lambda t: t * s, x):\n    s = s + v\ns", "reads 's', which the loop's body changes"),
    ("l = [x[0]]\nm = map(np.sin, l)\nl.append(x[1])\nsum(m)", "read it in the next statement"),
    ("from functools import partial\ndef f(l):\n    return sum(l)\nl = [x[0]]\ng = partial(f, l)\nl.append(x[1])\ng()",
     "Python's partial holds that very object"),
]


@pytest.mark.parametrize("text,says", DIFFERENT_IN_PYTHON)
def test_an_iterator_read_otherwise_than_once_where_made_is_refused(text, says):
    _python(text, {"x": INPUTS["x"]})  # Python answers
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": INPUTS["x"]})


def test_an_endless_iterator_is_read_only_where_something_stops_it():
    with pytest.raises(JacError, match="never ends"):  # Python's sum would run forever
        api.evaluate("import itertools\nsum(itertools.repeat(x))", {"x": 1.0})
    with pytest.raises(JacError, match="never ends"):
        api.evaluate("import itertools\nsum(v for v in itertools.islice(itertools.count(), None))", {"x": 1.0})
    assert api.evaluate("import itertools\nsum(a * b for a, b in zip(x, itertools.cycle([1.0, -1.0])))",
                        {"x": INPUTS["x"]}) == sum(a * b for a, b in zip(INPUTS["x"], itertools.cycle([1.0, -1.0])))


def test_imports_of_the_three_modules_are_read_and_others_refused():
    assert api.evaluate("import itertools, functools, operator\nx * 2", {"x": 1.0}) == 2.0
    with pytest.raises(JacError, match="jac has no 'operator.concat'"):  # (groupby is read since session 37)
        api.evaluate("from operator import concat\nconcat = 1\nx", {"x": 1.0})
    with pytest.raises(JacError, match="itertools, functools, operator\\)"):
        api.evaluate("import heapq\nx", {"x": 1.0})
    with pytest.raises(JacError, match="itertools.batched is not read by jac"):
        api.evaluate("import itertools\nsum(1 for _ in itertools.batched([1, 1], 2))", {"x": 1.0})


def test_a_name_of_the_text_shadowing_a_builtin_is_the_texts():
    text = "def zip(a, b):\n    return a * b\nzip(x, x).sum()"
    assert api.evaluate(text, {"x": INPUTS["x"]}) == np.sum(INPUTS["x"] ** 2)
