"""Session 55 (h55-inplace): an ``inplace=`` flag that arrives through a name, and ``*`` / ``**`` in calls read off
their syntax.

1. ``F.relu(t, inplace=flag)`` with the flag a local, a parameter or its default, a ``**kw`` dict, ``*[flag]``,
   ``functools.partial``, a model's ``self.inplace`` set in ``__init__``, ``nn.ReLU(inplace=flag)``: True is the
   written ``inplace=True`` (the same alias, view and saved-tensor handling, checked against PyTorch 2.13 and against
   jac's own answer for the written True), False the call without it. A flag jac cannot know when reading the text
   (a tensor's truth, a number) is refused: it was read as no flag, silently.
2. ``jax.grad(f, **kw)``, ``torch.func.jacrev(f, **kw)``, ``jax.vmap(f, **kw)``, ``torch.func.vmap``,
   ``nn.init.constant_(w, **kw)``, ``operator.add(*t)``: written out (they were refused).
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import _torch_function, torch64  # noqa: F401 - the fixture is used by name

X = np.array([0.5, -1.0, 2.0, -0.3])
HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport functools\n"

# the ways a flag reaches F.relu: (lines before the body, the call of ``{a}``); {v} is True or False
ROUTES = {
    "written": ("", "F.relu({a}, inplace={v})"),
    "a local": ("fl = {v}", "F.relu({a}, inplace=fl)"),
    "by position": ("fl = {v}", "F.relu({a}, fl)"),
    "**kw": ("kw = {{'inplace': {v}}}", "F.relu({a}, **kw)"),
    "**dict()": ("kw = dict(inplace={v})", "F.relu({a}, **kw)"),
    "*[flag]": ("", "F.relu({a}, *[{v}])"),
    "a parameter": ("def g(a, fl):\n    return F.relu(a, inplace=fl)", "g({a}, {v})"),
    "a default": ("def g(a, inplace={v}):\n    return F.relu(a, inplace=inplace)", "g({a})"),
    "**kwargs passed on": ("def g(a, **opts):\n    return F.relu(a, **opts)", "g({a}, inplace={v})"),
    "functools.partial": ("act = functools.partial(F.relu, inplace={v})", "act({a})"),
    "nn.ReLU(inplace=fl)": ("fl = {v}\nact = nn.ReLU(inplace=fl)", "act({a})"),
    "nn.ReLU(**kw)": ("kw = {{'inplace': {v}}}\nact = nn.ReLU(**kw)", "act({a})"),
    "nn.ReLU(inplace=fl)(t)": ("fl = {v}", "nn.ReLU(inplace=fl)({a})"),
}
SCENES = {  # {c}: the call on t; {x}: on the input x
    "a fresh tensor": "t = x * 2 - 0.5\nu = {c}\ny = t * x + u",
    "an alias, the call a statement": "t = x * 2 - 0.5\nz = t\n{c}\ny = z * x + t",
    "an alias, the call assigned": "t = x * 2 - 0.5\nz = t\nu = {c}\ny = z * x + u",
    "an alias, the call inside an expression": "t = x * 2 - 0.5\nz = t\nw = {c}.sum()\ny = z * w",
    "a slice of it": "t = x * 2 - 0.5\nv = t[0:2]\n{c}\ny = v * x[0:2]",
    "a view of it": "t = x * 2 - 0.5\nv = t.view(2, 2)\n{c}\ny = (v * 3).sum() * x + t",
    "exp saved its result": "t = x * 2 - 0.5\ns = t.exp()\n{c}\ny = s.sum() + t.sum() * x",
    "a product saved it": "t = x * 2 - 0.5\ns = t * t\n{c}\ny = s.sum() + t.sum() * x",
    "a sum saved nothing": "t = x * 2 - 0.5\ns = t + 1\n{c}\ny = s * t",
    "written after relu": "t = x * 2 - 0.5\nu = {c}\nt.mul_(2)\ny = u.sum() * x",
    "the input itself": "u = {x}\ny = u * 2",
}


def text(route: str, scene: str, flag: bool) -> str:
    """The program ``y = h(x)``: a def holding the flag's route and the scene."""
    before, call = ROUTES[route]
    value = str(flag)
    body = (before.format(v=value) + "\n" if before else "") + SCENES[scene].format(
        c=call.format(a="t", v=value), x=call.format(a="x", v=value))
    *lines, last = body.split("\n")
    return HEAD + "def h(x):\n" + "".join(f"    {line}\n" for line in "\n".join(lines).split("\n")) + \
        f"    return {last[4:]}\ny = h(x)"


