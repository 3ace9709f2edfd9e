"""Session 35: plain Python classes, the rest (lang/plain.py): lists held by instances (``self.history = []`` then
``self.history.append(x)``, changed as Python's one list that every instance attribute and name holding it sees),
operator dunders resolved as Python resolves them (``__add__`` then ``__radd__``; an array on the left refused, as
NumPy and PyTorch read it differently), ``len()`` / ``abs()`` / ``obj[i]``, ``getattr`` / ``setattr`` /
``hasattr``, NamedTuple classes and ``collections.namedtuple`` (tuples with named fields, ``_replace``),
``dataclasses.replace``. Every snippet of benchmarks/classes35_probe.py is checked against Python itself running the
same text (NumPy: values and central differences; torch: torch.autograd.functional.jacobian); where Python raises,
jac refuses with Python's exception name."""

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

_PROBE = pathlib.Path(__file__).parent.parent / "benchmarks" / "classes35_probe.py"
_spec = importlib.util.spec_from_file_location("classes35_probe", _PROBE)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

NP = probe.NP
X = {"x": [0.3, -1.2, 2.0]}


@pytest.mark.parametrize("case", sorted(k for k in probe.CASES if k not in probe.RAISES))
def test_probe_snippet_agrees_with_python(case):
    text, env = probe.CASES[case]
    if text.startswith(probe.TORCH):
        pytest.importorskip("torch")
    value = api.evaluate(text, env)
    jac = api.jacobian(text, env)
    want, jacs = probe.reference(text, env)
    assert np.shape(value) == np.shape(want)
    assert np.allclose(value, want, rtol=1e-12, atol=1e-12)
    for k in env:
        assert np.allclose(jac[k], jacs[k], rtol=1e-6, atol=1e-7), k


@pytest.mark.parametrize("case", sorted(probe.RAISES))
def test_where_python_raises_jac_refuses_with_its_exception(case):
    text, env = probe.CASES[case]
    with pytest.raises(Exception) as raised:
        probe.python(text, env)
    assert type(raised.value).__name__ == probe.RAISES[case]
    with pytest.raises(JacError) as caught:
        api.evaluate(text, env)
    assert probe.RAISES[case] in str(caught.value)


def _agrees(text, env=X):
    value = api.evaluate(NP + text, env)
    want = np.asarray(probe.python(NP + text, env), dtype=float)
    assert np.shape(value) == np.shape(want) and np.allclose(value, want, rtol=1e-12, atol=1e-12)
    jac = api.jacobian(NP + text, env)
    for k, v in env.items():
        num = central_jacobian(lambda u: np.asarray(probe.python(NP + text, {**env, k: u}), dtype=float),
                               np.array(v, dtype=float))
        assert np.allclose(jac[k], num, atol=1e-6)


