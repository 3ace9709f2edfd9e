"""Session 39: the derivatives of special functions and reductions answered this session, against their references.

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/special39_probe.py [--points N])   (a few minutes)

Run it with PYTHONPATH of an older checkout for the "before" column (refused rows are counted as REFUSED).

1. gammainc by a (scipy.special / jax.scipy.special spelling through jac's API): a grid of a in 1e-3 .. 1e3 times x in
   1e-6 .. 1e3, points near the diagonal a ≈ x at large a, and random points in log scale, each against mpmath at 50
   digits (from the side whose function is not 1 - tiny); AGREE (relative 2e-12), WRONG, REFUSED; JAX's own
   jax.grad on the same points, counted the same way; points whose true derivative is below 1e-300 are left out.
2. np.var / np.std / jnp.var / jnp.std with where= (axes, ddof, keepdims), by x: jac's Jacobian against jax.jacrev
   (1e-12) and its value against NumPy's (1e-15): AGREE / WRONG / REFUSED.
3. torch.histogram (bins, range, weight, density, edges): values against PyTorch's (counts exact, edges 1e-15), the
   derivative refused where PyTorch's backward raises: AGREE / WRONG / REFUSED (the value refused).
4. hyp1f1 by a and by b (jax.scipy.special spelling) at random points (a in -5 .. 10, b in 0.1 .. 12, x in -40 .. 40),
   against mpmath at 40 digits (1e-12): AGREE / WRONG / REFUSED, for jac and for JAX's own jax.grad.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def _mp_da(a, x):
    import mpmath

    a, x = mpmath.mpf(a), mpmath.mpf(x)
    if x > a:
        return -float(mpmath.diff(lambda t: mpmath.gammainc(t, x, mpmath.inf, regularized=True), a))
    return float(mpmath.diff(lambda t: mpmath.gammainc(t, 0, x, regularized=True), a))


def points(n):
    rng = np.random.default_rng(39)
    ga, gx = np.meshgrid(10.0 ** np.linspace(-3, 3, 13), 10.0 ** np.linspace(-6, 3, 19))
    near = 10 ** rng.uniform(0, 3, n)
    a = np.concatenate([ga.ravel(), near, 10 ** rng.uniform(-3, 3, n)])
    x = np.concatenate([gx.ravel(), near * rng.uniform(0.9, 1.1, n), 10 ** rng.uniform(-6, 3, n)])
    return a, x


def gammainc_by_a(n):
    import mpmath
    import jax

    jax.config.update("jax_enable_x64", True)
    from jax.scipy.special import gammainc
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    mpmath.mp.dps = 50
    a, x = points(n)
    theirs = np.asarray(jax.vmap(jax.grad(gammainc, 0))(a, x))
    try:
        ours = api.jacobian("jax.scipy.special.gammainc(a, x)", {"a": a, "x": x}, wrt=["a"])["a"].diagonal()
    except JacError:
        ours = None
    counts = {"jac": {}, "jax": {}}
    worst = {"jac": 0.0, "jax": 0.0}
    for i in range(a.size):
        exact = _mp_da(a[i], x[i])
        if abs(exact) < 1e-300:
            continue
        for who, got in (("jac", None if ours is None else ours[i]), ("jax", theirs[i])):
            if got is None:
                key = "REFUSED"
            else:
                err = abs(got - exact) / abs(exact)
                worst[who] = max(worst[who], err) if np.isfinite(err) else np.inf
                key = "AGREE" if err <= 2e-12 else "WRONG"
                if err > 1e-12:
                    print(f"   {who} at a = {a[i]:.6g}, x = {x[i]:.6g}: relative error {err:.2g} (derivative {exact:.3g})")
            counts[who][key] = counts[who].get(key, 0) + 1
    for who in ("jac", "jax"):
        print(f"1. gammainc by a, {who}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts[who].items()))
              + f"; worst relative error {worst[who]:.2g}")


SPREADS = [("var", {}), ("std", {}), ("var", {"axis": 1}), ("std", {"axis": 0, "ddof": 1}),
           ("var", {"axis": 1, "ddof": 1, "keepdims": True}), ("std", {"axis": (0, 1)}), ("var", {"axis": 0}),
           ("std", {"axis": 1, "keepdims": True})]


def spreads():
    import jax
    import jax.numpy as jnp
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(5)
    counts = {}
    for trial in range(4):
        m = rng.normal(size=(3, 5))
        mask = m > -0.6
        if not (mask.sum(0) >= 2).all() or not (mask.sum(1) >= 2).all():
            mask = np.ones_like(mask)
        for lib in ("np", "jnp"):
            for fname, kw in SPREADS:
                extra = "".join(f", {k}={v}" for k, v in kw.items())
                cut = "-0.6" if not mask.all() else "-1e300"  # a slice of fewer than 2: every element instead
                text = f"{lib}.{fname}(x{extra}, where=x > {cut})"
                try:
                    value = api.evaluate(text, {"x": m})
                    jac = api.jacobian(text, {"x": m})["x"]
                except JacError:
                    counts["REFUSED"] = counts.get("REFUSED", 0) + 1
                    continue
                expected = getattr(np, fname)(m, where=mask, **kw)
                theirs = np.asarray(jax.jacrev(lambda v: getattr(jnp, fname)(v, where=jnp.asarray(mask), **kw))(m))
                ok = np.allclose(value, expected, rtol=1e-15, atol=0) and np.allclose(jac, theirs, rtol=1e-12,
                                                                                      atol=1e-14)
                counts["AGREE" if ok else "WRONG"] = counts.get("AGREE" if ok else "WRONG", 0) + 1
    print("2. var / std with where=: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


HISTOGRAMS = ["torch.histogram(x, 7)", "torch.histogram(x, bins=3, range=(0.0, 2.0))", "torch.histogram(x)",
              "torch.histogram(x, [0.0, 0.5, 0.75, 3.0])", "torch.histogram(x, 4, weight=w, density=True)",
              "torch.histogram(x, 5, weight=w)", "x.histogram(5)", "torch.histogram(x, 1)"]


def histograms():
    import torch
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    rng = np.random.default_rng(3)
    counts = {}
    for trial in range(5):
        x, w = rng.uniform(-0.5, 2.5, (4, 6)), rng.uniform(0.0, 1.0, (4, 6))
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        for text in HISTOGRAMS:
            spelled = text.replace("weight=w", "weight=tw").replace("(x", "(tx").replace("x.", "tx.").replace(
                "[0.0, 0.5, 0.75, 3.0]", "torch.tensor([0.0, 0.5, 0.75, 3.0], dtype=torch.float64)")
            theirs = eval(spelled)  # noqa: S307 - the probe's own texts
            values = {"x": x, "w": w} if "w" in text.replace("weight", "") else {"x": x}
            for part in ("hist", "bin_edges"):
                try:
                    ours = api.evaluate(f"{text}.{part}", values)
                except JacError:
                    counts["REFUSED"] = counts.get("REFUSED", 0) + 1
                    continue
                expected = getattr(theirs, part).detach().numpy()
                exact = part == "hist" and "density" not in text
                ok = np.array_equal(ours, expected) if exact else np.allclose(ours, expected, rtol=1e-15, atol=1e-15)
                try:
                    api.jacobian(f"{text}.{part}", values)
                    ok = False  # PyTorch's backward raises
                except JacError as err:
                    ok = ok and "aten::histogram" in err.message
                counts["AGREE" if ok else "WRONG"] = counts.get("AGREE" if ok else "WRONG", 0) + 1
    print("3. torch.histogram: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def hyp1f1_by_parameters(n):
    import mpmath
    import jax

    jax.config.update("jax_enable_x64", True)
    from jax.scipy.special import hyp1f1
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    mpmath.mp.dps = 40
    rng = np.random.default_rng(11)
    a, b, x = rng.uniform(-5, 10, n), rng.uniform(0.1, 12, n), rng.uniform(-40, 40, n)
    counts = {"jac": {}, "jax": {}}
    for index, name in enumerate("ab"):
        theirs = np.asarray(jax.vmap(jax.grad(hyp1f1, index))(a, b, x))
        for i in range(n):
            exact = float(mpmath.diff(lambda t: mpmath.hyp1f1(t, b[i], x[i]) if index == 0 else
                                      mpmath.hyp1f1(a[i], t, x[i]), (a[i], b[i])[index]))
            try:
                ours = float(api.jacobian("jax.scipy.special.hyp1f1(a, b, x)",
                                          {"a": np.array(a[i]), "b": np.array(b[i]), "x": np.array(x[i])},
                                          wrt=[name])[name])
            except JacError:
                ours = None
            for who, got in (("jac", ours), ("jax", theirs[i])):
                key = "REFUSED" if got is None else ("AGREE" if abs(got - exact) <= 1e-12 * abs(exact) else "WRONG")
                counts[who][key] = counts[who].get(key, 0) + 1
    for who in ("jac", "jax"):
        print(f"4. hyp1f1 by a and b, {who}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts[who].items())))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100, help="random points of each kind in part 1")
    args = parser.parse_args()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        gammainc_by_a(args.points)
        spreads()
        histograms()
        hyp1f1_by_parameters(args.points)


if __name__ == "__main__":
    main()
