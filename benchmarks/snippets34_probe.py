"""Realistic snippets, second batch (session 34b): numerical methods, physics and robotics, statistics and ML
layers, finance and signal processing, as tutorials and research code write them, run by the jac of the checkout
TREE and by the library itself through snippets33_probe's harness (same references, same outcomes):

    PYTHONPATH=. /work/venv/bin/python benchmarks/snippets34_probe.py [TREE] [-k SUBSTRING] [-v]

Unlike snippets33, a snippet jac refuses is also run by the library, so a refusal is told apart: REFUSED (the
library answers: a false refusal unless the reading is out of scope) and REFUSED-AS-LIB (the library raises too).
Prints one line per snippet not AGREE (all with -v), then the counts. Exit 1 on WRONG or CRASH. Run by hand.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snippets33_probe as h  # noqa: E402 - the harness: references, run_jac, classify

rng = np.random.default_rng(3434)


def n(*shape):
    return rng.standard_normal(shape)


def u(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


SNIPPETS: list[h.Snippet] = []


def S(name, lib, code, **inputs):
    SNIPPETS.append(h.Snippet(name, lib, code.strip("\n"), inputs))


TORCH, JAX, NP = h.TORCH, h.JAX, h.NP

# ================================================================================= numerical methods
S("RK4 Lorenz steps", "torch", TORCH + """
def lorenz(state, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = state
    return torch.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])

def rk4(f, y, h):
    k1 = f(y)
    k2 = f(y + 0.5 * h * k1)
    k3 = f(y + 0.5 * h * k2)
    k4 = f(y + h * k3)
    return y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

y = y0
traj = [y]
for _ in range(5):
    y = rk4(lorenz, y, 0.01)
    traj.append(y)
torch.stack(traj).sum(0)
""", y0=np.array([1.0, 1.2, 0.9]))
S("explicit Euler heat equation", "numpy", NP + """
def laplacian(u, dx):
    lap = np.zeros_like(u)
    lap[1:-1] = (u[:-2] - 2 * u[1:-1] + u[2:]) / dx**2
    return lap

dx, dt, alpha = 0.1, 0.002, 1.0
u = u0.copy()
for step in range(10):
    u = u + dt * alpha * laplacian(u, dx)
u
""", u0=np.sin(np.linspace(0, np.pi, 8)) + 0.1 * n(8))
S("Newton Kepler equation unrolled", "jax", JAX + """
def kepler(M, e, iters=6):
    E = M
    for _ in range(iters):
        E = E - (E - e * jnp.sin(E) - M) / (1 - e * jnp.cos(E))
    return E

kepler(M, e)
""", M=u(0.3, 2.5, 4), e=np.array(0.3))
S("Newton vector system torch.linalg.solve", "torch", TORCH + """
def F_(x, a):
    return torch.stack([x[0]**2 + x[1]**2 - a, x[0] - x[1]**3])

def J_(x):
    return torch.stack([torch.stack([2 * x[0], 2 * x[1]]),
                        torch.stack([torch.ones_like(x[0]), -3 * x[1]**2])])

x = torch.tensor([1.0, 0.8], dtype=torch.float64)
for _ in range(8):
    x = x - torch.linalg.solve(J_(x), F_(x, a))
x
""", a=np.array(2.0))
S("Jacobi iteration diagflat", "numpy", NP + """
D = np.diag(A)
R = A - np.diagflat(D)
x = np.zeros_like(b)
for i in range(25):
    x = (b - R @ x) / D
x
""", A=np.eye(4) * 5 + 0.5 * n(4, 4), b=n(4))
S("Gauss-Seidel in-place sweeps", "torch", TORCH + """
def gauss_seidel(A, b, sweeps=15):
    n = b.shape[0]
    x = torch.zeros_like(b)
    for _ in range(sweeps):
        for i in range(n):
            old = x
            s1 = A[i, :i] @ old[:i]
            s2 = A[i, i + 1:] @ old[i + 1:]
            x = old.clone()
            x[i] = (b[i] - s1 - s2) / A[i, i]
    return x

gauss_seidel(A, b)
""", A=np.eye(4) * 6 + 0.5 * n(4, 4), b=n(4))
S("Gauss-Seidel numpy lists", "numpy", NP + """
n = len(b)
x = [0.0] * n
for it in range(12):
    for i in range(n):
        s = sum(A[i][j] * x[j] for j in range(n) if j != i)
        x[i] = (b[i] - s) / A[i][i]
np.array(x)
""", A=np.eye(3) * 4 + 0.3 * n(3, 3), b=n(3))
S("5-point Laplacian 2-D slicing", "numpy", NP + """
h = 1.0 / (u.shape[0] - 1)
lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h**2
0.5 * np.sum(lap**2) * h**2
""", u=n(5, 5))
S("Laplacian via F.conv1d kernel", "torch", TORCH + """
kernel = torch.tensor([[[1.0, -2.0, 1.0]]], dtype=torch.float64)
lap = F.conv1d(u.view(1, 1, -1), kernel, padding=1).view(-1)
(lap ** 2).sum() + (u * lap).sum()
""", u=n(7))
S("Laplacian np.roll periodic", "numpy", NP + """
lap = np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1) - 4 * u
np.sum(u * lap)
""", u=n(4, 4))
S("Simpson rule by hand", "numpy", NP + """
def simpson(f, a, b, n=10):
    x = np.linspace(a, b, n + 1)
    y = f(x)
    h = (b - a) / n
    return h / 3 * (y[0] + 4 * np.sum(y[1:-1:2]) + 2 * np.sum(y[2:-1:2]) + y[-1])

simpson(lambda t: np.exp(-k * t**2) * np.cos(w * t), 0.0, 2.0)
""", k=np.array(0.7), w=np.array(1.3))
S("np.trapezoid of samples", "numpy", NP + """
x = np.linspace(0, 1, 9)
y = np.exp(-a * x) * np.sin(b * x)
np.trapezoid(y, x)
""", a=np.array(1.5), b=np.array(2.0))
S("np.trapezoid with dx", "numpy", NP + """
np.trapezoid(y ** 2, dx=0.25)
""", y=n(6))
S("torch.trapezoid x", "torch", TORCH + """
x = torch.linspace(0, 2, 11, dtype=torch.float64)
y = torch.exp(-a * x) * torch.cos(x * b)
torch.trapezoid(y, x) + torch.trapz(y, dx=0.2)
""", a=np.array(0.8), b=np.array(1.7))
S("torch.cumulative_trapezoid", "torch", TORCH + """
torch.cumulative_trapezoid(y, dx=0.1, dim=-1)
""", y=n(2, 5))
S("jax.scipy.integrate.trapezoid", "jax", JAX + """
from jax.scipy.integrate import trapezoid
xs = jnp.linspace(0.0, 3.0, 13)
trapezoid(jnp.sin(omega * xs) ** 2, xs)
""", omega=np.array(1.1))
S("scipy.integrate.simpson", "numpy", NP + """
from scipy.integrate import simpson
x = np.linspace(0, 1, 7)
simpson(np.exp(c * x), x=x)
""", c=np.array(0.6))
S("natural cubic spline by hand", "torch", TORCH + """
def natural_cubic_spline(x, y, xq):
    n = x.shape[0]
    h = x[1:] - x[:-1]
    A = torch.zeros(n, n, dtype=x.dtype)
    rhs = torch.zeros(n, dtype=x.dtype)
    A[0, 0] = 1.0
    A[-1, -1] = 1.0
    for i in range(1, n - 1):
        A[i, i - 1] = h[i - 1]
        A[i, i] = 2 * (h[i - 1] + h[i])
        A[i, i + 1] = h[i]
        rhs[i] = 3 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1])
    c = torch.linalg.solve(A, rhs)
    b = (y[1:] - y[:-1]) / h - h * (2 * c[:-1] + c[1:]) / 3
    d = (c[1:] - c[:-1]) / (3 * h)
    i = torch.searchsorted(x, xq) - 1
    i = i.clamp(0, n - 2)
    t = xq - x[i]
    return y[i] + b[i] * t + c[i] * t**2 + d[i] * t**3

