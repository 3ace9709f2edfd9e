"""Session 35 probe: plain Python classes, the rest: ``is None`` defaults, getattr/setattr/hasattr, lists held by
instances, operator dunders (a dual number, a polynomial), callable model classes, properties, static and class
methods, class attributes, inheritance, NamedTuple / namedtuple / ``_replace``, ``dataclasses.replace``, frozen
dataclasses. Each snippet is run by Python itself (NumPy texts: the value, and central differences of it for the
Jacobian; ``torch`` texts: the value and ``torch.autograd.functional.jacobian``) and by jac; counted AGREE /
REFUSED / WRONG / CRASH. A snippet Python itself raises on (``RAISES``) agrees when jac refuses it with Python's
exception name. Run: PYTHONPATH=. python benchmarks/classes35_probe.py [-v]"""

import ast
import sys

import numpy as np

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

NP = "import numpy as np\n"
TORCH = "import torch\n"
X3 = {"x": [0.3, -1.2, 2.0]}

CASES = {
    # --- is None / default None -------------------------------------------------------------------------------
    "kalman_lazy_P": (NP + """
class Kalman:
    def __init__(self, F, Q):
        self.F, self.Q = F, Q
        self.P = None
    def predict(self, x):
        if self.P is None:
            self.P = np.eye(len(x))
        self.P = self.F @ self.P @ self.F.T + self.Q
        return self.F @ x
kf = Kalman(np.array([[1., .1], [0., 1.]]), 0.01 * np.eye(2))
for _ in range(3):
    x = kf.predict(x)
np.sum(x) + np.trace(kf.P)
""", {"x": [1.0, 0.5]}),
    "step_u_none": (NP + """
class Plant:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def step(self, x, u=None):
        if u is None:
            u = np.zeros_like(x)
        return self.a * x + self.b * u
p = Plant(0.9, 0.1)
y = p.step(x)
y = p.step(y, u=np.sin(y))
y
""", X3),
    "is_not_none_bias": (NP + """
class Affine:
    def __init__(self, W, b=None):
        self.W = W
        self.b = b
    def __call__(self, x):
        y = self.W @ x
        if self.b is not None:
            y = y + self.b
        return y
W = np.array([[1., 2., 0.], [0., -1., 1.]])
f = Affine(W)
g = Affine(W, np.array([0.5, -0.5]))
np.tanh(f(x)) + g(x) ** 2
""", X3),
    "none_cache": (NP + """
class Cache:
    def __init__(self):
        self.last = None
        self.count = 0
    def get(self, x):
        if self.last is None or self.count > 1:
            self.last = np.exp(x)
        self.count += 1
        return self.last
c = Cache()
c.get(x) + c.get(2 * x) + c.get(3 * x)
""", X3),
    # --- getattr / setattr / hasattr ---------------------------------------------------------------------------
    "getattr_params": (NP + """
class Params:
    def __init__(self, a, b):
        self.a = a
        self.b = b
p = Params(x, 2 * x)
total = 0
for name in ["a", "b"]:
    total = total + np.sum(getattr(p, name) ** 2)
total
""", X3),
    "getattr_default": (NP + """
class Cfg:
    def __init__(self):
        self.scale = 2.0
c = Cfg()
x * getattr(c, "scale", 1.0) + getattr(c, "shift", 0.5)
""", X3),
    "setattr_loop": (NP + """
class Box:
    pass
b = Box()
for i, name in enumerate(["p", "q"]):
    setattr(b, name, x ** (i + 1))
b.p + b.q
""", X3),
    "hasattr_branch": (NP + """
class A:
    def __init__(self, x):
        self.x = x
class B(A):
    def __init__(self, x):
        super().__init__(x)
        self.w = 3.0
def f(o):
    if hasattr(o, "w"):
        return o.w * o.x
    return o.x
f(A(x)) + f(B(np.sin(x)))
""", X3),
    "getattr_method": (NP + """
class Act:
    def relu(self, x):
        return np.maximum(x, 0)
    def tanh(self, x):
        return np.tanh(x)
a = Act()
getattr(a, "tanh")(x) + getattr(a, "relu")(x)
""", X3),
    # --- lists held by instances -------------------------------------------------------------------------------
    "ema_history": (NP + """
class EMA:
    def __init__(self, beta):
        self.beta = beta
        self.value = None
        self.history = []
    def update(self, x):
        if self.value is None:
            self.value = x
        else:
            self.value = self.beta * self.value + (1 - self.beta) * x
        self.history.append(self.value)
        return self.value
e = EMA(0.8)
for k in range(4):
    e.update(np.sin(k * x))
sum(e.history)
""", X3),
    "history_stack_torch": (TORCH + """
class Tracker:
    def __init__(self):
        self.history = []
    def record(self, v):
        self.history.append(v)
t = Tracker()
h = x
for _ in range(3):
    h = torch.tanh(h * 1.5)
    t.record(h)
torch.stack(t.history).sum(0)
""", X3),
    "mlp_layers_list": (NP + """
class MLP:
    def __init__(self, Ws):
        self.layers = []
        for W in Ws:
            self.layers.append(W)
    def __call__(self, x):
        for W in self.layers[:-1]:
            x = np.tanh(W @ x)
        return self.layers[-1] @ x
W1 = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.5]])
W2 = np.array([[1.0, -1.0], [0.2, 0.4]])
W3 = np.array([[0.7, 0.3]])
mlp = MLP([W1, W2, W3])
mlp(x)
""", X3),
    "mlp_layers_torch": (TORCH + """
class Layer:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def __call__(self, x):
        return torch.tanh(self.W @ x + self.b)
class Net:
    def __init__(self):
        self.layers = [Layer(torch.eye(3) * 0.5, torch.ones(3) * 0.1), Layer(torch.ones(2, 3) * 0.3, torch.zeros(2))]
    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
Net()(x)
""", X3),
    "losses_list_mean": (NP + """
class Logger:
    def __init__(self):
        self.losses = []
    def log(self, v):
        self.losses.append(v)
        return v
lg = Logger()
w = x
for _ in range(3):
    lg.log(np.sum(w ** 2))
    w = w - 0.1 * 2 * w
np.mean(np.array(lg.losses)) + len(lg.losses)
""", X3),
    "history_len_index": (NP + """
class Integrator:
    def __init__(self, dt):
        self.dt = dt
        self.states = []
    def run(self, x, n):
        for _ in range(n):
            x = x + self.dt * np.cos(x)
            self.states.append(x)
        return x
ig = Integrator(0.1)
ig.run(x, 3)
ig.states[-1] + ig.states[0] * len(ig.states)
""", X3),
    # --- operator dunders --------------------------------------------------------------------------------------
    "dual_number": (NP + """
class Dual:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def __add__(self, o):
        if isinstance(o, Dual):
            return Dual(self.a + o.a, self.b + o.b)
        return Dual(self.a + o, self.b)
    def __radd__(self, o):
        return self + o
    def __mul__(self, o):
        if isinstance(o, Dual):
            return Dual(self.a * o.a, self.a * o.b + self.b * o.a)
        return Dual(self.a * o, self.b * o)
    def __rmul__(self, o):
        return self * o
    def __neg__(self):
        return Dual(-self.a, -self.b)
    def __sub__(self, o):
        return self + (-o)
d = Dual(x, np.ones(3))
r = 3 * d * d + d - 2
r.a + r.b
""", X3),
    "polynomial": (NP + """
class Poly:
    def __init__(self, coeffs):
        self.c = coeffs
    def __call__(self, t):
        out = 0
        for k in range(len(self.c)):
            out = out + self.c[k] * t ** k
        return out
    def __add__(self, other):
        return Poly(self.c + other.c)
    def __mul__(self, s):
        return Poly(self.c * s)
    def __len__(self):
        return len(self.c)
p = Poly(x)
q = p + p * 2.0
q(0.5) + len(q)
""", X3),
    "vec2_matmul": (NP + """
class Mat:
    def __init__(self, A):
        self.A = A
    def __matmul__(self, v):
        return self.A @ v
    def __getitem__(self, i):
        return self.A[i]
M = Mat(np.array([[1., 2., 3.], [0., 1., -1.]]))
(M @ x) * M[0][1]
""", X3),
    "getitem_len_seq": (NP + """
class Series:
    def __init__(self, xs):
        self.xs = xs
    def __len__(self):
        return self.xs.shape[0]
    def __getitem__(self, i):
        return self.xs[i]
s = Series(x)
tot = 0
for i in range(len(s)):
    tot = tot + s[i] * i
tot
""", X3),
    "vector_class_ops": (NP + """
class V:
    def __init__(self, d):
        self.d = d
    def __add__(self, o):
        return V(self.d + o.d)
    def __sub__(self, o):
        return V(self.d - o.d)
    def __mul__(self, k):
        return V(self.d * k)
    def __truediv__(self, k):
        return V(self.d / k)
    def norm(self):
        return np.sqrt(np.sum(self.d ** 2))
a = V(x)
b = V(np.cos(x))
((a - b) / 2 + a * 3).norm()
""", X3),
    "callable_model_torch": (TORCH + """
class Model:
    def __init__(self, W):
        self.W = W
    def __call__(self, x):
        return torch.sigmoid(self.W @ x)
model = Model(torch.tensor([[1.0, -0.5, 0.2], [0.1, 0.3, 0.9]]))
model(x).sum() * model(2 * x)
""", X3),
    "dunder_pow_abs": (NP + """
class Q:
    def __init__(self, v):
        self.v = v
    def __pow__(self, k):
        return Q(self.v ** k)
    def __abs__(self):
        return Q(np.abs(self.v))
    def __pos__(self):
        return self
(abs(Q(x)) ** 2).v + (+Q(x)).v
""", X3),
    "dual_isinstance_number": (NP + """
class Dual:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def __mul__(self, o):
        if isinstance(o, (int, float)):
            return Dual(self.a * o, self.b * o)
        return Dual(self.a * o.a, self.a * o.b + self.b * o.a)
    __rmul__ = __mul__
    def __add__(self, o):
        if isinstance(o, Dual):
            return Dual(self.a + o.a, self.b + o.b)
        return Dual(self.a + o, self.b)
    __radd__ = __add__
def f(z):
    return 2 * z * z + 3.5 * z + 1
f(Dual(x, np.ones(3))).b
""", X3),
    "poly_product_called": (NP + """
class Poly:
    def __init__(self, c):
        self.c = c
    def __mul__(self, o):
        out = np.zeros(len(self.c) + len(o.c) - 1)
        for i in range(len(self.c)):
            for j in range(len(o.c)):
                out[i + j] = out[i + j] + self.c[i] * o.c[j]
        return Poly(out)
    def __call__(self, t):
        return sum(self.c[k] * t ** k for k in range(len(self.c)))
(Poly(x) * Poly(np.array([1.0, -1.0])))(0.7)
""", X3),
    # --- property / static / class methods / class attributes ---------------------------------------------------
    "pendulum_props": (NP + """
class Pendulum:
    g = 9.81
    def __init__(self, L):
        self.L = L
    @property
    def omega(self):
        return np.sqrt(self.g / self.L)
    @staticmethod
    def wrap(th):
        return np.sin(th)
    @classmethod
    def unit(cls):
        return cls(1.0)
    def step(self, th, w, dt):
        return th + dt * w, w - dt * self.omega ** 2 * self.wrap(th)
p = Pendulum.unit()
th, w = x[0], x[1]
for _ in range(5):
    th, w = p.step(th, w, 0.05)
th + w * Pendulum.g
""", {"x": [0.4, 0.1]}),
    "class_attr_counter": (NP + """
class Spring:
    k = 4.0
    damping = 0.1
    def force(self, x, v):
        return -self.k * x - Spring.damping * v
s = Spring()
s.force(x, np.cos(x))
""", X3),
    # --- inheritance -----------------------------------------------------------------------------------------------
    "inherit_integrator": (NP + """
class Integrator:
    def __init__(self, dt):
        self.dt = dt
    def f(self, x):
        return -x
    def step(self, x):
        return x + self.dt * self.f(x)
class Nonlinear(Integrator):
    def __init__(self, dt, k):
        super().__init__(dt)
        self.k = k
    def f(self, x):
        return -self.k * np.sin(x)
n = Nonlinear(0.1, 2.0)
y = x
for _ in range(4):
    y = n.step(y)
y
""", X3),
    "inherit_repr": (NP + """
class Base:
    def __init__(self, w):
        self.w = w
    def __repr__(self):
        return f"Base({self.w})"
class Child(Base):
    def out(self, x):
        return self.w * x
Child(2.0).out(x)
""", X3),
    # --- NamedTuple / namedtuple ---------------------------------------------------------------------------------
    "namedtuple_state_loop": (NP + """
from typing import NamedTuple
class State(NamedTuple):
    x: np.ndarray
    v: np.ndarray
def step(s, dt):
    return State(s.x + dt * s.v, s.v - dt * s.x)
s = State(x, np.zeros(3))
for _ in range(4):
    s = step(s, 0.1)
s.x + 2 * s.v
""", X3),
    "typing_namedtuple_attr": (NP + """
import typing
class Params(typing.NamedTuple):
    w: float
    b: float = 0.5
p = Params(2.0)
p.w * x + p.b
""", X3),
    "collections_namedtuple": (NP + """
import collections
S = collections.namedtuple('S', 'x v')
s = S(x, 2 * x)
x2, v2 = s
s.x * v2 + s[1]
""", X3),
    "namedtuple_from_import": (NP + """
from collections import namedtuple
Pt = namedtuple("Pt", ["a", "b"])
p = Pt(a=x, b=np.exp(x))
q = p._replace(a=p.a * 3)
q.a + q.b + p.a
""", X3),
    "namedtuple_replace_loop": (NP + """
from typing import NamedTuple
class Carry(NamedTuple):
    h: np.ndarray
    t: int
c = Carry(x, 0)
for _ in range(3):
    c = c._replace(h=np.tanh(c.h * 1.2), t=c.t + 1)
c.h * c.t
""", X3),
    "namedtuple_method": (NP + """
from typing import NamedTuple
class Gauss(NamedTuple):
    mu: np.ndarray
    sigma: float
    def logpdf(self, z):
        return -0.5 * np.sum(((z - self.mu) / self.sigma) ** 2)
g = Gauss(x, 2.0)
g.logpdf(np.ones(3)) + len(g)
""", X3),
    # --- dataclasses ---------------------------------------------------------------------------------------------------
    "dataclasses_replace": (NP + """
import dataclasses
@dataclasses.dataclass
class Particle:
    pos: np.ndarray
    vel: np.ndarray
p = Particle(x, np.ones(3))
q = dataclasses.replace(p, pos=p.pos + 0.1 * p.vel)
q.pos * 2 + p.pos
""", X3),
    "dataclass_replace_from": (NP + """
from dataclasses import dataclass, replace
@dataclass(frozen=True)
class Opt:
    lr: float
    w: np.ndarray
o = Opt(0.1, x)
for _ in range(3):
    o = replace(o, w=o.w - o.lr * 2 * o.w)
o.w
""", X3),
    "frozen_property": (NP + """
from dataclasses import dataclass
@dataclass(frozen=True)
class Circle:
    r: np.ndarray
    @property
    def area(self):
        return np.pi * self.r ** 2
Circle(x).area
""", X3),
    # --- combined realistic ---------------------------------------------------------------------------------------------
    "physics_integrator": (NP + """
class Body:
    G = 1.0
    def __init__(self, pos, vel, mass=1.0):
        self.pos, self.vel, self.mass = pos, vel, mass
        self.trajectory = []
    @property
    def energy(self):
        return 0.5 * self.mass * np.sum(self.vel ** 2) - self.G * self.mass / np.sqrt(np.sum(self.pos ** 2))
    def step(self, dt):
        r = np.sqrt(np.sum(self.pos ** 2))
        acc = -self.G * self.pos / r ** 3
        self.vel = self.vel + dt * acc
        self.pos = self.pos + dt * self.vel
        self.trajectory.append(self.pos)
b = Body(x, np.array([0.0, 1.0]))
for _ in range(5):
    b.step(0.01)
b.energy + np.sum(b.trajectory[2])
""", {"x": [1.0, 0.1]}),
    "optimizer_class_history": (NP + """
class SGD:
    def __init__(self, lr, momentum=None):
        self.lr = lr
        self.momentum = momentum
        self.buf = None
        self.steps = []
    def step(self, w, g):
        if self.momentum is not None:
            self.buf = g if self.buf is None else self.momentum * self.buf + g
            g = self.buf
        w = w - self.lr * g
        self.steps.append(w)
        return w
opt = SGD(0.1, momentum=0.9)
w = x
for _ in range(3):
    w = opt.step(w, 2 * w + np.sin(w))
w + opt.steps[0]
""", X3),
    "counter_class_attr_read": (NP + """
class Scaler:
    factor = 2.0
    def __init__(self, bias=None):
        self.bias = 0.0 if bias is None else bias
    def __call__(self, x):
        return self.factor * x + self.bias
Scaler()(x) + Scaler(1.0)(x ** 2)
""", X3),
    "dual_newton": (NP + """
class Dual:
    def __init__(self, v, d):
        self.v, self.d = v, d
    def __mul__(self, o):
        return Dual(self.v * o.v, self.v * o.d + self.d * o.v)
    def __sub__(self, o):
        return Dual(self.v - o, self.d)
def f(z):
    return z * z * z - 2.0
t = x
for _ in range(3):
    r = f(Dual(t, np.ones(3)))
    t = t - r.v / r.d
t
""", {"x": [1.5, 2.0, 1.2]}),
    "poly_derivative_class": (NP + """
class Poly:
    def __init__(self, c):
        self.c = c
    def deriv(self):
        return Poly(self.c[1:] * np.arange(1, len(self.c)))
    def __call__(self, t):
        return sum(self.c[k] * t ** k for k in range(len(self.c)))
p = Poly(x)
p.deriv()(2.0) + p(0.5)
""", X3),
    "static_class_factory": (NP + """
class Rot:
    def __init__(self, th):
        self.th = th
    @classmethod
    def from_degrees(cls, d):
        return cls(d * np.pi / 180)
    @staticmethod
    def mat(th):
        return np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    def apply(self, v):
        return self.mat(self.th) @ v
Rot.from_degrees(30.0).apply(x)
""", {"x": [1.0, 2.0]}),
    "torch_rnn_state_list": (TORCH + """
class RNN:
    def __init__(self, W, U):
        self.W, self.U = W, U
        self.hs = []
    def __call__(self, xs):
        h = torch.zeros(2)
        for x in xs:
            h = torch.tanh(self.W @ h + self.U * x)
            self.hs.append(h)
        return h
rnn = RNN(torch.tensor([[0.5, -0.3], [0.2, 0.1]]), torch.tensor([1.0, -1.0]))
rnn(x)
torch.stack(rnn.hs).sum(0)
""", X3),
    "setattr_self": (NP + """
class Config:
    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)
c = Config(a=x, b=2.0)
c.a * c.b
""", X3),
    # --- Python sequences an instance or class holds (a tuple, a list of numbers: jac holds each as one array) -------
    "seq_numbers_list_plus": (NP + """
class Poly:
    def __init__(self, c):
        self.c = c
    def padded(self):
        return Poly(self.c + [0.0])
p = Poly([1.0, 2.0]).padded()
np.array(p.c) * x[0]
""", X3),
    "seq_tuple_attr": (NP + "class O:\n    def __init__(self, s):\n        self.s = s\no = O((2, 3))\n"
                            "np.ones(o.s + (1,)).sum() * x", X3),
    "seq_class_tuple_const": (NP + "class C:\n    dims = (2, 3)\nnp.zeros(C.dims + (1,)).size * x", X3),
    "seq_dataclass_tuple_field": (NP + "from dataclasses import dataclass\n@dataclass\nclass D:\n    s: tuple = (2, 2)\n"
                                       "np.ones(D().s + (3,)).sum() * x", X3),
    "seq_method_tuple_arg": (NP + "class P:\n    def f(self, s):\n        return s + (1,)\n"
                                  "np.ones(P().f((2, 2))).sum() * x", X3),
    "seq_method_returns_tuple": (NP + "class P:\n    def __init__(self):\n        self.s = (2, 2)\n    def dims(self):\n"
                                      "        return self.s\nnp.ones(P().dims() + (3,)).sum() * x", X3),
    "seq_property_tuple": (NP + "class P:\n    @property\n    def dims(self):\n        return (2, 2)\n"
                                "np.ones(P().dims + (3,)).sum() * x", X3),
    "seq_method_list_arg": (NP + "class P:\n    def f(self, c):\n        return c + [3.0]\n"
                                 "np.array(P().f([1.0, 2.0])) * x[1]", X3),
    # --- what Python itself raises: jac must refuse with Python's exception name ---------------------------------------
    "raise_frozen_write": (NP + """
from dataclasses import dataclass
@dataclass(frozen=True)
class P:
    x: np.ndarray
p = P(x)
p.x = 2 * x
p.x
""", X3),
    "raise_attribute_never_set": (NP + """
class A:
    def __init__(self, x):
        self.x = x
a = A(x)
a.y
""", X3),
    "raise_not_callable": (NP + """
class A:
    def __init__(self, x):
        self.x = x
a = A(x)
a(x)
""", X3),
    "raise_getattr_missing": (NP + """
class A:
    pass
getattr(A(), "w") * x
""", X3),
    "raise_namedtuple_setattr": (NP + """
from typing import NamedTuple
class S(NamedTuple):
    x: np.ndarray
s = S(x)
s.x = x * 2
s.x
""", X3),
    "raise_no_radd": (NP + """
class D:
    def __init__(self, v):
        self.v = v
    def __add__(self, o):
        return D(self.v + o)
(2.0 + D(x)).v
""", X3),
}
RAISES = {"raise_frozen_write": "FrozenInstanceError", "raise_attribute_never_set": "AttributeError",
          "raise_not_callable": "TypeError", "raise_getattr_missing": "AttributeError",
          "raise_namedtuple_setattr": "AttributeError", "raise_no_radd": "TypeError"}


