"""Acceptance checks of ../shared/CONTRACT.md against what twelve sessions added after contract16 (contract29):
the last statements the parser reads since (a named tuple of the library, a dict, a nested pytree, a derivative
written in the text, a model's parameters the text makes) under every command that computes, crossed with
--batch, --wrt, --dtype float32 and --json; each JSON object against its command's schema (cli/schemas); vjp's
--v rules, --out, --max-memory and error positions for those outputs; jac run's exit codes; and a slice of
benchmarks/contract29_sweep.py (its grid and its seeded random sweep: exit 0/1/2 only, no traceback, exit 2 one
message and one error object).

In this process through ``entry.main``, as the ``jac`` script runs; only the closed pipes start processes.
The full sweep (414 grid calls and 2,000 random ones) is ``python benchmarks/contract29_sweep.py``."""

import contextlib
import io
import json
import os
import subprocess
import sys

import jsonschema
import numpy as np
import pytest

from jacobi_cli.cli import entry, schema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import contract29_sweep as sweep  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
JAC = [sys.executable, "-m", "jacobi_cli"]
VALIDATORS = {n: jsonschema.Draft202012Validator(schema.load(n)) for n in schema.names()}


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


def values(obj, path=()):
    """Every ``"value"`` of a JSON object, by its path of keys (outputs by their name)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "value":
                yield path, v
            else:
                yield from values(v, path + (k,))
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        for v in obj:
            yield from values(v, path + (v.get("name"),))


# ---------------------------------------------------------------------------------------------------
# several outputs of the kinds added since contract16: names, keys, schema, --batch bit for bit

X = [[1.0, 2.0], [3.0, -4.0], [0.5, 6.0]]
W = [[1.0, -1.0], [0.5, 2.0]]
SEVERAL = {
    "named": ("torch.linalg.qr(W * x + 3 * torch.eye(2))", ["Q", "R"]),
    "dict": ("{'a': tanh(W @ x), 'b': (x * x).sum()}", ["y['a']", "y['b']"]),
    "pytree": ("{'a': (tanh(W @ x), W.sum()), 'b': [x.sum() * W[0]]}", ["y['a'][0]", "y['a'][1]", "y['b'][0]"]),
}
ONE = {"grad": "jax.grad(lambda w: jnp.sum(jnp.sin(w @ x)))(W)",
       "linear": "fc = nn.Linear(2, 3); torch.tanh(fc(x)) + W.sum()"}
PLURAL = {"eval": "jacobians", "jvp": "jvps", "hessian": "hessians", "derivative": "derivatives"}
EXTRA = {"eval": [], "vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "hessian": [],
         "derivative": ["--order", "2", "--wrt", "x"]}


@pytest.mark.parametrize("command", list(EXTRA))
@pytest.mark.parametrize("last", list(SEVERAL) + list(ONE))
def test_new_outputs_batch_is_each_example_alone_bit_for_bit_with_the_contracts_keys(command, last):
    expr, names = SEVERAL[last] if last in SEVERAL else (ONE[last], None)
    batched = ok(command, expr, f"x={X}", f"W={W}", "--batch", "x", *EXTRA[command])
    alone = [ok(command, expr, f"x={x}", f"W={W}", *EXTRA[command]) for x in X]
    assert batched["batch"]["size"] == 3 and batched["batch"]["inputs"] == {"x": 0}
    if names is None:
        assert "output" in batched and "outputs" not in batched
    else:
        assert [o["name"] for o in batched["outputs"]] == names and "output" not in batched
        if command in PLURAL:
            assert list(batched[PLURAL[command]]) == names and PLURAL[command][:-1] not in batched
        if command == "vjp":
            assert list(batched["v"]) == names and set(batched["vjp"]) == set(batched["inputs"])
    found = dict(values(batched))
    compared = 0
    for b, one in enumerate(alone):
        for path, value in values(one):
            if path[0] in ("v", "tangent"):
                continue
            stacked = np.asarray(found[path], dtype=np.float64)
            assert stacked.shape[0] == 3, path
            assert np.array_equal(stacked[b], np.asarray(value, dtype=np.float64), equal_nan=True), (path, b)
            compared += 1
    assert compared >= 3 * (2 if command != "vjp" else 1)


def test_per_example_gradients_of_the_parameters_a_model_in_the_text_makes():
    """"a Jacobian block (B, *y, *x) where x is ... the whole of an input that is not batched (per-example
    gradients of shared weights)": nn.Linear's weight and bias, made by the text, are such inputs."""
    expr = "fc = nn.Linear(2, 3); torch.tanh(fc(x)).sum()"
    out = ok("vjp", expr, f"x={X}", "--batch", "x")
    assert out["inputs"]["fc.weight"] == {"shape": [3, 2], "kind": "matrix", "requires_grad": True}
    assert np.shape(out["vjp"]["fc.weight"]["value"]) == (3, 3, 2) and out["vjp"]["fc.weight"]["shape"] == [3, 2]
    only = ok("eval", expr, f"x={X}", "--batch", "x", "--wrt", "fc.bias", "--dtype", "float32")
    assert list(only["jacobian"]) == ["fc.bias"] and np.shape(only["jacobian"]["fc.bias"]["value"]) == (3, 3)
    for b, x in enumerate(X):
        alone = ok("vjp", expr, f"x={x}")["vjp"]
        assert alone["fc.weight"]["value"] == out["vjp"]["fc.weight"]["value"][b]


