"""NumPy's ufunc methods: ``np.add.outer(a, b)``, ``np.add.reduce(a, axis=0)``, ``np.maximum.accumulate(a)``.

``np.add`` (a ufunc named without a call) becomes a :class:`Ufunc`, which waits for its method; each
method is lowered onto the functions jac already has, so nothing here has a derivative rule of its own:
``outer`` is the ufunc of ``a`` reshaped to ``a.shape + (1,) * b.ndim`` and ``b`` (as NumPy defines it),
``reduce`` the reduction of that ufunc (``np.add.reduce`` is ``np.sum``; its axis defaults to 0, not to
every axis), ``accumulate`` the running one (``np.cumsum``, ``np.cumprod``, and PyTorch's ``cummax`` /
``cummin`` values for ``maximum`` / ``minimum``). A ufunc or method outside these tables is refused by name.
"""
from __future__ import annotations

from ..errors import JacValueError
from .functions import FUNCTIONS, REQUIRED, _concat, _one_axis, arguments, dtype_first, library_function, static, \
    static_ints, tensor

# The binary ufuncs of NumPy that jac has, whose outer product is their broadcast of a[..., None...] and b.
OUTER = frozenset({"add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "power", "float_power",
                   "mod", "remainder", "fmod", "maximum", "minimum", "fmax", "fmin", "hypot", "arctan2",
                   "logaddexp", "logaddexp2", "copysign", "heaviside", "greater", "greater_equal", "less",
                   "less_equal", "equal", "not_equal", "logical_and", "logical_or", "logical_xor"})
REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min", "logical_and": "all",
          "logical_or": "any", "logaddexp": "logsumexp"}  # logaddexp.reduce: log Σ exp, to rounding
ACCUMULATE = {"add": "cumsum", "multiply": "cumprod", "maximum": "cummax", "minimum": "cummin"}


class Ufunc:
    """``np.add``: a NumPy ufunc named, not called, waiting for ``.outer`` / ``.reduce`` / ``.accumulate``."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def call(self, b, method: str, args: list, kwargs: dict, position):
        what = f"{self.module}.{self.name}.{method}"
        b.library, b.call = "numpy", what  # the call being lowered (a list of arrays is NumPy's array of them)
        if method == "outer":
            a = arguments(what, args, kwargs, {"A": REQUIRED, "B": REQUIRED}, position)
            left, right = tensor(b, a["A"], what, position), tensor(b, a["B"], what, position)
            if right.ndim:
                left = b.apply("reshape", left, shape=tuple(left.shape) + (1,) * right.ndim, position=position)
            return self._numpy(self.name)(b, [left, right], {}, position)
        table = {"reduce": REDUCE, "accumulate": ACCUMULATE, "reduceat": REDUCE}.get(method)
        if table is None:
            raise JacValueError(f"{what}() is not supported by jac (of a ufunc's methods, jac has outer, reduce, "
                                "reduceat and accumulate)", position)
        if self.name not in table:
            raise JacValueError(f"{what}() is not supported by jac (jac has it for "
                                f"{', '.join(sorted(table))})", position)
        if method == "reduceat":
            return self.reduceat(b, table[self.name], what, args, kwargs, position)
        # NumPy's order: reduce(array, axis=0, dtype=None, out=None, keepdims=False), accumulate(array, axis, dtype, out)
        params = {"array": REQUIRED, "axis": 0, "dtype": None, "out": None} | \
            ({"keepdims": False} if method == "reduce" else {})
        a = arguments(what, args, kwargs, params, position)
        x = tensor(b, a["array"], what, position)
        if a["out"] is not None:
            raise JacValueError(f"{what}(): out= writes into an array, which jac does not do: use the result", position)
        if a["dtype"] is not None and table[self.name] not in ("sum", "prod", "cumsum", "cumprod"):
            raise JacValueError(f"{what}(): dtype= is not supported by jac here (jac computes in --dtype)", position)
        axis = a["axis"]  # 0 unless given: NumPy's default for a ufunc's reduce and accumulate; None: every axis
        if a["dtype"] is not None:  # np.add.reduce(x, 0, int): the elements cast first, as np.sum's dtype=
            options = {"axis": axis, "dtype": a["dtype"]} | ({"keepdims": a["keepdims"]} if method == "reduce" else {})
            return dtype_first(b, table[self.name], self._numpy(table[self.name]), [x], options, position)
        if method == "reduce":
            return self._numpy(table[self.name])(b, [x], {"axis": axis, "keepdims": a["keepdims"]}, position)
        if x.ndim == 0:
            raise JacValueError(f"{what}() needs at least a vector, as NumPy", position)
        if self.name in ("maximum", "minimum"):  # PyTorch's cummax / cummin: their values
            return FUNCTIONS[table[self.name]](b, [x, axis], {}, position).part("values")
        return self._numpy(table[self.name])(b, [x], {"axis": axis}, position)

    def reduceat(self, b, reduction: str, what: str, args: list, kwargs: dict, position):
        """``np.add.reduceat(array, indices, axis=0)``: along ``axis``, piece i is the reduction of
        ``array[indices[i]:indices[i + 1]]`` (to the end for the last), or ``array[indices[i]]`` alone where
        ``indices[i + 1] <= indices[i]``: NumPy's definition; the pieces are slices and reductions, so the
        derivative is theirs. The indices are constants in [0, n), as NumPy requires."""
        a = arguments(what, args, kwargs, {"array": REQUIRED, "indices": REQUIRED, "axis": 0, "dtype": None,
                                           "out": None}, position)
        if a["out"] is not None or a["dtype"] is not None:
            raise JacValueError(f"{what}(): out= and dtype= are not supported by jac here (jac computes in --dtype "
                                "and never writes into an array)", position)
        x = tensor(b, a["array"], what, position)
        if x.ndim == 0:
            raise JacValueError(f"{what}() cannot reduceat on a scalar (NumPy refuses it too)", position)
        axis = _one_axis(b, a["axis"], x, position, what)
        if type(static(b, a["indices"], "indices", position)) is not tuple:
            raise JacValueError(f"{what}(): indices must be a list of integers (NumPy refuses one number)", position)
        indices, n = static_ints(b, a["indices"], "indices", position), x.shape[axis]
        bad = [i for i in indices if not 0 <= i < n]
        if bad or not indices:
            raise JacValueError(f"{what}(): " + (f"index {bad[0]} is out of bounds [0, {n})" if bad else
                                                 "needs at least one index"), position)
        lead = (slice(None),) * axis
        pieces = []
        for k, start in enumerate(indices):
            end = indices[k + 1] if k + 1 < len(indices) else n
            piece = b.apply("getitem", x, index=lead + (slice(start, max(end, start + 1)),), position=position)
            pieces.append(piece if end <= start + 1 else
                          self._numpy(reduction)(b, [piece], {"axis": axis, "keepdims": True}, position))
        return pieces[0] if len(pieces) == 1 else _concat(b, pieces, axis, what, position)

    def _numpy(self, name: str):
        return library_function("numpy", name) or FUNCTIONS[name]


Ufunc.__name__ = "ufunc (np.add) named without its method .outer(a, b), .reduce(a) or .accumulate(a)"  # in messages
