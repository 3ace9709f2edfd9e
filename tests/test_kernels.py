"""Compiled kernels give the interpreter's answers, for every op and every way they are used.

A kernel is an optimisation: whatever it returns must be what the interpreter returns
(the plan's dense passes, the structured passes, VJPs and JVPs), its arrays must belong
to the caller, and a kernel that fails must hand the call back to the interpreter.
"""

import re

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.tools import api
from jacobi_cli.engine import autodiff, blas, compiled, kernels, planner
from jacobi_cli.errors import JacValueError
from jacobi_cli.ir.graph import Builder
from jacobi_cli.engine.jacobian import SparseJacobian
from test_ops import CASES, _draw, _normalize
from jacobi_cli.ir import ops
from jacobi_cli.ir.ops import OPS


def _op_problem(name, case):
    op = OPS[name]
    shapes, params = _normalize(case)
    rng = np.random.default_rng(1)
    arrays = [_draw(op, s, rng) for s in shapes]
    b = Builder()
    out = b.apply(name, *[b.input(f"a{i}", np.shape(a)) for i, a in enumerate(arrays)], **params)
    env = {f"a{i}": np.asarray(a, dtype=np.float64) for i, a in enumerate(arrays)}
    wrt = [f"a{i}" for i in range(len(arrays)) if i < len(op.vjp) and op.vjp[i] is not None
           and not hasattr(op.vjp[i], "refuses") and shapes[i] not in ("mask",)]
    graph = b.graph(out).with_wrt(wrt)
    return graph, env, wrt


def _op_cases(skip=()):
    for name, cases in CASES.items():
        for k, case in enumerate(cases):
            if name not in skip:
                yield pytest.param(name, case, id=f"{name}-{k}")


UNTRACEABLE = {"prod_except"}  # an internal op whose rules need values (only prod's second order uses them)
# ops whose every argument's derivative is refused: no input to differentiate, no kernel to compare (session 37's
# R_D and R_J slopes have derivatives since session 38)
EVERY_ARGUMENT_REFUSED: set = set()


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name,case", list(_op_cases(UNTRACEABLE)))
def test_every_op_compiles_to_the_interpreters_jacobian(name, case, mode):
    graph, env, wrt = _op_problem(name, case)
    values = autodiff.evaluate(graph, env)
    plan = planner.make_plan(graph, values, wrt, mode, 2**30)
    expected = planner.run(plan, graph, values)
    kernel = kernels.jacobian_kernel(graph, plan, planner._small(plan, graph))
    assert kernel is not None, f"{name} did not compile"
    got = kernel(env, structured=True)
    for n in wrt:
        np.testing.assert_allclose(np.asarray(got[n]), np.asarray(expected[n]), rtol=1e-12, atol=0)
        assert got[n].structure == expected[n].structure


@pytest.mark.parametrize("name,case", list(_op_cases(UNTRACEABLE)))
def test_every_op_compiles_to_the_interpreters_vjp_and_jvp(name, case):
    graph, env, wrt = _op_problem(name, case)
    if not wrt:
        assert name in EVERY_ARGUMENT_REFUSED
        return
    values = autodiff.evaluate(graph, env)
    rng = np.random.default_rng(2)
    v = rng.standard_normal(graph.output_shape)
    grads = autodiff.vjp(graph, values, v[None])
    got = kernels.vjp_kernel(graph, wrt)(env, v)
    for n, g in zip(wrt, got):
        np.testing.assert_allclose(g, grads[n][0], rtol=1e-12, atol=0)
    tangents = {n: rng.standard_normal(env[n].shape) for n in wrt}
    expected = autodiff.jvp(graph, values, {n: t[None] for n, t in tangents.items()})[graph.output][0]
    (jt,) = kernels.jvp_kernel(graph, wrt)(env, *[tangents[n] for n in wrt])
    np.testing.assert_allclose(jt, expected, rtol=1e-12, atol=0)


STRUCTURED = [  # big enough that the plan is not small: the kernel runs one pass along ones
    ("sin(x) * x**2 + exp(-x)", {"x": 200}, "diagonal"),
    ("tanh(X) * 2", {"X": (20, 30)}, "diagonal"),
]
# Sparse patterns other than an element-wise diagonal: a coloured pass adds each basis vector's other
# ones times partials the structured passes never form (0 * inf = NaN, +0 for -0), so no kernel
UNCOLORED = [("x[1:] - x[:-1]", {"x": 200}), ("x[2:] * x[1:-1] * x[:-2]", {"x": 100}),
             ("x[1:] / x[:-1]", {"x": 100}), ("sum(X, 1) + 0 * y", {"X": (40, 50), "y": 40})]


@pytest.mark.parametrize("expr,sizes", UNCOLORED)
def test_no_colored_kernel_where_the_colouring_would_change_bits(expr, sizes):
    """The bug: x[1:] / x[:-1] at n = 100 gave 0.5 at its first call and NaN from the third (the
    coloured kernel's 0 * inf) where x holds a zero; x[1:] * x[:-1] gave +0 for the interpreter's -0.
    Now the kernel is refused, --explain says why, and every repeated call is the interpreter's."""
    rng = np.random.default_rng(5)
    b = {k: rng.standard_normal(s) for k, s in sizes.items()}
    name = next(iter(sizes))
    problem = api.prepare(expr, b, [name])
    plan = api.plan_of(problem)
    assert not planner._small(plan, problem.graph)
    kernel, why = kernels.kernel_or_why(problem.graph, plan, False)
    assert kernel is None and "not the diagonal of an element-wise function" in why
    api._CACHE.clear()
    for _ in range(3):
        jacobi_cli.jacobian(expr, {k: rng.standard_normal(s) for k, s in sizes.items()})
    special = {k: v.copy() for k, v in b.items()}
    special[name].flat[:6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 2.0]
    special[name].flat[10::7] = -0.0
    got = jacobi_cli.jacobian(expr, special)[name]
    api._CACHE.clear()
    expected = jacobi_cli.jacobian(expr, special)[name]
    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("expr,sizes,structure", STRUCTURED)
def test_diagonal_kernels_match_the_structured_passes(expr, sizes, structure):
    rng = np.random.default_rng(3)
    b = {k: rng.standard_normal(s) for k, s in sizes.items()}
    name = next(iter(sizes))
    problem = api.prepare(expr, b, [name])
    plan = api.plan_of(problem)
    assert not planner._small(plan, problem.graph)
    expected = api.jacobians(problem, plan)[name]
    kernel = kernels.jacobian_kernel(problem.graph, plan, False)
    assert kernel is not None
    got = kernel(problem.env, structured=True)[name]
    assert isinstance(got, SparseJacobian) and got.structure == expected.structure == structure
    np.testing.assert_array_equal(got.rows, expected.rows)
    np.testing.assert_array_equal(got.cols, expected.cols)
    np.testing.assert_allclose(got.values, expected.values, rtol=1e-13, atol=0)
    np.testing.assert_allclose(kernel(problem.env, structured=False)[name], expected.to_array(), rtol=1e-13)


BENCHMARK = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
             "sum(tanh(A @ tanh(A @ x)))"]
DENSE_BIG = ["tanh(A @ x)", "softmax(x)", "softmax(A @ x) * x", "softmax(tanh(x)) + sin(x)", "A @ (x * x)",
             "(x @ A) * x", "tanh(A @ x) + x", "A @ log(abs(x))", "A @ (x / (x * x))", "-(A @ sqrt(abs(x)))"]
MAY_STAY = ["(eye(40) * x) @ A @ x", "x * (eye(40) * x).sum(0)"]  # the expression's own identity: NumPy's 0 * inf


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
@pytest.mark.parametrize("expr", sorted(set(BENCHMARK + DENSE_BIG + MAY_STAY)))
def test_dense_jacobians_past_the_small_size_compile_to_the_structured_passes_bits(expr, mode):
    """A dense Jacobian too big for the small path gets a kernel whose basis is a diagonal
    (a product with a matrix scales its rows; softmax's rule is written at once), with the
    structured interpreter's bits, infinities and NaN included."""
    rng = np.random.default_rng(5)
    n = 40
    for x in (rng.standard_normal(n), np.array([np.inf, -np.inf, np.nan, 0.0] + [1.0] * (n - 4))):
        b = {"x": x, "A": rng.standard_normal((n, n)) / n}
        problem = api.prepare(expr, b, ["x"])
        plan = api.plan_of(problem, mode)
        expected = api.jacobians(problem, plan)["x"]
        kernel = kernels.jacobian_kernel(problem.graph, plan, planner._small(plan, problem.graph))
        if kernel is None and expr in MAY_STAY:  # a kernel that would cost more than the interpreter
            continue
        assert kernel is not None, f"{expr} did not compile"
        got = kernel(problem.env, structured=True)["x"]
        assert got.structure == expected.structure
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def test_a_kernel_that_would_cost_more_than_the_interpreter_is_not_built():
    """The diagonal stops at an op it has no rule for (a permutation); past it, a dense pass
    through a matrix product costs n³ where the structured interpreter gathers rows: no kernel."""
    rng = np.random.default_rng(6)
    n = 60
    b = {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n))}
    problem = api.prepare("A @ (x[::-1] * 2)", b, ["x"])
    plan = api.plan_of(problem, "forward")
    assert not planner._small(plan, problem.graph)
    assert kernels.jacobian_kernel(problem.graph, plan, False) is None


