"""Models pasted as PyTorch users write them, drawn at random: containers (nn.Sequential of modules or of an
OrderedDict or of a list filled before, nn.ModuleList iterated, nn.ModuleDict by key, a class whose __init__ fills an nn.ModuleList), the
norms, nn.PReLU, dropouts, calls in training and eval mode (batch norms' running statistics updated by the
former and read by the latter) and weight decay over named_parameters(), run by jac and by PyTorch with its
parameters set to jac's values; the value and every .grad compared (|jac - torch| <= 1e-10 |torch| + 1e-12).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/modules24_sweep.py [COUNT] [--seed S] [-v]

Prints WRONG (both answer, a value or gradient differs, or the parameters' names: must be none), MISSING (jac
answers without some parameters whose .grad PyTorch fills: session 23's norms), CRASH (not a JacError: must be
none), LENIENT (PyTorch refuses, jac answers) and the counts: texts, agreed, refused by jac (bucketed by message).
jac refuses by design a dropout called in training mode (random) and a batch norm updated in training mode after
an eval-mode call read its statistics (PyTorch's backward of that call reads the updated buffers).
"""
from __future__ import annotations

import contextlib
import io
import sys
from collections import Counter

import numpy as np

sys.path.insert(0, "benchmarks")
from fuzzkit import bucket  # noqa: E402

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
D = 4


def module(rng) -> str:
    """One module of width D: a layer, a norm (its options drawn), an activation, a dropout."""
    choice = rng.integers(12)
    if choice < 3:
        return f"nn.Linear({D}, {D}{', bias=False' if rng.random() < 0.3 else ''})"
    if choice == 3:
        return f"nn.LayerNorm({D}{', elementwise_affine=False' if rng.random() < 0.3 else ''})"
    if choice == 4:
        momentum = rng.choice(["", ", momentum=None", ", momentum=0.3"])
        affine = ", affine=False" if rng.random() < 0.3 else ""
        track = ", track_running_stats=False" if rng.random() < 0.2 else ""
        return f"nn.BatchNorm1d({D}{momentum}{affine}{track})"
    if choice == 5:
        return f"nn.PReLU({rng.choice([1, D])}, init={rng.choice([0.1, 0.25])})"
    if choice == 6:
        return rng.choice([f"nn.GroupNorm(2, {D})", f"nn.RMSNorm({D})"])
    if choice == 7:
        return rng.choice(["nn.Dropout(0.2)", "nn.AlphaDropout(0.1)", "nn.RReLU(0.1, 0.3)"])
    return rng.choice(["nn.Tanh()", "nn.GELU()", "nn.Softplus()", "nn.SiLU()"])


def model(rng) -> tuple:
    """(setup, call): the statements that make ``model`` and the expression that applies it to ``X``."""
    mods = [module(rng) for _ in range(rng.integers(2, 5))]
    kind = rng.integers(6)
    if kind == 5:  # a list filled before, unpacked into nn.Sequential
        body = "".join(f"layers.append({m})\n" for m in mods)
        return f"layers = []\n{body}model = nn.Sequential(*layers)", "model(X)"
    if kind == 0:
        return f"model = nn.Sequential({', '.join(mods)})", "model(X)"
    if kind == 1:
        pairs = ", ".join(f"('m{i}', {m})" for i, m in enumerate(mods))
        return (f"from collections import OrderedDict\nmodel = nn.Sequential(OrderedDict([{pairs}]))",
                f"model.m0(model[1:](X)) + model[-1](X) * len(model)")
    if kind == 2:
        return (f"model = nn.ModuleList([{', '.join(mods)}])",
                "run(model, X)")
    if kind == 3:
        items = ", ".join(f"'k{i}': {m}" for i, m in enumerate(mods))
        return f"model = nn.ModuleDict({{{items}}})", "sum(m(X) for k, m in model.items()) + model['k0'](X)"
    body = "\n".join(f"        self.layers.append({m})" for m in mods)
    return (f"class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            f"        self.layers = nn.ModuleList([nn.Linear({D}, {D}) for _ in range(2)])\n{body}\n\n"
            f"    def forward(self, h):\n        for layer in self.layers:\n            h = layer(h)\n"
            f"        return h\n\nmodel = Net()", "model(X)")