xk = torch.linspace(0, 1, 5, dtype=torch.float64)
natural_cubic_spline(xk, yk, xq)
""", yk=n(5), xq=np.array([0.13, 0.41, 0.77]))
S("scipy CubicSpline", "numpy", NP + """
from scipy.interpolate import CubicSpline
cs = CubicSpline(np.linspace(0, 1, 5), y, bc_type='natural')
cs(np.array([0.2, 0.55]))
""", y=n(5))
S("np.polyfit np.polyval", "numpy", NP + """
coeffs = np.polyfit(t, y, deg=2)
np.polyval(coeffs, np.array([0.25, 1.5]))
""", t=np.linspace(0, 2, 7), y=n(7))
S("jnp.polyfit jnp.polyval", "jax", JAX + """
p = jnp.polyfit(t, y, 3)
jnp.polyval(p, 0.7) + jnp.sum(p ** 2)
""", t=np.linspace(-1, 1, 8), y=n(8))
S("torch vander lstsq fit", "torch", TORCH + """
A = torch.linalg.vander(t, N=3)
sol = torch.linalg.lstsq(A, y.unsqueeze(-1)).solution.squeeze(-1)
resid = A @ sol - y
sol.sum() + resid.pow(2).sum()
""", t=np.linspace(0, 1, 6), y=n(6))
S("np.interp table lookup", "numpy", NP + """
xp = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
np.interp(xq, xp, fp)
""", xq=np.array([0.2, 0.9, 1.7]), fp=n(5))
S("Gauss-Legendre leggauss", "numpy", NP + """
nodes, weights = np.polynomial.legendre.leggauss(5)
a, b = 0.0, 2.0
t = 0.5 * (b - a) * nodes + 0.5 * (b + a)
0.5 * (b - a) * np.sum(weights * np.exp(-lam * t) * t**2)
""", lam=np.array(0.9))
S("backward Euler linear system", "numpy", NP + """
I = np.eye(A.shape[0])
y = y0
for _ in range(4):
    y = np.linalg.solve(I - 0.1 * A, y)
y
""", A=-np.eye(3) + 0.3 * n(3, 3), y0=n(3))
S("velocity Verlet oscillator", "torch", TORCH + """
def accel(x):
    return -k * x - 0.1 * x ** 3

x, v = x0, v0
dt = 0.05
a_ = accel(x)
for _ in range(20):
    x = x + v * dt + 0.5 * a_ * dt ** 2
    a_new = accel(x)
    v = v + 0.5 * (a_ + a_new) * dt
    a_ = a_new
0.5 * v.pow(2).sum() + 0.5 * k * x.pow(2).sum()
""", x0=n(3), v0=n(3), k=np.array(2.0))
S("fixed point fori_loop", "jax", JAX + """
from jax import lax
def g(x, a):
    return jnp.cos(a * x)

x_star = lax.fori_loop(0, 40, lambda i, x: g(x, a), jnp.zeros_like(a))
x_star
""", a=u(0.3, 0.8, 3))
S("central difference inside code", "torch", TORCH + """
def f(x):
    return torch.sin(x) * torch.exp(-0.5 * x ** 2)

h = 1e-3
dfdx = (f(x + h) - f(x - h)) / (2 * h)
d2 = (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2
dfdx + 0.1 * d2
""", x=n(4))

# ================================================================================= physics / robotics
S("mass-spring chain torch.diff", "torch", TORCH + """
def chain_energy(pos, k=10.0, rest=1.0, m=1.0, g=9.81):
    stretch = torch.linalg.vector_norm(torch.diff(pos, dim=0), dim=-1) - rest
    spring = 0.5 * k * (stretch ** 2).sum()
    gravity = m * g * pos[:, 1].sum()
    return spring + gravity

chain_energy(pos)
""", pos=np.cumsum(u(0.6, 1.2, 5, 2), axis=0))
S("pendulum Lagrangian Euler-Lagrange", "torch", TORCH + """
m, l, g = 1.0, 1.5, 9.81
def lagrangian(q, qd):
    T = 0.5 * m * l**2 * qd**2
    V = -m * g * l * torch.cos(q)
    return T - V

L = lagrangian(q, qd)
dL_dq = torch.autograd.grad(L.sum(), q, create_graph=True)[0]
dL_dqd = torch.autograd.grad(L.sum(), qd, create_graph=True)[0]
dL_dq + dL_dqd
""", q=u(-1, 1, 3), qd=n(3))
S("double pendulum Lagrangian jax.grad", "jax", JAX + """
def lagrangian(q, q_dot, m1=1.0, m2=1.0, l1=1.0, l2=1.0, g=9.8):
    t1, t2 = q
    w1, w2 = q_dot
    T1 = 0.5 * m1 * (l1 * w1) ** 2
    T2 = 0.5 * m2 * ((l1 * w1) ** 2 + (l2 * w2) ** 2 + 2 * l1 * l2 * w1 * w2 * jnp.cos(t1 - t2))
    y1 = -l1 * jnp.cos(t1)
    y2 = y1 - l2 * jnp.cos(t2)
    V = m1 * g * y1 + m2 * g * y2
    return T1 + T2 - V

p = jax.grad(lagrangian, argnums=1)(q, q_dot)
M = jax.hessian(lagrangian, argnums=1)(q, q_dot)
jnp.linalg.solve(M, p)
""", q=np.array([0.4, -0.3]), q_dot=np.array([0.2, 0.5]))
S("3-link arm FK cumsum", "numpy", NP + """
def forward_kinematics(theta, lengths=(1.0, 0.8, 0.5)):
    angles = np.cumsum(theta)
    x = np.sum(np.array(lengths) * np.cos(angles))
    y = np.sum(np.array(lengths) * np.sin(angles))
    return np.array([x, y])

forward_kinematics(theta) - target
""", theta=np.array([0.3, 0.5, -0.4]), target=np.array([1.2, 1.0]))
S("3-link arm homogeneous transforms", "torch", TORCH + """
def T(theta, l):
    c, s = torch.cos(theta), torch.sin(theta)
    z, o = torch.zeros_like(theta), torch.ones_like(theta)
    return torch.stack([torch.stack([c, -s, l * c]),
                        torch.stack([s, c, l * s]),
                        torch.stack([z, z, o])])

links = [1.0, 0.7, 0.4]
H = torch.eye(3, dtype=torch.float64)
for i in range(3):
    H = H @ T(q[i], links[i])
ee = H[:2, 2]
((ee - goal) ** 2).sum()
""", q=np.array([0.2, 0.6, -0.3]), goal=np.array([1.0, 1.1]))
S("DH parameters 4x4 jax", "jax", JAX + """
def dh(theta, d, a, alpha):
    ct, st = jnp.cos(theta), jnp.sin(theta)
    ca, sa = jnp.cos(alpha), jnp.sin(alpha)
    return jnp.array([[ct, -st * ca, st * sa, a * ct],
                      [st, ct * ca, -ct * sa, a * st],
                      [0.0, sa, ca, d],
                      [0.0, 0.0, 0.0, 1.0]])

def fk(q):
    params = [(0.3, 0.0, jnp.pi / 2), (0.0, 0.5, 0.0), (0.0, 0.4, 0.0)]
    T = jnp.eye(4)
    for qi, (d, a, al) in zip(q, params):
        T = T @ dh(qi, d, a, al)
    return T[:3, 3]

jax.jacobian(fk)(q)
""", q=np.array([0.1, 0.7, -0.5]))
S("quaternion Hamilton product", "torch", TORCH + """
def qmul(a, b):
    w1, x1, y1, z1 = a.unbind(-1)
    w2, x2, y2, z2 = b.unbind(-1)
    return torch.stack([w1*w2 - x1*x2 - y1*y2 - z1*z2,
                        w1*x2 + x1*w2 + y1*z2 - z1*y2,
                        w1*y2 - x1*z2 + y1*w2 + z1*x2,
                        w1*z2 + x1*y2 - y1*x2 + z1*w2], dim=-1)

def rotate(q, v):
    q = q / q.norm()
    qv = torch.cat([torch.zeros(1, dtype=v.dtype), v])
    q_conj = q * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)
    return qmul(qmul(q, qv), q_conj)[1:]

