"""Weight penalties as terms of the loss, on the weight matrices only (biases not penalised).

``L2(alpha)``: ``L + alpha/2 * sum ||W||^2``, gradient ``alpha * W`` (weight decay).
``L1(alpha)``: ``L + alpha * sum |W|``, gradient ``alpha * sign(W)``.

Each adds its gradient to ``dW`` after the backward pass, so forward, backward and
the optimizers stay as they are. ``fit(weight_decay=...)`` takes a number (L2), one
of these objects, or a sequence of them.

The penalties are written once as pure functions over an array module ``xp``
(``l2_penalty``, ``l1_penalty``: ``(weights, grads, scale) -> (grads, value)``), which the
compiled engine runs (``Regularizer.rule()``); calling the object does the same operations
in place into kept buffers (the NumPy engine's), tested equal to the plain form.

``alpha`` is one number, or for a stack of K networks an array of K (network ``i`` then
penalised by entry ``i``); the compiled engine gives such an array to the rule as a vmapped
input (``per_network_settings``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlplab.checks import is_number, non_negative_number, per_network
from mlplab.train.optimizers import Rule

Array = np.ndarray

__all__ = ["L1", "L2", "Regularizer", "get_regularizers"]


def _sum_over_matrix(a: Array, b: Array, xp: Any = np) -> Array:
    """``sum(a * b)`` over the last two axes: a float, or one per network of a stack."""
    return xp.vdot(a, b) if a.ndim == 2 else xp.einsum("...ij,...ij->...", a, b)


def _factor(a: Any, W: Any) -> Any:
    """The penalty's factor for weights ``W``: a number as it is; one per network (an array
    of K on NumPy, a traced scalar under ``vmap``) in ``W``'s dtype, along its stack axis."""
    if isinstance(a, float | int):
        return a
    return (a.reshape(-1, 1, 1) if a.ndim == 1 else a).astype(W.dtype)


def l2_penalty(weights: Sequence[Any], grads: Sequence[Any], scale: Any, xp: Any = np, *,
               alpha: float) -> tuple[list, Any]:  # fmt: skip
    """``dW += a * W`` for each weight matrix; the value ``a/2 * sum ||W||^2`` (``a = alpha *
    scale``)."""
    a = alpha * scale
    penalty = 0.0
    for W in weights:
        penalty = penalty + _sum_over_matrix(W, W, xp)
    new = [dW + W * _factor(a, W) for W, dW in zip(weights, grads, strict=True)]
    return new, 0.5 * a * penalty


def l1_penalty(weights: Sequence[Any], grads: Sequence[Any], scale: Any, xp: Any = np, *,
               alpha: float) -> tuple[list, Any]:  # fmt: skip
    """``dW += a * sign(W)`` for each weight matrix; the value ``a * sum |W|``."""
    a = alpha * scale
    penalty = 0.0
    new = []
    for W, dW in zip(weights, grads, strict=True):
        s = xp.sign(W)
        penalty = penalty + _sum_over_matrix(s, W, xp)  # sum |W| = sum sign(W) * W
        new.append(dW + s * _factor(a, W))
    return new, a * penalty


class Regularizer:
    """A penalty on the weight matrices: ``__call__`` adds its gradient, returns its value."""

    name = "penalty"
    penalty: Any = None  # the pure form, (weights, grads, scale, xp, alpha=) -> (grads, value)

    def __init__(self, alpha: Any) -> None:
        self.alpha = per_network(self.name, alpha, non_negative_number)
        self._scratch: list[Array] = []

    def _work(self, weights: Sequence[Array]) -> list[Array]:
        if len(self._scratch) != len(weights) or any(
            s.shape != W.shape for s, W in zip(self._scratch, weights, strict=True)
        ):
            self._scratch = [np.empty_like(W) for W in weights]
        return self._scratch

    def __call__(self, weights: Sequence[Array], grads: Sequence[Array], scale: float) -> Array:
        """Add ``scale * dPenalty/dW`` to each ``dW``; return ``scale * penalty``.

        ``scale`` is the share of the data set in the batch when the loss is summed
        over examples (so the batches of an epoch add up to one penalty), else 1.
        """
        raise NotImplementedError

    def rule(self) -> Rule | None:
        """The penalty as a pure, comparable rule (``None``: it has no pure form)."""
        if self.penalty is None:
            return None
        if isinstance(self.alpha, np.ndarray):
            return Rule(type(self).penalty, per_network=("alpha",))
        return Rule(type(self).penalty, (("alpha", self.alpha),))

    def per_network_settings(self) -> dict[str, Array]:
        """``{"alpha": ...}`` when it is one value per network, else empty."""
        return {"alpha": self.alpha} if isinstance(self.alpha, np.ndarray) else {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha})"


class L2(Regularizer):
    """``alpha/2 * sum ||W||^2`` over the weight matrices, gradient ``alpha * W``."""

    name = "weight decay"
    penalty = staticmethod(l2_penalty)

    def __call__(self, weights: Sequence[Array], grads: Sequence[Array], scale: float) -> Array:
        a = self.alpha * scale
        penalty = 0.0
        for W, dW, s in zip(weights, grads, self._work(weights), strict=True):
            dW += np.multiply(W, _factor(a, W), out=s)
            penalty = penalty + _sum_over_matrix(W, W)
        return 0.5 * a * penalty


class L1(Regularizer):
    """``alpha * sum |W|`` over the weight matrices, gradient ``alpha * sign(W)``."""

    name = "L1 penalty"
    penalty = staticmethod(l1_penalty)

    def __call__(self, weights: Sequence[Array], grads: Sequence[Array], scale: float) -> Array:
        a = self.alpha * scale
        penalty = 0.0
        for W, dW, s in zip(weights, grads, self._work(weights), strict=True):
            np.sign(W, out=s)
            penalty = penalty + _sum_over_matrix(s, W)  # sum |W| = sum sign(W) * W
            dW += np.multiply(s, _factor(a, W), out=s)
        return a * penalty


def get_regularizers(weight_decay: Any) -> list[Regularizer]:
    """The penalties of ``fit(weight_decay=...)``: a number (L2), an object, or several."""
    if weight_decay is None or (is_number(weight_decay) and weight_decay == 0):
        return []
    if isinstance(weight_decay, Regularizer):
        return [weight_decay]
    if isinstance(weight_decay, np.ndarray):  # one L2 strength per network of a stack
        return [L2(weight_decay)]
    if isinstance(weight_decay, Sequence) and not isinstance(weight_decay, str):
        return [r for item in weight_decay for r in get_regularizers(item)]
    return [L2(weight_decay)]
