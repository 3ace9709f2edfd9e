"""PyTorch's spatial transformer: ``F.affine_grid`` (the sampling grid of a batch of affine maps) and
``F.grid_sample`` (an image read at the grid's points), with ``torch.affine_grid_generator`` and
``torch.grid_sampler`` (their integer-coded forms).

``grid_sample`` lowers onto existing ops, so its derivatives by the input and by the grid come from their
rules: each point's source position (unnormalised, then clipped or reflected by the padding mode) is a
differentiable expression of the grid, its integer corners are ``floor``/``round`` of it (no derivative), and
the value is a ``take_along`` of the flattened input at the corners' flat positions (a nondiff index
computed at evaluation, as ``argsort``'s), masked to 0 outside the input and weighted. The arithmetic is
PyTorch's CPU kernels', operation for operation: 4-d inputs follow the vectorized kernel
(``GridSamplerKernel.cpp``), 5-d ones the scalar one (``GridSampler.cpp``), which reads NaN and the borders
otherwise (a NaN coordinate clips to 0 in the first, to the last pixel in the second). A clipped coordinate
has derivative 0 on the border itself (PyTorch counts the border as outside).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacShapeError, JacValueError
from ..ir.graph import Tracer
from ..ir.shapes import fmt
from .functions import REQUIRED, Items, _concrete, _flag, _reshape_to, _take, arguments, function, static, \
    static_int, static_ints, tensor, torch_linspace, variant

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")


# -- affine_grid ------------------------------------------------------------------------------------------------

def _base_coordinates(n: int, align: bool, dtype) -> np.ndarray:
    """PyTorch's ``linspace_from_neg_one``: n points from -1 to 1 (its linspace), scaled by (n - 1) / n without
    align_corners (``range * (n - 1) / n``); a single point is 0."""
    if n <= 1:
        return np.zeros(n, dtype)
    r = torch_linspace(-1.0, 1.0, n, np.dtype(dtype))
    real = np.dtype(dtype).type
    return r if align else (r * real(n - 1)) / real(n)


def affine_grid(b, theta: Tracer, size: tuple, align: bool, fname: str, position) -> Tracer:
    spatial = size[2:]
    nd = len(spatial)
    if tuple(theta.shape) != (size[0], nd, nd + 1):
        raise JacShapeError(f"{fname}: theta must be a batch of {nd}-d affine matrices of shape "
                            f"({size[0]}, {nd}, {nd + 1}) for size {list(size)}, got {fmt(theta.shape)}", position)
    axes = [_base_coordinates(n, align, b.dtype) for n in spatial]  # z, y, x order of the spatial axes
    mesh = np.meshgrid(*axes, indexing="ij")
    # the base grid's last axis is (x, y[, z], 1): the last spatial axis first, as PyTorch's base_grid
    base = np.stack([mesh[i] for i in reversed(range(nd))] + [np.ones(spatial, b.dtype)], axis=-1)
    count = int(np.prod(spatial, dtype=np.int64))
    base = b.const(base.reshape(1, count, nd + 1).astype(b.dtype), position)
    rows = b.apply("transpose", theta, axes=(0, 2, 1), position=position)
    grid = b.apply("matmul", base, rows, position=position)  # base_grid.view(N, count, nd + 1).bmm(theta.mT)
    return _reshape_to(b, grid, (size[0],) + tuple(spatial) + (nd,), position)


def _affine_size(b, value, fname, position) -> tuple:
    if isinstance(value, Items):  # (N, C, n, W) with an input among the sizes
        raise JacValueError(f"{fname}: size must be constant integers (N, C, H, W), not expressions of the inputs",
                            position)
    size = static_ints(b, value, "size", position)
    if len(size) not in (4, 5):
        raise JacValueError(f"{fname}: size must be (N, C, H, W) or (N, C, D, H, W), got {list(size)}", position)
    if min(size) <= 0:
        raise JacValueError(f"{fname}: size must be positive, got {list(size)}", position)
    return size


@function("affine_grid")
def _affine_grid(b, args, kwargs, position):
    """F.affine_grid(theta, size, align_corners=False): the (N, H, W, 2) grid of the affine maps theta (N, 2, 3)
    for an output of size (N, C, H, W) (or (N, D, H, W, 3) from (N, 3, 4) and a 5-d size), as PyTorch builds
    it: its base grid of normalised coordinates (x, y, 1) times thetaᵀ."""
    a = arguments("affine_grid", args, kwargs, {"theta": REQUIRED, "size": REQUIRED, "align_corners": None},
                  position)
    theta = tensor(b, a["theta"], "affine_grid", position)
    size = _affine_size(b, a["size"], "affine_grid", position)
    align = a["align_corners"] is not None and _flag(b, a["align_corners"], "align_corners", "affine_grid", position)
    return affine_grid(b, theta, size, align, "affine_grid", position)


@variant("torch", "affine_grid_generator")
def _affine_grid_generator(b, args, kwargs, position):
    """torch.affine_grid_generator(theta, size, align_corners): F.affine_grid's kernel (align_corners given)."""
    a = arguments("affine_grid_generator", args, kwargs,
                  {"theta": REQUIRED, "size": REQUIRED, "align_corners": REQUIRED}, position)
    theta = tensor(b, a["theta"], "affine_grid_generator", position)
    size = _affine_size(b, a["size"], "affine_grid_generator", position)
    align = _flag(b, a["align_corners"], "align_corners", "affine_grid_generator", position)
    return affine_grid(b, theta, size, align, "affine_grid_generator", position)