rotate(q, v)
""", q=n(4), v=n(3))
S("quaternion rotate jnp.cross", "jax", JAX + """
def quat_rotate(q, v):
    q = q / jnp.linalg.norm(q)
    w, r = q[0], q[1:]
    t = 2.0 * jnp.cross(r, v)
    return v + w * t + jnp.cross(r, t)

quat_rotate(q, v)
""", q=n(4), v=n(3))
S("Rodrigues formula numpy", "numpy", NP + """
def rodrigues(omega):
    theta = np.linalg.norm(omega)
    k = omega / theta
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * K @ K

rodrigues(omega) @ p
""", omega=np.array([0.3, -0.5, 0.8]), p=n(3))
S("Rodrigues vs matrix_exp torch", "torch", TORCH + """
def hat(w):
    z = torch.zeros((), dtype=w.dtype)
    return torch.stack([torch.stack([z, -w[2], w[1]]),
                        torch.stack([w[2], z, -w[0]]),
                        torch.stack([-w[1], w[0], z])])

W = hat(w)
th = torch.linalg.norm(w)
R1 = torch.eye(3, dtype=w.dtype) + torch.sin(th) / th * W + (1 - torch.cos(th)) / th**2 * W @ W
R2 = torch.linalg.matrix_exp(W)
(R1 @ p).sum() + (R2 @ p).sum()
""", w=np.array([0.4, 0.1, -0.6]), p=n(3))
S("N-body potential cdist softening", "torch", TORCH + """
def potential(pos, masses, eps=0.1, G=1.0):
    r = torch.cdist(pos, pos)
    inv = 1.0 / torch.sqrt(r ** 2 + eps ** 2)
    mm = masses[:, None] * masses[None, :]
    i, j = torch.triu_indices(pos.shape[0], pos.shape[0], offset=1)
    return -G * (mm * inv)[i, j].sum()

potential(pos, masses)
""", pos=n(5, 3), masses=u(0.5, 2, 5))
S("N-body forces jax pairwise", "jax", JAX + """
def energy(x, m, soft=0.05):
    diff = x[:, None, :] - x[None, :, :]
    r2 = jnp.sum(diff ** 2, axis=-1) + soft ** 2
    mask = 1.0 - jnp.eye(x.shape[0])
    return -0.5 * jnp.sum(mask * m[:, None] * m[None, :] / jnp.sqrt(r2))

forces = -jax.grad(energy)(x, m)
forces
""", x=n(4, 3), m=u(0.5, 2, 4))
S("Lennard-Jones pdist", "numpy", NP + """
from scipy.spatial.distance import pdist
r = pdist(X)
4 * eps * np.sum((sigma / r) ** 12 - (sigma / r) ** 6)
""", X=np.array([[0.0, 0, 0], [1.1, 0.1, 0], [0.2, 1.2, 0.1], [1.0, 1.1, 0.9]]) + 0.05 * n(4, 3),
  eps=np.array(1.0), sigma=np.array(0.9))
S("Coulomb energy masked cdist", "torch", TORCH + """
D = torch.cdist(r, r)
n_ = r.shape[0]
off = ~torch.eye(n_, dtype=torch.bool)
E = 0.5 * (q[:, None] * q[None, :] / D.masked_fill(~off, 1.0))[off].sum()
E
""", r=n(4, 3), q=np.array([1.0, -1.0, 0.5, -0.5]) + 0.1 * n(4))
S("projectile with quadratic drag", "numpy", NP + """
def simulate(v0, angle, c, dt=0.01, steps=50):
    pos = np.zeros(2)
    vel = v0 * np.array([np.cos(angle), np.sin(angle)])
    g = np.array([0.0, -9.81])
    for _ in range(steps):
        speed = np.linalg.norm(vel)
        acc = g - c * speed * vel
        vel = vel + acc * dt
        pos = pos + vel * dt
    return pos

simulate(v0, angle, c)
""", v0=np.array(12.0), angle=np.array(0.7), c=np.array(0.05))
S("rigid body kinetic energy", "torch", TORCH + """
I_body = torch.diag(inertia)
def rot_z(a):
    c, s = torch.cos(a), torch.sin(a)
    return torch.stack([torch.stack([c, -s, torch.zeros_like(a)]),
                        torch.stack([s, c, torch.zeros_like(a)]),
                        torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)])

R = rot_z(yaw)
I_world = R @ I_body @ R.T
0.5 * omega @ I_world @ omega
""", inertia=np.array([1.0, 2.0, 3.0]), yaw=np.array(0.4), omega=n(3))

# ================================================================================= statistics / ML
S("Kalman Joseph form torch", "torch", TORCH + """
class KalmanFilter:
    def __init__(self, F, H, Q, R):
        self.F, self.H, self.Q, self.R = F, H, Q, R

    def predict(self, x, P):
        return self.F @ x, self.F @ P @ self.F.T + self.Q

    def update(self, x, P, z):
        y = z - self.H @ x
        S = self.H @ P @ self.H.T + self.R
        K = torch.linalg.solve(S, self.H @ P).T
        I_KH = torch.eye(P.shape[0], dtype=P.dtype) - K @ self.H
        return x + K @ y, I_KH @ P @ I_KH.T + K @ self.R @ K.T

