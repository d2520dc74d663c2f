"""Data sets: the seed's logic gates, each as inputs with a constant-1 bias column.

``DATASETS`` maps a name to a function returning ``(X, t)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlplab.errors import ConfigError

__all__ = ["DATASETS", "GATES", "load_dataset"]

# The two inputs of every row of a truth table; the seed appends a constant 1.
_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)

GATES: dict[str, list[int]] = {
    "xor": [0, 1, 1, 0],
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "xnor": [1, 0, 0, 1],
}


def _gate(targets: list[int]) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        X = np.hstack([_INPUTS, np.ones((4, 1))])  # the seed's X: [x1, x2, 1]
        t = np.array([targets], dtype=float).T  # the seed's t: a column
        return X, t

    return load


DATASETS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    name: _gate(targets) for name, targets in GATES.items()
}


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, t)`` for a named data set, or a ``ConfigError`` listing the names."""
    if name not in DATASETS:
        raise ConfigError(f"unknown data set {name!r}; expected one of: {', '.join(DATASETS)}")
    return DATASETS[name]()
