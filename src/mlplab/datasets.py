"""Data sets: the seed's logic gates and the classic 2-D sets of interactive playgrounds.

``DATASETS`` maps a name to a ``Dataset``: a function ``(n, noise, seed) -> (X, t)``
and what kind of data it makes. Targets are 2-D: one column of 0/1 for two
classes, one-hot rows for more.

The gates are the seed's: four rows ``[x1, x2, 1]``, the constant 1 standing in
for a bias, so networks on them need no bias vectors. The 2-D sets have two
input columns and no bias column (give the network ``bias=True``). Their shapes
follow TensorFlow Playground's generators, with labels 0/1 instead of -1/+1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlplab.checks import fraction, integer, one_of
from mlplab.errors import ConfigError

Array = np.ndarray

__all__ = ["DATASETS", "GATES", "Dataset", "load_dataset", "one_hot"]

# The two inputs of every row of a truth table; the seed appends a constant 1.
_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)

GATES: dict[str, list[int]] = {
    "xor": [0, 1, 1, 0],
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "xnor": [1, 0, 0, 1],
}


@dataclass(frozen=True)
class Dataset:
    """A named generator of ``(X, t)``; ``gate`` sets carry the seed's bias column."""

    name: str
    make: Callable[[int, float, int | None], tuple[Array, Array]]
    description: str
    gate: bool = False
    classes: int = 2
    fixed: bool = False  # a fixed set of examples: ``n`` and ``noise`` do not apply

    def __call__(
        self, n: int = 200, noise: float = 0.0, seed: int | None = 0
    ) -> tuple[Array, Array]:
        if not (self.gate or self.fixed):
            integer("n", n, minimum=2, expected="an integer of at least 2 points")
            fraction("noise", noise, include_one=True)
        return self.make(n, noise, seed)


def one_hot(labels: Array, classes: int) -> Array:
    """Integer labels ``(n,)`` as one-hot rows ``(n, classes)``."""
    return np.eye(classes)[np.asarray(labels, dtype=int)]


def _gate(targets: list[int]) -> Callable[[int, float, int | None], tuple[Array, Array]]:
    def make(n: int, noise: float, seed: int | None) -> tuple[Array, Array]:
        X = np.hstack([_INPUTS, np.ones((4, 1))])  # the seed's X: [x1, x2, 1]
        t = np.array([targets], dtype=float).T  # the seed's t: a column
        return X, t

    return make


def _binary(X: Array, labels: Array) -> tuple[Array, Array]:
    return X, labels.astype(float)[:, None]


def _circle(n: int, noise: float, seed: int | None) -> tuple[Array, Array]:
    """Class 1 inside radius 2.5, class 0 on a ring from 3.5 to 5."""
    rng = np.random.default_rng(seed)
    inner = n // 2
    r = np.concatenate([rng.uniform(0, 2.5, inner), rng.uniform(3.5, 5.0, n - inner)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    X += rng.uniform(-5, 5, X.shape) * noise
    return _binary(X, np.arange(n) < inner)


def _xor_cloud(n: int, noise: float, seed: int | None) -> tuple[Array, Array]:
    """Uniform on [-5, 5]^2 (kept 0.3 off the axes); class 1 where x1 * x2 > 0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    labels = X[:, 0] * X[:, 1] > 0
    X += rng.uniform(-5, 5, X.shape) * noise
    return _binary(X, labels)


def _gaussians(n: int, noise: float, seed: int | None, classes: int = 2) -> tuple[Array, Array]:
    """``classes`` Gaussian blobs on a circle of radius 3 (two: at (2, 2) and (-2, -2))."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    angles = np.pi / 4 + 2 * np.pi * np.arange(classes) / classes
    centres = 2 * np.sqrt(2) * np.column_stack([np.cos(angles), np.sin(angles)])
    spread = 0.5 + 3.5 * noise
    X = centres[labels] + rng.normal(0, spread, (n, 2))
    return _binary(X, labels) if classes == 2 else (X, one_hot(labels, classes))


def _spiral(n: int, noise: float, seed: int | None, arms: int = 2) -> tuple[Array, Array]:
    """``arms`` interleaved spirals of radius up to 5."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % arms
    s = rng.uniform(0, 1, n)
    r = 5 * s
    theta = 1.75 * 2 * np.pi * s + 2 * np.pi * labels / arms
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    X += rng.uniform(-1, 1, X.shape) * noise * 5
    return _binary(X, labels) if arms == 2 else (X, one_hot(labels, arms))


def _moons(n: int, noise: float, seed: int | None) -> tuple[Array, Array]:
    """Two interleaved half circles (as scikit-learn's make_moons), scaled to about [-5, 5]."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    angle = rng.uniform(0, np.pi, n)
    X = np.column_stack([np.cos(angle), np.sin(angle)])
    X[labels == 1] = np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)])[labels == 1]
    X = (X - [0.5, 0.25]) * 3.3 + rng.normal(0, 0.1 + noise * 3, X.shape)
    return _binary(X, labels)


def _digits(n: int, noise: float, seed: int | None) -> tuple[Array, Array]:
    """scikit-learn's bundled 8x8 digits (1797 images, no download), pixels scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ConfigError(
            "the digits data set ships with scikit-learn, which is not installed: "
            "pip install 'mlplab[sklearn]'"
        ) from None
    images = load_digits()
    return images.data / 16.0, one_hot(images.target, 10)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        *(
            Dataset(name, _gate(t), f"the {name.upper()} truth table", gate=True)
            for name, t in GATES.items()
        ),
        Dataset("circle", _circle, "a disc inside a ring"),
        Dataset("xor2d", _xor_cloud, "the XOR pattern as a cloud of 2-D points"),
        Dataset("gaussians", _gaussians, "two Gaussian blobs"),
        Dataset("spiral", _spiral, "two interleaved spirals"),
        Dataset("moons", _moons, "two interleaved half moons"),
        Dataset(
            "spiral3",
            lambda n, noise, seed: _spiral(n, noise, seed, arms=3),
            "three interleaved spirals (3 classes)",
            classes=3,
        ),
        Dataset(
            "gaussians3",
            lambda n, noise, seed: _gaussians(n, noise, seed, classes=3),
            "three Gaussian blobs (3 classes)",
            classes=3,
        ),
        Dataset(
            "digits",
            _digits,
            "8x8 images of handwritten digits (10 classes; from scikit-learn)",
            classes=10,
            fixed=True,
        ),
    ]
}


def load_dataset(
    name: str, n: int = 200, noise: float = 0.0, seed: int | None = 0
) -> tuple[Array, Array]:
    """``(X, t)`` for a named data set, or a ``ConfigError`` listing the names."""
    return DATASETS[one_of("data set", name, DATASETS)](n, noise, seed)
