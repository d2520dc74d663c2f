"""Bookkeeping for a stack of networks during ``fit``: the loss record and divergence.

The loss record. A stack's ``History.loss`` has one column per network. When
``epochs x K`` fits in ``MAX_LOSS_VALUES`` every epoch is a row; past that, every
``every``-th epoch is (epochs 0, every, 2*every, ...), so memory stays bounded
whatever the run's length, and ``History.extra["loss_epochs"]`` says which epochs
the rows are. Each kept row is still the loss of every network.

Divergence. In a single network a non-finite loss stops training. In a stack it
stops only that network: from the epoch its loss is first non-finite it is
frozen at the weights that gave that loss (the weights from before the step,
as for one network), its later losses are recorded as NaN, and the others go
on. ``History.extra["diverged_at"]`` holds that epoch per network (-1: never).
Only when every network of the stack has diverged does ``fit`` raise
``TrainingDivergedError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mlplab.errors import TrainingDivergedError

Array = np.ndarray

__all__ = ["MAX_LOSS_VALUES", "StackRecord"]

MAX_LOSS_VALUES = 2**22  # losses kept per fit at most: 32 MiB of float64


class StackRecord:
    """Per-network loss record and divergence handling for one ``fit`` of a stack."""

    def __init__(
        self, stack: int, epochs: int, params: Sequence[Array], max_values: int = MAX_LOSS_VALUES
    ) -> None:
        self.stack = stack
        self.epochs = epochs
        self.params = list(params)
        self.every = max(1, math.ceil(epochs * stack / max_values))
        self.loss_epochs = np.arange(0, epochs, self.every)
        self.loss = np.empty((len(self.loss_epochs), stack))
        self.diverged_at = np.full(stack, -1, dtype=np.int64)
        self._frozen: Array | None = None  # mask of diverged networks
        self._saved: list[Array] = []  # their weights, restored after every step
        self._row = 0

    def record(self, epoch: int, loss: Array) -> Array:
        """``check`` then ``keep`` an epoch's loss (one per network); returns it, NaN if frozen."""
        loss = self.check(epoch, loss)
        self.keep(epoch, loss)
        return loss

    def check(self, epoch: int, loss: Array) -> Array:
        """Freeze the networks whose loss is newly non-finite; the loss with NaN for the frozen."""
        if np.isfinite(loss).all():
            return loss
        self._diverge(epoch, loss)
        return np.where(self._frozen, np.nan, loss)

    def keep(self, epoch: int, loss: Array) -> None:
        """Store an epoch's loss if the epoch is one of those recorded."""
        if epoch % self.every == 0:
            self.loss[self._row] = loss
            self._row += 1

    def kept(self) -> Array:
        """The rows recorded so far."""
        return self.loss[: self._row]

    def after_step(self) -> None:
        """Put the frozen networks' weights back after an optimizer step."""
        if self._frozen is not None:
            for p, saved in zip(self.params, self._saved, strict=True):
                p[self._frozen] = saved

    @property
    def frozen(self) -> Array:
        """Which networks have diverged and are frozen."""
        return self.diverged_at >= 0

    def _diverge(self, epoch: int, loss: Array) -> None:
        new = ~np.isfinite(loss) & ~self.frozen
        if not new.any():
            return
        self.diverged_at[new] = epoch
        self._frozen = self.frozen
        self._saved = [p[self._frozen].copy() for p in self.params]
        if self._frozen.all():
            from mlplab.train.fit import History

            raise TrainingDivergedError(
                f"the loss of every network in the stack became non-finite (the last at epoch "
                f"{epoch}); training stopped. Try a smaller learning rate.",
                epoch=epoch,
                history=History(self.kept().copy(), epoch, extra=self.extras()),
            )

    def extras(self) -> dict[str, Array]:
        """What ``History.extra`` gets: recorded epochs and the divergence epochs."""
        return {"loss_epochs": self.loss_epochs[: self._row], "diverged_at": self.diverged_at}
