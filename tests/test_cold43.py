"""Session 43's cheaper first call (h43-cold) must answer as the general path does.

Each shortcut is compared with the path it skips: the size checks ``Builder._sized`` now knows
passed (a scalar, an input's vector or matrix shape) with ``Builder.check_size`` itself, and the
graphs and refusals of a parse with them with those of a parse that asks ``check_size`` for every
node; ``check_wrt``'s answer for one bound identifier with its five tests; a scalar output's seed
(``autodiff.basis``) with ``np.array([1.0])``. The short reader's changes (``_reduce`` called only
when an operator waits, a column without ``len`` after no space) are compared with ``ast``'s path by
``tests/test_chain.py``, and ``MEMO_AFTER`` there too.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.errors import JacError
from jacobi_cli.ir import graph as graph_module
from jacobi_cli.ir.graph import MAX_NODES, Builder
from jacobi_cli.ir.shapes import MAX_ELEMENTS
from jacobi_cli.lang import parser
from jacobi_cli.lang.bindings import check_wrt

LIMITS = [None, 0, 8, 63, 64, 79, 80, 800, 799, 8000, 2**31]
SHAPES = [(), (1,), (10,), (3, 4), (10, 10), (0,), (2, 0), (2, 3, 4), (MAX_ELEMENTS,), (2**40, 2**40)]


def _check_size_passes(builder: Builder, shape) -> bool:
    try:
        builder.check_size(shape, "it")
    except JacError:
        return False
    return True


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("limit", LIMITS)
def test_every_shape_the_builder_knows_passed_passes_check_size(limit, dtype):
    """What ``_sized`` holds before any node (a scalar) and after each input (its shape) is what
    ``check_size`` passes, under every limit: a shape it refuses is never taken as passed."""
    builder = Builder("", dtype, max_bytes=limit)
    for k, shape in enumerate(SHAPES):
        try:
            builder.input(f"x{k}", shape)
        except JacError:
            continue
    if limit is None or limit >= 96:  # (10,) and (3, 4) fit in either dtype: known, so the loop below compares
        assert (10,) in builder._sized and (3, 4) in builder._sized
    for shape in builder._sized:
        assert _check_size_passes(Builder("", dtype, max_bytes=limit), shape), (shape, limit)
    fresh = Builder("", dtype, max_bytes=limit)
    assert (() in fresh._sized) == (limit is None or limit >= 64)  # a scalar known passed: never one refused
    assert () not in fresh._sized or _check_size_passes(fresh, ())


class _Forgetful(dict):
    """A ``_sized`` that knows nothing: every node's size is checked by ``check_size``."""

    def __init__(self, *args):
        super().__init__()

    def __setitem__(self, key, value):
        pass


def _outcome(text: str, inputs: dict, limit):
    try:
        g = parser.parse(text, inputs, max_bytes=limit)
    except JacError as err:
        return "refused", err.kind, err.message, err.position
    return [(n.id, n.op, n.args, n.shape, n.position, n.requires_grad) for n in g.nodes]


TEXTS = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
         "sum(tanh(A @ tanh(A @ x)))", "outer(x, x) + A", "sum(A) * x", "x * 2.5 - 1", "A @ A @ x + x"]


@pytest.mark.parametrize("limit", [None, 63, 64, 80, 160, 799, 800, 801, 2**31])
@pytest.mark.parametrize("text", TEXTS)
def test_a_parse_gives_the_graph_and_refusals_of_one_that_checks_every_size(monkeypatch, text, limit):
    """The nodes (and, under a small ``max_bytes``, the refusal: kind, message, column) of a parse are those of a
    parse whose builder asks ``check_size`` for every result shape (``_sized`` forgetting everything)."""
    inputs = {"x": (10,), "A": (10, 10)}
    fast = _outcome(text, inputs, limit)
    init = graph_module.Builder.__init__

    def forgetful(self, *args, **kw):
        init(self, *args, **kw)
        self._sized = _Forgetful()

    monkeypatch.setattr(graph_module.Builder, "__init__", forgetful)
    assert fast == _outcome(text, inputs, limit)


def _general_check_wrt(wrt, inputs):
    """check_wrt without its one-name shortcut: the shortcut's list made a list of two names."""
    if isinstance(wrt, list) and len(wrt) == 1:
        first = check_wrt(wrt + wrt, inputs)  # a name twice: the same tests, then dict.fromkeys
        return first
    return check_wrt(wrt, inputs)


class _Name(str):
    pass


@pytest.mark.parametrize("wrt", [["x"], ["A"], ["y"], ["X"], [" x"], ["x "], [""], ["x,A"], [0], [None],
                                 [_Name("x")], ["é"], ["x1"], ["_"], ["for"]])
def test_one_name_of_wrt_is_checked_as_several_are(wrt):
    inputs = {"x": 1, "A": 2, "x1": 3, "_": 4, "for": 5, "é": 6}

    def outcome(fn):
        try:
            return "ok", fn(list(wrt), inputs)
        except JacError as err:
            return "refused", err.kind, err.message
    assert outcome(check_wrt) == outcome(_general_check_wrt)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 1, 1)])
def test_a_one_element_seed_is_the_array_of_one_one(shape, dtype):
    seed = autodiff.basis(shape, dtype)
    expected = np.array([1.0], dtype).reshape((1,) + shape)
    assert seed.shape == expected.shape and seed.dtype == expected.dtype
    assert seed.tobytes() == expected.tobytes() and seed.flags.writeable and seed.flags.c_contiguous


def test_the_node_limit_is_untouched():
    """The shortcuts count no node: the limit a long text meets is the one it met."""
    assert MAX_NODES == 2_000_000 and graph_module.MEMO_AFTER < 64
