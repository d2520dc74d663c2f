"""What the classifier and the regressor share: the constructor (scikit-learn's
parameters and mlplab's four), the parameter table, ``fit``'s steps, the fitted
attributes scikit-learn shows (``coefs_``, ``intercepts_``), pickling and tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mlplab.nn.network import MLP
from mlplab.nn.scaling import folded_params
from mlplab.sklearn._lbfgs import LbfgsFit
from mlplab.sklearn._network import (
    assign_raw_params,
    network_from_state,
    network_state,
    predict_rows,
    sklearn_init,
)
from mlplab.sklearn._params import ACTIVATIONS, OUT_NAMES, SGD_FAMILY, hidden_sizes
from mlplab.sklearn._params import PARAMETER_CONSTRAINTS as _CONSTRAINTS
from mlplab.sklearn._stochastic import StochasticFit

__all__ = ["BaseMLP"]

STOCHASTIC = ("adam", *SGD_FAMILY)
SPARSE_FORMATS = ["csr", "csc"]  # mini-batches are made dense one at a time by the engine


class BaseMLP(StochasticFit, LbfgsFit, BaseEstimator):
    """Parameters shared by the classifier and the regressor (see ``mlplab.sklearn``)."""

    _parameter_constraints: ClassVar[Mapping[str, list]] = _CONSTRAINTS

    def __init__(  # scikit-learn's parameters (mirrored: more than 10), then mlplab's
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

    # --- fitting ---------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Fit the model to ``X`` and ``y``; ``sample_weight`` weighs each row's loss."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> BaseMLP:
        """scikit-learn's ``_fit``: check, start or continue the network, train, record."""
        hidden = hidden_sizes(self.hidden_layer_sizes)
        first_pass = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if self.solver == "lbfgs" and issparse(X):
            X = X.toarray()  # L-BFGS's one batch is every row; mini-batches stay sparse
        T, output, loss = self._targets(y)
        rs = check_random_state(self.random_state)
        if first_pass:
            dtype = np.dtype(self.dtype) if self.dtype is not None else X.dtype
            self.net_ = self._new_network((X.shape[1], *hidden, T.shape[1]), output, loss,
                                          dtype, rs)  # fmt: skip
            self._initialize(T, output)
        else:
            self._check_continues(X, T, hidden)
        X = X.astype(self.net_.dtype, copy=False)
        T = T.astype(self.net_.dtype, copy=False)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=self.net_.dtype)
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
        activation = ACTIVATIONS[self.activation]
        init = "glorot" if self.init == "sklearn" else self.init
        seed = None if self.init == "sklearn" else int(rs.randint(2**31 - 1))
        net = MLP(sizes, activation=activation, output_activation=output, loss=loss,
                  reduction="mean", bias=True, init=init, seed=seed, dtype=dtype)  # fmt: skip
        if self.init == "sklearn":
            sklearn_init(net, rs, activation)
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
        self.out_activation_ = OUT_NAMES[output]
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

    def _check_continues(self, X: np.ndarray, T: np.ndarray, hidden: list[int]) -> None:
        sizes = (X.shape[1], *hidden, T.shape[1])
        if tuple(self.net_.sizes) != sizes:
            raise ValueError(
                f"the fitted network has layer sizes {list(self.net_.sizes)} but these "
                f"settings and data need {list(sizes)}; fit with warm_start=False to start anew"
            )

    def _stochastic(self) -> bool:
        """Whether ``partial_fit`` is offered (scikit-learn's ``_check_solver``)."""
        if self.solver not in STOCHASTIC:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is "
                "not stochastic."
            )
        return True

    # --- fitted attributes, as scikit-learn's -------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices ``(fan_in, fan_out)``, layer by layer, the first on the raw inputs.

        With ``standardize`` the first is ``W / scale[:, None]`` (the scaler folded in, a
        copy: to change it, assign the list, ``clf.coefs_ = coefs``, as scikit-learn lets).
        """
        check_is_fitted(self, "net_")
        return [p["W"] for p in folded_params(self.net_)]

    @coefs_.setter
    def coefs_(self, coefs: list[np.ndarray]) -> None:
        check_is_fitted(self, "net_")
        assign_raw_params(self.net_, "W", coefs)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, layer by layer; the first with the scaler folded in, ``b - (m/s) @ W``
        (assignable, as ``coefs_``)."""
        check_is_fitted(self, "net_")
        return [p["b"] for p in folded_params(self.net_)]

    @intercepts_.setter
    def intercepts_(self, intercepts: list[np.ndarray]) -> None:
        check_is_fitted(self, "net_")
        assign_raw_params(self.net_, "b", intercepts)

    def _forward(self, X: Any) -> np.ndarray:
        """The network's outputs; sparse rows are made dense ``PREDICT_ROWS`` at a time."""
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          accept_sparse=SPARSE_FORMATS)  # fmt: skip
        return predict_rows(self.net_, X)

    def __getstate__(self) -> dict[str, Any]:
        # The network holds activation objects (functions), so it travels as its
        # config and weights and is rebuilt on unpickling.
        state = dict(super().__getstate__())  # a copy: never strip the live object
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = network_state(net)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        if net_state is not None:
            self.net_ = network_from_state(net_state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.sparse = True
        return tags
