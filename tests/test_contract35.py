"""../shared/CONTRACT.md claim by claim (contract35): what the earlier audits (contract16, 29, 30, gaps) left untried.

- "Exit codes and errors": with --json, ``"position"`` is an offset into the expression. An error at a column of a
  binding's value (``x="[1, 2"``) or of --v / --tangent / --at gave that value's offset, which a script reads as a
  column of the expression; now null there, the value's column in ``"value"``; each error kind's JSON form from
  every command; exit 1 from a failed check alone.
- `jac --help`, `jac COMMAND --help` and `-V`: the commands, options and defaults the contract names.
- The defaults said, by what they do: --dtype float64, --seed 0, --wrt every bound input, --layout array.
- Combinations: --batch (axis 0 and 1) with --json, several outputs and --order 3 (and hessian, vjp, jvp, graph
  --backward), against torch.func's vmap of jacfwd/jacrev/vjp/jvp; --out of each command that writes, holding what
  --json prints, and nothing written on exit 2; --max-memory with each command and each way a value is made;
  --timeout wherever there is symbolic work.
- "Several outputs" names (``a, x**2`` is ``a, y1``); a one-element output of shape (1,) or (1, 1) needs no --v;
  an EXPR beginning with ``-`` in every command; every value converted to --dtype; a closed pipe for the commands
  contract16 did not try.

In this process through ``entry.main`` (as the ``jac`` script runs); the closed pipes start real processes.
``benchmarks/contract35_probe.py`` crosses every option of every command with the others (its counts:
benchmarks/RESULTS.md)."""

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
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
VALIDATORS = {n: jsonschema.Draft202012Validator(schema.load(n)) for n in schema.names()}
COMMANDS = ["eval", "vjp", "jvp", "hessian", "derivative", "shape", "diff", "check", "graph"]
NEEDS = {"vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "derivative": ["--wrt", "x"],
         "graph": ["--backward", "--v", "ones"]}


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
    assert got == code, (args, got, err)
    obj = strict_json(out)
    VALIDATORS[str(args[0])].validate(obj)
    return obj


def refused(*args, kind=None) -> dict:
    """Exit 2: one JSON error object (valid against error.json) on stdout, its message once on stderr."""
    code, out, err = run(*args, "--json")
    assert code == 2, (args, code, out[:300], err)
    error = strict_json(out)
    VALIDATORS["error"].validate(error)
    assert list(error) == ["error"] and (kind is None or error["error"]["kind"] == kind), error
    assert err.count("jac: error") == 1 and "Traceback" not in err and error["error"]["message"] in err, err
    return error["error"]


def caret(err: str) -> tuple:
    """(the text the caret stands under, the caret's column) on stderr."""
    lines = err.splitlines()
    at = next(k for k in range(1, len(lines)) if lines[k].strip() == "^")
    return lines[at - 1][2:], lines[at].index("^") - 2


# -- errors: "position" is an offset into the expression ------------------------------------------------------

