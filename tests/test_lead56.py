"""The lead's smaller fixes of session 56.

A value near the largest float (``torch.nan_to_num(x / 0.)`` gives 1.797693e+308; ``x.float() * 1e30`` 3.4e38 in
float32) printed NumPy's own RuntimeWarning ("overflow encountered in multiply", raw lines naming
numpy/_core/fromnumeric.py) beside jac's output: the renderer's check whether fixed-point printing hides a small
element rounded every magnitude to 6 decimals, which scales it by 1e6, and scaled the largest by 1e3 in the array's
own dtype. Only magnitudes below 1 can round to 0, and only those are rounded now; the largest is scaled as a Python
float."""

import warnings

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.cli.render import format_array


@pytest.mark.parametrize("argv", [["eval", "torch.nan_to_num(x / 0.)", "x=[0.2, 0.5]"],
                                  ["eval", "x * 1e300", "x=[1e8, 2]"],
                                  ["vjp", "x * 1e300", "x=[1e8, 2]", "--v", "ones"],
                                  ["eval", "x.float() * 1e30", "x=[1e8, 2]"],
                                  ["eval", "x.float() * 1e29", "x=[1e-8, 2]"]])
def test_a_value_near_the_largest_float_prints_no_numpy_warning(capsys, argv):
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        assert entry.main(argv) == 0
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert "e+" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("values", [[1.797e308, 2.0], [3.4e38, 1e-9], [3.4e38, 2.0], [1e30, 1e-30], [0.0, 5e-7]])
def test_the_check_rounds_and_scales_without_overflow(values, dtype):
    a = np.array(values, dtype=dtype)
    if np.all(np.isfinite(a)):
        with np.errstate(all="raise"):
            format_array(a)


@pytest.mark.parametrize("values,text", [([3.0, 3e-8], "[3.e+00 3.e-08]"), ([1e-9, -1e-12], "[ 1.e-09 -1.e-12]"),
                                         ([1.0, 1e-16], "[1. 0.]"), ([2.5, 0.5], "[2.5 0.5]"),
                                         ([1.0, 4e-7], "[1.e+00 4.e-07]"), ([1.0, 6e-7], "[1.       0.000001]")])
def test_which_arrays_print_in_scientific_notation_is_unchanged(values, text):
    assert format_array(np.array(values)) == text


# An input laid out otherwise than in C order (``A.T``, a column ``A[:, 0]``, a batch axis moved first) gave answers a
# rounding apart from the same values in C order: NumPy's einsum adds a strided vector in another order. The API's
# jacobian of ``torch.einsum('i,i->', x * x, x) * x`` at a batch along axis 1 differed in bits from ``jac eval --batch
# x:1 --json`` (orders39_fuzz, seed 5615). Inputs, v's and tangents are now laid out in C order where they enter.

EINSUM = "torch.einsum('i,i->', x * x, x) * x"


def _layouts():
    a = np.random.default_rng(1).uniform(-1, 1, (4, 4))
    return a, a[:, 0], np.ascontiguousarray(a[:, 0])


def test_a_strided_input_gives_the_bits_of_its_copy_in_c_order():
    import jacobi_cli
    a, column, copy = _layouts()
    assert not column.flags.c_contiguous
    for expr in (EINSUM, "np.einsum('i,i->', x, x) * x", "x * sum(x)"):
        strided, ordered = jacobi_cli.jacobian(expr, {"x": column}), jacobi_cli.jacobian(expr, {"x": copy})
        assert strided["x"].tobytes() == ordered["x"].tobytes(), expr
        for v in (column, copy):
            assert jacobi_cli.vjp(expr, {"x": column}, v=v)["x"].tobytes() == \
                jacobi_cli.vjp(expr, {"x": copy}, v=copy)["x"].tobytes(), expr
    f = jacobi_cli.compile(EINSUM, {"x": "ones(4)"})
    assert f.jacobian({"x": column})["x"].tobytes() == f.jacobian({"x": copy})["x"].tobytes()
    assert np.array_equal(f.jacobian({"x": column})["x"], jacobi_cli.jacobian(EINSUM, {"x": copy})["x"])


def test_a_batch_along_a_later_axis_gives_the_command_line_s_bits(capsys):
    import json
    import jacobi_cli
    values = np.moveaxis(np.random.default_rng(1).uniform(-1, 1, (3, 3)), 0, 1)
    api = jacobi_cli.jacobian(EINSUM, {"x": values}, batch=["x:1"])["x"]
    again = jacobi_cli.jacobian(EINSUM, {"x": np.ascontiguousarray(values)}, batch=["x:1"])["x"]
    assert entry.main(["eval", EINSUM, f"x={values.tolist()!r}", "--batch", "x:1", "--json"]) == 0
    cli = np.array(json.loads(capsys.readouterr().out)["jacobian"]["x"]["value"])
    assert api.tobytes() == again.tobytes() == cli.tobytes()
