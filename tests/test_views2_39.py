"""Session 39 (h39-views2): PyTorch in-place writes through views, round 2 (lang/views.py, lang/copies.py).

A write through ``d = t.detach()`` changes t's values and not its derivative (the ``straight_through`` op); a call
PyTorch answers with its operand itself (``t.double()`` of a float64 t, ``t.contiguous()`` of a contiguous one) is an
alias; a part of a broadcast view holding each element once is written; split / chunk parts are refused at their use
after their base is written. Each text is run by PyTorch (float64 leaves requiring grad, one backward pass per output
element) and by jac: where PyTorch answers, jac's value and Jacobian are PyTorch's bit for bit (within 1e-12 where the
two libraries' ``exp`` differ in the last bit); where PyTorch raises, jac refuses with PyTorch's words.
"""
from __future__ import annotations

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

A = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5], [-2.0, 1.0, 3.0]]
X = [0.5, -1.5, 2.0]
INPUTS = {"A": A, "x": X}
SAVED = "modified by an inplace operation"
MORE_THAN_ONE = "more than one element of the written-to tensor refers to a single memory location"


def names(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def torch_run(text: str):
    """(value, {name: Jacobian}) as PyTorch computes them, or PyTorch's message."""
    torch = pytest.importorskip("torch")
    tree = ast.parse(text)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<text>", "eval")
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names(text)}
    try:
        scope = {"torch": torch, **leaves}
        exec(body, scope)  # noqa: S102 - PyTorch itself, on the test's own text
        y = eval(last, scope)  # noqa: S307
        jac = {k: np.zeros(tuple(y.shape) + tuple(v.shape)) for k, v in leaves.items()}
        if y.requires_grad:
            flat = y.reshape(-1)
            for i in range(flat.numel()):
                grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
                for k, g in zip(leaves, grads):
                    if g is not None:
                        jac[k].reshape(flat.numel(), -1)[i] = g.reshape(-1).numpy()
        return y.detach().numpy(), jac
    except RuntimeError as e:
        return str(e)


def jac_run(text: str):
    bindings = {k: np.array(INPUTS[k]) for k in names(text)}
    try:
        return np.asarray(api.evaluate(text, bindings)), api.jacobian(text, bindings)
    except JacError as e:
        return e.message


def same_as_pytorch(text: str) -> None:
    theirs, ours = torch_run(text), jac_run(text)
    assert not isinstance(theirs, str), theirs
    assert not isinstance(ours, str), ours
    pairs = [(theirs[0], ours[0])] + [(theirs[1][k], np.asarray(ours[1][k])) for k in theirs[1]]
    for a, b in pairs:
        assert a.shape == b.shape, (text, a.shape, b.shape)
        if "exp" in text:  # PyTorch's exp and NumPy's differ in the last bit at some values
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14, err_msg=text)
        else:
            assert np.array_equal(a, b), (text, a, b)


def refused_as_pytorch(text: str, words: str, ours_words: str | None = None) -> None:
    theirs, ours = torch_run(text), jac_run(text)
    assert isinstance(theirs, str) and words in theirs, theirs
    assert isinstance(ours, str) and (ours_words or words) in ours, ours


# --- 1. a write through .detach(): the values change, the derivative stays --------------------------------------

