"""The training loop and its record, ``History``.

The loop is the seed's ``for j in range(60000)`` with the pieces named: a
forward and backward pass (``MLP.loss_and_backward``), a finite-loss check, the
loss written to a preallocated array, and an optimizer step. Around it, each
optional and each a small object of its own: mini-batches drawn through a
shuffled index (the data are never copied per epoch), a learning-rate schedule
(``schedules``), L2 weight decay (``regularization``), validation and early
stopping (``stopping``). Forward and backward are not touched by any of them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mlplab.errors import ConfigError, TrainingDivergedError
from mlplab.nn.scaling import InputScaler
from mlplab.train.optimizers import Optimizer, get_optimizer
from mlplab.train.regularization import L2
from mlplab.train.schedules import Schedule, get_schedule
from mlplab.train.stack_record import StackRecord
from mlplab.train.stopping import EarlyStopping

if TYPE_CHECKING:
    from mlplab.diagnostics import Event
    from mlplab.nn.network import MLP

__all__ = ["Callback", "History", "fit"]

CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy")


@dataclass
class History:
    """What training recorded, one entry per epoch run.

    Full batch: ``loss[j]`` is the loss at the start of epoch ``j``, the loss of
    the weights the epoch's gradient was taken at, before its update (the seed's
    ``y`` inside the loop is the same). Mini-batches: ``loss[j]`` is the loss
    over epoch ``j``'s batches, each taken before its own update (a running
    figure, as Keras and PyTorch loops report it); ``accuracy`` likewise.
    ``val_loss`` and ``val_accuracy`` are measured after the epoch (the loss in the
    network's reduction: with ``"sum"`` it grows with the number of examples). Accuracy is
    recorded for the classification losses; the arrays are ``None`` otherwise.
    ``events`` are what a ``mlplab.diagnostics.Diagnostics`` callback saw (plateaus,
    saturated units, ...). For a stack, ``loss[j]`` holds one loss per network, long runs
    keep every N-th epoch only (``extra["loss_epochs"]``), and a diverged network is frozen
    rather than stopping the others (``extra["diverged_at"]``); see ``mlplab.train.stack_record``.
    """

    loss: np.ndarray
    epochs: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    accuracy: np.ndarray | None = None
    val_loss: np.ndarray | None = None
    val_accuracy: np.ndarray | None = None
    best_epoch: int | None = None  # with early stopping: the epoch whose weights were kept
    events: list[Event] = field(default_factory=list)

    def plot(self, *, title: str = ""):
        """The loss curve with the diagnostic events marked, as a matplotlib ``Figure``."""
        from mlplab.plotting import loss_figure

        return loss_figure(self, title=title)

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1]) if len(self.loss) else math.nan

    def __len__(self) -> int:
        return len(self.loss)


class Callback(Protocol):
    """Called after every epoch with the epoch index and the loss recorded for it.

    A callback that accepts a ``metrics`` keyword also gets a dict of that epoch's
    ``accuracy``, ``val_loss`` and ``val_accuracy`` (those recorded).
    A callback may also have ``on_train_end(history)``, called once with the result.
    """

    def __call__(self, epoch: int, loss: float) -> None: ...


def _check_epochs(epochs: Any) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
        raise ConfigError(f"epochs must be a non-negative integer, got {epochs!r}")
    return int(epochs)


def _check_batch_size(batch_size: Any, n: int) -> int:
    if batch_size is None:
        return n
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or (batch_size < 1)
    ):
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    return min(int(batch_size), n)


def _validation_data(
    net: MLP, X: np.ndarray, T: np.ndarray, validation: Any, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(X, T, Xv, Tv)``: the given validation pair, or a seeded share split off the data
    (all unscaled)."""
    if validation is None:
        return X, T, None, None
    if isinstance(validation, tuple | list) and len(validation) == 2:
        Xv, Tv = net.check_data(validation[0], validation[1], scaled=False)
        return X, T, Xv, Tv
    if isinstance(validation, float) and 0 < validation < 1:
        n_val = round(validation * len(X))
        if not 1 <= n_val < len(X):
            raise ConfigError(
                f"validation={validation} leaves {n_val} of {len(X)} examples for validation; "
                "need at least one for each side"
            )
        order = rng.permutation(len(X))
        val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
        return X[train], T[train], X[val], T[val]
    raise ConfigError(
        f"validation must be (X, T), a fraction in (0, 1) or None, got {validation!r}"
    )


def _scaled_data(
    net: MLP, X: Any, T: Any, validation: Any, rng: np.random.Generator, standardize: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(X, T, Xv, Tv)`` checked, split and passed through the network's scaler, once.

    The rows are checked and split raw; with ``standardize`` a new ``net.input_scaler``
    is fitted on the training rows alone, and then every input row is scaled by it.
    """
    if not isinstance(standardize, bool | np.bool_):
        raise ConfigError(f"standardize must be True or False, got {standardize!r}")
    X, T = net.check_data(X, T, scaled=False)  # check and split the raw rows
    X, T, Xv, Tv = _validation_data(net, X, T, validation, rng)
    scaler = net.input_scaler
    if standardize:
        net.input_scaler = scaler = InputScaler.fit(X)
    if scaler is not None:
        X = scaler.transform(X)
        Xv = None if Xv is None else scaler.transform(Xv)
    return X, T, Xv, Tv


def _early_stopping(early_stopping: Any) -> EarlyStopping | None:
    if early_stopping is None or early_stopping is False:
        return None
    if isinstance(early_stopping, EarlyStopping):
        early_stopping.reset()
        return early_stopping
    if early_stopping is True:
        return EarlyStopping()
    if isinstance(early_stopping, int | np.integer):
        return EarlyStopping(patience=int(early_stopping))
    raise ConfigError(
        f"early_stopping must be a patience (int), an EarlyStopping or None, got {early_stopping!r}"
    )


def _wants_metrics(callback: Callback) -> bool:
    try:
        parameters = inspect.signature(callback).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "metrics" or p.kind is p.VAR_KEYWORD for p in parameters)


def _class_of(y: np.ndarray) -> np.ndarray:
    """Predicted class per row: argmax of several outputs, ``y > 0.5`` for one."""
    return y.argmax(axis=-1) if y.shape[-1] > 1 else y[..., 0] > 0.5


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
    weight_decay: float = 0.0,
    seed: int | np.random.Generator | None = None,
    callbacks: Sequence[Callback] = (),
    standardize: bool = False,
) -> History:
    """Train ``net`` by gradient descent on ``(X, T)``; see ``MLP.fit``."""
    import time

    epochs = _check_epochs(epochs)
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(net.seed if seed is None else seed)
    )
    X, T, Xv, Tv = _scaled_data(net, X, T, validation, rng, standardize)
    n = len(X)
    batch = _check_batch_size(batch_size, n)
    optimizer = get_optimizer(optimizer, lr)
    schedule = get_schedule(schedule)
    lr0 = getattr(optimizer, "lr", lr)
    if schedule is not None and not hasattr(optimizer, "lr"):
        raise ConfigError(f"a schedule needs an optimizer with an lr attribute, got {optimizer!r}")
    stopper = _early_stopping(early_stopping)
    stacked = net.stack is not None
    if stacked and stopper is not None:
        raise ConfigError("early stopping works on a single network, not a stack")
    watch_loss = getattr(schedule, "update", None)  # a schedule that reads the loss (Adaptive)
    if stacked and watch_loss is not None:
        raise ConfigError(f"schedule {schedule!r} reads the loss of one network, not a stack")
    decay = L2(weight_decay) if weight_decay else None
    if decay is not None:
        weight_params = [p["W"] for p in net.params]
        weight_grads = [g["W"] for g in net.grads]
    params = [v for p in net.params for v in p.values()]
    grads = [v for g in net.grads for v in g.values()]
    track_accuracy = net.loss.name in CLASSIFICATION_LOSSES
    labels = _class_of(T) if track_accuracy else None
    val_labels = _class_of(Tv) if track_accuracy and Tv is not None else None
    shape = (epochs, net.stack) if stacked else (epochs,)
    record = StackRecord(net.stack, epochs, params) if stacked else None  # a stack's losses
    losses = np.empty(0 if stacked else epochs)
    accuracy = np.empty(shape) if track_accuracy else None
    val_loss = np.empty(shape) if Xv is not None else None
    val_accuracy = np.empty(shape) if Xv is not None and track_accuracy else None
    with_metrics = [(cb, _wants_metrics(cb)) for cb in callbacks]
    mean = net.reduction == "mean"
    full_batch = batch == n
    if not full_batch:
        order = np.arange(n)
        bounds = [(s, min(s + batch, n)) for s in range(0, n, batch)]
    step = optimizer.step
    loss_and_backward = net.loss_and_backward
    output = net.layers[-1]
    tail = bool(with_metrics) or Xv is not None or stopper is not None or watch_loss is not None
    ran = epochs  # unless early stopping ends it sooner
    start = time.perf_counter()
    # overflow and inf - inf are caught by the finite-loss check, which names the epoch
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            if schedule is not None:
                optimizer.lr = schedule(epoch, lr0)
            if full_batch:
                loss = loss_and_backward(X, T)
                if decay is not None:
                    loss = loss + decay(weight_params, weight_grads, 1.0)
                if stacked:  # a diverged network is frozen, the others go on
                    epoch_loss = record.record(epoch, loss)
                elif not math.isfinite(loss):
                    _diverged(loss, epoch, losses, start)
                else:
                    losses[epoch] = epoch_loss = loss
                if track_accuracy:
                    accuracy[epoch] = (_class_of(output.h) == labels).mean(axis=-1)
                step(params, grads)
                if stacked:
                    record.after_step()
            else:
                if shuffle:
                    # a fresh permutation each epoch (not a shuffle of the last one), so an
                    # epoch's order depends only on the generator's state: resumable
                    order = rng.permutation(n)
                total = 0.0
                correct = 0
                for lo, hi in bounds:
                    idx = order[lo:hi]
                    # a batch gathered through the shuffled index; take() without out= is
                    # the fastest gather (with out= it goes through a temporary)
                    loss = loss_and_backward(X.take(idx, axis=0), T.take(idx, axis=0))
                    if decay is not None:
                        share = 1.0 if mean else (hi - lo) / n
                        loss = loss + decay(weight_params, weight_grads, share)
                    if stacked:
                        loss = record.check(epoch, loss)
                    elif not math.isfinite(loss):
                        _diverged(loss, epoch, losses, start)
                    total = total + (loss * (hi - lo) if mean else loss)
                    if track_accuracy:
                        correct = correct + (_class_of(output.h) == labels[idx]).sum(axis=-1)
                    step(params, grads)
                    if stacked:
                        record.after_step()
                epoch_loss = total / n if mean else total
                if stacked:
                    record.keep(epoch, epoch_loss)
                else:
                    losses[epoch] = epoch_loss
                if track_accuracy:
                    accuracy[epoch] = correct / n
            if not tail:
                continue
            metrics: dict[str, Any] = {}
            if track_accuracy:
                metrics["accuracy"] = accuracy[epoch]
            if Xv is not None:
                net._forward(Xv)
                metrics["val_loss"] = val_loss[epoch] = net.objective(output, Tv)[0]
                if val_accuracy is not None:
                    val_accuracy[epoch] = (_class_of(output.h) == val_labels).mean(axis=-1)
                    metrics["val_accuracy"] = val_accuracy[epoch]
            for callback, wants in with_metrics:
                if wants:
                    callback(epoch, epoch_loss, metrics=metrics)
                else:
                    callback(epoch, epoch_loss)
            if stopper is not None:
                watched = val_loss if (stopper.monitor == "val_loss" and Xv is not None) else losses
                if stopper.update(epoch, float(watched[epoch]), params):
                    ran = epoch + 1
                    break
            if watch_loss is not None and watch_loss(float(epoch_loss)):
                ran = epoch + 1
                break
    if stopper is not None:
        stopper.restore(params)
    done = net.training_metadata.get("epochs", 0) + ran
    net.training_metadata.update(epochs=done, optimizer=repr(optimizer))
    history = History(
        losses[:ran] if record is None else record.kept(),
        ran,
        time.perf_counter() - start,
        {} if record is None else record.extras(),
        accuracy=None if accuracy is None else accuracy[:ran],
        val_loss=None if val_loss is None else val_loss[:ran],
        val_accuracy=None if val_accuracy is None else val_accuracy[:ran],
        best_epoch=None if stopper is None else stopper.best_epoch,
    )
    for callback in callbacks:
        if hasattr(callback, "on_train_end"):
            callback.on_train_end(history)
    return history


def _diverged(loss: Any, epoch: int, losses: np.ndarray, start: float) -> None:
    import time

    history = History(losses[:epoch].copy(), epoch, time.perf_counter() - start)
    raise TrainingDivergedError(
        f"the loss became {loss} at epoch {epoch}; training stopped and the "
        f"weights from before that step were kept. Try a smaller learning rate.",
        epoch=epoch,
        history=history,
    )