dt = 0.1
F_ = torch.tensor([[1.0, dt], [0.0, 1.0]], dtype=torch.float64)
H = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
kf = KalmanFilter(F_, H, 0.01 * torch.eye(2, dtype=torch.float64), torch.tensor([[r]], dtype=torch.float64))
x, P = x0, torch.eye(2, dtype=torch.float64)
for z in zs:
    x, P = kf.predict(x, P)
    x, P = kf.update(x, P, z.reshape(1))
x.sum() + torch.trace(P)
""", x0=n(2), zs=n(4), r=np.array(0.3))
S("Kalman log-likelihood jax loop", "jax", JAX + """
def kalman_loglik(zs, q, r):
    F = jnp.array([[1.0, 1.0], [0.0, 1.0]])
    H = jnp.array([1.0, 0.0])
    x = jnp.zeros(2)
    P = jnp.eye(2)
    ll = 0.0
    for z in zs:
        x = F @ x
        P = F @ P @ F.T + q * jnp.eye(2)
        S = H @ P @ H + r
        K = P @ H / S
        innov = z - H @ x
        ll = ll - 0.5 * (jnp.log(2 * jnp.pi * S) + innov ** 2 / S)
        x = x + K * innov
        P = P - jnp.outer(K, H) @ P
    return ll

kalman_loglik(zs, q, r)
""", zs=np.cumsum(n(5)), q=np.array(0.1), r=np.array(0.5))
S("PCA by SVD reconstruction", "torch", TORCH + """
Xc = X - X.mean(dim=0, keepdim=True)
U, S, Vh = torch.linalg.svd(Xc, full_matrices=False)
components = Vh[:2]
Z = Xc @ components.T
X_hat = Z @ components
((Xc - X_hat) ** 2).sum() + 0.1 * (Z ** 2).sum()
""", X=n(8, 4) * np.array([3.0, 2.0, 1.0, 0.5]))
S("PCA explained variance numpy", "numpy", NP + """
Xc = X - X.mean(axis=0)
_, s, _ = np.linalg.svd(Xc, full_matrices=False)
var = s**2 / (X.shape[0] - 1)
var[:2] / var.sum()
""", X=n(8, 4) * np.array([3.0, 2.0, 1.0, 0.5]))
S("PCA eigh of covariance jax", "jax", JAX + """
C = jnp.cov(X, rowvar=False)
evals, evecs = jnp.linalg.eigh(C)
top = evecs[:, -1]
proj = (X - X.mean(0)) @ top
evals[-1] + jnp.var(proj)
""", X=n(8, 3) * np.array([3.0, 1.5, 0.5]))
S("logistic NLL logaddexp L2", "numpy", NP + """
def nll(w, X, y, lam=0.1):
    z = X @ w
    return np.sum(np.logaddexp(0, -y * z)) + 0.5 * lam * w @ w

nll(w, X, y)
""", w=n(3), X=n(6, 3), y=np.array([1.0, -1, 1, 1, -1, -1]))
S("logistic regression logsigmoid weight decay", "torch", TORCH + """
def loss_fn(w, b, X, y, wd=1e-2):
    logits = X @ w + b
    ll = y * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)
    return -ll.mean() + wd * w.pow(2).sum()

loss_fn(w, b, X, y)
""", w=n(3), b=np.array(0.1), X=n(6, 3), y=np.array([1.0, 0, 1, 1, 0, 0]))
S("GP NLL cholesky_solve logdet", "torch", TORCH + """
def kernel(x1, x2, ls, amp):
    d2 = (x1.unsqueeze(1) - x2.unsqueeze(0)).pow(2).sum(-1)
    return amp ** 2 * torch.exp(-d2 / (2 * ls ** 2))

def gp_nll(X, y, log_ls, log_amp, log_noise):
    n = X.size(0)
    K = kernel(X, X, log_ls.exp(), log_amp.exp()) + log_noise.exp() * torch.eye(n, dtype=X.dtype)
    L = torch.linalg.cholesky(K)
    alpha = torch.cholesky_solve(y.view(-1, 1), L)
    return 0.5 * (y.view(1, -1) @ alpha).squeeze() + L.diagonal().log().sum() + 0.5 * n * math.log(2 * math.pi)

gp_nll(X, y, log_ls, log_amp, log_noise)
""", X=n(6, 2), y=n(6), log_ls=np.array(0.1), log_amp=np.array(-0.2), log_noise=np.array(-1.5))
S("GMM log-likelihood Normal log_prob", "torch", TORCH + """
from torch.distributions import Normal
log_w = torch.log_softmax(logits, dim=0)
comp = Normal(mu, log_sigma.exp())
lp = comp.log_prob(x.unsqueeze(-1)) + log_w
torch.logsumexp(lp, dim=-1).sum()
""", x=n(7), mu=n(3), log_sigma=u(-0.5, 0.5, 3), logits=n(3))
S("2-D GMM MultivariateNormal", "torch", TORCH + """
import torch.distributions as D
mix = D.Categorical(logits=logits)
comp = D.Independent(D.Normal(means, scales.exp()), 1)
gmm = D.MixtureSameFamily(mix, comp)
gmm.log_prob(x).mean()
""", x=n(6, 2), means=n(3, 2), scales=u(-0.3, 0.3, 3, 2), logits=n(3))
S("Huber F.huber_loss delta", "torch", TORCH + """
F.huber_loss(pred, target, delta=0.5) + nn.SmoothL1Loss(beta=0.3)(pred, target)
""", pred=n(6), target=n(6))
S("quantile pinball loss torch", "torch", TORCH + """
def quantile_loss(pred, target, quantiles):
    errors = target.unsqueeze(-1) - pred
    return torch.max((quantiles - 1) * errors, quantiles * errors).mean()

qs = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
quantile_loss(pred, y, qs)
""", pred=n(5, 3), y=n(5))
S("quantile loss jax where", "jax", JAX + """
def pinball(y, yhat, tau):
    e = y - yhat
    return jnp.mean(jnp.where(e >= 0, tau * e, (tau - 1) * e))

pinball(y, yhat, 0.3) + pinball(y, yhat, 0.7)
""", y=n(6), yhat=n(6))
S("sigmoid focal loss torchvision-style", "torch", TORCH + """
def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss

sigmoid_focal_loss(logits, targets)
""", logits=n(2, 4), targets=np.array([[1.0, 0, 0, 1], [0, 1, 0, 0]]))
S("contrastive loss pairwise_distance", "torch", TORCH + """
class ContrastiveLoss(nn.Module):
    def __init__(self, margin=2.0):
        super().__init__()
        self.margin = margin

    def forward(self, out1, out2, label):
        d = F.pairwise_distance(out1, out2, keepdim=True)
        return torch.mean((1 - label) * torch.pow(d, 2)
                          + label * torch.pow(torch.clamp(self.margin - d, min=0.0), 2))

