"""Session 37: hostile texts against session 36's readers (benchmarks/hostile37_fuzz.py runs the full sweep).

- itertools: a tuple width (``product(..., repeat=10**9)``, ``combinations(range(3), 10**9)``) is refused before
  Python's itertools allocates it (8 GB, or a MemoryError reported as "not enough memory"); the tuples' elements
  are counted as they come (``permutations(range(10000))``); an endless iterator read past 100,000 items
  (``islice(count(), 10**9, 10**9 + 1)``) and a call of more than 10,000 arguments or keys are refused;
- ``functools.partial`` of a partial is flattened as Python's (a partial 9,000 deep was a RecursionError);
- ``scipy.special``: lpmv / pbdv / pbvv at an order past 10,000 (SciPy loops once per unit: a hang, or 8 GB and
  SciPy's MemoryError as a traceback), the Kelvin zeros past 200 (SciPy's iteration never ends past about 225)
  and y0_zeros past 300 (quadratic: 1,000 took 19 s);
- a dict or list put into itself (``d['self'] = d``) is refused: jac held a copy, so ``len(d['self'])`` was 1
  where Python's is 2, and ``tree_leaves(d)`` answered where JAX raises RecursionError;
- ``__len__`` returning 2**63 or more is Python's OverflowError (jac answered the number);
- ``tree_reduce(None, tree)``, a pytree nested 3,000 deep and ``np.fft.fftshift(x, axes=10**9)`` were tracebacks.
"""

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import api

runner = CliRunner()
X = "x=[0.5,-1.5,2.0]"
IT = "import itertools\n"


def _error(args, *words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("jac: error")]
    assert len(lines) == 1 and result.stderr.startswith("jac: error"), result.stderr
    assert "not enough memory" not in lines[0] and "Traceback" not in result.output
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _value(text, env=None):
    return api.evaluate(text, env or {"x": np.array([0.5, -1.5, 2.0])})


# --- itertools: sizes refused by size -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, words", [
    ("itertools.product(range(10), repeat=10**9)", ("tuples of 1,000,000,000 items",)),
    ("itertools.product([1], [2], repeat=6000)", ("tuples of 12,000 items",)),
    ("itertools.combinations(range(3), 10**9)", ("itertools.combinations", "allocates")),
    ("itertools.permutations(range(3), 2**62)", ("itertools.permutations",)),
    ("itertools.combinations_with_replacement([], 10**9)", ("combinations_with_replacement",)),
    ("itertools.permutations(range(10000))", ("more than 100,000 elements",)),
    ("itertools.islice(itertools.count(), 10**9, 10**9 + 1)", ("past its first 100,000 items",)),
    ("itertools.islice(itertools.cycle([1, 2]), 10**9, 10**9 + 1)", ("itertools.cycle",)),
    ("itertools.chain(" + ", ".join(["[]"] * 10_001) + ")", ("10,001 arguments",)),
])
def test_an_iterator_too_big_to_write_out_is_refused_by_its_size(call, words):
    _error(["eval", IT + f"len(list({call})) * x", X], *words)


def test_itemgetter_of_more_keys_than_jac_writes_out_is_refused():
    keys = ", ".join(["0"] * 10_001)
    _error(["eval", f"import operator\noperator.itemgetter({keys})(x)[0]", X], "10,001 keys")


def test_iterators_within_the_bounds_are_still_pythons():
    import itertools
    assert _value(IT + "len(list(itertools.product(range(100), repeat=2))) * x")[0] == 0.5 * 10_000
    assert _value(IT + "list(itertools.islice(itertools.count(5), 99_990, 99_991))[0] * x")[0] == 0.5 * 99_995
    assert len(list(itertools.combinations(range(3), 4))) == 0
    assert _value(IT + "len(list(itertools.combinations(range(3), 4))) * x")[1] == 0.0


# --- functools.partial: flattened as Python's --------------------------------------------------------------------

def test_a_partial_of_a_partial_9000_deep_is_one_call():
    text = ("import functools\ndef f(a, b, c):\n    return a * 2 + b - c\np = functools.partial(f)\n"
            "for i in range(9000):\n    p = functools.partial(p)\np(x, 1.0, c=3.0).sum()")
    assert _value(text) == pytest.approx(2 * 1.0 + 3 * (1.0 - 3.0))


def test_a_flattened_partial_keeps_pythons_order_of_arguments_and_keywords():
    import functools

    def f(a, b, c=0.0, d=0.0):
        return a - 2 * b + 3 * c - 5 * d
    want = functools.partial(functools.partial(f, 7.0, c=1.0), 2.0, c=4.0)(d=0.5)
    text = ("import functools\ndef f(a, b, c=0.0, d=0.0):\n    return a - 2 * b + 3 * c - 5 * d\n"
            "p = functools.partial(functools.partial(f, 7.0, c=1.0), 2.0, c=4.0)\n(p(d=0.5) * x).sum()")
    assert _value(text) == pytest.approx(want * 1.0)


