"""A tab's data: its points, labels and targets, split into training and test points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlplab.datasets import load_dataset, one_hot
from mlplab.errors import DataError
from mlplab.playground.regression import REGRESSION_SETS
from mlplab.playground.schema import UPLOAD, Settings
from mlplab.playground.upload import check_classes

Array = np.ndarray

__all__ = ["TabData", "load_tab_data"]

SPLITS = ("train", "test")


@dataclass(frozen=True)
class TabData:
    """Points ``(n, 2)``, labels ``(n,)`` and targets by split; the classes; the plane shown."""

    points: dict[str, Array]
    labels: dict[str, Array]
    targets: dict[str, Array]
    classes: int
    domain: tuple[float, float]


def load_tab_data(s: Settings, uploaded: tuple[Array, Array] | None) -> TabData:
    """The data ``s`` asks for (``uploaded``: the tab's uploaded points, if any)."""
    points, labels, classes = _points(s, uploaded)
    labels = labels.astype(np.float64)
    n = len(points)
    if s.dataset == "xor":  # four points: train and test on all of them
        train = test = np.arange(n)
    else:
        order = np.random.default_rng(s.data_seed).permutation(n)
        n_train = min(max(round(s.train_ratio * n), 1), n - 1)
        train, test = order[:n_train], order[n_train:]
    split_points = {"train": points[train], "test": points[test]}
    split_labels = {"train": labels[train], "test": labels[test]}
    targets = {k: _targets(v, classes) for k, v in split_labels.items()}
    return TabData(split_points, split_labels, targets, classes, _domain(points, s.dataset))


def _points(s: Settings, uploaded: tuple[Array, Array] | None) -> tuple[Array, Array, int]:
    """``(points, labels, classes)`` of the data set chosen."""
    if s.dataset in REGRESSION_SETS:
        if s.problem != "regression":
            raise DataError(
                f"{s.dataset} is a regression data set: choose the problem type regression"
            )
        points, labels = REGRESSION_SETS[s.dataset](s.points, s.noise, s.data_seed)
        return points, labels, 2
    if s.dataset == UPLOAD:
        if uploaded is None:
            raise DataError("no uploaded points yet: choose a CSV file first")
        points, labels = uploaded
        classification = s.problem == "classification"
        return points, labels, check_classes(labels, "the uploaded points") if classification else 2
    X, t = load_dataset(s.dataset, s.points, s.noise, s.data_seed)
    if t.shape[1] > 1:
        return X[:, :2], t.argmax(axis=1), t.shape[1]
    return X[:, :2], t[:, 0], 2


def _targets(labels: Array, classes: int) -> Array:
    """One column of labels for two classes (or regression), one-hot rows for more."""
    if classes > 2:
        return one_hot(labels.astype(int), classes)
    return labels[:, None]


def _domain(points: Array, dataset: str) -> tuple[float, float]:
    """The square of the plane shown: fixed for the built-in sets, fitted to uploads."""
    if dataset == "xor":
        return -0.5, 1.5
    if dataset != UPLOAD:
        return -6.0, 6.0
    lo, hi = float(points.min()), float(points.max())
    pad = max(0.1 * (hi - lo), 1e-3)
    return lo - pad, hi + pad
