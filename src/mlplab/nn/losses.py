"""Losses, and the output layer's delta ``dL/dz`` they give with an output activation.

The seed's loss is ``L = 1/2 * sum((y - t)^2)`` summed over the examples, so
``dL/dy = y - t`` and, through the sigmoid, ``delta = (y - t) * y * (1 - y)``:
the seed's ``y_delta`` with its sign flipped (the seed stores ``-dL/dz`` so that
its update can read ``W += ...``).

Four pairs of output activation and loss cancel the activation's derivative:
identity with squared error, sigmoid with binary cross-entropy, softmax with
cross-entropy and exp with the Poisson deviance all give ``delta = y - t``. For
those pairs the delta is taken directly, and the loss is computed from ``z`` in a
form that cannot overflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.activations import Activation

if TYPE_CHECKING:
    from mlplab.nn.layer import Dense

Array = np.ndarray

__all__ = ["LOSSES", "REDUCTIONS", "Loss", "Objective", "get_loss"]

REDUCTIONS = ("sum", "mean")


def _sum_squares(d: Array, xp: Any = np) -> Array:
    """``sum(d^2)`` over the last two axes: a float, or one per network of a stack."""
    if d.ndim == 2:
        return xp.vdot(d, d)
    return xp.einsum("...ij,...ij->...", d, d)


class Loss:
    """A loss summed over examples and outputs.

    ``outputs`` names the output activations it accepts (``None``: any), and
    ``cancels`` the one whose pairing gives ``delta = y - t``.
    """

    name: str
    formula: str
    outputs: tuple[str, ...] | None = None
    cancels: str

    def value_and_gradient(
        self, y: Array, t: Array, z: Array | None, xp: Any = np
    ) -> tuple[Array, Array]:
        """Loss per network and ``y - t``: ``dL/dy`` or, where cancelled, ``dL/dz``.

        ``xp`` is the array module (``numpy``, or ``jax.numpy`` in the compiled engine).
        """
        raise NotImplementedError

    def row_values(self, y: Array, t: Array, z: Array | None, xp: Any = np) -> Array:
        """The loss of each example (row), ``(..., n)``: the terms ``value_and_gradient`` sums."""
        raise NotImplementedError

    def weighted(
        self, y: Array, t: Array, z: Array | None, weight: Array, xp: Any = np
    ) -> tuple[Array, Array]:
        """``value_and_gradient`` with example ``i``'s loss and gradient times ``weight[i]``."""
        _, d = self.value_and_gradient(y, t, z, xp)
        return self.row_values(y, t, z, xp) @ weight, d * weight[:, None]

    def __repr__(self) -> str:
        return f"<loss {self.name}: {self.formula}>"


class SquaredError(Loss):
    name = "squared_error"
    formula = "L = 1/2 * sum((y - t)^2)"
    cancels = "identity"

    def value_and_gradient(
        self, y: Array, t: Array, z: Array | None, xp: Any = np
    ) -> tuple[Array, Array]:
        d = y - t  # dL/dy
        return 0.5 * _sum_squares(d, xp), d

    def row_values(self, y: Array, t: Array, z: Array | None, xp: Any = np) -> Array:
        d = y - t
        return 0.5 * (d * d).sum(axis=-1)


class BinaryCrossEntropy(Loss):
    name = "binary_cross_entropy"
    formula = "L = -sum(t log y + (1 - t) log(1 - y))"
    outputs = ("sigmoid",)
    cancels = "sigmoid"

    def value_and_gradient(
        self, y: Array, t: Array, z: Array | None, xp: Any = np
    ) -> tuple[Array, Array]:
        return self.row_values(y, t, z, xp).sum(axis=-1), y - t

    def row_values(self, y: Array, t: Array, z: Array | None, xp: Any = np) -> Array:
        # With y = sigmoid(z): -t log y - (1-t) log(1-y) = softplus(z) - t z, finite for any z.
        return (xp.logaddexp(0, z) - t * z).sum(axis=-1)


