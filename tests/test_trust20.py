"""The twentieth session's trust sweep (benchmarks/trust20_sweep.py): signatures read as NumPy reads them,
and everyday names that were refused.

``np.cov(x, y)`` read its second argument as ``rowvar`` (jac's signature lacked NumPy's ``y``): with a
constant ``y`` it silently gave ``x``'s variance where NumPy gives the 2 x 2 covariance of x and y. Likewise
``np.average(x, axis, weights, True)`` read ``returned`` as ``keepdims``. Now the signatures are NumPy's, and
``y``, ``fweights``, ``aweights`` (np.cov and torch.cov) and ``returned`` are read. Newly read:
``np.ix_``, ``np.diag_indices``, ``np.diag_indices_from``, ``np.imag`` of a real array, and
``F.interpolate``'s modes ``bicubic`` and ``area``.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import central

rng = np.random.default_rng(20)


def numpy_value(code: str, inputs: dict):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return eval(code, {"np": np, **inputs})  # noqa: S307 - the test's own texts


COV_SHAPES = [(4,), (2, 4), (1, 4), (3, 1), ()]


@pytest.mark.parametrize("shape", COV_SHAPES, ids=str)
@pytest.mark.parametrize("options", ["", ", rowvar=False", ", bias=True", ", ddof=2", ", rowvar=False, ddof=0"])
def test_cov_of_x_is_numpys(shape, options):
    x = rng.standard_normal(shape)
    code = f"np.cov(x{options})"
    np.testing.assert_allclose(api.evaluate(code, {"x": x}), numpy_value(code, {"x": x}), rtol=1e-12,
                               atol=1e-14, equal_nan=True)


@pytest.mark.parametrize("xs, ys", [((4,), (4,)), ((2, 4), (4,)), ((4,), (1, 4)), ((2, 4), (3, 4)),
                                    ((4, 2), (4, 1)), ((1, 4), (4,))], ids=str)
@pytest.mark.parametrize("rowvar", [True, False])
def test_cov_and_corrcoef_of_x_and_y_are_numpys(xs, ys, rowvar):
    x, y = rng.standard_normal(xs), rng.standard_normal(ys)
    for code in (f"np.cov(x, y, {rowvar})", f"np.cov(x, y, rowvar={rowvar}, ddof=0)",
                 f"np.corrcoef(x, y, {rowvar})"):
        try:
            theirs = numpy_value(code, {"x": x, "y": y})
        except ValueError:  # NumPy's shapes do not join: jac refuses too
            with pytest.raises(JacError):
                api.evaluate(code, {"x": x, "y": y})
            continue
        np.testing.assert_allclose(api.evaluate(code, {"x": x, "y": y}), theirs, rtol=1e-12, atol=1e-14,
                                   equal_nan=True, err_msg=code)


def test_cov_of_a_constant_y_is_the_joint_covariance():
    """The silent answer: with y written as a list, jac read it as rowvar and gave var(x), 2.9167."""
    x = np.array([1.0, 2.0, 3.0, 5.0])
    ours = api.evaluate("np.cov(x, [1.0, 2.0, 4.0, 3.0])", {"x": x})
    np.testing.assert_allclose(ours, np.cov(x, [1.0, 2.0, 4.0, 3.0]), rtol=1e-14)
    assert np.shape(ours) == (2, 2)


@pytest.mark.parametrize("ddof", [None, 0, 1, 2])
@pytest.mark.parametrize("which", ["f", "a", "fa"])
@pytest.mark.parametrize("written", [False, True], ids=["inputs", "constants"])
def test_cov_weights_are_numpys(ddof, which, written):
    x = rng.standard_normal((3, 5))
    fw, aw = np.array([1, 2, 0, 3, 1]), rng.uniform(0.2, 2.0, 5)
    inputs, args = {"x": x}, ""
    if "f" in which:
        args += f", fweights={fw.tolist()}" if written else ", fweights=f"
        inputs.update({} if written else {"f": fw})
    if "a" in which:
        args += f", aweights=np.array({aw.tolist()})" if written else ", aweights=w"
        inputs.update({} if written else {"w": aw})
    code = f"np.cov(x, ddof={ddof}{args})"
    theirs = np.cov(x, ddof=ddof, fweights=fw if "f" in which else None, aweights=aw if "a" in which else None)
    np.testing.assert_allclose(api.evaluate(code, inputs), theirs, rtol=1e-12, atol=1e-14)


def test_cov_derivatives_by_x_y_and_aweights_are_central_differences():
    inputs = {"x": rng.standard_normal(5), "y": rng.standard_normal(5), "w": rng.uniform(0.5, 2.0, 5)}
    code = "np.cov(x, y, aweights=w, ddof=1)"
    ours = api.jacobian(code, inputs, wrt=["x", "y", "w"])
    for name in ("x", "y", "w"):
        np.testing.assert_allclose(ours[name], central(code, inputs, name), rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("code, words", [
    ("np.cov(x, fweights=[1, -1, 2])", "fweights cannot be negative"),
    ("np.cov(x, fweights=[1, 1.5, 2])", "whole numbers"),
    ("np.cov(x, aweights=[1.0, 2.0])", "one weight per observation (3)"),
    ("np.cov(x, [1.0, 2.0])", "x has 3 observations per variable and y 2"),
    ("np.cov(x, aweights=[1.0, -2.0, 1.0])", "aweights cannot be negative"),
    ("np.cov(np.ones((2, 2, 2)))", "a vector or a matrix"),
])
def test_cov_refusals_say_what(code, words):
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)")):
        api.evaluate(code, {"x": np.array([1.0, 2.0, 4.0])})


def test_cov_weights_bound_as_inputs_that_fail_make_nan():
    """NumPy raises for a negative weight; a weight bound as an input is known only when the expression runs,
    where jac's value and derivatives are NaN."""
    inputs = {"x": np.array([1.0, 2.0, 4.0]), "f": np.array([1.0, -1.0, 2.0])}
    assert np.isnan(api.evaluate("np.cov(x, fweights=f)", inputs))
    assert np.isnan(api.jacobian("np.cov(x, fweights=f)", inputs, wrt=["x"])["x"]).all()
    assert np.isnan(api.evaluate("np.cov(x, fweights=f)", {**inputs, "f": np.array([1.0, 0.5, 2.0])}))
    assert np.isfinite(api.evaluate("np.cov(x, fweights=f)", {**inputs, "f": np.array([1.0, 1.0, 2.0])}))


