"""A newcomer's first hour and the Python API's words (session 40, h40-newcomer).

The API's errors name the keywords its caller wrote (``wrt=['z']``, ``v=VALUE``, ``tangents['x']``,
``max_memory=``, ``order=``), by one mechanism: the library raises with the command line's options and each API
entry point (``errors.in_api_words``) gives them in the API's words; the command line keeps its own. Every entry
point's bad arguments answer or refuse clearly: a string ``wrt`` is one name (``wrt="xy"`` was x and y), a
string of bindings one binding, object arrays, None, strings, complex values, meta and sparse tensors, a list of
tangents. ``benchmarks/newcomer40_probe.py`` runs ~240 such inputs; these are its findings, pinned."""
import contextlib
import io
import json

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.cli import entry
from jacobi_cli.errors import (JacError, JacNameError, JacShapeError, JacUsageError, JacValueError, api_words,
                               in_api_words)
from jacobi_cli.tools import api

B = {"x": [1.0, 2.0], "y": [3.0, 4.0]}


def jac(*args) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def raised(call, cls=JacError) -> JacError:
    with pytest.raises(cls) as info:
        call()
    return info.value


# --- the words: one table, one function --------------------------------------------------------------

@pytest.mark.parametrize("cli, spoken", [
    ("--wrt z: no input named 'z' is bound (inputs: x, y)", "wrt=['z']: no input named 'z' is bound (inputs: x, y)"),
    ("--wrt x,y: no input named 'x,y'; --wrt takes one name and is repeated: --wrt x --wrt y",
     "wrt=['x,y']: no input named 'x,y'; wrt= takes a list of names: wrt=['x', 'y']"),
    ("--wrt ' x': spaces around the name; write --wrt x", "wrt=[' x']: spaces around the name; write wrt=['x']"),
    ("pass --v VALUE (or --v ones). PyTorch says", "pass v=VALUE (or v='ones'). PyTorch says"),
    ("in --v: invalid syntax", "in v: invalid syntax"),
    ("in --v a: invalid syntax", "in v['a']: invalid syntax"),
    ("pass --v a=VALUE (outputs left out count as zero)", "pass v={'a': VALUE} (outputs left out count as zero)"),
    ("--tangent z: no input named 'z'", "tangents['z']: no input named 'z'"),
    ("--tangent x: 'x' is held constant (--wrt y); add --wrt x, or drop its tangent",
     "tangents['x']: 'x' is held constant (wrt=['y']); add wrt=['x'], or drop its tangent"),
    ("--max-memory 'lots' is not a size", "max_memory='lots' is not a size"),
    ("or raise the budget with --max-memory", "or raise the budget with max_memory="),
    ("name one with --wrt (mixed second derivatives, every pair of inputs: jac hessian)",
     "name one with wrt= (mixed second derivatives, every pair of inputs: hessian())"),
    ("--order must be a whole number from 1 to 32, not 0", "order= must be a whole number from 1 to 32, not 0"),
    ("a value that --dtype float32 cannot hold", "a value that dtype='float32' cannot hold"),
    ("drawn by jac (--seed), not PyTorch's", "drawn by jac (seed=), not PyTorch's"),
    ("--batch z: no input named 'z'", "batch=['z']: no input named 'z'"),
    ("--tangent X: no input named 'X'", "tangents['X']: no input named 'X'"),  # a name, not a placeholder
    ("--wrt A --wrt W", "wrt=['A', 'W']"), ("--wrt W: no input", "wrt=['W']: no input"),
    ("--wrt NAME picks one", "wrt=[NAME] picks one"), ("--order K", "order=K"),
    ("the text's y.backward(gradient=V) and --v V", "the text's y.backward(gradient=V) and v=V"),
    ("--json and --out stay", "--json and --out stay"),  # no keyword of the API's: as they are
    ("--verbose --values", "--verbose --values"),  # not --v, not --value
])
def test_api_words_say_each_option_as_the_api_keyword(cli, spoken):
    assert api_words(cli) == spoken
    assert api_words(spoken) == spoken  # idempotent: an entry point calling another changes nothing more


def test_in_api_words_keeps_the_error_and_its_class_and_position():
    @in_api_words
    def f():
        raise JacNameError("--wrt z: no input named 'z' is bound", 3, "x * y")

    err = raised(f, JacNameError)
    assert (err.message, str(err), err.position, err.source) == \
        ("wrt=['z']: no input named 'z' is bound", "wrt=['z']: no input named 'z' is bound", 3, "x * y")


