"""What a ``fit`` tells its user when it ends: a title for its plot, a warning when it stalled.

``FitAdvice`` is a callback ``fit`` adds after the user's. At the end of the run it

- names the run in ``history.extra["title"]`` (``run_title``, the line ``mlplab train``
  prints), which ``History.plot()`` takes as its title;
- warns, once, through Python's ``warnings`` (``StalledFitWarning``) when the fit has
  clearly stalled for a reason it can name: the loss is flat over the second half of the
  run and no better than always answering the targets' mean, and the inputs are unscaled
  or the output cannot reach the targets (the loss does not suit them).

(The flatness test is its own, not ``mlplab.diagnostics``': training sits below the
diagnostics, which read what training records.)

A slow but moving fit, a short one, a stack, weighted rows and sparse inputs get no warning.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import is_sparse
from mlplab.train.optimizers import OPTIMIZERS

if TYPE_CHECKING:
    from mlplab.nn.network import MLP
    from mlplab.train.history import History
    from mlplab.train.job import TrainJob

__all__ = [
    "MIN_EPOCHS",
    "OUTPUT_RANGES",
    "FitAdvice",
    "StalledFitWarning",
    "fit_advice",
    "run_title",
]

MIN_EPOCHS = 100  # shorter runs have not had the time to stall
UNSCALED = 3.0  # inputs beyond this size saturate sigmoid/tanh units from the first step
NO_BETTER = 0.98  # the final loss is at least this share of the constant answer's
FLAT = 0.01  # over the run's second half, the loss moves by less than this share of itself
# the values an output activation can take: (low, high)
OUTPUT_RANGES: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "exp": (0.0, math.inf),
    "relu": (0.0, math.inf),
    "softplus": (0.0, math.inf),
}


class StalledFitWarning(UserWarning):
    """A fit ended no better than a constant answer, for a reason the message names."""


def fit_advice(job: TrainJob, epochs: int) -> list[FitAdvice]:
    """The advice callbacks ``fit`` adds for ``job`` run for ``epochs``."""
    return [FitAdvice(job, epochs)]


class FitAdvice:
    """Titles the history and warns when the fit stalled on unscaled inputs or a poor loss.

    It has no ``on_epoch_end`` (a fit without callbacks of its own stays one without)."""

    def __init__(self, job: TrainJob, epochs: int) -> None:
        self.job, self.epochs = job, epochs

    def on_train_end(self, history: History) -> None:
        job = self.job
        optimizer = next((k for k, c in OPTIMIZERS.items() if type(job.optimizer) is c), None)
        batch = None if job.full_batch else job.batch_size
        history.extra.setdefault(
            "title",
            run_title(job.net, epochs=self.epochs, lr=_initial_rate(job.optimizer),
                      optimizer=optimizer or type(job.optimizer).__name__, batch_size=batch),
        )  # fmt: skip
        message = stall_message(job, history)
        if message:
            warnings.warn(message, StalledFitWarning, stacklevel=5)  # MLP.fit's caller


def stall_message(job: TrainJob, history: History) -> str | None:
    """Why the fit stalled, or ``None`` when it did not clearly stall or no reason is known."""
    loss = np.asarray(history.loss, dtype=float)
    if job.stacked or job.weight is not None or is_sparse(job.X) or len(loss) < MIN_EPOCHS:
        return None
    second_half = loss[len(loss) // 2 :]
    if not np.ptp(second_half) <= FLAT * loss[-1]:
        return None
    baseline = constant_loss(job.net, job.T)
    if baseline is None or not loss[-1] >= NO_BETTER * baseline:
        return None
    reasons = [r for r in (_unscaled(job), _unreachable(job)) if r]
    if not reasons:
        return None
    return (
        f"the fit stalled: after {len(loss)} epochs the loss is {loss[-1]:.4g}, no better than "
        f"always answering the targets' mean ({baseline:.4g}). " + " ".join(reasons)
    )


def constant_loss(net: Any, T: np.ndarray) -> float | None:
    """The loss, in the network's reduction, of answering every row with the targets' mean."""
    T = np.asarray(T, dtype=float)
    p = T.mean(axis=0, keepdims=True)
    name = net.loss.name
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "squared_error":
            rows = 0.5 * ((T - p) ** 2).sum(axis=1)
        elif name == "binary_cross_entropy":
            q = np.clip(p, 1e-12, 1 - 1e-12)
            rows = -(T * np.log(q) + (1 - T) * np.log(1 - q)).sum(axis=1)
        elif name == "cross_entropy":
            rows = -(T * np.log(np.clip(p, 1e-12, None))).sum(axis=1)
        else:
            return None
    total = float(rows.sum())
    return total / len(T) if net.reduction == "mean" else total


def _unscaled(job: TrainJob) -> str | None:
    if job.net.input_scaler is not None or not len(job.X):
        return None
    size = np.abs(job.X).max(axis=0)
    if size.max() <= UNSCALED:
        return None
    column = int(np.argmax(size))
    return (
        f"The inputs are not scaled (column {column} reaches {size[column]:.3g}), which pins "
        f"{job.net.activation.name} units at their limits: pass standardize=True "
        "(--standardize), or scale the inputs to mean 0 and standard deviation 1."
    )


def _unreachable(job: TrainJob) -> str | None:
    """The loss and output do not suit the targets: outputs that cannot reach them, or
    cross-entropy on rows that are not class probabilities."""
    net, T = job.net, job.T
    name = net.output_activation.name
    low, high = OUTPUT_RANGES.get(name, (-math.inf, math.inf))
    if T.min() < low or T.max() > high:
        return (
            f"The targets span {T.min():.3g} to {T.max():.3g} but a {name} output gives values "
            f"in ({low:g}, {high:g}), so the {net.loss.name} loss cannot come near them: for "
            "numbers, use output_activation='identity' with squared_error; for classes, "
            "targets 0/1 or one-hot."
        )
    if net.loss.name == "cross_entropy" and not np.allclose(T.sum(axis=1), 1):
        return (
            "The targets' rows do not sum to 1, but cross_entropy compares class "
            "probabilities: give one-hot rows (or class labels), or use squared_error."
        )
    return None


def run_title(
    net: MLP,
    *,
    epochs: int,
    lr: float,
    optimizer: str = "sgd",
    batch_size: int | None = None,
    data: str | None = None,
) -> str:
    """One line naming a training run, as ``mlplab train`` prints it and its plots are titled:
    ``xor: 3-4-1 sigmoid/sigmoid, squared_error (sum), 60000 epochs, lr 1, init seed, seed 0``.
    """
    arch = "-".join(str(s) for s in net.sizes)
    activations = f"{net.activation.name}/{net.output_activation.name}"
    seed = "fresh" if net.seed is None else str(net.seed)
    extra = "" if optimizer == "sgd" else f", {optimizer}"
    extra += "" if batch_size is None else f", batch {batch_size}"
    stack = "" if net.stack is None else f", a stack of {net.stack}"
    return (
        f"{data + ': ' if data else ''}{arch}{stack} {activations}, {net.loss.name} "
        f"({net.reduction}), {epochs} epoch{'' if epochs == 1 else 's'}, {_rate_text(lr)}, "
        f"init {net.init}, seed {seed}{extra}"
    )


def _initial_rate(optimizer: Any) -> float:
    """The rate the run started with: mlplab's optimizers keep it; another object's ``lr``."""
    return getattr(optimizer, "initial_lr", getattr(optimizer, "lr", math.nan))


def _rate_text(lr: Any) -> str:
    """``lr 1``, or for one rate per network of a stack ``lr 0.1..2 per network``."""
    if np.ndim(lr) == 0:
        return f"lr {float(lr):g}"
    return f"lr {np.min(lr):g}..{np.max(lr):g} per network"
