"""Session 38: symbolic derivatives are right.

``jac diff --at`` and ``jac eval --symbolic`` compare a formula's values with autodiff's entry by entry (a wrong
small entry beside a large one is caught, where one tolerance scaled by the largest entry let it through); right
formulas at badly scaled or badly conditioned points still hold; at a kink, the value shown is the documented
choice (docs/expressions.md), as ``jac eval`` gives it and as PyTorch does. ``benchmarks/symcheck38_fuzz.py``
checks every op and random compositions the same way.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from jacobi_cli.tools import api, symbolic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

NOT_HOLD = "does not hold"


def _old_rule(a, b):
    """--at's check before session 38: one tolerance, scaled by the largest entry."""
    scale = float(np.max(np.abs(b)))
    return bool(np.allclose(a, b, rtol=1e-7, atol=1e-7 * scale))


def _perturb_small_entry(monkeypatch, factor=1.5):
    """Make the component formulas' values wrong in their smallest nonzero entry (a wrong formula's effect)."""
    original = symbolic.evaluate_components

    def wrong(arr, leaves, point):
        out = np.array(original(arr, leaves, point), dtype=np.float64)
        if out.ndim == 2:
            nonzero = np.abs(out) > 0
            k = np.unravel_index(np.argmin(np.where(nonzero, np.abs(out), np.inf)), out.shape)
            out[k] *= factor
        return out

    monkeypatch.setattr(symbolic, "evaluate_components", wrong)


def test_a_wrong_small_entry_beside_a_large_one_is_caught_at_the_point(monkeypatch):
    y = [1e6, 1e-3]
    right = api.jacobian("x * y", {"x": [1.0, 2.0], "y": y})["x"]
    wrong = right.copy()
    wrong[1, 1] *= 1.5
    assert _old_rule(wrong, right)  # the old check let this through: 1.5e-3 for 1e-3 beside 1e6
    _perturb_small_entry(monkeypatch)
    d = api.diff("x * y", [f"x=[1.0, 2.0]", f"y={y}"], wrt=["x"])["x"]
    assert NOT_HOLD in (d.note or "")
    np.testing.assert_array_equal(d.value, right)  # jac eval's number is shown, not the wrong one


def test_a_wrong_jacobian_of_small_entries_is_caught(monkeypatch):
    """Before session 38 the tolerance was 1e-7 absolute at least (the scale counted as 1 below 1): a Jacobian of
    entries near 1e-9 could be wrong by half and be shown."""
    right = np.diag([1e-9, 2e-9])
    wrong = right.copy()
    wrong[0, 0] *= 1.5
    assert np.allclose(wrong, right, rtol=1e-7, atol=1e-7 * max(np.max(np.abs(right)), 1.0))  # the old rule
    _perturb_small_entry(monkeypatch)
    d = api.diff("x * y", ["x=[1.0, 2.0]", "y=[1e-9, 2e-9]"], wrt=["x"])["x"]
    assert NOT_HOLD in (d.note or "")
    np.testing.assert_array_equal(d.value, right)


def test_without_the_perturbation_the_same_formula_holds_and_its_value_is_shown():
    d = api.diff("x * y", ["x=[1.0, 2.0]", "y=[1e6, 1e-3]"], wrt=["x"])["x"]
    assert d.note is None
    np.testing.assert_array_equal(d.value, np.diag([1e6, 1e-3]))


def test_a_wrong_small_entry_of_a_matrix_form_is_caught(monkeypatch):
    # a matrix form's value at --at comes from evaluate_matrix_form: its smallest nonzero entry made wrong by 1e-9 of
    # the largest (10 times the entry), at the --at point only (the forms' own check at a random point stays right)
    original = symbolic.evaluate_matrix_form

    def wrong(expr, leaves, point, sizes, shape):
        out = np.array(original(expr, leaves, point, sizes, shape), dtype=np.float64)
        if np.asarray(point["A"])[0, 0] == 1e4:
            k = np.unravel_index(np.argmin(np.where(out != 0, np.abs(out), np.inf)), out.shape)
            out[k] += 1e-9 * np.max(np.abs(out))
        return out

    monkeypatch.setattr(symbolic, "evaluate_matrix_form", wrong)
    A = [[1e4, 1.0, 0.0], [0.0, 1.0, 1e-4], [2.0, 0.0, 3.0]]
    at = [f"A={A}", "x=[1.0, 1e-3, 2.0]"]
    d = api.diff("A @ x", ["A:nxn", "x:n"], wrt=["x"], at=at)["x"]
    assert d.form == "matrix"
    right = np.array(A)
    shown_before = right.copy()
    shown_before[1, 2] += 1e-9 * 1e4  # 1.1e-4 for 1e-4: what the old rule showed
    assert _old_rule(shown_before, right)
    assert NOT_HOLD in (d.note or "")
    np.testing.assert_array_equal(d.value, right)


