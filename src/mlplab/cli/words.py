"""Counted nouns for what the command line prints: "1 example", "2 examples"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``counted(1, "epoch")`` is ``1 epoch``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
