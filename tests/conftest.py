"""Shared test helpers.

Optional peers (PyTorch, a browser, ...) are not forced on a user's ``make test``:
tests needing one call ``require("torch")``, which skips with a reason when the
peer is missing, or fails when ``MLPLAB_REQUIRE_OPTIONAL=1`` (as CI sets it).
"""

from __future__ import annotations

import importlib
import os
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
