"""``engine="auto"``: the compiled engine where it wins, NumPy elsewhere.

Compiling costs about a second on a quiet 2-core machine and up to 5-10 s on a loaded one
(the disk cache makes a repeated shape cheap), while the NumPy engine pays about 20-200 µs
an epoch for a small stack. Measured on the project's machine (docs/engines.md), the two
cross near 100 networks x 10000 epochs with a cold cache; below ``AUTO_MIN_WORK``
network-epochs ``auto`` keeps NumPy (exact, no compile), above it takes JAX when installed.
"""

from __future__ import annotations

import importlib.util

from mlplab.errors import ConfigError

__all__ = ["AUTO_MIN_WORK", "ENGINE_CHOICES", "choose_engine"]

AUTO_MIN_WORK = 1_000_000  # networks x epochs from which auto compiles
ENGINE_CHOICES = ("numpy", "jax", "auto")


def choose_engine(engine: str, nets: int, epochs: int) -> str:
    """The engine to train ``nets`` networks for ``epochs`` on: ``engine``, or for ``"auto"``
    ``"jax"`` when JAX is installed and the work is large enough, else ``"numpy"``."""
    if engine not in ENGINE_CHOICES:
        choices = ", ".join(ENGINE_CHOICES)
        raise ConfigError(f"unknown engine {engine!r}; expected one of: {choices}")
    if engine != "auto":
        return engine
    if nets * epochs < AUTO_MIN_WORK or importlib.util.find_spec("jax") is None:
        return "numpy"
    return "jax"
