"""Parity for index tuples made by calls (tests/test_index26.py): JAX's ``x.at[idx]`` and reads run by JAX itself
(float64, its own process) and PyTorch's ``torch.tril_indices`` / list-of-tensors indexing and writes run by PyTorch
itself; jac's value, Jacobians and a VJP compared with theirs. (JAX differentiates .multiply / .divide by their values
only with unique_indices=True, which those texts say.)"""

import numpy as np
import pytest

from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2627)
A = rng.standard_normal((3, 3))
B = rng.standard_normal((2, 3))
V3 = rng.standard_normal(3)

JAX_TEXTS = [
    ("x.at[jnp.diag_indices(3)].set(0.0)", {"x": A}),
    ("x.at[jnp.diag_indices_from(x)].add(x[0])", {"x": A}),
    ("x.at[jnp.tril_indices(3, -1)].multiply(v, unique_indices=True)", {"x": A, "v": V3}),
    ("x.at[jnp.triu_indices_from(x, 1)].get() * 2", {"x": A}),
    ("x.at[jnp.mask_indices(3, jnp.tril)].subtract(1.0)", {"x": A}),
    ("x.at[jnp.mask_indices(3, jnp.triu, 1)].divide(v, unique_indices=True)", {"x": A, "v": V3 + 3}),
    ("x.at[jnp.nonzero(jnp.eye(3))].max(0.0)", {"x": A}),
    ("x.at[jnp.ix_(jnp.array([0, 2]), jnp.array([0, 1]))].min(x[1, :2])", {"x": A}),
    ("idx = jnp.triu_indices(3, 1)\nx.at[idx].set(x[idx[::-1]])", {"x": A}),
    ("rows, cols = jnp.tril_indices(3)\nx.at[rows, cols].set(0.0, mode='drop', indices_are_sorted=True)", {"x": A}),
    ("rows, cols = jnp.triu_indices(3, 1)\nidx = (rows, cols)\njnp.sin(x.at[idx].get()) + x[idx]", {"x": A}),
    ("x.at[jnp.array([0, 0, 2])].set(x[1, 1])", {"x": A}),
    ("x.at[jnp.array([0, 0])].subtract(x[1])", {"x": A}),
    ("x.at[jnp.array([1, 1]), jnp.array([2, 2])].set(s)", {"x": A, "s": 0.7}),
    ("x[jnp.tril_indices_from(x, -1)] ** 2", {"x": B}),
    ("x[tuple(jnp.indices(x.shape))] * x", {"x": B}),
    ("x[jnp.indices((2, 3), sparse=True)]", {"x": B}),
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[-45:] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, inputs)


TORCH_TEXTS = [
    ("i = torch.tril_indices(3, 3)\ntorch.sin(x[i[0], i[1]])", {"x": A}),
    ("i = torch.triu_indices(3, 3, 1)\nx[tuple(i)] * x[0, 0]", {"x": A}),
    ("y = x.clone()\ny[tuple(torch.triu_indices(3, 3))] = 0.0\ny * 2", {"x": A}),
    ("y = x.clone()\nr, c = torch.tril_indices(3, 3, -1)\ny[r, c] = v\ny", {"x": A, "v": V3}),
    ("y = x.clone()\nidx = (torch.tensor([0, 2]), torch.tensor([1, 1]))\ny[idx] = v[:2]\ny", {"x": A, "v": V3}),
    ("y = x.clone()\nidx = (0, 1)\ny[idx] = 5.0\ny", {"x": A}),
    ("i = torch.tensor([0, 2])\nj = torch.tensor([1, 1])\ntorch.sin(x[[i, j]])", {"x": A}),
    ("idx = [torch.tensor([0, 1]), torch.tensor([1, 2])]\ny = x.clone()\ny[idx] = v[:2]\ny", {"x": A, "v": V3}),
]


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[-45:] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_pytorch(torch64, code, inputs)
