"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` backed by mlplab.

Switching from scikit-learn is a one-line import change::

    from mlplab.sklearn import MLPClassifier  # was: from sklearn.neural_network import ...

The constructor parameters carry scikit-learn's names and meanings, and the
fitted attributes are scikit-learn's (``loss_curve_``, ``n_iter_``, ``classes_``,
``coefs_``, ``intercepts_``, ...). Differences, each on purpose:

- ``init`` (not in scikit-learn) defaults to ``"sklearn"``, scikit-learn's own start:
  weights and biases uniform in +-sqrt(6 / (fan_in + fan_out)) (2 instead of 6 for
  the logistic activation). Any name from ``mlplab.INITS`` draws the weights that
  way and zero biases; ``"glorot"`` is Keras's start. Measured with
  ``benchmarks/accuracy.py``: the same on digits within seed noise, but zero
  biases lose about 10 points on the 2-D spiral, so the default draws them.
- ``solver`` is ``"adam"``, ``"sgd"`` (with ``momentum`` and
  ``nesterovs_momentum`` as scikit-learn's), ``"lbfgs"`` (SciPy's L-BFGS-B on the
  flattened parameters with the network's own gradients; ``max_iter``, ``max_fun``
  and ``tol`` as scikit-learn's; ``loss_curve_`` holds the loss after each
  iteration, which scikit-learn leaves unset) or mlplab's names ``"momentum"`` and
  ``"nesterov"``. ``learning_rate`` is ``"constant"``,
  ``"invscaling"`` (``lr = learning_rate_init / (1 + epoch) ** power_t``, per
  epoch rather than per sample) or ``"adaptive"`` (scikit-learn's: the rate is
  divided by 5 each time the training loss fails to improve by ``tol`` for more
  than ``n_iter_no_change`` epochs, and training stops when a stall finds it at
  1e-6 or below; ``mlplab.train.schedules.Adaptive``). With ``early_stopping=True`` the
  adaptive rate still watches the training loss (scikit-learn: the validation score).
- ``standardize`` (not in scikit-learn) defaults to ``True``: the network scales
  its inputs to mean 0 and standard deviation 1 per column, learnt on the training
  rows and applied by ``predict`` (``net_.input_scaler``), as scikit-learn's own
  documentation advises doing with a ``StandardScaler`` in front of its MLPs.
  ``coefs_`` and ``intercepts_`` keep scikit-learn's meaning, weights on the raw
  inputs: the scaler is folded into the first layer's (they are copies, not the
  network's own arrays). ``standardize=False`` trains on the inputs as given.
- ``early_stopping=True`` watches the validation *loss* (scikit-learn: the
  validation accuracy or R^2) and restores the best weights.
