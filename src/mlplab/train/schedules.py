"""Learning-rate schedules: ``lr = schedule(epoch, lr0)``, a pure function of the epoch.

``SCHEDULES`` maps a name to a class; ``get_schedule`` turns a name, an object
or ``None`` (constant) into a schedule. The optimizer holds the rate and asks its
schedule for each epoch's (``mlplab.train.optimizers``: ``use_schedule``, ``start_epoch``).
A schedule that reads the loss (``reads_loss``: ``Adaptive``) is asked instead after
each epoch, through the optimizer's ``read_loss``: given the loss and the rate, it gives
the next rate, and says when training should stop because the rate cannot go lower.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

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

    After each epoch, ``update(loss, lr)`` counts the epochs whose training loss is not
    below the best so far by at least ``tol``; when the count exceeds ``patience``
    the rate is divided by ``factor`` (``lower``) and the count restarts. Once the rate is
    at ``min_lr`` or below, the next stall stops training. The rate itself lives in the
    optimizer, which hands it in and keeps what comes back.
    """

    reads_loss = True

    def __init__(
        self, tol: float = 1e-4, patience: int = 10, factor: float = 5.0, min_lr: float = 1e-6
    ) -> None:
        self.tol = non_negative_number("tol", tol)
        self.patience = positive_int("patience", patience)
        self.factor = positive_number("factor", factor)
        if self.factor <= 1:
            raise ConfigError(f"factor must be greater than 1, got {factor!r}")
        self.min_lr = positive_number("min_lr", min_lr)
        self.reset()

    def reset(self) -> None:
        """Forget the losses seen: a new run."""
        self.best, self.stalled = math.inf, 0

    def update(self, loss: float, lr: Any) -> tuple[Any, bool]:
        """Record an epoch's training loss: ``(the next rate, stop)``; stop when the loss
        stalled and the rate cannot go lower."""
        self.stalled = self.stalled + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, float(loss))
        if self.stalled <= self.patience:
            return lr, False
        lr, floor = self.lower(lr)
        if not floor:
            self.stalled = 0
        return lr, floor

    def lower(self, lr: Any) -> tuple[Any, bool]:
        """``(lr / factor, False)``, or ``(lr, True)`` when ``lr`` is at ``min_lr`` or below."""
        if lr <= self.min_lr:
            return lr, True
        return lr / self.factor, False

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
    if not (callable(schedule) or getattr(schedule, "reads_loss", False)):
        raise ConfigError(
            f"schedule must be a name or a callable (epoch, lr0) -> lr, got {schedule!r}"
        )
    return schedule
