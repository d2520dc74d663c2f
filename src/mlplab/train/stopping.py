"""Early stopping: watch a loss after every epoch and stop when it stops improving.

A ``fit`` callback like any other: after every epoch it reads the watched loss from
the logs (``update``), keeps a copy of the best weights, and at the end of training
puts them back (``restore``) and notes the best epoch in the ``History``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.train.callbacks import Callback

if TYPE_CHECKING:
    from mlplab.nn.network import MLP
    from mlplab.train.history import History

Array = np.ndarray

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without the loss improving by more than ``min_delta``.

    ``monitor`` is ``"val_loss"`` (the default; the training loss when no validation
    data is given) or ``"loss"``. With ``restore_best`` the network ends with the
    weights of the best epoch.
    """

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        restore_best: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int | np.integer) or patience < 1:
            raise ConfigError(f"patience must be a positive integer, got {patience!r}")
        if not (isinstance(min_delta, int | float) and min_delta >= 0):
            raise ConfigError(f"min_delta must be a non-negative number, got {min_delta!r}")
        if monitor not in ("val_loss", "loss"):
            raise ConfigError(f"monitor must be 'val_loss' or 'loss', got {monitor!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.monitor = monitor
        self.restore_best = restore_best
        # the best weights are copied when seen, so they must be current after every epoch
        self.weights_every = 1 if restore_best else None
        self._params: list[Array] = []
        self.reset()

    def on_train_begin(self, net: MLP) -> None:
        self.reset()
        self._params = [v for p in net.params for v in p.values()]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        """Stop when the watched loss (``val_loss`` if recorded, else ``loss``) stalls."""
        value = logs.get("val_loss", logs["loss"]) if self.monitor == "val_loss" else logs["loss"]
        return self.update(epoch, float(value), self._params)

    def on_train_end(self, history: History) -> None:
        """Put the best epoch's weights back and note that epoch in the history."""
        self.restore(self._params)
        history.best_epoch = self.best_epoch

    def reset(self) -> None:
        self.best = math.inf
        self.best_epoch = -1
        self.wait = 0
        self._best_params: list[Array] | None = None

    def update(self, epoch: int, value: float, params: Sequence[Array]) -> bool:
        """Record this epoch's ``value``; return ``True`` when training should stop."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best:
                if self._best_params is None:
                    self._best_params = [p.copy() for p in params]
                else:
                    for kept, p in zip(self._best_params, params, strict=True):
                        np.copyto(kept, p)
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, params: Sequence[Array]) -> None:
        """Copy the best epoch's weights back into ``params`` (if any were kept)."""
        if self.restore_best and self._best_params is not None:
            for p, kept in zip(params, self._best_params, strict=True):
                np.copyto(p, kept)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"monitor={self.monitor!r}, restore_best={self.restore_best})"
        )
