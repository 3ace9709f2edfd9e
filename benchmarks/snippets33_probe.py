"""Realistic snippets against the libraries (session 33c): code as people write it in tutorials and real training
code (helper functions, classes, loops, imports), run by the jac of the checkout TREE and by the library itself:

    PYTHONPATH=. /work/venv/bin/python benchmarks/snippets33_probe.py [TREE] [-k SUBSTRING] [-v]

The reference is the snippet run by Python: PyTorch in float64 eager autograd (each element of the output
differentiated by ``torch.autograd.grad``; an ``nn.Module`` the text makes holds jac's parameter values, as
tests/torch_models.py sets them), JAX with x64 (``jax.jacrev`` over every float input, in a spawned process of
its own), NumPy for the value and central differences for the Jacobian (rtol 1e-6). jac is run through the API:
the value and the Jacobian by every float input and parameter the text makes.

Outcomes: AGREE (rtol 1e-10 against PyTorch / JAX), REFUSED (a JacError; its message is printed), WRONG (another
value or derivative), CRASH (not a JacError), REF-FAIL (the library raised: the snippet is wrong, not jac).
Prints one line per snippet not AGREE (all with -v), then the counts. Exit 1 on WRONG or CRASH. Run by hand.
"""
from __future__ import annotations

import argparse
import ast
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from fuzzkit import central_columns, close_scaled as close, numpy_function, spawned_pool, split_program

rng = np.random.default_rng(3333)


def n(*shape):
    return rng.standard_normal(shape)


