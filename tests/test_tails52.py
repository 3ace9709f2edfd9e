"""Session 52 (h52-tails): what session 51 left unwarned, or answered where the library raises.

1. softmax's rule s * (g - <g, s>) at a cotangent constant along the axis (sum(softmax(x))'s g = 1) gave
   c · (1 - Σs) · s, rounding noise, which a Hessian at x ≈ 1e150 scaled to 2.7e284 for a truth of 0. Such a slice
   now counts as zeros (ops._softmax_common): the rule, its derivatives by s and every fused path give exact 0.
2. A negative or infinite order's norm over an empty dim through F.normalize / F.pairwise_distance, and
   torch.cdist with p < 0 at any shape, answered where PyTorch raises; pooling of an input whose channel (or any
   non-batch) dimension is empty answered an empty result where PyTorch raises.
3. torch.split / unbind / chunk results written (p[0][...] = 1) said "an array held in the list 'p'": now PyTorch's
   words; torch.tensor_split / hsplit / vsplit / dsplit are not PyTorch's multiple-view functions (it writes through
   their parts), and jac follows a write into a named part as into any view.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.ir import ops, structured
from jacobi_cli.tools import api

PROBE = "torch.sum(torch.softmax((x * y).reshape(2, 2), 1))"


def _probe_point(c: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {"x": np.concatenate([[c * 1e150], rng.standard_normal(3)]), "y": np.array(1e-150)}


# --- 1. softmax at a constant cotangent -------------------------------------------------------------------------

@pytest.mark.parametrize("c", [3.0, 7.0, 9.9])
@pytest.mark.parametrize("expr", [PROBE, "torch.sum(torch.softmax(x * y, 0))",
                                  "torch.sum(torch.softmax((x * y).reshape(2, 2), 0))",
                                  "torch.softmax((x * y).reshape(2, 2), 1).sum(1)[0] * 3"])
def test_softmax_of_a_constant_sum_has_exact_zero_derivatives(expr, c):
    """The row sums of softmax are 1: every derivative of their sum is 0. It was 1.6e285 (∂²/∂y²) at c = 3, and
    the gradient by y 5.8e134 for the vector's softmax; the third call runs the compiled kernels."""
    b = _probe_point(c)
    for _ in range(3):
        for block in api.hessian(expr, b).values():
            assert not np.any(block), block
        for g in api.jacobian(expr, b).values():
            assert not np.any(g), g
    assert not np.any(api.derivative(expr, b, order=3, wrt=["y"]))


def test_softmax_vjp_of_a_constant_cotangent_is_exact_zero_on_every_path():
    x = np.array([1.0, -2.0, 0.5, 3.0])  # Σs is 1 - 2⁻⁵³ · k here: the rule gave -5.6e-17 at v = 2.5
    for v in (np.full(4, 2.5), np.full(4, -1e300)):
        for _ in range(3):  # interpreter, then the compiled kernel (softmax_vjp_of_one)
            out = api.vjp("torch.softmax(x, 0)", {"x": x}, v)["x"]
            assert not np.any(out), out
    # a cotangent that is not constant keeps the rule's bits: s * (g - <g, s>)
    v = np.array([1.0, 2.0, 3.0, 4.0])
    s = ops._softmax_impl(x, 0)
    want = s * (v - np.add.reduce(v * s))
    for _ in range(3):
        assert np.array_equal(api.vjp("torch.softmax(x, 0)", {"x": x}, v)["x"], want)


