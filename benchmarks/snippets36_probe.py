"""Realistic snippets, fourth batch (session 36): normalizing flows, physics, reinforcement learning, attention
variants, contrastive losses, Gaussian processes, Sinkhorn, robot arms, finance, signal processing, statistics,
image operations and sequence models, as papers' reference code and tutorials write them (PyTorch, JAX and NumPy /
SciPy spellings, float64), none of them in snippets33-35. Run by the jac of the checkout TREE and by the library
itself through snippets33_probe's harness (PyTorch float64 autograd, JAX x64 ``jacrev``, NumPy's value and central
differences) and snippets35_probe's driver (REFUSED-AS-LIB, DOCUMENTED, ``--cli N``):

    PYTHONPATH=. /work/venv/bin/python benchmarks/snippets36_probe.py [TREE] [-k SUBSTRING] [-v] [--cli N]

Prints one line per snippet not AGREE (all with -v), then the counts. Exit 1 on WRONG, CRASH or CLI-DIFF.
Run by hand (a few minutes).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snippets33_probe as h  # noqa: E402 - the harness: references, run_jac, classify
import snippets35_probe as driver  # noqa: E402 - main(): the references, the classes, --cli

rng = np.random.default_rng(3636)


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

# ======================================================================================== normalizing flows
S("planar flow log-det torch", "torch", TORCH + """
def planar(z, u, w, b):
    lin = z @ w + b
    f = z + u * torch.tanh(lin).unsqueeze(-1)
    psi = (1 - torch.tanh(lin) ** 2).unsqueeze(-1) * w
    log_det = torch.log(torch.abs(1 + psi @ u))
    return f, log_det

f, ld = planar(z, u, w, b)
f.sum() + ld.sum()
""", z=n(4, 2), u=0.5 * n(2), w=n(2), b=np.array(0.1))
S("planar flow stack sum log-dets torch", "torch", TORCH + """
log_det_sum = torch.zeros(z.shape[0])
for k in range(U.shape[0]):
    a = torch.tanh(z @ W[k] + B[k])
    psi = (1 - a ** 2)[:, None] * W[k]
    log_det_sum = log_det_sum + torch.log(torch.abs(1 + psi @ U[k]) + 1e-8)
    z = z + U[k] * a[:, None]
log_pz = -0.5 * (z ** 2).sum(-1) - math.log(2 * math.pi)
(log_pz + log_det_sum).mean()
""", z=n(3, 2), U=0.4 * n(3, 2), W=n(3, 2), B=0.1 * n(3))
S("radial flow torch norm", "torch", TORCH + """
d = z.shape[-1]
diff = z - z0
r = torch.norm(diff, dim=-1, keepdim=True)
alpha = F.softplus(alpha_raw)
beta = -alpha + F.softplus(beta_raw)
h = 1 / (alpha + r)
h_prime = -h ** 2
z_new = z + beta * h * diff
log_det = (d - 1) * torch.log1p(beta * h) + torch.log1p(beta * h + beta * h_prime * r)
torch.cat([z_new.flatten(), log_det.flatten()])
""", z=n(3, 2), z0=0.2 * n(2), alpha_raw=np.array(0.3), beta_raw=np.array(0.5))
S("RealNVP coupling chunk torch", "torch", TORCH + """
x1, x2 = x.chunk(2, dim=-1)
h = torch.relu(x1 @ W1 + b1)
s = torch.tanh(h @ Ws)
t = h @ Wt
y2 = x2 * torch.exp(s) + t
y = torch.cat([x1, y2], dim=-1)
log_det = s.sum(dim=-1)
y.sum() + log_det.sum()
""", x=n(3, 4), W1=n(2, 5), b1=0.5 + 0.1 * n(5), Ws=0.3 * n(5, 2), Wt=n(5, 2))
S("RealNVP checkerboard mask torch", "torch", TORCH + """
mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
xm = x * mask
s = torch.tanh(xm @ Ws + bs) * (1 - mask)
t = (xm @ Wt + bt) * (1 - mask)
y = xm + (1 - mask) * (x * torch.exp(s) + t)
log_prob = -0.5 * (y ** 2).sum(1) - 2 * math.log(2 * math.pi) + s.sum(1)
-log_prob.mean()
""", x=n(5, 4), Ws=0.5 * n(4, 4), bs=0.1 * n(4), Wt=n(4, 4), bt=0.1 * n(4))
S("RealNVP coupling jax split", "jax", JAX + """
def coupling(x, params):
    x1, x2 = jnp.split(x, 2, axis=-1)
    h = jnp.tanh(x1 @ params["W"] + params["b"])
    log_s = h @ params["Ws"]
    t = h @ params["Wt"]
    y2 = x2 * jnp.exp(log_s) + t
    return jnp.concatenate([x1, y2], axis=-1), jnp.sum(log_s, axis=-1)

params = {"W": W, "b": b, "Ws": Ws, "Wt": Wt}
y, ld = coupling(x, params)
y2, ld2 = coupling(y[:, ::-1], params)
jnp.sum(y2 ** 2) - jnp.sum(ld + ld2)
""", x=n(3, 4), W=n(2, 3), b=0.1 * n(3), Ws=0.3 * n(3, 2), Wt=n(3, 2))
S("flow log-det jacfwd slogdet jax", "jax", JAX + """
def f(z):
    return z + u * jnp.tanh(jnp.dot(w, z) + b)

J = jax.vmap(jax.jacfwd(f))(zs)
sign, logdet = jnp.linalg.slogdet(J)
logdet.sum()
""", zs=n(3, 2), u=0.5 * n(2), w=n(2), b=np.array(0.2))
S("affine flow log-prob slogdet numpy", "numpy", NP + """
z = (x - b) @ np.linalg.inv(W).T
sign, logabsdet = np.linalg.slogdet(W)
d = x.shape[1]
log_pz = -0.5 * np.sum(z ** 2, axis=1) - 0.5 * d * np.log(2 * np.pi)
log_pz - logabsdet
""", x=n(4, 3), W=np.eye(3) + 0.3 * n(3, 3), b=0.1 * n(3))
S("diagonal Gaussian flow Normal log_prob", "torch", TORCH + """
from torch.distributions import Normal
base = Normal(torch.zeros(x.shape[-1]), torch.ones(x.shape[-1]))
z = (x - mu) * torch.exp(-log_sigma)
log_prob = base.log_prob(z).sum(-1) - log_sigma.sum()
-log_prob.mean()
""", x=n(5, 3), mu=0.1 * n(3), log_sigma=0.2 * n(3))
S("Glow actnorm + invertible 1x1 conv", "torch", TORCH + """
B, C, H, W_ = x.shape
y = (x + loc.view(1, C, 1, 1)) * torch.exp(logs.view(1, C, 1, 1))
ld_act = H * W_ * logs.sum()
y = torch.einsum("ij,bjhw->bihw", weight, y)
ld_conv = H * W_ * torch.linalg.slogdet(weight)[1]
y.pow(2).sum() * 0.5 - (ld_act + ld_conv)
""", x=n(2, 3, 2, 2), loc=0.1 * n(3), logs=0.1 * n(3), weight=np.linalg.qr(n(3, 3))[0] + 0.1 * n(3, 3))
S("Glow LU 1x1 conv weight", "torch", TORCH + """
C = L_raw.shape[0]
L = torch.tril(L_raw, diagonal=-1) + torch.eye(C)
U = torch.triu(U_raw, diagonal=1) + torch.diag(sign_s * torch.exp(log_s))
W = P @ L @ U
z = x @ W.T
log_det = torch.sum(log_s) * x.shape[0]
torch.cat([z.flatten(), log_det.reshape(1)])
""", L_raw=n(3, 3), U_raw=n(3, 3), log_s=0.2 * n(3), sign_s=np.array([1.0, -1.0, 1.0]),
  P=np.eye(3)[[1, 0, 2]], x=n(2, 3))
S("tanh layers sum log|det J| jax", "jax", JAX + """
z = x
total = 0.0
for W, b in [(W1, b1), (W2, b2)]:
    z = jnp.tanh(z @ W.T + b)
    total = total + jnp.sum(jnp.log1p(-z ** 2), axis=-1) + jnp.linalg.slogdet(W)[1]
total
""", x=0.5 * n(4, 2), W1=np.eye(2) + 0.3 * n(2, 2), b1=0.1 * n(2), W2=np.eye(2) + 0.3 * n(2, 2), b2=0.1 * n(2))
S("logit preprocessing log-det numpy", "numpy", NP + """
alpha = 0.05
p = alpha + (1 - 2 * alpha) * x
y = np.log(p) - np.log1p(-p)
log_det = np.sum(np.log(1 - 2 * alpha) - np.log(p) - np.log(1 - p), axis=1)
np.concatenate([y.ravel(), log_det])
""", x=u(0.1, 0.9, 2, 3))
S("leaky relu flow log-det numpy where", "numpy", NP + """
slope = 0.2
y = np.where(x >= 0, x, slope * x)
log_det = np.sum(np.where(x >= 0, 0.0, np.log(slope)), axis=-1)
z = y @ A + c
np.sum(z ** 2, axis=-1) + log_det
""", x=n(3, 4), A=n(4, 4), c=0.1 * n(4))
S("MAF masked autoregressive layer torch", "torch", TORCH + """
D = x.shape[1]
mask = torch.tril(torch.ones(D, D), diagonal=-1)
mu = x @ (W_mu * mask).T + b_mu
alpha = torch.tanh(x @ (W_a * mask).T + b_a)
u = (x - mu) * torch.exp(-alpha)
log_det = -alpha.sum(dim=1)
log_pu = -0.5 * u.pow(2).sum(1) - 0.5 * D * math.log(2 * math.pi)
(log_pu + log_det).sum()
""", x=n(4, 3), W_mu=n(3, 3), b_mu=0.1 * n(3), W_a=0.5 * n(3, 3), b_a=0.1 * n(3))
S("sigmoid flow log-det jax nn", "jax", JAX + """
y = jax.nn.sigmoid(a * x + b)
log_det = jnp.sum(jnp.log(a) + jax.nn.log_sigmoid(a * x + b) + jax.nn.log_sigmoid(-(a * x + b)), axis=-1)
jnp.concatenate([y.ravel(), log_det])
""", x=n(2, 3), a=u(0.5, 2.0, 3), b=0.1 * n(3))

# ================================================================================================= physics
S("spring network energy edge index torch", "torch", TORCH + """
src, dst = edges[:, 0], edges[:, 1]
d = pos[src] - pos[dst]
length = torch.linalg.norm(d, dim=-1)
energy = 0.5 * (k * (length - rest) ** 2).sum()
energy
""", pos=n(4, 2), edges=np.array([[0, 1], [1, 2], [2, 3], [3, 0], [0, 2]]), k=u(1, 2, 5), rest=np.array(1.0))
S("spring-mass Hamiltonian numpy", "numpy", NP + """
kinetic = 0.5 * np.sum(p ** 2 / m)
stretch = np.diff(np.concatenate([[0.0], q]))
potential = 0.5 * np.sum(k * stretch ** 2)
kinetic + potential
""", q=n(4), p=n(4), m=u(1, 2, 4), k=u(1, 3, 4))
S("Lennard-Jones itertools combinations numpy", "numpy", NP + """
from itertools import combinations

def lj(r, eps=1.0, sigma=1.0):
    sr6 = (sigma / r) ** 6
    return 4 * eps * (sr6 ** 2 - sr6)

E = 0.0
for i, j in combinations(range(len(pos)), 2):
    E += lj(np.linalg.norm(pos[i] - pos[j]))
E
""", pos=np.array([[0.0, 0.0, 0.0], [1.1, 0.1, 0.0], [0.2, 1.2, 0.1], [1.0, 1.0, 1.0]]) + 0.02 * n(4, 3))
S("Lennard-Jones shifted cutoff jax triu_indices", "jax", JAX + """
def lj_energy(pos, rc=2.5):
    i, j = jnp.triu_indices(pos.shape[0], k=1)
    r = jnp.linalg.norm(pos[i] - pos[j], axis=-1)
    v = lambda r: 4 * ((1 / r) ** 12 - (1 / r) ** 6)
    return jnp.sum(jnp.where(r < rc, v(r) - v(rc), 0.0))

