"""``*seq`` and ``**mapping`` in a call (session 54, lang/starred.py): the call written out with what they hold,
for library functions, the text's functions and methods, module constructors and calls, functools.partial; Python's
own errors where Python raises; an ``inplace=True`` that arrives through a name or an unpacking is the written one
(session 55; refused in session 54). Each value is checked against NumPy's own arithmetic, each Jacobian
against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.5, -1.0, 2.0])
HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport functools\n"
OUTER = np.outer(X, X)

ANSWERED = {
    "a def's **kw passed on to torch.sum": ("def f(x, **kw):\n    return torch.sum(x * 2, **kw)\n"
                                           "y = f(x.reshape(3, 1) * x, dim=0)", lambda x: (2 * np.outer(x, x)).sum(0)),
    "a dict display": ("y = torch.sum(x.reshape(3, 1) * x, **{'dim': 1, 'keepdim': True})",
                       lambda x: np.outer(x, x).sum(1, keepdims=True)),
    "dict(...) of a name": ("kw = dict(dim=0, keepdim=True)\ny = torch.sum(x.reshape(3, 1) * x, **kw)",
                            lambda x: np.outer(x, x).sum(0, keepdims=True)),
    "*args and **kw passed on": ("def inner(a, b):\n    return a ** 2 - b\ndef outer(*args, **kw):\n"
                                 "    return inner(*args, **kw)\ny = outer(x, b=x.cos())", lambda x: x ** 2 - np.cos(x)),
    "None collected into **kw": ("def f(x, **kw):\n    return torch.clamp(x, **kw)\ny = f(x, min=None, max=1.0)",
                                 lambda x: np.minimum(x, 1.0)),
    "a bool collected into **kw": ("def f(x, **kw):\n    return x.reshape(3, 1).mean(**kw) * x\n"
                                   "y = f(x * x, dim=1, keepdim=True)", lambda x: (x * x).reshape(3, 1) * x * x),
    "a string into **kw": ("t = torch.tensor([1., 0., 2.])\ny = F.mse_loss(x, t, **{'reduction': 'sum'})",
                           lambda x: ((x - np.array([1.0, 0.0, 2.0])) ** 2).sum()),
    "a bool of a tuple into a def": ("def g(a, flag):\n    return a if isinstance(flag, bool) else -a\n"
                                     "t = (True,)\ny = g(x, *t)", lambda x: x),
    "a tuple in a tuple stays a tuple": ("t = ((3,),)\ndef g(a, s):\n    return a.reshape(s + (1,))\ny = g(x, *t)",
                                         lambda x: x.reshape(3, 1)),
    "a tuple in a dict stays a tuple": ("kw = {'s': (3,)}\ndef g(a, s):\n    return a.reshape(s + (1,))\n"
                                        "y = g(x, **kw)", lambda x: x.reshape(3, 1)),
    "a dict's keys, as Python iterates it": ("d = {'a': x, 'b': x}\ndef g(*ks):\n    return len(ks) * x\ny = g(*d)",
                                             lambda x: 2 * x),
    "a module's constructor given **kwargs": ("class M(nn.Module):\n    def __init__(self, **kwargs):\n"
                                              "        super().__init__()\n        self.lin = nn.Linear(3, 2, **kwargs)\n"
                                              "        nn.init.constant_(self.lin.weight, 0.5)\n"
                                              "    def forward(self, x):\n        return torch.tanh(self.lin(x))\n"
                                              "m = M(bias=False)\ny = m(x)",
                                              lambda x: np.tanh(np.full((2, 3), 0.5) @ x)),
    "a model made from a config dict": ("class Net(nn.Module):\n    def __init__(self, d_in, d_out, act=True):\n"
                                        "        super().__init__()\n        self.fc = nn.Linear(d_in, d_out)\n"
                                        "        nn.init.constant_(self.fc.weight, 0.3)\n        nn.init.zeros_(self.fc.bias)\n"
                                        "        self.act = act\n    def forward(self, x):\n        h = self.fc(x)\n"
                                        "        return torch.tanh(h) if self.act else h\n"
                                        "net = Net(**{'d_in': 3, 'd_out': 2, 'act': False})\ny = net(x)",
                                        lambda x: np.full((2, 3), 0.3) @ x),
    "nn.LayerNorm(3, **kw)": ("kw = dict(eps=1e-3, elementwise_affine=False)\nln = nn.LayerNorm(3, **kw)\ny = ln(x)",
                              lambda x: (x - x.mean()) / np.sqrt(x.var() + 1e-3)),
    "a module called with **opts": ("class M(nn.Module):\n    def forward(self, x, scale=1.0, square=False):\n"
                                    "        return x * x * scale if square else x * scale\nm = M()\n"
                                    "opts = {'scale': 3.0, 'square': True}\ny = m(x, **opts)", lambda x: 3 * x * x),
    "a method with *parts, **opts": ("class M(nn.Module):\n    def helper(self, a, b, power=2):\n"
                                     "        return a ** power + b\n    def forward(self, x):\n"
                                     "        return self.helper(*(x, x.sin()), **{'power': 3})\nm = M()\ny = m(x)",
                                     lambda x: x ** 3 + np.sin(x)),
    "functools.partial(f, **kw)": ("def f(x, scale=1.0, shift=0.0):\n    return x * scale + shift\n"
                                   "kw = {'scale': 2.0}\ng = functools.partial(f, **kw)\ny = g(x, shift=1.0)",
                                   lambda x: 2 * x + 1),
    "functools.partial(f, *t)": ("def f(a, b):\n    return a * b\nt = (x.sin(),)\ng = functools.partial(f, *t)\ny = g(x)",
                                 lambda x: np.sin(x) * x),
    "super().__init__(*args, **kw) of a plain class": ("class Base:\n    def __init__(self, a, b=1.0):\n"
                                                       "        self.a = a\n        self.b = b\nclass P(Base):\n"
                                                       "    def __init__(self, *args, **kw):\n"
                                                       "        super().__init__(*args, **kw)\n"
                                                       "    def f(self, x):\n        return x * self.a + self.b\n"
                                                       "p = P(2.0, b=3.0)\ny = p.f(x)", lambda x: 2 * x + 3),
}


def _central(text: str, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        columns.append((np.asarray(api.evaluate(text, {"x": x + step}))
                        - np.asarray(api.evaluate(text, {"x": x - step}))) / (2 * h))
    return np.stack(columns, axis=-1)


# session 55 (h55-inplace): inplace=True through an unpacking or a parameter is the written inplace=True (they were
# refused here in session 54): t itself is written, t * x + u reads relu(t) twice
_RELU = lambda x: np.maximum(2 * x - 0.5, 0) * x + np.maximum(2 * x - 0.5, 0)  # noqa: E731
ANSWERED.update({
    "inplace=True through **": ("t = x * 2 - 0.5\nkw = {'inplace': True}\nu = F.relu(t, **kw)\ny = t * x + u", _RELU),
    "inplace=True through *": ("t = x * 2 - 0.5\nu = F.relu(t, *[True])\ny = t * x + u", _RELU),
    "inplace=True through a parameter": ("t = x * 2 - 0.5\ndef f(a, fl):\n    return F.relu(a, inplace=fl)\n"
                                         "u = f(t, True)\ny = t * x + u", _RELU),
})


@pytest.mark.parametrize("text, want", ANSWERED.values(), ids=ANSWERED.keys())
def test_an_unpacking_in_a_call_is_the_call_written_out(text, want):
    value = np.asarray(api.evaluate(HEAD + text, {"x": X}))
    np.testing.assert_allclose(value, want(X), rtol=1e-12, atol=1e-14)
    jacobian = api.jacobian(HEAD + text, {"x": X})["x"]
    np.testing.assert_allclose(jacobian, _central(HEAD + text, X), rtol=1e-6, atol=1e-8)


REFUSED = {
    "a keyword given twice": ("y = torch.sum(x, dim=0, **{'dim': 0})",
                              "torch.sum() got multiple values for keyword argument 'dim'"),
    "a keyword of **kw given twice": ("def f(x, **kw):\n    return torch.sum(x, dim=0, **kw)\ny = f(x, dim=0)",
                                      "got multiple values for keyword argument 'dim'"),
    "a module's keyword given twice": ("lin = nn.Linear(3, 2, bias=True, **{'bias': False})\ny = lin(x)",
                                       "nn.Linear() got multiple values for keyword argument 'bias'"),
    "a key that is no string": ("y = torch.sum(x, **{1: 0})", "keywords must be strings"),
    "** of an array": ("y = torch.sum(x, **x)", "argument after ** must be a mapping, not Tensor"),
    "** of a tuple": ("y = torch.sum(x, **(1, 2))", "argument after ** must be a mapping, not tuple"),
    "* of a number": ("y = torch.sum(*2.0)", "argument after * must be an iterable"),
    "* of None": ("y = torch.sum(x, *None)", "argument after * must be an iterable, not NoneType"),
    "a positional and a keyword for one parameter": ("def g(a, b):\n    return a * b\ny = g(x, x, **{'b': x})",
                                                     "g() got multiple values for argument 'b'"),
    "inplace= of an array": ("t = x * 2 - 1\nu = F.relu(t, inplace=x.sum() > 0)\ny = t * x + u",
                             "inplace= is given an array"),
}


@pytest.mark.parametrize("text, message", REFUSED.values(), ids=REFUSED.keys())
def test_pythons_errors_of_an_unpacking(text, message):
    with pytest.raises(JacError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        api.evaluate(HEAD + text, {"x": X})


def test_the_command_line_refuses_a_repeated_keyword_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    path = tmp_path / "f.py"
    path.write_text(HEAD + "def f(x, **kw):\n    return torch.sum(x, dim=0, **kw)\ny = f(x, dim=0)\n")
    result = CliRunner().invoke(app, ["eval", f"@{path}", "x:3"])
    assert result.exit_code == 2
    assert "got multiple values for keyword argument 'dim'" in result.output
    assert "Traceback" not in result.output


def test_a_strings_characters_unpacked_as_python_iterates_it():
    np.testing.assert_allclose(api.evaluate(HEAD + "def g(*a):\n    return len(a) * x\ny = g(*'abc')", {"x": X}), 3 * X)
    with pytest.raises(JacError, match="writes out up to 10,000 arguments"):
        api.evaluate(HEAD + "def g(*a):\n    return len(a) * x\ny = g(*'" + "a" * 10_001 + "')", {"x": X})
