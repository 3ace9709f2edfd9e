"""Session 34 (h34-lists): Python's nested lists whose rows are names (``R = [r0, r0]``), an inner or outer list's
insert / pop / del / remove / reverse / sort / clear, tables of None filled before they are read, tables made inside
a function (under jax.grad and torch.func.grad too), a Python list as an index, and a caller's list or array changed
under a parameter of the same name (a wrong answer before, refused now): values against Python's own run, Jacobians
against central differences and PyTorch's / JAX's autograd, refusals in words."""
import numpy as np
import pytest

from jacobi_cli import errors
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from torch_models import float64  # noqa: F401 - a fixture

X = np.array([0.5, -1.5, 2.0])


def _run(text: str, env: dict):
    *body, last = text.split("\n")
    exec("\n".join(body), env)  # noqa: S102 - the test's own text
    return eval(last, env)  # noqa: S307


def _python(text: str, x: np.ndarray):
    return np.asarray(_run(text, {"np": np, "x": x.copy()}), dtype=float)


VALUES = [
    # rows that are names: one list held twice, two lists, a copy per row
    'r0 = [0.0] * 3\nR = [r0, r0]\nR[0][1] = x[0]\nR[1][1] * x[1]',
    'a = [0.0, 1.0]\nb = [2.0, 3.0]\nR = [a, b]\nR[0][0] = x[0]\na[0] * R[1][1]',
    'a = [0.0, 1.0]\nb = [2.0, 3.0]\nR = [a, b]\na[1] = x[1]\nR[0][1] + b[0]',
    'row = [0.0] * 2\nR = [row[:] for _ in range(3)]\nR[0][0] = x[0]\nR[1][0] + R[0][0]',
    'row = [0.0] * 2\nR = [list(row) for _ in range(3)]\nR[2][1] = x[1]\nR[2][1] + R[1][1] + row[1]',
    'row = [0.0] * 2\nR = [row for _ in range(2)]\nR[1][1] = x[2]\nR[0][1] * 2 + row[1]',
    'R = []\nfor i in range(3):\n    R.append([0.0] * 2)\nR[1][0] = x[0]\nR[1][0] + R[0][0]',
    'a = [1.0, 2.0]\nb = a\nR = [a, b]\na[0] = x[0]\nb[0] * R[1][0]',
    'R = [[1.0, 2.0] for _ in range(2)]\nS = [R[0], R[1]]\nS[0][0] = x[0]\nR[0][0]',
    # an inner or outer list's other changes
    'R = [[0.0, 1.0, 2.0] for _ in range(2)]\nR[0][0] = x[0]\nv = R[0].pop()\nv + len(R[0]) + R[0][-1] * x[1]',
    'R = [[0.0, 1.0, 2.0] for _ in range(2)]\nR[0][1] = x[1]\ndel R[0][0]\nR[0][0] + len(R[0])',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[1].insert(0, x[0])\nR[1][0] * R[1][2] + len(R[1])',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[0].reverse()\nR[0][0] = x[0]\nR[0][0] + R[0][2]',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[1].sort()\nR[1][2] * x[1]',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[0].remove(1.0)\nR[0][1] * x[0]',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[1].clear()\nR[1].append(x[2])\nR[1][0] + len(R[1])',
    'R = [[0.0] * 2] * 2\ndel R[1][0]\nR[0].insert(0, x[1])\nR[1][0] * len(R[0])',
    'R = [[0.0, 1.0] for _ in range(3)]\nrow = R[1]\nR.pop(0)\nrow[0] = x[2]\nR[0][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nW = [R]\ndel R[0]\nlen(W[0]) * x',
    'a = [1.0, 2.0]\na.insert(0, x[0])\na.pop()\na[0] * len(a)',
    'y = [3.0, 1.0, 2.0]\ny.sort()\nx * np.array(y)',
    # tables of None, filled before they are read
    'T, S = 3, 2\nalpha = [[None] * S for _ in range(T)]\nfor t in range(T):\n    for s in range(S):\n'
    '        alpha[t][s] = x[s] * (t + 1) + (alpha[t-1][s] if t else 0.0)\nalpha[T-1][0] + alpha[T-1][1]',
    'bp = [[None] * 2 for _ in range(2)]\nbp[0][0] = 1\nbp[0][1] = 0\nx[bp[0][0]] * x[bp[0][1]]',
    'R = [[None] * 2] * 2\nR[0][1] = x[1]\nR[1][1] * 2',
    # ragged rows, row copies, a 3-d table, a function's own table
    'R = [[0.0] * (i + 1) for i in range(3)]\nfor i in range(3):\n    for j in range(i + 1):\n'
    '        R[i][j] = x[j] * (R[i-1][j] if 0 < i and j < i else 1.0)\nR[2][2] + R[2][0] + len(R[1])',
    'R = [[0.0] * 3]\nfor i in range(2):\n    R.append(R[-1][:])\n    R[-1][i] = x[i]\nR[2][0] + R[2][1] + R[1][1]',
    'R = [[[0.0] * 2 for _ in range(3)] for _ in range(2)]\nfor a in range(2):\n    for b in range(3):\n'
    '        for c in range(2):\n            R[a][b][c] = x[a] * x[b] + c * (R[a][b-1][c] if b else 1.0)\n'
    'R[1][2][1] + R[0][1][0] * R[1][0][1]',
    'def f(v):\n    R = [[0.0] * 3 for _ in range(3)]\n    for i in range(3):\n        for j in range(3):\n'
    '            R[i][j] = v[i] * v[j] + (R[i-1][j] if i else 0.0)\n    return R[-1][-1]\nf(x) + f(2 * x)',
    # a Python list as an index is NumPy's index array
    'A = np.outer(x, x)\nR = [[0, 1] for _ in range(2)]\nR[0][0] = 2\nA[R[0]]',
    'y = [1, 2, 0]\ny.append(1)\nx[y[0]] + x[y[3]] + x[y[:3]].sum()',
]


