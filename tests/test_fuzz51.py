"""Session 51 (h51-fuzz): a write into a library's named tuple says what the text holds, and the differences the
fuzzers' new seeds found (benchmarks/RESULTS.md, "Fifty-first session")."""
from __future__ import annotations

import numpy as np
import pytest

X = [[0.5, 1.0, -0.2], [-0.3, 0.8, 0.4], [0.1, -0.6, 0.9]]


def _refusal(text: str) -> str:
    from jacobi_cli import evaluate
    from jacobi_cli.errors import JacError

    with pytest.raises(JacError) as caught:
        evaluate(text, {"x": X})
    return str(caught.value)


# --- a named tuple's array written: "held in the list 'p'" named a list the text never made -----------------------

NAMED = [  # (how the text makes p, the fields PyTorch / NumPy name)
    ("torch.linalg.slogdet(x)", "sign, logabsdet"),
    ("torch.linalg.eigh(x + x.T)", "eigenvalues, eigenvectors"),
    ("torch.linalg.qr(x)", "Q, R"),
    ("torch.linalg.svd(x)", "U, S, Vh"),
    ("torch.linalg.lu_factor(x)", "LU, pivots"),
    ("torch.linalg.lu(x)", "P, L, U"),
    ("torch.linalg.inv_ex(x)", "inverse, info"),
    ("np.linalg.eigh(x + x.T)", "eigenvalues, eigenvectors"),
    ("np.linalg.svd(x)", "U, S, Vh"),
    ("np.linalg.slogdet(x)", "sign, logabsdet"),
    ("torch.sort(x)", "values, indices"),
    ("torch.max(x, 0)", "values, indices"),
    ("torch.aminmax(x)", "min, max"),
]


@pytest.mark.parametrize("made, fields", NAMED)
@pytest.mark.parametrize("write", ["p[0][...] = 1", "p[0][0] = 1"])
def test_a_write_into_an_array_of_a_named_tuple_names_the_named_tuple(made, fields, write):
    """``p = torch.linalg.slogdet(x); p[0][...] = 1`` said "p[0] is an array held in the list 'p'" (jac holds a
    library's named tuple as its list of arrays): PyTorch's and NumPy's result is a named tuple, and the way out is to
    unpack it by its fields."""
    message = _refusal(f"p = {made}\n{write}\np[1]")
    assert "list 'p'" not in message, message
    assert f"'p' is a named tuple ({fields}) of arrays" in message, message
    assert f"name its arrays where it is made ({fields} = ...)" in message, message


@pytest.mark.parametrize("text, fields", [
    ("p = torch.linalg.slogdet(x)\np.sign[...] = 1\np[1]", "sign, logabsdet"),
    ("p = torch.linalg.svd(x)\np.U[0, 0] = 1\np[1]", "U, S, Vh"),
    ("p = torch.aminmax(x)\np.min[...] = 1\np[1]", "min, max"),
    ("p = torch.linalg.svd(x)\np.U.add_(1)\np[1]", "U, S, Vh"),
    ("p = torch.sort(x)\np.values.mul_(2)\np[1]", "values, indices"),
])
def test_a_write_into_a_named_field_names_the_named_tuple(text, fields):
    """``p.sign[...] = 1`` was "only a name can be written into", and ``p.U.add_(1)`` spoke of "a layer's
    parameters" (the words for ``fc.weight.add_``): both are a named tuple's array, which PyTorch writes into."""
    message = _refusal(text)
    assert "layer" not in message and "only a name" not in message, message
    assert f"'p' is a named tuple ({fields}) of arrays" in message, message


@pytest.mark.parametrize("write", ["p[0] = x * 2", "p[0] += 1"])
def test_an_item_of_a_named_tuple_assigned_is_pythons_type_error(write):
    """``p[0] = v`` of a tuple is Python's TypeError (``torch.return_types.linalg_slogdet`` does not support item
    assignment; ``p[0] += 1`` raises it too, after the array's own in-place add), which the refusal now says."""
    message = _refusal(f"p = torch.linalg.slogdet(x)\n{write}\np[1]")
    assert "'p' is a named tuple (sign, logabsdet) of arrays, whose items Python does not assign" in message, message
    assert "make it a list (p = list(p))" in message, message


def test_an_in_place_method_on_a_tuples_item_offers_to_unpack_it():
    """``p[0].add_(1)`` is PyTorch's write into the array (no TypeError): the refusal offers the unpacking by the
    fields beside the list."""
    message = _refusal("p = torch.linalg.slogdet(x)\np[0].add_(1)\np[1]")
    assert "'p' is a named tuple (sign, logabsdet) of arrays" in message, message
    assert "(sign, logabsdet = ...)" in message and "whose items Python does not assign" not in message, message


