"""Hostile input found in session 53 (h53-hostile): each case was an internal error (exit 70, "this is a bug in
jac") or a program PyTorch refuses that jac answered; each is now exit 2 with one message, as CONTRACT.md's
"Exit codes and errors" asks. The fuzzers' runs are in benchmarks/RESULTS.md ("Fifty-third session")."""

import json

import pytest

from jacobi_cli.cli import entry

HEAD = "import torch\nimport torch.nn as nn\nlin = nn.Linear(3, 2)\n"
NO_GRAD = "with torch.no_grad():\n    "


def run_json(text: str, capsys) -> tuple:
    code = entry.main(["eval", HEAD + text + "\nlin(x)", "x=[1., 2, 3]", "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("text,says", [
    # ast.literal_eval's TypeError (an unhashable key or element): exit 70, "internal error (TypeError: unhashable
    # type: 'list')"
    ("nn.init.kaiming_uniform_(lin.weight, mode={[]: 1})", "mode must be a number or a string, not {[]: 1}"),
    ("nn.init.kaiming_normal_(lin.weight, nonlinearity={1, []})",
     "nonlinearity must be a number or a string, not {1, []}"),
    # leaky_relu's gain of a slope whose square overflows: exit 70, "internal error (OverflowError: ...)"; PyTorch's
    # calculate_gain raises the same OverflowError
    ("nn.init.kaiming_uniform_(lin.weight, a=1e308)", "the negative slope 1e+308 squared is past a float's range"),
    ("nn.init.kaiming_normal_(lin.weight, -1e200)", "the negative slope -1e+200 squared is past a float's range"),
])
def test_an_internal_error_is_now_a_message(text, says, capsys):
    code, out, err = run_json(text, capsys)
    assert code == 2, err
    assert out["error"]["kind"] == "value" and says in out["error"]["message"]
    assert err.count("jac: error") == 1 and "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("text,name", [
    # Python refuses the call (TypeError: constant_() got multiple values for argument 'val'); jac took the keyword's
    # value, 2.0, and answered the Jacobians at weights PyTorch never has
    ("nn.init.constant_(lin.weight, 1., val=2.)", "'val'"),
    ("nn.init.normal_(lin.weight, 0., 1., mean=3.)", "'mean'"),
    ("nn.init.uniform_(lin.weight, -1., b=1., a=0.)", "'a'"),
    (NO_GRAD + "lin.weight.fill_(1., value=2.)", "'value'"),
    (NO_GRAD + "lin.weight.add_(torch.ones(2, 3), other=2.)", "'other'"),
    (NO_GRAD + "lin.bias.clamp_(0., min=1.)", "'min'"),
])
def test_an_argument_given_twice_is_refused_as_python_refuses_it(text, name, capsys):
    code, out, err = run_json(text, capsys)
    assert code == 2, err
    assert f"got multiple values for argument {name}" in out["error"]["message"]


@pytest.mark.parametrize("text", [
    "nn.init.normal_(lin.weight, 0., std=3.)",
    NO_GRAD + "lin.weight.add_(torch.ones(2, 3), alpha=2.)",
    "nn.init.kaiming_uniform_(lin.weight, a=3., mode='fan_out')",
    "nn.init.kaiming_normal_(lin.weight, float('inf'))",  # PyTorch: the gain sqrt(2 / (1 + inf)) = 0
])
def test_each_argument_once_still_answers(text, capsys):
    code, out, err = run_json(text, capsys)
    assert code == 0, err
    assert out["jacobian"]["x"]["shape"] == [2, 3]


