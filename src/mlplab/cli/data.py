"""Where ``mlplab train`` gets its data: a built-in set or a user's file, split and scaled.

``prepare_data`` reads the configured source, cuts the seeded train/validation/
test split and, when asked, fits a ``Standardizer`` on the training rows. The
standardisation is saved in the model's metadata, and ``standardize_for``
applies it again wherever a saved model predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlplab.datafiles import read_table
from mlplab.datasets import load_dataset, one_hot
from mlplab.errors import DataError
from mlplab.splits import STANDARDIZE_KEY, Split, Standardizer, split, standardize_for

if TYPE_CHECKING:
    from mlplab.cli.options import TrainConfig

__all__ = ["STANDARDIZE_KEY", "PreparedData", "prepare_data", "standardize_for"]


@dataclass
class PreparedData:
    """All rows (``X`` as given, ``t`` 2-D), the split, and the inputs' standardisation."""

    X: np.ndarray
    t: np.ndarray
    parts: Split
    standardizer: Standardizer | None
    source: str

    def inputs(self) -> np.ndarray:
        """``X`` as the network sees it (standardised when asked)."""
        return self.X if self.standardizer is None else self.standardizer.transform(self.X)


def _targets(y: np.ndarray, loss: str, source: str) -> np.ndarray:
    """A file's target column as 2-D targets: one-hot class labels for cross-entropy."""
    if loss != "cross_entropy":
        return y[:, None]
    if not np.all(y == np.round(y)) or y.min() < 0:
        raise DataError(
            f"{source}: cross_entropy needs class labels 0, 1, 2, ... in the target column"
        )
    classes = int(y.max()) + 1
    if classes < 2:
        raise DataError(f"{source}: the target column holds only one class")
    return one_hot(y.astype(int), classes)


def prepare_data(config: TrainConfig) -> PreparedData:
    """Read, split and (optionally) standardise the configured data."""
    if config.data:
        table = read_table(config.data, config.target)
        X, t, source = table.X, _targets(table.y, config.loss, config.data), config.data
    else:
        X, t = load_dataset(config.dataset, config.points, config.noise, config.seed)
        source = config.dataset
    if config.validation or config.test:
        parts = split(len(X), config.validation, config.test, config.seed)
    else:
        everything = np.arange(len(X))
        parts = Split(everything, everything[:0], everything[:0])
    standardizer = Standardizer.fit(X[parts.train]) if config.standardize else None
    return PreparedData(X, t, parts, standardizer, source)
