# Every target creates .venv and installs what it needs from this repository's own files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-all lint bench docs docs-serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run the install when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[plot]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The optional peers some tests compare against: PyTorch (autograd, export), numba (the
# benchmarks' peers) and Debian's chromium (the playground's browser tests; needs root, as on CI).
$(VENV)/.installed-peers: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	touch $@

demo: $(VENV)/.installed-run
	$(BIN)/mlplab train

# The suite in parallel, one pytest-xdist worker a core, a file's tests on one worker (a module
# fixture such as a docs build, a browser or a server is set up once). Not --dist loadgroup:
# with pytest 9.2 it ignores the groups (pytest-dev/pytest-xdist#1386).
PYTEST := $(BIN)/python -m pytest -q -n auto --dist loadfile

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(PYTEST)

# As CI runs it: the optional peers installed, a test that would skip for one fails, and JAX
# programs compiled with all of XLA's optimisations (`make test` compiles them quickly).
test-all: $(VENV)/.installed-peers
	$(BIN)/ruff check .
	MLPLAB_REQUIRE_OPTIONAL=1 JAX_DISABLE_MOST_OPTIMIZATIONS=0 $(PYTEST)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The site at http://127.0.0.1:8001/, rebuilt as the docs change (site/ also opens from disk).
docs-serve: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8001

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/seed_loop.py
	$(BIN)/python benchmarks/ensemble.py
	$(BIN)/python benchmarks/playground.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist site src/*.egg-info
