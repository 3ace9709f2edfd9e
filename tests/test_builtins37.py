"""Session 37 (h37-builtins): Python's builtins over arrays in a program that imports a library (lang/pybuiltins.py),
the rest of itertools / functools / operator (lang/pyiter.py), and one rule for partial(...) of a list.

Each text is run by Python itself (PyTorch float64 tensors, or NumPy arrays) and by jac: the values must agree, and
jac's Jacobian must be PyTorch's autograd's (central differences of NumPy's run for NumPy's texts)."""

import functools
import itertools
import math
import operator

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.errors import JacError

INPUTS = {
    "x": np.array([0.3, -1.4, 2.2, 0.7]),
    "y": np.array([1.2, 0.35, -0.8, 0.1]),
    "A": np.array([[1.1, 0.45, -0.2], [-0.3, 2.05, 0.4]]),
    "T": np.arange(12.0).reshape(2, 3, 2) / 7 - 0.5,
    "u": np.array([0.3, 0.3, -1.0]),  # a tie: Python's max keeps the first
}


def _names(body):
    import re
    return [n for n in INPUTS if re.search(rf"\b{n}\b", body)]


def _python(head, body, values, torch):
    env = {"math": math, "itertools": itertools, "functools": functools, "operator": operator}
    env.update(values)
    *lines, last = body.split("\n")
    exec("\n".join(lines), env)
    return eval(last, env)


def _torch_run(body, name, names):
    torch = pytest.importorskip("torch")

    def run(t):
        values = {n: torch.tensor(INPUTS[n]) for n in names}
        values[name] = t
        return torch.as_tensor(_python("torch", body, values, True), dtype=torch.float64)
    return run