# --- lists held by instances: Python's one list, whoever changes it ---------------------------------------------------
SHARED = {
    "init_list_then_append_outside": "class O:\n    def __init__(self, l):\n        self.l = l\nl = [x]\no = O(l)\n"
                                     "l.append(2 * x)\nsum(o.l) * len(o.l)",
    "append_inside_alias_outside": "class O:\n    def __init__(self):\n        self.h = []\n    def add(self, v):\n"
                                   "        self.h.append(v)\no = O()\nh = o.h\no.add(x)\no.add(x ** 2)\nsum(h) + len(h)",
    "list_write_outside": "class O:\n    def __init__(self, l):\n        self.l = l\nl = [x, x]\no = O(l)\n"
                          "l[0] = np.sin(x)\no.l[0] + o.l[1]",
    "function_appends_attribute": "class O:\n    def __init__(self):\n        self.h = []\ndef push(l, v):\n"
                                  "    l.append(v)\no = O()\npush(o.h, x)\npush(o.h, 3 * x)\nsum(o.h)",
    "two_instances_share": "class O:\n    def __init__(self, l):\n        self.l = l\n    def add(self, v):\n"
                           "        self.l.append(v)\nl = []\na = O(l)\nb = O(l)\na.add(x)\nb.add(2 * x)\n"
                           "sum(a.l) + len(b.l) + sum(l)",
    "pop": "class O:\n    def __init__(self):\n        self.h = [x, 2 * x, 3 * x]\no = O()\nv = o.h.pop()\n"
           "w = o.h.pop(0)\nv + w + sum(o.h)",
    "item_written": "class O:\n    def __init__(self):\n        self.h = [x, 2 * x]\no = O()\no.h[0] = np.cos(x)\n"
                    "o.h[1] += x\no.h[0] + o.h[1]",
    "extend_reverse": "class O:\n    def __init__(self):\n        self.h = []\no = O()\no.h.extend([x, 2 * x])\n"
                      "o.h.reverse()\no.h[0] - o.h[1]",
    "deepcopy_makes_new_lists": "import copy\nclass O:\n    def __init__(self):\n        self.h = [x]\no = O()\n"
                                "o2 = copy.deepcopy(o)\no2.h.append(2 * x)\nlen(o.h) * x + sum(o2.h)",
    "copy_shares_the_list": "import copy\nclass O:\n    def __init__(self):\n        self.h = [x]\no = O()\n"
                            "o2 = copy.copy(o)\no2.h.append(2 * x)\nlen(o.h) * x + sum(o2.h)",
    "plus_equals_extends_in_place": "class O:\n    def __init__(self):\n        self.h = [x]\n    def add(self, v):\n"
                                    "        self.h += [v]\no = O()\nh = o.h\no.add(x)\no.h += [np.sin(x)]\n"
                                    "len(h) * x + sum(o.h)",
    "plus_makes_a_new_list": "class O:\n    def __init__(self):\n        self.h = [x]\no = O()\nh = o.h\n"
                             "o.h = o.h + [2 * x]\nlen(h) * x + sum(o.h)",
    "tuple_plus_equals": "class O:\n    def __init__(self):\n        self.s = (2, 3)\no = O()\no.s += (1,)\n"
                         "np.ones(o.s).sum() * x",
    "clear_seen_by_alias": "class O:\n    def __init__(self):\n        self.h = [x]\n    def reset(self):\n"
                           "        self.h.clear()\no = O()\nh = o.h\no.reset()\nlen(h) + x",
}


@pytest.mark.parametrize("case", sorted(SHARED))
def test_a_list_an_instance_holds_is_pythons_one_list(case):
    _agrees(SHARED[case])


def test_a_list_of_numbers_an_instance_holds_stays_a_list():
    # was a silent wrong answer: [4, 5] (the arrays added) where Python concatenates to [1, 2, 3]
    text = "class P:\n    def __init__(self, c):\n        self.c = c\nP([1.0, 2.0]).c + [3.0]"
    assert api.evaluate(text, {}).tolist() == [1.0, 2.0, 3.0]
    for sequence in ("class O:\n    def __init__(self, s):\n        self.s = s\no = O((2, 3))\n"
                     "np.ones(o.s + (1,)).sum() * x",
                     "class C:\n    dims = (2, 3)\nnp.zeros(C.dims + (1,)).size * x",
                     "from dataclasses import dataclass\n@dataclass\nclass D:\n    s: tuple = (2, 2)\n"
                     "np.ones(D().s + (3,)).sum() * x",
                     "class P:\n    def f(self, s):\n        return s + (1,)\nnp.ones(P().f((2, 2))).sum() * x",
                     "class P:\n    def __init__(self):\n        self.s = (2, 2)\n    def dims(self):\n"
                     "        return self.s\nnp.ones(P().dims() + (3,)).sum() * x",
                     "class P:\n    @property\n    def dims(self):\n        return (2, 2)\n"
                     "np.ones(P().dims + (3,)).sum() * x",
                     "class P:\n    def __init__(self, c):\n        self.c = c\n    def __call__(self, t):\n"
                     "        return sum(self.c[k] * t ** k for k in range(len(self.c)))\nP([1.0, 2.0, 3.0])(x)"):
        _agrees(sequence)


