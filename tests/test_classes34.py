"""Session 34c: plain Python classes of the text (no base, ``object``, another plain class, ``@dataclass``) read as
Python runs them (lang/plain.py): ``__init__`` storing arrays, numbers, tuples and other instances; methods reading
and reassigning ``self`` attributes (Python's object state, seen by later calls and by every name holding the
instance); ``__call__``, ``@staticmethod``, ``@classmethod`` constructors, ``@property``, class attributes,
``@dataclass`` fields and defaults, inheritance with ``super()``. Each case is checked against Python itself running
the same text with NumPy arrays (values) and central differences (Jacobians); the torch case against PyTorch's
autograd; what jac does not reach is refused (exit 2 at the place, saying what to write)."""

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

rng = np.random.default_rng(341)
NP = "import numpy as np\n"

KALMAN = NP + """
class Kalman:
    def __init__(self, F, H, Q, R):
        self.F, self.H, self.Q, self.R = F, H, Q, R
    def predict(self, x, P):
        return self.F @ x, self.F @ P @ self.F.T + self.Q
    def update(self, x, P, z):
        S = self.H @ P @ self.H.T + self.R
        K = P @ self.H.T @ np.linalg.inv(S)
        return x + K @ (z - self.H @ x), (np.eye(len(x)) - K @ self.H) @ P
F = np.array([[1., 0.1], [0., 1.]])
H = np.array([[1., 0.]])
R = np.array([[0.5]])
kf = Kalman(F, H, Q, R)
x1, P1 = kf.predict(x, P)
x2, P2 = kf.update(x1, P1, z)
np.sum(x2) + np.trace(P2)
"""

STATEFUL = NP + """
class Filter:
    def __init__(self, x0, alpha=0.5):
        self.state = x0
        self.alpha = alpha
        self.t = 0
    def step(self, z):
        self.state = self.alpha * z + (1 - self.alpha) * self.state
        self.t = self.t + 1
        return self.state
f = Filter(np.zeros(3))
g = f
f.step(x)
g.step(2 * x)
f.step(np.sin(x))
f.t * g.state
"""

COUNTER_AUG = NP + """
class Sim:
    def __init__(self, x):
        self.x = x * 1.0
        self.n = 0
    def advance(self, dt):
        self.x = self.x + dt * np.cos(self.x)
        self.n += 1
sim = Sim(x)
for _ in range(3):
    sim.advance(0.1)
sim.x * sim.n
"""

CALL_STATIC_CLASS = NP + """
class Poly:
    DEGREE = 3
    def __init__(self, coeffs):
        self.c = coeffs
    @classmethod
    def ones(cls, scale):
        return cls(scale * np.ones(cls.DEGREE))
    @staticmethod
    def powers(x, n):
        return np.stack([x ** k for k in range(n)])
    def __call__(self, x):
        return self.c @ Poly.powers(x, self.DEGREE)
    @property
    def total(self):
        return np.sum(self.c)
p = Poly(c)
q = Poly.ones(2.0)
p(x) + q(x) * p.total
"""

DATACLASS = NP + """
from dataclasses import dataclass
@dataclass
class Spring:
    k: float
    rest: float = 1.0
    damping: float = 0.1
    def energy(self, d):
        return 0.5 * self.k * np.sum((d - self.rest) ** 2)
@dataclass(frozen=True)
class Pair:
    a: np.ndarray
    b: np.ndarray
    def __post_init__(self):
        pass
    def dot(self):
        return self.a @ self.b
s = Spring(3.0, damping=0.2)
pr = Pair(x, np.cos(x))
s.energy(x) + pr.dot() * s.damping
"""

INHERIT = NP + """
class Layer:
    def __init__(self, W):
        self.W = W
    def __call__(self, x):
        return self.W @ x
    def name(self):
        return 1.0
class Affine(Layer):
    def __init__(self, W, b):
        super().__init__(W)
        self.b = b
    def __call__(self, x):
        return super().__call__(x) + self.b
class Tanh(Affine):
    def __call__(self, x):
        return np.tanh(super().__call__(x))
class Net:
    def __init__(self, layers):
        self.layers = layers
    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
net = Net((Tanh(W, b), Affine(W.T, np.zeros(3))))
net(x) * Layer(W).name()
"""

