"""The exceptions mlplab raises: one base class, one subclass per kind of mistake."""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "MlplabError", "ModelFileError", "TrainingDivergedError"]


class MlplabError(Exception):
    """Base class of every error mlplab raises on purpose."""


class ConfigError(MlplabError, ValueError):
    """A setting is unknown, out of range or inconsistent with another."""


class DataError(MlplabError, ValueError):
    """Inputs or targets have the wrong shape, type or values."""


class ModelFileError(MlplabError, ValueError):
    """A model file is missing, corrupt, truncated or inconsistent."""


class TrainingDivergedError(MlplabError, FloatingPointError):
    """The loss became NaN or infinite; the weights are those from before that step."""

    def __init__(self, message: str, *, epoch: int, history: object) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history
