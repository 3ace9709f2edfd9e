"""Answered where PyTorch raises, the rest (session 37, h37-dtypes): PyTorch's constructors' float32 default beside a
float64 the text makes (products, layers, losses; torch.set_default_dtype read), inplace=True writes, the saved
tensors of convolutions, norms, losses, pools and cummax / cummin. Each text is run by PyTorch too (parity tests skip
without torch): jac refuses exactly where PyTorch raises, and answers with PyTorch's values where it answers.
benchmarks/raises37_probe.py is the wider differential probe."""
from __future__ import annotations

import ast
import json

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

INPUTS = {"x": [0.5, -1.5, 2.0], "p": [0.5, 1.5, 2.0], "q": [0.1, 0.3, 0.6],
          "A": [[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0], [2.0, -0.5, 1.0]],
          "N": [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 2.0, 0.75], [0.3, -0.6, 1.2]],
          "b": [0.1, -0.2, 0.3],
          "X": [[[0.5, -1.0, 2.0, 0.25, 1.5], [1.0, 0.5, -0.5, 2.0, -1.5]]],
          "W": [[[0.5, -0.25, 1.0], [0.75, 0.5, -1.0]], [[1.0, 0.5, 0.25], [-0.5, 1.5, 0.5]],
                [[0.25, 1.0, -0.75], [0.5, -0.5, 1.25]]],
          "G": [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 2.0, 0.75]],
                [[1.0, 0.5, -2.0], [0.5, 1.25, 0.5], [2.0, -1.0, 0.25]]]}
LEAF64 = "u = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True); "
LEAF = "u = torch.tensor([0.5, -1.5, 2.0], requires_grad=True); "


def names(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def jac_run(text: str):
    """jac's value and Jacobians of ``text`` (its inputs bound from INPUTS), or its refusal's message."""
    bindings = {k: np.array(INPUTS[k]) for k in names(text)}
    try:
        return api.evaluate(text, bindings), api.jacobian(text, bindings)
    except JacError as err:
        return err.message


def torch_run(text: str):
    """PyTorch's value and gradients of the sum of ``text``'s last expression (float64 leaves for the bound names,
    the text's own leaves too), or the RuntimeError's words."""
    torch = pytest.importorskip("torch")
    import torch.nn as nn
    import torch.nn.functional as F
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names(text)}
    scope = {"torch": torch, "F": F, "nn": nn, **leaves}
    *body, last = text.split("; ")
    default = torch.get_default_dtype()
    try:
        exec("\n".join(body), scope)  # noqa: S102 - the test's own texts
        out = eval(last, scope)  # noqa: S307
        made = {k: v for k, v in scope.items() if isinstance(v, torch.Tensor) and v.is_leaf and v.requires_grad
                and k not in leaves and all(v is not w for w in leaves.values())}
        leaves.update(made)
        grads = torch.autograd.grad(out.sum(), list(leaves.values()), allow_unused=True)
    except RuntimeError as err:
        return str(err)
    finally:
        torch.set_default_dtype(default)
    return out.detach().double().numpy(), {k: None if g is None else g.double().numpy()
                                           for k, g in zip(leaves, grads)}


def agrees(text: str) -> None:
    """jac answers ``text`` with PyTorch's value and gradients (the sum's)."""
    theirs, ours = torch_run(text), jac_run(text)
    assert not isinstance(theirs, str), (text, theirs)
    assert not isinstance(ours, str), (text, ours)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    for k, g in theirs[1].items():
        found = ours[1][k].reshape(np.shape(ours[0]) + np.shape(ours[1][k])[np.ndim(ours[0]):])
        summed = found.reshape(int(np.prod(np.shape(ours[0]), dtype=int)), -1).sum(0).reshape(np.shape(g)) \
            if g is not None else None
        np.testing.assert_allclose(summed, g if g is not None else 0 * summed, rtol=1e-7, atol=1e-12,
                                   err_msg=f"{text}: gradient of {k}")


def refused_as_pytorch(text: str, ours_says: str, theirs_say: str) -> None:
    ours = jac_run(text)
    assert isinstance(ours, str) and ours_says in ours, (text, ours)
    theirs = torch_run(text)
    assert isinstance(theirs, str) and theirs_say in theirs, (text, theirs)


# --- PyTorch's constructors make its default dtype, float32 -------------------------------------------------------

