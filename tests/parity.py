"""Parity with PyTorch: one expression through jac and through ``torch.autograd.functional``.

A parity case is ``(expr, inputs, torch_fn)``: ``inputs`` is ``{name: numpy array}`` (the
same values go to both), and ``torch_fn(**tensors)`` computes the expression with PyTorch.
:func:`assert_parity` compares the value, the Jacobian for every input, a VJP with a random
cotangent and, for a one-element output, the Hessian. The test files ``test_parity_*.py``
hold the cases; they skip when PyTorch is not installed.

Where jac deliberately differs from PyTorch (an exact zero where PyTorch writes NaN), the
case says so with ``differs=`` and the comparison skips what it names.
"""

from __future__ import annotations

import numpy as np

from jacobi_cli.tools import api

RTOL, ATOL = 1e-9, 1e-11


def _torch():
    import pytest

    return pytest.importorskip("torch")


def _tensors(torch, inputs: dict) -> dict:
    return {n: torch.tensor(np.asarray(v, dtype=np.float64)) for n, v in inputs.items()}


def torch_results(torch_fn, inputs: dict, v: np.ndarray | None = None) -> dict:
    """Value, Jacobians, VJP (for cotangent ``v``) and Hessians computed by PyTorch."""
    torch = _torch()
    from torch.autograd.functional import hessian, jacobian, vjp

    names = list(inputs)
    args = tuple(_tensors(torch, inputs).values())

    def f(*xs):
        return torch_fn(**dict(zip(names, xs)))

    value = f(*args)
    out = {"value": value.detach().numpy()}
    jac = jacobian(f, args)
    out["jacobian"] = {n: j.numpy() for n, j in zip(names, jac)}
    if v is not None:
        _, grads = vjp(f, args, torch.tensor(v))
        out["vjp"] = {n: g.numpy() for n, g in zip(names, grads)}
    if value.numel() == 1:  # blocks y.shape + a.shape + b.shape, as jac hessian gives them for any output
        hess = hessian(lambda *xs: f(*xs).reshape(()), args)
        out["hessian"] = {(a, b): hess[i][j].numpy().reshape(tuple(value.shape) + tuple(args[i].shape)
                                                              + tuple(args[j].shape))
                          for i, a in enumerate(names) for j, b in enumerate(names)}
    return out


def assert_parity(expr: str, inputs: dict, torch_fn, differs: tuple = (), rtol: float = RTOL,
                  atol: float = ATOL, seed: int = 0) -> None:
    """jac's value, Jacobians, VJP and (scalar outputs) Hessian equal PyTorch's.

    ``differs`` names the parts jac deliberately computes otherwise (``"hessian"``, ...)."""
    inputs = {n: np.asarray(v, dtype=np.float64) for n, v in inputs.items()}
    value = np.asarray(api.evaluate(expr, inputs))
    v = np.random.default_rng(seed).standard_normal(value.shape)
    theirs = torch_results(torch_fn, inputs, v)
    _close(value, theirs["value"], "value", expr, rtol, atol)
    if "jacobian" not in differs:
        ours = api.jacobian(expr, inputs)
        for name in inputs:
            _close(ours[name], theirs["jacobian"][name], f"d/d{name}", expr, rtol, atol)
    if "vjp" not in differs:
        ours = api.vjp(expr, inputs, v=v)
        for name in inputs:
            _close(ours[name], theirs["vjp"][name], f"vjp {name}", expr, rtol, atol)
    if "hessian" in theirs and "hessian" not in differs:
        ours = api.hessian(expr, inputs)
        for key, block in theirs["hessian"].items():
            _close(ours[key], block, f"hessian {key}", expr, rtol, atol)


def _close(ours, theirs, what: str, expr: str, rtol: float, atol: float) -> None:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{expr}: {what} has shape {ours.shape}, PyTorch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{expr}: {what}")


def central(f, x, h=1e-5):
    """d f / d x by central differences: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    y0 = np.asarray(f(x))
    out = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        out[(...,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return out
