"""What the docs tell a user to install works: the notebooks extra opens Jupyter, skips say why."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import missing_optional, require

ROOT = Path(__file__).resolve().parent.parent


def extras() -> dict[str, list[str]]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]


def names(requirements: list[str]) -> set[str]:
    return {r.split(">")[0].split("=")[0].split("[")[0].strip() for r in requirements}


def test_the_notebooks_extra_brings_jupyterlab_and_what_the_notebooks_import():
    assert {"jupyterlab", "ipykernel", "ipywidgets", "matplotlib", "scikit-learn"} <= names(
        extras()["notebooks"]
    )


def test_the_docs_extra_brings_the_plugins_mkdocs_yml_uses():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "- mkdocs-click" in config and "mkdocstrings" in config
    assert {"mkdocs", "mkdocs-material", "mkdocstrings", "mkdocs-click"} <= names(extras()["docs"])


def test_jupyter_lab_starts_after_the_install():
    require("jupyterlab")
    jupyter = Path(sys.executable).parent / "jupyter"
    assert jupyter.is_file(), f"{jupyter}: the command the notebooks page names"
    result = subprocess.run(
        [str(jupyter), "lab", "--version"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().split(".")[0]) >= 4


def test_a_skip_for_a_missing_peer_says_how_to_run_it(monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "REQUIRE_OPTIONAL", False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        missing_optional("torch is not installed")
    assert str(skipped.value) == (
        "torch is not installed; `make test-all` installs PyTorch and chromium and runs these too"
    )
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "test-all:" in makefile and "torch==2.13.0" in makefile and "chromium" in makefile


def test_make_test_all_installs_the_peers_and_requires_them(tmp_path):
    if shutil.which("make") is None:
        missing_optional("make is not installed")
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "test-all", f"VENV={venv}"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip  (--no-print-directory: under `make test` this make is a nested one)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"{venv}/bin/python -m pip install --quiet torch==2.13.0" in lines
    assert any("apt-get install -y -qq chromium" in line for line in lines)
    assert lines[-1].startswith(
        f"MLPLAB_REQUIRE_OPTIONAL=1 JAX_DISABLE_MOST_OPTIMIZATIONS=0 {venv}/bin/python -m pytest -q"
    )  # as CI: the peers required, the JAX programs fully optimised
