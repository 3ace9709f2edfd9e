"""The ``conditioning`` warning (session 34): past the repeated-values refusal, near-repeated eigenvalues or singular
values and ill-conditioned solves give answers accurate only to about eps·max|λ|/gap or cond·eps; jac says so,
with an estimate of the right order (checked here against mpmath at 60 digits), and says nothing where the input
is well conditioned or where the output reads the near values alike (the trace, Σλ²)."""

import json
import re

import jsonschema
import mpmath
import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli import schema
from jacobi_cli.cli.app import app
from jacobi_cli.engine import conditioning
from jacobi_cli.tools import api, report

runner = CliRunner()
EPS = np.finfo(np.float64).eps


def rotation(n: int, seed: int = 0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q


def near(g: float) -> np.ndarray:
    """Q diag(1, 1 + g, 2, 3) Qᵀ, symmetric to the bit."""
    q = rotation(4)
    a = q @ np.diag([1.0, 1.0 + g, 2.0, 3.0]) @ q.T
    return (a + a.T) / 2


def run(tmp_path, *args, **arrays):
    """``jac ARGS NAME=@file.npy ...``: (exit code, stdout, stderr)."""
    bindings = []
    for name, value in arrays.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, np.asarray(value, dtype=float))
        bindings.append(f"{name}=@{path}")
    result = runner.invoke(app, [args[0], args[1], *bindings, *args[2:]])
    return result.exit_code, result.stdout, result.stderr


def warnings_of(tmp_path, *args, **arrays) -> list:
    code, out, err = run(tmp_path, *args, "--json", **arrays)
    assert code == 0, err
    data = json.loads(out)
    jsonschema.Draft202012Validator(schema.load(args[0])).validate(data)
    return [w for w in data.get("warnings", []) if w["kind"] == "conditioning"]


def mp_eigenvectors(a: np.ndarray) -> np.ndarray:
    mpmath.mp.dps = 60
    e, v = mpmath.eigsy(mpmath.matrix(a.tolist()))
    order = sorted(range(len(a)), key=lambda i: e[i])
    return np.array([[float(v[r, i]) for r in range(len(a))] for i in order])


def mp_singular(a: np.ndarray):
    mpmath.mp.dps = 60
    u, s, v = mpmath.svd_r(mpmath.matrix(a.tolist()))
    k = min(a.shape)
    order = sorted(range(k), key=lambda i: -s[i])
    us = np.array([[float(u[r, i]) for r in range(a.shape[0])] for i in order])
    vs = np.array([[float(v[i, c]) for c in range(a.shape[1])] for i in order])
    return us, vs


@pytest.mark.parametrize("g", [3e-14, 1e-12, 1e-10])
def test_near_repeated_eigenvalues_warn_with_the_right_order(tmp_path, g):
    a = near(g)
    exact = np.stack([np.outer(v, v) for v in mp_eigenvectors(a)])
    got = np.asarray(api.jacobian("np.linalg.eigvalsh(A)", {"A": a})["A"])
    error = np.abs(got - exact).max() / np.abs(exact).max()
    (w,) = warnings_of(tmp_path, "eval", "np.linalg.eigvalsh(A)", A=a)
    assert (w["in"], w["op"], w["position"], w["results"]) == ("∂y/∂A", "eigvalsh", 10, ["∂y/∂A"])
    assert error <= 2 * w["relative_error"] <= 200 * error  # an upper estimate, within two orders of the truth
    assert "eigenvalues 0 and 1" in w["message"] and "eps·max|λ|/gap" in w["message"]


def test_the_message_on_stderr_names_the_gap_and_the_digits(tmp_path):
    code, out, err = run(tmp_path, "eval", "np.linalg.eigvalsh(A)", A=near(3e-14))
    assert code == 0
    # the gap LAPACK computes is 3e-14 to its rounding (2.9e-14 on some machines' LAPACK)
    found = re.search(r"jac: warning \(conditioning\): ∂y/∂A: eigenvalues 0 and 1 of eigvalsh are ([0-9.e-]+) apart", err)
    assert found and abs(float(found[1]) / 3e-14 - 1) < 0.1, err
    assert "may be off by about 9e-3 relative" in err and "(their sum, Σλ²) is accurate" in err


@pytest.mark.parametrize("expr", ["np.linalg.eigvalsh(A).sum()", "(np.linalg.eigvalsh(A) ** 2).sum()",
                                  "np.trace(A)"])
def test_what_reads_the_near_values_alike_is_accurate_and_not_warned(tmp_path, expr):
    a = near(3e-14)
    got = np.asarray(api.jacobian(expr, {"A": a})["A"])
    exact = np.eye(4) if "** 2" not in expr else 2 * a
    assert np.abs(got - exact).max() < 1e-13
    assert warnings_of(tmp_path, "eval", expr, A=a) == []
    assert warnings_of(tmp_path, "vjp", expr, A=a) == []


