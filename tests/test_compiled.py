"""The compiled function: no hidden state, so threads and repeated calls get the interpreter's answers.

- Eight threads call every API function at once, on mixed expressions and shapes, while
  others plan new expressions (their dry runs must never leak into another thread's pass);
  every answer equals the single-threaded one, and the process is still right afterwards.
- A kernel (a repeated call compiled) gives what the interpreter gives for every value:
  random expressions from the fuzz grammar, values with 0, inf and NaN, values changing
  from call to call; structure and values identical, NaN where NaN.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import jacobi_cli
from jacobi_cli.engine import compiled as compiled_module
from jacobi_cli.engine.compiled import Compiled, jacobians, jvp_of, tangents_of, vjp_of
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_fuzz import INPUTS, typed_expressions

CALLS = [
    ("jacobian", "tanh(x) * x", {"x": (3000,)}),
    ("jacobian", "sin(x) * x**2 + exp(-x)", {"x": (7,)}),
    ("jacobian", "tanh(A @ x)", {"A": (5, 4), "x": (4,)}),
    ("jacobian", "softmax(x)", {"x": (6,)}),
    ("vjp", "sum(x * y) + x @ y", {"x": (9,), "y": (9,)}),
    ("vjp", "log1p(x**2) * 3", {"x": (5,)}),
    ("jvp", "x @ A @ x", {"x": (3,), "A": (3, 3)}),
    ("evaluate", "prod(x) + norm(x)", {"x": (4,)}),
    ("hessian", "sum(sin(x) * y)", {"x": (3,), "y": (3,)}),
    ("plan", "x[:, None] * y", {"x": (40,), "y": (30,)}),
]


def _inputs(shapes: dict, k: int) -> dict:
    rng = np.random.default_rng(k)
    return {n: rng.uniform(-1, 1, s) for n, s in shapes.items()}


def _call(kind: str, expr: str, inputs: dict):
    if kind == "jacobian":
        return jacobi_cli.jacobian(expr, inputs)
    if kind == "vjp":
        return jacobi_cli.vjp(expr, inputs, v="ones")
    if kind == "jvp":
        return jacobi_cli.jvp(expr, inputs, {n: np.ones_like(v) for n, v in inputs.items()})
    if kind == "evaluate":
        return jacobi_cli.evaluate(expr, inputs)
    if kind == "hessian":
        return jacobi_cli.hessian(expr, inputs)
    return jacobi_cli.plan(expr, inputs, max_memory="1G").explain()  # the default budget moves with the machine


def _equal(a, b) -> bool:
    if isinstance(a, Exception):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return a == b
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_eight_threads_get_the_single_threaded_answers():
    old = sys.getswitchinterval()
    jobs = [(kind, expr, _inputs(shapes, k)) for k in range(6) for kind, expr, shapes in CALLS]
    api._CACHE.clear()
    expected = [_call(*job) for job in jobs]
    api._CACHE.clear()
    stop = threading.Event()

    def planner():  # new expressions and shapes, planned while the others compute
        n = 3
        while not stop.is_set():
            jacobi_cli.plan(f"tanh(x) * sum(x) + {n}", {"x": np.ones(n % 50 + 2)})
            n += 1

    def answer(i):
        try:
            return i, _call(*jobs[i])
        except Exception as err:  # noqa: BLE001 - a wrong answer, reported below
            return i, err

    order = list(range(len(jobs))) * 3
    np.random.default_rng(0).shuffle(order)
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            background = [pool.submit(planner) for _ in range(2)]
            try:
                got = list(pool.map(answer, order))
            finally:
                stop.set()
            for b in background:
                b.result()
    finally:
        sys.setswitchinterval(old)
    wrong = [jobs[i][:2] for i, found in got if not _equal(found, expected[i])]
    assert not wrong, f"{len(wrong)} of {len(got)} answers differ from the single-threaded ones: {wrong[:5]}"
    after = [_call(*job) for job in jobs]  # the process is still right afterwards
    assert all(_equal(a, e) for a, e in zip(after, expected))


def test_the_cache_of_compiled_functions_is_bounded():
    cache = api.CompiledCache(size=3)
    for n in range(10):
        cache.put(n, Compiled("x * 2", {"x": (n + 1,)}))
    assert len(cache) == 3 and cache.get(0) is None and cache.get(9) is not None


def test_the_cache_drops_the_least_recently_used_and_keeps_the_first_put():
    cache = api.CompiledCache(size=3)
    fs = [Compiled("x * 2", {"x": (n + 1,)}) for n in range(4)]
    for n in range(3):
        assert cache.put(n, fs[n]) is fs[n]
    assert cache.get(0) is fs[0]  # used last: 1 is now the least recently used
    assert cache.put(2, fs[3]) is fs[2]  # another thread's first put wins
    cache.put(3, fs[3])
    assert cache.get(1) is None and [cache.get(k) for k in (0, 2, 3)] == [fs[0], fs[2], fs[3]] and len(cache) == 3


def test_the_cache_key_reads_one_way_only():
    """The key is flat (name, *shape, name, *shape): {"x": (10, 3)} and {"x": (10,), 3: ()} would
    read alike but for the second name's type, so a name that is no str makes another key."""
    key = api._cache_key
    assert key("e", np.float64, 0, 1, {"x": (10, 3)}) == ("e", np.float64, 0, 1, "x", 10, 3)
    assert key("e", np.float64, 0, 1, {"x": (10, 3)}) != key("e", np.float64, 0, 1, {"x": (10,), 3: ()})
    assert key("e", np.float64, 0, 1, {"x": (10, 3)}) != key("e", np.float64, 0, 1, {"x": (10,), np.int64(3): ()})
    api._CACHE.clear()
    for _ in range(3):  # compiled, with a kernel, for x of (10, 3)
        assert api.jacobian("sum(x)", {"x": np.ones((10, 3))})["x"].shape == (10, 3)
    for name in (3, np.int64(3)):  # never that function's answer for an x of (10,)
        try:
            got = api.jacobian("sum(x)", {"x": np.ones(10), name: np.array(1.0)})["x"]
        except (TypeError, JacError):
            got = None
        assert got is None or got.shape == (10,)
    api._CACHE.clear()


