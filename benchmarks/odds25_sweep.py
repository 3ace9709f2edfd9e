"""Session 25's spellings in models pasted as PyTorch users write them, drawn at random: the device idiom
(torch.device, torch.cuda.is_available(), x.to(device), model.to(device), device=device), a module's float
casts, model.modules() / named_modules() walked with isinstance, nn.MultiheadAttention with add_bias_kv,
add_zero_attn, is_causal and masks, an LSTM given its state as a pair or as one stacked tensor, an instance norm
tracking its statistics across training and eval calls, and a layer called with integers. Each text is run by jac
and by PyTorch with its parameters set to jac's values (modules24_sweep's model and PyTorch run); the value and
every .grad compared (|jac - torch| <= 1e-10 |torch| + 1e-12).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/odds25_sweep.py [COUNT] [--seed S] [-v]

Prints WRONG (both answer and differ: must be none), CRASH (not a JacError: must be none), LENIENT (PyTorch
refuses, jac answers: must be none) and the counts: texts, agreed, refused by jac where PyTorch raises too
(both), refused by jac alone (strict, bucketed by message).
"""
from __future__ import annotations

import sys
from collections import Counter

import numpy as np

sys.path.insert(0, "benchmarks")
from fuzzkit import bucket  # noqa: E402
from modules24_sweep import HEAD, RUN, model, pytorch  # noqa: E402

D, H = 4, 2
DEVICES = ["device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n",
           "device = 'cuda' if torch.cuda.is_available() else 'cpu'\n", "device = torch.device('cpu')\n",
           "device = torch.device('cuda:0' if torch.cuda.device_count() > 0 else 'cpu')\n"]
CASTS = ["", "model.double()\n", "model.to(torch.float64)\n", "model.to(device)\n", "model = model.to(device)\n",
         "model.cpu()\n", "model.to(device, torch.float64)\n", "model.float()\n"]
WALKS = ["loss = loss + 1e-2 * sum(m.weight.pow(2).sum() for m in model.modules() if isinstance(m, nn.Linear))\n",
         "n = len([m for m in model.modules() if isinstance(m, (nn.Linear, nn.LayerNorm, nn.Module))])\n"
         "loss = loss * n\n",
         "for name, m in model.named_modules():\n    if isinstance(m, nn.Linear) and name != '':\n"
         "        loss = loss + 0.1 * m.weight.sum()\n",
         "for name, m in model.named_children():\n    if isinstance(m, (nn.Sequential, nn.ModuleList)):\n"
         "        loss = loss + 0.5\n"]


def modules_program(rng) -> tuple:
    """modules24_sweep's model with a device, a cast and a walk over its modules."""
    setup, call = model(rng)
    setup = rng.choice(DEVICES) + setup + "\n" + rng.choice(CASTS)
    where = rng.choice(["x.to(device)", "x", "(x + torch.zeros(1, device=device))"])
    steps = []
    for i in range(rng.integers(1, 3)):
        mode = rng.choice(["", "model.eval()\n", "model.train()\n"])
        steps.append(f"{mode}u{i} = ({call.replace('X', where)}).pow(2).mean()")
    compute = RUN + "\n".join(steps) + f"\nloss = {' + '.join(f'u{i}' for i in range(len(steps)))}\n"
    return setup, compute + "".join(rng.choice(WALKS, size=rng.integers(1, 3)))


