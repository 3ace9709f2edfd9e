"""The documentation runs: every ``$ jac ...`` line of a ``console`` block in README.md and
docs/*.md is executed and its output compared with what the block shows.

A small collector of our own rather than sybil: the convention is three rules (a ``$ jac``
line, the lines up to the next ``$`` line as its output, a line holding only ``...`` for
output left out), the commands run in-process through :func:`jacobi_cli.cli.entry.main`
(the same entry point as the installed ``jac``, fast path included, so a block costs
milliseconds and not a fresh interpreter), and a new docs/*.md file is picked up by the glob
with nothing to register. Standard output comes first, then standard error, as jac prints
them (it flushes stdout before any message). Lines are compared without trailing spaces.
``$`` lines that do not run ``jac`` (``$ dot -Tpng ...``) are shown, not run. ``pycon``
blocks (``>>>`` sessions of the Python API) run as doctests, one session per page.

The commands run in a scratch directory holding ``examples/`` and ``docs/`` of the
repository, so a block may read ``examples/seeds.toml`` and write ``tangent.png``.
"""

from __future__ import annotations

import re
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
ELLIPSIS = "..."
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "2>&1", "&"}


@dataclass
class Example:
    path: Path
    line: int  # 1-based line of the $ line
    command: str
    expected: list  # the output lines as written (trailing spaces dropped)

    @property
    def id(self) -> str:
        where = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path.name
        return f"{where}:{self.line}"


def doc_files() -> list:
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def console_blocks(text: str, language: str = "console"):
    """(first line number, lines) of each ```console block (or of another ``language``)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, lang = match.groups()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if lang == language:
            yield i + 2, [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[i + 1:j]]
        i = j + 1


def examples(path: Path) -> list:
    found = []
    for start, lines in console_blocks(path.read_text(encoding="utf-8")):
        current = None
        for offset, line in enumerate(lines):
            if line.startswith("$ "):
                current = Example(path, start + offset, line[2:], [])
                if shlex.split(current.command, comments=True)[:1] == ["jac"]:
                    found.append(current)
            elif current is not None:
                current.expected.append(line.rstrip())
    return found


def matches(expected: list, actual: list) -> bool:
    """Equal line by line, where a line holding only ``...`` stands for any number of lines."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == ELLIPSIS else re.escape(line) + r"\n" for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def run_example(example: Example, capsys) -> list:
    from jacobi_cli.cli import entry

    argv = shlex.split(example.command, comments=True)[1:]
    operators = SHELL_OPERATORS.intersection(argv)
    assert not operators, f"{example.id}: a $ jac line runs jac alone, without {' '.join(sorted(operators))}"
    with warnings.catch_warnings():
        # the jac command never imports JAX; this test process may have (an earlier test's jax.numpy), and then JAX
        # warns at every fork (tools/bounded.py forks the SymPy child), a line the command never prints
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        entry.main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


ALL = [e for path in doc_files() for e in examples(path)]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    for name in ("examples", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("example", ALL, ids=[e.id for e in ALL])
def test_console_block_output_is_what_jac_prints(example, scratch, capsys):
    actual = run_example(example, capsys)
    expected = list(example.expected)
    while expected and not expected[-1]:
        expected.pop()
    assert matches(expected, actual), (
        f"{example.id}: `{example.command}` printed\n" + "\n".join(actual) + "\n\nbut the docs show\n"
        + "\n".join(expected))


def test_the_collector_finds_the_blocks_of_every_file():
    assert len(ALL) >= 20
    assert {e.path for e in ALL} >= {ROOT / "README.md"} | {p for p in doc_files() if "$ jac " in p.read_text()}


PYCON = [path for path in doc_files() if any(console_blocks(path.read_text(encoding="utf-8"), "pycon"))]


@pytest.mark.parametrize("path", PYCON, ids=[str(p.relative_to(ROOT)) for p in PYCON])
def test_python_sessions_print_what_the_docs_show(path, scratch):
    """```pycon blocks are doctests, the blocks of one page one session (names carry over);
    ``...`` in an output leaves text out, as in the console blocks."""
    import doctest

    text = path.read_text(encoding="utf-8")
    session = "\n".join("\n".join(lines) for _, lines in console_blocks(text, "pycon"))
    test = doctest.DocTestParser().get_doctest(session, {}, path.name, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
    assert test.examples


@pytest.mark.parametrize("expected, actual, ok", [
    (["a", "...", "d"], ["a", "b", "c", "d"], True),
    (["a", "...", "d"], ["a", "d"], True),
    (["a", "..."], ["a", "b"], True),
    (["a", "b"], ["a", "b", "c"], False),  # output left out needs an explicit ...
    (["a", "...", "d"], ["a", "b", "c"], False),
    (["x[1:3]"], ["x[1:3]"], True),  # lines are text, not patterns
    (["x.*"], ["xyz"], False),
])
def test_an_ellipsis_line_and_only_it_leaves_output_out(expected, actual, ok):
    assert matches(expected, actual) is ok


def test_a_dollar_jac_line_with_a_pipe_is_refused(tmp_path, capsys):
    doc = tmp_path / "x.md"
    doc.write_text("```console\n$ jac schema eval | head -3\n...\n```\n")
    with pytest.raises(AssertionError, match="without [|]"):
        run_example(examples(doc)[0], capsys)


def test_blocks_are_split_at_each_dollar_line(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("```console\n$ jac eval x x=1   # a comment\nout 1\n$ dot -Tpng g.dot\n$ jac shape x x:3\nout 2\n```\n"
                   "```bash\n$ jac not-run\n```\n")
    found = [(e.line, e.command, e.expected) for e in examples(doc)]
    assert found == [(2, "jac eval x x=1   # a comment", ["out 1"]), (5, "jac shape x x:3", ["out 2"])]


def test_an_example_is_compared_without_jaxs_fork_warning_of_this_process(scratch, capsys, monkeypatch):
    """JAX imported in this process by an earlier test warns at each fork (jac diff's SymPy child): the example's
    lines are the command's, whichever test ran before (pytest -p no:warnings prints the warning to stderr)."""
    from jacobi_cli.cli import entry

    def main(argv):
        print("sin(x)")
        warnings.warn("os.fork() was called. os.fork() is incompatible with multithreaded code, and JAX is "
                      "multithreaded, so this will likely lead to a deadlock.", RuntimeWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(entry, "main", main)
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # shown, as under -p no:warnings
        assert run_example(Example(ROOT / "README.md", 1, "jac diff 'sin(x)' x:3", ["sin(x)"]), capsys) == ["sin(x)"]
