"""A hostile CI author's sweep of every option of every command (the list comes from the typer
commands, so a new option is swept the day it exists): each bad value -- negative, zero, huge,
NaN, infinite, empty, unicode, a fraction, a word -- must end with exit 2 and one clear message
on stderr, and under --json with the contract's error object on stdout; never a traceback,
never "a bug in jac", never exit 1 (a failed check) or 0. Options given twice that take one
value are refused too (click keeps the last silently). In-process, through ``entry.main``."""

import contextlib
import io
import json

import pytest
import typer

from jacobi_cli.cli import entry
from jacobi_cli.cli.app import app

_build = typer.main.get_command
COMMANDS = _build(app).commands
KINDS = {"parse", "name", "shape", "value", "io", "limit", "usage"}
BAD = ["-1", "0", str(10**30), "nan", "inf", "", "abc", "ü∂", "1.5", "1e309", "-"]
# per command: the positional arguments, then options each case keeps unless it sweeps that option
BASE = {
    "eval": (["sin(x)", "x=[1, 2]"], {}),
    "vjp": (["sin(x)", "x=[1, 2]"], {"--v": "ones"}),
    "jvp": (["sin(x)", "x=[1, 2]"], {"--tangent": "x=ones"}),
    "hessian": (["sin(x)", "x=[1, 2]"], {}),
    "derivative": (["sin(x)", "x=[1, 2]"], {}),
    "shape": (["A @ x", "A:2x3", "x:3"], {}),
    "diff": (["x**2"], {"--wrt": "x"}),
    "check": (["sin(x)", "x=[1, 2]"], {}),
    "graph": (["sin(x)", "x=[1, 2]"], {"--backward": None}),
    "plot": (["sin(x)", "x=1"], {"--out": "p.png"}),
    "run": (["suite.toml"], {}),
}
# the values of BAD an option takes (a seed of any size, a time limit of 0 = none, a file named abc)
FILE_NAMES = {"-1", "0", str(10**30), "nan", "inf", "abc", "ü∂", "1.5", "1e309"}
VALID = {
    "--seed": {"0", str(10**30)}, "--max-memory": {str(10**30)}, "--timeout": {"0", "1.5", str(10**30), "inf", "1e309"},
    "--rtol": {"0", "1.5", str(10**30)}, "--atol": {"0", "1.5", str(10**30)}, "--max-nodes": {str(10**30)},
    "--jobs": {"0", str(10**30)}, "-k": set(BAD), ("run", "--junit"): FILE_NAMES,
    ("shape", "--max-memory"): {"1.5", str(10**30)}, ("diff", "--max-memory"): {"1.5", str(10**30)},
    ("run", "--max-memory"): {"1.5", str(10**30)},  # a budget: the case over it is a limit error in the report
}
# and the bad values of an option's own syntax (NAME=VALUE, LO:HI, K/N, NAME:AXIS)
EXTRA = {
    "--range": ["3:1", "1:1", "nan:1", "0:inf", "a:b", ":", "1:", "-inf:0", "0:1e309", "1:2:3"],
    "--shard": ["0/2", "3/2", "1/0", "a/b", "1/-1", "/", "1//2", "2/1", "1/2/3"],
    "--batch": ["x:5", "x:-9", "y", "x:a", ":0", "x:0:1", "x:", "x:1e3"],
    "--tangent": ["x=[1, 2, 3]", "y=1", "x", "=1", "x=", "x=nan(", "x=@missing.npy", "x=ones(10**30)"],
    "--v": ["[1, 2, 3]", "z=[1, 2]", "y=", "[[1, 2]]", "ones(3)", "@missing.npy", "ones(10**30)"],
    "--at": ["x", "y=1", "=1", "x=", "x=[1, 2]x", "x=ones(10**30)"],
    "--wrt": ["y", "x,y", " x", "x "],
    "--order": ["-0", "0x2", str(2**63)],
    "--max-memory": ["-5M", "0B", "1e-300G", "200%", "0%", "nan%", "1X", "G"],
    "--timeout": ["-inf", "-1e-9", "1s", "nan", "-0.5"],
    "--jobs": ["-1", "one"],
    "--max-nodes": ["-5", "0", "1.5"],
}
SUITE = '[[case]]\nname = "square"\nexpr = "x**2"\nbindings = { x = "3" }\nvalue = 9\n'


