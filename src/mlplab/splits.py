"""Seeded train/validation/test splits.

``split`` shuffles row indices with ``np.random.default_rng(seed)`` and cuts them.
Input standardisation belongs to the model: see ``mlplab.nn.scaling``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlplab.checks import fraction
from mlplab.errors import ConfigError

Array = np.ndarray

__all__ = ["Split", "split"]


@dataclass(frozen=True)
class Split:
    """Row indices of each part; ``validation`` and ``test`` may be empty."""

    train: Array
    validation: Array
    test: Array


def split(n: int, validation: float = 0.0, test: float = 0.0, seed: int | None = 0) -> Split:
    """Cut ``n`` shuffled row indices into train, validation and test shares."""
    for name, share in (("validation", validation), ("test", test)):
        fraction(f"{name} share", share)
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
