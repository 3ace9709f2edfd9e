"""Kernel lines that write over a spent temporary (an element-wise ufunc's positional out) and take a matrix's
``.T``: the bits of the lines they replace (kernels._Source._spent, kernels._assignment), with specials planted,
at every layout the kernel accepts, and never over an array another line still reads or a view still holds. An
input of another dtype than the kernel's makes a kernel that writes over its temporaries raise Unlaid (its
interpreter answers): the temporaries' dtypes were read from the inputs'."""
import re

import numpy as np
import pytest

from jacobi_cli.tools import api
from jacobi_cli.engine import kernels, planner

EXPRESSIONS = ["sum(tanh(A @ tanh(A @ x)))", "tanh(A @ x)", "1 - x * x", "(1 - x * x) * 2 + 3", "x @ A @ x",
               "sum((2 - exp(x)) * 3)", "sin(x) * x**2 + exp(-x)", "t = x * x; (1 - t) * t", "t = x * x; (1 - t) + t",
               "A.T @ x", "sum(A.T * A)", "x - 0.1", "(x * 3 - 1) / 7 - x",
               # a view of a temporary read after the temporary's last reader: never written over
               "t = exp(x); u = t[1:3]; sin(t)[1:3] * u", "t = exp(x); u = t.reshape(3, 4); sin(t).reshape(3, 4) * u",
               "t = exp(x); u = t[::-1]; sin(t) * u", "t = A @ x; u = t[2:5]; tanh(t)[2:5] + u",
               "t = x * x; u = t.T; cos(t) * u"]


def _specials(dtype) -> list:
    tiny = np.finfo(dtype).smallest_subnormal
    return [-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, tiny, -tiny, np.finfo(dtype).max, 1.0, -1.0]


def _made(problem):
    g = problem.graph
    plan = api.plan_of(problem)
    return (kernels.evaluate_kernel(g), kernels.vjp_kernel(g, ["x"]),
            kernels.jacobian_kernel(g, plan, planner._small(plan, g)))


def _sources(monkeypatch, problem) -> list:
    found = []
    real = compile

    def spy(source, name, *args, **kwargs):
        if name == "<jac kernel>":
            found.append(source)
        return real(source, name, *args, **kwargs)

    monkeypatch.setattr("builtins.compile", spy)
    _made(problem)
    monkeypatch.undo()
    return found


def _called(fn, *args):
    """``fn(*args)``, or "unlaid" where the kernel refuses its inputs (the caller's interpreter answers)."""
    try:
        return fn(*args)
    except kernels.Unlaid:
        return "unlaid"


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()  # -0 and NaN payloads too


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_writing_over_a_spent_temporary_gives_the_bits_of_a_new_array(expr, dtype, monkeypatch):
    rng = np.random.default_rng(37)
    n = 12
    x = rng.standard_normal(n).astype(dtype)
    specials = _specials(dtype)
    x[:len(specials)] = specials
    A = (rng.standard_normal((n, n)) / 4).astype(dtype)
    problem = api.prepare(expr, {"x": x, "A": A} if "A" in expr else {"x": x}, ["x"], dtype=dtype)
    value, vjp, jacobian = _made(problem)
    monkeypatch.setattr(kernels._Source, "_spent", lambda self, x, node: False)  # every result a new array
    plain = _made(problem)
    assert not _written_over(_kernels(monkeypatch, problem))
    monkeypatch.undo()
    other = "float32" if dtype == "float64" else "float64"
    for x2 in (x.copy(), x.repeat(2)[::2], x.astype(other)):
        env = dict(problem.env, x=x2)
        v = rng.standard_normal(problem.graph.output_shape).astype(x2.dtype)
        before = {k: a.copy() for k, a in env.items()}
        with np.errstate(all="ignore"):
            got = [_called(value, env), _called(vjp, env, v), _called(jacobian, env, False)]
            want = [plain[0](env), plain[1](env, v), plain[2](env, False)]
        if "unlaid" in got:  # the dtypes the lines took for the temporaries' are not the call's
            assert x2.dtype != dtype, expr
            continue
        got, want = [got[0][0], got[1][0], got[2]["x"]], [want[0][0], want[1][0], want[2]["x"]]
        assert all(_same(a, b) for a, b in zip(got, want)), expr
        assert all(_same(env[k], before[k]) for k in env)  # no input written over


