"""Realistic snippets, third batch (session 35): finance, statistics, signal processing, optimization, ML losses
and layers, physics, geometry and control, as tutorials and notebooks write them (one library per snippet: PyTorch,
JAX or NumPy / SciPy; helper functions, loops, lists, dicts, tuples, in-place updates), run by the jac of the
checkout TREE and by the library itself through snippets33_probe's harness (PyTorch float64 autograd, JAX x64
``jacrev``, NumPy's value and central differences), as snippets34_probe.py runs them:

    PYTHONPATH=. /work/venv/bin/python benchmarks/snippets35_probe.py [TREE] [-k SUBSTRING] [-v] [--cli N]

REFUSED: jac refuses and the library answers; REFUSED-AS-LIB: the library raises too; DOCUMENTED: a difference
jac makes on purpose (``DOCUMENTED``: the library's NaN where jac's derivative is the finite one). ``--cli N`` also runs every
Nth snippet jac answers through ``jac eval @file NAME=@file.npy --json`` in a subprocess and compares its value and
Jacobians with the API's (CLI-DIFF when they differ). Prints one line per snippet not AGREE (all with -v), then the
counts. Exit 1 on WRONG, CRASH or CLI-DIFF. Run by hand.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snippets33_probe as h  # noqa: E402 - the harness: references, run_jac, classify
from snippets34_probe import _torch_unchecked  # noqa: E402

rng = np.random.default_rng(3535)


def n(*shape):
    return rng.standard_normal(shape)


def u(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


def spd(k, jitter=1.0):
    a = n(k, k)
    return a @ a.T / k + jitter * np.eye(k)


SNIPPETS: list[h.Snippet] = []


def S(name, lib, code, **inputs):
    SNIPPETS.append(h.Snippet(name, lib, code.strip("\n"), inputs))


TORCH, JAX, NP = h.TORCH, h.JAX, h.NP

# ================================================================================================ finance
S("BS call Normal cdf delta autograd.grad", "torch", TORCH + """
from torch.distributions import Normal

def bs_call(S, K, T, r, sigma):
    N = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    d1 = (torch.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * torch.sqrt(T))
    d2 = d1 - sigma * torch.sqrt(T)
    return S * N.cdf(d1) - K * torch.exp(-r * T) * N.cdf(d2)

price = bs_call(S, K, T, r, sigma)
delta, = torch.autograd.grad(price.sum(), S, create_graph=True)
price + delta
""", S=np.array([95.0, 100.0, 110.0]), K=np.array(100.0), T=np.array(0.5), r=np.array(0.03),
  sigma=np.array(0.25))
S("BS put scipy norm and parity", "numpy", NP + """
from scipy.stats import norm

def d1_d2(S, K, T, r, sigma):
    d1 = (np.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * np.sqrt(T))
    return d1, d1 - sigma * np.sqrt(T)

d1, d2 = d1_d2(S, K, T, r, sigma)
call = S * norm.cdf(d1) - K * np.exp(-r * T) * norm.cdf(d2)
put = K * np.exp(-r * T) * norm.cdf(-d2) - S * norm.cdf(-d1)
np.array([call, put, call - put - (S - K * np.exp(-r * T))])
""", S=np.array(102.0), K=np.array(100.0), T=np.array(0.75), r=np.array(0.02), sigma=np.array(0.3))
S("BS greeks closed form numpy", "numpy", NP + """
from scipy.stats import norm

def greeks(S, K, T, r, sigma):
    sqrtT = np.sqrt(T)
    d1 = (np.log(S / K) + (r + 0.5 * sigma**2) * T) / (sigma * sqrtT)
    d2 = d1 - sigma * sqrtT
    delta = norm.cdf(d1)
    gamma = norm.pdf(d1) / (S * sigma * sqrtT)
    vega = S * norm.pdf(d1) * sqrtT
    theta = -S * norm.pdf(d1) * sigma / (2 * sqrtT) - r * K * np.exp(-r * T) * norm.cdf(d2)
    return {"delta": delta, "gamma": gamma, "vega": vega, "theta": theta}

g = greeks(S, K, T, r, sigma)
np.stack([g["delta"], g["gamma"], g["vega"] / 100, g["theta"] / 365])
""", S=np.array([90.0, 105.0]), K=np.array(100.0), T=np.array(1.0), r=np.array(0.05), sigma=np.array(0.2))
S("BS vega jax.grad vmap strikes", "jax", JAX + """
from jax.scipy.stats import norm

def call_price(sigma, S, K, T, r):
    d1 = (jnp.log(S / K) + (r + 0.5 * sigma**2) * T) / (sigma * jnp.sqrt(T))
    d2 = d1 - sigma * jnp.sqrt(T)
    return S * norm.cdf(d1) - K * jnp.exp(-r * T) * norm.cdf(d2)

vega = jax.vmap(jax.grad(call_price), in_axes=(None, None, 0, None, None))(sigma, S, K, T, r)
vega + call_price(sigma, S, K, T, r)
""", sigma=np.array(0.22), S=np.array(100.0), K=np.array([90.0, 100.0, 115.0]), T=np.array(0.5),
  r=np.array(0.01))
S("implied vol Newton torch", "torch", TORCH + """
def norm_cdf(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))

def norm_pdf(x):
    return torch.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)

def bs(S, K, T, r, vol):
    d1 = (torch.log(S / K) + (r + 0.5 * vol ** 2) * T) / (vol * T ** 0.5)
    d2 = d1 - vol * T ** 0.5
    return S * norm_cdf(d1) - K * torch.exp(-r * T) * norm_cdf(d2), d1

vol = torch.full_like(price, 0.3)
for _ in range(6):
    p, d1 = bs(S, K, T, r, vol)
    vega = S * norm_pdf(d1) * T ** 0.5
    vol = vol - (p - price) / vega
vol
""", price=np.array([8.0, 12.5]), S=np.array(100.0), K=np.array(100.0), T=np.array(1.0), r=np.array(0.02))
S("Bachelier normal model numpy", "numpy", NP + """
from scipy.stats import norm
d = (F - K) / (sigma * np.sqrt(T))
price = (F - K) * norm.cdf(d) + sigma * np.sqrt(T) * norm.pdf(d)
price * np.exp(-r * T)
""", F=np.array([0.02, 0.025, 0.03]), K=np.array(0.025), sigma=np.array(0.008), T=np.array(2.0),
  r=np.array(0.01))
S("digital option jax norm.cdf", "jax", JAX + """
import jax.scipy.stats as st
d2 = (jnp.log(S / K) + (r - 0.5 * sigma ** 2) * T) / (sigma * jnp.sqrt(T))
payout * jnp.exp(-r * T) * st.norm.cdf(d2)
""", S=np.array([95.0, 100.0, 105.0]), K=np.array(100.0), r=np.array(0.03), sigma=np.array(0.2),
  T=np.array(0.25), payout=np.array(10.0))
S("Black-76 on futures numpy ndtr", "numpy", NP + """
from scipy.special import ndtr
sd = sigma * np.sqrt(T)
d1 = (np.log(F / K) + 0.5 * sd ** 2) / sd
d2 = d1 - sd
np.exp(-r * T) * (F * ndtr(d1) - K * ndtr(d2))
""", F=np.array([78.0, 80.0, 83.0]), K=np.array([80.0, 80.0, 80.0]), sigma=np.array(0.35), T=np.array(0.4),
  r=np.array(0.04))
S("portfolio variance softmax weights torch", "torch", TORCH + """
w = torch.softmax(logits, dim=0)
port_ret = w @ mu
port_var = w @ Sigma @ w
port_vol = torch.sqrt(port_var)
sharpe = (port_ret - rf) / port_vol
-sharpe + 0.5 * risk_aversion * port_var
""", logits=n(4), mu=u(0.02, 0.12, 4), Sigma=spd(4, 0.05) * 0.1, rf=np.array(0.01), risk_aversion=np.array(3.0))
S("log returns Sharpe numpy ddof", "numpy", NP + """
log_ret = np.log(prices[1:] / prices[:-1])
mu = log_ret.mean() * 252
vol = log_ret.std(ddof=1) * np.sqrt(252)
mu / vol
""", prices=100 * np.exp(np.cumsum(0.01 * n(10))))
S("log returns torch diff log", "torch", TORCH + """
r = torch.diff(torch.log(prices), dim=0)
mean = r.mean(dim=0)
cov = (r - mean).T @ (r - mean) / (r.shape[0] - 1)
w = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
torch.stack([w @ mean, w @ cov @ w])
""", prices=100 * np.exp(np.cumsum(0.01 * n(8, 3), axis=0)))
S("minimum variance portfolio solve", "torch", TORCH + """
ones = torch.ones(Sigma.shape[0], dtype=Sigma.dtype)
x = torch.linalg.solve(Sigma, ones)
w = x / x.sum()
torch.cat([w, torch.sqrt(w @ Sigma @ w).reshape(1)])
""", Sigma=spd(3, 0.2))
S("mean-variance utility jax", "jax", JAX + """
def utility(w, mu, cov, gamma=4.0):
    w = w / jnp.sum(w)
    return w @ mu - 0.5 * gamma * w @ cov @ w

grads = jax.grad(utility)(w, mu, cov)
utility(w, mu, cov) + jnp.sum(grads ** 2)
""", w=u(0.1, 1.0, 4), mu=u(0.01, 0.1, 4), cov=spd(4, 0.1) * 0.05)
S("CAPM beta np.cov np.var", "numpy", NP + """
beta = np.cov(r, m)[0, 1] / np.var(m, ddof=1)
alpha = r.mean() - beta * m.mean()
np.array([alpha, beta])
""", r=0.01 * n(12), m=0.01 * n(12))
S("bond price duration loop", "numpy", NP + """
def bond_price(y, coupon=5.0, face=100.0, years=5):
    price = 0.0
    for t in range(1, years + 1):
        cf = coupon + (face if t == years else 0.0)
        price += cf / (1 + y) ** t
    return price

