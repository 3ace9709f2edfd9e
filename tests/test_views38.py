"""PyTorch in-place writes and views, session 38 (h38-views): the last false refusals of session 37's probes and the
answers given where PyTorch raises. Every text is run by PyTorch itself (float64 leaves, its value and the Jacobian by
every input, row by row) and by jac; they agree, or both refuse (jac with PyTorch's words). Parity tests skip without
torch; benchmarks/views37_probe.py, raises37_probe.py and torchprog37_fuzz.py are the wider probes."""
from __future__ import annotations

import ast
import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.ir import saved
from jacobi_cli.tools import api

INPUTS = {"x": [0.5, -1.5, 2.0], "y": [1.0, 2.0, -0.5], "p": [0.5, 1.5, 2.0],
          "A": [[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0], [2.0, -0.5, 1.0]],
          "w": [0.5, 2.0, 1.0], "T": [[0.5, -1.0, 2.0], [1.5, 0.5, -0.5]]}
PYTORCH_WORDS = "modified by an inplace operation"


def names(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def jac_run(text: str):
    """jac's (value, Jacobians) of ``text``, or its refusal's message."""
    bindings = {k: np.array(INPUTS[k]) for k in names(text)}
    try:
        return np.asarray(api.evaluate(text, bindings)), api.jacobian(text, bindings)
    except JacError as err:
        return err.message


def torch_run(text: str):
    """PyTorch's (value, Jacobians) of ``text`` (float64 leaves), or its exception's words."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    tree = ast.parse(text)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<text>", "eval")
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names(text)}
    scope = {"torch": torch, "F": F, "nn": torch.nn, **leaves}
    default = torch.get_default_dtype()
    try:
        torch.manual_seed(0)
        exec(body, scope)  # noqa: S102 - the test's own texts
        out = eval(last, scope)  # noqa: S307
        flat = out.reshape(-1)
        rows = {k: np.zeros((flat.numel(), v.numel())) for k, v in leaves.items()}
        if out.requires_grad:
            for i in range(flat.numel()):
                grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
                for k, g in zip(leaves, grads):
                    if g is not None:
                        rows[k][i] = g.reshape(-1).double().numpy()
    except (RuntimeError, TypeError) as err:
        return str(err)
    finally:
        torch.set_default_dtype(default)
    return out.detach().double().numpy(), {k: r.reshape(tuple(out.shape) + tuple(leaves[k].shape))
                                           for k, r in rows.items()}


def agree(ours, theirs, rtol=1e-12) -> bool:
    (value, jac), (lib_value, lib_jac) = ours, theirs
    return value.shape == lib_value.shape and np.allclose(value, lib_value, rtol=rtol, atol=1e-12, equal_nan=True) \
        and all(np.allclose(np.asarray(jac[k]), lib_jac[k], rtol=rtol, atol=1e-12, equal_nan=True) for k in lib_jac)


def same_as_pytorch(text: str, words: str | None = None):
    """jac answers ``text`` as PyTorch does, or both refuse (jac with ``words``, PyTorch's, where given)."""
    theirs, ours = torch_run(text), jac_run(text)
    if isinstance(theirs, str):
        assert isinstance(ours, str), (text, theirs)
        if words is not None:
            assert words in theirs and words in ours, (text, theirs, ours)
    else:
        assert not isinstance(ours, str), (text, ours)
        assert agree(ours, theirs), (text, ours, theirs)
    return theirs, ours


# --- cummax / cummin: their dead KEPT entry gone, session 36's checks kept against saved.PARTS --------------------

CUM = {"cummax": ("p", "torch.cummax(h, 0).values"), "cummin": ("A", "torch.cummin(h, 1)[0]")}


def test_cummax_and_cummin_are_read_by_the_parts_table_alone():
    assert set(CUM) <= set(saved.PARTS) and not set(CUM) & set(saved.KEPT)


@pytest.mark.parametrize("spelling", sorted(CUM))
@pytest.mark.parametrize("write", ["h.add_(1); g", "g.mul_(2); g", "h.mul_(2); g.sum() + h.sum()", "g.add_(1); h"])
def test_parity_a_write_after_cummax_or_cummin_as_session_36_checked_it(spelling, write):
    source, call = CUM[spelling]
    theirs, ours = same_as_pytorch(f"h = {source}.clone(); g = {call}; {write}", PYTORCH_WORDS)


# --- a loss's weight that requires grad: PyTorch's kernels have no derivative by it -------------------------------

LOSS_WEIGHTS = [
    ("F.nll_loss(T, torch.tensor([0, 2]), weight=w)", "nll_loss_forward"),
    ("F.nll_loss(T, torch.tensor([0, 2]), w)", "nll_loss_forward"),
    ("F.nll_loss(T.unsqueeze(-1), torch.tensor([[0], [2]]), weight=w)", "nll_loss2d_forward"),
    ("F.cross_entropy(T, torch.tensor([0, 2]), weight=w)", "nll_loss_forward"),
    ("F.cross_entropy(T, torch.tensor([0, 2]), weight=w * 2, label_smoothing=0.1)", "nll_loss_forward"),
    ("nn.CrossEntropyLoss(weight=w)(T, torch.tensor([0, 2]))", "nll_loss_forward"),
    ("nn.NLLLoss(weight=w)(T, torch.tensor([1, 2]))", "nll_loss_forward"),
    ("F.binary_cross_entropy(torch.sigmoid(T), torch.ones(2, 3, dtype=torch.float64), weight=w)",
     "binary_cross_entropy"),
    ("F.binary_cross_entropy_with_logits(T, torch.ones(2, 3, dtype=torch.float64), weight=w)",
     "binary_cross_entropy_with_logits"),
    ("F.binary_cross_entropy_with_logits(T, torch.ones(2, 3, dtype=torch.float64), pos_weight=w)",
     "binary_cross_entropy_with_logits"),
    ("F.multi_margin_loss(T, torch.tensor([0, 2]), weight=w)", "multi_margin_loss"),
]


@pytest.mark.parametrize("text, kernel", LOSS_WEIGHTS)
def test_parity_a_loss_weight_that_requires_grad_is_refused_with_pytorchs_words(text, kernel):
    theirs, ours = same_as_pytorch(text, "is not differentiable with respect to argument")
    assert f"'{kernel}'" in theirs and f"'{kernel}'" in ours


@pytest.mark.parametrize("text", [
    "F.cross_entropy(T, torch.tensor([0, 2]), weight=w.detach())",
    "F.nll_loss(T, torch.tensor([0, 2]), weight=w.detach() * 2)",
    "F.cross_entropy(T, torch.softmax(T.detach(), 1), weight=w)",  # probabilities: a composite, w differentiable
    "F.binary_cross_entropy_with_logits(T, torch.ones(2, 3, dtype=torch.float64), pos_weight=w.detach())",
    "F.multilabel_soft_margin_loss(T, torch.ones(2, 3, dtype=torch.float64), weight=w)",
])
def test_parity_a_weight_without_grad_or_of_a_composite_loss_is_answered(text):
    theirs, _ = same_as_pytorch(text)
    assert not isinstance(theirs, str)


def test_a_weight_left_out_of_wrt_is_a_constant_and_answered():
    got = api.jacobian("import torch; import torch.nn.functional as F; F.cross_entropy(T, torch.tensor([0, 2]), "
                       "weight=w)", {"T": np.array(INPUTS["T"]), "w": np.array(INPUTS["w"])}, wrt=["T"])
    assert set(got) == {"T"}


# --- a refusal quotes the write as the text wrote it ---------------------------------------------------------------

@pytest.mark.parametrize("text, quoted", [
    ("h = A * 2; h[0].mul_(h[1]); h", "h[0].mul_(...)"),
    ("h = torch.exp(A); h[0].add_(1); h", "h[0].add_(...)"),
    ("h = torch.exp(A); h[0:2].clamp_(min=0.5); h", "h[0:2].clamp_(...)"),
])
def test_parity_a_refused_in_place_method_on_a_view_is_quoted_as_written(text, quoted):
    _, ours = same_as_pytorch(text, PYTORCH_WORDS)
    assert ours.startswith(quoted + ":") and " = ...:" not in ours


# --- dropout with p=1 in training: every element dropped, x * 0 as PyTorch computes it ------------------------------

@pytest.mark.parametrize("text", [
    "F.dropout(A, p=1.0)", "F.dropout(A, 1.0, True)", "F.dropout(A, p=1, training=True) + A",
    "nn.Dropout(p=1.0)(A)", "F.dropout1d(A, p=1.0)", "F.alpha_dropout(A, 1.0, True)",
    "F.dropout(torch.log(A), p=1.0)",  # x * 0: NaN where x is NaN, as PyTorch computes it
    "h = A * 2; F.dropout(h, 1.0, inplace=True); h + A",  # written into h
    "h = torch.sin(A); g = F.dropout(h, p=1.0); g.add_(1.0); torch.cat([g.reshape(-1), h.reshape(-1)])",
])
def test_parity_dropout_with_p_one_in_training_is_zeros_with_derivative_zero(text):
    theirs, _ = same_as_pytorch(text)
    assert not isinstance(theirs, str)


def test_dropout_with_p_between_zero_and_one_in_training_stays_refused_as_random():
    assert "is random" in jac_run("F.dropout(A, p=0.5)")


# --- a write whose operand views the tensor it writes: PyTorch's overlap check, form by form -----------------------

OVERLAP_WORDS = "some elements of the input tensor and the written-to tensor refer to a single memory location"
V, M = "import torch; t = x * 2; ", "import torch; t = A * 2; "
OVERLAPPING = [V + f + "; t" for f in (
    "t[0:2] += t[1:]", "t[1:] += t[:2]", "t[0:2] = t[1:]", "t[1:] = t[:2]", "t[0:2] *= t[1:]", "t[0:2] -= t[1:]",
    "t[0:2] /= t[1:]", "t[0:2].add_(t[1:])", "t[0:2].copy_(t[1:])", "t[0:2].mul_(t[1:])", "t[0:2] += t[0]",
    "t.add_(t[0])", "t += t[0]", "t[[0, 1]] = t[1:]", "t[0:2].addcmul_(t[1:], x[:2])", "t[0:2].clamp_(min=t[1:])",
    "t[0:2].lerp_(t[1:], 0.5)", "t[0:2].pow_(t[1:])", "t[0:2] = t[1:].detach()", "t[0:2] += t.detach()[1:]",
    "t[0:2] += t.unsqueeze(0)[0, 1:]", "t[0:2] += t.view(3)[1:]")] + [M + f + "; t" for f in (
    "t[...] = t.T", "t += t.T", "t.add_(t.T)", "t.mul_(t.T)", "t[:2] += t[1:]", "t.copy_(t.T)", "t.add_(t[0])")]
NOT_OVERLAPPING = [V + f + "; t" for f in (
    "t += t", "t[0:2] += t[0:2]", "t[0] += t[1]", "t[1:] += t[0]", "t[:2] = t[2]", "t[:2] = t[1]",
    "t[:] = t.flip(0)", "t[0:2] += t[1:] * 1", "t[[0, 1]] += t[1:]", "t[t > 3] = t[:1]", "t[:2] = t[1:] + 0",
    "t[0:2].masked_fill_(t[1:] > 3, 0.0)", "t[0:2] += t[1:].clone()")] + [M + f + "; t" for f in (
    "t[:, 0] += t[:, 1]", "t[0] += t[:, 0]", "t[0] = t[:, 0]", "t[0].add_(t[1])", "t.sub_(t.mean(0))",
    "t[0:2] += t.flip(0)[1:]", "t += t.T.clone()")]


def pytorch_words(text: str, words: str) -> None:
    """PyTorch raises ``words``; jac refuses with them too."""
    theirs, ours = torch_run(text), jac_run(text)
    assert isinstance(theirs, str) and words in theirs, (text, theirs)
    assert isinstance(ours, str) and words in ours, (text, ours)


@pytest.mark.parametrize("text", OVERLAPPING)
def test_parity_an_operand_overlapping_the_written_view_is_refused_with_pytorchs_words(text):
    pytorch_words(text.replace("x * 2", "y * 2"), OVERLAP_WORDS)


@pytest.mark.parametrize("text", NOT_OVERLAPPING)
def test_parity_an_operand_read_where_it_is_written_or_a_copy_is_answered(text):
    theirs, _ = same_as_pytorch(text.replace("x * 2", "y * 2"))
    assert not isinstance(theirs, str)


@pytest.mark.parametrize("text", [M + "t[1:, 1:] += t[:2, :2]; t", M + "t.add_(t[:, :1]); t"])
def test_parity_an_overlap_pytorch_does_not_check_is_refused_where_its_loop_order_shows(text):
    """Views that are not dense: PyTorch's check gives up and its kernel reads elements it already wrote, so its
    answer is not the text's read-then-write (nor the same under another loop order): jac refuses."""
    fresh = text.replace("t[:2, :2]", "t[:2, :2].clone()").replace("t[:, :1])", "t[:, :1].clone())")
    assert not agree(torch_run(fresh), torch_run(text))  # PyTorch's loop read what it wrote
    message = jac_run(text)
    assert isinstance(message, str) and "depends on the order its loop writes" in message


def test_a_numpy_text_reads_an_overlapping_operand_first_as_numpy_does():
    got = api.evaluate("import numpy as np; t = x * 2; t[0:2] += t[1:]; t", {"x": np.array([1.0, 2.0, 3.0])})
    assert np.array_equal(np.asarray(got), [6.0, 10.0, 6.0])


# --- a copy lowered onto its operand's node: a view of the operand is no view of the copy -------------------------

@pytest.mark.parametrize("u", ["x", "torch.sin(x) * 2", "A", "torch.sin(A) + 1"])
@pytest.mark.parametrize("text", [
    "g = u.clone(); k = u[1:]; g.add_(1.0); (g * k[0]).sum() + u.sum() + k.sum()",
    "g = torch.clone(u); k = u[1:]; g.mul_(2.0); g.sum() + u.sum() + k.sum()",
    "g = u.clone(); k = u.unsqueeze(0); g[0] = 5.0; g.sum() + (u * u).sum() + k.sum()",
    "g = u.clone(); k = u.reshape(-1); g += 1.0; (g * g).sum() + u.sum() + k.sum()",
    "g = u.detach().clone(); k = u[1:]; g.add_(1.0); (g * u).sum() + k.sum()",
    "k = u[1:]; g = u.clone(); g.add_(1.0); (g * g).sum() + u.sum() + k.sum()",
])
def test_parity_a_write_into_a_copy_leaves_its_operand_and_the_operands_views(u, text):
    theirs, _ = same_as_pytorch(f"import torch; u = {u}; {text}" if u not in ("x", "A") else
                                "import torch; " + re.sub(r"\bu\b", u, text))
    assert not isinstance(theirs, str)


@pytest.mark.parametrize("u", ["x", "torch.sin(x) * 2"])
def test_parity_a_view_of_the_copy_itself_sees_the_write(u):
    """Refused until session 39; now k, a view of the copy, sees the write, as in PyTorch (lang/views.py)."""
    text = f"import torch; u = {u}; g = u.clone(); k = g[1:]; g.add_(1.0); torch.cat([k, u])"
    ours, theirs = jac_run(text), torch_run(text)
    assert not isinstance(ours, str) and not isinstance(theirs, str), (ours, theirs)
    assert agree(ours, theirs)


# --- an in-place method on an unnamed view of a name writes into the name -----------------------------------------

VEC, MAT = "import torch; t = y * 2; ", "import torch; t = torch.sin(A) + 1; "
VIEW_WRITES = [VEC + f + "; t" for f in (
    "t.unsqueeze(0).exp_()", "t[0].unsqueeze(0).mul_(2)", "t.view(-1)[0:1].mul_(2)", "t.unsqueeze(0).add_(1)",
    "t.unsqueeze(0).add_(y)", "t.view(3, 1).clamp_(min=1.0)", "t.unsqueeze(1)[1:].zero_()",
    "t.unsqueeze(0).fill_(2.0)", "t.unsqueeze(0).copy_(y)", "t.unsqueeze(0).sin_(); t.add_(1)",
    "t.reshape(3)[1:].sub_(1)", "t.unsqueeze(0).unsqueeze_(0)")] + [MAT + f + "; t" for f in (
    "t.T.add_(1)", "t.T[0].mul_(2)", "t.t().exp_()", "t.transpose(0, 1)[1:, :2].mul_(3)", "t.view(9)[::2].zero_()",
    "t.reshape(9)[2:5].mul_(2)", "t[0].view(3, 1).mul_(y[:, None])", "t.mT[1].tanh_()",
    "t.unsqueeze(0)[0, 1].sigmoid_()", "t.flatten()[3:].mul_(2)", "t.narrow(0, 1, 2).mul_(2)",
    "t.select(1, 0).add_(1)", "t.T.pow_(2)", "t.T[1:].masked_fill_(t.T[1:] > 1.5, 0.0)")]


@pytest.mark.parametrize("text", VIEW_WRITES)
def test_parity_an_in_place_method_on_an_unnamed_view_writes_the_name(text):
    theirs, _ = same_as_pytorch(text)
    assert not isinstance(theirs, str)


@pytest.mark.parametrize("text, words", [
    (VEC + "t.unsqueeze(0).mul_(t); t", OVERLAP_WORDS),
    (VEC + "t.view(-1)[0:2].add_(t[1:]); t", OVERLAP_WORDS),
    (MAT + "t.permute(1, 0).add_(t); t", OVERLAP_WORDS),
    (VEC + "t.expand(2, 3).add_(1); t", "more than one element of the written-to tensor refers to a single memory"),
    (VEC + "t.unsqueeze(0).exp_(); t.add_(1); t", PYTORCH_WORDS),  # exp_ kept its result, the view
    ("import torch; t = torch.exp(y); t.unsqueeze(0).add_(1); t", PYTORCH_WORDS),  # exp kept t
    ("import torch; t = y; t.unsqueeze(0).add_(1); t", "a leaf Variable that requires grad"),
    ("import torch; t = y.view(3); t.unsqueeze(0).add_(1); t", "a leaf Variable that requires grad"),
])
def test_parity_an_in_place_method_on_an_unnamed_view_is_refused_where_pytorch_raises(text, words):
    theirs, ours = torch_run(text), jac_run(text)
    assert isinstance(theirs, str) and isinstance(ours, str), (theirs, ours)
    if words != "a leaf Variable that requires grad":
        assert words in theirs and words in ours, (theirs, ours)
    else:
        assert words in theirs and ("leaf" in ours or "input" in ours), ours


def test_a_write_through_detach_changes_the_values_not_the_derivative():
    """Refused until h39-views2 (tests/test_views2_39.py): PyTorch's t doubles, its gradient stays the old one."""
    text = VEC + "t.unsqueeze(0).detach().mul_(2); t"
    theirs, ours = torch_run(text), jac_run(text)
    assert not isinstance(ours, str), ours
    assert np.array_equal(ours[0], theirs[0]) and all(np.array_equal(ours[1][k], theirs[1][k]) for k in theirs[1])


def test_a_view_of_unknown_elements_is_refused_saying_why():
    message = jac_run(MAT + "t.T.reshape(9).add_(1); t")  # PyTorch copies there: t stays as it was
    assert isinstance(message, str) and "which elements" in message


# --- Python aliases (u = t): one tensor, two names; a shape method or a write changes both ------------------------

@pytest.mark.parametrize("text", ["import torch; " + f for f in (
    "t = y * 2; u = t; u.unsqueeze_(0); t * u", "t = y * 2; u = t[:]; u.unsqueeze_(0); t.sum() + u[0, 1]",
    "t = y * 2; u = t.view(3); u.unsqueeze_(0); t + u", "t = A * 2; u = t; v = u; v.t_(); t + u * v",
    "t = A * 2; u = t; u.transpose_(0, 1); u.mul_(2); t", "t = A * 2; u = t.T; t.t_(); t + u",
    "t = y * 2; u = t; u.unsqueeze_(0); u.mul_(2); t", "t = y * 2; u = t; t = t + 1; u.unsqueeze_(0); t + u",
    "t = A * 2; u = t; u.squeeze_(); u.t_(); t", "t = y * 2; u = t; u.mul_(2); t + u", "t = y * 2; u = t; u[0] = 5.0; t",
    "t = y * 2; u = t; u += 1; t * u", "t = y * 2; u = t; t.exp_(); u", "t = y * 2; u = t; u.unsqueeze(0).mul_(2); t")])
def test_parity_a_python_alias_sees_the_shape_change_and_the_write(text):
    theirs, _ = same_as_pytorch(text)
    assert not isinstance(theirs, str)


@pytest.mark.parametrize("text, words", [
    ("import torch; t = torch.exp(y); u = t; u.unsqueeze_(0); t", PYTORCH_WORDS),
    ("import torch; t = torch.exp(y); u = t; u.add_(1); t", PYTORCH_WORDS),
    ("import torch; t = y * 2; u = t; t.mul_(t); u", PYTORCH_WORDS),
    ("import torch; u = y; u.unsqueeze_(0); u", "leaf"),
])
def test_parity_an_alias_is_checked_as_the_tensor_itself(text, words):
    theirs, ours = torch_run(text), jac_run(text)
    assert isinstance(theirs, str) and isinstance(ours, str) and words in theirs and words in ours, (theirs, ours)


@pytest.mark.parametrize("text", [
    "import torch; t = y * 2; l = [t]; t.unsqueeze_(0); l[0]",  # a list holds the object: jac does not follow it
])
def test_a_write_a_container_would_see_stays_refused(text):
    assert "shares its memory" in jac_run(text)
    assert not isinstance(torch_run(text), str)


@pytest.mark.parametrize("text", [
    "import torch; t = y * 2; u = t; v = u[1:]; u.mul_(2); torch.cat([t, v])",  # refused until session 39
    "import torch; t = A * 2; u = t.T; t.t_(); t.mul_(2); t + u",
])
def test_parity_a_write_a_view_sees_is_followed(text):
    ours, theirs = jac_run(text), torch_run(text)
    assert not isinstance(ours, str) and not isinstance(theirs, str), (ours, theirs)
    assert agree(ours, theirs)


def test_a_numpy_alias_sees_the_write_too():
    got = api.evaluate("import numpy as np; t = x * 2; u = t; u[0] = 5.0; t + u", {"x": np.array([1.0, 2.0, 3.0])})
    assert np.array_equal(np.asarray(got), [10.0, 8.0, 12.0])


# --- a layer's dtype= is kept: a float32 input to a float64 layer (or back) is PyTorch's error ---------------------

@pytest.mark.parametrize("text, refused", [
    ("fc = nn.Linear(3, 2, dtype=torch.float64); fc(y.float()).sum()", True),
    ("fc = nn.Linear(3, 2, dtype=torch.float32); fc(y.double()).sum()", True),
    ("fc = nn.Conv1d(1, 1, 2, dtype=torch.float64); fc(y.float()[None, None]).sum()", True),
    ("fc = nn.Linear(3, 2, dtype=torch.float64); fc.double(); fc(y.float()).sum()", True),
    ("fc = nn.Linear(3, 2, dtype=torch.float64); fc(y.double()).sum()", False),
    ("fc = nn.Linear(3, 2, dtype=torch.float64); fc(y).sum()", False),
    ("fc = nn.Linear(3, 2, dtype=torch.float64); fc.float(); fc(y.float()).sum() * 0", False),
])
def test_parity_a_layer_made_with_a_dtype_computes_in_it(text, refused):
    torch = pytest.importorskip("torch")
    theirs = torch_run(text)
    assert isinstance(theirs, str) == refused, theirs
    ours = jac_run("import torch; import torch.nn as nn; " + text)
    if refused:
        assert isinstance(ours, str) and "should be the same" in ours if "Conv" in text else "same dtype" in ours
        assert "same" in theirs, theirs
    else:
        assert not isinstance(ours, str) or "dtype='float32'" in ours, ours  # fc.float(): jac's own refusal


# --- .half() / .bfloat16(): refused, and the refusal says why no answer would be exact -----------------------------

def test_parity_a_derivative_through_half_depends_on_pytorchs_mode_so_half_stays_refused():
    torch = pytest.importorskip("torch")
    from torch.func import jacfwd, jacrev

    def f(x):
        return x.half().double() * 3.3

    x = torch.tensor([1.1, 2.7], dtype=torch.float64)
    assert not torch.equal(jacrev(f)(x), jacfwd(f)(x))  # 3.3008 (the gradient rounded) against 3.3
    for text in ("import torch; y.half().double() * 3.3", "import torch; y.bfloat16().double()"):
        message = jac_run(text)
        assert isinstance(message, str) and "jacrev" in message and "jacfwd" in message
