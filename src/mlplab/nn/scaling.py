"""Input standardisation owned by a model: ``(X - mean) / scale`` per input column.

``InputScaler.fit`` learns each column's mean and standard deviation (a constant
column keeps scale 1). An ``MLP`` holding one in ``net.input_scaler`` applies it
to every input it is given (``predict``, ``forward``, ``evaluate``, ``gradients``,
``fit``), once per call; ``net.fit(..., standardize=True)`` fits it on the
training rows. Model files keep it as two float64 tensors beside the weights.

``fold`` (and ``folded_params``, for a whole network) moves the scaler into the
first layer, for exporters and reports that know only layers::

    ((X - m) / s) @ W + b  ==  X @ (W / s[:, None]) + (b - (m / s) @ W)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import is_sparse
from mlplab.errors import DataError

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

Array = np.ndarray

__all__ = ["InputScaler", "fold", "folded_params"]


@dataclass(frozen=True, eq=False)
class InputScaler:
    """``(X - mean) / scale`` per column; ``mean`` and ``scale`` are read-only float64 arrays."""

    mean: Array
    scale: Array

    def __post_init__(self) -> None:
        mean = np.array(self.mean, dtype=np.float64)
        scale = np.array(self.scale, dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise DataError(
                f"scaler mean {mean.shape} and scale {scale.shape} must be 1-D and of one length"
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale) & (scale > 0))):
            raise DataError("scaler mean must be finite and scale finite and positive")
        for a in (mean, scale):
            a.flags.writeable = False
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scale", scale)

    @classmethod
    def fit(cls, X: Any) -> InputScaler:
        """Each column's mean and standard deviation over ``X``'s rows (1 if constant)."""
        if not is_sparse(X):
            X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise DataError(f"standardisation needs a (n, features) array, got shape {X.shape}")
        if is_sparse(X):  # moments from the stored values, never a dense copy
            mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
            square = np.asarray(X.multiply(X).mean(axis=0), dtype=np.float64).ravel()
            scale = np.sqrt(np.maximum(square - mean * mean, 0.0))
        else:
            mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[~(scale > 0)] = 1.0
        return cls(mean, scale)

    @property
    def n_inputs(self) -> int:
        return len(self.mean)

    def transform(self, X: Array) -> Array:
        """``(X - mean) / scale`` in ``X``'s dtype (float32 stays float32)."""
        if X.shape[-1] != self.n_inputs:
            raise DataError(
                f"inputs have {X.shape[-1]} columns; the scaler was fitted on {self.n_inputs}"
            )
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        return (X - self.mean.astype(dtype)) / self.scale.astype(dtype)

    def __repr__(self) -> str:
        return f"InputScaler(inputs={self.n_inputs})"


def fold(scaler: InputScaler | None, W: Array, b: Array | None) -> tuple[Array, Array | None]:
    """First-layer ``(W', b')`` for raw inputs: ``W / scale[:, None]``, ``b - (mean/scale) @ W``.

    Computed in float64 and returned in ``W``'s dtype. A bias-free layer gains a bias.
    """
    if scaler is None:
        return W, b
    W64 = np.asarray(W, dtype=np.float64)
    b64 = np.zeros(W.shape[-1]) if b is None else np.asarray(b, dtype=np.float64)
    W_folded = W64 / scaler.scale[:, None]
    b_folded = b64 - (scaler.mean / scaler.scale) @ W64
    return W_folded.astype(W.dtype), b_folded.astype(W.dtype)


def folded_params(net: MLP) -> list[dict[str, Array]]:
    """``net.params`` with its input scaler folded into the first layer: weights on raw inputs.

    Without a scaler these are the network's own arrays; with one, layer 0 is a new pair.
    """
    params = [dict(p) for p in net.params]
    W, b = fold(net.input_scaler, params[0]["W"], params[0].get("b"))
    params[0]["W"] = W
    if b is not None:
        params[0]["b"] = b
    return params
