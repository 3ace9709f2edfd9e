"""Answers where the library raises (session 35): jac refuses, in the library's words, what PyTorch, NumPy or JAX
refuse (a tensor autograd saved changed in place, an in-place result of another dtype, a PyTorch text's operators of
bool tensors, a write into a JAX array), and keeps answering what they answer. Parity tests run the library itself and
skip without it; benchmarks/raises35_probe.py is the wider differential probe."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.ir import saved
from jacobi_cli.tools import api

P = np.array([0.5, 1.5, 2.0])
Y = np.array([1.0, 2.0, -0.5])
A = np.array([[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0], [2.0, -0.5, 1.0]])
INPUTS = {"p": P, "y": Y, "A": A}
PYTORCH_WORDS = "modified by an inplace operation"


def bound(text: str) -> dict:
    return {k: v for k, v in INPUTS.items() if k in text.replace("torch", "").replace("np.", "")}


def refused(text: str) -> str | None:
    """jac's refusal of ``text`` (its Jacobian), or None where it answers."""
    try:
        api.jacobian(text, bound(text))
    except JacValueError as err:
        return err.message
    return None


def torch_raises(text: str) -> bool:
    """Does PyTorch raise for ``text`` (float64 inputs requiring grad, backward of the output's sum)?"""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    scope = {"torch": torch, "F": F, **{k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                                         for k, v in bound(text).items()}}
    *body, last = text.split("; ")
    try:
        exec("\n".join(body), scope)  # noqa: S102 - the test's own texts
        out = eval(last, scope)  # noqa: S307
        out.sum().backward()
    except RuntimeError:
        return True
    return False


# --- PyTorch's saved tensors (ir/saved.py) ------------------------------------------------------------------------

UNARY = sorted(set(saved.SAVES) - {"mul", "multiply", "div", "divide", "true_divide", "matmul", "mm", "mv", "dot",
                                   "pow", "arctan"})
SAVES_RESULT = {name for name in UNARY if saved.SAVES[name] in saved.RESULT}


@pytest.mark.parametrize("name", UNARY)
def test_a_write_into_the_result_is_refused_where_the_op_saves_it(name):
    text = f"h = torch.{name}(p); h.add_(1); h.sum()"
    message = refused(text)
    assert (message is not None) == (name in SAVES_RESULT), message
    if message is not None:
        assert PYTORCH_WORDS in message and f"saved 'h' (its result)" in message


@pytest.mark.parametrize("name", UNARY)
def test_a_write_into_the_argument_is_refused_where_the_op_saves_it(name):
    text = f"h = p.clone(); g = h.{name}(); h.add_(1); g.sum()"
    message = refused(text)
    assert (message is not None) == (name not in SAVES_RESULT), message
    if message is not None:
        assert f"saved 'h' (its argument)" in message


@pytest.mark.parametrize("name", UNARY)
def test_parity_the_table_is_what_pytorch_saves(name):
    """Each entry of the documented set, against PyTorch itself: a write into the result raises in backward exactly
    for the ops that save their result, a write into the argument exactly for those that save their argument."""
    result = f"h = torch.{name}(p); h.add_(1); h"
    argument = f"h = p.clone(); g = torch.{name}(h); h.add_(1); g"
    assert torch_raises(result) == (name in SAVES_RESULT)
    assert torch_raises(argument) == (name not in SAVES_RESULT)
    assert (refused(result + ".sum()") is not None) == torch_raises(result)
    assert (refused(argument + ".sum()") is not None) == torch_raises(argument)


PRODUCTS = ["h * y", "y * h", "h * 2", "2 * h", "h * c", "h / y", "y / h", "h / 2", "2 / h", "h / c", "c / h",
            "h ** 2", "h ** c", "2 ** h", "h @ A", "A @ h", "torch.dot(h, y)", "torch.mul(h, y)", "torch.div(y, h)",
            "torch.matmul(A, h)", "torch.mv(A, h)", "h.mul(y)", "h.dot(y)", "h + y", "h - y", "h.sum()", "h * h"]


