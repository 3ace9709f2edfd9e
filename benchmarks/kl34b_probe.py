"""kl_divergence of every pair of 21 torch.distributions classes (441 pairs) against PyTorch: agree (rtol 1e-12),
both refuse (PyTorch raises NotImplementedError / jac refuses), and any mismatch (one answers, the other refuses)
or wrong value. Run: PYTHONPATH=. /work/venv/bin/python benchmarks/kl34b_probe.py"""
import itertools
import sys

import numpy as np
sys.path.insert(0, "tests")
from jacobi_cli.tools import api
from test_dists33 import _torch_value
import torch.distributions as D
names = ",".join(D.__all__)
H = "import torch\nfrom torch.distributions import " + names + "\n"
a, c, m, s = np.array([1.5, 0.7, 2.5]), np.array([2.0, 0.9, 3.1]), np.array([0.5, -1.0, 0.3]), np.array([1.3, 0.6, 2.0])
u = np.array([0.2, 0.7, 0.45])
MAKE = {
 "Normal": ("Normal({m}, {s})", ), "Laplace": ("Laplace({m}, {s})",), "Gumbel": ("Gumbel({m}, {s})",),
 "Cauchy": ("Cauchy({m}, {s})",), "LogNormal": ("LogNormal({m}, {s})",), "HalfNormal": ("HalfNormal({s})",),
 "Exponential": ("Exponential({s})",), "Gamma": ("Gamma({a}, {s})",), "Chi2": ("Chi2({a})",),
 "Beta": ("Beta({a}, {c})",), "Uniform": ("Uniform({u}, {u} + {a})",), "Pareto": ("Pareto({s}, {c})",),
 "Bernoulli": ("Bernoulli(probs={u})",), "Poisson": ("Poisson({a})",), "Geometric": ("Geometric(probs={u})",),
 "Binomial": ("Binomial(5, probs={u})",), "Dirichlet": ("Dirichlet({a}.reshape(1, 3) + {c}.reshape(3, 1))",),
 "OneHotCategorical": ("OneHotCategorical(logits={m})",), "Independent": ("Independent(Normal({m}, {s}), 1)",),
 "LowRankMultivariateNormal": ("LowRankMultivariateNormal({m}, torch.stack([{a}, {c}], -1), {s})",),
 "ContinuousBernoulli": ("ContinuousBernoulli(probs={u})",),
}
V = {"a1": a, "c1": c, "m1": m, "s1": s, "u1": u, "a2": c[::-1].copy(), "c2": a + 0.5, "m2": m[::-1].copy(), "s2": s * 0.8 + 0.3, "u2": u * 0.5}
def mk(cls, k):
    return MAKE[cls][0].format(**{x: x + k for x in "acmsu"})
ok = bad = ref = 0
for p, q in itertools.product(MAKE, MAKE):
    code = f"kl_divergence({mk(p, '1')}, {mk(q, '2')})"
    try:
        theirs = _torch_value(code, V)
    except NotImplementedError:
        theirs = "NIE"
    except Exception as e:
        theirs = "ERR " + type(e).__name__
    try:
        ours = api.evaluate(H + code, V)
    except Exception as e:
        ours = "JAC " + str(e)[:80]
    if isinstance(theirs, str) or isinstance(ours, str):
        if isinstance(theirs, str) and isinstance(ours, str):
            ref += 1
        else:
            bad += 1; print("MISMATCH", p, q, str(theirs)[:60], "|", str(ours)[:100])
        continue
    if np.allclose(ours, theirs, rtol=1e-12, atol=1e-13, equal_nan=True) and np.shape(ours) == np.shape(theirs):
        ok += 1
    else:
        bad += 1; print("WRONG", p, q, ours, theirs)
print("agree", ok, "both refuse", ref, "bad", bad)
