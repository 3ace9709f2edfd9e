"""The rnn24 sweep: random nn.RNN / GRU / LSTM, their cells and nn.MultiheadAttention, made and called as pasted
code does, run through jac and through PyTorch 2.13 itself.

    PYTHONPATH=. python benchmarks/rnn24_sweep.py [--cases N] [--seed S] [-v]

Each case draws a constructor (sizes, layers, bias, batch_first, bidirectional, proj_size, nonlinearity, dropout,
heads, kdim/vdim) and a call (batched or not, an initial state or not, masks bool or float, need_weights,
average_attn_weights), a few of them invalid on purpose (a wrong feature size or state shape, proj_size too big,
heads that do not divide). PyTorch runs the text with its parameters set to jac's values (float64); jac gives each
output's value and the Jacobian of a weighted sum of all outputs by every input and parameter. Each case is:

- ``agrees``: every output and every gradient within rtol 1e-10 (atol 1e-12);
- ``refused``: jac exits 2 and PyTorch raises too (or, for dropout in training mode, jac's refusal is expected);
- ``refused-unexpectedly``: jac refuses what PyTorch runs;
- ``accepted-invalid``: jac answers where PyTorch raises;
- ``wrong``: a value or gradient that differs;
- ``crashed``: anything but an answer or a JacError.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import warnings
from collections import Counter

import numpy as np

HEADER = "import torch\nimport torch.nn as nn\n"
EXPECTED = ("training mode",)  # the refusal jac means to make of what PyTorch runs: dropout, random


def draw_layer(r):
    """(constructor, call, output names, inputs) of nn.RNN / GRU / LSTM."""
    kind = r.choice(["RNN", "GRU", "LSTM"])
    n_in, hidden, layers = int(r.integers(1, 5)), int(r.integers(1, 6)), int(r.integers(1, 4))
    args = [f"{n_in}", f"{hidden}"]
    kw = {"num_layers": layers}
    for key in ("bias", "batch_first", "bidirectional"):
        if r.random() < 0.5:
            kw[key] = bool(r.random() < 0.5)
    if kind == "RNN" and r.random() < 0.4:
        kw["nonlinearity"] = repr(str(r.choice(["tanh", "relu"])))
    proj = int(r.integers(1, hidden + 1)) if kind == "LSTM" and r.random() < 0.3 else 0
    if proj:
        kw["proj_size"] = proj
    if r.random() < 0.1:
        kw["dropout"] = 0.3
    dirs = 2 if kw.get("bidirectional") else 1
    steps, batch = int(r.integers(1, 5)), int(r.integers(1, 4))
    batched = r.random() < 0.75
    feat = n_in if r.random() < 0.93 else n_in + 1
    shape = ((batch, steps) if kw.get("batch_first") else (steps, batch)) if batched else (steps,)
    inputs = {"x": r.normal(size=shape + (feat,))}
    out = proj or hidden
    state_h = (layers * dirs,) + ((batch,) if batched else ()) + (out,)
    state_c = state_h[:-1] + (hidden,)
    if r.random() < 0.07:
        state_h = state_h[:-1] + (state_h[-1] + 1,)
    call = "o0, o1 = m(x)"
    names = ["o0", "o1"]
    if r.random() < 0.5:
        inputs["h0"] = r.normal(size=state_h)
        if kind == "LSTM":
            inputs["c0"] = r.normal(size=state_c)
            call = "o0, o1 = m(x, (h0, c0))"
        else:
            call = "o0, o1 = m(x, h0)"
    if kind == "LSTM":
        call = call.replace("o0, o1", "o0, (o1, o2)")
        names.append("o2")
    ctor = f"nn.{kind}({', '.join(args + [f'{k}={v}' for k, v in kw.items()])})"
    return ctor, call, names, inputs


def draw_cell(r):
    kind = r.choice(["RNNCell", "GRUCell", "LSTMCell"])
    n_in, hidden = int(r.integers(1, 5)), int(r.integers(1, 6))
    kw = {}
    if r.random() < 0.4:
        kw["bias"] = bool(r.random() < 0.5)
    if kind == "RNNCell" and r.random() < 0.4:
        kw["nonlinearity"] = repr(str(r.choice(["tanh", "relu"])))
    batched, batch, steps = r.random() < 0.75, int(r.integers(1, 4)), int(r.integers(1, 4))
    lead = (batch,) if batched else ()
    inputs = {"x": r.normal(size=(steps,) + lead + (n_in if r.random() < 0.95 else n_in + 1,))}
    pair = kind == "LSTMCell"
    zeros = f"torch.zeros({', '.join(map(str, lead + (hidden,)))})"
    lines = [f"o0 = {zeros}"] + ([f"o1 = {zeros}"] if pair else [])
    step = "o0, o1 = m(x[t], (o0, o1))" if pair else "o0 = m(x[t], o0)"
    if r.random() < 0.3:
        step = "o0, o1 = m(x[t])" if pair else "o0 = m(x[t])"
    lines += [f"for t in range({steps}):", f"    {step}"]
    ctor = f"nn.{kind}({', '.join([str(n_in), str(hidden)] + [f'{k}={v}' for k, v in kw.items()])})"
    return ctor, "\n".join(lines), ["o0", "o1"] if pair else ["o0"], inputs


def draw_attention(r):
    embed = int(r.choice([2, 4, 6, 8]))
    heads = int(r.choice([h for h in (1, 2, 3, 4) if embed % h == 0])) if r.random() < 0.95 else 3
    kw = {}
    if r.random() < 0.3:
        kw["kdim"], kw["vdim"] = int(r.integers(1, 6)), int(r.integers(1, 6))
    for key in ("bias", "batch_first"):
        if r.random() < 0.4:
            kw[key] = bool(r.random() < 0.5)
    L, S, N = int(r.integers(1, 4)), int(r.integers(1, 5)), int(r.integers(1, 3))
    batched = r.random() < 0.75
    first = kw.get("batch_first")

    def shape(length, width):
        return ((N, length) if first else (length, N)) + (width,) if batched else (length, width)
    inputs = {"q": r.normal(size=shape(L, embed)), "k": r.normal(size=shape(S, kw.get("kdim", embed))),
              "v": r.normal(size=shape(S, kw.get("vdim", embed)))}
    extra = []
    if r.random() < 0.4:  # a boolean attn_mask (True: not attended), a constant; or a float input
        if r.random() < 0.5:
            bits = (r.random((L, S)) < 0.3).astype(int).tolist()
            extra.append(f"attn_mask=torch.tensor({bits}) > 0")
        else:
            inputs["mask"] = r.normal(size=(L, S) if r.random() < 0.6 else (N * heads, L, S))
            extra.append("attn_mask=mask")
    if r.random() < 0.3:
        bits = (r.random((N, S) if batched else (S,)) < 0.3).astype(int).tolist()
        extra.append(f"key_padding_mask=torch.tensor({bits}) > 0")
    need = r.random() < 0.8
    if not need:
        extra.append("need_weights=False")
    elif r.random() < 0.3:
        extra.append("average_attn_weights=False")
    call = f"o0, o1 = m(q, k, v{''.join(', ' + e for e in extra)})"
    ctor = f"nn.MultiheadAttention({embed}, {heads}{''.join(f', {k}={v}' for k, v in kw.items())})"
    return ctor, call, ["o0", "o1"] if need else ["o0"], inputs


def weights(name, shape):
    return np.cos(np.arange(int(np.prod(shape))) + len(name) * 0.7).reshape(shape)


def run_jac(ctor, call, names, inputs):
    from jacobi_cli.tools import api
    bindings = {k: ":" + "x".join(map(str, v.shape)) for k, v in inputs.items()}
    values = {n: api.compile(f"{HEADER}m = {ctor}\n{call}\n{n}", bindings).value(inputs) for n in names}
    loss = " + ".join(f"(torch.tensor({weights(n, values[n].shape).tolist()}) * {n}).sum()" for n in names)
    f = api.compile(f"{HEADER}m = {ctor}\n{call}\nloss = {loss}\nloss.backward()", bindings)
    return values, f.jacobian(inputs), {k: np.array(v) for k, v in f.declared.items()}


def run_torch(ctor, call, names, inputs, declared):
    import torch
    scope = {"torch": torch, "nn": torch.nn}
    exec(f"m = {ctor}", scope)  # noqa: S102 - the sweep's own text
    params = dict(scope["m"].named_parameters(prefix="m"))
    if declared is not None:
        if set(params) != set(declared):
            raise AssertionError(f"parameters {sorted(params)} != jac's {sorted(declared)}")
        with torch.no_grad():
            for key, p in params.items():
                p.copy_(torch.from_numpy(declared[key]))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    local = {**scope, **tensors}
    exec(call, local)  # noqa: S102
    outputs = {n: local[n] for n in names}
    sum((o * torch.from_numpy(weights(n, tuple(o.shape)))).sum() for n, o in outputs.items()).backward()
    grads = {k: (p.grad.numpy() if p.grad is not None else np.zeros(tuple(p.shape)))
             for k, p in {**params, **tensors}.items()}
    return {n: o.detach().numpy() for n, o in outputs.items()}, grads


def close(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)


def one_case(ctor, call, names, inputs):
    """(status, detail) of one case."""
    from jacobi_cli.errors import JacError
    try:
        values, grads, declared = run_jac(ctor, call, names, inputs)
    except JacError as err:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run_torch(ctor, call, names, inputs, None)
        except Exception:  # noqa: BLE001 - PyTorch refuses too
            return "refused", str(err)
        expected = any(word in str(err) for word in EXPECTED)
        return ("refused" if expected else "refused-unexpectedly"), str(err)
    except Exception as err:  # noqa: BLE001
        return "crashed", f"{type(err).__name__}: {err}"
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            theirs, their_grads = run_torch(ctor, call, names, inputs, declared)
    except Exception as err:  # noqa: BLE001
        return "accepted-invalid", f"PyTorch: {type(err).__name__}: {err}"
    for n in names:
        if not close(values[n], theirs[n]):
            return "wrong", f"value of {n}"
    for key, g in their_grads.items():
        if not close(grads[key], g):
            return "wrong", f"gradient of {key}"
    return "agrees", ""


def main():
    import torch
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("-v", action="store_true")
    a = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    r = np.random.default_rng(a.seed)
    counts, kinds = Counter(), Counter()
    for i in range(a.cases):
        ctor, call, names, inputs = (draw_layer, draw_cell, draw_attention)[i % 3](r)
        status, detail = one_case(ctor, call, names, inputs)
        counts[status] += 1
        kinds[ctor.split("(")[0]] += 1
        if a.v or status not in ("agrees", "refused"):
            shapes = {k: v.shape for k, v in inputs.items()}
            print(f"{status:20s} m = {ctor}; {call!r} {shapes}: {detail[:160]}")
    print(f"{a.cases} cases ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}): "
          + ", ".join(f"{counts[s]} {s}" for s in ("agrees", "refused", "refused-unexpectedly", "accepted-invalid",
                                                   "wrong", "crashed")))


if __name__ == "__main__":
    main()
