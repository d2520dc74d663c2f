"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` backed by mlplab.

Switching from scikit-learn is a one-line import change::

    from mlplab.sklearn import MLPClassifier  # was: from sklearn.neural_network import ...

The constructor parameters carry scikit-learn's names and meanings; ``fit``,
``partial_fit``, ``predict``, ``predict_proba``, ``score`` and the fitted attributes
(``loss_curve_``, ``n_iter_``, ``t_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_``, ``classes_``, ``coefs_``, ``intercepts_``, ``n_layers_``,
``n_outputs_``, ``out_activation_``, ``n_features_in_``, ``feature_names_in_``) behave as
scikit-learn 1.9's: ``sample_weight``, multilabel targets, ``warm_start`` (with its
class check), ``partial_fit`` (with ``classes=``), ``loss="poisson"``, float32 kept as
float32, the stratified early-stopping split, ``n_iter_no_change`` counted as
scikit-learn counts it (``mlplab.train.stopping.NoImprovement``) and its
``ConvergenceWarning``. The weights start as scikit-learn's do, drawn from the same
``random_state`` stream. Differences, each on purpose (``docs/sklearn.md`` lists them
with what was measured):

- ``standardize`` (not in scikit-learn) defaults to ``True``: the network scales its
  inputs to mean 0 and standard deviation 1 per column (weighted by ``sample_weight``),
  learnt on the training rows of the first fit and applied by ``predict``
  (``net_.input_scaler``), as scikit-learn's documentation advises doing with a
  ``StandardScaler`` (so the L-BFGS ``ConvergenceWarning`` leaves out that advice). ``coefs_`` and
  ``intercepts_`` keep scikit-learn's meaning, weights on the raw inputs: the scaler is
  folded into the first layer's (copies, not the network's own arrays).
  ``standardize=False`` trains on the inputs as given, exactly as scikit-learn does.
- ``engine`` (not in scikit-learn), default ``"numpy"``: where the sgd and adam epochs
  run; ``"jax"`` compiles them (``mlplab.engines``; ``pip install 'mlplab[jax]'``), with
  the same results to rounding. L-BFGS always runs on NumPy.
- ``init`` (not in scikit-learn) defaults to ``"sklearn"``, scikit-learn's start; any
  name from ``mlplab.INITS`` draws the weights that way and zero biases.
- ``dtype`` (not in scikit-learn), default ``None``: the input's (float32 stays
  float32, anything else float64); ``"float32"`` or ``"float64"`` forces one. With
  ``solver="lbfgs"`` float32 stays float32 too (scikit-learn returns float64 there).
- ``activation`` also takes mlplab's ``"leaky_relu"``, ``"softplus"`` and ``"sigmoid"``;
  ``solver`` also ``"momentum"`` and ``"nesterov"`` (``"sgd"`` with momentum).
- Mini-batches are drawn from a NumPy ``Generator`` seeded from ``random_state``, not
  scikit-learn's ``shuffle``: the same start and the same split, a different batch order,
  so stochastic runs agree with scikit-learn's in distribution, not to the bit.
  ``solver="lbfgs"`` with ``standardize=False`` follows scikit-learn's path to 1e-8.
