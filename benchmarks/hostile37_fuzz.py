"""hostile37: hostile texts against session 36's new readers (session 37).

    PYTHONPATH=. /work/venv/bin/python benchmarks/hostile37_fuzz.py [-k SUBSTRING] [-v] [--part K/N] [--timeout T] [--root DIR]

Session 36 added readers that hostile input had not met: ``lang/fourier.py`` (complex pairs, FFTs),
``lang/pyiter.py`` (itertools / functools / operator run by Python's own itertools over values known when the
text is read), ``lang/plain.py`` (plain classes with dunders, iteration, dicts in instances),
``lang/specials36.py`` (scipy.special), JAX pytrees (tree_map, ravel_pytree, partial), distributions
(Wishart, LKJCholesky) and scipy.signal's 2-d functions. Each case is a real ``python -m jacobi_cli eval --json``
process under an address-space limit of 4 GB (``RLIMIT_AS``) and a timeout, in a scratch folder holding a file
that must survive, and is classified:

- OK: exit 2 with exactly one ``jac: error`` line (and the JSON error object), or exit 0 where the case's text
  is one jac may answer, with the library's own answer where the case gives one (``want``);
- TRACEBACK: a Python traceback, or an exit other than 0/1/2 (70: an internal error);
- HANG: past the timeout (20 s); SLOW: over 10 s;
- OOM: exit 2 saying "not enough memory" (the size was not refused by size: without the 4 GB limit the process
  would have grown until the machine swapped), or a peak resident size over 4 GB;
- EXIT: exit 0 where a refusal is expected, or 2 where an answer is;
- WRONG: an answer other than the library's;
- MESSAGE: exit 2 without one ``jac: error`` line or without the JSON error object;
- FILE: the scratch file changed or a new file appeared; CODE-RAN: the canary file the text tries to make appeared.

Prints the counts per class and the failing cases; exit 1 if any is not OK.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
ADDRESS_LIMIT = 4 * 2**30
SLOW_SECONDS = 10.0
X = "x=[0.5,-1.5,2.0]"
PWN = "__import__('os').system('touch PWNED')"


@dataclass
class Case:
    name: str
    text: str
    binds: list = field(default_factory=lambda: [X])
    expect: str = "refuse"  # refuse (exit 2) | ok (exit 0) | any (0 or 2)
    want: object = None  # the library's answer (a callable of nothing, or a number / nested list) for an exit 0
    command: str = "eval"


def _fft(expr):
    """The answer of a NumPy expression over x (the binding X)."""
    import numpy as np
    return lambda: eval(expr, {"np": np, "x": np.array([0.5, -1.5, 2.0])})  # noqa: S307 - the probe's own text


IT, FT, OP = "import itertools\n", "import functools\n", "import operator\n"
T = "import torch\n"
J = "import jax\nimport jax.numpy as jnp\n"
SS = "import scipy.special\n"
SG = "import scipy.signal\nimport numpy as np\n"
D = "import torch\nfrom torch.distributions import Wishart, LKJCholesky\n"


def fourier_cases() -> list:
    c = []
    for n in ("0", "-1", "-10**9", "10**9", "10**18", "2.5", "'3'", "True", "None", "float('nan')", "1e400",
              "x", "[3]", "2**63"):
        c.append(Case(f"fft n={n}", f"np.fft.fft(x, n={n}).real.sum()", expect="any"))
    for fn in ("rfft", "fft", "ifft", "irfft", "hfft", "ihfft", "fft2", "rfft2", "fftn", "irfftn"):
        c.append(Case(f"torch.fft.{fn} of a 0-d tensor", f"torch.fft.{fn}(s).real", ["s=2.0"]))
        c.append(Case(f"np.fft.{fn} norm='bogus'", f"np.fft.{fn}(A, norm='bogus').real.sum()", ["A=ones((2,2))"]))
        c.append(Case(f"np.fft.{fn} norm with a null byte", f"np.fft.{fn}(A, norm='ortho\\x00').real.sum()",
                      ["A=ones((2,2))"]))
    for axis in ("5", "-5", "10**20", "2.0", "'0'", "(0, 0)", "None"):
        c.append(Case(f"fft axis={axis}", f"np.fft.fft(x, axis={axis}).real.sum()", expect="any"))
    for s in ("(10**5, 10**5)", "(0, 2)", "(-1, 2)", "(2,) * 40", "()", "(2, 2, 2)", "(10**9,)"):
        c.append(Case(f"fft2 s={s}", f"np.fft.fft2(A, s={s}).real.sum()", ["A=ones((2,2))"], expect="any"))
    c += [
        Case("fftn axes repeated", "np.fft.fftn(A, axes=(0, 0)).real.sum()", ["A=ones((2,2))"], "any",
             _fft("np.fft.fftn(np.ones((2,2)), axes=(0, 0)).real.sum()")),
        Case("fft of 40 axes", "np.fft.fftn(ones((1,) * 40)).real.sum() * x.sum()", expect="any", want=1.0),
        # refused in session 37 (a cos / sin matrix past its bytes); answered since session 38's fftmap ops
        Case("fft of an 8192 signal", "np.fft.fft(x, n=8192).real.sum()", expect="ok",
             want=_fft("np.fft.fft(x, n=8192).real.sum()")),
        Case("irfft n=1", "np.fft.irfft(x, n=1).sum()", expect="any", want=_fft("np.fft.irfft(x, n=1).sum()")),
        Case("hfft n=0", "np.fft.hfft(x, n=0).sum()"),
        Case("fft index out of range", "np.fft.fft(x)[10**9].real"),
        Case("fft 300 nested", "y = x\nfor i in range(300):\n    y = np.fft.ifft(np.fft.fft(y)).real\ny.sum()",
             expect="any"),
        Case("fft 2000 chained in text", "np.fft.fft(" * 2000 + "x" + ")" * 2000 + ".real.sum()"),
        Case("complex power 10**9", "abs(np.fft.fft(x) ** 10**9).sum()", expect="any"),
        Case("complex literal huge", "abs(np.fft.fft(x) * 1e308j * 1e308j).sum()", expect="any"),
        Case("complex output", "np.fft.fft(x)"),
        Case("complex to float", "float(np.fft.fft(x)[0])"),
        Case("complex comparisons", "(np.fft.fft(x) < 1).sum()"),
        Case("complex as index", "x[np.fft.fft(x)]"),
        Case("complex in range", "sum(range(np.fft.fft(x)[0]))"),
        Case("complex hash dict", "d = {np.fft.fft(x)[0]: 1}\nd"),
        Case("fftfreq 10**9", "np.fft.fftfreq(10**9).sum() * x.sum()"),
        Case("fftfreq 0", "np.fft.fftfreq(0).sum() * x.sum()", expect="any"),
        Case("fftfreq d=0", "np.fft.fftfreq(4, d=0).sum() * x.sum()", expect="any"),
        Case("fftshift axes huge", "np.fft.fftshift(x, axes=10**9).sum()"),
        Case("torch.fft norm None string", "torch.fft.fft(t, norm='None').real.sum()", ["t=[1.,2.]"]),
        Case("fft of a string", "np.fft.fft('abc').real.sum() * x.sum()"),
        Case("fft of a dict", "np.fft.fft({'a': x}).real.sum()"),
        Case("fft of a class instance", "class A:\n    pass\nnp.fft.fft(A()).real.sum()"),
        Case("complex pair written in place", "z = np.fft.fft(x)\nw = z\nz[0] = 1\nw.real.sum()"),
        Case("view_as_real of a 0-d complex", "torch.view_as_real(torch.fft.fft(t)[0]).sum()", ["t=[1.,2.]"],
             "any"),
        Case("torch.complex of different shapes", "torch.complex(t, torch.ones(3)).real.sum()", ["t=[1.,2.]"]),
        Case("torch.polar of a huge size", "torch.polar(torch.ones(10**6, 10**6), t).real.sum()", ["t=[1.,2.]"]),
        Case("scipy.fft workers", "import scipy.fft\nscipy.fft.fft(x, workers=10**9).real.sum()", expect="any"),
        Case("scipy.fft overwrite_x", "import scipy.fft\nscipy.fft.fft(x, overwrite_x=True).real.sum()",
             expect="any"),
        Case("scipy.fft plan", "import scipy.fft\nscipy.fft.fft(x, plan=__import__('os')).real.sum()"),
    ]
    return c


def pyiter_cases() -> list:
    c = [
        Case("product(range(10**6), repeat=9) loop",
             IT + "s = 0\nfor t in itertools.product(range(10**6), repeat=9):\n    s = s + x\ns.sum()"),
        Case("product repeat=10**9", IT + "[sum(c) for c in itertools.product(range(10), repeat=10**9)]"),
        Case("product repeat=10**18", IT + "len(list(itertools.product([1], repeat=10**18))) * x"),
        Case("product repeat=-1", IT + "list(itertools.product([1], repeat=-1))"),
        Case("product of 40 ranges", IT + "len(list(itertools.product(*[range(10)] * 40))) * x"),
        Case("permutations of 100", IT + "len(list(itertools.permutations(range(100)))) * x"),
        Case("permutations r=10**9", IT + "len(list(itertools.permutations(range(3), 10**9))) * x.sum()",
             expect="any", want=0.0),
        Case("combinations that explode", IT + "len(list(itertools.combinations(range(1000), 500))) * x"),
        Case("combinations r=10**9", IT + "len(list(itertools.combinations(range(3), 10**9))) * x.sum()",
             expect="any", want=0.0),
        Case("combinations r=2**62", IT + "len(list(itertools.combinations(range(3), 2**62))) * x.sum()",
             expect="any", want=0.0),
        Case("combinations_with_replacement r=10**9",
             IT + "len(list(itertools.combinations_with_replacement(range(2), 10**9))) * x.sum()"),
        Case("combinations_with_replacement r=10**9 of nothing",
             IT + "len(list(itertools.combinations_with_replacement([], 10**9))) * x.sum()", expect="any", want=0.0),
        Case("combinations r=-1", IT + "list(itertools.combinations(range(3), -1))"),
        Case("combinations r float", IT + "list(itertools.combinations(range(3), 2.0))"),
        Case("combinations r NaN", IT + "list(itertools.combinations(range(3), float('nan')))"),
        Case("cycle without islice", IT + "s = 0\nfor a in itertools.cycle([1, 2]):\n    s = s + a\ns * x"),
        Case("cycle in list", IT + "list(itertools.cycle([x]))"),
        Case("count unbounded", IT + "sum(itertools.count()) * x"),
        Case("count in comprehension", IT + "[i * x for i in itertools.count()]"),
        Case("count with float step", IT + "list(zip(itertools.count(0, 0.5), [x]))"),
        Case("count start huge", IT + "[i * x for i, _ in zip(itertools.count(10**400), [1])][0]", expect="any"),
        Case("repeat without times", IT + "list(itertools.repeat(x))"),
        Case("repeat times 10**18", IT + "sum(itertools.repeat(x, 10**18))"),
        Case("repeat times -5", IT + "sum(itertools.repeat(x, -5)) * x", expect="any", want=[0.0, -0.0, 0.0]),
        Case("islice of count far", IT + "list(itertools.islice(itertools.count(), 10**9, 10**9 + 1))[0] * x"),
        Case("islice of count step huge", IT + "list(itertools.islice(itertools.count(), 0, 10**18, 10**17))[1] * x",
             expect="any"),
        Case("islice of repeat far", IT + "list(itertools.islice(itertools.repeat(x), 10**9, 10**9 + 1))[0]"),
        Case("islice of cycle far", IT + "list(itertools.islice(itertools.cycle([x]), 10**9, 10**9 + 1))[0]"),
        Case("islice negative", IT + "list(itertools.islice(range(3), -1))"),
        Case("islice of repeat times huge, far", IT + "list(itertools.islice(itertools.repeat(x, 10**12), "
             "10**11, 10**11 + 1))[0]"),
        Case("chain.from_iterable of many empties", IT + "list(itertools.chain.from_iterable("
             "itertools.repeat([], 10**9))) + [x]"),
        Case("chain.from_iterable endless", IT + "list(itertools.chain.from_iterable(itertools.repeat([x])))"),
        Case("chain of 10**5 arguments", IT + "sum(itertools.chain(" + ", ".join(["[]"] * 100_000) + ")) * x",
             expect="any", want=[0.0, -0.0, 0.0]),
        Case("zip of repeats far", IT + "len(list(zip(itertools.repeat(1, 10**9), itertools.repeat(2, 10**9)))) * x"),
        Case("zip_longest huge", IT + "len(list(itertools.zip_longest(range(10**9), []))) * x"),
        Case("pairwise of huge", IT + "len(list(itertools.pairwise(range(10**9)))) * x"),
        Case("starmap over repeat", IT + "list(itertools.starmap(lambda a: a * x, itertools.repeat((1,), 10**9)))"),
        Case("accumulate of 10**9 generator", IT + "list(itertools.accumulate(i for i in range(10**9)))[-1] * x"),
        Case("accumulate over range(10**9)", IT + "list(itertools.accumulate(range(10**9)))[-1] * x"),
        Case("accumulate of pow tower", IT + OP + "list(itertools.accumulate([2] * 40, operator.pow))[-1] * x"),
        Case("accumulate initial only", IT + "list(itertools.accumulate([], initial=x))[0]", expect="ok",
             want=[0.5, -1.5, 2.0]),
        Case("enumerate start huge", "[i * x for i, _ in enumerate([1], start=10**400)][0]", expect="any"),
        Case("reduce over empty", FT + OP + "functools.reduce(operator.add, []) * x"),
        Case("reduce over empty generator", FT + OP + "functools.reduce(operator.add, (i for i in [])) * x"),
        Case("reduce over 10**9", FT + OP + "functools.reduce(operator.add, range(10**9)) * x"),
        Case("reduce pow tower", FT + OP + "functools.reduce(operator.pow, [2] * 40) * x"),
        Case("reduce mul of range(1, 10**4)", FT + OP + "functools.reduce(operator.mul, range(1, 10**4)) * x",
             expect="any"),
        Case("reduce lshift huge", FT + OP + "functools.reduce(operator.lshift, [1, 10**9, 10**9]) * x"),
        Case("reduce lshift negative", FT + OP + "functools.reduce(operator.lshift, [1, -1]) * x"),
        Case("reduce truediv by zero", FT + OP + "functools.reduce(operator.truediv, [1, 0]) * x"),
        Case("reduce floordiv by zero", FT + OP + "functools.reduce(operator.floordiv, [1, 0]) * x"),
        Case("reduce mod by zero", FT + OP + "functools.reduce(operator.mod, [1, 0]) * x"),
        Case("reduce pow negative", FT + OP + "functools.reduce(operator.pow, [0, -1]) * x"),
        Case("reduce too many args", FT + OP + "functools.reduce(operator.add, [1], 0, 5) * x"),
        Case("reduce keyword", FT + OP + "functools.reduce(function=operator.add, iterable=[1]) * x"),
        Case("reduce of a non function", FT + "functools.reduce(3, [1, 2]) * x"),
        Case("reduce of a lambda raising", FT + "functools.reduce(lambda a, b: 1 / 0, [1, 2]) * x"),
        Case("reduce of a lambda recursing", FT + "f = lambda a, b: f(a, b)\nfunctools.reduce(f, [1, 2]) * x"),
        Case("math.prod of range(1, 10**5)", "import math\nmath.prod(range(1, 10**5)) * x"),
        Case("math.prod of a pow tower list", "import math\nmath.prod([10**300] * 1000) * x"),
        Case("partial of partial 9,000 in a loop", FT + "def f(a):\n    return a * 2\np = f\n"
             "for i in range(9000):\n    p = functools.partial(p)\np(x).sum()", expect="any",
             want=2 * (0.5 - 1.5 + 2.0)),
        Case("partial of partial 30,000 written", FT + "def f(a):\n    return a * 2\np = f\n"
             + "p = functools.partial(p)\n" * 30_000 + "p(x).sum()", expect="any", want=2 * (0.5 - 1.5 + 2.0)),
        Case("partial nested 3,000 deep", FT + "def f(a):\n    return a * 2\n"
             + "functools.partial(" * 3000 + "f" + ")" * 3000 + "(x).sum()", expect="any", want=2.0),
        Case("partial nested 100,000 deep", FT + "def f(a):\n    return a * 2\n"
             + "functools.partial(" * 100_000 + "f" + ")" * 100_000 + "(x).sum()"),
        Case("partial of itself", FT + "p = functools.partial(lambda a: a)\np = functools.partial(p, p)\np()"),
        Case("partial with **kwargs of a dict", FT + "def f(a, b):\n    return a * b\n"
             "p = functools.partial(f, **{'b': 2.0})\np(x).sum()", expect="any", want=2.0),
        Case("partial with a bad keyword", FT + "def f(a):\n    return a\np = functools.partial(f, zz=1)\np(x).sum()"),
        Case("partial of a string", FT + "functools.partial('abc')(x)"),
        Case("operator.attrgetter dunder", OP + "operator.attrgetter('__class__')(x)"),
        Case("operator.methodcaller system", "import os\n" + OP + "operator.methodcaller('system', 'touch PWNED')(os)"),
        Case("operator.itemgetter huge", OP + "operator.itemgetter(10**9)(x)"),
        Case("operator.itemgetter of nothing", OP + "operator.itemgetter()(x)"),
        Case("itemgetter of 10**5 keys", OP + "operator.itemgetter(" + ", ".join(["0"] * 100_000) + ")(x)[0]",
             expect="any", want=0.5),
        Case("groupby", IT + "list(itertools.groupby([x, x]))"),
        # read since itertools' tee was read (docs/expressions.md): Python's sum of the one item, x itself
        Case("tee", IT + "a, b = itertools.tee([x])\nsum(a)", expect="ok", want=[0.5, -1.5, 2.0]),
        Case("filterfalse", IT + "list(itertools.filterfalse(None, [x]))"),
        Case("functools.lru_cache recursion", FT + "@functools.lru_cache(maxsize=None)\ndef f(n):\n"
             "    return f(n - 1) + 1 if n else 0\nf(10**6) * x"),
        Case("functools.cache", FT + "@functools.cache\ndef f(a):\n    return a\nf(x)", expect="any"),
        Case("functools.wraps", FT + "def g(a):\n    return a\n@functools.wraps(g)\ndef f(a):\n    return a\nf(x)",
             expect="any"),
        Case("import itertools as os", "import itertools as os\nos.system('touch PWNED')"),
        Case("from itertools import *", "from itertools import *\nlist(product([x], [x]))[0][0]"),
        Case("from functools import reduce as eval", "from functools import reduce as eval\neval(lambda a, b: a, [x])",
             expect="any", want=[0.5, -1.5, 2.0]),
        Case("import itertools rebound", IT + "itertools = __import__('os')\nitertools.system('touch PWNED')"),
        Case("map over a lambda with __import__", "list(map(lambda a: " + PWN + ", [1]))"),
        Case("map of 10**5 iterables", "list(map(lambda *a: a[0], " + ", ".join(["[x]"] * 2000) + "))[0].sum()",
             expect="any", want=1.0),
        Case("zip strict mismatch", "list(zip([1, 2], [1], strict=True))"),
        Case("zip strict of a string flag", "list(zip([1], [1], strict='yes'))"),
        Case("enumerate of count", IT + "list(enumerate(itertools.count()))"),
    ]
    return c


def plain_cases() -> list:
    cls = "class A:\n"
    c = [
        Case("__getattr__ loop", cls + "    def __getattr__(self, n):\n        return getattr(self, n)\nA().w * x"),
        Case("__getattribute__", cls + "    def __getattribute__(self, n):\n        return 1\nA().w * x"),
        Case("__eq__ recursion", cls + "    def __eq__(self, o):\n        return self == o\n"
             "a = A()\nx * (1 if a == a else 2)"),
        Case("__lt__ recursion", cls + "    def __lt__(self, o):\n        return o < self\n"
             "a, b = A(), A()\nx * (1 if a < b else 2)"),
        Case("__lt__ recursion in sorted", cls + "    def __lt__(self, o):\n        return o < self\n"
             "sorted([A(), A()])\nx"),
        Case("__iter__ returning self forever", cls + "    def __iter__(self):\n        return self\n"
             "    def __next__(self):\n        return 1\nsum(A()) * x"),
        Case("__iter__ self forever in a loop", cls + "    def __iter__(self):\n        return self\n"
             "    def __next__(self):\n        return x\ns = 0\nfor v in A():\n    s = s + v\ns"),
        Case("__iter__ returning a list", cls + "    def __iter__(self):\n        return [x]\nlist(A())"),
        Case("__iter__ returning iter of itself", cls + "    def __iter__(self):\n        return iter(self)\n"
             "list(A())"),
        Case("__iter__ generator", cls + "    def __iter__(self):\n        yield x\nlist(A())[0]"),
        Case("__next__ raising StopIteration late", cls + "    def __init__(self):\n        self.i = 0\n"
             "    def __iter__(self):\n        return self\n    def __next__(self):\n        self.i += 1\n"
             "        if self.i > 10**6:\n            raise StopIteration\n        return x\nsum(A())"),
        Case("__len__ -1", cls + "    def __len__(self):\n        return -1\nlen(A()) * x"),
        Case("__len__ float", cls + "    def __len__(self):\n        return 2.5\nlen(A()) * x"),
        Case("__len__ huge", cls + "    def __len__(self):\n        return 10**100\nlen(A()) * x"),
        Case("__len__ array", cls + "    def __len__(self):\n        return x\nlen(A()) * x"),
        Case("__len__ recursion", cls + "    def __len__(self):\n        return len(self)\nlen(A()) * x"),
        Case("__len__ bool", cls + "    def __len__(self):\n        return True\nlen(A()) * x", expect="any",
             want=[0.5, -1.5, 2.0]),
        Case("__bool__ returning an int", cls + "    def __bool__(self):\n        return 1\nx if A() else -x"),
        Case("__bool__ returning an array", cls + "    def __bool__(self):\n        return x\nx if A() else -x"),
        Case("__add__ raising", cls + "    def __add__(self, o):\n        raise ValueError('boom')\nA() + x"),
        Case("__add__ returning NotImplemented", cls + "    def __add__(self, o):\n        return NotImplemented\n"
             "A() + x"),
        Case("__add__ recursion", cls + "    def __add__(self, o):\n        return self + o\nA() + x"),
        Case("__radd__ of sum recursion", cls + "    def __radd__(self, o):\n        return o + self\nsum([A()]) * x"),
        Case("__init__ recursion", cls + "    def __init__(self):\n        self.a = A()\nA()\nx"),
        Case("__init__ calling itself", cls + "    def __init__(self):\n        self.__init__()\nA()\nx"),
        Case("__init__ returning a value", cls + "    def __init__(self):\n        return 3\nA()\nx"),
        Case("__init__ raising", cls + "    def __init__(self):\n        raise RuntimeError('no')\nA()\nx"),
        Case("method recursion", cls + "    def f(self, n):\n        return self.f(n + 1)\nA().f(0) * x"),
        Case("mutual method recursion", cls + "    def f(self):\n        return self.g()\n    def g(self):\n"
             "        return self.f()\nA().f() * x"),
        Case("recursion 10**5 deep with a base", cls + "    def f(self, n):\n        return x if n == 0 else "
             "self.f(n - 1)\nA().f(10**5)"),
        Case("__new__", cls + "    def __new__(cls):\n        return " + PWN + "\nA()\nx"),
        Case("__del__", cls + "    def __del__(self):\n        " + PWN + "\nA()\nx"),
        Case("__init_subclass__", cls + "    def __init_subclass__(cls):\n        " + PWN +
             "\nclass B(A):\n    pass\nx"),
        Case("__set_name__", "class D:\n    def __set_name__(self, o, n):\n        " + PWN +
             "\nclass A:\n    d = D()\nx"),
        Case("__class_getitem__", cls + "    def __class_getitem__(cls, k):\n        return " + PWN + "\nA[1]\nx"),
        Case("__slots__", cls + "    __slots__ = ('a',)\n    def __init__(self):\n        self.a = x\nA().a", expect="any",
             want=[0.5, -1.5, 2.0]),
        Case("metaclass", "class M(type):\n    pass\nclass A(metaclass=M):\n    pass\nx"),
        Case("__import__ in the class body", cls + "    v = " + PWN + "\nx"),
        Case("eval in the class body", cls + "    v = eval('1+1')\nx * A.v"),
        Case("exec in a method", cls + "    def f(self):\n        exec('import os')\n        return x\nA().f()"),
        Case("open in __init__", cls + "    def __init__(self):\n        self.f = open('keep.txt', 'w')\nA()\nx"),
        Case("os.system in a method", "import os\n" + cls + "    def f(self):\n        return os.system('touch "
             "PWNED')\nA().f() * x"),
        Case("__import__ in a default argument", cls + "    def f(self, a=" + PWN + "):\n        return x\nA().f()"),
        Case("__import__ in a lambda default", "f = lambda a=" + PWN + ": x\nf()"),
        Case("__import__ in a lambda body", cls + "    g = lambda self: " + PWN + "\nA().g() * x"),
        Case("__import__ in an f-string", cls + "    def f(self):\n        return f'{" + PWN + "}'\nA().f()\nx"),
        Case("f-string of an instance", cls + "    def __repr__(self):\n        return " + PWN +
             "\ns = f'{A()!r}'\nx"),
        Case("f-string format spec", "s = f'{x:{" + PWN + "}}'\nx"),
        Case("__import__ in a decorator", "def deco(f):\n    " + PWN + "\n    return f\n" + cls +
             "    @deco\n    def f(self):\n        return x\nA().f()"),
        Case("decorator is __import__", cls + "    @__import__\n    def os(self):\n        return x\nA().os()"),
        Case("class decorator eval", "@eval\nclass A:\n    pass\nx"),
        Case("getattr with a computed name", cls + "    def __init__(self):\n        self.ab = x\n"
             "a = A()\ngetattr(a, 'a' + 'b')", expect="any", want=[0.5, -1.5, 2.0]),
        Case("getattr with a computed dunder", cls + "    pass\ngetattr(A(), '__cl' + 'ass__')\nx"),
        Case("getattr __globals__", cls + "    def f(self):\n        return x\n"
             "getattr(A.f, '__globals__')['__builtins__']['eval']('1')\nx"),
        Case("getattr to __subclasses__", "getattr(getattr((), '__class__'), '__base__').__subclasses__()\nx"),
        Case("getattr with an array name", cls + "    pass\ngetattr(A(), x)"),
        Case("getattr with a null byte", cls + "    pass\ngetattr(A(), 'a\\x00b', x)", expect="any",
             want=[0.5, -1.5, 2.0]),
        Case("setattr with a computed dunder", cls + "    pass\na = A()\nsetattr(a, '__cl' + 'ass__', int)\nx"),
        Case("setattr dunder method", cls + "    pass\na = A()\nsetattr(a, '__add__', lambda o: " + PWN + ")\na + x"),
        Case("hasattr with 10**6 char name", cls + "    pass\nhasattr(A(), '" + "a" * 1_000 + "') * x",
             expect="any", want=[0.0, -0.0, 0.0]),
        Case("vars / __dict__", cls + "    pass\nA().__dict__\nx"),
        Case("type() making a class", "A = type('A', (), {'f': lambda self: x})\nA().f()"),
        Case("instance dict holding itself", cls + "    def __init__(self):\n        self.d = {}\n"
             "        self.d['me'] = self.d\na = A()\nx"),
        Case("instance holding itself", cls + "    def __init__(self):\n        self.me = self\n"
             "a = A()\na.me.me.me\nx", expect="any", want=[0.5, -1.5, 2.0]),
        Case("copy.deepcopy of a self-holding instance", "import copy\n" + cls + "    def __init__(self):\n"
             "        self.me = self\n        self.w = x\nb = copy.deepcopy(A())\nb.me.w", expect="any",
             want=[0.5, -1.5, 2.0]),
        Case("instance list holding itself", cls + "    def __init__(self):\n        self.l = []\n"
             "        self.l.append(self.l)\na = A()\nx"),
        Case("classes nested 100 deep", "".join("    " * i + f"class C{i}:\n" for i in range(100))
             + "    " * 100 + "v = 1\nx"),
        Case("classes nested 1000 deep", "".join(" " * i + f"class C{i}:\n" for i in range(1000))
             + " " * 1000 + "v = 1\nx"),
        Case("inheritance 2000 deep", "class C0:\n    v = 1\n" + "".join(f"class C{i}(C{i - 1}):\n    pass\n"
                                                                    for i in range(1, 2000)) + "C1999().v * x",
             expect="any", want=[0.5, -1.5, 2.0]),
        Case("inheritance diamond MRO conflict", "class A:\n    pass\nclass B(A):\n    pass\n"
             "class C(A, B):\n    pass\nC()\nx"),
        Case("class 5,000 methods", cls + "".join(f"    def m{i}(self):\n        return x\n" for i in range(5000))
             + "A().m4999()", expect="any", want=[0.5, -1.5, 2.0]),
        Case("dataclass recursion field default", "from dataclasses import dataclass, field\n@dataclass\n"
             "class A:\n    w: object = field(default_factory=lambda: A())\nA()\nx"),
        Case("dataclass default __import__", "from dataclasses import dataclass\n@dataclass\nclass A:\n"
             "    w: int = " + PWN + "\nA()\nx"),
        Case("namedtuple with dunder field", "import collections\nP = collections.namedtuple('P', ['__class__'])"
             "\nP(1)\nx"),
        Case("namedtuple 10**5 fields", "import collections\nP = collections.namedtuple('P', "
             "' '.join(['f%d' % i for i in range(10**5)]))\nx"),
        Case("namedtuple rename with exec text", "import collections\nP = collections.namedtuple('P', "
             "['a; import os'])\nx"),
        Case("__contains__ recursion", cls + "    def __contains__(self, v):\n        return v in self\n"
             "x * (1 if 1 in A() else 2)"),
        Case("__getitem__ recursion", cls + "    def __getitem__(self, k):\n        return self[k]\nA()[0] * x"),
        Case("__getitem__ iteration protocol", cls + "    def __getitem__(self, k):\n        return x\nlist(A())"),
        Case("__index__ huge", cls + "    def __index__(self):\n        return 10**100\nx[A()]"),
        Case("__hash__ raising in a dict", cls + "    def __hash__(self):\n        raise ValueError\n"
             "d = {A(): x}\nx"),
        Case("__call__ recursion", cls + "    def __call__(self, v):\n        return self(v)\nA()(x)"),
        Case("__neg__ raising", cls + "    def __neg__(self):\n        return 1 / 0\n-A() * x"),
        Case("__mul__ returning self 10**5 times", cls + "    def __mul__(self, o):\n        return self\n"
             "a = A()\nfor i in range(10**5):\n    a = a * 2\nx"),
        Case("property recursion", cls + "    @property\n    def w(self):\n        return self.w\nA().w * x"),
        Case("staticmethod of eval", cls + "    f = staticmethod(eval)\nA.f('1') * x"),
        Case("super() loop", "class A:\n    def f(self):\n        return super().f()\nA().f() * x"),
        Case("unicode class and attribute names", "class Ä:\n    def __init__(self):\n        self.ω = x\nÄ().ω",
             expect="any", want=[0.5, -1.5, 2.0]),
        Case("unicode lookalike dunder", "class A:\n    def __іnit__(self):\n        self.w = x\nA().w"),
        Case("string with null bytes in an attribute", cls + "    s = 'a\\x00b'\nx * len(A.s)", expect="any",
             want=[1.5, -4.5, 6.0]),
        Case("string 10**6 long", cls + "    s = 'a' * 10**9\nx * len(A.s)"),
        Case("class attribute written", cls + "    n = 0\nA.n = 1\nx"),
        Case("global in a method", "g = 1\n" + cls + "    def f(self):\n        global g\n        g = 2\n"
             "        return x\nA().f()"),
        Case("nonlocal in a method", cls + "    def f(self):\n        v = 1\n        def g():\n"
             "            nonlocal v\n            v = 2\n        g()\n        return x * v\nA().f()", expect="any",
             want=[1.0, -3.0, 4.0]),
        Case("try/except in a method", cls + "    def f(self):\n        try:\n            return 1 / 0\n"
             "        except Exception:\n            return x\nA().f()", expect="any", want=[0.5, -1.5, 2.0]),
        Case("walrus in a method", cls + "    def f(self):\n        return (y := x) * y\nA().f()", expect="any",
             want=[0.25, 2.25, 4.0]),
        Case("while in __init__ forever", cls + "    def __init__(self):\n        while True:\n"
             "            self.w = x\nA()\nx"),
        Case("yield from in a method", cls + "    def f(self):\n        yield from [x]\nlist(A().f())[0]"),
        Case("async method", cls + "    async def f(self):\n        return x\nA().f()"),
        Case("lambda recursion default", "f = lambda n: f(n + 1)\nf(0) * x"),
    ]
    return c


def special_cases() -> list:
    s = "scipy.special."
    c = []
    for fn, args in (("lpmv", "10**9, 10**9, x / 4"), ("lpmv", "float('nan'), 1, x / 4"),
                     ("lpmv", "1, float('nan'), x / 4"), ("lpmv", "-10**9, 0.5, x / 4"), ("lpmv", "2.5, 1, x / 4"),
                     ("pbdv", "10**9, x"), ("pbdv", "float('nan'), x"), ("pbvv", "-10**9, x"),
                     ("pbwa", "10**9, x"), ("pbwa", "float('inf'), x"),
                     ("wright_bessel", "10**9, 1, abs(x)"), ("wright_bessel", "float('nan'), 1, abs(x)"),
                     ("wright_bessel", "-1, 1, abs(x)"), ("log_wright_bessel", "1, 10**9, abs(x)"),
                     ("ellipj", "x, 10**9"), ("ellipj", "x, float('nan')"), ("ellipj", "x, -10**9"),
                     ("agm", "x, -1"), ("agm", "x, float('nan')"), ("agm", "x, 10**308"),
                     ("voigt_profile", "x, float('nan'), float('nan')"), ("voigt_profile", "x, 0, 0"),
                     ("voigt_profile", "x, -1, 1"), ("gdtrix", "1, 1, x"), ("gdtria", "x, 1, 1"),
                     ("fdtri", "10**9, 10**9, abs(x) / 4"), ("pdtri", "10**9, abs(x) / 4"),
                     ("bdtri", "10**9, 10**9, abs(x) / 4"), ("bdtri", "float('nan'), 3, abs(x) / 4"),
                     ("nbdtri", "-1, 3, abs(x) / 4"), ("tklmbda", "x, float('nan')"), ("tklmbda", "x, 10**9"),
                     ("ber", "x * 1e9"), ("kei", "x * 1e300"), ("airy", "x * 1e9"), ("itstruve0", "x * 1e300"),
                     ("nrdtrimn", "abs(x) / 4, 0, 1"), ("nrdtrisd", "0, abs(x) / 4, 0")):
        c.append(Case(f"{fn}({args})", SS + f"r = {s}{fn}({args})\n"
                      + ("r[0].sum()" if fn in ("pbdv", "pbvv", "pbwa", "ellipj", "airy") else "r.sum()"),
                      expect="any", want=_special(fn, args)))
        c.append(Case(f"check {fn}({args})", SS + f"r = {s}{fn}({args})\n"
                      + ("r[0].sum()" if fn in ("pbdv", "pbvv", "pbwa", "ellipj", "airy") else "r.sum()"),
                      expect="any", command="check"))
    for fn, args in (("bernoulli", "10**9"), ("bernoulli", "-1"), ("bernoulli", "float('nan')"),
                     ("euler", "10**9"), ("euler", "10000"), ("factorial2", "10**9"), ("factorial2", "10**6, exact=True"),
                     ("factorialk", "10**6, 3, exact=True"), ("factorialk", "10**4, 10**9"),
                     ("factorialk", "10**4, 0"), ("factorialk", "5, -1"),
                     ("stirling2", "10**5, 5 * 10**4, exact=True"), ("stirling2", "10**4, 5000"),
                     ("stirling2", "np.arange(10000.0), np.arange(10000.0)"),
                     ("stirling2", "np.full(10**6, 9000.0), np.full(10**6, 4000.0)"),
                     ("jn_zeros", "10**9, 10**9"), ("jn_zeros", "10000, 10000"), ("jn_zeros", "0, 10000"),
                     ("jn_zeros", "-1, 3"), ("jn_zeros", "float('nan'), 3"), ("ai_zeros", "10**9"),
                     ("ai_zeros", "10000"), ("ai_zeros", "0"), ("kelvin_zeros", "10000"), ("ber_zeros", "-5"),
                     ("jnjnp_zeros", "10000"), ("jnyn_zeros", "10000, 10000"), ("y0_zeros", "10000"),
                     ("y1_zeros", "3, complex=True"), ("bernoulli", "'5'"), ("bernoulli", "x")):
        c.append(Case(f"{fn}({args})", "import numpy as np\n" + SS
                      + f"r = {s}{fn}({args})\nr = r[0] if isinstance(r, tuple) else r\n(x * np.sum(r)).sum()",
                      expect="any"))
    c += [
        Case("special with a string order", SS + "scipy.special.lpmv('a', 1, x).sum()"),
        Case("special with a null byte keyword", SS + "scipy.special.lpmv(1, 1, x, **{'\\x00': 1}).sum()"),
        Case("special huge constant argument", SS + "scipy.special.ber(ones(10**6, 10**6)).sum() * x.sum()"),
        Case("special errstate set", SS + "scipy.special.seterr(all='raise')\nscipy.special.ber(x).sum()"),
        Case("special as a value via getattr", SS + "getattr(scipy.special, 'b' + 'er')(x).sum()", expect="any"),
    ]
    return c


def _special(fn, args):
    def want():
        import numpy as np
        import scipy.special
        x = np.array([0.5, -1.5, 2.0])
        with np.errstate(all="ignore"):
            r = eval(f"scipy.special.{fn}({args})", {"scipy": scipy, "x": x, "abs": abs})  # noqa: S307
        r = r[0] if isinstance(r, tuple) else r
        return float(np.sum(r))
    return want


def tree_cases() -> list:
    P = J + "params = {'w': x, 'b': x * 2}\n"
    c = [
        Case("tree_map over a cyclic dict", J + "d = {'a': x}\nd['self'] = d\n"
             "jax.tree_util.tree_map(lambda v: v * 2, d)['a'].sum()"),
        Case("tree_map over a cyclic list", J + "l = [x]\nl.append(l)\njax.tree_util.tree_map(jnp.sin, l)[0].sum()"),
        Case("tree_leaves of a cyclic dict", J + "d = {'a': x}\nd['self'] = d\nsum(jax.tree_util.tree_leaves(d))"),
        Case("ravel_pytree of a cyclic dict", J + "from jax.flatten_util import ravel_pytree\nd = {'a': x}\n"
             "d['self'] = d\nravel_pytree(d)[0].sum()"),
        Case("tree_map over 3,000 nested dicts", J + "d = x\nfor i in range(3000):\n    d = {'k': d}\n"
             "jax.tree_util.tree_leaves(jax.tree_util.tree_map(jnp.sin, d))[0].sum()", expect="any",
             want=lambda: float(__import__("numpy").sin([0.5, -1.5, 2.0]).sum())),
        Case("tree_map over a dict nested 10**5 in text", J + "d = " + "{'k': " * 20_000 + "x" + "}" * 20_000
             + "\njax.tree_util.tree_leaves(d)[0].sum()", expect="any", want=1.0),
        Case("tree_map over 10**5 leaves", J + "d = {str(i): x for i in range(10**5)}\n"
             "sum(jax.tree_util.tree_leaves(d)).sum()"),
        Case("tree_map of a non function", P + "jax.tree_util.tree_map(3, params)['w'].sum()"),
        Case("tree_map of mismatched trees", P + "jax.tree_util.tree_map(jnp.add, params, {'w': x})['w'].sum()"),
        Case("tree_map with is_leaf eval", P + "jax.tree_util.tree_map(jnp.sin, params, is_leaf=eval)['w'].sum()"),
        Case("tree_map with __import__", P + "jax.tree_util.tree_map(lambda v: " + PWN + ", params)"),
        Case("tree_map with a lambda recursing", P + "f = lambda v: f(v)\njax.tree_util.tree_map(f, params)['w']"),
        Case("tree_map with a null-byte key", J + "d = {'a\\x00b': x}\njax.tree_util.tree_map(jnp.sin, d)"
             "['a\\x00b'].sum()", expect="any", want=lambda: float(__import__("numpy").sin([0.5, -1.5, 2.0]).sum())),
        Case("tree_map with unicode keys", J + "d = {'ω': x, '\\u202e': x}\nsum(jax.tree_util.tree_leaves("
             "jax.tree_util.tree_map(jnp.sin, d))).sum()", expect="any",
             want=lambda: 2 * float(__import__("numpy").sin([0.5, -1.5, 2.0]).sum())),
        Case("tree_map with mixed-type keys", J + "d = {1: x, 'a': x}\njax.tree_util.tree_leaves(d)[0].sum()"),
        Case("tree_reduce over empty", J + "jax.tree_util.tree_reduce(jnp.add, {}) * x"),
        Case("tree_reduce of a non function", P + "jax.tree_util.tree_reduce(None, params).sum()"),
        Case("ravel_pytree of huge", J + "from jax.flatten_util import ravel_pytree\n"
             "ravel_pytree({'a': jnp.zeros(10**9), 'b': x})[0].sum()"),
        Case("ravel_pytree of 10**6 x 10**6", J + "from jax.flatten_util import ravel_pytree\n"
             "ravel_pytree({'a': jnp.zeros((10**6, 10**6)), 'b': x})[0].sum()"),
        Case("unravel of a wrong length", J + "from jax.flatten_util import ravel_pytree\n"
             "flat, un = ravel_pytree({'a': x})\nun(jnp.ones(10**9))['a'].sum()"),
        Case("unravel of a string", J + "from jax.flatten_util import ravel_pytree\n"
             "flat, un = ravel_pytree({'a': x})\nun('abc')['a'].sum()"),
        Case("partial in tree_map, partial 5,000 deep", J + "from functools import partial\ndef f(v, c):\n"
             "    return v * c\ng = partial(f, c=2.0)\nfor i in range(5000):\n    g = partial(g)\n"
             "jax.tree_util.tree_map(g, {'a': x})['a'].sum()", expect="any", want=2.0),
        Case("jax.vmap of partial of itself", J + "from functools import partial\np = partial(jnp.sin)\n"
             "p = partial(p, p)\njax.vmap(p)(x).sum()"),
        Case("tree_structure num_leaves of cyclic", J + "d = {'a': x}\nd['b'] = d\n"
             "jax.tree_util.tree_structure(d).num_leaves * x"),
        Case("jax.grad over a pytree with None leaves", J + "def f(p):\n    return jnp.sum(p['w'])\n"
             "jax.grad(f)({'w': x, 'n': None})['w'].sum()", expect="any", want=3.0),
        Case("tree_util.register_pytree_node", J + "jax.tree_util.register_pytree_node(dict, eval, eval)\nx"),
        Case("tree_map over a string leaf", J + "jax.tree_util.tree_map(jnp.sin, {'a': 'abc', 'b': x})['b'].sum()"),
    ]
    return c


def dist_cases() -> list:
    c = [
        Case("Wishart df < dim", D + "Wishart(torch.tensor(1.0), covariance_matrix=torch.eye(3)).log_prob(X)",
             ["X=eye(3)"]),
        Case("Wishart df = dim - 1", D + "Wishart(torch.tensor(2.0), covariance_matrix=torch.eye(3)).log_prob(X)",
             ["X=eye(3)"], "any", want=lambda: _torch_wishart(2.0)),
        Case("Wishart df NaN", D + "Wishart(torch.tensor(float('nan')), covariance_matrix=torch.eye(3)).log_prob(X)",
             ["X=eye(3)"]),
        Case("Wishart df inf", D + "Wishart(torch.tensor(float('inf')), covariance_matrix=torch.eye(3))"
             ".log_prob(X)", ["X=eye(3)"], "any"),
        Case("Wishart df 10**9", D + "Wishart(torch.tensor(1e9), covariance_matrix=torch.eye(3)).log_prob(X)",
             ["X=eye(3)"], "any", want=lambda: _torch_wishart(1e9)),
        Case("Wishart df negative", D + "Wishart(torch.tensor(-5.0), covariance_matrix=torch.eye(3)).log_prob(X)",
             ["X=eye(3)"]),
        Case("Wishart df < dim as an input", D + "Wishart(df, covariance_matrix=torch.eye(3)).log_prob(X)",
             ["X=eye(3)", "df=1.0"]),
        Case("Wishart dim 10**5", D + "Wishart(torch.tensor(1e5 + 1), covariance_matrix=torch.eye(10**5))"
             ".log_prob(X).sum()", ["X=eye(3)"]),
        Case("Wishart dim 10**4 zero matrix", D + "Wishart(torch.tensor(1e4 + 1), covariance_matrix="
             "torch.zeros(10**4, 10**4)).log_prob(X).sum()", ["X=eye(3)"]),
        Case("Wishart no matrix", D + "Wishart(torch.tensor(4.0)).log_prob(X)", ["X=eye(3)"]),
        Case("Wishart two matrices", D + "Wishart(torch.tensor(4.0), covariance_matrix=X, precision_matrix=X)"
             ".log_prob(X)", ["X=eye(3)"]),
        Case("Wishart non-square", D + "Wishart(torch.tensor(4.0), covariance_matrix=torch.ones(2, 3))"
             ".log_prob(X)", ["X=eye(3)"]),
        Case("Wishart of a 0-d matrix", D + "Wishart(torch.tensor(4.0), covariance_matrix=torch.tensor(1.0))"
             ".log_prob(X)", ["X=eye(3)"]),
        Case("Wishart rsample huge", D + "Wishart(torch.tensor(4.0), covariance_matrix=X).rsample((10**9,)).sum()",
             ["X=eye(3)"]),
        Case("Wishart sample shape negative", D + "Wishart(torch.tensor(4.0), covariance_matrix=X)"
             ".rsample((-1,)).sum()", ["X=eye(3)"]),
        Case("Wishart max_try_correction huge", D + "Wishart(torch.tensor(4.0), covariance_matrix=X)"
             ".rsample(max_try_correction=10**9).sum()", ["X=eye(3)"], "any"),
        Case("Wishart validate_args string", D + "Wishart(torch.tensor(4.0), covariance_matrix=X, "
             "validate_args='no').log_prob(X)", ["X=eye(3)"], "any"),
        Case("LKJ dim=10**5", D + "LKJCholesky(10**5, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim=10**9", D + "LKJCholesky(10**9, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim=1", D + "LKJCholesky(1, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim=0", D + "LKJCholesky(0, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim=-3", D + "LKJCholesky(-3, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim float", D + "LKJCholesky(3.5, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim NaN", D + "LKJCholesky(float('nan'), 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ dim as an array", D + "LKJCholesky(L, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ concentration negative", D + "LKJCholesky(3, -1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ concentration NaN", D + "LKJCholesky(3, float('nan')).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ concentration 10**300", D + "LKJCholesky(3, 1e300).log_prob(L).sum()", ["L=eye(3)"], "any"),
        Case("LKJ concentration huge shape", D + "LKJCholesky(3, torch.ones(10**6, 10**6)).log_prob(L).sum()",
             ["L=eye(3)"]),
        Case("LKJ value of the wrong size", D + "LKJCholesky(4, 1.0).log_prob(L).sum()", ["L=eye(3)"]),
        Case("LKJ value not lower", D + "LKJCholesky(3, 1.0).log_prob(L).sum()", ["L=ones((3,3))"]),
        Case("LKJ sample huge", D + "LKJCholesky(3, c).sample((10**9,)).sum()", ["c=1.0"]),
        Case("LKJ 2000 dim", D + "LKJCholesky(2000, c).log_prob(torch.eye(2000)).sum()", ["c=1.0"], "any"),
    ]
    return c


def _torch_wishart(df):
    import torch
    from torch.distributions import Wishart
    return float(Wishart(torch.tensor(df, dtype=torch.float64), covariance_matrix=torch.eye(3, dtype=torch.float64),
                         validate_args=False).log_prob(torch.eye(3, dtype=torch.float64)))


def signal_cases() -> list:
    c = [
        Case("convolve2d of 10**5 x 10**5", SG + "scipy.signal.convolve2d(np.ones((10**5, 10**5)), A).sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d kernel 10**4 x 10**4", SG + "scipy.signal.convolve2d(A, np.ones((10**4, 10**4))).sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d 3000 x 3000 both", SG + "scipy.signal.convolve2d(A, B).sum()",
             ["A=ones((3000,3000))", "B=ones((3000,3000))"]),
        Case("convolve2d 300 x 300 both", SG + "scipy.signal.convolve2d(A, B).sum()",
             ["A=ones((300,300))", "B=ones((300,300))"], "any"),
        Case("fftconvolve 2-d huge", SG + "scipy.signal.fftconvolve(A, np.ones((10**5, 10**5))).sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d mode bogus", SG + "scipy.signal.convolve2d(A, A, mode='bogus').sum()", ["A=ones((3,3))"]),
        Case("convolve2d mode null", SG + "scipy.signal.convolve2d(A, A, mode='full\\x00').sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d boundary wrap", SG + "scipy.signal.convolve2d(A, B, boundary='wrap').sum()",
             ["A=arange(9.0).reshape(3,3)", "B=[[1.,2.],[3.,4.]]"], "any",
             want=lambda: _signal("convolve2d", boundary="wrap")),
        Case("convolve2d boundary symm", SG + "scipy.signal.convolve2d(A, B, boundary='symm', mode='same').sum()",
             ["A=arange(9.0).reshape(3,3)", "B=[[1.,2.],[3.,4.]]"], "any",
             want=lambda: _signal("convolve2d", boundary="symm", mode="same")),
        Case("convolve2d boundary bogus", SG + "scipy.signal.convolve2d(A, A, boundary='bogus').sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d fillvalue NaN", SG + "scipy.signal.convolve2d(A, B, fillvalue=float('nan')).sum()",
             ["A=arange(9.0).reshape(3,3)", "B=[[1.,2.],[3.,4.]]"], "any",
             want=lambda: _signal("convolve2d", fillvalue=float("nan"))),
        Case("convolve2d fillvalue array", SG + "scipy.signal.convolve2d(A, A, fillvalue=A).sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d fillvalue string", SG + "scipy.signal.convolve2d(A, A, fillvalue='1').sum()",
             ["A=ones((3,3))"]),
        Case("convolve2d of 1-d", SG + "scipy.signal.convolve2d(x, x).sum()"),
        Case("convolve2d of 3-d", SG + "scipy.signal.convolve2d(A, A).sum()", ["A=ones((2,2,2))"]),
        Case("convolve2d of empty", SG + "scipy.signal.convolve2d(A, B).sum()", ["A=ones((3,3))", "B=ones((0,3))"]),
        Case("convolve2d valid mismatch", SG + "scipy.signal.convolve2d(A, B, mode='valid').sum()",
             ["A=ones((3,2))", "B=ones((2,3))"]),
        Case("correlate2d huge", SG + "scipy.signal.correlate2d(A, np.ones((10**6, 3))).sum()", ["A=ones((3,3))"]),
        Case("convolve2d keyword junk", SG + "scipy.signal.convolve2d(A, A, **{'in1': A}).sum()", ["A=ones((3,3))"]),
        Case("convolve2d method auto", SG + "scipy.signal.convolve(A, A, method='bogus').sum()", ["A=ones((3,3))"]),
        Case("fftconvolve axes huge", SG + "scipy.signal.fftconvolve(A, A, axes=10**9).sum()", ["A=ones((3,3))"]),
        Case("fftconvolve axes repeated", SG + "scipy.signal.fftconvolve(A, A, axes=(0, 0)).sum()",
             ["A=ones((3,3))"]),
        Case("jax.scipy.signal convolve2d huge", "import jax.scipy.signal\nimport jax.numpy as jnp\n"
             "jax.scipy.signal.convolve2d(A, jnp.ones((10**5, 10**5))).sum()", ["A=ones((3,3))"]),
        Case("jax.scipy.signal precision junk", "import jax.scipy.signal\n"
             "jax.scipy.signal.convolve2d(A, A, precision='bogus').sum()", ["A=ones((3,3))"]),
    ]
    return c


def _signal(fn, **kw):
    import numpy as np
    import scipy.signal
    A = np.arange(9.0).reshape(3, 3)
    B = np.array([[1.0, 2.0], [3.0, 4.0]])
    return float(getattr(scipy.signal, fn)(A, B, **kw).sum())


def all_cases() -> list:
    return fourier_cases() + pyiter_cases() + plain_cases() + special_cases() + tree_cases() + dist_cases() \
        + signal_cases()


# --- running ---------------------------------------------------------------------------------------------------


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
    os.setsid()


def run_case(case: Case, d: str, timeout: float, root: str):
    env = dict(os.environ, PYTHONPATH=root, JAC_DEBUG="1", COLUMNS="100")
    path = os.path.join(d, "case.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(case.text)
    argv = [PY, "-m", "jacobi_cli", case.command, "@case.py", *case.binds, "--json"]
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    start = time.monotonic()
    p = subprocess.Popen(argv, cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                         preexec_fn=_limits)
    rc, peak = None, 0
    while time.monotonic() - start < timeout:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc, peak = os.waitstatus_to_exitcode(status), usage.ru_maxrss
            p.returncode = rc
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    if rc is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.wait()
    out.seek(0)
    err.seek(0)
    os.unlink(path)
    return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), elapsed, peak


def _value(stdout: str):
    try:
        doc = json.loads(stdout)
    except ValueError:
        return None
    return (doc.get("output") or {}).get("value")


def _close(got, want) -> bool:
    import numpy as np
    if callable(want):
        want = want()
    try:
        g = np.asarray(got, dtype=object)
        g = np.vectorize(lambda v: float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf")
                                                                                  .replace("NaN", "nan")))(g)
        return bool(np.allclose(g.astype(float), np.asarray(want, dtype=float), rtol=1e-9, atol=1e-12,
                                equal_nan=True))
    except (TypeError, ValueError):
        return False


def classify(case: Case, rc, stdout, stderr, elapsed, peak, d) -> list:
    if rc is None:
        return ["HANG"]
    found = []
    if "Traceback (most recent call last)" in stderr or rc not in (0, 1, 2):
        found.append("TRACEBACK")
    if os.path.exists(os.path.join(d, "PWNED")):
        found.append("CODE-RAN")
        os.unlink(os.path.join(d, "PWNED"))
    if peak > ADDRESS_LIMIT // 1024 or rc == 2 and "not enough memory" in stderr:
        found.append("OOM")
    if elapsed > SLOW_SECONDS:
        found.append("SLOW")
    if case.expect == "refuse" and rc not in (2,) and rc in (0, 1) or case.expect == "ok" and rc == 2:
        found.append("EXIT")
    if rc == 2:
        lines = [line for line in stderr.splitlines() if line.startswith("jac: error")]
        if len(lines) != 1 or not stderr.startswith("jac: error") or '"error"' not in stdout:
            found.append("MESSAGE")
    if rc == 0 and case.want is not None and case.command == "eval" and not _close(_value(stdout), case.want):
        found.append("WRONG")
    with open(os.path.join(d, "keep.txt")) as f:
        if f.read() != "keep me\n":
            found.append("FILE")
    if set(os.listdir(d)) - {"keep.txt"}:
        found.append("FILE")
    return found or ["OK"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only the cases whose name holds one of these texts (a|b)")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("-v", action="store_true", help="print every case")
    fuzzkit.add_part_flags(parser, verbose=False)
    parser.add_argument("--root", default=ROOT, help="the jac source tree to run (another worktree: a before count)")
    args = parser.parse_args()
    cases = fuzzkit.part_of([c for c in all_cases() if any(k in c.name for k in args.k.split("|"))], args.part, args.sample)
    counts, bad = Counter(), []
    started = time.monotonic()
    d = tempfile.mkdtemp(prefix="hostile37_")
    try:
        for case in cases:
            for name in os.listdir(d):
                p = os.path.join(d, name)
                shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
            with open(os.path.join(d, "keep.txt"), "w") as f:
                f.write("keep me\n")
            rc, out, err, elapsed, peak = run_case(case, d, args.timeout, args.root)
            found = classify(case, rc, out, err, elapsed, peak, d)
            for f in found:
                counts[f] += 1
            line = f"{'/'.join(found):14} rc={rc} {elapsed:5.1f}s {peak // 1024:5d}MB  {case.command} {case.name[:80]}"
            if found != ["OK"]:
                bad.append(line + "\n      " + (err.strip().splitlines() or ["(no stderr)"])[-1][:300])
            if args.v:
                print(line, flush=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"hostile37: {len(cases)} cases in {time.monotonic() - started:.0f} s")
    for name, n in sorted(counts.items()):
        print(f"  {name:16} {n}")
    for line in bad:
        print(line)
    return 1 if set(counts) - {"OK"} else 0


if __name__ == "__main__":
    sys.exit(main())