ContrastiveLoss()(a, b, label)
""", a=n(4, 3), b=n(4, 3), label=np.array([[0.0], [1.0], [1.0], [0.0]]))
S("CrossEntropyLoss label_smoothing weight", "torch", TORCH + """
criterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), label_smoothing=0.1)
criterion(logits, target)
""", logits=n(5, 3), target=np.array([0, 2, 1, 1, 0]))
S("label smoothing jax one_hot", "jax", JAX + """
def smooth_ce(logits, labels, alpha=0.1):
    num_classes = logits.shape[-1]
    onehot = jax.nn.one_hot(labels, num_classes)
    soft = onehot * (1 - alpha) + alpha / num_classes
    return -jnp.mean(jnp.sum(soft * jax.nn.log_softmax(logits), axis=-1))

smooth_ce(logits, labels)
""", logits=n(4, 5), labels=np.array([1, 0, 4, 2]))
S("MLP LayerNorm GELU module", "torch", TORCH + """
class Block(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, d)
        self.drop = nn.Dropout(0.0)

    def forward(self, x):
        return x + self.drop(self.fc2(self.act(self.fc1(self.ln(x)))))

block = Block(4, 8)
block(x).pow(2).mean()
""", x=n(3, 4))
S("GELU tanh approximation functional", "torch", TORCH + """
h = F.gelu(x @ W1 + b1, approximate='tanh')
h = F.layer_norm(h, (h.shape[-1],))
(h @ W2).sum()
""", x=n(3, 4), W1=n(4, 5) / 2, b1=n(5), W2=n(5, 2))
S("RMSNorm jax function", "jax", JAX + """
def rms_norm(x, weight, eps=1e-6):
    rms = jnp.sqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)
    return x / rms * weight

rms_norm(x, w)
""", x=n(3, 4), w=u(0.5, 1.5, 4))
S("RoPE rotate_half", "torch", TORCH + """
def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)

def apply_rope(q, k, seq_len, dim, base=10000.0):
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    t = torch.arange(seq_len, dtype=torch.float64)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin

q_r, k_r = apply_rope(q, k, 5, 4)
(q_r @ k_r.T).sum()
""", q=n(5, 4), k=n(5, 4))
S("RoPE LLaMA view_as_complex", "torch", TORCH + """
def precompute_freqs_cis(dim, end, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].double() / dim))
    t = torch.arange(end, dtype=torch.float64)
    freqs = torch.outer(t, freqs)
    return torch.polar(torch.ones_like(freqs), freqs)

def apply_rotary_emb(xq, freqs_cis):
    xq_ = torch.view_as_complex(xq.reshape(*xq.shape[:-1], -1, 2))
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(-2)
    return xq_out.type_as(xq)

fc = precompute_freqs_cis(4, 3)
apply_rotary_emb(xq, fc)
""", xq=n(3, 4))
S("RoPE jax interleaved", "jax", JAX + """
def rope(x, base=10000.0):
    T, d = x.shape
    inv = 1.0 / base ** (jnp.arange(0, d, 2) / d)
    ang = jnp.arange(T)[:, None] * inv[None, :]
    x1, x2 = x[:, 0::2], x[:, 1::2]
    r1 = x1 * jnp.cos(ang) - x2 * jnp.sin(ang)
    r2 = x1 * jnp.sin(ang) + x2 * jnp.cos(ang)
    return jnp.stack([r1, r2], axis=-1).reshape(T, d)

rope(x)
""", x=n(3, 4))
S("attention Head module tril buffer", "torch", TORCH + """
class Head(nn.Module):
    def __init__(self, n_embd, head_size, block_size, dropout=0.0):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer('tril', torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)
        q = self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        v = self.value(x)
        return wei @ v

head = Head(4, 3, 8)
head.eval()
head(x).sum()
""", x=n(1, 5, 4))
S("attention F.dropout training False", "torch", TORCH + """
def attn(q, k, v, p=0.1, training=False):
    T = q.size(0)
    s = q @ k.T / math.sqrt(q.size(-1))
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    s = s.masked_fill(~causal, -1e9)
    w = F.dropout(s.softmax(-1), p=p, training=training)
    return w @ v

attn(q, k, v).norm()
""", q=n(4, 3), k=n(4, 3), v=n(4, 3))
S("tiny 1-D conv net functional", "torch", TORCH + """
def conv_net(x, w1, b1, w2, b2, wl):
    h = F.relu(F.conv1d(x, w1, b1, padding=1))
    h = F.max_pool1d(h, kernel_size=2)
    h = torch.tanh(F.conv1d(h, w2, b2, padding='same'))
    h = h.mean(dim=-1)
    return h @ wl

conv_net(x, w1, b1, w2, b2, wl).sum()
""", x=n(2, 1, 8), w1=n(3, 1, 3), b1=n(3), w2=n(2, 3, 3) / 2, b2=n(2), wl=n(2, 1))
S("nn.Conv1d module stack", "torch", TORCH + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 4, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(4, 4, kernel_size=3, stride=2)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        x = F.silu(self.conv1(x))
        x = F.silu(self.conv2(x))
        x = self.pool(x).squeeze(-1)
        return self.fc(x)

net = Net()
net(x).sum()
""", x=n(2, 2, 9))
S("batch norm train mode functional", "torch", TORCH + """
F.batch_norm(x, None, None, weight=g, bias=b, training=True, eps=1e-5).pow(3).sum()
""", x=n(5, 3), g=u(0.5, 1.5, 3), b=n(3))
S("BatchNorm1d module train mode", "torch", TORCH + """
model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
model.train()
model(x).pow(2).mean()
""", x=n(6, 3))
S("manual SGD step create_graph", "torch", TORCH + """
def loss_fn(w, X, y):
    return ((X @ w - y) ** 2).mean()

lr = 0.1
loss = loss_fn(w, X, y)
grad, = torch.autograd.grad(loss, w, create_graph=True)
w_new = w - lr * grad
loss_fn(w_new, X, y)
""", w=n(3), X=n(6, 3), y=n(6))
S("manual SGD steps no_grad style", "torch", TORCH + """
params = [W, b]
for step in range(3):
    loss = ((torch.tanh(X @ W + b) - y) ** 2).mean()
    grads = torch.autograd.grad(loss, params, create_graph=True)
    params = [p - 0.5 * g for p, g in zip(params, grads)]
    W, b = params
((torch.tanh(X @ W + b) - y) ** 2).mean()
""", W=n(3, 2) / 2, b=n(2) / 2, X=n(5, 3), y=n(5, 2) / 2)
S("jax SGD step tree_map", "jax", JAX + """
def loss(params, x, y):
    pred = jnp.tanh(x @ params['w'] + params['b'])
    return jnp.mean((pred - y) ** 2)

params = {'w': w, 'b': b}
for _ in range(3):
    grads = jax.grad(loss)(params, x, y)
    params = jax.tree_util.tree_map(lambda p, g: p - 0.3 * g, params, grads)
loss(params, x, y)
""", w=n(3) / 2, b=np.array(0.1), x=n(6, 3), y=n(6) / 2)
S("gaussian_nll_loss heteroscedastic", "torch", TORCH + """
mu = X @ w
var = F.softplus(X @ v) + 1e-3
F.gaussian_nll_loss(mu, y, var, full=True)
""", X=n(6, 3), w=n(3), v=n(3), y=n(6))
S("kl_divergence Normal Normal", "torch", TORCH + """
from torch.distributions import Normal, kl_divergence
q = Normal(mu, torch.exp(log_std))
p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
kl_divergence(q, p).sum()
""", mu=n(4), log_std=u(-0.5, 0.5, 4))
S("StudentT robust regression", "torch", TORCH + """
dist = torch.distributions.StudentT(df=4.0, loc=X @ beta, scale=F.softplus(s))
-dist.log_prob(y).sum()
""", X=n(6, 2), beta=n(2), s=np.array(0.3), y=n(6))
S("cosine embedding loss", "torch", TORCH + """
1 - F.cosine_similarity(a, b, dim=-1).mean() + F.cosine_embedding_loss(a, b, target, margin=0.2)
""", a=n(4, 5), b=n(4, 5), target=np.array([1.0, -1.0, 1.0, -1.0]))
S("weighted least squares jnp", "jax", JAX + """
W = jnp.diag(w)
beta = jnp.linalg.solve(X.T @ W @ X, X.T @ W @ y)
resid = y - X @ beta
jnp.sum(w * resid ** 2)
""", X=n(6, 2), y=n(6), w=u(0.5, 2, 6))
S("ridge by eigh", "numpy", NP + """
evals, evecs = np.linalg.eigh(X.T @ X)
coef = evecs @ np.diag(1.0 / (evals + lam)) @ evecs.T @ X.T @ y
coef
""", X=n(7, 3), y=n(7), lam=np.array(0.5))
S("numpy gradient descent loop", "numpy", NP + """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))

w = np.zeros(X.shape[1])
for epoch in range(5):
    p = sigmoid(X @ w)
    grad = X.T @ (p - y) / len(y)
    w -= lr * grad
w
""", X=n(6, 3), y=np.array([1.0, 0, 1, 1, 0, 0]), lr=np.array(0.5))

