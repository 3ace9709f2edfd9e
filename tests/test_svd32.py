"""Singular values at (numerically) zero (session 32): the derivative of a singular value at zero takes the
arbitrary signs LAPACK gives its singular vectors (JAX's answer and PyTorch's differed for a tall matrix), so jac
refuses a derivative through it in every mode, and still computes the value; the spectral norm (ord=2), which
reads σmax alone, keeps its derivative u₁v₁ᵀ at a singular matrix (refused at the zero matrix only)."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api

SQUARE = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1: σ = 5, 0
TALL = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # rank 1: σ = √70, 0
WIDE = TALL.T.copy()
ZERO = np.zeros((2, 2))
FULL = np.array([[2.0, 1.0], [0.5, 3.0], [1.0, -1.0]])  # σ distinct and far from 0
SINGULAR = {"square": SQUARE, "tall": TALL, "wide": WIDE, "zero": ZERO}
# every user-facing spelling that differentiates every singular value (or the smallest)
REFUSED = ["torch.linalg.svdvals(A)", "np.linalg.svd(A, compute_uv=False)", "jnp.linalg.svd(A, compute_uv=False)",
           "np.linalg.svd(A)[1]", "torch.linalg.svd(A).S.sum()", "torch.svd(A, compute_uv=False).S",
           "torch.linalg.matrix_norm(A, 'nuc')", "np.linalg.norm(A, 'nuc')", "torch.linalg.matrix_norm(A, -2)",
           "np.linalg.norm(A, -2)", "torch.linalg.cond(A)", "np.linalg.cond(A)", "torch.linalg.svdvals(A)[0]",
           "torch.linalg.svdvals(A).max()", "(torch.linalg.svdvals(A) ** 2).sum()"]
SPECTRAL = ["torch.linalg.matrix_norm(A, 2)", "np.linalg.norm(A, 2)", "torch.linalg.norm(A, 2)",
            "torch.linalg.matrix_norm(A, ord=2) ** 2"]
MESSAGE = "singular value at zero"


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


@pytest.mark.parametrize("kind", list(SINGULAR))
@pytest.mark.parametrize("expr", REFUSED)
def test_a_derivative_through_a_zero_singular_value_is_refused_in_every_mode(expr, kind):
    a = SINGULAR[kind]
    api.evaluate(expr, {"A": a})  # the value is defined and computed
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian(expr, {"A": a}, mode=mode)
    y = np.asarray(api.evaluate(expr, {"A": a}))
    with pytest.raises(JacValueError, match=MESSAGE):
        api.vjp(expr, {"A": a}, v=np.ones(y.shape))
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jvp(expr, {"A": a}, tangents={"A": np.arange(1.0, a.size + 1).reshape(a.shape)})
    with pytest.raises(JacValueError, match=MESSAGE):
        api.hessian(expr, {"A": a})
    with pytest.raises(JacValueError, match=MESSAGE):
        api.derivative(expr, {"A": a}, order=3)


def test_the_value_is_the_libraries_and_only_derivatives_refuse():
    s = api.evaluate("torch.linalg.svdvals(A)", {"A": TALL})
    np.testing.assert_allclose(s, np.linalg.svd(TALL, compute_uv=False), atol=1e-15)
    assert api.evaluate("np.linalg.norm(A, 'nuc')", {"A": SQUARE}) == pytest.approx(5.0)
    # a derivative by another input, through nothing of the SVD, answers
    J = api.jacobian("torch.linalg.svdvals(A) + b", {"A": TALL, "b": [1.0, 2.0]}, wrt=["b"])
    np.testing.assert_array_equal(J["b"], np.eye(2))


@pytest.mark.parametrize("kind", ["square", "tall", "wide"])
@pytest.mark.parametrize("expr", SPECTRAL)
def test_the_spectral_norm_of_a_singular_matrix_has_its_derivative_in_every_mode(expr, kind):
    a = SINGULAR[kind]
    want = _central(expr, a)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(api.jacobian(expr, {"A": a}, mode=mode)["A"], want, rtol=1e-7, atol=1e-8)
    t = np.arange(1.0, a.size + 1).reshape(a.shape)
    np.testing.assert_allclose(api.jvp(expr, {"A": a}, tangents={"A": t}), np.sum(want * t), rtol=1e-7)
    # the Hessian against central differences of the gradient (sign-free: u₂'s sign meets itself)
    H = api.hessian(expr, {"A": a})[("A", "A")]
    G = lambda m: api.jacobian(expr, {"A": m}, mode="reverse")["A"]  # noqa: E731
    h = 1e-6
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = h
        np.testing.assert_allclose(H[(...,) + idx], (G(a + e) - G(a - e)) / (2 * h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("expr", SPECTRAL)
def test_the_spectral_norm_of_the_zero_matrix_is_refused(expr):
    """σmax = 0: every singular vector pair is arbitrary (PyTorch gives ½·I for 2 × 2, a subgradient)."""
    assert api.evaluate(expr, {"A": ZERO}) == 0.0
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian(expr, {"A": ZERO}, mode=mode)


def test_the_cutoff_is_max_m_n_eps_sigma_max():
    """σ at or below max(m, n)·eps·σmax is zero (NumPy's matrix_rank cutoff); above it, the derivative is the
    central differences'."""
    u, _, vh = np.linalg.svd(np.array([[1.0, 2.0], [-2.0, 1.0], [0.5, 0.3]]) / 3, full_matrices=False)
    eps = np.finfo(np.float64).eps
    at = u @ np.diag([1.0, 2 * eps]) @ vh  # σ₂ rounds to about 2·eps: below 3·eps
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jacobian("np.linalg.svd(A, compute_uv=False)", {"A": at})
    above = u @ np.diag([1.0, 1e-4]) @ vh
    expr = "np.linalg.svd(A, compute_uv=False)"
    np.testing.assert_allclose(api.jacobian(expr, {"A": above})["A"], _central(expr, above, 1e-7), atol=1e-7)


def test_float32_uses_its_own_eps():
    a = np.array([[1.0, 2.0], [2.0, 4.0 + 1e-9]])  # σ₂ ≈ 2e-10: zero in float32, not in float64
    api.jacobian("torch.linalg.svdvals(A)", {"A": a})
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jacobian("torch.linalg.svdvals(A)", {"A": a}, dtype="float32")


def test_a_derivative_through_singular_values_one_of_them_zero_is_refused_whatever_it_reads():
    """A cotangent of 0 on the zero singular value (Σσ²'s 2σ) would answer in reverse mode, where forward mode's
    tangent, nonzero until 2σ meets it, is refused: jac refuses both, and a stack with one singular matrix."""
    for v in (np.zeros(2), np.array([1.0, 0.0])):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.vjp("torch.linalg.svdvals(A)", {"A": TALL}, v=v)
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian("(torch.linalg.svdvals(A) ** 2).sum()", {"A": SQUARE}, mode=mode)
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian("torch.linalg.svdvals(A)", {"A": np.stack([FULL, TALL])}, mode=mode)
    # the full-rank matrix alone: u vᵀ per singular value
    got = api.vjp("torch.linalg.svdvals(A)", {"A": FULL}, v=np.ones(2))["A"]
    u, _, vh = np.linalg.svd(FULL, full_matrices=False)
    np.testing.assert_allclose(got, u @ vh, atol=1e-12)


def test_batches_refuse_the_singular_example():
    stack = np.stack([FULL, TALL])
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            api.jacobian("torch.linalg.matrix_norm(A, 'nuc')", {"A": stack}, batch=["A"], mode=mode)
    J = api.jacobian("torch.linalg.matrix_norm(A, 2)", {"A": stack}, batch=["A"])["A"]
    np.testing.assert_allclose(J[1], _central("torch.linalg.matrix_norm(A, 2)", TALL), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("expr", ["torch.linalg.svdvals(A)", "torch.linalg.matrix_norm(A, 'nuc')",
                                  "torch.linalg.cond(A)"])
def test_compiled_kernels_keep_the_refusal(expr):
    """A compiled function checked at a full-rank matrix (its kernels made) refuses at a singular one."""
    f = api.compile(expr, {"A": FULL})
    for _ in range(3):  # the interpreter's first call, then the kernels
        f.jacobian({"A": FULL})
        f.vjp({"A": FULL}, np.ones(np.shape(f.value({"A": FULL}))))
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match=MESSAGE):
            f.jacobian({"A": TALL}, mode=mode)
    with pytest.raises(JacValueError, match=MESSAGE):
        f.vjp({"A": TALL}, np.ones(np.shape(f.value({"A": TALL}))))
    np.testing.assert_allclose(f.value({"A": TALL}), api.evaluate(expr, {"A": TALL}))


def test_full_rank_matrices_answer_as_before():
    for expr in REFUSED + SPECTRAL:
        J = api.jacobian(expr, {"A": FULL})["A"]
        np.testing.assert_allclose(J, _central(expr, FULL), rtol=1e-6, atol=1e-7)


def test_the_command_line_refuses_with_one_message(tmp_path):
    from jacobi_cli.cli import entry
    import contextlib
    import io
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = entry.main(["eval", "torch.linalg.svdvals(A)", "A=[[1.,2],[2,4],[3,6]]"])
    assert code == 2
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("jac: error (value): svdvals: the derivative of a singular value at zero")
    assert "Traceback" not in err.getvalue()


def test_jac_diff_refuses_the_singular_values():
    with pytest.raises(JacError, match="no SymPy translation"):
        api.diff("torch.linalg.matrix_norm(A, 'nuc')", {"A": ":2x2"}, wrt=["A"])


@pytest.mark.parametrize("expr", ["torch.linalg.svdvals(A).detach() + A.sum()",
                                  "(torch.linalg.svdvals(A) > 1).sum() + A.sum()",
                                  "torch.linalg.svdvals(A.detach()) + A.sum()"])
def test_singular_values_no_derivative_reads_answer_in_both_modes(expr):
    """A forward pass pushed tangents into every node an output needed, through detach and comparisons too:
    the check of svd_zero refused in forward mode where reverse mode, never reaching it, answered. Now it
    computes only the tangents an output reads (autodiff.differentiated), the interpreter and kernels alike."""
    want = np.broadcast_to(np.ones((3, 2)), np.shape(api.evaluate(expr, {"A": TALL})) + (3, 2))
    for mode in ("reverse", "forward"):
        np.testing.assert_array_equal(api.jacobian(expr, {"A": TALL}, mode=mode)["A"], want)
    f = api.compile(expr, {"A": FULL})
    for mode in ("reverse", "forward"):
        for _ in range(3):
            f.jacobian({"A": FULL}, mode=mode)
        np.testing.assert_array_equal(f.jacobian({"A": TALL}, mode=mode)["A"], want)


def test_a_reconstruction_from_the_svd_of_a_singular_matrix_is_refused_too():
    """U diag(S) Vh's derivative is dA whatever the signs, but jac cannot tell it from an expression of S alone:
    refused (documented in docs/vocabulary-shapes-linalg.md); of a full-rank matrix, the identity."""
    expr = "U, S, Vh = np.linalg.svd(A); U @ np.diag(S) @ Vh"
    with pytest.raises(JacValueError, match=MESSAGE):
        api.jacobian(expr, {"A": SQUARE})
    np.testing.assert_allclose(api.jacobian(expr, {"A": FULL[:2]})["A"].reshape(4, 4), np.eye(4), atol=1e-12)
