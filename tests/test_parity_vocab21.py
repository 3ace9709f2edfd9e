"""Parity with PyTorch 2.13 for the functions the twenty-first session added (see tests/parity.py): F.grid_sample
over every mode × padding_mode × align_corners, 4-d and 5-d, with grids reaching beyond [-1, 1] and points exactly
on the borders and corners (values, both Jacobians, a VJP in float64; values with NaN and ±inf positions; values
and Jacobians in float32), F.affine_grid (2-d and 3-d, both align_corners) and the spatial transformer
grid_sample(x, affine_grid(theta)). PyTorch has no second derivative of grid_sampler, so no Hessians are compared."""

import itertools

import numpy as np
import pytest

from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(21)


def _grid(shape):
    g = rng.uniform(-1.6, 1.6, shape)
    flat = g.reshape(-1, shape[-1])
    flat[0], flat[1] = 1.0, -1.0  # the corners
    flat[2, 0], flat[3, -1], flat[-1, 0] = 1.0, -1.0, 0.0  # on a border, and the middle
    return g


SHAPES2 = [((2, 3, 4, 5), (2, 3, 3, 2)), ((1, 2, 1, 3), (1, 4, 5, 2)), ((1, 1, 3, 1), (1, 2, 2, 2))]
SHAPES3 = [((2, 2, 3, 4, 2), (2, 2, 3, 2, 3)), ((1, 1, 1, 2, 3), (1, 3, 2, 2, 3))]
CASES = [(mode, padding, align, xs, gs)
         for mode, padding, align in itertools.product(("bilinear", "nearest", "bicubic"),
                                                        ("zeros", "border", "reflection"), (False, True))
         for xs, gs in SHAPES2 + ([] if mode == "bicubic" else SHAPES3)]


def _code(mode, padding, align):
    return f"F.grid_sample(x, g, mode='{mode}', padding_mode='{padding}', align_corners={align})"


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}-{len(c[3])}d-{i}" for i, c in enumerate(CASES)])
def test_grid_sample_matches_pytorch(case):
    mode, padding, align, xs, gs = case
    inputs = {"x": rng.standard_normal(xs), "g": _grid(gs)}
    assert_parity(_code(mode, padding, align), inputs,
                  lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align),
                  differs=("hessian",), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("mode, padding, align", list(itertools.product(
    ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True))))
def test_grid_sample_of_nan_and_inf_positions_matches_pytorch(mode, padding, align):
    x, g = rng.standard_normal((2, 2, 4, 3)), rng.uniform(-4, 4, (2, 3, 4, 2))
    g.reshape(-1)[[0, 3, 5, 8, 11]] = [np.nan, np.inf, -np.inf, 1e30, -1e300]
    ours = np.asarray(api.evaluate(_code(mode, padding, align), {"x": x, "g": g}))
    theirs = F.grid_sample(torch.tensor(x), torch.tensor(g), mode=mode, padding_mode=padding,
                           align_corners=align).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13, equal_nan=True)


FLOAT32 = [c for c in CASES if c[3] == SHAPES2[0][0] or c[3] == SHAPES3[0][0]]


