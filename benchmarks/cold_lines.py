#!/usr/bin/env python3
"""Where a cold call's instructions go line by line, in chosen functions, counted by valgrind.

Run by hand, never as a test (see benchmarks/README.md). Three steps:

    python benchmarks/cold_lines.py --tree . --copy /tmp/cl --mark tools/api.py:_compiled \\
        --mark engine/compiled.py:Compiled.__init__ --mark engine/compiled.py:Compiled._counted
    cd /tmp/cl && PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --dump-before=getppid \\
        --callgrind-out-file=/tmp/cl/cg.out /work/venv/bin/python benchmarks/cold_lines.py --run /tmp/cl --case E1
    python benchmarks/cold_lines.py --read /tmp/cl

``--copy`` copies the tree's ``jacobi_cli`` and ``benchmarks`` to a scratch folder and rewrites each marked
function (``FILE:QUALNAME``, FILE under ``jacobi_cli/``) so that a mark, ``os.getppid()`` with its line
number logged, runs before each of its statements (in the bodies of ``if``, ``for``, ``with`` and ``try``
too, not in nested functions), once on entry and once on exit. ``--run`` makes the cold call of
``cold_instructions.py`` there (five uncounted, then ``--calls``, the collector stopped); callgrind's
``--dump-before=getppid`` writes one file per stretch between two marks, and ``--read`` adds each stretch
to the line whose mark began it, less one mark's own cost (the stretch from the entry mark to the first
line's: nothing but a mark). A line's count includes what it calls (a function marked too is counted
apart only where its own lines run); ``exit`` is what runs after the function returns until the next
mark; a loop's own step (the next item, its target's store) is counted with the last line of its body. The
rewritten module is ``ast.unparse``'s text (comments gone, the same bytecode within a few
instructions a line): a stretch of a few hundred instructions is within what moves with the tree's path
and the heap's layout (±300 per call between two checkouts of the same commit).
"""
from __future__ import annotations

import argparse
import ast
import compileall
import gc
import json
import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_instructions import EXPRESSIONS, cold_call, dump_total  # noqa: E402

MARK = "_cold_lines_mark"  # a builtin while --run runs: logs its label, then os.getppid()
COPIED = "COLD_LINES_COPY"  # the file that says a folder is a copy --copy made (which it may replace)


class _Marker(ast.NodeTransformer):
    """Marks before each statement of the functions named in ``targets`` (qualified names)."""

    def __init__(self, targets):
        self.targets, self.scope = set(targets), []

    def visit_ClassDef(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()
        return node

    def visit_FunctionDef(self, node):
        name = ".".join(self.scope + [node.name])
        if name in self.targets:
            self.targets.discard(name)
            node.body = self._function(node.body, name)
            return node
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()
        return node

    def _function(self, body, name):
        docstring = body[:1] if body and isinstance(body[0], ast.Expr) and \
            isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str) else []
        marked = ast.Try(body=self._marked(body[len(docstring):], name), handlers=[], orelse=[],
                         finalbody=[_mark(f"{name}:exit")])
        return docstring + [_mark(f"{name}:entry"), marked]

    def _marked(self, statements, name):
        out = []
        for statement in statements:
            out.append(_mark(f"{name}:{statement.lineno}"))
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(statement, field, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                        setattr(statement, field, self._marked(inner, name))
                for handler in getattr(statement, "handlers", ()):
                    handler.body = self._marked(handler.body, name)
            out.append(statement)
        return out


def _mark(label: str) -> ast.stmt:
    return ast.parse(f"{MARK}({label!r})").body[0]


def copy(args) -> None:
    tree, scratch = Path(args.tree).resolve(), Path(args.copy)
    if scratch.exists():  # only a copy this made is replaced (never a checkout given by mistake)
        if not (scratch / COPIED).exists():
            raise SystemExit(f"{scratch} exists and is not a copy cold_lines.py made: give a new folder")
        shutil.rmtree(scratch)
    for folder in ("jacobi_cli", "benchmarks"):
        shutil.copytree(tree / folder, scratch / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (scratch / COPIED).write_text(f"marked copy of {tree}\n")
    by_file = defaultdict(list)
    for spec in args.mark:
        file, _, name = spec.partition(":")
        by_file[file].append(name)
    for file, names in by_file.items():
        path = scratch / "jacobi_cli" / file
        marker = _Marker(names)
        module = ast.fix_missing_locations(marker.visit(ast.parse(path.read_text())))
        if marker.targets:
            raise SystemExit(f"{file}: no function {', '.join(sorted(marker.targets))}")
        path.write_text(ast.unparse(module))
    compileall.compile_dir(str(scratch / "jacobi_cli"), quiet=1)


def run(args) -> None:
    import builtins

    log: list = []

    def mark(label, append=log.append, ppid=os.getppid):
        append(label)
        ppid()

    setattr(builtins, MARK, mark)
    args.tree = args.run
    call = cold_call(args)
    for _ in range(5):
        call()
    gc.collect()
    gc.disable()
    start = len(log)
    for _ in range(args.calls):
        mark("call")
        call()
    mark("end")
    gc.enable()
    Path(args.run, "log.json").write_text(json.dumps({"start": start, "calls": args.calls, "log": log}))


def read(args) -> None:
    """Each stretch from mark k to mark k + 1 is the dump written before mark k + 1's getppid: cg.out.(k + 2)."""
    folder = Path(args.read)
    saved = json.loads((folder / "log.json").read_text())
    log, start, calls = saved["log"], saved["start"], saved["calls"]
    totals, counts = defaultdict(int), defaultdict(int)
    for k in range(start, len(log) - 1):
        totals[log[k]] += dump_total(folder / f"cg.out.{k + 2}")
        counts[log[k]] += 1
    entries = [label for label in totals if label.endswith(":entry")]
    per_mark = sum(totals[label] for label in entries) / max(1, sum(counts[label] for label in entries))

    def order(label):
        name, _, line = label.rpartition(":")
        return name, int(line) if line.isdigit() else -1 if line == "entry" else 10**9

    print("| line | instructions per call | runs per call |\n|---|---|---|")
    for label in sorted((label for label in totals if label != "call"), key=order):
        if label.endswith(":entry"):
            continue
        net = totals[label] - (0 if label.endswith(":exit") else per_mark * counts[label])
        print(f"| {label} | {net / calls:,.0f} | {counts[label] / calls:g} |")
    print(f"(one mark: {per_mark:,.0f} instructions, taken off each line's count; exit: gross)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=".", help="--copy: the checkout whose functions are marked")
    ap.add_argument("--copy", help="the scratch folder the marked copy is written to")
    ap.add_argument("--mark", action="append", default=[], help="FILE:QUALNAME, FILE under jacobi_cli/")
    ap.add_argument("--run", help="the scratch folder: make the cold calls there (under valgrind)")
    ap.add_argument("--read", help="the scratch folder: print the lines' counts")
    ap.add_argument("--case", choices=sorted(EXPRESSIONS), default="E1")
    ap.add_argument("--call", choices=["jacobian", "vjp"], default="jacobian")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--calls", type=int, default=10)
    args = ap.parse_args()
    if args.copy:
        copy(args)
    elif args.run:
        run(args)
    elif args.read:
        read(args)
    else:
        ap.error("one of --copy, --run, --read")


if __name__ == "__main__":
    main()
