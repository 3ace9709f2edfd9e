"""Session 34's second probe of Python's lists in jac's texts (h34b-lists), after lists34_probe.py (whose runner it
uses): functions that change a list (flat or nested) or a dict their caller passed, or a closure or the text's top
level holds (appends, pops, item and inner-list writes, calls nested several deep, in loops, under jax.grad /
torch.func.grad / jax.vmap), functions called for their effect alone (``fill(R, i, j, v)``, returning None), and the
small forms h34-lists left refused (``R[0][0], R[0][1] = a, b``, ``min(l)`` / ``max(l)``, ``R[0] += [v]``,
``R.copy()`` / ``copy.copy(R)`` / ``copy.deepcopy(R)``, ``for i, row in enumerate(R): row[0] = v``), and realistic
programs filling their tables in helpers (Needleman-Wunsch with a ``fill`` helper, a beam search with ``push``, a
memo dict in a recursive helper unrolled by a loop, Viterbi with a backtrack helper).

    /work/benchvenv/bin/python benchmarks/lists34b_probe.py TREE [-v]

Outcomes as lists34_probe.py's: OK; REF (jac refuses, Python answers); both; WRONG; ANSWERS-WHERE-PY-RAISES; CRASH.
"""
import numpy as np

import lists34_probe as probe

X, D, LOGP = probe.X, probe.D, probe.LOGP
# log-probabilities without ties among a beam's candidates (a tie makes argsort's order, and central differences
# across it, meaningless)
BEAM_LOGP = np.log(np.array([[0.5, 0.3, 0.2], [0.15, 0.6, 0.25], [0.27, 0.33, 0.4], [0.6, 0.1, 0.3]]))