@pytest.mark.parametrize("command", ["eval", "vjp", "jvp", "hessian", "derivative", "shape", "check", "graph"])
def test_every_command_names_the_outputs_of_a_named_tuple_and_a_dict_as_the_library(command):
    binding = ["A:3x2"] if command == "shape" else ["A=[[2.0, 1.0], [1.0, 3.0], [0.5, -1.0]]"]
    extra = {"vjp": ["--v", "Q=ones"], "jvp": ["--tangent", "A=ones"], "derivative": ["--order", "2"],
             "graph": ["--backward", "--v", "R=ones"]}.get(command, [])
    out = ok(command, "torch.linalg.qr(A)", *binding, *extra)
    assert [o["name"] for o in out["outputs"]] == ["Q", "R"]
    assert [o["shape"] for o in out["outputs"]] == [[3, 2], [2, 2]]
    if command in PLURAL or command == "shape":
        key = "derivatives" if command == "shape" else PLURAL[command]
        assert list(out[key]) == ["Q", "R"]


# ---------------------------------------------------------------------------------------------------
# vjp's --v with the outputs of a named tuple and a dict


def test_vjp_without_v_names_the_output_its_shape_and_v_for_named_tuples_and_dicts():
    err = refused("vjp", "torch.linalg.qr(A)", "A:3x2", kind="value")
    assert "(3, 2)" in err["message"] and "--v Q=" in err["message"]
    err = refused("vjp", "{'a': sin(x), 'b': x.sum()}", "x:2")
    assert "(2,)" in err["message"] and "--v y['a']=" in err["message"]
    out = ok("vjp", "{'a': sin(x), 'b': x.sum()}", "x=[1.0, 2.0]", "--v", "y['a']=ones")
    assert out["v"]["y['b']"]["value"] == 0.0 and out["vjp"]["x"]["value"] == [np.cos(1.0), np.cos(2.0)]
    both = ok("vjp", "torch.linalg.slogdet(A)", "A=[[2.0, 1.0], [1.0, 3.0]]")  # one-element outputs: no --v
    assert both["v"] == {"sign": {"shape": [], "value": 1.0}, "logabsdet": {"shape": [], "value": 1.0}}
    assert np.allclose(both["vjp"]["A"]["value"], np.linalg.inv([[2.0, 1.0], [1.0, 3.0]]).T, rtol=1e-15)


# ---------------------------------------------------------------------------------------------------
# --out, --max-memory, error positions for the new outputs


def test_out_with_a_named_tuple_npz_holds_every_block_and_npy_is_refused_keeping_the_old_file(tmp_path):
    old = tmp_path / "J.npy"
    old.write_bytes(b"OLD")
    err = refused("eval", "torch.linalg.qr(A)", "A:3x2", "--out", old, kind="io")
    assert ".npz" in err["message"] and old.read_bytes() == b"OLD"
    assert run("eval", "{'a': sin(x), 'b': x.sum()}", "x=[1.0, 2.0]", "--out", tmp_path / "K.npz")[0] == 0
    with np.load(tmp_path / "K.npz") as saved:
        assert sorted(saved) == ["y['a'],x", "y['b'],x"]
        assert np.array_equal(saved["y['a'],x"], np.diag(np.cos([1.0, 2.0])))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["J.npy", "K.npz"]


