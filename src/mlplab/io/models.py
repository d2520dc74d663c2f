"""Model files: safetensors holding the weights, with the architecture as JSON metadata.

Layout: tensors ``layers.{i}.W`` and ``layers.{i}.b``, with an input scaler also
``input_scaler.mean`` and ``input_scaler.scale`` (float64, one per input), and one metadata entry,
``"mlplab"``, a JSON object with ``format_version``, ``config`` (what ``MLP``
needs to rebuild the architecture) and ``training`` (free-form settings). Files
are written to a temporary file in the same folder and renamed over the target,
so an interrupted save leaves the old file or the new one, never a broken one.
Loading checks everything it reads and raises ``ModelFileError`` otherwise. No pickle.
Files from before the scaler was a tensor keep their standardisation as JSON under
``training["standardize"]`` (``{"mean": [...], "scale": [...]}``); loading converts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError, MlplabError, ModelFileError
from mlplab.io.files import atomic_write_bytes, parse_json
from mlplab.io.tensorfile import TensorFile
from mlplab.nn.scaling import InputScaler

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = [
    "FORMAT_VERSION",
    "atomic_write_bytes",
    "check_config_size",
    "layer_tensors",
    "load",
    "net_from_tensors",
    "read_model_file",
    "save",
    "scaler_from_tensors",
]

FORMAT_VERSION = 1
SCALER_TENSORS = ("input_scaler.mean", "input_scaler.scale")
LEGACY_STANDARDIZE_KEY = "standardize"  # the scaler as training metadata, before tensors
MAX_FILE_BYTES = 1 << 31
MAX_LAYERS = 1000

def save(net: MLP, path: str | Path, *, metadata: dict[str, Any] | None = None) -> None:
    """Write ``net`` to ``path`` as safetensors (see the module docstring for the layout)."""
    from safetensors.numpy import save as to_bytes

    tensors = layer_tensors(net)
    header = {
        "format_version": FORMAT_VERSION,
        "config": net.config(),
        "training": {**net.training_metadata, **(metadata or {})},
    }
    data = to_bytes(tensors, metadata={"mlplab": json.dumps(header)})
    atomic_write_bytes(path, data, error=ModelFileError)


def layer_tensors(net: MLP) -> dict[str, np.ndarray]:
    """The network's parameters under their file names, ``layers.{i}.W`` and ``layers.{i}.b``,
    and its input scaler's ``input_scaler.mean`` and ``input_scaler.scale`` if it has one;
    a ``ModelFileError`` if any holds NaN or infinity (one rule with loading)."""
    tensors = {
        f"layers.{i}.{name}": value
        for i, param in enumerate(net.params)
        for name, value in param.items()
    }
    if net.input_scaler is not None:
        scaler = net.input_scaler
        if scaler.n_inputs != net.sizes[0]:
            raise ConfigError(
                f"the input scaler has {scaler.n_inputs} columns; the network takes "
                f"{net.sizes[0]} inputs"
            )
        tensors.update(zip(SCALER_TENSORS, (scaler.mean, scaler.scale), strict=True))
    for name, value in tensors.items():  # the rule load applies, applied before writing
        if not np.all(np.isfinite(value)):
            raise ModelFileError(
                f"tensor {name} contains NaN or infinite values; a model file may not hold "
                "them (loading refuses them too): nothing was written"
            )
    return {name: np.ascontiguousarray(value) for name, value in tensors.items()}


def scaler_from_tensors(
    net: MLP, tensors: dict[str, np.ndarray], source: str
) -> InputScaler | None:
    """The input scaler held in ``tensors`` for ``net`` (``None`` if none), every value checked."""
    found = [name for name in SCALER_TENSORS if name in tensors]
    if not found:
        return None
    if len(found) == 1:
        missing = next(name for name in SCALER_TENSORS if name not in tensors)
        raise ModelFileError(f"{source}: tensor {found[0]} without {missing}; expected both")
    n_inputs = net.sizes[0]
    for name in SCALER_TENSORS:
        value = tensors[name]
        if value.shape != (n_inputs,):
            raise ModelFileError(
                f"{source}: tensor {name} has shape {value.shape}; expected ({n_inputs},), "
                "one value per input"
            )
        if not np.all(np.isfinite(value)):
            raise ModelFileError(f"{source}: tensor {name} contains NaN or infinite values")
    if not np.all(tensors[SCALER_TENSORS[1]] > 0):
        raise ModelFileError(f"{source}: tensor input_scaler.scale holds values <= 0; expected > 0")
    return InputScaler(*(np.array(tensors[name]) for name in SCALER_TENSORS))  # own copies


def _legacy_scaler(net: MLP, saved: Any, source: str) -> InputScaler:
    """The scaler of an older file's ``training["standardize"]`` JSON, checked as tensors are."""
    try:
        arrays = {
            name: np.asarray(saved[key], dtype=np.float64)
            for name, key in zip(SCALER_TENSORS, ("mean", "scale"), strict=True)
        }
    except (TypeError, KeyError, ValueError, OverflowError):
        raise ModelFileError(
            f"{source}: invalid standardisation metadata; expected {{\"mean\": [...], "
            f"\"scale\": [...]}} with {net.sizes[0]} numbers each"
        ) from None
    return scaler_from_tensors(net, arrays, source)