# --- every entry point speaks the API's words ------------------------------------------------------

f3 = {"x": np.ones(3), "y": np.ones(3)}


@pytest.mark.parametrize("call, start", [
    (lambda: api.jacobian("x * y", B, wrt=["z"]), "wrt=['z']: no input named 'z'"),
    (lambda: api.vjp("sum(x * y)", B, wrt=["z"]), "wrt=['z']: no input named 'z'"),
    (lambda: api.hessian("sum(x * y)", B, wrt=["z"]), "wrt=['z']: no input named 'z'"),
    (lambda: api.plan("x * y", B, wrt=["z"]), "wrt=['z']: no input named 'z'"),
    (lambda: api.derivative("sum(x * y)", B, wrt=["z"]), "wrt=['z']: no input named 'z'"),
    (lambda: api.diff("x**2", wrt=["z"]), "wrt=['z']: no input named 'z'"),
    (lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).jacobian(f3, wrt=["z"]),
     "wrt=['z']: no input named 'z'"),
    (lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).hessian(f3, wrt=["z"]),
     "wrt=['z']: no input named 'z'"),
    (lambda: api.jvp("x * y", B, {"z": [1.0, 0.0]}), "tangents['z']: no input named 'z'"),
    (lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).jvp(f3, {"z": np.ones(3)}),
     "tangents['z']: no input named 'z'"),
    (lambda: api.jvp("x * y", B, {"x": [1.0, 0.0, 3.0]}), "tangents['x']: the tangent has shape (3,)"),
    (lambda: api.jvp("x * y", B, {"x": "[1, "}), "in tangents['x']: invalid syntax"),
    (lambda: api.jacobian("x", {"x": [1.0]}, max_memory="lots"), "max_memory='lots' is not a size"),
    (lambda: api.jacobian("x", {"x": [1.0, 2.0]}, batch=["z"]), "batch=['z']: no input named 'z'"),
    (lambda: api.derivative("sum(x)", {"x": [1.0]}, order=0), "order= must be a whole number"),
    (lambda: api.diff("x**2", at={"x": "[1,"}), "in at['x']: invalid syntax"),
])
def test_each_entry_point_names_the_keyword_its_caller_wrote(call, start):
    err = raised(call)
    assert err.message.startswith(start), err.message
    assert "--" not in err.message


@pytest.mark.parametrize("call", [
    lambda: api.vjp("x * y", B),
    lambda: jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"}).vjp(f3),
])
def test_a_vjp_without_v_says_v_as_the_api_takes_it(call):
    err = raised(call, JacValueError)
    assert "pass v=VALUE (or v='ones')" in err.message and "--v" not in err.message
    assert "grad can be implicitly created only for scalar outputs" in err.message


def test_the_limits_and_derivative_hints_name_the_keywords():
    err = raised(lambda: api.jacobian("x", {"x": np.ones(1000)}, max_memory=100), JacError)
    assert err.kind == "limit" and err.message.endswith("raise the budget with max_memory=")
    err = raised(lambda: api.derivative("sum(x * y)", B), JacUsageError)
    assert "name one with wrt= " in err.message and "hessian()" in err.message


def test_a_value_given_as_text_points_into_it_and_names_the_keyword():
    err = raised(lambda: api.vjp("x * y", B, v="[1, 2"))
    assert err.kind == "parse" and err.value_of == "v=" and err.source == "[1, 2"
    err = raised(lambda: api.jvp("x * y", B, {"x": "[1, "}))
    assert err.value_of == "tangents['x']"


def test_the_command_line_keeps_its_own_words():
    code, out, err = jac("eval", "x * y", "x=1", "y=2", "--wrt", "z", "--json")
    assert code == 2 and json.loads(out)["error"]["message"].startswith("--wrt z: no input named 'z'")
    code, _, err = jac("vjp", "x * 2", "x=[1, 2]")
    assert code == 2 and "pass --v VALUE (or --v ones)" in err


