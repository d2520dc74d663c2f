"""The seed's math for one network on JAX arrays: the network through ``mlplab.nn.functional``,
plus the penalties and optimizers of ``mlplab.train`` as pure functions.

The network's math is not copied here: ``forward``, ``objective`` and ``backward`` run
``mlplab.nn.functional`` on ``jax.numpy`` (the built-in activations and losses are written
once, in array-API form), so the two engines run the same lines; the backward pass is the
seed's backprop, not ``jax.grad`` (a test checks it against ``jax.grad``). A spec names its
activations and loss, so it compares by value and one compiled program serves every
network of the same shape. A user's registered activation runs its own ``f`` and
``derivative`` if they accept JAX arrays (``check_activation``). Everything here is for one
network; the engine ``vmap``s it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from mlplab.errors import ConfigError
from mlplab.nn import functional as F
from mlplab.nn.activations import ACTIVATIONS, Activation
from mlplab.nn.losses import LOSSES, Objective

Array = Any  # a jax.Array (or a tracer)

__all__ = ["LayerSpec", "NetSpec", "OptimizerSpec", "check_activation"]


def check_activation(act: Activation) -> None:
    """Refuse an activation whose functions do not run on JAX arrays, in one line."""
    if act.array_api:
        return
    if ACTIVATIONS.get(act.name) is not act or type(act) is not Activation:
        raise ConfigError(
            f"activation {act.name!r} is not in the activation table with a plain backward "
            "pass, which engine 'jax' cannot compile; register it, or train with engine='numpy'"
        )
    probe = jax.ShapeDtypeStruct((4, 3), jnp.float64)
    try:
        h = jax.eval_shape(act.f, probe)
        d = jax.eval_shape(act.derivative, h if act.from_output else probe)
    except Exception as e:  # whatever the user's code raised on a tracer
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"activation {act.name!r} cannot run on JAX arrays under engine 'jax' "
            f"({reason[:120]}); write it with jax.numpy-compatible operations (operators, "
            "or functions that accept any array) or train it with engine='numpy'"
        ) from None
    if getattr(h, "shape", None) != probe.shape or getattr(d, "shape", None) != probe.shape:
        raise ConfigError(
            f"activation {act.name!r}: on JAX arrays f and derivative must keep the input's shape"
        )


@dataclass(frozen=True)
class LayerSpec:
    """One layer's activation (its name in ``ACTIVATIONS``) and whether it has a bias."""

    activation: str
    bias: bool


@dataclass(frozen=True)
class NetSpec:
    """What the compiled step needs to know about a network, all of it static, by name."""

    layers: tuple[LayerSpec, ...]
    loss: str  # a name in LOSSES
    reduction: str  # "sum" or "mean"
    penalties: tuple[tuple[str, float], ...] = ()  # ("l2" or "l1", alpha), in fit's order


@functools.cache
def functional_spec(spec: NetSpec) -> F.Spec:
    """The ``mlplab.nn.functional`` description of the network ``spec`` names."""
    activations = tuple(ACTIVATIONS[layer.activation] for layer in spec.layers)
    return F.Spec(activations, Objective(activations[-1], LOSSES[spec.loss], spec.reduction))


def _layers(spec: NetSpec, params: Sequence[Array]) -> list[dict[str, Array]]:
    """The flat parameter list as ``MLP.params``' dicts (at trace time: costs nothing)."""
    layers, i = [], 0
    for layer in spec.layers:
        layers.append({"W": params[i], "b": params[i + 1]} if layer.bias else {"W": params[i]})
        i += 2 if layer.bias else 1
    return layers


def forward(spec: NetSpec, params: Sequence[Array], X: Array) -> list[tuple[Array, Array, Array]]:
    """Every layer's ``(x, z, h)``: its input, ``z = x @ W + b`` and ``h = act(z)``."""
    return F.forward(functional_spec(spec), _layers(spec, params), X, jnp)


def objective(spec: NetSpec, kept: list, T: Array, weight: Array | None = None) -> tuple:
    """``(loss, delta)`` of the output layer, as ``mlplab.nn.losses.Objective`` gives them."""
    _, z, y = kept[-1]
    return F.objective(functional_spec(spec), y, z, T, weight, jnp)


