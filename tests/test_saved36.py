"""PyTorch's saved tensors beyond session 35's set, views of computed tensors, float dtype mixes in products
(session 36, h36-saved). Every spelling of ir/saved.KEPT is checked against PyTorch itself: a write in place into
its operand, its result, or (of two) either operand with the other a constant, refused by jac exactly where PyTorch's
backward raises. Parity tests skip without torch; benchmarks/raises36_probe.py is the wider differential probe."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacShapeError, JacValueError
from jacobi_cli.ir import saved
from jacobi_cli.tools import api

INPUTS = {"p": [0.5, 1.5, 2.0], "y": [1.0, 2.0, -0.5], "q": [0.1, 0.3, 0.6], "r": [1.5, 2.0, 3.0],
          "A": [[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0], [2.0, -0.5, 1.0]],
          "B": [[0.5, -1.0, 2.0], [1.5, 0.5, -0.5], [1.0, 2.0, 0.25]],
          "C": [[[0.5, -1.0, 2.0, 0.25], [1.0, 0.5, -0.5, 2.0], [-1.5, 0.75, 1.25, -0.25]]],  # (1, 3, 4)
          "K": [[[0.5, -0.25], [0.75, 0.5], [1.0, 0.2]], [[0.25, 1.0], [0.5, -0.5], [-0.4, 0.6]]]}  # (2, 3, 2)
PYTORCH_WORDS = "modified by an inplace operation"

# spelling of ir/saved.KEPT -> (source of h, source of k or None, the call)
CALLS = {
    "softmax": ("p", None, "torch.softmax(h, 0)"), "log_softmax": ("p", None, "F.log_softmax(h, dim=0)"),
    "softmin": ("p", None, "F.softmin(h, 0)"), "inverse": ("A", None, "torch.inverse(h)"),
    "inv": ("A", None, "torch.linalg.inv(h)"), "softplus": ("p", None, "F.softplus(h)"),
    "gelu": ("p", None, "F.gelu(h)"), "leaky_relu": ("p", None, "F.leaky_relu(h, 0.2)"),
    "elu": ("p", None, "F.elu(h)"), "silu": ("p", None, "F.silu(h)"), "mish": ("p", None, "F.mish(h)"),
    "selu": ("p", None, "F.selu(h)"), "hardtanh": ("p", None, "F.hardtanh(h)"), "relu6": ("p", None, "F.relu6(h)"),
    "logsigmoid": ("p", None, "F.logsigmoid(h)"), "softsign": ("p", None, "F.softsign(h)"),
    "hardswish": ("p", None, "F.hardswish(h)"), "erfc": ("p", None, "torch.erfc(h)"),
    "threshold": ("p", None, "F.threshold(h, 1.2, -1.0)"), "hardsigmoid": ("p", None, "F.hardsigmoid(h)"),
    "celu": ("p", None, "F.celu(h, 0.7)"), "rrelu": ("p", None, "F.rrelu(h, training=False)"),  # session 55
    "lgamma": ("p", None, "torch.lgamma(h)"), "digamma": ("p", None, "torch.digamma(h)"),
    "sinc": ("p", None, "torch.sinc(h)"), "asin": ("q", None, "torch.asin(h)"), "arcsin": ("q", None, "h.arcsin()"),
    "acos": ("q", None, "torch.acos(h)"), "arccos": ("q", None, "torch.arccos(h)"),
    "atanh": ("q", None, "torch.atanh(h)"), "arctanh": ("q", None, "h.arctanh()"),
    "acosh": ("r", None, "torch.acosh(h)"), "arccosh": ("r", None, "torch.arccosh(h)"),
    "erfinv": ("q", None, "torch.erfinv(h)"), "logit": ("q", None, "torch.logit(h)"),
    "nan_to_num": ("p", None, "torch.nan_to_num(h)"), "i0": ("p", None, "torch.i0(h)"),
    "entr": ("p", None, "torch.special.entr(h)"), "normalize": ("p", None, "F.normalize(h, dim=0)"),
    "nanmean": ("p", None, "torch.nanmean(h)"), "nansum": ("p", None, "torch.nansum(h)"),
    "var": ("p", None, "torch.var(h)"), "logdet": ("A", None, "torch.logdet(h @ h.T)"),
    "layer_norm": ("p", None, "F.layer_norm(h, (3,))"), "float_power": ("p", None, "torch.float_power(h, 2)"),
    "clamp_min": ("p", None, "torch.clamp_min(h, 1.0)"), "clamp_max": ("p", None, "h.clamp_max(1.0)"),
    "prod": ("p", None, "torch.prod(h)"), "amax": ("A", None, "torch.amax(h, 0)"),
    "amin": ("p", None, "torch.amin(h, dim=0)"), "norm": ("p", None, "h.norm()"),
    "vector_norm": ("p", None, "torch.linalg.vector_norm(h, ord=1)"),
    "matrix_norm": ("A", None, "torch.linalg.matrix_norm(h)"), "logsumexp": ("A", None, "torch.logsumexp(h, 1)"),
    "cumprod": ("p", None, "h.cumprod(0)"), "logcumsumexp": ("p", None, "torch.logcumsumexp(h, 0)"),
    "std": ("p", None, "torch.std(h)"), "det": ("A", None, "torch.det(h)"),
    "erfcx": ("p", None, "torch.special.erfcx(h)"), "log_ndtr": ("p", None, "torch.special.log_ndtr(h)"),
    "i1": ("p", None, "torch.special.i1(h)"),
    "solve": ("A", "y", "torch.linalg.solve(h, k)"),  # session 57 (h57-fuzz2): A and the result kept, B not
    "cholesky": ("A", None, "torch.linalg.cholesky(h @ h.T + torch.eye(3))"),
    "eigvalsh": ("A", None, "torch.linalg.eigvalsh(h + h.T)"), "svdvals": ("A", None, "torch.linalg.svdvals(h)"),
    "pinv": ("A", None, "torch.linalg.pinv(h)"), "matrix_exp": ("A", None, "torch.linalg.matrix_exp(h)"),
    "solve_triangular": ("A", "B", "torch.linalg.solve_triangular(h, k, upper=True)"),
    # session 37 (h37-views): their results are copies now (a write into h after them reaches backward)
    "masked_select": ("p", None, "torch.masked_select(h, h > 1)"), "take": ("p", None, "torch.take(h, torch.tensor([2, 0]))"),
    "gather": ("p", None, "torch.gather(h, 0, torch.tensor([1, 1, 0]))"),
    "maximum": ("p", "y", "torch.maximum(h, k)"), "minimum": ("p", "y", "h.minimum(k)"),
    "fmax": ("p", "y", "torch.fmax(h, k)"), "fmin": ("p", "y", "torch.fmin(h, k)"),
    "atan2": ("p", "y", "torch.atan2(h, k)"), "arctan2": ("p", "y", "torch.arctan2(h, k)"),
    "xlogy": ("y", "p", "torch.xlogy(h, k)"), "xlog1py": ("y", "p", "torch.special.xlog1py(h, k)"),
    "logaddexp": ("p", "y", "torch.logaddexp(h, k)"), "logaddexp2": ("p", "y", "torch.logaddexp2(h, k)"),
    "mse_loss": ("p", "y", "F.mse_loss(h, k)"), "smooth_l1_loss": ("p", "y", "F.smooth_l1_loss(h, k)"),
    "huber_loss": ("p", "y", "F.huber_loss(h, k)"), "clamp": ("p", "y", "torch.clamp(h, k)"),
    "clip": ("p", "y", "torch.clip(h, max=k)"), "dist": ("p", "y", "torch.dist(h, k)"),
    "cdist": ("A", "B", "torch.cdist(h, k)"), "hypot": ("p", "y", "torch.hypot(h, k)"),
    "copysign": ("p", "y", "torch.copysign(h, k)"), "pow": ("p", "y", "torch.pow(h, k)"),
    "outer": ("p", "y", "torch.outer(h, k)"), "ger": ("p", "y", "torch.ger(h, k)"),
    "inner": ("p", "y", "torch.inner(h, k)"), "vdot": ("p", "y", "torch.vdot(h, k)"),
    "tensordot": ("A", "B", "torch.tensordot(h, k, dims=1)"), "cross": ("p", "y", "torch.cross(h, k, dim=0)"),
    "bmm": ("A", "B", "torch.bmm(h[None], k[None])"), "linear": ("p", "A", "F.linear(h, k)"),
    "einsum": ("A", "B", "torch.einsum('ij,jk->ik', h, k)"), "kron": ("p", "y", "torch.kron(h, k)"),
    "addcmul": ("p", "y", "torch.addcmul(y, h, k)"), "addmm": ("A", "B", "torch.addmm(A, h, k)"),
    "addmv": ("A", "y", "torch.addmv(y, h, k)"), "baddbmm": ("A", "B", "torch.baddbmm(A[None], h[None], k[None])"),
    # session 37 (h37-dtypes): layers, losses, pools; tests/test_dtypes37.py writes into their third operands too
    "conv1d": ("C", "K", "F.conv1d(h, k)"), "conv2d": ("C", "K", "F.conv2d(h[None], k[:, None])"),
    "conv3d": ("C", "K", "F.conv3d(h[None, None], k[:, None, None])"),
    "conv_transpose1d": ("C", "K", "F.conv_transpose1d(h, k.transpose(0, 1))"),
    "conv_transpose2d": ("C", "K", "F.conv_transpose2d(h[None], k.transpose(0, 1)[None])"),
    "conv_transpose3d": ("C", "K", "F.conv_transpose3d(h[None, None], k.transpose(0, 1)[None, None])"),
    "batch_norm": ("A", "y", "F.batch_norm(h, None, None, k, None, training=True)"),
    "torch.batch_norm": ("A", "y", "torch.batch_norm(h, k, None, None, None, True, 0.1, 1e-5, False)"),
    "layer_norm": ("A", "y", "F.layer_norm(h, (3,), k)"), "group_norm": ("C", "y", "F.group_norm(h, 3, k)"),
    "instance_norm": ("C", "y", "F.instance_norm(h, weight=k)"),
    "torch.instance_norm": ("C", "y", "torch.instance_norm(h, k, None, None, None, True, 0.1, 1e-5, False)"),
    "nll_loss": ("A", None, "F.nll_loss(h, torch.tensor([0, 2, 1]), q.detach())"),
    "cross_entropy": ("A", None, "F.cross_entropy(h, torch.tensor([0, 2, 1]), weight=q.detach())"),
    "binary_cross_entropy": ("q", None, "F.binary_cross_entropy(h, p.detach() / 3)"),
    "binary_cross_entropy_with_logits": ("p", None, "F.binary_cross_entropy_with_logits(h, q.detach())"),
    "prelu": ("A", "q", "F.prelu(h, k[:1])"), "max_pool1d": ("C", None, "F.max_pool1d(h, 2)"),
    "max_pool2d": ("C", None, "F.max_pool2d(h[None], 2)"), "avg_pool1d": ("C", None, "F.avg_pool1d(h, 2)"),
    "avg_pool2d": ("C", None, "F.avg_pool2d(h[None], 2)"),
    "adaptive_avg_pool1d": ("C", None, "F.adaptive_avg_pool1d(h, 2)"),
    "adaptive_avg_pool2d": ("C", None, "F.adaptive_avg_pool2d(h[None], 2)"),
    "adaptive_max_pool1d": ("C", None, "F.adaptive_max_pool1d(h, 2)"),
    "gather": ("p", None, "torch.gather(h, 0, torch.tensor([1, 1]))"),
    "take_along_dim": ("A", None, "torch.take_along_dim(h, torch.tensor([[1], [0], [2]]), 1)"),
    "pairwise_distance": ("A", "B", "F.pairwise_distance(h, k)"), "cosine_similarity": ("A", "B",
                                                                                      "F.cosine_similarity(h, k)"),
}


def names(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def refused(text: str) -> str | None:
    """jac's refusal of ``text`` (its Jacobian), or None where it answers."""
    try:
        api.jacobian(text, {k: np.array(INPUTS[k]) for k in names(text)})
    except JacError as err:
        return err.message
    return None


