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

__all__ = ["AUTO_MIN_WORK", "DEVICES", "ENGINE_CHOICES", "check_device", "choose_engine"]

AUTO_MIN_WORK = 1_000_000  # networks x epochs from which auto compiles
ENGINE_CHOICES = ("numpy", "jax", "auto")
DEVICES = ("cpu", "gpu")  # where the compiled engine runs; None: JAX's default (a GPU if found)


def check_device(engine: str, device: str | None) -> None:
    """Refuse an unknown device, or a GPU for the NumPy engine (which runs on the CPU)."""
    if device is None:
        return
    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; expected one of: {', '.join(DEVICES)}")
    if device == "gpu" and engine == "numpy":
        raise ConfigError(
            "device 'gpu' needs the compiled engine: engine 'jax' (or 'auto'); "
            "the NumPy engine runs on the CPU"
        )


def choose_engine(engine: str, nets: int, epochs: int, device: str | None = None) -> str:
    """The engine to train ``nets`` networks for ``epochs`` on: ``engine``, or for ``"auto"``
    ``"jax"`` when a GPU is asked for, or when JAX is installed and the work is large
    enough, else ``"numpy"``."""
    if engine not in ENGINE_CHOICES:
        choices = ", ".join(ENGINE_CHOICES)
        raise ConfigError(f"unknown engine {engine!r}; expected one of: {choices}")
    check_device(engine, device)
    if engine != "auto":
        return engine
    if device == "gpu":
        return "jax"
    if nets * epochs < AUTO_MIN_WORK or importlib.util.find_spec("jax") is None:
        return "numpy"
    return "jax"
