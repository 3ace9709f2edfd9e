"""The float32 probe (session 47): does jac's ``dtype`` warning tell where PyTorch's and NumPy's numbers differ from
jac's float64 ones because the library computes in float32?

Each case is an expression that makes a float32 value (``dtype=`` on a constructor, ``.astype``, ``.float()``,
``.to``, ``np.float32(...)``, a mask or integers made float32) and computes on with it, and a binding of ``x`` (a
float64 scalar or vector, as a user's tensor or array). The library runs it itself (``x`` a float64 array or
tensor); its result differs from jac's (``jac eval --json``, the default ``--dtype float64``) where the library
rounded to float32 somewhere (relative difference past 1e-12: float64's own differences between the libraries'
functions are ~1e-16). Counted: ``missed`` (the numbers differ, jac gives no dtype warning), ``false`` (jac warns
and the numbers are equal), ``caught``, ``quiet`` (equal, no warning), and ``refused`` (jac refuses the text).

    PYTHONPATH=. python benchmarks/float32_47_probe.py [-v]       # this tree
    PYTHONPATH=/work/main python benchmarks/float32_47_probe.py   # another (main), to compare

Prints each missed and false case (all with -v), then the counts.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
import torch
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

# float32 values of three elements (or a scalar), by library: "{x}"-free constructors first, then ones of x
MAKERS = {
    "numpy": ["np.arange(3, dtype=np.float32)", "np.linspace(0, 1, 3, dtype=np.float32)",
              "np.ones(3, dtype=np.float32)", "np.full(3, 2.0, dtype=np.float32)",
              "np.array([1.0, 2.0, 3.0], dtype=np.float32)", "np.asarray([1, 2, 3], dtype=np.float32)",
              "np.arange(3).astype(np.float32)", "np.float32(3.0)", "np.eye(3, dtype=np.float32)[1]",
              "np.arange(1, 4).astype('float32')", "np.zeros(3, dtype=np.float32) + 1",
              "(x > 0).astype(np.float32)",
              # casts that round (warned of before session 47) and casts of the input's values
              "np.float32(0.1)", "np.full(3, 0.1, dtype=np.float32)", "x.astype(np.float32)"],
    "torch": ["torch.arange(3, dtype=torch.float32)", "torch.arange(3).float()", "torch.arange(3).to(torch.float32)",
              "torch.ones(3, dtype=torch.float32)", "torch.full((3,), 2.0, dtype=torch.float32)",
              "torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)", "torch.as_tensor([1, 2, 3], dtype=torch.float32)",
              "torch.linspace(0, 1, 3, dtype=torch.float32)", "torch.eye(3, dtype=torch.float32)[1]",
              "torch.tensor(3.0, dtype=torch.float32)", "(x > 0).float()", "torch.arange(1, 4).type(torch.float32)",
              "torch.tensor([0.1, 0.2, 0.3], dtype=torch.float32)", "x.float()", "x.to(torch.float32)"],
}
# what is computed from the float32 value M (L: the library's module)
FOLLOW = ["M / 10 * x", "M * 0.1 + x", "(M + 0.5) * x", "M / 3 * x", "L.sin(M) * x", "L.exp(M) * x",
          "L.sqrt(M) * x", "M * x", "(M * x).sum()", "M.sum() / 7 * x", "M * M * x", "M * 2 ** -30 + x",
          "L.where(M > 1, M, 0.1) * x", "L.cumsum(M, 0) / 3 * x", "(M @ M) / 3 * x", "L.maximum(M, 1.5) / 3 * x"]
XS = ["1.0", "0.3", "[0.3, 1.0, 2.0]"]

runner = CliRunner()


def library_value(expr: str, library: str, xv: str):
    x = json.loads(xv)
    x = np.asarray(x, dtype=np.float64) if library == "numpy" else torch.tensor(x, dtype=torch.float64)
    out = eval(expr, {"np": np, "torch": torch, "x": x})  # noqa: S307 - the probe's own expressions
    return np.asarray(out.detach().numpy() if library == "torch" else out, dtype=np.float64)


def jac(expr: str, xv: str):
    result = runner.invoke(app, ["eval", expr, f"x={xv}", "--json"])
    report = json.loads(result.stdout)
    if "error" in report:
        return None, report["error"]["message"]
    warned = any(w["kind"] == "dtype" for w in report.get("warnings", ()))
    return np.asarray(report["output"]["value"], dtype=np.float64), warned


def cases():
    k = 0
    for library, makers in MAKERS.items():
        module = "np" if library == "numpy" else "torch"
        for maker in makers:
            for follow in FOLLOW:
                expr = follow.replace("M", f"({maker})").replace("L.", f"{module}.")
                yield library, expr, XS[k % len(XS)]
                k += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    counts = Counter()
    for library, expr, xv in cases():
        value, warned = jac(expr, xv)
        if value is None:
            counts["refused"] += 1
            print(f"refused  {expr}  x={xv}: {warned[:100]}")
            continue
        try:
            theirs = library_value(expr, library, xv)
        except Exception:  # noqa: BLE001 - the library refuses it (a product of scalars): not a case
            counts["library refuses"] += 1
            continue
        differs = not np.allclose(theirs, value, rtol=1e-12, atol=0.0)
        kind = ("caught" if warned else "missed") if differs else ("false" if warned else "quiet")
        counts[kind] += 1
        if args.v or kind in ("missed", "false"):
            print(f"{kind:7}  {expr}  x={xv}")
    print(f"{sum(counts.values())} cases: " + ", ".join(f"{k} {counts[k]}" for k in
                                                       ("caught", "missed", "false", "quiet", "refused",
                                                                        "library refuses")))


if __name__ == "__main__":
    main()
