"""Acceptance checks of ../shared/CONTRACT.md as an outside tester writes them (contract16): every
command that computes, crossed with --batch, several outputs, --wrt, --dtype float32 and --json;
the JSON keys and shapes as the contract spells them; vjp's --v rules; derivative and diff orders;
the math_shape table; NaN and infinities as strings; --out, --max-memory, --timeout, Ctrl-C and a
closed pipe; bad input (exit 2, one message, a caret, one JSON error object); bindings.

The commands run in this process through ``entry.main`` (the fast path and typer, as the ``jac``
script runs them); only what needs a real process (a signal, a closed pipe) starts one."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from jacobi_cli.cli import entry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
JAC = [sys.executable, "-m", "jacobi_cli"]


def run(*args) -> tuple:
    """``(exit code, stdout, stderr)`` of ``jac ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str) -> dict:
    """The one JSON object on stdout, refusing the bare NaN / Infinity that json.dumps would write."""
    def bare(token):
        raise AssertionError(f"bare {token} in the JSON: the contract writes \"NaN\", \"Infinity\", \"-Infinity\"")
    return json.loads(text, parse_constant=bare)


def ok(*args) -> dict:
    code, out, err = run(*args, "--json")
    assert code == 0, (args, err)
    return strict_json(out)


def refused(*args, kind=None) -> dict:
    """Exit 2, exactly one JSON error object on stdout and one message on stderr, no traceback."""
    code, out, err = run(*args, "--json")
    assert code == 2, (args, code, out[:300], err)
    error = strict_json(out)
    assert list(error) == ["error"] and set(error["error"]) == {"kind", "message", "position"}, error
    assert kind is None or error["error"]["kind"] == kind, error
    assert err.count("jac: error") == 1 and "Traceback" not in err, err
    assert error["error"]["message"] in err
    return error["error"]


def number(v):
    """A JSON value as doubles ("NaN", "Infinity", "-Infinity" as NumPy's)."""
    def one(e):
        if isinstance(e, list):
            return [one(x) for x in e]
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(e, e) if isinstance(e, str) else e
    return np.asarray(one(v), dtype=np.float64)


