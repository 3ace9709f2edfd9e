"""Symbolic derivatives (SymPy) against the automatic ones, op by op and for matrix calculus.

The op cases come from the registry's own table in ``test_ops.py``, so an op is checked here
the moment it has a SymPy translation (``Op.sympy``).
"""

import numpy as np
import pytest

from jacobi_cli.tools import api, symbolic

from jacobi_cli.engine import autodiff
from jacobi_cli.errors import JacLimitError, JacNameError, JacShapeError, JacUsageError, JacValueError
from jacobi_cli.ir.graph import Builder
from jacobi_cli.ir.ops import _BLOCKS, OPS  # tests patch the registry through _BLOCKS (OPS is read-only)
from test_ops import CASES, _differentiable, _draw, _normalize

# The masks carry no derivative; their symbolic derivative must be 0 too.
MASK_CASES = {"sign": [((3,),)], "gt": [((3,), (3,))], "ge": [((2, 3), (3,))], "eq": [((3,), ())]}
NO_SYMPY: set = set()  # ops SymPy cannot express, each with a reason in a comment
# PART elementwise: SymPy leaves the derivative of floor (and so of ceil, trunc, round, //, fmod and
# remainder) unevaluated where jac's is 0; detach is a stop-gradient, which SymPy has no way to say.
NO_SYMPY |= {"floor", "ceil", "trunc", "round", "floor_divide", "fmod", "remainder", "detach", "signbit"}
# isnan / isinf / isfinite (session 41): conditions SymPy decides once their argument is a number (symbolic.value_test)
MASK_CASES.update({"isnan": [((3,),)], "isinf": [((2, 3),)], "isfinite": [((3,),)]})
MASK_CASES.update({"ne": [((3,), ())], "lt": [((3,), (3,))], "le": [((2, 3), (3,))]})
# PART reductions: which element an index op picks depends on the values (argmax argmin argsort
# argmedian argcum, and take_along / put_along by such an index); one_hot and clamp_excess carry no derivative
# and are made only for losses and cosine_similarity from those index ops' kind of values.
NO_SYMPY |= {"frexp_mantissa", "frexp_exponent",  # the exponent is floor(log2|x|) + 1: a step function SymPy's
            "reduce_where",  # derivatives would give as 0 or a Heaviside; a mask of the values picks the elements
            "argpartition", "lexsort"}  # NumPy's introselect order and lexsort's ties depend on the values
NO_SYMPY |= {"argmax", "argmin", "argsort", "argmedian", "argcum", "take_along", "take_shared", "put_along", "one_hot",
             "clamp_excess"}
