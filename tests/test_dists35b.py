"""Session 35b's distributions (lang/distributions.py): NegativeBinomial, HalfCauchy, InverseGamma, FisherSnedecor,
GeneralizedPareto, Multinomial, LogisticNormal, TransformedDistribution with the element-wise transforms of
torch.distributions.transforms, Binomial's entropy and the TransformedDistribution KL pair, against PyTorch (values,
and Jacobians by every parameter and the value with torch.autograd.functional.jacobian) and central differences,
with batch shapes and broadcasting; PyTorch's refusals (validate_args, NotImplementedError) refused. Parity parts
skip without PyTorch."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_dists33 import _central

HEAD = ("import torch\nfrom torch.distributions import NegativeBinomial, HalfCauchy, InverseGamma, FisherSnedecor, "
        "GeneralizedPareto, Multinomial, LogisticNormal, TransformedDistribution, Normal, Gamma, Binomial, "
        "Independent, LogNormal, HalfNormal, OneHotCategoricalStraightThrough, OneHotCategorical, kl_divergence\n"
        "from torch.distributions.transforms import ExpTransform, AffineTransform, SigmoidTransform, TanhTransform, "
        "PowerTransform, SoftplusTransform, ComposeTransform\n")
V = {"a": np.array([1.5, 0.7, 2.5]), "c": np.array([2.0, 0.9, 3.1]), "m": np.array([0.5, -1.0, 0.3]),
     "s": np.array([1.3, 0.6, 2.0]), "u": np.array([0.2, 0.7, 0.45]), "n": np.array([3.0, 1.5, 4.0]),
     "w": np.array([-0.4, 0.3, 0.0]), "d": np.array([5.0, 6.0, 9.0]), "p": np.array([0.3, 0.6, 0.85])}
POS = np.array([0.4, 1.2, 2.0])
# (text, values beyond V, the inputs to differentiate)
CASES = [
    ("NegativeBinomial(n, probs=u).log_prob(k)", {"k": np.array([0.0, 2.0, 5.0])}, ("n", "u")),
    ("NegativeBinomial(n, logits=m).log_prob(k)", {"k": np.array([[0.0, 2.0, 5.0], [1.0, 0.0, 3.0]])}, ("n", "m")),
    ("NegativeBinomial(n, logits=m).variance + NegativeBinomial(n, logits=m).mean", {}, ("n", "m")),
    ("NegativeBinomial(n, probs=u).stddev", {}, ("n", "u")),
    ("HalfCauchy(s).log_prob(x)", {"x": POS}, ("s", "x")),
    ("HalfCauchy(s).cdf(x)", {"x": POS}, ("s", "x")),
    ("HalfCauchy(s).icdf(p)", {}, ("s", "p")),
    ("HalfCauchy(s).entropy()", {}, ("s",)),
    ("InverseGamma(a, s).log_prob(x)", {"x": POS}, ("a", "s", "x")),
    ("InverseGamma(a, s).cdf(x)", {"x": POS}, ("s", "x")),
    ("InverseGamma(a, s).entropy()", {}, ("a", "s")),
    ("InverseGamma(a, s).mean + InverseGamma(a, s).mode", {}, ("a", "s")),
    ("InverseGamma(d, s).variance", {}, ("d", "s")),
    ("FisherSnedecor(a, c).log_prob(x)", {"x": POS}, ("a", "c", "x")),
    ("FisherSnedecor(d, d + 1.0).variance + FisherSnedecor(d, d).mean + FisherSnedecor(d, c).mode", {}, ("d",)),
    ("GeneralizedPareto(m, s, w).log_prob(x)", {"x": np.array([0.7, -0.8, 1.1])}, ("m", "s", "w", "x")),
    ("GeneralizedPareto(m, s, w).cdf(x)", {"x": np.array([0.7, -0.8, 1.1])}, ("m", "s", "w", "x")),
    ("GeneralizedPareto(m, s, w).icdf(p)", {}, ("m", "s", "w", "p")),
    ("GeneralizedPareto(m, s, w).entropy() + GeneralizedPareto(m, s, w).mean", {}, ("m", "s", "w")),
    ("GeneralizedPareto(m, s, w).variance", {}, ("s", "w")),
    ("Multinomial(4, probs=u).log_prob(k)", {"k": np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 4.0]])}, ("u",)),
    ("Multinomial(3, logits=m).entropy()", {}, ("m",)),
    ("Multinomial(3, probs=u).variance + Multinomial(3, probs=u).mean", {}, ("u",)),
    ("LogisticNormal(m, s).log_prob(y)", {"y": np.array([0.1, 0.2, 0.3, 0.4])}, ("m", "s")),
    ("LogisticNormal(m2, s).log_prob(y)", {"m2": np.array([[0.5, -1.0, 0.3], [0.1, 0.2, -0.3]]),
                                          "y": np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]])}, ("m2", "s")),
    ("Binomial(5, probs=u).entropy()", {}, ("u",)),
    ("OneHotCategoricalStraightThrough(logits=m).log_prob(k)", {"k": np.array([0.0, 1.0, 0.0])}, ("m",)),
    ("OneHotCategoricalStraightThrough(probs=u).entropy() + OneHotCategoricalStraightThrough(probs=u).variance.sum()",
     {}, ("u",)),
    ("kl_divergence(OneHotCategoricalStraightThrough(logits=m), OneHotCategorical(logits=a))", {}, ("m", "a")),
    ("Binomial(torch.tensor([4.0, 4.0, 4.0]), logits=m).entropy()", {}, ("m",)),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).log_prob(x)", {"x": POS}, ("m", "s", "x")),
    ("TransformedDistribution(Normal(m, s), ExpTransform()).icdf(p)", {}, ("m", "s", "p")),
    ("TransformedDistribution(Normal(m, s), [AffineTransform(1.0, -2.0)]).cdf(x)", {"x": POS}, ("m", "s", "x")),
    ("TransformedDistribution(Normal(m, s), [AffineTransform(a, c)]).log_prob(x)", {"x": POS}, ("m", "s", "a", "c",
                                                                                               "x")),
    ("TransformedDistribution(Normal(m2, s), [AffineTransform(a, c)]).log_prob(x)",
     {"m2": np.array([[0.5], [-1.0]]), "x": POS}, ("m2", "s", "a", "c", "x")),
    ("TransformedDistribution(Normal(m, s), [SigmoidTransform()]).log_prob(p)", {}, ("m", "s", "p")),
    ("TransformedDistribution(Normal(m, s), [TanhTransform()]).log_prob(p)", {}, ("m", "s", "p")),
    ("TransformedDistribution(Normal(m, s), [SoftplusTransform()]).cdf(x)", {"x": POS}, ("m", "s", "x")),
    ("TransformedDistribution(Gamma(a, s), [PowerTransform(c)]).log_prob(x)", {"x": POS}, ("a", "s", "c", "x")),
    ("TransformedDistribution(Normal(m, s), [ComposeTransform([SigmoidTransform(), AffineTransform(-1.0, 2.0)])])"
     ".log_prob(x)", {"x": np.array([0.4, -0.2, 0.9])}, ("m", "s", "x")),
    ("TransformedDistribution(Gamma(a, s), [ExpTransform().inv]).log_prob(x)", {"x": np.array([0.4, -0.2, 0.9])},
     ("a", "s", "x")),
    ("TransformedDistribution(Gamma(a, s), [ExpTransform().inv, AffineTransform(0.0, -1.0)]).cdf(x)",
     {"x": np.array([0.4, -0.2, 0.9])}, ("s", "x")),  # by a: none (PyTorch's igamma has none either)
    ("Independent(TransformedDistribution(Normal(m, s), [TanhTransform()]), 1).log_prob(p)", {}, ("m", "s", "p")),
    ("Independent(HalfCauchy(s), 1).entropy()", {}, ("s",)),
    ("kl_divergence(InverseGamma(a, s), InverseGamma(c, d))", {}, ("a", "s", "c", "d")),
    ("kl_divergence(HalfCauchy(s), HalfCauchy(c))", {}, ("s", "c")),
    ("kl_divergence(LogisticNormal(m, s), LogisticNormal(a, c))", {}, ("m", "s", "a", "c")),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [AffineTransform(u, d)]), TransformedDistribution("
     "Normal(a, c), [AffineTransform(u, d)]))", {}, ("m", "s", "a", "c", "u", "d")),
    ("kl_divergence(LogNormal(m, s), TransformedDistribution(Normal(a, c), [ExpTransform()]))", {},
     ("m", "s", "a", "c")),
]


def _torch_eval(text, values, **override):
    torch = pytest.importorskip("torch")
    import torch.distributions as dists
    import torch.distributions.transforms as tr
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        env = {"torch": torch, **{k: getattr(dists, k) for k in dists.__all__},
               **{k: getattr(tr, k) for k in tr.__all__}, **{k: torch.tensor(v) for k, v in values.items()}, **override}
        return eval(text, env)  # noqa: S307 - the test's own texts
    finally:
        torch.set_default_dtype(default)


@pytest.mark.parametrize("text, extra, wrt", CASES, ids=[t[:70] for t, _, _ in CASES])
def test_values_and_jacobians_are_pytorchs_and_the_slopes(text, extra, wrt):
    torch = pytest.importorskip("torch")
    values = {**V, **extra}
    ours = api.evaluate(HEAD + text, values)
    theirs = _torch_eval(text, values).detach().numpy()
    assert np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)
    jac = api.jacobian(HEAD + text, values, wrt=list(wrt))
    for k in wrt:
        def f(v, k=k):
            return _torch_eval(text, values, **{k: v})
        expect = torch.autograd.functional.jacobian(f, torch.tensor(values[k])).numpy()
        if k == "w":  # GeneralizedPareto at concentration 0 (the last): PyTorch's where drops it (see below)
            np.testing.assert_allclose(jac[k][:2, :2], expect[:2, :2], rtol=1e-8, atol=1e-10, err_msg=k)
        else:
            np.testing.assert_allclose(jac[k], expect, rtol=1e-8, atol=1e-10, err_msg=k)
        if k != "n" or "log_prob" not in text:  # where the value is finite (InverseGamma's mean is inf for a <= 1)
            rows = np.isfinite(ours)
            np.testing.assert_allclose(jac[k][rows], _central(HEAD + text, values, k)[rows], rtol=1e-5, atol=1e-6,
                                       err_msg=k)


@pytest.mark.parametrize("method", ["log_prob(x)", "cdf(x)", "icdf(p)"])
def test_generalized_pareto_at_concentration_zero_keeps_pytorchs_value_and_the_functions_slope(method):
    """PyTorch's log_prob, cdf and icdf take the c = 0 limit where |c| <= 1e-8, a branch without c: its autograd
    gives 0 by c there. jac's value is PyTorch's bit for bit, its derivatives by c (first and second) the function's,
    as the central differences across the branch see them."""
    values = {"m": np.array(0.5), "s": np.array(1.3), "w": np.array(0.0), "x": np.array(1.7), "p": np.array(0.3)}
    code = HEAD + f"GeneralizedPareto(m, s, w).{method}"
    if pytest.importorskip("torch"):
        assert api.evaluate(code, values) == _torch_eval(f"GeneralizedPareto(m, s, w).{method}", values).item()
    at = {w: api.evaluate(code, {**values, "w": np.array(w)}) for w in (-1e-4, 0.0, 1e-4)}
    slope = (at[1e-4] - at[-1e-4]) / 2e-4
    curvature = (at[1e-4] - 2 * at[0.0] + at[-1e-4]) / 1e-8
    assert slope != 0
    np.testing.assert_allclose(api.jacobian(code, values, wrt=["w"])["w"], slope, rtol=1e-6)
    np.testing.assert_allclose(api.hessian(code, values, wrt=["w"])[("w", "w")], curvature, rtol=1e-4)


def test_broadcast_batches_are_pytorchs():
    values = {"a": np.array([[1.5], [2.5]]), "s": np.array([1.3, 0.6, 2.0]), "x": np.array([[0.4, 1.2, 2.0]])}
    for text in ("InverseGamma(a, s).log_prob(x)", "HalfCauchy(s).log_prob(a)", "InverseGamma(a, s).entropy()",
                 "FisherSnedecor(a, s).log_prob(x)", "GeneralizedPareto(s, a, 0.1).log_prob(x + 2.0)",
                 "NegativeBinomial(a, logits=s).mean", "TransformedDistribution(Normal(a, s), "
                 "[AffineTransform(x, 2.0)]).log_prob(x)"):
        ours = api.evaluate(HEAD + text, values)
        theirs = _torch_eval(text, values).detach().numpy()
        assert np.shape(ours) == theirs.shape == (2, 3), text
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=text)


REFUSED = [  # PyTorch raises at these values or for these methods: jac refuses
    ("NegativeBinomial(n, probs=u).log_prob(x)", {"x": np.array([1.5, 2.0, 0.0])}, "support"),
    ("NegativeBinomial(n, probs=u).mean", {"u": np.array([1.0, 0.2, 0.3])}, "HalfOpenInterval"),
    ("NegativeBinomial(n, probs=u).entropy()", {}, "NotImplementedError"),
    ("HalfCauchy(s).log_prob(x)", {"x": np.array([-0.1, 1.0, 1.0])}, "support"),
    ("HalfCauchy(s).mean", {"s": np.array([0.0, 1.0, 1.0])}, "GreaterThan"),
    ("InverseGamma(a, s).log_prob(x)", {"x": np.array([0.0, 1.0, 1.0])}, "support"),
    ("InverseGamma(a, s).icdf(x)", {"x": np.array([0.1, 0.2, 0.3])}, "NotImplementedError"),
    ("FisherSnedecor(a, s, validate_args=False).log_prob(x)", {"s": np.array([-1.0, 1.0, 1.0])}, "Gamma"),
    ("FisherSnedecor(a, s).cdf(x)", {}, "NotImplementedError"),
    ("GeneralizedPareto(m, s, w).log_prob(x)", {"x": np.array([0.0, 5.0, 1.0])}, "support"),
    ("Multinomial(4, probs=u).log_prob(x)", {"x": np.array([1.0, 2.0, 2.0])}, "support"),
    ("Multinomial(4.0, probs=u).mean", {}, "Python int"),
    ("LogisticNormal(m, s).log_prob(x)", {"x": np.array([0.2, 0.3, 0.4, 0.2])}, "Simplex"),
    ("LogisticNormal(m, s).mean", {}, "NotImplementedError"),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).log_prob(x)", {"x": np.array([-1.0, 1.0, 1.0])},
     "support"),
    ("TransformedDistribution(Normal(m, s), [SigmoidTransform()]).log_prob(x)", {"x": np.array([1.5, 0.5, 0.5])},
     "support"),
    ("TransformedDistribution(Normal(m, s, validate_args=False), [ExpTransform()]).cdf(x)",
     {"x": np.array([-0.6, 0.2, 1.0])}, "support"),  # the base's support: checked when the transformed one validates
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).entropy()", {}, "NotImplementedError"),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).mean", {}, "NotImplementedError"),
    ("TransformedDistribution(Normal(m, s), [AffineTransform(0.0, 0.0)]).log_prob(x)", {}, "math.log"),
    ("TransformedDistribution(Normal(m, s), [ExpTransform()]).rsample()", {}, "its base Normal.s draw"),
    ("OneHotCategoricalStraightThrough(logits=m).rsample()", {}, "probs - probs.detach"),
    ("Binomial(n, probs=u).entropy()", {"n": np.array([3.0, 3.0, 3.0])}, "constant"),
    ("Binomial(torch.tensor([3.0, 4.0, 3.0]), probs=u).entropy()", {}, "Inhomogeneous"),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [SigmoidTransform()]), TransformedDistribution(Normal(a, "
     "c), [TanhTransform()]))", {}, "transforms differ"),
    ("kl_divergence(TransformedDistribution(Normal(m, s), [AffineTransform(m, d)]), TransformedDistribution(Normal("
     "a, c), [AffineTransform(a, d)]))", {}, "parameters differ"),
    ("kl_divergence(InverseGamma(a, s), Gamma(c, d))", {}, "NotImplementedError"),
    ("kl_divergence(NegativeBinomial(n, probs=u), NegativeBinomial(d, probs=u))", {}, "NotImplementedError"),
]


@pytest.mark.parametrize("text, extra, words", REFUSED, ids=[t[:70] for t, _, _ in REFUSED])
def test_what_pytorch_refuses_is_refused(text, extra, words):
    values = {**V, "x": np.array([1.0, 2.0, 1.0]), **extra}
    with pytest.raises(JacError, match=words):
        api.evaluate(HEAD + text, values)
    if words not in ("constant", "its base Normal.s draw", "probs - probs.detach") and pytest.importorskip("torch"):
        with pytest.raises(Exception):  # noqa: B017, PT011 - PyTorch's own ValueError / NotImplementedError
            _torch_eval(text, values)


def test_transforms_are_read_under_both_module_names_and_refuse_what_they_lack():
    values = {"m": np.array(0.5), "x": np.array(1.5)}
    code = "import torch\ntorch.distributions.TransformedDistribution(torch.distributions.Normal(m, 1.0), " \
           "[torch.distributions.transforms.ExpTransform()]).log_prob(x)"
    alias = "import torch.distributions as D\nD.TransformedDistribution(D.Normal(m, 1.0), D.ExpTransform()).log_prob(x)"
    assert api.evaluate(code, values) == api.evaluate(alias, values)
    with pytest.raises(JacError, match="AbsTransform is not bijective"):
        api.evaluate(HEAD.replace("SoftplusTransform", "AbsTransform") + "TransformedDistribution(Normal(m, 1.0), "
                     "[AbsTransform()]).log_prob(x)", values)
    text = "ComposeTransform([ExpTransform(), AffineTransform(1.0, m)]).inv.log_abs_det_jacobian(x, m)"
    held = "t = ComposeTransform([ExpTransform(), AffineTransform(1.0, m)])\nt.inv.log_abs_det_jacobian(x, m)"
    ours = api.evaluate(HEAD + held, values)  # a transform held by a name, its .inv
    np.testing.assert_allclose(ours, _torch_eval(text, values).detach().numpy(), rtol=1e-14)
