"""Session 57 (h57-fuzz): what the differential fuzzers with seeds 5701-5730 found in jac.

torchprog37_fuzz seed 5701: ``t1 = x * 1.0; t1 *= t1; t2 = t1[..., 1]; t3 = t2.sort(dim=0, ...)[0]; t4 =
t3.unbind(-1); ...`` was answered where PyTorch's backward raises (``t1 *= t1``: mul saves its operand t1, and the
write changes it). The text names no library, and jac checks a write against PyTorch's saved tensors only in a text
PyTorch alone runs, which it told by a short list of Tensor-only methods (``x.exp()``, ``t.clone()``): ``unbind`` and
a call with ``dim=`` were not on it. The list now holds every method jac reads that PyTorch's Tensor has and neither
NumPy's ndarray, JAX's Array nor Python's containers have, and a method call with a keyword only PyTorch's take.

torchprog37_fuzz seed 5707: ``t2, t3 = t1.split(2, dim=-2); t4 = t2[-1]; t4.t_()`` was answered where PyTorch
raises (a view of a view a function of several made is not written in place, its shape included); jac refused
``t4.mul_(2)`` but checked a shape write (``t_``, ``squeeze_``, ``unsqueeze_``, ``transpose_``) only into the part
itself. The tests named "guard" pass on main too; every other one fails there.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[-1.04, -0.67], [2.98, 0.59], [0.47, 0.069], [-1.24, -1.73]])
X3 = np.array([[[0.10, 0.18], [-1.17, 2.17], [0.118, -1.58]]])

SAVED_WRITTEN = [  # no library named; a Tensor-only method or keyword makes it PyTorch's
    "t1 = x * 1.0; t1 *= t1; t2 = t1[..., 1]; t3 = t2.sort(dim=0, descending=True, stable=True)[0]; "
    "t4 = t3.unbind(-1); t8 = t4[-1]; t2",
    "t1 = x * 1.0; t1 *= t1; t2 = t1.unbind(0); t1",
    "t1 = x * 1.0; t1 *= t1; t2 = t1.sort(dim=0)[0]; t1",
    "t1 = x * 1.0; t1 *= t1; t2 = t1.sum(0, keepdim=True); t1",
    "t1 = x * 1.0; t1 *= t1; t2 = t1.flip(0); t1",
    "t1 = x * 1.0; t1 *= t1; t2 = t1.chunk(2); t1",
    "t1 = x * 1.0; t1 *= t1; t2 = t1.roll(1, 0); t1",
]
ANSWERED = [  # PyTorch answers them: jac too, with its Jacobian
    "t1 = x * 1.0; t1 += t1; t2 = t1.unbind(0); t1",
    "t1 = x * 1.0; t1 *= 2; t2 = t1.flip(0); t2 * t1",
    "t1 = x * 1.0; u = t1.sort(dim=0)[0]; t1 += 1; u * 2",
]
SHAPE_WRITTEN = [  # a view of a part of split / unbind / chunk, its shape written in place
    "t1 = x.clone(); t1.add_(x); t2, t3 = t1.split(2, dim=-2); t4 = t2[-1]; t4.t_(); t4",
    "t1 = x.clone(); t1.add_(x); t2, t3 = t1.split(2, dim=-2); t4 = t2[0]; t4.unsqueeze_(0); t4",
    "t1 = x.clone(); t1.add_(x); t2, t3 = t1.split(2, dim=-2); t4 = t2[0].T; t4.unsqueeze_(0); t4",
    "t1 = x.clone(); t1.add_(x); t2, = t1.chunk(1, 1); t4 = t2[:, 0]; t4.transpose_(0, 1); t4",
]
SHAPE_ANSWERED = [  # guards: a tensor of its own made from a part
    "t1 = x.clone(); t1.add_(x); t2, t3 = t1.split(2, dim=-2); t4 = torch.stack((t2[0],)); t4.squeeze_(0); t4",
    "t1 = x.clone(); t1.add_(x); t2, t3 = t1.split(2, dim=-2); t4 = t2[0].clone(); t4.t_(); t4",
    "t1 = x.clone(); t4 = t1[0]; t4.t_(); t4",
]


def _torch_runs(text: str, x0: np.ndarray):
    """PyTorch's Jacobian of the text (its last expression) at x0, or the RuntimeError it raises."""
    import torch

    lines = [s.strip() for s in text.split(";")]

    def f(x):
        scope = {"torch": torch, "x": x}
        for line in lines[:-1]:
            exec(line, scope)
        return eval(lines[-1], scope)

    return torch.autograd.functional.jacobian(f, torch.tensor(x0, dtype=torch.float64)).numpy()


def _agrees(text: str, x0: np.ndarray) -> None:
    want = _torch_runs(text, x0)
    got = api.jacobian(text, {"x": x0})
    np.testing.assert_allclose(np.asarray(got["x"] if isinstance(got, dict) else got), want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("text", SAVED_WRITTEN)
def test_a_write_into_a_saved_operand_is_refused_in_a_text_pytorch_alone_runs(text):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _torch_runs(text, X)
    with pytest.raises(JacError, match="PyTorch's backward pass raises here"):
        api.jacobian(text, {"x": X})


@pytest.mark.parametrize("text", ANSWERED)
def test_guard_a_write_pytorch_answers_is_answered_with_its_jacobian(text):
    _agrees(text, X)


def test_the_tensor_only_methods_are_pytorchs_alone():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    from jacobi_cli.lang.parser import TENSOR_ONLY_METHODS, _TENSOR_ONLY_KEYWORDS
    others = set(dir(np.ndarray)) | set(dir(jnp.zeros(1))) | set(dir(list)) | set(dir(dict)) | set(dir(str)) \
        | set(dir(tuple)) | set(dir(set))
    assert all(hasattr(torch.Tensor, n) for n in TENSOR_ONLY_METHODS)
    assert not TENSOR_ONLY_METHODS - {"clone", "narrow", "unsqueeze", "expand", "expand_as", "movedim", "permute",
                                      "select", "t", "detach", "contiguous", "view_as", "unflatten", "index_put",
                                      "masked_fill", "index_fill", "index_add", "index_copy", "masked_scatter",
                                      "numel", "dim", "double", "float"} & others
    import inspect
    for method in ("sum", "max", "sort", "std", "var", "mean", "argmax", "cumsum"):
        for array in (np.zeros(1), jnp.zeros(1)):
            try:
                params = inspect.signature(getattr(array, method)).parameters
            except (TypeError, ValueError):
                continue
            assert not _TENSOR_ONLY_KEYWORDS & set(params), (type(array), method)


@pytest.mark.parametrize("text", SHAPE_WRITTEN)
def test_a_shape_write_into_a_view_of_a_part_of_several_is_refused(text):
    with pytest.raises(RuntimeError, match="returns multiple views"):
        _torch_runs(text, X3)
    with pytest.raises(JacError, match="function that returns multiple views"):
        api.jacobian(text, {"x": X3})


@pytest.mark.parametrize("text", SHAPE_ANSWERED)
def test_guard_a_shape_write_into_a_tensor_of_its_own_is_answered(text):
    _agrees(text, X3)
