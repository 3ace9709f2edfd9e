"""The last torch.distributions pieces refused before session 36, against PyTorch. Self-contained (it imports only
jac's API and PyTorch), so it runs on an older checkout for the "before" column. Run:
PYTHONPATH=. /work/venv/bin/python benchmarks/dists36_probe.py [V R G N ...]

V. Values and Jacobians: Wishart (covariance / precision / scale_tril, batches, df a number or a tensor: log_prob,
   entropy, mean, variance, stddev, mode, the matrices), LKJCholesky.log_prob, the mode of Beta, Dirichlet (the NaN
   and one-hot edges), Kumaraswamy. A value must be PyTorch's (rtol 1e-11, NaN where NaN); each Jacobian
   torch.autograd.functional.jacobian's (rtol 1e-8; where PyTorch's is NaN by 0 · NaN pollution from another element,
   the diagonal of an element-wise result is compared with PyTorch's gradient of the sum). REFUSED: jac refuses what
   PyTorch answers (counted apart: Kumaraswamy's mode, PyTorch's NaN at every parameter, is refused on purpose).
R. What PyTorch raises for (df <= p - 1 whatever validate_args says, a covariance that is not positive definite, a
   factor that is not lower Cholesky, a value off the support, dim < 2, a concentration <= 0, NotImplementedError
   methods, the Wishart KL jac will not read): jac must refuse (an answer is WRONG).
G. GeneralizedPareto where |concentration| <= 1e-8: the K-th derivative by the concentration (K = 1..6) of log_prob,
   cdf, icdf against the function's own (mpmath, 60 digits, of the closed form; at c = 0 its limit), and the values at
   x = inf / p = 1 against PyTorch's.
N. The names: dir(torch.distributions), torch.distributions.transforms' and constraints' public names, each read or
   refused by jac.
"""
import inspect
import math
import sys
import warnings

import numpy as np

from jacobi_cli.tools import api

warnings.simplefilter("ignore")
HEAD = ("import torch\nfrom torch.distributions import Wishart, LKJCholesky, Beta, Dirichlet, Kumaraswamy, "
        "GeneralizedPareto, kl_divergence\n")
S = [[2.0, 0.3], [0.3, 1.0]]
L = [[1.3, 0.0], [0.4, 0.9]]
X = [[2.0, 0.5], [0.5, 1.0]]
LB = [L, [[0.7, 0.0], [-0.2, 1.1]]]
XB = [X, [[1.0, -0.3], [-0.3, 0.5]]]
C3 = [[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]]
W_METHODS = ("log_prob(X)", "entropy()", "mean", "variance", "stddev", "mode", "covariance_matrix",
             "precision_matrix", "scale_tril")
V_CASES = []
for make, values in (("Wishart(df, covariance_matrix=S)", {"df": 4.0, "S": S}),
                     ("Wishart(df, precision_matrix=S)", {"df": 3.0, "S": S}),
                     ("Wishart(df, scale_tril=L)", {"df": [4.0, 2.5], "L": L}),
                     ("Wishart(df, scale_tril=L)", {"df": [4.0, 5.5], "L": LB}),
                     ("Wishart(3.5, scale_tril=L)", {"L": LB}),
                     ("Wishart(df, covariance_matrix=S, validate_args=False)", {"df": 1.5, "S": S})):
    for m in W_METHODS:
        V_CASES.append((f"{make}.{m}", {**values, "X": XB if "LB" in str(values) else X}))