def values(obj, path=()):
    """Every ``"value"`` (and a graph node's ``"grad"``) of a JSON object, by its path of keys."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("value", "grad") and v is not None:
                yield path + (k,), v
            else:
                yield from values(v, path + (k,))
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        for i, v in enumerate(obj):
            yield from values(v, path + (i,))


# ---------------------------------------------------------------------------------------------------
# --batch x each command x several outputs x --wrt x --dtype: per example, as each example alone

X = [[1.0, 2.0], [3.0, -4.0], [0.5, 6.0]]
W = [[1.0, -1.0], [0.5, 2.0]]
EXPRS = {"one": "tanh(W @ x)", "scalar": "sum(tanh(W @ x))", "several": "a = tanh(W @ x); b = sum(x * x); a, b"}
COMMANDS = {
    "eval": [], "vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones", "--tangent", "W=ones"], "hessian": [],
    "derivative": ["--order", "3"], "check": [], "graph": ["--backward", "--v", "ones"],
}
COMBOS = [(c, e, wrt, dtype) for c in COMMANDS for e in EXPRS for wrt in ("x", "W")
          for dtype in ("float64", "float32") if not (c == "jvp" and wrt == "W")]


def _extra(command: str, expr: str, wrt: str) -> list:
    extra = list(COMMANDS[command])
    if expr == "several" and command in ("vjp", "graph"):
        extra = ["a=ones" if a == "ones" else a for a in extra]  # --v OUT=VALUE with several outputs
    if expr == "scalar" and command in ("vjp", "graph"):
        extra = [a for a in extra if a not in ("--v", "ones")]  # a one-element output needs no --v
    if command == "jvp":
        extra = ["--tangent", "x=ones"]
    return extra + ["--wrt", wrt]


@pytest.mark.parametrize("command, expr, wrt, dtype", COMBOS, ids=["-".join(c) for c in COMBOS])
def test_batch_is_each_example_alone_bit_for_bit_and_keys_are_the_contracts(command, expr, wrt, dtype):
    extra = _extra(command, expr, wrt)
    batched = ok(command, EXPRS[expr], f"x={X}", f"W={W}", "--batch", "x", "--dtype", dtype, *extra)
    alone = [ok(command, EXPRS[expr], f"x={x}", f"W={W}", "--dtype", dtype, *extra) for x in X]
    assert {k: batched["batch"][k] for k in ("size", "inputs")} == {"size": 3, "inputs": {"x": 0}}
    assert "batch" not in alone[0]
    several = expr == "several"
    assert ("outputs" in batched) == several and ("output" in batched) != several
    key = {"eval": "jacobian", "jvp": "jvp", "hessian": "hessian", "vjp": "vjp", "derivative": "derivative"}.get(command)
    if key is not None:
        plural = {"jacobian": "jacobians", "jvp": "jvps", "hessian": "hessians", "derivative": "derivatives"}
        assert (plural.get(key, key) if several else key) in batched, list(batched)
    found = dict(values(batched))
    for b, one in enumerate(alone):
        for path, value in values(one):
            if path[0] in ("v", "tangent") or command == "check":
                continue  # ones either way; check's errors are its own
            stacked = number(found[path])
            assert stacked.shape[0] == 3 and np.array_equal(stacked[b], number(value), equal_nan=True), (path, b)

    def shapes(obj):  # every key but the values: shapes describe one example
        if isinstance(obj, dict):
            return {k: shapes(v) for k, v in obj.items() if k not in ("value", "grad", "batch", "max_abs_error",
                                                                     "max_rel_error", "max_abs_derivative", "kinks",
                                                                     "warnings", "compared")}  # compared: all examples
        return [shapes(v) for v in obj] if isinstance(obj, list) and obj and isinstance(obj[0], dict) else obj
    assert shapes(batched) == shapes(alone[0])


@pytest.mark.parametrize("command", ["shape", "diff"])
def test_shape_and_diff_take_batch_and_the_shared_options_dtype_and_seed(command):
    """"Options shared by the commands that compute: --wrt, --json, --dtype, --seed": jac shape and
    jac diff take --batch (they compute), and refused --dtype and --seed as unknown options."""
    extra = ["--wrt", "x"] if command == "diff" else []
    out = ok(command, "sin(x) * w", "x:3x2", "w:2", "--batch", "x", "--dtype", "float32", "--seed", "7", *extra)
    assert out["batch"] == {"size": 3, "inputs": {"x": 0}} and out["inputs"]["x"]["shape"] == [2]
    assert refused(command, "sin(x)", "x:2", "--dtype", "float16", *extra)["kind"] == "usage"  # an option's bad value (session 39)
    assert refused(command, "sin(x)", "x:2", "--seed", "-1", *extra)["kind"] == "usage"


def test_diff_converts_its_values_to_dtype_and_draws_them_with_seed():
    diff = ok("diff", "sin(x)", "x=rand(2)", "--wrt", "x", "--dtype", "float32", "--seed", "3")
    ev = ok("eval", "sin(x)", "x=rand(2)", "--dtype", "float32", "--seed", "3")
    point = np.asarray(diff["at"]["x"])
    assert np.array_equal(point, point.astype(np.float32))  # float32's numbers
    assert np.allclose(diff["output"]["value"], ev["output"]["value"], rtol=1e-6)
    assert diff["at"]["x"] != ok("diff", "sin(x)", "x=rand(2)", "--wrt", "x", "--seed", "4")["at"]["x"]
    at = ok("diff", "x**2", "x:()", "--wrt", "x", "--at", "x=0.1", "--dtype", "float32")["derivative"]["x"]["value"]
    assert at == 2 * float(np.float32(0.1))


# ---------------------------------------------------------------------------------------------------
# vjp's --v


def test_vjp_without_v_on_a_non_scalar_output_names_its_shape_and_v():
    for command in (["vjp"], ["graph", "--backward"]):
        for batch in ([], ["--batch", "x"]):
            x = "x=[[1, 2], [3, 4]]" if batch else "x=[1, 2]"
            err = refused(command[0], "sin(x)", x, *command[1:], *batch)
            assert "(2,)" in err["message"] and "--v" in err["message"]
    err = refused("vjp", "a = sin(x); b = sum(x); a, b", "x=[1, 2]")
    assert "(2,)" in err["message"] and "--v a=" in err["message"]


def test_v_per_output_omitted_outputs_are_zero_and_ones_is_a_shorthand():
    expr, x = "a = sin(x); b = sum(x**2); a, b", "x=[1, 2]"
    only_b = ok("vjp", expr, x, "--v", "b=1")
    assert only_b["v"]["a"]["value"] == [0.0, 0.0] and only_b["vjp"]["x"]["value"] == [2.0, 4.0]
    ones = ok("vjp", expr, x, "--v", "ones")["vjp"]["x"]["value"]
    assert ones == [np.cos(1) + 2, np.cos(2) + 4]  # backward([a, b], [ones, ones])
    both = ok("vjp", "a = sum(x); b = sum(x**2); a, b", x)  # one-element outputs need no --v
    assert both["vjp"]["x"]["value"] == [3.0, 5.0]
    single = ok("vjp", "sin(x)", "x=[1.5]")  # a lone one-element output
    assert single["vjp"]["x"]["value"] == [np.cos(1.5)]
    batched = ok("vjp", expr, "x=[[1, 2], [3, 4]]", "--batch", "x", "--v", "a=[[1, 0], [0, 1]]")
    assert batched["vjp"]["x"]["value"] == [[np.cos(1), 0.0], [0.0, np.cos(4)]]


# ---------------------------------------------------------------------------------------------------
# orders: y.shape + x.shape * K


@pytest.mark.parametrize("x, shape", [("2.0", ()), ("[1.0, 2.0]", (2,)), ("[[1.0, 2.0], [3.0, 4.0]]", (2, 2))])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_derivative_and_diff_order_k_have_shape_y_plus_x_times_k(x, shape, order):
    for expr, y in (("x**4", shape), ("sum(x**4)", ())):
        d = ok("derivative", expr, f"x={x}", "--order", order)["derivative"]["x"]
        assert d["order"] == order and d["shape"] == list(y + shape * order)
        assert np.shape(number(d["value"])) == y + shape * order
        s = ok("diff", expr, f"x={x}", "--wrt", "x", "--order", order)["derivative"]["x"]
        assert s["shape"] == d["shape"] and np.allclose(number(s["value"]), number(d["value"]))
    assert refused("derivative", "x", "x=1", "--order", "0")["kind"] == "usage"


# ---------------------------------------------------------------------------------------------------
# the math_shape table, every kind pair, both layouts

M, L, N, K = 2, 3, 4, 5
TABLE = {("scalar", "scalar"): [1], ("scalar", "vector"): [1, N], ("scalar", "matrix"): [K, N],
         ("vector", "scalar"): [M, 1], ("vector", "vector"): [M, N], ("vector", "matrix"): [M, K, N],
         ("matrix", "scalar"): [M, L], ("matrix", "vector"): [M, L, N], ("matrix", "matrix"): [M, L, K, N]}
YS = {"scalar": (), "vector": (M,), "matrix": (M, L), "tensor": (M, L, 2)}
XS = {"scalar": (), "vector": (N,), "matrix": (N, K), "tensor": (N, K, 3)}


@pytest.mark.parametrize("y", list(YS))
@pytest.mark.parametrize("x", list(XS))
def test_math_shape_is_the_tables_and_array_layout_is_y_shape_plus_x_shape(y, x):
    ys, xs = YS[y], XS[x]
    expr = f"sum(x) * ones({ys})" if ys else "sum(x)"
    binding = "x:" + ("x".join(map(str, xs)) or "()")
    want = TABLE.get((y, x), list(ys + xs))
    array = ok("eval", expr, binding)["jacobian"]["x"]
    assert array["layout"] == "array" and array["shape"] == list(ys + xs) and array["math_shape"] == want
    assert np.shape(number(array["value"])) == ys + xs
    numerator = ok("eval", expr, binding, "--layout", "numerator")["jacobian"]["x"]
    assert numerator["layout"] == "numerator" and numerator["math_shape"] == want
    assert np.shape(number(numerator["value"])) in (tuple(want), ())  # a scalar by a scalar: one number
    assert ok("shape", expr, binding)["derivatives"]["x"]["math_shape"] == want


# ---------------------------------------------------------------------------------------------------
# NaN and infinities: strings in every key that holds values

NONFINITE = [
    ["eval", "log(x)", "x=[0, -1, 1]"], ["eval", "a = log(x); b = sum(1/x); a, b", "x=[0, -1, 1]"],
    ["eval", "log(x)", "x=[[0, -1], [1, 2]]", "--batch", "x"], ["eval", "log(x)", "x=[0, -1, 1]", "--layout", "numerator"],
    ["vjp", "log(x)", "x=[0, -1, 1]", "--v", "[inf, nan, 1]"], ["jvp", "log(x)", "x=[0, -1, 1]", "--tangent", "x=[inf, nan, 1]"],
    ["jvp", "a = log(x); b = sum(1/x); a, b", "x=[0, -1, 1]", "--tangent", "x=ones"],
    ["hessian", "sum(log(x))", "x=[0, -1, 1]"], ["hessian", "a = log(x); b = sum(1/x); a, b", "x=[0, -1, 1]"],
    ["derivative", "log(x)", "x=[0, -1, 1]", "--order", "3"], ["graph", "sum(log(x))", "x=[0, -1, 1]", "--backward"],
    ["eval", "x", "x=[inf, -inf, nan]"], ["diff", "log(x)", "x:3", "--at", "x=[0, -1, 1]"],
    ["check", "log(x)", "x=[0, -1, 1]"],
]


@pytest.mark.parametrize("args", NONFINITE, ids=[" ".join(a[:2]) for a in NONFINITE])
def test_nan_and_infinities_are_strings_everywhere(args):
    code, out, err = run(*args, "--json")
    assert code in (0, 1), err  # jac check: 1 where a derivative cannot be checked
    obj = strict_json(out)
    assert any(isinstance(v, str) and v in ("NaN", "Infinity", "-Infinity")
               for _, value in values(obj) for v in np.asarray(value, dtype=object).ravel())


# ---------------------------------------------------------------------------------------------------
# files: written whole or not at all


def test_a_failing_out_keeps_the_old_file(tmp_path, monkeypatch):
    old = tmp_path / "J.npy"
    old.write_bytes(b"OLD")
    (tmp_path / "dir.npy").mkdir()
    assert refused("eval", "sin(x)", "x=[1, 2]", "--out", tmp_path / "dir.npy")["kind"] == "io"  # a folder
    assert refused("eval", "sin(x)", "x=[1, 2]", "--out", tmp_path / "no" / "J.npy")["kind"] == "io"
    # a suffix --out does not write is the option's bad value, refused before any work, as --plot's (39)
    assert refused("eval", "sin(x)", "x=[1, 2]", "--out", tmp_path / "J.txt")["kind"] == "usage"
    assert refused("eval", "log(x)", "x=[0, 1]", "--out", old, "--strict")["kind"] == "value"
    from numpy.lib import format as npy_format

    def broken(fp, *args, **kwargs):  # half written, then the disk fills
        fp.write(b"\x93NUMPY half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(npy_format, "write_array", broken)
    assert refused("eval", "sin(x)", "x=[1, 2]", "--out", old)["kind"] == "io"

    def interrupted(fp, *args, **kwargs):
        fp.write(b"\x93NUMPY half")
        raise KeyboardInterrupt
    monkeypatch.setattr(npy_format, "write_array", interrupted)
    assert run("eval", "sin(x)", "x=[1, 2]", "--out", old)[0] == 130
    assert old.read_bytes() == b"OLD" and sorted(p.name for p in tmp_path.iterdir()) == ["J.npy", "dir.npy"]
    monkeypatch.undo()
    for suffix in ("npy", "npz", "json"):
        run("eval", "sin(x)", "x=[1, 2]", "--out", tmp_path / f"J.{suffix}")
    assert np.array_equal(np.load(tmp_path / "J.npy"), np.diag(np.cos([1.0, 2.0])))
    assert json.loads((tmp_path / "J.json").read_text())


# ---------------------------------------------------------------------------------------------------
# --max-memory, checked before allocating

HUGE = "x:100000x100000"
EVERY = {"eval": [], "vjp": [], "jvp": ["--tangent", "x=ones"], "hessian": [], "derivative": ["--order", "2"],
         "check": [], "graph": [], "diff": ["--wrt", "x"]}


@pytest.mark.parametrize("command", list(EVERY))
def test_max_memory_refuses_a_huge_shape_before_allocating(command):
    err = refused(command, "sum(x)", HUGE, "--max-memory", "10M", *EVERY[command], kind="limit")
    assert "10,485,760" in err["message"] or "10.0 MiB" in err["message"], err


def test_diff_holds_its_check_to_max_memory():
    """jac diff checks each formula against autodiff at a random point: at x:1500x1500 under a 10 MB budget
    that made 300 MB (x:6000x6000: 1.8 GB and --timeout) before it was counted."""
    err = refused("diff", "sum(x)", "x:1500x1500", "--wrt", "x", "--max-memory", "10M", kind="limit")
    assert "budget" in err["message"] and "MiB" in err["message"]
    assert ok("diff", "sum(x)", "x:30x30", "--wrt", "x", "--max-memory", "10M")["derivative"]["x"]["shape"] == [30, 30]


def test_diff_order_2_holds_the_index_forms_numbers_to_max_memory():
    """The index form of a second derivative is checked with the whole derivative in numbers (x:300: 300
    passes through the gradient graph and 90,000 entries, about 2 MB), which took the default budget."""
    assert ok("diff", "sum(x**3)", "x:300", "--wrt", "x", "--order", "2")["derivative"]["x"]["shape"] == [300, 300]
    refused("diff", "sum(x**3)", "x:300", "--wrt", "x", "--order", "2", "--max-memory", "1M", kind="limit")


# ---------------------------------------------------------------------------------------------------
# errors: exit 2, one message, a caret under the column the user typed


@pytest.mark.parametrize("command", ["eval", "vjp", "hessian", "shape", "diff", "check", "graph", "derivative"])
@pytest.mark.parametrize("expr, column", [("sin(x) +", 8), ("foo(x)", 0), ("a = sin(x); a, x[7]", 17),
                                          ("a = sin(x); a, foo(x)", 15), ("a = foo(x); a, x", 4)])
def test_errors_point_at_the_column_typed_in_every_command(command, expr, column):
    binding = "x:3" if command in ("shape", "diff") else "x=[1, 2, 3]"
    extra = ["--wrt", "x"] if command in ("diff", "derivative") else []
    err = refused(command, expr, binding, *extra)
    assert err["position"] == column, err
    code, out, stderr = run(command, expr, binding, *extra)
    assert code == 2 and out == ""
    lines = stderr.rstrip("\n").split("\n")
    assert lines[1] == "  " + expr and lines[2] == " " * (2 + column) + "^", stderr


@pytest.mark.parametrize("command", ["eval", "vjp", "hessian", "derivative", "shape", "diff", "check", "graph"])
def test_an_expression_beginning_with_minus_from_a_file_or_stdin(command, tmp_path, monkeypatch):
    binding = "x:2" if command in ("shape", "diff") else "x=[1.0, 2.0]"
    out = ok(command, "-x.sum()", binding, "--wrt", "x")
    assert out["expression"] == "-x.sum()"
    path = tmp_path / "e.txt"
    path.write_text("-(x * 2).sum()\n")
    assert ok(command, f"@{path}", binding)["inputs"]["x"]["shape"] == [2]
    monkeypatch.setattr(sys, "stdin", io.StringIO("-(x * 2).sum()\n"))
    assert ok(command, "-", binding)["inputs"]["x"]["shape"] == [2]


# ---------------------------------------------------------------------------------------------------
# bindings

BINDINGS = {"x=torch.tensor([1., 2.])": [1, 2], "x=np.array([1, 2])": [1, 2], "x=numpy.array([[1, 2]])": [[1, 2]],
            "x=arange(6).reshape(2, 3)": [[0, 1, 2], [3, 4, 5]], "x=True": 1, "x=[True, False]": [1, 0],
            "x=False": 0, "x=np.array(True)": 1, "x=(1, 2)": [1, 2]}


@pytest.mark.parametrize("binding", list(BINDINGS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bindings_as_pytorch_and_numpy_users_write_them(binding, dtype):
    out = ok("eval", "x * 1", binding, "--dtype", dtype)
    assert out["output"]["value"] == BINDINGS[binding]


def test_random_bindings_follow_seed_and_npy_is_never_unpickled(tmp_path):
    one = ok("eval", "x", "x:3", "--seed", "5")["output"]["value"]
    assert one == ok("eval", "x", "x=randn(3)", "--seed", "5")["output"]["value"] != ok("eval", "x", "x:3")["output"]["value"]
    assert ok("eval", "x", "s:()", "x=2")["inputs"]["s"]["shape"] == []
    pickled = tmp_path / "o.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert "pickle" in refused("eval", "x", f"x=@{pickled}")["message"]
    assert refused("eval", "x", "x:n")["kind"] == "value"  # symbolic sizes: shape and diff only
    assert ok("shape", "x", "x:n")["output"]["shape"] == ["n"]


# ---------------------------------------------------------------------------------------------------
# real processes: Ctrl-C mid-work and a closed pipe, every command


WORK = "tanh(A@A@A@A@A@A@A@A)"
# each runs far past the 2 s the test waits (diff of det(A) at 7x7 took 1.1 s once its matrix-calculus form landed;
# check at A:60x60 finished within 2 s once on a quick machine: 80x80 takes about 3 times as long)
MID_WORK = {"jvp": ["jvp", WORK, "A:700x700", "--tangent", "A=ones"],
            "hessian": ["hessian", f"sum({WORK})", "A:20x20"],
            "derivative": ["derivative", f"sum({WORK})", "A:10x10", "--order", "3"],
            "check": ["check", WORK, "A:80x80"], "diff": ["diff", f"sum({WORK})", "A:30x30", "--wrt", "A", "--order", "2"]}


@pytest.mark.parametrize("command", list(MID_WORK))
def test_ctrl_c_mid_work_exits_130(command):
    proc = subprocess.Popen(JAC + MID_WORK[command] + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"Traceback" not in err, err[-300:]


CLOSED = [["jvp", "sin(x)", "x:3", "--tangent", "x=ones"], ["hessian", "sum(sin(x))", "x:3"],
          ["derivative", "sin(x)", "x:3", "--order", "2"], ["diff", "sin(x)", "x:3", "--wrt", "x"],
          ["check", "sin(x)", "x:3"], ["eval", "sin(x)", "x:3", "--batch", "x"], ["eval", "sin(x) +", "x:3"]]


@pytest.mark.parametrize("args", CLOSED, ids=[a[0] for a in CLOSED])
def test_a_closed_pipe_is_141_in_every_command_with_and_without_json(args):
    for extra in ([], ["--json"]):
        if extra == [] and args[1].endswith("+"):
            continue  # an error without --json writes nothing on stdout
        proc = subprocess.Popen(JAC + args + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        proc.stdout.close()  # the reader is gone before jac writes a byte
        proc.wait(timeout=120)
        assert proc.returncode == 141, (args, extra, proc.stderr.read()[-300:])
