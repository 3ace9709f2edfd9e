"""Session 33's probe of Python's nested lists in jac's texts (h33d-lists): dynamic-programming tables written item
by item (soft-DTW, edit distance with a soft minimum, the forward algorithm, Viterbi), inner lists shared by
repetition (``[[0.0] * 3] * 2``), row aliases (``row = R[i]``), shallow copies, appends to inner lists; each text run
by Python itself (NumPy arrays, or PyTorch tensors where it names torch) and by the jac of the checkout TREE: values
compared, and jac's Jacobian against central differences of Python's own run (against PyTorch's autograd too for
PyTorch's texts).

    /work/venv/bin/python benchmarks/lists33_probe.py TREE [-v]

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
SOFT_DTW = """n, m, gamma = 3, 4, 0.5
R = [[torch.tensor(float('inf'))] * (m + 1) for _ in range(n + 1)]
R[0][0] = torch.tensor(0.0)
for i in range(1, n + 1):
    for j in range(1, m + 1):
        r = -gamma * torch.logsumexp(torch.stack([-R[i-1][j-1] / gamma, -R[i-1][j] / gamma, -R[i][j-1] / gamma]), 0)
        R[i][j] = D[i-1, j-1] + r
R[n][m]"""
FORWARD = """T, S = 3, 2
A = torch.tensor([[0.7, 0.3], [0.4, 0.6]])
alpha = [[torch.tensor(0.0)] * S for _ in range(T)]
for s in range(S):
    alpha[0][s] = torch.log(torch.tensor(0.5)) + E[0, s]
for t in range(1, T):
    for s in range(S):
        alpha[t][s] = torch.logsumexp(torch.stack([alpha[t-1][k] + torch.log(A[k, s]) for k in range(S)]), 0) + E[t, s]
torch.logsumexp(torch.stack(alpha[T-1]), 0)"""
EDIT = """n, m = 3, 3
C = [[0.0] * (m + 1) for _ in range(n + 1)]
for i in range(n + 1):
    C[i][0] = float(i)
for j in range(m + 1):
    C[0][j] = float(j)
for i in range(1, n + 1):
    for j in range(1, m + 1):
        v = np.array([C[i-1][j] + 1.0, C[i][j-1] + 1.0, C[i-1][j-1] + D[i-1, j-1]])
        C[i][j] = -np.log(np.sum(np.exp(-v)))
C[n][m]"""
VITERBI = """T, S = 3, 2
best = [[0.0] * S for _ in range(T)]
best[0] = [E[0, 0], E[0, 1]]
for t in range(1, T):
    for s in range(S):
        best[t][s] = np.maximum(best[t-1][0] - 0.1 * s, best[t-1][1] - 0.2) + E[t, s]
