"""Session 36's regression probe (h36-regress): everyday PyTorch texts beside each refusal session 36 added, which
PyTorch answers and jac must still answer with PyTorch's values, run by PyTorch itself and by the jac of the
checkout TREE:

    /work/venv/bin/python benchmarks/regress36_probe.py TREE [-v] [-k SUBSTRING]

The groups: writes in place after ops that keep nothing PyTorch checks (not in ``ir/saved.KEPT``), after ops that
keep only their result, before the saving op, or with the saver off the output's path (h36-saved's refusals);
``.float()`` / ``.double()`` / ``.to(...)`` in texts that never multiply two float dtypes (h36-saved's
``_Lowering.float_dtype``); ``.view`` of contiguous computed tensors (h36-saved's ``functions._stand_in``); plain
classes comparing numbers and holding dicts, in-place methods on temporaries nothing saved (h36-classes); and a few
texts where PyTorch raises, so that the probe can tell a refusal from an answer. Reference: PyTorch float64 eager
autograd (each output element by ``torch.autograd.grad``); a text converting to float32 is compared to rtol 1e-5
(PyTorch rounds there, jac lowers ``.float()`` as the identity). Outcomes: OK (value and Jacobians, rtol 1e-10 /
1e-9); REFUSED (jac refuses where PyTorch answers: the regression this probe looks for); both (both refuse);
ANSWERS-WHERE-LIB-RAISES; WRONG; CRASH (not a JacError). Prints a line per text not OK (all with -v), then the
counts per group. About a minute. Run by hand, never as a test.
"""
from __future__ import annotations

import argparse
import ast
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("tree", nargs="?", default=".")
ap.add_argument("-v", action="store_true")
ap.add_argument("-k", default="")
ARGS = ap.parse_args()
sys.path.insert(0, ARGS.tree)
import jacobi_cli  # noqa: E402
from jacobi_cli.errors import JacError  # noqa: E402

X = [0.5, -1.5, 2.0]
Y = [1.0, 2.0, -0.5]
P = [0.5, 1.5, 2.0]
A = [[1.0, -2.0, 0.5, 3.0], [0.25, 1.5, -1.0, 2.0], [2.0, 0.5, 1.0, -0.5]]
B = [[0.5, 1.0, -1.0], [2.0, -0.5, 0.25], [1.0, 1.0, 0.5], [-1.0, 0.5, 2.0]]
T = "import torch\nimport torch.nn.functional as F\n"


def run_torch(text, binds):
    import torch
    tree = ast.parse(text)
    last = tree.body[-1]
    tree.body[-1] = ast.Assign(targets=[ast.Name("__out", ast.Store())], value=last.value)
    ast.fix_missing_locations(tree)
    env = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in binds.items()}
    ins = dict(env)
    exec(compile(tree, "<t>", "exec"), env)
    y = env["__out"]
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y, dtype=torch.float64)
    val = y.detach().double().numpy()
    rows = []
    yf = y.reshape(-1)
    for i in range(yf.numel()):
        if not yf.requires_grad:
            rows.append([np.zeros(v.shape) for v in ins.values()])
            continue
        gs = torch.autograd.grad(yf[i], list(ins.values()), retain_graph=True, allow_unused=True)
        rows.append([np.zeros(v.shape) if g is None else g.double().numpy() for g, v in zip(gs, ins.values())])
    jacs = {k: np.array([r[j] for r in rows]).reshape(val.shape + ins[k].shape) for j, k in enumerate(ins)}
    return val, jacs


def classify(text, binds):
    try:
        ref = run_torch(text, binds)
    except Exception as ex:  # noqa: BLE001 - PyTorch raising is the verdict
        ref = ("RAISES", type(ex).__name__ + ": " + str(ex).split("\n")[0][:100])
    try:
        b = {k: np.asarray(v, float) for k, v in binds.items()}
        val = np.asarray(jacobi_cli.evaluate(text, b), float)
        got = (val, jacobi_cli.jacobian(text, b, wrt=list(binds)))
    except JacError as ex:
        got = ("REFUSED", str(ex).split("\n")[0][:160])
    except Exception as ex:  # noqa: BLE001 - anything else is a crash
        got = ("CRASH", repr(ex)[:160])
    if isinstance(ref[0], str):
        outcome = got[0] if isinstance(got[0], str) else "answers"
        return {"REFUSED": "both", "CRASH": "CRASH"}.get(outcome, "ANSWERS-WHERE-LIB-RAISES"), ref, got
    if isinstance(got[0], str):
        return got[0], ref, got
    loose = "float32" in text or ".float()" in text or ".half()" in text
    rtol, jtol = (1e-5, 1e-5) if loose else (1e-10, 1e-9)
    ok = np.shape(ref[0]) == np.shape(got[0]) and np.allclose(ref[0], got[0], rtol=rtol, atol=1e-12 if not loose else 1e-6, equal_nan=True)
    Jg = got[1] if isinstance(got[1], dict) else {list(binds)[0]: got[1]}
    for k in binds:
        ok = ok and k in Jg and np.allclose(ref[1][k], np.asarray(Jg[k]), rtol=jtol, atol=1e-12 if not loose else 1e-6, equal_nan=True)
    return ("OK" if ok else "WRONG"), ref, got


