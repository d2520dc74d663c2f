"""``MLPClassifier``: the labels, their binarised targets and the class outputs."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import validate_data

from mlplab.nn.targets import predicted_class
from mlplab.sklearn._base import SPARSE_FORMATS, BaseMLP

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's interface (see ``mlplab.sklearn``).

    Two classes, and multilabel indicator targets, use sigmoid outputs with binary
    cross-entropy; more classes use softmax with cross-entropy. Losses are averaged over
    each mini-batch.
    """

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32),
                             reset=reset, accept_sparse=SPARSE_FORMATS)  # fmt: skip
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._binarizer.classes_
        else:
            self._check_same_classes(unique_labels(y))
        return X, y

    def _check_same_classes(self, classes: np.ndarray) -> None:
        """scikit-learn's refusals of other classes in a warm start or a partial fit."""
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

    def _targets(self, y: Any) -> tuple[np.ndarray, str, str]:
        T = self._binarizer.transform(y).astype(np.float64)
        if self._binarizer.y_type_ == "multiclass":
            return T, "softmax", "cross_entropy"
        return T, "sigmoid", "binary_cross_entropy"

    def _stratify_by(self, y: Any, T: np.ndarray) -> Any:
        """One output: the labels as given (so a split's error names them, ``True``)."""
        return y if T.shape[1] == 1 else None

    def _labels(self, outputs: np.ndarray) -> np.ndarray:
        """Class labels from the network's outputs (scikit-learn's ``inverse_transform``)."""
        if self._binarizer.y_type_.startswith("multilabel"):
            return self._binarizer.inverse_transform(outputs)  # each output > 0.5
        if len(self.classes_) == 1:
            return np.repeat(self.classes_, len(outputs))
        return self.classes_[predicted_class(outputs).astype(int)]

    def _score_outputs(self, outputs: np.ndarray, y: Any, weight: Any) -> float:
        return accuracy_score(y, self._labels(outputs), sample_weight=weight)

    @available_if(BaseMLP._stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
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
        """The logarithm of ``predict_proba`` (``-inf`` where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row (each label above 0.5 for multilabel)."""
        return self._labels(self._forward(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
