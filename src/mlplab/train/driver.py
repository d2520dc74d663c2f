"""``fit``: the training driver.

It prepares the job (``mlplab.train.job``: data checked, split and scaled; the
optimizer, schedule and penalties), asks an engine (``mlplab.engines``) to run the
epochs in blocks, records what each epoch gave, and tells the callbacks after every
epoch. The math of an epoch lives in the engine; the math of the network in
``mlplab.nn``. Early stopping and the loss-reading schedule are callbacks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import epoch_count, has_rows
from mlplab.engines.base import Diverged, Engine, EpochLogs, choose_engine
from mlplab.engines.registry import get_engine
from mlplab.errors import ConfigError, TrainingDivergedError, kept_weights
from mlplab.train.advice import fit_advice
from mlplab.train.callbacks import Callback, CallbackList
from mlplab.train.history import History
from mlplab.train.job import TrainJob, prepare_job, records_accuracy
from mlplab.train.optimizers import Optimizer
from mlplab.train.schedules import Schedule
from mlplab.train.stack_record import StackRecord, filled
from mlplab.train.stopping import EarlyStopping, restore_on_abort

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["Callback", "History", "fit"]


def fit(
    net: MLP,
    X: Any,
    T: Any,
    *,
    epochs: int,
    lr: float = 1.0,
    optimizer: str | Optimizer | None = None,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation: Any = None,
    early_stopping: int | EarlyStopping | None = None,
    schedule: str | Schedule | None = None,
    weight_decay: Any = 0.0,
    seed: int | np.random.Generator | None = None,
    callbacks: Sequence[Any] = (),
    standardize: bool = False,
    sample_weight: Any = None,
    engine: str | Engine | None = None,
    device: str | None = None,
    metrics: Sequence[str] = (),
) -> History:
    """Train ``net`` by gradient descent on ``(X, T)``; see ``MLP.fit``."""
    epochs = epoch_count(epochs)  # a whole number whose history fits in memory
    computed, kept_accuracy = _metrics(net, metrics, callbacks)
    job = prepare_job(
        net, X, T, lr=lr, optimizer=optimizer, batch_size=batch_size, shuffle=shuffle,
        validation=validation, schedule=schedule, weight_decay=weight_decay, seed=seed,
        standardize=standardize, sample_weight=sample_weight, metrics=computed,
    )  # fmt: skip
    has_rows(job.X.shape[0])
    listeners = CallbackList([*_stopping_callbacks(job, early_stopping), *callbacks,
                              *fit_advice(job, epochs)])  # fmt: skip
    if engine == "auto":  # the compiled engine where it wins (mlplab.engines.choose_engine)
        engine = choose_engine("auto", net.stack or 1, epochs, device)
    runner = get_engine(engine, device).start(job)
    record = _Record(job, epochs, kept_accuracy)
    start = time.perf_counter()
    listeners.train_begin(net)
    try:
        with runner:
            ran = _run_epochs(runner, listeners, record, epochs)
    except Diverged as e:
        _before_divergence(e, record, listeners)
        restored = _abort(net, listeners, e.epoch)
        kept = restored or kept_weights(net)
        raise _divergence_error(e, record, runner, time.perf_counter() - start, kept) from None
    except BaseException:  # Ctrl-C, a callback raising: the best weights back, epochs counted
        _abort(net, listeners, record.seen)
        raise
    runner.finish()
    done = net.training_metadata.get("epochs", 0) + ran
    net.training_metadata.update(epochs=done, optimizer=repr(job.optimizer))
    compiling = float(getattr(runner, "compile_seconds", 0.0))  # a compiled engine's
    history = record.history(ran, time.perf_counter() - start - compiling, runner.diverged_at)
    if hasattr(runner, "compile_seconds"):
        history.extra["compile_seconds"] = compiling
    listeners.train_end(history)
    return history


def _metrics(net: MLP, metrics: Sequence[str],
             callbacks: Sequence[Any]) -> tuple[tuple[str, ...], bool]:  # fmt: skip
    """The metrics the engine computes (the fit's, and those its callbacks read in their logs)
    and whether the History keeps the accuracy (only if the fit computes it of its own)."""
    kept_accuracy = records_accuracy(net, metrics)  # (metrics checked here)
    read = [getattr(c, "metrics", ()) for c in callbacks]
    return (*metrics, *(m for names in read for m in _names(names))), kept_accuracy


def _names(metrics: Any) -> tuple[str, ...]:
    """A callback's ``metrics``: a name, or names."""
    return (metrics,) if isinstance(metrics, str) else tuple(metrics)


def _before_divergence(e: Diverged, record: _Record, listeners: CallbackList) -> None:
    """Record the epochs before a divergence, and tell the block readers of them (as each
    epoch's readers were told)."""
    first = e.epoch - len(e.logs)
    record.add(first, e.logs)
    if listeners.reads_blocks and len(e.logs):
        listeners.block_end(first, e.logs)


def _abort(net: MLP, listeners: CallbackList, ran: int) -> str:
    """Training ended early: count the epochs that ran, let early stopping put its best
    weights back; what was restored, or ``""``."""
    net.training_metadata["epochs"] = net.training_metadata.get("epochs", 0) + ran
    return "; ".join(restore_on_abort(listeners.callbacks))


def _counted(after_epoch: Any, record: _Record) -> Any:
    """``after_epoch``, noting in ``record.seen`` every epoch it is told of (a callback
    that raises cuts the block before ``record.add`` hears of it)."""

    def told(epoch: int, logs: dict[str, Any]) -> bool:
        record.seen = max(record.seen, epoch + 1)
        return after_epoch(epoch, logs)

    return told


def _run_epochs(runner: Any, listeners: CallbackList, record: _Record, epochs: int) -> int:
    """Run blocks of epochs, the callbacks told after each epoch (or, reading blocks, after
    each block); the epochs run. With no callback reading every epoch, only the epochs
    ``record`` keeps need come back."""
    after_epoch = _counted(listeners.epoch_end, record) if listeners else None
    weights_every = listeners.weights_every
    every_epoch = after_epoch is not None or listeners.reads_blocks
    kept = 1 if every_epoch else record.every  # the epochs that must come back
    epoch = 0
    while epoch < epochs:
        count = runner.block(epochs - epoch, weights_every, kept)
        logs = runner.run(epoch, epoch + count, after_epoch, kept)
        record.add(epoch, logs)
        if listeners.reads_blocks:
            listeners.block_end(epoch, logs)
        epoch += len(logs)
        if listeners.stopped:
            break
    return epoch


def _stopping_callbacks(job: TrainJob, early_stopping: Any) -> list[Any]:
    """Early stopping and a schedule that reads the loss, as callbacks (first in line)."""
    found = []
    stopper = _early_stopping(early_stopping)
    if stopper is not None:
        if job.stacked:
            raise ConfigError("early stopping works on a single network, not a stack")
        found.append(stopper)
    if getattr(job.schedule, "reads_loss", False):  # Adaptive: told each epoch's loss
        if job.stacked:
            raise ConfigError(
                f"schedule {job.schedule!r} reads the loss of one network, not a stack"
            )
        found.append(_LossToRate(job.optimizer))
    return found


class _LossToRate(Callback):
    """A schedule that reads the loss, told each epoch's through the optimizer (which holds
    the rate); ``True`` (stop) when the rate cannot go lower."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        return self.optimizer.read_loss(float(logs["loss"]))

    def __repr__(self) -> str:
        return repr(self.optimizer.schedule)


class _Record:
    """Each epoch's loss and metrics as the run goes. A stack's are kept at the epochs its
    ``StackRecord`` keeps (every epoch, or every N-th on long runs), so memory stays bounded."""

    def __init__(self, job: TrainJob, epochs: int, kept_accuracy: bool = True) -> None:
        """``kept_accuracy``: the accuracy, where computed, is kept (not when only a callback
        asked for it, to read in its logs)."""
        self.stack = None if job.net.stack is None else StackRecord(job.net.stack, epochs)
        self.every = every = 1 if self.stack is None else self.stack.every
        rows = len(range(0, epochs, every))
        shape = (rows,) if job.net.stack is None else (rows, job.net.stack)
        self.loss = np.empty(epochs) if self.stack is None else None  # a stack's: in StackRecord
        accuracy = kept_accuracy and job.labels is not None
        self.accuracy = np.empty(shape) if accuracy else None
        self.val_loss = np.empty(shape) if job.Xv is not None else None
        self.val_accuracy = np.empty(shape) if accuracy and job.val_labels is not None else None
        self.seen = 0  # the epochs known to have run, for a run that ends early

    def add(self, first: int, logs: EpochLogs) -> None:
        """The epochs ``first, first + 1, ...`` of a block: every one, or (``logs.every``
        above 1) the ones kept alone."""
        stop = first + len(logs)
        self.seen = max(self.seen, stop)
        kept = slice(None)  # the block's rows kept: all, or a stack's every N-th epoch
        if self.stack is not None:
            every = self.stack.every
            if logs.every == 1:
                kept = slice(-first % every, None, every)
            first, stop = -(-first // every), -(-stop // every)
            self.stack.keep_rows(first, logs.loss[kept])
        for name, values in logs.named:
            record = getattr(self, name)
            if record is not None:
                setattr(self, name, filled(record, first, values[kept]))

    def history(self, ran: int, seconds: float, diverged_at: Any = None) -> History:
        rows = ran if self.stack is None else len(self.stack.kept())

        def upto(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[:rows]

        if self.stack is None:
            loss, extra = self.loss[:ran], {}
        else:
            loss = self.stack.kept()
            extra = {"loss_epochs": self.stack.loss_epochs, "diverged_at": diverged_at}
        return History(
            loss, ran, seconds, extra, accuracy=upto(self.accuracy),
            val_loss=upto(self.val_loss), val_accuracy=upto(self.val_accuracy),
        )  # fmt: skip


def _divergence_error(
    e: Diverged, record: _Record, runner: Any, seconds: float, kept: str
) -> TrainingDivergedError:
    history = record.history(e.epoch, seconds, runner.diverged_at)
    history.loss = history.loss.copy()
    if record.stack is not None:
        message = (
            f"the loss of every network in the stack became non-finite (the last at epoch "
            f"{e.epoch}); training stopped. Try a smaller learning rate."
        )
    else:
        message = (
            f"the loss became {e.loss} at epoch {e.epoch}; training stopped: {kept}. Try a "
            "smaller learning rate."
        )
    return TrainingDivergedError(message, epoch=e.epoch, history=history)


def _early_stopping(early_stopping: Any) -> EarlyStopping | None:
    if early_stopping is None or early_stopping is False:
        return None
    if isinstance(early_stopping, EarlyStopping):
        return early_stopping
    if early_stopping is True:
        return EarlyStopping()
    if isinstance(early_stopping, int | np.integer):
        return EarlyStopping(patience=int(early_stopping))
    raise ConfigError(
        f"early_stopping must be a patience (int), an EarlyStopping or None, got {early_stopping!r}"
    )
