"""The docs site builds in strict mode, works from disk, and documents the whole public API."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import missing_optional, require

from mlplab.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, driven by Playwright (no browser download)

# The public API: every name in these modules' __all__ is documented, and nothing else is.
PUBLIC_MODULES = [
    "mlplab",
    "mlplab.nn",
    "mlplab.nn.targets",
    "mlplab.train",
    "mlplab.train.callbacks",
    "mlplab.train.schedules",
    "mlplab.train.regularization",
    "mlplab.engines",
    "mlplab.io",
    "mlplab.io.checkpoints",
    "mlplab.io.records",
    "mlplab.experiments",
    "mlplab.export",
    "mlplab.codegen",
    "mlplab.sklearn",
    "mlplab.plot",
    "mlplab.progress",
    "mlplab.diagnostics",
    "mlplab.trace",
    "mlplab.datasets",
    "mlplab.gradcheck",
    "mlplab.errors",
]
UNDOCUMENTED = {"__version__"}  # a string: named on the API overview, nothing to render


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
    require("mkdocs_click")


@pytest.fixture(scope="module")
def site(mkdocs, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, result.stderr
    return site


def nav_pages() -> list[str]:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config.split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r":\s*(\S+\.md)\s*$", nav, flags=re.M)


def anchors(html: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', html))


def api_anchors(site: Path) -> set[str]:
    found: set[str] = set()
    for page in (site / "api").glob("*.html"):
        found |= {a for a in anchors(page.read_text(encoding="utf-8")) if a.startswith("mlplab.")}
    return found


def public_names() -> dict[str, list[str]]:
    return {m: list(importlib.import_module(m).__all__) for m in PUBLIC_MODULES}


def test_every_nav_page_is_built_as_a_file(site):
    pages = nav_pages()
    assert len(pages) >= 20
    for page in pages:
        assert (ROOT / "docs" / page).is_file(), page
        assert (site / page.replace(".md", ".html")).is_file(), page


def test_the_site_works_from_disk_every_link_names_a_file(site):
    """use_directory_urls is off: every relative link points at an .html file that exists."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "use_directory_urls: false" in config and "- offline" in config
    checked = 0
    for page in site.rglob("*.html"):
        if page.name == "404.html":  # a web server's error page, with absolute links
            continue
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:|^#|^//", href):
                continue
            target = (page.parent / href.split("#")[0].split("?")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(site)}: {href}"
            checked += 1
    assert checked > 100
    # the offline plugin: the search index as a script, which file:// pages can load
    assert (site / "search" / "search_index.js").is_file()