def u(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


@dataclass
class Snippet:
    name: str
    lib: str
    code: str
    inputs: dict


SNIPPETS: list[Snippet] = []


def S(name, lib, code, **inputs):
    SNIPPETS.append(Snippet(name, lib, code.strip("\n"), inputs))


TORCH = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport math\n"
JAX = "import jax\nimport jax.numpy as jnp\n"
NP = "import numpy as np\n"

Q, K, V = n(4, 8), n(4, 8), n(4, 8)
X58 = n(5, 8)

# --- PyTorch: layers and attention by hand
S("attention", "torch", TORCH + """
def attention(q, k, v):
    d_k = q.size(-1)
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d_k)
    p_attn = F.softmax(scores, dim=-1)
    return torch.matmul(p_attn, v)

attention(q, k, v)
""", q=Q, k=K, v=V)
S("causal attention masked_fill", "torch", TORCH + """
T = q.shape[0]
scores = q @ k.T / math.sqrt(q.shape[-1])
mask = torch.triu(torch.ones(T, T), diagonal=1).bool()
scores = scores.masked_fill(mask, float('-inf'))
out = torch.softmax(scores, dim=-1) @ v
out.sum()
""", q=Q, k=K, v=V)
S("multi-head attention by hand", "torch", TORCH + """
def mha(x, Wq, Wk, Wv, Wo, n_heads=2):
    T, d = x.shape
    hd = d // n_heads
    q = (x @ Wq).view(T, n_heads, hd).transpose(0, 1)
    k = (x @ Wk).view(T, n_heads, hd).transpose(0, 1)
    v = (x @ Wv).view(T, n_heads, hd).transpose(0, 1)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
    att = F.softmax(att, dim=-1)
    y = att @ v
    y = y.transpose(0, 1).contiguous().view(T, d)
    return y @ Wo

mha(x, Wq, Wk, Wv, Wo).pow(2).mean()
""", x=X58, Wq=n(8, 8) / 3, Wk=n(8, 8) / 3, Wv=n(8, 8) / 3, Wo=n(8, 8) / 3)
S("scaled_dot_product_attention", "torch", TORCH + """
out = F.scaled_dot_product_attention(q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0), is_causal=True)
out.sum()
""", q=Q, k=K, v=V)
S("layer norm by hand", "torch", TORCH + """
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta

layer_norm(x, gamma, beta)
""", x=n(3, 5), gamma=u(0.5, 1.5, 5), beta=n(5))
S("RMSNorm module", "torch", TORCH + """
class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        return self._norm(x) * self.weight

norm = RMSNorm(5)
norm(x)
""", x=n(3, 5))
S("LSTM cell by hand", "torch", TORCH + """
def lstm_cell(x, h, c, W_ih, W_hh, b):
    gates = x @ W_ih.T + h @ W_hh.T + b
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c_next = f * c + i * g
    h_next = o * torch.tanh(c_next)
    return h_next, c_next

h, c = h0, c0
for t in range(xs.shape[0]):
    h, c = lstm_cell(xs[t], h, c, W_ih, W_hh, b)
h.sum() + c.sum()
""", xs=n(3, 2, 4), h0=n(2, 3), c0=n(2, 3), W_ih=n(12, 4) / 2, W_hh=n(12, 3) / 2, b=n(12) / 2)
S("GRU cell by hand", "torch", TORCH + """
def gru_cell(x, h, Wz, Uz, Wr, Ur, Wh, Uh):
    z = torch.sigmoid(x @ Wz + h @ Uz)
    r = torch.sigmoid(x @ Wr + h @ Ur)
    h_tilde = torch.tanh(x @ Wh + (r * h) @ Uh)
    return (1 - z) * h + z * h_tilde

h = torch.zeros(3)
for x in xs:
    h = gru_cell(x, h, Wz, Uz, Wr, Ur, Wh, Uh)
h
""", xs=n(4, 2), Wz=n(2, 3), Uz=n(3, 3), Wr=n(2, 3), Ur=n(3, 3), Wh=n(2, 3), Uh=n(3, 3))
S("MLP nn.Module", "torch", TORCH + """
class MLP(nn.Module):
    def __init__(self, in_dim, hidden, out_dim):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, out_dim)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return self.fc2(x)

model = MLP(3, 8, 2)
loss = F.mse_loss(model(x), y)
loss
""", x=n(4, 3), y=n(4, 2))
S("MLP with torch.manual_seed", "torch", TORCH + """
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
model(x).squeeze(-1).sum()
""", x=n(4, 3))
S("softmax regression cross_entropy", "torch", TORCH + """
logits = X @ W + b
loss = F.cross_entropy(logits, y)
loss
""", X=n(6, 4), W=n(4, 3), b=n(3), y=np.array([0, 2, 1, 1, 0, 2]))
S("VAE ELBO", "torch", TORCH + """
def encode(x):
    h = torch.tanh(x @ W1)
    return h @ W_mu, h @ W_lv

def reparameterize(mu, logvar, eps):
    std = torch.exp(0.5 * logvar)
    return mu + eps * std

mu, logvar = encode(x)
z = reparameterize(mu, logvar, eps)
recon = torch.sigmoid(z @ W_dec)
BCE = F.binary_cross_entropy(recon, x, reduction='sum')
KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
BCE + KLD
""", x=u(0.05, 0.95, 3, 6), W1=n(6, 4) / 2, W_mu=n(4, 2) / 2, W_lv=n(4, 2) / 2, W_dec=n(2, 6) / 2, eps=n(3, 2))
S("GAN losses BCE with logits", "torch", TORCH + """
criterion = nn.BCEWithLogitsLoss()
d_loss = criterion(d_real, torch.ones_like(d_real)) + criterion(d_fake, torch.zeros_like(d_fake))
g_loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
d_loss + 0.5 * g_loss
""", d_real=n(5), d_fake=n(5))
S("InfoNCE", "torch", TORCH + """
def info_nce(z1, z2, temperature=0.1):
    z1 = F.normalize(z1, dim=1)
    z2 = F.normalize(z2, dim=1)
    logits = z1 @ z2.t() / temperature
    labels = torch.arange(z1.size(0))
    return F.cross_entropy(logits, labels)

info_nce(z1, z2)
""", z1=n(4, 6), z2=n(4, 6))
S("NT-Xent (SimCLR)", "torch", TORCH + """
z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
sim = z @ z.T / 0.5
N = z1.shape[0]
sim = sim.masked_fill(torch.eye(2 * N, dtype=torch.bool), -1e9)
targets = torch.cat([torch.arange(N, 2 * N), torch.arange(0, N)])
F.cross_entropy(sim, targets)
""", z1=n(3, 5), z2=n(3, 5))
S("triplet loss by hand", "torch", TORCH + """
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_pos = (anchor - positive).pow(2).sum(1)
    d_neg = (anchor - negative).pow(2).sum(1)
    losses = F.relu(d_pos - d_neg + margin)
    return losses.mean()

triplet_loss(a, p, ng) + F.triplet_margin_loss(a, p, ng)
""", a=n(4, 3), p=n(4, 3), ng=n(4, 3))
S("focal loss", "torch", TORCH + """
def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    loss = alpha_t * loss
    return loss.mean()

sigmoid_focal_loss(logits, targets)
""", logits=n(6), targets=np.array([1.0, 0, 0, 1, 1, 0]))
S("Huber by hand and smooth_l1", "torch", TORCH + """
def huber(pred, target, delta=1.0):
    err = pred - target
    abs_err = torch.abs(err)
    quadratic = torch.clamp(abs_err, max=delta)
    linear = abs_err - quadratic
    return (0.5 * quadratic ** 2 + delta * linear).mean()

huber(pred, target) + F.smooth_l1_loss(pred, target) + F.huber_loss(pred, target, delta=0.5)
""", pred=n(6) * 2, target=n(6))
S("label smoothing by hand", "torch", TORCH + """
class LabelSmoothingLoss(nn.Module):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing = smoothing

    def forward(self, logits, target):
        log_probs = F.log_softmax(logits, dim=-1)
        nll = -log_probs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
        smooth = -log_probs.mean(dim=-1)
        return ((1 - self.smoothing) * nll + self.smoothing * smooth).mean()

crit = LabelSmoothingLoss(0.1)
crit(logits, target) - F.cross_entropy(logits, target, label_smoothing=0.1)
""", logits=n(4, 5), target=np.array([1, 0, 4, 2]))
S("GP NLML torch cholesky", "torch", TORCH + """
def rbf(X1, X2, lengthscale, variance):
    sqdist = ((X1[:, None, :] - X2[None, :, :]) ** 2).sum(-1)
    return variance * torch.exp(-0.5 * sqdist / lengthscale ** 2)

n = X.shape[0]
K = rbf(X, X, ell, sf2) + noise * torch.eye(n)
L = torch.linalg.cholesky(K)
alpha = torch.cholesky_solve(y.unsqueeze(-1), L).squeeze(-1)
nlml = 0.5 * y @ alpha + torch.log(torch.diagonal(L)).sum() + 0.5 * n * math.log(2 * math.pi)
nlml
""", X=n(5, 2), y=n(5), ell=np.array(1.3), sf2=np.array(0.8), noise=np.array(0.1))
S("GP NLML torch triangular", "torch", TORCH + """
K = sf2 * torch.exp(-0.5 * torch.cdist(X, X) ** 2 / ell ** 2) + 0.1 * torch.eye(X.shape[0])
L = torch.linalg.cholesky(K)
a = torch.linalg.solve_triangular(L, y.unsqueeze(1), upper=False)
0.5 * (a ** 2).sum() + torch.logdet(K) / 2
""", X=n(5, 2), y=n(5), ell=np.array(1.3), sf2=np.array(0.8))
S("Rosenbrock torch", "torch", TORCH + """
def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

rosenbrock(x)
""", x=n(5))
S("Rastrigin torch", "torch", TORCH + """
A = 10
A * x.numel() + torch.sum(x ** 2 - A * torch.cos(2 * math.pi * x))
""", x=n(4))
S("Himmelblau torch", "torch", TORCH + """
def himmelblau(p):
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2

himmelblau(p)
""", p=n(2))
S("RK4 step", "torch", TORCH + """
def f(t, y, k, c):
    return torch.stack([y[1], -k * y[0] - c * y[1]])

def rk4_step(f, t, y, dt, *args):
    k1 = f(t, y, *args)
    k2 = f(t + dt / 2, y + dt / 2 * k1, *args)
    k3 = f(t + dt / 2, y + dt / 2 * k2, *args)
    k4 = f(t + dt, y + dt * k3, *args)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

rk4_step(f, 0.0, y0, 0.1, k, c)
""", y0=n(2), k=np.array(2.0), c=np.array(0.3))
S("Euler steps", "torch", TORCH + """
y = y0
dt = 0.05
for step in range(20):
    dydt = -theta * y + torch.sin(y)
    y = y + dt * dydt
y
""", y0=n(3), theta=np.array(0.7))
S("PINN residual autograd.grad", "torch", TORCH + """
def net(x):
    return torch.tanh(x @ W1 + b1) @ W2

u = net(x)
u_x = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
u_xx = torch.autograd.grad(u_x.sum(), x, create_graph=True)[0]
residual = u_xx + torch.sin(math.pi * x)
(residual ** 2).mean()
""", x=u(-1, 1, 6, 1), W1=n(1, 5), b1=n(5), W2=n(5, 1))
S("gradient penalty", "torch", TORCH + """
def critic(x):
    return torch.tanh(x @ W) @ v

alpha = torch.tensor([[0.3], [0.6], [0.9]])
interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
out = critic(interp)
grads = torch.autograd.grad(outputs=out, inputs=interp, grad_outputs=torch.ones_like(out),
                            create_graph=True, retain_graph=True)[0]
gp = ((grads.norm(2, dim=1) - 1) ** 2).mean()
gp
""", real=n(3, 4), fake=n(3, 4), W=n(4, 5), v=n(5))
S("Kalman update", "torch", TORCH + """
def kalman_update(x, P, z, H, R):
    y = z - H @ x
    S = H @ P @ H.T + R
    K = P @ H.T @ torch.linalg.inv(S)
    x_new = x + K @ y
    P_new = (torch.eye(P.shape[0]) - K @ H) @ P
    return x_new, P_new

x_new, P_new = kalman_update(x, P, z, H, R)
x_new.sum() + P_new.trace()
""", x=n(3), P=np.eye(3) + 0.1, z=n(2), H=n(2, 3), R=np.eye(2) * 0.5)
S("logistic regression L2", "torch", TORCH + """
def loss_fn(w, b, X, y, lam=1e-2):
    logits = X @ w + b
    bce = F.binary_cross_entropy_with_logits(logits, y)
    return bce + lam * torch.sum(w ** 2)

loss_fn(w, b, X, y)
""", w=n(4), b=np.array(0.1), X=n(6, 4), y=np.array([1.0, 0, 1, 1, 0, 0]))
S("logistic regression sigmoid log", "torch", TORCH + """
p = torch.sigmoid(X @ w)
-(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean() + 0.5 * 0.01 * w.dot(w)
""", w=n(4), X=n(6, 4), y=np.array([1.0, 0, 1, 1, 0, 0]))
S("Poisson log-likelihood lgamma", "torch", TORCH + """
log_rate = X @ beta
ll = (y * log_rate - torch.exp(log_rate) - torch.lgamma(y + 1)).sum()
-ll
""", X=n(6, 3) / 2, beta=n(3), y=np.array([0.0, 1, 3, 2, 0, 5]))
S("negative binomial lgamma", "torch", TORCH + """
def nb_log_prob(y, mu, r):
    return (torch.lgamma(y + r) - torch.lgamma(r) - torch.lgamma(y + 1)
            + r * torch.log(r / (r + mu)) + y * torch.log(mu / (r + mu)))

mu = torch.exp(log_mu)
-nb_log_prob(y, mu, r).sum()
""", log_mu=n(5) / 2, r=u(0.5, 3, 5), y=np.array([0.0, 2, 1, 4, 3]))
S("torch.distributions mixture", "torch", TORCH + """
from torch.distributions import Normal
comp = Normal(mu, sigma)
log_probs = comp.log_prob(x.unsqueeze(-1)) + torch.log_softmax(w, dim=0)
torch.logsumexp(log_probs, dim=-1).sum()
""", x=n(6), mu=n(3), sigma=u(0.5, 2, 3), w=n(3))
S("mixture of Gaussians by hand", "torch", TORCH + """
log_pi = torch.log_softmax(w, dim=0)
log_norm = -0.5 * ((x[:, None] - mu[None, :]) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
torch.logsumexp(log_pi + log_norm, dim=1).sum()
""", x=n(6), mu=n(3), sigma=u(0.5, 2, 3), w=n(3))
S("spring-mass energy", "torch", TORCH + """
def energy(pos, vel, m=1.0, k=10.0, rest=1.0):
    kinetic = 0.5 * m * (vel ** 2).sum()
    d = pos[1:] - pos[:-1]
    length = torch.sqrt((d ** 2).sum(dim=-1))
    potential = 0.5 * k * ((length - rest) ** 2).sum()
    return kinetic + potential

energy(pos, vel)
""", pos=np.cumsum(u(0.5, 1.5, 4, 2), axis=0), vel=n(4, 2))
S("rotation from Euler angles", "torch", TORCH + """
def rot_x(a):
    c, s = torch.cos(a), torch.sin(a)
    one, zero = torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([torch.stack([one, zero, zero]),
                        torch.stack([zero, c, -s]),
                        torch.stack([zero, s, c])])

def rot_z(a):
    c, s = torch.cos(a), torch.sin(a)
    one, zero = torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([torch.stack([c, -s, zero]),
                        torch.stack([s, c, zero]),
                        torch.stack([zero, zero, one])])

R = rot_z(angles[2]) @ rot_x(angles[0])
R @ p
""", angles=n(3), p=n(3))
S("quaternion to matrix", "torch", TORCH + """
def quat_to_mat(q):
    q = q / q.norm()
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(3, 3)

quat_to_mat(q)
""", q=n(4))
S("Gram-Schmidt", "torch", TORCH + """
def gram_schmidt(A):
    Q = []
    for j in range(A.shape[1]):
        v = A[:, j]
        for q in Q:
            v = v - torch.dot(q, v) * q
        Q.append(v / torch.linalg.norm(v))
    return torch.stack(Q, dim=1)

gram_schmidt(A)
""", A=n(4, 3))
S("power iteration", "torch", TORCH + """
M = A @ A.T
v = torch.ones(M.shape[0]) / math.sqrt(M.shape[0])
for _ in range(30):
    v = M @ v
    v = v / torch.norm(v)
v @ M @ v
""", A=n(4, 4))
S("Sinkhorn", "torch", TORCH + """
def sinkhorn(C, a, b, eps=0.5, n_iters=50):
    K = torch.exp(-C / eps)
    u = torch.ones_like(a)
    v = torch.ones_like(b)
    for _ in range(n_iters):
        u = a / (K @ v)
        v = b / (K.T @ u)
    P = u[:, None] * K * v[None, :]
    return torch.sum(P * C)

sinkhorn(C, a, b)
""", C=u(0, 2, 4, 3), a=np.full(4, 0.25), b=np.full(3, 1 / 3))
S("soft-DTW", "torch", TORCH + """
def softmin(a, b, c, gamma):
    return -gamma * torch.logsumexp(torch.stack([a, b, c]) / -gamma, dim=0)

def soft_dtw(x, y, gamma=0.1):
    D = (x[:, None] - y[None, :]) ** 2
    n, m = D.shape
    R = [[torch.tensor(float('inf'))] * (m + 1) for _ in range(n + 1)]
    R[0][0] = torch.tensor(0.0)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            R[i][j] = D[i - 1, j - 1] + softmin(R[i - 1][j - 1], R[i - 1][j], R[i][j - 1], gamma)
    return R[n][m]

soft_dtw(x, y)
""", x=n(3), y=n(4))
S("logsumexp by hand", "torch", TORCH + """
def logsumexp(x):
    c = x.max()
    return c + torch.log(torch.sum(torch.exp(x - c)))

logsumexp(x) - torch.logsumexp(x, dim=0)
""", x=n(5))
S("softmax stable by hand dim", "torch", TORCH + """
def softmax(x, dim=-1):
    x = x - x.max(dim=dim, keepdim=True).values
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)

softmax(x)
""", x=n(2, 4))
S("nn.Linear two-layer Sequential", "torch", TORCH + """
model = nn.Sequential(
    nn.Linear(4, 16),
    nn.ReLU(),
    nn.Linear(16, 3),
)
logits = model(x)
F.cross_entropy(logits, y)
""", x=n(5, 4), y=np.array([0, 1, 2, 1, 0]))
S("torch.func.grad per-example", "torch", TORCH + """
from torch.func import grad, vmap
def loss(w, x, y):
    return (x @ w - y) ** 2

vmap(grad(loss), in_dims=(None, 0, 0))(w, X, Y)
""", w=n(3), X=n(4, 3), Y=n(4))
S("torch.linalg.lstsq unpacked", "torch", TORCH + """
solution, residuals, rank, singular_values = torch.linalg.lstsq(A, B)
solution.sum() + residuals.sum()
""", A=n(6, 3), B=n(6, 2))
S("einsum bilinear attention", "torch", TORCH + """
scores = torch.einsum('bid,bjd->bij', q, k) / q.shape[-1] ** 0.5
w = scores.softmax(dim=-1)
torch.einsum('bij,bjd->bid', w, v).sum()
""", q=n(2, 3, 4), k=n(2, 3, 4), v=n(2, 3, 4))

# --- JAX, as JAX users write it
S("jax.grad of params dict", "jax", JAX + """
def predict(params, x):
    h = jnp.tanh(x @ params['W1'] + params['b1'])
    return h @ params['W2']

def loss(params, x, y):
    return jnp.mean((predict(params, x) - y) ** 2)

params = {'W1': W1, 'b1': b1, 'W2': W2}
grads = jax.grad(loss)(params, x, y)
grads['W1']
""", W1=n(3, 4), b1=n(4), W2=n(4), x=n(5, 3), y=n(5))
S("jax.value_and_grad", "jax", JAX + """
def loss_fn(w, X, y):
    logits = X @ w
    return jnp.mean(jnp.logaddexp(0.0, logits) - y * logits)

loss, g = jax.value_and_grad(loss_fn)(w, X, y)
loss + jnp.sum(g ** 2)
""", w=n(3), X=n(6, 3), y=np.array([1.0, 0, 1, 0, 0, 1]))
S("jax.vmap per-example grads", "jax", JAX + """
from jax import grad, vmap

def loss(w, x, y):
    return (jnp.dot(x, w) - y) ** 2

per_example = vmap(grad(loss), in_axes=(None, 0, 0))(w, X, Y)
per_example.mean(axis=0)
""", w=n(3), X=n(4, 3), Y=n(4))
S("jax.lax.scan RNN", "jax", JAX + """
def step(h, x):
    h = jnp.tanh(W @ h + U @ x + b)
    return h, h

h_final, hs = jax.lax.scan(step, h0, xs)
hs.sum()
""", W=n(3, 3) / 2, U=n(3, 2), b=n(3), h0=n(3), xs=n(5, 2))
S("jax.lax.scan Euler ODE", "jax", JAX + """
def f(y, t):
    return -k * y + jnp.sin(t)

def euler(y0, ts):
    def step(y, t):
        y_next = y + 0.1 * f(y, t)
        return y_next, y_next
    _, ys = jax.lax.scan(step, y0, ts)
    return ys

euler(y0, jnp.linspace(0.0, 1.0, 10))[-1]
""", y0=n(3), k=np.array(0.8))
S("jnp.where-guarded sqrt", "jax", JAX + """
def safe_norm(x):
    sq = jnp.sum(x ** 2, axis=-1)
    safe = jnp.where(sq > 0, sq, 1.0)
    return jnp.where(sq > 0, jnp.sqrt(safe), 0.0)

safe_norm(x)
""", x=np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]]))
S("jax.lax.fori_loop power iteration", "jax", JAX + """
from jax import lax
M = A @ A.T
def body(i, v):
    v = M @ v
    return v / jnp.linalg.norm(v)
v = lax.fori_loop(0, 30, body, jnp.ones(4) / 2.0)
v @ M @ v
""", A=n(4, 4))
S("GP NLML jax cho_solve", "jax", JAX + """
from jax.scipy.linalg import cho_factor, cho_solve

def nlml(params, X, y):
    ell, sf2, noise = jnp.exp(params)
    sqdist = jnp.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = sf2 * jnp.exp(-0.5 * sqdist / ell ** 2) + noise * jnp.eye(X.shape[0])
    c, lower = cho_factor(K, lower=True)
    alpha = cho_solve((c, lower), y)
    return 0.5 * y @ alpha + jnp.sum(jnp.log(jnp.diag(c))) + 0.5 * X.shape[0] * jnp.log(2 * jnp.pi)

jax.grad(nlml)(params, X, y)
""", params=np.array([0.2, -0.1, -2.0]), X=n(5, 2), y=n(5))
S("GP jax solve_triangular slogdet", "jax", JAX + """
import jax.scipy.linalg as jsl
K = jnp.exp(-0.5 * jnp.sum((X[:, None] - X[None]) ** 2, -1)) + 0.1 * jnp.eye(5)
L = jnp.linalg.cholesky(K)
a = jsl.solve_triangular(L, y, lower=True)
sign, logdet = jnp.linalg.slogdet(K)
0.5 * a @ a + 0.5 * logdet
""", X=n(5, 2), y=n(5))
S("jax attention softmax", "jax", JAX + """
def attention(q, k, v):
    logits = jnp.einsum('qd,kd->qk', q, k) / jnp.sqrt(q.shape[-1])
    weights = jax.nn.softmax(logits, axis=-1)
    return weights @ v

attention(q, k, v)
""", q=Q, k=K, v=V)
S("jax layer norm", "jax", JAX + """
def layer_norm(x, scale, bias, eps=1e-6):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.var(x, axis=-1, keepdims=True)
    return scale * (x - mean) * jax.lax.rsqrt(var + eps) + bias

layer_norm(x, scale, bias)
""", x=n(3, 5), scale=u(0.5, 1.5, 5), bias=n(5))
S("jax Poisson gammaln", "jax", JAX + """
from jax.scipy.special import gammaln
def poisson_nll(beta, X, y):
    log_rate = X @ beta
    return -jnp.sum(y * log_rate - jnp.exp(log_rate) - gammaln(y + 1))

poisson_nll(beta, X, y)
""", beta=n(3), X=n(6, 3) / 2, y=np.array([0.0, 1, 3, 2, 0, 5]))
S("jax log-domain Sinkhorn", "jax", JAX + """
from jax.scipy.special import logsumexp
def sinkhorn(C, eps=0.5, n_iter=30):
    n, m = C.shape
    log_a, log_b = -jnp.log(n) * jnp.ones(n), -jnp.log(m) * jnp.ones(m)
    f, g = jnp.zeros(n), jnp.zeros(m)
    for _ in range(n_iter):
        f = -eps * logsumexp((g[None, :] - C) / eps + log_b[None, :], axis=1)
        g = -eps * logsumexp((f[:, None] - C) / eps + log_a[:, None], axis=0)
    P = jnp.exp((f[:, None] + g[None, :] - C) / eps + log_a[:, None] + log_b[None, :])
    return jnp.sum(P * C)

sinkhorn(C)
""", C=u(0, 2, 4, 3))
S("jax mixture logsumexp", "jax", JAX + """
from jax.scipy.stats import norm
log_pi = jax.nn.log_softmax(w)
log_p = norm.logpdf(x[:, None], mu[None, :], sigma[None, :])
jax.scipy.special.logsumexp(log_pi + log_p, axis=1).sum()
""", x=n(6), mu=n(3), sigma=u(0.5, 2, 3), w=n(3))
S("jax Rosenbrock hessian", "jax", JAX + """
def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

jax.hessian(rosenbrock)(x)
""", x=n(3))
S("jax RK4 fori_loop", "jax", JAX + """
def f(y):
    return jnp.array([y[1], -jnp.sin(y[0])])

def rk4(y, dt):
    k1 = f(y)
    k2 = f(y + dt / 2 * k1)
    k3 = f(y + dt / 2 * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

jax.lax.fori_loop(0, 10, lambda i, y: rk4(y, 0.1), y0)
""", y0=n(2))
S("jax jit decorated loss", "jax", JAX + """
@jax.jit
def loss(w, x, y):
    pred = jax.nn.sigmoid(x @ w)
    return -jnp.mean(y * jnp.log(pred) + (1 - y) * jnp.log1p(-pred))

jax.grad(loss)(w, x, y)
""", w=n(3), x=n(5, 3), y=np.array([1.0, 0, 0, 1, 1]))
S("jnp.linalg.lstsq four parts", "jax", JAX + """
coef, resid, rank, sv = jnp.linalg.lstsq(A, b)
coef.sum() + resid.sum() + sv.max()
""", A=n(6, 3), b=n(6))
S("from imports and module aliases", "jax", JAX + """
from jax.scipy.special import logsumexp, gammaln
import jax.scipy.linalg as jsl
from jax.nn import log_softmax
L = jnp.linalg.cholesky(A @ A.T + jnp.eye(3))
z = jsl.solve_triangular(L, x, lower=True)
logsumexp(log_softmax(z)) + gammaln(jnp.exp(x)).sum()
""", A=n(3, 3), x=n(3))
S("jax triplet loss", "jax", JAX + """
def triplet(a, p, n, margin=0.5):
    dp = jnp.linalg.norm(a - p, axis=-1)
    dn = jnp.linalg.norm(a - n, axis=-1)
    return jnp.mean(jax.nn.relu(dp - dn + margin))

triplet(a, p, ng)
""", a=n(4, 3), p=n(4, 3), ng=n(4, 3))
S("jax focal with optax-free bce", "jax", JAX + """
def focal(logits, labels, gamma=2.0):
    log_p = jax.nn.log_sigmoid(logits)
    log_not_p = jax.nn.log_sigmoid(-logits)
    p_t = jnp.where(labels == 1, jnp.exp(log_p), jnp.exp(log_not_p))
    ce = -jnp.where(labels == 1, log_p, log_not_p)
    return jnp.sum((1 - p_t) ** gamma * ce)

focal(logits, labels)
""", logits=n(6), labels=np.array([1.0, 0, 1, 1, 0, 0]))