@pytest.mark.parametrize("command, expr, binding, extra", [
    ("eval", "torch.linalg.qr(A)", "A:60x60", []), ("hessian", "torch.linalg.qr(A)", "A:12x12", []),
    ("eval", "{'a': A @ A, 'b': [A.sum(), A.T]}", "A:60x60", []),
    ("hessian", "jax.grad(lambda t: jnp.sum(jnp.sin(t)))(A)", "A:30x30", []),
    ("derivative", "torch.linalg.qr(A)", "A:8x8", ["--order", "3"]),
])
def test_max_memory_bounds_the_new_outputs_before_allocating(command, expr, binding, extra):
    err = refused(command, expr, binding, "--max-memory", "10M", *extra, kind="limit")
    assert "10,485,760" in err["message"] or "10.0 MiB" in err["message"], err


@pytest.mark.parametrize("command", ["eval", "vjp", "hessian", "shape", "diff", "check", "graph"])
@pytest.mark.parametrize("expr, column", [("{'a': sin(x), 'b': foo(x)}", 19), ("{'a': sin(x), 'b': x[7]}", 21),
                                          ("jax.grad(lambda t: jnp.sum(foo(t)))(x)", 27),
                                          ("fc = nn.Linear(4, 3); fc(x)", 22), ("{'a': sin(x) +}", 14)])
def test_errors_in_dicts_lambdas_and_models_point_at_the_column_typed(command, expr, column):
    binding = "x:3" if command in ("shape", "diff") else "x=[1.0, 2.0, 3.0]"
    extra = ["--wrt", "x"] if command == "diff" else []
    assert refused(command, expr, binding, *extra)["position"] == column
    code, out, stderr = run(command, expr, binding, *extra)
    lines = stderr.rstrip("\n").split("\n")
    assert code == 2 and out == "" and lines[-1] == " " * (2 + column) + "^", stderr


def test_an_unknown_name_lists_the_inputs_and_apart_the_names_the_text_assigns():
    """"one clear message saying what is wrong": it listed 'y' of 'y = x.sum()' among the inputs."""
    message = refused("eval", "y = x.sum(); y * foo", "x=[1.0, 2.0]", kind="name")["message"]
    assert "the inputs are x;" in message and "the text assigns y" in message
    assert "the inputs are x:" in refused("eval", "x * foo", "x=[1.0, 2.0]")["message"]
    assert "no inputs are bound; the text assigns a" in refused("eval", "a = 2.0; a * foo")["message"]


MADE = [  # a last statement making several outputs, the same outputs listed in a final tuple, and their names
    ("{'a': sin(x), 'b': (x ** 3).sum()}", "out = {'a': sin(x), 'b': (x ** 3).sum()}; out['a'], out['b']",
     ["y['a']", "y['b']"]),
    ("torch.sort(x)", "values, indices = torch.sort(x); values, indices", ["values", "indices"]),
    ("{'a': (sin(x), x.sum())}", "out = {'a': (sin(x), x.sum())}; out['a'][0], out['a'][1]",
     ["y['a'][0]", "y['a'][1]"]),
    ("g = jax.grad(lambda p: jnp.sum(p['w'] * x ** 2))({'w': x, 'v': x})", "g = jax.grad(lambda p: jnp.sum(p['w'] * "
     "x ** 2))({'w': x, 'v': x}); g['v'], g['w']", ["g['v']", "g['w']"]),
    ("torch.linalg.slogdet(A)", "sign, logabsdet = torch.linalg.slogdet(A); sign, logabsdet", ["sign", "logabsdet"]),
]


