"""jac eval's options from issue 3: --mode, --explain, --sparse, --max-memory, sparse --out."""

import json
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def run(*args):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def run_json(*args):
    return json.loads(run(*args, "--json"))


@pytest.mark.parametrize("expr,bindings", [
    ("sin(x) * x**2 + exp(-x)", ["x:5"]),
    ("tanh(A @ x)", ["A:4x5", "x:5"]),
    ("x @ A @ y", ["A:5x3", "x:5", "y:3"]),
    ("softmax(X, axis=0) * X[0]", ["X:3x4"]),
    ("x[::-1] - x[0]", ["x:6"]),
])
def test_forward_and_reverse_agree(expr, bindings):
    fwd = run_json("eval", expr, *bindings, "--mode", "forward")["jacobian"]
    rev = run_json("eval", expr, *bindings, "--mode", "reverse")["jacobian"]
    auto = run_json("eval", expr, *bindings)["jacobian"]
    for name in fwd:
        np.testing.assert_allclose(fwd[name]["value"], rev[name]["value"], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(auto[name]["value"], rev[name]["value"], rtol=1e-12, atol=1e-14)


def test_human_output_names_the_structure():
    assert "∂y/∂x: vector by vector, diagonal," in run("eval", "x**2", "x=[2, 3]")
    assert "sparse (198 stored entries)" in run("eval", "x[1:] - x[:-1]", "x:100")
    # J[i, j, k] = δ_ij x_k: half of it is structurally zero at n = 2 as at n = 2000
    assert "∂y/∂A: vector by matrix, sparse (4 stored entries)," in run("eval", "A @ x", "A:2x2", "x:2")
    assert "∂y/∂x: vector by vector, dense," in run("eval", "A @ x", "A:2x2", "x:2")
    big = run("eval", "exp(x)", "x=ones(1000)")
    assert "1,000 values on the diagonal, of 1,000,000 elements (the rest is 0): min 2.718281828" in big
    assert "the diagonal (J[i, i], shaped like x)" in run("eval", "exp(x)", "x=ones(30)")


def test_json_structure_and_sparse_coo_round_trip():
    dense = run_json("eval", "x.reshape(2, 3).T * 2", "x:6")["jacobian"]["x"]
    assert dense["structure"] == "sparse" and dense["nnz"] == 6 and "coo" not in dense
    for layout in ("array", "numerator"):
        out = run_json("eval", "x.reshape(2, 3).T * 2", "x:6", "--sparse", "--layout", layout)
        block = out["jacobian"]["x"]
        assert "value" not in block and block["structure"] == "sparse"
        rebuilt = np.zeros(block["shape"])
        rebuilt[tuple(block["coo"]["indices"])] = block["coo"]["values"]
        expect = run_json("eval", "x.reshape(2, 3).T * 2", "x:6", "--layout", layout)["jacobian"]["x"]["value"]
        np.testing.assert_array_equal(rebuilt, expect)
    diag = run_json("eval", "x**2", "x=[2, 3]", "--sparse")["jacobian"]["x"]
    assert diag["structure"] == "diagonal" and diag["coo"] == {"indices": [[0, 1], [0, 1]], "values": [4.0, 6.0]}


def test_sparse_keeps_dense_blocks_dense():
    block = run_json("eval", "A @ x", "A=[[1, 2], [3, 4]]", "x=[1, 1]", "--wrt", "x", "--sparse")["jacobian"]["x"]
    assert block["structure"] == "dense" and block["value"] == [[1.0, 2.0], [3.0, 4.0]]


def test_out_npz_of_a_sparse_jacobian_is_a_scipy_sparse_matrix(tmp_path):
    path = str(tmp_path / "J.npz")
    run("eval", "x[1:] - x[:-1]", "x=arange(10.0)", "--out", path)
    with zipfile.ZipFile(path) as archive:
        # SciPy's members, and the dense array by name as two inputs give (session 39: np.load(path)["x"] always)
        assert sorted(archive.namelist()) == ["col.npy", "data.npy", "format.npy", "row.npy", "shape.npy", "x.npy"]
    saved = np.load(path)
    np.testing.assert_array_equal(saved["x"], np.eye(9, 10, 1) - np.eye(9, 10))
    assert saved["format"].item() == b"coo" and saved["shape"].tolist() == [9, 10]
    dense = np.zeros((9, 10))
    dense[saved["row"], saved["col"]] = saved["data"]
    np.testing.assert_array_equal(dense, np.eye(9, 10, 1) - np.eye(9, 10))
    sparse = pytest.importorskip("scipy.sparse")
    np.testing.assert_array_equal(sparse.load_npz(path).toarray(), dense)


def test_out_npz_of_several_inputs_stays_one_dense_array_each(tmp_path):
    path = str(tmp_path / "J.npz")
    run("eval", "x * y", "x=[1, 2]", "y=[3, 4]", "--out", path)
    saved = np.load(path)
    assert sorted(saved.files) == ["x", "y"]
    np.testing.assert_array_equal(saved["x"], np.diag([3.0, 4.0]))


def test_explain_prints_the_plan_before_the_result():
    out = run("eval", "tanh(A @ x)", "A:3x3", "x:3", "--wrt", "x", "--explain")
    plan, _, rest = out.partition("tanh(A @ x)\n")
    assert plan.startswith("plan (--mode auto): output (3,)")
    assert "x (3,): reverse mode, 1 pass of 3 basis vectors; structure dense" in plan
    assert "why: the output (3) is as large as the input (3)" in plan
    assert "predicted peak memory" in plan and "budget" in plan
    assert "∂y/∂x" in rest
    forced = run("eval", "x**2", "x:3", "--explain", "--mode", "forward")
    assert "x (3,): forward mode" in forced and "why: --mode forward" in forced


def test_explain_with_json_adds_the_plan():
    out = run_json("eval", "sin(x)", "x:4", "--explain", "--max-memory", "1G")
    plan = out["plan"]
    assert plan["mode"] == "auto" and plan["budget_bytes"] == 2**30 and plan["refused"] is None
    assert plan["inputs"]["x"]["structure"] == "diagonal" and plan["inputs"]["x"]["passes"] == 1
    assert plan["peak_bytes"] >= plan["values_bytes"] + plan["result_bytes"]


def test_a_small_budget_chunks_the_passes():
    # two layers: a pass holds more than the Jacobian it fills (since session 39 a chunked plan counts that
    # Jacobian beside each chunk, so tanh(A @ x)'s one pass, about the Jacobian's own bytes, is never chunked)
    # (24k since session 57, which counts each pass's Python objects and the NaN-path room: 20k leaves too little for
    # one basis vector and is refused)
    whole = run_json("eval", "tanh(A @ tanh(A @ x))", "A:30x30", "x:30", "--wrt", "x")["jacobian"]["x"]["value"]
    out = run_json("eval", "tanh(A @ tanh(A @ x))", "A:30x30", "x:30", "--wrt", "x", "--max-memory", "24k",
                   "--explain")
    assert out["plan"]["inputs"]["x"]["passes"] > 1 and out["plan"]["notes"]
    np.testing.assert_allclose(out["jacobian"]["x"]["value"], whole, rtol=1e-14)


def test_a_jacobian_over_the_budget_is_refused_with_its_size():
    result = invoke("eval", "sum(x) * x", "x=ones(1000000)", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "limit" and "8,000,000,000,000 bytes (7.3 TiB)" in error["message"]
    assert "jac: error (limit)" in result.stderr and "Traceback" not in result.output
    explained = invoke("eval", "sum(x) * x", "x=ones(1000000)", "--explain")
    assert explained.exit_code == 2 and "refused: it does not fit the budget" in explained.stdout


def test_a_pass_of_one_basis_vector_over_the_budget_is_refused_not_a_crash():
    # a scalar output: its reverse pass has one basis vector, so there is nothing to chunk
    result = invoke("eval", "sum(exp(x) * x)", "x:100000", "--json", "--max-memory", "3.2M")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "limit" and "even one basis vector per pass" in error["message"]
    assert "for x in reverse mode" in error["message"] and "Traceback" not in result.output


def test_a_structured_jacobian_too_big_to_print_dense_in_json_is_refused_unless_sparse():
    result = invoke("eval", "exp(x)", "x=ones(20000)", "--json", "--max-memory", "1G")
    assert result.exit_code == 2 and "--sparse" in json.loads(result.stdout)["error"]["message"]
    out = run_json("eval", "exp(x)", "x=ones(20000)", "--sparse", "--max-memory", "1G")
    assert out["jacobian"]["x"]["nnz"] == 20000


@pytest.mark.parametrize("args,word", [(["--mode", "sideways"], "--mode"), (["--max-memory", "lots"], "--max-memory")])
def test_bad_mode_and_budget_are_usage_errors(args, word):
    result = invoke("eval", "x", "x=1", *args, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and word in error["message"]


def test_a_closed_pipe_ends_quietly():
    import shutil
    import subprocess

    jac = shutil.which("jac") or pytest.skip("the jac command is not installed")
    proc = subprocess.Popen([jac, "eval", "x * 2", "x=ones(200000)", "--json", "--sparse"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()  # as `jac ... | head -c 10` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 141) and "Traceback" not in err, err


@pytest.mark.parametrize("args, name, said", [
    (["eval", "x**2", "x=[1, 2, 3]", "--out"], "J.npy", "the Jacobian by x, shape (3, 3), array layout"),
    (["eval", "x**2", "x=[1, 2, 3]", "--layout", "numerator", "--out"], "J.json",
     "the Jacobian by x, shape (3, 3), numerator layout"),
    (["eval", "x**2", "x=[1, 2, 3]", "--out"], "J.npz",
     "the Jacobian by x as a SciPy sparse matrix of dvec(y)/dvec(x), shape (3, 3), 3 stored entries, and as the "
     "array x, shape (3, 3), array layout"),
    (["eval", "x * y", "x=[1, 2]", "y=3", "--out"], "J.npz",
     "2 Jacobians, by key: x (2, 2), y (2,); array layout"),
    (["eval", "a = x * 2; b = sum(x); a, b", "x=[1, 2]", "--out"], "J.npz",
     "2 Jacobians, by key: a,x (2, 2), b,x (2,); array layout"),
    (["graph", "sin(x)", "x=1", "--dot", "--out"], "g.dot", "the graph in Graphviz DOT"),
])
def test_a_file_written_by_out_is_said_on_stderr_and_json_keeps_stdout(tmp_path, args, name, said):
    """--out wrote its file without a word (--plot says it): now one line on standard error, which
    keeps --json's standard output to its one object."""
    path = str(tmp_path / name)
    result = invoke(*args, path)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {path}: {said}\n"
    if args[0] == "eval":
        result = invoke(*args, path, "--json")
        assert json.loads(result.stdout)["command"] == "eval" and result.stderr == f"wrote {path}: {said}\n"
