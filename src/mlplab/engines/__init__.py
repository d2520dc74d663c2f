"""Engines: where the epochs of a ``fit`` run.

``base`` holds what every engine shares (the runner interface, the choice of engine and
its checks), ``registry`` the engines by name, ``numpy`` the readable reference, bit-exact
with the seed, and ``jax`` the same math compiled (``jit`` of a ``lax.scan``; its private
``_jax_setup`` and ``_jax_program``). Importing this package imports neither engine:
``get_engine`` does.
"""

from mlplab.engines.base import (
    AUTO_MIN_WORK,
    DEVICES,
    ENGINE_CHOICES,
    AfterEpoch,
    Diverged,
    Engine,
    EpochLogs,
    Runner,
    check_engine,
    choose_engine,
    replay,
)
from mlplab.engines.registry import ENGINES, get_engine

__all__ = [
    "AUTO_MIN_WORK",
    "DEVICES",
    "ENGINES",
    "ENGINE_CHOICES",
    "AfterEpoch",
    "Diverged",
    "Engine",
    "EpochLogs",
    "Runner",
    "check_engine",
    "choose_engine",
    "get_engine",
    "replay",
]
