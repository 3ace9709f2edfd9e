"""Fourier-transform texts of session 36 (lang/fourier.py) and how to run each in its own library: the same text,
executed by PyTorch, NumPy or JAX in float64, is the reference for jac's value and Jacobian. Shared by
tests/test_fft36.py and benchmarks/fft36_probe.py."""

from __future__ import annotations

import ast

import numpy as np

# (library, text, {name: shape}); the last statement is the output
TORCH = [
    "(torch.fft.rfft(x).abs() ** 2).sum()",
    "torch.fft.rfft(x).abs()",
    "torch.abs(torch.fft.fft(x)) ** 2",
    "(torch.fft.rfft(a).abs() - torch.fft.rfft(b).abs()).pow(2).mean()",
    "torch.fft.irfft(torch.fft.rfft(x) * H, n=len(x))",
    "torch.fft.irfft(torch.fft.rfft(x) * H, n=x.shape[-1])",
    "torch.fft.irfft(torch.fft.rfft(a, n=12) * torch.fft.rfft(b, n=12), n=12)",
    "torch.fft.fft(x).real",
    "torch.fft.fft(x).imag",
    "torch.real(torch.fft.fft(x))",
    "torch.imag(torch.fft.ifft(x))",
    "torch.fft.rfft(x).angle()",
    "torch.angle(torch.fft.fft(x))",
    "torch.view_as_real(torch.fft.rfft(x))",
    "X = torch.fft.rfft(x)\n(X * X.conj()).real",
    "X = torch.fft.rfft(x)\nY = torch.fft.rfft(y)\n(X * Y.conj()).imag",
    "torch.fft.ifft(torch.fft.fft(x) * torch.fft.fft(y)).real",
    "torch.fft.fftshift(torch.fft.fft(x).abs())",
    "torch.fft.ifftshift(torch.fft.fft(x)).real",
    "torch.fft.fft2(A).abs()",
    "torch.fft.ifft2(A).imag",
    "torch.fft.rfft2(A).abs().sum()",
    "torch.fft.irfft2(torch.fft.rfft2(A) * torch.fft.rfft2(B), s=A.shape)",
    "torch.fft.rfft(A, dim=0).abs()",
    "torch.fft.fft(A, dim=0).real",
    "torch.fft.fft(x, norm='ortho').real",
    "torch.fft.fft(x, norm='forward').imag",
    "torch.fft.ifft(x, n=6, norm='forward').imag",
    "torch.fft.ifft(x, norm='ortho').real",
    "torch.fft.irfft(torch.complex(a, b))",
    "torch.fft.irfft(torch.complex(a, b), n=9)",
    "torch.fft.irfft(torch.polar(a.abs() + 1, b), n=8)",
    "torch.fft.fftn(T).abs().sum()",
    "torch.fft.fftn(T, dim=(0, 2)).real",
    "torch.fft.rfftn(T, dim=(0, 2)).real",
    "torch.fft.irfftn(torch.fft.rfftn(T))",
    "torch.fft.ifftn(torch.fft.fftn(T), s=(3, 4), dim=(1, 2)).imag",
    "torch.fft.hfft(torch.fft.rfft(x))",
    "torch.fft.hfft(torch.complex(a, b), n=7)",
    "torch.fft.ihfft(x).imag",
    "(torch.fft.fft(x) / torch.fft.fft(y)).real",
    "(torch.fft.fft(x) / (y * y + 1)).imag",
    "(2.0 / torch.fft.fft(x)).imag",
    "(torch.fft.rfft(x) ** 3).imag",
    "(torch.fft.rfft(x) ** -2).real",
    "torch.exp(1j * x).real",
    "(torch.exp(-2j * torch.pi * x) * torch.fft.fft(y)).imag",
    "torch.fft.rfft(x)[1:].abs().sum()",
    "torch.fft.rfft(A).sum(dim=-1).abs()",
    "torch.fft.fft(x).mean().real",
    "torch.fft.rfft(x, n=4).abs()",
    "torch.fft.rfft(x, n=11).abs()",
    "torch.fft.irfft(torch.fft.rfft(x), n=7)",
    "torch.fft.irfft(torch.fft.rfft(x), n=5)",
    "(x * torch.fft.ifftshift(torch.fft.fft(y)).real).sum()",
    "torch.fft.ifft(torch.fft.fft(A, dim=0), dim=0).real",
    "(torch.fft.rfft(x) @ torch.fft.rfft(y)).real",
    "(torch.fft.rfft(A) @ torch.fft.rfft(A).mT).real",
    "torch.fft.rfft(x).abs().square().sum()",
    "torch.fft.rfft(x).conj().imag",
    "(torch.fft.fft(x) - 1).abs()",
    "(2 - torch.fft.fft(x)).abs()",
    "(-torch.fft.fft(x)).imag",
    "torch.fft.rfft(A).T.real",
    "torch.fft.rfft(A).mT.imag",
    "torch.fft.rfft(A)[:, 1].angle()",
    "torch.fft.fft(x).flip(0).real",
    "torch.fft.fft(x).roll(2).imag",
    "torch.fft.rfft(A).reshape(-1).abs()",
    "torch.fft.rfft(A).transpose(0, 1).real",
    "torch.fft.rfft(A).unsqueeze(0).imag",
    "torch.fft.fft(x).cumsum(0).imag",
    "X = torch.fft.rfft(x)\nX.abs() / X.abs().max()",
    "P = torch.fft.rfft(x).abs() ** 2\nP / P.sum()",
    "f = torch.fft.rfftfreq(x.shape[-1], d=0.5)\n(f * torch.fft.rfft(x).abs()).sum()",
    "f = torch.fft.fftfreq(8)\n(f * torch.fft.fft(x).real).sum()",
    "X = torch.fft.rfft(x)\nH = (torch.arange(X.shape[0]) < 3).double()\ntorch.fft.irfft(X * H, n=x.shape[0])",
    "X = torch.fft.rfft(x)\nX = X * H\ntorch.fft.irfft(X, n=8)",
    "X = torch.fft.rfft(x)\nG = torch.complex(H, H * 0.5)\ntorch.fft.irfft(X * G, n=8)",
    "torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(y), n=8).sum()",
    "torch.fft.rfft(x).abs().log().sum()",
    "torch.fft.fft(torch.fft.fft(x)).real",
    "torch.fft.fft(torch.fft.ifft(x)).real",
    "torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(x).conj(), n=2 * 8)[:8]",
    "def spec(z):\n    return torch.fft.rfft(z).abs() ** 2\nspec(x) + spec(y)",
    "def power(Z):\n    return (Z * Z.conj()).real\npower(torch.fft.fft(x))",
    "torch.fft.rfft(x).abs().pow(2).mean()",
    "torch.fft.rfft(x.reshape(2, 4)).abs()",
    "torch.fft.rfft(x * torch.hann_window(8, periodic=True, dtype=torch.float64)).abs()",
    "torch.stack([torch.fft.rfft(x).real, torch.fft.rfft(x).imag])",
    "torch.fft.fft(x).sum().abs()",
    "torch.fft.fft(x).sum().angle()",
    "torch.fft.fft(A).sum(0).real",
    "torch.fft.fft(x).square().real",
    "(torch.fft.fft(x) * 1j).real",
    "(torch.fft.fft(x) + torch.fft.fft(y)).abs()",
    "(torch.fft.fft(x) - y).abs()",
    "(y - torch.fft.fft(x)).abs()",
    "(y * torch.fft.fft(x)).imag",
    "torch.view_as_real(torch.fft.fft2(A)).sum(-1)",
    "X = torch.fft.rfft(x)\nX[4:] = 0\ntorch.fft.irfft(X, n=8)",
    "X = torch.fft.rfft(x)\nX *= H\ntorch.fft.irfft(X, n=8)",
    "X, Y = torch.fft.rfft(x), torch.fft.rfft(y)\ntorch.fft.irfft(X * Y.conj(), n=8)",
    "torch.where(x > 0, torch.fft.fft(x), 0).imag",
    "torch.where(x > 0, 1.0, torch.fft.fft(y)).real",
]
NUMPY = [
    "np.abs(np.fft.rfft(x))",
    "np.abs(np.fft.rfft(x)) ** 2",
    "np.fft.irfft(np.fft.rfft(x) * H, n=len(x))",
    "np.real(np.fft.ifft(np.fft.fft(x) * np.fft.fft(y)))",
    "np.angle(np.fft.fft(x), deg=True)",
    "np.angle(np.fft.rfft(x))",
    "np.fft.fftshift(np.abs(np.fft.fft2(A)))",
    "np.fft.fftshift(np.abs(np.fft.fft2(A)), axes=1)",
    "np.imag(np.fft.fft(x, norm='ortho'))",
    "np.fft.fftfreq(8, d=0.1) * x",
    "np.fft.rfftfreq(8) * np.abs(np.fft.rfft(x))",
    "np.fft.irfft(np.fft.rfft(x), n=8)",
    "np.fft.irfft2(np.fft.rfft2(A) * np.fft.rfft2(B), s=A.shape)",
    "np.fft.rfftn(T, axes=(0, 1)).imag",
    "np.fft.fftn(T, s=(2, 2, 2), axes=(0, 1, 2)).real",
    "np.abs(np.fft.ifftn(T))",
    "np.fft.hfft(np.fft.ifft(x)[:5])",
    "np.fft.ihfft(x).real",
    "np.conj(np.fft.fft(x)).imag",
    "np.real(np.fft.fft(x) * np.conj(np.fft.fft(y)))",
    "np.sum(np.abs(np.fft.rfft(A, axis=0)), axis=1)",
    "np.mean(np.fft.fft(A, axis=1), axis=0).real",
    "np.abs(np.fft.fft(x, n=16))",
    "np.abs(np.fft.fft(x, n=5))",
    "X = np.fft.rfft(x)\nmask = np.fft.rfftfreq(len(x)) < 0.3\nnp.fft.irfft(X * mask, n=len(x))",
    "np.fft.ifftshift(np.fft.fftshift(x))",
    "np.fft.fftshift(x)",
    "np.real(np.exp(1j * x))",
    "np.abs(np.fft.fft(x)).max()",
    "np.square(np.abs(np.fft.rfft(x))).sum()",
    "X = np.fft.rfft(x)\nX[3:] = 0\nnp.fft.irfft(X, n=len(x))",
    "X = np.fft.rfft(x)\nX[np.fft.rfftfreq(len(x)) > 0.25] = 0\nnp.fft.irfft(X, n=len(x))",
    "X = np.fft.rfft(x)\nX *= np.fft.rfft(y)\nnp.fft.irfft(X, n=8)",
    "X = np.fft.rfft(x)\nX[1] = 1 + 2j\nX.imag + X.real",
    "X = np.fft.fft(x)\nX[1:4] = X[1:4] * 0.5\nnp.real(np.fft.ifft(X))",
    "def lowpass(v):\n    X = np.fft.rfft(v)\n    X[3:] = 0\n    return np.fft.irfft(X, n=len(v))\nlowpass(x) + lowpass(y)",
    "mag = np.abs(np.fft.rfft(x))\nfreqs = np.fft.rfftfreq(len(x), d=1 / fs)\nnp.sum(freqs * mag) / np.sum(mag)",
    "np.fft.fftfreq(8, d=fs) * x",
]
JAX = [
    "jnp.abs(jnp.fft.fft(x)) ** 2",
    "jnp.abs(jnp.fft.rfft(x))",
    "jnp.real(jnp.fft.ifft(jnp.log(jnp.abs(jnp.fft.fft(x)) + 1e-3)))[:4]",
    "jnp.fft.irfft(jnp.fft.rfft(x) * H, n=x.shape[0])",
    "jnp.abs(jnp.fft.rfft2(A))",
    "jnp.angle(jnp.fft.fft(x))",
    "jnp.fft.fft(x).imag",
    "jnp.fft.irfftn(jnp.fft.rfftn(T) * jnp.fft.rfftn(T), s=T.shape)",
    "jnp.sum(jnp.abs(jnp.fft.fft(x)) ** 2) / x.shape[0]",
    "jnp.real(jnp.fft.fft(x) * jnp.conj(jnp.fft.fft(y)))",
    "jnp.abs(jnp.fft.fftshift(jnp.fft.fft(x)))",
    "jnp.fft.hfft(jnp.fft.rfft(x))",
]
SHAPES = {"x": (8,), "y": (8,), "a": (5,), "b": (5,), "H": (5,), "A": (4, 6), "B": (4, 6), "T": (2, 3, 4), "fs": ()}
ZERO = ["torch.fft.rfft(x).abs().sum()", "torch.fft.rfft(x).angle().sum()", "(torch.fft.rfft(x).abs() ** 2).sum()",
        "torch.fft.fft(x).abs()", "torch.fft.rfft(x).abs().pow(3).sum()"]


