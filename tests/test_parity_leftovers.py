"""Silently wrong leftovers and everyday spellings that were refused (hrefuse8): the sign of -0 through
the assembly ops, a final tuple of constants, np.histogram of NaN, and the lowerings of the later parts,
each against NumPy / PyTorch (values bit for bit where the library's are exact)."""

from __future__ import annotations

import json

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