@pytest.mark.parametrize("g", PRODUCTS)
@pytest.mark.parametrize("written", ["h", "c"])
def test_parity_products_save_an_operand_where_the_other_requires_grad(g, written):
    """h requires grad, c (a constant tensor) does not: mul keeps c where h requires grad, div keeps h where h is
    the divisor (2 / h is PyTorch's reciprocal(h) * 2: nothing named kept), a power keeps its base and exponent
    (2 ** h too, which jac lowers with C's pow rules: read off the call since session 36, ir/saved.KEPT)."""
    text = f"h = p.clone(); c = torch.ones(3) * 2; g = {g}; {written}.add_(1); g"
    assert (refused(text + ".sum()") is not None) == torch_raises(text)


@pytest.mark.parametrize("text", [
    "h = torch.exp(p); h2 = h.clone(); h2.add_(1); h.sum()",  # a copy is a buffer of its own
    "h = p.clone(); g = torch.sin(p); h.add_(1); g.sum()",  # sin kept p, not h
    "h = torch.exp(p); h.add_(1); p.sum()",  # exp is not on the output's backward path
    "h = torch.exp(p); g = h.sum(); h.add_(1); g.detach() + p.sum()",  # nor through detach
    "h = torch.exp(p); h = h + 1; h.sum()",  # a new tensor, not a write
    "h = p * 1; h.sin_(); h.sum()",  # sin_ keeps a copy of the value it overwrites
    "h = torch.exp(p); h.add_(1); torch.where(h > 2, 1.0, 0.0).sum() + p.sum()",  # a mask has no backward
    "h = torch.relu(p * 1); g = torch.sin(p); g.add_(1); h.sum()",  # relu kept its result; g is sin's, unsaved
])
def test_writes_pytorch_backward_takes_are_answered(text):
    assert refused(text) is None
    if "torch" in text:
        assert not torch_raises(text.rsplit(".sum()", 1)[0] if text.endswith(".sum()") else text)


@pytest.mark.parametrize("text", [
    "h = torch.exp(p); h += 1; h.sum()",
    "h = torch.exp(p); h[0] = 0.0; h.sum()",
    "h = torch.exp(p); g = h * 2; h.mul_(3); g.sum()",
    "h = torch.tanh(p); g = torch.softmax(h, 0); h.add_(1); g.sum()",
    "h = p * 1; h.exp_(); h.add_(1); h.sum()",
    "h = p.clone(); c = torch.ones(3); g = h * c; c.add_(1); g.sum()",
    "h = torch.exp(p).T; h.add_(1); h.sum()",
])
def test_writes_pytorch_backward_refuses_are_refused(text):
    assert PYTORCH_WORDS in (refused(text) or "")


def test_the_refusal_is_at_the_write_with_a_caret():
    from jacobi_cli.cli import entry
    import contextlib
    import io
    import json
    text = "h = torch.exp(x); h.add_(1); h.sum()"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["eval", text, "x=[1, 2]", "--json"])
    error = json.loads(out.getvalue())["error"]
    assert code == 2 and error["kind"] == "value" and PYTORCH_WORDS in error["message"]
    assert text[error["position"]:].startswith("add_")
    assert "Traceback" not in err.getvalue()


def test_a_numpy_text_writes_into_a_result_as_numpy_does():
    text = "h = np.exp(p); h += 1; np.sum(h * p)"
    assert np.allclose(api.jacobian(text, {"p": P})["p"], np.exp(P) * P + np.exp(P) + 1)


def test_parity_a_refused_text_raises_in_pytorch():
    assert torch_raises("h = torch.exp(p); h.add_(1); h")


# --- PyTorch's in-place methods keep the dtype -------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("y = p.long(); y.add_(0.5); y * p", "result type Float can't be cast to the desired output type Long"),
    ("y = p.int(); y.mul_(p); y * p", "result type Double can't be cast to the desired output type Int"),
    ("y = (p > 1); y.add_(1); y * p", "result type Long can't be cast to the desired output type Bool"),
    ("y = (p > 1); y.mul_(1.5); y * p", "result type Float can't be cast to the desired output type Bool"),
    ("y = p.long(); y.clamp_(0.5, 1.5); y * p", "can't be cast to the desired output type Long"),
])
def test_an_in_place_result_of_another_dtype_is_refused(text, words):
    assert words in (refused(text) or "")


