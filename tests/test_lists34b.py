"""Session 34 (h34b-lists): a function that changes a list (flat or nested) or a dict its caller passed, or that a
closure or the text's top level holds, changes the caller's object, as Python's functions do (was refused, and a
wrong answer before session 34); a function called for its effect alone (``fill(R, i, j, v)``, returning None); and
the small forms h34-lists left refused (``R[0][0], R[0][1] = a, b``, ``min(l)`` / ``max(l)``, ``R[0] += [v]``,
``R.copy()`` / ``copy.copy`` / ``copy.deepcopy``, ``for i, row in enumerate(R)``). Values against Python's own run,
Jacobians against central differences and PyTorch's / JAX's autograd, refusals in words."""
import numpy as np
import pytest

from jacobi_cli import errors
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from torch_models import float64  # noqa: F401 - a fixture

from test_lists34 import X, _python, _run  # noqa: F401 - Python's answer to a text, as test_lists34 runs it


HELPERS = [
    # a helper writes its caller's table, appends to its list, writes its dict; several deep; in loops
    'def fill(R, i, j, v):\n    R[i][j] = v\n    return 0.0\nR = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n'
    '    for j in range(3):\n        _ = fill(R, i, j, x[i] * x[j])\nsum(sum(r) for r in R)',
    'def fill(R, i, j, v):\n    R[i][j] = v\nR = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n'
    '    for j in range(3):\n        fill(R, i, j, x[i] * x[j] + (R[i-1][j] if i else 0.0))\nR[2][2] + R[1][0]',
    'def fill(T, i, v):\n    T[i][0] = v\nR = [[0.0] * 2 for _ in range(3)]\nfill(R, 1, x[0])\nR[1][0] + R[0][0]',
    'def push(out, v):\n    out.append(v)\nout = []\nfor k in range(3):\n    push(out, x[k] ** 2)\nout[0] * out[2] + len(out)',
    'def push(out, v):\n    out.append(v)\nout = [x[0]]\nb = out\npush(out, x[1])\nb[1] * len(b)',
    'def put(l, v):\n    l[0] = v\n    return 0.0\nl = [0.0, 1.0, 2.0]\nz = put(l, x[1])\nl[0] * l[2] + z',
    'def put(l, v):\n    l[1] += v\nm = [0.0, 1.0]\nput(m, x[0])\nput(m, x[2])\nm[1]',
    'def f(a, v):\n    a[1] = v\ndef g(b, v):\n    f(b, v)\n    return b[1] * 2\nl = [0.0, 1.0]\nz = g(l, x[1])\nl[1] + z',
    'def f(R):\n    R.pop()\n    return 1.0\nR = [x[0], x[1]]\nz = f(R)\nlen(R) + z',
    'def f(R):\n    v = R[0].pop()\n    R[1].insert(0, v)\nR = [[x[0], x[1]], [x[2]]]\nf(R)\nR[1][0] * len(R[0])',
    'def step(R, v):\n    R[0][0] = v\n    return 0.0\nR = [[0.0] * 2 for _ in range(2)]\nz = step(R, x[0])\nR[0][0] + z',
    "def f(d):\n    d['a'] = 5.0\n    return 1.0\nd = {'a': x[0]}\nz = f(d)\nd['a'] + z",
    "def f(d, k, v):\n    d[k] = v\nd = {}\nf(d, 'a', x[0])\nf(d, 'b', x[1] * d['a'])\nd['b'] + len(d)",
    'def inner(R, v):\n    R[1][1] = v\ndef outer(R, v):\n    inner(R, v * 2)\n    R[0].append(v)\n'
    'R = [[0.0] * 2 for _ in range(2)]\nouter(R, x[0])\nouter(R, x[1])\nR[1][1] + R[0][3] + len(R[0])',
    'def a(l, v):\n    l.append(v)\ndef b(l, v):\n    a(l, v)\n    a(l, -v)\ndef c(l, v):\n    b(l, v)\n    return len(l)\n'
    'out = []\nn = c(out, x[0])\nout[1] * n',
    'def f(row, v):\n    row[0] = v\nR = [[0.0] * 2 for _ in range(2)]\nf(R[1], x[2])\nR[1][0] + R[0][0]',
    'def f(row, v):\n    row[0] = v\nR = [[0.0] * 2] * 2\nf(R[1], x[2])\nR[0][0]',
    # what a closure or the top level holds
    'R = [[0.0] * 2 for _ in range(2)]\ndef f(v):\n    R[1][0] = v\nf(x[1])\nR[1][0] * 3',
    'l = [0.0] * 3\ndef f(v):\n    l[1] += v\nf(x[0])\nf(x[1])\nl[1]',
    'out = []\ndef push(v):\n    out.append(v)\nfor k in range(3):\n    push(x[k])\nout[2] - out[0]',
    'def make():\n    hist = []\n    def push(v):\n        hist.append(v)\n        return hist[-1] * len(hist)\n'
    '    return push\npush = make()\na = push(x[0])\nb = push(x[1] * 2)\na + b',
    # what Python keeps apart stays apart: copies, a list the function makes of its own, a snapshot
    'def f(R, v):\n    R[0][0] = v\n    return R\nR = [[0.0] * 2 for _ in range(2)]\nS = f(R, x[0])\nS[0][0] + R[0][0]',
    'def f(R, v):\n    R = [r[:] for r in R]\n    R[0][0] = v\n    return R[0][0]\nR = [[0.0] * 2 for _ in range(2)]\n'
    'f(R, x[1]) + R[0][0]',
    'def f(l, v):\n    l.append(v)\nl = [x[0]]\nt = tuple(l)\nf(l, x[1])\nlen(t) + len(l)',
    'def f(l, v):\n    l.append(v)\nl = [x[0]]\nt = l[:]\nf(l, x[1])\nlen(t) * 10 + len(l)',
    'def f(l, v):\n    l[0] = v\nl = [0.0, 1.0]\nt = l[:]\nf(l, x[1])\nt[0] * 10 + l[0]',
    'def f(R, v):\n    R[0] = [v]\nR = [[0.0, 1.0] for _ in range(2)]\nt = tuple(R)\nf(R, x[1])\nt[0][0] * 10 + R[0][0]',
    'def f(R):\n    R.append([0.0] * 2)\n    R[-1][1] = x[1]\nR = []\nf(R)\nf(R)\nR[1][1] + len(R)',
    'def clear(R):\n    R.clear()\nR = [x[0], x[1]]\nb = R\nclear(R)\nlen(b) + x[0]',
    'def g(l):\n    l.append(x[1])\ndef f():\n    l = [x[0]]\n    g(l)\n    g(l)\n    return l[2] * len(l)\nf() + f()',
    # a call as a statement, a None bound
    'def push(out, v):\n    if v is None:\n        return\n    out.append(v)\nout = []\npush(out, x[0])\n'
    'push(out, None)\nz = push(out, x[1])\nout[1] * len(out) + (z is None)',
    'def f(v):\n    return v * 2\nf(x)\nx',
]
SMALL = [
    'R = [[0.0] * 2 for _ in range(2)]\nR[0][0], R[0][1] = x[0], x[1]\nR[0][0] * R[0][1]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[1][0], R[0][1] = x[2], R[1][0]\nR[1][0] + R[0][1]',
    'l = [x[0], x[1]]\nl[0], l[1] = l[1], l[0]\nl[0] * 10 + l[1]',
    'l = [x[0], x[1], x[2]]\nmin(l) + max(l)',
    'l = [3.0, 1.0, 2.0]\nmin(l) * x',
    'l = []\nl.append(x[0])\nl.append(x[1])\nmax(l) * 2 + min((x[1], x[2]))',
    'R = [[0.0] for _ in range(2)]\nR[0] += [x[1]]\nR[0][1] * len(R[0]) + len(R[1])',
    'R = [[0.0] for _ in range(2)]\nrow = R[0]\nR[0] += [x[1], x[2]]\nrow[2] * len(row)',
    'R = [[0.0]] * 2\nR[0] += [x[1], x[2]]\nR[1][2] * len(R[1])',
    'R = [[1.0, 2.0] for _ in range(2)]\nS = R.copy()\nR[0][0] = x[0]\nS[0][0]',
    'import copy\nR = [[1.0, 2.0] for _ in range(2)]\nS = copy.copy(R)\nR[1][1] = x[1]\nS[1][1] + len(S)',
    'import copy\nR = [[1.0, 2.0] for _ in range(2)]\nS = copy.deepcopy(R)\nR[1][1] = x[1]\nS[1][1] + R[1][1]',
    'import copy\nr = [1.0, 2.0]\nR = [r, r]\nS = copy.deepcopy(R)\nS[0][0] = x[2]\nS[1][0] * R[0][0]',
    'import copy\ny = copy.copy(x)\ny[0] = 5.0\ny + x',
    "import copy\nd = {'a': x[0]}\ne = copy.copy(d)\ne['a'] = 2.0\nd['a'] * e['a']",
    'R = [[0.0] * 2 for _ in range(3)]\nfor i, row in enumerate(R):\n    row[0] = x[i]\nR[0][0] * R[2][0] + R[1][1]',
    # an item of a list of lists of numbers is Python's list: + concatenates (was NumPy's +, a wrong answer)
    'cand = []\ncand.append([] + [1])\ncand.append([0] + [2])\nb = cand[1]\nlen(b + [3]) * x',
]
NW_FILL = """n, m, g, gamma = 3, 4, -0.5, 0.3
def smax(a, b, c):
    mx = np.maximum(np.maximum(a, b), c)
    return mx + gamma * np.log(np.exp((a - mx) / gamma) + np.exp((b - mx) / gamma) + np.exp((c - mx) / gamma))
def init(F):
    for i in range(1, n + 1):
        F[i][0] = g * i
    for j in range(1, m + 1):
        F[0][j] = g * j
def fill(F, i, j):
    F[i][j] = smax(F[i-1][j-1] + D[i-1, j-1], F[i-1][j] + g, F[i][j-1] + g)
F = [[0.0] * (m + 1) for _ in range(n + 1)]
init(F)
for i in range(1, n + 1):
    for j in range(1, m + 1):
        fill(F, i, j)
F[n][m]"""
VITERBI = """T, S = 4, 3
A = np.log(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]))
def forward(score, bp):
    for s in range(S):
        score[0][s] = D[0, s]
    for t in range(1, T):
        for s in range(S):
            cand = [score[t-1][k] + A[k, s] for k in range(S)]
            k = int(np.argmax(np.array(cand)))
            bp[t][s] = k
            score[t][s] = cand[k] + D[t, s]
def backtrack(bp, last, path):
    path.append(last)
    for t in range(T - 1, 0, -1):
        path.append(bp[t][path[-1]])
    path.reverse()
score = [[0.0] * S for _ in range(T)]
bp = [[0] * S for _ in range(T)]
forward(score, bp)
last = int(np.argmax(np.array(score[T-1])))
path = []
backtrack(bp, last, path)
score[T-1][last] + sum(D[t, path[t]] for t in range(T)) * 0.5"""
MEMO = """memo = {}
def f(i):
    if i in memo:
        return memo[i]
    if i < 2:
        v = D[i, 0]
    else:
        v = np.logaddexp(f(i - 1), f(i - 2) + D[i % 3, 1])
    memo[i] = v
    return v
for i in range(6):
    _ = f(i)
memo[5] + len(memo)"""
SCORES = np.array([[0.1, 0.5, 0.9, 0.3], [0.4, 0.2, 0.7, 0.8], [0.6, 0.3, 0.1, 0.5]])
LOGP = np.log(np.array([[0.5, 0.3, 0.2], [0.15, 0.6, 0.25], [0.27, 0.33, 0.4], [0.6, 0.1, 0.3]]))