MIXES = [
    "x.double() @ torch.ones(3)", "torch.dot(x.double(), torch.zeros(3))", "torch.matmul(torch.tensor([1.0, 2.0, 3.0]), x.double())",
    LEAF64 + "u @ torch.arange(3.0)", LEAF64 + "torch.inner(u, torch.linspace(0, 1, 3))",
    LEAF64 + "torch.mv(torch.outer(u, u), torch.full((3,), 2.0))", LEAF64 + "torch.dot(u, torch.eye(3)[0])",
    "v = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64); torch.dot(v, torch.ones(3) * 2) * x",
    "F.linear(A.double(), torch.ones(2, 3))", "F.linear(x.double(), torch.stack([torch.ones(3), torch.ones(3)]))",
    "P = nn.Parameter(torch.ones(2, 3)); A.double() @ P.T", "torch.mm(torch.ones(3, 3), A.double())",
    "torch.bmm(A.double()[None], torch.ones(1, 3, 3))", "torch.lerp(x.double(), torch.ones(3), 0.5)",
    "c = torch.ones(3); torch.set_default_dtype(torch.float64); x.double() @ c",
    "torch.set_default_dtype(torch.float64); x.float() @ torch.ones(3)", LEAF + "u.double() @ torch.ones(3)",
]


@pytest.mark.parametrize("text", MIXES)
def test_a_constructors_float32_beside_a_float64_the_text_makes_is_refused_as_pytorch_refuses_it(text):
    ours = jac_run(text)
    assert isinstance(ours, str) and "same dtype" in ours, (text, ours)
    theirs = torch_run(text)
    assert isinstance(theirs, str) and ("dtype" in theirs or "found Float" in theirs), (text, theirs)


LAYER_MIXES = ["F.conv1d(X.double(), torch.ones(3, 2, 3))", "F.conv1d(torch.ones(1, 2, 5), W.double())",
               "F.conv1d(X.double(), W.double(), torch.ones(3))", "F.layer_norm(N.double(), (3,), torch.ones(3))",
               "F.batch_norm(N.double(), None, None, torch.ones(3), None, training=True)",
               "F.group_norm(G.double(), 3, torch.ones(3))", "F.prelu(N.double(), torch.ones(1))",
               "F.nll_loss(A.double(), torch.tensor([0, 2, 1]), weight=torch.ones(3))"]


@pytest.mark.parametrize("text", LAYER_MIXES)
def test_layers_and_losses_refuse_the_mix_too(text):
    refused_as_pytorch(text, "same dtype", "")


ANSWERED = [
    "x.double() @ torch.ones(3, dtype=torch.float64)", "x.double() * torch.ones(3)", "x.double() + torch.arange(3.0)",
    "torch.maximum(x.double(), torch.ones(3))", "torch.outer(x.double(), torch.ones(3))",
    "torch.cat([x.double(), torch.ones(3)])", "torch.where(x.double() > 0, x.double(), torch.zeros(3))",
    "torch.set_default_dtype(torch.float64); x.double() @ torch.ones(3)",
    "torch.set_default_dtype(torch.float64); torch.dot(x.double(), torch.tensor([1.0, 2.0, 3.0]))",
    "torch.set_default_dtype(torch.float64); " + LEAF + "u @ torch.linspace(0, 1, 3)",
    "torch.set_default_dtype(torch.float32); x.float() @ torch.ones(3)",
    LEAF + "u @ torch.ones(3)", LEAF64 + "u @ torch.ones(3).double()", "x.double() @ torch.ones(3).double()",
    "torch.dot(x.double(), torch.ones_like(x.double()))", "x.float() @ torch.ones(3) * 0 + x.sum()",
]


@pytest.mark.parametrize("text", ANSWERED)
def test_one_float_dtype_element_wise_promotion_and_the_texts_default_are_answered_with_pytorchs_values(text):
    theirs = torch_run(text)
    if isinstance(theirs, str) and "same dtype" not in theirs:
        pytest.fail(f"{text}: {theirs}")
    ours = jac_run(text)
    assert not isinstance(ours, str), (text, ours)
    if not isinstance(theirs, str):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)


@pytest.mark.parametrize("text", ["x @ torch.ones(3)", "torch.dot(x, torch.tensor([1.0, 2.0, 3.0]))",
                                  "F.linear(A, torch.ones(2, 3))", "torch.mv(A, torch.arange(3.0))"])
def test_a_bound_input_beside_a_constructor_is_answered_in_dtype(text):
    """A binding stands for a tensor of PyTorch's default dtype beside a constructor (as a layer's parameters do),
    computed in --dtype: a deliberate choice, documented (PyTorch run with float64 leaves raises)."""
    value = api.evaluate(text, {k: np.array(INPUTS[k]) for k in names(text)})
    assert np.all(np.isfinite(value))


