"""The torch.distributions classes still refused before session 35b, against PyTorch. Self-contained (it imports
only jac's API), so it runs on an older checkout for the "before" column. Run:
PYTHONPATH=. /work/venv/bin/python benchmarks/dists35b_probe.py [V J R KL ...]

V. Values: NegativeBinomial, HalfCauchy, InverseGamma, FisherSnedecor, GeneralizedPareto, Multinomial, LogisticNormal,
   OneHotCategoricalStraightThrough, TransformedDistribution with Exp / Affine / Sigmoid / Tanh / Power / Softplus /
   Compose transforms and their .inv, Binomial's entropy, Independent of the new classes: log_prob, cdf, icdf,
   entropy, mean, mode, variance, stddev against PyTorch (validate_args its default), with vector parameters (3,)
   and a batch (2, 3) of them.
   Where PyTorch raises, jac must refuse (BOTH-REFUSE); where jac refuses and PyTorch answers: REFUSED.
J. Jacobians of each differentiable result by every parameter and the value: jac's against
   torch.autograd.functional.jacobian (rtol 1e-8) and against central differences (rtol 1e-5).
R. Invalid parameters and values outside the support: PyTorch raises, jac must refuse (an answer is WRONG).
KL. The pairs PyTorch registers for them (TransformedDistribution-TransformedDistribution: InverseGamma, HalfCauchy,
   LogisticNormal, user transforms, LogNormal against a TransformedDistribution of ExpTransform), the pairs it raises
   for (different transforms, different affine parameters) against PyTorch.
"""
import sys
import warnings

import numpy as np

from jacobi_cli.tools import api

warnings.simplefilter("ignore")
HEAD = ("import torch\nfrom torch.distributions import NegativeBinomial, HalfCauchy, InverseGamma, FisherSnedecor, "
        "GeneralizedPareto, Multinomial, LogisticNormal, TransformedDistribution, Normal, Gamma, Binomial, "
        "Independent, LogNormal, HalfNormal, OneHotCategoricalStraightThrough, OneHotCategorical, Cauchy, "
        "kl_divergence\n"
        "from torch.distributions.transforms import ExpTransform, AffineTransform, SigmoidTransform, TanhTransform, "
        "PowerTransform, SoftplusTransform, ComposeTransform\n")
ALL = ("log_prob(x)", "cdf(x)", "icdf(p)", "entropy()", "mean", "mode", "variance", "stddev")
S3 = {"a": [1.5, 0.7, 2.5], "c": [2.0, 0.9, 3.1], "m": [0.5, -1.0, 0.3], "s": [1.3, 0.6, 2.0], "u": [0.2, 0.7, 0.45],
      "n": [3.0, 1.5, 4.0], "w": [-0.4, 0.3, 0.0], "d": [5.0, 6.0, 9.0]}