def sequence_program(rng) -> tuple:
    """A model of attention, an LSTM and an instance norm over x (5, D) read as a sequence of 5."""
    flags = "".join(f", {k}=True" for k in ("add_bias_kv", "add_zero_attn", "bias") if rng.random() < 0.5)
    flags = flags.replace("bias=True", "bias=False")
    norm = (f"nn.InstanceNorm1d({D}{rng.choice(['', ', affine=True'])}"
            f"{rng.choice(['', ', track_running_stats=True', ', track_running_stats=True, momentum=None'])})")
    mask = rng.choice(["", ", attn_mask=torch.triu(torch.full((5, 5), float('-inf')), 1)",
                       ", attn_mask=torch.zeros(5, 5)", ", attn_mask=torch.ones(5, 5).triu(1) > 0",
                       ", key_padding_mask=torch.tensor([[False, False, True, False, False]])"])
    hint = rng.choice(["", ", is_causal=True"]) + rng.choice(["", ", need_weights=False"])
    state = rng.choice(["", ", (torch.zeros(1, 1, D), torch.ones(1, 1, D))", ", self.hidden()",
                        ", torch.zeros(2, 1, 1, D)"])
    value = rng.choice(["s"] * 8 + ["s.long()", "(s > 0)"])
    setup = (f"D = {D}\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
             f"        self.attn = nn.MultiheadAttention(D, {H}{flags}, batch_first=True)\n"
             f"        self.lstm = nn.LSTM(D, D)\n        self.norm = {norm}\n\n"
             f"    def hidden(self):\n        return (torch.zeros(1, 1, D), torch.full((1, 1, D), 0.5))\n\n"
             f"    def forward(self, h):\n        s = h.unsqueeze(0)\n"
             f"        a, _ = self.attn({value}, s, s{mask}{hint})\n"
             f"        o, (hn, cn) = self.lstm(a.transpose(0, 1){state})\n"
             f"        return self.norm(o.permute(1, 2, 0)).pow(2).sum() + hn.sum() * cn.sum()\n\nmodel = Net()")
    steps = []
    for i in range(rng.integers(1, 4)):
        mode = rng.choice(["", "model.eval()\n", "model.train()\n"])
        steps.append(f"{mode}u{i} = model(x * {rng.choice(['1.0', '0.5', '2.0'])})")
    return setup, "\n".join(steps) + f"\nloss = {' + '.join(f'u{i}' for i in range(len(steps)))}\n"


def pytorch_runs(setup: str, compute: str, x: np.ndarray) -> bool:
    """Does PyTorch run the text (its own parameters; on this machine, a CPU)?"""
    import torch

    scope = {}
    try:
        exec(HEAD + setup, scope)  # noqa: S102 - the sweep's own text
        exec(compute + "loss.backward()", {**scope, "x": torch.tensor(x, requires_grad=True)})  # noqa: S102
    except Exception:  # noqa: BLE001 - PyTorch refuses
        return False
    return True


def main(argv: list) -> None:
    import torch

    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    torch.set_default_dtype(torch.float64)
    count = int(argv[0]) if argv and argv[0].isdigit() else 300
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 25
    verbose = "-v" in argv
    rng = np.random.default_rng(seed)
    counts, refusals = Counter(), Counter()
    for n in range(count):
        setup, compute = (modules_program if rng.random() < 0.5 else sequence_program)(rng)
        text = HEAD + setup + "\n" + compute + "loss.backward()"
        x = rng.normal(size=(5, D))
        counts["texts"] += 1
        try:
            f = api.compile(text, {"x": ":5x4"})
            found = f.jacobian({"x": x})
        except JacError as error:
            alone = pytorch_runs(setup, compute, x)
            counts["refused (jac alone)" if alone else "refused (both)"] += 1
            refusals[("jac alone" if alone else "both", bucket(error.message))] += 1
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
            counts["WRONG"] += 1
            print(f"WRONG names {grads}\n{text}\n")
            continue
        bad = [k for k, g in grads.items() if found[k].shape != g.shape
               or not np.all(np.abs(found[k] - g) <= 1e-10 * np.abs(g) + 1e-12)]
        if bad:
            counts["WRONG"] += 1
            print(f"WRONG {bad}\n{text}\n")
        else:
            counts["agreed"] += 1
    print(dict(counts))
    for (who, message), k in refusals.most_common():
        print(f"  {k:4d} refused ({who}): {message}")


if __name__ == "__main__":
    main(sys.argv[1:])
