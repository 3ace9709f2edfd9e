"""Every option of every command, as a newcomer and as a script (session 39).

One kind for one mistake: an option's value the option cannot take (a word not among its choices, a
number of the wrong type or out of range, an empty value, a file name with a suffix the option does not
write) is ``usage`` for every option, --dtype included (it was ``value``); a name that names no input is
``name``; the VALUE of --v / --tangent x= / --at x= is read as a binding's, with a binding's kinds; ``io``
is the file system saying no. ``--out J.npz`` holds the dense array by input name whatever the number of
inputs (one structured Jacobian is also a SciPy sparse matrix). ``benchmarks/options39_probe.py`` runs the
whole grid; these are its findings, pinned."""

import contextlib
import io
import json
import zipfile

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.cli import entry
from jacobi_cli.errors import JacUsageError


def jac(*args) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def refused(*args) -> dict:
    """One refusal, with and without --json: exit 2, one stderr line, the error object; returns it."""
    code, out, err = jac(*args)
    lines = err.splitlines()  # one message (and, under a value, the value with a caret)
    assert code == 2 and out == "" and len([l for l in lines if l.startswith("jac")]) == 1, (args, code, err)
    assert lines[0].startswith("jac: error (") and "Traceback" not in err
    code, out, err = jac(args[0], "--json", *args[1:])
    error = json.loads(out)["error"]
    assert code == 2 and set(error) <= {"kind", "message", "position", "value"}, (args, out)
    assert err.startswith(f"jac: error ({error['kind']}): {error['message'][:40]}")
    return error


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    return tmp_path


# --- one kind for one mistake --------------------------------------------------------------------


@pytest.mark.parametrize("command, option, value", [
    ("eval", "--dtype", "float16"), ("vjp", "--dtype", "double"), ("shape", "--dtype", "int32"),
    ("diff", "--dtype", ""), ("eval", "--layout", "numerater"), ("eval", "--mode", "fast"),
    ("check", "--method", "forward"),
])
def test_an_unknown_choice_is_usage_for_every_choice_option(here, command, option, value):
    extra = ["--wrt", "x"] if command == "diff" else []
    error = refused(command, "sin(x)", "x:2", *extra, f"{option}={value}")
    assert error["kind"] == "usage" and option in error["message"] and repr(value) in error["message"]


@pytest.mark.parametrize("args, said", [
    (["eval", "x", "x=1", "--seed", "1.5"], "--seed must be an integer, not '1.5'"),
    (["run", "s.toml", "-j", "x"], "-j must be an integer, not 'x'"),  # the spelling typed
    (["check", "x", "x=1", "--rtol", "nan("], "--rtol must be a number, not 'nan('"),
    (["derivative", "x", "x=1", "--order", "1e309"], "--order must be an integer, not '1e309'"),
    (["graph", "x", "x=1", "--max-nodes", "ü∂"], "--max-nodes must be an integer, not 'ü∂'"),
])
def test_a_value_of_the_wrong_type_is_named_with_its_option(here, args, said):
    """typer said "Invalid value for '--seed': Input should be a valid integer, unable to parse string as an
    integer": neither the value nor jac's words."""
    (here / "s.toml").write_text('[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = "1" }\nvalue = 1\n')
    error = refused(*args)
    assert error["kind"] == "usage" and error["message"].startswith(said)
    assert f"(see jac {args[0]} --help)" in error["message"]


def test_a_flag_given_a_value_and_an_option_without_one_say_what_to_write(here):
    error = refused("eval", "x", "x=1", "--json=1")
    assert error["message"] == "--json is a flag and takes no value, not '1': write --json alone (see jac eval --help)"
    error = refused("graph", "x", "x=1", "--dot=yes")
    assert "(see jac graph --help)" in error["message"]  # it said "see jac --help": the command's own help
    assert refused("eval", "x", "x=1", "--layout")["message"].startswith("--layout needs a value: array or numerator")
    assert refused("eval", "x", "x=1", "--seed")["message"].startswith("--seed needs a value")


def test_a_typo_of_an_option_is_not_told_to_move_an_expression_after_dashes(here):
    message = refused("eval", "x", "x=1", "--wtr", "x")["message"]
    assert "--wrt" in message and "goes after --" not in message