def torch_run(text: str):
    """PyTorch's gradients of the sum of ``text``'s last expression (float64 leaves), or the RuntimeError's words."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names(text)}
    scope = {"torch": torch, "F": F, **leaves}
    *body, last = text.split("; ")
    try:
        exec("\n".join(body), scope)  # noqa: S102 - the test's own texts
        out = eval(last, scope)  # noqa: S307
        grads = torch.autograd.grad(out.sum(), list(leaves.values()), allow_unused=True)
    except RuntimeError as err:
        return str(err)
    return [None if g is None else g.numpy() for g in grads]


def torch_raises(text: str) -> bool:
    return isinstance(torch_run(text), str)


def writes(spelling: str) -> list:
    """The texts that write into h, k or the result g after the call (k requiring grad or not, h too)."""
    h, k, call = CALLS[spelling]
    made = f"h = {h}.clone(); g = {call}" if k is None else f"h = {h}.clone(); k = {k}.clone(); g = {call}"
    out = [f"{made}; h.add_(1); g", f"{made}; g.mul_(2); g"]
    if k is not None:
        constant = f"h = {h}.clone(); k = {k}.detach().clone(); g = {call}"
        fixed = f"h = {h}.detach().clone(); k = {k}.clone(); g = {call}"
        out += [f"{made}; k.add_(1); g", f"{constant}; h.add_(1); g", f"{constant}; k.add_(1); g",
                f"{fixed}; h.add_(1); g", f"{fixed}; k.add_(1); g"]
    return out


def test_every_spelling_of_the_table_has_a_call_here():
    assert set(CALLS) == set(saved.KEPT)


@pytest.mark.parametrize("spelling", sorted(set(saved.KEPT) - saved.UNCHECKED))
def test_parity_jac_refuses_a_write_exactly_where_pytorch_backward_raises(spelling):
    for text in writes(spelling):
        raised = torch_run(text)
        ours = refused(text + ".sum()")
        if isinstance(raised, str):
            assert PYTORCH_WORDS in raised, (text, raised)
            assert ours is not None and PYTORCH_WORDS in ours, (text, raised)
        else:
            assert ours is None, (text, ours)


@pytest.mark.parametrize("spelling", sorted(saved.UNCHECKED))
def test_parity_kron_reads_the_changed_values_silently_and_jac_refuses_there(spelling):
    """PyTorch's kron keeps its operands without a version check: after a write its gradient is not the text's.
    jac refuses exactly where the write changes PyTorch's gradient (and answers where it does not)."""
    for text in writes(spelling):
        clean = torch_run(text.replace("; h.add_(1)", "").replace("; k.add_(1)", "").replace("; g.mul_(2); g", "; 2 * g"))
        written = torch_run(text)
        assert not isinstance(written, str)
        differs = any((a is None) != (b is None) or a is not None and not np.allclose(a, b)
                      for a, b in zip(clean, written))
        ours = refused(text + ".sum()")
        assert (ours is not None) == differs, (text, ours)
        if ours is not None:
            assert "without checking" in ours and "kron" in ours


