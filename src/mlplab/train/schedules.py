"""Learning-rate schedules: ``lr = schedule(epoch, lr0)``, set on the optimizer each epoch.

``SCHEDULES`` maps a name to a class; ``get_schedule`` turns a name, an object
or ``None`` (constant) into a schedule. A schedule only reads the epoch and the
initial rate, so it works with any optimizer that has an ``lr`` attribute.
A schedule that reads the loss is also a ``fit`` callback: ``Adaptive`` reads each
epoch's training loss in ``on_epoch_end`` and stops training when the rate cannot
go lower.
"""

from __future__ import annotations

import math
from typing import Protocol

from mlplab.checks import non_negative_number, positive_int, positive_number
from mlplab.errors import ConfigError

__all__ = [
    "SCHEDULES",
    "Adaptive",
    "Constant",
    "InverseTime",
    "Schedule",
    "StepDecay",
    "get_schedule",
]


class Schedule(Protocol):
    """The learning rate for ``epoch`` (from 0), given the initial rate ``lr0``."""

    def __call__(self, epoch: int, lr0: float) -> float: ...


class Constant:
    """``lr = lr0``."""

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0

    def __repr__(self) -> str:
        return "Constant()"


class StepDecay:
    """``lr = lr0 * gamma ** (epoch // step)``: multiply by ``gamma`` every ``step`` epochs."""

    def __init__(self, step: int = 10, gamma: float = 0.5) -> None:
        self.step = positive_int("step", step)
        self.gamma = positive_number("gamma", gamma)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma ** (epoch // self.step)

    def __repr__(self) -> str:
        return f"StepDecay(step={self.step}, gamma={self.gamma})"


class InverseTime:
    """``lr = lr0 / (1 + decay * epoch) ** power``; ``power=0.5`` resembles scikit-learn's
    ``invscaling``."""

    def __init__(self, decay: float = 0.1, power: float = 1.0) -> None:
        self.decay = positive_number("decay", decay)
        self.power = positive_number("power", power)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 / (1 + self.decay * epoch) ** self.power

    def __repr__(self) -> str:
        return f"InverseTime(decay={self.decay}, power={self.power})"


class Adaptive:
    """scikit-learn's ``learning_rate="adaptive"``: ``lr /= factor`` when the loss stalls.

    After each epoch, ``update(loss)`` counts the epochs whose training loss is not
    below the best so far by at least ``tol``; when the count exceeds ``patience``
    the rate is divided by ``factor`` and the count restarts. Once the rate is at
    ``min_lr`` or below, the next stall stops training (``update`` returns ``True``).
    """

    def __init__(
        self, tol: float = 1e-4, patience: int = 10, factor: float = 5.0, min_lr: float = 1e-6
    ) -> None:
        self.tol = non_negative_number("tol", tol)
        self.patience = positive_int("patience", patience)
        self.factor = positive_number("factor", factor)
        if self.factor <= 1:
            raise ConfigError(f"factor must be greater than 1, got {factor!r}")
        self.min_lr = positive_number("min_lr", min_lr)
        self.lr = math.nan

    def __call__(self, epoch: int, lr0: float) -> float:
        if epoch == 0:  # a new run: start again from lr0
            self.lr, self.best, self.stalled = float(lr0), math.inf, 0
        return self.lr

    def on_epoch_end(self, epoch: int, logs: dict) -> bool:
        """As a ``fit`` callback: ``update`` with the epoch's training loss."""
        return self.update(float(logs["loss"]))

    def update(self, loss: float) -> bool:
        """Record an epoch's training loss; ``True`` means stop (the rate cannot go lower)."""
        self.stalled = self.stalled + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, float(loss))
        if self.stalled <= self.patience:
            return False
        if self.lr <= self.min_lr:
            return True
        self.lr /= self.factor
        self.stalled = 0
        return False

    def __repr__(self) -> str:
        return (
            f"Adaptive(tol={self.tol}, patience={self.patience}, factor={self.factor}, "
            f"min_lr={self.min_lr})"
        )


SCHEDULES: dict[str, type] = {
    "constant": Constant,
    "step": StepDecay,
    "inverse_time": InverseTime,
    "adaptive": Adaptive,
}


def get_schedule(schedule: str | Schedule | None) -> Schedule | None:
    """A schedule from a name in ``SCHEDULES`` (default settings), an object, or ``None``."""
    if schedule is None or schedule == "constant":
        return None  # the loop then leaves the optimizer's rate alone
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown schedule {schedule!r}; expected one of: {', '.join(SCHEDULES)}"
            )
        return SCHEDULES[schedule]()
    if not callable(schedule):
        raise ConfigError(
            f"schedule must be a name or a callable (epoch, lr0) -> lr, got {schedule!r}"
        )
    return schedule