def names_of(text: str) -> list:
    used = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    assigned = {t.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    return sorted((used & set(SHAPES)) - assigned)


def inputs(text: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal(SHAPES[n]) for n in names_of(text)}


def run(text: str, namespace: dict):
    """The text run by Python in ``namespace``: its statements, then the last one's value."""
    tree = ast.parse(text)
    *body, last = tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<text>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<text>", "eval"), namespace)


def torch_reference(text: str, values: dict):
    """PyTorch's value and Jacobians (float64) of the text at ``values``."""
    import torch
    names = list(values)
    tensors = [torch.tensor(values[n], dtype=torch.float64) for n in names]

    def f(*args):
        return run(text, {"torch": torch, **dict(zip(names, args))})
    value = f(*tensors).detach().resolve_neg().resolve_conj().numpy()
    jac = torch.autograd.functional.jacobian(f, tuple(tensors))
    return value, {n: j.resolve_neg().resolve_conj().numpy() for n, j in zip(names, jac)}


def jax_reference(text: str, values: dict):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    names = list(values)

    def f(*args):
        return run(text, {"jnp": jnp, "jax": jax, **dict(zip(names, args))})
    arrays = [jnp.asarray(values[n]) for n in names]
    jac = jax.jacrev(f, argnums=tuple(range(len(names))))(*arrays)
    return np.asarray(f(*arrays)), {n: np.asarray(j) for n, j in zip(names, jac)}


def numpy_value(text: str, values: dict):
    return np.asarray(run(text, {"np": np, **values}), dtype=float)


def central(text: str, values: dict, h: float = 1e-6) -> dict:
    """Central differences of NumPy's own value of the text."""
    out = {}
    for name, x in values.items():
        y0 = numpy_value(text, values)
        cols = []
        for i in range(x.size):
            up, down = x.copy().reshape(-1), x.copy().reshape(-1)
            up[i] += h
            down[i] -= h
            fu = numpy_value(text, {**values, name: up.reshape(x.shape)})
            fd = numpy_value(text, {**values, name: down.reshape(x.shape)})
            cols.append((fu - fd) / (2 * h))
        out[name] = np.moveaxis(np.array(cols).reshape(x.shape + y0.shape), list(range(x.ndim)),
                                list(range(y0.ndim, y0.ndim + x.ndim)))
    return out