def test_the_fused_paths_agree_at_a_constant_row():
    s = ops._softmax_impl(np.array([0.3, -1.2, 2.0]), 0)
    g = np.array([[4.0, 4.0, 4.0], [1.0, 0.0, 0.0], [0.0, -3.0, 2.0], [np.inf, np.inf, np.inf]])
    dense = ops._softmax_vjp_impl(g, s, 0)
    assert not np.any(dense[0])  # the constant row: exact zeros (was 4 · (1 - Σs) · s)
    for row in (1, 2):  # the others: the rule's bits as before
        assert np.array_equal(dense[row], s * (g[row] - np.add.reduce(g[row] * s)))
    assert np.all(np.isnan(dense[3]))  # an infinite constant keeps its NaN
    for row in range(4):
        one = ops.softmax_vjp_of_one(g[row].copy(), s)
        assert np.array_equal(one, dense[row], equal_nan=True)
        assert np.array_equal(ops._softmax_vjp_impl(g[row:row + 1], s, 0)[0], dense[row], equal_nan=True)
    # a sparse basis of one slot whose one row holds a constant everywhere: the structured rule's answer
    sb = structured.SparseBatch(2, np.zeros((1, 3), dtype=np.int64), np.full((1, 3), 4.0), np.float64)
    assert structured.constant_slices(sb, 1)
    out = structured.softmax_vjp_rule(sb, s, 0)
    assert np.array_equal(out, ops._softmax_vjp_impl(sb.to_dense(), s, 0))
    assert not np.any(out)


def test_the_common_slice_and_its_op():
    g = np.array([[[2.0, 2.0], [2.0, 1.0]], [[0.0, 0.0], [-5.0, -5.0]]])
    assert np.array_equal(ops._softmax_common(g, 2), [[[2.0], [0.0]], [[0.0], [-5.0]]])
    assert ops.OPS["softmax_common"].nondiff


def test_softmax_hessians_elsewhere_agree_with_pytorch():
    """The rule's derivatives subtract the constant slice only: a weighted sum, a square and a row softmax's
    second derivatives are PyTorch's to rounding, and the constant sum's is 0 (PyTorch's is not: 6.6e283)."""
    torch = pytest.importorskip("torch")
    b = _probe_point(3.0)
    xt, yt = (torch.tensor(b[k], requires_grad=True) for k in ("x", "y"))
    lib = torch.autograd.functional.hessian(lambda y: torch.sum(torch.softmax((xt * y).reshape(2, 2), 1)), yt)
    assert abs(float(lib)) > 1e280  # PyTorch's rounding, scaled by x²
    assert api.hessian(PROBE, b)[("y", "y")] == 0.0
    rng = np.random.default_rng(52)
    x, w = rng.standard_normal(6), rng.standard_normal(6)
    cases = [("torch.sum(torch.softmax(x, 0) * w)", lambda t: torch.sum(torch.softmax(t, 0) * torch.tensor(w))),
             ("torch.sum(torch.softmax(x.reshape(2, 3), 1) ** 2)",
              lambda t: torch.sum(torch.softmax(t.reshape(2, 3), 1) ** 2)),
             ("torch.sum(torch.softmax(x.reshape(2, 3), 0)[0] * w[:3])",
              lambda t: torch.sum(torch.softmax(t.reshape(2, 3), 0)[0] * torch.tensor(w[:3])))]
    for expr, f in cases:
        want = torch.autograd.functional.hessian(f, torch.tensor(x)).numpy()
        for _ in range(3):
            got = api.hessian(expr, {"x": x, "w": w}, wrt=["x"])[("x", "x")]
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# --- 2. norms and pooling of empty dims -------------------------------------------------------------------------

ANSWERED = {  # the neighbour of each refused text that PyTorch answers, which jac answers as it
    "F.normalize": ("F.normalize(a, p=0.5, dim=1)", (3, 0)),
    "F.pairwise_distance": ("F.pairwise_distance(a, a, p=0)", (3, 0)),
    "torch.norm": ("torch.norm(a, 0.5, dim=1)", (3, 0)), "torch.dist": ("torch.dist(a, a, 0)", (0,)),
    "torch.cdist": ("torch.cdist(a, a, p=0.5)", (3, 0)), "F.avg_pool1d": ("F.avg_pool1d(a, 1)", (0, 2, 3)),
    "F.max_pool1d": ("F.max_pool1d(a, 1)", (0, 2, 3)), "F.avg_pool2d": ("F.avg_pool2d(a, 1)", (0, 2, 3, 3)),
    "F.max_pool2d": ("F.max_pool2d(a, 1)", (0, 2, 3, 3)), "F.lp_pool1d": ("F.lp_pool1d(a, 2, 1)", (0, 2, 3)),
    "F.avg_pool3d": ("F.avg_pool3d(a, 1)", (0, 2, 3, 3, 3)),
}


