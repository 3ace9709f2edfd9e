"""docs/expressions.md is generated from the function table and the op registry, and fails here when stale."""

from pathlib import Path

from jacobi_cli.ir.ops import OPS
from jacobi_cli.lang import functions
from jacobi_cli.tools import reference

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "expressions.md"


def test_docs_expressions_md_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == reference.render(), (
        "docs/expressions.md is stale: run python -m jacobi_cli.tools.reference --write docs/expressions.md")


def test_every_function_constant_module_and_user_op_is_listed():
    text = reference.render()
    for name in [*functions.FUNCTIONS, *functions.CONSTANTS, *functions.MODULES]:
        assert f"`{name}`" in text, name
    listed = [line.split(" | ")[0][3:-1] for line in reference.ops_table()[2:]]
    assert listed == list(OPS)


def test_every_library_reading_is_listed_under_its_library():
    tables, library = {}, None
    for line in reference.library_tables():
        if line.startswith("### "):
            library = line[5:-2]  # "### `numpy`\n"
        elif line.startswith("| `"):
            cells = line.split(" | ")
            tables.setdefault(library, set()).update(n.strip("`") for n in [cells[0][2:], *cells[1].split()] if n)
    for library, name in functions.LIBRARY_FUNCTIONS:
        assert name in tables[library], (library, name)
    assert "`torch.linalg.NAME`" in reference.library_spellings("torch.linalg")
    assert "only these names" in next(line for line in reference.library_tables() if "`lax.NAME`" in line)


def test_a_new_function_is_picked_up_with_its_aliases_ops_and_docstring(monkeypatch):
    def lower(b, args, kwargs, position):
        """The hyperbolic sine, twice."""
        return b.apply("sinh", b.apply("sinh", args[0], position=position), position=position)

    monkeypatch.setitem(functions.FUNCTIONS, "sinsinh", lower)
    monkeypatch.setitem(functions.FUNCTIONS, "sinsinh2", lower)
    row = next(line for line in reference.functions_table() if line.startswith("| `sinsinh`"))
    assert row == "| `sinsinh` | `sinsinh2` | `sinh` | The hyperbolic sine, twice. |"


def test_each_op_names_the_functions_that_apply_it():
    rows = {line.split(" | ")[0][3:-1]: line.split(" | ")[1] for line in reference.ops_table()[2:]}
    assert {"`dot`", "`matmul`", "`mm`", "`mv`"} <= set(rows["matmul"].split())
    assert "`exp`" in rows["exp"].split() and "`sum`" not in rows["exp"].split()
    assert all(rows[name] for name in OPS)


def test_aliases_made_by_a_factory_are_one_row_and_argument_names_are_not_ops():
    rows = {line.split(" | ")[0][3:-1]: line for line in reference.functions_table()[2:]}
    assert "`asin`" in rows["arcsin"] and "asin" not in rows  # _unary("arcsin") twice: one entry
    assert "sum" not in rows["mean"]  # same code, another op
    assert rows["clip"].endswith("| `clip` |  |")  # a["min"] is an argument, not the op min
    assert "`transpose`" in rows["t"]  # through the module's helper transpose_all


def test_write_and_check(tmp_path, capsys):
    target = tmp_path / "expressions.md"
    assert reference.main(["--write", str(target)]) == 0
    assert reference.main(["--check", str(target)]) == 0
    target.write_text("old\n")
    assert reference.main(["--check", str(target)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert reference.main(["--nope"]) == 2
