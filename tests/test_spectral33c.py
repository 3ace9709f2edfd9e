"""Hessians through eigenvalues at repeated eigenvalues (session 33c). Where F(A) = f(λ(A)) is twice
differentiable at a repeat (f symmetric within each cluster), its Hessian is Lewis–Sendov's: in the eigenbasis,
d²F[B, B] = Σ (H_f diag M)ᵢ Mᵢᵢ + Σ_{i≠j} Kᵢⱼ Mᵢⱼ², M = Vᵀ sym(B) V, Kᵢⱼ the divided difference (gᵢ − gⱼ) / (λᵢ − λⱼ)
of the eigenvalues' cotangent g, whose limit inside a cluster is (H_f)ᵢᵢ − (H_f)ᵢⱼ; for a separable f = Σ h(λᵢ) this
is Daleckii–Krein's H[T] = V (L ∘ (Vᵀ sym(T) V)) Vᵀ, L the divided differences of h′ (h″ on a cluster). The limit
needs H_f's in-cluster block, which no one op's rule sees (benchmarks/lewis33_notes.md), so jac still refuses
these Hessians, saying it is the second derivative that is refused, from `jac hessian` and `jac derivative
--order 2` alike. Pinned here: the formula against central differences of jac's own gradient at the repeats
(answered there), the closed forms, jac's exact Hessians at distinct values, and the refusals."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm_frechet

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

_rng = np.random.default_rng(3303)
L = "torch.linalg."


def _sym_of(d):
    q, _ = np.linalg.qr(_rng.standard_normal((len(d), len(d))))
    a = q @ np.diag(d) @ q.T
    return (a + a.T) / 2


REPEATED = {"2,2,1": _sym_of([2.0, 2.0, 1.0]), "3,1,1": _sym_of([3.0, 1.0, 1.0]), "eye": np.eye(3),
            "4,4,1,1": _sym_of([4.0, 4.0, 1.0, 1.0])}
DISTINCT = _sym_of([3.0, 2.0, 1.0])
SEPARABLE = {  # h′ and h″ of y = Σ h(λᵢ)
    L + "eigvalsh(A).sum()": (lambda x: np.ones_like(x), lambda x: np.zeros_like(x)),
    f"({L}eigvalsh(A) ** 2).sum()": (lambda x: 2 * x, lambda x: 2 + 0 * x),
    f"torch.exp({L}eigvalsh(A)).sum()": (np.exp, np.exp),
    f"torch.sin({L}eigvalsh(A)).sum()": (np.cos, lambda x: -np.sin(x)),
}


def _directions(n):
    for idx in np.ndindex(n, n):
        t = np.zeros((n, n))
        t[idx] = 1.0
        yield idx, t


def _gradient(expr, a):
    return api.jacobian(expr, {"A": a}, mode="reverse")["A"]


def _central(expr, a, h=1e-5):
    """The Hessian as central differences of jac's reverse gradient (answered at the repeats: g is equal there)."""
    n = a.shape[0]
    H = np.zeros((n, n, n, n))
    for idx, t in _directions(n):
        H[(...,) + idx] = (_gradient(expr, a + h * t) - _gradient(expr, a - h * t)) / (2 * h)
    return H


def _lewis_sendov(a, g, hf):
    """H[(p, q), (r, s)] by Lewis–Sendov with f's gradient g(λ) and Hessian hf(λ); the limit (H_f)ᵢᵢ − (H_f)ᵢⱼ
    inside a cluster. jac's convention: eigvalsh reads sym(A), so a direction T acts as sym(T)."""
    w, v = np.linalg.eigh(a)
    n, gw, hw = len(w), g(w), hf(w)
    cluster = np.abs(w[:, None] - w[None, :]) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        K = np.where(cluster, np.diag(hw)[:, None] - hw, (gw[:, None] - gw[None, :]) / (w[:, None] - w[None, :]))
    np.fill_diagonal(K, 0.0)
    H = np.zeros((n, n, n, n))
    for idx, t in _directions(n):
        m = v.T @ ((t + t.T) / 2) @ v
        H[(...,) + idx] = v @ (np.diag(hw @ np.diag(m)) + K * m) @ v.T
    return H


def _separable(h1, h2):
    return lambda w: h1(w), lambda w: np.diag(h2(w))


@pytest.mark.parametrize("expr", list(SEPARABLE))
@pytest.mark.parametrize("name", list(REPEATED))
def test_lewis_sendov_at_repeats_is_central_differences_of_the_gradient(expr, name):
    """The formula a future rule must give, checked where jac refuses it: the limit h″ inside a cluster."""
    a = REPEATED[name]
    np.testing.assert_allclose(_central(expr, a), _lewis_sendov(a, *_separable(*SEPARABLE[expr])), atol=5e-8)


