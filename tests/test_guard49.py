"""Derivatives through a matrix singular in working precision (session 49, ``ops.near_singular``).

At a matrix whose smallest singular value is at or below n·eps·σmax (matrix_rank's cutoff), LAPACK's A⁻¹ is
numbers of size 1/eps made of rounding, and the rules that divide by A answered numbers of size 1/eps or 1/eps²
(the Hessian of ``torch.logdet(A)`` at ``B @ B.T``: -5.1e33, PyTorch's 0; linalg40_fuzz seed 4835). solve's,
inv's, slogdet's / logdet's and cholesky's derivatives, det's third derivative and LU's second are now refused
there in every mode and path (``singular_check``); the values are answered as before; det's first and second
derivatives, which exist there, are answered and right; a well-conditioned matrix nearby answers as PyTorch.
"""

import contextlib
import io

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.ir.ops import OPS, near_singular
from jacobi_cli.tools import api

rng = np.random.default_rng(49)
_B = rng.standard_normal((4, 3))
PSD = _B @ _B.T  # singular positive semidefinite, σmin ≈ 1e-16 (not an exact zero)
_U, _, _VT = np.linalg.svd(rng.standard_normal((4, 4)))
NEAR = _U @ np.diag([3.0, 2.0, 1.0, 1e-17]) @ _VT  # general, singular in float64
WELL = _U @ np.diag([3.0, 2.0, 1.0, 0.1]) @ _VT  # the same directions, cond 30
_Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
PD_NEAR = _Q @ np.diag([3.0, 2.0, 1.0, 3e-16]) @ _Q.T  # Cholesky succeeds, singular in float64
PD_NEAR = (PD_NEAR + PD_NEAR.T) / 2
PD_WELL = _Q @ np.diag([3.0, 2.0, 1.0, 0.1]) @ _Q.T
PD_WELL = (PD_WELL + PD_WELL.T) / 2
RHS = rng.standard_normal(4)

# (text, the singular matrix, the well-conditioned one, the refusal's first words, the PyTorch function)
CASES = [
    ("torch.logdet(A)", PSD, PSD + 0.1 * np.eye(4), "slogdet / logdet:", lambda t, A, b: t.logdet(A)),
    ("torch.linalg.slogdet(A).logabsdet", NEAR, WELL, "slogdet / logdet:",
     lambda t, A, b: t.linalg.slogdet(A).logabsdet),
    ("torch.linalg.inv(A)", NEAR, WELL, "inv:", lambda t, A, b: t.linalg.inv(A)),
    ("torch.linalg.matrix_power(A, -2)", NEAR, WELL, "inv:", lambda t, A, b: t.linalg.matrix_power(A, -2)),
    ("torch.linalg.solve(A, b)", NEAR, WELL, "solve:", lambda t, A, b: t.linalg.solve(A, b)),
    ("torch.linalg.cholesky(A)", PD_NEAR, PD_WELL, "cholesky:", lambda t, A, b: t.linalg.cholesky(A)),
    # PyTorch's own cond(A, 1) has no working gradient ("modified by an inplace operation"): its definition
    ("torch.linalg.cond(A, 1)", NEAR, WELL, "inv:",
     lambda t, A, b: t.linalg.matrix_norm(A, 1) * t.linalg.matrix_norm(t.linalg.inv(A), 1)),
]
IDS = [c[0] for c in CASES]


def _one(found):
    return np.asarray(found["A"])


def test_the_matrices_are_singular_in_float64_but_not_exactly():
    for a in (PSD, NEAR, PD_NEAR):
        s = np.linalg.svd(a, compute_uv=False)
        assert 0 < s[-1] <= 4 * np.finfo(float).eps * s[0]
        assert near_singular(a)[0]
    np.linalg.cholesky(PD_NEAR)  # the factor itself exists: only its derivative is refused
    for a in (WELL, PD_WELL, PSD + 0.1 * np.eye(4)):
        assert not near_singular(a)[0]


