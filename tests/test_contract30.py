"""The contract's loose ends contract29 left (contract30): a one-element tuple and an empty tuple / list as the last
statement read by the "several outputs" rules of ../shared/CONTRACT.md under every command; `jac diff` not taking a
lambda's parameter for an input; `jac run` suites pinning several outputs (docs/suites.md, "Several outputs");
`--out` never leaving a half-written file under its final name (Ctrl-C, a full disk, a hostile path); and what the
contract's newer sections (batches, several outputs, higher orders, files) do with impossible combinations: exit 2,
one message, no traceback, no file lost.

In this process through ``entry.main``, as the ``jac`` script runs; the Ctrl-C tests start real processes."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time

import jsonschema
import numpy as np
import pytest

from jacobi_cli.cli import entry, schema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
JAC = [sys.executable, "-m", "jacobi_cli"]
VALIDATORS = {n: jsonschema.Draft202012Validator(schema.load(n)) for n in schema.names()}
COMMANDS = ["eval", "vjp", "jvp", "hessian", "derivative", "shape", "diff", "check", "graph"]
EXTRA = {"jvp": ["--tangent", "x=ones"], "diff": ["--wrt", "x"], "derivative": ["--order", "2"]}


def run(*args) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str) -> dict:
    def bare(token):
        raise AssertionError(f"bare {token} in the JSON")
    return json.loads(text, parse_constant=bare)


def ok(*args, code=0) -> dict:
    got, out, err = run(*args, "--json")
    assert got == code, (args, err)
    obj = strict_json(out)
    VALIDATORS[str(args[0])].validate(obj)
    return obj


def refused(*args, kind=None) -> dict:
    """Exit 2: one JSON error object (valid against error.json) on stdout, its message once on stderr."""
    code, out, err = run(*args, "--json")
    assert code == 2, (args, code, out[:300], err)
    error = strict_json(out)
    VALIDATORS["error"].validate(error)
    assert list(error) == ["error"], error
    assert kind is None or error["error"]["kind"] == kind, error
    assert err.count("jac: error") == 1 and "Traceback" not in err, err
    assert error["error"]["message"] in err
    return error["error"]


def without(obj, *keys):
    """``obj`` without ``keys`` at any depth."""
    if isinstance(obj, dict):
        return {k: without(v, *keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [without(v, *keys) for v in obj]
    return obj


# -- 2. a one-element tuple is one output; () and [] are no output ------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("one, plain, name", [
    ("(sin(x).sum(),)", "sin(x).sum()", "y0"),
    ("y = sin(x).sum(); (y,)", "y = sin(x).sum(); y", "y"),
])
def test_a_one_element_tuple_is_the_one_output_the_contract_names(command, one, plain, name):
    """The contract: a final tuple's outputs are named by their variable or y0, y1, ...; with one output the JSON is
    exactly as for a plain expression. So (e,) is e, named y0 (it was refused, where {'a': e} was one output)."""
    got = ok(command, one, "x=[0.5,-1.25]", *EXTRA.get(command, []))
    want = ok(command, plain, "x=[0.5,-1.25]", *EXTRA.get(command, []))
    assert "outputs" not in got and got["output"]["name"] == name
    assert without(got, "expression", "name", "id", "legend") == without(want, "expression", "name", "id", "legend")


def test_a_one_element_tuple_of_a_constant_is_that_constant_not_a_vector_of_one():
    """(1.0,) was folded into the vector [1.0] while (1.0, 2.0) was two outputs: now both read as the tuple."""
    obj = ok("eval", "(1.0,)", "x:2")
    assert obj["output"] == {"shape": [], "kind": "scalar", "value": 1.0, "name": "y0"}
    assert ok("eval", "(1.0, 2.0)", "x:2")["outputs"][1]["value"] == 2.0


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("text, what", [
    ("()", "the last statement is an empty tuple"),
    ("[]", "the last statement is an empty list"),
    ("y = (); y", "the last statement is an empty tuple"),
    ("x.sum(), ()", "output 1 (y1) is an empty tuple"),
    ("x.sum(), []", "output 1 (y1) is an empty list"),
    ("{'a': x.sum(), 'b': ()}", "the output y['b'] is an empty tuple"),
    ("out = {'a': [], 'b': x.sum()}; out", "the output out['a'] is an empty list"),
])
def test_an_empty_tuple_or_list_as_an_output_is_refused_saying_there_is_no_output(command, text, what):
    """() and [] were an empty array of shape (0,), as np.asarray(()); JAX reads them as a pytree without a leaf
    and the contract as a tuple of no outputs: the readings differ, so jac refuses, as it refuses {}."""
    error = refused(command, text, "x=[0.5,-1.25]", *EXTRA.get(command, []), kind="value")
    assert error["message"].startswith(what) and "no output" in error["message"], error
    assert "zeros(0)" in error["message"]


@pytest.mark.parametrize("text", ["y = torch.tensor([]); x.sum(), y", "x.sum(), np.array(())", "x.sum(), zeros(0)",
                                  "x.sum(), x[2:]"])
def test_an_empty_array_asked_for_is_still_an_output(text):
    obj = ok("eval", text, "x=[0.5,-1.25]")
    assert obj["outputs"][1]["shape"] == [0] and obj["outputs"][1]["value"] == []
    assert obj["jacobians"][obj["outputs"][1]["name"]]["x"]["shape"] == [0, 2]


def test_a_binding_may_still_be_an_empty_tuple_or_list():
    for value in ("()", "[]", "(1.0,)"):
        obj = ok("eval", "x.sum() + y.sum()", "x=[1,2]", f"y={value}")
        assert obj["inputs"]["y"]["shape"] == ([1] if value == "(1.0,)" else [0])


def test_run_reads_a_one_element_tuple_and_refuses_an_empty_one(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "one"\nexpr = "(sin(x).sum(),)"\nbindings = { x = [0.0, 0.0] }\n'
                     'value = 0\njacobian.x = [1, 1]\n\n'
                     '[[case]]\nname = "none"\nexpr = "x.sum(), ()"\nbindings = { x = [0.0, 0.0] }\nvalue = 0\n')
    error = refused("run", suite, "--jobs", "1", kind="value")
    assert error["case"] == "none" and error["key"] == "expr" and "empty tuple" in error["message"], error
    suite.write_text(suite.read_text().split("\n\n")[0])
    obj = ok("run", suite, "--jobs", "1")
    assert obj["cases"][0]["status"] == "passed" and obj["summary"]["passed"] == 1


# -- 4. jac diff: a lambda's or function's parameter is no input -----------------------------------------------

@pytest.mark.parametrize("text, inputs", [
    ("jax.grad(lambda p: jnp.sum(p * x))(x)", ["x"]),
    ("f = lambda q: q**2 * x; f(x)", ["x"]),
    ("def g(u):\n    return u**3\ng(x)", ["x"]),
    ("f = lambda q: q**2; f(x) + q", ["x", "q"]),  # q outside the lambda is the text's own free name
    ("f = lambda q: q * w; f(x)", ["w", "x"]),  # w is free inside the lambda
])
def test_diff_lists_no_lambda_parameter_among_the_inputs(text, inputs):
    from jacobi_cli.tools.symbolic import free_names
    obj = ok("diff", text)
    assert list(obj["inputs"]) == inputs, obj["inputs"]
    assert free_names(text, set()) == inputs
    code, out, err = run("diff", text)
    assert code == 0 and all(f"input  {n}:" in out for n in inputs) and out.count("input  ") == len(inputs), out


def test_diff_of_a_lambda_is_the_derivative_of_its_body():
    obj = ok("diff", "f = lambda q: q**3 * x; f(x)", "--wrt", "x")
    assert obj["output"]["expr"] == "x**4"
    assert obj["derivative"]["x"]["expr"] == "4*x**3"


# -- 1. jac run: a case pins several outputs -------------------------------------------------------------------

X = np.array([0.25, -1.5, 2.0])
SEVERAL = f'''
[[case]]
name = "tuple"
expr = "a = sin(x) * w; b = (x**2).sum(); a, b"
bindings = {{ x = {X.tolist()}, w = 3.0 }}
value.a = {(np.sin(X) * 3).tolist()}
value.b = {float((X**2).sum())!r}
jacobian.a.x = {np.diag(np.cos(X) * 3).tolist()}
jacobian.a.w = {np.sin(X).tolist()}
jacobian.b.x = {(2 * X).tolist()}
hessian.b."x,x" = {(2 * np.eye(3)).tolist()}
hessian.a."w,x" = {np.diag(np.cos(X)).tolist()}
output_shape = {{ a = [3], b = [] }}
jacobian_shape.a.w = [3]
math_shape.a.x = [3, 3]
math_shape.b.x = [1, 3]
check = true

[[case.vjp]]
v.a = [1.0, 2.0, 3.0]
grad.x = {(np.array([1.0, 2.0, 3.0]) * np.cos(X) * 3).tolist()}
grad.w = {float(np.dot([1.0, 2.0, 3.0], np.sin(X)))!r}

[[case.vjp]]
v = "ones"
grad.x = {(np.cos(X) * 3 + 2 * X).tolist()}

[[case.jvp]]
tangent = {{ x = [1.0, 0.0, 0.0] }}
expected.a = {[float(3 * np.cos(X[0])), 0.0, 0.0]}
expected.b = {float(2 * X[0])!r}

[[case]]
name = "dict"
expr = "{{'s': sin(x).sum(), 'q': (x**3).sum()}}"
bindings = {{ x = {X.tolist()} }}
value."y['s']" = {float(np.sin(X).sum())!r}
jacobian."y['q']".x = {(3 * X**2).tolist()}

[[case.vjp]]
grad.x = {(np.cos(X) + 3 * X**2).tolist()}

[[case]]
name = "shapes only"
expr = "u = A @ x; s = x.sum(); u, s"
bindings = {{ A = ":mxn", x = ":n" }}
output_shape = {{ u = ["m"], s = [] }}
jacobian_shape.u.A = ["m", "m", "n"]
math_shape.s.x = [1, "n"]
'''


def test_a_suite_pins_each_output_against_numpy_formulas(tmp_path):
    """Each expectation per output, with the contract's names (a, b; y['s'] of a dict; u, s with sizes kept symbolic), the
    expected values written from NumPy's formulas, not from jac; every one met."""
    suite = tmp_path / "several.toml"
    suite.write_text(SEVERAL)
    obj = ok("run", suite, "--jobs", "1")
    assert obj["exit_code"] == 0, obj
    keys = {c["name"]: [e["key"] for e in c["expectations"]] for c in obj["cases"]}
    assert keys["tuple"] == ["output_shape.a", "output_shape.b", "jacobian_shape.a.w", "math_shape.a.x",
                             "math_shape.b.x", "value.a", "value.b", "jacobian.a.x", "jacobian.a.w", "jacobian.b.x",
                             "vjp[0].grad.x", "vjp[0].grad.w", "vjp[1].grad.x", "jvp[0].expected.a",
                             "jvp[0].expected.b", "hessian.a.w,x", "hessian.b.x,x", "check.a.x", "check.a.w",
                             "check.b.x", "check.b.w"]
    assert keys["dict"] == ["value.y['s']", "jacobian.y['q'].x", "vjp[0].grad.x"]
    about = {c["name"]: [e.get("output") for e in c["expectations"]] for c in obj["cases"]}
    assert about["dict"] == ["y['s']", "y['q']", None]  # a vjp's grads are of every output at once
    assert about["tuple"][:5] == ["a", "b", "a", "a", "b"] and about["tuple"][-4:] == ["a", "a", "b", "b"]
    assert keys["shapes only"] == ["output_shape.u", "output_shape.s", "jacobian_shape.u.A", "math_shape.s.x"]
    assert all(e["passed"] for c in obj["cases"] for e in c["expectations"])