# --- the API's hot path ---------------------------------------------------------------------

def _kernel_for(kind, expr, bindings):
    """The kernels the API's compiled function for ``expr`` at these shapes has made for ``kind`` calls."""
    compiled = api.prepare(expr, bindings).compiled
    return [k for key, k in compiled.kernels().items() if key[0] == kind]


@pytest.mark.parametrize("expr,bindings", [
    ("sin(x) * x**2 + exp(-x)", {"x": np.linspace(-1, 1, 5)}),
    ("x @ A @ x", {"x": np.arange(3.0), "A": np.arange(9.0).reshape(3, 3)}),
    ("softmax(X, axis=0)", {"X": np.arange(6.0).reshape(2, 3) / 7}),
    ("x", {"x": np.arange(4.0)}),
    ("A @ x", {"A": np.arange(6.0).reshape(2, 3), "x": np.ones(3)}),
    ("sin(x) * x", {"x": np.linspace(-1, 1, 400)}),
])
def test_repeated_calls_use_a_kernel_with_the_same_answers(expr, bindings):
    api._CACHE.clear()
    first = [jacobi_cli.jacobian(expr, bindings) for _ in range(2)]
    assert _kernel_for("jacobian", expr, bindings) and _kernel_for("jacobian", expr, bindings)[0] is not None
    hot = jacobi_cli.jacobian(expr, bindings)
    for name, value in first[0].items():
        np.testing.assert_allclose(hot[name], value, rtol=1e-12, atol=0)
        hot[name][...] = 7.0  # the caller's to write: neither the kernel nor the inputs change
    again = jacobi_cli.jacobian(expr, bindings)
    for name, value in first[0].items():
        np.testing.assert_allclose(again[name], value, rtol=1e-12, atol=0)
    structured = jacobi_cli.jacobian(expr, bindings, structured=True)
    slow = api.jacobians(api.prepare(expr, bindings))
    for name in slow:
        assert structured[name].structure == slow[name].structure
        np.testing.assert_allclose(np.asarray(structured[name]), np.asarray(slow[name]), rtol=1e-12)
    numerator = jacobi_cli.jacobian(expr, bindings, layout="numerator")
    for name in slow:
        np.testing.assert_allclose(numerator[name], slow[name].to_array("numerator"), rtol=1e-12)


def test_vjp_jvp_and_evaluate_repeat_through_kernels():
    api._CACHE.clear()
    b = {"x": np.linspace(0.1, 1, 4), "y": np.arange(4.0)}
    for _ in range(3):
        assert np.allclose(jacobi_cli.evaluate("x * y + exp(x)", b), b["x"] * b["y"] + np.exp(b["x"]))
        g = jacobi_cli.vjp("x * y + exp(x)", b, v=[1.0, 2.0, 3.0, 4.0])
        assert np.allclose(g["x"], [1, 2, 3, 4] * (b["y"] + np.exp(b["x"]))) and np.allclose(g["y"], [1, 2, 3, 4] * b["x"])
        jt = jacobi_cli.jvp("x * y + exp(x)", b, {"x": np.ones(4)})
        assert np.allclose(jt, b["y"] + np.exp(b["x"]))
    for kind in ("value", "vjp", "jvp"):
        assert _kernel_for(kind, "x * y + exp(x)", b)[0] is not None, kind
    for v in (None, "ones"):  # y.backward() of a scalar, and torch.ones_like(y)
        for _ in range(3):
            g = jacobi_cli.vjp("sum(x * y)", b, v=v)
            assert np.allclose(g["x"], b["y"]) and np.allclose(g["y"], b["x"])
    assert [k.y_shape for k in _kernel_for("vjp", "sum(x * y)", b)] == [()]  # one kernel: v is ones either way


def test_a_kernel_that_fails_hands_the_call_to_the_interpreter():
    api._CACHE.clear()
    good = {"A": np.eye(2) * 2}
    for _ in range(3):
        jacobi_cli.jacobian("inv(A)", good)
    assert _kernel_for("jacobian", "inv(A)", good)[0] is not None
    with pytest.raises(JacValueError) as err:  # singular: the interpreter's error, with its column
        jacobi_cli.jacobian("inv(A)", {"A": np.zeros((2, 2))})
    assert "singular" in str(err.value) and err.value.position == 0


def test_the_budget_still_applies_to_hot_calls():
    api._CACHE.clear()
    b = {"x": np.ones(300)}
    for _ in range(3):
        jacobi_cli.jacobian("exp(x)", b, max_memory="1G")
    with pytest.raises(jacobi_cli.errors.JacLimitError):
        jacobi_cli.jacobian("exp(x)", b, max_memory=1000)


def test_an_untraceable_rule_leaves_the_call_to_the_interpreter(monkeypatch):
    # prod_except's JVP was the one rule that ran NumPy on its arguments; it has a traced form now (jac derivative
    # --order 2 of a product needs it), so a rule without one is made here: NumPy on a tracer, as it was
    from jacobi_cli.ir import ops

    def untraceable(t, a, axes):
        return np.transpose(np.asarray(a), (0,))

    monkeypatch.setattr(ops, "_prod_except_jvp_traced", untraceable)
    api._CACHE.clear()
    graph, env, wrt = _op_problem("prod_except", CASES["prod_except"][0])
    with pytest.raises(Exception):
        kernels.vjp_kernel(graph, wrt)
    assert compiled._compile("vjp_kernel", graph, wrt) is None


def test_binding_strings_are_parsed_every_call_and_new_shapes_compile_anew():
    api._CACHE.clear()
    for _ in range(3):
        assert jacobi_cli.jacobian("x**2", {"x": "[1, 2]"})["x"].tolist() == [[2, 0], [0, 4]]
    assert _kernel_for("jacobian", "x**2", {"x": "[1, 2]"})  # the same compiled function as arrays get
    with pytest.raises(jacobi_cli.errors.JacError):  # a bad string is still reported, kernel or not
        jacobi_cli.jacobian("x**2", {"x": "[1, 'a']"})
    for n in (2, 3, 2, 3, 2, 3):
        assert jacobi_cli.jacobian("x**2", {"x": np.arange(float(n))})["x"].shape == (n, n)


def test_kernel_source_holds_node_numbers_only():
    """The generated Python is made from node numbers: a hostile name or expression text
    never becomes code."""
    b = Builder("__import__('os').system('x')")
    x = b.input("__import__('os')", (3,))
    out = b.apply("sin", b.apply("mul", x, 2.0))
    seen = []
    real_compile = kernels.compile if hasattr(kernels, "compile") else compile

    def spy(source, *args, **kw):
        seen.append(source)
        return real_compile(source, *args, **kw)

    kernels.compile = spy
    try:
        kernels.evaluate_kernel(b.graph(out))
        kernels.vjp_kernel(b.graph(out).with_wrt(["__import__('os')"]), ["__import__('os')"])
    finally:
        del kernels.compile
    call = r"f\d+\(((v|c|u)\d+(, (v|c|u)\d+)*)?\)|(v|u)\d+\.(reshape|transpose)\(k\d+\)|v\d+"
    full = r"f\d+\((v\d+, C\d+|C\d+, v\d+)(, v\d+)?\) if type\(v\d+\) is _nd( and v\d+\.dtype is _dt)? else f\d+\((v|c)\d+, (v|c)\d+\)"
    call = f"{call}|{full}"  # a constant made a full array (_Source._full_constant_line)
    line = re.compile(r"^(def kernel\(env(, v\d+)*\):|    v\d+ = env\[a\d+\]|    _token = _set\(_ignore\)|    try:|"
                      r"        if not \(type\(v\d+\) is _nd and v\d+\.flags\.c_contiguous( and type\(v\d+\) is _nd and "
                      r"v\d+\.flags\.c_contiguous)*\):|            raise _Unlaid|"
                      r"        if v\d+\.dtype is not _dt( or v\d+\.dtype is not _dt)*:|"
                      rf"        v\d+ = ({call})|        u\d+ = v\d+\.reshape\(s\d+\)|        del (v|u)\d+(, (v|u)\d+)*|"
                      r"        return \(((_copy\()?(v|c|u)\d+(, copy=True\))?,? ?)+\)|    finally:|        _reset\(_token\))$")
    assert len(seen) == 2
    for source in seen:
        assert all(line.match(text) for text in source.splitlines()), source


def test_commands_never_load_the_compiler():
    """A command runs once: it never compiles, so `jac eval` does not import kernels.py."""
    import subprocess
    import sys

    code = ("import sys, contextlib, io\n"
            "from jacobi_cli.cli.entry import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['eval', 'sin(x) * y', 'x=[0, 1]', 'y=[2, 3]'])\n"
            "assert 'jacobi_cli.engine.kernels' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_threads_share_kernels_and_get_their_own_answers():
    from concurrent.futures import ThreadPoolExecutor

    api._CACHE.clear()
    exprs = ["sin(x) * x", "x @ A @ x", "softmax(x)", "sum(x * x)"]
    A = np.arange(9.0).reshape(3, 3) / 10

    def work(k):
        x = np.linspace(-1, 1, 3) + k / 100
        e = exprs[k % len(exprs)]
        got = jacobi_cli.jacobian(e, {"x": x, "A": A}, wrt=["x"])["x"]
        want = api.jacobians(api.prepare(e, {"x": x, "A": A}, ["x"]))["x"].to_array()
        return np.allclose(got, want, rtol=1e-12, atol=0)

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(200)))


