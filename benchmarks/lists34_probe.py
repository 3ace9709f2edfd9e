"""Session 34's probe of Python's nested lists in jac's texts (h34-lists), after lists33_probe.py: rows that are names
(``R = [r0, r0]``, ``R = [a, b]``), a list's other changes on inner and outer lists (insert, pop, del, remove,
reverse, sort, clear), tables built and filled inside a function (called several times, under jax.grad and
torch.func.grad), ``[[None] * S for _ in range(T)]`` filled before it is read, and realistic dynamic programs
(Needleman-Wunsch with a soft maximum, CTC's forward pass with logaddexp, a 3-d table, Viterbi with back-pointers).
Each text is run by Python itself (NumPy arrays; PyTorch tensors where it names torch; JAX arrays where it names jax)
and by the jac of the checkout TREE: values compared, jac's Jacobian against central differences of Python's own
run, and against PyTorch's (or JAX's) autograd where the text names it.

    /work/benchvenv/bin/python benchmarks/lists34_probe.py TREE [-v]

Outcomes: OK; REF (jac refuses, saying why, where Python answers); both (both refuse); WRONG (another value or
Jacobian, no word); ANSWERS where Python raises; CRASH (not a JacError). Run by hand, never as a test.
"""
import collections
import sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
import jacobi_cli  # noqa: E402
from jacobi_cli import errors  # noqa: E402

torch.set_default_dtype(torch.float64)
X = np.array([0.5, -1.5, 2.0])
D = np.array([[0.1, 0.5, 0.9, 0.3], [0.4, 0.2, 0.7, 0.8], [0.6, 0.3, 0.1, 0.5]])
LOGP = np.log(np.array([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]]))