@pytest.mark.parametrize("code", [
    "np.average(x, 1, w, True)", "np.average(x, None, W, True)", "np.average(x, 0, None, True)",
    "np.average(x, returned=True)", "np.average(x, axis=1, weights=w, returned=True, keepdims=True)",
    "np.average(x, (0, 1), returned=True, keepdims=True)", "np.average(x, 1, w, False)",
])
def test_average_returned_is_numpys(code):
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.uniform(0.5, 2, 4), "W": rng.uniform(0.5, 2, (3, 4))}
    theirs = numpy_value(code, inputs)
    if isinstance(theirs, tuple):
        for i, part in enumerate(theirs):
            ours = api.evaluate(f"{code}[{i}]", inputs)
            assert np.shape(ours) == np.shape(part)
            np.testing.assert_allclose(ours, part, rtol=1e-13, err_msg=f"{code}[{i}]")
        with pytest.raises(JacError, match="tuple of 2 arrays"):
            api.evaluate(code, inputs)
    else:
        np.testing.assert_allclose(api.evaluate(code, inputs), theirs, rtol=1e-13)


A = np.arange(12.0).reshape(3, 4) ** 1.5
B = np.arange(27.0).reshape(3, 3, 3) - 13.0


@pytest.mark.parametrize("code", [
    "A[np.ix_([0, 2], [1, 3])]", "A[np.ix_([True, False, True], [3, 0])]", "A[np.ix_([2], [1, 1, 0])] * 2",
    "A[np.ix_(np.array([0, 2]), np.arange(2))]", "np.ix_([0, 1], [2, 3])[1] * 1.0",
    "A[np.diag_indices(3)]", "B[np.diag_indices(3, 3)]", "B[np.diag_indices_from(B)]",
    "A[:3, :3][np.diag_indices(3)] ** 2", "np.imag(A) + A", "np.real(A) + np.imag(A) * A",
])
def test_index_helpers_are_numpys(code):
    inputs = {"A": A, "B": B}
    ours, theirs = api.evaluate(code, inputs), numpy_value(code, inputs)
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_array_equal(ours, theirs)
    for name in ("A", "B"):
        if name in code:
            np.testing.assert_allclose(api.jacobian(code, inputs, wrt=[name])[name], central(code, inputs, name),
                                       rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("code, words", [
    ("A[np.ix_([0.5], [1])]", "index list must hold integers"),
    ("A[np.ix_([[0]], [1])]", "every sequence must be 1-d"),
    ("A[np.ix_(A[0] > 0, [1])]", "no fixed length"),
    ("A[np.ix_(A[0], [1])]", "integers or booleans, not floats"),
    ("np.diag_indices(-1)[0]", "non-negative"),
    ("np.diag_indices(10**9)[0]", "over the limit"),
    ("A[np.diag_indices_from(A)]", "every axis of one length"),
])
def test_index_helper_refusals_say_what(code, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(code, {"A": A})


@pytest.mark.parametrize("shape, size", [((1, 2, 5, 5), "size=(3, 4)"), ((2, 1, 3, 7), "size=(9, 11)"),
                                         ((1, 1, 4, 4), "scale_factor=2"), ((1, 2, 5, 5), "scale_factor=(0.5, 1.7)"),
                                         ((1, 1, 1, 3), "size=(1, 1)")], ids=str)
@pytest.mark.parametrize("mode", ["'bicubic'", "'bicubic', align_corners=True", "'area'"])
def test_interpolate_bicubic_and_area_against_central_differences(shape, size, mode):
    code = f"F.interpolate(x, {size}, mode={mode})"
    inputs = {"x": rng.standard_normal(shape)}
    np.testing.assert_allclose(api.jacobian(code, inputs, wrt=["x"])["x"], central(code, inputs, "x"),
                               rtol=1e-6, atol=1e-7)


def test_interpolate_refusals():
    x = np.ones((1, 1, 3, 3))
    with pytest.raises(JacError, match="align_corners can only be set"):
        api.evaluate("F.interpolate(x, size=2, mode='area', align_corners=False)", {"x": x})
    with pytest.raises(JacError, match="needs a 4-d input"):
        api.evaluate("F.interpolate(x[0], size=2, mode='bicubic')", {"x": x})
    with pytest.raises(JacError, match="not supported by jac"):
        api.evaluate("F.interpolate(x, size=2, mode='lanczos')", {"x": x})


def test_weights_cov_joins_use_every_option_combination_once():
    """Every (rowvar, bias, ddof) with y given: the options are read by NumPy's positions."""
    x, y = rng.standard_normal((2, 5)), rng.standard_normal(5)
    for rowvar, bias, ddof in itertools.product([True, False], [False, True], [None, 0, 3]):
        code = f"np.cov(x, y, {rowvar}, {bias}, {ddof})"
        xx = x if rowvar else x.T
        np.testing.assert_allclose(api.evaluate(code, {"x": xx, "y": y}),
                                   np.cov(xx, y, rowvar, bias, ddof), rtol=1e-12, err_msg=code)


@pytest.mark.parametrize("code", ["torch.tensor([0, 10**30]) * w", "np.array([-10**30, 1]) * w",
                                  "x[torch.tensor([0, 10**30])]", "np.array([1, 2**63]) + np.array([1, 2])"])
def test_integer_lists_past_int64_are_refused_not_a_crash(code):
    """An internal error (OverflowError) before: a list of Python ints past int64 cast for a typed fold."""
    with pytest.raises(JacError, match="out of range for int64"):
        api.evaluate(code, {"w": np.array(1.0), "x": np.array([1.0, 2.0])})


W = rng.standard_normal((5, 3))
BAGS = [("torch.tensor([0, 2, 1, 3, 2, 0])", "torch.tensor([0, 2, 2, 5])"), ("torch.tensor([[0, 2, 1], [3, 3, 4]])", None),
        ("torch.tensor([4, 4, 4])", "torch.tensor([0])"), ("torch.tensor([1, 0, 1, 2])", "torch.tensor([0, 1, 1, 4])")]


@pytest.mark.parametrize("bag", BAGS, ids=str)
@pytest.mark.parametrize("options", ["mode='sum'", "mode='mean'", "mode='max'", "mode='mean', padding_idx=2",
                                     "mode='max', padding_idx=-1", "mode='sum', per_sample_weights=p"])
def test_embedding_bag_against_central_differences(bag, options):
    idx, offsets = bag
    code = f"F.embedding_bag({idx}, w{', ' + offsets if offsets else ''}, {options})"
    shape = (6,) if offsets and "0, 2, 1, 3" in idx else (2, 3) if offsets is None else (3,) if "4, 4" in idx else (4,)
    inputs = {"w": W, "p": rng.standard_normal(shape)}
    ours = api.jacobian(code, inputs, wrt=["w", "p"] if "per_sample" in options else ["w"])
    for name in ours:
        np.testing.assert_allclose(ours[name], central(code, inputs, name), rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("code, words", [
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([1]))", "offsets\\[0\\] must be 0"),
    ("F.embedding_bag(torch.tensor([0, 1, 2]), w, torch.tensor([0, 2, 1]))", "non-decreasing"),
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0, 9]))", "non-decreasing positions in the input"),
    ("F.embedding_bag(torch.tensor([0, 1]), w)", "needs offsets"),
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0]), per_sample_weights=torch.ones(2))",
     "only supported for mode='sum'"),
    ("F.embedding_bag(torch.tensor([[0, 1]]), w, torch.tensor([0]))", "offsets must be None for a 2-d input"),
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0]), max_norm=1.0)", "max_norm"),
    ("F.embedding_bag(torch.tensor([0, 7]), w, torch.tensor([0]))", "out of range"),
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0]), mode='median')", "'sum', 'mean' or 'max'"),
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0, 1]), include_last_offset=True)",
     "the last offset is the input's length"),
    ("F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0]), mode='sum', per_sample_weights=torch.ones(3))",
     "per_sample_weights must have the input's shape"),
])
def test_embedding_bag_refusals_say_what(code, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(code, {"w": W})


CROSS_SHAPES = [((3,), (3,)), ((4, 3), (4, 3)), ((3, 4), (3, 4)), ((3, 3), (3, 3)), ((3, 4), (4, 3)),
                ((3,), (5, 3)), ((3, 2, 3), (3, 2, 3))]


@pytest.mark.parametrize("shapes", CROSS_SHAPES, ids=str)
@pytest.mark.parametrize("options", ["", ", 0", ", -1, 0", ", 0, 0, 0", ", axisc=0", ", axis=0", ", axisa=0, axisb=1",
                                     ", 0, -1, 1", ", axisb=0"])
def test_np_cross_reads_axisa_axisb_axisc(shapes, options):
    """np.cross's third argument is axisa, and axisc= moved only the result: jac read both as the one axis of
    every operand, silently wrong for square arrays (np.cross(a, b, axisc=0) of 3 x 3 arrays)."""
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    code = f"np.cross(a, b{options})"
    try:
        theirs = numpy_value(code, {"a": a, "b": b})
    except ValueError:
        with pytest.raises(JacError):
            api.evaluate(code, {"a": a, "b": b})
        return
    ours = api.evaluate(code, {"a": a, "b": b})
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)


