"""jac plot and jac eval --plot: real files, read back and checked; and life without matplotlib."""

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools.plot import CURVE_COLOR, TANGENT_COLOR, tangent_equation

runner = CliRunner()


def jac(*args):
    return runner.invoke(app, [str(a) for a in args])


def _columns_with(path, color: str, tol: float = 0.08) -> int:
    """How many pixel columns of the PNG hold ``color`` (#rrggbb)."""
    image = pytest.importorskip("matplotlib.image").imread(str(path))[..., :3]
    rgb = np.array([int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    hits = np.all(np.abs(image - rgb) < tol, axis=-1)
    return int(hits.any(axis=0).sum())


@pytest.fixture
def needs_matplotlib():
    pytest.importorskip("matplotlib")


def test_tangent_equation_reads_like_algebra():
    assert tangent_equation(2.0, -3.0) == "y = 2x - 3"
    assert tangent_equation(1.0, 0.0, "t") == "y = t"
    assert tangent_equation(-0.5, 2.0) == "y = -0.5x + 2"
    assert tangent_equation(0.0, 4.0) == "y = 4"


def test_tangent_line_of_the_seed_example(tmp_path, needs_matplotlib):
    path = tmp_path / "tangent.png"
    result = jac("plot", "3*x**2 - 4*x", "x=1", "--out", path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["tangent"] == {"slope": 2.0, "intercept": -3.0}
    assert out["point"] == {"name": "x", "x": 1.0, "y": -1.0} and out["range"] == [-1.0, 3.0]
    assert path.stat().st_size > 10_000
    image = pytest.importorskip("matplotlib.image").imread(str(path))
    assert image.shape[0] > 300 and image.shape[1] > 500
    assert _columns_with(path, CURVE_COLOR) > 300  # the parabola runs across the plot
    assert _columns_with(path, TANGENT_COLOR) > 100  # and so does its dashed tangent


def test_human_output_names_the_tangent(tmp_path, needs_matplotlib):
    result = jac("plot", "3*x**2 - 4*x", "x=1", "--out", tmp_path / "t.png")
    assert result.exit_code == 0
    assert "y = 2x - 3" in result.stdout and "slope dy/dx = 2" in result.stdout


def test_svg_and_a_range_with_constants(tmp_path, needs_matplotlib):
    path = tmp_path / "sin.svg"
    result = jac("plot", "sin(x)", "x=0.5", "--range=-pi:pi", "--out", path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["range"] == pytest.approx([-np.pi, np.pi])
    assert out["tangent"]["slope"] == pytest.approx(np.cos(0.5))
    text = path.read_text()
    assert "<svg" in text and len(text) > 10_000


def test_jacobian_heatmap_has_both_signs_and_the_zeros(tmp_path, needs_matplotlib):
    path = tmp_path / "jac.png"
    result = jac("eval", "A @ x", "A=[[1, 0, -2], [0, 3, 0]]", "x=[1, 2, 3]", "--plot", path)
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 10_000
    red, blue = "#b2182b", "#2166ac"  # the ends of RdBu_r: the largest +|J| and -|J|
    assert _columns_with(path, red, 0.15) > 10 and _columns_with(path, blue, 0.15) > 10
    assert _columns_with(path, "#000000", 0.02) > 100  # the sparsity panels' nonzeros


@pytest.mark.parametrize("args,kind", [
    (["x", "x=[1, 2]", "--out", "p.png"], "shape"),
    (["x * y", "x=1", "y=2", "--out", "p.png"], "usage"),
    (["x", "x=1", "--out", "p.pdf"], "usage"),
    (["x", "x=1", "--out", "p.png", "--range", "3:1"], "usage"),
    (["x", "x=1", "--out", "p.png", "--range", "a:b"], "usage"),
])
def test_bad_input_exits_2(args, kind, tmp_path, monkeypatch, needs_matplotlib):
    monkeypatch.chdir(tmp_path)
    result = jac("plot", *args, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == kind
    assert not (tmp_path / "p.png").exists()


def test_unwritable_file_is_an_io_error(tmp_path, needs_matplotlib):
    result = jac("plot", "x**2", "x=1", "--out", tmp_path / "no" / "such" / "dir.png", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "io"


@pytest.mark.parametrize("command", [["plot", "x**2", "x=1", "--out"], ["eval", "x**2", "x=[1, 2]", "--plot"]])
def test_without_matplotlib_says_how_to_get_it(command, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    path = tmp_path / "p.png"
    result = jac(*command, path, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and "pip install 'jacobi-cli[plot]'" in error["message"]
    assert "pip install 'jacobi-cli[plot]'" in result.stderr
    assert not path.exists()


def test_max_memory_bounds_the_values(tmp_path, needs_matplotlib):
    # the contract's --max-memory bounds every command: jac plot's values (here 800 kB of constant
    # summed at every point) are refused before they are computed, with the old picture kept
    args = ["plot", "x * sum(ones(100000))", "x=1", "--out", tmp_path / "p.png"]
    assert jac(*args, "--max-memory", "10M").exit_code == 0
    before = (tmp_path / "p.png").read_bytes()
    result = jac(*args, "--max-memory", "500k", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "limit"
    assert (tmp_path / "p.png").read_bytes() == before


def test_a_vector_point_is_named_as_the_input_with_the_batch_that_draws_it(tmp_path, monkeypatch):
    # tanh(x) at x=[0.5, 1] said "needs a scalar output ... reduce it first, e.g. sum(...)": summing is not what was
    # meant, and tanh(x).sum() then failed on the input; the input is what is not scalar, and --batch draws both
    monkeypatch.chdir(tmp_path)
    result = jac("plot", "torch.tanh(x)", "x=[0.5, 1]", "--out", "p.png", "--json")
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert "needs a scalar input, but 'x' has shape (2,)" in message and "--batch x" in message
