"""The thirty-fifth session's lead: a "did you mean" names the function as the user would write it (the module
they wrote, where jac reads the name there; a method as a method), a swap of two letters counts as one edit, and a
misspelt name of a library whose names jac lists is answered as unknown (the library has no such name), never as
"not supported by jac" with a list beside."""

from __future__ import annotations

import pytest

from jacobi_cli.errors import JacNameError
from jacobi_cli.lang.parser import _edits, _nearest
from jacobi_cli.tools import api


def _message(text: str) -> str:
    with pytest.raises(JacNameError) as found:
        api.evaluate(text, {"x": [1.0, 2.0]})
    return found.value.message


@pytest.mark.parametrize("text, meant", [
    ("np.sinn(x)", "np.sin"), ("torch.sigmod(x)", "torch.sigmoid"), ("jnp.tanhh(x)", "jnp.tanh"),
    ("torch.linalg.nrom(x)", "torch.linalg.norm"), ("F.rleu(x)", "F.relu"), ("sofmax(x)", "softmax"),
    ("mena(x)", "mean"), ("x.smu()", ".sum()"), ("x.mena()", ".mean()"), ("x.sine()", ".sin()"),
])
def test_a_typo_is_answered_with_the_name_as_written_there(text, meant):
    assert _message(text).endswith(f"did you mean '{meant}'?")


def test_the_name_suggested_with_its_module_is_one_jac_reads():
    for text in ("np.sinn(x)", "torch.linalg.nrom(x)", "math.sinn(x[0])", "F.rleu(x)"):
        meant = _message(text).rsplit("did you mean '", 1)[1][:-2]
        api.evaluate(text.replace(text.split("(")[0], meant), {"x": [1.0, 2.0]})  # no error


@pytest.mark.parametrize("a, b, edits", [("nrom", "norm", 1), ("ab", "ba", 1), ("sofmax", "softmax", 1),
                                         ("kitten", "sitting", 3), ("ca", "abc", 3), ("", "ab", 2), ("x", "x", 0)])
def test_edits_count_a_swap_of_neighbours_once(a, b, edits):
    assert _edits(a, b) == edits == _edits(b, a)


def test_nearest_puts_fewer_edits_first_and_keeps_only_those_within_reach():
    assert _nearest("nrom", ["normal", "form", "norm", "nrm"], 1) == ["nrm", "norm"]  # one edit each; nrm more alike
    assert _nearest("zzzz", ["norm", "sum"], 1) == []


@pytest.mark.parametrize("text, unknown, meant", [
    ("scipy.special.gammaa(x)", "scipy.special.gammaa", "scipy.special.gamma"),
    ("jax.nn.relu7(x)", "jax.nn.relu7", "jax.nn.relu"),
    ("scipy.linalg.cho_slove(x, x)", "scipy.linalg.cho_solve".replace("solve", "slove"), "scipy.linalg.cho_solve"),
])
def test_a_misspelt_library_name_is_unknown_with_the_one_meant_and_no_list(text, unknown, meant):
    message = _message(text)
    assert message.startswith(f"unknown function '{unknown}' (") and "has no such name" in message
    assert message.endswith(f"did you mean '{meant}'?") and "jac reads" not in message and "nearest" not in message


def test_a_name_of_the_library_that_jac_does_not_read_is_still_not_supported_with_the_list():
    message = _message("jax.lax.igamma_grad_a(x, x)")  # scipy.special.ellipj until session 36 read it
    assert message.startswith("'jax.lax.igamma_grad_a' is not supported by jac (of jax.lax, jac reads")
    assert "did you mean" not in message


@pytest.mark.parametrize("command", ["eval", "vjp", "jvp", "hessian", "derivative", "shape", "graph", "diff", "check"])
@pytest.mark.parametrize("binding", ["x=2", "x:3", "x:3x4", "x=[1, 2]", "x = -1.5e3"])
def test_a_binding_where_the_expression_goes_is_refused_saying_the_expression_comes_first(command, binding):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    extra = ["--tangent", "y=1"] if command == "jvp" else []  # jvp asks for its tangent first
    result = CliRunner().invoke(app, [command, binding, "y=1", "--json", *extra])
    assert result.exit_code == 2, result.output
    error = __import__("json").loads(result.stdout)["error"]
    assert error["kind"] == "usage" and error["position"] is None
    assert error["message"] == (f"no expression given: '{binding}' is a binding of x; the expression comes first, "
                                f"then the bindings: jac {command} EXPR {binding}")


@pytest.mark.parametrize("text", ["y = x ** 2", "y=x*2", "x == 2", "x=2; x * 3", "x"])
def test_a_text_that_reads_a_name_or_goes_on_is_an_expression_as_before(text):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, ["eval", text, "x=1", "--json"])
    assert result.exit_code == 0, result.output


def test_a_swap_of_two_letters_in_a_library_name_is_a_typo_too():
    assert _message("scipy.special.gmama(x)").endswith("did you mean 'scipy.special.gamma'?")


def test_the_distributions_read_are_counted_as_classes_and_functions():
    pytest.importorskip("torch")  # whether the name is PyTorch's is read in its installed source
    message = _message("torch.distributions.Nromal(0.0, 1.0).log_prob(x)")
    assert message.endswith("did you mean 'torch.distributions.Normal'?")
    message = _message("torch.distributions.CumulativeDistributionTransform(x)")  # session 36 reads LKJCholesky
    assert "jac reads" in message and "classes and functions, listed in docs/expressions.md" in message
