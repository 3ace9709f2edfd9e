"""Functions the twenty-first session added, which ``benchmarks/vocab_names.py`` listed as refused by name:
F.affine_grid and F.grid_sample (with torch.affine_grid_generator and torch.grid_sampler). Without PyTorch: values
against a plain NumPy reading of PyTorch's formulas, Jacobians by the input and by the grid against central
differences away from the kinks, forward and reverse mode agreeing, and the refusals through the command line (exit
2, one message). tests/test_parity_vocab21.py compares them with PyTorch.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import api
from parity import central

rng = np.random.default_rng(2121)
runner = CliRunner()


def _refused(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.count("jac: error") == 1 and words in result.output, result.output


# --- F.grid_sample: a plain reading of PyTorch's scalar formulas (GridSampler.h) --------------------------------

def _unnormalize(g, n, align):
    return (g + 1) / 2 * (n - 1) if align else ((g + 1) * n - 1) / 2


def _clip(x, n):
    return min(n - 1.0, max(x, 0.0))


def _reflect(x, n, align):
    low, high = (0, 2 * (n - 1)) if align else (-1, 2 * n - 1)
    if low == high:
        return 0.0
    least, span = low / 2, (high - low) / 2
    x = abs(x - least)
    extra, flips = math.fmod(x, span), math.floor(x / span)
    return extra + least if flips % 2 == 0 else span - extra + least


def _bounded(x, n, padding, align):
    if padding == "border":
        return _clip(x, n)
    if padding == "reflection":
        return _clip(_reflect(x, n, align), n)
    return x


def _pixel(img, iy, ix, padding, align, cubic=False):
    H, W = img.shape
    if cubic:  # bicubic bounds each tap by the padding mode
        iy, ix = int(_bounded(iy, H, padding, align)), int(_bounded(ix, W, padding, align))
    return img[iy, ix] if 0 <= iy < H and 0 <= ix < W else 0.0


def _cubic(t, A=-0.75):
    near = lambda x: ((A + 2) * x - (A + 3)) * x * x + 1  # noqa: E731
    far = lambda x: ((A * x - 5 * A) * x + 8 * A) * x - 4 * A  # noqa: E731
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def reference_grid_sample(x, grid, mode, padding, align):
    N, C, H, W = x.shape
    out = np.zeros((N, C) + grid.shape[1:3])
    for n, i, j, c in itertools.product(range(N), range(grid.shape[1]), range(grid.shape[2]), range(C)):
        gx, gy = grid[n, i, j]
        img = x[n, c]
        if mode == "bicubic":
            px, py = _unnormalize(gx, W, align), _unnormalize(gy, H, align)
            fx, fy = math.floor(px), math.floor(py)
            cx, cy = _cubic(px - fx), _cubic(py - fy)
            out[n, c, i, j] = sum(cy[r] * cx[k] * _pixel(img, fy - 1 + r, fx - 1 + k, padding, align, cubic=True)
                                  for r in range(4) for k in range(4))
            continue
        px = _bounded(_unnormalize(gx, W, align), W, padding, align)
        py = _bounded(_unnormalize(gy, H, align), H, padding, align)
        if mode == "nearest":
            out[n, c, i, j] = _pixel(img, int(np.round(py)), int(np.round(px)), padding, align)
            continue
        fx, fy = math.floor(px), math.floor(py)
        wx, wy = px - fx, py - fy
        out[n, c, i, j] = sum(_pixel(img, fy + dy, fx + dx, padding, align) * (wx if dx else 1 - wx)
                              * (wy if dy else 1 - wy) for dy in (0, 1) for dx in (0, 1))
    return out


def smooth_grid(shape, sizes, align, spread=1.0):
    """A grid whose unnormalised positions keep 0.05 away from every multiple of 0.5 (the floors, the rounding,
    the clipped and reflected borders), out to ``spread`` pixels beyond the input."""
    nd = shape[-1]
    grid = np.empty(shape)
    for k in range(nd):
        n = sizes[nd - 1 - k]  # the grid's x is the last spatial axis
        half = rng.integers(int(-2 * spread) - 1, 2 * (n + spread), shape[:-1]) * 0.5
        pos = half + rng.uniform(0.05, 0.45, shape[:-1])
        grid[..., k] = 2 * pos / (n - 1) - 1 if align and n > 1 else (2 * pos + 1) / n - 1
    return grid


COMBOS = list(itertools.product(("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True)))


@pytest.mark.parametrize("mode, padding, align", COMBOS)
def test_grid_sample_values_are_pytorchs_formulas(mode, padding, align):
    x = rng.standard_normal((2, 2, 4, 5))
    grid = rng.uniform(-1.7, 1.7, (2, 3, 4, 2))
    grid[0, 0, 0], grid[0, 0, 1], grid[1, 2, 3] = (1.0, -1.0), (-1.0, 1.0), (0.0, 1.0)  # corners and a border
    code = f"F.grid_sample(x, g, mode='{mode}', padding_mode='{padding}', align_corners={align})"
    value = np.asarray(api.evaluate(code, {"x": x, "g": grid}))
    np.testing.assert_allclose(value, reference_grid_sample(x, grid, mode, padding, align), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode, padding, align", COMBOS)
def test_grid_sample_jacobians_equal_central_differences(mode, padding, align):
    x = rng.standard_normal((1, 2, 3, 4))
    grid = smooth_grid((1, 2, 3, 2), (3, 4), align)
    code = f"F.grid_sample(x, g, mode='{mode}', padding_mode='{padding}', align_corners={align})"
    bindings = {"x": x, "g": grid}
    J = api.jacobian(code, bindings)
    for name in ("x", "g"):
        fd = central(lambda t: api.evaluate(code, {**bindings, name: t}), bindings[name], h=1e-6)
        np.testing.assert_allclose(np.asarray(J[name]), fd, rtol=1e-6, atol=1e-7)
    u, t = rng.standard_normal((1, 2, 2, 3)), {k: rng.standard_normal(v.shape) for k, v in bindings.items()}
    vjp = api.vjp(code, bindings, v=u)
    jvp = np.asarray(api.jvp(code, bindings, tangents=t))
    np.testing.assert_allclose(np.sum(u * jvp), sum(np.sum(vjp[k] * t[k]) for k in t), rtol=1e-10)


def test_grid_sample_nearest_has_no_grid_derivative():
    x, grid = rng.standard_normal((1, 1, 3, 3)), rng.uniform(-1, 1, (1, 2, 2, 2))
    J = api.jacobian("F.grid_sample(x, g, mode='nearest')", {"x": x, "g": grid})
    assert not np.asarray(J["g"]).any()
    assert np.asarray(J["x"]).sum() == 4  # each output copies one pixel


def test_grid_sample_border_clips_with_no_derivative_on_the_border():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    grid = np.array([[[[1.0, 0.25], [5.0, 0.25], [-1.0, 0.25]]]])  # x = 1 is the last column with align_corners
    code = "F.grid_sample(x, g, padding_mode='border', align_corners=True)"
    value = np.asarray(api.evaluate(code, {"x": x, "g": grid}))
    np.testing.assert_allclose(value.ravel(), [5.75, 5.75, 3.75])  # row 1.25: x[1, j] + 0.25 · 3
    J = np.asarray(api.jacobian(code, {"x": x, "g": grid})["g"]).reshape(3, 3, 2)
    assert J[0, 0, 0] == J[1, 1, 0] == J[2, 2, 0] == 0  # PyTorch counts the border as outside: no x derivative
    assert J[0, 0, 1] == J[2, 2, 1] == 3.0  # d/dy: (one row) * (H - 1) / 2


def test_grid_sample_reflection_folds_far_points_back():
    x = rng.standard_normal((1, 1, 1, 4))
    near = np.array([[[[0.3, 0.0]]]])
    far = near.copy()
    far[..., 0] = 0.3 + 4.0  # one period (2 · 4 pixels over 2 · 4 / 2 per unit) away
    mirror = near.copy()
    mirror[..., 0] = 2.0 - 0.3  # the right border at 1: 1 + (1 - 0.3)
    code = "F.grid_sample(x, g, padding_mode='reflection')"
    values = [np.asarray(api.evaluate(code, {"x": x, "g": g})).item() for g in (near, far, mirror)]
    np.testing.assert_allclose(values[1], values[0], rtol=1e-14)
    mirrored = np.asarray(api.evaluate(code, {"x": x[..., ::-1].copy(), "g": -near})).item()
    np.testing.assert_allclose(values[2], mirrored, rtol=1e-14)


def test_grid_sample_nearest_rounds_half_to_even():
    x = np.arange(4.0).reshape(1, 1, 1, 4)
    grid = np.array([[[[-0.5, 0.0], [0.0, 0.0]]]])  # positions 0.5 and 1.5 without align_corners
    value = np.asarray(api.evaluate("F.grid_sample(x, g, mode='nearest')", {"x": x, "g": grid}))
    assert value.ravel().tolist() == [0.0, 2.0]


def test_grid_sample_nan_and_inf_positions_read_as_pytorch():
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    grid = np.array([[[[np.nan, 0.2], [np.inf, 0.1], [-np.inf, 0.3]]]])
    values = {(mode, padding): np.asarray(api.evaluate(f"F.grid_sample(x, g, mode='{mode}', padding_mode='{padding}')",
                                                       {"x": x, "g": grid})).ravel()
              for mode in ("bilinear", "nearest") for padding in ("zeros", "border", "reflection")}
    assert np.isnan(values["bilinear", "zeros"]).all()  # 0 · NaN weight, as the vectorized kernel
    assert values["nearest", "zeros"].tolist() == [0, 0, 0]
    np.testing.assert_allclose(values["bilinear", "border"], [8.6, 10.8, 9.4])  # NaN clips to 0, inf to the border
    np.testing.assert_allclose(values["bilinear", "reflection"], [8.6, 7.8, 9.4])  # inf reflects to NaN, then 0
    assert values["nearest", "border"].tolist() == [9, 12, 9]


def test_grid_sample_volumes_read_the_trilinear_formula():
    x = rng.standard_normal((1, 2, 3, 2, 4))
    grid = smooth_grid((1, 2, 2, 1, 3), (3, 2, 4), False, spread=0.5)
    value = np.asarray(api.evaluate("F.grid_sample(x, g, padding_mode='border')", {"x": x, "g": grid}))
    pos = [np.clip(((grid[0, ..., k] + 1) * n - 1) / 2, 0, n - 1) for k, n in enumerate((4, 2, 3))]  # x, y, z
    low = [np.floor(p).astype(int) for p in pos]
    want = np.zeros(value.shape)
    for dz, dy, dx in itertools.product((0, 1), repeat=3):
        at = [low[0] + dx, low[1] + dy, low[2] + dz]
        w = np.ones(at[0].shape)
        for k, d in enumerate((dx, dy, dz)):
            w = w * (pos[k] - low[k] if d else low[k] + 1 - pos[k])
        inside = (at[0] < 4) & (at[1] < 2) & (at[2] < 3)
        picked = x[0][:, np.minimum(at[2], 2), np.minimum(at[1], 1), np.minimum(at[0], 3)]
        want[0] += np.where(inside, picked * w, 0.0)
    np.testing.assert_allclose(value, want, rtol=1e-12)
    J = np.asarray(api.jacobian("F.grid_sample(x, g, padding_mode='border')", {"x": x, "g": grid})["g"])
    fd = central(lambda t: api.evaluate("F.grid_sample(x, g, padding_mode='border')", {"x": x, "g": t}), grid, h=1e-6)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-7)


def test_grid_sample_hessian_is_symmetric_and_matches_differences_of_the_gradient():
    x, grid = rng.standard_normal((1, 1, 3, 4)), smooth_grid((1, 2, 2, 2), (3, 4), False, spread=0.3)
    code = "(F.grid_sample(x, g, mode='bicubic', padding_mode='reflection') ** 2).sum()"
    H = api.hessian(code, {"x": x, "g": grid})
    gg = np.asarray(H[("g", "g")]).reshape(grid.size, grid.size)
    np.testing.assert_allclose(gg, gg.T, rtol=1e-10, atol=1e-12)
    fd = central(lambda t: api.vjp(code, {"x": x, "g": t}, v=np.array(1.0))["g"], grid, h=1e-6)
    np.testing.assert_allclose(gg, fd.reshape(grid.size, grid.size).T, rtol=1e-5, atol=1e-6)


def test_torch_grid_sampler_takes_integer_codes():
    x, grid = rng.standard_normal((1, 2, 3, 3)), rng.uniform(-1.2, 1.2, (1, 2, 2, 2))
    for i, p, a in itertools.product(range(3), range(3), (False, True)):
        mode, padding = ("bilinear", "nearest", "bicubic")[i], ("zeros", "border", "reflection")[p]
        ours = api.evaluate(f"torch.grid_sampler(x, g, {i}, {p}, {a})", {"x": x, "g": grid})
        named = api.evaluate(f"F.grid_sample(x, g, '{mode}', '{padding}', {a})", {"x": x, "g": grid})
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(named))


# --- F.affine_grid ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(2, 3, 3, 4), (1, 1, 1, 3), (2, 1, 2, 3, 2)])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_is_the_base_grid_times_theta(size, align):
    nd = len(size) - 2
    theta = rng.standard_normal((size[0], nd, nd + 1))
    value = np.asarray(api.evaluate(f"F.affine_grid(t, {size}, align_corners={align})", {"t": theta}))
    assert value.shape == (size[0],) + size[2:] + (nd,)

    def axis(n):
        return np.zeros(1) if n == 1 else np.linspace(-1, 1, n) * (1 if align else (n - 1) / n)

    mesh = np.meshgrid(*[axis(n) for n in size[2:]], indexing="ij")
    base = np.stack(list(mesh)[::-1] + [np.ones(size[2:])], axis=-1)  # (x, y[, z], 1)
    want = np.einsum("...k,nck->n...c", base, theta)
    np.testing.assert_allclose(value, want, rtol=1e-13, atol=1e-15)
    J = np.asarray(api.jacobian(f"F.affine_grid(t, {size}, align_corners={align})", {"t": theta})["t"])
    np.testing.assert_allclose(J[(0,) * (nd + 1) + (0, 0, 0, nd)], 1.0)  # d out[0, ..., x] / d theta[0, 0, last]


def test_spatial_transformer_derivative_by_theta():
    x, theta = rng.standard_normal((1, 2, 4, 4)), np.array([[[0.8, 0.1, 0.05], [-0.2, 0.9, 0.1]]])
    code = "F.grid_sample(x, F.affine_grid(t, (1, 2, 3, 3), align_corners=False), align_corners=False)"
    J = np.asarray(api.jacobian(code, {"x": x, "t": theta})["t"])
    fd = central(lambda t: api.evaluate(code, {"x": x, "t": t}), theta, h=1e-6)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-7)


BAD = [
    (["eval", "F.grid_sample(x, g, mode='area')", "x:1,1,4,4", "g:1,3,3,2"], "mode must be one of"),
    (["eval", "F.grid_sample(x, g, padding_mode='circular')", "x:1,1,4,4", "g:1,3,3,2"], "padding_mode must be"),
    (["eval", "F.grid_sample(x, g)", "x:1,1,4,4", "g:1,3,3,3"], "must have shape (1, out, out, 2)"),
    (["eval", "F.grid_sample(x, g)", "x:2,1,4,4", "g:1,3,3,2"], "must have shape (2, out, out, 2)"),
    (["eval", "F.grid_sample(x, g)", "x:1,4,4", "g:1,3,3,2"], "must be 4-d"),
    (["eval", "F.grid_sample(x, g, mode='bicubic')", "x:1,1,2,4,4", "g:1,1,3,3,3"], "bicubic"),
    (["eval", "F.grid_sample(x, g, align_corners=g)", "x:1,1,4,4", "g:1,3,3,2"], "align_corners must be a constant"),
    (["eval", "torch.grid_sampler(x, g, 3, 0, False)", "x:1,1,4,4", "g:1,3,3,2"], "integer codes"),
    (["eval", "torch.grid_sampler_3d(x, g, 0, 0, False)", "x:1,1,4,4", "g:1,3,3,2"], "5-d input"),
    (["eval", "F.affine_grid(t, (2, 1, 3, 3))", "t:1,2,3"], "theta must be a batch"),
    (["eval", "F.affine_grid(t, (1, 1, 3, 3, 3))", "t:1,2,3"], "(1, 3, 4)"),
    (["eval", "F.affine_grid(t, (1, 1, 3))", "t:1,2,3"], "size must be (N, C, H, W)"),
    (["eval", "F.affine_grid(t, (1, 1, 0, 3))", "t:1,2,3"], "size must be positive"),
    (["eval", "F.affine_grid(t, (1, 1, n, 3))", "t:1,2,3", "n=3"], "size must be constant integers"),
]


@pytest.mark.parametrize("args, words", BAD, ids=[" ".join(b[0][1:]) for b in BAD])
def test_bad_arguments_exit_2_with_one_message(args, words):
    _refused(args, words)


# --- torch.linalg.solve_ex, lu_factor_ex, torch.lu_unpack ----------------------------------------------------------

def test_lu_unpack_rebuilds_the_matrix_and_its_parts_are_triangular():
    for shape in [(4, 4), (2, 3, 5), (5, 3)]:
        A = rng.standard_normal(shape)
        P, L, U = (np.asarray(api.evaluate(f"torch.lu_unpack(*torch.linalg.lu_factor(A))[{i}]", {"A": A}))
                   for i in range(3))
        k = min(shape[-2:])
        assert L.shape == shape[:-1] + (k,) and U.shape == shape[:-2] + (k, shape[-1])
        np.testing.assert_allclose(P @ L @ U, A, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(np.triu(L, 1), 0)
        np.testing.assert_array_equal(np.diagonal(L, axis1=-2, axis2=-1), 1)
        np.testing.assert_array_equal(np.tril(U, -1), 0)


def test_lu_unpack_derivative_by_the_packed_factor_is_its_masks():
    LU, piv = rng.standard_normal((3, 3)), np.array([2.0, 3.0, 3.0])
    J = np.asarray(api.jacobian("torch.lu_unpack(LU, p)[1]", {"LU": LU, "p": piv}, wrt=["LU"])["LU"])
    want = np.zeros((3, 3, 3, 3))
    for i, j in zip(*np.tril_indices(3, -1)):
        want[i, j, i, j] = 1
    np.testing.assert_array_equal(J, want)


def test_solve_ex_and_lu_factor_ex_add_getrfs_info():
    A, B = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 2))
    info = np.asarray(api.evaluate("torch.linalg.solve_ex(A, B).info", {"A": A, "B": B}))
    assert info.shape == (2,) and not info.any()
    np.testing.assert_allclose(api.evaluate("torch.linalg.solve_ex(A, B)[0]", {"A": A, "B": B}),
                               np.linalg.solve(A, B), rtol=1e-12)
    singular = np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])
    info = np.asarray(api.evaluate("torch.linalg.lu_factor_ex(A).info", {"A": singular}))
    assert info.tolist() == [2, 0, 1]  # the first exact zero on U's diagonal, 1-based, as getrf
    LU, piv, _ = (np.asarray(api.evaluate(f"torch.linalg.lu_factor_ex(A)[{i}]", {"A": A})) for i in range(3))
    np.testing.assert_array_equal(LU, np.asarray(api.evaluate("torch.linalg.lu_factor(A)[0]", {"A": A})))


BAD_LINALG = [
    (["eval", "torch.linalg.lu_factor_ex(A, check_errors=True)[0]", "A=[[1, 2], [2, 4]]"], "exact zero on its"),
    (["eval", "torch.lu_unpack(A, p)[0]", "A:3,3", "p=[1, 2]"], "must have shape (3,)"),
    (["eval", "torch.lu_unpack(A, p, unpack_data=False)[0]", "A:3,3", "p=[1, 2, 3]"], "unpack_data=False"),
    (["eval", "torch.lu_unpack(A, p)[0]", "A:3,3", "p=[0, 2, 3]"], "pivots must be integers from 1 to 3"),
    (["eval", "torch.linalg.solve_ex(A, b)[0]", "A=[[1, 2], [2, 4]]", "b:2"], "singular"),
    (["eval", "torch.linalg.solve_ex(A, b)[0]", "A:2,3", "b:2"], "square"),
]


@pytest.mark.parametrize("args, words", BAD_LINALG, ids=[" ".join(b[0][1:]) for b in BAD_LINALG])
def test_linalg_refusals_exit_2_with_one_message(args, words):
    _refused(args, words)


# --- F.multilabel_margin_loss, F.triplet_margin_with_distance_loss ----------------------------------------------------

def reference_multilabel(x, target):
    """PyTorch's kernel, loop for loop: the targets up to the first -1, then every class that is not one."""
    out = []
    for row, t in zip(np.atleast_2d(x), np.atleast_2d(target).astype(int)):
        listed = list(t[:list(t).index(-1)] if -1 in t else t)
        total = sum(max(0.0, 1 - row[j] + row[i]) for j in listed for i in range(len(row)) if i not in listed)
        out.append(total / len(row))
    return np.array(out)


