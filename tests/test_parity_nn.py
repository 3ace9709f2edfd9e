"""Parity with PyTorch 2.13 for the layers of torch.nn.functional that lower onto jac's ops:
linear, the normalizations, dropout, glu, embedding, one_hot, scaled_dot_product_attention
(see tests/parity.py), and the argument errors PyTorch refuses too."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(29)
x4 = rng.uniform(-1, 1, 4)
A = rng.uniform(-1, 1, (3, 4))
W = rng.uniform(-1, 1, (2, 4))
b2 = rng.uniform(-1, 1, 2)
w4, c4 = rng.uniform(0.5, 1.5, 4), rng.uniform(-1, 1, 4)
T = rng.uniform(-1, 1, (2, 3, 4))
N4 = rng.uniform(-1, 1, (2, 4, 3))        # (N, C, L) with 4 channels
w3, c3 = rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3)
E = rng.uniform(-1, 1, (5, 3))            # an embedding table
Q, K, V = rng.uniform(-1, 1, (2, 3, 4)), rng.uniform(-1, 1, (2, 5, 4)), rng.uniform(-1, 1, (2, 5, 2))
RM, RV = [0.1, -0.2, 0.3, 0.0], [0.5, 1.0, 2.0, 0.7]


def _t(v):
    return torch.tensor(v, dtype=torch.float64)


CASES = [
    ("F.linear(x, W)", {"x": x4, "W": W}, lambda x, W: F.linear(x, W)),
    ("F.linear(A, W, b)", {"A": A, "W": W, "b": b2}, lambda A, W, b: F.linear(A, W, b)),
    ("F.linear(T, W, bias=b)", {"T": T, "W": W, "b": b2}, lambda T, W, b: F.linear(T, W, bias=b)),
    ("F.linear(A, x)", {"A": A, "x": x4}, lambda A, x: F.linear(A, x)),
    ("F.linear(x, W, b).sum() ** 2", {"x": x4, "W": W, "b": b2}, lambda x, W, b: F.linear(x, W, b).sum() ** 2),
    ("F.layer_norm(A, (4,))", {"A": A}, lambda A: F.layer_norm(A, (4,))),
    ("F.layer_norm(A, [4], w, c)", {"A": A, "w": w4, "c": c4}, lambda A, w, c: F.layer_norm(A, [4], w, c)),
    ("F.layer_norm(T, (3, 4), eps=0.1)", {"T": T}, lambda T: F.layer_norm(T, (3, 4), eps=0.1)),
    ("(F.layer_norm(x, (4,), weight=w) * c).sum()", {"x": x4, "w": w4, "c": c4},
     lambda x, w, c: (F.layer_norm(x, (4,), weight=w) * c).sum()),
    ("F.layer_norm(x * 0 + 2, (4,))", {"x": x4}, lambda x: F.layer_norm(x * 0 + 2, (4,))),
    ("F.rms_norm(A, (4,))", {"A": A}, lambda A: F.rms_norm(A, (4,))),
    ("F.rms_norm(T, (3, 4), eps=1e-3)", {"T": T}, lambda T: F.rms_norm(T, (3, 4), eps=1e-3)),
    ("(F.rms_norm(x, [4], w) * c).sum()", {"x": x4, "w": w4, "c": c4},
     lambda x, w, c: (F.rms_norm(x, [4], w) * c).sum()),
    ("F.group_norm(N, 2)", {"N": N4}, lambda N: F.group_norm(N, 2)),
    ("F.group_norm(N, 4, w, c, eps=0.01)", {"N": N4, "w": w4, "c": c4},
     lambda N, w, c: F.group_norm(N, 4, w, c, eps=0.01)),
    ("F.group_norm(N, 1, weight=w)", {"N": N4, "w": w4}, lambda N, w: F.group_norm(N, 1, weight=w)),
    ("F.instance_norm(N)", {"N": N4}, lambda N: F.instance_norm(N)),
    ("F.instance_norm(N, weight=w, bias=c)", {"N": N4, "w": w4, "c": c4},
     lambda N, w, c: F.instance_norm(N, weight=w, bias=c)),
    (f"F.instance_norm(N, {RM}, {RV}, use_input_stats=False)", {"N": N4},
     lambda N: F.instance_norm(N, _t(RM), _t(RV), use_input_stats=False)),
    (f"F.batch_norm(N, {RM}, {RV})", {"N": N4}, lambda N: F.batch_norm(N, _t(RM), _t(RV))),
    (f"F.batch_norm(N, {RM}, {RV}, w, c, eps=0.1)", {"N": N4, "w": w4, "c": c4},
     lambda N, w, c: F.batch_norm(N, _t(RM), _t(RV), w, c, eps=0.1)),
    ("F.batch_norm(A, None, None, training=True)", {"A": A}, lambda A: F.batch_norm(A, None, None, training=True)),
    (f"F.batch_norm(N, {RM}, {RV}, w, c, training=True)", {"N": N4, "w": w4, "c": c4},
     lambda N, w, c: F.batch_norm(N, _t(RM), _t(RV), w, c, training=True)),
    ("(F.batch_norm(N, None, None, training=True) ** 3).sum()", {"N": N4},
     lambda N: (F.batch_norm(N, None, None, training=True) ** 3).sum()),
    ("F.dropout(A, training=False)", {"A": A}, lambda A: F.dropout(A, training=False)),
    ("F.dropout(A, p=0)", {"A": A}, lambda A: F.dropout(A, p=0)),
    ("F.dropout2d(T, 0.3, False)", {"T": T}, lambda T: F.dropout2d(T, 0.3, False)),
    ("F.alpha_dropout(A)", {"A": A}, lambda A: F.alpha_dropout(A)),
    ("F.glu(A)", {"A": A}, lambda A: F.glu(A)),
    ("F.glu(T, dim=1 - 2)", {"T": T}, lambda T: F.glu(T, dim=-1)),
    ("F.glu(x).sum()", {"x": x4}, lambda x: F.glu(x).sum()),
    ("F.embedding(torch.tensor([[0, 4], [2, 0]]), E)", {"E": E},
     lambda E: F.embedding(torch.tensor([[0, 4], [2, 0]]), E)),
    ("F.embedding(torch.tensor([1, 3, 1]), E, padding_idx=1)", {"E": E},
     lambda E: F.embedding(torch.tensor([1, 3, 1]), E, padding_idx=1)),
    ("(F.embedding([4, 3], E, padding_idx=-1) ** 2).sum()", {"E": E},
     lambda E: (F.embedding(torch.tensor([4, 3]), E, padding_idx=-1) ** 2).sum()),
    ("F.one_hot(torch.tensor([0, 2, 1]), 4) * x", {"x": x4},
     lambda x: F.one_hot(torch.tensor([0, 2, 1]), 4) * x),
    ("F.one_hot(torch.tensor([[0, 2], [3, 1]])) @ x", {"x": x4},
     lambda x: F.one_hot(torch.tensor([[0, 2], [3, 1]])).double() @ x),
    ("F.scaled_dot_product_attention(Q, K, V)", {"Q": Q, "K": K, "V": V},
     lambda Q, K, V: F.scaled_dot_product_attention(Q, K, V)),
    ("F.scaled_dot_product_attention(Q, K, V, is_causal=True, scale=0.7)", {"Q": Q, "K": K, "V": V},
     lambda Q, K, V: F.scaled_dot_product_attention(Q, K, V, is_causal=True, scale=0.7)),
    ("F.scaled_dot_product_attention(K, Q, Q, is_causal=True)", {"Q": Q, "K": K},
     lambda Q, K: F.scaled_dot_product_attention(K, Q, Q, is_causal=True)),
    ("F.scaled_dot_product_attention(Q, K, V, attn_mask=M)", {"Q": Q, "K": K, "V": V, "M": A[:, :1] + E.T[:, :5]},
     lambda Q, K, V, M: F.scaled_dot_product_attention(Q, K, V, attn_mask=M)),
    ("F.scaled_dot_product_attention(Q, K, V, torch.tensor([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]) > 0)",
     {"Q": Q, "K": K, "V": V},
     lambda Q, K, V: F.scaled_dot_product_attention(
         Q, K, V, torch.tensor([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]) > 0)),
    ("F.scaled_dot_product_attention(Q, K, V, attn_mask=M)",
     {"Q": Q, "K": K, "V": V, "M": np.where([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], 0.5, -np.inf)},
     lambda Q, K, V, M: F.scaled_dot_product_attention(Q, K, V, attn_mask=M)),
    # boolean masks through a triangle, a transpose, an index; float masks with -inf
    ("F.scaled_dot_product_attention(Q, K, V, torch.tril(torch.ones(3, 5, dtype=torch.bool), 1))",
     {"Q": Q, "K": K, "V": V},
     lambda Q, K, V: F.scaled_dot_product_attention(Q, K, V, torch.tril(torch.ones(3, 5, dtype=torch.bool), 1))),
    # torch.where(c, True, False) is a bool tensor in PyTorch: a boolean mask (jac tracks its dtype)
    ("F.scaled_dot_product_attention(Q, K, V, torch.where(Q[0, :, :1] > K[0, :, 0], True, False))",
     {"Q": Q, "K": K, "V": V},
     lambda Q, K, V: F.scaled_dot_product_attention(Q, K, V, torch.where(Q[0, :, :1] > K[0, :, 0], True, False))),
    ("F.scaled_dot_product_attention(Q, K, V, (M.T > 0).T[None])", {"Q": Q, "K": K, "V": V, "M": A[:, :1] - E.T},
     lambda Q, K, V, M: F.scaled_dot_product_attention(Q, K, V, (M > 0)[None])),
    ("F.scaled_dot_product_attention(Q, K, V, M.masked_fill(M > 0, -inf))", {"Q": Q, "K": K, "V": V, "M": A[:, :1] - E.T},
     lambda Q, K, V, M: F.scaled_dot_product_attention(Q, K, V, M.masked_fill(M > 0, -np.inf))),
    ("F.scaled_dot_product_attention(x[:2].reshape(1, 2), K[0][:, :2], V[0]).sum()", {"x": x4, "K": K, "V": V},
     lambda x, K, V: F.scaled_dot_product_attention(x[:2].reshape(1, 2), K[0][:, :2], V[0]).sum()),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{k}-{c[0]}" for k, c in enumerate(CASES)])
def test_layers_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


VALUES = {"x": x4, "A": A, "W": W, "b": b2, "T": T, "N": N4, "E": E, "Q": Q, "K": K, "V": V}
REFUSED = [
    ("F.linear(A, W.T)", "weight must be"),
    ("F.linear(A, T)", "weight must be"),
    ("F.linear(A, W, x)", "bias of shape"),
    ("F.layer_norm(A, (3,))", "normalized_shape=\\[3\\]"),
    ("F.layer_norm(A, ())", "at least one size"),
    ("F.layer_norm(A, (4,), weight=b)", "weight must have the shape"),
    ("F.layer_norm(A, (4,), eps=-1)", "eps"),
    ("F.rms_norm(T, (2, 4))", "normalized_shape"),
    ("F.group_norm(N, 3)", "num_groups=3"),
    ("F.group_norm(x, 1)", "at least 2 dimensions"),
    ("F.group_norm(N, 2, weight=b)", "weight must have one entry per channel"),
    ("F.instance_norm(A)", "at least 3 dimensions"),
    ("F.instance_norm(N[:, :, :1])", "more than 1 value"),
    ("F.instance_norm(N, use_input_stats=False)", "running_mean and running_var"),
    ("F.batch_norm(N, None, None)", "running_mean and running_var"),
    ("F.batch_norm(N, b, b)", "running_mean must have one entry"),
    ("F.batch_norm(A[:1], None, None, training=True)", "more than 1 value"),
    ("F.batch_norm(N)", "missing its argument 'running_mean'"),
    ("F.batch_norm(N, None, None, training='yes')", "training must be True or False"),
    ("F.dropout(A)", "random.*training=False"),
    ("F.dropout(A, 0.2, True)", "random"),
    ("F.dropout(A, p=1.5, training=False)", "between 0 and 1"),
    ("F.feature_alpha_dropout(A, training=True)", "random"),
    ("F.glu(A[:, :3])", "even size"),
    ("F.glu(x[0])", "scalar"),
    ("F.glu(A, dim=2)", "glu"),
    ("F.embedding([0, 5], E)", "out of range"),
    ("F.embedding([0, -1], E)", ">= 0"),
    ("F.embedding([0.5], E)", "integers"),
    ("F.embedding(x, E)", "integers"),  # an input of integers is read (paste15)
    ("F.embedding([0], x)", "2-d"),
    ("F.embedding([0], E, max_norm=1.0)", "max_norm"),
    ("F.embedding([0], E, scale_grad_by_freq=True)", "scale_grad_by_freq"),
    ("F.embedding([0], E, padding_idx=5)", "padding_idx=5"),
    ("F.one_hot([0, 3], 3)", "from 0 to 2"),
    ("F.one_hot([0, -1], 3)", "from 0 to 2"),
    ("F.one_hot(x, -1)", "num_classes="),
    ("F.scaled_dot_product_attention(Q, K, V, dropout_p=0.1)", "random"),
    ("F.scaled_dot_product_attention(Q, K, V, A, is_causal=True)", "not both"),
    ("F.scaled_dot_product_attention(Q, V, V)", "do not fit"),
    ("F.scaled_dot_product_attention(Q, K, V[:, :4])", "do not fit"),
    ("F.scaled_dot_product_attention(Q[0], K[0], V[0], enable_gqa=True)", "enable_gqa=True needs a heads axis"),
    ("F.scaled_dot_product_attention(Q, K, V, scale='x')", "scale must be a number"),
    ("F.scaled_dot_product_attention(Q, K, V, torch.tril(torch.ones(3, 5)))", "cannot tell"),
    ("F.scaled_dot_product_attention(Q, K, V, [[1.0, 0, 1, 1, 0]])", "cannot tell"),
    ("F.scaled_dot_product_attention(Q, K, V, Q[0] > 0)", "attn_mask of shape \\(3, 4\\)"),
    ("F.scaled_dot_product_attention(Q[0], K[0], V[0], ones(2, 3, 5) > 0)", "attn_mask of shape \\(2, 3, 5\\)"),
]


@pytest.mark.parametrize("expr, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_pytorch_refuses_is_refused_naming_the_argument(expr, words):
    with pytest.raises(JacError, match=words):
        api.jacobian(expr, {k: v for k, v in VALUES.items() if k in expr})


def test_a_one_hot_of_inputs_is_a_constant():
    value = api.evaluate("F.one_hot(i, 4) * x", {"i": np.array([3.0, 0.0]), "x": x4})
    assert np.array_equal(value, np.array([[0, 0, 0, x4[3]], [x4[0], 0, 0, 0]]))
    assert not api.jacobian("F.one_hot(i, 4) * x", {"i": np.array([3.0, 0.0]), "x": x4})["i"].any()


X1 = rng.uniform(-1, 1, (2, 4, 7))        # (N, C, L)
W1 = rng.uniform(-1, 1, (6, 2, 3))        # 6 outputs, 4 channels in 2 groups
X2 = rng.uniform(-1, 1, (1, 2, 5, 6))     # (N, C, H, W)
W2 = rng.uniform(-1, 1, (3, 2, 2, 3))
c6 = rng.uniform(-1, 1, 6)
TIES = np.array([[[1.0, 3.0, 3.0, 2.0, 2.0, 2.0, -1.0, 5.0, 5.0]]])   # ties inside windows, and across them
NANS = np.array([[[1.0, np.nan, 2.0, np.nan, np.nan, 3.0, 0.5, np.nan]]])
MINUS_INF = np.array([[[-np.inf, -np.inf, 1.0, -np.inf, -np.inf, -np.inf, 2.0, -np.inf]]])
TIES2 = np.round(rng.uniform(-1, 1, (1, 1, 4, 6)) * 2) / 2            # many ties

CONVS = [
    ("F.conv1d(X, W)", {"X": X1, "W": W1[:, :, :2].repeat(2, axis=1)},
     lambda X, W: F.conv1d(X, W)),
    ("F.conv1d(X, W, c, groups=2)", {"X": X1, "W": W1, "c": c6}, lambda X, W, c: F.conv1d(X, W, c, groups=2)),
    ("F.conv1d(X, W, stride=2, padding=1, dilation=2, groups=2)", {"X": X1, "W": W1},
     lambda X, W: F.conv1d(X, W, stride=2, padding=1, dilation=2, groups=2)),
    ("F.conv1d(X, W, padding='same', groups=2)", {"X": X1, "W": W1},
     lambda X, W: F.conv1d(X, W, padding="same", groups=2)),
    ("F.conv1d(X[0], W[:, :, :2], padding='same', dilation=3, groups=2)", {"X": X1, "W": W1},
     lambda X, W: F.conv1d(X[0], W[:, :, :2], padding="same", dilation=3, groups=2)),
    ("F.conv1d(X, W, padding='valid', groups=4)", {"X": X1, "W": W1[:4, :1]},
     lambda X, W: F.conv1d(X, W, padding="valid", groups=4)),
    ("(F.conv1d(X, W, groups=2) ** 2).sum()", {"X": X1[:1, :, :4], "W": W1[:2]},
     lambda X, W: (F.conv1d(X, W, groups=2) ** 2).sum()),
    ("F.conv2d(X, W)", {"X": X2, "W": W2}, lambda X, W: F.conv2d(X, W)),
    ("F.conv2d(X, W, c, stride=(2, 1), padding=(1, 2), dilation=(1, 2))", {"X": X2, "W": W2, "c": c6[:3]},
     lambda X, W, c: F.conv2d(X, W, c, stride=(2, 1), padding=(1, 2), dilation=(1, 2))),
    ("F.conv2d(X, W, padding='same')", {"X": X2, "W": W2}, lambda X, W: F.conv2d(X, W, padding="same")),
    ("F.conv2d(X[0], W, groups=2, stride=2)", {"X": X2, "W": W2[:2, :1]},
     lambda X, W: F.conv2d(X[0], W, groups=2, stride=2)),
    ("F.avg_pool1d(X, 3)", {"X": X1}, lambda X: F.avg_pool1d(X, 3)),
    ("F.avg_pool1d(X, 3, stride=2, padding=1)", {"X": X1}, lambda X: F.avg_pool1d(X, 3, stride=2, padding=1)),
    ("F.avg_pool1d(X, 4, 2, 2, count_include_pad=False)", {"X": X1},
     lambda X: F.avg_pool1d(X, 4, 2, 2, count_include_pad=False)),
    ("F.avg_pool1d(X, 2, ceil_mode=True)", {"X": X1[:, :, :6]}, lambda X: F.avg_pool1d(X, 2, ceil_mode=True)),
    # ceil_mode=True with a partial last window: PyTorch's divisor counts the window within the padded input
    ("F.avg_pool1d(X, 2, ceil_mode=True)", {"X": X1}, lambda X: F.avg_pool1d(X, 2, ceil_mode=True)),
    ("F.avg_pool1d(X, 3, 2, 1, ceil_mode=True, count_include_pad=False)", {"X": X1[:, :, :6]},
     lambda X: F.avg_pool1d(X, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("F.avg_pool2d(X, 2, ceil_mode=True, divisor_override=3)", {"X": X2},
     lambda X: F.avg_pool2d(X, 2, ceil_mode=True, divisor_override=3)),
    ("F.max_pool1d(X, 2, ceil_mode=True)", {"X": X1}, lambda X: F.max_pool1d(X, 2, ceil_mode=True)),
    ("F.max_pool2d(X, 3, 2, 1, dilation=1, ceil_mode=True)", {"X": X2},
     lambda X: F.max_pool2d(X, 3, 2, 1, ceil_mode=True)),
    ("F.lp_pool1d(X, 2.0, 2, ceil_mode=True)", {"X": X1}, lambda X: F.lp_pool1d(X, 2.0, 2, ceil_mode=True)),
    ("F.avg_pool2d(X, 2)", {"X": X2}, lambda X: F.avg_pool2d(X, 2)),
    ("F.avg_pool2d(X, (3, 2), stride=(1, 2), padding=(1, 0), count_include_pad=False)", {"X": X2},
     lambda X: F.avg_pool2d(X, (3, 2), stride=(1, 2), padding=(1, 0), count_include_pad=False)),
    ("F.avg_pool2d(X[0], 2, padding=1, divisor_override=3)", {"X": X2},
     lambda X: F.avg_pool2d(X[0], 2, padding=1, divisor_override=3)),
    ("F.max_pool1d(X, 3)", {"X": X1}, lambda X: F.max_pool1d(X, 3)),
    ("F.max_pool1d(X, 3, stride=1, padding=1, dilation=2)", {"X": X1},
     lambda X: F.max_pool1d(X, 3, stride=1, padding=1, dilation=2)),
    ("F.max_pool1d(X, 3, 1)", {"X": TIES}, lambda X: F.max_pool1d(X, 3, 1)),
    ("F.max_pool1d(X, 2, padding=1)", {"X": -np.abs(TIES)}, lambda X: F.max_pool1d(X, 2, padding=1)),
    ("F.max_pool2d(X, 2)", {"X": X2}, lambda X: F.max_pool2d(X, 2)),
    ("F.max_pool2d(X, (2, 3), stride=1, padding=(1, 1), dilation=(2, 1))", {"X": X2},
     lambda X: F.max_pool2d(X, (2, 3), stride=1, padding=(1, 1), dilation=(2, 1))),
    ("F.max_pool2d(X, 2, 1)", {"X": TIES2}, lambda X: F.max_pool2d(X, 2, 1)),
    ("F.max_pool2d(X, 3, 2, 1)", {"X": TIES2}, lambda X: F.max_pool2d(X, 3, 2, 1)),
    ("(F.max_pool2d(X[0], 2, 1) ** 2).sum()", {"X": TIES2}, lambda X: (F.max_pool2d(X[0], 2, 1) ** 2).sum()),
    # a NaN in a window: PyTorch's derivative goes to the window's last NaN
    ("F.max_pool1d(X, 3, 1)", {"X": NANS}, lambda X: F.max_pool1d(X, 3, 1)),
    ("F.max_pool2d(X, 2, 1, padding=1)", {"X": NANS.reshape(1, 2, 4)}, lambda X: F.max_pool2d(X, 2, 1, padding=1)),
    # windows of -inf beside padding: the derivative goes to a real element, never to the padding
    ("F.max_pool1d(X, 3, 2, padding=1)", {"X": MINUS_INF}, lambda X: F.max_pool1d(X, 3, 2, padding=1)),
    ("F.max_pool2d(X, 3, 1, padding=1, dilation=(1, 2))", {"X": MINUS_INF.reshape(1, 2, 4)},
     lambda X: F.max_pool2d(X, 3, 1, padding=1, dilation=(1, 2))),
]


@pytest.mark.parametrize("case", CONVS, ids=[f"conv-{k}-{c[0]}" for k, c in enumerate(CONVS)])
def test_convolutions_and_pooling_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


CONV_VALUES = {"X": X1, "W": W1, "c": c6, "Y": X2, "V": W2}
CONV_REFUSED = [
    ("F.conv1d(X, W)", "groups=1"),
    ("F.conv1d(X, W, groups=3)", "groups=3"),
    ("F.conv1d(X, W, groups=0)", "groups=0"),
    ("F.conv1d(X, W[0], groups=2)", "weight must be"),
    ("F.conv1d(X[0, 0], W, groups=2)", "input must be"),
    ("F.conv1d(X, W, c[:5], groups=2)", "bias must have one entry"),
    ("F.conv1d(X, W, groups=2, stride=0)", "stride must be >= 1"),
    ("F.conv1d(X, W, groups=2, padding=-1)", "padding must be >= 0"),
    ("F.conv1d(X, W, groups=2, padding='same', stride=2)", "strided"),
    ("F.conv1d(X, W, groups=2, padding='full')", "'valid', 'same'"),
    ("F.conv1d(X, W, groups=2, dilation=4)", "kernel spans 9"),
    ("F.conv2d(Y, V, stride=(1, 2, 3))", "stride must be one integer or 2"),
    ("F.conv2d(X[0], V)", "input must be"),
    ("F.avg_pool1d(X, 3, padding=2)", "at most half"),
    ("F.avg_pool1d(X, 8)", "kernel spans 8"),
    ("F.avg_pool2d(Y, 2, divisor_override=0)", "divisor_override"),
    ("F.avg_pool2d(X[0], 2)", "avg_pool2d"),
    ("F.max_pool2d(Y, 0)", "kernel_size must be >= 1"),
    ("F.max_pool2d(Y, 2, padding=2)", "at most half"),
]


@pytest.mark.parametrize("expr, words", CONV_REFUSED, ids=[c[0] for c in CONV_REFUSED])
def test_what_pytorch_refuses_in_convolutions_is_refused(expr, words):
    with pytest.raises(JacError, match=words):
        api.jacobian(expr, {k: v for k, v in CONV_VALUES.items() if k in expr})


def test_max_pooling_gives_a_tie_to_the_first_maximum_of_the_window():
    grad = api.jacobian("F.max_pool1d(x, 3)", {"x": np.array([[2.0, 1.0, 2.0]])})["x"]
    assert np.array_equal(grad, np.array([[[[1.0, 0.0, 0.0]]]]))


def _torch_convolve(a, v, mode="full"):
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    full = F.conv1d(a[None, None], v.flip(0)[None, None], padding=m - 1)[0, 0]
    start, count = {"full": (0, n + m - 1), "same": ((m - 1) // 2, n), "valid": (m - 1, n - m + 1)}[mode]
    return full[start:start + count]


def _torch_polyval(p, x):
    y = torch.zeros_like(x)
    for c in p:
        y = y * x + c
    return y


p4 = rng.uniform(-1, 1, 4)
a7, v3 = rng.uniform(-1, 1, 7), rng.uniform(-1, 1, 3)
LAST = [
    ("F.pad(X, (1, 2), mode='reflect')", {"X": X1}, lambda X: F.pad(X, (1, 2), mode="reflect")),
    ("F.pad(X, (2, 1, 0, 3), mode='replicate')", {"X": X1}, lambda X: F.pad(X, (2, 1, 0, 3), mode="replicate")),
    ("F.pad(Y, (6, 1, 5, 0), mode='circular')", {"Y": X2}, lambda Y: F.pad(Y, (6, 1, 5, 0), mode="circular")),
    ("(F.pad(X[0], (3, 3), 'reflect') ** 2).sum()", {"X": X1[:, :, :4]},
     lambda X: (F.pad(X[0], (3, 3), "reflect") ** 2).sum()),
    ("np.pad(x, 2, mode='edge')", {"x": x4}, lambda x: F.pad(x[None], (2, 2), mode="replicate")[0]),
    ("np.pad(A, ((1, 2), (3, 0)), mode='reflect')", {"A": A},
     lambda A: F.pad(A[None], (3, 0, 1, 2), mode="reflect")[0]),
    ("np.pad(A, ((1, 3), (2, 0)), mode='wrap')", {"A": A}, lambda A: F.pad(A[None], (2, 0, 1, 3), mode="circular")[0]),
    ("np.pad(x, (2, 3), mode='symmetric')", {"x": x4}, lambda x: torch.cat([x[:2].flip(0), x, x[1:].flip(0)])),
    ("np.pad(x, 9, mode='reflect')", {"x": x4}, lambda x: x[torch.tensor(
        [abs((i + 3) % 6 - 3) for i in range(-9, 13)])]),
    ("x.unfold(0, 2, 1)", {"x": x4}, lambda x: x.unfold(0, 2, 1)),
    ("T.unfold(2, 3, 1)", {"T": T}, lambda T: T.unfold(2, 3, 1)),
    ("T.unfold(dimension=1, size=2, step=2)", {"T": T}, lambda T: T.unfold(dimension=1, size=2, step=2)),
    ("(A.unfold(-1, 3, 1) ** 2).sum()", {"A": A}, lambda A: (A.unfold(-1, 3, 1) ** 2).sum()),
    ("np.convolve(a, v)", {"a": a7, "v": v3}, lambda a, v: _torch_convolve(a, v)),
    ("np.convolve(v, a, 'same')", {"a": a7, "v": v3}, lambda a, v: _torch_convolve(v, a, "same")),
    ("np.convolve(a[:4], v[:2], mode='same')", {"a": a7, "v": v3}, lambda a, v: _torch_convolve(a[:4], v[:2], "same")),
    ("np.convolve(a, v, mode='valid')", {"a": a7, "v": v3}, lambda a, v: _torch_convolve(a, v, "valid")),
    ("np.convolve(a, v).sum() ** 2", {"a": a7, "v": v3}, lambda a, v: _torch_convolve(a, v).sum() ** 2),
    ("np.polyval(p, x)", {"p": p4, "x": x4}, lambda p, x: _torch_polyval(p, x)),
    ("np.polyval(p, A)", {"p": p4, "A": A}, lambda p, A: _torch_polyval(p, A)),
    ("np.polyval(p, x[0])", {"p": p4, "x": x4}, lambda p, x: _torch_polyval(p, x[0])),
]


@pytest.mark.parametrize("case", LAST, ids=[f"last-{k}-{c[0]}" for k, c in enumerate(LAST)])
def test_padding_windows_and_polynomials_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_np_pad_modes_equal_numpy_for_any_width(mode, n):
    x = rng.uniform(-1, 1, (2, n))
    for width in (1, 2, n, 2 * n + 1, ((1, 3), (0, 9))):
        assert np.array_equal(api.evaluate(f"np.pad(x, {width}, mode='{mode}')", {"x": x}), np.pad(x, width, mode=mode))


def test_polyval_and_convolve_equal_numpy():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.5])
    assert np.array_equal(api.evaluate("np.polyval(p, x)", {"p": p4, "x": x}), np.polyval(p4, x), equal_nan=True)
    assert np.array_equal(api.evaluate("np.polyval(torch.tensor([]), x)", {"x": x}), np.zeros(6))
    for mode in ("full", "same", "valid"):
        for a, v in ((a7, v3), (v3, a7), (a7[:1], v3), (a7[:2], v3[:2])):
            np.testing.assert_allclose(api.evaluate(f"np.convolve(a, v, '{mode}')", {"a": a, "v": v}),
                                       np.convolve(a, v, mode), rtol=1e-14, atol=1e-15)


MORE_REFUSED = [
    ("F.pad(x, (1, 1), mode='reflect')", "1 to 3 last axes"),
    ("F.pad(A, (1, 1, 1, 1), mode='reflect')", "1 to 3 last axes"),
    ("F.pad(A, (4, 0), mode='reflect')", "at most 3"),
    ("F.pad(A, (5, 0), mode='circular')", "at most 4"),
    ("F.pad(A, (-1, 0), mode='replicate')", "cannot pad"),
    ("F.pad(A, (1, 0), mode='edge')", "'reflect', 'replicate', 'circular'"),
    ("np.pad(A, 1, mode='mean', stat_length=2)", "stat_length= is not supported"),  # mode='mean' read (session 38)
    ("np.pad(A, 1, mode='symmetric_mean')", "'linear_ramp'"),  # the modes jac reads, statistics included
    ("F.pad(A, (1, 0), mode='reflect', value=2.0)", "takes no value"),
    ("np.pad(A, 1, mode='reflect', reflect_type='odd')", "reflect_type"),
    ("np.pad(A[:0], 1, mode='wrap')", "length 0"),
    ("x.unfold(0, 5, 1)", "size must be from 0"),
    ("x.unfold(0, 2, 0)", "step > 0"),
    ("x.unfold(1, 2, 1)", "unfold"),
    ("x[0].unfold(0, 1, 1)", "scalar"),
    ("F.unfold(A, 2)", "only 3-d"),  # F.unfold of a matrix: PyTorch takes (C, H, W) or (N, C, H, W)
    ("np.convolve(A, x)", "two vectors"),
    ("np.convolve(x, x[:0])", "empty"),
    ("np.convolve(x, x, 'circular')", "'full', 'same' or 'valid'"),
    ("np.polyval(A, x)", "vector"),
]


@pytest.mark.parametrize("expr, words", MORE_REFUSED, ids=[c[0] for c in MORE_REFUSED])
def test_bad_padding_windows_and_polynomials_are_refused(expr, words):
    with pytest.raises(JacError, match=words):
        api.jacobian(expr, {k: v for k, v in VALUES.items() if k in expr})


# Adaptive pooling: PyTorch's windows [floor(j n / o), ceil((j + 1) n / o)), overlapping and of unequal length
# when o does not divide n; values to rounding (PyTorch's global mean sums in another order), Jacobians exactly,
# with ties and NaNs in the max pools (the derivative goes where PyTorch's does).
ADAPTIVE = [(nd, kind, shape, o) for nd, shapes, sizes in (
    (1, [(2, 3, 7), (3, 5), (1, 2, 1)], [1, 2, 3, 4, 7, 9]),
    (2, [(2, 3, 5, 7), (3, 4, 4), (1, 1, 3, 1)], [1, 2, (3, 2), (5, 7), (4, 1)]))
    for kind in ("avg", "max") for shape in shapes for o in sizes]


@pytest.mark.parametrize("nd, kind, shape, o", ADAPTIVE, ids=[f"{c[1]}{c[0]}d-{c[2]}-{c[3]}" for c in ADAPTIVE])
def test_adaptive_pools_match_pytorch(nd, kind, shape, o):
    rng = np.random.default_rng(ADAPTIVE.index((nd, kind, shape, o)))  # a seed per case, the same every run
    x = rng.standard_normal(shape)
    if kind == "max":
        x = np.round(x)  # ties
        x.flat[rng.integers(0, x.size, 2)] = np.nan
    fn = getattr(F, f"adaptive_{kind}_pool{nd}d")
    expr = f"F.adaptive_{kind}_pool{nd}d(x, {o!r})"
    want = fn(torch.tensor(x), o).numpy()
    got = api.evaluate(expr, {"x": x})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    tj = torch.autograd.functional.jacobian(lambda u: fn(u, o), torch.tensor(x)).numpy()
    np.testing.assert_array_equal(api.jacobian(expr, {"x": x})["x"], tj)


def test_adaptive_pools_second_derivatives_and_refusals():
    A = np.random.default_rng(5).standard_normal((2, 5))
    assert_parity("F.adaptive_avg_pool1d(A, 3).sum() ** 2", {"A": A}, lambda A: F.adaptive_avg_pool1d(A, 3).sum() ** 2)
    for expr, words in (("F.adaptive_avg_pool1d(A, 0)", ">= 1"), ("F.adaptive_max_pool2d(A, 2)", "(N, C, H, W)"),
                        ("F.adaptive_avg_pool2d(A[None], (1, 2, 3))", "one integer or 2")):
        with pytest.raises(JacError) as err:
            api.evaluate(expr, {"A": A})
        assert words in err.value.message, err.value.message
