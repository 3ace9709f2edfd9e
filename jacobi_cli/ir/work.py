"""The arithmetic a fold of constants would do, estimated from the shapes before it runs (session 39).

A constant is computed while the text is read, by every command (`jac shape` too) and before `--timeout` or a
case's time limit can act: a LAPACK or BLAS call is one C call that no signal interrupts. So an op whose work
grows faster than its arguments' and result's sizes (a product, a decomposition) is refused past
``MAX_FOLD_WORK`` before it runs: `inv(eye(10000))` was a minute of one uninterruptible call. The unit is a
matrix product's multiply-add; each decomposition's factor is its time over a product's of the same size
(``benchmarks/foldwork39_probe.py`` measures them on jac's own impls: inv 2, eigh 10, svd 20, ...). Everything else a fold
computes is bounded by the sizes ``Builder.check_size`` already bounds.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic as _monotonic

# about ten seconds of a product on one busy core of the machines jac is measured on (1.2e10 a second)
MAX_FOLD_WORK = 10**11

# op name -> multiply-adds per m·n·min(m, n) of each matrix its first argument holds
CUBIC = {
    "inv": 2, "det": 1, "detsign": 1, "logabsdet": 1, "cofactor": 3, "cholesky": 2, "lu": 1, "lu_pivots": 1,
    # jac's eigvalsh and svdvals are the full eigh and svd (ops._eigh, ops._svd): the vectors' cost too
    "eigvalsh": 10, "eigh_vectors": 10, "svdvals": 20, "svd_u": 20, "svd_vh": 20, "qr_q": 7, "qr_r": 7,
}


def _matrices(shape) -> int:
    """m·n·min(m, n) per matrix, times the matrices in the batch axes of ``shape`` (..., m, n)."""
    if len(shape) < 2:
        return 0
    m, n = shape[-2], shape[-1]
    return math.prod(shape[:-2]) * m * n * min(m, n)


def _matmul(shapes, out_shape, values, params) -> int:
    return math.prod(out_shape) * shapes[0][-1] if shapes[0] else 0  # each result element: one row times a column


def _einsum(shapes, out_shape, values, params) -> int:
    """NumPy's loop over every letter's range (the naive order: what ``optimize=False`` runs, an upper bound
    of an optimised one)."""
    sizes = {}
    for letters, shape in zip(params["spec"].split("->")[0].split(","), shapes):
        sizes.update(zip(letters, shape))
    return math.prod(sizes.values())


def _solve(shapes, out_shape, values, params) -> int:
    return 2 * _matrices(shapes[0]) + math.prod(out_shape) * shapes[0][-1]  # the factorisation, then each column


def _matrix_exp(shapes, out_shape, values, params) -> int:
    """24 products of the Taylor series, then one squaring per halving of the norm (``ops._expm``)."""
    import numpy as np

    a = np.asarray(values[0])
    norm = float(np.max(np.sum(np.abs(a), axis=-2), initial=0.0)) if a.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm))) + 1) if 0 < norm < math.inf else 0
    return (24 + squarings) * _matrices(shapes[0])


# the function a user called, for the ops that are one part of it
TITLES = {"svd_u": "svd", "svd_vh": "svd", "svdvals": "svdvals (or svd)", "qr_q": "qr", "qr_r": "qr",
          "eigh_vectors": "eigh", "eigvalsh": "eigvalsh (or eigh)", "detsign": "slogdet", "logabsdet": "slogdet",
          "lu_pivots": "lu", "cofactor": "det's cofactors"}

RULES = {"matmul": _matmul, "einsum": _einsum, "solve": _solve, "matrix_exp": _matrix_exp}


def fold_work(name: str, values, params: dict, out_shape) -> int:
    """Multiply-adds the fold of op ``name`` over these constant values would do (0: bounded by the sizes)."""
    factor = CUBIC.get(name)
    if factor is not None:
        return factor * _matrices(_shape(values[0]))
    rule = RULES.get(name)
    if rule is None:
        return 0
    return rule([_shape(v) for v in values], tuple(out_shape), values, params)


def title_of(op) -> str:
    return TITLES.get(op.name, op.title)


def _shape(value) -> tuple:
    shape = getattr(value, "shape", None)
    if shape is None:
        import numpy as np

        shape = np.shape(value)
    return tuple(shape)


# --- the work of a pass on the inputs, against a time limit (session 40) ---------------------------------------

# multiply-adds a second that no machine jac runs on reaches: ten times the 1.2e10 of MAX_FOLD_WORK's machines, so
# work refused by it could not have finished in the time left on any of them
FAST = 10**11


class OutOfTime(BaseException):
    """A time limit is up (raised by :class:`Alarm`, or by :func:`check_time` between ops; a BaseException, so that
    no ``except Exception`` on the way, jac's or a library's, takes it for an error of the work's own). ``phase``:
    what was running, in words (:func:`phase_of`), or None."""

    def __init__(self, phase: str | None = None):
        super().__init__(phase)
        self.phase = phase


# what was running when a limit stopped the work, by the function running it: (module's file, function) -> words.
# The innermost one found names the phase, except that anything under the parser is the reading of the text and
# anything under the finite differences is theirs (OUTERMOST).
PHASES = {
    ("lang/parser.py", "parse"): "the reading of the expression",
    ("engine/autodiff.py", "evaluate"): "the forward pass",
    ("ir/reverse.py", "pullback"): "a reverse-mode pass",
    ("engine/autodiff.py", "_forward"): "a forward-mode pass",
    ("engine/autodiff.py", "hessian_blocks"): "the Hessian's passes",
    ("engine/higher.py", "run"): "the higher derivative's passes",
    ("engine/higher.py", "derivative_graph"): "the tracing of the higher derivative's passes",
    ("engine/autodiff.py", "grad_graph"): "the tracing of the reverse pass (for second derivatives)",
    ("engine/planner.py", "make_plan"): "the planning of the passes (a dry run)",
    ("engine/compiled.py", "hessian_plan_of"): "the planning of the Hessian (a dry run)",
    ("tools/check.py", None): "the check",
    ("tools/numeric.py", None): "the finite differences",
    ("engine/conditioning.py", None): "the conditioning estimate",
    ("tools/suite.py", "load_suite"): "the reading of the suite",
    ("cli/render.py", None): "the writing of the output",
    ("tools/report.py", None): "the making of the report",  # outermost of all: what no function above names
}


OUTERMOST = ("the reading of the expression", "the finite differences")


def phase_of(frame) -> str | None:
    """The words of :data:`PHASES` for the innermost of jac's functions running in ``frame`` and its callers
    (:data:`OUTERMOST` wins wherever it is on the stack: a derivative written in the text is lowered by the passes'
    own loops, and the finite differences run forward passes), or None."""
    found = None
    while frame is not None:
        code = frame.f_code
        path = code.co_filename.replace("\\", "/")
        if "/jacobi_cli/" in path:
            where = path.rsplit("/jacobi_cli/", 1)[1]
            words = PHASES.get((where, code.co_name)) or PHASES.get((where, None))
            if words in OUTERMOST:
                return words
            if found is None and words is not None:
                found = words
        frame = frame.f_back
    return found


class Alarm:
    """A time limit: ``seconds`` of wall-clock time from now (``given``: the limit as the user gave it, where
    ``seconds`` is what is left of it). Installed as the SIGALRM handler by ``tools/bounded.time_limit`` (the main
    thread of the command line: it raises :class:`OutOfTime` at the next Python step), and in any thread as the
    limit of one call (:func:`deadline`), which the passes read once each (:func:`limit_now`) and check between
    ops (:func:`check_time`)."""

    __slots__ = ("seconds", "given", "end")

    def __init__(self, seconds: float, given: float | None = None):
        from time import monotonic

        self.seconds = seconds
        self.given = seconds if given is None else given  # the --timeout as the user gave it
        self.end = monotonic() + seconds

    def __call__(self, signum, frame):
        raise OutOfTime(phase_of(frame))

    def left(self) -> float:
        from time import monotonic

        return self.end - monotonic()


# The time limit of the work running in this thread (or asyncio task), or None: set for one call by
# :func:`deadline` (the API's ``timeout=``, the command line's --timeout beside its SIGALRM), read once per pass.
_LIMIT: ContextVar = ContextVar("jac_time_limit", default=None)


def limit_now() -> Alarm | None:
    """The time limit the work in this thread runs under (an :class:`Alarm`), or None. One context variable read:
    a pass reads it once, then checks it between its ops with :func:`check_time` only when there is one."""
    return _LIMIT.get()


def alarm() -> Alarm | None:
    """The time limit this thread runs under, or None (kept under its session 40 name: :func:`limit_now`). A
    program's own SIGALRM handler is no jac limit: only :func:`deadline` sets one."""
    return _LIMIT.get()


def check_time(limit: Alarm) -> None:
    """Raise :class:`OutOfTime` when ``limit`` has passed (between two ops of a pass, two chunks, two
    evaluations of a check: one C call of ``time.monotonic``)."""
    if _monotonic() > limit.end:
        import sys

        raise OutOfTime(phase_of(sys._getframe(1)))


@contextmanager
def deadline(seconds: float | None, given: float | None = None):
    """The work of this block runs under a limit of ``seconds`` (None: none) in this thread alone: the passes
    check it between their ops and chunks and raise :class:`OutOfTime` past it, and refuse before it runs a pass
    whose products could not fit the time left (:func:`refuse_past_deadline`). An outer limit that ends sooner
    stays. Yields the limit in force (an :class:`Alarm`, or None)."""
    outer = _LIMIT.get()
    if seconds is None or (outer is not None and outer.left() <= seconds):
        yield outer
        return
    with holding(Alarm(seconds, given)) as limit:
        yield limit


@contextmanager
def holding(limit: Alarm):
    """The work of this block runs under ``limit`` in this thread (as :func:`deadline`; ``tools/bounded.time_limit``
    holds the SIGALRM handler it installs, so the passes check it and refuse past it too)."""
    token = _LIMIT.set(limit)
    try:
        yield limit
    finally:
        _LIMIT.reset(token)


class _Shaped:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)


