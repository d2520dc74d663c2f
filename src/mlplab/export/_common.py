"""The one table of exportable activations, what every export format checks first, and
the NumPy file format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.activations import LEAKY_SLOPE

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

EXPORT_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class ExportForms:
    """One activation as each format writes it.

    ``torch``: the ``torch.nn`` module's source text and its constructor (given ``nn``).
    ``onnx``: the operator and its attributes (``None``: composed of several nodes in
    ``_onnx``). ``numpy``: the forward expression of ``{z}``, the derivative as a factor
    of the output ``{h}`` (``None``: a factor of 1, or none needed), and the helper
    function the expression calls, if any.
    """

    torch: tuple[str, Callable[[Any], Any]]
    onnx: tuple[str, dict[str, Any]] | None
    numpy: str
    numpy_derivative: str | None = None
    numpy_helper: str | None = None


_SOFTMAX_HELPER = (
    "def softmax(z):\n"
    "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
    "    return e / e.sum(axis=1, keepdims=True)\n"
)

# every built-in activation; a user-registered one has no counterpart and is refused
EXPORTABLE: dict[str, ExportForms] = {
    "sigmoid": ExportForms(
        ("nn.Sigmoid()", lambda nn: nn.Sigmoid()), ("Sigmoid", {}),
        "1/(1+np.exp(-({z})))", "({h}*(1-{h}))",
    ),
    "tanh": ExportForms(
        ("nn.Tanh()", lambda nn: nn.Tanh()), ("Tanh", {}), "np.tanh({z})", "(1-{h}*{h})"
    ),
    "relu": ExportForms(
        ("nn.ReLU()", lambda nn: nn.ReLU()), ("Relu", {}), "np.maximum({z}, 0)", "({h} > 0)"
    ),
    "leaky_relu": ExportForms(
        (f"nn.LeakyReLU({LEAKY_SLOPE!r})", lambda nn: nn.LeakyReLU(LEAKY_SLOPE)),
        ("LeakyRelu", {"alpha": LEAKY_SLOPE}),
        "leaky_relu({z})",
        f"np.where({{h}} > 0, 1, {LEAKY_SLOPE!r}).astype({{h}}.dtype)",
        f"def leaky_relu(z):\n    return np.where(z > 0, z, {LEAKY_SLOPE!r} * z)\n",
    ),
    "softplus": ExportForms(
        ("nn.Softplus()", lambda nn: nn.Softplus()), None,  # onnx: relu(z) + log(1 + e^-|z|)
        "np.logaddexp(0, {z})", "(-np.expm1(-{h}))",
    ),
    "identity": ExportForms(("nn.Identity()", lambda nn: nn.Identity()), ("Identity", {}), "{z}"),
    "softmax": ExportForms(
        ("nn.Softmax(dim=-1)", lambda nn: nn.Softmax(dim=-1)), ("Softmax", {"axis": -1}),
        "softmax({z})", None, _SOFTMAX_HELPER,
    ),
}  # fmt: skip
SUPPORTED_ACTIVATIONS = tuple(EXPORTABLE)
_BUILT_IN = ("exp",)  # built in, without an export form (the Poisson loss's output)


def check_exportable(net: MLP, target: str) -> None:
    """Refuse stacks and activations ``target`` has no counterpart for, naming the supported."""
    if net.stack is not None:
        raise ConfigError(
            f"cannot export a stack of {net.stack} networks to {target}; export one at a time"
        )
    for act in (net.activation, net.output_activation):
        if act.name not in SUPPORTED_ACTIVATIONS:
            why = "user-registered activations are refused" if act.name not in _BUILT_IN else (
                f"{target} export has no counterpart for it"
            )
            raise ConfigError(
                f"cannot export activation {act.name!r} to {target} ({why}); "
                f"supported: {', '.join(SUPPORTED_ACTIVATIONS)}"
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
