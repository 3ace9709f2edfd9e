"""Session 35 (h35-newcomer): what a newcomer following README.md and docs/ tripped on, each fixed and checked here
against PyTorch (skipped without it), NumPy or central differences. The table of what was tried is in
benchmarks/RESULTS.md ("a newcomer's hour, after this session's changes")."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.tools import api


def run(*args: str) -> tuple:
    """(exit code, stdout, stderr) of ``jac ARGS`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(list(args))
    return code, out.getvalue(), err.getvalue()


def one_error(*args: str) -> str:
    """The one message of a refused ``jac ARGS`` (exit 2, no traceback)."""
    code, _, err = run(*args)
    assert code == 2 and err.count("jac: error") == 1 and "Traceback" not in err, (code, err)
    return err


# -- the autograd tutorial's while loop: a tensor the text makes, a loop reading its values --------------------------

TUTORIAL_WHILE = """import torch
x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
"""


def test_the_tutorials_while_loop_on_a_tensor_the_text_makes_doubles_until_the_norm_passes_1000():
    """It was an internal error (KeyError 'x'): the values a by_value graph was built at left out the inputs the
    text makes, and bind compared every input with them."""
    code, out, err = run("vjp", TUTORIAL_WHILE, "--json")
    assert code == 0, err
    report = json.loads(out)
    y, grad, v = (np.array(a) for a in (report["output"]["value"], report["vjp"]["x"]["value"], [0.1, 1.0, 0.0001]))
    factor = grad / v  # x.grad = v * 2**k, k the doublings, and y = 2**k * x
    assert np.allclose(factor, factor[0]) and np.log2(factor[0]) == round(np.log2(factor[0]))
    assert np.linalg.norm(y) >= 1000 > np.linalg.norm(y) / 2
    # and (session 39) v's dtype=torch.float: 0.1 is no float32, which jac holds in --dtype float64
    assert [w["kind"] for w in report["warnings"]] == ["by_value", "dtype"]
    code, out, _ = run("eval", TUTORIAL_WHILE, "--json")
    assert code == 0 and np.allclose(np.diag(json.loads(out)["jacobian"]["x"]["value"]), factor)


@pytest.mark.parametrize("start", [[0.5, -1.0, 2.0], [30.0, 40.0, 0.0]])
def test_the_tutorials_while_loop_with_the_tensor_written_out_against_pytorch(start):
    torch = pytest.importorskip("torch")
    text = TUTORIAL_WHILE.replace("torch.randn(3, requires_grad=True)", f"torch.tensor({start}, requires_grad=True)")
    code, out, err = run("vjp", text, "--json")
    assert code == 0, err
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    y.backward(torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float64))
    report = json.loads(out)
    np.testing.assert_allclose(report["vjp"]["x"]["value"], x.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(report["output"]["value"], y.detach().numpy(), rtol=1e-15)


def test_a_by_value_graph_of_a_made_input_through_the_api():
    text = "x = torch.tensor([3.0, 4.0], requires_grad=True)\ny = x\nwhile y.sum() < 50:\n    y = y * 3\ny.sum()"
    np.testing.assert_allclose(api.jacobian(text, {})["x"], [9.0, 9.0])


# -- words on the command line that are no binding ---------------------------------------------------------------------

def test_a_file_name_the_shell_put_for_an_unquoted_star_says_to_quote_the_expression(tmp_path, monkeypatch):
    """``jac eval 2 * x x=3`` in a folder holding files: the shell replaces * by their names."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("")
    err = one_error("eval", "2", "notes.txt", "x", "x=3")
    assert "'notes.txt' is not a binding" in err and "quote the expression" in err


def test_the_expression_written_after_a_binding_says_the_expression_comes_first():
    assert "the expression comes first" in one_error("eval", "x=2", "x**2")  # main's own message (h35-contract)
    err = one_error("eval", "x", "y=2", "x**2")  # after a first word that is an expression: the bindings' message
    assert "'x**2' is not a binding" in err and "the expression comes first" in err


def test_a_word_that_is_neither_keeps_the_plain_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = one_error("eval", "x", "x=1", "%%")
    assert "'%%' is not a binding: write NAME=VALUE, NAME=@FILE or NAME:SHAPE\n" in err


def test_a_name_alone_says_how_to_bind_it_and_what_jac_diff_reads(tmp_path, monkeypatch):
    """``jac diff "sin(x)" x``, as sympy.diff(f, x) is written (session 51)."""
    monkeypatch.chdir(tmp_path)
    err = one_error("diff", "sin(x) * x**2", "x")
    assert "'x' is not a binding: write NAME=VALUE, NAME=@FILE or NAME:SHAPE (a name alone binds nothing: x=1.5 " \
           "or x:3; jac diff reads a name left unbound as a scalar symbol, and --wrt x picks" in err


# -- jvp without a tangent, or with one that names no input ------------------------------------------------------------

def test_jvp_without_a_tangent_names_the_tangents_to_write():
    err = one_error("jvp", "x * y", "x=[1, 2]", "y=[3, 4]")
    assert "--tangent x=VALUE or --tangent y=VALUE" in err


def test_a_tangent_without_a_name_is_shown_with_each_name_and_quoted():
    err = one_error("jvp", "sin(x)", "x:2", "--tangent", "[1, 0]")
    assert "write --tangent x=\"[1, 0]\"" in err
    code, out, _ = run("jvp", "sin(x)", "x=[0, 1]", "--tangent", "x=[1, 0]", "--json")
    assert code == 0 and json.loads(out)["jvp"]["value"] == [1.0, 0.0]


def test_requires_grad_in_a_bindings_value_says_the_binding_is_an_input_already():
    err = one_error("eval", "sum(w)", "w=torch.tensor([1., 2.], requires_grad=True)")
    assert "a binding's value is an input already" in err and "drop requires_grad=True" in err
    err = one_error("eval", "sum(torch.tensor([1., 2.], requires_grad=True) * x)", "x=1")
    assert "those the text assigns at its top level" in err  # in the text: the message that says where inputs are made


# -- y.retain_grad(), PyTorch's tutorial on non-leaf gradients -----------------------------------------------------------

RETAIN = """import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 2
y.retain_grad()
z = (y ** 2).sum()
z.backward()
print(y.grad)
print(x.grad)
"""


def test_retain_grad_of_a_computed_array_is_read_as_nothing_and_the_grads_are_pytorchs():
    """It was refused as ".retain_grad() is not needed ... jacrev(torch.sin)(x)", a message about something else."""
    torch = pytest.importorskip("torch")
    code, out, err = run("vjp", RETAIN, "--json")
    assert code == 0, err
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y ** 2).sum().backward()
    assert json.loads(out)["vjp"]["x"]["value"] == x.grad.tolist()
    code, out, _ = run("graph", RETAIN, "--backward", "--json")
    nodes = {n["name"]: n for n in json.loads(out)["nodes"] if n["name"]}
    assert code == 0 and nodes["y"]["grad"] == y.grad.tolist()


@pytest.mark.parametrize("made", ["3", "torch.ones(2)", "torch.ones(2) * 2"])
def test_retain_grad_of_a_constant_is_refused_as_pytorch_refuses_it(made):
    err = one_error("eval", f"import torch\nf = {made}\nf.retain_grad()\nx * 2", "x=1")
    assert "can't retain_grad on Tensor that has requires_grad=False" in err and "f.retain_grad()\n  ^" in err
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="can't retain_grad"):
        torch.as_tensor(eval(made, {"torch": torch})).retain_grad()


# -- a nonzero printed as 0 beside a larger element ------------------------------------------------------------------

def test_a_small_nonzero_derivative_beside_a_large_one_is_not_printed_as_zero():
    """d(x**3)/dx at [1, 1e-4] is [3, 3e-08]: it printed [[3. 0.] [0. 0.]], a zero derivative that is not one;
    NumPy and PyTorch print it in scientific notation, and so does jac now."""
    code, out, _ = run("eval", "x**3", "x=[1, 1e-4]")
    assert code == 0 and "[[3.e+00 0.e+00]\n   [0.e+00 3.e-08]]" in out
    assert np.array2string(np.array([3.0, 3e-8])) == "[3.e+00 3.e-08]"


def test_rounding_noise_beside_a_larger_element_still_prints_as_zero():
    code, out, _ = run("eval", "x * 1", "x=[1e-17, 1.0]")
    assert code == 0 and "[0. 1.]" in out


# -- a shape error of dot, mm, mv names the function written -------------------------------------------------------------

@pytest.mark.parametrize("expression, bindings, name", [
    ("np.dot(x, y)", ("x=arange(4.0)", "y=[3.0, 1.0, 2.0]"), "dot"),  # torch.dot says PyTorch's words (h35-raises)
    ("np.dot(A, x)", ("A:2x2", "x:3"), "dot"),
    ("torch.mv(A, x)", ("A:2x2", "x:3"), "mv"),
    ("torch.mm(A, B)", ("A:2x2", "B:3x2"), "mm"),
])
def test_a_shape_error_of_a_product_names_the_function_written(expression, bindings, name):
    err = one_error("eval", expression, *bindings)
    assert err.startswith(f"jac: error (shape): {name}: shapes ") and "do not line up" in err
    assert one_error("eval", "A @ x", "A:3x4", "x:3").startswith("jac: error (shape): matmul: shapes (3, 4) and (3,)")


def test_a_write_into_an_arrays_data_speaks_of_that_array_not_of_a_layer():
    # session 53 (lang/nograd.py): y.data.mul_(3) is read as PyTorch reads it (new values, the old derivative),
    # and refused where PyTorch's backward would read the new values of a tensor an op saved, silently
    text = "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\nz = y * y\ny.data.mul_(3)\nz.sum()"
    err = one_error("eval", text)
    assert "y.data.mul_(...): a write through .data bumps no version counter" in err and "y.data.mul_(3)\n" in err
    # a layer's parameter's .data written before its first call sets its values (session 52, lang/setparams.py)
    assert api.evaluate("import torch.nn as nn\nfc = nn.Linear(2, 1)\nfc.weight.data.fill_(1.0)\nfc(x).sum()",
                        {"x": np.array([1.0, 2.0])}) == 3.0 + api.evaluate(
        "import torch.nn as nn\nfc = nn.Linear(2, 1)\nfc.bias.sum()", {})
