"""Session 36 probe: plain Python classes, what session 35 still refused: comparison dunders (``__lt__``, ``__eq__``,
... read by ``sorted`` / ``min`` / ``max`` and ``if a < b``), iteration (``__iter__``, ``__contains__``, ``for p in
params``), ``sum(instances)`` (``0 + d``: ``__radd__``), dicts held by instances (``self.params = {"w": W}``, read
and written in methods), an in-place method on a temporary in a PyTorch text (``(v / c).sqrt().add_(eps)``),
properties, static and class methods, ``super()``, ``__call__`` and ``__repr__`` in realistic snippets. Each snippet
is run by Python itself (NumPy texts: the value, and central differences of it for the Jacobian; ``torch`` texts:
float64, the value and ``torch.autograd.functional.jacobian``) and by jac; counted AGREE / REFUSED / WRONG / CRASH.
A snippet Python raises on (``RAISES``: its exception's name and the words of its message) agrees when jac refuses
it with both; a PyTorch text whose backward raises (``BACKWARD_RAISES``) agrees when jac refuses it with PyTorch's
words. Run: PYTHONPATH=. python benchmarks/classes36_probe.py [-v]"""

import ast
import sys

import numpy as np

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

NP = "import numpy as np\n"
TORCH = "import torch\n"
X3 = {"x": [0.3, -1.2, 2.0]}

CAND = """
class Cand:
    def __init__(self, x, score):
        self.x, self.score = x, score
    def __lt__(self, other):
        return self.score < other.score
"""

