"""Session 35's regression probe (h35-regress): texts the libraries answer next to each refusal session 35 added
(a tensor PyTorch saved for backward changed in place, bool operators in PyTorch texts, JAX arrays made inside
jax.jit and read by Python, a shape of one, x.view of a strided input), and texts where the library raises, run by the library itself and by
the jac of the checkout TREE:

    /work/venv/bin/python benchmarks/regress35_probe.py TREE [-v]

References: PyTorch float64 eager autograd (each output element by torch.autograd.grad), JAX x64 (the text as a
function of its inputs, jax.jacrev), the bool operators' values by PyTorch. Outcomes: OK (value and Jacobians to
rtol 1e-10 / 1e-9); REFUSED (jac refuses where the library answers: a false refusal unless the reading is out of
scope); both (both refuse); ANSWERS-WHERE-LIB-RAISES; WRONG; CRASH (not a JacError). Prints a line per text not OK
(all with -v), then the counts per group. Runs in about a minute. Run by hand, never as a test.
"""
from __future__ import annotations

import argparse
import ast
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("tree", nargs="?", default=".")
ap.add_argument("-v", action="store_true")
ARGS = ap.parse_args()
sys.path.insert(0, ARGS.tree)
import jacobi_cli  # noqa: E402
from jacobi_cli.errors import JacError  # noqa: E402


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
    val = y.detach().double().numpy()
    rows = []
    yf = y.reshape(-1)
    for i in range(yf.numel()):
        gs = torch.autograd.grad(yf[i], list(ins.values()), retain_graph=True, allow_unused=True)
        rows.append([np.zeros(v.shape) if g is None else g.numpy() for g, v in zip(gs, ins.values())])
    jacs = {k: np.array([r[j] for r in rows]).reshape(val.shape + ins[k].shape) for j, k in enumerate(ins)}
    return val, jacs

def run_jax(text, binds):
    import jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    tree = ast.parse(text)
    last = tree.body[-1]
    tree.body[-1] = ast.Return(value=last.value)
    fn = ast.FunctionDef(name="__f", args=ast.arguments(posonlyargs=[], args=[ast.arg(k) for k in binds], kwonlyargs=[], kw_defaults=[], defaults=[]), body=tree.body, decorator_list=[], returns=None, type_params=[])
    mod = ast.Module(body=[fn], type_ignores=[])
    ast.fix_missing_locations(mod)
    env = {}
    exec(compile(mod, "<t>", "exec"), env)
    f = env["__f"]
    args = [jnp.asarray(v, dtype=jnp.float64) for v in binds.values()]
    val = np.asarray(f(*args))
    js = jax.jacrev(f, argnums=tuple(range(len(args))))(*args)
    return val, {k: np.asarray(j) for k, j in zip(binds, js)}

def classify(text, binds, lib):
    try:
        ref = (run_torch if lib == "torch" else run_jax)(text, binds)
    except Exception as ex:
        ref = ("RAISES", type(ex).__name__ + ": " + str(ex).split("\n")[0][:100])
    try:
        b = {k: np.asarray(v, float) for k, v in binds.items()}
        val = np.asarray(jacobi_cli.evaluate(text, b), float)
        J = jacobi_cli.jacobian(text, b)
        got = (val, J)
    except JacError as ex:
        got = ("REFUSED", str(ex).split("\n")[0][:160])
    except Exception as ex:
        got = ("CRASH", repr(ex)[:160])
    if isinstance(ref[0], str):
        return ("both" if got[0] == "REFUSED" else "ANSWERS-WHERE-LIB-RAISES" if got[0] != "CRASH" else "CRASH"), ref, got
    if isinstance(got[0], str):
        return got[0], ref, got
    ok = np.allclose(ref[0], got[0], rtol=1e-10, atol=1e-12, equal_nan=True) and np.shape(ref[0]) == np.shape(got[0])
    Jg = got[1] if isinstance(got[1], dict) else {list(binds)[0]: got[1]}
    for k in binds:
        ok = ok and k in Jg and np.allclose(ref[1][k], np.asarray(Jg[k]), rtol=1e-9, atol=1e-12, equal_nan=True)
    return ("OK" if ok else "WRONG"), ref, got