@pytest.mark.parametrize("text", ["y = p.long(); y.add_(0.5); y * p", "y = (p > 1); y.add_(1); y * p",
                                  "y = p.long(); y.add_(1); y * p", "y = p.long(); y.clamp_(0, 1); y * p",
                                  "y = p.long(); y.mul_(2); y * torch.sin(p)"])
def test_parity_in_place_dtypes(text):
    torch = pytest.importorskip("torch")
    raises = torch_raises(text)
    assert (refused(text) is not None) == raises
    if not raises:
        t = torch.tensor(P, dtype=torch.float64)
        scope = {"torch": torch, "p": t}
        *body, last = text.split("; ")
        exec("\n".join(body), scope)  # noqa: S102
        assert np.allclose(api.evaluate(text, {"p": P}), eval(last, scope).numpy())  # noqa: S307


# --- a PyTorch text's operators of bool tensors --------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("torch.sin(p) - (p > 1)", "Subtraction, the `-` operator, with a bool tensor is not supported"),
    ("((p > 1) - 1) * torch.sin(p)", "Subtraction, the `-` operator, with a bool tensor is not supported"),
    ("((p > 1) - (p < 2)) * torch.sin(p)", "with two bool tensors is not supported"),
    ("-(p > 1) * torch.sin(p)", "Negation, the `-` operator, on a bool tensor is not supported"),
    ("((p > 1) ** (p > 0)) * torch.sin(p)", "\"pow\" not implemented for 'Bool'"),
    ("torch.pow(p > 1, p > 0) * p", "\"pow\" not implemented for 'Bool'"),
    ("((p > 1) // (p > 0)) * torch.sin(p)", "\"div_floor_cpu\" not implemented for 'Bool'"),
    ("(+(p > 1)) * torch.sin(p)", "The `+` operator, on a bool tensor is not supported."),
    ("(+(p > 1)) * np.sin(p)", "ufunc 'positive'"),
])
def test_bool_operators_refused_as_the_library_refuses_them(text, words):
    assert words in (refused(text) or "")


@pytest.mark.parametrize("text", ["torch.sin(p) - (p > 1)", "((p > 1) - 1) * torch.sin(p)", "-(p > 1) * torch.sin(p)",
                                  "((p > 1) ** 2) * torch.sin(p)", "((p > 1) / (p > 0)) * torch.sin(p)",
                                  "((p > 1) + (p < 2)) * torch.sin(p)", "torch.sin(p) * (p > 1) * 2"])
def test_parity_torch_bool_operators(text):
    torch = pytest.importorskip("torch")
    raises = torch_raises(text)
    assert (refused(text) is not None) == raises
    if not raises:
        value = eval(text, {"torch": torch, "p": torch.tensor(P, dtype=torch.float64)})  # noqa: S307
        assert np.allclose(api.evaluate(text, {"p": P}), value.numpy())


@pytest.mark.parametrize("text", ["np.sin(p) - (p > 1)", "((p > 1) - 1) * np.sin(p)", "(p > 1) - p"])
def test_numpy_reads_a_mask_minus_a_number(text):
    with np.errstate(all="ignore"):
        want = eval(text, {"np": np, "p": P})  # noqa: S307
    assert np.allclose(api.evaluate(text, {"p": P}), want)


# --- JAX arrays are immutable --------------------------------------------------------------------------------------

JAX_WORDS = "JAX arrays are immutable and do not support in-place item assignment"


@pytest.mark.parametrize("text", ["y = jnp.exp(p); y[0] = 0.0; y", "y = jnp.zeros(3); y[0] = p[0]; y",
                                  "y = jnp.sin(A); y[:, 0] = 0.0; y", "y = jnp.exp(p); y[1:] *= 2; y"])
