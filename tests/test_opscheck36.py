"""Session 36: no test is parametrized over a table before the file has finished writing it.

``@pytest.mark.parametrize("name,case", list(_cases()))`` takes its list where the decorator stands, when the
module is imported; tests/test_ops.py's sessions 28-36 appended 127 ops to ``CASES`` below its tests, and those
were never checked against central differences (its tests are now parametrized in ``pytest_generate_tests``).
This reads every test file's syntax tree for the same pattern: a decorator's parametrize list built from a
module-level table (followed through the module's functions and variables) that a later top-level statement
writes into (``T[k] = ...``, ``T.update/append/extend/add/insert/setdefault(...)``, ``T |= ...``, ``T += ...``)
or binds anew (``T = {**T, ...}``).
"""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

TESTS = pathlib.Path(__file__).parent
WRITES = {"update", "append", "extend", "add", "insert", "setdefault"}
TABLES = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def _is_table(value) -> bool:
    return isinstance(value, TABLES) or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                                         and value.func.id in ("dict", "list", "set"))


def _definitions(tree) -> tuple[dict, set]:
    """Module-level name -> the nodes that define it (function bodies, assigned values); the names of tables."""
    defs, tables = {}, set()
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            defs.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    defs.setdefault(target.id, []).append(stmt.value)
                    if _is_table(stmt.value):
                        tables.add(target.id)
    return defs, tables


def _reads(node, defs) -> set:
    """The names ``node`` reads, through the module-level functions and variables it reads (no recursion)."""
    seen, todo, names = set(), [node], set()
    while todo:
        for sub in ast.walk(todo.pop()):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
                if sub.id in defs and sub.id not in seen:
                    seen.add(sub.id)
                    todo.extend(defs[sub.id])
    return names


def _statement_writes(stmt):
    """(table name, line) of each write into a name by a top-level statement (loops' bodies included, function
    and lambda bodies not: they run later, if ever)."""
    todo = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    yield target.value.id, node.lineno
                elif isinstance(target, ast.Name):  # bound anew: CASES = {**CASES, ...}
                    yield target.id, node.lineno
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, node.lineno
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES
              and isinstance(node.func.value, ast.Name)):
            yield node.func.value.id, node.lineno


def late_tables(source: str) -> list[str]:
    """``"test_x (line L): T written at line M"`` for each parametrize decorator reading a table written below it."""
    tree = ast.parse(source)
    defs, tables = _definitions(tree)
    writes = [w for stmt in tree.body if not isinstance(stmt, (ast.FunctionDef, ast.ClassDef))
              for w in _statement_writes(stmt)]
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.ClassDef)):
            continue
        for dec in fn.decorator_list:
            if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                    and dec.func.attr == "parametrize"):
                continue
            read = set().union(*(_reads(a, defs) for a in dec.args[1:] + [k.value for k in dec.keywords]))
            late = sorted({(name, line) for name, line in writes if name in read & tables and line > dec.lineno})
            found += [f"{fn.name} (line {dec.lineno}): {name} written at line {line}" for name, line in late[:1]]
    return found


BUGGY = '''
import pytest
CASES = {"a": [1]}
def _cases():
    for name, cases in CASES.items():
        yield from cases
SECOND = [c for c in _cases()]
@pytest.mark.parametrize("case", list(_cases()))
def test_one(case): pass
@pytest.mark.parametrize("case", SECOND)
def test_two(case): pass
NAMES = ["x"]
@pytest.mark.parametrize("name", sorted(NAMES))
def test_three(name): pass
for n in ["b", "c"]:
    CASES[n] = [2]
NAMES.append("y")
SECOND = SECOND + [3]
'''

FINE = '''
import pytest
CASES = {"a": [1]}
CASES["b"] = [2]
NAMES = ["x"]
@pytest.mark.parametrize("case", list(CASES))
def test_one(case): pass
def pytest_generate_tests(metafunc):
    metafunc.parametrize("name", NAMES)
NAMES.append("y")
torch = object()
@pytest.mark.parametrize("f", [lambda x: torch.add(x, 1)])
def test_two(f): pass
LATER = [lambda x: torch.add(x, 2)]
'''


