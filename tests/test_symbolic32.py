"""Session 32: the symbolic derivative at kinks and ties takes the numeric rule's one-sided choice
(``benchmarks/symbolic32_probe.py`` found the cases).

Each case is evaluated two ways: ``jac eval --symbolic``'s formulas (components) at the point, and ``jac diff``
at the point (``--at``), which must show the formula's own value with no note that it does not hold there.
"""

import pickle

import numpy as np
import pytest

from jacobi_cli.lang.parser import parse
from jacobi_cli.tools import api, symbolic

# (expression, point): every point sits on a kink or a tie of the expression
KINKS = [
    ("torch.relu(x)", {"x": [0.0, 1.0, -1.0]}),  # relu'(0) = 0, SymPy's Heaviside(0) was 1/2
    ("F.hardtanh(x)", {"x": [-1.0, 1.0, 0.0]}),  # 0 at both corners (PyTorch)
    ("F.hardtanh(x, -0.5, 0.5)", {"x": [-0.5, 0.5, 0.0]}),
    ("F.hardsigmoid(x)", {"x": [-3.0, 3.0, 0.0]}),  # 0 at -3 and 3
    ("F.hardswish(x)", {"x": [-3.0, 3.0, 0.0]}),  # 0 at -3, 1 at 3
    ("torch.clamp(x, -0.5, 0.5)", {"x": [-0.5, 0.5, 0.0]}),  # 1 at both bounds
    ("np.clip(x, y, z)", {"x": [0.5, -1.0, 0.2], "y": [0.5, -1.0, 0.0], "z": [0.6, 0.0, 0.2]}),  # the bounds get 0
    ("np.fmax(x, y)", {"x": [0.5, 0.0], "y": [0.5, 0.0]}),  # a tie: the first argument's
    ("np.fmin(x, y)", {"x": [0.5, 0.0], "y": [0.5, 0.0]}),
    ("torch.maximum(x, 0.1 * torch.ones(2))", {"x": [0.1, 0.3]}),  # 0.1 a tie of doubles: 1/2 each, not 1
    ("jnp.maximum(x, 0.1) * 1.5", {"x": [0.1, 1.0]}),
    ("torch.special.logit(x, eps=0.1)", {"x": [0.1, 0.9]}),  # x = 0.9 is the bound 9/10, not above it
    ("torch.special.xlogy(x, y)", {"x": [0.0, 1.0], "y": [2.0, 2.0]}),  # d/dx at x = 0 is log(y)
    ("torch.special.xlog1py(x, y)", {"x": [0.0, 1.0], "y": [2.0, 2.0]}),  # log1p(y)
]


def _values(point):
    return {n: np.asarray(v, dtype=np.float64) for n, v in point.items()}


@pytest.mark.parametrize("expr,point", KINKS, ids=[e for e, _ in KINKS])
def test_eval_symbolic_formulas_take_the_numeric_rules_side(expr, point):
    point = _values(point)
    graph = parse(expr, {n: v.shape for n, v in point.items()}).with_wrt(list(point))
    _, formulas = symbolic.with_deep_stack(lambda: symbolic.eval_formulas(graph, list(point)))
    _, leaves = symbolic.translate(graph, as_components=True)
    numeric = api.jacobian(expr, point)
    for name in point:
        got = symbolic.evaluate_components(np.asarray(formulas[name].tolist(), dtype=object), leaves, point)
        np.testing.assert_allclose(got, numeric[name], rtol=1e-12, atol=1e-12, err_msg=f"{expr} by {name}")


@pytest.mark.parametrize("expr,point", KINKS, ids=[e for e, _ in KINKS])
def test_jac_diff_at_the_kink_holds_without_a_note(expr, point):
    point = _values(point)
    bindings = [f"{n}:{'x'.join(str(s) for s in v.shape)}" for n, v in point.items()]
    result = symbolic.differentiate(expr, bindings, at=point)
    numeric = api.jacobian(expr, point)
    for name, d in result.derivatives.items():
        assert d.note is None, (expr, name, d.note)
        np.testing.assert_allclose(d.value, numeric[name], rtol=1e-12, atol=1e-12)


def test_tied_max_prints_as_max_and_survives_pickling():
    """jac diff's child pickles its result back: the tie-aware Max / Min classes are found by name."""
    sp = symbolic._sp()
    x = sp.Symbol("x", real=True)
    e = symbolic.tied(x, 0, (0, 0))
    assert symbolic.text(e) == "Max(x, 0)"
    back = pickle.loads(pickle.dumps(e.diff(x)))
    assert back == e.diff(x) and back.subs(x, 0) == 0
    low = symbolic.tied(x, sp.Rational(1, 2), (1, 0), largest=False)
    assert pickle.loads(pickle.dumps(low)) == low
    assert low.subs(x, 0.25) == 0.25 and low.diff(x).subs(x, sp.Rational(1, 2)) == 1


def test_a_short_value_at_a_tie_is_the_constant_it_equals():
    """evaluate_components reads 0.1 as 1/10, as the expression's constants are: the tie is kept."""
    sp = symbolic._sp()
    x = sp.Symbol("x", real=True)
    got = symbolic.evaluate_components(np.array([sp.Heaviside(x - sp.Rational(1, 10))], dtype=object),
                                       {"x": np.array([x], dtype=object)}, {"x": np.array([0.1])})
    assert got[0] == 0.5


@pytest.mark.parametrize("expr,bindings,at", [
    ("relu(x)", ["x:n"], {"x": [0.0, 1.0, -1.0]}),
    ("sum(relu(A @ x))", ["x:n", "A:mxn"], {"x": [0.0, 1.0], "A": [[1.0, 0.0], [1.0, -1.0]]}),
])
def test_the_matrix_form_keeps_the_step_at_zero(expr, bindings, at):
    """SymPy's matrix derivative of relu.(x) applied Heaviside's class alone: Heaviside(t, 0) became
    Heaviside(t), 1/2 at 0, and jac diff --at had to show jac eval's value with a note."""
    point = _values(at)
    result = symbolic.differentiate(expr, bindings, at=point)
    numeric = api.jacobian(expr, point)
    for name, d in result.derivatives.items():
        assert d.form == "matrix" and "Heaviside(t, 0)" in symbolic.text(d.expr), symbolic.text(d.expr)
        assert d.note is None, d.note
        np.testing.assert_allclose(d.value, numeric[name], rtol=1e-12, atol=1e-12)
    step = pickle.loads(pickle.dumps(symbolic._step(0)(symbolic._sp().Symbol("t"))))
    assert step.args[1] == 0 and step.subs("t", 0) == 0