def test_a_wrong_value_of_one_output_fails_naming_that_output(tmp_path):
    suite = tmp_path / "several.toml"
    wrong = SEVERAL.replace(f"value.b = {float((X**2).sum())!r}", f"value.b = {float((X**2).sum()) + 1e-3!r}")
    wrong = wrong.replace(f"expected.b = {float(2 * X[0])!r}", f"expected.b = {float(-2 * X[0])!r}")
    wrong = wrong.replace("v.a = [1.0, 2.0, 3.0]", "v.a = [1.0, 2.0, 3.0]\nv.b = 1.0")  # grad.x now short of 2x
    assert wrong.count("value.b") == 1 and "v.b = 1.0" in wrong
    suite.write_text(wrong)
    obj = ok("run", suite, "--jobs", "1", code=1)
    failed = [e["key"] for c in obj["cases"] for e in c["expectations"] if not e["passed"]]
    assert failed == ["value.b", "vjp[0].grad.x", "jvp[0].expected.b"], failed


def test_several_outputs_in_a_batch_are_per_example_with_the_batch_axis_first(tmp_path):
    xs = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
    v = np.array([1.0, -2.0, 0.5])
    suite = tmp_path / "b.toml"
    suite.write_text(f'''[[case]]
name = "batched"
expr = "a = sin(x); b = (x**2).sum(); a, b"
bindings = {{ x = {xs.tolist()} }}
batch = "x"
value.a = {np.sin(xs).tolist()}
value.b = {(xs**2).sum(axis=1).tolist()}
jacobian.a.x = {np.stack([np.diag(np.cos(r)) for r in xs]).tolist()}
jacobian.b.x = {(2 * xs).tolist()}
check = true

[[case.vjp]]
v.b = {v.tolist()}
grad.x = {(2 * xs * v[:, None]).tolist()}

[[case.jvp]]
tangent = {{ x = "ones" }}
expected.a = {np.cos(xs).tolist()}
expected.b = {(2 * xs).sum(axis=1).tolist()}
''')
    obj = ok("run", suite, "--jobs", "1")
    assert obj["exit_code"] == 0 and len(obj["cases"][0]["expectations"]) == 9, obj
    bad = suite.read_text().replace(f"v.b = {v.tolist()}", "v.b = [1.0, 2.0]")
    suite.write_text(bad)
    obj = ok("run", suite, "--jobs", "1", code=2)
    assert obj["cases"][0]["error"]["key"] == "vjp[0].v", obj["cases"][0]


