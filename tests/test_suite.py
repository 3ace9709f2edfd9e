"""`jac run SUITE.toml`: the suite format, its checks, running in parallel, the reports."""

import io
import json
import os
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from jacobi_cli.tools import suite as suites
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacSuiteError, JacUsageError
from jacobi_cli.cli.render import RunProgress

runner = CliRunner()
SEEDS = Path(__file__).resolve().parent.parent / "examples" / "seeds.toml"

PASSING = """
[[case]]
name = "square"
expr = "x**2"
bindings = { x = [2, 3] }
jacobian.x = [[4, 0], [0, 6]]
"""
FAILING = """
[[case]]
name = "wrong jacobian"
expr = "x**2"
bindings = { x = [2, 3] }
jacobian.x = [[4, 0], [0, 7]]
"""
ERRING = """
[[case]]
name = "vjp without v"
expr = "x * y"
bindings = { x = [1, 2], y = [3, 4] }
[[case.vjp]]
grad.x = [3, 4]
"""


def write(tmp_path, text, name="suite.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def jac(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_json(*args):
    result = jac("run", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def load(text, base_dir="."):
    return suites.parse_suite(textwrap.dedent(text), "t", str(base_dir))


def only_case(text, base_dir="."):
    return load(text, base_dir).cases[0]


def outcomes(text, base_dir="."):
    result = suites.run_case(only_case(text, base_dir))
    return result, {o.key: o for o in result.outcomes}


# --- the seed examples ----------------------------------------------------------------------------

def test_seeds_suite_passes_in_parallel():
    code, report = run_json(SEEDS, "--jobs", "2")
    assert code == 0, [c for c in report["cases"] if c["status"] != "passed"]
    cases = suites.load_suite(str(SEEDS)).cases
    assert report["summary"] == {**report["summary"], "cases": len(cases), "passed": len(cases), "failed": 0,
                                 "errors": 0, "jobs": 2}
    assert [c["name"] for c in report["cases"]] == [c.name for c in cases]  # file order, whatever finished first
    assert all(c["expectations"] and all(e["passed"] for e in c["expectations"]) for c in report["cases"])


def test_seeds_cover_every_cell_of_the_shape_table():
    names = " ".join(c.name for c in suites.load_suite(str(SEEDS)).cases)
    for y in ("scalar", "vector", "matrix"):
        for x in ("scalar", "vector", "matrix"):
            assert f"cell {y} by {x}" in names


# --- outcomes: pass, fail, error, exit codes --------------------------------------------------

def test_exit_codes_and_human_output(tmp_path):
    ok = jac("run", write(tmp_path, PASSING))
    assert ok.exit_code == 0 and "[1/1] PASS  square" in ok.stdout and "1 passed, 0 failed, 0 errors" in ok.stdout
    bad = jac("run", write(tmp_path, PASSING + FAILING))
    assert bad.exit_code == 1
    assert "FAIL wrong jacobian: x**2" in bad.stdout
    assert "1 of 4 elements differ" in bad.stdout and "worst at [1, 1]: expected 7, got 6" in bad.stdout
    err = jac("run", write(tmp_path, PASSING + FAILING + ERRING))
    assert err.exit_code == 2  # a case that cannot run is bad input, and beats a failure
    assert "value error at vjp[0].v" in err.stdout and "scalar outputs" in err.stdout
    assert "1 passed, 1 failed, 1 error in" in err.stdout


def test_json_report_names_each_expectation(tmp_path):
    code, report = run_json(write(tmp_path, PASSING + FAILING + ERRING), "-j", "1")
    assert code == 2 and report["exit_code"] == 2 and report["passed"] is False
    square, wrong, erring = report["cases"]
    assert square["status"] == "passed" and square["expectations"][0]["key"] == "jacobian.x"
    assert wrong["status"] == "failed"
    assert wrong["expectations"][0] == {**wrong["expectations"][0], "passed": False, "max_abs_error": 1.0}
    assert erring["status"] == "error" and erring["expectations"] == []
    assert erring["error"] == {**erring["error"], "kind": "value", "key": "vjp[0].v", "position": None}


def test_a_bug_in_a_case_is_reported_and_the_others_still_run(monkeypatch):
    cases = load(PASSING + FAILING).cases

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(suites.api.Compiled, "jacobian", broken)  # what a case's Jacobians go through
    results = suites.run_cases(cases, jobs=1)
    assert [r.status for r in results] == ["error", "error"]
    assert results[0].error["kind"] == "internal" and "RuntimeError: boom" in results[0].error["message"]
    assert suites.exit_code(results) == 1  # a bug is not bad input


def test_cases_run_in_worker_processes_and_come_back_in_order():
    text = "".join(f"""
[[case]]
name = "case {i}"
expr = "x * {i}"
bindings = {{ x = [1, 2] }}
value = [{i}, {2 * i}]
""" for i in range(6))
    seen = []
    results = suites.run_cases(load(text).cases, jobs=2, on_result=lambda r: seen.append(r.name), in_process=0)
    assert [r.name for r in results] == [f"case {i}" for i in range(6)]
    assert sorted(seen) == sorted(r.name for r in results) and all(r.status == "passed" for r in results)


# --- expectations ---------------------------------------------------------------------------------

def test_quick_cases_run_before_a_pool_would_start_and_the_rest_goes_to_workers():
    text = "".join(f"""
[[case]]
name = "case {i}"
expr = "x * {i}"
bindings = {{ x = [1, 2] }}
value = [{i}, {2 * i}]
""" for i in range(4))
    cases = load(text).cases
    assert [r.name for r in suites.run_cases(cases, jobs=2)] == [f"case {i}" for i in range(4)]
    seen = []  # no time in this process: every case goes to the pool, and comes back in order
    results = suites.run_cases(cases, jobs=2, on_result=lambda r: seen.append(r.name), in_process=0)
    assert [r.name for r in results] == [f"case {i}" for i in range(4)] and sorted(seen) == sorted(r.name for r in results)
    assert all(r.status == "passed" for r in results)


def test_the_rest_of_a_suite_goes_to_workers_only_when_they_would_finish_it_sooner():
    assert not suites.pool_pays(0.3, 300, 700, 2, 0.5)  # still within the pool's start-up
    assert not suites.pool_pays(0.5, 500, 500, 2, 0.5)  # 0.5 s left here against 0.5 + 0.25 s with workers
    assert suites.pool_pays(0.5, 100, 900, 2, 0.5)  # 4.5 s left here against 0.5 + 2.25 s
    assert not suites.pool_pays(0.6, 10, 1, 2, 0.5) and suites.pool_pays(1e-6, 0, 4, 2, 0.0)


def test_every_kind_of_expectation_passes_on_right_values():
    result, by_key = outcomes("""
        [[case]]
        name = "all"
        expr = "x @ A @ x"
        bindings = { x = [1, 2], A = [[1, 2], [3, 4]] }
        wrt = "x"
        value = 27
        output_shape = []
        jacobian.x = [12, 21]
        jacobian_shape.x = [2]
        math_shape.x = [1, 2]
        hessian."x,x" = [[2, 5], [5, 8]]
        check = true
        [[case.vjp]]
        v = 2
        grad.x = [24, 42]
        [[case.jvp]]
        tangent.x = [1, 0]
        expected = 12
    """)
    assert result.status == "passed", result.failures
    assert set(by_key) == {"value", "output_shape", "jacobian.x", "jacobian_shape.x", "math_shape.x",
                           "hessian.x,x", "check.x", "vjp[0].grad.x", "jvp[0].expected"}


def test_a_wrong_value_fails_each_kind_of_expectation():
    result, by_key = outcomes("""
        [[case]]
        name = "all wrong"
        expr = "x @ A @ x"
        bindings = { x = [1, 2], A = [[1, 2], [3, 4]] }
        wrt = "x"
        value = 28
        output_shape = [1]
        jacobian.x = [7, 12]
        math_shape.x = [2, 1]
        hessian."x,x" = [[2, 5], [5, 9]]
        [[case.vjp]]
        grad.x = [7, 10]
        [[case.jvp]]
        tangent.x = "ones"
        expected = 34
    """)
    assert result.status == "failed" and all(not o.passed for o in result.outcomes)
    assert by_key["output_shape"].message == "shape (), expected (1,)"
    assert by_key["jvp[0].expected"].message.endswith("expected 34, got 33 (abs error 1)")


def test_tolerances_case_then_table_override_the_dtype_default():
    text = """
        [[case]]
        name = "tol"
        expr = "x * 1.001"
        bindings = { x = 1000 }
        rtol = 0
        atol = 2
        value = 1000
        jacobian.x = { expected = 1, atol = 0.002, rtol = 0 }
    """
    result, by_key = outcomes(text)
    assert by_key["value"].passed and by_key["jacobian.x"].passed
    assert not outcomes(text.replace("atol = 2", "atol = 0.5"))[1]["value"].passed
    assert not outcomes(text.replace("atol = 0.002", "atol = 0.0005"))[1]["jacobian.x"].passed


def test_check_is_jac_check_with_its_tolerances_and_methods():
    text = """
        [[case]]
        name = "f32"
        expr = "sin(x) * exp(x)"
        bindings = { x = "linspace(-1, 1, 5)" }
        dtype = "float32"
        check = true
    """
    case = only_case(text)
    assert case.check == suites.CheckSpec(None, None, "central")  # jac check's defaults for float32
    assert suites.run_case(case).status == "passed"
    case = only_case(text.replace("check = true", 'check = { method = "richardson", rtol = 1e-3 }'))
    assert case.check == suites.CheckSpec(1e-3, None, "richardson")
    assert suites.run_case(case).status == "passed"
    kink = text.replace("sin(x) * exp(x)", "relu(x)").replace('"float32"', '"float64"')
    assert suites.run_case(only_case(kink)).status == "failed"  # the differences give 0.5 where jac says 0
    assert suites.run_case(only_case(kink.replace("check = true", "check = { atol = 1 }"))).status == "passed"
    with pytest.raises(JacSuiteError, match="key 'check.method': must be one of central, richardson"):
        only_case(text.replace("check = true", 'check = { method = "forward" }'))


def test_check_allows_for_the_rounding_error_of_finite_differences():
    # y ~ 1e8: the central difference of y is off by about eps * 1e8 / h ~ 4e-3 in float64
    result, by_key = outcomes("""
        [[case]]
        name = "big output, small derivative"
        expr = "1e8 + x * x"
        bindings = { x = [0.0, 1.0] }
        check = true
    """)
    assert result.status == "passed", result.failures


def test_check_catches_a_derivative_that_is_not_the_limit():
    # relu'(0) = 0 (PyTorch's choice) but the central difference at 0 is 1/2
    result, by_key = outcomes("""
        [[case]]
        name = "kink"
        expr = "relu(x)"
        bindings = { x = [0.0, 1.0] }
        check = true
    """)
    assert result.status == "failed"
    message = by_key["check.x"].message
    assert message.startswith("reverse mode and finite differences disagree (max abs error 0.5")
    assert "x[0] is at a kink (slope 0 from the left, 1 from the right): jac gives 0, the differences 0.5" in message


@pytest.mark.parametrize("actual, expected, passed", [
    ([1.0, np.nan], [1.0, np.nan], True),  # NaN written in the suite matches NaN
    ([np.inf], [np.inf], True),
    ([1e300], [np.inf], False),  # an infinity matches only itself
    ([np.nan], [1.0], False),
    ([1.0, 2.0], [[1.0, 2.0]], False),  # shapes must be equal, no broadcasting
    ([1.0 + 1e-6], [1.0], True),  # within atol
    ([1.0 + 1e-4], [1.0], False),
])
def test_compare(actual, expected, passed):
    tol = suites.Tolerance(rtol=0.0, atol=1e-5)
    assert suites.compare("k", actual, suites.Expected(np.array(expected), tol)).passed is passed


def test_expected_errors_kind_and_match():
    text = """
        [[case]]
        name = "error"
        expr = "A @ x"
        bindings = { A = ":3x4", x = ":3" }
        error = { kind = "shape", match = "matmul" }
    """
    assert outcomes(text)[0].status == "passed"
    result, by_key = outcomes(text.replace('"shape"', '"parse"'))
    assert result.status == "failed" and by_key["error"].message.startswith("expected a parse error matching")
    result, by_key = outcomes(text.replace(":3\" }", ":4\" }"))
    assert result.status == "failed" and "ran without one" in by_key["error"].message


def test_shape_only_cases_need_no_values_and_keep_sizes_symbolic():
    result, by_key = outcomes("""
        [[case]]
        name = "quadratic form"
        expr = "x.T @ A @ x"
        bindings = { x = ":n", A = ":nxn" }
        output_shape = []
        jacobian_shape.A = ["n", "n"]
        math_shape.x = [1, "n"]
    """)
    assert result.status == "passed", result.failures


def test_bindings_files_are_relative_to_the_suite(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "x.npy", np.array([1.0, 2.0]))
    (tmp_path / "data" / "J.json").write_text("[[2, 0], [0, 4]]")
    path = write(tmp_path, """
        [[case]]
        name = "files"
        expr = "x**2"
        bindings = { x = "@data/x.npy" }
        jacobian.x = "@data/J.json"
    """)
    monkeypatch.chdir("/")
    code, report = run_json(path)
    assert code == 0, report


def test_random_bindings_follow_seed_as_the_commands_do():
    case = only_case("""
        [[case]]
        name = "seeded"
        expr = "x"
        bindings = { x = ":3" }
        seed = 7
        jacobian.x = "eye(3)"
    """)
    from jacobi_cli.tools.api import evaluate

    assert suites.run_case(case).status == "passed"
    assert np.array_equal(case.bindings.values["x"], evaluate("x", ["x:3"], seed=7))


# --- a bad suite is exit 2, naming the case and the key -------------------------------------------

BAD_SUITES = [
    ("[[case]\nname = 'x'", "parse", None, None, "not valid TOML"),
    ("name = 'only a name'", "value", None, "case", "no cases"),
    ("title = 'x'\n" + PASSING, "value", None, "title", "unknown key"),
    (PASSING.replace("jacobian.x", "jacobain.x"), "value", "square", "jacobain", "did you mean 'jacobian'?"),
    (PASSING.replace('name = "square"', ""), "value", "#1", "name", "is required"),
    (PASSING + PASSING, "value", "square", "name", "must be unique"),
    (PASSING.replace("[[4, 0], [0, 6]]", "[[4, 0], [0]]"), "value", "square", "jacobian.x", "ragged"),
    (PASSING.replace("[[4, 0], [0, 6]]", "true"), "value", "square", "jacobian.x", "not a boolean"),
    (PASSING.replace("[[4, 0], [0, 6]]", "{ expected = 1, rtol = -1 }"), "value", "square", "jacobian.x.rtol", ">= 0"),
    (PASSING.replace("jacobian.x", "jacobian.z"), "name", "square", "jacobian.z", "'z' is not bound"),
    (PASSING.replace("x**2", "x**2 + y").replace("x = [2, 3]", "x = [2, 3], y = 1") + "wrt = 'y'\n", "name",
     "square", "jacobian.x", "not in wrt"),
    (PASSING.replace("x**2", "x**"), "parse", "square", "expr", "invalid syntax"),
    (PASSING.replace("x**2", "x**2 + w"), "name", "square", "expr", "w"),
    (PASSING.replace("[2, 3]", '"arange("'), "parse", "square", "bindings.x", ""),
    (PASSING.replace("[2, 3]", '":n"'), "value", "square", "bindings.x", "symbolic size 'n'"),
    (PASSING.replace('"x**2"', "2"), "value", "square", "expr", "must be a string"),
    (PASSING.replace("jacobian.x = [[4, 0], [0, 6]]", 'dtype = "float16"\njacobian.x = 1'), "value", "square",
     "dtype", "float64, float32"),
    (PASSING.replace("jacobian.x = [[4, 0], [0, 6]]", "check = false"), "value", "square", "check", "expects nothing"),
    (PASSING.replace("jacobian.x = [[4, 0], [0, 6]]", ""), "value", "square", None, "expects nothing"),
    (PASSING.replace("jacobian.x = [[4, 0], [0, 6]]", 'error = "typo"'), "value", "square", "error.kind", "one of"),
    (PASSING + "[[case.vjp]]\ngradd.x = 1\n", "value", "square", "vjp[0].gradd", "did you mean 'grad'"),
    (PASSING + "[[case.jvp]]\ntangent.q = 1\n", "name", "square", "jvp[0].tangent.q", "no input named 'q'"),
    ("[defaults]\nrtoll = 1\n" + PASSING, "value", None, "defaults.rtoll", "did you mean 'rtol'"),
]


@pytest.mark.parametrize("text, kind, case, key, words", BAD_SUITES,
                         ids=[f"{key or 'suite'}-{words or kind}" for _, kind, _, key, words in BAD_SUITES])
def test_a_bad_suite_is_exit_2_naming_the_case_and_the_key(tmp_path, text, kind, case, key, words):
    path = write(tmp_path, text)
    result = jac("run", path, "--json")
    assert result.exit_code == 2, result.stdout
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == kind and error.get("case") == case and error.get("key") == key, error
    assert words in error["message"] and error["message"].startswith(path)
    assert "Traceback" not in result.output
    human = jac("run", path)
    assert human.exit_code == 2 and human.stdout == "" and "jac: error" in human.stderr


def test_a_parse_error_in_a_case_shows_a_caret_under_the_column(tmp_path):
    result = jac("run", write(tmp_path, PASSING.replace("x**2", "x ** * 2")))
    assert result.exit_code == 2
    assert "case 'square', key 'expr': invalid syntax" in result.stderr
    assert "  x ** * 2\n       ^" in result.stderr


@pytest.mark.parametrize("path, words", [("missing.toml", "cannot read the suite"), (".", "is a directory")])
def test_an_unreadable_suite_is_an_io_error(tmp_path, monkeypatch, path, words):
    monkeypatch.chdir(tmp_path)
    result = jac("run", path, "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "io"
    assert words in json.loads(result.stdout)["error"]["message"]


# --- selecting: -k and --shard ----------------------------------------------------------------------

def test_k_selects_by_name_ignoring_case_and_refuses_a_pattern_matching_nothing():
    def names(*patterns):
        code, report = run_json(SEEDS, *[a for p in patterns for a in ("-k", p)])
        assert code == 0
        return [c["name"] for c in report["cases"]]

    assert names("DOT(") == ["2 * dot(x, x) has gradient 4x"]
    assert names("x**2") == ["x**2 has a diagonal Jacobian"]  # plain text: * is not a wildcard
    assert set(names("hessian", "jvp")) == {"Hessian of x @ A @ x is A + A transposed", "jvp of sin(x) * y along x"}
    result = jac("run", SEEDS, "-k", "no such case", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "usage"


def test_shards_split_the_suite_into_disjoint_parts_that_cover_it():
    every = [c.name for c in suites.load_suite(str(SEEDS)).cases]
    parts = [run_json(SEEDS, "--shard", f"{k}/3", "-j", "1")[1] for k in (1, 2, 3)]
    names = [[c["name"] for c in part["cases"]] for part in parts]
    assert sorted(sum(names, [])) == sorted(every)
    assert names[1] == every[1::3] and parts[1]["selection"]["shard"] == [2, 3]
    assert max(map(len, names)) - min(map(len, names)) <= 1


def test_an_empty_shard_passes():
    code, report = run_json(SEEDS, "-k", "x**2", "--shard", "2/2")
    assert code == 0 and report["cases"] == [] and report["passed"] is True


@pytest.mark.parametrize("option", [["--shard", "0/2"], ["--shard", "3/2"], ["--shard", "1"], ["--shard", "a/b"],
                                    ["--shard", "1/0"], ["--jobs", "-1"]])
def test_bad_shards_and_jobs_are_usage_errors(option):
    result = jac("run", SEEDS, *option, "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "usage"


def test_parse_shard():
    assert suites.parse_shard(" 2 / 5 ") == (2, 5)
    with pytest.raises(JacUsageError):
        suites.parse_shard("5/2")


# --- reports: JUnit, progress --------------------------------------------------------------------

def test_junit_report_structure(tmp_path):
    xml_path = tmp_path / "out" / "report.xml"
    xml_path.parent.mkdir()
    suite_text = PASSING + FAILING + ERRING + '\n[[case]]\nname = "ctrl \\u0001 <&>"\nexpr = "x"\n' \
                                              'bindings = { x = 1 }\nvalue = 1\n'
    result = jac("run", write(tmp_path, suite_text, "mine.toml"), "--junit", xml_path)
    assert result.exit_code == 2
    root = ET.parse(xml_path).getroot()
    assert root.tag == "testsuites" and root.attrib["tests"] == "4"
    (suite,) = root.findall("testsuite")
    assert suite.attrib == {**suite.attrib, "name": "mine", "tests": "4", "failures": "1", "errors": "1"}
    assert float(suite.attrib["time"]) >= 0
    cases = {case.attrib["name"]: case for case in suite.findall("testcase")}
    assert list(cases) == ["square", "wrong jacobian", "vjp without v", "ctrl \\x01 <&>"]
    assert all(c.attrib["classname"] == "mine" and float(c.attrib["time"]) >= 0 for c in cases.values())
    assert cases["square"].find("failure") is None and cases["square"].find("error") is None
    failure = cases["wrong jacobian"].find("failure")
    assert failure.attrib["message"].startswith("jacobian.x: 1 of 4 elements differ") and "expected 7" in failure.text
    error = cases["vjp without v"].find("error")
    assert error.attrib["type"] == "value" and "scalar outputs" in error.attrib["message"]
    assert "expression: x**2" in cases["square"].find("system-out").text


def test_junit_to_an_unwritable_path_is_an_io_error(tmp_path):
    result = jac("run", write(tmp_path, PASSING), "--junit", tmp_path / "no" / "such" / "dir.xml", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "io"


def test_plain_lines_when_not_a_terminal():
    out = jac("run", SEEDS, "-k", "x**2", "-j", "1").stdout
    assert out.startswith("[1/1] PASS  x**2 has a diagonal Jacobian (")
    assert "\x1b[" not in out  # no colour, no cursor movement in a CI log


def test_progress_bar_on_an_interactive_terminal():
    results = suites.run_cases(load(PASSING + FAILING).cases)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, force_interactive=True, width=100)
    with RunProgress(len(results), console) as progress:
        assert progress.bar is not None
        for result in results:
            progress(result)
    out = buffer.getvalue()
    assert "FAIL  wrong jacobian" in out  # failures are printed above the bar as they happen
    assert "PASS  square" not in out  # passes only move the bar
    assert "2/2" in out


def test_json_output_is_one_object_and_nothing_else(tmp_path):
    result = jac("run", write(tmp_path, PASSING + FAILING), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["failed"] == 1
    assert result.stdout.count("\n") == 1


def test_suite_errors_keep_the_case_key_and_kind():
    err = JacSuiteError("bad", "c", "k", "name")
    assert (err.case, err.key, err.kind, err.message) == ("c", "k", "name", "case 'c', key 'k': bad")


def test_example_github_workflow_runs_a_suite():
    path = Path(__file__).resolve().parent.parent / "examples" / "ci" / "github-actions.yml"
    text = path.read_text()
    assert "pip install" in text and "jac run" in text and "--junit" in text and "--shard" in text
    assert os.path.exists(SEEDS)


def test_the_plain_summary_table_is_the_text_rich_prints(tmp_path):
    """jac run's summary table to a pipe is written without rich (ms per row for big suites):
    the same text rich prints, failures included; rich keeps what it must fold or cut."""
    import io
    import json as _json

    from rich.console import Console
    from typer.testing import CliRunner

    from jacobi_cli.cli import render
    from jacobi_cli.cli.app import app

    suite = tmp_path / "s.toml"
    suite.write_text('name = "plain"\n'
                     '[[case]]\nname = "passes"\nexpr = "x * 2"\nbindings = { x = [1.0, 2.0] }\nvalue = [2, 4]\n'
                     '[[case]]\nname = "fails"\nexpr = "x * 2"\nbindings = { x = [1.0, 2.0] }\nvalue = [2, 5]\n')
    report = _json.loads(CliRunner().invoke(app, ["run", str(suite), "--json"]).stdout)
    passing = _json.loads(CliRunner().invoke(app, ["run", str(suite), "--json", "-k", "passes"]).stdout)
    written = 0
    for rep in (report, passing):
        for width in (60, 80, 120):
            buffer = io.StringIO()
            Console(file=buffer, width=width, color_system=None, highlight=False, emoji=False).print(
                render._run_summary_table(rep, width))
            plain = render._plain_run_table(rep, width)
            if plain is not None:
                assert plain == buffer.getvalue().rstrip("\n")
                written += 1
    assert written >= 3  # the passing suite's table at every width


def test_suites_read_the_same_with_rtoml_or_tomllib(monkeypatch):
    """rtoml reads suites when installed; tomllib reads them without it and words every error."""
    import sys

    text = SEEDS.read_text() + '\n[[case]]\nname = "rows"\nexpr = "A @ x"\nbindings = { A = [[1, 2.5], [3, 4]], ' \
                               'x = [1.0, -0.0] }\njacobian.x = [[1, 2.5], [3, 4]]\n'
    fast = suites.parse_suite(text)
    monkeypatch.setitem(sys.modules, "rtoml", None)  # import rtoml now raises ImportError
    slow = suites.parse_suite(text)
    assert [c.name for c in fast.cases] == [c.name for c in slow.cases] and len(fast.cases) > 3
    for a, b in zip(fast.cases, slow.cases):
        assert a.expr == b.expr and a.bindings.shapes == b.bindings.shapes
        for name, value in a.bindings.values.items():
            np.testing.assert_array_equal(value, b.bindings.values[name])
            assert np.signbit(value).tolist() == np.signbit(b.bindings.values[name]).tolist()
    with pytest.raises(JacSuiteError, match="not valid TOML: Cannot overwrite a value"):
        suites.parse_suite('x = 1\nx = 2\n')


def test_a_row_of_numbers_is_checked_as_one_and_a_bool_in_it_is_still_refused():
    assert not suites._has_non_number([[1.0, 2], [3, 4.5]])
    assert suites._has_non_number([[1.0, True]]) and suites._has_non_number([1.0, "2"])
    assert suites._has_non_number([[1.0], [[2.0, None]]])


def test_each_case_evaluates_once_and_repeated_shapes_run_a_kernel(monkeypatch):
    """A case binds its inputs once (value, Jacobian, VJP all read that one forward pass); the
    cases that share an expression and shapes run a kernel from the third on, checked once
    against the interpreter, and a kernel answers as the interpreter does."""
    from jacobi_cli.engine import autodiff
    from jacobi_cli.engine import compiled as compiled_module
    from jacobi_cli.tools import api

    expr = "sin(x) * x**2 + 0.625 * x"  # an expression no other test compiles: its counts start at 0
    cases = "".join(f"""
[[case]]
name = "case {i}"
expr = "{expr}"
bindings = {{ x = [{i}.5, 2, -1] }}
value = {np.round(np.sin([i + .5, 2, -1]) * np.array([i + .5, 2, -1]) ** 2 + 0.625 * np.array([i + .5, 2, -1]), 12).tolist()}
jacobian.x = {np.diag(np.round(np.cos([i + .5, 2, -1]) * np.array([i + .5, 2, -1]) ** 2 + 2 * np.sin([i + .5, 2, -1]) * np.array([i + .5, 2, -1]) + 0.625, 12)).tolist()}
""" for i in range(5))
    suite = load(cases)
    evaluations, interpreted, first = [], [], []
    evaluate, jacobians, unplanned = autodiff.evaluate, compiled_module.jacobians, compiled_module.unplanned
    monkeypatch.setattr(autodiff, "evaluate", lambda graph, env: evaluations.append(1) or evaluate(graph, env))
    monkeypatch.setattr(compiled_module, "jacobians", lambda *args: interpreted.append(1) or jacobians(*args))
    monkeypatch.setattr(compiled_module, "unplanned",
                        lambda *args: (lambda got: first.append(got[0] is not None) or got)(unplanned(*args)))
    results = suites.run_cases(suite.cases)
    assert [r.status for r in results] == ["passed"] * 5, [r.failures for r in results]
    assert len(evaluations) == 5  # one forward pass per case (it was two for each case without a kernel)
    # the first case is answered by its dense pass, no plan (an element-wise graph: its diagonal is read off
    # the graph); the second makes the plan and the kernel, which runs the third to the fifth
    assert first == [True] and len(interpreted) == 1
    compiled = api.prepare(expr, {"x": [1.0, 2.0, 3.0]}).compiled
    assert [k for key, k in compiled.kernels().items() if key[0] == "jacobian"][0] is not None


def test_progress_draws_every_line_with_one_renderer(monkeypatch, capsys):
    """Plain lines (a CI log) come from one Renderer, not one made per case; on a terminal the
    failures above the bar show control characters in a name escaped, as every other line does."""
    from jacobi_cli.cli import render

    made = []

    class Counted(render.Renderer):
        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    results = suites.run_cases(load(PASSING + FAILING).cases)
    results[1].name = "wrong \x1b[2J jacobian"
    monkeypatch.setattr(render, "Renderer", Counted)
    with RunProgress(len(results)) as progress:
        for result in results:
            progress(result)
    out = capsys.readouterr().out
    assert len(made) == 1 and out.count("\n") == 2 and "\\x1b[2J" in out and "\x1b" not in out
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, force_interactive=True, width=100)
    with RunProgress(len(results), console) as progress:
        for result in results:
            progress(result)
    assert "FAIL  wrong \\x1b" in buffer.getvalue() and "wrong \x1b" not in buffer.getvalue()  # (rich styles the rest)


TOML_1_1 = {  # what TOML 1.1 added: rtoml 0.14 reads it, tomllib (TOML 1.0, the reference) refuses it
    "an inline table over lines": 'bindings = {\n  x = [2, 3]\n}',
    "a trailing comma": 'bindings = { x = [2, 3], }',
    "a comment in an inline table": 'bindings = { x = [2, 3], # the point\n }',
    "a nested inline table over lines": 'bindings = { x = [2, 3] }\ncheck = { rtol = 1e-5,\n atol = 1e-8 }',
    "an inline table after a string": 'bindings = { x = "[2, 3]",\n }',
    "\\e": 'bindings = { x = [2, 3] }\ndescription = "\\e[1m"',
    "\\x": 'bindings = { x = [2, 3] }\ndescription = """sq\\x75are"""',
    "a time without seconds": 'bindings = { x = [2, 3] }\ndescription = 10:30',
    "a date-time without seconds": 'bindings = { x = [2, 3] }\ndescription = 2026-11-30T10:30Z',
}


@pytest.mark.parametrize("what", list(TOML_1_1))
def test_toml_1_1_is_refused_as_tomllib_refuses_it(what):
    """A suite that rtoml reads but tomllib refuses must not pass in jac and fail elsewhere
    (Python 3.10 without rtoml, other TOML tools): it is refused as not valid TOML."""
    text = f'[[case]]\nname = "square"\nexpr = "x**2"\n{TOML_1_1[what]}\njacobian.x = [[4, 0], [0, 6]]\n'
    assert suites._may_be_toml_1_1(text)
    with pytest.raises(JacSuiteError, match="not valid TOML"):
        suites.parse_suite(text)


def test_toml_1_0_with_look_alikes_reads_as_tomllib_reads_it():
    """Strings, comments and slices that look like TOML 1.1 read as tomllib reads them (by
    tomllib, or by rtoml where nothing looks like it); a plain suite stays with rtoml."""
    plain = '[[case]]\nname = "a { b"  # a } brace { in a comment\nexpr = "x[1:3] * 2"\n' \
            'bindings = { x = "arange(4.0)", y = \'{\' } # {\nvalue = [2, 4]\n'
    assert not suites._may_be_toml_1_1(plain) and not suites._may_be_toml_1_1(SEEDS.read_text())
    looks_like = ['a = "x[10:20]"\n', "a = 'C:\\examples'\n", 'a = "\\\\e"\n', 'a = 1979-05-27T07:32:00+07:00\n',
                  'a = """\n{\n"""\n', 'a = { b = "}", c = 1 }\n', 'a = { b = "{" }\n', "a = { b = '\"' }\n",
                  'a = [\n { b = 1 },\n { c = 2 },\n]\n']
    for text in looks_like:
        assert suites._toml(text) == suites.tomllib.loads(text), text


INVALID_TOML = [  # kinds of toml-test's invalid cases: tomllib refuses each; rtoml must not let one through
    'a = 1\na = 2\n', 'a = 1\n"a" = 2\n', '[t]\nx=1\n[t]\ny=2\n', '[a]\nb = 1\n[a.b]\nc = 2\n', 'a.b = 1\n[a]\nc = 2\n',
    'a = 1\na.b = 2\n', 'a = {b = 1}\na.c = 2\n', 'a = {b = 1}\n[a]\nc = 2\n', 'a = {b = 1, b.c = 2}\n',
    '[[a]]\nx=1\n[a]\ny=2\n', 'a = [1]\n[[a]]\n', '[a]\n[[a]]\n', '[fruit]\napple.color = "red"\n[fruit.apple]\n',
    'a = []\n[[a.b]]\n', '[[a]]\nb = 1\n[a.b]\n', 'a = {b = {c = 1}}\n[a.b.d]\n', 'a = [{b = 1}]\n[[a]]\n',
    'a = "\\q"\n', 'a = "\\uD800"\n', 'a = "\\u12"\n', 'a = "\\x41"\n', 'a = "\\e"\n', 'a = "\\U0011FFFF"\n',
    'a = 012\n', 'a = 01.5\n', 'a = +012\n', 'a = -01\n', 'a = _1\n', 'a = 1_\n', 'a = 1__2\n', 'a = 1.\n', 'a = .5\n',
    'a = 1e\n', 'a = 1_e2\n', 'a = 0X1F\n', 'a = 0x1.8p1\n', 'a = 0b102\n', 'a = -0x1\n', 'a = +0o7\n', 'a = Inf\n',
    'a = NaN\n', 'a = ++inf\n', 'a = True\n', 'a = 2020-13-01\n', 'a = 2021-02-30\n', 'a = 2021-02-29\n',
    'a = 2020-01-01T25:00:00Z\n', 'a = 2020-01-01T10:61:00Z\n', 'a = 2020-01-01T10:00:61Z\n', 'a = 2020-1-01\n',
    'a = 10:00\n', 'a = 1979-05-27T07:32Z\n', 'a = 1979-05-27 07:32\n', 'a = 1979-05-27T07:32:00+25:00\n',
    'a = 1979-05-27T07:32:00Zx\n', 'a = 1979-05-2707:32:00Z\n', 'a = 07:32:00.\n', 'a = "x\ny"\n', "a = 'x\ny'\n",
    'a = "x\x01y"\n', 'a = "x\x7fy"\n', '# x\x01\na = 1\n', '# x\x7f\na = 1\n', 'a = 1\rb = 2\n', 'a =\n', 'a 1\n',
    'a = 1 b = 2\n', 'a = {b = 1,}\n', 'a = {b = 1,\nc = 2}\n', 'a = {\n b = 1\n}\n', 'a = {b = 1, # c\n c = 2}\n',
    'a = {,}\n', 'a = [1 2]\n', 'a = [,1]\n', 'a = [1, 2\n', 'a = "x\n', 'a = """x\n', ' = 1\n', 'a.b! = 1\n',
    'a b = 1\n', 'é = 1\n', '[]\n', '[a.]\n', '[[a]\n', '[a] b = 1\n', 'a = """x""""""\n', 'a = """x\\ y"""\n',
]


def test_every_invalid_toml_document_is_refused():
    for text in INVALID_TOML:
        with pytest.raises(suites.tomllib.TOMLDecodeError):
            suites.tomllib.loads(text)
        with pytest.raises(suites.tomllib.TOMLDecodeError):
            suites._toml(text)


def test_the_toml_1_1_scan_reads_an_unterminated_string_to_the_line_end_in_one_match():
    """As the JSON depth scan: the string pattern failed on an unterminated basic string and was
    retried from every later quote (a 40 KB line of \\" took 10 s); it now matches to the line's
    end, and the suite is still refused by the TOML reader."""
    from jacobi_cli.tools.suite import _ONE_LINE_STRING

    for line in ['"' + '\\"' * 1000, '"abc\\', '"{ {']:
        assert _ONE_LINE_STRING.match(line).end() == len(line), line
    assert _ONE_LINE_STRING.sub("s", 'x = {a = "}", b = \'{\'}') == "x = {a = s, b = s}"
