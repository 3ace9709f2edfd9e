"""The everyday differentiable functions, called as users call them and checked against the libraries (session 41).

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/vocab41_probe.py [--only NS] [--list] [--wrong])

For every public callable of ``torch``, ``torch.nn.functional``, ``torch.linalg``, ``torch.special``, ``numpy``,
``numpy.linalg``, ``jax.numpy``, ``jax.nn`` (``dir()``: no classes, no submodules, no in-place ``name_``, no
random / I/O / configuration names) and every public method of ``torch.Tensor`` (``x.NAME(...)``), the probe tries
typical argument lists (``TEMPLATES``: a vector, a matrix, two vectors, a matrix and a vector, a vector and a
scalar, ``dim=`` / ``axis=``, ``keepdim``, three operands, a batch of 1-d and 2-d images with a weight). The library
itself runs each text first: a template counts when it gives a floating result that depends on an input (PyTorch:
``requires_grad`` of the result; JAX / NumPy: a floating dtype), the same on a second run (no draws). jac then runs
the same text (``api.evaluate`` and ``api.jacobian``) and each name is classified over its counting templates:

- ``ANSWERED``: jac answers at least one, and every answer agrees (value to 1e-9 relative; the Jacobian with
  PyTorch's ``autograd.functional.jacobian`` / JAX's ``jacrev`` to 1e-7, NumPy's by central differences to 1e-5);
- ``WRONG``: a jac answer (value or Jacobian) differs from the library's;
- ``REFUSED``: jac refuses (a JacError) every template the library answers;
- ``CRASH``: an exception that is no JacError;
- ``LIBDIFF``: jac's Jacobian differs from PyTorch's / JAX's autodiff but agrees with central differences of that
  library's own values, which the library's does not (JAX's ``unique`` family differentiates to 0);
- not counted: names no template fits (the library refuses all, or answers nothing differentiable).

Prints the counts per namespace, then the refused names ranked by how everyday they are (``EVERYDAY``: the names of
tutorials and model code first), and with ``--wrong`` every disagreement. A few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from fuzzkit import differ, with_timeout  # noqa: E402

INPUTS = {  # generic values: no entry at an integer, a half, a power of two, no exact quotient of two entries
    "x": np.array([0.31, 0.47, 0.73, 0.89]),
    "y": np.array([0.83, 0.41, 0.62, 0.19]),
    "z": np.array([1.53, 2.47, 3.61, 1.27]),
    "v": np.array([0.43, -0.71, 1.13]),
    "A": np.array([[2.03, 0.51, 0.33], [0.51, 1.57, 0.21], [0.33, 0.21, 1.87]]),
    "B": np.array([[0.93, -0.23, 0.41], [0.13, 1.37, -0.53], [0.71, 0.29, 1.17]]),
    "M": np.array([[0.23, 0.71, -0.43, 1.13], [0.91, -0.37, 0.53, 0.61], [-0.83, 0.59, 1.31, 0.17]]),
    "X3": np.linspace(-1.03, 1.21, 12).reshape(1, 2, 6),
    "W3": np.linspace(0.53, -0.61, 12).reshape(3, 2, 2),
    "X4": np.random.default_rng(41).uniform(-1, 1, (1, 2, 4, 4)).round(3) + 0.0007,
    "W4": np.random.default_rng(42).uniform(-1, 1, (3, 2, 2, 2)).round(3) + 0.0007,
}
SYMMETRIC = {"cholesky", "eigh", "eigvalsh"}  # NumPy reads one triangle; jac's derivative is PyTorch's at a symmetric A

# argument lists; AX is ``dim`` (PyTorch) or ``axis`` (NumPy, JAX), KEEP ``keepdim`` or ``keepdims``
TEMPLATES = [
    ["x"], ["z"], ["A"], ["M"], ["x", "y"], ["A", "B"], ["A", "v"], ["A", "M"], ["M", "x"],
    ["x", "2"], ["x", "0.5"], ["1", "z"], ["x", "AX=0"], ["M", "AX=1"], ["M", "AX=0"], ["M", "AX=1", "KEEP=True"],
    ["x", "y", "0.3"], ["x", "y", "z"], ["X3"], ["X3", "2"], ["X3", "W3"], ["X4"], ["X4", "2"], ["X4", "W4"],
    ["M", "IDX"], ["IDX", "M"], ["x", "IDX"], ["x", "0", "IDX"], ["'ij,jk->ik'", "A", "M"],
    ["(x, y)"], ["(A, B)", "AX=1"], ["A", "0", "1"], ["M", "(4, 3)"], ["M", "-1"], ["M", "1", "0", "2"],
    ["M", "(1, 0)"], ["M", "(4,)"], ["x > 0.5", "x", "y"], ["x", "x > 0.5", "0.0"], ["x", "0.5", "0.0"],
    ["M", "2", "0", "1.0"], ["A", "B", "A"], ["v", "A", "v"], ["X4[0]", "X4[0]"], ["X4[0]", "X4[0]", "X4[0]"],
]
IDX = {"torch": "torch.tensor([0, 2, 1])", "numpy": "np.array([0, 2, 1])", "jax": "jnp.array([0, 2, 1])"}
MAX_COUNTED = 4  # templates run by jac per name

SKIP = re.compile(r"rand|normal|bernoulli|multinomial|poisson|binomial|seed|shuffle|permutation|choice|dropout|"
                  r"gumbel|fractional|^set_|^get_|^use_|save|load|^from|file|txt|memmap|compile|jit|export|print|"
                  r"^show|^info$|^who$|^source$|^lookfor$|^test$|debug|cuda|device|thread|^is_|^are_|sparse|quant|"
                  r"dlpack|storage|pin_memory|^empty|^record|^share|^register|^sym_|^typename|deterministic")

EVERYDAY = """
relu sigmoid tanh softmax log_softmax gelu silu elu leaky_relu softplus mse_loss cross_entropy nll_loss l1_loss
binary_cross_entropy binary_cross_entropy_with_logits smooth_l1_loss huber_loss kl_div cosine_similarity normalize
linear conv1d conv2d max_pool1d max_pool2d avg_pool1d avg_pool2d adaptive_avg_pool1d adaptive_avg_pool2d
layer_norm batch_norm group_norm instance_norm pad interpolate embedding one_hot dropout logsumexp
sum mean std var prod max min amax amin norm abs exp log sqrt sin cos pow matmul mm bmm dot outer einsum
cumsum cumprod sort topk clamp clip where maximum minimum cat stack concatenate transpose reshape squeeze
unsqueeze flatten diag trace inv det solve cholesky qr svd eig eigh slogdet lstsq pinv matrix_norm vector_norm
erf erfc expm1 log1p xlogy logit square rsqrt reciprocal sign floor ceil round tril triu kron cross cdist
median quantile nanmean nansum average cov corrcoef diff gradient interp convolve correlate polyval
mish hardtanh hardswish relu6 selu celu softsign tanhshrink logsigmoid glu softmin sinc hypot atan2 arctan2
""".split()


def public(module) -> list:
    out = []
    for name in dir(module):
        if name.startswith("_") or name.endswith("_") or SKIP.search(name):
            continue
        obj = getattr(module, name, None)
        if inspect.ismodule(obj) or inspect.isclass(obj) or not callable(obj):
            continue
        out.append(name)
    return sorted(out)


def render(args: list, lib: str) -> str:
    ax, keep = ("dim", "keepdim") if lib == "torch" else ("axis", "keepdims")
    return ", ".join(IDX[lib] if a == "IDX" else a.replace("AX", ax).replace("KEEP", keep) for a in args)


def used(args: list) -> list:
    words = set(re.findall(r"[A-Za-z_]\w*", " ".join(args)))
    return [n for n in INPUTS if n in words]


# --- the libraries' answers -----------------------------------------------------------------------------------

HEADS = {"torch": "import torch\nimport torch.nn.functional as F\n", "numpy": "import numpy as np\n",
         "jax": "import jax\nimport jax.numpy as jnp\nimport jax.nn\n"}


def scope(lib: str, values: dict) -> dict:
    import jax
    import jax.nn
    import jax.numpy as jnp
    import torch
    import torch.nn.functional as F

    return {"torch": torch, "F": F, "np": np, "jax": jax, "jnp": jnp, **values}


def library_value(lib: str, text: str, names: list, values: dict):
    """The library's result of ``text`` at the arrays ``values`` (its own types)."""
    return eval(text, scope(lib, values))  # noqa: S307 - the probe's own texts