def _options(command: str) -> list:
    return [p for p in COMMANDS[command].params if p.param_type_name == "option" and p.name != "help"]


def _valid(command: str, option: str) -> set:
    return VALID.get((command, option), VALID.get(option, set()))


def _args(command: str, option: str, values: list) -> list:
    positional, kept = BASE[command]
    args = [command]
    for name, value in kept.items():
        if name != option:
            args += [name] if value is None else [name, value]
    for value in values:
        args += [option, value]
    return args + ["--", *positional]


def _cases() -> list:
    cases = []
    for command in BASE:
        for param in _options(command):
            if param.is_flag:
                continue
            option = param.opts[0]
            values = BAD + [v for v in EXTRA.get(option, []) if v not in BAD]
            cases += [(command, option, value) for value in values if value not in _valid(command, option)]
    return cases


CASES = _cases()


def run(args: list) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(list(args))
    return code, out.getvalue(), err.getvalue()


GROUP = _build(app)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    # typer builds the click group from the signatures at each call, 0.1 s on a busy machine: once
    # here (the same object each call would build) keeps the sweep's 1,500 calls quick
    monkeypatch.setattr(typer.main, "get_command", lambda typer_app: GROUP if typer_app is app else _build(typer_app))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    (tmp_path / "suite.toml").write_text(SUITE)
    return tmp_path


def assert_refused(args: list, code: int, out: str, err: str, as_json: bool) -> dict | None:
    assert "Traceback" not in out + err and "bug in jac" not in err, (args, err)
    assert code == 2, (args, code, out[-300:], err[-300:])
    messages = [line for line in err.splitlines() if line.startswith("jac: ")]
    assert len(messages) == 1 and messages[0].startswith("jac: error ("), (args, err)
    if not as_json:
        assert out == "", (args, out)
        return None
    error = json.loads(out)["error"]
    assert error["kind"] in KINDS and error["message"] and messages[0].startswith(f"jac: error ({error['kind']}): ")
    return error


def test_the_sweep_covers_every_value_option_of_every_command_that_computes():
    swept = {(c, o) for c, o, _ in CASES}
    for command in BASE:
        for param in _options(command):
            option = param.opts[0]
            if not param.is_flag and _valid(command, option) != set(BAD):
                assert (command, option) in swept, (command, option)
    assert set(BASE) | {"schema", "completion"} == set(COMMANDS)  # a new command joins BASE
    assert len(CASES) > 500


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("command", list(BASE))
def test_every_bad_option_value_exits_2_with_one_message(folder, command, as_json):
    failures = []
    for _, option, value in [c for c in CASES if c[0] == command]:
        args = _args(command, option, [value])
        if as_json:
            args.insert(1, "--json")
        try:
            assert_refused(args, *run(args), as_json)
        except AssertionError as err:
            failures.append(str(err)[:400])
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("command", list(BASE))
def test_an_option_of_one_value_given_twice_is_refused_naming_both(folder, command):
    good = {"--wrt": "x", "--dtype": "float32", "--seed": "1", "--layout": "array", "--mode": "auto",
            "--max-memory": "1G", "--timeout": "5", "--order": "2", "--method": "central", "--rtol": "1e-3",
            "--atol": "1e-3", "--max-nodes": "5", "--out": "a.png", "--range": "0:1", "--plot": "a.png",
            "--shard": "1/1", "--jobs": "1", "--junit": "r.xml"}
    swept = 0
    for param in _options(command):
        if param.is_flag or param.multiple:
            continue
        option = param.opts[0]
        value = {("eval", "--out"): "a.npy", ("graph", "--out"): "g.dot"}.get((command, option), good[option])
        for as_json in (False, True):
            args = _args(command, option, [value, value])
            if as_json:
                args.insert(1, "--json")
            error = assert_refused(args, *run(args), as_json)
            assert error is None or (error["kind"] == "usage" and f"{option} is given twice" in error["message"])
            swept += 1
    assert swept or command in ("shape",)


def test_a_file_option_never_takes_dash_for_standard_output(folder):
    for args in (["eval", "--out", "-", "x", "x=1"], ["graph", "--out", "-", "x", "x=1"],
                 ["run", "--junit", "-", "suite.toml"], ["plot", "--out", "-", "x", "x=1"]):
        code, out, err = run(args + ["--json"])
        error = assert_refused(args, code, out, err, True)
        assert error["kind"] == "usage" and "standard output" in error["message"]
    assert not (folder / "-").exists()