def _agree(head, body):
    names = _names(body)
    text = head + body
    values = {n: INPUTS[n] for n in names}
    got = np.asarray(jacobi_cli.evaluate(text, values), dtype=float)
    J = jacobi_cli.jacobian(text, values)
    if head.startswith("import torch"):
        torch = pytest.importorskip("torch")
        want = _python(head, body, {n: torch.tensor(v) for n, v in values.items()}, True)
        want = np.asarray(want.detach().numpy() if hasattr(want, "detach") else want, dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        for name in names:
            run = _torch_run(body, name, names)
            want_J = torch.autograd.functional.jacobian(run, torch.tensor(INPUTS[name])).numpy()
            np.testing.assert_allclose(np.asarray(J[name]), want_J.reshape(np.shape(J[name])), rtol=1e-10, atol=1e-12)
    else:
        want = np.asarray(_python(head, body, {n: v.copy() for n, v in values.items()}, False), dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        for name in names:
            cols = []
            for k in range(values[name].size):
                e = np.zeros(values[name].size)
                e[k] = 1e-6
                e = e.reshape(values[name].shape)
                plus = _python(head, body, {**values, name: values[name] + e}, False)
                minus = _python(head, body, {**values, name: values[name] - e}, False)
                cols.append((np.asarray(plus, dtype=float) - np.asarray(minus, dtype=float)).ravel() / 2e-6)
            np.testing.assert_allclose(np.asarray(J[name]).reshape(-1, values[name].size), np.stack(cols, -1),
                                       rtol=1e-5, atol=1e-6)


HEADS = {"torch": "import torch\n", "numpy": "import numpy as np\n"}

AGREE = [
    # sum: Python adds the rows, from start
    "sum(A)", "sum(A, 1.0)", "sum(A, start=x[:3])", "sum(x)", "sum(x, 2.0)", "sum(T)", "sum(A * A) * 2",
    "sum(sum(A))", "sum(T)[0]", "def f(M):\n    return sum(M)\nf(A)", "sum(A[:1])", "sum(A[:0]) * x",
    # max / min compare the items one by one
    "max(x)", "min(x) * x", "max(A[:1])", "max(A[:, :1])", "max(x[0], x[1])", "max(x, key=abs)",
    "min(x, key=lambda v: -v)", "max(A, key=sum)", "max(x, default=0.0)", "max(x[:0], default=x[1])",
    "max([x, 2 * x], key=lambda v: v.sum())",
    # any / all, sorted, float of one element, round / divmod where the library has them
    "any(x > 0) * x", "all(A[:, :1] > -5) * x", "any([x[0] > 0, x[1] > 0]) * x", "sorted(x)[0] * 2",
    "sum(sorted(x, reverse=True)[:2])", "sorted(A, key=lambda r: r.sum())[0]", "sorted([x[1], x[0], x[2]])[1]",
    "len(A) * x", "pow(x, 2)", "abs(A)",
    # the rest of itertools, functools, operator
    "import itertools\nsum(itertools.takewhile(lambda v: v < 2, x))",
    "import itertools\nsum(itertools.dropwhile(lambda v: v < 2, x))",
    "import itertools\nsum(itertools.filterfalse(lambda v: v > 0, x))",
    "sum(filter(lambda v: v > 0, x))", "sum(filter(None, [x[0], 0.0, x[2]]))",
    "import itertools\nsum(itertools.compress(x, [1, 0, 1, 1]))",
    "import itertools\nsum(itertools.compress(x, x > 0))",
    "import itertools\nsum(sum(g) * k for k, g in itertools.groupby(x, key=lambda v: int(v > 0)))",
    "import itertools\nt = 0.0\nfor k, g in itertools.groupby(range(6), key=lambda i: i // 2):\n    t = t + x[k] * sum(g)\nt",
    "import itertools\na, b = itertools.tee(x)\nsum(p * q for p, q in zip(a, b))",
    "import itertools\na, b = itertools.tee(x)\nsum(a) + sum(a) * 0 + sum(b)",
    "import itertools\nsum(v * i for i, v in zip(itertools.count(1), x))",
    "import operator\nf = operator.attrgetter('T')\nf(A).sum(0)",
    "import operator\nsum(map(operator.methodcaller('sum'), A))",
    "import functools\n@functools.lru_cache(maxsize=None)\ndef f(n):\n    return x * n\nf(2) + f(3)",
    "import functools\nw = x\n@functools.cache\ndef f(n):\n    return w * n\na = f(2)\nw = x * 10\na + f(2)",
    "import functools\nw = x\n@functools.lru_cache(maxsize=1)\ndef f(n):\n    return w * n\na = f(2)\nw = x * 10\n"
    "b = f(3)\na + f(2)",
    "import functools\nsorted(x, key=functools.cmp_to_key(lambda a, b: a - b))[1]",
    "import functools\nmax(x, key=functools.cmp_to_key(lambda a, b: b - a))",
    "from functools import partial\ndef f(a, l):\n    return a * l[0]\nl = (x[0],)\ng = partial(f, l=l)\ng(x)",
]


@pytest.mark.parametrize("library", sorted(HEADS))
@pytest.mark.parametrize("body", AGREE)
def test_python_and_jac_agree_on_values_and_jacobians(library, body):
    _agree(HEADS[library], body)


REFUSED = [  # (library, text, words of the message): Python raises, and so does jac
    ("torch", "max(A)", "ambiguous"), ("numpy", "min(T)", "ambiguous"), ("torch", "any(A > 0) * x", "ambiguous"),
    ("numpy", "all(A[:1] > -9) * x", "ambiguous"), ("torch", "sum(x.sum())", "0-d"), ("numpy", "max(x.sum())", "0-d"),
    ("torch", "any(x.sum() > 0) * x", "0-d"), ("torch", "round(x)", "__round__"), ("torch", "round(x[0])", "__round__"),
    ("numpy", "round(A, 1)", "__round__"), ("torch", "divmod(x, 2.0)[1]", "__divmod__"),
    ("numpy", "float(A[:1, :1]) * x", "0-dimensional"), ("torch", "sum(A, axis=0)", "(iterable, start)"),
    ("torch", "max(x, y)", "ambiguous"), ("numpy", "max(x[:0])", "empty"),
    ("torch", "import itertools\ngs = list(itertools.groupby([1, 1, 2]))\nlen(gs) * x", "groupby"),
    ("torch", "import itertools\nfor k, g in itertools.groupby([1, 1, 2]):\n    a = list(g)\n    b = list(g)\nlen(b) * x",
     "once"),
    ("numpy", "import functools\n@functools.cache\ndef f(v):\n    return v * 2\nf(x)", "unhashable"),
    ("torch", "from functools import partial\ndef f(a, l):\n    return a * l[0]\nl = [x[0]]\ng = partial(f, l=l)\n"
              "l[0] = x[1]\ng(x)", "very object"),
]


@pytest.mark.parametrize("library, body, words", REFUSED)
def test_what_python_refuses_jac_refuses_saying_why(library, body, words):
    values = {n: INPUTS[n] for n in _names(body)}
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)")):
        jacobi_cli.evaluate(HEADS[library] + body, values)


def test_the_parsers_own_partial_refuses_a_list_the_text_changes_as_functools_partial_does():
    # before session 37 the bare partial held the list's items as they were: x * x[0] instead of Python's x * x[1]
    text = "def f(a, l):\n    return a * l[0]\nl = [x[0]]\ng = partial(f, l=l)\nl[0] = x[1]\ng(x)"
    with pytest.raises(JacError, match="very object"):
        jacobi_cli.evaluate(text, {"x": INPUTS["x"]})
    kept = "def f(a, l):\n    return a * l[0]\nl = (x[0],)\ng = partial(f, l=l)\ng(x)"
    np.testing.assert_allclose(jacobi_cli.evaluate(kept, {"x": INPUTS["x"]}), INPUTS["x"] * INPUTS["x"][0])


def test_jacs_own_notation_keeps_its_sum_and_max():
    A, u = INPUTS["A"], INPUTS["u"]
    assert float(jacobi_cli.evaluate("sum(A)", {"A": A})) == pytest.approx(A.sum())
    assert float(jacobi_cli.evaluate("sum(A * A)", {"A": A})) == pytest.approx((A * A).sum())
    np.testing.assert_allclose(jacobi_cli.evaluate("import torch\nsum(A)", {"A": A}), A.sum(0))
    np.testing.assert_allclose(jacobi_cli.jacobian("max(u)", {"u": u})["u"], [0.5, 0.5, 0.0])  # jac's max: ties share
    np.testing.assert_allclose(jacobi_cli.jacobian("import torch\nmax(u)", {"u": u})["u"], [1.0, 0.0, 0.0])


def test_a_tie_gives_the_derivative_to_the_first_greatest_as_pytorchs_autograd_through_pythons_max():
    # at a tie the derivative exists only one-sided: central differences split it; autograd follows Python's choice
    # float(x[0]) is a number with no derivative, as .item(): autograd's reading, not central differences'
    for body in ("max(u) * 3", "min(-u)", "max(u, key=abs)", "sorted(u, reverse=True)[0]", "float(x[0]) + x"):
        _agree("import torch\n", body)


def test_python_max_is_right_at_values_other_than_the_first_calls():
    torch = pytest.importorskip("torch")
    compiled = jacobi_cli.compile("import torch\nmax(x) - min(x)", {"x": ":4"})
    for x in (INPUTS["x"], INPUTS["x"][::-1].copy(), np.array([1.0, np.nan, 2.0, 0.0])):
        got = jacobi_cli.evaluate("import torch\nmax(x) - min(x)", {"x": x})
        t = torch.tensor(x)
        assert np.array_equal(np.asarray(got), np.asarray(float(max(t) - min(t))), equal_nan=True)
        assert np.array_equal(np.asarray(compiled.value({"x": x})), np.asarray(float(max(t) - min(t))),
                              equal_nan=True)
