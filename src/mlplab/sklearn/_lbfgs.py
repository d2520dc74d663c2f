"""``solver="lbfgs"``: full-batch L-BFGS-B (``mlplab.train.lbfgs``) with scikit-learn's
objective, fitted attributes and ``ConvergenceWarning``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from mlplab.sklearn._network import fit_scaler
from mlplab.train.history import History
from mlplab.train.lbfgs import minimize_lbfgs
from mlplab.train.regularization import L2

__all__ = ["LbfgsFit", "convergence_message"]


def convergence_message(history: History, n_iter: int, max_iter: int, scaled: bool) -> str:
    """scikit-learn's warning when SciPy stops short: at ``max_iter``, at ``max_fun`` (its
    evaluation limit) or otherwise, with its advice to scale unless the inputs were."""
    message = (
        f"lbfgs failed to converge after {n_iter} iteration(s) "
        f"(status={history.extra['status']}):\n{history.extra['message']}\n"
    )
    if n_iter == max_iter:
        message += (
            f"\nIncrease the number of iterations to improve the convergence (max_iter={max_iter})."
        )
    if not scaled:  # standardize=True has scaled them
        message += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
    return message


class LbfgsFit:
    """The L-BFGS half of the estimators' fitting (mixed into their base class)."""

    def _fit_lbfgs(self: Any, X: np.ndarray, T: np.ndarray, w: Any, standardize: bool) -> None:
        net = self.net_
        if standardize:
            net.input_scaler = fit_scaler(X, w)
        Xs, T = net.check_data(X, T)  # scaled once, here
        total = len(X) if w is None else float(w.sum())
        penalty = L2(float(self.alpha) / total) if self.alpha else None
        history = minimize_lbfgs(net, Xs, T, max_iter=int(self.max_iter),
                                 max_fun=int(self.max_fun), tol=float(self.tol),
                                 regularization=penalty, sample_weight=w)  # fmt: skip
        self.history_ = history
        self.n_iter_ = min(history.epochs, int(self.max_iter))
        self.loss_curve_ = [float(v) for v in history.loss]
        self.loss_ = self.loss_curve_[-1]
        if history.extra["status"] != 0:  # max_iter, max_fun, or SciPy's line search
            message = convergence_message(history, self.n_iter_, int(self.max_iter),
                                          scaled=bool(net.input_scaler))  # fmt: skip
            warnings.warn(message, ConvergenceWarning, stacklevel=5)