V_CASES += [
    ("LKJCholesky(3, c).log_prob(V)", {"c": [0.7, 2.0], "V": C3}),
    ("LKJCholesky(2, c).log_prob(V)", {"c": 1.5, "V": [[1.0, 0.0], [0.6, 0.8]]}),
    ("LKJCholesky(3).log_prob(V)", {"V": [C3, np.eye(3).tolist()]}),
    ("LKJCholesky(4, c).log_prob(V)", {"c": 0.3, "V": np.linalg.cholesky(
        [[1, .3, .1, 0], [.3, 1, .2, .1], [.1, .2, 1, .4], [0, .1, .4, 1]]).tolist()}),
    ("Beta(a, b).mode", {"a": [2.0, 0.5, 0.5, 3.0, 1.2, 1.0, 1.0, 0.7], "b": [2.0, 2.0, 0.5, 1.3, 3.0, 1.0, 0.3, 1.0]}),
    ("Dirichlet(c).mode", {"c": [[0.5, 0.3, 0.9], [0.2, 0.3, 2.0], [2.0, 3.0, 1.5], [0.5, 0.3, 1.0], [1.0, 1.0, 1.0]]}),
    ("Dirichlet(c).mode", {"c": [[0.5], [2.0]]}),
    ("Kumaraswamy(a, b).mode", {"a": [3.0, 1.0, 3.0], "b": [1.0, 3.0, 5.0]}),
]
R_CASES = [
    ("Wishart(0.5, covariance_matrix=S).log_prob(X)", {}),
    ("Wishart(df, covariance_matrix=S, validate_args=False).mean", {"df": [3.0, 1.0]}),
    ("Wishart(3.0, covariance_matrix=T).log_prob(X)", {"T": [[1.0, 2.0], [2.0, 1.0]]}),
    ("Wishart(3.0, covariance_matrix=T).mean", {"T": [[1.0, 0.2], [0.3, 1.0]]}),
    ("Wishart(3.0, covariance_matrix=T, validate_args=False).log_prob(X)", {"T": [[1.0, 2.0], [2.0, 1.0]]}),
    ("Wishart(3.0, scale_tril=T).entropy()", {"T": [[-1.0, 0.0], [0.2, 1.0]]}),
    ("Wishart(3.0, covariance_matrix=S).log_prob(T)", {"T": [[1.0, 2.0], [2.0, 1.0]]}),
    ("Wishart(3.0, covariance_matrix=S).log_prob(T)", {"T": np.eye(3).tolist()}),
    ("Wishart(3.0, covariance_matrix=S, scale_tril=S).mean", {}),
    ("Wishart(3.0, covariance_matrix=S).cdf(X)", {}),
    ("Wishart(3.0, covariance_matrix=S).rsample()", {}),
    ("kl_divergence(Wishart(3.0, covariance_matrix=S), Wishart(4.0, covariance_matrix=X))", {}),
    ("LKJCholesky(1, 1.0).log_prob(T)", {"T": [[1.0]]}),
    ("LKJCholesky(2, -1.0).log_prob(T)", {"T": [[1.0, 0.0], [0.6, 0.8]]}),
    ("LKJCholesky(2, 0.0, validate_args=False).log_prob(T)", {"T": [[1.0, 0.0], [0.6, 0.8]]}),
    ("LKJCholesky(2, 1.0).log_prob(T)", {"T": [[1.0, 0.0], [0.6, 0.9]]}),
    ("LKJCholesky(2, 1.0).log_prob(T)", {"T": [[1.0, 0.1], [0.6, 0.8]]}),
    ("LKJCholesky(2, 1.0).mean", {}), ("LKJCholesky(2, 1.0).entropy()", {}), ("LKJCholesky(2, 1.0).mode", {}),
    ("LKJCholesky(2, 1.0).rsample()", {}),
]


def _torch_eval(text, values, **override):
    import torch
    import torch.distributions as dists
    torch.set_default_dtype(torch.float64)
    try:
        env = {"torch": torch, **{k: getattr(dists, k) for k in dists.__all__},
               **{k: torch.tensor(np.asarray(v, dtype=float)) for k, v in values.items()}, **override}
        return eval(text, env)  # noqa: S307 - the probe's own texts
    finally:
        torch.set_default_dtype(torch.float32)


def _jacobian_ok(text, values, name, ours):
    import torch
    theirs = torch.autograd.functional.jacobian(lambda v: _torch_eval(text, values, **{name: v}),
                                                torch.tensor(np.asarray(values[name], dtype=float))).numpy()
    if np.allclose(ours, theirs, rtol=1e-8, atol=1e-10, equal_nan=True):
        return True
    x = np.asarray(values[name], dtype=float)
    if ours.shape == x.shape * 2 and x.ndim == 1:  # element-wise: PyTorch's gradient of the sum, the diagonal
        t = torch.tensor(x, requires_grad=True)
        _torch_eval(text, values, **{name: t}).sum().backward()
        return np.allclose(np.diag(ours), t.grad.numpy(), rtol=1e-8, atol=1e-10, equal_nan=True)
    finite = np.isfinite(theirs)  # PyTorch's NaN from 0 · NaN where a shared input meets a NaN element
    return bool(np.allclose(ours[finite], theirs[finite], rtol=1e-8, atol=1e-10))


def section_v():
    counts = {"AGREE": 0, "WRONG": 0, "REFUSED": 0, "JAC-AGREE": 0, "JAC-WRONG": 0, "JAC-ERROR": 0}
    for text, values in V_CASES:
        try:
            ours = np.asarray(api.evaluate(HEAD + text, values))
        except Exception as err:  # noqa: BLE001 - a refusal is counted
            try:
                _torch_eval(text, values)
            except Exception:  # noqa: BLE001
                counts["BOTH-REFUSE"] = counts.get("BOTH-REFUSE", 0) + 1
                continue
            counts["REFUSED"] += 1
            print(f"  REFUSED {text}: {str(err).splitlines()[0][:110]}")
            continue
        theirs = _torch_eval(text, values).detach().numpy()
        ok = ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=1e-11, atol=1e-13, equal_nan=True)
        counts["AGREE" if ok else "WRONG"] += 1
        if not ok:
            print(f"  WRONG {text}: {ours.ravel()[:4]} vs {theirs.ravel()[:4]}")
        names = [k for k in values if k in ("df", "S", "L", "X", "c", "V", "a", "b")]
        try:
            jac = api.jacobian(HEAD + text, values, wrt=names)
        except Exception as err:  # noqa: BLE001
            counts["JAC-ERROR"] += 1
            print(f"  JAC-ERROR {text}: {str(err).splitlines()[0][:110]}")
            continue
        for k in names:
            good = _jacobian_ok(text, values, k, np.asarray(jac[k]))
            counts["JAC-AGREE" if good else "JAC-WRONG"] += 1
            if not good:
                print(f"  JAC-WRONG {text} by {k}")
    print("V:", counts)


