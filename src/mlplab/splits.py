"""Seeded train/validation/test splits, and input standardisation that travels with a model.

``split`` shuffles row indices with ``np.random.default_rng(seed)`` and cuts them;
``Standardizer`` learns each input column's mean and scale on the training rows
and turns into a JSON-ready dict (``to_dict``) that a saved model carries, so
``mlplab predict`` (and ``standardize_for`` in Python) applies the same transformation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError, DataError, ModelFileError

if TYPE_CHECKING:
    from mlplab.network import MLP

Array = np.ndarray

__all__ = ["STANDARDIZE_KEY", "Split", "Standardizer", "split", "standardize_for"]

STANDARDIZE_KEY = "standardize"  # where a model's training metadata keeps its standardisation


@dataclass(frozen=True)
class Split:
    """Row indices of each part; ``validation`` and ``test`` may be empty."""

    train: Array
    validation: Array
    test: Array


def split(n: int, validation: float = 0.0, test: float = 0.0, seed: int | None = 0) -> Split:
    """Cut ``n`` shuffled row indices into train, validation and test shares."""
    for name, share in (("validation", validation), ("test", test)):
        if not (isinstance(share, int | float) and 0 <= share < 1):
            raise ConfigError(f"{name} share must be a number in [0, 1), got {share!r}")
    n_val, n_test = round(validation * n), round(test * n)
    if (validation and not n_val) or (test and not n_test) or n_val + n_test >= n:
        raise ConfigError(
            f"validation {validation:g} and test {test:g} of {n} rows leave {n_val} validation, "
            f"{n_test} test and {n - n_val - n_test} training rows; each asked-for part needs one"
        )
    order = np.random.default_rng(seed).permutation(n)
    test_rows = np.sort(order[:n_test])
    val_rows = np.sort(order[n_test : n_test + n_val])
    return Split(np.sort(order[n_test + n_val :]), val_rows, test_rows)


class Standardizer:
    """``(X - mean) / scale`` per column; a constant column keeps scale 1."""

    def __init__(self, mean: Array, scale: Array) -> None:
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)

    @classmethod
    def fit(cls, X: Array) -> Standardizer:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or len(X) == 0:
            raise DataError(f"standardisation needs a (n, features) array, got shape {X.shape}")
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        return cls(X.mean(axis=0), scale)

    def transform(self, X: Array) -> Array:
        X = np.asarray(X)
        if X.shape[-1] != len(self.mean):
            raise DataError(
                f"inputs have {X.shape[-1]} columns; the standardisation was fitted on "
                f"{len(self.mean)}"
            )
        dtype = X.dtype if X.dtype.kind == "f" else np.float64
        return ((X - self.mean) / self.scale).astype(dtype, copy=False)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: Any, source: str = "model") -> Standardizer:
        """Rebuild from ``to_dict``'s output, or raise ``ModelFileError``."""
        try:
            mean = np.asarray(d["mean"], dtype=float)
            scale = np.asarray(d["scale"], dtype=float)
        except (TypeError, KeyError, ValueError):
            raise ModelFileError(f"{source}: invalid standardisation metadata") from None
        if (
            mean.ndim != 1
            or mean.shape != scale.shape
            or not np.all(np.isfinite(mean))
            or not np.all(np.isfinite(scale) & (scale > 0))
        ):
            raise ModelFileError(f"{source}: invalid standardisation metadata")
        return cls(mean, scale)

    def __repr__(self) -> str:
        return f"Standardizer(columns={len(self.mean)})"


def standardize_for(net: MLP, X: Any, source: str = "model") -> Any:
    """``X`` standardised as a saved model's training inputs were (unchanged if they were not).

    ``MLP.load(path)`` keeps the standardisation in ``net.training_metadata``;
    ``net.predict(standardize_for(net, X))`` is what ``mlplab predict`` does.
    """
    saved = net.training_metadata.get(STANDARDIZE_KEY)
    if saved is None:
        return X
    return Standardizer.from_dict(saved, source).transform(np.asarray(X, dtype=float))