@pytest.mark.parametrize("make,call", [
    ("evaluate_kernel", lambda b: jacobi_cli.evaluate("x * 2", b)),
    ("jacobian_kernel", lambda b: jacobi_cli.jacobian("x * 2", b)["x"]),
    ("vjp_kernel", lambda b: jacobi_cli.vjp("sum(x * 2)", b)["x"]),
    ("jvp_kernel", lambda b: jacobi_cli.jvp("x * 2", b, {"x": np.ones(3)})),
])
def test_a_kernel_failing_on_its_first_run_is_dropped_not_raised(monkeypatch, make, call):
    """The check run when a kernel is made may fail too: the call still returns the
    interpreter's answer, and the key stays with the interpreter."""
    def fails(*args):
        raise ZeroDivisionError("a kernel that fails")

    def broken(*args, **kw):
        return kernels.Kernel(fails, ("x",), 0, ("x",), ())

    api._CACHE.clear()
    monkeypatch.setattr(kernels, make, broken)
    b = {"x": np.arange(3.0)}
    answers = [np.asarray(call(b)) for _ in range(4)]
    assert all(np.array_equal(a, answers[0]) for a in answers)
    (found,) = api._CACHE._entries.values()
    assert list(found.kernels().values()) == [None]


# --- --explain: would repeated calls get a kernel? ---------------------------------------------

def _hot_kernels(expr, bindings, **kw):
    for _ in range(3):
        jacobi_cli.jacobian(expr, bindings, **kw)
    return _kernel_for("jacobian", expr, bindings)


def test_explain_says_every_benchmark_expression_compiles():
    rng = np.random.default_rng(7)
    for n in (10, 100):
        b = {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n)) / n}
        for expr in BENCHMARK:
            p = jacobi_cli.plan(expr, b, wrt=["x"])
            assert p.kernel[0] is True, (expr, n, p.kernel)
            assert "  kernel: compiled at the second call" in "\n".join(p.explain())
            assert p.to_dict()["kernel"] == {"compiled": True, "reason": p.kernel[1]}
            assert [k is not None for k in _hot_kernels(expr, b, wrt=["x"])] == [True]


@pytest.mark.parametrize("expr,bindings,options,why", [
    ("x * sum(x)", {"x": ":400"}, {"max_memory": "2M"}, "the passes for x run in chunks to fit the memory budget"),
    ("A @ (x[::-1] * 2)", {"x": ":60", "A": ":60x60"}, {"mode": "forward", "wrt": ["x"]}, "would touch"),
    ("x[x > 0] * 2", {"x": [1.0, -1.0, 2.0]}, {}, "depends on the input values"),
])
def test_explain_says_why_repeated_calls_stay_with_the_interpreter(expr, bindings, options, why):
    p = jacobi_cli.plan(expr, bindings, **options)
    assert p.kernel[0] is False and why in p.kernel[1], p.kernel
    assert "  kernel: none for repeated calls: " in "\n".join(p.explain())
    assert p.to_dict()["kernel"] == {"compiled": False, "reason": p.kernel[1]}
    if "depends" not in why:  # what it says is what the API does: no kernel after repeated calls
        assert all(k is None for k in _hot_kernels(expr, bindings, **options))


@pytest.mark.parametrize("special", [None, 0.0, np.nan, np.inf])
def test_a_cumprod_jacobian_of_1000_compiles_to_the_interpreters_bits(special):
    """cumprod's reverse rule zeroes the entries past each cotangent's last nonzero with splice(entries, tail, k):
    the kernel keeps k (n numbers), not the n x n mask it used to fold from the basis, which beside the basis
    passed the 8 MiB of constants a kernel may keep, so repeated calls stayed with the interpreter."""
    n = 1000
    x = np.random.default_rng(8).uniform(0.5, 1.5, n)
    if special is not None:
        x[[300, 301, 700]] = special
    b = {"x": x}
    p = jacobi_cli.plan("torch.cumprod(x, 0)", b)
    assert p.kernel[0] is True, p.kernel
    problem = api.prepare("torch.cumprod(x, 0)", b)
    plan = api.plan_of(problem, "auto")
    expected = np.asarray(api.jacobians(problem, plan)["x"])
    kernel = kernels.jacobian_kernel(problem.graph, plan, planner._small(plan, problem.graph))
    got = np.asarray(kernel(problem.env, structured=True)["x"])
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))
    assert not np.triu(got, 1).view(np.uint64).any()  # y_i's entries for j > i: +0 exactly
    clean = slice(0, 300) if special is not None else slice(0, n)  # rows no special value reaches
    y = np.cumprod(x[clean])
    np.testing.assert_allclose(got[clean, clean], np.tril(y[:, None] / x[None, clean]), rtol=1e-9)
    api._CACHE.clear()
    hot = [jacobi_cli.jacobian("torch.cumprod(x, 0)", b)["x"] for _ in range(3)]
    assert [k is not None for k in _kernel_for("jacobian", "torch.cumprod(x, 0)", b)] == [True]
    for h in hot:
        assert np.array_equal(h.view(np.uint64), expected.view(np.uint64))


def test_eval_explain_prints_the_kernel_line_and_json_has_it():
    from typer.testing import CliRunner
    from jacobi_cli.cli.app import app

    out = CliRunner().invoke(app, ["eval", "sin(x) * x", "x:3", "--explain"]).stdout
    assert "  kernel: compiled at the second call" in out
    import json
    found = json.loads(CliRunner().invoke(app, ["eval", "x * sum(x)", "x:400", "--explain", "--json",
                                                "--max-memory", "2M"]).stdout)
    assert found["plan"]["kernel"]["compiled"] is False and "chunks" in found["plan"]["kernel"]["reason"]
    assert "kernel" not in json.loads(CliRunner().invoke(app, ["eval", "sin(x)", "x:3", "--json"]).stdout)


# --- what the kernel builder drops: exact identities only ---------------------------------------

def _ops_in(kernel) -> set:
    """The op implementations a kernel calls (its namespace's functions)."""
    return {v for k, v in kernel.fn.__globals__.items() if k[:1] == "f" and k[1:].isdigit()}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("expr", ["x**2", "sin(x) * x**2 + exp(-x)", "x**3.5 + x**-1", "sum(x**2 * y)"])
def test_pow_at_a_constant_exponent_compiles_without_its_mask_and_keeps_the_bits(expr, dtype):
    """pow's d/dx is ``where(y == 0, 0, y * x**(y - 1))``; at a constant exponent the mask is
    known, the kernel keeps the branch alone, and its answers are the interpreter's bits and
    dtype, at 0, -0, infinities, NaN and subnormals too."""
    x = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 1e-310, 3.0], dtype=dtype)
    y = np.linspace(-1, 1, 9).astype(dtype)
    problem = api.prepare(expr, {"x": x, "y": y}, ["x"], dtype=np.dtype(dtype).name)
    g = problem.graph
    v = np.linspace(-2, 2, int(np.prod(g.output_shape))).reshape(g.output_shape).astype(dtype)
    kernel = kernels.vjp_kernel(g, ["x"])
    assert OPS["where"].impl not in _ops_in(kernel)
    (got,) = kernel(problem.env, v)
    expected = autodiff.vjp(g, problem.values, v[None])["x"][0]
    assert got.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_a_where_is_dropped_only_when_its_branch_is_the_answer():
    """``where(c, a, b)`` with a constant all-true (all-false, NaN counts as true) mask is ``a``
    (``b``) only when that branch has the result's shape and is a float node; else it stays."""
    b = Builder()
    x = b.input("x", (3,))
    s = b.input("s", ())
    cases = {"true": b.apply("where", 1.0, b.apply("sin", x), 0.0),
             "false": b.apply("where", 0.0, 2.0, b.apply("exp", x)),
             "nan": b.apply("where", float("nan"), b.apply("neg", x), 5.0),
             "broadcast": b.apply("where", 1.0, b.apply("sin", s), b.lift(np.zeros(3))),
             "integer": b.apply("where", 1.0, b.apply("argmax", x, axis=None, keepdims=False), 0.5)}
    env = {"x": np.array([0.5, -np.inf, np.nan]), "s": np.array(2.0)}
    for name, out in cases.items():
        graph = b.graph(out)
        values = autodiff.evaluate(graph, env)
        kernel = kernels.evaluate_kernel(graph)
        (got,) = kernel(env)
        expected = np.asarray(values[graph.output])
        assert got.shape == expected.shape and got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got, expected)
        dropped = OPS["where"].impl not in _ops_in(kernel)
        assert dropped == (name in ("true", "false", "nan")), name