# ================================================================================= finance / signal
S("Black-Scholes torch ndtr", "torch", TORCH + """
def bs_call(S, K, T, r, sigma):
    d1 = (torch.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * torch.sqrt(T))
    d2 = d1 - sigma * torch.sqrt(T)
    return S * torch.special.ndtr(d1) - K * torch.exp(-r * T) * torch.special.ndtr(d2)

bs_call(S, K, T, r, sigma)
""", S=np.array([95.0, 100.0, 110.0]), K=np.array(100.0), T=np.array(0.5), r=np.array(0.03),
  sigma=np.array(0.2))
S("Black-Scholes torch Normal cdf", "torch", TORCH + """
N = torch.distributions.Normal(0.0, 1.0)
d1 = (torch.log(S0 / K) + (r + sigma ** 2 / 2) * T) / (sigma * T ** 0.5)
d2 = d1 - sigma * T ** 0.5
K * torch.exp(-r * T) * N.cdf(-d2) - S0 * N.cdf(-d1)
""", S0=np.array(102.0), K=np.array([90.0, 100.0, 115.0]), T=np.array(1.0), r=np.array(0.02),
  sigma=np.array(0.25))
S("Black-Scholes jax norm.cdf greeks", "jax", JAX + """
from jax.scipy.stats import norm

def black_scholes(S, K, T, r, sigma):
    d1 = (jnp.log(S / K) + (r + 0.5 * sigma**2) * T) / (sigma * jnp.sqrt(T))
    d2 = d1 - sigma * jnp.sqrt(T)
    return S * norm.cdf(d1) - K * jnp.exp(-r * T) * norm.cdf(d2)

delta = jax.grad(black_scholes, argnums=0)(S, K, T, r, sigma)
vega = jax.grad(black_scholes, argnums=4)(S, K, T, r, sigma)
jnp.stack([black_scholes(S, K, T, r, sigma), delta, vega])
""", S=np.array(100.0), K=np.array(105.0), T=np.array(0.75), r=np.array(0.01), sigma=np.array(0.3))
S("Black-Scholes scipy ndtr", "numpy", NP + """
from scipy.special import ndtr
from scipy.stats import norm
d1 = (np.log(S / K) + (r + 0.5 * vol**2) * T) / (vol * np.sqrt(T))
d2 = d1 - vol * np.sqrt(T)
call = S * ndtr(d1) - K * np.exp(-r * T) * ndtr(d2)
put = K * np.exp(-r * T) * norm.cdf(-d2) - S * norm.cdf(-d1)
np.array([call, put])
""", S=np.array(50.0), K=np.array(52.0), T=np.array(0.4), r=np.array(0.04), vol=np.array(0.35))
S("portfolio variance np.cov Sharpe", "numpy", NP + """
Sigma = np.cov(R, rowvar=False)
mu = R.mean(axis=0)
w = w / w.sum()
port_var = w @ Sigma @ w
np.array([port_var, (w @ mu) / np.sqrt(port_var)])
""", R=0.01 * n(10, 3) + 0.001, w=u(0.2, 1, 3))
S("softmax portfolio utility jax", "jax", JAX + """
def utility(theta, mu, Sigma, risk_aversion=3.0):
    w = jax.nn.softmax(theta)
    return w @ mu - 0.5 * risk_aversion * w @ Sigma @ w

Sigma = A @ A.T / 10 + 0.01 * jnp.eye(3)
jax.grad(utility)(theta, mu, Sigma)
""", theta=n(3), mu=0.05 * n(3), A=n(3, 3))
S("EMA filter loop torch", "torch", TORCH + """
def ema(x, alpha):
    s = x[0]
    out = [s]
    for t in range(1, x.shape[0]):
        s = alpha * x[t] + (1 - alpha) * s
        out.append(s)
    return torch.stack(out)

ema(x, alpha)
""", x=n(6), alpha=np.array(0.3))
S("EMA scipy lfilter", "numpy", NP + """
from scipy.signal import lfilter
lfilter([alpha], [1, -(1 - alpha)], x)
""", x=n(6), alpha=np.array(0.3))
S("EMA pandas-style adjust numpy", "numpy", NP + """
weights = (1 - alpha) ** np.arange(len(x))[::-1]
np.sum(weights * x) / np.sum(weights)
""", x=n(6), alpha=np.array(0.25))
S("np.convolve moving average", "numpy", NP + """
window = 3
ma = np.convolve(x, np.ones(window) / window, mode='valid')
smoothed = np.convolve(x, k, mode='same')
np.concatenate([ma, smoothed])
""", x=n(8), k=np.array([0.25, 0.5, 0.25]))
S("jnp.convolve full", "jax", JAX + """
jnp.convolve(x, h) ** 2
""", x=n(5), h=n(3))
S("soft rank pairwise sigmoid", "torch", TORCH + """
def soft_rank(x, tau=0.5):
    diff = x.unsqueeze(-1) - x.unsqueeze(-2)
    return 0.5 + torch.sigmoid(diff / tau).sum(-1)

r = soft_rank(x)
((r - target) ** 2).sum()
""", x=n(5), target=np.array([1.0, 2, 3, 4, 5]))
S("NeuralSort soft sort jax", "jax", JAX + """
def neural_sort(s, tau=1.0):
    n = s.shape[0]
    A = jnp.abs(s[:, None] - s[None, :])
    B = A @ jnp.ones(n)
    scaling = n + 1 - 2 * (jnp.arange(n) + 1)
    C = scaling[:, None] * s[None, :]
    P_max = C - B[None, :]
    P_hat = jax.nn.softmax(P_max / tau, axis=-1)
    return P_hat @ s

neural_sort(s)
""", s=np.array([0.3, -1.2, 2.1, 0.8, -0.4]))
S("log returns annualized vol", "numpy", NP + """
log_ret = np.diff(np.log(prices))
vol = np.std(log_ret, ddof=1) * np.sqrt(252)
sharpe = np.mean(log_ret) * 252 / vol
np.array([vol, sharpe])
""", prices=100 * np.exp(np.cumsum(0.01 * n(8))))
S("GARCH(1,1) likelihood loop", "numpy", NP + """
def garch_nll(params, r):
    omega, alpha, beta = params
    sigma2 = np.var(r)
    nll = 0.0
    for t in range(len(r)):
        nll += 0.5 * (np.log(2 * np.pi * sigma2) + r[t] ** 2 / sigma2)
        sigma2 = omega + alpha * r[t] ** 2 + beta * sigma2
    return nll

garch_nll(params, r)
""", params=np.array([0.05, 0.1, 0.8]), r=0.5 * n(7))
S("AR(2) residuals torch", "torch", TORCH + """
pred = phi[0] * y[1:-1] + phi[1] * y[:-2] + c
resid = y[2:] - pred
(resid ** 2).mean() + 0.01 * phi.pow(2).sum()
""", y=n(8), phi=np.array([0.5, -0.2]), c=np.array(0.1))
S("rfft power spectrum band", "torch", TORCH + """
X = torch.fft.rfft(x * torch.hann_window(x.shape[-1], periodic=True, dtype=torch.float64))
power = X.real ** 2 + X.imag ** 2
power[1:4].sum() / power.sum()
""", x=n(16))
S("Savitzky-Golay coefficients pinv", "numpy", NP + """
m = 2
ks = np.arange(-m, m + 1)
A = np.vander(ks, 3, increasing=True)
coeffs = np.linalg.pinv(A)[0]
np.convolve(x, coeffs[::-1], mode='valid')
""", x=n(9))
S("Bollinger z-score rolling", "numpy", NP + """
from numpy.lib.stride_tricks import sliding_window_view
win = sliding_window_view(p, 4)
mean = win.mean(axis=-1)
std = win.std(axis=-1)
(p[3:] - mean) / std
""", p=100 + np.cumsum(n(8)))


