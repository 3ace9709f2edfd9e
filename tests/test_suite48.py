"""Session 48: ``[[case.derivative]]`` pins a K-th derivative in a suite, as ``jac derivative --order K --wrt NAME``
gives it (a suite could pin orders 1 and 2 only: ``jacobian.x`` and ``hessian."x,x"``)."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacSuiteError
from jacobi_cli.tools import api
from jacobi_cli.tools import suite as suites


def outcomes(text: str, base_dir="."):
    case = suites.parse_suite(textwrap.dedent(text), "t", str(base_dir)).cases[0]
    result = suites.run_case(case)
    return result, {o.key: o for o in result.outcomes}


def toml_array(a) -> str:
    return json.dumps(np.asarray(a).tolist())


def test_orders_one_to_four_pass_on_jac_derivatives_values_and_fail_on_others():
    text = "sin(A @ x) * x[0]"
    bindings = {"A": [[1.0, 2.0], [3.0, 4.0]], "x": [0.1, 0.2]}
    blocks = "".join(f"[[case.derivative]]\norder = {k}\nwrt = \"x\"\nexpected = "
                     f"{toml_array(api.derivative(text, bindings, k, wrt=['x']))}\n" for k in (1, 2, 3, 4))
    result, found = outcomes(f'[[case]]\nname = "d"\nexpr = "{text}"\n'
                             f'bindings = {{ A = [[1, 2], [3, 4]], x = [0.1, 0.2] }}\n{blocks}')
    assert result.status == "passed" and sorted(found) == [f"derivative[{i}].expected" for i in range(4)]
    third = api.derivative(text, bindings, 3, wrt=["x"])
    assert third.shape == (2, 2, 2, 2)
    wrong = third.copy()
    wrong[1, 0, 1, 1] += 1e-3
    result, found = outcomes(f'[[case]]\nname = "d"\nexpr = "{text}"\n'
                             f'bindings = {{ A = [[1, 2], [3, 4]], x = [0.1, 0.2] }}\nwrt = ["x"]\n'
                             f'[[case.derivative]]\norder = 3\nexpected = {toml_array(wrong)}\n')
    assert result.status == "failed"
    assert "worst at [1, 0, 1, 1]" in found["derivative[0].expected"].message


def test_the_third_derivative_agrees_with_central_differences_of_the_hessian():
    text = "tanh(A @ x).sum() * x[1]"
    A, x = np.array([[0.3, -1.2], [0.7, 0.4]]), np.array([0.25, -0.5])
    third = api.derivative(text, {"A": A, "x": x}, 3, wrt=["x"])
    h = 1e-4
    fd = np.stack([(api.hessian(text, {"A": A, "x": x + h * e}, wrt=["x"])[("x", "x")]
                    - api.hessian(text, {"A": A, "x": x - h * e}, wrt=["x"])[("x", "x")]) / (2 * h)
                   for e in np.eye(2)], axis=-1)
    assert np.allclose(third, fd, atol=1e-6)
    result, _ = outcomes(f'[[case]]\nname = "t"\nexpr = "{text}"\nbindings = {{ A = {toml_array(A)}, x = '
                         f'{toml_array(x)} }}\nwrt = ["x"]\n[[case.derivative]]\norder = 3\nexpected = '
                         f'{toml_array(fd)}\natol = 1e-6\n')
    assert result.status == "passed"


def test_a_batch_carries_its_axis_first():
    result, found = outcomes('''
        [[case]]
        name = "b"
        expr = "x**4 + y * x"
        bindings = { x = [1.0, 2.0, 3.0], y = 2.0 }
        batch = ["x"]
        [[case.derivative]]
        order = 4
        wrt = "x"
        expected = [24, 24, 24]
        [[case.derivative]]
        order = 1
        wrt = "y"
        expected = [1, 2, 3]
        ''')
    assert result.status == "passed", found


def test_several_outputs_are_pinned_one_by_one_and_left_out_ones_are_not_checked():
    text = '''
        [[case]]
        name = "s"
        expr = "a = x**2\\nb = sin(x)\\na, b"
        bindings = { x = 0.5 }
        [[case.derivative]]
        order = 3
        expected.b = %s
        '''
    result, found = outcomes(text % -np.cos(0.5))
    assert result.status == "passed" and list(found) == ["derivative[0].expected.b"]
    assert found["derivative[0].expected.b"].output == "b"
    result, found = outcomes(text % np.cos(0.5))
    assert result.status == "failed"


@pytest.mark.parametrize("body, key, words", [
    ('expr = "x * y"\nbindings = { x = 1.0, y = 2.0 }\n[[case.derivative]]\norder = 2\nexpected = 0',
     "derivative[0].wrt", 'name it, wrt = "x"'),
    ('expr = "x * y"\nbindings = { x = 1.0, y = 2.0 }\n[[case.derivative]]\norder = 2\nwrt = "z"\nexpected = 0',
     "derivative[0].wrt", "'z' is not bound"),
    ('expr = "x * y"\nbindings = { x = 1.0, y = 2.0 }\nwrt = ["x"]\n[[case.derivative]]\norder = 2\nwrt = "y"\n'
     'expected = 0', "derivative[0].wrt", "'y' is not in wrt"),
    ('expr = "x * x"\nbindings = { x = 1.0 }\n[[case.derivative]]\norder = 33\nexpected = 0',
     "derivative[0].order", "from 1 to 32"),
    ('expr = "x * x"\nbindings = { x = 1.0 }\n[[case.derivative]]\norder = true\nexpected = 0',
     "derivative[0].order", "from 1 to 32"),
    ('expr = "x * x"\nbindings = { x = 1.0 }\n[[case.derivative]]\nexpected = 0', "derivative[0].order", "required"),
    ('expr = "x * x"\nbindings = { x = 1.0 }\n[[case.derivative]]\norder = 2', "derivative[0].expected", "required"),
    ('expr = "x * x"\nbindings = { x = 1.0 }\n[[case.derivative]]\norder = 2\nexpected = 2\nrtl = 1',
     "derivative[0].rtl", "did you mean 'rtol'"),
    ('expr = "x * x, x"\nbindings = { x = 1.0 }\n[[case.derivative]]\norder = 2\nexpected = 2',
     "derivative[0].expected", "give each output its own"),
    ('expr = "x * x"\nbindings = { x = 1.0 }\nderivative.x = 2', "derivative", "[[case.derivative]] table"),
    ('expr = "x * x"\nbindings = { x = ":n" }\n[[case.derivative]]\norder = 2\nexpected = 2', "bindings.x",
     "derivative"),
])
def test_a_malformed_derivative_table_names_its_key(body, key, words):
    with pytest.raises(JacSuiteError) as err:
        suites.parse_suite(f'[[case]]\nname = "e"\n{body}\n', "t", ".")
    assert f"key '{key}'" in str(err.value) and words in str(err.value)


def test_the_command_line_reports_it_and_a_derivative_past_the_limit_is_a_case_error(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text('[[case]]\nname = "cube"\nexpr = "x**3"\nbindings = { x = 2.0 }\n'
                    '[[case.derivative]]\norder = 3\nexpected = 5\n'
                    '[[case]]\nname = "big"\nexpr = "sin(x)"\nbindings = { x = ":3000" }\n'
                    '[[case.derivative]]\norder = 3\nexpected = 0\n')
    result = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 2  # a case that could not run: 2, before a failed expectation's 1
    cases = {c["name"]: c for c in json.loads(result.stdout)["cases"]}
    failed = [o for o in cases["cube"]["expectations"] if not o["passed"]]
    assert [o["key"] for o in failed] == ["derivative[0].expected"] and "expected 5, got 6" in failed[0]["message"]
    assert cases["big"]["status"] == "error" and cases["big"]["error"]["kind"] == "limit"
    assert cases["big"]["error"]["key"] == "derivative[0]"


def test_the_suites_page_example_runs_with_its_derivative_table():
    import os
    import re

    page = open(os.path.join(os.path.dirname(__file__), "..", "docs", "suites.md"), encoding="utf-8").read()
    first = re.findall(r"```toml\n(.*?)```", page, re.S)[0]
    assert "[[case.derivative]]" in first
    result = suites.run_case(suites.parse_suite(first, "doc", ".").cases[0])
    assert result.status == "passed" and "derivative[0].expected" in {o.key for o in result.outcomes}
