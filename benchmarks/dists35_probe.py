"""Distributions, the rest (session 35): four sweeps, each counting AGREE / REFUSED / WRONG (and BOTH-REFUSE where
the library raises too). Self-contained (it imports only jac's API), so it runs on an older checkout for the
"before" column. Run: PYTHONPATH=. /work/venv/bin/python benchmarks/dists35_probe.py [A|B|C|D ...]

A. scipy.stats' discrete ppf / isf (bernoulli poisson binom geom nbinom betabinom) against SciPy at 41 evenly spaced
   q, at every q where the cdf / sf jumps (q = cdf(k), sf(k)), at 0, 1, NaN, outside [0, 1], 1 - ulp and the
   smallest subnormal, at invalid shapes, bit for bit; Jacobians by q and the shapes at interior q against central
   differences (0: a count) and by loc (1).
B. LowRankMultivariateNormal with batch shapes (7 combinations of loc / cov_factor / cov_diag batches): log_prob,
   entropy, mean, variance, stddev, covariance_matrix, precision_matrix, scale_tril and the KL pairs
   LowRank-LowRank, LowRank-MVN, MVN-LowRank against PyTorch (rtol 1e-11; where PyTorch raises, jac must refuse);
   Jacobians of log_prob and the KLs against central differences.
C. Invalid parameters of scipy.stats / jax.scipy.stats (scale < 0, p > 1, a < 0, ...): scipy.stats' derivative where
   its value is NaN must be NaN (a 0 there reads as "no dependence": WRONG); jax.scipy.stats' Jacobian against
   jax.jacrev (DIFF where they differ, listed).
D. Every public class of torch.distributions with a typical construction: log_prob, cdf, icdf, entropy, mean, mode,
   variance, stddev against PyTorch (validate_args default); rsample must be refused. Counts per outcome, and the
   list of what jac refuses where PyTorch answers.
KL. Every pair of torch.distributions.kl._KL_REGISTRY whose classes D builds, against PyTorch (the second
   distribution's parameters changed); a pair with a class D does not build is counted REFUSED and listed.
"""
import sys
import warnings

import numpy as np

from jacobi_cli.tools import api

warnings.simplefilter("ignore")


