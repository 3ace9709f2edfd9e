"""Fourier transforms of real signals (session 36): the texts of tests/fft36.py (power spectra, spectral losses,
filters, FFT convolution, .real / .imag / angle / view_as_real, fftshift, fftfreq, 2-d and n-d transforms, norm=,
in PyTorch, NumPy and JAX spellings) run by the jac of the checkout TREE and by the library itself (PyTorch float64
autograd, JAX x64 jacrev, NumPy's value and central differences); and the texts jac must refuse (a complex output,
comparisons, functions it does not read of a complex value, writes into one).

    PYTHONPATH=. /work/venv/bin/python benchmarks/fft36_probe.py [TREE] [-v]

Prints one line per text that is not AGREE (all with -v), then the counts: AGREE (value and Jacobian within
1e-10 of PyTorch's / JAX's, NumPy's value within 1e-12 and its central differences within 1e-6), REFUSED (a clear
JacError), WRONG (an answer that differs), CRASH (anything else); and for the refusals, REFUSED-AS-EXPECTED.
Exit 1 on WRONG or CRASH. Runs in about a minute.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    tree = next((a for a in argv if not a.startswith("-")), os.path.dirname(HERE))
    verbose = "-v" in argv
    sys.path.insert(0, os.path.abspath(tree))
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import jacobi_cli
    from jacobi_cli.errors import JacError
    import fft36
    from test_fft36 import REFUSED
    warnings.simplefilter("ignore")

    def close(got, want, tol):
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        return got.shape == want.shape and np.allclose(got, want, rtol=tol, atol=tol * (1 + np.abs(want).max(initial=0)))

    counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "CRASH": 0}
    for library, texts in (("torch", fft36.TORCH), ("numpy", fft36.NUMPY), ("jax", fft36.JAX)):
        for text in texts:
            values = fft36.inputs(text)
            try:
                value, J = jacobi_cli.evaluate(text, values), jacobi_cli.jacobian(text, values)
            except JacError as err:
                counts["REFUSED"] += 1
                print(f"REFUSED {library}: {text!r}: {str(err)[:120]}") if verbose else None
                continue
            except Exception as err:  # noqa: BLE001 - a crash is what the probe counts
                counts["CRASH"] += 1
                print(f"CRASH {library}: {text!r}: {type(err).__name__}: {err}")
                continue
            if library == "numpy":
                want, ref, tol = fft36.numpy_value(text, values), fft36.central(text, values), 1e-6
                ok = close(value, want, 1e-12)
            else:
                want, ref = (fft36.torch_reference if library == "torch" else fft36.jax_reference)(text, values)
                ok, tol = close(value, want, 1e-12), 1e-10
            ok = ok and all(close(J[name], ref[name], tol) for name in values)
            counts["AGREE" if ok else "WRONG"] += 1
            if not ok or verbose:
                print(f"{'AGREE' if ok else 'WRONG'} {library}: {text!r}")
    expected = 0
    for text, kind, words in REFUSED:
        try:
            jacobi_cli.evaluate(text, {"x": np.arange(1.0, 9.0)})
            print(f"NOT REFUSED: {text!r}")
        except JacError as err:
            expected += err.kind == kind and words in str(err)
            if verbose or not (err.kind == kind and words in str(err)):
                print(f"REFUSED {'as expected' if words in str(err) else 'otherwise'}: {text!r}: {str(err)[:120]}")
        except Exception as err:  # noqa: BLE001
            counts["CRASH"] += 1
            print(f"CRASH refusal: {text!r}: {type(err).__name__}: {err}")
    total = len(fft36.TORCH) + len(fft36.NUMPY) + len(fft36.JAX)
    print(f"{total} texts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"{len(REFUSED)} texts to refuse: REFUSED-AS-EXPECTED {expected}")
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
