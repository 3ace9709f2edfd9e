"""How often would a warning "an op's value underflowed from normal operands" fire (session 51)?

Session 50 left a precision trade (docs/robustness.md): where an expression's own value underflows to 0
(``torch.square(y)`` at 1e-300), a Hessian that multiplies that 0 by a partial of 1e300 or more is as wrong as
PyTorch's, unwarned. The candidate warning: the value pass saw an element-wise op give 0 or a subnormal at an element
where each of its operands is a finite normal nonzero number, and the op carries a derivative (``requires_grad``);
only ops whose exact value is never 0 (nor below 2.2e-308 by rounding alone) at such operands (``UNDERFLOWING``:
products, quotients, exponentials, sigmoid's family): a sum of normal numbers that is 0 or subnormal is exact
(IEEE's gradual underflow), log(1) = 0 and relu(-1) = 0 are the values.
This counts the computations it would fire on, without building it:

- every case of ``extreme50_probe.cases`` (44 ops × 6 texts, seed 0) at its 28 points and the seed's 4 random ones;
- every ``$ jac eval|jacobian|hessian|derivative|vjp|jvp`` line of docs/*.md (run in this process; a line that
  does not run, a file it reads or a refusal, is counted as not run).

    PYTHONPATH=. python benchmarks/underflow51_count.py [--docs-only] [-v]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import os
import shlex
import sys
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


UNDERFLOWING = {"mul", "div", "square", "exp", "exp2", "expm1", "pow", "sigmoid", "sigmoid_slope", "softplus",
                "logsigmoid", "erfc", "erf", "sinh", "tanh", "sin", "silu", "gelu", "reciprocal", "rsqrt", "sqrt"}


def fires(problem) -> list:
    """The ops of ``problem``'s value pass that underflowed from normal operands: [(op, position)]."""
    from jacobi_cli.ir.ops import OPS
    out = []
    for node in problem.graph.nodes:
        op = OPS.get(node.op)
        if op is None or node.op not in UNDERFLOWING or not node.requires_grad:
            continue
        v = problem.values[node.id]
        if not isinstance(v, np.ndarray) and not np.isscalar(v):
            continue
        v = np.asarray(v)
        if v.dtype.kind != "f" or v.size == 0:
            continue
        tiny = np.finfo(v.dtype).tiny
        under = np.abs(v) < tiny
        if not under.any():
            continue
        normal = np.ones(v.shape, dtype=bool)
        for a in node.args:
            av = np.asarray(problem.values[a])
            if av.dtype.kind != "f":
                continue
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(av) & (np.abs(av) >= np.finfo(av.dtype).tiny)
            try:
                normal &= np.broadcast_to(ok, v.shape)
            except ValueError:
                normal[...] = False
        if (under & normal).any():
            out.append((node.op, node.position))
    return out


@contextlib.contextmanager
def recording(seen: list):
    from jacobi_cli.engine import compiled
    bind = compiled.Compiled.bind

    def spy(self, *a, **k):
        p = bind(self, *a, **k)
        seen.append(p)
        return p
    compiled.Compiled.bind = spy
    try:
        yield
    finally:
        compiled.Compiled.bind = bind


def probe_cases(verbose: bool) -> Counter:
    import extreme50_probe as e50
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    counts = Counter()
    for expr, kind, _build, pts in e50.cases(0, list(e50.OPS)):
        for p in pts:
            b = {kind: repr(p) if kind == "y" else repr([p, p / 2])}
            if kind == "x":
                b["A"] = repr(e50.A)
            try:
                problem = api.prepare(expr, b, wrt=[kind])
            except JacError:
                counts["refused"] += 1
                continue
            counts["run"] += 1
            f = fires(problem)
            if f:
                counts["fires"] += 1
                counts["fires at a tiny point"] += abs(p) < 1e-100
                if verbose:
                    print(f"fires {kind}={p!r}: {expr}: {sorted(set(o for o, _ in f))}")
    return counts


def docs_lines(verbose: bool) -> Counter:
    import tempfile
    from jacobi_cli.cli import entry
    counts = Counter()
    here = tempfile.mkdtemp()  # the lines run here (a line's --out writes here), examples/ linked in
    os.symlink(os.path.join(ROOT, "examples"), os.path.join(here, "examples"))
    for path in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        for line in open(path, encoding="utf-8"):
            if not line.startswith("$ jac "):
                continue
            try:
                argv = shlex.split(line[2:].strip())[1:]
            except ValueError:
                continue
            if not argv or argv[0] not in ("eval", "jacobian", "hessian", "derivative", "vjp", "jvp"):
                continue
            seen: list = []
            cwd = os.getcwd()
            os.chdir(here)
            try:
                with recording(seen), contextlib.redirect_stdout(io.StringIO()), \
                        contextlib.redirect_stderr(io.StringIO()):
                    code = entry.main(argv)
            except BaseException:  # noqa: BLE001 - a line that does not run here is counted, not fatal
                code = -1
            finally:
                os.chdir(cwd)
            counts["run" if code in (0, 1) else "not run"] += 1
            f = [x for p in seen for x in fires(p)]
            if f:
                counts["fires"] += 1
                if verbose:
                    print(f"fires {os.path.basename(path)}: {line.strip()}: {sorted(set(o for o, _ in f))}")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs-only", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    print("docs:", dict(docs_lines(args.verbose)), flush=True)
    if not args.docs_only:
        print("extreme50 cases:", dict(probe_cases(args.verbose)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
