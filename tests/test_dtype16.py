"""--dtype float32 as PyTorch's float32 (the dtype16 sweep, tests/dtype16.py): jac computes in float32
where PyTorch does (no float64 array in the forward pass, every result float32), agrees with PyTorch
within float32's tolerances, and refuses what PyTorch refuses for its dtypes (a product of a float and an
integer or bool tensor, a float index array). The parity cases skip without PyTorch."""

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

import dtype16
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacValueError
from jacobi_cli.ir import ops
from jacobi_cli.tools import api
from jacobi_cli.tools.check import check

runner = CliRunner()
X = np.array([0.5, -1.2, 2.0], dtype=np.float32)
Y = np.array([1.5, 0.7, -0.4], dtype=np.float32)


def _float64_nodes(expr, inputs):
    problem = api.prepare(expr, inputs, dtype="float32")
    return [f"{node.op}:{np.asarray(v).dtype}" for node, v in zip(problem.graph.nodes, problem.values)
            if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f" and v.dtype != np.float32]


INDEXED = ["x.argsort() * x", "torch.argmax(x) * y", "torch.sort(x).indices + y", "torch.topk(x, 2).indices * x[:2]",
           "torch.cummax(x, 0).indices * x", "torch.searchsorted(torch.tensor([0.0, 1.0]), x) * x",
           "np.digitize(x, np.array([0.0, 1.0])) * x", "np.argpartition(x, 1) * x", "np.lexsort((x, y)) * x",
           "torch.cat([x, x.argsort()])", "torch.where(x > 0, x, x.argsort())", "(x.argsort() > 1) * x",
           "x.argsort().float() * x", "x ** x.argsort()", "torch.argsort(torch.argsort(x)) * x", "F.gelu(x)"]


@pytest.mark.parametrize("expr", INDEXED)
def test_float32_stays_float32_beside_an_index_result(expr):
    # an index op's int64 array beside a float32 one made NumPy compute (and return) float64
    inputs = {"x": X, "y": Y}
    assert _float64_nodes(expr, inputs) == []
    assert np.asarray(api.evaluate(expr, inputs, dtype="float32")).dtype == np.float32
    for name, block in api.jacobian(expr, inputs, dtype="float32").items():
        assert np.asarray(block).dtype == np.float32, name
    value64 = api.evaluate(expr, {k: v.astype(np.float64) for k, v in inputs.items()})
    np.testing.assert_allclose(api.evaluate(expr, inputs, dtype="float32"), value64, rtol=1e-6, atol=1e-6)


def test_an_index_float32_cannot_hold_is_refused_not_rounded():
    held = ops._held_index(lambda a: np.array([2**24 + 1], dtype=np.int64))
    with pytest.raises(JacValueError, match="2\\*\\*24"):
        held(np.zeros(1, dtype=np.float32))
    assert held(np.zeros(1)).dtype == np.int64  # float64 keeps the int64 index (the same numbers)
    assert ops._held_index(lambda a: np.array([3]))(np.zeros(1, np.float32)).dtype == np.float32


@pytest.mark.parametrize("group, expr", dtype16.REFUSED, ids=[e for _, e in dtype16.REFUSED])
def test_what_pytorch_refuses_for_its_dtypes_is_refused(group, expr):
    with pytest.raises(JacValueError, match="PyTorch"):
        api.evaluate(expr, dtype16.inputs_of(expr), dtype="float32")


@pytest.mark.parametrize("expr", ["A @ isfinite(x[:2])", "M @ (x > 0)", "x @ arange(3)"])
def test_a_bare_product_of_a_float_and_an_integer_names_both_readings(expr):
    with pytest.raises(JacValueError, match="NumPy promotes"):
        api.evaluate(expr, dtype16.inputs_of(expr))


@pytest.mark.parametrize("expr, value", [("A @ np.isfinite(x[:2])", [1.5, 2.3]), ("x @ np.arange(3)", 2.8),
                                         ("np.sum(M @ (x > 0))", 2.0), ("x @ (x > 0).float()", 2.5),
                                         ("torch.outer(x, torch.arange(2))[2]", [0.0, 2.0]),
                                         ("x[torch.tensor([0, 2])]", [0.5, 2.0]), ("x[[0, 2]]", [0.5, 2.0]),
                                         ("x[torch.tensor([0.2, 1.7]).long()]", [0.5, -1.2]),
                                         ("x[np.arange(2) + 1]", [-1.2, 2.0])])
def test_numpy_spellings_and_integer_indices_are_still_accepted(expr, value):
    np.testing.assert_allclose(api.evaluate(expr, dtype16.inputs_of(expr), dtype="float32"), value, rtol=1e-6)


def test_the_cli_refuses_a_mixed_product_with_exit_2_and_a_json_error():
    result = runner.invoke(app, ["eval", "--json", "A @ torch.isfinite(x)", "A:2x2", "x=1,2"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "value" and "bool tensor" in error["message"]


@pytest.mark.parametrize("group, expr, torch_expr", dtype16.CASES, ids=[c[1] for c in dtype16.CASES])
def test_float32_agrees_with_pytorch_float32(group, expr, torch_expr):
    pytest.importorskip("torch")
    found = [f for f in dtype16.run_case(expr, torch_expr) if f[0] != "torch-no-derivative"]
    assert found == []


@pytest.mark.parametrize("expr", ["x.argsort() * x", "torch.sigmoid(x) @ y", "F.cross_entropy(M, torch.tensor([0, 2]))",
                                  "torch.where(x > 0, x, 0) ** 2", "torch.logsumexp(M, 1)"])
def test_the_cli_prints_the_apis_float32_numbers_and_agrees_with_pytorch(expr):
    pytest.importorskip("torch")

    def invoke(args):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return result.exit_code, json.loads(result.stdout)
    assert [f for f in dtype16.run_case(expr, expr, invoke) if f[0] != "torch-no-derivative"] == []


def test_float32_bindings_from_files_and_shapes(tmp_path):
    f64, i64 = os.fspath(tmp_path / "f64.npy"), os.fspath(tmp_path / "i64.npy")
    np.save(f64, np.array([0.1, -1.7, 3.3]))
    np.save(i64, np.array([1, -2, 2**24 + 1]))
    p = api.prepare("x * 2", {"x": f"@{f64}"}, dtype="float32")
    assert p.env["x"].dtype == np.float32 and np.array_equal(p.env["x"], np.array([0.1, -1.7, 3.3], np.float32))
    result = runner.invoke(app, ["eval", "--json", "--dtype", "float32", "x * 2", f"x=@{f64}"])
    assert [np.float32(v) for v in json.loads(result.stdout)["output"]["value"]] == \
        list(np.array([0.1, -1.7, 3.3], np.float32) * 2)
    result = runner.invoke(app, ["eval", "--json", "--dtype", "float32", "x * 2", f"x=@{i64}"])
    assert result.exit_code == 2 and "16777217" in json.loads(result.stdout)["error"]["message"]
    drawn, drawn64 = (api.prepare("x * 2", {"x": ":3"}, dtype=d).env["x"] for d in ("float32", "float64"))
    assert drawn.dtype == np.float32 and np.array_equal(drawn, drawn64.astype(np.float32))


SMOOTH = [c[1] for c in dtype16.CASES if c[0] in ("elementwise", "loss", "softmax", "linalg")
          and not any(k in c[1] for k in ("heaviside", "relu", "abs", "clamp", "maximum", "minimum", "l1", "huber"))]


@pytest.mark.parametrize("expr", SMOOTH[::3])
def test_jac_check_passes_smooth_sweep_cases_in_float32(expr):
    for name, result in check(api.prepare(expr, dtype16.inputs_of(expr), dtype="float32")).items():
        assert result.passed, (expr, name, result.max_abs_error, result.max_rel_error)
