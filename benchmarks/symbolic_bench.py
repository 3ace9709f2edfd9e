"""How long symbolic Jacobians take: every op of the registry at 10 × 10 / n = 100, and issue 16's cases.

Run by hand, never as a test (shared machines make timings noisy)::

    PYTHONPATH=. /work/venv/bin/python benchmarks/symbolic_bench.py [--limit 20] [--only det,softmax]
                                                                    [--part ops|issue|all] [--markdown FILE]

Two parts:

- **ops**: for every op with a SymPy translation (``Op.sympy``), the first case of its table in
  ``tests/test_ops.py`` with every size above 1 made 100 (vectors only) or 10 (a case with a matrix), the
  graph built as the op tests build it, then what ``jac diff`` does for a graph of concrete sizes: the
  derivatives (:func:`jacobi_cli.tools.symbolic.differentiate_graph`) and their text, LaTeX, entries and
  pretty printing (what ``jac diff`` and ``jac diff --json`` show). A case whose params do not fit the big
  sizes (fixed index arrays) runs at its own small size, and says so.
- **issue**: the command lines of issue 16 item 5, run in-process (``entry.main``, output to /dev/null,
  ``--timeout 0`` so that jac does not fork its own child) with and without ``--at``.

Each case runs in a forked child (:func:`jacobi_cli.tools.bounded.call`) killed after ``--limit`` seconds,
so one slow case cannot stall the run; SymPy is imported before forking, so no case pays for it. The table:
case, wall-clock and CPU seconds of the child (``> LIMIT`` when stopped), and whether it is within the 2 s
target (a refusal, an error that jac exits 2 with, is timed too and never counts as met). The target is judged on CPU time: on a shared machine the wall clock measures the neighbours too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TARGET = 2.0  # seconds: issue 16 item 5

ISSUE = [  # (name, argv)
    ("det(A) A:6x6", ["diff", "det(A)", "A:6x6"]),
    ("det(A) A:10x10", ["diff", "det(A)", "A:10x10"]),
    ("det(A) A=10x10 values (--at)", ["diff", "det(A)", "A=eye(10) + 0.1 * arange(100.0).reshape(10, 10) / 100"]),
    ("det(A) A:n (matrix form)", ["diff", "det(A)", "A:nxn"]),
    ("inv(A) A:10x10", ["diff", "inv(A)", "A:10x10"]),
    ("softmax(x) x:20", ["diff", "softmax(x)", "x:20"]),
    ("softmax(x) x:40", ["diff", "softmax(x)", "x:40"]),
    ("softmax(x) x:100", ["diff", "softmax(x)", "x:100"]),
    ("softmax(x) x=100 values (--at)", ["diff", "softmax(x)", "x=linspace(-1, 1, 100)"]),
    ("eval det(A) A:10x10 --symbolic", ["eval", "det(A)", "A:10x10", "--symbolic"]),
    ("eval softmax(x) x:8 --symbolic", ["eval", "softmax(x)", "x:8", "--symbolic"]),
    ("tanh+max 2x3 --json --at", ["diff", "--json", "--at", "A=[[0.3,-1.2,0.7],[1,2,3]]", "--at", "x=[1,2,3]",
                                  "--", "sum(tanh(A @ x)) + max(A)"]),
    ("tanh+max A:2x3 x:3", ["diff", "sum(tanh(A @ x)) + max(A)", "A:2x3", "x:3"]),
    ("tanh+max A:10x10 x:10", ["diff", "sum(tanh(A @ x)) + max(A)", "A:10x10", "x:10"]),
    ("x@A@x n=2000 --at", ["diff", "x @ A @ x", "x:n", "A:nxn", "--at", "x=ones(2000)", "--at", "A=eye(2000)"]),
    ("x@A@x n (no --at)", ["diff", "x @ A @ x", "x:n", "A:nxn"]),
    ("x@A@x x:100 A:100x100", ["diff", "x @ A @ x", "x:100", "A:100x100", "--wrt", "x"]),
    ("logsumexp(x) x:100", ["diff", "logsumexp(x)", "x:100"]),
    ("norm(x) x:100", ["diff", "norm(x)", "x:100"]),
    ("sort(x) x:100", ["diff", "sort(x).values", "x:100"]),
    ("max(x) x:100", ["diff", "max(x)", "x:100"]),
    ("solve(A, b) A:10x10", ["diff", "solve(A, b)", "A:10x10", "b:10"]),
    ("A@B@C 10x10", ["diff", "A @ B @ C", "A:10x10", "B:10x10", "C:10x10", "--wrt", "B"]),
    # second derivatives (--order 2): det's is cofactor's derivative, the trace term of the index form
    ("det(A) A:6x6 --order 2", ["diff", "det(A)", "A:6x6", "--order", "2"]),
    ("det(A) A:10x10 --order 2", ["diff", "det(A)", "A:10x10", "--order", "2"]),
    ("det(A) A=10x10 values --order 2 (--at)",
     ["diff", "det(A)", "A=eye(10) + 0.1 * arange(100.0).reshape(10, 10) / 100", "--order", "2"]),
    ("logdet(A) A:6x6 --order 2", ["diff", "logdet(A)", "A:6x6", "--order", "2"]),
    ("logdet(A) A:10x10 --order 2", ["diff", "logdet(A)", "A:10x10", "--order", "2"]),
    ("softmax(x) x:40 --order 2", ["diff", "softmax(x)", "x:40", "--order", "2"]),
    ("softmax(x) x:100 --order 2", ["diff", "softmax(x)", "x:100", "--order", "2"]),
    ("softmax(x) x=100 values --order 2 (--at)", ["diff", "softmax(x)", "x=linspace(-1, 1, 100)", "--order", "2"]),
    ("logsumexp(x) x:100 --order 2", ["diff", "logsumexp(x)", "x:100", "--order", "2"]),
    ("norm(x) x:100 --order 2", ["diff", "norm(x)", "x:100", "--order", "2"]),
    ("tanh+sum A:10x10 x:10 --order 2", ["diff", "sum(tanh(A @ x))", "A:10x10", "x:10", "--order", "2"]),
]


def scaled_case(name, case):
    """The op's case at 10 × 10 (any argument with 2 axes or more) or n = 100 (vectors only)."""
    from test_ops import _normalize

    shapes, params = _normalize(case)
    arrays = [s for s in shapes if isinstance(s, tuple)]
    big = 10 if any(len(s) >= 2 for s in arrays) or any(s in ("square", "spd") for s in shapes) else 100
    like = next((s for s in arrays if s), (big,))

    def grow(s):
        if s in ("square", "spd"):
            return (big, big)
        if s in ("mask", "lo", "hi"):
            return tuple(1 if d == 1 else big for d in like)
        if isinstance(s, str):
            return s
        return tuple(1 if d == 1 else big for d in s)

    params = dict(params)
    if "shape" in params:  # broadcast_to, sum_to, reshape, scatter: the result at 10 × 10 or n = 100
        target = tuple(params["shape"])
        params["shape"] = tuple(1 if d == 1 else (10 if len(target) >= 2 else 100) for d in target)
        if "index" in params:  # scatter: the argument fits the index as it is
            return list(shapes), params
        if len(target) >= 2:
            big = 10
    return [grow(s) for s in shapes], params


