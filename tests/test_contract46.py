"""Session 46's contract audit (benchmarks/contract46_probe.py): each test a sentence of ../shared/CONTRACT.md that
jac broke, checked through the command line as a script calls it, the right answer taken from PyTorch / NumPy."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

runner = CliRunner()
A = "A=[[1, 2], [3, 5]]"


def jac_json(*args, code=0):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.mark.parametrize("expr", ["norm(A, 2)", "norm(A, -2)", "norm(A, 2, (0, 1))"])
def test_a_bare_norm_of_a_matrix_with_ord_2_is_refused_with_both_readings(expr):
    # "Where a spelling means different things in PyTorch and NumPy, the library named decides": torch.norm(A, 2) is
    # the 2-norm of the elements (6.2450), np.linalg.norm(A, 2) the spectral norm (6.2429); bare, jac answered
    # NumPy's, though it refuses norm(A, 1) and docs/expressions.md says norm(A, 2) is refused
    error = jac_json("eval", expr, A, code=2)["error"]
    assert error["kind"] == "value"
    assert "torch.norm" in error["message"] and "np.linalg.norm" in error["message"]


@pytest.mark.parametrize("expr, want", [
    ("torch.norm(A, 2)", float(np.sqrt(39.0))),                    # PyTorch: the elements' 2-norm
    ("np.linalg.norm(A, 2)", float(np.linalg.norm([[1, 2], [3, 5]], 2))),  # NumPy: the largest singular value
    ("norm(A, ord=2)", float(np.linalg.norm([[1, 2], [3, 5]], 2))),  # ord= is NumPy's keyword: NumPy's reading
    ("norm(A, p=2)", float(np.sqrt(39.0))),                        # p= is PyTorch's
])
def test_the_library_named_or_its_keyword_decides_norm(expr, want):
    assert jac_json("eval", expr, A)["output"]["value"] == pytest.approx(want, rel=1e-14)


M = ["A=[[1, 2, 3], [4, 5, 7], [0, 1, -1]]", "C=[[0, 1, 2], [1, 0, 3], [2, 2, 0]]"]


@pytest.mark.parametrize("expr", ["cross(A, C)", "cross(A, C, 0)"])
def test_a_bare_cross_is_refused_where_torch_cross_and_np_cross_differ(expr):
    # two 3 x 3 matrices: torch.cross without dim takes axis 0 (the first of length 3), np.cross the last; and a
    # third argument is torch.cross's dim but np.cross's axisa. jac answered NumPy's reading bare
    error = jac_json("eval", expr, *M, code=2)["error"]
    assert error["kind"] == "value" and "torch.cross" in error["message"] and "np.cross" in error["message"]


@pytest.mark.parametrize("expr, axis", [("np.cross(A, C)", -1), ("torch.linalg.cross(A, C)", -1),
                                        ("cross(A, C, dim=0)", 0), ("torch.cross(A, C, 0)", 0), ("cross(A, C, -1)", -1),
                                        ("cross(A[:2], C[:2])", -1)])
def test_cross_where_the_axis_is_said_or_the_readings_agree(expr, axis):
    a, c = np.array([[1, 2, 3], [4, 5, 7], [0, 1, -1.0]]), np.array([[0, 1, 2], [1, 0, 3], [2, 2, 0.0]])
    if "[:2]" in expr:
        a, c = a[:2], c[:2]
    want = np.cross(a, c, axis=axis)
    assert jac_json("eval", expr, *M)["output"]["value"] == want.tolist()


@pytest.mark.parametrize("expr", ["pad(A, (1, 2))", "pad(A, (1, 2), value=1.0)"])
def test_a_bare_pad_of_a_matrix_with_a_flat_pair_is_refused_with_both_readings(expr):
    # F.pad(A, (1, 2)) pads the last axis alone (3 x 6), np.pad(A, (1, 2)) every axis (6 x 6); bare F names are read
    # (relu, mse_loss, layer_norm), and jac answered NumPy's, even beside F.pad's value=
    error = jac_json("eval", expr, *M, code=2)["error"]
    assert error["kind"] == "value" and "F.pad" in error["message"] and "np.pad" in error["message"]


@pytest.mark.parametrize("expr, want", [
    ("F.pad(A, (1, 2))", (3, 6)), ("np.pad(A, (1, 2))", (6, 6)), ("pad(A, pad_width=(1, 2))", (6, 6)),
    ("pad(A, ((1, 2), (0, 0)))", (6, 3)), ("pad(A, 1)", (5, 5)), ("pad(A[0], (1, 2))", (6,)), ("jnp.pad(A, (1, 2))", (6, 6)),
])
def test_pad_where_one_reading_is_meant(expr, want):
    assert tuple(jac_json("eval", expr, *M)["output"]["shape"]) == want


P = ["p=[0.2, 0.3, 0.5]", "q=[0.1, 0.6, 0.3]"]


def test_a_bare_kl_div_is_refused_with_both_readings():
    # bare names are read from F and scipy.special alike (relu, expit, entr); kl_div is both: F.kl_div(p, q) the
    # reduced loss -0.416, scipy.special.kl_div(p, q) the element-wise [0.0386, 0.0921, 0.0554]; jac answered F's
    error = jac_json("eval", "kl_div(p, q)", *P, code=2)["error"]
    assert error["kind"] == "value" and "F.kl_div" in error["message"] and "scipy.special.kl_div" in error["message"]


@pytest.mark.parametrize("expr", ["F.kl_div(p, q)", "torch.nn.functional.kl_div(p, q)", "nn.KLDivLoss()(p, q)",
                                  "torch.kl_div(p, q)", "scipy.special.kl_div(p, q)"])
def test_kl_div_as_each_library_spells_it(expr):
    torch = pytest.importorskip("torch")
    import scipy.special
    p, q = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64), torch.tensor([0.1, 0.6, 0.3], dtype=torch.float64)
    want = scipy.special.kl_div(p.numpy(), q.numpy()) if "scipy" in expr else \
        torch.kl_div(p, q).numpy() if expr.startswith("torch.kl_div") else torch.nn.functional.kl_div(p, q).numpy()
    np.testing.assert_allclose(jac_json("eval", expr, *P)["output"]["value"], want, rtol=1e-13)


@pytest.mark.parametrize("binding", ["x=np.float32(0.1)", "x=torch.tensor([0.1, 0.2], dtype=torch.float32)",
                                     "x=torch.tensor([0.1]).float()"])
def test_a_value_cast_to_float32_under_float64_is_refused_not_held_unrounded(binding):
    # "Every value is converted to the --dtype": np.float32(0.1) is 0.10000000149011612 in NumPy and PyTorch, and
    # jac held 0.1 without a word (an expression's cast warns, kind dtype; a binding's value had no such warning)
    error = jac_json("eval", "x * 1", binding, code=2)["error"]
    assert error["kind"] == "value" and "float32" in error["message"] and "--dtype float32" in error["message"]


@pytest.mark.parametrize("binding, dtype, want", [
    ("x=np.float32(0.1)", "float32", 0.1),  # float32's 0.1, printed as float32's shortest text
    ("x=torch.tensor([0.5, 2.0], dtype=torch.float32)", "float64", [0.5, 2.0]),  # exact in float32
    ("x=torch.tensor([0.1]).double()", "float64", [0.1]),
])
def test_a_cast_that_keeps_the_values_is_read(binding, dtype, want):
    got = jac_json("eval", "x * 1", binding, "--dtype", dtype)["output"]["value"]
    assert got == pytest.approx(want, rel=0, abs=0)