- ``dtype="float32"`` trains in single precision end to end.
- ``warm_start=True`` continues from the fitted weights with a fresh optimizer
  (scikit-learn keeps its optimizer's state).
- No ``ConvergenceWarning``: ``n_iter_ == max_iter`` says the same thing.

This module imports scikit-learn; ``import mlplab`` does not import it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from mlplab.nn.network import MLP
from mlplab.nn.scaling import InputScaler, folded_params
from mlplab.train.fit import History
from mlplab.train.schedules import Adaptive, InverseTime
from mlplab.train.stopping import EarlyStopping

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn's activation names, and mlplab's own, to mlplab's
_ACTIVATIONS = {
    "identity": "identity",
    "logistic": "sigmoid",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "softplus": "softplus",
}
_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
_SOLVERS = ("adam", "sgd", "momentum", "nesterov", "lbfgs")


def _sklearn_init(net: MLP, seed: int, activation: str) -> None:
    """scikit-learn's start: weights and biases U(-a, a), a = sqrt(f / (fan_in + fan_out)),
    f = 2 for the logistic activation and 6 otherwise."""
    rng = np.random.default_rng(seed)
    factor = 2.0 if activation == "sigmoid" else 6.0
    for p in net.params:
        fan_in, fan_out = p["W"].shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        p["W"][...] = rng.uniform(-bound, bound, p["W"].shape)
        p["b"][...] = rng.uniform(-bound, bound, p["b"].shape)


def _minimize_lbfgs(
    net: MLP,
    X: np.ndarray,
    T: np.ndarray,
    *,
    alpha: float,
    max_iter: int,
    max_fun: int,
    tol: float,
    standardize: bool,
) -> History:
    """Minimise the network's mean loss plus ``alpha / (2 n) * sum ||W||^2`` with L-BFGS-B.

    ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` on every parameter,
    flattened; the loss and gradient are the network's own forward and backward
    pass over all ``n`` rows (the L2 term is scikit-learn's). ``max_iter``,
    ``max_fun`` and ``tol`` (the projected-gradient tolerance) are scikit-learn's.
    The history holds the loss after each iteration.
    """
    from scipy.optimize import minimize

    if standardize:
        net.input_scaler = InputScaler.fit(X)
    X, T = net.check_data(X, T)  # scaled once, here
    values = [v for p in net.params for v in p.values()]
    grads = [v for g in net.grads for v in g.values()]
    decayed = [name == "W" for p in net.params for name in p]
    penalty = alpha / len(X)

    def unflatten(theta: np.ndarray) -> None:
        start = 0
        for v in values:
            v[...] = theta[start : start + v.size].reshape(v.shape)
            start += v.size

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        unflatten(theta)
        with np.errstate(over="ignore"):
            loss = float(net.loss_and_backward(X, T))
        parts = []
        for v, g, decay in zip(values, grads, decayed, strict=True):
            if decay:
                loss += 0.5 * penalty * float(np.vdot(v, v))
                g = g + penalty * v
            parts.append(g.ravel())
        return loss, np.concatenate(parts).astype(np.float64)

    curve: list[float] = []
    start = time.perf_counter()
    result = minimize(
        loss_and_gradient,
        np.concatenate([v.ravel() for v in values]).astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=lambda intermediate_result: curve.append(float(intermediate_result.fun)),
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    unflatten(result.x)
    losses = np.asarray(curve or [float(result.fun)])
    return History(losses, int(result.nit), time.perf_counter() - start)


def _print_loss(epoch: int, logs: dict) -> None:
    """``verbose=True``: scikit-learn's line per epoch (a shell prints; the library never)."""
    print(f"Iteration {epoch + 1}, loss = {float(logs['loss']):.8f}")


class _BaseMLP(BaseEstimator):
    """Parameters shared by the classifier and the regressor (see the module docstring)."""

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] | int = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        verbose: bool = False,
        warm_start: bool = False,
        init: str = "sklearn",
        dtype: str = "float64",
        standardize: bool = True,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.verbose = verbose
        self.warm_start = warm_start
        self.init = init
        self.dtype = dtype
        self.standardize = standardize

    # --- settings into mlplab objects ----------------------------------------------

    def _hidden(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, int | np.integer) else list(sizes)
        if not all(isinstance(s, int | np.integer) and s > 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}"
            )
        return [int(s) for s in sizes]

    def _hidden_activation(self) -> str:
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation {self.activation!r} is not supported; expected one of: "
                f"{', '.join(_ACTIVATIONS)}"
            )
        return _ACTIVATIONS[self.activation]

    def _optimizer(self) -> Any:
        from mlplab.train.optimizers import SGD, Adam, Momentum, Nesterov

        lr = self.learning_rate_init
        if self.solver == "adam":
            return Adam(lr, self.beta_1, self.beta_2, self.epsilon)
        if self.solver == "momentum" or (self.solver == "sgd" and not self.nesterovs_momentum):
            return Momentum(lr, self.momentum) if self.momentum > 0 else SGD(lr)
        if self.solver in ("sgd", "nesterov"):
            return Nesterov(lr, self.momentum) if self.momentum > 0 else SGD(lr)
        raise ValueError(
            f"solver {self.solver!r} is not supported; expected one of: {', '.join(_SOLVERS)}"
        )

    def _schedule(self) -> Any:
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(
                f"learning_rate {self.learning_rate!r} is not supported; expected 'constant', "
                "'invscaling' or 'adaptive'"
            )
        if self.learning_rate == "constant" or self.solver == "adam":
            return None
        if self.learning_rate == "invscaling":
            return InverseTime(decay=1.0, power=self.power_t)
        return Adaptive(tol=float(self.tol), patience=int(self.n_iter_no_change))

    def _batch(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int | np.integer):
            raise ValueError(
                f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {self.batch_size}")
        return min(int(self.batch_size), n)

    def _fit_network(self, X: np.ndarray, T: np.ndarray, output: str, loss: str) -> None:
        """Build ``self.net_`` and train it on inputs ``X`` and 2-D targets ``T``."""
        if not (isinstance(self.max_iter, int | np.integer) and self.max_iter > 0):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        activation = self._hidden_activation()
        init = "glorot" if self.init == "sklearn" else self.init
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        sizes = (X.shape[1], *self._hidden(), T.shape[1])
        previous = getattr(self, "net_", None)
        if self.warm_start and previous is not None and previous.sizes == sizes:
            # the weights were learnt on the inputs as the fitted scaler maps them: keep it
            return self._train(previous, X, T, seed, output, standardize=False)
        net = MLP(
            sizes,
            activation=activation,
            output_activation=output,
            loss=loss,
            reduction="mean",
            bias=True,
            init=init,
            seed=seed,
            dtype=self.dtype,
        )
        if self.init == "sklearn":
            _sklearn_init(net, seed, activation)
        if not isinstance(self.standardize, bool | np.bool_):
            raise ValueError(f"standardize must be True or False, got {self.standardize!r}")
        self._train(net, X, T, seed, output, standardize=bool(self.standardize))

    def _train(
        self, net: MLP, X: np.ndarray, T: np.ndarray, seed: int, output: str, *, standardize: bool
    ) -> None:
        """Train ``net`` with this estimator's settings and record the fitted attributes."""
        self.net_ = net
        if self.solver == "lbfgs":
            history = self._fit_lbfgs(net, X, T, standardize=standardize)
        else:
            history = self._fit_stochastic(net, X, T, seed, standardize=standardize)
        self._record(history, X, T, output)

    def _fit_lbfgs(self, net: MLP, X: np.ndarray, T: np.ndarray, *, standardize: bool) -> History:
        """Full-batch L-BFGS-B (SciPy) on the flattened parameters, scikit-learn's settings."""
        for name in ("max_fun", "max_iter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        return _minimize_lbfgs(
            net,
            X,
            T,
            alpha=float(self.alpha),
            max_iter=int(self.max_iter),
            max_fun=int(self.max_fun),
            tol=float(self.tol),
            standardize=standardize,
        )

    def _fit_stochastic(
        self, net: MLP, X: np.ndarray, T: np.ndarray, seed: int, *, standardize: bool
    ) -> History:
        """Mini-batch training through ``MLP.fit`` with this estimator's optimizer and rules."""
        batch = self._batch(len(X))
        validation = None
        schedule = self._schedule()
        if self.early_stopping:
            validation = float(self.validation_fraction)
            stopper = EarlyStopping(self.n_iter_no_change, self.tol, "val_loss", restore_best=True)
        elif isinstance(schedule, Adaptive):
            stopper = None  # a stalled loss lowers the rate; Adaptive stops when it cannot
        else:
            stopper = EarlyStopping(self.n_iter_no_change, self.tol, "loss", restore_best=False)
        return net.fit(
            X,
            T,
            epochs=int(self.max_iter),
            optimizer=self._optimizer(),
            batch_size=batch,
            shuffle=self.shuffle,
            validation=validation,
            early_stopping=stopper,
            schedule=schedule,
            weight_decay=self.alpha / batch,  # scikit-learn's alpha / batch size per step
            seed=seed,
            callbacks=[_print_loss] if self.verbose else [],
            standardize=standardize,
        )

    def _record(self, history: History, X: np.ndarray, T: np.ndarray, output: str) -> None:
        """scikit-learn's fitted attributes from a training ``history``."""
        self.history_ = history
        self.loss_curve_ = [float(v) for v in history.loss]
        self.n_iter_ = history.epochs
        stochastic = self.solver != "lbfgs"
        self.best_loss_ = min(self.loss_curve_) if stochastic and not self.early_stopping else None
        self.loss_ = self.loss_curve_[-1]
        self.t_ = self.n_iter_ * len(X)
        if history.val_loss is not None:
            scores = history.val_accuracy if history.val_accuracy is not None else -history.val_loss
            self.validation_scores_ = [float(v) for v in scores]
            self.best_validation_score_ = max(self.validation_scores_)
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self.n_layers_ = len(self.net_.sizes)
        self.n_outputs_ = T.shape[1]
        self.out_activation_ = _OUT_NAMES[output]

    # --- fitted attributes, as scikit-learn's -------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices ``(fan_in, fan_out)``, layer by layer, the first on the raw inputs.

        With ``standardize`` the first is ``W / scale[:, None]`` (the scaler folded in).
        """
        check_is_fitted(self, "net_")
        return [p["W"] for p in folded_params(self.net_)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, layer by layer; the first with the scaler folded in, ``b - (m/s) @ W``."""
        check_is_fitted(self, "net_")
        return [p["b"] for p in folded_params(self.net_)]

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.net_.predict(X.astype(self.net_.dtype, copy=False))

    def __getstate__(self) -> dict[str, Any]:
        # The network holds activation objects (functions), so it travels as its
        # config and weights and is rebuilt on unpickling.
        state = dict(super().__getstate__())  # a copy: never strip the live object
        net = state.pop("net_", None)
        if net is not None:
            scaler = net.input_scaler
            scaler_state = None if scaler is None else (scaler.mean.copy(), scaler.scale.copy())
            state["_net_state"] = (net.config(), [dict(p) for p in net.params], scaler_state)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        if net_state is not None:
            config, params, scaler_state = net_state
            self.net_ = MLP(**config)
            for mine, saved in zip(self.net_.params, params, strict=True):
                for name, value in saved.items():
                    mine[name][...] = value
            if scaler_state is not None:
                self.net_.input_scaler = InputScaler(*scaler_state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's interface (see the module doc).

    Two classes use one sigmoid output with binary cross-entropy; more use
    softmax with cross-entropy. Losses are averaged over each mini-batch.
    """

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self._binarizer = LabelBinarizer().fit(y)
        self.classes_ = self._binarizer.classes_
        codes = np.searchsorted(self.classes_, y)
        if len(self.classes_) <= 2:
            T = (codes == 1).astype(float)[:, None]
            output, loss = "sigmoid", "binary_cross_entropy"
        else:
            T = np.eye(len(self.classes_))[codes]
            output, loss = "softmax", "cross_entropy"
        self._fit_network(X, T, output, loss)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        y = self._forward(X)
        if len(self.classes_) == 1:
            return np.ones((len(y), 1))
        if y.shape[1] == 1:
            return np.hstack([1 - y, y])
        return y

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        y = self._forward(X)
        if len(self.classes_) == 1:
            return np.repeat(self.classes_, len(y))
        codes = (y[:, 0] > 0.5).astype(int) if y.shape[1] == 1 else y.argmax(axis=1)
        return self.classes_[codes]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's interface (see the module doc).

    Identity output with the squared error ``1/2 * mean((y - t)^2)``; several
    targets (a 2-D ``y``) are fitted at once.
    """

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True
        )
        self._single_target = y.ndim == 1
        T = y[:, None] if y.ndim == 1 else y
        self._fit_network(X, T.astype(float), "identity", "squared_error")
        return self

    def predict(self, X: Any) -> np.ndarray:
        y = self._forward(X)
        return y[:, 0] if self._single_target else y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