def _kernels(monkeypatch, problem) -> list:
    """``(source, namespace)`` of each kernel made for ``problem`` (value, VJP, Jacobian)."""
    found = []
    real = exec

    def spy(code, namespace, *args):
        real(code, namespace, *args)
        found.append((namespace["kernel"].__code__, namespace))

    monkeypatch.setattr(kernels, "exec", spy, raising=False)
    sources = _sources(monkeypatch, problem)  # undoes the spy
    return [(text, namespace) for text, (_, namespace) in zip(sources, found)]


def _written_over(made: list) -> list:
    """``(line, variable)`` of each kernel line that passes an operand as its ufunc's out too, one argument more
    than the ufunc takes: ``v7 = f7(v5, v5, v5)`` (a multiply), ``v9 = f9(C9, v7, v7) if ...``."""
    found = []
    for source, namespace in made:
        for line in source.splitlines():
            match = re.match(r"\s*v\d+ = (f\d+)\(([^()]*)\)", line)
            f = namespace.get(match.group(1)) if match else None
            if isinstance(f, np.ufunc):
                args = [a.strip() for a in match.group(2).split(",")]
                if len(args) == f.nin + 1:
                    assert args[-1] in args[:-1], line  # only ever over an operand of its own
                    found.append((line, args[-1]))
    return found


def _never_read_again(made: list) -> None:
    """A variable written over is no input, no view or alias of another variable, has no alias or view of
    its own, and is never read after the line that wrote over it (a ``del`` is no read)."""
    for kernel, namespace in made:
        lines = kernel.splitlines()
        inputs = set(re.findall(r"(v\d+) = env\[", kernel)) | set(re.findall(r"v\d+", lines[0]))
        for k, line in enumerate(lines):
            written = next((w for text, w in _written_over([(line, namespace)])), None)
            if written is None:
                continue
            assert written not in inputs, kernel
            made = next(m for m in lines[:k] if re.match(rf"\s*{written} = ", m))
            assert re.match(rf"\s*{written} = (f|_dot)\d*\(", made), (made, kernel)  # a new array of a call
            for other in lines[:k]:  # no alias or view of it made before
                assert not re.match(rf"\s*[vu]\d+ = {written}(\.|$)", other.strip() + ""), (other, kernel)
            for later in lines[k + 1:]:
                if not later.strip().startswith("del "):
                    assert not re.search(rf"\b{written}\b", later), (written, later, kernel)


def test_a_temporary_is_written_over_only_by_its_last_reader_and_no_view_of_it_lives(monkeypatch):
    x = np.linspace(-1, 1, 8)
    A = np.arange(64.0).reshape(8, 8) / 64
    made = _kernels(monkeypatch, api.prepare("sum(tanh(A @ tanh(A @ x)))", {"x": x, "A": A}, ["x"]))
    assert len(_written_over(made)) >= 5  # each tanh over its product, t * t over t, 1 - t² over t², ...
    source = "\n".join(text for text, _ in made)
    assert ".transpose(" not in source and ".T" in source  # A.T, the view without the method call
    _never_read_again(made)
    for expr in ("t = x * x; (1 - t) * t", "t = x * x; t * (1 - t)", "t = exp(x); (2 - t) + sin(t)",
                 "t = exp(x); u = t.reshape(2, 4); sin(t) + u.reshape(8)", "t = exp(x); u = t[1:3]; sin(t)[1:3] * u",
                 "t = exp(x); t.T * sin(t)", "t = A @ x; sin(t) * t.reshape(8)", "t = x * x; sin(t) + t"):
        problem = api.prepare(expr, {"x": x, "A": A}, ["x"])
        _never_read_again(_kernels(monkeypatch, problem))
        first = api.jacobian(expr, {"x": x, "A": A}, wrt=["x"])  # the answers, call after call
        for _ in range(2):
            again = api.jacobian(expr, {"x": x, "A": A}, wrt=["x"])
            assert np.array_equal(np.asarray(again["x"] if "x" in again else list(again.values())[0]["x"]),
                                  np.asarray(first["x"] if "x" in first else list(first.values())[0]["x"]))