ROWS = [  # 1. rows that are names
    'r0 = [0.0] * 3\nR = [r0, r0]\nR[0][1] = x[0]\nR[1][1] * x[1]',
    'a = [0.0, 1.0]\nb = [2.0, 3.0]\nR = [a, b]\nR[0][0] = x[0]\na[0] * R[1][1]',
    'a = [0.0, 1.0]\nb = [2.0, 3.0]\nR = [a, b]\na[1] = x[1]\nR[0][1] + b[0]',
    'a = [0.0, 1.0]\nR = [a, [2.0, 3.0]]\nR[1][0] = x[2]\nR[1][0] * a[1]',
    'row = [0.0, 1.0]\nR = [row] * 2\nR[0][0] = x[0]\nR[1][0]',
    'row = [0.0, 1.0]\nR = [row, row]\nR[0][0] = x[0]\nR[1][0]',
    'row = [0.0] * 2\nR = [row[:] for _ in range(3)]\nR[0][0] = x[0]\nR[1][0] + R[0][0]',
    'row = [0.0] * 2\nR = [list(row) for _ in range(3)]\nR[2][1] = x[1]\nR[2][1] + R[1][1] + row[1]',
    'row = [0.0] * 2\nR = [row.copy() for _ in range(2)]\nR[1][1] = x[2]\nR[1][1] * 2 + R[0][1]',
    'row = [0.0] * 2\nR = [row for _ in range(2)]\nR[1][1] = x[2]\nR[0][1] * 2 + row[1]',
    'R = []\nfor i in range(3):\n    R.append([0.0] * 2)\nR[1][0] = x[0]\nR[1][0] + R[0][0]',
    'R = []\nrow = [1.0, 2.0]\nfor i in range(2):\n    R.append(row)\nR[0][1] = x[1]\nR[1][1] * x[0]',
    'a = [x[0], x[1]]\nb = [x[2], x[0]]\nR = [a, b]\nR[1][1] = a[0] * 3\nR[1][1] + b[1]',
    'a = [1.0, 2.0]\nR = [a, a[:]]\nR[0][0] = x[0]\nR[1][0] + a[0]',
]
CHANGES = [  # 2. insert / pop / del / remove / reverse / sort / clear
    'R = [[0.0, 1.0, 2.0] for _ in range(2)]\nR[0][0] = x[0]\nv = R[0].pop()\nv + len(R[0]) + R[0][-1] * x[1]',
    'R = [[0.0, 1.0, 2.0] for _ in range(2)]\nR[1][2] = x[2]\nR[1].pop(0)\nR[1][1] * x[0]',
    'R = [[0.0, 1.0, 2.0] for _ in range(2)]\nR[0][1] = x[1]\ndel R[0][0]\nR[0][0] + len(R[0])',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[1].insert(0, x[0])\nR[1][0] * R[1][2] + len(R[1])',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[0].reverse()\nR[0][0] = x[0]\nR[0][0] + R[0][2]',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[1].sort()\nR[1][2] * x[1]',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[1].clear()\nR[1].append(x[2])\nR[1][0] + len(R[1])',
    'R = [[3.0, 1.0, 2.0] for _ in range(2)]\nR[0].remove(1.0)\nR[0][1] * x[0]',
    'R = [[0.0, 1.0] for _ in range(3)]\nR[1][0] = x[1]\nR.pop(0)\nR[0][0] * x[2]',
    'R = [[0.0, 1.0] for _ in range(3)]\nR[2][1] = x[1]\ndel R[0]\nR[1][1] + len(R)',
    'R = [[0.0, 1.0] for _ in range(2)]\nR.insert(0, [x[0], x[1]])\nR[0][1] + R[1][1] + len(R)',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[0][0] = x[0]\nR.reverse()\nR[1][0] * x[1]',
    'R = [[0.0, 1.0] for _ in range(3)]\nrow = R[1]\nR.pop(0)\nrow[0] = x[2]\nR[0][0]',
    'R = [[0.0] * 2] * 2\nR[0].pop()\nR[1].append(x[0])\nR[0][1] + len(R[1])',
    'R = [[0.0] * 2] * 2\ndel R[1][0]\nR[0].insert(0, x[1])\nR[1][0] * len(R[0])',
    'R = [[0.0, 1.0] for _ in range(2)]\nrow = R[0]\nrow.pop()\nrow.append(x[0])\nR[0][1] * 2',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[0][0] = x[0]\nR.clear()\nlen(R) + x[1]',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[0][1] = x[0]\nlast = R.pop()\nlast[0] = x[2]\nR[0][1] + last[0]',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[0].pop(5)\nR[0][0]',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[0].remove(7.0)\nR[0][0]',
    'R = [[x[0], x[1]] for _ in range(2)]\nR[0].remove(0.5)\nR[0][0]',
    'R = [[0.0, 1.0] for _ in range(2)]\nR[1][0] = x[1]\nR.sort()\nR[0][0]',
]
FUNCTIONS = [  # 3. tables built and filled inside a function
    'def f(v):\n    R = [[0.0] * 3 for _ in range(3)]\n    for i in range(3):\n        for j in range(3):\n'
    '            R[i][j] = v[i] * v[j] + (R[i-1][j] if i else 0.0)\n    return R[-1][-1]\nf(x) + f(2 * x)',
    'def sdtw(D, gamma):\n    n, m = D.shape\n    R = [[np.inf] * (m + 1) for _ in range(n + 1)]\n    R[0][0] = 0.0\n'
    '    for i in range(1, n + 1):\n        for j in range(1, m + 1):\n'
    '            a = np.array([R[i-1][j-1], R[i-1][j], R[i][j-1]]) / -gamma\n'
    '            R[i][j] = D[i-1, j-1] - gamma * np.log(np.sum(np.exp(a)))\n    return R[n][m]\n'
    'sdtw(np.outer(x, x), 0.5) + sdtw(np.outer(x, x[:2]), 1.0)',
    'def fill(n):\n    R = [[0.0] * n for _ in range(n)]\n    for i in range(n):\n        R[i][i] = x[i % 3]\n    return R\n'
    'A = fill(2)\nB = fill(3)\nA[1][1] * B[2][2] + len(B)',
    'def grow(R, v):\n    R[0].append(v)\n    return len(R[0])\nR = [[0.0] for _ in range(2)]\nk = grow(R, x[0])\nR[0][1] * k',
    'def step(R, i, v):\n    R[i][0] = v\nR = [[0.0] * 2 for _ in range(2)]\nstep(R, 1, x[1])\nR[1][0]',
    'import jax, jax.numpy as jnp\ndef f(x):\n    R = [[jnp.inf] * 3 for _ in range(3)]\n    R[0][0] = 0.0\n'
    '    for i in range(1, 3):\n        for j in range(1, 3):\n'
    '            R[i][j] = x[i] * x[j] - 0.5 * jnp.logaddexp(jnp.logaddexp(-R[i-1][j-1] / 0.5, -R[i-1][j] / 0.5), '
    '-R[i][j-1] / 0.5)\n    return R[2][2]\njax.grad(f)(x)',
    'import torch\ndef f(x):\n    R = [[torch.tensor(0.0)] * 3 for _ in range(3)]\n    for i in range(3):\n'
    '        for j in range(3):\n            up = R[i-1][j] if i else torch.tensor(0.0)\n'
    '            left = R[i][j-1] if j else torch.tensor(0.0)\n'
    '            R[i][j] = torch.logaddexp(up, left) + x[i] * x[j]\n    return R[2][2]\ntorch.func.grad(f)(x)',
    'import torch\ndef f(x):\n    R = [[0.0] * 2 for _ in range(2)]\n    R[0][0] = x[0] * x[1]\n    R[1][1] = R[0][0] * x[2]\n'
    '    R[1].pop(0)\n    return R[1][0] + R[0][0]\ntorch.func.grad(f)(x) + f(x)',
    'import jax, jax.numpy as jnp\ndef f(x):\n    R = [[0.0] * 2 for _ in range(2)]\n    R[1][0] = jnp.sin(x[0])\n'
    '    R[0].append(x[1] * R[1][0])\n    return R[0][2] + R[1][0]\njax.vmap(jax.grad(f))(jnp.stack([x, 2 * x]))',
]
NONES = [  # 4. tables of None filled before they are read
    'T, S = 3, 2\nalpha = [[None] * S for _ in range(T)]\nfor t in range(T):\n    for s in range(S):\n'
    '        alpha[t][s] = x[s] * (t + 1) + (alpha[t-1][s] if t else 0.0)\nalpha[T-1][0] + alpha[T-1][1]',
    'R = [[None] * 2 for _ in range(2)]\nR[0][0] = x[0]\nR[1][1] = x[1]\nR[0][0] + R[1][1]',
    'R = [[None] * 2 for _ in range(2)]\nR[0][0] = x[0]\nR[0][0] + R[1][1]',
    'R = [[None] * 2 for _ in range(2)]\nR[0][0] = x[0]\nR[0][1] is None',
    'bp = [[None] * 2 for _ in range(2)]\nbp[0][0] = 1\nbp[0][1] = 0\nx[bp[0][0]] * x[bp[0][1]]',
    'R = [[None] * 2 for _ in range(2)]\nR[1][0] = x[2]\nnp.array(R[1])',
    'R = [None] * 3\nfor i in range(3):\n    R[i] = x[i] ** 2\nR[0] + R[2]',
    'R = [[None] * 2] * 2\nR[0][1] = x[1]\nR[1][1] * 2',
]
NW = """n, m, g, gamma = 3, 4, -0.5, 0.3
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
NW_TORCH = """import torch
n, m, g, gamma = 3, 4, -0.5, 0.3
F = [[torch.tensor(0.0)] * (m + 1) for _ in range(n + 1)]
for i in range(1, n + 1):
    F[i][0] = torch.tensor(g * i)