REFUSED = {
    "write_into_an_appended_array": "class O:\n    def __init__(self):\n        self.h = []\no = O()\ny = x * 2\n"
                                    "o.h.append(y)\ny[0] = 5.0\no.h[0]",
    "list_inside_a_tuple_attribute": "class O:\n    def __init__(self, l):\n        self.t = (l, 1)\nl = [x]\no = O(l)\n"
                                     "l.append(x)\nlen(o.t[0]) * x",
    "dict_inside_a_list_attribute": "class O:\n    def __init__(self, d):\n        self.l = [d]\nd = {'w': x}\n"
                                    "o = O(d)\nd['w'] = 2 * x\no.l[0]['w']",  # Python's o.l[0] is d, changed
    "numbers_list_appended": "class P:\n    def __init__(self):\n        self.c = [1.0, 2.0]\np = P()\np.c.append(3.0)\n"
                             "len(p.c) * x",
    "numbers_list_written": "class P:\n    def __init__(self):\n        self.c = [1.0, 2.0]\np = P()\np.c[0] = 4.0\n"
                            "p.c[0] * x",
    "array_plus_instance": "class D:\n    def __init__(self, v):\n        self.v = v\n    def __radd__(self, o):\n"
                           "        return D(self.v + o)\n(np.ones(3) + D(x)).v",
    "numpy_scalar_plus_instance": "class D:\n    def __init__(self, v):\n        self.v = v\n    def __radd__(self, o):\n"
                                  "        return D(self.v + o)\n(np.float64(2.0) + D(x)).v",
    "subclass_reflected_first": "class A:\n    def __init__(self, v):\n        self.v = v\n    def __add__(self, o):\n"
                                "        return A(self.v + o.v)\nclass B(A):\n    def __radd__(self, o):\n"
                                "        return B(self.v * 10 + o.v)\n(A(x) + B(x)).v",
    "namedtuple_field_tuple": "from typing import NamedTuple\nclass Sh(NamedTuple):\n    dims: tuple\n"
                              "np.ones(Sh((2, 3)).dims + (1,)).sum() * x",
    "namedtuple_replace_through_a_name": "from typing import NamedTuple\nclass S(NamedTuple):\n    a: float\n"
                                         "r = S(x)._replace\nr(a=2 * x).a",
    "namedtuple_init": "from typing import NamedTuple\nclass S(NamedTuple):\n    a: float\n    def __init__(self):\n"
                       "        pass\nx",
    "mutable_default_of_init_changed": "class O:\n    def __init__(self, h=[]):\n        self.h = h\n"
                                       "    def add(self, v):\n        self.h.append(v)\na = O()\na.add(x)\nb = O()\n"
                                       "len(b.h) * x",
    "mutable_default_returned_changed": "def f(h=[]):\n    return h\nl = f()\nl.append(x)\nlen(f()) * x",
    "numbers_list_times_equals": "class P:\n    def __init__(self):\n        self.c = [1.0]\np = P()\np.c *= 2\n"
                                 "len(p.c) * x",
    "in_place_setitem": "class A:\n    def __setitem__(self, i, v):\n        pass\nx",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_where_jac_cannot_follow_python(case):
    with pytest.raises(JacError) as caught:
        api.evaluate(NP + REFUSED[case], X)
    assert "Traceback" not in str(caught.value)


# --- operators ----------------------------------------------------------------------------------------------------------
DUAL = """
class Dual:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def __add__(self, o):
        return Dual(self.a + o.a, self.b + o.b) if isinstance(o, Dual) else Dual(self.a + o, self.b)
    def __radd__(self, o):
        return self + o
    def __mul__(self, o):
        return Dual(self.a * o.a, self.a * o.b + self.b * o.a) if isinstance(o, Dual) else Dual(self.a * o, self.b * o)
    def __rmul__(self, o):
        return self * o
    def __truediv__(self, o):
        return Dual(self.a / o.a, (self.b * o.a - self.a * o.b) / o.a ** 2)
    def __neg__(self):
        return Dual(-self.a, -self.b)
    def __sub__(self, o):
        return self + (-o)
    def __rsub__(self, o):
        return (-self) + o
"""


def test_a_dual_number_class_gives_the_derivative_it_computes():
    text = NP + DUAL + "d = Dual(x, np.ones(3))\nr = (3 * d * d - d / Dual(x + 2, np.ones(3)) + 1 - d).b\nr"
    _agrees(text[len(NP):])
    x = np.array(X["x"])
    assert np.allclose(api.evaluate(text, X), 6 * x - 2 / (x + 2) ** 2 - 1, rtol=1e-12)


def test_dual_class_against_torch_autograd():
    torch = pytest.importorskip("torch")
    text = "import torch\n" + DUAL + "d = Dual(x, torch.ones(3))\nr = 2 * d * d * d - 5 * d\nr.a.sum() + (r.b ** 2).sum()"
    env = {"x": [0.5, -1.0, 1.5]}
    t = torch.tensor(env["x"], dtype=torch.float64, requires_grad=True)
    out = probe.python(text, env, {"x": t})
    (grad,) = torch.autograd.grad(out, [t])
    assert np.allclose(api.evaluate(text, env), out.item(), rtol=1e-12)
    assert np.allclose(api.jacobian(text, env)["x"], grad.numpy(), rtol=1e-12)


def test_hessian_through_operator_methods_is_the_difference_of_the_jacobian():
    text = NP + DUAL + "d = Dual(x, x ** 2)\nr = d * d * 2.0 - d\nnp.sum(r.a * r.b)"
    h = api.hessian(text, X)["x", "x"]
    num = central_jacobian(lambda u: api.jacobian(text, {"x": u})["x"], np.array(X["x"]))
    assert np.allclose(h, num, atol=1e-5) and np.allclose(h, h.T, atol=1e-10)


def test_operator_methods_named_by_python_when_missing():
    base = "class D:\n    def __init__(self, v):\n        self.v = v\n"
    for tail, words in (("(-D(x)).v", "TypeError: bad operand type for unary -: 'D'"),
                        ("D(x)[0]", "TypeError: 'D' object is not subscriptable"),
                        ("len(D(x)) * x", "TypeError: object of type 'D' has no len()"),
                        ("(D(x) * 2).v", "TypeError: unsupported operand type(s) for *: 'D' and 'int'"),
                        ("abs(D(x)).v", "TypeError: bad operand type for abs(): 'D'")):
        with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
            api.evaluate(NP + base + tail, X)


def test_in_place_operator_uses_iadd_else_add():
    _agrees(DUAL + "d = Dual(x, np.ones(3))\nd += 1.0\nd += Dual(x, x)\nd.a * d.b")
    _agrees("class A:\n    def __init__(self, v):\n        self.v = v\n    def __iadd__(self, o):\n"
            "        self.v = self.v + 2 * o\n        return self\na = A(x)\nb = a\na += 1.0\nb.v")


def test_len_getitem_and_slices():
    _agrees("class S:\n    def __init__(self, v):\n        self.v = v\n    def __len__(self):\n        return self.v.shape[0]\n"
            "    def __getitem__(self, i):\n        return self.v[i]\ns = S(x)\ns[1:] * len(s) + s[0]")


# --- getattr / setattr / hasattr -----------------------------------------------------------------------------------------
def test_getattr_setattr_hasattr_as_python():
    _agrees("class A:\n    def __init__(self, x):\n        self.a = x\n        self.b = 2 * x\nobj = A(x)\nout = 0\n"
            "for n in ('a', 'b'):\n    out = out + getattr(obj, n)\nsetattr(obj, 'c', out ** 2)\n"
            "obj.c + getattr(obj, 'zz', 1.5) + hasattr(obj, 'c') + hasattr(obj, 'zz')")
    _agrees("class A:\n    @property\n    def p(self):\n        return 2.0\n    def m(self):\n        return 1.0\n"
            "a = A()\nx * (hasattr(a, 'p') + hasattr(a, 'm') + hasattr(A, 'm') + hasattr(a, 'q'))")
    with pytest.raises(JacError, match="FrozenInstanceError"):
        api.evaluate(NP + "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass P:\n    a: float\n"
                     "p = P(1.0)\nsetattr(p, 'a', 2.0)\np.a * x", X)


# --- NamedTuple, namedtuple, _replace, dataclasses.replace ---------------------------------------------------------------
NT = "from typing import NamedTuple\nclass S(NamedTuple):\n    a: np.ndarray\n    b: np.ndarray\n"


@pytest.mark.parametrize("tail", [
    "s = S(x, 2 * x)\nout = s[0] * len(s)\nfor v in s:\n    out = out + v\nout",
    "a, b = S(x, np.sin(x))\na * b",
    "s = S(x, x)\nx * isinstance(s, S) + x * isinstance(s, tuple)",
    "def f(s):\n    return s._replace(b=s.a * s.b)\nf(S(x, x + 1)).b",
    "s = S(b=x, a=np.exp(x))\ns.a - s.b",
])
def test_namedtuple_reads_as_pythons_tuple(tail):
    _agrees(NT + tail)


def test_namedtuple_defaults_and_dataclass_replace_run_again():
    _agrees("from collections import namedtuple\nP = namedtuple('P', 'a b c', defaults=(1.0, 2.0))\np = P(x)\n"
            "p.a * p.b + p.c")
    _agrees("import dataclasses\n@dataclasses.dataclass\nclass D:\n    a: np.ndarray\n    b: float = 0.0\n"
            "    def __post_init__(self):\n        self.c = self.a * 2\nd = D(x)\ne = dataclasses.replace(d, a=np.sin(x))\n"
            "e.c + d.c")


@pytest.mark.parametrize("tail, words", [
    ("S(x, x)._replace(c=x).a", "ValueError: Got unexpected field names"),
    ("S(x).a", "TypeError: S() missing required argument: 'b'"),
    ("s = S(x, x)\ns.a = x\ns.a", "AttributeError: can't set attribute"),
])
def test_namedtuple_errors_are_pythons(tail, words):
    with pytest.raises(JacError) as caught:
        api.evaluate(NP + NT + tail, X)
    assert words in str(caught.value)


def test_namedtuple_carry_of_lax_scan_against_jax():
    jax = pytest.importorskip("jax")
    text = ("import jax\nimport jax.numpy as jnp\nfrom typing import NamedTuple\nclass C(NamedTuple):\n"
            "    h: jnp.ndarray\n    n: float\ndef body(c, v):\n    return C(jnp.tanh(c.h + v), c.n + 1.0), c.h.sum()\n"
            "c, ys = jax.lax.scan(body, C(x, 0.0), jnp.ones((2, 3)))\nc.h * c.n + ys.sum()")
    env = {"x": [0.3, -1.2, 2.0]}
    with jax.enable_x64(True):
        import jax.numpy as jnp
        f = lambda u: probe.python(text, env, {"x": u})  # noqa: E731
        want = np.asarray(f(jnp.array(env["x"], dtype=jnp.float64)))
        jac = np.asarray(jax.jacrev(f)(jnp.array(env["x"], dtype=jnp.float64)))
    assert np.allclose(api.evaluate(text, env), want, rtol=1e-12)
    assert np.allclose(api.jacobian(text, env)["x"], jac, rtol=1e-10)


def test_cli_refusal_names_pythons_exception_at_the_place():
    text = NP + "class A:\n    def __init__(self, x):\n        self.x = x\na = A(x)\na.y"
    run = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", text, "x=[1,2]"], capture_output=True,
                         text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "AttributeError: 'A' object has no attribute 'y'" in run.stderr
    lines = run.stderr.splitlines()
    caret = next(i for i, line in enumerate(lines) if line.strip() == "^")
    assert lines[caret - 1][lines[caret].index("^"):].startswith("y")


def test_isinstance_of_pythons_numbers_and_sequences():
    # a Python sequence jac holds as one array was no tuple or list for isinstance (a silent False before)
    for text in ("l = [1.0, 2.0]\nisinstance(l, list) * x", "s = x.shape\nisinstance(s, tuple) * x",
                 "def f(v):\n    return isinstance(v, tuple)\nf((1.0, 2.0)) * x",
                 "isinstance(x, (tuple, list)) * x", "l = [1.0, 2.0]\nisinstance(l, tuple) * x",
                 "class P:\n    pass\n(isinstance(P(), (int, float)) + isinstance(3, int) + isinstance(3, float)"
                 " + isinstance(2.5, float) + isinstance(x, float) + isinstance(True, int)) * x"):
        _agrees(text)
    with pytest.raises(JacError, match="NumPy's scalar"):
        api.evaluate(NP + "isinstance(np.sum(x), float) * x", X)


def test_a_method_aliased_in_the_class_body():
    _agrees("class A:\n    def __init__(self, v):\n        self.v = v\n    def __mul__(self, k):\n"
            "        return A(self.v * k)\n    __rmul__ = __mul__\n    scale = __mul__\n(3 * A(x)).v + A(x).scale(2.0).v")


def test_jac_diff_of_a_namedtuple_text_finds_its_free_symbol():
    from jacobi_cli.tools.symbolic import free_names

    text = probe.CASES["namedtuple_state_loop"][0]
    # the import's NamedTuple and the class's field x were taken for jac diff's symbols (x then missing)
    assert free_names(text, set()) == ["x"]
    run = subprocess.run([sys.executable, "-m", "jacobi_cli", "diff", text, "--wrt", "x"], capture_output=True,
                         text=True)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
