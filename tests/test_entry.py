"""The fast path of `jac eval` (no typer) and the plain renderer (no rich) against typer and rich.

Both exist only to start faster; they must never change what the user sees. So every
command line below runs through both entry points with identical results, and every
report is drawn by both the plain writer and rich with identical text.
"""

import io
import sys

import pytest
import typer
from rich.console import Console

from jacobi_cli.cli import app as cli, entry
from jacobi_cli.cli.render import Renderer
from jacobi_cli.tools.report import eval_report, hessian_report, jvp_report, shape_report, vjp_report

SEED = ["eval", "2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3.0, 1.0, 2.0, 5.0]"]
COMMAND_LINES = [
    SEED,
    SEED + ["--json"],
    ["eval", "--json", "x**2", "x=[2, 3]", "--layout=numerator"],
    ["eval", "A @ x", "A:3x4", "x:4", "--wrt", "x", "--wrt", "A", "--seed", "3"],
    ["eval", "tanh(A @ x)", "A:3x3", "x:3", "--explain", "--mode", "forward", "--max-memory", "1G"],
    ["eval", "x[1:] - x[:-1]", "x:40", "--json", "--sparse", "--dtype", "float32"],
    ["eval", "--", "-x", "x=1"],
    ["eval", "x +", "x=1"],
    ["eval", "x +", "x=1", "--json"],
    ["eval", "sum(x) * x", "x=ones(1000000)", "--json", "--explain", "--max-memory", "4G"],
    ["eval", "x", "x=1", "--mode", "sideways"],
    ["eval", "x", "x=1", "--layout", "diagonal"],
    ["eval", "x * y", "x=[1, 2]"],
    ["eval", "F = a * b; G = 2 * F; G.sum()", "a=[1, 2]", "b=[3, 4]", "--wrt=a"],
    ["eval", "tanh(W @ x)", "x:4x3", "W:2x3", "--batch", "x", "--json"],  # a batch, through the fast path too
    ["eval", "a = sin(x); a, sum(x)", "x:3", "--batch=x:0", "--explain", "--max-memory", "1G"],
    # left to typer: help, unknown or malformed options, missing arguments
    ["eval", "--help"],
    ["eval"],
    ["eval", "x", "x=1", "--nope"],
    ["eval", "x", "x=1", "--json=yes"],
    ["eval", "x", "x=1", "--seed", "abc"],
    ["eval", "x", "x=1", "--seed", "-3"],
    ["eval", "x", "x=1", "--wrt"],
    ["eval", "x", "-x=1"],
    # jac graph takes the fast path too
    ["graph", "F = a * b; G = 2 * F; G.sum()", "a=[1, 2]", "b=[3, 4]", "--backward"],
    ["graph", " + ".join(f"x*{i}" for i in range(1, 300)), "x:3", "--max-nodes", "7"],
    ["graph", " + ".join(f"x*{i}" for i in range(1, 300)), "x:3", "--json"],
    ["graph", "a = sin(x); b = sum(x**2); a, b", "x:3", "--backward", "--v", "a=ones", "--v=b=1", "--json"],
    ["graph", "A @ x", "A:2x3", "x:3", "--dot", "--wrt", "x", "--seed", "4", "--dtype", "float32"],
    ["graph", "--", "-x", "x=1"],
    ["graph", "x +", "x=1", "--json"],
    ["graph", "x", "x=1", "--max-nodes", "0"],
    ["graph", "x", "x=1", "--dot", "--json"],
    ["graph", "x", "x=1", "--max-nodes", "-3"],
    ["graph", "x", "x=1", "--backward=1"],
    ["graph", "x", "x=1", "--help"],
    ["graph"],
]