NO_SYMPY |= {"custom", "custom_once"}  # a derivative rule written in the text: its derivative is no formula's
# cofactor_dir is det's second derivative along a tangent, made only inside derivative rules (never by a text):
# its SVD form has no SymPy counterpart, and SymPy differentiates cofactor's own translation
NO_SYMPY.add("cofactor_dir")
NO_SYMPY.add("cofactor_dir2")  # det's third derivative along two tangents (session 50): the same
# torch.nan_to_num (session 41): a Piecewise of the fills where its argument is NaN (or not real), oo or -oo, the
# argument otherwise (symbolic.nan_to_num_form); tests/test_nan41.py checks it at NaN and inf against autodiff
# basis_turn (session 41) is ir/signs.py's check of LAPACK's basis at repeated eigenvalues, with no derivative
NO_SYMPY.add("basis_turn")
NO_SYMPY.add("straight_through")  # a value with another node's derivative (a write through .detach()): no formula
# integer is a check of integers computed from inputs (refused or exact), with no derivative; as a bool (the result
# of a bool matmul, the or of its ands) it is 1 where its argument is nonzero, and has a translation
MASK_CASES["integer"] = [(((3,),), {"dtype": "bool"}), (((2, 3),), {"dtype": "bool", "what": "a bool"})]
# discrete_quantile (scipy.stats' discrete ppf / isf, h35-dists) is a step function of q computed by SciPy's own
# quantile routines: no SymPy function is it, and its derivative is 0 where it exists
NO_SYMPY.add("discrete_quantile")
# finite_range is a check (0 or refused) on values, with no derivative: its formula is its value, 0 (session 35)
MASK_CASES["finite_range"] = [(((), ()), {"message": "[{lo}, {hi}]"}), (((2, 3), (3,)), {"message": "[{lo}, {hi}]"})]
# --- PART shapes-linalg
NO_SYMPY |= {
    "eigvalsh", "eigh_vectors",  # eigenvalues are roots of the characteristic polynomial: no closed form past 4×4
    "matrix_exp",  # SymPy's Matrix.exp of symbols needs the eigen-decomposition: the same
    "svdvals", "svd_u", "svd_vh",  # singular values: square roots of eigenvalues, the same
    "svd_zero", "svd_zero_check",  # session 32: only ever after svdvals, which has no translation
    "spectral_check",  # session 33: only in eigvalsh's and svdvals' rules, which have no translation
    "qr_q", "qr_r",  # Gram-Schmidt of symbols is possible but grows past use (nested square roots)
    "lu", "lu_pivots", "pivot_matrix",  # partial pivoting compares magnitudes: which row leads depends on the values
    "igamma", "igammac", "zeta", "nextafter", "ldexp",  # a derivative refused (PyTorch has none) that SymPy would give
    "scatter_extreme",  # which elements equal the extreme (and share its derivative) depends on the values
    "searchsorted", "digitize", "histc", "argquantile", "argmode",  # positions and counts found by comparing values SymPy's symbols do not have
}
MASK_CASES["detsign"] = [((3, 3),)]
# square_scale (session 40): the norms' divisor past 2**50, no derivative; SymPy's form is 1 (its symbols stay small)
MASK_CASES["square_scale"] = [(((2, 3),), {"axes": (1,)})]
# session 29: SymPy has no Struve function, no Owen's T and no inverses of the incomplete beta and gamma functions
NO_SYMPY |= {"struve", "modstruve", "owens_t", "betaincinv", "betainccinv", "gammaincinv", "gammainccinv"}
# nor Tricomi's U, nor the distribution functions of SciPy's names and their inverses (their incomplete gamma / beta
# forms would differentiate by the shape parameters, which jac refuses)
NO_SYMPY |= {"hyperu", "ndtri_exp", "stdtr", "stdtrit", "chdtr", "chdtrc", "chdtri", "gdtr", "gdtrc", "pdtr", "pdtrc",
             "fdtr", "fdtrc", "bdtr", "bdtrc", "nbdtr", "nbdtrc"}


# cases at points where the formula itself is 0·∞ (1/Γ at Γ's poles, -ψ(x)/Γ(x)): jac diff says so there and shows
# jac's automatic derivative, which tests/test_ops.py checks against central differences at those points
AT_SINGULARITIES = {"gamma_poles"}


def _translated_cases():
    for name, op in OPS.items():
        if op.sympy is None:
            continue
        for k, case in enumerate(CASES.get(name, MASK_CASES.get(name, []))):
            if not AT_SINGULARITIES & {s for s in _normalize(case)[0] if isinstance(s, str)}:
                yield pytest.param(name, case, id=f"{name}-{k}")

# session 36: SymPy has no Kelvin functions, no integrals of Bessel or Struve functions, no Jacobi elliptic functions
# of SciPy's amplitude, no Wright's Bessel function, no arithmetic-geometric mean, and no scaled Airy functions
NO_SYMPY |= {"ber", "bei", "ker", "kei", "berp", "beip", "kerp", "keip", "airye_ai", "airye_aip", "airye_bi",
             "airye_bip", "itj0y0_j", "itj0y0_y", "iti0k0_i", "iti0k0_k", "it2j0y0_j", "it2j0y0_y", "it2i0k0_i",
             "it2i0k0_k", "itstruve0", "it2struve0", "itmodstruve0", "ellipj_sn", "ellipj_cn", "ellipj_dn", "ellipj_ph",
             "wright_bessel", "log_wright_bessel", "agm", "faddeeva_re", "faddeeva_im", "voigt_profile",
             "gdtrix", "gdtria", "fdtri", "pdtri", "bdtri", "nbdtri", "nrdtrimn", "nrdtrisd", "tklmbda",
             "pbdv_value", "pbdv_slope", "pbvv_value", "pbvv_slope", "pbwa_value", "pbwa_slope", "lpmv"}