def as_inputs(lib: str, names: list, grad: bool = False) -> dict:
    if lib == "torch":
        import torch
        return {n: torch.tensor(INPUTS[n], dtype=torch.float64, requires_grad=grad) for n in names}
    if lib == "jax":
        import jax.numpy as jnp
        return {n: jnp.asarray(INPUTS[n]) for n in names}
    return {n: INPUTS[n].copy() for n in names}


def lifted(lib: str, vals: dict) -> dict:
    if lib == "torch":
        import torch
        return {n: torch.tensor(v, dtype=torch.float64) for n, v in vals.items()}
    if lib == "jax":
        import jax.numpy as jnp
        return {n: jnp.asarray(v) for n, v in vals.items()}
    return vals


def floating(lib: str, out) -> bool:
    if lib == "torch":
        import torch
        return isinstance(out, torch.Tensor) and out.is_floating_point() and out.requires_grad
    if lib == "jax":
        import jax
        return isinstance(out, jax.Array) and np.issubdtype(out.dtype, np.floating)
    return isinstance(out, (np.ndarray, np.floating)) and np.issubdtype(np.asarray(out).dtype, np.floating)


def to_numpy(lib: str, out) -> np.ndarray:
    if lib == "torch":
        return out.detach().numpy().astype(np.float64)
    return np.asarray(out, dtype=np.float64)