@pytest.mark.parametrize("text", HELPERS + SMALL)
def test_lists_change_as_python_changes_them(text):
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), _python(text, X), rtol=1e-14)


@pytest.mark.parametrize("text", HELPERS + SMALL)
def test_their_jacobians_agree_with_central_differences(text):
    want = central_jacobian(lambda v: _python(text, v), X)
    J = np.asarray(api.jacobian(text, {"x": X})["x"]).reshape(np.shape(want))
    np.testing.assert_allclose(J, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text,D", [(NW_FILL, SCORES), (VITERBI, LOGP), (MEMO, SCORES)],
                         ids=["needleman-wunsch-fill", "viterbi-backtrack", "memo-dict"])
def test_tables_filled_in_helpers_against_python_and_central_differences(text, D):
    def python(d):
        return np.asarray(_run(text, {"np": np, "D": d.copy()}), dtype=float)
    np.testing.assert_allclose(api.evaluate(text, {"D": D}), python(D), rtol=1e-13)
    J = np.asarray(api.jacobian(text, {"D": D})["D"])
    np.testing.assert_allclose(J, central_jacobian(python, D).reshape(J.shape), rtol=1e-6, atol=1e-9)


def test_a_helper_filling_the_functions_own_table_under_jax_grad_is_jaxs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    text = ("import jax, jax.numpy as jnp\ndef g(R, i, v):\n    R[i][0] = jnp.sin(v)\n    R[i].append(v * R[i][0])\n"
            "def f(x):\n    R = [[0.0] for _ in range(2)]\n    g(R, 0, x[0] * x[1])\n    g(R, 1, x[2])\n"
            "    return R[0][1] * R[1][1] + len(R[0])\njax.grad(f)(x)")
    run = (lambda v: _run(text, {"x": v}))
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), np.asarray(run(jax.numpy.asarray(X))), rtol=1e-13)
    H = np.asarray(jax.jacobian(run)(jax.numpy.asarray(X)))
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], H, rtol=1e-11, atol=1e-13)


