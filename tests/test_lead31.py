"""The lead's fixes of the thirty-first session that have no file of their own."""
from __future__ import annotations

import os

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.lang import fileio
from jacobi_cli.tools import api


def test_a_ctrl_c_as_the_out_targets_probe_is_closed_leaves_no_file(tmp_path, monkeypatch):
    """The folder's probe (made and removed before any work: h30-contract's early refusal of a target whose folder
    takes no temporary file) is removed whatever interrupts it; and it is no '.tmp', which is the write's own."""
    made = []
    real_open, real_close = os.open, os.close

    def spy_open(path, *args):
        made.append(path)
        return real_open(path, *args)

    def interrupted(fd):
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "open", spy_open)
    monkeypatch.setattr(fileio.os, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio._temporary_made_beside(str(tmp_path / "J.npz"), "J.npz")
    assert made and not made[0].endswith(".tmp")
    assert os.listdir(tmp_path) == []


X = np.array([0.5, 1.5, 2.5])

LOOPS = [
    "for i in range(3):\n    if i == 2:\n        break\n    x = x * 2\nx",
    "for i in range(4):\n    if i == 1:\n        continue\n    x = x * 2 + i\nx",
    "i = 0\nwhile i < 3:\n    x = x * 2\n    i += 1\nx",
    "for i in range(3):\n    x = x * 2\nelse:\n    x = x + 1\nx",
    "for i in range(3):\n    if i == 1:\n        break\n    x = x * 2\nelse:\n    x = x + 1\nx",  # no else after a break
    "n = 0\nwhile True:\n    n += 1\n    x = x * 1.5\n    if n >= 4:\n        break\nx",
    "def f(v):\n    for k in range(5):\n        if k == 3:\n            break\n        v = v * 2\n    return v\nf(x)",
    "ys = []\nfor r in x:\n    if len(ys) == 2:\n        break\n    ys.append(r * 2)\nnp.stack(ys)",
    "for i in range(3):\n    for j in range(3):\n        if j == 1:\n            break\n        x = x + i * j + 1\nx",
    "i = 0\nwhile i < 3:\n    i += 1\n    if i == 2:\n        continue\n    x = x * i\nelse:\n    x = x - 1\nx",
]


def _python(text, x):
    lines = text.split("\n")
    scope = {"np": np, "x": x}
    exec("\n".join(lines[:-1]), scope)
    return eval(lines[-1], scope)


@pytest.mark.parametrize("text", LOOPS)
def test_while_break_continue_and_a_loops_else_run_as_python_runs_them(text):
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), _python(text, X))
    h, columns = 1e-6, []
    for j in range(X.size):
        e = np.zeros_like(X)
        e[j] = h
        columns.append((_python(text, X + e) - _python(text, X - e)) / (2 * h))
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], np.stack(columns, axis=-1), rtol=1e-7, atol=1e-7)


def test_a_break_inside_no_grad_still_detaches_what_ran_before_it():
    torch = pytest.importorskip("torch")
    text = "import torch\nfor i in range(3):\n    with torch.no_grad():\n        y = x * 2\n        if i == 0:\n            break\ny * x"

    def f(x):
        for i in range(3):
            with torch.no_grad():
                y = x * 2
                if i == 0:
                    break
        return y * x

    expected = torch.autograd.functional.jacobian(f, torch.tensor(X)).numpy()
    np.testing.assert_array_equal(api.jacobian(text, {"x": X})["x"], expected)  # y is a constant: 2x on the diagonal


