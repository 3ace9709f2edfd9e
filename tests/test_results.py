"""Each command's result is a typed object: ``to_json()`` is the contract, the rest are typed fields."""

import json

import numpy as np
import pytest

from jacobi_cli.cli.render import to_json
from jacobi_cli.tools import report as reports

BUILDS = {
    "eval": lambda: reports.eval_report("sin(x) * y", ["x=[1, 2]", "y=3"], symbolic=True),
    "vjp": lambda: reports.vjp_report("x * 2", ["x=[1, 2]"], v="ones"),
    "jvp": lambda: reports.jvp_report("x * 2", ["x=[1, 2]"], {"x": "ones"}),
    "hessian": lambda: reports.hessian_report("sum(x**3)", ["x=[1, 2]"]),
    "shape": lambda: reports.shape_report("A @ x", ["A:nxm", "x:m"]),
    "diff": lambda: reports.diff_report("x**2", ["x:()"]),
    "check": lambda: reports.check_report("x**2", ["x=3"], limit=True),
    "graph": lambda: reports.graph_report("x * 2 + 1", ["x=[1, 2]"]),
    "plot": lambda: reports.plot_report("x**2", ["x=1"], points=5),
}


@pytest.mark.parametrize("command", list(BUILDS))
def test_results_are_typed_and_json_holds_the_contract_only(command):
    result = BUILDS[command]()
    assert isinstance(result, reports.Result)
    data = json.loads(to_json(result))
    assert data["command"] == command and not [k for k in data if k.startswith("_")]
    with pytest.raises(KeyError):
        result["_private"] = 1  # renderer data is a typed field, never a hidden key


def test_the_fields_hold_what_drawing_needs():
    e = BUILDS["eval"]()
    assert e.jacobians["x"].structure == "diagonal" and e.plan.inputs["x"].mode in ("forward", "reverse")
    assert set(e.formulas) == {"output", "x", "y"}
    assert BUILDS["check"]().limit_at == ("x", 3.0)
    assert np.size(BUILDS["plot"]().curve[0]) == 5
    assert BUILDS["hessian"]().plan is not None and set(BUILDS["diff"]().formulas) == {"output", "x"}


@pytest.mark.parametrize("extra", [[], ["--batch", "x"]])
def test_v_ones_with_several_outputs_is_every_output_ones(extra):
    # the contract accepts --v ones as a shorthand; with several outputs it was refused ("each --v is
    # OUT=VALUE"): it is torch.autograd.backward([a, b], [ones_like(a), ones_like(b)])
    from typer.testing import CliRunner
    from jacobi_cli.cli.app import app

    x = "x=[[1, 2], [3, 4]]" if extra else "x=[1, 2]"
    expr = "a = sin(x); b = x * x; a, b"

    def vjp(*v):
        result = CliRunner().invoke(app, ["vjp", expr, x, *v, "--json", *extra])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert vjp("--v", "ones") == vjp("--v", "a=ones", "--v", "b=ones")
    for command in (["graph", expr, "x=[1, 2]", "--backward"],):
        one = CliRunner().invoke(app, [*command, "--v", "ones", "--json"])
        both = CliRunner().invoke(app, [*command, "--v", "a=ones", "--v", "b=ones", "--json"])
        assert one.exit_code == 0 and one.stdout == both.stdout
