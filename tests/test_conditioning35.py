"""The ``conditioning`` warning everywhere digits are lost (session 35): cholesky, qr, expm, a small singular value
or eigenvalue read relative to itself (cond, norm(A, -2), log of eigenvalues), scipy's cho_solve (two solves with
one Cholesky factor), and the examples of a ``--batch``, each weighed on its own. Estimates checked against mpmath
at 40 digits; well-conditioned inputs stay silent; the repeated-values cutoff is one definition."""

import json

import jsonschema
import mpmath
import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli import schema
from jacobi_cli.cli.app import app
from jacobi_cli.engine import conditioning
from jacobi_cli.ir import ops
from jacobi_cli.tools import api, report

runner = CliRunner()
EPS = np.finfo(np.float64).eps
CUT = conditioning.threshold(np.float64)


def rotation(n: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q


def graded(m: int, n: int, k: int, seed: int = 1) -> np.ndarray:
    """Condition number 10^k, singular values evenly spread in the exponent."""
    return rotation(m, seed)[:, :n] @ np.diag(np.logspace(0, -k, n)) @ rotation(n, seed + 100).T


def spd(n: int, k: int, seed: int = 1) -> np.ndarray:
    a = rotation(n, seed) @ np.diag(np.logspace(0, -k, n)) @ rotation(n, seed).T
    return (a + a.T) / 2


def parallel(m: int, n: int, delta: float, seed: int = 1) -> np.ndarray:
    b = np.random.default_rng(seed).standard_normal((m, n))
    b[:, 1] = b[:, 0] + delta * b[:, 1]
    return b


def found(expr: str, env: dict) -> dict:
    """{result: estimate} of the conditioning warnings for the value and ∂y/∂A."""
    problem = api.prepare(expr, env)
    out = {}
    for w in conditioning.estimates(problem, [("value", None), ("∂y/∂A", "A")]):
        for where in w.results:
            out[where] = max(out.get(where, 0.0), w.relative_error)
    return out


def ops_of(expr: str, env: dict) -> list:
    problem = api.prepare(expr, env)
    return [w.op for w in conditioning.estimates(problem, [("value", None), ("∂y/∂A", "A")])]


def mp_jvp(f, a, d):
    """d f(A)[D] by central differences at 40 digits."""
    mpmath.mp.dps = 40
    h = mpmath.mpf("1e-18")
    A, D = mpmath.matrix(a.tolist()), mpmath.matrix(d.tolist())
    diff = (f(A + h * D) - f(A - h * D)) / (2 * h)
    return np.array(diff.tolist(), dtype=float) if isinstance(diff, mpmath.matrix) else np.array(float(diff))


def jac_jvp(expr, a, d):
    return np.tensordot(np.asarray(api.jacobian(expr, {"A": a})["A"]), d, axes=d.ndim)


def relative(got, exact) -> float:
    return float(np.max(np.abs(got - exact.reshape(np.shape(got)))) / np.max(np.abs(exact)))


# --- one cutoff -----------------------------------------------------------------------------------------------

def test_the_repeated_values_cutoff_is_one_definition_and_the_same_number():
    w = np.array([[1.0, 1.0 + 1e-14, 2.0], [0.0, 3.0, 3.0 + 3e-15]])
    eps = np.finfo(np.float64).eps
    scale = np.max(np.abs(w), axis=-1, keepdims=True)
    assert np.array_equal(ops.repeated_floor(3, eps, scale), ops.REPEATED * 3 * eps * scale)
    assert ops._tied(w, 3).tolist() == [[True, False], [False, True]]
    assert ops._tied(w, 3).tolist() == (np.abs(np.diff(w, axis=-1)) <= ops.REPEATED * 3 * eps * scale).tolist()


# --- cholesky, qr, expm -----------------------------------------------------------------------------------------

def test_cholesky_warns_its_derivative_with_the_right_order_not_its_value():
    a = spd(5, 12)
    d = np.random.default_rng(0).standard_normal((5, 5))
    d = d + d.T
    error = relative(jac_jvp("np.linalg.cholesky(A)", a, d), mp_jvp(mpmath.cholesky, a, d))
    est = found("np.linalg.cholesky(A)", {"A": a})
    assert "value" not in est  # the factor holds about √cond·eps: 2e-10 here
    assert CUT < error <= 2 * est["∂y/∂A"] <= 2000 * error


def test_cholesky_of_a_well_conditioned_matrix_is_silent():
    assert found("np.linalg.cholesky(A)", {"A": spd(5, 6)}) == {}


@pytest.mark.parametrize("part", [0, 1])
def test_qr_of_nearly_dependent_columns_warns_value_and_derivative(part):
    a = parallel(5, 4, 1e-11)
    est = found(f"np.linalg.qr(A)[{part}]", {"A": a})
    assert set(est) == {"value", "∂y/∂A"}
    mpmath.mp.dps = 40
    q, r = mpmath.qr(mpmath.matrix(a.tolist()))
    signs = np.sign(np.diag(np.linalg.qr(a)[1])) * np.sign([float(r[i, i]) for i in range(4)])
    exact = np.array((q[:, :4] if part == 0 else r[:4, :]).tolist(), dtype=float)
    exact = exact * signs if part == 0 else signs[:, None] * exact
    error = relative(np.asarray(api.evaluate(f"np.linalg.qr(A)[{part}]", {"A": a})), exact)
    assert CUT < error <= 2 * est["value"] <= 2000 * error


def test_qr_of_a_square_matrix_singular_only_in_its_last_column_keeps_r_and_is_silent_where_q_is_set():
    a = graded(5, 5, 10)  # cond 1e10, but the first four columns set Q to about 3e7
    assert found("np.linalg.qr(A)[1]", {"A": a}) == {}
    assert found("np.linalg.qr(A)[0]", {"A": graded(5, 5, 6)}) == {}


def test_lstsq_is_warned_once_by_its_solve_not_again_by_its_qr():
    assert ops_of("np.linalg.lstsq(A, np.ones(6))[0]", {"A": graded(6, 4, 12)}) == ["solve"]


def test_expm_of_a_large_norm_warns_and_of_a_modest_one_is_silent():
    a = np.array([[0.0, 3e8], [-3e8, 0.0]]) + 0.1 * np.random.default_rng(1).standard_normal((2, 2))
    mpmath.mp.dps = 40
    exact = np.array(mpmath.expm(mpmath.matrix(a.tolist())).tolist(), dtype=float)
    error = relative(np.asarray(api.evaluate("scipy.linalg.expm(A)", {"A": a})), exact)
    est = found("scipy.linalg.expm(A)", {"A": a})
    assert CUT < error and est["value"] <= 10 * error <= 100 * est["value"]
    assert found("scipy.linalg.expm(A)", {"A": 30 * np.random.default_rng(2).standard_normal((4, 4))}) == {}


# --- a small value read relative to itself --------------------------------------------------------------------

def test_cond_warns_value_and_derivative_with_the_right_order():
    a = graded(5, 5, 12, 3)

    def mp_cond(A):
        s = mpmath.svd_r(A, compute_uv=False)
        return max(s) / min(s)

    mpmath.mp.dps = 40
    exact = float(mp_cond(mpmath.matrix(a.tolist())))
    error = abs(float(api.evaluate("np.linalg.cond(A)", {"A": a})) - exact) / exact
    d = np.random.default_rng(4).standard_normal((5, 5))
    derror = relative(jac_jvp("np.linalg.cond(A)", a, d), mp_jvp(mp_cond, a, d))
    est = found("np.linalg.cond(A)", {"A": a})
    assert CUT < error <= 2 * est["value"] <= 2000 * error
    assert CUT < derror <= 2 * est["∂y/∂A"] <= 2000 * derror
    problem = api.prepare("np.linalg.cond(A)", {"A": a})
    (w,) = conditioning.estimates(problem, [("value", None), ("∂y/∂A", "A")])
    assert "singular value 4 of svd / svdvals is 1e-12" in w.message and "eps·max|σ|/|σᵢ|" in w.message


@pytest.mark.parametrize("expr", ["np.linalg.norm(A, 2)", "np.linalg.svd(A, compute_uv=False)[0]"])
def test_what_does_not_read_the_small_singular_value_relatively_stays_silent(expr):
    assert found(expr, {"A": graded(5, 5, 14, 3)}) == {}


def test_log_of_small_eigenvalues_warns_and_their_sum_does_not():
    a = spd(5, 12)
    assert set(found("np.log(np.linalg.eigvalsh(A)).sum()", {"A": a})) == {"value", "∂y/∂A"}
    assert found("np.linalg.eigvalsh(A).sum()", {"A": a}) == {}
    assert found("(np.linalg.eigvalsh(A) ** 2).sum()", {"A": a}) == {}


# --- cho_solve: two solves with one factor ---------------------------------------------------------------------

def test_cho_solve_multiplies_its_two_triangular_condition_numbers():
    a, b = spd(5, 12), np.ones(5)
    mpmath.mp.dps = 40
    exact = np.array(mpmath.lu_solve(mpmath.matrix(a.tolist()), mpmath.matrix(b.tolist())).tolist(), dtype=float)
    expr = "scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), b)"
    error = relative(np.asarray(api.evaluate(expr, {"A": a, "b": b})), exact)
    problem = api.prepare(expr, {"A": a, "b": b})
    ws = [w for w in conditioning.estimates(problem, [("value", None)]) if w.op == "solve"]
    assert len(ws) == 1 and CUT < error <= 2 * ws[0].relative_error <= 2000 * error
    assert "multiplied" in ws[0].message
    # one triangular solve with the factor alone loses cond(L)·eps = √cond(A)·eps only: silent here
    one = api.prepare("torch.linalg.solve_triangular(torch.linalg.cholesky(A), b[:, None], upper=False)",
                      {"A": a, "b": b})
    assert [w.op for w in conditioning.estimates(one, [("value", None)])] == []


# --- well-conditioned draws -------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr", ["np.linalg.cholesky(A)", "np.linalg.qr(A)[0]", "np.linalg.qr(A)[1]",
                                  "np.linalg.cond(A)", "np.linalg.norm(A, -2)", "torch.logdet(A)",
                                  "np.log(np.linalg.eigvalsh(A)).sum()", "scipy.linalg.expm(A)",
                                  "scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), np.ones(4))"])