p = bond_price(y)
dp = (bond_price(y + 1e-4) - bond_price(y - 1e-4)) / 2e-4
np.array([p, -dp / p])
""", y=np.array(0.043))
S("discount factors cumprod torch", "torch", TORCH + """
df = torch.cumprod(1.0 / (1.0 + fwd), dim=0)
cashflows = torch.tensor([3.0, 3.0, 3.0, 103.0], dtype=torch.float64)
pv = (df * cashflows).sum()
par = (1 - df[-1]) / df.sum()
torch.stack([pv, par])
""", fwd=u(0.01, 0.05, 4))
S("GBM Monte Carlo call fixed normals", "numpy", NP + """
dt = T / Z.shape[1]
log_paths = np.cumsum((r - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * Z, axis=1)
ST = S0 * np.exp(log_paths[:, -1])
payoff = np.maximum(ST - K, 0.0)
np.exp(-r * T) * payoff.mean()
""", S0=np.array(100.0), K=np.array(95.0), r=np.array(0.02), sigma=np.array(0.2), T=np.array(1.0), Z=n(6, 4))
S("parametric VaR norm.ppf jax", "jax", JAX + """
from jax.scipy.stats import norm
mu_p = w @ mu
sd_p = jnp.sqrt(w @ cov @ w)
var99 = -(mu_p + sd_p * norm.ppf(0.01))
es99 = -(mu_p - sd_p * norm.pdf(norm.ppf(0.01)) / 0.01)
jnp.array([var99, es99])
""", w=np.array([0.4, 0.35, 0.25]), mu=u(0.0, 0.01, 3), cov=spd(3, 0.1) * 1e-3)
S("RiskMetrics EWMA covariance loop", "torch", TORCH + """
lam = 0.94
cov = torch.outer(returns[0], returns[0])
for t in range(1, returns.shape[0]):
    cov = lam * cov + (1 - lam) * torch.outer(returns[t], returns[t])
cov
""", returns=0.01 * n(6, 2))
S("CRRA utility Kelly growth", "numpy", NP + """
wealth = 1 + f * outcomes
growth = np.sum(p * np.log(wealth))
crra = np.sum(p * (wealth ** (1 - 3.0) - 1) / (1 - 3.0))
np.array([growth, crra])
""", f=np.array(0.3), outcomes=np.array([1.0, -0.5, 0.2]), p=np.array([0.3, 0.3, 0.4]))
S("binomial tree CRR backward induction", "numpy", NP + """
def crr_call(S0, K, T, r, sigma, steps=6):
    dt = T / steps
    up = np.exp(sigma * np.sqrt(dt))
    down = 1 / up
    q = (np.exp(r * dt) - down) / (up - down)
    j = np.arange(steps + 1)
    values = np.maximum(S0 * up ** j * down ** (steps - j) - K, 0.0)
    for i in range(steps, 0, -1):
        values = np.exp(-r * dt) * (q * values[1:i + 1] + (1 - q) * values[0:i])
    return values[0]

crr_call(S0, K, T, r, sigma)
""", S0=np.array(100.0), K=np.array(101.0), T=np.array(1.0), r=np.array(0.03), sigma=np.array(0.25))
S("American put binomial max early exercise torch", "torch", TORCH + """
steps = 5
dt = T / steps
u_ = torch.exp(sigma * torch.sqrt(dt))
d_ = 1 / u_
p = (torch.exp(r * dt) - d_) / (u_ - d_)
j = torch.arange(steps + 1, dtype=torch.float64)
V = torch.clamp(K - S0 * u_ ** j * d_ ** (steps - j), min=0.0)
for i in range(steps - 1, -1, -1):
    j = torch.arange(i + 1, dtype=torch.float64)
    cont = torch.exp(-r * dt) * (p * V[1:i + 2] + (1 - p) * V[:i + 1])
    V = torch.maximum(cont, K - S0 * u_ ** j * d_ ** (i - j))
V[0]
""", S0=np.array(100.0), K=np.array(104.0), T=np.array(1.0), r=np.array(0.03), sigma=np.array(0.3))
S("max drawdown of cumulative log returns jax", "jax", JAX + """
wealth = jnp.exp(jnp.cumsum(r))
peak = jax.lax.cummax(wealth, axis=0)
dd = 1 - wealth / peak
jnp.max(dd) + jnp.mean(dd)
""", r=np.array([0.01, 0.03, -0.02, -0.015, 0.025, -0.04, 0.01]))

# ============================================================================================= statistics
S("Gaussian GLM log-likelihood torch", "torch", TORCH + """
def log_lik(beta, log_sigma, X, y):
    mu = X @ beta
    sigma = torch.exp(log_sigma)
    n = y.shape[0]
    return -0.5 * n * math.log(2 * math.pi) - n * log_sigma - 0.5 * torch.sum((y - mu) ** 2) / sigma ** 2

-log_lik(beta, log_sigma, X, y)
""", beta=n(3), log_sigma=np.array(-0.2), X=n(8, 3), y=n(8))
S("logistic regression L2 logaddexp numpy", "numpy", NP + """
def nll(w, X, y, lam=0.1):
    z = X @ w
    loss = np.sum(np.logaddexp(0, z) - y * z)
    return loss + 0.5 * lam * np.dot(w, w)

nll(w, X, y)
""", w=n(3), X=n(10, 3), y=np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1]))
S("logistic regression jax log_sigmoid L2", "jax", JAX + """
def loss(params, X, y, l2=1e-2):
    logits = X @ params["w"] + params["b"]
    ll = y * jax.nn.log_sigmoid(logits) + (1 - y) * jax.nn.log_sigmoid(-logits)
    return -jnp.mean(ll) + l2 * jnp.sum(params["w"] ** 2)

params = {"w": w, "b": b}
g = jax.grad(loss)(params, X, y)
loss(params, X, y) + 0.1 * jnp.sum(g["w"] ** 2) + g["b"] ** 2
""", w=n(3), b=np.array(0.1), X=n(7, 3), y=np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]))
S("logistic regression torch BCE weight_decay sum", "torch", TORCH + """
logits = X @ w + b
loss = F.binary_cross_entropy_with_logits(logits, y.double())
loss = loss + 1e-2 * w.pow(2).sum()
loss
""", w=n(3), b=np.array(-0.2), X=n(9, 3), y=np.array([1, 0, 0, 1, 1, 0, 1, 0, 1]))
S("Poisson regression F.poisson_nll_loss", "torch", TORCH + """
log_rate = X @ beta
F.poisson_nll_loss(log_rate, counts, log_input=True, full=True)
""", beta=0.3 * n(3), X=n(8, 3), counts=np.array([0.0, 2.0, 1.0, 4.0, 0.0, 3.0, 1.0, 2.0]))
S("Poisson regression numpy gammaln", "numpy", NP + """
from scipy.special import gammaln
eta = X @ beta
lam = np.exp(eta)
loglik = np.sum(y * eta - lam - gammaln(y + 1))
-loglik / len(y)
""", beta=0.3 * n(3), X=n(8, 3), y=np.array([0, 2, 1, 4, 0, 3, 1, 2]))
S("Poisson regression Newton IRLS step", "numpy", NP + """
for it in range(3):
    mu = np.exp(X @ beta)
    grad = X.T @ (y - mu)
    H = X.T @ (mu[:, None] * X)
    beta = beta + np.linalg.solve(H, grad)
beta
""", beta=np.zeros(2) + 0.1 * n(2), X=np.column_stack([np.ones(8), np.linspace(-1, 1, 8)]),
  y=np.array([1.0, 0.0, 2.0, 1.0, 3.0, 2.0, 4.0, 5.0]))
S("GP marginal likelihood numpy cholesky solve_triangular", "numpy", NP + """
from scipy.linalg import solve_triangular

def rbf(A, B, ell, sf):
    d2 = np.sum(A**2, 1)[:, None] + np.sum(B**2, 1)[None, :] - 2 * A @ B.T
    return sf**2 * np.exp(-0.5 * d2 / ell**2)

K = rbf(X, X, ell, sf) + noise**2 * np.eye(len(X))
L = np.linalg.cholesky(K)
alpha = solve_triangular(L.T, solve_triangular(L, y, lower=True), lower=False)
0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * len(X) * np.log(2 * np.pi)
""", X=n(6, 2), y=n(6), ell=np.array(0.9), sf=np.array(1.2), noise=np.array(0.3))
S("GP Matern32 torch cdist cholesky", "torch", TORCH + """
def matern32(x1, x2, lengthscale, outputscale):
    r = torch.cdist(x1, x2) / lengthscale
    return outputscale * (1 + math.sqrt(3) * r) * torch.exp(-math.sqrt(3) * r)

K = matern32(X, X, ls, os) + 0.1 * torch.eye(X.shape[0])
L = torch.linalg.cholesky(K)
alpha = torch.cholesky_solve(y.unsqueeze(-1), L)
0.5 * (y.unsqueeze(-1) * alpha).sum() + torch.log(torch.diagonal(L)).sum()
""", X=n(5, 2), y=n(5), ls=np.array(1.1), os=np.array(0.8))
S("cholesky of a kernel between shifted points", "torch", TORCH + """
r = torch.cdist(X, X + 0.01) / ls
K = (1 + math.sqrt(3) * r) * torch.exp(-math.sqrt(3) * r) + 0.1 * torch.eye(X.shape[0])
L = torch.linalg.cholesky(K)
torch.log(torch.diagonal(L)).sum() + L.sum()
""", X=n(5, 2), ls=np.array(1.1))
S("GP marginal likelihood jax dict params", "jax", JAX + """
def kernel(params, x1, x2):
    sq = (x1[:, None] - x2[None, :]) ** 2
    return jnp.exp(params["log_amp"]) * jnp.exp(-0.5 * sq / jnp.exp(params["log_ls"]) ** 2)

def neg_mll(params, x, y):
    K = kernel(params, x, x) + jnp.exp(params["log_noise"]) * jnp.eye(x.shape[0])
    L = jnp.linalg.cholesky(K)
    a = jax.scipy.linalg.cho_solve((L, True), y)
    return 0.5 * y @ a + jnp.sum(jnp.log(jnp.diag(L))) + 0.5 * x.shape[0] * jnp.log(2 * jnp.pi)

params = {"log_amp": log_amp, "log_ls": log_ls, "log_noise": jnp.log(0.05)}
neg_mll(params, x, y)
""", log_amp=np.array(0.2), log_ls=np.array(-0.3), x=np.linspace(0, 2, 6), y=np.sin(np.linspace(0, 2, 6)) + 0.1 * n(6))
S("KDE log density scipy logsumexp", "numpy", NP + """
from scipy.special import logsumexp

def kde_logpdf(x, data, bw):
    z = (x[:, None] - data[None, :]) / bw
    log_k = -0.5 * z**2 - np.log(bw) - 0.5 * np.log(2 * np.pi)
    return logsumexp(log_k, axis=1) - np.log(len(data))

kde_logpdf(x, data, bw)
""", x=np.array([-0.5, 0.0, 0.7]), data=n(7), bw=np.array(0.4))
S("KDE torch logsumexp 2-D", "torch", TORCH + """
diff = query.unsqueeze(1) - samples.unsqueeze(0)
log_kernel = -0.5 * (diff ** 2).sum(-1) / h ** 2 - samples.shape[1] * torch.log(h) - math.log(2 * math.pi)
torch.logsumexp(log_kernel, dim=1) - math.log(samples.shape[0])
""", query=n(3, 2), samples=n(6, 2), h=np.array(0.6))
S("Gaussian mixture jax logsumexp softmax weights", "jax", JAX + """
from jax.scipy.special import logsumexp

def gmm_loglik(x, logits, means, log_stds):
    log_w = jax.nn.log_softmax(logits)
    z = (x[:, None] - means[None, :]) / jnp.exp(log_stds)
    log_p = -0.5 * z ** 2 - log_stds - 0.5 * jnp.log(2 * jnp.pi)
    return jnp.sum(logsumexp(log_w + log_p, axis=-1))

gmm_loglik(x, logits, means, log_stds)
""", x=n(8), logits=n(3), means=np.array([-1.0, 0.0, 1.5]), log_stds=np.array([-0.3, 0.0, 0.2]))
S("mixture scipy.stats.norm.logpdf", "numpy", NP + """
from scipy.stats import norm
from scipy.special import logsumexp
comp = np.stack([np.log(w[k]) + norm.logpdf(x, loc=mu[k], scale=sd[k]) for k in range(len(w))])
logsumexp(comp, axis=0).sum()
""", x=n(6), w=np.array([0.3, 0.7]), mu=np.array([-1.0, 1.0]), sd=np.array([0.5, 1.2]))
S("mixture EM responsibilities torch", "torch", TORCH + """
log_prob = -0.5 * ((x[:, None] - mu[None, :]) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
log_resp = log_prob + torch.log(pi)
resp = torch.softmax(log_resp, dim=1)
Nk = resp.sum(0)
new_mu = (resp * x[:, None]).sum(0) / Nk
new_mu + torch.logsumexp(log_resp, 1).sum()
""", x=n(7), mu=np.array([-0.8, 0.9]), sigma=np.array([0.7, 1.1]), pi=np.array([0.4, 0.6]))
S("Student-t log-likelihood gammaln", "numpy", NP + """
from scipy.special import gammaln

def t_loglik(x, mu, scale, nu):
    z = (x - mu) / scale
    return np.sum(gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - np.log(scale)
                  - (nu + 1) / 2 * np.log1p(z ** 2 / nu))

t_loglik(x, mu, scale, nu)
""", x=n(6), mu=np.array(0.1), scale=np.array(1.3), nu=np.array(4.5))
S("probit regression Normal cdf torch", "torch", TORCH + """
normal = torch.distributions.Normal(0.0, 1.0)
p = normal.cdf(X @ beta).clamp(1e-9, 1 - 1e-9)
-(y * torch.log(p) + (1 - y) * torch.log1p(-p)).sum()
""", beta=0.5 * n(2), X=n(7, 2), y=np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]))
S("Bayesian linear regression evidence slogdet", "numpy", NP + """
N, D = Phi.shape
A = alpha * np.eye(D) + beta * Phi.T @ Phi
m = beta * np.linalg.solve(A, Phi.T @ t)
E = beta / 2 * np.sum((t - Phi @ m) ** 2) + alpha / 2 * m @ m
sign, logdetA = np.linalg.slogdet(A)
D / 2 * np.log(alpha) + N / 2 * np.log(beta) - E - 0.5 * logdetA - N / 2 * np.log(2 * np.pi)
""", Phi=n(8, 3), t=n(8), alpha=np.array(0.5), beta=np.array(2.0))
S("Dirichlet log density torch lgamma", "torch", TORCH + """
def dirichlet_log_prob(x, alpha):
    return (torch.lgamma(alpha.sum(-1)) - torch.lgamma(alpha).sum(-1)
            + ((alpha - 1) * torch.log(x)).sum(-1))

x = torch.softmax(z, dim=-1)
dirichlet_log_prob(x, torch.exp(log_alpha)).sum()
""", z=n(3, 4), log_alpha=n(4) * 0.3)
S("beta-binomial log pmf jax betaln", "jax", JAX + """
from jax.scipy.special import betaln, gammaln

def log_binom(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)

def bb_logpmf(k, n, a, b):
    return log_binom(n, k) + betaln(k + a, n - k + b) - betaln(a, b)

bb_logpmf(k, 10.0, a, b).sum()
""", k=np.array([0.0, 3.0, 7.0, 10.0]), a=np.array(2.0), b=np.array(3.5))
S("weighted mean variance jax", "jax", JAX + """
w = jax.nn.softmax(s)
mean = jnp.sum(w * x)
var = jnp.sum(w * (x - mean) ** 2)
ess = 1.0 / jnp.sum(w ** 2)
jnp.stack([mean, var, ess])
""", s=n(6), x=n(6))
S("softmax regression numpy one-hot eye", "numpy", NP + """
K = 3
Y = np.eye(K)[labels]
logits = X @ W
logits = logits - logits.max(axis=1, keepdims=True)
log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
-(Y * log_probs).sum() / len(X) + 0.01 * (W ** 2).sum()
""", X=n(6, 4), W=0.5 * n(4, 3), labels=np.array([0, 2, 1, 1, 0, 2]))
S("Gamma GLM log link torch", "torch", TORCH + """
mu = torch.exp(X @ beta)
shape = torch.exp(log_shape)
ll = shape * torch.log(shape / mu) + (shape - 1) * torch.log(y) - shape * y / mu - torch.lgamma(shape)
-ll.mean()
""", beta=0.3 * n(3), log_shape=np.array(0.5), X=n(8, 3), y=u(0.3, 3.0, 8))
S("np.corrcoef correlation loss", "numpy", NP + """
C = np.corrcoef(X, rowvar=False)
off = C - np.diag(np.diag(C))
np.sum(off ** 2)
""", X=n(8, 3))
S("Mahalanobis distance torch solve", "torch", TORCH + """
diff = x - mu
d2 = (diff * torch.linalg.solve(Sigma, diff.T).T).sum(-1)
torch.sqrt(d2)
""", x=n(4, 3), mu=n(3), Sigma=spd(3))
S("multivariate normal logpdf by hand numpy", "numpy", NP + """
def mvn_logpdf(x, mean, cov):
    d = len(mean)
    diff = x - mean
    sign, logdet = np.linalg.slogdet(cov)
    maha = np.einsum('ij,jk,ik->i', diff, np.linalg.inv(cov), diff)
    return -0.5 * (d * np.log(2 * np.pi) + logdet + maha)

mvn_logpdf(x, mean, cov)
""", x=n(4, 3), mean=n(3), cov=spd(3))
S("AR(1) exact log-likelihood jax", "jax", JAX + """
def ar1_loglik(phi, sigma, x):
    n = x.shape[0]
    var0 = sigma ** 2 / (1 - phi ** 2)
    ll0 = -0.5 * (jnp.log(2 * jnp.pi * var0) + x[0] ** 2 / var0)
    resid = x[1:] - phi * x[:-1]
    ll = -0.5 * jnp.sum(jnp.log(2 * jnp.pi * sigma ** 2) + resid ** 2 / sigma ** 2)
    return ll0 + ll

ar1_loglik(phi, sigma, x)
""", phi=np.array(0.6), sigma=np.array(0.9), x=n(9))
S("lasso objective soft threshold numpy", "numpy", NP + """
def soft_threshold(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)

w = np.zeros(X.shape[1])
step = 0.1
for _ in range(20):
    w = soft_threshold(w - step * X.T @ (X @ w - y) / len(y), step * lam)
0.5 * np.mean((X @ w - y) ** 2) + lam * np.abs(w).sum()
""", X=n(10, 3), y=n(10), lam=np.array(0.05))

# ====================================================================================== signal processing
S("np.convolve same gaussian smoothing", "numpy", NP + """
t = np.arange(-3, 4)
kernel = np.exp(-t ** 2 / (2 * sigma ** 2))
kernel = kernel / kernel.sum()
smooth = np.convolve(x, kernel, mode='same')
np.sum((smooth - x) ** 2)
""", x=n(12), sigma=np.array(1.3))
S("F.conv1d learned filter stride 2", "torch", TORCH + """
x = signal.view(1, 1, -1)
w = taps.view(1, 1, -1)
y = F.conv1d(x, w, stride=2, padding=2)
y.squeeze()
""", signal=n(11), taps=n(5))
S("F.conv1d depthwise groups", "torch", TORCH + """
out = F.conv1d(x.unsqueeze(0), w.unsqueeze(1), bias=b, groups=3, padding='same')
out.pow(2).mean()
""", x=n(3, 9), w=n(3, 3), b=n(3))
S("moving average cumsum trick", "numpy", NP + """
def moving_average(a, n=3):
    ret = np.cumsum(a, dtype=float)
    ret[n:] = ret[n:] - ret[:-n]
    return ret[n - 1:] / n

moving_average(x, n=4)
""", x=n(10))
S("moving average torch unfold", "torch", TORCH + """
windows = x.unfold(0, 4, 1)
windows.mean(dim=-1)
""", x=n(9))
S("moving average F.avg_pool1d", "torch", TORCH + """
ma = F.avg_pool1d(x.view(1, 1, -1), kernel_size=3, stride=1)
ma.flatten() - x[1:-1]
""", x=n(8))
S("jnp.convolve valid both inputs", "jax", JAX + """
y = jnp.convolve(x, h, mode='valid')
jnp.sum(y ** 2) + y[0]
""", x=n(9), h=n(3))
S("jax.scipy.signal.convolve", "jax", JAX + """
from jax.scipy.signal import convolve
y = convolve(x, kernel, mode='same')
jnp.mean((y - target) ** 2)
""", x=n(10), kernel=np.array([0.25, 0.5, 0.25]), target=n(10))
S("first-order IIR filter list append", "numpy", NP + """
def lowpass(x, alpha):
    y = [x[0]]
    for n in range(1, len(x)):
        y.append(alpha * x[n] + (1 - alpha) * y[-1])
    return np.array(y)

lowpass(x, alpha)
""", x=n(8), alpha=np.array(0.3))
S("biquad filter direct form torch list", "torch", TORCH + """
def biquad(x, b, a):
    y = []
    x1 = x2 = y1 = y2 = torch.zeros((), dtype=x.dtype)
    for n in range(x.shape[0]):
        yn = b[0] * x[n] + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2
        x2, x1 = x1, x[n]
        y2, y1 = y1, yn
        y.append(yn)
    return torch.stack(y)

biquad(x, b, a)
""", x=n(8), b=np.array([0.2, 0.4, 0.2]), a=np.array([-0.5, 0.2]))
S("IIR filter jax lax.scan", "jax", JAX + """
def step(carry, xn):
    y = a * carry + (1 - a) * xn
    return y, y

_, ys = jax.lax.scan(step, 0.0, x)
ys
""", x=n(7), a=np.array(0.8))
S("Savitzky-Golay via lstsq per window", "numpy", NP + """
def savgol(y, window=5, order=2):
    half = window // 2
    t = np.arange(-half, half + 1)
    A = np.vander(t, order + 1)
    out = []
    for i in range(half, len(y) - half):
        coef, *_ = np.linalg.lstsq(A, y[i - half:i + half + 1], rcond=None)
        out.append(coef[-1])
    return np.array(out)

savgol(y)
""", y=n(10))
S("Savitzky-Golay pinv conv1d torch", "torch", TORCH + """
half, order = 3, 2
t = torch.arange(-half, half + 1, dtype=torch.float64)
A = torch.stack([t ** k for k in range(order + 1)], dim=1)
coeffs = torch.linalg.pinv(A)[0]
F.conv1d(y.view(1, 1, -1), coeffs.flip(0).view(1, 1, -1)).flatten()
""", y=n(12))
S("total variation denoising objective jax", "jax", JAX + """
def tv_objective(u, f, lam=0.3, eps=1e-3):
    fidelity = 0.5 * jnp.sum((u - f) ** 2)
    tv = jnp.sum(jnp.sqrt(jnp.diff(u) ** 2 + eps))
    return fidelity + lam * tv

u = f
for _ in range(5):
    u = u - 0.2 * jax.grad(tv_objective)(u, f)
u
""", f=n(8))
S("autocorrelation np.correlate full", "numpy", NP + """
xc = x - x.mean()
acf = np.correlate(xc, xc, mode='full')[len(x) - 1:]
acf[:4] / acf[0]
""", x=n(10))
S("Whittaker smoother solve second differences", "numpy", NP + """
m = len(y)
D = np.diff(np.eye(m), n=2, axis=0)
z = np.linalg.solve(np.eye(m) + lam * D.T @ D, y)
z
""", y=n(8), lam=np.array(2.0))
S("Hann window energy numpy", "numpy", NP + """
N = len(x)
window = np.hanning(N)
xw = x * window
np.sum(xw ** 2) / np.sum(window ** 2)
""", x=n(9))
S("torch.hann_window spectral energy", "torch", TORCH + """
win = torch.hann_window(x.shape[-1], periodic=False, dtype=torch.float64)
xw = (x - x.mean()) * win
(xw ** 2).sum() / (win ** 2).sum()
""", x=n(9))
S("pre-emphasis and frame energy torch", "torch", TORCH + """
emph = torch.cat([x[:1], x[1:] - 0.97 * x[:-1]])
frames = emph.unfold(0, 4, 2)
torch.log((frames ** 2).sum(-1) + 1e-8)
""", x=n(10))
S("matched filter np.correlate valid", "numpy", NP + """
out = np.correlate(x, template, mode='valid')
out / np.linalg.norm(template)
""", x=n(9), template=n(4))

# ============================================================================================ optimization
S("one gradient descent step autograd.grad", "torch", TORCH + """
def loss_fn(w):
    return ((X @ w - y) ** 2).mean()

g, = torch.autograd.grad(loss_fn(w), w, create_graph=True)
w_new = w - 0.1 * g
loss_fn(w_new)
""", w=n(3), X=n(6, 3), y=n(6))
S("Adam steps by hand torch", "torch", TORCH + """
def grad_f(p):
    return 2 * (A @ p - b) @ A

m = torch.zeros_like(p0)
v = torch.zeros_like(p0)
p = p0
beta1, beta2, lr, eps = 0.9, 0.999, 0.05, 1e-8
for t in range(1, 4):
    g = grad_f(p)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p = p - lr * m_hat / (torch.sqrt(v_hat) + eps)
p
""", p0=n(3), A=n(4, 3), b=n(4))
S("Adam in-place tensors no_grad loop", "torch", TORCH + """
p = w.clone()
m = torch.zeros_like(p)
v = torch.zeros_like(p)
for t in range(1, 3):
    g = 2 * (p - target)
    m.mul_(0.9).add_(g, alpha=0.1)
    v.mul_(0.999).addcmul_(g, g, value=0.001)
    denom = (v / (1 - 0.999 ** t)).sqrt().add_(1e-8)
    p = p - 0.01 * (m / (1 - 0.9 ** t)) / denom
p
""", w=n(4), target=n(4))
S("Newton step logistic torch.linalg.solve", "torch", TORCH + """
def newton_step(w, X, y, lam=0.1):
    p = torch.sigmoid(X @ w)
    grad = X.T @ (p - y) + lam * w
    H = X.T @ (X * (p * (1 - p)).unsqueeze(1)) + lam * torch.eye(w.shape[0], dtype=w.dtype)
    return w - torch.linalg.solve(H, grad)

for _ in range(3):
    w = newton_step(w, X, y)
w
""", w=0.1 * n(3), X=n(8, 3), y=np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]))
S("Newton step torch.func.hessian", "torch", TORCH + """
def f(x):
    return (x ** 4).sum() + (x[0] * x[1]) ** 2 + (x ** 2).sum()

g = torch.func.grad(f)(x)
H = torch.func.hessian(f)(x)
x - torch.linalg.solve(H, g)
""", x=np.array([0.8, -0.6, 1.1]))
S("backtracking line search while numpy", "numpy", NP + """
def f(x):
    return np.sum((x - c) ** 2) + 0.5 * np.sum(x ** 4)

def grad(x):
    return 2 * (x - c) + 2 * x ** 3

x = x0
for it in range(3):
    g = grad(x)
    t = 1.0
    while f(x - t * g) > f(x) - 0.5 * t * g @ g:
        t *= 0.5
    x = x - t * g
x
""", x0=np.array([1.5, -1.0]), c=np.array([0.3, 0.2]))
S("backtracking line search while torch", "torch", TORCH + """
def f(x):
    return ((x - c) ** 2).sum() + 0.25 * (x ** 4).sum()

x = x0
for it in range(2):
    g = 2 * (x - c) + x ** 3
    t = 1.0
    while f(x - t * g) > f(x) - 0.3 * t * (g @ g):
        t = t * 0.5
    x = x - t * g
f(x)
""", x0=np.array([1.2, -0.9, 0.4]), c=np.array([0.3, 0.2, -0.1]))
S("jax gradient descent for loop jax.grad", "jax", JAX + """
def loss(w):
    return jnp.mean((X @ w - y) ** 2) + 0.01 * jnp.sum(w ** 2)

w = w0
for i in range(5):
    w = w - 0.1 * jax.grad(loss)(w)
loss(w)
""", w0=n(3), X=n(6, 3), y=n(6))
S("jax Adam dict tree_map", "jax", JAX + """
def loss(p):
    return jnp.sum((p["W"] @ x + p["b"] - t) ** 2)

params = {"W": W, "b": b}
m = jax.tree_util.tree_map(jnp.zeros_like, params)
v = jax.tree_util.tree_map(jnp.zeros_like, params)
for step in range(1, 3):
    g = jax.grad(loss)(params)
    m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
    v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g ** 2, v, g)
    params = jax.tree_util.tree_map(
        lambda p, m, v: p - 0.01 * (m / (1 - 0.9 ** step)) / (jnp.sqrt(v / (1 - 0.999 ** step)) + 1e-8),
        params, m, v)
params["W"]
""", W=n(2, 3), b=n(2), x=n(3), t=n(2))
S("momentum and Nesterov numpy", "numpy", NP + """
def grad(x):
    return A @ x - b

x, vel = x0.copy(), np.zeros_like(x0)
for k in range(5):
    vel = 0.9 * vel - 0.05 * grad(x + 0.9 * vel)
    x = x + vel
x
""", x0=n(3), A=spd(3), b=n(3))
S("Gauss-Newton curve fit lstsq", "numpy", NP + """
def model(p, t):
    return p[0] * np.exp(-p[1] * t)

def jac(p, t):
    return np.stack([np.exp(-p[1] * t), -p[0] * t * np.exp(-p[1] * t)], axis=1)

p = p0
for _ in range(4):
    r = y - model(p, t)
    dp = np.linalg.lstsq(jac(p, t), r, rcond=None)[0]
    p = p + dp
p
""", p0=np.array([1.8, 0.7]), t=np.linspace(0, 3, 7), y=2.0 * np.exp(-0.8 * np.linspace(0, 3, 7)) + 0.01 * n(7))
S("conjugate gradient fixed iterations torch", "torch", TORCH + """
def cg(A, b, iters=3):
    x = torch.zeros_like(b)
    r = b - A @ x
    p = r.clone()
    rs = r @ r
    for _ in range(iters):
        Ap = A @ p
        alpha = rs / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x

cg(A, b)
""", A=spd(3, 2.0), b=n(3))
S("jax Newton Rosenbrock jax.hessian solve", "jax", JAX + """
def rosen(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

for _ in range(2):
    x = x - jnp.linalg.solve(jax.hessian(rosen)(x), jax.grad(rosen)(x))
x
""", x=np.array([-0.8, 1.1, 0.7]))
S("augmented Lagrangian penalty torch", "torch", TORCH + """
def objective(x):
    return (x ** 2).sum() + x[0] * x[1]

def constraint(x):
    return x.sum() - 1.0

lam, mu = torch.tensor(0.5, dtype=torch.float64), 10.0
L = objective(x) + lam * constraint(x) + 0.5 * mu * constraint(x) ** 2
lam = lam + mu * constraint(x)
L + lam
""", x=n(3))
S("proximal gradient jax soft threshold", "jax", JAX + """
def prox_l1(v, t):
    return jnp.sign(v) * jnp.maximum(jnp.abs(v) - t, 0.0)

w = jnp.zeros(A.shape[1])
for _ in range(10):
    w = prox_l1(w - 0.05 * A.T @ (A @ w - b), 0.05 * lam)
w
""", A=n(6, 3), b=n(6), lam=np.array(0.1))
S("trust-region Cauchy point numpy", "numpy", NP + """
g = B @ x + c
gBg = g @ B @ g
gnorm = np.linalg.norm(g)
tau = min(1.0, gnorm ** 3 / (delta * gBg)) if gBg > 0 else 1.0
x - tau * delta / gnorm * g
""", x=n(3), B=spd(3), c=n(3), delta=np.array(0.5))
S("SGD with momentum dict state torch", "torch", TORCH + """
params = {"w": w, "b": b}
state = {k: torch.zeros_like(v) for k, v in params.items()}
for epoch in range(3):
    pred = X @ params["w"] + params["b"]
    err = pred - y
    grads = {"w": X.T @ err * 2 / len(y), "b": err.mean() * 2}
    for k in params:
        state[k] = 0.9 * state[k] + grads[k]
        params[k] = params[k] - 0.05 * state[k]
((X @ params["w"] + params["b"] - y) ** 2).mean()
""", w=n(2), b=np.array(0.0), X=n(5, 2), y=n(5))

# ===================================================================================================== ML
S("attention numpy softmax by hand", "numpy", NP + """
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)

def attention(Q, K, V, mask=None):
    d = Q.shape[-1]
    scores = Q @ K.T / np.sqrt(d)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    return softmax(scores) @ V

mask = np.tril(np.ones((4, 4), dtype=bool))
attention(Q, K, V, mask)
""", Q=n(4, 3), K=n(4, 3), V=n(4, 2))
S("multi-head attention jax einsum", "jax", JAX + """
def mha(x, Wq, Wk, Wv, heads=2):
    T, D = x.shape
    q = (x @ Wq).reshape(T, heads, D // heads)
    k = (x @ Wk).reshape(T, heads, D // heads)
    v = (x @ Wv).reshape(T, heads, D // heads)
    logits = jnp.einsum('thd,shd->hts', q, k) / jnp.sqrt(D // heads)
    w = jax.nn.softmax(logits, axis=-1)
    return jnp.einsum('hts,shd->thd', w, v).reshape(T, D)

mha(x, Wq, Wk, Wv).sum(axis=0)
""", x=n(3, 4), Wq=0.5 * n(4, 4), Wk=0.5 * n(4, 4), Wv=0.5 * n(4, 4))
S("attention torch bmm batch masked_fill padding", "torch", TORCH + """
B, T, D = q.shape
scores = torch.bmm(q, k.transpose(1, 2)) / D ** 0.5
pad = torch.tensor([[False, False, True], [False, False, False]])
scores = scores.masked_fill(pad.unsqueeze(1), -1e9)
attn = scores.softmax(dim=-1)
torch.bmm(attn, v).sum(dim=1)
""", q=n(2, 3, 4), k=n(2, 3, 4), v=n(2, 3, 4))
S("layer norm numpy var", "numpy", NP + """
def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return g * (x - mu) / np.sqrt(var + eps) + b

layer_norm(x, g, b)
""", x=n(2, 4), g=u(0.5, 1.5, 4), b=n(4))
S("layer norm jax then dense", "jax", JAX + """
def layernorm(x, eps=1e-6):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps)

h = layernorm(x) * scale + bias
jax.nn.gelu(h @ W).mean()
""", x=n(3, 4), scale=u(0.5, 1.5, 4), bias=n(4), W=n(4, 2))
S("layer norm torch F.layer_norm vs manual", "torch", TORCH + """
manual = (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + 1e-5) * w + b
lib = F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)
manual + 2 * lib
""", x=n(2, 5), w=u(0.5, 1.5, 5), b=n(5))
S("GRU cell chunk(3) PyTorch layout", "torch", TORCH + """
def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    gi = F.linear(x, w_ih, b_ih)
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h

h = torch.zeros(2, 3, dtype=torch.float64)
for t in range(xs.shape[0]):
    h = gru_cell(xs[t], h, w_ih, w_hh, b_ih, b_hh)
h
""", xs=n(3, 2, 4), w_ih=0.5 * n(9, 4), w_hh=0.5 * n(9, 3), b_ih=0.1 * n(9), b_hh=0.1 * n(9))
S("nn.GRUCell module loop", "torch", TORCH + """
cell = nn.GRUCell(4, 3)
h = torch.zeros(2, 3)
outs = []
for t in range(xs.size(0)):
    h = cell(xs[t], h)
    outs.append(h)
torch.stack(outs).mean()
""", xs=n(3, 2, 4))
S("GRU jax lax.scan by hand", "jax", JAX + """
def gru(params, h, x):
    z = jax.nn.sigmoid(x @ params["Wz"] + h @ params["Uz"])
    r = jax.nn.sigmoid(x @ params["Wr"] + h @ params["Ur"])
    hh = jnp.tanh(x @ params["Wh"] + (r * h) @ params["Uh"])
    h = (1 - z) * h + z * hh
    return h, h

params = dict(Wz=Wz, Uz=Uz, Wr=Wr, Ur=Ur, Wh=Wh, Uh=Uh)
h_last, hs = jax.lax.scan(lambda h, x: gru(params, h, x), jnp.zeros(3), xs)
hs.sum(axis=0)
""", xs=n(4, 2), Wz=n(2, 3), Uz=n(3, 3), Wr=n(2, 3), Ur=n(3, 3), Wh=n(2, 3), Uh=n(3, 3))
S("focal loss multi-class gather", "torch", TORCH + """
def focal_loss(logits, target, gamma=2.0, alpha=None):
    logp = F.log_softmax(logits, dim=-1)
    logpt = logp.gather(1, target.view(-1, 1)).squeeze(1)
    pt = logpt.exp()
    loss = -((1 - pt) ** gamma) * logpt
    return loss.mean()

focal_loss(logits, target)
""", logits=n(5, 3), target=np.array([0, 2, 1, 2, 0]))
S("focal loss numpy binary", "numpy", NP + """
p = 1 / (1 + np.exp(-logits))
pt = np.where(y == 1, p, 1 - p)
alpha_t = np.where(y == 1, 0.25, 0.75)
np.mean(-alpha_t * (1 - pt) ** 2 * np.log(pt))
""", logits=n(6), y=np.array([1, 0, 0, 1, 1, 0]))
S("label smoothing cross-entropy jax", "jax", JAX + """
def smooth_ce(logits, labels, num_classes, eps=0.1):
    onehot = jax.nn.one_hot(labels, num_classes)
    targets = onehot * (1 - eps) + eps / num_classes
    return -jnp.mean(jnp.sum(targets * jax.nn.log_softmax(logits), axis=-1))

smooth_ce(logits, labels, 4)
""", logits=n(5, 4), labels=np.array([0, 3, 1, 2, 1]))
S("label smoothing torch by formula", "torch", TORCH + """
eps = 0.1
log_probs = F.log_softmax(logits, dim=-1)
nll = -log_probs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
smooth = -log_probs.mean(dim=-1)
loss = ((1 - eps) * nll + eps * smooth).mean()
loss - F.cross_entropy(logits, target, label_smoothing=eps)
""", logits=n(4, 5), target=np.array([1, 0, 4, 2]))
S("label smoothing numpy one-hot", "numpy", NP + """
K = logits.shape[1]
t = np.full((len(y), K), 0.1 / (K - 1))
t[np.arange(len(y)), y] = 0.9
z = logits - logits.max(1, keepdims=True)
logp = z - np.log(np.exp(z).sum(1, keepdims=True))
-(t * logp).sum(1).mean()
""", logits=n(4, 3), y=np.array([2, 0, 1, 1]))
S("triplet batch-hard cdist masks", "torch", TORCH + """
def batch_hard_triplet(emb, labels, margin=0.3):
    dist = torch.cdist(emb, emb)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos = dist.masked_fill(~same | eye, 0.0).max(dim=1).values
    neg = dist.masked_fill(same, float('inf')).min(dim=1).values
    return F.relu(pos - neg + margin).mean()

batch_hard_triplet(emb, labels)
""", emb=n(6, 3), labels=np.array([0, 0, 1, 1, 2, 2]))
S("triplet margin loss F vs manual", "torch", TORCH + """
lib = F.triplet_margin_loss(a, p, n, margin=1.0)
d_ap = (a - p).norm(dim=1)
d_an = (a - n).norm(dim=1)
manual = torch.clamp(d_ap - d_an + 1.0, min=0).mean()
lib + manual
""", a=n(4, 3), p=n(4, 3), n=n(4, 3))
S("triplet numpy squared distances", "numpy", NP + """
d_pos = np.sum((anchor - positive) ** 2, axis=1)
d_neg = np.sum((anchor - negative) ** 2, axis=1)
np.mean(np.maximum(d_pos - d_neg + 0.5, 0))
""", anchor=n(5, 2), positive=n(5, 2), negative=n(5, 2))
S("CLIP symmetric contrastive loss", "torch", TORCH + """
img = F.normalize(img_emb, dim=-1)
txt = F.normalize(txt_emb, dim=-1)
logits = img @ txt.t() * torch.exp(logit_scale)
labels = torch.arange(logits.shape[0])
(F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
""", img_emb=n(4, 3), txt_emb=n(4, 3), logit_scale=np.array(1.5))
S("SupCon similarity matrix diagonal mask jax", "jax", JAX + """
def supcon(z, labels, temp=0.5):
    z = z / jnp.linalg.norm(z, axis=1, keepdims=True)
    sim = z @ z.T / temp
    n = z.shape[0]
    self_mask = jnp.eye(n, dtype=bool)
    sim = jnp.where(self_mask, -1e9, sim)
    pos = (labels[:, None] == labels[None, :]) & ~self_mask
    log_prob = sim - jax.scipy.special.logsumexp(sim, axis=1, keepdims=True)
    return -jnp.mean(jnp.sum(jnp.where(pos, log_prob, 0.0), 1) / jnp.sum(pos, 1))

supcon(z, labels)
""", z=n(6, 3), labels=np.array([0, 1, 0, 1, 2, 2]))
S("contrastive pairs numpy margin", "numpy", NP + """
d = np.sqrt(np.sum((x1 - x2) ** 2, axis=1) + 1e-12)
loss = same * d ** 2 + (1 - same) * np.maximum(1.0 - d, 0) ** 2
loss.mean() / 2
""", x1=0.4 * n(5, 2), x2=0.4 * n(5, 2), same=np.array([1.0, 0.0, 1.0, 0.0, 0.0]))
S("KL diag Gaussians by hand torch", "torch", TORCH + """
def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    return 0.5 * torch.sum(logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / torch.exp(logvar_p) - 1,
                           dim=-1)

kl = kl_diag(mu_q, logvar_q, mu_p, logvar_p)
kl - torch.distributions.kl_divergence(
    torch.distributions.Normal(mu_q, torch.exp(0.5 * logvar_q)),
    torch.distributions.Normal(mu_p, torch.exp(0.5 * logvar_p))).sum(-1)
""", mu_q=n(2, 3), logvar_q=0.3 * n(2, 3), mu_p=n(2, 3), logvar_p=0.3 * n(2, 3))
S("KL full-covariance Gaussians numpy", "numpy", NP + """
def kl_mvn(m0, S0, m1, S1):
    k = len(m0)
    S1_inv = np.linalg.inv(S1)
    diff = m1 - m0
    return 0.5 * (np.trace(S1_inv @ S0) + diff @ S1_inv @ diff - k
                  + np.log(np.linalg.det(S1) / np.linalg.det(S0)))

kl_mvn(m0, S0, m1, S1)
""", m0=n(3), S0=spd(3), m1=n(3), S1=spd(3))
S("KL Gaussians jax VAE closed form", "jax", JAX + """
def kl(mu, log_sigma):
    return jnp.sum(-log_sigma + 0.5 * (jnp.exp(2 * log_sigma) + mu ** 2) - 0.5, axis=-1)

kl(mu, log_sigma).mean()
""", mu=n(3, 4), log_sigma=0.2 * n(3, 4))
S("soft dice loss torch", "torch", TORCH + """
probs = torch.sigmoid(logits)
inter = (probs * target).sum(dim=(1, 2))
union = probs.sum(dim=(1, 2)) + target.sum(dim=(1, 2))
1 - ((2 * inter + 1.0) / (union + 1.0)).mean()
""", logits=n(2, 3, 3), target=(rng.random((2, 3, 3)) > 0.5).astype(float))
S("SVM hinge loss numpy", "numpy", NP + """
margins = y * (X @ w + b)
np.mean(np.maximum(0, 1 - margins)) + 0.5 * 0.01 * w @ w
""", w=n(3), b=np.array(0.1), X=n(8, 3), y=np.array([1, -1, 1, 1, -1, -1, 1, -1]))
S("multiclass SVM hinge torch", "torch", TORCH + """
scores = X @ W
correct = scores[torch.arange(scores.shape[0]), y].unsqueeze(1)
margins = torch.clamp(scores - correct + 1.0, min=0)
margins[torch.arange(scores.shape[0]), y] = 0
margins.sum() / scores.shape[0]
""", X=n(5, 3), W=n(3, 4), y=np.array([0, 3, 1, 2, 2]))
S("cosine similarity loss F", "torch", TORCH + """
(1 - F.cosine_similarity(pred, target, dim=1)).mean() + F.cosine_embedding_loss(
    pred, target, torch.tensor([1, -1, 1]), margin=0.2)
""", pred=n(3, 4), target=n(3, 4))
S("transformer block jax residual", "jax", JAX + """
def ln(x):
    m = x.mean(-1, keepdims=True)
    s = x.std(-1, keepdims=True)
    return (x - m) / (s + 1e-5)

def block(x, p):
    h = ln(x)
    att = jax.nn.softmax(h @ p["q"] @ (h @ p["k"]).T / jnp.sqrt(x.shape[-1]), axis=-1)
    x = x + att @ h @ p["v"]
    h = ln(x)
    return x + jax.nn.relu(h @ p["w1"]) @ p["w2"]

block(x, {"q": q, "k": k, "v": v, "w1": w1, "w2": w2})
""", x=n(3, 4), q=0.5 * n(4, 4), k=0.5 * n(4, 4), v=0.5 * n(4, 4), w1=0.5 * n(4, 6), w2=0.5 * n(6, 4))
S("MLP numpy forward list of layers", "numpy", NP + """
def mlp(x, layers):
    for i, (W, b) in enumerate(layers):
        x = x @ W + b
        if i < len(layers) - 1:
            x = np.tanh(x)
    return x

layers = [(W1, b1), (W2, b2)]
np.mean((mlp(X, layers) - Y) ** 2)
""", X=n(5, 3), W1=n(3, 4), b1=n(4), W2=n(4, 2), b2=n(2), Y=n(5, 2))
S("mixup loss torch", "torch", TORCH + """
lam = 0.7
perm = torch.tensor([2, 0, 3, 1])
mixed = lam * x + (1 - lam) * x[perm]
logits = mixed @ W
lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])
""", x=n(4, 3), W=n(3, 2), y=np.array([0, 1, 1, 0]))
S("knowledge distillation KL temperature", "torch", TORCH + """
T = 2.0
soft = F.kl_div(F.log_softmax(student / T, dim=1), F.softmax(teacher / T, dim=1), reduction='batchmean') * T * T
hard = F.cross_entropy(student, labels)
0.7 * soft + 0.3 * hard
""", student=n(4, 3), teacher=n(4, 3), labels=np.array([2, 0, 1, 1]))
S("Gumbel-softmax with given noise", "torch", TORCH + """
g = -torch.log(-torch.log(U))
y = F.softmax((logits + g) / 0.5, dim=-1)
(y * values).sum()
""", logits=n(2, 4), U=u(0.05, 0.95, 2, 4), values=n(4))
S("sigmoid BCE optax-style jax", "jax", JAX + """
def sigmoid_binary_cross_entropy(logits, labels):
    log_p = jax.nn.log_sigmoid(logits)
    log_not_p = jax.nn.log_sigmoid(-logits)
    return -labels * log_p - (1.0 - labels) * log_not_p

sigmoid_binary_cross_entropy(logits, labels).mean()
""", logits=n(6), labels=np.array([0.0, 1.0, 1.0, 0.0, 0.2, 0.9]))
S("RMS norm + SwiGLU torch", "torch", TORCH + """
def rms_norm(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

h = rms_norm(x, g)
F.silu(h @ W1) * (h @ W3) @ W2
""", x=n(2, 4), g=u(0.5, 1.5, 4), W1=0.5 * n(4, 6), W3=0.5 * n(4, 6), W2=0.5 * n(6, 4))
S("embedding bag mean torch index", "torch", TORCH + """
tokens = torch.tensor([[1, 3, 3], [0, 2, 4]])
emb = E[tokens].mean(dim=1)
F.log_softmax(emb @ W, dim=-1)[torch.arange(2), torch.tensor([1, 0])].sum()
""", E=n(5, 3), W=n(3, 2))
S("cross-entropy with ignore_index", "torch", TORCH + """
F.cross_entropy(logits, target, ignore_index=-100, reduction='mean')
""", logits=n(5, 3), target=np.array([0, -100, 2, 1, -100]))

# ================================================================================================ physics
S("pendulum RK4 torch for loop", "torch", TORCH + """
def pendulum(state, g=9.81, L=1.0, damping=0.1):
    theta, omega = state[0], state[1]
    return torch.stack([omega, -g / L * torch.sin(theta) - damping * omega])

def rk4(f, y, dt):
    k1 = f(y)
    k2 = f(y + dt / 2 * k1)
    k3 = f(y + dt / 2 * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

state = y0
for i in range(20):
    state = rk4(pendulum, state, 0.05)
state
""", y0=np.array([1.0, 0.0]))
S("pendulum RK4 numpy tuple state", "numpy", NP + """
def deriv(theta, omega, g=9.81, L=1.0):
    return omega, -(g / L) * np.sin(theta)

def rk4_step(theta, omega, dt):
    k1t, k1w = deriv(theta, omega)
    k2t, k2w = deriv(theta + 0.5 * dt * k1t, omega + 0.5 * dt * k1w)
    k3t, k3w = deriv(theta + 0.5 * dt * k2t, omega + 0.5 * dt * k2w)
    k4t, k4w = deriv(theta + dt * k3t, omega + dt * k3w)
    return (theta + dt / 6 * (k1t + 2 * k2t + 2 * k3t + k4t),
            omega + dt / 6 * (k1w + 2 * k2w + 2 * k3w + k4w))

theta, omega = theta0, omega0
energies = []
for _ in range(15):
    theta, omega = rk4_step(theta, omega, 0.05)
    energies.append(0.5 * omega ** 2 - 9.81 * np.cos(theta))
np.array([theta, omega, max(energies) - min(energies)])
""", theta0=np.array(0.8), omega0=np.array(0.3))
S("pendulum RK4 jax fori_loop", "jax", JAX + """
def f(y):
    return jnp.array([y[1], -9.81 * jnp.sin(y[0])])

def rk4(i, y):
    dt = 0.05
    k1 = f(y)
    k2 = f(y + dt / 2 * k1)
    k3 = f(y + dt / 2 * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

jax.lax.fori_loop(0, 20, rk4, y0)
""", y0=np.array([0.5, 0.2]))
S("spring chain energy jax diff norm", "jax", JAX + """
def chain_energy(x, k=5.0, rest=1.0, m=1.0, g=9.81):
    seg = jnp.diff(x, axis=0)
    length = jnp.linalg.norm(seg, axis=1)
    elastic = 0.5 * k * jnp.sum((length - rest) ** 2)
    gravity = m * g * jnp.sum(x[:, 1])
    return elastic + gravity

chain_energy(x)
""", x=np.cumsum(np.column_stack([np.ones(5), 0.3 * n(5)]), axis=0))
S("spring chain forces torch autograd", "torch", TORCH + """
def energy(pos):
    d = pos[1:] - pos[:-1]
    l = torch.linalg.norm(d, dim=1)
    return 0.5 * 10.0 * ((l - 1.0) ** 2).sum()

E = energy(pos)
forces = -torch.autograd.grad(E, pos, create_graph=True)[0]
forces
""", pos=np.cumsum(np.column_stack([np.ones(4), 0.2 * n(4)]), axis=0))
S("Lennard-Jones torch pairwise eye mask", "torch", TORCH + """
def lj_energy(pos, eps=1.0, sigma=1.0):
    diff = pos.unsqueeze(0) - pos.unsqueeze(1)
    r2 = (diff ** 2).sum(-1)
    n = pos.shape[0]
    mask = ~torch.eye(n, dtype=torch.bool)
    r2 = r2[mask]
    sr6 = (sigma ** 2 / r2) ** 3
    return 0.5 * (4 * eps * (sr6 ** 2 - sr6)).sum()

lj_energy(pos)
""", pos=np.array([[0.0, 0.0, 0.0], [1.1, 0.1, 0.0], [0.2, 1.2, 0.1], [1.0, 1.1, 0.9]]) + 0.05 * n(4, 3))
S("Lennard-Jones numpy triu_indices", "numpy", NP + """
i, j = np.triu_indices(len(pos), k=1)
r = np.linalg.norm(pos[i] - pos[j], axis=1)
np.sum(4 * ((1 / r) ** 12 - (1 / r) ** 6))
""", pos=np.array([[0.0, 0.0], [1.12, 0.0], [0.56, 0.97], [1.7, 0.9]]) + 0.03 * n(4, 2))
S("Lennard-Jones jax where diagonal", "jax", JAX + """
def energy(R):
    dR = R[:, None, :] - R[None, :, :]
    n = R.shape[0]
    eye = jnp.eye(n)
    r2 = jnp.sum(dR ** 2, axis=-1) + eye
    inv6 = jnp.where(eye > 0, 0.0, 1.0 / r2 ** 3)
    return 2.0 * jnp.sum(inv6 ** 2 - inv6)

energy(R)
""", R=np.array([[0.0, 0.0], [1.1, 0.05], [0.5, 1.0]]) + 0.02 * n(3, 2))
S("Lennard-Jones torch cutoff where", "torch", TORCH + """
r = torch.cdist(pos, pos)
iu = torch.triu_indices(pos.shape[0], pos.shape[0], offset=1)
r = r[iu[0], iu[1]]
e = 4 * (r ** -12 - r ** -6)
torch.where(r < 1.6, e, torch.zeros_like(e)).sum()
""", pos=np.array([[0.0, 0.0], [1.1, 0.0], [0.5, 1.0], [2.5, 2.5]]) + 0.02 * n(4, 2))
S("heat equation step torch slicing clone", "torch", TORCH + """
def heat_step(u, alpha=0.2):
    new = u.clone()
    new[1:-1] = u[1:-1] + alpha * (u[2:] - 2 * u[1:-1] + u[:-2])
    return new

u = u0
for _ in range(6):
    u = heat_step(u)
u
""", u0=n(7))
S("heat equation 2-D numpy in-place slices", "numpy", NP + """
u = u0.copy()
r = 0.2
for step in range(4):
    un = u.copy()
    u[1:-1, 1:-1] = un[1:-1, 1:-1] + r * (un[2:, 1:-1] + un[:-2, 1:-1] + un[1:-1, 2:] + un[1:-1, :-2]
                                          - 4 * un[1:-1, 1:-1])
u.sum() + (u ** 2).sum()
""", u0=n(5, 5))
S("heat equation jax .at set loop", "jax", JAX + """
def step(u, r=0.25):
    lap = u[:-2] - 2 * u[1:-1] + u[2:]
    return u.at[1:-1].add(r * lap)

for _ in range(5):
    u = step(u)
u
""", u=n(6))
S("heat equation implicit tridiagonal torch", "torch", TORCH + """
n = u.shape[0]
r = 0.5
A = (1 + 2 * r) * torch.eye(n) - r * torch.diag(torch.ones(n - 1), 1) - r * torch.diag(torch.ones(n - 1), -1)
for _ in range(3):
    u = torch.linalg.solve(A, u)
u
""", u=n(5))
S("wave equation leapfrog numpy", "numpy", NP + """
c2 = 0.5
u_prev = u0.copy()
u = u0 + dt0 * v0
for _ in range(5):
    u_next = np.zeros_like(u)
    u_next[1:-1] = 2 * u[1:-1] - u_prev[1:-1] + c2 * (u[2:] - 2 * u[1:-1] + u[:-2])
    u_prev, u = u, u_next
u
""", u0=np.sin(np.linspace(0, np.pi, 7)), v0=0.1 * n(7), dt0=np.array(0.1))
S("symplectic Euler oscillator jax", "jax", JAX + """
def step(state, _):
    q, p = state
    p = p - 0.1 * k * q
    q = q + 0.1 * p
    return (q, p), 0.5 * p ** 2 + 0.5 * k * q ** 2

(q, p), energy = jax.lax.scan(step, (q0, p0), None, length=10)
jnp.stack([q, p, energy.mean()])
""", q0=np.array(1.0), p0=np.array(0.2), k=np.array(2.0))
S("two-body gravity energy torch", "torch", TORCH + """
G = 1.0
r = torch.linalg.norm(x1 - x2)
kinetic = 0.5 * m1 * (v1 ** 2).sum() + 0.5 * m2 * (v2 ** 2).sum()
kinetic - G * m1 * m2 / r
""", x1=n(3), x2=n(3) + 2, v1=n(3), v2=n(3), m1=np.array(1.5), m2=np.array(0.7))
S("damped oscillator analytic numpy", "numpy", NP + """
omega0 = np.sqrt(k / m)
zeta = c / (2 * np.sqrt(k * m))
omega_d = omega0 * np.sqrt(1 - zeta ** 2)
t = np.linspace(0, 2, 6)
np.exp(-zeta * omega0 * t) * np.cos(omega_d * t)
""", k=np.array(4.0), m=np.array(1.0), c=np.array(0.5))
S("projectile range drag-free numpy", "numpy", NP + """
g = 9.81
vx, vy = v * np.cos(angle), v * np.sin(angle)
t_flight = (vy + np.sqrt(vy ** 2 + 2 * g * h0)) / g
np.array([vx * t_flight, vy ** 2 / (2 * g) + h0])
""", v=np.array(12.0), angle=np.array(0.6), h0=np.array(1.5))
S("elastic rod bending energy atan2", "torch", TORCH + """
seg = pts[1:] - pts[:-1]
angles = torch.atan2(seg[:, 1], seg[:, 0])
kappa = angles[1:] - angles[:-1]
stretch = (torch.linalg.norm(seg, dim=1) - 1.0) ** 2
0.5 * (kappa ** 2).sum() + 5.0 * stretch.sum()
""", pts=np.cumsum(np.column_stack([np.ones(5), 0.3 * n(5)]), axis=0))
S("Verlet N-body jax pairwise softened", "jax", JAX + """
def accel(x):
    d = x[None, :, :] - x[:, None, :]
    r2 = jnp.sum(d ** 2, -1) + 0.1
    return jnp.sum(d / r2[..., None] ** 1.5, axis=1)

v = v0
for _ in range(3):
    v = v + 0.05 * accel(x)
    x = x + 0.1 * v
    v = v + 0.05 * accel(x)
x
""", x=n(3, 2), v0=0.1 * n(3, 2))
S("Ising-like mean field free energy torch", "torch", TORCH + """
m = torch.tanh(beta * (J @ m0 + h))
for _ in range(5):
    m = torch.tanh(beta * (J @ m + h))
entropy = -((1 + m) / 2 * torch.log((1 + m) / 2) + (1 - m) / 2 * torch.log((1 - m) / 2)).sum()
-0.5 * m @ J @ m - h @ m - entropy / beta
""", J=0.2 * (lambda a: a + a.T)(n(4, 4)), h=0.3 * n(4), m0=np.zeros(4), beta=np.array(0.8))

# =============================================================================================== geometry
S("rotation matrix yaw pitch roll torch stack", "torch", TORCH + """
def rotation(yaw, pitch, roll):
    cy, sy = torch.cos(yaw), torch.sin(yaw)
    cp, sp = torch.cos(pitch), torch.sin(pitch)
    cr, sr = torch.cos(roll), torch.sin(roll)
    Rz = torch.stack([torch.stack([cy, -sy, torch.zeros_like(cy)]),
                      torch.stack([sy, cy, torch.zeros_like(cy)]),
                      torch.stack([torch.zeros_like(cy), torch.zeros_like(cy), torch.ones_like(cy)])])
    Ry = torch.stack([torch.stack([cp, torch.zeros_like(cp), sp]),
                      torch.stack([torch.zeros_like(cp), torch.ones_like(cp), torch.zeros_like(cp)]),
                      torch.stack([-sp, torch.zeros_like(cp), cp])])
    Rx = torch.stack([torch.stack([torch.ones_like(cr), torch.zeros_like(cr), torch.zeros_like(cr)]),
                      torch.stack([torch.zeros_like(cr), cr, -sr]),
                      torch.stack([torch.zeros_like(cr), sr, cr])])
    return Rz @ Ry @ Rx

R = rotation(angles[0], angles[1], angles[2])
R @ p
""", angles=np.array([0.3, -0.2, 0.9]), p=n(3))
S("rotation 2-D jax points", "jax", JAX + """
def rot2d(theta):
    c, s = jnp.cos(theta), jnp.sin(theta)
    return jnp.array([[c, -s], [s, c]])

pts @ rot2d(theta).T + t
""", pts=n(4, 2), theta=np.array(0.7), t=n(2))
S("Euler ZYX numpy np.array rows", "numpy", NP + """
def euler_zyx(a, b, c):
    Rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    Ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    Rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return Rz @ Ry @ Rx

R = euler_zyx(*angles)
R.T @ R - np.eye(3) + R
""", angles=np.array([0.4, 0.2, -0.6]))
S("quaternion product torch unbind", "torch", TORCH + """
def quat_mul(q, r):
    w1, x1, y1, z1 = q.unbind(-1)
    w2, x2, y2, z2 = r.unbind(-1)
    return torch.stack([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ], dim=-1)

quat_mul(q, r)
""", q=n(2, 4), r=n(2, 4))
S("quaternion rotate vector jax q v q*", "jax", JAX + """
def qmul(a, b):
    w1, v1 = a[0], a[1:]
    w2, v2 = b[0], b[1:]
    return jnp.concatenate([jnp.array([w1 * w2 - v1 @ v2]), w1 * v2 + w2 * v1 + jnp.cross(v1, v2)])

q = q / jnp.linalg.norm(q)
q_conj = q * jnp.array([1.0, -1.0, -1.0, -1.0])
qmul(qmul(q, jnp.concatenate([jnp.zeros(1), v])), q_conj)[1:]
""", q=n(4), v=n(3))
S("quaternion numpy slerp", "numpy", NP + """
def slerp(q0, q1, t):
    q0 = q0 / np.linalg.norm(q0)
    q1 = q1 / np.linalg.norm(q1)
    dot = np.dot(q0, q1)
    if dot < 0:
        q1, dot = -q1, -dot
    omega = np.arccos(dot)
    return (np.sin((1 - t) * omega) * q0 + np.sin(t * omega) * q1) / np.sin(omega)

slerp(q0, q1, 0.3)
""", q0=np.array([0.9, 0.1, 0.3, 0.2]), q1=np.array([0.5, -0.4, 0.6, 0.3]))
S("SDF sphere torch norm", "torch", TORCH + """
def sdf_sphere(p, center, radius):
    return torch.linalg.norm(p - center, dim=-1) - radius

sdf_sphere(p, center, radius)
""", p=n(4, 3), center=n(3), radius=np.array(0.8))
S("SDF box numpy max min norm", "numpy", NP + """
def sdf_box(p, b):
    q = np.abs(p) - b
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=-1)
    inside = np.minimum(np.max(q, axis=-1), 0.0)
    return outside + inside

sdf_box(p, b)
""", p=np.array([[1.3, 0.2, -0.4], [0.1, 0.2, 0.1], [-1.5, 1.4, 0.3], [0.3, -0.9, 2.0]]),
  b=np.array([0.7, 0.5, 0.6]))
S("SDF box union smooth min jax", "jax", JAX + """
def sd_box(p, b):
    q = jnp.abs(p) - b
    return jnp.linalg.norm(jnp.maximum(q, 0.0), axis=-1) + jnp.minimum(jnp.max(q, axis=-1), 0.0)

def sd_sphere(p, r):
    return jnp.linalg.norm(p, axis=-1) - r

def smin(a, b, k=0.2):
    h = jnp.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1 - h) + a * h - k * h * (1 - h)

smin(sd_box(p - jnp.array([0.5, 0.0, 0.0]), size), sd_sphere(p + jnp.array([0.5, 0.0, 0.0]), r))
""", p=np.array([[0.9, 0.3, 0.1], [0.05, 0.1, 0.0], [-1.2, 0.4, 0.5]]), size=np.array([0.42, 0.33, 0.35]),
  r=np.array(0.45))
S("SDF torch box with clamp and amax", "torch", TORCH + """
q = p.abs() - half
outside = q.clamp(min=0).norm(dim=-1)
inside = q.amax(dim=-1).clamp(max=0)
(outside + inside).sum()
""", p=np.array([[1.3, 0.2, -0.4], [0.1, 0.2, 0.1], [-1.5, 1.4, 0.3]]), half=np.array([0.7, 0.5, 0.6]))
S("barycentric coordinates numpy dots", "numpy", NP + """
def barycentric(p, a, b, c):
    v0, v1, v2 = b - a, c - a, p - a
    d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
    d20, d21 = v2 @ v0, v2 @ v1
    denom = d00 * d11 - d01 * d01
    v = (d11 * d20 - d01 * d21) / denom
    w = (d00 * d21 - d01 * d20) / denom
    return np.array([1.0 - v - w, v, w])

barycentric(p, a, b, c)
""", p=np.array([0.3, 0.3]), a=np.array([0.0, 0.0]), b=np.array([1.0, 0.1]), c=np.array([0.2, 1.0]))
S("barycentric torch linalg.solve", "torch", TORCH + """
T = torch.stack([a - c, b - c], dim=1)
lam12 = torch.linalg.solve(T, p - c)
torch.cat([lam12, 1 - lam12.sum(0, keepdim=True)])
""", p=np.array([0.3, 0.4]), a=np.array([0.0, 0.0]), b=np.array([1.0, 0.2]), c=np.array([0.1, 1.1]))
S("triangle area normal jax cross", "jax", JAX + """
e1 = v[1] - v[0]
e2 = v[2] - v[0]
n = jnp.cross(e1, e2)
area = 0.5 * jnp.linalg.norm(n)
jnp.concatenate([n / (2 * area), area[None]])
""", v=n(3, 3))
S("polygon area shoelace np.roll", "numpy", NP + """
x, y = poly[:, 0], poly[:, 1]
0.5 * np.abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
""", poly=np.array([[0.0, 0.0], [2.0, 0.1], [2.2, 1.5], [0.9, 2.3], [-0.3, 1.2]]))
S("point to segment distance clamp torch", "torch", TORCH + """
ab = b - a
t = ((p - a) @ ab / (ab @ ab)).clamp(0.0, 1.0)
closest = a + t.unsqueeze(-1) * ab
torch.linalg.norm(p - closest, dim=-1)
""", p=np.array([[0.5, 1.0], [2.0, 0.3], [-0.8, -0.2]]), a=np.array([0.0, 0.0]), b=np.array([1.5, 0.5]))
S("Kabsch RMSD numpy svd", "numpy", NP + """
Pc = P - P.mean(axis=0)
Qc = Q - Q.mean(axis=0)
H = Pc.T @ Qc
U, S, Vt = np.linalg.svd(H)
d = np.sign(np.linalg.det(Vt.T @ U.T))
D = np.diag([1.0, 1.0, d])
R = Vt.T @ D @ U.T
np.sqrt(np.mean(np.sum((Pc @ R.T - Qc) ** 2, axis=1)))
""", P=n(5, 3), Q=n(5, 3))
S("Rodrigues jax axis-angle", "jax", JAX + """
def skew(v):
    return jnp.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])

def axis_angle(w):
    theta = jnp.linalg.norm(w)
    K = skew(w / theta)
    return jnp.eye(3) + jnp.sin(theta) * K + (1 - jnp.cos(theta)) * K @ K

axis_angle(w) @ x
""", w=np.array([0.3, -0.5, 0.8]), x=n(3))
S("homogeneous transform 4x4 torch", "torch", TORCH + """
def transform(theta, t):
    c, s = torch.cos(theta), torch.sin(theta)
    T = torch.eye(4, dtype=torch.float64)
    T[0, 0], T[0, 1], T[1, 0], T[1, 1] = c, -s, s, c
    T[:3, 3] = t
    return T

pts_h = torch.cat([pts, torch.ones(pts.shape[0], 1)], dim=1)
(pts_h @ transform(theta, t).T)[:, :3]
""", theta=np.array(0.4), t=n(3), pts=n(3, 3))

# ================================================================================================ control
S("LQR Riccati iteration numpy inv", "numpy", NP + """
def dlqr(A, B, Q, R, iters=30):
    P = Q.copy()
    for _ in range(iters):
        K = np.linalg.inv(R + B.T @ P @ B) @ B.T @ P @ A
        P = Q + A.T @ P @ (A - B @ K)
    return K, P

K, P = dlqr(A, B, Q, R)
K
""", A=np.array([[1.0, 0.1], [0.0, 1.0]]), B=np.array([[0.005], [0.1]]), Q=np.eye(2), R=np.array([[0.5]]))
S("LQR Riccati torch solve", "torch", TORCH + """
P = Q.clone()
for _ in range(25):
    BtP = B.T @ P
    K = torch.linalg.solve(R + BtP @ B, BtP @ A)
    P = Q + A.T @ P @ A - A.T @ P @ B @ K
K.sum() + torch.trace(P)
""", A=np.array([[1.0, 0.1], [-0.05, 0.98]]), B=np.array([[0.0], [0.1]]), Q=np.diag([1.0, 0.2]), R=np.array([[0.3]]))
S("LQR Riccati jax fori_loop", "jax", JAX + """
def riccati(i, P):
    S = R + B.T @ P @ B
    return Q + A.T @ P @ A - A.T @ P @ B @ jnp.linalg.solve(S, B.T @ P @ A)

P = jax.lax.fori_loop(0, 25, riccati, Q)
jnp.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
""", A=np.array([[1.0, 0.2], [0.0, 0.95]]), B=np.array([[0.02], [0.2]]), Q=np.eye(2), R=np.array([[1.0]]))
S("closed-loop rollout cost torch", "torch", TORCH + """
x = x0
cost = torch.zeros((), dtype=torch.float64)
for t in range(10):
    u = -K @ x
    cost = cost + x @ x + 0.1 * (u @ u)
    x = A @ x + B @ u
cost
""", x0=np.array([1.0, -0.5]), K=np.array([[0.8, 1.2]]), A=np.array([[1.0, 0.1], [0.0, 1.0]]),
  B=np.array([[0.005], [0.1]]))
S("MPC shooting jax cumulative cost", "jax", JAX + """
def dynamics(x, u):
    return jnp.array([x[0] + 0.1 * x[1], x[1] + 0.1 * (u - jnp.sin(x[0]))])

def rollout_cost(us, x0):
    x = x0
    cost = 0.0
    for u in us:
        x = dynamics(x, u)
        cost = cost + jnp.sum(x ** 2) + 0.01 * u ** 2
    return cost

rollout_cost(us, x0)
""", us=0.3 * n(6), x0=np.array([0.5, 0.0]))
S("PID controller loop numpy lists", "numpy", NP + """
kp, ki, kd = gains
y, integral, prev_err = 0.0, 0.0, 0.0
history = []
for t in range(12):
    err = setpoint - y
    integral += err * 0.1
    deriv = (err - prev_err) / 0.1
    u = kp * err + ki * integral + kd * deriv
    prev_err = err
    y = y + 0.1 * (-y + u)
    history.append(y)
np.array(history)[-3:]
""", gains=np.array([1.2, 0.5, 0.05]), setpoint=np.array(1.0))
S("Kalman steady-state gain iteration torch", "torch", TORCH + """
P = torch.eye(2, dtype=torch.float64)
for _ in range(20):
    P_pred = F_ @ P @ F_.T + Qn
    S = H @ P_pred @ H.T + Rn
    K = P_pred @ H.T @ torch.linalg.inv(S)
    P = (torch.eye(2, dtype=torch.float64) - K @ H) @ P_pred
K
""", F_=np.array([[1.0, 0.1], [0.0, 1.0]]), H=np.array([[1.0, 0.0]]), Qn=np.diag([1e-3, 1e-2]),
  Rn=np.array([[0.1]]))
S("Lyapunov equation iteration jax", "jax", JAX + """
X = Q
for _ in range(30):
    X = A @ X @ A.T + Q
jnp.trace(X)
""", A=np.array([[0.6, 0.2], [-0.1, 0.7]]), Q=np.array([[1.0, 0.1], [0.1, 0.5]]))


# ---------------------------------------------------------------------------------------------- run
def reference(s, declared):
    if s.lib == "torch":
        return h.torch_reference(s.code, s.inputs, declared)
    return h.numpy_reference(s.code, s.inputs)


def run_cli(s, tree):
    """``jac eval @file NAME=@file.npy --json`` in a subprocess: its value and Jacobians, or its error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "snippet.py")
        with open(path, "w") as f:
            f.write(s.code)
        args = [sys.executable, "-m", "jacobi_cli", "eval", "@" + path, "--json"]
        for k, v in s.inputs.items():
            np.save(os.path.join(tmp, k + ".npy"), v)
            args.append(f"{k}=@{os.path.join(tmp, k + '.npy')}")
        env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, cwd=tmp)
    try:
        out = json.loads(done.stdout)
    except ValueError:
        return f"exit {done.returncode}, no JSON: {done.stderr.strip()[-200:]}"
    if "error" in out:
        return f"exit {done.returncode}: {out['error']['message'][:200]}"
    value = np.array(out["output"]["value"], dtype=float) if "output" in out else None
    blocks = out.get("jacobian", {})
    return value, {k: np.array(b["value"], dtype=float) for k, b in blocks.items()}


