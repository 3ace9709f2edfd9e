"""Bad input: exit 2, one message saying what and where, the JSON error object, no traceback."""

import json
import os

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app, main

runner = CliRunner()

# (arguments, error kind, position or None, words the message must contain); ("value", N): the column is N of a
# value given on the command line (x=VALUE, --v, --tangent), so the JSON's "position" (into the expression) is null
# and "value" holds it
BAD = [
    (["eval", "x +* 2", "x=1"], "parse", 3, ["invalid syntax"]),
    (["eval", "(x", "x=1"], "parse", 0, ["never closed"]),
    (["eval", "", "x=1"], "parse", 0, ["empty"]),
    (["eval", "x < 2 < 3", "x=[1, 2]"], "parse", 0, ["chained comparison"]),  # of a scalar: Python's (32)
    (["eval", "~x", "x=1"], "value", 0, ["logical not of a boolean"]),
    (["eval", "np.nditer(x)", "x=1"], "name", 3, ["'np.nditer' is not supported by jac"]),
    # a name refused since session 35 says why: PyTorch's random state, which jac has none of
    (["eval", "torch.manual_seed(0)", "x=1"], "name", 6, ["torch.manual_seed: it reads or sets PyTorch's random "
                                                            "state", "--seed"]),
    (["eval", "import os; x", "x=1"], "parse", 0, ["import os", "jac has no module 'os'", "numpy as np"]),
    (["eval", "import torch", "x=1"], "parse", 0, ["the last statement is the output", "not an import"]),
    # pasted code's print(loss) was "unknown function 'print'; did you mean 'rint'?", or in the middle "never used"
    (["eval", "y = x * 2; print(y)", "x=1"], "name", 11, ["print() is not needed", "rather than print(loss)"]),
    (["eval", "y = x * 2; print(y); y", "x=1"], "name", 11, ["print() is not needed"]),
    (["eval", "y = x; x * 2; y * 3", "x=1"], "parse", 7, ["never used", "a, b", "a = ..."]),  # a dead statement
    (["eval", "x", "x=1;2"], "parse", ("value", 0), ["in the value of 'x'", "never used", "[1, 2]"]),  # MATLAB's rows
    (["eval", "x << 2", "x=1"], "parse", 2, ["<<"]),
    # PyTorch's implicit softmax dim of a 3-d tensor is 0, not the last axis: jac took the last silently
    (["eval", "F.softmax(T)", "T:2x3x4"], "value", 2, ["needs dim=", "not the last axis"]),
    # a module jac lacks was called "a known constant": torch.fft was such a module; since session 36 jac reads it,
    # and its complex result as the output is refused (lang/fourier.py)
    (["eval", "torch.fft.fft(x)", "x=[1, 2]"], "value", 0, ["complex", "outputs are real", ".real"]),
    (["eval", "torch.sparse.mm(x, x)", "x=[1, 2]"], "name", 6, ["module 'torch.sparse' is not supported"]),
    (["eval", "np.polynomial.polyval(x, [1])", "x=1"], "name", 14,
     ["'np.polynomial.polyval' is not supported", "write it with NumPy's functions", "np.polyval"]),
    # a while_loop is read where its condition is known without the values (session 27), and at the given values
    # (session 33): jac shape has none
    (["shape", "jax.lax.while_loop(lambda v: v.sum() < 3, lambda v: v * 2, x)", "x:3"], "value", 8,
     ["condition of the inputs' values", "fori_loop"]),
    (["eval", "scipy.stats.pareto.cdf(x)", "x=1"], "name", 6, ["module 'scipy.stats'"]),  # norm: read (h33d)
    (["eval", "jax.foo(x)", "x=1"], "name", 0, ["jax.nn and jax.numpy"]),
    (["eval", "torch.nn.Linear(1, 1)(x)", "x=1"], "name", 9, ["parameters", "F.linear(x, W, b)"]),  # paste15
    (["eval", "torch.foo + x", "x=1"], "name", 6, ["'foo' is not a known constant of torch"]),
    # what autodiff libraries make the user write is refused by saying jac does it itself (it said "only named
    # functions can be called", "statement's value is never used", "'.backward()' is not supported")
    # y.backward() at the top level names the output (tests/test_leaves23.py); elsewhere it is refused
    (["eval", "def f(x):\n    x.sum().backward()\n    return x\nf(x)", "x=1"], "name", 22,
     ["'.backward()' is not needed", "jac vjp", "x.grad"]),
    (["eval", "y = x ** 2; y.sum().backward(2.0); x.grad", "x=1"], "value", 29,
     ["takes a tensor, not the Python value 2.0", "PyTorch raises", "jac vjp --v V"]),
    (["eval", "y = x ** 2; y.sum().backward(); y.sum().backward()", "x=1"], "parse", 32,
     ["another backward() call after y.sum().backward()", "end the text there"]),
    (["eval", "x.grad", "x=1"], "name", 2, ["'.grad' is not needed", "differentiates the expression itself"]),
    (["eval", "y = x * 2; y.requires_grad_(); y", "x=1"], "name", 13, ["'.requires_grad_()' is not needed"]),
    # derivatives written in the text are read (tests/test_grad24.py); what JAX and PyTorch refuse is refused
    (["eval", "jax.grad(jnp.sin)(x)", "x=1,2"], "shape", 0, ["gradient is only for a scalar output", "JAX"]),
    (["eval", "torch.autograd.functional.vhp(torch.sin, x, x)", "x=1"], "parse", 26,
     ["'torch.autograd.functional.vhp' is not supported", "torch.autograd.functional.jacobian"]),
    (["eval", "torch.autograd.grad(x ** 2, x)", "x=1,2"], "shape", 15,
     ["grad can be implicitly created only for scalar outputs", "grad_outputs"]),
    (["eval", "vmap(jnp.sin)(x)", "x=1"], "parse", 0, ["--batch on the batched input", "jax.vmap(f, in_axes)"]),
    (["eval", "jit(f)(x)", "x=1"], "parse", 0, ["without jit"]),
    # a function passed as a value was "not a known constant of np; functions must be called"
    (["eval", "np.sum * A", "A:2x2"], "name", 3, ["'np.sum' is a function", "np.apply_along_axis(np.sum, 0, A)"]),
    # np.vectorize(np.sin)(x) is read (lang/vmapping.py); an otypes that would change the values is refused
    (["eval", "np.vectorize(np.sin, otypes=[int])(x)", "x=1"], "value", 3, ["float otypes only", "truncates"]),
    (["eval", "x + z", "x=1"], "name", 4, ["unknown name 'z'", "z=VALUE"]),
    # pasted x.cuda() was only "not supported by jac", where x.to('cuda') and device='cuda' said why
    (["eval", "x.cuda() * 2", "x=1"], "name", 2, ["'.cuda()' is not needed", "on the CPU", "x.cpu()"]),
    # torch.cat(x, y) read x's rows as NumPy would: "cat: zero-dimensional arrays cannot be joined (use stack)";
    # torch.stack(x, y) said "axis must be a constant". PyTorch takes only a sequence of tensors
    (["eval", "torch.cat(x, y)", "x:3", "y:3"], "value", 6, ["torch.cat() takes a list or tuple", "torch.cat([x, y])"]),
    (["eval", "torch.stack(x, y)", "x:3", "y:3"], "value", 6, ["torch.stack([x, y])"]),
    (["eval", "torch.linalg.multi_dot(A)", "A:2x2x2"], "value", 13, ["torch.linalg.multi_dot([x, y])"]),
    # an unbound input named like a function (t for a target, psi, angle) said only "call it, as in t(x)"
    (["eval", "F.cross_entropy(x, t)", "x:2x3"], "name", 19, ["'t' is a function", "t=VALUE", "t:SHAPE"]),
    (["eval", "foo(x)", "x=1"], "name", 0, ["unknown function 'foo'"]),
    (["eval", "x.sine()", "x=1"], "name", 2, ["unknown method '.sine()'", "did you mean '.sin()'"]),
    (["eval", "__import__('os').system('true')"], "name", 0, ["__import__"]),
    (["eval", "x.__class__", "x=1"], "name", 2, ["__class__"]),
    (["eval", "x", "x=1", "--wrt", "q"], "name", None, ["--wrt q", "x"]),
    (["eval", "A @ x", "A:3x4", "x:3"], "shape", 2, ["matmul", "(3, 4)", "(3,)"]),
    (["eval", "x + y", "x:3", "y:4"], "shape", 2, ["broadcast", "(3,)", "(4,)"]),
    (["eval", "x[5]", "x=[1, 2]"], "shape", 2, ["out of bounds"]),
    (["eval", "sum(x, axis=2)", "x:3"], "shape", 0, ["axis 2"]),
    (["eval", "x.reshape(4)", "x:3"], "shape", 2, ["reshape", "(3,)"]),
    (["eval", "det(A)", "A:2x3"], "shape", 0, ["square"]),
    (["eval", "mm(x, x)", "x:3"], "shape", 0, ["mm needs a 2-d"]),
    (["eval", "np.cross(x, y)", "x=1", "y=2"], "shape", 3, ["cross", "scalar"]),  # was an IndexError
    (["eval", "torch.cross(x, y)", "x=[1, 2]", "y=[3, 4]"], "shape", 6, ["3 elements", "(2,)"]),
    (["hessian", "x * 2", "x:()", "--batch", "x"], "shape", None, ["no axis 0"]),
    (["vjp", "x", "x=[1, 2]", "--v", "[1, 2, 3]"], "shape", None, ["(3,)", "(2,)"]),
    (["jvp", "x", "x=[1, 2]", "--tangent", "x=[1]"], "shape", None, ["tangent", "(1,)"]),
    (["jvp", "x * y", "x=2", "y=3", "--tangent", "y=1", "--wrt", "x"], "name", None,
     ["--tangent y", "held constant", "--wrt y"]),
    (["eval", "x", "x=[[1, 2], [3]]"], "value", ("value", 0), ["rectangular"]),
    (["eval", "x", "x=[1, y]"], "name", ("value", 4), ["unknown name 'y'"]),
    (["eval", "x[x]", "x=[0.5, 1]"], "value", 2, ["must hold integers"]),  # integers bound are read (paste15)
    # an input where a constant is needed says it is an input and what to write
    (["eval", "W[t]", "W:5x2", "t=[1.5, 0, 3]"], "value", 2, ["must hold integers"]),  # t=[1, 0, 3] is read
    (["eval", "F.embedding(t, W)", "W:5x2", "t=[1, 0.5]", "--wrt", "W"], "value", 2, ["must hold integers"]),
    (["eval", "x.sum(dim=d)", "x:3", "d=0"], "value", 2, ["axis", "'d' is an input"]),
    (["eval", "sum(x, axis=y)", "x:2", "y:()"], "value", 0, ["constant"]),
    (["eval", "x", "x:n"], "value", None, ["symbolic"]),
    (["vjp", "x * 2", "x=[1, 2]"], "value", None, ["--v", "(2,)"]),
    (["eval", "x", "x=@/nonexistent/file.npy"], "io", None, ["/nonexistent/file.npy"]),
    (["eval", "@/nonexistent/expr.txt"], "io", None, ["/nonexistent/expr.txt"]),
    (["eval", "ones(10**12)"], "limit", 0, ["bytes"]),
    (["eval", "(" * 300 + "x" + ")" * 300, "x=1"], "limit", None, ["nested parentheses"]),
    (["eval", "x", "x"], "usage", None, ["NAME=VALUE"]),
    (["eval", "x", "x=1", "--layout", "diagonal"], "usage", None, ["--layout"]),
    (["eval", "x", "x=1", "--dtype", "float16"], "usage", None, ["--dtype", "float16"]),  # as --layout
    (["jvp", "x * 2", "x=1"], "usage", None, ["--tangent"]),
    (["eval", "x", "x=1", "x=2"], "usage", None, ["twice"]),
    # an option's value names the option, not "the value of 'x'" (the binding x is another thing)
    (["jvp", "sin(x)", "x=[1, 2]", "--tangent", "x=[1,"], "parse", ("value", 0), ["in --tangent x:", "never closed"]),
    (["vjp", "sin(x)", "x=[1, 2]", "--v", "[1,"], "parse", ("value", 0), ["in --v:", "never closed"]),
    # a value cannot name anything: the hint to bind the name was wrong advice there
    (["eval", "x", "x=[1, foo]"], "name", ("value", 4), ["unknown name 'foo'", "a value is a constant"]),
    (["vjp", "x", "x=[1, 2]", "--v", "x"], "name", ("value", 0), ["in --v", "a value is a constant"]),
    # a second tangent for the same input silently replaced the first
    (["jvp", "sin(x)", "x=[1, 2]", "--tangent", "x=[1, 0]", "--tangent", "x=[0, 1]"], "usage", None,
     ["--tangent x", "twice"]),
    # an op's derivative rule refusing the values points at the op, as its evaluation does
    (["eval", "x + logdet(A)", "A=[[1, 2], [2, 4]]", "x=1"], "value", 4, ["det", "singular"]),
    (["vjp", "x + logdet(A)", "A=[[1, 2], [2, 4]]", "x=1"], "value", 4, ["det", "singular"]),
    (["jvp", "x + logdet(A)", "A=[[1, 2], [2, 4]]", "x=1", "--tangent", "A=ones(2, 2)"], "value", 4, ["det", "singular"]),
]