def central(code, values, key, h=1e-6):
    x = np.asarray(values[key], dtype=np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        up = api.evaluate(code, {**values, key: x + e.reshape(x.shape)})
        down = api.evaluate(code, {**values, key: x - e.reshape(x.shape)})
        cols.append((np.asarray(up) - np.asarray(down)).ravel() / (2 * h))
    out = np.stack(cols, -1)
    return out.reshape(np.shape(api.evaluate(code, values)) + x.shape)


# --- A ---------------------------------------------------------------------------------------------------------
DISC = {"bernoulli": ("p",), "poisson": ("mu",), "binom": ("n", "p"), "geom": ("p",), "nbinom": ("n", "p"),
        "betabinom": ("n", "a", "b")}
GOOD = {"p": 0.35, "mu": 2.5, "n": 6.0, "a": 1.5, "b": 2.5}
BAD = {"p": 1.5, "mu": -1.0, "n": 2.5, "a": -1.0, "b": 0.0}


def sweep_a(counts):
    import scipy.stats as st
    for dist, shapes in DISC.items():
        gen = getattr(st, dist)
        ks = np.arange(-1, 16)
        jumps = np.concatenate([gen.cdf(ks, *[GOOD[k] for k in shapes]), gen.sf(ks, *[GOOD[k] for k in shapes])])
        qs = np.concatenate([np.linspace(0, 1, 41), jumps, [np.nan, -0.1, 1.1, np.nextafter(1, 0), 5e-324]])
        for name in ("ppf", "isf"):
            code = f"import scipy.stats\nscipy.stats.{dist}.{name}(q, {', '.join(shapes)}, loc)"
            for bad in [None, *shapes]:
                vals = {"q": qs, **{k: np.full(qs.shape, BAD[k] if k == bad else GOOD[k]) for k in shapes},
                        "loc": np.full(qs.shape, 0.5)}
                theirs = getattr(gen, name)(qs, *[vals[k] for k in shapes], loc=0.5)
                try:
                    ours = api.evaluate(code, vals)
                except Exception as err:  # noqa: BLE001 - a probe counts
                    counts["REFUSED"] += 1
                    print("A REFUSED", dist, name, str(err).splitlines()[0][:100])
                    continue
                good = np.array_equal(np.asarray(ours), theirs, equal_nan=True)
                counts["AGREE" if good else "WRONG"] += 1
                if not good:
                    print("A WRONG", dist, name, bad)
            try:  # derivatives at interior q (no jump within the step): 0 by q and the shapes, 1 by loc
                inner = {"q": np.array([0.13, 0.41, 0.77]), **{k: np.full(3, GOOD[k]) for k in shapes},
                         "loc": np.full(3, 0.5)}
                wrt = [k for k in inner if k != "n"]
                jac = api.jacobian(code, inner, wrt=wrt)
            except Exception as err:  # noqa: BLE001
                counts["REFUSED"] += 1
                print("A REFUSED jacobian", dist, name, str(err).splitlines()[0][:100])
                continue
            for k in wrt:
                expect = np.eye(3) if k == "loc" else np.zeros((3, 3))
                good = np.array_equal(jac[k], expect) and np.allclose(central(code, inner, k), expect, atol=1e-7)
                counts["AGREE" if good else "WRONG"] += 1
                if not good:
                    print("A WRONG jacobian", dist, name, k)


# --- B ---------------------------------------------------------------------------------------------------------
LR = "import torch\nfrom torch.distributions import LowRankMultivariateNormal as L, MultivariateNormal as M, " \
     "kl_divergence\n"
N, R = 3, 2
BATCHES = [((N,), (N, R), (N,)), ((2, N), (N, R), (N,)), ((N,), (2, N, R), (N,)), ((N,), (N, R), (2, N)),
           ((2, N), (2, N, R), (2, N)), ((4, 1, N), (2, N, R), (1, N)), ((2, 1, N), (1, 3, N, R), (3, N))]


def _compare(counts, tag, code, values, theirs):
    try:
        ours = api.evaluate(code, values)
    except Exception as err:  # noqa: BLE001
        counts["REFUSED"] += 1
        print(tag, "REFUSED", code.splitlines()[-1], str(err).splitlines()[0][:120])
        return False
    theirs = theirs.detach().numpy()
    good = np.shape(ours) == theirs.shape and np.allclose(ours, theirs, rtol=1e-11, atol=1e-12, equal_nan=True)
    counts["AGREE" if good else "WRONG"] += 1
    if not good:
        print(tag, "WRONG", code.splitlines()[-1], np.shape(ours), theirs.shape)
    return good


def sweep_b(counts):
    import torch
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(35)
    for ls, ws, ds in BATCHES:
        v = {"m": rng.normal(size=ls), "W": rng.normal(size=ws), "D": rng.uniform(0.5, 2, size=ds),
             "x": rng.normal(size=(N,)), "m2": rng.normal(size=ls), "W2": rng.normal(size=ws),
             "D2": rng.uniform(0.5, 2, size=ds)}
        a = rng.normal(size=ws[:-2] + (N, N))
        v["C"] = a @ np.swapaxes(a, -1, -2) + N * np.eye(N)
        t = {k: torch.tensor(x) for k, x in v.items()}
        d = torch.distributions.LowRankMultivariateNormal(t["m"], t["W"], t["D"])
        q = torch.distributions.LowRankMultivariateNormal(t["m2"], t["W2"], t["D2"])
        mvn = torch.distributions.MultivariateNormal(t["m2"], covariance_matrix=t["C"])
        cases = [(f"L(m, W, D).{e}", (lambda e=e: getattr(d, e.split("(")[0])(t["x"]) if "(x)" in e else
                                      getattr(d, e.split("(")[0])() if "()" in e else getattr(d, e)))
                 for e in ("log_prob(x)", "entropy()", "mean", "variance", "stddev", "covariance_matrix",
                           "precision_matrix", "scale_tril")]
        cases += [("kl_divergence(L(m, W, D), L(m2, W2, D2))", lambda: torch.distributions.kl_divergence(d, q)),
                  ("kl_divergence(L(m, W, D), M(m2, covariance_matrix=C))",
                   lambda: torch.distributions.kl_divergence(d, mvn)),
                  ("kl_divergence(M(m2, covariance_matrix=C), L(m, W, D))",
                   lambda: torch.distributions.kl_divergence(mvn, d))]
        for text, theirs in cases:
            code = LR + text
            try:
                value = theirs()
            except Exception:  # noqa: BLE001 - PyTorch raises: jac must refuse
                try:
                    api.evaluate(code, v)
                    counts["WRONG"] += 1
                    print("B WRONG answers where PyTorch raises", text, ls, ws, ds)
                except Exception:  # noqa: BLE001
                    counts["BOTH-REFUSE"] += 1
                continue
            if _compare(counts, "B", code, v, value) and (text.startswith("kl") or "log_prob" in text) \
                    and ls == (2, N):
                jac = api.jacobian(code, v, wrt=["m", "W", "D"])
                for k in ("m", "W", "D"):
                    good = np.allclose(jac[k], central(code, v, k), rtol=1e-6, atol=1e-7)
                    counts["AGREE" if good else "WRONG"] += 1
                    if not good:
                        print("B WRONG jacobian", text, k)


# --- C ---------------------------------------------------------------------------------------------------------
INVALID = [  # (dist, method, arguments, values: element 1 invalid)
    ("norm", "logpdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("norm", "cdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("expon", "logpdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("laplace", "logpdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("logistic", "logpdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("uniform", "logpdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("cauchy", "logpdf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("gamma", "logpdf", ("x", "a", "loc", "scale"), {"a": [2.0, -1.0]}),
    ("beta", "logpdf", ("x", "a", "b", "loc", "scale"), {"a": [2.0, -1.0]}),
    ("t", "logpdf", ("x", "df", "loc", "scale"), {"df": [3.0, -1.0]}),
    ("chi2", "logpdf", ("x", "df", "loc", "scale"), {"df": [3.0, -1.0]}),
    ("expon", "sf", ("x", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("gamma", "cdf", ("x", "a", "loc", "scale"), {"scale": [1.0, -1.0]}),
    ("poisson", "logpmf", ("k", "mu", "loc"), {"mu": [2.0, -1.0]}),
    ("binom", "logpmf", ("k", "n", "p", "loc"), {"p": [0.3, 1.5]}),
    ("geom", "logpmf", ("k", "p", "loc"), {"p": [0.3, 1.5]}),
    ("bernoulli", "logpmf", ("k", "p", "loc"), {"p": [0.3, 1.5]}),
    ("poisson", "cdf", ("k", "mu", "loc"), {"mu": [2.0, -1.0]}),
    ("nbinom", "logpmf", ("k", "n", "p", "loc"), {"p": [0.3, 1.5]}),
]
DEFAULTS = {"x": [0.5, 0.5], "k": [1.0, 1.0], "loc": [0.0, 0.0], "scale": [1.0, 1.0], "a": [2.0, 2.0],
            "b": [2.0, 2.0], "df": [3.0, 3.0], "mu": [2.0, 2.0], "n": [5.0, 5.0], "p": [0.3, 0.3]}
JAX_HAS = {"norm", "expon", "laplace", "logistic", "uniform", "cauchy", "gamma", "beta", "t", "chi2", "poisson",
           "binom", "geom", "bernoulli", "nbinom"}


def sweep_c(counts):
    import jax
    import jax.numpy as jnp
    import jax.scipy.stats as js
    jax.config.update("jax_enable_x64", True)
    for dist, name, args, given in INVALID:
        values = {k: np.array(given.get(k, DEFAULTS[k])) for k in args}
        wrt = [k for k in args if k not in ("k", "n") and not (name == "cdf" and k == "a")]  # igamma's a: refused
        code = f"import scipy.stats\nscipy.stats.{dist}.{name}({', '.join(args)})"
        try:
            ours, jac = api.evaluate(code, values), api.jacobian(code, values, wrt=wrt)
        except Exception as err:  # noqa: BLE001
            counts["REFUSED"] += 1
            print("C REFUSED", code.splitlines()[-1], str(err).splitlines()[0][:100])
            continue
        if np.isnan(ours[1]):  # SciPy's NaN: each derivative NaN there, the valid element's untouched
            good = all(np.isnan(jac[k][1, 1]) and np.isfinite(jac[k][0, 0]) for k in wrt)
            counts["AGREE" if good else "WRONG"] += 1
            if not good:
                print("C WRONG scipy", dist, name, {k: jac[k][1, 1] for k in wrt})
        if dist not in JAX_HAS or (dist, name) in (("expon", "sf"), ("gamma", "cdf"), ("nbinom", "logpmf")):
            continue
        jcode = f"import jax\njax.scipy.stats.{dist}.{name}({', '.join(args)})"
        fn = getattr(getattr(js, dist), name)
        idx = tuple(args.index(k) for k in wrt)
        theirs = jax.jacrev(lambda *xs: fn(*[jnp.asarray(x) for x in xs]), argnums=idx)(
            *[values[k] for k in args])
        jjac = api.jacobian(jcode, values, wrt=wrt)
        for k, g in zip(wrt, theirs):  # the diagonals: jacrev's off-diagonal entries hold 0 * NaN where jac's are 0
            good = np.allclose(np.diagonal(jjac[k]), np.diagonal(np.asarray(g)), equal_nan=True)
            counts["AGREE" if good else "DIFF"] += 1
            if not good:
                print("C DIFF jax", dist, name, k, jjac[k][1, 1], "JAX", np.asarray(g)[1, 1])


# --- D ---------------------------------------------------------------------------------------------------------
HEAD = "import torch\nfrom torch.distributions import {}\n"
MAKE = {
    "Bernoulli": "Bernoulli(probs=u)", "Beta": "Beta(a, c)", "Binomial": "Binomial(5, probs=u)",
    "Binomial(total_count tensor)": "Binomial(torch.tensor([3.0, 5.0, 7.0]), probs=u)",
    "Categorical": "Categorical(logits=m)", "Cauchy": "Cauchy(m, s)", "Chi2": "Chi2(a)",
    "ContinuousBernoulli": "ContinuousBernoulli(probs=u)", "Dirichlet": "Dirichlet(a)", "Exponential": "Exponential(s)",
    "FisherSnedecor": "FisherSnedecor(a, c)", "Gamma": "Gamma(a, s)", "GeneralizedPareto": "GeneralizedPareto(m, s, u)",
    "Geometric": "Geometric(probs=u)", "Gumbel": "Gumbel(m, s)", "HalfCauchy": "HalfCauchy(s)",
    "HalfNormal": "HalfNormal(s)", "Independent": "Independent(Normal(m, s), 1)", "InverseGamma": "InverseGamma(a, s)",
    "Kumaraswamy": "Kumaraswamy(a, c)", "LKJCholesky": "LKJCholesky(3, 1.5)", "Laplace": "Laplace(m, s)",
    "LogNormal": "LogNormal(m, s)", "LogisticNormal": "LogisticNormal(m, s)",
    "LowRankMultivariateNormal": "LowRankMultivariateNormal(m, torch.stack([a, c], -1), s)",
    "MixtureSameFamily": "MixtureSameFamily(Categorical(logits=m), Normal(a, s))",
    "Multinomial": "Multinomial(4, probs=u)", "MultivariateNormal": "MultivariateNormal(m, scale_tril=torch.diag(s))",
    "NegativeBinomial": "NegativeBinomial(3.0, probs=u)", "Normal": "Normal(m, s)",
    "OneHotCategorical": "OneHotCategorical(logits=m)",
    "OneHotCategoricalStraightThrough": "OneHotCategoricalStraightThrough(logits=m)", "Pareto": "Pareto(s, c)",
    "RelaxedBernoulli": "RelaxedBernoulli(torch.tensor(0.5), probs=u)",
    "RelaxedOneHotCategorical": "RelaxedOneHotCategorical(torch.tensor(0.5), logits=m)", "StudentT": "StudentT(a, m, s)",
    "Poisson": "Poisson(a)", "Uniform": "Uniform(m, m + s)", "VonMises": "VonMises(m, a)", "Weibull": "Weibull(s, a)",
    "Wishart": "Wishart(torch.tensor(4.0), scale_tril=torch.diag(s))",
    "TransformedDistribution(exp)": "TransformedDistribution(Normal(m, s), [torch.distributions.transforms.ExpTransform()])",
    "TransformedDistribution(affine)": "TransformedDistribution(Normal(m, s), [torch.distributions.transforms.AffineTransform(1.0, 2.0)])",
    "TransformedDistribution(sigmoid)": "TransformedDistribution(Normal(m, s), [torch.distributions.transforms.SigmoidTransform()])",
    "TransformedDistribution(tanh)": "TransformedDistribution(Normal(m, s), [torch.distributions.transforms.TanhTransform()])",
}
VALS = {"a": np.array([1.5, 0.7, 2.5]), "c": np.array([2.0, 0.9, 3.1]), "m": np.array([0.5, -1.0, 0.3]),
        "s": np.array([1.3, 0.6, 2.0]), "u": np.array([0.2, 0.7, 0.45])}
METHODS_D = ("log_prob(x)", "cdf(x)", "icdf(p)", "entropy()", "mean", "mode", "variance", "stddev")


def _torch_eval(text, values, x=None):
    import torch
    import torch.distributions as dists
    import torch.distributions.transforms as tr
    torch.set_default_dtype(torch.float64)
    env = {"torch": torch, **{k: getattr(dists, k) for k in dists.__all__}, **{k: getattr(tr, k) for k in tr.__all__},
           **{k: torch.tensor(v) for k, v in values.items()}}
    return eval(text, env)  # noqa: S307 - the probe's own fixed texts


def sweep_d(counts, refused):
    import torch
    import torch.distributions as dists
    head = HEAD.format(", ".join(c for c in dists.__all__ if c[0].isupper() and "Transform" not in c))
    for cls, ctor in MAKE.items():
        torch.manual_seed(0)
        try:
            dist = _torch_eval(ctor, VALS)
            x = dist.sample().detach().numpy()
            p = np.broadcast_to(np.array(0.3), dist.batch_shape + dist.event_shape).copy()
        except Exception as err:  # noqa: BLE001
            print("D torch cannot make", cls, err)
            continue
        values = {**VALS, "x": x, "p": p}
        for m in METHODS_D:
            text = f"({ctor}).{m}"
            try:
                theirs = _torch_eval(text, values)
            except Exception:  # noqa: BLE001 - PyTorch raises (NotImplementedError): jac must refuse too
                theirs = None
            try:
                ours = api.evaluate(head + text, values)
            except Exception as err:  # noqa: BLE001
                if theirs is None:
                    counts["BOTH-REFUSE"] += 1
                else:
                    counts["REFUSED"] += 1
                    refused.append(f"{cls}.{m}: {str(err).splitlines()[0][:110]}")
                continue
            if theirs is None:
                counts["WRONG"] += 1
                print("D WRONG answers where PyTorch raises", cls, m)
                continue
            theirs = theirs.detach().numpy()
            good = np.shape(ours) == theirs.shape and np.allclose(ours, theirs, rtol=1e-10, atol=1e-12,
                                                                  equal_nan=True)
            counts["AGREE" if good else "WRONG"] += 1
            if not good:
                print("D WRONG", cls, m, np.asarray(ours).ravel()[:4], theirs.ravel()[:4])
        try:
            api.evaluate(head + f"({ctor}).rsample()", values)
            counts["WRONG"] += 1
            print("D WRONG rsample answered", cls)
        except Exception:  # noqa: BLE001
            counts["BOTH-REFUSE"] += 1


def sweep_kl(counts, refused):
    """Every pair of torch.distributions.kl._KL_REGISTRY whose classes MAKE builds (parameters of the second one
    shifted), against PyTorch."""
    import torch
    import torch.distributions as dists
    head = HEAD.format(", ".join([c for c in dists.__all__ if c[0].isupper() and "Transform" not in c]
                                 + ["kl_divergence"]))
    second = {k: v * 0.8 + 0.3 if k != "m" else v[::-1].copy() for k, v in VALS.items()}
    values = {**VALS, **{k + "2": v for k, v in second.items()}}
    for pc, qc in sorted(torch.distributions.kl._KL_REGISTRY, key=lambda t: (t[0].__name__, t[1].__name__)):
        p, q = MAKE.get(pc.__name__), MAKE.get(qc.__name__)
        if p is None or q is None:
            counts["BOTH-REFUSE" if "Distribution" in (pc.__name__, qc.__name__) else "REFUSED"] += 1
            if "Distribution" not in (pc.__name__, qc.__name__):
                refused.append(f"kl {pc.__name__}-{qc.__name__}: no construction in the probe (not read)")
            continue
        for k in "acmsu":
            q = q.replace(f"{k},", f"{k}2,").replace(f"{k})", f"{k}2)").replace(f"{k} ", f"{k}2 ")
        text = f"kl_divergence({p}, {q})"
        try:
            theirs = _torch_eval(text, values).detach().numpy()
        except Exception:  # noqa: BLE001
            theirs = None
        try:
            ours = api.evaluate(head + text, values)
        except Exception as err:  # noqa: BLE001
            if theirs is None:
                counts["BOTH-REFUSE"] += 1
            else:
                counts["REFUSED"] += 1
                refused.append(f"kl {pc.__name__}-{qc.__name__}: {str(err).splitlines()[0][:100]}")
            continue
        if theirs is None:
            counts["WRONG"] += 1
            print("KL WRONG answers where PyTorch raises", text)
            continue
        good = np.shape(ours) == theirs.shape and np.allclose(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True)
        counts["AGREE" if good else "WRONG"] += 1
        if not good:
            print("KL WRONG", text, ours, theirs)


def main(parts):
    total = 0
    for part in parts:
        counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "BOTH-REFUSE": 0, "DIFF": 0}
        refused = []
        {"A": sweep_a, "B": sweep_b, "C": sweep_c, "KL": lambda c: sweep_kl(c, refused)}.get(
            part, lambda c: sweep_d(c, refused))(counts)
        for line in refused:
            print("D refused:", line)
        print(part, counts)
        total += counts["WRONG"]
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["A", "B", "C", "D", "KL"]))
