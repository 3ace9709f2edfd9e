"""The lead's probe of Python's state in jac's texts (session 32): mutable defaults, global / nonlocal, lists
shared and copied, in-place list methods, Python numbers accumulating arrays, Python's own numbers and builtins;
each text run by Python itself (NumPy arrays) and by the jac of the checkout TREE, the values compared.

    /work/venv/bin/python benchmarks/pystate32_probe.py TREE

Outcomes: OK; REF (jac refuses, saying why, where Python answers); both (both refuse); WRONG (another value, no
word); ANSWERS where Python raises; CRASH (not a JacError). Run by hand, never as a test.
"""
import collections
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import jacobi_cli  # noqa: E402
from jacobi_cli import errors  # noqa: E402

CASES = [
 'def f(v, acc=[]):\n    acc.append(v)\n    return sum(acc)\nf(x) + f(x)',
 'def f(v, d={}):\n    d["k"] = d.get("k", 0) + 1\n    return v * d["k"]\nf(x) + f(x)',
 'k = 2\ndef f(v):\n    global k\n    k = k + 1\n    return v * k\nf(x) + f(x) * k',
 'def outer(v):\n    n = 1\n    def inner():\n        nonlocal n\n        n += 1\n        return v * n\n    return inner() + inner()\nouter(x)',
 'a = [x, x * 2]\nb = a[:]\nb[0] = x * 5\na[0] + b[0]',
 'a = [x, x * 2]\nb = a\nb[0] = x * 5\na[0]',
 'a = [[x]]\nb = a[0]\nb.append(x * 3)\nlen(a[0]) * x',
 't = (x, [x])\nt[1].append(x * 2)\nsum(t[1])',
 'a = [x]\na = a * 2\na[0] = x * 3\na[1]',
 'a = [[x]] * 2\na[0].append(x * 2)\nlen(a[1]) * x',
 'a = x\na = a + 1\nb = a\nb += 1\na',
 'r = [x * i for i in range(3)]\nr.reverse()\nr[0]',
 'r = [x * i for i in range(3)]\nr.insert(0, x * 9)\nr[1]',
 'r = [x * i for i in range(3)]\nr.pop()\nsum(r)',
 'r = [x * i for i in range(3)]\ndel r[0]\nr[0]',
 'r = [x, 2 * x, 3 * x]\nr[1:] = [x]\nlen(r) * x',
 'import copy\nr = [x]\ns = copy.copy(r)\ns.append(x)\nlen(r) * x',
 's = 0\nfor i, v in enumerate([x, 2 * x]):\n    s = s + v * i\ns',
 'v = x\nfor _ in range(3):\n    v = v * 2\n    if v.shape[0] > 10:\n        break\nelse:\n    v = v + 100\nv',
 'x, y = x * 2, x\ny',
 'f = lambda v: v * 2\ng = lambda v: f(v) + 1\nf = lambda v: v * 10\ng(x)',
 'fs = {}\nfor k in ["a", "b"]:\n    fs[k] = lambda v: v * len(k)\nfs["a"](x)',
 'def f(*, k=2, **kw):\n    return x * k * len(kw)\nf(k=3, a=1, b=2)',
 'a = b = x * 2\nb = b + 1\na',
 'n = 3\nwhile n:\n    n -= 1\nx * n',
 'i = 5\nfor i in range(0):\n    pass\nx * i',
 'def f(v):\n    total = 0\n    for w in (v, v * 2):\n        total += w\n    return total\nf(x)',
 'z = [x]\nz.extend([x * 2, x * 3])\nz[-1] - z[0]',
 'z = [x, x * 2]\nz += [x * 3]\nz[2]',
 'z = (x,) * 3\nlen(z) * z[2]',
 'm = {"a": x}\nm.update({"b": x * 2})\nm["b"]',
 'm = {"a": x}\nn = {**m, "a": x * 4}\nm["a"] + n["a"]',
 'sorted([3, 1, 2])[0] * x',
 'max(range(4)) * x',
 'any([False, True]) * x',
 'all([]) * x',
 'x * (not 0)',
 'x * (2 if [] else 3)',
 'x * (1 and 5)',
 'x * (0 or 7)',
 'x * len({1, 2, 2})',
 'x * int(True)',
 'x * divmod(-7, 2)[1]',
 'x * (-7 // 2)',
 'x * (7 % -3)',
 'x * (2 ** -1)',
 'x * round(0.5)',
 'x * round(1.5)',
 'x * round(2.675, 2)',
 'x * abs(-3)',
 'x * pow(2, 3, 5)',
 'x * (3).__add__(1)',
 'x * float("inf") * 0',
 'x * min([], default=4)',
]
x = np.array([0.5, -1.5])
counts = collections.Counter()
for text in CASES:
    env = {"np": np, "x": x.copy()}
    *body, last = text.split("\n")
    try:
        exec("\n".join(body), env)
        want = np.asarray(eval(last, env), dtype=float)
    except Exception as e:
        want = f"Python raises {type(e).__name__}: {e}"
    try:
        got = jacobi_cli.evaluate(text, {"x": x})
    except errors.JacError as e:
        got = f"refused: {str(e).splitlines()[0][:140]}"
    except Exception as e:
        got = f"CRASH {type(e).__name__}: {e}"
    if isinstance(got, str) or isinstance(want, str):
        tag = "REF" if isinstance(got, str) and got.startswith("refused") else "CRASH" if isinstance(got, str) else "ANSWERS-WHERE-PY-RAISES"
        if isinstance(got, str) and isinstance(want, str): tag = "both"
    else:
        tag = "OK" if got.shape == want.shape and np.allclose(got, want, equal_nan=True) else "WRONG"
    counts[tag] += 1
    if tag != "OK" or "-v" in sys.argv:
        print(f"{tag:5} {text!r}\n      jac: {got}\n      py:  {want}")
print(dict(counts), "of", len(CASES))
