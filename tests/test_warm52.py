"""Session 52 (h52-warm): the warm call's fixed cost at n = 10, cut without changing a bit.

- api._hit: the one copy of the cache key's loop (jacobian(), vjp() and _compiled each had their own), its dtype
  test the descriptor's identity: a hit, a miss's key, None for what _compiled converts.
- kernels: a matrix-vector product of an input's transpose takes np.dot on the input with its operands swapped
  (no ``.T`` view at each call), and past a kernel's typed check its lines no longer test an input's dtype again
  (kernels._typed_checks_dropped).

Each answer is compared bit for bit with the interpreter's, over layouts, dtypes, subclasses and NaNs."""
from __future__ import annotations

import builtins

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine import kernels
from jacobi_cli.engine.compiled import Compiled, interpreted_jacobian, interpreted_vjp
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

E3 = "tanh(A @ x)"
E6 = "sum(tanh(A @ tanh(A @ x)))"
CASES = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", E3, "sum(x * x)", "softmax(x)", E6]
_DOT = kernels._DOT


class Sub(np.ndarray):
    """An ndarray subclass: never the kernel's exact-ndarray paths."""


def _inputs(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n)) / 3}


def _bindings(expr, b):
    return {k: a for k, a in b.items() if k in ("x", "A") and (k == "x" or "A" in expr)}


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _unaligned(a):
    """``a``'s values in an array whose data is not aligned to its itemsize."""
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def _variants(b):
    """The same values in other layouts and types: what each warm call must answer as the interpreter."""
    out = [b, {k: np.asfortranarray(a) for k, a in b.items()},
           {k: np.ascontiguousarray(a.T).T for k, a in b.items()},
           {k: _unaligned(a) for k, a in b.items()},
           {k: a.view(Sub) for k, a in b.items()},
           {k: a.astype(a.dtype.newbyteorder()) for k, a in b.items()},
           {k: a.astype(np.float32) for k, a in b.items()}]
    strided = {}
    for k, a in b.items():
        big = np.zeros((2 * a.shape[0],) + a.shape[1:])
        big[::2] = a
        strided[k] = big[::2]
    out.append(strided)
    nan = {k: a.copy() for k, a in b.items()}
    nan["x"][1] = np.nan
    out.append(nan)
    return out


def _warm(expr, b, v):
    for _ in range(4):
        jacobi_cli.jacobian(expr, b, wrt=["x"])
        jacobi_cli.vjp(expr, b, v, wrt=["x"])


@pytest.mark.parametrize("expr", CASES)
def test_every_warm_call_is_the_interpreters_answer_bit_for_bit(expr):
    """E1-E6's Jacobian and VJP, their kernels made at ordinary values, called with every variant: the same
    arrays as the interpreter (a NaN handed to it, a subclass, a byte-swapped or float32 array converted)."""
    api.clear_cache()
    b = _bindings(expr, _inputs())
    y = jacobi_cli.evaluate(expr, b)
    v = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    _warm(expr, b, v)
    compiled, _ = api._compiled(expr, b, np.float64, 0, api.DEFAULT_MAX_BYTES, ["x"])
    assert compiled._ready  # kernels made: the warm path is the one under test
    for env in _variants(b):
        plain, _ = api._converted_env(env, np.float64, [])  # the arrays the API passes on: layouts kept
        got = jacobi_cli.jacobian(expr, env, wrt=["x"])["x"]
        want = interpreted_jacobian(compiled, plain, ["x"], "auto", api.UNLIMITED, False, "array")["x"]
        assert _same(got, want), (expr, env)
        got = jacobi_cli.vjp(expr, env, v, wrt=["x"])["x"]
        want = interpreted_vjp(compiled, plain, v, ["x"], api.UNLIMITED)["x"]
        assert _same(got, want), (expr, env)


def test_a_repeated_call_looks_up_through_the_one_loop(monkeypatch):
    """jacobian(), vjp(), evaluate() and jvp() (through _compiled) each make the key by _hit. Fails on the unfixed
    code, which had no _hit (three copies of the loop)."""
    api.clear_cache()
    b = _inputs()
    calls = []
    real = api._hit
    monkeypatch.setattr(api, "_hit", lambda *args: calls.append(args[0]) or real(*args))
    jacobi_cli.jacobian(E6, b, wrt=["x"])
    jacobi_cli.vjp(E6, b, np.ones(()), wrt=["x"])
    jacobi_cli.evaluate(E6, b)
    jacobi_cli.jvp(E6, b, {"x": np.ones(6)})
    assert calls == [E6] * 4


