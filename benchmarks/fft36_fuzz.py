"""Random compositions of what jac reads of complex values (session 36, lang/fourier.py), each run by jac and by
PyTorch (float64 autograd): transforms (fft, ifft, rfft / irfft, fft of a complex value), complex arithmetic with
complex and real operands, conj, ** 2, exp(1j * ...), torch.complex, .real / .imag / abs() / angle(), sums, slices,
fftshift. Signals of 8 points, N(0, 1) (and, one text in four, a constant signal: a spectrum with exact zeros).

    PYTHONPATH=. /work/venv/bin/python benchmarks/fft36_fuzz.py [COUNT] [SEED]

Prints each text that is not AGREE, then the counts (AGREE: value within 1e-10 and Jacobian within 1e-8 of
PyTorch's, relative to their largest entry; REFUSED: a JacError; WRONG; CRASH; TORCH-NAN: PyTorch's Jacobian holds
NaN where jac's is finite, not compared (session 51: those entries alone where both hold NaN, the rest compared);
TORCH-RAISES: PyTorch raises, as for view_as_real of a lazily conjugated tensor, which jac answers). Exit 1 on
WRONG or CRASH. 300 texts take about a minute.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))


def complex_text(rng, depth):
    """A complex value of 8 points."""
    if depth <= 0:
        return rng.choice(["torch.fft.fft(x)", "torch.fft.fft(y)", "torch.fft.ifft(x)", "torch.complex(x, y)"])
    c, r = (lambda: complex_text(rng, depth - 1)), (lambda: real_text(rng, depth - 1))
    forms = [lambda: f"torch.fft.fft({r()})", lambda: f"torch.fft.ifft({c()})", lambda: f"torch.fft.fft({c()})",
             lambda: f"({c()} * {c()})", lambda: f"({c()} + {r()})", lambda: f"({r()} * {c()})",
             lambda: f"({c()} - {c()})", lambda: f"({c()} / ({r()} ** 2 + 1))", lambda: f"{c()}.conj()",
             lambda: f"({c()} ** 2)", lambda: f"torch.exp(1j * {r()})", lambda: f"torch.complex({r()}, {r()})",
             lambda: f"torch.fft.fftshift({c()})", lambda: f"torch.fft.fft({r()}, norm='ortho')",
             lambda: f"torch.where(x > 0, {c()}, 0)", lambda: f"({c()} / {c()})"]
    return forms[rng.integers(len(forms))]()


def real_text(rng, depth):
    """A real value of 8 points."""
    if depth <= 0:
        return rng.choice(["x", "y"])
    c, r = (lambda: complex_text(rng, depth - 1)), (lambda: real_text(rng, depth - 1))
    forms = [lambda: f"{c()}.real", lambda: f"{c()}.imag", lambda: f"{c()}.abs()", lambda: f"{c()}.angle()",
             lambda: f"torch.fft.irfft(torch.fft.rfft({r()}) * torch.fft.rfft({r()}), n=8)",
             lambda: f"torch.fft.irfft(torch.fft.rfft({r()}) * {c()}[:5], n=8)",
             lambda: f"torch.view_as_real({c()}).sum(-1)", lambda: f"torch.sin({r()})", lambda: f"({r()} * {r()})"]
    return forms[rng.integers(len(forms))]()


def main(argv):
    import torch
    import jacobi_cli
    from jacobi_cli.errors import JacError
    from fft36 import torch_reference
    warnings.simplefilter("ignore")
    count = int(argv[0]) if argv else 300
    rng = np.random.default_rng(int(argv[1]) if len(argv) > 1 else 36)
    counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "CRASH": 0, "TORCH-NAN": 0, "TORCH-RAISES": 0}
    for _ in range(count):
        text = real_text(rng, int(rng.integers(1, 4)))
        if rng.random() < 0.5:
            text = f"({text}).sum()"
        values = {"x": rng.standard_normal(8) if rng.random() < 0.75 else np.ones(8), "y": rng.standard_normal(8)}
        values = {k: v for k, v in values.items() if k in text}
        try:
            got, J = jacobi_cli.evaluate(text, values), jacobi_cli.jacobian(text, values)
        except JacError as err:
            counts["REFUSED"] += 1
            print(f"REFUSED {text}: {str(err)[:100]}")
            continue
        except Exception as err:  # noqa: BLE001 - what the fuzz counts
            counts["CRASH"] += 1
            print(f"CRASH {text}: {type(err).__name__}: {err}")
            continue
        try:
            want, ref = torch_reference(text, values)
        except RuntimeError as err:  # view_as_real of a lazily conjugated tensor: PyTorch raises, jac answers
            counts["TORCH-RAISES"] += 1
            print(f"TORCH-RAISES {text}: {str(err)[:80]}")
            continue
        if any(np.isnan(ref[k]).any() and not np.isnan(J[k]).any() for k in values):
            counts["TORCH-NAN"] += 1
            continue
        # Session 51: NaN in both, PyTorch's in more entries (its dense reverse pass's 0 * NaN, jac's finite there:
        # the entries of a finite output, `(ifft(ifft(x)) * (ifft(x) / fft(x))).imag` at x = ones): those entries
        # are TORCH-NAN's, the rest compared
        torch_nan = {k: np.isnan(ref[k]) & ~np.isnan(J[k]) for k in values}
        if any(m.any() for m in torch_nan.values()):
            ref = {k: np.where(torch_nan[k], J[k], ref[k]) for k in values}
            counts["TORCH-NAN"] += 1

        def close(a, b, tol):
            a, b = np.asarray(a, float), np.asarray(b, float)
            scale = max(np.abs(b[np.isfinite(b)]).max(initial=0.0), 1.0)
            return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol * scale, equal_nan=True)
        ok = close(got, want, 1e-10) and all(close(J[k], ref[k], 1e-8) for k in values)
        if ok and any(m.any() for m in torch_nan.values()):
            continue  # counted TORCH-NAN above
        counts["TORCH-NAN"] -= bool(any(m.any() for m in torch_nan.values()))
        counts["AGREE" if ok else "WRONG"] += 1
        if not ok:
            print(f"WRONG {text} at {values}")
    print(f"{count} texts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