for j in range(1, m + 1):
    F[0][j] = torch.tensor(g * j)
for i in range(1, n + 1):
    for j in range(1, m + 1):
        v = torch.stack([F[i-1][j-1] + D[i-1, j-1], F[i-1][j] + g, F[i][j-1] + g])
        F[i][j] = gamma * torch.logsumexp(v / gamma, 0)
F[n][m]"""
CTC = """ext = [0, 1, 0, 2, 0]
T, S = 4, len(ext)
alpha = [[-np.inf] * S for _ in range(T)]
alpha[0][0] = L[0, ext[0]]
alpha[0][1] = L[0, ext[1]]
for t in range(1, T):
    for s in range(S):
        a = alpha[t-1][s]
        if s >= 1:
            a = np.logaddexp(a, alpha[t-1][s-1])
        if s >= 2 and ext[s] != 0 and ext[s] != ext[s-2]:
            a = np.logaddexp(a, alpha[t-1][s-2])
        alpha[t][s] = a + L[t, ext[s]]
-np.logaddexp(alpha[T-1][S-1], alpha[T-1][S-2])"""
CTC_TORCH = """import torch
ext = [0, 1, 0, 2, 0]
T, S = 4, len(ext)
alpha = [[torch.tensor(-1e30)] * S for _ in range(T)]
alpha[0][0] = L[0, ext[0]]
alpha[0][1] = L[0, ext[1]]
for t in range(1, T):
    for s in range(S):
        terms = [alpha[t-1][s]]
        if s >= 1:
            terms.append(alpha[t-1][s-1])
        if s >= 2 and ext[s] != 0 and ext[s] != ext[s-2]:
            terms.append(alpha[t-1][s-2])
        alpha[t][s] = torch.logsumexp(torch.stack(terms), 0) + L[t, ext[s]]