@pytest.mark.parametrize("text", [
    "h = p.clone(); g = torch.max(h, 0).values; h.add_(1); g.sum()",  # with a dim: only the indices are kept
    "h = p.clone(); g = torch.cumsum(h, 0); h.add_(1); g.sum()",
    "h = p.clone(); g = h.mean(); h.add_(1); g",
    "h = p.clone(); g = torch.where(h > 1, h, y); h.add_(1); g.sum()",
    "h = p.clone(); g = torch.sign(h); h.add_(1); g.sum()",
    "h = p.clone(); g = torch.lerp(h, y, 0.5); h.add_(1); g.sum()",
    "h = p.clone(); g = torch.sort(h).values; h.add_(1); g.sum()",
    "h = p.clone(); g = torch.prod(h); h2 = h.clone(); h2.add_(1); g",  # a copy written
    "h = p.clone(); h.add_(1); g = torch.prod(h); g",  # the write before the call
    "h = p.clone(); g = torch.prod(h); h.add_(1); h.sum()",  # the call off the output's path
    "h = p.clone(); g = torch.prod(h); h.add_(1); g.detach() + h.sum()",
    "h = p.clone(); g = F.softplus(h); g.add_(1); g.sum()",  # softplus keeps its argument, not its result
    "h = p.clone(); g = torch.softmax(h, 0); h.add_(1); g.sum()",  # softmax keeps its result, not its argument
    "h = p.clone(); c = torch.ones(3, dtype=torch.float64); g = torch.outer(h, c); h.add_(1); g.sum()",
])
def test_writes_pytorch_backward_takes_are_answered(text):
    assert refused(text) is None
    assert not torch_raises(text.rsplit(".sum()", 1)[0] if text.endswith(".sum()") else text)