VALUE_ERRORS = [  # (a binding or option written wrong, the kind, what "of" names, the value's text, its column)
    (["x=[1, 2"], "parse", "x", "[1, 2", 0),
    (["x=[1, foo]"], "name", "x", "[1, foo]", 4),
    (["x=ones(3) @ ones(4)"], "shape", "x", "ones(3) @ ones(4)", 8),
    (["x=ones(10**12)"], "limit", "x", "ones(10**12)", 0),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("binding, kind, of, text, column", VALUE_ERRORS, ids=[v[1] for v in VALUE_ERRORS])
def test_an_error_in_a_bindings_value_has_no_position_in_the_expression_and_says_where_it_is(command, binding,
                                                                                              kind, of, text, column):
    """Was: "position": 0 / 4 / 8, read by a script as that column of "sin(x) * w"."""
    error = refused(command, "sin(x) * w", "w:3", *binding, *NEEDS.get(command, []), kind=kind)
    assert error["position"] is None and error["value"] == {"of": of, "text": text, "position": column}, error
    _, _, err = run(command, "sin(x) * w", "w:3", *binding, *NEEDS.get(command, []))
    assert caret(err) == (text, column)  # standard error still shows the caret under the value


@pytest.mark.parametrize("args, of, text, column", [
    (["vjp", "sin(x)", "x:3", "--v", "[1, 2"], "--v", "[1, 2", 0),
    (["vjp", "a = sin(x); b = x.sum(); a, b", "x:3", "--v", "a=[1,, 2]"], "--v a", "[1,, 2]", 3),
    (["graph", "sin(x)", "x:3", "--backward", "--v", "[1, foo]"], "--v", "[1, foo]", 4),
    (["jvp", "sin(x)", "x:3", "--tangent", "x=[1,, 2]"], "--tangent x", "[1,, 2]", 3),
    (["diff", "sin(x)", "x:3", "--at", "x=[1, 2"], "--at x", "[1, 2", 0),  # the option, as --tangent x (39)
])
def test_an_error_in_an_options_value_has_no_position_in_the_expression(args, of, text, column):
    error = refused(*args)
    assert error["position"] is None and error["value"] == {"of": of, "text": text, "position": column}, error


EXPRESSION_ERRORS = [("sin(x) * w +", "parse", 12), ("sin(q) * w", "name", 4), ("x @ ones(4)", "shape", 2),
                     ("y = sin(x) * w\nz = y @ ones(4)\nz", "shape", 6)]


@pytest.mark.parametrize("command, expr, kind, column", [
    (c, *e) for c in COMMANDS for e in EXPRESSION_ERRORS
    if not (c == "diff" and e[1] == "name")])  # jac diff reads a name nothing binds as a scalar symbol (symbolic.md)
def test_an_error_in_the_expression_has_its_position_there_and_no_value_key(command, expr, kind, column):
    error = refused(command, expr, "x:3", "w:3", *NEEDS.get(command, []), kind=kind)
    line = expr[:error["position"]].count("\n")
    assert "value" not in error and error["position"] - (expr.rfind("\n", 0, error["position"]) + 1) == column
    _, _, err = run(command, expr, "x:3", "w:3", *NEEDS.get(command, []))
    assert caret(err) == (expr.split("\n")[line], column)


KINDS = {  # one bad input of each kind the contract lists, for every command
    "parse": ["sin(x * w", "x:3", "w:3"], "name": ["sin(x) * w", "x:3", "w:3", "--wrt", "q"],
    "shape": ["sin(x) @ ones(4)", "x:3", "w:3"], "value": ["sin(x) * w", "x:n", "w:3"],
    "io": ["sin(x) * w", "x=@/nonexistent/x.npy", "w:3"], "limit": ["sin(x) * w", "x:3", "w:3", "--max-memory", "16"],
    "usage": ["sin(x) * w", "x:3", "w:3", "--no-such-option"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_error_kind_is_exit_2_and_the_contracts_object_from_every_command(command, kind):
    args = list(KINDS[kind])
    if command in ("shape", "diff") and kind in ("value", "limit"):
        args = {"value": ["sin(x) * w", "x:3y", "w:3"], "limit": ["sin(x) * w", "x=ones(3)", "w:3", "--max-memory",
                                                                    "16"]}[kind]
    refused(command, *args, *NEEDS.get(command, []), kind=kind)


def test_exit_1_comes_from_a_failed_check_alone():
    """examples/custom_rule.py's backward is 2 exp(x) for exp: jac check fails (1, with --batch too); every other
    command prints what the rule says (0); jac diff has no formula for a rule written in the text (2)."""
    rule = "@" + os.path.join(ROOT, "examples", "custom_rule.py")
    failed = ok("check", rule, "x:3", code=1)
    assert failed["passed"] is False and failed["inputs"]["x"]["passed"] is False
    batched = ok("check", rule, "x:4x3", "--batch", "x", code=1)
    assert batched["batch"]["failed"] == [0, 1, 2, 3]
    for command in ("eval", "vjp", "hessian", "derivative", "shape", "graph"):
        ok(command, rule, "x:3")
    refused("diff", rule, "x:3", kind="value")
    assert ok("check", "sum(exp(x))", "x:3")["passed"] is True


# -- jac --help, jac COMMAND --help, -V -----------------------------------------------------------------------

@pytest.fixture
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def test_jac_help_lists_the_contracts_commands_and_exit_codes(wide):
    code, out, _ = run("--help")
    assert code == 0
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 1]
    assert set(COMMANDS) <= set(listed), listed
    codes = " ".join(out.split())
    for said in ("0 success", "1 a check or an expectation failed", "2 bad input", "130 interrupted"):
        assert said in codes, codes


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_prints_one_line_and_exits_0(flag):
    from importlib.metadata import version

    assert run(flag) == (0, f"jac {version('jacobi-cli')}\n", "")


HELP = {  # the options the contract names for each command, and the defaults it states
    "eval": ["--layout", "--out", "--batch", "--max-memory", "--timeout"], "vjp": ["--v", "--batch", "--max-memory"],
    "jvp": ["--tangent", "--batch", "--max-memory"], "hessian": ["--batch", "--max-memory"],
    "derivative": ["--order", "--batch", "--max-memory"], "shape": ["--batch", "--max-memory"],
    "diff": ["--order", "--timeout", "--batch", "--max-memory"], "check": ["--batch", "--max-memory"],
    "graph": ["--backward", "--batch", "--max-memory"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_lists_the_contracts_options_and_defaults(wide, command):
    code, out, _ = run(command, "--help")
    assert code == 0 and f"Usage: jac {command}" in out
    options = {line.split()[1]: " ".join(line.split()) for line in out.splitlines()
               if line.startswith("│ --") and len(line.split()) > 1}
    for option in ["--wrt", "--json", "--dtype", "--seed"] + HELP[command]:
        assert option in options, (command, option, sorted(options))
    assert "[default: float64]" in options["--dtype"] and "[default: 0]" in options["--seed"]
    assert "float32" in options["--dtype"]
    # jac derivative's --wrt names the one input (a second is refused), and says so (session 47)
    assert ("one input" in options["--wrt"]) if command == "derivative" else ("repeatable" in options["--wrt"])
    if command == "eval":
        assert "[default: array]" in options["--layout"] and "numerator" in options["--layout"]
        assert all(s in options["--out"] for s in (".npy", ".npz", ".json"))


# -- the defaults, by what they do ----------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["eval", "vjp", "jvp", "hessian", "derivative", "check", "graph"])
def test_the_stated_defaults_are_what_a_command_does_without_the_option(command):
    base = [command, "sum(sin(x) * w)", "x:3", "w:3", *NEEDS.get(command, [])]
    if command in ("vjp", "graph"):
        base = [a for a in base if a not in ("--v", "ones")]
    plain = ok(*base)
    assert ok(*base, "--dtype", "float64", "--seed", "0") == plain
    if command != "derivative":
        assert ok(*base, "--wrt", "x", "--wrt", "w") == plain
    reseeded = ok(*base, "--seed", "1")  # values drawn anew, shapes alike
    assert reseeded["output"]["value"] != plain["output"]["value"]
    assert [(i["shape"], i["kind"]) for i in reseeded["inputs"].values()] == [(i["shape"], i["kind"])
                                                                               for i in plain["inputs"].values()]
    if command == "eval":
        assert ok(*base, "--layout", "array") == plain
        assert all(b["layout"] == "array" for b in plain["jacobian"].values())


def test_every_value_is_converted_to_dtype_integers_included():
    for binding in ("x=[1, 2]", "x=torch.tensor([1, 2], dtype=torch.int64)", "x=np.array([1, 2], dtype=np.int32)",
                    "x=arange(1, 3)"):
        got = ok("eval", "x / 3", binding, "--dtype", "float32")["output"]["value"]
        assert [np.float32(v) for v in got] == [np.float32(1) / np.float32(3), np.float32(2) / np.float32(3)]
        assert ok("eval", "x / 3", binding)["output"]["value"] == [1 / 3, 2 / 3]


# -- --batch × --json × several outputs × --order 3, against torch.func ---------------------------------------

SEVERAL = "a = sin(x) * w; b = sum(x**2 * w); a, b"
XS = np.random.default_rng(35).normal(size=(3, 4))
WS = np.array([0.3, -1.2, 2.0])


@pytest.fixture(scope="module")
def torch_f():
    torch = pytest.importorskip("torch")
    return torch, lambda x, w: (torch.sin(x) * w, torch.sum(x**2 * w))


def close(got, want):
    got = np.asarray(got, dtype=float)
    return got.shape == tuple(want.shape) and np.allclose(got, want.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.fixture(scope="module")
def batched():
    """x batched along axis 1 (4 examples of 3), w shared: every command with --json, both outputs."""
    binds = [f"x={XS.tolist()}", f"w={WS.tolist()}", "--batch", "x:1"]
    va, vb = np.arange(12.0).reshape(4, 3) / 7, np.array([1.0, -2.0, 0.5, 3.0])
    tx = np.arange(12.0).reshape(3, 4) / 5
    return {
        "binds": binds, "va": va, "vb": vb, "tx": tx,
        "eval": ok("eval", SEVERAL, *binds), "hessian": ok("hessian", SEVERAL, *binds),
        "derivative": ok("derivative", SEVERAL, *binds, "--wrt", "x", "--order", "3"),
        "vjp": ok("vjp", SEVERAL, *binds, "--v", f"a={va.tolist()}", "--v", f"b={vb.tolist()}"),
        "jvp": ok("jvp", SEVERAL, *binds, "--tangent", f"x={tx.tolist()}", "--tangent", "w=[1, 2, 3]"),
        "graph": ok("graph", SEVERAL, *binds, "--backward", "--v", f"a={va.tolist()}", "--v", f"b={vb.tolist()}"),
    }


def test_batch_several_outputs_json_keys_as_the_contract_spells_them(batched):
    for command in ("eval", "hessian", "derivative", "vjp", "jvp", "graph"):
        obj = batched[command]
        assert (obj["batch"]["size"], obj["batch"]["inputs"]) == (4, {"x": 1})
        assert "output" not in obj and [o["name"] for o in obj["outputs"]] == ["a", "b"]
        assert [o["shape"] for o in obj["outputs"]] == [[3], []]  # one example's
        assert [np.shape(o["value"]) for o in obj["outputs"]] == [(4, 3), (4,)]  # the batch axis first
        assert obj["inputs"]["x"]["shape"] == [3] and obj["inputs"]["w"]["shape"] == [3]
    assert set(batched["eval"]["jacobians"]) == {"a", "b"} and "jacobian" not in batched["eval"]
    assert set(batched["hessian"]["hessians"]["a"]) == {"x,x", "x,w", "w,x", "w,w"}
    assert set(batched["jvp"]["jvps"]) == {"a", "b"} and set(batched["vjp"]["vjp"]) == {"x", "w"}
    third = batched["derivative"]["derivatives"]
    assert (third["a"]["x"]["order"], third["a"]["x"]["shape"], third["b"]["x"]["shape"]) == (3, [3] * 4, [3] * 3)


def test_batch_several_outputs_order_3_is_torch_funcs_vmap_of_nested_jacobians(batched, torch_f):
    torch, f = torch_f
    from torch.func import jacfwd, jacrev, vmap

    x, w = torch.tensor(XS), torch.tensor(WS)
    jac = vmap(jacrev(f, argnums=(0, 1)), in_dims=(1, None))(x, w)
    hess = vmap(jacfwd(jacrev(f, argnums=(0, 1)), argnums=(0, 1)), in_dims=(1, None))(x, w)
    third = vmap(jacfwd(jacfwd(jacrev(f))), in_dims=(1, None))(x, w)
    for k, out in enumerate("ab"):
        for i, name in enumerate("xw"):
            assert close(batched["eval"]["jacobians"][out][name]["value"], jac[k][i]), (out, name)
            for j, other in enumerate("xw"):
                assert close(batched["hessian"]["hessians"][out][f"{name},{other}"]["value"], hess[k][i][j])
        assert close(batched["derivative"]["derivatives"][out]["x"]["value"], third[k]), out


def test_batch_several_outputs_vjp_jvp_and_graph_backward_are_torch_funcs(batched, torch_f):
    torch, f = torch_f
    from torch.func import jvp, vjp, vmap

    x, w = torch.tensor(XS), torch.tensor(WS)
    va, vb, tx = (torch.tensor(batched[k]) for k in ("va", "vb", "tx"))
    pulled = vmap(lambda x, w, a, b: vjp(f, x, w)[1]((a, b)), in_dims=(1, None, 0, 0))(x, w, va, vb)
    pushed = vmap(lambda x, w, t: jvp(f, (x, w), (t, torch.tensor([1.0, 2.0, 3.0])))[1], in_dims=(1, None, 1))(
        x, w, tx)
    grads = {n["name"]: n["grad"] for n in batched["graph"]["nodes"] if n["op"] == "input"}
    for i, name in enumerate("xw"):  # per-example gradients, of the shared w too
        assert close(batched["vjp"]["vjp"][name]["value"], pulled[i]) and close(grads[name], pulled[i]), name
    assert close(batched["jvp"]["jvps"]["a"]["value"], pushed[0]) and close(batched["jvp"]["jvps"]["b"]["value"],
                                                                             pushed[1])


def test_batch_several_outputs_order_3_each_example_alone_bit_for_bit(batched):
    """The batched third derivative's example b is what the command gives for that example alone."""
    for b in range(4):
        alone = ok("derivative", SEVERAL, f"x={XS[:, b].tolist()}", f"w={WS.tolist()}", "--wrt", "x", "--order", "3")
        for out in "ab":
            assert np.array_equal(np.asarray(batched["derivative"]["derivatives"][out]["x"]["value"])[b],
                                  np.asarray(alone["derivatives"][out]["x"]["value"])), (b, out)


# -- files: --out of each command that writes -----------------------------------------------------------------

def blocks_by_key(obj: dict) -> dict:
    if "jacobians" in obj:
        return {f"{o},{i}": b["value"] for o, per in obj["jacobians"].items() for i, b in per.items()}
    return {i: b["value"] for i, b in obj["jacobian"].items()}


@pytest.mark.parametrize("expr", ["sin(x) * w", SEVERAL])
@pytest.mark.parametrize("batch", [[], ["--batch", "x"]])
@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_eval_out_holds_the_blocks_json_prints_and_writes_nothing_else(tmp_path, expr, batch, suffix):
    target = tmp_path / f"J{suffix}"
    obj = ok("eval", expr, "x:4x3" if batch else "x:3", "w:3", *batch, "--out", target)
    held = dict(np.load(target)) if suffix == ".npz" else json.loads(target.read_text())
    want = blocks_by_key(obj)
    assert sorted(held) == sorted(want) and os.listdir(tmp_path) == [target.name]
    for key, value in want.items():
        assert np.array_equal(np.asarray(held[key]), np.asarray(value)), key


@pytest.mark.parametrize("layout", ["array", "numerator"])
def test_eval_out_npy_is_the_one_block_in_the_layout_asked(tmp_path, layout):
    obj = ok("eval", "A @ x", "A:2x3", "x:3", "--wrt", "A", "--layout", layout, "--out", tmp_path / "J.npy")
    block = obj["jacobian"]["A"]
    assert block["shape"] == ([2, 2, 3] if layout == "array" else [2, 3, 2]) == list(np.load(tmp_path / "J.npy").shape)
    assert np.array_equal(np.load(tmp_path / "J.npy"), np.asarray(block["value"]))


def test_graph_out_writes_the_dot_and_a_refused_call_writes_nothing(tmp_path):
    target = tmp_path / "g.dot"
    obj = ok("graph", "sum(sin(x) * w)", "x:3", "w:3", "--out", target)
    text = target.read_text()
    assert text.startswith("digraph") and all(f'"{n["name"]}' in text or n["name"] is None for n in obj["nodes"]
                                              if n["op"] == "input")
    target.write_text("OLD")
    refused("graph", "sum(sin(x) * w", "x:3", "w:3", "--out", target, kind="parse")
    refused("eval", "sum(sin(x) * w", "x:3", "w:3", "--out", tmp_path / "J.npz", kind="parse")
    assert target.read_text() == "OLD" and sorted(os.listdir(tmp_path)) == ["g.dot"]


def test_a_refused_eval_out_with_batch_and_several_outputs_keeps_the_old_file(tmp_path):
    target = tmp_path / "J.npz"
    target.write_bytes(b"OLD")
    refused("eval", SEVERAL, "x:4x3", "w:3", "--batch", "x", "--out", target, "--max-memory", "16", kind="limit")
    refused("eval", "log(x) * w", "x=[[-1, 1, 2]]", "w:3", "--batch", "x", "--strict", "--out", target)
    assert target.read_bytes() == b"OLD" and os.listdir(tmp_path) == ["J.npz"]


# -- --max-memory and --timeout with each command -------------------------------------------------------------

MADE = ["x:600x600", "x=ones(600, 600)", "x=np.zeros((600, 600))", "x=torch.ones(600, 600)", "x=randn(600, 600)",
        "x=eye(600)", "x=arange(360000.0)", "x=linspace(0, 1, 360000)", "x=full((600, 600), 2.0)", "x=@BIG"]


@pytest.mark.parametrize("command", COMMANDS)
def test_max_memory_bounds_every_command_and_every_way_a_value_is_made(tmp_path, command):
    """2 MB per array against 600 × 600 float64 values (2.9 MB): refused, kind limit, before anything is made;
    jac shape makes no values for NAME:SHAPE and takes any size, as the contract's "shapes only" says."""
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((600, 600)))
    for binding in MADE:
        binding = binding.replace("@BIG", f"@{big}")
        args = [command, "sum(sin(x))", binding, "--max-memory", "2M"]
        if command == "shape" and binding == "x:600x600":
            assert ok(*args)["inputs"]["x"]["shape"] == [600, 600]
            continue
        if command == "jvp":
            args += ["--tangent", "x=ones"]
        error = refused(*args, kind="limit")
        assert "bytes" in error["message"], (binding, error)


@pytest.mark.parametrize("args", [
    ["diff", "sum(sin(x) * exp(x))", "x:3"], ["diff", "sum(sin(x) * exp(x))", "x:3", "--order", "2"],
    ["eval", "sum(sin(x) * exp(x))", "x:3", "--symbolic"],
    ["diff", SEVERAL, "x:4x3", "w:3", "--batch", "x"]])
def test_timeout_stops_symbolic_work_with_a_limit_error_wherever_there_is_some(args):
    error = refused(*args, "--timeout", "1e-9", kind="limit")
    assert "--timeout" in error["message"]
    ok(*args, "--timeout", "0")  # 0: no limit


# -- several outputs, one-element outputs, an EXPR that begins with '-' -----------------------------------------

@pytest.mark.parametrize("command", ["eval", "vjp", "jvp", "hessian", "shape", "diff", "check", "graph"])
def test_outputs_are_named_by_their_variable_or_y_and_their_position(command):
    extra = {"vjp": ["--v", "a=ones"], "jvp": ["--tangent", "x=ones"], "graph": ["--backward", "--v", "a=ones"]}
    obj = ok(command, "a = sin(x); a, x**2", "x:3", *extra.get(command, []))
    assert [o["name"] for o in obj["outputs"]] == ["a", "y1"]
    obj = ok(command, "sin(x), x**2", "x:3", *[e.replace("a=", "y0=") for e in extra.get(command, [])])
    assert [o["name"] for o in obj["outputs"]] == ["y0", "y1"]


@pytest.mark.parametrize("command", ["vjp", "graph"])
@pytest.mark.parametrize("expr, binding", [("x[0:1]", "x:3"), ("A[0:1, 1:2]", "A:3x3"), ("x.sum()", "x:3")])
def test_a_one_element_output_of_any_rank_needs_no_v_as_backward(command, expr, binding):
    obj = ok(command, expr, binding, *(["--backward"] if command == "graph" else []))
    assert np.size(obj["v"]["value"]) == 1 and np.all(np.asarray(obj["v"]["value"]) == 1.0)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_expression_beginning_with_minus_is_an_expression_in_every_command(command):
    extra = {"jvp": ["--tangent", "a=ones"], "derivative": ["--wrt", "a"], "graph": ["--backward"]}
    obj = ok(command, "-(a + b).sum()", "a:3", "b:3", *extra.get(command, []))
    assert obj["expression"] == "-(a + b).sum()"


# -- a closed pipe: one exit code for every command ----------------------------------------------------------

CLOSED = [["vjp", "sin(x)", "x:3", "--v", "ones"], ["shape", "sin(x)", "x:3"], ["graph", "sin(x)", "x:3"],
          ["eval", "sin(x)", "x:3"], ["schema", "eval"], ["--help"], ["-V"]]


@pytest.mark.parametrize("args", CLOSED, ids=[" ".join(a[:1]) for a in CLOSED])
def test_a_closed_pipe_is_141_in_the_commands_contract16_left_out(args):
    for extra in ([], ["--json"]) if args[0] in COMMANDS else ([],):
        proc = subprocess.Popen([sys.executable, "-m", "jacobi_cli", *args, *extra], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=ENV)
        proc.stdout.close()  # the reader is gone before jac writes a byte
        proc.wait(timeout=120)
        assert proc.returncode == 141 and proc.stderr.read() == b"", (args, extra)


# -- the contract's list of functions, bare and as torch. / np. / numpy. ---------------------------------------

X, Y, A, B = [0.5, 0.25], [0.2, 0.6], [[2.0, 1.0], [0.5, 3.0]], [[1.0, -1.0], [2.0, 0.5]]
REFERENCE = {  # NumPy's value of each function the contract lists, at X, Y, A, B
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "relu": lambda x: np.maximum(x, 0), "softplus": lambda x: np.log1p(
        np.exp(x)), "pow": lambda x: x ** 2, "maximum": lambda x, y: np.maximum(x, y),
    "minimum": lambda x, y: np.minimum(x, y), "clip": lambda x: np.clip(x, 0.3, 0.4), "norm": np.linalg.norm,
    "logsumexp": lambda x: np.log(np.exp(x).sum()), "softmax": lambda x: np.exp(x) / np.exp(x).sum(),
    "mm": np.matmul, "mv": np.matmul, "det": np.linalg.det, "inv": np.linalg.inv, "reshape": lambda a: np.reshape(
        a, (4, 1)),
}
ELEMENTWISE = "exp log log1p sqrt abs sin cos tan tanh sinh cosh arcsin arccos arctan sigmoid relu softplus square"
LISTED = ([(f, "x", [X]) for f in ELEMENTWISE.split()]
          + [("pow", "x, 2", [X]), ("maximum", "x, y", [X, Y]), ("minimum", "x, y", [X, Y]), ("clip", "x, 0.3, 0.4", [X])]
          + [(f, "x", [X]) for f in "sum mean prod max min norm logsumexp softmax".split()]
          + [("dot", "x, y", [X, Y]), ("mm", "A, B", [A, B]), ("mv", "A, x", [A, X]), ("matmul", "A, B", [A, B]),
             ("outer", "x, y", [X, Y]), ("trace", "A", [A]), ("det", "A", [A]), ("inv", "A", [A]),
             ("reshape", "A, (4, 1)", [A])])


@pytest.mark.parametrize("prefix", ["", "torch.", "np.", "numpy."])
def test_every_function_the_contract_lists_is_read_bare_and_with_each_prefix(prefix):
    """Each name of the contract's list, bare and with each prefix, gives NumPy's value and a Jacobian."""
    for name, args, values in LISTED:
        names = [a.strip() for a in args.split(",")][:len(values)]
        obj = ok("eval", f"{prefix}{name}({args})", *[f"{n}={v}" for n, v in zip(names, values)])
        want = REFERENCE.get(name, getattr(np, name, None))(*map(np.array, values))
        assert np.allclose(obj["output"]["value"], want, rtol=1e-13, atol=0), (prefix, name)
        assert set(obj["jacobian"]) == set(names), name
    assert ok("eval", f"{prefix}transpose(A{', 0, 1' if prefix == 'torch.' else ''})", f"A={A}")["output"][
        "value"] == np.transpose(A).tolist()
    for constant, value in (("pi", np.pi), ("e", np.e)):
        assert ok("eval", f"x * {prefix}{constant}", "x=1.0")["output"]["value"] == value
    assert ok("eval", f"x + {prefix}eye(3)", "x=1.0")["output"]["value"] == (np.eye(3) + 1).tolist()
    assert ok("eval", f"x * {prefix}ones(4)", "x=2.0")["jacobian"]["x"]["value"] == [1.0] * 4  # a constant