-torch.logsumexp(torch.stack([alpha[T-1][S-1], alpha[T-1][S-2]]), 0)"""
VITERBI_BP = """T, S = 4, 3
A = np.log(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]))
score = [[0.0] * S for _ in range(T)]
bp = [[0] * S for _ in range(T)]
for s in range(S):
    score[0][s] = L[0, s]
for t in range(1, T):
    for s in range(S):
        cand = [score[t-1][k] + A[k, s] for k in range(S)]
        k = int(np.argmax(np.array(cand)))
        bp[t][s] = k
        score[t][s] = cand[k] + L[t, s]
last = int(np.argmax(np.array(score[T-1])))
path = [last]
for t in range(T - 1, 0, -1):
    path.insert(0, bp[t][path[0]])
score[T-1][last] + sum(L[t, path[t]] for t in range(T)) * 0"""
TABLE3 = """R = [[[0.0] * 2 for _ in range(3)] for _ in range(2)]
for a in range(2):
    for b in range(3):
        for c in range(2):
            R[a][b][c] = x[a] * x[b] + c * (R[a][b-1][c] if b else 1.0)
R[1][2][1] + R[0][1][0] * R[1][0][1]"""
LCS = """n = 3
C = [[0.0] * (n + 1) for _ in range(n + 1)]
for i in range(1, n + 1):
    for j in range(1, n + 1):
        match = C[i-1][j-1] + x[i-1] * x[j-1]
        C[i][j] = np.logaddexp(np.logaddexp(match, C[i-1][j]), C[i][j-1])
C[n][n]"""
KNAP = """W = [[0.0] * 4 for _ in range(4)]
w = [1, 2, 3]
for i in range(1, 4):
    for c in range(4):
        W[i][c] = W[i-1][c]
        if w[i-1] <= c:
            W[i][c] = np.maximum(W[i][c], W[i-1][c - w[i-1]] + x[i-1] ** 2)
W[3][3]"""
ROWS_BUILT = """R = []
for i in range(3):
    row = []
    for j in range(3):
        row.append(x[i] * x[j] + (R[i-1][j] if i else 0.0))
    R.append(row)
