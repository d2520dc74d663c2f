"""Weight initialisations: ``INITS`` maps a name to a function drawing one network's weights.

``"seed"`` replays the seed exactly: after ``np.random.seed(s)`` the seed draws
``W1 = 2*np.random.random((3,4)) - 1`` and then ``W2``; here each weight matrix
is drawn as ``2 * RandomState(s).random_sample(shape) - 1``, layer by layer, from
one legacy stream. It is the one place mlplab touches NumPy's legacy generator
(it must, to replay that stream); the other inits use ``np.random.default_rng``.
Biases start at zero for every init.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mlplab.checks import integer, one_of

Shapes = Sequence[tuple[int, int]]
Weights = list[np.ndarray]
InitFn = Callable[[Shapes, int | None], Weights]

__all__ = ["INITS", "init_weights", "scaled"]


def _seed(shapes: Shapes, seed: int | None) -> Weights:
    stream = np.random.RandomState(seed)
    return [2 * stream.random_sample(shape) - 1 for shape in shapes]


def _uniform(shapes: Shapes, seed: int | None) -> Weights:
    """U[-1, 1), the seed's distribution drawn from the modern generator."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, shape) for shape in shapes]


def _glorot(shapes: Shapes, seed: int | None) -> Weights:
    """U[-a, a) with a = sqrt(6 / (fan_in + fan_out)): keeps tanh/sigmoid layers' variance."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, (i, o)) * np.sqrt(6.0 / (i + o)) for i, o in shapes]


def _he(shapes: Shapes, seed: int | None) -> Weights:
    """N(0, 2 / fan_in): keeps ReLU layers' variance."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((i, o)) * np.sqrt(2.0 / i) for i, o in shapes]


INITS: dict[str, InitFn] = {"seed": _seed, "uniform": _uniform, "glorot": _glorot, "he": _he}


def init_weights(name: str, shapes: Shapes, seed: int | None, dtype: np.dtype) -> Weights:
    """Draw one weight matrix per ``(fan_in, fan_out)`` in ``shapes`` with init ``name``."""
    one_of("init", name, INITS)
    if seed is not None:
        integer("seed", seed, minimum=0, maximum=2**32 - 1, expected="an integer in [0, 2**32)")
    return [w.astype(dtype, copy=False) for w in INITS[name](shapes, seed)]


def scaled(weights: Weights, scale: float) -> Weights:
    """``weights`` each times ``scale`` (an init scale); as they are for a scale of 1."""
    return weights if scale == 1.0 else [(w * scale).astype(w.dtype) for w in weights]