# session 36: a Fourier transform's values as np.fft computes them (rounding and all), never differentiated: jac diff
# reads lang/fourier.py's value - (stop(p) - p) as one formula, the DFT sums (ir/ops.dft_formula; session 38), and fftmap
# (p past a few points) has its own translation, the same sums
NO_SYMPY.add("dft")
# session 37: SymPy has no Carlson integrals (elliprd_slope / elliprj_slope: a complex step of SciPy's); diric's quotient
# is 0/0 at x = 2πk, where SciPy's value is the limit; SymPy's jacobi / gegenbauer are polynomials of an integer degree
# (jac reads a real n too) and would differentiate by the parameters, which jac refuses (no closed form)
NO_SYMPY |= {"elliprf", "elliprc", "elliprd", "elliprj", "elliprg", "elliprd_slope", "elliprj_slope", "diric",
             "diric_slope", "eval_jacobi", "eval_sh_jacobi", "eval_gegenbauer"}
NO_SYMPY.add("carlson_integral")  # session 38: R_D's and R_J's higher derivatives, a quadrature of their integrals
NO_SYMPY |= {"zeta_dx", "riemann_zeta", "zetac"}  # session 38: SymPy's zeta(s, a) has no derivative by s
# session 39: SymPy's lowergamma(a, x) differentiates by a into a Meijer G function it evaluates slowly, or not at all
NO_SYMPY |= {"gammainc", "gammaincc", "igamma_grad_a"}
NO_SYMPY |= {"no_derivative", "hyp1f1_slope"}  # session 39: torch.histogram's values (every derivative refused); hyp1f1 by a, b


# log_softmax_shift (session 49): the constant a log_softmax subtracts first, (x - c) - logsumexp(x - c); its formula
# is 0, not its value (the result does not depend on c), so it has no case here: tests/test_fuzz49.py checks jac
# diff's formula of each log_softmax spelling against autodiff
ZERO_FORMULA = {"log_softmax_shift"}
# session 52: the constant slice softmax's rule subtracts (its result does not depend on it)
ZERO_FORMULA.add("softmax_common")


def test_every_op_has_a_translation_or_a_reason():
    assert {name for name, op in OPS.items() if op.sympy is None} == NO_SYMPY
    assert set(MASK_CASES) | set(CASES) | ZERO_FORMULA >= {name for name, op in OPS.items() if op.sympy is not None}


# arguments SymPy differentiates only formally (an unevaluated Derivative, no number): session 39's hyp1f1 by a and b
UNEVALUATED = {("hyp1f1", 0), ("hyp1f1", 1)}


@pytest.mark.parametrize("name,case", list(_translated_cases()))
@pytest.mark.parametrize("seed", [0, 1])
def test_symbolic_jacobian_agrees_with_autodiff(name, case, seed):
    """Matrix.jacobian of the translated op, evaluated at a random point of the op's domain,
    equals jacrev there to 1e-10, for every argument."""
    op = OPS[name]
    shapes, params = _normalize(case)
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(_draw(op, s, rng), dtype=np.float64) for s in shapes]
    b = Builder()
    tracers = [b.input(f"a{i}", a.shape) for i, a in enumerate(arrays)]
    graph = b.graph(b.apply(name, *tracers, **params))
    env = {f"a{i}": a for i, a in enumerate(arrays)}
    names = [f"a{i}" for i, s in enumerate(shapes) if s != "mask" and _differentiable(op, i)
             and (name, i) not in UNEVALUATED]
    graph = graph.with_wrt(names)
    numeric = autodiff.jacrev(graph, autodiff.evaluate(graph, env))
    values, leaves = symbolic.translate(graph, as_components=True)
    formulas = symbolic.jacobian_components(graph, names, values, leaves)
    output = symbolic.evaluate_components(values[graph.output].expr, leaves, env)
    np.testing.assert_allclose(output, op.impl(*arrays, **params), rtol=1e-10, atol=1e-10)
    for n in names:
        value = symbolic.evaluate_components(formulas[n], leaves, env)
        np.testing.assert_allclose(value, numeric[n], rtol=1e-10, atol=1e-10, err_msg=f"{name} by {n}")


