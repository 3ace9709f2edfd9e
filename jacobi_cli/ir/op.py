"""What an op is: the :class:`Op` block every transform looks up, and the :class:`Proxy`
protocol through which an op reaches something that is not an array (a graph tracer, a
structured batch). The blocks themselves are in :mod:`jacobi_cli.ir.ops`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Op:
    """One op: everything any transform needs to know about it, in one place.

    - ``impl`` (NumPy), ``shape`` (the shape rule), ``vjp``/``jvp`` (one rule per argument,
      written with ``P``), ``nondiff`` (outputs carry no derivative), ``domain`` (where the
      op tests draw inputs), ``sympy`` (its SymPy translation);
    - ``spellings``: the element-wise function names users call it by (bare, ``torch.``,
      ``np.``), lowered with one array per argument; other lowerings live in
      :mod:`jacobi_cli.lang.functions`;
    - ``label``: how messages name it (``"add (+)"``); ``exact_int``: Python ints fold exactly;
    - ``structure``: the rule that keeps a structured batch structured
      (:mod:`jacobi_cli.ir.structured`; ``NotImplemented`` falls back to dense);
    - ``view``: ``"always"`` when NumPy returns a view of the first argument (no new bytes),
      ``"maybe"`` when it can; ``method``: ``(ndarray method, its param)`` a kernel may call
      instead; ``broadcasting``: element-wise, broadcasting its arguments itself;
      ``identity``: ``(unit, sides)``: ``op(x, unit) == x`` exactly for a unit on those sides;
    - ``refuses``: its impl refuses the call at some values (a JacError: ties, NaN, an index past float32,
      a check of :mod:`~jacobi_cli.ir.refusals`; or LAPACK's error): a kernel computes it whether or not a result
      reads it, as the interpreter does (``engine/kernels.py``);
    - ``scratch``: ``scratch(arg_bytes, out_bytes)``, the bytes its NumPy ``impl`` allocates while it runs
      beyond its result, from the bytes of its arguments (as their shapes count them: a strided window view
      at its full size) and of its result (einsum's optimized path copies its operands; fftmap's complex
      chunks): a plan's dry run counts them (``structured._dry_dense``), so a chunked pass keeps its budget
      (``benchmarks/memory39_probe.py`` measures them, ``tests/test_memory39.py`` checks the bounds);
      ``scratch_of``: ``scratch_of(shapes, out_bytes, itemsize, **params)``, the same read off the arguments'
      shapes and the op's params where the bytes alone overcount (einsum's copies depend on its subscripts:
      session 57), used instead of ``scratch`` when given;
    - ``elementwise``: each element of the output is the op of the arguments' elements at its
      position (broadcast), with the same params: ``op(a)[i] == op(a[i])``. The symbolic forms
      read ``f'`` off the ``sympy`` translation of scalars for such an op (and only for one).
    """

    name: str
    impl: Callable
    shape: Callable
    vjp: tuple = ()
    jvp: tuple = ()
    nondiff: bool = False
    domain: tuple = (-2.0, 2.0)
    sympy: Callable | None = None
    spellings: tuple = ()
    label: str | None = None
    exact_int: bool = False
    structure: Callable | None = None
    view: str | None = None
    method: tuple | None = None
    broadcasting: bool = False
    identity: tuple | None = None
    elementwise: bool = False
    refuses: bool = False
    scratch: Callable | None = None
    scratch_of: Callable | None = None

    @property
    def title(self) -> str:
        return self.label or self.name


class Proxy:
    """Stands for an array and applies ops itself, as NumPy hands a function to
    ``__array_function__``: a graph's :class:`~jacobi_cli.ir.graph.Tracer` adds a node, a
    structured batch (:mod:`jacobi_cli.ir.structured`) keeps its structure. When both meet
    in one op, the tracer's ``bind`` wins (``traces``)."""

    __slots__ = ()
    traces = False  # a graph tracer: the op becomes a node

    def bind(self, op: Op, args: tuple, params: dict):
        raise NotImplementedError

    def dry_result(self, shape: tuple, scratch: int = 0):
        """In a dry run, the stand-in for what a rule that needs this batch's values (NumPy on
        it, as ``prod_except``'s JVP) leaves; None when the rule runs."""
        return None