forces = -jax.grad(lj_energy)(pos)
jnp.concatenate([lj_energy(pos)[None], forces.ravel()])
""", pos=np.array([[0.0, 0.0], [1.12, 0.0], [0.5, 1.0], [3.0, 3.0]]) + 0.02 * n(4, 2))
S("Lennard-Jones torch.triu_indices", "torch", TORCH + """
i, j = torch.triu_indices(pos.shape[0], pos.shape[0], offset=1)
r2 = ((pos[i] - pos[j]) ** 2).sum(-1)
inv6 = (sigma ** 2 / r2) ** 3
(4 * eps * (inv6 ** 2 - inv6)).sum()
""", pos=np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.0, 1.2, 0.0]]) + 0.02 * n(3, 3), eps=np.array(1.0),
  sigma=np.array(1.0))
S("gravitational N-body energy torch triu", "torch", TORCH + """
G = 1.0
diff = pos[:, None, :] - pos[None, :, :]
dist = torch.sqrt((diff ** 2).sum(-1) + torch.eye(len(pos)))
pair = G * mass[:, None] * mass[None, :] / dist
U = -torch.triu(pair, diagonal=1).sum()
K = 0.5 * (mass[:, None] * vel ** 2).sum()
K + U
""", pos=n(4, 3), vel=n(4, 3), mass=u(0.5, 2, 4))
S("N-body energy numpy fill_diagonal", "numpy", NP + """
dx = pos[:, None, :] - pos[None, :, :]
r = np.sqrt(np.sum(dx ** 2, axis=-1))
np.fill_diagonal(r, 1.0)
inv_r = 1.0 / r
np.fill_diagonal(inv_r, 0.0)
pot = -0.5 * np.sum(m[:, None] * m[None, :] * inv_r)
kin = 0.5 * np.sum(m * np.sum(v ** 2, axis=1))
np.array([kin, pot, kin + pot])
""", pos=n(4, 3), v=n(4, 3), m=u(0.5, 2, 4))
S("N-body accelerations jax softening", "jax", JAX + """
def accelerations(x, m, soft=0.1):
    d = x[None, :, :] - x[:, None, :]
    inv3 = (jnp.sum(d ** 2, -1) + soft ** 2) ** -1.5
    return jnp.sum(d * (m[None, :] * inv3)[..., None], axis=1)

x, v = pos, vel
dt = 0.01
for _ in range(3):
    v = v + 0.5 * dt * accelerations(x, m)
    x = x + dt * v
    v = v + 0.5 * dt * accelerations(x, m)
x
""", pos=n(3, 2), vel=0.1 * n(3, 2), m=u(0.5, 2, 3))
S("pendulum Lagrangian equations of motion torch", "torch", TORCH + """
def lagrangian(q, qd, m=1.0, l=1.0, g=9.81):
    T = 0.5 * m * l ** 2 * qd ** 2
    V = -m * g * l * torch.cos(q)
    return T - V

L = lagrangian(q, qd)
dL_dq, = torch.autograd.grad(L.sum(), q, create_graph=True)
dL_dqd, = torch.autograd.grad(L.sum(), qd, create_graph=True)
qdd = dL_dq / 1.0
torch.stack([L.sum(), qdd.sum(), dL_dqd.sum()])
""", q=np.array([0.3, -0.2]), qd=np.array([0.1, 0.5]))
S("pendulum Lagrangian jax hessian qdot", "jax", JAX + """
def L(q, q_t):
    return 0.5 * q_t ** 2 - 9.81 * (1 - jnp.cos(q))

def qdd(q, q_t):
    M = jax.hessian(L, 1)(q, q_t)
    dLdq = jax.grad(L, 0)(q, q_t)
    mixed = jax.jacfwd(jax.grad(L, 1), 0)(q, q_t)
    return (dLdq - mixed * q_t) / M

jax.vmap(qdd)(q, q_t)
""", q=np.array([0.2, 0.7, -0.4]), q_t=np.array([0.0, 0.3, -1.0]))
S("heat equation conv1d stencil steps torch", "torch", TORCH + """
kernel = torch.tensor([[[1.0, -2.0, 1.0]]])
r = alpha * dt / dx ** 2
T = u0.view(1, 1, -1)
for _ in range(5):
    lap = F.conv1d(F.pad(T, (1, 1), mode="replicate"), kernel)
    T = T + r * lap
T.flatten()
""", u0=np.sin(np.linspace(0, np.pi, 8)) + 0.1 * n(8), alpha=np.array(0.5), dt=np.array(0.01), dx=np.array(0.2))
S("heat equation 2-D jnp.roll periodic", "jax", JAX + """
def step(T, kappa, dt=0.1):
    lap = (jnp.roll(T, 1, 0) + jnp.roll(T, -1, 0) + jnp.roll(T, 1, 1) + jnp.roll(T, -1, 1) - 4 * T)
    return T + kappa * dt * lap

for _ in range(4):
    T = step(T, kappa)
T
""", T=n(4, 4), kappa=np.array(0.3))
S("heat equation np.convolve same", "numpy", NP + """
lap = np.array([1.0, -2.0, 1.0])
for _ in range(3):
    u = u + r * np.convolve(u, lap, mode="same")
u
""", u=n(7), r=np.array(0.2))
S("heat equation matrix exponent operator numpy", "numpy", NP + """
N = len(u0)
A = (np.diag(-2 * np.ones(N)) + np.diag(np.ones(N - 1), 1) + np.diag(np.ones(N - 1), -1)) * kappa
u = u0.copy()
for _ in range(10):
    u = u + 0.05 * A @ u
u
""", u0=n(5), kappa=np.array(1.2))
S("Morse potential pairs torch", "torch", TORCH + """
def morse(r, D=1.0, a=1.5, r0=1.0):
    return D * (1 - torch.exp(-a * (r - r0))) ** 2

d = torch.pdist(pos)
morse(d, D, a, r0).sum()
""", pos=n(4, 3), D=np.array(0.8), a=np.array(1.3), r0=np.array(1.1))
S("coupled oscillators normal modes eigvalsh torch", "torch", TORCH + """
n = k.shape[0] - 1
K = torch.diag(k[:-1] + k[1:]) - torch.diag(k[1:-1], 1) - torch.diag(k[1:-1], -1)
Minv_sqrt = torch.diag(m ** -0.5)
omega2 = torch.linalg.eigvalsh(Minv_sqrt @ K @ Minv_sqrt)
torch.sqrt(omega2)
""", k=np.array([1.0, 1.7, 2.3, 1.2]), m=np.array([1.0, 2.0, 1.5]))
S("Kepler orbit invariants jnp.cross", "jax", JAX + """
mu = 1.0
r = jnp.linalg.norm(x)
E = 0.5 * jnp.dot(v, v) - mu / r
h = jnp.cross(x, v)
e_vec = jnp.cross(v, h) / mu - x / r
jnp.concatenate([jnp.array([E]), h, e_vec])
""", x=np.array([1.0, 0.1, 0.0]) + 0.05 * n(3), v=np.array([0.0, 1.1, 0.1]) + 0.05 * n(3))
S("double-well Langevin energy numpy", "numpy", NP + """
def V(x):
    return (x ** 2 - 1) ** 2 + 0.3 * x

def grad_V(x):
    return 4 * x * (x ** 2 - 1) + 0.3

for _ in range(5):
    x = x - 0.05 * grad_V(x) + 0.1 * noise
V(x).sum()
""", x=n(4), noise=n(4))

# ======================================================================================= reinforcement learning
S("PPO loss Categorical clip value entropy", "torch", TORCH + """
from torch.distributions import Categorical
dist = Categorical(logits=logits)
logp = dist.log_prob(actions)
ratio = torch.exp(logp - old_logp)
surr1 = ratio * adv
surr2 = torch.clamp(ratio, 1 - 0.2, 1 + 0.2) * adv
policy_loss = -torch.min(surr1, surr2).mean()
value_loss = F.mse_loss(values, returns)
entropy = dist.entropy().mean()
policy_loss + 0.5 * value_loss - 0.01 * entropy
""", logits=n(5, 3), actions=np.array([0, 2, 1, 1, 0]), old_logp=np.log(np.array([0.3, 0.2, 0.4, 0.35, 0.5])),
  adv=n(5), values=n(5), returns=n(5))
S("PPO jax log_softmax take_along_axis", "jax", JAX + """
def ppo_loss(logits, old_logp, actions, adv, eps=0.2):
    logp_all = jax.nn.log_softmax(logits)
    logp = jnp.take_along_axis(logp_all, actions[:, None], axis=1)[:, 0]
    ratio = jnp.exp(logp - old_logp)
    clipped = jnp.clip(ratio, 1 - eps, 1 + eps)
    return -jnp.mean(jnp.minimum(ratio * adv, clipped * adv))

ppo_loss(logits, old_logp, actions, adv)
""", logits=n(6, 4), old_logp=np.log(u(0.1, 0.5, 6)), actions=np.array([0, 3, 2, 1, 1, 0]), adv=n(6))
S("PPO numpy normalized advantages", "numpy", NP + """
adv_n = (adv - adv.mean()) / (adv.std() + 1e-8)
ratio = np.exp(logp - old_logp)
obj = np.minimum(ratio * adv_n, np.clip(ratio, 0.8, 1.2) * adv_n)
-obj.mean()
""", adv=n(6), logp=np.log(u(0.1, 0.9, 6)), old_logp=np.log(u(0.1, 0.9, 6)))
S("PPO value clipping torch", "torch", TORCH + """
v_clipped = old_values + torch.clamp(values - old_values, -0.2, 0.2)
loss_unclipped = (values - returns) ** 2
loss_clipped = (v_clipped - returns) ** 2
0.5 * torch.max(loss_unclipped, loss_clipped).mean()
""", values=n(6), old_values=n(6), returns=n(6))
S("GAE reversed loop insert torch", "torch", TORCH + """
gamma, lam = 0.99, 0.95
advantages = []
gae = torch.tensor(0.0)
for t in reversed(range(len(rewards))):
    delta = rewards[t] + gamma * values[t + 1] * (1 - dones[t]) - values[t]
    gae = delta + gamma * lam * (1 - dones[t]) * gae
    advantages.insert(0, gae)
adv = torch.stack(advantages)
returns = adv + values[:-1]
torch.cat([adv, returns])
""", rewards=n(5), values=n(6), dones=np.array([0.0, 0.0, 1.0, 0.0, 0.0]))
S("GAE jax lax.scan reverse", "jax", JAX + """
def gae(rewards, values, dones, gamma=0.99, lam=0.95):
    deltas = rewards + gamma * values[1:] * (1 - dones) - values[:-1]
    def body(carry, x):
        delta, d = x
        carry = delta + gamma * lam * (1 - d) * carry
        return carry, carry
    _, adv = jax.lax.scan(body, 0.0, (deltas, dones), reverse=True)
    return adv

gae(rewards, values, dones)
""", rewards=n(5), values=n(6), dones=np.array([0.0, 1.0, 0.0, 0.0, 0.0]))
S("GAE numpy zeros_like index assign", "numpy", NP + """
T = len(r)
adv = np.zeros_like(r)
last = 0.0
for t in range(T - 1, -1, -1):
    nonterminal = 1.0 - done[t]
    delta = r[t] + 0.99 * v[t + 1] * nonterminal - v[t]
    last = delta + 0.99 * 0.9 * nonterminal * last
    adv[t] = last
adv
""", r=n(5), v=n(6), done=np.array([0.0, 0.0, 0.0, 1.0, 0.0]))
S("entropy bonus Categorical probs torch", "torch", TORCH + """
from torch.distributions import Categorical
probs = F.softmax(logits / temperature, dim=-1)
ent = Categorical(probs=probs).entropy()
manual = -(probs * torch.log(probs)).sum(-1)
torch.stack([ent.mean(), manual.mean()])
""", logits=n(4, 5), temperature=np.array(1.5))
S("entropy jax softmax log_softmax", "jax", JAX + """
p = jax.nn.softmax(logits, axis=-1)
entropy = -jnp.sum(p * jax.nn.log_softmax(logits, axis=-1), axis=-1)
jnp.mean(entropy) * beta
""", logits=n(4, 5), beta=np.array(0.01))
S("SAC soft Q target detach", "torch", TORCH + """
alpha = log_alpha.exp()
with torch.no_grad():
    min_q_next = torch.min(q1_next, q2_next) - alpha * next_logp
    target = rewards + 0.99 * (1 - dones) * min_q_next