RUN = "def run(layers, h):\n    for layer in layers:\n        h = layer(h)\n    return h\n"


def program(rng) -> tuple:
    setup, call = model(rng)
    steps, terms = [], []
    for i in range(rng.integers(1, 4)):
        mode = rng.choice(["", "model.eval()\n", "model.train()\n", "model.train(False)\n"])
        scale = rng.choice(["1.0", "0.5", "2.0"])
        steps.append(f"{mode}u{i} = ({call.replace('X', f'(x * {scale})')}).pow(2).mean()")
        terms.append(f"u{i}")
    decay = rng.choice(["", "for n, p in model.named_parameters():\n    if 'bias' not in n:\n"
                            "        loss = loss + 0.01 * (p ** 2).sum()\n",
                        "loss = loss + 1e-3 * sum((p ** 2).sum() for p in model.parameters())\n"])
    compute = RUN + "\n".join(steps) + f"\nloss = {' + '.join(terms)}\n" + decay
    return setup, compute


def pytorch(setup: str, compute: str, declared: dict, x: np.ndarray):
    import torch

    scope = {}
    exec(HEAD + setup, scope)  # noqa: S102 - the sweep's own text
    params = dict(scope["model"].named_parameters(prefix="model"))
    if set(params) != set(declared):  # MISSING: parameters PyTorch fills .grad of that jac does not show
        return "MISSING" if set(declared) < set(params) else "names", sorted(set(params) ^ set(declared))
    with torch.no_grad():
        for key, p in params.items():
            p.copy_(torch.from_numpy(np.array(declared[key])))
    tx = torch.tensor(x, requires_grad=True)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compute + "loss.backward()", {**scope, "x": tx})  # noqa: S102
    grads = {k: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape)) for k, p in {**params, "x": tx}.items()}
    return "ok", grads


def main(argv: list) -> None:
    import torch

    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    torch.set_default_dtype(torch.float64)
    count = int(argv[0]) if argv and argv[0].isdigit() else 300
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 24
    verbose = "-v" in argv
    rng = np.random.default_rng(seed)
    counts, refusals = Counter(), Counter()
    for n in range(count):
        setup, compute = program(rng)
        text = HEAD + setup + "\n" + compute + "loss.backward()"
        x = rng.normal(size=(5, D))
        counts["texts"] += 1
        try:
            f = api.compile(text, {"x": ":5x4"})
            found = f.jacobian({"x": x})
        except JacError as error:
            counts["refused"] += 1
            refusals[bucket(error.message)] += 1
            if verbose:
                print(f"REFUSED {error.message[:100]}\n{text}\n")
            continue
        except Exception as error:  # noqa: BLE001 - a crash is a finding
            counts["CRASH"] += 1
            print(f"CRASH {type(error).__name__}: {error}\n{text}\n")
            continue
        try:
            status, grads = pytorch(setup, compute, f.declared, x)
        except Exception as error:  # noqa: BLE001 - PyTorch refuses
            counts["LENIENT"] += 1
            print(f"LENIENT {type(error).__name__}: {str(error)[:100]}\n{text}\n")
            continue
        if status != "ok":
            counts["MISSING" if status == "MISSING" else "WRONG"] += 1
            print(f"{'MISSING' if status == 'MISSING' else 'WRONG names'} {grads}\n{text}\n")
            continue
        bad = [k for k, g in grads.items() if found[k].shape != g.shape
               or not np.all(np.abs(found[k] - g) <= 1e-10 * np.abs(g) + 1e-12)]
        if bad:
            counts["WRONG"] += 1
            print(f"WRONG {bad}\n{text}\n")
        else:
            counts["agreed"] += 1
    print(dict(counts))
    for message, k in refusals.most_common():
        print(f"  {k:4d} refused: {message}")


if __name__ == "__main__":
    main(sys.argv[1:])
