"""Session 51 (h51-warm): the repeated call's NaN scan of a kernel's one answer, inline in Compiled.jacobian and
Compiled.vjp (autodiff.nan_in's frame and loop were ~1.5 k of its ~4.6 k instructions a call). The inline scan must
hand every NaN to the interpreter as nan_in did, keep an Inf's kernel answer, leave several answers to nan_in, and
answer as the interpreter from any thread."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine import autodiff
from jacobi_cli.engine.compiled import interpreted_jacobian, interpreted_vjp
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

E6 = "sum(tanh(A @ tanh(A @ x)))"
LOG = "sqrt(A @ x)"  # a NaN in the answer where A @ x < 0, an Inf where it is 0 (a dense kernel that scans: tests below check it)


def _inputs(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n)) / 3}


def _warm(expr, b, v=None):
    """The compiled function of ``expr`` at ``b``'s shapes, its jacobian (and vjp) kernels made."""
    for _ in range(4):
        jacobi_cli.jacobian(expr, b, wrt=["x"])
        if v is not None:
            jacobi_cli.vjp(expr, b, v, wrt=["x"])
    compiled, _ = api._compiled(expr, b, np.float64, 0, api.DEFAULT_MAX_BYTES, ["x"])
    return compiled


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_the_one_answer_scan_runs_inline_and_several_answers_still_go_to_nan_in(monkeypatch):
    """A one-answer kernel's scan no longer calls nan_in (the frame this session took off the repeated call);
    a kernel of two answers (wrt x and A) still does. Fails on the unfixed code, which called nan_in for both."""
    b = {k: np.abs(a) + 0.1 for k, a in _inputs().items()}  # A @ x > 0: no NaN, the kernels kept
    v = np.ones(5)
    api.clear_cache()
    compiled = _warm(LOG, b, v)
    assert compiled._ready[("jacobian", ("x",), "auto")].scans  # the case the scan is for
    for _ in range(4):
        jacobi_cli.jacobian(LOG, b, wrt=["x", "A"])
    assert len(compiled._ready[("jacobian", ("x", "A"), "auto")].names) == 2
    calls = []
    real = autodiff.nan_in
    monkeypatch.setattr(autodiff, "nan_in", lambda arrays: calls.append(len(arrays)) or real(arrays))
    jacobi_cli.jacobian(LOG, b, wrt=["x"])
    jacobi_cli.vjp(LOG, b, v, wrt=["x"])
    assert calls == []
    jacobi_cli.jacobian(LOG, b, wrt=["x", "A"])
    assert calls == [2]


@pytest.mark.parametrize("call", ["jacobian", "vjp"])
def test_a_nan_goes_to_the_interpreter_and_an_inf_keeps_the_kernel_answer(call):
    """At inputs whose answer holds a NaN (sqrt' of a negative) the call answers the interpreter's arrays bit for bit;
    at inputs giving an Inf (sqrt'(0) = 1/0) and at ordinary ones, the kernel's answer is the interpreter's too."""
    api.clear_cache()
    b = _inputs()
    v = np.linspace(-1.0, 2.0, 5)
    compiled = _warm(LOG, {"x": np.abs(b["x"]) + 1, "A": np.abs(b["A"]) + 0.1}, v)
    assert compiled._ready  # kernels made
    x0 = np.zeros(5)
    A0 = np.eye(5)
    at_nan = {"x": -np.abs(b["x"]) - 1, "A": np.abs(b["A"]) + 0.1}  # A @ x < 0: NaN
    at_inf = {"x": x0, "A": A0}  # A @ x = 0: 1 / 0 = inf
    ordinary = {"x": np.abs(b["x"]) + 2, "A": np.abs(b["A"]) + 0.2}
    for env in (at_nan, at_inf, ordinary):
        if call == "jacobian":
            got = jacobi_cli.jacobian(LOG, env, wrt=["x"])["x"]
            want = interpreted_jacobian(compiled, env, ["x"], "auto", api.UNLIMITED, False, "array")["x"]
        else:
            got = jacobi_cli.vjp(LOG, env, v, wrt=["x"])["x"]
            want = interpreted_vjp(compiled, env, v, ["x"], api.UNLIMITED)["x"]
        assert _same(got, want), (env, got, want)
    assert np.isnan(jacobi_cli.jacobian(LOG, at_nan, wrt=["x"])["x"]).any()
    assert np.isinf(jacobi_cli.jacobian(LOG, at_inf, wrt=["x"])["x"]).any()