def test_np_cross_of_two_element_vectors_is_refused_saying_why():
    with pytest.raises(JacError, match="2 elements along axisa=0; jac needs vectors of 3"):
        api.evaluate("np.cross(a, b, 0)", {"a": np.ones((2, 3, 3)), "b": np.ones((3, 3))})


X_SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf])


@pytest.mark.parametrize("code", ["np.nan_to_num(x, True, 5.0)", "np.nan_to_num(x, 0.5)",
                                  "np.nan_to_num(x, nan=2.0, neginf=-1.0)", "np.nan_to_num(x, False, 1.0, 2.0, 3.0)"])
def test_np_nan_to_num_second_argument_is_copy(code):
    """np.nan_to_num(x, 0.5) is copy=0.5 in NumPy (NaN becomes 0); jac read 0.5 as the NaN fill."""
    np.testing.assert_array_equal(api.evaluate(code, {"x": X_SPECIAL}), numpy_value(code, {"x": X_SPECIAL.copy()}))


def test_torch_nan_to_num_second_argument_is_nan():
    np.testing.assert_array_equal(api.evaluate("torch.nan_to_num(x, 0.5)", {"x": X_SPECIAL})[:2], [1.0, 0.5])


X3D = rng.standard_normal((2, 3, 4))
Y4D = rng.standard_normal((3, 4, 5, 2))
APART = ["x[0, :, [1, 2]]", "x[[0, 1], :, [1, 2]]", "x[0, None, [1, 2]]", "x[[0, 1], None, [2, 0]]", "x[0, ..., [1, 2]]",
         "x[[[0], [1]], :, [1, 2]]", "y[0, :, [1, 2], :]", "y[:, 0, :, [1, 0]]", "y[[0, 2], :, :, [1, 0]]",
         "x[[1, 0], :, [[0], [3]]]", "y[0, :, 1, [1, 0]]", "y[[0, 1], 1, :, [1, 0]]", "x[0, :, [[1, 2], [0, 0]]]"]


