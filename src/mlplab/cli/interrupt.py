"""What a command says while it trains: Ctrl-C, and the fit's warnings.

Ctrl-C stops at the end of the epoch and keeps what was asked for.

``stop_on_interrupt()`` turns the first SIGINT into a request that a ``fit`` callback
answers at the end of the epoch running (the numpy engine stops there; the compiled one
at the end of its block), so the command can still report the weights reached and write
the plot, model and record its options asked for. A second Ctrl-C interrupts at once.
``fit_warnings_said(say)`` turns a stalled fit's warning into a ``warning: ...`` line.
"""

from __future__ import annotations

import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mlplab.train.advice import StalledFitWarning
from mlplab.train.callbacks import Callback

__all__ = ["InterruptStop", "fit_warnings_said", "stop_on_interrupt"]


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


@contextmanager
def fit_warnings_said(say: Callable[[str], None]) -> Iterator[None]:
    """Collect the ``StalledFitWarning`` of the fits inside and ``say`` each as one line at the
    end (other warnings go on as the filters say)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StalledFitWarning)
        yield
    for w in caught:
        if issubclass(w.category, StalledFitWarning):
            say(f"warning: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