def test_the_method_a_suite_calls_keeps_the_command_lines_words():
    """``jac run`` calls a compiled function's jacobian through ``__wrapped__``: its errors stay the CLI's."""
    f = jacobi_cli.compile("x * y", {"x": ":3", "y": ":3"})
    err = raised(lambda: type(f).jacobian.__wrapped__(f, f3, ["z"]), JacNameError)
    assert err.message.startswith("--wrt z: no input named 'z'")
    err = raised(lambda: f.jacobian(f3, ["z"]), JacNameError)
    assert err.message.startswith("wrt=['z']: no input named 'z'")


# --- what each entry point takes ----------------------------------------------------------------------

def test_a_string_wrt_is_one_name_never_its_letters():
    """wrt="xy" differentiated by x and by y (the string's letters) where the input xy was meant: a silent
    wrong answer when inputs x, y and xy all exist."""
    b = {"x": [1.0, 2.0], "y": [3.0, 4.0], "xy": [5.0, 6.0]}
    text = "x * y * xy"
    got = api.jacobian(text, b, wrt="xy")
    assert list(got) == ["xy"]
    np.testing.assert_array_equal(got["xy"], api.jacobian(text, b, wrt=["xy"])["xy"])
    np.testing.assert_array_equal(got["xy"], np.diag([3.0, 8.0]))
    assert list(api.vjp("sum(x * y * xy)", b, wrt="xy")) == ["xy"]
    assert list(api.hessian("sum(x * y * xy)", b, wrt="xy")) == [("xy", "xy")]
    f = jacobi_cli.compile(text, {"x": ":2", "y": ":2", "xy": ":2"})
    arrays = {k: np.asarray(v) for k, v in b.items()}
    for _ in range(3):  # the repeated call's kernel too: keyed by the names, not the letters
        assert list(f.jacobian(arrays, wrt="xy")) == ["xy"]
        assert list(f.jacobian(arrays, wrt=["x", "y"])) == ["x", "y"]


def test_a_string_batch_is_one_spec():
    got = api.jacobian("x * 2", {"x": [[1.0, 2.0], [3.0, 4.0]]}, batch="x:1")
    np.testing.assert_array_equal(got["x"], api.jacobian("x * 2", {"x": [[1.0, 2.0], [3.0, 4.0]]},
                                                         batch=["x:1"])["x"])


@pytest.mark.parametrize("wrt, says", [
    ([1], "wrt= takes the names of inputs as strings ('x'), not 1 (int)"),
    (3, "wrt= takes the names of inputs ('x' or ['x', 'y']), not an int"),
    ([("x",)], "not ('x',) (tuple)"),
])
def test_wrt_of_other_types_is_refused(wrt, says):
    err = raised(lambda: api.jacobian("x * y", B, wrt=wrt), JacUsageError)
    assert says in err.message


def test_bindings_as_a_string_are_one_binding_and_other_shapes_are_refused():
    np.testing.assert_array_equal(api.evaluate("x * 2", "x=[1, 2]"), [2.0, 4.0])
    for bad, shown in [([1, 2], "a list holding 1 (int)"), (("x", 1), "a tuple holding 1 (int)"), (3, "an int")]:
        err = raised(lambda: api.evaluate("x", bad), JacUsageError)
        assert err.message.startswith("bindings are a dict of values by input name") and shown in err.message


@pytest.mark.parametrize("value, says", [
    (None, "'x' is None, not a number or an array of numbers"),
    ({"a": 1}, "'x' is a dict, not a number or an array of numbers"),
    (["1", "2"], "'x' holds strings (dtype <U1), not real numbers"),
    (np.array([1, "a"], dtype=object), "'x' is an array of Python objects (dtype object)"),
    (np.array([1, 2.5], dtype=object), "'x' is an array of Python objects (dtype object)"),
    (np.array([1 + 2j]), "'x' is complex (dtype complex128)"),
])
def test_values_that_are_not_real_numbers_are_refused_saying_what_they_are(value, says):
    err = raised(lambda: api.evaluate("sum(x)", {"x": value}), JacValueError)
    assert err.message.startswith(says), err.message


@pytest.mark.parametrize("call, says", [
    (lambda: api.vjp("x * y", B, v=np.array([1, "a"], dtype=object)), "v is an array of Python objects"),
    (lambda: api.vjp("x * y", B, v=[None, 1.0]), "v is an array of Python objects"),
    (lambda: api.jvp("x * y", B, {"x": np.array([1, "a"], dtype=object)}),
     "the tangent (tangents['x']) is an array of Python objects"),
    (lambda: api.diff("x**2", at={"x": np.array(["a"], dtype=object)}),
     "the point's value (at['x']) is an array of Python objects"),
    (lambda: jacobi_cli.compile("x * 2", {"x": ":2"}).value({"x": np.array([1, "a"], dtype=object)}),
     "the input 'x' is an array of Python objects"),
])
def test_a_v_a_tangent_a_point_and_a_compiled_input_of_objects_are_refused(call, says):
    err = raised(call, JacValueError)
    assert err.message.startswith(says), err.message


