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

A network is described by ``Spec`` (its activations, which layers have a bias, its
objective), read off an ``MLP`` with ``spec_of``; parameters are a list of
``{"W": ..., "b": ...}`` dicts as in ``MLP.params``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.nn.activations import Activation
from mlplab.nn.losses import Objective

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["Spec", "backward", "forward", "loss_and_grads", "objective", "spec_of"]

Params = list[dict[str, Any]]


@dataclass(frozen=True)
class Spec:
    """What the math needs to know of a network besides its parameters (all static)."""

    activations: tuple[Activation, ...]  # one per layer, the output's last
    objective: Objective


def spec_of(net: MLP) -> Spec:
    """The static description of ``net``'s math."""
    return Spec(tuple(layer.activation for layer in net.layers), net.objective)


def forward(spec: Spec, params: Params, X: Any, xp: Any = np) -> list[tuple[Any, Any, Any]]:
    """Every layer's ``(x, z, h)``: its input, ``z = x @ W + b`` and ``h = act(z)``."""
    kept = []
    x = X
    for p, act in zip(params, spec.activations, strict=True):
        z = x @ p["W"]
        if "b" in p:
            z = z + p["b"]
        h = act.f(z, xp=xp) if act.array_api else act.f(z)
        kept.append((x, z, h))
        x = h
    return kept


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


def backward(spec: Spec, params: Params, kept: list, delta: Any, xp: Any = np) -> Params:
    """``dL/dparam`` for every layer, from the output's ``delta``, top layer first."""
    grads: Params = [{} for _ in params]
    for i in range(len(params) - 1, -1, -1):
        x, _, _ = kept[i]
        grads[i]["W"] = x.T @ delta
        if "b" in params[i]:
            grads[i]["b"] = delta.sum(axis=0)
        if i:
            _, z_below, h_below = kept[i - 1]
            grad_h = delta @ params[i]["W"].T  # dL/dh of the layer below
            delta = spec.activations[i - 1].delta(grad_h, h_below, z_below, xp)
    return grads


def loss_and_grads(
    spec: Spec, params: Params, X: Any, T: Any, weight: Any = None, xp: Any = np
) -> tuple[Any, Params]:
    """One forward and backward pass: ``(loss, grads)``; ``MLP.loss_and_backward``'s math."""
    kept = forward(spec, params, X, xp)
    _, z, y = kept[-1]
    loss, delta = objective(spec, y, z, T, weight, xp)
    return loss, backward(spec, params, kept, delta, xp)