loss = F.mse_loss(q1, target) + F.mse_loss(q2, target)
loss
""", log_alpha=np.array(-1.0), q1_next=n(5), q2_next=n(5), next_logp=n(5), rewards=n(5),
  dones=np.array([0.0, 0.0, 1.0, 0.0, 0.0]), q1=n(5), q2=n(5))
S("SAC tanh-squashed Gaussian log-prob", "torch", TORCH + """
from torch.distributions import Normal
std = log_std.clamp(-20, 2).exp()
dist = Normal(mu, std)
u = mu + std * eps
a = torch.tanh(u)
logp = dist.log_prob(u).sum(-1) - torch.log(1 - a.pow(2) + 1e-6).sum(-1)
(alpha * logp - q).mean()
""", mu=n(4, 2), log_std=0.3 * n(4, 2), eps=n(4, 2), alpha=np.array(0.2), q=n(4))
S("SAC log-prob softplus form jax", "jax", JAX + """
from jax.scipy.stats import norm
u = mu + jnp.exp(log_std) * eps
logp = jnp.sum(norm.logpdf(u, mu, jnp.exp(log_std)), -1)
logp = logp - jnp.sum(2 * (jnp.log(2.0) - u - jax.nn.softplus(-2 * u)), -1)
logp
""", mu=n(3, 2), log_std=0.2 * n(3, 2), eps=n(3, 2))
S("policy gradient gather log-prob loss", "torch", TORCH + """
log_probs = F.log_softmax(logits, dim=-1)
chosen = log_probs.gather(1, actions.unsqueeze(1)).squeeze(1)
returns_n = (returns - returns.mean()) / (returns.std() + 1e-9)
-(chosen * returns_n).sum()
""", logits=n(5, 3), actions=np.array([2, 0, 1, 1, 2]), returns=n(5))
S("REINFORCE discounted returns reversed numpy", "numpy", NP + """
G, out = 0.0, []
for r in rewards[::-1]:
    G = r + 0.9 * G
    out.append(G)
returns = np.array(out[::-1])
logp = logits[np.arange(len(actions)), actions] - np.log(np.sum(np.exp(logits), axis=1))
-np.sum(logp * returns)
""", rewards=n(4), logits=n(4, 3), actions=np.array([0, 2, 1, 0]))
S("policy gradient jax one_hot", "jax", JAX + """
def loss(params, obs, actions, weights):
    logits = obs @ params["W"] + params["b"]
    logp = jnp.sum(jax.nn.one_hot(actions, logits.shape[-1]) * jax.nn.log_softmax(logits), axis=-1)
    return -jnp.mean(logp * weights)

loss({"W": W, "b": b}, obs, actions, weights)
""", W=n(3, 2), b=0.1 * n(2), obs=n(5, 3), actions=np.array([0, 1, 1, 0, 1]), weights=n(5))
S("TD(lambda) returns torch loop", "torch", TORCH + """
lam, gamma = 0.8, 0.95
G = values[-1]
out = []
for t in range(len(rewards) - 1, -1, -1):
    G = rewards[t] + gamma * ((1 - lam) * values[t + 1] + lam * G)
    out.append(G)
torch.stack(out[::-1])
""", rewards=n(4), values=n(5))
S("double DQN target argmax gather", "torch", TORCH + """
next_actions = q_online_next.argmax(dim=1, keepdim=True)
next_q = q_target_next.gather(1, next_actions).squeeze(1)
target = (rewards + 0.99 * (1 - dones) * next_q).detach()
q_taken = q.gather(1, actions.view(-1, 1)).squeeze(1)
F.smooth_l1_loss(q_taken, target)
""", q_online_next=n(4, 3), q_target_next=n(4, 3), rewards=n(4), dones=np.array([0.0, 1.0, 0.0, 0.0]),
  q=n(4, 3), actions=np.array([1, 0, 2, 2]))
S("TD3 actor loss critic MLP torch", "torch", TORCH + """
def critic(s, a):
    h = torch.relu(torch.cat([s, a], dim=-1) @ W1 + b1)
    return h @ w2

