"""The commands as a user runs them: human output, --json, --out, --help, the installed command."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli import __version__
from jacobi_cli.cli.app import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_eval_prints_value_jacobian_legend_and_shape_table():
    out = run("eval", "A @ x", "A=[[1, 2], [3, 4], [5, 6]]", "x=[1, 1]")
    assert "y = value: vector, shape (3,)" in out
    assert "[ 3.  7. 11.]" in out
    assert "∂y/∂A: vector by matrix" in out
    assert "J[i, j, k] = ∂y[i] / ∂A[j, k]" in out
    assert "J[0, :, :] =" in out and "J[2, :, :] =" in out  # a 3-d Jacobian as labelled slices
    assert "∂y/∂x: vector by vector" in out and "[[1. 2.]" in out
    assert "Derivative shapes" in out and "(3, 2, 3)" in out


def test_numerator_layout_legend_and_values():
    out = json.loads(run("eval", "sum(X)", "X=[[1, 2, 3], [4, 5, 6]]", "--layout", "numerator", "--json"))
    block = out["jacobian"]["X"]
    assert block["layout"] == "numerator"
    assert block["shape"] == block["math_shape"] == [3, 2]
    assert block["legend"] == "J[j, i] = ∂y / ∂X[i, j]"
    human = run("eval", "sum(X)", "X:2x3", "--layout", "numerator")
    assert "J[j, i] = ∂y / ∂X[i, j]" in human


def test_json_has_exactly_the_contract_keys():
    out = json.loads(run("eval", "x * 2", "x=[1, 2]", "--json"))
    assert set(out) == {"jac_version", "command", "expression", "inputs", "output", "jacobian"}
    assert out["jac_version"] == 1 and out["command"] == "eval" and out["expression"] == "x * 2"
    assert out["inputs"] == {"x": {"shape": [2], "kind": "vector", "requires_grad": True}}
    assert {"shape", "kind", "value"} <= set(out["output"])
    assert {"shape", "math_shape", "layout", "value"} <= set(out["jacobian"]["x"])
    vjp = json.loads(run("vjp", "x * 2", "x=[1, 2]", "--v", "ones", "--json"))
    assert vjp["v"] == {"shape": [2], "value": [1.0, 1.0]} and vjp["vjp"]["x"] == {"shape": [2], "value": [2.0, 2.0]}
    jvp = json.loads(run("jvp", "x * 2", "x=[1, 2]", "--tangent", "x=[1, 0]", "--json"))
    assert jvp["tangent"]["x"]["value"] == [1, 0] and jvp["jvp"] == {"shape": [2], "value": [2.0, 0.0]}
    hes = json.loads(run("hessian", "x @ x", "x=[1, 2]", "--json"))
    assert hes["hessian"]["x,x"]["value"] == [[2, 0], [0, 2]] and hes["hessian"]["x,x"]["shape"] == [2, 2]
    shp = json.loads(run("shape", "A @ x", "A:3x4", "x:4", "--json"))
    assert shp["derivatives"]["A"] == {**shp["derivatives"]["A"], "shape": [3, 3, 4], "math_shape": [3, 4, 3]}
    assert "value" not in shp["output"]


def test_json_non_finite_values_are_strings():
    out = json.loads(run("eval", "log(x)", "x=[0, -1, 1]", "--json"))
    assert out["output"]["value"] == ["-Infinity", "NaN", 0.0]
    assert out["jacobian"]["x"]["value"][0][0] == "Infinity"


def test_hessian_pairs_and_symmetry():
    out = json.loads(run("hessian", "x @ A @ x", "x=[1, 2]", "A=[[1, 2], [3, 4]]", "--json"))
    assert set(out["hessian"]) == {"x,x", "x,A", "A,x", "A,A"}
    assert out["hessian"]["x,x"]["value"] == [[2, 5], [5, 8]]
    assert out["hessian"]["x,A"]["shape"] == [2, 2, 2]


def test_shape_with_symbolic_sizes():
    out = json.loads(run("shape", "x.T @ A @ x", "x:n", "A:nxn", "--json"))
    assert out["output"]["shape"] == []
    assert out["derivatives"]["x"]["shape"] == ["n"] and out["derivatives"]["x"]["math_shape"] == [1, "n"]
    assert out["derivatives"]["A"]["math_shape"] == ["n", "n"]
    out = json.loads(run("shape", "A @ B", "A:mxk", "B:kxn", "--json"))
    assert out["output"]["shape"] == ["m", "n"]
    assert out["derivatives"]["A"]["shape"] == ["m", "n", "m", "k"]


def test_shape_legends_use_no_input_s_size_as_an_index():
    # Q:nxd K:mxd: dy/dQ's legend was J[i, j, l, m] = ∂y[i, j] / ∂Q[l, m], m read as K's size
    out = json.loads(run("shape", "torch.softmax(Q @ K.T, dim=-1) @ V", "Q:nxd", "K:mxd", "V:mxk", "--json"))
    for name in "QKV":
        legend = out["derivatives"][name]["legend"]
        assert not set("nmdk") & set(legend.split("=")[0]), legend


def test_symbolic_sizes_keep_their_case():
    # N and n are two sizes: both were read as n, so W:Nxn was square and x:N + y:n added without a word
    out = json.loads(run("shape", "W @ x", "W:Nxn", "x:n", "--json"))
    assert out["inputs"]["W"]["shape"] == ["N", "n"] and out["output"]["shape"] == ["N"]
    assert out["derivatives"]["W"]["shape"] == ["N", "N", "n"]
    result = runner.invoke(app, ["shape", "x + y", "x:N", "y:n", "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "shape"
    # X is still a separator, as x is: 3X4, NXM
    assert json.loads(run("shape", "A", "A:3X4", "--json"))["inputs"]["A"]["shape"] == [3, 4]
    assert json.loads(run("shape", "A", "A:NXM", "--json"))["inputs"]["A"]["shape"] == ["N", "M"]
    assert json.loads(run("shape", "A", "A:Scalar", "--json"))["inputs"]["A"]["shape"] == []


def test_large_jacobian_prints_a_summary_and_points_to_out(tmp_path):
    out = run("eval", "A @ x", "A:30x30", "x:30", "--wrt", "A")
    assert "27,000 elements" in out and "--out" in out


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".json"])
def test_out_files(tmp_path, suffix):
    path = tmp_path / f"J{suffix}"
    args = ["eval", "x * y", "x=[1, 2]", "y=[3, 4]"] + (["--wrt", "x"] if suffix == ".npy" else [])
    run(*args, "--out", str(path))
    if suffix == ".npy":
        np.testing.assert_array_equal(np.load(path), [[3, 0], [0, 4]])
    elif suffix == ".npz":
        with np.load(path) as data:
            np.testing.assert_array_equal(data["x"], [[3, 0], [0, 4]])
            np.testing.assert_array_equal(data["y"], [[1, 0], [0, 2]])
    else:
        assert json.loads(path.read_text())["y"] == [[1, 0], [0, 2]]


def test_out_npy_with_two_inputs_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["eval", "x * y", "x=1", "y=2", "--out", str(tmp_path / "J.npy"), "--json"])
    assert result.exit_code == 2
    assert ".npz" in json.loads(result.stdout)["error"]["message"]


def test_bindings_from_files(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(3.0))
    (tmp_path / "A.csv").write_text("1,2,3\n4,5,6\n")
    out = json.loads(run("eval", "A @ x", f"x=@{tmp_path / 'x.npy'}", f"A=@{tmp_path / 'A.csv'}", "--json"))
    assert out["output"]["value"] == [8, 17]


def test_float32_and_seed():
    a = json.loads(run("eval", "x * 2", "x:3", "--dtype", "float32", "--json"))
    b = json.loads(run("eval", "x * 2", "x:3", "--dtype", "float32", "--json"))
    c = json.loads(run("eval", "x * 2", "x:3", "--seed", "1", "--json"))
    assert a == b and a["output"]["value"] != c["output"]["value"]


def test_help_and_version():
    assert f"jac {__version__}" in run("--version")
    top = run("--help")
    for command in ("eval", "vjp", "jvp", "hessian", "shape"):
        assert command in top
        assert "Example" in run(command, "--help")


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", "x * 3", "x=2", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["jacobian"]["x"]["value"] == 3


@pytest.mark.skipif(shutil.which("jac") is None and not os.environ.get("CI"), reason="jac is not installed here")
def test_installed_command():
    """The `jac` entry point as the user's shell runs it (installed by `pip install .`)."""
    result = subprocess.run(["jac", "eval", "2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3.0, 1.0, 2.0, 5.0]",
                             "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["output"]["value"] == 40 and out["jacobian"]["x"]["value"] == [6, 2, 4, 10]
    bad = subprocess.run(["jac", "eval", "x +", "x=1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("jac: error (parse)")


def test_a_long_expression_is_echoed_shortened_and_kept_whole_in_json(tmp_path):
    """`jac eval @big.txt` prints the answer, not the file: the echo stops at 200 characters."""
    expr = " + ".join(f"x*{i}" for i in range(2000))
    path = tmp_path / "big.txt"
    path.write_text(expr)
    result = runner.invoke(app, ["eval", f"@{path}", "x=2"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("x*0 + x*1 + ") and first.endswith(f"… ({len(expr):,} characters)")
    assert len(first) < 260 and len(result.output) < 2000
    assert str(2 * sum(range(2000))) in result.output.replace(",", "").replace(".0", "")
    as_json = json.loads(runner.invoke(app, ["eval", f"@{path}", "x=2", "--json"]).output)
    assert as_json["expression"] == expr


@pytest.mark.parametrize("extra", [[], ["--batch", "x"]])
@pytest.mark.parametrize("v", ["ones", "[2, 3]"])
def test_v_named_after_the_lone_output(v, extra):
    # --v OUT=VALUE is how several outputs take v; a script writing it for one output too got
    # "'ones' is a function" for y=ones. The output's own name is read as that form
    x = "x=[[1, 2], [3, 4]]" if extra else "x=[1, 2]"
    value = f"[{v}, {v}]" if extra and v != "ones" else v
    plain = json.loads(run("vjp", "x * 2", x, "--v", value, "--json", *extra))
    named = json.loads(run("vjp", "x * 2", x, "--v", f"y={value}", "--json", *extra))
    assert named == plain
    backward = json.loads(run("graph", "x * 2", "x=[1, 2]", "--backward", "--v", f"y={v}", "--json"))
    assert backward["v"] == json.loads(run("graph", "x * 2", "x=[1, 2]", "--backward", "--v", v, "--json"))["v"]


@pytest.mark.parametrize("args", [["x + ones(100000)", "x:3x1"], ["sum(x)", "x=ones(100000)"]])
def test_shape_takes_max_memory_for_the_arrays_it_makes(args):
    """jac shape computes no values, but its constants and bound values are real arrays: the
    contract's --max-memory (it bounds every command) caps them, checked before allocation."""
    assert runner.invoke(app, ["shape", *args, "--max-memory", "1M"]).exit_code == 0
    result = runner.invoke(app, ["shape", *args, "--max-memory", "100k", "--json"])
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"]["kind"] == "limit"
    assert runner.invoke(app, ["shape", "A @ x", "A:100000x100000", "x:100000", "--max-memory", "1k"]).exit_code == 0


# --- the values drawn for NAME:SHAPE --------------------------------------------------------------

def _drawn_lines(out: str, name: str) -> list:
    """The lines under ``input NAME`` up to the next input line or the blank line after the inputs."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  input  {name}:"))
    rest = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        rest.append(line.strip())
    return [lines[start]] + rest


@pytest.mark.parametrize("command", [("eval",), ("vjp", "--v", "ones"), ("jvp", "--tangent", "x=ones"), ("hessian",),
                                     ("check",), ("graph",), ("derivative", "--order", "2", "--wrt", "x")])
def test_a_drawn_input_is_shown_with_its_values(command):
    # x:3 with --seed 5: the text says where the derivatives are, which nothing else shows
    out = run(command[0], "sum(x * A @ x)", "x:3", "A:2x3", "--seed", "5", *command[1:])
    x, A = (v.astype(np.float64) for v in _seeded(5, (3,), (2, 3)))
    first, *values = _drawn_lines(out, "x")
    assert first.endswith("requires grad, drawn from N(0, 1):")
    assert np.allclose(np.array(values[0].strip("[]").split(), dtype=float), x, atol=1e-6)
    first, *rows = _drawn_lines(out, "A")
    assert first.endswith(", drawn from N(0, 1):") and len(rows) == 2
    assert np.allclose(np.array(" ".join(rows).replace("[", " ").replace("]", " ").split(), dtype=float),
                       A.ravel(), atol=1e-6)


def _seeded(seed: int, *shapes) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def test_given_json_big_and_batched_inputs():
    out = run("eval", "x * y", "x=[1, 2]", "y:2")
    assert "  input  x: vector (2,), requires grad\n" in out  # a given value: the user knows it
    assert "  input  y: vector (2,), requires grad, drawn from N(0, 1):\n" in out
    data = json.loads(run("eval", "x * y", "x=[1, 2]", "y:2", "--json"))
    assert data["inputs"]["y"] == {"shape": [2], "kind": "vector", "requires_grad": True}  # the contract's keys alone
    out = run("eval", "sum(x)", "x:1000")  # over the 400 elements printed: said, not printed
    assert "  input  x: vector (1000,), requires grad, drawn from N(0, 1)\n\n" in out
    out = run("vjp", "x * W", "x:3x2", "W:3", "--batch", "x:1", "--v", "ones")
    x, W = _seeded(0, (3, 2), (3,))  # a batched input whole, as drawn (not one example of it)
    first, *rows = _drawn_lines(out, "x")
    assert first.endswith("batched along axis 1, drawn from N(0, 1) (all 2 examples, shape (3, 2)):")
    assert np.allclose(np.array(" ".join(rows).replace("[", " ").replace("]", " ").split(), dtype=float), x.ravel(),
                       atol=1e-6)
    first, values = _drawn_lines(out, "W")
    assert first.endswith("shared by every example, drawn from N(0, 1):")
    assert np.allclose(np.array(values.strip("[]").split(), dtype=float), W, atol=1e-6)
    out = run("eval", "x * 2", "x:2", "--dtype", "float32")
    (x,) = _seeded(0, (2,))
    values = _drawn_lines(out, "x")[1]
    assert np.allclose(np.array(values.strip("[]").split(), dtype=float), x.astype(np.float32), atol=1e-6)


def test_drawn_names_reads_command_line_bindings_and_bindings_objects():
    from jacobi_cli.lang.bindings import drawn_names, parse_bindings

    assert drawn_names(["x:3", "A=eye(2)", "s:()", "y=@f.npy"]) == ["x", "s"]
    assert drawn_names(parse_bindings(["A=eye(2)", "x:3"])) == ["x"]
    assert drawn_names({"x": np.ones(2)}) == [] and drawn_names(None) == []
