"""Session 39 (h39-views): PyTorch in-place writes through views, the last false refusals (lang/views.py).

Each text is run by PyTorch (float64 leaves requiring grad, one backward pass per output element) and by jac: where
PyTorch answers, jac's value and Jacobian must be PyTorch's (bit for bit, or within 1e-12 where the two libraries'
``exp`` differ in the last bit); where PyTorch raises, jac must refuse (with PyTorch's words where it has them).
"""
from __future__ import annotations

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

A = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5], [-2.0, 1.0, 3.0]]
X = [0.5, -1.5, 2.0]
INPUTS = {"A": A, "x": X}
OVERLAP = "some elements of the input tensor and the written-to tensor refer to a single memory location"
MORE_THAN_ONE = "more than one element of the written-to tensor refers to a single memory location"
SAVED = "modified by an inplace operation"


def names(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def torch_run(text: str):
    """(value, {name: Jacobian}) as PyTorch computes them, or PyTorch's message."""
    torch = pytest.importorskip("torch")
    tree = ast.parse(text)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<text>", "eval")
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names(text)}
    try:
        scope = {"torch": torch, **leaves}
        exec(body, scope)  # noqa: S102 - PyTorch itself, on the test's own text
        y = eval(last, scope)  # noqa: S307
        jac = {k: np.zeros(tuple(y.shape) + tuple(v.shape)) for k, v in leaves.items()}
        flat = y.reshape(-1)
        for i in range(flat.numel()):
            grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
            for k, g in zip(leaves, grads):
                if g is not None:
                    jac[k].reshape(flat.numel(), -1)[i] = g.reshape(-1).numpy()
        return y.detach().numpy(), jac
    except RuntimeError as e:
        return str(e)


def jac_run(text: str):
    bindings = {k: np.array(INPUTS[k]) for k in names(text)}
    try:
        return np.asarray(api.evaluate(text, bindings)), api.jacobian(text, bindings)
    except JacError as e:
        return e.message


def same_as_pytorch(text: str, exact: bool = True) -> None:
    theirs, ours = torch_run(text), jac_run(text)
    assert not isinstance(theirs, str), theirs
    assert not isinstance(ours, str), ours
    pairs = [(theirs[0], ours[0])] + [(theirs[1][k], np.asarray(ours[1][k])) for k in theirs[1]]
    for a, b in pairs:
        if exact:
            assert a.shape == b.shape and np.array_equal(a, b), (text, a, b)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14, err_msg=text)


def refused_as_pytorch(text: str, words: str, ours_words: str | None = None) -> None:
    theirs, ours = torch_run(text), jac_run(text)
    assert isinstance(theirs, str) and words in theirs, theirs
    assert isinstance(ours, str) and (ours_words or words) in ours, ours


# --- 1. a write through a named view changes the tensor, and the other views see it -------------------------------

NAMED = ["d = t.diagonal(); d.mul_(2); t", "v = t[0]; v += 1; t", "r = t.view(9); r[0] = 5.0; t",
         "r = t.view(3, 3); r[0, 0] = 5.0; t", "u = t.T; u.add_(1); t", "s = t.narrow(0, 1, 2); s.zero_(); t",
         "c = t.unsqueeze(0); c.mul_(2); t", "d = t.diagonal(1); d.fill_(3.0); t", "d = torch.diagonal(t, -1); d.sub_(x[0]); t",
         "s = t.select(1, 0); s.copy_(x); t", "p = t.permute(1, 0); p[0] = x; t", "v = t[::2]; v.clamp_(min=0.0); t",
         "v = t.T[1:]; v *= 3; t", "v = t.view(-1)[2:5]; v.add_(x); t", "v = t[1:].diagonal(); v.mul_(x[:2]); t",
         "v = t.unflatten(1, (3, 1)); v.mul_(2); t", "v = t[None]; v[0, 1] = x; t", "v = t[...]; v.zero_(); t",
         "d = t.diagonal(); d.mul_(2); d", "v = t[1:]; v[0, 0] = 7.0; v[:, 1] *= 2; t",
         "d = t.diagonal(); w = d.unsqueeze(0); w.mul_(2); t", "v = t.T.diagonal(); v.add_(1); t"]


@pytest.mark.parametrize("form", NAMED)
def test_parity_a_write_through_a_named_view_changes_the_tensor(form):
    same_as_pytorch(f"t = torch.sin(A); {form}")