def _through(main, argv, capsys):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=[" ".join(a)[:60] for a in COMMAND_LINES])
def test_fast_path_and_typer_print_the_same(argv, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    fast = _through(entry.main, argv, capsys)
    slow = _through(cli.main, argv, capsys)
    assert fast == slow


def test_the_fast_path_takes_well_formed_eval_lines_only():
    assert entry.parse_eval(SEED) == {"expr": "2 * torch.dot(x, y)", "bindings": SEED[2:], "wrt": None}
    assert entry.parse_eval(["eval", "x", "--wrt", "x", "--wrt=y", "--seed", "2", "--json"]) == {
        "expr": "x", "bindings": None, "wrt": ["x", "y"], "seed": 2, "as_json": True}
    for argv in (["vjp", "x"], ["eval"], ["eval", "x", "--help"], ["eval", "x", "-h"], ["eval", "x", "--out"],
                 ["eval", "x", "--sparse=1"], ["--version"], []):
        assert entry.parse_eval(argv) is None, argv
    assert entry.parse_command(["graph", "x", "x=1", "--max-nodes=3", "--dot"]) == {
        "expr": "x", "bindings": ["x=1"], "wrt": None, "max_nodes": 3, "dot": True}
    assert entry.parse_command(["graph", "x", "--layout", "array"]) is None  # eval's option, not graph's


@pytest.mark.parametrize("name", ["eval", "graph"])
def test_fast_path_options_match_the_typer_command(name):
    command = typer.main.get_command(cli.app).commands[name]
    options = {}
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            kind = "flag" if param.is_flag else "many" if param.multiple else \
                "int" if str(param.bare_type()) == "int" else "value"
            assert not param.secondary_opts  # no --x/--no-x pairs
            options[param.opts[0]] = (param.name, kind)
    assert options == entry.FAST_COMMANDS[name]


# --- plain text against rich ---------------------------------------------------------------------

REPORTS = [
    lambda: ("eval", eval_report("2 * torch.dot(x, y)", ["x=arange(4.0)", "y=[3.0, 1.0, 2.0, 5.0]"], values="none")),
    lambda: ("eval", eval_report("A @ x", ["A:3x4", "x:4"], values="none")),
    lambda: ("eval", eval_report("sin(x) * x", ["x:500"], values="none")),
    lambda: ("eval", eval_report("x[1:] - x[:-1]", ["x:300"], values="none")),
    lambda: ("eval", eval_report("tanh(A @ x)", ["A:30x30", "x:30"], layout="numerator", values="none")),
    lambda: ("eval", eval_report("x\t* [1]", ["x=[1]"], values="none")),  # a tab: rich expands it
    lambda: ("eval", eval_report("x * 2 # [bold]not markup[/] \\", ["x=1"], values="none")),
    lambda: ("vjp", vjp_report("x * y", ["x=[1, 2]", "y=[3, 4]"], v="ones")),
    lambda: ("jvp", jvp_report("sin(x) * y", ["x=[0, 1]", "y=[2, 3]"], {"x": "[1, 0]"})),
    lambda: ("hessian", hessian_report("x @ A @ x", ["x=[1, 2]", "A=[[1, 2], [3, 4]]"], wrt=["x"])),
    lambda: ("shape", shape_report("x.T @ A @ x", ["x:n", "A:nxn"])),
    lambda: ("shape", shape_report("A @ x", ["A:3x4", "x:4", "a_very_long_input_name_for_a_wide_table:4"])),
]


@pytest.mark.parametrize("make", REPORTS)
@pytest.mark.parametrize("width", [80, 40, 200])
def test_plain_text_is_what_rich_prints_to_a_pipe(make, width, monkeypatch, capsys):
    command, report = make()
    monkeypatch.setenv("COLUMNS", str(width))
    sink = io.StringIO()
    getattr(Renderer(Console(file=sink, highlight=False, emoji=False, width=width)), command)(report)
    capsys.readouterr()
    plain = Renderer()
    assert plain.plain
    getattr(plain, command)(report)
    assert capsys.readouterr().out == sink.getvalue()


def test_errors_on_stderr_match_rich(monkeypatch, capsys):
    from jacobi_cli.errors import JacParseError

    err = JacParseError("unexpected end of the expression", position=3, source="x +\t[y]")
    sink = io.StringIO()
    Renderer(Console(file=sink, highlight=False, emoji=False, width=80)).error(err)
    Renderer(stderr=True).error(err)
    assert capsys.readouterr().err == sink.getvalue()


def test_a_terminal_gets_rich(monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert not Renderer().plain
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not Renderer().plain


def test_a_command_runs_with_the_collector_paused_and_restores_it(capsys):
    """The CLI pauses the cyclic collector for a command (its passes over a big graph only cost
    time) and leaves it as it found it: on, or off."""
    import gc

    from jacobi_cli.cli import commands
    from jacobi_cli.tools.report import shape_report

    seen = []

    def build():
        seen.append(gc.isenabled())
        return shape_report("x * 2", ["x:3"])

    assert gc.isenabled()
    assert commands.run(False, build, "shape")[0] == 0
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        commands.run(False, build, "shape")
        assert not gc.isenabled()
    finally:
        gc.enable()
    commands.run(False, build, "shape", pause_collector=False)
    assert seen == [False, False, True]
    capsys.readouterr()


# --- jac run through the fast path ----------------------------------------------------------------

SUITE = str(__import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / "seeds.toml")
BAD_SUITE = str(__import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / "bad-suite.toml")
RUN_LINES = [
    ["run", SUITE, "-j", "1"],
    ["run", SUITE, "--json", "--jobs=1", "-k", "hessian", "-k", "vjp"],
    ["run", "--shard", "2/3", SUITE, "-j", "1"],
    ["run", BAD_SUITE, "-j", "1"],
    ["run", "/nonexistent/suite.toml", "--json"],
    ["run", SUITE, "--jobs", "-1"],
    # left to typer
    ["run"], ["run", SUITE, "--help"], ["run", SUITE, "--nope"], ["run", SUITE, "--jobs", "two"], ["run", SUITE, SUITE],
]


def _timeless(text: str) -> str:
    """Durations differ between two runs of a suite: every decimal number and duration becomes D,
    and runs of spaces or of a table's rule (column widths follow the longest duration) one."""
    import re

    return re.sub(r" +", " ", re.sub(r"━+", "━", re.sub(r"\d+\.\d+(e-?\d+)?|\b\d+ ms\b", "D", text)))


@pytest.mark.parametrize("argv", RUN_LINES, ids=[" ".join(a[:1] + a[2:])[:60] for a in RUN_LINES])
def test_jac_run_prints_the_same_through_the_fast_path_and_typer(argv, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    fast = _through(entry.main, argv, capsys)
    slow = _through(cli.main, argv, capsys)
    assert (fast[0], _timeless(fast[1]), _timeless(fast[2])) == (slow[0], _timeless(slow[1]), _timeless(slow[2]))


def test_the_fast_path_takes_well_formed_run_lines_only():
    assert entry.parse_run(["run", "s.toml", "-j", "2", "-k", "a", "-k=b", "--json", "--junit", "r.xml"]) == {
        "path": "s.toml", "patterns": ["a", "b"], "shard_text": None, "jobs": 2, "junit": "r.xml", "as_json": True}
    for argv in (["run"], ["run", "a", "b"], ["run", "s", "--help"], ["run", "s", "-j"], ["run", "s", "-j", "x"],
                 ["run", "s", "--json=1"], ["eval", "x"], ["run", "s", "-x"]):
        assert entry.parse_run(argv) is None, argv


def test_run_fast_path_options_match_the_typer_command():
    command = typer.main.get_command(cli.app).commands["run"]
    options = {}
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            kind = "flag" if param.is_flag else "many" if param.multiple else \
                "int" if str(param.bare_type()) == "int" else "value"
            assert not param.secondary_opts
            options.update({opt: (param.name, kind) for opt in param.opts})
    assert options == entry.RUN_OPTIONS


def test_jac_run_on_the_fast_path_does_not_import_typer():
    import subprocess

    code = ("import sys, contextlib, io\n"
            "from jacobi_cli.cli.entry import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['run', {SUITE!r}, '-j', '1']) == 0\n"
            "assert 'typer' not in sys.modules and 'sympy' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
