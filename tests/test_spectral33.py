"""Repeated eigenvalues and singular values (session 33): the derivative of each of a cluster of equal eigenvalues
alone is not defined (the sorted eigenvalues have a kink there); LAPACK's basis of the eigenspace made jac answer
vᵢvᵢᵀ with arbitrary vᵢ. jac refuses such a derivative in every mode, and keeps it where it does not depend on the
basis: a cotangent the same across each cluster (the trace, Σλ², the nuclear norm), a simple eigenvalue read alone
(reverse mode), a tangent that moves each cluster as a whole (forward mode)."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

_rng = np.random.default_rng(33)


def _rotation(n):
    q, _ = np.linalg.qr(_rng.standard_normal((n, n)))
    return q


_Q = _rotation(3)
EIG = (_Q @ np.diag([2.0, 2.0, 1.0]) @ _Q.T + (_Q @ np.diag([2.0, 2.0, 1.0]) @ _Q.T).T) / 2  # λ = 1, 2, 2
DISTINCT = _Q @ np.diag([3.0, 2.0, 1.0]) @ _Q.T
DISTINCT = (DISTINCT + DISTINCT.T) / 2
_U, _V = _rotation(4)[:, :3], _rotation(3)
SVD = _U @ np.diag([2.0, 2.0, 1.0]) @ _V.T  # 4 × 3, σ = 2, 2, 1
SVD_LOW = _U @ np.diag([3.0, 1.0, 1.0]) @ _V.T  # the smallest repeated
MESSAGE = "are equal .* the derivative of each alone is not defined"

# derivatives that read the repeated values apart: refused whatever the mode
EIG_REFUSED = ["torch.linalg.eigvalsh(A)", "np.linalg.eigvalsh(A)", "torch.linalg.eigh(A)[0]",
               "np.linalg.eigh(A).eigenvalues", "torch.linalg.eigvalsh(A)[2]", "jnp.linalg.eigvalsh(A)[1] * 3",
               "torch.linalg.eigvalsh(A) @ torch.tensor([1.0, 2.0, 3.0])"]
SVD_REFUSED = ["torch.linalg.svdvals(A)", "np.linalg.svd(A)[1]", "torch.linalg.svd(A, full_matrices=False).S[0]",
               "np.linalg.svd(A, compute_uv=False)[1]"]
LOW_REFUSED = ["torch.linalg.matrix_norm(A, -2)", "np.linalg.norm(A, -2)", "torch.linalg.cond(A)", "np.linalg.cond(A)"]


def _central(expr, a, h=1e-6):
    """d(expr)/dA by central differences, (*y, *A.shape)."""
    y0 = np.asarray(api.evaluate(expr, {"A": a}))
    J = np.zeros(y0.shape + a.shape)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = h
        J[(...,) + idx] = (np.asarray(api.evaluate(expr, {"A": a + e})) -
                           np.asarray(api.evaluate(expr, {"A": a - e}))) / (2 * h)
    return J


def _refused_everywhere(expr, a):
    api.evaluate(expr, {"A": a})  # the value is computed
    y = np.asarray(api.evaluate(expr, {"A": a}))
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian(expr, {"A": a}, mode=mode)
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jvp(expr, {"A": a}, tangents={"A": np.arange(1.0, a.size + 1).reshape(a.shape)})
    with pytest.raises(JacValueError):  # the Hessian's inner pass refuses, or eig_gaps (eigenvectors' rule)
        api.hessian(expr, {"A": a})
    with pytest.raises(JacValueError):
        api.derivative(expr, {"A": a}, order=2)
    return y


@pytest.mark.parametrize("expr", EIG_REFUSED)
def test_individual_repeated_eigenvalues_are_refused_in_every_mode(expr):
    y = _refused_everywhere(expr, EIG)
    if y.ndim:
        with pytest.raises(JacValueError, match=MESSAGE):
            api.vjp(expr, {"A": EIG}, v=np.array([0.0, 1.0, 0.0])[:y.shape[0]] if y.shape == (3,) else np.ones(y.shape))


@pytest.mark.parametrize("expr", SVD_REFUSED)
def test_individual_repeated_singular_values_are_refused_in_every_mode(expr):
    _refused_everywhere(expr, SVD)


@pytest.mark.parametrize("expr", LOW_REFUSED)
def test_a_repeated_smallest_singular_value_is_refused_where_one_is_read(expr):
    """min reads one of the two (LAPACK's values differ by an ulp: its pick is LAPACK's rounding)."""
    s = np.linalg.svd(SVD_LOW, compute_uv=False)
    if s[-1] == s[-2]:
        pytest.skip("this LAPACK gave the repeated values bit for bit (min splits: basis-free)")
    a = SVD_LOW if "cond" not in expr else SVD_LOW[:3]
    if "cond" in expr and len(set(np.linalg.svd(a, compute_uv=False).round(12))) == 3:
        a = _V @ np.diag([3.0, 1.0, 1.0]) @ _rotation(3).T
        s = np.linalg.svd(a, compute_uv=False)
        if s[-1] == s[-2]:  # another machine's LAPACK: this 3 x 3 one's repeated values bit for bit
            pytest.skip("this LAPACK gave the repeated values bit for bit (min splits: basis-free)")
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jacobian(expr, {"A": a})


def test_the_message_names_the_values_and_the_call():
    with pytest.raises(JacValueError) as err:
        api.jacobian("x = 1.0 * A; torch.linalg.eigvalsh(x)", {"A": EIG})
    text = str(err.value)
    assert "eigenvalues 1 and 2 are equal (2.0" in text and "their sum" in text
    assert err.value.position == "x = 1.0 * A; ".__len__() + len("torch.linalg.")
    with pytest.raises(JacValueError, match="singular values 0 and 1 are equal"):
        api.jacobian("torch.linalg.svdvals(A)", {"A": SVD})


def test_a_vjp_whose_cotangent_differs_within_the_cluster_is_refused_and_one_alike_kept():
    for v in ([0.0, 1.0, 0.0], [1.0, 0.5, 0.7]):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.vjp("torch.linalg.eigvalsh(A)", {"A": EIG}, v=np.array(v))
    # the same across the cluster {1, 2}: V diag(g) Vᵀ = g₀ v₀v₀ᵀ + g₁ (I - v₀v₀ᵀ), whatever the basis
    w, vecs = np.linalg.eigh(EIG)
    p0 = np.outer(vecs[:, 0], vecs[:, 0])
    got = api.vjp("torch.linalg.eigvalsh(A)", {"A": EIG}, v=np.array([3.0, -0.5, -0.5]))["A"]
    np.testing.assert_allclose(got, 3 * p0 - 0.5 * (np.eye(3) - p0), atol=1e-14)


KEPT_EIG = ["torch.linalg.eigvalsh(A).sum()", "(torch.linalg.eigvalsh(A) ** 2).sum()", "torch.linalg.eigvalsh(A)[0]",
            "np.linalg.eigh(A)[0].sum() * 2", "torch.exp(torch.linalg.eigvalsh(A)).sum()",
            "torch.linalg.eigvalsh(A).max() - torch.linalg.eigvalsh(A).min()"]


@pytest.mark.parametrize("expr", KEPT_EIG)
def test_derivatives_that_treat_the_cluster_alike_are_kept_in_reverse_mode(expr):
    if expr.endswith(".min()") and len(set(np.linalg.eigvalsh(EIG))) == 3:
        expr = "torch.linalg.eigvalsh(A)[2] * 0 + torch.linalg.eigvalsh(A)[0]"  # max reads one of the ulp-apart
    got = api.jacobian(expr, {"A": EIG}, mode="reverse")["A"]
    np.testing.assert_allclose(got, _central(expr, EIG), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(api.vjp(expr, {"A": EIG})["A"], got, atol=1e-14)


def test_closed_forms_of_the_kept_derivatives():
    np.testing.assert_allclose(api.jacobian("torch.linalg.eigvalsh(A).sum()", {"A": EIG})["A"], np.eye(3),
                               atol=1e-14)
    np.testing.assert_allclose(api.jacobian("(torch.linalg.eigvalsh(A) ** 2).sum()", {"A": EIG})["A"], 2 * EIG,
                               atol=1e-13)
    # the nuclear norm at repeated nonzero singular values: U Vᵀ (basis-free)
    np.testing.assert_allclose(api.jacobian("torch.linalg.matrix_norm(A, 'nuc')", {"A": SVD})["A"], _U @ _V.T,
                               atol=1e-13)
    np.testing.assert_allclose(api.jacobian("torch.linalg.svdvals(A).sum()", {"A": SVD})["A"], _U @ _V.T,
                               atol=1e-13)
    np.testing.assert_allclose(api.jacobian("(torch.linalg.svdvals(A) ** 2).sum()", {"A": SVD})["A"], 2 * SVD,
                               atol=1e-13)


def test_forward_mode_keeps_a_tangent_that_moves_each_cluster_as_a_whole():
    """A JVP's forward pass computes the tangent of every eigenvalue: answered where the tangent's block on each
    repeated eigenspace is a multiple of I (then each basis gives the same); elsewhere (session 33b) by reverse
    passes over the output's elements, which see what it reads (tests/test_spectral33b.py)."""
    for t, want in ((np.eye(3), 3.0), (EIG, 5.0), (np.zeros((3, 3)), 0.0)):
        assert api.jvp("torch.linalg.eigvalsh(A).sum()", {"A": EIG}, tangents={"A": t}) == pytest.approx(want)
    np.testing.assert_allclose(api.jvp("torch.linalg.eigvalsh(A)", {"A": EIG}, tangents={"A": EIG}), [1.0, 2.0, 2.0],
                               atol=1e-14)
    t = np.diag([1.0, 0.0, 0.0])
    assert api.jvp("torch.linalg.eigvalsh(A).sum()", {"A": EIG}, tangents={"A": t}) == pytest.approx(1.0)
    v0 = np.linalg.eigh(EIG)[1][:, 0]  # λ₀ = 1 is simple: its tangent v₀ᵀ dS v₀
    assert api.jvp("torch.linalg.eigvalsh(A)[0]", {"A": EIG}, tangents={"A": t}) == pytest.approx(v0 @ t @ v0)
    with pytest.raises(JacValueError, match="the output reads them apart"):
        api.jvp("torch.linalg.eigvalsh(A)", {"A": EIG}, tangents={"A": t})
    # singular values: the tangent's Uᵀ dA V symmetric part on the cluster a multiple of I
    assert api.jvp("torch.linalg.svdvals(A).sum()", {"A": SVD}, tangents={"A": SVD}) == pytest.approx(5.0)