B23 = {k: np.array([v, [x * 1.1 + 0.05 for x in v]]) for k, v in S3.items()}
# (name, constructor, methods, values of the value x (or None: PyTorch's sample), parameters to differentiate)
CASES = [
    ("NegativeBinomial probs", "NegativeBinomial(n, probs=u)", ALL, None, ("n", "u")),
    ("NegativeBinomial logits", "NegativeBinomial(n, logits=m)", ALL, None, ("n", "m")),
    ("NegativeBinomial scalar n", "NegativeBinomial(2.5, logits=m)", ALL, None, ("m",)),
    ("HalfCauchy", "HalfCauchy(s)", ALL, None, ("s",)),
    ("InverseGamma", "InverseGamma(a, s)", ALL, None, ("a", "s")),
    ("FisherSnedecor", "FisherSnedecor(a, c)", ALL, None, ("a", "c")),
    ("FisherSnedecor df2 > 4", "FisherSnedecor(d, d)", ALL, None, ("d",)),
    ("GeneralizedPareto", "GeneralizedPareto(m, s, w)", ALL, None, ("m", "s", "w")),
    ("GeneralizedPareto c > 0", "GeneralizedPareto(m, s, u)", ALL, None, ("m", "s", "u")),
    ("Multinomial probs", "Multinomial(4, probs=u)", ALL, None, ("u",)),
    ("Multinomial logits", "Multinomial(3, logits=m)", ALL, None, ("m",)),
    ("LogisticNormal", "LogisticNormal(m, s)", ALL, None, ("m", "s")),
    ("Binomial", "Binomial(5, probs=u)", ("entropy()",), None, ("u",)),
    ("OneHotCategoricalStraightThrough", "OneHotCategoricalStraightThrough(logits=m)", ALL, None, ("m",)),
    ("Binomial logits", "Binomial(torch.tensor(4.0), logits=m)", ("entropy()",), None, ("m",)),
    ("TD exp", "TransformedDistribution(Normal(m, s), [ExpTransform()])", ALL, None, ("m", "s")),
    ("TD one exp", "TransformedDistribution(Normal(m, s), ExpTransform())", ALL, None, ("m", "s")),
    ("TD affine numbers", "TransformedDistribution(Normal(m, s), [AffineTransform(1.0, -2.0)])", ALL, None, ("m", "s")),
    ("TD affine tensors", "TransformedDistribution(Normal(m, s), [AffineTransform(a, c)])", ALL, None,
     ("m", "s", "a", "c")),
    ("TD sigmoid", "TransformedDistribution(Normal(m, s), [SigmoidTransform()])", ALL, None, ("m", "s")),
    ("TD tanh", "TransformedDistribution(Normal(m, s), [TanhTransform()])", ALL, None, ("m", "s")),
    ("TD softplus", "TransformedDistribution(Normal(m, s), [SoftplusTransform()])", ALL, None, ("m", "s")),
    ("TD power", "TransformedDistribution(Gamma(a, s), [PowerTransform(c)])", ALL, None, ("a", "s", "c")),
    ("TD exp affine", "TransformedDistribution(Normal(m, s), [ExpTransform(), AffineTransform(0.5, s)])", ALL, None,
     ("m", "s")),
    ("TD compose", "TransformedDistribution(Normal(m, s), [ComposeTransform([SigmoidTransform(), "
     "AffineTransform(-1.0, 2.0)])])", ALL, None, ("m", "s")),
    ("TD inv", "TransformedDistribution(Gamma(a, s), [ExpTransform().inv])", ALL, None, ("a", "s")),
    ("TD sigmoid inv", "TransformedDistribution(TransformedDistribution(Normal(m, s), SigmoidTransform()), "
     "SigmoidTransform().inv)", ALL, None, ("m", "s")),
    ("Independent HalfCauchy", "Independent(HalfCauchy(s), 1)", ALL, None, ("s",)),
    ("Independent NegativeBinomial", "Independent(NegativeBinomial(n, probs=u), 1)", ALL, None, ("n", "u")),
    ("Independent TD", "Independent(TransformedDistribution(Normal(m, s), [TanhTransform()]), 1)", ALL, None,
     ("m", "s")),
]
DISCRETE = ("NegativeBinomial", "Multinomial", "Binomial", "OneHotCategorical")
KL = [
    ("kl_divergence(InverseGamma(a, s), InverseGamma(c, d))", ("a", "s", "c", "d")),
    ("kl_divergence(HalfCauchy(s), HalfCauchy(c))", ("s", "c")),
    ("kl_divergence(OneHotCategoricalStraightThrough(logits=m), OneHotCategorical(logits=a))", ("m", "a")),
    ("kl_divergence(LogisticNormal(m, s), LogisticNormal(a, c))", ("m", "s", "a", "c")),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [ExpTransform(), AffineTransform(1.0, 2.0)]), "
     "TransformedDistribution(Normal(a, c), [ExpTransform(), AffineTransform(1.0, 2.0)]))", ("m", "s", "a", "c")),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [AffineTransform(u, d)]), "
     "TransformedDistribution(Normal(a, c), [AffineTransform(u, d)]))", ("m", "s", "a", "c", "u", "d")),
    ("kl_divergence(TransformedDistribution(Gamma(a, s), PowerTransform(d)), "
     "TransformedDistribution(Gamma(c, s), PowerTransform(d)))", ("a", "s", "c")),
    ("kl_divergence(LogNormal(m, s), TransformedDistribution(Normal(a, c), [ExpTransform()]))", ("m", "s", "a", "c")),
    ("kl_divergence(TransformedDistribution(Normal(a, c), ExpTransform()), LogNormal(m, s))", ("m", "s", "a", "c")),
    ("kl_divergence(HalfNormal(s), TransformedDistribution(Normal(0.0, c), []))", ()),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [SigmoidTransform()]), "
     "TransformedDistribution(Normal(a, c), [TanhTransform()]))", ()),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [AffineTransform(m, d)]), "
     "TransformedDistribution(Normal(a, c), [AffineTransform(a, d)]))", ()),
    ("kl_divergence(HalfCauchy(s), InverseGamma(a, c))", ()),
    ("kl_divergence(InverseGamma(a, s), Gamma(c, d))", ()),
    ("kl_divergence(NegativeBinomial(n, probs=u), NegativeBinomial(d, probs=u))", ()),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [ExpTransform()]), "
     "TransformedDistribution(Normal(a, c), ComposeTransform([ExpTransform()])))", ()),
]
INVALID = [  # (constructor, values replacing the defaults): PyTorch raises, jac must refuse
    ("NegativeBinomial(n, probs=u).log_prob(x)", {"n": [-1.0, 2.0, 3.0]}),
    ("NegativeBinomial(n, probs=u).mean", {"u": [1.0, 0.2, 0.3]}),
    ("NegativeBinomial(n, probs=u).log_prob(x)", {"x": [1.5, 2.0, 0.0]}),
    ("NegativeBinomial(n, probs=u).log_prob(x)", {"x": [-1.0, 2.0, 0.0]}),
    ("HalfCauchy(s).log_prob(x)", {"s": [0.0, 1.0, 1.0]}),
    ("HalfCauchy(s).log_prob(x)", {"x": [-0.1, 1.0, 1.0]}),
    ("HalfCauchy(s).cdf(x)", {"x": [-0.1, 1.0, 1.0]}),
    ("InverseGamma(a, s).entropy()", {"a": [-1.0, 1.0, 1.0]}),
    ("InverseGamma(a, s).log_prob(x)", {"x": [0.0, 1.0, 1.0]}),
    ("InverseGamma(a, s).cdf(x)", {"x": [-1.0, 1.0, 1.0]}),
    ("FisherSnedecor(a, c).log_prob(x)", {"c": [-1.0, 1.0, 1.0]}),
    ("FisherSnedecor(a, c, validate_args=False).log_prob(x)", {"c": [-1.0, 1.0, 1.0]}),
    ("FisherSnedecor(a, c).log_prob(x)", {"x": [0.0, 1.0, 1.0]}),
    ("GeneralizedPareto(m, s, w).log_prob(x)", {"s": [-1.0, 1.0, 1.0]}),
    ("GeneralizedPareto(m, s, w).log_prob(x)", {"x": [0.0, 5.0, 1.0]}),
    ("GeneralizedPareto(m, s, w).cdf(x)", {"x": [0.0, 5.0, 1.0]}),
    ("Multinomial(4, probs=u).log_prob(x)", {"x": [1.0, 2.0, 2.0]}),
    ("Multinomial(4, probs=u).log_prob(x)", {"x": [-1.0, 2.0, 2.0]}),
    ("Multinomial(4, probs=u).mean", {"u": [-0.2, 0.7, 0.5]}),
    ("Multinomial(4.0, probs=u).mean", {}),
    ("LogisticNormal(m, s).log_prob(x)", {"x": [0.2, 0.3, 0.4]}),
    ("LogisticNormal(m, s).entropy()", {"s": [1.0, -1.0, 1.0]}),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).log_prob(x)", {"x": [-1.0, 1.0, 1.0]}),
    ("TransformedDistribution(Normal(m, s), [SigmoidTransform()]).log_prob(x)", {"x": [1.5, 0.5, 0.5]}),
    ("TransformedDistribution(Normal(m, s), [TanhTransform()]).log_prob(x)", {"x": [-1.5, 0.5, 0.5]}),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).log_prob(x)", {"s": [-1.0, 1.0, 1.0]}),
    ("TransformedDistribution(Normal(m, s), [AffineTransform(0.0, 0.0)]).log_prob(x)", {}),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).mean", {}),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).entropy()", {}),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).rsample()", {}),
    ("Binomial(n, probs=u).entropy()", {}),
]