def run(group, cases):
    counts = {}
    for name, text, binds in cases:
        if ARGS.k not in text and ARGS.k not in name:
            continue
        c, ref, got = classify(text, binds)
        counts[c] = counts.get(c, 0) + 1
        extra = ""
        if c != "OK":
            extra = " | torch: " + (ref[1] if isinstance(ref[0], str) else "answers") + " | jac: " + \
                (got[1] if isinstance(got[0], str) else "answers")
        if c != "OK" or ARGS.v:
            print(f"{c:26s} [{group}] {name!r}{extra}")
    print(f"{group}: {dict(sorted(counts.items()))}", flush=True)
    return counts


# 1. writes in place beside the saved-tensor refusals: h is a fresh copy of an input (a leaf is not written)
OPS_NOT_KEPT = ["h.sum()", "h.mean()", "torch.cumsum(h, 0)", "h.flip(0)", "h.reshape(3, 1)", "-h", "h + y", "h - y",
                "2.0 * h", "h / 2.0", "torch.where(y > 0, h, y)", "torch.sign(h) * y", "torch.lerp(h, y, 0.3)",
                "torch.max(torch.stack([h, y]), 0).values", "torch.roll(h, 1)", "torch.cat([h, y])",
                "torch.stack([h, y]).sum(0)", "h[1:]", "F.pad(h, (1, 1))", "torch.diff(h)", "torch.diag(h).sum(0)",
                "h.unsqueeze(0).expand(2, 3).sum(0)", "torch.nn.functional.dropout(h, 0.0)", "h.sort().values",
                "h.detach() * y", "torch.outer(h, torch.ones(2))", "h * torch.tensor([1.0, 2.0, 3.0])",
                "torch.add(h, y, alpha=2.0)", "torch.sub(h, 1.0)", "h.clamp(min=None, max=None) if False else h.clone()",
                "torch.exp(h)", "torch.sigmoid(h)", "torch.tanh(h)", "torch.relu(h)", "torch.sqrt(h * h + 1)",
                "torch.softmax(h, 0)", "torch.log_softmax(h, 0)", "F.relu(h)", "torch.reciprocal(h * h + 1)",
                "torch.rsqrt(h * h + 1)"]
WRITES = ["h.add_(1.0)", "h.mul_(2.0)", "h[0] = 0.0", "h += 1.0"]
INPLACE = []
for k, op in enumerate(OPS_NOT_KEPT):
    w = WRITES[k % len(WRITES)]
    INPLACE.append((f"g = {op}; {w}", T + f"h = x.clone()\ng = {op}\n{w}\n(g * g).sum() + (h * y).sum()",
                    {"x": X, "y": Y}))
# a saver of h, written before it saves, or off the output's path (its result never reaches the output)
SAVERS = ["torch.sin(h)", "h.prod()", "torch.norm(h)", "F.softplus(h)", "torch.logsumexp(h, 0)", "h * y",
          "torch.cumprod(h, 0)", "torch.clamp(h, 0.0, 1.0)", "torch.maximum(h, y)", "torch.pow(h, 2)",
          "torch.atan2(h, y)", "F.gelu(h)", "h.max()", "torch.dot(h, y)", "torch.outer(h, y).sum(1)", "F.silu(h)"]
