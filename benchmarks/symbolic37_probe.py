"""Session 37 probe: jac diff --at of the spherical Bessel functions against SciPy, and how long each takes.

For scipy.special.spherical_jn / yn / in / kn of orders n = 0..8, value and derivative=True, at 31 points across
(0.01, 50): ``jac diff --json EXPR --at x=[...]`` run in-process; counts the formulas jac shows (besseli / besselk
or closed forms), the values that differ from SciPy's (rtol 1e-10: the output and the Jacobian's diagonal), the
notes that say the formula does not hold (jac then shows its automatic derivative instead), and the seconds::

    PYTHONPATH=. /work/venv/bin/python benchmarks/symbolic37_probe.py [--orders 9]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

POINTS = np.geomspace(0.01, 50.0, 31)


def jac_diff(text: str) -> dict:
    from jacobi_cli.cli import entry

    out = io.StringIO()
    with redirect_stdout(out):
        try:
            entry.main(["diff", "--json", "--timeout", "0", text, "--at", f"x={POINTS.tolist()}"])
        except SystemExit:
            pass
    return json.loads(out.getvalue())


def main(argv=None) -> int:
    from scipy import special

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=9)
    args = parser.parse_args(argv)
    print("| function | cases | Bessel form | closed / jn form | value differs | derivative differs | notes | s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in ("spherical_jn", "spherical_yn", "spherical_in", "spherical_kn"):
        counts = dict(cases=0, bessel=0, closed=0, value=0, slope=0, notes=0)
        start = time.perf_counter()
        for derivative in (False, True):
            for n in range(args.orders):
                data = jac_diff(f"scipy.special.{name}({n}, x{', derivative=True' if derivative else ''})")
                ref = getattr(special, name)
                value = ref(n, POINTS, derivative=derivative)
                # f'' from the Bessel equation: f'' = (±1 + n(n+1)/x²) f - 2 f' / x (+ for i_n, k_n)
                sign = 1.0 if name in ("spherical_in", "spherical_kn") else -1.0
                second = (sign + n * (n + 1) / POINTS ** 2) * ref(n, POINTS) - 2 * ref(n, POINTS, True) / POINTS
                slope = second if derivative else ref(n, POINTS, derivative=True)
                entry = data["derivative"]["x"]
                counts["cases"] += 1
                counts["bessel" if "bessel" in data["output"]["expr"] else "closed"] += 1
                counts["value"] += int(not np.allclose(data["output"]["value"], value, rtol=1e-10, atol=0))
                counts["slope"] += int(not np.allclose(np.diag(entry["value"]), slope, rtol=1e-8, atol=0))
                counts["notes"] += int(bool(entry.get("note")))
        print(f"| {name} | {counts['cases']} | {counts['bessel']} | {counts['closed']} | {counts['value']} | "
              f"{counts['slope']} | {counts['notes']} | {time.perf_counter() - start:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