def test_a_compiled_function_keeps_a_bounded_number_of_kernels():
    f = Compiled("x * y", {"x": (3,), "y": (3,)})
    env = {"x": np.ones(3), "y": np.arange(3.0)}
    for k in range(compiled_module.MAX_KERNELS + 10):
        for _ in range(2):
            f.vjp(env, np.full(3, float(k)))
        f.jacobian(env, wrt=["x"] if k % 2 else ["y"], mode=("auto", "forward", "reverse")[k % 3])
    assert len(f._hot) <= compiled_module.MAX_KERNELS


def test_compile_is_the_public_handle():
    f = jacobi_cli.compile("tanh(W @ x)", {"W": ":2x3", "x": ":3"})
    env = {"W": np.arange(6.0).reshape(2, 3) / 10, "x": np.array([0.5, -1.0, 2.0])}
    for _ in range(3):  # the third call runs the kernel
        J = f.jacobian(env)
    want = jacobi_cli.jacobian("tanh(W @ x)", env)
    assert all(np.array_equal(J[n], want[n]) for n in want)
    assert "W" in repr(f) and f.kernels()


def test_a_kernel_one_rounding_off_the_interpreter_is_not_kept(monkeypatch):
    """A kernel is kept only if its first answer is the interpreter's bit for bit: one ulp off (or -0 for +0)
    and the call stays interpreted."""
    from dataclasses import replace

    real = compiled_module._compile

    def one_ulp_off(make, *args):
        kernel = real(make, *args)
        fn = kernel.fn
        return replace(kernel, fn=lambda *a: tuple(np.nextafter(r, np.inf) for r in fn(*a)))

    monkeypatch.setattr(compiled_module, "_compile", one_ulp_off)
    f = Compiled("sin(x) * y", {"x": (3,), "y": (3,)})
    env, v = {"x": np.array([0.5, 1.0, 2.0]), "y": np.array([3.0, -1.0, 0.25])}, np.ones(3)
    want = f.vjp(env, v)
    for _ in range(4):
        got = f.vjp(env, v)
        assert all(got[n].tobytes() == want[n].tobytes() for n in want)
    assert f.kernels() and all(k is None for k in f.kernels().values())


def test_answers_agree_only_bit_for_bit():
    same = compiled_module.same
    assert same({"x": np.array([1.0, np.nan])}, {"x": np.array([1.0, np.nan])})
    assert not same(np.array([1.0]), np.array([np.nextafter(1.0, 2.0)]))
    assert not same(np.array([0.0]), np.array([-0.0]))
    assert not same(np.array([1.0], np.float32), np.array([1.0]))
    assert same(np.arange(6.0).reshape(2, 3).T, np.arange(6.0).reshape(2, 3).T.copy())


# --- kernels against the interpreter, for every value ----------------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 1e300]


@st.composite
def hostile_values(draw, shape):
    n = int(np.prod(shape, dtype=np.int64))
    items = draw(st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(-3, 3)), min_size=n, max_size=n))
    return np.array(items, dtype=np.float64).reshape(shape)


@st.composite
def value_sets(draw):
    return [{n: draw(hostile_values(s)) for n, s in INPUTS.items()} for _ in range(4)]


