"""A parameter's values set in the text before its first use (lang/setparams.py, session 52): what is answered
(checked against PyTorch in tests/test_parity_setparams52.py), what is refused and in which words, and how the
values are shown (jac's draws or the text's)."""

import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.5, -1.0, 2.0])
HEAD = "import torch\nimport torch.nn as nn\n"


def refused(text: str) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + text, {"x": X})
    return err.value.message


def made(text: str, seed: int = 0):
    """The values the text makes its inputs (``declared``) and those that are jac's draws."""
    found = api.compile(HEAD + text, {"x": X}, seed=seed)
    return found.declared, found.made.random or set()


def test_constant_values_are_the_texts_and_not_jacs_draws():
    values, random = made("lin = nn.Linear(3, 2)\nnn.init.constant_(lin.weight, 0.5)\nlin(x)")
    np.testing.assert_array_equal(values["lin.weight"], np.full((2, 3), 0.5))
    assert random == {"lin.bias"}  # the bias is still jac's draw
    values, random = made("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.fill_(2.)\n"
                          "    lin.bias.copy_(torch.tensor([1., 2.]))\nlin(x)")
    assert random == set() and values["lin.bias"].tolist() == [1.0, 2.0]
    assert not values["lin.weight"].flags.writeable  # shared by every call of the compiled function


def test_a_scaled_draw_is_still_a_draw():
    values, random = made("lin = nn.Linear(3, 2)\nbefore = 1\nwith torch.no_grad():\n    lin.weight.mul_(0)\nlin(x)")
    assert "lin.weight" in random and not values["lin.weight"].any()


@pytest.mark.parametrize("init,bound", [
    ("nn.init.xavier_uniform_(lin.weight)", math.sqrt(6 / (3 + 4))),
    ("nn.init.xavier_uniform_(lin.weight, gain=nn.init.calculate_gain('tanh'))", 5 / 3 * math.sqrt(6 / 7)),
    ("nn.init.kaiming_uniform_(lin.weight, nonlinearity='relu')", math.sqrt(2) * math.sqrt(3 / 3)),
    ("nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5))", math.sqrt(2 / 6) * math.sqrt(3 / 3)),
    ("nn.init.kaiming_uniform_(lin.weight, mode='fan_out')", math.sqrt(2) * math.sqrt(3 / 4)),
    ("nn.init.uniform_(lin.weight, -0.1, 0.1)", 0.1),
    ("with torch.no_grad():\n    lin.weight.uniform_(-0.2, 0.2)", 0.2),
])
def test_random_initializers_draw_within_pytorchs_bounds(init, bound):
    values, random = made("import math\nlin = nn.Linear(3, 4)\n" + init + "\nlin(x)")
    w = values["lin.weight"]
    assert "lin.weight" in random and w.shape == (4, 3) and np.abs(w).max() <= bound
    assert np.abs(w).max() > bound / 4  # drawn over the whole range, not a constant
    again, _ = made("import math\nlin = nn.Linear(3, 4)\n" + init + "\nlin(x)", seed=1)
    assert not np.array_equal(again["lin.weight"], w)  # --seed draws them


def test_normal_initializers_scale_as_pytorchs():
    values, _ = made("lin = nn.Linear(300, 400)\nnn.init.xavier_normal_(lin.weight)\nnn.init.normal_(lin.bias, 3., 0.5)"
                     "\nlin(x)".replace("lin(x)", "lin.weight.sum()"))
    assert abs(values["lin.weight"].std() / math.sqrt(2 / 700) - 1) < 0.02
    assert abs(values["lin.bias"].mean() - 3) < 0.1 and abs(values["lin.bias"].std() / 0.5 - 1) < 0.15


def test_calculate_gain_is_pytorchs():
    gains = {"'linear'": 1.0, "'sigmoid'": 1.0, "'tanh'": 5 / 3, "'relu'": math.sqrt(2), "'selu'": 0.75,
             "'leaky_relu'": math.sqrt(2 / (1 + 0.01 ** 2)), "'leaky_relu', 0.2": math.sqrt(2 / 1.04)}
    for args, gain in gains.items():
        assert api.evaluate(f"{HEAD}nn.init.calculate_gain({args}) * x[0]", {"x": X}) == gain * 0.5
    assert "Unsupported nonlinearity foo" in refused("torch.nn.init.calculate_gain('foo') * x")


