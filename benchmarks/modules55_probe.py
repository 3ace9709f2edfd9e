#!/usr/bin/env python3
"""Whole programs pasted as a newcomer would (session 55): torch.nn modules and losses, JAX MLPs and lax.scan RNNs,
each checked against the library itself in float64.

Run by hand, never as a test (see benchmarks/README.md):

    PYTHONPATH=. /work/venv/bin/python benchmarks/modules55_probe.py torch [--only WORD] [--jobs 2]
    PYTHONPATH=. /work/venv/bin/python benchmarks/modules55_probe.py jax   [--only WORD] [--jobs 2]

The texts are ``modules55_torch.txt`` / ``modules55_jax.txt``: a case is a header ``### name | inputs | parameter``,
the setup (modules made), a line ``# --`` and the computation (its last line the output). Inputs ``x:2x3`` are drawn
N(0, 0.8²) with seed 55 (``x:2x3+``: |N| + 0.2) and bound as ``x=[...]``. jac runs ``jac eval TEXT BINDINGS --json
--wrt INPUT ... [--wrt PARAMETER]`` in a real process (``--jobs`` at once: jac has no form of many texts per process;
``--batch`` is vmap). PyTorch runs the same text with each module's parameters set to jac's draws (``--seed 0``,
read through ``api.compile(...).declared`` in this process, as tests/torch_models.py does) and its Jacobian is
``torch.autograd.grad`` row by row (unused: zeros); JAX's is ``jax.jacrev`` by each input, x64. Verdicts (as
peers54_probe's, whose ``_gap`` this imports):

- AGREE: the value and every Jacobian within rtol 1e-8, atol 1e-11 (the value 1e-9, 1e-12);
- WRONG: they differ; CRASH: a traceback, an exit other than 0 and 2, or no answer in 120 s;
- JAC-REFUSES (exit 2, the library answers), JAC-ANSWERS (the library raises), BOTH-RAISE.
One line per case that is not AGREE (with jac's message), then the counts.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fuzzkit import split_program  # noqa: E402
from peers54_probe import _gap  # noqa: E402


def cases(path: Path) -> list:
    """``[(name, setup, compute, {input: array}, parameter or None)]`` of a texts file."""
    rng = np.random.default_rng(55)
    found = []
    for block in path.read_text().split("\n### ")[1:]:
        head, _, body = block.partition("\n")
        name, spec, param = (part.strip() for part in head.split("|"))
        setup, _, compute = body.partition("# --\n")
        inputs = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            key, shape = item.split(":")
            positive = shape.endswith("+")
            dims = tuple(int(d) for d in shape.rstrip("+").split("x"))
            value = rng.normal(0.0, 0.8, dims)
            inputs[key] = np.abs(value) + 0.2 if positive else value
        found.append((name, setup, compute.rstrip("\n"), inputs, None if param == "-" else param))
    return found


def run_jac(text: str, inputs: dict, param) -> subprocess.CompletedProcess | None:
    wrt = [w for k in inputs for w in ("--wrt", k)] + (["--wrt", param] if param else [])
    binds = [f"{k}={json.dumps(v.tolist())}" for k, v in inputs.items()]
    try:
        return subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", text, *binds, *wrt, "--json"],
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None


def torch_reference(setup: str, compute: str, inputs: dict, param, declared: dict) -> tuple:
    """(value, {name: Jacobian}) of PyTorch running the text with jac's parameter values."""
    import torch

    scope = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(setup, scope)  # noqa: S102 (the probe's own texts)
    params = {}
    for key, held in list(scope.items()):
        if isinstance(held, torch.nn.Module) and not isinstance(held, type):
            params.update(held.named_parameters(prefix=key, remove_duplicate=False))
    missing = set(declared) - set(params)
    if missing:
        raise LookupError(f"probe: jac made parameters PyTorch has not: {sorted(missing)}")
    with torch.no_grad():
        for key, value in declared.items():
            params[key].copy_(torch.from_numpy(np.array(value)))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    body, last = split_program(compute)
    scope.update(tensors)
    exec(body, scope)  # noqa: S102
    y = eval(last, scope)  # noqa: S307
    leaves = {**tensors, **({param: params[param]} if param else {})}
    rows = {k: [] for k in leaves}
    flat = y.reshape(-1)
    for i in range(flat.numel()):
        grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
        for k, g in zip(leaves, grads):
            rows[k].append(np.zeros(tuple(leaves[k].shape)) if g is None else g.detach().numpy().copy())
    jac = {k: np.stack(r).reshape(tuple(y.shape) + tuple(leaves[k].shape)) if r else
           np.zeros(tuple(y.shape) + tuple(leaves[k].shape)) for k, r in rows.items()}
    return y.detach().numpy(), jac


