"""What every export format checks first, and the NumPy file format."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlplab.errors import ConfigError

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

SUPPORTED_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity", "softmax")
EXPORT_DTYPES = ("float32", "float64")


def check_exportable(net: MLP, target: str) -> None:
    """Refuse stacks and activations ``target`` has no counterpart for, naming the supported."""
    if net.stack is not None:
        raise ConfigError(
            f"cannot export a stack of {net.stack} networks to {target}; export one at a time"
        )
    for act in (net.activation, net.output_activation):
        if act.name not in SUPPORTED_ACTIVATIONS:
            raise ConfigError(
                f"cannot export activation {act.name!r} to {target} (user-registered "
                f"activations are refused); supported: {', '.join(SUPPORTED_ACTIVATIONS)}"
            )


def export_dtype(net: MLP, dtype: str | None) -> np.dtype:
    """The dtype to export in: ``dtype`` (``"float32"`` or ``"float64"``), else the network's."""
    if dtype is None:
        return np.dtype(net.dtype)
    if str(dtype) not in EXPORT_DTYPES:
        raise ConfigError(f"export dtype must be one of {', '.join(EXPORT_DTYPES)}, got {dtype!r}")
    return np.dtype(str(dtype))


def layer_activations(net: MLP) -> list[str]:
    """The activation name of each layer, the output layer's last."""
    return [net.activation.name] * (len(net.params) - 1) + [net.output_activation.name]


def write_numpy(net: MLP, path: str | Path) -> None:
    """Write ``numpy_source(net)`` (see ``mlplab.export._numpy``) to ``path`` atomically."""
    from mlplab.export._numpy import numpy_source
    from mlplab.io.models import atomic_write_bytes

    check_exportable(net, "numpy")
    atomic_write_bytes(path, numpy_source(net).encode())
