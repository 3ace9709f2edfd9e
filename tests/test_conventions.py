"""The command-line conventions people expect (issue 15): expressions that begin with -,
quoting hints, shell completion, --help, names, and what a newcomer sees printed."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer

from jacobi_cli.cli import app as cli, entry
from jacobi_cli.cli.completion import input_names
from jacobi_cli.errors import JacUsageError
from jacobi_cli.lang.bindings import parse_bindings

ROOT = Path(__file__).resolve().parent.parent


def jac(argv, capsys, monkeypatch, main=entry.main):
    monkeypatch.setenv("COLUMNS", "100")
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --- an expression that begins with - ---------------------------------------------------------------

@pytest.mark.parametrize("main", [entry.main, cli.main], ids=["fast path", "typer"])
@pytest.mark.parametrize("argv, value", [
    (["eval", "-x", "x=1", "--json"], -1.0),
    (["eval", "--json", "-(a + b)", "a=1", "b=2"], -3.0),
    (["eval", "-x * y", "x=2", "--wrt", "x", "y=3", "--json"], -6.0),
    (["eval", "--json", "--", "-x", "x=1"], -1.0),
])
def test_an_expression_that_begins_with_a_dash_is_the_expression(argv, value, main, capsys, monkeypatch):
    code, out, err = jac(argv, capsys, monkeypatch, main)
    assert code == 0, err
    assert json.loads(out)["output"]["value"] == value


@pytest.mark.parametrize("argv", [["vjp", "-x", "x=[1, 2]", "--v", "ones"], ["shape", "-A @ x", "A:2x3", "x:3"],
                                  ["check", "-x**2", "x=1"], ["hessian", "-(x @ x)", "x=[1, 2]"]])
def test_every_command_with_an_expression_takes_one_that_begins_with_a_dash(argv, capsys, monkeypatch):
    code, out, err = jac(argv, capsys, monkeypatch)
    assert code == 0, err
    assert argv[1] in out


def test_what_could_be_an_option_says_to_put_double_dash_first(capsys, monkeypatch):
    code, _, err = jac(["eval", "--x", "x=1"], capsys, monkeypatch)
    assert code == 2
    assert "No such option: --x" in err and 'jac eval -- "-x" x=1' in err
    code, out, _ = jac(["eval", "-h"], capsys, monkeypatch)  # -h stays help
    assert code == 0 and "Usage: jac eval" in out


def test_the_fast_path_keeps_an_expression_that_begins_with_a_dash():
    assert entry.parse_eval(["eval", "-x", "x=1"]) == {"expr": "-x", "bindings": ["x=1"], "wrt": None}
    assert entry.parse_eval(["eval", "-x", "-h"]) is None  # help: typer's
    code = ("import sys, io, contextlib\nfrom jacobi_cli.cli.entry import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['eval', '-x', 'x=1']) == 0\n"
            "assert 'typer' not in sys.modules and 'rich' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# --- values the shell split --------------------------------------------------------------------------

@pytest.mark.parametrize("items, hint", [
    (["x=[2,", "3]"], 'x="[2, 3]"'),
    (["A=[[1,", "2],", "[3,", "4]]", "x=1"], 'A="[[1, 2], [3, 4]]"'),
    (["y=2", "x=linspace(0,", "1,", "5)"], 'x="linspace(0, 1, 5)"'),
])
def test_a_value_split_by_the_shell_gets_a_hint_to_quote_it(items, hint):
    with pytest.raises(JacUsageError, match="quote it") as err:
        parse_bindings(items)
    assert err.value.message.endswith(hint)


def test_the_hint_is_given_only_when_the_pieces_close_the_value():
    assert parse_bindings(["x=[2, 3]", "y=4"]).shapes == {"x": (2,), "y": ()}
    with pytest.raises(Exception, match="never closed"):
        parse_bindings(["x=[2,"])


@pytest.mark.parametrize("items, hint", [
    (["x", "=", "3"], "write x=3"),
    (["x=", "3"], "write x=3"),
    (["x", "=3"], "write x=3"),
    (["y=1", "x=", "[1, 2]"], 'write x="[1, 2]"'),
])
def test_spaces_around_the_equals_sign_get_the_binding_to_write(items, hint):
    with pytest.raises(JacUsageError, match="no spaces around") as err:
        parse_bindings(items)
    assert err.value.message.endswith(hint)


def test_a_lone_name_or_an_empty_value_is_not_read_as_spaced_equals():
    with pytest.raises(JacUsageError, match="is not a binding"):
        parse_bindings(["x", "y=2"])
    with pytest.raises(Exception, match="has no value"):
        parse_bindings(["x=", "y=2"])


def test_the_hint_reaches_the_command_line(capsys, monkeypatch):
    code, out, err = jac(["eval", "x", "x=[2,", "3]", "--json"], capsys, monkeypatch)
    assert code == 2 and 'quote it, x="[2, 3]"' in err
    assert json.loads(out)["error"]["kind"] == "usage"


# --- shell completion --------------------------------------------------------------------------------

def complete(words: str, monkeypatch, capsys) -> list:
    """What bash completion offers for the words typed so far (the last one may be empty)."""
    monkeypatch.setenv("_JAC_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    typed = shlex.split(words)
    monkeypatch.setenv("COMP_CWORD", str(len(typed) if words.endswith(" ") else len(typed) - 1))
    with pytest.raises(SystemExit) as done:
        entry.main([])
    assert done.value.code == 0
    return capsys.readouterr().out.split()


@pytest.mark.parametrize("words, offered", [
    ("jac ", {"eval", "vjp", "jvp", "hessian", "shape", "diff", "check", "graph", "plot", "run", "schema",
              "completion"}),
    ("jac ev", {"eval"}),
    ("jac eval x --lay", {"--layout"}),
    ("jac eval x --layout ", {"array", "numerator"}),
    ("jac eval x --dtype f", {"float64", "float32"}),
    ("jac check x --method ", {"central", "richardson"}),
    ("jac eval 'A @ x + sin(b)' ", {"A=", "x=", "b="}),
    ("jac eval 'A @ x + sin(b)' A:3x3 ", {"x=", "b="}),
    ("jac shape 'A @ x' A:3x4 ", {"x:"}),
    ("jac eval 'F = a * b; F.sum()' --wrt ", {"a", "b"}),
    ("jac vjp 'sum(w * x)' --batch ", {"w", "x"}),
    ("jac completion ", {"bash", "zsh", "fish"}),
    ("jac schema e", {"eval", "error"}),
])
def test_completion_offers_commands_options_values_and_input_names(words, offered, monkeypatch, capsys):
    assert set(complete(words, monkeypatch, capsys)) >= offered


def test_input_names_are_the_free_names_of_the_expression():
    assert input_names("F = a * b; G = 2 * torch.dot(F, x); sin(G) + pi") == ["a", "b", "x"]
    assert input_names("x +") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell, capsys, monkeypatch):
    code, out, _ = jac(["completion", shell], capsys, monkeypatch)
    assert code == 0 and "_JAC_COMPLETE" in out and "jac" in out
    code, _, err = jac(["completion", "tcsh"], capsys, monkeypatch)
    assert code == 2 and "bash, zsh or fish" in err


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("jac") is None, reason="needs bash and jac")
def test_the_bash_script_completes_in_a_real_bash():
    script = ('eval "$(jac completion bash)"\n'
              "COMP_WORDS=(jac eval x --layout ''); COMP_CWORD=4; _jac_completion jac\n"
              'echo "${COMPREPLY[@]}"\n')
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["array", "numerator"]


# --- --help ------------------------------------------------------------------------------------------

def help_text(argv, capsys, monkeypatch) -> str:
    code, out, _ = jac(argv + ["--help"], capsys, monkeypatch, cli.main)
    assert code == 0
    return out


def test_help_shows_flags_as_flags_and_lists_choices(capsys, monkeypatch):
    commands = typer.main.get_command(cli.app).commands
    for name in commands:
        text = help_text([name], capsys, monkeypatch)
        assert "<bool>" not in text and "<str>" not in text and "<list[str]>" not in text, name
    text = help_text(["eval"], capsys, monkeypatch)
    assert "[array|numerator]" in text and "[float64|float32]" in text and "[auto|forward|reverse]" in text
    assert "[central|richardson]" in help_text(["check"], capsys, monkeypatch)


def test_bare_jac_lists_every_command_and_help_gives_the_exit_codes(capsys, monkeypatch):
    names = list(typer.main.get_command(cli.app).commands)
    assert {"run", "schema", "completion"} <= set(names)
    code, out, err = jac([], capsys, monkeypatch)
    assert code == 2
    assert all(name in out for name in names)
    assert "a command is needed: " + ", ".join(names[:-1]) + " or " + names[-1] in err
    top = help_text([], capsys, monkeypatch)
    assert "Exit codes: 0 success; 1 a check" in top and "2 bad input" in top


def test_short_version_flag(capsys, monkeypatch):
    from jacobi_cli import __version__

    assert jac(["-V"], capsys, monkeypatch)[:2] == (0, f"jac {__version__}\n")
    assert jac(["--version"], capsys, monkeypatch)[:2] == (0, f"jac {__version__}\n")


# --- names -------------------------------------------------------------------------------------------

def test_the_output_name_never_clashes_with_an_assigned_or_input_name(capsys, monkeypatch):
    code, out, _ = jac(["graph", "y = x * 2; z = y ** 2; z.sum()", "x=1", "--json"], capsys, monkeypatch)
    report = json.loads(out)
    names = [n["name"] for n in report["nodes"] if n["name"]]
    assert len(names) == len(set(names)) and report["output"]["name"] not in ("x", "y", "z")
    code, out, _ = jac(["vjp", "y = x * 2; z = y ** 2; z.sum()", "x=1"], capsys, monkeypatch)
    assert f"as in {report['output']['name']}.backward" in out


def test_vjp_names_the_real_output(capsys, monkeypatch):
    code, out, _ = jac(["vjp", "x * y", "x=[1, 2]", "y=[3, 4]", "--v", "ones"], capsys, monkeypatch)
    assert "z.backward(gradient=v)" in out and "y.backward" not in out and "∂z/∂x" in out


# --- what a newcomer sees ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [3, 4, 2000])
def test_a_slice_is_sparse_at_every_size(n, capsys, monkeypatch):
    code, out, _ = jac(["eval", "x[1:3]", f"x:{n}", "--json", "--sparse"], capsys, monkeypatch)
    assert json.loads(out)["jacobian"]["x"]["structure"] == "sparse"


def test_a_one_element_jacobian_is_not_called_diagonal(capsys, monkeypatch):
    for argv in (["eval", "x * x", "x=2"], ["eval", "x * x", "x=[2]"]):
        code, out, _ = jac(argv, capsys, monkeypatch)
        assert "diagonal" not in out and ", dense," in out
    code, out, _ = jac(["eval", "x * x", "x=[2, 3]"], capsys, monkeypatch)
    assert "diagonal" in out


def test_no_negative_zero_and_floats_look_like_floats(capsys, monkeypatch):
    code, out, _ = jac(["eval", "x.abs().max()", "x=[-1, 2]"], capsys, monkeypatch)
    assert "-0." not in out and "[0. 1.]" in out
    code, out, _ = jac(["eval", "det(A)", "A=[[1, 2], [3, 4]]"], capsys, monkeypatch)
    assert "\n  -2.0\n" in out  # det is -2.0000000000000004: printed as the float it is
    code, out, _ = jac(["eval", "A[0, 0] * A[1, 1]", "A=[[2, 0], [0, 3]]"], capsys, monkeypatch)
    assert "\n  6.0\n" in out


def test_legend_letters_are_not_size_letters(capsys, monkeypatch):
    code, out, _ = jac(["shape", "X @ W", "X:mxn", "W:nxk", "--json"], capsys, monkeypatch)
    for block in json.loads(out)["derivatives"].values():
        indices = block["legend"].split("[")[1].split("]")[0].split(", ")
        assert not {"m", "n", "k"} & set(indices), block["legend"]


def test_eval_plot_says_where_it_wrote(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    target = tmp_path / "j.png"
    code, out, err = jac(["eval", "x**2", "x=[1, 2]", "--plot", str(target), "--json"], capsys, monkeypatch)
    assert code == 0 and target.stat().st_size > 0
    assert json.loads(out)["command"] == "eval"  # stdout keeps its one object
    assert f"wrote {target}" in err


def test_pretty_formulas_do_not_depend_on_the_stream_sympy_met_first():
    pytest.importorskip("sympy")
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    from jacobi_cli.tools import symbolic

    import sympy as sp

    previous = pretty_use_unicode(False)  # as after an import under an ASCII stdout
    try:
        text = symbolic.pretty(sp.OneMatrix(1, 3) * sp.MatrixSymbol("x", 3, 1))
    finally:
        pretty_use_unicode(previous)
    assert "𝟙" in text and "⋅" in text


def test_zero_is_printed_as_zero_in_arrays():
    from jacobi_cli.cli.render import format_array

    assert format_array(np.array([-0.0, 1.0])) == "[0. 1.]"
    assert format_array(np.array(-0.0)) == "0.0"


def test_a_structural_zero_is_exact_at_every_size(capsys, monkeypatch):
    """sqrt(x)[1] does not depend on x[0]: its derivative there is 0, not PyTorch's 0 * inf = NaN,
    at n = 2 as at n = 2000 (at n = 2 the Jacobian used to be stored dense, and kept the NaN)."""
    for n in (2, 2000):  # x[0] = 0, where sqrt has an infinite slope; x[1] = 1
        code, out, err = jac(["eval", "sqrt(x)[1]", f"x=arange({n}.0)", "--json", "--sparse"], capsys, monkeypatch)
        block = json.loads(out)["jacobian"]["x"]
        assert code == 0 and "warning" not in err
        assert block["structure"] == "sparse" and block["coo"] == {"indices": [[1]], "values": [0.5]}


def test_vjp_errors_name_the_real_output(capsys, monkeypatch):
    code, _, err = jac(["vjp", "x * y", "x=[1, 2]", "y=[3, 4]"], capsys, monkeypatch)
    assert code == 2 and "the output z has shape (2,)" in err
    code, _, err = jac(["vjp", "x * y", "x=[1, 2]", "y=[3, 4]", "--v", "[1, 2, 3]"], capsys, monkeypatch)
    assert code == 2 and "as in z.backward(gradient=v)" in err and "y.backward" not in err


def test_pretty_formulas_from_threads():
    """The unicode flag is SymPy's and process-wide: threads drawing at once must not restore it
    under each other (OneMatrix raised KeyError when one did)."""
    pytest.importorskip("sympy")
    from concurrent.futures import ThreadPoolExecutor

    import sympy as sp
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    from jacobi_cli.tools import symbolic

    expr = sp.OneMatrix(1, 3) * sp.MatrixSymbol("x", 3, 1)
    previous = pretty_use_unicode(False)
    try:
        with ThreadPoolExecutor(8) as pool:
            drawn = set(pool.map(lambda _: symbolic.pretty(expr), range(200)))
    finally:
        pretty_use_unicode(previous)
    assert len(drawn) == 1


def test_an_option_of_another_command_is_named_as_such(capsys, monkeypatch):
    # "No such option: --layout" on jac vjp is not an expression read as an option: the hint about
    # expressions that begin with - was noise there; it says which commands take it instead
    code, out, err = jac(["vjp", "x", "x=1", "--layout", "numerator", "--json"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1
    message = json.loads(out)["error"]["message"]
    assert "No such option: --layout" in message and "jac eval" in message and "goes after --" not in message


def test_a_command_written_as_an_option_is_named_as_a_command(capsys, monkeypatch):
    # jac eval "..." x=1 --vjp: a newcomer's guess; the hint about expressions that begin with - was noise
    for command in ("vjp", "hessian", "jvp"):
        code, out, err = jac(["eval", "softmax(x)", "x=[1, 2]", f"--{command}", "--json"], capsys, monkeypatch)
        assert code == 2 and err.count("\n") == 1
        message = json.loads(out)["error"]["message"]
        assert f"No such option: --{command}" in message and f"jac {command} EXPR" in message
        assert "goes after --" not in message


def test_an_option_without_its_value_is_not_sent_to_other_commands(capsys, monkeypatch):
    # "Option '--wrt' requires an argument.; jac eval, jac vjp, ... take it": the list of the commands that take an
    # option belongs to an option this command lacks, not to one given without its value
    code, out, err = jac(["eval", "x", "x=1", "--json", "--wrt"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1
    message = json.loads(out)["error"]["message"]
    assert "--wrt needs a value" in message and "take it" not in message and ".;" not in message  # jac's words (39)


def test_an_unknown_short_option_is_not_called_a_malformed_binding(capsys, monkeypatch):
    code, out, err = jac(["eval", "x", "x=1", "-k", "--json"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1
    message = json.loads(out)["error"]["message"]
    assert "'-k' is neither an option of this command" in message and "NAME=VALUE" in message
