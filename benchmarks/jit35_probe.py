"""Probe (session 35, h35-jaxtrace): jit34_probe's 103 texts and, for each of what session 34 left (NumPy's own
functions of a tracer, a list or array marked static, a JAX array made inside the trace, a Python list indexed by a
tracer, a constant passed to vmap / scan / fori_loop, JAX's ahead-of-time API, a traced size of a shape), texts under
every transform (jit, grad, vmap, scan, fori_loop, while_loop, checkpoint, jacfwd / jacrev / hessian) and the same
texts outside any transform, where JAX answers (no false refusal). Each text runs through JAX 0.10 (x64; value and
jax.jacrev by x, in /work/benchvenv) and through jac (value and Jacobian by x), and is classified:

  AGREE                          both answer, values and Jacobians equal (rtol 1e-10)
  REFUSED-AS-JAX                 JAX raises, jac refuses naming JAX's exception class (as a word: ConcretizationTypeError
                                 does not name TypeError)
  REFUSED-OTHERWISE              JAX raises, jac refuses without naming it
  JAC-ANSWERS-WHERE-JAX-RAISES   JAX raises, jac answers
  JAC-REFUSES-WHERE-JAX-ANSWERS  JAX answers, jac refuses
  WRONG                          both answer, and differ

    python benchmarks/jit35_probe.py [--jac-path DIR]     # DIR: the jac source tree to probe (default: this one)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAD = "import jax, jax.numpy as jnp, numpy as np\nfrom functools import partial\n"
X = [1.0, -2.0, 3.0]
S = "jnp.stack([x, 2.0 * x])"

CASES = [
    # 1. a Python number passed to a jitted function without static_argnums is a tracer
    ("jit n: range(n)", "jax.jit(lambda v, n: sum(v[i] for i in range(n)))(x, 2)"),
    ("jit n: if n > 2", "jax.jit(lambda v, n: v * 2.0 if n > 2 else -v)(x, 3)"),
    ("jit n: x[:n]", "jax.jit(lambda v, n: v[:n])(x, 2)"),
    ("jit n: x[:n] by keyword", "jax.jit(lambda v, n: v[:n])(x, n=2)"),
    ("jit n: v * n", "jax.jit(lambda v, n: v * n)(x, 2)"),
    ("jit n: v[n]", "jax.jit(lambda v, n: v[n])(x, 2)"),
    ("jit n: v ** n", "jax.jit(lambda v, n: v ** n)(x, 2)"),
    ("jit n: int(n)", "jax.jit(lambda v, n: v * int(n))(x, 2)"),
    ("jit n: jnp.ones(n)", "jax.jit(lambda v, n: v * jnp.ones(n))(x, 3)"),
    ("jit n: reshape(n, -1)", "jax.jit(lambda v, n: v.reshape(n, -1))(x, 3)"),
    ("jit s: float if s > 0", "jax.jit(lambda v, s: v * 2.0 if s > 0 else v)(x, 1.5)"),
    ("jit b: if b", "jax.jit(lambda v, b: v if b else -v)(x, True)"),
    ("jit None: is None", "jax.jit(lambda v, b: v if b is None else -v)(x, None)"),
    ("jit tuple: t[0] > 0", "jax.jit(lambda v, t: v if t[0] > 0 else -v)(x, (1.0, 2.0))"),
    ("jit list: l[0] > 0", "jax.jit(lambda v, l: v if l[0] > 0 else -v)(x, [1.0, 2.0])"),
    ("jit list: v * l[0]", "jax.jit(lambda v, l: v * l[0])(x, [1.0, 2.0])"),
    ("jit list: len(l)", "jax.jit(lambda v, l: v[:len(l)])(x, [1.0, 2.0])"),
    ("jit np.array arg: a[0] > 0", "jax.jit(lambda v, a: v if a[0] > 0 else -v)(x, np.array([1.0, 2.0, 3.0]))"),
    ("jit np.array arg: v * a", "jax.jit(lambda v, a: v * a)(x, np.array([1.0, 2.0, 3.0]))"),
    ("jit static_argnums: x[:n]", "jax.jit(lambda v, n: v[:n], static_argnums=1)(x, 2)"),
    ("jit static_argnames: range(n)", "jax.jit(lambda v, n: sum(v[i] for i in range(n)), static_argnames='n')(x, n=2)"),
    ("jit static_argnums: if n", "jax.jit(lambda v, n: v * 2.0 if n > 2 else -v, static_argnums=(1,))(x, 3)"),
    ("@jit def: range(n)", "@jax.jit\ndef f(v, n):\n    return sum(v[i] for i in range(n))\nf(x, 2)"),
    ("@partial(jit, static_argnums)", "@partial(jax.jit, static_argnums=1)\ndef f(v, n):\n    return sum(v[i] for i in range(n))\nf(x, 2)"),
    ("@partial(jit, static_argnames)", "@partial(jax.jit, static_argnames='n')\ndef f(v, n):\n    return v[:n] * 2.0\nf(x, n=2)"),
    ("@jit def: default n", "@jax.jit\ndef f(v, n=2):\n    return v[:n]\nf(x)"),
    ("grad(jit) n: x[:n]", "jax.grad(jax.jit(lambda v, n: jnp.sum(v[:n])))(x, 2)"),
    ("jit(grad) n: x[:n]", "jax.jit(jax.grad(lambda v, n: jnp.sum(v[:n])))(x, 2)"),
    ("grad n: range(n)", "jax.grad(lambda v, n: sum(v[i] for i in range(n)))(x, 2)"),
    ("vmap in_axes None n: x[:n]", f"jax.vmap(lambda v, n: v[:n], in_axes=(0, None))({S}, 2)"),
    # 2. Python numbers and NumPy arrays of a traced value
    ("jit float(v)", "jax.jit(lambda v: v * float(v[0]))(x)"),
    ("jit int(v)", "jax.jit(lambda v: v * int(v[0]))(x)"),
    ("jit bool(v)", "jax.jit(lambda v: v * bool(v[0]))(x)"),
    ("jit .item()", "jax.jit(lambda v: v * v[0].item())(x)"),
    ("jit .tolist()", "jax.jit(lambda v: v * v.tolist()[0])(x)"),
    ("jit np.asarray(v)", "jax.jit(lambda v: v * np.asarray(v)[0])(x)"),
    ("jit np.array(v)", "jax.jit(lambda v: v * np.array(v)[0])(x)"),
    ("jit jnp.asarray(v)", "jax.jit(lambda v: v * jnp.asarray(v)[0])(x)"),
    ("jit float of closure", "jax.jit(lambda v: v * float(x.sum()))(x)"),
    ("jit float before the call", "s = float(x.sum())\njax.jit(lambda v: v * s)(x)"),
    ("vmap float(v)", f"jax.vmap(lambda v: v * float(v[0]))({S})"),
    ("vmap int(v)", f"jax.vmap(lambda v: v * int(v[0]))({S})"),
    ("vmap bool(v)", f"jax.vmap(lambda v: v * bool(v[0]))({S})"),
    ("vmap np.asarray(v)", f"jax.vmap(lambda v: v * np.asarray(v)[0])({S})"),
    ("vmap float of closure", f"jax.vmap(lambda v: v * float(x[0]))({S})"),
    ("fori float(carry)", "jax.lax.fori_loop(0, 2, lambda i, v: v * float(v[0]), x)"),
    ("scan float(carry)", "jax.lax.scan(lambda c, _: (c * float(c[0]), None), x, None, length=2)[0]"),
    ("grad float(v)", "jax.grad(lambda v: jnp.sum(v) * float(v[0]))(x)"),
    ("grad int(v)", "jax.grad(lambda v: jnp.sum(v) * int(v[0]))(x)"),
    ("grad .item()", "jax.grad(lambda v: jnp.sum(v) * v[0].item())(x)"),
    ("grad bool(v)", "jax.grad(lambda v: jnp.sum(v) * bool(v[0] > 0))(x)"),
    ("grad if", "jax.grad(lambda v: jnp.sum(v) if v[0] > 0 else 0.0)(x)"),
    ("grad .tolist()", "jax.grad(lambda v: jnp.sum(v) * v.tolist()[0])(x)"),
    ("grad np.asarray(v)", "jax.grad(lambda v: jnp.sum(v) * np.asarray(v)[0])(x)"),
    ("grad jnp.asarray(v)", "jax.grad(lambda v: jnp.sum(jnp.asarray(v)))(x)"),
    ("grad float(stop_gradient)", "jax.grad(lambda v: jnp.sum(v) * float(jax.lax.stop_gradient(v)[0]))(x)"),
    ("grad float(argmax)", "jax.grad(lambda v: jnp.sum(v) * float(jnp.argmax(v)))(x)"),
    ("grad float(v > 0)", "jax.grad(lambda v: jnp.sum(v) * float(v[0] > 0))(x)"),
    ("grad float of closure", "jax.grad(lambda v: jnp.sum(v) * float(x[0]))(x)"),
    ("grad float of other arg", "jax.grad(lambda v, w: jnp.sum(v) * float(w[0]))(x, x)"),
    ("grad argnums=1 float", "jax.grad(lambda v, w: jnp.sum(v) * float(w[0]), argnums=1)(x, x)"),
    ("jacrev float(v)", "jax.jacrev(lambda v: v * float(v[0]))(x)"),
    ("jacfwd float(v)", "jax.jacfwd(lambda v: v * float(v[0]))(x)"),
    ("jacfwd int(v)", "jax.jacfwd(lambda v: v * int(v[0]))(x)"),
    ("hessian float(v)", "jax.hessian(lambda v: jnp.sum(v) * float(v[0]))(x)"),
    ("hessian if", "jax.hessian(lambda v: jnp.sum(v ** 2) if v[0] > 0 else 0.0)(x)"),
    ("jvp float(v)", "jax.jvp(lambda v: v * float(v[0]), (x,), (x,))[1]"),
    ("jvp .item()", "jax.jvp(lambda v: v * v[0].item(), (x,), (x,))[1]"),
    ("vjp float(v)", "jax.vjp(lambda v: v * float(v[0]), x)[0]"),
    ("linearize float(v)", "jax.linearize(lambda v: v * float(v[0]), x)[0]"),
    ("value_and_grad float(v)", "jax.value_and_grad(lambda v: jnp.sum(v) * float(v[0]))(x)[1]"),
    # 3. fori_loop's index is a tracer
    ("fori x[:i]", "jax.lax.fori_loop(0, 2, lambda i, v: v.at[:i].set(0.0), x)"),
    ("fori range(i)", "jax.lax.fori_loop(0, 2, lambda i, v: v * sum(1.0 for _ in range(i)), x)"),
    ("fori if i > 1", "jax.lax.fori_loop(0, 3, lambda i, v: v * 2.0 if i > 1 else v, x)"),
    ("fori int(i)", "jax.lax.fori_loop(0, 3, lambda i, v: v * int(i), x)"),
    ("fori v[:i].sum()", "jax.lax.fori_loop(0, 3, lambda i, v: v + v[:i].sum(), x)"),
    ("fori v[i]", "jax.lax.fori_loop(0, 3, lambda i, v: v * v[i], x)"),
    ("fori v * i", "jax.lax.fori_loop(0, 3, lambda i, v: v * i + v, x)"),
    ("fori v.at[i].set", "jax.lax.fori_loop(0, 3, lambda i, v: v.at[i].set(v[i] * 2.0), x)"),
    ("fori dynamic_slice", "jax.lax.fori_loop(0, 2, lambda i, v: v + jax.lax.dynamic_slice(v, (i,), (1,)), x)"),
    ("fori dynamic_update_slice", "jax.lax.fori_loop(0, 2, lambda i, v: jax.lax.dynamic_update_slice(v, v[:1] * 3.0, (i,)), x)"),
    ("fori jnp.roll(v, i)", "jax.lax.fori_loop(0, 2, lambda i, v: jnp.roll(v, i) * 0.5 + v, x)"),
    ("fori jnp.where(i > 1)", "jax.lax.fori_loop(0, 3, lambda i, v: jnp.where(i > 1, v * 2.0, v), x)"),
    ("fori tuple[i]", "jax.lax.fori_loop(0, 2, lambda i, v: v * (1.0, 2.0)[i], x)"),
    # dynamic indices computed inside a trace
    ("jit dynamic_slice(argmax)", "jax.jit(lambda v: jax.lax.dynamic_slice(v, (jnp.argmax(v),), (1,)))(x)"),
    ("jit roll(argmax)", "jax.jit(lambda v: jnp.roll(v, jnp.argmax(v)))(x)"),
    ("jit .at[argmax].set", "jax.jit(lambda v: v.at[jnp.argmax(v)].set(0.0))(x)"),
    ("vmap dynamic_slice(argmax)", f"jax.vmap(lambda v: jax.lax.dynamic_slice(v, (jnp.argmax(v),), (1,)))({S})"),
    # 4. the same family
    ("scan if carry", "jax.lax.scan(lambda c, _: (c * 2.0 if c[0] > 0 else c, None), x, None, length=2)[0]"),
    ("scan if xs", "jax.lax.scan(lambda c, xi: (c * 2.0 if xi > 0 else c, None), x, x)[0]"),
    ("scan if const xs", "jax.lax.scan(lambda c, xi: (c * 2.0 if xi > 0 else c, None), x, jnp.arange(3.0))[0]"),
    ("vmap if const", "jax.vmap(lambda v, w: v * 2.0 if w > 0 else v)(jnp.stack([x, x]), jnp.array([1.0, -1.0]))"),
    ("checkpoint policy", "jax.checkpoint(lambda v: jnp.sin(v) * v, policy=jax.checkpoint_policies.nothing_saveable)(x)"),
    ("checkpoint policy if", "jax.checkpoint(lambda v: v if v[0] > 0 else -v, policy=jax.checkpoint_policies.nothing_saveable)(x)"),
    ("jit static list", "jax.jit(lambda v, l: v * l[0], static_argnums=(1,))(x, [1.0, 2.0])"),
    ("jit static tuple", "jax.jit(lambda v, l: v * l[0], static_argnums=(1,))(x, (1.0, 2.0))"),
    ("jit static np.array", "jax.jit(lambda v, a: v * a[0], static_argnums=1)(x, np.array([1.0, 2.0]))"),
    ("jit(f).lower", "jax.jit(lambda v: v * 2.0).lower(x)"),
    ("jit float of jnp constant", "jax.jit(lambda v: v * float(jnp.ones(3)[0]))(x)"),
    ("jit list[argmax]", "jax.jit(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)"),
    ("grad np.sin", "jax.grad(lambda v: jnp.sum(np.sin(v)))(x)"),
    ("grad np.sum", "jax.grad(lambda v: np.sum(v * v))(x)"),
    ("grad np.float64(v)", "jax.grad(lambda v: jnp.sum(v) * np.float64(v[0]))(x)"),
    # --- session 35 ---
    # 1. NumPy's own functions of a tracer, in every transform, and outside
    ("35 grad np.sin", "jax.grad(lambda v: jnp.sum(np.sin(v)))(x)"),
    ("35 grad np.exp + np.sum", "jax.grad(lambda v: np.sum(np.exp(v)))(x)"),
    ("35 grad np.dot", "jax.grad(lambda v: np.dot(v, v))(x)"),
    ("35 grad np.linalg.norm", "jax.grad(lambda v: np.linalg.norm(v))(x)"),
    ("35 grad np.clip", "jax.grad(lambda v: jnp.sum(np.clip(v, 0.0, 1.0)))(x)"),
    ("35 grad np.maximum", "jax.grad(lambda v: jnp.sum(np.maximum(v, 0.0)))(x)"),
    ("35 grad np.where", "jax.grad(lambda v: jnp.sum(np.where(v > 0, v, 0.0)))(x)"),
    ("35 grad np.zeros_like", "jax.grad(lambda v: jnp.sum(v + np.zeros_like(v)))(x)"),
    ("35 grad np.asarray", "jax.grad(lambda v: jnp.sum(v) * np.asarray(v)[0])(x)"),
    ("35 grad np.float64", "jax.grad(lambda v: jnp.sum(v) * np.float64(v[0]))(x)"),
    ("35 grad np.sin scalar", "jax.grad(lambda v: jnp.sum(v) * np.sin(v[0]))(x)"),
    ("35 grad np.mean (method)", "jax.grad(lambda v: np.mean(v * v))(x)"),
    ("35 grad np.max (method)", "jax.grad(lambda v: np.max(v))(x)"),
    ("35 grad np.reshape (method)", "jax.grad(lambda v: jnp.sum(np.reshape(v, (3, 1)) ** 2))(x)"),
    ("35 grad np.transpose (method)", "jax.grad(lambda v: jnp.sum(np.transpose(v) ** 2))(x)"),
    ("35 grad np.round (method)", "jax.grad(lambda v: jnp.sum(v * np.round(v)))(x)"),
    ("35 grad np.shape", "jax.grad(lambda v: jnp.sum(v) * np.shape(v)[0])(x)"),
    ("35 grad np.sin(stop_gradient)", "jax.grad(lambda v: jnp.sum(v * np.sin(jax.lax.stop_gradient(v))))(x)"),
    ("35 grad np.sin(argmax)", "jax.grad(lambda v: jnp.sum(v) * np.sin(jnp.argmax(v)))(x)"),
    ("35 grad np.float64(argmax)", "jax.grad(lambda v: jnp.sum(v) * np.float64(jnp.argmax(v)))(x)"),
    ("35 grad np.sin of closure const", "c = jnp.array([0.5, 1.0, 1.5])\njax.grad(lambda v: jnp.sum(v * np.sin(c)))(x)"),
    ("35 grad np const inside", "jax.grad(lambda v: jnp.sum(v * np.sin(np.ones(3))))(x)"),
    ("35 jit np.sin", "jax.jit(lambda v: np.sin(v))(x)"),
    ("35 jit np.float64", "jax.jit(lambda v: v * np.float64(v[0]))(x)"),
    ("35 jit np.sum (method)", "jax.jit(lambda v: v * np.sum(v))(x)"),
    ("35 jit np.sin of np const", "jax.jit(lambda v: v * np.sin(np.ones(3)))(x)"),
    ("35 jit np.sin of jnp const inside", "jax.jit(lambda v: v * np.sin(jnp.ones(3)))(x)"),
    ("35 jit np.sin of jnp closure", "c = jnp.array([0.5, 1.0, 1.5])\njax.jit(lambda v: v * np.sin(c))(x)"),
    ("35 jit np.sin of jnp closure[0]", "c = jnp.array([0.5, 1.0, 1.5])\njax.jit(lambda v: v * np.sin(c[0]))(x)"),
    ("35 vmap np.sin", f"jax.vmap(lambda v: np.sin(v))({S})"),
    ("35 vmap np.float64", f"jax.vmap(lambda v: v * np.float64(v[0]))({S})"),
    ("35 vmap np.sin of jnp const inside", f"jax.vmap(lambda v: v * np.sin(jnp.ones(3)))({S})"),
    ("35 vmap np.mean (method)", f"jax.vmap(lambda v: v * np.mean(v))({S})"),
    ("35 scan np.sin", "jax.lax.scan(lambda c, _: (np.sin(c), None), x, None, length=2)[0]"),
    ("35 fori np.sin", "jax.lax.fori_loop(0, 2, lambda i, v: np.sin(v), x)"),
    ("35 fori np.sin(i)", "jax.lax.fori_loop(0, 2, lambda i, v: v * np.sin(i), x)"),
    ("35 while np.exp", "jax.lax.while_loop(lambda c: c[0] < 10.0, lambda c: np.exp(c), x)"),
    ("35 checkpoint np.sin", "jax.checkpoint(lambda v: np.sin(v))(x)"),
    ("35 jacfwd np.sin", "jax.jacfwd(lambda v: np.sin(v))(x)"),
    ("35 jacrev np.sin", "jax.jacrev(lambda v: np.sin(v))(x)"),
    ("35 hessian np.sin", "jax.hessian(lambda v: jnp.sum(np.sin(v)))(x)"),
    ("35 jvp np.sin", "jax.jvp(lambda v: np.sin(v), (x,), (x,))[1]"),
    ("35 outside np.sin of jnp", "np.sin(jnp.array([0.5, 1.0, 1.5])) * x"),
    ("35 outside np.float64 of jnp", "x * np.float64(jnp.array([0.5, 1.0])[1])"),
    ("35 outside np.asarray of jnp", "x * np.asarray(jnp.ones(3))"),
    # 2. a list or NumPy array marked static
    ("35 jit static list by name", "jax.jit(lambda v, l: v * l[0], static_argnames='l')(x, l=[1.0, 2.0])"),
    ("35 jit static tuple by name", "jax.jit(lambda v, l: v * l[0], static_argnames='l')(x, l=(1.0, 2.0))"),
    ("35 jit static list named first", "t = [1.0, 2.0]\njax.jit(lambda v, l: v * l[0], static_argnums=1)(x, t)"),
    ("35 jit static tuple named first", "t = (1.0, 2.0)\njax.jit(lambda v, l: v * l[0], static_argnums=1)(x, t)"),
    ("35 jit static tuple(list)", "jax.jit(lambda v, l: v * l[0], static_argnums=1)(x, tuple([1.0, 2.0]))"),
    ("35 jit static tuple of lists", "jax.jit(lambda v, l: v * l[0][0], static_argnums=1)(x, ([1.0, 2.0], [3.0, 4.0]))"),
    ("35 jit static tuple of tuples", "jax.jit(lambda v, l: v * l[0][0], static_argnums=1)(x, ((1.0, 2.0), (3.0, 4.0)))"),
    ("35 jit static np.array(tuple)", "jax.jit(lambda v, l: v * l[0], static_argnums=1)(x, np.array((1.0, 2.0)))"),
    ("35 jit static jnp.ones", "jax.jit(lambda v, l: v * l[0], static_argnums=1)(x, jnp.ones(2))"),
    ("35 jit static number", "jax.jit(lambda v, l: v * l, static_argnums=1)(x, 2.0)"),
    ("35 @partial(jit) static list", "@partial(jax.jit, static_argnums=1)\ndef f(v, l):\n    return v * l[0]\nf(x, [1.0, 2.0])"),
    ("35 @partial(jit) static tuple", "@partial(jax.jit, static_argnums=1)\ndef f(v, l):\n    return v * l[0]\nf(x, (1.0, 2.0))"),
    ("35 checkpoint static list", "jax.checkpoint(lambda v, l: v * l[0], static_argnums=(1,))(x, [1.0, 2.0])"),
    # 3. a JAX array made inside the trace
    ("35 jit float(jnp.array)", "jax.jit(lambda v: v * float(jnp.array(2.0)))(x)"),
    ("35 jit int(jnp.ones[0])", "jax.jit(lambda v: v * int(jnp.ones(3)[0]))(x)"),
    ("35 jit if jnp const", "jax.jit(lambda v: v if jnp.ones(3)[0] > 0 else -v)(x)"),
    ("35 jit if jnp closure[0]", "c = jnp.ones(3)\njax.jit(lambda v: v if c[0] > 0 else -v)(x)"),
    ("35 jit float(jnp closure.sum())", "c = jnp.ones(3)\njax.jit(lambda v: v * float(c.sum()))(x)"),
    ("35 jit .tolist of jnp const", "jax.jit(lambda v: v * jnp.ones(3).tolist()[0])(x)"),
    ("35 jit .item of jnp const", "jax.jit(lambda v: v * jnp.ones(3)[0].item())(x)"),
    ("35 jit v[:int(jnp.arange)]", "jax.jit(lambda v: v[:int(jnp.arange(3)[1])])(x)"),
    ("35 jit float(np const)", "jax.jit(lambda v: v * float(np.ones(3)[0]))(x)"),
    ("35 jit jnp const .shape", "jax.jit(lambda v: v * jnp.ones(3).shape[0])(x)"),
    ("35 jit len(jnp const)", "jax.jit(lambda v: v * len(jnp.ones(3)))(x)"),
    ("35 jit float(np.sin(jnp closure))", "c = jnp.ones(3)\njax.jit(lambda v: v * float(np.sin(c)[0]))(x)"),
    ("35 vmap float(jnp const)", f"jax.vmap(lambda v: v * float(jnp.ones(3)[0]))({S})"),
    ("35 grad float(jnp const)", "jax.grad(lambda v: jnp.sum(v) * float(jnp.ones(3)[0]))(x)"),
    ("35 scan float(jnp const)", "jax.lax.scan(lambda c, _: (c * float(jnp.ones(3)[0]), None), x, None, length=2)[0]"),
    ("35 fori float(jnp const)", "jax.lax.fori_loop(0, 2, lambda i, v: v * float(jnp.ones(3)[0]), x)"),
    ("35 while float(jnp const)", "jax.lax.while_loop(lambda c: c[0] < 10.0, lambda c: c * float(jnp.full(3, 2.0)[0]), x)"),
    ("35 checkpoint float(jnp const)", "jax.checkpoint(lambda v: v * float(jnp.ones(3)[0]))(x)"),
    ("35 jacfwd float(jnp const)", "jax.jacfwd(lambda v: v * float(jnp.ones(3)[0]))(x)"),
    ("35 hessian float(jnp const)", "jax.hessian(lambda v: jnp.sum(v ** 2) * float(jnp.ones(3)[0]))(x)"),
    ("35 outside float(jnp const)", "x * float(jnp.ones(3)[0])"),
    ("35 outside if jnp const", "x if jnp.ones(3)[0] > 0 else -x"),
    # 4. a Python list indexed by a tracer
    ("35 grad list[argmax]", "jax.grad(lambda v: jnp.sum(v) * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)"),
    ("35 vmap list[argmax]", f"jax.vmap(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])({S})"),
    ("35 scan list[argmax]", "jax.lax.scan(lambda c, _: (c * [1.0, 2.0, 3.0][jnp.argmax(c)], None), x, None, length=2)[0]"),
    ("35 fori list[i]", "jax.lax.fori_loop(0, 2, lambda i, v: v * [1.0, 2.0][i], x)"),
    ("35 checkpoint list[argmax]", "jax.checkpoint(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)"),
    ("35 jacfwd list[argmax]", "jax.jacfwd(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)"),
    ("35 hessian list[argmax]", "jax.hessian(lambda v: jnp.sum(v ** 2) * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)"),
    ("35 jit named list[argmax]", "l = [1.0, 2.0, 3.0]\njax.jit(lambda v: v * l[jnp.argmax(v)])(x)"),
    ("35 jit range[argmax]", "jax.jit(lambda v: v * range(5)[jnp.argmax(v)])(x)"),
    ("35 jit list of arrays[argmax]", "jax.jit(lambda v: jnp.sum([v, 2.0 * v, 3.0 * v][jnp.argmax(v)]))(x)"),
    ("35 jit jnp.array(list)[argmax]", "jax.jit(lambda v: v * jnp.array([1.0, 2.0, 3.0])[jnp.argmax(v)])(x)"),
    ("35 jit list[int literal]", "jax.jit(lambda v: v * [1.0, 2.0, 3.0][1])(x)"),
    ("35 outside list[argmax]", "x * [1.0, 2.0, 3.0][jnp.argmax(x)]"),
    # 5. a constant passed to vmap / scan / fori_loop
    ("35 vmap if const, in_axes None", f"jax.vmap(lambda v, w: v * 2.0 if w > 0 else v, in_axes=(0, None))({S}, 1.0)"),
    ("35 vmap const mapped, no if", f"jax.vmap(lambda v, w: v * w)({S}, jnp.array([1.0, -1.0]))"),
    ("35 scan const xs, no if", "jax.lax.scan(lambda c, xi: (c * xi, None), x, jnp.arange(1.0, 3.0))[0]"),
    ("35 scan if const carry", "jax.lax.scan(lambda c, _: (c if c[0] > 0 else -c, None), jnp.ones(3), None, length=2)[0] * x"),
    ("35 fori if const value", "jax.lax.fori_loop(0, 2, lambda i, v: v if v[0] > 0 else -v, jnp.ones(3)) * x"),
    ("35 fori int counter", "jax.lax.fori_loop(0, 3, lambda i, c: c + 1, 0) * x"),
    ("35 scan const carry and xs", "jax.lax.scan(lambda c, xi: (c + xi, c), 0.0, jnp.arange(3.0))[1] * x"),
    # 6. JAX's ahead-of-time API
    ("35 jit(f).lower().compile()", "jax.jit(lambda v: v * 2.0).lower(x).compile()(x)"),
    ("35 jit(f).trace", "jax.jit(lambda v: v * 2.0).trace(x)"),
    ("35 jax.eval_shape", "jax.eval_shape(lambda v: v * 2.0, x)"),
    # 7. a traced size of a shape
    ("35 jit jnp.zeros((n, 1))", "jax.jit(lambda v, n: v * jnp.zeros((n, 1)))(x, 3)"),
    ("35 jit jnp.full(n)", "jax.jit(lambda v, n: v * jnp.full(n, 2.0))(x, 3)"),
    ("35 jit jnp.eye(n)", "jax.jit(lambda v, n: jnp.eye(n) @ v)(x, 3)"),
    ("35 jit reshape((n,))", "jax.jit(lambda v, n: v.reshape((n,)))(x, 3)"),
    ("35 jit broadcast_to((n, 3))", "jax.jit(lambda v, n: jnp.broadcast_to(v, (n, 3)))(x, 3)"),
    ("35 jit jnp.arange(n)", "jax.jit(lambda v, n: v * jnp.arange(n))(x, 3)"),
    ("35 jit jnp.ones(int(n))", "jax.jit(lambda v, n: v * jnp.ones(int(n)))(x, 3)"),
    ("35 fori jnp.ones(i)", "jax.lax.fori_loop(1, 2, lambda i, v: v + jnp.ones(i).sum(), x)"),
    ("35 vmap jnp.ones(argmax)", f"jax.vmap(lambda v: v * jnp.ones(jnp.argmax(v) + 1).sum())({S})"),
    ("35 vmap in_axes None jnp.ones(n)", f"jax.vmap(lambda v, n: v * jnp.ones(n), in_axes=(0, None))({S}, 3)"),
    ("35 grad jnp.ones(argmax)", "jax.grad(lambda v: jnp.sum(v) * jnp.ones(jnp.argmax(v) + 1).sum())(x)"),
    ("35 grad reshape(argmax)", "jax.grad(lambda v: jnp.sum(v.reshape(jnp.argmax(v) + 1, -1)))(x)"),
    ("35 jit static n: jnp.ones(n)", "jax.jit(lambda v, n: v * jnp.ones(n), static_argnums=1)(x, 3)"),
    ("35 outside jnp.ones(n)", "n = 3\nx * jnp.ones(n)"),
]


def _last(text: str):
    import ast
    tree = ast.parse(text)
    body = ast.Module(body=tree.body[:-1], type_ignores=[])
    return compile(body, "<case>", "exec"), compile(ast.Expression(tree.body[-1].value), "<case>", "eval")


def run_jax() -> dict:
    import jax
    import numpy as np
    jax.config.update("jax_enable_x64", True)
    out = {}
    for name, text in CASES:
        body, last = _last(HEAD + text)

        def f(x):
            scope = {"x": x}
            exec(body, scope)
            return eval(last, scope)
        try:
            value = f(jax.numpy.asarray(X))
            value = np.asarray(value, dtype=float)
        except Exception as err:  # noqa: BLE001 - JAX's exception class is what is recorded
            out[name] = {"error": type(err).__name__, "message": str(err).splitlines()[0][:200] if str(err) else ""}
            continue
        try:
            jac = np.asarray(jax.jacrev(f)(jax.numpy.asarray(X))).tolist()
        except Exception:  # noqa: BLE001 - a value without a reverse derivative: compare values only
            jac = None
        out[name] = {"value": value.tolist(), "jacobian": jac}
    return out


def run_jac() -> dict:
    import numpy as np
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    out = {}
    for name, text in CASES:
        code, x = HEAD + text, {"x": np.array(X)}
        try:
            value = np.asarray(api.evaluate(code, x), dtype=float)
        except JacError as err:
            out[name] = {"error": type(err).__name__, "message": str(err)}
            continue
        except Exception as err:  # noqa: BLE001 - a crash is what the probe looks for
            out[name] = {"error": "CRASH", "message": f"{type(err).__name__}: {err}"}
            continue
        try:
            jac = np.asarray(api.jacobian(code, x)["x"]).tolist()
        except Exception:  # noqa: BLE001
            jac = None
        out[name] = {"value": value.tolist(), "jacobian": jac}
    return out


def _named(jax_error: str, message: str) -> bool:
    """Whether jac's message names JAX's exception class as a word (ConcretizationTypeError does not name TypeError)."""
    import re
    return re.search(rf"(?<![A-Za-z]){re.escape(jax_error)}(?![A-Za-z])", message) is not None


def classify(ours: dict, theirs: dict) -> str:
    import numpy as np
    if "error" in theirs:
        if "error" not in ours:
            return "JAC-ANSWERS-WHERE-JAX-RAISES"
        return "REFUSED-AS-JAX" if _named(theirs["error"], ours["message"]) else "REFUSED-OTHERWISE"
    if "error" in ours:
        return "CRASH" if ours["error"] == "CRASH" else "JAC-REFUSES-WHERE-JAX-ANSWERS"
    same = np.shape(ours["value"]) == np.shape(theirs["value"]) and np.allclose(ours["value"], theirs["value"],
                                                                                 rtol=1e-10, atol=1e-12)
    if same and ours["jacobian"] is not None and theirs["jacobian"] is not None:
        same = np.allclose(ours["jacobian"], theirs["jacobian"], rtol=1e-10, atol=1e-12)
    return "AGREE" if same else "WRONG"


def main() -> None:
    if "--jax" in sys.argv:
        print(json.dumps(run_jax()))
        return
    if "--jac" in sys.argv:
        print(json.dumps(run_jac()))
        return
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[sys.argv.index("--jac-path") + 1] if "--jac-path" in sys.argv else here
    env = {**os.environ, "PYTHONPATH": path}
    theirs = json.loads(subprocess.run(["/work/benchvenv/bin/python", __file__, "--jax"], capture_output=True,
                                       text=True, check=True, env=env).stdout)
    ours = json.loads(subprocess.run(["/work/venv/bin/python", __file__, "--jac"], capture_output=True, text=True,
                                     check=True, env=env).stdout)
    counts = {}
    for name, _ in CASES:
        verdict = classify(ours[name], theirs[name])
        counts[verdict] = counts.get(verdict, 0) + 1
        jax_said = theirs[name].get("error", "answers")
        jac_said = ours[name].get("message", "answers")[:110]
        print(f"{verdict:30s} {name:34s} JAX: {jax_said:30s} jac: {jac_said}")
    print(f"\n{len(CASES)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
