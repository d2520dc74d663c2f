"""Networks of different widths in one stack, by masking.

A stack holds K networks of one shape, ``sizes``; with ``widths`` (one hidden width per
network, or one per hidden layer per network) network ``i`` is the narrower network
``[n_in, *widths[i], n_out]`` inside it: its weights fill the top-left block of each
weight matrix and the rest are zero. Its masks (1 on its own weights, 0 elsewhere) zero
the gradient of every weight outside it, so those stay zero: a unit outside the network
adds nothing to the layer above (its outgoing weights are 0), gets a delta of 0 and no
update. Network ``i`` then trains as ``MLP([n_in, *widths[i], n_out], seed=seed + i)``
alone, to rounding (the sums run over zeros as well).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlplab.errors import ConfigError

Array = np.ndarray

__all__ = ["check_widths", "layer_masks"]


def check_widths(widths: Any, sizes: Sequence[int], stack: int | None) -> Array | None:
    """``widths`` as a ``(K, hidden layers)`` integer array, each at most the stack's width
    and at least 1, or ``None``."""
    if widths is None:
        return None
    hidden = len(sizes) - 2
    if stack is None or hidden < 1:
        raise ConfigError("widths needs a stack (stack=K) of networks with hidden layers")
    a = np.asarray(widths)
    if a.dtype.kind not in "iu" or a.ndim not in (1, 2) or a.shape[0] != stack:
        raise ConfigError(
            f"widths must hold whole numbers, one per network ({stack}) or one per network "
            f"and hidden layer ({stack}, {hidden}); got shape {a.shape} of {a.dtype}"
        )
    a = np.repeat(a[:, None], hidden, axis=1) if a.ndim == 1 else a
    if a.shape[1] != hidden:
        raise ConfigError(f"widths has {a.shape[1]} columns; expected {hidden}, one per layer")
    widest = np.asarray(sizes[1:-1])
    if (a < 1).any() or (a > widest).any():
        raise ConfigError(
            f"widths must be between 1 and the stack's hidden sizes {list(widest)}; "
            f"got values from {a.min()} to {a.max()}"
        )
    return a.astype(np.int64)


def layer_masks(sizes: Sequence[int], widths: Array, dtype: Any) -> list[Array]:
    """Per weight layer, ``(K, fan_in, fan_out)``: 1 on each network's own weights."""
    K = widths.shape[0]
    full = np.column_stack([np.full(K, sizes[0]), widths, np.full(K, sizes[-1])])
    masks = []
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        rows = np.arange(fan_in) < full[:, layer, None]
        cols = np.arange(fan_out) < full[:, layer + 1, None]
        masks.append((rows[:, :, None] & cols[:, None, :]).astype(dtype))
    return masks
