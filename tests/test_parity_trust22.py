"""Parity with PyTorch 2.13 for what the twenty-second session fixed: torch.linalg.matrix_rank of a vector is
refused as PyTorch refuses it, and a matrix's rank is PyTorch's (tests/test_rank22.py has NumPy's vector rule)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("x", [[1e-3, 2e-3], [0.0, 0.0], [[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1e-20]],
                               np.arange(24.0).reshape(2, 3, 4)])
def test_torch_matrix_rank_answers_or_refuses_as_pytorch(x):
    x = np.asarray(x)
    try:
        expected = torch.linalg.matrix_rank(torch.tensor(x)).numpy()
    except RuntimeError:
        with pytest.raises(JacError, match="needs at least 2 dimensions"):
            api.evaluate("torch.linalg.matrix_rank(x)", {"x": x})
        return
    assert np.array_equal(api.evaluate("torch.linalg.matrix_rank(x)", {"x": x}), expected)
