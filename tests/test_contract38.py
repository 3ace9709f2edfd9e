"""Session 38: ../shared/CONTRACT.md clause by clause from the shell (benchmarks/contract38_probe.py).

The deviation fixed: `jac diff` printed the derivative plain only (LaTeX with --latex) where the contract's command
table says "the symbolic derivative (SymPy), plain and LaTeX". The rest pins the probe's clauses most likely to
regress: exit codes and the error object under --json, the closed pipe's one exit code, files never lost."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jacobi_cli.cli import entry

ROOT = Path(__file__).resolve().parent.parent


def jac(capsys, *args):
    code = entry.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def error_of(capsys, *args):
    code, out, err = jac(capsys, *args, "--json")
    assert code == 2 and "Traceback" not in err and err.strip()
    e = json.loads(out)["error"]
    assert set(e) >= {"kind", "message", "position"}
    return e


# ---- the fix: plain and LaTeX
def test_diff_prints_the_derivative_plain_and_as_latex(capsys):
    code, out, _ = jac(capsys, "diff", "sin(x) * x", "--wrt", "x")
    lines = out.splitlines()
    assert code == 0
    i = lines.index("  x⋅cos(x) + sin(x)")
    assert lines[i + 1] == r"  LaTeX: x \cos{\left(x \right)} + \sin{\left(x \right)}"


def test_diff_latex_flag_prints_the_latex_alone(capsys):
    code, out, _ = jac(capsys, "diff", "sin(x) * x", "--wrt", "x", "--latex")
    assert code == 0 and r"  x \cos{\left(x \right)} + \sin{\left(x \right)}" in out.splitlines()
    assert "LaTeX:" not in out and "⋅" not in out


def test_diff_latex_line_matches_the_json_latex_for_a_matrix_expression(capsys):
    _, out, _ = jac(capsys, "diff", "x.T @ A @ x", "--wrt", "x", "x:n", "A:nxn")
    _, js, _ = jac(capsys, "diff", "x.T @ A @ x", "--wrt", "x", "x:n", "A:nxn", "--json")
    latex = json.loads(js)["derivative"]["x"]["latex"]
    assert f"  LaTeX: {latex}" in out.splitlines() and latex == "A x + A^{T} x"


def test_diff_of_several_outputs_gives_each_derivative_its_latex(capsys):
    _, out, _ = jac(capsys, "diff", "a = sin(x); b = x**3; a, b", "--wrt", "x")
    assert r"  LaTeX: \cos{\left(x \right)}" in out.splitlines() and "  LaTeX: 3 x^{2}" in out.splitlines()


def test_a_jacobian_listed_entry_by_entry_has_no_latex_line(capsys):
    _, out, _ = jac(capsys, "diff", "sin(x) * x[0]", "--wrt", "x", "x:40")
    assert "1,600 entries, 79 nonzero" in out and "LaTeX:" not in out


# ---- clauses most likely to regress
@pytest.mark.parametrize("command,extra", [("eval", []), ("vjp", ["--v", "ones"]), ("jvp", ["--tangent", "x=ones"]),
                                           ("hessian", []), ("derivative", ["--order", "2"]), ("check", []),
                                           ("graph", []), ("shape", []), ("diff", ["--wrt", "x"])])
def test_every_command_gives_the_error_object_and_exit_2_on_a_parse_error(capsys, command, extra):
    e = error_of(capsys, command, "x +", "x=[1.0, 2.0]" if command != "shape" else "x:2", *extra)
    assert e["kind"] == "parse" and e["position"] == 3


def test_vjp_without_v_names_the_shape_and_the_option(capsys):
    e = error_of(capsys, "vjp", "x**2", "x=[2,3]")
    assert e["kind"] == "value" and "(2,)" in e["message"] and "--v" in e["message"]
    assert "grad can be implicitly created only for scalar outputs" in e["message"]


def test_check_exits_1_only_on_a_mismatch_and_2_on_bad_input(capsys):
    assert jac(capsys, "check", "relu(x)", "x=0")[0] == 1
    assert jac(capsys, "check", "relu(x)", "x=0", "--json")[0] == 1
    assert error_of(capsys, "check", "x", "x=1", "--rtol", "abc")["kind"] == "usage"


def test_an_expression_that_begins_with_a_minus_is_an_expression(capsys):
    code, out, _ = jac(capsys, "eval", "--json", "-(a + b)", "a=1", "b=2")
    assert code == 0 and json.loads(out)["output"]["value"] == -3


def test_options_given_twice_are_refused_naming_the_option(capsys):
    e = error_of(capsys, "eval", "x", "x=1", "--dtype", "float32", "--dtype", "float64")
    assert e["kind"] == "usage" and "--dtype is given twice" in e["message"]


def test_out_onto_the_file_an_input_is_read_from_is_refused_and_the_file_kept(capsys, tmp_path):
    p = tmp_path / "x.npy"
    np.save(p, np.array([1.0, 2.0]))
    e = error_of(capsys, "eval", "x**2", f"x=@{p}", "--out", p)
    assert e["kind"] == "usage" and np.array_equal(np.load(p), [1.0, 2.0])


def test_a_failed_out_leaves_the_old_file_and_no_temporary(capsys, tmp_path):
    p = tmp_path / "j.npz"
    p.write_bytes(b"OLD")
    error_of(capsys, "eval", "log(x)", "x=[-1, 2]", "--strict", "--out", p)
    assert p.read_bytes() == b"OLD" and os.listdir(tmp_path) == ["j.npz"]


def test_nan_and_infinities_are_strings_in_json(capsys):
    _, out, _ = jac(capsys, "eval", "log(x)", "x=[0, -1, 1]", "--json")
    assert json.loads(out)["output"]["value"] == ["-Infinity", "NaN", 0.0]


def test_batch_per_example_blocks_match_torch_func(capsys):
    torch = pytest.importorskip("torch")
    from torch.func import jacrev, vmap

    _, out, _ = jac(capsys, "eval", "sin(x) * w", "x=[[1,2,3],[4,5,6]]", "w=[1,2]", "--batch", "x:1", "--json")
    d = json.loads(out)
    X, w = torch.tensor([[1., 2, 3], [4, 5, 6]], dtype=torch.float64), torch.tensor([1., 2], dtype=torch.float64)
    jx, jw = vmap(jacrev(lambda x, w: torch.sin(x) * w, argnums=(0, 1)), in_dims=(1, None))(X, w)
    assert d["batch"] == {"size": 3, "inputs": {"x": 1}}
    assert np.allclose(d["jacobian"]["x"]["value"], jx.numpy()) and np.allclose(d["jacobian"]["w"]["value"], jw.numpy())


def test_the_math_shape_table_cell_matrix_by_matrix(capsys):
    _, out, _ = jac(capsys, "shape", "sum(x) * W", "x:2x3", "W:4x5", "--wrt", "x", "--json")
    assert json.loads(out)["derivatives"]["x"]["math_shape"] == [4, 5, 3, 2]


def test_a_closed_output_pipe_gives_141_quietly_in_a_subprocess():
    """The installed path (a fresh interpreter), with the reader closed before jac writes a byte."""
    codes = set()
    for args in (["eval", "x", "x=1"], ["diff", "sin(x)", "--wrt", "x"], ["shape", "x", "x:2"]):
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([sys.executable, "-m", "jacobi_cli", *args], stdout=w, stderr=subprocess.PIPE,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120, cwd=ROOT)
        finally:
            os.close(w)
        assert p.stderr == b""
        codes.add(p.returncode)
    assert codes == {141}
