"""The seed's math for one network on JAX arrays: forward, objective, backprop, decay, optimizers.

The same operations, in the same order, as ``mlplab.nn`` (network, activations, losses) and
``mlplab.train`` (regularization, optimizers) do them on NumPy arrays, so the two engines agree
to rounding; the backward pass is the seed's backprop, not ``jax.grad`` (a test checks it
against ``jax.grad``). Activations and losses are looked up by the names of mlplab's objects;
a user's registered activation runs its own ``f`` and ``derivative`` if they accept JAX
arrays (``check_activation``). Everything here is for one network; the engine ``vmap``s it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from mlplab.errors import ConfigError
from mlplab.nn.activations import ACTIVATIONS, LEAKY_SLOPE, Activation

Array = Any  # a jax.Array (or a tracer)
Fn = Callable[[Array], Array]

__all__ = ["JaxActivation", "LayerSpec", "NetSpec", "OptimizerSpec", "jax_activation"]


@dataclass(frozen=True)
class JaxActivation:
    """An activation's ``f`` and its derivative (of ``h``, or of ``z``) on JAX arrays."""

    name: str
    f: Fn
    derivative: Fn
    from_output: bool = True
    softmax: bool = False

    def backward(self, grad_h: Array, h: Array, z: Array) -> Array:
        """``delta = dL/dh * f'``, as ``Activation.backward`` computes it."""
        if self.softmax:  # dL/dz_i = y_i * (dL/dy_i - sum_j dL/dy_j * y_j)
            return (grad_h - (grad_h * h).sum(axis=-1, keepdims=True)) * h
        return grad_h * self.derivative(h if self.from_output else z)


def _sigmoid(z: Array) -> Array:
    return 1 / (1 + jnp.exp(-z))  # the seed's 1/(1+np.exp(-z))


def _softmax(z: Array) -> Array:
    e = jnp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_BUILT_IN: dict[str, JaxActivation] = {
    a.name: a
    for a in [
        JaxActivation("sigmoid", _sigmoid, lambda h: h * (1 - h)),
        JaxActivation("tanh", jnp.tanh, lambda h: 1 - h * h),
        JaxActivation("relu", lambda z: jnp.maximum(z, 0), lambda h: (h > 0).astype(h.dtype)),
        JaxActivation(
            "leaky_relu",
            lambda z: jnp.where(z > 0, z, LEAKY_SLOPE * z),
            lambda h: jnp.where(h > 0, 1, LEAKY_SLOPE).astype(h.dtype),
        ),
        JaxActivation("softplus", lambda z: jnp.logaddexp(0, z), lambda h: -jnp.expm1(-h)),
        JaxActivation("identity", lambda z: z, jnp.ones_like),
        JaxActivation("softmax", _softmax, lambda h: h * (1 - h), softmax=True),
    ]
}


def jax_activation(act: Activation) -> JaxActivation:
    """The JAX form of one of mlplab's activations, or a ``ConfigError`` saying why not."""
    if ACTIVATIONS.get(act.name) is act and act.name in _BUILT_IN:
        return _BUILT_IN[act.name]
    if type(act) is not Activation:
        raise ConfigError(
            f"activation {act.name!r} has its own backward pass, which engine 'jax' cannot "
            "compile; train it with engine='numpy'"
        )
    user = JaxActivation(act.name, act.f, act.derivative, act.from_output)
    check_activation(user)
    return user


def check_activation(act: JaxActivation) -> None:
    """Refuse an activation whose functions do not run on JAX arrays, in one line."""
    probe = jax.ShapeDtypeStruct((4, 3), jnp.float64)
    try:
        h = jax.eval_shape(act.f, probe)
        d = jax.eval_shape(act.derivative, h if act.from_output else probe)
    except Exception as e:  # whatever the user's code raised on a tracer
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"activation {act.name!r} cannot run on JAX arrays under engine 'jax' "
            f"({reason[:120]}); "
            "write it with jax.numpy-compatible operations (operators, or functions that "
            "accept any array) or train it with engine='numpy'"
        ) from None
    if getattr(h, "shape", None) != probe.shape or getattr(d, "shape", None) != probe.shape:
        raise ConfigError(
            f"activation {act.name!r}: on JAX arrays f and derivative must keep the input's shape"
        )


@dataclass(frozen=True)
class LayerSpec:
    """One layer's activation and whether it has a bias."""

    activation: JaxActivation
    bias: bool


