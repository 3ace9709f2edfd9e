"""The sign of a determinant of an ill-conditioned matrix is warned of (session 46): slogdet's sign is exact or
wrong, and near a singular matrix rounding picks it (a fuzz program read the sign of ``np.corrcoef`` of four
samples, a rank-3 matrix, as -1 with no warning while det and logabsdet warned)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.engine import conditioning
from jacobi_cli.tools import api

runner = CliRunner()
EPS = np.finfo(np.float64).eps


def graded(n: int, k: int, seed: int = 1) -> np.ndarray:
    """Condition number 10^k."""
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q1 @ np.diag(np.logspace(0, -k, n)) @ q2.T


def warned(expr: str, env: dict, results=(("value", None), ("∂y/∂A", "A"), ("∂y/∂x", "x"))) -> dict:
    """{op: the results its warning names}."""
    problem = api.prepare(expr, env)
    return {w.op: list(w.results) for w in conditioning.estimates(problem, list(results))}


SINGULAR = np.corrcoef(np.random.default_rng(0).standard_normal((4, 4)))  # rank 3: four samples, centred


@pytest.mark.parametrize("expr", ["np.linalg.slogdet(A)[0]", "torch.linalg.slogdet(A).sign",
                                  "jnp.linalg.slogdet(A)[0]", "np.linalg.slogdet(A).sign"])
def test_the_sign_of_a_singular_matrix_is_warned_of(expr):
    assert np.linalg.cond(SINGULAR) * EPS > 0.1
    found = warned(expr, {"A": SINGULAR})
    assert found == {"detsign": ["value"]}  # the sign is the output: its derivative is 0, exactly


def test_the_message_says_the_sign_may_be_wrong():
    problem = api.prepare("np.linalg.slogdet(A)[0]", {"A": SINGULAR})
    (w,) = conditioning.estimates(problem, [("value", None)])
    assert "so the sign may be wrong" in w.message and "condition number" in w.message
    assert w.position == 10 and w.relative_error == 1.0


def test_what_multiplies_by_the_sign_carries_it_into_every_derivative():
    found = warned("torch.linalg.slogdet(A).sign * x.sum()", {"A": SINGULAR, "x": np.ones(3)})
    assert found == {"detsign": ["value", "∂y/∂A", "∂y/∂x"]}
    problem = api.prepare("torch.linalg.slogdet(A).sign * x.sum()", {"A": SINGULAR, "x": np.ones(3)})
    (w,) = conditioning.estimates(problem, [("value", None), ("∂y/∂A", "A"), ("∂y/∂x", "x")])
    assert w.message.startswith("value, ∂y/∂A and ∂y/∂x: the matrix of slogdet")  # the text names every result


@pytest.mark.parametrize("k", [0, 3, 10])
def test_a_sign_far_from_rounding_is_silent(k):
    # cond·eps up to 1e-6: the determinant holds six digits or more, its sign is sure
    a = graded(4, k)
    assert not warned("np.linalg.slogdet(A)[0]", {"A": a})
    if k == 10:  # the determinant itself loses digits and says so
        assert "det" in warned("np.linalg.det(A)", {"A": a})


def test_the_cut_is_a_hundredth_of_the_determinant_relative():
    a = graded(4, 14)  # cond 1e14: cond·eps ≈ 0.02
    assert np.linalg.cond(a) * EPS > conditioning.SIGN_CUT
    assert warned("np.linalg.slogdet(A)[0]", {"A": a}) == {"detsign": ["value"]}
    b = graded(4, 13)  # cond 1e13: cond·eps ≈ 0.002
    assert np.linalg.cond(b) * EPS < conditioning.SIGN_CUT
    assert not warned("np.linalg.slogdet(A)[0]", {"A": b})


def test_the_command_line_warns_in_json_and_on_stderr_and_per_example():
    text = json.dumps(SINGULAR.tolist())
    r = runner.invoke(app, ["eval", "np.linalg.slogdet(A)[0]", f"A={text}", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(w["op"], w["in"], w["results"]) for w in out["warnings"]] == [("detsign", "value", ["value"])]
    both = json.dumps([np.eye(4).tolist(), SINGULAR.tolist()])
    r = runner.invoke(app, ["eval", "torch.linalg.slogdet(A).sign", f"A={both}", "--batch", "A", "--json"])
    assert r.exit_code == 0, r.output
    (w,) = json.loads(r.stdout)["warnings"]
    assert w["op"] == "detsign" and w["examples"] == [1] and w["message"].startswith("example 1 (of 2)")