def test_an_item_written_into_a_jax_array_is_refused(text):
    assert JAX_WORDS in (refused(text) or "")


@pytest.mark.parametrize("text", ["p += 1; jnp.sin(p)", "y = jnp.sin(p); y *= 2; y",
                                  "l = [1.0, 2.0, 3.0]; l[0] = p[1]; jnp.sum(jnp.array(l) * p)",
                                  "y = jnp.exp(p); y = y.at[0].set(0.0); y"])
def test_parity_jax_rebinding_and_lists_are_answered(text):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    *body, last = text.split("; ")

    def f(p):
        scope = {"jnp": jnp, "p": p}
        exec("\n".join(body), scope)  # noqa: S102
        return eval(last, scope)  # noqa: S307
    assert np.allclose(api.evaluate(text, {"p": P}), f(jnp.asarray(P)))
    assert np.allclose(api.jacobian(text, {"p": P})["p"], jax.jacrev(f)(jnp.asarray(P)))


def test_parity_jax_raises_for_an_item_write():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    y = jnp.exp(jnp.asarray(P))
    with pytest.raises(TypeError, match="immutable"):
        y[0] = 0.0


# --- shapes and strides PyTorch refuses ----------------------------------------------------------------------------

VIEWS = ["A.T.view(-1)", "A[:, :2].view(-1)", "A.permute(1, 0).view(9)", "A[::2].view(-1)", "A.mT.view(-1)",
         "A.T.view(3, 3)", "A[:, 0].view(-1)", "A.unsqueeze(0).view(-1)", "A.T.contiguous().view(-1)",
         "A.view(9)[::2].view(5)", "A.T.reshape(-1)", "A.t().view(3, 1, 3)", "A.T.view(3, 3, 1)"]


@pytest.mark.parametrize("text", VIEWS)
def test_parity_view_of_a_strided_input(text):
    torch = pytest.importorskip("torch")
    scope = {"torch": torch, "A": torch.tensor(A, dtype=torch.float64)}
    try:
        want = eval(text, scope).numpy()  # noqa: S307
    except RuntimeError as err:
        assert "view size is not compatible" in str(err)
        with pytest.raises(Exception, match="view size is not compatible with input tensor's size and stride"):
            api.evaluate(text, {"A": A})
        return
    assert np.array_equal(api.evaluate(text, {"A": A}), want)


def test_view_refusal_is_a_shape_error_under_view():
    from jacobi_cli.errors import JacShapeError
    with pytest.raises(JacShapeError) as err:
        api.evaluate("x.expand(2, 3).view(-1)", {"x": P})
    assert "x.expand(2, 3).view(-1)"[err.value.position:].startswith("view")


@pytest.mark.parametrize("text, words", [
    ("torch.dot(A, A)", "1D tensors expected, but got 2D and 2D tensors"),
    ("torch.dot(p, y[:2])", "inconsistent tensor size, expected tensor [3] and src [2]"),
    ("torch.addmm(A, A, A.long())", "PyTorch refuses a product of a float tensor and an int64 tensor"),
    ("F.linear(p, A.long())", "PyTorch refuses a product of a float tensor and an int64 tensor"),
])
def test_torch_products_refused_as_pytorch_refuses_them(text, words):
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError, match=words.replace("[", r"\[").replace("]", r"\]")):
        api.evaluate(text, bound(text))


@pytest.mark.parametrize("text", ["torch.dot(p, y)", "p.dot(y) + torch.sum(p)", "F.linear(p, A)", "np.dot(A, A)",
                                  "dot(A, A)"])
def test_products_the_libraries_take_are_answered(text):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    library = np if "torch" not in text and "F." not in text else torch
    scope = {"torch": torch, "F": F, "np": np, "dot": np.dot,
             **{k: (torch.tensor(v) if library is torch else v) for k, v in bound(text).items()}}
    want = np.asarray(eval(text, scope))  # noqa: S307
    assert np.allclose(api.evaluate(text, bound(text)), want)