# --- NumPy / SciPy
S("lstsq", "numpy", NP + """
coef, residuals, rank, sv = np.linalg.lstsq(A, b, rcond=None)
coef
""", A=n(6, 3), b=n(6))
S("normal equations", "numpy", NP + """
w = np.linalg.solve(X.T @ X + 0.1 * np.eye(X.shape[1]), X.T @ y)
w
""", X=n(6, 3), y=n(6))
S("pinv least squares", "numpy", NP + """
np.linalg.pinv(A) @ b
""", A=n(5, 3), b=n(5))
S("numpy softmax stable", "numpy", NP + """
def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)

softmax(z)
""", z=n(2, 4))
S("numpy Rastrigin", "numpy", NP + """
def rastrigin(x, A=10):
    return A * len(x) + np.sum(x ** 2 - A * np.cos(2 * np.pi * x))

rastrigin(x)
""", x=n(4))
S("numpy Himmelblau", "numpy", NP + """
x, y = p
(x**2 + y - 11)**2 + (x + y**2 - 7)**2
""", p=n(2))
S("scipy GP cho_solve", "numpy", NP + """
from scipy.linalg import cho_factor, cho_solve
K = np.exp(-0.5 * np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1) / ell ** 2) + 0.1 * np.eye(len(X))
c, low = cho_factor(K)
alpha = cho_solve((c, low), y)
sign, logdet = np.linalg.slogdet(K)
0.5 * y @ alpha + 0.5 * logdet
""", X=n(5, 2), y=n(5), ell=np.array(1.2))
S("numpy Kalman predict-update", "numpy", NP + """
F = np.array([[1.0, 0.1], [0.0, 1.0]])
H = np.array([[1.0, 0.0]])
x_pred = F @ x
P_pred = F @ P @ F.T + Q
S = H @ P_pred @ H.T + R
K = P_pred @ H.T @ np.linalg.inv(S)
x_pred + (K @ (z - H @ x_pred))
""", x=n(2), P=np.eye(2), Q=np.eye(2) * 0.01, R=np.array([[0.2]]), z=n(1))
S("numpy rotation matrix", "numpy", NP + """
def rotation_matrix(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])

rotation_matrix(theta) @ v
""", theta=np.array(0.7), v=n(2))
S("numpy quaternion rotate", "numpy", NP + """
w, x, y, z = q / np.linalg.norm(q)
R = np.array([
    [1 - 2*(y*y + z*z), 2*(x*y - z*w), 2*(x*z + y*w)],
    [2*(x*y + z*w), 1 - 2*(x*x + z*z), 2*(y*z - x*w)],
    [2*(x*z - y*w), 2*(y*z + x*w), 1 - 2*(x*x + y*y)],
])
R @ p
""", q=n(4), p=n(3))
S("numpy Gram-Schmidt", "numpy", NP + """
def gram_schmidt(A):
    Q = np.zeros_like(A)
    for i in range(A.shape[1]):
        v = A[:, i]
        for j in range(i):
            v = v - np.dot(Q[:, j], A[:, i]) * Q[:, j]
        Q[:, i] = v / np.linalg.norm(v)
    return Q

gram_schmidt(A)
""", A=n(4, 3))
S("scipy mixture logsumexp", "numpy", NP + """
from scipy.special import logsumexp
log_w = np.log(w / w.sum())
ll = -0.5 * ((x[:, None] - mu) / s) ** 2 - np.log(s * np.sqrt(2 * np.pi))
logsumexp(ll + log_w, axis=1).sum()
""", x=n(6), mu=n(3), s=u(0.5, 2, 3), w=u(0.5, 2, 3))
S("numpy spring chain energy", "numpy", NP + """
springs = np.diff(pos, axis=0)
lengths = np.linalg.norm(springs, axis=1)
0.5 * k * np.sum((lengths - 1.0) ** 2) + 0.5 * np.sum(vel ** 2)
""", pos=np.cumsum(u(0.5, 1.5, 4, 3), axis=0), vel=n(4, 3), k=np.array(3.0))
S("numpy negative binomial gammaln", "numpy", NP + """
from scipy.special import gammaln
def nb_loglik(y, mu, alpha):
    r = 1.0 / alpha
    return np.sum(gammaln(y + r) - gammaln(r) - gammaln(y + 1) + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))

nb_loglik(y, mu, alpha)
""", y=np.array([0.0, 2, 1, 4]), mu=u(0.5, 3, 4), alpha=np.array(0.7))
S("numpy polyfit-like vander lstsq", "numpy", NP + """
A = np.vander(t, 3)
coef = np.linalg.lstsq(A, y, rcond=None)[0]
np.polyval(coef, 0.5)
""", t=np.linspace(0, 1, 6), y=n(6))


