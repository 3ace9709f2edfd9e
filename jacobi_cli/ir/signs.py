"""Outputs that must not depend on the signs of singular vectors or eigenvectors jac cannot reproduce.

PyTorch's CPU build computes ``svd`` and ``eigh`` with its own LAPACK (Intel MKL on x86), whose signs of the
vectors differ from the LAPACK NumPy ships (OpenBLAS) for some columns: no rule maps one onto the other, and they
differ again between platforms. jac evaluates with NumPy, so a PyTorch text's ``U``, ``Vh`` or ``eigenvectors``
may be the negative of PyTorch's in some columns. An expression whose value does not depend on those signs
(``U @ diag(S) @ Vh``, ``U ** 2``, ``V @ diag(w) @ V.mT``) is still answered; one that does is refused.

The lowering registers the nodes whose signs are the library's own (:meth:`Builder.sign_free`): a group per
decomposition, the columns (``axis=-1``: U, the eigenvectors) and rows (``axis=-2``: Vh) that flip together.
When the graph is made, every node downstream of a group is computed again with one column (or row) of one
matrix negated, for each column of each matrix of the batch (single flips generate every choice of signs),
and each output is compared with its copy at evaluation: where any differs beyond rounding the call is refused
(``finite_range``, which has no derivative: the derivatives are the expression's own).

Where eigenvalues (or singular values) repeat, more than the signs is LAPACK's choice: any orthonormal basis of
their eigenspace is as right, and PyTorch's is not NumPy's (session 41: ``w, V = torch.linalg.eigh(A); V ** 2``
at A = Q diag(2, 2, 1) Qᵀ gave NumPy's numbers). A group registered with its spectrum gets one more copy, made
from ``basis_turn`` (the vectors of each repeated cluster turned by a fixed rotation, the same for U and Vh; the
vectors themselves where nothing repeats): an output that differs from it depends on the basis, and is refused.
V diag(w) Vᵀ, a projector onto an eigenspace, w and the values of simple eigenvalues' vectors up to sign stay
answered. Like the flips, it compares values at the point: a Jacobian by another input through the vectors
(``(V ** 2) @ x`` at x = ones, whose value the turn leaves alone) is not caught.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import JacLimitError
from .refusals import refusal

# at most this many copies of the nodes downstream of the vectors (a batch of m matrices of k columns makes m·k)
MAX_FLIPS = 64
# a copy differs from the output when an element differs by more than this fraction of the output's largest
# finite element (an expression that does not depend on the signs gives the same result to rounding)
RELATIVE = 1e-9


def _flipped(b, node_id: int, axis: int, index: tuple):
    """Node ``node_id`` times a constant of ones with -1 at column (``axis=-1``) or row (``axis=-2``)
    ``index[-1]`` of matrix ``index[:-1]``."""
    shape = tuple(b.nodes[node_id].shape)
    signs = np.ones(shape[:-2] + ((1, shape[-1]) if axis == -1 else (shape[-2], 1)), dtype=b.dtype)
    *batch, j = index
    signs[tuple(batch) + ((0, j) if axis == -1 else (j, 0))] = -1.0
    return b.apply("mul", b.tracer_of(node_id), b.const(signs))


def _turned(b, node_id: int, axis: int, spectrum: tuple):
    """Node ``node_id`` in another basis of its repeated values' eigenspaces (``ops.basis_turn``)."""
    values, size, _ = spectrum
    return b.apply("basis_turn", b.tracer_of(node_id), b.tracer_of(values), axis=axis, size=size)


def _copy(b, mapping: dict, start: int, end: int) -> dict:
    """Nodes ``start`` to ``end`` that read a node of ``mapping``, made again from its replacements."""
    for node in b.nodes[start:end]:
        if node.id in mapping or not node.args or not any(a in mapping for a in node.args):
            continue
        args = [mapping[a] if a in mapping else b.tracer_of(a) for a in node.args]
        mapping[node.id] = b.apply(node.op, *args, position=node.position, **node.params)
    return mapping


def _differs(b, out, copy, message: str):
    """A scalar 0 at evaluation, refused with ``message`` where ``copy`` differs from ``out``."""
    axes = tuple(range(len(out.shape)))
    size = math.prod(out.shape) if all(type(d) is int for d in out.shape) else 1
    if not size:
        return None
    magnitude = b.apply("abs", out)
    scale = b.apply("max", b.apply("where", b.apply("isfinite", out), magnitude, 0.0), axes=axes)
    gap = b.apply("abs", b.apply("sub", out, copy))
    same = b.apply("add", b.apply("le", gap, b.apply("mul", scale, RELATIVE)), b.apply("eq", out, copy))
    same = b.apply("add", same, b.apply("mul", b.apply("isnan", out), b.apply("isnan", copy)))
    return refusal(b, message, where=same, unless=True, axes=axes)


def sign_checked(b, outputs: list) -> list:
    """``outputs`` (tracers), each minus a check that is 0 unless its value depends on the signs of a group of
    :attr:`Builder.signs`, where it refuses; the builder's typing of each output carried to its new node."""
    groups = list(b.signs.values())
    flips = [(g, index) for g in groups for index in np.ndindex(g["count"])]
    if not flips:
        return outputs
    if len(flips) > MAX_FLIPS:
        g = flips[-1][0]
        raise JacLimitError(f"{g['what']}: jac checks that the output does not depend on the signs of the vectors "
                            f"(PyTorch's own, which jac cannot reproduce) one column at a time, at most {MAX_FLIPS} "
                            f"columns in all; this expression has {len(flips)}: use np.linalg's spelling, whose "
                            "signs jac reproduces, or fewer matrices")
    start = min(i for g in groups for i, _ in g["nodes"])
    end = len(b.nodes)
    checks: list[list] = [[] for _ in outputs]
    copies = [(g["message"], {i: _flipped(b, i, axis, index) for i, axis in g["nodes"]}) for g, index in flips]
    copies += [(g["spectrum"][2], {i: _turned(b, i, axis, g["spectrum"]) for i, axis in g["nodes"]})
               for g in groups if "spectrum" in g]
    for message, turned in copies:
        mapping = _copy(b, turned, start, end)
        for k, out in enumerate(outputs):
            if out.id in mapping:
                check = _differs(b, out, mapping[out.id], message)
                if check is not None:
                    checks[k].append(check)
    result = []
    for out, found in zip(outputs, checks):
        if found:
            zero = found[0]
            for check in found[1:]:
                zero = b.apply("add", zero, check)
            new = b.apply("sub", out, zero)
            b.retype(out, new)
            out = new
        result.append(out)
    return result
