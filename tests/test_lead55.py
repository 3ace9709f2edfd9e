"""The lead's smaller fixes of session 55.

A memory refusal named the Jacobian ``∂y/∂y`` when an input is called ``y``: the planner's message spelled the output
``y`` whatever it is called, where the report calls it ``z`` (``ir.graph.output_name``, moved there from
tools/report.py so the planner and the report name it alike)."""

import pytest

from jacobi_cli.cli import entry


@pytest.mark.parametrize("inputs,named", [(["x:300", "y:300"], "∂z/∂y"), (["x:300", "z:300"], "∂y/∂z"),
                                          (["y:300", "z:300", "f:2"], "∂out/∂")])
def test_a_memory_refusal_names_the_output_as_the_report_does(capsys, inputs, named):
    names = [i.split(":")[0] for i in inputs]
    expr = f"{names[0]} * sum({names[1]})" + (f" + sum({names[2]})" if len(names) > 2 else "")
    assert entry.main(["eval", expr, *inputs, "--max-memory", "100K"]) == 2
    err = capsys.readouterr().err
    assert f"the Jacobian {named}" in err, err