R[2][0] + R[1][2]"""
FOUND = [  # 5. what probing found: a caller's list or array changed under a parameter of the same name, a list as an
    # index, a dict holding an inner list, copies and slices of nested lists
    'def step(R, v):\n    R[0][0] = v\n    return 0.0\nR = [[0.0] * 2 for _ in range(2)]\nz = step(R, x[0])\nR[0][0] + z',
    'def f(R):\n    R.pop()\n    return 1.0\nR = [x[0], x[1]]\nz = f(R)\nlen(R) + z',
    'def f(y):\n    y[0] = 5.0\n    return y[0]\ny = x * 1\nz = f(y)\ny[0] + z',
    "def f(d):\n    d['a'] = 5.0\n    return 1.0\nd = {'a': x[0]}\nz = f(d)\nd['a'] + z",
    'def f(R):\n    R = [r[:] for r in R]\n    R[0][0] = x[1]\n    return R[0][0]\nR = [[0.0] * 2 for _ in range(2)]\nf(R) + R[0][0]',
    'A = np.outer(x, x)\nR = [[0, 1] for _ in range(2)]\nR[0][0] = 2\nA[R[0]]',
    'A = np.outer(x, x)\nR = [[0, 1] for _ in range(2)]\nR[0][0] = 2\nA[R]',
    'y = [1, 2, 0]\ny.append(1)\nx[y[0]] + x[y[3]] + x[y[:3]].sum()',
    "R = [[1.0, 2.0] for _ in range(2)]\nS = {'a': R[0]}\nR[0][0] = x[0]\nS['a'][0]",
    'R = [[1.0, 2.0] for _ in range(2)]\nS = [R[0], R[1]]\nS[0][0] = x[0]\nR[0][0]',
    'R = [[1.0, 2.0] for _ in range(2)]\nS = [row for row in R]\nR[0][0] = x[0]\nS[0][0]',
    'R = [[1.0, 2.0] for _ in range(2)]\nS = R.copy()\nR[0][0] = x[0]\nS[0][0]',
    'a = [1.0, 2.0]\nb = a\nR = [a, b]\na[0] = x[0]\nb[0] * R[1][0]',
    'R = [[0.0] * 3]\nfor i in range(2):\n    R.append(R[-1][:])\n    R[-1][i] = x[i]\nR[2][0] + R[2][1] + R[1][1]',
    'R = [[0.0] * 2 for _ in range(3)]\nfor i in range(1, 3):\n    R[i] = R[i-1][:]\n    R[i][0] = R[i][0] + x[i]\n'
    'R[2][0] + R[1][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nrow = [x[0], x[1]]\nR[1] = row\nrow[0] = x[2]\nR[1][0]',
    'M = [[None] * 3 for _ in range(3)]\ndef f(i, j):\n    if M[i][j] is None:\n        M[i][j] = x[i] * x[j]\n'
    '    return M[i][j]\nf(0, 1) + f(0, 1)',
    'a = [1.0, 2.0]\na.insert(0, x[0])\na.pop()\na[0] * len(a)',
    'y = [3.0, 1.0, 2.0]\ny.sort()\nx * np.array(y)',
    'R = [[0.0] * 2 for _ in range(2)]\nW = [R]\ndel R[0]\nlen(W[0]) * x',
]
REALISTIC = [(NW, "D", D), (NW_TORCH, "D", D), (CTC, "L", LOGP), (CTC_TORCH, "L", LOGP), (VITERBI_BP, "L", LOGP),
             (TABLE3, "x", X), (LCS, "x", X), (KNAP, "x", X), (ROWS_BUILT, "x", X)]
CASES = [(t, "x", X) for t in ROWS + CHANGES + FUNCTIONS + NONES + FOUND] + REALISTIC


def library(text):
    return "jax" if "jax" in text else "torch" if "torch" in text else "numpy"


def run(text, name, value):
    *body, last = text.split("\n")
    env = {"np": np, "torch": torch, name: value}
    exec("\n".join(body), env)
    return eval(last, env)


def python_value(text, name, value):
    lib = library(text)
    if lib == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
        value = jax.numpy.asarray(value)
    elif lib == "torch":
        value = torch.tensor(value)
    got = run(text, name, value.copy() if isinstance(value, np.ndarray) else value)
    if isinstance(got, torch.Tensor):
        got = got.detach().numpy()
    return np.asarray(got, dtype=float)


def central(text, name, value, h=1e-6):
    cols = []
    for k in range(value.size):
        e = np.zeros(value.size)
        e[k] = h
        e = e.reshape(value.shape)
        cols.append(((python_value(text, name, value + e) - python_value(text, name, value - e)) / (2 * h)).ravel())
    return np.stack(cols, axis=-1)


def autograd(text, name, value):
    if library(text) == "jax":
        import jax
        return np.asarray(jax.jacobian(lambda t: run(text, name, t))(jax.numpy.asarray(value))).reshape(-1, value.size)
    J = torch.autograd.functional.jacobian(lambda t: run(text, name, t), torch.tensor(value))
    return J.numpy().reshape(-1, value.size)


def main(cases=None):
    counts = collections.Counter()
    cases = CASES if cases is None else cases
    for text, name, value in cases:
        try:
            want = python_value(text, name, value)
        except Exception as e:
            want = f"Python raises {type(e).__name__}: {e}"
        try:
            got = np.asarray(jacobi_cli.evaluate(text, {name: value}), dtype=float)
            J = np.asarray(jacobi_cli.jacobian(text, {name: value})[name]).reshape(-1, value.size)
        except errors.JacError as e:
            got = f"refused: {str(e).splitlines()[0][:220]}"
        except Exception as e:
            got = f"CRASH {type(e).__name__}: {e}"
        if isinstance(got, str) or isinstance(want, str):
            tag = "REF" if isinstance(got, str) and got.startswith("refused") else \
                "CRASH" if isinstance(got, str) else "ANSWERS-WHERE-PY-RAISES"
            if isinstance(got, str) and isinstance(want, str) and not got.startswith("CRASH"):
                tag = "both"
        elif got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-14):
            tag = "WRONG"
        else:
            ok = np.allclose(J, central(text, name, value), rtol=1e-5, atol=1e-7)
            if library(text) != "numpy":
                ok = ok and np.allclose(J, autograd(text, name, value), rtol=1e-10, atol=1e-12)
            tag = "OK" if ok else "WRONG"
            got = f"{got}  J={J.ravel()}"
        counts[tag] += 1
        if tag != "OK" or "-v" in sys.argv:
            print(f"{tag:5} {text!r}\n      jac: {got}\n      py:  {want}")
    print(dict(counts), "of", len(cases))


if __name__ == "__main__":
    main()
