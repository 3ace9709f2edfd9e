"""Options, round 2 (session 39): what tests/test_options39.py left open, pinned.

``--max-memory 1.5`` was read as 1 byte (int() of the float): a size without a unit is a whole number of bytes,
at least 1, and a fraction of a unit (``1.5G``) is counted in whole bytes. ``--order 3.0`` (and every integer
option) was taken as 3 by typer where ``int()``, click's INT and jac's own fast path refuse it: now refused on
both paths. A typo of a choice gets argparse's "did you mean" (one helper, ``errors.unknown_choice``, where each
choice is checked); ``--rtol 1e309`` quotes what was typed; ``--WRT`` names ``--wrt``; ``--batch fc.weight``
says fc.weight is a parameter the text makes and what to do; the Python API's refusals say ``dtype=``,
``seed=``, ``mode=``, ``max_memory=``. ``benchmarks/options2_39_probe.py`` runs these on every command."""

import contextlib
import io
import json

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.cli import entry
from jacobi_cli.engine import memory
from jacobi_cli.errors import JacError, JacNameError, JacSuiteError, JacUsageError, JacValueError, unknown_choice


def jac(*args) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def refused(*args, kind: str = "usage") -> str:
    """One refusal of ``kind``, with and without --json (the same message); returns the message."""
    code, out, err = jac(*args)
    assert code == 2 and out == "" and "Traceback" not in err, (args, code, err)
    assert err.startswith(f"jac: error ({kind}): "), err
    message = err.splitlines()[0].split("): ", 1)[1]
    code, out, _ = jac(args[0], "--json", *args[1:])
    error = json.loads(out)["error"]
    assert code == 2 and error["kind"] == kind and error["message"] == message
    return message


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    (tmp_path / "suite.toml").write_text('[[case]]\nname = "square"\nexpr = "x**2"\nbindings = { x = "3" }\n'
                                         'value = 9\n')
    return tmp_path


# --- --max-memory ----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["1.5", "0.5", "2.5B", "1.5b", "0", "-0", "0.0001K", "0.0"])
@pytest.mark.parametrize("command", ["eval", "vjp", "hessian", "shape", "check", "graph"])
def test_a_size_that_is_not_a_whole_number_of_bytes_or_under_one_is_refused(here, command, size):
    """--max-memory 1.5 was a budget of 1 byte, 0.5 of none: what was meant is anyone's guess."""
    args = {"vjp": ["--v", "ones"]}.get(command, [])
    message = refused(command, *args, f"--max-memory={size}", "--", "sin(x)", "x:2" if command == "shape" else "x=1")
    assert f"--max-memory {size!r}" in message
    assert "2G, 512M" in message and "50%" in message and "whole number of bytes" in message


@pytest.mark.parametrize("size", ["0%", "0.0%", "150%", "nan%", "1_0%"])
def test_a_share_is_more_than_0_and_at_most_100_percent_written_as_a_number(here, size):
    message = refused("eval", "--max-memory", size, "sin(x)", "x=1")
    assert f"--max-memory {size!r}" in message and "%" in message


@pytest.mark.parametrize("size, expected", [("100", 100), ("1e3", 1000), ("1.5e3", 1500), ("0.5K", 512),
                                            ("1.5G", 3 * 2**29), ("1.5GiB", 3 * 2**29), ("1.3K", 1331),
                                            (" 7 ", 7), ("2B", 2)])
def test_a_whole_number_of_bytes_or_a_fraction_of_a_unit_is_taken(size, expected):
    """A fraction of a unit is a number of bytes rounded down (1.3K is 1331.2 bytes: 1331)."""
    assert memory.budget(size) == expected


def test_one_byte_is_a_budget_a_computation_can_run_in():
    """No floor above one byte: an empty input computes in it, and small budgets give a limit error that says
    what the computation needs (tests/test_hostile12.py pins 100 and 300 bytes)."""
    code, out, err = jac("eval", "--json", "x", "x=[]", "--max-memory", "1")
    assert code == 0 and json.loads(out)["jacobian"]["x"]["shape"] == [0, 0]
    code, out, err = jac("eval", "sin(x)", "x=1", "--max-memory", "1")
    assert code == 2 and err.startswith("jac: error (limit)") and "8 bytes" in err


@pytest.mark.parametrize("size, shown", [(1.5, "max_memory=1.5"), (float("nan"), "max_memory=nan"),
                                         (float("inf"), "max_memory=inf"), (0, "max_memory=0"),
                                         (-3, "max_memory=-3"), (0.25, "max_memory=0.25")])
