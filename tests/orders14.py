"""The horder14 harness: higher orders, batches and several outputs through the command line with
``--json`` (what CI scripts read), against ``torch.func`` (PyTorch 2.13).

A case is an expression written in PyTorch's spelling (``torch.tanh(W @ x + b)``,
``a = F.softmax(x, 0); b = x.sum(); a, b``): jac reads it, and PyTorch runs the same text
(``torch_function``), so the reference is the expression itself, not a second transcription. The inputs
are the names of :data:`POOL` the expression reads. ``run`` calls ``jac`` in this process
(``entry.main``) and returns the exit code, the JSON object and standard error; the ``torch_*``
functions compute what each command should print:

- ``hessian``: ``jacfwd(jacrev(f, argnums=i), argnums=j)``, block ``y.shape + x_i.shape + x_j.shape``;
- ``derivative --order K``: ``jacrev`` then K - 1 ``jacfwd`` by the same input;
- ``--batch``: ``torch.func.vmap`` of the same, ``in_dims`` from the batch axes (``None`` for shared);
- several outputs: ``torch.func.vjp`` with one cotangent per output (zeros for those left out), what
  ``torch.autograd.backward([outs], [vs])`` leaves in ``.grad``.

``tests/test_parity_orders14.py`` holds the cases; ``benchmarks/orders14_sweep.py`` runs them at the
special points too and tallies them.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json

import numpy as np

from jacobi_cli.cli import entry


def pool() -> dict:
    """The inputs, by name: random values (the domain of every case below)."""
    rng = np.random.default_rng(14)
    G = rng.uniform(-1, 1, (3, 3))
    return {
        "x": rng.uniform(-1, 1, 4), "y": rng.uniform(-1, 1, 4), "p": rng.uniform(0.5, 2, 4),
        "w": rng.uniform(-1, 1, 4), "b": rng.uniform(-0.5, 0.5, 3), "c": rng.uniform(-1, 1, 3),
        "W": rng.uniform(-1, 1, (3, 4)), "A": G + 3 * np.eye(3), "B": rng.uniform(-1, 1, (3, 3)),
        "P": G @ G.T + np.eye(3), "X": rng.uniform(-1, 1, (2, 4)), "T": rng.uniform(-1, 1, (2, 3)),
        "L": rng.uniform(-2, 2, (2, 5)), "s": np.array(0.7), "t": np.array(-0.4),
        "V": rng.uniform(-1, 1, (2, 3)),
    }


POOL = pool()


def inputs_of(expr: str, pool: dict = POOL) -> dict:
    """The pool's inputs the expression reads, in order of first appearance (assigned names excluded)."""
    tree = ast.parse(expr)
    assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    uses = sorted((node.lineno, node.col_offset, node.id) for node in ast.walk(tree)
                  if isinstance(node, ast.Name) and node.id in pool and node.id not in assigned)
    return {name: pool[name] for name in dict.fromkeys(u[2] for u in uses)}


def output_names(expr: str) -> list | None:
    """The outputs' names when the last statement is a tuple (jac's: the variable, else ``y{k}``)."""
    last = ast.parse(expr).body[-1]
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Tuple)):
        return None
    return [e.id if isinstance(e, ast.Name) else f"y{k}" for k, e in enumerate(last.value.elts)]


# --- jac, through the command line --------------------------------------------------------------------------

def text(value) -> str:
    """A binding's text holding exactly these doubles (repr of Python floats round-trips; inf, nan)."""
    value = np.asarray(value, dtype=np.float64)
    return repr(float(value)) if value.ndim == 0 else repr(value.tolist())


def bindings(inputs: dict) -> list:
    return [f"{n}={text(v)}" for n, v in inputs.items()]


def run(args: list) -> tuple:
    """``(exit code, JSON object or None, stderr)`` of ``jac ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    try:
        obj = json.loads(out.getvalue()) if out.getvalue().strip() else None
    except ValueError:
        obj = None
    return code, obj, err.getvalue()


def array(value) -> np.ndarray:
    """A JSON value as doubles: the strings "NaN", "Infinity", "-Infinity" as NumPy's."""
    def one(v):
        if isinstance(v, list):
            return [one(e) for e in v]
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(v, v) if isinstance(v, str) else v
    return np.asarray(one(value), dtype=np.float64)


