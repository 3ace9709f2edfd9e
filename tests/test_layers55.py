"""A layer called by other than its own name keeps for backward what PyTorch's keeps (session 55, lead).

``kept_by_layer`` registered what a module keeps for its derivative (its input where its first module multiplies it by
a weight or normalises it, its result where its last module keeps its result) only for a layer called by its own name
(``fc(h)``). Called as ``nn.ELU(0.5)(t)``, ``self.act(t)`` in a model's ``forward``, ``net[0](t)`` or ``layers[1](t)``,
nothing was registered, so a later write into ``t`` (or into the result) was answered where PyTorch's backward raises
("modified by an inplace operation"). ``call_module`` now leaves the layer it ran and the result it gave
(``_Lowering.layer_called``) for ``saved_by`` / ``saved_parts``, whichever way the text spelled the callee. Writes
that PyTorch's backward does not reach (a layer that keeps nothing of what is written) stay answered, as PyTorch's."""

import numpy as np
import pytest

from test_parity_grad24 import assert_agrees_with_pytorch, assert_refused_as_pytorch_raises, torch64  # noqa: F401

X = np.array([0.3, -0.7, 1.2])
HEAD = "import torch\nimport torch.nn as nn\n"
CALLS = {  # how the text calls the layer L: what comes before, the call of t
    "inline": ("", "{L}(t)"),
    "attribute": ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.act = {L}\n"
                  "    def forward(self, h):\n        return self.act(h)\nmodel = M()\n", "model(t)"),
    "index": ("net = nn.Sequential({L}, nn.Identity())\n", "net[0](t)"),
    "list": ("layers = nn.ModuleList([nn.Identity(), {L}])\n", "layers[1](t)"),
    "sequential": ("net = nn.Sequential({L})\n", "net(t)"),
}
# a layer, and the writes after it that PyTorch's backward refuses (it keeps t, or its result u)
RAISES = {"nn.ELU(0.5)": ("t.mul_(2)", "t.add_(1)"), "nn.Sigmoid()": ("u.mul_(2)",), "nn.Tanh()": ("u.mul_(2)",),
          "nn.GELU()": ("t.mul_(2)",), "nn.Softplus()": ("t.add_(1)",),
          "nn.Sequential(nn.Tanh(), nn.ReLU())": ("u.mul_(2)",)}
PARAMETERS = {"nn.Linear(3, 3)": ("t.mul_(2)",), "nn.LayerNorm(3)": ("t.add_(1)",),
              "nn.Sequential(nn.Linear(3, 3), nn.ReLU())": ("t.mul_(2)", "u.mul_(2)")}
# writes PyTorch's backward never reads: answered, as PyTorch answers them
ANSWERS = {"nn.ELU(0.5)": ("u.mul_(2)",), "nn.Sigmoid()": ("t.mul_(2)", "t.add_(1)"), "nn.Tanh()": ("t.mul_(2)",),
           "nn.ReLU()": ("t.mul_(2)",), "nn.GELU()": ("u.mul_(2)",)}


def _text(form: str, layer: str, write: str) -> str:
    before, call = CALLS[form]
    return HEAD + before.replace("{L}", layer) + f"t = x * 1\nu = {call.replace('{L}', layer)}\n{write}\n(u * u).sum()"


def _cases(table: dict, forms=tuple(CALLS)) -> list:
    return [pytest.param(_text(form, layer, write), id=f"{form}-{layer}-{write}")
            for form in forms for layer, writes in table.items() for write in writes]


@pytest.mark.parametrize("text", _cases(RAISES))
def test_a_kept_tensor_written_is_refused_as_pytorch_raises(torch64, text):
    assert_refused_as_pytorch_raises(torch64, text, X)


@pytest.mark.parametrize("text", _cases(PARAMETERS, ("attribute", "index", "list", "sequential")))
def test_a_layer_with_parameters_keeps_its_input(torch64, text):
    assert_refused_as_pytorch_raises(torch64, text, X)  # PyTorch's parameters are not jac's: it raises alike


@pytest.mark.parametrize("text", _cases(ANSWERS))
def test_a_write_backward_never_reads_is_answered(torch64, text):
    assert_agrees_with_pytorch(torch64, text, {"x": X})


def test_the_state_of_a_recurrent_cell_called_through_an_attribute(torch64):
    """``h, c = self.cell(x)`` (saved_parts): the LSTM cell keeps its input; a write into it after the call raises."""
    text = HEAD + ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                   "        self.cell = nn.LSTMCell(3, 2)\n    def forward(self, h):\n        return self.cell(h)\n"
                   "model = M()\nt = x.reshape(1, 3) * 1\nh, c = model(t)\nt.mul_(2)\n(h * c).sum()")
    assert_refused_as_pytorch_raises(torch64, text, X)
