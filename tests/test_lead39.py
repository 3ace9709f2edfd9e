"""Session 39 (lead): a cast jac computes in --dtype says so; --out J.npz's dense member of a sparse Jacobian
is deflated.

jac computes every value of a graph in one dtype (--dtype). ``x.float()`` under the default float64 is ``x``
itself, where PyTorch rounds to float32: the numbers differ after about 7 digits, which was silent. Now every
command that computes warns (kind ``dtype``, the column of the first cast); a mask or integers made floats, and
a float32 constant that holds its values exactly, are the same numbers in both and get no warning.
"""

import contextlib
import io
import json
import os

import jsonschema
import numpy as np
import pytest

from jacobi_cli.cli import entry, schema


def jac(*args) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def dtype_warnings(*args) -> list:
    code, out, _ = jac(*args, "--json")
    assert code == 0, out
    report = json.loads(out)
    jsonschema.Draft202012Validator(schema.load(args[0])).validate(report)
    return [w for w in report.get("warnings", ()) if w["kind"] == "dtype"]


@pytest.mark.parametrize("expr, column, name", [
    ("x.float() * 1.1", 2, "float32"),
    ("x.to(torch.float32) * 1.1", 2, "float32"),
    ("np.sin(x).astype(np.float32)", 10, "float32"),
    ("np.float32(x) * 3", 3, "float32"),
    ("torch.sum(x * 1.1, dtype=torch.float32)", 6, "float32"),
    ("torch.tensor([0.1], dtype=torch.float32) * x", 6, "float32"),  # 0.1 is not a float32
])
def test_a_cast_to_float32_under_float64_is_warned_of_at_its_call(expr, column, name):
    """``column``: the call's name, where jac puts a call's caret."""
    found = dtype_warnings("eval", expr, "x=0.1")
    assert len(found) == 1, found
    warning, = found
    assert warning["position"] == column and warning["op"] == "cast" and warning["in"] == "value"
    assert f"cast to {name}" in warning["message"] and "--dtype float32" in warning["message"]


def test_the_value_is_still_computed_in_float64_and_the_human_output_warns_with_a_caret():
    code, out, err = jac("eval", "x.float() * 1.1", "x=0.1")
    assert code == 0 and "0.11" in out and "0.1100000" not in out  # float64's 0.11, not float32's 0.11000000685
    assert "jac: warning (dtype): this cast to float32 is computed in float64" in err
    assert "  x.float() * 1.1\n    ^" in err


def test_a_cast_to_float64_under_float32_is_warned_of():
    found = dtype_warnings("eval", "x.double() * 1.1", "x=0.1", "--dtype", "float32")
    assert len(found) == 1 and "cast to float64" in found[0]["message"] and "--dtype float64" in found[0]["message"]


@pytest.mark.parametrize("expr, dtype", [
    ("(x > 0).float() * x", "float64"),  # a mask made numbers: 0 and 1 in every dtype
    ("x.long().float() * x", "float64"),  # integers made floats
    ("torch.tensor([0.5, 2.0], dtype=torch.float32) * x", "float64"),  # exact in float32
    ("x.double() * 2", "float64"),  # the width --dtype is
    ("x.float() * 2", "float32"),
    ("sin(x) * 2", "float64"),
])
def test_casts_that_give_the_same_numbers_are_not_warned_of(expr, dtype):
    assert dtype_warnings("eval", expr, "x=[0.1, 0.2]", "--dtype", dtype) == []


def test_several_casts_are_one_warning_that_counts_the_others():
    found = dtype_warnings("eval", "x.float() + x.float() * 2 + x.to(torch.float32)", "x=[0.1, 0.2]")
    assert len(found) == 1 and found[0]["position"] == 2 and "(and 2 more casts)" in found[0]["message"]


@pytest.mark.parametrize("command, extra", [
    ("vjp", ["--v", "1"]), ("jvp", ["--tangent", "x=1"]), ("hessian", []), ("derivative", ["--order", "2"]),
])
def test_every_command_that_computes_warns(command, extra):
    found = dtype_warnings(command, "(x.float() * 1.1).sum()", "x=0.1", *extra)
    assert len(found) == 1


def test_jac_shape_does_not_warn_shapes_do_not_depend_on_the_precision():
    code, out, err = jac("shape", "x.float() * 1.1", "x:3", "--json")
    assert code == 0 and "warnings" not in json.loads(out) and err == ""


def test_a_sparse_jacobians_dense_member_is_deflated_and_reads_back_both_ways(tmp_path):
    path = tmp_path / "J.npz"
    code, _, err = jac("eval", "sin(x)", "x:3000", "--out", path)
    assert code == 0 and "as a SciPy sparse matrix" in err and "and as the array x" in err
    assert os.path.getsize(path) < 2_000_000  # 72 MB stored; deflated zeros take a few hundred KB
    with np.load(path) as f:
        dense = f["x"]
    sparse = pytest.importorskip("scipy.sparse").load_npz(path)
    assert dense.shape == (3000, 3000) and np.array_equal(sparse.toarray(), dense)
    assert np.count_nonzero(dense) == 3000
