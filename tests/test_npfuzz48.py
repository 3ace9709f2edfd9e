"""Session 48 (h48-npfuzz): what the NumPy / JAX differential fuzzers found with seeds 48xx, each checked
against the library where it is installed."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api


# np.linalg.tensorinv of an empty array: NumPy raises (its reshape(prod, -1) of size 0, or inv of an (n, 0)
# matrix); JAX and PyTorch answer the empty inverse, so only NumPy's spelling is refused.
@pytest.mark.parametrize("shape, ind", [((0, 0), 1), ((0, 2, 2, 0), 1), ((0, 2, 2, 0), 2), ((2, 0, 0), 2)])
def test_numpy_tensorinv_of_an_empty_array_is_refused_as_numpy_raises(shape, ind):
    with pytest.raises((ValueError, np.linalg.LinAlgError)):
        np.linalg.tensorinv(np.zeros(shape), ind)
    with pytest.raises(JacError, match="tensorinv of an empty array"):
        api.evaluate(f"np.linalg.tensorinv(A, {ind})", {"A": np.zeros(shape)})


@pytest.mark.parametrize("call", ["jnp.linalg.tensorinv", "torch.linalg.tensorinv"])
def test_jax_and_torch_tensorinv_of_an_empty_array_answer(call):
    torch = pytest.importorskip("torch")
    expected = torch.linalg.tensorinv(torch.zeros(0, 2, 2, 0), 2).shape
    assert api.evaluate(f"{call}(A, 2)", {"A": np.zeros((0, 2, 2, 0))}).shape == tuple(expected) == (2, 0, 0, 2)


def test_numpy_tensorinv_of_a_full_array_still_answers():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert np.allclose(api.evaluate("np.linalg.tensorinv(A, 1)", {"A": a}), np.linalg.tensorinv(a, 1))