# -- grid_sample ------------------------------------------------------------------------------------------------

class _Axis:
    """One spatial axis of the input: its size and how PyTorch's kernel maps a grid coordinate onto it
    (``vector``: the 4-d input's vectorized kernel, else the 5-d input's scalar one)."""

    def __init__(self, b, size: int, align: bool, padding: str, vector: bool, position):
        self.b, self.size, self.align, self.padding, self.vector, self.position = \
            b, size, align, padding, vector, position

    def op(self, name, *args, **params) -> Tracer:
        return self.b.apply(name, *args, position=self.position, **params)

    def unnormalize(self, g: Tracer) -> Tracer:
        """[-1, 1] onto [0, size - 1] (align_corners) or [-0.5, size - 0.5]."""
        n = self.size
        if self.vector:  # (in + 1) * scaling_factor [- 0.5]
            if self.align:
                return self.op("mul", self.op("add", g, 1.0), (n - 1) / 2)
            return self.op("sub", self.op("mul", self.op("add", g, 1.0), n / 2), 0.5)
        if self.align:  # ((coord + 1) / 2) * (size - 1), ((coord + 1) * size - 1) / 2
            return self.op("mul", self.op("div", self.op("add", g, 1.0), 2.0), float(n - 1))
        return self.op("div", self.op("sub", self.op("mul", self.op("add", g, 1.0), float(n)), 1.0), 2.0)

    def clip(self, x: Tracer) -> Tracer:
        """x inside (0, size - 1), else the bound it passed, with derivative 0 on the bounds themselves
        (``clip_coordinates_get_grad``); NaN goes to 0 (vectorized) or to size - 1 (scalar)."""
        top = float(self.size - 1)
        inside = self.op("mul", self.op("gt", x, 0.0), self.op("gt", top, x))
        bound = self.op("where", self.op("gt", x, 0.0), top, 0.0) if self.vector else \
            self.op("where", self.op("ge", 0.0, x), 0.0, top)
        return self.op("where", inside, x, bound)

    def reflect(self, x: Tracer) -> Tracer:
        """x reflected by the borders, as the kernel's ``reflect_coordinates`` computes it."""
        n = self.size
        if self.vector:
            if self.align and n <= 1:
                return self.op("where", 1.0, 0.0, self.op("detach", x))  # an empty span: every position is 0
            twice = float(2 * (n - 1) if self.align else 2 * n)
            u = self.op("abs", x if self.align else self.op("sub", x, -0.5))
            flips = self.op("trunc", self.op("div", u, twice))
            extra = self.op("sub", u, self.op("mul", flips, twice))
            folded = self.op("minimum", extra, self.op("sub", twice, extra))
            return folded if self.align else self.op("add", folded, -0.5)
        low, high = (0, 2 * (n - 1)) if self.align else (-1, 2 * n - 1)
        if low == high:
            return self.op("where", 1.0, 0.0, self.op("detach", x))
        least, span = low / 2, (high - low) / 2
        u = self.op("abs", self.op("sub", x, least))
        extra = self.op("fmod", u, span)
        flips = self.op("floor", self.op("div", u, span))
        even = self.op("eq", self.op("fmod", flips, 2.0), 0.0)
        return self.op("where", even, self.op("add", extra, least),
                       self.op("add", self.op("sub", span, extra), least))

    def bounded(self, x: Tracer) -> Tracer:
        """``compute_coordinates``: the padding mode applied to a position."""
        if self.padding == "border":
            return self.clip(x)
        if self.padding == "reflection":
            return self.clip(self.reflect(x))
        return x

    def inside(self, i: Tracer) -> Tracer:
        """1 where the integer position i is a pixel of the axis (``i > -1 & i < size``), else 0."""
        return self.op("mul", self.op("gt", i, -1.0), self.op("gt", float(self.size), i))


