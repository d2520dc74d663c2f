"""A progress bar for ``fit``: a widget in Jupyter, text in a terminal (``tqdm.auto``).

The library itself never draws anything; pass the bar when you want one::

    net.fit(X, t, epochs=60000, callbacks=[ProgressBar(60000)])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

if TYPE_CHECKING:
    from mlplab.train.fit import History

__all__ = ["ProgressBar"]


class ProgressBar:
    """A ``fit`` callback that advances a bar about 200 times a run, showing the loss.

    For a stack of networks the loss shown is their mean.
    """

    def __init__(self, epochs: int, *, desc: str = "training", file: TextIO | None = None) -> None:
        self.epochs = int(epochs)
        self.every = max(1, self.epochs // 200)
        self.desc = desc
        self.file = file
        self._bar: Any = None

    def _open(self) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=self.epochs, desc=self.desc, unit="epoch", file=self.file)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        loss = logs["loss"]
        if (epoch + 1) % self.every:
            return
        if self._bar is None:
            self._bar = self._open()
        self._bar.update(epoch + 1 - self._bar.n)
        self._bar.set_postfix(loss=f"{float(np.mean(loss)):.3g}", refresh=False)

    def on_train_end(self, history: History) -> None:
        """Fill the bar to the last epoch and close it."""
        if self._bar is None:
            if history.epochs == 0:
                return
            self._bar = self._open()
        self._bar.update(history.epochs - self._bar.n)
        self._bar.close()
        self._bar = None
