"""Writes into buffers whose layout jac now knows, and into a tensor a list holds (session 55, h55-layout).

1. ``functions.RESULT_LAYOUTS``: the layout PyTorch 2.13 gives the result of a call jac lowers to ops of unknown strides
   (sort, topk, cummax, gather, index_select, cat, stack, a constant, softmax, ...), checked here against PyTorch itself
   (``y._base``, ``y.stride()``); a write into such a result of two or more axes beside its views (``v = torch.sort(A,
   1)[0]; w = v.T; v[0] = 0.``), its ``contiguous()`` (itself where contiguous), its reshape (a view or a copy as its
   strides say) is answered as PyTorch answers it; all were refused ("shares its memory").
2. A list or tuple holding one tensor of the buffer (``ys = [B]; ys[0].mul_(2)``, ``for t in ys: t.add_(1)``,
   ``B.mul_(2)`` then ``ys[0]``) is rebuilt with the written tensor; a nested list holding it (``ys = [[B]]``) is now
   seen as holding it: the write is refused, where ``ys[0][0]`` kept the old values (a silent wrong answer on main).
3. ``np.exp(scipy.special.log_softmax(x))`` and ``np.exp(x - scipy.special.logsumexp(x))`` give SciPy's values for
   those texts at infinities already (recorded: no change).
Each text is run by PyTorch (float64) and compared with ``torch.autograd.functional``; those PyTorch's backward refuses
are refused in its words."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import (_torch_function, assert_agrees_with_pytorch,  # noqa: F401 - the fixture
                                assert_refused_as_pytorch_raises, torch64)
from test_parity_nograd53 import assert_orders_are_pytorchs

X = np.array([0.3, -0.7, 1.2, 0.45, 0.9, -0.2])
HEAD = "import torch\nimport torch.nn.functional as F\nA = x.reshape(2, 3) * 1.5 + 0.1\n"
TAIL = "\n(A ** 2).sum() + (A.reshape(-1) * x).sum()"

LAYOUTS = [  # a fresh result of two axes written beside its views, its contiguous(), its reshape
    "v = A.T.contiguous()\nw = v[1:]\nv.mul_(2)\nA = A + v.T + w.sum()",
    "v = torch.sort(A, dim=1)[0]\nw = v.T\nv[0] = 0.\nA = A + w.T",
    "v = torch.sort(A, dim=1)[0]\nw = v.reshape(3, 2)\nv[0] = 0.\nA = A + w.reshape(2, 3)",
    "v = torch.sort(A, dim=1)[0]\nw = v.T.reshape(6)\nv[0] = 0.\nA = A + w.reshape(2, 3)",
    "v = torch.sort(A, dim=1)[0]\nu = v.contiguous()\nu.mul_(2)\nA = A + v",
    "v = torch.sort(A, dim=1)[0]\nu = v.T.contiguous()\nu.mul_(2)\nA = A + v + u.T",
    "v = torch.sort(A, dim=1)[0]\nu = v.permute(1, 0)\nu[0].mul_(2)\nA = A + v",
    "v = torch.sort(A, dim=1)[0]\nu = v.narrow(1, 0, 2)\nu.mul_(x[0:2])\nA = A + v",
    "v = torch.sort(A, dim=1)[0]\nu = v.diagonal()\nu.mul_(2)\nA = A + v",
    "v = torch.sort(A.T, dim=1)[0]\nw = v.T\nw[0] = x[3:6]\nA = A + v.T",
    "v = torch.sort(A.T, dim=1)[0]\nu = v.T.contiguous()\nu[0] = 0.\nA = A + v.T + u",
    "v = torch.sort(A, dim=1)[0]\nw = v.view(6)\nw[1:3].mul_(x[0:2])\nA = A + v",
    "v = torch.topk(A.T, 2, dim=0)[0]\nw = v.view(4)\nw.mul_(x[0:4])\nA = A + v.sum() * v[0, 0]",
    "v = torch.cumsum(A.T, 0)\nw = v.view(6)\nw[2] = 1.\nA = A + v.T",
    "v = torch.msort(A.T)\nw = v.T\nw.mul_(A)\nA = A + v.T",
    "c = torch.tensor([[1., 2., 3.], [3., 4., 5.]])\nv = c.T\nv[0] = x[0:2]\nA = A * c",
    "B = torch.sort(A, 1)[0]\nw = B.T\nB.sub_(1)\nA = A * w.T",
    "v = torch.cummax(A, dim=1)[0]\nw = v.T\nw[2] = x[0:2]\nA = A + v",
    "v = torch.gather(A, 1, torch.tensor([[0, 2, 1], [1, 1, 0]]))\nw = v.T\nw[1] = x[0:2]\nA = A + v",
    "v = torch.index_select(A, 1, torch.tensor([2, 0, 1]))\nw = v.reshape(6)\nw[0:2] = x[0:2]\nA = A + v",
    "v = torch.stack([A[0], A[1] * 2])\nw = v.T\nw[0].exp_()\nA = A + v",
    "v = torch.cat([A, A], 1)\nw = v.reshape(4, 3)\nw[0] = x[0:3]\nA = A + v[:, :3]",
    "v = torch.sort(A, 1)[0]\nz = v.clone()\nw = v.T\nv.mul_(x[0:3])\nA = A + w.T + z",  # clone kept v's layout
]

RAISES = [  # the same writes into a tensor an op saved: PyTorch's backward raises
    "v = torch.sort(A, dim=1)[0]\nz = torch.sin(v)\nw = v.T\nw.mul_(2)\nA = A + z",
    "v = torch.softmax(A.T, 0)\nw = v.view(6)\nw.mul_(x)\nA = A + v.T",
    "v = torch.softmax(A.T, 0)\nw = v.view(6)\nw[0] = 0.5\nA = A + v.T",
    "B = A * 1\nz = B * B\nys = [B]\nys[0].mul_(2)\nA = A + z",
    "B = torch.exp(A)\nys = [B]\nfor t in ys:\n    t.add_(1)\nA = A + B",
]

LISTS = [  # a list or tuple holding the written tensor
    "B = A * 1\nys = [B]\nB.mul_(2)\nA = A + ys[0]",
    "B = A * 1\nys = [B]\nys[0].mul_(2)\nA = A + B",
    "B = A * 1\nys = [B]\nzs = ys\nB.mul_(x[0:3])\nA = A + zs[0] + ys[0]",
    "B = A * 1\nys = [B]\nys.append(A * 3)\nys[0].add_(x[0:3])\nA = A + ys[0] * ys[1] + B",
    "B = A * 1\nC = A * 2\nys = [B, C]\nfor t in ys:\n    t.add_(1)\nA = A + B * C",
    "B = A * 1\nys = [B, B * 2]\nfor t in ys:\n    t.mul_(x[0:3])\nA = A + B + ys[1]",
    "B = A * 1\nC = A * 2\nys = [B, C]\ndef f(ts):\n    for t in ts:\n        t.mul_(2)\nf(ys)\nA = A + B * C + ys[0]",
    "B = A * 1\nC = A * 2\nys = (B, C)\nys[1].add_(x[0:3])\nA = A + B * C + ys[1]",
    "B = A * 1\nys = [B[0]]\nB.mul_(2)\nA = A + ys[0]",
    "B = A * 1\nys = [B.T]\nB.mul_(x[0:3])\nA = A + ys[0].T",
    "B = A * 1\nC = A * 2\nys = [B, C]\nfor t in ys:\n    t[0] = x[0:3]\nA = A + B * C + t",
    "B = A * 1\nys = [B]\nw = B.T\nys[0].mul_(2)\nA = A + w.T + ys[0]",
    "B = torch.sort(A, 1)[0]\nys = [B]\nw = B.T\nfor t in ys:\n    t.mul_(x[0:3])\nA = A + w.T + ys[0]",
    "B = A * 1\nC = A * 2\nys = [B, C]\nys[-1].sub_(x[3:6])\nA = A + B * C",
    "B = A * 1\nys = [B]\nws = [ys[0]]\nB.add_(1)\nA = A + ws[0]",
    "B = A * 1\nys = [B]\nfor t in ys:\n    F.relu(t, inplace=True)\nA = A + B + ys[0]",
    "B = A * 1\nys = [B]\ntorch.relu_(B)\nA = A + ys[0]",
    # a literal list of names iterated: each item the name's very tensor (a constant's was a row of a copy: WRONG)
    "c = torch.tensor([[0.5, 1.0, 2.0], [2.0, 3.0, 4.0]])\nfor s in [c]: s.div_(3)\nA = A * c",
    "t = torch.zeros(2, 3)\nu = torch.ones(2, 3)\nfor s in (t, u): s.add_(A)\nA = t * u",
]

REFUSED = [  # jac cannot follow these: refused (a nested list: a silent wrong answer on main)
    ("B = A * 1\nys = [[B]]\nB.mul_(2)\nA = A + ys[0][0]", "shares its memory with 'ys'"),
    ("B = A * 1\nys = ([B], 1)\nB.mul_(2)\nA = A + ys[0][0]", "shares its memory with 'ys'"),
    ("B = A * 1\nys = [B, B]\nfor t in ys:\n    t.add_(1)\nA = A + B", "shares its memory with 'ys'"),
    ("B = A * 1\nys = [B[0], B[1]]\nB.mul_(2)\nA = A + ys[0]", "shares its memory with 'ys'"),  # (refused on main)
]


def _id(text: str) -> str:
    return " ".join(text.split())[:70]


@pytest.mark.parametrize("text", LAYOUTS + LISTS, ids=[_id(t) for t in LAYOUTS + LISTS])
def test_a_write_is_read_as_pytorch_reads_it(torch64, text):
    assert_agrees_with_pytorch(torch64, HEAD + text + TAIL, {"x": X})


@pytest.mark.parametrize("text", RAISES, ids=[_id(t) for t in RAISES])
def test_a_saved_tensor_written_is_refused_as_pytorch_raises(torch64, text):
    assert_refused_as_pytorch_raises(torch64, HEAD + text + TAIL, X)


@pytest.mark.parametrize("text,words", REFUSED, ids=[_id(t) for t, _ in REFUSED])
def test_what_jac_does_not_follow_is_refused(text, words):
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + text + TAIL, {"x": X})
    assert words in err.value.message


def test_a_nested_list_sees_the_write(torch64):
    """Main answered ``ys[0][0]`` with B's old values: PyTorch's list holds B itself."""
    code = HEAD + "B = A * 1\nys = [[B]]\nB.mul_(2)\nA = A + ys[0][0]" + TAIL
    f = _torch_function(torch64, code, ["x"])
    theirs = float(f(torch64.tensor(X)))
    try:
        ours = float(api.evaluate(code, {"x": X}))
    except JacError:
        return  # refused: not a wrong answer
    assert ours == pytest.approx(theirs)


HIGHER = [
    "v = torch.sort(A, dim=1)[0]\nw = v.T\nv.mul_(x[0:3])\nA = A * w.T",
    "v = torch.sort(A.T, dim=1)[0]\nu = v.T.contiguous()\nu.mul_(x[3:6])\nA = A + v.T * u",
    "B = A * 1\nys = [B]\nys[0].mul_(x[0:3])\nA = A * B",
    "B = A * 1\nC = A * 2\nys = [B, C]\nfor t in ys:\n    t.mul_(x[0:3])\nA = A + B * C",
]


@pytest.mark.parametrize("text", HIGHER, ids=[_id(t) for t in HIGHER])
def test_hessian_vjp_and_jvp_are_pytorchs(torch64, text):
    assert_orders_are_pytorchs(torch64, HEAD + text + "\n(A ** 3).sum() + (A.reshape(-1) * x).sum()", X)


def _operands(torch):
    g = torch.Generator().manual_seed(55)
    return {"contiguous": torch.randn(3, 4, generator=g), "transposed": torch.randn(4, 3, generator=g).T,
            "strided": torch.randn(3, 8, generator=g)[:, ::2]}


CALLS = {  # each name of RESULT_LAYOUTS jac reads, called as a text would
    "sort": lambda t, a: t.sort(a, 1)[0], "msort": lambda t, a: t.msort(a), "topk": lambda t, a: t.topk(a, 2, 0)[0],
    "cummax": lambda t, a: t.cummax(a, 1)[0], "cummin": lambda t, a: t.cummin(a, 0)[0],
    "cumsum": lambda t, a: t.cumsum(a, 0), "cumprod": lambda t, a: t.cumprod(a, 1),
    "logcumsumexp": lambda t, a: t.logcumsumexp(a, 1),
    "gather": lambda t, a: t.gather(a, 1, t.tensor([[0, 2, 1, 3], [1, 1, 0, 0], [3, 2, 1, 0]])),
    "take_along_dim": lambda t, a: t.take_along_dim(a, t.tensor([[0, 2, 1, 3], [1, 1, 0, 0], [3, 2, 1, 0]]), 1),
    "index_select": lambda t, a: t.index_select(a, 1, t.tensor([2, 0, 1])), "cat": lambda t, a: t.cat([a, a], 1),
    "concat": lambda t, a: t.concat([a, a]), "concatenate": lambda t, a: t.concatenate([a, a], 1),
    "stack": lambda t, a: t.stack([a, a]), "hstack": lambda t, a: t.hstack([a, a]), "vstack": lambda t, a: t.vstack([a]),
    "roll": lambda t, a: t.roll(a, 1, 0), "tril": lambda t, a: t.tril(a), "triu": lambda t, a: t.triu(a, 1),
    "kthvalue": lambda t, a: t.kthvalue(a, 2, 1, keepdim=True)[0], "median": lambda t, a: t.median(a, 0, True)[0],
    "mode": lambda t, a: t.mode(a, 1, True)[0], "softmax": lambda t, a: t.softmax(a, 0),
    "log_softmax": lambda t, a: t.log_softmax(a, 1), "outer": lambda t, a: t.outer(a[0], a[1]),
    "diag_embed": lambda t, a: t.diag_embed(a), "tensor": lambda t, a: t.tensor([[1., 2.], [3., 4.]]),
    "zeros": lambda t, a: t.zeros(3, 4), "ones": lambda t, a: t.ones(2, 3), "full": lambda t, a: t.full((2, 3), 0.5),
    "eye": lambda t, a: t.eye(3), "arange": lambda t, a: t.arange(6.0), "linspace": lambda t, a: t.linspace(0, 1, 5),
}


def test_the_table_is_pytorchs(torch64):
    """Every entry of RESULT_LAYOUTS as PyTorch 2.13 lays the result out: "new" a fresh contiguous tensor whatever the
    operand's layout, "like" a fresh tensor with a dense operand's strides (a non-dense one's: contiguous here)."""
    from jacobi_cli.lang.functions import REDUCTIONS, RESULT_LAYOUTS
    assert set(CALLS) == set(RESULT_LAYOUTS) - REDUCTIONS  # (the reductions: tests/test_layouts57.py)
    for name, kind in RESULT_LAYOUTS.items():
        if name in REDUCTIONS:
            continue
        for label, a in _operands(torch64).items():
            y = CALLS[name](torch64, a)
            assert y._base is None and y.untyped_storage().data_ptr() != a.untyped_storage().data_ptr(), (name, label)
            if kind == "new" or label == "strided":
                assert y.is_contiguous(), (name, label)
            else:
                assert y.stride() == a.stride(), (name, label)


SOFTMAX_TEXTS = [
    "import numpy as np\nimport scipy.special\nnp.exp(scipy.special.log_softmax(x))",
    "import numpy as np\nimport scipy.special\nnp.exp(x - scipy.special.logsumexp(x))",
    "import numpy as np\nfrom scipy.special import logsumexp\nnp.exp(x - logsumexp(x, keepdims=True))",
]
INF = np.inf


@pytest.mark.parametrize("text", SOFTMAX_TEXTS, ids=["log_softmax", "logsumexp", "logsumexp-keepdims"])
@pytest.mark.parametrize("x", [[1., INF, 2., 3.], [INF, INF, 1., 0.], [INF, 0., -INF, 1.], [-INF] * 4,
                               [1e308, 1e308, 0., 1.], [np.nan, 1., 2., 3.], [800., 1., 2., 3.]])
def test_exp_of_a_numpy_log_softmax_is_scipys(text, x):
    """jac gives SciPy's values for the NumPy / SciPy spellings (not softmax's: exp of SciPy's log_softmax at a +inf
    logit is NaN, as SciPy computes it), as the rule is the user's library's answer for that text."""
    special = pytest.importorskip("scipy.special")
    x = np.array(x)
    namespace = {"np": np, "scipy": pytest.importorskip("scipy"), "logsumexp": special.logsumexp, "x": x}
    with np.errstate(all="ignore"):
        theirs = eval(text.split("\n")[-1], namespace)  # noqa: S307 - the test's own text
        ours = api.evaluate(text, {"x": x})
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0, equal_nan=True)


def test_a_numpy_loop_over_names_writes_the_arrays():
    """``for s in [a, b]: s += 1`` adds into a and b themselves in NumPy too (s is each array); refused on main."""
    text = "import numpy as np\na = x * 1\nb = x * 2\nfor s in [a, b]:\n    s += x[0]\n(a * b).sum()"

    def f(x):
        a, b = x * 1, x * 2
        for s in [a, b]:
            s += x[0]
        return (a * b).sum()

    assert float(api.evaluate(text, {"x": X})) == pytest.approx(f(X.copy()), rel=1e-12)
    from test_nograd53 import central
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], central(f, X), rtol=1e-6, atol=1e-8)