CASES = {
    # --- comparison dunders -------------------------------------------------------------------------------------------
    "sorted_by_lt": (NP + CAND + """
cs = [Cand(x, 3.0), Cand(2 * x, 1.0), Cand(np.sin(x), 2.0), Cand(x ** 2, 1.0)]
ranked = sorted(cs)
ranked[0].x + 2 * ranked[1].x + 3 * ranked[2].x
""", X3),
    "sorted_reverse_by_lt": (NP + CAND + """
cs = [Cand(x, 3.0), Cand(2 * x, 1.0), Cand(np.sin(x), 1.0)]
r = sorted(cs, reverse=True)
r[0].x - r[1].x * r[2].x
""", X3),
    "min_max_by_lt": (NP + CAND + """
cs = [Cand(x, 2.0), Cand(3 * x, 1.0), Cand(x ** 3, 5.0), Cand(-x, 5.0)]
min(cs).x + max(cs).x
""", X3),
    "min_by_loss_values": (NP + """
class Trial:
    def __init__(self, w, x):
        self.w = w
        self.loss = np.sum((w * x - 1.0) ** 2)
    def __lt__(self, other):
        return self.loss < other.loss
trials = [Trial(w, x) for w in (0.5, 1.0, 2.0)]
best = min(trials)
best.loss * best.w
""", X3),
    "if_lt_branch": (NP + """
class Score:
    def __init__(self, v):
        self.v = v
    def __lt__(self, o):
        return self.v < o.v
    def __le__(self, o):
        return self.v <= o.v
a, b = Score(np.sum(x ** 2)), Score(np.sum(np.cos(x)))
if a < b:
    y = a.v * x
else:
    y = b.v * x
if b <= a:
    y = y + 1.0
y
""", X3),
    "gt_reflects_to_lt": (NP + CAND + """
a, b = Cand(x, 1.0), Cand(2 * x, 2.0)
if b > a:
    y = b.x
else:
    y = a.x
y
""", X3),
    "eq_dunder_fields": (NP + """
class Key:
    def __init__(self, name, k):
        self.name, self.k = name, k
    def __eq__(self, other):
        return self.name == other.name and self.k == other.k
p, q, r = Key("w", 1), Key("w", 1), Key("b", 1)
y = x
if p == q:
    y = y * 2
if p != r:
    y = y + 1
if not (p == r):
    y = y ** 2
y
""", X3),
    "eq_default_identity": (NP + """
class Node:
    def __init__(self, v):
        self.v = v
a = Node(x)
b = Node(x)
c = a
y = x
if a == c:
    y = y * 3
if a == b:
    y = y * 5
if a != b:
    y = y + 1
y
""", X3),
    "sorted_key_attribute": (NP + CAND + """
cs = [Cand(x, 3.0), Cand(2 * x, 1.0), Cand(x ** 2, 2.0)]
r = sorted(cs, key=lambda c: c.score)
r[0].x + 10 * r[2].x
""", X3),
    "dataclass_order": (NP + """
from dataclasses import dataclass
@dataclass(order=True)
class Item:
    priority: float
    value: float
items = [Item(2.0, 1.0), Item(1.0, 3.0), Item(2.0, 0.5)]
s = sorted(items)
x * s[0].value + s[1].value
""", X3),
    # --- iteration --------------------------------------------------------------------------------------------------
    "iter_params_l2": (NP + """
class Params:
    def __init__(self, *arrays):
        self.arrays = list(arrays)
    def __iter__(self):
        return iter(self.arrays)
    def __len__(self):
        return len(self.arrays)
ps = Params(x, 2 * x, np.sin(x))
total = 0.0
for p in ps:
    total = total + np.sum(p ** 2)
total / len(ps)
""", X3),
    "iter_list_and_sum_gen": (NP + """
class Bag:
    def __init__(self, items):
        self.items = items
    def __iter__(self):
        return iter(self.items)
b = Bag([x, x ** 2, np.exp(x)])
parts = list(b)
sum(np.sum(p) for p in b) * parts[1]
""", X3),
    "iter_enumerate_zip": (NP + """
class Layers:
    def __init__(self, ws):
        self.ws = ws
    def __iter__(self):
        return iter(self.ws)
L = Layers([np.array([[1.0, 0.5, 0.0], [0.0, 1.0, -1.0]]), np.array([[2.0, -1.0]])])
h = x
for i, W in enumerate(L):
    h = np.tanh(W @ h) if i == 0 else W @ h
h
""", X3),
    "iter_sequential_call": (NP + """
class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def __call__(self, x):
        return self.W @ x + self.b
    def __repr__(self):
        return f"Linear({self.W.shape})"
class Sequential:
    def __init__(self, *layers):
        self.layers = list(layers)
    def __iter__(self):
        return iter(self.layers)
    def __len__(self):
        return len(self.layers)
    def __getitem__(self, i):
        return self.layers[i]
    def __call__(self, x):
        for layer in self:
            x = np.tanh(layer(x))
        return x
net = Sequential(Linear(np.eye(3) * 0.5, np.ones(3) * 0.1), Linear(np.ones((2, 3)) * 0.3, np.zeros(2)))
net(x) + net[0](x)[:2] * len(net)
""", X3),
    "contains_dunder": (NP + """
class Window:
    def __init__(self, xs):
        self.xs = xs
    def __len__(self):
        return len(self.xs)
    def __contains__(self, i):
        return 0 <= i < len(self)
w = Window([x, 2 * x, x ** 2])
y = x
for i in (1, 3):
    if i in w:
        y = y * w.xs[i]
if 5 not in w:
    y = y + 1
y
""", X3),
    "getitem_len_loop": (NP + """
class Series:
    def __init__(self, xs):
        self.xs = xs
    def __len__(self):
        return len(self.xs)
    def __getitem__(self, i):
        return self.xs[i]
s = Series([x, 2 * x, x ** 2])
acc = 0
for i in range(len(s)):
    acc = acc + s[i] * (i + 1)
acc
""", X3),
    # --- sum(instances): 0 + d is d.__radd__(0) ---------------------------------------------------------------------
    "sum_duals_radd": (NP + """
class Dual:
    def __init__(self, v, d):
        self.v, self.d = v, d
    def __add__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v + o.v, self.d + o.d)
        return Dual(self.v + o, self.d)
    __radd__ = __add__
ds = [Dual(x, 1.0), Dual(x ** 2, 2.0 * x), Dual(np.sin(x), np.cos(x))]
s = sum(ds)
s.v * s.d
""", X3),
    "sum_with_start": (NP + """
class Vec:
    def __init__(self, a):
        self.a = a
    def __add__(self, o):
        return Vec(self.a + o.a)
s = sum([Vec(x), Vec(2 * x), Vec(x ** 2)], Vec(np.zeros(3)))
s.a
""", X3),
    "sum_generator_of_instances": (NP + """
class Loss:
    def __init__(self, v):
        self.v = v
    def __add__(self, o):
        return Loss(self.v + (o.v if isinstance(o, Loss) else o))
    def __radd__(self, o):
        return Loss(o + self.v)
total = sum(Loss(np.sum((x - c) ** 2)) for c in (0.0, 1.0, 2.0))
total.v
""", X3),
    # --- dicts held by instances ---------------------------------------------------------------------------------------
    "dict_params_call": (NP + """
class Model:
    def __init__(self, W, b):
        self.params = {"w": W, "b": b}
    def __call__(self, x):
        return np.tanh(self.params["w"] @ x + self.params["b"])
m = Model(np.array([[1.0, 0.5, -0.2], [0.3, -1.0, 0.4]]), np.array([0.1, -0.1]))
m(x)
""", X3),
    "dict_updated_in_method": (NP + """
class SGD:
    def __init__(self, params, lr):
        self.params = params
        self.lr = lr
    def step(self, grads):
        for k in self.params:
            self.params[k] = self.params[k] - self.lr * grads[k]
params = {"w": x, "b": np.sum(x)}
opt = SGD(params, 0.1)
opt.step({"w": 2 * x, "b": 1.0})
opt.step({"w": np.sin(params["w"]), "b": params["b"]})
params["w"] * params["b"] + opt.params["w"]
""", X3),
    "dict_items_l2": (NP + """
class Net:
    def __init__(self, x):
        self.params = {}
        self.params["a"] = x
        self.params["b"] = 2 * x
    def l2(self):
        total = 0.0
        for name, p in self.params.items():
            total = total + np.sum(p ** 2)
        return total
n = Net(x)
n.params["c"] = np.cos(x)
n.l2() + len(n.params)
""", X3),
    "dict_state_torch": (TORCH + """
class Adam:
    def __init__(self, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.state = {"t": 0}
    def step(self, p, g):
        if "m" not in self.state:
            self.state["m"] = torch.zeros_like(p)
            self.state["v"] = torch.zeros_like(p)
        self.state["t"] += 1
        t = self.state["t"]
        self.state["m"] = self.b1 * self.state["m"] + (1 - self.b1) * g
        self.state["v"] = self.b2 * self.state["v"] + (1 - self.b2) * g * g
        mhat = self.state["m"] / (1 - self.b1 ** t)
        vhat = self.state["v"] / (1 - self.b2 ** t)
        return p - self.lr * mhat / (vhat.sqrt() + self.eps)
opt = Adam()
p = x
for _ in range(3):
    p = opt.step(p, 2 * p)
p
""", X3),
    "dict_two_instances_share": (NP + """
class View:
    def __init__(self, d):
        self.d = d
    def scale(self, c):
        self.d["w"] = c * self.d["w"]
d = {"w": x}
a, b = View(d), View(d)
a.scale(2.0)
b.scale(3.0)
a.d["w"] + b.d["w"] + d["w"]
""", X3),
    # --- an in-place method on a temporary (PyTorch) ----------------------------------------------------------------
    "torch_inplace_on_temporary": (TORCH + """
v = x * x
(v / 2.0).exp().mul(3).add_(1e-8) + (x * 2).add_(1.0).pow(2)
""", X3),
    "torch_inplace_temporary_in_method": (TORCH + """
class RMS:
    def __init__(self, eps):
        self.eps = eps
    def denom(self, v):
        return (v * 2.0).add_(self.eps)
r = RMS(1e-3)
x / r.denom(x * x)
""", X3),
    # --- properties, static / class methods, super(), __call__, __repr__ ---------------------------------------------------
    "property_super_classmethod": (NP + """
class Shape:
    def __init__(self, scale):
        self.scale = scale
    @property
    def area(self):
        return self.scale ** 2
    @classmethod
    def unit(cls):
        return cls(1.0)
    @staticmethod
    def twice(v):
        return 2 * v
    def __repr__(self):
        return "Shape"
class Square(Shape):
    def __init__(self, side):
        super().__init__(side)
        self.side = side
    @property
    def area(self):
        return super().area + 0.0 * self.side
s = Square(x)
s.area + Shape.unit().area + Shape.twice(x) + Square.unit().scale
""", X3),
    "hand_written_linear_call": (TORCH + """
class Linear:
    def __init__(self, n_in, n_out):
        self.W = torch.arange(n_in * n_out, dtype=torch.float64).reshape(n_out, n_in) / 10.0
        self.b = torch.zeros(n_out)
    def __call__(self, x):
        return x @ self.W.T + self.b
class MLP:
    def __init__(self):
        self.l1 = Linear(3, 4)
        self.l2 = Linear(4, 1)
    def __call__(self, x):
        return self.l2(torch.relu(self.l1(x)))
    def parameters(self):
        return [self.l1.W, self.l1.b, self.l2.W, self.l2.b]
mlp = MLP()
mlp(x) + 0.01 * sum(p.pow(2).sum() for p in mlp.parameters())
""", X3),
    # --- what Python itself raises: jac must refuse with Python's words -----------------------------------------------------
    "raise_lt_not_defined": (NP + """
class A:
    def __init__(self, v):
        self.v = v
sorted([A(x), A(2 * x)])[0].v
""", X3),
    "raise_lt_between": (NP + """
class A:
    def __init__(self, v):
        self.v = v
a, b = A(x), A(x)
y = x
if a < b:
    y = 2 * x
y
""", X3),
    "raise_not_iterable": (NP + """
class A:
    def __init__(self, v):
        self.v = v
for p in A(x):
    y = p
y
""", X3),
    "raise_iter_returns_list": (NP + """
class A:
    def __init__(self, v):
        self.v = [v]
    def __iter__(self):
        return self.v
for p in A(x):
    y = p
y
""", X3),
    "raise_sum_no_radd": (NP + """
class V:
    def __init__(self, a):
        self.a = a
    def __add__(self, o):
        return V(self.a + o.a)
sum([V(x), V(x)]).a
""", X3),
    "raise_dict_missing_key": (NP + """
class M:
    def __init__(self, w):
        self.params = {"w": w}
M(x).params["b"]
""", X3),
}
RAISES = {"raise_lt_not_defined": ("TypeError", "'<' not supported between instances of 'A' and 'A'"),
          "raise_lt_between": ("TypeError", "'<' not supported between instances of 'A' and 'A'"),
          "raise_not_iterable": ("TypeError", "'A' object is not iterable"),
          "raise_iter_returns_list": ("TypeError", "iter() returned non-iterator of type 'list'"),
          "raise_sum_no_radd": ("TypeError", "unsupported operand type(s) for +: 'int' and 'V'"),
          "raise_dict_missing_key": ("KeyError", "'b'")}