def _numpy_jacobian(code: str, inputs: dict, name: str) -> np.ndarray:
    """For a selection: the change of each output when one input element moves by 1 (to rounding)."""
    base = numpy_value(code, inputs)
    out = np.zeros(np.shape(base) + inputs[name].shape)
    for i in np.ndindex(inputs[name].shape):
        e = np.zeros_like(inputs[name])
        e[i] = 1.0
        out[(...,) + i] = numpy_value(code, {**inputs, name: inputs[name] + e}) - base
    return out


@pytest.mark.parametrize("code", APART)
def test_index_arrays_apart_in_numpy_text(code):
    """Advanced indices apart (NumPy puts their dims first): the derivative rules batched the index with a
    leading axis, which NumPy then moved behind them, an internal error (exit 70) in every derivative."""
    text = code.replace("x[", "(x + 0 * np.sin(x))[", 1).replace("y[", "(y + 0 * np.sin(y))[", 1)
    inputs, name = {"x": X3D, "y": Y4D}, code[0]
    theirs = numpy_value(code, inputs)
    np.testing.assert_array_equal(api.evaluate(text, inputs), theirs)
    J = _numpy_jacobian(code, inputs, name)
    np.testing.assert_allclose(api.jacobian(text, inputs, wrt=[name])[name], J, rtol=0, atol=1e-15)
    t, v = rng.standard_normal(inputs[name].shape), rng.standard_normal(np.shape(theirs))
    flat = J.reshape(max(np.size(theirs), 1), -1)
    np.testing.assert_allclose(api.jvp(text, inputs, {name: t}), (flat @ t.ravel()).reshape(np.shape(theirs)))
    np.testing.assert_allclose(api.vjp(text, inputs, v=v, wrt=[name])[name],
                               (v.ravel() @ flat).reshape(inputs[name].shape))


