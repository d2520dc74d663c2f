"""See every number: one training epoch, line by line, with the arrays that ran.

``MLP.trace(X, T, **fit_options)`` (``trace`` here) runs one epoch of ``fit`` and returns a
``Trace``: each line in the seed's notation, where in mlplab it ran, what it read and what it
produced (see ``mlplab.trace.record`` for how the values are taken from the real passes).
"""

from mlplab.trace.result import Trace
from mlplab.trace.run import trace
from mlplab.trace.steps import Location, Step

__all__ = ["Location", "Step", "Trace", "trace"]