# --- scipy.special: orders and counts where SciPy hangs -----------------------------------------------------------

@pytest.mark.parametrize("call", ["lpmv(10**9, 10**9, x / 4)", "lpmv(-10**9, 0.5, x / 4)",
                                  "lpmv(0, 10**5, x / 4)", "pbdv(10**9, x)[0]", "pbvv(-10**9, x)[1]"])
def test_an_order_past_ten_thousand_is_refused_before_scipy_runs(call):
    _error(["eval", f"import scipy.special\nscipy.special.{call}.sum()", X], "jac computes orders up to 10,000")


def test_orders_within_the_bound_are_scipys():
    special = pytest.importorskip("scipy.special")
    x = np.array([0.5, -1.5, 2.0])
    assert _value("import scipy.special\nscipy.special.lpmv(2, 3, x / 4).sum()") == special.lpmv(2, 3, x / 4).sum()
    assert _value("import scipy.special\nscipy.special.pbdv(10000, x)[0].sum()", {"x": x}) \
        == pytest.approx(special.pbdv(10000, x)[0].sum(), nan_ok=True)


@pytest.mark.parametrize("call, most", [("kelvin_zeros(201)[0]", 200), ("ber_zeros(201)", 200),
                                        ("keip_zeros(250)", 200), ("y0_zeros(301)[0]", 300)])
def test_zero_tables_where_scipys_routine_runs_away_are_bounded(call, most):
    _error(["eval", f"import scipy.special\n(x * scipy.special.{call}.sum()).sum()", X], f"({most})")


def test_the_kelvin_zeros_within_the_bound_are_scipys():
    special = pytest.importorskip("scipy.special")
    got = _value("import scipy.special\n(x * scipy.special.ber_zeros(200).sum()).sum()")
    assert got == pytest.approx(special.ber_zeros(200).sum() * (0.5 - 1.5 + 2.0), rel=1e-13)


# --- containers holding themselves ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "d = {'a': x}\nd['self'] = d\nlen(d['self']) * x",
    "l = [x]\nl.append(l)\nlen(l[1]) * x",
    "l = [x]\nl.extend([1, [l]])\nx",
    "class A:\n    def __init__(self):\n        self.d = {}\n        self.d['me'] = self.d\na = A()\nx",
    "import jax\nd = {'a': x}\nd['self'] = d\nsum(jax.tree_util.tree_leaves(d)).sum()",
])
def test_a_container_put_into_itself_is_refused(text):
    _error(["eval", text, X], "into itself")


def test_a_container_put_into_another_is_still_read():
    assert _value("d = {'a': x}\ne = {'in': x}\nd['e'] = e\nd['e']['in'].sum()") == pytest.approx(1.0)
    assert _value("l = [x]\nm = [x, x]\nl.append(m)\n(len(l[1]) * x).sum()") == pytest.approx(2.0)


# --- plain classes, pytrees, Fourier ---------------------------------------------------------------------------------

def test_len_past_an_index_sized_integer_is_pythons_overflow_error():
    for n in ("2**63", "10**100"):
        _error(["eval", f"class A:\n    def __len__(self):\n        return {n}\nlen(A()) * x", X], "OverflowError")


def test_tree_reduce_of_no_function_is_refused():
    _error(["eval", "import jax\np = {'w': x, 'b': x * 2}\njax.tree_util.tree_reduce(None, p).sum()", X],
           "takes a function first")


def test_a_pytree_nested_thousands_deep_is_refused_by_depth():
    text = ("import jax\nimport jax.numpy as jnp\nd = x\nfor i in range(3000):\n    d = {'k': d}\n"
            "jax.tree_util.tree_leaves(jax.tree_util.tree_map(jnp.sin, d))[0].sum()")
    _error(["eval", text, X], "nested more than 64 levels")


def test_fftshift_of_an_axis_out_of_range_is_refused():
    _error(["eval", "np.fft.fftshift(x, axes=10**9).sum()", X], "axis 1000000000 is out of range")
    x = np.array([0.5, -1.5, 2.0])
    assert _value("np.fft.ifftshift(x, axes=(-1,))[0]") == np.fft.ifftshift(x, axes=(-1,))[0]


def test_signal_precision_is_refused_where_the_library_refuses_it():
    _error(["eval", "import jax.scipy.signal\njax.scipy.signal.convolve2d(A, A, precision='bogus').sum()",
            "A=ones((3,3))"], "JAX raises ValueError")
    _error(["eval", "import scipy.signal\nscipy.signal.convolve2d(A, A, precision='highest').sum()", "A=ones((3,3))"],
           "unexpected keyword argument 'precision'")
    assert api.evaluate("import jax.scipy.signal\njax.scipy.signal.convolve2d(A, A, precision='highest').sum()",
                        {"A": np.ones((3, 3))}) == 81.0