for k, op in enumerate(SAVERS):
    w = WRITES[k % len(WRITES)]
    INPLACE.append((f"{w} before {op}", T + f"h = x.clone()\n{w}\ng = {op}\ng.sum() + h.sum()", {"x": X, "y": Y}))
    INPLACE.append((f"{op} off the path, {w}", T + f"h = x.clone()\ng = {op}\n{w}\nh.sum() * y.sum()",
                    {"x": X, "y": Y}))
    INPLACE.append((f"{op}, h rebound to a new copy, {w}", T + f"h = x.clone()\ng = {op}\nh = x.clone()\n{w}\ng.sum() + h.sum()",
                    {"x": X, "y": Y}))
# h saved but not requiring grad (a detached copy): PyTorch saves nothing it checks
INPLACE += [("detached saver", T + "h = x.detach().clone()\ng = torch.sin(h) * x\nh.add_(1.0)\ng.sum()", {"x": X}),
            ("no_grad saver", T + "h = x.clone()\nwith torch.no_grad():\n    g = torch.exp(h)\nh.add_(1.0)\n(g * x).sum() + h.sum()", {"x": X}),
            # PyTorch raises (controls: the refusal is kept)
            ("RAISES sin then add_", T + "h = x.clone()\ng = torch.sin(h)\nh.add_(1.0)\ng.sum()", {"x": X}),
            ("RAISES prod then mul_", T + "h = x.clone()\ng = h.prod()\nh.mul_(2.0)\ng", {"x": X})]

# 2. conversions in texts that never multiply two float dtypes
FLOATS = ["(x.float() * 2.0).sum()", "x.float() + y", "torch.sin(x.float())", "x.float() @ A.float()",
          "x.double() @ A", "torch.outer(x.float(), y)", "(x.float() * y).sum()", "x.float().sum() * y",
          "torch.dot(x.float(), y.float())", "x.to(torch.float64) @ A", "x.float().double() @ A",
          "A.float() @ A.float().T", "torch.kron(x.float(), y)", "(x.float() - y).pow(2).sum()",
          "F.softmax(x.float(), 0)", "x.float().exp() / y.exp()", "torch.mm(A.double(), B)",
          "torch.cat([x.float(), y.float()])", "x.float().mean() + y.double().mean()", "(A.float() * 2).sum(0)",
          "torch.matmul(A.float(), B.float())", "A.float().T.double() @ x", "torch.where(x > 0, x.float(), y.float())",
          "F.linear(x.float(), A.T.float())", "torch.einsum('i,ij->j', x.double(), A)", "x.to(dtype=torch.float64) @ A",
          "x.type(torch.float64) @ A", "x.float()[0] * y", "torch.addcmul(x.float(), y.float(), x.float())"]
FLOAT_CASES = [(f, T + f, {"x": X, "y": Y, "A": A, "B": B}) for f in FLOATS]
FLOAT_CASES += [("h = x.float(); (h + 1).exp().sum()", T + "h = x.float()\n(h + 1).exp().sum()", {"x": X}),
                ("h = x.float(); h @ A.float()", T + "h = x.float()\nh @ A.float()", {"x": X, "A": A}),
                ("h = x.float(); h = h.double(); h @ A", T + "h = x.float()\nh = h.double()\nh @ A", {"x": X, "A": A}),
                ("def f(v): return v.float() * 2", T + "def f(v):\n    return v.float() * 2\nf(x) @ A.float()", {"x": X, "A": A}),
                ("RAISES x.float() @ A", T + "x.float() @ A", {"x": X, "A": A}),
                ("RAISES torch.mm(A, B.float())", T + "torch.mm(A, B.float())", {"A": A, "B": B})]

# 3. views of computed tensors PyTorch can view (contiguous, or a dense layout whose view fits)
VIEWS = ["(A @ B).view(-1)", "torch.exp(A).view(12)", "(A * 2).view(4, 3)", "(A + 1).view(2, 6)",
         "(A.T @ A).view(-1)", "A.T.contiguous().view(-1)", "torch.sin(A).T.T.view(-1)", "(A.T * 2).T.view(-1)",
         "torch.exp(A.T).T.view(-1)", "(A.T.T + 1).view(-1)", "torch.cat([A, A]).view(-1)",
         "torch.stack([A, A]).view(6, 4)", "A.sum(0).view(2, 2)", "A.reshape(4, 3).view(-1)", "A.clone().view(-1)",
         "(A + B.T.T.T).view(-1)", "torch.tanh(A).view(3, 2, 2)", "A[:, :2].clone().view(-1)", "(A[:, :2] * 2).view(-1)",
         "(B @ A).view(-1)", "(A @ B @ A).view(4, 3)", "torch.relu(A).view(-1)", "F.softmax(A, 1).view(-1)",
         "(A - A.mean(1, keepdim=True)).view(-1)", "torch.matmul(A, B).t().contiguous().view(-1)",
         "(A @ B).view(9).view(3, 3)", "A.unsqueeze(0).repeat(2, 1, 1).view(-1)", "torch.exp(A).view(-1)[::2]",
         "torch.flatten(A * A).view(3, 4)", "(A.T @ A.T.T).view(-1)", "(torch.exp(A) @ B).view(-1)",
         "F.pad(A, (1, 1)).view(-1)", "A.permute(1, 0).reshape(-1).view(4, 3)", "(2 * A.T).T.contiguous().view(-1)"]