MULTILABEL_TARGETS = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [4, 4, -1, -1, -1], [-1, 2, 1, 0, 0]], dtype=float)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multilabel_margin_loss_is_pytorchs_sum(reduction):
    x = rng.standard_normal((4, 5))
    code = f"F.multilabel_margin_loss(x, t, reduction='{reduction}')"
    want = reference_multilabel(x, MULTILABEL_TARGETS)
    want = {"none": want, "mean": want.mean(), "sum": want.sum()}[reduction]
    np.testing.assert_allclose(api.evaluate(code, {"x": x, "t": MULTILABEL_TARGETS}), want, rtol=1e-13)
    J = np.asarray(api.jacobian(code, {"x": x, "t": MULTILABEL_TARGETS}, wrt=["x"])["x"])
    fd = central(lambda v: api.evaluate(code, {"x": v, "t": MULTILABEL_TARGETS}), x)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)


def test_multilabel_margin_loss_of_one_sample_skips_nan_terms_as_pytorchs_kernel():
    x = np.array([0.2, np.nan, 0.5, -0.1])
    value = float(api.evaluate("F.multilabel_margin_loss(x, t)", {"x": x, "t": np.array([0.0, -1.0, 3.0, 1.0])}))
    assert value == pytest.approx((1 - 0.2 + 0.5 + 1 - 0.2 - 0.1) / 4)  # the term with x[1] = NaN is not > 0
    zero = api.evaluate("F.multilabel_margin_loss(x, t)", {"x": np.array([3.0, 0.0]), "t": np.array([0.0, -1.0])})
    grad = api.vjp("F.multilabel_margin_loss(x, t)", {"x": np.array([1.0, 0.0]), "t": np.array([0.0, -1.0])},
                   v=np.array(1.0), wrt=["x"])["x"]
    assert float(zero) == 0.0 and not np.asarray(grad).any()  # at the margin's kink z = 0: PyTorch's z > 0