# --- PyTorch ------------------------------------------------------------------------------------------------

def torch_function(expr: str, names: list):
    """``f(*tensors)``: the expression run by PyTorch (the last statement is the result)."""
    import torch
    import torch.nn.functional as F

    tree = ast.parse(expr)
    last = tree.body[-1]
    target = ast.copy_location(ast.Name("__result", ast.Store()), last)
    tree.body[-1] = ast.copy_location(ast.Assign(targets=[target], value=last.value), last)
    code = compile(ast.fix_missing_locations(tree), "<case>", "exec")

    def f(*args):
        env = {"torch": torch, "F": F, "np": np, **dict(zip(names, args))}
        exec(code, env)  # noqa: S102 - the test's own expression text
        return env["__result"]
    return f


def tensors(inputs: dict, dtype="float64") -> tuple:
    import torch

    return tuple(torch.tensor(np.asarray(v, dtype=np.float64)).to(getattr(torch, dtype)) for v in inputs.values())


@contextlib.contextmanager
def default_dtype(dtype: str):
    """PyTorch's default dtype for the constants an expression makes (torch.tensor([1.0])), restored after."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def nested(f, i: int, order: int):
    """The order-th derivative of f by argument i: jacrev, then jacfwd (jacrev where no forward rule)."""
    from torch.func import jacfwd, jacrev

    g = jacrev(f, argnums=i)
    for _ in range(order - 1):
        g = _forward_or_reverse(jacfwd, jacrev, g, i)
    return g


def _forward_or_reverse(jacfwd, jacrev, g, i):
    def h(*args):
        try:
            return jacfwd(g, argnums=i)(*args)
        except (NotImplementedError, RuntimeError) as err:
            if "forward" not in str(err).lower() and "not implemented" not in str(err).lower():
                raise
            return jacrev(g, argnums=i)(*args)
    return h


def batched(g, dims):
    """vmap of g over the batch axes ``dims`` (None: shared) when there is a batch."""
    from torch.func import vmap

    return g if dims is None else vmap(g, in_dims=tuple(dims))


def numpy_of(t):
    if isinstance(t, (tuple, list)):
        return type(t)(numpy_of(e) for e in t)
    return t.detach().double().numpy()


def outputs_of(f, k: int | None):
    """f itself (one output) or its k-th output."""
    return f if k is None else (lambda *a: f(*a)[k])


# --- comparison ---------------------------------------------------------------------------------------------

def how(ours, theirs, rtol: float = 1e-9, atol: float = 1e-11) -> str | None:
    """None when equal (NaN equal to NaN, atol scaled by the largest finite entry), else how they differ."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    scale = max(1.0, float(np.max(np.abs(theirs[np.isfinite(theirs)]), initial=0.0)))
    with np.errstate(invalid="ignore"):
        close = np.isclose(ours, theirs, rtol=rtol, atol=atol * scale, equal_nan=True)
    if close.all():
        return None
    bad = ~close
    fo, ft = np.isfinite(ours[bad]), np.isfinite(theirs[bad])
    if (fo & ft).any():
        return "numbers" if (fo & ft).all() else "numbers+nan"
    if (fo & ~ft).all():
        return "torch-nan"
    if (~fo & ft).all():
        return "jac-nan"
    return "nan-places"


# --- one comparison: a command of jac against PyTorch ------------------------------------------------------

def batch_args(batch: dict | None) -> list:
    return [a for n, axis in (batch or {}).items() for a in ("--batch", f"{n}:{axis}")]


def batch_size(inputs: dict, batch: dict | None) -> int | None:
    if not batch:
        return None
    n, axis = next(iter(batch.items()))
    return np.asarray(inputs[n]).shape[axis]


def example_shape(value, name: str, batch: dict | None) -> tuple:
    """One example's shape of an input (the batch axis removed when it is batched)."""
    shape = list(np.shape(value))
    if batch and name in batch:
        del shape[batch[name]]
    return tuple(shape)


class Mismatch(AssertionError):
    """jac's JSON is not what the contract says, or its numbers are not PyTorch's."""


