"""Gradient checking: every parameter's backprop gradient against central finite differences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["GradcheckReport", "gradcheck"]


@dataclass(frozen=True)
class GradcheckReport:
    """Worst relative error per layer and parameter, e.g. ``errors[0]["W"]``."""

    errors: list[dict[str, float]]
    tolerance: float

    @property
    def worst(self) -> float:
        return max((e for layer in self.errors for e in layer.values()), default=0.0)

    @property
    def ok(self) -> bool:
        return self.worst <= self.tolerance

    def __str__(self) -> str:
        lines = [
            f"layer {i}: " + ", ".join(f"{k} {v:.2e}" for k, v in layer.items())
            for i, layer in enumerate(self.errors)
        ]
        verdict = "ok" if self.ok else "FAILED"
        lines.append(
            f"worst relative error {self.worst:.2e} ({verdict}, tolerance {self.tolerance:g})"
        )
        return "\n".join(lines)


def gradcheck(
    net: MLP, X: Any, T: Any, *, eps: float = 1e-6, tolerance: float = 1e-6
) -> GradcheckReport:
    """Compare ``net.gradients(X, T)`` with central finite differences of the loss.

    The relative error of a parameter array is ``||g - n|| / (||g|| + ||n||)``
    (Euclidean norms; 0 when both vanish), which stays meaningful for elements whose
    gradient is nearly zero. ``net`` is left as it was. Use float64 for a meaningful check.
    """
    _, grads = net.gradients(X, T)
    X, T = net.check_data(X, T, scaled=False)  # net.gradients scales them
    errors: list[dict[str, float]] = []
    for param, grad in zip(net.params, grads, strict=True):
        layer_errors = {}
        for name, value in param.items():
            numeric = np.zeros_like(value, dtype=np.float64)
            for index in np.ndindex(value.shape):
                saved = value[index]
                value[index] = saved + eps
                plus = float(np.sum(net.gradients(X, T)[0]))
                value[index] = saved - eps
                minus = float(np.sum(net.gradients(X, T)[0]))
                value[index] = saved
                numeric[index] = (plus - minus) / (2 * eps)
            scale = np.linalg.norm(grad[name]) + np.linalg.norm(numeric)
            error = np.linalg.norm(grad[name] - numeric) / scale if scale > 0 else 0.0
            layer_errors[name] = float(error)
        errors.append(layer_errors)
    return GradcheckReport(errors, tolerance)