TRIPLET = [
    "F.triplet_margin_with_distance_loss(a, p, n)",
    "F.triplet_margin_with_distance_loss(a, p, n, swap=True, margin=0.5, reduction='none')",
    "F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v))",
    "F.triplet_margin_with_distance_loss(a, p, n, distance_function=nn.PairwiseDistance(p=1), reduction='sum')",
]


@pytest.mark.parametrize("code", TRIPLET)
def test_triplet_margin_with_distance_loss_against_central_differences(code):
    inputs = {k: rng.standard_normal((4, 3)) for k in "apn"}
    J = api.jacobian(code, inputs)
    for name in "apn":
        fd = central(lambda v: api.evaluate(code, {**inputs, name: v}), inputs[name])
        np.testing.assert_allclose(np.asarray(J[name]), fd, rtol=1e-6, atol=1e-8)


def test_triplet_with_the_default_distance_is_triplet_margin_loss():
    inputs = {k: rng.standard_normal((5, 3)) for k in "apn"}
    ours = api.evaluate("F.triplet_margin_with_distance_loss(a, p, n, margin=0.7, swap=True, reduction='none')", inputs)
    plain = api.evaluate("F.triplet_margin_loss(a, p, n, margin=0.7, swap=True, reduction='none')", inputs)
    np.testing.assert_allclose(ours, plain, rtol=1e-14, atol=1e-15)


