"""The training loop and its record, ``History``.

The loop is the seed's ``for j in range(60000)`` with the pieces named: a
forward and backward pass (``MLP.loss_and_backward``), a finite-loss check, the
loss written to a preallocated array, and an optimizer step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mlplab.errors import ConfigError, TrainingDivergedError
from mlplab.optimizers import SGD, Optimizer

if TYPE_CHECKING:
    from mlplab.network import MLP

__all__ = ["Callback", "History", "fit"]


@dataclass
class History:
    """What training recorded: ``loss[j]`` is the loss at the start of epoch ``j``.

    The loss is that of the weights the epoch's gradient was taken at, before
    its update (the seed's ``y`` inside the loop is the same).
    """

    loss: np.ndarray
    epochs: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1]) if len(self.loss) else math.nan

    def __len__(self) -> int:
        return len(self.loss)


class Callback(Protocol):
    """Called after every epoch with the epoch index and the loss recorded for it."""

    def __call__(self, epoch: int, loss: float) -> None: ...


def fit(
    net: MLP,
    X: Any,
    T: Any,
    *,
    epochs: int,
    lr: float = 1.0,
    optimizer: Optimizer | None = None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``net`` by full-batch gradient descent; see ``MLP.fit``."""
    import time

    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
        raise ConfigError(f"epochs must be a non-negative integer, got {epochs!r}")
    X, T = net.check_data(X, T)
    optimizer = optimizer if optimizer is not None else SGD(lr)
    params = [v for p in net.params for v in p.values()]
    grads = [v for g in net.grads for v in g.values()]
    stacked = net.stack is not None
    losses = np.empty((epochs, net.stack) if stacked else epochs)
    step = optimizer.step
    loss_and_backward = net.loss_and_backward
    start = time.perf_counter()
    with np.errstate(over="ignore"):
        for epoch in range(epochs):
            loss = loss_and_backward(X, T)
            if not math.isfinite(loss.sum() if stacked else loss):
                history = History(losses[:epoch].copy(), epoch, time.perf_counter() - start)
                raise TrainingDivergedError(
                    f"the loss became {loss} at epoch {epoch}; training stopped and the "
                    f"weights from before that step were kept. Try a smaller learning rate.",
                    epoch=epoch,
                    history=history,
                )
            losses[epoch] = loss
            step(params, grads)
            for callback in callbacks:
                callback(epoch, loss)
    done = net.training_metadata.get("epochs", 0) + epochs
    net.training_metadata.update(epochs=done, optimizer=repr(optimizer))
    return History(losses, epochs, time.perf_counter() - start)