@pytest.mark.parametrize("structured", [False, True])
def test_a_small_structured_jacobian_is_read_off_at_its_pattern_inside_the_kernel(structured):
    """A small diagonal Jacobian is computed densely by the interpreter, where ``eye * exp(x)``
    holds 0 * inf = NaN off the diagonal at x = inf: the kernel's answer is read off at the
    pattern (exact zeros elsewhere), dense or structured, with the interpreter's bits."""
    api._CACHE.clear()
    b = {"x": np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 2.0])}
    expr = "exp(x) * x + x**2"
    expected = api.jacobians(api.prepare(expr, b))["x"]
    assert expected.structure == "diagonal"
    for _ in range(4):
        got = jacobi_cli.jacobian(expr, b, structured=structured)["x"]
    assert _kernel_for("jacobian", expr, b)[0] is not None
    if structured:
        assert got.structure == "diagonal"
        np.testing.assert_array_equal(got.values, expected.values)
    np.testing.assert_array_equal(np.asarray(got), expected.to_array())
    assert np.count_nonzero(np.isnan(np.asarray(got))) == np.count_nonzero(np.isnan(expected.diagonal()))


SQUEEZED = ["sin(x) * x**2 + exp(-x)", "x", "x * 1", "tanh(A @ x) * x", "sum(tanh(A @ tanh(A @ x)))",
            "softmax(x) * x", "softmax(x)", "softmax(tanh(x))", "x @ A @ x", "(x * x).reshape(-1) * 2"]


@pytest.mark.parametrize("shape", [(5,), (2, 3)])
@pytest.mark.parametrize("expr", SQUEEZED)
def test_a_batch_of_one_held_squeezed_gives_the_interpreters_bits(expr, shape):
    """A VJP's cotangent and a JVP's tangent are batches of one; the kernel holds them without
    the leading 1 through element-wise ufuncs and reshapes (NumPy's same-shape path): the
    answers are the interpreter's bits, shapes and dtypes, never an input's memory."""
    if "A" in expr and len(shape) > 1:
        return
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    x.flat[:4] = [np.inf, -0.0, np.nan, 0.0]
    b = {"x": x, "A": rng.standard_normal(shape * 2 if len(shape) == 1 else (1, 1))}
    problem = api.prepare(expr, b, ["x"])
    g = problem.graph
    v = rng.standard_normal(g.output_shape)
    (got,) = kernels.vjp_kernel(g, ["x"])(problem.env, v)
    expected = autodiff.vjp(g, problem.values, v[None])["x"][0]
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert not np.shares_memory(got, x) and not np.shares_memory(got, v)
    t = rng.standard_normal(shape)
    (jt,) = kernels.jvp_kernel(g, ["x"])(problem.env, t)
    expected = autodiff.jvp(g, problem.values, {"x": t[None]})[g.output][0]
    assert jt.shape == expected.shape and jt.dtype == expected.dtype
    np.testing.assert_array_equal(jt, expected)
    assert not np.shares_memory(jt, t) and not np.shares_memory(jt, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_of_a_vector_and_its_one_vector_rule_keep_the_broadcast_formulas_bits(dtype):
    """softmax of a 1-d array and its rule on one cotangent ``(1, n)`` take their sums as
    scalars (NumPy's scalar path); the answers are the keepdims formulas' bits."""
    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 8, 9, 17, 100, 1001):
        for special in (None, np.inf, -np.inf, np.nan, -0.0):
            a = (rng.standard_normal(n) * 30).astype(dtype)
            if special is not None:
                a[n // 2] = special
            with np.errstate(all="ignore"):
                e = np.exp(a - np.maximum.reduce(a, axis=0, keepdims=True))
                s = e / np.add.reduce(e, axis=0, keepdims=True)
                got = OPS["softmax"].impl(a, axis=0)
                g = rng.standard_normal((1, n)).astype(dtype)
                rule = np.multiply(s, np.subtract(g, np.add.reduce(np.multiply(g, s), axis=1, keepdims=True)))
                got_rule = OPS["softmax_vjp"].impl(g, s, axis=0)
            for x, y in ((got, s), (got_rule, rule)):
                assert x.dtype == y.dtype and x.shape == y.shape
                assert np.array_equal(x.view(np.uint8), y.view(np.uint8))


def test_the_budget_still_applies_to_hot_vjp_and_jvp_calls():
    """A vjp or jvp kernel carries its product plan's peak: a repeated call whose budget it
    passes is refused as the first call would be, before anything is computed."""
    f = jacobi_cli.compile("exp(x)", {"x": ":300"})
    env, v = {"x": np.ones(300)}, np.ones(300)
    for _ in range(3):
        f.vjp(env, v, budget=2**30)
        f.jvp(env, {"x": v}, budget=2**30)
    hot = {key[0]: k for key, k in f.kernels().items()}
    assert hot["vjp"].peak > 1000 and hot["jvp"].peak > 1000
    with pytest.raises(jacobi_cli.errors.JacLimitError):
        f.vjp(env, v, budget=1000)
    with pytest.raises(jacobi_cli.errors.JacLimitError):
        f.jvp(env, {"x": v}, budget=1000)
    np.testing.assert_array_equal(f.vjp(env, v, budget=2**30)["x"], np.exp(env["x"]))


ELEMENTWISE = ["sin(x) * x**2 + exp(-x)", "exp(x) * x + x**2", "x / (1 + x * x) - sqrt(abs(x))",
               "tanh(x) * c + x**3.5", "-(x * c) / c"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
@pytest.mark.parametrize("expr", ELEMENTWISE)
def test_a_small_elementwise_diagonal_jacobian_runs_along_ones_with_the_dense_passes_bits(expr, mode, dtype):
    """An element-wise graph's small diagonal Jacobian: the interpreter runs a dense pass and
    reads the diagonal off; the kernel runs one pass along ones (entry j meets the same scalar
    ops as the dense entry (j, j)) and stores it on the diagonal. Same bits, specials included."""
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 2.0, -3.5, 1e-310, 1e300], dtype=dtype)
    b = {"x": x, "c": np.linspace(-2, 2, x.size).astype(dtype)}
    problem = api.prepare(expr, b, ["x"], dtype=dtype)
    plan = api.plan_of(problem, mode)
    assert planner._small(plan, problem.graph) and plan.inputs["x"].structure == "diagonal"
    expected = api.jacobians(problem, plan)["x"]
    kernel = kernels.jacobian_kernel(problem.graph, plan, True)
    assert kernel is not None and kernel.gathers[0][0]  # compressed: the pass along ones
    for structured in (False, True):
        got = kernel(problem.env, structured)["x"]
        dense = np.asarray(got)
        assert dense.dtype == expected.to_array().dtype and dense.shape == expected.shape
        assert np.array_equal(dense.view(np.uint8), expected.to_array().view(np.uint8))


def test_a_small_diagonal_jacobian_runs_along_ones_where_the_interpreter_does():
    """The kernel runs along ones exactly where the plan does (``InputPlan.along_ones``: every node
    the derivative passes through is element-wise over x's shape, planner.elementwise_diagonal).
    A sum of another input is a value there (``x * sum(c)``); a reshape on the way is not element-wise,
    so ``(x * 2).reshape(3) * c`` keeps the dense pass read off at its pattern. Either way the
    kernel's bits are the interpreter's."""
    b = {"x": np.array([np.inf, 1.0, -0.0]), "c": np.ones(3)}
    for expr, ones in (("x * sum(c)", True), ("(x * 2).reshape(3) * c", False)):
        problem = api.prepare(expr, b, ["x"])
        plan = api.plan_of(problem)
        assert plan.inputs["x"].structure == "diagonal" and plan.inputs["x"].along_ones == ones, expr
        kernel = kernels.jacobian_kernel(problem.graph, plan, True)
        assert kernel is not None and kernel.gathers[0][0] == ones, expr
        expected = api.jacobians(problem, plan)["x"].to_array()
        assert kernel(problem.env, False)["x"].tobytes() == expected.tobytes(), expr


@pytest.mark.parametrize("v", [np.array(1.5), np.array([1.5]), np.array([[1.5]]), 1.5, None])
def test_a_scalar_outputs_cotangent_held_as_it_comes_gives_the_interpreters_answer(v):
    """A scalar output's cotangent is held 0-d through the element-wise ops (NumPy's scalar
    path); a one-element v of another shape (accepted, as PyTorch does) gives the same answer."""
    api._CACHE.clear()
    rng = np.random.default_rng(12)
    b = {"x": rng.standard_normal(6), "A": rng.standard_normal((6, 6))}
    for expr in ("sum(tanh(A @ tanh(A @ x)))", "x @ A @ x", "sum(x * x)"):
        problem = api.prepare(expr, b)
        expected = api.vjp_of(problem, api.cotangent(problem, v))
        for _ in range(4):
            got = jacobi_cli.vjp(expr, b, v)
        if v is None or np.ndim(v) == 0:  # another shape may stay with the interpreter: the answer counts
            assert [k for k in _kernel_for("vjp", expr, b) if k is not None]
        for name in expected:
            assert got[name].shape == expected[name].shape and got[name].dtype == expected[name].dtype
            np.testing.assert_array_equal(got[name], expected[name])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr,sizes,structure", STRUCTURED + [("exp(x) * x + x**2", {"x": 9}, "diagonal")])