def test_the_api_refuses_a_number_of_bytes_that_is_not_whole_in_its_own_words(size, shown):
    """max_memory=nan was int(nan): a ValueError from inside jac; 1.5 was 1 byte."""
    with pytest.raises(JacUsageError, match="whole number of bytes") as caught:
        jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, max_memory=size)
    assert caught.value.message.startswith(shown)


def test_the_api_takes_a_whole_float_of_bytes():
    got = jacobi_cli.jacobian("sin(x)", {"x": [1.0, 2.0]}, max_memory=float(2**20))["x"]
    np.testing.assert_allclose(got, np.diag(np.cos([1.0, 2.0])), rtol=0, atol=0)


# --- integer options -------------------------------------------------------------------------------

# (command, option, the options it needs, the positional arguments)
INTEGER_LINES = [
    ("eval", "--seed", [], ["x * 2", "x:2"]), ("vjp", "--seed", ["--v", "ones"], ["x * 2", "x:2"]),
    ("shape", "--seed", [], ["x * 2", "x:2"]), ("diff", "--seed", ["--wrt", "x"], ["x * 2"]),
    ("derivative", "--order", [], ["sin(x)", "x=1"]), ("diff", "--order", ["--wrt", "x"], ["x**3"]),
    ("graph", "--max-nodes", [], ["x * 2", "x=1"]), ("graph", "--seed", [], ["x * 2", "x:2"]),
    ("run", "--jobs", [], ["suite.toml"]), ("run", "-j", [], ["suite.toml"]),
]


@pytest.mark.parametrize("command, option, needs, positional", INTEGER_LINES)
@pytest.mark.parametrize("value", ["3.0", "2.0", "1.", "1e3", "2.5"])
def test_an_integer_option_refuses_a_float_as_int_does(here, command, option, needs, positional, value):
    """--order 3.0 was the third derivative through typer (its int takes "3.0") and went to typer from the fast
    path (whose int() refused it): one rule for every integer option, Python's and click's."""
    message = refused(command, *needs, option, value, "--", *positional)
    assert message.startswith(f"{option} must be an integer, not {value!r}")


@pytest.mark.parametrize("value", ["3", " 3", "3 ", "+3", "0_3"])
def test_an_integer_option_takes_what_int_takes(here, value):
    """The fast path's int() and typer's parser agree: both take Python's spellings of an integer."""
    for args in (["derivative", "--json", "--order", value, "x**4", "x=2"],):
        code, out, err = jac(*args)
        assert code == 0, err
        assert json.loads(out)["derivative"]["x"]["order"] == 3
    code, out, _ = jac("eval", "--json", "--seed", value, "x * 1", "x:2")
    code2, out2, _ = jac("eval", "--json", "--seed", "3", "x * 1", "x:2")
    assert code == code2 == 0 and json.loads(out)["output"] == json.loads(out2)["output"]


# --- did you mean: choices -------------------------------------------------------------------------

CHOICE_TYPOS = [
    ("eval", "--layout", "numerater", "numerator", ["sin(x)", "x=1"]),
    ("eval", "--mode", "revers", "reverse", ["sin(x)", "x=1"]),
    ("eval", "--mode", "Forward", "forward", ["sin(x)", "x=1"]),
    ("check", "--method", "richardsn", "richardson", ["sin(x)", "x=1"]),
    ("eval", "--dtype", "flot32", "float32", ["sin(x)", "x=1"]),
    ("vjp", "--dtype", "FLOAT32", "float32", ["sin(x)", "x=1"]),
    ("shape", "--dtype", "float46", "float64", ["sin(x)", "x:2"]),
    ("graph", "--dtype", "flaot64", "float64", ["sin(x)", "x=1"]),
    ("diff", "--dtype", "floa32", "float32", ["sin(x)", "--wrt", "x"]),
]


@pytest.mark.parametrize("command, option, typo, meant, rest", CHOICE_TYPOS)
def test_a_typo_of_a_choice_gets_did_you_mean(here, command, option, typo, meant, rest):
    message = refused(command, option, typo, *rest)
    assert message.startswith(f"{option} must be ") and f"not {typo!r}; did you mean {meant!r}?" in message


@pytest.mark.parametrize("value", ["float16", "int32", "double", "abc", "1"])
def test_a_dtype_jac_does_not_compute_in_is_no_typo(here, value):
    """float16 is a dtype of its own, not a misspelt float32: no "did you mean" (docs/json.md's example)."""
    message = refused("eval", "--dtype", value, "x * 2", "x=1")
    assert message == f"--dtype must be float64 or float32, not {value!r}"


def test_one_helper_words_every_choice():
    err = unknown_choice("--mode", " Reverse", ("auto", "forward", "reverse"))
    assert isinstance(err, JacUsageError)
    assert err.message == "--mode must be auto, forward or reverse, not ' Reverse'; did you mean 'reverse'?"
    assert unknown_choice("x", "zzz", ("a", "b")).message == "x must be a or b, not 'zzz'"
    assert unknown_choice("x", 3, ("a",)).message == "x must be a, not 3"