@pytest.mark.parametrize("text", [
    "s, l = torch.linalg.slogdet(x)\nl2 = l * 1\ns2 = s.clone()\ns2[...] = 2\nl2 * s2",
    "p = list(torch.linalg.slogdet(x))\np[0] = p[0] * 2\np[0] * p[1]",
    "v, i = torch.sort(x)\nv[0, 0] = 1\nv",
])
def test_the_ways_out_the_refusals_name_are_answered(text):
    """What the messages tell to write is answered, as PyTorch answers it."""
    import torch
    from jacobi_cli import evaluate

    got = evaluate(text, {"x": X})
    ns = {"torch": torch, "np": np, "x": torch.tensor(X, dtype=torch.float64)}
    lines = text.split("\n")
    exec("\n".join(lines[:-1]), ns)
    want = eval(lines[-1], ns)
    np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=1e-12)


# --- nan41 seed 5011's cdist(p=inf) and logsumexp: jac is right; pinned -----------------------------------------

def test_cdist_inf_of_one_coordinate_pair_twice_is_that_distance():
    """nan41 5011: ``torch.cdist(x.reshape(2, 2), torch.flip(x, [0]).reshape(2, 2), p=inf)``: the distance of rows
    (x0, x1) and (x1, x0) is max(|x0 - x1|, |x1 - x0|) = |x0 - x1|, smooth where x0 != x1: derivative (1, -1) at
    x0 > x1. PyTorch's cdist backward gives each tied coordinate the whole derivative, (2, -2); jac shares a tie
    as ``vector_norm(., inf)`` and ``pairwise_distance`` do, which here is the derivative. Central differences say
    which."""
    from jacobi_cli import jacobian

    text = "torch.cdist(x.reshape(2, 2), torch.flip(x, [0]).reshape(2, 2), p=float('inf')).reshape(-1)"
    x = np.array([1.0, -1.0, 5e-324, 2.0])
    J = np.asarray(jacobian(text, {"x": x})["x"])
    h = 1e-6
    f = lambda v: np.abs(v.reshape(2, 1, 2) - v[::-1].reshape(1, 2, 2)).max(-1).reshape(-1)  # noqa: E731
    central = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(J[1], central[1], atol=1e-8)  # rows 1 and 2: |x0 - x1|, |x2 - x3|
    np.testing.assert_allclose(J[2], central[2], atol=1e-8)
    np.testing.assert_allclose(J[1], [1.0, -1.0, 0.0, 0.0])


def test_logsumexp_of_tied_huge_values_has_a_gradient_summing_to_one():
    """nan41 5011: ``torch.logsumexp`` of [-1.5, -0.75, 5e307, 5e307]: the gradient is softmax, (0, 0, 0.5, 0.5) (JAX's
    too). PyTorch's exp(x - logsumexp(x)) gives (0, 0, 1, 1): logsumexp = 5e307 + log 2 rounds to 5e307."""
    from jacobi_cli import jacobian

    for m in ([-1.5, -0.75, 5e307, 5e307], [1e308, 1e308, 1e308], [-1e308, -1e308]):
        g = np.asarray(jacobian("torch.logsumexp(m, 0)", {"m": np.array(m)})["m"])
        assert abs(g.sum() - 1.0) < 1e-15, (m, g)


# --- edges35 seed 5113: PyTorch's negative-order norm of an empty tensor raises; jac answered NumPy's inf ---------

@pytest.mark.parametrize("text, shape", [
    ("torch.norm(a, -1)", (0,)), ("torch.norm(a, -2)", (0, 3)), ("a.norm(-2)", (2, 3, 0)),
    ("torch.linalg.norm(a, -1)", (0,)), ("torch.linalg.vector_norm(a, -0.5)", (0, 3)),
    ("torch.linalg.vector_norm(a, -1, dim=1)", (2, 0)), ("torch.dist(a, a, -1)", (0,)),
])
def test_a_negative_order_torch_norm_of_an_empty_reduction_is_refused_as_pytorch_raises(text, shape):
    """``torch.norm(a, -1)`` of an empty ``a`` was inf, NumPy's (sum of nothing)^(-1); PyTorch raises
    ("cannot compute the -1 norm on an empty tensor because the operation does not have an identity")."""
    import torch
    from jacobi_cli import evaluate
    from jacobi_cli.errors import JacError

    a = np.zeros(shape)
    with pytest.raises(RuntimeError, match="cannot compute the"):
        eval(text, {"torch": torch, "a": torch.tensor(a)})
    with pytest.raises(JacError, match="PyTorch cannot compute the -?[0-9.]+ norm on"):
        evaluate(text, {"a": a})


@pytest.mark.parametrize("text, shape, want", [
    ("np.linalg.norm(a, -1)", (0,), np.inf), ("torch.linalg.vector_norm(a, -1, dim=0)", (2, 0), np.zeros(0)),
    ("torch.norm(a, -1)", (3,), None), ("torch.linalg.vector_norm(a, 1)", (0,), 0.0),
])
def test_the_norms_pytorch_and_numpy_answer_are_answered(text, shape, want):
    """NumPy's inf, a reduction over a dimension that is not empty, a vector that is not empty, an ord >= 0."""
    import warnings
    from jacobi_cli import evaluate

    a = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = np.asarray(evaluate(text, {"a": a}))
    if want is None:
        want = 1.0 / np.sum(1.0 / np.abs(a))
    np.testing.assert_allclose(got, want)