def op_graph(name, case, scale=True):
    from jacobi_cli.ir.graph import Builder
    from test_ops import FIXED, _normalize

    shapes, params = scaled_case(name, case) if scale else _normalize(case)
    b = Builder()
    args, wrt = [], []
    for i, s in enumerate(shapes):
        if isinstance(s, str) and s in FIXED:
            args.append(b.const(FIXED[s]))
        elif s in ("mask", "lo", "hi") and not scale:
            args.append(b.input(f"a{i}", {"mask": (3,), "lo": (4,), "hi": (4,)}[s]))
        elif s in ("square", "spd"):
            args.append(b.input(f"a{i}", (3, 3)))
            wrt.append(f"a{i}")
        else:
            args.append(b.input(f"a{i}", s))
            wrt.append(f"a{i}")
    graph = b.graph(b.apply(name, *args, **params))
    wrt = [n for n in wrt if n in graph.inputs]
    return graph.with_wrt(wrt), wrt, shapes


def op_cases(only):
    from jacobi_cli.ir.ops import OPS
    from test_ops import CASES
    from test_symbolic import MASK_CASES

    for name, op in OPS.items():
        if op.sympy is None or (only and name not in only):
            continue
        cases = CASES.get(name) or MASK_CASES.get(name)
        if not cases:
            continue
        yield name, cases[0]