def test_a_wrong_shape_or_dtype_after_the_kernel_is_refused_or_converted_as_before():
    """The inline scan sits after the kernel call: a wrong shape is still a new compile (the API's key), a
    compiled function still refuses it, and a float32 input is converted, answering float64's arrays."""
    api.clear_cache()
    b = _inputs()
    _warm(E6, b, np.ones(()))
    J = jacobi_cli.jacobian(E6, {"x": np.ones(6), "A": np.ones((6, 6))}, wrt=["x"])["x"]
    assert J.shape == (6,)
    compiled = jacobi_cli.compile(E6, b)
    for _ in range(4):
        compiled.jacobian(b, wrt=["x"])
    assert compiled._ready
    with pytest.raises(JacError, match="shape"):
        compiled.jacobian({"x": np.ones(6), "A": b["A"]}, wrt=["x"])
    low = {k: a.astype(np.float32) for k, a in b.items()}
    assert _same(jacobi_cli.jacobian(E6, low, wrt=["x"])["x"],
                 jacobi_cli.jacobian(E6, {k: a.astype(np.float64) for k, a in low.items()}, wrt=["x"])["x"])


def test_two_threads_get_the_interpreters_answers_nan_or_not():
    """Two threads calling the warm function at inputs with and without a NaN: each answer is the interpreter's."""
    api.clear_cache()
    b = _inputs()
    v = np.ones(5)
    compiled = _warm(LOG, {"x": np.abs(b["x"]) + 1, "A": np.abs(b["A"]) + 0.1}, v)
    envs = [{"x": s * (np.abs(b["x"]) + 1), "A": np.abs(b["A"]) + 0.1} for s in (1.0, -1.0)]
    wants = [(interpreted_jacobian(compiled, e, ["x"], "auto", api.UNLIMITED, False, "array")["x"],
              interpreted_vjp(compiled, e, v, ["x"], api.UNLIMITED)["x"]) for e in envs]
    errors = []

    def run(k):
        try:
            for _ in range(200):
                env = envs[k]
                assert _same(jacobi_cli.jacobian(LOG, env, wrt=["x"])["x"], wants[k][0])
                assert _same(jacobi_cli.vjp(LOG, env, v, wrt=["x"])["x"], wants[k][1])
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_a_repeated_call_finds_its_compiled_function_without_compiled_and_a_miss_passes_its_key(monkeypatch):
    """jacobian() and vjp() look a dict of arrays of the dtype up themselves (session 51): a hit never calls
    api._compiled, a miss calls it once with the key it made (``missed``), which _compiled keeps the function
    under. Fails on the unfixed code, which called _compiled at every call."""
    api.clear_cache()
    b = _inputs()
    v = np.ones(())
    calls = []
    real = api._compiled

    def counting(*args):
        calls.append(args[6] if len(args) > 6 else None)
        return real(*args)

    monkeypatch.setattr(api, "_compiled", counting)
    first = jacobi_cli.jacobian(E6, b, wrt=["x"])["x"]
    assert len(calls) == 1 and calls[0] is not None and calls[0][0] == E6  # the missed key, passed on
    assert len(api._CACHE) == 1
    for _ in range(4):
        assert _same(jacobi_cli.jacobian(E6, b, wrt=["x"])["x"], first)
        jacobi_cli.vjp(E6, b, v, wrt=["x"])
    assert len(calls) == 1 and len(api._CACHE) == 1
    jacobi_cli.jacobian(E6, {"x": b["x"].tolist(), "A": b["A"]}, wrt=["x"])  # a list: _compiled converts it
    assert len(calls) == 2 and calls[1] is None and len(api._CACHE) == 1


def test_the_inline_lookup_keeps_a_text_made_input_and_refuses_a_value_given_for_it():
    """A hit on a compiled function whose text makes an input (declared) adds that input's value, as _compiled
    did, and refuses a value given for it."""
    api.clear_cache()
    text = "u = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True); (u * w).tanh().sum()"
    b = {"w": np.array([1.0, 2.0, 3.0])}
    answers = [jacobi_cli.jacobian(text, b, wrt=["u"])["u"] for _ in range(4)]
    grads = [jacobi_cli.vjp(text, b, np.ones(()), wrt=["u"])["u"] for _ in range(4)]
    assert all(_same(a, answers[0]) for a in answers) and all(_same(g, answers[0]) for g in grads)
    with pytest.raises(JacError, match="bound twice"):
        jacobi_cli.jacobian(text, {**b, "u": np.ones(3)}, wrt=["u"])