def test_the_check_finds_the_pattern_through_functions_and_variables():
    assert late_tables(BUGGY) == ["test_one (line 8): CASES written at line 16",
                                  "test_two (line 10): CASES written at line 16",
                                  "test_three (line 13): NAMES written at line 17"]
    assert "SECOND" not in "".join(late_tables(BUGGY))  # a list comprehension: found through CASES
    assert late_tables(BUGGY.replace("SECOND = [c for c in _cases()]", "SECOND = [1]"))[1] == \
        "test_two (line 10): SECOND written at line 18"
    assert late_tables(FINE) == []


def test_no_test_is_parametrized_over_a_table_written_below_it():
    files = sorted(TESTS.glob("**/*.py"))
    assert len(files) > 100
    found = [f"{path.relative_to(TESTS)}: {line}" for path in files
             for line in late_tables(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_old_test_ops_would_have_been_found():
    """tests/test_ops.py as it was (its decorators put back above the tables it extends) is flagged."""
    source = (TESTS / "test_ops.py").read_text(encoding="utf-8")
    head = "def test_first_order_against_central_differences(name, case):"
    assert source.count(head) == 1
    assert late_tables(source) == []
    old = source.replace(head, '@pytest.mark.parametrize("name,case", list(_cases()))\n' + head)
    assert [line.split(":")[0] for line in late_tables(old)] == [
        "test_first_order_against_central_differences (line %d)" % (old[:old.index(head)].count("\n"))]


# --- silent wrong derivatives the full op checks found -----------------------------------------------------------

def test_the_derivatives_of_rgamma_at_gammas_poles_are_mpmaths():
    """1/Γ at x = 0, -1, -2, -3 (Γ's poles, 1/Γ's zeros): its rule's branch there was cos(πx) Γ(1 - x), right in
    value but not in slope, so the second derivative was half (0.5772 at 0 for 2γ = 1.1544) and the third and fourth
    wrong; now the reflection formula's derivative, every order as mpmath's."""
    mpmath = pytest.importorskip("mpmath")
    from jacobi_cli.tools import api

    for x in (0.0, -1.0, -2.0, -3.0, -0.5, 1.5):
        for order in (1, 2, 3, 4):
            want = float(mpmath.diff(mpmath.rgamma, x, order))
            got = float(api.derivative("scipy.special.rgamma(x)", {"x": x}, order))
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (x, order, got, want)
    assert float(api.derivative("scipy.special.rgamma(x)", {"x": 0.0}, 1)) == 1.0  # (-1)^n n!, to the bit
    assert float(api.derivative("scipy.special.rgamma(x)", {"x": -3.0}, 1)) == -6.0


def test_lpmv_beyond_where_scipys_series_holds_is_refused():
    """scipy.special.lpmv at a degree that is not an integer, past x = 2.5: SciPy's series loses its digits (1e-3 at
    x = 3, -1.9e27 at x = 5 where P is 1.378) and jac answered those numbers, with a derivative (0.0878 at v = 0.25,
    x = 3) that was neither theirs (0.0315) nor the function's (0.0879). Refused there, through the CLI with exit 2;
    up to 2.5, and at integer degrees (polynomials), values and derivatives are mpmath's."""
    mpmath = pytest.importorskip("mpmath")
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    text = "scipy.special.lpmv(m, v, x)"
    for m, v, x in ((0.0, 0.25, 3.0), (0.0, 0.5, 5.0), (0.0, -1.5, 2.6)):
        with pytest.raises(JacError, match="beyond x = 2.5"):
            api.evaluate(text, {"m": m, "v": v, "x": x})
    result = CliRunner().invoke(app, ["eval", "scipy.special.lpmv(0, 0.25, x)", "x=5"])
    assert result.exit_code == 2 and "beyond x = 2.5" in result.output and "Traceback" not in result.output
    for m, v, x in ((0.0, 0.25, 2.5), (0.0, 0.5, 1.5), (0.0, 3.0, 5.0), (0.0, 2.0, 40.0), (1.0, 0.5, 0.3)):
        kind = 3 if x > 1 else 2
        want = float(mpmath.re(mpmath.legenp(v, m, x, type=kind)))
        slope = float(mpmath.re(mpmath.diff(lambda t: mpmath.legenp(v, m, t, type=kind), x)))
        assert float(api.evaluate(text, {"m": m, "v": v, "x": x})) == pytest.approx(want, rel=1e-13)
        got = float(api.jacobian(text, {"m": m, "v": v, "x": x}, wrt=["x"])["x"])
        assert got == pytest.approx(slope, rel=1e-12), (m, v, x)


def test_fdtri_by_p_where_the_answer_is_huge_is_mpmaths():
    """fdtri's slope is 1 / the F density at its answer; that density went through the beta density at
    w = nx / (d + nx), whose 1 - w is rounding where nx ≫ d: 8.57e16 for mpmath's 4.68e16 here."""
    mpmath = pytest.importorskip("mpmath")
    from scipy import special

    from jacobi_cli.tools import api

    n, d, p = 0.54891679, 0.02188913, 0.35348969
    x = special.fdtri(n, d, p)  # 3.3e14

    def cdf(t):
        return mpmath.betainc(n / 2, d / 2, 0, n * t / (n * t + d), regularized=True)
    with mpmath.workdps(40):
        want = float(1 / mpmath.diff(cdf, mpmath.findroot(lambda t: cdf(t) - p, x)))
    got = float(api.jacobian("scipy.special.fdtri(n, d, p)", {"n": n, "d": d, "p": p}, wrt=["p"])["p"])
    assert got == pytest.approx(want, rel=1e-9)
    from scipy import stats

    for t in (0.3, 2.0, 1e8):  # fdtr's slope, the density itself, as SciPy's
        got = float(api.jacobian("scipy.special.fdtr(n, d, x)", {"n": 3.0, "d": 2.5, "x": t}, wrt=["x"])["x"])
        assert got == pytest.approx(stats.f.pdf(t, 3.0, 2.5), rel=1e-12)


@pytest.mark.parametrize("text,bindings", [
    ("scipy.special.chdtr(v, x)", {"v": 2.0, "x": -1.0}), ("scipy.special.chdtrc(v, x)", {"v": 2.0, "x": -1.0}),
    ("scipy.special.gdtr(a, b, x)", {"a": 1.0, "b": 1.0, "x": -1.0}),
    ("scipy.special.gdtrc(a, b, x)", {"a": 1.0, "b": 1.0, "x": -1.0}),
    ("scipy.special.fdtr(n, d, x)", {"n": 2.0, "d": 2.5, "x": -1.0}),
    ("scipy.special.fdtrc(n, d, x)", {"n": 2.0, "d": 2.5, "x": -1.0}),
    ("scipy.special.betainc(a, b, x)", {"a": 1.0, "b": 2.0, "x": -0.5}),
    ("scipy.special.betaincc(a, b, x)", {"a": 1.0, "b": 2.0, "x": -0.5}),
])
def test_no_finite_slope_where_the_value_is_nan(text, bindings):
    """SciPy's NaN outside the support (x < 0) came with the density formula's number as its derivative (37.4 for
    fdtr(2, 2.5, -1), 3 for betainc(1, 2, -0.5), where JAX's gradient is NaN): now NaN, as the value."""
    from jacobi_cli.tools import api

    wrt = list(bindings)[-1]
    assert np.isnan(api.evaluate(text, bindings))
    assert np.isnan(api.jacobian(text, bindings, wrt=[wrt])[wrt])


def test_scipy_stats_cdfs_are_flat_outside_their_support():
    """rv_continuous.cdf's 0 below and 1 above the support has slope 0; the formula's slope at the point outside
    (NaN there) leaked through the choice as 0·NaN (gamma.cdf(-1, 2), chi2.cdf(-1, 3), beta.cdf(1.5, 2, 2))."""
    from jacobi_cli.tools import api

    for text, x in (("scipy.stats.chi2.cdf(x, 3.0)", -1.0), ("scipy.stats.gamma.cdf(x, 2.0)", -1.0),
                    ("scipy.stats.beta.cdf(x, 2.0, 2.0)", 1.5), ("scipy.stats.beta.cdf(x, 1.0, 2.0)", -0.5),
                    ("scipy.stats.gamma.cdf(x, 2.0, loc=1.0, scale=2.0)", 0.5)):
        assert float(api.jacobian(text, {"x": x})["x"]) == 0.0, text
    assert float(api.jacobian("scipy.stats.chi2.cdf(x, 3.0)", {"x": 1.5})["x"]) == pytest.approx(0.2307994842081829)
    assert np.isnan(api.jacobian("scipy.stats.gamma.cdf(x, 2.0)", {"x": np.nan})["x"])
