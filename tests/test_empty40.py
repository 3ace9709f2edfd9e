"""Session 40 (h40-empty): empty and size-one shapes, found by benchmarks/empty40_fuzz.py (every family of the
vocabulary at (0,), (0, 3), (3, 0), (1,), (1, 1), () and batched (0, 2, 2) / (2, 0, 0) matrices, against PyTorch,
NumPy and JAX, and through ``jac shape``, ``--json``, ``--out`` and ``jac check``).

- ``jac check`` of an empty Jacobian passed as if derivatives had been compared ("PASS: the automatic derivatives
  agree with the finite differences", max errors 0): it now counts the entries compared (``"compared"``, per input
  and in all), says "PASS, vacuously" and warns (kind ``empty``);
- ``jac eval --out J.json`` of a Jacobian with an empty axis before its last wrote ``{"x": []}``, which reads back at
  shape (0,) (``np.array``, jac's own ``x=@J.json``): now refused, exit 2, the file not written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.cli.schema import load as load_schema
from jacobi_cli.errors import JacIOError
from jacobi_cli.lang.fileio import save_array
from jacobi_cli.tools import api

runner = CliRunner()


def jac(*args):
    return runner.invoke(app, [str(a) for a in args])


def check_json(*args) -> dict:
    r = jac("check", *args, "--json")
    assert r.exit_code == 0, r.stdout
    return json.loads(r.stdout)


def valid(report: dict, command: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(report, load_schema(command))


# --- jac check: nothing compared is said ------------------------------------------------------------------

EMPTY_CHECKS = [  # (text, bindings): every Jacobian empty
    ("sin(x)", ["x=zeros(0)"]),
    ("x * 2", ["x:0x3"]),
    ("sum(x, axis=0)", ["x:0x3"]),  # y (3,), x (0, 3)
    ("x[2:]", ["x=[1.0, 2.0]"]),  # x not empty, y empty
    ("A @ B", ["A:3x0", "B:0x2"]),  # y (3, 2): ∂y/∂A (3, 2, 3, 0)
]


@pytest.mark.parametrize("text, bindings", EMPTY_CHECKS)
def test_a_check_of_empty_jacobians_says_nothing_was_compared(text, bindings):
    got = check_json(text, *bindings)
    assert got["passed"] is True and got["compared"] == 0
    assert all(info["compared"] == 0 for info in got["inputs"].values())
    (warning,) = [w for w in got["warnings"] if w["kind"] == "empty"]
    assert warning["message"].startswith("nothing was compared: every Jacobian is empty")
    valid(got, "check")
    r = jac("check", text, *bindings)
    assert r.exit_code == 0
    assert "PASS, vacuously: every Jacobian is empty, so no entry was compared" in r.stdout
    assert "agree with the finite differences" not in r.stdout
    assert "PASS (empty)" in r.stdout


@pytest.mark.parametrize("text, bindings, compared", [
    ("sin(x)", ["x=[0.5, 1.0, 2.0]"], {"x": 9}),
    ("x[0:0].sum() + sin(y)", ["x=[1.0, 2.0]", "y=0.5"], {"x": 2, "y": 1}),  # one Jacobian zeros, not empty
    ("sum(x) * y", ["x:0", "y=2.0"], {"x": 0, "y": 1}),  # one empty Jacobian beside one compared
    ("A @ B", ["A:2x3", "B:3x2"], {"A": 24, "B": 24}),
])
def test_compared_counts_the_entries_of_each_jacobian(text, bindings, compared):
    got = check_json(text, *bindings)
    assert {n: info["compared"] for n, info in got["inputs"].items()} == compared
    assert got["compared"] == sum(compared.values()) > 0
    assert not [w for w in got.get("warnings", []) if w["kind"] == "empty"]
    valid(got, "check")
    assert "PASS: the automatic derivatives agree with the finite differences" in jac("check", text, *bindings).stdout


def test_compared_sums_the_outputs_and_examples():
    got = check_json("x[0:0], sin(x)", "x=[0.5, 1.0]")
    assert got["checks"]["y0"]["x"]["compared"] == 0 and got["checks"]["y1"]["x"]["compared"] == 4
    assert got["inputs"]["x"]["compared"] == 4 and got["compared"] == 4
    got = check_json("sin(x)", "x:3x2", "--batch", "x")  # 3 examples of a (2,) by (2,) Jacobian
    assert got["inputs"]["x"]["compared"] == 12
    got = check_json("x[0:0]", "x:3x2", "--batch", "x")
    assert got["compared"] == 0 and [w["kind"] for w in got["warnings"]] == ["empty"]
    valid(got, "check")


def test_an_input_not_in_wrt_is_not_counted():
    got = check_json("x * y", "x:0", "y=[]", "--wrt", "x")
    assert got["inputs"]["y"]["passed"] is None and "compared" not in got["inputs"]["y"]
    assert got["compared"] == 0 and got["warnings"][-1]["kind"] == "empty"


def test_a_failing_check_of_one_input_still_fails_beside_an_empty_one():
    got = jac("check", "relu(x) + sum(z)", "x=0", "z:0", "--json")
    assert got.exit_code == 1
    report = json.loads(got.stdout)
    assert report["passed"] is False and report["inputs"]["z"]["compared"] == 0 and report["compared"] == 1


# --- --out J.json keeps the Jacobian's shape or refuses ---------------------------------------------------

@pytest.mark.parametrize("text, bindings, shape", [
    ("x * 2", ["x:0x3"], (0, 3, 0, 3)),
    ("x * 2", ["x:3x0"], (3, 0, 3, 0)),
    ("A @ B", ["A:3x0", "B:0x2"], (3, 2, 3, 0)),
    ("sum(x, axis=0)", ["x:0x3"], (3, 0, 3)),
])
def test_out_json_refuses_a_jacobian_its_nested_lists_cannot_hold(tmp_path, text, bindings, shape):
    path = tmp_path / "J.json"
    r = jac("eval", text, *bindings, "--out", path, "--json")
    assert r.exit_code == 2
    error = json.loads(r.stdout)["error"]
    assert error["kind"] == "io" and "JSON's nested lists cannot hold" in error["message"]
    assert str(shape) in error["message"] or "has shape (" in error["message"]
    assert not path.exists()
    assert jac("eval", text, *bindings, "--out", tmp_path / "J.npz").exit_code == 0  # the .npz holds it


@pytest.mark.parametrize("text, bindings, shape", [
    ("sum(x)", ["x:0"], (0,)),
    ("x[:, 0:0] * 2", ["x:2x3"], (2, 0, 2, 3)),  # the first empty axis has more after it, but not before it
    ("sin(x)", ["x=[1.0, 2.0]"], (2, 2)),
    ("x * 2", ["x:2x0"], (2, 0, 2, 0)),
])
def test_out_json_writes_what_reads_back_at_its_shape(tmp_path, text, bindings, shape):
    path = tmp_path / "J.json"
    r = jac("eval", text, *bindings, "--out", path)
    lossless = np.array(json.loads(json.dumps(np.zeros(shape).tolist()))).shape == shape  # NumPy's own reading
    assert lossless == (0 not in shape[:-1])
    if not lossless:
        assert r.exit_code == 2 and not path.exists()
        return
    assert r.exit_code == 0, r.stdout
    assert np.array(json.loads(path.read_text())["x"]).shape == shape


def test_save_array_refuses_before_opening_the_file(tmp_path):
    path = tmp_path / "J.json"
    path.write_text('{"x": [1]}')
    with pytest.raises(JacIOError, match=r"x has shape \(0, 2\).*read back as \(0,\)"):
        save_array(str(path), {"x": np.zeros((0, 2))})
    assert path.read_text() == '{"x": [1]}'  # the previous file is left as it was
    save_array(str(path), {"x": np.zeros((2, 0)), "y": np.zeros(0), "z": np.array(1.0)})
    saved = json.loads(path.read_text())
    assert np.array(saved["x"]).shape == (2, 0) and saved["y"] == [] and saved["z"] == 1.0


# --- what the fuzz found right: the library's value and the derivative's shape ------------------------------

AGREED = [  # (text, bindings, value, {input: jacobian shape}) as PyTorch / NumPy give them
    ("torch.sum(x)", {"x": np.zeros(0)}, 0.0, {"x": (0,)}),
    ("torch.prod(x)", {"x": np.zeros(0)}, 1.0, {"x": (0,)}),
    ("np.prod(x, axis=0)", {"x": np.zeros((0, 3))}, np.ones(3), {"x": (3, 0, 3)}),
    ("torch.mean(x, dim=0)", {"x": np.zeros((0, 3))}, np.full(3, np.nan), {"x": (3, 0, 3)}),
    ("np.mean(x, axis=1)", {"x": np.zeros((0, 3))}, np.zeros(0), {"x": (0, 0, 3)}),
    ("torch.amax(x, dim=0)", {"x": np.zeros((3, 0))}, np.zeros(0), {"x": (0, 3, 0)}),
    ("torch.logsumexp(x, dim=0)", {"x": np.zeros(0)}, -np.inf, {"x": (0,)}),
    ("x @ y", {"x": np.ones((2, 0)), "y": np.ones((0, 3))}, np.zeros((2, 3)), {"x": (2, 3, 2, 0), "y": (2, 3, 0, 3)}),
    ("torch.linalg.det(x)", {"x": np.zeros((0, 0))}, 1.0, {"x": (0, 0)}),
    ("torch.linalg.inv(x)", {"x": np.zeros((0, 2, 2))}, np.zeros((0, 2, 2)), {"x": (0, 2, 2, 0, 2, 2)}),
    ("x.reshape(-1, 3)", {"x": np.zeros((3, 0))}, np.zeros((0, 3)), {"x": (0, 3, 3, 0)}),
    ("x[torch.tensor([], dtype=torch.long)]", {"x": np.ones((1, 1))}, np.zeros((0, 1)), {"x": (0, 1, 1, 1)}),
    ("F.mse_loss(x, y, reduction='sum')", {"x": np.zeros(0), "y": np.zeros(0)}, 0.0, {"x": (0,), "y": (0,)}),
]


@pytest.mark.parametrize("text, bindings, value, shapes", AGREED)
def test_the_library_value_and_the_jacobian_shape(text, bindings, value, shapes):
    np.testing.assert_array_equal(api.evaluate(text, bindings), value)
    for mode in ("reverse", "forward"):
        got = api.jacobian(text, bindings, mode=mode)
        assert {n: j.shape for n, j in got.items()} == shapes
    hess = api.hessian(text, bindings)
    y = np.shape(value)
    for (a, b), block in hess.items():
        assert block.shape == y + bindings[a].shape + bindings[b].shape


@pytest.mark.parametrize("text, bindings, words", [
    ("torch.max(x)", {"x": np.zeros(0)}, "empty"),
    ("np.max(x, axis=0)", {"x": np.zeros((0, 3))}, "empty"),
    ("torch.linalg.det(x)", {"x": np.zeros((0, 3))}, "square"),
    ("x.reshape(0, -1)", {"x": np.zeros((0, 3))}, "-1"),
])
def test_refused_where_the_library_raises(text, bindings, words):
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError, match=words):
        api.evaluate(text, bindings)


# --- no internal error at an empty batch of matrices or an empty output ------------------------------------

@pytest.mark.parametrize("text", [
    "torch.linalg.det(x)", "torch.linalg.inv(x)", "torch.linalg.slogdet(x).logabsdet", "torch.linalg.solve(x, x.mT)",
    "torch.linalg.cholesky(x @ x.mT)", "torch.linalg.eigvalsh(x + x.mT)", "torch.linalg.svdvals(x)",
    "torch.linalg.qr(x).R", "torch.linalg.pinv(x)", "torch.linalg.eigh(x + x.mT).eigenvectors.abs()",
])
def test_reports_of_an_empty_batch_of_matrices(text):
    """The conditioning scan took np.max of no matrices: an internal error (exit 70) in every report."""
    torch = pytest.importorskip("torch")
    r = jac("eval", text, "x:0x2x2", "--json")
    assert r.exit_code == 0, r.stdout
    got = json.loads(r.stdout)
    y = tuple(eval(text, {"torch": torch, "x": torch.zeros((0, 2, 2))}).shape)  # noqa: S307 - PyTorch's shape
    assert tuple(got["output"]["shape"]) == y and tuple(got["jacobian"]["x"]["shape"]) == y + (0, 2, 2)
    assert jac("check", text, "x:0x2x2").exit_code == 0
    assert jac("hessian", text, "x:0x2x2", "--json").exit_code == 0


@pytest.mark.parametrize("text, bindings", [
    ("x @ y", ["x:0x2x2", "y:2x2"]),  # y empty, y non-empty: the reverse columns were reshaped by -1
    ("torch.topk(x, 0, dim=-1).values", ["x:1"]),
    ("torch.tensordot(x, y, dims=0)", ["x:0", "y:1"]),
    ("np.einsum('ij,jk->ik', x, y)", ["x:1x1", "y:1x0"]),
])
def test_check_of_an_empty_output_by_a_non_empty_input(text, bindings):
    got = check_json(*[text, *bindings])
    assert got["passed"] is True and got["compared"] == 0 and got["warnings"][-1]["kind"] == "empty"
