"""Parity with PyTorch 2.13 for the everyday calls benchmarks/vocab_sweep.py found refused and jac now
lowers onto its ops (value, every Jacobian, a VJP, the Hessian of one-element outputs; see
tests/parity.py); the NumPy-only ones are compared with PyTorch written the same way, and their values
with NumPy itself. Then the arguments refused, each naming what is wrong."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
la = torch.linalg
rng = np.random.default_rng(41)
x5, y5, z3 = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 3)
a3, b3, c4 = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 4)
A, B = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4))
T = rng.uniform(-1, 1, (2, 3, 4))
S = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
W3 = rng.uniform(-1, 1, (2, 3, 4))        # a bilinear weight (2 outputs, 3 by 4)
KNOTS, VALUES_AT = [-1.0, 0.0, 0.5, 1.0], [0.0, 1.0, 3.0, 2.0]
OUTSIDE = np.array([-1.7, -0.3, 0.2, 0.7, 1.4])     # on every segment and past both ends, no knot


def _torch_interp(x, xp, fp):
    xp = torch.as_tensor(xp, dtype=x.dtype)
    fp = torch.as_tensor(fp, dtype=x.dtype) if not torch.is_tensor(fp) else fp
    j = (torch.searchsorted(xp, x.detach(), right=True) - 1).clamp(0, len(xp) - 2)
    y = fp[j] + (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]) * (x - xp[j])
    return torch.where(x < xp[0], fp[0], torch.where(x > xp[-1], fp[-1], y))


def _torch_multi_margin(x, target):
    own = x[range(len(target)), target][:, None]
    z = torch.relu(1.0 - own + x)
    z = z * (torch.arange(x.shape[1])[None, :] != torch.tensor(target)[:, None])
    return z.sum(1) / x.shape[1]


CASES = [
    ("F.prelu(A, c[:1])", {"A": A, "c": c4}, lambda A, c: F.prelu(A, c[:1])),
    ("F.prelu(T, a)", {"T": T, "a": a3}, lambda T, a: F.prelu(T, a)),
    ("(F.prelu(x, s) ** 2).sum()", {"x": x5, "s": np.array(0.3)}, lambda x, s: (F.prelu(x, s) ** 2).sum()),
    ("F.rrelu(x)", {"x": x5}, lambda x: F.rrelu(x)),
    ("F.rrelu(A, 0.1, 0.3, training=False)", {"A": A}, lambda A: F.rrelu(A, 0.1, 0.3, training=False)),
    ("torch.linalg.norm(x, float('inf')) + torch.linalg.norm(x, ord=float('-inf'))", {"x": x5},
     lambda x: la.norm(x, float("inf")) + la.norm(x, ord=float("-inf"))),
    ("x.new_zeros(3) + x.sum()", {"x": x5}, lambda x: x.new_zeros(3) + x.sum()),
    ("x.new_ones((2, 5)) * x + x.new_full([5], 0.5)", {"x": x5},
     lambda x: x.new_ones((2, 5)) * x + x.new_full([5], 0.5)),
    # torch.vander's own backward fails a second pass (an in-place cumprod): the powers written out
    ("torch.vander(a)", {"a": a3}, lambda a: torch.stack([a * a, a, torch.ones_like(a)], 1)),
    ("torch.vander(x, N=4, increasing=True)", {"x": x5},
     lambda x: torch.stack([torch.ones_like(x), x, x * x, x * x * x], 1)),
    ("np.vander(a, 2).sum() ** 2", {"a": a3}, lambda a: torch.stack([a, torch.ones_like(a)], 1).sum() ** 2),
    ("torch.cumulative_trapezoid(x)", {"x": x5}, lambda x: torch.cumulative_trapezoid(x)),
    ("torch.cumulative_trapezoid(y, x)", {"x": x5, "y": y5}, lambda x, y: torch.cumulative_trapezoid(y, x)),
    ("torch.cumulative_trapezoid(A, dx=0.5, dim=0)", {"A": A},
     lambda A: torch.cumulative_trapezoid(A, dx=0.5, dim=0)),
    ("torch.cumulative_trapezoid(A, c)", {"A": A, "c": c4}, lambda A, c: torch.cumulative_trapezoid(A, c)),
    ("torch.cartesian_prod(a, c)", {"a": a3, "c": c4}, lambda a, c: torch.cartesian_prod(a, c)),
    ("torch.cartesian_prod(a, b[:2], c[:2])", {"a": a3, "b": b3, "c": c4},
     lambda a, b, c: torch.cartesian_prod(a, b[:2], c[:2])),
    ("S[torch.tril_indices(3, 3)[0], torch.tril_indices(3, 3)[1]]", {"S": S},
     lambda S: S[torch.tril_indices(3, 3)[0], torch.tril_indices(3, 3)[1]]),
    ("A[torch.triu_indices(3, 4, 1)[0], torch.triu_indices(3, 4, 1)[1]]", {"A": A},
     lambda A: A[torch.triu_indices(3, 4, 1)[0], torch.triu_indices(3, 4, 1)[1]]),
    ("S[np.triu_indices(3, 1)[0], np.triu_indices(3, 1)[1]]", {"S": S},
     lambda S: S[torch.triu_indices(3, 3, 1)[0], torch.triu_indices(3, 3, 1)[1]]),
    ("np.gradient(x)", {"x": x5}, lambda x: torch.gradient(x)[0]),
    ("np.gradient(A, 0.5, axis=1)", {"A": A}, lambda A: torch.gradient(A, spacing=0.5, dim=1)[0]),
    ("np.gradient(x, edge_order=2)", {"x": x5}, lambda x: torch.gradient(x, edge_order=2)[0]),
    ("np.gradient(A, 2.0, 0.5)[0]", {"A": A}, lambda A: torch.gradient(A, spacing=[2.0, 0.5])[0]),
    ("np.gradient(x, [0.0, 1.0, 3.0, 4.0, 6.0], edge_order=2)", {"x": x5},
     lambda x: torch.gradient(x, spacing=(torch.tensor([0.0, 1.0, 3.0, 4.0, 6.0], dtype=x.dtype),), edge_order=2)[0]),
    ("torch.gradient(A, spacing=[0.5, 2.0], edge_order=2)[1]", {"A": A},
     lambda A: torch.gradient(A, spacing=[0.5, 2.0], edge_order=2)[1]),
    ("torch.gradient(T, dim=2)[0]", {"T": T}, lambda T: torch.gradient(T, dim=2)[0]),
    ("torch.linalg.cond(S)", {"S": S}, lambda S: la.cond(S)),
    ("torch.linalg.cond(A, -2)", {"A": A}, lambda A: la.cond(A, -2)),
    # torch.linalg.cond's own backward fails for these p (an in-place inverse): the product written out
    ("torch.linalg.cond(S, 'fro')", {"S": S}, lambda S: la.matrix_norm(S) * la.matrix_norm(la.inv(S))),
    ("np.linalg.cond(S, 1)", {"S": S}, lambda S: la.matrix_norm(S, 1) * la.matrix_norm(la.inv(S), 1)),
    ("np.linalg.cond(S, -inf)", {"S": S},
     lambda S: la.matrix_norm(S, -float("inf")) * la.matrix_norm(la.inv(S), -float("inf"))),
    ("torch.linalg.cond(T[:, :, :3], 'nuc')", {"T": T}, lambda T: la.cond(T[:, :, :3], "nuc")),
    ("torch.linalg.matrix_rank(S) + S.sum()", {"S": S}, lambda S: la.matrix_rank(S) + S.sum()),
    ("np.vdot(A, B)", {"A": A, "B": B}, lambda A, B: (A * B).sum()),
    ("np.trace(T, 1, 1, 2)", {"T": T}, lambda T: torch.diagonal(T, 1, 1, 2).sum(-1)),
    ("np.correlate(x, a)", {"x": x5, "a": a3},
     lambda x, a: F.conv1d(x.reshape(1, 1, 5), a.reshape(1, 1, 3)).flatten()),
    ("np.correlate(x, a, 'full')", {"x": x5, "a": a3},
     lambda x, a: F.conv1d(x.reshape(1, 1, 5), a.reshape(1, 1, 3), padding=2).flatten()),
    ("S.addr(a, b)", {"S": S, "a": a3, "b": b3}, lambda S, a, b: S.addr(a, b)),
    ("torch.addr(A, a, c, beta=0.5, alpha=2)", {"A": A, "a": a3, "c": c4},
     lambda A, a, c: torch.addr(A, a, c, beta=0.5, alpha=2)),
    ("F.pdist(A)", {"A": A}, lambda A: F.pdist(A)),
    ("F.pdist(A.T, p=1)", {"A": A}, lambda A: F.pdist(A.T, p=1)),
    ("F.pdist(A, 3).sum()", {"A": A},  # F.pdist has no second derivative in PyTorch: written out
     lambda A: (A[[0, 0, 1]] - A[[1, 2, 2]]).norm(p=3, dim=1).sum()),
    ("F.bilinear(a, c, W)", {"a": a3, "c": c4, "W": W3}, lambda a, c, W: F.bilinear(a, c, W)),
    ("F.bilinear(A[:, :3], B, W, z[:2])", {"A": A, "B": B, "W": W3, "z": z3},
     lambda A, B, W, z: F.bilinear(A[:, :3], B, W, z[:2])),
    ("np.nanmax(A, axis=1) + np.nanmin(A, 0).sum()", {"A": A},
     lambda A: A.amax(1) + A.amin(0).sum()),
    ("x.copysign(y)", {"x": x5, "y": y5}, lambda x, y: x.copysign(y)),
    ("torch.copysign(x, -1.0)", {"x": x5}, lambda x: torch.copysign(x, torch.tensor(-1.0, dtype=x.dtype))),
    ("np.select([x > 0.5, x < -0.5], [x, -y], 0.1 * x)", {"x": x5, "y": y5},
     lambda x, y: torch.where(x > 0.5, x, torch.where(x < -0.5, -y, 0.1 * x))),
    (f"np.interp(x, {KNOTS}, {VALUES_AT})", {"x": OUTSIDE}, lambda x: _torch_interp(x, KNOTS, VALUES_AT)),
    (f"np.interp(x, {KNOTS}, f)", {"x": OUTSIDE, "f": c4}, lambda x, f: _torch_interp(x, KNOTS, f)),
    (f"np.interp(0.3, {KNOTS}, f) ** 2", {"f": c4}, lambda f: _torch_interp(torch.tensor(0.3, dtype=f.dtype),
                                                                             KNOTS, f) ** 2),
    ("np.diff(x, prepend=0.5)", {"x": x5}, lambda x: torch.diff(x, prepend=torch.tensor([0.5], dtype=x.dtype))),
    ("torch.diff(A, dim=0, prepend=B[:1], append=B[1:])", {"A": A, "B": B},
     lambda A, B: torch.diff(A, dim=0, prepend=B[:1], append=B[1:])),
    ("np.diff(x, n=2, append=y)", {"x": x5, "y": y5}, lambda x, y: torch.diff(x, n=2, append=y)),
    ("torch.quantile(A, torch.tensor([0.25, 0.9]), dim=1)", {"A": A},
     lambda A: torch.quantile(A, torch.tensor([0.25, 0.9], dtype=A.dtype), dim=1)),
    ("np.percentile(x, [10, 50, 75])", {"x": x5},
     lambda x: torch.quantile(x, torch.tensor([0.1, 0.5, 0.75], dtype=x.dtype))),
    # PyTorch has no second derivative of multi_margin_loss: written out with relu (0 at the kink, as its own)
    ("F.multi_margin_loss(A, torch.tensor([0, 3, 1]))", {"A": A},
     lambda A: _torch_multi_margin(A, [0, 3, 1]).mean()),
    ("F.multi_margin_loss(A, torch.tensor([2, 0, 0]), p=2, margin=0.5, weight=torch.tensor([1.0, 2, 0.5, 3]), "
     "reduction='none')", {"A": A},
     lambda A: F.multi_margin_loss(A, torch.tensor([2, 0, 0]), p=2, margin=0.5,
                                   weight=torch.tensor([1.0, 2, 0.5, 3], dtype=A.dtype), reduction="none")),
    ("F.multi_margin_loss(x, torch.tensor(1), reduction='sum')", {"x": np.array([0.5, 1.5, 0.5, -1.0])},
     lambda x: _torch_multi_margin(x[None], [1]).sum()),   # two terms at the kink
    ("np.nanvar(A, axis=1, ddof=1) + np.nanstd(A, 0).sum()", {"A": A},
     lambda A: A.var(1, correction=1) + A.std(0, correction=0).sum()),
    # of real numbers: the real part, the conjugate and the angle; ldexp; bitwise not of a mask
    ("torch.real(x) * x.conj() + x.real", {"x": x5}, lambda x: torch.real(x) * x.conj() + x.real),
    ("torch.conj_physical(x) * torch.angle(x)", {"x": x5}, lambda x: torch.conj_physical(x) * torch.angle(x)),
    ("torch.ldexp(x, torch.tensor([2.0, -1.0, 0.0, 3.0, 1.0]))", {"x": x5},
     lambda x: torch.ldexp(x, torch.tensor([2.0, -1.0, 0.0, 3.0, 1.0]))),
    ("torch.bitwise_not(x > 0) * y", {"x": x5, "y": y5}, lambda x, y: torch.bitwise_not(x > 0) * y),
    # np.array / jnp.array of a list of arrays stacks them (the derivative kept); torch.tensor of one-element
    # tensors copies them (detached), as PyTorch
    ("np.array([x, y]).T @ a[:2]", {"x": x5, "y": y5, "a": a3}, lambda x, y, a: torch.stack([x, y]).T @ a[:2]),
    ("jnp.asarray([x[0] * y[1], y[0]]) * x[:2]", {"x": x5, "y": y5},
     lambda x, y: torch.stack([x[0] * y[1], y[0]]) * x[:2]),
    ("torch.tensor([x[0], y[1]]) * x[:2]", {"x": x5, "y": y5}, lambda x, y: torch.tensor([x[0], y[1]]) * x[:2]),
    # masked_select: x[mask] of the two broadcast together
    ("torch.masked_select(A, A > 0) ** 2", {"A": A}, lambda A: torch.masked_select(A, A > 0) ** 2),
    ("torch.masked_select(A, c > 0)", {"A": A, "c": c4}, lambda A, c: torch.masked_select(A, c > 0)),
    ("c.masked_select(A > 0) * A.sum()", {"A": A, "c": c4}, lambda A, c: c.masked_select(A > 0) * A.sum()),
]


# Found wrong by the sweep's edge values (benchmarks/vocab_sweep.py --edges) and fixed: a class masked with a
# -inf logit made cross_entropy / nll_loss NaN (0 · -inf from the one-hot), logcumsumexp of a line of -inf or
# holding +inf was NaN (and a leading -inf made every derivative NaN), and the margin losses' kink took
# relu's derivative 0 where PyTorch's clamp_min passes it.
MASKED = np.array([[-np.inf, 0.3, 1.0, -np.inf, 2.0], [0.5, -np.inf, 1.0, 0.2, 0.0]])
KINKED = np.array([1.0, 0.5, -0.25, 1.0])
FOUND = [
    ("F.cross_entropy(L, torch.tensor([4, 2]))", {"L": MASKED}, lambda L: F.cross_entropy(L, torch.tensor([4, 2])),
     ("hessian",)),  # PyTorch's second derivative at -inf is NaN
    ("F.cross_entropy(L, torch.tensor([4, -100]), weight=torch.tensor([1.0, 2, 3, 4, 5]), reduction='sum')",
     {"L": MASKED}, lambda L: F.cross_entropy(L, torch.tensor([4, -100]), weight=torch.tensor([1.0, 2, 3, 4, 5],
                                                                                                 dtype=L.dtype),
                                               reduction="sum"), ("hessian",)),
    ("F.nll_loss(F.log_softmax(L, 1), torch.tensor([2, 0]))", {"L": MASKED},
     lambda L: F.nll_loss(F.log_softmax(L, 1), torch.tensor([2, 0])), ("hessian",)),
    ("F.nll_loss(L, torch.tensor([2, 0]), reduction='none')", {"L": MASKED},
     lambda L: F.nll_loss(L, torch.tensor([2, 0]), reduction="none")),
    ("F.hinge_embedding_loss(x, torch.tensor([-1, -1, 1, -1]))", {"x": KINKED},
     lambda x: F.hinge_embedding_loss(x, torch.tensor([-1, -1, 1, -1]))),
    ("F.margin_ranking_loss(x, x.flip(0), torch.tensor([1, -1, 1, -1]), margin=0.0)", {"x": KINKED},
     lambda x: F.margin_ranking_loss(x, x.flip(0), torch.tensor([1, -1, 1, -1]), margin=0.0)),
    ("F.cosine_embedding_loss(A, B, torch.tensor([-1, 1]), margin=0.0)",
     {"A": np.array([[1.0, 0.0], [0.5, 0.5]]), "B": np.array([[0.0, 2.0], [1.0, 0.0]])},
     lambda A, B: F.cosine_embedding_loss(A, B, torch.tensor([-1, 1]), margin=0.0)),
]


@pytest.mark.parametrize("case", FOUND, ids=[f"found-{k}-{c[0]}" for k, c in enumerate(FOUND)])
def test_what_the_edge_sweep_found_matches_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


@pytest.mark.parametrize("line", [[-np.inf, -np.inf, -np.inf], [1.0, np.inf, 2.0], [-np.inf, 0.3, 1.0, -np.inf, 2.0],
                                  [np.nan, 1.0], [0.5, -1.0, 3.0]])
def test_logcumsumexp_of_infinities_is_pytorch_s_value_and_the_limit_derivative(line):
    x = np.array(line)
    value = api.evaluate("torch.logcumsumexp(x, 0)", {"x": x})
    np.testing.assert_allclose(value, torch.logcumsumexp(torch.tensor(x), 0).numpy(), rtol=1e-15, equal_nan=True)
    ours = api.jacobian("torch.logcumsumexp(x, 0)", {"x": x})["x"]
    theirs = torch.autograd.functional.jacobian(lambda t: torch.logcumsumexp(t, 0), torch.tensor(x)).numpy()
    # PyTorch writes NaN in the column of a -inf element, whose weight exp(-inf - y) is 0 (jac's 0), and above the
    # diagonal, where y[i] does not depend on x[j > i], beside an inf or NaN (its dense pass's 0 · NaN; jac's exact
    # 0 on every path since session 49, docs/batches-outputs-orders.md)
    minus_inf = np.isneginf(x)
    below = np.tril(np.ones((len(x), len(x)), dtype=bool)) & ~minus_inf[None, :]
    np.testing.assert_allclose(ours[below], theirs[below], rtol=1e-12, atol=1e-15, equal_nan=True)
    assert not ours[:, minus_inf].any()
    above = ours[np.triu(np.ones((len(x), len(x)), dtype=bool), 1)]
    assert (above == 0).all() and not np.signbit(above).any()


@pytest.mark.parametrize("case", CASES, ids=[f"{k}-{c[0]}" for k, c in enumerate(CASES)])
def test_everyday_calls_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


def test_numpy_only_values_equal_numpy():
    edges = np.array([np.nan, -np.inf, np.inf, -1.0, 0.0, -0.0, 0.5, 1.0, 1.25, -3.0])
    for expr in ("np.angle(x)", "np.angle(x, deg=True)", "np.invert(x > 0)", "np.ldexp(x, 3)", "np.real(x)"):
        want = eval(expr, {"np": np, "x": edges})
        assert np.array_equal(api.evaluate(expr, {"x": edges}), want, equal_nan=True), expr
    assert np.array_equal(api.evaluate("torch.angle(x)", {"x": edges}),  # -0 is 0 to PyTorch, pi to NumPy
                          torch.angle(torch.tensor(edges)).numpy(), equal_nan=True)
    holes = np.array([1.5, np.nan, -2.0, 3.0, np.nan, 0.5])
    for expr in ("np.nanprod(x)", "np.nanprod(x.reshape(2, 3), axis=1)", "np.nancumsum(x)", "np.nancumprod(x)",
                 "np.ediff1d(x)", "np.ediff1d(x, to_end=[1, 2], to_begin=-1)", "np.logspace(0, 1, 6) * x",
                 "np.logspace(0, 2, 6, base=2.0, endpoint=False) * x", "np.geomspace(1, 8, 6) * x",
                 "np.tri(6, k=1) @ x"):
        want = eval(expr, {"np": np, "x": holes})
        assert np.array_equal(api.evaluate(expr, {"x": holes}), want, equal_nan=True), expr
    jac = api.jacobian("np.nancumprod(x)", {"x": holes})["x"]  # the NaN elements are absent: derivative 0
    assert np.all(jac[:, [1, 4]] == 0) and jac[3, 3] == -3.0
    other = np.array([np.nan, np.inf, np.inf, -1.0 - 1e-6, 1e-9, 0.0, 0.5 + 1e-4, np.nan, 1.0, -2.9])
    for expr in ("isclose(x, y)", "isclose(x, y, equal_nan=True)", "isclose(x, y, rtol=0.1, atol=0)",
                 "allclose(x[3:5], y[3:5])", "allclose(x, y)", "isclose(x, 1.0)"):
        for lib, wrap in ((np, np.asarray), (torch, torch.tensor))[:1 if "1.0" in expr else 2]:  # torch: 2 tensors
            want = np.asarray(eval(f"lib.{expr}", {"lib": lib, "x": wrap(edges), "y": wrap(other)}))
            got = api.evaluate(f"{lib.__name__}.{expr}", {"x": edges, "y": other})
            assert np.array_equal(got, want.astype(float)), (lib.__name__, expr)
    assert np.array_equal(api.evaluate(f"np.interp(x, {KNOTS}, {VALUES_AT})", {"x": edges}),
                          np.interp(edges, KNOTS, VALUES_AT), equal_nan=True)
    assert np.array_equal(api.evaluate(f"np.interp(x, {KNOTS}, {VALUES_AT}, left=-5, right=7)", {"x": edges}),
                          np.interp(edges, KNOTS, VALUES_AT, left=-5, right=7), equal_nan=True)
    for mode in ("valid", "same", "full"):
        for u, v in ((x5, a3), (a3, x5), (x5[:1], a3)):
            np.testing.assert_allclose(api.evaluate(f"np.correlate(u, v, '{mode}')", {"u": u, "v": v}),
                                       np.correlate(u, v, mode), rtol=1e-14, atol=1e-15)
    nans = np.array([[np.nan, 1.0, -2.0], [np.nan, np.nan, np.nan], [3.0, np.nan, 0.5]])
    for fn in ("nanmax", "nanmin"):
        with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
            want = getattr(np, fn)(nans, axis=1)
        assert np.array_equal(api.evaluate(f"np.{fn}(A, axis=1)", {"A": nans}), want, equal_nan=True)
    for fn, ddof in (("nanvar", 0), ("nanstd", 1)):
        want = getattr(np, fn)(nans[[0, 2]], axis=1, ddof=ddof)
        np.testing.assert_allclose(api.evaluate(f"np.{fn}(A, axis=1, ddof={ddof})", {"A": nans[[0, 2]]}), want,
                                   rtol=1e-14)
    signs = np.array([1.0, -0.0, 0.0, -2.0, np.inf, np.nan])
    assert np.array_equal(api.evaluate("np.copysign(x, y)", {"x": np.full(6, x5[0]), "y": signs}),
                          np.copysign(x5[:1], signs), equal_nan=True)
    for k in (0, 2, 3):
        assert np.array_equal(api.evaluate(f"np.vander(a, {k})", {"a": a3}), np.vander(a3, k))
    assert np.array_equal(api.evaluate("np.gradient(A)[1]", {"A": A}), np.gradient(A)[1])
    assert np.array_equal(api.evaluate("np.gradient(x, 0.3, edge_order=2)", {"x": x5}),
                          np.gradient(x5, 0.3, edge_order=2))


def test_multi_margin_loss_is_pytorch_s_and_has_second_derivative_0_for_p_1():
    expr = "F.multi_margin_loss(A, torch.tensor([0, 3, 1]), reduction='none')"
    np.testing.assert_allclose(api.evaluate(expr, {"A": A}), F.multi_margin_loss(
        torch.tensor(A), torch.tensor([0, 3, 1]), reduction="none").numpy(), rtol=1e-15)
    assert not api.hessian("F.multi_margin_loss(A, torch.tensor([0, 3, 1]))", {"A": A})[("A", "A")].any()


def test_matrix_rank_counts_singular_values_above_the_tolerance():
    low = np.outer(a3, c4) + np.outer(b3, c4[::-1])        # rank 2
    assert api.evaluate("np.linalg.matrix_rank(A)", {"A": low}) == np.linalg.matrix_rank(low) == 2
    assert api.evaluate("torch.linalg.matrix_rank(A, atol=1.0)", {"A": low}) == \
        la.matrix_rank(torch.tensor(low), atol=1.0).item()
    assert api.evaluate("np.linalg.matrix_rank(A, tol=0.5)", {"A": A}) == np.linalg.matrix_rank(A, tol=0.5)
    assert not api.jacobian("np.linalg.matrix_rank(A)", {"A": low})["A"].any()


def test_the_triangle_indices_are_pytorch_s_and_numpy_s():
    assert np.array_equal(api.evaluate("torch.tril_indices(3, 4, -1)", {}), torch.tril_indices(3, 4, -1).numpy())
    rows, cols = np.triu_indices(4, 1, 5)
    assert np.array_equal(api.evaluate("np.triu_indices(4, 1, 5)[1]", {}), cols)
    assert np.array_equal(api.evaluate("np.triu_indices(n=4, k=1, m=5)[0]", {}), rows)


VALUES = {"x": x5, "y": y5, "a": a3, "c": c4, "A": A, "B": B, "T": T, "S": S, "W": W3}
REFUSED = [
    ("torch.tensor([x, y])", "one-element tensors only"),
    ("np.array([x, x[:2]])", "of one shape only"),
    ("torch.masked_select(A, A)", "must be a boolean"),
    ("torch.masked_select(A, a > 0)", "do not broadcast"),
    ("F.prelu(A, a)", "1 or one per channel"),
    ("F.prelu(A, A)", "scalar or a vector"),
    ("F.rrelu(x, training=True)", "random.*training=False"),
    ("F.rrelu(x, 0.5, 0.1)", "lower"),
    ("F.gumbel_softmax(x)", "random Gumbel noise.*F.softmax"),
    ("float('abc') * x", "'abc' is not a number"),
    ("x.new_full(3)", "fill_value"),
    ("x.new_zeros(-1)", "negative size"),
    ("x.new_zeros(3, color=1)", "no argument 'color'"),
    ("torch.vander(A)", "1-d"),
    ("np.vander(x, -1)", "N must be >= 0"),
    ("torch.cumulative_trapezoid(x, y, dx=2)", "not both"),
    ("torch.cumulative_trapezoid(A, a)", "length of y's axis"),
    ("torch.cartesian_prod(A, a)", "1-d"),
    ("torch.tril_indices(-1, 3)", ">= 0"),
    ("np.gradient(x, [0, 1, 3])", "as long as axis"),  # coordinates as long as the axis are read (snippets34)
    ("np.gradient(x[:2], edge_order=2)", "at least 3 elements"),
    ("np.gradient(x, edge_order=3)", "edge_order must be 1 or 2"),
    ("np.gradient(A, 1.0, 2.0, 3.0)", "3 spacings for 2 axes"),
    ("torch.linalg.cond(A, 'fro')", "square"),
    ("torch.linalg.cond(x)", "needs a matrix"),
    ("torch.linalg.cond(S, 3)", "not supported"),
    ("np.linalg.matrix_rank(S, tol='big')", "tol must be a number"),
    ("np.vdot(A, x)", "one size"),
    ("np.trace(A, axis1=1, axis2=1)", "axes must differ"),
    ("np.correlate(x, A)", "two vectors"),
    ("torch.addr(S, A, a)", "first vector"),
    ("torch.addr(A, a, a)", "cannot broadcast"),
    ("F.pdist(x)", "2-d"),
    ("F.bilinear(a, c, A)", "weight \\(o, n, m\\)"),
    ("F.bilinear(a, c, W, x)", "bias must have shape"),
    ("np.select(x > 0, x)", "a list of conditions"),
    ("np.select([x > 0], [x, y])", "1 conditions and 2 choices"),
    ("np.select([x], [y])", "boolean"),
    ("np.interp(x, y, y)", "strictly increasing"),  # an input as the knots: checked at evaluation (session 45)
    ("np.interp(x, [0, 1, 1], [0, 1, 2])", "strictly increasing"),
    ("np.interp(x, [0, 1], [0, 1, 2])", "one length"),
    ("np.interp(x, [0, 1], [0, 1], period=2)", "period"),
    ("np.diff(A, prepend=x)", "must match x"),
    ("np.quantile(x, [0.5, 2])", "q must be in"),
    ("np.quantile(x, 'a')", "a number or a list of numbers"),
    ("F.multi_margin_loss(A, torch.tensor([0, 4, 1]))", "from 0 to 3"),
    ("F.multi_margin_loss(A, torch.tensor([0, 1]))", "target \\(N,\\)"),
    ("F.multi_margin_loss(A, torch.tensor([0, 1, 1]), p=3)", "p must be 1 or 2"),
    ("F.multi_margin_loss(A, torch.tensor([0, 1, 1]), weight=a.detach())", "one entry per class"),
    # a weight requiring grad: PyTorch raises for that first (session 38)
    ("F.multi_margin_loss(A, torch.tensor([0, 1, 1]), weight=a)", "not differentiable with respect to argument"),
]


@pytest.mark.parametrize("expr, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_arguments_are_refused_naming_what_is_wrong(expr, words):
    with pytest.raises(JacError, match=words):
        api.jacobian(expr, {k: v for k, v in VALUES.items() if k in expr})


def test_a_refusal_is_exit_2_with_the_message(capsys):
    from jacobi_cli.cli.entry import main

    assert main(["eval", "F.rrelu(x, training=True)", "x=[1, -2]"]) == 2
    err = capsys.readouterr().err
    assert "training=False" in err and "Traceback" not in err


# A method with a keyword only PyTorch's Tensor methods take (dim=, keepdim=, unbiased=, correction=) is
# PyTorch's: NumPy's methods have axis= and keepdims=, so these were refused as ambiguous though they read
# one way only. Positional or keyword-free spellings stay ambiguous.
TORCH_KEYWORD_METHODS = [
    ("x.max(dim=1)[0]", lambda x: x.max(dim=1)[0]),
    ("x.min(dim=0, keepdim=True)[0]", lambda x: x.min(dim=0, keepdim=True)[0]),
    ("x.max(dim=1).values - x.min(dim=1).values", lambda x: x.max(dim=1).values - x.min(dim=1).values),
    ("x.std(dim=1)", lambda x: x.std(dim=1)),
    ("x.var(dim=0, keepdim=True)", lambda x: x.var(dim=0, keepdim=True)),
    ("x.std(dim=1, correction=0)", lambda x: x.std(dim=1, correction=0)),
    ("x.var(unbiased=False)", lambda x: x.var(unbiased=False)),
    ("x.median(dim=1)[0]", lambda x: x.median(dim=1)[0]),
    ("x.sort(dim=0)[0]", lambda x: x.sort(dim=0)[0]),
]


@pytest.mark.parametrize("expr, fn", TORCH_KEYWORD_METHODS, ids=[c[0] for c in TORCH_KEYWORD_METHODS])
def test_a_method_with_a_pytorch_only_keyword_reads_as_pytorch(expr, fn):
    assert_parity(expr, {"x": A}, fn)


@pytest.mark.parametrize("expr", ["x.max(1)[0]", "x.std()", "x.var(0)"])
def test_a_method_without_such_a_keyword_stays_ambiguous(expr):
    with pytest.raises(JacError, match="ambiguous"):
        api.evaluate(expr, {"x": A})