@pytest.mark.parametrize("text, shape, words", [
    ("F.normalize(a, p=-1, dim=0)", (0,), "cannot compute the -1 norm on the dimension 0"),
    ("F.normalize(a, p=-2)", (3, 0), "cannot compute the -2 norm on the dimension 1"),
    ("F.normalize(a, p=float('inf'), dim=1)", (3, 0), "cannot compute the inf norm on the dimension 1"),
    ("F.normalize(a, p=-float('inf'), dim=0)", (0, 3), "cannot compute the -inf norm on the dimension 0"),
    ("F.pairwise_distance(a, a, p=-1)", (3, 0), "cannot compute the -1 norm on the dimension 1"),
    ("torch.norm(a, float('inf'), dim=1)", (3, 0), "cannot compute the inf norm on the dimension 1"),
    ("torch.dist(a, a, float('inf'))", (0,), "cannot compute the inf norm on an empty tensor"),
    ("torch.cdist(a, a, p=-1)", (3, 2), "cdist only supports non-negative p values"),
    ("torch.cdist(a, a, p=-0.5)", (3, 0), "cdist only supports non-negative p values"),
    ("F.avg_pool1d(a, 1)", (0, 3), "only the batch N may be empty"),
    ("F.max_pool1d(a, 1)", (2, 0, 3), "only the batch N may be empty"),
    ("F.avg_pool2d(a, 1)", (0, 3, 3), "only the batch N may be empty"),
    ("F.max_pool2d(a, 1)", (2, 0, 3, 3), "only the batch N may be empty"),
    ("F.lp_pool1d(a, 2, 1)", (2, 0, 3), "only the batch N may be empty"),
    ("F.avg_pool3d(a, 1)", (1, 0, 3, 3, 3), "only the batch N may be empty"),
])
def test_refused_where_pytorch_raises(text, shape, words):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    with pytest.raises(RuntimeError):
        eval(text, {"torch": torch, "F": F, "a": torch.rand(*shape, dtype=torch.float64)})  # noqa: S307
    with pytest.raises(JacError, match=words.replace("(", r"\(")):
        api.evaluate(text, {"a": np.random.default_rng(0).uniform(size=shape)})
    near, near_shape = ANSWERED[text.split("(")[0]]
    a = np.random.default_rng(1).uniform(0.2, 0.9, size=near_shape)
    want = eval(near, {"torch": torch, "F": F, "a": torch.tensor(a)}).numpy()  # noqa: S307
    np.testing.assert_allclose(api.evaluate(near, {"a": a}), want, rtol=1e-12)


# --- 3. a split's parts written -----------------------------------------------------------------------------

X4 = np.arange(1.0, 5.0).reshape(4, 1)


@pytest.mark.parametrize("call", ["torch.split(x, 2)", "torch.unbind(x.reshape(-1))", "torch.chunk(x, 2)",
                                  "torch.split_with_sizes(x, [2, 2])"])
@pytest.mark.parametrize("write", ["p[0][...] = 1", "p[0][0] = 1", "p[0] += 1"])
def test_a_torch_split_part_written_in_pytorch_words(call, write):
    text = f"import torch\np = {call}\n{write}\nz = p[0].sum() + p[1].sum()"
    with pytest.raises(JacError) as e:
        api.evaluate(text, {"x": X4})
    assert "returns multiple views" in str(e.value) and "list" not in str(e.value)
    if write != "p[0] += 1":  # NumPy's np.split returns a list (of views): its words as before
        with pytest.raises(JacError, match="held in the list 'p'"):
            api.evaluate(f"p = np.split(x, 2)\n{write}\nz = p[0].sum()", {"x": X4})