def test_a_helper_appending_under_torch_func_grad_is_pytorchs(float64):  # noqa: F811
    torch = pytest.importorskip("torch")
    text = ("import torch\ndef g(R, v):\n    R.append(v)\ndef f(x):\n    R = []\n    for k in range(3):\n"
            "        g(R, x[k] ** 2)\n    return R[0] * R[2] + torch.sin(R[1])\ntorch.func.grad(f)(x)")
    t = torch.tensor(X, dtype=torch.float64)
    run = (lambda v: _run(text, {"torch": torch, "x": v}))
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), run(t).numpy(), rtol=1e-13)
    H = torch.autograd.functional.jacobian(run, t).numpy()
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], H, rtol=1e-11, atol=1e-13)


def test_a_helper_under_jax_vmap_of_grad_is_jaxs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    text = ("import jax, jax.numpy as jnp\ndef g(R, v):\n    R[0][1] = jnp.sin(v)\ndef f(x):\n"
            "    R = [[0.0] * 2 for _ in range(2)]\n    g(R, x[0])\n    return R[0][1] * x[1]\n"
            "jax.vmap(jax.grad(f))(jnp.stack([x, 2 * x]))")
    want = np.asarray(_run(text, {"x": jax.numpy.asarray(X)}))
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), want, rtol=1e-13)