def test_the_refusal_names_the_call_as_spelled_and_what_it_kept():
    message = refused("h = p.clone(); g = F.softplus(h); h.add_(1); g.sum()")
    assert PYTORCH_WORDS in message and "softplus saved 'h' (its argument)" in message
    message = refused("h = p.clone(); g = torch.prod(h); g.mul_(2); g")
    assert "prod saved 'g' (its result)" in message


# --- float dtype mixes in PyTorch's products ----------------------------------------------------------------------

MIXED = ["torch.mm(A, B.float())", "torch.mm(A.float(), B)", "A @ y.float()", "y.float() @ A", "A.float() @ B",
         "torch.matmul(A, y.to(torch.float32))", "torch.dot(p, y.float())", "p.dot(y.type(torch.float32))",
         "torch.mv(A.float(), y)", "torch.bmm(A[None], B.float()[None])", "torch.addmm(A, A, B.float())",
         "torch.addmm(A.float(), A, B)", "F.linear(y, A.float())", "F.linear(y.float(), A)",
         "torch.inner(p, y.float())", "torch.einsum('ij,j->i', A, y.float())", "torch.tensordot(A, B.float(), 1)",
         "A.mm(B.to(dtype=torch.float32))", "A.T.float() @ y", "A.float().T @ y", "h = y.float(); A @ h",
         "h = y.float(); h = h.clone(); A @ h", "torch.linalg.multi_dot([A, B.float()])",
         "torch.cross(p, y.float(), dim=0)", "torch.mm(A.float(), B.float().double())",
         "torch.lerp(p, y.float(), 0.5)", "x = y.float() * 2; torch.mv(A, x)", "A @ (-y.float())"]
