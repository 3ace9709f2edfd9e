"""scipy.stats / jax.scipy.stats methods added in session 34b (tails, inverses, discrete cdfs, nbinom, betabinom)
against the libraries: values at interior points and at edges (outside the support, at its ends, q = 0 and 1, NaN,
invalid shapes, scale <= 0) to rtol 1e-12; Jacobians at interior points against JAX's jacrev (jax) and central
differences (both). Run with the bench venv (it has JAX): PYTHONPATH=. /work/benchvenv/bin/python
benchmarks/stats34b_probe.py"""

import sys

import numpy as np

from jacobi_cli.lang.distributions import JAX_TAIL, SCIPY_TAIL
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

SHAPES = {"expon": (), "logistic": (), "uniform": (), "gamma": ("a",), "beta": ("a", "b"), "chi2": ("df",),
          "cauchy": (), "bernoulli": ("p",), "poisson": ("mu",), "binom": ("n", "p"), "geom": ("p",),
          "nbinom": ("n", "p"), "betabinom": ("n", "a", "b")}
DISCRETE = ("bernoulli", "poisson", "binom", "geom", "nbinom", "betabinom")
GOOD = {"a": [2.5, 0.7, 1.4, 1.0], "b": [1.5, 3.0, 0.8, 2.0], "df": [3.5, 1.5, 7.0, 2.0], "p": [0.3, 0.8, 0.55, 0.1],
        "mu": [2.5, 0.7, 4.0, 1.0], "n": [5.0, 3.0, 8.0, 1.0]}
BAD = {"a": [2.5, -0.7, 1.4, 1.0], "b": [1.5, 3.0, 0.0, 2.0], "df": [3.5, -1.5, 7.0, 2.0],
       "p": [0.3, 1.8, 0.0, 0.1], "mu": [2.5, -0.7, 4.0, 1.0], "n": [5.0, 3.5, 8.0, -1.0]}


def cases(dist, name):
    """(values, differentiable names) per case: interior, then edges."""
    shapes = SHAPES[dist]
    if dist in DISCRETE:
        first = "k"
        inner = {first: np.array([1.0, 2.0, 3.0, 1.0]), "loc": np.zeros(4)}
        edges = [{first: np.array([-1.0, 1.5, 9.0, np.nan]), "loc": np.zeros(4)},
                 {first: np.array([-np.inf, np.inf, 0.0, 1.0]), "loc": np.array([0.0, 0.0, 0.0, 0.5])}]
    elif name in ("ppf", "isf"):
        first = "q"
        inner = {first: np.array([0.2, 0.5, 0.9, 0.05]), "loc": np.array([0.1, -0.2, 0.05, 0.0]),
                 "s": np.array([0.8, 1.5, 0.6, 1.1])}
        edges = [{first: np.array([0.0, 1.0, 1.5, np.nan]), "loc": np.zeros(4), "s": np.ones(4)},
                 {first: np.array([0.0, 1.0, 0.5, 0.5]), "loc": np.zeros(4), "s": np.array([1.0, 1.0, -1.0, 0.0])}]
    else:
        first = "x"
        inner = {first: np.array([0.45, 0.9, 0.2, 0.35]), "loc": np.array([0.1, -0.2, 0.05, 0.0]),
                 "s": np.array([0.8, 1.5, 0.6, 1.1])}
        edges = [{first: np.array([-2.0, 0.0, 1.0, np.nan]), "loc": np.zeros(4), "s": np.ones(4)},
                 {first: np.array([3.0, 0.5, 0.5, 0.5]), "loc": np.zeros(4), "s": np.array([1.0, 1.0, -1.0, 0.0])}]
    out = [({**inner, **{k: np.array(GOOD[k]) for k in shapes}}, True)]
    out += [({**e, **{k: np.array(GOOD[k]) for k in shapes}}, False) for e in edges]
    if shapes:
        out.append(({**inner, **{k: np.array(BAD[k]) for k in shapes}}, False))
    return first, out