def pass_work(nodes) -> tuple:
    """``(multiply-adds, the node doing the most)`` of the products and decompositions among ``nodes``, from their
    shapes (``matrix_exp``: its 24 products without the squarings, which its values decide: a lower bound), so
    before any of them runs; ``(0, None)`` without one. ``einsum`` is left out: the naive loop ``fold_work``
    counts is an upper bound, and NumPy's optimised contraction (jac's) may do far less."""
    total, largest, most = 0, None, 0
    for node in nodes:
        name = node.op
        if name not in CUBIC and name not in RULES or name == "einsum":
            continue
        shapes = [nodes[i].shape for i in node.args]
        if name == "matrix_exp":
            done = 24 * _matrices(tuple(shapes[0]))
        else:
            done = fold_work(name, [_Shaped(s) for s in shapes], node.params, node.shape)
        total += done
        if done > most:
            largest, most = node, done
    return total, largest


def derivative_work(nodes, carries) -> tuple:
    """``(multiply-adds, the node doing the most)`` that one vector of a derivative pass does at least, from the
    shapes: each product whose rule runs (``carries[i]``) makes at least one product of its own size per vector
    (``g @ B.T`` of ``A @ B``), each decomposition at least one product of its matrices' size (its factor 1: a
    rule reuses the factorisation). A lower bound, so a pass refused by it could not have fitted."""
    total, largest, most = 0, None, 0
    for node in nodes:
        name = node.op
        if not carries[node.id] or (name not in CUBIC and name not in RULES) or name == "einsum":
            continue
        shapes = [nodes[i].shape for i in node.args]
        if name in CUBIC or name == "matrix_exp":
            done = _matrices(tuple(shapes[0]))
        else:
            done = fold_work(name, [_Shaped(s) for s in shapes], node.params, node.shape)
        total += done
        if done > most:
            largest, most = node, done
    return total, largest


