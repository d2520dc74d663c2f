"""Input features computed from a point ``(x1, x2)``, as a name table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray

__all__ = ["FEATURES", "feature_matrix"]


@dataclass(frozen=True)
class Feature:
    """One input column: ``f(x1, x2)`` and the label the page shows."""

    name: str
    label: str
    f: Callable[[Array, Array], Array]


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in [
        Feature("x1", "x1", lambda a, b: a),
        Feature("x2", "x2", lambda a, b: b),
        Feature("x1sq", "x1^2", lambda a, b: a * a),
        Feature("x2sq", "x2^2", lambda a, b: b * b),
        Feature("x1x2", "x1*x2", lambda a, b: a * b),
        Feature("sinx1", "sin(x1)", lambda a, b: np.sin(a)),
        Feature("sinx2", "sin(x2)", lambda a, b: np.sin(b)),
    ]
}


def feature_matrix(points: Array, names: list[str]) -> Array:
    """The network's inputs: one column per feature in ``names`` for 2-D ``points``."""
    a, b = points[:, 0], points[:, 1]
    return np.column_stack([FEATURES[n].f(a, b) for n in names]).astype(np.float64)