def test_a_several_output_suite_reads_the_same_in_worker_processes(tmp_path):
    suite = tmp_path / "several.toml"
    suite.write_text(SEVERAL)
    one = ok("run", suite, "--jobs", "1")
    two = ok("run", suite, "--jobs", "2")
    strip = lambda o: [[(e["key"], e["passed"]) for e in c["expectations"]] for c in o["cases"]]  # noqa: E731
    assert strip(one) == strip(two)


@pytest.mark.parametrize("line, key, words", [
    ("value = [1.0, 2.0, 3.0]", "value", "the expression has 2 outputs (a, b): give each output its own, value.a"),
    ("value.c = 1", "value.c", "no output named 'c' (outputs: a, b)"),
    ("value.aa = 1", "value.aa", "did you mean 'a'"),
    ("jacobian.x = [1, 1, 1]", "jacobian.x", "'x' is an input: with several outputs the keys are jacobian.OUT.IN"),
    ("value = { expected = 1, rtol = 0 }", "value.expected", "an expectation table goes under each output"),
    ("jacobian.a.z = [1, 1, 1]", "jacobian.a.z", "'z' is not bound"),
    ("hessian.b.x = 1", "hessian.b.x", 'Hessian blocks are named "a,b"'),
    ("output_shape = [3]", "output_shape", "give each output its own, output_shape.a"),
    ("math_shape.b = [1, 3]", "math_shape.b", "must be a table"),
    ("[[case.vjp]]\nv = [1.0, 1.0, 1.0]\ngrad.x = [1, 1, 1]", "vjp[0].v", "give each output its own, vjp[0].v.a"),
    ("[[case.vjp]]\nv.q = 1\ngrad.x = [1, 1, 1]", "vjp[0].v.q", "no output named 'q'"),
    ("[[case.jvp]]\ntangent = { x = 'ones' }\nexpected = 1", "jvp[0].expected", "give each output its own"),
])
def test_a_several_output_expectation_written_for_one_output_is_refused_naming_case_and_key(tmp_path, line, key,
                                                                                            words):
    suite = tmp_path / "e.toml"
    suite.write_text('[[case]]\nname = "c"\nexpr = "a = sin(x); b = (x**2).sum(); a, b"\n'
                     f'bindings = {{ x = [0.0, 1.0, 2.0] }}\n{line}\n')
    error = refused("run", suite, "--jobs", "1")
    assert error["case"] == "c" and error["key"] == key, error
    assert words in error["message"], error