# ---------------------------------------------------------------------------------------------- references
def _split(code):
    return split_program(code, "<snippet>")


def torch_reference(code, inputs, declared):
    import torch
    torch.set_default_dtype(torch.float64)
    body, last = _split(code)
    floats = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items() if v.dtype.kind == "f"}
    scope = {k: torch.tensor(v) for k, v in inputs.items()}
    scope.update(floats)
    params, seen = {}, set()
    for stmt in ast.parse(code).body[:-1]:  # statement by statement: each module made gets jac's values at once
        exec(compile(ast.Module(body=[stmt], type_ignores=[]), "<snippet>", "exec"), scope)  # noqa: S102
        for name, value in list(scope.items()):
            if isinstance(value, torch.nn.Module) and not isinstance(value, type) and id(value) not in seen:
                seen.add(id(value))
                made = dict(value.named_parameters(prefix=name))
                missing = set(made) - set(declared)
                if missing:
                    raise AssertionError(f"parameters {sorted(missing)} jac did not make")
                with torch.no_grad():
                    for key, p in made.items():
                        p.copy_(torch.from_numpy(np.array(declared[key])))
                params.update(made)
    if set(params) != set(declared):
        raise AssertionError(f"parameters {sorted(params)} but jac made {sorted(declared)}")
    y = eval(last, scope)  # noqa: S307
    leaves = {**floats, **params}
    jac = {k: np.zeros(tuple(y.shape) + tuple(t.shape)) for k, t in leaves.items()}
    flat = y.reshape(-1)
    for i in range(flat.numel()):
        grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
        for (k, _), g in zip(leaves.items(), grads):
            if g is not None:
                jac[k].reshape((flat.numel(),) + jac[k].shape[y.dim():])[i] = g.detach().numpy()
    return y.detach().numpy(), jac