def test_a_structured_jacobians_dense_twin_stores_the_interpreters_bits(expr, sizes, structure, dtype):
    """A Jacobian kernel with a compressed result has a twin that stores it densely itself (a
    diagonal by one strided store), so a repeated dense call is one call: the dense array's
    bits, shape and dtype are the interpreter's, zeros, infinities, NaN and subnormals included."""
    rng = np.random.default_rng(4)
    b = {k: rng.standard_normal(s).astype(dtype) for k, s in sizes.items()}
    name = next(iter(sizes))
    if structure == "diagonal":  # 0 * inf, -0 and subnormals on the diagonal
        b[name].flat[:6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-310 if dtype == "float64" else 1e-40]
    problem = api.prepare(expr, b, [name], dtype=dtype)
    plan = api.plan_of(problem)
    expected = api.jacobians(problem, plan)[name].to_array()
    kernel = kernels.jacobian_kernel(problem.graph, plan, planner._small(plan, problem.graph))
    assert kernel is not None and kernel.gathers[0][0] and kernel.dense is not kernel.kernel
    (got,) = kernel.dense.fn(problem.env)
    stored = kernel(problem.env, True)[name].to_array()  # the compressed result stored outside the kernel
    for dense in (expected, stored):
        assert got.dtype == dense.dtype and got.shape == dense.shape
        assert np.array_equal(got.view(np.uint8), dense.view(np.uint8))
    assert np.array_equal(kernel(problem.env, False)[name].view(np.uint8), expected.view(np.uint8))


def test_repeated_dense_calls_run_the_twin_and_a_structured_first_call_keeps_it_out():
    """The twin is checked against the interpreter's dense arrays when the kernel is made; a
    kernel made at a structured call has none at hand, so it keeps no twin (and still answers)."""
    x = np.array([np.inf, -0.0, np.nan, 2.0, 1e-310])
    expr = "sin(x) * x**2 + exp(-x)"
    expected = api.jacobians(api.prepare(expr, {"x": x}))["x"].to_array()
    for structured, twin in ((False, True), (True, False)):
        api._CACHE.clear()
        for _ in range(2):
            jacobi_cli.jacobian(expr, {"x": x}, structured=structured)
        (kernel,) = _kernel_for("jacobian", expr, {"x": x})
        assert (kernel.dense is not None) == twin
        for _ in range(2):
            got = jacobi_cli.jacobian(expr, {"x": x})["x"]
            assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_a_repeated_call_refuses_a_dense_jacobian_past_the_budget_as_the_first_call_does():
    """dense() refuses a structured Jacobian whose dense array passes the budget; a repeated
    call through a kernel refuses it too (it made the array past the budget, third call on)."""
    api._CACHE.clear()
    x = np.linspace(-1, 1, 2000)  # the diagonal fits 16 MB, its dense array (32 MB) does not
    for _ in range(4):
        with pytest.raises(jacobi_cli.errors.JacLimitError):
            jacobi_cli.jacobian("sin(x) * x**2", {"x": x}, max_memory="16M")
    for _ in range(3):
        assert jacobi_cli.jacobian("sin(x) * x**2", {"x": x}, max_memory="16M", structured=True)["x"].nnz == 2000
    f = jacobi_cli.compile("sin(x) * x**2", {"x": x})
    for _ in range(3):
        f.jacobian({"x": x}, budget=2**30)
    with pytest.raises(jacobi_cli.errors.JacLimitError):
        f.jacobian({"x": x}, budget=16 * 2**20)
    with pytest.raises(jacobi_cli.errors.JacLimitError):
        f.jacobian({"x": x}, budget=16 * 2**20, layout="numerator")
    assert f.jacobian({"x": x}, budget=16 * 2**20, structured=True)["x"].structure == "diagonal"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_multiplies_a_matrix_by_a_1d_vector_as_by_a_batch_of_one_column(dtype):
    """What the kernels' 1-d matrix-vector products rest on (see kernels._Source._vector_shape):
    ``M @ g`` with g 1-d gives the bits of ``M @ g.reshape(1, n, 1)`` (and ``g @ M`` those of
    ``(1, 1, n)``), for C- and F-ordered matrices, sizes around BLAS's blocking, specials too."""
    rng = np.random.default_rng(13)
    for n in (1, 2, 3, 7, 8, 16, 33, 100, 257):
        for m in {1, n, n + 3}:
            M = rng.standard_normal((m, n)).astype(dtype)
            g = rng.standard_normal(n).astype(dtype)
            if n > 4:
                g[:4] = [np.inf, np.nan, -0.0, 1e-310 if dtype == np.float64 else 1e-40]
            for matrix in (M, np.asfortranarray(M), M.T.copy().T):
                with np.errstate(all="ignore"):
                    pairs = [(matrix @ g, (matrix @ g.reshape(1, n, 1)).reshape(m)),
                             (g @ matrix.T, (g.reshape(1, 1, n) @ matrix.T).reshape(m))]
                for got, expected in pairs:
                    assert got.dtype == expected.dtype
                    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), (n, m)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", ["sum(tanh(A @ tanh(A @ x)))", "tanh(A @ x)", "x @ A @ x", "sum((x @ A) * x)",
                                  "A @ (A @ x)"])
def test_a_batch_of_one_meets_a_matrix_as_a_1d_vector_with_the_interpreters_bits(expr, dtype):
    """A VJP's cotangent (a scalar output's Jacobian pass too) multiplied by a matrix is held
    1-d, no (1, n, 1) reshape: the answers are the interpreter's bits at every size tried."""
    rng = np.random.default_rng(14)
    for n in (1, 2, 5, 10, 33, 100):
        x = rng.standard_normal(n).astype(dtype)
        if n > 3:
            x[:3] = [np.inf, -0.0, np.nan]
        b = {"x": x, "A": (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)}
        problem = api.prepare(expr, b, ["x"], dtype=dtype)
        g = problem.graph
        v = rng.standard_normal(g.output_shape).astype(dtype)
        kernel = kernels.vjp_kernel(g, ["x"])
        (got,) = kernel(problem.env, v)
        expected = autodiff.vjp(g, problem.values, v[None])["x"][0]
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got.view(np.uint8), np.asarray(expected).view(np.uint8)), n
        if "tanh(A @ x)" in expr and n > 1:  # M.T @ g: the cotangent stays 1-d through the product
            assert not [s for s in kernel.fn.__globals__.values() if type(s) is tuple and s == (1, n, 1)], n
        plan = api.plan_of(problem)
        jacobian = kernels.jacobian_kernel(g, plan, planner._small(plan, g))
        expected = api.jacobians(problem, plan)["x"].to_array()
        got = jacobian(problem.env, False)["x"]
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), n


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("expr", ["x**2", "x**2.0", "pow(x, 2)", "torch.pow(x, 2.0) * 1.0"])
def test_the_derivative_of_a_square_is_two_x_without_a_power_in_every_pass(expr, dtype):
    """d/dx x**2 = 2 * x**1 = 2 * x: x**1 is x for every x (IEEE 754), so the rule multiplies x
    itself, one power call less per pass. The interpreter, the kernel and the traced gradient
    take the same rule: the bits are 2 * x's, NaN payloads, -0, infinities and subnormals too."""
    nan_payload = np.frombuffer(np.array([0x7FF8000000000123], dtype=np.uint64).tobytes(), np.float64)[0]
    x = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, nan_payload, 1e-310, 3e300], dtype=dtype)
    two_x = np.multiply(2.0, x, dtype=dtype)
    problem = api.prepare(expr, {"x": x}, ["x"], dtype=np.dtype(dtype).name)
    g, v = problem.graph, np.ones(x.shape, dtype)
    interpreted = autodiff.vjp(g, problem.values, v[None])["x"][0]
    kernel = kernels.vjp_kernel(g, ["x"])
    (got,) = kernel(problem.env, v)
    forward = autodiff.jvp(g, problem.values, {"x": v[None]})[g.output][0]
    for answer in (interpreted, got, forward):
        assert answer.dtype == dtype and np.array_equal(answer.view(np.uint8), two_x.view(np.uint8))
    powers = [n for n in kernel.fn.__globals__.values() if n is np.power]
    assert not powers  # the VJP never needs the value x**2 itself, and its derivative has no power
    hess = api.hessian(expr, {"x": x[2:4]}, dtype=np.dtype(dtype).name)[("x", "x")]
    expected = np.zeros((2, 2, 2), dtype)
    expected[[0, 1], [0, 1], [0, 1]] = 2.0  # d²y_i / dx_i²
    np.testing.assert_array_equal(hess, expected)


