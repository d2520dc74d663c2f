"""The documentation site builds in strict mode, and a broken API reference fails it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

from mlplab.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["quickstart", "seed", "cli", "notebooks", "diagnostics", "playground", "api", "benchmarks"]


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
    return subprocess.run(
        [*command, "--site-dir", str(site)], capture_output=True, text=True, env=env, cwd=ROOT
    )


@pytest.fixture(scope="module")
def mkdocs():
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "material"):
        require(module)


def test_site_builds_strict_with_every_page_and_the_api(mkdocs, tmp_path):
    result = build(ROOT / "mkdocs.yml", tmp_path)
    assert result.returncode == 0, result.stderr
    for page in PAGES:
        assert (tmp_path / page / "index.html").is_file(), page
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("mlplab.nn.network.MLP", "mlplab.diagnostics.Diagnostics", "mlplab.plot.network"):
        assert f'id="{name}"' in api, name
    assert "Units per layer, inputs first" in api  # a docstring's text made it in


def test_a_broken_reference_fails_the_build(mkdocs, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in (ROOT / "docs").glob("*.md"):
        (docs / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    with (docs / "api.md").open("a", encoding="utf-8") as api:
        api.write("\n::: mlplab.no_such_module\n")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: docs", f"docs_dir: {docs}")
    config = config.replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no_such_module" in result.stderr


def test_every_cli_command_has_its_section():
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"## `mlplab {name}`" in page, name


def test_readme_points_at_the_learning_material():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Learning material", 1)[1]
    for notebook in sorted((ROOT / "examples").glob("*.ipynb")):
        assert f"examples/{notebook.name}" in section, notebook.name
    assert "make docs" in section
