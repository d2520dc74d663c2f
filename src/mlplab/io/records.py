"""Run records: a small JSON account of a training run that a rerun can be checked against.

A record holds the run's settings (``run``: what the command line needs to rerun
it), the mlplab, NumPy and Python versions, the dtype, one checksum of the loss
history per block of ``every`` epochs (SHA-256 of the block's float64 bytes,
with the block's last loss), a SHA-256 of the final weights, and (from record version 2)
``digest``: a SHA-256 of the record's own contents, which ``load_record`` checks before
anything else, so an edited record is refused rather than trusted. Every field is then
checked on its own, each refused in one line naming it. ``compare``
tells whether a rerun is identical or in which block of epochs it first
diverged and by how much, which is what matters across machines and versions,
where floating-point drift is real.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import is_integer, shortened
from mlplab.errors import ConfigError
from mlplab.io.files import atomic_write_bytes, parse_json, read_bytes

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = [
    "RECORD_VERSION",
    "Comparison",
    "compare",
    "load_record",
    "make_record",
    "versions",
    "write_record",
]

RECORD_VERSION = 2  # 2: the record carries a digest of its own contents
DIGEST_KEY = "digest"
BLOCKS = 100  # default: about this many checksums per run
MAX_RECORD_BYTES = 1 << 24


def make_record(
    run: dict[str, Any], losses: np.ndarray, net: MLP, *, every: int | None = None
) -> dict[str, Any]:
    """The record of a run whose settings are ``run``, given its losses and final network."""
    losses = np.asarray(losses, dtype=np.float64)
    every = every or max(1, math.ceil(len(losses) / BLOCKS))
    record = {
        "mlplab_record": RECORD_VERSION,
        "run": run,
        "dtype": np.dtype(net.dtype).name,
        "versions": versions(),
        "epochs": len(losses),
        "every": every,
        "loss_checksums": loss_checksums(losses, every),
        "weights_sha256": weights_sha256(net),
    }
    return {**record, DIGEST_KEY: record_digest(record)}


def record_digest(record: dict[str, Any]) -> str:
    """SHA-256 of ``record`` less its digest, as canonical JSON (sorted keys, no spaces)."""
    body = {k: v for k, v in record.items() if k != DIGEST_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def versions() -> dict[str, str]:
    """The versions that can change floating-point results: mlplab, NumPy, Python, machine."""
    from mlplab import __version__

    return {
        "mlplab": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def loss_checksums(losses: np.ndarray, every: int) -> list[dict[str, Any]]:
    """One ``{"end", "loss", "sha256"}`` per block ``[end - every, end)`` of epochs."""
    blocks = []
    for start in range(0, len(losses), every):
        block = np.ascontiguousarray(losses[start : start + every], dtype="<f8")
        last = block[-1]
        blocks.append(
            {
                "end": start + len(block),
                "loss": last.tolist(),  # a float, or a list for a stack; exact in JSON
                "sha256": hashlib.sha256(block.tobytes()).hexdigest(),
            }
        )
    return blocks


def weights_sha256(net: MLP) -> str:
    """SHA-256 over every parameter's name, shape, dtype and bytes, layer by layer."""
    digest = hashlib.sha256()
    for i, param in enumerate(net.params):
        for name, value in param.items():
            a = np.ascontiguousarray(value)
            digest.update(f"layers.{i}.{name}:{a.shape}:{a.dtype.str}".encode())
            digest.update(a.tobytes())
    return digest.hexdigest()