def run(group, cases, lib):
    counts = {}
    for name, text, binds in cases:
        c, ref, got = classify(text, binds, lib)
        counts[c] = counts.get(c, 0) + 1
        extra = ""
        if c != "OK":
            extra = " | lib: " + (ref[1] if isinstance(ref[0], str) else "answers") + " | jac: " + (got[1] if isinstance(got[0], str) else "answers")
        if c != "OK" or ARGS.v:
            print(f"{c:26s} {name}{extra}")
    print(group, counts)


def run_bools(group, exprs):
    """PyTorch's bool operators (m = x > 0): the value PyTorch gives, or its error, against jac's."""
    import torch
    X = [1., -2., 3.]
    counts = {}
    for e in exprs:
        text = "import torch\nm = x > 0\n" + e
        x = torch.tensor(X, dtype=torch.float64)
        try:
            ref = np.asarray(eval(e, {"torch": torch, "x": x, "m": x > 0}).double(), float)
        except Exception:  # noqa: BLE001 - PyTorch raising is the verdict
            ref = None
        try:
            got = np.asarray(jacobi_cli.evaluate(text, {"x": np.array(X)}), float)
        except JacError as err:
            got = str(err).split("\n")[0][:120]
        if isinstance(got, str):
            c = "both" if ref is None else "REFUSED"
        elif ref is None:
            c = "ANSWERS-WHERE-LIB-RAISES"
        else:
            c = "OK" if ref.shape == got.shape and np.array_equal(ref, got, equal_nan=True) else "WRONG"
        counts[c] = counts.get(c, 0) + 1
        if c != "OK" or ARGS.v:
            print(f"{c:26s} {e!r} | torch: {ref if ref is None else ref.tolist()} | jac: "
                  f"{got if isinstance(got, str) else got.tolist()}")
    print(group, counts)