@pytest.mark.parametrize("text", [
    "import torch\ny = x * 1\na, b = torch.tensor_split(y, 2)\na.add_(1)\nz = (y * y).sum()",
    "import torch\ny = x * 2\na, b = torch.hsplit(y.reshape(1, 4), 2)\nb[0, 1] = 7\nz = (y * x).sum()",
    "import torch\ny = x * 2\na, b = torch.vsplit(y, 2)\nb.mul_(3)\nz = (y * x).sum() + a.sum()",
    "import torch\ny = x.reshape(1, 1, 4) * 2\na, b = torch.dsplit(y, [1])\nb += 1\nz = (y * y).sum()",
    "import torch\ny = x * 2\na, b, c = y.tensor_split([1, 3])\nb[0] = 5\nz = (y * x).sum() + c.sum()",
])
def test_tensor_split_parts_are_written_through_as_pytorch(text):
    """PyTorch marks split / chunk / unbind's parts as views of a function of several (a write raises), not
    tensor_split's or hsplit's: it writes through them. jac refused, saying PyTorch raises."""
    torch = pytest.importorskip("torch")
    xt = torch.tensor(X4, requires_grad=True)
    env = {"x": xt, "torch": torch}
    exec(text.replace("z = ", "_z = "), env)  # noqa: S102
    want_grad, = torch.autograd.grad(env["_z"], xt)
    assert api.evaluate(text, {"x": X4}) == env["_z"].item()
    np.testing.assert_array_equal(api.jacobian(text, {"x": X4})["x"].reshape(X4.shape), want_grad.numpy())


def test_tensor_split_tuple_item_written_says_tuple():
    with pytest.raises(JacError, match="'p' is a tuple of arrays"):
        api.evaluate("import torch\ny = x * 1\np = torch.tensor_split(y, 2)\np[0][...] = 1\nz = (y * y).sum()",
                     {"x": X4})


def test_a_sparse_cotangent_keeps_its_pattern_through_the_centering():
    """The rule's derivatives by s center g: a one-slot sparse batch with a constant slice has those entries
    zeroed in place (the dense g - m's values), and one without passes as it is (no dense copy)."""
    col = np.array([[[0, 0], [1, 2]]])  # slice 0 of row 0 holds 3 everywhere; slice 1 is two rows
    sb = structured.SparseBatch(3, col, np.array([[[3.0, 3.0], [5.0, 5.0]]]), np.float64)
    out = ops._centered(sb, np.ones((2, 2)) / 2, 1)
    assert isinstance(out, structured.SparseBatch) and np.array_equal(out.col, col)
    dense = sb.to_dense()
    assert np.array_equal(out.to_dense(), dense - ops._softmax_common(dense, 2))
    assert not np.any(out.to_dense()[0, 0])
    other = structured.SparseBatch(3, col, np.array([[[3.0, 2.0], [5.0, 5.0]]]), np.float64)
    assert ops._centered(other, np.ones((2, 2)) / 2, 1) is other


@pytest.mark.parametrize("text, shape", [("F.pdist(a, p=float('inf'))", (3, 0)),
                                         ("torch.cdist(a, a, p=float('inf'))", (3, 0)),
                                         ("torch.cdist(a, a, p=float('inf'))", (2, 3, 0))])
def test_infinity_distances_of_no_coordinates_are_pytorchs_zeros(text, shape):
    """PyTorch answers 0 (the largest of no |difference|); jac refused "max of an empty array"."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    a = np.zeros(shape)
    want = eval(text, {"torch": torch, "F": F, "a": torch.tensor(a)}).numpy()  # noqa: S307
    got = api.evaluate(text, {"a": a})
    assert got.shape == want.shape and np.array_equal(got, want)
    assert api.jacobian(text, {"a": a})["a"].size == 0