def _torch_eval(text, values):
    import torch
    import torch.distributions as dists
    import torch.distributions.transforms as tr
    torch.set_default_dtype(torch.float64)
    env = {"torch": torch, **{k: getattr(dists, k) for k in dists.__all__}, **{k: getattr(tr, k) for k in tr.__all__},
           **{k: v if isinstance(v, torch.Tensor) else torch.tensor(v) for k, v in values.items()}}
    return eval(text, env)  # noqa: S307 - the probe's own fixed texts


def central(code, values, key, h=1e-6):
    x = np.asarray(values[key], dtype=np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        up = api.evaluate(code, {**values, key: x + e.reshape(x.shape)})
        down = api.evaluate(code, {**values, key: x - e.reshape(x.shape)})
        cols.append((np.asarray(up) - np.asarray(down)).ravel() / (2 * h))
    return np.stack(cols, -1).reshape(np.shape(api.evaluate(code, values)) + x.shape)


def _sample(ctor, values):
    import torch
    torch.manual_seed(0)
    dist = _torch_eval(ctor, values)
    x = dist.sample()
    if "GeneralizedPareto" in ctor:
        x = dist.icdf(torch.full_like(x, 0.4))
    return dist, x.detach().numpy()


def _agree(ours, theirs, rtol=1e-10):
    return np.shape(ours) == np.shape(theirs) and np.allclose(ours, theirs, rtol=rtol, atol=1e-12, equal_nan=True)


def sweep(counts, refused, jacobians, shapes):
    import torch
    for name, ctor, methods, _, wrt in CASES:
        params = shapes
        try:
            dist, x = _sample(ctor, params)
        except Exception as err:  # noqa: BLE001
            print("V torch cannot make", name, err)
            continue
        values = {**{k: np.asarray(v, dtype=np.float64) for k, v in params.items()}, "x": x,
                  "p": np.full(dist.batch_shape + dist.event_shape, 0.3)}
        for m in methods:
            text = f"({ctor}).{m}"
            try:
                theirs = _torch_eval(text, values)
            except Exception:  # noqa: BLE001 - PyTorch raises: jac must refuse
                theirs = None
            try:
                ours = api.evaluate(HEAD + text, values)
            except Exception as err:  # noqa: BLE001
                if jacobians:
                    continue
                if theirs is None:
                    counts["BOTH-REFUSE"] += 1
                else:
                    counts["REFUSED"] += 1
                    refused.append(f"{name}.{m}: {str(err).splitlines()[0][:110]}")
                continue
            if theirs is None:
                counts["WRONG"] += 1
                print("V WRONG answers where PyTorch raises", name, m)
                continue
            theirs = theirs.detach().numpy()
            good = _agree(ours, theirs)
            if not jacobians or not good:  # J counts the Jacobians only
                counts["AGREE" if good else "WRONG"] += 1
            if not good:
                print("V WRONG", name, m, np.asarray(ours).ravel()[:6], theirs.ravel()[:6])
                continue
            if jacobians and m not in ("mode",):
                continuous = not name.startswith(DISCRETE + ("LogisticNormal",))
                keys = list(wrt) + (["x"] if "(x)" in m and continuous else []) + \
                    (["p"] if "(p)" in m else [])
                _jacobian(counts, name, text, values, keys)


def _jacobian(counts, name, text, values, keys):
    """jac's Jacobian against PyTorch's autograd and central differences. DIFF: PyTorch's differs and the central
    differences agree with jac's (GeneralizedPareto by its concentration at 0, where PyTorch's where drops it).
    Where a row's value is NaN, PyTorch's backward leaves 0 * NaN in the other columns, jac 0: not counted against."""
    import torch
    theirs, failed = {}, None
    tensors = [torch.tensor(values[k]) for k in keys]
    for k, t in zip(keys, tensors):
        def f(v, k=k):
            return _torch_eval(text, {**values, k: v})
        try:
            theirs[k] = torch.autograd.functional.jacobian(f, t).numpy()
        except Exception:  # noqa: BLE001 - no derivative in PyTorch (igamma by a): jac must refuse it too
            failed = k
    for k in keys:
        try:
            ours = api.jacobian(HEAD + text, values, wrt=[k])[k]
        except Exception as err:  # noqa: BLE001
            counts["BOTH-REFUSE" if k not in theirs else "REFUSED"] += 1
            if k in theirs:
                print("J REFUSED", name, text[-30:], k, str(err).splitlines()[0][:120])
            continue
        if k not in theirs:
            counts["WRONG"] += 1
            print("J WRONG answers where PyTorch has no derivative", name, text[-30:], failed)
            continue
        value = np.asarray(api.evaluate(HEAD + text, values))
        t = theirs[k].copy()
        rows = np.isnan(value).reshape(value.shape + (1,) * np.ndim(values[k]))
        t[np.broadcast_to(rows, t.shape) & np.isnan(t) & (ours == 0)] = 0.0
        by_torch = _agree(ours, t, rtol=1e-8)
        by_central = None
        if np.isfinite(ours).all() and np.isfinite(value).all():
            try:
                by_central = np.allclose(ours, central(HEAD + text, values, k), rtol=1e-5, atol=1e-6)
            except Exception:  # noqa: BLE001 - a step leaves the support: no central difference
                by_central = None
        if by_torch and by_central is not False:
            counts["AGREE"] += 1
        elif not by_torch and by_central:
            counts["DIFF"] += 1
            print("J DIFF (jac's is the central difference's, PyTorch's is not)", name, text[-40:], k,
                  np.asarray(ours).ravel()[:3], t.ravel()[:3])
        else:
            counts["WRONG"] += 1
            print("J WRONG", name, text[-40:], k, by_torch, by_central, np.asarray(ours).ravel()[:6], t.ravel()[:6])


def sweep_r(counts):
    base = {**{k: np.array(v) for k, v in S3.items()}, "x": np.array([1.0, 2.0, 1.0])}
    for text, given in INVALID:
        values = {**base, **{k: np.array(v) for k, v in given.items()}}
        if text.startswith("LogisticNormal") and "log_prob" in text:
            values["x"] = np.array([0.2, 0.3, 0.4, 0.2])
        try:
            _torch_eval(text, values)
            print("R PyTorch answers", text)
            continue
        except Exception:  # noqa: BLE001
            pass
        try:
            api.evaluate(HEAD + text, values)
            counts["WRONG"] += 1
            print("R WRONG answers where PyTorch raises", text, given)
        except Exception:  # noqa: BLE001
            counts["BOTH-REFUSE"] += 1


def sweep_kl(counts, refused):
    import torch
    values = {k: np.array(v) for k, v in S3.items()}
    for text, wrt in KL:
        try:
            theirs = _torch_eval(text, values).detach().numpy()
        except Exception:  # noqa: BLE001
            theirs = None
        try:
            ours = api.evaluate(HEAD + text, values)
        except Exception as err:  # noqa: BLE001
            if theirs is None:
                counts["BOTH-REFUSE"] += 1
            else:
                counts["REFUSED"] += 1
                refused.append(f"{text[:60]}: {str(err).splitlines()[0][:100]}")
            continue
        if theirs is None:
            counts["WRONG"] += 1
            print("KL WRONG answers where PyTorch raises", text)
            continue
        good = _agree(ours, theirs)
        counts["AGREE" if good else "WRONG"] += 1
        if not good:
            print("KL WRONG", text, ours, theirs)
        elif wrt:
            _jacobian(counts, "KL", text, values, list(wrt))


def main(parts):
    total = 0
    for part in parts:
        counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "BOTH-REFUSE": 0, "DIFF": 0}
        refused = []
        if part == "V":
            sweep(counts, refused, False, S3)
            sweep(counts, refused, False, B23)
        elif part == "J":
            sweep(counts, refused, True, S3)
        elif part == "R":
            sweep_r(counts)
        else:
            sweep_kl(counts, refused)
        for line in refused:
            print(part, "refused:", line)
        print(part, counts)
        total += counts["WRONG"]
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["V", "J", "R", "KL"]))
