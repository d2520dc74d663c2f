"""The network's math as pure functions of the parameters, for any array module ``xp``.

``MLP`` runs this same math on NumPy with its layers' kept buffers (``Dense.forward``,
``MLP.backward``, ``Objective``): that is the NumPy engine's measured optimisation,
tested equal to these functions. A compiled engine runs these lines on ``jax.numpy``,
under ``jit`` and ``vmap`` (one network's functions, mapped over a stack): the seed's
backprop, not automatic differentiation::

    forward:   h = act(x @ W + b)                          (each layer, from the inputs)
    output:    loss, delta = objective(y, z, t)            delta = dL/dz, the seed's -y_delta
    backward:  dW = x.T @ delta ;  db = delta summed over the rows
               delta = (delta @ W.T) * act'(h)             (the layer below's; the seed's h_delta)

A network is described by ``Spec`` (its activations and its objective; it compares by
value), read off an ``MLP`` with ``spec_of``; parameters are a list of ``{"W": ..., "b": ...}``
dicts as in ``MLP.params`` (a layer without ``"b"`` has no bias). ``forward`` gives one
``Layer`` per layer, owning its values; ``backward`` walks them from the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from mlplab.nn.activations import Activation
from mlplab.nn.losses import Objective

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["Layer", "Spec", "backward", "forward", "loss_and_grads", "objective", "spec_of"]

Params = list[dict[str, Any]]


@dataclass(frozen=True)
class Spec:
    """What the math needs to know of a network besides its parameters (all static)."""

    activations: tuple[Activation, ...]  # one per layer, the output's last
    objective: Objective


def spec_of(net: MLP) -> Spec:
    """The static description of ``net``'s math."""
    return Spec(tuple(layer.activation for layer in net.layers), net.objective)


class Layer(NamedTuple):
    """One layer's values from a forward pass: its input ``x``, ``z = x @ W + b``, its output
    ``h = act(z)``, and what computed them (its parameters and activation)."""

    x: Any
    z: Any
    h: Any
    param: dict[str, Any]
    activation: Activation


def forward(spec: Spec, params: Params, X: Any, xp: Any = np) -> list[Layer]:
    """Every layer's values, from the inputs up: ``h = act(x @ W + b)``."""
    layers = []
    x = X
    for p, act in zip(params, spec.activations, strict=True):
        z = x @ p["W"]
        if "b" in p:
            z = z + p["b"]
        h = act.f(z, xp=xp) if act.array_api else act.f(z)
        layers.append(Layer(x, z, h, p, act))
        x = h
    return layers


def objective(spec: Spec, y: Any, z: Any, t: Any, weight: Any = None, xp: Any = np) -> tuple:
    """``(loss, delta)`` of the output layer, as ``Objective`` computes them."""
    obj = spec.objective
    if weight is None:
        loss, delta = obj.loss.value_and_gradient(y, t, z, xp)
    else:
        loss, delta = obj.loss.weighted(y, t, z, weight, xp)
    if not obj.cancels:
        delta = obj.activation.delta(delta, y, z, xp)  # the seed's (y - t) * (y * (1 - y))
    if obj.reduction == "mean":
        n = t.shape[-2] if weight is None else weight.sum()
        loss, delta = loss / n, delta / n
    return loss, delta


def backward(spec: Spec, layers: list[Layer], delta: Any, xp: Any = np) -> Params:
    """``dL/dparam`` for every layer (in ``params``' order), from the output's ``delta``.

    From the top: ``dW = x.T @ delta``, ``db = delta summed over the rows``, then the delta
    of the layer below, ``delta = (delta @ W.T) * act'(h)`` (the seed's ``h_delta``).
    """
    grads = []
    below = [*layers[-2::-1], None]  # each layer's layer below, from the top
    for layer, under in zip(layers[::-1], below, strict=True):
        grad = {"W": layer.x.T @ delta}
        if "b" in layer.param:
            grad["b"] = delta.sum(axis=0)
        grads.append(grad)
        if under is not None:
            grad_h = delta @ layer.param["W"].T  # dL/dh of the layer below
            delta = under.activation.delta(grad_h, under.h, under.z, xp)
    return grads[::-1]


def loss_and_grads(
    spec: Spec, params: Params, X: Any, T: Any, weight: Any = None, xp: Any = np
) -> tuple[Any, Params]:
    """One forward and backward pass: ``(loss, grads)``; ``MLP.loss_and_backward``'s math."""
    layers = forward(spec, params, X, xp)
    loss, delta = objective(spec, layers[-1].h, layers[-1].z, T, weight, xp)
    return loss, backward(spec, layers, delta, xp)
