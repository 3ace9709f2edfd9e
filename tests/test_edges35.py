"""Session 35 (h35-edges): the functions at the edges of their shapes, found by benchmarks/edges35_fuzz.py (every
name of the reference at empty, size-1 and 0-d shapes, negative axes, keepdim, orders 1-3).

Where jac answered and the library raises, jac now refuses: ``torch.dot`` of a 0-d tensor (jac gave a (1,) array
where PyTorch's dot is 0-d and refuses), ``np.inner`` / ``torch.inner`` of last axes 1 and 3 (jac broadcast the
1: ``np.inner(ones((2, 1)), ones(3))`` gave [0, 0] for zeros), ``np.vecdot`` of a (0,) and a (1,) (NumPy's gufunc
does not broadcast its contracted axis) and of a 0-d operand, a convolution whose weight has an empty axis
(``conv1d`` of a (1, 0, 0) input by a (1, 0, 0) weight gave a (1, 1, 1) zero, PyTorch (1, 0, 1)). The empty
Jacobians, Hessians and third derivatives PyTorch gives are jac's too (checked against torch.func)."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacShapeError
from jacobi_cli.tools import api

REFUSED = [  # (text, bindings, words of the message)
    ("torch.dot(a, b)", {"a": np.ones(1), "b": np.array(2.0)}, "1D tensors expected"),
    ("torch.dot(a, b)", {"a": np.ones((2, 2)), "b": np.ones((2, 2))}, "1D tensors expected"),
    ("torch.dot(a, b)", {"a": np.ones(0), "b": np.ones(1)}, "inconsistent tensor size"),
    ("np.inner(a, b)", {"a": np.zeros((2, 1)), "b": np.ones(3)}, "last axes"),
    ("a.inner(b)", {"a": np.zeros(0), "b": np.ones(1)}, "last axes"),
    ("torch.inner(a, b)", {"a": np.ones((1, 4)), "b": np.ones((3, 1))}, "last axes"),
    ("np.vecdot(a, b)", {"a": np.zeros(0), "b": np.ones(1)}, "contracted axes"),
    ("np.linalg.vecdot(a, b, axis=-1)", {"a": np.zeros((2, 1, 1)), "b": np.array(1.0)}, "at least one dimension"),
    ("np.vecdot(a, b)", {"a": np.zeros((0, 0)), "b": np.array(1.0)}, "at least one dimension"),
    ("torch.conv1d(a, a)", {"a": np.zeros((1, 0, 0))}, "empty axis"),
    ("F.conv1d(a, b)", {"a": np.ones((1, 2, 3)), "b": np.ones((0, 2, 2))}, "empty axis"),
    ("F.conv1d(a, b)", {"a": np.ones((1, 0, 3)), "b": np.ones((2, 0, 2))}, "empty axis"),
    ("F.conv2d(a, b)", {"a": np.ones((1, 2, 3, 3)), "b": np.ones((1, 2, 0, 2))}, "empty axis"),
]


@pytest.mark.parametrize("text, bindings, words", REFUSED)
def test_jac_refuses_where_the_library_raises(text, bindings, words):
    with pytest.raises(JacShapeError, match=words):
        api.evaluate(text, bindings)


def test_the_library_raises_at_each_refused_text():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    for text, bindings, _ in REFUSED:
        lib = np if text.startswith("np.") else torch
        scope = {"torch": torch, "F": F, "np": np}
        scope.update({k: (np.asarray(v) if lib is np else torch.tensor(v)) for k, v in bindings.items()})
        if "conv" in text and bindings["a"].shape[1] == 0:
            # no input channels: PyTorch answers with no output channel ((1, 0, 2) for a (2, 0, 2) weight, where
            # the sum over none is zeros (1, 2, 2); (1, 0, 1) for a (1, 0, 0) one): refused
            assert eval(text, scope).shape[1] == 0  # noqa: S307
            continue
        with pytest.raises(Exception):  # noqa: B017 - whatever the library raises
            eval(text, scope)  # noqa: S307


ANSWERED = [  # (text, bindings): what the libraries answer and jac with them
    ("torch.dot(a, b)", {"a": np.arange(3.0), "b": np.ones(3)}),
    ("torch.dot(a, b)", {"a": np.zeros(0), "b": np.zeros(0)}),
    ("np.dot(a, b)", {"a": np.ones(1), "b": np.array(2.0)}),
    ("np.inner(a, b)", {"a": np.ones((2, 3)), "b": np.ones((4, 3))}),
    ("np.inner(a, b)", {"a": np.ones((2, 0)), "b": np.ones((4, 0))}),
    ("np.vecdot(a, b)", {"a": np.arange(6.0).reshape(2, 3), "b": np.ones((1, 3))}),
    ("np.linalg.vecdot(a, b, axis=-2)", {"a": np.arange(6.0).reshape(2, 3), "b": np.ones((2, 1))}),
    ("F.conv1d(a, b)", {"a": np.arange(6.0).reshape(1, 2, 3), "b": np.ones((1, 2, 2))}),
]


@pytest.mark.parametrize("text, bindings", ANSWERED)
def test_the_edges_that_the_libraries_answer_jac_answers_as_they_do(text, bindings):
    got = api.evaluate(text, bindings)
    if text.startswith("np."):
        want = eval(text, {"np": np, **bindings})  # noqa: S307
    else:
        torch = pytest.importorskip("torch")
        import torch.nn.functional as F
        want = eval(text, {"torch": torch, "F": F, **{k: torch.tensor(v) for k, v in bindings.items()}}).numpy()  # noqa: S307
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12)


EMPTY = [  # (text, {name: shape}): the derivatives PyTorch gives at empty and size-1 shapes, of every order
    ("torch.sum(a, dim=-1)", {"a": (0, 3)}),
    ("torch.sum(a, dim=(0, -1), keepdim=True)", {"a": (2, 3, 0)}),
    ("a.mean(dim=-2)", {"a": (1, 4)}),
    ("torch.logsumexp(a, dim=-1)", {"a": (3, 0)}),
    ("torch.softmax(a, dim=-1)", {"a": (1, 1)}),
    ("torch.cumsum(a, -1)", {"a": (0,)}),
    ("torch.matmul(a, b)", {"a": (2, 0), "b": (0, 3)}),
    ("torch.mul(a, a)", {"a": (1, 0, 0)}),
    ("torch.linalg.det(a)", {"a": (0, 0)}),
    ("torch.prod(a, -1)", {"a": (2, 1, 1)}),
]


def _torch_derivatives(text, values, order):
    torch = pytest.importorskip("torch")
    names = list(values)

    def f(*xs):
        return eval(text, {"torch": torch, **dict(zip(names, xs))})  # noqa: S307
    xs = [torch.tensor(v) for v in values.values()]
    argnums = tuple(range(len(xs)))
    g = torch.func.jacrev(f, argnums=argnums)
    if order == 1:
        return [j.numpy() for j in g(*xs)]
    if order == 2:
        return [[h.numpy() for h in row] for row in torch.func.jacrev(g, argnums=argnums)(*xs)]
    return torch.func.jacrev(torch.func.jacrev(torch.func.jacrev(f)))(xs[0]).numpy()


@pytest.mark.parametrize("text, shapes", EMPTY)
def test_empty_and_size_one_derivatives_of_orders_one_to_three_are_pytorchs(text, shapes):
    pytest.importorskip("torch")
    rng = np.random.default_rng(35)
    values = {n: rng.uniform(0.2, 0.9, s) for n, s in shapes.items()}
    names = list(values)
    jac = api.jacobian(text, values)
    for n, want in zip(names, _torch_derivatives(text, values, 1)):
        assert jac[n].shape == want.shape
        np.testing.assert_allclose(jac[n], want, rtol=1e-10, atol=1e-12)
    hess = api.hessian(text, values)
    for i, row in enumerate(_torch_derivatives(text, values, 2)):
        for k, want in enumerate(row):
            got = hess[(names[i], names[k])]
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    if len(names) == 1:
        got, want = api.derivative(text, values, 3), _torch_derivatives(text, values, 3)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("text, shapes", EMPTY)
def test_a_compiled_function_gives_the_same_bits_at_every_call_at_the_edges(text, shapes):
    rng = np.random.default_rng(35)
    values = {n: rng.uniform(0.2, 0.9, s) for n, s in shapes.items()}
    f = api.compile(text, values)
    runs = []
    for _ in range(4):  # the first calls interpreted, then the planned / kernel path
        value, jac = f.value(values), f.jacobian(values)
        runs.append([(value.shape, value.tobytes())] + [(jac[n].shape, jac[n].tobytes()) for n in sorted(jac)])
    assert all(r == runs[0] for r in runs)