# ================================================================================= library conventions that differ
S("historical VaR CVaR torch.quantile", "torch", TORCH + """
losses = -(returns @ w)
var = torch.quantile(losses, 0.9)
cvar = losses[losses >= var].mean()
var + cvar
""", returns=0.02 * n(12, 3), w=np.array([0.5, 0.3, 0.2]))
S("VaR np.percentile", "numpy", NP + """
pnl = returns @ w
-np.percentile(pnl, 10) + np.median(pnl)
""", returns=0.02 * n(12, 3), w=np.array([0.5, 0.3, 0.2]))
S("max drawdown maximum.accumulate", "numpy", NP + """
wealth = np.cumprod(1 + r)
peak = np.maximum.accumulate(wealth)
np.max(1 - wealth / peak)
""", r=np.array([0.01, 0.03, -0.02, -0.015, 0.02, -0.03, 0.01]))
S("max drawdown torch.cummax", "torch", TORCH + """
wealth = torch.cumprod(1 + r, dim=0)
peak, _ = torch.cummax(wealth, dim=0)
(1 - wealth / peak).max()
""", r=np.array([0.01, 0.03, -0.02, -0.015, 0.02, -0.03, 0.01]))
S("Markov chain matrix_power", "numpy", NP + """
P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
pi0 = np.array([1.0, 0.0, 0.0])
pi0 @ np.linalg.matrix_power(P, 5)
""", logits=n(3, 3))
S("jax.nn.gelu default approximate", "jax", JAX + """
def mlp(x, W1, W2):
    return jax.nn.gelu(x @ W1) @ W2

mlp(x, W1, W2)
""", x=n(3, 4), W1=n(4, 5), W2=n(5, 2))
S("softplus beta threshold", "torch", TORCH + """
F.softplus(x, beta=2.0, threshold=5.0).sum() + nn.Softplus(beta=0.5)(x).sum()
""", x=np.array([-2.0, 0.3, 1.7, 2.9, -0.4]))
S("torch.std unbiased Sharpe", "torch", TORCH + """
excess = r - rf
excess.mean() / excess.std() * math.sqrt(252) + r.var(unbiased=False)
""", r=0.01 * n(10), rf=np.array(0.0001))
S("np.gradient nonuniform", "numpy", NP + """
t = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 1.5])
np.gradient(y, t)
""", y=n(6))
S("torch.gradient spacing", "torch", TORCH + """
g, = torch.gradient(y, spacing=0.5)
g2, = torch.gradient(y, spacing=(torch.tensor([0.0, 0.2, 0.5, 0.9, 1.4, 2.0], dtype=torch.float64),), edge_order=2)
g.sum() + (g2 ** 2).sum()
""", y=n(6))
S("jnp.gradient edge", "jax", JAX + """
jnp.gradient(jnp.sin(a * jnp.linspace(0, 1, 7)), 1.0 / 6)
""", a=np.array(2.3))
S("angle wrapping remainder atan2", "torch", TORCH + """
err = (theta - target + math.pi) % (2 * math.pi) - math.pi
err2 = torch.atan2(torch.sin(theta - target), torch.cos(theta - target))
(err ** 2).sum() + (err2 ** 2).sum() + torch.fmod(theta, 1.0).sum()
""", theta=np.array([3.0, -2.5, 0.4]), target=np.array([-3.0, 2.9, 0.1]))
S("F.interpolate linear upsample", "torch", TORCH + """
up = F.interpolate(x.view(1, 1, -1), scale_factor=2, mode='linear', align_corners=False).view(-1)
up2 = F.interpolate(x[None, None], size=7, mode='linear', align_corners=True)[0, 0]
(up ** 2).sum() + up2.sum()
""", x=n(5))
S("reflect pad conv1d smoothing", "torch", TORCH + """
k = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64) / 4
xp = F.pad(x.view(1, 1, -1), (1, 1), mode='reflect')
F.conv1d(xp, k.view(1, 1, -1)).view(-1)
""", x=n(6))
S("jnp.where sqrt NaN gradient", "jax", JAX + """
jnp.sum(jnp.where(x > 0, jnp.sqrt(jnp.abs(x)), 0.0))
""", x=np.array([0.5, -1.0, 2.0]))
S("spectral norm np.linalg.norm ord 2", "numpy", NP + """
np.linalg.norm(A, 2) + np.linalg.norm(A, 'nuc') + np.linalg.cond(A)
""", A=n(3, 3))
S("scan Kalman filter", "jax", JAX + """
def kf_step(carry, z):
    m, P = carry
    m_pred, P_pred = a * m, a * a * P + q
    K = P_pred / (P_pred + 0.5)
    m_new = m_pred + K * (z - m_pred)
    P_new = (1 - K) * P_pred
    return (m_new, P_new), m_new

(_, _), means = jax.lax.scan(kf_step, (0.0, 1.0), zs)
means
""", zs=n(5), a=np.array(0.9), q=np.array(0.2))
S("MultivariateNormal scale_tril loglik", "torch", TORCH + """
from torch.distributions import MultivariateNormal
L = torch.tril(A, diagonal=-1) + torch.diag(F.softplus(torch.diagonal(A)))
mvn = MultivariateNormal(loc=mu, scale_tril=L)
mvn.log_prob(x).sum() + mvn.entropy()
""", A=n(3, 3), mu=n(3), x=n(4, 3))
S("batched rotation einsum", "numpy", NP + """
c, s = np.cos(angles), np.sin(angles)
R = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
np.einsum('nij,nj->ni', R, pts)
""", angles=n(4), pts=n(4, 2))
S("torch.cov correction weights", "torch", TORCH + """
C = torch.cov(X.T, correction=0, aweights=w)
torch.logdet(C + 0.1 * torch.eye(3, dtype=torch.float64))
""", X=n(8, 3), w=u(0.5, 2, 8))


