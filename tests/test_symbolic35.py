"""Session 35: jac diff and jac eval --symbolic on what sessions 33-34 added (benchmarks/symbolic35_probe.py).

- jac eval --symbolic checks each formula at the given values against the numbers it is printed beside, and says
  so where it does not hold there (a tie, a kink, pdist of coincident points), as jac diff --at does;
- a text that reads its values (an if / while test, a mask, lax.cond, squareform's check) gets, beside each
  formula, the note that it is the branch's taken at these values; jac diff refuses such a text;
- jac diff no longer makes inputs of decorators, def / class names and imports (a dataclass, @staticmethod);
- the distributions' value checks (``finite_range``) translate to their value, 0, so their formulas are shown,
  and agree with jac eval and PyTorch; a point outside the support is refused at --at as jac eval refuses it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api, report, symbolic

runner = CliRunner()
TD = "torch.distributions."


def _eval(text, values):
    return report.eval_report(text, values, symbolic=True, timeout=None)


def _formula_at(result, name, values):
    """The formula of ∂y/∂name of an eval --symbolic result, evaluated at the values."""
    problem = api.prepare(result.data["expression"], values)
    leaves = {n: symbolic.component_symbols(n, np.shape(v)) for n, v in problem.env.items()}
    f = result.formulas[name]
    arr = np.asarray(f.tolist() if hasattr(f, "tolist") else f, dtype=object)
    return symbolic.evaluate_components(arr.reshape(result.data["jacobian"][name]["shape"]), leaves, problem.env)


# --- eval --symbolic: a formula checked at the values it is printed beside ---------------------------------------

@pytest.mark.parametrize("text, values", [
    ("scipy.spatial.distance.pdist(X)", {"X": "[[0.0, 1.0], [0.0, 1.0], [1.0, 3.0]]"}),  # sqrt at 0: 0/0
    ("scipy.spatial.distance.cdist(X, Y)", {"X": "[[0.0, 1.0], [2.0, 0.5]]", "Y": "[[0.0, 1.0], [0.5, 0.5]]"}),
    ("torch.max(x)", {"x": "[1.0, 1.0, 1.0]"}),  # θ(x[i] - max(others)) is 1/2, PyTorch splits 1/3
    ("np.sqrt(x)", {"x": "[0.0, 1.0]"}),
])
def test_a_formula_that_does_not_hold_at_the_values_says_so(text, values):
    result = _eval(text, values)
    name = next(iter(result.data["jacobian"]))
    block = result.data["jacobian"][name]
    numbers = np.asarray(block["value"], dtype=np.float64)
    assert not np.allclose(_formula_at(result, name, values), numbers, equal_nan=True)
    assert "does not hold at these values" in block["note"]
    assert block["expr"] is not None  # the formula is still shown, with its note


@pytest.mark.parametrize("text, values", [
    ("scipy.spatial.distance.pdist(X)", {"X": "[[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]]"}),
    ("torch.max(x)", {"x": "[1.0, 1.0, 0.5]"}),  # two tied: 1/2 each, as PyTorch
    ("torch.relu(x)", {"x": "[0.0, 1.0, -1.0]"}),  # relu'(0) = 0 in both
    ("np.polynomial.polynomial.polyval(x, c)", {"x": "[0.3, -0.7, 1.2]", "c": "[0.4, 1.3, 2.1]"}),
    ("scipy.linalg.solve(A, b)", {"A": "[[2.0, 1.0], [0.5, 3.0]]", "b": "[0.3, -0.7]"}),
])
def test_a_formula_that_holds_has_no_note(text, values):
    result = _eval(text, values)
    for name, block in result.data["jacobian"].items():
        assert "note" not in block
        np.testing.assert_allclose(_formula_at(result, name, values), block["value"], rtol=1e-10, atol=1e-12)
    assert "note" not in result.data["output"]


# --- texts that read their values --------------------------------------------------------------------------------

BY_VALUE = [
    ("x if x.sum() > 0 else -x", {"x": "[0.3, -0.7, 1.2]"}),
    ("import torch\ndef f(x):\n    if x.sum() > 0:\n        return torch.sin(x)\n    return torch.cos(x)\nf(x)",
     {"x": "[0.3, -0.7, 1.2]"}),
    ("y = x\nwhile y.norm() < 10:\n    y = y * 1.5 + 0.1\ny", {"x": "[0.3, -0.7, 1.2]"}),
    ("x[x > 0].sum()", {"x": "[0.3, -0.7, 1.2]"}),
    ("jax.lax.cond(x.sum() > 0, jnp.sin, jnp.cos, x)", {"x": "[0.3, -0.7, 1.2]"}),
    ("jax.lax.switch(jnp.argmax(x), [jnp.sin, jnp.cos, jnp.tanh], x)", {"x": "[0.3, -0.7, 1.2]"}),
    ("k = int((x > 0).sum())\nx[:k].sum() * x[0]", {"x": "[0.3, -0.7, 1.2]"}),
    ("scipy.spatial.distance.squareform(D)", {"D": "[[0.0, 1.0], [1.0, 0.0]]"}),
]


@pytest.mark.parametrize("text, values", BY_VALUE)
def test_eval_symbolic_of_a_text_reading_its_values_notes_the_branch(text, values):
    result = _eval(text, values)
    assert result.data["warnings"][0]["kind"] == "by_value"
    assert "branch these values take" in result.data["output"]["note"]
    for name, block in result.data["jacobian"].items():
        assert "branch these values take" in block["note"]
        np.testing.assert_allclose(_formula_at(result, name, values), block["value"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text, values", BY_VALUE)
def test_jac_diff_refuses_a_text_reading_its_values(text, values):
    with pytest.raises(JacError) as err:
        symbolic.differentiate(text, values)
    assert "values" in err.value.message


def test_the_branch_note_is_printed_beside_the_formula():
    res = runner.invoke(app, ["eval", "--symbolic", "x if x.sum() > 0 else -x", "x=[1, -3]"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    at = lines.index("  formula:")
    assert lines[at - 1].startswith("  note: the formula of the branch these values take")
    res = runner.invoke(app, ["eval", "--symbolic", "--json", "x if x.sum() > 0 else -x", "x=[1, -3]"])
    data = json.loads(res.stdout)
    assert data["jacobian"]["x"]["expr"] == "[[-1, 0], [0, -1]]"
    assert "branch" in data["jacobian"]["x"]["note"]
    res = runner.invoke(app, ["diff", "x if x.sum() > 0 else -x", "x=[1, -3]"])
    assert res.exit_code == 2 and "jac diff" in res.stderr and "Traceback" not in res.output


def test_an_element_wise_choice_is_no_branch():
    """torch.where / np.maximum choose element by element for any values: the formula (a Piecewise, a Max)
    holds everywhere, with no note, and jac diff gives it."""
    result = _eval("torch.where(x > 0, x ** 2, -x)", {"x": "[0.5, -1.0]"})
    assert "note" not in result.data["jacobian"]["x"] and "warnings" not in result.data
    d = symbolic.differentiate("torch.where(x > 0, x ** 2, -x)", ["x:2"], at=["x=[0.5, -1.0]"])
    np.testing.assert_allclose(d.derivatives["x"].value, [[1.0, 0.0], [0.0, -1.0]])


# --- jac diff: the names a text defines are not inputs ----------------------------------------------------------

DATACLASS = """from dataclasses import dataclass
import numpy as np
@dataclass
class Particle:
    pos: np.ndarray
    vel: np.ndarray
    def step(self, h: float):
        return Particle(self.pos + h * self.vel, self.vel - h * self.pos)