a = torch.tanh(s @ Wa) * 2.0
-critic(s, a).mean()
""", s=n(4, 3), Wa=n(3, 2), W1=n(5, 6), b1=0.5 + 0.1 * n(6), w2=n(6))
S("Gaussian policy log-prob jax norm.logpdf", "jax", JAX + """
import jax.scipy.stats as stats
mean = obs @ W
logp = stats.norm.logpdf(actions, loc=mean, scale=jnp.exp(log_std)).sum(axis=-1)
-(logp * adv).mean()
""", obs=n(5, 3), W=n(3, 2), actions=n(5, 2), log_std=0.2 * n(2), adv=n(5))
S("advantage-weighted regression weights", "torch", TORCH + """
w = torch.exp(adv / beta).clamp(max=20.0)
log_prob = -0.5 * ((actions - mu) ** 2).sum(-1)
-(w.detach() * log_prob).mean()
""", adv=n(5), beta=np.array(1.0), actions=n(5, 2), mu=n(5, 2))

# ====================================================================================== attention variants
S("RoPE cos sin cache outer then scores", "torch", TORCH + """
def rope(x, base=10000.0):
    T, D = x.shape
    inv_freq = 1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    t = torch.arange(T, dtype=torch.float64)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    x1, x2 = x[..., : D // 2], x[..., D // 2:]
    rotated = torch.cat((-x2, x1), dim=-1)
    return x * emb.cos() + rotated * emb.sin()

scores = rope(q) @ rope(k).T / math.sqrt(q.shape[-1])
torch.softmax(scores, dim=-1) @ v
""", q=n(4, 4), k=n(4, 4), v=n(4, 2))
S("RoPE jax einsum positions", "jax", JAX + """
def apply_rope(x):
    T, D = x.shape
    inv = 1.0 / (10000 ** (jnp.arange(0, D, 2) / D))
    ang = jnp.einsum("i,j->ij", jnp.arange(T), inv)
    sin, cos = jnp.sin(ang), jnp.cos(ang)
    x1, x2 = x[:, 0::2], x[:, 1::2]
    out = jnp.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
    return out.reshape(T, D)

jnp.sum(apply_rope(q) @ apply_rope(k).T)
""", q=n(3, 4), k=n(3, 4))
S("ALiBi slopes causal bias torch", "torch", TORCH + """
def alibi_slopes(n_heads):
    start = 2 ** (-8 / n_heads)
    return torch.tensor([start ** (i + 1) for i in range(n_heads)])

H, T, D = q.shape
slopes = alibi_slopes(H)
pos = torch.arange(T)
rel = (pos[None, :] - pos[:, None]).to(torch.float64)
bias = slopes[:, None, None] * rel[None]
scores = q @ k.transpose(-1, -2) / math.sqrt(D) + bias
causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
scores = scores.masked_fill(causal, float("-inf"))
(scores.softmax(-1) @ v).sum(dim=0)
""", q=n(2, 4, 3), k=n(2, 4, 3), v=n(2, 4, 3))
S("ALiBi jax where tril", "jax", JAX + """
H, T, D = q.shape
slopes = 2.0 ** (-8.0 * jnp.arange(1, H + 1) / H)
i = jnp.arange(T)
bias = -slopes[:, None, None] * jnp.abs(i[:, None] - i[None, :])
logits = jnp.einsum("htd,hsd->hts", q, k) / jnp.sqrt(D) + bias
mask = jnp.tril(jnp.ones((T, T), dtype=bool))
logits = jnp.where(mask, logits, -1e9)
jnp.einsum("hts,hsd->htd", jax.nn.softmax(logits, axis=-1), v)
""", q=n(2, 3, 2), k=n(2, 3, 2), v=n(2, 3, 2))
S("multi-query attention shared k v torch", "torch", TORCH + """
def mqa(x, Wq, Wk, Wv, n_heads):
    T, C = x.shape
    hd = C // n_heads
    q = (x @ Wq).view(T, n_heads, hd).transpose(0, 1)
    k = (x @ Wk).unsqueeze(0)
    v = (x @ Wv).unsqueeze(0)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
    att = F.softmax(att, dim=-1)
    y = att @ v
    return y.transpose(0, 1).contiguous().view(T, C)

mqa(x, Wq, Wk, Wv, 2).sum(0)
""", x=n(3, 4), Wq=n(4, 4), Wk=n(4, 2), Wv=n(4, 2))
S("grouped-query attention repeat_interleave", "torch", TORCH + """
B, Hq, T, D = q.shape
Hkv = k.shape[1]
k_rep = k.repeat_interleave(Hq // Hkv, dim=1)
v_rep = v.repeat_interleave(Hq // Hkv, dim=1)
att = torch.softmax(q @ k_rep.transpose(-2, -1) / D ** 0.5, dim=-1)
(att @ v_rep).mean()
""", q=n(1, 4, 3, 2), k=n(1, 2, 3, 2), v=n(1, 2, 3, 2))
S("causal mask tril where -inf torch", "torch", TORCH + """
T = x.shape[0]
q, k, v = x @ Wq, x @ Wk, x @ Wv
wei = q @ k.T * k.shape[-1] ** -0.5
tril = torch.tril(torch.ones(T, T))
wei = wei.masked_fill(tril == 0, float('-inf'))
wei = F.softmax(wei, dim=-1)
wei @ v
""", x=n(4, 3), Wq=n(3, 2), Wk=n(3, 2), Wv=n(3, 2))
S("causal jnp.tril where -inf jax", "jax", JAX + """
T = q.shape[0]
scores = q @ k.T / jnp.sqrt(q.shape[-1])
mask = jnp.tril(jnp.ones((T, T))) == 1
scores = jnp.where(mask, scores, -jnp.inf)
jax.nn.softmax(scores, axis=-1) @ v
""", q=n(4, 3), k=n(4, 3), v=n(4, 3))
S("sdpa is_causal torch", "torch", TORCH + """
out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
out.pow(2).sum()
""", q=n(1, 2, 4, 3), k=n(1, 2, 4, 3), v=n(1, 2, 4, 3))
S("sdpa float ALiBi attn_mask torch", "torch", TORCH + """
T = q.shape[-2]
pos = torch.arange(T)
bias = -(pos[None, :] - pos[:, None]).abs().to(q.dtype) * slope
F.scaled_dot_product_attention(q, k, v, attn_mask=bias).sum(-1)
""", q=n(2, 3, 2), k=n(2, 3, 2), v=n(2, 3, 2), slope=np.array(0.5))
S("sdpa is_causal scale torch", "torch", TORCH + """
F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3)
""", q=n(3, 2), k=n(3, 2), v=n(3, 2))
S("numpy causal attention np.tril", "numpy", NP + """
def softmax(x, axis=-1):
    x = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)

T = q.shape[0]
s = q @ k.T / np.sqrt(q.shape[1])
s = np.where(np.tril(np.ones((T, T))) > 0, s, -np.inf)
softmax(s) @ v
""", q=n(3, 2), k=n(3, 2), v=n(3, 2))
S("sliding window local attention mask torch", "torch", TORCH + """
T = q.shape[0]
i = torch.arange(T)
band = (i[:, None] - i[None, :]).abs() <= window
scores = (q @ k.T).masked_fill(~band, float("-inf"))
torch.softmax(scores, -1) @ v
""", q=n(5, 2), k=n(5, 2), v=n(5, 2), window=np.array(1))
S("multi-query attention jax einsum", "jax", JAX + """
def mqa(x, Wq, Wk, Wv, heads=2):
    T, C = x.shape
    q = (x @ Wq).reshape(T, heads, C // heads)
    k = x @ Wk
    v = x @ Wv
    logits = jnp.einsum("thd,sd->hts", q, k) / jnp.sqrt(C // heads)
    w = jax.nn.softmax(logits, -1)
    return jnp.einsum("hts,sd->thd", w, v).reshape(T, C)

mqa(x, Wq, Wk, Wv)
""", x=n(3, 4), Wq=n(4, 4), Wk=n(4, 2), Wv=n(4, 2))
S("cross-attention key padding mask torch", "torch", TORCH + """
scores = torch.einsum("bqd,bkd->bqk", q, k) / math.sqrt(q.size(-1))
scores = scores.masked_fill(~key_mask[:, None, :], -1e9)
torch.einsum("bqk,bkd->bqd", scores.softmax(-1), v)
""", q=n(2, 2, 3), k=n(2, 4, 3), v=n(2, 4, 3), key_mask=np.array([[True, True, True, False],
                                                                   [True, True, False, False]]))
S("linear attention elu feature map torch", "torch", TORCH + """
def phi(x):
    return F.elu(x) + 1

Q, K = phi(q), phi(k)
KV = K.transpose(-2, -1) @ v
Z = 1 / (Q @ K.sum(dim=-2, keepdim=True).transpose(-2, -1))
(Q @ KV) * Z
""", q=n(4, 3), k=n(4, 3), v=n(4, 2))
S("relative position bias table gather torch", "torch", TORCH + """
T = q.shape[0]
idx = torch.arange(T)
rel = idx[None, :] - idx[:, None] + (T - 1)
bias = table[rel]
attn = torch.softmax(q @ k.T / math.sqrt(q.shape[1]) + bias, dim=-1)
attn @ v
""", q=n(3, 2), k=n(3, 2), v=n(3, 2), table=0.1 * n(5))
S("attention with temperature and logit softcap jax", "jax", JAX + """
cap = 5.0
logits = (q @ k.T) / temp
logits = cap * jnp.tanh(logits / cap)
jnp.sum(jax.nn.softmax(logits) @ v)
""", q=n(3, 4), k=n(3, 4), v=n(3, 2), temp=np.array(0.7))
S("nn.MultiheadAttention causal attn_mask", "torch", TORCH + """
torch.manual_seed(0)
mha = nn.MultiheadAttention(embed_dim=4, num_heads=2, batch_first=True)
T = x.shape[1]
mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
out, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
out.sum()
""", x=n(1, 3, 4))

# ====================================================================================== contrastive losses
S("InfoNCE F.normalize cross_entropy arange", "torch", TORCH + """
def info_nce(query, key, temperature=0.1):
    query = F.normalize(query, dim=-1)
    key = F.normalize(key, dim=-1)
    logits = query @ key.T / temperature
    labels = torch.arange(len(query))
    return F.cross_entropy(logits, labels)

info_nce(a, b)
""", a=n(4, 3), b=n(4, 3))
S("NT-Xent cosine_similarity broadcast mask", "torch", TORCH + """
z = torch.cat([z_i, z_j], dim=0)
N = z_i.shape[0]
sim = F.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=-1) / tau
sim = sim.masked_fill(torch.eye(2 * N, dtype=torch.bool), float("-inf"))
targets = torch.cat([torch.arange(N, 2 * N), torch.arange(0, N)])
F.cross_entropy(sim, targets)
""", z_i=n(3, 4), z_j=n(3, 4), tau=np.array(0.5))
S("NT-Xent jax norms similarity matrix", "jax", JAX + """
def nt_xent(z1, z2, t=0.5):
    z = jnp.concatenate([z1, z2], 0)
    z = z / jnp.linalg.norm(z, axis=1, keepdims=True)
    sim = z @ z.T / t
    n = z1.shape[0]
    sim = sim - 1e9 * jnp.eye(2 * n)
    pos = jnp.concatenate([jnp.diag(sim, n), jnp.diag(sim, -n)])
    return jnp.mean(jax.nn.logsumexp(sim, axis=1) - pos)

nt_xent(z1, z2)
""", z1=n(3, 4), z2=n(3, 4))
S("nn.TripletMarginLoss swap module", "torch", TORCH + """
loss_fn = nn.TripletMarginLoss(margin=1.0, p=2, swap=True)
loss_fn(anchor, positive, negative)
""", anchor=n(4, 3), positive=n(4, 3), negative=n(4, 3))
S("triplet cosine distance numpy", "numpy", NP + """
def cos_dist(a, b):
    return 1 - np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

np.maximum(cos_dist(a, p) - cos_dist(a, q) + 0.3, 0).mean()
""", a=n(5, 3), p=n(5, 3), q=n(5, 3))
S("InfoNCE jax log_softmax diag", "jax", JAX + """
za = za / jnp.linalg.norm(za, axis=-1, keepdims=True)
zb = zb / jnp.linalg.norm(zb, axis=-1, keepdims=True)
logits = za @ zb.T / 0.07
-jnp.mean(jnp.diag(jax.nn.log_softmax(logits, axis=1)))
""", za=n(4, 3), zb=n(4, 3))
S("InfoNCE numpy scipy logsumexp", "numpy", NP + """
from scipy.special import logsumexp
logits = (x @ y.T) / 0.2
loss = np.mean(logsumexp(logits, axis=1) - np.diag(logits))
loss
""", x=n(4, 3), y=n(4, 3))
S("F.margin_ranking_loss pairs", "torch", TORCH + """
F.margin_ranking_loss(s1, s2, target, margin=0.5)
""", s1=n(6), s2=n(6), target=np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0]))
S("nn.CosineEmbeddingLoss module", "torch", TORCH + """
crit = nn.CosineEmbeddingLoss(margin=0.2)
crit(x1, x2, y)
""", x1=n(4, 3), x2=n(4, 3), y=np.array([1.0, -1.0, -1.0, 1.0]))
S("N-pair loss logsumexp torch", "torch", TORCH + """
logits = anchors @ positives.T
pos = torch.diagonal(logits)
torch.mean(torch.logsumexp(logits, dim=1) - pos) + 0.002 * (anchors.pow(2).sum() + positives.pow(2).sum())
""", anchors=n(4, 3), positives=n(4, 3))
S("Barlow Twins cross-correlation torch", "torch", TORCH + """
def off_diagonal(x):
    n, m = x.shape
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()

N, D = z1.shape
z1n = (z1 - z1.mean(0)) / z1.std(0)
z2n = (z2 - z2.mean(0)) / z2.std(0)
c = z1n.T @ z2n / N
on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
off_diag = off_diagonal(c).pow_(2).sum()
on_diag + 0.005 * off_diag
""", z1=n(6, 3), z2=n(6, 3))
S("VICReg variance invariance covariance", "torch", TORCH + """
sim = F.mse_loss(x, y)
x = x - x.mean(dim=0)
y = y - y.mean(dim=0)
std_x = torch.sqrt(x.var(dim=0) + 1e-4)
std_y = torch.sqrt(y.var(dim=0) + 1e-4)
std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
N, D = x.shape
cov_x = (x.T @ x) / (N - 1)
cov_y = (y.T @ y) / (N - 1)
off = lambda m: m - torch.diag(torch.diag(m))
cov_loss = off(cov_x).pow(2).sum() / D + off(cov_y).pow(2).sum() / D
25 * sim + 25 * std_loss + cov_loss
""", x=0.5 * n(6, 3), y=0.5 * n(6, 3))
S("batch-hard triplet jax masked min max", "jax", JAX + """
d = jnp.sqrt(jnp.sum((emb[:, None] - emb[None]) ** 2, -1) + 1e-12)
same = labels[:, None] == labels[None, :]
hardest_pos = jnp.max(jnp.where(same, d, 0.0), axis=1)
hardest_neg = jnp.min(jnp.where(same, jnp.inf, d), axis=1)
jnp.mean(jax.nn.relu(hardest_pos - hardest_neg + 0.5))
""", emb=n(6, 2), labels=np.array([0, 0, 1, 1, 2, 2]))
S("MoCo logits queue labels zeros", "torch", TORCH + """
q = F.normalize(q, dim=1)
k = F.normalize(k, dim=1).detach()
l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
l_neg = torch.einsum("nc,ck->nk", [q, queue])
logits = torch.cat([l_pos, l_neg], dim=1) / 0.07
labels = torch.zeros(logits.shape[0], dtype=torch.long)
F.cross_entropy(logits, labels)
""", q=n(3, 4), k=n(3, 4), queue=n(4, 5))
S("SigLIP sigmoid pairwise loss", "torch", TORCH + """
zimg = F.normalize(img, dim=-1)
ztxt = F.normalize(txt, dim=-1)
logits = zimg @ ztxt.T * t_prime.exp() + b
labels = 2 * torch.eye(len(img)) - 1
-F.logsigmoid(labels * logits).sum() / len(img)
""", img=n(3, 4), txt=n(3, 4), t_prime=np.array(np.log(10.0)), b=np.array(-10.0))

# ===================================================================================== Gaussian processes
XG, YG = np.sort(u(-2, 2, 5)), n(5)
XG2 = n(5, 2)
S("GP ARD kernel cholesky_solve predictive mean", "torch", TORCH + """
def ard(X1, X2, ls, sf):
    d = (X1[:, None, :] - X2[None, :, :]) / ls
    return sf ** 2 * torch.exp(-0.5 * (d ** 2).sum(-1))

K = ard(X, X, ls, sf) + sn ** 2 * torch.eye(len(X))
L = torch.linalg.cholesky(K)
alpha = torch.cholesky_solve(y.unsqueeze(-1), L)
nll = 0.5 * (y.unsqueeze(-1) * alpha).sum() + torch.log(torch.diagonal(L)).sum() + 0.5 * len(X) * math.log(2 * math.pi)
mean = ard(Xs, X, ls, sf) @ alpha
torch.cat([nll.reshape(1), mean.flatten()])
""", X=XG2, y=YG, Xs=n(2, 2), ls=np.array([0.8, 1.3]), sf=np.array(1.1), sn=np.array(0.3))
S("GP jax cho_factor cho_solve", "jax", JAX + """
from jax.scipy.linalg import cho_factor, cho_solve

def nll(log_ell, log_sf, log_sn, X, y):
    d2 = (X[:, None] - X[None, :]) ** 2
    K = jnp.exp(2 * log_sf) * jnp.exp(-0.5 * d2 / jnp.exp(2 * log_ell)) + jnp.exp(2 * log_sn) * jnp.eye(len(X))
    c, low = cho_factor(K, lower=True)
    a = cho_solve((c, low), y)
    return 0.5 * y @ a + jnp.sum(jnp.log(jnp.diag(c))) + 0.5 * len(X) * jnp.log(2 * jnp.pi)

nll(log_ell, log_sf, log_sn, X, y)
""", log_ell=np.array(-0.2), log_sf=np.array(0.1), log_sn=np.array(-1.0), X=XG, y=YG)
S("GP scipy cho_factor cho_solve numpy", "numpy", NP + """
from scipy.linalg import cho_factor, cho_solve
K = sf2 * np.exp(-0.5 * (X[:, None] - X[None, :]) ** 2 / ell ** 2) + noise * np.eye(len(X))
c_and_lower = cho_factor(K)
alpha = cho_solve(c_and_lower, y)
0.5 * y @ alpha + np.sum(np.log(np.diag(c_and_lower[0]))) + 0.5 * len(X) * np.log(2 * np.pi)
""", X=XG, y=YG, sf2=np.array(1.2), ell=np.array(0.7), noise=np.array(0.1))
S("GP predictive variance solve_triangular torch", "torch", TORCH + """
def k(a, b):
    return torch.exp(-0.5 * (a[:, None] - b[None, :]) ** 2 / ell ** 2)

L = torch.linalg.cholesky(k(X, X) + 0.05 * torch.eye(len(X)))
Ks = k(X, Xs)
v = torch.linalg.solve_triangular(L, Ks, upper=False)
var = 1.0 - (v ** 2).sum(0)
mu = Ks.T @ torch.cholesky_solve(y[:, None], L).squeeze(-1)
torch.cat([mu, var])
""", X=XG, y=YG, Xs=np.array([-0.5, 0.3, 1.7]), ell=np.array(0.9))
S("GP periodic kernel jax slogdet solve", "jax", JAX + """
def periodic(x1, x2, ell, p):
    return jnp.exp(-2 * jnp.sin(jnp.pi * jnp.abs(x1[:, None] - x2[None, :]) / p) ** 2 / ell ** 2)

K = periodic(X, X, ell, period) + 0.1 * jnp.eye(X.shape[0])
_, logdet = jnp.linalg.slogdet(K)
0.5 * y @ jnp.linalg.solve(K, y) + 0.5 * logdet
""", X=np.array([0.1, 0.45, 0.9, 1.6, 2.2]), y=YG, ell=np.array(0.8), period=np.array(1.7))
S("GP RBF + linear kernel numpy slogdet", "numpy", NP + """
def kernel(A, B, ell, c):
    sq = np.sum(A ** 2, 1)[:, None] + np.sum(B ** 2, 1)[None, :] - 2 * A @ B.T
    return np.exp(-0.5 * sq / ell ** 2) + c * A @ B.T

K = kernel(X, X, ell, c) + 0.2 * np.eye(len(X))
sign, logdet = np.linalg.slogdet(K)
0.5 * (y @ np.linalg.solve(K, y) + logdet + len(y) * np.log(2 * np.pi))
""", X=XG2, y=YG, ell=np.array(1.1), c=np.array(0.3))
S("GP MultivariateNormal zeros K log_prob", "torch", TORCH + """
from torch.distributions import MultivariateNormal
K = outputscale * torch.exp(-0.5 * torch.cdist(X, X).pow(2) / lengthscale ** 2) + noise * torch.eye(X.shape[0])
mvn = MultivariateNormal(torch.zeros(X.shape[0]), covariance_matrix=K)
-mvn.log_prob(y) / X.shape[0]
""", X=XG2, y=YG, outputscale=np.array(1.3), lengthscale=np.array(0.9), noise=np.array(0.15))
S("GP jax multivariate_normal.logpdf", "jax", JAX + """
from jax.scipy.stats import multivariate_normal
K = s2 * jnp.exp(-jnp.sum((X[:, None, :] - X[None, :, :]) ** 2, -1) / (2 * ell ** 2)) + 0.1 * jnp.eye(len(X))
multivariate_normal.logpdf(y, mean=jnp.zeros(len(X)), cov=K)
""", X=XG2, y=YG, s2=np.array(0.9), ell=np.array(1.2))
S("sparse GP Nystrom Woodbury torch", "torch", TORCH + """
def rbf(a, b):
    return torch.exp(-0.5 * torch.cdist(a, b) ** 2)

Kmm = rbf(Z, Z) + 1e-6 * torch.eye(len(Z))
Kmn = rbf(Z, X)
Lm = torch.linalg.cholesky(Kmm)
A = torch.linalg.solve_triangular(Lm, Kmn, upper=False) / sigma
B = torch.eye(len(Z)) + A @ A.T
LB = torch.linalg.cholesky(B)
c = torch.linalg.solve_triangular(LB, (A @ y)[:, None], upper=False).squeeze(-1) / sigma
N = len(X)
bound = -0.5 * N * math.log(2 * math.pi) - torch.log(torch.diag(LB)).sum() - N * torch.log(sigma)
bound - 0.5 * (y @ y) / sigma ** 2 + 0.5 * (c @ c)
""", X=XG2, y=YG, Z=n(2, 2), sigma=np.array(0.5))

# ================================================================================================= Sinkhorn
S("Sinkhorn log-domain torch logsumexp cost", "torch", TORCH + """
def sinkhorn(x, y, eps=0.5, iters=30):
    C = torch.cdist(x, y) ** 2
    n, m = C.shape
    log_a = torch.full((n,), -math.log(n))
    log_b = torch.full((m,), -math.log(m))
    f = torch.zeros(n)
    g = torch.zeros(m)
    for _ in range(iters):
        f = -eps * torch.logsumexp((g[None, :] - C) / eps + log_b[None, :], dim=1)
        g = -eps * torch.logsumexp((f[:, None] - C) / eps + log_a[:, None], dim=0)
    P = torch.exp((f[:, None] + g[None, :] - C) / eps + log_a[:, None] + log_b[None, :])
    return (P * C).sum()

sinkhorn(x, y)
""", x=n(4, 2), y=n(3, 2))
S("Sinkhorn scaling vectors numpy", "numpy", NP + """
K = np.exp(-C / reg)
u = np.ones(len(a)) / len(a)
for _ in range(50):
    v = b / (K.T @ u)
    u = a / (K @ v)
P = u[:, None] * K * v[None, :]
np.sum(P * C)
""", C=u(0, 2, 4, 3), a=np.array([0.1, 0.2, 0.3, 0.4]), b=np.array([0.5, 0.25, 0.25]), reg=np.array(0.3))
S("Sinkhorn jax fori_loop tuple", "jax", JAX + """
def sinkhorn(C, a, b, eps=0.3, n_iter=40):
    K = jnp.exp(-C / eps)
    def body(i, uv):
        u, v = uv
        u = a / (K @ v)
        v = b / (K.T @ u)
        return (u, v)
    u, v = jax.lax.fori_loop(0, n_iter, body, (jnp.ones_like(a), jnp.ones_like(b)))
    return jnp.sum(u[:, None] * K * v[None, :] * C)

sinkhorn(C, a, b)
""", C=u(0, 1, 3, 3), a=np.array([0.2, 0.3, 0.5]), b=np.array([0.3, 0.3, 0.4]))
S("unbalanced Sinkhorn KL marginals torch", "torch", TORCH + """
K = torch.exp(-C / eps)
fi = rho / (rho + eps)
u = torch.ones_like(a)
v = torch.ones_like(b)
for _ in range(30):
    u = (a / (K @ v)) ** fi
    v = (b / (K.T @ u)) ** fi
P = u[:, None] * K * v[None, :]
(P * C).sum()
""", C=u(0, 1, 3, 4), a=np.array([0.3, 0.3, 0.4]), b=np.array([0.2, 0.2, 0.3, 0.3]), eps=np.array(0.2),
  rho=np.array(1.0))
S("Sinkhorn divergence symmetrized torch", "torch", TORCH + """
def ot(x, y, eps=1.0, iters=20):
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a = torch.ones(len(x)) / len(x)
    b = torch.ones(len(y)) / len(y)
    g = torch.zeros(len(y))
    for _ in range(iters):
        f = -eps * torch.logsumexp(torch.log(b) + (g - C) / eps, dim=1)
        g = -eps * torch.logsumexp(torch.log(a)[:, None] + (f[:, None] - C) / eps, dim=0)
    return (a * f).sum() + (b * g).sum()

ot(x, y) - 0.5 * ot(x, x) - 0.5 * ot(y, y)
""", x=n(3, 2), y=n(3, 2) + 0.5)
S("Sinkhorn numpy scipy logsumexp log-domain", "numpy", NP + """
from scipy.special import logsumexp
f = np.zeros(len(a))
g = np.zeros(len(b))
for _ in range(40):
    f = eps * np.log(a) - eps * logsumexp((g[None, :] - C) / eps, axis=1)
    g = eps * np.log(b) - eps * logsumexp((f[:, None] - C) / eps, axis=0)
P = np.exp((f[:, None] + g[None, :] - C) / eps)
np.sum(P * C) + P.sum()
""", C=u(0, 1, 3, 3), a=np.array([0.2, 0.5, 0.3]), b=np.array([0.4, 0.4, 0.2]), eps=np.array(0.25))
S("Sinkhorn jax.nn.logsumexp while fixed count", "jax", JAX + """
x_, y_ = x, y
C = jnp.sum((x_[:, None, :] - y_[None, :, :]) ** 2, axis=-1)
loga = jnp.log(jnp.ones(x.shape[0]) / x.shape[0])
logb = jnp.log(jnp.ones(y.shape[0]) / y.shape[0])
f = jnp.zeros(x.shape[0]); g = jnp.zeros(y.shape[0])
i = 0
while i < 25:
    f = -0.5 * jax.nn.logsumexp(logb[None, :] + (g[None, :] - C) / 0.5, axis=1)
    g = -0.5 * jax.nn.logsumexp(loga[:, None] + (f[:, None] - C) / 0.5, axis=0)
    i += 1
jnp.sum(jnp.exp(loga[:, None] + logb[None, :] + (f[:, None] + g[None, :] - C) / 0.5) * C)
""", x=n(3, 2), y=n(4, 2))

# ================================================================================================ robot arms
S("2-link planar arm FK torch", "torch", TORCH + """
def fk(theta, l1=1.0, l2=0.8):
    x = l1 * torch.cos(theta[0]) + l2 * torch.cos(theta[0] + theta[1])
    y = l1 * torch.sin(theta[0]) + l2 * torch.sin(theta[0] + theta[1])
    return torch.stack([x, y])

fk(theta)
""", theta=np.array([0.4, 0.9]))
S("3-link arm jnp.cumsum manipulability", "jax", JAX + """
def fk(q, lengths):
    a = jnp.cumsum(q)
    return jnp.array([jnp.sum(lengths * jnp.cos(a)), jnp.sum(lengths * jnp.sin(a))])

J = jax.jacfwd(fk)(q, lengths)
jnp.sqrt(jnp.linalg.det(J @ J.T))
""", q=np.array([0.3, 0.8, -0.5]), lengths=np.array([1.0, 0.7, 0.4]))
S("IK loss 3-link torch cumsum", "torch", TORCH + """
angles = torch.cumsum(q, dim=0)
ee = torch.stack([(L * torch.cos(angles)).sum(), (L * torch.sin(angles)).sum()])
((ee - target) ** 2).sum() + 1e-3 * (q ** 2).sum()
""", q=np.array([0.2, 0.5, 0.4]), L=np.array([1.0, 0.8, 0.5]), target=np.array([1.2, 0.9]))
S("2-link arm numpy joint positions", "numpy", NP + """
l1, l2 = 1.0, 0.6
elbow = np.array([l1 * np.cos(q[0]), l1 * np.sin(q[0])])
hand = elbow + np.array([l2 * np.cos(q[0] + q[1]), l2 * np.sin(q[0] + q[1])])
np.concatenate([elbow, hand])
""", q=np.array([0.7, -0.3]))
S("3-link homogeneous 3x3 loop torch", "torch", TORCH + """
def transform(theta, length):
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s, length * c]),
                        torch.stack([s, c, length * s]),
                        torch.tensor([0.0, 0.0, 1.0])])