class CrossEntropy(Loss):
    name = "cross_entropy"
    formula = "L = -sum(t log y)"
    outputs = ("softmax",)
    cancels = "softmax"

    def value_and_gradient(
        self, y: Array, t: Array, z: Array | None, xp: Any = np
    ) -> tuple[Array, Array]:
        return self.row_values(y, t, z, xp).sum(axis=-1), y - t

    def row_values(self, y: Array, t: Array, z: Array | None, xp: Any = np) -> Array:
        # With y = softmax(z): -log y_i = logsumexp(z) - z_i, shifted by max(z) to stay finite.
        zmax = z.max(axis=-1, keepdims=True)
        logsumexp = xp.log(xp.exp(z - zmax).sum(axis=-1, keepdims=True)) + zmax
        return (t * (logsumexp - z)).sum(axis=-1)


class Poisson(Loss):
    """Half the Poisson deviance (scikit-learn's ``loss="poisson"``), for counts ``t >= 0``."""

    name = "poisson"
    formula = "L = sum(t log(t / y) - t + y)"
    outputs = ("exp",)
    cancels = "exp"

    def value_and_gradient(
        self, y: Array, t: Array, z: Array | None, xp: Any = np
    ) -> tuple[Array, Array]:
        return self.row_values(y, t, z, xp).sum(axis=-1), y - t

    def row_values(self, y: Array, t: Array, z: Array | None, xp: Any = np) -> Array:
        # With y = e^z: t log(t / y) = t log t - t z, and t log t is 0 where t = 0.
        t_log_t = xp.where(t > 0, t * xp.log(xp.where(t > 0, t, 1)), 0)
        return (t_log_t - t * z - t + y).sum(axis=-1)


LOSSES: dict[str, Loss] = {
    loss.name: loss for loss in (SquaredError(), BinaryCrossEntropy(), CrossEntropy(), Poisson())
}


def get_loss(name: str | Loss) -> Loss:
    """Look up a loss by name, refusing unknown names with the valid ones listed."""
    if isinstance(name, Loss):
        return name
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; expected one of: {', '.join(LOSSES)}")
    return LOSSES[name]


class Objective:
    """Output activation and loss together: ``(loss, delta)`` from ``y``, ``z`` and ``t``.

    ``delta`` is ``dL/dz`` of the output layer, the seed's ``-y_delta``. With
    ``reduction="mean"`` both are divided by the number of examples. With a ``weight``
    per example, each example's loss and delta count ``weight`` times, and the mean
    divides by the weights' sum.
    """

    def __init__(self, activation: Activation, loss: Loss, reduction: str) -> None:
        if reduction not in REDUCTIONS:
            raise ConfigError(
                f"unknown reduction {reduction!r}; expected one of: {', '.join(REDUCTIONS)}"
            )
        if loss.outputs is not None and activation.name not in loss.outputs:
            raise ConfigError(
                f"loss {loss.name!r} needs the output activation "
                f"{' or '.join(loss.outputs)}, got {activation.name!r}"
            )
        self.activation = activation
        self.loss = loss
        self.reduction = reduction
        self.cancels = loss.cancels == activation.name
        self.needs_z = loss.outputs is not None or activation.needs_z

    def _key(self) -> tuple:
        return (self.activation, self.loss, self.reduction)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Objective) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __call__(
        self, output: Dense, t: Array, weight: Array | None = None
    ) -> tuple[Array, Array]:
        """``(loss per network, delta)`` for the output layer's last forward pass."""
        xp = output.xp  # numpy, or jax.numpy in the compiled engine
        if weight is None:
            loss, delta = self.loss.value_and_gradient(output.h, t, output.z, xp)
        else:
            loss, delta = self.loss.weighted(output.h, t, output.z, weight, xp)
        if not self.cancels:
            delta = output.activation_backward(delta)  # the seed's (y - t) * (y * (1 - y))
        if self.reduction == "mean":
            n = t.shape[-2] if weight is None else weight.sum()
            loss = loss / n
            delta = output.ops.divide(delta, n)
        return loss, delta