def test_a_simple_eigenvalue_read_alone_is_warned_by_its_own_gap(tmp_path):
    a = near(1e-12)
    assert warnings_of(tmp_path, "vjp", "np.linalg.eigvalsh(A)[3]", A=a) == []  # λ₃ = 3 is 1 away from λ₂
    (w,) = warnings_of(tmp_path, "vjp", "np.linalg.eigvalsh(A)[0]", A=a)
    assert w["in"] == "A.grad" and 1e-4 < w["relative_error"] < 1e-3


def test_the_given_v_decides_in_vjp(tmp_path):
    a = near(1e-12)
    assert warnings_of(tmp_path, "vjp", "np.linalg.eigvalsh(A)", "--v", "[1, 1, 5, 7]", A=a) == []
    (w,) = warnings_of(tmp_path, "vjp", "np.linalg.eigvalsh(A)", "--v", "[1, 0, 0, 0]", A=a)
    assert w["in"] == "A.grad"


def test_jvp_and_hessian_warn(tmp_path):
    a = near(3e-14)
    (w,) = warnings_of(tmp_path, "jvp", "np.linalg.eigvalsh(A)", "--tangent", "A=ones", A=a)
    assert w["in"] == "jvp"
    # Σλ²'s Hessian (2·sym) is a divided difference (cᵢ − cⱼ)/(λᵢ − λⱼ): it loses the digits even though it
    # treats the values alike
    (w,) = warnings_of(tmp_path, "hessian", "(np.linalg.eigvalsh(A) ** 2).sum()", A=a)
    h = np.asarray(api.hessian("(np.linalg.eigvalsh(A) ** 2).sum()", {"A": a})[("A", "A")])
    exact = np.zeros((4, 4, 4, 4))
    for i in range(4):
        for j in range(4):
            exact[i, j, i, j] += 1
            exact[i, j, j, i] += 1
    error = np.abs(h - exact).max() / 2
    assert w["in"] == "∂²y" and error <= 2 * w["relative_error"] <= 200 * error


def test_well_separated_and_exactly_repeated_eigenvalues_give_no_warning(tmp_path):
    assert warnings_of(tmp_path, "eval", "np.linalg.eigvalsh(A)", A=near(1e-6)) == []  # estimate 7e-10
    a = np.array([[2.0, 1, 0], [1, 2, 0], [0, 0, 3]])
    code, _, err = run(tmp_path, "eval", "np.linalg.eigvalsh(A)", A=a)
    assert code == 2 and "are equal" in err and "conditioning" not in err  # refused, as before
    assert warnings_of(tmp_path, "eval", "np.linalg.eigvalsh(A).sum()", A=a) == []  # tied and read alike: exact


def test_near_repeated_singular_values(tmp_path):
    for m, g in ((4, 1e-12), (5, 1e-12)):
        u = rotation(m, 1)[:, :4]
        a = u @ np.diag([3.0, 2.0, 1.0 + g, 1.0]) @ rotation(4, 2).T
        us, vs = mp_singular(a)
        exact = np.stack([np.outer(x, y) for x, y in zip(us, vs)])
        got = np.asarray(api.jacobian("np.linalg.svd(A, compute_uv=False)", {"A": a})["A"])
        error = np.abs(got - exact).max() / np.abs(exact).max()
        (w,) = warnings_of(tmp_path, "eval", "np.linalg.svd(A, compute_uv=False)", A=a)
        assert w["op"] == "svdvals" and "singular values 2 and 3" in w["message"]
        assert error <= 2 * w["relative_error"] <= 200 * error
        assert warnings_of(tmp_path, "eval", "np.linalg.norm(A, 'nuc')", A=a) == []  # U Vᵀ: the pair read alike


def test_eigenvectors_warn_for_their_value_too(tmp_path):
    a = near(1e-12)
    v = np.linalg.eigh(a)[1]
    exact = mp_eigenvectors(a).T
    exact *= np.sign(np.sum(exact * v, axis=0))
    error = np.abs(v - exact).max()
    (w,) = warnings_of(tmp_path, "eval", "np.linalg.eigh(A).eigenvectors", A=a)
    assert w["op"] == "eigh_vectors" and w["results"] == ["value", "∂y/∂A"]
    assert error <= 2 * w["relative_error"] <= 1000 * error
    # V diag(λ) Vᵀ = A: its value is accurate (no value warning), but its derivative is not (the paths through λ
    # and through V do not cancel to the digit): warned, and the estimate holds
    expr = "V = np.linalg.eigh(A).eigenvectors; V @ np.diag(np.linalg.eigvalsh(A)) @ V.T"
    (w,) = warnings_of(tmp_path, "eval", expr, A=a)
    assert w["results"] == ["∂y/∂A"]
    got = np.asarray(api.jacobian(expr, {"A": a})["A"])
    exact = (np.einsum("ik,jl->ijkl", np.eye(4), np.eye(4)) + np.einsum("il,jk->ijkl", np.eye(4), np.eye(4))) / 2
    assert np.abs(got - exact).max() <= 2 * w["relative_error"]