LAYERS_REFUSED = [LEAF64 + "fc = nn.Linear(3, 2); fc(u).sum() * 0", "fc = nn.Linear(3, 2); fc(x.double()).sum() * 0",
                  LEAF64 + "fc = nn.LayerNorm(3); fc(u).sum() * 0", LEAF64 + "fc = nn.Conv1d(1, 2, 2); fc(u[None, None]).sum() * 0",
                  LEAF64 + "fc = nn.Linear(3, 2).double(); fc(u.float()).sum() * 0"]
LAYERS_ANSWERED = [LEAF64 + "fc = nn.Linear(3, 2).double(); fc(u).sum() * 0",
                   LEAF64 + "fc = nn.Linear(3, 2); fc.double(); fc(u).sum() * 0",
                   LEAF64 + "fc = nn.Linear(3, 2); fc.to(torch.float64); fc(u).sum() * 0",
                   LEAF64 + "fc = nn.Linear(3, 2, dtype=torch.float64); fc(u).sum() * 0",
                   LEAF64 + "fc = nn.Linear(3, 2); fc(u.float()).sum() * 0", LEAF + "fc = nn.Linear(3, 2); fc(u).sum() * 0",
                   "torch.set_default_dtype(torch.float64); " + LEAF64 + "fc = nn.Linear(3, 2); fc(u).sum() * 0",
                   LEAF64 + "fc = nn.ReLU(); fc(u).sum() * 0"]


@pytest.mark.parametrize("text", LAYERS_REFUSED)
def test_a_layer_of_pytorchs_default_dtype_called_on_a_float64_the_text_makes_is_refused(text):
    ours = jac_run(text)
    assert isinstance(ours, str) and "parameters are float" in ours, (text, ours)
    theirs = torch_run(text)
    assert isinstance(theirs, str) and ("dtype" in theirs or "type (float)" in theirs), (text, theirs)


@pytest.mark.parametrize("text", LAYERS_ANSWERED)
def test_a_layer_converted_made_with_a_dtype_or_of_one_dtype_with_its_input_is_answered(text):
    agrees(text)


def test_set_default_dtype_float64_under_float32_is_refused_and_half_as_before():
    with pytest.raises(JacError, match="run with dtype='float64'"):
        api.evaluate("torch.set_default_dtype(torch.float64); x @ torch.ones(3)", {"x": np.ones(3)}, dtype="float32")
    with pytest.raises(JacError, match="is not needed"):
        api.evaluate("torch.set_default_dtype(torch.float16); x", {"x": np.ones(3)})