- The L2 term is ``alpha / (2 * batch_size)`` for every batch (scikit-learn divides by
  each batch's own size, so its last, shorter batch differs); with ``sample_weight`` it
  is divided by the batch size times the mean weight, and an epoch's loss averages the
  batches by weight (scikit-learn: by rows).
- ``solver="lbfgs"`` records ``loss_curve_`` (the objective after each iteration),
  which scikit-learn leaves unset; ``partial_fit`` is refused for it on the regressor
  too (scikit-learn 1.9's regressor runs a full L-BFGS fit there).
- ``loss="poisson"`` refuses negative targets (scikit-learn trains on to a NaN loss).
- A diverging run without early stopping raises ``DivergedError`` (a ``ValueError``
  and mlplab's ``TrainingDivergedError``) at the first non-finite loss, naming the
  epoch and the largest input; scikit-learn trains on to ``max_iter`` and then raises a
  ``ValueError``. With early stopping both end at ``max_iter`` with NaN validation
  scores and the best weights.
- As scikit-learn 1.9's code does, only one-output (binary) targets get a stratified
  early-stopping split (its documentation says every target but multilabel).
- ``check_estimator``'s sample-weight equivalence check fails for the stochastic solvers
  and its multilabel ``predict_proba`` check for L-BFGS, as for scikit-learn's own MLPs.
- Sparse input (``scipy.sparse`` CSR/CSC): ``predict``, ``predict_proba`` and ``score``
  make ``PREDICT_ROWS`` rows dense at a time; ``fit`` and ``partial_fit`` with sgd or adam
  make one mini-batch dense at a time (the input scaler's moments come from the stored
  values); ``solver="lbfgs"``, whose one batch is every row, makes them dense once.

This module imports scikit-learn; ``import mlplab`` does not import it.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from mlplab.errors import TrainingDivergedError
from mlplab.nn.network import MLP
from mlplab.nn.scaling import InputScaler, folded_params
from mlplab.nn.targets import predicted_class
from mlplab.train.history import History
from mlplab.train.lbfgs import minimize_lbfgs
from mlplab.train.regularization import L2
from mlplab.train.schedules import Adaptive
from mlplab.train.stopping import NoImprovement

__all__ = ["DivergedError", "MLPClassifier", "MLPRegressor"]

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
_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity", "exp": "exp"}
_SOLVERS = ("adam", "sgd", "momentum", "nesterov", "lbfgs")
_STOCHASTIC = ("adam", "sgd", "momentum", "nesterov")
_SGD_FAMILY = ("sgd", "momentum", "nesterov")
_CONVERGENCE = (
    "Stochastic Optimizer: Maximum iterations ({}) reached and the optimization hasn't "
    "converged yet."
)


class DivergedError(TrainingDivergedError, ValueError):
    """The loss became NaN or infinite: a ``ValueError`` (as scikit-learn raises) and
    mlplab's ``TrainingDivergedError`` (with ``epoch`` and the ``history`` so far)."""


def _sklearn_init(net: MLP, rs: np.random.RandomState, activation: str) -> None:
    """scikit-learn's start, from its stream: per layer ``W`` then ``b``, each
    U(-a, a) with a = sqrt(f / (fan_in + fan_out)), f = 2 for the logistic and 6 otherwise."""
    factor = 2.0 if activation == "sigmoid" else 6.0
    for p in net.params:
        fan_in, fan_out = p["W"].shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        p["W"][...] = rs.uniform(-bound, bound, (fan_in, fan_out))
        p["b"][...] = rs.uniform(-bound, bound, fan_out)


class _InvScaling:
    """scikit-learn's ``invscaling``: ``lr = lr_init / (t + 1) ** power_t`` with ``t`` the
    samples seen before the epoch, counted across calls (``t_``)."""

    def __init__(self, lr_init: float, power_t: float, n: int, t_start: int) -> None:
        self.lr_init, self.power_t, self.n, self.t_start = lr_init, power_t, n, t_start

    def __call__(self, epoch: int, lr0: float) -> float:
        return self.lr_init / (self.t_start + epoch * self.n + 1) ** self.power_t


def _print_loss(epoch: int, logs: dict) -> None:
    """``verbose=True``: scikit-learn's line per epoch (a shell prints; the library never)."""
    print(f"Iteration {epoch + 1}, loss = {float(logs['loss']):.8f}")


def _check_weights(sample_weight: Any, n: int, dtype: Any) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=dtype)
    if w.ndim == 0:
        w = np.full(n, w, dtype=dtype)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n},): one per sample")
    if n and not np.any(w):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w


def _fit_scaler(X: np.ndarray, w: np.ndarray | None) -> InputScaler:
    """The input scaler of ``standardize``: each column's (weighted) mean and deviation."""
    with np.errstate(over="ignore", invalid="ignore"):
        if issparse(X):  # moments from the stored values, never a dense copy
            weights = np.ones(X.shape[0]) if w is None else w.astype(np.float64)
            total = weights.sum()
            mean = np.asarray(weights @ X, dtype=np.float64).ravel() / total
            square = np.asarray(weights @ X.multiply(X), dtype=np.float64).ravel() / total
            scale = np.sqrt(np.maximum(square - mean * mean, 0.0))
        elif w is None:
            mean, scale = X.mean(axis=0, dtype=np.float64), X.std(axis=0, dtype=np.float64)
        else:
            mean = np.average(X, axis=0, weights=w.astype(np.float64))
            scale = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w.astype(np.float64)))
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        biggest = _dense_row(abs(X).max(axis=0))
        column = int(biggest.argmax())
        raise ValueError(
            f"the inputs are too large to standardize: up to {biggest[column]:.3g} in absolute "
            f"value (column {column}); rescale them first"
        )
    scale[~(scale > 0)] = 1.0
    return InputScaler(mean, scale)