@pytest.mark.parametrize("text", VALUES)
def test_nested_lists_change_as_python_changes_them(text):
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), _python(text, X), rtol=1e-14)


@pytest.mark.parametrize("text", VALUES)
def test_their_jacobians_agree_with_central_differences(text):
    want = central_jacobian(lambda v: _python(text, v), X)
    J = np.asarray(api.jacobian(text, {"x": X})["x"]).reshape(np.shape(want))
    np.testing.assert_allclose(J, want, rtol=1e-6, atol=1e-8)


NEEDLEMAN_WUNSCH = """n, m, g, gamma = 3, 4, -0.5, 0.3
def smax(a, b, c):
    mx = np.maximum(np.maximum(a, b), c)
    return mx + gamma * np.log(np.exp((a - mx) / gamma) + np.exp((b - mx) / gamma) + np.exp((c - mx) / gamma))
F = [[0.0] * (m + 1) for _ in range(n + 1)]
for i in range(1, n + 1):
    F[i][0] = g * i
for j in range(1, m + 1):
    F[0][j] = g * j
for i in range(1, n + 1):
    for j in range(1, m + 1):
        F[i][j] = smax(F[i-1][j-1] + D[i-1, j-1], F[i-1][j] + g, F[i][j-1] + g)
F[n][m]"""
CTC = """ext = [0, 1, 0, 2, 0]
T, S = 4, len(ext)
alpha = [[-np.inf] * S for _ in range(T)]
alpha[0][0] = D[0, ext[0]]
alpha[0][1] = D[0, ext[1]]
for t in range(1, T):
    for s in range(S):
        a = alpha[t-1][s]
        if s >= 1:
            a = np.logaddexp(a, alpha[t-1][s-1])
        if s >= 2 and ext[s] != 0 and ext[s] != ext[s-2]:
            a = np.logaddexp(a, alpha[t-1][s-2])
        alpha[t][s] = a + D[t, ext[s]]
-np.logaddexp(alpha[T-1][S-1], alpha[T-1][S-2])"""
SCORES = np.array([[0.1, 0.5, 0.9, 0.3], [0.4, 0.2, 0.7, 0.8], [0.6, 0.3, 0.1, 0.5]])
LOGP = np.log(np.array([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]]))


@pytest.mark.parametrize("text,D", [(NEEDLEMAN_WUNSCH, SCORES), (CTC, LOGP)], ids=["needleman-wunsch", "ctc"])
def test_realistic_tables_against_python_and_central_differences(text, D):
    def python(d):
        return np.asarray(_run(text, {"np": np, "D": d.copy()}), dtype=float)
    np.testing.assert_allclose(api.evaluate(text, {"D": D}), python(D), rtol=1e-13)
    J = np.asarray(api.jacobian(text, {"D": D})["D"])
    np.testing.assert_allclose(J, central_jacobian(python, D).reshape(J.shape), rtol=1e-6, atol=1e-9)


