"""Repeated eigenvalues and singular values against PyTorch (session 33): where jac keeps a derivative at repeated
values (a cotangent or tangent that treats each cluster alike), it is PyTorch's, whose eigh / svd backward gives
the same there whatever basis its LAPACK chose; where jac refuses, PyTorch's rows for the repeated values are its
own basis's (shown below for the record)."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
la = torch.linalg
_rng = np.random.default_rng(3333)


def _rotation(n):
    q, _ = np.linalg.qr(_rng.standard_normal((n, n)))
    return q


_Q = _rotation(3)
EIG = _Q @ np.diag([2.0, 2.0, 1.0]) @ _Q.T
EIG = (EIG + EIG.T) / 2
EIG4 = _rotation(4) @ np.diag([4.0, 4.0, 1.0, 1.0])
EIG4 = EIG4 @ EIG4.T / 16
EIG4 = (EIG4 + EIG4.T) / 2  # λ = 1/16, 1/16, 1, 1
SVD = _rotation(4)[:, :3] @ np.diag([2.0, 2.0, 1.0]) @ _rotation(3).T
SQUARE = _rotation(3) @ np.diag([3.0, 1.0, 1.0]) @ _rotation(3).T

KEPT = [("torch.linalg.eigvalsh(A).sum()", lambda a: la.eigvalsh(a).sum(), [EIG, EIG4]),
        ("(torch.linalg.eigvalsh(A) ** 2).sum()", lambda a: (la.eigvalsh(a) ** 2).sum(), [EIG, EIG4]),
        ("torch.exp(torch.linalg.eigvalsh(A)).sum()", lambda a: torch.exp(la.eigvalsh(a)).sum(), [EIG, EIG4]),
        ("torch.linalg.eigvalsh(A)[0]", lambda a: la.eigvalsh(a)[0], [EIG]),
        ("torch.linalg.eigh(A)[0] @ torch.tensor([1.0, 2.0, 2.0])",
         lambda a: la.eigh(a)[0] @ torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64), [EIG]),
        ("torch.linalg.matrix_norm(A, 'nuc')", lambda a: la.matrix_norm(a, "nuc"), [SVD, SQUARE]),
        ("torch.linalg.svdvals(A).sum()", lambda a: la.svdvals(a).sum(), [SVD, SQUARE]),
        ("(torch.linalg.svdvals(A) ** 2).sum()", lambda a: (la.svdvals(a) ** 2).sum(), [SVD, SQUARE]),
        ("torch.linalg.svdvals(A)[0]", lambda a: la.svdvals(a)[0], [SQUARE])]


@pytest.mark.parametrize("expr,fn,mats", KEPT, ids=[k[0] for k in KEPT])
def test_kept_derivatives_at_repeated_values_are_pytorchs(expr, fn, mats):
    for a in mats:
        theirs = torch.autograd.functional.jacobian(fn, torch.tensor(a)).numpy()
        np.testing.assert_allclose(api.jacobian(expr, {"A": a}, mode="reverse")["A"], theirs, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(api.vjp(expr, {"A": a})["A"], theirs, rtol=1e-10, atol=1e-12)


def test_a_tangent_that_moves_each_cluster_as_a_whole_is_pytorchs_jvp():
    for a, t in ((EIG, np.eye(3)), (EIG, EIG), (SVD, SVD)):
        fn = (lambda m: la.eigvalsh(m)) if a is EIG else (lambda m: la.svdvals(m))
        expr = "torch.linalg.eigvalsh(A)" if a is EIG else "torch.linalg.svdvals(A)"
        _, theirs = torch.func.jvp(fn, (torch.tensor(a),), (torch.tensor(t),))
        np.testing.assert_allclose(api.jvp(expr, {"A": a}, tangents={"A": t}), theirs.numpy(), atol=1e-12)


def test_where_jac_refuses_pytorchs_rows_are_its_basis():
    """PyTorch answers the Jacobian of the repeated eigenvalues: each row vᵢvᵢᵀ is a unit rank-one projector of
    the eigenspace, with the vᵢ its LAPACK chose; only their sum, the eigenspace's projector, is the same as
    jac's basis's. jac refuses the rows."""
    theirs = torch.autograd.functional.jacobian(la.eigvalsh, torch.tensor(EIG)).numpy()
    w, v = np.linalg.eigh(EIG)
    projector = v[:, 1:] @ v[:, 1:].T
    np.testing.assert_allclose(theirs[1] + theirs[2], projector, atol=1e-12)
    for row in theirs[1:]:
        assert np.linalg.matrix_rank(row, tol=1e-9) == 1 and np.trace(row) == pytest.approx(1.0)
    with pytest.raises(JacValueError, match="eigenvalues 1 and 2 are equal"):
        api.jacobian("torch.linalg.eigvalsh(A)", {"A": EIG})