def reference(command: str, expr: str, inputs: dict, batch=None, dtype="float64", order=None, wrt=None,
              v=None, tangent=None) -> dict:
    """What PyTorch computes for the command: ``{"value": ..., (key, ...): array}`` as numpy arrays."""
    import torch
    from torch.func import jacfwd, jacrev, jvp, vjp

    names = list(inputs)
    f = torch_function(expr, names)
    outs = output_names(expr)
    keys = outs or [None]
    wrt = list(wrt or names)
    dims = [batch.get(n) for n in names] if batch else None
    with default_dtype(dtype):
        args = tensors(inputs, dtype)
        found = {"value": numpy_of(batched(f, dims)(*args))}
        for k, out in enumerate(keys):
            fk = outputs_of(f, None if out is None else k)
            for i, a in enumerate(names):
                if a not in wrt:
                    continue
                if command == "eval":
                    found[(out, a)] = numpy_of(batched(jacrev(fk, argnums=i), dims)(*args))
                elif command == "derivative":
                    found[(out, a)] = numpy_of(batched(nested(fk, i, order), dims)(*args))
                elif command == "hessian":
                    for j, b in enumerate(names):
                        if b in wrt:
                            g = _forward_or_reverse(jacfwd, jacrev, jacrev(fk, argnums=i), j)
                            found[(out, f"{a},{b}")] = numpy_of(batched(g, dims)(*args))
        if command == "vjp":
            found.update(_torch_vjp(f, args, names, wrt, keys, v, dims, dtype, vjp))
        if command == "jvp":
            found.update(_torch_jvp(f, args, names, wrt, keys, tangent, dims, dtype, jvp, torch))
    return found


def _torch_vjp(f, args, names, wrt, keys, v, dims, dtype, vjp):
    """``torch.autograd.backward([outs], [vs])``: the outputs without a cotangent count as zero."""
    import torch

    n = len(args)
    given = [None if v.get(out) is None else torch.tensor(v[out]).to(getattr(torch, dtype)) for out in keys]

    def g(*a):
        primal, cots = a[:n], a[n:]
        result, pull = vjp(f, *primal)
        results = result if keys != [None] else (result,)
        it = iter(cots)
        cot = tuple(next(it) if given[k] is not None else torch.zeros_like(r) for k, r in enumerate(results))
        grads = pull(cot if keys != [None] else cot[0])
        return tuple(grads[i] for i, a in enumerate(names) if a in wrt)

    supplied = [c for c in given if c is not None]
    in_dims = None if dims is None else tuple(dims) + (0,) * len(supplied)
    grads = batched(g, in_dims)(*args, *supplied)
    return {a: numpy_of(t) for a, t in zip([a for a in names if a in wrt], grads)}


def _torch_jvp(f, args, names, wrt, keys, tangent, dims, dtype, jvp, torch):
    """jvp with the given tangents (zeros for the inputs without one); a shared input's tangent with a batch
    axis (``tangent[name][1]`` is its axis, else None) varies per example."""
    n = len(args)
    tans, tdims = [], []
    for i, a in enumerate(names):
        value, axis = tangent.get(a, (None, None)) if a in wrt else (None, None)
        if value is None:
            tans.append(torch.zeros_like(args[i]) if dims is None or dims[i] is None
                        else torch.zeros_like(args[i]))
            tdims.append(dims[i] if dims else None)
        else:
            tans.append(torch.tensor(value).to(getattr(torch, dtype)))
            tdims.append(axis)

    def g(*a):
        return jvp(f, tuple(a[:n]), tuple(a[n:]))[1]

    in_dims = None if dims is None else tuple(dims) + tuple(tdims)
    result = batched(g, in_dims)(*args, *tans)
    results = result if keys != [None] else (result,)
    return {("jvp", out): numpy_of(r) for out, r in zip(keys, results)}


def jac_args(command: str, expr: str, inputs: dict, batch=None, dtype="float64", order=None, wrt=None,
             v=None, tangent=None) -> list:
    args = [command, expr, *bindings(inputs), "--json", *batch_args(batch)]
    if dtype != "float64":
        args += ["--dtype", dtype]
    if order is not None:
        args += ["--order", str(order)]
    for name in wrt or ():
        args += ["--wrt", name]
    several = output_names(expr) is not None
    for out, value in (v or {}).items():
        if value is not None:
            args += ["--v", f"{out}={text(value)}" if several else text(value)]
    for name, (value, _) in (tangent or {}).items():
        args += ["--tangent", f"{name}={text(value)}"]
    return args