@pytest.mark.parametrize("text, bad, good, who, torch_f", CASES, ids=IDS)
def test_the_derivative_is_refused_in_every_mode_and_the_value_answered(text, bad, good, who, torch_f):
    env = {"A": bad, "b": RHS}
    value = np.asarray(api.evaluate(text, env))  # the value as before
    assert value.shape is not None
    out_shape = value.shape
    compiled = api.compile(text, {"A": ":4x4", "b": ":4"})
    calls = [lambda: api.jacobian(text, env, wrt=["A"]),
             lambda: api.jacobian(text, env, wrt=["A"], mode="forward"),
             lambda: api.jacobian(text, env, wrt=["A"], mode="reverse"),
             lambda: api.vjp(text, env, v=np.ones(out_shape), wrt=["A"]),
             lambda: api.jvp(text, env, tangents={"A": np.ones((4, 4))}),
             lambda: compiled.jacobian(env, wrt=["A"]),
             lambda: compiled.vjp(env, v=np.ones(out_shape), wrt=["A"]),
             lambda: compiled.jvp(env, {"A": np.ones((4, 4))}),
             lambda: api.jacobian(text, {"A": np.stack([good, bad]), "b": RHS}, wrt=["A"], batch=["A"])]
    if not out_shape:
        calls += [lambda: api.hessian(text, env, wrt=["A"]), lambda: compiled.hessian(env, wrt=["A"])]
    for call in calls:
        with pytest.raises(JacValueError, match="the matrix is singular in float64") as e:
            call()
        assert str(e.value).startswith(who)


@pytest.mark.parametrize("text, bad, good, who, torch_f", CASES, ids=IDS)
def test_a_well_conditioned_matrix_nearby_answers_as_pytorch(text, bad, good, who, torch_f):
    torch = pytest.importorskip("torch")
    A, b = torch.tensor(good, dtype=torch.float64), torch.tensor(RHS, dtype=torch.float64)
    f = lambda X: torch_f(torch, X, b)  # noqa: E731
    J = _one(api.jacobian(text, {"A": good, "b": RHS}, wrt=["A"]))
    ref = torch.func.jacrev(f)(A).numpy()
    np.testing.assert_allclose(J, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())
    if not J.shape[:-2]:
        H = np.asarray(api.hessian(text, {"A": good, "b": RHS}, wrt=["A"])[("A", "A")])
        ref = torch.func.hessian(f)(A).numpy()
        np.testing.assert_allclose(H, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())


def test_the_hessian_of_logdet_at_a_singular_psd_matrix_is_refused_not_5e33():
    """The session-48 leftover: jac answered -5.1e33 (a finite 1/eps² artefact) where PyTorch's is -0."""
    with pytest.raises(JacValueError, match=r"^slogdet / logdet: the matrix is singular in float64 .*log\|det A\|"):
        api.hessian("torch.logdet(A)", {"A": PSD})


def _cli(args):
    from jacobi_cli.cli import entry
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = entry.main(args)
    return code, err.getvalue()


@pytest.mark.parametrize("command", [["eval"], ["vjp", "--v", "ones"], ["jvp", "--tangent", "A=ones(4, 4)"],
                                     ["hessian"], ["derivative", "--order", "3"], ["check"]],
                         ids=lambda c: c[0])
@pytest.mark.parametrize("text, who", [("torch.logdet(A)", "slogdet / logdet"), ("torch.linalg.inv(A).sum()", "inv"),
                                       ("torch.linalg.solve(A, torch.ones(4)).sum()", "solve")])
def test_the_command_line_refuses_with_one_message(tmp_path, command, text, who):
    path = tmp_path / "A.npy"
    np.save(path, PSD)
    code, err = _cli([command[0], text, f"A=@{path}", *command[1:]])
    assert code == 2, err
    assert err.splitlines()[0].startswith(f"jac: error (value): {who}: the matrix is singular in float64")
    assert "Traceback" not in err


def test_cholesky_refused_from_the_command_line_too(tmp_path):
    path = tmp_path / "A.npy"
    np.save(path, PD_NEAR)
    code, err = _cli(["eval", "torch.linalg.cholesky(A)", f"A=@{path}"])
    assert code == 2 and err.startswith("jac: error (value): cholesky: the matrix is singular in float64"), err


