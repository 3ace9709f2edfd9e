"""Silently wrong leftovers and everyday spellings that were refused (hrefuse8): the sign of -0 through
the assembly ops, a final tuple of constants, np.histogram of NaN, and the lowerings of the later parts,
each against NumPy / PyTorch (values bit for bit where the library's are exact)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity, central

torch = pytest.importorskip("torch")
F = torch.nn.functional
runner = CliRunner()

X = np.array([0.0, -0.0, 1.5, -2.0])
A = np.array([[0.0, -0.0], [-0.0, 2.0]])


def same_bits(got, want) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and got.tobytes() == want.tobytes()


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


# --- the sign of -0 through the assembly ops: each part's elements keep their bits ------------------

NEG_ZERO = [
    ("torch.cat([x, -x])", lambda: torch.cat([T(X), -T(X)]).numpy()),
    ("np.concatenate([-x, x])", lambda: np.concatenate([-X, X])),
    ("np.concatenate([A, -A], axis=1)", lambda: np.concatenate([A, -A], axis=1)),
    ("torch.stack([x, -x])", lambda: torch.stack([T(X), -T(X)]).numpy()),
    ("np.stack([x, -x], axis=1)", lambda: np.stack([X, -X], axis=1)),
    ("np.hstack([x, -x])", lambda: np.hstack([X, -X])),
    ("np.vstack([x, -x])", lambda: np.vstack([X, -X])),
    ("np.dstack([x, -x])", lambda: np.dstack([X, -X])),
    ("np.column_stack([x, -x])", lambda: np.column_stack([X, -X])),
    ("np.array([x, -x])", lambda: np.array([X, -X])),
    ("np.append(x, -x)", lambda: np.append(X, -X)),
    ("torch.diag(-x)", lambda: torch.diag(-T(X)).numpy()),
    ("np.diag(-x, 1)", lambda: np.diag(-X, 1)),
    ("np.diagflat(-x)", lambda: np.diagflat(-X)),
    ("torch.diag_embed(-x)", lambda: torch.diag_embed(-T(X)).numpy()),
    ("torch.block_diag(-A, A, x)", lambda: torch.block_diag(-T(A), T(A), T(X)).numpy()),
    ("torch.tril(-A)", lambda: torch.tril(-T(A)).numpy()),
    ("np.triu(-A, 1)", lambda: np.triu(-A, 1)),
    ("np.pad(-x, 1, constant_values=3)", lambda: np.pad(-X, 1, constant_values=3)),
    ("torch.cartesian_prod(-x, x)", lambda: torch.cartesian_prod(-T(X), T(X)).numpy()),
]


@pytest.mark.parametrize("expr,want", NEG_ZERO, ids=[c[0] for c in NEG_ZERO])
def test_assembly_keeps_the_sign_of_zero(expr, want):
    assert same_bits(api.evaluate(expr, {"x": X, "A": A}), want()), expr
    compiled = api.compile(expr, {"x": X, "A": A})  # a repeated call's compiled kernel agrees
    env = {"x": X, "A": A}
    for _ in range(3):
        assert same_bits(compiled.value(env), want()), expr


@pytest.mark.parametrize("expr,fn", [
    ("torch.cat([x, -x * y])", lambda x, y: torch.cat([x, -x * y])),
    ("torch.stack([x, y, x * y], 1)", lambda x, y: torch.stack([x, y, x * y], 1)),
    ("torch.block_diag(x, y ** 2)", lambda x, y: torch.block_diag(x, y ** 2)),
    ("torch.diag(x * y, -1)", lambda x, y: torch.diag(x * y, -1)),
    ("F.pad(x * y, (1, 2), value=2.0)", lambda x, y: F.pad(x * y, (1, 2), value=2.0)),
])
def test_assembly_derivatives_still_match_pytorch(expr, fn):
    assert_parity(expr, {"x": X, "y": np.array([1.0, -0.0, 2.0, 3.0])}, fn)


def test_the_cli_prints_minus_zero_of_a_cat():
    out = json.loads(runner.invoke(app, ["eval", "torch.cat([x, -x])", "x=[0,1,2]", "--json"]).stdout)
    assert json.dumps(out["output"]["value"]) == "[0.0, 1.0, 2.0, -0.0, -1.0, -2.0]"
    assert out["jacobian"]["x"]["structure"] == "sparse" and out["jacobian"]["x"]["nnz"] == 6


# --- a final tuple of constants: several outputs, as any final tuple -----------------------------------

@pytest.mark.parametrize("expr,values", [("(1, 2)", [1.0, 2.0]), ("torch.tensor(1.), torch.tensor(2.)", [1.0, 2.0]),
                                         ("x.sum(), 2", [1.5, 2.0]), ("a = 2; a, 3", [2.0, 3.0])])
def test_a_final_tuple_of_constants_is_several_outputs(expr, values):
    out = json.loads(runner.invoke(app, ["eval", expr, "x=[0.5, 1]", "--json"]).stdout)
    assert "output" not in out and [o["value"] for o in out["outputs"]] == values
    assert all(j["x"]["structure"] == "zero" for name, j in out["jacobians"].items() if name != "y0" or "x" not in expr)


def test_a_binding_value_that_is_a_tuple_is_still_a_vector():
    out = json.loads(runner.invoke(app, ["eval", "x * 2", "x=1,2", "--json"]).stdout)
    assert out["output"]["value"] == [2.0, 4.0]


# --- np.histogram of NaN: refused where NumPy raises -------------------------------------------------

def test_histogram_of_nan_exits_2_with_numpy_s_reason():
    out = runner.invoke(app, ["eval", "np.histogram(x, 3)[0]", "x=[1, nan, 2]", "--json"])
    assert out.exit_code == 2
    error = json.loads(out.stdout)["error"]
    assert error["kind"] == "value" and "autodetected range of [nan, nan] is not finite" in error["message"]
    out = runner.invoke(app, ["eval", "np.histogram(x, 3, range=(0, 3))[0]", "x=[1, nan, 2]", "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["output"]["value"] == [0.0, 1.0, 1.0]


# --- the nonzero family and where(condition): indices read off the values, usable as an index --------

V = np.array([0.0, 1.5, -2.0, 0.0, 3.0])
M = np.array([[1.0, 0.0, -2.0], [0.0, 0.0, 4.0]])


def indices(found):
    return [np.asarray(f).astype(np.int64) for f in (found if isinstance(found, tuple) else (found,))]


@pytest.mark.parametrize("expr,want", [
    ("torch.nonzero(M)", lambda: torch.nonzero(T(M)).numpy()),
    ("torch.nonzero(M > 0)", lambda: torch.nonzero(T(M) > 0).numpy()),
    ("torch.argwhere(v)", lambda: torch.argwhere(T(V)).numpy()),
    ("np.argwhere(M < 0)", lambda: np.argwhere(M < 0)),
    ("np.flatnonzero(M)", lambda: np.flatnonzero(M)),
    ("torch.nonzero(v > 9)", lambda: torch.nonzero(T(V) > 9).numpy()),
    ("np.nonzero(M)[1]", lambda: np.nonzero(M)[1]),
    ("torch.nonzero(M, as_tuple=True)[0]", lambda: torch.nonzero(T(M), as_tuple=True)[0].numpy()),
    ("np.where(M != 0)[0]", lambda: np.where(M != 0)[0]),
    ("torch.where(v > 0)[0]", lambda: torch.where(T(V) > 0)[0].numpy()),
])
def test_nonzero_family_values(expr, want):
    got = api.evaluate(expr, {"v": V, "M": M})
    expected = np.asarray(want())
    assert got.shape == expected.shape and np.array_equal(got, expected), expr


@pytest.mark.parametrize("expr,fn", [
    ("x[torch.nonzero(x > 0, as_tuple=True)] * 2", lambda x: x[torch.nonzero(x > 0, as_tuple=True)] * 2),
    ("x[torch.where(x < 0)] ** 2", lambda x: x[torch.where(x < 0)] ** 2),
    ("x[np.nonzero(x)].sum()", lambda x: x[torch.nonzero(x, as_tuple=True)].sum()),
])
def test_nonzero_as_an_index_is_differentiable(expr, fn):
    assert_parity(expr, {"x": V}, fn)


def test_nonzero_graphs_hold_for_their_values_only():
    for v in (V, -V, np.zeros(5)):  # the same expression, shapes of the result change with the values
        got = api.evaluate("torch.nonzero(x > 0)", {"x": v})
        assert np.array_equal(got, torch.nonzero(T(v) > 0).numpy())
    out = runner.invoke(app, ["shape", "torch.nonzero(x > 0)", "x:3"])
    assert out.exit_code == 2 and "nonzero of an array computed from the inputs" in out.output


@pytest.mark.parametrize("expr,message", [
    ("x.nonzero()", "means different things in PyTorch and NumPy"),
    ("nonzero(x)", "means different things"),
    ("np.nonzero(x.sum())", "0-d array"),
    ("torch.nonzero(x, bogus=1)", "no argument 'bogus'"),
    ("np.where(x > 0, bogus=1)", "no argument 'bogus'"),
])
def test_nonzero_refusals(expr, message):
    with pytest.raises(JacError, match=message):
        api.evaluate(expr, {"x": V})


# --- unique: values of a constant (or detached) array; refused where an input flows in ----------------

C = np.array([3.0, 1.0, np.nan, 3.0, -0.0, 0.0, np.nan, 2.0])


@pytest.mark.parametrize("expr,want", [
    ("np.unique(c)", lambda: np.unique(C)),
    ("np.unique(c, return_counts=True)[1]", lambda: np.unique(C, return_counts=True)[1]),
    ("np.unique(c, return_index=True)[1]", lambda: np.unique(C, return_index=True)[1]),
    ("np.unique(c, return_inverse=True)[1]", lambda: np.unique(C, return_inverse=True)[1]),
    ("np.unique(c.reshape(2, 4), return_inverse=True)[1]", lambda: np.unique(C.reshape(2, 4), return_inverse=True)[1]),
    ("torch.unique(c)", lambda: torch.unique(T(C)).numpy()),
    ("torch.unique(c, return_counts=True)[1]", lambda: torch.unique(T(C), return_counts=True)[1].numpy()),
    ("torch.unique(c.reshape(2, 4), return_inverse=True)[1]",
     lambda: torch.unique(T(C).reshape(2, 4), return_inverse=True)[1].numpy()),
])
def test_unique_values_are_the_library_s(expr, want):
    # c as a constant of the expression (a binding would be an input, whose derivative unique refuses)
    constant = "np.array(" + repr(C.tolist()).replace("nan", "np.nan").replace("-0.0", "-0.") + ")"
    assert same_bits(api.evaluate(re.sub(r"\bc\b", constant, expr), {}), want()), expr


def test_unique_refuses_an_input_it_would_differentiate_and_takes_it_detached():
    with pytest.raises(JacError, match="unique of an array that depends on the input 'x'.*detach"):
        api.evaluate("np.unique(x * 2)", {"x": V})
    assert same_bits(api.evaluate("torch.unique(x.detach())", {"x": V}), torch.unique(T(V)).numpy())
    for expr, message in [("np.unique(c, axis=0)", "unique rows or columns of an array"),
                          ("torch.unique(c, sorted=False)", "sorted=False"),
                          ("np.unique(c, equal_nan=False)", "equal_nan=False"),
                          ("torch.unique(c, return_index=True)", "no argument 'return_index'")]:
        with pytest.raises(JacError, match=message):
            api.evaluate(re.sub(r"\bc\b", "np.array([1., 2.])", expr), {})


# --- empty, nanargmax, resize, divmod, modf, block, nested lists, pinv's cutoffs -----------------------

def test_empty_is_nan_until_written():
    assert np.isnan(api.evaluate("torch.empty(2, 3)", {})).all() and api.evaluate("np.empty((2, 3))", {}).shape == (2, 3)
    assert np.isnan(api.evaluate("np.empty_like(x)", {"x": V})).all()
    written = "y = torch.empty(5); y[0] = x[0]; y[1:] = x[1:] * 2; y"
    assert same_bits(api.evaluate(written, {"x": V}), np.concatenate([V[:1], V[1:] * 2]))
    np.testing.assert_array_equal(api.jacobian(written, {"x": V})["x"], np.diag([1.0, 2, 2, 2, 2]))
    with pytest.raises(JacError, match="no argument 'bogus'"):
        api.evaluate("torch.empty_like(x, bogus=1)", {"x": V})


@pytest.mark.parametrize("expr,want", [
    ("np.nanargmax(a)", lambda a: np.nanargmax(a)), ("np.nanargmin(a)", lambda a: np.nanargmin(a)),
    ("np.nanargmax(m, axis=1)", lambda a: np.nanargmax(a.reshape(2, 3), axis=1)),
    ("np.nanargmin(m, 0, keepdims=True)", lambda a: np.nanargmin(a.reshape(2, 3), 0, keepdims=True)),
])
@pytest.mark.parametrize("a", [np.array([np.nan, 2.0, -1.0, 5.0, np.nan, 5.0]),
                               np.array([np.nan, -np.inf, np.inf, 2.0, -np.inf, np.nan])])
def test_nanargmax_is_numpy_s(expr, want, a):
    assert same_bits(api.evaluate(expr, {"a": a, "m": a.reshape(2, 3)}), want(a).astype(float)), expr


def test_nanargmax_of_an_all_nan_slice_is_refused_as_numpy_raises():
    with pytest.raises(ValueError, match="All-NaN"):
        np.nanargmax(np.array([[1.0, np.nan], [np.nan, np.nan]]), axis=1)
    with pytest.raises(JacError, match="all-NaN slice"):
        api.evaluate("np.nanargmax(m, axis=1)", {"m": np.array([[1.0, np.nan], [np.nan, np.nan]])})
    assert api.evaluate("np.nanargmax(m, axis=0)", {"m": np.array([[1.0, np.nan], [np.nan, 2.0]])}).tolist() == [0, 1]


@pytest.mark.parametrize("expr,fn", [
    ("np.resize(x, (2, 3))", lambda x: np.resize(x, (2, 3))),
    ("np.resize(x, 12)", lambda x: np.resize(x, 12)),
    ("np.divmod(x, 1.5)[0]", lambda x: np.divmod(x, 1.5)[0]),
    ("np.divmod(x, -1.5)[1]", lambda x: np.divmod(x, -1.5)[1]),
    ("np.modf(x)[0]", lambda x: np.modf(x)[0]),
    ("np.modf(x)[1]", lambda x: np.modf(x)[1]),
    ("np.block([[x[:2], x[2:4]], [x[1:3], x[2:]]])", lambda x: np.block([[x[:2], x[2:4]], [x[1:3], x[2:]]])),
    ("np.block([x, 1.0])", lambda x: np.block([x, 1.0])),
    ("np.array([[x[:2], x[2:4]], [x[1:3], x[2:]]])", lambda x: np.array([[x[:2], x[2:4]], [x[1:3], x[2:]]])),
])
def test_numpy_values_bit_for_bit(expr, fn):
    x = np.array([-1.0, -0.0, 2.5, 3.0, np.inf])[:4] if "block" in expr or "array" in expr else \
        np.array([-1.0, -0.0, 2.5, -3.5, np.inf, np.nan, 0.0])
    with np.errstate(all="ignore"):
        assert same_bits(api.evaluate(expr, {"x": x}), fn(x)), expr


@pytest.mark.parametrize("expr,fn", [
    ("np.modf(x)[0] * x", lambda x: torch.frac(x) * x),
    ("np.divmod(x, 0.7)[1]", lambda x: torch.remainder(x, 0.7)),
    ("np.resize(x, 7) ** 2", lambda x: torch.cat([x, x[:3]]) ** 2),
    ("np.block([[x, x], [x, -x]])", lambda x: torch.stack([torch.cat([x, x]), torch.cat([x, -x])])),
])
def test_derivatives_match_pytorch(expr, fn):
    assert_parity(expr, {"x": np.array([0.3, -1.2, 2.6, 1.1])}, fn)


PINV = np.array([[1.0, 2.0], [2.0, 4.1], [0.5, -1.0]])


@pytest.mark.parametrize("expr,fn", [
    ("np.linalg.pinv(A, rcond=1e-8)", lambda A: torch.linalg.pinv(A, rtol=1e-8)),
    ("np.linalg.pinv(A, rtol=None)", lambda A: torch.linalg.pinv(A)),
    ("torch.linalg.pinv(A, atol=1e-3)", lambda A: torch.linalg.pinv(A, atol=1e-3)),
    ("torch.linalg.pinv(A, rtol=1e-3, hermitian=False)", lambda A: torch.linalg.pinv(A, rtol=1e-3)),
    ("torch.pinverse(A, rcond=1e-10)", lambda A: torch.pinverse(A, rcond=1e-10)),
])
def test_pinv_cutoffs_below_every_singular_value_match_pytorch(expr, fn):
    assert_parity(expr, {"A": PINV}, fn, rtol=1e-7, atol=1e-9)
    assert_parity(expr, {"A": PINV.T.copy()}, fn, rtol=1e-7, atol=1e-9)  # wide too


@pytest.mark.parametrize("expr", ["np.linalg.pinv(A, rcond=0.5)", "torch.linalg.pinv(A, atol=2.0)",
                                  "torch.linalg.pinv(A, rtol=0.5)", "torch.pinverse(A, rcond=0.5)"])
def test_pinv_refuses_a_cutoff_that_zeroes_a_singular_value(expr):
    s = np.linalg.svd(PINV, compute_uv=False)
    assert s[-1] < 0.5 * s[0] and s[-1] < 2.0  # the libraries would drop the smaller one
    with pytest.raises(JacError, match="at or below the cutoff"):
        api.evaluate(expr, {"A": PINV})
    with pytest.raises(JacError, match="can't be both set"):
        api.evaluate("np.linalg.pinv(A, rcond=1e-3, rtol=1e-3)", {"A": PINV})
