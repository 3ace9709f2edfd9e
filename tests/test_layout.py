"""The package's layout: subpackages with one-way dependencies, and no import cycle.

Every import counts, at module level or inside a function: an import deferred for start-up
speed is still a dependency. The layers, from the bottom: ``ir`` (graph and ops), ``lang``
(text to graph), ``engine`` (transforms), ``tools`` (what the commands compute), ``cli``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "jacobi_cli"
LAYERS = ["ir", "lang", "engine", "tools", "cli"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set) -> set:
    """The package's modules that ``path`` imports, anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != "jacobi_cli":
                found.add(target)
    return found


def _graph() -> dict:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_import_cycle_even_through_imports_inside_functions():
    graph = _graph()
    state: dict = {}
    for start in graph:
        stack = [(start, iter(sorted(graph[start])))]
        if state.get(start):
            continue
        state[start] = "open"
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "done"
                stack.pop()
                path.pop()
            elif state.get(child) == "open":
                cycle = path[path.index(child):] + [child]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            elif child not in state:
                state[child] = "open"
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)


def test_layers_depend_only_downwards():
    wrong = []
    for module, imports in _graph().items():
        own = _layer(module)
        for target in imports:
            other = _layer(target)
            if own is not None and other is not None and other > own:
                wrong.append(f"{module} imports {target}")
            if own is None and module not in ("jacobi_cli", "jacobi_cli.__main__") and other is not None:
                wrong.append(f"{module} (below every layer) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_scan_sees_imports_inside_functions():
    graph = _graph()
    assert "jacobi_cli.engine.kernels" in graph["jacobi_cli.engine.compiled"]  # imported inside a function
    assert "jacobi_cli.ir.ops" in graph["jacobi_cli.ir.graph"]