def test_the_api_gets_did_you_mean_in_its_own_words():
    with pytest.raises(JacValueError, match=r"^layout= must be array or numerator, not 'numerater'; did you mean "
                                            r"'numerator'\?$"):
        jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, layout="numerater")
    for call in (lambda: jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, mode="revers"),
                 lambda: jacobi_cli.plan("sin(x)", {"x": [1.0]}, mode="revers")):
        with pytest.raises(JacUsageError, match=r"^mode= must be auto, forward or reverse, not 'revers'; did you "
                                                r"mean 'reverse'\?$"):
            call()


def test_a_suite_key_gets_did_you_mean(tmp_path):
    from jacobi_cli.tools.suite import load_suite

    path = tmp_path / "s.toml"
    path.write_text('[[case]]\nname = "a"\nexpr = "x**2"\nbindings = { x = "3" }\ndtype = "flot32"\nvalue = 9\n')
    with pytest.raises(JacSuiteError, match=r"key 'dtype': must be one of float64, float32, not 'flot32'; did you "
                                            r"mean 'float32'\?"):
        load_suite(str(path))


# --- the API's words for dtype and seed ------------------------------------------------------------

@pytest.mark.parametrize("call", [lambda: jacobi_cli.evaluate("x", {"x": [1.0]}, dtype="float16"),
                                  lambda: jacobi_cli.jacobian("x", {"x": [1.0]}, dtype="half"),
                                  lambda: jacobi_cli.hessian("x * x", {"x": [1.0]}, dtype=np.int64),
                                  lambda: jacobi_cli.vjp("x", {"x": [1.0]}, dtype="float16")])
def test_the_api_says_dtype_not_the_cli_option(call):
    with pytest.raises(JacUsageError) as caught:
        call()
    assert caught.value.message.startswith("dtype= must be float64 or float32, not ")
    assert "--dtype" not in caught.value.message


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_the_api_says_seed_not_the_cli_option(seed):
    with pytest.raises(JacUsageError, match=r"^seed= must be an integer >= 0, not ") as caught:
        jacobi_cli.jacobian("x", {"x": "x:2"}, seed=seed)
    assert "--seed" not in caught.value.message


def test_the_command_line_still_says_dtype_and_seed(here):
    assert refused("hessian", "--dtype", "flot32", "x * x", "x=1").startswith("--dtype must be")
    assert refused("eval", "--seed=-1", "--", "x * 2", "x:2") == "--seed must be an integer >= 0, not -1"
    assert refused("plot", "--seed=-1", "--out", "p.png", "--", "sin(x)", "x=1").startswith("--seed must be")


# --- --rtol / --atol as typed ----------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--rtol", "--atol"])
@pytest.mark.parametrize("value, why", [("1e309", "a finite number >= 0"), ("-1e309", "a finite number >= 0"),
                                        ("inf", "a finite number >= 0"), ("-1", "a finite number >= 0"),
                                        ("nan", "a finite number >= 0"), ("abc", "a number"), ("1s", "a number"),
                                        ("", "a number")])
def test_a_tolerance_is_refused_as_typed(here, option, value, why):
    """--rtol 1e309 said "not inf": a value nobody typed."""
    message = refused("check", f"{option}={value}", "--", "sin(x)", "x=1")
    assert message.startswith(f"{option} must be {why}, not {value!r}")


@pytest.mark.parametrize("value, why", [(float("inf"), "not inf"), (-1.0, "not -1.0"), ("1e309", "not '1e309'")])
def test_the_library_refuses_a_tolerance_as_given(value, why):
    from jacobi_cli.tools.report import check_report

    with pytest.raises(JacUsageError, match=f"--rtol must be a finite number >= 0, {why}"):
        check_report("sin(x)", ["x=1"], rtol=value)


def test_a_tolerance_as_typed_is_the_tolerance_used(here):
    code, out, _ = jac("check", "--json", "--rtol", " 1e-3", "--atol", "0", "sin(x)", "x=1")
    report = json.loads(out)
    assert code == 0 and report["rtol"] == 1e-3 and report["atol"] == 0.0


def test_a_bad_tolerance_is_refused_before_the_expression_is_read(here):
    assert refused("check", "--rtol", "abc", "sin(", "x=1").startswith("--rtol must be a number, not 'abc'")
    assert refused("check", "--rtol", "1e309", "sin(", "x=1") == "--rtol must be a finite number >= 0, not '1e309'"


# --- option names --------------------------------------------------------------------------------