VIEW_CASES = [(v, T + f"h = {v}\n(h * torch.arange(h.numel(), dtype=torch.float64).reshape(h.shape)).sum()",
               {"A": A, "B": B}) for v in VIEWS]
VIEW_CASES += [("h = A @ B; h.view(-1)", T + "h = A @ B\nh.view(-1).sum() * h[0, 0]", {"A": A, "B": B}),
               ("h = torch.exp(A); h.view(3, 4)", T + "h = torch.exp(A)\nh.view(4, 3)[0]", {"A": A}),
               ("h = A * 2; h.T.T.view(12)", T + "h = A * 2\nh.T.T.view(12)", {"A": A}),
               ("RAISES (A @ B).T.view(-1)", T + "(A @ B).T.view(-1)", {"A": A, "B": B}),
               ("RAISES torch.exp(A).t().view(12)", T + "torch.exp(A).t().view(12)", {"A": A})]

# 4. plain classes comparing numbers (and instances ordered by them), 5. dict attributes
CLASSES = {
    "counter threshold": "class C:\n    def __init__(self):\n        self.n = 0\n    def step(self, v):\n        self.n += 1\n        return v * 2 if self.n < 3 else v\nc = C()\nfor _ in range(4):\n    x = c.step(x)\nx.sum()",
    "attr compare": "class P:\n    def __init__(self, k):\n        self.k = k\na, b = P(2), P(3)\nx * (a.k if a.k < b.k else b.k)",
    "__lt__ by number": "class P:\n    def __init__(self, k, v):\n        self.k, self.v = k, v\n    def __lt__(self, o):\n        return self.k < o.k\nps = [P(3, x), P(1, 2 * x), P(2, x * x)]\nsorted(ps)[0].v.sum() + min(ps).v.sum()",
    "max by key": "class L:\n    def __init__(self, n, w):\n        self.n, self.w = n, w\nls = [L(2, x), L(5, y), L(1, x * y)]\nmax(ls, key=lambda l: l.n).w.sum()",
    "best is None": "class T:\n    def __init__(self):\n        self.best = None\n    def see(self, loss):\n        if self.best is None or loss < self.best:\n            self.best = loss\nt = T()\nfor c in [3.0, 1.0, 2.0]:\n    t.see(c)\nx * t.best",
    "step % 2": "class S:\n    def __init__(self):\n        self.t = 0\n    def __call__(self, v):\n        self.t += 1\n        return v + 1 if self.t % 2 == 0 else v * 2\ns = S()\ns(s(s(x))).sum()",
    "eq of numbers": "class E:\n    def __init__(self, k):\n        self.k = k\n    def __eq__(self, o):\n        return self.k == o.k\nx * (2.0 if E(1) == E(1) else 3.0) + x * (1.0 if E(1) != E(2) else 0.0)",
    "dataclass order": "from dataclasses import dataclass\n@dataclass(order=True)\nclass K:\n    p: int\n    q: float\nx * (1.0 if K(1, 2.0) < K(1, 3.0) else 2.0)",
    "dataclass eq": "from dataclasses import dataclass\n@dataclass\nclass K:\n    p: int\nx * (1.0 if K(1) == K(1) else 2.0)",
    "schedule lr": "class Sched:\n    def __init__(self, lr, warm):\n        self.lr, self.warm, self.t = lr, warm, 0\n    def get(self):\n        self.t += 1\n        return self.lr * min(1.0, self.t / self.warm)\nsc = Sched(0.1, 3)\nw = x.clone()\nfor _ in range(4):\n    w = w - sc.get() * 2 * w\nw.sum()",
    "early stop": "class ES:\n    def __init__(self, patience):\n        self.p, self.bad, self.best = patience, 0, float('inf')\n    def __call__(self, loss):\n        if loss < self.best:\n            self.best, self.bad = loss, 0\n        else:\n            self.bad += 1\n        return self.bad >= self.p\nes = ES(2)\nw = x\nfor l in [3.0, 2.0, 2.5, 2.6, 1.0]:\n    if es(l):\n        break\n    w = w * 1.5\nw.sum()",
    "chained compare attr": "class R:\n    lo, hi = 0, 5\n    def inside(self, k):\n        return self.lo <= k < self.hi\nr = R()\nsum(x * k for k in range(8) if r.inside(k))",
    "compare array attr": "class M:\n    def __init__(self, v):\n        self.v = v\nm = M(x)\n(m.v > 0).double() * m.v",
    "compare tensor sums": "class M:\n    def __init__(self, v):\n        self.v = v\na, b = M(x), M(y)\n(a.v if a.v.sum() < b.v.sum() else b.v) * 2",
    "gt reflected": "class N:\n    def __init__(self, k):\n        self.k = k\n    def __gt__(self, o):\n        return self.k > o.k\nx * (1.0 if N(1) < N(2) else 2.0)",
    "sorted numbers attr": "class B:\n    def __init__(self):\n        self.ks = [3, 1, 2]\nb = B()\nsum(x * k for k in sorted(b.ks))",
    "is / is not": "class Q:\n    pass\nq = Q()\nr = q\nx * (1.0 if r is q else 2.0) + x * (1.0 if Q() is not q else 3.0)",
    "len compare": "class Buf:\n    def __init__(self, n):\n        self.items, self.n = [], n\n    def push(self, v):\n        self.items.append(v)\n        if len(self.items) > self.n:\n            self.items.pop(0)\nb = Buf(2)\nfor k in range(4):\n    b.push(x * k)\nsum(b.items).sum()",
}
DICTS = {
    "params dict": "class Lin:\n    def __init__(self, W, b):\n        self.params = {'W': W, 'b': b}\n    def __call__(self, v):\n        return self.params['W'] @ v + self.params['b']\nLin(A.T, y[0]).__call__(x).sum()",
    "state dict counter": "class Opt:\n    def __init__(self):\n        self.state = {'t': 0}\n    def step(self, w, g):\n        self.state['t'] += 1\n        return w - 0.1 * g / self.state['t']\no = Opt()\nw = x.clone()\nfor _ in range(3):\n    w = o.step(w, 2 * w)\nw.sum()",
    "adam dict state": "class Adam:\n    def __init__(self, lr=0.1):\n        self.lr, self.m, self.v, self.t = lr, {}, {}, 0\n    def step(self, name, w, g):\n        self.t += 1\n        self.m[name] = 0.9 * self.m.get(name, 0.0) + 0.1 * g\n        self.v[name] = 0.99 * self.v.get(name, 0.0) + 0.01 * g * g\n        mh = self.m[name] / (1 - 0.9 ** self.t)\n        vh = self.v[name] / (1 - 0.99 ** self.t)\n        return w - self.lr * mh / (vh.sqrt() + 1e-8)\nopt = Adam()\nw = x.clone()\nfor _ in range(3):\n    w = opt.step('w', w, 2 * w - y)\nw.sum()",
    "cache dict": "class Memo:\n    def __init__(self):\n        self.cache = {}\n    def f(self, k, v):\n        if k not in self.cache:\n            self.cache[k] = torch.sin(v) * k\n        return self.cache[k]\nm = Memo()\n(m.f(1, x) + m.f(1, x) + m.f(2, x)).sum()",
    "items loop": "class M:\n    def __init__(self, a, b):\n        self.p = {'a': a, 'b': b}\nm = M(x, y)\ntot = 0\nfor k, v in m.p.items():\n    tot = tot + (v * v).sum()\ntot",
    "values sum": "class M:\n    def __init__(self, a, b):\n        self.p = {'a': a, 'b': b}\nsum(v.sum() for v in M(x, y).p.values())",
    "keys len": "class M:\n    def __init__(self, a):\n        self.p = {'a': a, 'b': 2 * a}\nm = M(x)\nx * len(m.p) + x * len(list(m.p.keys()))",
    "in dict": "class M:\n    def __init__(self, a):\n        self.p = {'a': a}\nm = M(x)\n(m.p['a'] * 2 if 'a' in m.p else x).sum()",
    "dict write in method": "class M:\n    def __init__(self):\n        self.p = {}\n    def set(self, k, v):\n        self.p[k] = v\nm = M()\nm.set('w', x * 2)\nm.set('b', y)\n(m.p['w'] + m.p['b']).sum()",
    "dict of lists": "class H:\n    def __init__(self):\n        self.hist = {'loss': []}\n    def log(self, v):\n        self.hist['loss'].append(v)\nh = H()\nfor k in range(3):\n    h.log((x * k).sum())\nsum(h.hist['loss'])",
    "getattr dict": "class M:\n    def __init__(self, a):\n        self.p = {'a': a}\nm = M(x)\ngetattr(m, 'p')['a'].sum() * 3",
    "nested dict": "class M:\n    def __init__(self, a):\n        self.p = {'layer': {'w': a}}\nm = M(x)\n(m.p['layer']['w'] ** 2).sum()",
    "dict comprehension": "class M:\n    def __init__(self, a, b):\n        self.p = {k: v * 2 for k, v in [('a', a), ('b', b)]}\nm = M(x, y)\nm.p['a'] @ m.p['b']",
    "class dict constant": "class M:\n    SCALE = {'a': 2.0, 'b': 3.0}\n    def f(self, v):\n        return v * self.SCALE['a'] + self.SCALE['b']\nM().f(x).sum()",
    "ema dict": "class EMA:\n    def __init__(self, d):\n        self.d, self.shadow = d, {}\n    def update(self, name, v):\n        if name in self.shadow:\n            self.shadow[name] = self.d * self.shadow[name] + (1 - self.d) * v\n        else:\n            self.shadow[name] = v.clone()\ne = EMA(0.9)\nfor k in range(3):\n    e.update('w', x * (k + 1))\ne.shadow['w'].sum()",
    "dict pop": "class M:\n    def __init__(self, a):\n        self.p = {'a': a, 'b': a * 3}\nm = M(x)\nv = m.p.pop('b')\n(v + m.p['a']).sum() * len(m.p)",
    "dict copy": "class M:\n    def __init__(self, a):\n        self.p = {'a': a}\nm = M(x)\nq = dict(m.p)\nq['a'] = x * 5\n(m.p['a'] + q['a']).sum()",
    "module-like dict": "class Net:\n    def __init__(self, W1, W2):\n        self.layers = {'l1': W1, 'l2': W2}\n    def forward(self, v):\n        h = torch.tanh(self.layers['l1'] @ v)\n        return self.layers['l2'] @ h\nNet(A.T, B.T).forward(x).sum()",
}
CLASS_CASES = [(k, T + v, {"x": X, "y": Y}) for k, v in CLASSES.items()]
DICT_CASES = [(k, T + v, {"x": X, "y": Y, "A": A, "B": B}) for k, v in DICTS.items()]