def test_tangents_as_a_list_are_refused_with_the_dict_to_give():
    err = raised(lambda: api.jvp("x * y", B, [1.0, 0.0]), JacUsageError)
    assert err.message.startswith("tangents: the tangents are a dict {name: tangent}")


def test_structured_takes_a_bool_only():
    err = raised(lambda: api.jacobian("x", {"x": [1.0]}, structured="no"), JacUsageError)
    assert err.message == "structured= is True or False, not 'no'"
    assert api.jacobian("x", {"x": [1.0]}, structured=True)["x"].structure == "dense"


def test_diff_at_as_one_string_is_one_point():
    got = api.diff("x**3", wrt=["x"], at="x=2")
    assert float(got["x"].value) == 12.0
    got = api.diff("x**3", wrt=["x"], at={"x": 2.0})
    assert float(got["x"].value) == 12.0


# --- PyTorch tensors as values, v and tangents --------------------------------------------------------

def test_tensors_are_read_by_their_values_as_pytorch_would_compute():
    torch = pytest.importorskip("torch")
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    y = torch.sin(x) * x
    y.backward(v)
    got = api.vjp("sin(x) * x", {"x": x}, v=v)["x"]
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-15)
    _, jvp = torch.func.jvp(lambda a: torch.sin(a) * a, (x.detach(),), (v.detach(),))
    np.testing.assert_allclose(api.jvp("sin(x) * x", {"x": x}, {"x": v}), jvp.numpy(), rtol=1e-15)


def test_a_sparse_tensor_is_its_values_and_a_meta_tensor_is_refused():
    torch = pytest.importorskip("torch")
    dense = torch.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=torch.float64)
    assert float(api.evaluate("sum(x ** 2)", {"x": dense.to_sparse()})) == float((dense ** 2).sum())
    np.testing.assert_array_equal(api.vjp("x * 2", {"x": [1.0, 2.0]}, v=torch.ones(2).to_sparse())["x"], [2.0, 2.0])
    err = raised(lambda: api.evaluate("sum(x)", {"x": torch.ones(2, device="meta")}), JacValueError)
    assert err.message.startswith("'x' is a tensor on PyTorch's meta device: it has a shape but no values")
    err = raised(lambda: api.jvp("x * 2", {"x": [1.0, 2.0]}, {"x": torch.ones(2, device="meta")}), JacValueError)
    assert err.message.startswith("the tangent (tangents['x']) is a tensor on PyTorch's meta device")


# --- the command line, as a newcomer types it -----------------------------------------------------------

def refused(*args) -> dict:
    """One refusal: exit 2, one message line, no traceback; the --json error object."""
    code, out, err = jac(*args)
    assert code == 2 and out == "" and "Traceback" not in err, (args, code, err)
    assert len([line for line in err.splitlines() if line.startswith("jac")]) == 1
    code, out, _ = jac(args[0], "--json", *args[1:])
    assert code == 2
    return json.loads(out)["error"]


@pytest.mark.parametrize("spec, shape", [("(3,)", [3]), ("(2,3)", [2, 3]), ("(2, 3,)", [2, 3]), ("3,", [3]),
                                         ("[4]", [4]), ("2x3", [2, 3])])
def test_a_shape_written_as_pythons_tuple_is_that_shape(spec, shape):
    code, out, err = jac("eval", "sum(x)", f"x:{spec}", "--json")
    assert code == 0, err
    assert json.loads(out)["inputs"]["x"]["shape"] == shape
    assert api.evaluate("x", {"x": f":{spec}"}).shape == tuple(shape)


