"""Session 33: value-dependent control flow in every mode. A Python int read off the inputs' values (``range(k)``,
``x[k]``, a slice bound, a size, with ``k = int((x > 0).sum())`` or ``int(x.argmax())``) is taken at the given
values, as NumPy and PyTorch's eager mode run it; ``jac run`` builds a case testing its values at the case's
values. Each answer against Python's own run of the text and central differences of it."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api, suite

X = np.array([0.3, -1.0, 2.0, 0.5])
Y = np.array([1.0, 2.0, -3.0, 0.5])


def _python(text: str, x: np.ndarray, y: np.ndarray):
    """``text`` run by Python itself with NumPy (its last line an expression)."""
    *body, last = text.split("\n")
    env = {"np": np, "x": x.copy(), "y": y.copy()}
    exec("\n".join(body), env)
    return np.asarray(eval(last, env))


def _central(text: str, name: str, h: float = 1e-6) -> np.ndarray:
    cols = []
    for j in range(4):
        up = {"x": X.copy(), "y": Y.copy()}
        down = {"x": X.copy(), "y": Y.copy()}
        up[name][j] += h
        down[name][j] -= h
        cols.append((_python(text, **up) - _python(text, **down)) / (2 * h))
    return np.stack(cols, axis=-1)


RUN_TIME_INTS = [
    "k = int((x > 0).sum())\na = x * 1.0\nfor i in range(k):\n    a = np.sin(a) + y * 0.5\na",  # k = 3
    "k = int(np.argmax(np.sin(x)))\nx * y[k]",  # an index read off the values
    "k = int(np.argmax(x))\nx[k] * y",
    "k = int((x > 0).sum())\ny[:k].sum() * x",  # a slice bound
    "np.arange(4.0)[int(np.argmax(x))] * x",
    "x[int(x.sum())] * y",  # int(1.8) = 1
    "x[int(-x.sum())] * y",  # -1: the last element, as Python
    "k = int((x > 0).sum())\nnp.zeros(k - 1) + x[:k - 1] ** 2",  # a size
    "k = (x > 0).sum()\ny[k] * x",  # a 0-d integer array as the index
]


@pytest.mark.parametrize("text", RUN_TIME_INTS)
def test_an_int_read_off_the_values_is_taken_at_them_as_python_runs_it(text):
    want = _python(text, X, Y)
    got = api.evaluate(text, {"x": X, "y": Y})
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-14, atol=1e-15), (got, want)
    J = api.jacobian(text, {"x": X, "y": Y})
    for name in ("x", "y"):
        np.testing.assert_allclose(J[name], _central(text, name), atol=1e-8)


def test_a_loop_count_read_off_the_values_matches_its_closed_form():
    text = "k = int((x > 0).sum())\na = x * 1.0\nfor i in range(k):\n    a = a * y\na"
    assert np.allclose(api.evaluate(text, {"x": X, "y": Y}), X * Y ** 3)  # three positive elements
    J = api.jacobian(text, {"x": X, "y": Y})
    np.testing.assert_allclose(J["x"], np.diag(Y ** 3), rtol=1e-15)
    np.testing.assert_allclose(J["y"], np.diag(3 * X * Y ** 2), rtol=1e-15)
    H = api.hessian("k = int((x > 0).sum())\n(x ** k).sum()", {"x": X})[("x", "x")]  # x ** 3 summed
    np.testing.assert_allclose(H, np.diag(6 * X), rtol=1e-15)
    d3 = api.derivative("k = int((x > 0).sum())\n(x ** k).sum()", {"x": X}, 3)
    want = np.zeros((4, 4, 4))
    want[range(4), range(4), range(4)] = 6.0
    np.testing.assert_allclose(d3, want, atol=1e-12)


def test_an_int_read_off_the_values_holds_for_those_values_only():
    text = "k = int(np.argmax(x))\nx[k] * y"
    for x in (X, X[::-1].copy()):  # two calls at values with another index: each computes afresh
        J = api.jacobian(text, {"x": x, "y": Y})["x"]
        k = int(np.argmax(x))
        np.testing.assert_array_equal(J[:, k], Y)
    with pytest.raises(JacError) as found:
        api.compile(text, {"x": ":4", "y": ":4"})
    assert "an index read off the inputs' values" in found.value.message
    assert "a compiled function cannot" in found.value.message
    with pytest.raises(JacError) as found:
        api.jacobian(text, {"x": np.stack([X, -X]), "y": np.stack([Y, Y])}, batch=["x", "y"])
    assert "cannot take batch" in found.value.message  # the API's words


@pytest.mark.parametrize("text,words", [
    ("x[x.sum()] * y", ["indices must be integer constants"]),  # a float: NumPy and PyTorch raise
    ("x[float(x.sum())] * y", ["indices must be integer constants"]),
    ("x[int(x.sum() * 10)] * y", ["index 18 is out of bounds"]),  # as Python's IndexError
])
def test_what_the_libraries_refuse_stays_refused(text, words):
    with pytest.raises(JacError) as found:
        api.evaluate(text, {"x": X, "y": Y})
    for word in words:
        assert word in found.value.message, found.value.message


def test_a_shape_reads_an_int_of_the_values_only_where_given():
    with pytest.raises(JacError) as found:  # jac shape has no values to read
        from jacobi_cli.tools import report
        report.shape_report("k = int((x > 0).sum())\nx[:k]", ["x:4"])
    assert "read off the inputs' values" in found.value.message


BRANCH = "if x.sum() > 0:\n    y = x * 2\nelse:\n    y = np.sin(x)\ny"


def _suite(cases: str):
    return suite.run_cases(suite.parse_suite(cases).cases)


def _case(name: str, x: list, jacobian: list, extra: str = "") -> str:
    return (f'[[case]]\nname = "{name}"\nexpr = {BRANCH!r}\nbindings = {{ x = {x} }}\n'
            f"jacobian.x = {jacobian}\n{extra}\n").replace("'", '"')


def test_a_suite_builds_a_case_testing_its_values_at_the_cases_values():
    c1, c2 = float(np.cos(-1.0)), float(np.cos(-2.0))  # d sin(x) / dx where the sum is negative
    text = (_case("positive", "[1.0, 2.0]", "[[2, 0], [0, 2]]", "value = [2.0, 4.0]\ncheck = true")
            + _case("negative", "[-1.0, -2.0]", f"[[{c1!r}, 0], [0, {c2!r}]]",
                    f"value = [{float(np.sin(-1.0))!r}, {float(np.sin(-2.0))!r}]\n[[case.vjp]]\nv = [1.0, 1.0]\n"
                    f"grad.x = [{c1!r}, {c2!r}]"))
    results = _suite(text)
    assert [r.status for r in results] == ["passed", "passed"], [r.failures or r.error for r in results]


def test_a_suite_case_expecting_the_other_branch_fails():
    results = _suite(_case("positive, the other branch expected", "[1.0, 2.0]",
                           f"[[{float(np.cos(1.0))!r}, 0], [0, {float(np.cos(2.0))!r}]]"))
    assert results[0].status == "failed"


def test_a_suite_case_batching_a_test_of_its_values_is_refused_alone():
    text = _case("fine", "[1.0, 2.0]", "[[2, 0], [0, 2]]") + (
        f'[[case]]\nname = "batched"\nexpr = {BRANCH!r}\nbindings = {{ x = [[1.0, 2.0], [-1.0, -2.0]] }}\n'
        'batch = ["x"]\nvalue = [[2, 4], [0, 0]]\n').replace("'", '"')
    results = _suite(text)
    assert [r.status for r in results] == ["passed", "error"]
    assert "cannot take --batch" in results[1].error["message"]


def test_a_hessian_through_a_matmul_of_an_inputs_own_rows_leaves_the_input_alone():
    # f = (d·y)² with d = y - flip(y): H = 2ggᵀ + 2(d·y)(2I - 2J), g = 2y - 2Jy, J the reversal
    y = np.array([1.0, 2.0, 3.0, 4.0])
    J = np.eye(4)[::-1]
    g, dy = 2 * y - 2 * J @ y, (y - J @ y) @ y
    want = 2 * np.outer(g, g) + 2 * dy * (2 * np.eye(4) - 2 * J)
    for text in ("((y - y.flip(0)) @ y) ** 2", "((y - np.flip(y)) @ y) ** 2"):
        given = y.copy()
        np.testing.assert_allclose(api.hessian(text, {"y": given})[("y", "y")], want, rtol=1e-14)
        np.testing.assert_array_equal(given, y)  # was overwritten with y - flip(y), the Hessian 148 for 112
