"""Refusals that depend on values: a result answered where its inputs allow, refused at evaluation elsewhere.

The libraries raise on some values (a singular matrix for ``torch.linalg.lu_factor``, an all-NaN slice for
``np.nanargmax``, inf in ``np.asarray_chkfinite``); a graph built once for all values cannot raise while it is
built, so the lowering adds a ``finite_range`` node (no derivative) that is 0 at evaluation, and refuses with
the message, where the mask holds (or where values it checks are not finite). The result is the answer plus or
minus that 0 (exact: ``x - 0`` is ``x``, ``-0.0`` included), so the check runs whenever the result is computed,
and the derivatives are the answer's own.
"""
from __future__ import annotations

import math


def refusal(b, message: str, *, where=None, finite=None, axes: tuple | None = None, keepdims: bool = False,
            unless: bool = False, position: int | None = None):
    """A 0 at evaluation (a tracer of ``b``), refused with ``message`` where the mask ``where`` is nonzero
    (``unless``: where it is zero), or, given ``finite=(lo, hi)``, where ``lo`` or ``hi`` is not finite
    (``{lo}`` and ``{hi}`` in ``message`` stand for the values found there). ``axes``: the mask's flags summed
    over them first (``keepdims`` as the reductions), so the 0 has the shape the result needs."""
    if (where is None) == (finite is None):
        raise TypeError("refusal: give exactly one of where= and finite=")
    if finite is not None:
        lo, hi = finite
    else:
        lo = hi = (b.apply("where", where, 0.0, math.nan, position=position) if unless else
                   b.apply("where", where, math.nan, 0.0, position=position))
        if axes is not None:
            lo = hi = b.apply("sum", lo, axes=tuple(axes), position=position, **({"keepdims": True} if keepdims else {}))
    return b.apply("finite_range", lo, hi, message=message, position=position)


def refused(b, result, message: str, *, add: bool = False, position: int | None = None, **check):
    """``result`` minus (``add``: plus) :func:`refusal` ``(b, message, **check)``: the same values and
    derivatives (and the builder's integer or boolean typing of ``result``: ``np.nanargmax`` stays an
    index), refused at evaluation where the check says."""
    zero = refusal(b, message, position=position, **check)
    out = b.apply("add" if add else "sub", result, zero, position=position)
    if hasattr(result, "id"):
        b.retype(result, out)
    return out
