"""pyvalues31: Python's own values (tuples, lists, ints, bools, None, strings) through the text, against Python.

    PYTHONPATH=. /work/venv/bin/python benchmarks/pyvalues31_probe.py [--piece I/N] [-v] [--show wrong]

Each text is a value (``x.shape``, ``len(x)``, ``(1, 2)``, ``range(2)``, ``True``, a tuple of arrays...) passed by
a route (a parameter, a default, a keyword, a return of a def / lambda / closure, a list item, a dict value, a
conditional expression, unpacking, a for loop, a comprehension, zip / enumerate / map...) to a name ``s``, then
used where a Python value and an array differ (``s + (1,)``, ``s * 2``, ``s == ...``, ``x[s]``, ``len(s)``, truth,
``reshape(s)``, ``np.zeros(s)``, int arithmetic...). Python runs it (``exec`` with ``np``, ``torch``, ``jnp``; ``x``
a NumPy array, a tensor in a text naming torch), and so does jac (``api.evaluate``); each text is

- ``agree``: the same value (exactly), and where Python's value is floating, jac's Jacobian by ``x`` within 1e-6
  of Python's central differences;
- ``refused``: jac raised a JacError (a message), whatever Python did;
- ``wrong``: jac gave a value Python does not (or Python raised and jac answered), or a Jacobian off;
- ``crash``: jac raised something else than a JacError.

Prints the counts, and each wrong or crashing text with both values; exit 1 if there is one."""
from __future__ import annotations

import argparse
import ast
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

# the values, each a Python expression of x (numpy unless it names torch)
VALUES = ["x.shape", "x.shape[0]", "len(x)", "x.ndim", "(1, 2)", "[0, 1]", "range(2)", "True", "None", "'mean'",
          "tuple(x.shape)", "list(x.shape)", "(x, 2 * x)", "x.shape[::-1]", "-7", "x.size()"]

# the routes: how the value reaches the name s (P the value, U the use of s)
ROUTES = {
    "name": "s = {P}\n{U}",
    "param": "def g(s):\n    return {U}\ng({P})",
    "param2": "def g(v, s):\n    return {U}\ng(x, {P})",
    "keyword": "def g(v, s=None):\n    return {U}\ng(x, s={P})",
    "default": "def g(s={P}):\n    return {U}\ng()",
    "lambda_param": "g = lambda s: {U}\ng({P})",
    "return": "def f():\n    return {P}\ns = f()\n{U}",
    "identity": "def f(a):\n    return a\ns = f({P})\n{U}",
    "lambda_return": "f = lambda: {P}\ns = f()\n{U}",
    "closure_value": "def make():\n    t = {P}\n    def g():\n        return t\n    return g\ns = make()()\n{U}",
    "closure_use": "def make(t):\n    def g():\n        s = t\n        return {U}\n    return g\nmake({P})()",
    "global_in_def": "s = {P}\ndef g():\n    return {U}\ng()",
    "nested_call": "def f(a):\n    return a\ndef h(a):\n    return f(a)\ns = h({P})\n{U}",
    "list_item": "l = [{P}]\ns = l[0]\n{U}",
    "list_item2": "l = [0, {P}]\ns = l[-1]\n{U}",
    "tuple_item": "t = ({P},)\ns = t[0]\n{U}",
    "dict_value": "d = {{'k': {P}}}\ns = d['k']\n{U}",
    "ifexp": "s = {P} if x.ndim == 2 else None\n{U}",
    "ifexp_else": "s = None if x.ndim == 5 else {P}\n{U}",
    "unpack": "s, t = {P}, 0\n{U}",
    "unpack2": "t, s = 0, {P}\n{U}",
    "unpack_list": "[t, s] = [0, {P}]\n{U}",
    "starred": "*t, s = [0, {P}]\n{U}",
    "for": "for s in [{P}]:\n    pass\n{U}",
    "for_tuple": "for t, s in [(0, {P})]:\n    pass\n{U}",
    "comprehension": "s = [t for t in [{P}]][0]\n{U}",
    "zip": "for t, s in zip([0], [{P}]):\n    pass\n{U}",
    "enumerate": "for t, s in enumerate([{P}]):\n    pass\n{U}",
    "map": "s = list(map(lambda t: t, [{P}]))[0]\n{U}",
    "reassigned": "s = {P}\nt = s\ns = t\n{U}",
    "augmented_name": "t = {P}\ns = t\nt = 0\n{U}",
}

# uses where a Python value and an array differ
USES = ["s + (1,)", "s * 2", "2 * s", "s + s", "s == (2, 3)", "s != (2, 3)", "s < (3,)", "s == 2", "3 in s",
        "x[s]", "len(s)", "1.5 if s else 2.5", "x.reshape(s + (1,))", "np.zeros(s)", "np.array(s)", "max(s)",
        "sum(s)", "min(s)", "s.index(3)", "s.count(3)", "s[::-1]", "s[-1]", "[d * 2 for d in s]", "x + s",
        "x * s", "s // 2", "s % 4", "-s % 4", "s ** 2", "s / 2", "s + True", "s * 2 ** 40", "x.sum() * len(s)",
        "x[0, 0] * np.array(s + (1,))", "x[0, 0] * (s == (2, 3))", "x[0, 0] * np.array(s * 2)", "s is None",
        "s == 'mean'", "np.array(list(reversed(s)))", "sorted(s)", "tuple(s) + (1,)", "list(s) + [1]",
        "np.ones(s) * x.sum()", "x[:, s]", "x[s, :]"]
