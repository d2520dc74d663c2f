"""Where a training run gets its data: a built-in set or a user's file, split.

``prepare_data`` reads the configured source and cuts the seeded train/validation/
test split. A target column of class names keeps the names (``classes``); the model
carries them in its metadata (``CLASSES_KEY``) and ``class_names`` reads them back.
Standardisation (``--standardize``) is the network's own: ``net.fit(...,
standardize=True)`` fits ``net.input_scaler`` on the training rows, and the saved
model applies it wherever it predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import printable
from mlplab.datasets import load_dataset, one_hot
from mlplab.errors import DataError, ModelFileError
from mlplab.io.datafiles import csv_columns, read_table
from mlplab.nn.targets import predicted_class
from mlplab.splits import Split, split

if TYPE_CHECKING:
    from mlplab.experiments.config import TrainConfig
    from mlplab.nn.network import MLP

__all__ = [
    "CLASSES_KEY",
    "PreparedData",
    "class_names",
    "data_target",
    "predicted_classes",
    "prepare_data",
]

CLASSES_KEY = "classes"  # where a model's training metadata keeps its class names


@dataclass
class PreparedData:
    """All rows (``X`` as given, ``t`` 2-D), the split, and the target's class names if any;
    for a file, its input column names and target column."""

    X: np.ndarray
    t: np.ndarray
    parts: Split
    source: str
    classes: tuple[str, ...] | None = None
    features: tuple[str, ...] | None = None
    target: str | None = None


def _targets(
    y: np.ndarray, loss: str, source: str, classes: tuple[str, ...] | None = None
) -> np.ndarray:
    """A file's target column as 2-D targets: one-hot class labels for cross-entropy."""
    if classes is not None:
        return _named_targets(y, loss, source, classes)
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


def _named_targets(y: np.ndarray, loss: str, source: str, classes: tuple[str, ...]) -> np.ndarray:
    """Class indices of named classes: one-hot for cross-entropy, 0/1 for two classes."""
    if len(classes) < 2:
        raise DataError(f"{source}: the target column holds only one class, {classes[0]!r}")
    if loss == "cross_entropy":
        return one_hot(y.astype(int), len(classes))
    if len(classes) == 2:
        return y[:, None]  # 0 for the first name in sorted order, 1 for the second
    raise DataError(
        f"{source}: the target column holds {len(classes)} class names; train them with "
        "--loss cross_entropy --output-activation softmax"
    )


def prepare_data(config: TrainConfig) -> PreparedData:
    """Read and split the configured data."""
    classes = features = target = None
    if config.data:
        table = read_table(config.data, data_target(config))
        classes, features, target = table.classes, table.features, table.target
        X, source = table.X, config.data
        t = _targets(table.y, config.loss, config.data, classes)
    else:
        X, t = load_dataset(config.dataset, config.points, config.noise, config.seed)
        source = config.dataset
    if config.validation or config.test:
        parts = split(len(X), config.validation, config.test, config.seed)
    else:
        everything = np.arange(len(X))
        parts = Split(everything, everything[:0], everything[:0])
    return PreparedData(X, t, parts, source, classes, features, target)


def data_target(config: TrainConfig) -> str | None:
    """The target column of ``--data``: ``--target``, or a CSV file's last column."""
    if config.data and not config.target and Path(config.data).suffix.lower() == ".csv":
        return csv_columns(config.data)[-1]
    return config.target


def class_names(net: MLP, source: str) -> list[str] | None:
    """The class names a model was trained with (``None`` if none), checked against its
    outputs, as they may be shown: read from a user's file, a name's control characters
    (a terminal's escape sequences) come back escaped (``mlplab.checks.printable``)."""
    names: Any = net.training_metadata.get(CLASSES_KEY)
    if names is None:
        return None
    expected = max(net.sizes[-1], 2)
    if (
        not isinstance(names, list)
        or len(names) != expected
        or not all(isinstance(n, str) for n in names)
    ):
        raise ModelFileError(
            f"{source}: invalid class names in the model's metadata; expected a list of "
            f"{expected} strings"
        )
    return [printable(name) for name in names]


def predicted_classes(y: np.ndarray, names: list[str]) -> list[str]:
    """Each row's predicted class name: the largest output, or ``y > 0.5`` for one output."""
    return [names[int(c)] for c in np.atleast_1d(predicted_class(y))]
