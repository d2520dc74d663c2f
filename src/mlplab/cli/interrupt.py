"""Ctrl-C during training: stop at the end of the epoch, keep what was asked for.

``stop_on_interrupt()`` turns the first SIGINT into a request that a ``fit`` callback
answers at the end of the epoch running (the numpy engine stops there; the compiled one
at the end of its block), so the command can still report the weights reached and write
the plot, model and record its options asked for. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlplab.train.callbacks import Callback

__all__ = ["InterruptStop", "stop_on_interrupt"]


class InterruptStop(Callback):
    """A ``fit`` callback that stops training once ``request()`` was called (by Ctrl-C)."""

    def __init__(self) -> None:
        self.requested = False

    def request(self, signum: int = signal.SIGINT, frame: Any = None) -> None:
        """Ask training to stop; a second request raises ``KeyboardInterrupt`` at once."""
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        return self.requested


@contextmanager
def stop_on_interrupt() -> Iterator[InterruptStop]:
    """Yield the callback; while inside, SIGINT asks it to stop (main thread only)."""
    stopper = InterruptStop()
    if threading.current_thread() is not threading.main_thread():
        yield stopper
        return
    previous = signal.signal(signal.SIGINT, stopper.request)
    try:
        yield stopper
    finally:
        signal.signal(signal.SIGINT, previous)