def outcome(code: str):
    """jac's value and Jacobian, or its refusal's message."""
    try:
        return np.asarray(api.evaluate(code, {"x": X})), api.jacobian(code, {"x": X})["x"]
    except JacError as err:
        return err.message


def torch_outcome(torch, code: str):
    """PyTorch's value and Jacobian, or what it raises (forward or backward)."""
    f = _torch_function(torch, code, ["x"])
    try:
        x = torch.tensor(X, requires_grad=True)
        value = f(x).detach().numpy()
        return value, torch.autograd.functional.jacobian(f, torch.tensor(X, requires_grad=True)).numpy()
    except RuntimeError as err:
        return str(err)


CASES = [(r, s, v) for r in ROUTES if r != "written" for s in SCENES for v in (True, False)]


@pytest.mark.parametrize("route, scene, flag", CASES, ids=[f"{r}-{s}-{v}" for r, s, v in CASES])
def test_a_flag_through_a_name_is_the_written_flag_and_pytorchs(torch64, route, scene, flag):
    code = text(route, scene, flag)
    ours, written, theirs = outcome(code), outcome(text("written", scene, flag)), torch_outcome(torch64, code)
    if isinstance(theirs, str):  # PyTorch raises: jac refuses (in PyTorch's words, or saying what it cannot follow)
        assert isinstance(ours, str), (code, theirs)
        return
    if isinstance(ours, str):  # a refusal only where the written flag is refused too, in the same words
        assert isinstance(written, str), (code, ours)
        assert ours.split(":")[-1] == written.split(":")[-1] or "statement's value is never used" in ours, \
            (code, ours, written)
        return
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-14, err_msg=code)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12, err_msg=code)


def test_every_route_answers_as_pytorch_for_an_alias():
    """The flag's routes, each answered (session 54 refused them, or read False where a local held it): the alias
    sees the write, relu(t) read twice."""
    r = np.maximum(2 * X - 0.5, 0)
    for route in ROUTES:
        code = text(route, "an alias, the call assigned", True)
        np.testing.assert_allclose(api.evaluate(code, {"x": X}), r * X + r, rtol=1e-12, err_msg=route)
        code = text(route, "an alias, the call assigned", False)
        np.testing.assert_allclose(api.evaluate(code, {"x": X}), (2 * X - 0.5) * X + r, rtol=1e-12, err_msg=route)


# each function jac reads with inplace=, its flag a local: the alias written, what relu's kin keep for backward
FUNCTIONS = {"relu": "", "relu6": "", "elu": ", alpha=0.5", "selu": "", "celu": ", alpha=0.5",
             "leaky_relu": ", negative_slope=0.1", "hardtanh": ", min_val=-0.5, max_val=0.5",
             "threshold": ", threshold=0.2, value=-1.0", "hardsigmoid": "", "hardswish": "", "silu": "", "mish": "",
             "dropout": ", p=0.0, training=False", "alpha_dropout": ", p=0.0, training=False",
             "rrelu": ", training=False"}
KIN = [(f, s, v) for f in FUNCTIONS for s in ("an alias, the call assigned", "a product saved it", "written after relu")
       for v in (True, False)]


@pytest.mark.parametrize("fname, scene, flag", KIN, ids=[f"{f}-{s}-{v}" for f, s, v in KIN])
def test_each_function_with_inplace_reads_its_flag_through_a_name(torch64, fname, scene, flag):
    def program(spelled):
        call = f"F.{fname}({{a}}{FUNCTIONS[fname]}, inplace={spelled})"
        body = (f"fl = {flag}\n" if spelled == "fl" else "") + SCENES[scene].format(c=call.format(a="t"),
                                                                                     x=call.format(a="x"))
        *lines, last = body.split("\n")
        return HEAD + "def h(x):\n" + "".join(f"    {line}\n" for line in lines) + f"    return {last[4:]}\ny = h(x)"
    code = program("fl")
    ours, written, theirs = outcome(code), outcome(program(str(flag))), torch_outcome(torch64, code)
    if isinstance(theirs, str):
        assert isinstance(ours, str), (code, ours)
        return
    if isinstance(ours, str):  # refused as the written flag is (F.dropout(t, training=False) is t itself; a
        assert ours == written, (code, ours, written)  # statement's value unused)
        return
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-14, err_msg=code)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6 if fname == "celu" else 1e-10, atol=1e-7, err_msg=code)


