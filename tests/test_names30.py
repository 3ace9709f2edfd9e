"""What session 30 read of the names and forms users paste (lang/names30.py, lang/implicit.py's custom_root,
lang/vmapping.py's NamedAxis, torch.tensor of nested lists): values as the libraries define them (written out here
with NumPy), derivatives against central differences, repeated calls (the kernels) equal to the first bit for bit,
and the refusals, each saying why and what to write. JAX's and PyTorch's own answers: test_parity_names30.py."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_derivatives_are_central_differences

rng = np.random.default_rng(30)
HEAD = "import jax, jax.numpy as jnp, torch, numpy as np\nfrom jax import lax\n"
REPEATS = np.array([3.0, 1.0, 2.0, 2.0, 1.0, -0.5])


def value(code, **inputs):
    return np.asarray(api.evaluate(HEAD + code, inputs))


def refusal(code, **inputs) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + code, inputs)
    return str(err.value)


def assert_repeated_calls_agree(code, inputs):
    """The second and third calls (a plan, then its kernel) equal the first, bit for bit."""
    first = api.jacobian(HEAD + code, inputs)
    for _ in range(2):
        again = api.jacobian(HEAD + code, inputs)
        for k in first:
            np.testing.assert_array_equal(again[k], first[k])


# --- jax.lax.custom_root: solve's value, the implicit derivatives -----------------------------------------------------

NEWTON = """def newton(f, x0):
    x = x0
    for _ in range(30):
        x = x - f(x) / jax.grad(f)(x)
    return x
