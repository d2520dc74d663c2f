"""Targets and classes: class labels as one-hot rows, and the class a network's output predicts.

One rule for the predicted class, used everywhere (training accuracy, the CLI's tables,
the solve watch, plots, scikit-learn's ``predict``): the largest of several outputs, or
``y > 0.5`` for a single output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import DataError

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

Array = np.ndarray

__all__ = ["accuracy", "as_targets", "correct", "predicted_class"]


def predicted_class(y: Array) -> Array:
    """The class each row of outputs ``y`` (``(..., n, outputs)``) predicts, as integers.

    Several outputs: the index of the largest. One output: 1 where ``y > 0.5``, else 0.
    """
    y = np.asarray(y)
    return y.argmax(axis=-1) if y.shape[-1] > 1 else (y[..., 0] > 0.5).astype(np.int64)


def correct(y: Array, t: Array) -> Array:
    """Whether each row's predicted class is the target's (``(..., n)`` booleans)."""
    return predicted_class(y) == predicted_class(t)


def accuracy(y: Array, t: Array) -> float | Array:
    """The share of rows whose predicted class is the target's (one per network for a stack)."""
    share = correct(y, t).mean(axis=-1)
    return float(share) if np.ndim(share) == 0 else share


def as_targets(net: MLP, T: Any) -> Any:
    """Integer class labels ``(n,)`` as one-hot rows when the network has several outputs.

    Anything else is returned unchanged for ``MLP.check_data`` to check.
    """
    n_out = net.sizes[-1]
    arr = np.asarray(T)
    if n_out == 1 or arr.ndim != 1 or arr.dtype.kind not in "iub":
        if (
            arr.ndim == 1
            and n_out > 1
            and arr.dtype.kind == "f"
            and len(arr)
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            arr = arr.astype(np.int64)  # whole numbers stored as floats: labels too
        else:
            return T
    labels = arr.astype(np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() >= n_out):
        raise DataError(
            f"class labels must be integers in [0, {n_out}) for a network with {n_out} "
            f"outputs, got values from {labels.min()} to {labels.max()}"
        )
    T = np.zeros((len(labels), n_out), dtype=net.dtype)
    T[np.arange(len(labels)), labels] = 1
    return T
