"""The twenty-second session's keyword readings that PyTorch shares, against PyTorch 2.13: ``hermitian=True``
reads the lower triangle (``torch.linalg.pinv``, values and derivatives, and ``torch.linalg.matrix_rank``), a sum
in bool is an or (``torch.sum(x, dtype=torch.bool)``), and ``torch.diff`` with ``n=0`` is x itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
rng = np.random.default_rng(2222)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_pinv_hermitian_of_a_symmetric_matrix(shape):
    a = rng.uniform(0.2, 0.9, shape)
    a = a + np.swapaxes(a, -1, -2)
    code = "torch.linalg.pinv(a, hermitian=True)"
    assert_parity(code, {"a": a}, lambda a: torch.linalg.pinv(a, hermitian=True))


def test_pinv_hermitian_reads_the_lower_triangle_of_a_nearly_symmetric_matrix():
    a = rng.uniform(0.2, 0.9, (3, 3))
    a = a + a.T + np.triu(np.full((3, 3), 1e-4), 1)
    theirs = torch.linalg.pinv(torch.tensor(a), hermitian=True).numpy()
    np.testing.assert_allclose(api.evaluate("torch.linalg.pinv(a, hermitian=True)", {"a": a}), theirs, rtol=1e-12)


def test_matrix_rank_hermitian_reads_the_lower_triangle():
    a = np.array([[1.0, 5.0], [0.5, 0.25]])  # rank 2; its lower triangle's symmetric matrix has rank 1
    theirs = torch.linalg.matrix_rank(torch.tensor(a), hermitian=True).item()
    assert theirs == 1
    assert api.evaluate("torch.linalg.matrix_rank(a, hermitian=True)", {"a": a}) == theirs


@pytest.mark.parametrize("code", ["torch.sum(x, dtype=torch.bool)", "torch.sum(x, 1, dtype=torch.bool)",
                                  "torch.nansum(x, 0, dtype=torch.bool)", "torch.diff(x, 0, prepend=x)"])
def test_values_as_pytorch(code):
    x = np.array([[0.3, 0.0, 1.9], [0.0, 0.0, 2.7]])
    theirs = eval(code, {"torch": torch}, {"x": torch.tensor(x)}).numpy()  # noqa: S307
    np.testing.assert_array_equal(api.evaluate(code, {"x": x}), theirs.astype(float))
