"""Forward mode and Hessians at repeated eigenvalues (session 33b). A forward pass computes the tangent of each
eigenvalue alone, which is not defined where the tangent moves a repeated cluster apart; what the output reads of
them may be (the trace's tr(dA)). Where a spectral rule refuses the forward pass, jac takes J·t from reverse passes
over the output's elements (at most ``autodiff.FALLBACK_ROWS``), which refuse exactly where the output reads the
cluster apart. Second derivatives at repeated values stay refused, naming eigvalsh / svdvals."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

_rng = np.random.default_rng(3300)


def _rotation(n):
    q, _ = np.linalg.qr(_rng.standard_normal((n, n)))
    return q


def _sym(a):
    return (a + a.T) / 2


_Q = _rotation(3)
EIG = _sym(_Q @ np.diag([2.0, 2.0, 1.0]) @ _Q.T)  # λ = 1, 2, 2
EIG4 = _sym(_rotation(4) @ np.diag([3.0, 3.0, 1.0, 1.0]) @ _rotation(4).T * 0 + np.diag([3.0, 3.0, 1.0, 1.0]))
_U, _V = _rotation(4)[:, :3], _rotation(3)
SVD = _U @ np.diag([2.0, 2.0, 1.0]) @ _V.T  # σ = 2, 2, 1
T = _rng.standard_normal((3, 3))  # moves the cluster {2, 2} apart
L = "torch.linalg."


def _expm_sym(a):
    w, v = np.linalg.eigh(a)
    return v @ np.diag(np.exp(w)) @ v.T


# expression, closed form of its derivative along t at a (jac reads the symmetric part of an eigvalsh input)
CLOSED = [(L + "eigvalsh(A).sum()", lambda a, t: np.trace(t)),
          (f"({L}eigvalsh(A) ** 2).sum()", lambda a, t: 2 * np.sum(a * _sym(t))),
          (f"torch.exp({L}eigvalsh(A)).sum()", lambda a, t: np.sum(_expm_sym(a) * _sym(t))),
          ("np.linalg.eigh(A)[0].sum() * 2", lambda a, t: 2 * np.trace(t))]


def _central(expr, a, t, h=1e-6):
    return (np.asarray(api.evaluate(expr, {"A": a + h * t})) - np.asarray(api.evaluate(expr, {"A": a - h * t}))) / (2 * h)


@pytest.mark.parametrize("expr,closed", CLOSED, ids=[c[0] for c in CLOSED])
@pytest.mark.parametrize("where", ["2,2,1", "eye", "3,3,1,1"])
def test_a_symmetric_function_of_repeated_eigenvalues_has_its_jvp(expr, closed, where):
    a = {"2,2,1": EIG, "eye": np.eye(3), "3,3,1,1": EIG4}[where]
    t = T if a.shape == (3, 3) else _rng.standard_normal((4, 4))
    got = api.jvp(expr, {"A": a}, tangents={"A": t})
    assert got == pytest.approx(closed(a, t), abs=1e-12)
    assert got == pytest.approx(_central(expr, a, t), abs=1e-6)
    np.testing.assert_allclose(api.jacobian(expr, {"A": a}, mode="forward")["A"],
                               api.jacobian(expr, {"A": a}, mode="reverse")["A"], atol=1e-13)


def test_a_simple_eigenvalue_beside_a_repeated_pair_has_its_jvp():
    v0 = np.linalg.eigh(EIG)[1][:, 0]
    for expr in (L + "eigvalsh(A)[0]", "jnp.linalg.eigvalsh(A)[0] * 3"):
        scale = 3.0 if "* 3" in expr else 1.0
        assert api.jvp(expr, {"A": EIG}, tangents={"A": T}) == pytest.approx(scale * v0 @ _sym(T) @ v0, abs=1e-13)
        np.testing.assert_allclose(api.jacobian(expr, {"A": EIG}, mode="forward")["A"],
                                   scale * np.outer(v0, v0), atol=1e-13)


def test_an_output_that_reads_the_cluster_apart_is_still_refused_in_forward_mode():
    for expr in (L + "eigvalsh(A)", L + "eigvalsh(A)[2]", f"{L}eigvalsh(A) @ torch.tensor([1.0, 2.0, 3.0])"):
        with pytest.raises(JacValueError, match="are equal .* the output reads them apart"):
            api.jvp(expr, {"A": EIG}, tangents={"A": T})
        with pytest.raises(JacValueError, match="are equal"):
            api.jacobian(expr, {"A": EIG}, mode="forward")
    # a tangent that moves the cluster as a whole is answered by the forward pass itself, as before
    np.testing.assert_allclose(api.jvp(L + "eigvalsh(A)", {"A": EIG}, tangents={"A": np.eye(3)}), [1.0, 1.0, 1.0])


def test_past_the_bound_the_forward_refusal_stands():
    n = autodiff.FALLBACK_ROWS + 1
    expr = f"{L}eigvalsh(A).sum() * torch.ones({n})"
    with pytest.raises(JacValueError, match="more than 1024 elements"):
        api.jvp(expr, {"A": EIG}, tangents={"A": T})
    got = api.jvp(expr, {"A": EIG}, tangents={"A": np.eye(3)})  # moves the cluster as a whole: forward answers
    np.testing.assert_allclose(got, np.full(n, 3.0))


def test_singular_values_in_forward_mode():
    # the nuclear norm at σ = 2, 2, 1: d = <U Vᵀ, dA>, whatever basis of the repeated pair
    for expr in (L + "svdvals(A).sum()", L + "matrix_norm(A, 'nuc')"):
        assert api.jvp(expr, {"A": SVD}, tangents={"A": T[:, :3].repeat(2, 0)[:4]}) == \
            pytest.approx(np.sum(_U @ _V.T * T[:, :3].repeat(2, 0)[:4]), abs=1e-12)
    with pytest.raises(JacValueError, match="singular values 0 and 1 are equal"):
        api.jvp(L + "svdvals(A)", {"A": SVD}, tangents={"A": np.ones((4, 3))})


def test_compiled_calls_and_batches_agree_with_the_interpreter():
    want = np.trace(T)
    f = api.compile(L + "eigvalsh(A).sum()", {"A": EIG})
    for _ in range(4):  # the interpreter's first call, then whatever kernel it learnt
        assert f.jvp({"A": EIG}, {"A": T}) == pytest.approx(want, abs=1e-12)
        np.testing.assert_allclose(f.jacobian({"A": EIG}, mode="forward")["A"], np.eye(3), atol=1e-13)
        with pytest.raises(JacValueError, match="are equal"):
            api.compile(L + "eigvalsh(A)", {"A": EIG}).jvp({"A": EIG}, {"A": T})
    stack = np.stack([EIG, np.eye(3)])
    J = api.jacobian(L + "eigvalsh(A).sum()", {"A": stack}, batch=["A"], mode="forward")["A"]
    np.testing.assert_allclose(J, np.stack([np.eye(3)] * 2), atol=1e-13)


def test_second_derivatives_at_repeated_values_are_refused_naming_the_values():
    """Σλ²'s Hessian is 2·I there and the trace's 0, but jac's rules hold 1/(λᵢ − λⱼ) terms whose limit they
    cannot take: refused, saying so, not with eigh's eigenvector message."""
    for expr in (L + "eigvalsh(A).sum()", f"({L}eigvalsh(A) ** 2).sum()", L + "eigvalsh(A)[0]"):
        for a in (EIG, np.eye(3)) if "[0]" not in expr else (EIG,):  # at eye λ₀ is repeated: no gradient either
            with pytest.raises(JacValueError, match="eigvalsh: the second derivative of the eigenvalues where they"):
                api.hessian(expr, {"A": a})
            with pytest.raises(JacValueError, match="the second derivative|are equal"):  # traced levels: either check
                api.derivative(expr, {"A": a}, order=2)
    with pytest.raises(JacValueError, match="svdvals: the second derivative of the singular values"):
        api.hessian(L + "svdvals(A).sum()", {"A": SVD})
    with pytest.raises(JacValueError, match="eigh: the eigenvectors have no derivative"):
        api.jacobian("np.linalg.eigh(A)[1]", {"A": EIG})
