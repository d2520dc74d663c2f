"""A stack's loss record: one loss per network per epoch, bounded in memory.

A stack's ``History.loss`` has one column per network. When ``epochs x K`` fits in
``MAX_LOSS_VALUES`` every epoch is a row; past that, every ``every``-th epoch is
(epochs 0, every, 2*every, ...), so memory stays bounded whatever the run's length,
and ``History.extra["loss_epochs"]`` says which epochs the rows are. Each kept row
is still the loss of every network; ``fit`` keeps a stack's metrics (accuracy, validation)
at the same epochs.

Divergence in a stack stops only the network that diverged: the engine freezes it at
the weights that gave its first non-finite loss, its later losses are NaN, and the
others go on. ``History.extra["diverged_at"]`` holds that epoch per network (-1:
never). Only when every network has diverged does ``fit`` raise
``TrainingDivergedError``.
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray

__all__ = ["MAX_LOSS_VALUES", "StackRecord", "filled", "kept_every"]

MAX_LOSS_VALUES = 2**22  # losses kept per fit at most: 32 MiB of float64


def kept_every(stack: int, epochs: int, max_values: int = MAX_LOSS_VALUES) -> int:
    """The interval of the epochs a stack of ``stack`` networks keeps over ``epochs``."""
    return max(1, math.ceil(epochs * stack / max_values))


def filled(record: Array, start: int, rows: Array) -> Array:
    """``record`` with ``rows`` written from row ``start``: the ``rows`` array itself when
    it is all of the record (one block of every epoch) and an array of its own that can be
    written (the NumPy engine's logs), so that such a record is not copied into new memory,
    whose pages cost more to touch than to fill."""
    whole = start == 0 and rows.shape == record.shape and rows.dtype == record.dtype
    if whole and rows.flags.c_contiguous and rows.flags.writeable:
        return rows
    record[start : start + len(rows)] = rows
    return record


class StackRecord:
    """The losses of a stack's epochs: every epoch, or every ``every``-th one when long."""

    def __init__(self, stack: int, epochs: int, max_values: int = MAX_LOSS_VALUES) -> None:
        self.stack = stack
        self.every = kept_every(stack, epochs, max_values)
        self.loss = np.empty((len(range(0, epochs, self.every)), stack))
        self._row = 0

    def keep(self, epoch: int, loss: Array) -> None:
        """Store an epoch's losses (one per network) if the epoch is one of those recorded."""
        if epoch % self.every == 0:
            self.loss[self._row] = loss
            self._row += 1

    def keep_rows(self, row: int, losses: Array) -> None:
        """Store the losses of kept epochs ``row * every, (row + 1) * every, ...`` at once
        (rows in order: ``row`` is the next to fill)."""
        self.loss = filled(self.loss, row, losses)
        self._row = row + len(losses)

    def kept(self) -> Array:
        """The rows recorded so far."""
        return self.loss[: self._row]

    @property
    def loss_epochs(self) -> Array:
        """The epochs of the rows recorded so far."""
        return np.arange(self._row) * self.every