def loss_and_grads(
    spec: NetSpec, params: Sequence[Array], X: Array, T: Array, weight: Array | None = None
) -> tuple:
    """One forward and backward pass: ``(loss, grads, y)``, grads in the order of ``params``."""
    layers = _layers(spec, params)
    kept = F.forward(functional_spec(spec), layers, X, jnp)
    loss, delta = objective(spec, kept, T, weight)
    grads = F.backward(functional_spec(spec), layers, kept, delta, jnp)
    return loss, [g[name] for g in grads for name in ("W", "b") if name in g], kept[-1][2]


def _weight_indices(spec: NetSpec) -> list[int]:
    """Where each layer's ``W`` sits in the flat parameter list."""
    out, i = [], 0
    for layer in spec.layers:
        out.append(i)
        i += 2 if layer.bias else 1
    return out


def penalties(
    spec: NetSpec, params: Sequence[Array], grads: list[Array], scale: float
) -> tuple[list[Array], list[Any]]:
    """The penalties of ``spec.penalties`` in order, as ``mlplab.train.regularization`` adds
    them: L2 ``dW += a * W``, ``a/2 sum ||W||^2``; L1 ``dW += a * sign(W)``, ``a sum |W|``."""
    grads = list(grads)
    values = []
    for kind, alpha in spec.penalties:
        a = alpha * scale
        penalty = 0.0
        for i in _weight_indices(spec):
            W = params[i]
            if kind == "l2":
                grads[i] = grads[i] + W * a
                penalty = penalty + jnp.vdot(W, W)
            else:
                s = jnp.sign(W)
                penalty = penalty + jnp.vdot(s, W)  # sum |W| = sum sign(W) * W
                grads[i] = grads[i] + s * a
        values.append(0.5 * a * penalty if kind == "l2" else a * penalty)
    return grads, values


@dataclass(frozen=True)
class OptimizerSpec:
    """One of mlplab's optimizers by name, with its settings (the rate comes per step)."""

    kind: str  # "sgd", "momentum", "nesterov" or "adam"
    momentum: float = 0.0
    beta1: float = 0.0
    beta2: float = 0.0
    eps: float = 0.0

    @property
    def slots(self) -> tuple[str, ...]:
        return {"sgd": (), "momentum": ("velocity",), "nesterov": ("velocity",)}.get(
            self.kind, ("m", "v")
        )


def optimizer_step(
    opt: OptimizerSpec, params: list, grads: list, slots: tuple, lr: Array, t: Array
) -> tuple[list, tuple]:
    """One update, as the optimizer classes of ``mlplab.train.optimizers`` do it.

    ``lr`` is float64 (the host's Python float); ``t`` the step count after this step.
    """
    dt = params[0].dtype
    if opt.kind == "sgd":
        lr_ = lr.astype(dt)
        return [p - g * lr_ for p, g in zip(params, grads, strict=True)], slots
    if opt.kind in ("momentum", "nesterov"):
        mu, lr_ = opt.momentum, lr.astype(dt)
        new_p, new_v = [], []
        for p, g, v in zip(params, grads, slots[0], strict=True):
            if opt.kind == "momentum":
                v = v * mu - g * lr_
                p = p + v
            else:
                s = g * lr_
                v = v * mu - s
                p = p - s + v * mu
            new_p.append(p)
            new_v.append(v)
        return new_p, (tuple(new_v),)
    b1, b2, eps = opt.beta1, opt.beta2, opt.eps
    step_size = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)  # float64, as on the host
    new_p, new_m, new_v = [], [], []
    for p, g, m, v in zip(params, grads, slots[0], slots[1], strict=True):
        m = m * b1 + g * (1 - b1)
        v = v * b2 + (g * g) * (1 - b2)
        s = m / (jnp.sqrt(v) + eps)
        new_p.append(p - (s * step_size).astype(dt))
        new_m.append(m)
        new_v.append(v)
    return new_p, (tuple(new_m), tuple(new_v))