@pytest.mark.parametrize("made, listed, names", MADE)
@pytest.mark.parametrize("order", [1, 2])
def test_diff_differentiates_every_output_one_expression_makes(made, listed, names, order):
    """jac diff split only a final tuple into outputs: of a dict, a pytree or a named tuple it printed the first
    output alone, as the one output "y", the others silently left out. Each is now its own output, as listed."""
    args = ["x:2", "A:2x2", "--wrt", "x", "--order", order]
    if run("diff", listed, *args)[0] == 2:  # sort's second derivative: no symbolic argsort, either way
        assert refused("diff", made, *args)["message"] == refused("diff", listed, *args)["message"]
        return
    got, want = ok("diff", made, *args), ok("diff", listed, *args)
    assert "output" not in got and [o["name"] for o in got["outputs"]] == names
    assert [o["expr"] for o in got["outputs"]] == [o["expr"] for o in want["outputs"]]
    assert [{n: b["expr"] for n, b in d.items()} for d in got["derivatives"].values()] == \
           [{n: b["expr"] for n, b in d.items()} for d in want["derivatives"].values()]
    assert list(got["derivatives"]) == names


def test_diff_of_those_outputs_at_a_point_in_a_batch_and_an_error_in_one():
    at = ok("diff", "{'a': sin(x), 'b': (x ** 3).sum()}", "x:2", "--wrt", "x", "--at", "x=[1.0, 2.0]")
    assert [o["value"] for o in at["outputs"]] == [[np.sin(1.0), np.sin(2.0)], 9.0]
    assert at["derivatives"]["y['b']"]["x"]["value"] == [3.0, 12.0]
    batched = ok("diff", "torch.sort(x)", "x:3x2", "--wrt", "x", "--batch", "x")
    assert batched["batch"]["size"] == 3 and [o["shape"] for o in batched["outputs"]] == [[2], [2]]
    err = refused("diff", "torch.linalg.qr(A)", "A:2x2", "--wrt", "A", kind="value")  # no symbolic QR
    assert "qr" in err["message"] and err["position"] is None


@pytest.mark.parametrize("command", ["shape", "diff", "eval", "check"])
def test_an_empty_batch_is_refused_by_every_command_shape_and_diff_too(command):
    """jac shape and jac diff printed "batch": {"size": 0}, outside the schema (size >= 1), where every command
    computing values refuses the empty batch."""
    extra = ["--wrt", "x"] if command == "diff" else []
    err = refused(command, "sin(x) * A.sum()", "x:3", "A:0x2", "--batch", "A", *extra, kind="shape")
    assert "the batch is empty (size 0 along A)" in err["message"]
    ok(command, "sin(x) * A.sum()", "x:3", "A:2x2", "--batch", "A", *extra)


# ---------------------------------------------------------------------------------------------------
# jac run: 0 every case passed, 1 an expectation failed, 2 a bad suite; --json one object either way


def test_run_exit_codes_and_its_json(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[[case]]\nname = "sq"\nexpr = "sum(x ** 2)"\nbindings = { x = [1, 2] }\nvalue = 5\n'
                    'jacobian.x = [2, 4]\n[[case]]\nname = "dict"\nexpr = "{\'p\': x * 2}"\nbindings = { x = [1, 2] }\n'
                    'value = [2, 4]\n')
    assert ok("run", good)["passed"] is True
    bad = tmp_path / "bad.toml"
    bad.write_text('[[case]]\nname = "sq"\nexpr = "sum(x ** 2)"\nbindings = { x = [1, 2] }\nvalue = 6\n')
    failed = ok("run", bad, code=1)
    assert failed["exit_code"] == 1 and failed["summary"]["failed"] == 1
    broken = tmp_path / "broken.toml"
    broken.write_text('[[case]]\nname = "x"\nexpr = "sin(x) +"\nbindings = { x = [1] }\nvalue = 1\n')
    err = refused("run", broken, kind="parse")
    assert err["position"] == 8 and err["case"] == "x" and err["key"] == "expr"
    several = tmp_path / "several.toml"  # a case that cannot run: reported, exit 2, the others run on
    several.write_text(good.read_text() + '[[case]]\nname = "short v"\nexpr = "sin(x)"\nbindings = { x = [1, 2] }\n'
                       '[[case.vjp]]\nv = [1, 2, 3]\ngrad.x = [1, 1]\n')
    report = ok("run", several, code=2)
    assert report["exit_code"] == 2 and report["summary"] == {**report["summary"], "passed": 2, "errors": 1}
    # a case of several outputs (the named tuple Q, R) could not run here before contract30: now each output is
    # checked under its name (tests/test_contract30.py, docs/suites.md "Several outputs")
    qr = tmp_path / "qr.toml"
    qr.write_text('[[case]]\nname = "qr"\nexpr = "torch.linalg.qr(A)"\nbindings = { A = [[2, 1], [1, 3]] }\n'
                  'check = true\n')
    report = ok("run", qr)
    assert [e["key"] for e in report["cases"][0]["expectations"]] == ["check.Q.A", "check.R.A"]


