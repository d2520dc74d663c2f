"""Callbacks: what ``fit`` tells the world after every epoch, through one interface.

A callback is an object with any of these methods (subclass ``Callback`` for the
no-op defaults)::

    on_train_begin(net)            once, before the first epoch
    on_epoch_end(epoch, logs)      after every epoch; return True to stop training
    on_block_end(first, logs)      after each block of epochs, all of them at once
    on_train_end(history)          once, with the result (a callback may annotate it)

``logs`` holds ``"loss"`` (a float, or one per network of a stack) and, where they
are recorded, ``"accuracy"``, ``"val_loss"`` and ``"val_accuracy"``. A plain
function ``fn(epoch, logs)`` is taken as an ``on_epoch_end``. Early stopping and the
loss-reading schedule are callbacks like any other.

An engine that runs many epochs per call replays each epoch's logs afterwards, so a
callback cannot tell which engine ran. Replaying costs about a microsecond an epoch for
one network, more for a stack's rows: a callback that can read the epochs together
defines ``on_block_end`` instead, and is told once a block (``logs``: an ``EpochLogs``
whose arrays hold every epoch of the block, ``first`` the first's number); returning True
stops training after that block. A callback that reads a metric the fit was not asked to
record names it (``metrics = ("accuracy",)``): the engine computes it for the logs, and the
History keeps it only if the fit asked. A callback that reads the network's weights
may say how often with ``weights_every = N``: blocks of epochs then end at multiples of
``N``, where the network's parameters are those of that epoch's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlplab.nn.network import MLP
    from mlplab.train.history import History

__all__ = ["Callback", "CallbackList", "Logs"]

Logs = dict[str, Any]


class Callback:
    """A ``fit`` callback with do-nothing defaults; override what you need."""

    weights_every: int | None = None  # reads the network's weights every N epochs

    def on_train_begin(self, net: MLP) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> bool | None:
        """Called after every epoch with its ``logs``; return ``True`` to stop training.
        (Not overridden: the callback is not told of each epoch.)"""
        return None

    def on_train_end(self, history: History) -> None:
        """Called once with the ``History`` of the run."""


class _FunctionCallback(Callback):
    """A plain ``fn(epoch, logs)`` as a callback."""

    def __init__(self, fn: Callable[[int, Logs], Any]) -> None:
        self.fn = fn

    def on_epoch_end(self, epoch: int, logs: Logs) -> bool | None:
        return bool(self.fn(epoch, logs))

    def __repr__(self) -> str:
        return f"callback({self.fn!r})"


def _reads_epochs(callback: Any) -> bool:
    """Whether ``callback`` has an ``on_epoch_end`` of its own (not ``Callback``'s no-op)."""
    method = getattr(type(callback), "on_epoch_end", None)
    if method is Callback.on_epoch_end:
        return False
    return hasattr(callback, "on_epoch_end")


def _as_callback(callback: Any) -> Any:
    methods = ("on_train_begin", "on_epoch_end", "on_block_end", "on_train_end")
    if any(hasattr(callback, m) for m in methods):
        return callback
    if callable(callback):
        return _FunctionCallback(callback)
    from mlplab.errors import ConfigError

    raise ConfigError(
        f"a callback must have on_epoch_end(epoch, logs) (or be a function of "
        f"(epoch, logs)), got {callback!r}"
    )


class CallbackList:
    """The callbacks of one ``fit``, called in order; any may stop training."""

    def __init__(self, callbacks: Iterable[Any]) -> None:
        self.callbacks = [_as_callback(c) for c in callbacks]
        self._epoch_end = [c.on_epoch_end for c in self.callbacks if _reads_epochs(c)]
        self._block_end = [c.on_block_end for c in self.callbacks if hasattr(c, "on_block_end")]
        self.stopped = False  # whether a callback has asked to stop

    def __bool__(self) -> bool:
        """Whether a callback is told of each epoch (``on_epoch_end``)."""
        return bool(self._epoch_end)

    @property
    def reads_blocks(self) -> bool:
        """Whether a callback reads every epoch's logs a block at a time (``on_block_end``)."""
        return bool(self._block_end)

    @property
    def weights_every(self) -> int | None:
        """The smallest ``weights_every`` of any callback (``None``: none reads the weights)."""
        every = [c.weights_every for c in self.callbacks if getattr(c, "weights_every", None)]
        return min(every) if every else None

    def train_begin(self, net: MLP) -> None:
        for c in self.callbacks:
            if hasattr(c, "on_train_begin"):
                c.on_train_begin(net)

    def epoch_end(self, epoch: int, logs: Logs) -> bool:
        """Call every ``on_epoch_end``; ``True`` if any asked to stop."""
        stop = False
        for on_epoch_end in self._epoch_end:
            stop = bool(on_epoch_end(epoch, logs)) or stop
        self.stopped = stop
        return stop

    def block_end(self, first: int, logs: Any) -> bool:
        """Call every ``on_block_end`` with a block's epochs from ``first`` (``logs``: the
        engine's ``EpochLogs``); ``True`` if any asked to stop."""
        stop = False
        for on_block_end in self._block_end:
            stop = bool(on_block_end(first, logs)) or stop
        self.stopped = self.stopped or stop
        return stop

    def train_end(self, history: History) -> None:
        for c in self.callbacks:
            if hasattr(c, "on_train_end"):
                c.on_train_end(history)