@pytest.mark.parametrize("code", ["x[0, :, [1, 2]]", "x[0, None, [1, 2]]", "x[0, ..., [1, 2]]", "y[0, :, [1, 2], :]",
                                  "y[0, :, 1, [1, 0]]"])
def test_index_integer_beside_arrays_without_a_library_is_refused(code):
    with pytest.raises(JacError, match="reads two ways.*NumPy's shape"):
        api.evaluate(code, {"x": X3D, "y": Y4D})


@pytest.mark.parametrize("code", ["x[[1], :, 3]", "x[:, 0, [1, 2]]", "x[0, [1, 2]]", "x[1, [0, 2], 3]",
                                  "y[[0, 1], 1, :, [1, 0]]"])
def test_index_integer_beside_arrays_where_the_libraries_agree_is_read(code):
    inputs = {"x": X3D, "y": Y4D}
    np.testing.assert_array_equal(api.evaluate(code, inputs), numpy_value(code, inputs))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 2)), ((2, 3, 4), (3, 4, 2)), ((2, 3, 4), (4,)), ((4,), (3, 4, 2)),
                                    ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2))], ids=str)
def test_np_dot_of_more_than_two_dimensions(shapes):
    """NumPy's N-d dot sums x's last axis against y's second to last (not matmul's batches): refused before."""
    inputs = {"a": rng.standard_normal(shapes[0]), "b": rng.standard_normal(shapes[1])}
    ours = api.evaluate("np.dot(a, b)", inputs)
    np.testing.assert_allclose(ours, np.dot(inputs["a"], inputs["b"]), rtol=1e-13)
    J = api.jacobian("np.dot(a, b)", inputs, wrt=["a", "b"])
    for name in ("a", "b"):
        np.testing.assert_allclose(J[name], central("np.dot(a, b)", inputs, name), rtol=1e-6, atol=1e-8)


