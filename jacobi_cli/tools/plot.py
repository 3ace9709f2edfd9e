"""Pictures written to files: a function with its tangent line, Jacobians as heatmaps.

matplotlib is an optional extra (``pip install 'jacobi-cli[plot]'``), imported only when
a picture is drawn, and only through its object-oriented API on the Agg canvas: no
pyplot, no global state, no display needed.
"""

from __future__ import annotations

import io
import os

import numpy as np

from ..errors import JacUsageError
from ..lang.fileio import write_bytes
from ..ir.shapes import fmt

SUFFIXES = (".png", ".svg")
INSTALL_HINT = "pip install 'jacobi-cli[plot]'"
CURVE_COLOR = "#1f77b4"  # matplotlib's tab:blue
TANGENT_COLOR = "#d62728"  # tab:red


class JacMissingDependency(JacUsageError):
    """An optional extra that a command needs is not installed (exit 2, kind "usage")."""


def require_matplotlib():
    """The matplotlib module, or a JacError that says how to install it."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise JacMissingDependency(f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}") from None
    return matplotlib


def check_path(path: str, option: str = "--out") -> str:
    """The picture format from ``path``'s suffix, checked before anything is computed."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise JacUsageError(f"{option} {path}: a picture must be a .png or .svg file")
    return suffix[1:]


def _figure(**kwargs):
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str) -> None:
    """Render to memory first, so a failure leaves no half-written file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=check_path(path), dpi=100)
    write_bytes(path, buffer.getvalue())


def _number(v: float) -> str:
    return f"{v:.4g}" if v != 0 else "0"


def tangent_equation(slope: float, intercept: float, x: str = "x") -> str:
    """``y = 2x - 3``, written as a person would."""
    term = f"{x}" if slope == 1 else f"-{x}" if slope == -1 else f"{_number(slope)}{x}"
    if slope == 0:
        return f"y = {_number(intercept)}"
    if intercept == 0:
        return f"y = {term}"
    sign = "-" if intercept < 0 else "+"
    return f"y = {term} {sign} {_number(abs(intercept))}"


def tangent_plot(report: dict, path: str) -> None:
    """The function over the range and its tangent line at the point (``jac plot``); with a
    batch, one curve and tangent per example, in matplotlib's colour cycle."""
    xs, curves = report.curve
    point, tangent = report["point"], report["tangent"]
    name = point["name"]
    batched = "batch" in report
    fig = _figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    rows = zip(np.atleast_2d(curves), *(np.atleast_1d(v) for v in (point["x"], point["y"], tangent["slope"],
                                                                    tangent["intercept"])))
    for b, (ys, x0, y0, slope, intercept) in enumerate(rows):
        ys = np.where(np.isfinite(ys), ys, np.nan)
        which = f"example {b}: " if batched else ""
        curve = ax.plot(xs, ys, color=None if batched else CURVE_COLOR, linewidth=2,
                        label=f"{which}{report['output']['name']} = {report['expression'].strip()}")[0]
        ax.plot(xs, slope * xs + intercept, color=curve.get_color() if batched else TANGENT_COLOR, linewidth=1.5,
                linestyle="--", label=f"tangent at {name} = {_number(x0)}: {tangent_equation(slope, intercept, name)}"
                                      f" (slope {_number(slope)})")
        ax.plot([x0], [y0], "o", color="black", zorder=3)
    finite = np.asarray(curves)[np.isfinite(curves)]
    y0 = np.atleast_1d(point["y"])
    if finite.size:  # the curves set the view; the tangent lines run off it
        lo, hi = min(finite.min(), y0.min()), max(finite.max(), y0.max())
        pad = 0.08 * (hi - lo) or 1.0
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel(name)
    ax.set_ylabel(report["output"]["name"])
    ax.grid(True, alpha=0.3)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def jacobian_plot(report: dict, path: str) -> None:
    """Each input's Jacobian as a heatmap (rows: output elements, columns: input
    elements, both flattened in C order) over its sparsity pattern (``jac eval --plot``)."""
    blocks = report["jacobian"]
    if not blocks:
        raise JacUsageError("--plot: there is no Jacobian to draw (no input to differentiate)")
    y = report["output"]["name"]
    y_size = int(np.prod(report["output"]["shape"], dtype=np.int64))
    fig = _figure(figsize=(4.2 * len(blocks), 7.5))
    axes = fig.subplots(2, len(blocks), squeeze=False)
    for col, (name, block) in enumerate(blocks.items()):
        x_shape = tuple(report["inputs"][name]["shape"])
        matrix = np.asarray(report.jacobians[name].to_array("array"), dtype=np.float64).reshape(y_size, -1)
        _heatmap(fig, axes[0, col], matrix, f"∂{y}/∂{name}: {fmt(tuple(block['shape']))}")
        _sparsity(axes[1, col], matrix, f"{name} {fmt(x_shape)}", y)
        for ax in axes[:, col]:
            _integer_ticks(ax)
    fig.tight_layout()
    _save(fig, path)


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _heatmap(fig, ax, matrix, title: str) -> None:
    finite = np.abs(matrix[np.isfinite(matrix)])
    bound = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("element of the output (flattened)")


def _sparsity(ax, matrix, x_label: str, y: str) -> None:
    nonzero = matrix != 0
    ax.imshow(nonzero, cmap="Greys", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    ax.set_title(f"nonzeros: {int(nonzero.sum()):,} of {matrix.size:,}", fontsize=10)
    ax.set_xlabel(f"element of {x_label} (flattened)")
    ax.set_ylabel(f"element of {y}")
