"""Session 33 (h33d-lists): dynamic-programming tables held in Python's nested lists (soft-DTW, the forward
algorithm's log-likelihood), values and Jacobians against PyTorch's."""
import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

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
    alpha[0][s] = torch.log(torch.tensor(0.5)) + D[0, s]
for t in range(1, T):
    for s in range(S):
        alpha[t][s] = torch.logsumexp(torch.stack([alpha[t-1][k] + torch.log(A[k, s]) for k in range(S)]), 0) + D[t, s]
torch.logsumexp(torch.stack(alpha[T-1]), 0)"""
CASES = [
    (SOFT_DTW, [[0.1, 0.5, 0.9, 0.3], [0.4, 0.2, 0.7, 0.8], [0.6, 0.3, 0.1, 0.5]]),
    (FORWARD, [[-0.5, -1.2], [-0.9, -0.3], [-1.1, -0.7]]),
]


def _torch_run(text: str, t):
    *body, last = text.split("\n")
    env = {"torch": torch, "D": t}
    exec("\n".join(body), env)
    return eval(last, env)


@pytest.mark.parametrize("text,D", CASES, ids=["soft-DTW", "forward algorithm"])
def test_a_table_in_nested_lists_is_pytorchs(float64, text, D):  # noqa: F811
    want = _torch_run(text, torch.tensor(D)).detach().numpy()
    J = torch.autograd.functional.jacobian(lambda t: _torch_run(text, t), torch.tensor(D)).numpy()
    got = api.evaluate(text, {"D": np.array(D)})
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(api.jacobian(text, {"D": np.array(D)})["D"], J, rtol=1e-11, atol=1e-14)