def _adjugate_t(a):
    """The cofactor matrix from the 3×3 minors (well-conditioned, so exact to rounding at a singular A)."""
    n = a.shape[0]
    c = np.empty_like(a)
    for i, j in np.ndindex(n, n):
        c[i, j] = (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
    return c


@pytest.mark.parametrize("a", [PSD, NEAR], ids=["psd", "general"])
def test_det_keeps_its_first_and_second_derivatives_at_a_singular_matrix(a):
    J = _one(api.jacobian("torch.linalg.det(A)", {"A": a}))
    np.testing.assert_allclose(J, _adjugate_t(a), rtol=0, atol=1e-12 * np.abs(J).max())
    H = np.asarray(api.hessian("torch.linalg.det(A)", {"A": a})[("A", "A")])
    h = 1e-5
    for i, j in ((0, 0), (1, 2), (3, 1)):
        e = np.zeros((4, 4))
        e[i, j] = h
        central = (_one(api.jacobian("torch.linalg.det(A)", {"A": a + e}))
                   - _one(api.jacobian("torch.linalg.det(A)", {"A": a - e}))) / (2 * h)
        np.testing.assert_allclose(H[:, :, i, j], central, atol=1e-8)


def test_det_fourth_derivative_is_refused_at_a_singular_matrix_and_answered_elsewhere(tmp_path):
    """jac wrote det's third derivative with A⁻¹: at NEAR it answered 3.5e13 where the entries are about 1, then
    refused it (session 49). Session 50 computes the third from the SVD (tests/test_linalg50.py); the fourth reads
    A⁻¹ and is refused there."""
    bad, good = tmp_path / "bad.npy", tmp_path / "good.npy"
    np.save(bad, NEAR)
    np.save(good, WELL)
    code, err = _cli(["derivative", "torch.linalg.det(A)", f"A=@{bad}", "--order", "4"])
    assert code == 2 and err.startswith("jac: error (value): det: the matrix is singular in float64"), err
    assert "fourth derivative" in err
    code, err = _cli(["derivative", "torch.linalg.det(A)", f"A=@{good}", "--order", "4"])
    assert code == 0, err


def test_lu_second_derivative_refused_at_a_singular_matrix_its_first_answered():
    """LU's first derivative exists with a small last pivot (it matches central differences at NEAR); its second,
    through solves with U, answered U's Hessian 3.7 off central differences there: refused."""
    J = _one(api.jacobian("torch.linalg.lu(A).U", {"A": NEAR}))
    h = 1e-6
    e = np.zeros((4, 4))
    e[2, 1] = h
    central = (np.asarray(api.evaluate("torch.linalg.lu(A).U", {"A": NEAR + e}))
               - np.asarray(api.evaluate("torch.linalg.lu(A).U", {"A": NEAR - e}))) / (2 * h)
    np.testing.assert_allclose(J[..., 2, 1], central, atol=1e-8)
    with pytest.raises(JacValueError, match="^lu: the matrix is singular in float64"):
        api.hessian("torch.linalg.lu(A).U.sum()", {"A": NEAR})


def test_float32_reads_float32s_eps():
    """σmin / σmax = 1e-9: well inside float64 (answered), past float32's n·eps = 4.8e-7 (refused)."""
    a = _U @ np.diag([3.0, 2.0, 1.0, 3e-9]) @ _VT
    assert np.isfinite(_one(api.jacobian("torch.linalg.inv(A).sum()", {"A": a}))).all()
    with pytest.raises(JacValueError, match="^inv: the matrix is singular in float32"):
        api.jacobian("torch.linalg.inv(A).sum()", {"A": a}, dtype="float32")
    assert np.isfinite(_one(api.jacobian("torch.linalg.inv(A).sum()", {"A": WELL}, dtype="float32"))).all()


def test_the_check_changes_no_value():
    """Bit for bit where it does not refuse: the cotangent itself comes back."""
    d = rng.standard_normal((2, 4, 4))
    assert OPS["singular_check"].impl(d, WELL, who="inv") is d
    with pytest.raises(JacValueError, match="^inv: "):
        OPS["singular_check"].impl(d, NEAR, who="inv")
    # a NaN or inf matrix, and an empty one, are left to the rules (their derivative is NaN)
    assert OPS["singular_check"].impl(d, np.full((4, 4), np.nan), who="inv") is d
    assert OPS["singular_check"].impl(d, np.zeros((0, 0)), who="inv") is d


def test_a_chunked_jacobian_refuses_as_the_whole_one():
    with pytest.raises(JacValueError, match="^slogdet / logdet: the matrix is singular"):
        api.hessian("torch.logdet(A)", {"A": PSD}, max_memory="8K")
    with pytest.raises(JacValueError, match="^solve: the matrix is singular"):
        api.jacobian("torch.linalg.solve(A, b)", {"A": NEAR, "b": RHS}, max_memory="4K")