# --- matrix calculus with symbolic sizes --------------------------------------------------------

MATRIX_FORMS = [
    # expression, bindings, wrt, the matrix form, its shape
    ("x.T @ A @ x", ["x:n", "A:nxn"], "x", "A*x + A.T*x", ("n",)),
    ("x.T @ A @ x", ["x:n", "A:nxn"], "A", "x*x.T", ("n", "n")),
    ("A @ x", ["A:mxn", "x:n"], "x", "A", ("m", "n")),
    ("x @ y", ["x:n", "y:n"], "y", "x", ("n",)),
    ("2 * x + 1", ["x:n"], "x", "2*I", ("n", "n")),
    ("x * x", ["x:n"], "x", "2*diag(x)", ("n", "n")),
    ("sin(x)", ["x:n"], "x", "diag(cos.(x))", ("n", "n")),
    ("trace(A @ B)", ["A:nxm", "B:mxn"], "A", "B.T", ("n", "m")),
    ("trace(A.T @ A)", ["A:nxm"], "A", "2*A", ("n", "m")),
    ("trace(inv(A))", ["A:nxn"], "A", "-A.T**(-2)", ("n", "n")),
    ("x @ inv(A) @ x", ["x:n", "A:nxn"], "x", "A**(-1)*x + A.T**(-1)*x", ("n",)),
    ("s * x", ["x:n"], "s", "x", ("n",)),
    ("(x @ A @ x) * s**2", ["x:n", "A:nxn"], "s", "(2*s)*x.T*A*x", ()),
    # jac's own matrix calculus (matrixcalc), where SymPy's is wrong (log det: 0), has none (det,
    # softmax, logsumexp, norm) or answers with an array expression (sum(sin(x)))
    ("sum(sin(x))", ["x:n"], "x", "cos.(x)", ("n",)),
    ("log(det(A))", ["A:nxn"], "A", "A.T**(-1)", ("n", "n")),
    ("det(A)", ["A:nxn"], "A", "Determinant(A)*A.T**(-1)", ("n", "n")),
    ("trace(A) + trace(A @ A)", ["A:nxn"], "A", "I + 2*A.T", ("n", "n")),
    ("norm(x)", ["x:n"], "x", "1/sqrt(Trace(x.T*x))*x", ("n",)),
    ("logsumexp(x)", ["x:n"], "x", "1/Trace(ones(1, n)*exp.(x))*exp.(x)", ("n",)),
    ("sum(exp(A @ x))", ["A:mxn", "x:n"], "A", "exp.(A*x)*x.T", ("m", "n")),
    ("solve(A, x) @ x", ["A:nxn", "x:n"], "A", "-A.T**(-1)*x*x.T*A.T**(-1)", ("n", "n")),
    ("sum(tanh(A @ x))", ["A:nxn", "x:n"], "x", "A.T*(t -> 1 - tanh(t)**2).(A*x)", ("n",)),
]


@pytest.mark.parametrize("expr,bindings,wrt,form,shape", MATRIX_FORMS, ids=[f"{m[0]}-{m[2]}" for m in MATRIX_FORMS])
def test_matrix_forms_with_symbolic_sizes(expr, bindings, wrt, form, shape):
    d = api.diff(expr, bindings, wrt=[wrt])[wrt]
    assert (d.form, symbolic.text(d.expr), d.shape, d.note) == ("matrix", form, shape, None)


