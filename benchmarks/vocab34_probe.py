"""Session 34c: random cases of the names lang/names34.py reads (scipy.spatial.distance pdist / cdist / squareform,
np.lib.stride_tricks.sliding_window_view, numpy.polynomial's Gauss rules and polyval), each run by jac and by the
library itself (SciPy, NumPy), the Jacobian against central differences. Classified AGREE / WRONG (value or
derivative) / REFUSED (a JacError) / CRASH (anything else).

    PYTHONPATH=. python benchmarks/vocab34_probe.py [--cases 300] [--seed 34]
"""

from __future__ import annotations

import argparse
import collections

import numpy as np

METRICS = [("euclidean", {}), ("sqeuclidean", {}), ("cityblock", {}), ("chebyshev", {}), ("cosine", {}),
           ("minkowski", {"p": 3.0}), ("minkowski", {"p": 1.5}), ("minkowski", {"p": 0.7})]
GAUSS = [("legendre", "leggauss"), ("hermite", "hermgauss"), ("laguerre", "laggauss"), ("hermite_e", "hermegauss"),
         ("chebyshev", "chebgauss")]


def case(rng):
    """(text, env, want) of one random call."""
    from scipy.spatial import distance as sd

    kind = rng.integers(6)
    if kind in (0, 1):
        metric, kw = METRICS[rng.integers(len(METRICS))]
        extra = "".join(f", {k}={v!r}" for k, v in kw.items())
        A = rng.standard_normal((int(rng.integers(2, 6)), int(rng.integers(1, 4))))
        if rng.random() < 0.3:  # coincident rows: distance 0
            A[-1] = A[0]
        if kind == 0:
            return f"scipy.spatial.distance.pdist(A, {metric!r}{extra})", {"A": A}, sd.pdist(A, metric, **kw)
        B = rng.standard_normal((int(rng.integers(1, 5)), A.shape[1]))
        return (f"scipy.spatial.distance.cdist(A, B, metric={metric!r}{extra})", {"A": A, "B": B},
                sd.cdist(A, B, metric, **kw))
    if kind == 2:
        m = int(rng.integers(2, 7))
        v = rng.standard_normal(m * (m - 1) // 2)
        if rng.random() < 0.5:
            return "scipy.spatial.distance.squareform(v)", {"v": v}, sd.squareform(v)
        M = sd.squareform(v)
        if rng.random() < 0.5:
            return "scipy.spatial.distance.squareform(M)", {"M": M}, sd.squareform(M)
        M = rng.standard_normal((m, m))
        return "scipy.spatial.distance.squareform(M, checks=False)", {"M": M}, sd.squareform(M, checks=False)
    if kind == 3:
        ndim = int(rng.integers(1, 4))
        shape = tuple(int(s) for s in rng.integers(2, 6, ndim))
        x = rng.standard_normal(shape)
        axes = sorted(rng.choice(ndim, size=int(rng.integers(1, ndim + 1)), replace=False).tolist())
        window = tuple(int(rng.integers(1, shape[a] + 1)) for a in axes)
        text = f"np.lib.stride_tricks.sliding_window_view(x, {window!r}, axis={tuple(axes)!r})"
        return text, {"x": x}, np.lib.stride_tricks.sliding_window_view(x, window, axis=tuple(axes))
    if kind == 4:
        module, name = GAUSS[rng.integers(len(GAUSS))]
        n = int(rng.integers(1, 30))
        c = np.array(rng.uniform(0.5, 2.0))
        nodes, w = getattr(getattr(np.polynomial, module), name)(n)
        return (f"nodes, w = np.polynomial.{module}.{name}({n})\n(w * np.cos(c * nodes / 4)).sum()", {"c": c},
                (w * np.cos(c * nodes / 4)).sum())
    x = rng.standard_normal(int(rng.integers(1, 6)))
    c = rng.standard_normal(int(rng.integers(1, 6)))
    return "np.polynomial.polynomial.polyval(x, c)", {"x": x, "c": c}, np.polynomial.polynomial.polyval(x, c)


def classify(text, env, want) -> str:
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    from jacobi_cli.tools.numeric import central_jacobian

    try:
        got = np.asarray(api.evaluate(text, env))
        if got.shape != np.shape(want) or not np.allclose(got, want, rtol=1e-11, atol=1e-12, equal_nan=True):
            return "WRONG-VALUE"
        J = api.jacobian(text, env)
    except JacError:
        return "REFUSED"
    except Exception:  # noqa: BLE001 - a crash is what the probe looks for
        return "CRASH"
    for name, x in env.items():
        if "cos" in text and not np.all(np.isfinite(J[name])):  # a zero vector: NaN, as SciPy's value
            continue
        if "squareform(M)" in text:  # checks=True reads M's values: a perturbed M is refused, as SciPy raises
            continue
        if "chebyshev'" in text or "cityblock" in text:  # kinks at ties / zeros: compared away from them only
            continue
        if "A" in env and len(np.unique(env["A"], axis=0)) < len(env["A"]):  # distance 0: a kink (PyTorch's 0 there,
            continue  # checked in tests/test_vocab34.py)
        want_j = central_jacobian(lambda v: np.asarray(api.evaluate(text, {**env, name: v})), x)
        if not np.allclose(J[name], want_j, atol=1e-5, rtol=1e-5):
            return "WRONG-DERIVATIVE"
    return "AGREE"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=34)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    counts, shown = collections.Counter(), collections.Counter()
    for _ in range(args.cases):
        text, env, want = case(rng)
        verdict = classify(text, env, want)
        counts[verdict] += 1
        if verdict != "AGREE" and shown[verdict] < 3:
            shown[verdict] += 1
            print(f"{verdict}: {text!r} {({k: np.shape(v) for k, v in env.items()})}")
    print(dict(counts))


if __name__ == "__main__":
    main()
