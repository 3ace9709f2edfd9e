"""Forward mode at repeated eigenvalues and singular values against PyTorch (session 33b): where jac answers a JVP
of a function that treats each cluster alike (by reverse passes where its forward pass would read the cluster
apart), it is torch.func.jvp's, whose eigh / svd forward rule gives the same there whatever basis its LAPACK
chose (the sum of diag(Vᵀ dA V) over a cluster is the trace of its block)."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
la = torch.linalg
_rng = np.random.default_rng(33033)


def _rotation(n):
    q, _ = np.linalg.qr(_rng.standard_normal((n, n)))
    return q


def _sym(q, d):
    a = q @ np.diag(d) @ q.T
    return (a + a.T) / 2


EIG = _sym(_rotation(3), [2.0, 2.0, 1.0])
EIG4 = _sym(_rotation(4), [4.0, 4.0, 1.0, 1.0])
SVD = _rotation(4)[:, :3] @ np.diag([2.0, 2.0, 1.0]) @ _rotation(3).T
CASES = [("torch.linalg.eigvalsh(A).sum()", lambda a: la.eigvalsh(a).sum(), [EIG, EIG4, np.eye(3)]),
         ("(torch.linalg.eigvalsh(A) ** 2).sum()", lambda a: (la.eigvalsh(a) ** 2).sum(), [EIG, EIG4, np.eye(3)]),
         ("torch.exp(torch.linalg.eigvalsh(A)).sum()", lambda a: torch.exp(la.eigvalsh(a)).sum(), [EIG, EIG4]),
         ("torch.linalg.eigvalsh(A)[0]", lambda a: la.eigvalsh(a)[0], [EIG]),
         ("torch.linalg.matrix_norm(A, 'nuc')", lambda a: la.matrix_norm(a, "nuc"), [SVD]),
         ("(torch.linalg.svdvals(A) ** 2).sum()", lambda a: (la.svdvals(a) ** 2).sum(), [SVD])]


@pytest.mark.parametrize("expr,fn,mats", CASES, ids=[c[0] for c in CASES])
def test_jvps_of_functions_treating_clusters_alike_are_pytorchs(expr, fn, mats):
    for a in mats:
        t = _rng.standard_normal(a.shape)
        if a.shape[0] == a.shape[1]:
            t = (t + t.T) / 2  # PyTorch's eigh reads the lower triangle, jac the symmetric part: a symmetric tangent
        _, theirs = torch.func.jvp(fn, (torch.tensor(a),), (torch.tensor(t),))
        assert api.jvp(expr, {"A": a}, tangents={"A": t}) == pytest.approx(float(theirs), abs=1e-12)
        forward = api.jacobian(expr, {"A": a}, mode="forward")["A"]
        assert np.sum(forward * t) == pytest.approx(float(theirs), abs=1e-12)
