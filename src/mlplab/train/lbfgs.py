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

from mlplab.errors import ConfigError
from mlplab.train.history import History
from mlplab.train.regularization import get_regularizers

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["minimize_lbfgs"]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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

    max_iter = _positive_int("max_iter", max_iter)
    max_fun = _positive_int("max_fun", max_fun)
    if not (isinstance(tol, int | float) and tol >= 0):
        raise ConfigError(f"tol must be a non-negative number, got {tol!r}")
    penalties = get_regularizers(regularization)
    values = [v for p in net.params for v in p.values()]
    grads = [v for g in net.grads for v in g.values()]
    weights = [p["W"] for p in net.params]
    weight_grads = [g["W"] for g in net.grads]

    def unflatten(theta: np.ndarray) -> None:
        start = 0
        for v in values:
            v[...] = theta[start : start + v.size].reshape(v.shape)
            start += v.size

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        unflatten(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = float(net.loss_and_backward(X, T, sample_weight))
            for penalty in penalties:
                loss += float(penalty(weights, weight_grads, 1.0))
        return loss, np.concatenate([g.ravel() for g in grads]).astype(np.float64)

    curve: list[float] = []
    start = time.perf_counter()
    result = minimize(
        loss_and_gradient,
        np.concatenate([v.ravel() for v in values]).astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=lambda intermediate_result: curve.append(float(intermediate_result.fun)),
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": float(tol)},
    )
    unflatten(result.x)
    losses = np.asarray(curve or [float(result.fun)])
    extra = {"status": int(result.status), "message": str(result.message), "n_fun": result.nfev}
    return History(losses, int(result.nit), time.perf_counter() - start, extra)