@pytest.mark.parametrize("case", FLOAT32, ids=[f"{c[0]}-{c[1]}-{c[2]}-{len(c[3])}d" for c in FLOAT32])
def test_grid_sample_matches_pytorch_in_float32(case):
    mode, padding, align, xs, gs = case
    inputs = {"x": rng.standard_normal(xs), "g": _grid(gs)}
    code = _code(mode, padding, align)
    value = np.asarray(api.evaluate(code, inputs, dtype="float32"))
    assert value.dtype == np.float32
    tx, tg = (torch.tensor(v, dtype=torch.float32) for v in inputs.values())

    def fn(a, b):
        return F.grid_sample(a, b, mode=mode, padding_mode=padding, align_corners=align)

    np.testing.assert_allclose(value, fn(tx, tg).numpy(), rtol=2e-5, atol=2e-6)
    ours = api.jacobian(code, inputs, dtype="float32")
    theirs = torch.autograd.functional.jacobian(fn, (tx, tg))
    for name, J in zip(("x", "g"), theirs):
        np.testing.assert_allclose(np.asarray(ours[name]), J.numpy(), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("code", ["torch.grid_sampler(x, g, {i}, {p}, {a})", "torch.grid_sampler_2d(x, g, {i}, {p}, {a})"])
def test_torch_grid_sampler_matches_pytorch(code):
    x, g = rng.standard_normal((1, 2, 3, 4)), _grid((1, 2, 3, 2))
    fn = eval(code.split("(")[0], {"torch": torch})  # noqa: S307 - the test's own spelling
    for i, p, a in itertools.product(range(3), range(3), (False, True)):
        ours = np.asarray(api.evaluate(code.format(i=i, p=p, a=a), {"x": x, "g": g}))
        np.testing.assert_allclose(ours, fn(torch.tensor(x), torch.tensor(g), i, p, a).numpy(), rtol=1e-12,
                                   atol=1e-13)


AFFINE = [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 1), (2, 2, 3, 4, 2), (1, 1, 1, 1, 5)]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("size", AFFINE, ids=[str(s) for s in AFFINE])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_matches_pytorch(size, align):
    nd = len(size) - 2
    theta = rng.standard_normal((size[0], nd, nd + 1))
    assert_parity(f"F.affine_grid(t, {size}, align_corners={align})", {"t": theta},
                  lambda t: F.affine_grid(t, size, align_corners=align))
    assert_parity(f"torch.affine_grid_generator(t, {size}, {align})", {"t": theta},
                  lambda t: torch.affine_grid_generator(t, size, align))
    value = np.asarray(api.evaluate(f"F.affine_grid(t, {size}, align_corners={align})", {"t": theta},
                                    dtype="float32"))
    theirs = F.affine_grid(torch.tensor(theta, dtype=torch.float32), size, align_corners=align).numpy()
    np.testing.assert_allclose(value, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode, padding", [("bilinear", "zeros"), ("bicubic", "reflection"), ("bilinear", "border")])
def test_spatial_transformer_matches_pytorch(mode, padding):
    x = rng.standard_normal((2, 3, 5, 4))
    theta = np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, -0.2]], [[1.3, -0.4, 0.3], [0.5, 0.7, 0.05]]])
    code = (f"F.grid_sample(x, F.affine_grid(t, (2, 3, 3, 4), align_corners=False), mode='{mode}', "
            f"padding_mode='{padding}', align_corners=False)")
    assert_parity(code, {"x": x, "t": theta},
                  lambda x, t: F.grid_sample(x, F.affine_grid(t, (2, 3, 3, 4), align_corners=False), mode=mode,
                                             padding_mode=padding, align_corners=False),
                  differs=("hessian",))