T = torch.eye(3)
for i in range(3):
    T = T @ transform(q[i], lengths[i])
T[:2, 2]
""", q=np.array([0.1, 0.6, -0.2]), lengths=np.array([1.0, 0.8, 0.3]))
S("IK damped least squares step jax", "jax", JAX + """
def fk(q):
    a = jnp.cumsum(q)
    return jnp.stack([jnp.sum(jnp.cos(a)), jnp.sum(jnp.sin(a))])

e = target - fk(q)
J = jax.jacfwd(fk)(q)
lam = 0.1
dq = J.T @ jnp.linalg.solve(J @ J.T + lam ** 2 * jnp.eye(2), e)
q + dq
""", q=np.array([0.3, 0.4, 0.5]), target=np.array([1.5, 1.5]))
S("manipulability torch.func.jacrev", "torch", TORCH + """
from torch.func import jacrev

def fk(q):
    a = torch.cumsum(q, 0)
    return torch.stack([torch.cos(a).sum(), torch.sin(a).sum()])

J = jacrev(fk)(q)
torch.sqrt(torch.det(J @ J.T))
""", q=np.array([0.5, 0.6, -0.4]))
S("3-link arm np.stack all joints", "numpy", NP + """
phi = np.cumsum(theta)
steps = np.stack([link * np.cos(phi), link * np.sin(phi)], axis=1)
joints = np.cumsum(steps, axis=0)
joints.ravel()
""", theta=np.array([0.3, 0.2, 0.9]), link=np.array([1.0, 0.5, 0.25]))
S("2-link arm torque gravity jax.grad", "jax", JAX + """
def potential(q, m=jnp.array([1.0, 0.5]), l=jnp.array([1.0, 0.7]), g=9.81):
    y1 = 0.5 * l[0] * jnp.sin(q[0])
    y2 = l[0] * jnp.sin(q[0]) + 0.5 * l[1] * jnp.sin(q[0] + q[1])
    return g * (m[0] * y1 + m[1] * y2)

jax.grad(potential)(q)
""", q=np.array([0.4, 0.3]))

# ================================================================================================= finance
S("BS torch.erf grid strikes maturities", "torch", TORCH + """
def ncdf(x):
    return 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))

K_ = K[:, None]
T_ = T[None, :]
d1 = (torch.log(S0 / K_) + (r + 0.5 * sigma ** 2) * T_) / (sigma * torch.sqrt(T_))
d2 = d1 - sigma * torch.sqrt(T_)
S0 * ncdf(d1) - K_ * torch.exp(-r * T_) * ncdf(d2)
""", S0=np.array(100.0), K=np.array([90.0, 100.0, 110.0]), T=np.array([0.25, 1.0]), r=np.array(0.03),
  sigma=np.array(0.25))
S("BS numpy scipy.special.erf", "numpy", NP + """
from scipy.special import erf
Phi = lambda x: 0.5 * (1 + erf(x / np.sqrt(2)))
d1 = (np.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * np.sqrt(T))
d2 = d1 - sigma * np.sqrt(T)
S * Phi(d1) - K * np.exp(-r * T) * Phi(d2)
""", S=np.array([95.0, 105.0]), K=np.array(100.0), T=np.array(0.5), r=np.array(0.02), sigma=np.array(0.3))
S("BS jax.scipy.special.erf put", "jax", JAX + """
from jax.scipy.special import erf