@pytest.mark.parametrize("option, value", [("--wrt", ""), ("--wrt", " x"), ("--batch", ""), ("--batch", " x")])
def test_an_empty_or_padded_name_is_usage_and_a_name_of_nothing_is_name(here, option, value):
    error = refused("eval", "x", "x=[1, 2]", f"{option}={value}")
    assert error["kind"] == "usage" and repr(value) in error["message"]
    for nothing in ("zz", "ü∂", "-1"):  # --batch ü∂ was usage where --wrt ü∂ is name
        assert refused("eval", "x", "x=[1, 2]", f"{option}={nothing}")["kind"] == "name"


def test_at_values_are_named_as_at_not_as_a_binding(here):
    error = refused("diff", "x**2", "--wrt", "x", "--at", "x=[1,")
    assert error["kind"] == "parse" and error["message"].startswith("in --at x:")
    assert error["value"]["of"] == "--at x" and error["position"] is None
    assert refused("diff", "x**2", "--wrt", "x", "--at", "x=zz")["message"].startswith("in --at x: unknown name")
    error = refused("diff", "x**2", "--wrt", "x", "--at", "1x=2")  # as the binding 1x=2: name
    assert error["kind"] == "name" and error["message"].startswith("--at '1x=2':")
    code, out, _ = jac("diff", "x*y", "--wrt", "x", "--at", "x=2", "--at", "y=3", "--json")
    assert code == 0 and json.loads(out)["derivative"]["x"]["value"] == 3.0


def test_a_tangent_of_the_wrong_shape_names_tangent(here):
    error = refused("jvp", "sin(x)", "x=[1, 2]", "--tangent", "x=[1, 0, 0]")
    assert error["kind"] == "shape" and error["message"].startswith("--tangent x: the tangent has shape (3,)")


# --- output files --------------------------------------------------------------------------------


@pytest.mark.parametrize("command, option, name", [
    ("eval", "--out", "J.txt"), ("eval", "--out", "J"), ("eval", "--plot", "h.pdf"), ("graph", "--out", "g.png"),
])
def test_a_suffix_the_option_does_not_write_is_usage_before_any_work(here, command, option, name):
    """jac eval's --out said "'J.txt': jac writes .npy, .npz or .json files" (io, no option named) after
    computing everything; --plot and jac graph's --out said usage before any work."""
    extra = ["--dot"] if command == "graph" else []
    error = refused(command, "sin(x)", "x=[1, 2]", *extra, option, name)
    assert error["kind"] == "usage" and error["message"].startswith(f"{option} {name}:")
    assert not (here / name).exists()


@pytest.mark.parametrize("command, option, name", [
    ("eval", "--out", "J.npy"), ("eval", "--plot", "h.png"), ("graph", "--out", "g.dot"), ("plot", "--out", "p.png"),
])
def test_an_empty_name_is_usage_and_a_missing_folder_is_io_naming_the_option(here, command, option, name):
    extra = ["--dot"] if command == "graph" else []
    error = refused(command, "sin(x)", "x=1", *extra, f"{option}=")
    assert error["kind"] == "usage" and "empty" in error["message"]
    error = refused(command, "sin(x)", "x=1", *extra, option, f"no/such/{name}")
    assert error["kind"] == "io" and error["message"].startswith(f"{option}: cannot write 'no/such/{name}'")


def test_out_npz_holds_the_array_by_name_whatever_the_number_of_inputs(here):
    """One structured Jacobian was only a SciPy sparse matrix (keys format/shape/row/col/data), two inputs
    one array each: np.load("J.npz")["x"] failed as soon as --wrt named one input."""
    sparse = pytest.importorskip("scipy.sparse")
    assert jac("eval", "sin(x) * y", "x=[1, 2]", "y=[3, 4]", "--out", "two.npz")[0] == 0
    code, _, err = jac("eval", "sin(x) * y", "x=[1, 2]", "y=[3, 4]", "--wrt", "x", "--out", "one.npz")
    assert code == 0 and "and as the array x, shape (2, 2), array layout" in err
    two, one = np.load("two.npz"), np.load("one.npz")
    np.testing.assert_array_equal(one["x"], two["x"])
    np.testing.assert_array_equal(one["x"], np.diag(np.cos([1.0, 2.0]) * [3.0, 4.0]))
    np.testing.assert_array_equal(sparse.load_npz("one.npz").toarray(), one["x"])  # still SciPy's matrix


