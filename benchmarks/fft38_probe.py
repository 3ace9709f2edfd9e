"""Session 38's new readings, run by the jac of the checkout TREE against the libraries: torch.istft (and stft
onesided=False) against PyTorch float64 autograd, scipy.signal.stft / istft against SciPy (value) and central
differences of SciPy (Jacobian), and jac diff of transforms (the formula's derivative at a point against jac's
autodiff, at 4, 5 and 8 points). The texts are tests/test_fft38.py's ISTFT, SCIPY and DIFF lists.

    PYTHONPATH=TREE /work/venv/bin/python benchmarks/fft38_probe.py [TREE] [-v]

Prints one line per case that is not AGREE (all with -v), then the counts AGREE / REFUSED (a clear JacError) /
WRONG / CRASH per group. Exit 1 on WRONG or CRASH. Runs in about a minute.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def close(got, want, tol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return got.shape == want.shape and np.abs(got - want).max(initial=0) <= tol * max(np.abs(want).max(initial=0), 1)


def torch_case(jacobi_cli, torch, text, shape):
    x = np.random.default_rng(len(text)).standard_normal(shape)
    source = text
    for window in ("hann_window(8)", "hann_window(16)", "hamming_window(6)", "ones(8)"):
        source = source.replace(window, window[:-1] + ", dtype=torch.float64)")

    def f(t):
        return eval(source, {"torch": torch}, {"x": t})  # noqa: S307 - the probe's own texts
    want = f(torch.tensor(x)).resolve_neg().numpy()
    J = torch.autograd.functional.jacobian(f, torch.tensor(x)).numpy()
    return close(jacobi_cli.evaluate(text, {"x": x}), want, 1e-12) and \
        close(jacobi_cli.jacobian(text, {"x": x})["x"], J, 1e-12)


def scipy_case(jacobi_cli, signal, text, f, n):
    x = np.random.default_rng(n).standard_normal(n)
    want, h = f(signal, x), 1e-6
    numeric = np.stack([(f(signal, x + h * e) - f(signal, x - h * e)) / (2 * h) for e in np.eye(n)], axis=-1)
    return close(jacobi_cli.evaluate(text, {"x": x}), want, 1e-14) and \
        close(jacobi_cli.jacobian(text, {"x": x})["x"], numeric, 1e-8)


def diff_case(jacobi_cli, text, n):
    x = np.random.default_rng(n).standard_normal(n)
    found = jacobi_cli.diff(text, {"x": f":{n}"}, at={"x": x})["x"]
    return close(np.asarray(found.value, dtype=float), jacobi_cli.jacobian(text, {"x": x})["x"], 1e-12)


def main(argv):
    tree = next((a for a in argv if not a.startswith("-")), os.path.dirname(HERE))
    verbose = "-v" in argv
    sys.path.insert(0, os.path.abspath(tree))
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import scipy.signal
    import torch
    import jacobi_cli
    from jacobi_cli.errors import JacError
    import test_fft38 as t38
    warnings.simplefilter("ignore")
    groups = {
        "torch.istft": [(t, lambda t=t, s=s: torch_case(jacobi_cli, torch, t, s)) for t, s in t38.ISTFT],
        "scipy.signal": [(t, lambda t=t, f=f, n=n: scipy_case(jacobi_cli, scipy.signal, t, f, n))
                         for t, f, n in t38.SCIPY],
        "jac diff": [(f"n={n} {t}", lambda t=t, n=n: diff_case(jacobi_cli, t, n)) for t in t38.DIFF
                     for n in (4, 5, 8) if "reshape(2, 4)" not in t or n == 8],
    }
    bad = 0
    for group, cases in groups.items():
        counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "CRASH": 0}
        for name, run in cases:
            try:
                verdict, why = ("AGREE" if run() else "WRONG"), ""
            except JacError as err:
                verdict, why = "REFUSED", str(err).splitlines()[0][:110]
            except Exception as err:  # noqa: BLE001 - a probe counts crashes
                verdict, why = "CRASH", f"{type(err).__name__}: {str(err)[:100]}"
            counts[verdict] += 1
            if verbose or verdict != "AGREE":
                print(f"{verdict} {name[:90]}: {why}")
        bad += counts["WRONG"] + counts["CRASH"]
        print(f"{group}: {len(cases)} cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