NESTED = NP + """
class Inner:
    def __init__(self, s):
        self.s = s
    def grow(self):
        self.s = self.s * 2
class Outer:
    def __init__(self, inner):
        self.inner = inner
    def run(self, x):
        self.inner.grow()
        return self.inner.s * x
inner = Inner(1.5)
o = Outer(inner)
o.run(x)
y = o.run(x)
y + inner.s
"""

CASES = {
    "kalman": (KALMAN, {"x": [1.0, 2.0], "P": [[1.0, 0.2], [0.2, 1.0]], "Q": [[0.1, 0.0], [0.0, 0.1]],
                        "z": [1.5]}),
    "stateful": (STATEFUL, {"x": [0.3, -1.2, 2.0]}),
    "counter_aug": (COUNTER_AUG, {"x": [0.3, -1.2, 2.0]}),
    "call_static_class": (CALL_STATIC_CLASS, {"c": [0.5, -1.0, 2.0], "x": 0.7}),
    "dataclass": (DATACLASS, {"x": [0.3, -1.2, 2.0]}),
    "inherit": (INHERIT, {"W": rng.standard_normal((3, 3)).tolist(), "b": [0.1, 0.2, -0.3], "x": [1.0, -0.5, 0.25]}),
    "nested": (NESTED, {"x": [0.3, -1.2, 2.0]}),
}

SMALL = {  # each with x = [0.3, -1.2, 2.0]
    "aug_fresh": "class A:\n    def __init__(self, x):\n        self.x = x * 1.0\n    def bump(self, v):\n        self.x += v\n"
                 "a = A(x)\na.bump(np.sin(x))\na.bump(1.0)\na.x",
    "aug_int": "class A:\n    def __init__(self):\n        self.n = 0\n    def bump(self):\n        self.n += 2\n"
               "a = A()\na.bump()\na.n * x",
    "super_old": "class B:\n    def __init__(self, s):\n        self.s = s\nclass C(B):\n    def __init__(self, s):\n"
                 "        super(C, self).__init__(s * 2)\nC(x).s * x",
    "dc_inherit": "from dataclasses import dataclass\n@dataclass\nclass B:\n    a: float\n@dataclass\nclass C(B):\n"
                  "    b: float = 2.0\nc = C(x, b=3.0)\n(c.a + c.b) * x",
    "dc_sub_init": "from dataclasses import dataclass\n@dataclass\nclass B:\n    a: float\nclass C(B):\n"
                   "    def __init__(self, a):\n        super().__init__(a)\n        self.k = 2\nc = C(np.exp(x))\nc.a * c.k * x",
    "classmethod_inherit": "class B:\n    K = 1.0\n    @classmethod\n    def make(cls):\n        return cls()\n"
                           "    def val(self):\n        return self.K\nclass C(B):\n    K = 5.0\nC.make().val() * x",
    "static_via_self": "class B:\n    @staticmethod\n    def sq(v):\n        return v * v\n    def go(self, v):\n"
                       "        return self.sq(v) + B.sq(v)\nB().go(x)",
    "inst_in_func": "class B:\n    def __init__(self, w):\n        self.w = w\n    def f(self, v):\n        return self.w * v\n"
                    "def run(v):\n    b = B(v)\n    return b.f(v)\nrun(x)",
    "linked": "class Node:\n    def __init__(self, v, nxt):\n        self.v, self.nxt = v, nxt\n"
              "class End:\n    def __init__(self, v):\n        self.v = v\nn = Node(x, Node(2 * x, End(x ** 2)))\n"
              "n.v + n.nxt.v * n.nxt.nxt.v",
    "bound_method": "class A:\n    def __init__(self, k):\n        self.k = k\n    def f(self, v):\n"
                    "        return self.k * v\ndef twice(g, v):\n    return g(g(v))\na = A(x)\nh = a.f\nh(x) + twice(a.f, x)",
    "copies": "import copy\nclass In:\n    def __init__(self, v):\n        self.v = v\nclass A:\n    def __init__(self, v):\n"
              "        self.v, self.inner = v, In(v)\n    def bump(self):\n        self.v = self.v * 2\n"
              "        self.inner.v = self.inner.v * 3\na = A(x)\nb = copy.copy(a)\nc = copy.deepcopy(a)\nb.bump()\n"
              "c.bump()\na.v + 10 * a.inner.v + 100 * b.inner.v + 1000 * c.inner.v",  # a copy is no alias (was)
    "tuple_of_instances": "class A:\n    def __init__(self, v):\n        self.v = v\n    def bump(self):\n"
                          "        self.v = self.v * 2\nt = (A(x), A(2 * x))\nt[0].bump()\nt[0].v + t[1].v",
    "object_base_ann": "class B(object):\n    scale: float = 3.0\n    def __init__(self, w):\n        self.w = w\n"
                       "B(x).w * B.scale",
}
CASES.update({k: (NP + v, {"x": [0.3, -1.2, 2.0]}) for k, v in SMALL.items()})


