"""The network behind an estimator: its start, its input scaler, its rows, its weights as
scikit-learn shows them (``coefs_``, ``intercepts_``) and its pickled form."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.preprocessing import StandardScaler

from mlplab.errors import DataError, TrainingDivergedError
from mlplab.nn.network import MLP
from mlplab.nn.scaling import InputScaler, folded_params

__all__ = ["HUGE_INPUT", "PREDICT_ROWS", "assign_raw_params", "divergence_message",
           "fit_scaler", "network_from_state", "network_state", "predict_rows",
           "sklearn_init"]  # fmt: skip

PREDICT_ROWS = 1024  # sparse rows made dense at a time by predict
HUGE_INPUT = 1e10  # inputs beyond this are named when training diverges


def sklearn_init(net: MLP, rs: np.random.RandomState, activation: str) -> None:
    """scikit-learn's start, from its stream: per layer ``W`` then ``b``, each
    U(-a, a) with a = sqrt(f / (fan_in + fan_out)), f = 2 for the logistic and 6 otherwise."""
    factor = 2.0 if activation == "sigmoid" else 6.0
    for p in net.params:
        fan_in, fan_out = p["W"].shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        p["W"][...] = rs.uniform(-bound, bound, (fan_in, fan_out))
        p["b"][...] = rs.uniform(-bound, bound, fan_out)


def fit_scaler(X: Any, w: np.ndarray | None) -> InputScaler:
    """The input scaler of ``standardize``: each column's mean and deviation, weighted by
    ``w`` (scikit-learn's ``StandardScaler`` weighs them; sparse ``X`` is never made dense)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            if w is None:
                return InputScaler.fit(X)
            moments = StandardScaler(with_mean=not issparse(X)).fit(X, sample_weight=w)
            return InputScaler(moments.mean_, moments.scale_)
    except DataError:  # an overflow: the moments are not finite
        biggest = _dense_row(abs(X).max(axis=0))
        column = int(biggest.argmax())
        raise ValueError(
            f"the inputs are too large to standardize: up to {biggest[column]:.3g} in absolute "
            f"value (column {column}); rescale them first"
        ) from None


def _dense_row(a: Any) -> np.ndarray:
    """A 1-D array of a column reduction, sparse (a 1 x n matrix) or dense."""
    return np.asarray(a.toarray() if issparse(a) else a).ravel()


def predict_rows(net: MLP, X: Any) -> np.ndarray:
    """``net.predict(X)``; sparse rows are made dense ``PREDICT_ROWS`` at a time."""
    if not issparse(X):
        return net.predict(X.astype(net.dtype, copy=False))
    X = X.tocsr()
    parts = [net.predict(X[lo : lo + PREDICT_ROWS].toarray().astype(net.dtype))
             for lo in range(0, X.shape[0], PREDICT_ROWS)]  # fmt: skip
    return np.concatenate(parts) if parts else net.predict(X.toarray())


def divergence_message(e: TrainingDivergedError, X: np.ndarray) -> str:
    """mlplab's message, naming the largest input when it is huge."""
    biggest = np.abs(X).max(axis=0) if X.size else np.zeros(1)
    column = int(biggest.argmax())
    if not biggest[column] > HUGE_INPUT:
        return str(e)
    return (
        f"{e} The inputs reach {biggest[column]:.3g} in absolute value (column {column}): "
        "too large; rescale them first."
    )


def assign_raw_params(net: MLP, name: str, values: Any) -> None:
    """Write ``coefs_`` (``name="W"``) or ``intercepts_`` (``"b"``), weights on the raw
    inputs, into the network's own arrays: the input scaler is unfolded from layer 0,
    ``W = W' * scale[:, None]`` and ``b = b' + mean @ W'`` (``nn.scaling.fold`` undone)."""
    raw = folded_params(net)  # the present values on raw inputs, before any is written
    given = list(values)
    expected = [p[name].shape for p in net.params]
    shapes = [np.shape(v) for v in given]
    if shapes != expected:
        attribute = "coefs_" if name == "W" else "intercepts_"
        raise ValueError(
            f"{attribute} must be {len(expected)} arrays of shapes {expected} (the fitted "
            f"network's), got shapes {shapes}"
        )
    for p, layer, value in zip(net.params, raw, given, strict=True):
        layer[name] = np.asarray(value, dtype=np.float64)
        p[name][...] = layer[name]
    scaler = net.input_scaler
    if scaler is not None:
        W, b = np.asarray(raw[0]["W"], np.float64), np.asarray(raw[0]["b"], np.float64)
        net.params[0]["W"][...] = W * scaler.scale[:, None]
        net.params[0]["b"][...] = b + scaler.mean @ W


def network_state(net: MLP) -> tuple:
    """What pickles: the network's config, weights and scaler (it holds functions)."""
    scaler = net.input_scaler
    scaler_state = None if scaler is None else (scaler.mean.copy(), scaler.scale.copy())
    return net.config(), [dict(p) for p in net.params], scaler_state


def network_from_state(state: tuple) -> MLP:
    """The network ``network_state`` described."""
    config, params, scaler_state = state
    net = MLP(**config)
    for mine, saved in zip(net.params, params, strict=True):
        for name, value in saved.items():
            mine[name][...] = value
    if scaler_state is not None:
        net.input_scaler = InputScaler(*scaler_state)
    return net