COMMAND_LINES = {"eval": ["sin(x)", "x=1"], "vjp": ["sin(x)", "x=1"], "jvp": ["sin(x)", "x=1"],
                 "hessian": ["sin(x)", "x=1"], "derivative": ["sin(x)", "x=1"], "shape": ["x", "x:2"],
                 "diff": ["x"], "check": ["sin(x)", "x=1"], "graph": ["x", "x=1"], "plot": ["sin(x)", "x=1"]}


@pytest.mark.parametrize("command", list(COMMAND_LINES))
@pytest.mark.parametrize("typo, meant", [("--wtr", "--wrt"), ("--WRT", "--wrt"), ("--jsn", "--json"),
                                         ("--Json", "--json")])
def test_a_typo_of_an_option_names_the_option_meant_on_every_command(here, command, typo, meant):
    message = refused(command, typo, "x", *COMMAND_LINES[command])
    assert message.startswith(f"No such option: {typo}") and meant in message


def test_jac_run_says_what_goes_after_the_double_dash(here):
    """jac run takes a suite file, not an expression: its advice for an unknown option says so."""
    message = refused("run", "--wtr", "x", "suite.toml")
    assert "suite file" in message and "expression" not in message
    assert "did you mean --json?" in refused("run", "--JSON", "suite.toml")


# --- --batch / --wrt names -----------------------------------------------------------------------

LINEAR = "fc = torch.nn.Linear(2, 1); fc(x).sum()"


@pytest.mark.parametrize("command, extra, binding", [("eval", [], "x=[1, 2]"), ("vjp", [], "x=[1, 2]"),
                                                     ("jvp", ["--tangent", "x=ones"], "x=[1, 2]"),
                                                     ("hessian", [], "x=[1, 2]"), ("check", [], "x=[1, 2]"),
                                                     ("graph", [], "x=[1, 2]"), ("shape", [], "x:2"),
                                                     ("diff", [], "x:2")])
def test_batch_of_a_parameter_the_text_makes_says_so(here, command, extra, binding):
    """It said "no input named 'fc.weight' is bound (inputs: x)", where --wrt fc.weight differentiates it."""
    message = refused(command, *extra, "--batch", "fc.weight", "--", LINEAR, binding, kind="name")
    assert "'fc.weight' is a parameter the text makes" in message
    assert "--wrt fc.weight with --batch x gives its per-example gradients" in message


def test_what_the_batch_message_advises_works(here):
    """--wrt fc.weight with --batch x: per-example gradients of the shared weight, as torch.func.vmap(grad)."""
    torch = pytest.importorskip("torch")
    code, out, err = jac("eval", "--json", "--batch", "x", "--wrt", "fc.weight", "--", LINEAR, "x=[[1, 2], [3, 5]]")
    assert code == 0, err
    report = json.loads(out)
    got = np.array(report["jacobian"]["fc.weight"]["value"])
    x = torch.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=torch.float64)
    weight = torch.zeros(1, 2, dtype=torch.float64)  # d(w @ x)/dw is x whatever w
    per_example = torch.func.vmap(torch.func.grad(lambda w, xi: (w @ xi).sum()), in_dims=(None, 0))(weight, x)
    np.testing.assert_allclose(got, per_example.numpy(), rtol=0, atol=1e-15)


def test_batch_of_a_leaf_the_text_makes_says_so(here):
    message = refused("vjp", "--batch", "w", "--", "w = torch.tensor([1., 2.], requires_grad=True); (w * x).sum()",
                      "x=[1, 2]", kind="name")
    assert "'w' is a parameter the text makes" in message


@pytest.mark.parametrize("option", ["--batch", "--wrt"])
@pytest.mark.parametrize("names", ["x,y", "x, y", "x y"])
def test_several_names_in_one_option_say_to_repeat_it(here, option, names):
    message = refused("eval", option, names, "--", "x * y", "x=[1, 2]", "y=[3, 4]", kind="name")
    assert message.endswith(f"{option} takes one name and is repeated: {option} x {option} y")


def test_a_name_that_is_nothing_stays_the_plain_refusal(here):
    assert refused("eval", "--batch", "zz", "x * 2", "x=[1, 2]", kind="name") == \
        "--batch zz: no input named 'zz' is bound (inputs: x)"
    with pytest.raises(JacNameError, match="no input named 'zz' is bound"):
        jacobi_cli.jacobian("x * 2", {"x": [[1.0, 2.0]]}, batch=["zz"])


def test_no_error_escapes_as_another_kind():
    """Every refusal above is a JacError: nothing reaches the user as a Python exception."""
    for call in (lambda: memory.budget(float("nan")), lambda: memory.budget("nan%"), lambda: memory.budget("1e400")):
        with pytest.raises(JacError):
            call()
