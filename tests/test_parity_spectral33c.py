"""Hessians through eigenvalues against PyTorch (session 33c). At distinct eigenvalues jac's Hessian is
torch.autograd.functional.hessian's, non-symmetric directions included (both differentiate V diag(f′(λ)) Vᵀ
taking dA as it comes, which eigvalsh reads as sym(dA)). At repeated eigenvalues PyTorch's is no reference: NaN at
an exact repeat, and where LAPACK's values differ by an ulp, finite numbers off the true Hessian (Lewis–Sendov's,
checked against central differences of jac's gradient in tests/test_spectral33c.py) by a tenth: jac refuses."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
la = torch.linalg
_rng = np.random.default_rng(33303)


def _sym(d):
    q, _ = np.linalg.qr(_rng.standard_normal((len(d), len(d))))
    a = q @ np.diag(d) @ q.T
    return (a + a.T) / 2


CASES = {
    "torch.linalg.eigvalsh(A).sum()": lambda a: la.eigvalsh(a).sum(),
    "(torch.linalg.eigvalsh(A) ** 2).sum()": lambda a: (la.eigvalsh(a) ** 2).sum(),
    "torch.exp(torch.linalg.eigvalsh(A)).sum()": lambda a: la.eigvalsh(a).exp().sum(),
    "torch.linalg.eigvalsh(A)[0]": lambda a: la.eigvalsh(a)[0],
    "torch.linalg.eigvalsh(A).sum() ** 2 + (torch.linalg.eigvalsh(A) ** 3).sum()":
        lambda a: la.eigvalsh(a).sum() ** 2 + (la.eigvalsh(a) ** 3).sum(),
}


def _torch_hessian(fn, a):
    return torch.autograd.functional.hessian(fn, torch.tensor(a)).numpy()


@pytest.mark.parametrize("expr", list(CASES))
def test_hessians_at_distinct_eigenvalues_are_pytorchs(expr):
    a = _sym([3.0, 2.0, 1.0, -0.5])
    np.testing.assert_allclose(api.hessian(expr, {"A": a})[("A", "A")], _torch_hessian(CASES[expr], a),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("expr", [e for e in CASES if "[0]" not in e])  # at eye λ₀ is repeated: no gradient
def test_at_repeats_pytorchs_hessian_is_no_reference_and_jac_refuses(expr):
    with pytest.raises(JacValueError, match="second derivative of the eigenvalues where they repeat"):
        api.hessian(expr, {"A": np.eye(3)})
    assert not np.isfinite(_torch_hessian(CASES[expr], np.eye(3))).all()  # NaN at an exact repeat