X = {"x": [0.5, -1.2, 2.0]}
XW = {"x": [0.5, -1.2, 2.0], "w": [1.5, 0.3, -0.7]}
T = "import torch\n"
J = "import jax\nimport jax.numpy as jnp\nimport numpy as np\n"
TORCH_INPLACE = [
 ("rebind exp", T + "h = torch.exp(x)\nh = h + 1\nh.sum()", X),
 ("mul const then add_", T + "h = x * 2\nh.add_(1)\n(h * h).sum()", X),
 ("sin then mul_", T + "h = torch.sin(x)\nh.mul_(2)\nh.sum()", X),
 ("clone write", T + "h = x.clone()\ny = torch.sin(h)\nh2 = h.clone()\nh2.add_(1)\n(y + h2).sum()", X),
 ("exp add_ raises", T + "h = torch.exp(x)\ny = h.sum()\nh.add_(1)\ny", X),
 ("mul const tensor, zero_", T + "h = x + 1\nc = torch.tensor([1., 2., 3.], dtype=torch.float64)\ny = h * c\nh.zero_()\ny.sum()", X),
 ("mul by input, zero_ raises", T + "h = x + 1\ny = h * w\nh.zero_()\ny.sum()", XW),
 ("relu write raises", T + "y = torch.relu(x)\nz = y.clone()\ny[0] = 5\nz.sum()", X),
 ("tanh detach write off path", T + "y = torch.tanh(x)\nd = y.detach()\nd[0] = 1.0\n(d * x).sum()", X),
 ("exp sin off path", T + "a = torch.exp(x)\nb = torch.sin(x)\na[0] = 0\nb.sum()", X),
 ("out table scalar", T + "out = torch.zeros(3, dtype=torch.float64)\nout[0] = x[0] * 2\nout[1] = torch.exp(x[1])\nout[2] = out[1] * 3\nout.sum()", X),
 ("out table by input raises", T + "out = torch.zeros(3, dtype=torch.float64)\nout[0] = x[0] * 2\nout[1] = torch.exp(x[1])\nout[2] = out[1] * x[2]\nout.sum()", X),
 ("mask write before exp", T + "x2 = x.clone()\nx2[x2 < 0] = 0\ntorch.exp(x2).sum()", X),
 ("sigmoid scaled +=", T + "y = torch.sigmoid(x)\ny = y * 2\ny += 1\ny.sum()", X),
 ("pow const +=", T + "y = x ** 2\ny += 1\ny.sum()", X),
 ("exp pow +=", T + "y = torch.exp(x)\ny = y ** 2\ny += 1\ny.sum()", X),
 ("matmul const +=", T + "W = torch.ones(3, 3, dtype=torch.float64)\ny = W @ x\ny += 1\ny.sum()", X),
 ("sqrt div sub_", T + "y = torch.sqrt(x ** 2 + 1)\nz = y / 2\nz -= 1\nz.sum()", X),
 ("mul relu_", T + "a = x * w\na.relu_()\na.sum()", XW),
 ("log mul_", T + "y = torch.log(x ** 2)\ny.mul_(3)\ny.sum()", X),
 ("rnn loop no inplace", T + "W = torch.eye(3, dtype=torch.float64) * 0.5\nh = torch.zeros(3, dtype=torch.float64)\nfor t in range(3):\n    h = torch.tanh(W @ h + x)\nh.sum()", X),
 ("rnn hidden list", T + "hs = []\nh = torch.zeros(3, dtype=torch.float64)\nfor t in range(3):\n    h = torch.tanh(h + x * w)\n    hs.append(h)\ntorch.stack(hs).sum()", XW),
 ("accumulate loss +=", T + "loss = 0\nfor i in range(3):\n    loss += torch.exp(x[i]) * w[i]\nloss", XW),
 ("accumulate tensor +=", T + "loss = torch.zeros((), dtype=torch.float64)\nfor i in range(3):\n    loss += torch.sin(x[i]) ** 2\nloss", X),
 ("grad-free buffer", T + "buf = torch.zeros(3, dtype=torch.float64)\nbuf += 1\ny = torch.exp(x) * buf\nbuf[0] = 7\ny.sum()", X),
 ("tanh saves result, write to input copy", T + "h = x.clone()\ny = torch.tanh(h)\nh[0] = 0\ny.sum()", X),
 ("sin saves input, write to input copy raises", T + "h = x.clone()\ny = torch.sin(h)\nh[0] = 0\ny.sum()", X),
 ("exp write after backward path uses clone", T + "h = torch.exp(x)\ng = h.clone()\nh.add_(1)\n(g * 0 + x).sum()", X),
 ("layer norm manual", T + "mu = x.mean()\nxc = x - mu\nvar = (xc ** 2).mean()\ny = xc / torch.sqrt(var + 1e-5)\ny = y * w\ny.sum()", XW),
 ("dot then write other", T + "a = x.clone()\nb = w.clone()\ns = torch.dot(a, b)\nb.mul_(2)\ns + b.sum()", XW),
 ("dot then write const side", T + "a = x * 1.0\nc = torch.ones(3, dtype=torch.float64)\ns = torch.dot(a, c)\na.mul_(2)\ns", X),
 ("transpose view write", T + "A = torch.outer(x, w)\nB = A.t()\nB[0, 0] = 0\nA.sum()", XW),
 ("view of exp result detach chain", T + "e = torch.exp(x)\nv = e.detach().clone()\nv[1] = 0\n(e * v).sum()", X),
 ("exp result reassigned item", T + "e = torch.exp(x)\ne2 = e * 1\ne2[0] = 3\ne2.sum()", X),
 ("inplace on sum", T + "s = torch.exp(x).sum()\ns += 1\ns", X),
 ("sigmoid_ on fresh", T + "y = x * w\ny.sigmoid_()\ny.sum()", XW),
 ("exp_ then mul", T + "y = x + 0\ny.exp_()\n(y * w).sum()", XW),
 ("normalize /=", T + "y = torch.exp(x)\ny = y / y.sum()\ny.sum() + (y * w).sum()", XW),
 ("div then write denominator", T + "d = w.clone()\nq = x / d\nd[0] = 1\nq.sum()", XW),
 ("div then write numerator", T + "n = x.clone()\nq = n / w\nn[0] = 1\nq.sum()", XW),
 ("div by const then write numerator", T + "n = x.clone()\nq = n / 2.0\nn[0] = 1\nq.sum()", X),
 ("pow input exponent", T + "b = x.clone()\nq = torch.pow(w, b)\nb[0] = 0\nq.sum()", {"x": [0.5, 1.2, 2.0], "w": [1.5, 0.3, 0.7]}),
 ("square then write", T + "h = x.clone()\nq = torch.square(h)\nh[0] = 0\nq.sum()", X),
 ("abs then zero_ copy", T + "h = x.clone()\nq = torch.abs(h)\nh2 = h.clone()\nh2.zero_()\n(q + h2).sum()", X),
 ("no_grad write", T + "h = torch.exp(x)\nwith torch.no_grad():\n    h[0] = 0\nh.sum()", X),
 ("scatter style table", T + "T = torch.zeros(3, 3, dtype=torch.float64)\nfor i in range(3):\n    T[i, i] = torch.exp(x[i])\n    if i > 0:\n        T[i, i-1] = T[i-1, i-1] * 0.5\nT.sum()", X),
 ("scatter style table dyn", T + "T = torch.zeros(3, dtype=torch.float64)\nT[0] = x[0]\nfor i in range(1, 3):\n    T[i] = torch.tanh(T[i-1] + x[i])\nT.sum()", X),
 ("dp table mul by input", T + "T = torch.zeros(3, dtype=torch.float64)\nT[0] = x[0]\nfor i in range(1, 3):\n    T[i] = T[i-1] * x[i]\nT.sum()", X),
]