def cli_differs(s, mine, cli):
    """Why ``jac eval --json`` does not give the API's answer (None when it does)."""
    if isinstance(cli, str):
        return cli
    value, blocks = cli
    if value is None or not h.close(value, mine[1], 1e-12):
        return "value differs from the API's"
    for k, J in mine[2].items():
        if k in blocks and not h.close(blocks[k], J, 1e-12):
            return f"d/d{k} differs from the API's"
    return None


# Where jac deliberately differs (docs/vocabulary-elementwise.md, "Where jac deliberately differs"): the norm of a
# zero vector has derivative 0 in jac (the subgradient, PyTorch's), NaN in JAX (x / 0 · 0). A point inside the box
# makes norm(maximum(q, 0)) the norm of zeros; the term is 0 on a neighbourhood, so 0 is its derivative.
# The Poisson loss with full=True masks Stirling's term at a target <= 1; PyTorch's backward multiplies the mask's 0 by
# log's infinite partial at a target of 0 (NaN), jac's derivative is the rest's (docs/vocabulary-reductions.md).
DOCUMENTED = {"SDF box union smooth min jax": "JAX's NaN derivative of the norm of a zero vector, jac's 0",
              "Poisson regression F.poisson_nll_loss": "PyTorch's NaN (0 · inf) by a target of 0, jac's derivative"}