DETACHED = [
    "t = A * 1; v = t.detach(); v.mul_(2); torch.cat([t.reshape(-1), v.reshape(-1)])",
    "t = A * 1; v = t.detach(); v.add_(x[0]); t * v",  # v carries x's derivative, t none of it
    "t = A * 1; v = t.detach(); v.sub_(A[2, 2]); t * v",
    "t = A * 1; v = t.detach(); v.copy_(x); t",
    "t = torch.sin(A); v = t.detach(); v.mul_(2); t.sin()",  # sin's derivative at the new values
    "t = torch.sin(A); z = t * 2; v = t.detach(); v.mul_(2); z",
    "t = torch.sin(A); u = t[0]; v = t.detach(); v.mul_(2); u",  # a view taken before: new values, old derivative
    "t = torch.sin(A); u = t.T; v = t.detach(); v.mul_(2); u",
    "t = torch.sin(A); v = t.detach(); v[0] = 5.0; t",
    "t = torch.sin(A); v = t.detach(); w = v[0]; w.mul_(3); t",
    "t = torch.sin(A); v = t.detach()[0]; v.mul_(3); t",
    "t = torch.sin(A); v = t[0].detach(); v.mul_(3); t",
    "t = torch.sin(A); v = t.detach(); t.mul_(3); v",  # a write into t is seen by the detached v, no derivative
    "t = torch.sin(A); v = t.detach(); v.mul_(2); t.mul_(3); t",
    "t = torch.sin(A); v = t.detach(); t.mul_(3); v.mul_(2); t",
    "t = torch.sin(A); v = t.detach(); v.mul_(2); t.exp_(); t",
    "t = torch.sin(A); v = t.detach(); v *= v; t",
    "t = torch.sin(A); v = t.detach(); v.mul_(2); t[0] = 5.0; t",
    "t = torch.sin(A); v = t.detach(); w = v[0]; w.add_(x[0]); v",  # autograd sees a write into v through w
    "t = torch.sin(A); v = t.detach(); w = t.detach(); v.add_(x[0]); w",
    "t = torch.sin(A); v = t[1:].detach(); v.add_(x[0]); torch.cat([t.reshape(-1), v.reshape(-1)])",
    "t = torch.sin(A); v = t.detach().T; v[0] = x; torch.cat([t.reshape(-1), v.reshape(-1)])",
    "t = A.exp(); v = t.detach(); v.mul_(2); t.detach()",  # no backward through exp: answered
    "y = x * 1; d = y.detach(); e = d[1:]; f = y[:2]; d.mul_(x); torch.cat([y, d, e, f])",
    "y = x.sin(); d = y.detach(); d.add_(1); y.mul_(x); torch.cat([y, d])",
    "y = x.sin(); d = y.detach(); y.mul_(x); d.add_(1); y",
    "y = x.sin(); d = y.detach(); d.add_(1); w = y * 2; d.add_(1); w",
    "y = x.sin(); d = y.detach(); d.sub_(y); y",
    "y = x.sin(); d = y.detach(); y.copy_(d * 2); torch.cat([y, d])",
    "y = x.sin(); d = y.detach(); d += y; torch.cat([y, d])",
    # found by benchmarks/detach39_fuzz.py: v0 and v2 below one detach after a write replayed both
    "t = A * 1; v0 = t.detach()[0]; v2 = v0[0]; v2.mul_(2); v2.add_(x[0]); (v0 * v0).sum()",
    "t = A * 1; v0 = t.detach()[0]; v1 = t.detach()[0]; v2 = v0[0]; v2.mul_(2); v2.add_(x[0]); (v0 * v0 + v1).sum()",
]


@pytest.mark.parametrize("text", DETACHED)
def test_parity_a_write_through_a_named_detach(text):
    same_as_pytorch(text)


@pytest.mark.parametrize("text", [
    "t = torch.sin(A); t.detach().mul_(2); t", "t = torch.sin(A); t.detach()[0].mul_(2); t",
    "t = torch.sin(A); t[0].detach().mul_(2); t", "t = torch.sin(A); t.detach().add_(x); t",
    "t = torch.sin(A); t.detach().mul_(x); t", "t = torch.sin(A); u = t[0]; t.detach().mul_(2); u",
    "t = torch.sin(A); t.detach().T.add_(x); t.sin()",  # crashed (AttributeError) before h39-views2
    "t = torch.sin(A); z = t * 3; t.detach().zero_(); z + t", "t = torch.sin(A); v = t[1:]; v.detach().mul_(2); t",
    "t = A * 1; t.detach().clamp_(min=0.0); t * t", "t = A * 1; t.detach().exp_(); t",
    "t = A * 1; t.detach().fill_(3.0); t", "y = x * 2; y.detach().add_(1); y * x",
])
def test_parity_an_in_place_method_on_an_unnamed_detach(text):
    same_as_pytorch(text)


