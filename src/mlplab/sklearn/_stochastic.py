"""The stochastic solvers (adam, sgd, momentum, nesterov): mini-batch epochs through
``MLP.fit`` with scikit-learn's optimizers, schedules, early-stopping split, stopping rule
(``mlplab.train.stopping.NoImprovement``), fitted attributes and ``ConvergenceWarning``."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mlplab.errors import TrainingDivergedError
from mlplab.nn.network import MLP
from mlplab.sklearn._network import divergence_message, fit_scaler, predict_rows
from mlplab.sklearn._params import SGD_FAMILY
from mlplab.train.history import History
from mlplab.train.regularization import L2
from mlplab.train.schedules import Adaptive
from mlplab.train.stopping import NoImprovement

__all__ = ["CONVERGENCE", "DivergedError", "InvScaling", "StochasticFit", "say"]

CONVERGENCE = (
    "Stochastic Optimizer: Maximum iterations ({}) reached and the optimization hasn't "
    "converged yet."
)


class DivergedError(TrainingDivergedError, ValueError):
    """The loss became NaN or infinite: a ``ValueError`` (as scikit-learn raises) and
    mlplab's ``TrainingDivergedError`` (with ``epoch`` and the ``history`` so far)."""


def say(line: str) -> None:
    """``verbose=True``'s lines, scikit-learn's words (the library prints nothing else)."""
    print(line)


def _print_loss(epoch: int, logs: dict) -> None:
    """``verbose=True``: scikit-learn's line per epoch."""
    say(f"Iteration {epoch + 1}, loss = {float(logs['loss']):.8f}")


class InvScaling:
    """scikit-learn's ``invscaling``: ``lr = lr_init / (t + 1) ** power_t`` with ``t`` the
    samples seen before the epoch, counted across calls (``t_``)."""

    def __init__(self, lr_init: float, power_t: float, n: int, t_start: int) -> None:
        self.lr_init, self.power_t, self.n, self.t_start = lr_init, power_t, n, t_start

    def __call__(self, epoch: int, lr0: float) -> float:
        return self.lr_init / (self.t_start + epoch * self.n + 1) ** self.power_t