def test_distinct_values_answer_in_every_mode_as_before():
    expr = "torch.linalg.eigvalsh(A)"
    want = _central(expr, DISTINCT)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(api.jacobian(expr, {"A": DISTINCT}, mode=mode)["A"], want, rtol=1e-6, atol=1e-7)
    t = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(api.jvp(expr, {"A": DISTINCT}, tangents={"A": t}),
                               np.tensordot(want, t, axes=2), rtol=1e-6, atol=1e-7)


def test_second_derivatives_at_repeated_eigenvalues_are_refused():
    """The Hessian of an eigenvalue function has 1/(λᵢ − λⱼ) terms (eig_gaps): refused at a repeat, even of the
    linear trace (jac cannot take the limit; PyTorch's is inf or NaN); at distinct values it is central
    differences' of the gradient."""
    for expr in ("torch.linalg.eigvalsh(A).sum()", "torch.linalg.eigvalsh(A)[0]", "(torch.linalg.eigvalsh(A) ** 2).sum()"):
        with pytest.raises(JacValueError, match="eigvalsh: the second derivative of the eigenvalues where they repeat"):
            api.hessian(expr, {"A": EIG})
    expr = "torch.linalg.eigvalsh(A)[2]"
    H = api.hessian(expr, {"A": DISTINCT})[("A", "A")]
    grad = lambda m: api.jacobian(expr, {"A": m})["A"]  # noqa: E731
    h = 1e-6
    for idx in np.ndindex(3, 3):
        e = np.zeros((3, 3))
        e[idx] = h
        np.testing.assert_allclose(H[(...,) + idx], (grad(DISTINCT + e) - grad(DISTINCT - e)) / (2 * h), atol=1e-6)