def reference(lib: str, text: str, names: list):
    """[(item text, value, {name: Jacobian})] of the library's floating results, or None when none counts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = as_inputs(lib, names, grad=True)
        out = library_value(lib, text, names, given)
        if any(out is v for v in given.values()) or written(lib, given):  # a ufunc's last positional is out=
            return None
        again = library_value(lib, text, names, as_inputs(lib, names, grad=True))
    items = list(enumerate(out)) if isinstance(out, (tuple, list)) else [(None, out)]
    again = list(again) if isinstance(again, (tuple, list)) else [again]
    found = []
    for (k, item), second in zip(items[:3], again[:3]):
        if not floating(lib, item) or not names:
            continue
        value = to_numpy(lib, item)
        if value.size == 0 or value.size > 400 or not np.array_equal(value, to_numpy(lib, second), equal_nan=True):
            continue
        item_text = text if k is None else f"({text})[{k}]"
        found.append((item_text, value, jacobians(lib, item_text, names)))
    return found or None


def written(lib: str, given: dict) -> bool:
    """Whether the call wrote into an input (NumPy's out=, ``x[0]`` a view of the input)."""
    return lib == "numpy" and any(not np.array_equal(v, INPUTS[n]) for n, v in given.items())


def jacobians(lib: str, text: str, names: list) -> dict:
    if lib == "torch":
        import torch

        def f(*vals):
            return library_value(lib, text, names, dict(zip(names, vals)))
        jac = torch.autograd.functional.jacobian(f, tuple(as_inputs(lib, names).values()))
        return {n: j.numpy() for n, j in zip(names, jac)}
    if lib == "jax":
        import jax

        def g(*vals):
            return library_value(lib, text, names, dict(zip(names, vals)))
        jac = jax.jacrev(g, argnums=tuple(range(len(names))))(*as_inputs(lib, names).values())
        return {n: np.asarray(j) for n, j in zip(names, jac)}
    return {n: central(text, names, n) for n in names}


def central(text: str, names: list, name: str, h: float = 1e-6, lib: str = "numpy") -> np.ndarray:
    base = INPUTS[name]
    cols = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in np.ndindex(base.shape):
            e = np.zeros(base.shape)
            e[i] = h
            vals = as_inputs("numpy", names)
            vals[name] = base + e
            up = to_numpy(lib, library_value(lib, text, names, lifted(lib, vals)))
            vals[name] = base - e
            down = to_numpy(lib, library_value(lib, text, names, lifted(lib, vals)))
            cols.append((up - down) / (2 * h))
    out = np.stack(cols, -1)
    return out.reshape(out.shape[:-1] + base.shape)


# --- jac's answers --------------------------------------------------------------------------------------------

def jac_answer(lib: str, text: str, names: list, value, jacs: dict):
    """("ANSWERED", "") / ("WRONG", why) / ("REFUSED", message) / ("CRASH", message)."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    bindings = {n: INPUTS[n] for n in names}
    try:
        ours = api.evaluate(HEADS[lib] + text, bindings)
        ours_j = api.jacobian(HEADS[lib] + text, bindings, wrt=names)
    except JacError as err:
        return "REFUSED", err.message.split("\n")[0]
    except Exception as err:  # noqa: BLE001 - a crash is a bug to report
        return "CRASH", f"{type(err).__name__}: {err}"[:200]
    cast = re.search(r"\.(float|half|bfloat16)\(\)$", text)  # jac holds one dtype: docs/vocabulary-elementwise.md
    bad = differ(ours, value, None, "float64", ref=lib, rtol=1e-2 if cast else 1e-9)
    if bad:
        return "WRONG", f"value: {bad}"
    rtol = 1e-5 if lib == "numpy" else 1e-7
    for n in names:
        bad = differ(ours_j[n], jacs[n], None, "float64", derivative=True, ref=lib, rtol=rtol)
        if bad and lib == "numpy" and kink(ours_j[n], jacs[n]):
            continue
        if bad and lib == "numpy" and any(f"linalg.{s}(" in text for s in SYMMETRIC):
            bad = differ(pairs(ours_j[n]), pairs(jacs[n]), None, "float64", derivative=True, ref=lib, rtol=rtol)
        if bad and lib != "numpy" and agrees_centrally(ours_j[n], text, names, n, lib):
            return "LIBDIFF", f"d/d{n}: {bad}, jac agrees with central differences of {lib}'s values"
        if bad:
            return "WRONG", f"d/d{n}: {bad}"
    return "ANSWERED", ""


def agrees_centrally(ours, text: str, names: list, name: str, lib: str) -> bool:
    try:
        theirs = central(text, names, name, lib=lib)
    except Exception:  # noqa: BLE001 - a result whose shape jumps (a tie broken) has no central difference
        return False
    return not differ(ours, theirs, None, "float64", derivative=True, ref=lib, rtol=1e-5)


def pairs(jac) -> np.ndarray:
    """A Jacobian by a square matrix read along symmetric directions: entry (i, j), i >= j, is the derivative along
    E_ij + E_ji (E_ii on the diagonal), the only directions a symmetric-matrix function's derivative is defined on."""
    jac = np.asarray(jac, float)
    both = jac + np.swapaxes(jac, -1, -2)
    n = jac.shape[-1]
    both[..., np.arange(n), np.arange(n)] = jac[..., np.arange(n), np.arange(n)]
    return both[..., np.tril_indices(n)[0], np.tril_indices(n)[1]]


def kink(ours, theirs) -> bool:
    """Central differences straddling a kink (sort, abs at a tie) average two slopes; not counted as wrong
    when jac's entries are each 0 or ±1 where they differ and the difference is a half."""
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    if ours.shape != theirs.shape:
        return False
    d = np.abs(ours - theirs) > 1e-5
    return bool(d.any()) and bool(np.all(np.isclose(np.abs(ours[d] - theirs[d]), 0.5, atol=1e-4)))


# --- the run --------------------------------------------------------------------------------------------------

def namespaces() -> list:
    import jax
    import jax.nn
    import jax.numpy as jnp
    import torch
    import torch.nn.functional as F

    return [("torch", "torch", torch, "torch."), ("F", "torch", F, "F."), ("torch.linalg", "torch", torch.linalg,
            "torch.linalg."), ("torch.special", "torch", torch.special, "torch.special."),
            ("np", "numpy", np, "np."), ("np.linalg", "numpy", np.linalg, "np.linalg."),
            ("jnp", "jax", jnp, "jnp."), ("jax.nn", "jax", jax.nn, "jax.nn."),
            ("Tensor methods", "torch", torch.Tensor, None)]


def text_of(prefix, name: str, args: list, lib: str) -> str | None:
    if prefix is not None:
        return f"{prefix}{name}({render(args, lib)})"
    if not re.fullmatch(r"[A-Za-z_]\w*(\[0\])?", args[0]):
        return None
    return f"{args[0]}.{name}({render(args[1:], lib)})"


def classify(prefix, name: str, lib: str) -> tuple:
    outcomes = []
    for args in TEMPLATES:
        text = text_of(prefix, name, args, lib)
        if text is None:
            continue
        names = used(args)
        try:
            found = with_timeout(reference, lib, text, names, seconds=20)
        except Exception:  # noqa: BLE001 - the library refuses this template
            continue
        if not found or found == ("CRASH", "timeout"):
            continue
        for item_text, value, jacs in found:
            out = with_timeout(jac_answer, lib, item_text, names, value, jacs, seconds=30)
            outcomes.append((out[0], item_text, out[1]))
        if len(outcomes) >= MAX_COUNTED:
            break
    kinds = {k for k, _, _ in outcomes}
    for verdict in ("WRONG", "CRASH", "LIBDIFF", "ANSWERED", "REFUSED"):
        if verdict in kinds:
            return verdict, outcomes
    return "UNTRIED", outcomes


def rank(name: str) -> tuple:
    return (EVERYDAY.index(name) if name in EVERYDAY else len(EVERYDAY), name)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=None)
    parser.add_argument("--list", action="store_true", help="every refused name with its message")
    parser.add_argument("--wrong", action="store_true", help="every disagreement")
    parser.add_argument("--names", default=None, help="comma-separated names to try (with --only)")
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    import jax
    jax.config.update("jax_enable_x64", True)
    start = time.monotonic()
    totals = Counter()
    refused_all = []
    for label, lib, module, prefix in namespaces():
        if opts.only and label != opts.only:
            continue
        names = opts.names.split(",") if opts.names else public(module)
        counts = Counter()
        untried = []
        for name in names:
            verdict, outcomes = classify(prefix, name, lib)
            counts[verdict] += 1
            if verdict == "UNTRIED":
                untried.append(name)
            if verdict == "REFUSED":
                refused_all.append((label, name, outcomes[0][1], outcomes[0][2]))
            if verdict in ("WRONG", "CRASH", "LIBDIFF") or (opts.wrong and verdict == "ANSWERED" and
                                                 any(k == "WRONG" for k, _, _ in outcomes)):
                for k, t, why in outcomes:
                    if k in ("WRONG", "CRASH", "LIBDIFF"):
                        print(f"  {k} {label} {t!r}: {why}")
        totals.update(counts)
        print(f"{label}: {len(names)} names: ANSWERED {counts['ANSWERED']}, REFUSED {counts['REFUSED']}, "
              f"WRONG {counts['WRONG']}, CRASH {counts['CRASH']}, library's derivative not its values' {counts['LIBDIFF']}, "
              f"untried {counts['UNTRIED']}", flush=True)
        if opts.list:
            here = [r for r in refused_all if r[0] == label]
            print("  refused: " + " ".join(r[1] for r in sorted(here, key=lambda r: rank(r[1]))), flush=True)
            print("  untried: " + " ".join(n for n in untried), flush=True)
    print(f"\nall: ANSWERED {totals['ANSWERED']}, REFUSED {totals['REFUSED']}, WRONG {totals['WRONG']}, "
          f"CRASH {totals['CRASH']}, LIBDIFF {totals['LIBDIFF']}, untried {totals['UNTRIED']} ({time.monotonic() - start:.0f} s)")
    print("\nrefused, most everyday first:")
    for label, name, text, msg in sorted(refused_all, key=lambda r: rank(r[1])):
        everyday = "*" if name in EVERYDAY else " "
        print(f" {everyday} {label:14s} {text}" + (f"\n      {msg[:150]}" if opts.list else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
