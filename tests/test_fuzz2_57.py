"""Session 57 (h57-fuzz2): the second fuzz round's texts of jac's new reads by a computed index array.

``z = y[y.argsort()]`` (lang/parser.py ``at_computed_array``, lowered to ``take_along``) is an advanced index: PyTorch
and NumPy answer it with a copy. jac bound ``z`` to ``y``'s buffer (the rule giving ``v = y[:2]`` its root's buffers
read the subscript as a view), so a later write into either (``y.add_(1)``, ``z[0] = 5.0``) was refused with "NumPy
and PyTorch would change 'z' too", which is false, and a write PyTorch's backward refuses got that message instead of
PyTorch's. The read is now a buffer of its own (``_Lowering.gathered``, ``new_buffer``). The tests named "guard"
pass on main too; every other one fails there.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.3, -1.2, 2.1, 0.7, -0.4, 1.5])
A = np.array([[0.3, -1.2, 2.1], [0.7, -0.4, 1.5], [1.1, 0.2, -0.9], [-2.0, 0.55, 0.81]])

ANSWERED = [  # PyTorch answers each: the read is a copy, the write changes the other name alone
    ("y = x * 1.0; i = y.argsort(); z = y[i]; y.add_(1); z", X),
    ("y = x * 1.0; z = y[y.argsort()]; z[0] = 5.0; z * y", X),
    ("y = x.clone(); z = y[torch.argsort(y)]; y[1] = 0.0; z + y", X),
    ("y = torch.sin(x); z = y[y.argsort()]; y.mul_(y); z", X),
    ("y = torch.sin(x); i = torch.topk(y, 3).indices; z = y[i]; z.mul_(2); z", X),
    ("y = torch.sin(x); z = y[torch.topk(y, 2).indices]; y.sub_(1); z.sum() * y", X),
    ("B = a * 1.0; idx = B[0].argsort(); C = B[:, idx]; B.add_(1); C", A),
    ("B = a * 1.0; idx = B[:, 0].argsort(); C = B[idx, 0]; B[0, 0] = 3.0; C * B[:, 1]", A),
    ("y = x * 1.0; d = y.detach(); z = y[d.argsort()]; d.mul_(0); z + y", X),
    ("y = torch.sin(x); d = y.detach()[y.argsort()]; y.mul_(d); y", X),
    ("y = torch.sin(x); z = y[y.argsort()]; y.detach().mul_(2); z", X),
    ("y = torch.sin(x); z = y[y.argsort()]; y.data.mul_(2); z", X),
    ("y = x * 1.0; z = y[y.argsort()]; y.add_(1); y[z.argsort()]", X),
]
SAVED = [  # PyTorch's backward raises: jac says so, where it said the names shared a buffer
    ("y = torch.exp(x); z = y[y.argsort(descending=True)]; y += 1; z", X),
    ("B = torch.tanh(a); idx = B[:, 1].argsort(); D = B[idx]; D.mul_(D); D", A),
    ("B = torch.tanh(a); idx = B[:, 1].argsort(); D = B[idx]; B.mul_(B); D", A),
    ("B = torch.sin(a); m = B.prod(1); z = m[m.argsort()]; m.mul_(2); z", A),
]
GUARDS = [  # views PyTorch makes: still refused (a 0-d index tensor is an integer to PyTorch, a view)
    ("y = x * 1.0; z = y[y.argmax()]; y.add_(1); z", X),
    ("y = x * 1.0; s = torch.sort(y); v = s[0]; v.add_(1); s[0]", X),
]


def _name(x0):
    return "a" if x0 is A else "x"


def _torch(text: str, x0: np.ndarray):
    """PyTorch's value and Jacobian of the text (its last expression) at x0, or the RuntimeError it raises."""
    import torch

    lines = [s.strip() for s in text.split(";")]

    def f(x):
        scope = {"torch": torch, _name(x0): x}
        for line in lines[:-1]:
            exec(line, scope)
        return eval(lines[-1], scope)

    t = torch.tensor(x0, dtype=torch.float64)
    return f(t.clone()).detach().numpy(), torch.autograd.functional.jacobian(f, t).numpy()


@pytest.mark.parametrize("text,x0", ANSWERED)
def test_a_read_by_a_computed_index_is_a_copy_of_its_own(text, x0):
    value, jac = _torch(text, x0)
    got = api.jacobian(text, {_name(x0): x0})[_name(x0)]
    np.testing.assert_allclose(np.asarray(api.evaluate(text, {_name(x0): x0})), value, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.asarray(got).reshape(jac.shape), jac, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("text,x0", SAVED)
def test_a_write_pytorch_backward_refuses_gets_pytorchs_reason(text, x0):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _torch(text, x0)
    with pytest.raises(JacError, match="PyTorch's backward pass raises here"):
        api.jacobian(text, {_name(x0): x0})


def test_numpy_reads_a_computed_index_as_a_copy_too():
    text = "y = x * 1.0; z = y[np.argsort(y)]; y[0] = 5.0; z * y"
    y = X * 1.0
    z = y[np.argsort(y)]
    y[0] = 5.0
    np.testing.assert_allclose(np.asarray(api.evaluate(text, {"x": X})), z * y, rtol=1e-15)
    order = np.argsort(X)
    want = np.zeros((6, 6))  # d(z * y)/dx: z = x[order] (a copy), y = x with y[0] = 5
    for k in range(6):
        want[k, order[k]] += 5.0 if k == 0 else X[k]
        if k:
            want[k, k] += X[order[k]]
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], want, rtol=1e-15)


