"""Parity with PyTorch 2.13 for what the twenty-second session's derivative sweep (benchmarks/grads22_sweep.py)
fixed (see tests/parity.py): cholesky_solve / cholesky_inverse differentiated by the factor (PyTorch's formula
reads it whole), topk of a 0-d array with k = 0, x.count_nonzero(1, 2) and x.pinverse(rcond); and the sweep's
own comparison (value and VJP of each element of a tuple result) on a few calls of each module."""

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(22)
L = np.tril(rng.uniform(0.2, 0.9, (3, 3))) + np.eye(3)
LB = np.tril(rng.uniform(0.2, 0.9, (2, 3, 3))) + np.eye(3)
M = rng.uniform(-1, 1, (3, 3))
SPD = M @ M.T + 3 * np.eye(3)

CASES = [
    ("torch.cholesky_inverse(L)", {"L": L}, lambda L: torch.cholesky_inverse(L)),
    ("torch.cholesky_inverse(U, upper=True)", {"U": L.T}, lambda U: torch.cholesky_inverse(U, upper=True)),
    ("L.cholesky_inverse()", {"L": L}, lambda L: L.cholesky_inverse()),
    ("torch.cholesky_solve(B, L)", {"B": rng.uniform(0.2, 0.9, (3, 2)), "L": L},
     lambda B, L: torch.cholesky_solve(B, L)),
    ("torch.cholesky_solve(B, L)", {"B": rng.uniform(0.2, 0.9, (2, 3, 2)), "L": LB},
     lambda B, L: torch.cholesky_solve(B, L)),
    ("torch.cholesky_solve(B, U, upper=True)", {"B": rng.uniform(0.2, 0.9, (3, 1)), "U": L.T},
     lambda B, U: torch.cholesky_solve(B, U, upper=True)),
    ("torch.cholesky_inverse(torch.linalg.cholesky(A))", {"A": SPD},
     lambda A: torch.cholesky_inverse(torch.linalg.cholesky(A))),
    ("torch.cholesky_solve(b, torch.linalg.cholesky(A, upper=True), upper=True)",
     {"b": rng.uniform(0.2, 0.9, (3, 2)), "A": SPD},
     lambda b, A: torch.cholesky_solve(b, torch.linalg.cholesky(A, upper=True), upper=True)),
    ("torch.cholesky_inverse(torch.tril(X))", {"X": L + np.triu(rng.uniform(0.2, 0.9, (3, 3)), 1)},
     lambda X: torch.cholesky_inverse(torch.tril(X))),
    ("torch.topk(x, 0)[0] * x", {"x": np.array(0.7)}, lambda x: torch.topk(x, 0)[0] * x),
    ("x.topk(0, largest=False).values + x.topk(1).indices", {"x": np.array(0.3)},
     lambda x: x.topk(0, largest=False).values + x.topk(1).indices),
    ("x * x.count_nonzero(1, 2)[:, None, None]", {"x": rng.uniform(0.2, 0.9, (2, 3, 4))},
     lambda x: x * x.count_nonzero(1, 2)[:, None, None]),
    ("A.pinverse(1e-3)", {"A": rng.uniform(0.2, 0.9, (2, 3))}, lambda A: A.pinverse(1e-3)),
    ("A.pinverse(0.01)", {"A": rng.uniform(0.2, 0.9, (2, 4, 3))}, lambda A: A.pinverse(0.01)),
]


@pytest.mark.parametrize("expr, inputs, fn", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn, differs=("hessian",))


def test_pinverse_with_every_singular_value_cut_is_refused_where_pytorch_gives_zeros():
    A = rng.uniform(0.2, 0.9, (2, 3))
    assert not torch.tensor(A).pinverse(1).any()
    with pytest.raises(JacValueError, match="cutoff"):
        api.evaluate("A.pinverse(1)", {"A": A})


# The sweep's own check of a tuple result: each element's value and its VJP against torch.autograd.grad
PARTS = [("torch.linalg.qr(x)", (3, 2)), ("torch.linalg.slogdet(x)", (3, 3)), ("torch.sort(x, 0)", (3, 4)),
         ("torch.max(x, -1)", (2, 3, 4)), ("torch.linalg.eigvalsh(x @ x.mT)", (3, 3)), ("torch.aminmax(x)", (2, 3)),
         ("torch.var_mean(x, 1)", (2, 3)), ("torch.split(x, 1)", (3, 2)), ("torch.linalg.lu_factor(x)", (3, 3)),
         ("torch.cummax(x, 0)", (4, 2)), ("torch.frexp(x)", (2, 3)), ("torch.unbind(x, -1)", (2, 3))]


@pytest.mark.parametrize("text, shape", PARTS, ids=[p[0] for p in PARTS])
def test_each_part_of_a_tuple_result_and_its_vjp_match_pytorch(text, shape):
    x = rng.uniform(0.2, 0.9, shape)
    t = torch.tensor(x, requires_grad=True)
    result = eval(text, {"torch": torch, "F": F}, {"x": t})
    for k, part in enumerate(result):
        ours = np.asarray(api.evaluate(f"{text}[{k}]", {"x": x}), dtype=float)
        np.testing.assert_allclose(ours, part.detach().numpy(), rtol=1e-10, atol=1e-12)
        if not part.is_floating_point() or part.grad_fn is None:
            continue
        v = rng.standard_normal(part.shape)
        theirs, = torch.autograd.grad(part, [t], torch.tensor(v), retain_graph=True, allow_unused=True)
        theirs = np.zeros(shape) if theirs is None else theirs.numpy()
        np.testing.assert_allclose(api.vjp(f"{text}[{k}]", {"x": x}, v)["x"], theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (3, 2), (2, 3, 4)])
def test_svd_method_matches_pytorch_up_to_the_signs_of_singular_vectors(shape):
    x = rng.uniform(0.2, 0.9, shape)
    u, s, v = torch.tensor(x).svd()
    # U and V alone are refused (their signs are PyTorch's LAPACK's, session 23); their squares do not depend on them
    ours = [np.asarray(api.evaluate(f"x.svd()[{k}]{' ** 2' if k != 1 else ''}", {"x": x})) for k in range(3)]
    np.testing.assert_allclose(ours[1], s.numpy(), rtol=1e-12)
    for mine, theirs in ((ours[0], u.numpy()), (ours[2], v.numpy())):  # V, not Vh: columns are the vectors
        np.testing.assert_allclose(mine, theirs ** 2, rtol=1e-10, atol=1e-12)
    with pytest.raises(JacValueError, match="signs of the singular vectors"):
        api.evaluate("x.svd()[0]", {"x": x})
    assert_parity("x.svd()[1]", {"x": x}, lambda x: x.svd()[1], differs=("hessian",))
    assert_parity("x.svd().U @ x.svd().V.mT", {"x": x}, lambda x: x.svd().U @ x.svd().V.mT, differs=("hessian",))