def _same(kernel_answer, interpreted) -> bool:
    if isinstance(interpreted, dict):
        return all(_same(kernel_answer[k], interpreted[k]) for k in interpreted)
    if hasattr(interpreted, "structure"):
        if kernel_answer.structure != interpreted.structure:
            return False
        a, b = np.asarray(kernel_answer), np.asarray(interpreted)
    else:
        a, b = np.asarray(kernel_answer), np.asarray(interpreted)
    if a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    a, b = np.where(np.isnan(a), 0.0, a), np.where(np.isnan(b), 0.0, b)
    return a.tobytes() == b.tobytes()  # bit for bit, -0 and +0 told apart (NaN's payload aside)


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(e=typed_expressions(), sets=value_sets())
def test_kernels_give_the_interpreters_answers_for_every_value(e, sets):
    note(e.text)
    f = Compiled(e.text, INPUTS)
    tangents = {n: np.ones(s) for n, s in INPUTS.items()}
    accepted = 0
    for k, env in enumerate(sets):
        note(f"values {k}: {env}")
        try:
            f.bind(env)
        except JacError:  # an op refusing these values (inv of a singular matrix): every path refuses
            for structured in (True, False):
                with pytest.raises(JacError):
                    f.jacobian(env, structured=structured)
            continue
        accepted += 1
        for structured in (True, False):
            interpreted = jacobians(f.bind(env))
            got = f.jacobian(env, structured=structured)
            want = interpreted if structured else {n: j.to_array() for n, j in interpreted.items()}
            assert _same(got, want), (k, structured)
        problem = f.bind(env)
        v = np.ones(problem.graph.output_shape)
        assert _same(f.vjp(env, v), vjp_of(problem, v)), k
        assert _same(f.jvp(env, tangents), jvp_of(problem, tangents_of(problem, tangents))), k
        assert _same(f.value(env), problem.output), k
    assert f.kernels() or accepted < 2, "no call was compiled"


@pytest.mark.parametrize("expr", ["tanh(W @ x) * 1.25", "a = sin(x); a, sum(W @ x)"])
def test_jacobian_of_a_bound_problem_reads_its_values(expr, monkeypatch):
    """jacobian(..., problem=p) (jac run) evaluates nothing again where no kernel answers, and
    answers as jacobian() does, for one output and for several."""
    from jacobi_cli.engine import autodiff

    f = Compiled(expr, {"W": (2, 3), "x": (3,)})
    env = {"W": np.arange(6.0).reshape(2, 3) / 7, "x": np.array([0.5, -1.0, 2.0])}
    want = f.jacobian(env)
    problem = f.bind(env, several=f.graph.several)
    evaluations = []
    evaluate = autodiff.evaluate
    monkeypatch.setattr(autodiff, "evaluate", lambda graph, e: evaluations.append(1) or evaluate(graph, e))
    got = f.jacobian(env, problem=problem)
    assert not evaluations
    flat = (lambda d: d) if not f.graph.several else (lambda d: {(o, n): a for o, js in d.items() for n, a in js.items()})
    assert flat(got).keys() == flat(want).keys()
    assert all(np.array_equal(flat(got)[k], flat(want)[k]) for k in flat(want))


def test_threads_repeating_warm_calls_get_the_same_bits():
    """bench.py's six cases at n = 10 (kernels with np.dot on an input vector and full-array
    constants), Jacobian and VJP, repeated from eight threads: every answer is the single-threaded
    one bit for bit (the kernels keep nothing between calls; their constants are read-only)."""
    rng = np.random.default_rng(5)
    x, A, v = rng.standard_normal(10), rng.standard_normal((10, 10)) / 3, rng.standard_normal(10)
    x[:3] = [-0.0, np.inf, np.nan]
    cases = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
             "sum(tanh(A @ tanh(A @ x)))"]
    jobs = []
    for expr in cases:
        b = {"x": x, "A": A} if "A" in expr else {"x": x}
        scalar = expr.startswith(("sum", "x @"))
        jobs += [lambda e=expr, b=b: jacobi_cli.jacobian(e, b, wrt=["x"])["x"],
                 lambda e=expr, b=b, w=(np.ones(()) if scalar else v): jacobi_cli.vjp(e, b, w, wrt=["x"])["x"]]
    expected = [[job() for _ in range(3)][-1].tobytes() for job in jobs]  # the third call: a kernel's
    order = list(range(len(jobs))) * 40
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda i: (i, jobs[i]().tobytes()), order))
    finally:
        sys.setswitchinterval(old)
    assert all(found == expected[i] for i, found in got)


# --- a held compiled function checks the arrays it is called with --------------------------------------------

def _held(expr="sin(x) * y"):
    f = jacobi_cli.compile(expr, {"x": ":3", "y": ":3"})
    ok = {"x": np.array([0.5, -1.0, 2.0]), "y": np.array([1.0, 2.0, 3.0])}
    for _ in range(3):  # interpreted, then compiled: the kernel's path is the one checked below
        f.jacobian(ok, wrt=["x"]), f.vjp(ok, "ones"), f.value(ok), f.jvp(ok, {"x": np.ones(3)})
    return f, ok


