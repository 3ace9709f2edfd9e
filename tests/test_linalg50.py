"""The singular check everywhere (session 50): ``jac diff --at`` past the budget, det's third derivative from the SVD,
the refusal's message, and why ``api.evaluate`` answers a solve that ``jac eval`` refuses.

- ``jac diff --at`` showed the formula's value unchecked where jac's own derivative did not fit ``--max-memory``:
  -A⁻¹ dA A⁻¹ at a matrix singular in working precision, numbers of size 1e15 made of rounding. The rules' checks
  now run there by one product pass per order (``higher.product_graph``).
- det's third derivative was refused at a singular matrix (jac's formula read A⁻¹) though det is a polynomial:
  the op ``cofactor_dir2`` computes it from the SVD with products of singular values, exact there; the fourth
  (A⁻¹ again) is refused there instead. The reference is the Leibniz sum differentiated by torch.func:
  ``torch.linalg.det``'s own jacfwd(jacfwd(jacrev)) is off by 5 at a random 4 × 4 matrix (PyTorch 2.13).
"""

import contextlib
import io
import itertools

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.ir.ops import OPS, SINGULAR_WHY
from jacobi_cli.tools import api

rng = np.random.default_rng(50)
N = 4
_U, _, _VT = np.linalg.svd(rng.standard_normal((N, N)))
_B = rng.standard_normal((N, N - 1))
RANDOM = rng.standard_normal((N, N))
NEAR = _U @ np.diag([3.0, 2.0, 1.0, 1e-17]) @ _VT  # singular in float64, not exactly
PSD = _B @ _B.T
RANK2 = _U @ np.diag([3.0, 2.0, 0.0, 0.0]) @ _VT
MATRICES = {"random": RANDOM, "near": NEAR, "psd": PSD, "rank2": RANK2, "zero": np.zeros((N, N)), "eye": np.eye(N)}


def _cli(args):
    from jacobi_cli.cli import entry

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = entry.main(args)
    return code, out.getvalue(), err.getvalue()


def _leibniz(order, a):
    """det's ``order``-th derivative by torch.func of the Leibniz sum: a polynomial, no LAPACK."""
    torch = pytest.importorskip("torch")
    func = torch.func

    def det(x):
        total = torch.zeros((), dtype=x.dtype)
        for p in itertools.permutations(range(N)):
            sign = np.linalg.det(np.eye(N)[list(p)])
            term = torch.ones((), dtype=x.dtype)
            for i in range(N):
                term = term * x[i, p[i]]
            total = total + sign * term
        return total

    f = func.jacrev(det)
    for _ in range(order - 1):
        f = func.jacfwd(f)
    return f(torch.tensor(a)).numpy()


# --- jac diff --at where jac's own derivative does not fit the budget --------------------------------------------

def test_diff_at_past_the_budget_refuses_a_singular_matrix_as_jac_eval_does(tmp_path):
    rng30 = np.random.default_rng(1)
    b = rng30.standard_normal((30, 29))
    bad, good = tmp_path / "bad.npy", tmp_path / "good.npy"
    np.save(bad, b @ b.T)
    np.save(good, b @ b.T + 30 * np.eye(30))
    code, out, err = _cli(["diff", "torch.linalg.inv(A)", "A:nxn", f"--at=A=@{bad}", "--max-memory", "1M"])
    assert code == 2, (out[-400:], err)
    assert err.startswith("jac: error (value): inv: the matrix is singular in float64"), err
    assert "Traceback" not in err
    # a regular matrix at the same budget: the formula's value, unchecked, says so
    code, out, err = _cli(["diff", "torch.linalg.inv(A)", "A:nxn", f"--at=A=@{good}", "--max-memory", "1M"])
    assert code == 0, err
    assert "not checked against automatic differentiation" in out


def test_the_product_passes_hold_the_same_checks_as_the_derivative():
    from jacobi_cli.engine import autodiff, higher

    problem = api.prepare("torch.logdet(A)", {"A": PSD})
    for order in (1, 2, 3):  # order 3 meets the check of a solve inside logdet's rules first (its who: solve)
        passes = higher.product_graph(problem.graph, "A", order)
        assert any(node.op == "singular_check" for node in passes.nodes)
        who = "slogdet / logdet" if order < 3 else "(slogdet / logdet|solve)"
        with pytest.raises(JacValueError, match=f"^{who}: the matrix is singular in float64"):
            autodiff.evaluate(passes, {"A": PSD})
    well = PSD + np.eye(N)
    passes = higher.product_graph(problem.graph, "A", 2)
    got = autodiff.evaluate(passes, {"A": well})[passes.output]
    hess = np.asarray(api.hessian("torch.logdet(A)", {"A": well})[("A", "A")])
    np.testing.assert_allclose(got, hess.sum(axis=(0, 1)), rtol=1e-12)  # ones · H · ones, by rows


# --- det's third derivative, exact at a singular matrix ------------------------------------------------------------

@pytest.mark.parametrize("name", list(MATRICES))
def test_det_third_derivative_is_answered_at_singular_matrices_and_right(name):
    a = MATRICES[name]
    got = np.asarray(api.derivative("torch.linalg.det(A)", {"A": a}, order=3))
    np.testing.assert_allclose(got, _leibniz(3, a), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["random", "near", "rank2"])