def test_search_works_opened_from_disk(site):
    """Navigation and search in chromium from file:// (the worker shim is vendored, no CDN)."""
    sync_api = require("playwright.sync_api")
    if not CHROMIUM.exists():
        missing_optional(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            remote: list[str] = []
            page.on(
                "request", lambda r: None if r.url.startswith("file:") else remote.append(r.url)
            )
            page.goto((site / "index.html").as_uri())
            page.get_by_role("link", name="Quickstart").first.click()
            assert page.url.endswith("/quickstart.html")
            page.wait_for_load_state("load")  # the search box listens once the page's script ran
            page.keyboard.press("/")  # Material's shortcut to the search box
            page.keyboard.type("saturated")
            # the worker builds the index first: seconds, more on a loaded machine
            try:
                page.locator(".md-search-result__item").first.wait_for(timeout=120_000)
            except sync_api.TimeoutError:
                shown = page.locator(".md-search-result").inner_text()
                raise AssertionError(f"no search result; the box shows {shown!r}") from None
            links = page.locator(".md-search-result__item a").evaluate_all(
                "links => links.map(a => a.href)"
            )
            assert any("diagnostics.html" in link for link in links), links
            assert remote == [], remote  # nothing fetched from the network
        finally:
            browser.close()


def resolve(path: str) -> object | None:
    """The object a dotted path names (a module, or attributes of one), or ``None``."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def test_every_public_name_is_documented(site):
    """Each public name has an entry: under that path, or the same object under another."""
    documented = {id(resolve(anchor)) for anchor in api_anchors(site)}
    missing = [
        f"{module}.{name}"
        for module, names in public_names().items()
        for name in names
        if name not in UNDOCUMENTED
        and id(getattr(importlib.import_module(module), name)) not in documented
    ]
    assert not missing, f"public names the API reference lacks: {missing}"
    overview = (ROOT / "docs" / "api" / "index.md").read_text(encoding="utf-8")
    for name in public_names()["mlplab"]:
        assert f"`mlplab.{name}`" in overview, name


def test_the_api_reference_documents_no_internals(site):
    public = {f"{m}.{n}" for m, names in public_names().items() for n in names}
    public |= set(PUBLIC_MODULES)
    internal = []
    for anchor in api_anchors(site):
        owner = next((p for p in sorted(public, key=len, reverse=True)
                      if anchor == p or anchor.startswith(p + ".")), None)  # fmt: skip
        member = anchor[len(owner) :] if owner else anchor
        if owner is None or "._" in member or member.startswith("_"):
            internal.append(anchor)
    assert not internal, f"documented but not public: {sorted(internal)}"
    api = "".join(p.read_text(encoding="utf-8") for p in (site / "api").glob("*.html"))
    for name in ("narrow.plan", "after_step", "StackRecord"):
        assert name not in api, name


def test_docstrings_make_it_into_the_reference(site):
    nn = (site / "api" / "nn.html").read_text(encoding="utf-8")
    assert "Units per layer, inputs first" in nn  # MLP's docstring
    assert 'id="mlplab.nn.MLP.evaluate"' in nn


def test_the_cli_reference_covers_every_command_and_option(site):
    html = (site / "cli-reference.html").read_text(encoding="utf-8")
    ids = anchors(html)
    ctx = click.Context(cli)
    assert len(COMMANDS) == 9
    for name in COMMANDS:
        assert f"mlplab-{name}" in ids, name
        command = cli.get_command(ctx, name)
        section = html.split(f'id="mlplab-{name}"', 1)[1].split("<h3", 1)[0]
        for param in command.params:
            for opt in param.opts if isinstance(param, click.Option) else []:
                assert opt in section, f"mlplab {name} {opt}"
    # the options as click's own --help shows them, defaults included (mkdocs-click's table
    # style prints click 8.3's unset defaults as "Sentinel.UNSET", so the page uses plain)
    assert "Sentinel" not in html and "[default: xor]" in html


def test_a_broken_reference_fails_the_build(mkdocs, tmp_path):
    docs = tmp_path / "docs"
    for page in (ROOT / "docs").rglob("*.md"):
        target = docs / page.relative_to(ROOT / "docs")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    with (docs / "api" / "nn.md").open("a", encoding="utf-8") as api:
        api.write("\n::: mlplab.no_such_module\n")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: docs", f"docs_dir: {docs}")
    config = config.replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no_such_module" in result.stderr


def test_every_cli_command_has_its_section_with_output():
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        section = page.split(f"## `mlplab {name}`", 1)
        assert len(section) == 2, name
        assert f"$ mlplab {name}" in section[1].split("\n## ", 1)[0], name


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head, first_block = readme.split("```sh\n", 1)
    assert head.strip() == "# mlplab"  # the two commands come first
    commands = [line.split("#")[0].strip() for line in first_block.split("```", 1)[0].splitlines()]
    assert commands == ["make demo", "make test"]
    sections = re.findall(r"^## (.+)$", readme, flags=re.M)
    order = ["The seed's run", "The five exercises", "Every number of one step", "The library",
             "Experiments", "The playground", "Export", "scikit-learn", "Notebooks", "Tests",
             "Documentation"]  # fmt: skip
    assert len(sections) == len(order)
    assert all(s.startswith(o) for s, o in zip(sections, order, strict=True)), sections
    assert len(readme.splitlines()) < 250
    assert "../shared" not in readme and "(docs/seed.md)" in readme
    assert not re.search(r"^multi-layer perceptrons\.$", readme, flags=re.M)  # the stray fragment
    assert "make test-all" in readme and "make docs-serve" in readme
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not re.match(r"^[a-z]+:", target):
            assert (ROOT / target).exists(), target
    linked = set(re.findall(r"\]\(docs/([^)#]+\.md)", readme))
    assert {"seed.md", "cli.md", "cli-reference.md", "api/index.md", "design.md",
            "benchmarks.md", "training.md", "experiments.md", "export.md"} <= linked  # fmt: skip


def test_make_docs_serve_serves_the_site(mkdocs):
    """The command `make docs-serve` runs answers with the site (on a free port here)."""
    import socket
    import time
    import urllib.request

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndocs-serve:", 1)[1].split("\n\n", 1)[0]
    assert "mkdocs serve --strict --dev-addr 127.0.0.1:8001" in recipe
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "serve", "--strict"]
    server = subprocess.Popen(
        [*command, "--dev-addr", f"127.0.0.1:{port}", "--no-livereload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        page, deadline = None, time.monotonic() + 240
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/cli.html", timeout=5) as r:
                    page = r.read().decode("utf-8")
            except OSError:
                time.sleep(0.5)
        assert page is not None, server.stderr.read() if server.poll() is not None else "timeout"
        assert "<title>Command line - mlplab</title>" in page
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()