def _nan_with_payload(payload: int, dtype) -> np.ndarray:
    bits = np.array([0x7FF8000000000000 | payload], dtype=np.uint64)
    return np.frombuffer(bits.tobytes(), np.float64).astype(dtype)  # float32 keeps the payload's top bits


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_vjp_of_the_identity_skips_the_row_sums_with_the_general_branchs_bits(dtype):
    """A small softmax Jacobian's dense pass is ``softmax_vjp(eye, s)``: where every s_j is finite
    its row sums are s itself (zeros of either sign added to s_b); with an inf or NaN (two NaNs of
    different payloads: the row sums mix them) the kernel's function runs the row sums as the
    op's impl does. Bit for bit, for every vector here."""
    tiny = np.finfo(dtype).smallest_subnormal
    nan_a, nan_b = _nan_with_payload(0x123, dtype)[0], _nan_with_payload(0x456 << 29, dtype)[0]
    vectors = [np.array([0.1, 0.2, 0.7]), np.array([0.0, -0.0, 1.0, 0.0]), np.array([-0.0, -0.0]),
               np.array([-2.5, 0.0, 3.0, -0.0, tiny, -tiny]), np.array([1e300, 2.0, -1e300]),
               np.array([1e200, 1e200, 0.5]), np.array([np.inf, 0.5, 0.0]), np.array([0.2, -np.inf, -0.0]),
               np.array([nan_a, 0.3, nan_b, -0.0]), np.array([0.5, nan_b, 0.5]), np.array([nan_a, nan_b])]
    for s in vectors:
        with np.errstate(all="ignore"):
            s = s.astype(dtype)  # 1e300 is inf in float32
            eye = np.eye(s.size, dtype=dtype)
            expected = OPS["softmax_vjp"].impl(eye, s, axis=0)
            got = ops.softmax_vjp_of_identity(eye, s)
        assert got.dtype == expected.dtype == dtype
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), s


def _softmax_inputs(dtype) -> list:
    """Vectors for softmax: ±0, subnormals, ±inf, NaNs of two payloads, values whose differences
    overflow, all of one value."""
    nan_a, nan_b = _nan_with_payload(0x123, np.float64)[0], _nan_with_payload(0x456 << 29, np.float64)[0]
    tiny = np.finfo(dtype).smallest_subnormal
    inputs = [np.linspace(-3, 3, 7), np.array([0.0, -0.0, 800.0, -800.0, 1e-310]),
              np.array([np.inf, 1.0, 2.0, -np.inf]), np.array([nan_a, 1.0, nan_b, 0.0]), np.array([-np.inf] * 3),
              np.array([-0.0, -0.0]), np.array([tiny, -tiny, 0.0, -0.0]), np.array([1e308, -1e308, 0.5]),
              np.array([3e38, -3e38, 1.0]), np.array([np.inf, np.inf]), np.array([2.0, np.nan]),
              np.array([-np.inf, 0.0, -np.inf]), np.array([88.0, 89.0, -104.0, 710.0, -746.0]), np.full(5, 7.25)]
    with np.errstate(all="ignore"):
        return [x.astype(dtype) for x in inputs]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_small_softmax_jacobian_kernel_calls_the_identitys_rule_with_the_interpreters_bits(dtype):
    """softmax(a)'s Jacobian kernel: one call for the softmax and its Jacobian when nothing else
    reads the softmax (ops.softmax_jacobian_of_vector), else the identity's rule on it."""
    for x in _softmax_inputs(dtype):
        for expr, fused in (("softmax(x)", True), ("softmax(x * 2.0)", True), ("softmax(tanh(x))", True),
                            ("softmax(x) + x", False)):
            problem = api.prepare(expr, {"x": x}, ["x"], dtype=dtype)
            plan = api.plan_of(problem)
            assert planner._small(plan, problem.graph)
            expected = api.jacobians(problem, plan)["x"].to_array()
            kernel = kernels.jacobian_kernel(problem.graph, plan, True)
            used = _ops_in(kernel.kernel)
            assert (ops.softmax_jacobian_of_vector in used) == fused
            assert (ops.softmax_vjp_of_identity in used) == (not fused)
            for got in (kernel(problem.env, False)["x"], kernel.dense.fn(problem.env)[0]):
                assert got.dtype == expected.dtype and got.shape == expected.shape and got.flags.c_contiguous
                assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), (expr, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_and_its_jacobian_in_one_call_keep_the_two_calls_bits(dtype):
    """``softmax_jacobian_of_vector(eye, a)`` tests the maximum of ``a`` for finiteness where
    ``softmax_vjp_of_identity`` tests ``s · s``: the same branch, the same bits, for every vector
    here and random ones with specials planted."""
    rng = np.random.default_rng(5)
    vectors = _softmax_inputs(dtype)
    for n in (2, 3, 8, 17, 32):
        for special in (np.inf, -np.inf, np.nan, -0.0, 1e-310, 1e308):
            a = rng.standard_normal(n) * 40
            a[rng.integers(n)] = special
            with np.errstate(all="ignore"):
                vectors.append(a.astype(dtype))
    for a in vectors:
        eye = np.eye(a.size, dtype=dtype)
        with np.errstate(all="ignore"):
            expected = ops.softmax_vjp_of_identity(eye, OPS["softmax"].impl(a, axis=0))
            general = OPS["softmax_vjp"].impl(eye, OPS["softmax"].impl(a, axis=0), axis=0)
            got = ops.softmax_jacobian_of_vector(eye, a)
        assert got.dtype == expected.dtype == dtype and got.flags.c_contiguous
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), a
        assert np.array_equal(got.view(np.uint8), general.view(np.uint8)), a


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [33, 40, 67, 129])
def test_a_softmax_jacobian_past_the_small_size_forms_its_outer_product_as_the_interpreter_does(n, dtype):
    """Past the small size the structured interpreter (``softmax_vjp_rule``) and the kernel
    (``softmax_vjp``'s basis branch) both write ``-<g, s>_b s_i`` with ``structured.outer_product``:
    NumPy's buffered and unbuffered loops may pass on different NaNs of two NaN operands, so the
    two passes must call the same function. Bit for bit, NaNs of two payloads and -0 included."""
    nan_a, nan_b = _nan_with_payload(0x123, np.float64)[0], _nan_with_payload(0x456 << 29, np.float64)[0]
    rng = np.random.default_rng(n)
    inputs = [rng.standard_normal(n), np.where(np.arange(n) % 5 == 1, nan_a, rng.standard_normal(n)),
              np.where(np.arange(n) % 3 == 0, nan_b, np.where(np.arange(n) % 3 == 1, nan_a, -np.inf)),
              np.where(np.arange(n) % 4 == 0, np.inf, -0.0), np.full(n, -np.inf)]
    for x in inputs:
        x = x.astype(dtype)
        problem = api.prepare("softmax(x)", {"x": x}, ["x"], dtype=dtype)
        plan = api.plan_of(problem)
        assert not planner._small(plan, problem.graph)
        expected = api.jacobians(problem, plan)["x"].to_array()
        kernel = kernels.jacobian_kernel(problem.graph, plan, False)
        got = kernel(problem.env, False)["x"]
        assert got.dtype == expected.dtype
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_unbuffered_outer_product_is_numpys_outer_product_on_numbers(dtype):
    """``outer_product`` runs NumPy's multiply with a 16-element iteration buffer: every product
    of numbers (±0, subnormals, ±inf, overflow) is the IEEE product np.multiply.outer gives, for
    rows shorter and longer than the buffer; the error state of the caller is kept."""
    from jacobi_cli.ir.structured import outer_product
    tiny = np.finfo(dtype).smallest_subnormal
    values = np.array([0.0, -0.0, tiny, -tiny, 1.5, -3.25, np.inf, -np.inf, 1e30, -7e-30], dtype)
    rng = np.random.default_rng(0)
    for n in (1, 3, 16, 17, 100, 1000):
        a, b = rng.choice(values, n), rng.choice(values, n) * rng.standard_normal(n).astype(dtype)
        with np.errstate(all="ignore"):
            expected, got = np.multiply.outer(a, b), outer_product(a, b)
        assert got.dtype == dtype and got.shape == (n, n) and got.flags.c_contiguous
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), n
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError):
            outer_product(np.array([1e300]), np.array([1e300]))
    assert np.getbufsize() == 8192


