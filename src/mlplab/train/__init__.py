"""Training: the ``fit`` driver, its record (``History``) and what it is configured with.

Optimizers, learning-rate schedules, early stopping, weight decay and callbacks are
small objects of their own; ``fit`` asks an engine (``mlplab.engines``) to run the epochs.
"""

from mlplab.train.fit import History, fit
from mlplab.train.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Optimizer
from mlplab.train.schedules import SCHEDULES
from mlplab.train.stopping import EarlyStopping

__all__ = ["OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "EarlyStopping", "History", "Momentum",
           "Nesterov", "Optimizer", "fit"]  # fmt: skip