def python(text, env, torch_values=None):
    """The text run by Python itself, its last statement's value (NumPy arrays, or the torch tensors given)."""
    tree = ast.parse(text)
    scope = dict(torch_values) if torch_values is not None else {k: np.array(v, dtype=float) for k, v in env.items()}
    exec(compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec"), scope)
    return eval(compile(ast.Expression(body=tree.body[-1].value), "<text>", "eval"), scope)


def reference(text, env):
    """(value, {input: Jacobian}) by Python: torch texts by torch.autograd.functional.jacobian, NumPy texts by
    central differences."""
    if text.startswith(TORCH):
        import torch
        names = list(env)
        def f(*xs):
            return python(text, env, dict(zip(names, xs)))
        xs = tuple(torch.tensor(env[k], dtype=torch.float64) for k in names)
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:  # restored: the tests call this, and the process's later parity tests compare float32
            value = f(*xs).detach().numpy()
            jacs = torch.autograd.functional.jacobian(f, xs)
        finally:
            torch.set_default_dtype(default)
        return value, {k: j.numpy() for k, j in zip(names, jacs)}
    value = np.asarray(python(text, env), dtype=float)
    return value, {k: central_jacobian(lambda u, k=k: np.asarray(python(text, {**env, k: u}), dtype=float),
                                       np.array(v, dtype=float)) for k, v in env.items()}


def verdict(name, text, env):
    """AGREE / REFUSED / WRONG / CRASH, and a note."""
    if name in RAISES:
        try:
            python(text, env)
            return "WRONG", "Python did not raise"
        except Exception as e:  # noqa: BLE001 - which exception Python raises is what is compared
            if type(e).__name__ != RAISES[name]:
                return "CRASH", f"probe: Python raised {type(e).__name__}"
        try:
            api.evaluate(text, env)
        except JacError as e:
            said = str(e).splitlines()[0]
            return ("AGREE" if RAISES[name] in said else "REFUSED"), said[:110]
        except Exception as e:  # noqa: BLE001
            return "CRASH", f"{type(e).__name__}: {e}"
        return "WRONG", "jac answered where Python raises"
    try:
        value = api.evaluate(text, env)
        jac = api.jacobian(text, env)
    except JacError as e:
        return "REFUSED", str(e).splitlines()[0][:110]
    except Exception as e:  # noqa: BLE001 - a crash is what the probe counts
        return "CRASH", f"{type(e).__name__}: {e}"
    want, jacs = reference(text, env)
    ok = np.shape(value) == np.shape(want) and np.allclose(value, want, rtol=1e-10, atol=1e-12)
    for k in env:
        ok = ok and np.shape(jac[k]) == np.shape(jacs[k]) and np.allclose(jac[k], jacs[k], rtol=1e-6, atol=1e-6)
    return ("AGREE" if ok else "WRONG"), ""


def main():
    counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "CRASH": 0}
    for name, (text, env) in CASES.items():
        kind, note = verdict(name, text, env)
        counts[kind] += 1
        print(f"{name:28s} {kind:8s} {note}")
    print(len(CASES), "snippets:", counts)


if __name__ == "__main__":
    main()