def refuse_pass_past_deadline(limit: Alarm, nodes, carries, batch: int, what: str, source=None) -> None:
    """:func:`refuse_past_deadline` for a derivative pass of ``batch`` vectors (a chunk of a Jacobian's basis, a
    cotangent, a Hessian's tangents): refused before it runs when even :func:`derivative_work`'s lower bound of it
    could not finish in the time left of ``limit`` at :data:`FAST` multiply-adds a second (one batched BLAS call
    of a pass is as uninterruptible as the forward pass's)."""
    check_time(limit)  # the time is up already: stopped, not refused as work that could never fit
    per_vector, largest = derivative_work(nodes, carries)
    total = per_vector * max(int(batch), 1)
    if largest is None or total <= max(limit.left(), 0.0) * FAST:
        return
    _refuse(limit, f"{what} ({batch:,} vector{'s' if batch != 1 else ''} at once)", total, largest, nodes, source)


def _refuse(limit: Alarm, what: str, total: int, largest, nodes, source) -> None:
    from ..errors import JacLimitError
    from .ops import OPS
    from .shapes import fmt

    shapes = " and ".join(fmt(nodes[i].shape) for i in largest.args)
    raise JacLimitError(f"{what} holds about {total:,} multiply-adds of products and decompositions (the largest: "
                        f"{title_of(OPS[largest.op])} of shape {shapes}), more than even "
                        f"{FAST:,} a second would do within --timeout {limit.given:g}; nothing was computed: allow "
                        "more time with --timeout SECONDS (0: no limit), or use smaller inputs", largest.position,
                        source)


def refuse_past_deadline(graph, what: str = "the forward pass") -> None:
    """Under a time limit (:func:`alarm`), refuse before it runs a pass over ``graph`` whose products and
    decompositions could not finish in the time left even at :data:`FAST` multiply-adds a second: one BLAS or
    LAPACK call is uninterruptible, so the limit's alarm would act only after it. Without a limit, or without such
    ops, nothing is read."""
    limit = alarm()
    if limit is None:
        return
    check_time(limit)  # the time is up already: stopped, not refused as work that could never fit
    total, largest = pass_work(graph.nodes)
    left = limit.left()
    if largest is None or total <= max(left, 0.0) * FAST:
        return
    _refuse(limit, what, total, largest, graph.nodes, graph.source)
