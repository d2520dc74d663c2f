"""L2 weight decay as a term of the loss: ``L + alpha/2 * sum ||W||^2`` (biases not penalised).

Its gradient ``alpha * W`` is added to ``dW`` after the backward pass, so
forward, backward and the optimizers stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlplab.errors import ConfigError

Array = np.ndarray

__all__ = ["L2"]


class L2:
    """``alpha/2 * sum ||W||^2`` over the weight matrices, gradient ``alpha * W``."""

    def __init__(self, alpha: float) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not alpha >= 0:
            raise ConfigError(f"weight decay must be a non-negative number, got {alpha!r}")
        self.alpha = float(alpha)
        self._scratch: list[Array] = []

    def __call__(self, weights: Sequence[Array], grads: Sequence[Array], scale: float) -> Array:
        """Add ``scale * alpha * W`` to each ``dW``; return ``scale * alpha/2 * sum ||W||^2``.

        ``scale`` is the share of the data set in the batch when the loss is summed
        over examples (so the batches of an epoch add up to one penalty), else 1.
        """
        if len(self._scratch) != len(weights):
            self._scratch = [np.empty_like(W) for W in weights]
        a = self.alpha * scale
        penalty = 0.0
        for W, dW, s in zip(weights, grads, self._scratch, strict=True):
            dW += np.multiply(W, a, out=s)
            penalty = penalty + (
                np.vdot(W, W) if W.ndim == 2 else np.einsum("...ij,...ij->...", W, W)
            )
        return 0.5 * a * penalty

    def __repr__(self) -> str:
        return f"L2(alpha={self.alpha})"