SAME = ["torch.mm(A.float(), B.float())", "A.double() @ y", "torch.mm(A, B.double())", "y.float() * A",
        "torch.maximum(p, y.float())", "torch.outer(p, y.float())", "torch.kron(p, y.float())",
        "torch.cat([p, y.float()])", "h = y.float(); h = y * 2; A @ h", "y, p = y.float(), p.float(); torch.dot(y, p)",
        "def f(y):\n    return torch.dot(y, p.float())\nf(y.float())", "torch.mm(A.float().double(), B)",
        "torch.where(p > 1, p, y.float())", "torch.lerp(p, y, 0.5)", "torch.addcmul(p, p, y.float())",
        "torch.mm(A, torch.ones(3, 3, dtype=torch.float64))"]


@pytest.mark.parametrize("text", MIXED)
def test_a_product_of_float32_and_float64_is_refused_as_pytorch_refuses_it(text):
    message = refused(text)
    assert message is not None and "one dtype" in message and "float32" in message and "float64" in message, message
    if "\n" not in text:
        assert torch_raises(text)


@pytest.mark.parametrize("text", SAME)
def test_products_of_one_float_dtype_and_element_wise_mixes_are_answered(text):
    assert refused(text) is None
    if "\n" not in text:
        assert not torch_raises(text)


def test_under_float32_a_double_is_the_odd_one():
    bindings = {"A": np.array(INPUTS["A"]), "B": np.array(INPUTS["B"])}
    with pytest.raises(JacValueError, match="one dtype"):
        api.jacobian("torch.mm(A, B.double())", bindings, dtype="float32")
    api.jacobian("torch.mm(A, B.float())", bindings, dtype="float32")


# --- .view of a computed tensor -------------------------------------------------------------------------------------

VIEWS_REFUSED = ["(A @ B).T.view(-1)", "torch.mm(A, B).t().view(9)", "h = A @ B; h.permute(1, 0).view(9)",
                 "h = torch.exp(A); h.t().view(9)", "(A * 2)[:, :2].view(-1)", "(A + B).mT.view(-1)",
                 "h = torch.sin(A); g = h.T; g.view(-1)", "torch.relu(A).T[:, 0:2].view(-1)",
                 "h = (A @ B).T; h.clone().view(-1)"]
VIEWS_ANSWERED = ["(A @ B).view(-1)", "(A @ B).T.reshape(-1)", "(A @ B).T.contiguous().view(-1)",
                  "(A.T * 2).T.view(-1)", "torch.sin(A)[1].view(-1)", "(A * 2)[:2].view(-1)", "(A @ B).T.T.view(9)",
                  "(A @ B).unsqueeze(0).view(-1)", "(A.T @ B).view(-1)"]


@pytest.mark.parametrize("text", VIEWS_REFUSED)
def test_a_view_pytorch_cannot_take_of_a_computed_tensor_is_refused(text):
    with pytest.raises(JacShapeError, match="view size is not compatible"):
        api.jacobian(text, {k: np.array(INPUTS[k]) for k in names(text)})
    assert torch_raises(text)


@pytest.mark.parametrize("text", VIEWS_ANSWERED)
def test_views_pytorch_takes_of_computed_tensors_are_answered(text):
    assert refused(text) is None
    assert not torch_raises(text)


@pytest.mark.parametrize("text, at, kind", [
    ("h = x.clone(); g = F.softplus(h); h.add_(1); g.sum()", "add_", "value"),
    ("torch.mm(A, A.float())", "torch.mm", "value"),
    ("A.float() @ x", "@", "value"),
    ("(A @ A).T.view(-1)", "view", "shape"),
])
def test_the_refusals_exit_2_with_one_json_error_at_their_column(text, at, kind):
    import contextlib
    import io
    import json

    from jacobi_cli.cli import entry
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["eval", text, "x=[1, 2, 3]", "A=[[1, 2, 0], [0, 1, 2], [2, 0, 1]]", "--json"])
    error = json.loads(out.getvalue())["error"]
    assert code == 2 and error["kind"] == kind
    assert text[error["position"]:].startswith(at), (text, error["position"])
    assert "Traceback" not in err.getvalue()
