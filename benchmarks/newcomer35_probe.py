"""Session 35 (h35-newcomer): the snippets a newcomer pastes from PyTorch's tutorials, and the command lines a
newcomer types while following README.md, run through jac and judged.

Snippets: each runs in PyTorch (float64) and through ``jac vjp TEXT --json``; the output's value and every leaf's
``.grad`` are compared (rtol 1e-10). A snippet is AGREE, REFUSED (exit 2, one message; PyTorch ran it or raised),
MISMATCH (a silent wrong answer), ANSWERED where PyTorch raised, or INTERNAL (exit 70 or a traceback); a
snippet drawing its leaf with torch.randn is RUNS when jac answers (its numbers are not PyTorch's).
Command lines: each is run and its first stderr line checked for words a newcomer needs (CONFUSING when missing).

    PYTHONPATH=. python benchmarks/newcomer35_probe.py            # this checkout
    python benchmarks/newcomer35_probe.py --jac /work/main         # another checkout's jacobi_cli ("before")
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

HEAD = "import torch\nimport torch.nn.functional as F\n"
X2 = "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"

SNIPPETS = {
    "tutorial_ones": "x = torch.ones(2, 2, requires_grad=True)\ny = x + 2\nz = y * y * 3\nout = z.mean()\n"
                     "out.backward()\nprint(x.grad)\n",
    "tutorial_while": "x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\ny = x * 2\n"
                      "while y.data.norm() < 1000:\n    y = y * 2\nv = torch.tensor([0.1, 1.0, 0.0001])\n"
                      "y.backward(v)\nprint(x.grad)\n",
    "tutorial_while_randn": "x = torch.randn(3, requires_grad=True)\ny = x * 2\nwhile y.data.norm() < 1000:\n"
                            "    y = y * 2\ny.backward(torch.tensor([0.1, 1.0, 0.0001]))\n",
    "retain_grad": X2 + "y = x * 2\ny.retain_grad()\nz = (y ** 2).sum()\nz.backward()\nprint(y.grad)\n",
    "detach": X2 + "y = x * x.detach()\ny.sum().backward()\n",
    "no_grad": X2 + "with torch.no_grad():\n    c = x * 3\ny = (x * c).sum()\ny.backward()\n",
    "clone_write": "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = x.clone()\ny[0] = 0\n"
                   "(y * x).sum().backward()\n",
    "where": "x = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = torch.where(x > 0, x ** 2, -x)\n"
             "y.sum().backward()\n",
    "inplace_leaf": X2 + "x.add_(1)\nx.sum().backward()\n",
    "item": X2 + "s = x.sum().item()\ny = (x * s).sum()\ny.backward()\n",
    "relu_inplace": "x = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = x * 1\nF.relu(y, inplace=True)\n"
                    "y.sum().backward()\n",
    "mlp_two_layer": "X = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])\nt = torch.tensor([1, 0])\n"
                     "W1 = torch.tensor([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9], [-0.2, 0.1, 0.3]], "
                     "requires_grad=True)\nb1 = torch.zeros(4, requires_grad=True)\n"
                     "W2 = torch.tensor([[0.3, -0.1, 0.2, 0.5], [-0.4, 0.6, 0.1, -0.2]], requires_grad=True)\n"
                     "b2 = torch.tensor([0.05, -0.05], requires_grad=True)\nh = torch.relu(X @ W1.T + b1)\n"
                     "loss = F.cross_entropy(h @ W2.T + b2, t)\nloss.backward()\n",
    "softmax_ce_by_hand": "z = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], requires_grad=True)\n"
                          "t = torch.tensor([0, 1])\np = torch.exp(z) / torch.exp(z).sum(dim=1, keepdim=True)\n"
                          "loss = -torch.log(p[range(2), t]).mean()\nloss.backward()\n",
    "logsoftmax_nll": "z = torch.tensor([[0.3, -1.2, 2.0], [1.0, 0.0, -1.0]], requires_grad=True)\n"
                      "l = F.nll_loss(F.log_softmax(z, dim=1), torch.tensor([2, 0]))\nl.backward()\n",
    "ce_smoothing": "z = torch.tensor([[0.3, -1.2, 2.0], [1.0, 0.0, -1.0]], requires_grad=True)\n"
                    "l = F.cross_entropy(z, torch.tensor([2, 0]), label_smoothing=0.1)\nl.backward()\n",
    "gaussian_nll_by_hand": "import math\nx = torch.tensor([1.2, -0.3, 0.8, 2.1])\n"
                            "mu = torch.tensor(0.5, requires_grad=True)\nlog_sigma = torch.tensor(0.1, requires_grad=True)\n"
                            "sigma = log_sigma.exp()\nnll = 0.5 * (((x - mu) / sigma) ** 2).sum() + x.numel() * "
                            "(log_sigma + 0.5 * math.log(2 * math.pi))\nnll.backward()\n",
    "gaussian_distribution": "mu = torch.tensor(0.3, requires_grad=True)\nsigma = torch.tensor(1.5, requires_grad=True)\n"
                             "x = torch.tensor([1.0, -0.5, 2.0])\nnll = -torch.distributions.Normal(mu, sigma)"
                             ".log_prob(x).sum()\nnll.backward()\n",
    "gaussian_nll_loss": "mu = torch.tensor([0.3, 0.1], requires_grad=True)\nvar = torch.tensor([1.5, 0.5], "
                         "requires_grad=True)\nl = F.gaussian_nll_loss(mu, torch.tensor([1.0, -0.5]), var)\nl.backward()\n",
    "newton_autograd_grad": "x = torch.tensor([1.0, 2.0], requires_grad=True)\ndef f(x):\n"
                            "    return (x[0] - 1) ** 4 + (x[0] - x[1]) ** 2 + torch.sin(x[1])\n"
                            "g = torch.autograd.grad(f(x), x, create_graph=True)[0]\n"
                            "H = torch.stack([torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(2)])\n"
                            "x_new = x - torch.linalg.solve(H, g)\nout = x_new.sum()\nout.backward()\n",
    "newton_func": "x = torch.tensor([1.0, 2.0], requires_grad=True)\ndef f(x):\n    return (x ** 4).sum() + x[0] * x[1]\n"
                   "g = torch.func.grad(f)(x)\nH = torch.func.hessian(f)(x)\nx1 = x - torch.linalg.solve(H, g)\n"
                   "x1.sum().backward()\n",
    "spring_energy": "pos = torch.tensor([[0.0, 0.0], [1.2, 0.1], [2.1, -0.3]], requires_grad=True)\n"
                     "d = pos[1:] - pos[:-1]\nE = 0.5 * 3.0 * ((torch.linalg.norm(d, dim=1) - 1.0) ** 2).sum()\n"
                     "E.backward()\n",
    "spring_chain": "x = torch.tensor([0.0, 1.1, 2.3, 2.9], requires_grad=True)\nk = torch.tensor([1.0, 2.0, 3.0])\n"
                    "E = 0.5 * (k * (x.diff() - 1.0) ** 2).sum()\nE.backward()\n",
    "force_create_graph": "q = torch.tensor([0.5, -0.2], requires_grad=True)\nE = 0.5 * 3.0 * (q ** 2).sum() + q.prod()\n"
                          "frc = -torch.autograd.grad(E, q, create_graph=True)[0]\nL = (frc ** 2).sum()\nL.backward()\n",
    "pendulum": "th = torch.tensor(0.3, requires_grad=True)\nw = torch.tensor(1.2, requires_grad=True)\n"
                "E = 0.5 * 1.0 * (2.0 * w) ** 2 - 1.0 * 9.81 * 2.0 * torch.cos(th)\nE.backward()\n",
    "linear_F": "W = torch.tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]], requires_grad=True)\n"
                "b = torch.tensor([0.1, 0.1, 0.1], requires_grad=True)\nx = torch.tensor([[1.0, 2.0], [0.5, -1.0]])\n"
                "loss = torch.tanh(F.linear(x, W, b)).sum(dim=1).pow(2).mean()\nloss.backward()\n",
    "logdet_trace_inv": "A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)\n"
                        "y = torch.logdet(A) + torch.trace(torch.inverse(A))\ny.backward()\n",
    "layer_norm": "x = torch.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 0.0]], requires_grad=True)\n"
                  "y = (F.layer_norm(x, (3,)) * torch.tensor([1.0, 2.0, 3.0])).sum()\ny.backward()\n",
    "max_tie": "x = torch.tensor([2.0, 2.0, 1.0], requires_grad=True)\nx.max().backward()\n",
    "median": "x = torch.tensor([3.0, 1.0, 2.0, 5.0], requires_grad=True)\nx.median().backward()\n",
    "abs_at_0": "x = torch.tensor([0.0, 1.0], requires_grad=True)\nx.abs().sum().backward()\n",
    "clamp_edges": "x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)\nx.clamp(0.0, 1.0).sum().backward()\n",
    "floor_divide": "x = torch.tensor([3.0, 1.0], requires_grad=True)\ny = (x // 2 + x).sum()\ny.backward()\n",
    "small_gradient": "x = torch.tensor([1.0, 1e-4], requires_grad=True)\n(x ** 3).sum().backward()\n",
}

# (command line, words the first stderr line must hold for a newcomer to know what to do)
COMMANDS = [
    (["eval", "2", "newcomer35_file.txt", "x", "x=3"], ["quote the expression"]),
    (["eval", "x=2", "x**2"], ["the expression comes first"]),
    (["eval", "x**2", "x=[2,", "3]"], ['x="[2, 3]"']),
    (["eval", "x**2", "x", "=", "2"], ["x=2"]),
    (["jvp", "x * y", "x=[1, 2]", "y=[3, 4]"], ["--tangent x="]),
    (["jvp", "x * y", "x=[1, 2]", "y=[3, 4]", "--tangent", "[1, 0]"], ['--tangent x="[1, 0]"']),
    (["vjp", "x * y", "x=[1, 2]", "y=[3, 4]"], ["--v"]),
    (["eval", "sum(w)", "w=torch.tensor([1., 2.], requires_grad=True)"], ["input already"]),
    (["eval", "2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3.0, 1.0, 2.0]"], ["dot: "]),
    (["eval", "np.dot(x, y)", "x=arange(4.0)", "y=[3.0, 1.0, 2.0]"], ["dot: shapes"]),
    (["eval", "torch.mv(A, x)", "A:2x2", "x:3"], ["mv: shapes"]),
    (["eval", "2 * torch.dot(x, y)", "x=arange(4.0)"], ["'y'", "y=VALUE"]),
    (["evl", "x**2", "x=2"], ["'eval'"]),
    (["eval", "x^2", "x=2"], ["x**2"]),
    (["eval", "x**2", "x="], ["no value"]),
    (["eval", "x**2", "x:"], ["x:3"]),
]


def run_jac(args: list, env: dict) -> tuple:
    """(exit code, stdout, stderr) of jac run in the scratch folder (``python -m`` puts the current folder first on
    sys.path: run from a checkout, it would import that checkout's jacobi_cli whatever PYTHONPATH says)."""
    p = subprocess.run([sys.executable, "-m", "jacobi_cli", *args], capture_output=True, text=True, env=env,
                       timeout=300, cwd=env["SCRATCH"])
    return p.returncode, p.stdout, p.stderr


def judge_snippet(name: str, text: str, env: dict) -> tuple:
    import numpy as np
    import torch

    torch.set_default_dtype(torch.float64)
    source = HEAD + text
    space: dict = {}
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the snippets' print(x.grad)
            exec(compile(source, name, "exec"), space)
        raised = None
    except Exception as err:  # noqa: BLE001 - PyTorch's refusal is the reference
        raised = f"{type(err).__name__}: {str(err)[:80]}"
    code, out, err = run_jac(["vjp", source, "--json"], env)
    if code == 70 or "Traceback" in err:
        return "INTERNAL", err.strip().splitlines()[0][:160] if err.strip() else ""
    if code != 0:
        return "REFUSED", err.strip().splitlines()[0][:160] + (f" | PyTorch: {raised}" if raised else "")
    if raised:
        return "ANSWERED", f"PyTorch raised {raised}"
    if name.endswith("_randn"):  # jac's draws are not PyTorch's numbers: that it answers is what is judged
        return "RUNS", ""
    report = json.loads(out)
    wrong = []
    for leaf, got in report["vjp"].items():
        grad = space[leaf].grad
        want = np.zeros(tuple(space[leaf].shape)) if grad is None else grad.detach().numpy()
        have = np.array(got["value"], dtype=float)
        if have.shape != want.shape or not np.allclose(have, want, rtol=1e-10, atol=1e-12, equal_nan=True):
            wrong.append(f"{leaf}.grad: jac {have.tolist()} PyTorch {want.tolist()}")
    return ("MISMATCH", "; ".join(wrong)) if wrong else ("AGREE", "")


def judge_command(args: list, words: list, env: dict) -> tuple:
    code, _, err = run_jac(args, env)
    first = err.strip().splitlines()[0] if err.strip() else ""
    if code == 70 or "Traceback" in err:
        return "INTERNAL", first
    missing = [w for w in words if w not in first]
    return ("CONFUSING", f"missing {missing}: {first[:160]}") if missing or code != 2 else ("CLEAR", "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jac", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the checkout whose jacobi_cli runs (default: this one)")
    args = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, PYTHONPATH=os.path.abspath(args.jac), SCRATCH=scratch)
        open(os.path.join(scratch, "newcomer35_file.txt"), "w").close()  # what an unquoted * expands to
        for name, text in SNIPPETS.items():
            verdict, detail = judge_snippet(name, text, env)
            counts["snippet " + verdict] += 1
            print(f"{verdict:9} {name}" + (f": {detail}" if detail else ""), flush=True)
        for line, words in COMMANDS:
            verdict, detail = judge_command(line, words, env)
            counts["command " + verdict] += 1
            print(f"{verdict:9} jac {' '.join(line)}" + (f": {detail}" if detail else ""), flush=True)
    print("counts:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