@dataclass(frozen=True)
class NetSpec:
    """What the compiled step needs to know about a network, all of it static."""

    layers: tuple[LayerSpec, ...]
    loss: str  # "squared_error", "binary_cross_entropy" or "cross_entropy"
    cancels: bool  # the loss cancels the output activation's derivative: delta = y - t
    mean: bool  # reduction "mean"
    penalties: tuple[tuple[str, float], ...] = ()  # ("l2" or "l1", alpha), in fit's order


def forward(spec: NetSpec, params: Sequence[Array], X: Array) -> list[tuple[Array, Array, Array]]:
    """Every layer's ``(x, z, h)``: its input, ``z = x @ W + b`` and ``h = act(z)``."""
    kept = []
    x = X
    i = 0
    for layer in spec.layers:
        z = x @ params[i]
        if layer.bias:
            z = z + params[i + 1]
        h = layer.activation.f(z)
        kept.append((x, z, h))
        x = h
        i += 2 if layer.bias else 1
    return kept


def _row_values(loss: str, y: Array, t: Array, z: Array) -> Array:
    """Each example's loss, ``(n,)``: the terms the loss sums (``Loss.row_values``)."""
    if loss == "squared_error":
        d = y - t
        return 0.5 * (d * d).sum(axis=-1)
    if loss == "binary_cross_entropy":
        return (jnp.logaddexp(0, z) - t * z).sum(axis=-1)
    return (t * (_logsumexp(z) - z)).sum(axis=-1)


def _logsumexp(z: Array) -> Array:
    zmax = z.max(axis=-1, keepdims=True)  # shifted by max(z) to stay finite
    return jnp.log(jnp.exp(z - zmax).sum(axis=-1, keepdims=True)) + zmax


def _loss_value_and_gradient(loss: str, y: Array, t: Array, z: Array) -> tuple[Array, Array]:
    """Loss summed over the batch, and ``y - t``: as ``mlplab.nn.losses`` computes them."""
    d = y - t
    if loss == "squared_error":
        return 0.5 * jnp.vdot(d, d), d
    if loss == "binary_cross_entropy":
        return (jnp.logaddexp(0, z) - t * z).sum(), d
    return (t * (_logsumexp(z) - z)).sum(), d


def objective(spec: NetSpec, kept: list, T: Array, weight: Array | None = None) -> tuple:
    """``(loss, delta)`` of the output layer, as ``mlplab.nn.losses.Objective`` gives them;
    with a ``weight`` per example, its loss and delta count that many times."""
    _, z, y = kept[-1]
    if weight is None:
        loss, delta = _loss_value_and_gradient(spec.loss, y, T, z)
    else:
        loss, delta = _row_values(spec.loss, y, T, z) @ weight, (y - T) * weight[:, None]
    if not spec.cancels:
        delta = spec.layers[-1].activation.backward(delta, y, z)  # (y - t) * (y * (1 - y))
    if spec.mean:
        n = T.shape[-2] if weight is None else weight.sum()
        loss = loss / n
        delta = delta / n
    return loss, delta


def backward(spec: NetSpec, params: Sequence[Array], kept: list, delta: Array) -> list[Array]:
    """The seed's backprop, as ``MLP.backward``: ``dW = x.T @ delta``, then the layer below's
    ``delta = (delta @ W.T) * act'(h)``. Gradients in the flat order of ``params``."""
    grads: list[list[Array]] = []
    index = _weight_indices(spec)
    for li in range(len(spec.layers) - 1, -1, -1):
        x, _, _ = kept[li]
        layer_grads = [x.T @ delta]
        if spec.layers[li].bias:
            layer_grads.append(delta.sum(axis=-2))
        grads.append(layer_grads)
        if li:
            grad_h = delta @ params[index[li]].T
            _, z_below, h_below = kept[li - 1]
            delta = spec.layers[li - 1].activation.backward(grad_h, h_below, z_below)
    return [g for layer_grads in reversed(grads) for g in layer_grads]


def _weight_indices(spec: NetSpec) -> list[int]:
    """Where each layer's ``W`` sits in the flat parameter list."""
    out, i = [], 0
    for layer in spec.layers:
        out.append(i)
        i += 2 if layer.bias else 1
    return out


def loss_and_grads(
    spec: NetSpec, params: Sequence[Array], X: Array, T: Array, weight: Array | None = None
) -> tuple:
    """One forward and backward pass: ``(loss, grads, y)``."""
    kept = forward(spec, params, X)
    loss, delta = objective(spec, kept, T, weight)
    return loss, backward(spec, params, kept, delta), kept[-1][2]


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
