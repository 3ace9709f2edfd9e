"""Singular values at zero against PyTorch (session 32): where a derivative reads a singular value at zero, its
sign is LAPACK's choice (PyTorch's and NumPy's differ: shown below), and jac refuses it; the spectral norm's
derivative at a singular matrix, and every derivative at a full-rank one, are PyTorch's, in both modes."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
la = torch.linalg
TALL = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
SINGULAR = [np.array([[1.0, 2.0], [2.0, 4.0]]), TALL, TALL.T.copy(),
            np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [1.0, 1.0, 3.0]])]  # rank 2 of 3
rng = np.random.default_rng(3232)
FULL = [rng.standard_normal(s) for s in ((3, 3), (4, 2), (2, 4), (2, 3, 3))]
CASES = [("torch.linalg.svdvals(A)", la.svdvals), ("torch.linalg.matrix_norm(A, 'nuc')", lambda a: la.matrix_norm(a, "nuc")),
         ("torch.linalg.matrix_norm(A, -2)", lambda a: la.matrix_norm(a, -2)),
         ("torch.linalg.matrix_norm(A, 2)", lambda a: la.matrix_norm(a, 2)),
         ("torch.linalg.cond(A)", la.cond), ("torch.linalg.svd(A, full_matrices=False).S", lambda a: la.svd(a, full_matrices=False).S)]


def _torch_jacobians(fn, a):
    x = torch.tensor(a)
    rev = torch.autograd.functional.jacobian(fn, x).numpy()
    fwd = torch.func.jacfwd(fn)(x).numpy()
    return rev, fwd


def test_the_sign_at_a_zero_singular_value_is_lapacks_choice():
    """Why jac refuses: the tall rank-1 matrix's second singular value has other derivatives in PyTorch and in
    NumPy's SVD, u₂v₂ᵀ with the vectors each LAPACK gave (of a tall matrix, u₂ is any unit vector of a plane:
    more than a sign apart); both are unit rank-one matrices, both "derivatives" of the same |·|-like kink."""
    theirs = torch.autograd.functional.jacobian(la.svdvals, torch.tensor(TALL)).numpy()[1]
    u, _, vh = np.linalg.svd(TALL, full_matrices=False)
    numpys = np.outer(u[:, 1], vh[1])
    if np.allclose(theirs, numpys):
        pytest.skip("this PyTorch build's LAPACK gave NumPy's vectors here")
    for m in (theirs, numpys):
        assert np.linalg.norm(m) == pytest.approx(1.0) and np.linalg.matrix_rank(m) == 1
        np.testing.assert_allclose(m @ vh[0], 0, atol=1e-12)  # orthogonal to σ₁'s pair: both kink directions


@pytest.mark.parametrize("expr,fn", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("k", range(len(FULL)))
def test_full_rank_matrices_agree_with_pytorch_in_both_modes(expr, fn, k):
    a = FULL[k]
    if "cond" in expr and a.shape[-1] != a.shape[-2]:
        a = a[..., :2, :2]
    rev, fwd = _torch_jacobians(fn, a)
    np.testing.assert_allclose(api.jacobian(expr, {"A": a}, mode="reverse")["A"], rev, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(api.jacobian(expr, {"A": a}, mode="forward")["A"], fwd, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("k", range(len(SINGULAR)))
def test_the_spectral_norm_of_a_singular_matrix_agrees_with_pytorch(k):
    a = SINGULAR[k]
    rev, fwd = _torch_jacobians(lambda m: la.matrix_norm(m, 2), a)
    for mode, want in (("reverse", rev), ("forward", fwd)):
        np.testing.assert_allclose(api.jacobian("torch.linalg.matrix_norm(A, 2)", {"A": a}, mode=mode)["A"], want,
                                   rtol=1e-9, atol=1e-10)
    H = torch.autograd.functional.hessian(lambda m: la.matrix_norm(m, 2), torch.tensor(a)).numpy()
    np.testing.assert_allclose(api.hessian("torch.linalg.matrix_norm(A, 2)", {"A": a})[("A", "A")], H,
                               rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("expr,fn", [c for c in CASES if ", 2)" not in c[0]], ids=[c[0] for c in CASES if ", 2)" not in c[0]])
@pytest.mark.parametrize("k", range(len(SINGULAR)))
def test_singular_matrices_keep_pytorchs_value_and_refuse_the_derivative(expr, fn, k):
    a = SINGULAR[k]
    if "cond" in expr and a.shape[-1] != a.shape[-2]:
        pytest.skip("cond of a non-square matrix: its own test")
    with torch.no_grad():
        want = fn(torch.tensor(a)).numpy()
    got = api.evaluate(expr, {"A": a})
    if "cond" in expr:  # σmax / σmin of a rounded zero: both huge (or inf), not equal
        assert abs(got) > 1e14 and abs(want) > 1e14
    else:
        np.testing.assert_allclose(got, want, atol=1e-12)
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match="singular value at zero"):
            api.jacobian(expr, {"A": a}, mode=mode)