class _Sampler:
    """Reads the flattened input (N, C, S) at integer positions, one (N, 1, L) array per spatial axis."""

    def __init__(self, b, x: Tracer, axes: list, position):
        self.b, self.axes, self.position = b, axes, position
        shape = tuple(x.shape)
        self.flat = _reshape_to(b, x, shape[:2] + (int(np.prod(shape[2:], dtype=np.int64)),), position)
        strides = np.cumprod((1,) + tuple(a.size for a in reversed(axes)))[:-1][::-1]
        self.strides = [float(s) for s in strides]

    def op(self, name, *args, **params) -> Tracer:
        return self.b.apply(name, *args, position=self.position, **params)

    def read(self, positions: list) -> tuple:
        """(the mask of in-range positions, the values there: 0 elsewhere) at ``positions`` (z, y, x order)."""
        mask, flat = None, None
        for axis, i, stride in zip(self.axes, positions, self.strides):
            m = axis.inside(i)
            mask = m if mask is None else self.op("mul", mask, m)
            term = self.op("mul", i, stride) if stride != 1.0 else i
            flat = term if flat is None else self.op("add", flat, term)
        index = self.op("where", mask, flat, 0.0)  # an index in range wherever the mask holds 0
        values = self.op("take_along", self.flat, index, axis=2)
        return mask, self.op("where", mask, values, 0.0)


def _linear_vector(s: _Sampler, coords: list) -> Tracer:
    """The vectorized kernel's bilinear interpolation of a 4-d input (``compute_interp_params``)."""
    y, x = coords
    y_n, x_w = s.op("floor", y), s.op("floor", x)
    w = s.op("sub", x, x_w)
    e = s.op("sub", 1.0, w)
    n = s.op("sub", y, y_n)
    south = s.op("sub", 1.0, n)
    y_s, x_e = s.op("add", y_n, 1.0), s.op("add", x_w, 1.0)
    corners = [((y_n, x_w), s.op("mul", south, e)), ((y_n, x_e), s.op("mul", south, w)),
               ((y_s, x_w), s.op("mul", n, e)), ((y_s, x_e), s.op("mul", n, w))]
    out = None
    for at, weight in corners:  # (nw_val * nw) + (ne_val * ne) + (sw_val * sw) + (se_val * se)
        term = s.op("mul", s.read(list(at))[1], weight)
        out = term if out is None else s.op("add", out, term)
    return out


def _linear_scalar(s: _Sampler, coords: list) -> Tracer:
    """The scalar kernel's trilinear interpolation of a 5-d input: 0, plus each corner inside the input times its
    weight, (ix_bse - ix) * (iy_bse - iy) * (iz_bse - iz) and so on, in the order tnw tne tsw tse bnw bne bsw bse."""
    low = [s.op("floor", c) for c in coords]  # z, y, x
    high = [s.op("add", f, 1.0) for f in low]
    out = None
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                pick = (dz, dy, dx)
                factors = [s.op("sub", coords[k], low[k]) if pick[k] else s.op("sub", high[k], coords[k])
                           for k in (2, 1, 0)]  # x, y, z
                weight = s.op("mul", s.op("mul", factors[0], factors[1]), factors[2])
                mask, value = s.read([high[k] if pick[k] else low[k] for k in range(3)])
                term = s.op("where", mask, s.op("mul", value, weight), 0.0)
                out = s.op("add", 0.0, term) if out is None else s.op("add", out, term)
    return out


