"""Optimizers: objects that turn gradients into weight updates, holding their own state.

The training loop hands an optimizer the flat list of parameter arrays and the
matching list of gradients; it updates the parameters in place. Nothing here
knows how the gradients were computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mlplab.errors import ConfigError

Array = np.ndarray

__all__ = ["SGD", "Optimizer"]


class Optimizer(Protocol):
    """Anything with ``step(params, grads)`` that updates ``params`` in place."""

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None: ...


class SGD:
    """Plain gradient descent, the seed's update::

        W <- W - lr * dW

    With ``lr = 1`` this is the seed's ``W += np.dot(h.T, y_delta)`` exactly.
    """

    def __init__(self, lr: float = 1.0) -> None:
        if not (isinstance(lr, int | float) and np.isfinite(lr) and lr > 0):
            raise ConfigError(f"learning rate must be a positive number, got {lr!r}")
        self.lr = float(lr)

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        lr = self.lr
        for p, g in zip(params, grads, strict=True):
            if lr == 1.0:
                p -= g  # the seed's step, bit for bit
            else:
                p -= lr * g

    def state_dict(self) -> dict[str, Array]:
        """Plain gradient descent keeps no state."""
        return {}

    def load_state_dict(self, state: dict[str, Array], params: Sequence[Array]) -> None:
        """Nothing to restore."""

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr})"
