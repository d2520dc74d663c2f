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

import contextlib
import json
import os
import struct
import tempfile
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError, MlplabError, ModelFileError
from mlplab.nn.scaling import InputScaler

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = [
    "FORMAT_VERSION",
    "atomic_write_bytes",
    "layer_tensors",
    "load",
    "net_from_tensors",
    "read_file",
    "read_header",
    "read_tensors",
    "save",
    "scaler_from_tensors",
]

FORMAT_VERSION = 1
SCALER_TENSORS = ("input_scaler.mean", "input_scaler.scale")
LEGACY_STANDARDIZE_KEY = "standardize"  # the scaler as training metadata, before tensors
MAX_HEADER_BYTES = 1 << 20  # a header larger than 1 MiB is not one of ours
MAX_FILE_BYTES = 1 << 31
MAX_LAYERS = 1000

_DTYPES = {"F32": np.float32, "F64": np.float64}


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The file gets the permissions a plain ``open(path, "w")`` would give it (0666 less
    the umask), not the private 0600 of a temporary file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


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
    atomic_write_bytes(path, data)


def layer_tensors(net: MLP) -> dict[str, np.ndarray]:
    """The network's parameters under their file names, ``layers.{i}.W`` and ``layers.{i}.b``,
    and its input scaler's ``input_scaler.mean`` and ``input_scaler.scale`` if it has one."""
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
    return InputScaler(*(tensors[name] for name in SCALER_TENSORS))


def _legacy_scaler(net: MLP, saved: Any, source: str) -> InputScaler:
    """The scaler of an older file's ``training["standardize"]`` JSON, checked as tensors are."""
    try:
        arrays = {
            name: np.asarray(saved[key], dtype=np.float64)
            for name, key in zip(SCALER_TENSORS, ("mean", "scale"), strict=True)
        }
    except (TypeError, KeyError, ValueError):
        raise ModelFileError(
            f"{source}: invalid standardisation metadata; expected {{\"mean\": [...], "
            f"\"scale\": [...]}} with {net.sizes[0]} numbers each"
        ) from None
    return scaler_from_tensors(net, arrays, source)


def read_header(data: bytes, source: str) -> dict[str, Any]:
    """Parse and sanity-check the safetensors JSON header of ``data``."""
    if len(data) < 8:
        raise ModelFileError(f"{source}: not a model file (only {len(data)} bytes)")
    (length,) = struct.unpack("<Q", data[:8])
    if length > MAX_HEADER_BYTES or 8 + length > len(data):
        raise ModelFileError(
            f"{source}: not a model file, or truncated (header claims {length} bytes, "
            f"file has {len(data)})"
        )
    try:
        header = json.loads(data[8 : 8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{source}: not a model file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{source}: not a model file (header is not a JSON object)")
    return header


def versioned_metadata(
    header: dict[str, Any], key: str, source: str, *, kind: str, version: int
) -> dict[str, Any] | None:
    """The JSON object under metadata ``key``, with a known ``format_version`` and a config.

    ``None`` when the file has no such entry (the caller says what the file is instead);
    otherwise every problem is a ``ModelFileError`` naming ``kind`` ("model", "checkpoint").
    """
    meta = header.get("__metadata__")
    raw = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        info = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{source}: {kind} metadata is not valid JSON") from None
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


def _mlplab_metadata(header: dict[str, Any], source: str) -> dict[str, Any]:
    info = versioned_metadata(header, "mlplab", source, kind="model", version=FORMAT_VERSION)
    if info is None:
        raise ModelFileError(f"{source}: a safetensors file, but not an mlplab model")
    return info


def load(path: str | Path) -> MLP:
    """Read a model written by ``save``; anything else raises ``ModelFileError``."""
    source = str(path)
    data = read_file(path)
    info = _mlplab_metadata(read_header(data, source), source)
    tensors = read_tensors(data, source)
    net = net_from_tensors(info["config"], tensors, source)
    training = info.get("training") if isinstance(info.get("training"), dict) else {}
    net.input_scaler = scaler_from_tensors(net, tensors, source)
    legacy = training.pop(LEGACY_STANDARDIZE_KEY, None)
    if legacy is not None and net.input_scaler is None:
        net.input_scaler = _legacy_scaler(net, legacy, source)
    net.training_metadata = training
    return net


def read_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` (at most ``max_bytes``), or a ``ModelFileError`` saying why not."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > max_bytes:
                raise ModelFileError(f"{source}: larger than {max_bytes} bytes, too large")
            chunks, total = [], 0
            while chunk := f.read(1 << 20):  # in chunks: never a buffer the file does not fill
                total += len(chunk)
                if total > max_bytes:
                    raise ModelFileError(f"{source}: larger than {max_bytes} bytes, too large")
                chunks.append(chunk)
    except FileNotFoundError:
        raise ModelFileError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{source}: is a directory, not a model file") from None
    except OSError as e:
        raise ModelFileError(f"{source}: cannot read: {e.strerror}") from None
    return b"".join(chunks)


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
    _check_config_size(config, available, source)
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


def _check_config_size(config: dict[str, Any], available: int, source: str) -> None:
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


def read_tensors(data: bytes, source: str) -> dict[str, np.ndarray]:
    """Every tensor of the safetensors ``data``: F32 or F64 only, checked against the file."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as from_bytes

    header = read_header(data, source)
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if dtype not in _DTYPES:
            raise ModelFileError(f"{source}: tensor {name} has dtype {dtype}; expected F32 or F64")
    try:
        return from_bytes(data)
    except (SafetensorError, ValueError, OverflowError, TypeError) as e:
        raise ModelFileError(f"{source}: corrupt tensor data: {e}") from None