"""
CUBIC = NEWTON + "lax.custom_root(lambda x: x ** 3 - a * x - 1.0, 1.5, newton, lambda g, y: y / g(1.0))"


def test_custom_root_is_the_solve_and_its_derivatives_the_implicit_ones():
    a = 2.0
    root = value(CUBIC, a=np.array(a))
    assert root == (1 + np.sqrt(5)) / 2 or abs(root - (1 + np.sqrt(5)) / 2) < 1e-15  # x^3 - 2x - 1 = (x+1)(x^2-x-1)
    # x(a): x^3 - a x - 1 = 0, so dx/da = x / (3x^2 - a)
    np.testing.assert_allclose(api.jacobian(HEAD + CUBIC, {"a": np.array(a)})["a"], root / (3 * root ** 2 - a),
                               rtol=1e-14)
    assert_derivatives_are_central_differences(HEAD + CUBIC, {"a": np.array(a)})
    # the second derivative: differentiate x / (3x^2 - a) along x(a)
    d1 = root / (3 * root ** 2 - a)
    d2 = (d1 * (3 * root ** 2 - a) - root * (6 * root * d1 - 1)) / (3 * root ** 2 - a) ** 2
    np.testing.assert_allclose(api.derivative(HEAD + CUBIC, {"a": np.array(a)}, order=2), d2, rtol=1e-12)
    assert_repeated_calls_agree(CUBIC, {"a": np.array(a)})


def test_custom_root_of_a_vector_system():
    code = ("def newton(f, x0):\n    x = x0\n    for _ in range(30):\n"
            "        x = x - jnp.linalg.solve(jax.jacobian(f)(x), f(x))\n    return x\n"
            "lax.custom_root(lambda x: x ** 3 + x - p, jnp.zeros(3), newton, "
            "lambda g, y: jnp.linalg.solve(jax.jacobian(g)(y), y))")
    p = np.array([0.3, -1.2, 2.0])
    root = value(code, p=p)
    np.testing.assert_allclose(root ** 3 + root, p, atol=1e-14)
    np.testing.assert_allclose(api.jacobian(HEAD + code, {"p": p})["p"], np.diag(1 / (3 * root ** 2 + 1)),
                               rtol=1e-12, atol=1e-15)
    assert_repeated_calls_agree(code, {"p": p})


def test_custom_root_refuses_a_tangent_solve_that_does_not_solve_and_has_aux():
    message = refusal(CUBIC.replace("lambda g, y: y / g(1.0)", "lambda g, y: y"), a=np.array(2.0))
    assert "tangent_solve(g, y) does not solve g(x) = y" in message and "y / g(1.0)" in message
    message = refusal("lax.custom_root(lambda x: x - a, 0.0, lambda f, x0: x0, lambda g, y: y, has_aux=True)",
                      a=np.array(1.0))
    assert "has_aux=True" in message
    message = refusal("lax.custom_root(lambda x: x - a, jnp.zeros((2, 2)), lambda f, x0: x0, lambda g, y: y)",
                      a=np.array(1.0))
    assert "one scalar or vector" in message


# --- JAX's set functions with size= (and without) ----------------------------------------------------------------------

def _padded(values, size, fill):
    out = np.full(size, fill, dtype=float)
    out[:min(size, len(values))] = values[:size]
    return out


@pytest.mark.parametrize("size", [1, 4, 8])
def test_jnp_unique_with_size_truncates_or_pads_as_jax(size):
    uniq, first, inverse, counts = np.unique(REPEATS, return_index=True, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(value(f"jnp.unique(x, size={size})", x=REPEATS), _padded(uniq, size, uniq[0]))
    np.testing.assert_array_equal(value(f"jnp.unique(x, size={size}, fill_value=7.5)", x=REPEATS),
                                  _padded(uniq, size, 7.5))
    np.testing.assert_array_equal(value(f"jnp.unique(x, size={size}, return_counts=True)[1]", x=REPEATS),
                                  _padded(counts, size, 0))
    np.testing.assert_array_equal(value(f"jnp.unique(x, size={size}, return_index=True)[1]", x=REPEATS),
                                  _padded(first, size, first[0]))
    np.testing.assert_array_equal(value(f"jnp.unique(x, size={size}, return_inverse=True)[1]", x=REPEATS), inverse)
    # the derivative is the gather of each value's first occurrence (the padding's too, without fill_value)
    J = api.jacobian(HEAD + f"jnp.unique(x, size={size})", {"x": REPEATS})["x"]
    expected = np.zeros((size, REPEATS.size))
    for row, col in enumerate(_padded(first, size, first[0]).astype(int)):
        expected[row, col] = 1.0
    np.testing.assert_array_equal(J, expected)


@pytest.mark.parametrize("code, expected", [
    ("jnp.union1d(x, y, size=9)", _padded(np.union1d(REPEATS, [2.0, 7.0]), 9, -0.5)),
    ("jnp.setdiff1d(x, y, size=5)", _padded(np.setdiff1d(REPEATS, [2.0, 7.0]), 5, 0.0)),
    ("jnp.setxor1d(x, y, size=7, fill_value=-9.0)", _padded(np.setxor1d(REPEATS, [2.0, 7.0]), 7, -9.0)),
    ("jnp.setxor1d(x, y, size=7)", _padded(np.setxor1d(REPEATS, [2.0, 7.0]), 7, -0.5)),
    ("jnp.intersect1d(x, y, size=3)", _padded(np.intersect1d(REPEATS, [2.0, 7.0]), 3, 2.0)),
    ("jnp.intersect1d(x, y)", np.intersect1d(REPEATS, [2.0, 7.0])),
    ("jnp.union1d(x, y)", np.union1d(REPEATS, [2.0, 7.0])),
    ("jnp.unique_values(x, size=5)", _padded(np.unique(REPEATS), 5, -0.5)),
    ("jnp.unique_counts(x, size=5).counts", _padded(np.unique_counts(REPEATS).counts, 5, 0)),
])
def test_the_set_functions_are_numpys_values_padded_as_jax(code, expected):
    inputs = {"x": REPEATS, "y": np.array([2.0, 7.0])}
    np.testing.assert_array_equal(value(code, **inputs), expected)
    assert_repeated_calls_agree(code, inputs)
    # central differences where no value repeats, in or across the arrays (at a tie the gather is JAX's choice,
    # checked in test_parity_names30; an intersection exists only at ties)
    distinct = {"x": np.array([3.0, 1.0, 2.0, 2.5, 1.5, -0.5]), "y": np.array([2.25, 7.0])}
    assert_derivatives_are_central_differences(HEAD + code, distinct)


def test_a_fill_value_expression_carries_its_derivative():
    J = api.jacobian(HEAD + "jnp.unique(x, size=6, fill_value=c * 2)", {"x": np.array([1.0, 1.0, 2.0]),
                                                                         "c": np.array(0.5)})
    np.testing.assert_array_equal(J["c"], [0, 0, 2, 2, 2, 2])


@pytest.mark.parametrize("code, words", [
    ("jnp.unique(x, size=2, equal_nan=False)", "equal_nan=False"),
    ("jnp.unique(jnp.zeros(0) * x[0], size=2)", "needs fill_value"),
    ("jnp.setdiff1d(x, x[:1], assume_unique=True)", "assume_unique=True"),
    ("jnp.union1d(x, jnp.array([jnp.nan]))", "NaN"),
    ("jnp.unique(jnp.array([1, 2, 2]), size=4)", "integer or boolean"),
    ("jnp.setxor1d(x, x[1:2], size=6)", "pass fill_value="),
])
def test_set_function_refusals_say_why_and_what_to_write(code, words):
    x = np.array([0.0, 2.0, 3.0]) if "setxor1d" in code else REPEATS
    assert words in refusal(code, x=x)


def test_numpys_own_set_functions_are_unchanged():
    """np.unique still refuses a derivative (NumPy has none; PyTorch's unique none either)."""
    assert "have no derivative" in refusal("np.unique(x)", x=REPEATS)
    np.testing.assert_array_equal(value("np.unique(np.array([3.0, 1.0, 3.0]))"), [1.0, 3.0])


# --- the collectives inside jax.vmap(..., axis_name=) ---------------------------------------------------------------

A43 = rng.standard_normal((4, 3))


@pytest.mark.parametrize("code, expected", [
    ("jax.vmap(lambda r: r / lax.psum(r, 'i'), axis_name='i')(A)", A43 / A43.sum(0)),
    ("jax.vmap(lambda r: r - lax.pmean(r, 'i'), axis_name='i')(A)", A43 - A43.mean(0)),
    ("jax.vmap(lambda r: lax.stop_gradient(lax.pmax(r, 'i')) - r, axis_name='i')(A)", A43.max(0) - A43),
    ("jax.vmap(lambda r: lax.stop_gradient(lax.pmin(r, 'i')) * r, axis_name='i')(A)", A43.min(0) * A43),
    ("jax.vmap(lambda r: lax.all_gather(r, 'i') @ r, axis_name='i')(A)", A43 @ A43.T),
    ("jax.vmap(lambda r: r * lax.axis_index('i'), axis_name='i')(A)", A43 * np.arange(4)[:, None]),
    ("jax.vmap(lambda r: lax.pshuffle(r, 'i', [2, 0, 3, 1]) * lax.axis_size('i'), axis_name='i')(A)",
     A43[[2, 0, 3, 1]] * 4),
    ("jax.vmap(lambda r: lax.ppermute(r, 'i', [(0, 1), (1, 2), (2, 3), (3, 0)]), axis_name='i')(A)",
     A43[[3, 0, 1, 2]]),
    ("jax.vmap(lambda r: jax.vmap(lambda e: e * lax.psum(e, 'rows') + lax.psum(e, 'cols'), axis_name='cols')(r), "
     "axis_name='rows')(A)", A43 * A43.sum(0) + A43.sum(1, keepdims=True)),
])
def test_collectives_reduce_over_the_mapped_axis(code, expected):
    np.testing.assert_allclose(value(code, A=A43), expected, rtol=1e-14, atol=1e-15)
    if "stop_gradient" not in code:
        assert_derivatives_are_central_differences(HEAD + code, {"A": A43})
    assert_repeated_calls_agree(code, {"A": A43})


@pytest.mark.parametrize("code, words", [
    ("lax.psum(A, 'i')", "outside a jax.vmap(..., axis_name='i')"),
    ("jax.vmap(lambda r: lax.psum(r, 'j'), axis_name='i')(A)", "unbound axis name"),
    ("jax.vmap(lambda r: lax.psum(r, ('i',)), axis_name='i')(A)", "one name written as a string"),
    ("jax.vmap(jax.grad(lambda v: jnp.sum(v * lax.psum(v, 'i'))), axis_name='i')(A)", "sums the cotangents"),
    ("jax.vmap(lambda r: lax.pmax(r, 'i') * r, axis_name='i')(A)", "Differentiation rule for 'pmax'"),
    ("jax.vmap(lambda r: lax.all_gather(r, 'i', axis=1, tiled=True), axis_name='i')(A)", "out of bounds"),
    ("jax.vmap(lambda r: r, axis_name=1)(A)", "written as a string"),
    ("jax.vmap(lambda r: lax.ppermute(r, 'i', [(0, 1), (1, 0)]), axis_name='i')(A)", "doesn't match the axis size"),
    ("jax.vmap(lambda r: lax.ppermute(r, 'i', [(0, 1), (1, 1), (2, 3), (3, 0)]), axis_name='i')(A)", "distinct"),
    ("jax.vmap(lambda r: lax.pshuffle(r, 'i', [0, 0, 1, 2]), axis_name='i')(A)", "a permutation of range(4)"),
])
def test_collective_refusals_say_why_and_what_to_write(code, words):
    assert words in refusal(code, A=A43)


# --- torch.tensor of nested lists of 0-d tensors --------------------------------------------------------------------

def test_torch_tensor_of_tolist_is_a_copy_without_a_derivative():
    A = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(value("torch.tensor(A.tolist())", A=A), A)
    assert not api.jacobian(HEAD + "torch.tensor(A.tolist())", {"A": A})["A"].any()
    np.testing.assert_array_equal(api.jacobian(HEAD + "torch.tensor(A.tolist()) * A", {"A": A})["A"].reshape(6, 6),
                                  np.diag(A.ravel()))
    np.testing.assert_array_equal(value("np.array(A.tolist())", A=A), A)


def test_one_element_tensors_in_a_list_are_numbers_as_pytorch_reads_them():
    x = np.array([1.0, 2.0, 3.0])
    assert value("torch.tensor([x[:1], x[1:2]])", x=x).shape == (2,)
    assert value("torch.tensor([[x[:1]], [x[1:2]]])", x=x).shape == (2, 1)
    assert value("np.array([x[:1], x[1:2]])", x=x).shape == (2, 1)  # NumPy stacks them
    np.testing.assert_array_equal(value("torch.tensor([[x[0], 1.0], [2.0, x[2]]])", x=x), [[1.0, 1.0], [2.0, 3.0]])
    assert "one-element tensors only" in refusal("torch.tensor([x[:2], x[1:]])", x=x)


# --- torch.segment_reduce with lengths of two dimensions, F.ctc_loss of an empty input ------------------------------

def test_segment_reduce_of_two_dimensional_lengths_segments_each_row():
    x = rng.standard_normal((2, 4))
    code = "torch.segment_reduce(x, 'sum', lengths=torch.tensor([[1, 3], [2, 2]]), axis=1)"
    np.testing.assert_array_equal(value(code, x=x), [[x[0, 0], x[0, 1:].sum()], [x[1, :2].sum(), x[1, 2:].sum()]])
    assert_derivatives_are_central_differences(HEAD + code, {"x": x})
    assert_repeated_calls_agree(code, {"x": x})
    assert "the last dimension of lengths" in refusal(code.replace("axis=1", "axis=0"), x=x)
    assert "need data whose first" in refusal(code, x=rng.standard_normal((3, 4)))
    assert "sum to [4, 3]" in refusal(code.replace("[2, 2]", "[2, 1]"), x=x)


def test_ctc_loss_of_an_empty_input_is_infinite_or_zero_without_a_derivative():
    z = rng.standard_normal((3, 2, 3))
    code = ("F.ctc_loss(z.log_softmax(-1), torch.tensor([[1, 2], [1, 1]]), torch.tensor([0, 3]), "
            "torch.tensor([{}, 1]), reduction='none'{})")
    head = HEAD + "import torch.nn.functional as F\n"
    ours = np.asarray(api.evaluate(head + code.format(2, ""), {"z": z}))
    assert ours[0] == np.inf and np.isfinite(ours[1])
    assert np.asarray(api.evaluate(head + code.format(2, ", zero_infinity=True"), {"z": z}))[0] == 0.0
    empty = np.asarray(api.evaluate(head + code.format(0, ""), {"z": z}))[0]
    assert empty == 0.0 and np.signbit(empty)  # PyTorch's -0.0
    assert not api.jacobian(head + code.format(2, ", zero_infinity=True"), {"z": z})["z"][0].any()
    assert "between 0 and the 3 time steps" in refusal("import torch.nn.functional as F\n" + code.format(2, "")
                                                       .replace("[0, 3]", "[4, 3]"), z=z)


def test_packed_sequences_are_refused_saying_what_to_write():
    message = refusal("import torch.nn as nn\nrnn = nn.RNN(3, 4, batch_first=True)\n"
                      "out, h = rnn(nn.utils.rnn.pack_padded_sequence(x, torch.tensor([3, 2]), batch_first=True))\nh",
                      x=rng.standard_normal((2, 3, 3)))
    assert "packed sequences" in message and "rnn(x[i:i + 1, :n_i])" in message


# --- scipy.special's Gauss quadrature rules: SciPy's nodes and weights, constants ---------------------------------

RULES = [("roots_legendre", "", 0), ("roots_chebyt", "", 0), ("roots_chebyu", "", 0), ("roots_chebyc", "", 0),
         ("roots_chebys", "", 0), ("roots_jacobi", ", 0.5, 1.5", 2), ("roots_sh_legendre", "", 0),
         ("roots_sh_chebyt", "", 0), ("roots_sh_chebyu", "", 0), ("roots_sh_jacobi", ", 2.5, 1.5", 2),
         ("roots_gegenbauer", ", 0.75", 1), ("roots_genlaguerre", ", 1.5", 1), ("roots_hermite", "", 0),
         ("roots_hermitenorm", "", 0), ("roots_laguerre", "", 0), ("p_roots", "", 0), ("h_roots", "", 0),
         ("j_roots", ", 0.5, 1.5", 2)]


@pytest.mark.parametrize("name, params, count", RULES, ids=[r[0] for r in RULES])
def test_gauss_rules_are_scipys_nodes_and_weights(name, params, count):
    special = pytest.importorskip("scipy.special")
    args = [float(v) for v in params.split(",")[1:]]
    x, w, mu = getattr(special, name)(7, *args, mu=True)
    np.testing.assert_array_equal(value(f"scipy.special.{name}(7{params})[0]"), x)
    np.testing.assert_array_equal(value(f"scipy.special.{name}(7{params})[1]"), w)
    np.testing.assert_array_equal(value(f"scipy.special.{name}(7{params}, mu=True)[2]"), mu)


def test_a_quadrature_of_the_inputs_is_differentiated_through_the_integrand():
    pytest.importorskip("scipy.special")
    code = "import scipy.special\nx, w = scipy.special.roots_legendre(12)\njnp.sum(w * jnp.exp(a * x))"
    a = np.array(0.7)
    np.testing.assert_allclose(value(code, a=a), 2 * np.sinh(a) / a, rtol=1e-14)  # exact to rounding at 12 nodes
    np.testing.assert_allclose(api.jacobian(HEAD + code, {"a": a})["a"], 2 * (a * np.cosh(a) - np.sinh(a)) / a ** 2,
                               rtol=1e-13)
    assert_repeated_calls_agree(code, {"a": a})


@pytest.mark.parametrize("code, words", [
    ("scipy.special.roots_legendre(0)", "positive integer"), ("scipy.special.roots_legendre(2.5)", "positive integer"),
    ("scipy.special.roots_jacobi(3, a, 0.5)", "not an expression of the inputs"),
    ("scipy.special.roots_genlaguerre(3, -2.0)", "SciPy raises"),
])
def test_gauss_rule_refusals(code, words):
    pytest.importorskip("scipy.special")
    assert words in refusal("import scipy.special\n" + code + "[0] * a", a=np.array(0.5))


@pytest.mark.parametrize("name", ["eval_chebyc", "eval_chebys", "eval_sh_chebyt", "eval_sh_chebyu", "eval_sh_legendre"])
def test_scaled_orthogonal_polynomials_are_scipys(name):
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([rng.uniform(-3, 3, 20), [0.0, 0.5, 1.0, -1.0]])
    for n in (0, 1, 2, 5, 9):
        np.testing.assert_array_equal(value(f"scipy.special.{name}({n}, x)", x=x), getattr(special, name)(n, x))
    assert_derivatives_are_central_differences(HEAD + f"scipy.special.{name}(4, x)", {"x": x[:5]})
    assert_repeated_calls_agree(f"scipy.special.{name}(4, x)", {"x": x[:5]})


# --- JAX's index functions with size= / fill_value= ------------------------------------------------------------------

def test_index_functions_with_size_pad_as_jax():
    x = np.array([[0.5, -1.0, 0.0], [2.0, 0.0, -0.25]])
    rows, cols = np.nonzero(x)
    np.testing.assert_array_equal(value("jnp.nonzero(x, size=6, fill_value=(-1, -2))[1]", x=x),
                                  np.r_[cols, -2, -2])
    np.testing.assert_array_equal(value("jnp.nonzero(x, size=2)[0]", x=x), rows[:2])
    np.testing.assert_array_equal(value("jnp.argwhere(x, size=5)", x=x), np.r_[np.argwhere(x), [[0, 0]]])
    np.testing.assert_array_equal(value("jnp.flatnonzero(x, size=6, fill_value=9)", x=x),
                                  np.r_[np.flatnonzero(x), 9, 9])
    np.testing.assert_array_equal(value("jnp.where(x > 0, size=3)[1]", x=x), [0, 0, 0])
    np.testing.assert_array_equal(value("jnp.extract(x != 0, x, size=6, fill_value=7.0)", x=x),
                                  np.r_[x[x != 0], 7.0, 7.0])
    J = api.jacobian(HEAD + "jnp.extract(x > 0, x, size=3)", {"x": x})["x"]
    np.testing.assert_array_equal(J.reshape(3, 6), np.eye(6)[[0, 3]].tolist() + [[0.0] * 6])
    assert_repeated_calls_agree("jnp.extract(x > 0, x, size=3)", {"x": x})
    np.testing.assert_array_equal(value("np.where(x > 0, x, 0.0)", x=x), np.where(x > 0, x, 0.0))  # unchanged


@pytest.mark.parametrize("code, words", [
    ("jnp.where(x > 0, x, 0.0, size=3)", "one-argument form"),
    ("jnp.nonzero(x, size=3, fill_value=(1, 2, 3))", "one per axis"),
    ("jnp.nonzero(x[0, 0], size=3)", "0-d"),
    ("jnp.extract(x[0] > 0, x, size=3)", "one size"),
])
def test_index_function_refusals(code, words):
    assert words in refusal(code, x=np.array([[0.5, -1.0, 0.0], [2.0, 0.0, -0.25]]))