LINALG = [  # (expression, inputs, PyTorch)
    ("torch.linalg.solve_ex(A, B)[0]", {"A": rng.standard_normal((2, 3, 3)), "B": rng.standard_normal((2, 3, 2))},
     lambda A, B: torch.linalg.solve_ex(A, B)[0]),
    ("torch.linalg.solve_ex(A, b, left=False).result", {"A": rng.standard_normal((3, 3)),
                                                        "b": rng.standard_normal((2, 3))},
     lambda A, b: torch.linalg.solve_ex(A, b, left=False).result),
    ("torch.linalg.solve_ex(A, b)[0]", {"A": rng.standard_normal((2, 3, 3)), "b": rng.standard_normal((2, 3))},
     lambda A, b: torch.linalg.solve_ex(A, b)[0]),
    ("torch.linalg.lu_factor_ex(A).LU", {"A": rng.standard_normal((2, 4, 4))},
     lambda A: torch.linalg.lu_factor_ex(A).LU),
    ("torch.linalg.lu_factor_ex(A, check_errors=True)[0]", {"A": rng.standard_normal((3, 3))},
     lambda A: torch.linalg.lu_factor_ex(A, check_errors=True)[0]),
    ("torch.lu_unpack(*torch.linalg.lu_factor(A))[1]", {"A": rng.standard_normal((2, 4, 4))},
     lambda A: torch.lu_unpack(*torch.linalg.lu_factor(A))[1]),
    ("torch.lu_unpack(*torch.linalg.lu_factor(A))[2]", {"A": rng.standard_normal((4, 4))},
     lambda A: torch.lu_unpack(*torch.linalg.lu_factor(A))[2]),
    ("torch.lu_unpack(LU, p).L", {"LU": rng.standard_normal((5, 3)), "p": np.array([3.0, 5.0, 3.0])},
     lambda LU, p: torch.lu_unpack(LU, p.to(torch.int32)).L),
    ("torch.lu_unpack(LU, p).U", {"LU": rng.standard_normal((3, 5)), "p": np.array([3.0, 2.0, 3.0])},
     lambda LU, p: torch.lu_unpack(LU, p.to(torch.int32)).U),
    ("torch.lu_unpack(LU, p)[0]", {"LU": rng.standard_normal((2, 4, 3)), "p": np.array([[4.0, 2.0, 3.0],
                                                                                      [1.0, 4.0, 4.0]])},
     lambda LU, p: torch.lu_unpack(LU, p.to(torch.int32))[0]),
    ("(torch.lu_unpack(*torch.linalg.lu_factor(A)).U ** 2).sum()", {"A": rng.standard_normal((3, 3))},
     lambda A: (torch.lu_unpack(*torch.linalg.lu_factor(A)).U ** 2).sum()),
]


@pytest.mark.parametrize("case", LINALG, ids=[c[0] for c in LINALG])
def test_lu_forms_match_pytorch(case):
    expr, inputs, fn = case
    assert_parity(expr, inputs, fn)


@pytest.mark.parametrize("A", [[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 1.0]], [[2.0, 1.0], [1.0, 3.0]],
                               [[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]]])
def test_lu_factor_ex_info_matches_pytorch(A):
    A = np.array(A)
    theirs = torch.linalg.lu_factor_ex(torch.tensor(A))
    for i, part in enumerate(theirs):
        ours = np.asarray(api.evaluate(f"torch.linalg.lu_factor_ex(A)[{i}]", {"A": A}))
        np.testing.assert_array_equal(ours, part.numpy())


T5 = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [4, 4, -1, -1, -1], [-1, 2, 1, 0, 0]], dtype=float)
LOSSES = [
    ("F.multilabel_margin_loss(x, t) * torch.ones(2)", {"x": rng.standard_normal((4, 5)), "t": T5},
     lambda x, t: F.multilabel_margin_loss(x, t.long()) * torch.ones(2, dtype=torch.float64)),
    ("F.multilabel_margin_loss(x, t, reduction='none')", {"x": rng.standard_normal((4, 5)), "t": T5},
     lambda x, t: F.multilabel_margin_loss(x, t.long(), reduction="none")),
    ("F.multilabel_margin_loss(x, t, reduction='sum') * torch.ones(2)", {"x": rng.standard_normal((4, 5)) * 0.3, "t": T5},
     lambda x, t: F.multilabel_margin_loss(x, t.long(), reduction="sum") * torch.ones(2, dtype=torch.float64)),
    ("F.multilabel_margin_loss(x, t) * torch.ones(2)", {"x": rng.standard_normal(5), "t": T5[0]},
     lambda x, t: F.multilabel_margin_loss(x, t.long()) * torch.ones(2, dtype=torch.float64)),
    ("F.multilabel_margin_loss(x, t, reduction='none') * torch.ones(2)",
     {"x": rng.standard_normal(3), "t": np.array([2.0, 0, 1])},
     lambda x, t: F.multilabel_margin_loss(x, t.long(), reduction="none") * torch.ones(2, dtype=torch.float64)),
    ("F.triplet_margin_with_distance_loss(a, p, n)", {k: rng.standard_normal((4, 3)) for k in "apn"},
     lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n)),
    ("F.triplet_margin_with_distance_loss(a, p, n, swap=True, margin=2.0, reduction='none')",
     {k: rng.standard_normal((4, 3)) for k in "apn"},
     lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, swap=True, margin=2.0, reduction="none")),
    ("F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v))",
     {k: rng.standard_normal((4, 3)) for k in "apn"},
     lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v:
                                                         1 - F.cosine_similarity(u, v))),
    ("F.triplet_margin_with_distance_loss(a, p, n, distance_function=nn.PairwiseDistance(p=1), reduction='sum')",
     {k: rng.standard_normal((2, 4, 3)) for k in "apn"},
     lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, distance_function=torch.nn.PairwiseDistance(p=1),
                                                         reduction="sum")),
    ("F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: ((u - v) ** 2).sum(-1), swap=True)",
     {k: rng.standard_normal((5, 2)) for k in "apn"},
     lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v:
                                                         ((u - v) ** 2).sum(-1), swap=True)),
]