def jax_reference(code, inputs):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    body, last = _split(code)
    floats = [k for k, v in inputs.items() if v.dtype.kind == "f"]

    def f(*xs):
        scope = {k: jnp.asarray(v) for k, v in inputs.items()}
        scope.update(dict(zip(floats, xs)))
        exec(body, scope)  # noqa: S102
        return jnp.asarray(eval(last, scope), dtype=jnp.float64)  # noqa: S307

    args = tuple(jnp.asarray(inputs[k], dtype=jnp.float64) for k in floats)
    try:
        jac = jax.jacrev(f, argnums=tuple(range(len(args))))(*args)
        return np.asarray(f(*args)), {k: np.asarray(j) for k, j in zip(floats, jac)}
    except Exception as e:  # noqa: BLE001 - reported as REF-FAIL
        return f"{type(e).__name__}: {e}"[:300]


def numpy_reference(code, inputs, h=1e-6):
    f = numpy_function(code, "<snippet>")
    y = f(inputs)
    floats = [k for k, v in inputs.items() if v.dtype.kind == "f"]
    columns, at, jac = central_columns(f, inputs, h, floats) if floats else None, 0, {}
    for k in floats:
        size = inputs[k].size
        jac[k] = columns[:, at:at + size].reshape(y.shape + inputs[k].shape)
        at += size
    return y, jac


