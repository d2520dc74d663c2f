"""``MLPRegressor``: numeric targets, the squared-error or Poisson loss, ``r2_score``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from mlplab.sklearn._base import SPARSE_FORMATS, BaseMLP

__all__ = ["MLPRegressor"]


def _with_loss_first(init: Any) -> inspect.Signature:
    """``BaseMLP.__init__``'s signature with scikit-learn's leading ``loss`` parameter."""
    signature = inspect.signature(init)
    self, *rest = signature.parameters.values()
    loss = inspect.Parameter("loss", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             default="squared_error", annotation="str")  # fmt: skip
    return signature.replace(parameters=[self, loss, *rest])


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's interface (see ``mlplab.sklearn``).

    ``MLPRegressor(loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
    ...)``: ``loss`` first, as scikit-learn's, then ``MLPClassifier``'s parameters.
    ``loss="squared_error"``: identity output with ``1/2 * mean((y - t)^2)``;
    ``loss="poisson"``: exp output with half the Poisson deviance. Several targets
    (a 2-D ``y``) are fitted at once.
    """

    _parameter_constraints: ClassVar[Mapping[str, list]] = MappingProxyType(
        {**BaseMLP._parameter_constraints, "loss": [StrOptions({"squared_error", "poisson"})]}
    )

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: tuple[int, ...] | int = (100,),
        activation: str = "relu",
        **params: Any,
    ) -> None:
        super().__init__(hidden_layer_sizes, activation, **params)
        self.loss = loss

    # what scikit-learn (get_params, clone) and help() read: every parameter, by name
    __init__.__signature__ = _with_loss_first(BaseMLP.__init__)  # type: ignore[attr-defined]

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset,
                             accept_sparse=SPARSE_FORMATS)  # fmt: skip
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _targets(self, y: Any) -> tuple[np.ndarray, str, str]:
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

    @available_if(BaseMLP._stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the fitted weights and optimizer."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs: one column per target (a 1-D array for one)."""
        y = self._forward(X)
        return y[:, 0] if y.shape[1] == 1 else y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
