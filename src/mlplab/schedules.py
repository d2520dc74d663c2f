"""Learning-rate schedules: ``lr = schedule(epoch, lr0)``, set on the optimizer each epoch.

``SCHEDULES`` maps a name to a class; ``get_schedule`` turns a name, an object
or ``None`` (constant) into a schedule. A schedule only reads the epoch and the
initial rate, so it works with any optimizer that has an ``lr`` attribute.
"""

from __future__ import annotations

from typing import Protocol

from mlplab.errors import ConfigError

__all__ = ["SCHEDULES", "Constant", "InverseTime", "Schedule", "StepDecay", "get_schedule"]


class Schedule(Protocol):
    """The learning rate for ``epoch`` (from 0), given the initial rate ``lr0``."""

    def __call__(self, epoch: int, lr0: float) -> float: ...


def _positive(name: str, value: float, *, integer: bool = False) -> float:
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise ConfigError(
            f"{name} must be a positive {'integer' if integer else 'number'}, got {value!r}"
        )
    return value


class Constant:
    """``lr = lr0``."""

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0

    def __repr__(self) -> str:
        return "Constant()"


class StepDecay:
    """``lr = lr0 * gamma ** (epoch // step)``: multiply by ``gamma`` every ``step`` epochs."""

    def __init__(self, step: int = 10, gamma: float = 0.5) -> None:
        self.step = int(_positive("step", step, integer=True))
        self.gamma = float(_positive("gamma", gamma))

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma ** (epoch // self.step)

    def __repr__(self) -> str:
        return f"StepDecay(step={self.step}, gamma={self.gamma})"


class InverseTime:
    """``lr = lr0 / (1 + decay * epoch) ** power``; ``power=0.5`` resembles scikit-learn's
    ``invscaling``."""

    def __init__(self, decay: float = 0.1, power: float = 1.0) -> None:
        self.decay = float(_positive("decay", decay))
        self.power = float(_positive("power", power))

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 / (1 + self.decay * epoch) ** self.power

    def __repr__(self) -> str:
        return f"InverseTime(decay={self.decay}, power={self.power})"


SCHEDULES: dict[str, type] = {
    "constant": Constant,
    "step": StepDecay,
    "inverse_time": InverseTime,
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