def python(text, env):
    """The text run by Python itself, its last statement's value."""
    tree = ast.parse(text)
    scope = {k: np.array(v, dtype=float) for k, v in env.items()}
    exec(compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec"), scope)
    return np.asarray(eval(compile(ast.Expression(body=tree.body[-1].value), "<text>", "eval"), scope), dtype=float)


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_are_pythons(case):
    text, env = CASES[case]
    assert np.allclose(api.evaluate(text, env), python(text, env), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_jacobians_are_central_differences(case):
    text, env = CASES[case]
    got = api.jacobian(text, env)
    for name, value in env.items():
        x0 = np.array(value, dtype=float)
        numeric = central_jacobian(lambda v: python(text, {**env, name: v}), x0)
        assert np.allclose(got[name], numeric, atol=1e-6), name


def test_state_is_shared_between_names():
    """f and g are one object: g.step sees what f.step left (a copy would give 0.3 * ...)."""
    text, env = CASES["stateful"]
    x = np.array(env["x"])
    s = 0.5 * x
    s = 0.5 * 2 * x + 0.5 * s
    s = 0.5 * np.sin(x) + 0.5 * s
    assert np.allclose(api.evaluate(text, env), 3 * s, atol=1e-14)


def test_torch_class_matches_autograd():
    torch = pytest.importorskip("torch")
    text = "import torch\n" + """
class RK4:
    def __init__(self, k, dt):
        self.k, self.dt = k, dt
        self.steps = 0
    def f(self, y):
        return -self.k * torch.sin(y)
    def step(self, y):
        k1 = self.f(y)
        k2 = self.f(y + self.dt / 2 * k1)
        k3 = self.f(y + self.dt / 2 * k2)
        k4 = self.f(y + self.dt * k3)
        self.steps = self.steps + 1
        return y + self.dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
solver = RK4(k, 0.1)
y = y0
for _ in range(4):
    y = solver.step(y)
(y ** 2).sum() * solver.steps
"""
    env = {"k": 1.3, "y0": [0.2, 1.0, -0.7]}
    got = api.jacobian(text, env)
    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in env.items()}
    scope = dict(t)
    tree = ast.parse(text)
    exec(compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<t>", "exec"), scope)
    out = eval(compile(ast.Expression(body=tree.body[-1].value), "<t>", "eval"), scope)
    grads = torch.autograd.grad(out, [t["k"], t["y0"]])
    assert np.allclose(api.evaluate(text, env), out.item(), rtol=1e-12)
    assert np.allclose(got["k"], grads[0].numpy(), atol=1e-12)
    assert np.allclose(got["y0"], grads[1].numpy(), atol=1e-12)


REFUSED = {
    "metaclass": "class M(metaclass=ABCMeta):\n    pass\nx",
    "getattr": "class A:\n    def __getattr__(self, n):\n        return 1.0\nx",
    "array_plus_instance": "class V:\n    def __init__(self, v):\n        self.v = v\n    def __radd__(self, o):\n"
                           "        return V(self.v + o)\n(x + V(x)).v",  # NumPy and PyTorch read it differently
    "class_write": "class A:\n    n = 0\n    def bump(self):\n        A.n = A.n + 1\na = A()\na.bump()\nx",
    "class_list": "class A:\n    hist = []\nx",
    "frozen": "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass P:\n    a: float\np = P(1.0)\np.a = 2.0\nx",
    "unknown_base": "class A(Exception):\n    pass\nx",
    "field": "from dataclasses import dataclass, field\n@dataclass\nclass P:\n    a: float = field(default=1.0)\nx",
    "dict_attribute_updated": "class A:\n    def __init__(self):\n        self.h = {}\na = A()\na.h.update({'w': x})\n"
                              "a.h['w']",  # a dict an instance holds is read (session 36); update() is refused as for names
    "no_attribute": "class A:\n    pass\na = A()\na.w * x",
    "unbound_method": "class A:\n    def f(self, v):\n        return v\ng = A.f\nx",
    "property_write": "class A:\n    @property\n    def p(self):\n        return 1.0\n    def set(self):\n        self.p = 2.0\n"
                      "a = A()\na.set()\nx",
    "alias_write": "v = x * 1.0\nclass A:\n    def __init__(self, x):\n        self.h = x\na = A(v)\nv[0] = 5.0\na.h",
    "aug_input": "class A:\n    def __init__(self, x):\n        self.x = x\n    def bump(self):\n        self.x += 1\n"
                 "a = A(x)\na.bump()\nx",
    "aug_shared": "class A:\n    def __init__(self, x):\n        self.x = x * 1.0\n        self.y = self.x\n"
                  "    def bump(self):\n        self.x += 1\na = A(x)\na.bump()\na.y",
    "not_callable": "class B:\n    pass\nB()(x)",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_clearly(case):
    with pytest.raises(JacError) as caught:
        api.evaluate(REFUSED[case], {"x": [1.0, 2.0]})
    assert "Traceback" not in str(caught.value)


def test_cli_refusal_exits_2_at_the_place():
    import subprocess
    import sys
    text = "class V:\n    def __getattr__(self, o):\n        return self\nx"
    run = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", text, "x=1"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "V.__getattr__" in run.stderr and "Traceback" not in run.stderr and "def __getattr__" in run.stderr


JAX_COUNTER = ("import jax\nimport jax.numpy as jnp\nclass M:\n    def __init__(self):\n        self.n = 0\n"
               "    def f(self, v):\n        self.n = self.n + 1\n        return jnp.sin(v) * 2\nm = M()\n")


@pytest.mark.parametrize("use", [
    "y = jax.vmap(lambda v: m.f(v))(X)\ny.sum() * m.n",  # JAX traces once (n = 1); written out per row, n was 3
    "def body(c, v):\n    return c + m.f(v).sum(), c\nc, _ = jax.lax.scan(body, 0.0, X)\nc * m.n",
    "s = jax.lax.fori_loop(0, 3, lambda i, c: c + m.f(c), X[0])\ns.sum() * m.n",
    "g = jax.grad(lambda v: m.f(v).sum())(X[0])\ng * m.n",
])
def test_state_written_inside_a_transform_is_refused(use):
    with pytest.raises(JacError, match="inside a function a transform calls"):
        api.evaluate(JAX_COUNTER + use, {"X": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]})


def test_instance_made_inside_a_transform_is_its_own():
    text = ("import jax\nimport jax.numpy as jnp\nclass Acc:\n    def __init__(self, v):\n        self.v = v\n"
            "    def add(self, w):\n        self.v = self.v + w\ndef f(v):\n    a = Acc(v)\n    a.add(jnp.sin(v))\n"
            "    return a.v\njax.vmap(f)(X)")
    X = np.array([[0.1, 0.2], [0.3, 0.4]])
    assert np.allclose(api.evaluate(text, {"X": X}), X + np.sin(X), atol=1e-14)


@pytest.mark.parametrize("case", ["kalman", "stateful", "inherit"])
def test_hessians_are_differences_of_the_jacobian(case):
    text, env = CASES[case]
    name = next(iter(env))
    H = api.hessian(text, env)[(name, name)]
    numeric = central_jacobian(lambda v: api.jacobian(text, {**env, name: v})[name], np.array(env[name], dtype=float))
    assert np.allclose(H, numeric.reshape(H.shape), atol=1e-5)