@pytest.mark.parametrize("form", ["d = t.diagonal(); t.mul_(3); d * 1", "d = t[0]; t[0, 1] = 7.0; d * 1",
                                  "d = t[0]; t += A; d * 1", "d = t.T; t.zero_(); d * 1", "d = t[0].expand(3, 3); t.mul_(2); d * 1",
                                  "d = t.view(9); t[1] = x; d * 1", "d = t.diagonal(); u = t[0]; u.add_(1); d * 1",
                                  "d = t[0]; e = d[1:]; e.mul_(3); torch.cat([d, e, t.reshape(-1)])",
                                  "d = t.diagonal(); u = t[0]; u.add_(1); d.mul_(2); torch.cat([u, d, t.reshape(-1)])"])
def test_parity_a_view_taken_before_a_write_sees_it(form):
    same_as_pytorch(f"t = torch.sin(A); {form}")


@pytest.mark.parametrize("text", [
    "t = A * 1; d = t[0]; t = A * 3; d.mul_(2); d",  # the old tensor, which t no longer names
    "t = A * 1; u = t; d = u[0]; d.mul_(2); torch.cat([u.reshape(-1), t.reshape(-1)])",  # an alias
    "t = A * 1; d = t[0]; e = d; e.mul_(2); torch.cat([d, t.reshape(-1)])",  # an alias of a view
    "t = A.clone(); d = t[0]; d.mul_(2); torch.cat([d, t.reshape(-1), A.reshape(-1)])",  # a clone lowered onto A's node
    "t = A.clone(); y3 = t; y4 = t[1:]; t.t_(); y4.add_(1); y3",  # a transpose in place, then a view's write
    "t = A * 2; u = t.T; t.t_(); t.mul_(2); t + u",
    "t = A * 1; d = t[0]; t.unsqueeze_(0); d.mul_(2); t",  # the shape changed in place, the buffer the same
    "t = torch.sin(A); d = t[0]; g = d.clone(); d.mul_(2); torch.cat([g, d])",  # a copy does not see it
    "t = torch.sin(A); v = t[0]\nfor i in range(2):\n    v.mul_(2)\nt",
])
def test_parity_views_aliases_and_copies(text):
    same_as_pytorch(text)


def test_an_exp_in_place_through_a_view_is_pytorchs_within_its_last_bit():
    """PyTorch's exp of a strided view and NumPy's differ in the last bit at some values: compared within 1e-12."""
    same_as_pytorch("t = torch.sin(A); v = t[0:2, 1:]; v.exp_(); t", exact=False)


@pytest.mark.parametrize("text", ["y = x * 2; z = y; w = z[1:]; y[0] = 1; torch.cat([z, w])",
                                  "y = x * 2; z = y[1:]; y[0] = 1; z", "y = x * 2; z = y.T; y.mul_(2); z"])
def test_parity_the_refusals_of_earlier_sessions_now_answered(text):
    same_as_pytorch(text)


def test_a_numpy_text_follows_numpys_views_by_index_and_transpose():
    a = np.array(A)
    got = api.evaluate("Y = A * 1; Z = Y.T; np.put_along_axis(Y, [[0], [2], [1]], 1.0, 1); Z * 1", {"A": a})
    y = a * 1
    z = y.T
    np.put_along_axis(y, np.array([[0], [2], [1]]), 1.0, 1)
    assert np.array_equal(got, z)
    got = api.evaluate("t = np.sin(A); v = t[:, 1]; v *= 2; t", {"A": a})
    t = np.sin(a)
    v = t[:, 1]
    v *= 2
    assert np.array_equal(got, t)


@pytest.mark.parametrize("text, words", [
    ("t = A * 1; v = t.view(9); v += 1; t", "shares its memory"),  # .view(9) read by NumPy as a dtype: not followed
    ("t = A * 1; v = t[0, 0]; v += 1; t", "shares its memory"),  # NumPy's scalar is a copy, PyTorch's 0-d a view
])
def test_a_text_naming_no_library_follows_only_the_views_numpy_makes_alike(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"A": np.array(A)})


# --- 2. in-place methods on unnamed views; on copies -------------------------------------------------------------

@pytest.mark.parametrize("form", ["t.diagonal().mul_(2)", "t.diagonal(1).add_(1)", "torch.diagonal(t).zero_()",
                                  "t.T.diagonal().exp_()", "t.diagonal().fill_(0.5)", "t.diagonal().copy_(x)",
                                  "t[1:].diagonal().mul_(x[:2])"])
def test_parity_an_in_place_method_on_an_unnamed_diagonal(form):
    same_as_pytorch(f"t = torch.sin(A); {form}; t", exact="exp_" not in form)


@pytest.mark.parametrize("form", ["t.flip(0).add_(1)", "torch.flip(t, [0]).mul_(2)", "t.roll(1, 0).add_(1)",
                                  "t.clone().add_(1)", "t.T.contiguous().add_(1)"])