BACKWARD_RAISES = {
    "raise_torch_inplace_saved_temporary": (TORCH + """
v = x * x
c = 2.0
denom = (v / c).sqrt().add_(1e-8)
(x / denom).sum()
""", X3, "modified by an inplace operation"),
}


def python(text, env, torch_values=None):
    """The text run by Python itself, its last statement's value (NumPy arrays, or the torch tensors given)."""
    tree = ast.parse(text)
    scope = dict(torch_values) if torch_values is not None else {k: np.array(v, dtype=float) for k, v in env.items()}
    exec(compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec"), scope)
    return eval(compile(ast.Expression(body=tree.body[-1].value), "<text>", "eval"), scope)


def reference(text, env):
    """(value, {input: Jacobian}) by Python: torch texts in float64 by torch.autograd.functional.jacobian, NumPy
    texts by central differences."""
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


def python_raises(text, env):
    """Python's exception for the text: (its name, its message), or None where it runs."""
    try:
        python(text, env)
    except Exception as e:  # noqa: BLE001 - which exception Python raises is what is compared
        return type(e).__name__, str(e)
    return None


def backward_raises(text, env):
    """PyTorch's message where its backward pass raises for the text (float64), else None."""
    try:
        reference(text, env)
    except RuntimeError as e:
        return str(e)
    return None


def refusal(text, env):
    """jac's first line refusing the text, None where it answers; a crash raised."""
    try:
        api.evaluate(text, env)
        api.jacobian(text, env)
    except JacError as e:
        return str(e).splitlines()[0]
    return None


def verdict(name, text, env):
    """AGREE / REFUSED / WRONG / CRASH, and a note."""
    try:
        if name in RAISES:
            want = RAISES[name]
            if python_raises(text, env) is None or python_raises(text, env)[0] != want[0]:
                return "CRASH", f"probe: Python raised {python_raises(text, env)}"
            said = refusal(text, env)
            if said is None:
                return "WRONG", "jac answered where Python raises"
            return ("AGREE" if want[0] in said and want[1] in said else "REFUSED"), said[:110]
        if name in BACKWARD_RAISES:
            words = BACKWARD_RAISES[name][2]
            if words not in (backward_raises(text, env) or ""):
                return "CRASH", "probe: PyTorch's backward did not raise"
            said = refusal(text, env)
            if said is None:
                return "WRONG", "jac answered where PyTorch's backward raises"
            return ("AGREE" if words in said else "REFUSED"), said[:110]
        try:
            value = api.evaluate(text, env)
            jac = api.jacobian(text, env)
        except JacError as e:
            return "REFUSED", str(e).splitlines()[0][:110]
        want, jacs = reference(text, env)
    except Exception as e:  # noqa: BLE001 - a crash is what the probe counts
        return "CRASH", f"{type(e).__name__}: {e}"
    ok = np.shape(value) == np.shape(want) and np.allclose(value, want, rtol=1e-12, atol=1e-12)
    for k in env:
        ok = ok and np.shape(jac[k]) == np.shape(jacs[k]) and np.allclose(jac[k], jacs[k], rtol=1e-6, atol=1e-7)
    return ("AGREE" if ok else "WRONG"), ""


def main():
    counts = {"AGREE": 0, "REFUSED": 0, "WRONG": 0, "CRASH": 0}
    every = {**CASES, **{k: v[:2] for k, v in BACKWARD_RAISES.items()}}
    for name, (text, env) in every.items():
        kind, note = verdict(name, text, env)
        counts[kind] += 1
        if kind != "AGREE" or "-v" in sys.argv:
            print(f"{name:36s} {kind:8s} {note}")
    print(len(every), "snippets:", counts)


if __name__ == "__main__":
    main()