def put(S, K, T, r, v):
    d1 = (jnp.log(S / K) + (r + 0.5 * v * v) * T) / (v * jnp.sqrt(T))
    d2 = d1 - v * jnp.sqrt(T)
    N = lambda x: 0.5 * (1 + erf(x / jnp.sqrt(2.0)))
    return K * jnp.exp(-r * T) * N(-d2) - S * N(-d1)

put(S, K, T, r, v)
""", S=np.array([90.0, 100.0]), K=np.array(95.0), T=np.array(0.75), r=np.array(0.01), v=np.array(0.2))
S("straddle price and vega norm.pdf numpy", "numpy", NP + """
from scipy.stats import norm
d1 = (np.log(S / K) + (r + 0.5 * s ** 2) * T) / (s * np.sqrt(T))
d2 = d1 - s * np.sqrt(T)
call = S * norm.cdf(d1) - K * np.exp(-r * T) * norm.cdf(d2)
put = K * np.exp(-r * T) * norm.cdf(-d2) - S * norm.cdf(-d1)
vega = 2 * S * norm.pdf(d1) * np.sqrt(T)
np.array([call + put, vega])
""", S=np.array(100.0), K=np.array(100.0), T=np.array(0.5), r=np.array(0.02), s=np.array(0.2))
S("log returns log1p pct_change Sharpe torch", "torch", TORCH + """
pct = prices[1:] / prices[:-1] - 1
log_ret = torch.log1p(pct)
excess = log_ret - rf / 252
math.sqrt(252) * excess.mean() / excess.std(correction=1)
""", prices=100 * np.exp(np.cumsum(0.01 * n(12))), rf=np.array(0.02))
S("Sharpe ratio jax std ddof", "jax", JAX + """
r = jnp.diff(jnp.log(prices))
jnp.sqrt(252.0) * jnp.mean(r) / jnp.std(r, ddof=1)
""", prices=100 * np.exp(np.cumsum(0.01 * n(10))))
S("Sortino ratio downside numpy", "numpy", NP + """
r = np.log(prices[1:] / prices[:-1])
downside = np.minimum(r - target, 0.0)
dd = np.sqrt(np.mean(downside ** 2))
np.sqrt(252) * (r.mean() - target) / dd
""", prices=100 * np.exp(np.cumsum(0.01 * n(12))), target=np.array(0.0001))
S("rolling Sharpe sliding_window_view numpy", "numpy", NP + """
from numpy.lib.stride_tricks import sliding_window_view
r = np.diff(np.log(p))
w = sliding_window_view(r, 5)
w.mean(axis=1) / w.std(axis=1, ddof=1)
""", p=100 * np.exp(np.cumsum(0.01 * n(10))))
S("Asian option MC fixed normals torch", "torch", TORCH + """
dt = T / Z.shape[1]
increments = (r - 0.5 * sigma ** 2) * dt + sigma * math.sqrt(dt.item()) * Z
paths = S0 * torch.exp(torch.cumsum(increments, dim=1))
avg = paths.mean(dim=1)
torch.exp(-r * T) * F.relu(avg - K).mean()
""", S0=np.array(100.0), K=np.array(95.0), T=np.array(1.0), r=np.array(0.03), sigma=np.array(0.2), Z=n(6, 4))
S("Margrabe exchange option numpy", "numpy", NP + """
from scipy.stats import norm
sigma = np.sqrt(s1 ** 2 + s2 ** 2 - 2 * rho * s1 * s2)
d1 = (np.log(S1 / S2) + 0.5 * sigma ** 2 * T) / (sigma * np.sqrt(T))
d2 = d1 - sigma * np.sqrt(T)
S1 * norm.cdf(d1) - S2 * norm.cdf(d2)
""", S1=np.array(100.0), S2=np.array(95.0), s1=np.array(0.2), s2=np.array(0.3), rho=np.array(0.4),
  T=np.array(1.0))
S("Garman-Kohlhagen FX call jax norm.cdf", "jax", JAX + """
from jax.scipy.stats import norm
d1 = (jnp.log(S / K) + (rd - rf + 0.5 * sig ** 2) * T) / (sig * jnp.sqrt(T))
d2 = d1 - sig * jnp.sqrt(T)
S * jnp.exp(-rf * T) * norm.cdf(d1) - K * jnp.exp(-rd * T) * norm.cdf(d2)
""", S=np.array([1.08, 1.12]), K=np.array(1.1), rd=np.array(0.04), rf=np.array(0.02), sig=np.array(0.1),
  T=np.array(0.5))
S("Kelly log utility jax", "jax", JAX + """
def growth(f, returns, probs):
    return jnp.sum(probs * jnp.log1p(returns @ f))

g = growth(f, returns, probs)
jnp.concatenate([g[None], jax.grad(growth)(f, returns, probs)])
""", f=np.array([0.2, 0.1]), returns=np.array([[0.5, -0.2], [-0.3, 0.4], [0.1, 0.1]]),
  probs=np.array([0.3, 0.3, 0.4]))
S("CVaR Rockafellar-Uryasev torch relu", "torch", TORCH + """
losses = -(R @ w)
alpha = 0.9
t + F.relu(losses - t).mean() / (1 - alpha)
""", R=0.05 * n(10, 3), w=np.array([0.5, 0.3, 0.2]), t=np.array(0.01))

# ====================================================================================== signal processing
SIG = np.sin(2 * np.pi * 0.15 * np.arange(16)) + 0.3 * n(16)
S("torch.fft.rfft power spectrum", "torch", TORCH + """
X = torch.fft.rfft(x)
power = X.abs() ** 2 / x.shape[0]
power
""", x=SIG)
S("np.fft.rfft Hann window np.hanning", "numpy", NP + """
w = np.hanning(len(x))
X = np.fft.rfft(x * w)
psd = (np.abs(X) ** 2) / np.sum(w ** 2)
psd[1:5]
""", x=SIG)
S("jnp.fft.fft band power", "jax", JAX + """
X = jnp.fft.fft(x - jnp.mean(x))
p = jnp.abs(X) ** 2
jnp.sum(p[1:4]) / jnp.sum(p[1:8])
""", x=SIG)
S("torch.hamming_window rfft magnitude", "torch", TORCH + """
win = torch.hamming_window(x.shape[-1], periodic=False, dtype=x.dtype)
spec = torch.fft.rfft(x * win)
torch.log(spec.abs() + 1e-6)
""", x=SIG)
S("np.blackman window energy", "numpy", NP + """
w = np.blackman(x.size)
np.sum((x * w) ** 2) / np.sum(w ** 2)
""", x=SIG)
S("triangular weighted moving average np.convolve same", "numpy", NP + """
w = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
w = w / w.sum()
np.convolve(x, w, mode="same")
""", x=SIG[:10])
S("F.conv1d moving average padding same", "torch", TORCH + """
k = torch.ones(1, 1, 3) / 3
F.conv1d(x.view(1, 1, -1), k, padding="same").flatten()
""", x=SIG[:8])
S("jnp.convolve same exponential kernel", "jax", JAX + """
kernel = jnp.exp(-jnp.arange(4.0) / tau)
kernel = kernel / kernel.sum()
jnp.convolve(x, kernel, mode="same")
""", x=SIG[:8], tau=np.array(1.5))
S("scipy.signal.fftconvolve smoothing", "numpy", NP + """
from scipy.signal import fftconvolve
g = np.exp(-0.5 * np.arange(-2, 3) ** 2)
fftconvolve(x, g / g.sum(), mode="same")
""", x=SIG[:8])
S("STFT frames unfold hann rfft torch", "torch", TORCH + """
frames = x.unfold(0, 8, 4)
win = torch.hann_window(8, dtype=x.dtype)
spec = torch.fft.rfft(frames * win, dim=-1)
(spec.real ** 2 + spec.imag ** 2).sum(-1)
""", x=SIG)
S("spectral centroid numpy rfftfreq", "numpy", NP + """
mag = np.abs(np.fft.rfft(x))
freqs = np.fft.rfftfreq(len(x), d=1 / fs)
np.sum(freqs * mag) / np.sum(mag)
""", x=SIG, fs=np.array(100.0))
S("autocorrelation via FFT irfft torch", "torch", TORCH + """
N = x.shape[0]
xc = x - x.mean()
Xf = torch.fft.rfft(xc, n=2 * N)
ac = torch.fft.irfft(Xf * Xf.conj(), n=2 * N)[:N]
ac / ac[0]
""", x=SIG[:8])
S("FFT low-pass irfft numpy", "numpy", NP + """
X = np.fft.rfft(x)
X[4:] = 0
np.fft.irfft(X, n=len(x))
""", x=SIG)
S("np.bartlett kaiser windows", "numpy", NP + """
np.array([np.sum(x * np.bartlett(len(x))), np.sum(x * np.kaiser(len(x), 5.0))])
""", x=SIG)
S("real cepstrum jnp", "jax", JAX + """
spec = jnp.abs(jnp.fft.fft(x)) + 1e-3
jnp.real(jnp.fft.ifft(jnp.log(spec)))[:4]
""", x=SIG)
S("torch.stft magnitude", "torch", TORCH + """
S_ = torch.stft(x, n_fft=8, hop_length=4, window=torch.hann_window(8, dtype=x.dtype), return_complex=True)
S_.abs().sum()
""", x=SIG)

# ============================================================================================== statistics
S("Huber regression torch.where by hand", "torch", TORCH + """
res = y - X @ beta
delta = 1.0
quad = 0.5 * res ** 2
lin = delta * (res.abs() - 0.5 * delta)
torch.where(res.abs() <= delta, quad, lin).mean()
""", X=n(8, 2), beta=np.array([0.5, -1.0]), y=2 * n(8))
S("Huber jax optax-style", "jax", JAX + """
def huber_loss(predictions, targets, delta=1.0):
    errors = predictions - targets
    abs_errors = jnp.abs(errors)
    quadratic = jnp.minimum(abs_errors, delta)
    linear = abs_errors - quadratic
    return 0.5 * quadratic ** 2 + delta * linear

jnp.mean(huber_loss(p, t))
""", p=2 * n(6), t=n(6))
S("Huber numpy np.where", "numpy", NP + """
r = y - a - b * x
c = 1.345
np.sum(np.where(np.abs(r) < c, 0.5 * r ** 2, c * np.abs(r) - 0.5 * c ** 2))
""", x=n(8), y=n(8), a=np.array(0.1), b=np.array(0.7))
S("multi-quantile pinball numpy broadcast", "numpy", NP + """
qs = np.array([0.1, 0.5, 0.9])
e = y[:, None] - preds
np.mean(np.maximum(qs * e, (qs - 1) * e), axis=0)
""", y=n(6), preds=n(6, 3))
S("quantile loss torch.maximum", "torch", TORCH + """
q = torch.tensor([0.05, 0.5, 0.95])
err = target.unsqueeze(-1) - pred
torch.maximum(q * err, (q - 1) * err).sum(-1).mean()
""", target=n(5), pred=n(5, 3))
S("KDE log-likelihood jax logsumexp bandwidth", "jax", JAX + """
from jax.scipy.special import logsumexp
def kde_loglik(x_eval, data, h):
    z = (x_eval[:, None] - data[None, :]) / h
    return logsumexp(-0.5 * z ** 2, axis=1) - jnp.log(data.shape[0] * h * jnp.sqrt(2 * jnp.pi))