@pytest.mark.parametrize("call", ["jacobian", "vjp", "value", "jvp", "hessian", "bind"])
def test_a_held_function_refuses_an_input_of_another_shape(call):
    # x of shape (1,) broadcast against y in the kernel: a (3, 3) "Jacobian" of a (1,) input, silently
    f, ok = _held()
    for bad in ({**ok, "x": np.zeros(1)}, {**ok, "x": np.zeros(4), "y": np.zeros(4)}, {**ok, "x": np.zeros((3, 1))}):
        with pytest.raises(JacError) as err:
            getattr(f, call)(bad)
        assert err.value.kind == "shape" and "compiled for (3,)" in err.value.message


@pytest.mark.parametrize("env, kind, words", [
    ({"x": np.zeros(3)}, "name", "'y' is missing"),  # was a KeyError
    ({"x": np.zeros(3), "y": np.zeros(3), "z": np.zeros(3)}, "name", "'z' is not an input"),
    ({"x": np.zeros(3), "y": np.array(["a", "b", "c"])}, "value", "real numbers"),
    ([np.zeros(3), np.zeros(3)], "usage", "dict"),
])
def test_a_held_function_refuses_inputs_it_was_not_compiled_for(env, kind, words):
    f, _ = _held()
    with pytest.raises(JacError) as err:
        f.jacobian(env)
    assert err.value.kind == kind and words in err.value.message


def test_a_held_float64_function_converts_float32_and_lists_as_the_api_does():
    # float32 arrays went through the float64 function's passes as float32: float32's rounding in a float64 array
    f, ok = _held("sin(x) * x**2 + exp(-x) * y")
    x32 = np.array([0.3, -1.7, 2.9], dtype=np.float32)
    env32, env64 = {"x": x32, "y": ok["y"]}, {"x": x32.astype(np.float64), "y": ok["y"]}
    for call, extra in (("jacobian", ()), ("vjp", ("ones",))):
        got, want = getattr(f, call)(env32, *extra), getattr(f, call)(env64, *extra)
        api_got = getattr(api, call)("sin(x) * x**2 + exp(-x) * y", env32, *extra)
        for name in want:
            assert got[name].dtype == np.float64
            assert got[name].tobytes() == want[name].tobytes() == api_got[name].tobytes()
    assert f.value({"x": x32.tolist(), "y": [1, 2, 3]}).tobytes() == f.value({**env64, "y": ok["y"]}).tobytes()


def test_the_cache_is_bounded_in_bytes_and_keeps_the_newest_even_alone():
    cache = api.CompiledCache(size=64, max_bytes=3 * (400 * 400 * 8 + 64))
    fs = [Compiled(f"np.ones((400, 400)) * x + {n}", {"x": ()}) for n in range(6)]
    # the folded constant, once each (and its shape's two numbers, a constant of their own)
    assert all(400 * 400 * 8 <= f.held_bytes() <= 400 * 400 * 8 + 64 for f in fs)
    for n, f in enumerate(fs):
        cache.put(n, f)
        assert cache.held_bytes() <= cache.max_bytes
    assert len(cache) == 3 and [cache.get(n) for n in (3, 4, 5)] == fs[3:] and cache.get(0) is None
    big = Compiled("np.ones((800, 800)) * x", {"x": ()})
    assert cache.put("big", big) is big and len(cache) == 1 and cache.held_bytes() == big.held_bytes()
    cache.clear()
    assert cache.held_bytes() == 0 and len(cache) == 0


def test_held_bytes_counts_the_constants_and_the_texts_own_parameters():
    small = Compiled("sin(x) * 2", {"x": (3,)})
    assert 0 < small.held_bytes() <= 2**20  # bounded from the graph's facts: at most its nodes' elements
    assert Compiled("x * 2", {"x": (200_000,)}).held_bytes() == 0  # an input is the caller's, never kept
    assert 600 * 600 * 8 <= Compiled("x @ np.eye(600)", {"x": (600,)}).held_bytes() <= 600 * 600 * 8 + 64
    layer = Compiled("fc = torch.nn.Linear(400, 300)\nfc(x)", {"x": (400,)})
    assert layer.held_bytes() >= (400 * 300 + 300) * 8


def test_many_texts_of_large_constants_keep_the_api_cache_within_its_bytes(monkeypatch):
    monkeypatch.setattr(api, "_CACHE", api.CompiledCache(max_bytes=5 * (400 * 400 * 8 + 64)))
    for n in range(12):
        assert float(api.evaluate(f"sum(np.ones((400, 400)) * x) + {n}", {"x": 1.0})) == 160_000 + n
        assert api._CACHE.held_bytes() <= api._CACHE.max_bytes
    assert len(api._CACHE) == 5
