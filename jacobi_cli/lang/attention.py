"""``jax.nn.dot_product_attention`` (session 28; registered in ``functions``' table when ``lang`` is imported),
lowered as JAX's ``implementation='xla'`` computes it onto jac's ops, so its derivatives are those ops' rules.

JAX's layout is (B, T, N, H) for the query and (B, S, K, H) for the key and value (a leading batch may be
left out: the arrays get ones in front, and the result the query's shape back); K key / value heads serve
N = K·G query heads, query head n reading key head n // G (grouped-query attention, as a repeat of the key and
value heads). The logits q·k · scale (1/√H by default), plus ``bias``, are replaced where the boolean ``mask``,
``is_causal``, ``local_window_size`` or the sequence lengths exclude them by JAX's large negative number
(-0.7 × float32's largest), not -inf: a row excluded entirely averages the values with equal weights, as JAX's
does. Query rows past ``query_seq_lengths`` are then 0.

JAX rounds the logits to float32 before its softmax even for float64 inputs; jac computes the softmax in
--dtype, as it reads every ``.astype(jnp.float32)`` (with --dtype float32 the computation is JAX's op for op).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import JacShapeError
from .functions import REQUIRED, Items, JacValueError, _broadcasts_to, _flag, _reshape_to, _take, arguments, boolean, \
    einsum_of, fmt, is_boolean, static, tensor, variant

JAX_NN_ATTENTION = frozenset({"dot_product_attention"})
FNAME = "jax.nn.dot_product_attention"
LARGE_NEGATIVE = -0.7 * float(np.finfo(np.float32).max)  # JAX's _get_large_negative, capped at float32's range


@variant("jax", "dot_product_attention")
def _dot_product_attention(b, args, kwargs, position):
    """jax.nn.dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None, is_causal=False,
    query_seq_lengths=None, key_value_seq_lengths=None, local_window_size=None, implementation=None,
    return_residual=False): softmax(q kᵀ · scale + bias, masked) v per head, in JAX's (B, T, N, H) layout, in
    --dtype throughout; JAX computes this softmax in float32 even under x64 (its XLA path casts the logits), so
    JAX's float64 results differ from jac's by about 1e-8."""
    if len(args) > 5:
        raise JacValueError(f"{FNAME} takes 5 positional arguments (query, key, value, bias, mask), got {len(args)}:"
                            " give scale=, is_causal= and the rest by keyword", position)
    a = arguments(FNAME, args, kwargs, {
        "query": REQUIRED, "key": REQUIRED, "value": REQUIRED, "bias": None, "mask": None, "scale": None,
        "is_causal": False, "query_seq_lengths": None, "key_value_seq_lengths": None, "local_window_size": None,
        "implementation": None, "return_residual": False}, position)
    implementation = static(b, a["implementation"], "implementation", position)
    if implementation not in (None, "xla"):
        raise JacValueError(f"{FNAME}: implementation={implementation!r} is not read by jac (cuDNN's kernel runs on "
                            "NVIDIA GPUs only); give implementation=None or 'xla'", position)
    shape = tuple(tensor(b, a["query"], FNAME, position).shape)
    q, k, v = (_four(b, tensor(b, a[n], FNAME, position), n, position) for n in ("query", "key", "value"))
    batch, t, heads, h = q.shape
    _, s, kv_heads, _ = k.shape
    _check_shapes(q, k, v, position)
    scale = static(b, a["scale"], "scale", position)
    if scale is None:
        scale = 1.0 / math.sqrt(h)
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise JacValueError(f"{FNAME}: scale must be a number, got {scale!r}", position)
    if kv_heads != heads:  # query head n reads key / value head n // G
        repeat = np.arange(heads) // (heads // kv_heads)
        k, v = (_take(b, x, (slice(None), slice(None), repeat), position) for x in (k, v))
    logits = b.apply("mul", einsum_of(b, "btnh,bsnh->bnts", [q, k], position), float(scale), position=position)
    if a["bias"] is not None:
        logits = b.apply("add", logits, _bias_or_mask(b, a["bias"], "bias", logits.shape, position),
                         position=position)
    lengths = [_lengths(b, a[n], n, batch, position) for n in ("query_seq_lengths", "key_value_seq_lengths")]
    keep = _kept(b, a, t, s, lengths, logits.shape, position)
    if keep is not None:
        logits = b.apply("where", keep, logits, LARGE_NEGATIVE, position=position)
    probs = b.apply("softmax", logits, axis=3, position=position)
    out = einsum_of(b, "bnts,bsnh->btnh", [probs, v], position)
    if lengths[0] is not None:  # JAX's encoded *= the query's padding mask
        rows = (np.arange(t)[None, :] < lengths[0][:, None]).astype(b.dtype)[:, :, None, None]
        out = b.apply("mul", out, b.const(rows, position), position=position)
    out = _reshape_to(b, out, shape, position)
    if not _flag(b, a["return_residual"], "return_residual", FNAME, position):
        return out
    lse = b.apply("detach", b.apply("logsumexp", logits, axes=(3,), keepdims=False, position=position),
                  position=position)  # JAX's stop_gradient of the logsumexp: (B, N, T) → (B, T, N)
    lse = _reshape_to(b, b.apply("transpose", lse, axes=(0, 2, 1), position=position), shape[:-1], position)
    return Items((out, lse))


def _four(b, x, what, position):
    """JAX's _ensure_4d: ones in front up to 4 dimensions; more than 4 refused as JAX's shape check does."""
    if x.ndim > 4 or x.ndim < 3 and what in ("query", "key", "value"):
        raise JacShapeError(f"{FNAME}: {what} must be (B, T, N, H) or (T, N, H), got shape {fmt(x.shape)}", position)
    return _reshape_to(b, x, (1,) * (4 - x.ndim) + tuple(x.shape), position)


def _check_shapes(q, k, v, position) -> None:
    if tuple(v.shape) != tuple(k.shape) or q.shape[0] != k.shape[0] or q.shape[3] != k.shape[3]:
        raise JacShapeError(f"{FNAME}: key and value must share their shape (B, S, K, H), and the query be "
                            f"(B, T, N, H) with their B and H; got query {fmt(q.shape)}, key {fmt(k.shape)}, value "
                            f"{fmt(v.shape)}", position)
    if q.shape[2] % k.shape[2]:
        raise JacShapeError(f"{FNAME}: the number of query heads must be a multiple of key / value heads, but got "
                            f"{q.shape[2]} vs {k.shape[2]}", position)


def _bias_or_mask(b, value, what, target, position):
    """bias or mask: at most 4 dimensions (ones put in front), its head axis 1 or N, broadcasting to (B, N, T, S)."""
    x = _four(b, tensor(b, value, FNAME, position), what, position)
    if x.shape[1] not in (1, target[1]) or not _broadcasts_to(tuple(x.shape), tuple(target)):
        raise JacShapeError(f"{FNAME}: {what} of shape {fmt(x.shape)} does not broadcast to the logits' shape "
                            f"{fmt(target)} (B, N, T, S)", position)
    return x


def _lengths(b, value, what, batch, position):
    """query_seq_lengths / key_value_seq_lengths: B integers, constants (they decide which logits are kept)."""
    if value is None:
        return None
    v = np.asarray(static(b, value, what, position))
    if v.shape != (batch,) or not np.all(np.mod(v, 1) == 0):
        raise JacValueError(f"{FNAME}: {what} must be {batch} integers (one per batch row), got {v.tolist()!r}",
                            position)
    return v.astype(np.int64)


def _kept(b, a, t, s, lengths, shape, position):
    """The mask of the logits kept: the mask argument and JAX's causal, window and padding masks (None: all)."""
    fixed = np.ones((1, 1, t, s), dtype=bool)
    if _flag(b, a["is_causal"], "is_causal", FNAME, position):
        fixed &= np.tril(np.ones((t, s), dtype=bool))
    window = static(b, a["local_window_size"], "local_window_size", position)
    if window is not None:
        pair = (window, window) if isinstance(window, (int, float)) else window
        if isinstance(window, bool) or not isinstance(pair, (tuple, list)) or len(pair) != 2 \
                or not all(float(w).is_integer() for w in pair):
            raise JacValueError(f"{FNAME}: local_window_size must be an integer or a (left, right) pair of "
                                f"integers, got {window!r}", position)
        left, right = (int(w) for w in pair)
        rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
        fixed &= (rows <= cols + left) & (rows >= cols - right)
    if any(n is not None for n in lengths):
        q_len = lengths[0] if lengths[0] is not None else np.full(shape[0], t)
        kv_len = lengths[1] if lengths[1] is not None else np.full(shape[0], s)
        fixed = fixed & ((np.arange(t)[None, :, None] < q_len[:, None, None])
                         & (np.arange(s)[None, None, :] < kv_len[:, None, None]))[:, None]
    keep = None if fixed.all() else boolean(b, b.const(fixed.astype(b.dtype), position))
    if a["mask"] is None:
        return keep
    m = _bias_or_mask(b, a["mask"], "mask", shape, position)
    if not is_boolean(b, m):
        raise JacValueError(f"{FNAME}: mask must be boolean (True keeps a logit), as JAX checks; for an additive "
                            "mask give bias=", position)
    return m if keep is None else boolean(b, b.apply("where", m, keep, False, position=position))