def test_triplet_with_a_def_of_the_text():
    code = "def d(u, v):\n    return ((u - v) ** 2).sum(-1)\nF.triplet_margin_with_distance_loss(a, p, n, distance_function=d)"
    inputs = {k: rng.standard_normal((3, 2)) for k in "apn"}
    d = lambda u, v: ((u - v) ** 2).sum(-1)  # noqa: E731
    want = np.maximum(1.0 + d(inputs["a"], inputs["p"]) - d(inputs["a"], inputs["n"]), 0).mean()
    np.testing.assert_allclose(api.evaluate(code, inputs), want, rtol=1e-14)


# --- torch.special.airy_ai, spherical_bessel_j0 ---------------------------------------------------------------------

def test_spherical_bessel_j0_is_sin_x_over_x_with_its_derivative():
    x = np.array([-7.0, -0.6, -0.3, 0.0, 1e-9, 0.2, 0.49, 0.5, 3.0, np.inf, -np.inf])
    value = np.asarray(api.evaluate("torch.special.spherical_bessel_j0(x)", {"x": x}))
    with np.errstate(all="ignore"):
        want = np.where(x == 0, 1.0, np.where(np.isinf(x), 0.0, np.sin(x) / x))
    np.testing.assert_allclose(value, want, rtol=1e-15, atol=1e-17)
    J = np.diag(np.asarray(api.jacobian("torch.special.spherical_bessel_j0(x)", {"x": x})["x"]))
    with np.errstate(all="ignore"):
        slope = np.where(np.abs(x) < 1e-6, -x / 3, (x * np.cos(x) - np.sin(x)) / (x * x))
    np.testing.assert_allclose(J[:-2], slope[:-2], rtol=1e-9, atol=1e-15)
    assert J[-2:].tolist() == [0.0, 0.0]  # at ±inf: 0, no 0 · inf from the side not taken
    H = np.asarray(api.hessian("torch.special.spherical_bessel_j0(x).sum()", {"x": np.zeros(1)})[("x", "x")])
    assert H.item() == pytest.approx(-1 / 3)