@pytest.mark.parametrize("args,kind,position,words", BAD, ids=[" ".join(b[0])[:40] for b in BAD])
def test_bad_input_is_exit_2_with_one_clear_message(args, kind, position, words):
    result = runner.invoke(app, args + ["--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == kind, error
    if isinstance(position, tuple):
        assert error["position"] is None and error["value"]["position"] == position[1], error
        assert error["value"]["text"] in result.stderr, result.stderr  # the caret's line
    elif position is not None:
        assert error["position"] == position and "value" not in error, error
    for word in words:
        assert word in error["message"], error
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"jac: error ({kind}): ")


def test_caret_points_at_the_column():
    result = runner.invoke(app, ["eval", "sum(A @ x)", "A:3x4", "x:3"])
    lines = result.stderr.splitlines()
    assert lines[1] == "  sum(A @ x)"
    assert lines[2] == "        ^"


def test_caret_on_the_right_line_of_a_multi_line_expression():
    result = runner.invoke(app, ["eval", "a = x * 2\nb = a @ y\nb", "x:3", "y:4", "--json"])
    error = json.loads(result.stdout)["error"]
    assert error["position"] == len("a = x * 2\nb = a ")
    assert result.stderr.splitlines()[1:] == ["  b = a @ y", "        ^"]


def test_without_json_nothing_goes_to_stdout():
    result = runner.invoke(app, ["eval", "x +", "x=1"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_no_code_from_the_input_runs(tmp_path):
    marker = tmp_path / "pwned"
    for expr in [f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
                 f"exec('open(\"{marker}\", \"w\")')", "().__class__.__bases__[0].__subclasses__()"]:
        result = runner.invoke(app, ["eval", expr, "--json"])
        assert result.exit_code == 2
    result = runner.invoke(app, ["eval", "x", f"x=__import__('os').system('touch {marker}')"])
    assert result.exit_code == 2
    assert not marker.exists()


@pytest.mark.parametrize("args", [["eval", "x", "--bogus"], ["nosuchcommand"], ["eval"],
                                  ["vjp", "x", "x=1", "--seed", "many"]])
def test_usage_errors_through_the_entry_point(args, capsys):
    assert main(args + ["--json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["kind"] == "usage"
    assert captured.err.startswith("jac: error (usage): ")


def test_exit_0_only_for_a_result(capsys):
    assert main(["eval", "x * 2", "x=1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"]["value"] == 2


def test_expression_file_and_stdin(tmp_path):
    path = tmp_path / "expr.txt"
    path.write_text("F = a * b\nF.sum()\n")
    result = runner.invoke(app, ["eval", f"@{path}", "a=[1, 2]", "b=[3, 4]", "--json"])
    assert json.loads(result.stdout)["output"]["value"] == 11
    result = runner.invoke(app, ["eval", "-", "a=[1, 2]", "--json"], input="sum(a ** 2)")
    assert json.loads(result.stdout)["output"]["value"] == 5
    result = runner.invoke(app, ["eval", f"@{tmp_path}", "--json"])
    assert json.loads(result.stdout)["error"]["kind"] == "io"
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe x")
    result = runner.invoke(app, ["eval", f"@{tmp_path / 'bin.txt'}", "--json"])
    assert json.loads(result.stdout)["error"]["kind"] == "io"
    assert os.path.exists(path)


@pytest.mark.parametrize("text, suggested", [
    ("x^2", "x**2"), ("x ^ y", "x**y"), ("(x+1)^2", "(x+1)**2"), ("x^(1/2)", "x**(1/2)"), ("sin(x)^-1", "sin(x)**(-1)"),
    ("x.T^2", "x.T**2"), ("x[0]^2.5", "x[0]**2.5"), ("a = x\na^2", "a**2"),
])
def test_a_caret_written_for_a_power_suggests_the_power(text, suggested):
    from jacobi_cli.errors import JacValueError
    from jacobi_cli.lang.parser import parse

    with pytest.raises(JacValueError) as err:
        parse(text, {"x": (2,), "y": (2,)})
    assert f"not a power: write {suggested} " in err.value.message
    assert err.value.position == text.index("^")  # the caret under the operator
    parse("(x > 0) ^ (y > 0)", {"x": (2,), "y": (2,)})  # on booleans it is their exclusive or


@pytest.mark.parametrize("text, number, name", [
    ("2x", "2", "x"), ("x + 10y", "10", "y"), ("sin(2x)", "2", "x"), ("3.5x", "3.5", "x"), ("1_000x", "1_000", "x"),
    ("  2x", "2", "x"), ("a = x\n3a", "3", "a"),
])
def test_a_number_against_a_name_suggests_the_product(text, number, name):
    from jacobi_cli.errors import JacParseError
    from jacobi_cli.lang.parser import parse

    with pytest.raises(JacParseError) as err:
        parse(text, {"x": (2,), "y": (2,)})
    assert err.value.message == f"invalid syntax: {number}{name} is no number or name; for a product write " \
                                f"{number}*{name}"
    assert err.value.position == text.index(number + name)  # the caret under the number


@pytest.mark.parametrize("text", ["2e", "2ex", "1e5j2"])
def test_an_unfinished_exponent_is_not_read_as_a_product(text):
    from jacobi_cli.errors import JacParseError
    from jacobi_cli.lang.parser import parse

    with pytest.raises(JacParseError) as err:
        parse(text, {"x": (2,)})
    assert "for a product" not in err.value.message


@pytest.mark.parametrize("args, message", [
    (["eval"], "Missing argument 'EXPR'. Usage: jac eval [OPTIONS] EXPR [BINDING]... (see jac eval --help)"),
    (["run"], "Missing argument 'SUITE'. Usage: jac run [OPTIONS] SUITE (see jac run --help)"),
    (["vjp", "x", "x=1", "--layout", "array"], "No such option: --layout; jac eval takes it (see jac vjp --help)"),
    (["evl"], "No such command 'evl'. Did you mean 'eval'? (see jac --help)"),
])
def test_a_usage_error_points_at_the_commands_own_help(args, message, capsys):
    """A command's usage error names that command's --help (it said jac --help, which lists the
    commands, not the options), and a missing argument shows the command line it takes."""
    assert main(args) == 2
    assert capsys.readouterr().err == f"jac: error (usage): {message}\n"