def hilbert(n: int) -> np.ndarray:
    return 1.0 / (np.arange(n)[:, None] + np.arange(n)[None, :] + 1.0)


@pytest.mark.parametrize("n", [7, 8, 9])
def test_ill_conditioned_solve(tmp_path, n):
    a, b = hilbert(n), np.ones(n)
    mpmath.mp.dps = 60
    exact = np.array([float(x) for x in mpmath.lu_solve(mpmath.matrix(a.tolist()), mpmath.matrix(b.tolist()))])
    got = np.linalg.solve(a, b)
    error = np.abs(got - exact).max() / np.abs(exact).max()
    (w,) = warnings_of(tmp_path, "eval", "np.linalg.solve(A, b)", A=a, b=b)
    assert w["results"] == ["value", "∂y/∂A", "∂y/∂b"] and w["op"] == "solve"
    assert abs(w["relative_error"] / (np.linalg.cond(a) * EPS) - 1) < 0.01
    assert error <= 2 * w["relative_error"] <= 1e4 * error  # cond·eps bounds the error (often loosely)
    (w,) = warnings_of(tmp_path, "eval", "np.linalg.lstsq(A, b)[0]", "--wrt", "b", A=a, b=b)
    assert w["results"] == ["value", "∂y/∂b"] and "lstsq solves with" in w["message"]


def test_inv_det_pinv_warn_once_each(tmp_path):
    a = hilbert(8)
    for expr, op in (("np.linalg.inv(A)", "inv"), ("np.linalg.det(A)", "det"), ("np.linalg.pinv(A)", "solve")):
        (w,) = warnings_of(tmp_path, "eval", expr, A=a)  # pinv's rank check reads σ without a derivative: no σ warning
        assert w["op"] == op and w["results"] == ["value", "∂y/∂A"]


def test_well_conditioned_inputs_give_no_warning(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 5))
    s = a @ a.T
    for expr in ("np.linalg.solve(A, b)", "np.linalg.inv(A) @ b", "np.linalg.det(A) * b",
                 "np.linalg.lstsq(A, b)[0]", "np.linalg.pinv(A) @ b", "np.linalg.eigvalsh(S) * b.sum()",
                 "np.linalg.eigh(S).eigenvectors @ b", "np.linalg.svd(A)[1] * b", "np.linalg.svd(A)[0] @ b"):
        for command in ("eval", "vjp", "hessian"):
            extra = ["--v", "ones"] if command == "vjp" else []
            assert warnings_of(tmp_path, command, expr, *extra, A=a, S=s, b=np.ones(5)) == [], (expr, command)


def test_a_constant_matrix_warns_for_the_value_only(tmp_path):
    a = hilbert(8)
    (w,) = warnings_of(tmp_path, "eval", "np.linalg.solve(A, b)", "--wrt", "b", A=a, b=np.ones(8))
    assert w["results"] == ["value", "∂y/∂b"]
    (w,) = warnings_of(tmp_path, "eval", "np.linalg.solve(A, np.ones(8)) * x", "--wrt", "x", A=a, x=2.0)
    assert w["results"] == ["value"]  # the derivative by x is solve's value itself: the value's warning says it


def test_strict_is_about_nan_only(tmp_path):
    code, out, err = run(tmp_path, "eval", "np.linalg.solve(A, b)", "--strict", A=hilbert(8), b=np.ones(8))
    assert code == 0 and "warning (conditioning)" in err


def test_float32_threshold_is_its_own_sqrt_eps():
    assert conditioning.threshold(np.float32) == pytest.approx(3.45e-4, rel=0.01)
    a = hilbert(4)  # cond 1.6e4: 1.6e4 · 1.2e-7 = 1.9e-3 in float32, 3.5e-12 in float64
    assert [w.op for w in conditioning.estimates(api.prepare("np.linalg.inv(A)", {"A": a}, dtype="float32"),
                                                 [("value", None)])] == ["inv"]
    assert conditioning.estimates(api.prepare("np.linalg.inv(A)", {"A": a}), [("value", None)]) == []


def test_the_report_functions_carry_it_the_api_does_not():
    a = hilbert(8)
    r = report.eval_report("np.linalg.inv(A)", [f"A={np.array2string(a, precision=17, separator=',')}".replace(
        "\n", "")])
    assert [w["kind"] for w in r["warnings"]] == ["conditioning"]
    assert isinstance(api.jacobian("np.linalg.inv(A)", {"A": a})["A"], np.ndarray)  # arrays alone, as before