def blocks(command: str, obj: dict, expr: str) -> dict:
    """jac's numbers keyed as :func:`reference` keys PyTorch's, each ``(shape field, array)``."""
    outs = output_names(expr)
    found = {}
    if command == "eval":
        per = obj["jacobians"] if outs else {None: obj["jacobian"]}
        found = {(out, a): b for out, bs in per.items() for a, b in bs.items()}
    elif command == "hessian":
        per = obj["hessians"] if outs else {None: obj["hessian"]}
        found = {(out, key): b for out, bs in per.items() for key, b in bs.items()}
    elif command == "derivative":
        per = obj["derivatives"] if outs else {None: obj["derivative"]}
        found = {(out, a): b for out, bs in per.items() for a, b in bs.items()}
    elif command == "vjp":
        found = dict(obj["vjp"])
    elif command == "jvp":
        per = obj["jvps"] if outs else {None: obj["jvp"]}
        found = {("jvp", out): b for out, b in per.items()}
    return found


def contract_shape(command: str, key, y_shape: tuple, shapes: dict, order=None) -> tuple:
    """The shape the contract gives a block: one example's."""
    if command == "eval":
        return y_shape + shapes[key[1]]
    if command == "hessian":
        a, b = key[1].split(",")
        return y_shape + shapes[a] + shapes[b]
    if command == "derivative":
        return y_shape + shapes[key[1]] * order
    if command == "vjp":
        return shapes[key]
    return y_shape


def compare(command: str, expr: str, inputs: dict, batch=None, dtype="float64", order=None, wrt=None,
            v=None, tangent=None, rtol=None, atol=None, second_opinion=True) -> tuple:
    """``(kind, detail)``: agree, differ, refused, both-raise, torch-raises, crash, contract (the JSON is
    not what CONTRACT.md says: a key, a shape, an exit code) or torch-func (jac differs from ``torch.func``
    but agrees with :func:`autograd_reference`, PyTorch's create_graph autograd example by example)."""
    import warnings

    rtol = rtol or (1e-9 if dtype == "float64" else 2e-4)
    atol = atol or (1e-11 if dtype == "float64" else 1e-5)
    options = dict(batch=batch, dtype=dtype, order=order, wrt=wrt, v=v, tangent=tangent)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = reference(command, expr, inputs, **options)
        terr = None
    except Exception as err:  # noqa: BLE001 - PyTorch's refusals, whatever they are
        theirs, terr = None, f"{type(err).__name__}: {str(err).splitlines()[0][:100]}"
    code, obj, err = run(jac_args(command, expr, inputs, **options))
    if "Traceback" in err or code not in (0, 2):
        return "crash", f"exit {code}: {err.strip()[-300:]}"
    if code == 2:
        lines = [line for line in err.splitlines() if line.startswith("jac: error")]
        if len(lines) != 1 or not (obj and "error" in obj):
            return "contract", f"exit 2 without one message and a JSON error: {err[-200:]}"
        return ("both-raise" if terr else "refused"), lines[0][:160]
    if terr:
        return "torch-raises", terr
    try:
        found = _differences(command, expr, inputs, obj, theirs, batch, order, rtol, atol)
    except Mismatch as bad:
        return "contract", str(bad)
    values = theirs["value"] if output_names(expr) else [theirs["value"]]
    if found and second_opinion and command in ("hessian", "derivative") and second_opinion_affordable(
            inputs, wrt, order, max(np.size(v) for v in values)):
        second = {"value": theirs["value"], **autograd_reference(command, expr, inputs, batch, dtype, order, wrt)}
        if not _differences(command, expr, inputs, obj, second, batch, order, rtol, atol):
            return "torch-func", "; ".join(found) + " (jac agrees with create_graph autograd, example by example)"
    return ("differ", "; ".join(found)) if found else ("agree", "")


def second_opinion_affordable(inputs: dict, wrt, order, outputs: int = 1) -> bool:
    """Nested create_graph Jacobians make size + size² + ... backward passes, each on a growing graph: up to
    order 3, or order 4 of a one-element output by at most 4 elements."""
    order = order or 2
    size = max(np.size(inputs[n]) for n in (wrt or inputs))
    return order <= 3 or outputs * size ** order <= 256