def _layouts(M: np.ndarray) -> list:
    """The matrix C- and F-contiguous, a strided view, and (float64) a misaligned copy."""
    out = [M, np.asfortranarray(M), np.repeat(M, 2, axis=1)[:, ::2]]
    raw = np.zeros(M.nbytes + 1, np.uint8)[1:]  # one byte off the allocation's alignment
    out.append(np.frombuffer(raw, M.dtype).reshape(M.shape))
    out[-1][...] = M
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_dot_and_matmul_make_the_same_gemv_call_for_blas_laid_out_operands(dtype):
    """What the kernels' np.dot rests on (kernels._Source._product): for a C- or F-contiguous,
    aligned 2-d matrix (m, n >= 2) and a contiguous, aligned vector, ``np.dot`` gives
    ``np.matmul``'s bits, either order; random values with ±0, ±inf, NaNs of two payloads,
    subnormals and overflows, at sizes around OpenBLAS's blocking and its threading (m·n ≥ 9216)."""
    rng = np.random.default_rng(17)
    nan_a, nan_b = _nan_with_payload(0x123, dtype)[0], _nan_with_payload(0x456 << 29, dtype)[0]
    tiny, big = np.finfo(dtype).smallest_subnormal, np.finfo(dtype).max / 4
    specials = np.array([0.0, -0.0, np.inf, -np.inf, nan_a, nan_b, tiny, -tiny, big, -big], dtype)
    for m, n in [(2, 2), (2, 3), (3, 2), (4, 4), (5, 17), (10, 10), (16, 33), (31, 8), (64, 65), (100, 100), (130, 97)]:
        for trial in range(4):
            M = rng.standard_normal((m, n)).astype(dtype)
            v, w = rng.standard_normal(n).astype(dtype), rng.standard_normal(m).astype(dtype)
            if trial:  # sprinkle specials into both operands
                for a in (M.reshape(-1), v, w):
                    at = rng.integers(0, a.size, max(1, a.size // (3 * trial)))
                    a[at] = rng.choice(specials, at.size)
            for matrix in (M, np.asfortranarray(M)):
                assert matrix.flags.aligned and (matrix.flags.c_contiguous or matrix.flags.f_contiguous)
                with np.errstate(all="ignore"):
                    pairs = [(np.dot(matrix, v), np.matmul(matrix, v)), (np.dot(w, matrix), np.matmul(w, matrix)),
                             (np.dot(matrix.T, w), np.matmul(matrix.T, w)),
                             (kernels._DOT(matrix, v), np.matmul(matrix, v)),  # the kernels' dot
                             (kernels._DOT(matrix.T, w), np.matmul(matrix.T, w))]
                for got, expected in pairs:
                    assert got.dtype == expected.dtype == dtype and got.shape == expected.shape
                    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), (m, n, trial)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", ["sum(tanh(A @ tanh(A @ x)))", "tanh(A @ x)", "x @ A @ x", "A @ (A @ x)",
                                  "(x @ A) * x", "B @ tanh(A @ x)"])
def test_kernels_take_np_dot_only_for_laid_out_inputs_with_the_interpreters_bits(expr, dtype):
    """A kernel's matrix-vector product is np.dot where the matrix input is C- or F-contiguous and
    aligned (and the vector too, input or made by a ufunc), np.matmul otherwise: a strided,
    misaligned, read-only or subclassed input, given on a later call of the same kernel, still
    gets the interpreter's bits."""
    rng = np.random.default_rng(18)
    for n in (2, 10, 33):
        x = rng.standard_normal(n).astype(dtype)
        x[:2] = [np.inf, -0.0]
        A = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
        B = rng.standard_normal((3, n)).astype(dtype)
        problem = api.prepare(expr, {"x": x, "A": A, "B": B} if "B" in expr else {"x": x, "A": A}, ["x"], dtype=dtype)
        g = problem.graph
        kernel = kernels.vjp_kernel(g, ["x"])
        assert kernel.fn.__globals__.get("_dot") is kernels._DOT  # np.dot's C function, no dispatcher
        assert any(n.startswith("_v") for n in kernel.fn.__code__.co_varnames)  # an input vector (x, v): checked
        v = rng.standard_normal(g.output_shape).astype(dtype)
        plan = api.plan_of(problem)
        jacobian = kernels.jacobian_kernel(g, plan, planner._small(plan, g))
        for A2 in _layouts(A) + [A.copy().view(_Subclass)]:  # a subclass: matmul, as the interpreter
            for x2 in (x.copy(), x.repeat(2)[::2], _layouts(x[None])[3][0], _read_only(x), x.copy().view(_Subclass)):
                env = dict(problem.env, A=A2, x=x2)
                # the interpreter on the same arrays (api.prepare would lay them out in C order, session 56)
                p2 = compiled.Problem(g, env, ["x"], autodiff.evaluate(g, env), problem.compiled)
                for v2 in (v, v.repeat(2)[::2], _layouts(v[None])[3][0]) if v.ndim == 1 else (v,):  # the cotangent too
                    (got,) = kernel(env, v2)
                    expected = autodiff.vjp(g, p2.values, v2[None])["x"][0]
                    assert got.tobytes() == np.asarray(expected).tobytes(), n
                # Jacobians at finite x: past the small size the diagonal kernel of (x @ A) * x
                # gives +0 where the structured interpreter gives -0 at x_i = -0 (found here, left)
                writeable, x2.flags.writeable = x2.flags.writeable, True  # a read-only one: made so again
                env["x"][...] = np.where(np.isfinite(x) & (x != 0), x, 0.5)
                x2.flags.writeable = writeable
                p2 = compiled.Problem(g, env, ["x"], autodiff.evaluate(g, env), problem.compiled)
                try:
                    got = jacobian(env, False)["x"]
                except kernels.Unlaid:  # traced for C-contiguous inputs (kernels._c_ordered): the interpreter's call
                    assert not all(type(a) is np.ndarray and a.flags.c_contiguous for a in env.values())
                    continue
                expected = api.jacobians(p2, api.plan_of(p2))["x"].to_array()
                assert got.tobytes() == expected.tobytes(), n


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flags.writeable = False
    return a


class _Subclass(np.ndarray):
    """An ndarray subclass: a kernel's np.dot (no __array_function__ dispatch) must not take it."""


def _signalling_nan(dtype) -> np.ndarray:
    bits = np.array([0x7FF0000000000001 | (0x5A << 32)], dtype=np.uint64)  # quiet bit clear
    if dtype == np.float32:
        return np.frombuffer(np.array([0x7F80005A], np.uint32).tobytes(), np.float32)
    return np.frombuffer(bits.tobytes(), np.float64)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", ["x @ A @ x", "x @ x", "sum(x @ A)", "(x @ A) @ (A @ x)", "x @ A @ x * 2.0"])
def test_a_product_with_the_scalar_seed_is_an_add_of_zero_with_the_interpreters_bits(expr, dtype):
    """A scalar output's seed (1, 1, 1) of ones meets a row or a column in a matmul whose inner
    length is 1: NumPy's no-BLAS loop computes 0 + 1 · v, which the kernel writes as v + 0 (no
    matmul call): -0 becomes +0, a signalling NaN is quieted, NaN payloads kept, the same bits."""
    rng = np.random.default_rng(19)
    nan_a, nan_b = _nan_with_payload(0x123, dtype)[0], _nan_with_payload(0x456 << 29, dtype)[0]
    snan, tiny = _signalling_nan(np.dtype(dtype))[0], np.finfo(dtype).smallest_subnormal
    for n in (2, 10, 40):
        for specials in ([], [-0.0, 0.0], [nan_a, -0.0, np.inf], [snan, -np.inf, tiny, -tiny], [nan_b, -nan_a]):
            x = rng.standard_normal(n).astype(dtype)
            specials = specials[:n]
            x[:len(specials)] = specials
            A = rng.standard_normal((n, n)).astype(dtype)
            A[0, :2] = [-0.0, 0.0]
            problem = api.prepare(expr, {"x": x, "A": A}, ["x"], dtype=dtype)
            plan = api.plan_of(problem)
            kernel = kernels.jacobian_kernel(problem.graph, plan, planner._small(plan, problem.graph))
            with np.errstate(all="ignore"):
                expected = api.jacobians(problem, plan)["x"].to_array()
                got = kernel(problem.env, False)["x"]
            assert got.dtype == expected.dtype and got.shape == expected.shape
            assert got.tobytes() == expected.tobytes(), (n, specials)
    seeds = [k for k, v in kernel.kernel.fn.__globals__.items() if isinstance(v, np.ndarray) and v.shape == (1, 1, 1)]
    assert bool(seeds) == ("2.0" in expr)  # a seed of 2 (x @ A @ x * 2.0) is a product left as it is


@pytest.mark.parametrize("broken", ["missing", "signature", "returns"])
def test_the_outer_product_falls_back_to_numpys_when_its_private_api_changes(monkeypatch, broken):
    """``outer_product`` leans on NumPy's private ``_extobj_contextvar`` / ``_make_extobj``: gone, with
    another signature, or making what the ufunc cannot read, it is ``np.multiply.outer`` itself, same
    bytes, and the caller's error state is still honoured."""
    from jacobi_cli.ir import structured
    fakes = {"missing": None,
             "signature": lambda: None,  # takes no bufsize= any more: TypeError at the call
             "returns": lambda **kw: "not an extobj"}  # the ufunc raises on it
    monkeypatch.setattr(structured, "_make_extobj", fakes[broken])
    if broken == "missing":
        monkeypatch.setattr(structured, "_EXTOBJ", None)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(40), rng.standard_normal(40)
    a[[0, 3]], b[[1, 5]] = [np.inf, -0.0], [np.nan, -np.inf]
    with np.errstate(all="ignore"):
        got, expected = structured.outer_product(a, b), np.multiply.outer(a, b)
    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError):
            structured.outer_product(np.array([1e300]), np.array([1e300]))
    assert np.getbufsize() == 8192