@pytest.mark.parametrize("text,says", [
    ("break\nx", r"'break' outside loop \(Python's SyntaxError\)"),
    ("def f(v):\n    break\n    return v\nf(x)", "'break' outside loop"),
    ("for i in range(2):\n    def f(v):\n        continue\n        return v\nx", "'continue' outside loop"),
    ("while True:\n    x = x * 2\nx", "this 'while' loop's test is still true there"),  # refused, never a hang
    ("while x:\n    x = x / 2\nx", "the truth value of an array of"),  # of the values: at them (32)
    ("i = 0\nwhile i < 2:\n    i += 1", "not a 'while' loop; end the text with the result"),
])
def test_what_python_refuses_or_jac_cannot_write_out_is_refused(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


@pytest.mark.parametrize("text", [
    "def g(*xs):\n    return sum(xs)\ng(x, 2 * x)",
    "def g(a, **kw):\n    return a * kw['s']\ng(x, s=2.0)",
    "def g(a, *rest, scale=1.0):\n    return a * scale + len(rest) * np.stack(rest).sum(0)\ng(x, x ** 2, x ** 3, scale=3.0)",
    "def g(*xs):\n    return len(xs) * x\ng()",
    "def g(*xs, **kw):\n    return sum(xs) + sum(kw.values())\ng(x, 1.0, a=x ** 2, b=2.0)",
    "f = lambda *a: a[0] * a[1]\nf(x, x)",
    "def g(*xs):\n    return sum(xs)\nargs = [x, x]\ng(*args)",
])
def test_star_args_and_star_star_kwargs_collect_as_pythons(text):
    test_while_break_continue_and_a_loops_else_run_as_python_runs_them(text)


@pytest.mark.parametrize("text,says", [
    ("def g(*xs):\n    return xs[0].reshape(xs[1] + (1,))\ng(x, x.shape)", "'x.shape' is a Python sequence"),
    ("def g(**kw):\n    return kw['a']\ng(b=x)", "the dict has no key 'a'"),
    ("def g(a):\n    return a\ng(x, x)", "takes 1 positional argument but 2 were given"),
])
def test_what_star_args_cannot_hold_or_python_refuses_is_refused(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


def _sources(fn, seen: set) -> list:
    """The source of ``fn`` and of the functions it closes over or calls from its own module."""
    import inspect

    if id(fn) in seen or not callable(fn):
        return []
    seen.add(id(fn))
    out = []
    try:
        out.append(inspect.getsource(fn))
    except (TypeError, OSError):
        pass
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            out += _sources(cell.cell_contents, seen)
        except ValueError:
            pass
    code, scope = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    for name in code.co_names if code is not None else ():
        value = scope.get(name)
        if inspect.isfunction(value) and value.__module__ == fn.__module__:
            out += _sources(value, seen)
    return out


def test_every_op_whose_impl_raises_says_so_for_the_kernels():
    """A kernel computes an op marked `refuses` whether or not a result reads it; one that raised unmarked would be
    skipped by a Jacobian whose derivative does not read it (lax.cummax's tie check: the repeated call answered)."""
    from jacobi_cli.ir.ops import OPS

    raising = {name for name, op in OPS.items() if any("raise " in s for s in _sources(op.impl, set()))}
    assert raising and raising <= {name for name, op in OPS.items() if op.refuses}


TIES = np.array([0.5, 0.5, 0.0, 1.0])
GENERIC = np.array([0.3, -1.2, 0.7, 2.1])


@pytest.mark.parametrize("text,bad", [
    ("import jax\nfrom jax import lax\nlax.cummax(x)", TIES),  # the check is subtracted from the value only
    ("import torch\ntorch.histc(x, bins=3) * 0 + x.sum()", np.array([0.3, np.nan, 0.7, 2.1])),
])
@pytest.mark.parametrize("call", ["jacobian", "forward", "vjp", "jvp", "structured", "batch"])
def test_a_repeated_call_refuses_where_the_first_would(text, bad, call):
    """The first call runs the interpreter, which evaluates every node; the repeated ones run kernels, which
    answered at the bad values where the check fed the value only."""
    size = api.evaluate(text, {"x": GENERIC}).shape
    run = {"jacobian": lambda v: api.jacobian(text, {"x": v}),
           "forward": lambda v: api.jacobian(text, {"x": v}, mode="forward"),
           "vjp": lambda v: api.vjp(text, {"x": v}, v=np.ones(size)),
           "jvp": lambda v: api.jvp(text, {"x": v}, {"x": np.ones(4)}),
           "structured": lambda v: api.jacobian(text, {"x": v}, structured=True),
           "batch": lambda v: api.jacobian(text, {"x": np.stack([v, GENERIC])}, batch=["x"])}[call]
    for _ in range(3):
        run(GENERIC)
    with pytest.raises(JacError):
        run(bad)


@pytest.mark.parametrize("bindings,says", [
    ({"": X}, r"the inputs are '' \('' is no name an expression can use\)"),
    ({"x y": X, "z": X}, r"the inputs are 'x y', z \('x y' is no name"),
    ({"for": X}, r"'for' is no name an expression can use"),
])
def test_an_api_input_no_expression_can_name_is_said_so(bindings, says):
    """The API takes any string as an input's name (the command line refuses such names): the unknown-name message
    said 'the inputs are : give it a value ...'."""
    with pytest.raises(JacError, match=says):
        api.evaluate("x * 2", bindings)


def test_a_dict_written_as_a_bindings_value_is_refused():
    """x='{"a": 1}' bound x to 1, the dict's one leaf (a dict of several was refused for another reason)."""
    with pytest.raises(JacError, match="the value is a dict, not an array"):
        api.evaluate("x * 2", {"x": '{"a": 1}'})