def test_an_in_place_method_on_a_copy_is_refused_saying_nothing_changes(form):
    text = f"t = torch.sin(A); {form}; t"
    theirs = torch_run(text)
    assert not isinstance(theirs, str) and np.array_equal(theirs[0], np.sin(np.array(A)))  # PyTorch: t as it was
    ours = jac_run(text)
    assert isinstance(ours, str) and "changes nothing" in ours and "'t' stays as it was" in ours, ours


# --- 3. where PyTorch raises, jac refuses --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["t = torch.sin(A); e = t[0].expand(3, 3); e.add_(1); t",
                                  "t = torch.sin(A); e = t.expand(2, 3, 3); e.mul_(2); t",
                                  "t = torch.sin(A); t[0].expand(3, 3).mul_(2); t"])
def test_a_write_through_an_expanded_view_is_pytorchs_error(text):
    refused_as_pytorch(text, MORE_THAN_ONE)


def test_a_write_into_part_of_an_expanded_view_is_pytorchs():
    """Refused in jac's words until h39-views2: the part e[0] holds each element of t[0] once, which PyTorch writes
    (tests/test_views2_39.py has more forms, and the parts PyTorch refuses)."""
    same_as_pytorch("t = torch.sin(A); e = t[0].expand(3, 3); e[0] = 5.0; t")


@pytest.mark.parametrize("text", [
    "t = A * 1; d = t.diagonal(); d.mul_(d); t", "t = A.exp(); d = t.diagonal(); d.mul_(2); t",
    "y = x * 1; v = y[1:]; z = v.sin(); y.add_(1); z.sum()", "y = x * 1; v = y[1:]; z = v.sin(); v.add_(1); z.sum()",
    "y = x * 1; v = y[1:]; z = y.sin(); v.add_(1); z.sum()", "y = x * 1; v = y[1:]; z = v.sin(); y[0] = 5.0; z.sum()",
    "y = torch.sin(x); v = y[1:]; v.exp_(); v.add_(1); y.sum()", "y = torch.sin(x); v = y[1:]; v.sigmoid_(); y.mul_(2); y",
    "y = torch.sin(x); v = y[0]; w = v * v; y.add_(1); w",
    "y = x.exp(); y.add_(1); y.sum()", "y = x.sigmoid(); z = y * 2; y.mul_(2); (z + y).sum()",
    "y = x.sin(); z = y * y; y.add_(1); z.sum()", "y = x.tanh(); y.mul_(2); y.sum()", "y = x.relu(); y.mul_(2); y",
])
def test_a_write_into_a_tensor_saved_for_backward_is_pytorchs_error(text):
    refused_as_pytorch(text, SAVED)


@pytest.mark.parametrize("text", [
    "y = x * 2; z = y * 2; y.mul_(2); (z + y).sum()", "y = x.sin(); z = y + 1; y.add_(1); (z * y).sum()",
    "y = x * 1; v = y[1:]; z = v.exp(); y.add_(1); z.sum()", "y = x * 1; v = y[1:]; z = y.exp(); v.add_(1); z.sum()",
    "y = x * 1; v = y[1:]; z = v.exp(); y[0] = 5.0; z.sum()", "y = torch.sin(x); v = y[1:]; v.sigmoid_(); y * 1",
])
def test_parity_a_write_into_a_tensor_no_backward_reads(text):
    # sigmoid's slope is sech²(x/2) / 4 since session 51 (exact in its tail), PyTorch's σ(1 - σ): the last bits differ
    same_as_pytorch(text, exact="exp" not in text and "sigmoid" not in text)


@pytest.mark.parametrize("text", ["x.add_(1); x * 1", "v = x[1:]; v.add_(1); x * 1"])
def test_a_write_into_a_leaf_is_refused(text):
    refused_as_pytorch(text, "leaf Variable that requires grad", "leaf")


@pytest.mark.parametrize("text", ["t = torch.sin(A); a, b = t.chunk(2); a.add_(1); t",
                                  "t = torch.sin(A); r = t.unbind(0)[0]; r.mul_(2); t",
                                  "t = torch.sin(A); a, b = torch.split(t, 2); c = a[0]; c.mul_(2); t"])
def test_a_write_into_a_view_of_several_is_pytorchs_error(text):
    refused_as_pytorch(text, "function that returns multiple views")


def test_a_split_part_read_after_its_base_was_written_is_pytorchs_error():
    """PyTorch raises once a split part is read after its base was written, and answers where none is read: jac
    refused both until h39-views2, which answers the second (tests/test_views2_39.py)."""
    refused_as_pytorch("t = torch.sin(A); a, b = t.chunk(2); t.add_(1); a * 1", "its base or another view")


