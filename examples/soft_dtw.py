import numpy as np
from scipy.special import logsumexp


def soft_dtw(x, y, gamma=1.0):
    n, m = len(x), len(y)
    R = [[np.inf] * (m + 1) for _ in range(n + 1)]
    R[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            prev = np.stack([R[i - 1][j - 1], R[i - 1][j], R[i][j - 1]])
            R[i][j] = cost - gamma * logsumexp(-prev / gamma)
    return R[n][m]
