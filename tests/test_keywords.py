"""A keyword jac does not know is refused, never dropped: `np.reshape(T, s, order='F')` once ignored its
`order` and answered the row-major reshape. Every function spelling (bare, torch., np., ...) and every
method is called with a made-up keyword on arrays it accepts; none may answer."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.lang.functions import FUNCTIONS, LIBRARY_FUNCTIONS
from jacobi_cli.tools import api

MODULE = {"torch": "torch", "numpy": "np", "scipy": "scipy.special", "jax": "jax.nn", "torch.linalg": "torch.linalg",
          "np.linalg": "np.linalg", "math": "math"}
VALUES = {"x": np.linspace(0.1, 0.9, 6), "A": np.linspace(0.1, 0.9, 12).reshape(3, 4) + np.eye(3, 4)}
FUNCTION_CALLS = sorted({f"{name}({{}})" for name in FUNCTIONS} |
                        {f"{MODULE[lib]}.{name}({{}})" for lib, name in LIBRARY_FUNCTIONS if lib in MODULE})
METHOD_CALLS = sorted({f"{{owner}}.{name}({{}})" for name in set(FUNCTIONS) | {n for _, n in LIBRARY_FUNCTIONS}
                       if name.isidentifier()})


def answers(expr: str) -> bool:
    try:
        api.evaluate(expr, VALUES)
    except JacError:
        return False
    return True


def test_the_sweep_reaches_the_vocabulary():
    assert len(FUNCTION_CALLS) > 400 and len(METHOD_CALLS) > 400
    assert answers("np.reshape(A, 12, order='C')") and answers("x.sum(axis=0)")  # real keywords do answer


@pytest.mark.parametrize("chunk", range(4))
def test_an_unknown_keyword_of_a_function_is_refused(chunk):
    wrong = [call.format(args + ", zzz_bogus=1") for call in FUNCTION_CALLS[chunk::4]
             for args in ("x", "A", "x, x", "A, A") if answers(call.format(args + ", zzz_bogus=1"))]
    assert wrong == []


@pytest.mark.parametrize("chunk", range(4))
def test_an_unknown_keyword_of_a_method_is_refused(chunk):
    wrong = [call.format(args + "zzz_bogus=1", owner=owner) for call in METHOD_CALLS[chunk::4]
             for owner, args in (("x", ""), ("A", ""), ("x", "x, "), ("A", "A, "), ("x", "2, "), ("A", "0, "))
             if answers(call.format(args + "zzz_bogus=1", owner=owner))]
    assert wrong == []