def test_the_model_of_the_report_answers(torch64):
    """``self.inplace`` set in ``__init__``, as torchvision's modules hold it; the write into the argument followed."""
    model = ("class M(nn.Module):\n    def __init__(self, inplace=True):\n        super().__init__()\n"
             "        self.inplace = inplace\n    def forward(self, x):\n"
             "        return F.relu(x, inplace=self.inplace).sum()\n")
    for end in ("y = M()(x * 1)", "y = M(False)(x * 1)", "t = x * 1\nz = t\ns = M(False)(t)\ny = z * s"):
        code = HEAD + model + end
        theirs = torch_outcome(torch64, code)
        ours = outcome(code)
        assert not isinstance(ours, str), (end, ours)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    # a write into forward's parameter that a name outside holds: refused, as the written inplace=True is
    end = "t = x * 1\nz = t\ns = M()(t)\ny = z * s"
    assert outcome(HEAD + model + end) == outcome(HEAD + model.replace("self.inplace).sum", "True).sum") + end)


@pytest.mark.parametrize("flag", ["x.sum() > 0", "bool(x[0] > 0)", "x[0]", "x.sum().item() > 0"])
def test_a_flag_jac_cannot_know_when_reading_is_refused(flag):
    """PyTorch tests the flag's truth (x.sum() > 0 True here: t written, z sees it); jac read it as no flag."""
    for call in (f"F.relu(t, inplace={flag})", f"functools.partial(F.relu, inplace={flag})(t)"):
        code = HEAD + f"def h(x):\n    t = x * 2 - 0.5\n    z = t\n    u = {call}\n    return z * x + u\ny = h(x)"
        with pytest.raises(JacError, match="inplace= is given an array"):
            api.evaluate(code, {"x": X})


@pytest.mark.parametrize("flag", ["1", "0", "'yes'", "''", "n", "None"])
def test_a_number_or_a_string_known_when_reading_is_read_by_its_truth(torch64, flag):
    """PyTorch's ``if inplace:``: 1 and 'yes' write into t (z sees it), 0, '' and None do not."""
    for call in (f"F.relu(t, inplace={flag})", f"F.relu(t, {flag})", f"functools.partial(F.relu, inplace={flag})(t)"):
        code = HEAD + (f"def h(x):\n    n = 1\n    t = x * 2 - 0.5\n    z = t\n    u = {call}\n    return z * x + u\n"
                       "y = h(x)")
        ours, theirs = outcome(code), torch_outcome(torch64, code)
        assert not isinstance(ours, str), (call, ours)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, err_msg=call)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, err_msg=call)


def test_a_bool_named_is_pythons_bool_and_is_no_output():
    assert np.allclose(api.evaluate("import torch\nfl = True\ny = x if fl else -x", {"x": X}), X)
    with pytest.raises(JacError, match="'y' must be assigned an array expression"):
        api.evaluate("import torch\nz = x * 2\ny = True", {"x": X})


def test_inplace_false_keeps_what_the_call_keeps(torch64):
    """``F.elu(t, inplace=False)`` keeps t for backward as ``F.elu(t)`` does (it kept nothing: a later write into t
    was answered where PyTorch's backward raises)."""
    for spelled in ("inplace=False", "inplace=fl", "**kw"):
        code = HEAD + ("def h(x):\n    fl = False\n    kw = {'inplace': False}\n    t = x * 2 - 0.5\n"
                       f"    u = F.elu(t, {spelled})\n    t.add_(1)\n    return u * x\ny = h(x)")
        assert "modified by an inplace operation" in torch_outcome(torch64, code)
        with pytest.raises(JacError, match="modified by an inplace operation"):
            api.jacobian(code, {"x": X})