@pytest.mark.parametrize("text,bindings", [
    ("x * y", ["x=[1.0, 2.0]", "y=[1e6, 1e-3]"]),
    ("exp(exp(x))", ["x=[3.0, -3.0, 0.1]"]),
    ("softmax(x)", ["x=[10.0, -10.0, 0.5]"]),
    ("prod(x)", ["x=[1e-5, 1e5, 3.0]"]),
    ("sum(x ** 10)", ["x=[3.0, 0.01, -2.0]"]),
    ("logsumexp(x)", ["x=[30.0, -30.0, 0.0]"]),
    ("det(A)", ["A=[[4.0, 1.0, 0.5, 0.0], [1.0, 3.0, 0.0, 0.2], [0.5, 0.0, 2.0, 1.0], [0.0, 0.2, 1.0, 1e-3]]"]),
    ("inv(A)", ["A=[[1.0, 1e3], [0.0, 1.0]]"]),
    ("sum(tanh(A @ x))", ["A=[[0.3, -1.2, 0.7], [1.0, 2.0, 3.0]]", "x=[1.0, 2.0, 3.0]"]),
    ("x @ A @ x", ["x=[1.0, 1e-4, 2.0]", "A=[[1.0, 2.0, 0.0], [0.0, 1e3, 1.0], [1.0, 0.0, 1e-3]]"]),
    ("(x - 1.0) ** 3", ["x=[1.0000001, 2.0]"]),
    ("sin(x) * 1e8 + x", ["x=[3.141592653589793, 1.0]"]),
    # the formula is exact (2.81658844e-14); autodiff's 1 - tanh² rounds at 1e-16 absolute: 4e-4 of the entry
    ("sinh(tanh(sigmoid(tanh(s))))", ["s=-15.461531143502635"]),
])
def test_right_formulas_hold_at_badly_scaled_points(text, bindings):
    """The per-entry check raises no false alarm where the scales differ by ten orders or the evaluation
    cancels: each value shown is the formula's, and it is jac eval's."""
    values = {b.split("=", 1)[0]: np.array(eval(b.split("=", 1)[1])) for b in bindings}  # noqa: S307 (literals)
    automatic = api.jacobian(text, values)
    for name, d in api.diff(text, bindings).items():
        assert d.note is None, (text, name, d.note)
        # sech²(14) = 1 - tanh²(14) ≈ 2.8e-12 beside 3: both ways of computing it round at 1e-16 absolute
        np.testing.assert_allclose(d.value, automatic[name], rtol=1e-7, atol=1e-12 * max(np.max(np.abs(automatic[name])), 1))


def test_entries_agree_is_per_entry():
    numbers = np.array([1e6, 1e-3])
    assert symbolic.entries_agree(numbers * (1 + 1e-9), numbers, 1e-7, 0.0).all()
    got = numbers.copy()
    got[1] *= 1.5
    assert symbolic.entries_agree(got, numbers, 1e-7, 0.0).tolist() == [True, False]
    assert not symbolic.agrees_at(got, numbers, 1e-7, np.finfo(float).eps, lambda: numbers)
    assert symbolic.agrees_at(numbers, numbers, 1e-7, np.finfo(float).eps, None)


def test_the_condition_widens_the_floor_only_as_far_as_the_old_one():
    numbers = np.array([1.0, 1e-9])
    got = numbers + np.array([0.0, 5e-9])  # wrong by 5e-9 absolute: 5 times the small entry
    eps = float(np.finfo(float).eps)
    assert not symbolic.agrees_at(got, numbers, 1e-7, eps, lambda: numbers * (1 + 1e-8))  # well conditioned
    # an evaluation that moves by the whole scale under a step of 1.5e-8: the condition is ~7e7, the floor the old one
    assert symbolic.agrees_at(got, numbers, 1e-7, eps, lambda: numbers + 1.0)
    assert symbolic.condition(numbers, lambda: numbers) == 1.0
    assert symbolic.condition(numbers, None) == float("inf")