def _nearest(s: _Sampler, coords: list) -> Tracer:
    """The pixel at each position rounded half to even (``nearbyint``), 0 outside the input."""
    return s.read([s.op("round", c) for c in coords])[1]


_A = -0.75  # the cubic convolution's constant, as PyTorch's UpSampleBicubic2d


def _cubic_coefficients(s: _Sampler, t: Tracer) -> list:
    """The vectorized kernel's ``get_cubic_coefficients`` at t + 1, t, 1 - t, 2 - t."""
    def near(x):  # ((A + 2) * x - (A + 3)) * x * x + 1
        return s.op("add", s.op("mul", s.op("mul", s.op("sub", s.op("mul", x, _A + 2), _A + 3), x), x), 1.0)

    def far(x):  # ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
        inner = s.op("add", s.op("mul", s.op("sub", s.op("mul", x, _A), 5 * _A), x), 8 * _A)
        return s.op("sub", s.op("mul", inner, x), 4 * _A)

    return [far(s.op("add", t, 1.0)), near(t), near(s.op("sub", 1.0, t)), far(s.op("sub", 2.0, t))]


def _bicubic(s: _Sampler, coords: list) -> Tracer:
    """The vectorized kernel's bicubic interpolation: the unnormalised position's floor and fraction, 4 × 4 taps
    each bounded by the padding mode (``get_value_bounded``), rows of x first, then y."""
    y, x = coords
    iy, ix = s.op("floor", y), s.op("floor", x)
    cx = _cubic_coefficients(s, s.op("sub", x, ix))
    cy = _cubic_coefficients(s, s.op("sub", y, iy))
    ax_y, ax_x = s.axes
    columns = [ax_x.bounded(s.op("add", ix, float(k - 1))) for k in range(4)]
    out = None
    for row in range(4):
        r = ax_y.bounded(s.op("add", iy, float(row - 1)))
        line = None
        for k in range(4):
            term = s.op("mul", cx[k], s.read([s.op("trunc", r), s.op("trunc", columns[k])])[1])
            line = term if line is None else s.op("add", line, term)
        term = s.op("mul", cy[row], line)
        out = term if out is None else s.op("add", out, term)
    return out


def grid_sample(b, x: Tracer, grid: Tracer, mode: str, padding: str, align: bool, fname: str, position) -> Tracer:
    shape = _concrete(x, fname, position)
    nd = x.ndim - 2
    if nd not in (2, 3):
        raise JacShapeError(f"{fname}: the input must be 4-d (N, C, H, W) or 5-d (N, C, D, H, W), got shape "
                            f"{fmt(shape)}", position)
    gshape = _concrete(grid, fname, position)
    if len(gshape) != x.ndim or gshape[-1] != nd or gshape[0] != shape[0]:
        raise JacShapeError(f"{fname}: the grid of a {x.ndim}-d input of shape {fmt(shape)} must have shape "
                            f"({shape[0]}, {', '.join(['out'] * nd)}, {nd}), got {fmt(gshape)}", position)
    if min(shape[2:]) == 0:
        raise JacShapeError(f"{fname}: the input's spatial sizes must be non-zero, got shape {fmt(shape)}", position)
    if mode == "bicubic" and nd != 2:
        raise JacValueError(f"{fname}: bicubic interpolation only supports 4-d inputs (as PyTorch)", position)
    if b.dtype == np.float32 and int(np.prod(shape[2:], dtype=np.int64)) >= 2 ** 24:
        raise JacValueError(f"{fname}: an image of {int(np.prod(shape[2:]))} pixels has positions float32 cannot "
                            "hold exactly (jac holds every value in --dtype): use --dtype float64", position)
    vector = nd == 2
    axes = [_Axis(b, n, align, padding, vector, position) for n in shape[2:]]  # z, y, x (or y, x)
    out_spatial = gshape[1:-1]
    count = int(np.prod(out_spatial, dtype=np.int64))
    columns = _reshape_to(b, grid, (gshape[0], 1, count, nd), position)
    # the grid's last axis is (x, y[, z]): the input's last spatial axis first
    raw = [_take(b, columns, (Ellipsis, nd - 1 - k), position) for k in range(nd)]
    sampler = _Sampler(b, x, axes, position)
    if mode == "bicubic":
        out = _bicubic(sampler, [a.unnormalize(g) for a, g in zip(axes, raw)])
    else:
        coords = [a.bounded(a.unnormalize(g)) for a, g in zip(axes, raw)]
        out = _nearest(sampler, coords) if mode == "nearest" else \
            _linear_vector(sampler, coords) if vector else _linear_scalar(sampler, coords)
    return _reshape_to(b, out, shape[:2] + tuple(out_spatial), position)