def test_np_dot_unaligned_is_refused():
    with pytest.raises(JacError, match="not aligned"):
        api.evaluate("np.dot(a, b)", {"a": np.ones((2, 3, 4)), "b": np.ones((5, 2))})


@pytest.mark.parametrize("code, expected", [
    ("torch.addmm(input=C, mat1=A, mat2=B)", [[4.0, 4.0], [4.0, 4.0]]),
    ("torch.addr(input=A, vec1=a, vec2=b)", [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]),
    ("np.polyval(p=[1.0, 2.0], x=a)", [2.0, 3.0]),
    ("np.ravel_multi_index(([1, 0], [2, 1]), dims=(3, 4)) * 1.0", [6.0, 1.0]),
    ("np.isclose(a=a, b=a) * a", [0.0, 1.0]),
    ("np.polyder(p=b)", [0.0, 1.0]),
    ("np.unwrap(p=a)", [0.0, 1.0]),
])
def test_keyword_a_function_has_is_its_own(code, expected):
    """jac renames torch's dim= to axis=, input= to x=, p= to ord=, dims= to axes=, a= to x=; a function whose
    own parameter has that name (np.polyval's p, addmm's input, ravel_multi_index's dims) refused it."""
    inputs = {"A": np.ones((2, 3)), "B": np.ones((3, 2)), "C": np.ones((2, 2)), "a": np.arange(2.0), "b": np.arange(3.0)}
    np.testing.assert_allclose(api.evaluate(code, inputs), expected)


LOOPS = [
    ("y = x * 1\nfor i in range(3):\n    y = y * x + i\ny", lambda x: ((x * x + 0) * x + 1) * x + 2),
    ("s = 0\nfor i in range(len(x)):\n    s = s + x[i] ** 2\ns", lambda x: np.sum(x ** 2)),
    ("h = x\nfor w in [0.5, 2.0]:\n    h = np.tanh(w * h)\nh", lambda x: np.tanh(2.0 * np.tanh(0.5 * x))),
    ("out = []\nfor i, v in enumerate(x):\n    out.append(v * i)\nnp.stack(out)", lambda x: x * np.arange(4)),
    ("acc = np.zeros(())\nfor a, b in zip(x, x[::-1]):\n    acc += a * b\nacc", lambda x: np.dot(x, x[::-1])),
    ("y = x\nfor i in range(3):\n    for j in range(2):\n        y = y + i * j * x\ny", lambda x: x * 4),
    ("def f(x):\n    for i in range(2):\n        x = x * x\n    return x\nf(x)", lambda x: x ** 4),
    ("ys = []\nfor k in range(3):\n    ys.append(x ** k)\nsum(ys)", lambda x: 1 + x + x ** 2),
    ("y = x.copy()\nfor i in range(1, 4):\n    y[i] = y[i - 1] * x[i]\ny", lambda x: np.cumprod(x)),
    ("y = x\nif x.ndim == 1:\n    y = y * 2\nelse:\n    y = y.T\ny", lambda x: 2 * x),
    ("for i in range(3):\n    pass\ni * x", lambda x: 2 * x),
]