JAX_NEAR = [
 ("jit np const", J + "@jax.jit\ndef f(v):\n    c = np.sin(np.arange(3.0))\n    return v * c\nf(x).sum()", X),
 ("jit np.pi", J + "@jax.jit\ndef f(v):\n    return np.pi * v + np.e\nf(x).sum()", X),
 ("jit np.float64 of shape", J + "@jax.jit\ndef f(v):\n    n = np.float64(v.shape[0])\n    return v.sum() / n\nf(x)", X),
 ("jit shape test", J + "@jax.jit\ndef f(v):\n    a = jnp.ones(3)\n    if a.shape[0] > 2:\n        return v * 2\n    return v\nf(x).sum()", X),
 ("jit int of shape", J + "@jax.jit\ndef f(v):\n    c = jnp.array([1., 2.])\n    n = int(c.shape[0])\n    return v[:n].sum()\nf(x)", X),
 ("jit static tuple", J + "def f(v, s):\n    return v.reshape(s).sum(0)\njax.jit(f, static_argnums=1)(x, (3, 1)).sum()", X),
 ("jit static int", J + "def f(v, k):\n    return v * k\njax.jit(f, static_argnums=(1,))(x, 3).sum()", X),
 ("jit static argnames str", J + "def f(v, mode):\n    return jnp.sin(v) if mode == 'sin' else v\njax.jit(f, static_argnames='mode')(x, mode='sin').sum()", X),
 ("jit np.asarray const", J + "@jax.jit\ndef f(v):\n    w = np.asarray([1., 2., 3.])\n    return (v * w).sum()\nf(x)", X),
 ("grad np.sin of jnp const", J + "def f(v):\n    c = np.sin(jnp.ones(3))\n    return (v * c).sum()\njax.grad(f)(x).sum()", X),
 ("vmap np of jnp const", J + "def f(v):\n    c = np.cos(jnp.arange(2.0))\n    return v * c.sum()\njax.vmap(f)(x).sum()", X),
 ("vmap python if static", J + "def f(v):\n    return v * 2 if True else v\njax.vmap(f)(x).sum()", X),
 ("outside np.sin jnp const", J + "c = np.sin(jnp.ones(3))\n(x * c).sum()", X),
 ("outside float of jnp const", J + "c = jnp.array([1.5, 2.0])\ns = float(c[0])\n(x * s).sum()", X),
 ("outside if jnp const", J + "c = jnp.ones(3)\nif c[0] > 0:\n    y = x * 2\nelse:\n    y = x\ny.sum()", X),
 ("outside list index by jnp argmax const", J + "l = [1.0, 2.0, 3.0]\ni = jnp.argmax(jnp.array([0., 5., 1.]))\n(x * l[i]).sum()", X),
 ("fori tuple python index", J + "t = (1.0, 2.0, 3.0)\ndef body(i, c):\n    return c + t[0] * x[i]\njax.lax.fori_loop(0, 3, body, 0.0)", X),
 ("scan const list python int", J + "w = [0.5, 1.5]\ndef step(c, xi):\n    return c * w[1] + xi, c\nc, ys = jax.lax.scan(step, 0.0, x)\nc + ys.sum()", X),
 ("jit closure np const", J + "W = np.eye(3) * 2.0\n@jax.jit\ndef f(v):\n    return W @ v\nf(x).sum()", X),
 ("jit jnp const float outside", J + "c = jnp.ones(3)\ns = float(c.sum())\n@jax.jit\ndef f(v):\n    return v * s\nf(x).sum()", X),
 ("jit x.at set", J + "@jax.jit\ndef f(v):\n    return v.at[0].set(1.0).sum()\nf(x)", X),
 ("jit np.float32 const", J + "@jax.jit\ndef f(v):\n    return v * np.float64(2.0)\nf(x).sum()", X),
 ("jit np.sqrt python float", J + "@jax.jit\ndef f(v):\n    return v / np.sqrt(2.0)\nf(x).sum()", X),
 ("jit np.zeros shape", J + "@jax.jit\ndef f(v):\n    z = np.zeros(v.shape)\n    return (v + z).sum()\nf(x)", X),
 ("jit np.linspace", J + "@jax.jit\ndef f(v):\n    t = np.linspace(0, 1, 3)\n    return (v * t).sum()\nf(x)", X),
 ("checkpoint np const", J + "@jax.checkpoint\ndef f(v):\n    return v * np.arange(3.0)\nf(x).sum()", X),
 ("grad then jit", J + "def f(v):\n    return jnp.sum(jnp.sin(v) ** 2)\njax.jit(jax.grad(f))(x).sum()", X),
 ("jit range of python int", J + "@jax.jit\ndef f(v):\n    s = 0.0\n    for i in range(len(v)):\n        s = s + v[i] ** 2\n    return s\nf(x)", X),
 ("while python const jnp outside", J + "n = 0\nc = jnp.array(3)\nwhile n < int(c):\n    n += 1\n(x * n).sum()", X),
 ("jit np.dot consts", J + "A = np.ones((3, 3))\n@jax.jit\ndef f(v):\n    B = np.dot(A, A)\n    return jnp.dot(B, v).sum()\nf(x)", X),
 ("jax np mixture outside", J + "y = jnp.sin(x)\nz = np.asarray([1., 2., 3.]) * y\nz.sum()", X),
 ("jit list of python floats index by int", J + "l = [1.0, 2.0, 3.0]\n@jax.jit\ndef f(v):\n    return v * l[2]\nf(x).sum()", X),
 ("jit tuple unpack consts", J + "@jax.jit\ndef f(v):\n    a, b = np.array([1.0, 2.0])\n    return v * a + b\nf(x).sum()", X),
]