# ---------------------------------------------------------------------------------------------------
# the sweep's own checks, a slice: the grid's contract keys and its seeded random calls


def _grid_slice():
    return [call for i, call in enumerate(sweep.grid_calls()) if i % 9 == 0]


@pytest.mark.parametrize("args, want", _grid_slice(), ids=lambda a: " ".join(map(str, a))[:60] if isinstance(a, list) else "")
def test_the_grid_keeps_the_contracts_keys_shapes_and_schemas(args, want):
    code, out, err = sweep.run(args)
    obj, problems = sweep.basic(args, code, out, err)
    if code == 2:  # one clear message and the error schema, checked by basic() before it is skipped
        assert not problems, (args, problems)
        pytest.skip("a documented refusal of the grid (see RESULTS.md, contract29)")
    if args[0] not in ("diff", "check", "graph"):
        problems += sweep.contract_keys(args, obj, **want)
    assert code in (0, 1) and not problems, (args, problems)


def test_a_seeded_random_slice_exits_0_1_or_2_with_one_message_and_valid_json():
    deviations = []
    for args in sweep.random_calls(60, seed=2929):
        code, out, err = sweep.run(args)
        obj, problems = sweep.basic(args, code, out, err)
        if code in (0, 1) and obj is not None and args[0] not in ("diff", "check", "graph"):
            problems += sweep.contract_keys(args, obj, **sweep._wanted(args))
        if problems:
            deviations.append((args, problems))
    assert not deviations, deviations[:3]


def test_the_sweeps_checker_finds_what_it_looks_for():
    """The checks above cannot pass vacuously: a traceback, exit 3, a second message, a bare NaN, a key left out
    and a wrong block shape are each reported."""
    assert sweep.basic(["eval", "x", "--json"], 3, "", "")[1] == ["exit 3"]
    assert "a traceback" in sweep.basic(["eval", "x"], 2, "", "jac: error (x): y\nTraceback (most")[1]
    assert any("2 'jac: error'" in p for p in sweep.basic(["eval", "x"], 2, "", "jac: error a\njac: error b")[1])
    assert any("bare NaN" in p for p in sweep.basic(["eval", "x", "--json"], 0, '{"a": NaN}', "")[1])
    good = ok("eval", "sin(x)", "x=[1.0, 2.0]")
    assert sweep.contract_keys(["eval", "sin(x)"], good) == []
    broken = json.loads(json.dumps(good))
    broken["jacobian"]["x"]["shape"] = [2]
    assert any("shape [2] != [2, 2]" in p for p in sweep.contract_keys(["eval", "sin(x)"], broken))
    del broken["jacobian"]
    assert any("want 'jacobian'" in p for p in sweep.contract_keys(["eval", "sin(x)"], broken))
    assert sweep.math_shape([2, 3], [4, 5]) == [2, 3, 5, 4] and sweep.math_shape([], [4]) == [1, 4]


# ---------------------------------------------------------------------------------------------------
# real processes: a closed pipe in the commands contract16 did not close it on


CLOSED = [["run", "SUITE", "--json"], ["graph", "{'a': sin(x), 'b': x.sum()}", "x:3", "--backward", "--v", "y['a']=ones"]]


@pytest.mark.parametrize("args", CLOSED, ids=[a[0] for a in CLOSED])
def test_a_closed_pipe_is_141_in_run_and_graph(args, tmp_path):
    """jac plot and jac shape, with and without --json, were probed the same way (RESULTS.md, contract29)."""
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "sq"\nexpr = "sum(x ** 2)"\nbindings = { x = [1, 2] }\nvalue = 6\n')
    args = [str(suite) if a == "SUITE" else a for a in args]
    proc = subprocess.Popen(JAC + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    proc.stdout.close()  # the reader is gone before jac writes a byte
    proc.wait(timeout=120)
    assert proc.returncode == 141, (args, proc.stderr.read()[-300:])
