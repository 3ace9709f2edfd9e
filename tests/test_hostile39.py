"""Session 39: work and memory of constants, suites and output targets (benchmarks/hostile39_fuzz.py runs the sweep).

- a product or decomposition of constants is folded while the text is read, by every command and before
  ``--timeout`` can act (one LAPACK call is uninterruptible): ``inv(eye(10000))`` ran a minute. Its work is
  estimated from the shapes (``ir/work.py``) and refused past ``MAX_FOLD_WORK`` multiply-adds for the text's
  constants in total, with the caret under the call;
- every constant a text makes stays in the graph being built, so their total is bounded by ``max_bytes`` (the
  budget, up to 2 GiB), as the inputs' is: ``MultivariateNormal`` of 10,000 held 3.9 GB of its checks' constants;
- a bidirectional control in a case name (or any echoed text) is shown escaped, as terminal escapes are.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli import render
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError
from jacobi_cli.ir import graph, work
from jacobi_cli.ir.ops import OPS
from jacobi_cli.lang import parser
from jacobi_cli.tools import api

runner = CliRunner()


def _error(args, *words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("jac: error")]
    assert len(lines) == 1 and result.stderr.startswith("jac: error"), result.stderr
    assert "Traceback" not in result.output
    for w in words:
        assert w in lines[0], lines[0]
    return result


# --- the work of a fold ---------------------------------------------------------------------------------------------


def _work(name, *shapes, out=None, **params):
    values = [np.ones(s) for s in shapes]
    return work.fold_work(name, values, params, OPS[name].shape(*[v.shape for v in values], **params))


def test_the_work_of_products_is_each_result_element_times_the_contracted_length():
    assert _work("matmul", (3, 4), (4, 5)) == 3 * 4 * 5
    assert _work("matmul", (4,), (4, 5)) == 4 * 5
    assert _work("matmul", (2, 3, 4), (4, 5)) == 2 * 3 * 4 * 5
    assert _work("einsum", (3, 4), (4, 5), spec="ij,jk->ik") == 3 * 4 * 5
    assert _work("einsum", (3,), (5,), spec="i,j->ij") == 15


def test_the_work_of_decompositions_is_their_factor_times_m_n_min_per_matrix():
    assert _work("inv", (6, 6)) == 2 * 6 ** 3
    assert _work("inv", (3, 6, 6)) == 3 * 2 * 6 ** 3
    assert _work("svd_u", (8, 4)) == 20 * 8 * 4 * 4
    assert _work("solve", (5, 5), (5, 2)) == 2 * 5 ** 3 + 5 * 2 * 5
    assert _work("exp", (100, 100)) == 0  # bounded by the sizes check_size bounds


def test_matrix_exp_counts_its_squarings_from_the_norm():
    small = work.fold_work("matrix_exp", [np.eye(4) * 0.1], {}, (4, 4))
    huge = work.fold_work("matrix_exp", [np.eye(4) * 1e300], {}, (4, 4))
    assert small == 24 * 4 ** 3 and huge > 1000 * 4 ** 3


def test_every_heavy_op_named_exists_in_the_registry():
    assert set(work.CUBIC) | set(work.RULES) <= set(OPS)


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(graph, "MAX_FOLD_WORK", 10**6)


@pytest.mark.parametrize("text, call", [
    ("torch.linalg.inv(torch.eye(200) * 2).sum() + x.sum()", "torch.linalg.inv"),
    ("np.linalg.svd(np.ones((100, 100)))[0].sum() + x.sum()", "np.linalg.svd"),
    ("(torch.ones(200, 200) @ torch.ones(200, 200)).sum() + x.sum()", "@"),
    ("torch.linalg.cholesky(torch.eye(200)).sum() + x.sum()", "torch.linalg.cholesky"),
    ("torch.linalg.matrix_exp(torch.eye(50) * 1e300).sum() + x.sum()", "torch.linalg.matrix_exp"),
])
def test_a_fold_past_the_work_limit_is_refused_before_it_runs_with_the_caret_under_the_call(small_limit, text, call):
    with pytest.raises(JacLimitError, match="multiply-adds, over the 1,000,000") as err:
        parser.parse(text, {"x": (2,)})
    assert text.index(call) <= err.value.position < text.index(call) + len(call)


def test_the_refusal_is_the_cli_s_limit_error_in_eval_and_shape(small_limit):
    text = "torch.linalg.inv(torch.eye(200) * 2).sum() + x.sum()"
    result = _error(["eval", text, "x=[1,2]", "--json"], "(limit)", "inv of constants of shape (200, 200)",
                    "make the matrix an input")
    assert json.loads(result.stdout)["error"]["kind"] == "limit"
    _error(["shape", text, "x:2"], "multiply-adds")
    _error(["eval", text, "x=[1,2]", "--timeout", "1"], "multiply-adds")


def test_the_limit_is_for_the_text_s_constants_in_total(small_limit):
    one = "torch.linalg.inv(torch.eye(70) * 2)"  # 2 * 70³ = 686,000: one fits, two do not
    assert np.isfinite(api.evaluate(f"{one}.sum() + x.sum()", {"x": np.ones(2)}))
    with pytest.raises(JacLimitError, match=r"after 686,000 in the constants before it"):
        parser.parse(f"{one}.sum() + {one}.sum() + x.sum()", {"x": (2,)})


def test_below_the_limit_the_fold_is_numpy_s_value():
    got = api.evaluate("torch.linalg.inv(torch.eye(3) * 2 + 1) @ x", {"x": np.array([1.0, 2.0, 3.0])})
    assert np.array_equal(got, np.linalg.inv(np.eye(3) * 2 + 1) @ np.array([1.0, 2.0, 3.0]))


def test_an_input_is_not_bounded_by_the_fold_limit(small_limit):
    a = np.eye(200) * 2
    assert api.evaluate("torch.linalg.inv(A).sum()", {"A": a}) == pytest.approx(100.0)


# --- the bytes constants hold -----------------------------------------------------------------------------------------


def test_constants_past_the_budget_in_total_are_refused_before_the_next_is_computed():
    result = _error(["eval", "(torch.ones(1000, 1000) + 1) * 2", "--max-memory", "20M"],
                    "the constants of the text would hold 24,000,000 bytes", "over the limit of 20,971,520")
    assert "(torch.ones(1000, 1000) + 1) * 2\n" in result.stderr


def test_a_view_of_a_constant_holds_no_bytes_of_its_own():
    result = runner.invoke(app, ["eval", "torch.ones(1000, 1000).T.sum() + x.sum()", "x=[1,2]",
                                 "--max-memory", "20M", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["value"] == 1_000_003.0


def test_multivariate_normal_s_checks_stay_within_the_budget():
    text = "torch.distributions.MultivariateNormal(torch.zeros(1000), covariance_matrix=torch.eye(1000)).log_prob(y)"
    _error(["eval", text, "y=zeros(1000)", "--max-memory", "20M"], "the constants of the text")
    result = runner.invoke(app, ["eval", text, "y=zeros(1000)", "--max-memory", "200M", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["value"] == pytest.approx(-1000 * 0.5 * np.log(2 * np.pi))


# --- names shown -------------------------------------------------------------------------------------------------------


def test_bidirectional_controls_are_shown_escaped():
    assert render.visible("ok \u202eLIAF") == "ok \\u202eLIAF"
    assert render.visible("\u2067x\u2069") == "\\u2067x\\u2069"
    assert render.visible("é🙂") == "é🙂"


def test_a_case_named_with_a_bidi_override_is_shown_escaped(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "ok \u202eLIAF"\nexpr = "x"\nbindings = { x = 1 }\nvalue = 2\n',
                     encoding="utf-8")
    result = runner.invoke(app, ["run", str(suite)])
    assert result.exit_code == 1, result.output
    assert "\u202e" not in result.output and "ok \\u202eLIAF" in result.output