def test_the_cutoff_is_relative_to_the_largest_eigenvalue():
    """Apart by 8·n·eps·max|λ| or less: repeated; by 1e-6: distinct, the derivative central differences'."""
    eps = np.finfo(np.float64).eps
    near = _Q @ np.diag([2.0, 2.0 + 4 * eps, 1.0]) @ _Q.T
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jacobian("torch.linalg.eigvalsh(A)", {"A": (near + near.T) / 2})
    apart = _Q @ np.diag([2.0, 2.0 + 1e-3, 1.0]) @ _Q.T
    apart = (apart + apart.T) / 2
    got = api.jacobian("torch.linalg.eigvalsh(A)", {"A": apart})["A"]
    np.testing.assert_allclose(got, _central("torch.linalg.eigvalsh(A)", apart, 1e-7), atol=1e-5)


def test_float32_and_batches_and_compiled_calls_keep_the_refusal():
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jacobian("torch.linalg.eigvalsh(A)", {"A": EIG}, dtype="float32")
    stack = np.stack([DISTINCT, EIG])
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian("torch.linalg.eigvalsh(A)", {"A": stack}, batch=["A"], mode=mode)
    J = api.jacobian("torch.linalg.eigvalsh(A).sum()", {"A": stack}, batch=["A"])["A"]
    np.testing.assert_allclose(J, np.stack([np.eye(3)] * 2), atol=1e-13)
    f = api.compile("torch.linalg.eigvalsh(A)", {"A": DISTINCT})
    for _ in range(3):  # the interpreter's first call, then the kernels
        f.jacobian({"A": DISTINCT})
        with pytest.raises(JacValueError, match=MESSAGE):
            f.jacobian({"A": EIG})
        with pytest.raises(JacValueError, match=MESSAGE):
            f.vjp({"A": EIG}, v=np.array([0.0, 0.0, 1.0]))


def test_a_gradient_written_in_the_text_is_refused_at_evaluation():
    with pytest.raises(JacValueError, match=MESSAGE):
        api.evaluate("jax.grad(lambda m: jnp.linalg.eigvalsh(m)[2])(A)", {"A": EIG})
    np.testing.assert_allclose(api.evaluate("jax.grad(lambda m: jnp.linalg.eigvalsh(m).sum())(A)", {"A": EIG}),
                               np.eye(3), atol=1e-14)


def test_the_spectral_norm_at_a_repeated_largest_singular_value_is_refused_or_the_split():
    """ord=2 is max(svdvals): where LAPACK gives the repeated σmax bit for bit, max splits its cotangent evenly
    (PyTorch's and JAX's rule), U_C V_Cᵀ / k, which no basis changes; an ulp apart, max reads one: refused."""
    for expr in ("torch.linalg.matrix_norm(A, 2)", "np.linalg.norm(A, 2)"):
        try:
            got = api.jacobian(expr, {"A": SVD})["A"]
        except JacValueError as err:
            assert "singular values 0 and 1 are equal" in str(err)
            continue
        np.testing.assert_allclose(got, _U[:, :2] @ _V[:, :2].T / 2, atol=1e-13)