@pytest.mark.parametrize("n", [1, 2, 7, 8, 16, 33])
def test_x_at_a_times_x_with_inf_nan_and_signed_zeros_kernel_equals_interpreter(n):
    """A reported sign-of-zero difference of ``(x @ A) * x`` at n = 33 with inf and -0 in the inputs (kernel +0,
    interpreter -0): a held compiled function's repeated calls (kernels where built: the Jacobian's at small
    n, the VJP's and JVP's) give a fresh one's first call (the interpreter) byte for byte."""
    from jacobi_cli.tools import api
    rng = np.random.default_rng(n)
    special = np.array([np.inf, -np.inf, -0.0, 0.0, np.nan, 1.5, -2.0])

    def draw(shape):
        a = rng.standard_normal(shape)
        mask = rng.random(shape) < 0.3
        a[mask] = rng.choice(special, int(mask.sum()))
        return a

    def same(a, b):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))

    expr, shapes = "(x @ A) * x", {"x": f":{n}", "A": f":{n}x{n}"}
    held = api.compile(expr, shapes)
    for _ in range(3):
        env, v = {"x": draw(n), "A": draw((n, n))}, draw(n)
        tangents = {"x": draw(n), "A": draw((n, n))}
        with np.errstate(all="ignore"):
            for _ in range(2):
                kj, kv, kt = held.jacobian(env), held.vjp(env, v), held.jvp(env, tangents)
            ij = api.compile(expr, shapes).jacobian(env)
            iv = api.compile(expr, shapes).vjp(env, v)
            it = api.compile(expr, shapes).jvp(env, tangents)
        assert all(same(kj[k], ij[k]) and same(kv[k], iv[k]) for k in ij) and same(kt, it)
    assert held.kernels()[("vjp", None, (n,))] is not None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", ["sin(x) * x**2 + exp(-x)", "tanh(A @ x)", "sum(tanh(A @ tanh(A @ x)))", "x @ A @ x",
                                  "1 - x * x", "x / 3.0 + 2.5 * x", "x - 0.1", "(x + 1e300) * 2", "7 * x - x / 1e-30"])
def test_a_constant_made_a_full_array_gives_the_interpreters_bits(expr, dtype, monkeypatch):
    """A number (or 0-d constant) operand of add, sub, mul or div is a full array of the other
    operand's shape in the kernel (kernels._Source._full_constant_line), where that operand is an
    exact ndarray of the kernel's dtype. Its bits are the interpreter's (value, VJP, Jacobian) with
    -0, NaNs of two payloads, ±inf, subnormals and overflows, and the kernel without full arrays'
    for inputs the full array must not take (another dtype: a held Compiled's caller; a subclass)
    and read-only or strided ones."""
    rng = np.random.default_rng(23)
    nan_a, nan_b = _nan_with_payload(0x123, dtype)[0], _nan_with_payload(0x456 << 29, dtype)[0]
    tiny = np.finfo(dtype).smallest_subnormal
    specials = [-0.0, 0.0, nan_a, -nan_b, np.inf, -np.inf, tiny, -tiny, np.finfo(dtype).max]
    n = 12
    x = rng.standard_normal(n).astype(dtype)
    x[:len(specials)] = specials
    A = (rng.standard_normal((n, n)) / 4).astype(dtype)
    problem = api.prepare(expr, {"x": x, "A": A} if "A" in expr else {"x": x}, ["x"], dtype=dtype)
    g = problem.graph
    plan = api.plan_of(problem)

    def made():  # value, VJP and Jacobian kernels
        return (kernels.evaluate_kernel(g), kernels.vjp_kernel(g, ["x"]),
                kernels.jacobian_kernel(g, plan, planner._small(plan, g)))

    value, vjp, jacobian = made()
    monkeypatch.setattr(kernels, "_FULL_OPS", ())  # the general path: the constants as they are
    plain = made()
    monkeypatch.undo()

    def constants(k):
        return [a for name, a in k.fn.__globals__.items() if re.fullmatch(r"C\d+", name)]
    full = constants(value) + constants(vjp) + constants(jacobian.kernel)
    assert full or (dtype == "float32" and expr == "x - 0.1")  # 0.1 is not exact in float32: left a number
    assert all(not a.flags.writeable for a in full)
    assert not constants(plain[0]) + constants(plain[1]) + constants(plain[2].kernel)
    other = "float32" if dtype == "float64" else "float64"
    for x2 in (x.copy(), x.repeat(2)[::2], _read_only(x), x.copy().view(_Subclass), x.astype(other)):
        env = dict(problem.env, x=x2)
        v = rng.standard_normal(g.output_shape).astype(x2.dtype)
        with np.errstate(all="ignore"):
            try:
                got = [value(env)[0], vjp(env, v)[0], jacobian(env, False)["x"]]
                general = [plain[0](env)[0], plain[1](env, v)[0], plain[2](env, False)["x"]]
            except kernels.Unlaid:  # lines wrote over temporaries by the inputs' dtype (test_kernels37):
                assert x2.dtype != dtype  # another dtype is the interpreter's
                continue
            if x2.dtype == dtype:  # the interpreter's (a Compiled's inputs are of its dtype)
                p2 = compiled.Problem(g, env, ["x"], autodiff.evaluate(g, env), problem.compiled)
                assert same_bits(general, [p2.output, autodiff.vjp(g, p2.values, v[None])["x"][0],
                                           api.jacobians(p2, plan)["x"].to_array()])
        assert same_bits(got, general), x2.dtype


def same_bits(got: list, expected: list) -> bool:
    got, expected = [np.asarray(a) for a in got], [np.asarray(a) for a in expected]
    return all(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() for a, b in zip(got, expected))


def test_only_exact_numbers_and_float_0d_arrays_without_nan_become_full_arrays():
    full = kernels._full_constant
    f64, f32 = np.dtype(np.float64), np.dtype(np.float32)
    assert full(2, (3,), f32).dtype == f32 and full(2.5, (2, 2), f64).tolist() == [[2.5, 2.5], [2.5, 2.5]]
    assert full(np.zeros((), f32), (3,), f64).dtype == f32  # a 0-d array keeps its own dtype (it is not weak)
    for value, dtype in [(0.1, f32), (10**400, f64), (2**60 + 1, f64), (float("nan"), f64), (True, f64),
                         (np.full((), np.nan), f64), (np.zeros(2), f64), (np.zeros((), int), f64), ("2", f64)]:
        assert full(value, (3,), dtype) is None, value
    assert not full(-0.0, (3,), f64).flags.writeable and np.signbit(full(-0.0, (3,), f64)).all()


@pytest.mark.parametrize("busy", [True, False])
def test_a_kernel_of_a_product_blas_splits_takes_one_blas_thread_only_when_the_machine_is_busy(monkeypatch, busy):
    """The kernel makes threads_for's choice (blas.load_threads): E2's VJP at n = 100 (a gemv of 10⁴
    multiply-adds, which OpenBLAS would split) runs with one BLAS thread when the load average says the cores
    are taken."""
    entered = []

    class Recorded:
        def __enter__(self):
            entered.append(True)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(blas, "OneThread", Recorded)
    monkeypatch.setattr(blas, "busy_in_second", lambda second: busy)
    rng = np.random.default_rng(9)
    b = {"x": rng.standard_normal(100), "A": rng.standard_normal((100, 100))}
    problem = api.prepare("x @ A @ x", b, ["x"])
    kernel = kernels.vjp_kernel(problem.graph, ["x"])
    assert kernel.products >= kernels.SPLIT
    got = kernel(problem.env, np.array(1.5))[0]
    want = autodiff.vjp(problem.graph, autodiff.evaluate(problem.graph, problem.env), np.full((1,), 1.5))["x"]
    assert entered == ([True] if busy else [])
    assert got.tobytes() == np.asarray(want).reshape(100).tobytes()


@pytest.mark.parametrize("expr", [
    "torch.linalg.eigvalsh((sum(A) * ones(3, 3) @ (sum(A) * ones(3, 3)).T) / 10 + diag([1.0, 2.0, 3.5]))",
    "torch.linalg.cholesky((mean(A) * ones(3, 3)) @ (mean(A) * ones(3, 3)).T * 0.1 + diag([1.0, 2.0, 3.5]))",
])
def test_a_derivative_kernel_compiled_at_zero_keeps_the_interpreters_bits_at_other_values(expr):
    """A kernel compiled at A = 0 rounded otherwise by one ulp at A[1, 2] = 1 (tests/test_compiled.py's
    hypothesis test found both): the builder handed on a transposed view for ``g * ones`` and the sum
    after it added in another order (kernels._c_ordered). The kernels are built, and every call at
    other values is the interpreter's, bit for bit."""
    from jacobi_cli.engine.compiled import Compiled, jacobians, jvp_of, tangents_of, vjp_of

    f = Compiled(expr, {"A": (2, 3)})
    zero = {"A": np.zeros((2, 3))}
    v, t = np.ones(f.graph.output_shape), {"A": np.ones((2, 3))}
    for _ in range(3):
        f.jacobian(zero)
        f.vjp(zero, v)
        f.jvp(zero, t)
    rng = np.random.default_rng(5)
    for other in [np.array([[0, 0, 0], [0, 0, 1.0]])] + [rng.uniform(-1, 1, (2, 3)) for _ in range(20)]:
        problem = f.bind({"A": other})
        assert np.asarray(f.jacobian({"A": other})["A"]).tobytes() == jacobians(problem)["A"].to_array().tobytes()
        assert f.vjp({"A": other}, v)["A"].tobytes() == vjp_of(problem, v)["A"].tobytes()
        assert f.jvp({"A": other}, t).tobytes() == jvp_of(problem, tangents_of(problem, t)).tobytes()
    assert f.kernels() and all(k is not None for k in f.kernels().values())