def test_out_npz_of_one_structured_jacobian_follows_layout(here):
    sparse = pytest.importorskip("scipy.sparse")
    assert jac("eval", "A @ x", "A:2x3", "x=[1, 2, 3]", "--wrt", "A", "--layout", "numerator", "--out", "J.npz")[0] == 0
    saved = np.load("J.npz")
    assert saved["A"].shape == (2, 3, 2)  # math_shape (m, k, n) of a vector by a matrix
    dvec = sparse.load_npz("J.npz").toarray()  # dvec(y)/dvec(A), C order: the array layout's rows
    np.testing.assert_array_equal(dvec.reshape(2, 2, 3), saved["A"].transpose(0, 2, 1))
    np.testing.assert_array_equal(dvec[0], [1, 2, 3, 0, 0, 0])


def test_out_npz_leaves_the_dense_array_out_only_where_it_cannot_be_held_and_says_so(here):
    code, _, err = jac("eval", "sin(x)", "x:3000", "--max-memory", "10M", "--out", "big.npz")
    assert code == 0 and "only (no dense array x: its 72,000,000 bytes pass the memory budget)" in err
    assert sorted(np.load("big.npz").files) == ["col", "data", "format", "row", "shape"]
    code, _, err = jac("eval", "sin(data)", "data=[1, 2]", "--out", "d.npz")
    assert code == 0 and "'data' is a member of SciPy's format" in err
    with zipfile.ZipFile("d.npz") as archive:
        assert sorted(archive.namelist()) == ["col.npy", "data.npy", "format.npy", "row.npy", "shape.npy"]
    np.testing.assert_array_equal(np.load("d.npz")["data"], np.cos([1.0, 2.0]))  # SciPy's COO values: the diagonal
    error = refused("eval", "sin(x) * y", "x:3000", "y:3000", "--max-memory", "10M", "--out", "two.npz")
    assert error["kind"] == "limit" and "--out FILE.npz for one Jacobian: --wrt x" in error["message"]


def test_sparse_without_json_is_refused_since_it_changed_nothing(here):
    code, out, err = jac("eval", "x**2", "x=[1, 2]", "--sparse")
    assert code == 2 and out == "" and err.startswith("jac: error (usage): --sparse changes only --json's output")
    assert "add --json" in err
    code, out, _ = jac("eval", "--json", "--sparse", "x**2", "x=[1, 2]")
    assert code == 0 and json.loads(out)["jacobian"]["x"]["coo"]["values"] == [2.0, 4.0]


def test_too_large_to_print_names_out_only_where_out_saves_it(here):
    """It said "save the Hessian with --out FILE.npy" (jac hessian has no --out) and "save the value with
    --out" (jac eval's --out saves the Jacobians, not the value)."""
    _, out, _ = jac("hessian", "sum(x**3)", "x:40")
    assert "too large to print; see every value with --json" in out and "--out" not in out
    _, out, _ = jac("eval", "A @ x", "A:500x2", "x:2", "--wrt", "x")  # a value and a Jacobian of 500, 1,000
    lines = [line for line in out.splitlines() if "too large to print" in line]
    assert lines == ["  too large to print; see every value with --json",  # the value
                     "  too large to print; save the Jacobian with --out FILE.npy (or .npz, .json), or use --json"]
    _, out, _ = jac("eval", "sin(x) * y", "x:100000", "y:100000")
    assert "save it with --out FILE.npz --wrt x (a SciPy sparse matrix)" in out


# --- the API's dtype ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float16, np.longdouble, complex, "float16", "int32"])
def test_the_api_refuses_a_dtype_jac_does_not_compute_in(dtype):
    """dtype=np.int32 gave evaluate("sin(x)", x=[1.1, 2.0]) = [0, 0] and a Jacobian of zeros; float16 computed
    in half precision, a dtype jac's checks and tolerances know nothing of."""
    with pytest.raises(JacUsageError, match="dtype= must be float64 or float32"):
        jacobi_cli.evaluate("sin(x)", {"x": np.array([1.1, 2.0])}, dtype=dtype)
    with pytest.raises(JacUsageError, match="dtype= must be float64 or float32"):
        jacobi_cli.jacobian("sin(x)", {"x": np.array([1.1, 2.0])}, dtype=dtype)


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), ("float32", np.float32), (float, np.float64),
                                             (np.dtype("float64"), np.float64), (None, np.float64)])
def test_the_api_takes_every_spelling_of_float32_and_float64(dtype, expected):
    x = np.array([1.1, 2.0])
    got = jacobi_cli.jacobian("sin(x)", {"x": x}, dtype=dtype)["x"]
    assert got.dtype == expected
    np.testing.assert_allclose(got, np.diag(np.cos(x)), rtol=1e-6 if expected is np.float32 else 1e-15)