def versioned_metadata(
    meta: dict[str, str], key: str, source: str, *, kind: str, version: int
) -> dict[str, Any] | None:
    """The JSON object under metadata ``key``, with a known ``format_version`` and a config.

    ``None`` when the file has no such entry (the caller says what the file is instead);
    otherwise every problem is a ``ModelFileError`` naming ``kind`` ("model", "checkpoint").
    """
    raw = meta.get(key)
    if not isinstance(raw, str):
        return None
    info = parse_json(raw, source, ModelFileError, f"{kind} metadata")
    if not isinstance(info, dict):
        raise ModelFileError(f"{source}: {kind} metadata is not a JSON object")
    found = info.get("format_version")
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise ModelFileError(f"{source}: {kind} metadata has no valid format_version")
    if found > version:
        raise ModelFileError(
            f"{source}: written in {kind} format version {found}, but this mlplab reads "
            f"{kind} format version {version} and older; upgrade mlplab"
        )
    if not isinstance(info.get("config"), dict):
        raise ModelFileError(f"{source}: {kind} metadata has no config")
    return info


def _mlplab_metadata(meta: dict[str, str], source: str) -> dict[str, Any]:
    info = versioned_metadata(meta, "mlplab", source, kind="model", version=FORMAT_VERSION)
    if info is None:
        raise ModelFileError(f"{source}: a safetensors file, but not an mlplab model")
    return info


def read_model_file(
    path: str | Path, check: Callable[[TensorFile], Any], what: str = "model file"
) -> tuple[Any, dict[str, np.ndarray]]:
    """``check(file)`` of the header of ``path``, then (if it did not raise) the tensors.

    ``check`` sees the metadata and the declared tensor shapes before any tensor data
    is read, so it can refuse a file of the wrong kind or an architecture the file
    cannot hold without reading (or allocating) anything more.
    """
    with TensorFile(path, max_bytes=MAX_FILE_BYTES, what=what) as file:
        info = check(file)
        return info, file.read()


def _check_model(file: TensorFile) -> dict[str, Any]:
    info = _mlplab_metadata(file.metadata, file.source)
    unknown = sorted(k for k in file.shapes if not k.startswith(("layers.", "input_scaler.")))
    if unknown:
        raise file.fail(f"unexpected tensors in a model file: {', '.join(unknown)}")
    values = sum(prod(s.shape) for k, s in file.shapes.items() if k.startswith("layers."))
    check_config_size(info["config"], values, file.source)
    return info


