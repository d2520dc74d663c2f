"""What the page is sent: a tab's set-up (``state``) and its network now (``frame``).

The page never does arithmetic: heatmaps are the network's outputs over a grid of the
plane, each scaled to bytes and sent as base64 text. ``Viewer`` makes them with a float32
copy of the tab's network, which sees only the grid, so its work arrays are never
reallocated (and float32 is twice as fast and far finer than the 8 bits a heatmap is sent in).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from mlplab.nn.network import MLP
from mlplab.playground.features import FEATURES, feature_matrix

Array = np.ndarray

__all__ = ["GRID", "NEURON_STRIDE", "Viewer", "architecture", "decode_grid", "encode_grid"]

GRID = 48  # the decision boundary's resolution
NEURON_STRIDE = 3  # each unit's heatmap: every 3rd point, 16 x 16, at the same centres
Z = 12.0  # output units' inputs are sent clipped to [-Z, Z] (sigmoid 6e-6 to 1 - 6e-6)


def encode_grid(values: Array, lo: float, hi: float) -> str:
    """Values scaled from ``[lo, hi]`` to bytes 0..255 (clipped), base64 text."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.clip(np.nan_to_num((values - lo) * (255.0 / (hi - lo))), 0, 255)
    return base64.b64encode(np.rint(scaled).astype(np.uint8).tobytes()).decode("ascii")


def decode_grid(text: str, lo: float, hi: float) -> Array:
    """The inverse of ``encode_grid``, to 1/255 of the range."""
    raw = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return lo + raw.astype(np.float64) * ((hi - lo) / 255.0)


def architecture(net: MLP) -> dict[str, Any]:
    """Keyword arguments that build a network of ``net``'s shape."""
    return {k: v for k, v in net.config().items() if k != "stack"}


class Viewer:
    """Draws one network's heatmaps over the square ``domain`` of the plane."""

    def __init__(self, net: MLP, features: list[str], domain: tuple[float, float]) -> None:
        self.copy = MLP(**{**architecture(net), "dtype": np.float32})
        lo, hi = domain
        centres = lo + (np.arange(GRID) + 0.5) * (hi - lo) / GRID
        x1, x2 = np.meshgrid(centres, centres[::-1])  # rows from the top: x2 falls
        grid = feature_matrix(np.column_stack([x1.ravel(), x2.ravel()]), features)
        self.grid = grid.astype(np.float32)

    def heatmaps(self, net: MLP, output_range: tuple[float, float], regression: bool) -> dict:
        """The frame's pictures of ``net`` now: its output, the output's logit, every unit."""
        with np.errstate(over="ignore", invalid="ignore"):  # a heatmap shows inf/NaN as a limit
            for mine, theirs in zip(self.copy.params, net.params, strict=True):
                for name, value in theirs.items():
                    mine[name][...] = value
            y = self.copy.predict(self.grid)
            outputs = self.copy.outputs  # each layer's output over the grid, now
            last = self.copy.params[-1]
            below = outputs[-2] if len(outputs) > 1 else self.grid
            z = below @ last["W"] + last["b"]  # the output units' input, before their sigmoid
        k = NEURON_STRIDE
        units = np.concatenate(
            [h.reshape(GRID, GRID, -1)[k // 2 :: k, k // 2 :: k, :] for h in outputs], axis=2
        )
        lo, hi = output_range
        return {
            "grid": GRID,
            "output": encode_grid(y.T, lo, hi),
            "output_range": [lo, hi],
            "output_z": None if regression else encode_grid(z.T, -Z, Z),
            "z_range": [-Z, Z],
            "unit_grid": GRID // k,
            "units": encode_grid(np.moveaxis(units, 2, 0), -1.0, 1.0),
        }

    def inputs(self) -> dict[str, Any]:
        """Each input feature's heatmap, scaled to ``[-1, 1]``."""
        k = NEURON_STRIDE
        inputs = self.grid.reshape(GRID, GRID, -1)[k // 2 :: k, k // 2 :: k, :]
        scale = np.abs(inputs).max(axis=(0, 1)).clip(min=1e-12)
        return {
            "inputs": encode_grid(np.moveaxis(inputs / scale, 2, 0), -1.0, 1.0),
            "unit_grid": GRID // k,
        }


def weights(net: MLP) -> list[dict[str, Any]]:
    """The network's weights and biases as lists, to 5 decimals."""
    return [{name: np.round(v, 5).tolist() for name, v in p.items()} for p in net.params]


def feature_labels(features: tuple[str, ...]) -> list[str]:
    """The page's names of the input features."""
    return [FEATURES[f].label for f in features]
