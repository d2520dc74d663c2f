"""Shared test helpers.

Optional peers (PyTorch, a browser, ...) are not forced on a user's ``make test``:
tests needing one call ``require("torch")``, which skips with a reason when the
peer is missing, or fails when ``MLPLAB_REQUIRE_OPTIONAL=1`` (as CI sets it).

The suite runs in parallel (pytest-xdist, ``make test``: ``-n auto --dist loadfile``, a
file's tests on one worker, so a module fixture such as a docs build, a browser or a server
is set up once): a test keeps its files under ``tmp_path``, asks the system for a free port
(port 0), and changes the environment or the working directory only through ``monkeypatch``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from types import ModuleType

import pytest

REQUIRE_OPTIONAL = os.environ.get("MLPLAB_REQUIRE_OPTIONAL") == "1"
# said with every skip, so a user sees how to run what was skipped
HOW_TO_RUN_ALL = "`make test-all` installs PyTorch and chromium and runs these too"


def missing_optional(reason: str) -> None:
    """Skip (or, under MLPLAB_REQUIRE_OPTIONAL=1, fail) because an optional peer is missing."""
    if REQUIRE_OPTIONAL:
        pytest.fail(f"{reason} (MLPLAB_REQUIRE_OPTIONAL=1: optional peers are required)")
    pytest.skip(f"{reason}; {HOW_TO_RUN_ALL}")


def require(module: str) -> ModuleType:
    """Import an optional peer, or skip/fail as ``missing_optional`` says."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing_optional(f"{module} is not installed")
        raise  # unreachable: skip and fail raise


def pytest_configure(config: pytest.Config) -> None:
    """XLA's quick compile, one thread a worker for BLAS and OpenMP, and one JAX compilation
    cache for the run, shared by the workers and the processes tests start.

    A program compiled once (by any worker, or a ``python -m mlplab`` a test runs) is read
    back by the others instead of compiled again; the user's own cache is left alone, and
    the run's is removed at its end. With a size limit set, JAX locks the directory around
    each read and write, so no process reads an entry another is still writing.
    """
    if hasattr(config, "workerinput"):
        return  # a worker: it inherits the controller's environment
    # XLA's quick compile (JAX's own flag): the tests' many small programs cost less to
    # compile than to optimise, and every assertion runs as before. CI sets it to 0 and runs
    # the suite on the programs users get.
    os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
    # One worker a core: each worker's BLAS and OpenMP (PyTorch) threads would spin on the
    # cores the other workers use (the suite: 518 CPU-s with them, 486 without).
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(threads, "1")
    if "MLPLAB_JAX_CACHE" in os.environ:
        return  # the user chose a cache
    directory = tempfile.mkdtemp(prefix="mlplab-tests-jax-cache-")
    os.environ["MLPLAB_JAX_CACHE"] = directory
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(1 << 30))
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))

