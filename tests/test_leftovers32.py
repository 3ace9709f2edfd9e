"""Leftovers found by session 32's probes: each is what Python, NumPy or PyTorch computes, or refused with a
message saying so (a Python tuple times a NumPy float scalar, reversed(s) * 2, int('7'), (3).bit_length(),
True & False, a long double .npy file, an em dash typed for --)."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api

A = np.arange(1.0, 7.0).reshape(2, 3)
DASHES = "\u2014\u2013\u2212"


def _jac(*argv) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_numpy_takes_a_torch_size_as_a_shape():
    """np.ones(x.size()): torch.Size is a tuple, which NumPy takes as the shape."""
    np.testing.assert_array_equal(api.evaluate("np.ones(A.size())", {"A": A}), np.ones((2, 3)))
    np.testing.assert_array_equal(api.evaluate("np.zeros(A.size()) + A", {"A": A}), A)
    J = api.jacobian("np.ones(A.size()) * A", {"A": A})["A"]
    np.testing.assert_array_equal(J, np.eye(6).reshape(2, 3, 2, 3))


# (jac's text, the same in Python with s = A.shape): every NumPy reading of a tuple beside a number or array
SEQUENCES = [
    ("A.shape * np.float64(2)", "s * np.float64(2)"), ("np.float64(2) * A.shape", "np.float64(2) * s"),
    ("A.shape * np.float32(3)", "s * np.float32(3)"), ("[1.0, 2.0] * np.float64(2)", "[1.0, 2.0] * np.float64(2)"),
    ("A.shape * (np.float64(2) * 1)", "s * (np.float64(2) * 1)"), ("A.shape * -np.float64(2)", "s * -np.float64(2)"),
    ("c = np.float64(2); A.shape * c", "s * np.float64(2)"), ("A.shape * np.bool_(True)", "s * np.bool_(True)"),
    ("A.shape * np.int64(2)", "s * np.int64(2)"), ("A.shape * np.array(2.0)", "s * np.array(2.0)"),
    ("A.shape * np.array(2)", "s * np.array(2)"), ("A.shape + np.float64(1)", "s + np.float64(1)"),
    ("A.shape - np.float64(1)", "s - np.float64(1)"), ("A.shape * 2", "s * 2"), ("A.shape * float(2)", "s * float(2)"),
    ("reversed(A.shape) * 2", "reversed(s) * 2"), ("reversed(A.shape) + (1,)", "reversed(s) + (1,)"),
    ("tuple(reversed(A.shape)) * 2", "tuple(reversed(s)) * 2"), ("list(reversed(A.shape)) * 2", "list(reversed(s)) * 2"),
    ("A.shape * A.shape[0]", "s * s[0]"), ("A.shape * len(A)", "s * len(np.ones((2, 3)))"),
    ("n = 2; c = np.float64(n); A.shape * n", "s * 2"),
]


@pytest.mark.parametrize("text,python", SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_a_python_sequence_meets_numbers_as_python_and_numpy_compute(text, python):
    _as_python_computes(text, python, {"np": np, "s": (2, 3)})


def _as_python_computes(text: str, python: str, env: dict) -> None:
    """jac's value of ``text`` is what Python computes of ``python`` in ``env``, or jac refuses where Python's
    TypeError is raised."""
    try:
        want = eval(python, env)
    except TypeError:
        with pytest.raises(JacValueError, match="is an error in Python"):
            api.evaluate(text, {"A": A})
        return
    np.testing.assert_array_equal(api.evaluate(text, {"A": A}), np.asarray(want, dtype=float))


def test_a_tuple_times_a_number_computed_from_the_inputs_is_refused():
    """NumPy's A.sum() is a NumPy scalar and PyTorch's a tensor: both raise TypeError; jac multiplied."""
    with pytest.raises(JacValueError, match="computed from the inputs is an error in Python"):
        api.evaluate("A.shape * A.sum()", {"A": A})
    np.testing.assert_array_equal(api.evaluate("A.shape + A.sum()", {"A": A}), np.array([2.0, 3.0]) + 21)


@pytest.mark.parametrize("text,python", [("A.shape * torch.tensor(2.)", "s * torch.tensor(2.)"),
                                         ("A.shape * torch.tensor(2)", "s * torch.tensor(2)"),
                                         ("A.shape * torch.tensor(True)", "s * torch.tensor(True)"),
                                         ("A.shape + torch.tensor(1.)", "s + torch.tensor(1.)"),
                                         ("A.shape * jnp.float32(2)", None), ("A.shape * jnp.array(2)", None)])
def test_torch_and_jax_scalars_beside_a_tuple(text, python):
    torch = pytest.importorskip("torch")
    if python is None:  # JAX's arrays have no sequence arithmetic at all: TypeError
        with pytest.raises(JacValueError, match="JAX array is an error in Python"):
            api.evaluate(text, {"A": A})
        return
    _as_python_computes(text, python, {"torch": torch, "s": (2, 3)})


NUMBERS = ["int('7')", "int(' 7 ')", "int('-12')", "int('ff', 16)", "float('1.5')", "(3).bit_length()",
           "(0).bit_length()", "(-5).bit_length()", "(7).bit_count()", "True & False", "True | False", "True ^ True",
           "True & 3", "5 & True", "True << 2", "~5", "bool('a')", "bool('')"]


@pytest.mark.parametrize("text", NUMBERS)
def test_python_numbers_are_pythons(text):
    want = eval(text)
    assert api.evaluate(f"({text}) * x", {"x": 1.0}) == float(want)
    assert api.evaluate(f"({text}) + 0 * x", {"x": 1.0}) == float(want)


def test_sizes_are_python_ints():
    for text in ("A.shape[1].bit_length()", "len(A).bit_length()", "A.ndim.bit_length()", "A.size(1).bit_length()",
                 "len(A.shape).bit_length()"):
        got = api.evaluate(text, {"A": A})
        assert got == float(eval(text.replace("A.size(1)", "A.shape[1]"), {"A": A})), text


@pytest.mark.parametrize("text,why", [("int('1.5')", "invalid literal for int"), ("x.bit_length()", "AttributeError"),
                                      ("(2.0).bit_length()", "AttributeError"), ("int('7', 2)", "invalid literal")])
def test_what_python_refuses_is_refused_with_pythons_reason(text, why):
    with pytest.raises(JacValueError, match=why):
        api.evaluate(text, {"x": 2.0})


def test_an_unknown_dtype_is_exit_2_naming_the_accepted_ones():
    code, out, err = _jac("eval", "x * 2", "x=1", "--dtype", "float16")
    assert code == 2 and err.splitlines() == ["jac: error (usage): --dtype must be float64 or float32, not 'float16'"]


def test_a_long_double_file_is_refused_unless_float64_holds_it_exactly(tmp_path):
    exact, inexact = tmp_path / "exact.npy", tmp_path / "third.npy"
    np.save(exact, np.array([1.0, 0.1, np.inf, np.nan], dtype=np.longdouble))  # 0.1: float64's 0.1, widened
    third = np.array([1, np.longdouble(1) / 3], dtype=np.longdouble)
    if third[1] == np.float64(third[1]):
        pytest.skip("this platform's long double is float64")
    np.save(inexact, third)
    got = api.evaluate("x * 2", [f"x=@{exact}"])
    np.testing.assert_array_equal(got, np.array([2.0, 0.2, np.inf, np.nan]))
    assert api.evaluate("x * 2", [f"x=@{exact}"], dtype="float32").dtype == np.float32  # then --dtype, as float64's
    with pytest.raises(JacValueError, match="float64 \\(jac's widest dtype=\\) cannot hold exactly"):
        api.evaluate("x * 2", [f"x=@{inexact}"])
    code, out, err = _jac("eval", "x * 2", f"x=@{inexact}", "--json")
    assert code == 2 and '"kind": "value"' in out and "element 1 (flat)" in err
    with pytest.raises(JacValueError, match="cannot hold exactly"):  # an array given to the API, and compiled
        api.evaluate("x * 2", {"x": third})
    f = api.compile("x * 2", {"x": np.ones(2)})
    with pytest.raises(JacValueError, match="cannot hold exactly"):
        f.value({"x": third})


@pytest.mark.parametrize("argv,hint", [
    (["run", "\u2014json", "suite.toml"], "did you mean --json?"),
    (["eval", "x * 2", "x=1", "\u2013dtype", "float32"], "did you mean --dtype?"),
    (["run", "suite.toml", "\u2013k", "a"], "did you mean -k?"),
    (["vjp", "x * 2", "x=1", "\u2014v=1"], "did you mean --v=1?"),
])
def test_a_dash_that_is_no_hyphen_is_named(argv, hint):
    code, out, err = _jac(*argv)
    assert code == 2
    odd = [a for a in argv if a[0] in DASHES][0]
    assert err.startswith(f"jac: error (usage): unknown argument '{odd}'")
    assert hint in err and len(err.splitlines()) == 1


def test_an_expression_may_begin_with_a_typeset_minus_sign():
    """The parser reads U+2212 and the en dash as - (docs/expressions.md): only an option's name is caught."""
    for text in ("\u2212x", "\u2013x"):
        code, out, err = _jac("eval", text, "x=2")
        assert code == 0 and "-2.0" in out


def test_the_option_names_are_every_commands():
    import typer

    from jacobi_cli.cli.app import app
    found = {o for c in typer.main.get_command(app).commands.values() for p in c.params
             for o in getattr(p, "opts", ()) if o.startswith("-")}
    assert entry.OPTION_NAMES == found | {"--help", "-h", "--version", "-V"}


def test_a_dash_lookalike_answers_in_json_with_a_real_json_only():
    code, out, err = _jac("eval", "x", "x=1", "\u2014wrt", "x", "--json")
    assert code == 2 and out.startswith('{"error": {"kind": "usage"') and "did you mean --wrt?" in out
    code, out, err = _jac("run", "\u2014json", "suite.toml")
    assert code == 2 and out == "" and "did you mean --json?" in err


def test_after_a_double_hyphen_a_dash_lookalike_is_an_argument():
    code, out, err = _jac("eval", "x * 2", "x=1", "--", "\u2212x")
    assert code == 2 and "did you mean" not in err and "unknown argument" not in err


def test_refusals_are_jac_errors_not_python_exceptions():
    for text in ("reversed(A.shape) * 2", "A.shape * np.float64(2)"):
        with pytest.raises(JacError):
            api.evaluate(text, {"A": A})
