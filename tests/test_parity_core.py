"""Parity with PyTorch 2.13 for the ops jac has had from the start (see tests/parity.py)."""

import numpy as np
import pytest

from parity import assert_parity

pytest.importorskip("torch")
rng = np.random.default_rng(7)
x4, y4 = rng.uniform(0.3, 1.5, 4), rng.uniform(0.3, 1.5, 4)
A = rng.uniform(-1, 1, (3, 4))
S3 = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)

CASES = [
    ("sin(x) * x**2 + exp(-x)", {"x": x4}, lambda x: x.sin() * x**2 + (-x).exp()),
    ("2 * torch.dot(x, y)", {"x": x4, "y": y4}, lambda x, y: 2 * x.dot(y)),
    ("tanh(A @ x)", {"A": A, "x": x4}, lambda A, x: (A @ x).tanh()),
    ("softmax(x, dim=0)", {"x": x4}, lambda x: x.softmax(0)),
    ("sum(log(x) / y)", {"x": x4, "y": y4}, lambda x, y: (x.log() / y).sum()),
    ("logsumexp(x, dim=0)", {"x": x4}, lambda x: x.logsumexp(0)),
    ("det(S)", {"S": S3}, lambda S: S.det()),
    ("sum(inv(S) @ x[:3])", {"S": S3, "x": x4}, lambda S, x: (S.inverse() @ x[:3]).sum()),
    ("norm(x)", {"x": x4}, lambda x: x.norm()),
    ("prod(x)", {"x": x4}, lambda x: x.prod()),
    ("x ** y", {"x": x4, "y": y4}, lambda x, y: x**y),
]


@pytest.mark.parametrize("expr, inputs, fn", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn)


def test_the_harness_catches_a_difference():
    with pytest.raises(AssertionError):
        assert_parity("sin(x)", {"x": x4}, lambda x: x.cos())