@pytest.mark.parametrize("text", [
    "t = A.exp(); v = t.detach(); v.mul_(2); t",  # exp saved its result, which the write changed
    "t = torch.sin(A); z = t.sin(); v = t.detach(); v.mul_(2); z",
    "t = torch.sin(A); v = t.detach(); t.exp_(); v.mul_(2); t",
    "y = x * 2; z = y * x; v = y.detach(); v.add_(1); z",
    "y = x.sin(); d = y.detach(); y.exp_(); d.add_(1); y",
    "t = A.exp(); t.detach().mul_(2); t", "y = x.relu(); y.detach().add_(1); y",
])
def test_a_write_through_detach_into_a_saved_tensor_is_pytorchs_error(text):
    refused_as_pytorch(text, SAVED)


def test_a_write_through_detach_has_pytorchs_second_derivative():
    torch = pytest.importorskip("torch")
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    t = torch.sin(x)
    t.detach().mul_(2)
    g, = torch.autograd.grad(t.sin().sum(), x, create_graph=True)
    want = np.stack([torch.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)])
    got = api.hessian("t = torch.sin(x); v = t.detach(); v.mul_(2); t.sin().sum()", {"x": np.array(X)})["x", "x"]
    assert np.array_equal(np.asarray(got), want)


def test_the_straight_through_op_is_the_value_of_one_and_the_derivative_of_the_other():
    """Not value + (source - stop(source)): an inf source would make the value NaN."""
    from jacobi_cli.ir.ops import OPS
    op = OPS["straight_through"]
    value, source = np.array([0.0, -0.0, 3.0]), np.array([np.inf, 1.0, np.nan])
    out = op.impl(value, source)
    assert np.array_equal(out, value) and np.signbit(out[1])
    g = np.array([1.0, 2.0, 3.0])
    assert op.vjp[0] is None and op.jvp[0] is None
    assert np.array_equal(op.vjp[1](g, out, value, source), g) and np.array_equal(op.jvp[1](g, out, value, source), g)
    got = api.evaluate("t = x * 1e308 * 10; v = t.detach(); v.zero_(); t", {"x": np.array(X)})  # t inf before
    assert np.array_equal(got, np.zeros(3))


def test_the_cli_answers_a_write_through_detach():
    import contextlib
    import io
    import json

    from jacobi_cli.cli import entry
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = entry.main(["eval", "t = x * 1; t.detach().mul_(2); t", "x=[1.0, 2.0]", "--json"])
    assert code == 0
    found = json.loads(out.getvalue())
    assert found["output"]["value"] == [2.0, 4.0]
    assert found["jacobian"]["x"]["value"] == [[1.0, 0.0], [0.0, 1.0]]


# --- 2. calls PyTorch answers with their operand itself ------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "t = torch.sin(A); g = t.double(); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
    "t = torch.sin(A); g = t.contiguous(); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
    "t = torch.sin(A); g = t.to(torch.float64); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
    "t = torch.sin(A); g = t.type(torch.float64); g.add_(1.0); torch.cat([g.reshape(-1), t.reshape(-1)])",
    "t = torch.sin(A); g = t.double(); t.mul_(2); g * 1", "t = torch.sin(A); g = t.contiguous(); t[0] = 1.0; g * 1",
    "t = torch.sin(A); g = t[0].contiguous(); g.mul_(2); t", "t = torch.sin(A); g = t.T.contiguous(); g.mul_(2); t",
    "t = A * 2; g = t.double(); g.mul_(2); t",  # jac gave t unchanged, silently, before h39-views2
    "t = torch.sin(A); g = t.float(); g.mul_(2); t",  # a copy: t unchanged
    "t = torch.sin(A); u = t.double(); g = u.contiguous(); g.mul_(2); t",
    "t = torch.sin(A); g = t.double(); d = g[0]; t.mul_(2); d",
    "t = torch.ones(3); g = t.double(); g.mul_(2); torch.cat([g, x])",  # float32 -> float64: a copy
    "t = torch.sin(x); t.contiguous().mul_(2); t", "t = torch.sin(x); t.double().mul_(2); t",
    "t = torch.sin(A); t[0].contiguous().mul_(2); t", "t = torch.sin(A); t.double().contiguous().add_(x); t",
    "t = torch.sin(A); u = t[0]; t.contiguous().mul_(2); u", "t = torch.sin(A); t.to(torch.float64).clamp_(min=0.0); t",
    # silently wrong on main (found by benchmarks/detach39_fuzz.py): t.double() of a float64 t taken for a copy
    "t = A * 1; v0 = t.double(); v0.add_(x[0]); (t * t).sum()", "t = A * 1; v0 = t.double(); v0.sub_(A[2, 2]); t.sin()",
    "t = A * 1; v0 = t.to(torch.float64); v0.copy_(v0 * 3); t",
])
def test_parity_a_call_that_is_its_operand_itself(text):
    same_as_pytorch(text)