def test_the_command_line_answers_the_report_and_refuses_a_tensor_flag(tmp_path):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    path = tmp_path / "m1.py"
    path.write_text(HEAD + "class M(nn.Module):\n    def __init__(self, inplace=True):\n        super().__init__()\n"
                    "        self.inplace = inplace\n    def forward(self, x):\n"
                    "        return F.relu(x, inplace=self.inplace).sum()\ndef f(x):\n    return M()(x * 1)\n")
    result = CliRunner().invoke(app, ["eval", f"@{path}", "x=[1,-2,3]"])
    assert result.exit_code == 0, result.output
    assert "4." in result.output
    path.write_text(HEAD + "t = x * 2\nz = t\nu = F.relu(t, inplace=x.sum() > 0)\ny = z + u\n")
    result = CliRunner().invoke(app, ["eval", f"@{path}", "x=[1,-2,3]"])
    assert result.exit_code == 2 and "inplace= is given" in result.output and "Traceback" not in result.output


# --- 2. '*' and '**' in calls read off their syntax --------------------------------------------------------------

TORCH_TRANSFORMS = {
    "torch.func.jacrev(f, **kw)": ("def f(a, b):\n    return torch.sin(a) * b\nkw = {'argnums': 1}\n"
                                   "y = torch.func.jacrev(f, **kw)(x, x * 2)"),
    "torch.func.jacrev(f, **{...}) of a tuple": ("def f(a, b):\n    return torch.sin(a) * b\n"
                                                 "y = torch.func.jacrev(f, **{'argnums': (0, 1)})(x, x * 2)[1]"),
    "torch.func.jacfwd(f, **dict())": ("def f(a, b):\n    return torch.sin(a) * b\nkw = dict(argnums=0)\n"
                                       "y = torch.func.jacfwd(f, **kw)(x, x * 2)"),
    "torch.func.grad(f, *args)": ("def f(a, b):\n    return (torch.sin(a) * b).sum()\nargs = (1,)\n"
                                  "y = torch.func.grad(f, *args)(x, x * 2)"),
    "torch.func.vmap(f, **kw)": ("def f(a):\n    return torch.sin(a) * a.sum()\nkw = {'in_dims': 0}\n"
                                 "y = torch.func.vmap(f, **kw)(x.reshape(2, 2))"),
    "torch.func.vmap(f, *opts)": ("def f(a):\n    return torch.sin(a) * a.sum()\nopts = (1,)\n"
                                  "y = torch.func.vmap(f, *opts)(x.reshape(2, 2))"),
    "nn.init.constant_(w, **kw)": ("lin = nn.Linear(4, 2)\nkw = {'val': 0.5}\nnn.init.constant_(lin.weight, **kw)\n"
                                   "nn.init.zeros_(lin.bias)\ny = torch.tanh(lin(x))"),
    "nn.init.constant_(w, *args)": ("lin = nn.Linear(4, 2)\nargs = (0.25,)\nnn.init.constant_(lin.weight, *args)\n"
                                    "nn.init.constant_(lin.bias, **{'val': -0.5})\ny = torch.tanh(lin(x))"),
    "operator.add(*t)": "import operator\nt = (x, torch.sin(x))\ny = operator.add(*t)",
    "operator.mul(*(...))": "import operator\ny = operator.mul(*(x, torch.cos(x)))",
    "operator.truediv(*[...])": "import operator\ny = operator.truediv(*[torch.sin(x), 2.0])",
    "operator.neg(*[x])": "import operator\ny = operator.neg(*[x])",
    "operator.getitem(*t)": "import operator\nt = (x, 1)\ny = operator.getitem(*t) * x",
}


@pytest.mark.parametrize("body", TORCH_TRANSFORMS.values(), ids=TORCH_TRANSFORMS.keys())
def test_an_unpacking_in_a_transform_an_initializer_an_operator_is_pytorchs(torch64, body):
    code = HEAD + body
    theirs = torch_outcome(torch64, code)
    assert not isinstance(theirs, str), theirs
    ours = outcome(code)
    assert not isinstance(ours, str), ours
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12)


