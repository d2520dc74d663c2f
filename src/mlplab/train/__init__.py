"""Training: the ``fit`` driver, its record (``History``) and what it is configured with.

Optimizers, learning-rate schedules, early stopping, weight decay and callbacks are
small objects of their own (``optimizers`` holds their math once, as pure functions over
an array module); ``fit`` asks an engine (``mlplab.engines``) to run the epochs. The
engines import this package's job and optimizers, so ``fit`` sits above them and is
imported here only when first asked for.
"""

from typing import Any

from mlplab.train.history import History
from mlplab.train.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Optimizer
from mlplab.train.schedules import SCHEDULES
from mlplab.train.stopping import EarlyStopping

__all__ = ["OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "EarlyStopping", "History", "Momentum",
           "Nesterov", "Optimizer", "fit"]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "fit":  # the driver, above the engines (see the module docstring)
        from mlplab.train.driver import fit

        return fit
    raise AttributeError(f"module 'mlplab.train' has no attribute {name!r}")
