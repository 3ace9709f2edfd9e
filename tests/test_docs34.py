"""Messages a newcomer meets reading the docs (thirty-fourth session): a misspelt name of a library whose names
jac lists gets a "did you mean" (never a name the library has: SciPy's ellipj is no misspelt ellipk), and the
list of what jac reads leaves out the names it lists only to refuse them (scipy.linalg.sqrtm)."""

from __future__ import annotations

import pytest

from jacobi_cli.errors import JacNameError
from jacobi_cli.tools import api


def _message(text: str, **values) -> str:
    with pytest.raises(JacNameError) as found:
        api.evaluate(text, values or {"x": [1.0, 2.0]})
    return found.value.message


def test_a_misspelt_scipy_linalg_name_is_answered_with_the_one_meant():
    message = _message("scipy.linalg.cho_slove(x, x)")
    assert "unknown function 'scipy.linalg.cho_slove' (scipy.linalg has no such name); did you mean " \
           "'scipy.linalg.cho_solve'?" in message
    assert "jac reads" not in message  # a typo is answered with the one meant, not a list besides
    message = _message("scipy.linalg.foo(x, x)")  # no name near: the list of what jac reads
    reads = message.split("jac reads ", 1)[1].split(")", 1)[0].split("; it refuses", 1)[0].split(", ")
    assert "cho_solve" in reads and "lstsq" in reads
    assert not {"sqrtm", "logm", "lu", "eig", "eigvals", "kron", "cdf2rdf"} & set(reads)  # refused, not read


def test_a_name_scipy_has_gets_no_suggestion():
    # scipy.special.ellipj was the example until session 36 read it (every name of scipy.special is read or refused
    # saying why now): jax.lax's igamma_grad_a is JAX's, unread, and no misspelt igamma
    message = _message("jax.lax.igamma_grad_a(x, x)")
    assert "did you mean" not in message and "'jax.lax.igamma_grad_a' is not supported by jac" in message


def test_a_name_without_a_near_one_gets_no_suggestion():
    assert "did you mean" not in _message("scipy.linalg.foo(x)")


def test_a_misspelt_distribution_is_answered_with_the_one_meant():
    pytest.importorskip("torch")  # whether the name is PyTorch's is read in its installed source
    message = _message("torch.distributions.Normla(0.0, 1.0).log_prob(x)")
    assert "did you mean 'torch.distributions.Normal'?" in message
    # PyTorch's, unread (session 36 reads LKJCholesky): no suggestion of Exponential
    assert "did you mean" not in _message("torch.distributions.ExponentialFamily(x)")