def documented(s, mine, theirs):
    """A WRONG that is only JAX's NaN where jac has a finite derivative, in a snippet of DOCUMENTED."""
    if s.name not in DOCUMENTED or isinstance(theirs, str) or mine[0] != "ok":
        return False
    ref_value, ref_jac = theirs
    for k, J in ref_jac.items():
        finite = ~np.isnan(J)
        if mine[2][k].shape != J.shape or not h.close(np.where(finite, mine[2][k], 0.0), np.where(finite, J, 0.0),
                                                      1e-10):
            return False
    return h.close(mine[1], ref_value, 1e-10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", default=".")
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    parser.add_argument("--cli", type=int, default=0, help="run every Nth answered snippet through jac eval --json")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    chosen = [s for s in SNIPPETS if args.k.lower() in s.name.lower()]
    names = [s.name for s in chosen]
    assert len(set(names)) == len(names), "snippet names must be unique"
    mine = {s.name: h.run_jac(s) for s in chosen}
    theirs = {}
    jax_snippets = [s for s in chosen if s.lib == "jax"]
    if jax_snippets:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {s.name: pool.submit(h.jax_reference, s.code, s.inputs) for s in jax_snippets}
            theirs = {k: f.result() for k, f in futures.items()}
    for s in chosen:
        if s.lib == "jax":
            continue
        declared = mine[s.name][3] if mine[s.name][0] == "ok" else None
        try:
            if declared is None and s.lib == "torch":  # jac made no parameters: the library's own values
                theirs[s.name] = _torch_unchecked(s)
            else:
                theirs[s.name] = reference(s, declared)
        except Exception as e:  # noqa: BLE001
            theirs[s.name] = f"{type(e).__name__}: {e}"[:300]
    counts = {}
    answered = [s for s in chosen if mine[s.name][0] == "ok"]
    sample = answered[::args.cli] if args.cli else []
    cli = {s.name: run_cli(s, args.tree) for s in sample}
    for s in chosen:
        outcome, why = h.classify(s, mine[s.name], theirs.get(s.name))
        if outcome == "REFUSED" and isinstance(theirs.get(s.name), str):
            outcome, why = "REFUSED-AS-LIB", f"{why} || library: {theirs[s.name]}"
        if outcome == "WRONG" and documented(s, mine[s.name], theirs.get(s.name)):
            outcome, why = "DOCUMENTED", DOCUMENTED[s.name]
        if outcome == "AGREE" and s.name in cli:
            differs = cli_differs(s, mine[s.name], cli[s.name])
            if differs:
                outcome, why = "CLI-DIFF", differs
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "AGREE" or args.v:
            print(f"{outcome:8} [{s.lib}] {s.name}: {why}")
    if sample:
        print(f"jac eval --json run for {len(sample)} snippets")
    print(f"{len(chosen)} snippets: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("WRONG") or counts.get("CRASH") or counts.get("CLI-DIFF") else 0


if __name__ == "__main__":
    sys.exit(main())