def _differences(command, expr, inputs, obj, theirs, batch, order, rtol, atol) -> list:
    outs = output_names(expr)
    size = batch_size(inputs, batch)
    lead = () if size is None else (size,)
    shapes = {n: example_shape(value, n, batch) for n, value in inputs.items()}
    axes = {n: axis % np.ndim(inputs[n]) for n, axis in (batch or {}).items()}  # -1 is written as it counts
    if batch and obj.get("batch") != {"size": size, "inputs": axes}:
        raise Mismatch(f"batch key {obj.get('batch')}")
    values = theirs["value"] if outs else (theirs["value"],)
    if outs:
        if "output" in obj or [o["name"] for o in obj["outputs"]] != outs:
            raise Mismatch("several outputs: 'outputs' with their names, no 'output'")
        records = obj["outputs"]
    else:
        records = [obj["output"]]
    found = []
    y_shapes = {}
    for out, record, value in zip(outs or [None], records, values):
        y_shapes[out] = tuple(value.shape[len(lead):])
        if tuple(record["shape"]) != y_shapes[out]:
            raise Mismatch(f"output {out} shape {record['shape']}, one example's is {list(y_shapes[out])}")
        what = how(array(record["value"]), value, rtol, atol)
        if what:
            found.append(f"value {what}")
    mine = blocks(command, obj, expr)
    wanted = {k: t for k, t in theirs.items() if k != "value"}
    if set(mine) != set(wanted):
        raise Mismatch(f"blocks {sorted(map(str, mine))}, expected {sorted(map(str, wanted))}")
    for key, block in mine.items():
        y_shape = y_shapes[key[0]] if isinstance(key, tuple) and key[0] != "jvp" else (
            y_shapes[key[1]] if isinstance(key, tuple) else ())
        shape = contract_shape(command, key, y_shape, shapes, order)
        if tuple(block["shape"]) != shape:
            raise Mismatch(f"{key}: shape {block['shape']}, the contract's {list(shape)}")
        if command == "derivative" and block.get("order") != order:
            raise Mismatch(f"{key}: order {block.get('order')}")
        value = array(block["value"])
        if value.shape != lead + shape:
            raise Mismatch(f"{key}: value of shape {value.shape}, expected {lead + shape}")
        what = how(value, wanted[key], rtol, atol)
        if what:
            found.append(f"{key} {what}")
    return found


def autograd_reference(command: str, expr: str, inputs: dict, batch=None, dtype="float64", order=None,
                       wrt=None) -> dict:
    """The derivatives of :func:`reference` (hessian, derivative) by PyTorch's other machinery: nested
    ``torch.autograd.functional.jacobian(..., create_graph=True)`` (``create_graph`` autograd, no
    ``torch.func``), one example at a time in a Python loop (no vmap). Where ``torch.func`` is wrong
    (its forward-over-reverse of ``det`` and ``solve`` past order 2, ``vmap`` of ``det``'s Hessian), this
    is the second opinion, and central differences the third (``tests/test_parity_orders14.py``)."""
    names = list(inputs)
    f = torch_function(expr, names)
    outs = output_names(expr)
    wrt = list(wrt or names)
    size = batch_size(inputs, batch)
    examples = [inputs] if size is None else [
        {n: np.take(v, e, axis=batch[n]) if n in batch else v for n, v in inputs.items()} for e in range(size)]
    found = {}
    with default_dtype(dtype):
        for one in examples:
            args = tensors(one, dtype)
            for k, out in enumerate(outs or [None]):
                fk = outputs_of(f, None if out is None else k)
                for i, a in enumerate(names):
                    if a not in wrt:
                        continue
                    if command == "derivative":
                        found.setdefault((out, a), []).append(numpy_of(_autograd_nested(fk, args, [i] * order)))
                    else:
                        for j, b in enumerate(names):
                            if b in wrt:
                                found.setdefault((out, f"{a},{b}"), []).append(
                                    numpy_of(_autograd_nested(fk, args, [i, j])))
    return {key: (v[0] if size is None else np.stack(v)) for key, v in found.items()}


