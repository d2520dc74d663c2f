"""Checkpoints: everything a training run needs to continue exactly where it stopped.

A checkpoint is a safetensors file (no pickle), written atomically (a temporary
file renamed over the old one: an interrupted save leaves the old checkpoint or
the new one, never a broken one). It holds:

- tensors ``layers.{i}.W`` and ``layers.{i}.b``: the weights, and ``input_scaler.mean``
  and ``input_scaler.scale`` when the network has an input scaler, as in a model file;
- ``optimizer.{key}``: the optimizer's floating-point state arrays (``state_dict()``);
- ``history.loss``: the loss of every completed epoch (float64);
- metadata ``"mlplab_checkpoint"``, a JSON object: ``format_version``, ``config``
  (the network's), ``epoch`` (epochs completed), ``optimizer`` (``name`` and its
  integer or scalar state, such as Adam's step count), ``rng`` (the state of the
  run's ``np.random.Generator``, for mini-batch shuffling, or ``null``) and
  ``run`` (free-form JSON: the command line's settings).

``load_checkpoint`` checks all of it and raises ``ModelFileError`` for anything
wrong, as model loading does. ``CheckpointCallback`` is a training callback
that saves every ``every`` epochs; the training loop knows nothing of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import is_integer
from mlplab.errors import ConfigError, ModelFileError
from mlplab.io.files import atomic_write_bytes
from mlplab.io.models import (
    check_config_size,
    layer_tensors,
    net_from_tensors,
    read_model_file,
    scaler_from_tensors,
    versioned_metadata,
)
from mlplab.io.tensorfile import TensorFile

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = [
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "CheckpointCallback",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_VERSION = 1
METADATA_KEY = "mlplab_checkpoint"
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


@dataclass
class Checkpoint:
    """A loaded checkpoint: the network after ``epoch`` epochs and what goes with it."""

    net: MLP
    epoch: int
    losses: np.ndarray
    optimizer_name: str
    optimizer_state: dict[str, np.ndarray]
    rng: np.random.Generator | None = None
    run: dict[str, Any] = field(default_factory=dict)

    def restore_optimizer(self, optimizer: Any) -> None:
        """Put the saved state into ``optimizer``, which must be of the saved kind."""
        name = type(optimizer).__name__
        if name != self.optimizer_name:
            raise ConfigError(
                f"the checkpoint holds the state of a {self.optimizer_name} optimizer, "
                f"not of {name}"
            )
        optimizer.load_state_dict(dict(self.optimizer_state))


def save_checkpoint(
    path: str | Path,
    net: MLP,
    *,
    epoch: int,
    losses: np.ndarray,
    optimizer: Any,
    rng: np.random.Generator | None = None,
    run: dict[str, Any] | None = None,
) -> None:
    """Write a checkpoint of ``net`` after ``epoch`` epochs to ``path``, atomically."""
    from safetensors.numpy import save as to_bytes

    losses = np.ascontiguousarray(losses, dtype=np.float64)
    if len(losses) != epoch:
        raise ConfigError(
            f"a checkpoint after {epoch} epochs needs {epoch} losses, got {len(losses)}"
        )
    tensors = layer_tensors(net)
    tensors["history.loss"] = losses
    arrays, scalars = _split_state(_state_dict(optimizer))
    tensors.update({f"optimizer.{key}": value for key, value in arrays.items()})
    info = {
        "format_version": CHECKPOINT_VERSION,
        "config": net.config(),
        "epoch": int(epoch),
        "optimizer": {"name": type(optimizer).__name__, "scalars": scalars},
        "rng": None if rng is None else _jsonable(rng.bit_generator.state),
        "run": run or {},
    }
    data = to_bytes(tensors, metadata={METADATA_KEY: json.dumps(info)})
    atomic_write_bytes(path, data, error=ModelFileError)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``; anything else raises ``ModelFileError``."""
    source = str(path)
    info, tensors = read_model_file(path, _check_checkpoint, what="checkpoint")
    net = net_from_tensors(info["config"], tensors, source)
    net.input_scaler = scaler_from_tensors(net, tensors, source)
    epoch = info["epoch"]
    losses = tensors.get("history.loss")
    shape = (epoch,) if net.stack is None else (epoch, net.stack)
    if losses is None or losses.shape != shape or losses.dtype != np.float64:
        found = "none" if losses is None else f"shape {losses.shape}, {losses.dtype}"
        raise ModelFileError(
            f"{source}: history.loss should be float64 of shape {shape} after {epoch} epochs; "
            f"found {found}"
        )
    if not np.all(np.isfinite(losses)):
        raise ModelFileError(f"{source}: history.loss contains NaN or infinite values")
    state: dict[str, np.ndarray] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"{source}: tensor {key} contains NaN or infinite values")
            state[key.removeprefix("optimizer.")] = np.array(value)  # not a view of the file
    optimizer = info["optimizer"]
    for key, value in optimizer["scalars"].items():
        state[key] = np.array(value)
    rng = None if info["rng"] is None else _generator(info["rng"], source)
    return Checkpoint(net, epoch, np.array(losses), optimizer["name"], state, rng, info["run"])


