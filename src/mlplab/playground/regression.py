"""TensorFlow Playground's two regression sets: a tilted plane and six signed bumps.

Each maps ``(n, noise, seed)`` to ``(points (n, 2), values (n,))`` on the square
``[-6, 6]^2``. As in TensorFlow Playground, noise moves the point a value is read
at (by up to ``noise * 6`` each way), not the value itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray

__all__ = ["REGRESSION_SETS", "RegressionSet"]

RADIUS = 6.0
# (x, y, sign) of each bump; a point takes the value of the bump that is largest there
_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1],
                   [4, -2.5, -1]], dtype=float)  # fmt: skip


def _plane(x: Array, y: Array) -> Array:
    """x + y scaled so that [-10, 10] maps to [-1, 1]."""
    return (x + y) / 10.0


def _bumps(x: Array, y: Array) -> Array:
    """Each bump falls linearly from its sign at the centre to 0 at distance 2."""
    d = np.hypot(x[:, None] - _BUMPS[:, 0], y[:, None] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    return values[np.arange(len(x)), np.abs(values).argmax(axis=1)]


@dataclass(frozen=True)
class RegressionSet:
    """A named function of the plane, sampled at uniform random points."""

    name: str
    description: str
    f: Callable[[Array, Array], Array]

    def __call__(self, n: int, noise: float, seed: int) -> tuple[Array, Array]:
        rng = np.random.default_rng(seed)
        points = rng.uniform(-RADIUS, RADIUS, (n, 2))
        shift = rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
        values = self.f(points[:, 0] + shift[:, 0], points[:, 1] + shift[:, 1])
        return points, values


REGRESSION_SETS: dict[str, RegressionSet] = {
    r.name: r
    for r in [
        RegressionSet("plane", "a tilted plane (regression)", _plane),
        RegressionSet("multigaussian", "six bumps, up and down (regression)", _bumps),
    ]
}