def test_closed_forms_at_repeats():
    """Σλ² = ‖sym A‖²_F: ∂²/∂A_pq ∂A_rs = δ_pr δ_qs + δ_ps δ_qr (2·I on symmetric directions); tr exp(A): the
    Fréchet derivative of exp at A along sym(T); the trace: 0."""
    for a in REPEATED.values():
        n = a.shape[0]
        eye = np.eye(n)
        two = np.einsum("pr,qs->pqrs", eye, eye) + np.einsum("ps,qr->pqrs", eye, eye)
        np.testing.assert_allclose(_central(f"({L}eigvalsh(A) ** 2).sum()", a), two, atol=5e-8)
        frechet = np.zeros((n,) * 4)
        for idx, t in _directions(n):
            frechet[(...,) + idx] = expm_frechet(a, (t + t.T) / 2, compute_expm=False)
        np.testing.assert_allclose(_central(f"torch.exp({L}eigvalsh(A)).sum()", a), frechet, atol=1e-7)
        np.testing.assert_allclose(_central(L + "eigvalsh(A).sum()", a), 0.0, atol=1e-8)


def test_lewis_sendov_of_a_symmetric_non_separable_function_and_of_a_simple_eigenvalue():
    """(Σλ)² + Σλ³ (H_f = 2·11ᵀ + diag 6λ: the limit is 6λ) and λ₀ = 1 beside the pair 2, 2 (g = e₀, constant)."""
    a = REPEATED["2,2,1"]
    expr = f"{L}eigvalsh(A).sum() ** 2 + ({L}eigvalsh(A) ** 3).sum()"
    want = _lewis_sendov(a, lambda w: 2 * w.sum() + 3 * w ** 2, lambda w: 2 * np.ones((3, 3)) + np.diag(6 * w))
    np.testing.assert_allclose(_central(expr, a), want, atol=1e-7)
    want = _lewis_sendov(a, lambda w: np.eye(3)[0], lambda w: np.zeros((3, 3)))
    np.testing.assert_allclose(_central(L + "eigvalsh(A)[0]", a), want, atol=5e-8)


@pytest.mark.parametrize("expr", list(SEPARABLE) + [L + "eigvalsh(A)[0]", L + "eigvalsh(A)[2]"])
def test_hessians_at_distinct_eigenvalues_are_lewis_sendovs_and_derivative_order_2_agrees(expr):
    h1, h2 = SEPARABLE.get(expr, (None, None))
    if h1 is None:
        k = int(expr[-2])
        want = _lewis_sendov(DISTINCT, lambda w: np.eye(3)[k], lambda w: np.zeros((3, 3)))
    else:
        want = _lewis_sendov(DISTINCT, *_separable(h1, h2))
    H = api.hessian(expr, {"A": DISTINCT})[("A", "A")]
    np.testing.assert_allclose(H, want, atol=1e-12)
    np.testing.assert_array_equal(api.derivative(expr, {"A": DISTINCT}, order=2), H)


SECOND = "eigvalsh: the second derivative of the eigenvalues where they repeat"


@pytest.mark.parametrize("expr", list(SEPARABLE) + [L + "eigvalsh(A)[0]",
                                                      f"{L}eigvalsh(A).sum() ** 2 + ({L}eigvalsh(A) ** 3).sum()"])
def test_well_defined_hessians_at_repeats_are_refused_as_second_derivatives_by_both_commands(expr):
    """Still refused (no exact rule yet), and `jac derivative --order 2` says what `jac hessian` says: before,
    its reverse fallback said "the output reads them apart ... Σλ² has one" of Σλ² itself."""
    a = REPEATED["2,2,1"]
    for ask in (lambda: api.hessian(expr, {"A": a}), lambda: api.derivative(expr, {"A": a}, order=2)):
        with pytest.raises(JacValueError, match=SECOND):
            ask()


def test_a_gradient_answered_at_a_repeat_whose_hessian_does_not_exist_stays_refused():
    """Σ cᵢ λᵢ² with c = 1, 2, 3 at λ = 0, 0, 1: the cotangent 2cλ is 0 on the cluster, so the gradient is
    answered, but H_f = diag(2c) is not symmetric on it: one-sided differences of the gradient differ (no
    Hessian), and a limit taken from g's equality alone would be wrong. Refused; and max at a repeated top."""
    a = _sym_of([0.0, 0.0, 1.0])
    expr = f"({L}eigvalsh(A) ** 2 * torch.tensor([1.0, 2.0, 3.0])).sum()"
    g0 = _gradient(expr, a)
    t, h = np.zeros((3, 3)), 1e-5
    t[0, 0] = 1.0
    plus, minus = (_gradient(expr, a + h * t) - g0) / h, (g0 - _gradient(expr, a - h * t)) / h
    assert np.abs(plus - minus).max() > 0.1
    for ask in (lambda: api.hessian(expr, {"A": a}), lambda: api.derivative(expr, {"A": a}, order=2)):
        with pytest.raises(JacValueError, match=SECOND):
            ask()
    top = REPEATED["2,2,1"]  # max at a repeated top: a kink (the gradient is max's even split, or refused)
    for ask in (lambda: api.hessian(L + "eigvalsh(A).max()", {"A": top}),
                lambda: api.derivative(L + "eigvalsh(A).max()", {"A": top}, order=2)):
        with pytest.raises(JacValueError, match=SECOND + "|eigenvalues 1 and 2 are equal"):
            ask()