kde_loglik(xe, data, h).sum()
""", xe=n(3), data=n(7), h=np.array(0.6))
S("KDE leave-one-out torch masked diagonal", "torch", TORCH + """
N = x.shape[0]
d2 = (x[:, None] - x[None, :]) ** 2
logk = -0.5 * d2 / bw ** 2 - torch.log(bw) - 0.5 * math.log(2 * math.pi)
logk = logk.masked_fill(torch.eye(N, dtype=torch.bool), float("-inf"))
(torch.logsumexp(logk, dim=1) - math.log(N - 1)).mean()
""", x=n(6), bw=np.array(0.5))
S("KDE scipy norm.logpdf logsumexp", "numpy", NP + """
from scipy.stats import norm
from scipy.special import logsumexp
ll = logsumexp(norm.logpdf(x[:, None], loc=data[None, :], scale=h), axis=1) - np.log(len(data))
ll.sum()
""", x=n(3), data=n(6), h=np.array(0.4))
S("weighted least squares sqrt weights lstsq numpy", "numpy", NP + """
sw = np.sqrt(w)
beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
beta
""", X=n(7, 3), y=n(7), w=u(0.5, 2, 7))
S("WLS normal equations torch solve", "torch", TORCH + """
W = torch.diag(w)
beta = torch.linalg.solve(X.T @ W @ X, X.T @ W @ y)
resid = y - X @ beta
torch.cat([beta, (w * resid ** 2).sum().reshape(1)])
""", X=n(7, 2), y=n(7), w=u(0.5, 2, 7))
S("WLS jnp.linalg.lstsq", "jax", JAX + """
sw = jnp.sqrt(w)
coef, res, rank, sv = jnp.linalg.lstsq(X * sw[:, None], y * sw)
coef
""", X=n(6, 2), y=n(6), w=u(0.5, 2, 6))
S("IRLS Huber weights three iterations numpy", "numpy", NP + """
beta = np.linalg.solve(X.T @ X, X.T @ y)
for _ in range(3):
    r = y - X @ beta
    w = np.minimum(1.0, 1.345 / np.abs(r))
    beta = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))
beta
""", X=n(8, 2), y=n(8))
S("log-cosh loss torch", "torch", TORCH + """
def log_cosh(pred, target):
    d = pred - target
    return torch.mean(d + F.softplus(-2.0 * d) - math.log(2.0))

log_cosh(pred, target)
""", pred=n(6), target=n(6))
S("Tukey biweight loss numpy", "numpy", NP + """
c = 4.685
r = resid / scale
rho = np.where(np.abs(r) <= c, c ** 2 / 6 * (1 - (1 - (r / c) ** 2) ** 3), c ** 2 / 6)
rho.sum()
""", resid=np.array([0.3, -1.2, 2.5, 7.0, -0.1]), scale=np.array(1.1))
S("bootstrap-free standard error of mean torch", "torch", TORCH + """
m = x.mean()
se = x.std(unbiased=True) / math.sqrt(x.numel())
torch.stack([m, se, m / se])
""", x=n(9))
S("Gaussian log-likelihood MLE sigma jax", "jax", JAX + """
mu = jnp.mean(x)
sigma2 = jnp.var(x)
n = x.shape[0]
-0.5 * n * (jnp.log(2 * jnp.pi * sigma2) + 1)
""", x=n(8))

# ================================================================================================ image ops
IMG = n(1, 1, 5, 5)
S("Sobel conv2d gradient magnitude torch", "torch", TORCH + """
kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).view(1, 1, 3, 3)
ky = kx.transpose(2, 3)
gx = F.conv2d(img, kx, padding=1)
gy = F.conv2d(img, ky, padding=1)
torch.sqrt(gx ** 2 + gy ** 2 + 1e-6).mean()
""", img=IMG)
S("Sobel stacked kernels two channels torch", "torch", TORCH + """
sobel = torch.tensor([[[[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]]],
                      [[[1., 2., 1.], [0., 0., 0.], [-1., -2., -1.]]]])
g = F.conv2d(img, sobel)
g.pow(2).sum(dim=1).flatten()
""", img=IMG)
S("Sobel scipy.signal.convolve2d numpy", "numpy", NP + """
from scipy.signal import convolve2d
kx = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
gx = convolve2d(im, kx, mode="valid")
gy = convolve2d(im, kx.T, mode="valid")
np.hypot(gx, gy).ravel()
""", im=IMG[0, 0])
S("Sobel jax.scipy.signal.convolve2d", "jax", JAX + """
from jax.scipy.signal import convolve2d
kx = jnp.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
gx = convolve2d(im, kx, mode="same")
gy = convolve2d(im, kx.T, mode="same")
jnp.sum(gx ** 2 + gy ** 2)
""", im=IMG[0, 0])
S("total variation anisotropic torch", "torch", TORCH + """
def tv(x):
    dh = torch.abs(x[..., 1:, :] - x[..., :-1, :]).sum()
    dw = torch.abs(x[..., :, 1:] - x[..., :, :-1]).sum()
    return dh + dw

tv(img) + 0.5 * F.mse_loss(img, noisy, reduction="sum")
""", img=IMG, noisy=IMG + 0.1 * n(1, 1, 5, 5))
S("total variation isotropic jax", "jax", JAX + """
dx = jnp.diff(u, axis=1)[:-1, :]
dy = jnp.diff(u, axis=0)[:, :-1]
jnp.sum(jnp.sqrt(dx ** 2 + dy ** 2 + 1e-8))
""", u=IMG[0, 0])
S("total variation numpy np.diff squared", "numpy", NP + """
np.sum(np.diff(im, axis=0) ** 2) + np.sum(np.diff(im, axis=1) ** 2)
""", im=IMG[0, 0])
S("SSIM avg_pool2d local statistics torch", "torch", TORCH + """
def ssim(x, y, C1=0.01 ** 2, C2=0.03 ** 2):
    mu_x = F.avg_pool2d(x, 3, 1, padding=1)
    mu_y = F.avg_pool2d(y, 3, 1, padding=1)
    sigma_x = F.avg_pool2d(x * x, 3, 1, padding=1) - mu_x ** 2
    sigma_y = F.avg_pool2d(y * y, 3, 1, padding=1) - mu_y ** 2
    sigma_xy = F.avg_pool2d(x * y, 3, 1, padding=1) - mu_x * mu_y
    num = (2 * mu_x * mu_y + C1) * (2 * sigma_xy + C2)
    den = (mu_x ** 2 + mu_y ** 2 + C1) * (sigma_x + sigma_y + C2)
    return (num / den).mean()

1 - ssim(x, y)
""", x=IMG, y=IMG + 0.2 * n(1, 1, 5, 5))
S("SSIM global numpy", "numpy", NP + """
C1, C2 = 1e-4, 9e-4
mx, my = a.mean(), b.mean()
vx, vy = a.var(), b.var()
cov = ((a - mx) * (b - my)).mean()
((2 * mx * my + C1) * (2 * cov + C2)) / ((mx ** 2 + my ** 2 + C1) * (vx + vy + C2))
""", a=IMG[0, 0], b=IMG[0, 0] + 0.3 * n(5, 5))
S("F.avg_pool2d kernel 2", "torch", TORCH + """
F.avg_pool2d(x, kernel_size=2).flatten()
""", x=n(1, 2, 4, 4))
S("F.max_pool2d kernel 2 stride 2", "torch", TORCH + """
F.max_pool2d(x, 2, 2).sum(dim=(0, 1))
""", x=n(1, 2, 4, 4))
S("nn.MaxPool2d then AvgPool2d modules", "torch", TORCH + """
pool = nn.Sequential(nn.MaxPool2d(kernel_size=2, stride=1), nn.AvgPool2d(2))
pool(x).flatten()
""", x=n(1, 1, 5, 5))
S("F.interpolate bilinear scale 2", "torch", TORCH + """
F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False).sum(dim=(0, 1))
""", x=n(1, 1, 2, 3))
S("F.interpolate nearest size", "torch", TORCH + """
F.interpolate(x, size=(4, 4), mode="nearest").flatten()
""", x=n(1, 1, 2, 2))
S("nn.Upsample bilinear align_corners True", "torch", TORCH + """
up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
(up(x) * w).sum()
""", x=n(1, 1, 2, 2), w=n(1, 1, 4, 4))
S("jax.image.resize bilinear", "jax", JAX + """
jax.image.resize(x, (4, 6), method="bilinear").sum(0)
""", x=n(2, 3))
S("Gaussian blur depthwise conv2d groups", "torch", TORCH + """
g = torch.tensor([1.0, 2.0, 1.0]) / 4
k2 = torch.outer(g, g)
C = x.shape[1]
weight = k2.expand(C, 1, 3, 3)
F.conv2d(x, weight, padding=1, groups=C).flatten()
""", x=n(1, 2, 3, 3))
S("F.adaptive_avg_pool2d global", "torch", TORCH + """
F.adaptive_avg_pool2d(x, 1).flatten() + F.adaptive_avg_pool2d(x, (2, 2)).sum(dim=(2, 3)).flatten()
""", x=n(1, 2, 4, 4))
S("Charbonnier loss torch", "torch", TORCH + """
torch.mean(torch.sqrt((pred - target) ** 2 + 1e-3 ** 2))
""", pred=n(1, 1, 3, 3), target=n(1, 1, 3, 3))
S("F.pixel_shuffle upscale", "torch", TORCH + """
F.pixel_shuffle(x, 2).flatten()
""", x=n(1, 4, 2, 2))
S("PSNR numpy", "numpy", NP + """
mse = np.mean((a - b) ** 2)
10 * np.log10(1.0 / mse)
""", a=u(0, 1, 4, 4), b=u(0, 1, 4, 4))
S("image gradient loss jnp.gradient", "jax", JAX + """
gy, gx = jnp.gradient(im)
jnp.mean(gx ** 2 + gy ** 2)
""", im=IMG[0, 0])

# ========================================================================================= sequence models
S("LSTM cell by hand chunk(4) loop", "torch", TORCH + """
def lstm_step(x, h, c, W, U, b):
    gates = x @ W + h @ U + b
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    c = f * c + i * torch.tanh(g)
    h = o * torch.tanh(c)
    return h, c

h = torch.zeros(xs.shape[1], U.shape[0])
c = torch.zeros_like(h)
for t in range(xs.shape[0]):
    h, c = lstm_step(xs[t], h, c, W, U, b)
h
""", xs=n(3, 2, 2), W=0.5 * n(2, 12), U=0.5 * n(3, 12), b=0.1 * n(12))
S("GRU cell jax python loop", "jax", JAX + """
def gru(h, x, p):
    z = jax.nn.sigmoid(x @ p["Wz"] + h @ p["Uz"])
    r = jax.nn.sigmoid(x @ p["Wr"] + h @ p["Ur"])
    h_tilde = jnp.tanh(x @ p["Wh"] + (r * h) @ p["Uh"])
    return (1 - z) * h + z * h_tilde

p = {"Wz": Wz, "Uz": Uz, "Wr": Wr, "Ur": Ur, "Wh": Wh, "Uh": Uh}
h = jnp.zeros(3)
for x in xs:
    h = gru(h, x, p)
h
""", xs=n(4, 2), Wz=n(2, 3), Uz=n(3, 3), Wr=n(2, 3), Ur=n(3, 3), Wh=n(2, 3), Uh=n(3, 3))
S("vanilla RNN numpy tanh loop", "numpy", NP + """
h = np.zeros(Whh.shape[0])
outputs = []
for t in range(X.shape[0]):
    h = np.tanh(Wxh @ X[t] + Whh @ h + bh)
    outputs.append(Why @ h)
np.array(outputs).ravel()
""", X=n(4, 2), Wxh=n(3, 2), Whh=0.5 * n(3, 3), bh=0.1 * n(3), Why=n(1, 3))
S("nn.LSTMCell loop module", "torch", TORCH + """
cell = nn.LSTMCell(input_size=2, hidden_size=3)
h = torch.zeros(1, 3)
c = torch.zeros(1, 3)
for t in range(x.shape[0]):
    h, c = cell(x[t:t + 1], (h, c))
h.sum()
""", x=n(3, 2))
S("nn.RNN module batch_first", "torch", TORCH + """
rnn = nn.RNN(input_size=2, hidden_size=3, batch_first=True)
out, h_n = rnn(x)
out[:, -1].sum() + h_n.sum()
""", x=n(2, 3, 2))
S("nn.GRU module h0", "torch", TORCH + """
gru = nn.GRU(2, 3)
out, hn = gru(x, h0)
out.mean(0)
""", x=n(3, 1, 2), h0=n(1, 1, 3))
S("LSTM jax lax.scan hand-written", "jax", JAX + """
def step(carry, x):
    h, c = carry
    z = x @ Wx + h @ Wh + b
    i, f, g, o = jnp.split(z, 4)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (h, c), h

(h, c), hs = jax.lax.scan(step, (jnp.zeros(2), jnp.zeros(2)), xs)
hs.ravel()
""", xs=n(3, 2), Wx=0.5 * n(2, 8), Wh=0.5 * n(2, 8), b=0.1 * n(8))
S("Elman RNN output layer MSE torch", "torch", TORCH + """
h = torch.zeros(Wh.shape[0])
loss = 0.0
for t in range(x.shape[0]):
    h = torch.tanh(Wx @ x[t] + Wh @ h)
    y_hat = Wo @ h
    loss = loss + ((y_hat - y[t]) ** 2).sum()