@pytest.mark.parametrize("expr,bindings,wrt,form,shape", MATRIX_FORMS, ids=[f"{m[0]}-{m[2]}" for m in MATRIX_FORMS])
def test_matrix_forms_evaluated_agree_with_autodiff(expr, bindings, wrt, form, shape):
    rng = np.random.default_rng(7)
    sizes = {"n": 3, "m": 2}
    point = {}
    for b in bindings:
        name, spec = b.split(":")
        dims = tuple(sizes[d] for d in spec.split("x"))
        point[name] = rng.uniform(0.2, 0.8, dims) + (np.eye(dims[0]) if len(dims) == 2 and dims[0] == dims[1] else 0)
    if "s" in symbolic.free_names(expr, set(point)):
        point["s"] = np.array(1.3)
    d = api.diff(expr, bindings, wrt=[wrt], at=point)[wrt]
    assert d.form == "matrix"
    numeric = api.jacobian(expr, point, wrt=[wrt])[wrt]
    np.testing.assert_allclose(d.value, numeric, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("expr,bindings,wrt,note", [
    ("cumsum(A @ x, 0)", ["A:mxn", "x:n"], "A", "(cumsum at column 0)"),  # 3-d, and no index form either
    ("amax(A, 1)", ["A:mxn"], "A", "(max at column 0: a max or min over some of the axes)"),
    ("x[0] * x", ["x:n"], "x", "(getitem at column 2)"),
    ("prod(x)", ["x:n"], "x", "(prod at column 0)"),
])
def test_without_a_matrix_form_components_at_concrete_sizes(expr, bindings, wrt, note):
    d = api.diff(expr, bindings, wrt=[wrt])[wrt]
    assert d.form == "components" and d.note.startswith("no matrix form") and note in d.note
    assert d.note.endswith("components at " + ", ".join(f"{k} = {v}" for k, v in d.sizes.items()) + " instead")
    rng = np.random.default_rng(1)
    point = {}
    for b in bindings:
        name, spec = b.split(":")
        dims = tuple(d.sizes[k] for k in spec.split("x"))
        point[name] = rng.uniform(0.2, 0.8, dims) + (np.eye(dims[0]) if len(dims) == 2 and dims[0] == dims[1] else 0)
    leaves = {name: symbolic.component_symbols(name, v.shape) for name, v in point.items()}
    value = symbolic.evaluate_components(np.array(d.expr.tolist(), dtype=object), leaves, point)
    np.testing.assert_allclose(value, api.jacobian(expr, point, wrt=[wrt])[wrt], rtol=1e-10, atol=1e-10)


# --- components, scalars, --at --------------------------------------------------------------------

def test_scalar_derivative_simplified_and_at_a_point():
    d = api.diff("3*x**2 - 4*x", at=["x=1"])["x"]
    assert (symbolic.text(d.expr), d.shape, d.math_shape, float(d.value)) == ("6*x - 4", (), (1,), 2.0)
    assert symbolic.text(api.diff("2 * dot(x, w)", wrt=["w"])["w"].expr) == "2*x"
    assert symbolic.text(api.diff("x / (1 + x)")["x"].expr) == "(x + 1)**(-2)"


def test_components_are_the_jacobian_of_formulas():
    d = api.diff("sin(x) * y", ["x:3", "y:3"], wrt=["x"])["x"]
    assert d.form == "components" and d.shape == (3, 3)
    assert symbolic.entries(d.expr) == [["y[0]*cos(x[0])", "0", "0"], ["0", "y[1]*cos(x[1])", "0"],
                                        ["0", "0", "y[2]*cos(x[2])"]]
    assert symbolic.latex(d.expr).count(r"y_{1} \cos{\left(x_{1} \right)}") == 1


def test_values_bind_shapes_and_the_point():
    x, A = np.array([0.5, -1.0]), np.array([[1.0, 2.0], [0.0, 3.0]])
    result = symbolic.differentiate("tanh(A @ x)", {"x": x, "A": A})
    np.testing.assert_allclose(result.output_value, np.tanh(A @ x))
    for name, d in result.derivatives.items():
        np.testing.assert_allclose(d.value, api.jacobian("tanh(A @ x)", {"x": x, "A": A})[name], rtol=1e-12)


def test_at_fixes_symbolic_sizes_and_free_names_take_the_shape_of_their_value():
    d = api.diff("sum(x**2)", at={"x": [1.0, 2.0, 3.0]})["x"]
    np.testing.assert_allclose(d.value, [2.0, 4.0, 6.0])
    m = api.diff("x @ x", ["x:n"], at=["x=[1, 2]"])["x"]
    assert m.form == "matrix" and m.shape == ("n",)
    np.testing.assert_allclose(m.value, [2.0, 4.0])


def test_free_names_skip_functions_modules_constants_and_assignments():
    assert symbolic.free_names("F = a * b; torch.dot(F, c).sum() + pi * exp(d)", set()) == ["a", "b", "c", "d"]
    assert symbolic.free_names("x.T @ A @ x", {"A"}) == ["x"]


def test_bad_input_is_a_clear_error():
    with pytest.raises(JacNameError, match=r"wrt=\['q'\]: no input named 'q'"):  # the API's words (session 40)
        api.diff("x * y", wrt=["q"])
    with pytest.raises(JacNameError, match=r"at\['z'\]: the expression has no input named 'z'"):
        api.diff("x * y", at=["z=1", "x=1", "y=2"])
    with pytest.raises(JacUsageError, match="missing: y"):
        api.diff("x * y", at=["x=1"])
    with pytest.raises(JacShapeError, match="size n is 2 by one value and 3"):
        api.diff("x @ y", ["x:n", "y:n"], at=["x=[1, 2]", "y=[1, 2, 3]"])
    with pytest.raises(JacValueError, match="singular whatever"):
        api.diff("inv(x * ones((2, 2)))")
    with pytest.raises(JacLimitError, match="more than the 10,000"):
        api.diff("x[::-1] * 2", ["x:101"])  # no matrix form (getitem), 10,201 formulas


def test_an_op_without_translation_is_named(monkeypatch):
    import dataclasses

    monkeypatch.setitem(_BLOCKS, "tanh", dataclasses.replace(OPS["tanh"], sympy=None))
    with pytest.raises(JacValueError, match="'tanh' has no SymPy translation") as err:
        api.diff("1 + tanh(x)")
    assert err.value.position == 4 and err.value.source == "1 + tanh(x)"


def test_deep_nesting_does_not_hit_the_recursion_limit():
    d = api.diff("sin(" * 120 + "x" + ")" * 120)["x"]
    assert len(symbolic.text(d.expr)) > 1000


# --- the commands ----------------------------------------------------------------------------------

def jac(*args, code=0):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_diff_prints_the_formula_plainly_and_its_value_at_a_point():
    out = jac("diff", "3*x**2 - 4*x", "--wrt", "x", "--at", "x=1").stdout
    assert "∂y/∂x: scalar by scalar, shape (), math_shape (1,)" in out
    assert "6⋅x - 4" in out and "at x = 1.0:\n    2.0" in out
    assert "Derivative shapes" in out


def test_diff_matrix_calculus_keeps_dimensions_symbolic():
    out = jac("diff", "x.T @ A @ x", "--wrt", "x", "x:n", "A:nxn").stdout
    assert "∂y/∂x: scalar by vector, matrix form, shape (n,), math_shape (1, n)" in out
    assert "         T  \n  A⋅x + A ⋅x" in out  # SymPy's pretty printer: Aᵀ with the T raised
    assert "input  A: matrix (n, n), symbol, held constant (not in --wrt)" in out


def test_diff_components_and_latex():
    out = jac("diff", "sin(x) * y", "--wrt", "x", "x:3", "y:3").stdout
    assert "∂z/∂x: vector by vector, components, shape (3, 3), math_shape (3, 3)" in out
    assert "J[i, j] = ∂z[i] / ∂x[j]" in out and "y[2]⋅cos(x[2])" in out
    latex = jac("diff", "2 * dot(x, w)", "--wrt", "w", "--latex").stdout
    assert "\n  2 x\n" in latex and "2 w x" in latex


def test_an_element_wise_function_without_a_name_binds_t_in_every_printer():
    """Max built with evaluate=False kept the Dummy's own name: the pretty and LaTeX printers wrote
    (d ↦ Max(1/2, _d)), a bound d and a free _d; every printer now writes t in both places."""
    pretty = jac("diff", "sum(maximum(x, 0.5))", "x:n").stdout
    assert "(t ↦ Max(1/2, t))˳(x)" in pretty and "(t ↦ θ(t - 1/2))˳(x)" in pretty, pretty
    latex = jac("diff", "sum(maximum(x, 0.5))", "x:n", "--latex").stdout
    assert r"t \mapsto \max\left(\frac{1}{2}, t\right)" in latex, latex
    assert "_d" not in pretty + latex and "d ↦" not in pretty


def test_diff_fallback_says_so_in_one_line():
    out = jac("diff", "prod(x)", "x:n").stdout
    notes = [line for line in out.splitlines() if "no matrix form" in line]
    assert notes == ["  no matrix form (prod at column 0); components at n = 3 instead"]


def test_diff_json():
    import json

    out = json.loads(jac("diff", "x.T @ A @ x", "x:n", "A:nxn", "--at", "x=[1, 2]", "--at",
                         "A=[[1, 2], [3, 4]]", "--json").stdout)
    assert set(out) == {"jac_version", "command", "expression", "inputs", "output", "at", "derivative"}
    assert out["command"] == "diff" and out["inputs"]["A"] == {"shape": ["n", "n"], "kind": "matrix",
                                                               "requires_grad": True}
    assert out["output"] == {"shape": [], "kind": "scalar", "name": "y", "expr": "x.T*A*x",
                             "latex": "x^{T} A x", "value": 27.0}
    assert out["derivative"]["x"] == {"expr": "A*x + A.T*x", "latex": "A x + A^{T} x", "shape": ["n"],
                                      "math_shape": [1, "n"], "form": "matrix", "cell": "scalar by vector",
                                      "legend": "J[i] = ∂y / ∂x[i]", "value": [12.0, 21.0]}
    assert out["derivative"]["A"]["expr"] == "x*x.T" and out["derivative"]["A"]["value"] == [[1, 2], [2, 4]]
    comp = json.loads(jac("diff", "prod(x)", "x:n", "--json").stdout)["derivative"]["x"]
    assert comp["form"] == "components" and comp["shape"] == [3] and comp["sizes"] == {"n": 3}
    assert comp["entries"] == ["x[1]*x[2]", "x[0]*x[2]", "x[0]*x[1]"] and "note" in comp
    plain = json.loads(jac("diff", "3*x**2 - 4*x", "--json").stdout)
    assert set(plain) == {"jac_version", "command", "expression", "inputs", "output", "derivative"}
    assert "value" not in plain["output"] and "value" not in plain["derivative"]["x"]


@pytest.mark.parametrize("args,message", [
    (("x * y", "--wrt", "q"), "jac: error (name): --wrt q: no input named 'q' is bound (inputs: x, y)"),
    (("x * y", "--at", "x=1"), "--at needs a value for every input; missing: y"),
    (("x * y", "--at", "x"), "--at 'x' must be NAME=VALUE"),
    (("x +",), "jac: error (parse): invalid syntax"),
])
def test_diff_bad_input_exits_2_with_a_message(args, message):
    result = jac("diff", *args, "--json", code=2)
    assert message in result.stderr and "Traceback" not in result.output
    assert '"error"' in result.stdout


def test_eval_symbolic_adds_the_formula_beside_the_numbers():
    import json

    out = jac("eval", "sin(x) * y", "x=[0, 1]", "y=[2, 3]", "--symbolic").stdout
    assert "formula:" in out and "y[1]⋅cos(x[1])" in out and "[[2.       0.      ]" in out
    block = json.loads(jac("eval", "x**2", "x=[2, 3]", "--symbolic", "--json").stdout)["jacobian"]["x"]
    assert block["expr"] == "[[2*x[0], 0], [0, 2*x[1]]]" and block["value"] == [[4, 0], [0, 6]]
    big = json.loads(jac("eval", "sum(x)", "x:65", "--symbolic", "--json").stdout)["jacobian"]["x"]
    assert big["expr"] is None and "65 entries, more than 64" in big["note"]


def test_eval_without_symbolic_does_not_import_sympy():
    import subprocess
    import sys

    code = ("import sys, contextlib, io\n"
            "from jacobi_cli.cli.app import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['eval', 'sin(x) * y', 'x=[0, 1]', 'y=[2, 3]']) == 0\n"
            "    assert main(['shape', 'x.T @ A @ x', 'x:n', 'A:nxn']) == 0\n"
            "assert 'sympy' not in sys.modules, 'jac eval imported sympy'\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['diff', 'x**2']) == 0\n"
            "assert 'sympy' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_help_shows_diff_examples():
    out = jac("diff", "--help").stdout
    assert "jac diff" in out and "--at" in out and "--latex" in out
