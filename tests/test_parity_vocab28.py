"""Parity with PyTorch 2.13 and NumPy for the names session 28 read (lang/pasted.py): the dtype questions
(promote_types, can_cast, result_type) over every pair of the dtypes jac holds, the type questions
(is_floating_point, is_signed, is_same_size, is_nonzero), and PyTorch's own refusal of the removed functions."""

import itertools

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PAIRS = list(itertools.product(NAMES, NAMES))


def _truth(text, bindings=None, dtype="float64") -> bool:
    found = api.evaluate(text, bindings or {"x": np.ones(3)}, dtype=dtype)
    assert found.shape == () and found in (0.0, 1.0)
    return bool(found)


@pytest.mark.parametrize("first, second", PAIRS)
def test_promote_types_and_can_cast_are_the_libraries(first, second):
    theirs = str(torch.promote_types(getattr(torch, first), getattr(torch, second))).split(".")[1]
    assert _truth(f"torch.promote_types(torch.{first}, torch.{second}) == torch.{theirs}")
    assert not _truth(f"torch.promote_types(torch.{first}, torch.{second}) != torch.{theirs}")
    assert _truth(f"torch.can_cast(torch.{first}, torch.{second})") == \
        torch.can_cast(getattr(torch, first), getattr(torch, second))
    theirs = np.promote_types(first, second).name
    assert _truth(f"np.promote_types(np.{first}, np.{second}) == np.{theirs}")
    for casting in ("no", "equiv", "safe", "same_kind", "unsafe"):
        assert _truth(f"np.can_cast(np.{first}, np.{second}, casting='{casting}')") == \
            np.can_cast(first, second, casting=casting)


INTEGERS = ["bool", "uint8", "int8", "int16", "int32", "int64"]
OTHERS = [("2", 2), ("True", True), ("2.5", 2.5)] + \
    [(f"torch.tensor(1, dtype=torch.{n})", None) for n in INTEGERS] + \
    [(f"torch.ones(2, dtype=torch.{n})", None) for n in INTEGERS] + [("x", None), ("x.sum()", None)]


@pytest.mark.parametrize("first", [t for t, _ in OTHERS if t not in ("2", "True", "2.5")])
@pytest.mark.parametrize("other", [t for t, _ in OTHERS])
def test_torch_result_type_is_pytorchs(first, other):
    x = torch.ones(3, dtype=torch.float32)  # jac's float is --dtype: float32 here, as PyTorch's default
    theirs = torch.result_type(eval(first, {"torch": torch, "x": x}), eval(other, {"torch": torch, "x": x}))
    name = str(theirs).split(".")[1]
    assert _truth(f"torch.result_type({first}, {other}) == torch.{name}", dtype="float32")


@pytest.mark.parametrize("first", [f"np.ones(2, dtype=np.{n})" for n in INTEGERS] + ["x", "np.int8"])
@pytest.mark.parametrize("other", ["2", "True", "x", "np.int16", "np.float16"] +
                         [f"np.ones(2, dtype=np.{n})" for n in INTEGERS])
def test_numpy_result_type_is_numpys(first, other):
    x = np.ones(3)
    theirs = np.result_type(eval(first, {"np": np, "x": x}), eval(other, {"np": np, "x": x}))
    assert _truth(f"np.result_type({first}, {other}) == np.{theirs.name}")


@pytest.mark.parametrize("text", ["torch.is_floating_point(x)", "x.is_floating_point()", "torch.is_signed(x)",
                                  "torch.arange(3).is_floating_point()", "torch.is_signed(torch.arange(3))",
                                  "torch.is_signed(torch.arange(3, dtype=torch.uint8))", "(x > 0).is_signed()",
                                  "torch.is_floating_point(x > 0)", "torch.is_same_size(x, y)",
                                  "x.is_same_size(y.T)", "torch.is_same_size(x, x)", "x.sum().is_nonzero()",
                                  "(x[0, 0] - x[0, 0]).is_nonzero()", "x[:1, :1].is_nonzero()"])
def test_type_questions_are_pytorchs(text):
    x, y = torch.tensor([[1.5, -2.0], [0.0, 3.0]], dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
    theirs = eval(text, {"torch": torch, "x": x, "y": y})
    assert _truth(text, {"x": x.numpy(), "y": y.numpy()}) == theirs


@pytest.mark.parametrize("text", ["torch.solve(B, A)", "torch.lstsq(B, A)", "torch.symeig(A)", "torch.eig(A)",
                                  "torch.matrix_rank(A)", "B.solve(A)", "B.lstsq(A)", "A.symeig()", "A.eig()"])
def test_the_removed_functions_pytorch_refuses_are_refused_with_what_to_write(text):
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
        eval(text, {"torch": torch, "A": torch.eye(3), "B": torch.ones(3, 2)})
    with pytest.raises(JacError, match="was removed from PyTorch .*: .*write .*torch.linalg"):
        api.evaluate(text, {"A": np.eye(3), "B": np.ones((3, 2))})


def test_is_nonzero_of_several_elements_is_refused_as_pytorch_refuses():
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        torch.ones(2).is_nonzero()
    with pytest.raises(JacError, match="more than one value is ambiguous"):
        api.evaluate("x.is_nonzero()", {"x": np.ones(2)})
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        torch.ones(0).is_nonzero()
    with pytest.raises(JacError, match="no values is ambiguous"):
        api.evaluate("x.is_nonzero()", {"x": np.ones(0)})
