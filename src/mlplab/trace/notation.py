"""The seed's notation for a network of any depth: the names and the lines of a trace.

Layer ``i`` (from 1) reads ``X`` (the first) or ``h{i-1}`` and gives ``h{i}``, the last
layer's output being ``y``; its parameters are ``W{i}``, ``b{i}``, its pre-activation
``z{i}``, its ``delta{i} = dL/dz{i}`` and its gradients ``dW{i}``, ``db{i}``.
"""

from __future__ import annotations

__all__ = [
    "activation_line",
    "derivative",
    "input_name",
    "output_delta_line",
    "output_name",
]

SYMBOLS = {"sigmoid": "σ", "identity": ""}

# each activation's derivative written from its output h (the seed's h * (1 - h))
DERIVATIVES = {
    "sigmoid": "{h} * (1 - {h})",
    "tanh": "(1 - {h}**2)",
    "relu": "({h} > 0)",
    "leaky_relu": "where({h} > 0, 1, 0.01)",
    "softplus": "(1 - exp(-{h}))",
    "exp": "{h}",
}


def input_name(layer: int) -> str:
    """What layer ``layer`` (from 1) reads: ``X`` or the layer below's output."""
    return "X" if layer == 1 else f"h{layer - 1}"


def output_name(layer: int, layers: int) -> str:
    """What layer ``layer`` of ``layers`` gives: ``h{layer}``, or ``y`` for the last."""
    return "y" if layer == layers else f"h{layer}"


def activation_line(activation: str, layer: int, layers: int, bias: bool) -> str:
    """``h1 = σ(X @ W1 + b1)``: the forward line of a layer."""
    inner = f"{input_name(layer)} @ W{layer}" + (f" + b{layer}" if bias else "")
    symbol = SYMBOLS.get(activation, activation)
    return f"{output_name(layer, layers)} = {symbol}({inner})" if symbol else (
        f"{output_name(layer, layers)} = {inner}")  # fmt: skip


def derivative(activation: str, h: str, layer: int) -> str:
    """``act'`` of a layer written from its output ``h`` where the activation allows it."""
    form = DERIVATIVES.get(activation)
    return form.format(h=h) if form else f"{activation}'(z{layer})"


def output_delta_line(activation: str, cancels: bool, layer: int, mean: bool,
                      weighted: bool) -> str:  # fmt: skip
    """``delta2 = (y - t) * y * (1 - y)``; ``y - t`` where loss and output cancel."""
    if cancels:
        rhs = "y - t"
    elif activation == "softmax":
        rhs = "softmax'(z) · (y - t)"
    else:
        rhs = f"(y - t) * {derivative(activation, 'y', layer)}"
    if weighted:
        rhs = f"({rhs}) * w" if " " in rhs else f"{rhs} * w"
    if mean:
        rhs = (f"({rhs}) / " if " " in rhs else f"{rhs} / ") + ("sum(w)" if weighted else "n")
    return f"delta{layer} = {rhs}"
