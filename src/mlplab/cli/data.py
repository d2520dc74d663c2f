"""Where ``mlplab train`` gets its data: a built-in set or a user's file, split.

``prepare_data`` reads the configured source and cuts the seeded train/validation/
test split. Standardisation (``--standardize``) is the network's own: ``net.fit(...,
standardize=True)`` fits ``net.input_scaler`` on the training rows, and the saved
model applies it wherever it predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlplab.datafiles import read_table
from mlplab.datasets import load_dataset, one_hot
from mlplab.errors import DataError
from mlplab.splits import Split, split

if TYPE_CHECKING:
    from mlplab.cli.options import TrainConfig

__all__ = ["PreparedData", "prepare_data"]


@dataclass
class PreparedData:
    """All rows (``X`` as given, ``t`` 2-D) and the split."""

    X: np.ndarray
    t: np.ndarray
    parts: Split
    source: str


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
    """Read and split the configured data."""
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
    return PreparedData(X, t, parts, source)