BODIES = {
 'shape': "(v*2 if jnp.ones(3).shape[0] > 2 else v).sum()",
 'shape named': None,
 'len': "v[:len(jnp.ones(2))].sum()",
 'ndim': "v.sum() * jnp.ones((2,2)).ndim",
 'size': "v.sum() * jnp.ones((2,2)).size",
 'jnp.shape': "v.sum() * jnp.shape(jnp.ones(3))[0]",
 'jnp.size': "v.sum() * jnp.size(jnp.ones(3))",
 'jnp.ndim': "v.sum() * jnp.ndim(jnp.ones(3))",
 'int(jnp.float64)': "v.sum() * int(jnp.float64(2.0))",
 'float(jnp.array(2.))': "v.sum() * float(jnp.array(2.0))",
 'float(jnp.pi)': "v.sum() * float(jnp.pi)",
 'dtype': "v.sum() * (2 if jnp.ones(3).dtype == jnp.float64 else 3)",
 'T.shape': "v.sum() * jnp.ones((2,3)).T.shape[0]",
 'reshape shape': "v.sum() * jnp.ones(6).reshape(2,3).shape[1]",
 'shape of sum': "v.sum() * len(jnp.ones((2,3)).sum(0).shape)",
 'np.shape': "v.sum() * np.shape(jnp.ones(3))[0]",
 'np.ndim': "v.sum() * np.ndim(jnp.ones(3))",
 'np.size': "v.sum() * np.size(jnp.ones(3))",
 'bool(jnp.isnan(1.))': "v.sum() * (2 if not jnp.isnan(1.0) else 1)",
 'python float(c.sum())': "v.sum() * float(jnp.ones(3).sum())",
 'range shape': None,
 'zeros like shape': "(v + jnp.zeros(jnp.ones(3).shape)).sum()",
 'reshape to const shape': "v.reshape(jnp.ones((3, 1)).shape).sum()",
}
JAX_SHAPES = []
for k, b in BODIES.items():
    if k == 'shape named':
        text = J + "@jax.jit\ndef f(v):\n    a = jnp.ones(3)\n    n = a.shape[0]\n    if n > 2:\n        return (v * n).sum()\n    return v.sum()\nf(x)"
    elif k == 'range shape':
        text = J + "@jax.jit\ndef f(v):\n    a = jnp.ones(3)\n    s = 0.0\n    for i in range(a.shape[0]):\n        s = s + v[i] * a[i]\n    return s\nf(x)"
    else:
        text = J + "@jax.jit\ndef f(v):\n    return " + b + "\nf(x)"
    JAX_SHAPES.append((k, text, X))