def section_r():
    counts = {"BOTH-REFUSE": 0, "WRONG": 0}
    for text, values in R_CASES:
        values = {"S": S, "X": X, **values}
        try:
            api.evaluate(HEAD + text, values)
            counts["WRONG"] += 1
            print(f"  WRONG (answered) {text}")
        except Exception:  # noqa: BLE001
            counts["BOTH-REFUSE"] += 1
    print("R:", counts)


def section_g():
    import mpmath as mp
    mp.mp.dps = 60
    counts = {"AGREE": 0, "WRONG": 0, "ERROR": 0}
    for c in (0.0, 5e-9, -7e-9, 1e-8):
        for x in (1.7, 0.9, 1e5):
            for method in ("log_prob", "cdf", "icdf"):
                if (method == "cdf" and x > 10) or (method != "icdf" and c < 0 and x > 1e4):
                    continue  # the cdf's derivatives underflow there; outside the support
                z = mp.mpf(x) - mp.mpf("0.5")
                ell = mp.log1p(-mp.mpf("0.3"))
                f = {"log_prob": lambda t: -(1 / t + 1) * mp.log1p(t * z) if t != 0 else -z,
                     "cdf": lambda t: -mp.expm1(-mp.log1p(t * z) / t) if t != 0 else -mp.expm1(-z),
                     "icdf": lambda t: mp.mpf("0.5") + mp.expm1(-t * ell) / t if t != 0 else mp.mpf("0.5") - ell}
                values = {"m": 0.5, "s": 1.0, "c": c, "x": x, "p": 0.3}
                code = HEAD + f"GeneralizedPareto(m, s, c).{method}({'p' if method == 'icdf' else 'x'})"
                for k in range(1, 7):
                    want = float(mp.diff(f[method], mp.mpf(c), k, h=mp.mpf("1e-12")))
                    try:
                        got = float(np.asarray(api.derivative(code, values, order=k, wrt=["c"])))
                    except Exception:  # noqa: BLE001
                        counts["ERROR"] += 1
                        continue
                    ok = math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-12 * max(1.0, abs(want)))
                    counts["AGREE" if ok else "WRONG"] += 1
    for text, values in (("GeneralizedPareto(m, s, c).log_prob(x)", {"c": 0.0, "x": math.inf}),
                         ("GeneralizedPareto(m, s, c).cdf(x)", {"c": 0.0, "x": math.inf}),
                         ("GeneralizedPareto(m, s, c).icdf(p)", {"c": 0.0, "p": 1.0}),
                         ("GeneralizedPareto(m, s, c).icdf(p)", {"c": 1e-9, "p": 1.0})):
        values = {"m": 0.0, "s": 1.0, **values}
        ours = float(api.evaluate(HEAD + text, values))
        theirs = float(_torch_eval(text, values))
        counts["AGREE" if ours == theirs else "WRONG"] += 1
    print("G:", counts)


def _reads(spelling: str) -> bool:
    """A call: a name jac reads fails on its arguments (or answers), one it does not is refused by name."""
    try:
        api.evaluate(f"import torch\n{spelling}(x)", {"x": 1.0})
        return True
    except Exception as err:  # noqa: BLE001
        return not any(w in str(err) for w in ("is not supported by jac", "unknown function", "no such name",
                                               "not a known constant", "has no module"))


def section_n():
    import torch.distributions as dists
    import torch.distributions.constraints as constraints
    import torch.distributions.transforms as transforms
    counts = {}
    for module, names in (("torch.distributions", dir(dists)), ("torch.distributions.transforms", transforms.__all__),
                          ("torch.distributions.constraints", constraints.__all__)):
        read, refused = [], []
        for name in sorted(n for n in names if not n.startswith("_")):
            inner = getattr(dists, name, None) if module == "torch.distributions" else None
            if inspect.ismodule(inner) and name not in ("transforms", "constraints"):  # a submodule: its classes
                spelled = [f"{module}.{name}.{n}" for n in getattr(inner, "__all__", ())]
                (read if spelled and all(_reads(s) for s in spelled) else refused).append(name)
            else:
                (read if _reads(f"{module}.{name}") else refused).append(name)
        counts[module] = (len(read), len(refused))
        print(f"  {module}: read {len(read)}, refused {len(refused)}: {', '.join(refused)}")
    print("N:", counts)


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["V", "R", "G", "N"]
    for key in wanted:
        globals()[f"section_{key.lower()}"]()
