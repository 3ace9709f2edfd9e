"""The names session 28 read (lang/pasted.py), without the libraries: what jac answers and refuses."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.tools import api

X = {"x": np.array([[1.5, -2.0], [0.0, 3.0]])}


def _value(text, bindings=X, **kw):
    return api.evaluate(text, bindings, **kw)


@pytest.mark.parametrize("text, want", [
    ("np.isscalar(x)", 0.0), ("np.isscalar('a')", 1.0), ("np.isscalar(True)", 1.0), ("np.isscalar([x, x])", 0.0),
    ("np.iterable(x)", 1.0), ("np.iterable(x.sum())", 0.0), ("np.iterable([x])", 1.0), ("np.iterable(2.0)", 0.0),
    ("torch.is_tensor(x)", 1.0), ("torch.is_tensor(x * 2)", 1.0), ("torch.is_tensor([x, x])", 0.0),
    ("torch.is_tensor('a')", 0.0), ("x.dtype == torch.float64", 1.0), ("x.dtype is torch.float64", 1.0),
    ("x.dtype != torch.float32", 1.0), ("x.dtype == torch.float", 0.0), ("x.dtype == float", 1.0),
    ("torch.arange(3).dtype == torch.long", 1.0), ("(x > 0).dtype == torch.bool", 1.0),
    ("torch.promote_types(torch.int, torch.long) == torch.int64", 1.0),
])
def test_questions_are_answered_when_the_graph_is_built(text, want):
    assert _value(text) == want


def test_a_question_decides_an_if_and_its_branch_is_differentiated():
    text = "y = x * 2\nif torch.is_floating_point(x) and x.dtype == torch.float64:\n    y = x ** 3\ny.sum()"
    grad = api.jacobian(text, X)["x"]
    np.testing.assert_allclose(np.asarray(grad.array if hasattr(grad, "array") else grad), 3 * X["x"] ** 2)
    assert _value("torch.zeros(2, dtype=torch.result_type(torch.arange(3), x)) + x[0]").tolist() == [1.5, -2.0]


@pytest.mark.parametrize("text, error, says", [
    ("torch.is_tensor(2.0)", JacValueError, "is_tensor of a constant"),
    ("np.isscalar(x.sum())", JacValueError, "np.isscalar of a 0-d value"),
    ("torch.is_floating_point([x])", JacValueError, "must be a Tensor, not list"),
    ("x.is_nonzero()", JacValueError, "more than one value is ambiguous"),
    ("torch.promote_types(x, torch.float32)", JacValueError, "takes dtypes here"),
    ("np.can_cast(x, np.float32)", JacValueError, "from_ must be a dtype"),
    ("np.can_cast(np.int8, np.int16, casting='any')", JacValueError, "casting must be one of"),
    ("jnp.result_type(x, 1.0)", JacNameError, "jax_enable_x64"),
    ("torch.result_type(torch.float32, x)", JacValueError, "the first is a tensor"),
    ("torch.promote_types(torch.bfloat16, torch.float32)", JacValueError, "bfloat16"),
    ("torch.symeig(x)", JacNameError, "torch.symeig was removed from PyTorch"),
    ("torch.solve(x, x)", JacNameError, r"write torch.linalg.solve\(A, B\)"),
])
def test_refusals_say_what_and_why(text, error, says):
    with pytest.raises(error, match=says):
        _value(text)


def test_a_removed_function_is_refused_at_its_name():
    with pytest.raises(JacNameError) as caught:
        _value("y = x + 1\ntorch.matrix_rank(y)")
    assert caught.value.position == len("y = x + 1\ntorch.")


rng = np.random.default_rng(28)


def _central(text, bindings, name, h=1e-6):
    """d(text)/d(name) by central differences, (*out, *in)."""
    x = bindings[name]
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        up = api.evaluate(text, {**bindings, name: x + e.reshape(x.shape)})
        down = api.evaluate(text, {**bindings, name: x - e.reshape(x.shape)})
        cols.append((up - down) / (2 * h))
    return np.stack(cols, axis=-1).reshape(cols[0].shape + x.shape)


ATEN = [
    ("torch.slice_copy(x, 1, 1, None, 2)", {"x": rng.standard_normal((2, 5))}, (2, 2)),
    ("torch.split_with_sizes_copy(x, [3, 2], 1)[0]", {"x": rng.standard_normal((2, 5))}, (2, 3)),
    ("torch.norm_except_dim(x, 2, 1)", {"x": rng.standard_normal((2, 3, 2))}, (1, 3, 1)),
    ("torch.norm_except_dim(x, 2, -1)", {"x": rng.standard_normal((2, 3))}, ()),
    ("torch.conv_tbc(x, w, b, 1)", {"x": rng.standard_normal((4, 2, 3)), "w": rng.standard_normal((3, 3, 2)),
                                    "b": rng.standard_normal(2)}, (4, 2, 2)),
    ("torch.convolution(x, w, None, [1], [0], [1], True, [0], 1)",
     {"x": rng.standard_normal((1, 2, 3)), "w": rng.standard_normal((2, 1, 2))}, (1, 1, 4)),
    ("torch.segment_reduce(x, 'prod', lengths=torch.tensor([2, 0, 1]), initial=2.0)",
     {"x": rng.standard_normal((3, 2))}, (3, 2)),
    ("torch.segment_reduce(x, 'mean', offsets=[0, 1, 3])", {"x": rng.standard_normal((3, 2))}, (2, 2)),
    ("torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)[0]", {"x": rng.standard_normal((3, 2))},
     (3, 2)),
    ("torch.native_group_norm(x, None, None, 2, 4, 1, 2, 1e-5)[0]", {"x": rng.standard_normal((2, 4))}, (2, 4)),
]


@pytest.mark.parametrize("text, bindings, shape", ATEN, ids=[t for t, _, _ in ATEN])
def test_aten_spellings_agree_with_central_differences(text, bindings, shape):
    assert api.evaluate(text, bindings).shape == shape
    ours = api.jacobian(text, bindings)
    for name in bindings:
        np.testing.assert_allclose(np.asarray(ours[name]), _central(text, bindings, name), rtol=1e-6, atol=1e-8)


def test_native_batch_norm_statistics_carry_no_derivative_and_running_ones_must_be_detached():
    x = rng.standard_normal((4, 2))
    mean = api.evaluate("torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)[1]", {"x": x})
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-14)
    invstd = api.evaluate("torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)[2]", {"x": x})
    np.testing.assert_allclose(invstd, 1 / np.sqrt(x.var(0) + 1e-5), rtol=1e-14)
    assert not np.asarray(api.jacobian("torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)[2]",
                                       {"x": x})["x"]).any()
    with pytest.raises(JacValueError, match="not differentiable with respect to running_mean"):
        api.evaluate("torch.native_batch_norm(x, None, None, m, v, False, 0.1, 1e-5)[0]",
                     {"x": x, "m": np.zeros(2), "v": np.ones(2)})


@pytest.mark.parametrize("text, says", [
    ("torch.native_group_norm(x, None, None, 2, 4, 2, 2, 1e-5)[0]", "do not match the input's shape"),
    ("torch.convolution(x, x, None, [1], [0], [1], False, [0], 1)", "1 to 3 spatial sizes"),
    ("torch.conv_tbc(x, x, x)", "conv_tbc: input .T, B, C_in."),
    ("torch.segment_reduce(x, 'sum', lengths=[1, 0], indices=[0])", "lengths= or offsets="),
    ("torch.nonzero_static(x, size=-1)", "size must be >= 0"),
])
def test_aten_refusals(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": np.ones((2, 4))})


def test_nonzero_static_of_an_input_is_read_off_its_values():
    m = np.array([0.0, 2.0, 0.0, -1.0])
    assert api.evaluate("torch.nonzero_static(m, size=3) + 0 * m.sum()", {"m": m}).tolist() == [[1], [3], [-1]]
    grad = api.jacobian("m[torch.nonzero_static(m, size=1, fill_value=0)[:, 0]] * 2", {"m": m})["m"]
    assert np.asarray(grad).tolist() == [[0.0, 2.0, 0.0, 0.0]]


def test_the_recurrent_functional_forms_agree_with_central_differences():
    b = {"x": rng.standard_normal((2, 1, 2)), "h": rng.standard_normal((1, 1, 3)), "w1": rng.standard_normal((9, 2)),
         "w2": rng.standard_normal((9, 3)) * 0.5}
    text = "torch.gru(x, h, [w1, w2], False, 1, 0.0, False, False, False)[1]"
    ours = api.jacobian(text, b)
    for name in b:
        np.testing.assert_allclose(np.asarray(ours[name]), _central(text, b, name), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text, says", [
    ("torch.gru(x, s, h, [w1, w2], False, 1, 0.0, False, False)", "packed-sequence form"),
    ("torch.gru(x, h, [w1], False, 1, 0.0, False, False, False)", "1 weights for 1 layer"),
    ("torch.gru(x[0], h, [w1, w2], False, 1, 0.0, False, False, False)", "must be 3-D"),
    ("torch.lstm(x, h, [w1[:8], w2[:8, :2]], False, 1, 0.0, False, False, False)", r"hx must be the list \[h0, c0\]"),
    ("torch.rnn_tanh(x, h, [w1, w2], False, 1, 0.0, False, False, False)", "must have shape"),
])
def test_recurrent_functional_refusals(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": np.ones((2, 1, 2)), "s": np.ones(2), "h": np.ones((1, 1, 3)), "w1": np.ones((9, 2)),
                            "w2": np.ones((9, 3))})


CTC_TEXT = "F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2, 2], [3, 0, 0]]), [5, 4], [3, 1], reduction='none')"


def test_ctc_loss_agrees_with_central_differences_and_its_vjp_with_its_jacobian():
    b = {"x": rng.standard_normal((5, 2, 4))}
    jac = np.asarray(api.jacobian(CTC_TEXT, b)["x"])
    np.testing.assert_allclose(jac, _central(CTC_TEXT, b, "x"), rtol=1e-6, atol=1e-8)
    v = np.array([0.5, -2.0])
    np.testing.assert_allclose(api.vjp(CTC_TEXT, b, v=v)["x"], np.tensordot(v, jac, 1), rtol=1e-12, atol=1e-14)


def test_ctc_loss_of_an_empty_target_is_minus_the_log_of_all_blanks():
    x = rng.standard_normal((3, 1, 4))
    lp = x - np.log(np.exp(x).sum(2, keepdims=True))
    ours = api.evaluate("F.ctc_loss(x.log_softmax(2), torch.tensor([[1]]), [3], [0], reduction='sum')", {"x": x})
    np.testing.assert_allclose(ours, -lp[:, 0, 0].sum(), rtol=1e-13)


@pytest.mark.parametrize("text, says", [
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 5]]), [3], [2])", r"classes in \[0, 4\)"),
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [9], [2])", "input_lengths must be between 0"),  # 0 read (session 30)
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [3], [3])", "do not hold target_lengths"),
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [3, 3], [2])", "input_lengths must be 1 constant"),
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [3], [2], blank=4)", "blank must be in label range"),
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [3], [2], reduction='max')", "reduction must be"),
    ("torch.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [3], [2], 0, 'mean')", "ATen's int code"),
    ("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [3], [2], zero_infinity=True) * 0 + "
     "F.ctc_loss(torch.log(x * 0), torch.tensor([[1, 2]]), [3], [2])", "not finite"),
])
def test_ctc_loss_refusals(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": rng.standard_normal((3, 1, 4))})


def test_a_ctc_loss_too_long_to_write_out_is_refused_before_it_is_built():
    with pytest.raises(JacError, match="graph nodes"):
        api.evaluate("F.ctc_loss(x.log_softmax(2), torch.tensor([[1]]), [200000], [1])",
                     {"x": np.zeros((200000, 1, 2))})


SETS = [np.array([3.0, 1.0, 2.0, 1.0, -0.0, 0.0]), np.array([np.nan, 2.0, np.nan, 5.0]), np.array([]),
        np.array([[4.0, 1.0], [1.0, 7.0]])]


@pytest.mark.parametrize("k", range(len(SETS)))
@pytest.mark.parametrize("fname", ["unique_values", "unique_counts", "unique_inverse", "unique_all"])
def test_numpys_unique_family_is_numpys(fname, k):
    x = SETS[k]
    theirs = getattr(np, fname)(x)
    for j, part in enumerate(theirs if isinstance(theirs, tuple) else [theirs]):
        ours = api.evaluate(f"np.{fname}(x.detach())" + (f"[{j}]" if isinstance(theirs, tuple) else ""), {"x": x})
        np.testing.assert_array_equal(ours, part)
        assert ours.shape == part.shape
    if fname == "unique_all":
        np.testing.assert_array_equal(api.evaluate("np.unique_all(x.detach()).inverse_indices", {"x": x}),
                                      theirs.inverse_indices)


@pytest.mark.parametrize("j", range(len(SETS)))
@pytest.mark.parametrize("k", range(len(SETS)))
@pytest.mark.parametrize("call", ["union1d(a, b)", "intersect1d(a, b)", "setdiff1d(a, b)", "setxor1d(a, b)",
                                  "intersect1d(a, b, return_indices=True)[1]",
                                  "intersect1d(a, b, return_indices=True)[2]", "setdiff1d(a, b, True)"])
def test_numpys_set_functions_are_numpys(call, k, j):
    a, b = SETS[k], SETS[j]
    theirs = eval(f"np.{call}", {"np": np, "a": a, "b": b})
    ours = api.evaluate(f"np.{call.replace('a, b', 'a.detach(), b.detach()')}", {"a": a, "b": b})
    np.testing.assert_array_equal(ours, theirs)
    assert ours.shape == theirs.shape


def test_set_functions_of_a_differentiated_input_are_refused_and_of_constants_answered():
    with pytest.raises(JacValueError, match="depends on the input 'x'"):
        api.evaluate("np.union1d(x, [1.0])", {"x": np.ones(2)})
    assert api.evaluate("np.union1d([3.0, 1.0], [1.0, 2.0]) * x", {"x": 2.0}).tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(JacNameError, match="write np.union1d"):  # of floats read since session 30 (names30)
        api.evaluate("jnp.union1d(jnp.array([1, 2]), jnp.array([2])) * x", {"x": np.ones(2)})


POLYS = [
    ("np.poly(x)", {"x": np.array([0.5, -1.0, 2.0])}),
    ("np.poly(x)", {"x": np.array([2.0, 2.0])}),
    ("np.poly(x[:0]) + x.sum()", {"x": np.array([1.0])}),
    ("np.polydiv(u, v)[0]", {"u": np.array([1.0, -6.0, 11.0, -6.0]), "v": np.array([2.0, -1.0])}),
    ("np.polydiv(u, v)[1]", {"u": np.array([1.0, -6.0, 11.0, -6.0]), "v": np.array([2.0, -1.0])}),
    ("np.polydiv(u, v)[1]", {"u": np.array([3.0, 1.0, 2.5]), "v": np.array([0.5, 1.5, 2.0])}),
    ("np.polydiv(u, v)[0]", {"u": np.array([3.0, 1.0]), "v": np.array([0.5, 1.5, 2.0])}),
    ("np.roots(p)", {"p": np.array([1.0, -6.0, 11.0, -6.0])}),
    ("np.roots(p)", {"p": np.array([2.0, -3.0, -5.0, 0.0])}),  # a trailing zero: a root at 0
    ("np.roots(p)", {"p": np.array([1.0, -3.0])}),
]


@pytest.mark.parametrize("text, bindings", POLYS, ids=[f"{t}-{k}" for k, (t, _) in enumerate(POLYS)])
def test_numpys_polynomials_are_numpys_with_the_derivative_of_central_differences(text, bindings):
    theirs = eval(text, {"np": np, **bindings})
    ours = api.evaluate(text, bindings)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-14)
    jac = api.jacobian(text, bindings)
    for name in bindings:
        np.testing.assert_allclose(np.asarray(jac[name]), _central(text, bindings, name), rtol=1e-6, atol=1e-7)


def test_roots_with_a_leading_zero_are_numpys_and_differentiate_the_finite_root():
    p = np.array([0.0, 1.0, -3.0])
    assert api.evaluate("np.roots(p)", {"p": p}).tolist() == np.roots(p).tolist() == [3.0]
    # p(r) = p0 r^2 + p1 r + p2 = 0 at r = 3: dr/dp = -(r^2, r, 1) / p'(r), p'(3) = 1
    assert np.asarray(api.jacobian("np.roots(p)", {"p": p})["p"]).tolist() == [[-9.0, -3.0, -1.0]]


@pytest.mark.parametrize("text, says", [
    ("np.roots(np.array([1.0, 0.0, 1.0]))", "complex roots"),
    ("np.roots(p)", "repeated root"),
    ("np.poly(np.stack([p[:2], p[1:]]))", "needs a general matrix's eigenvalues"),
    ("np.poly(np.array([[0.0, -1.0], [1.0, 0.0]]))", "complex coefficients|"),
    ("np.polydiv(p[None], p)", "rank-1"),
])
def test_numpys_polynomial_refusals(text, says):
    if says.endswith("|"):  # np.poly of a rotation: real coefficients after all, [1, 0, 1]
        assert api.evaluate(text, {"p": np.ones(3)}).tolist() == np.poly(np.array([[0.0, -1.0], [1.0, 0.0]])).tolist()
        return
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"p": np.array([1.0, -4.0, 4.0])})


HIST = [
    ("np.histogram2d(x, y)", 3), ("np.histogram2d(x, y, bins=3)", 3), ("np.histogram2d(x, y, [2, 4])", 3),
    ("np.histogram2d(x, y, bins=[np.array([-2.0, 0.0, 0.5, 3.0]), np.array([-1.0, 1.0])])", 3),
    ("np.histogram2d(x, y, bins=[-2.0, -1.0, 0.0, 1.0, 2.0])", 3),
    ("np.histogram2d(x, y, 4, range=[[-1.0, 1.0], [0.0, 2.0]])", 3),
    ("np.histogram2d(x, y, 3, density=True)", 3), ("np.histogram2d(x, y, 3, weights=w)", 3),
    ("np.histogram2d(x, y, 3, weights=w, density=True)", 3),
    ("np.histogramdd(s)", 2), ("np.histogramdd(s, bins=(2, 3, 4))", 2), ("np.histogramdd(s, 3, density=True)", 2),
    ("np.histogramdd(s, 2, weights=w)", 2),
]


@pytest.mark.parametrize("text, parts", HIST)
def test_numpys_histograms_are_numpys(text, parts):
    x, y = rng.standard_normal(12).round(1), rng.standard_normal(12).round(1)
    x[3] = x.max()  # on the last edge: in the last bin
    s = np.stack([x, y, rng.standard_normal(12)], 1)
    bindings = {"x": x, "y": y, "w": rng.uniform(0.5, 2, 12), "s": s}
    theirs = eval(text, {"np": np, **bindings})
    for k in range(parts):
        if parts == 2 and k == 1:
            for d in range(s.shape[1]):
                np.testing.assert_allclose(api.evaluate(f"{text}[1][{d}]", bindings), theirs[1][d], rtol=1e-14)
            continue
        np.testing.assert_allclose(api.evaluate(f"{text}[{k}]", bindings), theirs[k], rtol=1e-13, atol=1e-15)
    if "density" in text or "weights" in text:  # differentiable: the edges (min, max), the weights
        smooth = {**bindings, "x": rng.standard_normal(12), "y": rng.standard_normal(12),
                  "s": rng.standard_normal((12, 3))}  # no value on an inner edge
        names = ["s" if "histogramdd" in text else "x"] + (["w"] if "weights" in text else [])
        jac = api.jacobian(f"{text}[0]", smooth)
        for name in names:
            np.testing.assert_allclose(np.asarray(jac[name]), _central(f"{text}[0]", smooth, name), rtol=1e-5,
                                       atol=1e-6)


WRITES = [
    "np.putmask(y, y > 0, v)", "np.putmask(y, m, v[:2])", "np.putmask(y, m, 5.0)", "np.putmask(y, m, v[:0])",
    "np.place(y, y > 0, v)", "np.place(y, m, v[:2])", "np.place(y, m, [9.0])", "np.place(y, y > 100, v[:0])",
    "np.copyto(y, v)", "np.copyto(y, v[0, :1])", "np.copyto(y, 2.0, where=m)", "np.copyto(y, v, where=y < 0)",
    "np.copyto(y, v, casting='unsafe')",
]


@pytest.mark.parametrize("statement", WRITES)
def test_numpys_writes_into_an_argument_are_numpys(statement):
    x, v = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, 0.5]]), np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    m = np.array([[True, False, True], [False, True, True]])
    y = x.copy()
    exec(statement, {"np": np, "y": y, "v": v, "m": m})  # noqa: S102 - the test's own statement, under NumPy
    text = f"m = np.array({m.tolist()})\ny = x * 1\n{statement}\ny"
    np.testing.assert_array_equal(api.evaluate(text, {"x": x, "v": v}), y)
    jac = api.jacobian(text, {"x": x, "v": v})
    for name, value in (("x", x), ("v", v)):
        np.testing.assert_allclose(np.asarray(jac[name]), _central(text, {"x": x, "v": v}, name), atol=1e-8)


@pytest.mark.parametrize("text, says", [
    ("np.putmask(x, x > 0, 1.0)\nx", "'x' is an input"),
    ("y = x\nnp.copyto(y, 0.0)\nx", "write into a copy"),
    ("np.copyto(x * 1, 2.0)", "a statement of its own"),
    ("y = x * 1\nnp.putmask(y, x[:1] > 0, 1.0)\ny", "same size"),
    ("y = x * 1\nnp.place(y, y > 0, x[:0])\ny", "Cannot insert from an empty array"),
    ("y = x * 1\nnp.copyto(y, x[:2])\ny", "could not broadcast"),
    ("y = torch.arange(3)\nnp.putmask(y, y > 0, 1.5)\ny", "holds integers or booleans"),
])
def test_numpys_writes_refused(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": np.array([1.0, -2.0, 3.0])})


@pytest.mark.parametrize("text", [
    "np.fromfunction(lambda i, j: i * 10 + j, (2, 3))",
    "np.fromfunction(lambda i, j: (i == j) * 1.5, (3, 3))",
    "np.fromfunction(lambda i, j, k: i - j * k, (2, 2, 3), dtype=int)",
    "np.fromfunction(lambda i: i ** 2, (4,))",
])
def test_fromfunction_is_numpys(text):
    theirs = eval(text, {"np": np})
    np.testing.assert_array_equal(api.evaluate(f"{text} + 0 * x.sum()", {"x": np.ones(2)}), theirs)


def test_fromfunction_calls_a_def_of_the_text_once_and_differentiates_through_it():
    text = ("def f(i, j, scale=1.0):\n    return np.exp(-(i - j) ** 2 * x[0]) * scale\n"
            "np.fromfunction(f, (3, 3), scale=x[1])")
    b = {"x": np.array([0.3, 2.0])}
    i, j = np.indices((3, 3), dtype=float)
    np.testing.assert_allclose(api.evaluate(text, b), np.exp(-(i - j) ** 2 * 0.3) * 2.0, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(api.jacobian(text, b)["x"]), _central(text, b, "x"), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("text, says", [
    ("np.fromfunction(np.add, (2, 2))", "a lambda or def of the text"),
    ("np.fromfunction(lambda i: i, (2,), dtype=bool)", "float or an integer dtype"),
    ("np.fromfunction(lambda i: i, (-1,))", "negative size"),
])
def test_fromfunction_refusals(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": np.ones(2)})


def test_fromfunction_needs_a_function_and_a_shape():
    with pytest.raises(JacValueError, match="needs a function and a shape"):
        api.evaluate("np.fromfunction(lambda i: i)", {"x": np.ones(2)})
    assert api.evaluate("np.fromfunction(shape=(2,), function=lambda i: i + 1)", {"x": np.ones(2)}).tolist() == [1, 2]


def test_a_test_of_is_nonzero_is_taken_at_the_values():  # refused before session 32: now PyTorch's branch
    text = "if x[0, 0].is_nonzero():\n    x = x * 2\nx"
    assert api.evaluate(text, X).tolist() == [[3.0, -4.0], [0.0, 6.0]]