def test_airy_ai_series_and_expansions_and_its_derivatives():
    x = np.array([-8.0, -3.0, -2.2, -1.5, 0.0, 0.7, 2.0, 2.5, 9.0, 110.0])
    value = np.asarray(api.evaluate("torch.special.airy_ai(x)", {"x": x}))
    assert value[4] == pytest.approx(0.355028053887817239260, rel=1e-15)  # Ai(0) = 1 / (3^(2/3) Γ(2/3))
    assert value[-1] == 0.0  # beyond 103.892, as PyTorch
    J = np.diag(np.asarray(api.jacobian("torch.special.airy_ai(x)", {"x": x})["x"]))
    fd = np.diag(central(lambda v: api.evaluate("torch.special.airy_ai(x)", {"x": v}), x, h=1e-6))
    np.testing.assert_allclose(J, special.airy(x)[1], rtol=1e-13, atol=1e-300)  # Ai' itself
    np.testing.assert_allclose(J, fd, rtol=5e-5, atol=1e-6)  # PyTorch's approximation differs by 1e-5 near -2.2
    assert J[4] == pytest.approx(-0.258819403792806798405, rel=1e-14)  # Ai'(0)
    H = np.asarray(api.hessian("torch.special.airy_ai(x).sum()", {"x": x})[("x", "x")])
    np.testing.assert_allclose(np.diag(H), x * value, rtol=1e-13)  # Ai'' = x Ai
    nan = np.asarray(api.evaluate("torch.special.airy_ai(x)", {"x": np.array([np.inf, -np.inf, np.nan])}))
    assert np.isnan(nan).all()