def run_cli(expr: str, capsys, command: str = "eval") -> tuple:
    code = entry.main([command, expr, "x=[1., 2, 3]", "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("expr,kind,says", [
    # names52's np.full of a fill that depends on the inputs made np.ones(shape) unchecked: NumPy's ValueError
    # ("Maximum allowed dimension exceeded", "negative dimensions are not allowed", "array is too big") was exit 70
    ("np.full(10**20, x[0]).sum()", "limit", "full() would hold 1e+20 float64 values"),
    ("np.full((2**40, 2**40), x[0]).sum()", "limit", "over the limit of"),
    ("np.full((2**62, 4), x[0]).sum()", "limit", "over the limit of"),
    ("np.full(-1, x[0]).sum()", "value", "full(): negative size in (-1,)"),
    ("np.full((0, -2), x).sum()", "value", "full(): negative size in (0, -2)"),
    ("jnp.full(10**20, x[0]).sum()", "limit", "full() would hold 1e+20 float64 values"),
    # an adaptive pool's output_size past the limit: NumPy's "Maximum allowed size exceeded" (np.arange) was exit 70
    ("F.adaptive_max_pool1d(x[None], 10**20).sum()", "limit", "adaptive_max_pool1d()'s result would hold 1e+20"),
    ("F.adaptive_avg_pool1d(x[None], 10**20).sum()", "limit", "adaptive_avg_pool1d()'s result would hold 1e+20"),
    ("F.adaptive_max_pool2d(x[None, None], (1, 10**20)).sum()", "limit", "adaptive_max_pool2d()'s result"),
    ("torch.adaptive_max_pool1d(x[None], 10**20)[0].sum()", "limit", "adaptive_max_pool1d()'s result"),
])
@pytest.mark.parametrize("command", ["eval", "shape"])
def test_a_size_past_the_limit_is_the_limits_message(expr, kind, says, command, capsys):
    code, out, err = run_cli(expr, capsys, command)
    assert code == 2, err
    assert out["error"]["kind"] == kind and says in out["error"]["message"], out
    assert "internal error" not in err


def test_sizes_within_the_limit_still_answer(capsys):
    code, out, err = run_cli("np.full((2, 3), x) * F.adaptive_max_pool1d(x[None], 3)", capsys)
    assert code == 0, err
    assert out["output"]["value"] == [[1.0, 4.0, 9.0], [1.0, 4.0, 9.0]]


def test_a_message_about_names_lists_twenty_and_counts_the_rest(capsys):
    """5,000 bindings and an unknown name: the message listed every input (34 KB on one line); one of 100,000
    characters was repeated whole (100 KB)."""
    names = [f"a{i}" for i in range(5000)]
    code = entry.main(["eval", "sum(x)", *(f"{n}:1" for n in names)])
    err = capsys.readouterr().err
    assert code == 2 and len(err) < 1000, len(err)
    assert "the inputs are a0, a1, a10, a100, " in err and " and 4,980 more: give it a value with x=VALUE" in err
    code = entry.main(["eval", "sum(x)", "x" * 100_000 + ":3"])
    err = capsys.readouterr().err
    assert code == 2 and len(err) < 1000, len(err)
    assert "the inputs are " + "x" * 60 + "… (100,000 characters): give it" in err


def test_a_short_list_of_names_is_as_it_was(capsys):
    code = entry.main(["eval", "y = a * 2\nsum(x)", "a:3", "b:2"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown name 'x' (the inputs are a, b; the text assigns y: give it a value" in err


@pytest.mark.parametrize("text,part", [
    # PyTorch writes these (a view of the leaf, under no_grad or through .data); jac said "this statement's value is
    # never used", which names nothing of what is wrong
    (NO_GRAD + "lin.weight[0].fill_(3.)", "lin.weight[0].fill_(...)"),
    (NO_GRAD + "lin.weight[:, 1].zero_()", "lin.weight[:, 1].zero_(...)"),
    ("lin.weight.data[0].fill_(3.)", "lin.weight.data[0].fill_(...)"),
    ("lin.bias.data[1:].mul_(2.)", "lin.bias.data[1:].mul_(...)"),
])
def test_a_method_writing_into_part_of_a_parameter_says_what_jac_reads(text, part, capsys):
    code, out, err = run_json(text, capsys)
    assert code == 2, err
    message = out["error"]["message"]
    assert message.startswith(f"{part} writes into part of the parameter 'lin.") and "= VALUE" in message


def test_a_write_into_part_of_a_parameter_as_jac_reads_it_answers(capsys):
    code, out, err = run_json(NO_GRAD + "lin.weight[0] = 3.\n    lin.bias[:] = 0.", capsys)
    assert code == 0, err
    assert out["output"]["value"] == [18.0, pytest.approx(out["output"]["value"][1])]