def text(root, dist, name, first):
    args = [first, *SHAPES[dist], "loc"] + ([] if dist in DISCRETE else ["s"])
    return f"import jax\nimport scipy.stats\n{root}.{dist}.{name}({', '.join(args)})"


def reference(root, dist, name, first, values, wrt):
    import jax
    import jax.scipy.stats  # noqa: F401
    import scipy.stats
    jax.config.update("jax_enable_x64", True)
    args = [first, *SHAPES[dist], "loc"] + ([] if dist in DISCRETE else ["s"])
    if root == "scipy.stats":
        return getattr(getattr(scipy.stats, dist), name)(*[values[k] for k in args]), {}
    fn = getattr(getattr(jax.scipy.stats, dist), name)

    def f(*xs):
        v = {**values, **dict(zip(wrt, xs))}
        return fn(*[jax.numpy.asarray(v[k], dtype=jax.numpy.float64) for k in args])
    xs = [jax.numpy.asarray(values[k], dtype=jax.numpy.float64) for k in wrt]
    grads = jax.jacrev(f, argnums=tuple(range(len(wrt))))(*xs) if wrt else ()
    return np.asarray(f(*xs)), dict(zip(wrt, map(np.asarray, grads)))


def main():
    counts = {"value agree": 0, "value WRONG": 0, "jacobian agree": 0, "jacobian WRONG": 0, "refused": 0}
    for root, table in (("scipy.stats", SCIPY_TAIL), ("jax.scipy.stats", JAX_TAIL),
                        ("scipy.stats", {"nbinom": ("logpmf", "pmf"), "betabinom": ("logpmf", "pmf")}),
                        ("jax.scipy.stats", {"nbinom": ("logpmf", "pmf"), "betabinom": ("logpmf", "pmf")})):
        for dist, names in table.items():
            for name in names:
                first, cs = cases(dist, name)
                code = text(root, dist, name, first)
                for values, interior in cs:
                    wrt = [k for k in values if interior and k not in (first if dist in DISCRETE else "", "n", "loc")
                           and not (k in ("a", "b", "df", "mu", "p") and (name in ("cdf", "sf", "logcdf", "logsf")
                                                                           and dist in ("gamma", "beta", "chi2")
                                                                           or dist == "betabinom" and k == "n"))]
                    if dist in ("gamma", "beta", "chi2") and name in ("sf", "logcdf", "logsf"):
                        wrt = [k for k in wrt if k not in SHAPES[dist]]
                    theirs, their_grads = reference(root, dist, name, first, values,
                                                    wrt if root.startswith("jax") else [])
                    try:
                        ours = api.evaluate(code, values)
                    except Exception as err:  # noqa: BLE001 - a probe counts
                        counts["refused"] += 1
                        print("REFUSED", root, dist, name, str(err)[:120])
                        continue
                    if np.allclose(ours, theirs, rtol=1e-12, atol=1e-300, equal_nan=True):
                        counts["value agree"] += 1
                    else:
                        counts["value WRONG"] += 1
                        print("VALUE", root, dist, name, values, ours, theirs)
                    if not wrt:
                        continue
                    jac = api.jacobian(code, values, wrt=wrt)
                    for k in wrt:
                        cd = central_jacobian(lambda v, k=k: np.asarray(api.evaluate(code, {**values, k: v})),
                                              values[k])
                        good = np.allclose(jac[k], cd, rtol=1e-6, atol=1e-7)
                        if k in their_grads:
                            good = good and np.allclose(jac[k], their_grads[k], rtol=1e-10, atol=1e-12)
                        counts["jacobian agree" if good else "jacobian WRONG"] += 1
                        if not good:
                            print("JACOBIAN", root, dist, name, k, jac[k], cd, their_grads.get(k))
    print(counts)
    return 1 if counts["value WRONG"] or counts["jacobian WRONG"] else 0


if __name__ == "__main__":
    sys.exit(main())