@pytest.mark.parametrize("n", [2, 8, 1024, 1500])
def test_temporaries_are_written_over_at_every_size(n, monkeypatch):
    """Positional out costs NumPy less than a new array at every size (at n = 10 4,097 instructions against
    4,325 for a multiply; ``out=``, the keyword, cost 4,376), so a spent temporary is written over however small."""
    expr = "sum(tanh(A @ tanh(A @ x)))"
    x = np.linspace(-1, 1, n)
    A = np.eye(n) / 2
    assert _written_over(_kernels(monkeypatch, api.prepare(expr, {"x": x, "A": A}, ["x"])))
    for _ in range(3):  # interpreted, then the kernel made, then run
        J = api.jacobian(expr, {"x": x, "A": A}, wrt=["x"])["x"]
        t1 = np.tanh(x / 2)
        t2 = np.tanh(t1 / 2)
        np.testing.assert_allclose(J, (1 - t2 ** 2) / 2 * (1 - t1 ** 2) / 2, rtol=1e-14)


def test_an_input_of_another_dtype_gets_the_interpreters_answer():
    """A held compiled function's kernel writes over temporaries by its inputs' dtype: a call at float32 values
    of a float64 function is converted (Compiled's inputs), and a kernel handed another dtype raises Unlaid."""
    x = np.linspace(-1, 1, 6)
    A = np.eye(6) / 2 + 0.01
    f = api.compile("sum(tanh(A @ tanh(A @ x)))", {"x": x, "A": A})
    want = [f.jacobian({"x": x, "A": A}, ["x"])["x"] for _ in range(3)][-1]
    for _ in range(3):
        got = f.jacobian({"x": x.astype(np.float32), "A": A}, ["x"])["x"]
        assert got.dtype == np.float64 and np.array_equal(got, api.jacobian(
            "sum(tanh(A @ tanh(A @ x)))", {"x": x.astype(np.float32).astype(np.float64), "A": A}, wrt=["x"])["x"])
    assert np.array_equal(want, api.jacobian("sum(tanh(A @ tanh(A @ x)))", {"x": x, "A": A}, wrt=["x"])["x"])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_of_a_vector_written_over_its_new_arrays_gives_the_bits_of_new_ones(dtype):
    """``ops.softmax_of_vector`` and ``ops.softmax_jacobian_of_vector`` write the exponential, the division
    and the last product over the arrays they made: the bits (and dtype) of the same lines into new arrays,
    with infinities and NaNs planted; an integer vector takes the lines as they were."""
    from jacobi_cli.ir import ops
    rng = np.random.default_rng(41)
    for n in (2, 5, 10, 33):
        for trial in range(60):
            a = (rng.standard_normal(n) * rng.choice([1, 10, 100, 800])).astype(dtype)
            if trial % 5 == 0:
                a[rng.integers(n)] = rng.choice([np.inf, -np.inf, np.nan])
            eye = np.eye(n, dtype=dtype)
            with np.errstate(all="ignore"):
                e = np.exp(a - np.maximum.reduce(a))
                s = e / np.add.reduce(e)
                assert _same(ops.softmax_of_vector(a), s)
                assert _same(ops.softmax_jacobian_of_vector(eye, a), ops.softmax_vjp_of_identity(eye, s))
    ints = np.arange(4)
    assert _same(ops.softmax_of_vector(ints), np.exp(ints - 3) / np.exp(ints - 3).sum())
