"""Index tuples made by calls, registered in :mod:`.functions`' table when :mod:`jacobi_cli.lang` is imported:
NumPy's and JAX's ``tril_indices_from`` / ``triu_indices_from`` (a 2-d array's triangle), ``indices`` (the grid of
every position, or its open form with ``sparse=True``) and ``mask_indices`` (the positions a triangle function
keeps, read off the text by the parser's ``call``: a function is no value of jac's). Each is a constant, typed
int64 as NumPy's, so ``x[np.tril_indices_from(x)]``, ``x.at[jnp.indices((2, 3))[0]]`` and ``y[idx] = v`` index as
the library does (the parser's ``index_tuple`` and ``written`` read a tuple of them as one index per axis).
"""

from __future__ import annotations

import ast

import numpy as np

from ..errors import JacShapeError, JacValueError
from ..ir.shapes import fmt
from .functions import REQUIRED, Items, _checked, _concrete, _index_constant, arguments, static, static_int, \
    tensor, variant


def _triangle_from(fname: str, lower_part: bool):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "k": 0}, position)
        shape = _concrete(tensor(b, a["x"], fname, position), fname, position)
        if len(shape) != 2:
            raise JacShapeError(f"{fname}(): the array must be 2-d (NumPy and JAX), got shape {fmt(shape)}", position)
        k = static_int(b, a["k"], "k", position)
        pick = (np.tril_indices if lower_part else np.triu_indices)(shape[0], k, shape[1])
        return Items([_index_constant(b, i, f"{fname}()", position) for i in pick])
    lower.__doc__ = (f"np.{fname}(arr, k=0): the rows and columns of arr's {'lower' if lower_part else 'upper'} "
                     "triangle from diagonal k, two int64 constants (NumPy's tril_indices(n, k, m) of its shape)")
    return lower


variant("numpy", "tril_indices_from")(_triangle_from("tril_indices_from", True))
variant("numpy", "triu_indices_from")(_triangle_from("triu_indices_from", False))


@variant("numpy", "indices")
def _indices(b, args, kwargs, position):
    """np.indices(dimensions, dtype=int, sparse=False): the index of every position of an array of shape
    ``dimensions``, one int64 array of shape (len(dimensions), *dimensions); with sparse=True a tuple of
    arrays each laid along its own axis (as np.ix_)."""
    a = arguments("indices", args, kwargs, {"dimensions": REQUIRED, "dtype": None, "sparse": False}, position)
    dims = static(b, a["dimensions"], "indices(): dimensions", position)
    dims = (dims,) if isinstance(dims, (int, float)) else tuple(dims)
    if not all(isinstance(d, (int, float)) and float(d).is_integer() and d >= 0 for d in dims):
        raise JacValueError(f"indices(): dimensions must be non-negative integers, got {dims}", position)
    dims = tuple(int(d) for d in dims)
    if a["dtype"] is not None:
        raise JacValueError("indices(): jac makes the indices int64, as NumPy's default; drop dtype=", position)
    sparse = static(b, a["sparse"], "indices(): sparse", position)
    if sparse not in (True, False):
        raise JacValueError("indices(): sparse must be True or False", position)
    _checked(b, (len(dims),) + dims, "indices", position)
    grid = np.indices(dims, sparse=bool(sparse))
    if sparse:
        return Items([_index_constant(b, g, "indices()", position) for g in grid])
    return _index_constant(b, grid, "indices()", position)


_TRIANGLES = {"triu": False, "tril": True}


def mask_indices(lowering, node: ast.Call, position: int) -> Items:
    """``np.mask_indices(n, mask_func, k=0)``: the positions of an (n, n) array of ones that ``mask_func(a, k)``
    keeps nonzero, for NumPy's and JAX's ``triu`` and ``tril`` (read off the text: ``np.triu``, ``jnp.tril``): the
    triangle's indices, as ``np.triu_indices(n, k)``. Another function is refused."""
    names = ("n", "mask_func", "k")
    given = dict(zip(names, node.args)) | {k.arg: k.value for k in node.keywords}
    if len(node.args) > 3 or any(k.arg not in names for k in node.keywords) or not {"n", "mask_func"} <= set(given):
        raise JacValueError("mask_indices(n, mask_func, k=0) takes n, the function and k", position)
    func = given["mask_func"]
    name = func.attr if isinstance(func, ast.Attribute) else None
    if name not in _TRIANGLES or lowering.module_path(func.value) is None:
        raise JacValueError(f"mask_indices(): jac reads mask_func np.triu or np.tril (jnp's too), not "
                            f"{ast.unparse(func)}; for another mask, index with np.nonzero(mask) of a constant mask",
                            lowering.source.at(func))
    b = lowering.b
    n = static_int(b, lowering.expression(given["n"]), "mask_indices(): n", position)
    k = static_int(b, lowering.expression(given["k"]), "mask_indices(): k", position) if "k" in given else 0
    if n < 0:
        raise JacValueError(f"mask_indices(): n must be non-negative, got {n}", position)
    _checked(b, (n, n), "mask_indices", position)
    pick = (np.tril_indices if _TRIANGLES[name] else np.triu_indices)(n, k)
    return Items([_index_constant(b, i, "mask_indices()", position) for i in pick])