def _autograd_nested(f, args, argnums):
    """d^K f / d args[argnums[0]] ... d args[argnums[-1]], by nested create_graph Jacobians."""
    from torch.autograd.functional import jacobian

    g = f
    for i in argnums:
        g = _jacobian_by(jacobian, g, i)
    return g(*args)


def _jacobian_by(jacobian, g, i):
    def h(*args):
        return jacobian(lambda xi: g(*args[:i], xi, *args[i + 1:]), args[i], create_graph=True)
    return h


# --- the pairs of a case ------------------------------------------------------------------------------------

def batch_pairs(group, point, expr, inputs, batch, rng):
    """``(group, point, label, command, expr, inputs, options)`` of a batched case: eval, vjp, jvp (tangents
    of each input's own shape, then of a shared input per example), hessian, derivative K = 2, 3 by the
    first input."""
    outs = output_names(expr) or [None]
    values = _shapes_of(expr, inputs, batch, rng)
    values = values if outs != [None] else (values,)
    v = {out: rng.standard_normal(np.shape(val)) for out, val in zip(outs, values)}
    own = {n: (rng.standard_normal(np.shape(x)), batch.get(n)) for n, x in inputs.items()}
    size = np.shape(inputs[next(iter(batch))])[next(iter(batch.values()))]
    per_example = {n: (rng.standard_normal((size,) + np.shape(x)), 0) if n not in batch else own[n]
                   for n, x in inputs.items()}
    first = next(iter(inputs))
    yield group, point, f"{expr} eval", "eval", expr, inputs, dict(batch=batch)
    yield group, point, f"{expr} vjp", "vjp", expr, inputs, dict(batch=batch, v=v)
    yield group, point, f"{expr} jvp", "jvp", expr, inputs, dict(batch=batch, tangent=own)
    if any(n not in batch for n in inputs):
        yield group, point, f"{expr} jvp per-example", "jvp", expr, inputs, dict(batch=batch, tangent=per_example)
    yield group, point, f"{expr} hessian", "hessian", expr, inputs, dict(batch=batch)
    for order in (2, 3):
        yield (group, point, f"{expr} derivative K={order}", "derivative", expr, inputs,
               dict(batch=batch, order=order, wrt=[first]))


def _shapes_of(expr, inputs, batch, rng):
    """PyTorch's value at random inputs of the same shapes (for the shapes of --v: at zeros solve raises)."""
    return reference("eval", expr, {n: rng.uniform(0.5, 1, np.shape(v)) + (3 * np.eye(3) if np.shape(v)[-2:] == (3, 3)
                                                                           else 0) for n, v in inputs.items()},
                     batch=batch)["value"]


def several_pairs(point, expr, inputs, rng):
    """The pairs of an expression of several outputs: eval, vjp (every --v, then the first or the last
    alone), jvp, hessian, derivative K = 3, and each with a batch of two along a new axis of the first
    input (the second example random, halved)."""
    outs = output_names(expr)
    values = _shapes_of(expr, inputs, None, rng)
    v = {out: rng.standard_normal(np.shape(val)) for out, val in zip(outs, values)}
    first = next(iter(inputs))
    yield "several", point, f"{expr} eval", "eval", expr, inputs, {}
    yield "several", point, f"{expr} vjp all", "vjp", expr, inputs, dict(v=v)
    yield "several", point, f"{expr} vjp {outs[0]} only", "vjp", expr, inputs, dict(v={outs[0]: v[outs[0]]})
    yield "several", point, f"{expr} vjp {outs[-1]} only", "vjp", expr, inputs, dict(v={outs[-1]: v[outs[-1]]})
    tangent = {n: (rng.standard_normal(np.shape(x)), None) for n, x in inputs.items()}
    yield "several", point, f"{expr} jvp", "jvp", expr, inputs, dict(tangent=tangent)
    yield "several", point, f"{expr} hessian", "hessian", expr, inputs, {}
    yield "several", point, f"{expr} derivative K=3", "derivative", expr, inputs, dict(order=3, wrt=[first])
    # the same with a batch of 2 along a new axis 0 of the first input (the second example random)
    x = np.asarray(inputs[first])
    batched = {**inputs, first: np.stack([x, np.asarray(inputs_of(expr)[first]) * 0.5])}
    yield from batch_pairs("several+batch", point, expr, batched, {first: 0}, rng)