def test_the_refusal_exits_2_with_one_json_error_at_the_operator(capsys):
    from jacobi_cli.cli.entry import main
    code = main(["eval", "x.double() @ torch.ones(3)", "x=[1,2,3]", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and out["error"]["kind"] == "value" and out["error"]["position"] == 11
    assert "'torch.ones(3)' is float32" in out["error"]["message"]


# --- inplace=True -------------------------------------------------------------------------------------------------

INPLACE = ["F.relu({h}, inplace=True)", "nn.ReLU(inplace=True)({h})", "F.leaky_relu({h}, 0.1, inplace=True)",
           "nn.ELU(inplace=True)({h})", "F.hardtanh({h}, inplace=True)", "F.threshold({h}, 0.1, 0.0, inplace=True)",
           "F.dropout({h}, 0.0, inplace=True)", "F.dropout({h}, 0.5, training=False, inplace=True)",
           "nn.Dropout(0.0, inplace=True)({h})", "F.relu({h}, True)", "F.silu({h}, inplace=True)"]
PRODUCERS = ["x * 1", "torch.sigmoid(x)", "torch.exp(x)", "torch.sin(x)", "(x * 1)[:2]", "x"]


@pytest.mark.parametrize("op", INPLACE)
def test_parity_inplace_true_is_refused_exactly_where_pytorch_raises(op):
    for made in PRODUCERS:
        w = op.format(h="h")
        for text in [f"h = {made}; {w}; h", f"h = {made}; g = {w}; g * 2", f"h = {made}; k = torch.sin(h); {w}; k + h",
                     f"h = {made}; k = h * 2; {w}; k"]:
            theirs = torch_run(text)
            if isinstance(theirs, str):
                ours = jac_run(text)
                assert isinstance(ours, str), (text, theirs)
            else:
                agrees(text)


# --- saved tensors of layers, losses, pools -----------------------------------------------------------------------

SAVED = [  # (text, PyTorch raises)
    ("h = X.clone(); g = F.conv1d(h, W, b); h.add_(1); g", True),
    ("k = W.clone(); g = F.conv1d(X.detach(), k, b); k.add_(1); g", True),
    ("k = b.clone(); g = F.conv1d(X, W, k); k.add_(1); g", False),
    ("k = b.clone(); g = F.conv1d(X, W, bias=k); k.add_(1); g", False),
    ("h = X.clone(); g = F.conv1d(h, W.detach()); h.add_(1); g", True),
    ("h = N.clone(); g = F.batch_norm(h, None, None, b, None, training=True); h.add_(1); g", True),
    ("k = b.clone(); g = F.batch_norm(N, None, None, k, None, training=True); k.add_(1); g", True),
    ("k = b.clone(); g = F.batch_norm(N, None, None, None, k, training=True); k.add_(1); g", False),
    ("k = b.clone(); g = F.batch_norm(N, None, None, bias=k, training=True); k.add_(1); g", False),
    ("k = b.clone(); g = F.batch_norm(N, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64), "
     "k, None, training=False); k.add_(1); g", True),
    ("k = b.clone(); g = torch.batch_norm(N, k, None, None, None, True, 0.1, 1e-5, False); k.add_(1); g", True),
    ("k = b.clone(); g = torch.batch_norm(N, None, k, None, None, True, 0.1, 1e-5, False); k.add_(1); g", False),
    ("k = b.clone(); g = F.layer_norm(N, (3,), None, k); k.add_(1); g", True),
    ("k = b.clone(); g = F.layer_norm(N, (3,), weight=k); k.add_(1); g", True),
    ("k = b.clone(); g = F.instance_norm(G, weight=k); k.add_(1); g", False),
    ("h = G.clone(); g = F.instance_norm(h); h.add_(1); g", True),
    ("k = b.clone(); g = F.group_norm(G, 3, k); k.add_(1); g", True),
    ("k = b.clone(); g = F.group_norm(G, 3, torch.ones(3, dtype=torch.float64), k); k.add_(1); g", False),
    ("h = A.clone(); g = F.cross_entropy(h, torch.tensor([0, 2, 1])); h.add_(1); g", False),
    ("k = p.detach().clone(); g = F.cross_entropy(A, torch.tensor([0, 2, 1]), weight=k); k.add_(1); g", True),
    ("h = A.clone(); g = F.nll_loss(h, torch.tensor([0, 2, 1])); h.add_(1); g", True),
    ("h = q.clone(); g = F.binary_cross_entropy(h, p.detach() / 3); h.add_(1); g", True),
    ("h = X.clone(); g = F.max_pool1d(h, 2); h.add_(1); g", True),
    ("h = X.clone(); g = F.max_pool1d(h, 2); g.mul_(2); g", False),
    ("h = A.clone(); g = F.pairwise_distance(h, A.detach()); g.mul_(2); g", True),
    ("h = A.clone(); g = F.pairwise_distance(h, A.detach()); h.add_(1); g", False),
    ("h = A.detach().clone(); g = F.cosine_similarity(A, h); h.add_(1); g", False),
    ("h = A.clone(); g = F.cosine_similarity(A.detach(), h); h.add_(1); g", True),
    ("h = p.clone(); g = torch.cummax(h, 0).values; h.add_(1); g", True),
    ("h = p.clone(); v, i = torch.cummin(h, 0); h.add_(1); v", True),
    ("h = A.clone(); g = h.cummax(1)[0]; h.add_(1); g", True),
    ("h = p.clone(); g = torch.cummax(h, 0).values; g.mul_(2); g", False),
    ("h = p.clone(); g = torch.gather(h, 0, torch.tensor([1, 1])); h.add_(1); g", True),
    ("h = p.clone(); g = torch.index_select(h, 0, torch.tensor([2, 0])); h.add_(1); g", False),
    ("h = p.clone(); g = torch.flip(h, [0]); h.add_(1); g", False),
    ("h = A.clone(); g = F.embedding(torch.tensor([0, 2]), h); h.add_(1); g", False),
    ("h = A.clone(); g = F.embedding(torch.tensor([0, 2]), h); g.mul_(2); g", False),
]


@pytest.mark.parametrize("text,raises", SAVED)
def test_parity_a_write_into_a_saved_tensor_is_refused_exactly_where_pytorch_raises(text, raises):
    theirs = torch_run(text)
    assert isinstance(theirs, str) == raises, (text, theirs)
    if raises:
        assert "modified by an inplace operation" in theirs
        ours = jac_run(text)
        assert isinstance(ours, str) and "modified by an inplace operation" in ours, (text, ours)
    else:
        agrees(text)


def test_the_refusal_names_the_layer_as_spelled():
    text = "k = b.clone(); g = torch.batch_norm(N, k, None, None, None, True, 0.1, 1e-5, False); k.add_(1); g.sum()"
    said = jac_run(text)
    assert isinstance(said, str) and "torch.batch_norm saved 'k'" in said