# the same under lax.scan's body and vmap
JAX_SHAPES.append(("scan body shape", J + "def step(c, xi):\n    a = jnp.ones(2)\n    return c + xi * a.shape[0], c\nc, ys = jax.lax.scan(step, 0.0, x)\nc + ys.sum()", X))
JAX_SHAPES.append(("vmap shape", J + "def f(v):\n    a = jnp.ones(2)\n    return v * a.shape[0] if a.ndim == 1 else v\njax.vmap(f)(x).sum()", X))
JAX_SHAPES.append(("fori len", J + "def body(i, c):\n    a = jnp.ones(3)\n    return c + x[i] * len(a)\njax.lax.fori_loop(0, 3, body, 0.0)", X))

BOOLS = ['m % 2','m ** 2','m // 2','2 ** m','x ** m','m ** x','x - m','m - 1','1 - m','m - m','-m','m % m','m // m','m ** m','2.0 ** m','m ** 2.0','m.pow(2)','torch.pow(m,2)','m * 2 - 1','(m*2) - 1','m.sum() - 1','torch.remainder(m, 2)','m % 2.0','x % m', 'm + m', 'm*m', 'm / m', 'm / 2','torch.fmod(m,2)','torch.floor_divide(m,2)', 'x * m - 1', '(x > 0).float() - (x < 0).float()', 'True - m.sum()', 'm.sum() ** 2', 'x ** 2 % m.sum()', 'torch.sign(x) - (x > 5)*1', 'x - 1 * m', '(x > 0).to(x.dtype) - 0.5', '(x > 0).double() ** m', 'x ** (x>0)', 'm.int() - 1', '(m & (x < 5)) * x - x', 'x[m] - 1', 'torch.where(m, x, -x) - m.double()']

A = {"A": [[1., 2., 3., 4.], [5., 6., 7., 8.], [9., 10., 11., 12.]]}
V = ["A.view(-1)", "A.T.contiguous().view(-1)", "A[:, 0].view(-1)", "A[:, 0].view(3, 1)", "A[:, 0].view(1, 3)",
     "A[:, :2].view(-1)", "A[:1].view(-1)", "A[1:].view(-1)", "A.view(4, 3)", "A.T.view(4, 3)", "A.T.reshape(-1)",
     "A.t().reshape(12)", "A.unsqueeze(0).view(3, 4)", "A.permute(1, 0).view(12)", "A[::2].view(-1)", "A[:, 1:3].view(3, 2)",
     "A.expand(2, 3, 4).view(-1)", "A.T.T.view(-1)", "A.view(2, 6).T.view(-1)", "A[:, None].view(3, 4)", "A[0].view(2, 2)",
     "A.transpose(0, 1).contiguous().view(2, 6)", "A.flatten().view(3, 4)", "A.narrow(1, 0, 2).view(-1)", "A.narrow(0, 0, 2).view(-1)",
     "A.view(3, 2, 2).transpose(1, 2).view(3, 4)", "(A * 2).T.view(-1)", "A.mT.view(-1)", "A[:, 0:4].view(-1)", "A.squeeze().view(-1)",
     "A.T[0].view(3)", "A.view(-1)[::2].view(2, 3)", "A.view(12)[:6].view(2, 3)"]
TORCH_VIEWS = [(v, T + "y = " + v + "\n(y * torch.arange(y.numel(), dtype=torch.float64).reshape(y.shape)).sum()", A) for v in V]

run_bools("torch bool operators", BOOLS)
run("torch writes in place", TORCH_INPLACE, "torch")
run("torch views", TORCH_VIEWS, "torch")
run("jax near the trace refusals", JAX_NEAR, "jax")
run("jax shapes of arrays made inside", JAX_SHAPES, "jax")