loss / x.shape[0]
""", x=n(4, 2), y=n(4, 1), Wx=n(3, 2), Wh=0.5 * n(3, 3), Wo=n(1, 3))
S("bidirectional RNN by hand cat torch", "torch", TORCH + """
def run(xs, W, U):
    h = torch.zeros(U.shape[0])
    hs = []
    for x in xs:
        h = torch.tanh(W @ x + U @ h)
        hs.append(h)
    return torch.stack(hs)

fwd = run(x, Wf, Uf)
bwd = run(torch.flip(x, dims=[0]), Wb, Ub).flip(0)
torch.cat([fwd, bwd], dim=-1).sum(0)
""", x=n(3, 2), Wf=n(2, 2), Uf=0.5 * n(2, 2), Wb=n(2, 2), Ub=0.5 * n(2, 2))
S("peephole LSTM numpy", "numpy", NP + """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))

h = np.zeros(2); c = np.zeros(2)
for x in xs:
    i = sigmoid(Wi @ x + Ui @ h + pi * c)
    f = sigmoid(Wf @ x + Uf @ h + pf * c)
    c = f * c + i * np.tanh(Wc @ x + Uc @ h)
    o = sigmoid(Wo @ x + Uo @ h + po * c)
    h = o * np.tanh(c)
h
""", xs=n(3, 2), Wi=n(2, 2), Ui=n(2, 2), pi=0.1 * n(2), Wf=n(2, 2), Uf=n(2, 2), pf=0.1 * n(2), Wc=n(2, 2),
  Uc=n(2, 2), Wo=n(2, 2), Uo=n(2, 2), po=0.1 * n(2))
S("minGRU torch", "torch", TORCH + """
h = torch.zeros(Wz.shape[1])
for t in range(x.shape[0]):
    z = torch.sigmoid(x[t] @ Wz)
    h_tilde = x[t] @ Wh
    h = (1 - z) * h + z * h_tilde
h
""", x=n(4, 2), Wz=n(2, 3), Wh=n(2, 3))
S("nn.LSTM module h0 c0", "torch", TORCH + """
lstm = nn.LSTM(input_size=2, hidden_size=2, num_layers=1, batch_first=True)
out, (hn, cn) = lstm(x, (h0, c0))
out.sum() + cn.sum()
""", x=n(1, 3, 2), h0=n(1, 1, 2), c0=n(1, 1, 2))
S("echo state network readout numpy", "numpy", NP + """
x = np.zeros(W.shape[0])
states = []
for t in range(len(u)):
    x = 0.7 * x + 0.3 * np.tanh(W_in * u[t] + W @ x)
    states.append(x)
S_ = np.array(states)
S_ @ w_out
""", u=n(5), W=0.4 * n(3, 3), W_in=n(3), w_out=n(3))
S("char RNN teacher forcing cross_entropy", "torch", TORCH + """
h = torch.zeros(1, Whh.shape[0])
loss = 0
for t in range(len(inputs)):
    x = F.one_hot(inputs[t:t + 1], num_classes=Wxh.shape[0]).to(torch.float64)
    h = torch.tanh(x @ Wxh + h @ Whh)
    logits = h @ Why
    loss = loss + F.cross_entropy(logits, targets[t:t + 1])
loss
""", inputs=np.array([0, 2, 1, 3]), targets=np.array([2, 1, 3, 0]), Wxh=n(4, 3), Whh=0.5 * n(3, 3), Why=n(3, 4))
S("RNN unrolled jax.lax.fori_loop", "jax", JAX + """
def body(t, h):
    return jnp.tanh(W @ h + U @ xs[t])

h = jax.lax.fori_loop(0, xs.shape[0], body, jnp.zeros(W.shape[0]))
h
""", xs=n(4, 2), W=0.5 * n(3, 3), U=n(3, 2))

# ================================================================== the forms session 36 taught jac (more of each)
S("DQN target max(1).indices unsqueeze gather", "torch", TORCH + """
best = torch.max(q_next_online, dim=1).indices.unsqueeze(1)
q_next = q_next_target.gather(1, best).squeeze(1)
y = r + 0.9 * q_next
q_sa = q.gather(1, a.unsqueeze(1)).squeeze(1)
F.mse_loss(q_sa, y.detach())
""", q_next_online=n(5, 4), q_next_target=n(5, 4), r=n(5), q=n(5, 4), a=np.array([0, 3, 1, 2, 2]))
S("Q-learning np.take_along_axis argmax [:, None]", "numpy", NP + """
best = np.argmax(q_next, axis=1)[:, None]
target = r + 0.95 * np.take_along_axis(q_next, best, axis=1)[:, 0]
np.mean((q[np.arange(len(a)), a] - target) ** 2)
""", q_next=n(4, 3), r=n(4), q=n(4, 3), a=np.array([2, 0, 1, 1]))
S("scipy.signal.correlate2d template match", "numpy", NP + """
from scipy.signal import correlate2d
score = correlate2d(image, template, mode="valid")
score / np.sqrt(np.sum(template ** 2))
""", image=n(5, 5), template=n(2, 3))
S("scipy.signal.convolve 2-D same blur", "numpy", NP + """
import scipy.signal
k = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16
blurred = scipy.signal.convolve(im, k, mode="same")
np.sum((blurred - target) ** 2)
""", im=n(4, 5), target=n(4, 5))
S("jax.scipy.signal.convolve2d Laplacian energy", "jax", JAX + """
import jax.scipy.signal as jss
lap = jnp.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
jnp.sum(jss.convolve2d(u, lap, mode="valid") ** 2)
""", u=n(5, 4))
S("jax.scipy.signal.correlate2d same even kernel", "jax", JAX + """
from jax.scipy.signal import correlate2d
correlate2d(x, w, mode="same")
""", x=n(4, 4), w=n(2, 2))


# ======================================================== in-place updates, scatters and scans in the same domains
S("Monte Carlo returns per state np.add.at duplicates", "numpy", NP + """
totals = np.zeros(4)
counts = np.zeros(4)
np.add.at(totals, states, returns)
np.add.at(counts, states, 1.0)
totals / np.maximum(counts, 1.0)
""", states=np.array([0, 2, 2, 1, 0, 2]), returns=n(6))
S("TD(0) value table jnp .at add duplicates", "jax", JAX + """
V = v0
for s, r, s2 in zip(states, rewards, next_states):
    V = V.at[s].add(0.1 * (r + 0.9 * V[s2] - V[s]))
V
""", v0=n(3), states=np.array([0, 1, 1, 2]), rewards=n(4), next_states=np.array([1, 1, 2, 0]))
S("image patches F.unfold then linear embedding", "torch", TORCH + """
patches = F.unfold(img, kernel_size=2, stride=2)
tokens = patches.transpose(1, 2) @ W
tokens.sum(-1).flatten()
""", img=n(1, 2, 4, 4), W=n(8, 3))
S("ViT patchify reshape permute", "torch", TORCH + """
B, C, H, W_ = x.shape
p = 2
x = x.reshape(B, C, H // p, p, W_ // p, p).permute(0, 2, 4, 1, 3, 5).reshape(B, (H // p) * (W_ // p), C * p * p)
(x @ proj + pos).pow(2).mean(-1).flatten()
""", x=n(1, 2, 4, 4), proj=n(8, 3), pos=0.1 * n(4, 3))
S("log-space cumulative hazard logcumsumexp", "torch", TORCH + """
log_h = x @ beta
risk = torch.logcumsumexp(log_h.flip(0), dim=0).flip(0)
-(events * (log_h - risk)).sum()
""", x=n(6, 2), beta=np.array([0.3, -0.5]), events=np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0]))
S("Cox partial likelihood numpy cumsum reversed", "numpy", NP + """
eta = X @ b
risk = np.log(np.cumsum(np.exp(eta)[::-1])[::-1])
-np.sum(d * (eta - risk))
""", X=n(6, 2), b=np.array([0.2, 0.4]), d=np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
S("causal conv1d left padding WaveNet-style", "torch", TORCH + """
def causal_conv(x, w, dilation):
    pad = (w.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x, (pad, 0)), w, dilation=dilation)

h = torch.tanh(causal_conv(x, w1, 1)) * torch.sigmoid(causal_conv(x, w2, 2))
h.flatten()
""", x=n(1, 1, 6), w1=n(1, 1, 2), w2=n(1, 1, 2))
S("state-space model discretized scan torch", "torch", TORCH + """
dA = torch.exp(delta * A)
dB = delta * B
h = torch.zeros(A.shape[0])
ys = []
for t in range(u.shape[0]):
    h = dA * h + dB * u[t]
    ys.append((C * h).sum())
torch.stack(ys)
""", A=-u(0.5, 1.5, 3), B=n(3), C=n(3), delta=np.array(0.1), u=n(5))
S("spring-mass positions in-place clone update torch", "torch", TORCH + """
x = x0.clone()
v = torch.zeros_like(x)
for _ in range(4):
    f = torch.zeros_like(x)
    f[1:] -= k * (x[1:] - x[:-1] - 1.0)
    f[:-1] += k * (x[1:] - x[:-1] - 1.0)
    v = v + 0.1 * f
    x = x + 0.1 * v
x
""", x0=np.array([0.0, 1.1, 2.3, 2.9]), k=np.array(2.0))
S("heat equation jnp .at set boundary", "jax", JAX + """
def step(u, r=0.2):
    inner = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return u.at[1:-1].set(inner).at[0].set(0.0).at[-1].set(0.0)

for _ in range(3):
    u = step(u)
u
""", u=n(7))
S("attention scores torch.roll shifted keys", "torch", TORCH + """
k_prev = torch.roll(k, shifts=1, dims=0)
scores = (q * (k + k_prev)).sum(-1)
torch.softmax(scores, dim=0) @ v
""", q=n(4, 3), k=n(4, 3), v=n(4, 2))
S("F.embedding lookup sequence loss", "torch", TORCH + """
e = F.embedding(tokens, table)
h = torch.tanh(e.mean(0) @ W)
F.cross_entropy(h.unsqueeze(0), target)
""", tokens=np.array([1, 3, 3, 0]), table=n(4, 3), W=n(3, 5), target=np.array([2]))
S("Frobenius norm batch axis tuple numpy", "numpy", NP + """
np.linalg.norm(A, axis=(1, 2)) + np.linalg.norm(A.sum(0), ord="fro")
""", A=n(3, 2, 2))
S("F.normalize p=1 mixture weights", "torch", TORCH + """
w = F.normalize(torch.exp(logits), p=1, dim=-1)
(w * values).sum(-1)
""", logits=n(3, 4), values=n(3, 4))


# ---------------------------------------------------------------------------------------------- run
# Where jac gives what PyTorch's and JAX's autograd give, not the true derivative, and says so: the derivative of
# sqrt at 0 is NaN in all three (0 · inf), even where np.fill_diagonal then overwrites the value, and jac warns
# ("nonfinite: the derivative of sqrt ... is NaN at sqrt(0)"); central differences see the overwrite.
LIBRARY_NAN = {"N-body energy numpy fill_diagonal": "PyTorch's NaN of sqrt at 0 (fill_diagonal_ after it), warned"}


def library_nan(s, mine, theirs):
    """A WRONG of LIBRARY_NAN that is only NaN in jac's Jacobian where the reference is finite: the value agrees and
    every entry jac has finite agrees."""
    if s.name not in LIBRARY_NAN or isinstance(theirs, str) or mine[0] != "ok":
        return False
    ref_value, ref_jac = theirs
    seen = False
    for k, J in ref_jac.items():
        nan = np.isnan(mine[2][k])
        seen = seen or bool(nan.any())
        if mine[2][k].shape != J.shape or not h.close(np.where(nan, 0.0, mine[2][k]), np.where(nan, 0.0, J), 1e-6):
            return False
    return seen and h.close(mine[1], ref_value, 1e-6)


def main():
    """snippets35_probe's driver over this batch; LIBRARY_NAN's snippets are DOCUMENTED."""
    driver.SNIPPETS[:] = SNIPPETS
    driver.DOCUMENTED = dict(LIBRARY_NAN)
    documented = driver.documented
    driver.documented = lambda s, mine, theirs: documented(s, mine, theirs) or library_nan(s, mine, theirs)
    return driver.main()


if __name__ == "__main__":
    sys.exit(main())
