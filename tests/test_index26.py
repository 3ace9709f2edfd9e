"""Index tuples made by calls (lang/index_tuples.py and the parser's ``index_tuple`` / ``written``):
``np.diag_indices``, ``tril_indices(_from)``, ``np.ix_``, ``np.nonzero``, ``np.indices``, ``mask_indices``, a name
holding such a tuple, in reads, ``x.at[idx]`` and ``y[idx] = v``; values against NumPy's own indexing and Jacobians
against central differences. tests/test_parity_index26.py runs the same texts under JAX and PyTorch."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_derivatives_are_central_differences

rng = np.random.default_rng(2626)
A = rng.standard_normal((3, 3))
B = rng.standard_normal((2, 3))
V3 = rng.standard_normal(3)


def _np_write(A, idx, v, add=False):
    out = A.copy()
    if add:
        np.add.at(out, idx, v)
    else:
        out[idx] = v
    return out


# (text, inputs, NumPy's value computed by NumPy itself)
CASES = [
    ("x[np.diag_indices(3)] * 2", {"x": A}, A[np.diag_indices(3)] * 2),
    ("x[np.tril_indices_from(x)]", {"x": A}, A[np.tril_indices_from(A)]),
    ("x[np.triu_indices_from(x, 1)] ** 2", {"x": A}, A[np.triu_indices_from(A, 1)] ** 2),
    ("x[np.tril_indices_from(x, -1)]", {"x": B}, B[np.tril_indices_from(B, -1)]),
    ("x[np.mask_indices(3, np.triu, 1)]", {"x": A}, A[np.mask_indices(3, np.triu, 1)]),
    ("x[np.mask_indices(3, np.tril)]", {"x": A}, A[np.mask_indices(3, np.tril)]),
    ("x[tuple(np.indices(x.shape))]", {"x": B}, B[tuple(np.indices(B.shape))]),
    ("x[np.indices((2, 3), sparse=True)]", {"x": B}, B[np.indices((2, 3), sparse=True)]),
    ("x[np.indices((2, 2))[0], np.indices((2, 2))[1]]", {"x": B}, B[np.indices((2, 2))[0], np.indices((2, 2))[1]]),
    ("idx = np.diag_indices(3)\nx[idx] + x[idx[::-1]]", {"x": A}, A[np.diag_indices(3)] * 2),
    ("rows, cols = np.triu_indices(3, 1)\nidx = (rows, cols)\nx[idx]", {"x": A}, A[np.triu_indices(3, 1)]),
    ("rows, cols = np.triu_indices(3, 1)\nidx = rows, cols\nnp.sin(x[idx])", {"x": A},
     np.sin(A[np.triu_indices(3, 1)])),
    ("idx = ([0, 1], [1, 2])\nnp.sin(x[idx])", {"x": A}, np.sin(A[[0, 1], [1, 2]])),
    ("i = np.array([0, 2])\nj = np.array([1, 1])\nnp.sin(x[[i, j]])", {"x": A}, np.sin(A[np.array([[0, 2], [1, 1]])])),
    ("y = x.copy()\ny[np.diag_indices(3)] = 0.0\ny", {"x": A}, _np_write(A, np.diag_indices(3), 0.0)),
    ("y = x.copy()\ny[np.tril_indices_from(y, -1)] = v\ny", {"x": A, "v": V3},
     _np_write(A, np.tril_indices_from(A, -1), V3)),
    ("y = x.copy()\ny[np.ix_([0, 2], [1, 2])] = 1.5\ny", {"x": A}, _np_write(A, np.ix_([0, 2], [1, 2]), 1.5)),
    ("y = x.copy()\ny[np.triu_indices(3)] *= 3.0\ny", {"x": A},
     _np_write(A, np.triu_indices(3), A[np.triu_indices(3)] * 3)),
    ("y = x.copy()\nidx = (0, 1)\ny[idx] = 5.0\ny", {"x": A}, _np_write(A, (0, 1), 5.0)),
    ("y = x.copy()\nidx = (np.array([0, 2]), np.array([1, 1]))\ny[idx] = v[:2]\ny", {"x": A, "v": V3},
     _np_write(A, (np.array([0, 2]), np.array([1, 1])), V3[:2])),
    ("y = x.copy()\nnp.add.at(y, np.diag_indices(3), v)\ny", {"x": A, "v": V3},
     _np_write(A, np.diag_indices(3), V3, add=True)),
    ("y = x.copy()\nidx = ([0, 0], [1, 1])\nnp.add.at(y, idx, v[:2])\ny", {"x": A, "v": V3},
     _np_write(A, ([0, 0], [1, 1]), V3[:2], add=True)),
]


@pytest.mark.parametrize("code,inputs,expected", CASES, ids=[" ".join(c.split())[-45:] for c, _, _ in CASES])
def test_numpys_value_and_central_differences(code, inputs, expected):
    np.testing.assert_allclose(api.evaluate(code, inputs), expected, rtol=1e-13, atol=1e-15)
    assert_derivatives_are_central_differences(code, inputs)


# JAX's x.at[idx] with an index tuple made by a call: values from NumPy's equivalents
AT = [
    ("x.at[jnp.diag_indices(3)].set(0.0)", _np_write(A, np.diag_indices(3), 0.0)),
    ("x.at[jnp.diag_indices_from(x)].add(x[0])", _np_write(A, np.diag_indices(3), A[0], add=True)),
    ("x.at[jnp.tril_indices(3, -1)].multiply(2.0)",
     _np_write(A, np.tril_indices(3, -1), A[np.tril_indices(3, -1)] * 2)),
    ("x.at[jnp.triu_indices_from(x, 1)].get() * 2", A[np.triu_indices(3, 1)] * 2),
    ("x.at[jnp.mask_indices(3, jnp.tril)].subtract(1.0)", _np_write(A, np.tril_indices(3), -1.0, add=True)),
    ("x.at[jnp.nonzero(jnp.eye(3))].max(0.0)", _np_write(A, np.diag_indices(3), np.maximum(np.diag(A), 0.0))),
    ("x.at[jnp.ix_(jnp.array([0, 2]), jnp.array([0, 1]))].min(x[1, :2])",
     _np_write(A, np.ix_([0, 2], [0, 1]), np.minimum(A[np.ix_([0, 2], [0, 1])], A[1, :2]))),
    ("idx = jnp.triu_indices(3, 1)\nx.at[idx].set(x[idx[::-1]])",
     _np_write(A, np.triu_indices(3, 1), A.T[np.triu_indices(3, 1)])),
    ("rows, cols = jnp.tril_indices(3)\nx.at[rows, cols].set(0.0, mode='drop', indices_are_sorted=True)",
     _np_write(A, np.tril_indices(3), 0.0)),
    ("x.at[jnp.array([0, 0, 2])].set(x[1, 1])", _np_write(A, np.array([0, 2]), A[1, 1])),  # one value, twice
    ("x.at[jnp.array([0, 0])].subtract(x[1])", _np_write(A, [0, 0], -A[1:2].repeat(2, 0), add=True)),
]


@pytest.mark.parametrize("code,expected", AT, ids=[" ".join(c.split())[-45:] for c, _ in AT])
def test_at_with_an_index_tuple(code, expected):
    np.testing.assert_allclose(api.evaluate(code, {"x": A}), expected, rtol=1e-13, atol=1e-15)
    assert_derivatives_are_central_differences(code, {"x": A})


@pytest.mark.parametrize("code,words", [
    ("x.at[jnp.array([0, 0])].set(x[:2])", "more than once, from different elements"),
    ("x.at[jnp.diag_indices(3)].apply(lambda t: t * 2)", "JAX has no derivative of it"),
    # JAX trusts these promises: broken, its result is undefined (a repeat multiplied once)
    ("x.at[jnp.array([0, 0])].multiply(x[1], unique_indices=True)", "unique_indices=True promises"),
    ("x.at[jnp.triu_indices(3)[::-1]].set(0.0, indices_are_sorted=True)", "indices_are_sorted=True promises"),
    ("y = x.copy()\ny[np.array([0, 0, 1]), np.array([1, 1, 2])] = v\ny", "more than once"),
    ("idx = [[0, 1], [1, 2]]\nx[idx]", "reads two ways"),
    ("jnp.sin(x[[jnp.array([0, 1]), jnp.array([1, 2])]])", "JAX refuses it"),
    ("x[np.mask_indices(3, np.diag)]", "jac reads mask_func np.triu or np.tril"),
    ("x[np.tril_indices_from(x[0])]", "must be 2-d"),
    ("x[np.indices((2, 3), dtype=np.int32)]", "drop dtype="),
    ("x[np.diag_indices(3)[0], x[0].argmax() + np.array([0, 1, 2])]", "one such array at a time"),
])
def test_refused_with_why(code, words):
    with pytest.raises(JacError) as err:
        api.evaluate(code, {"x": A, "v": V3})
    assert words in err.value.message