def test_hit_answers_the_compiled_function_a_key_or_none():
    api.clear_cache()
    b = _inputs()
    key = api._hit(E6, b, np.float64, 0, api.DEFAULT_MAX_BYTES)
    assert key == api._cache_key(E6, np.float64, 0, api.DEFAULT_MAX_BYTES, {k: a.shape for k, a in b.items()})
    jacobi_cli.jacobian(E6, b, wrt=["x"])
    found = api._hit(E6, b, np.float64, 0, api.DEFAULT_MAX_BYTES)
    assert type(found) is Compiled and api._CACHE.get(key) is found
    for other in ({**b, "x": b["x"].tolist()}, {**b, "x": b["x"].astype(np.float32)},
                  {**b, "x": b["x"].astype(">f8")}, {**b, "x": b["x"].view(Sub)}, {3: b["x"], "A": b["A"]}):
        assert api._hit(E6, other, np.float64, 0, api.DEFAULT_MAX_BYTES) is None
    # what _hit leaves, _compiled converts: the same compiled function, no new entry
    assert api._compiled(E6, {**b, "x": b["x"].astype(">f8")}, np.float64, 0, api.DEFAULT_MAX_BYTES)[0] is found
    assert len(api._CACHE) == 1


def test_the_inline_lookups_errors_are_as_before():
    """A value given for a text-made input is refused on a hit; a bad seed still is on a miss."""
    api.clear_cache()
    text = "u = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True); (u * w).tanh().sum()"
    b = {"w": np.array([1.0, 2.0, 3.0])}
    for _ in range(3):
        jacobi_cli.jacobian(text, b, wrt=["u"])
    with pytest.raises(JacError, match="bound twice"):
        jacobi_cli.vjp(text, {**b, "u": np.ones(3)}, np.ones(()), wrt=["u"])
    with pytest.raises(JacError, match="seed= must be an integer"):
        jacobi_cli.vjp(text, b, np.ones(()), wrt=["u"], seed=-1)


def _kernel_sources(monkeypatch) -> list:
    sources = []
    real = builtins.compile

    def spy(source, *args, **kw):
        if args and args[0] == "<jac kernel>":
            sources.append(source)
        return real(source, *args, **kw)

    monkeypatch.setattr(kernels, "compile", spy, raising=False)
    return sources


def test_an_input_transposes_product_takes_dot_on_the_input(monkeypatch):
    """E6's Jacobian and VJP kernels make no A.T view but in a product's fallback, and test no input's dtype
    past their typed check. Fails on the unfixed code (``v13 = v1.T``; ``v1.dtype in _floats``)."""
    api.clear_cache()
    sources = _kernel_sources(monkeypatch)
    _warm(E6, _inputs(), np.ones(()))
    assert len(sources) == 2
    for source in sources:
        lines = source.splitlines()
        assert not [line for line in lines if line.strip().endswith("= v1.T")], source
        assert [line for line in lines if "_dot(" in line and "v1.T" in line.split(" else ")[1]], source
        typed = [line for line in lines if line.strip().startswith("if v0.dtype is not _dt or v1.dtype is not _dt")]
        tested = "\n".join(line for line in lines if line not in typed)  # the one test left: the typed check
        assert len(typed) == 1 and "in _floats" not in tested and "v1.dtype" not in tested
        assert "v0.dtype" not in tested
        assert ".dtype is" not in tested  # the tanh's and products' values, of _dt from the inputs: not tested again


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dot_of_a_vector_and_a_matrix_is_dot_of_its_transpose(dtype):
    """The identity the swapped product rests on: np.dot(u, A) and np.dot(A.T, u) (and A @ w, w @ A.T) make the
    same gemv call, the same bits, over sizes, both layouts, magnitudes and specials; and matmul's as well."""
    rng = np.random.default_rng(52)
    for r in (2, 3, 7, 10, 16, 33, 64, 129):
        for c in (2, 5, 10, 31, 100):
            for order in "CF":
                scale = rng.choice([1e-300, 1.0, 1e300], size=(r, c))
                with np.errstate(all="ignore"):
                    A = np.asarray(rng.standard_normal((r, c)) * scale, dtype=dtype, order=order)
                    u, w = rng.standard_normal(r).astype(dtype), rng.standard_normal(c).astype(dtype)
                    u[rng.integers(r)] = rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.0])
                    for a, b in ((_DOT(u, A), _DOT(A.T, u)), (_DOT(A.T, u), A.T @ u),
                                 (_DOT(A, w), _DOT(w, A.T)), (_DOT(w, A.T), w @ A.T)):
                        assert _same(a, b), (r, c, order)