BAD_MORE = [
    (["eval", "F.multilabel_margin_loss(x, t)", "x:2,3", "t=[[0, 3, -1], [1, -1, 0]]"], "out of range"),
    (["eval", "F.multilabel_margin_loss(x, t)", "x:2,3", "t=[0, 1, -1]"], "target must have the input's shape"),
    (["eval", "F.multilabel_margin_loss(x, x + 1)", "x:2,3"], "constant array of integers"),
    (["eval", "F.multilabel_margin_loss(x, t)", "x:2,3,2", "t:2,3,2"], "needs input (N, C)"),
    (["eval", "F.triplet_margin_with_distance_loss(a, a, a, margin=0)", "a:2,3"], "margin must be greater than 0"),
    (["eval", "F.triplet_margin_with_distance_loss(a, a[0], a)", "a:2,3"], "same number of dimensions"),
    (["eval", "F.triplet_margin_with_distance_loss(a, a, a, distance_function=F.pairwise_distance)", "a:2,3"],
     "is a function"),
    (["eval", "F.triplet_margin_with_distance_loss(a, a, a, distance_function=2)", "a:2,3"], "a lambda or def"),
    (["eval", "F.triplet_margin_with_distance_loss(a, a, a, reduction='max')", "a:2,3"], "reduction must be"),
]


