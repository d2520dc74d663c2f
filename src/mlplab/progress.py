"""The progress bar for ``fit``: a widget in Jupyter, text in a terminal (``tqdm.auto``).

One rule wherever a bar is drawn: it refreshes about 200 times a run and shows the
loss and the epoch's metrics (``acc``, ``val_loss``, ``val_acc``; for a stack their
mean). The library itself never draws anything; pass the bar when you want one::

    net.fit(X, t, epochs=60000, callbacks=[ProgressBar(60000)])

The command line draws it on stderr through ``terminal_progress``, only when stderr is
a terminal and ``--quiet`` is not given.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from mlplab.train.callbacks import Callback

if TYPE_CHECKING:
    from mlplab.train.history import History

__all__ = ["REFRESHES", "ProgressBar", "terminal_progress"]

REFRESHES = 200  # about this many updates of the bar a run, whatever its length


class ProgressBar(Callback):
    """A ``fit`` callback that advances a bar about 200 times a run, showing loss and metrics.

    ``leave=False`` clears the bar when it closes (the command line's choice).
    """

    def __init__(
        self,
        epochs: int,
        *,
        desc: str = "training",
        file: TextIO | None = None,
        leave: bool = True,
    ) -> None:
        self.epochs = int(epochs)
        self.every = max(1, self.epochs // REFRESHES)
        self.desc, self.file, self.leave = desc, file, leave
        self._bar: Any = None

    def _open(self) -> Any:
        from tqdm.auto import tqdm

        return tqdm(
            total=self.epochs, desc=self.desc, unit="epoch", file=self.file, leave=self.leave
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if (epoch + 1) % self.every:
            return
        if self._bar is None:
            self._bar = self._open()
        self._bar.update(epoch + 1 - self._bar.n)
        self._bar.set_postfix(_postfix(logs), refresh=False)

    def on_train_end(self, history: History) -> None:
        """Fill the bar to the last epoch and close it."""
        if self._bar is None:
            if history.epochs == 0:
                return
            self._bar = self._open()
        self._bar.update(history.epochs - self._bar.n)
        self.close()

    def close(self) -> None:
        """Close the bar where it stands (training stopped by an error, say)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _postfix(logs: dict[str, Any]) -> dict[str, str]:
    """What the bar shows of an epoch's logs: each value (a stack's mean) to 3 digits."""
    return {k.replace("accuracy", "acc"): f"{float(np.mean(v)):.3g}" for k, v in logs.items()}


@contextmanager
def terminal_progress(
    epochs: int, *, quiet: bool, desc: str = "training"
) -> Iterator[list[ProgressBar]]:
    """Yield the callbacks to pass to ``fit``: none, or a bar on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty() or epochs == 0:
        yield []
        return
    bar = ProgressBar(epochs, desc=desc, file=sys.stderr, leave=False)
    try:
        yield [bar]
    finally:
        bar.close()