def test_typed_checks_dropped_only_for_typed_inputs():
    lines = ["        _m1 = v1.dtype in _floats and (type(v1) is _nd and (_f := v1.flags).forc and _f.aligned)",
             "        _m4 = v4.dtype in _floats and (type(v4) is _nd)",
             "        v2 = _dot(v1, v0) if _m1 and _v0 and v0.dtype is v1.dtype else f2(v1, v0)",
             "        v5 = _dot(v1, v3) if _m1 and v3.dtype is v1.dtype else f5(v1, v3)",
             "        v6 = _dot(v4, v3) if _m4 and v3.dtype is v4.dtype else f6(v4, v3)",
             "        v7 = f7(C7, v0) if type(v0) is _nd and v0.dtype is _dt else f7(c2, v0)",
             "        v8 = f8(C8, v3) if type(v3) is _nd and v3.dtype is _dt else f8(c2, v3)"]
    assert kernels._typed_checks_dropped(lines, {0, 1}) == [
        "        _m1 = (type(v1) is _nd and (_f := v1.flags).forc and _f.aligned)",
        "        _m4 = v4.dtype in _floats and (type(v4) is _nd)",
        "        v2 = _dot(v1, v0) if _m1 and _v0 else f2(v1, v0)",
        "        v5 = _dot(v1, v3) if _m1 and v3.dtype is _dt else f5(v1, v3)",
        "        v6 = _dot(v4, v3) if _m4 and v3.dtype is v4.dtype else f6(v4, v3)",
        "        v7 = f7(C7, v0) if type(v0) is _nd else f7(c2, v0)",
        "        v8 = f8(C8, v3) if type(v3) is _nd and v3.dtype is _dt else f8(c2, v3)"]
    assert kernels._typed_checks_dropped(lines, set()) == lines


def test_a_transpose_read_otherwise_keeps_its_own_variable(monkeypatch):
    """A transpose that a matrix product or an element-wise op reads is made once, as before (only matrix-vector
    products read it as vK.T); the answers are the interpreter's."""
    api.clear_cache()
    sources = _kernel_sources(monkeypatch)
    b = _inputs()
    text = "sum(A.T @ x + A.T @ tanh(x)) + sum(A.T * A)"
    for _ in range(4):
        got = jacobi_cli.jacobian(text, b, wrt=["x", "A"])
    assert sources and any(line.strip().endswith("= v1.T") for line in sources[-1].splitlines())
    compiled, _ = api._compiled(text, b, np.float64, 0, api.DEFAULT_MAX_BYTES, ["x", "A"])
    want = interpreted_jacobian(compiled, b, ["x", "A"], "auto", api.UNLIMITED, False, "array")
    assert all(_same(got[k], want[k]) for k in ("x", "A"))


@pytest.mark.parametrize("expr", CASES)
def test_a_byte_swapped_input_is_made_native_for_a_held_function_too(expr):
    """A held compiled function given a byte-swapped array (and float32 or an F-ordered one) answers the
    interpreter's arrays at the native values. Fails on the unfixed code for x @ A @ x: its kernel read >f8 as it
    was and answered an ulp off."""
    b = _bindings(expr, _inputs())
    held = jacobi_cli.compile(expr, b)
    y = held.value(b)
    v = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    for _ in range(3):
        held.jacobian(b, wrt=["x"])
        held.vjp(b, v, wrt=["x"])
    for env in ({k: a.astype(a.dtype.newbyteorder()) for k, a in b.items()},
                {k: np.asfortranarray(a) for k, a in b.items()}):
        plain = {k: np.asarray(a, dtype=np.float64) for k, a in env.items()}  # native, the layout kept
        want = interpreted_jacobian(held, plain, ["x"], "auto", api.UNLIMITED, False, "array")["x"]
        assert _same(held.jacobian(env, wrt=["x"])["x"], want)
        assert _same(held.vjp(env, v, wrt=["x"])["x"], interpreted_vjp(held, plain, v, ["x"], api.UNLIMITED)["x"])
