"""The thirty-fourth session's lead work: a copy of a Python list is a list of its own (``list(l)``, ``l[:]``), and
``list(x)`` is Python's list (its items written as a list's, ``isinstance(a, list)``), each checked against Python
running the same text; the same text without the copy is still refused (a write seen through another name)."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

X = np.array([1.5, -2.0])

COPIES = [
    "l = [0.0, 0.0]\na = list(l)\na[0] = x[0] * x[1]\ny = sum(a) + 3 * sum(l)",
    "l = [0.5, 0.25]\na = l[:]\na[1] = x[0] ** 2\ny = sum(a) * sum(l)",
    "l = [0.0, 1.0]\ndef f(a, v):\n    a = list(a)\n    a[0] = v\n    return sum(a)\ns = f(l, x[0])\ny = s + sum(l) * x[1]",
    "import numpy as np\nl = np.zeros(2)\na = list(l)\na[0] = x[0]\ny = sum(a) + l.sum() + x[1]",
    "import numpy as np\nl = np.ones((2, 2))\na = list(l)\na[0] = x\ny = sum(a[0] * a[1]) + l.sum()",
    "a = list(x)\ny = isinstance(a, list) * 1.0 + a[0] * a[1]",
]


def _python(text: str, x) -> float:
    scope = {"x": np.array(x, dtype=float)}
    exec(text, scope)  # noqa: S102 - the test's own texts
    return float(scope["y"])


@pytest.mark.parametrize("text", COPIES)
def test_a_copy_of_a_list_is_its_own_list_as_in_python(text):
    expr = text + "\ny"
    assert float(api.evaluate(expr, {"x": X})) == pytest.approx(_python(text, X), rel=1e-15)
    J = api.jacobian(expr, {"x": X})["x"]
    np.testing.assert_allclose(J, central_jacobian(lambda v: np.array(_python(text, v)), X), rtol=1e-6, atol=1e-8)


def test_a_write_through_an_alias_of_a_list_is_seen_by_both_names_as_in_python():
    """Refused until session 38; h38-views reads an alias (a = l) as the same object, as Python does."""
    text = "l = [0.0, 0.0]\na = l\na[0] = x[0]\ny = sum(a) + sum(l)"
    assert float(api.evaluate(text + "\ny", {"x": X})) == pytest.approx(_python(text, X), rel=1e-15)
    np.testing.assert_allclose(api.jacobian(text + "\ny", {"x": X})["x"], [2.0] + [0.0] * (len(X) - 1))


@pytest.mark.parametrize("text", [
    # an array's [:] is a view; of a constant with two axes longer than 1, whose layout jac does not know there
    "import numpy as np\nl = np.zeros((2, 2))\na = l[:]\na[0, 0] = x[0]\nsum(a[0]) + l.sum()",
    "import numpy as np\nl = np.zeros((2, 2))\na = list(l)\na[0][1] = x[0]\nsum(a[0]) + l.sum()",  # rows shared
    "import numpy as np\nl = np.zeros((2, 2))\na = tuple(l)\na[0] = x\nsum(a[0])",  # Python's TypeError
])
def test_a_write_python_would_see_elsewhere_is_still_refused(text):
    with pytest.raises(JacError):
        api.evaluate(text, {"x": X})


def test_a_write_through_a_view_of_a_constant_vector_is_seen_by_both_names_as_in_numpy():
    """Refused until session 54 (h54-alias follows a constant's views where it has one axis longer than 1)."""
    text = "import numpy as np\nl = np.zeros(2)\na = l[:]\na[0] = x[0]\ny = sum(a) + l.sum()"
    assert float(api.evaluate(text + "\ny", {"x": X})) == pytest.approx(_python(text, X), rel=1e-15)
    np.testing.assert_allclose(api.jacobian(text + "\ny", {"x": X})["x"], [2.0] + [0.0] * (len(X) - 1))


def test_batch_refusal_points_at_where_the_values_are_read():
    with pytest.raises(JacError) as found:
        api.jacobian("if x.sum() > 0:\n    y = x * 2\nelse:\n    y = -x\ny", {"x": np.array([[1.0, 2.0], [-3.0, 1.0]])},
                     batch=["x"])
    assert "cannot take batch" in found.value.message and found.value.position == 3


def test_a_list_of_modules_built_by_appends_stays_a_list_of_modules():
    text = ("import torch.nn as nn\nlayers = []\nlayers.append(nn.Linear(2, 2))\nlayers.append(nn.Tanh())\n"
            "m = nn.Sequential(*layers)\nm(x).sum()")
    f = api.compile(text, {"x": ":3x2"})  # refused after the list-of-lists reading: 'a container takes modules'
    d = f.declared
    x = np.arange(6.0).reshape(3, 2) / 5
    assert f.value({"x": x}) == pytest.approx(np.tanh(x @ d["m.0.weight"].T + d["m.0.bias"]).sum(), rel=1e-14)


def test_a_list_of_index_arrays_is_pytorchs_tuple_of_indices():
    S = np.arange(9.0).reshape(3, 3)
    rows, cols = np.tril_indices(3)
    found = api.evaluate("import torch\nS[list(torch.tril_indices(3, 3))] * 2", {"S": S})
    np.testing.assert_array_equal(found, S[rows, cols] * 2)