def test_det_third_derivative_against_central_differences_of_the_hessian(name):
    a = MATRICES[name]
    got = np.asarray(api.derivative("torch.linalg.det(A)", {"A": a}, order=3))
    h = 1e-4
    for k, l in ((0, 0), (1, 3), (3, 2)):
        e = np.zeros((N, N))
        e[k, l] = h
        plus = np.asarray(api.hessian("torch.linalg.det(A)", {"A": a + e})[("A", "A")])
        minus = np.asarray(api.hessian("torch.linalg.det(A)", {"A": a - e})[("A", "A")])
        np.testing.assert_allclose(got[..., k, l], (plus - minus) / (2 * h), atol=1e-8)


def test_det_third_derivative_from_the_command_line_and_the_fourth_refused(tmp_path):
    path = tmp_path / "near.npy"
    np.save(path, NEAR)
    code, out, err = _cli(["derivative", "torch.linalg.det(A)", f"A=@{path}", "--order", "3"])
    assert code == 0, err
    code, out, err = _cli(["derivative", "torch.linalg.det(A)", f"A=@{path}", "--order", "4"])
    assert code == 2 and err.startswith("jac: error (value): det: the matrix is singular in float64"), err
    assert "fourth derivative" in err.splitlines()[0]


def test_det_fourth_derivative_at_a_regular_matrix_is_right():
    got = np.asarray(api.derivative("torch.linalg.det(A)", {"A": RANDOM}, order=4))
    np.testing.assert_allclose(got, _leibniz(4, RANDOM), rtol=0, atol=1e-11)


def test_cofactor_dir2_is_cofactor_dirs_derivative_symmetric_and_batched():
    impl, second = OPS["cofactor_dir2"].impl, OPS["cofactor_dir"].impl
    s, t, g = (rng.standard_normal((N, N)) for _ in range(3))
    for a in (RANDOM, NEAR):
        h = 1e-5
        central = (second(a + h * s, t) - second(a - h * s, t)) / (2 * h)
        np.testing.assert_allclose(impl(a, s, t), central, atol=1e-8)
        forms = [np.sum(impl(a, s, t) * g), np.sum(impl(a, g, t) * s), np.sum(impl(a, s, g) * t)]
        np.testing.assert_allclose(forms, forms[0], rtol=1e-12)
        batch = np.stack([s, g])
        np.testing.assert_array_equal(impl(a, batch, t)[1], impl(a, g, t))
    assert np.isnan(impl(np.full((N, N), np.nan), s, t)).all()
    assert impl(np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 0))).shape == (0, 0)


def test_float32_third_derivative_of_det():
    got = np.asarray(api.derivative("torch.linalg.det(A)", {"A": NEAR}, order=3, dtype="float32"))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _leibniz(3, NEAR.astype(np.float32).astype(np.float64)), atol=1e-5)


# --- the message -------------------------------------------------------------------------------------------------

CASES = [("torch.logdet(A)", PSD, "slogdet / logdet", "log|det A| has no derivative"),
         ("torch.linalg.inv(A).sum()", NEAR, "inv", "its inverse has no derivative"),
         ("torch.linalg.solve(A, torch.ones(4)).sum()", NEAR, "solve", "X = A⁻¹B has no derivative"),
         ("torch.linalg.lu(A).U.sum()", NEAR, "lu", "LU's second derivative is not computed")]


@pytest.mark.parametrize("text, a, who, why", CASES, ids=[c[2] for c in CASES])
def test_the_message_is_one_short_line_with_the_numbers_and_what_to_do(text, a, who, why):
    with pytest.raises(JacValueError) as e:
        api.hessian(text, {"A": a})
    message = e.value.message
    assert "\n" not in message and len(message) <= 320, (len(message), message)
    assert message.startswith(f"{who}: the matrix is singular in float64 (σmin/σmax = ")
    assert "at or below n·eps = 8.88e-16" in message and why in message
    assert "The value is computed; to differentiate, regularize the matrix" in message


def test_every_reason_fits_the_line():
    for who, why in SINGULAR_WHY.items():
        assert len(why) <= 140, who


# --- api.evaluate answers the value; jac eval refuses the derivative -----------------------------------------------

A_SUB = np.array([[1e-308, 0.5], [1e-308, -1.0]])  # subnormal first column: cond 8e307


def test_the_value_at_a_matrix_singular_in_working_precision_is_lapacks_backward_stable_answer():
    """The paths differ by what they compute: jac eval differentiates (refused), api.evaluate does not. The value is
    NumPy's, bit for bit, and the exact solution of a matrix within 1e-308 of A (backward error far below eps);
    PyTorch's [1e308, -0] is the exact one. At cond 8e307 no digit of either is promised (the CLI warns)."""
    b = np.ones(2)
    got = np.asarray(api.evaluate("torch.linalg.solve(A, b)", {"A": A_SUB, "b": b}))
    np.testing.assert_array_equal(got, np.linalg.solve(A_SUB, b))
    residual = np.abs(A_SUB @ got - b).max() / (np.abs(A_SUB).sum(axis=1).max() * np.abs(got).max())
    assert residual < np.finfo(float).eps
    with pytest.raises(JacValueError, match="^solve: the matrix is singular in float64"):
        api.jacobian("torch.linalg.solve(A, b)", {"A": A_SUB, "b": b})
    code, out, err = _cli(["eval", "torch.linalg.solve(A, b) * c", "A=[[1e-308, 0.5], [1e-308, -1]]", "b=[1, 1]",
                           "c=[1, 1]", "--wrt", "c"])
    assert code == 0 and "warning (conditioning): value: the matrix of solve is ill-conditioned" in err, err
