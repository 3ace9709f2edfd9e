"""The dtype16 sweep: ``--dtype float32`` against PyTorch 2.13 in float32, through the Python API and
the CLI's ``--json`` (typer's CliRunner, in process). The cases, tolerances and comparison are in
``tests/dtype16.py``; also the float32 bindings (files of float64 and int64 data, ``NAME:SHAPE``) and
``jac check --dtype float32`` on every case.

    PYTHONPATH=. python benchmarks/dtype16_sweep.py [-k SUBSTRING] [--no-cli] [--verbose]

Prints one line per disagreement, then the tally: cases, agree, differ (by part), refused as PyTorch
refuses, and jac check's false failures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import dtype16  # noqa: E402


def invoker():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    runner = CliRunner()

    def invoke(args):
        result = runner.invoke(app, args)
        try:
            return result.exit_code, json.loads(result.stdout)
        except ValueError:
            raise RuntimeError(f"jac {' '.join(args)}: exit {result.exit_code}: {result.output}") from None
    return invoke


def bindings_sweep(invoke) -> list:
    """float32 from files holding float64 and int64 data, and from NAME:SHAPE: the values jac holds."""
    from jacobi_cli.tools import api

    found = []
    with tempfile.TemporaryDirectory() as tmp:
        f64, i64 = os.path.join(tmp, "f64.npy"), os.path.join(tmp, "i64.npy")
        np.save(f64, np.array([0.1, -1.7, 3.3]))
        np.save(i64, np.array([1, -2, 2**24 + 1]))
        p = api.prepare("x * 2", {"x": f"@{f64}"}, dtype="float32")
        if p.env["x"].dtype != np.float32 or not np.array_equal(p.env["x"], np.array([0.1, -1.7, 3.3], np.float32)):
            found.append(("file float64", f"{p.env['x'].dtype} {p.env['x']}"))
        code, out = invoke(["eval", "--json", "--dtype", "float32", "x * 2", f"x=@{f64}"])
        if [np.float32(v) for v in out["output"]["value"]] != list(np.array([0.1, -1.7, 3.3], np.float32) * 2):
            found.append(("cli file float64", repr(out["output"]["value"])))
        code, out = invoke(["eval", "--json", "--dtype", "float32", "x * 2", f"x=@{i64}"])
        if code != 2:  # 2**24 + 1 is no float32: refused, never rounded
            found.append(("file int64 beyond 2**24", f"exit {code}: {out}"))
        p = api.prepare("x * 2", {"x": ":3"}, dtype="float32")
        p64 = api.prepare("x * 2", {"x": ":3"}, dtype="float64")
        if p.env["x"].dtype != np.float32 or not np.array_equal(p.env["x"], p64.env["x"].astype(np.float32)):
            found.append(("NAME:SHAPE", f"{p.env['x'].dtype} {p.env['x']} vs {p64.env['x']}"))
    return found


def check_sweep(cases) -> tuple:
    """jac check --dtype float32 on each case: (checked, false failures, failures float64 shares). A case
    that fails in float64 too has a jump at the point itself (x % 2 at x = 2, x.long() at 2.0): a true
    failure, not float32's."""
    from jacobi_cli.tools import api
    from jacobi_cli.tools.check import check

    checked, failed, shared = 0, [], []
    for _, expr, _ in cases:
        try:
            results = {d: check(api.prepare(expr, dtype16.inputs_of(expr), dtype=d)) for d in ("float32", "float64")}
        except Exception as err:  # noqa: BLE001 - reported, not fatal
            failed.append((expr, f"{type(err).__name__}: {err}"))
            continue
        checked += 1
        for name, r in results["float32"].items():
            if not r.passed:
                why = f"{name}: abs {r.max_abs_error:.3g} rel {r.max_rel_error:.3g}"
                (shared if not results["float64"][name].passed else failed).append((expr, why))
    return checked, failed, shared


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    from jacobi_cli.errors import JacError
    invoke = None if args.no_cli else invoker()
    cases = [c for c in dtype16.CASES if args.k in c[1]]
    tally, parts = Counter(), Counter()
    for group, expr, torch_expr in cases:
        try:
            found = dtype16.run_case(expr, torch_expr, invoke)
        except JacError as err:
            tally["jac refuses"] += 1
            print(f"jac-refuses  {expr}  | {err}", flush=True)
            continue
        tally["cases"] += 1
        notes = [f for f in found if f[0] == "torch-no-derivative"]  # PyTorch has none: the value compared
        tally["torch has no derivative (value compared)"] += bool(notes)
        found = [f for f in found if f[0] != "torch-no-derivative"]
        tally["agree" if not found else "differ"] += 1
        for part, why in found:
            parts[part.split(" ")[0] if part.startswith(("api", "cli")) else part.split(" ")[0]] += 1
            print(f"differs      [{group}] {expr}  | {part}: {why}", flush=True)
        if args.verbose and not found:
            print(f"agrees       [{group}] {expr}")
    refused = 0
    documented = [c for c in getattr(dtype16, "DOCUMENTED", []) if args.k in c[1]]
    for group, expr in documented:
        print(f"documented   [{group}] {expr}  (PyTorch refuses; jac accepts: docs/vocabulary-elementwise.md)")
    for group, expr in dtype16.REFUSED:
        if args.k not in expr:
            continue
        try:
            dtype16_value = np.asarray(__import__("jacobi_cli.tools.api", fromlist=["api"]).evaluate(
                expr, dtype16.inputs_of(expr), dtype="float32"))
            print(f"accepted     [{group}] {expr} -> {dtype16_value}  (PyTorch refuses)")
        except JacError as err:
            refused += 1
            if args.verbose:
                print(f"refused      [{group}] {expr}  | {err}")
    bad_bindings = bindings_sweep(invoke or invoker())
    for what, why in bad_bindings:
        print(f"binding      {what}  | {why}")
    checked, false_failures, shared = check_sweep(cases)
    for expr, why in false_failures:
        print(f"check-fails  {expr}  | {why}")
    for expr, why in shared:
        print(f"check-jump   {expr}  | {why} (float64 fails too: a jump at the point)")
    print(f"\ncases {tally['cases']}: agree {tally['agree']}, differ {tally['differ']} {dict(parts)}; "
          f"jac refuses {tally['jac refuses']}; PyTorch has no derivative (value compared) "
          f"{tally['torch has no derivative (value compared)']}")
    print(f"PyTorch refuses {len([c for c in dtype16.REFUSED if args.k in c[1]])}: jac refuses {refused}")
    print(f"PyTorch refuses, jac accepts as a documented difference: {len(documented)}")
    print(f"bindings: {len(bad_bindings)} problems; jac check --dtype float32: {checked} checked, "
          f"{len(false_failures)} false failures, {len(shared)} failures float64 shares (a jump at the point)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
