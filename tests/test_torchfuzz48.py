"""What the differential fuzzers of PyTorch programs (benchmarks/torchprog37_fuzz.py, torchhigher38_fuzz.py,
torch_fuzz.py, views40_fuzz.py, index40_fuzz.py, detach39_fuzz.py) found with the forty-eighth session's seeds
(48xx), each checked against PyTorch itself:

- A. ``t1 = x.clone(); t1[1:, :1] *= t1`` where the slice holds no element: an internal error (KeyError 'input' in
  ir/saved.py's walk, which met the leaf the write of nothing left stale); PyTorch's backward raises there (mul saved
  t1, which the write changes), so jac refuses as it does for a slice that holds elements (torchprog37 seed 4813)."""

import numpy as np
import pytest

from jacobi_cli import evaluate, jacobian
from jacobi_cli.errors import JacError


def torch_raises(text: str, x) -> bool:
    """Whether PyTorch raises running ``text`` with ``x`` requiring grad, then backward from its last statement."""
    torch = pytest.importorskip("torch")
    leaf = torch.tensor(np.asarray(x, dtype=float), requires_grad=True)
    scope = {"torch": torch, "x": leaf}
    try:
        body, last = text.rsplit(";", 1)
        exec(f"{body}; out = {last}", scope)  # noqa: S102 - the test's own texts
        scope["out"].sum().backward()
    except RuntimeError:
        return True
    return False


X3 = [[[-1.59, 0.53, 1.57, -1.64]]]


@pytest.mark.parametrize("text", ["t1 = x.clone(); t1[1:, :1] *= t1; t1",
                                  "t1 = x.clone(); t1[1:] *= t1; t1"])
def test_a_write_in_place_of_no_element_keeping_its_own_tensor_is_refused_as_pytorch_backward_raises(text):
    assert torch_raises(text, X3)
    with pytest.raises(JacError, match="backward pass raises"):
        jacobian(text, {"x": X3})


def test_a_write_in_place_of_no_element_by_a_number_is_answered():
    value = evaluate("t1 = x.clone(); t1[1:, :1] *= 2; t1", {"x": X3})
    np.testing.assert_array_equal(value, np.asarray(X3))
