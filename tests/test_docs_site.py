"""The documentation site and the package's metadata: mkdocs builds strictly with every page in
its nav, the README stays a short pitch with the set-up commands CI runs, and the package
carries its licence, classifiers, URLs and type marker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def _nav_pages() -> list:
    """The .md files mkdocs.yml's nav names (read without PyYAML: one ``- Title: page.md`` a line)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    return re.findall(r"^\s+- (?:[^\n:]+:\s*)?(\S+\.md)\s*$", nav, flags=re.M)


def test_the_nav_lists_every_page_of_docs_once():
    pages = _nav_pages()
    found = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert len(pages) == len(set(pages))
    missing = sorted(set(found) - set(pages))
    assert not missing, f"add these docs/ pages to the nav of mkdocs.yml: {missing}"
    assert sorted(pages) == found, "mkdocs.yml's nav names a page that docs/ does not have"


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extra; CI installs it")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f",
                             str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "expressions" / "index.html").exists()


def test_the_readme_is_a_short_pitch_with_the_set_up_commands_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"```bash\n{ci}\n```" in readme  # byte for byte: the second set-up command is what CI runs
    install = 'python3 -m venv .venv && . .venv/bin/activate && pip install . && jac eval "2 * torch.dot(x, y)" ' \
              'x="arange(4.0)" y="[3.0, 1.0, 2.0, 5.0]"'
    assert f"```bash\n{install}\n```" in readme
    for page in re.findall(r"\]\((docs/[\w-]+\.md)\)", readme):
        assert (ROOT / page).exists(), page
    assert (ROOT / "CHANGELOG.md").exists() and (ROOT / "benchmarks" / "RESULTS.md").exists()


def test_package_metadata():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not the deprecated table
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "LICENSE" in project["license-files"]
    assert {"Typing :: Typed", "Environment :: Console"} <= set(project["classifiers"])
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # SPDX replaces these
    assert project["keywords"]  # project URLs come when the project has a public home: none is invented
    assert any(dep.startswith("mkdocs") for dep in project["optional-dependencies"]["test"])


def test_every_folder_of_the_package_is_a_package_with_its_data():
    """No setuptools warning that ``jacobi_cli.cli.schemas`` is absent from ``packages``: the
    packages are found, namespace folders (JSON only) included, and py.typed ships."""
    from setuptools import find_namespace_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    find = config["packages"]["find"]
    assert find["namespaces"] is True
    found = set(find_namespace_packages(where=str(ROOT), include=find["include"]))
    folders = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "jacobi_cli").rglob("*")
               if p.is_dir() and p.name != "__pycache__" and any(f.is_file() and f.suffix != ".pyc" for f in p.iterdir())}
    assert folders | {"jacobi_cli"} <= found
    assert config["package-data"]["jacobi_cli.cli.schemas"] == ["*.json"]
    assert config["package-data"]["jacobi_cli"] == ["py.typed"] and (ROOT / "jacobi_cli" / "py.typed").exists()


def test_the_public_api_is_fully_typed():
    import inspect
    import typing

    import jacobi_cli
    from jacobi_cli.tools import symbolic

    for name in (n for n in jacobi_cli.__all__ if n != "__version__"):
        fn = getattr(jacobi_cli, name)
        signature = inspect.signature(fn)
        missing = [p for p, param in signature.parameters.items() if param.annotation is inspect.Parameter.empty]
        assert not missing and signature.return_annotation is not inspect.Signature.empty, (name, missing)
        hints = typing.get_type_hints(fn, localns={"Derivative": symbolic.Derivative})  # every hint resolves
        assert set(hints) == set(signature.parameters) | {"return"}, name
