"""The lax28 sweep: generated calls of what session 28 read of JAX (jax.nn.dot_product_attention, ...) and of what
it refuses, run through jac and through JAX 0.10 itself (float64).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/lax28_sweep.py [-k SUBSTRING] [-v] [--seed N]

Each call is judged as lax27's are (``jax16_sweep.judge``: the value, every Jacobian and a VJP by the API, and
``jac eval --json`` in-process, against ``jax.jacrev`` of the snippet's own text): agrees / refused / wrong /
crashed. The arguments are drawn: layouts with and without the batch axis, grouped heads, biases and masks
broadcast along any axis, causal and window masks, sequence lengths (rows masked entirely among them).

dot_product_attention is judged at tol 1e-6: JAX rounds the logits to float32 before its softmax even for float64
inputs (jac computes in --dtype); tests/test_parity_jax28.py compares it at 1e-10 with the same computation
written out in float64.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from jax16_sweep import CLASSES, S, judge
from paste15_sweep import tally

ATTENTION_TOL = 1e-6  # JAX's float32 softmax (the values are O(1))


def attention(rng):
    b, t, s, k, g, h = (int(rng.integers(1, n)) for n in (3, 4, 5, 3, 3, 4))
    n = k * g
    batched = bool(rng.integers(2))
    lead = (b,) if batched else ()
    q, key, v = (rng.standard_normal(lead + shape) for shape in ((t, n, h), (s, k, h), (s, k, h)))
    kw = []
    inputs = {"q": q, "k": key, "v": v}
    if rng.integers(2):
        inputs["bias"] = rng.standard_normal(tuple(int(d) if rng.integers(2) else 1 for d in (b, n, t, s)))
        kw.append("bias=bias")
    if rng.integers(2):
        inputs["m"] = rng.standard_normal(tuple(int(d) if rng.integers(2) else 1 for d in (b, 1, t, s)))
        kw.append("mask=m > 0.3")
    if rng.integers(2):
        kw.append("is_causal=True")
    if rng.integers(3) == 0:
        kw.append(f"local_window_size={int(rng.integers(0, 3))}" if rng.integers(2) else
                  f"local_window_size=({int(rng.integers(0, 3))}, {int(rng.integers(0, 3))})")
    if rng.integers(2):
        kw.append(f"scale={float(np.round(rng.uniform(0.1, 2), 2))}")
    if batched and rng.integers(3) == 0:
        lengths = [int(i) for i in rng.integers(0, t + 1, size=b)]
        kw.append(f"query_seq_lengths=jnp.array({lengths}, dtype=jnp.int32)")
    if batched and rng.integers(3) == 0:
        lengths = [int(i) for i in rng.integers(0, s + 1, size=b)]
        kw.append(f"key_value_seq_lengths=jnp.array({lengths}, dtype=jnp.int32)")
    call = f"jax.nn.dot_product_attention(q, k, v{''.join(', ' + w for w in kw)})"
    yield S(call, tol=ATTENTION_TOL, **inputs)
    if rng.integers(3) == 0:
        yield S(f"jax.nn.dot_product_attention(q, k, v, return_residual=True)[{int(rng.integers(2))}]",
                tol=ATTENTION_TOL, q=q, k=key, v=v)


def refusals(rng):
    q = rng.standard_normal((1, 2, 2, 3))
    yield S("jax.nn.dot_product_attention(q, q, q, mask=q[..., :1] * 0 + 1)", q=q, refuse=("mask must be boolean",))
    yield S("jax.nn.dot_product_attention(q, q[:, :, :1], q)", q=q, refuse=("share their shape",))
    yield S("jax.nn.dot_product_attention(q, q, q, implementation='cudnn')", q=q, refuse=("GPUs",))


GENERATORS = (attention,)


def collection(seed: int = 28, rounds: int = 12) -> list:
    rng = np.random.default_rng(seed)
    out = [s for _ in range(rounds) for g in GENERATORS for s in g(rng)]
    return out + list(refusals(rng))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    parser.add_argument("--seed", type=int, default=28)
    args = parser.parse_args(argv)
    return tally([s for s in collection(args.seed) if args.k in s.code], judge, "calls", args.v, inputs=True,
                 classes=CLASSES)


if __name__ == "__main__":
    sys.exit(main())
