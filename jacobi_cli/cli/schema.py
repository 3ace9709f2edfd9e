"""The JSON Schemas of every command's ``--json`` output (``jac schema COMMAND``).

They ship in ``jacobi_cli/schemas/``: one file per command, plus ``error.json`` (what
any command prints on bad input) and ``defs.json`` (definitions the others refer to as
``defs.json#/$defs/NAME``). :func:`load` returns a command's schema standalone, with
those definitions bundled into its own ``$defs``:

>>> load("eval")["properties"]["command"]
{'const': 'eval'}
"""

from __future__ import annotations

import json
from importlib import resources

from ..errors import JacUsageError

DEFS = "defs"
_PREFIX = "defs.json#"


def names() -> list:
    """Every command (and ``error``) that has a schema."""
    files = resources.files("jacobi_cli.cli").joinpath("schemas").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".json") and f.name[:-5] != DEFS)


def _read(name: str) -> dict:
    return json.loads(resources.files("jacobi_cli.cli").joinpath("schemas", f"{name}.json").read_text("utf-8"))


def load(name: str) -> dict:
    """The schema of ``jac NAME --json`` (``error``: the error object), standalone."""
    if name not in names():
        raise JacUsageError(f"no schema named {name!r}; schemas: {', '.join(names())}")
    schema = _bundled(_read(name))
    schema["$defs"] = {**_read(DEFS)["$defs"], **schema.get("$defs", {})}
    return schema


def _bundled(node):
    """``node`` with every ``defs.json#/...`` reference made local (``#/...``)."""
    if isinstance(node, dict):
        return {k: (("#" + v[len(_PREFIX):]) if k == "$ref" and isinstance(v, str) and v.startswith(_PREFIX)
                    else _bundled(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_bundled(v) for v in node]
    return node