# --- 4. index_put_ and its overlap check ---------------------------------------------------------------------------

@pytest.mark.parametrize("form", [
    "t[[0, 1]] = t[[1, 0]]", "t[[0, 1]] = t[1:] * 1", "t[0, [0, 1]] = t[1, 1:]", "t[0, [1, 2]] = t[0, [0, 1]]",
    "t[[0]] = t[[1]]", "t[1:, [0, 1]] = t[0, :2]", "t[[0, 1], 1:] = t[2, 1:]", "t[[0, 2], 0] = t[1, :2]",
    "t[[0, 2], 0] = t[:2, 1]", "t[[0, 1]] = t[1:, [2, 1, 0]]", "t[t > 0.6] = t[0, 0]", "t[t > 0.6] += 1",
    "t[[0, 1]] += t[1:]", "t.index_put_((torch.tensor([0, 1, 2]),), t.flip(0))", "t[1, [0, 2]] = t[0, :2]",
    "t[:, [0, 2]] = t[:, 1:2] * 1"])
def test_parity_an_index_put_pytorch_answers(form):
    same_as_pytorch(f"t = torch.sin(A); {form}; t")


@pytest.mark.parametrize("form", [
    "t[[1]] = t[0:1]", "t[[0]] = t[1:2]", "t[[0, 1, 2]] = t", "t[[2, 1, 0]] = t", "t[[0]] = t[0]",
    "t[0, [0, 1]] = t[0, 1:]", "t[0, [1, 2]] = t[0, :2]", "t[:, [0, 1]] = t.T[:, 1:]", "t[[0, 1, 2]] = t.T",
    "t[t > 1] = t[0, :2]", "t[torch.tensor([True, False, True])] = t[1]", "t[[0, 1], [1, 2]] = t[2, :2]",
    "t.index_put_((torch.tensor([0, 1]),), t[1:])", "t.index_put_((torch.tensor([0, 1, 2]),), t)",
    "t.index_put_((torch.tensor([2, 1, 0]),), t, accumulate=True)", "t.index_add_(0, torch.tensor([0, 1, 2]), t)",
    "t.index_copy_(0, torch.tensor([2, 1, 0]), t)", "t.scatter_(0, torch.tensor([[1, 0, 2]]), t)"])
def test_an_index_put_pytorch_refuses_is_refused_with_its_words(form):
    refused_as_pytorch(f"t = torch.sin(A); {form}; t", OVERLAP)


@pytest.mark.parametrize("base", ["t = A.clone()", "t = torch.sin(A)"])
def test_a_text_calling_a_tensor_only_method_is_checked_as_pytorchs(base):
    """``A.clone()`` runs in PyTorch alone (NumPy's ndarray has no clone): its index_put_ gets PyTorch's check
    (answered as NumPy's buffered write until session 39)."""
    refused_as_pytorch(f"{base}; t[[1]] = t[0:1]; t", OVERLAP)


def test_an_operand_of_another_buffer_is_no_overlap():
    """``t = A.clone()`` is lowered onto A's node; A[2, 2] is no element of t's buffer."""
    same_as_pytorch("t = A.clone(); t.sub_(A[2, 2]); t[0] += A[1]; t")


def test_an_order_dependent_index_put_is_refused_in_jacs_words():
    """PyTorch answers t[[0, 1]] = t.T[:2] reading elements its loop already wrote: jac refuses, saying why."""
    ours = jac_run("t = torch.sin(A); t[[0, 1]] = t.T[:2]; t")
    assert isinstance(ours, str) and "depends on the order" in ours


def test_the_tensor_only_methods_are_pytorchs_alone():
    torch = pytest.importorskip("torch")
    from jacobi_cli.lang.parser import TENSOR_ONLY_METHODS
    assert all(hasattr(torch.Tensor, n) and not hasattr(np.ndarray, n) for n in TENSOR_ONLY_METHODS)


def test_the_cli_answers_a_diagonal_write():
    import contextlib
    import io
    import json

    from jacobi_cli.cli import entry
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = entry.main(["eval", "t = x * 1; d = t.diagonal(); d.mul_(2); t", "x=[[1.0, 2.0], [3.0, 4.0]]", "--json"])
    assert code == 0
    found = json.loads(out.getvalue())
    assert found["output"]["value"] == [[2.0, 2.0], [3.0, 8.0]]
    assert found["jacobian"]["x"]["value"][1][1] == [[0.0, 0.0], [0.0, 2.0]]