def test_a_table_in_a_function_under_torch_func_grad_is_pytorchs(float64):  # noqa: F811
    torch = pytest.importorskip("torch")
    text = ("import torch\ndef f(x):\n    R = [[torch.tensor(0.0)] * 3 for _ in range(3)]\n    for i in range(3):\n"
            "        for j in range(3):\n            up = R[i-1][j] if i else torch.tensor(0.0)\n"
            "            left = R[i][j-1] if j else torch.tensor(0.0)\n"
            "            R[i][j] = torch.logaddexp(up, left) + x[i] * x[j]\n    R[2].pop(0)\n    return R[2][1]\n"
            "torch.func.grad(f)(x)")
    t = torch.tensor(X, dtype=torch.float64)
    run = (lambda v: _run(text, {"torch": torch, "x": v}))
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), run(t).numpy(), rtol=1e-13)
    H = torch.autograd.functional.jacobian(run, t).numpy()
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], H, rtol=1e-11, atol=1e-13)


def test_a_table_of_rows_that_are_names_under_jax_grad_is_jaxs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    text = ("import jax, jax.numpy as jnp\ndef f(x):\n    r0 = [0.0] * 3\n    R = [r0, r0[:]]\n    R[0][1] = x[0] * x[1]\n"
            "    R[1].insert(0, jnp.sin(r0[1]))\n    return R[1][0] * x[2] + R[1][2]\njax.grad(f)(x)")
    run = (lambda v: _run(text, {"x": v}))
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), np.asarray(run(jax.numpy.asarray(X))), rtol=1e-13)
    H = np.asarray(jax.jacobian(run)(jax.numpy.asarray(X)))
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], H, rtol=1e-11, atol=1e-13)


REFUSED = [  # (text, words the refusal says): never a list or array from before a change (a caller's list or dict
    # changed in a function: followed since h34b-lists, tests/test_lists34b.py)
    ('def f(y):\n    y[0] = 5.0\n    return y[0]\ny = x * 1\nl = [y]\nz = f(y)\ny[0] + z', "shares its memory with 'l'"),
    ("R = [[1.0, 2.0] for _ in range(2)]\nS = {'a': R[0]}\nR[0][0] = x[0]\nS['a'][0]", "which 'S' holds too"),
    ('R = [[None] * 2 for _ in range(2)]\nR[0][0] = x[0]\nR[0][0] + R[1][1]', "None is not a number"),
    ('R = [[x[0], x[1]] for _ in range(2)]\nR[0].remove(0.5)\nR[0][0]', "depends on the inputs"),
    ('R = [[0.0, 1.0] for _ in range(2)]\nR[1][0] = x[1]\nR.sort()\nR[0][0]', "sorts the list by its items' values"),
    ('R = [[0.0, 1.0] for _ in range(2)]\nR[0].pop(5)\nR[0][0]', "pop index out of range"),
    ('R = [[0.0, 1.0] for _ in range(2)]\nR[0].remove(7.0)\nR[0][0]', "x not in list"),
    ('A = np.outer(x, x)\nout = [x[0]]\nout.append(x[1])\nA[out]', "a Python list as an index is NumPy's index array"),
]


def test_a_write_into_the_callers_array_is_followed_since_session_47():
    """Refused until session 47 (then in REFUSED): the caller's y is the array the function writes, as NumPy's."""
    text = 'def f(y):\n    y[0] = 5.0\n    return y[0]\ny = x * 1\nz = f(y)\ny[0] + z'
    assert float(api.evaluate(text, {"x": X})) == 10.0


@pytest.mark.parametrize("text,words", REFUSED)
def test_what_jac_cannot_follow_is_refused_in_words(text, words):
    with pytest.raises(errors.JacError) as caught:
        api.evaluate(text, {"x": X})
    assert words in str(caught.value)


def test_a_parameter_named_as_the_callers_list_reading_it_only_still_answers():
    text = ('def f(R):\n    R = [r[:] for r in R]\n    R[0][0] = x[1]\n    return R[0][0]\n'
            'R = [[0.0] * 2 for _ in range(2)]\nf(R) + R[0][0] + f(R)')
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), _python(text, X))