REFUSED = [  # (text, words the refusal says)
    ('import jax\nR = [[0.0] * 2 for _ in range(2)]\ndef f(v):\n    R[1][0] = v[0]\n    return v[0] * 2\njax.grad(f)(x)',
     "inside a function that a transform traces"),
    ('def f(y):\n    y[0] = 5.0\n    return y[0]\ny = x * 1\nl = [y]\nz = f(y)\ny[0] + z', "shares its memory with 'l'"),
    ('def f(l):\n    l.append(1.0)\n    return 0.0\nl = [x[0]]\nd = {"a": l}\nz = f(l)\nlen(d["a"])', "which 'd' holds too"),
    ('def push(out, v):\n    out.append(v)\nout = []\nz = push(out, x[0])\nz * 2', "None is not a number"),
    ('def push(out, v):\n    out.append(v)\nout = []\npush(out, x[0])', "value is None"),
    ('def f(v, acc=[]):\n    acc.append(v)\n    return len(acc)\nf(x[0]) + f(x[1])', "takes its default 'acc' again"),
    ('y = x * 1\ny[0], y[1] = y[1], y[0]\ny', "shares its memory"),  # PyTorch's views swap otherwise than NumPy
    ('R = [[0.0] * 2 for _ in range(2)]\nR[0][0], R[0][1] = x[0], x[1], x[2]\nR[0][0]', "too many values to unpack"),
    ('R = [[0.0] for _ in range(2)]\nR[0] *= 2\nR[0][0]', "changes in place"),
    ('min([x, x])', "not a list or tuple of arrays"),
    ('max([])', "empty"),
]


@pytest.mark.parametrize("text", [  # refused until session 47 (then in REFUSED): the list the call writes is followed
    'def f(l, v):\n    l[0] = v\nl = [0.0, 1.0]\nt = list(l)\nf(l, x[1])\nt[0] * 10 + l[0]',
    'def f(l, v):\n    l[0] = v\nl = [0.0, 1.0]\nt = list(l)\nf(t, x[1])\nt[0] * 10 + l[0]',
    'def f(l, v):\n    l[0] = v\nl = [0.0, 1.0]\nt = l\nf(l, x[1])\nt[0] * 10 + l[0]',
])
def test_a_callers_list_of_numbers_written_by_a_call_is_pythons(text):
    x = np.array([0.5, -1.5, 2.0])
    scope = {"x": x}
    exec(text.rsplit("\n", 1)[0], scope)  # noqa: S102 - the test's own texts
    assert float(api.evaluate(text, {"x": x})) == eval(text.rsplit("\n", 1)[1], scope)  # noqa: S307


@pytest.mark.parametrize("text,words", REFUSED)
def test_what_jac_cannot_follow_is_refused_in_words(text, words):
    with pytest.raises(errors.JacError) as caught:
        api.evaluate(text, {"x": X})
    assert words in str(caught.value)