@pytest.mark.parametrize("text,x0", GUARDS)
def test_guard_views_stay_refused(text, x0):
    with pytest.raises(JacError, match="shares its memory"):
        api.jacobian(text, {_name(x0): x0})


# torchprog37 seed 5768: ``t1 = x.exp(); t2 = t1[::-1]; t2`` names no library, but ``x.exp()`` is a method of
# PyTorch's Tensor alone (NumPy's ndarray has none): PyTorch alone runs the text, and raises ValueError ("step must be
# greater than zero"). jac refused a negative step only in a text naming torch or writing in place.
NEGATIVE_STEP = [
    "t1 = x.exp(); t2 = t1[::-1]; t2",
    "t1 = x.exp(); t2 = t1[::-1]; t3 = y * x; t4 = t1[:, 2]; t2",
    "t = x.clone(); t[:, ::-2]",
]
NEGATIVE_STEP_ANSWERED = [  # guards: NumPy runs these (no Tensor-only method), and reverses
    "t1 = x * 2; t2 = t1[::-1]; t2",
    "t1 = np.exp(x); t2 = t1[::-1]; t2",
]
M23 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) / 4


@pytest.mark.parametrize("text", NEGATIVE_STEP)
def test_a_negative_step_in_a_text_pytorch_alone_runs_is_refused(text):
    with pytest.raises(JacError, match="step must be greater than zero"):
        api.jacobian(text, {"x": M23, "y": M23} if "y" in text else {"x": M23})


@pytest.mark.parametrize("text", NEGATIVE_STEP_ANSWERED)
def test_guard_a_negative_step_numpy_runs_is_answered(text):
    got = api.evaluate(text, {"x": M23})
    want = (M23 * 2 if "x * 2" in text else np.exp(M23))[::-1]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-15)


# torchprog37 seed 5768: torch.linalg.solve(A, B) keeps A and its result for backward (B not); a write into either
# after the call makes PyTorch's backward raise. jac kept no entry for solve and answered.
X223 = np.array([[[0.179, 0.437, -0.307], [-0.946, -0.406, -0.385]], [[0.171, 0.454, 2.666], [1.202, 1.210, 0.397]]])
SOLVE_WRITTEN = [
    "t1 = x.clone(); t1.pow_(2); t2 = t1.unbind(-1); t5 = t2[0]; t6 = torch.eye(2) * 2 + 0.3 * x @ x.transpose(-1, -2); "
    "t7 = torch.linalg.solve(t6, t5); t7[1:, :1] *= torch.tensor(0.75); t7.sum()",
    "x2 = x * 1.0; t5 = x2[..., 0]; t6 = torch.eye(2) * 2 + 0.3 * x2 @ x2.transpose(-1, -2); "
    "t7 = torch.linalg.solve(t6, t5); t6 *= 0.75; t7.sum()",
]
SOLVE_ANSWERED = [  # the right-hand side is not kept: a write into it after the call is PyTorch's
    "t5 = x[..., 0] * 1.0; t6 = torch.eye(2) * 2 + 0.3 * x @ x.transpose(-1, -2); "
    "t7 = torch.linalg.solve(t6, t5); t5 *= 0.75; t7.sum() + t5.sum()",
]


@pytest.mark.parametrize("text", SOLVE_WRITTEN)
def test_a_write_into_what_solve_keeps_is_refused(text):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _torch(text, X223)
    with pytest.raises(JacError, match="PyTorch's backward pass raises here"):
        api.jacobian(text, {"x": X223})


@pytest.mark.parametrize("text", SOLVE_ANSWERED)
def test_guard_a_write_into_solves_right_hand_side_is_answered(text):
    value, jac = _torch(text, X223)
    np.testing.assert_allclose(np.asarray(api.evaluate(text, {"x": X223})), value, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(api.jacobian(text, {"x": X223})["x"]).reshape(jac.shape), jac, rtol=1e-12,
                               atol=1e-14)


# Beside solve (a probe of 18 linear-algebra calls, benchmarks/linalgsaved57_probe.py): what PyTorch's backward keeps
# of cholesky, eigvalsh, svdvals (the result), pinv (A and the result), matrix_exp (A), solve_triangular (A and the
# result): a write into it after the call was answered.
LINALG_WRITTEN = [
    "A = x * 1.0; S = A @ A.T + torch.eye(3); g = torch.linalg.cholesky(S); g.mul_(2); g.sum()",
    "A = x * 1.0; S = A @ A.T + torch.eye(3); g = torch.linalg.eigvalsh(S); g.mul_(2); g.sum()",
    "A = x * 1.0; g = torch.linalg.svdvals(A); g.mul_(2); g.sum()",
    "A = x * 1.0; g = torch.linalg.pinv(A); A.mul_(2); g.sum()",
    "A = x * 1.0; g = torch.linalg.pinv(A); g.mul_(2); g.sum()",
    "A = x * 1.0; g = torch.linalg.matrix_exp(A); A.mul_(2); g.sum()",
    "A = x * 1.0; b = A[:, :2] * 1.0; g = torch.linalg.solve_triangular(torch.triu(A), b, upper=True); g.mul_(2); g.sum()",
]
X33 = np.array([[2.0, 0.3, -0.2], [0.1, 1.5, 0.4], [-0.3, 0.2, 1.8]])


@pytest.mark.parametrize("text", LINALG_WRITTEN)
def test_a_write_into_what_a_linear_algebra_call_keeps_is_refused(text):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _torch(text, X33)
    with pytest.raises(JacError, match="PyTorch's backward pass raises here"):
        api.jacobian(text, {"x": X33})