def run_graph(graph, wrt) -> None:
    """What `jac diff` computes and prints for a graph of concrete sizes."""
    from jacobi_cli.tools import symbolic

    result = symbolic.differentiate_graph(graph, wrt)
    for d in [result.output, *[d.expr for d in result.derivatives.values()]]:
        symbolic.text(d), symbolic.latex(d)
        symbolic.pretty(d, 100) if symbolic.drawn(d) else symbolic.listed(d)
    for d in result.derivatives.values():
        if d.form == "components":
            symbolic.entries(d.expr)


def run_cli(argv) -> None:
    from jacobi_cli.cli import entry

    extra = ["--timeout", "0"] if "--" not in argv else []
    if "--" in argv:
        k = argv.index("--")
        argv = argv[:k] + ["--timeout", "0"] + argv[k:]
    saved = sys.stdout, sys.stderr
    with open(os.devnull, "w") as null:
        sys.stdout = sys.stderr = null
        try:
            code = entry.main(list(argv) + extra)
        except SystemExit as stop:
            code = stop.code
        finally:
            sys.stdout, sys.stderr = saved
    if code not in (0, None):
        raise RuntimeError(f"jac exits {code}")


def timed(fn, limit):
    from jacobi_cli.errors import JacLimitError
    from jacobi_cli.tools import bounded

    def child():
        t, c = time.perf_counter(), time.process_time()
        try:
            fn()
            note = ""
        except Exception as err:  # noqa: BLE001  (a refusal: how long it took to say so is the number)
            note = f"refused: {str(err)[:60]}"
        return time.perf_counter() - t, time.process_time() - c, note

    try:
        *seconds, note = bounded.call(child, limit, "case")
        return tuple(seconds), note
    except JacLimitError as err:
        return None, "stopped" if "took more than" in str(err) else str(err)[:60]
    except Exception as err:  # noqa: BLE001  (reported in the table)
        return None, f"{type(err).__name__}: {str(err)[:60]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=20.0, help="seconds per case before it is stopped")
    parser.add_argument("--part", choices=("ops", "issue", "all"), default="all")
    parser.add_argument("--only", default="", help="comma-separated op names or issue case names (';'-separated "
                                                   "when a name holds a comma)")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    import sympy  # noqa: F401  (imported once, before forking: no case pays for it)
    import jacobi_cli.tools.symbolic  # noqa: F401

    only = {s.strip() for s in args.only.split(";" if ";" in args.only else ",") if s.strip()}
    rows = []
    if args.part in ("ops", "all"):
        for name, case in op_cases(only):
            try:
                graph, wrt, shapes = op_graph(name, case)
                label = f"op {name} {' '.join('x'.join(map(str, s)) if isinstance(s, tuple) else s for s in shapes)}"
            except Exception:  # noqa: BLE001  (the case's params fit only its own sizes)
                graph, wrt, shapes = op_graph(name, case, scale=False)
                label = f"op {name} (own small case)"
            rows.append(_row(label, *timed(lambda: run_graph(graph, wrt), args.limit), args.limit))
    if args.part in ("issue", "all"):
        for name, cmd in ISSUE:
            if only and name not in only:
                continue
            rows.append(_row(name, *timed(lambda: run_cli(cmd), args.limit), args.limit))
    table = ["| case | wall s | CPU s | within 2 s (CPU) | note |", "| --- | --- | --- | --- | --- |"] + rows
    print("\n".join(table))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(table) + "\n")
    return 0


def _row(label, seconds, note, limit):
    if seconds is None:
        shown = (f"> {limit:g}" if note == "stopped" else "—", "")
    else:
        shown = tuple(f"{s:.2f}" for s in seconds)
    ok = "yes" if seconds is not None and seconds[1] <= TARGET else "**no**"
    if note.startswith("refused"):  # a refusal meets no target: it is fast, or not
        ok = "refused " + ("fast" if seconds is not None and seconds[1] <= TARGET else "**slowly**")
    line = f"| {label} | {shown[0]} | {shown[1]} | {ok} | {note} |"
    print(line, file=sys.stderr, flush=True)
    return line


if __name__ == "__main__":
    sys.exit(main())