def load(path: str | Path) -> MLP:
    """Read a model written by ``save``; anything else raises ``ModelFileError``."""
    source = str(path)
    info, tensors = read_model_file(path, _check_model)
    net = net_from_tensors(info["config"], tensors, source)
    training = info.get("training") if isinstance(info.get("training"), dict) else {}
    net.input_scaler = scaler_from_tensors(net, tensors, source)
    legacy = training.pop(LEGACY_STANDARDIZE_KEY, None)
    if legacy is not None and net.input_scaler is None:
        net.input_scaler = _legacy_scaler(net, legacy, source)
    net.training_metadata = training
    return net


def net_from_tensors(config: Any, tensors: dict[str, np.ndarray], source: str) -> MLP:
    """Rebuild the ``MLP`` of ``config`` with the weights in ``tensors`` (``layers.{i}.W``, ...).

    The config is checked before anything is allocated: the weights it implies must
    fit in the tensors given, so a file cannot make mlplab allocate more than it holds.
    Tensors not named ``layers.*`` are left for the caller.
    """
    from mlplab.nn.network import MLP

    if not isinstance(config, dict):
        raise ModelFileError(f"{source}: mlplab metadata has no config")
    available = sum(v.size for k, v in tensors.items() if k.startswith("layers."))
    check_config_size(config, available, source)
    try:
        net = MLP(**config)
    except (MlplabError, TypeError, ValueError) as e:
        raise ModelFileError(f"{source}: invalid model config: {e}") from None
    layer_tensors = {k: v for k, v in tensors.items() if k.startswith("layers.")}
    expected = {
        f"layers.{i}.{name}": (value.shape, value.dtype)
        for i, param in enumerate(net.params)
        for name, value in param.items()
    }
    if set(layer_tensors) != set(expected):
        missing = sorted(set(expected) - set(layer_tensors))
        extra = sorted(set(layer_tensors) - set(expected))
        raise ModelFileError(
            f"{source}: tensors do not match the architecture {config.get('sizes')}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    for name, (shape, dtype) in expected.items():
        value = layer_tensors[name]
        if value.shape != shape or value.dtype != dtype:
            raise ModelFileError(
                f"{source}: tensor {name} has shape {value.shape} and dtype {value.dtype}; "
                f"expected {shape} and {np.dtype(dtype).name}"
            )
        if not np.all(np.isfinite(value)):
            raise ModelFileError(f"{source}: tensor {name} contains NaN or infinite values")
    for i, param in enumerate(net.params):
        for name in param:
            param[name][...] = layer_tensors[f"layers.{i}.{name}"]
    return net


def check_config_size(config: dict[str, Any], available: int, source: str) -> None:
    """Refuse a config whose weights could not be in the file, before allocating them."""
    sizes, stack = config.get("sizes"), config.get("stack")
    if not isinstance(sizes, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in sizes
    ):
        raise ModelFileError(f"{source}: invalid model config: sizes must be a list of integers")
    if len(sizes) > MAX_LAYERS + 1:
        raise ModelFileError(
            f"{source}: {len(sizes) - 1} layers; mlplab reads at most {MAX_LAYERS}"
        )
    for key in ("activation", "output_activation", "loss", "reduction", "init", "dtype"):
        if key in config and not isinstance(config[key], str):
            raise ModelFileError(
                f"{source}: invalid model config: {key} must be a name (a string), "
                f"got {type(config[key]).__name__}"
            )
    if stack is not None and (not isinstance(stack, int) or isinstance(stack, bool)):
        raise ModelFileError(f"{source}: invalid model config: stack must be an integer or null")
    if any(s < 1 for s in sizes) or (stack is not None and stack < 1):
        return  # MLP refuses these with its own message
    weights = sum(a * b for a, b in pairwise(sizes)) * (stack or 1)
    if weights > available:
        raise ModelFileError(
            f"{source}: the config's architecture {sizes} needs {weights} weights, but the "
            f"file holds {available} values"
        )