@pytest.mark.parametrize("value", ["{d}/x.npy", "./x.csv", "x.csv", "C:\\Users\\me\\x.npy", "~/x.txt"])
def test_a_files_path_without_its_at_says_to_put_the_at(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.arange(3.0))
    (tmp_path / "x.csv").write_text("1,2,3\n")
    path = value.format(d=tmp_path)
    error = refused("eval", "sum(x)", f"x={path}")
    assert error["message"].endswith(f"'{path}' looks like a file's path: put @ before it to read the file (@{path})")
    if not path.startswith(("C:", "~")):  # and with the @, the file is read
        code, out, _ = jac("eval", "sum(x)", f"x=@{path}", "--json")
        assert code == 0 and json.loads(out)["output"]["value"] == (6.0 if path.endswith("csv") else 3.0)


@pytest.mark.parametrize("expr", ["/work/prog.py", "C:\\work\\prog.py", "prog.py", "./prog.py"])
def test_an_expression_files_path_without_its_at_says_to_put_the_at(expr):
    error = refused("eval", expr)
    assert error["message"].endswith(f"'{expr}' looks like a file's path: put @ before it to read the file (@{expr})")


@pytest.mark.parametrize("text", ["x/y", "x.T", "x.sum()", "a.b"])
def test_expressions_that_are_no_paths_get_no_path_hint(text):
    from jacobi_cli.lang.parser import looks_like_path

    assert not looks_like_path(text)


@pytest.mark.parametrize("args, says", [
    (["eval", "xx * y", "xx=1", "y=2", "--wrt", "x"], "--wrt x: no input named 'x' is bound (inputs: xx, y); "
                                                      "did you mean 'xx'?"),
    (["jvp", "xx * y", "xx=1", "y=2", "--tangent", "X=1"], "--tangent X: no input named 'X' is bound (inputs: xx, y); "
                                                           "did you mean 'xx'?"),
    (["eval", "xs * 2", "xs=[[1, 2]]", "--batch", "x"], "--batch x: no input named 'x' is bound (inputs: xs); "
                                                        "did you mean 'xs'?"),
    (["eval", "x * y", "x=1", "y=2", "--wrt", "z"], "--wrt z: no input named 'z' is bound (inputs: x, y)"),
])
def test_a_name_close_to_an_input_gets_did_you_mean(args, says):
    assert refused(*args)["message"] == says


def test_the_api_says_did_you_mean_in_its_words():
    err = raised(lambda: api.jacobian("xx * y", {"xx": 1.0, "y": 2.0}, wrt=["x"]), JacNameError)
    assert err.message == "wrt=['x']: no input named 'x' is bound (inputs: xx, y); did you mean 'xx'?"


@pytest.mark.parametrize("text, says", [
    # session 53: the library's own parameters (lang/kwnames.py), as typed, with the close one
    ("torch.sum(x, dims=0)", "torch.sum() has no argument 'dims': PyTorch's torch.sum takes input, dim, dtype, keepdim, "
                             "out (it raises TypeError): write dim="),
    ("torch.sum(x, keep_dim=True)", "torch.sum() has no argument 'keep_dim': PyTorch's torch.sum takes input, dim, "
                                    "dtype, keepdim, out (it raises TypeError); did you mean 'keepdim'?"),
    ("np.sum(x, axes=0)", "np.sum() has no argument 'axes': NumPy's np.sum takes a, axis, dtype, out, keepdims, "
                          "initial, where (it raises TypeError): write axis="),
    ("torch.sum(x, foo=1)", "torch.sum() has no argument 'foo': PyTorch's torch.sum takes input, dim, dtype, keepdim, "
                            "out (it raises TypeError): drop foo="),
    ("sum(x, dims=0)", "sum() has no argument 'dims' (it takes x, axis, keepdims); did you mean 'dim'?"),
])
def test_an_unknown_keyword_is_named_as_typed_with_the_close_one(text, says):
    """torch.sum(x, dims=0) said "no argument 'axes'": the alias jac maps dims to, a word the user never typed."""
    error = refused("eval", text, "x:2x3")
    assert error["message"] == says and error["kind"] == "parse" and error["position"] is not None


@pytest.mark.parametrize("binding, kind, says", [
    ("x==1", "parse", "'x==1' has two '=': a binding is x=1"),
    ("x:=1", "value", "'x:=1' is neither a value nor a shape: a value is given with '=' alone (x=1), a shape with "
                      "':' (x:3)"),
])
def test_a_binding_with_one_sign_too_many_says_which_to_write(binding, kind, says):
    error = refused("eval", "sum(x)", binding)
    assert (error["kind"], error["message"]) == (kind, says)