def test_well_conditioned_draws_are_silent(expr):
    for s in range(10):
        a = np.random.default_rng(50 + s).standard_normal((4, 4))
        m = a @ a.T + 4 * np.eye(4)
        assert found(expr, {"A": m}) == {}, (expr, s)


# --- --batch -----------------------------------------------------------------------------------------------------

def stack16(bad=(3, 11)):
    rng = np.random.default_rng(5)
    a = np.stack([rng.standard_normal((5, 5)) + 5 * np.eye(5) for _ in range(16)])
    for i, b in enumerate(bad):
        a[b] = graded(5, 5, 12 - 2 * i, 3 + i)
    return a


def batch_json(tmp_path, command, expr, arrays, *extra):
    bindings = []
    for name, value in arrays.items():
        np.save(tmp_path / f"{name}.npy", value)
        bindings.append(f"{name}=@{tmp_path / f'{name}.npy'}")
    result = runner.invoke(app, [command, expr, *bindings, *extra, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(schema.load(command)).validate(data)
    return [w for w in data.get("warnings", []) if w["kind"] == "conditioning"], result.stderr


@pytest.mark.parametrize("command,extra", [("eval", ()), ("vjp", ("--v", "ones")), ("hessian", ())])
def test_a_batch_names_the_examples_that_lose_digits(tmp_path, command, extra):
    a, b = stack16(), np.ones((16, 5))
    ws, err = batch_json(tmp_path, command, "np.linalg.solve(A, b).sum()", {"A": a, "b": b}, "--batch", "A",
                         "--batch", "b", *extra)
    (w,) = ws
    assert w["examples"] == [3, 11] and w["op"] == "solve"
    assert w["message"].startswith("examples 3, 11 (of 16); the worst, example 3: value")
    assert w["relative_error"] == pytest.approx(float(f"{np.linalg.cond(a[3]) * EPS:.3g}"), rel=1e-2)
    assert err.count("warning (conditioning)") == 1 and "examples 3, 11 (of 16)" in err


def test_a_well_conditioned_batch_is_silent(tmp_path):
    ws, err = batch_json(tmp_path, "eval", "np.linalg.solve(A, b).sum()",
                         {"A": stack16(bad=()), "b": np.ones((16, 5))}, "--batch", "A", "--batch", "b")
    assert ws == [] and "conditioning" not in err


def test_a_batch_weighs_each_example_by_what_the_output_reads(tmp_path):
    q = rotation(4, 0)
    a = np.stack([q @ np.diag([1.0, 2.0, 3.0, 4.0]) @ q.T for _ in range(6)])
    near = q @ np.diag([1.0, 1.0 + 1e-12, 2.0, 3.0]) @ q.T
    a[4] = (near + near.T) / 2
    ws, _ = batch_json(tmp_path, "eval", "np.linalg.eigvalsh(A)", {"A": a}, "--batch", "A")
    assert [w["examples"] for w in ws] == [[4]] and ws[0]["message"].startswith("example 4 (of 6): ∂y/∂A")
    ws, _ = batch_json(tmp_path, "eval", "np.linalg.eigvalsh(A).sum()", {"A": a}, "--batch", "A")
    assert ws == []  # the trace reads the pair alike: exact however near


def test_a_batch_through_the_report_functions_names_the_examples():
    a = np.stack([x @ x.T + np.eye(5) for x in stack16(bad=())])
    a[7] = spd(5, 12)
    r = report.derivative_report("np.linalg.cholesky(A)", {"A": a}, order=1, batch=["A"])
    (w,) = [w for w in r.get("warnings", []) if w["kind"] == "conditioning"]
    assert w["op"] == "cholesky" and w["examples"] == [7]