best[T-1][0] + best[T-1][1]"""
CASES = [  # (text, name of the input, its value)
    (SOFT_DTW, "D", np.array([[0.1, 0.5, 0.9, 0.3], [0.4, 0.2, 0.7, 0.8], [0.6, 0.3, 0.1, 0.5]])),
    (FORWARD, "E", np.array([[-0.5, -1.2], [-0.9, -0.3], [-1.1, -0.7]])),
    (EDIT, "D", np.array([[0.1, 0.9, 0.4], [0.8, 0.2, 0.6], [0.5, 0.7, 0.3]])),
    (VITERBI, "E", np.array([[-0.5, -1.2], [-0.9, -0.3], [-1.1, -0.7]])),
]
X = np.array([0.5, -1.5, 2.0])
TEXTS = [
    'R = [[float("inf")] * 3 for _ in range(3)]\nR[0][0] = 0.0\nR[1][1] = R[0][0] + x[0]\nR[1][1] * x[1]',
    'R = [[0.0] * 3] * 2\nR[0][1] = x[0]\nR[1][1] * x[2]',
    'R = [[0.0] * 3] * 2\nR[0] = [x[0], x[1], x[2]]\nR[1][0] + R[0][0]',
    'R = [[0.0, 1.0], [2.0, 3.0]] * 2\nR[0][0] = x[1]\nR[2][0] * R[1][1]',
    'R = [[0.0] * 2 for _ in range(2)]\nrow = R[0]\nrow[1] = x[1]\nR[0][1] * x[0]',
    'R = [[0.0] * 2 for _ in range(2)]\nrow = R[0]\nR[0][0] = x[2]\nrow[0] + 1',
    'R = [[0.0] * 2 for _ in range(2)]\nR[0] = [x[0], x[1]]\nR[0][1] - R[1][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[1].append(x[0])\nR[1][2] * 3 + len(R[1])',
    'R = [[0.0] * 2 for _ in range(2)]\nR[0].extend([x[0], x[1]])\nR[0][3] * len(R[0])',
    'R = [[0.0] * 2 for _ in range(2)]\nS = R[:]\nS[0][1] = x[0]\nR[0][1] * x[1]',
    'R = [[0.0] * 2 for _ in range(2)]\nS = list(R)\nS[1][0] = x[0]\nR[1][0] + x[2]',
    'R = [[0.0] * 2 for _ in range(2)]\nS = R\nS[1][1] = x[2]\nR[1][1] ** 2',
    'R = [[0.0] * 2 for _ in range(2)]\nS = R[:]\nS[0] = [x[0], x[0]]\nR[0][0] + S[0][0]',
    'R = [[1.0, 2.0], [3.0, 4.0]]\nfor row in R:\n    row[0] = row[1] * x[0]\nR[1][0] + R[0][0]',
    'R = [[1.0, 2.0], [3.0, 4.0]]\nR[1][0] += x[1]\nR[1][0] * R[0][1]',
    'R = [[1.0, 2.0], [3.0, 4.0]]\nR[0][1] *= x[0]\nR[0][1] + R[1][1]',
    'R = [[x[0], x[1]], [x[1], x[2]]]\nR[0][0] = R[1][1] * 2\nR[0][0] + R[0][1]',
    'R = [[x[0] * 0] * 2 for _ in range(3)]\nR[2][1] = x[2]\nR[2][1] + R[0][0]',
    'R = [[0.0] * 3 for _ in range(2)]\nfor i in range(2):\n    for j in range(3):\n        R[i][j] = x[j] * (i + 1)\nR[1][2] + R[0][1]',
    'R = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n    for j in range(3):\n        R[i][j] = x[i] * x[j]\nnp.array(R)',
    'R = [[0.0] * 3 for _ in range(3)]\nfor i in range(3):\n    R[i][i] = np.exp(x[i])\nnp.trace(np.array(R))',
    'R = [[0] * 2 for _ in range(2)]\nR[0][0] = 7\nR[0][0] // 2 * x[0]',
    'R = [[[0.0] * 2 for _ in range(2)] for _ in range(2)]\nR[1][0][1] = x[1]\nR[1][0][1] * R[0][0][0] + R[1][0][1]',
    'def f(v):\n    T = [[0.0] * 2 for _ in range(2)]\n    T[1][1] = v * 2\n    return T[1][1]\nf(x[0]) + f(x[1])',
    'def fill(R, v):\n    R[0][0] = v\n    return R\nR = [[0.0] * 2 for _ in range(2)]\nfill(R, x[0])\nR[0][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nd = {"t": R}\nR[0][0] = x[0]\nd["t"][0][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nT = (R, 1)\nR[0][0] = x[0]\nT[0][0][0] * x[1]',
    'R = [[0.0] * 2 for _ in range(2)]\nW = [R[0], R[0]]\nR[0][0] = x[0]\nW[1][0]',
    'row = [0.0, 1.0]\nR = [row, row]\nR[0][0] = x[0]\nR[1][0]',
    'row = [0.0, 1.0]\nR = [row] * 2\nR[0][0] = x[0]\nR[1][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[5][0] = x[0]\nR[0][0]',
    'R = [(0.0, 1.0), (2.0, 3.0)]\nR[0][0] = x[0]\nR[0][0]',
    'R = [x * 1, x * 2]\nR[0][1] = 5.0\nR[0][1]',
    'R = [[0.0] * 2 for _ in range(2)]\ni = int(x[2])\nR[i][0] = x[0]\nR[i][0]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[0][1] = x[0]\nR[0] = R[1]\nR[1][0] = x[2]\nR[0][0] + R[0][1]',
    'R = [[0.0] * 2 for _ in range(2)]\nR[0] = R[1]\nR[0].append(x[1])\nR[1][2] * len(R[0])',
]
CASES += [(t, "x", X) for t in TEXTS]


def python_value(text, name, value):
    *body, last = text.split("\n")
    env = {"np": np, "torch": torch, name: torch.tensor(value) if "torch" in text else value.copy()}
    exec("\n".join(body), env)
    got = eval(last, env)
    return np.asarray(got.detach().numpy() if isinstance(got, torch.Tensor) else got, dtype=float)


def central(text, name, value, h=1e-6):
    cols = []
    for k in range(value.size):
        e = np.zeros(value.size)
        e[k] = h
        e = e.reshape(value.shape)
        cols.append(((python_value(text, name, value + e) - python_value(text, name, value - e)) / (2 * h)).ravel())
    return np.stack(cols, axis=-1)


def autograd(text, name, value):
    def run(t):
        *body, last = text.split("\n")
        env = {"np": np, "torch": torch, name: t}
        exec("\n".join(body), env)
        return eval(last, env)
    J = torch.autograd.functional.jacobian(run, torch.tensor(value))
    return J.numpy().reshape(-1, value.size)


def main():
    counts = collections.Counter()
    for text, name, value in CASES:
        try:
            want = python_value(text, name, value)
        except Exception as e:
            want = f"Python raises {type(e).__name__}: {e}"
        try:
            got = jacobi_cli.evaluate(text, {name: value})
            J = np.asarray(jacobi_cli.jacobian(text, {name: value})[name]).reshape(-1, value.size)
        except errors.JacError as e:
            got = f"refused: {str(e).splitlines()[0][:160]}"
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
            if "torch" in text:
                ok = ok and np.allclose(J, autograd(text, name, value), rtol=1e-10, atol=1e-12)
            tag = "OK" if ok else "WRONG"
            got = f"{got}  J={J.ravel()}"
        counts[tag] += 1
        if tag != "OK" or "-v" in sys.argv:
            print(f"{tag:5} {text!r}\n      jac: {got}\n      py:  {want}")
    print(dict(counts), "of", len(CASES))


if __name__ == "__main__":
    main()