HELPERS = [  # 1. a function changes what its caller passed, or what a closure or the top level holds
    'def fill(R, i, j, v):\n    R[i][j] = v\n    return 0.0\nR = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n'
    '    for j in range(3):\n        _ = fill(R, i, j, x[i] * x[j])\nsum(sum(r) for r in R)',
    'def fill(R, i, j, v):\n    R[i][j] = v\nR = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n'
    '    for j in range(3):\n        fill(R, i, j, x[i] * x[j] + (R[i-1][j] if i else 0.0))\nR[2][2] + R[1][0]',
    'def push(out, v):\n    out.append(v)\nout = []\nfor k in range(3):\n    push(out, x[k] ** 2)\nout[0] * out[2] + len(out)',
    'def push(out, v):\n    out.append(v)\nout = [x[0]]\nb = out\npush(out, x[1])\nb[1] * len(b)',
    'def put(l, v):\n    l[0] = v\n    return 0.0\nl = [0.0, 1.0, 2.0]\nz = put(l, x[1])\nl[0] * l[2] + z',
    'def put(l, v):\n    l[1] += v\nm = [0.0, 1.0]\nput(m, x[0])\nput(m, x[2])\nm[1]',
    'def f(R):\n    R.pop()\n    return 1.0\nR = [x[0], x[1]]\nz = f(R)\nlen(R) + z',
    'def f(R):\n    v = R[0].pop()\n    R[1].insert(0, v)\nR = [[x[0], x[1]], [x[2]]]\nf(R)\nR[1][0] * len(R[0])',
    'def step(R, v):\n    R[0][0] = v\n    return 0.0\nR = [[0.0] * 2 for _ in range(2)]\nz = step(R, x[0])\nR[0][0] + z',
    "def f(d):\n    d['a'] = 5.0\n    return 1.0\nd = {'a': x[0]}\nz = f(d)\nd['a'] + z",
    "def f(d, k, v):\n    d[k] = v\nd = {}\nf(d, 'a', x[0])\nf(d, 'b', x[1] * d['a'])\nd['b'] + len(d)",
    'def inner(R, v):\n    R[1][1] = v\ndef outer(R, v):\n    inner(R, v * 2)\n    R[0].append(v)\nR = [[0.0] * 2 for _ in range(2)]\n'
    'outer(R, x[0])\nouter(R, x[1])\nR[1][1] + R[0][3] + len(R[0])',
    'def a(l, v):\n    l.append(v)\ndef b(l, v):\n    a(l, v)\n    a(l, -v)\ndef c(l, v):\n    b(l, v)\n    return len(l)\n'
    'out = []\nn = c(out, x[0])\nout[1] * n',
    'def f(row, v):\n    row[0] = v\nR = [[0.0] * 2 for _ in range(2)]\nf(R[1], x[2])\nR[1][0] + R[0][0]',
    'def f(row, v):\n    row[0] = v\nR = [[0.0] * 2] * 2\nf(R[1], x[2])\nR[0][0]',
    'R = [[0.0] * 2 for _ in range(2)]\ndef f(v):\n    R[1][0] = v\nf(x[1])\nR[1][0] * 3',
    'l = [0.0] * 3\ndef f(v):\n    l[1] += v\nf(x[0])\nf(x[1])\nl[1]',
    'out = []\ndef push(v):\n    out.append(v)\nfor k in range(3):\n    push(x[k])\nout[2] - out[0]',
    'def make():\n    hist = []\n    def push(v):\n        hist.append(v)\n        return hist[-1] * len(hist)\n'
    '    return push\npush = make()\na = push(x[0])\nb = push(x[1] * 2)\na + b',
    'def f(R, v):\n    R[0][0] = v\n    return R\nR = [[0.0] * 2 for _ in range(2)]\nS = f(R, x[0])\nS[0][0] + R[0][0]',
    'def f(R, v):\n    R = [r[:] for r in R]\n    R[0][0] = v\n    return R[0][0]\nR = [[0.0] * 2 for _ in range(2)]\nf(R, x[1]) + R[0][0]',
    'def f(R):\n    R.append([0.0] * 2)\n    R[-1][1] = x[1]\nR = []\nf(R)\nf(R)\nR[1][1] + len(R)',
    'def clear(R):\n    R.clear()\nR = [x[0], x[1]]\nb = R\nclear(R)\nlen(b) + x[0]',
    # under the transforms: a table of the function's own filled by a helper; a caller's list changed in a trace
    'import jax\ndef g(R, v):\n    R[1][0] = v\ndef f(v):\n    R = [[0.0] * 2 for _ in range(2)]\n    g(R, v[0] * v[1])\n'
    '    return R[1][0] * v[2]\njax.grad(f)(x)',
    'import torch\ndef g(R, v):\n    R.append(v)\ndef f(v):\n    R = []\n    for k in range(3):\n        g(R, v[k] ** 2)\n'
    '    return R[0] * R[2]\ntorch.func.grad(f)(x)',
    'import jax, jax.numpy as jnp\ndef g(R, v):\n    R[0][1] = jnp.sin(v)\ndef f(v):\n    R = [[0.0] * 2 for _ in range(2)]\n'
    '    g(R, v[0])\n    return R[0][1] * v[1]\njax.vmap(jax.grad(f))(jnp.stack([x, 2 * x]))',
    'import jax\nR = [[0.0] * 2 for _ in range(2)]\ndef f(v):\n    R[1][0] = v[0]\n    return v[0] * 2\njax.grad(f)(x)',
    # an array written in a function: NumPy's aliasing, refused as before
    'def f(y):\n    y[0] = 5.0\n    return y[0]\ny = x * 1\nz = f(y)\ny[0] + z',
    'def f(v):\n    return v * 2\nf(x)\nx',
]
SMALL = [  # 2. what h34-lists left refused
    'R = [[0.0] * 2 for _ in range(2)]\nR[0][0], R[0][1] = x[0], x[1]\nR[0][0] * R[0][1]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[1][0], R[0][1] = x[2], R[1][0]\nR[1][0] + R[0][1]',
    'l = [x[0], x[1], x[2]]\nmin(l) + max(l)',
    'l = [3.0, 1.0, 2.0]\nmin(l) * x',
    'R = [[0.0] for _ in range(2)]\nR[0] += [x[1]]\nR[0][1] * len(R[0]) + len(R[1])',
    'R = [[0.0] for _ in range(2)]\nrow = R[0]\nR[0] += [x[1], x[2]]\nrow[2] * len(row)',
    'R = [[1.0, 2.0] for _ in range(2)]\nS = R.copy()\nR[0][0] = x[0]\nS[0][0]',
    'import copy\nR = [[1.0, 2.0] for _ in range(2)]\nS = copy.copy(R)\nR[1][1] = x[1]\nS[1][1] + len(S)',
    'import copy\nR = [[1.0, 2.0] for _ in range(2)]\nS = copy.deepcopy(R)\nR[1][1] = x[1]\nS[1][1] + R[1][1]',
    'import copy\nR = [[1.0, 2.0] for _ in range(2)]\nS = copy.deepcopy(R)\nS[0][0] = x[2]\nS[0][0] * R[0][0]',
    'R = [[0.0] * 2 for _ in range(3)]\nfor i, row in enumerate(R):\n    row[0] = x[i]\nR[0][0] * R[2][0] + R[1][1]',
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
BEAM = """def push(beam, scores, path, s):
    beam.append(path)
    scores.append(s)
T, K = 3, 2
beams, scores = [[]], [0.0]
for t in range(T):
    cand, cs = [], []
    for b, s in zip(beams, scores):
        for k in range(3):
            push(cand, cs, b + [k], s + L[t, k])
    order = np.argsort(-np.array(cs))[:K]
    beams = [cand[int(i)] for i in order]
    scores = [cs[int(i)] for i in order]
np.logaddexp(scores[0], scores[1]) + len(beams[0])"""
MEMO = """memo = {}
def f(i):
    if i in memo:
        return memo[i]
    if i < 2:
        v = x[i]
    else:
        v = np.logaddexp(f(i - 1), f(i - 2) + x[i % 3])
    memo[i] = v
    return v
for i in range(6):
    _ = f(i)
memo[5] + len(memo)"""
VITERBI_HELP = """T, S = 4, 3
A = np.log(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]))
def forward(score, bp):
    for s in range(S):
        score[0][s] = L[0, s]
    for t in range(1, T):
        for s in range(S):
            cand = [score[t-1][k] + A[k, s] for k in range(S)]
            k = int(np.argmax(np.array(cand)))
            bp[t][s] = k
            score[t][s] = cand[k] + L[t, s]
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
score[T-1][last] + sum(L[t, path[t]] for t in range(T)) * 0.5"""
MEMO_TABLE = """M = [[None] * 3 for _ in range(3)]
def f(i, j):
    if M[i][j] is None:
        M[i][j] = x[i] * x[j] + (f(i - 1, j) if i else 0.0)
    return M[i][j]
f(2, 1) + f(1, 1) + f(2, 1)"""
MEMO_LOOP = """M = [[None] * 3 for _ in range(3)]
def f(i, j):
    if M[i][j] is None:
        M[i][j] = x[i] * x[j] + (M[i-1][j] if i else 0.0)
    return M[i][j]
for i in range(3):
    for j in range(3):
        z = f(i, j)
f(2, 1) + f(1, 1) + M[2][2]"""
REALISTIC = [(NW_FILL, "D", D), (BEAM, "L", BEAM_LOGP), (MEMO, "x", X), (VITERBI_HELP, "L", LOGP), (MEMO_TABLE, "x", X), (MEMO_LOOP, "x", X)]
CASES = [(t, "x", X) for t in HELPERS + SMALL] + REALISTIC

if __name__ == "__main__":
    probe.main(CASES)