# 6. in-place methods on temporaries nothing saved
TEMPS = ["(x * 3).add_(1.0)", "(x + 1).mul_(2.0)", "x.clone().add_(1.0)", "(x - y).abs_()", "(x * 2).relu_()",
         "torch.zeros(3, dtype=torch.float64).add_(x)", "x.clone().mul_(2.0).add_(1.0)", "torch.exp(x).clone().add_(1.0)",
         "(A.T @ x).add_(1.0)", "torch.sin(x).add_(1.0)", "(x / 2).sub_(1.0)", "(x + y).clamp_(-1.0, 1.0)",
         "(x * y).neg_()", "x.clone().pow_(2)", "(x + 0).sin_()", "torch.cat([x, y]).mul_(3.0)",
         "(x * 1.0).addcmul_(y, y)", "torch.ones(3, dtype=torch.float64).mul_(x).add_(y)",
         # PyTorch raises (controls)
         "RAISES torch.exp(x).add_(1.0)", "RAISES torch.sigmoid(x).mul_(2.0)"]
TEMP_CASES = [(t, T + "(" + t.replace("RAISES ", "") + ").sum()", {"x": X, "y": Y, "A": A}) for t in TEMPS]

if __name__ == "__main__":
    total = {}
    for group, cases in [("torch writes in place", INPLACE), ("conversions", FLOAT_CASES), ("views", VIEW_CASES),
                         ("class comparisons", CLASS_CASES), ("dict attributes", DICT_CASES),
                         ("in-place on temporaries", TEMP_CASES)]:
        for k, v in run(group, cases).items():
            total[k] = total.get(k, 0) + v
    print(f"total {sum(total.values())}: {dict(sorted(total.items()))}")
