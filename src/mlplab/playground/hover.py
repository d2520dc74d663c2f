"""What the page shows when a unit or a link of the diagram is hovered.

A unit: its formula with the live numbers at one point of the plane, every number read
from the network's own forward pass at that point (``MLP.forward``): the inputs the
layer received (``layer.x``), its weights and bias, and its output (``layer.h``). The one
sum computed here is the pre-activation ``z = x @ W[:, j] + b[j]`` of that unit, the number
inside the activation's brackets (the output layer keeps its own ``z``, which is used).
A link: its weight and the gradient the last training step used for it (``MLP.grads``).

The replies are plain JSON-ready dicts; the page only formats them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.network import MLP
from mlplab.playground.features import FEATURES, feature_matrix

__all__ = ["input_names", "link_value", "unit_formula"]


def input_names(net: MLP, features: list[str], column: int) -> list[str]:
    """The names of the values diagram column ``column`` outputs: the feature labels for the
    inputs (column 0), ``h1_3`` for hidden layer 1's unit 3, ``y`` (``y_2``: output 2)."""
    if column == 0:
        return [FEATURES[f].label for f in features]
    n = net.sizes[column]
    if column == len(net.sizes) - 1:
        return ["y"] if n == 1 else [f"y_{j + 1}" for j in range(n)]
    return [f"h{column}_{j + 1}" for j in range(n)]


def unit_formula(
    net: MLP, features: list[str], column: int, unit: int, point: tuple[float, float]
) -> dict[str, Any]:
    """Unit ``unit`` of diagram column ``column`` (0: the inputs) at ``point = (x1, x2)``.

    Returns the unit's name, its activation, and for a layer unit the terms
    ``weight * input`` with the inputs' names and values, the bias (``None`` without
    one), ``z`` and the output; for an input, the feature's value at the point.
    """
    _check_unit(net, column, unit)
    row = feature_matrix(np.array([point], dtype=np.float64), features)
    with np.errstate(over="ignore", invalid="ignore"):
        net.forward(row)
    reply: dict[str, Any] = {
        "type": "unit_formula",
        "column": column,
        "unit": unit,
        "point": [float(point[0]), float(point[1])],
        "name": input_names(net, features, column)[unit],
    }
    if column == 0:
        return {**reply, "activation": None, "output": _number(row[0, unit])}
    layer = net.layers[column - 1]
    x, W = layer.x[0], layer.param["W"][:, unit]
    bias = float(layer.param["b"][unit]) if layer.has_bias else None
    # the output layer keeps its z; a hidden one's is this unit's column of z = x @ W + b
    z = layer.z[0, unit] if layer.z is not None else x @ W + (bias or 0.0)
    names = input_names(net, features, column - 1)
    terms = [
        {"input": name, "weight": float(w), "value": _number(v)}
        for name, w, v in zip(names, W, x, strict=True)
    ]
    return {
        **reply,
        "activation": layer.activation.name,
        "terms": terms,
        "bias": bias,
        "z": _number(z),
        "output": _number(layer.h[0, unit]),
    }


def link_value(net: MLP, layer: int, source: int, target: int, grad_known: bool) -> dict[str, Any]:
    """The weight from ``source`` to ``target`` in weight layer ``layer`` (``source = -1``:
    the bias of ``target``), and the gradient the last training step used for it
    (``None`` where ``grad_known`` is false: no step yet, or one the compiled engine took)."""
    if not 0 <= layer < len(net.params):
        raise ConfigError(f"layer {layer} does not exist; the network has {len(net.params)}")
    W = net.params[layer]["W"]
    if not 0 <= target < W.shape[1] or not -1 <= source < W.shape[0]:
        raise ConfigError(
            f"no weight from unit {source} to unit {target} in layer {layer}: "
            f"it is {W.shape[0]} x {W.shape[1]}"
        )
    name, index = ("b", (target,)) if source < 0 else ("W", (source, target))
    if name not in net.params[layer]:
        raise ConfigError(f"layer {layer} has no bias")
    grad = float(net.grads[layer][name][index]) if grad_known else None
    return {
        "type": "link_value",
        "layer": layer,
        "source": source,
        "target": target,
        "weight": float(net.params[layer][name][index]),
        "grad": grad,
    }


def _check_unit(net: MLP, column: int, unit: int) -> None:
    if not 0 <= column < len(net.sizes):
        raise ConfigError(f"column {column} does not exist; the network has {len(net.sizes)}")
    if not 0 <= unit < net.sizes[column]:
        raise ConfigError(f"column {column} has {net.sizes[column]} units; there is no unit {unit}")


def _number(v: Any) -> float | None:
    """A JSON number, or ``None`` for an overflow (inf or NaN)."""
    v = float(v)
    return v if np.isfinite(v) else None
