"""Linear algebra at degenerate inputs (session 40, benchmarks/linalg40_fuzz.py).

- det's second derivative is a polynomial in A, defined at every matrix: it is now computed from the SVD (the op
  ``cofactor_dir``), exact at singular matrices, where det(A)·A⁻ᵀ's derivative read A⁻¹ of a matrix singular to
  working precision (jac gave 4 where the Hessian is 1.31), or was refused at an exactly singular one.
- cond reads the first and last singular values, as NumPy, PyTorch and JAX do: at a repeated σ_max or σ_min their
  derivatives take LAPACK's basis, and jac refuses (where it split the cotangent as ``max`` does: 0 at eye(3),
  where PyTorch and JAX give 1).
- ``jac check`` at an ill-conditioned point allows 16 · cond² · eps of the largest entry (at most a tenth of it),
  says so, and still fails a wrong rule where the point lets it tell, and a wrong sign at any point.
"""

import itertools

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError, JacShapeError
from jacobi_cli.ir.ops import OPS, P
from jacobi_cli.tools import api, report

rng = np.random.default_rng(40)


def _orth(n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def _sym(w):
    q = _orth(len(w))
    return (q * np.asarray(w, dtype=float)) @ q.T


def det_hessian(a):
    """d² det / dA_ij dA_kl: ± the minor without rows i, k and columns j, l (0 where i = k or j = l)."""
    n = a.shape[0]
    h = np.zeros((n,) * 4)
    for i, j, k, l in np.ndindex(n, n, n, n):
        if i != k and j != l:
            rows = [r for r in range(n) if r not in (i, k)]
            cols = [c for c in range(n) if c not in (j, l)]
            minor = np.linalg.det(a[np.ix_(rows, cols)]) if rows else 1.0
            h[i, j, k, l] = (-1) ** (i + j + k + l) * (1 if (i < k) == (j < l) else -1) * minor
    return h


MATRICES = {
    "psd singular (to working precision)": _sym([2.0, 1.0, 0.0]),
    "rank 1": _sym([2.0, 0.0, 0.0]),
    "zero": np.zeros((3, 3)),
    "identity": np.eye(3),
    "repeated": _sym([2.0, 2.0, 1.0]),
    "random": rng.standard_normal((3, 3)),
    "4x4 singular": _sym([3.0, 2.0, 1.0, 0.0]),
    "exactly singular": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [7.0, 8.0, 10.0]]),
}


@pytest.mark.parametrize("name", list(MATRICES))
@pytest.mark.parametrize("spelling", ["torch.linalg.det(A)", "np.linalg.det(A)", "A.det()"])
def test_det_s_hessian_is_the_minors_at_every_matrix(name, spelling):
    a = MATRICES[name]
    found = api.hessian(spelling, {"A": a})[("A", "A")]
    np.testing.assert_allclose(found, det_hessian(a), atol=1e-13)


def test_det_s_hessian_at_a_nearly_singular_matrix_was_noise_and_is_not():
    # the case the fuzz found: jac's entry (1, 1, 2, 2) was 4, the Hessian's 1.31 (PyTorch's too)
    a = MATRICES["psd singular (to working precision)"]
    assert abs(np.linalg.det(a)) < 1e-15 and np.linalg.cond(a) > 1e15
    found = api.hessian("torch.linalg.det(A)", {"A": a})[("A", "A")]
    assert abs(found[1, 1, 2, 2] - det_hessian(a)[1, 1, 2, 2]) < 1e-13


def test_det_s_hessian_against_pytorch_batched_and_in_forward_mode():
    torch = pytest.importorskip("torch")
    b = np.stack([MATRICES["random"], MATRICES["rank 1"]])
    want = torch.func.hessian(lambda t: torch.linalg.det(t).sum())(torch.tensor(b)).numpy()
    np.testing.assert_allclose(api.hessian("torch.linalg.det(A).sum()", {"A": b})[("A", "A")], want, atol=1e-13)
    # the Jacobian of the gradient, by forward mode over the traced reverse pass
    grad = "torch.autograd.grad(torch.linalg.det(A), A, create_graph=True)[0]"
    for mode in ("forward", "reverse"):
        found = api.jacobian(grad, {"A": MATRICES["rank 1"]}, mode=mode)["A"]
        np.testing.assert_allclose(found, det_hessian(MATRICES["rank 1"]), atol=1e-13)


def test_det_s_hessian_in_float32_and_of_non_finite_matrices():
    a = MATRICES["rank 1"].astype(np.float32)
    found = api.hessian("det(A)", {"A": a}, dtype="float32")[("A", "A")]
    assert found.dtype == np.float32
    np.testing.assert_allclose(found, det_hessian(a.astype(float)), atol=1e-5)
    assert np.isnan(api.hessian("det(A)", {"A": np.array([[np.nan, 1.0], [2.0, 3.0]])})[("A", "A")]).all()


