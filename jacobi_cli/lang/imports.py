"""Names bound by an import, followed (session 33c): ``from jax.scipy.special import gammaln``, ``from scipy.special
import logsumexp as lse``, ``import jax.scipy.linalg as jsl``, ``from scipy import special`` bind a name to a function
or module jac reads under its whole spelling, so each use of the name in the text is that spelling, as Python binds
it: the syntax tree's ``gammaln(x)`` becomes ``jax.scipy.special.gammaln(x)`` (at the name's position) and the import
``import jax.scipy.special``, before anything reads the tree.

Followed only where it is certain: the import is at the text's top level, the module is one of jac's (``LIBRARIES``)
under its real package name, the name bound is no name jac reads otherwise (``np``, ``torch``, ``F``...) and the text
binds it nowhere else (no assignment, parameter, ``def``, loop target or second import). Anything else is left to the
parser's ``_check_import``, which accepts or refuses it as before."""

from __future__ import annotations

import ast

from .functions import LIBRARIES, MODULES

PACKAGES = frozenset({"torch", "numpy", "jax", "scipy", "math"})  # the real packages a path must start with
RESERVED = frozenset(LIBRARIES) | frozenset(MODULES) | frozenset(m.split(".")[0] for m in MODULES) | PACKAGES


def follow(module: ast.Module, accepted) -> ast.Module:
    """``module`` with the names its top-level imports bind replaced by their whole spellings, where
    ``accepted(statement)`` (the parser's check of one import) would not take the import as it is."""
    bound = _bound_names(module)
    targets = {}
    for stmt in module.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)) and not accepted(stmt):
            for alias in stmt.names:
                name, path = _binding(stmt, alias)
                if path is not None and name not in RESERVED and bound.get(name) == 1 and name not in targets:
                    targets[name] = path
    if not targets:
        return module
    module.body = [_import_of(s, targets) if isinstance(s, (ast.Import, ast.ImportFrom)) else s for s in module.body]
    return ast.fix_missing_locations(_Spelled(targets).visit(module))


def _binding(stmt, alias) -> tuple:
    """(the name an import binds, the whole spelling it stands for) of one alias, or (name, None) where the path is
    neither a module of jac's nor a name in one."""
    if isinstance(stmt, ast.ImportFrom):
        if stmt.level or not stmt.module or alias.name == "*":
            return None, None
        path, name = f"{stmt.module}.{alias.name}", alias.asname or alias.name
        module = stmt.module
    else:
        if alias.asname is None:  # import jax.scipy.linalg binds jax, read already
            return None, None
        path = module = alias.name
        name = alias.asname
    if path.split(".")[0] not in PACKAGES:
        return name, None
    if path in LIBRARIES or module in LIBRARIES:  # a module of jac's, or a name in one
        return name, path
    return name, None


def _bound_names(module: ast.Module) -> dict:
    """How many times each name is bound anywhere in the text (assignments, parameters, defs, imports)."""
    counts = {}

    def bind(name):
        counts[name] = counts.get(name, 0) + 1

    for node in ast.walk(module):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bind(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, ast.arg):
            bind(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bind(name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
    return counts


def _import_of(stmt, targets: dict):
    """The import with the followed names taken out; ``import MODULE`` (which binds what jac reads already) where
    none is left."""
    kept = [a for a in stmt.names if (a.asname or (a.name if isinstance(stmt, ast.ImportFrom) else None))
            not in targets]
    if len(kept) == len(stmt.names):
        return stmt
    if kept:
        return ast.copy_location(type(stmt)(**{**{f: getattr(stmt, f) for f in stmt._fields}, "names": kept}), stmt)
    first = _binding(stmt, stmt.names[0])[1]
    path = first if first in LIBRARIES else first.rsplit(".", 1)[0]
    return ast.copy_location(ast.Import(names=[ast.alias(name=path)]), stmt)


class _Spelled(ast.NodeTransformer):
    """Each load of a followed name → the attribute chain of its whole spelling, at the name's position."""

    def __init__(self, targets: dict):
        self.targets = targets

    def visit_Name(self, node: ast.Name):
        path = self.targets.get(node.id)
        if path is None or not isinstance(node.ctx, ast.Load):
            return node
        parts = path.split(".")
        chain = ast.copy_location(ast.Name(id=parts[0], ctx=ast.Load()), node)
        for part in parts[1:]:
            chain = ast.copy_location(ast.Attribute(value=chain, attr=part, ctx=ast.Load()), node)
        return chain
