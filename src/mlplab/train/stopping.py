"""Early stopping: watch a loss after every epoch and stop when it stops improving.

A ``fit`` callback like any other: after every epoch it reads the watched loss from
the logs (``update``), keeps a copy of the best weights, and at the end of training
puts them back (``restore``) and notes the best epoch in the ``History``.

``NoImprovement`` is scikit-learn's rule (its ``n_iter_no_change``): a count of epochs
that failed to beat the best by more than ``tol``, which ends training (or lowers the
rate, through ``on_stall``) once it exceeds the patience.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import is_integer, is_number, non_negative_number, positive_int
from mlplab.errors import ConfigError
from mlplab.train.callbacks import Callback

if TYPE_CHECKING:
    from mlplab.nn.network import MLP
    from mlplab.train.history import History

Array = np.ndarray

__all__ = ["EarlyStopping", "NoImprovement", "restore_on_abort"]


def restore_on_abort(callbacks: Sequence[Any]) -> list[str]:
    """Tell each callback with ``on_train_abort`` that training ended early; what they did."""
    said = [c.on_train_abort() for c in callbacks if hasattr(c, "on_train_abort")]
    return [s for s in said if s]


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without the loss improving by more than ``min_delta``.

    ``monitor`` is ``"val_loss"`` (the default; the training loss when no validation
    data is given) or ``"loss"``. With ``restore_best`` the network ends with the
    weights of the best epoch.
    """

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        restore_best: bool = True,
    ) -> None:
        patience = positive_int("patience", patience)
        min_delta = non_negative_number("min_delta", min_delta)
        if monitor not in ("val_loss", "loss"):
            raise ConfigError(f"monitor must be 'val_loss' or 'loss', got {monitor!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.monitor = monitor
        self.restore_best = restore_best
        # the best weights are copied when seen, so they must be current after every epoch
        self.weights_every = 1 if restore_best else None
        self._params: list[Array] = []
        self.reset()

    def on_train_begin(self, net: MLP) -> None:
        self.reset()
        self._params = [v for p in net.params for v in p.values()]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        """Stop when the watched loss (``val_loss`` if recorded, else ``loss``) stalls."""
        value = logs.get("val_loss", logs["loss"]) if self.monitor == "val_loss" else logs["loss"]
        return self.update(epoch, float(value), self._params)

    def on_train_end(self, history: History) -> None:
        """Put the best epoch's weights back and note that epoch in the history."""
        self.restore(self._params)
        history.best_epoch = self.best_epoch

    def reset(self) -> None:
        self.best = math.inf
        self.best_epoch = -1
        self.wait = 0
        self._best_params: list[Array] | None = None

    def update(self, epoch: int, value: float, params: Sequence[Array]) -> bool:
        """Record this epoch's ``value``; return ``True`` when training should stop."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best:
                if self._best_params is None:
                    self._best_params = [p.copy() for p in params]
                else:
                    for kept, p in zip(self._best_params, params, strict=True):
                        np.copyto(kept, p)
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, params: Sequence[Array]) -> None:
        """Copy the best epoch's weights back into ``params`` (if any were kept)."""
        if self.restore_best and self._best_params is not None:
            for p, kept in zip(params, self._best_params, strict=True):
                np.copyto(p, kept)

    def on_train_abort(self) -> str | None:
        """Training ended early (a divergence, Ctrl-C, a callback raising): put the best
        epoch's weights back, as the end of training would; say so, or ``None``."""
        if not (self.restore_best and self._best_params is not None):
            return None
        self.restore(self._params)
        return (
            f"early stopping restored the weights of its best epoch, {self.best_epoch} "
            f"({self.monitor} {self.best:.6g})"
        )

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"monitor={self.monitor!r}, restore_best={self.restore_best})"
        )


class NoImprovement(Callback):
    """scikit-learn's ``n_iter_no_change`` rule, epoch for epoch.

    After every epoch the watched value counts as no improvement unless it beats the
    best by more than ``tol``; any improvement, however small, becomes the best. When
    the count exceeds ``patience`` (``math.inf``: never), ``on_stall()`` is asked: it
    returns ``True`` to stop (the default, ``None``, always stops) or ``False`` to go on
    with the count at 0 (scikit-learn's adaptive rate divides the rate there).

    ``score`` is ``None`` to watch the training loss (lower is better), or a function of
    the network returning a score to maximise (a validation accuracy or R^2, say); with
    a score the best weights are kept and ``restore`` puts them back (at the end of
    training, or by hand after a divergence). ``keep_state=True`` carries the best and
    the count over to the next ``fit`` (scikit-learn's ``warm_start`` and
    ``partial_fit``). ``scores`` lists every score seen.
    """

    def __init__(
        self,
        patience: float = 10,
        tol: float = 1e-4,
        *,
        score: Callable[[MLP], float] | None = None,
        on_stall: Callable[[], bool] | None = None,
        keep_state: bool = False,
    ) -> None:
        if not (patience == math.inf or (is_integer(patience) and patience >= 1)):
            raise ConfigError(f"patience must be a positive integer or inf, got {patience!r}")
        if not (is_number(tol) and tol >= 0):
            raise ConfigError(f"tol must be a non-negative number, got {tol!r}")
        self.patience = patience
        self.tol = float(tol)
        self.score = score
        self.on_stall = on_stall
        self.keep_state = keep_state
        self.weights_every = 1 if score is not None else None
        self._params: list[Array] = []
        self.reset()

    def reset(self) -> None:
        """Forget the best, the count, the kept weights and the scores."""
        self.best = math.inf if self.score is None else -math.inf
        self.count = 0
        self.stopped = False
        self.scores: list[float] = []
        self._best_params: list[Array] | None = None

    def on_train_begin(self, net: MLP) -> None:
        if not self.keep_state:
            self.reset()
        self.stopped = False
        self.weights_every = 1 if self.score is not None else None
        self._net = net
        self._params = [v for p in net.params for v in p.values()]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        if self.score is None:
            value = float(logs["loss"])
            if value > self.best - self.tol:  # scikit-learn's comparisons, NaN and all
                self.count += 1
            else:
                self.count = 0
            if value < self.best:
                self.best = value
        else:
            value = float(self.score(self._net))
            self.scores.append(value)
            if value < self.best + self.tol:  # NaN resets the count, as scikit-learn's
                self.count += 1
            else:
                self.count = 0
            if value > self.best:
                self.best = value
                self._keep_best()
        if self.count > self.patience:
            if self.on_stall is None or self.on_stall():
                self.stopped = True
                return True
            self.count = 0
        return False

    def _keep_best(self) -> None:
        if self._best_params is None:
            self._best_params = [p.copy() for p in self._params]
        else:
            for kept, p in zip(self._best_params, self._params, strict=True):
                np.copyto(kept, p)

    def restore(self) -> None:
        """Put the best-scoring weights back into the network (if a score kept any)."""
        if self._best_params is not None:
            for p, kept in zip(self._params, self._best_params, strict=True):
                np.copyto(p, kept)

    def on_train_end(self, history: History) -> None:
        self.restore()

    def __getstate__(self) -> dict[str, Any]:
        # the network and its arrays are bound again by the next on_train_begin
        return {k: v for k, v in self.__dict__.items() if k not in ("_net", "_params")}

    def __repr__(self) -> str:
        watched = "loss" if self.score is None else "score"
        return f"NoImprovement(patience={self.patience}, tol={self.tol}, watching {watched})"
