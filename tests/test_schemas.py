"""Stable output: every command's --json output against the JSON Schema shipped for it.

The commands are taken from the CLI as registered, so a command that lands later (diff,
check, graph) is validated from the moment it exists, and a new command with --json
fails here until it has a schema and a sample below.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import typer.main
from typer.testing import CliRunner

from jacobi_cli.cli import schema
from jacobi_cli.cli.app import app

runner = CliRunner()
SEEDS = str(Path(__file__).resolve().parent.parent / "examples" / "seeds.toml")

# Invocations (without --json) whose output each schema must accept: the options that add keys.
SAMPLES = {
    "eval": [["2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3, 1, 2, 5]"],
             ["A @ x", "A:3x4", "x:4", "--layout", "numerator", "--wrt", "A"],
             ["log(x)", "x=[-1, 0, 1]"],  # NaN and -Infinity as strings
             ["x[1:] - x[:-1]", "x:40", "--sparse", "--explain", "--max-memory", "1G"],  # coo and the plan
             ["y * 2", "x:3", "y:3", "--sparse", "--mode", "forward", "--explain"],  # a zero block
             ["a = sin(x) * y; b = sum(x**2); a, b", "x:3", "y:3", "--explain"],  # several outputs
             ["tanh(W @ x)", "x:5x3", "W:2x3", "--batch", "x", "--explain"]],  # a batch
    "vjp": [["x * y", "x=[1, 2]", "y=[3, 4]", "--v", "ones"], ["(x * y).sum()", "x=[1, 2]", "y=[3, 4]", "--wrt", "x"],
            ["a = sin(x) * y; b = sum(x**2); a, b", "x:3", "y:3", "--v", "a=ones"],
            ["sum(W @ x)", "x:4x3", "W:2x3", "--batch", "x"]],
    "jvp": [["sin(x) * y", "x=[0, 1]", "y=[2, 3]", "--tangent", "x=[1, 0]"],
            ["a = sin(x) * y; b = sum(x**2); a, b", "x:3", "y:3", "--tangent", "x=ones"],
            ["W @ x", "x:4x3", "W:2x3", "--batch", "x", "--tangent", "x=ones(4, 3)"]],
    "derivative": [["x**3", "x=2", "--order", "3"], ["tanh(x)", "x:4", "--order", "3", "--sparse", "--explain"],
                   ["a = sin(x); a, sum(a**2)", "x:3", "--order", "2"], ["sin(A @ x)", "A:2x3", "x:5x3", "--wrt", "x",
                                                                        "--batch", "x", "--order", "3"]],
    "hessian": [["x @ A @ x", "x=[1, 2]", "A=[[1, 2], [3, 4]]"], ["x * y", "x=1", "y=2"],
                ["x @ A @ x", "x:30", "A:30x30", "--wrt", "x", "--explain", "--max-memory", "30k"],  # chunked passes
                ["x**3", "x:3"], ["a = sin(x) * y; b = sum(x**3); a, b", "x:2", "y:2", "--explain"],
                ["x @ A @ x", "x:4x2", "A:2x2", "--batch", "x", "--explain"]],
    "shape": [["A @ x", "A:3x4", "x:4"], ["x.T @ A @ x", "x:n", "A:nxn"], ["a = A @ x; a, sum(a)", "A:3x4", "x:4"],
              ["A @ x", "A:3x4", "x:10x4", "--batch", "x"]],
    "diff": [["3*x**2 - 4*x", "--wrt", "x"], ["3*x**2 - 4*x", "--wrt", "x", "--at", "x=1"],
             ["x.T @ A @ x", "--wrt", "x", "x:n", "A:nxn"], ["sin(x) * y", "--wrt", "x", "x:3", "y:3"],
             ["x**3", "--wrt", "x", "--order", "3", "--at", "x=2"], ["a = sin(x); a, sum(x**2)", "x:2"],
             ["x.T @ A @ x", "--wrt", "x", "x:4xn", "A:nxn", "--batch", "x"]],
    "check": [["3*x**2 - 4*x", "x=1"], ["3*x**2 - 4*x", "x=1", "--limit"], ["x * y", "x=[1, 2]", "y=[3, 4]", "--wrt", "x"],
              ["a = sin(x) * y; b = sum(x**2); a, b", "x:3", "y:3"], ["tanh(W @ x)", "x:3x2", "W:2x2", "--batch", "x"]],
    "graph": [["F = a * b; G = 2 * F; G.sum()", "a=[10, 10]", "b=[20, 20]"],
              ["F = a * b; G = 2 * F; G.sum()", "a=[10, 10]", "b=[20, 20]", "--backward"],
              ["a = sin(x); a, sum(x**2)", "x:2", "--backward", "--v", "a=ones"],
              ["F = W @ x; sum(tanh(F))", "x:3x2", "W:2x2", "--batch", "x", "--backward"],
              ["a = sin(x); a, x * 2", "x:3", "--batch", "x", "--backward", "--v", "a=[1, 2, 3]"]],
    "run": [[SEEDS, "-k", "dot"], [SEEDS, "--shard", "2/3", "-j", "1"]],
    "plot": [["3*x**2 - 4*x", "x=1", "--out", "{tmp}/tangent.png"], ["sin(x)", "x=0.5", "--range=-pi:pi", "--out",
                                                                     "{tmp}/sin.svg"],
             ["a * x**2", "x=[1, -2]", "a=3", "--wrt", "x", "--batch", "x", "--out", "{tmp}/batch.png"]],
}
BAD_INPUT = {"run": ["no-such-suite.toml"], "shape": ["A @ x", "A:3x4", "x:3"],
             "jvp": ["x +", "x=1", "--tangent", "x=1"], "plot": ["x +", "x=1", "--out", "never.png"]}  # else: a parse error


def json_commands() -> list:
    """The registered commands that have a --json option."""
    commands = typer.main.get_command(app).commands
    return sorted(name for name, cmd in commands.items() if any("--json" in p.opts for p in cmd.params))


def validator(name: str):
    return jsonschema.Draft202012Validator(schema.load(name))


def jac_json(*args):
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_every_schema_is_a_valid_2020_12_schema_whose_references_resolve():
    for name in schema.names():
        document = schema.load(name)
        jsonschema.Draft202012Validator.check_schema(document)
        text = json.dumps(document)
        for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
            assert ref.startswith("#/$defs/") and ref[len("#/$defs/"):] in document["$defs"], (name, ref)


def test_the_contract_commands_all_have_schemas():
    assert {"eval", "vjp", "jvp", "hessian", "shape", "diff", "check", "graph", "run", "error"} <= set(schema.names())


@pytest.mark.parametrize("command", json_commands())
def test_every_command_with_json_has_a_schema_and_samples(command):
    assert command in schema.names(), f"jac {command} --json has no schema in jacobi_cli/schemas/"
    assert command in SAMPLES, f"add invocations of jac {command} to SAMPLES in {__file__}"


@pytest.mark.parametrize("command", json_commands())
def test_json_output_matches_its_schema(command, tmp_path):
    for args in SAMPLES.get(command, []):
        code, out = jac_json(command, *[a.format(tmp=tmp_path) for a in args])
        assert code in (0, 1), out
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(command).iter_errors(out)]
        assert not errors, (command, args, errors[:5])


@pytest.mark.parametrize("command", json_commands())
def test_error_output_matches_the_error_schema(command):
    code, out = jac_json(command, *BAD_INPUT.get(command, ["x +", "x=1"]))
    assert code == 2
    validator("error").validate(out)
    assert out["error"]["kind"] in ("parse", "io", "shape")


def test_suite_errors_match_the_error_schema(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\nvalu = 1\n')
    code, out = jac_json("run", str(path))
    assert code == 2
    validator("error").validate(out)
    assert out["error"]["case"] == "a" and out["error"]["key"] == "valu"


@pytest.mark.parametrize("change", [
    lambda out: out.update(jac_version=2),  # a new jac_version is a new schema
    lambda out: out.pop("jacobian"),  # a contract key is required
    lambda out: out["jacobian"]["x"].pop("math_shape"),
    lambda out: out["output"].update(value="nan"),  # NaN is spelled "NaN"
    lambda out: out["inputs"]["x"].update(kind="column"),
    lambda out: out.update(command="vjp"),
])
def test_the_eval_schema_rejects_broken_output(change):
    code, out = jac_json("eval", "x * 2", "x=[1, 2]")
    validator("eval").validate(out)
    change(out)
    assert not validator("eval").is_valid(out)


def test_extra_keys_are_allowed():
    code, out = jac_json("eval", "x * 2", "x=[1, 2]")
    out["something_new"] = {"added": "later"}
    out["jacobian"]["x"]["coo"] = {"indices": [[0, 1], [0, 1]], "values": [2, 2]}
    validator("eval").validate(out)


def test_a_sparse_jacobian_may_give_coo_instead_of_value():
    code, out = jac_json("eval", "x * 2", "x=[1, 2]")
    out["jacobian"]["x"]["coo"] = out["jacobian"]["x"].pop("value")
    assert not validator("eval").is_valid(out)  # coo must have its own keys
    out["jacobian"]["x"]["coo"] = {"indices": [[0, 1], [0, 1]], "values": [2.0, 2.0]}
    validator("eval").validate(out)


def test_jac_schema_prints_the_standalone_schema():
    result = runner.invoke(app, ["schema", "eval"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == schema.load("eval") and "defs.json" not in result.stdout
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    listing = runner.invoke(app, ["schema"])
    assert listing.exit_code == 0 and listing.stdout.split() == schema.names()
    bad = runner.invoke(app, ["schema", "evaluate"])
    assert bad.exit_code == 2 and "no schema named 'evaluate'" in bad.stderr


@pytest.mark.skipif(shutil.which("jac") is None and not os.environ.get("CI"), reason="jac is not installed here")
def test_the_installed_package_ships_the_schemas(tmp_path):
    """`pip install .` must install jacobi_cli/schemas/*.json (package data)."""
    for name in ("eval", "error", "run"):
        result = subprocess.run(["jac", "schema", name], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["title"].startswith("jac ")