def jax_reference(setup: str, compute: str, inputs: dict, param, declared: dict) -> tuple:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.special  # noqa: F401

    names = list(inputs)
    body, last = split_program(setup + compute)

    def f(*args):
        scope = {"jax": jax, "jnp": jnp, "np": np, **dict(zip(names, args))}
        exec(body, scope)  # noqa: S102
        return eval(last, scope)  # noqa: S307

    args = [jnp.asarray(inputs[k]) for k in names]
    value = np.asarray(f(*args))
    return value, {k: np.asarray(jax.jacrev(f, argnums=i)(*args)) for i, k in enumerate(names)}


def declared_of(text: str, inputs: dict) -> dict:
    """The parameters jac draws for the text (``--seed 0``), as the process run by :func:`run_jac` draws them."""
    from jacobi_cli.tools import api

    return dict(api.compile(text, {k: v for k, v in inputs.items()}).declared or {})


def verdict(case: tuple, run, mode: str) -> tuple:
    name, setup, compute, inputs, param = case
    text = setup + "# --\n" + compute if setup else compute
    try:
        declared = declared_of(text, inputs) if mode == "torch" and run is not None and run.returncode == 0 else {}
        reference = torch_reference if mode == "torch" else jax_reference
        value, ref = reference(setup, compute, inputs, param, declared)
        err = None
    except Exception as error:  # noqa: BLE001 (the library's refusal is a verdict)
        value, ref, err = None, None, f"{type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"
    if run is None:
        return "CRASH", "no answer in 120 s"
    if run.returncode not in (0, 2) or "Traceback" in run.stderr:
        return "CRASH", f"exit {run.returncode}: {run.stderr.strip().splitlines()[-1][:200] if run.stderr else ''}"
    if run.returncode == 2:
        message = json.loads(run.stdout)["error"]["message"] if run.stdout.strip() else run.stderr.strip()
        return ("BOTH-RAISE" if ref is None else "JAC-REFUSES"), message[:300] + (f"\n    library: {err}" if err else "")
    if ref is None:
        return "JAC-ANSWERS", f"library: {err}"
    answer = json.loads(run.stdout)
    bad = []
    got = np.asarray(answer["output"]["value"], dtype=float)
    if got.shape != value.shape or not np.allclose(got, value, rtol=1e-9, atol=1e-12, equal_nan=True):
        bad.append(f"value: {_gap(got, np.asarray(value, dtype=float))}")
    for k, want in ref.items():
        got = np.asarray(answer["jacobian"][k]["value"], dtype=float)
        if got.size != want.size or not np.allclose(got.reshape(want.shape), want, rtol=1e-8, atol=1e-11,
                                                    equal_nan=True):
            bad.append(f"d/d{k}: {_gap(got, want)}")
    return ("WRONG" if bad else "AGREE"), "; ".join(bad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("torch", "jax"))
    parser.add_argument("--only", default="", help="only the cases whose name holds this word")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.mode == "torch":
        import torch

        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)
    chosen = [c for c in cases(HERE / f"modules55_{args.mode}.txt") if args.only.lower() in c[0].lower()]
    texts = [(s + "# --\n" + c if s else c, i, p) for _, s, c, i, p in chosen]
    counts: dict = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        for case, run in zip(chosen, pool.map(lambda t: run_jac(*t), texts)):
            status, detail = verdict(case, run, args.mode)
            counts[status] = counts.get(status, 0) + 1
            if status != "AGREE":
                print(f"{status} {case[0]}\n    {detail}", flush=True)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
