"""Session 33 (h33d-lists): Python's nested lists written item by item, as dynamic-programming tables are filled:
values against Python's own run, derivatives against central differences, refusals in words."""
import numpy as np
import pytest

from jacobi_cli import errors
from jacobi_cli.tools import api

X = np.array([0.5, -1.5, 2.0])


def _python(text: str, x: np.ndarray):
    *body, last = text.split("\n")
    env = {"np": np, "x": x.copy()}
    exec("\n".join(body), env)
    return np.asarray(eval(last, env), dtype=float)


VALUES = [
    'R = [[float("inf")] * 3 for _ in range(3)]\nR[0][0] = 0.0\nR[1][1] = R[0][0] + x[0]\nR[1][1] * x[1]',
    'R = [[0.0] * 3] * 2\nR[0][1] = x[0]\nR[1][1] * x[2]',  # one inner list held twice: both rows see the write
    'R = [[0.0, 1.0], [2.0, 3.0]] * 2\nR[0][0] = x[1]\nR[2][0] * R[1][1]',
    'R = [[0.0] * 3] * 2\nR[0] = [x[0], x[1], x[2]]\nR[1][0] + R[0][0]',  # the row rebound: the other keeps its list
    'R = [[0.0] * 2 for _ in range(2)]\nrow = R[0]\nrow[1] = x[1]\nR[0][1] * x[0]',
    'R = [[0.0] * 2 for _ in range(2)]\nrow = R[0]\nR[0][0] = x[2]\nrow[0] + 1',
    'R = [[0.0] * 2 for _ in range(2)]\nR[1].append(x[0])\nR[1][2] * 3 + len(R[1])',
    'R = [[0.0] * 2 for _ in range(2)]\nS = R[:]\nS[0][1] = x[0]\nR[0][1] * x[1]',  # a shallow copy shares rows
    'R = [[0.0] * 2 for _ in range(2)]\nS = list(R)\nS[1][0] = x[0]\nR[1][0] + x[2]',
    'R = [[0.0] * 2 for _ in range(2)]\nS = R[:]\nS[0] = [x[0], x[0]]\nR[0][0] + S[0][0]',
    'R = [[1.0, 2.0], [3.0, 4.0]]\nfor row in R:\n    row[0] = row[1] * x[0]\nR[1][0] + R[0][0]',
    'R = [[1.0, 2.0], [3.0, 4.0]]\nR[1][0] += x[1]\nR[1][0] * R[0][1]',
    'R = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n    for j in range(3):\n        R[i][j] = x[i] * x[j]\nnp.array(R)',
    'R = [[[0.0] * 2 for _ in range(2)] for _ in range(2)]\nR[1][0][1] = x[1]\nR[1][0][1] * R[0][0][0] + R[1][0][1]',
    'R = [[0.0] * 2 for _ in range(2)]\nW = [R[0], R[0]]\nR[0][0] = x[0]\nW[1][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[0] = R[1]\nR[0].append(x[1])\nR[1][2] * len(R[0])',
    'def f(v):\n    T = [[0.0] * 2 for _ in range(2)]\n    T[1][1] = v * 2\n    return T[1][1]\nf(x[0]) + f(x[1])',
    'row = [0.0, 1.0]\nR = [row, row]\nR[0][0] = x[0]\nR[1][0]',  # refused in session 33, followed since 34
    'row = [0.0, 1.0]\nR = [row] * 2\nR[0][0] = x[0]\nR[1][0]',
]


@pytest.mark.parametrize("text", VALUES)
def test_nested_lists_are_written_as_python_writes_them(text):
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), _python(text, X), rtol=1e-14)


@pytest.mark.parametrize("text", VALUES)
def test_their_jacobians_agree_with_central_differences(text):
    want = _python(text, X)
    h, cols = 1e-6, []
    for k in range(X.size):
        e = np.eye(X.size)[k] * h
        cols.append(((_python(text, X + e) - _python(text, X - e)) / (2 * h)).ravel())
    J = np.asarray(api.jacobian(text, {"x": X})["x"]).reshape(want.size, X.size)
    np.testing.assert_allclose(J, np.stack(cols, axis=-1), rtol=1e-6, atol=1e-8)


def test_edit_distance_with_a_soft_minimum():
    text = ("n = m = 3\nC = [[0.0] * (m + 1) for _ in range(n + 1)]\nfor i in range(n + 1):\n    C[i][0] = float(i)\n"
            "for j in range(m + 1):\n    C[0][j] = float(j)\nfor i in range(1, n + 1):\n    for j in range(1, m + 1):\n"
            "        v = np.array([C[i-1][j] + 1.0, C[i][j-1] + 1.0, C[i-1][j-1] + x[i-1] * j])\n"
            "        C[i][j] = -np.log(np.sum(np.exp(-v)))\nC[n][m]")
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), _python(text, X), rtol=1e-13)


REFUSED = [  # (text, words the refusal says)
    ('R = [[0.0] * 2 for _ in range(2)]\nd = {"t": R}\nR[0][0] = x[0]\nd["t"][0][0]', "which 'd' holds too"),
    ('R = [x * 1, x * 2]\nR[0][1] = 5.0\nR[0][1]', "R[0] is an array held in the list 'R'"),
    ('y = x * 1\ny[0][1] = 3.0\ny', "'y' is an array, not a Python list: write its element at one index (y[i, j]"),
    ('R = [[0.0] * 2 for _ in range(2)]\nR[5][0] = x[0]\nR[0][0]', "list index 5 out of range"),
]


@pytest.mark.parametrize("text,words", REFUSED)
def test_what_cannot_be_exact_is_refused_naming_the_list(text, words):
    with pytest.raises(errors.JacError) as caught:
        api.evaluate(text, {"x": X})
    assert words in str(caught.value)
    assert "writing into an array" not in str(caught.value)