@dataclass
class Comparison:
    """How a rerun compares with a record.

    ``identical`` when every loss checksum and the final weights match. Otherwise
    ``start``/``end`` bound the first block of epochs that differs, and
    ``recorded``/``replayed`` are the losses at its last epoch, ``end - 1``.
    """

    identical: bool
    epochs: int
    start: int | None = None
    end: int | None = None
    recorded: Any = None
    replayed: Any = None
    weights_identical: bool = True

    @property
    def difference(self) -> float | None:
        if self.recorded is None or self.replayed is None:
            return None
        return float(np.max(np.abs(np.subtract(self.replayed, self.recorded))))

    def describe(self) -> str:
        if self.identical:
            return f"identical: {self.epochs} epochs of losses and the final weights match"
        if self.start is None:
            return "diverged: the losses match but the final weights differ"
        if self.recorded is None:
            return f"diverged: the rerun and the record differ in length from epoch {self.start}"
        diff = self.difference
        rel = diff / max(float(np.max(np.abs(self.recorded))), 1e-300)
        return (
            f"diverged: first difference in epochs {self.start}-{self.end - 1}; at epoch "
            f"{self.end - 1} the loss is {_fmt(self.replayed)}, recorded {_fmt(self.recorded)} "
            f"(difference {diff:.3g}, relative {rel:.3g})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "difference": self.difference}


def compare(record: dict[str, Any], losses: np.ndarray, net: MLP) -> Comparison:
    """Compare a rerun's losses and final network with ``record``."""
    losses = np.asarray(losses, dtype=np.float64)
    every = record["every"]
    ours = loss_checksums(losses, every)
    same_weights = weights_sha256(net) == record["weights_sha256"]
    for k, (theirs, mine) in enumerate(zip(record["loss_checksums"], ours, strict=False)):
        if theirs["end"] != mine["end"]:  # one run is shorter: its last block is cut
            break
        if theirs["sha256"] != mine["sha256"]:
            start, end = k * every, mine["end"]
            return Comparison(
                False, len(losses), start, end, theirs["loss"], mine["loss"], same_weights
            )
    if [b["end"] for b in ours] != [b["end"] for b in record["loss_checksums"]]:
        start = min(len(losses), record["loss_checksums"][-1]["end"] if ours else 0)
        start = start // every * every
        return Comparison(False, len(losses), start, start + 1, None, None, same_weights)
    return Comparison(same_weights, len(losses), weights_identical=same_weights)


def write_record(path: str | Path, record: dict[str, Any]) -> None:
    """Write ``record`` as JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(record, indent=1) + "\n").encode())


def load_record(path: str | Path) -> dict[str, Any]:
    """Read and check a record written by ``write_record``; ``ConfigError`` otherwise.

    The digest first (version 2 on), then every field, one line naming the first bad one.
    """
    source = str(path)
    raw = read_bytes(path, MAX_RECORD_BYTES, ConfigError, "run record")
    record = parse_json(raw, source, ConfigError, "the run record")
    if not isinstance(record, dict) or "mlplab_record" not in record:
        raise ConfigError(f"{source}: not an mlplab run record (written by train --record)")
    version = record["mlplab_record"]
    if not is_integer(version) or version < 1:
        raise ConfigError(f"{source}: run record has no valid version")
    if version > RECORD_VERSION:
        raise ConfigError(
            f"{source}: run record version {version}, but this mlplab reads record version "
            f"{RECORD_VERSION} and older; upgrade mlplab"
        )
    if version >= 2:
        _check_digest(record, source)
    for problem in _field_problems(record):
        raise ConfigError(f"{source}: run record field {problem}")
    return record


def _check_digest(record: dict[str, Any], source: str) -> None:
    try:
        digest = record_digest(record)
    except ValueError:  # NaN or infinity: no record writes them
        digest = None
    if record.get(DIGEST_KEY) != digest:
        raise ConfigError(
            f"{source}: the run record was changed after it was written (its digest does not "
            "match its contents); record the run again"
        )


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in HEX for c in value)


HEX = frozenset("0123456789abcdef")


def _is_versions(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _is_loss(value: Any) -> bool:
    """A finite float (one network) or a non-empty list of them (a stack)."""
    values = value if isinstance(value, list) and value else [value]
    return all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in values
    )


def _field_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with each field, in order; empty when the record is well formed."""
    epochs, every, blocks = record.get("epochs"), record.get("every"), record.get("loss_checksums")
    run = record.get("run")
    checks = [
        (isinstance(run, dict), "run: expected the run's settings (a JSON object)"),
        (record.get("dtype", "float64") in ("float32", "float64"),
         "dtype: expected float32 or float64"),
        (is_integer(epochs) and epochs >= 0, "epochs: expected a non-negative integer"),
        (is_integer(every) and every >= 1, "every: expected a positive integer"),
        (isinstance(blocks, list), "loss_checksums: expected a list of blocks"),
        (_is_sha256(record.get("weights_sha256")),
         "weights_sha256: expected 64 hexadecimal digits"),
        (_is_versions(record.get("versions", {})),
         "versions: expected names and version strings (a JSON object)"),
    ]  # fmt: skip
    problems = [message for ok, message in checks if not ok]
    if problems:
        return problems
    problems = [f"loss_checksums[{k}]: {p}" for k, p in _block_problems(blocks, every, epochs)]
    config = run.get("config")
    if isinstance(config, dict) and is_integer(config.get("epochs")):
        stops = config.get("early_stopping") is not None  # may run fewer than it was given
        if config["epochs"] < epochs or (config["epochs"] != epochs and not stops):
            problems.append(f"epochs: {epochs}, but the run's settings say {config['epochs']}")
    return problems


def _block_problems(blocks: list[Any], every: int, epochs: int) -> list[tuple[int, str]]:
    """Each block must end ``every`` epochs after the previous one, the last at ``epochs``."""
    expected = len(range(0, epochs, every))
    if len(blocks) != expected:
        return [(len(blocks), f"{len(blocks)} blocks for {epochs} epochs of {every}; "
                              f"expected {expected}")]  # fmt: skip
    for k, block in enumerate(blocks):
        end = min((k + 1) * every, epochs)
        if not isinstance(block, dict):
            return [(k, "expected {end, loss, sha256}")]
        if block.get("end") != end or not is_integer(block.get("end")):
            return [(k, f"end: expected {end}")]
        if not _is_loss(block.get("loss")):
            got = shortened(repr(block.get("loss")))
            return [(k, f"loss: expected a finite number, got {got}")]
        if not _is_sha256(block.get("sha256")):
            return [(k, "sha256: expected 64 hexadecimal digits")]
    return []


def _fmt(loss: Any) -> str:
    if isinstance(loss, list):
        return "[" + ", ".join(f"{v:.17g}" for v in loss) + "]"
    return f"{loss:.17g}"