class StochasticFit:
    """The mini-batch half of the estimators' fitting (mixed into their base class)."""

    def _new_optimizer(self: Any) -> Any:
        from mlplab.train.optimizers import SGD, Adam, Momentum, Nesterov

        lr = float(self.learning_rate_init)
        if self.solver == "adam":
            return Adam(lr, float(self.beta_1), float(self.beta_2), float(self.epsilon))
        if self.momentum == 0:
            return SGD(lr)
        if self.solver == "momentum" or (self.solver == "sgd" and not self.nesterovs_momentum):
            return Momentum(lr, float(self.momentum))
        return Nesterov(lr, float(self.momentum))

    def _schedule(self: Any, n: int) -> Any:
        if self.solver in SGD_FAMILY and self.learning_rate == "invscaling":
            return InvScaling(float(self.learning_rate_init), float(self.power_t), n, self.t_)
        return None  # constant, or adaptive (lowered by _on_stall)

    def _batch(self: Any, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=5,
            )
        return min(int(self.batch_size), n)

    def _on_stall(self: Any) -> bool:
        """scikit-learn's ``trigger_stopping``: the adaptive SGD rate falls by 5, else stop."""
        adaptive = self.solver in SGD_FAMILY and self.learning_rate == "adaptive"
        if adaptive and not self._optimizer_.lower_rate(Adaptive(factor=5.0, min_lr=1e-6)):
            return False  # lowered by 5 (the rate lives in the optimizer)
        if self.verbose:
            watched = "Validation score" if self.early_stopping else "Training loss"
            say(f"{watched} did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs. Stopping.")  # fmt: skip
        return True

    def _stopper(self: Any, score: Any) -> NoImprovement:
        """The ``n_iter_no_change`` counter, carried over by warm starts and partial fits."""
        stopper = getattr(self, "_stopper_", None)
        watching = "loss" if score is None else "score"
        patience, tol = self.n_iter_no_change, float(self.tol)
        if stopper is None or getattr(self, "_stopper_watches_", watching) != watching:
            # none yet, or it watched the other thing (early_stopping changed between fits)
            self._stopper_watches_ = watching
            stopper = self._stopper_ = NoImprovement(patience, tol, score=score, keep_state=True)
        stopper.patience, stopper.tol, stopper.score = patience, tol, score
        stopper.on_stall = self._on_stall
        return stopper

    def _fit_stochastic(
        self: Any, X: np.ndarray, T: np.ndarray, y: Any, w: Any, rs: Any, incremental: bool,
        standardize: bool,
    ) -> None:  # fmt: skip
        """Mini-batch training through ``MLP.fit`` with scikit-learn's optimizer and rules."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not incremental or getattr(self, "_optimizer_", None) is None:
            self._optimizer_ = self._new_optimizer()
        score = None
        if self.early_stopping:
            X, T, w, Xv, yv, wv = self._split(X, T, y, w, rs)
            score = lambda net: self._validation_score(net, Xv, yv, wv)  # noqa: E731
        if standardize:  # on the training rows, weighted
            self.net_.input_scaler = fit_scaler(X, w)
        stopper = self._stopper(score)
        n = X.shape[0]
        batch = self._batch(n)
        epochs = 1 if incremental else int(self.max_iter)
        mean_weight = 1.0 if w is None else float(w.mean())
        try:
            history = self.net_.fit(
                X, T, epochs=epochs, optimizer=self._optimizer_, batch_size=batch,
                shuffle=bool(self.shuffle), schedule=self._schedule(n),
                weight_decay=L2(float(self.alpha) / (batch * mean_weight)),
                seed=int(rs.randint(2**31 - 1)), sample_weight=w, engine=self.engine,
                callbacks=[*([_print_loss] if self.verbose else []), stopper],
            )  # fmt: skip
        except TrainingDivergedError as e:
            history = self._after_divergence(e, X, stopper, epochs)
        finally:
            stopper.score = stopper.on_stall = None  # functions do not pickle
        self._record(history, stopper, n, incremental)

    def _after_divergence(
        self: Any, e: TrainingDivergedError, X: np.ndarray, stopper: NoImprovement, epochs: int
    ) -> History:
        """scikit-learn's ending: with early stopping, NaN scores to ``max_iter`` and the
        best weights; without, an error."""
        if not self.early_stopping:
            raise DivergedError(divergence_message(e, X), epoch=e.epoch,
                                history=e.history) from None  # fmt: skip
        stopper.restore()
        missing = epochs - len(e.history.loss)  # the diverged epoch and those after it
        stopper.scores.extend([math.nan] * missing)
        loss = np.concatenate([e.history.loss, np.full(missing, np.nan)])
        return History(loss, epochs, e.history.seconds)

    def _split(self: Any, X: np.ndarray, T: np.ndarray, y: Any, w: Any, rs: Any) -> tuple:
        """scikit-learn's early-stopping split, stratified by the classifier's labels when
        there is one output (``_stratify_by``)."""
        arrays = (X, T, y) if w is None else (X, T, y, w)
        parts = train_test_split(*arrays, random_state=rs, test_size=self.validation_fraction,
                                 stratify=self._stratify_by(y, T))  # fmt: skip
        if parts[1].shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        Xt, Xv, Tt, _, _, yv = parts[:6]
        wt, wv = (None, None) if w is None else parts[6:8]
        return Xt, Tt, wt, Xv, yv, wv

    def _stratify_by(self, y: Any, T: np.ndarray) -> Any:
        """What the early-stopping split keeps in proportion: nothing (the regressor)."""
        return None

    def _validation_score(self: Any, net: MLP, Xv: np.ndarray, yv: Any, wv: Any) -> float:
        outputs = predict_rows(net, Xv)
        finite = np.isfinite(outputs).all()
        score = float(self._score_outputs(outputs, yv, wv)) if finite else math.nan
        if self.verbose:
            say(f"Validation score: {score:f}")
        return score

    def _record(
        self: Any, history: History, stopper: NoImprovement, n: int, incremental: bool
    ) -> None:
        """scikit-learn's fitted attributes after a stochastic run."""
        self.history_ = history
        self.n_iter_ = history.epochs
        self.t_ += history.epochs * n
        self.loss_curve_.extend(float(v) for v in history.loss)
        self.loss_ = self.loss_curve_[-1]
        if self.early_stopping:
            self.validation_scores_ = [float(v) for v in stopper.scores]
            self.best_validation_score_ = float(stopper.best)
        else:
            self.best_loss_ = float(stopper.best)
        if not incremental and self.n_iter_ == self.max_iter and not stopper.stopped:
            warnings.warn(CONVERGENCE.format(self.max_iter), ConvergenceWarning, stacklevel=5)
