"""Full-batch L-BFGS-B (SciPy's) on every parameter of a network, flattened.

The loss and gradient are the network's own forward and backward pass over all rows
(``MLP.loss_and_backward``), plus the penalties of ``mlplab.train.regularization``;
SciPy only sees one vector. ``max_iter``, ``max_fun`` and ``tol`` (the projected-gradient
tolerance, ``gtol``) are SciPy's (and scikit-learn's) settings of the same names.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import non_negative_number, positive_int
from mlplab.errors import ConfigError
from mlplab.train.history import History
from mlplab.train.regularization import get_regularizers

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["minimize_lbfgs"]


def minimize_lbfgs(
    net: MLP,
    X: np.ndarray,
    T: np.ndarray,
    *,
    max_iter: int = 200,
    max_fun: int = 15000,
    tol: float = 1e-4,
    regularization: Any = None,
    sample_weight: np.ndarray | None = None,
) -> History:
    """Minimise ``net``'s loss on ``(X, T)`` plus ``regularization`` with L-BFGS-B, in place.

    ``X`` and ``T`` are used as given (already scaled and of the network's dtype; see
    ``MLP.check_data``). ``regularization`` is what ``fit(weight_decay=...)`` takes (a number for
    L2, ``L1``/``L2`` objects, a sequence of them), each penalty taken in full per call;
    ``sample_weight`` (one per row) weighs each example's loss and gradient. The
    history holds the objective after each iteration; ``extra`` holds SciPy's ``status``
    (0: converged, 1: ``max_iter`` or ``max_fun`` reached, 2: stopped otherwise), its
    ``message`` and the number of evaluations ``n_fun``.
    """
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ConfigError(
            "minimize_lbfgs needs SciPy: pip install scipy (it comes with mlplab[sklearn])"
        ) from None

    max_iter = positive_int("max_iter", max_iter)
    max_fun = positive_int("max_fun", max_fun)
    tol = non_negative_number("tol", tol)
    flat = _Flat(net, X, T, get_regularizers(regularization), sample_weight)
    curve: list[float] = []
    start = time.perf_counter()
    result = minimize(
        flat.loss_and_gradient,
        np.concatenate([v.ravel() for v in flat.values]).astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=lambda intermediate_result: curve.append(float(intermediate_result.fun)),
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": float(tol)},
    )
    flat.unflatten(result.x)
    losses = np.asarray(curve or [float(result.fun)])
    extra = {"status": int(result.status), "message": str(result.message), "n_fun": result.nfev}
    return History(losses, int(result.nit), time.perf_counter() - start, extra)



class _Flat:
    """The network's parameters as SciPy's one vector, and the loss and gradient at one."""

    def __init__(self, net: MLP, X: np.ndarray, T: np.ndarray, penalties: list,
                 sample_weight: np.ndarray | None) -> None:  # fmt: skip
        self.net, self.X, self.T, self.penalties, self.weight = net, X, T, penalties, sample_weight
        self.values = [v for p in net.params for v in p.values()]
        self.grads = [v for g in net.grads for v in g.values()]
        self.weights = [p["W"] for p in net.params]
        self.weight_grads = [g["W"] for g in net.grads]

    def unflatten(self, theta: np.ndarray) -> None:
        start = 0
        for v in self.values:
            v[...] = theta[start : start + v.size].reshape(v.shape)
            start += v.size

    def loss_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.unflatten(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = float(self.net.loss_and_backward(self.X, self.T, self.weight))
            for penalty in self.penalties:
                loss += float(penalty(self.weights, self.weight_grads, 1.0))
        return loss, np.concatenate([g.ravel() for g in self.grads]).astype(np.float64)