# ---------------------------------------------------------------------------------------------- jac
def run_jac(snippet):
    from jacobi_cli import errors
    from jacobi_cli.tools import api
    try:
        compiled, env = api._compiled(snippet.code, dict(snippet.inputs), np.float64, 0, api.DEFAULT_MAX_BYTES)
        value = np.asarray(compiled.value(env))
        jac = compiled.jacobian(env)
        return "ok", value, {k: np.asarray(j) for k, j in jac.items()}, dict(compiled.declared or {})
    except errors.JacError as e:
        return "REFUSED", str(e).splitlines()[0][:300], None, None
    except Exception:  # noqa: BLE001 - the probe's point
        return "CRASH", traceback.format_exc(limit=-3).strip().splitlines()[-1][:300], None, None


def classify(snippet, mine, theirs):
    status, value, jac, _ = mine
    if status != "ok":
        return status, value
    if isinstance(theirs, str):
        return "REF-FAIL", theirs
    ref_value, ref_jac = theirs
    rtol = 1e-6 if snippet.lib == "numpy" else 1e-10
    if not close(value, ref_value, rtol):
        return "WRONG", f"value {np.ravel(value)[:4]} vs {np.ravel(ref_value)[:4]}"
    for k, J in ref_jac.items():
        if k not in jac:
            return "WRONG", f"no Jacobian by {k}"
        if not close(jac[k], J, rtol):
            diff = np.max(np.abs(np.asarray(jac[k], dtype=float) - J)) if jac[k].shape == J.shape else "shape"
            return "WRONG", f"d/d{k}: max difference {diff} (shapes {np.shape(jac[k])} {J.shape})"
    return "AGREE", ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", default=".")
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    chosen = [s for s in SNIPPETS if args.k.lower() in s.name.lower()]
    mine = {s.name: run_jac(s) for s in chosen}
    theirs = {}
    jax_snippets = [s for s in chosen if s.lib == "jax" and mine[s.name][0] == "ok"]
    if jax_snippets:
        with spawned_pool() as pool:
            futures = {s.name: pool.submit(jax_reference, s.code, s.inputs) for s in jax_snippets}
            theirs = {k: f.result() for k, f in futures.items()}
    for s in chosen:
        if s.lib == "jax" or mine[s.name][0] != "ok":
            continue
        try:
            theirs[s.name] = (torch_reference(s.code, s.inputs, mine[s.name][3]) if s.lib == "torch"
                              else numpy_reference(s.code, s.inputs))
        except Exception as e:  # noqa: BLE001
            theirs[s.name] = f"{type(e).__name__}: {e}"[:300]
    counts = {}
    for s in chosen:
        outcome, why = classify(s, mine[s.name], theirs.get(s.name))
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "AGREE" or args.v:
            print(f"{outcome:8} [{s.lib}] {s.name}: {why}")
    print(f"{len(chosen)} snippets: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("WRONG") or counts.get("CRASH") else 0


if __name__ == "__main__":
    sys.exit(main())