JAX_TRANSFORMS = {
    "jax.grad(f, **kw)": ("def f(a, b):\n    return jnp.sum(jnp.sin(a) * b)\nkw = {'argnums': 1}\n"
                          "y = jax.grad(f, **kw)(x, x * 2)"),
    "jax.jacrev(f, *args)": ("def f(a, b):\n    return jnp.sin(a) * b\nargs = (1,)\n"
                             "y = jax.jacrev(f, *args)(x, x * 2)"),
    "jax.jacfwd(f, **{...})": ("def f(a, b):\n    return jnp.sin(a) * b\n"
                               "y = jax.jacfwd(f, **{'argnums': 0})(x, x * 2)"),
    "jax.vmap(f, **kw)": ("def f(a):\n    return jnp.sin(a) * a.sum()\nkw = {'in_axes': 0}\n"
                          "y = jax.vmap(f, **kw)(x.reshape(2, 2))"),
    "jax.vmap(f, **dict(in_axes=1))": ("def f(a):\n    return jnp.sin(a) * a.sum()\nkw = dict(in_axes=1, out_axes=0)\n"
                                       "y = jax.vmap(f, **kw)(x.reshape(2, 2))"),
    "jax.value_and_grad(f, **kw)": ("def f(a):\n    return jnp.sum(jnp.sin(a) ** 2)\nkw = {'has_aux': False}\n"
                                    "y = jax.value_and_grad(f, **kw)(x)[1]"),
}


@pytest.mark.parametrize("body", JAX_TRANSFORMS.values(), ids=JAX_TRANSFORMS.keys())
def test_an_unpacking_in_a_jax_transform_is_jaxs(body):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    code = "import jax\nimport jax.numpy as jnp\n" + body
    ours = outcome(code)
    assert not isinstance(ours, str), ours
    env = {"jax": jax, "jnp": jnp}
    *lines, last = body.split("\n")
    exec("\n".join(lines), env)  # noqa: S102 - the test's own text, under JAX

    def y(x):
        return eval(last[4:], {**env, "x": x})  # noqa: S307
    np.testing.assert_allclose(ours[0], np.asarray(y(jnp.asarray(X))), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1], np.asarray(jax.jacrev(y)(jnp.asarray(X))), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("body, message", [
    ("def f(a):\n    return torch.sin(a).sum()\ndef opts():\n    return {}\ny = torch.func.grad(f, **opts())(x)",
     "jac writes out a '**' of a dict written there or held by a name"),
    ("def f(a):\n    return torch.sin(a).sum()\ny = torch.func.grad(f, **x)(x)", "argument after ** must be a mapping"),
    ("def f(a):\n    return torch.sin(a).sum()\nkw = {'argnums': 0}\ny = torch.func.grad(f, argnums=0, **kw)(x)",
     "got multiple values for keyword argument 'argnums'"),
    ("import operator\nn = 2.0\ny = operator.add(*n)", "argument after * must be an iterable"),
    ("lin = nn.Linear(4, 2)\nkw = {'value': 0.5}\nnn.init.constant_(lin.weight, **kw)\ny = lin(x)", "value"),
])
def test_an_unpacking_jac_cannot_write_out_is_refused_in_pythons_words(body, message):
    with pytest.raises(JacError, match=message.replace("(", r"\(").replace("*", r"\*")):
        api.evaluate(HEAD + body, {"x": X})


@pytest.mark.parametrize("made", ["relu_m = nn.ReLU(**kw)", "relu_m = functools.partial(F.relu, **kw)"])
def test_a_write_through_a_dict_under_no_grad_into_a_saved_tensor_is_refused(torch64, made):
    """nograd53_fuzz --through-names on main: sigmoid keeps its result t, which relu_m writes under no_grad; the text's
    walk for writes did not count a '**' as one, so nothing was registered as saved and jac answered."""
    code = HEAD + (f"kw = {{'inplace': True}}\n{made}\nt = torch.sigmoid(x)\nwith torch.no_grad():\n"
                   "    u = relu_m(t)\nt = t + x\ny = (t ** 3).sum()")
    assert "modified by an inplace operation" in torch_outcome(torch64, code)
    with pytest.raises(JacError, match="modified by an inplace operation"):
        api.jacobian(code, {"x": X})