def test_apply_calls_the_function_on_children_first_then_the_module():
    """PyTorch's Module.apply: fn(child) for each child (recursively), then fn(module): the last write wins."""
    text = ("def init(m):\n    if isinstance(m, nn.Linear):\n        nn.init.constant_(m.weight, 1.)\n"
            "    if isinstance(m, nn.Sequential):\n        nn.init.constant_(m[0].weight, 2.)\n"
            "net = nn.Sequential(nn.Linear(3, 2))\nnet.apply(init)\nnet(x)")
    values, _ = made(text)
    np.testing.assert_array_equal(values["net.0.weight"], np.full((2, 3), 2.0))


@pytest.mark.parametrize("text,says", [
    ("lin = nn.Linear(3, 2)\nh = lin(x)\nnn.init.zeros_(lin.bias)\nlin(x) + h",
     "'lin.bias' is written after it was read"),
    ("lin = nn.Linear(3, 2)\nW = lin.weight.T\nwith torch.no_grad():\n    lin.weight.zero_()\nlin(x) + W.sum()",
     "'lin.weight' is written after it was read"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.copy_(x.expand(2, 3))\nlin(x)",
     ".copy_()'s src must be known without the inputs"),
    ("lin = nn.Linear(3, 2)\nnn.init.constant_(lin.weight, x[0])\nlin(x)",
     "nn.init.constant_'s val must be known without the inputs"),
    ("lin = nn.Linear(3, 2)\nlin.weight.copy_(torch.ones(2, 3))\nlin(x)",
     "lin.weight.copy_(...): 'lin.weight' is a leaf that requires grad, and PyTorch refuses"),
    ("lin = nn.Linear(3, 2)\nlin.weight += 1\nlin(x)", "lin.weight += ...: 'lin.weight' is a leaf"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.copy_(torch.ones(3, 3))\nlin(x)",
     "shape (3, 3), which does not broadcast to the parameter's shape (2, 3)"),
    ("lin = nn.Linear(3, 2)\nlin.weight.data = torch.ones(3)\nlin(x)", "PyTorch would change the parameter's shape"),
    ("lin = nn.Linear(3, 2)\nlin.weight = nn.Parameter(torch.ones(3, 2))\nlin(x)",
     "PyTorch would change the parameter's shape"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight[5, 0] = 1.\nlin(x)", "index 5 is out of bounds"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight[x[0]] = 1.\nlin(x)",
     "integer indices and slices known without the inputs"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.fill_(torch.ones(2))\nlin(x)",
     ".fill_() takes a number or a 0-d tensor"),
    ("lin = nn.Linear(3, 2)\nnn.init.kaiming_normal_(lin.bias)\nlin(x)",
     "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"),
    ("lin = nn.Linear(3, 2)\nnn.init.kaiming_uniform_(lin.weight, mode='fan_avg')\nlin(x)", "Mode fan_avg not supported"),
    ("lin = nn.Linear(3, 2)\nnn.init.eye_(lin.bias)\nlin(x)", "Only tensors with 2 dimensions are supported"),
    ("lin = nn.Linear(3, 2)\nnn.init.normal_(lin.weight, generator=g)\nlin(x)", "generator= is PyTorch's random state"),
    ("lin = nn.Linear(3, 2)\nnn.init.zeros_(lin.weight, 1.)\nlin(x)", "takes 0 argument(s) after the tensor"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.clamp_()\nlin(x)",
     "at least one of min and max must not be None"),
    ("lin = nn.Linear(3, 2)\nnn.init.orthogonal_(lin.weight)\nlin(x)", "F.linear(x, W, b) with W=... b=..."),
    ("net = nn.Sequential(nn.Linear(3, 2))\nnet.apply(1)\nnet(x)", "takes one function of the text"),
    # hostile values: each an exit-2 message where NumPy raised (an internal error before these checks)
    ("lin = nn.Linear(3, 2)\nnn.init.constant_(lin.weight, val=[1, 2])\nlin(x)", "'s val: a Python list, where PyTorch"),
    # session 53: a Python list or tuple where PyTorch takes a tensor (its TypeError) was taken as the tensor
    ("lin = nn.Linear(3, 2)\nlin.weight = nn.Parameter([[1., 2., 3.], [4., 5., 6.]])\nlin(x)",
     "nn.Parameter's values: a Python list, where PyTorch takes a tensor"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.bias.copy_([1., 2.])\nlin(x)", "a Python list, where"),
    ("lin = nn.Linear(3, 2)\nv = (1., 2.)\nwith torch.no_grad():\n    lin.bias.mul_(v)\nlin(x)", "a Python tuple, where"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.bias[0:2] = [1., 2.]\nlin(x)", "write torch.tensor([1.0, 2.0])"),
    ("lin = nn.Linear(3, 2)\nlin.bias.data = [1., 2.]\nlin(x)", "a Python list, where PyTorch"),
    ("lin = nn.Linear(3, 2)\nnn.init.uniform_(lin.weight, 1e308, -1e308)\nlin(x)", "found from=1e+308 > to=-1e+308"),
    ("lin = nn.Linear(3, 2)\nnn.init.uniform_(lin.weight, -1e308, 1e308)\nlin(x)", "to-from <= the largest double"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.normal_(0, -1)\nlin(x)", "std >= 0.0"),
    ("lin = nn.Linear(3, 2)\nnn.init.xavier_normal_(lin.weight, gain=-1.)\nlin(x)", "std >= 0.0"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.fill_('a')\nlin(x)", "must be numbers"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.add_(torch.ones(3), alpha=torch.ones(2))\nlin(x)",
     "alpha must be a number"),
    ("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight.mul_(torch.ones(4))\nlin(x)",
     "could not be broadcast together"),
    ("lin = nn.Linear(3, 2)\nlin.weight.data = lin.bias\nlin(x)", "PyTorch would change the parameter's shape"),
    ("lin = nn.Linear(3, 2)\nfc = lin.apply(lambda m: nn.init.zeros_(m.bias))\nlin(x)", "in a def, not a lambda"),
])
def test_what_is_refused_says_why(text, says):
    assert says in refused(text)


def test_a_write_into_an_array_that_is_no_parameter_keeps_its_reading():
    """y = x * 2 is no leaf: y.data.mul_(3) and a write under no_grad into it are lang/nograd.py's (session 53: the
    new values, the old derivative), refused where PyTorch's backward reads a tensor an op saved."""
    assert "bumps no version counter" in refused("y = x * 2\nz = y * y\ny.data.mul_(3)\nz.sum()")
    assert "modified by an inplace operation" in refused("y = x * 2\nz = y * y\nwith torch.no_grad():\n    y.mul_(3)\n"
                                                         "z.sum()")


def test_the_cli_shows_the_values_set():
    from test_newcomer35 import run
    code, out, err = run("eval", HEAD + "lin = nn.Linear(3, 2)\nnn.init.constant_(lin.weight, 0.5)\n"
                         "nn.init.zeros_(lin.bias)\nlin(x)", "x=[1, 2, 3]")
    assert code == 0, err
    assert "lin.weight: matrix (2, 3), requires grad, made in the text:\n    [[0.5 0.5 0.5]" in out
    assert "drawn by jac" not in out and "[3. 3.]" in out



def test_another_parameter_as_it_is_may_be_copied():
    """lin.weight.copy_(lin2.weight) under no_grad: lin2's values as they are then (not a reference: a later write
    into lin2 leaves lin as it was, as PyTorch's copy)."""
    values, random = made("lin = nn.Linear(3, 2)\nlin2 = nn.Linear(3, 2)\nwith torch.no_grad():\n"
                          "    lin.weight.copy_(lin2.weight)\n    lin2.weight.zero_()\nlin(x) + lin2(x)")
    assert not values["lin2.weight"].any() and values["lin.weight"].any()


def test_a_division_by_zero_is_pytorchs_inf_without_a_warning(recwarn):
    values, _ = made("lin = nn.Linear(3, 2)\nwith torch.no_grad():\n    lin.weight /= 0\nlin(x)")
    assert np.isinf(values["lin.weight"]).all() and not [w for w in recwarn if "divide" in str(w.message)]