def _permutation_tensor(n):
    e = np.zeros((n, n) * 3)
    for rows in itertools.permutations(range(n), 3):
        for cols in itertools.permutations(range(n), 3):
            rest_r = [r for r in range(n) if r not in rows]
            rest_c = [c for c in range(n) if c not in cols]
            perm = [None] * n
            for r, c in zip(rows + tuple(rest_r), cols + tuple(rest_c)):
                perm[r] = c
            sign = (-1) ** sum(perm[i] > perm[j] for i in range(n) for j in range(i + 1, n))
            minor = 1.0  # n = 3: nothing is left
            e[rows[0], cols[0], rows[1], cols[1], rows[2], cols[2]] = sign * minor
    return e


def test_det_s_third_derivative_is_the_permutation_tensor_at_a_singular_matrix_too():
    # PyTorch's jacfwd(hessian(det)) is off by 4.2 here; jac's is exact (det of a 3 × 3 is trilinear in its rows).
    # Session 50: from the SVD (cofactor_dir2) at a singular matrix too, where it was refused; the fourth reads A⁻¹
    for name in ("random", "exactly singular"):
        found = api.derivative("det(A)", {"A": MATRICES[name]}, order=3)
        np.testing.assert_allclose(found, _permutation_tensor(3), atol=1e-12)
    with pytest.raises(JacValueError, match="fourth derivative of det .*singular"):
        api.derivative("det(A)", {"A": MATRICES["exactly singular"]}, order=4)


@pytest.mark.parametrize("name", ["random", "rank 1", "zero", "4x4 singular"])
def test_cofactor_dir_is_the_derivative_of_cofactor_and_its_own_adjoint(name):
    a = MATRICES[name]
    n = a.shape[0]
    t, g = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    h = 1e-4  # cofactor is a polynomial of degree n - 1: central differences are exact to h² times its third
    numeric = (P.cofactor(a + h * t) - P.cofactor(a - h * t)) / (2 * h)
    np.testing.assert_allclose(OPS["cofactor_dir"].impl(a, t), numeric, atol=1e-7)
    assert np.isclose(np.sum(g * OPS["cofactor_dir"].impl(a, t)), np.sum(t * OPS["cofactor_dir"].impl(a, g)))
    batch = np.stack([t, g])  # a leading batch of tangents
    np.testing.assert_allclose(OPS["cofactor_dir"].impl(a, batch)[1], OPS["cofactor_dir"].impl(a, g), atol=1e-14)


# --- cond at repeated singular values ----------------------------------------------------------------------

TIES = {"identity": np.eye(3), "sigma max repeated": np.diag([2.0, 2.0, 1.0]),
        "sigma min repeated": np.diag([2.0, 1.0, 1.0]), "rotated": MATRICES["repeated"]}


@pytest.mark.parametrize("name", list(TIES))
@pytest.mark.parametrize("text", ["torch.linalg.cond(A)", "np.linalg.cond(A)", "jnp.linalg.cond(A)",
                                  "torch.linalg.cond(A, -2)", "np.linalg.cond(A, 2)"])
def test_cond_at_a_repeated_extreme_singular_value_is_refused_not_split(name, text):
    # PyTorch's and JAX's derivative there is LAPACK's basis's (1 at (0, 0) of eye(3)); jac's was 0 (max's split)
    a = TIES[name]
    assert np.isfinite(api.evaluate(text, {"A": a}))
    for mode in ("reverse", "forward"):
        with pytest.raises(JacValueError, match="singular values .* equal"):
            api.jacobian(text, {"A": a}, mode=mode)