def _dense_row(a: Any) -> np.ndarray:
    """A 1-D array of a column reduction, sparse (a 1 x n matrix) or dense."""
    return np.asarray(a.toarray() if issparse(a) else a).ravel()


def _predict_rows(net: MLP, X: Any) -> np.ndarray:
    """``net.predict(X)``; sparse rows are made dense ``PREDICT_ROWS`` at a time."""
    if not issparse(X):
        return net.predict(X.astype(net.dtype, copy=False))
    X = X.tocsr()
    parts = [net.predict(X[lo : lo + PREDICT_ROWS].toarray().astype(net.dtype))
             for lo in range(0, X.shape[0], PREDICT_ROWS)]  # fmt: skip
    return np.concatenate(parts) if parts else net.predict(X.toarray())


PREDICT_ROWS = 1024  # sparse rows made dense at a time by predict
HUGE_INPUT = 1e10  # inputs beyond this are named when training diverges


def _divergence_message(e: TrainingDivergedError, X: np.ndarray) -> str:
    """mlplab's message, naming the largest input when it is huge."""
    biggest = np.abs(X).max(axis=0) if X.size else np.zeros(1)
    column = int(biggest.argmax())
    if not biggest[column] > HUGE_INPUT:
        return str(e)
    return (
        f"{e} The inputs reach {biggest[column]:.3g} in absolute value (column {column}): "
        "too large; rescale them first."
    )


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
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        init: str = "sklearn",
        dtype: str | None = None,
        standardize: bool = True,
        engine: str = "numpy",
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
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dtype = dtype
        self.standardize = standardize
        self.engine = engine

    # --- settings --------------------------------------------------------------------

    def _hidden(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, int | np.integer) else list(sizes)
        if not all(isinstance(s, int | np.integer) and s > 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}"
            )
        return [int(s) for s in sizes]

    def _check_settings(self) -> None:
        """Refuse a setting out of range with a one-line ``ValueError`` naming it."""
        self._hidden()
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation {self.activation!r} is not supported; expected one of: "
                f"{', '.join(_ACTIVATIONS)}"
            )
        if self.solver not in _SOLVERS:
            raise ValueError(
                f"solver {self.solver!r} is not supported; expected one of: {', '.join(_SOLVERS)}"
            )
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(
                f"learning_rate {self.learning_rate!r} is not supported; expected 'constant', "
                "'invscaling' or 'adaptive'"
            )
        for name in ("max_iter", "max_fun"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        patience = self.n_iter_no_change
        if not (patience == np.inf or (isinstance(patience, int | np.integer) and patience >= 1)):
            raise ValueError(
                f"n_iter_no_change must be a positive integer or inf, got {patience!r}"
            )
        for name in ("tol", "alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if self.early_stopping and not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )
        if not isinstance(self.standardize, bool | np.bool_):
            raise ValueError(f"standardize must be True or False, got {self.standardize!r}")
        try:
            known = self.dtype is None or np.dtype(self.dtype) in (np.float32, np.float64)
        except TypeError:
            known = False
        if not known:
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")

    def _new_optimizer(self) -> Any:
        from mlplab.train.optimizers import SGD, Adam, Momentum, Nesterov

        lr = self.learning_rate_init
        if self.solver == "adam":
            return Adam(lr, self.beta_1, self.beta_2, self.epsilon)
        if self.momentum == 0:
            return SGD(lr)
        if self.solver == "momentum" or (self.solver == "sgd" and not self.nesterovs_momentum):
            return Momentum(lr, self.momentum)
        return Nesterov(lr, self.momentum)

    def _schedule(self, n: int) -> Any:
        if self.solver in _SGD_FAMILY and self.learning_rate == "invscaling":
            return _InvScaling(self.learning_rate_init, self.power_t, n, self.t_)
        return None  # constant, or adaptive (lowered by _on_stall)

    def _batch(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int | np.integer):
            raise ValueError(
                f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {self.batch_size}")
        if self.batch_size > n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=4,
            )
        return min(int(self.batch_size), n)

    def _on_stall(self) -> bool:
        """scikit-learn's ``trigger_stopping``: the adaptive SGD rate falls by 5, else stop."""
        adaptive = self.solver in _SGD_FAMILY and self.learning_rate == "adaptive"
        if adaptive and not self._optimizer_.lower_rate(Adaptive(factor=5.0, min_lr=1e-6)):
            return False  # lowered by 5 (the rate lives in the optimizer)
        if self.verbose:
            watched = "Validation score" if self.early_stopping else "Training loss"
            print(f"{watched} did not improve more than tol={self.tol:f} for "
                  f"{self.n_iter_no_change} consecutive epochs. Stopping.")  # fmt: skip
        return True

    # --- fitting ---------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> _BaseMLP:
        """scikit-learn's ``_fit``: check, start or continue the network, train, record."""
        self._check_settings()
        first_pass = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if self.solver == "lbfgs":
            X = self._dense(X)  # L-BFGS's one batch is every row; mini-batches stay sparse
        T, output, loss = self._targets(y)
        rs = check_random_state(self.random_state)
        if first_pass:
            dtype = np.dtype(self.dtype) if self.dtype is not None else X.dtype
            self.net_ = self._new_network((X.shape[1], *self._hidden(), T.shape[1]),
                                          output, loss, dtype, rs)  # fmt: skip
            self._initialize(T, output)
        else:
            self._check_continues(X, T)
        X = X.astype(self.net_.dtype, copy=False)
        T = T.astype(self.net_.dtype, copy=False)
        w = _check_weights(sample_weight, X.shape[0], self.net_.dtype)
        standardize = first_pass and bool(self.standardize)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, T, w, standardize)
        else:
            self._fit_stochastic(X, T, y, w, rs, incremental, standardize)
        if not all(np.isfinite(v).all() for p in self.net_.params for v in p.values()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                f"large values (up to {abs(X).max():.3g}) and need to be preprocessed."
            )
        return self

    def _new_network(
        self, sizes: tuple[int, ...], output: str, loss: str, dtype: Any, rs: Any
    ) -> MLP:
        activation = _ACTIVATIONS[self.activation]
        init = "glorot" if self.init == "sklearn" else self.init
        seed = None if self.init == "sklearn" else int(rs.randint(2**31 - 1))
        net = MLP(sizes, activation=activation, output_activation=output, loss=loss,
                  reduction="mean", bias=True, init=init, seed=seed, dtype=dtype)  # fmt: skip
        if self.init == "sklearn":
            _sklearn_init(net, rs, activation)
        return net

    def _initialize(self, T: np.ndarray, output: str) -> None:
        """The fitted attributes of a fresh start (scikit-learn's ``_initialize``)."""
        for name in ("best_loss_", "loss_curve_", "validation_scores_", "best_validation_score_",
                     "_optimizer_", "_stopper_", "_stopper_watches_"):  # fmt: skip
            self.__dict__.pop(name, None)
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = T.shape[1]
        self.n_layers_ = len(self.net_.sizes)
        self.out_activation_ = _OUT_NAMES[output]
        if self.solver != "lbfgs":
            self.loss_curve_ = []
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _check_continues(self, X: np.ndarray, T: np.ndarray) -> None:
        sizes = (X.shape[1], *self._hidden(), T.shape[1])
        if tuple(self.net_.sizes) != sizes:
            raise ValueError(
                f"the fitted network has layer sizes {list(self.net_.sizes)} but these "
                f"settings and data need {list(sizes)}; fit with warm_start=False to start anew"
            )

    def _fit_lbfgs(self, X: np.ndarray, T: np.ndarray, w: Any, standardize: bool) -> None:
        """Full-batch L-BFGS-B (``mlplab.train.lbfgs``) with scikit-learn's objective."""
        net = self.net_
        if standardize:
            net.input_scaler = _fit_scaler(X, w)
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
        if history.extra["status"] != 0:
            message = (
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={history.extra['status']}):\n{history.extra['message']}\n"
            )
            if self.n_iter_ == self.max_iter:
                message += (
                    "\nIncrease the number of iterations to improve the convergence "
                    f"(max_iter={self.max_iter})."
                )
            if not net.input_scaler:  # standardize=True has scaled them
                message += (
                    "\nYou might also want to scale the data as shown in:\n"
                    "    https://scikit-learn.org/stable/modules/preprocessing.html"
                )
            warnings.warn(message, ConvergenceWarning, stacklevel=4)

    def _stopper(self, score: Any) -> NoImprovement:
        """The ``n_iter_no_change`` counter, carried over by warm starts and partial fits."""
        stopper = getattr(self, "_stopper_", None)
        watching = "loss" if score is None else "score"
        if stopper is None or getattr(self, "_stopper_watches_", watching) != watching:
            # none yet, or it watched the other thing (early_stopping changed between fits)
            self._stopper_watches_ = watching
            stopper = self._stopper_ = NoImprovement(
                self.n_iter_no_change, float(self.tol), score=score, keep_state=True
            )
        stopper.patience, stopper.tol, stopper.score = self.n_iter_no_change, float(self.tol), score
        stopper.on_stall = self._on_stall
        return stopper

    def _fit_stochastic(
        self, X: np.ndarray, T: np.ndarray, y: Any, w: Any, rs: Any, incremental: bool,
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
            self.net_.input_scaler = _fit_scaler(X, w)
        stopper = self._stopper(score)
        n = X.shape[0]
        batch = self._batch(n)
        epochs = 1 if incremental else int(self.max_iter)
        mean_weight = 1.0 if w is None else float(w.mean())
        try:
            history = self.net_.fit(
                X, T, epochs=epochs, optimizer=self._optimizer_, batch_size=batch,
                shuffle=self.shuffle, schedule=self._schedule(n),
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
        self, e: TrainingDivergedError, X: np.ndarray, stopper: NoImprovement, epochs: int
    ) -> History:
        """scikit-learn's ending: with early stopping, NaN scores to ``max_iter`` and the
        best weights; without, an error."""
        if not self.early_stopping:
            raise DivergedError(_divergence_message(e, X), epoch=e.epoch,
                                history=e.history) from None  # fmt: skip
        stopper.restore()
        missing = epochs - len(e.history.loss)  # the diverged epoch and those after it
        stopper.scores.extend([math.nan] * missing)
        loss = np.concatenate([e.history.loss, np.full(missing, np.nan)])
        return History(loss, epochs, e.history.seconds)

    def _split(self, X: np.ndarray, T: np.ndarray, y: Any, w: Any, rs: Any) -> tuple:
        """scikit-learn's early-stopping split: stratified when there is one output."""
        stratify = T if isinstance(self, ClassifierMixin) and T.shape[1] == 1 else None
        arrays = (X, T, y) if w is None else (X, T, y, w)
        parts = train_test_split(*arrays, random_state=rs,
                                 test_size=self.validation_fraction, stratify=stratify)  # fmt: skip
        if parts[1].shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        Xt, Xv, Tt, _, _, yv = parts[:6]
        wt, wv = (None, None) if w is None else parts[6:8]
        return Xt, Tt, wt, Xv, yv, wv

    def _validation_score(self, net: MLP, Xv: np.ndarray, yv: Any, wv: Any) -> float:
        outputs = _predict_rows(net, Xv)
        finite = np.isfinite(outputs).all()
        score = float(self._score_outputs(outputs, yv, wv)) if finite else math.nan
        if self.verbose:
            print(f"Validation score: {score:f}")
        return score

    def _record(self, history: History, stopper: NoImprovement, n: int, incremental: bool) -> None:
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
            warnings.warn(_CONVERGENCE.format(self.max_iter), ConvergenceWarning, stacklevel=4)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Fit the model to ``X`` and ``y``; ``sample_weight`` weighs each row's loss."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _stochastic(self) -> bool:
        if self.solver not in _STOCHASTIC:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is "
                "not stochastic."
            )
        return True

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
        """The network's outputs; sparse rows are made dense ``PREDICT_ROWS`` at a time."""
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          accept_sparse=["csr", "csc"])  # fmt: skip
        return _predict_rows(self.net_, X)

    def _sparse_rows(self) -> list[str]:
        """Sparse inputs ``fit`` and ``partial_fit`` take (mini-batches made dense one at a
        time by the engine; L-BFGS's one batch is every row)."""
        return ["csr", "csc"]

    @staticmethod
    def _dense(X: Any) -> np.ndarray:
        return X.toarray() if issparse(X) else X

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
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's interface (see the module doc).

    Two classes, and multilabel indicator targets, use sigmoid outputs with binary
    cross-entropy; more classes use softmax with cross-entropy. Losses are averaged over
    each mini-batch.
    """

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32),
                             reset=reset, accept_sparse=self._sparse_rows())  # fmt: skip
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, y

    def _targets(self, y: Any) -> tuple[np.ndarray, str, str]:
        T = self._binarizer.transform(y).astype(np.float64)
        if self._binarizer.y_type_ == "multiclass":
            return T, "softmax", "cross_entropy"
        return T, "sigmoid", "binary_cross_entropy"

    def _labels(self, outputs: np.ndarray) -> np.ndarray:
        """Class labels from the network's outputs (scikit-learn's ``inverse_transform``)."""
        if self._binarizer.y_type_.startswith("multilabel"):
            return self._binarizer.inverse_transform(outputs)  # each output > 0.5
        if len(self.classes_) == 1:
            return np.repeat(self.classes_, len(outputs))
        return self.classes_[predicted_class(outputs).astype(int)]

    def _score_outputs(self, outputs: np.ndarray, y: Any, weight: Any) -> float:
        return accuracy_score(y, self._labels(outputs), sample_weight=weight)

    @available_if(_BaseMLP._stochastic)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``; ``classes`` (every label to expect) on the first call."""
        if _check_partial_fit_first_call(self, classes):
            self._binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._binarizer.fit(y)
            else:
                self._binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        y = self._forward(X)
        if len(self.classes_) == 1 and not self._binarizer.y_type_.startswith("multilabel"):
            return np.ones((len(y), 1), dtype=y.dtype)
        if y.shape[1] == 1:
            return np.hstack([1 - y, y])
        return y

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row (each label above 0.5 for multilabel)."""
        return self._labels(self._forward(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's interface (see the module doc).

    ``loss="squared_error"``: identity output with ``1/2 * mean((y - t)^2)``;
    ``loss="poisson"``: exp output with half the Poisson deviance. Several targets
    (a 2-D ``y``) are fitted at once.
    """

    def __init__(
        self,
        loss: str = "squared_error",
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
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        init: str = "sklearn",
        dtype: str | None = None,
        standardize: bool = True,
        engine: str = "numpy",
    ) -> None:
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init,
            power_t=power_t, max_iter=max_iter, shuffle=shuffle, random_state=random_state,
            tol=tol, verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, init=init,
            dtype=dtype, standardize=standardize, engine=engine,
        )  # fmt: skip
        self.loss = loss

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset,
                             accept_sparse=self._sparse_rows())  # fmt: skip
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _targets(self, y: Any) -> tuple[np.ndarray, str, str]:
        if self.loss not in ("squared_error", "poisson"):
            raise ValueError(
                f"loss {self.loss!r} is not supported; expected 'squared_error' or 'poisson'"
            )
        T = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if self.loss == "squared_error":
            return T, "identity", "squared_error"
        if T.size and T.min() < 0:
            raise ValueError(
                f"loss='poisson' needs non-negative targets y, got a minimum of {T.min():g}"
            )
        return T, "exp", "poisson"

    def _score_outputs(self, outputs: np.ndarray, y: Any, weight: Any) -> float:
        return r2_score(y, outputs[:, 0] if outputs.shape[1] == 1 else outputs,
                        sample_weight=weight)  # fmt: skip

    @available_if(_BaseMLP._stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the fitted weights and optimizer."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        y = self._forward(X)
        return y[:, 0] if y.shape[1] == 1 else y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