p = Particle(x, v)
for _ in range(3):
    p = p.step(0.1)
p.pos
"""
STATIC = """import scipy.linalg as sla
class A:
    @staticmethod
    def f(v):
        return v * 2
    @property
    def k(self):
        return 3.0
def g(v):
    return v ** 2
a = A()
jax.grad(g)(x) + A.f(x) * a.k + sla.det(x * np.eye(2))
"""


def test_free_names_skip_what_the_text_defines_decorators_and_annotations():
    assert symbolic.free_names(DATACLASS, set()) == ["x", "v"]
    assert symbolic.free_names(STATIC, set()) == ["x"]
    assert symbolic.free_names("def f(t: float) -> float:\n    return t * w\nf(x)", set()) == ["w", "x"]


@pytest.mark.parametrize("text, values", [(DATACLASS, {"x": "[1.0, 2.0]", "v": "[3.0, 4.0]"}),
                                          (STATIC, {"x": "1.5"})])
def test_jac_diff_of_classes_and_functions_agrees_with_jac_eval(text, values):
    result = symbolic.differentiate(text, values)
    assert set(result.derivatives) == set(values)
    numeric = api.jacobian(text, values)
    for name, d in result.derivatives.items():
        assert d.note is None
        np.testing.assert_allclose(d.value, numeric[name], rtol=1e-10)


# --- distributions: the value checks translate ------------------------------------------------------------------

DISTS = [
    (TD + "Normal(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": "[0.3, -0.7, 1.2]"}),
    (TD + "Normal(m, s).cdf(x)", {"m": "0.3", "s": "1.5", "x": "[0.3, -0.7, 1.2]"}),
    (TD + "Gamma(a, b).log_prob(x)", {"a": "2.5", "b": "1.5", "x": "[0.4, 1.3, 2.1]"}),
    (TD + "Beta(a, b).log_prob(x)", {"a": "2.5", "b": "1.5", "x": "[0.2, 0.5, 0.7]"}),
    (TD + "Categorical(logits=l).log_prob(torch.tensor(1))", {"l": "[0.3, -0.7, 1.2]"}),
    (TD + "Categorical(logits=l).entropy()", {"l": "[0.3, -0.7, 1.2]"}),
    (TD + "MultivariateNormal(mu, scale_tril=L).log_prob(x)",
     {"mu": "[0.3, -0.7]", "L": "[[2.0, 0.0], [0.5, 3.0]]", "x": "[0.4, 1.3]"}),
    (TD + "kl_divergence(" + TD + "Normal(m, s), " + TD + "Normal(0.0, 1.0))", {"m": "0.3", "s": "1.5"}),
    (TD + "Laplace(m, s).log_prob(x)", {"m": "0.3", "s": "1.5", "x": "[0.3, 1.0]"}),  # x = m: sign's kink
]


@pytest.mark.parametrize("text, values", DISTS)
def test_distributions_formulas_agree_with_jac_eval(text, values):
    result = symbolic.differentiate(text, values)
    numeric = api.jacobian(text, values)
    for name, d in result.derivatives.items():
        np.testing.assert_allclose(d.value, numeric[name], rtol=1e-10, atol=1e-12)
    ev = _eval(text, values)
    for name, block in ev.data["jacobian"].items():
        if block.get("expr") is None:
            continue
        if "note" in block:  # only at the kink of Laplace's |x - m|, where the formula's sign(0) is not PyTorch's
            assert "does not hold" in block["note"] and "Laplace" in text
        else:
            np.testing.assert_allclose(_formula_at(ev, name, values), block["value"], rtol=1e-10, atol=1e-12)


def test_a_normal_log_prob_formula_is_pytorchs_gradient():
    torch = pytest.importorskip("torch")
    d = symbolic.differentiate(TD + "Normal(m, s).log_prob(x)", ["m:()", "s:()", "x:3"],
                               at=["m=0.3", "s=1.5", "x=[0.3, -0.7, 1.2]"])
    m = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    s = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([0.3, -0.7, 1.2], dtype=torch.float64)
    out = torch.distributions.Normal(m, s).log_prob(x)
    for name, leaf in (("m", m), ("s", s)):
        rows = [torch.autograd.grad(out[i], leaf, retain_graph=True)[0].item() for i in range(3)]
        np.testing.assert_allclose(d.derivatives[name].value, rows, rtol=1e-12)


def test_a_point_outside_the_support_is_refused_at_at():
    with pytest.raises(JacValueError, match="scale"):
        symbolic.differentiate(TD + "Normal(m, s).log_prob(x)", ["m:()", "s:()", "x:2"],
                               at=["m=0", "s=-1", "x=[1, 2]"])
    res = runner.invoke(app, ["diff", TD + "Normal(m, s).log_prob(x)", "m=0", "s=-1", "x=[1, 2]", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["kind"] == "value"


def test_the_check_has_no_derivative_in_the_formula():
    """finite_range's formula is 0 and does not depend on its arguments: the formula of a distribution is its
    density's, nothing of the check added."""
    import sympy as sp

    from jacobi_cli.lang.parser import parse

    graph = parse(TD + "Exponential(r).log_prob(x)", {"r": (), "x": ()})
    (y, formulas) = symbolic.eval_formulas(graph, ["r", "x"])
    r, x = sp.Symbol("r", real=True), sp.Symbol("x", real=True)
    assert sp.simplify(sp.sympify(y) - (sp.log(r) - r * x)) == 0


def test_float32_rounding_is_no_tie():
    """--dtype float32's numbers differ from the formula's float64 value by rounding: no note for that."""
    result = report.eval_report("sin(x) * exp(x) / (1 + x ** 2)", {"x": "[0.3, 1.7, 2.9]"}, dtype="float32",
                                symbolic=True, timeout=None)
    assert "note" not in result.data["jacobian"]["x"] and "note" not in result.data["output"]
    result = report.eval_report("torch.max(x)", {"x": "[1.0, 1.0, 1.0]"}, dtype="float32", symbolic=True,
                                timeout=None)
    assert "does not hold" in result.data["jacobian"]["x"]["note"]


def test_the_numerator_layout_is_checked_in_its_own_layout():
    result = report.eval_report("A @ x", {"A": "[[1, 2], [3, 4], [5, 6]]", "x": "[1, 2]"}, layout="numerator",
                                symbolic=True, timeout=None)
    assert all("note" not in block for block in result.data["jacobian"].values())
    result = report.eval_report("x * x.max()", {"x": "[2.0, 2.0, 2.0]"}, layout="numerator", symbolic=True,
                                timeout=None)
    assert "does not hold" in result.data["jacobian"]["x"]["note"]