@pytest.mark.parametrize("code, fn", LOOPS, ids=[c.split("\n")[1][:30] for c, _ in LOOPS])
def test_for_loops_and_if_statements_are_written_out(code, fn):
    """Refused before ("not 'for' loops"): pasted code fills and updates in loops over range(n), a list,
    zip or enumerate; each is written out, as a comprehension is."""
    inputs = {"x": np.array([0.5, -1.0, 2.0, 0.25])}
    np.testing.assert_allclose(api.evaluate(code, inputs), fn(inputs["x"]), rtol=1e-14)
    np.testing.assert_allclose(api.jacobian(code, inputs, wrt=["x"])["x"], central(code, inputs, "x"),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("code, words", [
    ("def f(v):\n    continue\nx", "'continue' outside loop (Python's SyntaxError)"),  # (break, else: read since 31)
    ("for i in range(10**6):\n    x = x + 1\nx", "a for loop over more than 10,000 elements"),
    ("[v for v in range(10**6)]", "a comprehension over more than 10,000 elements"),
    ("for v in 3:\n    x = x + v\nx", "a for loop iterates over a list"),
    ("y = x\nfor a in range(100):\n    for b in range(200):\n        y = y + 1\ny", "more than 10,000 statements"),
    ("for i in range(3):\n    x = x + i", "not a 'for' loop; end the text with the result"),
    ("y = x.copy()\ny.append(1)\ny", "jac appends to a list of arrays"),
    ("while True:\n    x = x\nx", "this 'while' loop's test is still true there"),
    ("while x.sum() < 10:\n    x = x * 1.0\nx", "this 'while' loop's test is still true there"),  # at the values
    ("if x > 0:\n    x = -x\nx", "the truth value of an array of 2 elements is ambiguous"),
])
def test_loop_refusals_say_why(code, words):
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)")):
        api.evaluate(code, {"x": np.array([0.5, -1.0])})


@pytest.mark.parametrize("code", [
    "y = x.copy()\nnp.add.at(y, [0, 0, 2], v)\ny", "y = x.copy()\nnp.subtract.at(y, [0, 0, 2], v)\ny",
    "y = x.copy()\nnp.add.at(y, [1, 1], 5.0)\ny", "B = A * 1\nnp.add.at(B, ([0, 0, 2], [1, 1, 3]), v)\nB",
    "B = A * 1\nnp.add.at(B, [0, 0], x)\nB",
])
def test_np_add_at_accumulates_repeated_indices(code):
    """NumPy's scatter-add, refused before ("this statement's value is never used")."""
    inputs = {"x": np.array([0.5, -1.0, 2.0, 0.25]), "v": np.array([1.0, 2.0, 3.0]),
              "A": np.arange(12.0).reshape(3, 4)}
    scope = {"np": np, **{k: v.copy() for k, v in inputs.items()}}
    body, last = code.rsplit("\n", 1)
    exec(body, scope)  # noqa: S102 - the test's own texts
    np.testing.assert_array_equal(api.evaluate(code, inputs), eval(last, scope))  # noqa: S307
    J = api.jacobian(code, inputs, wrt=["x", "v", "A"])
    for name in ("x", "v", "A"):
        np.testing.assert_allclose(J[name], central(code, inputs, name), rtol=1e-6, atol=1e-8, err_msg=name)


def test_np_add_at_into_an_input_is_refused():
    with pytest.raises(JacError, match="'x' is an input"):
        api.evaluate("np.add.at(x, [0], 1.0)\nx", {"x": np.array([0.5, 1.0])})


def test_diag_indices_past_float32s_integers_are_refused_not_rounded():
    """float32 holds integers exactly only to 2**24: np.diag_indices(2**24 + 3) held its indices rounded, where
    np.arange refuses; both refuse now."""
    with pytest.raises(JacError, match="cannot hold exactly"):
        api.evaluate(f"np.diag_indices({2**24 + 3})[0] * 1.0", {}, dtype="float32")
    np.testing.assert_array_equal(api.evaluate("np.diag_indices(3)[0] * 1.0", {}, dtype="float32"), [0, 1, 2])


def test_np_dot_of_many_dimensions_keeps_its_einsum_letters_apart():
    """The N-d dot's einsum spelled the result's axes with a..z and summed over 'z': with 25 result axes or more
    the letters met, a silent trace (np.dot of a 20-d and an 8-d array gave [1, 8] for NumPy's [7, 10])."""
    a = np.arange(1.0, 3.0).reshape((1,) * 19 + (2,))
    b = np.arange(1.0, 5.0).reshape((1,) * 6 + (2, 2))
    np.testing.assert_array_equal(api.evaluate("np.dot(a, b)", {"a": a, "b": b}), np.dot(a, b))
    with pytest.raises(JacError, match="dot's result has 33 dimensions"):
        api.evaluate("np.dot(a, b)", {"a": np.ones((1,) * 25 + (2,)), "b": np.ones((1,) * 7 + (2, 3))})