def test_a_case_with_one_output_reads_as_before():
    """A lone output (one leaf of a dict, a one-element tuple) keeps the one-output keys: value, jacobian.x."""
    obj = ok("run", os.path.join(ROOT, "examples", "seeds.toml"), "--jobs", "1")
    assert obj["exit_code"] == 0


# -- 3. Ctrl-C while a result is written ----------------------------------------------------------------------

BIG = ["eval", "sin(x)", "x:1500"]  # an 11 MB JSON object: its write takes far longer than a pipe holds


def test_ctrl_c_while_json_goes_into_a_stalled_pipe_is_130_and_writes_no_more():
    """A partial object is unavoidable once bytes are out; the exit code is what tells: 130, as the contract says,
    and jac writes nothing after the interrupt (the object is cut, never completed later nor followed by another)."""
    proc = subprocess.Popen(JAC + BIG + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    head = proc.stdout.read(64)  # jac is writing: the pipe fills behind these bytes and stalls it
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and b"Traceback" not in err, err[-300:]
    assert head.startswith(b'{"jac_version": 1, "command": "eval"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(head + rest)


def test_ctrl_c_while_out_writes_its_file_leaves_the_old_file_and_no_temporary(tmp_path):
    """--out FILE.json is written to a temporary file beside it and renamed when complete: Ctrl-C as soon as the
    temporary file appears (mid-write) leaves the old file byte for byte, and no temporary file behind."""
    target = tmp_path / "J.json"
    target.write_text("old")
    proc = subprocess.Popen(JAC + BIG + ["--out", str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    deadline = time.monotonic() + 120
    while len(os.listdir(tmp_path)) == 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and b"Traceback" not in err, (proc.returncode, err[-300:])
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["J.json"]


def test_the_docs_several_outputs_suite_passes(tmp_path):
    """docs/suites.md's example of several outputs, run as written: every expectation met."""
    text = open(os.path.join(ROOT, "docs", "suites.md"), encoding="utf-8").read()
    block = text.split("**Several outputs.**", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    suite = tmp_path / "docs.toml"
    suite.write_text(block)
    obj = ok("run", suite, "--jobs", "1")
    assert obj["exit_code"] == 0 and obj["summary"]["passed"] == 1
    assert len(obj["cases"][0]["expectations"]) == 12, [e["key"] for e in obj["cases"][0]["expectations"]]


# -- 5. hostile files and impossible combinations: exit 2, one message, no file lost -------------------------

@pytest.fixture
def hostile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "keep.json").write_text("keep")
    os.symlink("/nonexistent/x.json", tmp_path / "dangling.json")
    os.symlink("loop.json", tmp_path / "loop.json")
    os.symlink("adir", tmp_path / "dirlink.json")
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "suite.toml").write_text('[[case]]\nname = "c"\nexpr = "sin(x).sum()"\nbindings = { x = [0.0] }\n'
                                         'value = 0\n')
    return tmp_path


HOSTILE_OUT = {
    "adir": "it is a directory", "dirlink.json": "it is a directory", "fifo.json": "not a regular file",
    "/dev/full": "not a regular file", "dangling.json": "a symbolic link to '/nonexistent/x.json', whose folder "
    "'/nonexistent' does not exist", "loop.json": "symbolic links form a loop", "nodir/x.json": "the folder 'nodir'",
    "keep.json/x.json": "not a directory", "x.txt": "not '.txt'", "": "empty",
}
WRITERS = {"eval": ["eval", "sin(x)", "x:3", "--out"], "several": ["eval", "a = sin(x); b = x.sum(); a, b", "x:3", "--out"],
           "batch": ["eval", "sin(x)", "x:4x3", "--batch", "x", "--out"], "junit": ["run", "suite.toml", "--jobs", "1",
                                                                                    "--junit"]}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("target", list(HOSTILE_OUT))
def test_a_hostile_out_or_junit_target_is_one_clear_message_and_no_file_touched(hostile, writer, target):
    if writer == "junit" and target == "x.txt":
        pytest.skip("--junit takes any suffix")
    before = sorted(os.listdir(hostile))
    error = refused(*WRITERS[writer], target)
    assert error["kind"] in ("io", "usage") and HOSTILE_OUT[target] in error["message"], error
    assert sorted(os.listdir(hostile)) == before and (hostile / "keep.json").read_text() == "keep"


def test_a_folder_that_takes_no_new_file_says_the_temporary_file_could_not_be_made(hostile):
    """/proc/version is a regular file, but /proc makes no temporary file beside it: the message said 'no such file
    or directory' alone, of a file that exists."""
    error = refused("run", "suite.toml", "--jobs", "1", "--junit", "/proc/version")
    assert "making the temporary file beside it" in error["message"], error


IMPOSSIBLE = [
    (["derivative", "sin(x)", "x:3", "--order", "0"], "--order must be a whole number from 1"),
    (["derivative", "sin(x).sum()", "x:3", "y:2", "--order", "2"], "with respect to one input"),
    (["derivative", "sin(x).sum()", "x:300", "--order", "4"], "more than jac's limit"),
    (["hessian", "sin(x).sum()", "x:20000"], "over the limit"),
    (["eval", "sin(x)", "x:3", "--batch", "x:1"], "no axis 1"),
    (["eval", "x + y", "x:3x2", "y:4x2", "--batch", "x", "--batch", "y"], "disagree on the batch size"),
    (["eval", "sin(x)", "x:0", "--batch", "x"], "the batch is empty"),
    (["eval", "sin(x)", "x:100000", "--max-memory", "1M"], "over the memory budget"),
    (["vjp", "a = sin(x); b = x.sum(); a, b", "x:3", "--v", "[1,2,3]"], "OUT=VALUE"),
    (["vjp", "a = sin(x); b = x.sum(); a, b", "x:3", "--v", "a=[1,2]"], "the output a has shape (3,)"),
    (["eval", "a = sin(x); b = x.sum(); a, b", "x:3", "--out", "j.npy"], ".npz"),
    (["eval", "a = sin(x); b = x.sum(); a, b", "x:3", "--symbolic"], "one output"),
    (["eval", "()", "x:3", "--out", "e.json"], "no output"),
    (["graph", "sin(x)", "x:3", "--v", "ones"], "needs --backward"),
    (["diff", "sin(x)", "x:n", "--batch", "x"], "must be a number"),
    (["run", "suite.toml", "--shard", "4/3"], "--shard must be K/N"),
]


@pytest.mark.parametrize("args, words", IMPOSSIBLE, ids=[" ".join(a)[:40] for a, _ in IMPOSSIBLE])
def test_an_impossible_combination_is_exit_2_with_one_message_and_nothing_written(hostile, args, words):
    error = refused(*args)
    assert words in error["message"], error
    assert sorted(os.listdir(hostile)) == ["adir", "dangling.json", "dirlink.json", "fifo.json", "keep.json",
                                           "loop.json", "suite.toml"]


@pytest.mark.parametrize("target", ["/proc/x.json", "x" * 245 + ".json"])
def test_a_target_beside_which_no_temporary_file_can_be_made_is_refused_before_any_work(hostile, target):
    """/proc takes no new file, and a name of 250 bytes leaves no room for the temporary file's prefix and suffix:
    both failed only once the work was done (jac run had printed every case, exit 2 after them); now refused first,
    standard output empty, nothing left in the folder."""
    before = sorted(os.listdir(hostile))
    for args in (["run", "suite.toml", "--jobs", "1", "--junit", target], ["eval", "sin(x)", "x:3", "--out", target]):
        code, out, err = run(*args)
        assert code == 2 and out == "" and err.count("jac: error (io)") == 1, (args, code, out, err)
        assert "making the temporary file beside it" in err
    assert sorted(os.listdir(hostile)) == before


def test_an_output_name_holding_dots_is_given_apart_from_the_key(tmp_path):
    """value.y['a.b'] cannot be split at its dots: --json's "output" names the output; a one-output case has none."""
    suite = tmp_path / "dots.toml"
    suite.write_text('[[case]]\nname = "dots"\nexpr = "{\'a.b\': x.sum(), \'c\': (2 * x).sum()}"\n'
                     'bindings = { x = [1.0, 2.0] }\nvalue."y[\'a.b\']" = 3\njacobian."y[\'c\']".x = [2, 2]\n\n'
                     '[[case]]\nname = "one"\nexpr = "x.sum()"\nbindings = { x = [1.0, 2.0] }\nvalue = 3\n')
    obj = ok("run", suite, "--jobs", "1")
    dots, one = obj["cases"]
    assert [(e["key"], e["output"]) for e in dots["expectations"]] == [("value.y['a.b']", "y['a.b']"),
                                                                        ("jacobian.y['c'].x", "y['c']")]
    assert "output" not in one["expectations"][0]


@pytest.mark.parametrize("text", [
    "({'a': x**2, 'b': x**3},)",
    "x**2, {'a': x**2, 'b': x**3}",
    "d = {'a': x**2, 'b': [x**3, x]}; (d,)",
    "d = {'a': x**2, 'b': x**3}; x**2, d",
    "(x**2,)",
])
def test_diff_names_the_outputs_of_a_tuple_holding_a_pytree_as_eval_does(text):
    """jac diff refused a final tuple one of whose parts is a dict ("differentiates one output"), and a tuple of one
    dict, where jac eval lists each leaf (y1['a'], y0['b']): now each is differentiated on its own, named alike."""
    got = ok("diff", text, "x:3", "--wrt", "x")
    evaluated = ok("eval", text, "x=[0.5, -1.0, 2.0]")
    names = [o["name"] for o in got.get("outputs", [got.get("output")])]
    assert names == [o["name"] for o in evaluated.get("outputs", [evaluated.get("output")])]
    exprs = [o["expr"] for o in got.get("outputs", [got.get("output")])]
    powers = {"x**2": "[x[0]**2, x[1]**2, x[2]**2]", "x**3": "[x[0]**3, x[1]**3, x[2]**3]", "x": "[x[0], x[1], x[2]]"}
    want = {"({'a': x**2, 'b': x**3},)": ["x**2", "x**3"], "x**2, {'a': x**2, 'b': x**3}": ["x**2", "x**2", "x**3"],
            "d = {'a': x**2, 'b': [x**3, x]}; (d,)": ["x**2", "x**3", "x"],
            "d = {'a': x**2, 'b': x**3}; x**2, d": ["x**2", "x**2", "x**3"], "(x**2,)": ["x**2"]}[text]
    assert exprs == [powers[w] for w in want]


def test_suites_written_from_the_commands_json_pass_and_a_changed_value_fails_that_key_alone(tmp_path, monkeypatch):
    """benchmarks/contract30_probe.py's suites part: for a tuple, a dict, a named tuple and a tuple holding a pytree,
    every expectation read off jac eval / vjp / jvp --json of the same text (the contract's per-output keys) is met
    by jac run, and one output's value changed fails exactly that key."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import contract30_probe
    monkeypatch.chdir(tmp_path)
    assert contract30_probe.suites() == []