def test_eval_symbolic_notes_a_wrong_small_entry():
    """jac eval --symbolic: the formula beside numbers that differ from it in a small entry gets the note."""
    from jacobi_cli.lang.parser import parse

    text, point = "x * y", {"x": np.array([1.0, 2.0]), "y": np.array([1e6, 1e-3])}
    graph = parse(text, {k: v.shape for k, v in point.items()})
    y, per_input = symbolic.eval_formulas(graph, ["x"])
    formulas = {"": y, "x": per_input["x"]}
    right = api.jacobian(text, point)["x"]
    numbers = {"": point["x"] * point["y"], "x": right}
    key = "x"
    assert key not in symbolic.formula_notes(graph, point, numbers, formulas)
    wrong = right.copy()
    wrong[1, 1] *= 1.5
    notes = symbolic.formula_notes(graph, point, {**numbers, key: wrong}, formulas)
    assert notes[key] == symbolic.AT_VALUES_NOTE


# --- kinks: the documented convention in the symbolic output as in the numeric ---------------------

KINKS = [
    ("abs(x)", {"x": [0.0, 1.0, -2.0]}, lambda t, x: t.abs(x)),
    ("relu(x)", {"x": [0.0, 1.0, -2.0]}, lambda t, x: t.relu(x)),
    ("maximum(x, y)", {"x": [1.0, 2.0, 0.5], "y": [1.0, 3.0, 0.0]}, lambda t, x, y: t.maximum(x, y)),
    ("minimum(x, y)", {"x": [1.0, 2.0, 0.5], "y": [1.0, 3.0, 0.0]}, lambda t, x, y: t.minimum(x, y)),
    ("max(x)", {"x": [2.0, 2.0, 1.0]}, lambda t, x: t.amax(x)),
    ("min(x)", {"x": [1.0, 1.0, 3.0]}, lambda t, x: t.amin(x)),
    ("clip(x, -0.5, 0.5)", {"x": [-0.5, 0.5, 0.0]}, lambda t, x: t.clamp(x, -0.5, 0.5)),
    ("sum(sign(x) * x)", {"x": [0.0, 1.0, -2.0]}, lambda t, x: (t.sign(x) * x).sum()),
    ("norm(x)", {"x": [0.0, 0.0, 0.0]}, lambda t, x: t.linalg.vector_norm(x)),
    ("x ** y", {"x": [0.0, 2.0, 0.0], "y": [0.0, 0.0, 2.0]}, lambda t, x, y: x ** y),
]


@pytest.mark.parametrize("text,point,torch_fn", KINKS, ids=[k[0] for k in KINKS])
def test_at_a_kink_jac_diff_shows_the_documented_choice(text, point, torch_fn):
    torch = pytest.importorskip("torch")
    values = {k: np.array(v) for k, v in point.items()}
    automatic = api.jacobian(text, values)
    args = [torch.tensor(v, dtype=torch.float64) for v in values.values()]
    expected = torch.autograd.functional.jacobian(lambda *a: torch_fn(torch, *a), tuple(args))
    for (name, d), want in zip(api.diff(text, [f"{k}={v}" for k, v in point.items()]).items(), expected):
        np.testing.assert_array_equal(d.value, automatic[name])
        np.testing.assert_allclose(d.value, want.numpy(), rtol=0, atol=0)


def test_floor_is_refused_not_differentiated_symbolically():
    from jacobi_cli.errors import JacError

    with pytest.raises(JacError, match="floor"):
        api.diff("floor(x) + x", ["x=[1.0, 0.5]"])


# --- the fuzz's own machinery: it finds a wrong formula and passes right ones --------------------

def test_the_fuzz_calls_a_wrong_formula_wrong(monkeypatch):
    import symcheck38_fuzz as fuzz

    assert fuzz.text_case("sum(sin(x)) * s", 1)[0][2] == "AGREE"
    _perturb_small_entry(monkeypatch, 1.01)
    verdicts = {v[0]: v[2] for v in fuzz.text_case("x * exp(y)", 3)}
    assert verdicts["x"] == "WRONG"


def test_the_fuzz_evaluates_components_without_jac():
    import symcheck38_fuzz as fuzz
    import sympy as sp

    t = sp.Symbol("x[0]", real=True)
    got = fuzz.sympy_components(np.array([3 * t ** 2 * sp.exp(t ** 3 + sp.exp(t ** 3)) / (sp.exp(sp.exp(t ** 3)) + 1)],
                                         dtype=object), {"x": np.array([3.940784020539519])})
    a = 3.940784020539519
    np.testing.assert_allclose(got, [3 * a ** 2 * np.exp(a ** 3)], rtol=1e-14)  # sigmoid(e^61) is 1