def test_cond_keeps_pytorch_s_and_jax_s_derivative_where_the_values_are_apart():
    torch = pytest.importorskip("torch")
    for a in (MATRICES["random"], rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 2))):
        for p in (None, -2):
            text = "torch.linalg.cond(A)" if p is None else "torch.linalg.cond(A, -2)"
            want = torch.func.jacrev(lambda t: torch.linalg.cond(t, p))(torch.tensor(a)).numpy()
            np.testing.assert_allclose(api.jacobian(text, {"A": a})["A"], want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("p", ["", ", 'fro'", ", 1", ", -2", ", np.inf"])
def test_cond_of_an_empty_matrix_is_refused_as_numpy_does(p):
    with pytest.raises(JacShapeError, match="cond of an empty matrix"):
        api.evaluate(f"np.linalg.cond(A{p})", {"A": np.zeros((0, 0))})


# --- jac check at ill-conditioned points ----------------------------------------------------------------

def near_singular(n, smallest, seed=0):
    r = np.random.default_rng(seed)
    q, _ = np.linalg.qr(r.standard_normal((n, n)))
    w, _ = np.linalg.qr(r.standard_normal((n, n)))
    return (q * np.geomspace(1.0, smallest, n)) @ w.T


CHECKTRUST_FAILS = [  # session 39's false FAILs (benchmarks/checktrust39_probe.py)
    ("inv(A)", 1e-7), ("torch.linalg.slogdet(A).logabsdet", 1e-7), ("A @ inv(A + A.T @ A)", 1e-5),
    ("A @ inv(A + A.T @ A)", 1e-7), ("torch.linalg.solve(A, b)", 1e-7),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("expr, smallest", CHECKTRUST_FAILS)
def test_a_right_derivative_at_a_nearly_singular_matrix_passes_and_says_why(expr, smallest, seed):
    values = {"A": near_singular(3, smallest, seed)}
    if "b" in expr:
        values["b"] = np.random.default_rng(seed).standard_normal(3)
    r = report.check_report(expr, values)
    assert r.data["passed"]
    c = r.data["inputs"]["A"]["conditioning"]
    assert c["condition_number"] > 1e4 and 0 < c["allowance"] <= 0.1


def _inv_rules_times(factor):
    """inv's VJP and JVP rules × ``factor`` (a wrong derivative), put back after."""
    op = OPS["inv"]
    original = (op.vjp, op.jvp)

    def scaled(rule):
        return lambda *args, **params: P.mul(rule(*args, **params), factor)
    object.__setattr__(op, "vjp", tuple(scaled(r) for r in op.vjp))
    object.__setattr__(op, "jvp", tuple(scaled(r) for r in op.jvp))
    api.clear_cache()
    yield
    object.__setattr__(op, "vjp", original[0])
    object.__setattr__(op, "jvp", original[1])
    api.clear_cache()


@pytest.fixture
def inv_rule_scaled():
    yield from _inv_rules_times(1.01)


@pytest.fixture
def inv_rule_negated():
    yield from _inv_rules_times(-1.0)


@pytest.mark.parametrize("smallest", [1e-5, 1e-7, 1e-9])
def test_a_wrong_sign_fails_however_ill_conditioned_the_point(inv_rule_negated, smallest):
    # the allowance is capped at a tenth of the largest entry: a PASS there must still mean something
    r = report.check_report("A @ inv(A + A.T @ A)", {"A": near_singular(3, smallest, 1)})
    assert not r.data["passed"]
    assert r.data["inputs"]["A"]["conditioning"]["allowance"] <= 0.1


@pytest.mark.parametrize("smallest", [1.0, 0.3, 1e-2, 1e-3])
def test_a_wrong_rule_still_fails_where_the_point_can_tell(inv_rule_scaled, smallest):
    # cond up to 1e3: the allowance is 16 · 1e6 · eps = 3.6e-9 of the largest entry, far below a 1 % error
    r = report.check_report("inv(A)", {"A": near_singular(3, smallest, 1)})
    assert not r.data["passed"]


def test_a_well_conditioned_point_gets_no_allowance_and_no_key():
    r = report.check_report("inv(A) @ b", {"A": np.eye(3) + 0.1 * MATRICES["random"], "b": np.ones(3)})
    assert r.data["passed"] and "conditioning" not in r.data["inputs"]["A"]
    r = report.check_report("sin(x)", {"x": [1.0, 2.0]})
    assert "conditioning" not in r.data["inputs"]["x"]


def test_the_command_line_says_the_check_passed_only_within_the_allowance():
    import json

    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    args = ["check", "A @ inv(A + A.T @ A)", "A=[[1,1],[1,1.0000001]]"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "reaches inv (column 4), whose condition number here is 1.20e+08" in text
    assert "PASS, within the conditioning allowance of A" in text
    result = CliRunner().invoke(app, args + ["--json"])
    c = json.loads(result.stdout)["inputs"]["A"]["conditioning"]
    assert c["op"] == "inv" and c["needed"] is True and c["allowance"] == 0.1 and c["capped"] is True


def test_a_failure_past_the_capped_allowance_says_it_may_be_rounding():
    import json

    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    args = ["check", "A @ inv(A + A.T @ A)", "A=[[1,1],[1,1.0000000001]]"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    assert "this failure may be rounding alone" in text
    assert "JVP and VJP rules differ" not in text  # not at a point where rounding alone may be that large
    assert text.index("whose condition number here") < text.index("a kink lies")  # the reason first
    c = json.loads(CliRunner().invoke(app, args + ["--json"]).stdout)["inputs"]["A"]["conditioning"]
    assert c["capped"] is True and c["needed"] is False and c["allowance"] == 0.1