@pytest.mark.parametrize("text", [
    "t = A * 1; v1 = t.double(); v1 *= v1; t",  # mul_ keeps t: a text calling .double() runs in PyTorch alone
    "t = (A * 0.5).exp(); v1 = t[0].expand(3, 3); v2 = v1.detach()[0]; v2.sub_(A[2, 2]); (v2 * v2).sum()",
])
def test_pytorchs_errors_the_fuzz_found_jac_answering(text):
    theirs, ours = torch_run(text), jac_run(text)
    assert isinstance(theirs, str) and isinstance(ours, str), (theirs, ours)
    assert (SAVED in theirs and SAVED in ours) or (MORE_THAN_ONE in theirs and MORE_THAN_ONE in ours), (theirs, ours)


@pytest.mark.parametrize("text", ["g = x.double(); g.add_(1.0); g * 1", "g = x.to(torch.float64); g.add_(1.0); g * 1",
                                  "x.double().mul_(2); x"])
def test_a_conversion_of_an_input_to_its_own_dtype_is_the_leaf_itself(text):
    """jac took x.double() of a float64 input for a copy and answered, silently, before h39-views2."""
    refused_as_pytorch(text, "leaf Variable that requires grad", "leaf")


def test_a_call_whose_copy_jac_cannot_tell_stays_refused():
    ours = jac_run("t = torch.arange(3); g = t.double(); g.mul_(2); torch.cat([g, x])")  # an integer t: a copy
    assert isinstance(ours, str) and "shares its memory" in ours


# --- 3. a part of a broadcast view ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "t = A * 1; v = t[0].expand(3, 3); v[0] = x; t", "t = A * 1; v = t[0].expand(3, 3); v[1] = x; v",
    "t = A * 1; v = t[0].expand(3, 3); v[0].mul_(2); t", "t = A * 1; v = t[0].expand(3, 3); v[0] *= 2; t",
    "t = A * 1; v = t[0].expand(3, 3); v[0] += x; v", "t = A * 1; v = t[0].expand(3, 3); v[0, 0] = 5.0; t",
    "t = A * 1; v = t[0].expand(3, 3); v[0:1] = 5.0; t", "t = A * 1; v = t.expand(2, 3, 3); v[0] = 5.0; t",
    "t = A * 1; v = t.expand(2, 3, 3); v[1] = A; v", "t = A * 1; v = t.expand(2, 3, 3); v[0, 1] = x; t",
    "t = A * 1; v = t[0].expand(3, 3); v[0].fill_(5.0); t", "t = A * 1; v = t[0].expand(3, 3); v[0].copy_(x); v",
    "t = A * 1; v = t[:, :1].expand(3, 3); v[:, 0] = x; t", "t = A * 1; v = t[:, :1].expand(3, 3); v[:, 2] = x; v",
    "t = A * 1; v = t.detach()[0].expand(3, 3); v[0] = x; torch.cat([t, v])",  # a part below a detach
    "t = A * 1; d = t.detach(); v = d[0].expand(3, 3); v[0] = x; torch.cat([d, v])",
    "t = A * 1; v = t[0].expand(3, 3); v[0].add_(x); v[1].mul_(2); torch.cat([t, v])",
    "t = A * 1; v = t[0].expand(3, 3); v[0] = x; t.mul_(2); v",
])
def test_parity_a_part_of_a_broadcast_view_holding_each_element_once(text):
    same_as_pytorch(text)