@pytest.mark.parametrize("args, words", BAD_MORE, ids=[" ".join(b[0][1:]) for b in BAD_MORE])
def test_loss_refusals_exit_2_with_one_message(args, words):
    _refused(args, words)


# --- np.asarray_chkfinite, broadcast_shapes, bitwise_count, bitwise_invert, trim_zeros --------------------------------

def test_asarray_chkfinite_is_the_array_and_refuses_inf_and_nan_at_each_evaluation():
    x = np.array([1.5, -0.0, 2.0])
    value = np.asarray(api.evaluate("np.asarray_chkfinite(x)", {"x": x}))
    np.testing.assert_array_equal(value, x)
    assert np.signbit(value[1])
    np.testing.assert_array_equal(np.asarray(api.jacobian("np.asarray_chkfinite(x) * 3", {"x": x})["x"]),
                                  3 * np.eye(3))
    for bad in (np.inf, np.nan):
        with pytest.raises(Exception, match="must not contain infs or NaNs"):
            api.evaluate("np.asarray_chkfinite(x)", {"x": np.array([1.0, bad])})


@pytest.mark.parametrize("code, want", [
    ("np.broadcast_shapes((2, 1), (3,))", [2, 3]),
    ("np.broadcast_shapes(x.shape, (4, 1, 1))", [4, 2, 3]),
    ("torch.broadcast_shapes(3, (1,))", [3]),
    ("np.broadcast_shapes()", []),
    ("np.zeros(np.broadcast_shapes(x.shape, (5, 1, 3))).shape", [5, 2, 3]),
])
def test_broadcast_shapes_is_a_constant_shape(code, want):
    assert np.asarray(api.evaluate(code, {"x": np.ones((2, 3))})).tolist() == want


