"""PyTorch: ``nn.Sequential`` of ``nn.Linear`` and activation modules, both ways.

Layer ``i`` of the network is ``Sequential`` entry ``2i`` (``nn.Linear``) and
entry ``2i + 1`` (its activation; ``nn.Identity`` for ``identity``), so the
state dict holds ``{2i}.weight`` (``W.T``: torch stores ``(out, in)``) and,
with bias, ``{2i}.bias``, in the network's dtype or the one asked for
(``dtype="float32"`` or ``"float64"``). An input scaler is folded into layer 0 (see
``mlplab.export``). Torch is imported only inside ``to_torch`` and ``from_torch``;
writing the safetensors file needs no torch.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.export._common import EXPORTABLE, check_exportable, export_dtype, layer_activations
from mlplab.nn.activations import LEAKY_SLOPE
from mlplab.nn.scaling import folded_params

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

_TORCH_DTYPES = {"float32": "float", "float64": "double"}


def state_dict(net: MLP, dtype: str | None = None) -> dict[str, np.ndarray]:
    """The network's weights under ``nn.Sequential`` names, in torch's ``(out, in)`` layout."""
    check_exportable(net, "torch")
    dt = export_dtype(net, dtype)
    tensors: dict[str, np.ndarray] = {}
    for i, param in enumerate(folded_params(net)):
        tensors[f"{2 * i}.weight"] = np.ascontiguousarray(param["W"].T, dt)
        if "b" in param:
            tensors[f"{2 * i}.bias"] = np.ascontiguousarray(param["b"], dt)
    return tensors


def write_torch(net: MLP, path: str | Path, *, dtype: str | None = None) -> None:
    """Write ``state_dict(net, dtype)`` as safetensors to ``path`` atomically (no torch needed)."""
    from safetensors.numpy import save as to_bytes

    from mlplab.io.models import atomic_write_bytes

    tensors = state_dict(net, dtype)
    described = {
        "config": net.config(),  # the mlplab network the file was made from
        "dtype": export_dtype(net, dtype).name,  # of the tensors in this file
        "input_scaler_folded": net.input_scaler is not None,  # into layer 0's weights and bias
        "linear_layers": [  # what the file holds, layer by layer
            {"in": n_in, "out": n_out, "activation": act, "bias": bias}
            for n_in, n_out, act, bias in _layers(net)
        ],
    }
    metadata = {"format": "pt", "mlplab": json.dumps(described)}
    atomic_write_bytes(path, to_bytes(tensors, metadata=metadata))


def _layers(net: MLP) -> list[tuple[int, int, str, bool]]:
    """``(fan_in, fan_out, activation, bias)`` per layer (a folded scaler gives layer 0 a bias)."""
    shapes = zip(net.sizes[:-1], net.sizes[1:], strict=True)
    first_bias = net.bias or net.input_scaler is not None
    return [
        (i, o, act, net.bias or (k == 0 and first_bias))
        for k, ((i, o), act) in enumerate(zip(shapes, layer_activations(net), strict=True))
    ]


def torch_snippet(net: MLP, path: str | Path, *, dtype: str | None = None) -> str:
    """Python code that builds the matching ``nn.Sequential`` and loads the file at ``path``.

    ``dtype``: the one the file was written in (``write_torch``), by default the network's.
    """
    check_exportable(net, "torch")
    body = "\n".join(
        f"    nn.Linear({n_in}, {n_out}{'' if bias else ', bias=False'}),\n"
        f"    {EXPORTABLE[act].torch[0]},"
        for n_in, n_out, act, bias in _layers(net)
    )
    cast = _TORCH_DTYPES[export_dtype(net, dtype).name]
    return (
        "import torch\n"
        "from safetensors.torch import load_file\n"
        "from torch import nn\n"
        "\n"
        f"model = nn.Sequential(\n{body}\n).{cast}()\n"
        f"model.load_state_dict(load_file({str(path)!r}))\n"
        "model.eval()\n"
    )


def to_torch(net: MLP, *, dtype: str | None = None) -> Any:
    """The network as a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules.

    ``dtype`` (``"float32"`` or ``"float64"``): its parameters', by default the network's.
    """
    check_exportable(net, "torch")
    dt = export_dtype(net, dtype)
    torch = _import_torch()
    from torch import nn

    modules = []
    for n_in, n_out, act, bias in _layers(net):
        modules += [nn.Linear(n_in, n_out, bias=bias), EXPORTABLE[act].torch[1](nn)]
    model = nn.Sequential(*modules).to(getattr(torch, dt.name))
    tensors = {k: torch.from_numpy(v.copy()) for k, v in state_dict(net, dt.name).items()}
    model.load_state_dict(tensors)
    return model.eval()


# --- back from torch ------------------------------------------------------------------


def from_torch(sequential: Any, *, loss: str | None = None, reduction: str = "sum") -> MLP:
    """An ``MLP`` with the weights of a ``Sequential`` of ``Linear`` and supported activations.

    Each ``Linear`` may be followed by one activation (none means ``identity``);
    the hidden layers must share one activation and every ``Linear`` must agree on
    bias. ``loss`` defaults to cross-entropy for a softmax output, else squared error.
    Anything else is refused with a ``ConfigError`` naming the module at fault.
    """
    torch = _import_torch()
    from torch import nn

    from mlplab.nn.network import MLP

    if not isinstance(sequential, nn.Sequential):
        raise ConfigError(
            f"from_torch takes a torch.nn.Sequential, got {type(sequential).__name__}"
        )
    layers = _parse_sequential(list(sequential), nn)
    linears = [linear for linear, _ in layers]
    acts = [act for _, act in layers]
    sizes, bias, dtype = _check_linears(linears, acts, torch)
    output = acts[-1]
    net = MLP(
        sizes,
        activation=acts[0] if len(acts) > 1 else "sigmoid",
        output_activation=output,
        loss=loss or ("cross_entropy" if output == "softmax" else "squared_error"),
        reduction=reduction,
        bias=bias,
        seed=0,
        dtype=dtype,
    )
    with torch.no_grad():
        for param, linear in zip(net.params, linears, strict=True):
            param["W"][...] = linear.weight.detach().cpu().numpy().T
            if "b" in param:
                param["b"][...] = linear.bias.detach().cpu().numpy()
    for param in net.params:
        if not all(np.all(np.isfinite(v)) for v in param.values()):
            raise ConfigError("the Linear weights contain NaN or infinite values")
    return net


def _check_linears(linears: list[Any], acts: list[str], torch: Any) -> tuple[list[int], bool, str]:
    """``(sizes, bias, dtype)`` of the ``Linear`` layers, or a ``ConfigError`` naming what
    an MLP cannot hold: mixed hidden activations, biases or dtypes, or shapes that do not chain."""
    hidden = set(acts[:-1])
    if len(hidden) > 1:
        raise ConfigError(
            f"hidden layers use different activations ({', '.join(sorted(hidden))}); "
            "an MLP has one hidden activation"
        )
    biases = {linear.bias is not None for linear in linears}
    if len(biases) > 1:
        raise ConfigError("some Linear layers have a bias and some do not; use one or the other")
    dtypes = {linear.weight.dtype for linear in linears}
    if dtypes not in ({torch.float32}, {torch.float64}):
        raise ConfigError(
            f"Linear weights must all be float32 or all float64, got {sorted(map(str, dtypes))}"
        )
    for i, linear in enumerate(linears):
        if tuple(linear.weight.shape) != (linear.out_features, linear.in_features):
            raise ConfigError(f"Linear layer {i + 1} has a weight of shape {linear.weight.shape}")
    sizes = [linears[0].in_features] + [linear.out_features for linear in linears]
    for i, (a, b) in enumerate(pairwise(linears)):
        if a.out_features != b.in_features:
            raise ConfigError(
                f"Linear layer {i + 1} gives {a.out_features} features but layer {i + 2} "
                f"takes {b.in_features}"
            )
    return sizes, biases == {True}, "float64" if dtypes == {torch.float64} else "float32"


def _parse_sequential(modules: list[Any], nn: Any) -> list[tuple[Any, str]]:
    """``[(linear, activation name), ...]`` or a ``ConfigError`` naming the bad entry."""
    expected = "nn.Linear or one of " + ", ".join(
        forms.torch[0].split("(")[0] for forms in EXPORTABLE.values()
    )
    layers: list[tuple[Any, str]] = []
    after_linear = False
    for index, module in enumerate(modules):
        if isinstance(module, nn.Linear):
            layers.append((module, "identity"))
            after_linear = True
            continue
        name = _activation_name(module, nn)
        if name is None:
            raise ConfigError(
                f"cannot import Sequential entry {index} ({module!r}); expected {expected}"
            )
        if not after_linear:
            raise ConfigError(
                f"Sequential entry {index} ({module!r}) does not follow a Linear; "
                "expected at most one activation after each Linear"
            )
        layers[-1] = (layers[-1][0], name)
        after_linear = False
    if not layers:
        raise ConfigError("the Sequential holds no Linear layer")
    return layers


def _activation_name(module: Any, nn: Any) -> str | None:
    """The mlplab activation a torch module computes (``None``: not one of ``EXPORTABLE``)."""
    names = {type(forms.torch[1](nn)): name for name, forms in EXPORTABLE.items()}
    name = names.get(type(module))
    if name == "leaky_relu" and module.negative_slope != LEAKY_SLOPE:
        raise ConfigError(
            f"LeakyReLU with slope {module.negative_slope}; mlplab's leaky_relu has slope "
            f"{LEAKY_SLOPE}"
        )
    if name == "softplus" and (module.beta != 1 or module.threshold < 20):
        raise ConfigError(
            f"Softplus(beta={module.beta}, threshold={module.threshold}); mlplab's "
            "softplus is log(1 + e^z): beta 1 and threshold 20 or more"
        )
    if name == "softmax" and module.dim not in (-1, 1):
        raise ConfigError(f"Softmax over dim {module.dim}; expected dim=-1 (the features)")
    return name


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ConfigError("PyTorch is not installed; pip install torch") from None
    return torch
