"""Session 47 (h47-newcomer): what a PyTorch/JAX user stumbled on in an hour with batches, several outputs,
higher orders and suites (benchmarks/newcomer47_probe.py; benchmarks/RESULTS.md, "Forty-seventh session: a
newcomer's hour ...")."""
import numpy as np
import pytest


def test_derivative_is_importable_from_the_package_as_docs_api_lists_it():
    # docs/api.md lists derivative among the functions that take timeout=; `from jacobi_cli import derivative`
    # raised ImportError (only jacobi_cli.tools.api had it)
    from jacobi_cli import derivative
    from jacobi_cli.tools import api

    assert derivative is api.derivative
    assert [float(derivative("x**3", {"x": 2.0}, k)) for k in (1, 2, 3)] == [12.0, 12.0, 6.0]
    d = derivative("a = sin(x); b = sum(x**4); a, b", {"x": [1.0, 2.0]}, 3)
    assert set(d) == {"a", "b"} and d["b"].shape == (2, 2, 2)
    assert np.allclose(np.einsum("iii->i", d["b"]), 24 * np.array([1.0, 2.0]))