@pytest.mark.parametrize("case", LOSSES, ids=[f"{i}:{c[0]}" for i, c in enumerate(LOSSES)])
def test_losses_match_pytorch(case):
    expr, inputs, fn = case
    assert_parity(expr, inputs, fn)  # multilabel: no scalar output (PyTorch has no second derivative)


def test_multilabel_margin_loss_of_nan_matches_pytorch():
    x = rng.standard_normal((4, 5))
    x[0, 4], x[1, 1] = np.nan, np.inf
    ours = np.asarray(api.evaluate("F.multilabel_margin_loss(x, t, reduction='none')", {"x": x, "t": T5}))
    theirs = F.multilabel_margin_loss(torch.tensor(x), torch.tensor(T5).long(), reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, equal_nan=True)


SPECIAL_X = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, 1e-9, 0.5, -0.5, np.nextafter(0.5, 0), 2.09,
                                                         -2.09, 8.3203353, 103.892, 103.9, np.inf, -np.inf, np.nan]])


@pytest.mark.parametrize("name", ["airy_ai", "spherical_bessel_j0"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_special_values_match_pytorch(name, dtype):
    x = SPECIAL_X.astype(dtype)
    with np.errstate(all="ignore"):
        ours = np.asarray(api.evaluate(f"torch.special.{name}(x)", {"x": x}, dtype=dtype))
    theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
    assert ours.dtype == theirs.dtype
    ulp = np.finfo(dtype).eps
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=float(ulp) * 1.01, equal_nan=True)  # libm's sin, exp: an ulp


def test_special_derivatives_are_the_functions_own_where_pytorch_has_none():
    from scipy import special

    x = np.array([-5.0, -2.5, -1.0, 0.0, 0.4, 1.7, 3.0, 12.0])
    J = np.diag(np.asarray(api.jacobian("torch.special.airy_ai(x)", {"x": x})["x"]))
    np.testing.assert_allclose(J, special.airy(x)[1], rtol=1e-13)
    J = np.diag(np.asarray(api.jacobian("torch.special.spherical_bessel_j0(x)", {"x": x})["x"]))
    np.testing.assert_allclose(J, special.spherical_jn(0, x, derivative=True), rtol=1e-9, atol=1e-16)
    with pytest.raises(RuntimeError):  # PyTorch differentiates neither
        torch.special.airy_ai(torch.tensor(x, requires_grad=True)).sum().backward()


@pytest.mark.parametrize("shapes", [((2, 1), (3,)), ((1,), (4, 1, 5), (5,)), (3, (1,)), ()])
def test_broadcast_shapes_match_the_libraries(shapes):
    code = f"broadcast_shapes({', '.join(map(str, shapes))})"
    assert np.asarray(api.evaluate(f"torch.{code}", {})).tolist() == list(torch.broadcast_shapes(*shapes))
    assert np.asarray(api.evaluate(f"np.{code}", {})).tolist() == list(np.broadcast_shapes(*shapes))
