"""The exceptions mlplab raises: one base class, one subclass per kind of mistake."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "MlplabError",
    "ModelFileError",
    "TrainingDivergedError",
    "kept_weights",
]


class MlplabError(Exception):
    """Base class of every error mlplab raises on purpose."""


class ConfigError(MlplabError, ValueError):
    """A setting is unknown, out of range or inconsistent with another."""


class DataError(MlplabError, ValueError):
    """Inputs or targets have the wrong shape, type or values."""


class ModelFileError(MlplabError, ValueError):
    """A model file is missing, corrupt, truncated or inconsistent."""


class TrainingDivergedError(MlplabError, FloatingPointError):
    """The loss became NaN or infinite; the message says which weights the network kept:
    early stopping's best, or those at which the loss became non-finite (not usable)."""

    def __init__(self, message: str, *, epoch: int, history: object) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history


def kept_weights(net: Any) -> str:
    """What a network keeps after its loss diverged, said truthfully: the weights at which
    the loss became non-finite (the last step is not taken), which are no model to use."""
    import numpy as np

    values = [v for p in net.params for v in p.values() if v.size]
    largest = max(float(np.max(np.abs(v))) for v in values) if values else 0.0
    size = f"largest |weight| {largest:.3g}" if np.isfinite(largest) else "some not finite"
    return (
        f"the network keeps the weights at which the loss became non-finite ({size}): do not "
        "use them"
    )
