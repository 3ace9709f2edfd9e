"""The Jacobian as a value of its own type.

A :class:`Jacobian` is dy/dx for one input. Its array layout is ``y.shape + x.shape``
(as ``torch.autograd.functional.jacobian`` and ``jax.jacrev`` return it); its numerator
layout follows the derivative-shape table (``math_shape``). Commands ask it for what
they print, so a structured Jacobian (diagonal, sparse) can stand in for a dense one.

>>> import numpy as np
>>> J = Jacobian("x", (2,), (2,), np.diag([4.0, 6.0]))
>>> J.math_shape, J.legend()
((2, 2), 'J[i, j] = ∂y[i] / ∂x[j]')
"""

from __future__ import annotations

import numpy as np

from .shapes import kind, legend, math_layout, math_shape


class Jacobian:
    """dy/dx for input ``name``: ``y_shape + x_shape`` in the array layout."""

    structure = "dense"

    def __init__(self, name: str, y_shape: tuple, x_shape: tuple, array: np.ndarray):
        self.name = name
        self.y_shape = tuple(y_shape)
        self.x_shape = tuple(x_shape)
        self._array = np.asarray(array).reshape(self.shape)

    @property
    def shape(self) -> tuple:
        return self.y_shape + self.x_shape

    @property
    def math_shape(self) -> tuple:
        return math_shape(self.y_shape, self.x_shape)

    @property
    def cell(self) -> str:
        """The row and column of the shape table: ``"vector by matrix"``."""
        return f"{kind(self.y_shape)} by {kind(self.x_shape)}"

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def to_array(self, layout: str = "array") -> np.ndarray:
        """The dense values, in the ``array`` layout or the ``numerator`` layout of the table."""
        array = self._array
        if layout == "array":
            return array
        axes, expand = math_layout(len(self.y_shape), len(self.x_shape))
        out = np.transpose(array, axes)
        return np.expand_dims(out, expand) if expand is not None else out

    def layout_shape(self, layout: str = "array") -> tuple:
        return self.shape if layout == "array" else self.math_shape

    def legend(self, layout: str = "array", of: str = "y") -> str:
        return legend(self.name, self.y_shape, self.x_shape, layout, of)

    def __repr__(self) -> str:
        return f"Jacobian(d y/d {self.name}, shape={self.shape}, {self.structure})"
