"""Fourier transforms, the rest (session 37), against PyTorch float64 autograd: the VJP and JVP of long transforms
(fft, ifft, rfft, irfft, hfft, ihfft, fftn with each norm= at 10,000 and 100,000 points), lists of complex values and
complex constructors (torch.tensor([1 + 2j, 3]), view_as_complex, polar, complex), and torch.stft, run by the jac of
the checkout TREE.

    PYTHONPATH=. /work/venv/bin/python benchmarks/fft37_probe.py [TREE] [-v]

Prints one line per case that is not AGREE (all with -v), then the counts: AGREE (value, VJP and JVP, or value and
Jacobian, within 1e-12 of the largest of PyTorch's), REFUSED (a clear JacError), WRONG, CRASH. Exit 1 on WRONG or
CRASH. Runs in about a minute.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def close(got, want, tol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(np.abs(want).max(initial=0), 1e-300)
    return got.shape == want.shape and np.allclose(got, want, rtol=0, atol=tol * scale)


def long_case(jacobi_cli, torch, text, f, n, rng):
    x = rng.standard_normal(n)
    value = jacobi_cli.evaluate(text, {"x": x})
    v, t = rng.standard_normal(value.shape), rng.standard_normal(n)
    got_vjp, got_jvp = jacobi_cli.vjp(text, {"x": x}, v=v)["x"], jacobi_cli.jvp(text, {"x": x}, {"x": t})
    xt = torch.tensor(x, requires_grad=True)
    y = f(xt)
    y.backward(torch.tensor(v))
    want_jvp = torch.func.jvp(f, (torch.tensor(x),), (torch.tensor(t),))[1].resolve_neg().numpy()
    return (close(value, y.detach().resolve_neg().numpy(), 1e-12) and close(got_vjp, xt.grad.numpy(), 1e-12)
            and close(got_jvp, want_jvp, 1e-12))


def small_case(jacobi_cli, torch, text, f, x):
    want = f(torch.tensor(x)).resolve_neg().numpy()
    J = torch.autograd.functional.jacobian(f, torch.tensor(x)).numpy()
    return close(jacobi_cli.evaluate(text, {"x": x}), want, 1e-12) and \
        close(jacobi_cli.jacobian(text, {"x": x})["x"], J, 1e-12)


def main(argv):
    tree = next((a for a in argv if not a.startswith("-")), os.path.dirname(HERE))
    verbose = "-v" in argv
    sys.path.insert(0, os.path.abspath(tree))
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import torch
    import jacobi_cli
    from jacobi_cli.errors import JacError
    import test_fft37 as t37
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    cases = []
    for n in (10_000, 100_000):
        for kind in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn"):
            for norm in (None, "ortho", "forward"):
                text, f = t37._torch_case(kind, norm)
                cases.append((f"n={n} {text}", lambda text=text, f=f, n=n: long_case(jacobi_cli, torch, text, f, n,
                                                                                      rng)))
    x4 = np.array([1.5, -0.5, 2.0, 0.25])
    for text, f in t37.LISTS:
        cases.append((text, lambda text=text, f=f: small_case(jacobi_cli, torch, text, lambda t: f(torch, t), x4)))
    for rest in (r for r, _ in t37.STFT):
        for shape in ((37,), (2, 20)):
            text = f"torch.stft(x, {rest}"
            source = text.replace("hann_window(8)", "hann_window(8, dtype=torch.float64)").replace(
                "hann_window(5)", "hann_window(5, dtype=torch.float64)")
            x = rng.standard_normal(shape)
            cases.append((f"{shape} {text}", lambda text=text, source=source, x=x: small_case(
                jacobi_cli, torch, text, lambda t: eval(source, {"torch": torch}, {"x": t}), x)))  # noqa: S307
    counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "CRASH": 0}
    for name, run in cases:
        try:
            verdict = "AGREE" if run() else "WRONG"
        except JacError as err:
            verdict = "REFUSED"
            name = f"{name}: {str(err)[:100]}"
        except Exception as err:  # noqa: BLE001 - a crash is what the probe counts
            verdict = "CRASH"
            name = f"{name}: {type(err).__name__}: {str(err)[:100]}"
        counts[verdict] += 1
        if verbose or verdict != "AGREE":
            print(f"{verdict} {name}")
    print(f"{len(cases)} cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
