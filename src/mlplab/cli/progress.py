"""The progress bar: tqdm on stderr, off when stderr is not a terminal or when asked."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from mlplab.train.fit import Callback

__all__ = ["epoch_progress"]


@contextmanager
def epoch_progress(epochs: int, *, quiet: bool, desc: str = "training") -> Iterator[list[Callback]]:
    """Yield the callbacks to pass to ``fit``: none, or one that advances a bar."""
    if quiet or not sys.stderr.isatty() or epochs == 0:
        yield []
        return
    from tqdm.auto import tqdm

    every = max(1, epochs // 200)  # ~200 refreshes, whatever the length
    with tqdm(total=epochs, desc=desc, unit="epoch", file=sys.stderr, leave=False) as bar:

        def advance(epoch: int, logs: dict) -> None:
            if (epoch + 1) % every == 0:
                bar.update(every)
                postfix = {
                    k.replace("accuracy", "acc"): float(np.mean(v)) for k, v in logs.items()
                }
                bar.set_postfix({k: f"{v:.3g}" for k, v in postfix.items()}, refresh=False)

        yield [advance]