def test_bitwise_count_and_invert():
    assert np.asarray(api.evaluate("np.bitwise_count(np.array([-1, 7, 255, 0], dtype=np.int16))", {})).tolist() == \
        [1, 3, 8, 0]
    counted = api.evaluate("np.bitwise_count((x * 4).astype(int))", {"x": np.array([0.75, 2.0, -1.0])})
    assert np.asarray(counted).tolist() == [2, 1, 1]  # 3, 8, -4
    assert np.asarray(api.evaluate("np.bitwise_invert(x > 0)", {"x": np.array([1.0, -1.0])})).tolist() == [0, 1]


@pytest.mark.parametrize("code, x, want", [
    ("np.trim_zeros(x)", [0, 0, 1, 0, 2, 0], [1, 0, 2]),
    ("np.trim_zeros(x, 'f')", [0, 0, 1, 0, 2, 0], [1, 0, 2, 0]),
    ("np.trim_zeros(x, trim='b')", [0, 0, 1, 0, 2, 0], [0, 0, 1, 0, 2]),
    ("np.trim_zeros(x)", [0, 0, 0], []),
    ("np.trim_zeros(x)", [0, np.nan, 0], [np.nan]),
    ("np.trim_zeros(x)", [[0, 0, 2, 3, 0, 0], [0, 1, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0]], [[0, 2, 3], [1, 0, 3]]),
    ("np.trim_zeros(x, axis=-1)", [[0, 0, 2, 3, 0, 0], [0, 1, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0]],
     [[0, 2, 3], [1, 0, 3], [0, 0, 0]]),
])
def test_trim_zeros_is_numpys(code, x, want):
    x = np.array(x, dtype=float)
    value = np.asarray(api.evaluate(code, {"x": x}))
    np.testing.assert_array_equal(value, np.trim_zeros(x, *([code.split("'")[1]] if "'" in code else []),
                                                       **({"axis": -1} if "axis" in code else {})))
    np.testing.assert_array_equal(value, np.array(want, dtype=float).reshape(value.shape))


def test_trim_zeros_derivative_keeps_the_kept_elements():
    J = np.asarray(api.jacobian("np.trim_zeros(x)", {"x": np.array([0.0, 2.0, 0.0, 3.0, 0.0])})["x"])
    np.testing.assert_array_equal(J, np.eye(5)[1:4])


BAD_NAMES = [
    (["eval", "np.broadcast_shapes((2, 3), (4,))"], "do not broadcast"),
    (["eval", "np.broadcast_shapes((2, -1))"], "must not be negative"),
    (["eval", "np.bitwise_count(x)", "x:3"], "integers only"),
    (["eval", "np.trim_zeros(x, 'x')", "x:3"], "trim must be"),
    (["eval", "np.asarray_chkfinite(x)", "x=[1, inf]"], "must not contain infs or NaNs"),
]


@pytest.mark.parametrize("args, words", BAD_NAMES, ids=[" ".join(b[0][1:]) for b in BAD_NAMES])
def test_name_refusals_exit_2_with_one_message(args, words):
    _refused(args, words)