class CheckpointCallback:
    """A training callback that saves a checkpoint every ``every`` epochs.

    ``start_epoch`` and ``losses`` continue a resumed run: epoch ``j`` of this
    ``fit`` is epoch ``start_epoch + j`` of the run. ``rng`` is the generator the
    run draws its shuffling from; its state is saved with the weights. Call
    ``save()`` once more after training to checkpoint the end.
    """

    def __init__(
        self,
        path: str | Path,
        net: MLP,
        optimizer: Any,
        *,
        every: int,
        start_epoch: int = 0,
        losses: Sequence[float] | np.ndarray = (),
        rng: np.random.Generator | None = None,
        run: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"checkpoint interval must be a positive integer, got {every!r}")
        _state_dict(optimizer)  # refuse an optimizer that cannot be checkpointed now
        self.path = Path(path)
        self.net, self.optimizer, self.rng, self.run = net, optimizer, rng, run
        self.every = every
        self.start_epoch = int(start_epoch)
        self._before = np.asarray(losses, dtype=np.float64)
        self._losses: list[Any] = []
        self.saved_epoch: int | None = None

    @property
    def epoch(self) -> int:
        """Epochs of the run completed so far."""
        return self.start_epoch + len(self._losses)

    @property
    def losses(self) -> np.ndarray:
        """The loss of every epoch of the run so far."""
        if not self._losses:
            return self._before.copy()
        return np.concatenate([self._before, np.asarray(self._losses, dtype=np.float64)])

    @property
    def weights_every(self) -> int:
        """Saves the network's weights every ``every`` epochs of the run."""
        return self.every

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self._losses.append(np.array(logs["loss"], dtype=np.float64))
        if self.epoch % self.every == 0:
            self.save()

    def save(self) -> None:
        """Checkpoint the run as it is now (skipped if this epoch is already saved)."""
        if self.saved_epoch == self.epoch:
            return
        save_checkpoint(
            self.path,
            self.net,
            epoch=self.epoch,
            losses=self.losses,
            optimizer=self.optimizer,
            rng=self.rng,
            run=self.run,
        )
        self.saved_epoch = self.epoch


# --- helpers ----------------------------------------------------------------------------


def _state_dict(optimizer: Any) -> dict[str, Any]:
    if not callable(getattr(optimizer, "state_dict", None)) or not callable(
        getattr(optimizer, "load_state_dict", None)
    ):
        raise ConfigError(
            f"cannot checkpoint optimizer {type(optimizer).__name__}: it needs state_dict() "
            "and load_state_dict(state)"
        )
    return optimizer.state_dict()


def _split_state(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Float arrays go to tensors; integers and 0-d values to JSON (exactly, as Python numbers)."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    for key, value in state.items():
        a = np.asarray(value)
        if a.ndim > 0 and a.dtype in (np.float32, np.float64):
            arrays[key] = np.ascontiguousarray(a)
        elif a.ndim == 0 and a.dtype.kind in "iuf":
            scalars[key] = a.item()
        else:
            raise ConfigError(
                f"cannot checkpoint optimizer state {key!r} ({a.dtype}, shape {a.shape}): "
                "expected float arrays or numbers"
            )
    return arrays, scalars


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


def _generator(state: dict[str, Any], source: str) -> np.random.Generator:
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS:
        raise ModelFileError(
            f"{source}: unknown random generator {name!r}; "
            f"expected one of {', '.join(BIT_GENERATORS)}"
        )
    bit_generator = getattr(np.random, name)()
    try:
        inner = dict(state)
        if name == "MT19937" and isinstance(inner.get("state"), dict):
            inner["state"] = dict(
                inner["state"], key=np.asarray(inner["state"].get("key"), np.uint32)
            )
        bit_generator.state = inner
    except (TypeError, ValueError, KeyError, OverflowError):
        raise ModelFileError(f"{source}: the random generator state is not valid") from None
    return np.random.Generator(bit_generator)


def _check_checkpoint(file: TensorFile) -> dict[str, Any]:
    """The checkpoint's metadata, checked with its tensors' names and sizes before reading."""
    info = _metadata(file.metadata, file.source)
    unknown = sorted(
        k
        for k in file.shapes
        if not k.startswith(("layers.", "optimizer.", "input_scaler.")) and k != "history.loss"
    )
    if unknown:
        raise file.fail(f"unexpected tensors in a checkpoint: {', '.join(unknown)}")
    values = sum(prod(s.shape) for k, s in file.shapes.items() if k.startswith("layers."))
    check_config_size(info["config"], values, file.source)
    return info


def _metadata(meta: dict[str, str], source: str) -> dict[str, Any]:
    """The checkpoint's JSON metadata, every field checked."""
    info = versioned_metadata(
        meta, METADATA_KEY, source, kind="checkpoint", version=CHECKPOINT_VERSION
    )
    if info is None:
        if "mlplab" in meta:
            raise ModelFileError(f"{source}: a model file, not a checkpoint (see --checkpoint)")
        raise ModelFileError(f"{source}: not an mlplab checkpoint")
    if not is_integer(info.get("epoch")) or info["epoch"] < 0:
        raise ModelFileError(f"{source}: checkpoint epoch must be a non-negative integer")
    optimizer = info.get("optimizer")
    if (
        not isinstance(optimizer, dict)
        or not isinstance(optimizer.get("name"), str)
        or not isinstance(optimizer.get("scalars"), dict)
        or not all(_is_number(v) for v in optimizer["scalars"].values())
    ):
        raise ModelFileError(
            f"{source}: checkpoint optimizer must be {{name, scalars}} with numeric scalars"
        )
    if info.get("rng") is not None and not isinstance(info["rng"], dict):
        raise ModelFileError(f"{source}: checkpoint rng must be a generator state or null")
    if not isinstance(info.get("run", {}), dict):
        raise ModelFileError(f"{source}: checkpoint run settings must be a JSON object")
    info.setdefault("run", {})
    info.setdefault("rng", None)
    return info


def _is_number(value: Any) -> bool:
    """A finite float, or an integer that fits in int64."""
    if is_integer(value):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)