CORE = ["s + (1,)", "s * 2", "s == (2, 3)", "x[s]", "len(s)", "1.5 if s else 2.5", "x[0, 0] * np.array(s * 2)",
        "x + s", "s // 2", "s is None"]
ROUTED = ["x.shape", "x.shape[0]", "(1, 2)", "[0, 1]", "range(2)", "True", "None", "list(x.shape)", "(x, 2 * x)",
          "x.size()"]
INT_ROUTES = ["name", "param", "default", "return", "closure_value", "list_item", "dict_value", "ifexp", "unpack2",
              "for", "comprehension"]
# int semantics through the same routes
INTS = ["-7 // 2", "-7 % 3", "2 ** 10", "7 / 2", "True + True", "2 ** 62", "x.shape[0] - 5"]
INT_USES = ["s // 2", "s % 3", "-s % 3", "s ** 2", "s / 2", "s + True", "x[0, 0] * s", "x[0, 0] * (s // 3)",
            "s * 2 ** 40", "abs(s)", "divmod(s, 3)", "x[0, 0] * (s % 3)", "float(s) * x[0, 0]", "s == -4",
            "s < -3"]


def texts() -> list:
    """Every text once: all uses of every value through a name, the core uses of the routed values through every
    route, the int uses of the int values through the int routes."""
    out = []
    for value in VALUES:
        out.extend(ROUTES["name"].format(P=value, U=use) for use in USES)
    for value in ROUTED:
        for route, template in ROUTES.items():
            if route != "name":
                out.extend(template.format(P=value, U=use) for use in CORE)
    for value in INTS:
        for route in INT_ROUTES:
            out.extend(ROUTES[route].format(P=value, U=use) for use in INT_USES)
    return list(dict.fromkeys(out))


def python(text: str, x: np.ndarray):
    """``text`` run by Python: its last expression's value as a float array, or the exception raised."""
    import jax.numpy as jnp
    import torch
    tree = ast.parse(text)
    last = tree.body.pop()
    env = {"np": np, "torch": torch, "jnp": jnp, "x": torch.tensor(x) if "torch" in text or ".size()" in text
           else x.copy()}
    try:
        exec(compile(tree, "<text>", "exec"), env)  # noqa: S102 - the probe's own texts
        value = eval(compile(ast.Expression(last.value), "<text>", "eval"), env)  # noqa: S307
    except Exception as err:  # noqa: BLE001 - Python's refusal, whatever it is
        return err
    return as_array(value)


def as_array(value):
    import torch
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    if isinstance(value, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in value):
        value = [v.detach().numpy() if isinstance(v, torch.Tensor) else v for v in value]
    try:
        found = np.asarray(value)
        if found.dtype == object or found.dtype.kind in "USV":
            return TypeError(f"not numbers: {value!r}")
        return found
    except Exception as err:  # noqa: BLE001
        return err


def jac_value(text: str):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    try:
        return np.asarray(api.evaluate(text, {"x": X}))
    except JacError as err:
        return err


def classify(text: str) -> tuple:
    """(kind, detail)."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    want = python(text, X)
    try:
        got = jac_value(text)
    except Exception as err:  # noqa: BLE001 - the probe reports it
        return "crash", f"{type(err).__name__}: {err}"
    if isinstance(got, JacError):
        return "refused", got.message.splitlines()[0][:120]
    if isinstance(want, Exception):
        if isinstance(want, TypeError) and str(want).startswith("not numbers"):
            return "skipped", str(want)
        return "wrong", f"Python raised {type(want).__name__}: {want}; jac gave {got!r}"
    if want.shape != got.shape or not np.array_equal(want.astype(float), got.astype(float), equal_nan=True):
        return "wrong", f"Python {want.tolist()!r}, jac {got.tolist()!r}"
    if want.dtype.kind != "f":
        return "agree", ""
    try:
        jacobian = np.asarray(api.jacobian(text, {"x": X})["x"])
    except JacError as err:
        return "refused", "jacobian: " + err.message.splitlines()[0][:100]
    except Exception as err:  # noqa: BLE001
        return "crash", f"jacobian {type(err).__name__}: {err}"
    h, columns = 1e-6, []
    for j in range(X.size):
        e = np.zeros(X.size)
        e[j] = h
        plus, minus = python(text, X + e.reshape(X.shape)), python(text, X - e.reshape(X.shape))
        if isinstance(plus, Exception) or isinstance(minus, Exception):
            return "agree", "no differences"
        columns.append((plus.astype(float) - minus.astype(float)) / (2 * h))
    expected = np.stack(columns, axis=-1).reshape(want.shape + X.shape)
    if jacobian.shape != expected.shape or not np.allclose(jacobian, expected, rtol=1e-6, atol=1e-6):
        return "wrong", f"Jacobian: Python's differences {expected.ravel()[:8].tolist()}, jac " \
                        f"{jacobian.ravel()[:8].tolist()}"
    return "agree", ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--piece", default="0/1", help="I/N: run every N-th text from the I-th")
    parser.add_argument("-v", action="store_true", help="print refusals too")
    args = parser.parse_args(argv)
    index, pieces = map(int, args.piece.split("/"))
    chosen = texts()[index::pieces]
    counts, bad = {}, []
    for text in chosen:
        kind, detail = classify(text)
        counts[kind] = counts.get(kind, 0) + 1
        if kind in ("wrong", "crash") or args.v and kind == "refused":
            bad.append((kind, text, detail))
    for kind, text, detail in bad:
        print(f"--- {kind}: {text!r}\n    {detail}")
    print(f"{len(chosen)} texts:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("wrong") or counts.get("crash") else 0


if __name__ == "__main__":
    sys.exit(main())