def _grid_operands(b, a, fname, position) -> tuple:
    return tensor(b, a["x"], fname, position), tensor(b, a["grid"], fname, position)


@function("grid_sample")
def _grid_sample(b, args, kwargs, position):
    """F.grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=False): input (N, C, H, W)
    read at grid (N, H_out, W_out, 2) of normalised (x, y) in [-1, 1] (or 5-d volumes at (x, y, z)); modes
    bilinear, nearest (half to even), bicubic (A = -0.75, 4-d only); padding zeros, border, reflection; PyTorch's
    CPU arithmetic, derivatives by the input and the grid (0 for nearest, and on a clipped border)."""
    a = arguments("grid_sample", args, kwargs, {"x": REQUIRED, "grid": REQUIRED, "mode": "bilinear",
                                                "padding_mode": "zeros", "align_corners": None}, position)
    x, grid = _grid_operands(b, a, "grid_sample", position)
    mode, padding = static(b, a["mode"], "mode", position), static(b, a["padding_mode"], "padding_mode", position)
    if mode not in MODES:
        raise JacValueError(f"grid_sample(): mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}",
                            position)
    if padding not in PADDINGS:
        raise JacValueError(f"grid_sample(): padding_mode must be one of {', '.join(map(repr, PADDINGS))}, got "
                            f"{padding!r}", position)
    align = a["align_corners"] is not None and _flag(b, a["align_corners"], "align_corners", "grid_sample", position)
    return grid_sample(b, x, grid, mode, padding, align, "grid_sample", position)


def _grid_sampler(fname: str, nd):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "grid": REQUIRED, "interpolation_mode": REQUIRED,
                                            "padding_mode": REQUIRED, "align_corners": REQUIRED}, position)
        x, grid = _grid_operands(b, a, fname, position)
        codes = [static_int(b, a[k], k, position) for k in ("interpolation_mode", "padding_mode")]
        if not all(0 <= c <= 2 for c in codes):
            raise JacValueError(f"{fname}(): interpolation_mode and padding_mode are integer codes 0, 1, 2 "
                                f"(bilinear, nearest, bicubic; zeros, border, reflection), got {codes}", position)
        if nd is not None and x.ndim != nd + 2:
            raise JacShapeError(f"{fname}(): needs a {nd + 2}-d input, got shape {fmt(x.shape)}", position)
        align = _flag(b, a["align_corners"], "align_corners", fname, position)
        return grid_sample(b, x, grid, MODES[codes[0]], PADDINGS[codes[1]], align, fname, position)
    lower.__doc__ = (f"torch.{fname}(input, grid, interpolation_mode, padding_mode, align_corners): F.grid_sample "
                     "with the modes as integer codes (0, 1, 2: bilinear, nearest, bicubic; zeros, border, "
                     "reflection).")
    return lower


for _name, _nd in (("grid_sampler", None), ("grid_sampler_2d", 2), ("grid_sampler_3d", 3)):
    variant("torch", _name)(_grid_sampler(_name, _nd))