# ================================================================================= RL and in-place traps
S("REINFORCE discounted returns", "torch", TORCH + """
from torch.distributions import Categorical
gamma = 0.99
R = 0
returns = []
for r in reversed(rewards.tolist()):
    R = r + gamma * R
    returns.insert(0, R)
returns = torch.tensor(returns)
returns = (returns - returns.mean()) / (returns.std() + 1e-8)
dist = Categorical(logits=logits)
log_probs = dist.log_prob(actions)
(-log_probs * returns).sum()
""", logits=n(5, 3), actions=np.array([0, 2, 1, 1, 0]), rewards=np.array([1.0, 0.0, 0.5, 0.0, 2.0]).astype(np.int64))
S("GAE advantages loop", "torch", TORCH + """
def gae(rewards, values, gamma=0.99, lam=0.95):
    adv = torch.zeros_like(rewards)
    last = 0.0
    for t in reversed(range(rewards.shape[0])):
        next_v = values[t + 1] if t + 1 < rewards.shape[0] else 0.0
        delta = rewards[t] + gamma * next_v - values[t]
        last = delta + gamma * lam * last
        adv[t] = last
    return adv

adv = gae(rewards, values)
(adv ** 2).mean()
""", rewards=n(5), values=n(5))
S("PPO clipped objective", "torch", TORCH + """
ratio = torch.exp(new_logp - old_logp)
surr1 = ratio * adv
surr2 = torch.clamp(ratio, 1 - 0.2, 1 + 0.2) * adv
policy_loss = -torch.min(surr1, surr2).mean()
value_loss = F.mse_loss(v_pred, v_target)
policy_loss + 0.5 * value_loss
""", new_logp=np.array([-1.0, -0.5, -2.0, -0.9]), old_logp=np.array([-1.1, -0.2, -1.5, -0.95]),
  adv=np.array([0.5, -1.0, 1.2, -0.3]), v_pred=n(4), v_target=n(4))
S("DQN TD loss gather detach", "torch", TORCH + """
q_values = states @ W
q_sa = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
with torch.no_grad():
    next_q = (next_states @ W).max(1)[0]
target = rewards + 0.99 * next_q * (1 - dones)
F.smooth_l1_loss(q_sa, target)
""", states=n(4, 3), next_states=n(4, 3), W=n(3, 2), actions=np.array([0, 1, 1, 0]), rewards=n(4),
  dones=np.array([0.0, 0.0, 1.0, 0.0]))
S("soft target update then loss", "torch", TORCH + """
tau = 0.1
target_W = tau * W + (1 - tau) * W_target
((x @ W - (x @ target_W).detach()) ** 2).mean()
""", W=n(3, 2), W_target=n(3, 2), x=n(4, 3))
S("numpy in-place normalize aliasing", "numpy", NP + """
def normalize(v):
    v /= np.linalg.norm(v)
    return v

normalize(x) + x
""", x=n(3))
S("torch relu_ in place non-leaf", "torch", TORCH + """
h = x @ W
h.mul_(2.0).add_(b)
h.relu_()
h.sum()
""", x=n(3, 4), W=n(4, 2), b=n(2))
S("torch.median even count", "torch", TORCH + """
torch.median(x) + x.median(dim=0).values.sum() + torch.quantile(x, 0.5)
""", x=np.array([[0.3, -1.2], [2.5, 0.7], [1.1, 0.1], [-0.4, 1.9]]))
S("topk and sort losses", "torch", TORCH + """
top, idx = torch.topk(scores, k=2)
srt, _ = torch.sort(scores, descending=True)
top.sum() + (srt * torch.arange(1, 6, dtype=torch.float64)).sum()
""", scores=np.array([0.3, -1.2, 2.5, 0.7, 1.1]))
S("python accumulation over indices", "numpy", NP + """
total = 0
for i in range(len(x)):
    total += x[i] ** 2 * (i + 1)
total / len(x)
""", x=n(5))
S("jax .at stencil loop", "jax", JAX + """
u_new = u
for i in range(1, u.shape[0] - 1):
    u_new = u_new.at[i].set(u[i] + 0.1 * (u[i - 1] - 2 * u[i] + u[i + 1]))
u_new
""", u=n(6))
S("jax masked mean", "jax", JAX + """
mask = x > 0
jnp.where(mask, x, 0.0).sum() / mask.sum() + jnp.mean(x, where=mask)
""", x=np.array([0.5, -1.0, 2.0, 1.5, -0.3]))
S("integer index arithmetic embedding", "torch", TORCH + """
idx = torch.arange(6) // 2
pos = torch.arange(6) / 5
(E[idx] * pos.unsqueeze(-1)).sum() + (E[idx % 3] ** 2).mean()
""", E=n(3, 2))
S("jax softmax axis default 2-D", "jax", JAX + """
jax.nn.softmax(x) * jax.nn.softmax(x, axis=0) + jax.nn.log_softmax(x, axis=None)
""", x=n(2, 3))


# ---------------------------------------------------------------------------------------------- run
def reference(s, declared):
    if s.lib == "torch":
        return h.torch_reference(s.code, s.inputs, declared)
    return h.numpy_reference(s.code, s.inputs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", default=".")
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
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
    for s in chosen:
        outcome, why = h.classify(s, mine[s.name], theirs.get(s.name))
        if outcome == "REFUSED" and isinstance(theirs.get(s.name), str):
            outcome, why = "REFUSED-AS-LIB", f"{why} || library: {theirs[s.name]}"
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "AGREE" or args.v:
            print(f"{outcome:8} [{s.lib}] {s.name}: {why}")
    print(f"{len(chosen)} snippets: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("WRONG") or counts.get("CRASH") else 0


def _torch_unchecked(s):
    """Whether PyTorch answers a snippet jac refused (modules keep PyTorch's own initial values)."""
    import torch
    torch.set_default_dtype(torch.float64)
    body, last = h._split(s.code)
    scope = {k: torch.tensor(v, requires_grad=v.dtype.kind == "f") for k, v in s.inputs.items()}
    exec(body, scope)  # noqa: S102
    return np.asarray(eval(last, scope).detach())  # noqa: S307


if __name__ == "__main__":
    sys.exit(main())
