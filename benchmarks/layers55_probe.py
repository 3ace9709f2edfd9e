"""Does a write in place after a layer answer where PyTorch answers and refuse where PyTorch's backward raises,
whichever way the text calls the layer? (session 55, lead)

Each program makes ``t = x * 1``, calls a layer on it (``u = layer(t)``) in one of five spellings (made inline,
``nn.ELU(0.5)(t)``; an attribute in a model's ``forward``, ``self.act(h)``; ``net[0](t)`` of a Sequential;
``layers[1](t)`` of a ModuleList; a Sequential called by its name), then writes ``t`` or ``u`` in place and returns
``(u * u).sum()``. PyTorch 2.13 (float64) runs it and differentiates by ``backward``; jac runs it in a real
``jac eval --json`` process. Only whether each answers or raises is compared (jac draws a layer's parameters itself;
tests/test_layers55.py compares the values of the parameter-free ones). Verdicts: AGREE, RAISE-TORCH/ANS-JAC (jac
answers where PyTorch's backward raises), ANS-TORCH/RAISE-JAC (jac refuses), and rcN for any other exit code.

    PYTHONPATH=. python benchmarks/layers55_probe.py [-v] [--part K/N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import runpy
import subprocess
import sys
import tempfile
from collections import Counter

from fuzzkit import add_part_flags, part_of

FORMS = {
    "inline": ("", "{L}(t)"),
    "attribute": ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.act = {L}\n"
                  "    def forward(self, h):\n        return self.act(h)\nmodel = M()\n", "model(t)"),
    "index": ("net = nn.Sequential({L}, nn.Identity())\n", "net[0](t)"),
    "list": ("layers = nn.ModuleList([nn.Identity(), {L}])\n", "layers[1](t)"),
    "named": ("act = {L}\n", "act(t)"),
}
LAYERS = ["nn.ELU(0.5)", "nn.ReLU()", "nn.Sigmoid()", "nn.Tanh()", "nn.Identity()", "nn.Linear(3, 3)", "nn.Softplus()",
          "nn.LayerNorm(3)", "nn.Sequential(nn.ReLU(), nn.Linear(3, 3))", "nn.Sequential(nn.Linear(3, 3), nn.ReLU())",
          "nn.Dropout(0.0)", "nn.GELU()"]
WRITES = ["t.mul_(2)", "u.mul_(2)", "t.add_(1)"]


def programs() -> list:
    return [(f"{form} {layer} {write}", "import torch, torch.nn as nn\n" + before.replace("{L}", layer)
             + f"def f(x):\n    t = x * 1\n    u = {call.replace('{L}', layer)}\n    {write}\n    return (u * u).sum()\n")
            for (form, (before, call)), layer, write in itertools.product(FORMS.items(), LAYERS, WRITES)]


def pytorch(path: str) -> str:
    import torch
    torch.set_default_dtype(torch.float64)
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    try:
        runpy.run_path(path)["f"](x).backward()
    except RuntimeError:
        return "raise"
    return "ans"


def jac(path: str) -> tuple:
    done = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", "@" + path, "x=[1,-2,3]", "--json"],
                          capture_output=True, text=True, timeout=300)
    if done.returncode == 0:
        return "ans", ""
    if done.returncode == 2:
        return "raise", json.loads(done.stdout)["error"]["message"] if done.stdout.startswith("{") else done.stderr
    return f"rc{done.returncode}", done.stderr[-300:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_part_flags(parser)
    args = parser.parse_args()
    counts = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, text) in enumerate(part_of(programs(), args.part, args.sample)):
            path = os.path.join(tmp, f"p{k}.py")
            with open(path, "w") as f:
                f.write(text)
            theirs, (ours, message) = pytorch(path), jac(path)
            verdict = "AGREE" if theirs == ours else f"{theirs.upper()}-TORCH/{ours.upper()}-JAC"
            counts[verdict] += 1
            if args.v or verdict.startswith(("RAISE-TORCH", "ANS-TORCH/RC")):
                print(f"{verdict:24s} {label}  {' '.join(message.split())[:150]}", flush=True)
    print(dict(counts))


if __name__ == "__main__":
    main()
