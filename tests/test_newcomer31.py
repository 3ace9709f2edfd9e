"""Session 31: jac as a newcomer and as an attacker meets it, from the shell and from the API.

Each case here failed before the session's fixes: a message that named an internal class or gave
Python's own advice, a binding's function silently called, an input name refused with a wrong reason,
a pipe behind /dev/stdout called "no such file", and arrays given to the library that were silently
rounded (integers past 2**53), raised a library's own exception (a PyTorch tensor that requires grad,
bfloat16, a ragged list) or were read with their masked numbers (a NumPy masked array).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.cli import entry
from jacobi_cli.errors import JacIOError, JacUsageError, JacValueError
from jacobi_cli.lang import fileio

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, args) -> tuple:
    """``(exit code, stdout, stderr)`` of ``jac ARGS`` in this process."""
    code = entry.main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, out, err


def refused(capsys, args, kind: str, *words) -> dict:
    """The JSON error of ``jac ARGS --json``: exit 2, one message on stderr, holding ``words``."""
    code, out, err = run(capsys, [*args, "--json"])
    assert code == 2, (code, err)
    assert err.count("jac: error") == 1, err
    error = json.loads(out)["error"]
    assert error["kind"] == kind, error
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error


# --- '*' unpacking in the last statement's tuple: refused at the star, not "a Tracer is not a number" --------

@pytest.mark.parametrize("command", ["eval", "hessian", "graph", "check", "shape"])
@pytest.mark.parametrize("expr, at", [("*x,", 0), ("a = x * 2; a, *x", 14), ("(*x, 1.0)", 1)])
def test_a_starred_output_is_refused_where_it_is_written(capsys, command, expr, at):
    error = refused(capsys, [command, expr, "x=[1.0, 3.0]"], "value", "'*' unpacking", "x[0], x[1]")
    assert error["position"] == at
    assert "Tracer" not in error["message"]


def test_a_starred_output_is_refused_by_jac_diff_too(capsys):
    error = refused(capsys, ["diff", "a = x * 2; a, *x", "x:2"], "value", "'*' unpacking")
    assert error["position"] == 14


def test_starred_elements_inside_the_expression_still_read_as_python_reads_them():
    assert jacobi_cli.evaluate("t = (*x, 1.0); stack(t)", {"x": [1.0, 3.0]}).tolist() == [1.0, 3.0, 1.0]
    assert float(jacobi_cli.evaluate("max(*x)", {"x": [1.0, 3.0, 2.0]})) == 3.0
    assert jacobi_cli.jacobian("sum([*x])", {"x": [1.0, 2.0]})["x"].tolist() == [1.0, 1.0]


# --- an integer literal past Python's 4,300 digits: a limit error at the literal -----------------------------

def test_an_integer_of_too_many_digits_is_a_limit_error_pointing_at_it(capsys):
    digits = "9" * 5000
    error = refused(capsys, ["eval", f"x * {digits}", "x=1"], "limit", "5,000 digits", "4,300")
    assert error["position"] == 4
    assert "set_int_max_str_digits" not in error["message"]
    error = refused(capsys, ["eval", "x", f"x=[1, {digits}]"], "limit", "in the value of 'x'", "5,000 digits")
    assert "set_int_max_str_digits" not in error["message"]


# --- a binding's value is an array: a function there is refused, as np.sin is, not called ------------------

@pytest.mark.parametrize("value", ["lambda: 1", "def f():\n    return 2\nf"])
def test_a_function_as_a_bindings_value_is_refused(capsys, value):
    refused(capsys, ["eval", "x", f"x={value}"], "value", "in the value of 'x'", "is the function", "not an array")


def test_a_function_as_the_cotangent_is_refused(capsys):
    refused(capsys, ["vjp", "x * 2", "x=[1, 2]", "--v", "lambda: [1, 1]"], "value", "in --v", "is the function")


def test_a_function_called_in_a_bindings_value_still_gives_its_result():
    assert float(jacobi_cli.evaluate("x", {"x": "def f():\n    return 2\nf()"})) == 2.0


# --- an input name jac does not bind: the reason given is the true one ---------------------------------------

@pytest.mark.parametrize("binding", ["λ=2", "1x=2", "x-y=2"])
def test_an_input_name_outside_ascii_identifiers_is_refused_saying_ascii(capsys, binding):
    refused(capsys, ["eval", "x", binding], "name", "not a valid input name", "ASCII letters")


# --- an output option onto a pipe through /proc: "not a regular file", not "no such file" --------------------

def test_an_output_path_that_is_a_pipe_behind_a_proc_link_is_not_a_regular_file():
    read, write = os.pipe()
    try:
        with pytest.raises(JacIOError, match="not a regular file"):
            fileio.check_output(f"/proc/self/fd/{write}", "--junit")
    finally:
        os.close(read)
        os.close(write)


def test_junit_to_dev_stdout_onto_a_pipe_is_refused_before_any_case_runs(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "a"\nexpr = "x * 2"\nbindings = { x = [1.0] }\nvalue = [2]\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "jacobi_cli", "run", str(suite), "--junit", "/dev/stdout"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("jac: error") == 1 and "not a regular file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "PASS" not in done.stdout


# --- arrays given to the library: refused as the command line refuses them, or read as the library holds them ----

BIG = 2**53 + 1


@pytest.mark.parametrize("value", [np.array([BIG, 1]), BIG, [BIG], np.array([[1], [BIG]], dtype=np.uint64)])
def test_an_integer_float64_cannot_hold_is_refused_by_the_api_never_rounded(value):
    with pytest.raises(JacValueError, match="cannot hold exactly"):
        jacobi_cli.evaluate("x", {"x": value})
    with pytest.raises(JacValueError, match="cannot hold exactly"):
        jacobi_cli.jacobian("x * 2", {"x": value})


def test_an_integer_float32_cannot_hold_is_refused_and_one_it_holds_is_read():
    with pytest.raises(JacValueError, match="float32 cannot hold exactly"):
        jacobi_cli.evaluate("x", {"x": np.array([2**24 + 1])}, dtype="float32")
    assert jacobi_cli.evaluate("x", {"x": np.array([2**24, 2**62])}, dtype="float32").tolist() == [2.0**24, 2.0**62]
    assert jacobi_cli.evaluate("x", {"x": np.array([2**62], dtype=np.int64)}).tolist() == [2.0**62]


def test_a_compiled_function_refuses_an_integer_it_would_round():
    f = jacobi_cli.compile("x * 2", {"x": ":2"})
    with pytest.raises(JacValueError, match="the input 'x', element 0 .*cannot hold exactly"):
        f.value({"x": np.array([BIG, 1])})
    assert f.value({"x": np.array([3, 4])}).tolist() == [6.0, 8.0]


def test_a_tensor_that_requires_grad_is_read_as_its_values():
    torch = pytest.importorskip("torch")
    leaf = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    (leaf * leaf).sum().backward()
    got = jacobi_cli.jacobian("sum(x * x)", {"x": leaf})["x"]
    assert got.tolist() == leaf.grad.tolist()
    f = jacobi_cli.compile("x * x", {"x": ":2"})
    assert f.value({"x": leaf}).tolist() == [2.25, 4.0]


def test_a_bfloat16_tensor_is_read_exactly():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.5, 3.140625], dtype=torch.bfloat16)
    assert jacobi_cli.evaluate("x * 2", {"x": t}).tolist() == [3.0, 6.28125]
    assert jacobi_cli.compile("x * 2", {"x": ":2"}).value({"x": t}).tolist() == [3.0, 6.28125]


def test_a_masked_array_with_masked_elements_is_refused_and_one_without_is_read():
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(JacValueError, match="masked array with 1 masked element"):
        jacobi_cli.evaluate("x * 2", {"x": masked})
    with pytest.raises(JacValueError, match="masked array"):
        jacobi_cli.compile("x * 2", {"x": ":2"}).value({"x": masked})
    clear = np.ma.masked_array([1.0, 2.0], mask=[False, False])
    assert jacobi_cli.evaluate("x * 2", {"x": clear}).tolist() == [2.0, 4.0]


def test_a_ragged_list_is_a_value_error_naming_the_input():
    with pytest.raises(JacValueError, match="'x': the nested lists are not rectangular"):
        jacobi_cli.jacobian("x", {"x": [1, [2]]})


@pytest.mark.parametrize("expr", [None, 3, b"x"])
@pytest.mark.parametrize("call", ["evaluate", "jacobian", "hessian", "compile", "diff"])
def test_an_expression_that_is_not_a_string_is_a_usage_error(expr, call):
    with pytest.raises(JacUsageError, match="the expression must be a string"):
        getattr(jacobi_cli, call)(expr, {"x": 1.0})


# --- with --batch the printed arrays carry the example first, and the index legend says so --------------------

@pytest.mark.parametrize("command, words", [
    (["eval", "softmax(x)", "x=[[1, 2, 3], [0, 0, 0]]"], "J[i, j] = ∂y[i] / ∂x[j]; below, the first index is the example"),
    (["hessian", "sum(x**3)", "x=[[1, 2], [3, 4]]"], "H[i, j] = ∂²y / ∂x[i] ∂x[j]; below, the first index is the example"),
    (["derivative", "x**3", "x=[[1, 2], [3, 4]]", "--order", "2"], "; below, the first index is the example"),
])
def test_a_batched_blocks_legend_says_the_first_printed_index_is_the_example(capsys, command, words):
    code, out, _ = run(capsys, [*command, "--batch", "x"])
    assert code == 0 and words in out, out
    assert "J[0, :, :] =" in out or "H[0, :, :] =" in out or "D[0, 0, :, :] =" in out


def test_an_unbatched_legend_and_jac_diffs_formulas_have_no_such_note(capsys):
    _, out, _ = run(capsys, ["eval", "softmax(x)", "x=[1, 2, 3]"])
    assert "J[i, j] = ∂y[i] / ∂x[j]\n" in out and "the example" not in out
    _, out, _ = run(capsys, ["diff", "x * y", "x:3", "y:3", "--batch", "x"])
    assert "J[i] = ∂z[i] / ∂x\n" in out and "first index is the example" not in out


# --- '@FILE' where no file is read: said so, not "invalid syntax" or "cannot read ''" --------------------------

def test_a_suites_expr_naming_a_file_says_the_file_is_read_on_the_command_line_only(tmp_path, capsys):
    (tmp_path / "model.py").write_text("x * 2")
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "a"\nexpr = "@model.py"\nbindings = { x = 1 }\nvalue = 2\n')
    refused(capsys, ["run", str(suite)], "parse", "'@FILE' reads the expression from a file on the command line only")


def test_the_api_given_an_at_file_says_the_text_is_the_expression(tmp_path):
    with pytest.raises(jacobi_cli.errors.JacParseError, match="on the command line only"):
        jacobi_cli.evaluate("@model.py", {"x": 1.0})
    assert jacobi_cli.evaluate("x @ y", {"x": [1.0, 2.0], "y": [3.0, 4.0]}) == 11.0


@pytest.mark.parametrize("expr", ["@", "@ "])
def test_an_at_sign_without_a_file_name_asks_for_one(capsys, expr):
    refused(capsys, ["eval", expr, "x=1"], "io", "give its name after it")


# --- what a newcomer types from a web page or by analogy: the fix is in the message ---------------------------

@pytest.mark.parametrize("typed, fixed", [("\u2014json", "--json"), ("\u2013-json", "--json"), ("\u2013json", "--json")])
@pytest.mark.parametrize("command", ["eval", "vjp", "graph"])
def test_an_option_with_a_typeset_dash_says_to_write_two_hyphens(capsys, command, typed, fixed):
    refused(capsys, [command, "x", "x=1", typed], "usage", "typeset dash", f"write {fixed}")


@pytest.mark.parametrize("wrt", ["x,y", "x y"])
def test_wrt_given_a_list_of_names_says_it_is_repeated(capsys, wrt):
    refused(capsys, ["eval", "x * y", "x=1", "y=2", "--wrt", wrt], "name", "--wrt x --wrt y")


def test_wrt_of_an_unknown_name_gives_no_such_hint(capsys):
    error = refused(capsys, ["eval", "x * y", "x=1", "y=2", "--wrt", "x,z"], "name", "no input named 'x,z'")
    assert "repeated" not in error["message"]