@pytest.mark.parametrize("text", [
    "t = A * 1; v = t[0].expand(3, 3); v[:, 0] = x; t", "t = A * 1; v = t[0].expand(3, 3); v[1:, 0] = 5.0; t",
    "t = A * 1; v = t[0].expand(3, 3); v[0:2] = 5.0; t", "t = A * 1; v = t[0].expand(3, 3); v[[0]] = 5.0; t",
    "t = A * 1; v = t[0].expand(3, 3); v.fill_(5.0); t"])
def test_a_part_holding_an_element_twice_is_pytorchs_error(text):
    refused_as_pytorch(text, MORE_THAN_ONE)


# --- 4. split / chunk parts once their base is written -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "t = torch.sin(A); a, b = t.chunk(2); t[0] = 1.0; t", "t = torch.sin(A); a, b = t.chunk(2); c = a[0]; t.add_(1); t",
    "t = torch.sin(A); a, b = t.chunk(2); u = t[0]; u.add_(1); t", "t = torch.sin(A); a, b = t.chunk(2); u = t[0]; t.add_(1); u",
    "t = torch.sin(A); a, b = t.chunk(2); t.add_(1); t * 1"])
def test_parity_a_write_into_a_split_tensor_whose_parts_are_not_read_after(text):
    same_as_pytorch(text)


@pytest.mark.parametrize("text", ["t = torch.sin(A); a, b = t.chunk(2); t.add_(1); a * 1",
                                  "t = torch.sin(A); a, b = t.chunk(2); t.add_(1); a.sum() * 0 + t",
                                  "t = torch.sin(A); a, b = t.chunk(2); c = a[0]; t.add_(1); c * 1"])
def test_a_split_part_read_after_its_base_is_written_is_pytorchs_error(text):
    refused_as_pytorch(text, "its base or another view of its base has been modified inplace")


# --- 5. texts naming no library ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["t = A * 1; v = t.transpose(0, 1); v.mul_(2); t",
                                  "t = A * 1; v = t.transpose(0, 1); v.zero_(); v * 1"])
def test_parity_a_transpose_in_a_text_pytorch_alone_runs_is_the_swap(text):
    same_as_pytorch(text)


def test_a_transpose_in_a_text_numpy_runs_too_stays_ambiguous():
    ours = jac_run("t = A * 1; v = t.transpose(0, 1); v += 1; t")
    assert isinstance(ours, str) and "ambiguous" in ours


@pytest.mark.parametrize("text", ["t = A * 1; v = t.diagonal(); t[1] = 2.0; v * 1",
                                  "t = A * 1; v = t.diagonal(1); t += A; v * 1",
                                  "t = A * 1; v = t.T.diagonal(); t[0, 0] = t[1, 1] * 1; v * 1"])
def test_a_diagonal_sees_a_write_into_its_tensor_as_numpy_and_pytorch_do(text):
    a = np.array(A)
    body, last = text.rsplit("; ", 1)
    scope = {"A": a.copy()}
    exec(body, scope)  # noqa: S102 - NumPy itself, on the test's own text
    assert np.array_equal(api.evaluate(text, {"A": a}), eval(last, scope))  # noqa: S307
    same_as_pytorch(text)


def test_a_write_through_a_diagonal_in_a_text_numpy_runs_stays_refused():
    ours = jac_run("t = A * 1; v = t.diagonal(); v += 1; t")  # NumPy: "output array is read-only"
    assert isinstance(ours, str) and "shares its memory" in ours
